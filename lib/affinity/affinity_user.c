/* Queries about one user: recommendations from their history and their category
 * affinity with time decay. The history is read from the store (the user's chain of
 * events, newest first) with the matrix's event types, or from the matrix's own units. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "store/store_internal.h"

/* Store type ids of the matrix's event types (NO_ID for types the store lacks). */
typedef struct types {
    uint32_t *ids;
    size_t n;
    int all;
} types;

static int types_resolve(types *t, const persona_affinity_matrix *m, const persona_store *s)
{
    t->n = m->n_event_types;
    t->all = m->n_event_types == 0;
    t->ids = NULL;
    if (t->all)
        return PERSONA_OK;
    if (!(t->ids = persona__realloc_array(NULL, t->n, sizeof *t->ids)))
        return persona__fail_nomem();
    for (size_t i = 0; i < t->n; i++)
        t->ids[i] = persona__intern_find(&s->types, m->event_types[i], strlen(m->event_types[i]));
    return PERSONA_OK;
}

static int type_counts(const types *t, uint32_t type)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ids[i] == type)
            return 1;
    return t->all;
}

/* Matrix index of a store item, or NO_ID. */
static uint32_t item_of(const persona_affinity_matrix *m, const persona_store *s, uint32_t item)
{
    return persona__intern_find(&m->items, persona__intern_str(&s->items, item),
                                persona__intern_len(&s->items, item));
}

/* Mark the user's items in own[] (1). Store: the counted events (read lock held by the
 * caller); no store: the items of the user's units in the matrix. */
static int history(uint8_t *own, const persona_affinity_matrix *m, const persona_store *s,
                   const char *user)
{
    if (!s) {
        uint32_t u = persona__intern_find(&m->users, user, strlen(user));
        if (u == PERSONA__NO_ID)
            return persona__fail(PERSONA_ENOTFOUND, "user '%.200s' has no unit in the matrix",
                                 user);
        for (uint64_t k = 0; k < m->n_units; k++)
            if (m->unit_user[k] == u)
                for (uint64_t e = m->unit_start[k]; e < m->unit_start[k + 1]; e++)
                    own[m->unit_items[e]] = 1;
        return PERSONA_OK;
    }
    int rc = PERSONA_OK;
    uint32_t root = persona__store_find_user(s, user, &rc);
    if (root == PERSONA__NO_ID)
        return rc;
    types t;
    if ((rc = types_resolve(&t, m, s)))
        return rc;
    for (uint32_t e = s->profiles[root].last_event; e != LOG_NO_ID;
         e = persona__eventlog_prev(&s->log, e)) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        if (!c->item || c->item[k] == LOG_NO_ID || !type_counts(&t, c->type[k]))
            continue;
        uint32_t i = item_of(m, s, c->item[k]);
        if (i != PERSONA__NO_ID)
            own[i] = 1;
    }
    persona__free(t.ids);
    return PERSONA_OK;
}

/* The first `capacity` of n candidates in order, written out. */
static void emit(aff_ranked *c, size_t n, uint32_t *idx_out, double *scores_out, size_t capacity,
                 size_t *out_count)
{
    qsort(c, n, sizeof *c, persona__affinity_cmp_ranked); /* counts 0: score, then index */
    size_t w = n < capacity ? n : capacity;
    for (size_t i = 0; i < w; i++) {
        idx_out[i] = c[i].item;
        if (scores_out)
            scores_out[i] = c[i].score;
    }
    if (out_count)
        *out_count = w;
}

enum { OWN = 1, EXCLUDED = 2, TOUCHED = 4 };

static int recommend(uint8_t *flag, double *score, aff_ranked *cs, uint32_t *items_out,
                     double *scores_out, size_t capacity, size_t *out_count,
                     const persona_affinity_matrix *m, const persona_store *s, const char *user,
                     const char *const *exclude, size_t n_exclude, int32_t measure,
                     uint64_t min_count)
{
    size_t n = aff_items(m);
    int rc = history(flag, m, s, user);
    if (rc)
        return rc;
    for (size_t i = 0; i < n_exclude; i++) {
        uint32_t x = persona__intern_find(&m->items, exclude[i], strlen(exclude[i]));
        if (x != PERSONA__NO_ID)
            flag[x] |= EXCLUDED;
    }
    size_t nc = 0;
    for (size_t h = 0; h < n; h++) {
        if (!(flag[h] & OWN))
            continue;
        for (uint64_t e = m->row[h]; e < m->row[h + 1]; e++) {
            uint32_t c = m->nbr[e];
            if (m->cnt[e] < min_count || (flag[c] & (OWN | EXCLUDED)))
                continue;
            if (!(flag[c] & TOUCHED)) {
                flag[c] |= TOUCHED;
                score[c] = 0;
                cs[nc] = (aff_ranked){ 0, 0, c, 0, 0 };
                nc++;
            }
            score[c] += persona__affinity_score(measure, m->cnt[e], m->item_count[h],
                                                m->item_count[c], m->n_units);
        }
    }
    for (size_t i = 0; i < nc; i++)
        cs[i].score = score[cs[i].item];
    emit(cs, nc, items_out, scores_out, capacity, out_count);
    return PERSONA_OK;
}

