/* persona_store_erase: remove one person, synchronously, by rebuilding the store without
 * them; persona_store_anonymize: the same rebuild keeping the person's behaviour under a
 * random key, without their identifiers (key, event ids) and string attributes.
 *
 * Ids are dense and shared (an item, a property value or an event type may be held only by
 * the erased user), tables and pair maps have no deletion, and the deduplication set holds
 * event ids: so instead of punching holes, everything the other users hold is copied into a
 * fresh set of tables, in the original order, and swapped in. Strings only the erased user
 * held are not copied, so no identifier or value of theirs survives in memory, in exports
 * or in the next snapshot. The cost is a copy of the store (time and, for a moment, memory),
 * which suits erasure requests (rare, must be complete); all-or-nothing under ENOMEM. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/structs.h"
#include "store_internal.h"
#include "segment/live.h"

enum { T_USERS, T_TYPES, T_ITEMS, T_BASKETS, T_NAMES, T_VALUES, T_IDS, T_SOURCES, T_BLOCKED,
       T_COUNT };

static persona__intern *table_of(persona_store *s, int t)
{
    persona__intern *tables[T_COUNT] = { &s->users,     &s->types,   &s->items,
                                         &s->baskets,   &s->names,   &s->values,
                                         &s->event_ids, &s->sources, &s->blocked };
    return tables[t];
}

#define UNUSED UINT32_MAX

/* Old id -> new id per table; UNUSED until marked, then renumbered in old order. */
typedef struct remap {
    uint32_t *to[T_COUNT];
} remap;

/* What happens to the person of profile x (every identifier of it): gone, or kept under
 * `pseudonym` without identifiers. */
typedef struct target {
    uint32_t x;
    const char *pseudonym; /* NULL: erase */
    /* Property values that spell one of the person's identifiers (an identify event's
     * email): anonymizing drops them from the person's events and last values. */
    uint32_t id_values[32];
    size_t n_id_values;
} target;

static int spells_identifier(const target *tg, uint32_t value)
{
    for (size_t i = 0; i < tg->n_id_values; i++)
        if (tg->id_values[i] == value)
            return 1;
    return 0;
}

static int in_target(const persona_store *s, const target *tg, uint32_t u)
{
    return persona__id_root(s, u) == tg->x;
}

/* Whether pair entry e of map pm is dropped: entries of recomputed profiles, and those
 * that go with the person's identifiers. */
static int drops_entry(const persona_store *s, const target *tg, const persona__pairmap *pm,
                       size_t e)
{
    if (persona__pair_dead(pm, e))
        return 1;
    if (!in_target(s, tg, PERSONA__PAIR_USER(pm->keys[e])))
        return 0;
    return !tg->pseudonym || (pm == &s->user_attr && s->attrs[e].type == PERSONA_STR) ||
           (pm == &s->user_prop && spells_identifier(tg, s->last_props[e].value));
}

/* Whether string sid of the identity sources spells one of the person's identifiers (a
 * value a guard kept out before it became theirs). */
static int text_is_theirs(const persona_store *s, const target *tg, uint32_t sid)
{
    const char *text = persona__intern_str(&s->sources, sid);
    uint32_t len = persona__intern_len(&s->sources, sid), u = tg->x;
    do {
        if (persona__intern_len(&s->users, u) == len &&
            memcmp(persona__intern_str(&s->users, u), text, len) == 0)
            return 1;
        u = persona__id_next(s, u);
    } while (u != tg->x);
    return 0;
}

/* Whether merge-log entry m involves the person (then it goes: it names identifiers). */
static int drops_link(const persona_store *s, const target *tg, const merge_entry *m)
{
    int a_text = (m->flags & MERGE_A_TEXT) != 0, b_text = (m->flags & MERGE_B_TEXT) != 0;
    if (m->a != PERSONA__NO_ID &&
        (a_text ? text_is_theirs(s, tg, m->a) : in_target(s, tg, m->a)))
        return 1;
    return b_text ? text_is_theirs(s, tg, m->b) : in_target(s, tg, m->b);
}

