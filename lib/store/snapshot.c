/* persona_store_save / persona_store_open: the store's sections inside the snapshot
 * container of lib/persist (layout byte by byte in docs/file-format.md).
 *
 * What is written is the primary data only: the strings of every intern table in id
 * order, the counters of every profile, the entries of every pair map in entry order with
 * their values, the columns of the event log. Everything derived (hash tables, the chains
 * of a user's entries, the previous-event links of the log, per-profile counts of types,
 * attributes and orders) is rebuilt on open by inserting the entries again in their
 * original order, which reproduces the same ids and entry indexes. So a damaged file can
 * only put bad values into checked fields, never a dangling link: every id is checked
 * against its table before use, and the counts the rest of the library relies on (events
 * per profile, per-type counts) are checked against the log. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "persist/snapfile.h"
#include "store_internal.h"

enum {
    SEC_META = 1,
    SEC_STRINGS = 16, /* + table index (users, types, items, baskets, names, values, ids) */
    SEC_PROFILES = 32,
    SEC_TYPE_PAIRS,
    SEC_BASKET_PAIRS,
    SEC_PROP_PAIRS,
    SEC_CATEGORY_PAIRS,
    SEC_ATTR_PAIRS,
    SEC_CONSENT_PAIRS,
    SEC_IDENTITY,  /* identifier types and roots, the merge log, guard settings */
    SEC_SET_ORDER, /* sequence numbers of attribute and consent settings */
    SEC_EVENT_RULES, /* event types that link identifiers or set consent */
    SEC_TYPE_LATEST, /* the latest event of each profile's event types */
    SEC_EVENTS = 48,
};

/* The first 7 tables every store file has; sources and blocked values (identity graph)
 * may be absent (files written before the graph existed): empty then. */
#define N_TABLES 9
#define N_REQUIRED_TABLES 7
static const char *const table_names[N_TABLES] = { "users",  "event types", "items",
                                                   "baskets", "names",      "values",
                                                   "event ids", "identity sources",
                                                   "blocked identifiers" };

/* Revision of the store's sections inside the container (META's first field): bumped when
 * a store section changes meaning; a newer one is PERSONA_EVERSION. */
#define STORE_SECTIONS_REVISION 1u

/* Event-log column flags (EVENTS section). */
#define COL_VALUE 1u
#define COL_ITEM 2u
#define COL_BASKET 4u
#define COL_EVENT_ID 8u

/* Values every store keeps within bounds (ingest and the setters check them); a file
 * with others is damaged. */
static int time_ok(int64_t t)
{
    return t >= PERSONA_TIME_MIN && t <= PERSONA_TIME_MAX;
}

static persona__intern *table_of(persona_store *s, int t)
{
    persona__intern *tables[N_TABLES] = { &s->users,     &s->types,   &s->items,
                                          &s->baskets,   &s->names,   &s->values,
                                          &s->event_ids, &s->sources, &s->blocked };
    return tables[t];
}

/* ---- saving ---------------------------------------------------------------------------- */

static void save_meta(persona__snap_writer *w, const persona_store *s)
{
    persona__snap_begin(w, SEC_META, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, STORE_SECTIONS_REVISION);
    persona__snap_put_u32(w, 0); /* flags */
    persona__snap_put_i64(w, s->session_gap_ms);
    persona__snap_put_i64(w, s->half_life_ms);
    persona__snap_end(w);
}

static void save_strings(persona__snap_writer *w, const persona__intern *t, int index)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < t->count; i++)
        bytes += t->entries[i].len;
    persona__snap_begin(w, SEC_STRINGS + (uint32_t)index, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, t->count);
    persona__snap_put_u64(w, bytes);
    for (size_t i = 0; i < t->count; i++) {
        persona__snap_put_u32(w, t->entries[i].len);
        persona__snap_put(w, t->entries[i].str, t->entries[i].len);
    }
    persona__snap_end(w);
}

static void save_profiles(persona__snap_writer *w, const persona_store *s)
{
    persona__snap_begin(w, SEC_PROFILES, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, s->users.count);
    for (size_t u = 0; u < s->users.count; u++) {
        const profile *p = &s->profiles[u];
        persona__snap_put_i64(w, p->first_seen);
        persona__snap_put_i64(w, p->last_seen);
        persona__snap_put_u64(w, p->events);
        persona__snap_put_f64(w, p->value_sum);
        persona__snap_put_f64(w, p->value_comp);
        persona__snap_put_u32(w, p->flags);
        persona__snap_put_u32(w, p->sessions);
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            persona__snap_put_u32(w, p->inline_type[k]);
            persona__snap_put_u64(w, p->inline_stat[k].count);
            persona__snap_put_f64(w, p->inline_stat[k].value);
            persona__snap_put_f64(w, p->inline_stat[k].comp);
        }
    }
    persona__snap_end(w);
}

/* Entries of a pair map in entry order: (user, x) and then what put_value writes. */
static void save_pairs(persona__snap_writer *w, uint32_t id, const persona__pairmap *m,
                       const persona_store *s,
                       void (*put_value)(persona__snap_writer *, const persona_store *, size_t))
{
    uint64_t live = 0;
    for (size_t e = 0; e < m->count; e++)
        live += !persona__pair_dead(m, e);
    persona__snap_begin(w, id, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, live); /* entries of recomputed profiles are left out */
    for (size_t e = 0; e < m->count; e++) {
        if (persona__pair_dead(m, e))
            continue;
        persona__snap_put_u32(w, PERSONA__PAIR_USER(m->keys[e]));
        persona__snap_put_u32(w, PERSONA__PAIR_X(m->keys[e]));
        if (put_value)
            put_value(w, s, e);
    }
    persona__snap_end(w);
}

static void put_type_stat(persona__snap_writer *w, const persona_store *s, size_t e)
{
    persona__snap_put_u64(w, s->type_stats[e].count);
    persona__snap_put_f64(w, s->type_stats[e].value);
    persona__snap_put_f64(w, s->type_stats[e].comp);
}

static void put_last_prop(persona__snap_writer *w, const persona_store *s, size_t e)
{
    persona__snap_put_i64(w, s->last_props[e].time_ms);
    persona__snap_put_u32(w, s->last_props[e].value);
}

static void put_engagement(persona__snap_writer *w, const persona_store *s, size_t e)
{
    persona__snap_put_f64(w, s->engagements[e].score);
    persona__snap_put_i64(w, s->engagements[e].ref_ms);
}

static void put_attr(persona__snap_writer *w, const persona_store *s, size_t e)
{
    const attr_value *a = &s->attrs[e];
    uint32_t len = a->type == PERSONA_STR && a->str ? (uint32_t)strlen(a->str) : 0;
    persona__snap_put_i32(w, a->type);
    persona__snap_put_i32(w, a->boolean);
    persona__snap_put_f64(w, a->num);
    persona__snap_put_i64(w, a->time_ms);
    persona__snap_put_u32(w, len);
    persona__snap_put(w, a->str, len);
}

static void put_consent(persona__snap_writer *w, const persona_store *s, size_t e)
{
    persona__snap_put_i32(w, s->consents[e].granted);
    persona__snap_put_i64(w, s->consents[e].time_ms);
}