PERSONA_API int persona_affinity_recommend(uint32_t *items_out, double *scores_out,
                                           size_t capacity, size_t *out_count,
                                           const persona_affinity_matrix *m,
                                           const persona_store *store, const char *user,
                                           const char *const *exclude, size_t n_exclude,
                                           int32_t measure, uint64_t min_count)
{
    if (out_count)
        *out_count = 0;
    if (!m || !user || (capacity && !items_out) || (n_exclude && !exclude))
        return persona__fail(PERSONA_EINVAL, "%s is NULL",
                             !m ? "matrix" : !user ? "user" : !exclude ? "exclude" : "items_out");
    if (measure < 0 || measure >= PERSONA_AFFINITY_MEASURES)
        return persona__fail(PERSONA_EINVAL, "measure %d is unknown", measure);
    for (size_t i = 0; i < n_exclude; i++)
        if (!exclude[i])
            return persona__fail(PERSONA_EINVAL, "exclude[%zu] is NULL", i);
    size_t n = aff_items(m);
    uint8_t *flag = persona__calloc(n + 1, 1);
    double *score = persona__realloc_array(NULL, n + 1, sizeof *score);
    aff_ranked *cs = persona__realloc_array(NULL, n + 1, sizeof *cs);
    int rc;
    if (!flag || !score || !cs) {
        rc = persona__fail_nomem();
    } else {
        if (store)
            STORE_RDLOCK(store);
        rc = recommend(flag, score, cs, items_out, scores_out, capacity, out_count, m, store,
                       user, exclude, n_exclude, measure, min_count ? min_count : 1);
        if (store)
            STORE_UNLOCK(store);
    }
    persona__free(flag);
    persona__free(score);
    persona__free(cs);
    return rc;
}

/* Category index of event k of chunk c, or NO_ID. */
static uint32_t category_of(const persona_affinity_matrix *m, const persona_store *s,
                            const log_chunk *c, size_t k, int col)
{
    if (m->category_source == PERSONA_AFFINITY_CATEGORY_ITEM)
        return c->item && c->item[k] != LOG_NO_ID ? item_of(m, s, c->item[k]) : PERSONA__NO_ID;
    if (col < 0 || !c->props[col] || c->props[col][k] == LOG_NO_ID)
        return PERSONA__NO_ID;
    uint32_t v = c->props[col][k];
    return persona__intern_find(&m->categories, persona__intern_str(&s->values, v),
                                persona__intern_len(&s->values, v));
}

static int user_categories(double *score, uint8_t *seen, aff_ranked *cs, uint32_t *out,
                           double *scores_out, size_t capacity, size_t *out_count,
                           const persona_affinity_matrix *m, const persona_store *s,
                           const char *user, int64_t as_of, int64_t half_life)
{
    int rc = PERSONA_OK;
    uint32_t root = persona__store_find_user(s, user, &rc);
    if (root == PERSONA__NO_ID)
        return rc;
    if (!as_of)
        as_of = s->has_tick && s->tick_ms > s->last_time_ms ? s->tick_ms : s->last_time_ms;
    if (!half_life)
        half_life = s->half_life_ms;
    int col = -1;
    if (m->category_prop) {
        uint32_t name = persona__intern_find(&s->names, m->category_prop, strlen(m->category_prop));
        col = name == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, name);
    }
    types t;
    if ((rc = types_resolve(&t, m, s)))
        return rc;
    size_t nc = 0;
    for (uint32_t e = s->profiles[root].last_event; e != LOG_NO_ID;
         e = persona__eventlog_prev(&s->log, e)) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        if (c->time[k] > as_of || !c->item || c->item[k] == LOG_NO_ID ||
            !type_counts(&t, c->type[k]))
            continue;
        uint32_t cat = category_of(m, s, c, k, col);
        if (cat == PERSONA__NO_ID)
            continue;
        if (!seen[cat]) {
            seen[cat] = 1;
            score[cat] = 0;
            cs[nc] = (aff_ranked){ 0, 0, cat, 0, 0 };
            nc++;
        }
        score[cat] += exp2(-((double)as_of - (double)c->time[k]) / (double)half_life);
    }
    persona__free(t.ids);
    for (size_t i = 0; i < nc; i++)
        cs[i].score = score[cs[i].item];
    emit(cs, nc, out, scores_out, capacity, out_count);
    return PERSONA_OK;
}

PERSONA_API int persona_affinity_user_categories(uint32_t *categories_out, double *scores_out,
                                                 size_t capacity, size_t *out_count,
                                                 const persona_affinity_matrix *m,
                                                 const persona_store *store, const char *user,
                                                 int64_t as_of_ms, int64_t half_life_ms)
{
    if (out_count)
        *out_count = 0;
    if (!m || !store || !user || (capacity && !categories_out))
        return persona__fail(PERSONA_EINVAL, "%s is NULL",
                             !m ? "matrix" : !store ? "store" : !user ? "user" : "categories_out");
    if (half_life_ms < 0)
        return persona__fail(PERSONA_EINVAL, "half_life_ms is negative");
    size_t n = m->category_source == PERSONA_AFFINITY_CATEGORY_ITEM ? aff_items(m)
                                                                    : m->categories.count;
    double *score = persona__realloc_array(NULL, n + 1, sizeof *score);
    uint8_t *seen = persona__calloc(n + 1, 1);
    aff_ranked *cs = persona__realloc_array(NULL, n + 1, sizeof *cs);
    int rc;
    if (!score || !seen || !cs) {
        rc = persona__fail_nomem();
    } else {
        STORE_RDLOCK(store);
        rc = user_categories(score, seen, cs, categories_out, scores_out, capacity, out_count, m,
                             store, user, as_of_ms, half_life_ms);
        STORE_UNLOCK(store);
    }
    persona__free(score);
    persona__free(seen);
    persona__free(cs);
    return rc;
}