static void mark(remap *m, int t, uint32_t id)
{
    if (id != UNUSED)
        m->to[t][id] = 0;
}

static uint32_t map_id(const remap *m, int t, uint32_t id)
{
    return id == UNUSED ? UNUSED : m->to[t][id];
}

/* Mark every string what stays refers to. */
static void mark_used(remap *m, const persona_store *s, const target *tg)
{
    const int erase = !tg->pseudonym; /* the person's events go */
    for (uint32_t u = 0; u < s->users.count; u++) {
        if (in_target(s, tg, u) && (erase || u != tg->x))
            continue; /* anonymized: only the profile's own slot stays, as the pseudonym */
        mark(m, T_USERS, u);
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
            mark(m, T_TYPES, s->profiles[u].inline_type[k]);
    }
    for (size_t i = 0; i < s->blocked.count; i++)
        mark(m, T_BLOCKED, (uint32_t)i);
    for (size_t i = 0; i < s->n_merges; i++) {
        const merge_entry *me = &s->merges[i];
        if (drops_link(s, tg, me))
            continue;
        if (me->source != PERSONA__NO_ID)
            mark(m, T_SOURCES, me->source);
        if (me->flags & MERGE_A_TEXT)
            mark(m, T_SOURCES, me->a);
        if (me->flags & MERGE_B_TEXT)
            mark(m, T_SOURCES, me->b);
    }
    mark(m, T_NAMES, s->category_name);
    static const struct {
        size_t map_offset;
        int table;
    } pairs[] = {
        { offsetof(persona_store, user_type), T_TYPES },
        { offsetof(persona_store, user_basket), T_BASKETS },
        { offsetof(persona_store, user_prop), T_NAMES },
        { offsetof(persona_store, user_category), T_VALUES },
        { offsetof(persona_store, user_attr), T_NAMES },
        { offsetof(persona_store, user_consent), T_NAMES },
    };
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        const persona__pairmap *pm =
            (const persona__pairmap *)((const char *)s + pairs[k].map_offset);
        for (size_t e = 0; e < pm->count; e++) {
            if (drops_entry(s, tg, pm, e))
                continue;
            mark(m, pairs[k].table, PERSONA__PAIR_X(pm->keys[e]));
            if (pm == &s->user_prop)
                mark(m, T_VALUES, s->last_props[e].value);
        }
    }
    const persona__eventlog *l = &s->log;
    for (size_t i = 0; i < l->count; i++) {
        const log_chunk *c = persona__eventlog_chunk(l, i);
        size_t k = persona__eventlog_slot(i);
        int theirs = in_target(s, tg, c->user[k]);
        if (theirs && erase)
            continue;
        mark(m, T_TYPES, c->type[k]);
        if (c->item)
            mark(m, T_ITEMS, c->item[k]);
        if (c->basket)
            mark(m, T_BASKETS, c->basket[k]);
        if (c->event_id && !theirs)
            mark(m, T_IDS, c->event_id[k]);
        for (size_t p = 0; p < l->n_props && p < LOG_MAX_PROPS; p++)
            if (c->props[p] && c->props[p][k] != LOG_NO_ID &&
                !(theirs && spells_identifier(tg, c->props[p][k]))) {
                mark(m, T_VALUES, c->props[p][k]);
                mark(m, T_NAMES, l->prop_names[p]); /* the column stays */
            }
    }
}

/* New ids in old order, and the strings into t's tables (the pseudonym for user x). */
static int copy_strings(persona_store *t, const persona_store *s, remap *m, const target *tg)
{
    for (int tb = 0; tb < T_COUNT; tb++) {
        const persona__intern *from = table_of((persona_store *)s, tb);
        persona__intern *to = table_of(t, tb);
        size_t n = 0, bytes = 0;
        for (size_t id = 0; id < from->count; id++)
            if (m->to[tb][id] != UNUSED) {
                n++;
                bytes += from->entries[id].len + (tb == T_USERS && tg->pseudonym ? 64 : 0);
            }
        if (persona__intern_reserve(to, n, bytes))
            return -1;
        for (size_t id = 0; id < from->count; id++) {
            if (m->to[tb][id] == UNUSED)
                continue;
            if (tb == T_USERS && id == tg->x && tg->pseudonym)
                m->to[tb][id] = persona__intern_add(to, tg->pseudonym, strlen(tg->pseudonym));
            else
                m->to[tb][id] =
                    persona__intern_add(to, from->entries[id].str, from->entries[id].len);
            if (m->to[tb][id] == PERSONA__NO_ID)
                return -1;
        }
    }
    return 0;
}

