/* Seeds of the model snapshot fuzz targets: real cohort tables, funnels, segment models and
 * RFM tables (one per kind and feature) of a small store, and k-means models (plain and
 * multi-view) of a few points, so the fuzzer starts from files that load; for segment
 * models, RFM tables and k-means models also a few damaged copies (truncated, one byte
 * flipped: seed-*-cut*, seed-*-flip*); affinity matrices by basket, session and user;
 * path models by type, by page with rules, by session id; attribution journey sets.
 * usage: make_model_seeds cohort|funnel|segments|rfm|kmeans|affinity|paths|attribution DIR
 *        (writes DIR/seed-*; from the source root:
 *        ./build/tests/fuzz/make_model_seeds cohort tests/fuzz/corpus/snapshot_cohort
 *        ./build/tests/fuzz/make_model_seeds funnel tests/fuzz/corpus/snapshot_funnel
 *        ./build/tests/fuzz/make_model_seeds segments tests/fuzz/corpus/snapshot_segments
 *        ./build/tests/fuzz/make_model_seeds rfm tests/fuzz/corpus/snapshot_rfm
 *        ./build/tests/fuzz/make_model_seeds kmeans tests/fuzz/corpus/snapshot_kmeans
 *        ./build/tests/fuzz/make_model_seeds affinity tests/fuzz/corpus/snapshot_affinity
 *        ./build/tests/fuzz/make_model_seeds paths tests/fuzz/corpus/snapshot_paths
 *        ./build/tests/fuzz/make_model_seeds attribution tests/fuzz/corpus/snapshot_attribution) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persona.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000) /* 2024-01-01 */

static void must(int rc, const char *what)
{
    if (rc != PERSONA_OK) {
        fprintf(stderr, "make_model_seeds: %s: %s\n", what, persona_errmsg());
        exit(1);
    }
}

static persona_store *small_store(void)
{
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "store");
    const char *users[] = {"ann", "bob", "cy", "dee"};
    const char *refs[] = {"ads", NULL, "mail", "ads"};
    for (int u = 0; u < 4; u++)
        for (int k = 0; k < 5; k++) {
            persona_event e = PERSONA_EVENT_INIT;
            const char *names[1] = {"ref"}, *vals[1] = {refs[u]};
            e.user = users[u];
            e.time_ms = T0 + (int64_t)(u * 9 + k * 17) * DAY;
            e.type = k % 2 ? "buy" : "view";
            e.value = k % 2 ? 3.25 * (k + u) : NAN;
            if (refs[u]) {
                e.prop_names = names;
                e.prop_values = vals;
                e.n_props = 1;
            }
            must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
        }
    return s;
}

/* Build a cohort table (co) or a funnel (fo) of s and save it as DIR/seed-NAME. */
static void write_seed(const persona_store *s, const persona_cohort_options *co,
                       const persona_funnel_options *fo, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    if (co) {
        persona_cohort_table *t = NULL;
        must(persona_cohort_build(&t, s, co), name);
        must(persona_cohort_table_save(t, path), path);
        persona_cohort_table_free(t);
    } else {
        persona_funnel *f = NULL;
        must(persona_funnel_build(&f, s, fo), name);
        must(persona_funnel_save(f, path), path);
        persona_funnel_free(f);
    }
}

