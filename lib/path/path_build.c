/* persona_path_build: under the store's read lock every event gets its state (the raw
 * value — type or property — through the grouping rules, each distinct raw value mapped
 * once), the counted events' times and states are bucketed by profile (a counting sort
 * keeps log order), each profile's events are put in time order (by session value first
 * with a session property; already in order in the usual case) and cut into sessions:
 * the bucketed states become the model's session states as they are. States are then
 * renumbered in bytewise order of their names and the Markov tables derived
 * (persona__path_derive). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/glob.h"
#include "path/path_internal.h"
#include "store/store_internal.h"

#define UNSET (UINT32_MAX - 1)
#define DROP UINT32_MAX

typedef struct scan {
    const persona_store *s;
    persona_path_model *m;
    uint32_t *raw_map; /* raw id (type or value) -> state id, UNSET, DROP */
    size_t n_raw;
    uint32_t none_state; /* "(none)", UNSET until used */
    int state_col, session_col; /* property columns, -1 = none */
    uint8_t *consent;           /* per root: 0 unknown, 1 granted, 2 not; NULL = everyone */
    uint32_t purpose;
    uint32_t *bucket;   /* users + 1: start of each profile's events in the pos_ arrays */
    /* the counted events grouped by profile, log order within each (then time order):
     * time, state (becomes the model's sess_states), session value (session property) */
    int64_t *pos_t;
    uint32_t *pos_s;
    uint32_t *pos_v;
} scan;

static void scan_free(scan *sc)
{
    persona__free(sc->raw_map);
    persona__free(sc->consent);
    persona__free(sc->bucket);
    persona__free(sc->pos_t);
    persona__free(sc->pos_s);
    persona__free(sc->pos_v);
}

static int prop_col(const persona_store *s, const char *name)
{
    uint32_t id = persona__intern_find(&s->names, name, strlen(name));
    return id == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, id);
}

static int scan_init(scan *sc, persona_path_model *m, const persona_store *s)
{
    memset(sc, 0, sizeof *sc);
    sc->s = s;
    sc->m = m;
    sc->none_state = UNSET;
    sc->state_col = m->spec.state_prop ? prop_col(s, m->spec.state_prop) : -1;
    sc->session_col = m->spec.session_prop ? prop_col(s, m->spec.session_prop) : -1;
    sc->n_raw = m->spec.state_prop ? s->values.count : s->types.count;
    sc->raw_map = persona__realloc_array(NULL, sc->n_raw + 1, sizeof *sc->raw_map);
    sc->bucket = persona__calloc(s->users.count + 2, sizeof *sc->bucket);
    if (!sc->raw_map || !sc->bucket)
        return persona__fail_nomem();
    for (size_t i = 0; i <= sc->n_raw; i++)
        sc->raw_map[i] = UNSET;
    if (m->spec.consent) {
        if (!(sc->consent = persona__calloc(s->users.count + 1, 1)))
            return persona__fail_nomem();
        sc->purpose = persona__intern_find(&s->names, m->spec.consent, strlen(m->spec.consent));
    }
    return PERSONA_OK;
}

static int consent_granted(scan *sc, uint32_t root)
{
    if (!sc->consent)
        return 1;
    if (!sc->consent[root]) {
        uint32_t e = sc->purpose == PERSONA__NO_ID ? UINT32_MAX
                                                   : persona__consent_entry(sc->s, root, sc->purpose);
        sc->consent[root] = e != UINT32_MAX && sc->s->consents[e].granted ? 1 : 2;
    }
    return sc->consent[root] == 1;
}

/* The state of a raw value (grouping rules applied); DROP or a state id. */
static uint32_t state_of_name(scan *sc, const char *raw, size_t len)
{
    const path_spec *sp = &sc->m->spec;
    const char *name = raw;
    for (size_t r = 0; r < sp->n_rules; r++)
        if (persona__glob_match(sp->pattern[r], strlen(sp->pattern[r]), raw, len)) {
            if (!sp->target[r])
                return DROP;
            name = sp->target[r];
            len = strlen(name);
            break;
        }
    if ((len == strlen(PERSONA_PATH_START) && memcmp(name, PERSONA_PATH_START, len) == 0) ||
        (len == strlen(PERSONA_PATH_END) && memcmp(name, PERSONA_PATH_END, len) == 0))
        return DROP;
    uint32_t id = persona__intern_add(&sc->m->states, name, len);
    return id == PERSONA__NO_ID ? UNSET : id;
}

