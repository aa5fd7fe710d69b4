/* Funnels (include/persona/funnel.h): hand-worked examples with their numbers written out,
 * a brute force on small random stores (every event tuple of every unit enumerated),
 * the same events ingested in another order == the same funnel, merge on disjoint user
 * partitions == the whole, save/load round trips, bad options, and
 * allocation failures in build, merge, export, save and load. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "failalloc.h"
#include "store_check.h"

/* ---- helpers ------------------------------------------------------------------------- */

typedef struct tev {
    const char *user;
    int64_t t;
    const char *type;
    const char *item; /* NULL = none */
    const char *cat;  /* property "cat", NULL = none */
} tev;

static persona_store *store_gap(int64_t gap)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 7;
    o.session_gap_ms = gap;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, &o), PERSONA_OK);
    return s;
}

/* Ingest in the order given (the log order). */
static void ingest(persona_store *s, const tev *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        persona_event x = PERSONA_EVENT_INIT;
        const char *pn[] = { "cat" }, *pv[] = { e[i].cat };
        x.user = e[i].user;
        x.time_ms = e[i].t;
        x.type = e[i].type;
        x.item = e[i].item;
        if (e[i].cat) {
            x.prop_names = pn;
            x.prop_values = pv;
            x.n_props = 1;
        }
        CHECK_RC(persona_store_ingest(NULL, s, &x, 1, NULL), PERSONA_OK);
    }
}

static persona_store *store_of(const tev *e, size_t n, int64_t gap)
{
    persona_store *s = store_gap(gap);
    ingest(s, e, n);
    return s;
}

static persona_funnel_step step_of(const char *type)
{
    persona_funnel_step st = PERSONA_FUNNEL_STEP_INIT;
    st.event_type = type;
    return st;
}

/* Options over steps[0..n) (pointers filled into ptrs). */
static persona_funnel_options opts_of(persona_funnel_step *steps, const persona_funnel_step **ptrs,
                                      size_t n, int64_t window)
{
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &steps[i];
    persona_funnel_options o = PERSONA_FUNNEL_OPTIONS_INIT;
    o.steps = ptrs;
    o.n_steps = n;
    o.window_ms = window;
    return o;
}

static persona_funnel *build(const persona_store *s, const persona_funnel_options *o)
{
    persona_funnel *f = NULL;
    CHECK_RC(persona_funnel_build(&f, s, o), PERSONA_OK);
    return f;
}

static void check_units(const persona_funnel *f, const uint64_t *want, size_t n, int line)
{
    size_t got_n = 0;
    CHECK_RC(persona_funnel_step_count(&got_n, f), PERSONA_OK);
    CHECK(got_n == n);
    for (size_t j = 0; j < n; j++) {
        uint64_t u = 99999;
        CHECK_RC(persona_funnel_units(&u, f, j), PERSONA_OK);
        if (u != want[j]) {
            check_failures++;
            fprintf(stderr, "line %d: step %zu has %llu units, want %llu\n", line, j + 1,
                    (unsigned long long)u, (unsigned long long)want[j]);
        }
    }
}
#define UNITS(f, ...)                                                                      \
    do {                                                                                   \
        const uint64_t w_[] = { __VA_ARGS__ };                                             \
        check_units((f), w_, sizeof w_ / sizeof *w_, __LINE__);                            \
    } while (0)

static int32_t stage(const persona_funnel *f, const char *user)
{
    int32_t st = -1;
    CHECK_RC(persona_funnel_stage_of(&st, f, user), PERSONA_OK);
    return st;
}

static double quant(const persona_funnel *f, size_t step, double q)
{
    double v = -1;
    CHECK_RC(persona_funnel_time_quantile(&v, f, step, q), PERSONA_OK);
    return v;
}

static char *export_text(const persona_funnel *f, int32_t format)
{
    char *t = NULL;
    CHECK_RC(persona_funnel_export_buffer(&t, NULL, f, format), PERSONA_OK);
    return t;
}

/* ---- hand-worked examples ------------------------------------------------------------ */

/* The anchor semantics (DuckDB window funnel as the anchor computes it): loose order,
 * window from the step-1 event inclusive, ties allowed whatever their log order. */
static const tev ANCHOR[] = {
    { "u1", 0, "view", 0, 0 },  { "u1", 5, "cart", 0, 0 },   { "u1", 10, "buy", 0, 0 },
    { "u2", 0, "view", 0, 0 },  { "u2", 5, "cart", 0, 0 },   { "u2", 11, "buy", 0, 0 },
    /* ties, ingested in step order: all three at one time */
    { "u3", 7, "view", 0, 0 },  { "u3", 7, "cart", 0, 0 },   { "u3", 7, "buy", 0, 0 },
    /* ties ingested backwards: the view comes last in log order, and still counts */
    { "u4", 20, "buy", 0, 0 },  { "u4", 20, "cart", 0, 0 },  { "u4", 20, "view", 0, 0 },
    /* ingested out of time order */
    { "u5", 30, "buy", 0, 0 },  { "u5", 25, "cart", 0, 0 },  { "u5", 20, "view", 0, 0 },
    { "u6", 1, "cart", 0, 0 },  { "u6", 2, "buy", 0, 0 },
    /* the first view cannot finish within the window, the second can */
    { "u7", 0, "view", 0, 0 },  { "u7", 8, "view", 0, 0 },   { "u7", 9, "cart", 0, 0 },
    { "u7", 17, "buy", 0, 0 },
    { "u8", 100, "view", 0, 0 },
};

static void check_anchor(const persona_funnel *f)
{
    UNITS(f, 7, 6, 5);
    CHECK(stage(f, "u1") == 3 && stage(f, "u2") == 2 && stage(f, "u3") == 3);
    CHECK(stage(f, "u4") == 3 && stage(f, "u5") == 3 && stage(f, "u6") == 0);
    CHECK(stage(f, "u7") == 3 && stage(f, "u8") == 1 && stage(f, "nobody") == 0);
    /* step 2 times (view -> cart): u1 5, u2 5, u3 0, u4 0, u5 5, u7 1 -> 0 0 1 5 5 5 */
    CHECK_NEAR(quant(f, 1, 0.5), 3, 0);
    CHECK_NEAR(quant(f, 1, 0.25), 0.25, 1e-12);
    CHECK_NEAR(quant(f, 1, 0.1), 0, 0);
    CHECK_NEAR(quant(f, 1, 0.6), 5, 0);
    /* step 3 times (cart -> buy): u1 5, u3 0, u4 0, u5 5, u7 8 -> 0 0 5 5 8 */
    CHECK_NEAR(quant(f, 2, 0.5), 5, 0);
    CHECK_NEAR(quant(f, 2, 0.9), 6.8, 1e-12);
    CHECK_NEAR(quant(f, 2, 1), 8, 0);
    CHECK(isnan(quant(f, 0, 0.5)));
    double prev = 0, first = 0;
    CHECK_RC(persona_funnel_conversion(&prev, &first, f, 2), PERSONA_OK);
    CHECK_NEAR(prev, 5.0 / 6, 1e-15);
    CHECK_NEAR(first, 5.0 / 7, 1e-15);
    CHECK_RC(persona_funnel_conversion(&prev, &first, f, 0), PERSONA_OK);
    CHECK(prev == 1 && first == 1);
    uint64_t h[PERSONA_FUNNEL_TIME_BUCKETS];
    size_t hn = 0;
    CHECK_RC(persona_funnel_time_histogram(h, 8, &hn, f, 1), PERSONA_OK);
    CHECK(hn == 8 && h[0] == 6 && h[1] == 0 && h[7] == 0);
    size_t users = 0;
    CHECK_RC(persona_funnel_user_count(&users, f), PERSONA_OK);
    CHECK(users == 7);
    const char *order[] = { "u1", "u2", "u3", "u4", "u5", "u7", "u8" };
    const int32_t stages[] = { 3, 2, 3, 3, 3, 3, 1 };
    for (size_t i = 0; i < 7; i++) {
        char key[16];
        int32_t st = 0;
        CHECK_RC(persona_funnel_user_at(key, sizeof key, NULL, &st, f, i), PERSONA_OK);
        CHECK_STR(key, order[i]);
        CHECK(st == stages[i]);
    }
    size_t nt = 0;
    int64_t start = -1;
    uint64_t entered = 0, converted = 0;
    CHECK_RC(persona_funnel_trend_count(&nt, f), PERSONA_OK);
    CHECK(nt == 1);
    CHECK_RC(persona_funnel_trend_at(&start, &entered, &converted, f, 0), PERSONA_OK);
    CHECK(start == 0 && entered == 7 && converted == 5);
}

