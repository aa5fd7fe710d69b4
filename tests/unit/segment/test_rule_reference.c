/* The rule language against an independent brute-force reference (rule_reference.h, written
 * from docs/rules.md alone). Each round builds a random store (a few users; events of five
 * types over ~120 days with equal times, users ingested out of time order, values that are
 * multiples of 0.25 or absent, baskets, category and channel properties, typed attributes,
 * consent, a random session gap; now and then a user with more than 256 events out of order),
 * generates well-typed random rules (printed fully parenthesized, some with newlines and
 * comments), compiles them with persona_segment_model_add_rule() and as one rule-set text
 * with persona_segment_model_compile(), and compares persona_segment_model_test(),
 * persona_segment_model_assign() (both modes), describe()'s yes/no/not reached lines and
 * scan()'s counts with the reference for several evaluation times: the store's clock, times
 * in the middle of the history, before all events, after all events, and one window after
 * one of the user's events. A mismatch prints the rule, the user's raw events, now, the
 * context, expected and got, and a minimized reproduction (smaller rule, fewer events, in a
 * fresh single-user store).
 *
 * The test also counts how often each rule and each kind of clause came out true and false,
 * and fails when the outcomes are too one-sided to catch anything.
 *
 * Environment: RULE_ROUNDS (default 300), RULE_SEED (default 20240601), RULE_ROUND (run
 * only that round), RULE_VERBOSE=1 (print every rule), RULE_CANARY=1..6 (break the reference
 * on purpose: window bounds, tie order, session gap, days_since rounding, traits after now,
 * != with a missing operand; the test must then fail), RULE_AVOID (see avoided()). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "store_check.h"
#include "persona/segment.h"

#include "rule_reference.h"

/* 2024-01-01 00:00 UTC */
#define T0 INT64_C(1704067200000)
#define HISTORY_DAYS 120

#define MAX_USERS 7      /* store users + "nobody" */
#define RULES_PER_ROUND 32
#define ASSIGN_RULES 8
#define NNOWS 6          /* shared evaluation times */
#define NUSER_NOWS 4     /* and per user, around their own events */
#define POOL_NODES 8192

/* ---- random numbers (fixed seeds, printed on failure) ---- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
static int rnd(int n) { return n <= 1 ? 0 : (int)(rnd64() % (uint64_t)n); }
static int chance(int pct) { return rnd(100) < pct; }
static int64_t rnd_ms(int64_t n) { return n <= 1 ? 0 : (int64_t)(rnd64() % (uint64_t)n); }

/* ---- value pools ---- */

static const char *const plan_pool[] = { "pro", "team", "free", "Pro", "pro team" };
static const char *const topic_pool[] = { "running", "yoga", "caf\xc3\xa9", "ski\"s" };
static const char *const city_pool[] = { "Z\xc3\xbcrich", "Berlin", "Bern", "berlin", "a\\b",
                                         "", "line\nbreak" };
static const char *const country_pool[] = { "CH", "DE", "FR", "" };
static const char *const device_pool[] = { "mobile", "desktop", "tablet" };
static const char *const ref_pool[] = { "google.com", "news.example", "t.co/abc*", "a?b" };
static const char *const agestr_pool[] = { "30", "unknown" };
static const char *const other_pool[] = { "zzz", "", "Running", "pro", "\xc3\xa9" };
#define NPOOL(p) ((int)(sizeof p / sizeof p[0]))

enum { K_CAT, K_CHAN, K_PLAN, K_TOPIC, K_CITY, K_COUNTRY, K_DEVICE, K_REF, K_AGESTR, NKINDS };

static const char *pick_pool(int kind)
{
    switch (kind) {
    case K_CAT: return rr_cats[rnd(RR_NCATS)];
    case K_CHAN: return rr_chans[rnd(RR_NCHANS)];
    case K_PLAN: return plan_pool[rnd(NPOOL(plan_pool))];
    case K_TOPIC: return topic_pool[rnd(NPOOL(topic_pool))];
    case K_CITY: return city_pool[rnd(NPOOL(city_pool))];
    case K_COUNTRY: return country_pool[rnd(NPOOL(country_pool))];
    case K_DEVICE: return device_pool[rnd(NPOOL(device_pool))];
    case K_REF: return ref_pool[rnd(NPOOL(ref_pool))];
    default: return agestr_pool[rnd(NPOOL(agestr_pool))];
    }
}

/* ---- the round: users, store, rules ---- */

typedef struct round_state {
    rr_user users[MAX_USERS]; /* the last one ("nobody") is not in the store */
    int nusers;               /* including nobody */
    int64_t min_t, max_t;     /* over the store's events */
    rr_node pool[POOL_NODES];
    int npool;
    rr_node *rules[RULES_PER_ROUND];
    char text[RULES_PER_ROUND][4096];
    int midx[RULES_PER_ROUND]; /* index in the model, -1 = did not compile */
    int nrules;
    int64_t session_gap; /* the store's option: 0 = default (30 min) */
} round_state;

static round_state R;

/* RULE_AVOID: comma-separated features not to generate while a known library discrepancy
 * is being fixed ("last_category", "matches", ...: see avoided()). */
