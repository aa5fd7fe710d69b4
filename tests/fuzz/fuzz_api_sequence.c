/* Fuzz target: a byte program of API calls on one store, checked against a small
 * reference model (TESTING §4).
 *
 * Universe (so that programs collide often): user keys "u0".."u5" (PERSONA_ID_KEY, the only
 * keys events, and calls that create a profile, use), emails "e0@x.org".."e2@x.org"
 * (PERSONA_ID_EMAIL, limit 1 per profile), customer ids "c0" "c1" (PERSONA_ID_CUSTOMER,
 * limit 1), cookies "k0" "k1" (PERSONA_ID_COOKIE); alias and unmerge also take "null" and
 * "Unknown" (blocked values, never linked) and " E1@X.Org " (normalizes to "e1@x.org").
 * An identifier other than a user key is only ever named with its own type, and calls that
 * would create a profile use it only once it is known, so every identifier keeps its type.
 * Event types "view" "cart" "buy" and NULL ("event"), integer values 0..6 or NaN (absent),
 * times from a table around T0 with out-of-order and equal ones, optional basket
 * ("b0".."b2"), property country ("fr" "de" "us") and event id ("x0".."x7").
 *
 * Input: byte 0 picks the session gap (100 ms, 30 min, 1 ms, 1 s); then operations, each
 * an opcode byte (op = byte % 11) and its argument bytes (missing bytes read as 0):
 *   0 INGEST      one event E (3 bytes): b0: user (b0 & 7) % 6, type bits 3-4, value
 *                 bits 5-7 (7 = NaN); b1: time index bits 0-3, basket bits 4-5, country
 *                 bits 6-7; b2: (b2 & 15) >= 8 gives the id "x<b2 & 7>"
 *   1 BATCH       n = 1 + b % 4, then n x E, in one persona_store_ingest call
 *   2 ALIAS       b: n=2+b%4, source bit 2; n identifier bytes (%16); time byte
 *   3 UNMERGE     identifier byte (%16, given with its type)
 *   4 ERASE       identifier byte (%16, the raw string as user key)
 *   5 ATTR_SET    b0: identifier %13 | name bit 4 | kind (b0>>5)%5; b1 value
 *   6 ATTR_REMOVE b0: identifier %13 | name bit 4
 *   7 CONSENT     b0: identifier %13 | purpose bit 4 | granted bit 5; b1 time index
 *   8 TRACKING    b0: identifier %13 | on bit 4
 *   9 SAVE_RELOAD save through an in-memory file system, open the bytes, go on with the
 *                 reopened store
 *  10 CHECK       profile JSON and person export of one identifier per profile succeed
 *                 (ENOTFOUND for unknown ones), and the check below covers every member
 * ATTR_SET, CONSENT and TRACKING on an identifier that is not a user key and not known
 * are skipped (they would create it as a user key).
 *
 * The model: per identifier known / creation order / opt-out flag / attributes
 * (live or removed, with the store-wide setting sequence) / consent; the stored events
 * (user, type, value, time, basket, country, id, arrival order); the active links (edges)
 * of the merge log. A profile is a connected component of the edges; alias follows
 * identity.c (priority order, the anchor = the first identifier already known, per-type
 * limits checked against the anchor's profile, a SAME link is an edge too); unmerge drops
 * every edge of the identifier; erase removes the whole component.
 *
 * Checked after every operation (abort() on a mismatch): return codes and result structs
 * (ingest stats: accepted / suppressed / duplicate / users created; alias counts;
 * unmerge parts; erase receipt); store info users and events; every identifier the model
 * does not know is ENOTFOUND; per profile, one member (another one each operation; every
 * member after CHECK and at the end) against the model: resolve == the component's best
 * identifier (highest type priority, oldest among equals), every profile trait (events,
 * value sum, first / last seen, orders, sessions, event types, attribute count),
 * per-type count and value, last country with its time, both attributes (type and
 * value), both consents, tracking; the other members read the same profile and key.
 * SAVE_RELOAD: the reopened store exports (JSONL: every trait, attribute and consent; the
 * merge log) the same bytes and saves to the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the universe -------------------------------------------------------------------- */
#define N_IDS 13   /* canonical identifiers */
#define N_USERS 6  /* u0..u5: the user keys */
#define N_GIVEN 16 /* what alias / unmerge / erase may name */
#define N_TYPES 4
#define N_ATTRS 2
#define N_PURPOSES 2
#define MAX_EVENTS 4096
#define MAX_EDGES 2048
#define T0 INT64_C(1700000000000)

static const char *const id_str[N_IDS] = { "u0",       "u1",       "u2", "u3", "u4",
                                           "u5",       "e0@x.org", "e1@x.org",
                                           "e2@x.org", "c0",       "c1", "k0", "k1" };
static const int32_t id_type[N_IDS] = { PERSONA_ID_KEY,      PERSONA_ID_KEY,
                                        PERSONA_ID_KEY,      PERSONA_ID_KEY,
                                        PERSONA_ID_KEY,      PERSONA_ID_KEY,
                                        PERSONA_ID_EMAIL,    PERSONA_ID_EMAIL,
                                        PERSONA_ID_EMAIL,    PERSONA_ID_CUSTOMER,
                                        PERSONA_ID_CUSTOMER, PERSONA_ID_COOKIE,
                                        PERSONA_ID_COOKIE };