static void save_identity(persona__snap_writer *w, const persona_store *s)
{
    persona__snap_begin(w, SEC_IDENTITY, PERSONA__SNAP_REQUIRED);
    persona__snap_put(w, s->country, sizeof s->country);
    persona__snap_put_u32(w, (uint32_t)s->n_rules);
    for (size_t i = 0; i < s->n_rules; i++) {
        const id_rule *r = &s->rules[i];
        persona__snap_put_i32(w, r->type);
        persona__snap_put_u32(w, r->limit);
        persona__snap_put_i32(w, r->priority);
        persona__snap_put_u32(w, r->has_limit | r->has_priority << 1);
    }
    persona__snap_put_u64(w, s->ids_len);
    for (size_t i = 0; i < s->ids_len; i++) {
        persona__snap_put_u32(w, s->id_root[i]);
        persona__snap_put_i32(w, s->id_type[i]);
    }
    persona__snap_put_u64(w, s->n_merges);
    for (size_t i = 0; i < s->n_merges; i++) {
        const merge_entry *m = &s->merges[i];
        persona__snap_put_i64(w, m->time_ms);
        persona__snap_put_u32(w, m->a);
        persona__snap_put_u32(w, m->b);
        persona__snap_put_i32(w, m->a_type);
        persona__snap_put_i32(w, m->b_type);
        persona__snap_put_u32(w, m->source);
        persona__snap_put_i32(w, m->outcome);
        persona__snap_put_i32(w, m->limit_type);
        persona__snap_put_u32(w, m->flags);
    }
    persona__snap_end(w);
}

static void put_string(persona__snap_writer *w, const char *v)
{
    uint32_t len = v ? (uint32_t)strlen(v) : 0;
    persona__snap_put_u32(w, len);
    persona__snap_put(w, v, len);
}

/* Written only when there are rules (files without them read as none). */
static void save_event_rules(persona__snap_writer *w, const persona_store *s)
{
    if (!s->n_event_rules)
        return;
    persona__snap_begin(w, SEC_EVENT_RULES, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, (uint32_t)s->n_event_rules);
    for (size_t i = 0; i < s->n_event_rules; i++) {
        const event_rule *r = &s->event_rules[i];
        persona__snap_put_i32(w, r->kind);
        persona__snap_put_i32(w, r->id_type);
        put_string(w, r->event_type);
        put_string(w, r->prop);
        put_string(w, r->prop2);
    }
    persona__snap_end(w);
}

static void save_set_order(persona__snap_writer *w, const persona_store *s)
{
    persona__snap_begin(w, SEC_SET_ORDER, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, s->set_seq);
    persona__snap_put_u64(w, s->user_attr.count);
    for (size_t e = 0; e < s->user_attr.count; e++)
        persona__snap_put_u64(w, s->attrs[e].seq);
    persona__snap_put_u64(w, s->user_consent.count);
    for (size_t e = 0; e < s->user_consent.count; e++)
        persona__snap_put_u64(w, s->consents[e].seq);
    persona__snap_end(w);
}

/* The latest event (log index) of every type counter: the inline ones per user (NONE for
 * an unused slot), then the entries of section 33 in its order. */
static void save_type_latest(persona__snap_writer *w, const persona_store *s)
{
    persona__snap_begin(w, SEC_TYPE_LATEST, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, s->users.count);
    for (size_t u = 0; u < s->users.count; u++)
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            const profile *p = &s->profiles[u];
            persona__snap_put_u32(w, p->inline_type[k] != UINT32_MAX ? p->inline_stat[k].latest : LOG_NO_ID);
        }
    uint64_t live = 0;
    for (size_t e = 0; e < s->user_type.count; e++)
        live += !persona__pair_dead(&s->user_type, e);
    persona__snap_put_u64(w, live);
    for (size_t e = 0; e < s->user_type.count; e++)
        if (!persona__pair_dead(&s->user_type, e))
            persona__snap_put_u32(w, s->type_stats[e].latest);
    persona__snap_end(w);
}

