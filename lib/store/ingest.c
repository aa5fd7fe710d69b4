/* Ingest: validate → normalize → dedup → apply, in passes over a batch.
 *
 * 1. check (no lock): every event's fields, and the hash of its user key.
 * 2. prepare (read lock, so several threads prepare batches at once): the checks that
 *    need the store (opt-outs, duplicate ids), then look every key up and count what is
 *    new; bad events are counted by reason and dropped (strict mode: the first one fails).
 * 3. reserve (write lock): grow every table, arena and log column by what the batch may
 *    add. When the store changed other than by adding since pass 2 (the epoch moved: a
 *    link, an erase, an opt-out), pass 2 is done again first; event ids another batch
 *    added meanwhile are caught here.
 * 4. apply (write lock): insert and update; nothing can fail any more, so the batch lands
 *    whole or, on ENOMEM, not at all. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "store_internal.h"
#include "segment/live.h"

enum { KEY_USER, KEY_TYPE, KEY_ITEM, KEY_BASKET, KEY_ID, KEY_COUNT };

/* A string's length and hash under the store's key (every intern table of a store uses
 * that one key), computed without the lock. */
typedef struct key_hash {
    uint64_t hash;
    size_t len;
} key_hash;

typedef struct prep_event {
    const persona_event *ev;
    const struct checked *ck; /* what pass 1 found and hashed */
    uint64_t line;
    uint64_t user_hash;
    size_t user_len;
    uint32_t id[KEY_COUNT]; /* found id, or NO_ID when new (or absent) */
    uint32_t root;          /* profile of the user (root of its identifier), NO_ID when new */
    uint32_t type_pair;     /* entry of (user, type) in user_type, UINT32_MAX when none */
    int8_t type_inline;     /* inline slot of the type in the profile, -1 when none */
    uint32_t props_start, props_count;
    uint8_t has[KEY_COUNT];
} prep_event;

typedef struct prep_prop {
    const char *name, *value;
    size_t name_len, value_len;
    uint32_t name_id, value_id; /* NO_ID when new */
} prep_prop;

/* Result of pass 1 for one event. */
typedef struct checked {
    int32_t reason; /* reject reason, -1 = fine, -2 = struct_size not set */
    uint32_t user_len;
    uint64_t user_hash;
    const char *field, *why;
    key_hash item, basket, id;
    size_t props_at; /* its properties' name and value hashes: prop_keys[props_at + 2p (+1)] */
} checked;

struct ingest_scratch {
    void *events; /* prep_event[] */
    size_t events_cap;
    void *props; /* prep_prop[] */
    size_t props_cap;
    checked *checks;
    size_t checks_cap;
    key_hash *prop_keys;
    size_t prop_keys_cap;
};

typedef struct batch {
    prep_event *events;
    size_t n;
    prep_prop *props;
    size_t n_props, props_cap;
    size_t new_keys[KEY_COUNT], new_bytes[KEY_COUNT];
    size_t new_names, new_name_bytes, new_values, new_value_bytes;
    size_t distinct_new_names; /* names without a log column, each counted once */
    size_t new_type_pairs, new_basket_pairs, new_prop_pairs; /* upper bounds */
    log_needs needs;
    persona__intern batch_ids; /* event ids of this batch, to catch duplicates inside it */
    int has_ids;
    const uint8_t *rule_reject; /* per event: reason its event rule failed, 0xFF = none */
    const key_hash *prop_keys;  /* from pass 1 */
} batch;

static const char *const reason_names[PERSONA_REJECT_COUNT] = {
    "missing_user", "bad_time", "bad_number", "bad_utf8", "field_count", "duplicate_id",
    "too_long", "missing_event", "bad_quote", "bad_json", "wrong_type", "nul_byte",
    "suppressed", "bad_identifier", "bad_consent",
};

PERSONA_API const char *persona_reject_reason_name(int32_t reason)
{
    return reason >= 0 && reason < PERSONA_REJECT_COUNT ? reason_names[reason] : "unknown";
}

void persona__stats_reject(persona_ingest_stats *st, int reason, uint64_t line)
{
    st->events_rejected++;
    st->rejected[reason]++;
    /* Keep the smallest line numbers, sorted: rows rejected by the source and by the store
     * are counted in different passes, not in line order. */
    uint64_t *ex = st->example_lines[reason];
    int k = PERSONA_REJECT_EXAMPLES;
    while (k > 0 && (ex[k - 1] == 0 || ex[k - 1] > line))
        k--;
    if (k == PERSONA_REJECT_EXAMPLES)
        return;
    for (int j = PERSONA_REJECT_EXAMPLES - 1; j > k; j--)
        ex[j] = ex[j - 1];
    ex[k] = line;
}

static const persona__intern *key_table(const persona_store *s, int k)
{
    switch (k) {
    case KEY_USER: return &s->users;
    case KEY_TYPE: return &s->types;
    case KEY_ITEM: return &s->items;
    case KEY_BASKET: return &s->baskets;
    default: return &s->event_ids;
    }
}

/* Why a string field is unusable, or NULL. */
static const char *bad_string(const char *v, size_t *len_out, int *reason)
{
    size_t len = strlen(v);
    *len_out = len;
    if (len > PERSONA_MAX_KEY_LEN) {
        *reason = PERSONA_REJECT_TOO_LONG;
        return "is longer than 4096 bytes";
    }
    if (!persona__utf8_valid_short(v, len)) {
        *reason = PERSONA_REJECT_BAD_UTF8;
        return "is not valid UTF-8";
    }
    return NULL;
}