static void cohort_seeds(const char *dir)
{
    persona_store *s = small_store();
    static const uint32_t brackets[] = {0, 1, 2, 4};
    static const char *const buy[] = {"buy"};
    persona_cohort_options o = PERSONA_COHORT_OPTIONS_INIT;
    o.metrics = (1u << PERSONA_COHORT_EVENTS) | (1u << PERSONA_COHORT_REVENUE);
    write_seed(s, &o, NULL, dir, "monthly-all-metrics");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.cohort_by = PERSONA_COHORT_BY_PROPERTY;
    o.cohort_property = "ref";
    o.period = PERSONA_PERIOD_WEEK;
    o.brackets = brackets;
    o.n_brackets = 4;
    o.min_users = 2;
    write_seed(s, &o, NULL, dir, "property-weekly-brackets");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.period = PERSONA_PERIOD_ROLLING;
    o.row_period = PERSONA_PERIOD_QUARTER;
    o.window_ms = 7 * DAY;
    o.retention = PERSONA_RETENTION_UNBOUNDED;
    o.cohort_by = PERSONA_COHORT_BY_FIRST_OF_TYPE;
    o.cohort_event = "buy";
    o.active_types = buy;
    o.n_active_types = 1;
    o.metrics = 1u << PERSONA_COHORT_REVENUE;
    o.utc_offset_minutes = 330;
    o.consent_purpose = "email";
    write_seed(s, &o, NULL, dir, "rolling-first-buy");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.kind = PERSONA_COHORT_LIFECYCLE;
    o.period = PERSONA_PERIOD_WEEK;
    o.from_ms = T0 + 20 * DAY;
    write_seed(s, &o, NULL, dir, "lifecycle-weekly");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.kind = PERSONA_COHORT_STICKINESS;
    o.period = PERSONA_PERIOD_DAY;
    write_seed(s, &o, NULL, dir, "stickiness-daily");
    persona_store_free(s);
    persona_store *empty = NULL;
    must(persona_store_new(&empty, NULL), "store");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    write_seed(empty, &o, NULL, dir, "empty");
    persona_store_free(empty);
}

static void funnel_seeds(const char *dir)
{
    persona_store *s = small_store();
    persona_funnel_step view = PERSONA_FUNNEL_STEP_INIT, buy = PERSONA_FUNNEL_STEP_INIT,
                        ads_buy = PERSONA_FUNNEL_STEP_INIT;
    view.event_type = "view";
    buy.event_type = "buy";
    buy.max_ms = 30 * DAY;
    ads_buy.event_type = "buy";
    ads_buy.where_property = "ref";
    ads_buy.where_value = "ads";
    const persona_funnel_step *two[] = {&view, &buy}, *three[] = {&view, &ads_buy, &view};
    persona_funnel_step bought = PERSONA_FUNNEL_STEP_INIT;
    bought.event_type = "buy";
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &bought;
    x.from_step = 1;
    x.to_step = 2;
    const persona_funnel_exclusion *xs[] = {&x};
    persona_funnel_options o = PERSONA_FUNNEL_OPTIONS_INIT;
    o.steps = two;
    o.n_steps = 2;
    o.window_ms = 40 * DAY;
    write_seed(s, NULL, &o, dir, "loose-users");
    o.steps = three;
    o.n_steps = 3;
    o.order = PERSONA_FUNNEL_STRICT;
    o.count = PERSONA_FUNNEL_TOTALS;
    o.trend_period = PERSONA_PERIOD_WEEK;
    write_seed(s, NULL, &o, dir, "strict-totals-weekly");
    o.order = PERSONA_FUNNEL_ANY_ORDER;
    o.count = PERSONA_FUNNEL_SESSIONS;
    o.hold_property = "ref";
    write_seed(s, NULL, &o, dir, "any-order-sessions-hold");
    o = (persona_funnel_options)PERSONA_FUNNEL_OPTIONS_INIT;
    o.steps = three;
    o.n_steps = 3;
    o.exclusions = xs;
    o.n_exclusions = 1;
    o.consent_purpose = "email";
    o.utc_offset_minutes = -300;
    write_seed(s, NULL, &o, dir, "predicate-exclusion");
    persona_store_free(s);
}

/* Damaged copies of DIR/seed-NAME: cut at half and one byte short, and one byte flipped in
 * the payload (after the 64-byte header) and in the header's section count area. */
static void write_variants(const char *dir, const char *name)
{
    char path[512], out[560];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct { const char *suffix; size_t len; size_t flip; } v[] = {
        { "cut-half", n / 2, SIZE_MAX },
        { "cut-last", n - 1, SIZE_MAX },
        { "flip-payload", n, n > 80 ? 64 + (n - 64) / 3 : n / 2 },
        { "flip-header", n, 12 },
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        snprintf(out, sizeof out, "%s/seed-%s-%s", dir, name, v[i].suffix);
        FILE *w = fopen(out, "wb");
        if (!w) {
            perror(out);
            exit(1);
        }
        if (v[i].flip < n)
            buf[v[i].flip] ^= 0x5a;
        fwrite(buf, 1, v[i].len, w);
        if (v[i].flip < n)
            buf[v[i].flip] ^= 0x5a;
        fclose(w);
    }
}

