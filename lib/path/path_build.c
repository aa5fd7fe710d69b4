/* persona_path_build: under the store's read lock every event gets its state (the raw
 * value — type or property — through the grouping rules, each distinct raw value mapped
 * once), the counted events are bucketed by profile (a counting sort keeps log order),
 * each profile's events are put in time order (by session value first with a session
 * property) and cut into sessions. States are then renumbered in bytewise order of their
 * names and the Markov tables derived (persona__path_derive). */
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
    int session_missing;        /* a session property the log has no column of */
    uint8_t *consent;           /* per root: 0 unknown, 1 granted, 2 not; NULL = everyone */
    uint32_t purpose;
    uint32_t *ev_state; /* per log event: state id or DROP */
    uint32_t *ev_sess;  /* per log event: session value (session property) */
    uint32_t *bucket;   /* users + 1: start of each profile's events in order[] */
    uint32_t *order;    /* log indexes grouped by profile */
} scan;

static void scan_free(scan *sc)
{
    persona__free(sc->raw_map);
    persona__free(sc->consent);
    persona__free(sc->ev_state);
    persona__free(sc->ev_sess);
    persona__free(sc->bucket);
    persona__free(sc->order);
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
    sc->session_missing = m->spec.session_prop && sc->session_col < 0;
    sc->n_raw = m->spec.state_prop ? s->values.count : s->types.count;
    size_t n = s->log.count;
    sc->raw_map = persona__realloc_array(NULL, sc->n_raw + 1, sizeof *sc->raw_map);
    sc->ev_state = persona__realloc_array(NULL, n + 1, sizeof *sc->ev_state);
    sc->bucket = persona__calloc(s->users.count + 2, sizeof *sc->bucket);
    sc->order = persona__realloc_array(NULL, n + 1, sizeof *sc->order);
    if (!sc->raw_map || !sc->ev_state || !sc->bucket || !sc->order)
        return persona__fail_nomem();
    if (m->spec.session_prop && !(sc->ev_sess = persona__realloc_array(NULL, n + 1, sizeof *sc->ev_sess)))
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

/* Pass 1: each event's state, and the events counted per profile. */
static int classify(scan *sc)
{
    const persona_store *s = sc->s;
    const persona__eventlog *l = &s->log;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        const uint32_t *raw = sc->state_col >= 0 ? c->props[sc->state_col] : NULL;
        const uint32_t *sess = sc->session_col >= 0 ? c->props[sc->session_col] : NULL;
        for (size_t k = 0; k < len; k++) {
            size_t i = ci * LOG_CHUNK + k;
            uint32_t root = persona__id_root(s, c->user[k]);
            sc->ev_state[i] = DROP;
            if (!consent_granted(sc, root))
                continue;
            uint32_t sv = sess ? sess[k] : LOG_NO_ID;
            if (sc->ev_sess)
                sc->ev_sess[i] = sv;
            if (sc->session_missing || (sc->ev_sess && sv == LOG_NO_ID)) {
                sc->m->skipped++;
                continue;
            }
            uint32_t st = state_of(sc, sc->m->spec.state_prop ? (raw ? raw[k] : LOG_NO_ID)
                                                              : c->type[k]);
            if (st == UNSET)
                return persona__fail_nomem();
            if (st == DROP) {
                sc->m->skipped++;
                continue;
            }
            sc->ev_state[i] = st;
            sc->bucket[root + 1]++;
        }
    }
    return PERSONA_OK;
}

/* Pass 2: log indexes grouped by profile, log order kept within each. */
static void bucket_events(scan *sc)
{
    size_t users = sc->s->users.count;
    for (size_t u = 0; u < users; u++)
        sc->bucket[u + 1] += sc->bucket[u];
    uint32_t *fill = sc->bucket; /* advanced while scattering, restored after */
    const persona__eventlog *l = &sc->s->log;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        for (size_t k = 0; k < len; k++) {
            size_t i = ci * LOG_CHUNK + k;
            if (sc->ev_state[i] != DROP)
                sc->order[fill[persona__id_root(sc->s, c->user[k])]++] = (uint32_t)i;
        }
    }
    for (size_t u = users; u > 0; u--)
        sc->bucket[u] = sc->bucket[u - 1];
    sc->bucket[0] = 0;
}

