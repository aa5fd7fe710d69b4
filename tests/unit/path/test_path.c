/* Path models: hand-worked sessionization, state mapping (property, "(none)", wildcards,
 * renames, drops), order-1 and order-2 transition counts and probabilities, back-off,
 * the explorer (anchors, exclusions, step limit, goal conversions, drop-offs), bad input,
 * merge == whole on random stores split by user, and probabilities summing to 1. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "path/path_internal.h"
#include "path_test.h"
#include "store_check.h"

#define MIN (INT64_C(60) * 1000)

static void event(persona_store *s, const char *user, int64_t t, const char *type)
{
    ingest_with_prop(s, user, t, type, NAN, "x", NULL);
}

/* u1: home product cart | 2 h | home product; u2: home product product. */
static persona_store *shop(void)
{
    persona_store *s = new_seeded_store(7);
    event(s, "u1", 0, "home");
    event(s, "u1", 1 * MIN, "product");
    event(s, "u1", 2 * MIN, "cart");
    event(s, "u1", 120 * MIN, "home");
    event(s, "u1", 121 * MIN, "product");
    event(s, "u2", 5 * MIN, "product");
    event(s, "u2", 0, "home"); /* arrives late: time order, not log order */
    event(s, "u2", 6 * MIN, "product");
    return s;
}

static int sparse; /* models made by build() use the sparse counting walk */

static persona_path_model *build(const persona_store *s, int32_t order)
{
    persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
    o.order = order;
    persona_path_model *m = NULL;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    if (m && sparse)
        CHECK_RC(persona__path_rederive(m, 0), PERSONA_OK);
    return m;
}

static void check_text(char *got, const char *want)
{
    CHECK_STR(got, want);
    free(got);
}

static void test_transitions(void)
{
    persona_store *s = shop();
    persona_path_model *m = build(s, 2);
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    CHECK(in.order == 2 && in.states == 5 && in.sessions == 3 && in.users == 2 && in.events == 8 &&
          in.skipped == 0);
    /* states in bytewise order */
    CHECK_STR(path_name(m, 0), "(end)");
    CHECK_STR(path_name(m, 1), "(start)");
    CHECK_STR(path_name(m, 4), "product");
    check_text(path_trans_text(m, 1), "(start)>home 3 3\n"
                                      "cart>(end) 1 1\n"
                                      "home>product 3 3\n"
                                      "product>(end) 2 4\n"
                                      "product>cart 1 4\n"
                                      "product>product 1 4\n");
    check_text(path_trans_text(m, 2), "(start)>home>product 3 3\n"
                                      "home>product>(end) 1 3\n"
                                      "home>product>cart 1 3\n"
                                      "home>product>product 1 3\n"
                                      "product>cart>(end) 1 1\n"
                                      "product>product>(end) 1 1\n");
    check_text(path_trans_text(m, 0), "product 4 11\n(end) 3 11\nhome 3 11\ncart 1 11\n");
    CHECK(in.contexts == 4 + 4 && in.transitions == 6 + 6);

    /* next: order 2 seen, back-off to 1, to 0 */
    const char *h1[] = { "home", "product" };
    check_text(path_next_text(m, h1, 2, 2), "(end)=0.333333 cart=0.333333 product=0.333333 @2");
    check_text(path_next_text(m, h1, 2, 1), "(end)=0.5 cart=0.25 product=0.25 @1");
    const char *h2[] = { "cart", "product" };
    check_text(path_next_text(m, h2, 2, 2), "(end)=0.5 cart=0.25 product=0.25 @1");
    const char *h3[] = { "product", "nowhere" };
    check_text(path_next_text(m, h3, 2, 2),
               "product=0.363636 (end)=0.272727 home=0.272727 cart=0.0909091 @0");
    check_text(path_next_text(m, NULL, 0, 2),
               "product=0.363636 (end)=0.272727 home=0.272727 cart=0.0909091 @0");
    const char *h4[] = { "(start)" };
    check_text(path_next_text(m, h4, 1, 2), "home=1 @1");

    /* top-N: capacity cuts the list */
    uint32_t st[2], hist[2];
    double pr[2];
    size_t k = 9;
    int32_t used = -1;
    CHECK_RC(persona_path_state_find(&hist[0], m, "home"), PERSONA_OK);
    CHECK_RC(persona_path_state_find(&hist[1], m, "product"), PERSONA_OK);
    CHECK_RC(persona_path_next(st, pr, 1, &k, &used, m, hist, 2, 1), PERSONA_OK);
    CHECK(k == 1 && st[0] == 0 && pr[0] == 0.5 && used == 1);
    CHECK_RC(persona_path_next(NULL, NULL, 0, &k, NULL, m, hist, 2, 1), PERSONA_OK);
    CHECK(k == 0);

    /* a user's current session */
    CHECK_RC(persona_path_next_user(st, pr, 2, &k, &used, m, "u1", 2), PERSONA_OK);
    CHECK(k == 2 && st[0] == 0 && fabs(pr[0] - 1.0 / 3) < 1e-15 && used == 2);
    CHECK_RC(persona_path_next_user(st, pr, 2, &k, &used, m, "u2", 2), PERSONA_OK);
    CHECK(k == 1 && st[0] == 0 && pr[0] == 1 && used == 2);
    CHECK_RC(persona_path_next_user(st, pr, 2, &k, &used, m, "nobody", 2), PERSONA_ENOTFOUND);
    CHECK_MSG("nobody");

    /* orders out of range */
    CHECK_RC(persona_path_next(st, pr, 2, &k, &used, m, hist, 2, 0), PERSONA_EINVAL);
    CHECK_MSG("orders 1 to 2");
    CHECK_RC(persona_path_next(st, pr, 2, &k, &used, m, hist, 2, 3), PERSONA_EINVAL);
    persona_path_list *l = (persona_path_list *)1;
    CHECK_RC(persona_path_transitions(&l, m, 3), PERSONA_EINVAL);
    CHECK(l == NULL);
    CHECK_RC(persona_path_state_find(&hist[0], m, "checkout"), PERSONA_ENOTFOUND);
    CHECK_MSG("checkout");
    char name[4];
    size_t len = 0;
    CHECK_RC(persona_path_state_name(name, sizeof name, &len, m, 4), PERSONA_EBUFS);
    CHECK(len == 7);
    CHECK_RC(persona_path_state_name(name, sizeof name, &len, m, 5), PERSONA_ENOTFOUND);
    persona_path_free(m);
    persona_store_free(s);
}

