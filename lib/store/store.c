/* Store lifecycle, lookups and the profile getters. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "store_internal.h"
#include "segment/live.h"

#define DEFAULT_SESSION_GAP_MS (30 * 60 * 1000LL)
#define DEFAULT_HALF_LIFE_MS (30 * 86400 * 1000LL)

PERSONA__DEFINE_INIT(persona_store_options, persona_store_options_init)

PERSONA__DEFINE_INIT(persona_store_info, persona_store_info_init)

PERSONA__DEFINE_INIT(persona_profile_info, persona_profile_info_init)

void persona__profile_init(profile *p)
{
    memset(p, 0, sizeof *p);
    p->last_event = LOG_NO_ID;
    p->head_type = p->head_prop = p->head_category = UINT32_MAX;
    p->head_attr = p->head_consent = p->head_basket = UINT32_MAX;
    for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
        p->inline_type[k] = UINT32_MAX;
}

const type_stat *persona__profile_type_stat(const persona_store *s, uint32_t user,
                                            uint32_t type)
{
    const profile *p = &s->profiles[user];
    for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
        if (p->inline_type[k] == type)
            return &p->inline_stat[k];
    uint32_t e = persona__pairmap_find(&s->user_type, PERSONA__PAIR(user, type));
    return e == UINT32_MAX ? NULL : &s->type_stats[e];
}

void persona__store_release(persona_store *s)
{
    persona__intern *tables[] = { &s->users, &s->types,  &s->items,    &s->baskets,
                                  &s->names, &s->values, &s->event_ids };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        persona__intern_free(tables[i]);
    for (size_t i = 0; i < s->user_attr.count; i++)
        persona__free(s->attrs[i].str);
    persona__pairmap *maps[] = { &s->user_type, &s->user_basket,   &s->user_prop,
                                 &s->user_category, &s->user_attr, &s->user_consent };
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
        persona__pairmap_free(maps[i]);
    persona__free(s->profiles);
    persona__free(s->type_stats);
    persona__free(s->last_props);
    persona__free(s->engagements);
    persona__free(s->attrs);
    persona__free(s->consents);
    persona__eventlog_free(&s->log);
    persona__identity_release(s);
}

int persona__store_init_data(persona_store *s, int64_t session_gap_ms, int64_t half_life_ms,
                             persona__hash_key key)
{
    memset((char *)s + offsetof(persona_store, session_gap_ms), 0,
           sizeof *s - offsetof(persona_store, session_gap_ms));
    s->session_gap_ms = session_gap_ms;
    s->half_life_ms = half_life_ms;
    s->key = key;
    persona__intern *tables[] = { &s->users, &s->types,  &s->items,    &s->baskets,
                                  &s->names, &s->values, &s->event_ids };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
        persona__intern_init(tables[i], s->key);
    persona__pairmap *maps[] = { &s->user_type, &s->user_basket,   &s->user_prop,
                                 &s->user_category, &s->user_attr, &s->user_consent };
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
        persona__pairmap_init(maps[i], s->key.k0 ^ (0x9E37u * (i + 1)));
    persona__eventlog_init(&s->log);
    persona__intern_init(&s->sources, s->key);
    persona__intern_init(&s->blocked, s->key);
    s->category_name = persona__intern_add(&s->names, "category", 8);
    if (s->category_name == PERSONA__NO_ID) {
        persona__store_release(s);
        return -1;
    }
    return 0;
}

PERSONA_API int persona_store_new(persona_store **out, const persona_store_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    *out = NULL;
    persona_store_options o;
    memset(&o, 0, sizeof o);
    if (opts) {
        int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_store_options");
        if (rc)
            return rc;
    }
    if (o.flags)
        return persona__fail(PERSONA_EINVAL, "persona_store_options: flags must be 0");
    if (o.session_gap_ms < 0 || o.decay_half_life_ms < 0)
        return persona__fail(PERSONA_EINVAL,
                             "persona_store_options: session gap and half-life must not be negative");
    persona_store *s = persona__calloc(1, sizeof *s);
    if (!s)
        return persona__fail_nomem();
    if (persona__store_init_data(s, o.session_gap_ms ? o.session_gap_ms : DEFAULT_SESSION_GAP_MS,
                                 o.decay_half_life_ms ? o.decay_half_life_ms : DEFAULT_HALF_LIFE_MS,
                                 persona__hash_key_from_seed(o.hash_seed))) {
        persona__free(s);
        return persona__fail_nomem();
    }
    if (pthread_rwlock_init(&s->lock, NULL) != 0) {
        persona__store_release(s);
        persona__free(s);
        return persona__fail(PERSONA_ENOMEM, "cannot create the store lock");
    }
    if (pthread_mutex_init(&s->scratch_lock, NULL) != 0) {
        pthread_rwlock_destroy(&s->lock);
        persona__store_release(s);
        persona__free(s);
        return persona__fail(PERSONA_ENOMEM, "cannot create the store lock");
    }
    if (pthread_mutex_init(&s->live_lock, NULL) != 0) {
        pthread_mutex_destroy(&s->scratch_lock);
        pthread_rwlock_destroy(&s->lock);
        persona__store_release(s);
        persona__free(s);
        return persona__fail(PERSONA_ENOMEM, "cannot create the store lock");
    }
    static atomic_uint_fast64_t next_serial = 1;
    s->serial = atomic_fetch_add(&next_serial, 1);
    *out = s;
    return PERSONA_OK;
}

PERSONA_API void persona_store_free(persona_store *store)
{
    if (!store)
        return;
    pthread_rwlock_destroy(&store->lock);
    persona__ingest_scratch_release(store);
    pthread_mutex_destroy(&store->scratch_lock);
    persona__live_free(store);
    pthread_mutex_destroy(&store->live_lock);
    persona__store_release(store);
    persona__free(store);
}

int persona__check_key(const char *s, const char *what)
{
    if (!s)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", what);
    size_t len = strlen(s);
    if (len == 0)
        return persona__fail(PERSONA_EINVAL, "%s is empty", what);
    if (len > PERSONA_MAX_KEY_LEN)
        return persona__fail(PERSONA_EINVAL, "%s is longer than %d bytes", what,
                             PERSONA_MAX_KEY_LEN);
    if (!persona__utf8_valid(s, len, NULL))
        return persona__fail(PERSONA_EINVAL, "%s is not valid UTF-8", what);
    return PERSONA_OK;
}

uint32_t persona__store_find_user(const persona_store *s, const char *user, int *rc)
{
    if (!user) {
        *rc = persona__fail(PERSONA_EINVAL, "user is NULL");
        return PERSONA__NO_ID;
    }
    uint32_t id = persona__intern_find(&s->users, user, strlen(user));
    *rc = id == PERSONA__NO_ID ? persona__fail(PERSONA_ENOTFOUND, "no user '%.200s'", user)
                               : PERSONA_OK;
    return id == PERSONA__NO_ID ? id : persona__id_root(s, id);
}

uint32_t persona__store_pair_entry(const persona__pairmap *m, uint32_t user,
                                   const persona__intern *keys, const char *key)
{
    uint32_t id = persona__intern_find(keys, key, strlen(key));
    return id == PERSONA__NO_ID ? UINT32_MAX : persona__pairmap_find(m, PERSONA__PAIR(user, id));
}

int persona__store_ensure_user(persona_store *s, const char *user, uint32_t *out)
{
    int rc = persona__check_key(user, "user");
    if (rc)
        return rc;
    size_t len = strlen(user);
    uint32_t id = persona__intern_find(&s->users, user, len);
    if (id == PERSONA__NO_ID) {
        if (persona__grow((void **)&s->profiles, &s->profiles_cap, s->users.count + 1,
                          sizeof *s->profiles, 64) ||
            persona__intern_reserve(&s->users, 1, len))
            return persona__fail_nomem();
        id = persona__intern_add(&s->users, user, len);
        persona__profile_init(&s->profiles[id]);
    }
    *out = id;
    return PERSONA_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int persona__profile_sessions(const persona_store *s, uint32_t user, uint64_t *out)
{
    const profile *p = &s->profiles[user];
    if (!(p->flags & PROFILE_SESSIONS_DIRTY)) {
        *out = p->sessions;
        return 0;
    }
    /* Out-of-order arrivals: sort this user's times (walking the log chain) and count gaps
     * longer than the inactivity gap. */
    int64_t *times = persona__calloc((size_t)p->events, sizeof *times);
    if (!times)
        return -1;
    size_t n = 0;
    for (uint32_t e = p->last_event; e != LOG_NO_ID && n < p->events;
         e = persona__eventlog_prev(&s->log, e))
        times[n++] = persona__eventlog_time(&s->log, e);
    qsort(times, n, sizeof *times, cmp_i64);
    uint64_t sessions = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        if (times[i] - times[i - 1] > s->session_gap_ms)
            sessions++;
    persona__free(times);
    *out = sessions;
    return 0;
}