static void write_model(persona_segment_model *m, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    must(persona_segment_model_save(m, path), path);
    persona_segment_model_free(m);
}

static persona_segment_model *compile(const char *text, int32_t mode)
{
    persona_segment_model *m = NULL;
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = mode;
    must(persona_segment_model_compile(&m, text, strlen(text), &o), text);
    return m;
}

static void segment_seeds(const char *dir)
{
    static const char *const vips[] = { "ann", "bob", "caf\xc3\xa9", "zed@example.com" };
    static const char *const one[] = { "+41791234567" };
    /* the rule set of docs/rules.md, first match, with a list segment */
    persona_segment_model *m = compile(
        "vip:          value > 1000 and orders >= 5\n"
        "\"cart abandoners\":\n"
        "              sequence(\"view\" -> \"add_to_cart\" -> not \"purchase\", within 1d)\n"
        "lapsing:      stopped(\"purchase\", 60d) and consent(\"marketing\")\n"
        "runners:      pref.topic == \"running\" or last(\"category\") == \"running shoes\"\n"
        "night_owls:   ctx.hour between 0 and 5 and plan in [\"pro\", \"team\"]\n"
        "regulars:     regularly(\"login\", 4 of 6 weeks)\n",
        PERSONA_SEGMENT_FIRST_MATCH);
    must(persona_segment_model_add_list(m, "vip list", vips, 4), "add_list");
    write_model(m, dir, "doc-first-match");
    /* every function, all matches */
    m = compile("buyers: count(\"purchase\") >= 1 and count(\"*\", 30d) > 2\n"
                "big: sum(\"purchase\", 90d) > 100 or sum(\"purchase\") / 2 + 1 * 3 - 4 >= 0\n"
                "recent: days_since(\"view\") <= 3\n"
                "fresh: first_time(\"purchase\", 120d)\n"
                "back: restarted(\"purchase\", 7d, 30d) or restarted(\"login\", 2w)\n"
                "gone: stopped(\"purchase\", 60d)\n"
                "daily: regularly(\"login\", 2 of 3 days) or regularly(\"view\", 1 of 24 hours)\n"
                "seq: sequence(\"view\" -> \"add_to_cart\" -> \"purchase\", within 1h)\n"
                "cat: last(\"category\") matches \"run*\" and ctx.referrer matches \"*.com\"\n"
                "ok: consent(\"marketing\") and not consent(\"analytics\")\n"
                "risky: score(\"churn\") > 0.5 or score(\"ltv\") >= 1e3\n"
                "known: exists(plan) and exists(pref.topic) and exists(ctx.country)\n"
                "old: first_seen < date(\"2024-05-01\") and last_seen >= now - 2d\n"
                "traits: events > 5 and sessions >= 2 and orders == 2\n"
                "hour: ctx.hour in [1, 2, 3] and plan != \"free\" and plan not in [\"x\"]\n"
                "text: plan contains \"r\" or plan starts_with \"p\" or plan ends_with \"m\"\n"
                "mod: -value % 7 not between 1 and 2 and attr[\"and\"] != attr.plan\n",
                PERSONA_SEGMENT_ALL_MATCHES);
    must(persona_segment_model_add_list(m, "phones", one, 1), "add_list");
    write_model(m, dir, "functions-all-matches");
    /* in_segment(), forward references included */
    m = compile("a: in_segment(\"b\") or plan == \"pro\"\n"
                "b: in_segment(\"c\") and consent(\"marketing\")\n"
                "c: count(\"*\", 30d) > 2\n"
                "d: not in_segment(\"a\")\n",
                PERSONA_SEGMENT_FIRST_MATCH);
    must(persona_segment_model_add_list(m, "vips", vips, 2), "add_list");
    static const char e[] = "in_segment(\"vips\") and not in_segment(\"d\")";
    must(persona_segment_model_add_rule(m, "e", e, strlen(e)), "add_rule");
    write_model(m, dir, "in-segment");
    /* lists only, all matches */
    persona_segment_model *l = NULL;
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    must(persona_segment_model_new(&l, &o), "new");
    must(persona_segment_model_add_list(l, "first", vips, 4), "add_list");
    must(persona_segment_model_add_list(l, "second", vips + 1, 2), "add_list");
    must(persona_segment_model_add_list(l, "caf\xc3\xa9 list", one, 1), "add_list");
    write_model(l, dir, "lists-all-matches");
    /* quoted names, escapes, comments, one segment */
    m = compile("# a comment\n"
                "\"a \\\"quoted\\\" name\": city matches \"*\\\\*\" and plan in [\"a\\nb\", \"\"]\n"
                "\"single\": (1 + 2) * 3 == 9 and not (value < 0) # trailing\n",
                PERSONA_SEGMENT_FIRST_MATCH);
    write_model(m, dir, "quoted-escapes");
    m = compile("all: true\n", PERSONA_SEGMENT_ALL_MATCHES);
    write_model(m, dir, "one-segment");
    write_variants(dir, "doc-first-match");
    write_variants(dir, "functions-all-matches");
}

