/* persona_funnel_merge: the union of two funnels built with the same options on disjoint
 * users. Counts add, the time lists merge (they hold every unit's time, so quantiles stay
 * exact), trends add over the union of their periods, the sorted user lists merge. Every
 * new array is allocated before `into` is touched, so a failure leaves it as it was. */
#include <string.h>

#include "cohort/funnel_internal.h"
#include "core/alloc.h"
#include "core/error.h"

typedef struct merged {
    int64_t *times[PERSONA_FUNNEL_MAX_STEPS];
    uint64_t *entered, *converted;
    char *keys;
    uint64_t *key_off;
    uint8_t *stages;
} merged;

static void merged_free(merged *m)
{
    for (int j = 0; j < PERSONA_FUNNEL_MAX_STEPS; j++)
        persona__free(m->times[j]);
    persona__free(m->entered);
    persona__free(m->converted);
    persona__free(m->keys);
    persona__free(m->key_off);
    persona__free(m->stages);
}

static int cmp_key(const persona_funnel *a, size_t i, const persona_funnel *b, size_t k)
{
    size_t la = (size_t)(a->key_off[i + 1] - a->key_off[i]);
    size_t lb = (size_t)(b->key_off[k + 1] - b->key_off[k]);
    int c = memcmp(a->keys + a->key_off[i], b->keys + b->key_off[k], la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* The first user of `a` also in `b`, or -1 (both lists ascending). */
static long long common_user(const persona_funnel *a, const persona_funnel *b)
{
    size_t i = 0, k = 0;
    while (i < a->n_users && k < b->n_users) {
        int c = cmp_key(a, i, b, k);
        if (c == 0)
            return (long long)i;
        if (c < 0)
            i++;
        else
            k++;
    }
    return -1;
}

static int merge_times(merged *m, const persona_funnel *a, const persona_funnel *b)
{
    for (size_t j = 1; j < a->spec.n_steps; j++) {
        uint64_t na = a->units[j], nb = b->units[j];
        if (na + nb == 0)
            continue;
        int64_t *t = persona__realloc_array(NULL, (size_t)(na + nb), sizeof *t);
        if (!t)
            return -1;
        uint64_t x = 0, y = 0, o = 0;
        while (x < na && y < nb)
            t[o++] = b->times[j][y] < a->times[j][x] ? b->times[j][y++] : a->times[j][x++];
        while (x < na)
            t[o++] = a->times[j][x++];
        while (y < nb)
            t[o++] = b->times[j][y++];
        m->times[j] = t;
    }
    return 0;
}

static int merge_trend(merged *m, const persona_funnel *a, const persona_funnel *b,
                       int64_t *first, size_t *n)
{
    *first = 0;
    *n = 0;
    if (!a->n_trend && !b->n_trend)
        return PERSONA_OK;
    int64_t lo, hi;
    if (!a->n_trend || !b->n_trend) {
        const persona_funnel *x = a->n_trend ? a : b;
        lo = x->trend_first;
        hi = x->trend_first + (int64_t)x->n_trend - 1;
    } else {
        int64_t ha = a->trend_first + (int64_t)a->n_trend - 1;
        int64_t hb = b->trend_first + (int64_t)b->n_trend - 1;
        lo = a->trend_first < b->trend_first ? a->trend_first : b->trend_first;
        hi = ha > hb ? ha : hb;
    }
    if (hi - lo >= FUNNEL_MAX_TREND)
        return persona__fail(PERSONA_EINVAL, "the merged trend would span %lld periods (at most %d)",
                             (long long)(hi - lo + 1), FUNNEL_MAX_TREND);
    size_t len = (size_t)(hi - lo + 1);
    m->entered = persona__calloc(len, sizeof *m->entered);
    m->converted = persona__calloc(len, sizeof *m->converted);
    if (!m->entered || !m->converted)
        return persona__fail_nomem();
    const persona_funnel *src[2] = { a, b };
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < src[s]->n_trend; i++) {
            size_t at = (size_t)(src[s]->trend_first - lo) + i;
            m->entered[at] += src[s]->entered[i];
            m->converted[at] += src[s]->converted[i];
        }
    *first = lo;
    *n = len;
    return PERSONA_OK;
}

static int merge_users(merged *m, const persona_funnel *a, const persona_funnel *b)
{
    size_t n = a->n_users + b->n_users;
    uint64_t ba = a->n_users ? a->key_off[a->n_users] : 0;
    uint64_t bb = b->n_users ? b->key_off[b->n_users] : 0;
    m->keys = persona__alloc(ba + bb ? (size_t)(ba + bb) : 1);
    m->key_off = persona__realloc_array(NULL, n + 1, sizeof *m->key_off);
    m->stages = persona__alloc(n ? n : 1);
    if (!m->keys || !m->key_off || !m->stages)
        return -1;
    size_t i = 0, k = 0, o = 0;
    uint64_t at = 0;
    while (i < a->n_users || k < b->n_users) {
        const persona_funnel *f;
        size_t x;
        if (k >= b->n_users || (i < a->n_users && cmp_key(a, i, b, k) < 0))
            f = a, x = i++;
        else
            f = b, x = k++;
        size_t len = (size_t)(f->key_off[x + 1] - f->key_off[x]);
        m->key_off[o] = at;
        memcpy(m->keys + at, f->keys + f->key_off[x], len);
        m->stages[o++] = f->stages[x];
        at += len;
    }
    m->key_off[o] = at;
    return 0;
}

PERSONA_API int persona_funnel_merge(persona_funnel *into, const persona_funnel *from)
{
    if (!into || !from)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", into ? "from" : "into");
    if (into == from)
        return persona__fail(PERSONA_EINVAL, "into and from are the same funnel");
    int rc = persona__funnel_spec_same(&into->spec, &from->spec);
    if (rc)
        return rc;
    long long dup = common_user(into, from);
    if (dup >= 0) {
        size_t len = (size_t)(into->key_off[dup + 1] - into->key_off[dup]);
        return persona__fail(PERSONA_EINVAL, "user '%.*s' is in both funnels",
                             (int)(len > 200 ? 200 : len), into->keys + into->key_off[dup]);
    }
    merged m;
    memset(&m, 0, sizeof m);
    int64_t first = 0;
    size_t n_trend = 0;
    if (merge_times(&m, into, from) || merge_users(&m, into, from))
        rc = persona__fail_nomem();
    if (!rc)
        rc = merge_trend(&m, into, from, &first, &n_trend);
    if (rc) {
        merged_free(&m);
        return rc;
    }
    for (size_t j = 0; j < into->spec.n_steps; j++) {
        into->units[j] += from->units[j];
        if (j && m.times[j]) {
            persona__free(into->times[j]);
            into->times[j] = m.times[j];
        }
    }
    persona__free(into->entered);
    persona__free(into->converted);
    into->entered = m.entered;
    into->converted = m.converted;
    into->trend_first = first;
    into->n_trend = n_trend;
    persona__free(into->keys);
    persona__free(into->key_off);
    persona__free(into->stages);
    into->keys = m.keys;
    into->key_off = m.key_off;
    into->stages = m.stages;
    into->n_users += from->n_users;
    persona__funnel_fill_hist(into);
    return PERSONA_OK;
}