/* A column of a chunk, or n absent values when the chunk does not have it. */
static void put_ids(persona__snap_writer *w, const uint32_t *ids, size_t n)
{
    if (ids) {
        persona__snap_put_u32s(w, ids, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        persona__snap_put_u32(w, LOG_NO_ID);
}

static void put_values(persona__snap_writer *w, const double *values, size_t n)
{
    if (values) {
        persona__snap_put_f64s(w, values, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        persona__snap_put_f64(w, NAN);
}

/* The log column by column; each column chunk by chunk (a chunk holds LOG_CHUNK events
 * except the last). Optional columns are written when some chunk has them. */
static void save_events(persona__snap_writer *w, const persona_store *s)
{
    const persona__eventlog *l = &s->log;
    const size_t n_props = l->n_props < LOG_MAX_PROPS ? l->n_props : LOG_MAX_PROPS;
    uint32_t cols = 0;
    uint64_t props = 0;
    for (size_t k = 0; k < l->n_chunks; k++) {
        const log_chunk *c = l->chunks[k];
        cols |= (c->value ? COL_VALUE : 0) | (c->item ? COL_ITEM : 0) |
                (c->basket ? COL_BASKET : 0) | (c->event_id ? COL_EVENT_ID : 0);
        for (size_t p = 0; p < n_props; p++)
            props |= (uint64_t)(c->props[p] != NULL) << p;
    }
    persona__snap_begin(w, SEC_EVENTS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, l->count);
    persona__snap_put_u32(w, cols);
    persona__snap_put_u32(w, (uint32_t)n_props);
    persona__snap_put_u64(w, props);
    persona__snap_put_u32s(w, l->prop_names, n_props);
    /* Columns 0-2 always, 3-6 when some chunk has them, then the property columns. */
    size_t n_chunks = (l->count + LOG_CHUNK - 1) >> LOG_CHUNK_BITS;
    for (int k = 0; k < 7; k++) {
        if ((k == 3 && !(cols & COL_VALUE)) || (k == 4 && !(cols & COL_ITEM)) ||
            (k == 5 && !(cols & COL_BASKET)) || (k == 6 && !(cols & COL_EVENT_ID)))
            continue;
        for (size_t i = 0; i < n_chunks; i++) {
            const log_chunk *c = l->chunks[i];
            size_t n = i + 1 < n_chunks ? LOG_CHUNK : l->count - i * LOG_CHUNK;
            if (k == 0)
                persona__snap_put_i64s(w, c->time, n);
            else if (k == 3)
                put_values(w, c->value, n);
            else
                put_ids(w, k == 1   ? c->user
                           : k == 2 ? c->type
                           : k == 4 ? c->item
                           : k == 5 ? c->basket
                                    : c->event_id,
                        n);
        }
    }
    for (size_t p = 0; p < n_props; p++) {
        if (!(props >> p & 1))
            continue;
        for (size_t i = 0; i < n_chunks; i++) {
            size_t n = i + 1 < n_chunks ? LOG_CHUNK : l->count - i * LOG_CHUNK;
            put_ids(w, l->chunks[i]->props[p], n);
        }
    }
    persona__snap_end(w);
}

PERSONA_API int persona_store_save(const persona_store *store, const char *path)
{
    if (!store || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "path" : "store");
    persona_store *s = (persona_store *)store;
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_STORE);
    if (rc)
        return rc;
    STORE_RDLOCK(s);
    save_meta(w, s);
    for (int t = 0; t < N_TABLES; t++)
        save_strings(w, table_of(s, t), t);
    save_profiles(w, s);
    save_pairs(w, SEC_TYPE_PAIRS, &s->user_type, s, put_type_stat);
    save_pairs(w, SEC_BASKET_PAIRS, &s->user_basket, s, NULL);
    save_pairs(w, SEC_PROP_PAIRS, &s->user_prop, s, put_last_prop);
    save_pairs(w, SEC_CATEGORY_PAIRS, &s->user_category, s, put_engagement);
    save_pairs(w, SEC_ATTR_PAIRS, &s->user_attr, s, put_attr);
    save_pairs(w, SEC_CONSENT_PAIRS, &s->user_consent, s, put_consent);
    save_identity(w, s);
    save_set_order(w, s);
    save_event_rules(w, s);
    save_type_latest(w, s);
    save_events(w, s);
    STORE_UNLOCK(s);
    return persona__snap_commit(w);
}

/* ---- opening --------------------------------------------------------------------------- */

typedef struct loader {
    persona__snap_reader *r;
    persona_store *s;
    const char *path;
} loader;

/* Position at a section every store file has. */
static int need_section(loader *ld, uint32_t id, const char *name)
{
    uint64_t len = 0;
    int rc = persona__snap_section(ld->r, id, name, &len);
    if (rc == 0)
        return persona__fail(PERSONA_ECORRUPT, "%s: the %s section is missing", ld->path, name);
    return rc < 0 ? rc : PERSONA_OK;
}

static int load_meta(loader *ld, persona_store **out)
{
    uint32_t revision = 0, flags = 0;
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    int rc = need_section(ld, SEC_META, "meta");
    if (!rc)
        rc = persona__snap_get_u32(ld->r, &revision);
    if (!rc)
        rc = persona__snap_get_u32(ld->r, &flags);
    if (!rc)
        rc = persona__snap_get_i64(ld->r, &o.session_gap_ms);
    if (!rc)
        rc = persona__snap_get_i64(ld->r, &o.decay_half_life_ms);
    if (!rc && revision > STORE_SECTIONS_REVISION)
        return persona__fail(PERSONA_EVERSION,
                             "%s: store sections of revision %u, this library reads up to %u",
                             ld->path, revision, STORE_SECTIONS_REVISION);
    if (!rc && (revision == 0 || flags != 0 || o.session_gap_ms <= 0 ||
                o.decay_half_life_ms <= 0))
        rc = persona__snap_corrupt(ld->r, "bad revision, flags, session gap or half-life");
    if (!rc)
        rc = persona__snap_section_end(ld->r);
    if (!rc)
        rc = persona_store_new(out, &o);
    return rc;
}

static int load_strings(loader *ld, int t)
{
    persona__intern *tab = table_of(ld->s, t);
    persona__snap_reader *r = ld->r;
    uint64_t count = 0, bytes = 0, sum = 0;
    int rc;
    if (t >= N_REQUIRED_TABLES) {
        uint64_t len = 0;
        rc = persona__snap_section(ld->r, SEC_STRINGS + (uint32_t)t, table_names[t], &len);
        if (rc <= 0)
            return rc; /* absent: empty */
        rc = PERSONA_OK;
    } else {
        rc = need_section(ld, SEC_STRINGS + (uint32_t)t, table_names[t]);
    }
    if (!rc)
        rc = persona__snap_get_u64(r, &count);
    if (!rc)
        rc = persona__snap_get_u64(r, &bytes);
    if (!rc)
        rc = persona__snap_need(r, count, sizeof(uint32_t), "strings");
    if (!rc)
        rc = persona__snap_need(r, bytes, 1, "string bytes");
    if (rc)
        return rc;
    if (count >= UINT32_MAX)
        return persona__snap_corrupt(r, "%llu strings", (unsigned long long)count);
    if (persona__intern_reserve(tab, (size_t)count, (size_t)bytes))
        return persona__fail_nomem();
    char buf[PERSONA_MAX_KEY_LEN + 1];
    /* Property values may be empty, and so may a blocked identifier in the merge log ("");
     * every key and name is not (persona__check_key). */
    const int may_be_empty = tab == &ld->s->values || tab == &ld->s->sources;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t len = 0;
        rc = persona__snap_get_u32(r, &len);
        if (!rc && (len > PERSONA_MAX_KEY_LEN || (len == 0 && !may_be_empty)))
            rc = persona__snap_corrupt(r, "string %llu has length %u", (unsigned long long)i, len);
        if (!rc)
            rc = persona__snap_read(r, buf, len);
        if (rc)
            return rc;
        sum += len;
        if (memchr(buf, 0, len) || !persona__utf8_valid(buf, len, NULL))
            return persona__snap_corrupt(r, "string %llu is not valid UTF-8",
                                         (unsigned long long)i);
        buf[len] = '\0';
        uint32_t id = persona__intern_add(tab, buf, len);
        if (id == PERSONA__NO_ID)
            return persona__fail_nomem();
        if (id != i)
            return persona__snap_corrupt(r, "string %llu repeats string %u",
                                         (unsigned long long)i, id);
    }
    if (sum != bytes)
        return persona__snap_corrupt(r, "strings of %llu bytes, header says %llu",
                                     (unsigned long long)sum, (unsigned long long)bytes);
    return persona__snap_section_end(r);
}

/* A type counter's count, written as u64; the log holds fewer than 2^32 events. */
static int get_count(persona__snap_reader *r, uint32_t *out)
{
    uint64_t n = 0;
    int rc = persona__snap_get_u64(r, &n);
    if (!rc && n >= UINT32_MAX)
        rc = persona__snap_corrupt(r, "a type count of %llu events", (unsigned long long)n);
    *out = (uint32_t)n;
    return rc;
}

#define PROFILE_RECORD (8 * 5 + 4 * 2 + PROFILE_INLINE_TYPES * (4 + 8 * 3))

static int load_profiles(loader *ld)
{
    persona_store *s = ld->s;
    persona__snap_reader *r = ld->r;
    uint64_t count = 0;
    int rc = need_section(ld, SEC_PROFILES, "profiles");
    if (!rc)
        rc = persona__snap_get_u64(r, &count);
    if (!rc && count != s->users.count)
        rc = persona__snap_corrupt(r, "%llu profiles for %zu users", (unsigned long long)count,
                                   s->users.count);
    if (!rc)
        rc = persona__snap_need(r, count, PROFILE_RECORD, "profiles");
    if (rc)
        return rc;
    if (persona__grow((void **)&s->profiles, &s->profiles_cap, (size_t)count, sizeof *s->profiles,
                      64))
        return persona__fail_nomem();
    for (size_t u = 0; u < count; u++) {
        profile *p = &s->profiles[u];
        persona__profile_init(p);
        persona__snap_get_i64(r, &p->first_seen);
        persona__snap_get_i64(r, &p->last_seen);
        persona__snap_get_u64(r, &p->events);
        persona__snap_get_f64(r, &p->value_sum);
        persona__snap_get_f64(r, &p->value_comp);
        persona__snap_get_u32(r, &p->flags);
        persona__snap_get_u32(r, &p->sessions);
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            persona__snap_get_u32(r, &p->inline_type[k]);
            get_count(r, &p->inline_stat[k].count);
            persona__snap_get_f64(r, &p->inline_stat[k].value);
            rc = persona__snap_get_f64(r, &p->inline_stat[k].comp);
        }
        if (rc) /* errors are sticky: the last read reports any of them */
            return rc;
        int inline_used = 0;
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
            inline_used |= p->inline_type[k] != UINT32_MAX;
        if (p->flags & ~PROFILE_FLAGS ||
            (persona__id_root(s, (uint32_t)u) != u && (p->flags || inline_used || p->events)))
            return persona__snap_corrupt(r, "profile %zu has flags %#x", u, p->flags);
        s->n_untracked += (p->flags & PROFILE_UNTRACKED) != 0;
        /* Sums may be infinite (values near DBL_MAX overflow, as in any SQL engine). */
        if (!time_ok(p->first_seen) || !time_ok(p->last_seen))
            return persona__snap_corrupt(r, "profile %zu has a time out of range", u);
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            uint32_t t = p->inline_type[k];
            if (t == UINT32_MAX)
                continue;
            if (t >= s->types.count)
                return persona__snap_corrupt(r, "profile %zu has event type %u", u, t);
            for (int j = 0; j < k; j++)
                if (p->inline_type[j] == t)
                    return persona__snap_corrupt(r, "profile %zu has type %u twice", u, t);
            p->n_types++;
        }
    }
    return persona__snap_section_end(r);
}