/* What alias / unmerge / erase name: the string, its type, its identifier (-1: blocked). */
static const struct {
    const char *s;
    int32_t type;
    int canon;
} given_id[N_GIVEN] = {
    { "u0", PERSONA_ID_KEY, 0 },         { "u1", PERSONA_ID_KEY, 1 },
    { "u2", PERSONA_ID_KEY, 2 },         { "u3", PERSONA_ID_KEY, 3 },
    { "u4", PERSONA_ID_KEY, 4 },         { "u5", PERSONA_ID_KEY, 5 },
    { "e0@x.org", PERSONA_ID_EMAIL, 6 }, { "e1@x.org", PERSONA_ID_EMAIL, 7 },
    { "e2@x.org", PERSONA_ID_EMAIL, 8 }, { "c0", PERSONA_ID_CUSTOMER, 9 },
    { "c1", PERSONA_ID_CUSTOMER, 10 },   { "k0", PERSONA_ID_COOKIE, 11 },
    { "k1", PERSONA_ID_COOKIE, 12 },     { "null", PERSONA_ID_KEY, -1 },
    { "Unknown", PERSONA_ID_KEY, -1 },   { " E1@X.Org ", PERSONA_ID_EMAIL, 7 },
};

static const char *const type_name[N_TYPES] = { "view", "cart", "buy", "event" };
static const char *const basket_name[4] = { NULL, "b0", "b1", "b2" };
static const char *const country_name[4] = { NULL, "fr", "de", "us" };
static const char *const attr_name[N_ATTRS] = { "a0", "a1" };
static const char *const purpose_name[N_PURPOSES] = { "p0", "p1" };
static const int64_t time_off[16] = { 0,    0,    30,   60,   100,  101,   150, 200,
                                      250,  400,  1000, 1050, 5000, -50, -200, 100000 };
static const int64_t gaps[4] = { 100, 30 * 60 * 1000, 1, 1000 };

static int32_t priority_of(int32_t t)
{
    switch (t) {
    case PERSONA_ID_CUSTOMER: return 50;
    case PERSONA_ID_EMAIL: return 40;
    case PERSONA_ID_PHONE: return 30;
    case PERSONA_ID_KEY: return 20;
    case PERSONA_ID_COOKIE: return 10;
    default: return 0;
    }
}

static uint32_t limit_of(int32_t t)
{
    return t == PERSONA_ID_EMAIL || t == PERSONA_ID_CUSTOMER ? 1 : 0;
}

/* ---- the model ----------------------------------------------------------------------- */
enum { A_NONE, A_LIVE, A_REMOVED };

typedef struct m_attr {
    int state;
    int32_t kind; /* PERSONA_NUM, ... */
    int v;        /* the value (number, string "s<v>", bool, time index) */
    uint64_t seq;
} m_attr;

typedef struct m_consent {
    int present, granted;
    int64_t time;
    uint64_t seq;
} m_consent;

typedef struct m_ident {
    int known;
    uint64_t serial; /* order of creation (the store's user index order) */
    int untracked;
    m_attr attr[N_ATTRS];
    m_consent consent[N_PURPOSES];
} m_ident;

typedef struct m_event {
    int user, type, value; /* value -1: NaN */
    int64_t time;
    int basket, country, id; /* 0 / 0 / -1: absent */
    uint64_t arrival;
} m_event;

typedef struct m_edge {
    int a, b;
} m_edge;

typedef struct model {
    m_ident id[N_IDS];
    m_event ev[MAX_EVENTS];
    size_t n_ev;
    m_edge edge[MAX_EDGES];
    size_t n_edge;
    uint64_t serial, seq, arrival;
    int64_t gap;
} model;

static model M;

static int uf_parent[N_IDS];

static int uf_find_m(int i)
{
    while (uf_parent[i] != i)
        i = uf_parent[i] = uf_parent[uf_parent[i]];
    return i;
}

/* comp[i] = a representative of i's profile (for known identifiers). */
static void components(int comp[N_IDS])
{
    for (int i = 0; i < N_IDS; i++)
        uf_parent[i] = i;
    for (size_t e = 0; e < M.n_edge; e++) {
        int a = uf_find_m(M.edge[e].a), b = uf_find_m(M.edge[e].b);
        if (a != b)
            uf_parent[a] = b;
    }
    for (int i = 0; i < N_IDS; i++)
        comp[i] = uf_find_m(i);
}

static int comp_count_type(const int comp[N_IDS], int c, int32_t t)
{
    int n = 0;
    for (int i = 0; i < N_IDS; i++)
        n += M.id[i].known && comp[i] == c && id_type[i] == t;
    return n;
}

/* The identifier naming profile c: highest priority, then the oldest. */
static int comp_root(const int comp[N_IDS], int c)
{
    int best = -1;
    for (int i = 0; i < N_IDS; i++) {
        if (!M.id[i].known || comp[i] != c)
            continue;
        if (best < 0 || priority_of(id_type[i]) > priority_of(id_type[best]) ||
            (priority_of(id_type[i]) == priority_of(id_type[best]) &&
             M.id[i].serial < M.id[best].serial))
            best = i;
    }
    return best;
}

