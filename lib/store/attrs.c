/* Host-set typed attributes and consent per purpose. Each setter is one small change
 * made under the write lock after every allocation it needs has succeeded.
 *
 * Values stay with the identifier they were set through (so unmerging gives every part
 * its own back); a profile's value of a name is the one set last across its identifiers
 * (consent: the latest time, then the later call), by the store-wide sequence number. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store_internal.h"
#include "segment/live.h"

typedef struct name_slot {
    uint32_t user, name;
} name_slot;

/* Ensure the user and the name exist and the pair map has room. */
static int prepare_pair(persona_store *s, const char *user, const char *name, const char *what,
                        persona__pairmap *map, void **values, size_t *values_cap,
                        size_t value_size, name_slot *out)
{
    int rc = persona__check_key(name, what);
    if (rc)
        return rc;
    rc = persona__check_key(user, "user");
    if (rc)
        return rc;
    size_t name_len = strlen(name);
    if (persona__intern_reserve(&s->names, 1, name_len) ||
        persona__pairmap_reserve(map, 1) ||
        persona__grow(values, values_cap, map->count + 1, value_size, 16))
        return persona__fail_nomem();
    rc = persona__store_ensure_user(s, user, &out->user);
    if (rc)
        return rc;
    out->name = persona__intern_add(&s->names, name, name_len);
    return PERSONA_OK;
}

static int attr_set(persona_store *s, const char *user, const char *name, const attr_value *v,
                    const char *str)
{
    if (!s)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    if (persona__live_check_reentry(s))
        return PERSONA_EMISUSE;
    char *copy = NULL;
    if (str) {
        size_t len = strlen(str);
        int rc = persona__check_key(str[0] ? str : "x", "attribute value");
        if (rc)
            return rc;
        copy = persona__strndup(str, len);
        if (!copy)
            return persona__fail_nomem();
    }
    pthread_mutex_lock(&s->live_lock); /* no live callbacks pending meanwhile (live.h) */
    STORE_WRLOCK(s);
    name_slot ns;
    int rc = persona__live_reserve(s, s->users.count + 1, s->log.count) ? persona__fail_nomem() : PERSONA_OK;
    if (rc == PERSONA_OK)
        rc = prepare_pair(s, user, name, "attribute name", &s->user_attr, (void **)&s->attrs,
                          &s->attrs_cap, sizeof *s->attrs, &ns);
    if (rc == PERSONA_OK) {
        profile *p = &s->profiles[ns.user];
        uint64_t key = PERSONA__PAIR(ns.user, ns.name);
        uint32_t e = persona__pairmap_find(&s->user_attr, key);
        if (e == UINT32_MAX) {
            e = persona__pairmap_add(&s->user_attr, key, &p->head_attr);
            s->attrs[e].str = NULL;
            s->attrs[e].type = -1;
        }
        if (s->attrs[e].type < 0)
            p->n_attrs++;
        persona__free(s->attrs[e].str);
        s->attrs[e] = *v;
        s->attrs[e].str = copy;
        s->attrs[e].seq = ++s->set_seq;
        copy = NULL;
        persona__live_after_change(s, persona__id_root(s, ns.user));
    }
    STORE_UNLOCK(s);
    pthread_mutex_unlock(&s->live_lock);
    persona__free(copy);
    return rc;
}

PERSONA_API int persona_store_attr_set_num(persona_store *store, const char *user,
                                           const char *name, double value)
{
    if (!isfinite(value))
        return persona__fail(PERSONA_EINVAL, "attribute '%.200s': value is not finite",
                             name ? name : "");
    attr_value v = { PERSONA_NUM, 0, value, 0, NULL, 0 };
    return attr_set(store, user, name, &v, NULL);
}