/* Read the value of entry e (already added for user u, second id x). */
typedef int (*read_value_fn)(loader *ld, size_t e, uint32_t u, uint32_t x);

static int load_pairs(loader *ld, uint32_t id, const char *name, persona__pairmap *m,
                      void **values, size_t *values_cap, size_t elem, size_t record,
                      const persona__intern *x_table, size_t head_offset, read_value_fn read)
{
    persona_store *s = ld->s;
    persona__snap_reader *r = ld->r;
    uint64_t count = 0;
    int rc = need_section(ld, id, name);
    if (!rc)
        rc = persona__snap_get_u64(r, &count);
    if (!rc)
        rc = persona__snap_need(r, count, 8 + record, name);
    if (rc)
        return rc;
    if (count >= UINT32_MAX)
        return persona__snap_corrupt(r, "%llu entries", (unsigned long long)count);
    if (persona__pairmap_reserve(m, (size_t)count) ||
        (values && persona__grow(values, values_cap, (size_t)count, elem, 16)))
        return persona__fail_nomem();
    for (size_t e = 0; e < count; e++) {
        uint32_t u = 0, x = 0;
        persona__snap_get_u32(r, &u);
        rc = persona__snap_get_u32(r, &x);
        if (rc)
            return rc;
        if (u >= s->users.count || x >= x_table->count)
            return persona__snap_corrupt(r, "entry %zu names user %u and id %u", e, u, x);
        if (persona__id_root(s, u) != u && head_offset != offsetof(profile, head_attr) &&
            head_offset != offsetof(profile, head_consent))
            return persona__snap_corrupt(r, "entry %zu: user %u is not a profile", e, u);
        uint64_t key = PERSONA__PAIR(u, x);
        if (persona__pairmap_find(m, key) != UINT32_MAX)
            return persona__snap_corrupt(r, "entry %zu repeats user %u and id %u", e, u, x);
        uint32_t *head = (uint32_t *)((char *)&s->profiles[u] + head_offset);
        persona__pairmap_add(m, key, head);
        rc = read(ld, e, u, x);
        if (rc)
            return rc;
    }
    return persona__snap_section_end(r);
}

static int read_type_stat(loader *ld, size_t e, uint32_t u, uint32_t x)
{
    profile *p = &ld->s->profiles[u];
    for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
        if (p->inline_type[k] == x)
            return persona__snap_corrupt(ld->r, "type %u of user %u is counted twice", x, u);
    type_stat *ts = &ld->s->type_stats[e];
    get_count(ld->r, &ts->count);
    persona__snap_get_f64(ld->r, &ts->value);
    p->n_types++;
    return persona__snap_get_f64(ld->r, &ts->comp);
}

static int read_basket(loader *ld, size_t e, uint32_t u, uint32_t x)
{
    (void)e;
    (void)x;
    ld->s->profiles[u].orders++;
    return PERSONA_OK;
}

static int read_last_prop(loader *ld, size_t e, uint32_t u, uint32_t x)
{
    last_prop *lp = &ld->s->last_props[e];
    persona__snap_get_i64(ld->r, &lp->time_ms);
    int rc = persona__snap_get_u32(ld->r, &lp->value);
    if (!rc && (x == ld->s->category_name || lp->value >= ld->s->values.count ||
                !time_ok(lp->time_ms)))
        rc = persona__snap_corrupt(ld->r, "property %u of user %u has value %u", x, u,
                                   lp->value);
    return rc;
}

static int read_engagement(loader *ld, size_t e, uint32_t u, uint32_t x)
{
    (void)u;
    (void)x;
    engagement *g = &ld->s->engagements[e];
    persona__snap_get_f64(ld->r, &g->score);
    int rc = persona__snap_get_i64(ld->r, &g->ref_ms);
    if (!rc && !(isfinite(g->score) && g->score >= 0 && time_ok(g->ref_ms)))
        rc = persona__snap_corrupt(ld->r, "engagement %u of user %u is out of range", x, u);
    return rc;
}

static int read_attr(loader *ld, size_t e, uint32_t u, uint32_t x)
{
    persona__snap_reader *r = ld->r;
    attr_value *a = &ld->s->attrs[e];
    memset(a, 0, sizeof *a); /* owns no string until the end: safe to free on any failure */
    uint32_t len = 0;
    persona__snap_get_i32(r, &a->type);
    persona__snap_get_i32(r, &a->boolean);
    persona__snap_get_f64(r, &a->num);
    persona__snap_get_i64(r, &a->time_ms);
    int rc = persona__snap_get_u32(r, &len);
    if (rc)
        return rc;
    if (a->type < -1 || a->type > PERSONA_TIME || (a->type != PERSONA_STR && len != 0) ||
        len > PERSONA_MAX_KEY_LEN || (a->type == PERSONA_NUM && !isfinite(a->num)) ||
        (a->type == PERSONA_TIME && !time_ok(a->time_ms)) ||
        (a->type == PERSONA_BOOL && a->boolean != 0 && a->boolean != 1))
        return persona__snap_corrupt(r, "attribute %u of user %u: type %d, %u bytes", x, u,
                                     a->type, len);
    char buf[PERSONA_MAX_KEY_LEN + 1];
    rc = persona__snap_read(r, buf, len);
    if (rc)
        return rc;
    if (memchr(buf, 0, len) || !persona__utf8_valid(buf, len, NULL))
        return persona__snap_corrupt(r, "attribute %u of user %u is not valid UTF-8", x, u);
    if (a->type == PERSONA_STR && (a->str = persona__strndup(buf, len)) == NULL)
        return persona__fail_nomem();
    if (a->type >= 0)
        ld->s->profiles[u].n_attrs++;
    return PERSONA_OK;
}

static int read_consent(loader *ld, size_t e, uint32_t u, uint32_t x)
{
    consent_value *c = &ld->s->consents[e];
    persona__snap_get_i32(ld->r, &c->granted);
    int rc = persona__snap_get_i64(ld->r, &c->time_ms);
    if (!rc && ((c->granted != 0 && c->granted != 1) || !time_ok(c->time_ms)))
        rc = persona__snap_corrupt(ld->r, "consent %u of user %u is %d", x, u, c->granted);
    return rc;
}