typedef struct reject {
    int reason;
    const char *field;
    const char *why;
} reject;

/* Look a key up; remember it as new (with its bytes) when absent. */
static void lookup_key(const persona_store *s, batch *b, prep_event *pe, int k, const char *v,
                       const key_hash *kh)
{
    pe->has[k] = 1;
    pe->id[k] = persona__intern_find_h(key_table(s, k), v, kh->len, kh->hash);
    if (pe->id[k] == PERSONA__NO_ID) {
        b->new_keys[k]++;
        b->new_bytes[k] += kh->len;
    }
}

static int check_event(const persona_store *s, batch *b, prep_event *pe, reject *rj)
{
    const persona_event *ev = pe->ev;
    const char *fields[KEY_COUNT] = { ev->user, ev->type, ev->item, ev->basket, ev->event_id };
    static const char *const field_names[KEY_COUNT] = { "user", "type", "item", "basket",
                                                        "event id" };
    size_t lens[KEY_COUNT] = { 0 };
    if (!ev->user || !ev->user[0]) {
        *rj = (reject){ PERSONA_REJECT_MISSING_USER, "user", "is missing" };
        return -1;
    }
    if (ev->time_ms < PERSONA_TIME_MIN || ev->time_ms > PERSONA_TIME_MAX) {
        *rj = (reject){ PERSONA_REJECT_BAD_TIME, "time", "is outside years 0001-9999" };
        return -1;
    }
    if (ev->type && !ev->type[0]) {
        *rj = (reject){ PERSONA_REJECT_MISSING_EVENT, "type", "is empty" };
        return -1;
    }
    if (isinf(ev->value)) {
        *rj = (reject){ PERSONA_REJECT_BAD_NUMBER, "value", "is not finite" };
        return -1;
    }
    for (int k = 0; k < KEY_COUNT; k++) {
        int reason;
        const char *why;
        if (fields[k] && (why = bad_string(fields[k], &lens[k], &reason)) != NULL) {
            *rj = (reject){ reason, field_names[k], why };
            return -1;
        }
    }
    if (ev->n_props && (!ev->prop_names || !ev->prop_values)) {
        *rj = (reject){ PERSONA_REJECT_WRONG_TYPE, "properties", "have no name or value array" };
        return -1;
    }
    for (size_t p = 0; p < ev->n_props; p++) {
        int reason;
        size_t len;
        if (!ev->prop_names[p] || !ev->prop_names[p][0]) {
            *rj = (reject){ PERSONA_REJECT_WRONG_TYPE, "property name", "is missing" };
            return -1;
        }
        if (bad_string(ev->prop_names[p], &len, &reason) ||
            (ev->prop_values[p] && bad_string(ev->prop_values[p], &len, &reason))) {
            *rj = (reject){ reason, "property", "is longer than 4096 bytes or not valid UTF-8" };
            return -1;
        }
    }
    (void)s;
    (void)b;
    return 0;
}

int persona__event_fields_ok(const persona_event *ev)
{
    prep_event pe;
    memset(&pe, 0, sizeof pe);
    pe.ev = ev;
    reject rj;
    return check_event(NULL, NULL, &pe, &rj) == 0;
}

/* Dedup by event id: against the store and against earlier events of this batch. */
static int duplicate_id(const persona_store *s, batch *b, const char *id, size_t len)
{
    if (persona__intern_find(&s->event_ids, id, len) != PERSONA__NO_ID)
        return 1;
    size_t before = b->batch_ids.count;
    if (persona__intern_add(&b->batch_ids, id, len) == PERSONA__NO_ID)
        return -1;
    return b->batch_ids.count == before;
}

/* Has an earlier property of this batch the same name (the last one, pp, excluded)? Only
 * the first occurrence of a name without a log column counts towards new columns. */
static int seen_name(const batch *b, const prep_prop *pp)
{
    for (size_t i = 0; i + 1 < b->n_props; i++) {
        const prep_prop *q = &b->props[i];
        if (q->name_len == pp->name_len && memcmp(q->name, pp->name, pp->name_len) == 0)
            return 1;
        if (b->distinct_new_names > LOG_MAX_PROPS)
            return 1; /* all columns would be taken anyway: stop comparing */
    }
    return 0;
}

/* Pair tables grow only by pairs not seen before: count them (new ids count always). */
static int pair_is_new(const persona__pairmap *m, uint32_t a, uint32_t x)
{
    return a == PERSONA__NO_ID || x == PERSONA__NO_ID ||
           persona__pairmap_find(m, PERSONA__PAIR(a, x)) == UINT32_MAX;
}