static void test_anchor(void)
{
    persona_store *s = store_of(ANCHOR, sizeof ANCHOR / sizeof *ANCHOR, 0);
    persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("buy") };
    const persona_funnel_step *p[3];
    persona_funnel_options o = opts_of(st, p, 3, 10);
    persona_funnel *f = build(s, &o); /* fast path */
    check_anchor(f);
    char *csv = export_text(f, PERSONA_FUNNEL_EXPORT_CSV);
    CHECK_STR(csv, "step,event,users,conversion_from_prev,conversion_from_first,"
                   "median_seconds_from_prev\n"
                   "1,view,7,1,1,\n"
                   "2,cart,6,0.8571428571428571,0.8571428571428571,0.003\n"
                   "3,buy,5,0.8333333333333334,0.7142857142857143,0.005\n");
    persona_free(csv);
    char *stages = export_text(f, PERSONA_FUNNEL_EXPORT_STAGES_CSV);
    CHECK_STR(stages, "user,stage\nu1,3\nu2,2\nu3,3\nu4,3\nu5,3\nu7,3\nu8,1\n");
    persona_free(stages);
    persona_funnel_free(f);

    /* the same through the general evaluators: an exclusion of a type nobody has (time-group
     * DP), a predicate every event passes (greedy on general records) */
    persona_funnel_step never = step_of("never");
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &never;
    const persona_funnel_exclusion *xp[] = { &x };
    o.exclusions = xp;
    o.n_exclusions = 1;
    f = build(s, &o);
    check_anchor(f);
    persona_funnel_free(f);
    o.exclusions = NULL;
    o.n_exclusions = 0;
    st[0].where_property = "cat";
    st[0].where_value = "none";
    st[0].where_op = PERSONA_WHERE_NE;
    f = build(s, &o);
    check_anchor(f);
    persona_funnel_free(f);
    /* a step type the store never saw: zero counts, no error */
    st[0] = step_of("view");
    st[2] = step_of("refund");
    f = build(s, &o);
    UNITS(f, 7, 6, 0);
    CHECK(isnan(quant(f, 2, 0.5)));
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_empty(void)
{
    persona_store *s = store_gap(0);
    persona_funnel_step st[2] = { step_of("A"), step_of("B") };
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 0);
    persona_funnel *f = build(s, &o), *g = build(s, &o);
    UNITS(f, 0, 0);
    size_t n = 9;
    CHECK_RC(persona_funnel_trend_count(&n, f), PERSONA_OK);
    CHECK(n == 0);
    CHECK_RC(persona_funnel_user_count(&n, f), PERSONA_OK);
    CHECK(n == 0);
    double prev = 0, first = 0;
    CHECK_RC(persona_funnel_conversion(&prev, &first, f, 1), PERSONA_OK);
    CHECK(isnan(prev) && isnan(first));
    CHECK_RC(persona_funnel_merge(f, g), PERSONA_OK);
    char *json = export_text(f, PERSONA_FUNNEL_EXPORT_JSON);
    CHECK_STR(json, "{\"options\":{\"steps\":[{\"event\":\"A\",\"where\":null,\"min_ms\":null,"
                    "\"max_ms\":null},{\"event\":\"B\",\"where\":null,\"min_ms\":null,"
                    "\"max_ms\":null}],\"exclusions\":[],\"window_ms\":1209600000,"
                    "\"order\":\"loose\",\"count\":\"users\",\"hold_property\":null,"
                    "\"trend_period\":\"month\",\"utc_offset_minutes\":0,"
                    "\"consent_purpose\":null,\"from_ms\":null,\"to_ms\":null,"
                    "\"session_gap_ms\":null},\"steps\":[{\"step\":1,\"event\":\"A\","
                    "\"units\":0,\"conversion_from_prev\":1,\"conversion_from_first\":null,"
                    "\"time_from_prev_ms\":null,\"time_histogram\":[0,0,0,0,0,0,0,0]},"
                    "{\"step\":2,\"event\":\"B\",\"units\":0,\"conversion_from_prev\":null,"
                    "\"conversion_from_first\":null,\"time_from_prev_ms\":null,"
                    "\"time_histogram\":[0,0,0,0,0,0,0,0]}],\"trend\":[],\"users\":0}\n");
    persona_free(json);
    persona_funnel_free(f);
    persona_funnel_free(g);
    persona_store_free(s);
}