PERSONA_API int persona_store_info_get(persona_store_info *out, const persona_store *store)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    persona_store_info info;
    memset(&info, 0, sizeof info);
    STORE_RDLOCK(store);
    const persona_store *s = store;
    info.users = s->users.count;
    info.events = s->log.count;
    info.event_types = s->types.count;
    info.items = s->items.count;
    info.baskets = s->baskets.count;
    info.first_time_ms = s->log.count ? s->first_time_ms : 0;
    info.last_time_ms = s->log.count ? s->last_time_ms : 0;
    info.bytes_events = s->log.bytes + s->log.chunks_cap * sizeof *s->log.chunks +
                        persona__intern_bytes(&s->event_ids);
    info.bytes_profiles =
        s->profiles_cap * sizeof *s->profiles + persona__intern_bytes(&s->users) +
        persona__pairmap_bytes(&s->user_type) + s->type_stats_cap * sizeof *s->type_stats +
        persona__pairmap_bytes(&s->user_basket) + persona__pairmap_bytes(&s->user_prop) +
        s->last_props_cap * sizeof *s->last_props + persona__pairmap_bytes(&s->user_category) +
        s->engagements_cap * sizeof *s->engagements;
    size_t attrs = persona__pairmap_bytes(&s->user_attr) + s->attrs_cap * sizeof *s->attrs +
                   persona__pairmap_bytes(&s->user_consent) +
                   s->consents_cap * sizeof *s->consents;
    for (size_t i = 0; i < s->user_attr.count; i++)
        if (s->attrs[i].str)
            attrs += strlen(s->attrs[i].str) + 1;
    info.bytes_total = sizeof *s + info.bytes_events + info.bytes_profiles + attrs +
                       persona__intern_bytes(&s->types) + persona__intern_bytes(&s->items) +
                       persona__intern_bytes(&s->baskets) + persona__intern_bytes(&s->names) +
                       persona__intern_bytes(&s->values);
    STORE_UNLOCK(store);
    return persona__struct_out(out, &info, sizeof info, sizeof info, "persona_store_info");
}