static int load_all_pairs(loader *ld)
{
    persona_store *s = ld->s;
    int rc = load_pairs(ld, SEC_TYPE_PAIRS, "type counters", &s->user_type,
                        (void **)&s->type_stats, &s->type_stats_cap, sizeof *s->type_stats, 24,
                        &s->types, offsetof(profile, head_type), read_type_stat);
    if (!rc)
        rc = load_pairs(ld, SEC_BASKET_PAIRS, "orders", &s->user_basket, NULL, NULL, 0, 0,
                        &s->baskets, offsetof(profile, head_basket), read_basket);
    if (!rc)
        rc = load_pairs(ld, SEC_PROP_PAIRS, "last properties", &s->user_prop,
                        (void **)&s->last_props, &s->last_props_cap, sizeof *s->last_props, 12,
                        &s->names, offsetof(profile, head_prop), read_last_prop);
    if (!rc)
        rc = load_pairs(ld, SEC_CATEGORY_PAIRS, "category engagement", &s->user_category,
                        (void **)&s->engagements, &s->engagements_cap, sizeof *s->engagements,
                        16, &s->values, offsetof(profile, head_category), read_engagement);
    if (!rc)
        rc = load_pairs(ld, SEC_ATTR_PAIRS, "attributes", &s->user_attr, (void **)&s->attrs,
                        &s->attrs_cap, sizeof *s->attrs, 28, &s->names,
                        offsetof(profile, head_attr), read_attr);
    if (!rc)
        rc = load_pairs(ld, SEC_CONSENT_PAIRS, "consent", &s->user_consent,
                        (void **)&s->consents, &s->consents_cap, sizeof *s->consents, 12,
                        &s->names, offsetof(profile, head_consent), read_consent);
    return rc;
}

/* Identifier types and roots (members' lists rebuilt), merge log, guard settings. Absent
 * in files written before the identity graph: every user alone, defaults. */
static int load_identity(loader *ld)
{
    persona_store *s = ld->s;
    persona__snap_reader *r = ld->r;
    uint64_t len = 0, n_ids = 0, n_merges = 0;
    uint32_t n_rules = 0;
    int rc = persona__snap_section(r, SEC_IDENTITY, "identity", &len);
    if (rc <= 0)
        return rc;
    rc = persona__snap_read(r, s->country, sizeof s->country);
    if (!rc)
        rc = persona__snap_get_u32(r, &n_rules);
    if (!rc)
        rc = persona__snap_need(r, n_rules, 16, "identity rules");
    if (rc)
        return rc;
    size_t digits = 0; /* up to 3 digits, then NULs */
    while (digits < 3 && s->country[digits] >= '0' && s->country[digits] <= '9')
        digits++;
    for (size_t i = digits; i < sizeof s->country; i++)
        if (s->country[i])
            return persona__snap_corrupt(r, "bad country calling code");
    if (persona__grow((void **)&s->rules, &s->rules_cap, n_rules, sizeof *s->rules, 8))
        return persona__fail_nomem();
    for (uint32_t i = 0; i < n_rules; i++) {
        id_rule *rule = &s->rules[i];
        uint32_t has = 0;
        persona__snap_get_i32(r, &rule->type);
        persona__snap_get_u32(r, &rule->limit);
        persona__snap_get_i32(r, &rule->priority);
        rc = persona__snap_get_u32(r, &has);
        if (rc)
            return rc;
        rule->has_limit = has & 1;
        rule->has_priority = has >> 1 & 1;
        int dup = 0;
        for (uint32_t j = 0; j < i; j++)
            dup |= s->rules[j].type == rule->type;
        if (rule->type < 0 || has > 3 || dup)
            return persona__snap_corrupt(r, "identity rule %u: type %d", i, rule->type);
        s->n_rules++;
    }
    rc = persona__snap_get_u64(r, &n_ids);
    if (!rc && n_ids > s->users.count)
        rc = persona__snap_corrupt(r, "%llu identifiers for %zu users",
                                   (unsigned long long)n_ids, s->users.count);
    if (!rc)
        rc = persona__snap_need(r, n_ids, 8, "identifiers");
    if (rc)
        return rc;
    if (persona__identity_cover(s, (size_t)n_ids))
        return persona__fail_nomem();
    for (size_t i = 0; i < n_ids; i++) {
        persona__snap_get_u32(r, &s->id_root[i]);
        rc = persona__snap_get_i32(r, &s->id_type[i]);
        if (rc)
            return rc;
        if (s->id_type[i] < 0 || s->id_root[i] >= n_ids)
            return persona__snap_corrupt(r, "identifier %zu: type %d, root %u", i,
                                         s->id_type[i], s->id_root[i]);
    }
    /* Roots point at themselves; every member's list is rebuilt in id order. */
    for (size_t i = 0; i < n_ids; i++) {
        uint32_t root = s->id_root[i];
        if (s->id_root[root] != root)
            return persona__snap_corrupt(r, "identifier %zu: root %u is no root", i, root);
        if (root != i) {
            s->id_next[i] = s->id_next[root];
            s->id_next[root] = (uint32_t)i;
        }
    }
    rc = persona__snap_get_u64(r, &n_merges);
    if (!rc)
        rc = persona__snap_need(r, n_merges, 40, "merge log");
    if (rc)
        return rc;
    if (persona__grow((void **)&s->merges, &s->merges_cap, (size_t)n_merges, sizeof *s->merges,
                      16))
        return persona__fail_nomem();
    for (size_t i = 0; i < n_merges; i++) {
        merge_entry *m = &s->merges[i];
        persona__snap_get_i64(r, &m->time_ms);
        persona__snap_get_u32(r, &m->a);
        persona__snap_get_u32(r, &m->b);
        persona__snap_get_i32(r, &m->a_type);
        persona__snap_get_i32(r, &m->b_type);
        persona__snap_get_u32(r, &m->source);
        persona__snap_get_i32(r, &m->outcome);
        persona__snap_get_i32(r, &m->limit_type);
        rc = persona__snap_get_u32(r, &m->flags);
        if (rc)
            return rc;
        size_t a_max = m->flags & MERGE_A_TEXT ? s->sources.count : s->ids_len;
        size_t b_max = m->flags & MERGE_B_TEXT ? s->sources.count : s->ids_len;
        if (!time_ok(m->time_ms) || (m->a >= a_max && m->a != PERSONA__NO_ID) ||
            m->b >= b_max || (m->source >= s->sources.count && m->source != PERSONA__NO_ID) ||
            m->outcome < 1 || m->outcome > 5 || (m->flags & ~MERGE_FLAGS) || m->a_type < 0 ||
            m->b_type < 0 || m->limit_type < 0)
            return persona__snap_corrupt(r, "merge log entry %zu is out of range", i);
        s->n_merges++;
    }
    persona__merge_links_rebuild(s);
    return persona__snap_section_end(r);
}

