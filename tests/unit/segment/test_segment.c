/* Segment models on hand-worked stores: every function's value at its window edges, the
 * missing-value rules, sequences with negations, out-of-order arrivals, identities, list
 * segments, modes, explanations, scans at any thread count, save/load, and the per-store
 * name cache. The random comparison against a brute-force evaluator is
 * test_rule_reference.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "store_check.h"

#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000) /* 2024-01-01 00:00 UTC */

static void add_basket(persona_store *s, const char *user, int64_t t, const char *type,
                       double v, const char *basket, const char *category)
{
    persona_event e = ev(user, t, type, v);
    e.basket = basket;
    const char *names[1] = { "category" }, *values[1] = { category };
    if (category) {
        e.prop_names = names;
        e.prop_values = values;
        e.n_props = 1;
    }
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
}

static persona_eval_context at(int64_t now)
{
    persona_eval_context c = PERSONA_EVAL_CONTEXT_INIT;
    c.now_ms = now;
    return c;
}

/* Truth of one rule for one user at a time (-1 when it does not compile). */
static int truth_ctx(persona_store *s, const char *user, const char *rule,
                     const persona_eval_context *c)
{
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    if (persona_segment_model_add_rule(m, "r", rule, strlen(rule))) {
        fprintf(stderr, "rule does not compile: %s: %s\n", rule, persona_errmsg());
        persona_segment_model_free(m);
        return -1;
    }
    int32_t r = -1;
    CHECK_RC(persona_segment_model_test(&r, m, 0, s, user, c), PERSONA_OK);
    persona_segment_model_free(m);
    return r;
}

static int truth(persona_store *s, const char *user, const char *rule, int64_t now)
{
    persona_eval_context c = at(now);
    return truth_ctx(s, user, rule, &c);
}

#define IS_TRUE(s, u, rule, now) CHECK(truth((s), (u), (rule), (now)) == 1)
#define IS_FALSE(s, u, rule, now) CHECK(truth((s), (u), (rule), (now)) == 0)

/* ann: a shopper with a cart sequence, two orders and a login streak. */
static void add_ann(persona_store *s, int reverse)
{
    struct {
        int64_t t;
        const char *type;
        double v;
        const char *basket, *category;
    } evs[] = {
        { T0 + 1 * DAY, "view", NAN, NULL, "shoes" },
        { T0 + 1 * DAY + HOUR, "add_to_cart", NAN, NULL, "shoes" },
        { T0 + 2 * DAY, "purchase", 50, "o1", "shoes" },
        { T0 + 2 * DAY + 10 * 60000, "purchase", 10, "o1", NULL }, /* same order */
        { T0 + 30 * DAY, "purchase", 25.5, "o2", "socks" },
        { T0 + 31 * DAY, "view", NAN, NULL, "hats" },
        { T0 + 31 * DAY + HOUR, "add_to_cart", NAN, NULL, "hats" },
        { T0 + 33 * DAY, "login", NAN, NULL, NULL },
        { T0 + 40 * DAY, "login", NAN, NULL, NULL },
        { T0 + 47 * DAY, "login", NAN, NULL, NULL },
    };
    size_t n = sizeof evs / sizeof evs[0];
    for (size_t k = 0; k < n; k++) {
        size_t i = reverse ? n - 1 - k : k;
        add_basket(s, "ann", evs[i].t, evs[i].type, evs[i].v, evs[i].basket, evs[i].category);
    }
}