static int intern_at(char *buf, size_t capacity, size_t *out_len, const persona_store *store,
                     const persona__intern *t, uint64_t index, const char *what)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    STORE_RDLOCK(store);
    int rc;
    if (index >= t->count)
        rc = persona__fail(PERSONA_ENOTFOUND, "%s index %llu out of range (%zu)", what,
                           (unsigned long long)index, t->count);
    else
        rc = persona__copy_out(buf, capacity, out_len, persona__intern_str(t, (uint32_t)index),
                               persona__intern_len(t, (uint32_t)index));
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_user_at(char *buf, size_t capacity, size_t *out_len,
                                      const persona_store *store, uint64_t index)
{
    return intern_at(buf, capacity, out_len, store, store ? &store->users : NULL, index, "user");
}

PERSONA_API int persona_store_event_type_at(char *buf, size_t capacity, size_t *out_len,
                                            const persona_store *store, uint64_t index)
{
    return intern_at(buf, capacity, out_len, store, store ? &store->types : NULL, index,
                     "event type");
}

PERSONA_API int persona_store_profile_get(persona_profile_info *out, const persona_store *store,
                                          const char *user)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    persona_profile_info info;
    memset(&info, 0, sizeof info);
    STORE_RDLOCK(store);
    int rc;
    uint32_t id = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK) {
        const profile *p = &store->profiles[id];
        info.events = p->events;
        info.first_seen_ms = p->first_seen;
        info.last_seen_ms = p->last_seen;
        info.value_sum = p->value_sum + p->value_comp;
        info.orders = p->orders;
        if (persona__profile_sessions(store, id, &info.sessions))
            rc = persona__fail_nomem();
        info.event_types = p->n_types;
        info.attributes = persona__profile_attr_count(store, id);
    }
    STORE_UNLOCK(store);
    if (rc)
        return rc;
    return persona__struct_out(out, &info, sizeof info, sizeof info, "persona_profile_info");
}