PERSONA_API int persona_store_attr_set_str(persona_store *store, const char *user,
                                           const char *name, const char *value)
{
    if (!value)
        return persona__fail(PERSONA_EINVAL, "attribute value is NULL");
    attr_value v = { PERSONA_STR, 0, 0, 0, NULL, 0 };
    return attr_set(store, user, name, &v, value);
}

PERSONA_API int persona_store_attr_set_bool(persona_store *store, const char *user,
                                            const char *name, int32_t value)
{
    attr_value v = { PERSONA_BOOL, value != 0, 0, 0, NULL, 0 };
    return attr_set(store, user, name, &v, NULL);
}

PERSONA_API int persona_store_attr_set_time(persona_store *store, const char *user,
                                            const char *name, int64_t value)
{
    if (value < PERSONA_TIME_MIN || value > PERSONA_TIME_MAX)
        return persona__fail(PERSONA_EINVAL, "attribute '%.200s': time out of range",
                             name ? name : "");
    attr_value v = { PERSONA_TIME, 0, 0, value, NULL, 0 };
    return attr_set(store, user, name, &v, NULL);
}

PERSONA_API int persona_store_attr_set_null(persona_store *store, const char *user,
                                            const char *name)
{
    attr_value v = { PERSONA_NULL, 0, 0, 0, NULL, 0 };
    return attr_set(store, user, name, &v, NULL);
}

/* Find an attribute; ENOTFOUND / EINVAL recorded. Caller holds a lock. */
static const attr_value *attr_find(const persona_store *s, const char *user, const char *name,
                                   int *rc)
{
    if (!s || !name) {
        *rc = persona__fail(PERSONA_EINVAL, "%s is NULL", s ? "name" : "store");
        return NULL;
    }
    uint32_t id = persona__store_find_user(s, user, rc);
    if (*rc)
        return NULL;
    uint32_t nid = persona__intern_find(&s->names, name, strlen(name));
    uint32_t e = nid == PERSONA__NO_ID ? UINT32_MAX : persona__attr_entry(s, id, nid);
    if (e == UINT32_MAX || s->attrs[e].type < 0) {
        *rc = persona__fail(PERSONA_ENOTFOUND, "user '%.200s' has no attribute '%.200s'", user,
                            name);
        return NULL;
    }
    return &s->attrs[e];
}

PERSONA_API int persona_store_attr_remove(persona_store *store, const char *user,
                                          const char *name)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    pthread_mutex_lock(&store->live_lock);
    STORE_WRLOCK(store);
    int rc;
    if (attr_find(store, user, name, &rc)) {
        /* Every identifier's value goes; the removal is ordered like a setting, so a value
         * set earlier through an identifier linked later does not come back. */
        uint32_t root = persona__store_find_user(store, user, &rc);
        uint32_t nid = persona__intern_find(&store->names, name, strlen(name));
        uint64_t seq = ++store->set_seq;
        uint32_t m = root;
        do {
            uint32_t e = persona__pairmap_find(&store->user_attr, PERSONA__PAIR(m, nid));
            if (e != UINT32_MAX && store->attrs[e].type >= 0) {
                persona__free(store->attrs[e].str);
                store->attrs[e].str = NULL;
                store->attrs[e].type = -1;
                store->attrs[e].seq = seq;
                store->profiles[m].n_attrs--;
            }
            m = persona__id_next(store, m);
        } while (m != root);
        persona__live_after_change(store, root);
    }
    STORE_UNLOCK(store);
    pthread_mutex_unlock(&store->live_lock);
    return rc;
}

static const char *type_name(int32_t t)
{
    static const char *const names[] = { "NULL", "NUM", "STR", "BOOL", "TIME" };
    return t >= 0 && t <= PERSONA_TIME ? names[t] : "?";
}