static const char *avoid_list = "";
static int avoided(const char *what)
{
    const char *p = avoid_list;
    size_t n = strlen(what);
    while ((p = strstr(p, what))) {
        if ((p == avoid_list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
        p += n;
    }
    return 0;
}

static void user_all_times(int64_t *out, int *n)
{
    *n = 0;
    for (int u = 0; u < R.nusers; u++)
        for (int i = 0; i < R.users[u].nev; i++)
            out[(*n)++] = R.users[u].ev[i].t;
}

static int64_t random_event_time(void)
{
    int64_t ts[MAX_USERS * RR_MAX_EV];
    int n;
    user_all_times(ts, &n);
    return n ? ts[rnd(n)] : T0;
}

/* ---- generating users ---- */

static int gen_type(void)
{
    int r = rnd(100);
    return r < 40 ? RR_T_VIEW : r < 60 ? RR_T_CART : r < 75 ? RR_T_PURCHASE : r < 90 ? RR_T_LOGIN
                                                                                      : RR_T_REFUND;
}

static void gen_events(rr_user *u, int heavy)
{
    int nev = chance(8) ? 0 : 1 + rnd(chance(40) ? 48 : 24);
    if (heavy) /* more than 256 events, always ingested out of order */
        nev = 257 + rnd(RR_MAX_EV - 257 + 1);
    rr_event tmp[RR_MAX_EV];
    int64_t cur = T0, sg = R.session_gap ? R.session_gap : 30 * RR_MIN;
    for (int i = 0; i < nev; i++) {
        rr_event *e = &tmp[i];
        if (i == 0 || chance(22)) {
            cur = T0 + (int64_t)rnd(HISTORY_DAYS) * RR_DAY;
            if (chance(70))
                cur += (int64_t)rnd(24 * 60) * RR_MIN;
            if (chance(10))
                cur += rnd(1000);
        } else {
            int r = rnd(100);
            int64_t gap = r < 15   ? 0
                          : r < 45 ? (int64_t)(1 + rnd(29)) * RR_MIN
                          : r < 53 ? sg /* exactly the session gap: same session */
                          : r < 57 ? sg + 1
                          : r < 67 ? (int64_t)(31 + rnd(90)) * RR_MIN
                          : r < 77 ? RR_DAY
                          : r < 87 ? (int64_t)(1 + rnd(7)) * RR_DAY
                                   : (int64_t)(1 + rnd(48)) * RR_HOUR;
            cur += gap;
            if (cur > T0 + (HISTORY_DAYS + 10) * RR_DAY)
                cur = T0 + (int64_t)rnd(HISTORY_DAYS) * RR_DAY;
        }
        e->t = cur;
        e->type = gen_type();
        e->value = NAN;
        if (e->type == RR_T_PURCHASE)
            e->value = chance(85) ? 0.25 * rnd(2000) : NAN;
        else if (e->type == RR_T_REFUND)
            e->value = chance(70) ? -0.25 * rnd(800) : NAN;
        else if (chance(15))
            e->value = 0.25 * rnd(200) - 10;
        e->basket = -1;
        if ((e->type == RR_T_PURCHASE && chance(75)) || (e->type == RR_T_REFUND && chance(30)) ||
            (e->type == RR_T_CART && chance(15)))
            e->basket = rnd(8);
        e->cat = chance(50) ? rnd(RR_NCATS) : chance(8) ? -2 : -1;
        e->chan = chance(25) ? rnd(RR_NCHANS) : chance(5) ? -2 : -1;
    }
    /* ingestion order: sorted by time (ties as generated) or shuffled */
    if (!heavy && chance(60)) {
        for (int i = 1; i < nev; i++) /* stable insertion sort */
            for (int j = i; j > 0 && tmp[j - 1].t > tmp[j].t; j--) {
                rr_event x = tmp[j];
                tmp[j] = tmp[j - 1];
                tmp[j - 1] = x;
            }
    } else {
        for (int i = nev - 1; i > 0; i--) {
            int j = rnd(i + 1);
            rr_event x = tmp[i];
            tmp[i] = tmp[j];
            tmp[j] = x;
        }
    }
    memcpy(u->ev, tmp, sizeof(rr_event) * (size_t)nev);
    u->nev = nev;
}

static const char *const attr_names[] = { "age", "plan", "vip", "pref.topic", "score.churn",
                                          "signup", "city", "orders", "count" };

/* Apply random attribute operations to both the store and the reference user. */
static void gen_attrs(persona_store *s, rr_user *u)
{
    int nops = rnd(9);
    for (int k = 0; k < nops; k++) {
        rr_attr a = { 0 };
        a.name = attr_names[rnd(NPOOL(attr_names))];
        if (u->nattr && chance(8)) {
            const char *nm = u->attrs[rnd(u->nattr)].name;
            CHECK_RC(persona_store_attr_remove(s, u->key, nm), PERSONA_OK);
            rr_attr_del(u, nm);
            continue;
        }
        int r = rnd(100);
        if (strcmp(a.name, "age") == 0) {
            if (r < 65) { a.type = PERSONA_NUM; a.num = 16 + rnd(60); }
            else if (r < 75) { a.type = PERSONA_NUM; a.num = 16 + rnd(60) + 0.25 * rnd(4); }
            else if (r < 87) { a.type = PERSONA_STR; a.str = agestr_pool[rnd(2)]; }
            else a.type = PERSONA_NULL;
        } else if (strcmp(a.name, "plan") == 0) {
            if (r < 80) { a.type = PERSONA_STR; a.str = plan_pool[rnd(NPOOL(plan_pool))]; }
            else if (r < 90) { a.type = PERSONA_NUM; a.num = 3; }
            else a.type = PERSONA_NULL;
        } else if (strcmp(a.name, "vip") == 0) {
            if (r < 70) { a.type = PERSONA_BOOL; a.b = rnd(2); }
            else if (r < 85) a.type = PERSONA_NULL;
            else { a.type = PERSONA_NUM; a.num = 1; }
        } else if (strcmp(a.name, "pref.topic") == 0) {
            if (r < 85) { a.type = PERSONA_STR; a.str = topic_pool[rnd(NPOOL(topic_pool))]; }
            else a.type = PERSONA_NULL;
        } else if (strcmp(a.name, "score.churn") == 0) {
            if (r < 75) { a.type = PERSONA_NUM; a.num = 0.25 * rnd(5); }
            else if (r < 85) { a.type = PERSONA_STR; a.str = "high"; }
            else a.type = PERSONA_NULL;
        } else if (strcmp(a.name, "signup") == 0) {
            if (r < 80) { a.type = PERSONA_TIME; a.time = T0 + (int64_t)(rnd(160) - 40) * RR_DAY; }
            else { a.type = PERSONA_NUM; a.num = (double)(T0 + (int64_t)rnd(100) * RR_DAY); }
        } else if (strcmp(a.name, "city") == 0) {
            a.type = PERSONA_STR;
            a.str = city_pool[rnd(NPOOL(city_pool))];
        } else {
            a.type = PERSONA_NUM;
            a.num = rnd(8);
        }
        switch (a.type) {
        case PERSONA_NUM: CHECK_RC(persona_store_attr_set_num(s, u->key, a.name, a.num), PERSONA_OK); break;
        case PERSONA_STR: CHECK_RC(persona_store_attr_set_str(s, u->key, a.name, a.str), PERSONA_OK); break;
        case PERSONA_BOOL: CHECK_RC(persona_store_attr_set_bool(s, u->key, a.name, a.b), PERSONA_OK); break;
        case PERSONA_TIME: CHECK_RC(persona_store_attr_set_time(s, u->key, a.name, a.time), PERSONA_OK); break;
        default: CHECK_RC(persona_store_attr_set_null(s, u->key, a.name), PERSONA_OK); break;
        }
        rr_attr_put(u, &a);
    }
}

static void gen_consent(persona_store *s, rr_user *u)
{
    for (int p = 0; p < RR_NPURPOSE; p++) {
        u->consent[p] = -1;
        if (!chance(45))
            continue;
        int calls = 1 + rnd(3);
        for (int c = 0; c < calls; c++) {
            int g = rnd(2);
            /* times far before any evaluation time; later calls may carry earlier times */
            int64_t t = T0 - 400 * RR_DAY + (int64_t)rnd(100) * RR_DAY;
            CHECK_RC(persona_store_consent_set(s, u->key, rr_purposes[p], g, t), PERSONA_OK);
            u->consent[p] = g;
        }
    }
}

/* Property arrays for one event ("" / NULL values are absent). */
typedef struct prop_arrays {
    const char *names[2];
    const char *values[2];
} prop_arrays;

static void fill_event(persona_event *pe, prop_arrays *pa, char *basket_buf,
                       const rr_user *u, const rr_event *e)
{
    *pe = (persona_event)PERSONA_EVENT_INIT;
    pe->user = u->key;
    pe->time_ms = e->t;
    pe->type = rr_type_names[e->type];
    pe->value = e->value;
    if (e->basket >= 0) {
        snprintf(basket_buf, 16, "b%d", e->basket);
        pe->basket = basket_buf;
    }
    size_t np = 0;
    if (e->cat != -1) {
        pa->names[np] = "category";
        pa->values[np++] = e->cat >= 0 ? rr_cats[e->cat] : "";
    }
    if (e->chan != -1) {
        pa->names[np] = "channel";
        pa->values[np++] = e->chan >= 0 ? rr_chans[e->chan] : NULL;
    }
    if (np) {
        pe->prop_names = pa->names;
        pe->prop_values = pa->values;
        pe->n_props = np;
    }
}

/* Build the round's users and store. */
static persona_store *gen_store(uint64_t seed)
{
    memset(R.users, 0, sizeof R.users);
    int nstore = 2 + rnd(MAX_USERS - 2); /* 2..6 users in the store */
    static const int64_t gaps[] = { 0, 0, 0, 10 * RR_MIN, RR_HOUR, RR_DAY };
    R.session_gap = gaps[rnd(NPOOL(gaps))];
    persona_store_options so = PERSONA_STORE_OPTIONS_INIT;
    so.hash_seed = seed;
    so.session_gap_ms = R.session_gap;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, &so), PERSONA_OK);
    int total = 0;
    for (int u = 0; u < nstore; u++) {
        snprintf(R.users[u].key, sizeof R.users[u].key, "u%d", u);
        gen_events(&R.users[u], u == 0 && chance(12));
        total += R.users[u].nev;
    }
    if (total == 0) { /* the store clock needs one event */
        R.users[0].nev = 1;
        R.users[0].ev[0] = (rr_event){ T0 + 5 * RR_DAY, RR_T_VIEW, NAN, -1, -1, -1, 0 };
        total = 1;
    }
    R.nusers = nstore + 1;
    snprintf(R.users[nstore].key, sizeof R.users[nstore].key, "nobody");
    for (int p = 0; p < RR_NPURPOSE; p++)
        R.users[nstore].consent[p] = -1;

    /* some users get attributes and consent before their events */
    int early[MAX_USERS] = { 0 };
    for (int u = 0; u < nstore; u++)
        if ((early[u] = chance(30))) {
            gen_attrs(s, &R.users[u]);
            gen_consent(s, &R.users[u]);
        }

    /* interleave the users' ingestion sequences, keeping each user's own order */
    static persona_event all[MAX_USERS * RR_MAX_EV];
    static prop_arrays props[MAX_USERS * RR_MAX_EV];
    static char baskets[MAX_USERS * RR_MAX_EV][16];
    int next[MAX_USERS] = { 0 };
    for (int k = 0; k < total; k++) {
        int u;
        do
            u = rnd(nstore);
        while (next[u] >= R.users[u].nev);
        rr_event *e = &R.users[u].ev[next[u]++];
        e->arrival = (uint32_t)k;
        fill_event(&all[k], &props[k], baskets[k], &R.users[u], e);
    }
    for (int k = 0; k < total;) {
        int chunk = 1 + rnd(total - k < 40 ? total - k : 40);
        persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
        CHECK_RC(persona_store_ingest(&st, s, all + k, (size_t)chunk, NULL), PERSONA_OK);
        CHECK(st.events_accepted == (uint64_t)chunk);
        k += chunk;
    }
    for (int u = 0; u < nstore; u++)
        if (!early[u]) {
            gen_attrs(s, &R.users[u]);
            gen_consent(s, &R.users[u]);
        }
    R.min_t = INT64_MAX;
    R.max_t = INT64_MIN;
    for (int u = 0; u < nstore; u++)
        for (int i = 0; i < R.users[u].nev; i++) {
            if (R.users[u].ev[i].t < R.min_t) R.min_t = R.users[u].ev[i].t;
            if (R.users[u].ev[i].t > R.max_t) R.max_t = R.users[u].ev[i].t;
        }
    return s;
}

/* ---- generating rules ---- */