PERSONA_API int persona_store_profile_type(uint64_t *count_out, double *value_out,
                                           const persona_store *store, const char *user,
                                           const char *type)
{
    if (!store || !type)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "type" : "store");
    STORE_RDLOCK(store);
    int rc;
    uint64_t count = 0;
    double value = 0;
    uint32_t id = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK) {
        uint32_t tid = persona__intern_find(&store->types, type, strlen(type));
        const type_stat *ts = tid == PERSONA__NO_ID ? NULL
                                                    : persona__profile_type_stat(store, id, tid);
        if (ts) {
            count = ts->count;
            value = ts->value + ts->comp;
        }
    }
    STORE_UNLOCK(store);
    if (rc == PERSONA_OK) {
        if (count_out)
            *count_out = count;
        if (value_out)
            *value_out = value;
    }
    return rc;
}

PERSONA_API int persona_store_profile_last(char *buf, size_t capacity, size_t *out_len,
                                           int64_t *time_out, const persona_store *store,
                                           const char *user, const char *name)
{
    if (!store || !name)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "name" : "store");
    STORE_RDLOCK(store);
    int rc;
    uint32_t id = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK) {
        uint32_t e = persona__store_pair_entry(&store->user_prop, id, &store->names, name);
        if (e == UINT32_MAX) {
            rc = persona__fail(PERSONA_ENOTFOUND, "user '%.200s' has no property '%.200s'", user,
                               name);
        } else {
            const last_prop *lp = &store->last_props[e];
            if (time_out)
                *time_out = lp->time_ms;
            rc = persona__copy_out(buf, capacity, out_len,
                                   persona__intern_str(&store->values, lp->value),
                                   persona__intern_len(&store->values, lp->value));
        }
    }
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_profile_engagement(double *out, const persona_store *store,
                                                 const char *user, const char *category,
                                                 int64_t at_ms)
{
    if (!store || !category || !out)
        return persona__fail(PERSONA_EINVAL, "store, category and out are required");
    STORE_RDLOCK(store);
    int rc;
    double score = 0;
    uint32_t id = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK) {
        uint32_t e = persona__store_pair_entry(&store->user_category, id, &store->values, category);
        if (e != UINT32_MAX) {
            const engagement *g = &store->engagements[e];
            /* in double: at_ms is any int64 and the difference could overflow */
            score = g->score *
                    exp2(-((double)at_ms - (double)g->ref_ms) / (double)store->half_life_ms);
        }
    }
    STORE_UNLOCK(store);
    if (rc == PERSONA_OK)
        *out = score;
    return rc;
}