static void copy_profiles(persona_store *t, const persona_store *s, const remap *m,
                          const target *tg)
{
    for (uint32_t u = 0; u < s->users.count; u++) {
        if (m->to[T_USERS][u] == UNUSED || (u != tg->x && in_target(s, tg, u)))
            continue; /* an anonymized person's other identifiers: folded into x */
        const profile *from = &s->profiles[u];
        profile *p = &t->profiles[m->to[T_USERS][u]];
        persona__profile_init(p);
        p->first_seen = from->first_seen;
        p->last_seen = from->last_seen;
        p->events = from->events;
        p->value_sum = from->value_sum;
        p->value_comp = from->value_comp;
        p->flags = from->flags;
        t->n_untracked += (p->flags & PROFILE_UNTRACKED) != 0;
        p->sessions = from->sessions;
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            p->inline_type[k] = map_id(m, T_TYPES, from->inline_type[k]);
            p->inline_stat[k] = from->inline_stat[k];
            p->n_types += p->inline_type[k] != UNUSED;
        }
    }
}

/* Whether entry e of s wins over entry `had` of t (attributes: the later setting;
 * consent: the later time, then the later setting). */
static int later_setting(const persona_store *t, const persona_store *s, size_t map_offset,
                         uint32_t had, size_t e)
{
    if (map_offset == offsetof(persona_store, user_attr))
        return s->attrs[e].seq > t->attrs[had].seq;
    const consent_value *a = &s->consents[e], *b = &t->consents[had];
    return a->time_ms > b->time_ms || (a->time_ms == b->time_ms && a->seq > b->seq);
}

static int replace_setting(persona_store *t, const persona_store *s, size_t map_offset,
                           uint32_t had, size_t e)
{
    if (map_offset == offsetof(persona_store, user_consent)) {
        t->consents[had] = s->consents[e];
        return 0;
    }
    attr_value *a = &t->attrs[had];
    char *str = NULL;
    if (s->attrs[e].str && (str = persona__strndup(s->attrs[e].str, strlen(s->attrs[e].str))) == NULL)
        return -1;
    persona__free(a->str);
    int was_live = a->type >= 0;
    *a = s->attrs[e];
    a->str = str;
    uint32_t u = PERSONA__PAIR_USER(t->user_attr.keys[had]);
    t->profiles[u].n_attrs += (uint32_t)(a->type >= 0) - (uint32_t)was_live;
    return 0;
}