/* A store for RFM: purchases with and without baskets, returns, consent. */
static persona_store *rfm_store(void)
{
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "store");
    const char *users[] = { "ann", "bob", "cy", "dee", "caf\xc3\xa9", "e,\"q\"", "fay", "gus" };
    for (int u = 0; u < 8; u++) {
        for (int k = 0; k <= u % 4 + (u == 7 ? 6 : 0); k++) {
            persona_event e = PERSONA_EVENT_INIT;
            char basket[32];
            snprintf(basket, sizeof basket, "b%d-%d", u, k / 2);
            e.user = users[u];
            e.time_ms = T0 + (int64_t)(u * 11 + k * 23) * DAY;
            e.type = "purchase";
            e.value = 10.5 * (u + 1) + k;
            e.basket = k % 3 == 2 ? NULL : basket;
            must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
        }
        if (u % 3 == 1) {
            persona_event e = PERSONA_EVENT_INIT;
            e.user = users[u];
            e.time_ms = T0 + (int64_t)(u * 11 + 5) * DAY;
            e.type = "return";
            e.value = -7.25 * u;
            must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
        }
        if (u % 2 == 0)
            must(persona_store_consent_set(s, users[u], "email", 1, T0), "consent");
    }
    persona_event e = PERSONA_EVENT_INIT; /* a visitor who never bought */
    e.user = "visitor";
    e.time_ms = T0 + 3 * DAY;
    e.type = "view";
    must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
    return s;
}

static void write_rfm(const persona_store *s, const persona_rfm_options *o, const char *dir,
                      const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    persona_rfm *x = NULL;
    must(persona_rfm_build(&x, s, o), name);
    must(persona_rfm_save(x, path), path);
    persona_rfm_free(x);
}

static void rfm_seeds(const char *dir)
{
    persona_store *s = rfm_store();
    persona_rfm_options o = PERSONA_RFM_OPTIONS_INIT;
    write_rfm(s, &o, dir, "default");
    o.return_type = "return";
    write_rfm(s, &o, dir, "returns");
    o.bins = 2;
    write_rfm(s, &o, dir, "returns-2-bins");
    o.bins = 10;
    o.reference_ms = T0 + 200 * DAY;
    o.from_ms = T0 + 30 * DAY;
    write_rfm(s, &o, dir, "10-bins-window");
    o = (persona_rfm_options)PERSONA_RFM_OPTIONS_INIT;
    o.bins = 3;
    o.consent_purpose = "email";
    o.return_type = "return";
    write_rfm(s, &o, dir, "consent-3-bins");
    o = (persona_rfm_options)PERSONA_RFM_OPTIONS_INIT;
    o.purchase_type = "view";
    write_rfm(s, &o, dir, "one-user");
    o.purchase_type = "no such type";
    write_rfm(s, &o, dir, "nobody");
    persona_store_free(s);
    write_variants(dir, "returns");
    write_variants(dir, "consent-3-bins");
}

static void write_kmeans(const persona_kmeans *m, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    must(persona_kmeans_save(m, path), path);
}

