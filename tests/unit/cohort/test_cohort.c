/* Cohort tables, lifecycle and stickiness: a hand-worked example, brute force on small
 * random stores for every option, merge of partitions == whole, save/load round trip, and
 * bad options. The brute force works from the generated events (not from the store) with
 * glibc's gmtime for the calendar, so it shares no code with lib/cohort. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "store_check.h"

#define DAY INT64_C(86400000)
#define HOUR INT64_C(3600000)

/* 2024-01-01 00:00 UTC */
#define T2024 INT64_C(1704067200000)

static int64_t at(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

/* An event with property "ref" (none when ref is NULL). */
static void ingest(persona_store *s, const char *user, int64_t t, const char *type, double value,
                   const char *ref)
{
    ingest_with_prop(s, user, t, type, value, "ref", ref);
}

static persona_cohort_table *build(const persona_store *s, const persona_cohort_options *o)
{
    persona_cohort_table *t = NULL;
    CHECK_RC(persona_cohort_build(&t, s, o), PERSONA_OK);
    return t;
}

static double cell(const persona_cohort_table *t, size_t r, size_t c, int32_t metric)
{
    double v = -1;
    CHECK_RC(persona_cohort_table_cell(&v, NULL, t, r, c, metric), PERSONA_OK);
    return v;
}

static const char *label(const persona_cohort_table *t, size_t r)
{
    static char buf[64];
    CHECK_RC(persona_cohort_table_label(buf, sizeof buf, NULL, t, r), PERSONA_OK);
    return buf;
}

static char *csv(const persona_cohort_table *t, int32_t metric)
{
    char *out = NULL;
    CHECK_RC(persona_cohort_table_export_buffer(&out, NULL, t, PERSONA_COHORT_EXPORT_CSV, metric),
             PERSONA_OK);
    return out;
}

static void check_csv(const persona_cohort_table *t, int32_t metric, const char *want)
{
    char *got = csv(t, metric);
    show_difference("csv", got, want);
    CHECK_STR(got, want);
    persona_free(got);
}

/* ---- the hand-worked example (docs/cohorts.md walks through the same one) ---- */

static persona_store *example_store(void)
{
    persona_store *s = new_seeded_store(7);
    /* ingested out of time order on purpose */
    ingest(s, "a", at(2024, 4, 1, 0, 0), "buy", 5, NULL);
    ingest(s, "a", at(2024, 1, 15, 12, 0), "view", NAN, "google");
    ingest(s, "b", at(2024, 2, 1, 0, 10), "view", NAN, "ads");
    ingest(s, "a", at(2024, 2, 3, 9, 0), "buy", 10, NULL);
    ingest(s, "b", at(2024, 1, 31, 23, 30), "view", NAN, NULL);
    ingest(s, "c", at(2024, 2, 10, 8, 0), "buy", 7, NULL);
    return s;
}

static void test_example(void)
{
    persona_store *s = example_store();
    persona_cohort_options o = PERSONA_COHORT_OPTIONS_INIT;
    o.metrics = (1u << PERSONA_COHORT_EVENTS) | (1u << PERSONA_COHORT_REVENUE);
    persona_cohort_table *t = build(s, &o);
    size_t rows = 0, cols = 0;
    CHECK_RC(persona_cohort_table_rows(&rows, t), PERSONA_OK);
    CHECK_RC(persona_cohort_table_cols(&cols, t), PERSONA_OK);
    CHECK(rows == 2 && cols == 4);
    CHECK_STR(label(t, 0), "2024-01");
    CHECK_STR(label(t, 1), "2024-02");
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2,p3\n2024-01,2,2,2,0,1\n2024-02,1,1,0,0,\n");
    check_csv(t, PERSONA_COHORT_EVENTS, "cohort,size,p0,p1,p2,p3\n2024-01,2,2,2,0,1\n2024-02,1,1,0,0,\n");
    check_csv(t, PERSONA_COHORT_REVENUE, "cohort,size,p0,p1,p2,p3\n2024-01,2,0,10,0,5\n2024-02,1,7,0,0,\n");
    check_csv(t, PERSONA_COHORT_RATE, "cohort,size,p0,p1,p2,p3\n2024-01,2,1,1,0,0.5\n2024-02,1,1,0,0,\n");
    check_csv(t, PERSONA_COHORT_LTV, "cohort,size,p0,p1,p2,p3\n2024-01,2,0,5,5,7.5\n2024-02,1,7,7,7,\n");
    int64_t start = 0;
    CHECK_RC(persona_cohort_table_row_start(&start, t, 1), PERSONA_OK);
    CHECK(start == at(2024, 2, 1, 0, 0));
    double v = 0;
    int32_t supp = -1;
    CHECK_RC(persona_cohort_table_cell(&v, &supp, t, 1, 3, PERSONA_COHORT_USERS), PERSONA_OK);
    CHECK(isnan(v) && supp == 0); /* after the data for the 2024-02 cohort */
    persona_cohort_table_free(t);

    /* one hour east: b's first event (Jan 31 23:30 UTC) is in February */
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.utc_offset_minutes = 60;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2,p3\n2024-01,1,1,1,0,1\n2024-02,2,2,0,0,\n");
    persona_cohort_table_free(t);

    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.retention = PERSONA_RETENTION_UNBOUNDED;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2,p3\n2024-01,2,2,2,1,1\n2024-02,1,1,0,0,\n");
    persona_cohort_table_free(t);

    const char *buy[] = {"buy"};
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.active_types = buy;
    o.n_active_types = 1;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2,p3\n2024-01,2,0,1,0,1\n2024-02,1,1,0,0,\n");
    persona_cohort_table_free(t);

    /* a's cohort is its first buy (Feb 3): its January view is before it and not counted */
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.cohort_by = PERSONA_COHORT_BY_FIRST_OF_TYPE;
    o.cohort_event = "buy";
    o.metrics = 1u << PERSONA_COHORT_EVENTS;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2\n2024-02,2,2,0,1\n");
    check_csv(t, PERSONA_COHORT_EVENTS, "cohort,size,p0,p1,p2\n2024-02,2,2,0,1\n");
    persona_cohort_table_free(t);

    /* d's view on March 1 comes before its first buy (March 5) in the same month: not counted */
    persona_store *s2 = new_seeded_store(8);
    ingest(s2, "d", at(2024, 3, 5, 0, 0), "buy", 5, NULL);
    ingest(s2, "d", at(2024, 3, 1, 0, 0), "view", NAN, NULL);
    t = build(s2, &o);
    check_csv(t, PERSONA_COHORT_EVENTS, "cohort,size,p0\n2024-03,1,1\n");
    persona_cohort_table_free(t);
    persona_store_free(s2);

    const uint32_t br[] = {0, 1, 2};
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.brackets = br;
    o.n_brackets = 3;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2+\n2024-01,2,2,2,1\n2024-02,1,1,0,0\n");
    persona_cohort_table_free(t);

    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.min_users = 2;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2,p3\n2024-01,2,2,2,,\n2024-02,,,,,\n");
    CHECK_RC(persona_cohort_table_cell(&v, &supp, t, 0, 3, PERSONA_COHORT_USERS), PERSONA_OK);
    CHECK(isnan(v) && supp == 1);
    persona_cohort_table_free(t);

    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.cohort_by = PERSONA_COHORT_BY_PROPERTY;
    o.cohort_property = "ref";
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "cohort,size,p0,p1,p2,p3\nads,1,1,1,0,0\ngoogle,1,1,1,0,1\n(none),1,1,0,0,0\n");
    persona_cohort_table_free(t);

    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.kind = PERSONA_COHORT_LIFECYCLE;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "period,new,returning,resurrecting,dormant\n2024-01,2,0,0,0\n"
                                       "2024-02,1,2,0,0\n2024-03,0,0,0,3\n2024-04,0,0,1,0\n");
    persona_cohort_table_free(t);

    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.kind = PERSONA_COHORT_STICKINESS;
    t = build(s, &o);
    check_csv(t, PERSONA_COHORT_USERS, "active_periods,users\n1,1\n2,1\n3,1\n4,0\n");
    persona_cohort_table_free(t);
    persona_store_free(s);
}