static void functions_at_their_edges(int reverse)
{
    persona_store *s = new_seeded_store(7);
    add_ann(s, reverse);
    const int64_t now = T0 + 47 * DAY; /* the store's clock */
    /* count / sum: window (now - W, now]. */
    IS_TRUE(s, "ann", "count(\"purchase\") == 3", now);
    IS_TRUE(s, "ann", "count(\"purchase\", 17d) == 0", now); /* d30 is exactly at now-17d: out */
    IS_TRUE(s, "ann", "count(\"purchase\", 1468800001ms) == 1", now); /* 17 days + 1 ms */
    IS_TRUE(s, "ann", "count(\"purchase\", 18d) == 1", now);
    IS_TRUE(s, "ann", "count(\"*\", 7d) == 1", now);
    IS_TRUE(s, "ann", "sum(\"purchase\") == 85.5", now);
    IS_TRUE(s, "ann", "sum(\"purchase\", 45d) == 35.5", now); /* d2 out, d2 + 10 min in */
    IS_TRUE(s, "ann", "sum(\"view\") == 0", now);
    IS_TRUE(s, "ann", "count(\"nothing\") == 0 and sum(\"nothing\", 3d) == 0", now);
    /* traits */
    IS_TRUE(s, "ann", "events == 10 and orders == 2 and value == 85.5", now);
    IS_TRUE(s, "ann", "first_seen == date(\"2024-01-02\") and last_seen == now", now);
    IS_TRUE(s, "ann", "sessions == 9", now);
    /* as of day 31 noon: only the first six events happened */
    const int64_t d31 = T0 + 31 * DAY + 12 * HOUR;
    IS_TRUE(s, "ann", "events == 7 and orders == 2 and value == 85.5 and sessions == 6", d31);
    IS_TRUE(s, "ann", "last_seen == date(\"2024-02-01T01:00:00Z\")", d31);
    IS_TRUE(s, "ann", "count(\"login\") == 0 and days_since(\"purchase\") == 1", d31);
    IS_TRUE(s, "ann", "events == 4 and orders == 1 and value == 60", T0 + 29 * DAY);
    /* before everything: no events at all */
    IS_TRUE(s, "ann", "events == 0 and sessions == 0 and orders == 0", T0);
    IS_FALSE(s, "ann", "first_seen > 0", T0);
    IS_FALSE(s, "ann", "days_since(\"purchase\") >= 0", T0);
    /* days_since: whole days */
    IS_TRUE(s, "ann", "days_since(\"purchase\") == 17", now);
    IS_TRUE(s, "ann", "days_since(\"purchase\") == 16", now - 1);
    IS_TRUE(s, "ann", "days_since(\"login\") == 0", now);
    /* first_time: the earliest login (d33) is inside 15d, not inside 14d */
    IS_TRUE(s, "ann", "first_time(\"login\", 15d)", now);
    IS_FALSE(s, "ann", "first_time(\"login\", 14d)", now);
    IS_FALSE(s, "ann", "first_time(\"purchase\", 30d)", now);
    /* stopped: purchases before the window, none in it */
    IS_TRUE(s, "ann", "stopped(\"purchase\", 17d)", now);
    IS_FALSE(s, "ann", "stopped(\"purchase\", 18d)", now);
    IS_FALSE(s, "ann", "stopped(\"login\", 3d)", now);
    IS_FALSE(s, "ann", "stopped(\"refund\", 3d)", now);
    /* restarted: a purchase in (d18, d48], none in (d4, d18], one at or before d4 */
    IS_TRUE(s, "ann", "restarted(\"purchase\", 30d, 14d)", now + DAY);
    IS_FALSE(s, "ann", "restarted(\"purchase\", 30d, 28d)", now + DAY);
    IS_FALSE(s, "ann", "restarted(\"purchase\", 30d)", now + DAY); /* gap 30d reaches d2 */
    /* regularly: calendar weeks from Monday (T0 is one): logins on d33 (week 4: d28..d34),
     * d40 (week 5) and d47 (week 6, the current one at now = d47) */
    IS_TRUE(s, "ann", "regularly(\"login\", 3 of 3 weeks)", now);
    IS_FALSE(s, "ann", "regularly(\"login\", 4 of 6 weeks)", now);
    IS_TRUE(s, "ann", "regularly(\"login\", 3 of 6 weeks)", now);
    IS_TRUE(s, "ann", "regularly(\"login\", 2 of 2 weeks)", now);
    /* just before d47's login: this week has none yet */
    IS_FALSE(s, "ann", "regularly(\"login\", 3 of 3 weeks)", now - 1);
    IS_FALSE(s, "ann", "regularly(\"login\", 2 of 2 weeks)", now - 1);
    IS_TRUE(s, "ann", "regularly(\"login\", 2 of 3 weeks)", now - 1);
    /* the last moment of week 6, then Monday of week 7 (d49): week 4 has left */
    IS_TRUE(s, "ann", "regularly(\"login\", 3 of 3 weeks)", T0 + 49 * DAY - 1);
    IS_FALSE(s, "ann", "regularly(\"login\", 3 of 3 weeks)", T0 + 49 * DAY);
    IS_TRUE(s, "ann", "regularly(\"login\", 2 of 3 weeks)", T0 + 49 * DAY);
    IS_TRUE(s, "ann", "regularly(\"login\", 3 of 4 weeks)", T0 + 49 * DAY);
    /* days: d33, d40, d47 are three of the last 15 calendar days at now */
    IS_TRUE(s, "ann", "regularly(\"login\", 3 of 15 days)", now);
    IS_FALSE(s, "ann", "regularly(\"login\", 3 of 14 days)", now);
    IS_TRUE(s, "ann", "regularly(\"login\", 3 of 15 days)", now + 23 * HOUR); /* still d47 */
    IS_FALSE(s, "ann", "regularly(\"login\", 3 of 15 days)", now + DAY); /* d48: d33 left */
    /* last */
    IS_TRUE(s, "ann", "last(\"category\") == \"hats\"", now);
    IS_TRUE(s, "ann", "last(\"category\") == \"socks\"", T0 + 30 * DAY);
    IS_TRUE(s, "ann", "last(\"category\") == \"shoes\"", T0 + 2 * DAY + 10 * 60000);
    IS_FALSE(s, "ann", "exists(ctx.x) or last(\"nothing\") == \"x\" or last(\"nothing\") != \"x\"", now);
    /* sequences */
    IS_TRUE(s, "ann", "sequence(\"view\" -> \"add_to_cart\" -> not \"purchase\")", now);
    IS_FALSE(s, "ann", "sequence(\"view\" -> \"add_to_cart\" -> not \"purchase\", within 1d)", now);
    IS_TRUE(s, "ann", "sequence(\"view\" -> \"add_to_cart\" -> not \"purchase\", within 17d)", now);
    IS_FALSE(s, "ann", "sequence(\"view\" -> \"add_to_cart\" -> not \"purchase\")", T0 + 2 * DAY);
    IS_TRUE(s, "ann", "sequence(\"view\" -> \"add_to_cart\" -> \"purchase\")", now);
    IS_TRUE(s, "ann", "sequence(\"view\" -> not \"purchase\" -> \"login\")", now);
    IS_FALSE(s, "ann", "sequence(\"view\" -> not \"add_to_cart\" -> \"login\")", now);
    IS_FALSE(s, "ann", "sequence(not \"purchase\" -> \"login\")", now);
    IS_TRUE(s, "ann", "sequence(not \"purchase\" -> \"login\", within 17d)", now);
    IS_TRUE(s, "ann", "sequence(\"purchase\" -> \"purchase\" -> \"purchase\")", now);
    IS_FALSE(s, "ann", "sequence(\"purchase\" -> \"purchase\" -> \"purchase\" -> \"purchase\")", now);
    IS_FALSE(s, "ann", "sequence(\"login\" -> \"view\")", now);
    persona_store_free(s);
}