static int collect_props(const persona_store *s, batch *b, prep_event *pe)
{
    const persona_event *ev = pe->ev;
    pe->props_start = (uint32_t)b->n_props;
    for (size_t p = 0; p < ev->n_props; p++) {
        const char *v = ev->prop_values[p];
        if (!v || !v[0])
            continue;
        if (persona__grow((void **)&b->props, &b->props_cap, b->n_props + 1, sizeof *b->props, 16))
            return -1;
        prep_prop *pp = &b->props[b->n_props++];
        const key_hash *kn = &b->prop_keys[pe->ck->props_at + 2 * p], *kv = kn + 1;
        pp->name = ev->prop_names[p];
        pp->name_len = kn->len;
        pp->value = v;
        pp->value_len = kv->len;
        pp->name_id = persona__intern_find_h(&s->names, pp->name, pp->name_len, kn->hash);
        pp->value_id = persona__intern_find_h(&s->values, pp->value, pp->value_len, kv->hash);
        /* Names without a log column yet (new ones, and known names such as "category" or
         * an attribute's name) take the next free columns at apply, in order of first
         * appearance: count them so reserve allocates exactly those columns. */
        int col = pp->name_id == PERSONA__NO_ID ? -1
                                                : persona__eventlog_prop_col(&s->log, pp->name_id);
        if (pp->name_id == PERSONA__NO_ID) {
            b->new_names++;
            b->new_name_bytes += pp->name_len;
        }
        if (col >= 0)
            b->needs.props |= (uint64_t)1 << col;
        else if (!seen_name(b, pp))
            b->distinct_new_names++;
        if (pp->value_id == PERSONA__NO_ID) {
            b->new_values++;
            b->new_value_bytes += pp->value_len;
        }
        if (pp->name_id == s->category_name)
            b->new_prop_pairs += pair_is_new(&s->user_category, pe->root, pp->value_id);
        else
            b->new_prop_pairs += pair_is_new(&s->user_prop, pe->root, pp->name_id);
    }
    pe->props_count = (uint32_t)(b->n_props - pe->props_start);
    return 0;
}

static int fail_strict(const reject *rj, uint64_t line, int from_array)
{
    return persona__fail_at(PERSONA_EPARSE, line, 0, "%s %llu: %s %s (%s)",
                            from_array ? "event" : "line", (unsigned long long)line, rj->field,
                            rj->why, persona_reject_reason_name(rj->reason));
}

/* Whether user (a valid key) opted out of tracking. */
static int untracked(const persona_store *s, const char *user)
{
    uint32_t u = persona__intern_find(&s->users, user, strlen(user));
    return u != PERSONA__NO_ID &&
           (s->profiles[persona__id_root(s, u)].flags & PROFILE_UNTRACKED);
}

static key_hash hash_of(const persona_store *s, const char *v)
{
    key_hash kh = { 0, 0 };
    if (v && v[0]) {
        kh.len = strlen(v);
        kh.hash = persona__hash(&s->key, v, kh.len);
    }
    return kh;
}

/* Pass 1, without the lock: what can be checked of each event alone, and the hashes of its
 * keys and property names and values (0, or -1 out of memory). */
static int check_all(const persona_store *s, const persona_event *events, size_t count,
                     const uint8_t *rule_reject, checked *out, ingest_scratch *sc)
{
    size_t n_keys = 0;
    for (size_t i = 0; i < count; i++) {
        const persona_event *ev = &events[i];
        checked *c = &out[i];
        c->reason = -1;
        if (ev->struct_size < offsetof(persona_event, n_props) + sizeof(size_t) ||
            ev->struct_size > 4096) {
            c->reason = -2;
            continue;
        }
        prep_event pe;
        memset(&pe, 0, sizeof pe);
        pe.ev = ev;
        reject rj;
        if (check_event(s, NULL, &pe, &rj)) {
            *c = (checked){ .reason = rj.reason, .field = rj.field, .why = rj.why };
            continue;
        }
        if (rule_reject && rule_reject[i] != 0xFF) {
            *c = (checked){ .reason = rule_reject[i], .field = "property",
                            .why = rule_reject[i] == PERSONA_REJECT_BAD_CONSENT
                                       ? "has no purpose or no yes/no for the consent rule"
                                       : "holds an identifier that cannot be linked" };
            continue;
        }
        size_t len = strlen(ev->user);
        c->user_len = (uint32_t)len;
        c->user_hash = persona__hash(&s->key, ev->user, len); /* the key never changes */
        c->item = hash_of(s, ev->item);
        c->basket = hash_of(s, ev->basket);
        c->id = hash_of(s, ev->event_id);
        c->props_at = n_keys;
        if (!ev->n_props)
            continue;
        if (persona__grow((void **)&sc->prop_keys, &sc->prop_keys_cap, n_keys + 2 * ev->n_props,
                          sizeof *sc->prop_keys, 64))
            return -1;
        for (size_t p = 0; p < ev->n_props; p++) {
            sc->prop_keys[n_keys++] = hash_of(s, ev->prop_names[p]);
            sc->prop_keys[n_keys++] = hash_of(s, ev->prop_values[p]);
        }
    }
    return 0;
}

/* Pass 2, first part (read lock): in event order, the results of pass 1, opt-outs and
 * duplicate ids; keep the good events. */