/* ---- bad options: a clear error, nothing built ---- */

static void expect_bad(const persona_store *s, const persona_cohort_options *o, int rc,
                       const char *phrase)
{
    persona_cohort_table *t = (persona_cohort_table *)1;
    CHECK_RC(persona_cohort_build(&t, s, o), rc);
    CHECK(t == NULL);
    CHECK_MSG(phrase);
}

static void test_bad_options(void)
{
    persona_store *s = example_store();
    const uint32_t unordered[] = {0, 2, 2}, late_start[] = {1, 2}, beyond[] = {0, 5};
    const char *bad_types[] = {"view", NULL}, *empty_type[] = {""};
    persona_cohort_options o;
#define BAD(field_set, rc, phrase)                                                         \
    do {                                                                                   \
        o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;                           \
        field_set;                                                                         \
        expect_bad(s, &o, rc, phrase);                                                     \
    } while (0)
    BAD(o.kind = 3, PERSONA_EINVAL, "unknown kind 3");
    BAD(o.period = 9, PERSONA_EINVAL, "unknown period 9");
    BAD(o.kind = PERSONA_COHORT_LIFECYCLE; o.period = PERSONA_PERIOD_ROLLING, PERSONA_EINVAL,
        "rolling windows apply to retention tables only");
    BAD(o.row_period = PERSONA_PERIOD_DAY, PERSONA_EINVAL, "row_period is set but period is not");
    BAD(o.period = PERSONA_PERIOD_ROLLING; o.window_ms = -1, PERSONA_EINVAL, "window_ms is negative");
    BAD(o.window_ms = 1000, PERSONA_EINVAL, "window_ms is set but period is not");
    BAD(o.utc_offset_minutes = 1441, PERSONA_EINVAL, "utc_offset_minutes 1441 is outside");
    BAD(o.from_ms = 10; o.to_ms = 10, PERSONA_EINVAL, "to_ms is not after from_ms");
    BAD(o.threads = -1, PERSONA_EINVAL, "threads is negative");
    /* range ends outside the times ingest accepts (their period arithmetic would overflow) */
    BAD(o.kind = PERSONA_COHORT_LIFECYCLE; o.to_ms = INT64_MIN, PERSONA_EINVAL, "to_ms");
    BAD(o.kind = PERSONA_COHORT_LIFECYCLE; o.utc_offset_minutes = 60; o.from_ms = INT64_MAX,
        PERSONA_EINVAL, "from_ms");
    BAD(o.cohort_by = PERSONA_COHORT_BY_PROPERTY; o.cohort_property = "ref";
        o.from_ms = PERSONA_TIME_MAX + 1, PERSONA_EINVAL, "from_ms");
    BAD(o.cohort_by = 5, PERSONA_EINVAL, "unknown cohort_by 5");
    BAD(o.cohort_by = PERSONA_COHORT_BY_FIRST_OF_TYPE, PERSONA_EINVAL, "cohort_event is NULL");
    BAD(o.cohort_by = PERSONA_COHORT_BY_PROPERTY; o.cohort_property = "", PERSONA_EINVAL,
        "cohort_property is empty");
    BAD(o.kind = PERSONA_COHORT_STICKINESS; o.cohort_by = PERSONA_COHORT_BY_PROPERTY;
        o.cohort_property = "ref", PERSONA_EINVAL, "cohort_by applies to retention tables only");
    BAD(o.retention = 2, PERSONA_EINVAL, "unknown retention 2");
    BAD(o.metrics = 1u << PERSONA_COHORT_LTV, PERSONA_EINVAL, "names a metric that is not built");
    BAD(o.kind = PERSONA_COHORT_LIFECYCLE; o.metrics = 1u << PERSONA_COHORT_EVENTS, PERSONA_EINVAL,
        "lifecycle and stickiness count users only");
    BAD(o.consent_purpose = "", PERSONA_EINVAL, "consent_purpose is empty");
    BAD(o.n_active_types = 2, PERSONA_EINVAL, "active_types is NULL");
    BAD(o.active_types = bad_types; o.n_active_types = 2, PERSONA_EINVAL, "active_types[1] is NULL");
    BAD(o.active_types = empty_type; o.n_active_types = 1, PERSONA_EINVAL, "active_types[0] is empty");
    BAD(o.n_brackets = 1, PERSONA_EINVAL, "brackets is NULL");
    BAD(o.brackets = unordered; o.n_brackets = 3, PERSONA_EINVAL, "brackets out of order");
    BAD(o.brackets = late_start; o.n_brackets = 2, PERSONA_EINVAL, "brackets must start at period 0");
    BAD(o.brackets = beyond; o.n_brackets = 2; o.periods = 5, PERSONA_EINVAL,
        "the last bracket starts at period 5");
    BAD(o.kind = PERSONA_COHORT_LIFECYCLE; o.brackets = beyond; o.n_brackets = 2, PERSONA_EINVAL,
        "brackets apply to retention tables only");
    BAD(o.kind = PERSONA_COHORT_STICKINESS; o.periods = 3, PERSONA_EINVAL,
        "periods applies to retention tables only");
    BAD(o.struct_size = 0, PERSONA_EINVAL, "struct_size not set");
#undef BAD
    /* hourly cohorts over twenty years with revenue: more memory than a table may take */
    persona_store *wide = new_seeded_store(5);
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "w%d", i);
        ingest(wide, name, at(2000, 1, 1, i, 0), "buy", 1, NULL);
    }
    ingest(wide, "w0", at(2020, 1, 1, 0, 0), "buy", 1, NULL);
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.period = PERSONA_PERIOD_HOUR;
    o.metrics = 1u << PERSONA_COHORT_REVENUE;
    expect_bad(wide, &o, PERSONA_EINVAL, "too many cells");
    persona_store_free(wide);
    /* a newer caller's options: bytes this library does not know must be zero */
    unsigned char big[sizeof(persona_cohort_options) + 8] = {0};
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    memcpy(big, &o, sizeof o);
    uint32_t size = sizeof big;
    memcpy(big, &size, sizeof size);
    big[sizeof o + 3] = 1;
    expect_bad(s, (const persona_cohort_options *)(void *)big, PERSONA_EUNSUPPORTED, "knows only");
    persona_cohort_table *t = (persona_cohort_table *)1;
    CHECK_RC(persona_cohort_build(&t, NULL, NULL), PERSONA_EINVAL);
    CHECK(t == NULL);
    CHECK_RC(persona_cohort_build(NULL, s, NULL), PERSONA_EINVAL);

    /* accessors refuse what is out of range; a metric not built is EUNSUPPORTED */
    t = build(s, NULL);
    double v;
    char buf[4];
    size_t len = 0;
    CHECK_RC(persona_cohort_table_cell(&v, NULL, t, 9, 0, 0), PERSONA_EINVAL);
    CHECK_RC(persona_cohort_table_cell(&v, NULL, t, 0, 99, 0), PERSONA_EINVAL);
    CHECK_RC(persona_cohort_table_cell(&v, NULL, t, 0, 0, 7), PERSONA_EINVAL);
    CHECK_RC(persona_cohort_table_cell(&v, NULL, t, 0, 0, PERSONA_COHORT_REVENUE), PERSONA_EUNSUPPORTED);
    CHECK_MSG("built without the revenue metric");
    CHECK_RC(persona_cohort_table_label(buf, sizeof buf, &len, t, 0), PERSONA_EBUFS);
    CHECK(len == 7);
    CHECK_RC(persona_cohort_table_merge(t, t), PERSONA_EINVAL);
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.period = PERSONA_PERIOD_WEEK;
    persona_cohort_table *w = build(s, &o);
    CHECK_RC(persona_cohort_table_merge(t, w), PERSONA_EINVAL);
    CHECK_MSG("different options (period)");
    persona_store *other = new_seeded_store(9);
    CHECK_RC(persona_cohort_table_update(t, other), PERSONA_EMISUSE);
    CHECK_RC(persona_cohort_table_merge(w, t), PERSONA_EINVAL);
    persona_store_free(other);
    persona_cohort_table_free(w);
    persona_cohort_table_free(t);
    persona_cohort_table_free(NULL);
    persona_store_free(s);
}