static void test_explorer(void)
{
    persona_store *s = shop();
    persona_path_model *m = build(s, 1);
    persona_path_query q = PERSONA_PATH_QUERY_INIT;
    check_text(path_explore_text(m, NULL), "(start)>home>product>(end) 1 0\n"
                                           "(start)>home>product>cart>(end) 1 0\n"
                                           "(start)>home>product>product>(end) 1 0\n");
    q.start_state = "product";
    check_text(path_explore_text(m, &q), "product>(end) 1 0\n"
                                         "product>cart>(end) 1 0\n"
                                         "product>product>(end) 1 0\n");
    q.start_state = NULL;
    q.end_state = "product";
    check_text(path_explore_text(m, &q), "(start)>home>product 3 0\n");
    q.start_state = "product";
    check_text(path_explore_text(m, &q), "product>product 1 0\n"); /* the next product after */
    q.start_state = q.end_state = NULL;
    q.max_steps = 3;
    check_text(path_explore_text(m, &q), "(start)>home>product 3 0\n");
    q.max_steps = 0;
    const char *ex[] = { "product", "unknown" };
    q.exclude = ex;
    q.n_exclude = 2;
    check_text(path_explore_text(m, &q), "(start)>home>(end) 2 0\n(start)>home>cart>(end) 1 0\n");
    q.top = 1;
    check_text(path_explore_text(m, &q), "(start)>home>(end) 2 0\n");
    q.top = 0;
    q.exclude = NULL;
    q.n_exclude = 0;
    q.start_state = "checkout"; /* never seen: no rows */
    check_text(path_explore_text(m, &q), "");
    q.start_state = NULL;

    /* paths to a goal with conversions */
    q.kind = PERSONA_PATH_GOAL;
    q.goal_state = "cart";
    check_text(path_explore_text(m, &q), "(start)>home>product 2 1\n"
                                         "(start)>home>product>product 1 0\n");
    q.max_steps = 2;
    check_text(path_explore_text(m, &q), "home>product 2 1\nproduct>product 1 0\n");
    q.max_steps = 0;
    q.goal_state = "checkout"; /* never reached: each session's whole path */
    check_text(path_explore_text(m, &q), "(start)>home>product 1 0\n"
                                         "(start)>home>product>cart 1 0\n"
                                         "(start)>home>product>product 1 0\n");

    /* drop-offs after each step */
    q.kind = PERSONA_PATH_DROPOFF;
    check_text(path_explore_text(m, &q), "(start) 3 0\n"
                                         "(start)>home 3 0\n"
                                         "(start)>home>product 3 1\n"
                                         "(start)>home>product>cart 1 1\n"
                                         "(start)>home>product>product 1 1\n");
    q.end_state = "cart";
    check_text(path_explore_text(m, &q), "(start) 1 0\n(start)>home 1 0\n(start)>home>product 1 1\n");

    /* bad queries */
    persona_path_list *l = (persona_path_list *)1;
    q.kind = 3;
    CHECK_RC(persona_path_explore(&l, m, &q), PERSONA_EINVAL);
    CHECK(l == NULL);
    q.kind = PERSONA_PATH_GOAL;
    q.goal_state = NULL;
    CHECK_RC(persona_path_explore(&l, m, &q), PERSONA_EINVAL);
    CHECK_MSG("goal_state");
    q.kind = 0;
    q.reserved = 1;
    CHECK_RC(persona_path_explore(&l, m, &q), PERSONA_EINVAL);
    q.reserved = 0;
    q.struct_size = 0;
    CHECK_RC(persona_path_explore(&l, m, &q), PERSONA_EINVAL);
    CHECK_MSG("struct_size");
    size_t rows = 0, n = 0;
    CHECK_RC(persona_path_explore(&l, m, NULL), PERSONA_OK);
    CHECK_RC(persona_path_list_size(&rows, l), PERSONA_OK);
    CHECK(rows == 3);
    uint32_t st[2];
    uint64_t c = 0;
    CHECK_RC(persona_path_list_row(st, 2, &n, &c, NULL, l, 0), PERSONA_EBUFS);
    CHECK(n == 4 && c == 1);
    CHECK_RC(persona_path_list_row(st, 2, &n, &c, NULL, l, 3), PERSONA_ENOTFOUND);
    persona_path_list_free(l);
    persona_path_list_free(NULL);
    persona_path_free(m);
    persona_store_free(s);
}