static int validate(persona_store *s, batch *b, const persona_event *events, size_t count,
                    const checked *checks, const uint64_t *lines, uint64_t ordinal_base,
                    int strict, persona_ingest_stats *st)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t line = lines ? lines[i] : ordinal_base + i + 1;
        const persona_event *ev = &events[i];
        const checked *c = &checks[i];
        if (c->reason == -2)
            return persona__fail_at(PERSONA_EINVAL, line, 0,
                                    "event %llu: struct_size not set (got %u)",
                                    (unsigned long long)line, ev->struct_size);
        prep_event *pe = &b->events[b->n];
        memset(pe, 0, sizeof *pe);
        pe->ev = ev;
        pe->line = line;
        reject rj = { c->reason, c->field, c->why };
        int bad = c->reason >= 0;
        if (!bad && s->n_untracked && untracked(s, ev->user)) {
            persona__stats_reject(st, PERSONA_REJECT_SUPPRESSED, line); /* in strict mode too */
            continue;
        }
        if (!bad && ev->event_id && ev->event_id[0]) {
            if (!b->has_ids) {
                persona__intern_init(&b->batch_ids, s->key);
                b->has_ids = 1;
            }
            int dup = duplicate_id(s, b, ev->event_id, strlen(ev->event_id));
            if (dup < 0)
                return persona__fail_nomem();
            if (dup) {
                rj = (reject){ PERSONA_REJECT_DUPLICATE_ID, "event id", "was seen before" };
                bad = 1;
            }
        }
        if (bad) {
            if (strict)
                return fail_strict(&rj, line, lines == NULL);
            persona__stats_reject(st, rj.reason, line);
            continue;
        }
        pe->ck = c;
        pe->user_len = c->user_len;
        pe->user_hash = c->user_hash;
        persona__intern_prefetch_slot(&s->users, pe->user_hash);
        b->n++;
    }
    return PERSONA_OK;
}

/* Users are looked up in stages over the whole batch, each stage prefetching what the next
 * needs (slot, entry, string): the random accesses of thousands of lookups overlap instead
 * of waiting on memory one after another. */
static void resolve_users(persona_store *s, batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        persona__intern_prefetch_entry(&s->users, b->events[i].user_hash);
    for (size_t i = 0; i < b->n; i++)
        persona__intern_prefetch_str(&s->users, b->events[i].user_hash);
    for (size_t i = 0; i < b->n; i++) {
        prep_event *pe = &b->events[i];
        pe->has[KEY_USER] = 1;
        pe->id[KEY_USER] = persona__intern_find_h(&s->users, pe->ev->user, pe->user_len,
                                                  pe->user_hash);
        pe->root = pe->id[KEY_USER] == PERSONA__NO_ID ? PERSONA__NO_ID
                                                      : persona__id_root(s, pe->id[KEY_USER]);
        if (pe->id[KEY_USER] == PERSONA__NO_ID) {
            b->new_keys[KEY_USER]++;
            b->new_bytes[KEY_USER] += pe->user_len;
        }
    }
}

/* Event types are few: remember the last one instead of hashing every event's type. */
static void resolve_types(persona_store *s, batch *b)
{
    const char *last = NULL;
    uint32_t last_id = PERSONA__NO_ID;
    for (size_t i = 0; i < b->n; i++) {
        prep_event *pe = &b->events[i];
        const char *type = pe->ev->type ? pe->ev->type : "event";
        pe->has[KEY_TYPE] = 1;
        if (last && last_id != PERSONA__NO_ID && (type == last || strcmp(type, last) == 0)) {
            pe->id[KEY_TYPE] = last_id;
        } else {
            key_hash kh = hash_of(s, type);
            lookup_key(s, b, pe, KEY_TYPE, type, &kh);
            last = type;
            last_id = pe->id[KEY_TYPE];
        }
    }
}

/* Per-type counters: first the profile's inline slots (profiles prefetched a pass
 * earlier), then, for users with more types, the pair map. */
static void resolve_type_pairs(persona_store *s, batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const prep_event *pe = &b->events[i];
        if (pe->root != PERSONA__NO_ID)
            __builtin_prefetch(&s->profiles[pe->root]);
    }
    for (size_t i = 0; i < b->n; i++) {
        prep_event *pe = &b->events[i];
        pe->type_pair = UINT32_MAX;
        pe->type_inline = -1;
        uint32_t u = pe->root, t = pe->id[KEY_TYPE];
        if (u == PERSONA__NO_ID || t == PERSONA__NO_ID) {
            b->new_type_pairs++;
            continue;
        }
        const profile *p = &s->profiles[u];
        int free_slot = 0;
        for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
            if (p->inline_type[k] == t)
                pe->type_inline = (int8_t)k;
            free_slot |= p->inline_type[k] == UINT32_MAX;
        }
        if (pe->type_inline >= 0)
            continue;
        if (free_slot) {
            /* Inline unless earlier events of this batch fill the slots: reserve for the map. */
            b->new_type_pairs++;
            continue;
        }
        pe->type_pair = persona__pairmap_find(&s->user_type, PERSONA__PAIR(u, t));
        b->new_type_pairs += pe->type_pair == UINT32_MAX;
    }
}

/* Items, baskets, event ids and properties: rarer, looked up directly. */
static int resolve_rest(persona_store *s, batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        prep_event *pe = &b->events[i];
        const persona_event *ev = pe->ev;
        if (ev->item && ev->item[0]) {
            lookup_key(s, b, pe, KEY_ITEM, ev->item, &pe->ck->item);
            b->needs.item = 1;
        }
        if (ev->basket && ev->basket[0]) {
            lookup_key(s, b, pe, KEY_BASKET, ev->basket, &pe->ck->basket);
            b->needs.basket = 1;
            b->new_basket_pairs += pair_is_new(&s->user_basket, pe->root, pe->id[KEY_BASKET]);
        }
        if (ev->event_id && ev->event_id[0]) {
            lookup_key(s, b, pe, KEY_ID, ev->event_id, &pe->ck->id);
            b->needs.event_id = 1;
        }
        if (!isnan(ev->value) && ev->value != 0)
            b->needs.value = 1;
        if (ev->n_props && collect_props(s, b, pe))
            return persona__fail_nomem();
    }
    return PERSONA_OK;
}

