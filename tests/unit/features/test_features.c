/* Feature matrices (features.h, docs/features.md): a hand-worked store with every term's
 * exact values, log1p / slog1p, the missing-value fill, standardization, one-hot levels
 * and `other`, views, as_of, transform() of users old and new, every parse error with its
 * position, every API error; and a brute-force check on random stores against values
 * computed here through the store's public per-user API. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store_check.h"

/* log1p at run time, as the library calls it (the compiler folds constant calls with a
 * correctly rounded log1p that can differ from libm's in the last bit). */
static double rt_log1p(double v)
{
    volatile double x = v;
    return log1p(x);
}

#define T0 INT64_C(1717200000000) /* 2024-06-01 00:00 UTC */
#define DAY INT64_C(86400000)

static void ingest(persona_store *s, const char *user, int64_t t, const char *type, double value,
                   const char *basket, const char *category, const char *referrer)
{
    persona_event e = ev(user, t, type, value);
    const char *names[2], *values[2];
    size_t np = 0;
    if (category) {
        names[np] = "category";
        values[np++] = category;
    }
    if (referrer) {
        names[np] = "referrer";
        values[np++] = referrer;
    }
    e.basket = basket;
    e.prop_names = names;
    e.prop_values = values;
    e.n_props = np;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
}

/* a: view (shoes) at T0, purchases 10 (o1) at +1d and 20 (o2, referrer google) at +2d;
 *    age 30, country DE, vip true, signup T0 - 10d.
 * b: view (shoes, referrer bing) at +3d; country FR, age 50.
 * c: purchase 5 (o3) at +4d; country DE, vip false, note "x" (a string).
 * d: no events; country US. */
static persona_store *hand_store(void)
{
    persona_store *s = new_seeded_store(7);
    ingest(s, "a", T0, "view", NAN, NULL, "shoes", NULL);
    ingest(s, "a", T0 + DAY, "purchase", 10, "o1", NULL, NULL);
    ingest(s, "a", T0 + 2 * DAY, "purchase", 20, "o2", NULL, "google");
    ingest(s, "b", T0 + 3 * DAY, "view", NAN, NULL, "shoes", "bing");
    ingest(s, "c", T0 + 4 * DAY, "purchase", 5, "o3", NULL, NULL);
    CHECK_RC(persona_store_attr_set_num(s, "a", "age", 30), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "a", "country", "DE"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_bool(s, "a", "vip", 1), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_time(s, "a", "signup", T0 - 10 * DAY), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "b", "country", "FR"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_num(s, "b", "age", 50), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "c", "country", "DE"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_bool(s, "c", "vip", 0), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "c", "note", "x"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "d", "country", "US"), PERSONA_OK);
    return s;
}

static persona_features *build(const persona_store *s, const char *spec, uint32_t flags,
                               int64_t as_of, uint32_t levels)
{
    persona_features_options o = PERSONA_FEATURES_OPTIONS_INIT;
    o.flags = flags;
    o.as_of_ms = as_of;
    o.max_levels = levels;
    persona_features *f = NULL;
    CHECK_RC(persona_features_build(&f, s, spec, &o), PERSONA_OK);
    return f;
}

static persona_features_info info_of(const persona_features *f)
{
    persona_features_info in = PERSONA_FEATURES_INFO_INIT;
    CHECK_RC(persona_features_info_get(&in, f), PERSONA_OK);
    return in;
}

static double *matrix_of(const persona_features *f, size_t *n, size_t *d)
{
    persona_features_info in = info_of(f);
    *n = in.n;
    *d = in.d;
    double *x = malloc((in.n * in.d + 1) * sizeof *x);
    CHECK_RC(persona_features_matrix(x, in.n * in.d, f), PERSONA_OK);
    return x;
}

static void check_column_names(const persona_features *f, const char *const *want, size_t d)
{
    CHECK(info_of(f).d == d);
    for (size_t j = 0; j < d; j++) {
        char buf[256];
        CHECK_RC(persona_features_column_name(buf, sizeof buf, NULL, f, j), PERSONA_OK);
        CHECK_STR(buf, want[j]);
    }
}