static void create(int i)
{
    FUZZ_ASSERT(!M.id[i].known, "model: %s created twice", id_str[i]);
    memset(&M.id[i], 0, sizeof M.id[i]);
    M.id[i].known = 1;
    M.id[i].serial = ++M.serial;
}

static void add_edge(int a, int b)
{
    if (M.n_edge < MAX_EDGES) {
        M.edge[M.n_edge].a = a;
        M.edge[M.n_edge].b = b;
        M.n_edge++;
        return;
    }
    /* Out of room: keep connectivity (a and b are in one profile by now) by dropping
     * nothing; the program is cut short instead (see run). */
    FUZZ_ASSERT(0, "model edge table full");
}

/* ---- the input ------------------------------------------------------------------------- */
typedef struct reader {
    const uint8_t *p;
    size_t n, i;
} reader;

static uint8_t next(reader *r)
{
    return r->i < r->n ? r->p[r->i++] : 0;
}

/* ---- checks ----------------------------------------------------------------------------- */
static persona_store *S;

static void check_ident(const int comp[N_IDS], int i)
{
    const char *key = id_str[i];
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    int rc = persona_store_profile_get(&p, S, key);
    if (!M.id[i].known) {
        FUZZ_ASSERT(rc == PERSONA_ENOTFOUND, "%s unknown in the model, profile_get rc %d", key,
                    rc);
        FUZZ_ASSERT(persona_store_resolve(NULL, 0, NULL, S, key) == PERSONA_ENOTFOUND,
                    "%s unknown in the model, resolve finds it", key);
        if (i % 4)
            return;
        int32_t tr;
        FUZZ_ASSERT(persona_store_get_tracking(&tr, S, key) == PERSONA_ENOTFOUND,
                    "%s unknown in the model, get_tracking finds it", key);
        return;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "%s known in the model, profile_get rc %d", key, rc);
    int c = comp[i];
    /* resolve: the component's best identifier */
    char buf[64];
    size_t len = 0;
    FUZZ_OK(persona_store_resolve(buf, sizeof buf, &len, S, key));
    int root = comp_root(comp, c);
    FUZZ_ASSERT(strcmp(buf, id_str[root]) == 0, "resolve(%s) = %s, the model says %s", key,
                buf, id_str[root]);

    /* traits from the component's events */
    uint64_t events = 0, tcount[N_TYPES] = { 0 };
    int64_t vsum = 0, tval[N_TYPES] = { 0 };
    int64_t first = 0, last = 0;
    int baskets = 0, types = 0;
    int64_t times[MAX_EVENTS];
    size_t nt = 0;
    const m_event *lastc = NULL;
    for (size_t e = 0; e < M.n_ev; e++) {
        const m_event *ev = &M.ev[e];
        if (comp[ev->user] != c)
            continue;
        if (events == 0 || ev->time < first)
            first = ev->time;
        if (events == 0 || ev->time > last)
            last = ev->time;
        events++;
        tcount[ev->type]++;
        if (ev->value >= 0) {
            vsum += ev->value;
            tval[ev->type] += ev->value;
        }
        if (ev->basket)
            baskets |= 1 << ev->basket;
        if (ev->country && (!lastc || ev->time > lastc->time ||
                            (ev->time == lastc->time && ev->arrival > lastc->arrival)))
            lastc = ev;
        times[nt++] = ev->time;
    }
    for (int t = 0; t < N_TYPES; t++)
        types += tcount[t] > 0;
    /* sessions: sorted times, a gap longer than the session gap starts one */
    for (size_t a = 1; a < nt; a++)
        for (size_t b = a; b > 0 && times[b - 1] > times[b]; b--) {
            int64_t x = times[b];
            times[b] = times[b - 1];
            times[b - 1] = x;
        }
    uint64_t sessions = nt ? 1 : 0;
    for (size_t a = 1; a < nt; a++)
        sessions += times[a] - times[a - 1] > M.gap;
    int orders = __builtin_popcount((unsigned)baskets);

    FUZZ_ASSERT(p.events == events, "%s: %llu events, the model %llu", key,
                (unsigned long long)p.events, (unsigned long long)events);
    FUZZ_ASSERT(p.value_sum == (double)vsum, "%s: value_sum %.17g, the model %lld", key,
                p.value_sum, (long long)vsum);
    FUZZ_ASSERT(p.first_seen_ms == first && p.last_seen_ms == last,
                "%s: seen %lld..%lld, the model %lld..%lld", key, (long long)p.first_seen_ms,
                (long long)p.last_seen_ms, (long long)first, (long long)last);
    FUZZ_ASSERT(p.orders == (uint64_t)orders, "%s: %llu orders, the model %d", key,
                (unsigned long long)p.orders, orders);
    FUZZ_ASSERT(p.sessions == sessions, "%s: %llu sessions, the model %llu", key,
                (unsigned long long)p.sessions, (unsigned long long)sessions);
    FUZZ_ASSERT(p.event_types == (uint64_t)types, "%s: %llu event types, the model %d", key,
                (unsigned long long)p.event_types, types);
    for (int t = 0; t < N_TYPES; t++) {
        uint64_t cnt = 99;
        double val = -1;
        FUZZ_OK(persona_store_profile_type(&cnt, &val, S, key, type_name[t]));
        FUZZ_ASSERT(cnt == tcount[t] && val == (double)tval[t],
                    "%s type %s: %llu / %.17g, the model %llu / %lld", key, type_name[t],
                    (unsigned long long)cnt, val, (unsigned long long)tcount[t],
                    (long long)tval[t]);
    }
    int64_t ltime = 0;
    rc = persona_store_profile_last(buf, sizeof buf, &len, &ltime, S, key, "country");
    if (!lastc) {
        FUZZ_ASSERT(rc == PERSONA_ENOTFOUND, "%s: last country rc %d (%s), the model has none",
                    key, rc, rc == PERSONA_OK ? buf : "");
    } else {
        FUZZ_ASSERT(rc == PERSONA_OK && strcmp(buf, country_name[lastc->country]) == 0 &&
                        ltime == lastc->time,
                    "%s: last country rc %d %s at %lld, the model %s at %lld", key, rc,
                    rc == PERSONA_OK ? buf : "-", (long long)ltime,
                    country_name[lastc->country], (long long)lastc->time);
    }

    /* attributes: per name, the entry set last across the profile's identifiers */
    int live = 0;
    for (int a = 0; a < N_ATTRS; a++) {
        const m_attr *w = NULL;
        for (int j = 0; j < N_IDS; j++)
            if (M.id[j].known && comp[j] == c && M.id[j].attr[a].state != A_NONE &&
                (!w || M.id[j].attr[a].seq > w->seq))
                w = &M.id[j].attr[a];
        int32_t kind = -1;
        rc = persona_store_attr_type(&kind, S, key, attr_name[a]);
        if (!w || w->state == A_REMOVED) {
            FUZZ_ASSERT(rc == PERSONA_ENOTFOUND, "%s attribute %s: rc %d type %d, the model has none",
                        key, attr_name[a], rc, kind);
            continue;
        }
        live++;
        FUZZ_ASSERT(rc == PERSONA_OK && kind == w->kind,
                    "%s attribute %s: rc %d type %d, the model type %d", key, attr_name[a], rc,
                    kind, w->kind);
        switch (w->kind) {
        case PERSONA_NUM: {
            double d = -1;
            FUZZ_OK(persona_store_attr_get_num(&d, S, key, attr_name[a]));
            FUZZ_ASSERT(d == (double)w->v, "%s attribute %s = %g, the model %d", key,
                        attr_name[a], d, w->v);
            break;
        }
        case PERSONA_STR: {
            char want[16];
            snprintf(want, sizeof want, "s%d", w->v);
            FUZZ_OK(persona_store_attr_get_str(buf, sizeof buf, &len, S, key, attr_name[a]));
            FUZZ_ASSERT(strcmp(buf, want) == 0 && len == strlen(want),
                        "%s attribute %s = '%s', the model '%s'", key, attr_name[a], buf, want);
            break;
        }
        case PERSONA_BOOL: {
            int32_t b = -1;
            FUZZ_OK(persona_store_attr_get_bool(&b, S, key, attr_name[a]));
            FUZZ_ASSERT(b == w->v, "%s attribute %s = %d, the model %d", key, attr_name[a], b,
                        w->v);
            break;
        }
        case PERSONA_TIME: {
            int64_t t = -1;
            FUZZ_OK(persona_store_attr_get_time(&t, S, key, attr_name[a]));
            FUZZ_ASSERT(t == T0 + time_off[w->v], "%s attribute %s = %lld, the model %lld",
                        key, attr_name[a], (long long)t, (long long)(T0 + time_off[w->v]));
            break;
        }
        default:
            break;
        }
    }
    FUZZ_ASSERT(p.attributes == (uint64_t)live, "%s: %llu attributes, the model %d", key,
                (unsigned long long)p.attributes, live);

    /* consent: the latest time, then the later call */
    for (int q = 0; q < N_PURPOSES; q++) {
        const m_consent *w = NULL;
        for (int j = 0; j < N_IDS; j++) {
            const m_consent *x = &M.id[j].consent[q];
            if (M.id[j].known && comp[j] == c && x->present &&
                (!w || x->time > w->time || (x->time == w->time && x->seq > w->seq)))
                w = x;
        }
        int32_t g = -1;
        int64_t t = -1;
        rc = persona_store_consent_get(&g, &t, S, key, purpose_name[q]);
        if (!w)
            FUZZ_ASSERT(rc == PERSONA_ENOTFOUND, "%s consent %s: rc %d, the model has none",
                        key, purpose_name[q], rc);
        else
            FUZZ_ASSERT(rc == PERSONA_OK && g == w->granted && t == w->time,
                        "%s consent %s: rc %d %d at %lld, the model %d at %lld", key,
                        purpose_name[q], rc, g, (long long)t, w->granted, (long long)w->time);
    }
    int32_t tracking = -1;
    FUZZ_OK(persona_store_get_tracking(&tracking, S, key));
    FUZZ_ASSERT(tracking == !M.id[i].untracked, "%s: tracking %d, the model %d", key, tracking,
                !M.id[i].untracked);
}