static int prepare(persona_store *s, batch *b, const persona_event *events, size_t count,
                   const checked *checks, const uint64_t *lines, uint64_t ordinal_base,
                   int strict, persona_ingest_stats *st)
{
    int rc = validate(s, b, events, count, checks, lines, ordinal_base, strict, st);
    if (rc)
        return rc;
    resolve_users(s, b);
    resolve_types(s, b);
    resolve_type_pairs(s, b);
    return resolve_rest(s, b);
}

static int grow_values(void **arr, size_t *cap, size_t need, size_t elem)
{
    return persona__grow(arr, cap, need, elem, 16);
}

static int reserve(persona_store *s, batch *b)
{
    size_t n = b->n;
    persona__intern *tables[KEY_COUNT] = { &s->users, &s->types, &s->items, &s->baskets,
                                           &s->event_ids };
    for (int k = 0; k < KEY_COUNT; k++)
        if (b->new_keys[k] && persona__intern_reserve(tables[k], b->new_keys[k], b->new_bytes[k]))
            return -1;
    if (b->new_names && persona__intern_reserve(&s->names, b->new_names, b->new_name_bytes))
        return -1;
    if (b->new_values && persona__intern_reserve(&s->values, b->new_values, b->new_value_bytes))
        return -1;
    if (persona__grow((void **)&s->profiles, &s->profiles_cap, s->users.count + b->new_keys[KEY_USER],
                      sizeof *s->profiles, 64) ||
        persona__live_reserve(s, s->users.count + b->new_keys[KEY_USER], s->log.count + n))
        return -1;
    size_t tp = b->new_type_pairs, bp = b->new_basket_pairs, pp = b->new_prop_pairs;
    if (tp && (persona__pairmap_reserve(&s->user_type, tp) ||
               grow_values((void **)&s->type_stats, &s->type_stats_cap, s->user_type.count + tp,
                           sizeof *s->type_stats)))
        return -1;
    if (bp && persona__pairmap_reserve(&s->user_basket, bp))
        return -1;
    if (pp && (persona__pairmap_reserve(&s->user_prop, pp) ||
               grow_values((void **)&s->last_props, &s->last_props_cap, s->user_prop.count + pp,
                           sizeof *s->last_props) ||
               persona__pairmap_reserve(&s->user_category, pp) ||
               grow_values((void **)&s->engagements, &s->engagements_cap,
                           s->user_category.count + pp, sizeof *s->engagements)))
        return -1;
    b->needs.events = n;
    if (b->distinct_new_names) {
        /* Columns for names not registered yet: reserve the free column slots they will
         * take, so apply never allocates. */
        size_t free_cols = LOG_MAX_PROPS - s->log.n_props;
        size_t want = b->distinct_new_names < free_cols ? b->distinct_new_names : free_cols;
        for (size_t c = 0; c < want; c++)
            b->needs.props |= (uint64_t)1 << (s->log.n_props + c);
        /* Reserve needs the columns registered to allocate them: allocate by index. */
        size_t saved = s->log.n_props;
        s->log.n_props += want;
        int rc = persona__eventlog_reserve(&s->log, &b->needs);
        s->log.n_props = saved;
        return rc;
    }
    return persona__eventlog_reserve(&s->log, &b->needs);
}

static uint32_t key_id(persona_store *s, prep_event *pe, int k, const char *v)
{
    if (pe->id[k] != PERSONA__NO_ID)
        return pe->id[k];
    /* New when prepared, but an earlier event of this batch may have added it. */
    return persona__intern_add((persona__intern *)key_table(s, k), v, strlen(v));
}

void persona__apply_time(const persona_store *s, profile *p, int64_t t)
{
    if (p->events == 0) {
        p->first_seen = p->last_seen = t;
        p->sessions = 1;
    } else if (t >= p->last_seen) {
        if (t - p->last_seen > s->session_gap_ms)
            p->sessions++;
        p->last_seen = t;
    } else {
        p->flags |= PROFILE_SESSIONS_DIRTY;
        if (t < p->first_seen)
            p->first_seen = t;
    }
    p->events++;
}

/* The counters of (user, type): the slot found when prepared, or found / made now (an
 * earlier event of the batch may have added the type): inline while a slot is free. */
type_stat *persona__type_counters(persona_store *s, uint32_t uid, profile *p, uint32_t tid)
{
    int free_slot = -1;
    for (int k = 0; k < PROFILE_INLINE_TYPES; k++) {
        if (p->inline_type[k] == tid)
            return &p->inline_stat[k];
        if (free_slot < 0 && p->inline_type[k] == UINT32_MAX)
            free_slot = k;
    }
    type_stat *ts;
    if (free_slot >= 0) {
        p->inline_type[free_slot] = tid;
        ts = &p->inline_stat[free_slot];
    } else {
        uint64_t key = PERSONA__PAIR(uid, tid);
        uint32_t e = persona__pairmap_find(&s->user_type, key);
        if (e != UINT32_MAX)
            return &s->type_stats[e];
        e = persona__pairmap_add(&s->user_type, key, &p->head_type);
        ts = &s->type_stats[e];
    }
    *ts = (type_stat){ 0 };
    p->n_types++;
    return ts;
}

