/* Recompute profiles from the event log after the identity graph changed (a merge or an
 * unmerge): the events of the profiles involved are replayed in log order through the
 * same trait updates ingest uses, so a merged profile is bit for bit the profile one key
 * receiving all those events would have, and an unmerged part the profile its events
 * alone give. Pair-map entries of the old profiles are retired (their keys made dead) and
 * the new ones added in replay order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store_internal.h"

static int reserve_pairs(persona__pairmap *m, void **values, size_t *cap, size_t elem,
                         size_t more)
{
    if (more == 0)
        return 0;
    return persona__pairmap_reserve(m, more) ||
           (values && persona__grow(values, cap, m->count + more, elem, 16));
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Distinct keys of each kind (event type, basket, category value, property name) among
 * the events of old_roots, counted from the log itself: the profiles' own counters come
 * from a file that may lie about them. 0, or -1 out of memory. */
enum { K_TYPE, K_BASKET, K_CATEGORY, K_PROP, K_KINDS };

static int distinct_keys(const persona_store *s, const uint32_t *old_roots, size_t n_old,
                         size_t events, size_t distinct[K_KINDS])
{
    const persona__eventlog *l = &s->log;
    size_t per_event = 3 + (l->n_props < LOG_MAX_PROPS ? l->n_props : LOG_MAX_PROPS);
    size_t cap = 16;
    while (cap < 2 * events * per_event)
        cap *= 2;
    uint64_t *set = persona__calloc(cap, sizeof *set); /* key + 1; 0 = empty */
    if (!set)
        return -1;
    for (int k = 0; k < K_KINDS; k++)
        distinct[k] = 0;
    for (size_t i = 0; i < n_old; i++) {
        const profile *p = &s->profiles[old_roots[i]];
        size_t left = p->events;
        for (uint32_t e = p->last_event; e != LOG_NO_ID && left;
             e = persona__eventlog_prev(l, e), left--) {
            const log_chunk *c = persona__eventlog_chunk(l, e);
            size_t k = persona__eventlog_slot(e);
            uint64_t keys[3 + LOG_MAX_PROPS];
            size_t n = 0;
            keys[n++] = PERSONA__PAIR(K_TYPE, c->type[k]);
            if (c->basket && c->basket[k] != LOG_NO_ID)
                keys[n++] = PERSONA__PAIR(K_BASKET, c->basket[k]);
            for (size_t q = 0; q < l->n_props && q < LOG_MAX_PROPS; q++)
                if (c->props[q] && c->props[q][k] != LOG_NO_ID)
                    keys[n++] = l->prop_names[q] == s->category_name
                                    ? PERSONA__PAIR(K_CATEGORY, c->props[q][k])
                                    : PERSONA__PAIR(K_PROP, l->prop_names[q]);
            for (size_t j = 0; j < n; j++) {
                uint64_t h = (keys[j] + 1) * 0x9E3779B97F4A7C15ULL;
                size_t at = (size_t)(h >> 32) & (cap - 1);
                while (set[at] && set[at] != keys[j] + 1)
                    at = (at + 1) & (cap - 1);
                if (!set[at]) {
                    set[at] = keys[j] + 1;
                    distinct[PERSONA__PAIR_USER(keys[j])]++;
                }
            }
        }
    }
    persona__free(set);
    return 0;
}

int persona__recompute_reserve(persona_store *s, const uint32_t *old_roots, size_t n_old,
                               size_t parts, recompute_plan *plan)
{
    size_t events = 0, d[K_KINDS];
    for (size_t i = 0; i < n_old; i++)
        events += s->profiles[old_roots[i]].events;
    plan->order = NULL;
    plan->n_events = 0;
    if (distinct_keys(s, old_roots, n_old, events, d))
        return -1;
    /* Each part holds at most every distinct key, and never more than its events. */
    size_t types = min_size(d[K_TYPE] * parts, events);
    size_t baskets = min_size(d[K_BASKET] * parts, events);
    size_t props = min_size(d[K_PROP] * parts, events * (s->log.n_props ? s->log.n_props : 1));
    size_t cats = min_size(d[K_CATEGORY] * parts, events);
    plan->order = persona__alloc((events ? events : 1) * sizeof *plan->order);
    if (!plan->order ||
        reserve_pairs(&s->user_type, (void **)&s->type_stats, &s->type_stats_cap,
                      sizeof *s->type_stats, types) ||
        reserve_pairs(&s->user_basket, NULL, NULL, 0, baskets) ||
        reserve_pairs(&s->user_prop, (void **)&s->last_props, &s->last_props_cap,
                      sizeof *s->last_props, props) ||
        reserve_pairs(&s->user_category, (void **)&s->engagements, &s->engagements_cap,
                      sizeof *s->engagements, cats)) {
        persona__free(plan->order);
        plan->order = NULL;
        return -1;
    }
    return 0;
}