/* Every identifier: unknown ones are ENOTFOUND; of each profile, one member (a different
 * one from operation to operation, or every member when `every`) gets every check, the
 * others resolve to the same key and read the same profile. */
static void check_all(unsigned turn, int every)
{
    int comp[N_IDS];
    components(comp);
    uint64_t known = 0;
    for (int c = 0; c < N_IDS; c++) {
        int members[N_IDS], n = 0;
        for (int i = 0; i < N_IDS; i++)
            if (M.id[i].known && comp[i] == c)
                members[n++] = i;
        if (n == 0)
            continue;
        known += (uint64_t)n;
        int full = members[turn % (unsigned)n];
        check_ident(comp, full);
        persona_profile_info want = PERSONA_PROFILE_INFO_INIT;
        FUZZ_OK(persona_store_profile_get(&want, S, id_str[full]));
        char wkey[64];
        FUZZ_OK(persona_store_resolve(wkey, sizeof wkey, NULL, S, id_str[full]));
        for (int k = 0; k < n; k++) {
            int i = members[k];
            /* the model's own invariant: one opt-out flag per profile */
            FUZZ_ASSERT(M.id[i].untracked == M.id[full].untracked, "model: flags differ");
            if (i == full)
                continue;
            if (every) {
                check_ident(comp, i);
                continue;
            }
            persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
            FUZZ_OK(persona_store_profile_get(&p, S, id_str[i]));
            FUZZ_ASSERT(memcmp(&p, &want, sizeof p) == 0, "%s and %s read different profiles",
                        id_str[i], id_str[full]);
            char key[64];
            FUZZ_OK(persona_store_resolve(key, sizeof key, NULL, S, id_str[i]));
            FUZZ_ASSERT(strcmp(key, wkey) == 0, "%s resolves to %s, %s to %s", id_str[i], key,
                        id_str[full], wkey);
        }
    }
    for (int i = 0; i < N_IDS; i++)
        if (!M.id[i].known)
            check_ident(comp, i);
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    FUZZ_OK(persona_store_info_get(&info, S));
    FUZZ_ASSERT(info.users == known, "store has %llu users, the model %llu",
                (unsigned long long)info.users, (unsigned long long)known);
    FUZZ_ASSERT(info.events == M.n_ev, "store has %llu events, the model %zu",
                (unsigned long long)info.events, M.n_ev);
}