static void apply_type(persona_store *s, uint32_t uid, profile *p, uint32_t tid,
                       const prep_event *pe, uint32_t e, int64_t t, int newest, double v)
{
    type_stat *ts = pe->type_inline >= 0       ? &p->inline_stat[pe->type_inline]
                    : pe->type_pair != UINT32_MAX ? &s->type_stats[pe->type_pair]
                                                  : persona__type_counters(s, uid, p, tid);
    persona__type_stat_add(&s->log, ts, e, t, newest, v);
}

void persona__apply_engagement(persona_store *s, uint32_t uid, profile *p, uint32_t cat,
                               int64_t t)
{
    uint64_t key = PERSONA__PAIR(uid, cat);
    uint32_t e = persona__pairmap_find(&s->user_category, key);
    if (e == UINT32_MAX) {
        e = persona__pairmap_add(&s->user_category, key, &p->head_category);
        s->engagements[e].score = 1.0;
        s->engagements[e].ref_ms = t;
        return;
    }
    engagement *g = &s->engagements[e];
    double h = (double)s->half_life_ms;
    if (t >= g->ref_ms) {
        g->score = g->score * exp2(-(double)(t - g->ref_ms) / h) + 1.0;
        g->ref_ms = t;
    } else {
        g->score += exp2(-(double)(g->ref_ms - t) / h);
    }
}

void persona__apply_last(persona_store *s, uint32_t uid, profile *p, uint32_t name,
                         uint32_t value, int64_t t)
{
    uint64_t key = PERSONA__PAIR(uid, name);
    uint32_t e = persona__pairmap_find(&s->user_prop, key);
    if (e == UINT32_MAX) {
        e = persona__pairmap_add(&s->user_prop, key, &p->head_prop);
        s->last_props[e].time_ms = t;
        s->last_props[e].value = value;
    } else if (t >= s->last_props[e].time_ms) {
        s->last_props[e].time_ms = t;
        s->last_props[e].value = value;
    }
}

static void apply_props(persona_store *s, batch *b, prep_event *pe, uint32_t uid, profile *p,
                        log_chunk *c, size_t slot, int64_t t)
{
    for (uint32_t k = 0; k < pe->props_count; k++) {
        prep_prop *pp = &b->props[pe->props_start + k];
        uint32_t name = pp->name_id != PERSONA__NO_ID
                            ? pp->name_id
                            : persona__intern_add(&s->names, pp->name, pp->name_len);
        uint32_t value = pp->value_id != PERSONA__NO_ID
                             ? pp->value_id
                             : persona__intern_add(&s->values, pp->value, pp->value_len);
        if (name == s->category_name)
            persona__apply_engagement(s, uid, p, value, t);
        else
            persona__apply_last(s, uid, p, name, value, t);
        int col = persona__eventlog_add_prop_col(&s->log, name);
        if (col >= 0 && c->props[col])
            c->props[col][slot] = value;
    }
}

void persona__apply_basket(persona_store *s, uint32_t uid, profile *p, uint32_t bid)
{
    uint64_t key = PERSONA__PAIR(uid, bid);
    if (persona__pairmap_find(&s->user_basket, key) == UINT32_MAX) {
        persona__pairmap_add(&s->user_basket, key, &p->head_basket);
        p->orders++;
    }
}

static void apply_event(persona_store *s, batch *b, prep_event *pe)
{
    const persona_event *ev = pe->ev;
    uint32_t id = key_id(s, pe, KEY_USER, ev->user);
    uint32_t uid = pe->root != PERSONA__NO_ID ? pe->root : persona__id_root(s, id);
    profile *p = &s->profiles[uid];
    uint32_t tid = key_id(s, pe, KEY_TYPE, ev->type ? ev->type : "event");
    size_t idx = s->log.count++;
    log_chunk *c = persona__eventlog_chunk(&s->log, idx);
    size_t slot = persona__eventlog_slot(idx);
    int64_t t = ev->time_ms;
    double v = ev->value == 0 ? NAN : ev->value;
    c->time[slot] = t;
    c->user[slot] = id; /* the identifier: unmerge regroups events by it */
    c->type[slot] = tid;
    c->prev[slot] = p->last_event;
    p->last_event = (uint32_t)idx;
    if (c->value)
        c->value[slot] = v;
    if (pe->has[KEY_ITEM]) {
        c->item[slot] = key_id(s, pe, KEY_ITEM, ev->item);
    }
    if (pe->has[KEY_BASKET]) {
        uint32_t bid = key_id(s, pe, KEY_BASKET, ev->basket);
        c->basket[slot] = bid;
        persona__apply_basket(s, uid, p, bid);
    }
    if (pe->has[KEY_ID])
        c->event_id[slot] = key_id(s, pe, KEY_ID, ev->event_id);
    int newest = p->events == 0 || t >= p->last_seen;
    persona__apply_time(s, p, t);
    if (!isnan(v))
        persona__sum_add(&p->value_sum, &p->value_comp, v);
    apply_type(s, uid, p, tid, pe, (uint32_t)idx, t, newest, v);
    apply_props(s, b, pe, uid, p, c, slot, t);
    if (s->log.count == 1 || t < s->first_time_ms)
        s->first_time_ms = t;
    if (s->log.count == 1 || t > s->last_time_ms)
        s->last_time_ms = t;
}

/* Profiles and per-type counters are touched at random: fetch the whole batch's lines
 * first so the updates below find them in cache. */
