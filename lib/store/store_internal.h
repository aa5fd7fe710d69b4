/* The store's internal layout, shared by the files of lib/store/. */
#ifndef PERSONA_STORE_INTERNAL_H
#define PERSONA_STORE_INTERNAL_H

#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/intern.h"
#include "core/pairmap.h"
#include "core/structs.h"
#include "eventlog.h"
#include "persona/identity.h"
#include "persona/store.h"

#define PROFILE_SESSIONS_DIRTY 1u /* an event arrived before last_seen: recount on read */
#define PROFILE_UNTRACKED 2u      /* opted out of tracking: new events are suppressed */
#define PROFILE_FLAGS (PROFILE_SESSIONS_DIRTY | PROFILE_UNTRACKED)

/* A profile's counters of one event type. count fits 32 bits: the log holds fewer than
 * 2^32 events. The latest event (meaningful once count > 0; of the latest time, the last
 * to arrive) lets rules answer days_since() and stopped() without walking the profile's
 * events, at no cost in memory. */
typedef struct type_stat {
    uint32_t count;
    uint32_t latest; /* log index */
    double value, comp; /* compensated sum, as profile.value_sum */
} type_stat;

/* Add v to the compensated sum (*sum, *comp): summation order no longer shows in the
 * printed totals (e.g. 2662.06, not 2662.0600000000004). */
static inline void persona__sum_add(double *sum, double *comp, double v)
{
    double t = *sum + v;
    if (__builtin_expect(t - t != 0, 0)) { /* overflow: inf - inf in comp would give NaN */
        *sum = t;
        return;
    }
    if ((*sum >= 0 ? *sum : -*sum) >= (v >= 0 ? v : -v))
        *comp += (*sum - t) + v;
    else
        *comp += (v - t) + *sum;
    *sum = t;
}

/* Event e (time t, value v; NaN: none) into the counters of its type. newest: t is at or
 * after every earlier event of the profile (the usual case: the log is then not read). */
static inline void persona__type_stat_add(const persona__eventlog *log, type_stat *ts, uint32_t e,
                                          int64_t t, int newest, double v)
{
    if (ts->count == 0 || newest || t >= persona__eventlog_time(log, ts->latest))
        ts->latest = e;
    ts->count++;
    if (!isnan(v))
        persona__sum_add(&ts->value, &ts->comp, v);
}

/* The first event types of a user are counted inside the profile (most users have few),
 * so an event touches one profile instead of a pair map and its counters; further types
 * go to the user_type map. */
#define PROFILE_INLINE_TYPES 3

/* Laid out so that the fields every event reads or writes, including which types are
 * inline, share the first cache line; the counters of one inline type are in the next. */
typedef struct profile {
    int64_t first_seen, last_seen;
    uint64_t events;
    double value_sum, value_comp; /* Neumaier-compensated: the sum is value_sum + value_comp */
    uint32_t last_event; /* newest appended event of this user in the log, NO_ID if none */
    uint32_t flags;
    uint32_t sessions;   /* valid unless PROFILE_SESSIONS_DIRTY */
    uint32_t inline_type[PROFILE_INLINE_TYPES]; /* type id, UINT32_MAX = free */
    type_stat inline_stat[PROFILE_INLINE_TYPES];
    uint32_t orders;
    uint32_t n_types;    /* inline and in the map */
    uint32_t n_attrs;
    /* heads of this user's chains in the pair maps (newest entry, UINT32_MAX = none) */
    uint32_t head_type, head_prop, head_category, head_attr, head_consent, head_basket;
} profile;

typedef struct last_prop {
    int64_t time_ms;
    uint32_t value; /* id in store->values */
} last_prop;

typedef struct engagement {
    double score; /* sum of 2^(-(ref - t)/half-life) over the events so far */
    int64_t ref_ms;
} engagement;

typedef struct attr_value {
    int32_t type;
    int32_t boolean;
    double num;
    int64_t time_ms;
    char *str;    /* owned */
    uint64_t seq; /* store->set_seq when set: across a profile's identifiers, the latest wins */
} attr_value;