/* States from a property: wildcards, renames (first match wins), drops, "(none)". */
static void test_states(void)
{
    persona_store *s = new_seeded_store(3);
    ingest_with_prop(s, "a", 0, "view", NAN, "page", "product/123");
    ingest_with_prop(s, "a", 1000, "view", NAN, "page", "internal/health");
    ingest_with_prop(s, "a", 2000, "view", NAN, "page", "product/456");
    ingest_with_prop(s, "a", 3000, "view", NAN, "page", "home");
    ingest_with_prop(s, "a", 4000, "click", NAN, "x", "1"); /* no page: "(none)" */
    ingest_with_prop(s, "a", 5000, "view", NAN, "page", "(start)"); /* reserved: left out */
    persona_path_rule rules[3] = { PERSONA_PATH_RULE_INIT, PERSONA_PATH_RULE_INIT,
                                   PERSONA_PATH_RULE_INIT };
    rules[0].pattern = "product/1*";
    rules[0].state = "p1";
    rules[1].pattern = "product/*";
    rules[1].state = "product";
    rules[2].pattern = "internal/?ealth";
    rules[2].state = NULL;
    persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
    o.state_prop = "page";
    o.rules = rules;
    o.n_rules = 3;
    persona_path_model *m = NULL;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    check_text(path_explore_text(m, NULL), "(start)>p1>product>home>(none)>(end) 1 0\n");
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    CHECK(in.events == 4 && in.skipped == 2 && in.states == 6);
    persona_path_free(m);

    /* by event type with a rename */
    rules[0].pattern = "cl*";
    rules[0].state = "tap";
    o.state_prop = NULL;
    o.n_rules = 1;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    check_text(path_explore_text(m, NULL), "(start)>view>view>view>view>tap>view>(end) 1 0\n");
    persona_path_free(m);

    /* a property no event has: every state "(none)" */
    o.state_prop = "nothing";
    o.n_rules = 0;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    check_text(path_trans_text(m, 1), "(none)>(none) 5 6\n(none)>(end) 1 6\n(start)>(none) 1 1\n");
    persona_path_free(m);

    /* bad rules */
    m = (persona_path_model *)1;
    rules[0].pattern = "";
    o.n_rules = 1;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    CHECK(m == NULL);
    CHECK_MSG("rule 0");
    rules[0].pattern = "x";
    rules[0].state = "(end)";
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    CHECK_MSG("reserved");
    rules[0].state = "ok";
    rules[0].reserved = 1;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    rules[0].reserved = 0;
    o.rules = NULL;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    CHECK_MSG("rules is NULL");
    persona_store_free(s);
}