/* Missing values, types at run time, negated operators (docs/rules.md). */
static void missing_values(void)
{
    persona_store *s = new_seeded_store(8);
    add_basket(s, "bob", T0, "view", NAN, NULL, NULL);
    CHECK_RC(persona_store_attr_set_num(s, "bob", "age", 41), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "bob", "plan", "pro"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_bool(s, "bob", "vip", 1), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_null(s, "bob", "nick"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "bob", "pref.topic", "running"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_num(s, "bob", "score.churn", 0.25), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "bob", "score.ltv", "high"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_time(s, "bob", "signup", T0 - DAY), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "bob", "marketing", 1, T0), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "bob", "ads", 0, T0), PERSONA_OK);
    int64_t now = T0;
    IS_TRUE(s, "bob", "age == 41 and age between 40 and 41 and age in [1, 41]", now);
    IS_TRUE(s, "bob", "plan == \"pro\" and plan starts_with \"p\" and plan ends_with \"ro\"", now);
    IS_TRUE(s, "bob", "plan contains \"r\" and plan not contains \"x\" and plan matches \"p?o*\"", now);
    IS_TRUE(s, "bob", "vip and vip == true and vip != false", now);
    IS_TRUE(s, "bob", "pref.topic == \"running\" and attr[\"pref.topic\"] == \"running\"", now);
    IS_TRUE(s, "bob", "score(\"churn\") == 0.25 and not exists(attr.missing)", now);
    IS_FALSE(s, "bob", "score(\"ltv\") == 0 or score(\"ltv\") != 0", now); /* not a number */
    IS_TRUE(s, "bob", "signup == now - 1d", now);
    IS_TRUE(s, "bob", "consent(\"marketing\") and not consent(\"ads\") and not consent(\"x\")", now);
    /* null exists but is missing */
    IS_TRUE(s, "bob", "exists(nick) and not exists(other)", now);
    IS_FALSE(s, "bob", "nick == 1 or nick != 1 or nick in [1] or nick not in [1]", now);
    /* every comparison with a missing or mistyped operand is false, negated ones too */
    IS_FALSE(s, "bob", "height > 1 or height <= 1 or height == 1 or height != 1", now);
    IS_FALSE(s, "bob", "height between 1 and 2 or height not between 1 and 2", now);
    IS_FALSE(s, "bob", "plan > 3 or plan != 3 or age == \"41\" or age != \"41\"", now);
    IS_FALSE(s, "bob", "plan not in [1, 2] or age not in [\"a\"] or age not contains \"4\"", now);
    IS_FALSE(s, "bob", "vip > vip or vip <= vip", now); /* booleans do not order */
    IS_TRUE(s, "bob", "not (height > 1) and not height", now);
    IS_FALSE(s, "bob", "plan", now); /* a string is not a condition */
    /* arithmetic */
    IS_TRUE(s, "bob", "age + 1 == 42 and age * 2 - 2 == 80 and age / 2 == 20.5 and age % 5 == 1", now);
    IS_FALSE(s, "bob", "age / 0 == 0 or age / 0 != 0 or age % 0 >= 0", now);
    IS_FALSE(s, "bob", "height + 1 > 0 or -height < 0", now);
    IS_TRUE(s, "bob", "-age == -41 and - -age == 41 and 7d == 604800000 and 90s == 1.5m", now);
    /* strings compare byte-wise */
    IS_TRUE(s, "bob", "plan < \"pro2\" and plan > \"pr\" and \"Z\" < \"a\" and \"é\" > \"z\"", now);
    IS_TRUE(s, "bob", "\"x*y\" matches \"x\\\\*y\" and not (\"xay\" matches \"x\\\\*y\")", now);
    /* context */
    const char *names[] = { "country", "referrer" }, *values[] = { "FR", NULL };
    persona_eval_context c = at(now);
    c.count = 2;
    c.names = names;
    c.values = values;
    c.hour = 23;
    CHECK(truth_ctx(s, "bob", "ctx.country == \"FR\" and ctx.hour == 23 and exists(ctx.hour)", &c) == 1);
    CHECK(truth_ctx(s, "bob", "exists(ctx.referrer) or exists(ctx.device) or ctx.hour < 23", &c) == 0);
    c.hour = -1;
    CHECK(truth_ctx(s, "bob", "exists(ctx.hour) or ctx.hour >= 0", &c) == 0);
    /* an unknown key is an empty profile */
    IS_TRUE(s, "nobody", "events == 0 and value == 0 and not exists(age) and count(\"view\") == 0", now);
    IS_FALSE(s, "nobody", "consent(\"marketing\") or sequence(\"view\")", now);
    persona_store_free(s);
}