/* Every term, raw, against the hand-worked values above (rows a, b, c, d). */
static void test_terms_raw(void)
{
    persona_store *s = hand_store();
    const char *spec =
        "events, sessions, orders, value_sum, event_types, attributes, recency_days, "
        "tenure_days, count(purchase), value(purchase), count(\"no such\"), attr(age), "
        "attr(vip), attr(signup), attr(missing), engagement(shoes), engagement(hats), "
        "onehot(attr(country), 2), onehot(last(referrer)), log1p(value(purchase)), "
        "slog1p(orders) as so";
    persona_features *f = build(s, spec, PERSONA_FEATURES_RAW, 0, 0);
    static const char *const names[] = {
        "events", "sessions", "orders", "value_sum", "event_types", "attributes",
        "recency_days", "tenure_days", "count(purchase)", "value(purchase)", "count(no such)",
        "attr(age)", "attr(vip)", "attr(signup)", "attr(missing)", "engagement(shoes)",
        "engagement(hats)", "attr(country)=DE", "attr(country)=FR", "attr(country)=other",
        "last(referrer)=bing", "last(referrer)=google", "last(referrer)=other",
        "log1p(value(purchase))", "so",
    };
    size_t d0 = sizeof names / sizeof names[0];
    check_column_names(f, names, d0);
    persona_features_info in = info_of(f);
    CHECK(in.n == 4 && in.views == 1 && in.as_of_ms == T0 + 4 * DAY);
    CHECK(in.flags == PERSONA_FEATURES_RAW);
    const char *users[] = { "a", "b", "c", "d" };
    for (size_t i = 0; i < 4; i++) {
        char buf[8];
        size_t len = 0;
        CHECK_RC(persona_features_user_at(buf, sizeof buf, &len, f, i), PERSONA_OK);
        CHECK_STR(buf, users[i]);
        CHECK(len == 1);
    }
    double ea = 0, eb = 0;
    CHECK_RC(persona_store_profile_engagement(&ea, s, "a", "shoes", T0 + 4 * DAY), PERSONA_OK);
    CHECK_RC(persona_store_profile_engagement(&eb, s, "b", "shoes", T0 + 4 * DAY), PERSONA_OK);
    CHECK(ea > 0.9 && ea < 1 && eb > ea && eb < 1);
    const double want[4][25] = {
        { 3, 3, 2, 30, 2, 4, 2, 4, 2, 30, 0, 30, 1, 14, 0, ea, 0, 1, 0, 0, 0, 1, 0, rt_log1p(30),
          rt_log1p(2) },
        { 1, 1, 0, 0, 1, 2, 1, 1, 0, 0, 0, 50, 0.5, 14, 0, eb, 0, 0, 1, 0, 1, 0, 0, 0, 0 },
        { 1, 1, 1, 5, 1, 3, 0, 0, 1, 5, 0, 40, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, rt_log1p(5),
          rt_log1p(1) },
        { 0, 0, 0, 0, 0, 1, 1, 5.0 / 3, 0, 0, 0, 40, 0.5, 14, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 },
    };
    size_t n, d;
    double *x = matrix_of(f, &n, &d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            if (x[i * d + j] != want[i][j]) {
                CHECK(0);
                fprintf(stderr, "  row %zu column %zu: %.17g, want %.17g\n", i, j, x[i * d + j],
                        want[i][j]);
            }
    /* the fill of recency (d has no events): the mean of 2, 1, 0 */
    persona_features_column c = PERSONA_FEATURES_COLUMN_INIT;
    CHECK_RC(persona_features_column_get(&c, f, 6), PERSONA_OK);
    CHECK(c.present == 3 && c.fill == 1 && c.mean == 0 && c.sd == 1 && c.standardized == 0);
    CHECK(c.transform == PERSONA_FEATURES_IDENTITY && c.view == 0);
    CHECK_RC(persona_features_column_get(&c, f, 11), PERSONA_OK); /* age: 30, 50 */
    CHECK(c.present == 2 && c.fill == 40);
    CHECK_RC(persona_features_column_get(&c, f, 14), PERSONA_OK); /* nobody: fill 0 */
    CHECK(c.present == 0 && c.fill == 0);
    CHECK_RC(persona_features_column_get(&c, f, 23), PERSONA_OK);
    CHECK(c.transform == PERSONA_FEATURES_LOG1P);
    CHECK_RC(persona_features_column_get(&c, f, 24), PERSONA_OK);
    CHECK(c.transform == PERSONA_FEATURES_SLOG1P);
    CHECK_RC(persona_features_column_get(&c, f, 17), PERSONA_OK); /* one-hot: everyone */
    CHECK(c.present == 4);
    /* transform() of each user gives its row */
    double row[25];
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(persona_features_transform(row, 25, f, s, users[i]), PERSONA_OK);
        CHECK(memcmp(row, x + i * d, d * sizeof *row) == 0);
    }
    free(x);
    persona_features_free(f);

    /* the default levels (10): DE, FR, US named (by count, then name) and `other` */
    f = build(s, "onehot(attr(country)) as cc", PERSONA_FEATURES_RAW, 0, 0);
    static const char *const cc[] = { "cc=DE", "cc=FR", "cc=US", "cc=other" };
    check_column_names(f, cc, 4);
    x = matrix_of(f, &n, &d);
    static const double want_cc[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0 };
    CHECK(memcmp(x, want_cc, sizeof want_cc) == 0);
    free(x);
    persona_features_free(f);
    /* the options' max_levels: 1 → DE and other */
    f = build(s, "onehot(attr(country))", PERSONA_FEATURES_RAW, 0, 1);
    static const char *const c1[] = { "attr(country)=DE", "attr(country)=other" };
    check_column_names(f, c1, 2);
    persona_features_free(f);
    persona_store_free(s);
}

/* Standardization: z-scores with the population sd; a column without spread gives 0; raw()
 * exempts a column; the kept mean and sd. */