/* Sessions by a session-id property; events without it are left out. */
static void test_session_prop(void)
{
    persona_store *s = new_seeded_store(5);
    ingest_with_prop(s, "u", 0, "a", NAN, "sid", "s1");
    ingest_with_prop(s, "u", 10 * 60 * MIN, "b", NAN, "sid", "s2");
    ingest_with_prop(s, "u", 20 * 60 * MIN, "c", NAN, "sid", "s1");
    ingest_with_prop(s, "u", 30 * 60 * MIN, "d", NAN, "x", "1");
    persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
    o.session_prop = "sid";
    o.order = 2;
    persona_path_model *m = NULL;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    check_text(path_explore_text(m, NULL), "(start)>a>c>(end) 1 0\n(start)>b>(end) 1 0\n");
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    CHECK(in.sessions == 2 && in.skipped == 1 && in.events == 3);
    /* the current session holds the latest event: s1 (c at 20 h) */
    uint32_t st[4];
    double pr[4];
    size_t k = 0;
    CHECK_RC(persona_path_next_user(st, pr, 4, &k, NULL, m, "u", 2), PERSONA_OK);
    CHECK(k == 1 && strcmp(path_name(m, st[0]), "(end)") == 0);
    persona_path_free(m);

    /* the gap: one session by default (30 min), a new one with a 1 h gap over 10 h */
    o.session_prop = NULL;
    o.session_gap_ms = 60 * MIN;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    CHECK(in.sessions == 4);
    persona_path_free(m);
    o.session_gap_ms = 11 * 60 * MIN;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    check_text(path_explore_text(m, NULL), "(start)>a>b>c>d>(end) 1 0\n");
    persona_path_free(m);
    o.session_gap_ms = 10 * 60 * MIN; /* a gap equal to the limit does not cut */
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    CHECK(in.sessions == 1);
    persona_path_free(m);
    persona_store_free(s);
}

static void test_bad_input(void)
{
    persona_store *s = new_seeded_store(1);
    persona_path_model *m = (persona_path_model *)1;
    persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
    o.order = 5;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    CHECK(m == NULL);
    CHECK_MSG("order is 5");
    o.order = -1;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    o.order = 0;
    o.session_gap_ms = -1;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    CHECK_RC(persona_path_build(&m, NULL, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_path_build(NULL, s, NULL), PERSONA_EINVAL);
    o.session_gap_ms = 0;
    o.struct_size = 4;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_EINVAL);
    CHECK_MSG("struct_size");
    o.struct_size = sizeof o;

    /* an empty store: an empty model answering everything */
    CHECK_RC(persona_path_build(&m, s, NULL), PERSONA_OK);
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    CHECK(in.order == 1 && in.states == 2 && in.sessions == 0 && in.contexts == 0);
    check_text(path_trans_text(m, 1), "");
    check_text(path_trans_text(m, 0), "");
    check_text(path_explore_text(m, NULL), "");
    check_text(path_next_text(m, NULL, 0, 1), "@0");
    persona_path_free(m);
    persona_path_free(NULL);

    /* an order larger than any path: the longest context is as long as the paths allow */
    event(s, "a", 0, "x");
    event(s, "b", 0, "x");
    event(s, "b", 1, "y");
    o.order = 4;
    CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
    check_text(path_trans_text(m, 4), "");
    check_text(path_trans_text(m, 3), "(start)>x>y>(end) 1 1\n");
    const char *h[] = { "(start)", "x", "y", "x", "y" };
    check_text(path_next_text(m, h, 5, 4), "(end)=1 @2"); /* (x, y) seen, (y, x, y) not */
    check_text(path_next_text(m, h, 3, 4), "(end)=1 @3");
    persona_path_free(m);
    persona_store_free(s);
}

