/* Hierarchical clustering, shared by the files of lib/cluster/hclust*: the model, the raw
 * merges the algorithms find (hclust_chain.c: nearest-neighbour chain; hclust_mst.c:
 * single linkage) and how they become SciPy's linkage matrix (hclust.c). */
#ifndef PERSONA_CLUSTER_HCLUST_INTERNAL_H
#define PERSONA_CLUSTER_HCLUST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/hclust.h"

struct persona_hclust {
    int32_t method;
    size_t n, d;
    double *points; /* n × d, a copy */
    double *z;      /* (n - 1) × 4: the linkage matrix */
};

/* One merge as an algorithm finds it: a point of each cluster, and the height. The
 * algorithms keep a cluster in the slot of one of its points, so slots name clusters. */
typedef struct hc_merge {
    uint32_t a, b;
    double height;
} hc_merge;

/* The n - 1 merges of Ward, average or complete linkage (by the nearest-neighbour chain)
 * into merges, in the order found. 0 or ENOMEM. */
int persona__hc_chain(const double *x, size_t n, size_t d, int32_t method, int threads,
                      hc_merge *merges);

/* The n - 1 merges of single linkage (Prim's minimum spanning tree). 0 or ENOMEM. */
int persona__hc_single(const double *x, size_t n, size_t d, hc_merge *merges);

/* Flat clusters after the first `merges` rows of the model's matrix: labels (n) numbered
 * in the order of each cluster's first point, their count in *k_out (may be NULL).
 * 0 or ENOMEM. */
int persona__hc_flat(uint32_t *labels, const persona_hclust *m, size_t merges, uint32_t *k_out);

#endif