typedef struct consent_value {
    int32_t granted;
    int64_t time_ms;
    uint64_t seq; /* as attr_value.seq; the latest time wins first */
} consent_value;

/* One link of the identity graph as persona_store_alias() made or refused it. */
typedef struct merge_entry {
    int64_t time_ms;
    uint32_t a, b;          /* identifier ids, or (MERGE_A_TEXT / MERGE_B_TEXT) ids in
                               store->sources of a value never made an identifier */
    int32_t a_type, b_type; /* the identifier types as given */
    uint32_t source;        /* id in store->sources, or NO_ID */
    int32_t outcome;        /* PERSONA_LINK_* */
    int32_t limit_type;     /* the type whose limit blocked (BLOCKED_LIMIT) */
    uint32_t flags;         /* MERGE_* */
    uint32_t next_a, next_b; /* next entry naming identifier a / b (lists from id_links;
                                derived: rebuilt on open) */
} merge_entry;
#define MERGE_UNDONE 1u /* persona_store_unmerge() took the link back */
#define MERGE_A_TEXT 2u
#define MERGE_B_TEXT 4u
#define MERGE_FLAGS 7u
/* Whether a log entry links two identifiers (an edge of the graph while not undone). */
static inline int persona__merge_is_edge(const merge_entry *m)
{
    return !(m->flags & (MERGE_UNDONE | MERGE_A_TEXT | MERGE_B_TEXT)) &&
           m->outcome >= 1 && m->outcome <= 3;
}

/* A host's setting for one identifier type (the defaults are in identity.c). */
typedef struct id_rule {
    int32_t type;
    uint32_t limit; /* 0 = unlimited */
    int32_t priority;
    uint32_t has_limit, has_priority;
} id_rule;

/* Scratch of one ingest call (ingest.c), kept between calls so a batch does not allocate
 * and fault in fresh pages every time. */
typedef struct ingest_scratch ingest_scratch;
#define INGEST_SCRATCH_SLOTS 8

struct persona_store {
    pthread_rwlock_t lock;
    /* Scratch sets free for the next ingest call: several threads prepare batches at
     * once (under the read lock), each with its own. Outside the data part that erase
     * swaps, under their own mutex. */
    pthread_mutex_t scratch_lock;
    ingest_scratch *scratch_free[INGEST_SCRATCH_SLOTS];
    size_t n_scratch_free;
    persona__hash_key key; /* never changes: read by ingest without the lock, so it stays
                              out of what erase swaps */
    uint64_t serial;       /* unique among the stores of this process (never reused), so a
                              cache keyed by it cannot mistake a new store at the same
                              address for a freed one; erase keeps it (and moves epoch) */
    /* Live segments (lib/segment/live.c): NULL until one is registered. Outside what
     * erase swaps; live_lock orders the writes that re-evaluate memberships and their
     * callbacks (taken before the store lock). */
    struct live_state *live;
    pthread_mutex_t live_lock;
    int64_t tick_ms; /* latest persona_store_tick() time, when has_tick */
    int has_tick;
    int64_t session_gap_ms;
    int64_t half_life_ms;

    persona__intern users;     /* user keys; id = profile index */
    persona__intern types;     /* event types */
    persona__intern items;     /* item keys */
    persona__intern baskets;   /* basket / order ids */
    persona__intern names;     /* property, attribute and consent-purpose names */
    persona__intern values;    /* property values (categories, referrers, …) */
    persona__intern event_ids; /* ids seen, for deduplication */

    profile *profiles;
    size_t profiles_cap;

    persona__pairmap user_type; /* -> type_stats[] */
    type_stat *type_stats;
    size_t type_stats_cap;
    persona__pairmap user_basket; /* set: orders */
    persona__pairmap user_prop;   /* -> last_props[] */
    last_prop *last_props;
    size_t last_props_cap;
    persona__pairmap user_category; /* -> engagements[] */
    engagement *engagements;
    size_t engagements_cap;
    persona__pairmap user_attr; /* -> attrs[] (removed ones have type -1) */
    attr_value *attrs;
    size_t attrs_cap;
    persona__pairmap user_consent; /* -> consents[] */
    consent_value *consents;
    size_t consents_cap;