/* ---- random stores: merge == whole, probabilities sum to 1 ---- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static void fill_random(persona_store *whole, persona_store *half[2], uint64_t seed)
{
    rng_state = seed;
    static const char *types[] = { "a", "b", "c", "d", "e" };
    for (int i = 0; i < 400; i++) {
        char user[16];
        int u = (int)rnd(12);
        snprintf(user, sizeof user, "user%d", u);
        int64_t t = (int64_t)rnd(600) * MIN / 4;
        const char *type = types[rnd(5)];
        event(whole, user, t, type);
        event(half[u % 2], user, t, type);
    }
}

static void test_merge_random(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        persona_store *whole = new_seeded_store(seed), *half[2] = { new_seeded_store(seed + 100),
                                                                   new_seeded_store(seed + 200) };
        fill_random(whole, half, seed);
        int32_t order = (int32_t)(seed % 4) + 1;
        persona_path_model *w = build(whole, order), *a = build(half[0], order),
                           *b = build(half[1], order), *mg = NULL;
        CHECK_RC(persona_path_merge(&mg, a, b), PERSONA_OK);
        char *dw = path_digest(w), *dm = path_digest(mg);
        CHECK_STR(dm, dw);
        free(dw);
        free(dm);
        /* a user's next from the merged model as from the whole */
        for (int u = 0; u < 12; u++) {
            char user[16];
            snprintf(user, sizeof user, "user%d", u);
            uint32_t s1[8], s2[8];
            double p1[8], p2[8];
            size_t k1 = 0, k2 = 0;
            int r1 = persona_path_next_user(s1, p1, 8, &k1, NULL, w, user, order);
            int r2 = persona_path_next_user(s2, p2, 8, &k2, NULL, mg, user, order);
            CHECK(r1 == r2 && k1 == k2);
            for (size_t i = 0; i < k1 && i < k2; i++)
                CHECK(p1[i] == p2[i] && strcmp(path_name(w, s1[i]), path_name(mg, s2[i])) == 0);
        }
        /* every context's probabilities sum to 1 */
        for (int32_t o = 0; o <= order; o++) {
            persona_path_list *l = NULL;
            CHECK_RC(persona_path_transitions(&l, w, o), PERSONA_OK);
            size_t rows = 0;
            persona_path_list_size(&rows, l);
            double sum = 0;
            uint32_t prev[8] = { 0 }, st[8];
            size_t prev_n = SIZE_MAX;
            for (size_t r = 0; r <= rows; r++) {
                size_t n = 0;
                uint64_t c = 0, x = 0;
                int same = 0;
                if (r < rows) {
                    CHECK_RC(persona_path_list_row(st, 8, &n, &c, &x, l, r), PERSONA_OK);
                    same = prev_n == n && memcmp(prev, st, (n - 1) * sizeof *st) == 0;
                }
                if (!same && prev_n != SIZE_MAX) {
                    CHECK(fabs(sum - 1) < 1e-12);
                    sum = 0;
                }
                if (r < rows) {
                    sum += (double)c / (double)x;
                    memcpy(prev, st, n * sizeof *st);
                    prev_n = n;
                }
            }
            persona_path_list_free(l);
        }
        /* the same user in both parts, different options: refused */
        persona_path_model *bad = NULL;
        CHECK_RC(persona_path_merge(&bad, a, a), PERSONA_EINVAL);
        CHECK_MSG("in both");
        persona_path_model *other = build(half[1], order == 4 ? 3 : order + 1);
        CHECK_RC(persona_path_merge(&bad, a, other), PERSONA_EINVAL);
        CHECK_MSG("order");
        CHECK(bad == NULL);
        persona_path_free(other);
        persona_path_free(w);
        persona_path_free(a);
        persona_path_free(b);
        persona_path_free(mg);
        persona_store_free(whole);
        persona_store_free(half[0]);
        persona_store_free(half[1]);
    }
}

/* The dense counts and the sparse walk give the same model (random stores, every order). */
static void test_dense_equals_sparse(void)
{
    for (uint64_t seed = 11; seed <= 14; seed++) {
        persona_store *s = new_seeded_store(seed), *half[2] = { new_seeded_store(1),
                                                               new_seeded_store(2) };
        fill_random(s, half, seed);
        for (int32_t order = 1; order <= 4; order++) {
            persona_path_model *d = build(s, order);
            sparse = 1;
            persona_path_model *sp = build(s, order);
            sparse = 0;
            char *a = path_digest(d), *b = path_digest(sp);
            CHECK_STR(a, b);
            free(a);
            free(b);
            persona_path_free(d);
            persona_path_free(sp);
        }
        persona_store_free(s);
        persona_store_free(half[0]);
        persona_store_free(half[1]);
    }
}

/* ---- sessions against a brute force ---- */

/* One generated event, in log order. */
typedef struct gen_event {
    int user;
    int64_t t;
    int type, sid; /* sid -1: no session property */
} gen_event;

static const char *const brute_types[] = { "a", "b", "c", "d" };

/* The n sessions sess[] (malloc'd texts, freed with the array) sorted and joined by
 * " | ", so that comparisons ignore the order of sessions. */