/* State of a raw id (LOG_NO_ID: the property is missing). UNSET on ENOMEM. */
static uint32_t state_of(scan *sc, uint32_t raw)
{
    if (raw == LOG_NO_ID) {
        if (sc->none_state == UNSET) {
            uint32_t id = persona__intern_add(&sc->m->states, PERSONA_PATH_NONE,
                                              strlen(PERSONA_PATH_NONE));
            sc->none_state = id == PERSONA__NO_ID ? UNSET : id;
        }
        return sc->none_state;
    }
    if (sc->raw_map[raw] == UNSET) {
        const persona__intern *t = sc->m->spec.state_prop ? &sc->s->values : &sc->s->types;
        sc->raw_map[raw] = state_of_name(sc, persona__intern_str(t, raw), persona__intern_len(t, raw));
    }
    return sc->raw_map[raw];
}

/* The state of event k of chunk c, or DROP when it is not counted (consent, no session
 * value, dropped by a rule); UNSET on ENOMEM. Both passes ask, so that no per-event array
 * is kept between them (the second pass finds every raw value mapped already). */
static inline uint32_t event_state(scan *sc, const log_chunk *c, size_t k, uint32_t root)
{
    if (!consent_granted(sc, root))
        return DROP;
    if (sc->m->spec.session_prop &&
        (sc->session_col < 0 || !c->props[sc->session_col] || c->props[sc->session_col][k] == LOG_NO_ID))
        return DROP;
    const uint32_t *raw = !sc->m->spec.state_prop ? c->type
                          : sc->state_col >= 0 ? c->props[sc->state_col] : NULL;
    uint32_t r = raw ? raw[k] : LOG_NO_ID;
    return r != LOG_NO_ID && sc->raw_map[r] != UNSET ? sc->raw_map[r] : state_of(sc, r);
}

/* Pass 1: the counted events per profile. */
static int classify(scan *sc)
{
    const persona_store *s = sc->s;
    const persona__eventlog *l = &s->log;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        for (size_t k = 0; k < len; k++) {
            uint32_t root = persona__id_root(s, c->user[k]);
            uint32_t st = event_state(sc, c, k, root);
            if (st == UNSET)
                return persona__fail_nomem();
            if (st == DROP)
                sc->m->skipped += consent_granted(sc, root); /* not consenting: not counted */
            else
                sc->bucket[root + 1]++;
        }
    }
    return PERSONA_OK;
}

/* Fresh memory for n elements of size, its pages mapped at once (it is written in full). */
static void *fresh(size_t n, size_t size)
{
    void *p = persona__realloc_array(NULL, n + 1, size);
    if (p)
        persona__prefault(p, n * size);
    return p;
}

/* Pass 2: time, state and session value of the counted events grouped by profile, log
 * order kept within each. */
static int bucket_events(scan *sc)
{
    const persona_store *s = sc->s;
    size_t users = s->users.count;
    for (size_t u = 0; u < users; u++)
        sc->bucket[u + 1] += sc->bucket[u];
    size_t n = sc->bucket[users];
    sc->pos_t = fresh(n, sizeof *sc->pos_t);
    sc->pos_s = fresh(n, sizeof *sc->pos_s);
    if (!sc->pos_t || !sc->pos_s)
        return persona__fail_nomem();
    if (sc->m->spec.session_prop && !(sc->pos_v = fresh(n, sizeof *sc->pos_v)))
        return persona__fail_nomem();
    uint32_t *fill = sc->bucket; /* advanced while scattering, restored after */
    const persona__eventlog *l = &s->log;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        const uint32_t *sess = sc->pos_v ? c->props[sc->session_col] : NULL;
        for (size_t k = 0; k < len; k++) {
            uint32_t root = persona__id_root(s, c->user[k]);
            uint32_t st = event_state(sc, c, k, root);
            if (st == DROP)
                continue;
            uint32_t p = fill[root]++;
            sc->pos_t[p] = c->time[k];
            sc->pos_s[p] = st;
            if (sess)
                sc->pos_v[p] = sess[k];
        }
    }
    for (size_t u = users; u > 0; u--)
        sc->bucket[u] = sc->bucket[u - 1];
    sc->bucket[0] = 0;
    return PERSONA_OK;
}

