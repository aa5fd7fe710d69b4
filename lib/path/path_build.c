/* persona_path_build: under the store's read lock every event gets its state (the raw
 * value — type or property — through the grouping rules, each distinct raw value mapped
 * once) and the counted events' states are bucketed by profile (a counting sort keeps log
 * order); the bucketed states become the model's session states as they are. States are
 * then renumbered in bytewise order of their names and the Markov tables derived
 * (persona__path_derive).
 *
 * Why two kinds of profile: the log is nearly always in time order per profile, and then
 * a profile's sessions can be cut while scattering (the gap to its previous event), so
 * only a state per event is written to the scattered array — the bulk of the build's
 * memory traffic. A profile found out of time order in the first pass — and every profile
 * when sessions come from a property — also has its times (and session values) scattered
 * to side arrays, is put in order there and cut afterwards. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/glob.h"
#include "path/path_internal.h"
#include "store/store_internal.h"

#define UNSET (UINT32_MAX - 1)
#define DROP UINT32_MAX
#define SESSION_START (UINT32_C(1) << 31) /* the flag on a bucketed state */
#define MAX_STATES SESSION_START
#define PREFETCH_AHEAD 8
#define IN_ORDER UINT32_MAX                /* user_scan.side of a profile in time order */

/* A profile during the scan. */
typedef struct user_scan {
    int64_t last;  /* pass 1: latest time of its counted events; pass 2: of those so far */
    uint32_t pos;  /* pass 1: its counted events; then its next position in pos_s */
    uint32_t side; /* IN_ORDER, else its next position in the side arrays */
} user_scan;

typedef struct scan {
    const persona_store *s;
    persona_path_model *m;
    uint32_t *raw_map; /* raw id (type or value) -> state id, UNSET, DROP */
    size_t n_raw;
    uint32_t none_state; /* "(none)", UNSET until used */
    int state_col, session_col; /* property columns, -1 = none */
    uint8_t *consent;           /* per root: 0 unknown, 1 granted, 2 not; NULL = everyone */
    uint32_t purpose;
    user_scan *u;       /* per root */
    /* the counted events' states grouped by profile, log order within each (then time
     * order), SESSION_START set on each session's first (becomes the model's sess_states) */
    uint32_t *pos_s;
    /* the side arrays: time and session value of the events of the profiles put in order
     * after the scatter, grouped alike */
    int64_t *side_t;
    uint32_t *side_v;
    size_t n_events; /* counted */
} scan;

static void scan_free(scan *sc)
{
    persona__free(sc->raw_map);
    persona__free(sc->consent);
    persona__free(sc->u);
    persona__free(sc->pos_s);
    persona__free(sc->side_t);
    persona__free(sc->side_v);
}

static int prop_col(const persona_store *s, const char *name)
{
    uint32_t id = persona__intern_find(&s->names, name, strlen(name));
    return id == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, id);
}

/* Fresh memory for n elements of size, its pages mapped at once (it is written in full). */
static void *fresh(size_t n, size_t size)
{
    void *p = persona__realloc_array(NULL, n + 1, size);
    if (p)
        persona__prefault(p, n * size);
    return p;
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
    sc->u = fresh(s->users.count, sizeof *sc->u);
    if (!sc->raw_map || !sc->u)
        return persona__fail_nomem();
    for (size_t i = 0; i <= sc->n_raw; i++)
        sc->raw_map[i] = UNSET;
    for (size_t i = 0; i < s->users.count; i++)
        sc->u[i] = (user_scan){ INT64_MIN, 0, IN_ORDER };
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

/* Pass 1: the counted events per profile, and the profiles to put in order later. */
static int classify(scan *sc)
{
    const persona_store *s = sc->s;
    const persona__eventlog *l = &s->log;
    int by_property = sc->m->spec.session_prop != NULL;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        for (size_t k = 0; k < len; k++) {
            uint32_t root = persona__id_root(s, c->user[k]);
            uint32_t st = event_state(sc, c, k, root);
            if (st == UNSET)
                return persona__fail_nomem();
            if (st == DROP) {
                sc->m->skipped += consent_granted(sc, root); /* not consenting: not counted */
                continue;
            }
            user_scan *u = &sc->u[root];
            int64_t t = c->time[k];
            if (t < u->last || by_property)
                u->side = 0;
            u->last = t > u->last ? t : u->last;
            u->pos++;
        }
    }
    if (sc->m->states.count >= MAX_STATES)
        return persona__fail(PERSONA_EINVAL, "%zu states: more than the limit",
                             (size_t)sc->m->states.count);
    return PERSONA_OK;
}