static void retire(persona__pairmap *m, uint32_t *head)
{
    /* Distinct dead keys (the entry's index): identical ones would pile up in one run of
     * slots until the table is rebuilt, which then leaves them out. */
    for (uint32_t e = *head; e != UINT32_MAX; e = m->next[e])
        m->keys[e] = PERSONA__PAIR(PAIR_DEAD_USER, e);
    *head = UINT32_MAX;
}

/* Back to an empty profile, keeping what does not come from events. */
static void reset_profile(persona_store *s, uint32_t u)
{
    profile *p = &s->profiles[u];
    retire(&s->user_type, &p->head_type);
    retire(&s->user_basket, &p->head_basket);
    retire(&s->user_prop, &p->head_prop);
    retire(&s->user_category, &p->head_category);
    uint32_t head_attr = p->head_attr, head_consent = p->head_consent, n_attrs = p->n_attrs;
    uint32_t flags = p->flags & PROFILE_UNTRACKED;
    persona__profile_init(p);
    p->head_attr = head_attr;
    p->head_consent = head_consent;
    p->n_attrs = n_attrs;
    p->flags = flags;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void replay(persona_store *s, size_t e)
{
    const persona__eventlog *l = &s->log;
    log_chunk *c = persona__eventlog_chunk(l, e);
    size_t k = persona__eventlog_slot(e);
    uint32_t root = persona__id_root(s, c->user[k]);
    profile *p = &s->profiles[root];
    int64_t t = c->time[k];
    double v = c->value ? c->value[k] : NAN;
    c->prev[k] = p->last_event;
    p->last_event = (uint32_t)e;
    if (c->basket && c->basket[k] != LOG_NO_ID)
        persona__apply_basket(s, root, p, c->basket[k]);
    int newest = p->events == 0 || t >= p->last_seen;
    persona__apply_time(s, p, t);
    if (!isnan(v))
        persona__sum_add(&p->value_sum, &p->value_comp, v);
    persona__type_stat_add(&s->log, persona__type_counters(s, root, p, c->type[k]), (uint32_t)e, t,
                           newest, v);
    for (size_t q = 0; q < l->n_props && q < LOG_MAX_PROPS; q++) {
        if (!c->props[q] || c->props[q][k] == LOG_NO_ID)
            continue;
        if (l->prop_names[q] == s->category_name)
            persona__apply_engagement(s, root, p, c->props[q][k], t);
        else
            persona__apply_last(s, root, p, l->prop_names[q], c->props[q][k], t);
    }
}

uint64_t persona__recompute(persona_store *s, const uint32_t *old_roots, size_t n_old,
                            recompute_plan *plan)
{
    size_t n = 0;
    for (size_t i = 0; i < n_old; i++) {
        const profile *p = &s->profiles[old_roots[i]];
        size_t left = p->events;
        for (uint32_t e = p->last_event; e != LOG_NO_ID && left; e = persona__eventlog_prev(&s->log, e), left--)
            plan->order[n++] = e;
    }
    qsort(plan->order, n, sizeof *plan->order, cmp_u32);
    /* Every profile the events now belong to starts empty: the old roots and the roots of
     * the identifiers the events came through. */
    for (size_t i = 0; i < n_old; i++)
        reset_profile(s, old_roots[i]);
    for (size_t i = 0; i < n; i++) { /* cheap once a profile is empty */
        const log_chunk *c = persona__eventlog_chunk(&s->log, plan->order[i]);
        reset_profile(s, persona__id_root(s, c->user[persona__eventlog_slot(plan->order[i])]));
    }
    for (size_t i = 0; i < n; i++)
        replay(s, plan->order[i]);
    persona__free(plan->order);
    plan->order = NULL;
    plan->n_events = n;
    return n;
}