/* ---- brute force ---- */

#define MAX_EV 64
#define MAX_USERS 8

typedef struct gen_event {
    int user;
    int64_t t;
    const char *type;
    double value; /* NaN = absent */
    const char *ref;
    int order; /* position in the ingest order */
} gen_event;

typedef struct gen {
    gen_event ev[MAX_EV];
    int n, n_users;
    int consent[MAX_USERS]; /* -1 none, 0 denied, 1 granted */
} gen;

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

static const char *const TYPES[] = {"view", "buy", "cart"};

static void make_gen(gen *g)
{
    /* instants near month, week and day edges, plus ties */
    int64_t base[] = {at(2024, 1, 31, 23, 30), at(2024, 2, 1, 0, 10), at(2024, 2, 29, 12, 0),
                      at(2024, 3, 31, 22, 0),  at(2024, 4, 1, 1, 0),   at(2024, 4, 7, 23, 59),
                      at(2024, 4, 8, 0, 0),    at(2024, 6, 30, 23, 0), at(2023, 12, 31, 23, 0)};
    g->n_users = 1 + (int)rnd(MAX_USERS - 1);
    g->n = 0;
    for (int u = 0; u < g->n_users; u++) {
        int k = 1 + (int)rnd(6);
        for (int i = 0; i < k && g->n < MAX_EV; i++) {
            gen_event *e = &g->ev[g->n++];
            e->user = u;
            e->t = base[rnd(9)] + (rnd(3) == 0 ? 0 : (int64_t)rnd(72) * HOUR);
            e->type = TYPES[rnd(3)];
            e->value = rnd(3) ? (double)(1 + rnd(40)) * 0.25 : NAN;
            e->ref = rnd(3) == 0 ? NULL : rnd(2) ? "x" : "y";
        }
        g->consent[u] = (int)rnd(3) - 1;
    }
    /* a random ingest order */
    int perm[MAX_EV];
    for (int i = 0; i < g->n; i++)
        perm[i] = i;
    for (int i = g->n - 1; i > 0; i--) {
        int j = (int)rnd((uint32_t)i + 1), x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
    for (int i = 0; i < g->n; i++)
        g->ev[perm[i]].order = i;
}

/* Ingest the events of the users `which` selects (bit per user) whose position in the
 * ingest order is in [from, to). */
static void gen_ingest(persona_store *s, const gen *g, unsigned which, int from, int to)
{
    char name[16];
    for (int o = from; o < to; o++)
        for (int i = 0; i < g->n; i++)
            if (g->ev[i].order == o && (which >> g->ev[i].user & 1)) {
                snprintf(name, sizeof name, "u%d", g->ev[i].user);
                ingest(s, name, g->ev[i].t, g->ev[i].type, g->ev[i].value, g->ev[i].ref);
            }
}

static void gen_consent(persona_store *s, const gen *g, unsigned which)
{
    char name[16];
    for (int u = 0; u < g->n_users; u++) {
        snprintf(name, sizeof name, "u%d", u);
        if (g->consent[u] >= 0 && (which >> u & 1))
            CHECK_RC(persona_store_consent_set(s, name, "email", g->consent[u], T2024), PERSONA_OK);
    }
}

/* A store of the users `which` selects, events in ingest order. */
static persona_store *gen_store(const gen *g, unsigned which)
{
    persona_store *s = new_seeded_store(11);
    gen_ingest(s, g, which, 0, g->n);
    gen_consent(s, g, which);
    return s;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static struct tm local_tm(int64_t t, int off)
{
    time_t secs = (time_t)floordiv(t + (int64_t)off * 60000, 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    return tm;
}

/* Absolute period number, from gmtime. */
static int64_t bf_period(int unit, int64_t t, int off)
{
    int64_t local = t + (int64_t)off * 60000, day = floordiv(local, DAY);
    struct tm tm = local_tm(t, off);
    int64_t y = tm.tm_year + 1900;
    switch (unit) {
    case PERSONA_PERIOD_HOUR: return floordiv(local, HOUR);
    case PERSONA_PERIOD_DAY: return day;
    case PERSONA_PERIOD_WEEK: return floordiv(day + 3, 7);
    case PERSONA_PERIOD_QUARTER: return y * 4 + tm.tm_mon / 3;
    case PERSONA_PERIOD_YEAR: return y;
    default: return y * 12 + tm.tm_mon;
    }
}

/* UTC start of the period holding t. */
static int64_t bf_start(int unit, int64_t t, int off)
{
    struct tm tm = local_tm(t, off);
    tm.tm_sec = 0;
    tm.tm_min = 0;
    if (unit != PERSONA_PERIOD_HOUR)
        tm.tm_hour = 0;
    if (unit == PERSONA_PERIOD_WEEK)
        tm.tm_mday -= (tm.tm_wday + 6) % 7;
    if (unit == PERSONA_PERIOD_MONTH || unit == PERSONA_PERIOD_QUARTER || unit == PERSONA_PERIOD_YEAR)
        tm.tm_mday = 1;
    if (unit == PERSONA_PERIOD_QUARTER)
        tm.tm_mon -= tm.tm_mon % 3;
    if (unit == PERSONA_PERIOD_YEAR)
        tm.tm_mon = 0;
    return (int64_t)timegm(&tm) * 1000 - (int64_t)off * 60000;
}

static void bf_label(int unit, int64_t t, int off, char *buf)
{
    struct tm tm = local_tm(t, off);
    switch (unit) {
    case PERSONA_PERIOD_HOUR: strftime(buf, 32, "%Y-%m-%d %Hh", &tm); break;
    case PERSONA_PERIOD_DAY: strftime(buf, 32, "%Y-%m-%d", &tm); break;
    case PERSONA_PERIOD_WEEK: strftime(buf, 32, "%G-W%V", &tm); break;
    case PERSONA_PERIOD_QUARTER: snprintf(buf, 32, "%04d-Q%d", tm.tm_year + 1900, tm.tm_mon / 3 + 1); break;
    case PERSONA_PERIOD_YEAR: strftime(buf, 32, "%Y", &tm); break;
    default: strftime(buf, 32, "%Y-%m", &tm); break;
    }
}

typedef struct bf_opts {
    persona_cohort_options o;
    const char *active[4];
    uint32_t brackets[4];
} bf_opts;

static void random_opts(bf_opts *b)
{
    static const int units[] = {PERSONA_PERIOD_DAY, PERSONA_PERIOD_WEEK, PERSONA_PERIOD_MONTH,
                                PERSONA_PERIOD_QUARTER, PERSONA_PERIOD_YEAR, PERSONA_PERIOD_HOUR};
    static const int offs[] = {0, 0, 60, -60, 330, -600, 840};
    persona_cohort_options *o = &b->o;
    *o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    int k = (int)rnd(10);
    o->kind = k < 6 ? PERSONA_COHORT_RETENTION : k < 8 ? PERSONA_COHORT_LIFECYCLE : PERSONA_COHORT_STICKINESS;
    o->period = units[rnd(rnd(4) == 0 ? 6 : 5)];
    o->utc_offset_minutes = offs[rnd(7)];
    if (rnd(4) == 0) {
        int n = 0;
        for (int i = 0; i < 3; i++)
            if (rnd(2))
                b->active[n++] = TYPES[i];
        if (rnd(5) == 0)
            b->active[n++] = "never-seen";
        o->active_types = b->active;
        o->n_active_types = (size_t)n;
    }
    if (rnd(3) == 0)
        o->consent_purpose = "email";
    if (rnd(4) == 0)
        o->from_ms = at(2024, 2, 1, 0, 0) + (int64_t)rnd(30) * DAY;
    if (rnd(4) == 0)
        o->to_ms = at(2024, 4, 1, 0, 0) + (int64_t)rnd(30) * DAY;
    if (o->kind != PERSONA_COHORT_RETENTION) {
        if (o->period == PERSONA_PERIOD_HOUR && rnd(2))
            o->period = PERSONA_PERIOD_DAY;
        return;
    }
    if (rnd(4) == 0) {
        o->row_period = o->period;
        o->period = PERSONA_PERIOD_ROLLING;
        o->window_ms = rnd(2) ? 0 : HOUR * (2 + rnd(240));
    }
    o->cohort_by = (int32_t)rnd(3);
    o->cohort_event = TYPES[rnd(3)];
    o->cohort_property = rnd(5) ? "ref" : "nothing";
    o->retention = (int32_t)rnd(2);
    o->metrics = (1u << PERSONA_COHORT_EVENTS) | (1u << PERSONA_COHORT_REVENUE);
    if (rnd(3) == 0) {
        size_t n = 1;
        b->brackets[0] = 0;
        for (uint32_t x = 1; n < 4 && x < 9; x += 1 + rnd(3))
            if (rnd(2))
                b->brackets[n++] = x;
        o->brackets = b->brackets;
        o->n_brackets = n;
    }
    if (rnd(4) == 0) {
        o->periods = 1 + rnd(6);
        if (o->n_brackets && b->brackets[o->n_brackets - 1] >= o->periods)
            o->periods = b->brackets[o->n_brackets - 1] + 1;
    }
    o->min_users = rnd(3) ? 0u : rnd(3);
}

static int is_active(const persona_cohort_options *o, const char *type)
{
    if (!o->n_active_types)
        return 1;
    for (size_t i = 0; i < o->n_active_types; i++)
        if (strcmp(o->active_types[i], type) == 0)
            return 1;
    return 0;
}

static int counted(const gen *g, const persona_cohort_options *o, int u)
{
    int has = 0;
    for (int i = 0; i < g->n; i++)
        has |= g->ev[i].user == u;
    return has && (!o->consent_purpose || g->consent[u] == 1);
}

/* Expected retention table in a fixed layout: rows by label (sorted as the library
 * promises), cells [row][col][metric]. */
#define BF_ROWS 16
#define BF_COLS 8192
typedef struct bf_table {
    int n_rows, n_cols;
    char label[BF_ROWS][32];
    int64_t key[BF_ROWS];   /* period, or 0 for property rows */
    int64_t start[BF_ROWS]; /* period start (time rows) */
    uint64_t size[BF_ROWS];
    double *cells; /* [row][col][5], NaN where empty */
} bf_table;

static double *bf_cell(bf_table *b, int r, int c, int m)
{
    return &b->cells[((size_t)r * BF_COLS + (size_t)c) * 5 + (size_t)m];
}

static int col_of(const persona_cohort_options *o, int64_t raw)
{
    if (raw < 0 || (o->periods && raw >= o->periods))
        return -1;
    if (!o->n_brackets)
        return (int)raw;
    int c = 0;
    for (size_t i = 0; i < o->n_brackets; i++)
        if (o->brackets[i] <= raw)
            c = (int)i;
    return c;
}

static void bf_retention(const gen *g, const persona_cohort_options *o, bf_table *b)
{
    int rolling = o->period == PERSONA_PERIOD_ROLLING;
    int rowu = rolling ? (o->row_period ? o->row_period : PERSONA_PERIOD_MONTH) : o->period;
    int colu = rowu;
    int64_t w = o->window_ms ? o->window_ms : DAY;
    int off = o->utc_offset_minutes;
    int64_t t0[MAX_USERS];
    const char *prop[MAX_USERS];
    int in[MAX_USERS], row_of[MAX_USERS];
    int64_t t_last = INT64_MIN, min_anchor = INT64_MAX;
    for (int i = 0; i < g->n; i++) {
        t_last = g->ev[i].t > t_last ? g->ev[i].t : t_last;
        min_anchor = g->ev[i].t < min_anchor ? g->ev[i].t : min_anchor;
    }
    if (o->from_ms > min_anchor)
        min_anchor = o->from_ms;
    b->n_rows = 0;
    for (int u = 0; u < g->n_users; u++) {
        t0[u] = INT64_MAX;
        prop[u] = NULL;
        int64_t best_t = INT64_MAX;
        int best_order = 0;
        for (int i = 0; i < g->n; i++) {
            const gen_event *e = &g->ev[i];
            if (e->user != u)
                continue;
            if (o->cohort_by != PERSONA_COHORT_BY_FIRST_OF_TYPE || strcmp(e->type, o->cohort_event) == 0)
                t0[u] = e->t < t0[u] ? e->t : t0[u];
            if (e->ref && strcmp(o->cohort_property, "ref") == 0 &&
                (e->t < best_t || (e->t == best_t && e->order < best_order))) {
                best_t = e->t;
                best_order = e->order;
                prop[u] = e->ref;
            }
        }
        in[u] = counted(g, o, u) && t0[u] != INT64_MAX && (!o->from_ms || t0[u] >= o->from_ms) &&
                (!o->to_ms || t0[u] < o->to_ms);
        row_of[u] = -1;
        if (!in[u])
            continue;
        char lab[32];
        int64_t key = 0;
        if (o->cohort_by == PERSONA_COHORT_BY_PROPERTY)
            snprintf(lab, sizeof lab, "%s", prop[u] ? prop[u] : "(none)");
        else {
            bf_label(rowu, t0[u], off, lab);
            key = bf_period(rowu, t0[u], off);
        }
        int r = 0;
        while (r < b->n_rows && strcmp(b->label[r], lab) != 0)
            r++;
        if (r == b->n_rows) {
            snprintf(b->label[r], 32, "%s", lab);
            b->key[r] = key;
            b->start[r] = bf_start(rowu, t0[u], off);
            b->size[r] = 0;
            b->n_rows++;
        }
        row_of[u] = r;
        b->size[r]++;
    }
    /* sort rows: by period, or by label with "(none)" last */
    for (int i = 0; i < b->n_rows; i++)
        for (int j = i + 1; j < b->n_rows; j++) {
            int swap;
            if (o->cohort_by == PERSONA_COHORT_BY_PROPERTY) {
                int ni = strcmp(b->label[i], "(none)") == 0, nj = strcmp(b->label[j], "(none)") == 0;
                swap = ni != nj ? ni : strcmp(b->label[i], b->label[j]) > 0;
            } else {
                swap = b->key[i] > b->key[j];
            }
            if (swap) {
                char tl[32];
                memcpy(tl, b->label[i], 32);
                memcpy(b->label[i], b->label[j], 32);
                memcpy(b->label[j], tl, 32);
                int64_t tk = b->key[i]; b->key[i] = b->key[j]; b->key[j] = tk;
                tk = b->start[i]; b->start[i] = b->start[j]; b->start[j] = tk;
                uint64_t ts = b->size[i]; b->size[i] = b->size[j]; b->size[j] = ts;
                for (int u = 0; u < g->n_users; u++)
                    row_of[u] = row_of[u] == i ? j : row_of[u] == j ? i : row_of[u];
            }
        }
    /* extent */
    int64_t avail[BF_ROWS], max_avail = 0;
    for (int r = 0; r < b->n_rows; r++) {
        int64_t from = o->cohort_by == PERSONA_COHORT_BY_PROPERTY ? min_anchor : b->start[r];
        avail[r] = rolling ? floordiv(t_last - from, w) + 1
                           : bf_period(colu, t_last, off) - bf_period(colu, from, off) + 1;
        max_avail = avail[r] > max_avail ? avail[r] : max_avail;
    }
    if (o->periods && max_avail > o->periods)
        max_avail = o->periods;
    b->n_cols = (int)max_avail;
    if (o->n_brackets) {
        int n = 0;
        while ((size_t)n < o->n_brackets && o->brackets[n] < max_avail)
            n++;
        b->n_cols = n;
    }
    CHECK(b->n_cols <= BF_COLS);
    for (int r = 0; r < b->n_rows; r++)
        for (int c = 0; c < b->n_cols && c < BF_COLS; c++)
            for (int m = 0; m < 5; m++)
                *bf_cell(b, r, c, m) = 0;
    /* counts */
    for (int u = 0; u < g->n_users; u++) {
        if (row_of[u] < 0)
            continue;
        int r = row_of[u], maxc = -1;
        static char seen[BF_COLS];
        memset(seen, 0, sizeof seen);
        for (int i = 0; i < g->n; i++) {
            const gen_event *e = &g->ev[i];
            if (e->user != u || !is_active(o, e->type) || e->t < t0[u])
                continue;
            int64_t raw = rolling ? floordiv(e->t - t0[u], w)
                                  : bf_period(colu, e->t, off) - bf_period(colu, t0[u], off);
            int c = col_of(o, raw);
            if (c < 0 || c >= b->n_cols)
                continue;
            *bf_cell(b, r, c, PERSONA_COHORT_EVENTS) += 1;
            if (!isnan(e->value))
                *bf_cell(b, r, c, PERSONA_COHORT_REVENUE) += e->value;
            if (o->retention == PERSONA_RETENTION_CLASSIC && !seen[c]) {
                seen[c] = 1;
                *bf_cell(b, r, c, PERSONA_COHORT_USERS) += 1;
            }
            maxc = c > maxc ? c : maxc;
        }
        if (o->retention == PERSONA_RETENTION_UNBOUNDED)
            for (int c = 0; c <= maxc; c++)
                *bf_cell(b, r, c, PERSONA_COHORT_USERS) += 1;
    }
    /* derived metrics, emptiness, suppression */
    for (int r = 0; r < b->n_rows; r++) {
        double ltv = 0;
        for (int c = 0; c < b->n_cols; c++) {
            double *x = bf_cell(b, r, c, 0);
            ltv += x[PERSONA_COHORT_REVENUE];
            x[PERSONA_COHORT_RATE] = x[PERSONA_COHORT_USERS] / (double)b->size[r];
            x[PERSONA_COHORT_LTV] = ltv / (double)b->size[r];
            int64_t first_raw = o->n_brackets ? (int64_t)o->brackets[c] : c;
            int empty = first_raw >= avail[r] ||
                        (o->min_users && (x[PERSONA_COHORT_USERS] < o->min_users ||
                                          b->size[r] < o->min_users));
            for (int m = 0; empty && m < 5; m++)
                x[m] = NAN;
        }
    }
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void compare_retention(const gen *g, const persona_cohort_options *o,
                              const persona_cohort_table *t, uint64_t seed)
{
    bf_table b;
    b.cells = calloc((size_t)BF_ROWS * BF_COLS * 5, sizeof *b.cells);
    bf_retention(g, o, &b);
    size_t rows = 0, cols = 0;
    persona_cohort_table_rows(&rows, t);
    persona_cohort_table_cols(&cols, t);
    int bad = rows != (size_t)b.n_rows || cols != (size_t)b.n_cols;
    for (int r = 0; !bad && r < b.n_rows; r++) {
        bad |= strcmp(label(t, (size_t)r), b.label[r]) != 0;
        uint64_t size = 0;
        int32_t supp = 0;
        persona_cohort_table_size(&size, &supp, t, (size_t)r);
        bad |= o->min_users && b.size[r] < o->min_users ? !supp : size != b.size[r];
        for (int c = 0; !bad && c < b.n_cols; c++)
            for (int m = 0; m < 5; m++)
                if (!same_double(cell(t, (size_t)r, (size_t)c, m), *bf_cell(&b, r, c, m))) {
                    fprintf(stderr, "row %d col %d metric %d: got %.17g want %.17g\n", r, c, m,
                            cell(t, (size_t)r, (size_t)c, m), *bf_cell(&b, r, c, m));
                    bad = 1;
                }
    }
    if (bad) {
        fprintf(stderr, "retention differs from brute force: seed %llu (rows %zu/%d cols %zu/%d)\n",
                (unsigned long long)seed, rows, b.n_rows, cols, b.n_cols);
        char *got = csv(t, PERSONA_COHORT_USERS);
        fprintf(stderr, "%s", got);
        persona_free(got);
    }
    CHECK(!bad);
    free(b.cells);
}

static void compare_activity(const gen *g, const persona_cohort_options *o,
                             const persona_cohort_table *t, uint64_t seed)
{
    int unit = o->period ? o->period : PERSONA_PERIOD_MONTH, off = o->utc_offset_minutes;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int64_t first[MAX_USERS];
    /* active periods per user, relative to the earliest event */
    int64_t p0 = INT64_MAX;
    for (int i = 0; i < g->n; i++)
        p0 = bf_period(unit, g->ev[i].t, off) < p0 ? bf_period(unit, g->ev[i].t, off) : p0;
    static unsigned char act[MAX_USERS][6000];
    memset(act, 0, sizeof act);
    for (int u = 0; u < g->n_users; u++) {
        first[u] = INT64_MAX;
        if (!counted(g, o, u))
            continue;
        for (int i = 0; i < g->n; i++) {
            const gen_event *e = &g->ev[i];
            if (e->user != u || !is_active(o, e->type))
                continue;
            int64_t p = bf_period(unit, e->t, off);
            act[u][p - p0 + 1] = 1;
            first[u] = p < first[u] ? p : first[u];
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
        }
    }
    int64_t olo = o->from_ms ? bf_period(unit, o->from_ms, off) : INT64_MIN;
    int64_t ohi = o->to_ms ? bf_period(unit, o->to_ms - 1, off) : INT64_MAX;
    int64_t rlo = lo > olo ? lo : olo, rhi = hi < ohi ? hi : ohi;
    size_t want_rows = lo == INT64_MAX || rhi < rlo ? 0 : (size_t)(rhi - rlo + 1);
    size_t rows = 0;
    persona_cohort_table_rows(&rows, t);
    int bad = rows != want_rows;
#define ACT(u, p) act[u][(p) - p0 + 1]
    for (size_t i = 0; !bad && i < rows; i++) {
        int64_t p = rlo + (int64_t)i;
        double want[4] = {0, 0, 0, 0};
        char lab[32];
        if (o->kind == PERSONA_COHORT_LIFECYCLE) {
            for (int u = 0; u < g->n_users; u++) {
                if (first[u] == INT64_MAX)
                    continue;
                if (ACT(u, p))
                    want[first[u] == p ? 0 : p > p0 && ACT(u, p - 1) ? 1 : 2]++;
                else if (p > p0 && ACT(u, p - 1))
                    want[3]++;
            }
            /* label of period p: the label of any time inside it */
            int64_t probe = bf_start(unit, at(2024, 3, 1, 0, 0), off);
            int64_t pp = bf_period(unit, probe, off);
            while (pp != p) {
                probe += (pp < p ? 1 : -1) * (unit == PERSONA_PERIOD_HOUR ? HOUR : DAY);
                pp = bf_period(unit, probe, off);
            }
            bf_label(unit, probe, off, lab);
        } else {
            for (int u = 0; u < g->n_users; u++) {
                if (first[u] == INT64_MAX)
                    continue;
                int n = 0;
                for (int64_t q = lo; q <= hi; q++)
                    n += q >= olo && q <= ohi && ACT(u, q);
                want[0] += n == (int64_t)i + 1;
            }
            snprintf(lab, sizeof lab, "%zu", i + 1);
        }
        bad |= strcmp(label(t, i), lab) != 0;
        size_t ncols = o->kind == PERSONA_COHORT_LIFECYCLE ? 4 : 1;
        for (size_t c = 0; c < ncols; c++) {
            double w = o->min_users && want[c] < o->min_users ? NAN : want[c];
            if (!same_double(cell(t, i, c, PERSONA_COHORT_USERS), w)) {
                fprintf(stderr, "row %zu (%s) col %zu: got %g want %g\n", i, lab, c,
                        cell(t, i, c, PERSONA_COHORT_USERS), w);
                bad = 1;
            }
        }
    }
#undef ACT
    if (bad) {
        fprintf(stderr, "%s differs from brute force: seed %llu (rows %zu, want %zu)\n",
                o->kind == PERSONA_COHORT_LIFECYCLE ? "lifecycle" : "stickiness",
                (unsigned long long)seed, rows, want_rows);
        char *got = csv(t, PERSONA_COHORT_USERS);
        fprintf(stderr, "%s", got);
        persona_free(got);
    }
    CHECK(!bad);
}

static char *json(const persona_cohort_table *t)
{
    char *out = NULL;
    CHECK_RC(persona_cohort_table_export_buffer(&out, NULL, t, PERSONA_COHORT_EXPORT_JSON, 0),
             PERSONA_OK);
    return out;
}

/* Partials on disjoint users, merged, equal the whole; a saved table reads back equal. */
static void check_merge_and_save(const gen *g, const persona_cohort_options *o,
                                 const persona_cohort_table *whole, uint64_t seed)
{
    unsigned all = (1u << g->n_users) - 1, part = (unsigned)rnd(all + 1u) & all;
    persona_store *sa = gen_store(g, part), *sb = gen_store(g, all & ~part);
    persona_cohort_table *a = build(sa, o), *b = build(sb, o);
    if (a && b) {
        CHECK_RC(persona_cohort_table_merge(a, b), PERSONA_OK);
        char *x = json(whole), *y = json(a);
        if (!x || !y || strcmp(x, y) != 0) {
            fprintf(stderr, "merge differs from whole: seed %llu part %x\n", (unsigned long long)seed, part);
            show_difference("json", x, y);
        }
        CHECK(x && y && strcmp(x, y) == 0);
        persona_free(x);
        persona_free(y);
    }
    persona_cohort_table_free(a);
    persona_cohort_table_free(b);
    persona_store_free(sa);
    persona_store_free(sb);

    char path[64];
    snprintf(path, sizeof path, "%s/test_cohort_XXXXXX", test_temp_dir());
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_RC(persona_cohort_table_save(whole, path), PERSONA_OK);
    persona_cohort_table *back = NULL;
    CHECK_RC(persona_cohort_table_load(&back, path), PERSONA_OK);
    char *x = json(whole), *y = back ? json(back) : NULL;
    if (!x || !y || strcmp(x, y) != 0)
        fprintf(stderr, "save/load differs: seed %llu\n", (unsigned long long)seed);
    CHECK(x && y && strcmp(x, y) == 0);
    persona_free(x);
    persona_free(y);
    persona_cohort_table_free(back);
    unlink(path);
}

/* A table built early and updated while the rest of the events arrive (in a few
 * batches) equals one built at the end. */
static void check_update(const gen *g, const persona_cohort_options *o,
                         const persona_cohort_table *whole, uint64_t seed)
{
    unsigned all = (1u << g->n_users) - 1;
    persona_store *s = new_seeded_store(11);
    int cut = (int)rnd((uint32_t)g->n + 1);
    if (rnd(2))
        gen_consent(s, g, all);
    gen_ingest(s, g, all, 0, cut);
    persona_cohort_table *t = build(s, o);
    while (t && cut < g->n) {
        int next = cut + 1 + (int)rnd((uint32_t)(g->n - cut));
        gen_ingest(s, g, all, cut, next);
        cut = next;
        CHECK_RC(persona_cohort_table_update(t, s), PERSONA_OK);
    }
    gen_consent(s, g, all);
    if (t)
        CHECK_RC(persona_cohort_table_update(t, s), PERSONA_OK);
    char *x = json(whole), *y = t ? json(t) : NULL;
    if (!x || !y || strcmp(x, y) != 0) {
        fprintf(stderr, "update differs from a build: seed %llu\n%s\n%s\n", (unsigned long long)seed, x, y);
        show_difference("json", x, y);
    }
    CHECK(x && y && strcmp(x, y) == 0);
    persona_free(x);
    persona_free(y);
    persona_cohort_table_free(t);
    persona_store_free(s);
}

/* ---- at most PERSONA_COHORT_MAX_BRACKETS rows of a property cohort ---- */

/* Users u<first> … u<first + n - 1>, each with a value of "ref" of its own. */
static void add_valued_users(persona_store *s, int first, int n)
{
    char name[16], ref[16];
    for (int i = first; i < first + n; i++) {
        snprintf(name, sizeof name, "u%d", i);
        snprintf(ref, sizeof ref, "r%d", i);
        ingest(s, name, T2024 + (int64_t)i * HOUR, "view", NAN, ref);
    }
}

static void test_property_rows_limit(void)
{
    const int max = PERSONA_COHORT_MAX_BRACKETS;
    persona_cohort_options o = PERSONA_COHORT_OPTIONS_INIT;
    o.cohort_by = PERSONA_COHORT_BY_PROPERTY;
    o.cohort_property = "ref";
    persona_store *s = new_seeded_store(4);
    add_valued_users(s, 0, max);
    persona_cohort_table *t = build(s, &o);
    size_t rows = 0;
    CHECK_RC(persona_cohort_table_rows(&rows, t), PERSONA_OK);
    CHECK(rows == (size_t)max);
    /* build: one value more is refused */
    persona_store *s2 = new_seeded_store(4);
    add_valued_users(s2, 0, max + 1);
    expect_bad(s2, &o, PERSONA_EINVAL, "more than the 1024 rows of a property cohort");
    /* merge: a partial with one value more is refused, the table unchanged */
    persona_store *s3 = new_seeded_store(4);
    add_valued_users(s3, max, 1);
    persona_cohort_table *u = build(s3, &o);
    char *before = json(t);
    CHECK_RC(persona_cohort_table_merge(t, u), PERSONA_EINVAL);
    CHECK_MSG("more than the 1024 rows");
    char *after = json(t);
    CHECK(before && after && strcmp(before, after) == 0);
    persona_free(after);
    /* update: a new user with a new value is refused, the table unchanged */
    add_valued_users(s, max, 1);
    CHECK_RC(persona_cohort_table_update(t, s), PERSONA_EINVAL);
    after = json(t);
    CHECK(before && after && strcmp(before, after) == 0);
    persona_free(after);
    persona_free(before);
    persona_cohort_table_free(u);
    persona_cohort_table_free(t);
    persona_store_free(s3);
    persona_store_free(s2);
    persona_store_free(s);
}

static void test_brute_force(int rounds)
{
    for (int i = 0; i < rounds; i++) {
        uint64_t seed = 1000 + (uint64_t)i;
        rng_state = seed;
        gen g;
        make_gen(&g);
        persona_store *s = gen_store(&g, (1u << g.n_users) - 1);
        bf_opts b;
        random_opts(&b);
        persona_cohort_table *t = NULL;
        int rc = persona_cohort_build(&t, s, &b.o);
        if (rc != PERSONA_OK)
            fprintf(stderr, "seed %llu: build failed: %s\n", (unsigned long long)seed, persona_errmsg());
        CHECK(rc == PERSONA_OK);
        if (t && b.o.kind == PERSONA_COHORT_RETENTION)
            compare_retention(&g, &b.o, t, seed);
        else if (t)
            compare_activity(&g, &b.o, t, seed);
        if (t)
            check_merge_and_save(&g, &b.o, t, seed);
        if (t)
            check_update(&g, &b.o, t, seed);
        if (t) { /* the same table for any number of threads */
            persona_cohort_options o3 = b.o;
            o3.threads = 1 + (int32_t)rnd(4);
            persona_cohort_table *t3 = build(s, &o3);
            char *x = json(t), *y = t3 ? json(t3) : NULL;
            if (!x || !y || strcmp(x, y) != 0)
                fprintf(stderr, "seed %llu: %d threads give another table\n",
                        (unsigned long long)seed, (int)o3.threads);
            CHECK(x && y && strcmp(x, y) == 0);
            persona_free(x);
            persona_free(y);
            persona_cohort_table_free(t3);
        }
        persona_cohort_table_free(t);
        persona_store_free(s);
    }
}

int main(void)
{
    test_example();
    test_bad_options();
    test_property_rows_limit();
    const char *rounds = getenv("COHORT_ROUNDS"); /* more for a longer campaign */
    test_brute_force(rounds ? atoi(rounds) : 500);
    return check_report("test_cohort");
}