static void prefetch_targets(const persona_store *s, const batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const prep_event *pe = &b->events[i];
        if (pe->root != PERSONA__NO_ID) {
            const profile *p = &s->profiles[pe->root];
            __builtin_prefetch(p, 1);
            if (pe->type_inline >= 0)
                __builtin_prefetch(&p->inline_stat[pe->type_inline], 1);
        }
        if (pe->type_pair != UINT32_MAX)
            __builtin_prefetch(&s->type_stats[pe->type_pair], 1);
    }
}

static void apply(persona_store *s, batch *b, persona_ingest_stats *st)
{
    prefetch_targets(s, b);
    for (size_t i = 0; i < b->n; i++) {
        prep_event *pe = &b->events[i];
        size_t users_before = s->users.count;
        if (pe->id[KEY_USER] == PERSONA__NO_ID) {
            uint32_t uid = persona__intern_add_h(&s->users, pe->ev->user, pe->user_len,
                                                 pe->user_hash);
            if (s->users.count > users_before) {
                persona__profile_init(&s->profiles[uid]);
                st->users_created++;
            }
            pe->id[KEY_USER] = uid;
        }
        apply_event(s, b, pe);
    }
    st->events_accepted += b->n;
}

/* A scratch set for this call: a free one of the store, or a new one (NULL: no memory). */
static ingest_scratch *take_scratch(persona_store *s)
{
    ingest_scratch *sc = NULL;
    pthread_mutex_lock(&s->scratch_lock);
    if (s->n_scratch_free)
        sc = s->scratch_free[--s->n_scratch_free];
    pthread_mutex_unlock(&s->scratch_lock);
    return sc ? sc : persona__calloc(1, sizeof *sc);
}

static void free_scratch(ingest_scratch *sc)
{
    persona__free(sc->events);
    persona__free(sc->props);
    persona__free(sc->checks);
    persona__free(sc->prop_keys);
    persona__free(sc);
}

static void give_back_scratch(persona_store *s, ingest_scratch *sc)
{
    pthread_mutex_lock(&s->scratch_lock);
    if (s->n_scratch_free < INGEST_SCRATCH_SLOTS) {
        s->scratch_free[s->n_scratch_free++] = sc;
        sc = NULL;
    }
    pthread_mutex_unlock(&s->scratch_lock);
    if (sc)
        free_scratch(sc);
}

void persona__ingest_scratch_release(persona_store *s)
{
    while (s->n_scratch_free)
        free_scratch(s->scratch_free[--s->n_scratch_free]);
}

/* Start (again) with an empty batch on the scratch set's arrays. */
static void batch_begin(batch *b, ingest_scratch *sc, const uint8_t *rule_reject)
{
    if (b->has_ids)
        persona__intern_free(&b->batch_ids);
    memset(b, 0, sizeof *b);
    b->events = sc->events;
    b->props = sc->props;
    b->props_cap = sc->props_cap;
    b->rule_reject = rule_reject;
    b->prop_keys = sc->prop_keys;
}

static void batch_end(ingest_scratch *sc, batch *b)
{
    sc->props = b->props; /* it may have grown */
    sc->props_cap = b->props_cap;
    if (b->has_ids)
        persona__intern_free(&b->batch_ids);
    b->has_ids = 0;
}

/* Event ids another batch added between pass 2 and the write lock: those events are
 * duplicates now. Drops them (counted), or fails in strict mode. */
static int recheck_ids(persona_store *s, batch *b, int strict, int from_array,
                       persona_ingest_stats *st)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->n; i++) {
        prep_event *pe = &b->events[i];
        const char *id = pe->ev->event_id;
        if (pe->has[KEY_ID] && pe->id[KEY_ID] == PERSONA__NO_ID &&
            persona__intern_find(&s->event_ids, id, strlen(id)) != PERSONA__NO_ID) {
            reject rj = { PERSONA_REJECT_DUPLICATE_ID, "event id", "was seen before" };
            if (strict)
                return fail_strict(&rj, pe->line, from_array);
            persona__stats_reject(st, rj.reason, pe->line);
            continue;
        }
        b->events[kept++] = *pe;
    }
    b->n = kept; /* the counts of what is new stay upper bounds */
    return PERSONA_OK;
}

/* Property names another batch gave a log column between pass 2 and the write lock: this
 * batch needs those columns allocated too. */
static void recheck_columns(const persona_store *s, batch *b)
{
    for (size_t i = 0; i < b->n_props; i++) {
        const prep_prop *pp = &b->props[i];
        uint32_t name = pp->name_id != PERSONA__NO_ID
                            ? pp->name_id
                            : persona__intern_find(&s->names, pp->name, pp->name_len);
        int col = name == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, name);
        if (col >= 0)
            b->needs.props |= (uint64_t)1 << col;
    }
}

/* Strict mode with event rules: the batch checked (fields, rule properties, duplicate ids)
 * before any link or consent setting is made, so a refused batch changes nothing. What
 * only applying can find (an identifier that holds another type already, memory) may
 * still refuse it after its links were made; sent again, they change nothing. */