typedef struct tev {
    uint32_t sess;
    uint32_t idx;
    int64_t t;
} tev;

static int cmp_tev(const void *a, const void *b)
{
    const tev *x = a, *y = b;
    if (x->sess != y->sess)
        return x->sess < y->sess ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

typedef struct out_buf {
    uint64_t *start;
    uint32_t *user;
    size_t n, cap;
    uint32_t *states;
    size_t n_states;
} out_buf;

static int new_session(persona_path_model *m, out_buf *o, uint32_t user)
{
    if (o->n + 2 > o->cap) {
        size_t cap = o->cap;
        if (persona__grow((void **)&m->sess_start, &cap, o->n + 2, sizeof *m->sess_start, 1024))
            return persona__fail_nomem();
        uint32_t *u = persona__realloc_array(m->sess_user, cap, sizeof *u);
        if (!u)
            return persona__fail_nomem();
        m->sess_user = u; /* sess_user follows sess_start's capacity */
        o->cap = cap;
    }
    m->sess_start[o->n] = o->n_states;
    m->sess_user[o->n] = user;
    o->n++;
    return PERSONA_OK;
}

/* The sessions of one profile from its events ev[0..n) in time order. */
static int cut_sessions(scan *sc, out_buf *o, const tev *ev, size_t n, uint32_t root)
{
    persona_path_model *m = sc->m;
    const char *key = persona__intern_str(&sc->s->users, root);
    uint32_t user = persona__intern_add(&m->users, key, strlen(key));
    if (user == PERSONA__NO_ID)
        return persona__fail_nomem();
    int64_t latest = INT64_MIN; /* the latest session: the one whose last event is latest */
    for (size_t i = 0; i < n; i++) {
        int fresh = i == 0 || (sc->ev_sess ? ev[i].sess != ev[i - 1].sess
                                           : ev[i].t - ev[i - 1].t > m->spec.session_gap_ms);
        int rc = fresh ? new_session(m, o, user) : PERSONA_OK;
        if (rc)
            return rc;
        m->sess_states[o->n_states++] = sc->ev_state[ev[i].idx];
        if (ev[i].t >= latest) {
            latest = ev[i].t;
            m->user_last[user] = (uint32_t)(o->n - 1);
        }
    }
    return PERSONA_OK;
}

static int make_sessions(scan *sc)
{
    persona_path_model *m = sc->m;
    const persona_store *s = sc->s;
    size_t events = sc->bucket[s->users.count], longest = 0;
    for (size_t u = 0; u < s->users.count; u++)
        if (sc->bucket[u + 1] - sc->bucket[u] > longest)
            longest = sc->bucket[u + 1] - sc->bucket[u];
    if (events >= UINT32_MAX)
        return persona__fail(PERSONA_EINVAL, "%zu events: more than the limit", events);
    m->sess_states = persona__realloc_array(NULL, events + 1, sizeof *m->sess_states);
    m->user_last = persona__realloc_array(NULL, s->users.count + 1, sizeof *m->user_last);
    tev *ev = persona__realloc_array(NULL, longest + 1, sizeof *ev);
    int rc = !m->sess_states || !m->user_last || !ev ? persona__fail_nomem() : PERSONA_OK;
    out_buf o = { 0 };
    for (size_t u = 0; !rc && u < s->users.count; u++) {
        size_t a = sc->bucket[u], n = sc->bucket[u + 1] - a;
        if (!n)
            continue;
        int sorted = 1;
        for (size_t i = 0; i < n; i++) {
            uint32_t idx = sc->order[a + i];
            ev[i] = (tev){ sc->ev_sess ? sc->ev_sess[idx] : 0, idx, persona__eventlog_time(&s->log, idx) };
            if (i && cmp_tev(&ev[i - 1], &ev[i]) > 0)
                sorted = 0;
        }
        if (!sorted)
            qsort(ev, n, sizeof *ev, cmp_tev);
        rc = cut_sessions(sc, &o, ev, n, (uint32_t)u);
    }
    persona__free(ev);
    if (rc)
        return rc;
    if (!o.n && !(m->sess_start = persona__calloc(1, sizeof *m->sess_start)))
        return persona__fail_nomem();
    m->sess_start[o.n] = o.n_states;
    m->n_sessions = o.n;
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
    if (!rc) {
        bucket_events(&sc);
        rc = make_sessions(&sc);
    }
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