static int load_set_order(loader *ld)
{
    persona_store *s = ld->s;
    persona__snap_reader *r = ld->r;
    uint64_t len = 0, n = 0;
    int rc = persona__snap_section(r, SEC_SET_ORDER, "setting order", &len);
    if (rc == 0) { /* older file: the entry order */
        for (size_t e = 0; e < s->user_attr.count; e++)
            s->attrs[e].seq = ++s->set_seq;
        for (size_t e = 0; e < s->user_consent.count; e++)
            s->consents[e].seq = ++s->set_seq;
        return PERSONA_OK;
    }
    if (rc < 0)
        return rc;
    rc = persona__snap_get_u64(r, &s->set_seq);
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    if (!rc && n != s->user_attr.count)
        rc = persona__snap_corrupt(r, "%llu attribute settings for %zu attributes",
                                   (unsigned long long)n, s->user_attr.count);
    for (size_t e = 0; e < s->user_attr.count && !rc; e++) {
        rc = persona__snap_get_u64(r, &s->attrs[e].seq);
        if (!rc && s->attrs[e].seq > s->set_seq)
            rc = persona__snap_corrupt(r, "attribute %zu set after the last setting", e);
    }
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    if (!rc && n != s->user_consent.count)
        rc = persona__snap_corrupt(r, "%llu consent settings for %zu consents",
                                   (unsigned long long)n, s->user_consent.count);
    for (size_t e = 0; e < s->user_consent.count && !rc; e++) {
        rc = persona__snap_get_u64(r, &s->consents[e].seq);
        if (!rc && s->consents[e].seq > s->set_seq)
            rc = persona__snap_corrupt(r, "consent %zu set after the last setting", e);
    }
    if (rc)
        return rc;
    return persona__snap_section_end(r);
}

/* A string of an event rule (non-empty key; the third may be empty = none) into buf. */
static int get_rule_string(loader *ld, char *buf, int may_be_empty)
{
    uint32_t len = 0;
    int rc = persona__snap_get_u32(ld->r, &len);
    if (!rc && (len > PERSONA_MAX_KEY_LEN || (len == 0 && !may_be_empty)))
        rc = persona__snap_corrupt(ld->r, "event rule string of %u bytes", len);
    if (!rc)
        rc = persona__snap_read(ld->r, buf, len);
    if (rc)
        return rc;
    buf[len] = '\0';
    if (memchr(buf, 0, len) || !persona__utf8_valid(buf, len, NULL))
        return persona__snap_corrupt(ld->r, "event rule string is not valid UTF-8");
    return PERSONA_OK;
}

static int load_event_rules(loader *ld)
{
    persona__snap_reader *r = ld->r;
    uint64_t len = 0;
    uint32_t n = 0;
    int rc = persona__snap_section(r, SEC_EVENT_RULES, "event rules", &len);
    if (rc <= 0)
        return rc;
    rc = persona__snap_get_u32(r, &n);
    if (!rc)
        rc = persona__snap_need(r, n, 20, "event rules");
    char *bufs = persona__alloc(3 * (PERSONA_MAX_KEY_LEN + 1));
    if (!rc && !bufs)
        rc = persona__fail_nomem();
    for (uint32_t i = 0; i < n && !rc; i++) {
        int32_t kind = 0, id_type = 0;
        char *type = bufs, *prop = bufs + PERSONA_MAX_KEY_LEN + 1,
             *prop2 = bufs + 2 * (PERSONA_MAX_KEY_LEN + 1);
        persona__snap_get_i32(r, &kind);
        rc = persona__snap_get_i32(r, &id_type);
        if (!rc && ((kind != RULE_IDENTIFY && kind != RULE_CONSENT) || id_type < 0))
            rc = persona__snap_corrupt(r, "event rule %u: kind %d, type %d", i, kind, id_type);
        if (!rc)
            rc = get_rule_string(ld, type, 0);
        if (!rc)
            rc = get_rule_string(ld, prop, 0);
        if (!rc)
            rc = get_rule_string(ld, prop2, kind == RULE_IDENTIFY);
        if (!rc && (kind == RULE_IDENTIFY) != (prop2[0] == 0))
            rc = persona__snap_corrupt(r, "event rule %u: bad second property", i);
        if (!rc) {
            rc = persona__event_rule_add(ld->s, kind, id_type, type, prop,
                                         kind == RULE_CONSENT ? prop2 : NULL);
            if (rc == PERSONA_EINVAL)
                rc = persona__snap_corrupt(r, "event rule %u repeats an earlier one", i);
        }
    }
    persona__free(bufs);
    if (rc)
        return rc;
    return persona__snap_section_end(r);
}

/* Section 42; absent in files written before it: 1 (the latest events are then found
 * once the events are in). The indices are checked against the events then. */
static int load_type_latest(loader *ld)
{
    persona_store *s = ld->s;
    persona__snap_reader *r = ld->r;
    uint64_t len = 0, n = 0;
    int rc = persona__snap_section(r, SEC_TYPE_LATEST, "latest events", &len);
    if (rc <= 0)
        return rc < 0 ? rc : 1;
    rc = persona__snap_get_u64(r, &n);
    if (!rc && n != s->users.count)
        rc = persona__snap_corrupt(r, "latest events for %llu users, the store has %zu",
                                   (unsigned long long)n, s->users.count);
    if (!rc)
        rc = persona__snap_need(r, n, 4 * PROFILE_INLINE_TYPES, "latest events");
    for (size_t u = 0; u < n && !rc; u++)
        for (int k = 0; k < PROFILE_INLINE_TYPES && !rc; k++)
            rc = persona__snap_get_u32(r, &s->profiles[u].inline_stat[k].latest);
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    if (!rc && n != s->user_type.count)
        rc = persona__snap_corrupt(r, "latest events for %llu type counters, the store has %zu",
                                   (unsigned long long)n, s->user_type.count);
    if (!rc)
        rc = persona__snap_need(r, n, 4, "latest events");
    for (size_t e = 0; e < n && !rc; e++)
        rc = persona__snap_get_u32(r, &s->type_stats[e].latest);
    return rc ? rc : persona__snap_section_end(r);
}

/* Whether event e of the log is one of profile root's events of type `type`. */
static int event_of(const persona_store *s, uint32_t e, uint32_t root, uint32_t type)
{
    if (e >= s->log.count)
        return 0;
    const log_chunk *c = persona__eventlog_chunk(&s->log, e);
    size_t k = persona__eventlog_slot(e);
    return c->type[k] == type && persona__id_root(s, c->user[k]) == root;
}

/* The latest events read from section 42 point at events of their profile and type (the
 * rules read their times). */
static int check_type_latest(loader *ld)
{
    const persona_store *s = ld->s;
    for (size_t u = 0; u < s->users.count; u++) {
        const profile *p = &s->profiles[u];
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            uint32_t latest = p->inline_stat[k].latest;
            if (p->inline_type[k] == UINT32_MAX ? latest != LOG_NO_ID
                                                : !event_of(s, latest, (uint32_t)u, p->inline_type[k]))
                return persona__fail(PERSONA_ECORRUPT, "%s: section latest events: user %zu, slot %d",
                                     ld->path, u, k);
        }
    }
    for (size_t e = 0; e < s->user_type.count; e++) {
        uint64_t key = s->user_type.keys[e];
        if (!event_of(s, s->type_stats[e].latest, PERSONA__PAIR_USER(key), PERSONA__PAIR_X(key)))
            return persona__fail(PERSONA_ECORRUPT, "%s: section latest events: type counter %zu",
                                 ld->path, e);
    }
    return PERSONA_OK;
}

/* The latest events of a file without section 42, from the events (linked: l->count set),
 * in log order: of the latest time, the last to arrive. A counter no event of the log
 * belongs to is a damaged file. */