/* Between the passes: each profile's first position in pos_s (and in the side arrays). */
static int place_profiles(scan *sc)
{
    size_t pos = 0, side = 0;
    for (size_t r = 0; r < sc->s->users.count; r++) {
        user_scan *u = &sc->u[r];
        size_t n = u->pos;
        u->pos = (uint32_t)pos;
        u->last = INT64_MIN;
        if (u->side != IN_ORDER) {
            u->side = (uint32_t)side;
            side += n;
        }
        pos += n;
        if (pos >= UINT32_MAX)
            return persona__fail(PERSONA_EINVAL, "more than %u events: more than the limit",
                                 (unsigned)UINT32_MAX - 1);
    }
    sc->n_events = pos;
    sc->pos_s = fresh(pos, sizeof *sc->pos_s);
    if (!sc->pos_s)
        return persona__fail_nomem();
    if (side && !(sc->side_t = fresh(side, sizeof *sc->side_t)))
        return persona__fail_nomem();
    if (side && sc->m->spec.session_prop && !(sc->side_v = fresh(side, sizeof *sc->side_v)))
        return persona__fail_nomem();
    return PERSONA_OK;
}

/* Pass 2: the counted events' states grouped by profile, log order kept within each; the
 * sessions of profiles in order cut on the way. Leaves each profile's pos at its end. */
static void scatter(scan *sc)
{
    const persona_store *s = sc->s;
    const persona__eventlog *l = &s->log;
    int64_t gap = sc->m->spec.session_gap_ms;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        const uint32_t *sess = sc->side_v ? c->props[sc->session_col] : NULL;
        for (size_t k = 0; k < len; k++) {
            uint32_t root = persona__id_root(s, c->user[k]);
            uint32_t st = event_state(sc, c, k, root);
            if (st == DROP)
                continue;
            user_scan *u = &sc->u[root];
            int64_t t = c->time[k];
            uint32_t p = u->pos++;
            if (u->side == IN_ORDER) {
                st |= u->last == INT64_MIN || t - u->last > gap ? SESSION_START : 0;
                u->last = t;
            } else {
                uint32_t q = u->side++;
                sc->side_t[q] = t;
                if (sess)
                    sc->side_v[q] = sess[k];
            }
            sc->pos_s[p] = st;
        }
    }
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

/* Put the n events of a profile out of order in (session value,) time order, log order
 * kept among equals, and flag its sessions' first events: s = its states, t and v its
 * side times and values (v NULL by gap); tmp has room for n. Returns the index of the
 * profile's latest session (the one whose last event is latest; the later on a tie). */
static uint32_t order_profile(scan *sc, uint32_t *s, int64_t *t, uint32_t *v, size_t n, tev *tmp)
{
    size_t i = 1;
    while (i < n && (v ? v[i - 1] < v[i] || (v[i - 1] == v[i] && t[i - 1] <= t[i]) : t[i - 1] <= t[i]))
        i++;
    if (i < n) {
        for (size_t k = 0; k < n; k++)
            tmp[k] = (tev){ v ? v[k] : 0, (uint32_t)k, t[k], s[k] };
        qsort(tmp, n, sizeof *tmp, cmp_tev);
        for (size_t k = 0; k < n; k++) {
            t[k] = tmp[k].t;
            s[k] = tmp[k].state;
            if (v)
                v[k] = tmp[k].sess;
        }
    }
    uint32_t sessions = 0, latest_session = 0;
    int64_t latest = INT64_MIN;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || (v ? v[k] != v[k - 1] : t[k] - t[k - 1] > sc->m->spec.session_gap_ms)) {
            s[k] |= SESSION_START;
            sessions++;
        }
        if (t[k] >= latest) {
            latest = t[k];
            latest_session = sessions - 1;
        }
    }
    return latest_session;
}