/* Read an attribute of an expected type into *out under the read lock. */
static int attr_get(const persona_store *store, const char *user, const char *name,
                    int32_t want, attr_value *out, char *buf, size_t capacity, size_t *out_len)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    STORE_RDLOCK(store);
    int rc;
    const attr_value *v = attr_find(store, user, name, &rc);
    if (v && want >= 0 && v->type != want)
        rc = persona__fail(PERSONA_EINVAL, "attribute '%.200s' is %s, not %s", name,
                           type_name(v->type), type_name(want));
    else if (v && want == PERSONA_STR)
        rc = persona__copy_out(buf, capacity, out_len, v->str, strlen(v->str));
    else if (v)
        *out = *v;
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_attr_type(int32_t *out, const persona_store *store,
                                        const char *user, const char *name)
{
    attr_value v;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = attr_get(store, user, name, -1, &v, NULL, 0, NULL);
    if (rc == PERSONA_OK)
        *out = v.type;
    return rc;
}

PERSONA_API int persona_store_attr_get_num(double *out, const persona_store *store,
                                           const char *user, const char *name)
{
    attr_value v;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = attr_get(store, user, name, PERSONA_NUM, &v, NULL, 0, NULL);
    if (rc == PERSONA_OK)
        *out = v.num;
    return rc;
}

PERSONA_API int persona_store_attr_get_str(char *buf, size_t capacity, size_t *out_len,
                                           const persona_store *store, const char *user,
                                           const char *name)
{
    attr_value v;
    return attr_get(store, user, name, PERSONA_STR, &v, buf, capacity, out_len);
}

PERSONA_API int persona_store_attr_get_bool(int32_t *out, const persona_store *store,
                                            const char *user, const char *name)
{
    attr_value v;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = attr_get(store, user, name, PERSONA_BOOL, &v, NULL, 0, NULL);
    if (rc == PERSONA_OK)
        *out = v.boolean;
    return rc;
}

PERSONA_API int persona_store_attr_get_time(int64_t *out, const persona_store *store,
                                            const char *user, const char *name)
{
    attr_value v;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = attr_get(store, user, name, PERSONA_TIME, &v, NULL, 0, NULL);
    if (rc == PERSONA_OK)
        *out = v.time_ms;
    return rc;
}

PERSONA_API int persona_store_consent_set(persona_store *store, const char *user,
                                          const char *purpose, int32_t granted, int64_t time_ms)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    if (time_ms < PERSONA_TIME_MIN || time_ms > PERSONA_TIME_MAX)
        return persona__fail(PERSONA_EINVAL, "consent time out of range");
    /* A host's setting re-evaluates silently here; one carried by an event (event rules)
     * is looked at, and called back, with the rest of its batch. */
    pthread_mutex_lock(&store->live_lock);
    STORE_WRLOCK(store);
    int rc = persona__consent_set_locked(store, user, purpose, granted, time_ms);
    if (rc == PERSONA_OK) {
        uint32_t id = persona__intern_find(&store->users, user, strlen(user));
        if (id != PERSONA__NO_ID)
            persona__live_after_change(store, persona__id_root(store, id));
    }
    STORE_UNLOCK(store);
    pthread_mutex_unlock(&store->live_lock);
    return rc;
}

int persona__consent_set_locked(persona_store *store, const char *user, const char *purpose,
                                int32_t granted, int64_t time_ms)
{
    name_slot ns;
    int rc = persona__live_reserve(store, store->users.count + 1, store->log.count) ? persona__fail_nomem() : PERSONA_OK;
    if (rc == PERSONA_OK)
        rc = prepare_pair(store, user, purpose, "purpose", &store->user_consent,
                          (void **)&store->consents, &store->consents_cap,
                          sizeof *store->consents, &ns);
    if (rc == PERSONA_OK) {
        uint64_t key = PERSONA__PAIR(ns.user, ns.name);
        uint32_t e = persona__pairmap_find(&store->user_consent, key);
        if (e == UINT32_MAX)
            e = persona__pairmap_add(&store->user_consent, key,
                                     &store->profiles[ns.user].head_consent);
        store->consents[e].granted = granted != 0;
        store->consents[e].time_ms = time_ms;
        store->consents[e].seq = ++store->set_seq;
        persona__live_touch(store, persona__id_root(store, ns.user));
    }
    return rc;
}