static char *join_sorted(char **sess, size_t n)
{
    size_t bytes = 1;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(sess[i]) + 3;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(sess[j - 1], sess[j]) > 0; j--) {
            char *tmp = sess[j];
            sess[j] = sess[j - 1];
            sess[j - 1] = tmp;
        }
    char *out = calloc(bytes, 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, " | ");
        strcat(out, sess[i]);
        free(sess[i]);
    }
    free(sess);
    return out;
}

/* The expected sessions of user u, each as "a>b>c", sorted and joined by " | ": the
 * user's events (sid >= 0 ones only, by_sid) in (time, log) order — grouped by session
 * value first with by_sid — cut by the gap or a change of value. Also the latest event's
 * time in *latest. */
static char *expected_sessions(const gen_event *ev, size_t n, int u, int by_sid, int64_t gap,
                               int64_t *latest)
{
    size_t *idx = malloc((n + 1) * sizeof *idx), k = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].user == u && (!by_sid || ev[i].sid >= 0))
            idx[k++] = i;
    /* insertion sort: stable, by (sid when by_sid, time) */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0; j--) {
            const gen_event *x = &ev[idx[j - 1]], *y = &ev[idx[j]];
            int later = by_sid && x->sid != y->sid ? x->sid > y->sid : x->t > y->t;
            if (!later)
                break;
            size_t tmp = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = tmp;
        }
    char **sess = calloc(k + 1, sizeof *sess);
    size_t n_sess = 0;
    *latest = INT64_MIN;
    for (size_t i = 0; i < k; i++) {
        const gen_event *e = &ev[idx[i]], *p = i ? &ev[idx[i - 1]] : NULL;
        int starts = !p || (by_sid ? e->sid != p->sid : e->t - p->t > gap);
        if (starts)
            sess[n_sess++] = calloc(4 * k + 2, 1);
        char *cur = sess[n_sess - 1];
        if (!starts)
            strcat(cur, ">");
        strcat(cur, brute_types[e->type]);
        *latest = e->t > *latest ? e->t : *latest;
    }
    free(idx);
    return join_sorted(sess, n_sess);
}

/* The model's sessions of a user in the same form; checks that the user's latest session
 * holds an event at `latest` (states do not keep times: its last event is the latest when
 * the sessions are cut by the gap; with a session property, any of its events may be). */
static char *model_sessions(const persona_path_model *m, const char *user)
{
    uint32_t u = persona__intern_find(&m->users, user, strlen(user));
    if (u == PERSONA__NO_ID)
        return calloc(1, 1);
    size_t total = 0;
    for (uint64_t i = 0; i < m->n_sessions; i++)
        total += m->sess_user[i] == u ? 4 * (m->sess_start[i + 1] - m->sess_start[i]) + 4 : 0;
    char **sess = calloc(m->n_sessions + 1, sizeof *sess);
    size_t n_sess = 0;
    for (uint64_t i = 0; i < m->n_sessions; i++) {
        if (m->sess_user[i] != u)
            continue;
        char *cur = sess[n_sess++] = calloc(total + 1, 1);
        for (uint64_t k = m->sess_start[i]; k < m->sess_start[i + 1]; k++) {
            if (k > m->sess_start[i])
                strcat(cur, ">");
            strcat(cur, persona__intern_str(&m->states, m->sess_states[k]));
        }
    }
    return join_sorted(sess, n_sess);
}

/* Random stores in which some users' events arrive in time order and others do not, with
 * and without a session property: every user's sessions equal the brute force's, the
 * counts add up, and the user's latest session is the one that holds their latest event
 * (checked through next_user against the history made from that session). */