static void test_standardize(void)
{
    persona_store *s = hand_store();
    persona_features *f =
        build(s, "value(purchase), count(\"no such\"), raw(attr(age)) as age_raw, attr(age)", 0, 0, 0);
    size_t n, d;
    double *x = matrix_of(f, &n, &d);
    CHECK(n == 4 && d == 4);
    /* value(purchase) = 30, 0, 5, 0: mean 8.75, sd sqrt(((21.25)^2 + 8.75^2 + 3.75^2 +
     * 8.75^2) / 4) */
    double mean = 8.75, sd = sqrt((21.25 * 21.25 + 8.75 * 8.75 + 3.75 * 3.75 + 8.75 * 8.75) / 4);
    const double v[4] = { 30, 0, 5, 0 };
    for (size_t i = 0; i < 4; i++)
        CHECK_NEAR(x[i * d], (v[i] - mean) / sd, 1e-15);
    persona_features_column c = PERSONA_FEATURES_COLUMN_INIT;
    CHECK_RC(persona_features_column_get(&c, f, 0), PERSONA_OK);
    CHECK(c.standardized == 1 && c.mean == mean);
    CHECK_NEAR(c.sd, sd, 1e-15);
    for (size_t i = 0; i < 4; i++)
        CHECK(x[i * d + 1] == 0); /* no spread */
    CHECK_RC(persona_features_column_get(&c, f, 1), PERSONA_OK);
    CHECK(c.sd == 0 && c.mean == 0);
    /* age 30, 50, fill 40, 40: raw, then z = -1/sqrt(.5)… sd = sqrt((100+100)/4) */
    const double age[4] = { 30, 50, 40, 40 };
    for (size_t i = 0; i < 4; i++) {
        CHECK(x[i * d + 2] == age[i]);
        CHECK_NEAR(x[i * d + 3], (age[i] - 40) / sqrt(50), 1e-15);
    }
    CHECK_RC(persona_features_column_get(&c, f, 2), PERSONA_OK);
    CHECK(c.standardized == 0 && c.sd == 1 && c.fill == 40);
    double row[4];
    const char *users[] = { "a", "b", "c", "d" };
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(persona_features_transform(row, 4, f, s, users[i]), PERSONA_OK);
        CHECK(memcmp(row, x + i * d, d * sizeof *row) == 0);
    }
    free(x);
    /* a user added later: transformed with the kept fill, mean and sd and levels */
    ingest(s, "e", T0 + 5 * DAY, "purchase", 100, NULL, NULL, NULL);
    CHECK_RC(persona_features_transform(row, 4, f, s, "e"), PERSONA_OK);
    CHECK_NEAR(row[0], (100 - mean) / sd, 1e-15);
    CHECK(row[1] == 0 && row[2] == 40 && row[3] == 0);
    persona_features_free(f);
    f = build(s, "onehot(attr(country), 2), recency_days", 0, 0, 0);
    CHECK_RC(persona_store_attr_set_str(s, "e", "country", "JP"), PERSONA_OK);
    CHECK_RC(persona_features_transform(row, 4, f, s, "e"), PERSONA_OK);
    persona_features_column c0 = PERSONA_FEATURES_COLUMN_INIT, c2 = PERSONA_FEATURES_COLUMN_INIT;
    CHECK_RC(persona_features_column_get(&c0, f, 0), PERSONA_OK);
    CHECK_RC(persona_features_column_get(&c2, f, 2), PERSONA_OK);
    CHECK_NEAR(row[0], (0 - c0.mean) / c0.sd, 1e-15);
    CHECK_NEAR(row[2], (1 - c2.mean) / c2.sd, 1e-15); /* JP is not a level: other */
    persona_features_free(f);
    persona_store_free(s);
}

/* Views, aliases, as_of. */
static void test_views_as_of(void)
{
    persona_store *s = hand_store();
    persona_features *f = build(s, "behaviour: events, sessions; \"the money\": value(purchase) "
                                   "as spend, orders, onehot(last(referrer)) as ref;",
                                0, 0, 0);
    persona_features_info in = info_of(f);
    CHECK(in.views == 2 && in.d == 7);
    char buf[32];
    size_t first = 9, count = 9, len = 0;
    CHECK_RC(persona_features_view_name(buf, sizeof buf, &len, f, 0), PERSONA_OK);
    CHECK_STR(buf, "behaviour");
    CHECK_RC(persona_features_view_columns(&first, &count, f, 0), PERSONA_OK);
    CHECK(first == 0 && count == 2);
    CHECK_RC(persona_features_view_name(buf, sizeof buf, &len, f, 1), PERSONA_OK);
    CHECK_STR(buf, "the money");
    CHECK(len == 9);
    CHECK_RC(persona_features_view_columns(&first, &count, f, 1), PERSONA_OK);
    CHECK(first == 2 && count == 5);
    static const char *const names[] = { "events", "sessions", "spend", "orders", "ref=bing",
                                         "ref=google", "ref=other" };
    check_column_names(f, names, 7);
    persona_features_column c = PERSONA_FEATURES_COLUMN_INIT;
    CHECK_RC(persona_features_column_get(&c, f, 5), PERSONA_OK);
    CHECK(c.view == 1);
    CHECK_RC(persona_features_view_columns(NULL, NULL, f, 1), PERSONA_OK);
    persona_features_free(f);
    /* no names: one view "all" */
    f = build(s, "events", 0, 0, 0);
    CHECK_RC(persona_features_view_name(buf, sizeof buf, NULL, f, 0), PERSONA_OK);
    CHECK_STR(buf, "all");
    persona_features_free(f);
    /* as_of: recency, tenure, time attributes and engagement measured at T0 + 10d */
    f = build(s, "recency_days, tenure_days, attr(signup), engagement(shoes)",
              PERSONA_FEATURES_RAW, T0 + 10 * DAY, 0);
    CHECK(info_of(f).as_of_ms == T0 + 10 * DAY);
    size_t n, d;
    double *x = matrix_of(f, &n, &d);
    CHECK(x[0] == 8 && x[1] == 10 && x[2] == 20);
    double e = 0;
    CHECK_RC(persona_store_profile_engagement(&e, s, "a", "shoes", T0 + 10 * DAY), PERSONA_OK);
    CHECK(x[3] == e);
    CHECK_RC(persona_store_profile_engagement(&e, s, "b", "shoes", T0 + 10 * DAY), PERSONA_OK);
    CHECK(x[d + 3] == e);
    free(x);
    persona_features_free(f);
    /* a store without events: as_of 0, everyone missing recency */
    persona_store *empty = new_seeded_store(1);
    CHECK_RC(persona_store_attr_set_num(empty, "z", "age", 3), PERSONA_OK);
    f = build(empty, "recency_days, attr(age)", 0, 0, 0);
    in = info_of(f);
    CHECK(in.n == 1 && in.as_of_ms == 0);
    x = matrix_of(f, &n, &d);
    CHECK(x[0] == 0 && x[1] == 0);
    free(x);
    persona_features_free(f);
    persona_store_free(empty);
    /* no profiles at all: n = 0 */
    empty = new_seeded_store(1);
    f = build(empty, "events", 0, 0, 0);
    CHECK(info_of(f).n == 0 && info_of(f).d == 1);
    CHECK_RC(persona_features_matrix(NULL, 0, f), PERSONA_OK);
    persona_features_free(f);
    persona_store_free(empty);
    persona_store_free(s);
}