/* The sessions: profiles out of order put in order, then the flagged states cut into
 * sessions (the profiles with events become the model's users, in root order). */
static int make_sessions(scan *sc)
{
    persona_path_model *m = sc->m;
    const persona__intern *su = &sc->s->users;
    size_t n_roots = su->count, events = sc->n_events, longest = 0, users = 0, key_bytes = 0;
    for (size_t r = 0, a = 0; r < n_roots; a = sc->u[r++].pos) {
        size_t len = sc->u[r].pos - a;
        longest = sc->u[r].side != IN_ORDER && len > longest ? len : longest;
        users += len > 0;
        key_bytes += len > 0 ? persona__intern_len(su, (uint32_t)r) : 0;
    }
    m->user_last = persona__realloc_array(NULL, users + 1, sizeof *m->user_last);
    tev *tmp = persona__realloc_array(NULL, longest + 1, sizeof *tmp);
    if (!m->user_last || !tmp) {
        persona__free(tmp);
        return persona__fail_nomem();
    }
    uint64_t n = 0;
    for (size_t r = 0, a = 0, user = 0; r < n_roots; a = sc->u[r++].pos) {
        const user_scan *u = &sc->u[r];
        size_t len = u->pos - a;
        if (!len)
            continue;
        if (u->side != IN_ORDER)
            m->user_last[user] = (uint32_t)(n + order_profile(sc, sc->pos_s + a, sc->side_t + u->side - len,
                                                              sc->side_v ? sc->side_v + u->side - len : NULL,
                                                              len, tmp));
        for (size_t i = a; i < u->pos; i++)
            n += sc->pos_s[i] >> 31;
        if (u->side == IN_ORDER)
            m->user_last[user] = (uint32_t)(n - 1); /* in time order: the last is the latest */
        user++;
    }
    persona__free(tmp);
    persona__intern_free(&m->users);
    /* the model's user table has the store's hash key, so the store's hash of each key
     * serves: no key is hashed again */
    persona__intern_init(&m->users, su->key);
    m->sess_start = fresh(n + 1, sizeof *m->sess_start);
    m->sess_user = fresh(n, sizeof *m->sess_user);
    if (!m->sess_start || !m->sess_user || persona__intern_reserve(&m->users, users, key_bytes))
        return persona__fail_nomem();
    uint64_t k = 0;
    for (size_t r = 0, a = 0; r < n_roots; a = sc->u[r++].pos) {
        if (r + PREFETCH_AHEAD < n_roots) { /* the table's slots are random accesses */
            uint64_t h = (uint64_t)su->entries[r + PREFETCH_AHEAD].hash << 32;
            persona__intern_prefetch_slot(&m->users, h);
        }
        if (a == sc->u[r].pos)
            continue;
        uint32_t user = persona__intern_add_h(&m->users, persona__intern_str(su, (uint32_t)r),
                                              persona__intern_len(su, (uint32_t)r),
                                              (uint64_t)su->entries[r].hash << 32);
        if (user == PERSONA__NO_ID)
            return persona__fail_nomem();
        for (size_t i = a; i < sc->u[r].pos; i++)
            if (sc->pos_s[i] & SESSION_START) {
                sc->pos_s[i] &= ~SESSION_START;
                m->sess_start[k] = i;
                m->sess_user[k++] = user;
            }
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
        rc = place_profiles(&sc);
    if (!rc) {
        scatter(&sc);
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