static void test_sessions_brute(void)
{
    enum { USERS = 30, EVENTS = 600 };
    for (uint64_t seed = 1; seed <= 12; seed++) {
        rng_state = seed * 7919;
        gen_event ev[EVENTS];
        int64_t clock[USERS] = { 0 };
        int shuffled[USERS];
        for (int u = 0; u < USERS; u++)
            shuffled[u] = (int)rnd(3) == 0; /* a third arrive out of order */
        for (int i = 0; i < EVENTS; i++) {
            int u = (int)rnd(USERS);
            /* in-order users step forward by 0 .. 59 min (0 and 30 min included: ties and
             * the gap's edge); the others jump anywhere in 2 days */
            clock[u] += (int64_t)(rnd(4) == 0 ? 30 : rnd(60)) * MIN;
            int64_t t = shuffled[u] ? (int64_t)rnd(2 * 24 * 60) * MIN : clock[u];
            ev[i] = (gen_event){ u, t, (int)rnd(4), rnd(5) == 0 ? -1 : (int)rnd(3) };
        }
        persona_store *s = new_seeded_store(seed);
        for (int i = 0; i < EVENTS; i++) {
            char user[16], sid[8];
            snprintf(user, sizeof user, "user%d", ev[i].user);
            snprintf(sid, sizeof sid, "s%d", ev[i].sid);
            ingest_with_prop(s, user, ev[i].t, brute_types[ev[i].type], NAN,
                             ev[i].sid >= 0 ? "sid" : "x", ev[i].sid >= 0 ? sid : "1");
        }
        for (int by_sid = 0; by_sid < 2; by_sid++) {
            persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
            o.session_gap_ms = 30 * MIN;
            o.session_prop = by_sid ? "sid" : NULL;
            persona_path_model *m = NULL;
            CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
            if (!m)
                continue;
            for (int u = 0; u < USERS; u++) {
                char user[16];
                snprintf(user, sizeof user, "user%d", u);
                int64_t latest;
                char *want = expected_sessions(ev, EVENTS, u, by_sid, 30 * MIN, &latest);
                char *got = model_sessions(m, user);
                if (strcmp(want, got) != 0)
                    fprintf(stderr, "seed %llu by_sid %d %s:\n  want %s\n  got  %s\n",
                            (unsigned long long)seed, by_sid, user, want, got);
                CHECK_STR(got, want);
                free(want);
                free(got);
                /* the latest session holds an event at the user's latest time */
                uint32_t id = persona__intern_find(&m->users, user, strlen(user));
                if (id == PERSONA__NO_ID)
                    continue;
                uint64_t ls = m->user_last[id];
                CHECK(m->sess_user[ls] == id);
                int holds = 0;
                for (int i = 0; i < EVENTS; i++)
                    if (ev[i].user == u && ev[i].t == latest && (!by_sid || ev[i].sid >= 0)) {
                        for (uint64_t k = m->sess_start[ls]; k < m->sess_start[ls + 1]; k++)
                            holds |= strcmp(persona__intern_str(&m->states, m->sess_states[k]),
                                            brute_types[ev[i].type]) == 0;
                    }
                CHECK(holds);
                if (!by_sid) { /* by the gap the latest event ends the latest session */
                    uint64_t z = m->sess_start[ls + 1] - 1;
                    int last_is_latest = 0;
                    for (int i = 0; i < EVENTS; i++)
                        last_is_latest |= ev[i].user == u && ev[i].t == latest &&
                                          strcmp(persona__intern_str(&m->states, m->sess_states[z]),
                                                 brute_types[ev[i].type]) == 0;
                    CHECK(last_is_latest);
                }
            }
            persona_path_free(m);
        }
        persona_store_free(s);
    }
}

/* ---- next_event() in rules ---- */

/* The shop store plus u3: cart. Order 1: after product the model saw cart 1 (u1's first
 * session), (end) 2 (u1's second, u2's) and product 1 (u2): (end) first; after cart,
 * (end) 2 (u1, u3). u1's latest session is home > product, u2's home > product > product,
 * u3's cart: all three predict "(end)"; "nobody" has no session: missing. Order 2 for u1
 * (home, product): cart 1, (end) 1, product 1 — a tie, in state order: "(end)" first. */
