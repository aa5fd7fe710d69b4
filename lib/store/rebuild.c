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

static size_t chain_len(const persona__pairmap *m, uint32_t head)
{
    size_t n = 0;
    for (uint32_t e = head; e != UINT32_MAX; e = m->next[e])
        n++;
    return n;
}

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

int persona__recompute_reserve(persona_store *s, const uint32_t *old_roots, size_t n_old,
                               size_t parts, recompute_plan *plan)
{
    size_t events = 0, types = 0, baskets = 0, props = 0, cats = 0;
    for (size_t i = 0; i < n_old; i++) {
        const profile *p = &s->profiles[old_roots[i]];
        events += p->events;
        types += p->n_types;
        baskets += chain_len(&s->user_basket, p->head_basket);
        props += chain_len(&s->user_prop, p->head_prop);
        cats += chain_len(&s->user_category, p->head_category);
    }
    /* Each part holds at most all the distinct keys, and never more than its events. */
    types = min_size(types * parts, events);
    baskets = min_size(baskets * parts, events);
    props = min_size(props * parts, events * (s->log.n_props ? s->log.n_props : 1));
    cats = min_size(cats * parts, events);
    plan->order = persona__alloc((events ? events : 1) * sizeof *plan->order);
    plan->n_events = 0;
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
    persona__apply_time(s, p, t);
    if (!isnan(v))
        persona__sum_add(&p->value_sum, &p->value_comp, v);
    type_stat *ts = persona__type_counters(s, root, p, c->type[k]);
    ts->count++;
    if (!isnan(v))
        persona__sum_add(&ts->value, &ts->comp, v);
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