static int find_type_latest(loader *ld)
{
    persona_store *s = ld->s;
    for (size_t u = 0; u < s->users.count; u++)
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
            s->profiles[u].inline_stat[k].latest = LOG_NO_ID;
    for (size_t e = 0; e < s->user_type.count; e++)
        s->type_stats[e].latest = LOG_NO_ID;
    for (size_t e = 0; e < s->log.count; e++) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        uint32_t root = persona__id_root(s, c->user[k]);
        type_stat *ts = (type_stat *)persona__profile_type_stat(s, root, c->type[k]);
        if (ts && (ts->latest == LOG_NO_ID || c->time[k] >= persona__eventlog_time(&s->log, ts->latest)))
            ts->latest = (uint32_t)e;
    }
    for (size_t u = 0; u < s->users.count; u++)
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            const profile *p = &s->profiles[u];
            if (p->inline_type[k] != UINT32_MAX && p->inline_stat[k].latest == LOG_NO_ID)
                return persona__fail(PERSONA_ECORRUPT, "%s: user %zu counts a type it has no event of",
                                     ld->path, u);
        }
    for (size_t e = 0; e < s->user_type.count; e++)
        if (s->type_stats[e].latest == LOG_NO_ID)
            return persona__fail(PERSONA_ECORRUPT,
                                 "%s: type counter %zu counts a type its user has no event of", ld->path, e);
    return PERSONA_OK;
}

/* Read column col (0 time, 1 user, 2 type, 3 value, 4 item, 5 basket, 6 event id, 7 + p
 * property p) of count events into the chunks. */
static int read_column(loader *ld, int col, size_t count)
{
    persona__eventlog *l = &ld->s->log;
    size_t n_chunks = (count + LOG_CHUNK - 1) >> LOG_CHUNK_BITS;
    for (size_t k = 0; k < n_chunks; k++) {
        log_chunk *c = l->chunks[k];
        size_t n = k + 1 < n_chunks ? LOG_CHUNK : count - k * LOG_CHUNK;
        int rc;
        switch (col) {
        case 0: rc = persona__snap_get_i64s(ld->r, c->time, n); break;
        case 1: rc = persona__snap_get_u32s(ld->r, c->user, n); break;
        case 2: rc = persona__snap_get_u32s(ld->r, c->type, n); break;
        case 3: rc = persona__snap_get_f64s(ld->r, c->value, n); break;
        case 4: rc = persona__snap_get_u32s(ld->r, c->item, n); break;
        case 5: rc = persona__snap_get_u32s(ld->r, c->basket, n); break;
        case 6: rc = persona__snap_get_u32s(ld->r, c->event_id, n); break;
        default: rc = persona__snap_get_u32s(ld->r, c->props[(col - 7) & (LOG_MAX_PROPS - 1)], n);
            break;
        }
        if (rc)
            return rc;
    }
    return PERSONA_OK;
}

static int check_id(loader *ld, size_t i, const char *what, uint32_t id, size_t limit,
                    int may_be_absent)
{
    if (id < limit || (may_be_absent && id == LOG_NO_ID))
        return PERSONA_OK;
    return persona__fail(PERSONA_ECORRUPT, "%s: section events: event %zu has %s id %u",
                         ld->path, i, what, id);
}

/* The first event of chunk ci (n events) that breaks a rule, as ECORRUPT: the slow path
 * of check_chunk, run only once something is known to be wrong, for the message. */
static int report_event(loader *ld, size_t ci, size_t n)
{
    persona_store *s = ld->s;
    const log_chunk *c = s->log.chunks[ci];
    for (size_t k = 0; k < n; k++) {
        size_t i = ci * LOG_CHUNK + k;
        int rc = check_id(ld, i, "user", c->user[k], s->users.count, 0);
        if (!rc)
            rc = check_id(ld, i, "event type", c->type[k], s->types.count, 0);
        if (!rc && c->item)
            rc = check_id(ld, i, "item", c->item[k], s->items.count, 1);
        if (!rc && c->basket)
            rc = check_id(ld, i, "basket", c->basket[k], s->baskets.count, 1);
        if (!rc && c->event_id)
            rc = check_id(ld, i, "event id", c->event_id[k], s->event_ids.count, 1);
        for (size_t p = 0; p < s->log.n_props && p < LOG_MAX_PROPS && !rc; p++)
            if (c->props[p])
                rc = check_id(ld, i, "property value", c->props[p][k], s->values.count, 1);
        if (!rc && (!time_ok(c->time[k]) || (c->value && isinf(c->value[k]))))
            rc = persona__fail(PERSONA_ECORRUPT,
                               "%s: section events: event %zu has a time or value out of range",
                               ld->path, i);
        if (rc)
            return rc;
    }
    return persona__fail(PERSONA_EINTERNAL, "snapshot: a bad event was not found again");
}

/* Largest id + 1 of a column, NO_ID counting as 0: the column is valid when the result is
 * at most the table size (absent values allowed) — a loop compilers vectorize. */
static uint32_t max_id_plus_one(const uint32_t *ids, size_t n)
{
    uint32_t m = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t v = ids[k] + 1u;
        m = v > m ? v : m;
    }
    return m;
}

/* Every id, time and value of chunk ci (n events) in range. */
static int check_chunk(loader *ld, size_t ci, size_t n)
{
    persona_store *s = ld->s;
    const log_chunk *c = s->log.chunks[ci];
    int ok = 1;
    uint32_t min_user = UINT32_MAX, min_type = UINT32_MAX;
    for (size_t k = 0; k < n; k++) { /* NO_ID is no valid user or type */
        min_user = c->user[k] + 1u < min_user ? c->user[k] + 1u : min_user;
        min_type = c->type[k] + 1u < min_type ? c->type[k] + 1u : min_type;
    }
    ok &= min_user > 0 && min_type > 0 && max_id_plus_one(c->user, n) <= s->users.count &&
          max_id_plus_one(c->type, n) <= s->types.count;
    ok &= !c->item || max_id_plus_one(c->item, n) <= s->items.count;
    ok &= !c->basket || max_id_plus_one(c->basket, n) <= s->baskets.count;
    ok &= !c->event_id || max_id_plus_one(c->event_id, n) <= s->event_ids.count;
    for (size_t p = 0; p < s->log.n_props && p < LOG_MAX_PROPS; p++)
        ok &= !c->props[p] || max_id_plus_one(c->props[p], n) <= s->values.count;
    int64_t lo = PERSONA_TIME_MAX, hi = PERSONA_TIME_MIN;
    for (size_t k = 0; k < n; k++) {
        lo = c->time[k] < lo ? c->time[k] : lo;
        hi = c->time[k] > hi ? c->time[k] : hi;
    }
    ok &= n == 0 || (time_ok(lo) && time_ok(hi));
    if (c->value)
        for (size_t k = 0; k < n; k++)
            ok &= !isinf(c->value[k]);
    if (n && (s->log.count == 0 || lo < s->first_time_ms))
        s->first_time_ms = lo;
    if (n && (s->log.count == 0 || hi > s->last_time_ms))
        s->last_time_ms = hi;
    s->log.count += n; /* first/last time above are "so far" */
    return ok ? PERSONA_OK : report_event(ld, ci, n);
}

/* Ids of every event against their tables; the per-user links (prev, last_event) rebuilt
 * in log order; each profile's event count and per-type counts against the log. */