static void kmeans_seeds(const char *dir)
{
    double x[40 * 3];
    for (int i = 0; i < 40 * 3; i++)
        x[i] = (double)((i * 37) % 23) / 4 + (i / 3 % 4) * 5.0;
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = 4;
    o.seed = 9;
    persona_kmeans *m = NULL;
    must(persona_kmeans_fit(&m, x, 40, 3, &o, NULL), "k-means");
    write_kmeans(m, dir, "plain");
    persona_kmeans_free(m);
    o.k = 1;
    must(persona_kmeans_fit(&m, x, 1, 3, &o, NULL), "k-means of one point");
    write_kmeans(m, dir, "one-point");
    persona_kmeans_free(m);
    static const uint32_t view_of[3] = { 0, 1, 1 };
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    v.n_views = 2;
    v.view_of = view_of;
    o.k = 3;
    must(persona_kmeans_fit_views(&m, x, 40, 3, &v, &o, NULL), "multi-view k-means");
    write_kmeans(m, dir, "views");
    persona_kmeans_free(m);
    write_variants(dir, "plain");
    write_variants(dir, "views");
}

/* Affinity matrices of a small store with baskets and categories: by basket, by session
 * with event types, by user with the item as category, and an empty one. */
static void affinity_seeds(const char *dir)
{
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "store");
    const char *items[] = {"milk", "bread", "a, \"b\"", "jam"};
    const char *cats[] = {"dairy", "bakery", NULL, "spreads"};
    for (int i = 0; i < 24; i++) {
        persona_event e = PERSONA_EVENT_INIT;
        char user[8], basket[8];
        snprintf(user, sizeof user, "u%d", i % 3);
        snprintf(basket, sizeof basket, "b%d", i % 5);
        const char *names[1] = {"category"}, *vals[1] = {cats[i * 7 % 4]};
        e.user = user;
        e.time_ms = T0 + (int64_t)(i % 6) * DAY / 24;
        e.type = i % 4 ? "buy" : "view";
        e.item = items[i * 7 % 4];
        e.basket = basket;
        if (vals[0]) {
            e.prop_names = names;
            e.prop_values = vals;
            e.n_props = 1;
        }
        must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
    }
    const char *buy[] = {"buy"};
    const char *names[] = {"basket", "session", "user", "empty"};
    for (int k = 0; k < 4; k++) {
        persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
        o.by = k % 3;
        if (k == 1) {
            o.event_types = buy;
            o.n_event_types = 1;
        }
        if (k == 2)
            o.category_source = PERSONA_AFFINITY_CATEGORY_ITEM;
        if (k == 3)
            o.consent_purpose = "nobody";
        persona_affinity_matrix *m = NULL;
        must(persona_affinity_build(&m, s, &o), "affinity");
        char path[512];
        snprintf(path, sizeof path, "%s/seed-%s", dir, names[k]);
        must(persona_affinity_save(m, path), path);
        persona_affinity_free(m);
    }
    write_variants(dir, "basket");
    persona_store_free(s);
}

/* Path models of a small store with pages and session ids: by type (order 2), by page
 * with grouping rules (order 3), by session id (order 1), and an empty one. */
static void paths_seeds(const char *dir)
{
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "store");
    const char *pages[] = {"home", "p/1", "b", "p/2", NULL};
    for (int i = 0; i < 30; i++) {
        persona_event e = PERSONA_EVENT_INIT;
        char user[8], sid[8];
        snprintf(user, sizeof user, "u%d", i % 4);
        snprintf(sid, sizeof sid, "s%d", i % 3);
        const char *names[2] = {"sid", "page"}, *vals[2] = {sid, pages[i * 7 % 5]};
        e.user = user;
        e.time_ms = T0 + (int64_t)(i % 7) * DAY / 48;
        e.type = i % 3 ? "view" : "b";
        e.prop_names = names;
        e.prop_values = vals;
        e.n_props = vals[1] ? 2 : 1;
        must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
    }
    persona_path_rule rules[2] = {PERSONA_PATH_RULE_INIT, PERSONA_PATH_RULE_INIT};
    rules[0].pattern = "p/*";
    rules[0].state = "product";
    rules[1].pattern = "home";
    const char *names[] = {"type", "page", "session", "empty"};
    for (int k = 0; k < 4; k++) {
        persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
        o.order = k == 0 ? 2 : k == 1 ? 3 : 1;
        if (k == 1) {
            o.state_prop = "page";
            o.rules = rules;
            o.n_rules = 2;
        }
        if (k == 2)
            o.session_prop = "sid";
        if (k == 3)
            o.consent_purpose = "nobody";
        persona_path_model *m = NULL;
        must(persona_path_build(&m, s, &o), "paths");
        char path[512];
        snprintf(path, sizeof path, "%s/seed-%s", dir, names[k]);
        must(persona_path_save(m, path), path);
        persona_path_free(m);
    }
    write_variants(dir, "page");
    persona_store_free(s);
}

