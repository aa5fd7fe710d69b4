/* The journey aggregator: paths are interned as the bytes of their channel ids, so equal
 * journeys land on one entry whose counts are summed; finish() renumbers the channels and
 * sorts the paths into the canonical order every constructor ends in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"

void persona__attr_agg_init(attr_agg *g)
{
    memset(g, 0, sizeof *g);
    persona__intern_init(&g->paths, persona__hash_key_from_seed(0));
}

void persona__attr_agg_free(attr_agg *g)
{
    persona__intern_free(&g->paths);
    persona__free(g->conv);
    persona__free(g->nulls);
    persona__free(g->value);
    persona__free(g->dstart);
    persona__free(g->dconv);
    persona__free(g->dvalue);
    memset(g, 0, sizeof *g);
}

/* Room for one more path and len more decay entries. */
static int agg_reserve(attr_agg *g, size_t len)
{
    const attr_array per_path[] = { { (void **)&g->conv, sizeof *g->conv },
                                    { (void **)&g->nulls, sizeof *g->nulls },
                                    { (void **)&g->value, sizeof *g->value },
                                    { (void **)&g->dstart, sizeof *g->dstart } };
    const attr_array per_touch[] = { { (void **)&g->dconv, sizeof *g->dconv },
                                     { (void **)&g->dvalue, sizeof *g->dvalue } };
    return persona__attr_grow(per_path, 4, &g->cap, g->paths.count + 1, 64) ||
           persona__attr_grow(per_touch, 2, &g->cap_decay, g->n_decay + len, 256);
}

int persona__attr_agg_add(attr_agg *g, const uint32_t *path, size_t len, uint64_t conv,
                          double value, uint64_t nulls, const double *dconv,
                          const double *dvalue)
{
    const char *key = (const char *)path;
    size_t klen = len * sizeof *path;
    uint64_t h = persona__hash(&g->paths.key, key, klen);
    uint32_t id = persona__intern_find_h(&g->paths, key, klen, h);
    if (id == PERSONA__NO_ID) {
        if (agg_reserve(g, len))
            return persona__fail_nomem();
        id = persona__intern_add_h(&g->paths, key, klen, h);
        if (id == PERSONA__NO_ID)
            return persona__fail_nomem();
        g->conv[id] = 0;
        g->nulls[id] = 0;
        g->value[id] = 0;
        g->dstart[id] = g->n_decay;
        memset(g->dconv + g->n_decay, 0, len * sizeof *g->dconv);
        memset(g->dvalue + g->n_decay, 0, len * sizeof *g->dvalue);
        g->n_decay += len;
    }
    g->conv[id] += conv;
    g->nulls[id] += nulls;
    g->value[id] += value;
    if (dconv)
        for (size_t i = 0; i < len; i++) {
            g->dconv[g->dstart[id] + i] += dconv[i];
            g->dvalue[g->dstart[id] + i] += dvalue[i];
        }
    return PERSONA_OK;
}

typedef struct path_ref {
    const uint32_t *p; /* renumbered channels */
    size_t len;
    uint32_t id;
} path_ref;

static int cmp_path(const void *x, const void *y)
{
    const path_ref *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++)
        if (a->p[i] != b->p[i])
            return a->p[i] < b->p[i] ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