    uint32_t category_name; /* id of "category" in names */
    uint32_t n_untracked;   /* profiles with PROFILE_UNTRACKED: ingest looks only when > 0 */
    /* Changes whenever ids, roots, pair entries or opt-outs change other than by adding
     * (links, unmerge, erase, tracking): an ingest that prepared its batch under the read
     * lock prepares it again when this moved before it got the write lock. */
    uint64_t epoch;
    persona__eventlog log;
    int64_t first_time_ms, last_time_ms;

    /* Identity graph (identity.c). Identifiers are the user keys; the profile of an
     * identifier lives at the index of its root. Arrays cover ids < ids_len; an id beyond
     * (a key first seen after the last link) is alone: its own root, type KEY. Members of
     * a profile form a circular list through id_next. */
    uint32_t *id_root, *id_next;
    int32_t *id_type;
    uint32_t *id_links; /* newest merge-log entry naming the identifier, NO_ID = none */
    size_t ids_len, ids_cap;
    merge_entry *merges;
    size_t n_merges, merges_cap;
    persona__intern sources; /* merge-log sources and blocked values */
    id_rule *rules;
    size_t n_rules, rules_cap;
    persona__intern blocked; /* host-added blocked values, ASCII lower-cased */
    char country[4];         /* default country calling code, "" = none */
    uint64_t set_seq;        /* order of attribute and consent settings */
    struct event_rule *event_rules; /* event types that link identifiers or set consent */
    size_t n_event_rules, event_rules_cap;
};

/* An event type whose events link identifiers (IDENTIFY: prop holds an identifier of
 * id_type) or set consent (CONSENT: prop names the purpose, prop2 holds yes/no). */
enum { RULE_IDENTIFY = 1, RULE_CONSENT = 2 };
typedef struct event_rule {
    int32_t kind;
    int32_t id_type;
    char *event_type, *prop, *prop2; /* owned; prop2 NULL for IDENTIFY */
} event_rule;

static inline uint32_t persona__id_root(const persona_store *s, uint32_t id)
{
    return id < s->ids_len ? s->id_root[id] : id;
}
static inline uint32_t persona__id_next(const persona_store *s, uint32_t id)
{
    return id < s->ids_len ? s->id_next[id] : id;
}
static inline int32_t persona__id_type(const persona_store *s, uint32_t id)
{
    return id < s->ids_len ? s->id_type[id] : 0;
}

/* Key of a pair-map entry whose profile was recomputed: never found again, skipped by
 * snapshots, exports and rebuilds (the maps have no deletion). */
#define PAIR_DEAD_USER PERSONA__PAIR_RETIRED
static inline int persona__pair_dead(const persona__pairmap *m, size_t e)
{
    return PERSONA__PAIR_USER(m->keys[e]) == PAIR_DEAD_USER;
}

#define STORE_RDLOCK(s) pthread_rwlock_rdlock(&((persona_store *)(s))->lock)
#define STORE_WRLOCK(s) pthread_rwlock_wrlock(&(s)->lock)
#define STORE_UNLOCK(s) pthread_rwlock_unlock(&((persona_store *)(s))->lock)

/* Profile index (the root of its identifier) of a user key, or PERSONA__NO_ID (and the
 * error recorded: ENOTFOUND or EINVAL for a NULL key). Caller holds the lock. */
uint32_t persona__store_find_user(const persona_store *s, const char *user, int *rc);
/* Entry of (user, key) in a pair map whose second ids come from `keys`, or UINT32_MAX when
 * the key was never interned or the pair does not exist. Caller holds a lock. */
uint32_t persona__store_pair_entry(const persona__pairmap *m, uint32_t user,
                                   const persona__intern *keys, const char *key);