/* Parse errors: position and message. */
static void test_parse_errors(void)
{
    persona_store *s = hand_store();
    static const struct {
        const char *spec;
        uint64_t line, col;
        const char *phrase;
    } cases[] = {
        { "", 1, 1, "the spec has no features" },
        { "  # only a comment\n", 2, 1, "the spec has no features" },
        { "events,", 1, 8, "expected a feature, found the end of the spec" },
        { "events sessions", 1, 8, "expected ',' or ';', found 'sessions'" },
        { "evnts", 1, 1, "unknown feature 'evnts'" },
        { "count(", 1, 7, "expected a name, found the end of the spec" },
        { "count(view", 1, 11, "expected ')', found the end of the spec" },
        { "count view", 1, 7, "expected '(', found 'view'" },
        { "count(\"\")", 1, 7, "a name cannot be empty" },
        { "count(\"view)", 1, 7, "string not closed" },
        { "onehot(events)", 1, 8, "expected attr(NAME) or last(PROPERTY), found 'events'" },
        { "onehot(attr(x), 0)", 1, 17, "whole number 1 … 1000" },
        { "onehot(attr(x), 1001)", 1, 17, "whole number 1 … 1000" },
        { "onehot(attr(x), 2.5)", 1, 17, "whole number 1 … 1000" },
        { "onehot(attr(x), 2", 1, 18, "expected ')' or ', LEVELS'" },
        { "log1p(onehot(attr(x)))", 1, 1, "log1p() does not apply to onehot() columns" },
        { "slog1p(onehot(last(x)))", 1, 1, "slog1p() does not apply to onehot() columns" },
        { "log1p(slog1p(events))", 1, 7, "one of log1p and slog1p, once" },
        { "raw(raw(events))", 1, 5, "raw() is given twice" },
        { "events as", 1, 10, "expected a column name after 'as', found the end of the spec" },
        { "events, orders as events", 1, 9, "column 'events' is given twice" },
        { "a: events; a: orders", 1, 12, "view 'a' is given twice" },
        { "events; orders", 1, 9, "a view needs a name when there are several" },
        { "a: events; orders", 1, 12, "a view needs a name when there are several" },
        { "a: ; b: events", 1, 4, "expected a feature, found ';'" },
        { "events\n  , $", 2, 5, "unexpected character '$'" },
        { "a: events,\nb: orders", 2, 1, "view 'b' starts here: end the view before with ';'" },
        { "events = 1", 1, 8, "'=' is not an operator" },
        { "count('x')", 1, 7, "double quotes" },
        { "5", 1, 1, "expected a feature, found '5'" },
        { "log1p events", 1, 7, "expected '(', found 'events'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        persona_features *f = (persona_features *)s;
        int rc = persona_features_build(&f, s, cases[i].spec, NULL);
        uint64_t line = 0, col = 0;
        CHECK_RC(rc, PERSONA_EPARSE);
        CHECK(f == NULL);
        CHECK_RC(persona_error_position(&line, &col), PERSONA_OK);
        if (line != cases[i].line || col != cases[i].col || !strstr(persona_errmsg(), cases[i].phrase)) {
            CHECK(0);
            fprintf(stderr, "  spec '%s': %llu:%llu '%s'\n", cases[i].spec,
                    (unsigned long long)line, (unsigned long long)col, persona_errmsg());
        }
        char prefix[64];
        snprintf(prefix, sizeof prefix, "line %llu, column %llu: ",
                 (unsigned long long)cases[i].line, (unsigned long long)cases[i].col);
        CHECK(strncmp(persona_errmsg(), prefix, strlen(prefix)) == 0);
    }
    /* a name longer than PERSONA_MAX_KEY_LEN */
    char *long_spec = malloc(PERSONA_MAX_KEY_LEN + 16);
    strcpy(long_spec, "count(");
    memset(long_spec + 6, 'x', PERSONA_MAX_KEY_LEN + 1);
    strcpy(long_spec + 6 + PERSONA_MAX_KEY_LEN + 1, ")");
    persona_features *f = NULL;
    CHECK_RC(persona_features_build(&f, s, long_spec, NULL), PERSONA_EPARSE);
    CHECK_MSG("longer than 4096 bytes");
    free(long_spec);
    persona_store_free(s);
}

/* API and value errors. */
static void test_errors(void)
{
    persona_store *s = hand_store();
    persona_features *f = (persona_features *)s;
    CHECK_RC(persona_features_build(NULL, s, "events", NULL), PERSONA_EINVAL);
    CHECK_RC(persona_features_build(&f, NULL, "events", NULL), PERSONA_EINVAL);
    CHECK(f == NULL);
    CHECK_MSG("store is NULL");
    CHECK_RC(persona_features_build(&f, s, NULL, NULL), PERSONA_EINVAL);
    CHECK_MSG("spec is NULL");
    char *big = malloc(PERSONA_FEATURES_MAX_SPEC + 2);
    memset(big, ' ', PERSONA_FEATURES_MAX_SPEC + 1);
    big[PERSONA_FEATURES_MAX_SPEC + 1] = 0;
    CHECK_RC(persona_features_build(&f, s, big, NULL), PERSONA_EINVAL);
    CHECK_MSG("more than 65536");
    big[PERSONA_FEATURES_MAX_SPEC] = 0; /* exactly the limit: parsed (and empty) */
    CHECK_RC(persona_features_build(&f, s, big, NULL), PERSONA_EPARSE);
    free(big);
    /* options */
    persona_features_options o = PERSONA_FEATURES_OPTIONS_INIT;
    o.struct_size = 0;
    CHECK_RC(persona_features_build(&f, s, "events", &o), PERSONA_EINVAL);
    CHECK_MSG("struct_size");
    o = (persona_features_options)PERSONA_FEATURES_OPTIONS_INIT;
    o.flags = 2;
    CHECK_RC(persona_features_build(&f, s, "events", &o), PERSONA_EUNSUPPORTED);
    CHECK_MSG("unknown flags 0x2");
    o.flags = 0;
    o.as_of_ms = PERSONA_TIME_MAX + 1;
    CHECK_RC(persona_features_build(&f, s, "events", &o), PERSONA_EINVAL);
    CHECK_MSG("as_of_ms");
    o.as_of_ms = PERSONA_TIME_MAX;
    CHECK_RC(persona_features_build(&f, s, "events", &o), PERSONA_OK);
    persona_features_free(f);
    o.as_of_ms = 0;
    o.max_levels = PERSONA_FEATURES_MAX_LEVELS + 1;
    CHECK_RC(persona_features_build(&f, s, "events", &o), PERSONA_EINVAL);
    CHECK_MSG("max_levels 1001");
    o.max_levels = 0;
    o.reserved = 1;
    CHECK_RC(persona_features_build(&f, s, "events", &o), PERSONA_EINVAL);
    CHECK_MSG("reserved");
    CHECK_RC(persona_features_options_init(NULL, sizeof o), PERSONA_EINVAL);
    CHECK_RC(persona_features_options_init(&o, 2), PERSONA_EINVAL);
    /* values */
    CHECK_RC(persona_features_build(&f, s, "attr(country)", NULL), PERSONA_EINVAL);
    CHECK_MSG("feature 'attr(country)', user 'a': the attribute is a string");
    CHECK(f == NULL);
    CHECK_RC(persona_features_build(&f, s, "onehot(attr(age))", NULL), PERSONA_EINVAL);
    CHECK_MSG("feature 'attr(age)', user 'a': the attribute is not a string");
    ingest(s, "r", T0, "purchase", -3, NULL, NULL, NULL);
    CHECK_RC(persona_features_build(&f, s, "events, log1p(value(purchase))", NULL), PERSONA_EINVAL);
    CHECK_MSG("feature 'log1p(value(purchase))', user 'r': a negative value under log1p");
    f = build(s, "slog1p(value(purchase))", PERSONA_FEATURES_RAW, 0, 0);
    size_t n, d;
    double *x = matrix_of(f, &n, &d);
    CHECK(n == 5 && x[4] == -rt_log1p(3) && x[0] == rt_log1p(30));
    free(x);
    persona_features_free(f);
    CHECK_RC(persona_store_attr_set_num(s, "a", "big", 1e308), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_num(s, "b", "big", -1e308), PERSONA_OK);
    CHECK_RC(persona_features_build(&f, s, "attr(big)", NULL), PERSONA_EINVAL);
    CHECK_MSG("column 'attr(big)': the values are too large");
    /* two columns of one name (a level and an alias) */
    CHECK_RC(persona_features_build(&f, s, "events as \"attr(country)=DE\", onehot(attr(country))",
                                    NULL), PERSONA_EINVAL);
    CHECK_MSG("two columns are named 'attr(country)=DE'");
    /* more than 4096 columns: 4097 terms */
    size_t cap = 4097 * 16, len = 0;
    char *many = malloc(cap);
    for (int i = 0; i < 4097; i++)
        len += (size_t)snprintf(many + len, cap - len, "%scount(t%d)", i ? "," : "", i);
    CHECK_RC(persona_features_build(&f, s, many, NULL), PERSONA_EINVAL);
    CHECK_MSG("the spec gives 4097 columns, more than 4096");
    many[len - strlen(",count(t4096)")] = 0;
    CHECK_RC(persona_features_build(&f, s, many, NULL), PERSONA_OK);
    CHECK(info_of(f).d == 4096);
    persona_features_free(f);
    free(many);

    /* queries */
    f = build(s, "a: events; b: onehot(attr(country))", 0, 0, 0);
    persona_features_info in = PERSONA_FEATURES_INFO_INIT;
    CHECK_RC(persona_features_info_get(&in, NULL), PERSONA_EINVAL);
    in.struct_size = 3;
    CHECK_RC(persona_features_info_get(&in, f), PERSONA_EINVAL);
    double m[64];
    size_t need = info_of(f).n * info_of(f).d;
    CHECK_RC(persona_features_matrix(m, need - 1, f), PERSONA_EBUFS);
    CHECK_MSG("needs");
    CHECK_RC(persona_features_matrix(NULL, 5, f), PERSONA_EINVAL);
    CHECK_RC(persona_features_matrix(m, 64, NULL), PERSONA_EINVAL);
    char buf[4];
    size_t out_len = 0;
    CHECK_RC(persona_features_column_name(buf, sizeof buf, &out_len, f, 1), PERSONA_EBUFS);
    CHECK(out_len == strlen("attr(country)=DE") && buf[0] == 0);
    CHECK_RC(persona_features_column_name(buf, sizeof buf, NULL, f, 99), PERSONA_ENOTFOUND);
    CHECK_RC(persona_features_column_name(buf, sizeof buf, NULL, NULL, 0), PERSONA_EINVAL);
    persona_features_column c = PERSONA_FEATURES_COLUMN_INIT;
    CHECK_RC(persona_features_column_get(&c, f, 99), PERSONA_ENOTFOUND);
    CHECK_RC(persona_features_column_get(&c, NULL, 0), PERSONA_EINVAL);
    c.struct_size = 0;
    CHECK_RC(persona_features_column_get(&c, f, 0), PERSONA_EINVAL);
    CHECK_RC(persona_features_view_name(buf, sizeof buf, NULL, f, 2), PERSONA_ENOTFOUND);
    CHECK_RC(persona_features_view_name(buf, sizeof buf, NULL, NULL, 0), PERSONA_EINVAL);
    CHECK_RC(persona_features_view_name(buf, 1, &out_len, f, 0), PERSONA_EBUFS);
    CHECK(out_len == 1);
    CHECK_RC(persona_features_view_columns(NULL, NULL, f, 2), PERSONA_ENOTFOUND);
    CHECK_RC(persona_features_view_columns(NULL, NULL, NULL, 0), PERSONA_EINVAL);
    CHECK_RC(persona_features_user_at(buf, sizeof buf, NULL, f, 99), PERSONA_ENOTFOUND);
    CHECK_RC(persona_features_user_at(buf, sizeof buf, NULL, NULL, 0), PERSONA_EINVAL);
    CHECK_RC(persona_features_user_at(buf, 1, &out_len, f, 0), PERSONA_EBUFS);
    double row[8];
    CHECK_RC(persona_features_transform(row, 8, f, s, "nobody"), PERSONA_ENOTFOUND);
    CHECK_MSG("no user 'nobody'");
    CHECK_RC(persona_features_transform(row, 8, f, s, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_features_transform(row, 1, f, s, "a"), PERSONA_EBUFS);
    CHECK_RC(persona_features_transform(NULL, 8, f, s, "a"), PERSONA_EINVAL);
    CHECK_RC(persona_features_transform(row, 8, NULL, s, "a"), PERSONA_EINVAL);
    CHECK_RC(persona_features_transform(row, 8, f, NULL, "a"), PERSONA_EINVAL);
    CHECK_RC(persona_store_attr_set_num(s, "r", "country", 4), PERSONA_OK);
    CHECK_RC(persona_features_transform(row, 8, f, s, "r"), PERSONA_EINVAL);
    CHECK_MSG("user 'r': the attribute is not a string");
    persona_features_free(f);
    persona_features_free(NULL);
    persona_store_free(s);
}

/* ---- brute force on random stores ------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

static const char *const TYPES[] = { "view", "cart", "purchase", "refund" };
static const char *const CATS[] = { "shoes", "hats", "bags" };
static const char *const REFS[] = { "google", "bing", "mail", "direct", "ads" };
static const char *const COUNTRIES[] = { "DE", "FR", "US", "JP", "IT", "ES" };

#define BF_SPEC                                                                             \
    "b: events, sessions, orders, value_sum, event_types, attributes, recency_days, "      \
    "tenure_days; t: count(view), value(purchase), count(refund), value(nothing), "        \
    "slog1p(value(refund)), log1p(count(cart)); d: attr(age), attr(vip), attr(born), "     \
    "onehot(attr(country), 3), onehot(last(referrer)), engagement(shoes), engagement(bags)"

/* Levels of a one-hot term: the values with counts, most frequent first, ties by name. */
typedef struct lv {
    char s[32];
    int count;
} lv;
static int cmp_lv(const void *a, const void *b)
{
    const lv *x = a, *y = b;
    return x->count != y->count ? y->count - x->count : strcmp(x->s, y->s);
}

/* One user's raw values, computed through the public per-user API. */
static void expected_row(const persona_store *s, const char *u, int64_t as_of, const lv *cl,
                         int ncl, const lv *rl, int nrl, double *row)
{
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&p, s, u), PERSONA_OK);
    size_t j = 0;
    row[j++] = (double)p.events;
    row[j++] = (double)p.sessions;
    row[j++] = (double)p.orders;
    row[j++] = p.value_sum;
    row[j++] = (double)p.event_types;
    row[j++] = (double)p.attributes;
    row[j++] = p.events ? (double)(as_of - p.last_seen_ms) / 86400000.0 : NAN;
    row[j++] = p.events ? (double)(as_of - p.first_seen_ms) / 86400000.0 : NAN;
    uint64_t cnt;
    double val;
    CHECK_RC(persona_store_profile_type(&cnt, NULL, s, u, "view"), PERSONA_OK);
    row[j++] = (double)cnt;
    CHECK_RC(persona_store_profile_type(NULL, &val, s, u, "purchase"), PERSONA_OK);
    row[j++] = val;
    CHECK_RC(persona_store_profile_type(&cnt, &val, s, u, "refund"), PERSONA_OK);
    row[j++] = (double)cnt;
    row[j++] = 0; /* value(nothing) */
    row[j++] = val < 0 ? -rt_log1p(-val) : rt_log1p(val);
    CHECK_RC(persona_store_profile_type(&cnt, NULL, s, u, "cart"), PERSONA_OK);
    row[j++] = rt_log1p((double)cnt);
    double num;
    int32_t b;
    int64_t t;
    row[j++] = persona_store_attr_get_num(&num, s, u, "age") == PERSONA_OK ? num : NAN;
    row[j++] = persona_store_attr_get_bool(&b, s, u, "vip") == PERSONA_OK ? b : NAN;
    row[j++] = persona_store_attr_get_time(&t, s, u, "born") == PERSONA_OK
                   ? (double)(as_of - t) / 86400000.0
                   : NAN;
    char str[64];
    int k = 3 < ncl ? 3 : ncl;
    int have = persona_store_attr_get_str(str, sizeof str, NULL, s, u, "country") == PERSONA_OK;
    int hit = 0;
    for (int i = 0; i < k; i++) {
        row[j + i] = have && strcmp(str, cl[i].s) == 0;
        hit |= have && strcmp(str, cl[i].s) == 0;
    }
    row[j + k] = have && !hit;
    j += k + 1;
    k = 10 < nrl ? 10 : nrl;
    have = persona_store_profile_last(str, sizeof str, NULL, NULL, s, u, "referrer") == PERSONA_OK;
    hit = 0;
    for (int i = 0; i < k; i++) {
        row[j + i] = have && strcmp(str, rl[i].s) == 0;
        hit |= have && strcmp(str, rl[i].s) == 0;
    }
    row[j + k] = have && !hit;
    j += k + 1;
    CHECK_RC(persona_store_profile_engagement(&row[j++], s, u, "shoes", as_of), PERSONA_OK);
    CHECK_RC(persona_store_profile_engagement(&row[j++], s, u, "bags", as_of), PERSONA_OK);
}