int persona__attr_agg_finish(attr_agg *g, persona_attribution *a, const uint32_t *map)
{
    size_t n = g->paths.count, touches = g->n_decay;
    uint32_t *ren = persona__realloc_array(NULL, touches ? touches : 1, sizeof *ren);
    path_ref *refs = persona__realloc_array(NULL, n ? n : 1, sizeof *refs);
    int rc = ren && refs ? persona__attr_alloc_paths(a, n, touches) : persona__fail_nomem();
    if (rc) {
        persona__free(ren);
        persona__free(refs);
        return rc;
    }
    for (size_t p = 0; p < n; p++) {
        size_t len = persona__intern_len(&g->paths, (uint32_t)p) / sizeof(uint32_t);
        const char *key = persona__intern_str(&g->paths, (uint32_t)p);
        uint32_t *dst = ren + g->dstart[p];
        memcpy(dst, key, len * sizeof *dst); /* the arena does not align keys */
        if (map)
            for (size_t i = 0; i < len; i++)
                dst[i] = map[dst[i]];
        refs[p] = (path_ref){ dst, len, (uint32_t)p };
    }
    if (n)
        qsort(refs, n, sizeof *refs, cmp_path);
    uint64_t e = 0;
    a->start[0] = 0;
    for (size_t q = 0; q < n; q++) {
        uint32_t p = refs[q].id;
        memcpy(a->touch + e, refs[q].p, refs[q].len * sizeof *a->touch);
        memcpy(a->decay_conv + e, g->dconv + g->dstart[p], refs[q].len * sizeof(double));
        memcpy(a->decay_value + e, g->dvalue + g->dstart[p], refs[q].len * sizeof(double));
        a->conv[q] = g->conv[p];
        a->nulls[q] = g->nulls[p];
        a->value[q] = g->value[p];
        e += refs[q].len;
        a->start[q + 1] = e;
    }
    a->n_paths = n;
    persona__free(ren);
    persona__free(refs);
    return PERSONA_OK;
}

typedef struct name_ref {
    const char *s;
    size_t i;
} name_ref;

static int cmp_name(const void *x, const void *y)
{
    return strcmp(((const name_ref *)x)->s, ((const name_ref *)y)->s);
}

int persona__attr_channels_sorted(persona_attribution *a, const char *const *names, size_t n,
                                  uint32_t *map)
{
    name_ref *r = persona__realloc_array(NULL, n ? n : 1, sizeof *r);
    if (!r)
        return persona__fail_nomem();
    for (size_t i = 0; i < n; i++)
        r[i] = (name_ref){ names[i], i };
    if (n)
        qsort(r, n, sizeof *r, cmp_name);
    int rc = PERSONA_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        uint32_t id = persona__intern_add(&a->channels, r[i].s, strlen(r[i].s));
        if (id == PERSONA__NO_ID)
            rc = persona__fail_nomem();
        else
            map[r[i].i] = id;
    }
    persona__free(r);
    return rc;
}

void persona__attr_decay(double *dconv, double *dvalue, const int64_t *ages, size_t len,
                         uint64_t conv, double value, int64_t half_life_ms)
{
    int64_t min = INT64_MAX;
    for (size_t i = 0; i < len; i++)
        min = ages[i] < min ? ages[i] : min;
    double sum = 0;
    for (size_t i = 0; i < len; i++) {
        dconv[i] = exp2(-(double)(ages[i] - min) / (double)half_life_ms);
        sum += dconv[i];
    }
    for (size_t i = 0; i < len; i++) {
        double share = dconv[i] / sum;
        dconv[i] = (double)conv * share;
        dvalue[i] = value * share;
    }
}

int persona__attr_channels_used(persona_attribution *a, const attr_agg *g,
                                const char *const *names, size_t n, uint32_t *map)
{
    uint8_t *used = persona__calloc(n ? n : 1, 1);
    const char **kept = persona__realloc_array(NULL, n ? n : 1, sizeof *kept);
    uint32_t *sub = persona__realloc_array(NULL, n ? n : 1, sizeof *sub);
    int rc = used && kept && sub ? PERSONA_OK : persona__fail_nomem();
    for (size_t p = 0; !rc && p < g->paths.count; p++) {
        const char *key = persona__intern_str(&g->paths, (uint32_t)p);
        size_t len = persona__intern_len(&g->paths, (uint32_t)p) / sizeof(uint32_t);
        for (size_t i = 0; i < len; i++) {
            uint32_t c;
            memcpy(&c, key + i * sizeof c, sizeof c);
            used[c] = 1;
        }
    }
    size_t k = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (used[i])
            kept[k++] = names[i];
    if (!rc)
        rc = persona__attr_channels_sorted(a, kept, k, sub);
    for (size_t i = 0, j = 0; !rc && i < n; i++)
        map[i] = used[i] ? sub[j++] : PERSONA__NO_ID;
    persona__free(used);
    persona__free(kept);
    persona__free(sub);
    return rc;
}