/* Make sure a profile exists for user (for attribute and consent setters); caller holds the
 * write lock. Returns PERSONA_OK, ENOMEM, EINVAL. */
int persona__store_ensure_user(persona_store *s, const char *user, uint32_t *out);
/* Everything of a store but its lock: set up empty with these settings (0, or -1 when out
 * of memory with nothing held), released (the lock untouched). */
int persona__store_init_data(persona_store *s, int64_t session_gap_ms, int64_t half_life_ms,
                             persona__hash_key key);
void persona__store_release(persona_store *s);
/* Initialise a fresh profile. */
void persona__profile_init(profile *p);
/* Counters of one type of one user (inline slot or map entry); NULL when never seen. */
const type_stat *persona__profile_type_stat(const persona_store *s, uint32_t user,
                                            uint32_t type);
/* Sessions of a profile, recounted from the log when events came out of order (which
 * needs memory: 0, or -1 on allocation failure). */
int persona__profile_sessions(const persona_store *s, uint32_t user, uint64_t *out);
/* Validation of a key string: non-NULL, valid UTF-8, at most PERSONA_MAX_KEY_LEN. */
int persona__check_key(const char *s, const char *what);

/* Trait updates of one event, shared by ingest and the recomputation after a merge
 * (rebuild.c), so both give bit-identical profiles. The pair maps have room (reserved). */
void persona__apply_time(const persona_store *s, profile *p, int64_t t);
type_stat *persona__type_counters(persona_store *s, uint32_t root, profile *p, uint32_t type);
void persona__apply_basket(persona_store *s, uint32_t root, profile *p, uint32_t basket);
void persona__apply_engagement(persona_store *s, uint32_t root, profile *p, uint32_t category,
                               int64_t t);
void persona__apply_last(persona_store *s, uint32_t root, profile *p, uint32_t name,
                         uint32_t value, int64_t t);

/* Recompute the profiles of `roots` (new roots after the identity arrays changed) from the
 * events of the profiles `old_roots` had before: their chains are rebuilt and their
 * traits replayed in log order. Attributes, consent and the opt-out flag are kept. The
 * caller reserved with persona__recompute_reserve() first; nothing here allocates but
 * `order`, which the caller passes (room for every event of old_roots). Returns the
 * events replayed. */
typedef struct recompute_plan {
    uint32_t *order; /* events of old_roots, filled and sorted here */
    size_t n_events;
} recompute_plan;
/* Reserve room to recompute the profiles of old_roots as up to `parts` profiles. */
int persona__recompute_reserve(persona_store *s, const uint32_t *old_roots, size_t n_old,
                               size_t parts, recompute_plan *plan);
uint64_t persona__recompute(persona_store *s, const uint32_t *old_roots, size_t n_old,
                            recompute_plan *plan);
/* Winning attribute / consent entry of name across the identifiers of profile root, or
 * UINT32_MAX. */
uint32_t persona__attr_entry(const persona_store *s, uint32_t root, uint32_t name);
uint32_t persona__consent_entry(const persona_store *s, uint32_t root, uint32_t name);
/* Whether profile root granted the purpose `name` (a name id; PERSONA__NO_ID: a purpose
 * the store never saw, so nobody granted it), remembered in cache[root] (0 unknown, 1
 * granted, 2 not) for a builder's scan. */
static inline int persona__consent_cached(const persona_store *s, uint8_t *cache, uint32_t name,
                                          uint32_t root)
{
    if (!cache[root]) {
        uint32_t e = name == PERSONA__NO_ID ? UINT32_MAX : persona__consent_entry(s, root, name);
        cache[root] = e != UINT32_MAX && s->consents[e].granted ? 1 : 2;
    }
    return cache[root] == 1;
}
/* Distinct attribute names held across the identifiers of profile root. */
uint32_t persona__profile_attr_count(const persona_store *s, uint32_t root);
/* persona_store_alias() / persona_store_consent_set() with the write lock held; quiet:
 * the links come from events, which repeat them: "same" links and blocks already logged
 * for the anchor are not logged again. */