/* The entries of one pair map that stay, in entry order, with their values. */
static int copy_pairs(persona_store *t, const persona_store *s, const remap *m,
                      const target *tg, size_t map_offset, int x_table, size_t head_offset, void **values,
                      size_t *values_cap, const void *old_values, size_t elem)
{
    const persona__pairmap *from = (const persona__pairmap *)((const char *)s + map_offset);
    persona__pairmap *to = (persona__pairmap *)((char *)t + map_offset);
    if (persona__pairmap_reserve(to, from->count) ||
        (values && persona__grow(values, values_cap, from->count, elem, 16)))
        return -1;
    for (size_t e = 0; e < from->count; e++) {
        if (drops_entry(s, tg, from, e))
            continue;
        uint32_t nu = m->to[T_USERS][PERSONA__PAIR_USER(from->keys[e])];
        uint64_t key = PERSONA__PAIR(nu, map_id(m, x_table, PERSONA__PAIR_X(from->keys[e])));
        uint32_t had = persona__pairmap_find(to, key);
        if (had != UINT32_MAX) { /* two identifiers folded into one: the later setting */
            if (later_setting(t, s, map_offset, had, e) && replace_setting(t, s, map_offset, had, e))
                return -1;
            continue;
        }
        uint32_t *head = (uint32_t *)((char *)&t->profiles[nu] + head_offset);
        uint32_t ne = persona__pairmap_add(to, key, head);
        if (values)
            memcpy((char *)*values + (size_t)ne * elem, (const char *)old_values + e * elem, elem);
        profile *p = &t->profiles[nu];
        if (map_offset == offsetof(persona_store, user_type))
            p->n_types++;
        else if (map_offset == offsetof(persona_store, user_basket))
            p->orders++;
        else if (map_offset == offsetof(persona_store, user_prop))
            t->last_props[ne].value = map_id(m, T_VALUES, t->last_props[ne].value);
        else if (map_offset == offsetof(persona_store, user_attr)) {
            attr_value *a = &t->attrs[ne];
            a->str = NULL; /* not owned yet: a failure below must not free s's string */
            if (a->type >= 0)
                p->n_attrs++;
            const char *str = s->attrs[e].str;
            if (str && (a->str = persona__strndup(str, strlen(str))) == NULL)
                return -1;
        }
    }
    return 0;
}