/* The same events ingested in and out of order answer the same, with the sorted pass on
 * and off the stack (more than 256 events). */
static void order_of_arrival(void)
{
    const char *rules[] = {
        "sequence(\"a\" -> \"b\" -> not \"c\")",
        "sequence(\"a\" -> \"b\" -> not \"c\", within 3d)",
        "sequence(not \"c\" -> \"a\" -> \"b\")",
        "sessions",
        "orders",
        "count(\"a\", 5d)",
        "days_since(\"b\")",
        "last(\"category\")",
        "events",
        "value",
        "last_seen",
    };
    for (int big = 0; big <= 1; big++) {
        persona_store *in = new_seeded_store(9), *out = new_seeded_store(9);
        int n = big ? 700 : 40;
        int64_t *times = calloc((size_t)n, sizeof *times);
        for (int i = 0; i < n; i++)
            times[i] = T0 + (int64_t)(i / 3) * 5 * HOUR + (i % 3) * 60000; /* distinct: ties are
                                                                            ordered by arrival */
        const char *types[] = { "a", "b", "c", "a", "b" };
        char basket[16];
        for (int i = 0; i < n; i++) {
            snprintf(basket, sizeof basket, "o%d", i / 7);
            add_basket(in, "u", times[i], types[i % 5], (double)(i % 4) * 0.5, i % 2 ? basket : NULL,
                       i % 3 ? "c1" : "c2");
        }
        for (int k = 0; k < n; k++) {
            int i = (int)((uint64_t)k * 7919 % (uint64_t)n); /* a permutation: n is not a multiple of 7919 */
            snprintf(basket, sizeof basket, "o%d", i / 7);
            add_basket(out, "u", times[i], types[i % 5], (double)(i % 4) * 0.5, i % 2 ? basket : NULL,
                       i % 3 ? "c1" : "c2");
        }
        int64_t nows[] = { times[n - 1], times[n / 2], times[n / 3] + 1, times[0] - 1, times[n - 1] + 30 * DAY };
        for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
            persona_segment_model *m = NULL;
            char text[256];
            /* compare the values through equality with themselves computed on the other store:
             * explain both and compare the operand values printed */
            snprintf(text, sizeof text, "x: exists(ctx.q) or (%s) == (%s)", rules[r], rules[r]);
            if (strstr(rules[r], "sequence"))
                snprintf(text, sizeof text, "x: %s", rules[r]);
            CHECK_RC(persona_segment_model_compile(&m, text, strlen(text), NULL), PERSONA_OK);
            for (size_t t = 0; t < sizeof nows / sizeof nows[0]; t++) {
                persona_eval_context c = at(nows[t]);
                char a[4096], b[4096];
                CHECK_RC(persona_segment_model_describe(a, sizeof a, NULL, m, in, "u", &c), PERSONA_OK);
                CHECK_RC(persona_segment_model_describe(b, sizeof b, NULL, m, out, "u", &c), PERSONA_OK);
                if (strcmp(a, b) != 0) {
                    fprintf(stderr, "rule %s at %lld: in order:\n%s\nout of order:\n%s\n", rules[r],
                            (long long)nows[t], a, b);
                    CHECK(0);
                }
            }
            persona_segment_model_free(m);
        }
        free(times);
        persona_store_free(in);
        persona_store_free(out);
    }
}