static rr_node *nn(int kind)
{
    if (R.npool >= POOL_NODES) {
        fprintf(stderr, "node pool exhausted\n");
        abort();
    }
    rr_node *n = &R.pool[R.npool++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->win = n->gap = -1;
    return n;
}

static rr_node *node2(int kind, int op, rr_node *a, rr_node *b)
{
    rr_node *n = nn(kind);
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

/* A non-negative number literal; some in exponent form. */
static rr_node *lit_plain(double v)
{
    rr_node *n = nn(RK_NUM);
    n->num = v;
    if (v == 1000 && chance(50))
        snprintf(n->text, sizeof n->text, "1e3");
    else if (v == 250 && chance(50))
        snprintf(n->text, sizeof n->text, "2.5e2");
    else if (v == 1500 && chance(50))
        snprintf(n->text, sizeof n->text, "1.5e3");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(n->text, sizeof n->text, "%.0f", v);
    else
        snprintf(n->text, sizeof n->text, "%.17g", v);
    return n;
}

/* A literal as it appears in an `in` list: possibly with a leading minus. */
static rr_node *lit_list_num(double v)
{
    rr_node *n = lit_plain(fabs(v));
    if (v < 0) {
        size_t l = strlen(n->text);
        memmove(n->text + 1, n->text, l + 1);
        n->text[0] = '-';
        n->num = v;
    }
    return n;
}

static rr_node *lit_dur(int idx)
{
    rr_node *n = nn(RK_NUM);
    n->num = (double)rr_durs[idx].ms;
    snprintf(n->text, sizeof n->text, "%s", rr_durs[idx].text);
    return n;
}

static rr_node *gen_date(void)
{
    rr_node *n = nn(RK_DATE);
    int64_t t = T0 + (int64_t)(rnd(150) - 15) * RR_DAY;
    int form = rnd(5);
    if (form)
        t += (int64_t)rnd(24) * RR_HOUR + (int64_t)rnd(60) * RR_MIN + (int64_t)rnd(60) * RR_SEC;
    int64_t shown = t;
    if (form == 2) shown = t + 2 * RR_HOUR;
    if (form == 3) shown = t - 5 * RR_HOUR - 30 * RR_MIN;
    time_t secs = (time_t)(shown / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char d[16], hms[16];
    strftime(d, sizeof d, "%Y-%m-%d", &tm);
    strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    switch (form) {
    case 0: snprintf(n->text, sizeof n->text, "%s", d); break;
    case 1: snprintf(n->text, sizeof n->text, "%sT%sZ", d, hms); break;
    case 2: snprintf(n->text, sizeof n->text, "%sT%s+02:00", d, hms); break;
    case 3: snprintf(n->text, sizeof n->text, "%sT%s-05:30", d, hms); break;
    default: snprintf(n->text, sizeof n->text, "%sT%s", d, hms); break;
    }
    n->str = n->text;
    n->num = (double)t;
    return n;
}

enum { SC_COUNT, SC_MONEY, SC_DAYS, SC_TIME, SC_DUR, SC_HOUR, SC_AGE, SC_SCORE, SC_SMALL };
#define SC_NEG 0x100

static double lit_value(int sc)
{
    switch (sc & 0xff) {
    case SC_COUNT: return chance(10) ? 0.5 * rnd(12) : rnd(7);
    case SC_MONEY: {
        static const double m[] = { 0, 10, 50, 99.75, 100, 250, 500, 1000, 1500, 2000 };
        return chance(50) ? m[rnd(NPOOL(m))] : 0.25 * rnd(4000);
    }
    case SC_DAYS: return chance(70) ? rnd(15) : rnd(130);
    case SC_HOUR: return rnd(24);
    case SC_AGE: return 15 + rnd(60);
    case SC_SCORE: return 0.25 * rnd(5);
    case SC_SMALL: return rnd(5);
    default: return rnd(10);
    }
}

/* A literal-ish right-hand side for a number of scale sc. */
static rr_node *lit_num(int sc)
{
    rr_node *n;
    int base = sc & 0xff;
    if (base == SC_TIME) {
        int r = rnd(100);
        if (r < 30)
            n = gen_date();
        else if (r < 60)
            n = lit_plain((double)(random_event_time() + (chance(50) ? 0 : rnd(3) - 1)));
        else if (r < 70)
            n = lit_plain((double)(T0 + (int64_t)rnd(HISTORY_DAYS) * RR_DAY));
        else
            n = node2(RK_ARITH, '-', nn(RK_NOW), lit_dur(rnd(RR_NDURS)));
    } else if (base == SC_DUR) {
        n = chance(80) ? lit_dur(rnd(RR_NDURS)) : lit_plain((double)(rnd(30) * RR_DAY));
    } else {
        n = lit_plain(lit_value(sc));
    }
    if (sc & SC_NEG) {
        rr_node *m = nn(RK_NEG);
        m->a = n;
        n = m;
    }
    return n;
}

static int gen_fn_type(void)
{
    int r = rnd(100);
    if (r < 4) return RR_T_ANY;
    if (r < 5) return RR_T_UNKNOWN;
    r = rnd(100);
    return r < 30 ? RR_T_VIEW : r < 50 ? RR_T_CART : r < 70 ? RR_T_PURCHASE : r < 85 ? RR_T_LOGIN
                                                                                    : RR_T_REFUND;
}

static int gen_win(void)
{
    static const int w[] = { 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 20 };
    return w[rnd(NPOOL(w))];
}

static rr_node *attr_ref(const char *name, int allow_bare)
{
    rr_node *n = nn(RK_ATTR);
    n->str = name;
    int dotted = strchr(name, '.') != NULL;
    int keyword = strcmp(name, "orders") == 0 || strcmp(name, "count") == 0;
    int r = rnd(3);
    if (dotted)
        n->form = RR_AF_BRACKET;
    else if (r == 0 && allow_bare && !keyword)
        n->form = RR_AF_BARE;
    else
        n->form = r == 2 ? RR_AF_BRACKET : RR_AF_DOT;
    return n;
}

static rr_node *gen_num(int d, int *sc);

static rr_node *gen_num_leaf(int *sc)
{
    int r = rnd(100);
    rr_node *n;
    if (r < 15) {
        n = nn(RK_TRAIT);
        int t = rnd(3);
        n->op = t == 0 ? RR_TR_EVENTS : t == 1 ? RR_TR_ORDERS : RR_TR_SESSIONS;
        *sc = SC_COUNT;
    } else if (r < 20) {
        n = nn(RK_TRAIT);
        n->op = RR_TR_VALUE;
        *sc = SC_MONEY;
    } else if (r < 26) {
        n = nn(RK_TRAIT);
        n->op = chance(50) ? RR_TR_FIRST_SEEN : RR_TR_LAST_SEEN;
        *sc = SC_TIME;
    } else if (r < 42) {
        n = nn(RK_COUNT);
        n->type = gen_fn_type();
        n->win = chance(50) ? gen_win() : -1;
        *sc = SC_COUNT;
    } else if (r < 51) {
        n = nn(RK_SUM);
        n->type = chance(60) ? RR_T_PURCHASE : gen_fn_type();
        n->win = chance(50) ? gen_win() : -1;
        *sc = SC_MONEY;
    } else if (r < 60) {
        n = nn(RK_DAYS_SINCE);
        n->type = gen_fn_type();
        *sc = SC_DAYS;
    } else if (r < 65) {
        n = nn(RK_SCORE);
        n->str = chance(85) ? "churn" : "ltv";
        *sc = SC_SCORE;
    } else if (r < 71) {
        n = attr_ref("age", 1);
        *sc = SC_AGE;
    } else if (r < 74) {
        n = attr_ref("signup", 1);
        *sc = SC_TIME;
    } else if (r < 78) {
        n = attr_ref(chance(60) ? "orders" : "count", 0);
        *sc = SC_COUNT;
    } else if (r < 83) {
        n = nn(RK_CTX_HOUR);
        *sc = SC_HOUR;
    } else if (r < 86) {
        n = nn(RK_NOW);
        *sc = SC_TIME;
    } else if (r < 88) {
        n = gen_date();
        *sc = SC_TIME;
    } else if (r < 92) {
        n = nn(RK_TRAIT); /* value again: the most common numeric trait in practice */
        n->op = RR_TR_VALUE;
        *sc = SC_MONEY;
    } else {
        *sc = rnd(9);
        if (*sc == SC_TIME || *sc == SC_DUR)
            *sc = SC_COUNT;
        n = lit_plain(lit_value(*sc));
    }
    return n;
}

static rr_node *gen_num(int d, int *sc)
{
    if (d <= 0 || !chance(30))
        return gen_num_leaf(sc);
    int s;
    switch (rnd(7)) {
    case 0: { /* x + lit / x - lit / x + y */
        rr_node *x = gen_num(d - 1, &s);
        rr_node *y;
        if ((s & 0xff) == SC_TIME) {
            y = lit_dur(rnd(RR_NDURS));
        } else if (chance(40)) {
            int s2;
            y = gen_num_leaf(&s2);
        } else {
            y = lit_plain(lit_value(s));
        }
        *sc = s;
        return node2(RK_ARITH, chance(50) ? '+' : '-', x, y);
    }
    case 1: {
        static const double f[] = { 0, 0.5, 2, 3, 0.25 };
        rr_node *x = gen_num(d - 1, &s);
        *sc = s;
        return node2(RK_ARITH, '*', x, lit_plain(f[rnd(NPOOL(f))]));
    }
    case 2: {
        static const double f[] = { 0, 2, 4, 0.5, 3 };
        rr_node *x = gen_num(d - 1, &s);
        *sc = s;
        return node2(RK_ARITH, '/', x, lit_plain(f[rnd(NPOOL(f))]));
    }
    case 3: {
        static const double f[] = { 0, 2, 3, 7, 1.5 };
        rr_node *x = gen_num(d - 1, &s);
        *sc = SC_SMALL;
        if (chance(30)) { /* x % y with y an expression (may be 0) */
            int s2;
            return node2(RK_ARITH, '%', x, gen_num_leaf(&s2));
        }
        return node2(RK_ARITH, '%', x, lit_plain(f[rnd(NPOOL(f))]));
    }
    case 4: { /* durations: now - last_seen, last_seen - first_seen, now - signup */
        rr_node *t = nn(RK_TRAIT);
        t->op = chance(50) ? RR_TR_LAST_SEEN : RR_TR_FIRST_SEEN;
        rr_node *a = chance(70) ? nn(RK_NOW) : nn(RK_TRAIT);
        if (a->kind == RK_TRAIT)
            a->op = RR_TR_LAST_SEEN;
        if (chance(20))
            t = attr_ref("signup", 1);
        *sc = SC_DUR;
        return node2(RK_ARITH, '-', a, t);
    }
    case 5: { /* unary minus */
        rr_node *n = nn(RK_NEG);
        n->a = gen_num(d - 1, &s);
        *sc = s ^ SC_NEG;
        return n;
    }
    default: { /* sum of two counts */
        rr_node *x = nn(RK_COUNT), *y = nn(RK_COUNT);
        x->type = gen_fn_type();
        y->type = gen_fn_type();
        x->win = chance(50) ? gen_win() : -1;
        y->win = chance(50) ? gen_win() : -1;
        *sc = SC_COUNT;
        return node2(RK_ARITH, '+', x, y);
    }
    }
}

static rr_node *gen_str_leaf(int *kind)
{
    int r = rnd(100);
    rr_node *n;
    if (r < 20) {
        n = nn(RK_LAST);
        n->op = avoided("last_category") ? RR_PROP_CHANNEL : RR_PROP_CATEGORY;
        *kind = n->op == RR_PROP_CATEGORY ? K_CAT : K_CHAN;
    } else if (r < 27) {
        n = nn(RK_LAST);
        n->op = chance(80) ? RR_PROP_CHANNEL : RR_PROP_NEVER;
        *kind = K_CHAN;
    } else if (r < 40) {
        n = attr_ref("plan", 1);
        *kind = K_PLAN;
    } else if (r < 50) {
        if (chance(60)) {
            n = nn(RK_PREF);
            n->str = chance(85) ? "topic" : "color";
        } else {
            n = attr_ref("pref.topic", 0);
        }
        *kind = K_TOPIC;
    } else if (r < 58) {
        n = attr_ref("city", 1);
        *kind = K_CITY;
    } else if (r < 66) {
        n = nn(RK_CTX);
        n->op = 0;
        *kind = K_COUNTRY;
    } else if (r < 74) {
        n = nn(RK_CTX);
        n->op = 1;
        *kind = K_DEVICE;
    } else if (r < 82) {
        n = nn(RK_CTX);
        n->op = 2;
        *kind = K_REF;
    } else if (r < 88) {
        n = attr_ref("age", 1);
        *kind = K_AGESTR;
    } else if (r < 94) {
        n = attr_ref("score.churn", 0);
        *kind = K_AGESTR;
    } else {
        *kind = rnd(NKINDS);
        n = nn(RK_STR);
        n->str = pick_pool(*kind);
    }
    return n;
}

/* Code point boundaries of s (offsets), count in *n. */
static void cp_offsets(const char *s, int *off, int *n)
{
    const char *p = s;
    *n = 0;
    while (*p) {
        off[(*n)++] = (int)(p - s);
        rr_utf8_next(&p);
    }
    off[*n] = (int)(p - s);
}

static rr_node *lit_str_eq(int kind)
{
    rr_node *n = nn(RK_STR);
    n->str = chance(78) ? pick_pool(kind) : other_pool[rnd(NPOOL(other_pool))];
    return n;
}

/* A substring of a pool value (whole code points): prefix, suffix or middle. */
static rr_node *lit_str_sub(int kind, int where /* 0 any, 1 prefix, 2 suffix */)
{
    rr_node *n = nn(RK_STR);
    if (chance(12)) {
        n->str = other_pool[rnd(NPOOL(other_pool))];
        return n;
    }
    const char *src = pick_pool(kind);
    int off[64], c;
    cp_offsets(src, off, &c);
    int a = 0, b = c;
    if (c > 0) {
        if (where == 1) b = rnd(c + 1);
        else if (where == 2) a = rnd(c + 1);
        else {
            a = rnd(c + 1);
            b = a + rnd(c - a + 1);
        }
    }
    snprintf(n->text, sizeof n->text, "%.*s", off[b] - off[a], src + off[a]);
    n->str = n->text;
    return n;
}

static void glob_put(char *out, size_t cap, size_t *len, const char *bytes, size_t n)
{
    if (*len + n + 1 >= cap)
        return;
    memcpy(out + *len, bytes, n);
    *len += n;
    out[*len] = 0;
}

/* A glob derived from a pool value: some characters as ?, runs as *, escapes; sometimes
 * mutated so it does not match. */
static rr_node *gen_glob(int kind)
{
    rr_node *n = nn(RK_MATCHES);
    char *out = n->text;
    size_t len = 0;
    out[0] = 0;
    int r = rnd(100);
    if (r < 4) {
        n->str = "*";
        return n;
    }
    if (r < 6) {
        n->str = "";
        return n;
    }
    const char *src = pick_pool(kind);
    int off[64], c;
    cp_offsets(src, off, &c);
    if (chance(10))
        glob_put(out, sizeof n->text, &len, "*", 1);
    for (int i = 0; i < c; i++) {
        const char *cp = src + off[i];
        size_t cl = (size_t)(off[i + 1] - off[i]);
        int q = rnd(100);
        if (q < 12) {
            glob_put(out, sizeof n->text, &len, "?", 1);
        } else if (q < 20) {
            glob_put(out, sizeof n->text, &len, "*", 1);
            i += rnd(3); /* the star absorbs this and 0..2 more characters */
        } else {
            if (*cp == '*' || *cp == '?' || *cp == '\\' || chance(6))
                glob_put(out, sizeof n->text, &len, "\\", 1);
            glob_put(out, sizeof n->text, &len, cp, cl);
        }
    }
    if (chance(10))
        glob_put(out, sizeof n->text, &len, "*", 1);
    if (chance(20)) { /* mutate */
        if (chance(50) || len == 0)
            glob_put(out, sizeof n->text, &len, chance(50) ? "x" : "?", 1);
        else
            out[rnd((int)len)] = 'Q';
        /* a Q replacing a UTF-8 continuation byte would make invalid UTF-8: redo as append */
        const char *p = out;
        int bad = 0;
        while (*p) {
            unsigned char ch = (unsigned char)*p;
            int l = ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 0;
            if (!l) { bad = 1; break; }
            for (int k = 1; k < l; k++)
                if (((unsigned char)p[k] & 0xC0) != 0x80) bad = 1;
            if (bad) break;
            p += l;
        }
        if (bad) {
            snprintf(out, sizeof n->text, "%s", src);
            len = strlen(out);
            glob_put(out, sizeof n->text, &len, "Z", 1);
        }
        /* a trailing lone backslash is not a pattern we generate */
        if (len && out[len - 1] == '\\') {
            size_t bs = 0;
            while (bs < len && out[len - 1 - bs] == '\\') bs++;
            if (bs % 2)
                glob_put(out, sizeof n->text, &len, "\\", 1);
        }
    }
    n->str = out;
    return n;
}

static rr_node *gen_bool(int d, int rule_index);

static rr_node *gen_bool_fn(int rule_index)
{
    int r = rnd(100);
    rr_node *n;
    if (r < 12) {
        static const int w[] = { 5, 7, 9, 10, 11, 12, 12, 13, 13, 14, 19, 20 };
        n = nn(RK_FIRST_TIME);
        n->type = gen_fn_type();
        n->win = w[rnd(NPOOL(w))];
    } else if (r < 26) {
        static const int w[] = { 3, 5, 6, 7, 9, 11, 12, 13, 19, 20 };
        n = nn(RK_STOPPED);
        n->type = gen_fn_type();
        n->win = w[rnd(NPOOL(w))];
    } else if (r < 40) {
        static const int w[] = { 2, 3, 4, 5, 6, 7, 8, 15 };
        static const int g[] = { 0, 3, 5, 6, 7, 9, 19, 11 };
        n = nn(RK_RESTARTED);
        n->type = chance(30) ? RR_T_ANY : gen_fn_type();
        n->win = w[rnd(NPOOL(w))];
        n->gap = chance(60) ? g[rnd(NPOOL(g))] : -1;
    } else if (r < 54) {
        n = nn(RK_REGULARLY);
        n->type = gen_fn_type();
        int u = rnd(100);
        n->unit = u < 45 ? RR_UNIT_DAYS : u < 80 ? RR_UNIT_WEEKS : RR_UNIT_HOURS;
        n->unit_sp = chance(20);
        int minn = n->unit == RR_UNIT_DAYS ? 3 : n->unit == RR_UNIT_WEEKS ? 2 : 6;
        int maxn = n->unit == RR_UNIT_DAYS ? 20 : n->unit == RR_UNIT_WEEKS ? 12 : 48;
        n->n = chance(5) ? 64 : chance(10) ? 1 + rnd(3) : minn + rnd(maxn - minn + 1);
        n->k = 1 + rnd(n->n < 3 ? n->n : 3);
        if (chance(5))
            n->k = n->n;
    } else if (r < 80) {
        n = nn(RK_SEQUENCE);
        n->nsteps = chance(4) ? 6 + rnd(RR_MAX_STEPS - 5) : 1 + rnd(5);
        int pos = 0;
        for (int i = 0; i < n->nsteps; i++) {
            n->stepneg[i] = chance(30);
            n->steps[i] = gen_type();
            if (!n->stepneg[i]) {
                pos++;
                if (chance(4))
                    n->steps[i] = RR_T_ANY;
            }
        }
        if (!pos)
            n->stepneg[rnd(n->nsteps)] = 0;
        if (chance(50)) {
            static const int w[] = { 0, 1, 3, 5, 6, 7, 11, 15 };
            n->win = w[rnd(NPOOL(w))];
        }
    } else if (r < 88) {
        n = nn(RK_CONSENT);
        n->op = chance(75) ? 0 : 1;
    } else if (r < 96 || rule_index == 0) {
        n = nn(RK_EXISTS);
        int q = rnd(12);
        static const char *const names[] = { "age", "plan", "vip", "city", "signup" };
        if (q < 4) n->a = attr_ref(names[rnd(5)], 1);
        else if (q < 6) n->a = attr_ref(chance(50) ? "pref.topic" : "score.churn", 0);
        else if (q < 7) n->a = attr_ref("nothing", 1);
        else if (q < 9) {
            n->a = nn(RK_PREF);
            n->a->str = chance(70) ? "topic" : "color";
        } else {
            n->a = nn(RK_CTX);
            n->a->op = rnd(RR_NCTX);
        }
    } else {
        int cands[RULES_PER_ROUND], nc = 0;
        for (int i = 0; i < rule_index; i++)
            if (R.midx[i] >= 0)
                cands[nc++] = i;
        if (!nc)
            return gen_bool_fn(0);
        n = nn(RK_IN_SEGMENT);
        n->seg = cands[rnd(nc)];
    }
    return n;
}

static rr_node *gen_atom(int d, int rule_index)
{
    int r = rnd(100);
    int sc, kind;
    if (r < 26) { /* numeric comparison */
        rr_node *x = gen_num(d, &sc);
        rr_node *y;
        if (chance(15)) {
            int s2;
            y = gen_num(d > 0 ? d - 1 : 0, &s2);
        } else {
            y = lit_num(sc);
        }
        return node2(RK_CMP, rnd(6), x, y);
    }
    if (r < 32) { /* numeric between */
        rr_node *n = nn(RK_BETWEEN);
        n->neg = chance(35);
        n->a = gen_num(d, &sc);
        n->b = lit_num(sc);
        n->c = lit_num(sc);
        if (n->b->kind == RK_NUM && n->c->kind == RK_NUM && n->b->num > n->c->num && chance(85)) {
            rr_node *t = n->b;
            n->b = n->c;
            n->c = t;
        }
        return n;
    }
    if (r < 37) { /* numeric in */
        rr_node *n = nn(RK_IN);
        n->neg = chance(40);
        n->a = gen_num(d > 1 ? 1 : d, &sc);
        if ((sc & 0xff) == SC_TIME || (sc & 0xff) == SC_DUR)
            sc = SC_COUNT; /* keep the list short and meaningful */
        n->nlist = 1 + rnd(4);
        for (int i = 0; i < n->nlist; i++) {
            double v = lit_value(sc);
            if (sc & SC_NEG)
                v = -v;
            n->list[i] = chance(5) ? lit_dur(rnd(RR_NDURS)) : lit_list_num(v);
        }
        return n;
    }
    if (r < 45) { /* string ==, != */
        rr_node *x = gen_str_leaf(&kind);
        rr_node *y;
        if (chance(15)) {
            int k2;
            y = gen_str_leaf(&k2);
        } else {
            y = lit_str_eq(kind);
        }
        return node2(RK_CMP, chance(60) ? RR_CMP_EQ : RR_CMP_NE, x, y);
    }
    if (r < 47) { /* string ordering */
        rr_node *x = gen_str_leaf(&kind);
        return node2(RK_CMP, 2 + rnd(4), x, lit_str_eq(kind));
    }
    if (r < 51) { /* string in */
        rr_node *n = nn(RK_IN);
        n->neg = chance(40);
        n->a = gen_str_leaf(&kind);
        n->nlist = 1 + rnd(4);
        for (int i = 0; i < n->nlist; i++)
            n->list[i] = lit_str_eq(kind);
        return n;
    }
    if (r < 61) { /* contains, starts_with, ends_with */
        int which = rnd(3);
        rr_node *n = nn(which == 0 ? RK_CONTAINS : which == 1 ? RK_STARTS : RK_ENDS);
        n->neg = which == 0 && chance(35);
        n->a = gen_str_leaf(&kind);
        if (chance(12)) {
            int k2;
            n->b = gen_str_leaf(&k2);
        } else {
            n->b = lit_str_sub(kind, which);
        }
        return n;
    }
    if (r < 66 && !avoided("matches")) { /* matches */
        rr_node *x = gen_str_leaf(&kind);
        rr_node *n = gen_glob(kind);
        n->a = x;
        return n;
    }
    if (r < 67) { /* string between */
        rr_node *n = nn(RK_BETWEEN);
        n->neg = chance(35);
        n->a = gen_str_leaf(&kind);
        n->b = lit_str_eq(kind);
        n->c = lit_str_eq(kind);
        if (strcmp(n->b->str, n->c->str) > 0 && chance(80)) {
            rr_node *t = n->b;
            n->b = n->c;
            n->c = t;
        }
        return n;
    }
    if (r < 88)
        return gen_bool_fn(rule_index);
    if (r < 91) /* a boolean attribute as a condition */
        return attr_ref("vip", 1);
    if (r < 95) { /* booleans with == / != */
        rr_node *x;
        int q = rnd(4);
        if (q == 0) x = attr_ref("vip", 1);
        else if (q == 1) x = gen_bool_fn(rule_index);
        else if (q == 2) x = gen_atom(0, rule_index);
        else { x = nn(RK_CONSENT); x->op = rnd(2); }
        rr_node *y;
        if (chance(70)) {
            y = nn(RK_BOOL);
            y->num = rnd(2);
        } else if (chance(50)) {
            y = attr_ref("vip", 1);
        } else {
            y = nn(RK_CONSENT);
            y->op = rnd(2);
        }
        return node2(RK_CMP, chance(60) ? RR_CMP_EQ : RR_CMP_NE, x, y);
    }
    if (r < 96) { /* boolean in list */
        rr_node *n = nn(RK_IN);
        n->neg = chance(40);
        n->a = attr_ref("vip", 1);
        n->nlist = 1 + rnd(2);
        for (int i = 0; i < n->nlist; i++) {
            n->list[i] = nn(RK_BOOL);
            n->list[i]->num = rnd(2);
        }
        return n;
    }
    if (r < 99) { /* an untyped attribute against a literal of another runtime type */
        int q = rnd(4);
        rr_node *x, *y;
        if (q == 0) { x = attr_ref("plan", 1); y = lit_plain(3); }
        else if (q == 1) { x = attr_ref("vip", 1); y = lit_plain(1); }
        else if (q == 2) { x = attr_ref("age", 1); y = nn(RK_STR); y->str = agestr_pool[rnd(2)]; }
        else { x = attr_ref("vip", 1); y = nn(RK_STR); y->str = "true"; }
        return node2(RK_CMP, chance(60) ? RR_CMP_EQ : RR_CMP_NE, x, y);
    }
    rr_node *n = nn(RK_BOOL);
    n->num = rnd(2);
    return n;
}

static rr_node *gen_bool(int d, int rule_index)
{
    if (d <= 0 || chance(40))
        return gen_atom(d > 2 ? 2 : d, rule_index);
    int r = rnd(100);
    if (r < 40)
        return node2(RK_AND, 0, gen_bool(d - 1, rule_index), gen_bool(d - 1, rule_index));
    if (r < 75)
        return node2(RK_OR, 0, gen_bool(d - 1, rule_index), gen_bool(d - 1, rule_index));
    rr_node *n = nn(RK_NOT);
    n->a = gen_bool(d - 1, rule_index);
    return n;
}

static void print_rule(char *out, size_t cap, const rr_node *n)
{
    rr_buf b = { out, 0, cap };
    out[0] = 0;
    rr_print(&b, n);
}

/* Vary the layout: some spaces outside string literals become newlines, tabs or comments
 * (an expression may span lines; `#` comments run to the end of the line). */
static void decorate_rule(char *text, size_t cap)
{
    if (!chance(25))
        return;
    char out[4096];
    size_t k = 0;
    int in_str = 0;
    for (const char *p = text; *p && k + 16 < sizeof out; p++) {
        if (in_str) {
            if (*p == '\\' && p[1]) {
                out[k++] = *p++;
                out[k++] = *p;
                continue;
            }
            if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == ' ' && chance(15)) {
            static const char *const ws[] = { "\n  ", "\t", "  ", " # why \"not\" (\n", "\r\n" };
            const char *w = ws[rnd(NPOOL(ws))];
            size_t l = strlen(w);
            memcpy(out + k, w, l);
            k += l;
            continue;
        }
        out[k++] = *p;
    }
    out[k] = 0;
    if (k < cap)
        memcpy(text, out, k + 1);
}

/* ---- evaluation contexts ---- */

typedef struct ctx_data {
    persona_eval_context c;
    const char *names[RR_NCTX + 1];
    const char *values[RR_NCTX + 1];
    const char *ref[RR_NCTX]; /* the reference's view: NULL = absent */
} ctx_data;

static void gen_ctx(ctx_data *cd, int64_t now_ms)
{
    static const char *const *pools[RR_NCTX] = { country_pool, device_pool, ref_pool };
    static const int npools[RR_NCTX] = { NPOOL(country_pool), NPOOL(device_pool),
                                         NPOOL(ref_pool) };
    cd->c = (persona_eval_context)PERSONA_EVAL_CONTEXT_INIT;
    cd->c.now_ms = now_ms;
    cd->c.hour = chance(25) ? -1 : rnd(24);
    size_t k = 0;
    int order[RR_NCTX] = { 0, 1, 2 };
    for (int i = RR_NCTX - 1; i > 0; i--) {
        int j = rnd(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int q = 0; q < RR_NCTX; q++) {
        int i = order[q];
        cd->ref[i] = NULL;
        int r = rnd(100);
        if (r < 20)
            continue;
        cd->names[k] = rr_ctx_names[i];
        cd->values[k] = r < 32 ? NULL : pools[i][rnd(npools[i])];
        cd->ref[i] = cd->values[k];
        k++;
    }
    if (chance(30)) {
        cd->names[k] = "lang";
        cd->values[k++] = "de";
    }
    cd->c.count = k;
    cd->c.names = cd->names;
    cd->c.values = cd->values;
}

/* ---- dumping a case ---- */

static const char *iso(int64_t t)
{
    static char buf[4][40];
    static int k;
    char *b = buf[k++ & 3];
    time_t secs = (time_t)(t >= 0 ? t / 1000 : (t - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(b, 40, "?");
        return b;
    }
    size_t n = strftime(b, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + n, 40 - n, ".%03dZ", (int)(((t % 1000) + 1000) % 1000));
    return b;
}

static void dump_user(const rr_user *u)
{
    fprintf(stderr, "  user %s: %d events (ingestion order):\n", u->key, u->nev);
    for (int i = 0; i < u->nev; i++) {
        const rr_event *e = &u->ev[i];
        fprintf(stderr, "    t=%" PRId64 " %s %-11s", e->t, iso(e->t), rr_type_names[e->type]);
        if (!isnan(e->value))
            fprintf(stderr, " value=%g", e->value);
        if (e->basket >= 0)
            fprintf(stderr, " basket=b%d", e->basket);
        if (e->cat != -1)
            fprintf(stderr, " category=\"%s\"", e->cat >= 0 ? rr_cats[e->cat] : "");
        if (e->chan != -1)
            fprintf(stderr, " channel=%s", e->chan >= 0 ? rr_chans[e->chan] : "NULL");
        fprintf(stderr, " (arrival %u)\n", e->arrival);
    }
    for (int i = 0; i < u->nattr; i++) {
        const rr_attr *a = &u->attrs[i];
        fprintf(stderr, "    attr %s = ", a->name);
        switch (a->type) {
        case PERSONA_NUM: fprintf(stderr, "num %.17g\n", a->num); break;
        case PERSONA_STR: fprintf(stderr, "str \"%s\"\n", a->str); break;
        case PERSONA_BOOL: fprintf(stderr, "bool %d\n", a->b); break;
        case PERSONA_TIME: fprintf(stderr, "time %" PRId64 " %s\n", a->time, iso(a->time)); break;
        default: fprintf(stderr, "null\n"); break;
        }
    }
    for (int p = 0; p < RR_NPURPOSE; p++)
        if (u->consent[p] >= 0)
            fprintf(stderr, "    consent %s = %d\n", rr_purposes[p], u->consent[p]);
}

static void dump_ctx(const ctx_data *cd, int64_t now, int store_clock)
{
    fprintf(stderr, "  now=%" PRId64 " %s%s; ctx.hour=%d;", now, iso(now),
            store_clock ? " (PERSONA_NOW_STORE)" : "", (int)cd->c.hour);
    for (size_t i = 0; i < cd->c.count; i++)
        fprintf(stderr, " %s=%s%s%s", cd->names[i], cd->values[i] ? "\"" : "",
                cd->values[i] ? cd->values[i] : "NULL", cd->values[i] ? "\"" : "");
    fprintf(stderr, "\n");
}

/* ---- minimizing a mismatch in a fresh single-user store ---- */

static int has_in_segment(const rr_node *n)
{
    if (!n)
        return 0;
    if (n->kind == RK_IN_SEGMENT)
        return 1;
    if (has_in_segment(n->a) || has_in_segment(n->b) || has_in_segment(n->c))
        return 1;
    return 0;
}

/* The library's answer for one rule and one user alone in a store; returns the rc. */
static int lib_single(const char *text, const rr_user *u, const ctx_data *cd, int64_t now,
                      int32_t *out)
{
    persona_store *s = NULL;
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 1;
    o.session_gap_ms = R.session_gap;
    if (persona_store_new(&s, &o) != PERSONA_OK)
        return -100;
    int order[RR_MAX_EV];
    for (int i = 0; i < u->nev; i++)
        order[i] = i;
    for (int i = 1; i < u->nev; i++) /* by original arrival */
        for (int j = i; j > 0 && u->ev[order[j - 1]].arrival > u->ev[order[j]].arrival; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < u->nev; i++) {
        persona_event pe;
        prop_arrays pa;
        char bb[16];
        fill_event(&pe, &pa, bb, u, &u->ev[order[i]]);
        persona_store_ingest(NULL, s, &pe, 1, NULL);
    }
    for (int i = 0; i < u->nattr; i++) {
        const rr_attr *a = &u->attrs[i];
        switch (a->type) {
        case PERSONA_NUM: persona_store_attr_set_num(s, u->key, a->name, a->num); break;
        case PERSONA_STR: persona_store_attr_set_str(s, u->key, a->name, a->str); break;
        case PERSONA_BOOL: persona_store_attr_set_bool(s, u->key, a->name, a->b); break;
        case PERSONA_TIME: persona_store_attr_set_time(s, u->key, a->name, a->time); break;
        default: persona_store_attr_set_null(s, u->key, a->name); break;
        }
    }
    for (int p = 0; p < RR_NPURPOSE; p++)
        if (u->consent[p] >= 0)
            persona_store_consent_set(s, u->key, rr_purposes[p], u->consent[p], T0 - 400 * RR_DAY);
    persona_segment_model *m = NULL;
    int rc = persona_segment_model_new(&m, NULL);
    if (rc == PERSONA_OK)
        rc = persona_segment_model_add_rule(m, "r", text, strlen(text));
    if (rc == PERSONA_OK) {
        persona_eval_context c = cd->c;
        c.now_ms = now;
        rc = persona_segment_model_test(out, m, 0, s, u->key, &c);
    }
    persona_segment_model_free(m);
    persona_store_free(s);
    return rc;
}

static int ref_single(const rr_node *rule, const rr_user *u, const ctx_data *cd, int64_t now)
{
    rr_env env = { 0 };
    env.u = u;
    env.now = now;
    env.hour = cd->c.hour;
    for (int i = 0; i < RR_NCTX; i++)
        env.ctx[i] = cd->ref[i];
    env.session_gap = R.session_gap ? R.session_gap : 30 * RR_MIN;
    rr_env_prepare(&env);
    return rr_truthy(rr_eval(&env, rule));
}

/* Does the (rule, user, now) case still disagree? */
static int still_differs(const rr_node *rule, const rr_user *u, const ctx_data *cd, int64_t now)
{
    char text[4096];
    print_rule(text, sizeof text, rule);
    int32_t got = -1;
    if (lib_single(text, u, cd, now, &got) != PERSONA_OK)
        return 0;
    return got != ref_single(rule, u, cd, now);
}

static rr_node shrink_pool[1024];
static int shrink_n;

static rr_node *deep_copy(const rr_node *n)
{
    if (!n)
        return NULL;
    if (shrink_n >= 1024)
        abort();
    rr_node *c = &shrink_pool[shrink_n++];
    *c = *n;
    if (n->str == n->text)
        c->str = c->text;
    c->a = deep_copy(n->a);
    c->b = deep_copy(n->b);
    c->c = deep_copy(n->c);
    for (int i = 0; i < n->nlist; i++)
        c->list[i] = deep_copy(n->list[i]);
    return c;
}

static void collect(rr_node *n, rr_node **out, int *k)
{
    if (!n)
        return;
    out[(*k)++] = n;
    collect(n->a, out, k);
    collect(n->b, out, k);
    collect(n->c, out, k);
}

static char seen_repros[32][4096];
static int n_seen_repros, n_repros_suppressed;

static void minimize(const rr_node *rule0, const rr_user *u0, const ctx_data *cd, int64_t now)
{
    shrink_n = 0;
    rr_node *rule = deep_copy(rule0);
    rr_user u = *u0;
    if (!still_differs(rule, &u, cd, now)) {
        fprintf(stderr, "  (does not reproduce with this user alone in a fresh store at the "
                        "explicit now: the store's other users or the store clock matter)\n");
        return;
    }
    /* shrink the rule: replace an operator by one of its operands of a usable type */
    for (int changed = 1; changed;) {
        changed = 0;
        rr_node *nodes[1024];
        int k = 0;
        collect(rule, nodes, &k);
        for (int i = 0; i < k && !changed; i++) {
            rr_node *n = nodes[i];
            rr_node *cands[2] = { NULL, NULL };
            if (n->kind == RK_AND || n->kind == RK_OR) {
                cands[0] = n->a;
                cands[1] = n->b;
            } else if (n->kind == RK_NOT || n->kind == RK_NEG) {
                cands[0] = n->a;
            } else if (n->kind == RK_ARITH) {
                cands[0] = n->a;
            }
            for (int c = 0; c < 2 && !changed; c++) {
                if (!cands[c])
                    continue;
                rr_node saved = *n;
                *n = *cands[c];
                if (cands[c]->str == cands[c]->text)
                    n->str = n->text;
                if (still_differs(rule, &u, cd, now))
                    changed = 1;
                else
                    *n = saved;
            }
        }
    }
    /* shrink the data */
    for (int i = u.nev - 1; i >= 0; i--) {
        rr_user t = u;
        memmove(&t.ev[i], &t.ev[i + 1], sizeof(rr_event) * (size_t)(t.nev - i - 1));
        t.nev--;
        if (still_differs(rule, &t, cd, now))
            u = t;
    }
    for (int i = u.nattr - 1; i >= 0; i--) {
        rr_user t = u;
        t.attrs[i] = t.attrs[--t.nattr];
        if (still_differs(rule, &t, cd, now))
            u = t;
    }
    for (int p = 0; p < RR_NPURPOSE; p++) {
        rr_user t = u;
        t.consent[p] = -1;
        if (u.consent[p] >= 0 && still_differs(rule, &t, cd, now))
            u = t;
    }
    char text[4096];
    print_rule(text, sizeof text, rule);
    for (int i = 0; i < n_seen_repros; i++)
        if (strcmp(seen_repros[i], text) == 0) {
            n_repros_suppressed++;
            fprintf(stderr, "  minimized to the same rule as an earlier repro: %s\n", text);
            return;
        }
    if (n_seen_repros < 32)
        snprintf(seen_repros[n_seen_repros++], sizeof seen_repros[0], "%s", text);
    int32_t got = -1;
    lib_single(text, &u, cd, now, &got);
    fprintf(stderr, "  MINIMAL REPRO (one user alone in a fresh store, session gap %" PRId64 " ms):\n",
            R.session_gap ? R.session_gap : 30 * RR_MIN);
    fprintf(stderr, "  rule: %s\n", text);
    dump_ctx(cd, now, 0);
    dump_user(&u);
    fprintf(stderr, "  expected (docs/rules.md) %d, library %d\n", ref_single(rule, &u, cd, now),
            (int)got);
}

/* ---- the comparison ---- */

static uint64_t stats[RK_COUNT_KINDS][2];       /* clause outcomes seen by the reference */
static uint64_t kind_rules[RK_COUNT_KINDS][2];  /* rules containing a kind: constant / varying */
static uint64_t kind_mismatch[RK_COUNT_KINDS];  /* mismatching evaluations of rules containing it */
static uint64_t n_compared, n_true, n_rules, n_varying, n_compile_fail, n_mismatch,
    n_assign_checked, n_assign_mismatch, n_describe_bad;
static int printed;

static void mark_kinds(const rr_node *n, int *seen)
{
    if (!n)
        return;
    seen[n->kind] = 1;
    mark_kinds(n->a, seen);
    mark_kinds(n->b, seen);
    mark_kinds(n->c, seen);
    for (int i = 0; i < n->nlist; i++)
        mark_kinds(n->list[i], seen);
}

/* describe(): one line `NAME: yes|no|not reached` per segment (clause lines indented). */
static int check_describe(const persona_segment_model *model, int all_mode, const persona_store *s,
                          const rr_user *u, const ctx_data *cd, const int *assign_rules,
                          int nassign, const int *truth)
{
    static char buf[1 << 16];
    size_t len = 0;
    int rc = persona_segment_model_describe(buf, sizeof buf, &len, model, s, u->key, &cd->c);
    if (rc != PERSONA_OK) {
        fprintf(stderr, "describe: rc %d %s\n", rc, persona_errmsg());
        return 0;
    }
    int seg = 0, matched = 0;
    for (const char *line = buf; *line;) {
        const char *end = strchr(line, '\n');
        size_t ll = end ? (size_t)(end - line) : strlen(line);
        if (line[0] != ' ' && ll) {
            char want_name[16], want_state[16];
            snprintf(want_name, sizeof want_name, "r%d: ", assign_rules[seg < nassign ? seg : 0]);
            if (seg >= nassign) {
                fprintf(stderr, "describe: more segment lines than segments\n%s\n", buf);
                return 0;
            }
            int t = truth[assign_rules[seg]];
            snprintf(want_state, sizeof want_state, "%s",
                     !all_mode && matched ? "not reached" : t ? "yes" : "no");
            size_t nl = strlen(want_name), sl = strlen(want_state);
            if (ll < nl + sl || memcmp(line, want_name, nl) != 0 ||
                memcmp(line + nl, want_state, sl) != 0 ||
                (ll > nl + sl && (line[nl + sl] == ' ' ? 0 : line[nl + sl] != '\r'))) {
                fprintf(stderr, "describe (%s): segment %d: want \"%s%s\", got \"%.*s\"\n",
                        all_mode ? "all-matches" : "first-match", seg, want_name, want_state,
                        (int)ll, line);
                return 0;
            }
            matched |= t;
            seg++;
        }
        line += ll + (end != NULL);
    }
    if (seg != nassign) {
        fprintf(stderr, "describe: %d segment lines, want %d\n%s\n", seg, nassign, buf);
        return 0;
    }
    return 1;
}

/* Window edges the round's rules use (W, W + G, periods), so evaluation times can be put
 * exactly one window after an event. */
static int64_t edges[512];
static int n_edges;

static void collect_edges(const rr_node *n)
{
    if (!n || n_edges > 500)
        return;
    if (n->win >= 0) {
        int64_t w = rr_durs[n->win].ms;
        edges[n_edges++] = w;
        if (n->kind == RK_RESTARTED)
            edges[n_edges++] = w + (n->gap >= 0 ? rr_durs[n->gap].ms : w);
    }
    if (n->kind == RK_REGULARLY) {
        int64_t p = n->unit == RR_UNIT_HOURS ? RR_HOUR : n->unit == RR_UNIT_DAYS ? RR_DAY : RR_WEEK;
        edges[n_edges++] = p * (1 + rnd(n->n));
    }
    if (n->kind == RK_DAYS_SINCE)
        edges[n_edges++] = RR_DAY * (1 + rnd(10));
    collect_edges(n->a);
    collect_edges(n->b);
    collect_edges(n->c);
}

static void run_round(int round, uint64_t seed)
{
    rng_state = seed;
    R.npool = 0;
    persona_store *s = gen_store(seed);
    int verbose = getenv("RULE_VERBOSE") != NULL;

    persona_segment_model *m = NULL, *mf = NULL, *ma = NULL;
    persona_segment_options of = PERSONA_SEGMENT_OPTIONS_INIT, oa = PERSONA_SEGMENT_OPTIONS_INIT;
    oa.mode = PERSONA_SEGMENT_ALL_MATCHES;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_new(&mf, &of), PERSONA_OK);
    CHECK_RC(persona_segment_model_new(&ma, &oa), PERSONA_OK);
    if (!m || !mf || !ma) {
        persona_segment_model_free(m);
        persona_segment_model_free(mf);
        persona_segment_model_free(ma);
        persona_store_free(s);
        return;
    }
    int ncompiled = 0, assign_rules[ASSIGN_RULES], nassign = 0;
    R.nrules = RULES_PER_ROUND;
    for (int i = 0; i < R.nrules; i++) {
        R.rules[i] = gen_bool(rnd(4), i);
        print_rule(R.text[i], sizeof R.text[i], R.rules[i]);
        decorate_rule(R.text[i], sizeof R.text[i]);
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        int rc = persona_segment_model_add_rule(m, name, R.text[i], strlen(R.text[i]));
        if (verbose)
            fprintf(stderr, "round %d %s: %s\n", round, name, R.text[i]);
        if (rc != PERSONA_OK) {
            uint64_t line = 0, col = 0;
            persona_error_position(&line, &col);
            fprintf(stderr, "round %d (seed %" PRIu64 ") rule %s does not compile: rc %d, "
                            "line %" PRIu64 " column %" PRIu64 ": %s\n  rule: %s\n",
                    round, seed, name, rc, line, col, persona_errmsg(), R.text[i]);
            n_compile_fail++;
            check_failures++;
            R.midx[i] = -1;
            continue;
        }
        R.midx[i] = ncompiled++;
        if (nassign < ASSIGN_RULES) {
            /* one-line text here, so describe()'s clause lines stay lines */
            char plain[4096];
            print_rule(plain, sizeof plain, R.rules[i]);
            CHECK_RC(persona_segment_model_add_rule(mf, name, plain, strlen(plain)), PERSONA_OK);
            CHECK_RC(persona_segment_model_add_rule(ma, name, plain, strlen(plain)), PERSONA_OK);
            assign_rules[nassign++] = i;
        }
    }
    size_t cnt = 0;
    CHECK_RC(persona_segment_model_count(&cnt, m), PERSONA_OK);
    CHECK(cnt == (size_t)ncompiled);

    /* the same rules as one rule-set text through persona_segment_model_compile() */
    static char set_text[RULES_PER_ROUND * 4200];
    size_t set_len = 0;
    set_len += (size_t)snprintf(set_text, sizeof set_text, "# round %d\n", round);
    for (int i = 0; i < R.nrules; i++) {
        if (R.midx[i] < 0)
            continue;
        const char *sep = chance(20) ? " " : "\n";
        if (chance(30))
            set_len += (size_t)snprintf(set_text + set_len, sizeof set_text - set_len,
                                        "\"r%d\":\n    %s%s", i, R.text[i], sep);
        else
            set_len += (size_t)snprintf(set_text + set_len, sizeof set_text - set_len,
                                        "r%d: %s%s", i, R.text[i], sep);
    }
    persona_segment_model *mc = NULL;
    int crc = persona_segment_model_compile(&mc, set_text, set_len, NULL);
    if (crc != PERSONA_OK) {
        uint64_t line = 0, col = 0;
        persona_error_position(&line, &col);
        fprintf(stderr, "round %d (seed %" PRIu64 "): the rule set does not compile: rc %d, line %"
                        PRIu64 " column %" PRIu64 ": %s\n%s\n",
                round, seed, crc, line, col, persona_errmsg(), set_text);
        check_failures++;
        n_compile_fail++;
    } else {
        size_t cc = 0;
        CHECK_RC(persona_segment_model_count(&cc, mc), PERSONA_OK);
        CHECK(cc == (size_t)ncompiled);
        for (int i = 0; i < R.nrules; i++) {
            char name[16];
            size_t at = 999;
            snprintf(name, sizeof name, "r%d", i);
            if (R.midx[i] >= 0) {
                CHECK_RC(persona_segment_model_find(&at, mc, name), PERSONA_OK);
                CHECK(at == (size_t)R.midx[i]);
            }
        }
    }

    /* evaluation times */
    n_edges = 0;
    for (int i = 0; i < R.nrules; i++)
        collect_edges(R.rules[i]);
    int64_t nows[NNOWS + NUSER_NOWS + 1];
    int store_clock[NNOWS + NUSER_NOWS] = { 1 };
    nows[0] = R.max_t;
    nows[1] = random_event_time() + (chance(50) ? 0 : rr_durs[rnd(RR_NDURS)].ms);
    nows[2] = random_event_time() + (chance(50) ? -1 : 1);
    nows[3] = R.min_t - 1 - rnd_ms(5 * RR_DAY);
    nows[4] = R.max_t + 1 + rnd_ms(40 * RR_DAY);
    nows[5] = T0 + (int64_t)rnd(HISTORY_DAYS) * RR_DAY + (chance(50) ? 0 : rnd_ms(RR_DAY));

    int outcome[RULES_PER_ROUND][2];
    memset(outcome, 0, sizeof outcome);
    for (int ui = 0; ui < R.nusers; ui++) {
        const rr_user *u = &R.users[ui];
        /* the shared times, then some around this user's own events */
        for (int w = 0; w < NNOWS + NUSER_NOWS; w++) {
            if (w >= NNOWS) {
                /* on a window's edge: now - W is the time of one of the user's events */
                static const int64_t off[] = { 0, 0, 1, -1, RR_WEEK, 30 * RR_MIN };
                int64_t o = chance(60) && n_edges ? edges[rnd(n_edges)] + (chance(80) ? 0 : rnd(3) - 1)
                                                  : off[rnd(NPOOL(off))];
                nows[w] = u->nev ? u->ev[rnd(u->nev)].t + o : T0 + rnd_ms(HISTORY_DAYS * RR_DAY);
            }
            ctx_data cd;
            gen_ctx(&cd, store_clock[w] ? PERSONA_NOW_STORE : nows[w]);
            rr_env env = { 0 };
            env.u = u;
            env.now = nows[w];
            env.hour = cd.c.hour;
            for (int i = 0; i < RR_NCTX; i++)
                env.ctx[i] = cd.ref[i];
            env.session_gap = R.session_gap ? R.session_gap : 30 * RR_MIN;
            env.rules = R.rules;
            env.nrules = R.nrules;
            env.stats = stats;
            rr_env_prepare(&env);
            int truth[RULES_PER_ROUND];
            for (int i = 0; i < R.nrules; i++) {
                if (R.midx[i] < 0)
                    continue;
                int want = rr_truthy(rr_eval(&env, R.rules[i]));
                truth[i] = want;
                int32_t got = -1;
                int rc = persona_segment_model_test(&got, m, (size_t)R.midx[i], s, u->key, &cd.c);
                if (mc && rc == PERSONA_OK && got == want) { /* the rule-set model agrees too */
                    int32_t got2 = -1;
                    int rc2 = persona_segment_model_test(&got2, mc, (size_t)R.midx[i], s, u->key, &cd.c);
                    if (rc2 != PERSONA_OK || got2 != want) {
                        rc = rc2;
                        got = got2;
                        fprintf(stderr, "(from the model compiled as one rule-set text)\n");
                    }
                }
                n_compared++;
                n_true += want;
                outcome[i][want] = 1;
                if (rc != PERSONA_OK || got != want) {
                    n_mismatch++;
                    int seen[RK_COUNT_KINDS] = { 0 };
                    mark_kinds(R.rules[i], seen);
                    for (int k = 0; k < RK_COUNT_KINDS; k++)
                        kind_mismatch[k] += (uint64_t)seen[k];
                    check_failures++;
                    if (printed++ < 40) {
                        fprintf(stderr, "\nMISMATCH round %d (seed %" PRIu64 ") rule r%d: "
                                        "expected %d, got %d (rc %d %s)\n  rule: %s\n",
                                round, seed, i, want, (int)got, rc, rc ? persona_errmsg() : "",
                                R.text[i]);
                        dump_ctx(&cd, nows[w], store_clock[w]);
                        dump_user(u);
                        if (rc == PERSONA_OK && !has_in_segment(R.rules[i]))
                            minimize(R.rules[i], u, &cd, nows[w]);
                    }
                }
            }
            /* assignment in both modes over the first compiled rules */
            uint32_t outv[ASSIGN_RULES + 1];
            size_t n_out = 999;
            int first = -1, all[ASSIGN_RULES], nall = 0;
            for (int q = 0; q < nassign; q++)
                if (truth[assign_rules[q]]) {
                    if (first < 0)
                        first = q;
                    all[nall++] = q;
                }
            n_assign_checked++;
            int rc = persona_segment_model_assign(outv, ASSIGN_RULES + 1, &n_out, mf, s, u->key, &cd.c);
            int bad = rc != PERSONA_OK || n_out != (size_t)(first >= 0) ||
                      (first >= 0 && outv[0] != (uint32_t)first);
            uint32_t first_got = n_out ? outv[0] : 999;
            size_t n_all = 999;
            rc = persona_segment_model_assign(outv, ASSIGN_RULES + 1, &n_all, ma, s, u->key, &cd.c);
            bad |= rc != PERSONA_OK || n_all != (size_t)nall;
            for (int q = 0; !bad && q < nall; q++)
                bad |= outv[q] != (uint32_t)all[q];
            size_t n_cap0 = 999;
            rc = persona_segment_model_assign(NULL, 0, &n_cap0, ma, s, u->key, &cd.c);
            bad |= rc != (nall ? PERSONA_EBUFS : PERSONA_OK) || n_cap0 != (size_t)nall;
            if (w % 3 == 0) { /* describe agrees too (on a sample: it is the slow path) */
                int all_mode = w % 2;
                if (!check_describe(all_mode ? ma : mf, all_mode, s, u, &cd, assign_rules,
                                    nassign, truth)) {
                    bad = 1;
                    n_describe_bad++;
                }
            }
            if (bad) {
                n_assign_mismatch++;
                check_failures++;
                if (printed++ < 40) {
                    fprintf(stderr, "\nASSIGN MISMATCH round %d (seed %" PRIu64 ") user %s: "
                                    "first-match want %d got %d (count %zu); all-matches want",
                            round, seed, u->key, first, n_out ? (int)first_got : -1, n_out);
                    for (int q = 0; q < nall; q++)
                        fprintf(stderr, " %d", all[q]);
                    fprintf(stderr, " got");
                    for (size_t q = 0; q < n_all && q <= ASSIGN_RULES; q++)
                        fprintf(stderr, " %u", outv[q]);
                    fprintf(stderr, " (count %zu); capacity 0 count %zu rc %d\n", n_all, n_cap0, rc);
                    for (int q = 0; q < nassign; q++)
                        fprintf(stderr, "  assign rule %d = r%d (reference %d): %s\n", q,
                                assign_rules[q], truth[assign_rules[q]], R.text[assign_rules[q]]);
                    dump_ctx(&cd, nows[w], store_clock[w]);
                }
            }
        }
    }
    /* scan: members per segment and users in none, both modes, for the store clock and one
     * explicit time (the context's fields apply to every user) */
    for (int pass = 0; pass < 2; pass++) {
        ctx_data cd;
        int64_t now = pass == 0 ? R.max_t : nows[1 + rnd(NNOWS - 1)];
        gen_ctx(&cd, pass == 0 ? PERSONA_NOW_STORE : now);
        uint64_t want_f[ASSIGN_RULES] = { 0 }, want_a[ASSIGN_RULES] = { 0 };
        uint64_t want_none_f = 0, want_none_a = 0;
        for (int ui = 0; ui + 1 < R.nusers; ui++) { /* "nobody" is not in the store */
            persona_profile_info pi = PERSONA_PROFILE_INFO_INIT;
            if (persona_store_profile_get(&pi, s, R.users[ui].key) != PERSONA_OK)
                continue; /* no events, attributes or consent: no profile */
            rr_env env = { 0 };
            env.u = &R.users[ui];
            env.now = now;
            env.hour = cd.c.hour;
            for (int i = 0; i < RR_NCTX; i++)
                env.ctx[i] = cd.ref[i];
            env.session_gap = R.session_gap ? R.session_gap : 30 * RR_MIN;
            env.rules = R.rules;
            env.nrules = R.nrules;
            rr_env_prepare(&env);
            int any = 0;
            for (int q = 0; q < nassign; q++)
                if (rr_eval_rule(&env, assign_rules[q])) {
                    if (!any)
                        want_f[q]++;
                    want_a[q]++;
                    any = 1;
                }
            want_none_f += !any;
            want_none_a += !any;
        }
        for (int mode = 0; mode < 2; mode++) {
            uint64_t got[ASSIGN_RULES] = { 0 }, none = 999;
            const uint64_t *want = mode ? want_a : want_f;
            uint64_t want_none = mode ? want_none_a : want_none_f;
            uint32_t threads = (uint32_t)rnd(3);
            int rc = persona_segment_model_scan(got, (size_t)nassign, &none, mode ? ma : mf, s,
                                                &cd.c, NULL, NULL, threads);
            int bad = rc != PERSONA_OK || none != want_none;
            for (int q = 0; q < nassign; q++)
                bad |= got[q] != want[q];
            if (bad) {
                n_assign_mismatch++;
                check_failures++;
                if (printed++ < 40) {
                    fprintf(stderr, "\nSCAN MISMATCH round %d (seed %" PRIu64 ") %s mode, %u "
                                    "threads: rc %d; none want %" PRIu64 " got %" PRIu64 "\n",
                            round, seed, mode ? "all-matches" : "first-match", threads, rc,
                            want_none, none);
                    for (int q = 0; q < nassign; q++)
                        fprintf(stderr, "  segment %d want %" PRIu64 " got %" PRIu64 ": %s\n", q,
                                want[q], got[q], R.text[assign_rules[q]]);
                    dump_ctx(&cd, now, pass == 0);
                }
            }
        }
    }

    for (int i = 0; i < R.nrules; i++) {
        if (R.midx[i] < 0)
            continue;
        int varying = outcome[i][0] && outcome[i][1];
        n_rules++;
        n_varying += varying;
        int seen[RK_COUNT_KINDS] = { 0 };
        mark_kinds(R.rules[i], seen);
        for (int k = 0; k < RK_COUNT_KINDS; k++)
            if (seen[k])
                kind_rules[k][varying]++;
    }
    persona_segment_model_free(m);
    persona_segment_model_free(mc);
    persona_segment_model_free(mf);
    persona_segment_model_free(ma);
    persona_store_free(s);
}

/* ---- canaries for the reference itself (hand-worked from docs/rules.md) ---- */

static void test_reference_canaries(void)
{
    /* glob */
    CHECK(rr_glob("running shoes", "run*s"));
    CHECK(rr_glob("caf\xc3\xa9", "caf?"));
    CHECK(!rr_glob("caf\xc3\xa9", "caf??"));
    CHECK(rr_glob("t.co/abc*", "t.co/abc\\*"));
    CHECK(!rr_glob("t.co/abcd", "t.co/abc\\*"));
    CHECK(rr_glob("", "*"));
    CHECK(!rr_glob("a", ""));
    CHECK(rr_glob("a\\b", "a\\\\b"));
    /* sequence("view" -> "add_to_cart" -> not "purchase") over v c p / v c / v p c */
    rr_user u = { 0 };
    snprintf(u.key, sizeof u.key, "x");
    int types[] = { RR_T_VIEW, RR_T_CART, RR_T_PURCHASE, RR_T_VIEW, RR_T_PURCHASE, RR_T_CART };
    for (int i = 0; i < 6; i++)
        u.ev[i] = (rr_event){ T0 + i * RR_HOUR, types[i], NAN, -1, -1, -1, (uint32_t)i };
    u.nev = 6;
    rr_node seq = { 0 };
    seq.kind = RK_SEQUENCE;
    seq.win = -1;
    seq.nsteps = 3;
    seq.steps[0] = RR_T_VIEW;
    seq.steps[1] = RR_T_CART;
    seq.steps[2] = RR_T_PURCHASE;
    seq.stepneg[2] = 1;
    ctx_data cd;
    memset(&cd, 0, sizeof cd);
    cd.c.hour = -1;
    CHECK(ref_single(&seq, &u, &cd, T0 + 5 * RR_HOUR) == 1);  /* v p c: the last cart */
    CHECK(ref_single(&seq, &u, &cd, T0 + 4 * RR_HOUR) == 0);  /* ...v c p v p */
    CHECK(ref_single(&seq, &u, &cd, T0 + 1 * RR_HOUR) == 1);  /* v c */
    seq.stepneg[2] = 0;
    seq.stepneg[0] = 1;
    seq.steps[0] = RR_T_PURCHASE;
    seq.steps[1] = RR_T_VIEW;
    seq.steps[2] = RR_T_CART; /* not purchase -> view -> cart */
    CHECK(ref_single(&seq, &u, &cd, T0 + 5 * RR_HOUR) == 1);  /* first v, first c */
    /* an event at exactly now - W is outside the window */
    rr_node cnt = { 0 };
    cnt.kind = RK_COUNT;
    cnt.type = RR_T_ANY;
    cnt.win = 3; /* 1d */
    cnt.gap = -1;
    rr_env env = { 0 };
    env.u = &u;
    env.now = T0 + RR_DAY;
    env.hour = -1;
    env.session_gap = 30 * RR_MIN;
    rr_env_prepare(&env);
    CHECK(rr_eval(&env, &cnt).n == 5); /* T0 excluded, T0+1h..T0+5h in */
}

int main(void)
{
    int rounds = 300;
    uint64_t seed0 = 20240601;
    const char *e = getenv("RULE_ROUNDS");
    if (e)
        rounds = atoi(e);
    if ((e = getenv("RULE_SEED")))
        seed0 = strtoull(e, NULL, 10);
    int only = -1;
    if ((e = getenv("RULE_ROUND")))
        only = atoi(e);
    if ((e = getenv("RULE_AVOID")))
        avoid_list = e;
    if ((e = getenv("RULE_CANARY")))
        rr_canary = atoi(e);

    if (!rr_canary)
        test_reference_canaries();
    for (int r = 0; r < rounds; r++) {
        if (only >= 0 && r != only)
            continue;
        run_round(r, seed0 + (uint64_t)r * 1000003u);
    }

    fprintf(stderr, "\nrule reference: seed %" PRIu64 ", %d rounds, %" PRIu64 " rules compiled "
                    "(%" PRIu64 " failed to compile), %" PRIu64 " evaluations compared, %" PRIu64
                    " mismatches; assign checked %" PRIu64 " times, %" PRIu64 " mismatches\n",
            seed0, rounds, n_rules, n_compile_fail, n_compared, n_mismatch, n_assign_checked,
            n_assign_mismatch);
    if (n_describe_bad)
        fprintf(stderr, "describe() disagreed %" PRIu64 " times\n", n_describe_bad);
    if (n_repros_suppressed)
        fprintf(stderr, "(%d further mismatches minimized to an already printed rule)\n",
                n_repros_suppressed);
    double ftrue = n_compared ? (double)n_true / (double)n_compared : 0;
    double fvary = n_rules ? (double)n_varying / (double)n_rules : 0;
    fprintf(stderr, "rule outcomes: %.1f%% true; %.1f%% of rules took both values\n",
            100 * ftrue, 100 * fvary);
    fprintf(stderr, "%-12s %10s %10s %8s | rules containing it: constant / varying | mismatches\n",
            "clause", "false", "true", "true%");
    /* kinds that are boolean clauses: each must come out both ways often enough */
    static const int clauses[] = { RK_CMP, RK_IN, RK_CONTAINS, RK_STARTS, RK_ENDS, RK_MATCHES,
                                   RK_BETWEEN, RK_FIRST_TIME, RK_STOPPED, RK_RESTARTED,
                                   RK_REGULARLY, RK_SEQUENCE, RK_CONSENT, RK_EXISTS,
                                   RK_IN_SEGMENT, RK_AND, RK_OR, RK_NOT };
    int only_round = only >= 0;
    for (int k = 0; k < RK_COUNT_KINDS; k++) {
        uint64_t f = stats[k][0], t = stats[k][1];
        int is_clause = 0;
        for (size_t c = 0; c < sizeof clauses / sizeof clauses[0]; c++)
            is_clause |= clauses[c] == k;
        fprintf(stderr, "%-12s %10" PRIu64 " %10" PRIu64 " %7.1f%% | %8" PRIu64 " / %-8" PRIu64
                        " | %" PRIu64 "\n",
                rr_kind_names[k], f, t, f + t ? 100.0 * (double)t / (double)(f + t) : 0.0,
                kind_rules[k][0], kind_rules[k][1], kind_mismatch[k]);
        if (only_round || rounds < 100)
            continue;
        /* every kind of node must appear in rules whose outcome varied */
        if (k != RK_BOOL && kind_rules[k][1] < 5) {
            fprintf(stderr, "  ^ too few varying rules use %s\n", rr_kind_names[k]);
            check_failures++;
        }
        uint64_t least = (f + t) / 33 > 30 ? (f + t) / 33 : 30;
        if (is_clause && (f + t < 200 || f < least || t < least)) {
            fprintf(stderr, "  ^ %s is too one-sided to test anything\n", rr_kind_names[k]);
            check_failures++;
        }
    }
    if (!only_round && rounds >= 100) {
        CHECK(ftrue > 0.15 && ftrue < 0.85);
        CHECK(fvary > 0.4);
    }
    return check_report("test_rule_reference");
}