static int link_events(loader *ld, size_t count)
{
    persona_store *s = ld->s;
    persona__eventlog *l = &s->log;
    const size_t users = s->users.count;
    /* Per-user state in one small array rather than in the profiles (176 bytes apart): on
     * a big log the random accesses then mostly hit the cache. */
    typedef struct user_walk {
        uint32_t last, seen;
    } user_walk;
    user_walk *w = persona__alloc((users ? users : 1) * sizeof *w);
    if (!w)
        return persona__fail_nomem();
    for (size_t u = 0; u < users; u++)
        w[u] = (user_walk){ LOG_NO_ID, 0 };
    int rc = PERSONA_OK;
    size_t n_chunks = (count + LOG_CHUNK - 1) >> LOG_CHUNK_BITS;
    l->count = 0;
    for (size_t ci = 0; ci < n_chunks && !rc; ci++) {
        log_chunk *c = l->chunks[ci];
        size_t n = ci + 1 < n_chunks ? LOG_CHUNK : count - ci * LOG_CHUNK;
        rc = check_chunk(ld, ci, n);
        for (size_t k = 0; k < n && !rc; k++) {
            user_walk *uw = &w[persona__id_root(s, c->user[k])];
            c->prev[k] = uw->last;
            uw->last = (uint32_t)(ci * LOG_CHUNK + k);
            uw->seen++;
        }
    }
    for (size_t u = 0; u < users && !rc; u++) {
        profile *p = &s->profiles[u];
        p->last_event = w[u].last;
        uint64_t typed = 0;
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
            if (p->inline_type[k] != UINT32_MAX)
                typed += p->inline_stat[k].count;
        for (uint32_t e = p->head_type; e != UINT32_MAX; e = s->user_type.next[e])
            typed += s->type_stats[e].count;
        if (w[u].seen != p->events || typed != p->events)
            rc = persona__fail(PERSONA_ECORRUPT,
                               "%s: section events: user %zu has %lu events in the log, "
                               "%llu in its profile and %llu counted by type",
                               ld->path, u, (unsigned long)w[u].seen,
                               (unsigned long long)p->events, (unsigned long long)typed);
    }
    persona__free(w);
    return rc;
}

static int load_events(loader *ld)
{
    persona_store *s = ld->s;
    persona__snap_reader *r = ld->r;
    persona__eventlog *l = &s->log;
    uint64_t count = 0, props = 0;
    uint32_t cols = 0, n_props = 0;
    uint32_t names[LOG_MAX_PROPS];
    int rc = need_section(ld, SEC_EVENTS, "events");
    if (!rc)
        rc = persona__snap_get_u64(r, &count);
    if (!rc)
        rc = persona__snap_get_u32(r, &cols);
    if (!rc)
        rc = persona__snap_get_u32(r, &n_props);
    if (!rc)
        rc = persona__snap_get_u64(r, &props);
    if (!rc && (cols & ~(COL_VALUE | COL_ITEM | COL_BASKET | COL_EVENT_ID) ||
                n_props > LOG_MAX_PROPS ||
                (n_props < 64 && props >> n_props) || count >= UINT32_MAX))
        rc = persona__snap_corrupt(r, "bad column flags, property count or event count");
    if (!rc)
        rc = persona__snap_get_u32s(r, names, n_props);
    if (rc)
        return rc;
    for (uint32_t p = 0; p < n_props; p++) {
        if (names[p] >= s->names.count || persona__eventlog_prop_col(l, names[p]) >= 0)
            return persona__snap_corrupt(r, "property column %u has name %u", p, names[p]);
        persona__eventlog_add_prop_col(l, names[p]);
    }
    size_t per_event = 8 + 4 + 4 + (cols & COL_VALUE ? 8 : 0) + (cols & COL_ITEM ? 4 : 0) +
                       (cols & COL_BASKET ? 4 : 0) + (cols & COL_EVENT_ID ? 4 : 0) +
                       4 * (size_t)__builtin_popcountll(props);
    rc = persona__snap_need(r, count, per_event, "events");
    if (rc)
        return rc;
    log_needs needs = { (size_t)count,         !!(cols & COL_VALUE),    !!(cols & COL_ITEM),
                        !!(cols & COL_BASKET), !!(cols & COL_EVENT_ID), props };
    if (persona__eventlog_reserve(l, &needs))
        return persona__fail_nomem();
    for (int col = 0; col < 7 + (int)n_props && !rc; col++) {
        if ((col == 3 && !(cols & COL_VALUE)) || (col == 4 && !(cols & COL_ITEM)) ||
            (col == 5 && !(cols & COL_BASKET)) || (col == 6 && !(cols & COL_EVENT_ID)) ||
            (col >= 7 && !(props >> (col - 7) & 1)))
            continue;
        rc = read_column(ld, col, (size_t)count);
    }
    if (!rc)
        rc = persona__snap_section_end(r);
    if (rc)
        return rc;
    return link_events(ld, (size_t)count); /* sets l->count */
}

static const uint32_t known_sections[] = {
    SEC_META,          SEC_STRINGS + 0,    SEC_STRINGS + 1,  SEC_STRINGS + 2,
    SEC_STRINGS + 3,   SEC_STRINGS + 4,    SEC_STRINGS + 5,  SEC_STRINGS + 6,
    SEC_PROFILES,      SEC_TYPE_PAIRS,     SEC_BASKET_PAIRS, SEC_PROP_PAIRS,
    SEC_CATEGORY_PAIRS, SEC_ATTR_PAIRS,    SEC_CONSENT_PAIRS, SEC_EVENTS,
    SEC_STRINGS + 7,   SEC_STRINGS + 8,    SEC_IDENTITY,     SEC_SET_ORDER,
    SEC_EVENT_RULES,   SEC_TYPE_LATEST,
};

/* The store of an opened container (file or memory). */
static int load_store(persona_store **out, persona__snap_reader *r, const char *path)
{
    loader ld = { r, NULL, path };
    int rc = persona__snap_check_known(r, known_sections,
                                       sizeof known_sections / sizeof *known_sections);
    if (!rc)
        rc = load_meta(&ld, &ld.s);
    for (int t = 0; t < N_TABLES && !rc; t++)
        rc = load_strings(&ld, t);
    if (!rc)
        rc = load_identity(&ld);
    if (!rc)
        rc = load_profiles(&ld);
    if (!rc)
        rc = load_all_pairs(&ld);
    if (!rc)
        rc = load_set_order(&ld);
    if (!rc)
        rc = load_event_rules(&ld);
    int absent = 0;
    if (!rc && (rc = load_type_latest(&ld)) == 1) {
        absent = 1;
        rc = 0;
    }
    if (!rc)
        rc = load_events(&ld);
    if (!rc && absent)
        rc = find_type_latest(&ld);
    else if (!rc)
        rc = check_type_latest(&ld);
    if (rc) {
        persona_store_free(ld.s);
        return rc;
    }
    *out = ld.s;
    return PERSONA_OK;
}

PERSONA_API int persona_store_open(persona_store **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    persona__snap_reader *r = NULL;
    int rc = persona__snap_open(&r, path, PERSONA__SNAP_KIND_STORE);
    if (rc)
        return rc;
    rc = load_store(out, r, path);
    persona__snap_close(r);
    return rc;
}

int persona__store_open_memory(persona_store **out, const void *data, size_t len)
{
    *out = NULL;
    persona__snap_reader *r = NULL;
    int rc = persona__snap_open_memory(&r, data, len, PERSONA__SNAP_KIND_STORE);
    if (rc)
        return rc;
    rc = load_store(out, r, "(memory)");
    persona__snap_close(r);
    return rc;
}