static int copy_all_pairs(persona_store *t, const persona_store *s, const remap *m,
                          const target *tg)
{
#define PAIRS(map, table, head, arr)                                                        \
    copy_pairs(t, s, m, tg, offsetof(persona_store, map), table, offsetof(profile, head),     \
               (void **)&t->arr, &t->arr##_cap, s->arr, sizeof *s->arr)
    if (PAIRS(user_type, T_TYPES, head_type, type_stats) ||
        copy_pairs(t, s, m, tg, offsetof(persona_store, user_basket), T_BASKETS,
                   offsetof(profile, head_basket), NULL, NULL, NULL, 0) ||
        PAIRS(user_prop, T_NAMES, head_prop, last_props) ||
        PAIRS(user_category, T_VALUES, head_category, engagements) ||
        PAIRS(user_attr, T_NAMES, head_attr, attrs) ||
        PAIRS(user_consent, T_NAMES, head_consent, consents))
        return -1;
#undef PAIRS
    return 0;
}

/* The copied counters of (root, type) in t still name their latest event by its index in
 * s: when event i of s (old root and type) is that latest one, it is event j of t now. */
static void move_latest(persona_store *t, const persona_store *s, uint32_t root, uint32_t type,
                        uint32_t old_root, uint32_t old_type, uint32_t i, uint32_t j)
{
    const type_stat *from = persona__profile_type_stat(s, old_root, old_type);
    type_stat *to = (type_stat *)persona__profile_type_stat(t, root, type);
    if (from && to && from->latest == i)
        to->latest = j;
}

/* The events that stay, in log order, ids renumbered and per-user links rebuilt. */
static int copy_events(persona_store *t, const persona_store *s, const remap *m,
                       const target *tg, uint64_t *removed)
{
    const int erase = !tg->pseudonym; /* the person's events go */
    const persona__eventlog *l = &s->log;
    persona__eventlog *nl = &t->log;
    int col_of[LOG_MAX_PROPS]; /* old property column -> new, -1 dropped */
    log_needs needs = { 0, 0, 0, 0, 0, 0 };
    for (size_t p = 0; p < l->n_props && p < LOG_MAX_PROPS; p++) {
        uint32_t name = map_id(m, T_NAMES, l->prop_names[p]);
        col_of[p] = name == UNUSED ? -1 : persona__eventlog_add_prop_col(nl, name);
        if (col_of[p] >= 0)
            needs.props |= (uint64_t)1 << col_of[p];
    }
    size_t keep = 0;
    for (size_t i = 0; i < l->count; i++) {
        const log_chunk *c = persona__eventlog_chunk(l, i);
        keep += !(erase && in_target(s, tg, c->user[persona__eventlog_slot(i)]));
        needs.value |= c->value != NULL;
        needs.item |= c->item != NULL;
        needs.basket |= c->basket != NULL;
        needs.event_id |= c->event_id != NULL;
    }
    *removed = l->count - keep;
    needs.events = keep;
    if (persona__eventlog_reserve(nl, &needs))
        return -1;
    for (size_t i = 0; i < l->count; i++) {
        const log_chunk *c = persona__eventlog_chunk(l, i);
        size_t k = persona__eventlog_slot(i);
        int theirs = in_target(s, tg, c->user[k]);
        if (theirs && erase)
            continue;
        size_t j = nl->count++;
        log_chunk *d = persona__eventlog_chunk(nl, j);
        size_t dk = persona__eventlog_slot(j);
        uint32_t u = m->to[T_USERS][c->user[k]];
        profile *p = &t->profiles[persona__id_root(t, u)];
        d->time[dk] = c->time[k];
        d->user[dk] = u;
        d->type[dk] = m->to[T_TYPES][c->type[k]];
        d->prev[dk] = p->last_event;
        p->last_event = (uint32_t)j;
        move_latest(t, s, persona__id_root(t, u), d->type[dk], persona__id_root(s, c->user[k]),
                    c->type[k], (uint32_t)i, (uint32_t)j);
        if (d->value)
            d->value[dk] = c->value ? c->value[k] : NAN;
        if (d->item)
            d->item[dk] = c->item ? map_id(m, T_ITEMS, c->item[k]) : LOG_NO_ID;
        if (d->basket)
            d->basket[dk] = c->basket ? map_id(m, T_BASKETS, c->basket[k]) : LOG_NO_ID;
        if (d->event_id)
            d->event_id[dk] = c->event_id && !theirs
                                  ? map_id(m, T_IDS, c->event_id[k])
                                  : LOG_NO_ID;
        for (size_t q = 0; q < l->n_props && q < LOG_MAX_PROPS; q++)
            if (col_of[q] >= 0)
                d->props[col_of[q]][dk] =
                    !c->props[q] || (theirs && spells_identifier(tg, c->props[q][k]))
                        ? LOG_NO_ID
                        : map_id(m, T_VALUES, c->props[q][k]);
        if (j == 0 || c->time[k] < t->first_time_ms)
            t->first_time_ms = c->time[k];
        if (j == 0 || c->time[k] > t->last_time_ms)
            t->last_time_ms = c->time[k];
    }
    return 0;
}

/* The identity graph of what stays: identifier types and roots renumbered, the merge
 * log without the person's links, the guard settings. */
static int copy_identity(persona_store *t, const persona_store *s, const remap *m,
                         const target *tg)
{
    if ((s->ids_len && persona__identity_cover(t, t->users.count)) ||
        persona__grow((void **)&t->merges, &t->merges_cap, s->n_merges, sizeof *t->merges, 16) ||
        (s->n_rules &&
         persona__grow((void **)&t->rules, &t->rules_cap, s->n_rules, sizeof *t->rules, 8)))
        return -1;
    for (uint32_t u = 0; u < s->users.count && s->ids_len; u++) {
        uint32_t nu = m->to[T_USERS][u];
        if (nu == UNUSED || in_target(s, tg, u))
            continue; /* the pseudonym stays alone, a key */
        t->id_root[nu] = m->to[T_USERS][persona__id_root(s, u)];
        t->id_type[nu] = persona__id_type(s, u);
    }
    for (uint32_t u = 0; u < t->ids_len; u++) { /* member lists, as on open */
        uint32_t root = t->id_root[u];
        if (root != u) {
            t->id_next[u] = t->id_next[root];
            t->id_next[root] = u;
        }
    }
    for (size_t i = 0; i < s->n_merges; i++) {
        const merge_entry *me = &s->merges[i];
        if (drops_link(s, tg, me))
            continue;
        merge_entry *ne = &t->merges[t->n_merges++];
        *ne = *me;
        ne->a = me->a == PERSONA__NO_ID ? me->a
                                        : map_id(m, me->flags & MERGE_A_TEXT ? T_SOURCES : T_USERS, me->a);
        ne->b = map_id(m, me->flags & MERGE_B_TEXT ? T_SOURCES : T_USERS, me->b);
        ne->source = map_id(m, T_SOURCES, me->source);
    }
    if (t->n_merges)
        persona__merge_links_rebuild(t);
    if (s->n_rules)
        memcpy(t->rules, s->rules, s->n_rules * sizeof *s->rules);
    t->n_rules = s->n_rules;
    memcpy(t->country, s->country, sizeof t->country);
    t->set_seq = s->set_seq;
    for (size_t i = 0; i < s->n_event_rules; i++) {
        const event_rule *r = &s->event_rules[i];
        if (persona__event_rule_add(t, r->kind, r->id_type, r->event_type, r->prop, r->prop2))
            return -1;
    }
    return 0;
}

/* t = s with user x erased or anonymized; the receipt's counts. */
static int rebuild(persona_store *t, const persona_store *s, const target *tg,
                   persona_erase_receipt *r)
{
    remap m;
    memset(&m, 0, sizeof m);
    int rc = -1;
    for (int tb = 0; tb < T_COUNT; tb++) {
        size_t n = table_of((persona_store *)s, tb)->count;
        m.to[tb] = persona__alloc((n ? n : 1) * sizeof *m.to[tb]);
        if (!m.to[tb])
            goto done;
        memset(m.to[tb], 0xFF, (n ? n : 1) * sizeof *m.to[tb]);
    }
    mark_used(&m, s, tg);
    if (copy_strings(t, s, &m, tg) ||
        persona__grow((void **)&t->profiles, &t->profiles_cap, t->users.count,
                      sizeof *t->profiles, 64))
        goto done;
    if (tg->pseudonym) /* every identifier of the person becomes the pseudonym */
        for (uint32_t u = 0; u < s->users.count; u++)
            if (in_target(s, tg, u))
                m.to[T_USERS][u] = m.to[T_USERS][tg->x];
    copy_profiles(t, s, &m, tg);
    if (copy_identity(t, s, &m, tg))
        goto done;
    if (copy_all_pairs(t, s, &m, tg) || copy_events(t, s, &m, tg, &r->events))
        goto done;
    const profile *p = &s->profiles[tg->x];
    uint32_t u = tg->x;
    do { /* every identifier of the person, with what was set through it */
        const profile *pu = &s->profiles[u];
        r->identifiers++;
        for (uint32_t e = pu->head_attr; e != UINT32_MAX; e = s->user_attr.next[e])
            r->attributes += tg->pseudonym ? s->attrs[e].type == PERSONA_STR
                                           : s->attrs[e].type >= 0;
        for (uint32_t e = pu->head_consent; e != UINT32_MAX; e = s->user_consent.next[e])
            r->consents += !tg->pseudonym;
        u = persona__id_next(s, u);
    } while (u != tg->x);
    if (tg->pseudonym) { /* the events' ids */
        for (uint32_t e = p->last_event; e != LOG_NO_ID; e = persona__eventlog_prev(&s->log, e)) {
            const log_chunk *c = persona__eventlog_chunk(&s->log, e);
            r->identifiers += c->event_id && c->event_id[persona__eventlog_slot(e)] != LOG_NO_ID;
        }
    }
    rc = 0;
done:
    for (int tb = 0; tb < T_COUNT; tb++)
        persona__free(m.to[tb]);
    return rc;
}

PERSONA__DEFINE_INIT(persona_erase_receipt, persona_erase_receipt_init)

/* Erase (pseudonym NULL) or anonymize user in place, all or nothing. */
static int transform(persona_store *store, const char *user, char *pseudonym,
                     persona_erase_receipt *r)
{
    int rc;
    /* Profiles are renumbered: no live-segment callback may be pending meanwhile. */
    pthread_mutex_lock(&store->live_lock);
    STORE_WRLOCK(store);
    target tg = { persona__store_find_user(store, user, &rc), pseudonym, { 0 }, 0 };
    if (rc == PERSONA_OK && pseudonym) {
        uint32_t u = tg.x;
        do { /* identifiers are few; more than fit would still be erased as keys */
            uint32_t v = persona__intern_find(&store->values, persona__intern_str(&store->users, u),
                                              persona__intern_len(&store->users, u));
            if (v != PERSONA__NO_ID && tg.n_id_values < sizeof tg.id_values / sizeof *tg.id_values)
                tg.id_values[tg.n_id_values++] = v;
            u = persona__id_next(store, u);
        } while (u != tg.x);
    }
    if (rc == PERSONA_OK && pseudonym) {
        /* A random key no user has: 64 random bits, drawn again on the (unlikely) clash. */
        do {
            snprintf(pseudonym, PERSONA_ANON_KEY_LEN + 1, "anon-%016llx",
                     (unsigned long long)persona__random_seed());
        } while (persona__intern_find(&store->users, pseudonym, PERSONA_ANON_KEY_LEN) !=
                 PERSONA__NO_ID);
    }
    persona_store t;
    if (rc == PERSONA_OK &&
        persona__store_init_data(&t, store->session_gap_ms, store->half_life_ms, store->key))
        rc = persona__fail_nomem();
    else if (rc == PERSONA_OK && rebuild(&t, store, &tg, r)) {
        persona__store_release(&t);
        rc = persona__fail_nomem();
    } else if (rc == PERSONA_OK) {
        /* Swap everything but the lock, then free the old contents. */
        const size_t from = offsetof(persona_store, session_gap_ms);
        persona_store old;
        memcpy((char *)&old + from, (char *)store + from, sizeof old - from);
        memcpy((char *)store + from, (char *)&t + from, sizeof t - from);
        store->epoch = old.epoch + 1; /* every id changed */
        /* The clock never goes back: keep it when the erased events were the latest. */
        int64_t was = old.log.count ? old.last_time_ms : 0;
        if (old.log.count && (!store->has_tick || was > store->tick_ms) &&
            (!store->log.count || was > store->last_time_ms)) {
            store->tick_ms = was;
            store->has_tick = 1;
        }
        persona__store_release(&old);
    }
    STORE_UNLOCK(store);
    pthread_mutex_unlock(&store->live_lock);
    return rc;
}

PERSONA_API int persona_store_erase(persona_erase_receipt *receipt_out, persona_store *store,
                                    const char *user)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    persona_erase_receipt r;
    memset(&r, 0, sizeof r);
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    int rc = persona__check_key(user, "user");
    /* A receipt the library cannot fill is refused before anything is erased. */
    if (!rc && receipt_out)
        rc = persona__struct_out(receipt_out, &r, sizeof r, sizeof r, "persona_erase_receipt");
    if (!rc)
        rc = transform(store, user, NULL, &r);
    if (rc == PERSONA_OK && receipt_out)
        rc = persona__struct_out(receipt_out, &r, sizeof r, sizeof r, "persona_erase_receipt");
    return rc;
}

