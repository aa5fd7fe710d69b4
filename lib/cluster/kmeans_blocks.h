/* Passes over the points in fixed blocks, run on a few threads: a pass fills one result
 * slot per block, and the caller combines the slots in block order, so a result never
 * depends on the number of threads. */
#ifndef PERSONA_CLUSTER_KMEANS_BLOCKS_H
#define PERSONA_CLUSTER_KMEANS_BLOCKS_H

#include <stddef.h>

#include "core/parallel.h"
#include "cluster/kmeans_internal.h"

typedef struct km_blocks {
    size_t n, size, count; /* points, points per block, blocks */
} km_blocks;

/* Blocks for n points when each block keeps `per_block` doubles of partial results: at
 * most about 8 M doubles in all (larger blocks when the partials are big). */
static inline km_blocks persona__km_blocks(size_t n, size_t per_block)
{
    size_t count = (n + KM_BLOCK - 1) / KM_BLOCK;
    size_t most = per_block ? ((size_t)1 << 23) / per_block : count;
    if (most < 1)
        most = 1;
    if (count > most)
        count = most;
    if (count < 1)
        count = 1;
    km_blocks b = { n, (n + count - 1) / count, count };
    return b;
}

typedef struct km_pass {
    void (*block)(void *ctx, size_t b, size_t i0, size_t i1);
    void *ctx;
    km_blocks bl;
    int threads;
} km_pass;

static inline void persona__km_pass_part(void *arg, int t)
{
    km_pass *p = arg;
    for (size_t b = (size_t)t; b < p->bl.count; b += (size_t)p->threads) {
        size_t i0 = b * p->bl.size, i1 = i0 + p->bl.size;
        if (i1 > p->bl.n)
            i1 = p->bl.n;
        if (i0 < i1)
            p->block(p->ctx, b, i0, i1);
    }
}

/* Run block(ctx, b, i0, i1) for every block b (points i0 … i1-1) on `threads` threads. */
static inline void persona__km_pass(km_blocks bl, int threads,
                                    void (*block)(void *ctx, size_t b, size_t i0, size_t i1),
                                    void *ctx)
{
    km_pass p = { block, ctx, bl, threads < 1 ? 1 : threads };
    if ((size_t)p.threads > bl.count)
        p.threads = (int)bl.count;
    if (p.threads == 1)
        persona__km_pass_part(&p, 0);
    else
        persona__parallel_run(p.threads, persona__km_pass_part, &p);
}

#endif