/* One event of a profile being put in order: session value, time, position (= log order). */
typedef struct tev {
    uint32_t sess;
    uint32_t pos;
    int64_t t;
    uint32_t state;
} tev;

static int cmp_tev(const void *a, const void *b)
{
    const tev *x = a, *y = b;
    if (x->sess != y->sess)
        return x->sess < y->sess ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Put the events [a, b) of one profile in (session value,) time order, log order kept
 * among equals; tmp has room for b - a. */
static void order_profile(scan *sc, size_t a, size_t b, tev *tmp)
{
    int64_t *t = sc->pos_t;
    uint32_t *v = sc->pos_v;
    size_t i = a + 1;
    while (i < b && (v ? v[i - 1] < v[i] || (v[i - 1] == v[i] && t[i - 1] <= t[i]) : t[i - 1] <= t[i]))
        i++;
    if (i >= b)
        return; /* already in order: the usual case */
    for (size_t k = a; k < b; k++)
        tmp[k - a] = (tev){ v ? v[k] : 0, (uint32_t)(k - a), t[k], sc->pos_s[k] };
    qsort(tmp, b - a, sizeof *tmp, cmp_tev);
    for (size_t k = a; k < b; k++) {
        t[k] = tmp[k - a].t;
        sc->pos_s[k] = tmp[k - a].state;
        if (v)
            v[k] = tmp[k - a].sess;
    }
}

/* Whether event i of a profile starting at a begins a session. */
static inline int session_starts(const scan *sc, size_t a, size_t i)
{
    return i == a || (sc->pos_v ? sc->pos_v[i] != sc->pos_v[i - 1]
                                : sc->pos_t[i] - sc->pos_t[i - 1] > sc->m->spec.session_gap_ms);
}

/* The sessions of the profile whose events are [a, b), in order, from session *n on. */
static int cut_sessions(scan *sc, size_t a, size_t b, uint32_t root, uint64_t *n)
{
    persona_path_model *m = sc->m;
    /* the model's user table has the store's hash key (make_sessions), so the store's hash
     * of the key serves: no key is hashed again */
    const persona__intern *su = &sc->s->users;
    uint32_t user = persona__intern_add_h(&m->users, persona__intern_str(su, root),
                                          persona__intern_len(su, root),
                                          (uint64_t)su->entries[root].hash << 32);
    if (user == PERSONA__NO_ID)
        return persona__fail_nomem();
    int64_t latest = INT64_MIN; /* the latest session: the one whose last event is latest */
    for (size_t i = a; i < b; i++) {
        if (session_starts(sc, a, i)) {
            m->sess_start[*n] = i;
            m->sess_user[(*n)++] = user;
        }
        if (sc->pos_t[i] >= latest) {
            latest = sc->pos_t[i];
            m->user_last[user] = (uint32_t)(*n - 1);
        }
    }
    return PERSONA_OK;
}

static int make_sessions(scan *sc)
{
    persona_path_model *m = sc->m;
    const persona_store *s = sc->s;
    size_t events = sc->bucket[s->users.count], longest = 0, users = 0, key_bytes = 0;
    for (size_t u = 0; u < s->users.count; u++) {
        size_t len = sc->bucket[u + 1] - sc->bucket[u];
        longest = len > longest ? len : longest;
        users += len > 0;
        key_bytes += len > 0 ? persona__intern_len(&s->users, (uint32_t)u) : 0;
    }
    if (events >= UINT32_MAX)
        return persona__fail(PERSONA_EINVAL, "%zu events: more than the limit", events);
    tev *tmp = persona__realloc_array(NULL, longest + 1, sizeof *tmp);
    if (!tmp)
        return persona__fail_nomem();
    /* first every profile in order and the sessions counted, then the sessions cut */
    uint64_t n = 0;
    for (size_t u = 0; u < s->users.count; u++) {
        size_t a = sc->bucket[u], b = sc->bucket[u + 1];
        order_profile(sc, a, b, tmp);
        for (size_t i = a; i < b; i++)
            n += (uint64_t)session_starts(sc, a, i);
    }
    persona__free(tmp);
    persona__intern_free(&m->users);
    persona__intern_init(&m->users, s->users.key);
    m->user_last = persona__realloc_array(NULL, users + 1, sizeof *m->user_last);
    m->sess_start = fresh(n + 1, sizeof *m->sess_start);
    m->sess_user = fresh(n, sizeof *m->sess_user);
    if (!m->user_last || !m->sess_start || !m->sess_user ||
        persona__intern_reserve(&m->users, users, key_bytes))
        return persona__fail_nomem();
    uint64_t k = 0;
    for (size_t u = 0; u < s->users.count; u++) {
        size_t a = sc->bucket[u], b = sc->bucket[u + 1];
        int rc = a < b ? cut_sessions(sc, a, b, (uint32_t)u, &k) : PERSONA_OK;
        if (rc)
            return rc;
    }
    m->sess_start[n] = events;
    m->n_sessions = n;
    m->sess_states = sc->pos_s; /* the events in order are the sessions one after another */
    sc->pos_s = NULL;
    return PERSONA_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Renumber the states in bytewise order of their names ("(start)" and "(end)" added). */
static int sort_states(persona_path_model *m)
{
    if (persona__intern_add(&m->states, PERSONA_PATH_START, strlen(PERSONA_PATH_START)) == PERSONA__NO_ID ||
        persona__intern_add(&m->states, PERSONA_PATH_END, strlen(PERSONA_PATH_END)) == PERSONA__NO_ID)
        return persona__fail_nomem();
    size_t n = m->states.count;
    const char **keys = persona__realloc_array(NULL, n, sizeof *keys);
    uint32_t *map = persona__realloc_array(NULL, n, sizeof *map);
    persona__intern sorted;
    persona__intern_init(&sorted, m->states.key);
    int rc = !keys || !map ? persona__fail_nomem() : PERSONA_OK;
    for (size_t i = 0; !rc && i < n; i++)
        keys[i] = persona__intern_str(&m->states, (uint32_t)i);
    if (!rc)
        qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; !rc && i < n; i++)
        if (persona__intern_add(&sorted, keys[i], strlen(keys[i])) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
    for (size_t i = 0; !rc && i < n; i++)
        map[i] = persona__intern_find(&sorted, persona__intern_str(&m->states, (uint32_t)i),
                                      persona__intern_len(&m->states, (uint32_t)i));
    if (!rc) {
        uint64_t total = m->sess_start[m->n_sessions];
        for (uint64_t i = 0; i < total; i++)
            m->sess_states[i] = map[m->sess_states[i]];
        persona__intern_free(&m->states);
        m->states = sorted;
        persona__path_special_ids(m);
    } else {
        persona__intern_free(&sorted);
    }
    persona__free(keys);
    persona__free(map);
    return rc;
}

static int build_locked(persona_path_model *m, const persona_store *s)
{
    scan sc;
    int rc = scan_init(&sc, m, s);
    if (!rc)
        rc = classify(&sc);
    if (!rc)
        rc = bucket_events(&sc);
    if (!rc)
        rc = make_sessions(&sc);
    scan_free(&sc);
    return rc;
}

PERSONA_API int persona_path_build(persona_path_model **out, const persona_store *store,
                                   const persona_path_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "store" : "out");
    persona_path_model *m = persona__path_alloc();
    if (!m)
        return persona__fail_nomem();
    int rc = persona__path_spec_from(&m->spec, opts, store->session_gap_ms);
    if (!rc) {
        STORE_RDLOCK(store);
        rc = build_locked(m, store);
        STORE_UNLOCK(store);
    }
    if (!rc)
        rc = sort_states(m);
    if (!rc)
        rc = persona__path_derive(m);
    return persona__path_hand_over(out, m, rc);
}