/* ---- operations -------------------------------------------------------------------------- */
typedef struct ev_spec {
    persona_event e;
    const char *pn[1], *pv[1];
    char idbuf[8];
    m_event m;
} ev_spec;

static void decode_event(reader *r, ev_spec *x)
{
    uint8_t b0 = next(r), b1 = next(r), b2 = next(r);
    persona_event init = PERSONA_EVENT_INIT;
    x->e = init;
    m_event *m = &x->m;
    m->user = (b0 & 7) % N_USERS;
    m->type = (b0 >> 3) & 3;
    m->value = (b0 >> 5) == 7 ? -1 : (b0 >> 5);
    m->time = T0 + time_off[b1 & 15];
    m->basket = (b1 >> 4) & 3;
    m->country = b1 >> 6;
    m->id = (b2 & 15) >= 8 ? (b2 & 7) : -1;
    x->e.user = id_str[m->user];
    x->e.time_ms = m->time;
    x->e.type = m->type == 3 ? NULL : type_name[m->type];
    x->e.value = m->value < 0 ? NAN : (double)m->value;
    x->e.basket = basket_name[m->basket];
    if (m->country) {
        x->pn[0] = "country";
        x->pv[0] = country_name[m->country];
        x->e.prop_names = x->pn;
        x->e.prop_values = x->pv;
        x->e.n_props = 1;
    }
    if (m->id >= 0) {
        snprintf(x->idbuf, sizeof x->idbuf, "x%d", m->id);
        x->e.event_id = x->idbuf;
    }
}

static void op_ingest(reader *r, size_t n)
{
    ev_spec x[4];
    for (size_t k = 0; k < n; k++)
        decode_event(r, &x[k]);
    if (M.n_ev + n > MAX_EVENTS)
        return;
    persona_event evs[4];
    for (size_t k = 0; k < n; k++)
        evs[k] = x[k].e;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    FUZZ_OK(persona_store_ingest(&st, S, evs, n, NULL));
    /* the model, event by event */
    uint64_t accepted = 0, suppressed = 0, dup = 0, created = 0;
    int comp[N_IDS];
    components(comp);
    for (size_t k = 0; k < n; k++) {
        m_event *m = &x[k].m;
        if (M.id[m->user].known && M.id[m->user].untracked) {
            suppressed++;
            continue;
        }
        int is_dup = 0;
        for (size_t e = 0; m->id >= 0 && e < M.n_ev && !is_dup; e++)
            is_dup = M.ev[e].id == m->id;
        if (is_dup) {
            dup++;
            continue;
        }
        if (!M.id[m->user].known) {
            create(m->user);
            created++;
        }
        m->arrival = ++M.arrival;
        M.ev[M.n_ev++] = *m;
        accepted++;
    }
    FUZZ_ASSERT(st.events_accepted == accepted && st.rejected[PERSONA_REJECT_SUPPRESSED] == suppressed &&
                    st.rejected[PERSONA_REJECT_DUPLICATE_ID] == dup &&
                    st.events_rejected == suppressed + dup && st.users_created == created,
                "ingest of %zu: accepted %llu suppressed %llu duplicate %llu rejected %llu "
                "created %llu; the model %llu %llu %llu %llu",
                n, (unsigned long long)st.events_accepted,
                (unsigned long long)st.rejected[PERSONA_REJECT_SUPPRESSED],
                (unsigned long long)st.rejected[PERSONA_REJECT_DUPLICATE_ID],
                (unsigned long long)st.events_rejected, (unsigned long long)st.users_created,
                (unsigned long long)accepted, (unsigned long long)suppressed,
                (unsigned long long)dup, (unsigned long long)created);
}