PERSONA_API int persona_store_anonymize(char *buf, size_t capacity, size_t *out_len,
                                        persona_erase_receipt *receipt_out,
                                        persona_store *store, const char *user)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    persona_erase_receipt r;
    memset(&r, 0, sizeof r);
    if (out_len)
        *out_len = PERSONA_ANON_KEY_LEN;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    int rc = persona__check_key(user, "user");
    if (!rc && receipt_out)
        rc = persona__struct_out(receipt_out, &r, sizeof r, sizeof r, "persona_erase_receipt");
    if (rc)
        return rc;
    if (buf ? capacity <= PERSONA_ANON_KEY_LEN : capacity != 0)
        return persona__fail(buf ? PERSONA_EBUFS : PERSONA_EINVAL,
                             "the new key needs a buffer of %d bytes", PERSONA_ANON_KEY_LEN + 1);
    char pseudonym[PERSONA_ANON_KEY_LEN + 1];
    rc = transform(store, user, pseudonym, &r);
    if (rc == PERSONA_OK && buf)
        memcpy(buf, pseudonym, PERSONA_ANON_KEY_LEN + 1);
    if (rc == PERSONA_OK && receipt_out)
        rc = persona__struct_out(receipt_out, &r, sizeof r, sizeof r, "persona_erase_receipt");
    return rc;
}