/* Ties at one time are ordered by arrival. */
static void ties_by_arrival(void)
{
    persona_store *s = new_seeded_store(10);
    add_basket(s, "t", T0, "b", NAN, NULL, NULL);
    add_basket(s, "t", T0, "a", NAN, NULL, NULL);
    IS_TRUE(s, "t", "sequence(\"b\" -> \"a\")", T0);
    IS_FALSE(s, "t", "sequence(\"a\" -> \"b\")", T0);
    add_basket(s, "t", T0 - HOUR, "c", NAN, NULL, NULL); /* out of order from now on */
    IS_TRUE(s, "t", "sequence(\"c\" -> \"b\" -> \"a\")", T0);
    IS_FALSE(s, "t", "sequence(\"a\" -> \"b\")", T0);
    persona_store_free(s);
}

static int collect_members(void *ctx, const char *user, size_t len, uint32_t seg)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 4096 - n, "%.*s=%u;", (int)len, user, seg);
    return 0;
}

static int stop_members(void *ctx, const char *user, size_t len, uint32_t seg)
{
    (void)ctx, (void)user, (void)len, (void)seg;
    return -1;
}

static void models_modes_and_scans(void)
{
    persona_store *s = new_seeded_store(11);
    add_ann(s, 0);
    add_basket(s, "cy", T0 + 40 * DAY, "login", NAN, NULL, NULL);
    add_basket(s, "di", T0 + 46 * DAY, "purchase", 500, "o9", NULL);
    CHECK_RC(persona_store_attr_set_str(s, "di", "plan", "team"), PERSONA_OK);
    const char *text =
        "# customers\n"
        "big: value >= 100 or in_segment(\"teams\")\n"
        "\"loyal, repeat\":\n"
        "   orders >= 2\n"
        "teams: plan in [\"team\"]\n"
        "active: count(\"*\", 7d) > 0\n";
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    persona_segment_model *first = NULL, *all = NULL;
    CHECK_RC(persona_segment_model_compile(&first, text, strlen(text), NULL), PERSONA_OK);
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    CHECK_RC(persona_segment_model_compile(&all, text, strlen(text), &o), PERSONA_OK);
    size_t n = 0, idx = 0;
    CHECK_RC(persona_segment_model_count(&n, first), PERSONA_OK);
    CHECK(n == 4);
    CHECK_RC(persona_segment_model_find(&idx, first, "loyal, repeat"), PERSONA_OK);
    CHECK(idx == 1);
    CHECK_RC(persona_segment_model_find(&idx, first, "loyal"), PERSONA_ENOTFOUND);
    char buf[256];
    size_t len = 0;
    CHECK_RC(persona_segment_model_rule(buf, sizeof buf, &len, first, 1), PERSONA_OK);
    CHECK_STR(buf, "orders >= 2");
    CHECK_RC(persona_segment_model_name(buf, 3, &len, first, 1), PERSONA_EBUFS);
    CHECK(len == strlen("loyal, repeat"));
    int32_t mode = -1;
    CHECK_RC(persona_segment_model_mode(&mode, all), PERSONA_OK);
    CHECK(mode == PERSONA_SEGMENT_ALL_MATCHES);

    uint32_t segs[4];
    size_t count = 9;
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, first, s, "di", NULL), PERSONA_OK);
    CHECK(count == 1 && segs[0] == 0);
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, all, s, "di", NULL), PERSONA_OK);
    CHECK(count == 3 && segs[0] == 0 && segs[1] == 2 && segs[2] == 3);
    CHECK_RC(persona_segment_model_assign(segs, 1, &count, all, s, "di", NULL), PERSONA_EBUFS);
    CHECK(count == 3 && segs[0] == 0);
    CHECK_RC(persona_segment_model_assign(NULL, 0, &count, all, s, "ann", NULL), PERSONA_EBUFS);
    CHECK(count == 2);
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, first, s, "cy", NULL), PERSONA_OK);
    CHECK(count == 0);
    int32_t t = -1;
    CHECK_RC(persona_segment_model_test(&t, first, 2, s, "ann", NULL), PERSONA_OK);
    CHECK(t == 0);
    CHECK_RC(persona_segment_model_test(&t, first, 4, s, "ann", NULL), PERSONA_ENOTFOUND);

    /* explanation: the deciding clauses with their values */
    char text_out[2048];
    CHECK_RC(persona_segment_model_describe(text_out, sizeof text_out, &len, first, s, "ann", NULL),
             PERSONA_OK);
    CHECK_STR(text_out, "big: no\n"
                        "  value >= 100 is false (value = 85.5)\n"
                        "  in_segment(\"teams\") is false\n"
                        "loyal, repeat: yes\n"
                        "  orders >= 2 is true (orders = 2)\n"
                        "teams: not reached (an earlier segment matched)\n"
                        "active: not reached (an earlier segment matched)\n");
    CHECK_RC(persona_segment_model_describe(text_out, 8, &len, first, s, "ann", NULL), PERSONA_EBUFS);
    /* clauses written over several lines, with comments, are shown on one line */
    persona_segment_model *ml = NULL;
    const char *multi = "x: count(\"view\") >   # views\n\t 4 or last(\"category\") == \"a  # b\"\n";
    CHECK_RC(persona_segment_model_compile(&ml, multi, strlen(multi), NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_describe(text_out, sizeof text_out, &len, ml, s, "ann", NULL), PERSONA_OK);
    CHECK_STR(text_out, "x: no\n"
                        "  count(\"view\") > 4 is false (count(\"view\") = 2)\n"
                        "  last(\"category\") == \"a  # b\" is false (last(\"category\") = \"hats\")\n");
    persona_segment_model_free(ml);
    CHECK(len > 100);
    /* times and differences of times are also given in words */
    const char *times = "t: last_seen - first_seen < 30d\nu: last_seen > first_seen and now - last_seen >= 0\n";
    CHECK_RC(persona_segment_model_compile(&ml, times, strlen(times), NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_describe(text_out, sizeof text_out, &len, ml, s, "ann", NULL), PERSONA_OK);
    CHECK_STR(text_out, "t: no\n"
                        "  last_seen - first_seen < 30d is false (last_seen - first_seen = 3974400000 (46d))\n"
                        "u: yes\n"
                        "  last_seen > first_seen is true (last_seen = 1708128000000 (2024-02-17 00:00:00 UTC), "
                        "first_seen = 1704153600000 (2024-01-02 00:00:00 UTC))\n"
                        "  now - last_seen >= 0 is true (now - last_seen = 0 (0ms))\n");
    persona_segment_model_free(ml);

    /* scans: counts and members, any thread count */
    char want[4096] = "", got[4096] = "";
    uint64_t counts[4] = { 9, 9, 9, 9 }, none = 9;
    CHECK_RC(persona_segment_model_scan(counts, 4, &none, all, s, NULL, collect_members, want, 1),
             PERSONA_OK);
    CHECK_STR(want, "ann=1;ann=3;di=0;di=2;di=3;");
    CHECK(counts[0] == 1 && counts[1] == 1 && counts[2] == 1 && counts[3] == 2 && none == 1);
    for (uint32_t th = 0; th <= 4; th++) {
        got[0] = 0;
        CHECK_RC(persona_segment_model_scan(counts, 2, NULL, all, s, NULL, collect_members, got, th),
                 PERSONA_OK);
        CHECK_STR(got, want);
    }
    CHECK_RC(persona_segment_model_scan(counts, 4, &none, first, s, NULL, NULL, NULL, 2), PERSONA_OK);
    CHECK(counts[0] == 1 && counts[1] == 1 && counts[2] == 0 && counts[3] == 0 && none == 1);
    CHECK_RC(persona_segment_model_scan(counts, 4, &none, all, s, NULL, stop_members, NULL, 2),
             PERSONA_ECALLBACK);
    persona_eval_context c = at(T0 + 100 * DAY);
    CHECK_RC(persona_segment_model_scan(counts, 4, &none, all, s, &c, NULL, NULL, 0), PERSONA_OK);
    CHECK(counts[3] == 0 && none == 1);

    /* save and load give the same model */
    char path[256];
    snprintf(path, sizeof path, "%s/test_segment_XXXXXX", test_temp_dir());
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_RC(persona_segment_model_save(all, path), PERSONA_OK);
    persona_segment_model *back = NULL;
    CHECK_RC(persona_segment_model_load(&back, path), PERSONA_OK);
    got[0] = 0;
    CHECK_RC(persona_segment_model_scan(counts, 4, NULL, back, s, NULL, collect_members, got, 0), PERSONA_OK);
    CHECK_STR(got, want);
    CHECK_RC(persona_segment_model_mode(&mode, back), PERSONA_OK);
    CHECK(mode == PERSONA_SEGMENT_ALL_MATCHES);
    persona_segment_model_free(back);
    /* a damaged file is refused */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 80, SEEK_SET);
        fputc(0x5A, f);
        fclose(f);
    }
    back = NULL;
    int rc = persona_segment_model_load(&back, path);
    CHECK(rc == PERSONA_ECORRUPT && back == NULL);
    unlink(path);
    CHECK_RC(persona_segment_model_load(&back, path), PERSONA_EIO);

    /* bad arguments */
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, NULL, s, "x", NULL), PERSONA_EINVAL);
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, all, s, NULL, NULL), PERSONA_EINVAL);
    c = at(PERSONA_TIME_MAX + 1);
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, all, s, "x", &c), PERSONA_EINVAL);
    c = at(T0);
    c.hour = 24;
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, all, s, "x", &c), PERSONA_EINVAL);
    c.hour = -1;
    c.count = 1;
    CHECK_RC(persona_segment_model_assign(segs, 4, &count, all, s, "x", &c), PERSONA_EINVAL);
    /* an unquoted reserved word is not a segment name */
    persona_segment_model *kw = NULL;
    const char *kwtext = "a: vip\nor: x > 1\n";
    CHECK_RC(persona_segment_model_compile(&kw, kwtext, strlen(kwtext), NULL), PERSONA_EPARSE);
    CHECK_MSG("'or' is a reserved word");
    const char *quoted = "a: vip\n\"or\": x > 1\n";
    CHECK_RC(persona_segment_model_compile(&kw, quoted, strlen(quoted), NULL), PERSONA_OK);
    persona_segment_model_free(kw);
    o.mode = 7;
    persona_segment_model *bad = NULL;
    CHECK_RC(persona_segment_model_new(&bad, &o), PERSONA_EINVAL);
    CHECK(bad == NULL);
    persona_segment_model_free(first);
    persona_segment_model_free(all);
    persona_store_free(s);
}