typedef struct m_given {
    int g;     /* index into given_id */
    int canon; /* identifier, -1 blocked */
    int32_t prio;
    size_t pos;
    int known_before;
} m_given;

static int cmp_m_given(const void *a, const void *b)
{
    const m_given *x = a, *y = b;
    int xb = x->canon < 0, yb = y->canon < 0;
    if (xb != yb)
        return xb - yb;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static void op_alias(reader *r)
{
    uint8_t b = next(r);
    size_t n = 2 + (b & 3);
    const char *source = (b & 4) ? "login" : NULL;
    persona_identifier ids[5];
    m_given g[5];
    for (size_t k = 0; k < n; k++) {
        int gi = next(r) % N_GIVEN;
        persona_identifier id = PERSONA_IDENTIFIER(given_id[gi].type, given_id[gi].s);
        ids[k] = id;
        g[k].g = gi;
        g[k].canon = given_id[gi].canon;
        g[k].prio = priority_of(given_id[gi].type);
        g[k].pos = k;
        g[k].known_before = g[k].canon >= 0 && M.id[g[k].canon].known;
    }
    int64_t at = T0 + time_off[next(r) & 15];
    persona_alias_result res = PERSONA_ALIAS_RESULT_INIT;
    FUZZ_OK(persona_store_alias(&res, S, ids, n, at, source));

    /* the model (identity.c: run_alias) */
    uint32_t merged = 0, added = 0, same = 0, blocked = 0;
    qsort(g, n, sizeof *g, cmp_m_given);
    if (g[0].canon >= 0 && !g[0].known_before)
        for (size_t i = 1; i < n; i++)
            if (g[i].canon >= 0 && g[i].known_before) {
                m_given t = g[i];
                memmove(&g[1], &g[0], i * sizeof *g);
                g[0] = t;
                break;
            }
    int anchor = g[0].canon;
    int flag_before = 0; /* opt-out of any profile the anchor's ends up holding */
    if (anchor >= 0 && !M.id[anchor].known)
        create(anchor);
    for (size_t i = 1; i < n; i++) {
        int x = g[i].canon;
        if (x < 0) {
            blocked++;
            continue;
        }
        int comp[N_IDS];
        components(comp);
        int ca = comp[anchor];
        if (!M.id[x].known) {
            uint32_t lim = limit_of(id_type[x]);
            if (lim && (uint32_t)comp_count_type(comp, ca, id_type[x]) + 1 > lim) {
                blocked++;
                continue;
            }
            create(x);
            M.id[x].untracked = M.id[anchor].untracked;
            add_edge(anchor, x);
            added++;
            continue;
        }
        int cb = comp[x];
        if (ca == cb) {
            add_edge(anchor, x);
            same++;
            continue;
        }
        int over = 0;
        for (int j = 0; j < N_IDS; j++) {
            if (!M.id[j].known || comp[j] != cb)
                continue;
            uint32_t lim = limit_of(id_type[j]);
            if (lim && (uint32_t)(comp_count_type(comp, ca, id_type[j]) +
                                  comp_count_type(comp, cb, id_type[j])) > lim)
                over = 1;
        }
        if (over) {
            blocked++;
            continue;
        }
        flag_before = M.id[anchor].untracked | M.id[x].untracked;
        for (int j = 0; j < N_IDS; j++)
            if (M.id[j].known && (comp[j] == ca || comp[j] == cb))
                M.id[j].untracked = flag_before;
        add_edge(anchor, x);
        merged++;
    }
    if (anchor < 0)
        blocked = (uint32_t)n;
    FUZZ_ASSERT(res.merged == merged && res.added == added && res.same == same &&
                    res.blocked == blocked,
                "alias of %zu: merged %u added %u same %u blocked %u; the model %u %u %u %u", n,
                res.merged, res.added, res.same, res.blocked, merged, added, same, blocked);
}

static void op_unmerge(reader *r)
{
    int gi = next(r) % N_GIVEN;
    persona_identifier id = PERSONA_IDENTIFIER(given_id[gi].type, given_id[gi].s);
    uint32_t parts = 0;
    int rc = persona_store_unmerge(&parts, S, &id);
    int x = given_id[gi].canon;
    if (x < 0 || !M.id[x].known) {
        FUZZ_ASSERT(rc == PERSONA_ENOTFOUND, "unmerge of unknown %s: rc %d", given_id[gi].s, rc);
        return;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "unmerge of %s: rc %d", given_id[gi].s, rc);
    int comp[N_IDS];
    components(comp);
    int size = 0, has_links = 0;
    for (int j = 0; j < N_IDS; j++)
        size += M.id[j].known && comp[j] == comp[x];
    for (size_t e = 0; e < M.n_edge; e++)
        has_links |= M.edge[e].a == x || M.edge[e].b == x;
    uint32_t want = 1;
    if (size > 1 && has_links) {
        size_t k = 0;
        for (size_t e = 0; e < M.n_edge; e++)
            if (M.edge[e].a != x && M.edge[e].b != x)
                M.edge[k++] = M.edge[e];
        M.n_edge = k;
        int after[N_IDS];
        components(after);
        int seen[N_IDS] = { 0 };
        want = 0;
        for (int j = 0; j < N_IDS; j++)
            if (M.id[j].known && comp[j] == comp[x] && !seen[after[j]]) {
                seen[after[j]] = 1;
                want++;
            }
    }
    FUZZ_ASSERT(parts == want, "unmerge of %s: %u parts, the model %u", given_id[gi].s, parts,
                want);
}

static void op_erase(reader *r)
{
    int gi = next(r) % N_GIVEN;
    const char *key = given_id[gi].s;
    persona_erase_receipt rec = PERSONA_ERASE_RECEIPT_INIT;
    int rc = persona_store_erase(&rec, S, key);
    /* erase takes the key as stored: only the canonical strings name identifiers */
    int x = gi < N_IDS ? gi : -1;
    if (x < 0 || !M.id[x].known) {
        FUZZ_ASSERT(rc == PERSONA_ENOTFOUND, "erase of unknown '%s': rc %d", key, rc);
        return;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "erase of %s: rc %d", key, rc);
    int comp[N_IDS];
    components(comp);
    int c = comp[x];
    uint64_t ids = 0, attrs = 0, consents = 0, events = 0;
    for (int j = 0; j < N_IDS; j++) {
        if (!M.id[j].known || comp[j] != c)
            continue;
        ids++;
        for (int a = 0; a < N_ATTRS; a++)
            attrs += M.id[j].attr[a].state == A_LIVE;
        for (int q = 0; q < N_PURPOSES; q++)
            consents += M.id[j].consent[q].present;
    }
    size_t k = 0;
    for (size_t e = 0; e < M.n_ev; e++) {
        if (comp[M.ev[e].user] == c && M.id[M.ev[e].user].known)
            events++;
        else
            M.ev[k++] = M.ev[e];
    }
    M.n_ev = k;
    k = 0;
    for (size_t e = 0; e < M.n_edge; e++)
        if (comp[M.edge[e].a] != c)
            M.edge[k++] = M.edge[e];
    M.n_edge = k;
    for (int j = 0; j < N_IDS; j++)
        if (M.id[j].known && comp[j] == c)
            memset(&M.id[j], 0, sizeof M.id[j]);
    FUZZ_ASSERT(rec.events == events && rec.identifiers == ids && rec.attributes == attrs &&
                    rec.consents == consents,
                "erase of %s: receipt events %llu identifiers %llu attributes %llu consents "
                "%llu; the model %llu %llu %llu %llu",
                key, (unsigned long long)rec.events, (unsigned long long)rec.identifiers,
                (unsigned long long)rec.attributes, (unsigned long long)rec.consents,
                (unsigned long long)events, (unsigned long long)ids, (unsigned long long)attrs,
                (unsigned long long)consents);
}

/* An identifier for a call that creates a profile: a user key, or one already known. */
static int settable(int x)
{
    return x < N_USERS || M.id[x].known;
}

static void op_attr_set(reader *r)
{
    uint8_t b0 = next(r), b1 = next(r);
    int x = (b0 & 15) % N_IDS, a = (b0 >> 4) & 1, kind = (b0 >> 5) % 5;
    if (!settable(x))
        return;
    const char *key = id_str[x];
    m_attr v = { A_LIVE, 0, 0, 0 };
    int rc;
    switch (kind) {
    case 0:
        v.kind = PERSONA_NUM;
        v.v = b1 % 7;
        rc = persona_store_attr_set_num(S, key, attr_name[a], (double)v.v);
        break;
    case 1: {
        char s[16];
        v.kind = PERSONA_STR;
        v.v = b1 % 5;
        snprintf(s, sizeof s, "s%d", v.v);
        rc = persona_store_attr_set_str(S, key, attr_name[a], s);
        break;
    }
    case 2:
        v.kind = PERSONA_BOOL;
        v.v = b1 & 1;
        rc = persona_store_attr_set_bool(S, key, attr_name[a], (int32_t)(b1 & 1 ? b1 : 0));
        break;
    case 3:
        v.kind = PERSONA_NULL;
        rc = persona_store_attr_set_null(S, key, attr_name[a]);
        break;
    default:
        v.kind = PERSONA_TIME;
        v.v = b1 & 15;
        rc = persona_store_attr_set_time(S, key, attr_name[a], T0 + time_off[v.v]);
        break;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "attr set %s.%s: rc %d", key, attr_name[a], rc);
    if (!M.id[x].known)
        create(x);
    v.seq = ++M.seq;
    M.id[x].attr[a] = v;
}

static void op_attr_remove(reader *r)
{
    uint8_t b0 = next(r);
    int x = (b0 & 15) % N_IDS, a = (b0 >> 4) & 1;
    int rc = persona_store_attr_remove(S, id_str[x], attr_name[a]);
    int live = 0;
    if (M.id[x].known) {
        int comp[N_IDS];
        components(comp);
        const m_attr *w = NULL;
        for (int j = 0; j < N_IDS; j++)
            if (M.id[j].known && comp[j] == comp[x] && M.id[j].attr[a].state != A_NONE &&
                (!w || M.id[j].attr[a].seq > w->seq))
                w = &M.id[j].attr[a];
        live = w && w->state == A_LIVE;
        if (live) {
            uint64_t seq = ++M.seq;
            for (int j = 0; j < N_IDS; j++)
                if (M.id[j].known && comp[j] == comp[x] && M.id[j].attr[a].state == A_LIVE) {
                    M.id[j].attr[a].state = A_REMOVED;
                    M.id[j].attr[a].seq = seq;
                }
        }
    }
    FUZZ_ASSERT(rc == (live ? PERSONA_OK : PERSONA_ENOTFOUND), "attr remove %s.%s: rc %d, the model %d",
                id_str[x], attr_name[a], rc, live);
}

static void op_consent(reader *r)
{
    uint8_t b0 = next(r), b1 = next(r);
    int x = (b0 & 15) % N_IDS, q = (b0 >> 4) & 1, granted = (b0 >> 5) & 1;
    if (!settable(x))
        return;
    int64_t t = T0 + time_off[b1 & 15];
    FUZZ_OK(persona_store_consent_set(S, id_str[x], purpose_name[q], granted ? (b0 >> 5) : 0, t));
    if (!M.id[x].known)
        create(x);
    m_consent *c = &M.id[x].consent[q];
    c->present = 1;
    c->granted = granted;
    c->time = t;
    c->seq = ++M.seq;
}

static void op_tracking(reader *r)
{
    uint8_t b0 = next(r);
    int x = (b0 & 15) % N_IDS, on = (b0 >> 4) & 1;
    if (!settable(x))
        return;
    FUZZ_OK(persona_store_set_tracking(S, id_str[x], on));
    if (!M.id[x].known)
        create(x);
    int comp[N_IDS];
    components(comp);
    for (int j = 0; j < N_IDS; j++)
        if (M.id[j].known && comp[j] == comp[x])
            M.id[j].untracked = !on;
}

static char *export_of(const persona_store *s, int what, size_t *len)
{
    char *out = NULL;
    if (what == 0)
        FUZZ_OK(persona_store_export_buffer(&out, len, s, PERSONA_EXPORT_PROFILES_CSV));
    else if (what == 1)
        FUZZ_OK(persona_store_export_buffer(&out, len, s, PERSONA_EXPORT_PROFILES_JSONL));
    else
        FUZZ_OK(persona_store_merge_log(&out, len, s, NULL));
    return out;
}

static void op_save_reload(void)
{
    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save_to_memory(S, &len1);
    persona_store *t = NULL;
    int rc = persona__store_open_memory(&t, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reopening a saved store failed: %d", rc);
    for (int what = 1; what < 3; what++) { /* JSONL (every trait) and the merge log */
        size_t la = 0, lb = 0;
        char *ea = export_of(S, what, &la), *eb = export_of(t, what, &lb);
        FUZZ_ASSERT(la == lb && memcmp(ea, eb, la) == 0,
                    "export %d of the reopened store differs:\n%s\n---\n%s", what, ea, eb);
        persona_free(ea);
        persona_free(eb);
    }
    uint8_t *b2 = save_to_memory(t, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0,
                "saving the reopened store gives other bytes");
    free(b1);
    free(b2);
    persona_store_free(S);
    S = t;
}

static void op_check_json(void)
{
    int comp[N_IDS], done[N_IDS] = { 0 };
    components(comp);
    for (int i = 0; i < N_IDS; i++) {
        if (M.id[i].known && done[comp[i]]++)
            continue; /* one identifier per profile */
        char *out = NULL;
        size_t len = 0;
        int rc = persona_store_profile_json(&out, &len, S, id_str[i]);
        FUZZ_ASSERT(rc == (M.id[i].known ? PERSONA_OK : PERSONA_ENOTFOUND),
                    "profile_json %s: rc %d", id_str[i], rc);
        persona_free(out);
        out = NULL;
        rc = persona_store_export_profile(&out, &len, S, id_str[i]);
        FUZZ_ASSERT(rc == (M.id[i].known ? PERSONA_OK : PERSONA_ENOTFOUND),
                    "export_profile %s: rc %d", id_str[i], rc);
        FUZZ_ASSERT(rc != PERSONA_OK || (out && strlen(out) == len), "export_profile length");
        persona_free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    memset(M.id, 0, sizeof M.id);
    M.n_ev = M.n_edge = 0;
    M.serial = M.seq = M.arrival = 0;
    reader r = { data, size, 0 };
    M.gap = gaps[next(&r) & 3];
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.session_gap_ms = M.gap;
    o.hash_seed = 0x5eed;
    FUZZ_OK(persona_store_new(&S, &o));
    unsigned turn = 0;
    while (r.i < r.n && M.n_edge + 8 < MAX_EDGES) {
        uint8_t op = next(&r);
        switch (op % 11) {
        case 0: op_ingest(&r, 1); break;
        case 1: op_ingest(&r, 1 + next(&r) % 4); break;
        case 2: op_alias(&r); break;
        case 3: op_unmerge(&r); break;
        case 4: op_erase(&r); break;
        case 5: op_attr_set(&r); break;
        case 6: op_attr_remove(&r); break;
        case 7: op_consent(&r); break;
        case 8: op_tracking(&r); break;
        case 9: op_save_reload(); break;
        default: op_check_json(); break;
        }
        check_all(turn++, op % 11 == 10);
    }
    check_all(0, 1);
    persona_store_free(S);
    S = NULL;
    return 0;
}