static int count_level(lv *l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(l[i].s, s) == 0) {
            l[i].count++;
            return n;
        }
    snprintf(l[n].s, sizeof l[n].s, "%s", s);
    l[n].count = 1;
    return n + 1;
}

static void test_brute_force(uint64_t seed)
{
    rng_state = seed;
    persona_store *s = new_seeded_store(seed);
    int users = 20 + (int)rnd(60);
    char key[16];
    for (int e = 0; e < users * 4; e++) {
        snprintf(key, sizeof key, "u%d", (int)rnd((uint32_t)users));
        const char *type = TYPES[rnd(4)];
        double v = rnd(3) ? (double)rnd(1000) / 8 : NAN;
        if (strcmp(type, "refund") == 0 && !isnan(v))
            v = -v;
        char basket[8];
        snprintf(basket, sizeof basket, "o%u", rnd(30));
        ingest(s, key, T0 + (int64_t)rnd(90) * DAY / 3 + rnd(4000000), type, v,
               rnd(2) ? basket : NULL, rnd(2) ? CATS[rnd(3)] : NULL,
               rnd(3) ? NULL : REFS[rnd(5)]);
    }
    for (int u = 0; u < users + 5; u++) { /* some users with attributes only */
        snprintf(key, sizeof key, "u%d", u);
        if (rnd(3) == 0)
            CHECK_RC(persona_store_attr_set_num(s, key, "age", 18 + rnd(60)), PERSONA_OK);
        if (rnd(3) == 0)
            CHECK_RC(persona_store_attr_set_bool(s, key, "vip", (int32_t)rnd(2)), PERSONA_OK);
        if (rnd(4) == 0)
            CHECK_RC(persona_store_attr_set_null(s, key, "vip"), PERSONA_OK);
        if (rnd(3) == 0)
            CHECK_RC(persona_store_attr_set_time(s, key, "born", T0 - (int64_t)rnd(20000) * DAY),
                     PERSONA_OK);
        if (rnd(2) == 0)
            CHECK_RC(persona_store_attr_set_str(s, key, "country", COUNTRIES[rnd(6)]), PERSONA_OK);
    }
    int64_t as_of = rnd(2) ? 0 : T0 + 100 * DAY;
    persona_features *raw = build(s, BF_SPEC, PERSONA_FEATURES_RAW, as_of, 0);
    persona_features *std = build(s, BF_SPEC, 0, as_of, 0);
    persona_store_info si = PERSONA_STORE_INFO_INIT;
    CHECK_RC(persona_store_info_get(&si, s), PERSONA_OK);
    if (!as_of)
        as_of = si.last_time_ms;
    size_t n, d;
    double *x = matrix_of(raw, &n, &d), *z = matrix_of(std, &n, &d);
    CHECK(n == si.users);
    /* the levels, counted here */
    lv cl[8], rl[8];
    int ncl = 0, nrl = 0;
    char str[64];
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(persona_store_user_at(key, sizeof key, NULL, s, i), PERSONA_OK);
        if (persona_store_attr_get_str(str, sizeof str, NULL, s, key, "country") == PERSONA_OK)
            ncl = count_level(cl, ncl, str);
        if (persona_store_profile_last(str, sizeof str, NULL, NULL, s, key, "referrer") == PERSONA_OK)
            nrl = count_level(rl, nrl, str);
    }
    qsort(cl, (size_t)ncl, sizeof *cl, cmp_lv);
    qsort(rl, (size_t)nrl, sizeof *rl, cmp_lv);
    size_t want_d = 14 + 3 + (size_t)(ncl < 3 ? ncl : 3) + 1 + (size_t)nrl + 1 + 2;
    CHECK(d == want_d);
    double *want = calloc(n * d + 1, sizeof *want);
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(persona_store_user_at(key, sizeof key, NULL, s, i), PERSONA_OK);
        char got_key[16];
        CHECK_RC(persona_features_user_at(got_key, sizeof got_key, NULL, raw, i), PERSONA_OK);
        CHECK_STR(got_key, key);
        expected_row(s, key, as_of, cl, ncl, rl, nrl, want + i * d);
    }
    int bad = 0;
    for (size_t j = 0; j < d; j++) {
        /* fill: the mean of the present values; then z-scores */
        double sum = 0;
        size_t present = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(want[i * d + j])) {
                sum += want[i * d + j];
                present++;
            }
        double fill = present ? sum / (double)present : 0;
        persona_features_column c = PERSONA_FEATURES_COLUMN_INIT;
        CHECK_RC(persona_features_column_get(&c, raw, j), PERSONA_OK);
        CHECK(c.present == present);
        CHECK_NEAR(c.fill, fill, 1e-9 * (1 + fabs(fill)));
        double ss = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(want[i * d + j]))
                want[i * d + j] = c.fill;
            ss += (want[i * d + j] - c.fill) * (want[i * d + j] - c.fill);
            if (x[i * d + j] != want[i * d + j] && bad++ < 5)
                fprintf(stderr, "  seed %llu row %zu column %zu: %.17g, want %.17g\n",
                        (unsigned long long)seed, i, j, x[i * d + j], want[i * d + j]);
        }
        double sd = sqrt(ss / (double)n);
        for (size_t i = 0; i < n; i++) {
            double zz = sd > 1e-12 ? (want[i * d + j] - c.fill) / sd : 0;
            if (!(fabs(z[i * d + j] - zz) <= 1e-9) && bad++ < 5)
                fprintf(stderr, "  seed %llu row %zu column %zu: z %.17g, want %.17g\n",
                        (unsigned long long)seed, i, j, z[i * d + j], zz);
        }
    }
    CHECK(bad == 0);
    /* transform() of every user is its row */
    double *row = malloc(d * sizeof *row);
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(persona_store_user_at(key, sizeof key, NULL, s, i), PERSONA_OK);
        CHECK_RC(persona_features_transform(row, d, std, s, key), PERSONA_OK);
        CHECK(memcmp(row, z + i * d, d * sizeof *row) == 0);
    }
    free(row);
    free(want);
    free(x);
    free(z);
    persona_features_free(raw);
    persona_features_free(std);
    persona_store_free(s);
}

/* The matrix feeds k-means; transformed rows predict the fitted labels. */
static void test_kmeans_roundtrip(void)
{
    persona_store *s = hand_store();
    persona_features *f = build(s, "log1p(events), value(purchase), onehot(attr(country))", 0, 0, 0);
    size_t n, d;
    double *x = matrix_of(f, &n, &d);
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = 2;
    persona_kmeans *m = NULL;
    uint32_t labels[4], got;
    CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, labels), PERSONA_OK);
    double row[16];
    const char *users[] = { "a", "b", "c", "d" };
    for (size_t i = 0; i < n; i++) {
        CHECK_RC(persona_features_transform(row, 16, f, s, users[i]), PERSONA_OK);
        CHECK_RC(persona_kmeans_predict(&got, NULL, m, row, 1, d), PERSONA_OK);
        CHECK(got == labels[i]);
    }
    persona_kmeans_free(m);
    free(x);
    persona_features_free(f);
    persona_store_free(s);
}

int main(void)
{
    test_terms_raw();
    test_standardize();
    test_views_as_of();
    test_parse_errors();
    test_errors();
    for (uint64_t seed = 1; seed <= 20; seed++)
        test_brute_force(seed);
    test_kmeans_roundtrip();
    return check_report("test_features");
}