/* List segments see every identifier of a merged profile; rules see merged attributes. */
static void identities_and_lists(void)
{
    persona_store *s = new_seeded_store(12);
    add_basket(s, "cookie-1", T0, "view", NAN, NULL, NULL);
    add_basket(s, "cust-9", T0 + DAY, "purchase", 20, "o1", NULL);
    CHECK_RC(persona_store_attr_set_str(s, "cust-9", "plan", "pro"), PERSONA_OK);
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    const char *keys[] = { "cust-9", "zed", "cust-9" };
    CHECK_RC(persona_segment_model_add_list(m, "crm", keys, 3), PERSONA_OK);
    const char *r = "plan == \"pro\" and count(\"view\") == 1";
    CHECK_RC(persona_segment_model_add_rule(m, "pro_viewers", r, strlen(r)), PERSONA_OK);
    const char *dup = "true";
    CHECK_RC(persona_segment_model_add_rule(m, "crm", dup, strlen(dup)), PERSONA_EINVAL);
    const char *badkeys[] = { "ok", "" };
    CHECK_RC(persona_segment_model_add_list(m, "l2", badkeys, 2), PERSONA_EINVAL);
    int32_t t = -1;
    CHECK_RC(persona_segment_model_test(&t, m, 0, s, "cookie-1", NULL), PERSONA_OK);
    CHECK(t == 0);
    CHECK_RC(persona_segment_model_test(&t, m, 0, s, "zed", NULL), PERSONA_OK);
    CHECK(t == 1); /* a key the store does not know, in the list */
    persona_identifier ids[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "cookie-1"),
                                  PERSONA_IDENTIFIER(PERSONA_ID_KEY, "cust-9") };
    persona_alias_result ar = PERSONA_ALIAS_RESULT_INIT;
    CHECK_RC(persona_store_alias(&ar, s, ids, 2, T0 + 2 * DAY, "login"), PERSONA_OK);
    CHECK_RC(persona_segment_model_test(&t, m, 0, s, "cookie-1", NULL), PERSONA_OK);
    CHECK(t == 1);
    CHECK_RC(persona_segment_model_test(&t, m, 1, s, "cookie-1", NULL), PERSONA_OK);
    CHECK(t == 1);
    /* erase moves the store's ids: the cached names must follow */
    persona_erase_receipt er = PERSONA_ERASE_RECEIPT_INIT;
    add_basket(s, "other", T0, "click", NAN, NULL, NULL);
    CHECK_RC(persona_segment_model_test(&t, m, 1, s, "cookie-1", NULL), PERSONA_OK);
    CHECK_RC(persona_store_erase(&er, s, "other"), PERSONA_OK);
    CHECK_RC(persona_segment_model_test(&t, m, 1, s, "cust-9", NULL), PERSONA_OK);
    CHECK(t == 1);
    persona_segment_model_free(m);
    persona_store_free(s);
}