PERSONA_API int persona_store_consent_get(int32_t *granted_out, int64_t *time_out,
                                          const persona_store *store, const char *user,
                                          const char *purpose)
{
    if (!store || !purpose)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "purpose" : "store");
    STORE_RDLOCK(store);
    int rc;
    uint32_t id = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK) {
        uint32_t nid = persona__intern_find(&store->names, purpose, strlen(purpose));
        uint32_t e = nid == PERSONA__NO_ID ? UINT32_MAX : persona__consent_entry(store, id, nid);
        if (e == UINT32_MAX) {
            rc = persona__fail(PERSONA_ENOTFOUND, "no consent for '%.200s' recorded for '%.200s'",
                               purpose, user);
        } else {
            if (granted_out)
                *granted_out = store->consents[e].granted;
            if (time_out)
                *time_out = store->consents[e].time_ms;
        }
    }
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_set_tracking(persona_store *store, const char *user,
                                           int32_t tracking)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    STORE_WRLOCK(store);
    uint32_t u;
    int rc = persona__store_ensure_user(store, user, &u);
    if (rc == PERSONA_OK) {
        profile *p = &store->profiles[persona__id_root(store, u)];
        int was_untracked = (p->flags & PROFILE_UNTRACKED) != 0;
        if (tracking)
            p->flags &= ~PROFILE_UNTRACKED;
        else
            p->flags |= PROFILE_UNTRACKED;
        store->n_untracked += (uint32_t)!tracking - (uint32_t)was_untracked;
        store->epoch++;
    }
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_get_tracking(int32_t *tracking_out, const persona_store *store,
                                           const char *user)
{
    if (!store || !tracking_out)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "tracking_out" : "store");
    STORE_RDLOCK(store);
    int rc;
    uint32_t u = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK)
        *tracking_out = !(store->profiles[u].flags & PROFILE_UNTRACKED);
    STORE_UNLOCK(store);
    return rc;
}

uint32_t persona__attr_entry(const persona_store *s, uint32_t root, uint32_t name)
{
    uint32_t best = UINT32_MAX, m = root;
    do {
        uint32_t e = persona__pairmap_find(&s->user_attr, PERSONA__PAIR(m, name));
        if (e != UINT32_MAX && (best == UINT32_MAX || s->attrs[e].seq > s->attrs[best].seq))
            best = e;
        m = persona__id_next(s, m);
    } while (m != root);
    return best;
}

uint32_t persona__consent_entry(const persona_store *s, uint32_t root, uint32_t name)
{
    uint32_t best = UINT32_MAX, m = root;
    do {
        uint32_t e = persona__pairmap_find(&s->user_consent, PERSONA__PAIR(m, name));
        if (e != UINT32_MAX) {
            const consent_value *c = &s->consents[e], *b = best == UINT32_MAX ? NULL : &s->consents[best];
            if (!b || c->time_ms > b->time_ms || (c->time_ms == b->time_ms && c->seq > b->seq))
                best = e;
        }
        m = persona__id_next(s, m);
    } while (m != root);
    return best;
}

uint32_t persona__profile_attr_count(const persona_store *s, uint32_t root)
{
    if (persona__id_next(s, root) == root)
        return s->profiles[root].n_attrs;
    /* A name counts once, at the entry that wins it. */
    uint32_t n = 0, m = root;
    do {
        for (uint32_t e = s->profiles[m].head_attr; e != UINT32_MAX; e = s->user_attr.next[e])
            n += s->attrs[e].type >= 0 &&
                 persona__attr_entry(s, root, PERSONA__PAIR_X(s->user_attr.keys[e])) == e;
        m = persona__id_next(s, m);
    } while (m != root);
    return n;
}
