/* Similar items. The first query of a measure sorts every item's neighbours for it
 * (score descending, then co-count descending, then item index = key bytewise) into a
 * permutation of the pair lists, published once under the matrix's lock; a query is then
 * a hash lookup and a walk over the first entries of one row, which is what keeps a
 * top-10 query under a microsecond (docs/benchmarks.md). */
#include <stdlib.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"

typedef struct ranked {
    double score;
    uint64_t count;
    uint32_t item;
    uint32_t pos;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static uint32_t *make_order(const persona_affinity_matrix *m, int32_t measure)
{
    size_t n = aff_items(m);
    uint64_t total = m->row[n], widest = 0;
    for (size_t a = 0; a < n; a++)
        if (m->row[a + 1] - m->row[a] > widest)
            widest = m->row[a + 1] - m->row[a];
    uint32_t *order = persona__realloc_array(NULL, total ? total : 1, sizeof *order);
    ranked *tmp = persona__realloc_array(NULL, widest ? widest : 1, sizeof *tmp);
    if (!order || !tmp) {
        persona__free(order);
        persona__free(tmp);
        return NULL;
    }
    for (size_t a = 0; a < n; a++) {
        uint64_t from = m->row[a], len = m->row[a + 1] - from;
        for (uint64_t k = 0; k < len; k++) {
            uint32_t b = m->nbr[from + k];
            uint64_t c = m->cnt[from + k];
            tmp[k] = (ranked){ persona__affinity_score(measure, c, m->item_count[a],
                                                       m->item_count[b], m->n_units),
                               c, b, (uint32_t)k };
        }
        qsort(tmp, len, sizeof *tmp, cmp_ranked);
        for (uint64_t k = 0; k < len; k++)
            order[from + k] = tmp[k].pos;
    }
    persona__free(tmp);
    return order;
}

/* The similar-items order of a measure, made on first use. NULL: out of memory. */
static const uint32_t *order_of(const persona_affinity_matrix *cm, int32_t measure)
{
    persona_affinity_matrix *m = (persona_affinity_matrix *)cm; /* the lazy part only */
    uint32_t *o = atomic_load_explicit(&m->order[measure], memory_order_acquire);
    if (o)
        return o;
    pthread_mutex_lock(&m->lock);
    o = atomic_load_explicit(&m->order[measure], memory_order_relaxed);
    if (!o) {
        o = make_order(m, measure);
        if (o)
            atomic_store_explicit(&m->order[measure], o, memory_order_release);
    }
    pthread_mutex_unlock(&m->lock);
    return o;
}

PERSONA_API int persona_affinity_similar(uint32_t *items_out, double *scores_out,
                                         uint64_t *counts_out, size_t capacity, size_t *out_count,
                                         const persona_affinity_matrix *m, const char *item,
                                         int32_t measure, uint64_t min_count)
{
    if (out_count)
        *out_count = 0;
    if (!m || (capacity && !items_out))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "items_out" : "matrix");
    if (measure < 0 || measure >= PERSONA_AFFINITY_MEASURES)
        return persona__fail(PERSONA_EINVAL, "measure %d is unknown", measure);
    uint32_t a;
    int rc = persona__affinity_find(&a, m, item);
    if (rc)
        return rc;
    const uint32_t *order = order_of(m, measure);
    if (!order)
        return persona__fail_nomem();
    uint64_t from = m->row[a], to = m->row[a + 1];
    size_t n = 0;
    for (uint64_t k = from; k < to && n < capacity; k++) {
        uint64_t e = from + order[k];
        uint64_t c = m->cnt[e];
        if (c < min_count)
            continue;
        uint32_t b = m->nbr[e];
        items_out[n] = b;
        if (scores_out)
            scores_out[n] = persona__affinity_score(measure, c, m->item_count[a],
                                                    m->item_count[b], m->n_units);
        if (counts_out)
            counts_out[n] = c;
        n++;
    }
    if (out_count)
        *out_count = n;
    return PERSONA_OK;
}