/* Attribution journey sets of a small store: touchpoints carrying the property, by
 * touch type with lookback ("(none)" channels), from host journeys with loops, and an
 * empty one. */
static void attribution_seeds(const char *dir)
{
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "store");
    const char *chans[] = {"mail", "search", NULL, "a, \"b\""};
    for (int i = 0; i < 30; i++) {
        persona_event e = PERSONA_EVENT_INIT;
        char user[8];
        snprintf(user, sizeof user, "u%d", i % 4);
        const char *names[1] = {"campaign"}, *vals[1] = {chans[i * 7 % 4]};
        e.user = user;
        e.time_ms = T0 + (int64_t)i * DAY / 24;
        e.type = i % 5 == 4 ? "purchase" : "visit";
        e.value = i % 5 == 4 ? (double)i : NAN;
        if (vals[0] && i % 5 != 4) {
            e.prop_names = names;
            e.prop_values = vals;
            e.n_props = 1;
        }
        must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
    }
    const char *purchase[] = {"purchase"}, *visit[] = {"visit"};
    const char *names[] = {"plain", "typed", "empty"};
    for (int k = 0; k < 3; k++) {
        persona_attribution_options o = PERSONA_ATTRIBUTION_OPTIONS_INIT;
        o.channel_prop = "campaign";
        o.conversion_types = purchase;
        o.n_conversion_types = 1;
        if (k == 1) {
            o.touch_types = visit;
            o.n_touch_types = 1;
            o.lookback_ms = 2 * DAY / 24;
        }
        if (k == 2)
            o.consent_purpose = "nobody";
        persona_attribution *a = NULL;
        must(persona_attribution_build(&a, s, &o), "attribution");
        char path[512];
        snprintf(path, sizeof path, "%s/seed-%s", dir, names[k]);
        must(persona_attribution_save(a, path), path);
        persona_attribution_free(a);
    }
    const char *ch[] = {"A", "B", "C"};
    uint64_t off[] = {0, 2, 4, 5, 9}, conv[] = {1, 0, 2, 1}, nulls[] = {0, 3, 0, 1};
    uint32_t touch[] = {0, 1, 0, 0, 2, 0, 1, 2, 0};
    double value[] = {5, 0, 7.5, 1};
    persona_attribution_journeys in = PERSONA_ATTRIBUTION_JOURNEYS_INIT;
    in.channels = ch;
    in.n_channels = 3;
    in.n_journeys = 4;
    in.offsets = off;
    in.touch_channels = touch;
    in.conversions = conv;
    in.values = value;
    in.nulls = nulls;
    persona_attribution *a = NULL;
    must(persona_attribution_from_journeys(&a, &in), "journeys");
    char path[512];
    snprintf(path, sizeof path, "%s/seed-journeys", dir);
    must(persona_attribution_save(a, path), path);
    persona_attribution_free(a);
    write_variants(dir, "plain");
    write_variants(dir, "journeys");
    persona_store_free(s);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "cohort") == 0)
        cohort_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "funnel") == 0)
        funnel_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "segments") == 0)
        segment_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "rfm") == 0)
        rfm_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "kmeans") == 0)
        kmeans_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "affinity") == 0)
        affinity_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "paths") == 0)
        paths_seeds(argv[2]);
    else if (argc == 3 && strcmp(argv[1], "attribution") == 0)
        attribution_seeds(argv[2]);
    else {
        fprintf(stderr, "usage: make_model_seeds "
                        "cohort|funnel|segments|rfm|kmeans|affinity|paths|attribution DIR\n");
        return 2;
    }
    return 0;
}