/* One model on several stores, and names that appear in a store after the model first
 * met it. */
static void names_per_store(void)
{
    persona_store *a = new_seeded_store(13), *b = new_seeded_store(14);
    add_basket(a, "u", T0, "x", NAN, NULL, NULL);
    add_basket(b, "u", T0, "y", NAN, NULL, NULL);
    add_basket(b, "u", T0, "x", NAN, NULL, NULL);
    const char *r = "count(\"y\") == 1 and count(\"x\") == 1";
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_add_rule(m, "both", r, strlen(r)), PERSONA_OK);
    int32_t t = -1;
    for (int round = 0; round < 3; round++) {
        CHECK_RC(persona_segment_model_test(&t, m, 0, a, "u", NULL), PERSONA_OK);
        CHECK(t == (round == 2));
        CHECK_RC(persona_segment_model_test(&t, m, 0, b, "u", NULL), PERSONA_OK);
        CHECK(t == 1);
        if (round == 1)
            add_basket(a, "u", T0, "y", NAN, NULL, NULL); /* "y" is new to store a */
    }
    persona_store_free(a);
    /* a store made after a freed one may sit at the same address: still right */
    persona_store *c = new_seeded_store(15);
    add_basket(c, "u", T0, "y", NAN, NULL, NULL);
    CHECK_RC(persona_segment_model_test(&t, m, 0, c, "u", NULL), PERSONA_OK);
    CHECK(t == 0);
    persona_store_free(b);
    persona_store_free(c);
    persona_segment_model_free(m);
}

int main(void)
{
    functions_at_their_edges(0);
    functions_at_their_edges(1);
    missing_values();
    order_of_arrival();
    ties_by_arrival();
    models_modes_and_scans();
    identities_and_lists();
    names_per_store();
    return check_report("test_segment");
}