static void test_trend(void)
{
    const int64_t D = 86400000;
    const tev E[] = {
        { "u1", 10, "A", 0, 0 },        { "u1", 20, "B", 0, 0 },
        { "u2", 2 * D + 5, "A", 0, 0 }, { "u3", 2 * D + 7, "A", 0, 0 },
    };
    persona_store *s = store_of(E, 4, 0);
    persona_funnel_step st[2] = { step_of("A"), step_of("B") };
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 0);
    o.trend_period = PERSONA_PERIOD_DAY;
    persona_funnel *f = build(s, &o);
    size_t n = 0;
    CHECK_RC(persona_funnel_trend_count(&n, f), PERSONA_OK);
    CHECK(n == 3); /* the empty day between is included */
    const uint64_t want_e[] = { 1, 0, 2 }, want_c[] = { 1, 0, 0 };
    for (size_t i = 0; i < 3 && i < n; i++) {
        int64_t start = -1;
        uint64_t e = 9, c = 9;
        CHECK_RC(persona_funnel_trend_at(&start, &e, &c, f, i), PERSONA_OK);
        CHECK(start == (int64_t)i * D && e == want_e[i] && c == want_c[i]);
    }
    persona_funnel_free(f);
    o.utc_offset_minutes = -60; /* local days start at 01:00 UTC: u1's day is the day before */
    f = build(s, &o);
    int64_t start = 0;
    CHECK_RC(persona_funnel_trend_at(&start, NULL, NULL, f, 0), PERSONA_OK);
    CHECK(start == -D + 3600000);
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_strict(void)
{
    static const tev E[] = {
        { "u1", 1, "A", 0, 0 }, { "u1", 2, "C", 0, 0 }, { "u1", 3, "B", 0, 0 },
        { "u2", 1, "A", 0, 0 }, { "u2", 2, "B", 0, 0 },
        { "u3", 1, "A", 0, 0 }, { "u3", 2, "A", 0, 0 }, { "u3", 3, "B", 0, 0 },
        { "u4", 1, "A", 0, 0 }, { "u4", 1, "B", 0, 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[2] = { step_of("A"), step_of("B") };
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 100);
    o.order = PERSONA_FUNNEL_STRICT;
    persona_funnel *f = build(s, &o);
    UNITS(f, 4, 3);
    CHECK(stage(f, "u1") == 1 && stage(f, "u2") == 2 && stage(f, "u3") == 2 &&
          stage(f, "u4") == 2);
    /* times 1 (u2), 1 (u3: from the second A), 0 (u4) */
    CHECK_NEAR(quant(f, 1, 0), 0, 0);
    CHECK_NEAR(quant(f, 1, 0.5), 1, 0);
    persona_funnel_free(f);
    o.order = PERSONA_FUNNEL_LOOSE; /* u1 converts when C may come between */
    f = build(s, &o);
    UNITS(f, 4, 4);
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_any_order(void)
{
    static const tev E[] = {
        { "u1", 0, "C", 0, 0 }, { "u1", 3, "A", 0, 0 },  { "u1", 5, "B", 0, 0 },
        { "u2", 0, "B", 0, 0 }, { "u2", 20, "A", 0, 0 },
        { "u3", 0, "C", 0, 0 },
        { "u4", 0, "A", 0, 0 }, { "u4", 1, "A", 0, 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[3] = { step_of("A"), step_of("B"), step_of("C") };
    const persona_funnel_step *p[3];
    persona_funnel_options o = opts_of(st, p, 3, 10);
    o.order = PERSONA_FUNNEL_ANY_ORDER;
    persona_funnel *f = build(s, &o);
    UNITS(f, 4, 1, 1);
    CHECK(stage(f, "u1") == 3 && stage(f, "u2") == 1 && stage(f, "u3") == 1 &&
          stage(f, "u4") == 1);
    CHECK_NEAR(quant(f, 1, 0.5), 3, 0); /* C@0 -> A@3 */
    CHECK_NEAR(quant(f, 2, 0.5), 2, 0); /* A@3 -> B@5 */
    persona_funnel_free(f);
    /* one type twice: two different events are needed */
    persona_funnel_step st2[2] = { step_of("A"), step_of("A") };
    o = opts_of(st2, p, 2, 10);
    o.order = PERSONA_FUNNEL_ANY_ORDER;
    f = build(s, &o);
    UNITS(f, 3, 1); /* u1, u2, u4 have an A; only u4 has two */
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_exclusion(void)
{
    static const tev E[] = {
        { "u1", 0, "A", 0, 0 }, { "u1", 1, "X", 0, 0 }, { "u1", 2, "B", 0, 0 }, { "u1", 3, "C", 0, 0 },
        { "u2", 0, "A", 0, 0 }, { "u2", 1, "B", 0, 0 }, { "u2", 2, "X", 0, 0 }, { "u2", 3, "C", 0, 0 },
        { "u3", 0, "A", 0, 0 }, { "u3", 1, "X", 0, 0 }, { "u3", 2, "A", 0, 0 }, { "u3", 3, "B", 0, 0 },
        { "u3", 4, "C", 0, 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[3] = { step_of("A"), step_of("B"), step_of("C") };
    const persona_funnel_step *p[3];
    persona_funnel_options o = opts_of(st, p, 3, 100);
    persona_funnel_step xs = step_of("X");
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.from_step = 1;
    x.to_step = 2;
    x.event = &xs;
    const persona_funnel_exclusion *xp[] = { &x };
    o.exclusions = xp;
    o.n_exclusions = 1;
    persona_funnel *f = build(s, &o);
    UNITS(f, 3, 2, 2);
    CHECK(stage(f, "u1") == 1 && stage(f, "u2") == 3 && stage(f, "u3") == 3);
    persona_funnel_free(f);
    x.from_step = x.to_step = 0; /* between step 1 and the last */
    f = build(s, &o);
    UNITS(f, 3, 2, 1);
    CHECK(stage(f, "u1") == 1 && stage(f, "u2") == 2 && stage(f, "u3") == 3);
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_hold(void)
{
    static const tev E[] = {
        { "u1", 0, "view", "i1", "c1" }, { "u1", 1, "buy", "i2", "c2" },
        { "u2", 0, "view", "i1", "c1" }, { "u2", 1, "view", "i2", "c2" }, { "u2", 2, "buy", "i2", "c2" },
        { "u3", 0, "view", 0, 0 },       { "u3", 1, "buy", "i1", "c1" },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[2] = { step_of("view"), step_of("buy") };
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 100);
    const char *props[] = { "item", "cat" };
    for (int k = 0; k < 2; k++) {
        o.hold_property = props[k];
        persona_funnel *f = build(s, &o);
        UNITS(f, 2, 1);
        CHECK(stage(f, "u1") == 1 && stage(f, "u2") == 2 && stage(f, "u3") == 0);
        CHECK_NEAR(quant(f, 1, 0.5), 1, 0); /* u2: view i2 @1 -> buy @2 */
        persona_funnel_free(f);
    }
    o.hold_property = "nobody-has-this";
    persona_funnel *f = build(s, &o);
    UNITS(f, 0, 0);
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_min_max(void)
{
    static const tev E[] = {
        { "u1", 0, "A", 0, 0 }, { "u1", 3, "B", 0, 0 },
        { "u2", 0, "A", 0, 0 }, { "u2", 3, "B", 0, 0 }, { "u2", 7, "B", 0, 0 },
        { "u3", 0, "A", 0, 0 }, { "u3", 12, "B", 0, 0 },
        { "u4", 0, "A", 0, 0 }, { "u4", 4, "A", 0, 0 }, { "u4", 12, "B", 0, 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[2] = { step_of("A"), step_of("B") };
    st[1].min_ms = 5;
    st[1].max_ms = 10;
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 100);
    persona_funnel *f = build(s, &o);
    UNITS(f, 4, 2);
    CHECK(stage(f, "u1") == 1 && stage(f, "u2") == 2 && stage(f, "u3") == 1 &&
          stage(f, "u4") == 2);
    CHECK_NEAR(quant(f, 1, 0), 7, 0);
    CHECK_NEAR(quant(f, 1, 1), 8, 0);
    persona_funnel_free(f);
    persona_store_free(s);

    /* the largest min_ms / max_ms on events before 1970 (negative times): no overflow */
    static const tev N[] = { { "u1", -1000, "A", 0, 0 }, { "u1", -500, "B", 0, 0 } };
    s = store_of(N, 2, 0);
    st[1].min_ms = 0;
    st[1].max_ms = INT64_MAX;
    o = opts_of(st, p, 2, 0);
    f = build(s, &o);
    UNITS(f, 1, 1);
    persona_funnel_free(f);
    st[1].min_ms = INT64_MAX;
    f = build(s, &o);
    UNITS(f, 1, 0);
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_totals_sessions(void)
{
    static const tev E[] = {
        { "u1", 0, "A", 0, 0 }, { "u1", 5, "A", 0, 0 }, { "u1", 12, "B", 0, 0 },
        { "u2", 0, "A", 0, 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[2] = { step_of("A"), step_of("B") };
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 10);
    o.count = PERSONA_FUNNEL_TOTALS;
    persona_funnel *f = build(s, &o);
    UNITS(f, 3, 1); /* entries u1@0 (B too late), u1@5 (B at 12), u2@0 */
    CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 1);
    CHECK_NEAR(quant(f, 1, 0.5), 7, 0);
    persona_funnel_free(f);
    persona_store_free(s);

    /* sessions: the store's gap is 100 ms; a gap is measured over all events */
    static const tev S[] = {
        { "u1", 0, "A", 0, 0 },    { "u1", 50, "B", 0, 0 },
        { "u1", 1000, "A", 0, 0 }, { "u1", 1300, "B", 0, 0 },
        { "u2", 0, "A", 0, 0 },    { "u2", 90, "X", 0, 0 },   { "u2", 180, "B", 0, 0 },
        { "u3", 0, "A", 0, 0 },    { "u3", 180, "B", 0, 0 },
    };
    s = store_of(S, sizeof S / sizeof *S, 100);
    o = opts_of(st, p, 2, 0);
    o.count = PERSONA_FUNNEL_SESSIONS;
    f = build(s, &o);
    UNITS(f, 4, 2); /* u1: 2 sessions with an A, one converts; u2: 1 converting; u3: 1 */
    CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 2 && stage(f, "u3") == 1);
    persona_funnel_free(f);
    o.count = PERSONA_FUNNEL_USERS;
    f = build(s, &o);
    UNITS(f, 3, 3);
    persona_funnel_free(f);
    persona_store_free(s);
}

static void test_predicates_consent_range(void)
{
    static const tev E[] = {
        { "u1", 0, "view", 0, "shoes" }, { "u1", 1, "buy", 0, 0 },
        { "u2", 50, "view", 0, "hats" }, { "u2", 51, "buy", 0, 0 },
        { "u3", 5, "view", 0, 0 },       { "u3", 20, "view", 0, 0 }, { "u3", 25, "buy", 0, 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[2] = { step_of("view"), step_of("buy") };
    const persona_funnel_step *p[2];
    persona_funnel_options o = opts_of(st, p, 2, 100);
    st[0].where_property = "cat";
    st[0].where_value = "shoes";
    persona_funnel *f = build(s, &o);
    UNITS(f, 1, 1);
    CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 0 && stage(f, "u3") == 0);
    persona_funnel_free(f);
    st[0].where_op = PERSONA_WHERE_NE; /* absent counts as different */
    f = build(s, &o);
    UNITS(f, 2, 2);
    CHECK(stage(f, "u1") == 0 && stage(f, "u2") == 2 && stage(f, "u3") == 2);
    persona_funnel_free(f);
    st[0] = step_of("view");

    /* entries in [10, 60): u2's view at 50, u3's second view at 20 */
    o.from_ms = 10;
    o.to_ms = 60;
    f = build(s, &o);
    UNITS(f, 2, 2);
    CHECK(stage(f, "u1") == 0);
    persona_funnel_free(f);
    o.to_ms = 50; /* exclusive */
    f = build(s, &o);
    UNITS(f, 1, 1);
    persona_funnel_free(f);
    o.from_ms = o.to_ms = 0;

    CHECK_RC(persona_store_consent_set(s, "u1", "analytics", 1, 0), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "u2", "analytics", 0, 0), PERSONA_OK);
    o.consent_purpose = "analytics";
    f = build(s, &o);
    UNITS(f, 1, 1);
    CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 0 && stage(f, "u3") == 0);
    persona_funnel_free(f);
    o.consent_purpose = "unknown-purpose";
    f = build(s, &o);
    UNITS(f, 0, 0);
    persona_funnel_free(f);
    persona_store_free(s);
}

/* Ties in time: whatever the log order of events at one time, a loose funnel takes them in
 * either order; each case is built with the fast path, the greedy on general records (a
 * predicate every event passes), the time-group DP (an exclusion nobody has), and from the
 * events ingested backwards, all alike. */
static void check_same_funnel(const persona_funnel *a, const persona_funnel *b);

static persona_funnel *build_variant(const persona_store *s, persona_funnel_step *st,
                                     size_t n, int64_t window, int variant)
{
    const persona_funnel_step *p[4];
    persona_funnel_step keep = st[0];
    persona_funnel_options o = opts_of(st, p, n, window);
    persona_funnel_step never = step_of("never");
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &never;
    const persona_funnel_exclusion *xp[] = { &x };
    if (variant == 1) {
        st[0].where_property = "cat";
        st[0].where_value = "none";
        st[0].where_op = PERSONA_WHERE_NE;
    } else if (variant == 2) {
        o.exclusions = xp;
        o.n_exclusions = 1;
    }
    persona_funnel *f = build(s, &o);
    st[0] = keep;
    return f;
}

static void reversed(tev *out, const tev *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = e[n - 1 - i];
}

static void test_ties(void)
{
    /* an addtocart ingested before a view at the same time follows it */
    static const tev CART[] = {
        { "u1", 5, "cart", 0, 0 }, { "u1", 5, "view", 0, 0 },
        { "u2", 5, "view", 0, 0 }, { "u2", 5, "cart", 0, 0 },
        { "u3", 5, "cart", 0, 0 }, { "u3", 6, "view", 0, 0 }, /* an earlier cart does not */
    };
    /* view -> view: two views at one time make both steps, one view only step 1 */
    static const tev VIEWS[] = {
        { "u1", 3, "view", 0, 0 }, { "u1", 3, "view", 0, 0 },
        { "u2", 3, "view", 0, 0 }, { "u2", 9, "cart", 0, 0 },
        { "u3", 3, "view", 0, 0 }, { "u3", 3, "view", 0, 0 }, { "u3", 3, "view", 0, 0 },
    };
    tev rev[16];
    for (int variant = 0; variant < 4; variant++) {
        int back = variant == 3;
        persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("view") };
        if (back)
            reversed(rev, CART, 6);
        persona_store *s = store_of(back ? rev : CART, 6, 0);
        persona_funnel *f = build_variant(s, st, 2, 10, back ? 0 : variant);
        UNITS(f, 3, 2);
        CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 2 && stage(f, "u3") == 1);
        CHECK_NEAR(quant(f, 1, 1), 0, 0);
        persona_funnel_free(f);
        persona_store_free(s);

        st[1] = step_of("view");
        if (back)
            reversed(rev, VIEWS, 7);
        s = store_of(back ? rev : VIEWS, 7, 0);
        f = build_variant(s, st, 2, 10, back ? 1 : variant);
        UNITS(f, 3, 2);
        CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 1 && stage(f, "u3") == 2);
        CHECK_NEAR(quant(f, 1, 1), 0, 0);
        persona_funnel_free(f);
        f = build_variant(s, st, 3, 10, back ? 2 : variant); /* three views: only u3 */
        UNITS(f, 3, 2, 1);
        CHECK(stage(f, "u1") == 2 && stage(f, "u3") == 3);
        persona_funnel_free(f);
        persona_store_free(s);
    }

    /* an exclusion at the time of a step does not lie between the steps */
    static const tev X[] = {
        { "u1", 0, "X", 0, 0 }, { "u1", 0, "A", 0, 0 }, { "u1", 5, "B", 0, 0 },
        { "u2", 0, "A", 0, 0 }, { "u2", 5, "B", 0, 0 }, { "u2", 5, "X", 0, 0 },
        { "u3", 0, "A", 0, 0 }, { "u3", 3, "X", 0, 0 }, { "u3", 5, "B", 0, 0 },
        { "u4", 0, "A", 0, 0 }, { "u4", 0, "X", 0, 0 }, { "u4", 0, "B", 0, 0 },
    };
    for (int back = 0; back < 2; back++) {
        if (back)
            reversed(rev, X, 12);
        persona_store *s = store_of(back ? rev : X, 12, 0);
        persona_funnel_step st[2] = { step_of("A"), step_of("B") }, xs = step_of("X");
        const persona_funnel_step *p[2];
        persona_funnel_options o = opts_of(st, p, 2, 10);
        persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
        x.event = &xs;
        const persona_funnel_exclusion *xp[] = { &x };
        o.exclusions = xp;
        o.n_exclusions = 1;
        persona_funnel *f = build(s, &o);
        UNITS(f, 4, 3);
        CHECK(stage(f, "u1") == 2 && stage(f, "u2") == 2 && stage(f, "u3") == 1 &&
              stage(f, "u4") == 2);
        persona_funnel_free(f);
        persona_store_free(s);
    }

    /* the unit's times are the smallest, whichever event at a time the log lists first: A,
     * then a view, then a view of cat x. At 5 a view of cat x (logged first) and one of
     * cat y: the y view takes step 2 and the x view step 3, both at 5 (times 5 and 0), not
     * the x view then the one at 7. Steps of one type with different predicates: the DP. */
    static const tev P[] = {
        { "u1", 0, "A", 0, 0 },     { "u1", 5, "view", 0, "x" }, { "u1", 5, "view", 0, "y" },
        { "u1", 7, "view", 0, "x" },
        /* view, then a view of cat x: the y view (logged last) is step 1 */
        { "u2", 4, "view", 0, "x" }, { "u2", 4, "view", 0, "y" },
    };
    for (int back = 0; back < 2; back++) {
        if (back)
            reversed(rev, P, 6);
        persona_store *s = store_of(back ? rev : P, 6, 0);
        persona_funnel_step st[3] = { step_of("A"), step_of("view"), step_of("view") };
        st[2].where_property = "cat";
        st[2].where_value = "x";
        const persona_funnel_step *p[3];
        persona_funnel_options o = opts_of(st, p, 3, 10);
        persona_funnel *f = build(s, &o);
        UNITS(f, 1, 1, 1);
        CHECK_NEAR(quant(f, 1, 0.5), 5, 0);
        CHECK_NEAR(quant(f, 2, 0.5), 0, 0);
        persona_funnel_free(f);
        o = opts_of(st + 1, p, 2, 10);
        f = build(s, &o);
        UNITS(f, 2, 2);
        CHECK(stage(f, "u2") == 2);
        CHECK_NEAR(quant(f, 1, 1), 0, 0); /* u1: y@5 -> x@5, u2: y@4 -> x@4 */
        persona_funnel_free(f);
        persona_store_free(s);
    }

    /* the earliest cart leads nowhere (the buy must come within 3 of the cart): the path
     * with the smallest times keeps the view at 0 and takes the cart at 5 */
    static const tev M[] = {
        { "u1", 0, "view", 0, 0 }, { "u1", 1, "cart", 0, 0 }, { "u1", 5, "cart", 0, 0 },
        { "u1", 5, "view", 0, 0 }, { "u1", 8, "buy", 0, 0 },
    };
    for (int back = 0; back < 2; back++) {
        if (back)
            reversed(rev, M, 5);
        persona_store *s = store_of(back ? rev : M, 5, 0);
        persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("buy") };
        st[2].max_ms = 3;
        const persona_funnel_step *p[3];
        persona_funnel_options o = opts_of(st, p, 3, 10);
        persona_funnel *f = build(s, &o);
        UNITS(f, 1, 1, 1);
        CHECK_NEAR(quant(f, 1, 0.5), 5, 0); /* view@0 -> cart@5 -> buy@8 */
        CHECK_NEAR(quant(f, 2, 0.5), 3, 0);
        persona_funnel_free(f);
        persona_store_free(s);
    }

    /* a whole log and the same log ingested backwards: identical funnels, every option */
    static const tev L[] = {
        { "u1", 0, "view", "i1", "c1" }, { "u1", 0, "cart", "i1", "c1" },
        { "u1", 0, "view", "i2", "c2" }, { "u1", 4, "buy", "i1", "c1" },
        { "u1", 4, "cart", "i2", "c1" }, { "u1", 4, "view", "i1", "c2" },
        { "u1", 9, "buy", "i2", "c2" },  { "u1", 9, "X", 0, 0 },
        { "u2", 2, "buy", "i1", "c1" },  { "u2", 2, "cart", "i1", "c1" },
        { "u2", 2, "view", "i1", "c1" }, { "u2", 2, "X", 0, 0 },
        { "u2", 3, "view", "i1", "c1" }, { "u2", 3, "cart", "i1", "c2" },
        { "u3", 1, "view", 0, 0 },       { "u3", 1, "view", 0, 0 },
        { "u3", 1, "cart", 0, 0 },       { "u3", 1, "buy", 0, 0 },
    };
    const size_t nl = sizeof L / sizeof *L;
    tev lrev[sizeof L / sizeof *L];
    reversed(lrev, L, nl);
    persona_store *s = store_of(L, nl, 1), *r = store_of(lrev, nl, 1);
    for (int k = 0; k < 12; k++) {
        persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("buy") };
        const persona_funnel_step *p[3];
        persona_funnel_options o = opts_of(st, p, 3, 10);
        persona_funnel_step xs = step_of("X");
        persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
        x.event = &xs;
        const persona_funnel_exclusion *xp[] = { &x };
        switch (k) {
        case 1: st[2] = step_of("view"); break;
        case 2: o.hold_property = "item"; break;
        case 3: o.hold_property = "cat"; st[1] = step_of("view"); break;
        case 4: o.exclusions = xp; o.n_exclusions = 1; break;
        case 5: st[1].where_property = "cat"; st[1].where_value = "c1"; break;
        case 6:
            st[2] = step_of("view");
            st[2].where_property = "item";
            st[2].where_value = "i1";
            break;
        case 7: o.count = PERSONA_FUNNEL_TOTALS; st[1] = step_of("view"); break;
        case 8: o.count = PERSONA_FUNNEL_SESSIONS; break;
        case 9: o.order = PERSONA_FUNNEL_ANY_ORDER; break;
        case 10: o.order = PERSONA_FUNNEL_ANY_ORDER; o.count = PERSONA_FUNNEL_TOTALS; break;
        case 11: st[1].max_ms = 3; st[2].min_ms = 1; break;
        default: break;
        }
        persona_funnel *f = build(s, &o), *g = build(r, &o);
        check_same_funnel(f, g);
        persona_funnel_free(f);
        persona_funnel_free(g);
    }
    persona_store_free(s);
    persona_store_free(r);
}

/* ---- bad options --------------------------------------------------------------------- */

static void expect_bad(const persona_store *s, const persona_funnel_options *o, int code,
                       const char *phrase, int line)
{
    persona_funnel *f = (persona_funnel *)&f; /* must become NULL */
    int rc = persona_funnel_build(&f, s, o);
    check_count++;
    if (rc != code || f != NULL || !strstr(persona_errmsg(), phrase)) {
        check_failures++;
        fprintf(stderr, "line %d: rc %d (want %d), out %s, message \"%s\" (want \"%s\")\n", line,
                rc, code, f ? "set" : "NULL", persona_errmsg(), phrase);
    }
}
#define BAD(o, phrase) expect_bad(s, (o), PERSONA_EINVAL, (phrase), __LINE__)

static void test_bad_options(void)
{
    persona_store *s = store_of(ANCHOR, 3, 0);
    persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("buy") };
    const persona_funnel_step *p[40];
    persona_funnel_options o = opts_of(st, p, 3, 10);
    persona_funnel *f = (persona_funnel *)&f;
    CHECK_RC(persona_funnel_build(&f, NULL, &o), PERSONA_EINVAL);
    CHECK(f == NULL);
    CHECK_RC(persona_funnel_build(NULL, s, &o), PERSONA_EINVAL);
    BAD(NULL, "opts is NULL");
    o.struct_size = 0;
    BAD(&o, "struct_size not set");
    o.struct_size = sizeof o;
    o.n_steps = 0;
    BAD(&o, "no steps");
    o.n_steps = 33;
    for (int i = 3; i < 33; i++)
        p[i] = &st[0];
    BAD(&o, "33 steps: at most 32");
    o = opts_of(st, p, 3, 10);
    p[1] = NULL;
    BAD(&o, "step 2 is NULL");
    p[1] = &st[1];
    st[1].event_type = NULL;
    BAD(&o, "step 2: event_type is NULL");
    st[1].event_type = "";
    BAD(&o, "step 2: event_type is empty");
    st[1].event_type = "cart";
    st[0].where_property = "cat";
    BAD(&o, "step 1: where_value is NULL");
    st[0].where_value = "x";
    st[0].where_op = 7;
    BAD(&o, "step 1: where_op 7");
    st[0] = step_of("view");
    st[0].where_value = "x";
    BAD(&o, "step 1: where_value is set without where_property");
    st[0] = step_of("view");
    st[1].min_ms = -1;
    BAD(&o, "step 2: min_ms is negative");
    st[1].min_ms = 0;
    st[2].max_ms = -1;
    BAD(&o, "step 3: max_ms is negative");
    st[2].min_ms = 5;
    st[2].max_ms = 3;
    BAD(&o, "step 3: min_ms 5 is greater than max_ms 3");
    st[2] = step_of("buy");
    st[1].struct_size = 0;
    BAD(&o, "step 2: struct_size not set");
    st[1].struct_size = sizeof st[1];
    o.window_ms = -1;
    BAD(&o, "window_ms is negative");
    o.window_ms = 10;
    o.order = 9;
    BAD(&o, "order 9");
    o.order = 0;
    o.count = 9;
    BAD(&o, "count 9");
    o.count = 0;
    o.hold_property = "";
    BAD(&o, "hold_property is empty");
    o.hold_property = NULL;
    o.trend_period = 99;
    BAD(&o, "trend_period 99");
    o.trend_period = 0;
    o.utc_offset_minutes = 2000;
    BAD(&o, "utc_offset_minutes 2000");
    o.utc_offset_minutes = 0;
    o.consent_purpose = "";
    BAD(&o, "consent_purpose is empty");
    o.consent_purpose = NULL;
    o.from_ms = 10;
    o.to_ms = 10;
    BAD(&o, "from_ms 10 is not before to_ms 10");
    o.from_ms = o.to_ms = 0;
    o.n_exclusions = 1;
    BAD(&o, "exclusions is NULL");
    persona_funnel_step xs = step_of("X");
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &xs;
    const persona_funnel_exclusion *xp[] = { &x };
    o.exclusions = xp;
    x.from_step = 3;
    x.to_step = 2;
    BAD(&o, "exclusion 1: from_step 3 is not before to_step 2");
    x.from_step = 2;
    x.to_step = 5;
    BAD(&o, "exclusion 1: to_step 5 is beyond the 3 steps");
    x.from_step = 0;
    x.to_step = 2;
    BAD(&o, "exclusion 1: from_step is 0");
    x.from_step = 1;
    x.event = NULL;
    BAD(&o, "exclusion 1: event is NULL");
    x.event = &xs;
    xs.min_ms = 4;
    BAD(&o, "exclusion 1: min_ms and max_ms must be 0");
    xs.min_ms = 0;
    xs.event_type = NULL;
    BAD(&o, "exclusion 1: event_type is NULL");
    xs.event_type = "X";
    x.struct_size = 0;
    BAD(&o, "exclusion 1: struct_size not set");
    x.struct_size = sizeof x;
    x.from_step = x.to_step = 0;
    o.n_steps = 1;
    BAD(&o, "a funnel of 1 step has no gap");
    o.n_steps = 3;
    /* the good options build */
    f = build(s, &o);
    CHECK(f != NULL);

    /* accessor errors */
    uint64_t u = 0;
    double d = 0;
    size_t n = 0;
    uint64_t h[8];
    CHECK_RC(persona_funnel_units(&u, f, 3), PERSONA_EINVAL);
    CHECK_MSG("step 3 is out of range");
    CHECK_RC(persona_funnel_time_quantile(&d, f, 1, 1.5), PERSONA_EINVAL);
    CHECK_RC(persona_funnel_time_quantile(&d, f, 1, NAN), PERSONA_EINVAL);
    CHECK_RC(persona_funnel_time_histogram(h, 7, &n, f, 1), PERSONA_EBUFS);
    CHECK(n == 8);
    CHECK_RC(persona_funnel_trend_at(NULL, NULL, NULL, f, 5), PERSONA_EINVAL);
    CHECK_RC(persona_funnel_user_at(NULL, 0, NULL, NULL, f, 99), PERSONA_EINVAL);
    char small[2];
    CHECK_RC(persona_funnel_step_event(small, sizeof small, &n, f, 0), PERSONA_EBUFS);
    CHECK(n == 4);
    CHECK_RC(persona_funnel_stage_of(NULL, f, "u1"), PERSONA_EINVAL);
    CHECK_RC(persona_funnel_export(f, 99, NULL, NULL), PERSONA_EINVAL);
    char *t = (char *)&t;
    CHECK_RC(persona_funnel_export_buffer(&t, NULL, f, 99), PERSONA_EINVAL);
    CHECK(t == NULL);
    CHECK_RC(persona_funnel_merge(f, f), PERSONA_EINVAL);
    CHECK_MSG("same funnel");
    persona_funnel *g = build(s, &o); /* the same users: in both */
    CHECK_RC(persona_funnel_merge(f, g), PERSONA_EINVAL);
    CHECK_MSG("is in both funnels");
    persona_funnel_free(g);
    o.window_ms = 11;
    g = build(s, &o);
    CHECK_RC(persona_funnel_merge(f, g), PERSONA_EINVAL);
    CHECK_MSG("options differ: window_ms");
    persona_funnel_free(g);
    persona_funnel_free(f);
    persona_funnel_free(NULL);
    persona_store_free(s);
}

/* ---- brute force ----------------------------------------------------------------------- */

#define BF_TYPES 5 /* t0 … t3 can be steps; t4 never is */
#define BF_MAX_EV 80
#define BF_USERS 5

typedef struct bf_ev {
    int user, type, item, cat; /* item / cat: -1 none, else 0 or 1 */
    int64_t t;
    int idx; /* log order */
} bf_ev;

typedef struct bf_step {
    int type;
    int pred; /* 0 none, 1 cat, 2 item */
    int value, op;
    int64_t min_ms, max_ms;
} bf_step;

typedef struct bf_opts {
    int n;
    bf_step st[4];
    int n_x;
    bf_step xev[2];
    int xfrom[2], xto[2]; /* 0-based steps */
    int64_t window;
    int order, count;
    int hold; /* 0 none, 1 cat, 2 item */
    int64_t from, to;
} bf_opts;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int rn(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static int prop_of(const bf_ev *e, int which)
{
    return which == 1 ? e->cat : which == 2 ? e->item : -1;
}

static int bf_matches(const bf_step *s, const bf_ev *e)
{
    if (e->type != s->type)
        return 0;
    if (!s->pred)
        return 1;
    int v = prop_of(e, s->pred), eq = v >= 0 && v == s->value;
    return s->op == PERSONA_WHERE_EQ ? eq : !eq;
}

/* Step j matches e with hold value h (-2: the path's first event, any present value). */
static int bf_step_ok(const bf_opts *o, int j, const bf_ev *e)
{
    if (!bf_matches(&o->st[j], e))
        return 0;
    return !o->hold || prop_of(e, o->hold) >= 0;
}

static int bf_in_range(const bf_opts *o, const bf_ev *e)
{
    return (!o->from || e->t >= o->from) && (!o->to || e->t < o->to);
}

typedef struct bf_best {
    int k;
    int pos[4];
} bf_best;

/* Better: further; as far with lexicographically smaller times (in path order); the same
 * times with lexicographically smaller positions. */
static int bf_better(const bf_ev *u, const int *pos, int k, const bf_best *best)
{
    if (k != best->k)
        return k > best->k;
    for (int j = 0; j < k; j++)
        if (u[pos[j]].t != u[best->pos[j]].t)
            return u[pos[j]].t < u[best->pos[j]].t;
    for (int j = 0; j < k; j++)
        if (pos[j] != best->pos[j])
            return pos[j] < best->pos[j];
    return 0;
}

/* Ordered: extend path pos[0..d) over unit u[0..n) (sorted by time, then log index). Loose:
 * any event not on the path yet at or after the previous step's time; strict: the next
 * event of the unit. */
static void bf_dfs(const bf_opts *o, const bf_ev *u, int n, int *pos, int d, bf_best *best)
{
    if (bf_better(u, pos, d, best)) {
        best->k = d;
        memcpy(best->pos, pos, sizeof(int) * (size_t)d);
    }
    if (d == o->n)
        return;
    const bf_ev *e1 = &u[pos[0]];
    int p = pos[d - 1];
    for (int i = 0; i < n; i++) {
        const bf_ev *e = &u[i];
        if (e->t < u[p].t)
            continue;
        int on_path = 0;
        for (int q = 0; q < d; q++)
            on_path |= pos[q] == i;
        if (on_path)
            continue;
        if (!bf_step_ok(o, d, e))
            continue;
        if (o->hold && prop_of(e, o->hold) != prop_of(e1, o->hold))
            continue;
        if (e->t - e1->t > o->window)
            continue;
        int64_t gap = e->t - u[p].t;
        if (o->st[d].min_ms && gap < o->st[d].min_ms)
            continue;
        if (o->st[d].max_ms && gap > o->st[d].max_ms)
            continue;
        if (o->order == PERSONA_FUNNEL_STRICT && i != p + 1)
            continue;
        int excluded = 0; /* an exclusion event strictly between in time */
        for (int x = 0; x < o->n_x && !excluded; x++)
            if (o->xfrom[x] <= d - 1 && d <= o->xto[x])
                for (int q = 0; q < n && !excluded; q++)
                    excluded = u[q].t > u[p].t && u[q].t < e->t && bf_matches(&o->xev[x], &u[q]);
        if (excluded)
            continue;
        pos[d] = i;
        bf_dfs(o, u, n, pos, d + 1, best);
    }
}

/* Can events set[0..m) be given distinct steps? */
static int bf_assign(const bf_opts *o, const bf_ev *u, const int *set, int m, int at,
                     unsigned used)
{
    if (at == m)
        return 1;
    for (int j = 0; j < o->n; j++)
        if (!(used >> j & 1) && bf_step_ok(o, j, &u[set[at]]) &&
            bf_assign(o, u, set, m, at + 1, used | 1u << j))
            return 1;
    return 0;
}

static int bf_entry_any(const bf_opts *o, const bf_ev *e)
{
    for (int j = 0; j < o->n; j++)
        if (bf_step_ok(o, j, e))
            return bf_in_range(o, e);
    return 0;
}

/* Any order: the largest assignable set with an entry at its earliest time (`first`, or
 * with first = -1 any entry), every event within the window of that time; then the
 * smallest times. The path lists the entry, then the others in unit order. */
static bf_best bf_any(const bf_opts *o, const bf_ev *u, int n, int first)
{
    bf_best best = { 0, { 0 } };
    for (uint32_t mask = 1; mask < (1u << n); mask++) {
        int set[32], m = 0;
        for (int i = 0; i < n; i++)
            if (mask >> i & 1)
                set[m++] = i;
        if (m > o->n || m < best.k)
            continue;
        int entry = first >= 0 ? first : set[0]; /* set[0]: an event of the earliest time */
        if (!(mask >> entry & 1) || u[entry].t != u[set[0]].t || !bf_entry_any(o, &u[entry]))
            continue;
        const bf_ev *e = &u[entry];
        int ok = 1;
        for (int i = 0; i < m && ok; i++) {
            ok = u[set[i]].t - e->t <= o->window;
            if (o->hold)
                ok = ok && prop_of(&u[set[i]], o->hold) == prop_of(e, o->hold);
        }
        if (!ok || !bf_assign(o, u, set, m, 0, 0))
            continue;
        int path[4] = { entry }, k = 1;
        for (int i = 0; i < m; i++)
            if (set[i] != entry)
                path[k++] = set[i];
        if (bf_better(u, path, m, &best)) { /* only k and the times reach the results */
            best.k = m;
            memcpy(best.pos, path, sizeof(int) * (size_t)m);
        }
    }
    return best;
}

static bf_best bf_from(const bf_opts *o, const bf_ev *u, int n, int s)
{
    if (o->order == PERSONA_FUNNEL_ANY_ORDER)
        return bf_any(o, u, n, s);
    bf_best best = { 0, { 0 } };
    if (!bf_step_ok(o, 0, &u[s]) || !bf_in_range(o, &u[s]))
        return best;
    int pos[4] = { s };
    bf_dfs(o, u, n, pos, 1, &best);
    return best;
}

typedef struct bf_result {
    uint64_t units[4];
    int64_t times[4][BF_MAX_EV * 2];
    size_t n_times[4];
    int stage[BF_USERS];
} bf_result;

static void bf_record(bf_result *r, const bf_ev *u, const bf_best *b, int user)
{
    for (int j = 0; j < b->k; j++)
        r->units[j]++;
    for (int j = 1; j < b->k; j++)
        r->times[j][r->n_times[j]++] = u[b->pos[j]].t - u[b->pos[j - 1]].t;
    if (b->k > r->stage[user])
        r->stage[user] = b->k;
}

static void bf_unit(bf_result *r, const bf_opts *o, const bf_ev *u, int n, int user)
{
    if (o->count == PERSONA_FUNNEL_TOTALS) {
        for (int s = 0; s < n; s++) {
            bf_best b = bf_from(o, u, n, s);
            if (b.k)
                bf_record(r, u, &b, user);
        }
        return;
    }
    bf_best best = { 0, { 0 } };
    if (o->order == PERSONA_FUNNEL_ANY_ORDER) {
        best = bf_any(o, u, n, -1);
    } else {
        for (int s = 0; s < n; s++) {
            bf_best b = bf_from(o, u, n, s);
            if (b.k && bf_better(u, b.pos, b.k, &best))
                best = b;
        }
    }
    if (best.k)
        bf_record(r, u, &best, user);
}

static int cmp_bf_ev(const void *a, const void *b)
{
    const bf_ev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->idx - y->idx;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void bf_run(bf_result *r, const bf_opts *opts, const bf_ev *ev, int n_ev, int64_t gap)
{
    bf_opts eff = *opts; /* window 0 = 14 days */
    if (!eff.window)
        eff.window = INT64_C(14) * 86400000;
    const bf_opts *o = &eff;
    memset(r, 0, sizeof *r);
    for (int user = 0; user < BF_USERS; user++) {
        bf_ev u[BF_MAX_EV];
        int n = 0;
        for (int i = 0; i < n_ev; i++)
            if (ev[i].user == user)
                u[n++] = ev[i];
        qsort(u, (size_t)n, sizeof *u, cmp_bf_ev);
        if (o->count == PERSONA_FUNNEL_SESSIONS) {
            for (int a = 0; a < n;) {
                int b = a + 1;
                while (b < n && u[b].t - u[b - 1].t <= gap)
                    b++;
                bf_unit(r, o, u + a, b - a, user);
                a = b;
            }
        } else {
            bf_unit(r, o, u, n, user);
        }
    }
    for (int j = 0; j < 4; j++)
        qsort(r->times[j], r->n_times[j], sizeof(int64_t), cmp_i64);
}

static double bf_quantile(const int64_t *a, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);
    return (double)a[lo] + ((double)a[hi] - (double)a[lo]) * (pos - (double)lo);
}

static const char *const TYPE_NAMES[BF_TYPES] = { "t0", "t1", "t2", "t3", "t4" };
static const char *const VALUES[2] = { "v0", "v1" };
static const char *const USER_NAMES[BF_USERS] = { "u0", "u1", "u2", "u3", "u4" };

static void bf_events(bf_ev *ev, int *n_ev)
{
    int n = 0;
    for (int user = 0; user < BF_USERS; user++) {
        int k = rn(4) == 0 ? 1 : rn(10);
        for (int i = 0; i < k && n < BF_MAX_EV; i++) {
            bf_ev *e = &ev[n++];
            e->user = user;
            e->type = rn(BF_TYPES);
            e->item = rn(3) - 1;
            e->cat = rn(3) - 1;
            e->t = rn(14);
        }
    }
    for (int i = n - 1; i > 0; i--) { /* ingest in random order */
        int j = rn(i + 1);
        bf_ev t = ev[i];
        ev[i] = ev[j];
        ev[j] = t;
    }
    for (int i = 0; i < n; i++)
        ev[i].idx = i;
    *n_ev = n;
}

static void bf_store_add(persona_store *s, const bf_ev *ev, int n, int part)
{
    for (int i = 0; i < n; i++) {
        if (part >= 0 && ev[i].user % 2 != part)
            continue;
        persona_event x = PERSONA_EVENT_INIT;
        const char *pn[] = { "cat" }, *pv[] = { ev[i].cat >= 0 ? VALUES[ev[i].cat] : NULL };
        x.user = USER_NAMES[ev[i].user];
        x.time_ms = ev[i].t;
        x.type = TYPE_NAMES[ev[i].type];
        x.item = ev[i].item >= 0 ? VALUES[ev[i].item] : NULL;
        if (ev[i].cat >= 0) {
            x.prop_names = pn;
            x.prop_values = pv;
            x.n_props = 1;
        }
        CHECK_RC(persona_store_ingest(NULL, s, &x, 1, NULL), PERSONA_OK);
    }
}

static bf_step bf_rand_step(int allow_times)
{
    bf_step s = { rn(4), 0, 0, 0, 0, 0 };
    if (rn(4) == 0) {
        s.pred = 1 + rn(2);
        s.value = rn(2);
        s.op = rn(2);
    }
    if (allow_times && rn(4) == 0) {
        s.min_ms = rn(3);
        s.max_ms = rn(2) ? 0 : s.min_ms + rn(4);
    }
    return s;
}

static void bf_rand_opts(bf_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n = 1 + rn(4);
    for (int j = 0; j < o->n; j++)
        o->st[j] = bf_rand_step(j > 0);
    if (o->n > 1 && rn(3) == 0) {
        o->n_x = 1 + rn(2);
        for (int x = 0; x < o->n_x; x++) {
            o->xev[x] = bf_rand_step(0);
            o->xev[x].type = rn(BF_TYPES);
            o->xfrom[x] = rn(o->n - 1);
            o->xto[x] = o->xfrom[x] + 1 + rn(o->n - 1 - o->xfrom[x]);
        }
    }
    static const int64_t windows[] = { 0, 2, 5, 9, 100 };
    o->window = windows[rn(5)];
    o->order = rn(3);
    o->count = rn(3);
    o->hold = rn(3) == 0 ? 1 + rn(2) : 0;
    if (rn(4) == 0) {
        o->from = rn(2) ? 1 + rn(6) : 0;
        o->to = rn(2) ? 7 + rn(8) : 0;
    }
}

static void bf_fill_step(persona_funnel_step *out, const bf_step *s)
{
    *out = step_of(TYPE_NAMES[s->type]);
    if (s->pred) {
        out->where_property = s->pred == 1 ? "cat" : "item";
        out->where_value = VALUES[s->value];
        out->where_op = s->op;
    }
    out->min_ms = s->min_ms;
    out->max_ms = s->max_ms;
}

static persona_funnel *bf_build(const persona_store *s, const bf_opts *o)
{
    persona_funnel_step st[4], xs[2];
    const persona_funnel_step *p[4];
    persona_funnel_exclusion x[2];
    const persona_funnel_exclusion *xp[2];
    for (int j = 0; j < o->n; j++)
        bf_fill_step(&st[j], &o->st[j]);
    persona_funnel_options fo = opts_of(st, p, (size_t)o->n, o->window);
    for (int i = 0; i < o->n_x; i++) {
        bf_fill_step(&xs[i], &o->xev[i]);
        x[i] = (persona_funnel_exclusion)PERSONA_FUNNEL_EXCLUSION_INIT;
        x[i].from_step = (uint32_t)o->xfrom[i] + 1;
        x[i].to_step = (uint32_t)o->xto[i] + 1;
        x[i].event = &xs[i];
        xp[i] = &x[i];
    }
    fo.exclusions = o->n_x ? xp : NULL;
    fo.n_exclusions = (size_t)o->n_x;
    fo.order = o->order;
    fo.count = o->count;
    fo.hold_property = o->hold == 1 ? "cat" : o->hold == 2 ? "item" : NULL;
    fo.from_ms = o->from;
    fo.to_ms = o->to;
    return build(s, &fo);
}

static void describe(const bf_opts *o, uint64_t seed)
{
    fprintf(stderr, "  seed %llu: %d steps, order %d, count %d, window %lld, hold %d, "
                    "range [%lld, %lld), %d exclusions\n",
            (unsigned long long)seed, o->n, o->order, o->count, (long long)o->window, o->hold,
            (long long)o->from, (long long)o->to, o->n_x);
}

static int bf_compare(const persona_funnel *f, const bf_result *r, const bf_opts *o)
{
    int before = check_failures;
    for (int j = 0; j < o->n; j++) {
        uint64_t u = 0;
        CHECK_RC(persona_funnel_units(&u, f, (size_t)j), PERSONA_OK);
        CHECK(u == r->units[j]);
        if (u != r->units[j])
            fprintf(stderr, "  step %d: %llu units, brute force %llu\n", j + 1,
                    (unsigned long long)u, (unsigned long long)r->units[j]);
        static const double qs[] = { 0, 0.3, 0.5, 0.77, 1 };
        for (int q = 0; j > 0 && r->n_times[j] && q < 5; q++) {
            double want = bf_quantile(r->times[j], r->n_times[j], qs[q]);
            CHECK_NEAR(quant(f, (size_t)j, qs[q]), want, 1e-9);
        }
    }
    for (int user = 0; user < BF_USERS; user++) {
        int32_t st = stage(f, USER_NAMES[user]);
        CHECK(st == r->stage[user]);
        if (st != r->stage[user])
            fprintf(stderr, "  %s: stage %d, brute force %d\n", USER_NAMES[user], st,
                    r->stage[user]);
    }
    size_t nt = 0;
    CHECK_RC(persona_funnel_trend_count(&nt, f), PERSONA_OK);
    CHECK(nt == (r->units[0] ? 1u : 0u));
    if (nt == 1) {
        uint64_t e = 0, c = 0;
        CHECK_RC(persona_funnel_trend_at(NULL, &e, &c, f, 0), PERSONA_OK);
        CHECK(e == r->units[0] && c == r->units[o->n - 1]);
    }
    return check_failures != before;
}

/* Two funnels equal through every accessor and both exports. */
static void check_same_funnel(const persona_funnel *a, const persona_funnel *b)
{
    int32_t formats[] = { PERSONA_FUNNEL_EXPORT_JSON, PERSONA_FUNNEL_EXPORT_CSV,
                          PERSONA_FUNNEL_EXPORT_STAGES_CSV };
    for (int k = 0; k < 3; k++) {
        char *x = export_text(a, formats[k]), *y = export_text(b, formats[k]);
        show_difference("funnel exports", x, y);
        CHECK(x && y && strcmp(x, y) == 0);
        persona_free(x);
        persona_free(y);
    }
    size_t na = 0, nb = 0;
    persona_funnel_step_count(&na, a);
    persona_funnel_step_count(&nb, b);
    CHECK(na == nb);
    for (size_t j = 0; j < na && j < nb; j++) {
        uint64_t ua = 0, ub = 0, ha[8], hb[8];
        persona_funnel_units(&ua, a, j);
        persona_funnel_units(&ub, b, j);
        CHECK(ua == ub);
        CHECK_RC(persona_funnel_time_histogram(ha, 8, NULL, a, j), PERSONA_OK);
        CHECK_RC(persona_funnel_time_histogram(hb, 8, NULL, b, j), PERSONA_OK);
        CHECK(memcmp(ha, hb, sizeof ha) == 0);
        for (double q = 0; q <= 1.0; q += 0.125) {
            double qa = quant(a, j, q), qb = quant(b, j, q);
            CHECK((isnan(qa) && isnan(qb)) || qa == qb);
        }
    }
    persona_funnel_user_count(&na, a);
    persona_funnel_user_count(&nb, b);
    CHECK(na == nb);
    for (size_t i = 0; i < na && i < nb; i++) {
        char ka[64], kb[64];
        int32_t sa = 0, sb = 0;
        CHECK_RC(persona_funnel_user_at(ka, sizeof ka, NULL, &sa, a, i), PERSONA_OK);
        CHECK_RC(persona_funnel_user_at(kb, sizeof kb, NULL, &sb, b, i), PERSONA_OK);
        CHECK(strcmp(ka, kb) == 0 && sa == sb);
        CHECK(stage(a, ka) == sa);
    }
    persona_funnel_trend_count(&na, a);
    persona_funnel_trend_count(&nb, b);
    CHECK(na == nb);
    for (size_t i = 0; i < na && i < nb; i++) {
        int64_t sa = 0, sb = 0;
        uint64_t ea = 0, eb = 0, ca = 0, cb = 0;
        persona_funnel_trend_at(&sa, &ea, &ca, a, i);
        persona_funnel_trend_at(&sb, &eb, &cb, b, i);
        CHECK(sa == sb && ea == eb && ca == cb);
    }
}

static char tmpdir[256];

/* The events in another log order: shuffled; with keep_ties, the events of one user at one
 * time then keep their order (strict order follows the log order of such ties). */
static void bf_reorder(bf_ev *out, const bf_ev *ev, int n, int keep_ties)
{
    memcpy(out, ev, sizeof *ev * (size_t)n);
    for (int i = n - 1; i > 0; i--) {
        int j = rn(i + 1);
        bf_ev t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
    if (!keep_ties)
        return;
    int done[BF_MAX_EV] = { 0 };
    for (int i = 0; i < n; i++) {
        if (done[i])
            continue;
        int at[BF_MAX_EV], m = 0;
        bf_ev tie[BF_MAX_EV];
        for (int j = i; j < n; j++)
            if (out[j].user == out[i].user && out[j].t == out[i].t) {
                at[m] = j;
                tie[m++] = out[j];
            }
        for (int a = 1; a < m; a++) /* back into log order */
            for (int b = a; b > 0 && tie[b - 1].idx > tie[b].idx; b--) {
                bf_ev t = tie[b];
                tie[b] = tie[b - 1];
                tie[b - 1] = t;
            }
        for (int a = 0; a < m; a++) {
            out[at[a]] = tie[a];
            done[at[a]] = 1;
        }
    }
}

static void test_brute_force(int rounds)
{
    bf_ev ev[BF_MAX_EV];
    int n_ev = 0;
    const int64_t gap = 3;
    for (int round = 0; round < rounds; round++) {
        uint64_t seed = 1000 + (uint64_t)round;
        rng_state = seed;
        bf_events(ev, &n_ev);
        persona_store *whole = store_gap(gap), *part[2] = { store_gap(gap), store_gap(gap) };
        bf_store_add(whole, ev, n_ev, -1);
        bf_store_add(part[0], ev, n_ev, 0);
        bf_store_add(part[1], ev, n_ev, 1);
        /* the same events ingested in another order (ties too, but for strict order) */
        bf_ev other[BF_MAX_EV];
        persona_store *shuffled[2] = { store_gap(gap), store_gap(gap) };
        for (int k = 0; k < 2; k++) {
            bf_reorder(other, ev, n_ev, k);
            bf_store_add(shuffled[k], other, n_ev, -1);
        }
        for (int trial = 0; trial < 12; trial++) {
            bf_opts o;
            bf_rand_opts(&o);
            bf_result r;
            bf_run(&r, &o, ev, n_ev, gap);
            persona_funnel *f = bf_build(whole, &o);
            if (!f)
                continue;
            if (bf_compare(f, &r, &o))
                describe(&o, seed * 100 + (uint64_t)trial);
            /* merge of the two halves == the whole */
            persona_funnel *a = bf_build(part[0], &o), *b = bf_build(part[1], &o);
            CHECK_RC(persona_funnel_merge(a, b), PERSONA_OK);
            persona_funnel_free(b);
            check_same_funnel(a, f);
            persona_funnel_free(a);
            /* the log order does not matter (strict order: but for events at one time) */
            a = bf_build(shuffled[o.order == PERSONA_FUNNEL_STRICT], &o);
            char *x = export_text(f, PERSONA_FUNNEL_EXPORT_JSON);
            char *y = export_text(a, PERSONA_FUNNEL_EXPORT_JSON);
            show_difference("funnel of the events in another log order", x, y);
            CHECK(x && y && strcmp(x, y) == 0);
            if (!x || !y || strcmp(x, y) != 0)
                describe(&o, seed * 100 + (uint64_t)trial);
            persona_free(x);
            persona_free(y);
            check_same_funnel(a, f);
            persona_funnel_free(a);
            /* save / load round trip */
            if (trial % 3 == 0) {
                char path[300];
                snprintf(path, sizeof path, "%s/f.snap", tmpdir);
                CHECK_RC(persona_funnel_save(f, path), PERSONA_OK);
                persona_funnel *g = NULL;
                CHECK_RC(persona_funnel_load(&g, path), PERSONA_OK);
                if (g)
                    check_same_funnel(f, g);
                persona_funnel_free(g);
            }
            persona_funnel_free(f);
        }
        persona_store_free(whole);
        persona_store_free(part[0]);
        persona_store_free(part[1]);
        persona_store_free(shuffled[0]);
        persona_store_free(shuffled[1]);
    }
}

/* The brute force itself must notice a wrong answer: perturb a result and compare. */
static void test_brute_force_canary(void)
{
    bf_ev ev[BF_MAX_EV];
    int n_ev = 0;
    rng_state = 77;
    bf_events(ev, &n_ev);
    persona_store *s = store_gap(3);
    bf_store_add(s, ev, n_ev, -1);
    bf_opts o;
    memset(&o, 0, sizeof o);
    o.n = 2;
    o.st[0].type = 0;
    o.st[1].type = 1;
    o.window = 100;
    bf_result r;
    bf_run(&r, &o, ev, n_ev, 3);
    persona_funnel *f = bf_build(s, &o);
    int saved_failures = check_failures, saved_count = check_count;
    fprintf(stderr, "canary: the brute-force comparison must report the next mismatch:\n");
    r.units[0]++;
    int caught = bf_compare(f, &r, &o);
    check_failures = saved_failures;
    check_count = saved_count;
    CHECK(caught);
    persona_funnel_free(f);
    persona_store_free(s);
}

/* ---- save / load --------------------------------------------------------------------- */

static void test_snapshot(void)
{
    persona_store *s = store_of(ANCHOR, sizeof ANCHOR / sizeof *ANCHOR, 0);
    persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("buy") };
    const persona_funnel_step *p[3];
    persona_funnel_options o = opts_of(st, p, 3, 10);
    st[1].where_property = "cat";
    st[1].where_value = "x";
    st[1].where_op = PERSONA_WHERE_NE;
    o.hold_property = "item-less";
    o.consent_purpose = "p";
    o.trend_period = PERSONA_PERIOD_WEEK;
    o.utc_offset_minutes = 60;
    persona_funnel *f = build(s, &o);
    char path[300];
    snprintf(path, sizeof path, "%s/g.snap", tmpdir);
    CHECK_RC(persona_funnel_save(f, path), PERSONA_OK);
    persona_funnel *g = NULL;
    CHECK_RC(persona_funnel_load(&g, path), PERSONA_OK);
    check_same_funnel(f, g);
    persona_funnel_free(g);
    persona_funnel_free(f);
    o = opts_of(st, p, 3, 10);
    st[1] = step_of("cart");
    f = build(s, &o);
    CHECK_RC(persona_funnel_save(f, path), PERSONA_OK);
    CHECK_RC(persona_funnel_load(&g, path), PERSONA_OK);
    check_same_funnel(f, g);
    check_anchor(g);
    persona_funnel_free(g);
    /* a damaged file is refused */
    FILE *fp = fopen(path, "r+b");
    CHECK(fp != NULL);
    if (fp) {
        fseek(fp, 100, SEEK_SET);
        int c = fgetc(fp);
        fseek(fp, 100, SEEK_SET);
        fputc(c ^ 0x10, fp);
        fclose(fp);
    }
    g = (persona_funnel *)&g;
    CHECK_RC(persona_funnel_load(&g, path), PERSONA_ECORRUPT);
    CHECK(g == NULL);
    CHECK_RC(persona_funnel_load(&g, "/nonexistent/dir/x.snap"), PERSONA_EIO);
    CHECK_RC(persona_funnel_save(f, "/nonexistent/dir/x.snap"), PERSONA_EIO);
    persona_funnel_free(f);

    /* many exclusions of the smallest size (a 1-byte type, no predicate) read back */
    persona_funnel_step xs = step_of("x");
    persona_funnel_exclusion x[40];
    const persona_funnel_exclusion *xp[40];
    for (size_t i = 0; i < 40; i++) {
        x[i] = (persona_funnel_exclusion)PERSONA_FUNNEL_EXCLUSION_INIT;
        x[i].event = &xs;
        xp[i] = &x[i];
    }
    o = opts_of(st, p, 3, 10);
    o.exclusions = xp;
    o.n_exclusions = 40;
    f = build(s, &o);
    CHECK_RC(persona_funnel_save(f, path), PERSONA_OK);
    g = NULL;
    CHECK_RC(persona_funnel_load(&g, path), PERSONA_OK);
    if (g)
        check_same_funnel(f, g);
    persona_funnel_free(g);
    persona_funnel_free(f);
    persona_store_free(s);
}

/* ---- allocation failures ------------------------------------------------------------- */

static int no_tmp_files(void)
{
    DIR *d = opendir(tmpdir);
    int ok = 1;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".tmp"))
            ok = 0;
    if (d)
        closedir(d);
    return ok;
}

typedef int (*oom_fn)(void *ctx, char **text);

/* Run fn with the n-th allocation failing (once, and from n on) for n = 1, 2, … until it
 * succeeds: ENOMEM each time, nothing leaked, then the reference text. */
static void oom_loop(const char *name, oom_fn fn, void *ctx)
{
    char *ref = NULL;
    uint64_t live0 = failalloc_live();
    CHECK(fn(ctx, &ref) == PERSONA_OK && ref);
    for (int mode = 0; mode < 2; mode++) {
        for (uint64_t n = 1; n < 100000; n++) {
            char *text = NULL;
            failalloc_arm(n, mode ? FAILALLOC_FROM_N : FAILALLOC_ONCE);
            int rc = fn(ctx, &text);
            int injected = failalloc_disarm();
            if (!injected) {
                CHECK(rc == PERSONA_OK && text && ref && strcmp(text, ref) == 0);
                CHECK(n > 1); /* the call allocates: some failure was injected */
                if (mode == 0)
                    fprintf(stderr, "oom %s: %llu allocation points\n", name,
                            (unsigned long long)n - 1);
                free(text);
                break;
            }
            if (rc != PERSONA_ENOMEM) {
                check_failures++;
                fprintf(stderr, "%s: allocation %llu (mode %d) failed at %s: rc %d\n", name,
                        (unsigned long long)n, mode, failalloc_last_site(), rc);
            }
            free(text);
            if (failalloc_live() != live0) {
                check_failures++;
                fprintf(stderr, "%s: allocation %llu (mode %d): %lld blocks leaked\n", name,
                        (unsigned long long)n, mode,
                        (long long)failalloc_live() - (long long)live0);
            }
            CHECK(no_tmp_files());
        }
    }
    free(ref);
}

typedef struct oom_ctx {
    persona_store *s;
    const persona_funnel_options *o;
    persona_funnel *f, *g;
    char path[300];
} oom_ctx;

static char *text_of(const persona_funnel *f)
{
    char *t = NULL;
    if (persona_funnel_export_buffer(&t, NULL, f, PERSONA_FUNNEL_EXPORT_JSON) != PERSONA_OK)
        return NULL;
    char *copy = strdup(t); /* libc copy: outside the counted blocks */
    persona_free(t);
    return copy;
}

static int oom_build(void *p, char **text)
{
    oom_ctx *c = p;
    persona_funnel *f = (persona_funnel *)&f;
    int rc = persona_funnel_build(&f, c->s, c->o);
    if (rc) {
        if (f)
            return -1000;
        return rc;
    }
    *text = text_of(f);
    persona_funnel_free(f);
    return *text ? PERSONA_OK : PERSONA_ENOMEM;
}

static int oom_export(void *p, char **text)
{
    oom_ctx *c = p;
    char *t = (char *)&t;
    int rc = persona_funnel_export_buffer(&t, NULL, c->f, PERSONA_FUNNEL_EXPORT_STAGES_CSV);
    if (rc)
        return t ? -1000 : rc;
    *text = strdup(t);
    persona_free(t);
    return PERSONA_OK;
}

static int oom_save_load(void *p, char **text)
{
    oom_ctx *c = p;
    int rc = persona_funnel_save(c->f, c->path);
    if (rc)
        return rc;
    persona_funnel *g = (persona_funnel *)&g;
    rc = persona_funnel_load(&g, c->path);
    if (rc)
        return g ? -1000 : rc;
    *text = text_of(g);
    persona_funnel_free(g);
    return *text ? PERSONA_OK : PERSONA_ENOMEM;
}

/* Merge under faults: `into` (a copy of c->f) must be unchanged after a failure. */
static void test_oom_merge(oom_ctx *c)
{
    uint64_t merge_n;
    int merge_mode;
    uint64_t live0 = failalloc_live();
    char *ref = NULL;
    {
        persona_funnel *into = NULL;
        CHECK_RC(persona_funnel_load(&into, c->path), PERSONA_OK);
        CHECK_RC(persona_funnel_merge(into, c->g), PERSONA_OK);
        ref = text_of(into);
        persona_funnel_free(into);
    }
    for (merge_mode = 0; merge_mode < 2; merge_mode++) {
        for (merge_n = 1; merge_n < 100000; merge_n++) {
            persona_funnel *into = NULL;
            CHECK_RC(persona_funnel_load(&into, c->path), PERSONA_OK);
            char *before = text_of(into);
            failalloc_arm(merge_n, merge_mode ? FAILALLOC_FROM_N : FAILALLOC_ONCE);
            int rc = persona_funnel_merge(into, c->g);
            int injected = failalloc_disarm();
            char *after = text_of(into);
            if (!injected) {
                CHECK(rc == PERSONA_OK && after && ref && strcmp(after, ref) == 0);
                CHECK(merge_n > 1);
                free(before);
                free(after);
                persona_funnel_free(into);
                break;
            }
            CHECK(rc == PERSONA_ENOMEM);
            CHECK(before && after && strcmp(before, after) == 0);
            free(before);
            free(after);
            persona_funnel_free(into);
            CHECK(failalloc_live() == live0);
        }
    }
    free(ref);
}

static void test_oom(void)
{
    static const tev E[] = {
        { "a1", 0, "view", "i1", "c1" }, { "a1", 5, "cart", "i1", 0 }, { "a1", 9, "buy", "i1", 0 },
        { "a2", 3, "view", 0, "c2" },    { "a2", 2, "cart", 0, 0 },
        { "a3", 40, "view", "i2", 0 },   { "a3", 41, "X", 0, 0 },       { "a3", 44, "cart", "i2", 0 },
    };
    persona_store *s = store_of(E, sizeof E / sizeof *E, 0);
    persona_funnel_step st[3] = { step_of("view"), step_of("cart"), step_of("buy") };
    const persona_funnel_step *p[3];
    persona_funnel_options o = opts_of(st, p, 3, 100);
    oom_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.o = &o;
    snprintf(c.path, sizeof c.path, "%s/oom.snap", tmpdir);
    oom_loop("build (fast path)", oom_build, &c);
    persona_funnel_step xs = step_of("X");
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &xs;
    const persona_funnel_exclusion *xp[] = { &x };
    o.exclusions = xp;
    o.n_exclusions = 1;
    o.hold_property = "item";
    o.consent_purpose = "nobody";
    oom_loop("build (general path)", oom_build, &c);
    o.consent_purpose = NULL;
    o.count = PERSONA_FUNNEL_SESSIONS;
    oom_loop("build (sessions)", oom_build, &c);
    o.count = PERSONA_FUNNEL_USERS;
    c.f = build(s, &o);
    oom_loop("export", oom_export, &c);
    oom_loop("save and load", oom_save_load, &c);
    /* merge: f (users a1 … a3) with a funnel of other users */
    static const tev F[] = { { "b1", 0, "view", "i1", 0 }, { "b1", 1, "cart", "i1", 0 } };
    persona_store *s2 = store_of(F, 2, 0);
    c.g = build(s2, &o);
    CHECK_RC(persona_funnel_save(c.f, c.path), PERSONA_OK);
    test_oom_merge(&c);
    persona_funnel_free(c.f);
    persona_funnel_free(c.g);
    persona_store_free(s2);
    persona_store_free(s);
}

int main(int argc, char **argv)
{
    failalloc_install();
    int rounds = argc > 1 ? atoi(argv[1]) : 150;
    snprintf(tmpdir, sizeof tmpdir, "%s/test_funnel_%d", test_temp_dir(), (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    test_anchor();
    test_empty();
    test_trend();
    test_strict();
    test_any_order();
    test_exclusion();
    test_hold();
    test_min_max();
    test_totals_sessions();
    test_predicates_consent_range();
    test_ties();
    test_bad_options();
    test_snapshot();
    test_brute_force_canary();
    test_brute_force(rounds);
    test_oom();
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_report("test_funnel");
}