int persona__store_alias_locked(persona_store *s, const persona_identifier *ids, size_t count,
                                int64_t at_ms, const char *source, int quiet,
                                persona_alias_result *r);
int persona__consent_set_locked(persona_store *s, const char *user, const char *purpose,
                                int32_t granted, int64_t time_ms);
/* The checks persona__store_alias_locked() makes of each identifier on its own (no store
 * change): PERSONA_OK, EINVAL (message as the alias would give), ENOMEM. Whether an
 * identifier already has another type is not checked here. */
int persona__identifiers_check(const persona_store *s, const persona_identifier *ids, size_t count);
/* The links and consent settings a batch's events carry (event rules), applied before the
 * batch under the write lock; bad[i] gets the reject reason of event i, or 0xFF. An event
 * with a bad rule property makes none of its links and settings. 0, ENOMEM. */
int persona__apply_event_rules(persona_store *s, const persona_event *events, size_t count,
                               uint8_t *bad);
/* The same checks without applying anything (read lock): bad[i] as above, except that an
 * identifier holding another type already is found only when applying. 0, ENOMEM. */
int persona__check_event_rules(const persona_store *s, const persona_event *events, size_t count,
                               uint8_t *bad);
/* Whether ingest's field checks accept an event (struct_size checked by the caller). */
int persona__event_fields_ok(const persona_event *ev);
/* Add an event rule (checked arguments; EINVAL for a clash, ENOMEM) / free them all. */
int persona__event_rule_add(persona_store *s, int32_t kind, int32_t id_type,
                            const char *event_type, const char *prop, const char *prop2);
void persona__event_rules_free(persona_store *s);
/* Identity state for a fresh store / freed. */
void persona__identity_release(persona_store *s);
/* Grow the identity arrays to cover every user id (new entries alone). 0 or -1. */
int persona__identity_cover(persona_store *s, size_t n);
/* Put every merge-log entry on the lists of the identifiers it names (after loading or
 * copying the log; the arrays cover every identifier the log names). */
void persona__merge_links_rebuild(persona_store *s);
/* Next entry after e on identifier x's list. */
static inline uint32_t persona__merge_next(const persona_store *s, uint32_t e, uint32_t x)
{
    const merge_entry *m = &s->merges[e];
    return !(m->flags & MERGE_A_TEXT) && m->a == x ? m->next_a : m->next_b;
}
/* Name of an identifier type for JSON ("email", or the number as text in buf). */
const char *persona__id_type_name(int32_t type, char buf[16]);
/* The merge log (all of it with root NO_ID, else the entries of that profile) as a JSON
 * array, and how many entries that is (merge_log.c). */
void persona__merge_log_json(const persona_store *s, persona__buf *b, uint32_t root);
size_t persona__merge_log_count(const persona_store *s, uint32_t root);
/* JSON pieces shared by the exports (export.c). */
void persona__json_time(persona__buf *b, int64_t t);
void persona__json_key(persona__buf *b, const persona__intern *t, uint32_t id);

/* Free the ingest scratch sets of a store (persona_store_free). */
void persona__ingest_scratch_release(persona_store *s);

/* Ingest with line numbers (NULL = ordinal) and internal options, used by the load
 * loop too. stats accumulate (not reset). */
int persona__store_ingest_batch(persona_store *s, const persona_event *events, size_t count,
                                const uint64_t *lines, uint64_t ordinal_base, int strict,
                                persona_ingest_stats *stats);
/* Copy a string into a caller buffer: EBUFS (with the needed length) when too small. */
/* persona_store_open() of a snapshot held in memory (the fuzz target's way in). */
int persona__store_open_memory(persona_store **out, const void *data, size_t len);
/* Count a reject in stats with its example line. */
void persona__stats_reject(persona_ingest_stats *st, int reason, uint64_t line);

#endif
