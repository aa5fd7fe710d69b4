/* Similar items. The first query of a measure ranks every item's neighbours for it (score
 * descending, then co-count descending, then item index = key bytewise) and keeps the
 * first AFF_TOP of each row side by side with their scores: a top-K query is then a hash
 * lookup and a read of K consecutive entries, which is what keeps a top-10 query well
 * under a microsecond (docs/benchmarks.md). A query that needs more (a larger K, or a
 * min_count that skips most of the top) continues in the full order of the row, sorted
 * once per measure on first need. Both are published once under the matrix's lock. */
#include <stdlib.h>
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"

static aff_ranked rank_of(const persona_affinity_matrix *m, int32_t measure, size_t a, uint64_t e)
{
    uint32_t b = m->nbr[e];
    uint64_t c = m->cnt[e];
    return (aff_ranked){ persona__affinity_score(measure, c, m->item_count[a], m->item_count[b],
                                                 m->n_units),
                         c, b, (uint32_t)(e - m->row[a]), 0 };
}

/* Every row's entries in order (positions within the row). */
static uint32_t *make_order(const persona_affinity_matrix *m, int32_t measure)
{
    size_t n = aff_items(m);
    uint64_t total = m->row[n], widest = 0;
    for (size_t a = 0; a < n; a++)
        if (m->row[a + 1] - m->row[a] > widest)
            widest = m->row[a + 1] - m->row[a];
    uint32_t *order = persona__realloc_array(NULL, total ? total : 1, sizeof *order);
    aff_ranked *tmp = persona__realloc_array(NULL, widest ? widest : 1, sizeof *tmp);
    if (!order || !tmp) {
        persona__free(order);
        persona__free(tmp);
        return NULL;
    }
    for (size_t a = 0; a < n; a++) {
        uint64_t from = m->row[a], len = m->row[a + 1] - from;
        for (uint64_t k = 0; k < len; k++)
            tmp[k] = rank_of(m, measure, a, from + k);
        qsort(tmp, len, sizeof *tmp, persona__affinity_cmp_ranked);
        for (uint64_t k = 0; k < len; k++)
            order[from + k] = tmp[k].pos;
    }
    persona__free(tmp);
    return order;
}

/* The first AFF_TOP entries of every row in order: kept sorted by insertion while the
 * row is read once (most entries lose to the current last one in one comparison). */
static aff_top_list *make_top(const persona_affinity_matrix *m, int32_t measure)
{
    size_t n = aff_items(m);
    aff_top_list *t = persona__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->start = persona__calloc(n + 1, sizeof *t->start);
    uint64_t total = 0;
    for (size_t a = 0; a < n; a++) {
        uint64_t len = m->row[a + 1] - m->row[a];
        total += len < AFF_TOP ? len : AFF_TOP;
    }
    t->entries = persona__realloc_array(NULL, total ? total : 1, sizeof *t->entries);
    if (!t->start || !t->entries) {
        persona__free(t->start);
        persona__free(t->entries);
        persona__free(t);
        return NULL;
    }
    aff_ranked best[AFF_TOP];
    uint64_t w = 0;
    for (size_t a = 0; a < n; a++) {
        size_t nb = 0;
        for (uint64_t e = m->row[a]; e < m->row[a + 1]; e++) {
            aff_ranked r = rank_of(m, measure, a, e);
            if (nb == AFF_TOP && persona__affinity_cmp_ranked(&r, &best[AFF_TOP - 1]) >= 0)
                continue;
            size_t k = nb < AFF_TOP ? nb++ : AFF_TOP - 1;
            while (k > 0 && persona__affinity_cmp_ranked(&r, &best[k - 1]) < 0) {
                best[k] = best[k - 1];
                k--;
            }
            best[k] = r;
        }
        for (size_t k = 0; k < nb; k++)
            t->entries[w++] = (aff_top){ best[k].item, 0, best[k].count, best[k].score };
        t->start[a + 1] = w;
    }
    return t;
}

/* The lazily made part `top` (1) or `order` (0) of a measure. NULL: out of memory. */
static void *lazy(const persona_affinity_matrix *cm, int32_t measure, int top)
{
    persona_affinity_matrix *m = (persona_affinity_matrix *)cm; /* the lazy part only */
    void *p = top ? (void *)atomic_load_explicit(&m->top[measure], memory_order_acquire)
                  : (void *)atomic_load_explicit(&m->order[measure], memory_order_acquire);
    if (p)
        return p;
    pthread_mutex_lock(&m->lock);
    if (top) {
        aff_top_list *t = atomic_load_explicit(&m->top[measure], memory_order_relaxed);
        if (!t && (t = make_top(m, measure)))
            atomic_store_explicit(&m->top[measure], t, memory_order_release);
        p = t;
    } else {
        uint32_t *o = atomic_load_explicit(&m->order[measure], memory_order_relaxed);
        if (!o && (o = make_order(m, measure)))
            atomic_store_explicit(&m->order[measure], o, memory_order_release);
        p = o;
    }
    pthread_mutex_unlock(&m->lock);
    return p;
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
    uint32_t a = 0;
    int rc = persona__affinity_find(&a, m, item);
    if (rc)
        return rc;
    const aff_top_list *t = lazy(m, measure, 1);
    if (!t)
        return persona__fail_nomem();
    size_t n = 0;
    uint64_t k = t->start[a], end = t->start[a + 1];
    for (; k < end && n < capacity; k++) {
        const aff_top *e = &t->entries[k];
        if (e->count < min_count)
            continue;
        items_out[n] = e->item;
        if (scores_out)
            scores_out[n] = e->score;
        if (counts_out)
            counts_out[n] = e->count;
        n++;
    }
    uint64_t from = m->row[a], len = m->row[a + 1] - from, done = end - t->start[a];
    if (n < capacity && done < len) { /* past the top: the full order of the row */
        const uint32_t *order = lazy(m, measure, 0);
        if (!order)
            return persona__fail_nomem();
        for (uint64_t j = done; j < len && n < capacity; j++) {
            uint64_t e = from + order[from + j];
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
    }
    if (out_count)
        *out_count = n;
    return PERSONA_OK;
}