static void test_next_event_rule(void)
{
    persona_store *s = shop();
    event(s, "u3", 0, "cart"); /* u3: cart alone: after cart at order 1: (end) 2 */
    persona_path_model *m1 = build(s, 1);
    persona_segment_model *rules = NULL;
    const char *text = "ends: next_event() == \"(end)\"\n"
                       "carts: next_event() == \"cart\"\n"
                       "unknown: not (next_event() in [\"(end)\", \"cart\", \"product\", \"home\"])\n";
    persona_segment_options so = PERSONA_SEGMENT_OPTIONS_INIT;
    so.mode = PERSONA_SEGMENT_ALL_MATCHES;
    CHECK_RC(persona_segment_model_compile(&rules, text, strlen(text), &so), PERSONA_OK);
    int32_t in = -1;
    /* without a path model next_event() is missing: comparisons are false */
    CHECK_RC(persona_segment_model_test(&in, rules, 0, s, "u1", NULL), PERSONA_OK);
    CHECK(in == 0);
    CHECK_RC(persona_segment_model_test(&in, rules, 2, s, "u1", NULL), PERSONA_OK);
    CHECK(in == 1);
    CHECK_RC(persona_segment_model_use_paths(NULL, m1), PERSONA_EINVAL);
    CHECK_RC(persona_segment_model_use_paths(rules, m1), PERSONA_OK);
    const char *users[] = { "u1", "u2", "u3", "nobody" };
    for (size_t i = 0; i < 4; i++) {
        /* the rule's answer is next_user's first */
        uint32_t st[8];
        double pr[8];
        size_t k = 0;
        int rc = persona_path_next_user(st, pr, 8, &k, NULL, m1, users[i], 1);
        const char *first = rc == PERSONA_OK && k ? path_name(m1, st[0]) : NULL;
        int32_t ends = -1, carts = -1, unknown = -1;
        CHECK_RC(persona_segment_model_test(&ends, rules, 0, s, users[i], NULL), PERSONA_OK);
        CHECK_RC(persona_segment_model_test(&carts, rules, 1, s, users[i], NULL), PERSONA_OK);
        CHECK_RC(persona_segment_model_test(&unknown, rules, 2, s, users[i], NULL), PERSONA_OK);
        CHECK(ends == (first && strcmp(first, "(end)") == 0));
        CHECK(carts == (first && strcmp(first, "cart") == 0));
        CHECK(unknown == !first);
    }
    /* by hand: u1 and u2 end after product, u3 after cart; nobody is unknown */
    CHECK_RC(persona_segment_model_test(&in, rules, 0, s, "u1", NULL), PERSONA_OK);
    CHECK(in == 1);
    CHECK_RC(persona_segment_model_test(&in, rules, 0, s, "u3", NULL), PERSONA_OK);
    CHECK(in == 1);
    CHECK_RC(persona_segment_model_test(&in, rules, 2, s, "nobody", NULL), PERSONA_OK);
    CHECK(in == 1);
    /* order 2: u1's history (home, product) has cart 1 and (end) 1: "(end)" first */
    persona_path_model *m2 = build(s, 2);
    CHECK_RC(persona_segment_model_use_paths(rules, m2), PERSONA_OK);
    CHECK_RC(persona_segment_model_test(&in, rules, 0, s, "u1", NULL), PERSONA_OK);
    CHECK(in == 1);
    /* the explanation shows the value */
    char buf[1024];
    size_t len = 0;
    CHECK_RC(persona_segment_model_describe(buf, sizeof buf, &len, rules, s, "u3", NULL), PERSONA_OK);
    CHECK(strstr(buf, "next_event() = \"(end)\"") != NULL);
    if (!strstr(buf, "next_event() = \"(end)\""))
        fprintf(stderr, "%s\n", buf);
    /* detached: missing again */
    CHECK_RC(persona_segment_model_use_paths(rules, NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_test(&in, rules, 0, s, "u1", NULL), PERSONA_OK);
    CHECK(in == 0);
    /* a type error: next_event() is a string */
    persona_segment_model *bad = NULL;
    CHECK_RC(persona_segment_model_compile(&bad, "x: next_event() > 3", 19, NULL), PERSONA_EPARSE);
    CHECK_RC(persona_segment_model_compile(&bad, "x: next_event(1) == \"a\"", 23, NULL), PERSONA_EPARSE);
    /* live segments cannot use it; the store's live segments are unchanged */
    size_t live = 9;
    CHECK_RC(persona_store_add_segment(s, "soon", "next_event() == \"cart\"", 22, NULL, NULL),
             PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "next_event()") != NULL);
    CHECK_RC(persona_store_segment_count(&live, s), PERSONA_OK);
    CHECK(live == 0);
    CHECK_RC(persona_store_add_segment(s, "carts", "count(\"cart\") > 0", 17, NULL, NULL), PERSONA_OK);
    CHECK_RC(persona_store_segment_count(&live, s), PERSONA_OK);
    CHECK(live == 1);
    persona_segment_model_free(rules);
    persona_path_free(m1);
    persona_path_free(m2);
    persona_store_free(s);
}

int main(void)
{
    /* every test with dense counts (few states), then again with the sparse walk where the
     * test builds through build() */
    for (int pass = 0; pass < 2; pass++) {
        sparse = pass;
        test_transitions();
        test_explorer();
        test_states();
        test_session_prop();
        test_bad_input();
        test_merge_random();
    }
    sparse = 0;
    test_dense_equals_sparse();
    test_sessions_brute();
    test_next_event_rule();
    return check_report("test_path");
}