static int strict_dry_run(persona_store *s, ingest_scratch *sc, const persona_event *events,
                          size_t count, uint8_t *rule_reject, const uint64_t *lines,
                          uint64_t ordinal_base, const persona_ingest_stats *st)
{
    batch b;
    memset(&b, 0, sizeof b);
    persona_ingest_stats scratch_stats = *st;
    STORE_RDLOCK(s);
    int rc = persona__check_event_rules(s, events, count, rule_reject);
    if (rc == PERSONA_OK && check_all(s, events, count, rule_reject, sc->checks, sc))
        rc = persona__fail_nomem();
    if (rc == PERSONA_OK) {
        batch_begin(&b, sc, rule_reject);
        rc = prepare(s, &b, events, count, sc->checks, lines, ordinal_base, 1, &scratch_stats);
        batch_end(sc, &b);
    }
    STORE_UNLOCK(s);
    return rc;
}

int persona__store_ingest_batch(persona_store *s, const persona_event *events, size_t count,
                                const uint64_t *lines, uint64_t ordinal_base, int strict,
                                persona_ingest_stats *st)
{
    if (count == 0)
        return PERSONA_OK;
    int reentry = persona__live_check_reentry(s);
    if (reentry)
        return reentry;
    ingest_scratch *sc = take_scratch(s);
    if (!sc || persona__grow(&sc->events, &sc->events_cap, count, sizeof(prep_event), 16) ||
        persona__grow((void **)&sc->checks, &sc->checks_cap, count, sizeof *sc->checks, 16)) {
        if (sc)
            give_back_scratch(s, sc);
        return persona__fail_nomem();
    }
    uint8_t *rule_reject = NULL;
    int rc = PERSONA_OK;
    STORE_RDLOCK(s);
    int has_rules = s->n_event_rules != 0;
    STORE_UNLOCK(s);
    if (has_rules) { /* links and consent first (see event_rules.c) */
        rule_reject = persona__alloc(count);
        if (!rule_reject)
            rc = persona__fail_nomem();
        else if (strict)
            rc = strict_dry_run(s, sc, events, count, rule_reject, lines, ordinal_base, st);
        if (rc == PERSONA_OK) {
            STORE_WRLOCK(s);
            rc = persona__apply_event_rules(s, events, count, rule_reject);
            STORE_UNLOCK(s);
        }
    }
    batch b;
    memset(&b, 0, sizeof b);
    persona_ingest_stats local = *st;
    if (rc == PERSONA_OK) {
        if (check_all(s, events, count, rule_reject, sc->checks, sc))
            rc = persona__fail_nomem();
        batch_begin(&b, sc, rule_reject);
        STORE_RDLOCK(s);
        uint64_t epoch = s->epoch;
        if (rc == PERSONA_OK)
            rc = prepare(s, &b, events, count, sc->checks, lines, ordinal_base, strict, &local);
        STORE_UNLOCK(s);
        if (rc == PERSONA_OK) {
            pthread_mutex_lock(&s->live_lock);
            STORE_WRLOCK(s);
            size_t log_before = s->log.count;
            if (s->epoch != epoch) { /* prepared against a store that changed: again */
                batch_end(sc, &b);
                batch_begin(&b, sc, rule_reject);
                local = *st;
                rc = prepare(s, &b, events, count, sc->checks, lines, ordinal_base, strict,
                             &local);
            } else {
                recheck_columns(s, &b);
                if (b.has_ids)
                    rc = recheck_ids(s, &b, strict, lines == NULL, &local);
            }
            if (rc == PERSONA_OK && reserve(s, &b) != 0)
                rc = persona__fail_nomem();
            if (rc == PERSONA_OK) {
                persona__live_sync(s); /* links made before this batch, silently */
                apply(s, &b, &local);
                local.rows_read += count;
                *st = local;
                persona__live_after_events(s, log_before, s->log.count);
            }
            int live = s->live != NULL;
            STORE_UNLOCK(s);
            if (live && rc == PERSONA_OK) { /* membership callbacks, under the read lock */
                STORE_RDLOCK(s);
                rc = persona__live_deliver(s);
                STORE_UNLOCK(s);
            }
            pthread_mutex_unlock(&s->live_lock);
        }
        batch_end(sc, &b);
    }
    give_back_scratch(s, sc);
    persona__free(rule_reject);
    return rc;
}

PERSONA__DEFINE_INIT(persona_ingest_options, persona_ingest_options_init)

PERSONA__DEFINE_INIT(persona_ingest_stats, persona_ingest_stats_init)

PERSONA__DEFINE_INIT(persona_attribute, persona_attribute_init)

PERSONA__DEFINE_INIT(persona_event, persona_event_init)

PERSONA_API int persona_store_ingest(persona_ingest_stats *stats_out, persona_store *store,
                                     const persona_event *events, size_t count,
                                     const persona_ingest_options *opts)
{
    persona_ingest_options o;
    persona_ingest_stats st;
    memset(&st, 0, sizeof st);
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    if (!events && count)
        return persona__fail(PERSONA_EINVAL, "events is NULL but count is %zu", count);
    if (opts) {
        int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_ingest_options");
        if (rc)
            return rc;
    } else {
        memset(&o, 0, sizeof o);
    }
    if (stats_out) {
        int rc = persona__struct_out(stats_out, &st, sizeof st, sizeof st, "persona_ingest_stats");
        if (rc)
            return rc;
    }
    int rc = persona__store_ingest_batch(store, events, count, NULL, 0,
                                         (o.flags & PERSONA_INGEST_STRICT) != 0, &st);
    if (stats_out && (rc == PERSONA_OK || rc == PERSONA_ECALLBACK)) /* applied either way */
        persona__struct_out(stats_out, &st, sizeof st, sizeof st, "persona_ingest_stats");
    return rc;
}
