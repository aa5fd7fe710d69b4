/* The affinity matrix: a hand-worked example for every measure and query (numbers worked
 * out in the comments), every measure, pair count and similar-items order against a brute
 * force written here on random small stores (by basket, session and user), recommendations
 * never holding owned or excluded items, merge == whole, and degenerate inputs. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "aff_test.h"

#define H (3600 * 1000LL)

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-12 * (fabs(b) > 1 ? fabs(b) : 1);
}

/* Five baskets of three users:
 *   B1 (u1, t 0):   milk, bread, butter        B2 (u1, t 10h): milk, bread
 *   B3 (u2, t 0):   bread, jam                 B4 (u2, t 1h):  milk
 *   B5 (u3, t 0):   "a, b", bread
 * plus a page view of jam by u1 (not a purchase) and a purchase without a basket.
 * Categories: milk, butter dairy; bread bakery; jam spreads; "a, b" none. */
static persona_store *hand_store(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    aff_event(s, "u1", 0, "purchase", "milk", "B1", "dairy");
    aff_event(s, "u1", 0, "purchase", "bread", "B1", "bakery");
    aff_event(s, "u1", 0, "purchase", "butter", "B1", "dairy");
    aff_event(s, "u1", 0, "purchase", "milk", "B1", "dairy"); /* twice in B1: counts once */
    aff_event(s, "u1", 10 * H, "purchase", "milk", "B2", "dairy");
    aff_event(s, "u1", 10 * H, "purchase", "bread", "B2", "bakery");
    aff_event(s, "u1", 5 * H, "view", "jam", NULL, "spreads");
    aff_event(s, "u2", 0, "purchase", "bread", "B3", "bakery");
    aff_event(s, "u2", 0, "purchase", "jam", "B3", "spreads");
    aff_event(s, "u2", 1 * H, "purchase", "milk", "B4", "dairy");
    aff_event(s, "u3", 0, "purchase", "a, b", "B5", NULL);
    aff_event(s, "u3", 0, "purchase", "bread", "B5", "bakery");
    aff_event(s, "u3", 2 * H, "purchase", "tea", NULL, "drinks"); /* no basket */
    return s;
}

static const char *const purchase[] = { "purchase" };

static persona_affinity_matrix *build(persona_store *s, int32_t by)
{
    persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
    o.by = by;
    o.event_types = purchase;
    o.n_event_types = 1;
    persona_affinity_matrix *m = NULL;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_OK);
    return m;
}

static void test_measures_by_hand(void)
{
    /* milk–bread: n = 5 baskets, n_milk = 3 (B1 B2 B4), n_bread = 4 (B1 B2 B3 B5), n_ab = 2 */
    CHECK(near(persona_affinity_support(2, 3, 4, 5), 0.4));             /* 2/5 */
    CHECK(near(persona_affinity_confidence(2, 3, 4, 5), 2.0 / 3));      /* 2/3 */
    CHECK(near(persona_affinity_lift(2, 3, 4, 5), 10.0 / 12));          /* 2·5/(3·4) */
    CHECK(near(persona_affinity_jaccard(2, 3, 4, 5), 0.4));             /* 2/(3+4−2) */
    CHECK(near(persona_affinity_cosine(2, 3, 4, 5), 2 / sqrt(12.0)));   /* 2/√12 */
    CHECK(near(persona_affinity_conviction(2, 3, 4, 5), 0.6));          /* (1−4/5)/(1−2/3) */
    CHECK(near(persona_affinity_leverage(2, 3, 4, 5), -0.08));          /* 0.4 − 0.6·0.8 */
    /* butter → milk: confidence 1, so conviction is infinite */
    CHECK(isinf(persona_affinity_conviction(1, 1, 3, 5)));
    /* impossible counts and empty denominators */
    CHECK(isnan(persona_affinity_lift(4, 3, 4, 5)));
    CHECK(isnan(persona_affinity_support(0, 0, 0, 0)));
    CHECK(isnan(persona_affinity_confidence(0, 0, 1, 1)));

    persona_store *s = hand_store();
    persona_affinity_matrix *m = build(s, PERSONA_AFFINITY_BY_BASKET);
    persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
    CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
    /* 5 baskets; items a, b / bread / butter / jam / milk; pairs: ab-bread, bread-butter,
     * bread-jam, bread-milk, butter-milk; entries 3+2+2+1+2; users u1 u2 u3;
     * categories bakery dairy spreads (tea has no basket, the view is not counted) */
    CHECK(in.units == 5 && in.items == 5 && in.pairs == 5 && in.entries == 10 &&
          in.users == 3 && in.categories == 3);
    CHECK_STR(aff_key(m, 0), "a, b");
    CHECK_STR(aff_key(m, 4), "milk");
    persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
    CHECK_RC(persona_affinity_pair(&p, m, "milk", "bread"), PERSONA_OK);
    CHECK(p.count_ab == 2 && p.count_a == 3 && p.count_b == 4 && p.units == 5);
    CHECK(near(p.support, 0.4) && near(p.confidence, 2.0 / 3) && near(p.lift, 10.0 / 12) &&
          near(p.jaccard, 0.4) && near(p.cosine, 2 / sqrt(12.0)) && near(p.conviction, 0.6) &&
          near(p.leverage, -0.08));
    CHECK_RC(persona_affinity_pair(&p, m, "jam", "milk"), PERSONA_OK);
    CHECK(p.count_ab == 0 && p.lift == 0 && near(p.leverage, -0.2 * 0.6)); /* 0 − 0.2·0.6 */
    CHECK_RC(persona_affinity_pair(&p, m, "milk", "nope"), PERSONA_ENOTFOUND);
    CHECK(strstr(persona_errmsg(), "nope") != NULL);

    /* similar to bread by lift: a, b / butter / jam have 1·5/(4·1) = 1.25 with one
     * basket each (tie: key bytewise), milk 0.8333 */
    uint32_t it[8];
    double sc[8];
    uint64_t cn[8];
    size_t n = 0;
    CHECK_RC(persona_affinity_similar(it, sc, cn, 8, &n, m, "bread", PERSONA_AFFINITY_LIFT, 0),
             PERSONA_OK);
    CHECK(n == 4);
    CHECK(it[0] == 0 && it[1] == 2 && it[2] == 3 && it[3] == 4);
    CHECK(near(sc[0], 1.25) && near(sc[3], 10.0 / 12) && cn[3] == 2 && cn[0] == 1);
    /* by Jaccard: milk 2/5 = 0.4 first, then the three at 1/4 */
    CHECK_RC(persona_affinity_similar(it, sc, cn, 2, &n, m, "bread", PERSONA_AFFINITY_JACCARD, 0),
             PERSONA_OK);
    CHECK(n == 2 && it[0] == 4 && near(sc[0], 0.4) && it[1] == 0 && near(sc[1], 0.25));
    /* min_count 2 leaves milk only */
    CHECK_RC(persona_affinity_similar(it, sc, cn, 8, &n, m, "bread", PERSONA_AFFINITY_COSINE, 2),
             PERSONA_OK);
    CHECK(n == 1 && it[0] == 4 && cn[0] == 2);
    CHECK_RC(persona_affinity_similar(it, sc, cn, 8, &n, m, "bread", 99, 0), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_similar(it, sc, cn, 8, &n, m, "tea", 0, 0), PERSONA_ENOTFOUND);
    CHECK(strstr(persona_errmsg(), "'tea'") != NULL);

    /* recommend to u3 (has a, b and bread) by lift: butter 1.25, jam 1.25, milk 0.8333 */
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, s, "u3", NULL, 0, 0, 0), PERSONA_OK);
    CHECK(n == 3 && it[0] == 2 && it[1] == 3 && it[2] == 4 && near(sc[0], 1.25) &&
          near(sc[2], 10.0 / 12));
    const char *ex[] = { "jam", "unknown item" };
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, s, "u3", ex, 2, 0, 0), PERSONA_OK);
    CHECK(n == 2 && it[0] == 2 && it[1] == 4);
    /* the same from the matrix's own units */
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, NULL, "u3", ex, 2, 0, 0), PERSONA_OK);
    CHECK(n == 2 && it[0] == 2 && it[1] == 4);
    /* u1 has milk, bread, butter (the jam view does not count): a, b via bread
     * (1.25) and jam via bread (1.25) + via milk (0: never together, not listed) */
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, s, "u1", NULL, 0, 0, 0), PERSONA_OK);
    CHECK(n == 2 && it[0] == 0 && it[1] == 3 && near(sc[0], 1.25) && near(sc[1], 1.25));
    /* by count with min_count 2: nothing for u2 but... u2 has bread, jam, milk: none left */
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, s, "u2", NULL, 0,
                                        PERSONA_AFFINITY_COUNT, 2), PERSONA_OK);
    CHECK(n == 0);
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, s, "nobody", NULL, 0, 0, 0),
             PERSONA_ENOTFOUND);
    CHECK(strstr(persona_errmsg(), "nobody") != NULL);
    CHECK_RC(persona_affinity_recommend(it, sc, 8, &n, m, NULL, "nobody", NULL, 0, 0, 0),
             PERSONA_ENOTFOUND);

    /* user categories of u1 as of 10h, half-life 10h: the t = 0 purchases weigh 1/2, those
     * at 10h 1 (the view is not a purchase): dairy 0.5 + 0.5 + 1 (milk, butter, milk;
     * the repeated milk of B1 counts as an event) = 2.5, bakery 0.5 + 1 = 1.5 */
    CHECK_RC(persona_affinity_user_categories(it, sc, 8, &n, m, s, "u1", 10 * H, 10 * H),
             PERSONA_OK);
    char cat[32];
    CHECK(n == 2);
    CHECK_RC(persona_affinity_category_key(cat, sizeof cat, NULL, m, it[0]), PERSONA_OK);
    CHECK_STR(cat, "dairy");
    CHECK(near(sc[0], 2.5) && near(sc[1], 1.5));
    /* as of 5h only the t = 0 events, weighing 2^(−1/2) each: dairy 3, bakery 1 */
    CHECK_RC(persona_affinity_user_categories(it, sc, 8, &n, m, s, "u1", 5 * H, 10 * H),
             PERSONA_OK);
    CHECK(n == 2 && near(sc[0], 3 * sqrt(0.5)) && near(sc[1], sqrt(0.5)));
    CHECK_RC(persona_affinity_user_categories(it, sc, 8, &n, m, s, "u1", 0, -1), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_user_categories(it, sc, 8, &n, m, s, "zz", 0, 0), PERSONA_ENOTFOUND);
    persona_affinity_free(m);
    persona_store_free(s);
}

static int in_u1(void *ctx, const char *user, size_t len)
{
    (void)ctx;
    return len == 2 && memcmp(user, "u1", 2) == 0;
}

static int stop(void *ctx, const char *user, size_t len)
{
    (void)ctx;
    (void)user;
    (void)len;
    return -1;
}

static void test_overindex_by_hand(void)
{
    persona_store *s = hand_store();
    persona_affinity_matrix *m = build(s, PERSONA_AFFINITY_BY_BASKET);
    /* segment {u1}: S = 2 baskets (B1, B2), R = 3.
     *   butter x_s 1: share 1/2, population 1/5, index 250,
     *          z = (1/2 − 0)/√(0.2·0.8·(1/2 + 1/3)) = 0.5/√(2/15)
     *   milk   x_s 2: share 1, population 3/5, index 166.67, z = (1 − 1/3)/√(0.24·5/6)
     *   bread  x_s 2: share 1, population 4/5, index 125,    z = (1 − 2/3)/√(0.16·5/6) */
    uint32_t it[8];
    double ix[8], ss[8], ps[8], z[8];
    size_t n = 0;
    uint64_t S = 0;
    CHECK_RC(persona_affinity_overindex(it, ix, ss, ps, z, 8, &n, &S, m, NULL, NULL, in_u1, NULL,
                                        0),
             PERSONA_OK);
    CHECK(n == 3 && S == 2);
    CHECK(it[0] == 2 && it[1] == 4 && it[2] == 1);
    CHECK(near(ix[0], 250) && near(ix[1], 500.0 / 3) && near(ix[2], 125));
    CHECK(near(ss[0], 0.5) && near(ps[0], 0.2) && near(ps[2], 0.8));
    CHECK(near(z[0], 0.5 / sqrt(2.0 / 15)) && near(z[1], (2.0 / 3) / sqrt(0.2)) &&
          near(z[2], (1.0 / 3) / sqrt(0.16 * 5 / 6)));
    CHECK_RC(persona_affinity_overindex(it, ix, ss, ps, z, 8, &n, &S, m, NULL, NULL, stop, NULL, 0),
             PERSONA_ECALLBACK);
    /* a live segment of the store: u1 (who has at least 5 events) */
    CHECK_RC(persona_store_add_segment(s, "busy", "events >= 5", 11, NULL, NULL), PERSONA_OK);
    size_t n2 = 0;
    uint32_t it2[8];
    CHECK_RC(persona_affinity_overindex(it2, NULL, NULL, NULL, NULL, 8, &n2, NULL, m, s, "busy",
                                        NULL, NULL, 0),
             PERSONA_OK);
    CHECK(n2 == 3 && memcmp(it, it2, 3 * sizeof *it) == 0);
    CHECK_RC(persona_affinity_overindex(it2, NULL, NULL, NULL, NULL, 8, &n2, NULL, m, s, "idle",
                                        NULL, NULL, 0),
             PERSONA_ENOTFOUND);
    CHECK(strstr(persona_errmsg(), "idle") != NULL);
    CHECK_RC(persona_affinity_overindex(it2, NULL, NULL, NULL, NULL, 8, &n2, NULL, m, NULL, NULL,
                                        NULL, NULL, 0),
             PERSONA_EINVAL);
    persona_affinity_free(m);
    persona_store_free(s);
}

static void test_units_by_hand(void)
{
    persona_store *s = hand_store();
    /* by user: u1 {bread, butter, milk}, u2 {bread, jam, milk}, u3 {a, b, bread, tea} */
    persona_affinity_matrix *m = build(s, PERSONA_AFFINITY_BY_USER);
    persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
    CHECK_RC(persona_affinity_pair(&p, m, "milk", "bread"), PERSONA_OK);
    CHECK(p.units == 3 && p.count_ab == 2 && p.count_a == 2 && p.count_b == 3);
    CHECK_RC(persona_affinity_pair(&p, m, "tea", "a, b"), PERSONA_OK);
    CHECK(p.count_ab == 1);
    persona_affinity_free(m);
    /* by session (30 min): u1 t0 / t10h, u2 t0 / t1h, u3 t0 / t2h: six sessions */
    m = build(s, PERSONA_AFFINITY_BY_SESSION);
    CHECK_RC(persona_affinity_pair(&p, m, "milk", "bread"), PERSONA_OK);
    CHECK(p.units == 6 && p.count_ab == 2 && p.count_a == 3 && p.count_b == 4);
    persona_affinity_free(m);
    /* a 2-hour gap joins u2's two sessions and u3's: four */
    persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
    o.by = PERSONA_AFFINITY_BY_SESSION;
    o.session_gap_ms = 2 * H;
    o.event_types = purchase;
    o.n_event_types = 1;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_OK);
    CHECK_RC(persona_affinity_pair(&p, m, "milk", "jam"), PERSONA_OK);
    CHECK(p.units == 4 && p.count_ab == 1);
    persona_affinity_free(m);
    /* every event type: the jam view joins u1's units (by user) */
    o = (persona_affinity_options)PERSONA_AFFINITY_OPTIONS_INIT;
    o.by = PERSONA_AFFINITY_BY_USER;
    o.category_source = PERSONA_AFFINITY_CATEGORY_ITEM;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_OK);
    CHECK_RC(persona_affinity_pair(&p, m, "milk", "jam"), PERSONA_OK);
    CHECK(p.count_ab == 2);
    /* categories are the items: u1's jam view at 5h, as of 5h half-life 1h: 1 */
    uint32_t it[8];
    double sc[8];
    size_t n = 0;
    CHECK_RC(persona_affinity_user_categories(it, sc, 8, &n, m, s, "u1", 5 * H, H), PERSONA_OK);
    CHECK(n == 4 && it[0] == 3 && near(sc[0], 1.0)); /* jam; then milk, bread, butter 2^-5 */
    CHECK(near(sc[1], 2 * 0.03125) && it[1] == 4); /* milk twice at t 0 */
    persona_affinity_free(m);
    persona_store_free(s);
}

static void test_degenerate(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    persona_affinity_matrix *m = (persona_affinity_matrix *)1;
    /* an empty store: an empty matrix */
    CHECK_RC(persona_affinity_build(&m, s, NULL), PERSONA_OK);
    persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
    CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
    CHECK(in.units == 0 && in.items == 0 && in.pairs == 0);
    uint32_t it[4];
    size_t n = 9;
    CHECK_RC(persona_affinity_similar(it, NULL, NULL, 4, &n, m, "x", 0, 0), PERSONA_ENOTFOUND);
    CHECK(n == 0);
    persona_affinity_free(m);
    /* events without items */
    aff_event(s, "u", 0, "view", NULL, "B", NULL);
    CHECK_RC(persona_affinity_build(&m, s, NULL), PERSONA_OK);
    CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
    CHECK(in.units == 0 && in.items == 0);
    persona_affinity_free(m);
    /* one item: one unit, no pairs, nothing similar, nothing to recommend */
    aff_event(s, "u", 0, "buy", "solo", "B", NULL);
    aff_event(s, "v", 0, "buy", "solo", "C", NULL);
    CHECK_RC(persona_affinity_build(&m, s, NULL), PERSONA_OK);
    CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
    CHECK(in.units == 2 && in.items == 1 && in.pairs == 0);
    CHECK_RC(persona_affinity_similar(it, NULL, NULL, 4, &n, m, "solo", 0, 0), PERSONA_OK);
    CHECK(n == 0);
    CHECK_RC(persona_affinity_recommend(it, NULL, 4, &n, m, s, "u", NULL, 0, 0, 0), PERSONA_OK);
    CHECK(n == 0);
    persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
    CHECK_RC(persona_affinity_pair(&p, m, "solo", "solo"), PERSONA_OK);
    CHECK(p.count_ab == 2 && p.lift == 1 && isinf(p.conviction));
    persona_affinity_free(m);
    /* bad options */
    persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
    o.by = 3;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_EINVAL);
    CHECK(m == NULL);
    o.by = 0;
    o.session_gap_ms = -1;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_EINVAL);
    o.session_gap_ms = 0;
    o.n_event_types = 1;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_EINVAL);
    o.n_event_types = 0;
    o.struct_size = 0;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_build(&m, NULL, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_build(NULL, s, NULL), PERSONA_EINVAL);
    persona_affinity_free(NULL);
    persona_store_free(s);
}

/* Every measure's NaN cases, merges refused for each option that differs, NULL arguments. */
static void test_edges(void)
{
    double (*const fn[])(uint64_t, uint64_t, uint64_t, uint64_t) = {
        persona_affinity_support, persona_affinity_confidence, persona_affinity_lift,
        persona_affinity_jaccard, persona_affinity_cosine,     persona_affinity_conviction,
        persona_affinity_leverage };
    for (size_t i = 0; i < sizeof fn / sizeof *fn; i++) {
        CHECK(isnan(fn[i](3, 2, 5, 9)));  /* n_ab > n_a */
        CHECK(isnan(fn[i](1, 10, 5, 9))); /* n_a > n */
        CHECK(isnan(fn[i](0, 0, 0, 0)));  /* nothing */
        CHECK(!isnan(fn[i](1, 2, 3, 9)));
    }
    persona_store *s = hand_store();
    static const char *const other[] = { "view" };
    persona_affinity_options o[6];
    for (int i = 0; i < 6; i++)
        o[i] = (persona_affinity_options)PERSONA_AFFINITY_OPTIONS_INIT;
    o[1].event_types = purchase;
    o[1].n_event_types = 1;
    o[2].event_types = other;
    o[2].n_event_types = 1;
    o[3].category_prop = "aisle";
    o[4].category_source = PERSONA_AFFINITY_CATEGORY_ITEM;
    o[5].consent_purpose = "analytics";
    persona_affinity_matrix *m[6];
    for (int i = 0; i < 6; i++)
        CHECK_RC(persona_affinity_build(&m[i], s, &o[i]), PERSONA_OK);
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            persona_affinity_matrix *x = NULL;
            CHECK_RC(persona_affinity_merge(&x, m[i], m[j]), i == j ? PERSONA_OK : PERSONA_EINVAL);
            persona_affinity_free(x);
        }
    persona_affinity_matrix *x = NULL;
    CHECK_RC(persona_affinity_merge(&x, NULL, m[0]), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_merge(NULL, m[0], m[0]), PERSONA_EINVAL);
    uint32_t it[4];
    double sc[4];
    size_t n = 0;
    const char *bad_ex[] = { NULL };
    CHECK_RC(persona_affinity_recommend(it, sc, 4, &n, m[0], s, NULL, NULL, 0, 0, 0), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_recommend(it, sc, 4, &n, m[0], s, "u1", bad_ex, 1, 0, 0),
             PERSONA_EINVAL);
    CHECK_RC(persona_affinity_recommend(it, sc, 4, &n, m[0], s, "u1", NULL, 1, 0, 0), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_recommend(it, sc, 4, &n, m[0], s, "u1", NULL, 0, -1, 0),
             PERSONA_EINVAL);
    CHECK_RC(persona_affinity_recommend(NULL, sc, 4, &n, m[0], s, "u1", NULL, 0, 0, 0),
             PERSONA_EINVAL);
    CHECK_RC(persona_affinity_user_categories(it, sc, 4, &n, m[0], NULL, "u1", 0, 0),
             PERSONA_EINVAL);
    CHECK_RC(persona_affinity_user_categories(it, sc, 4, &n, NULL, s, "u1", 0, 0), PERSONA_EINVAL);
    /* a category property nobody has: no categories */
    CHECK_RC(persona_affinity_user_categories(it, sc, 4, &n, m[3], s, "u1", 0, 0), PERSONA_OK);
    CHECK(n == 0);
    /* nobody granted analytics: an empty matrix, u1 has no unit */
    CHECK_RC(persona_affinity_recommend(it, sc, 4, &n, m[5], NULL, "u1", NULL, 0, 0, 0),
             PERSONA_ENOTFOUND);
    CHECK_RC(persona_affinity_similar(it, sc, NULL, 4, &n, NULL, "milk", 0, 0), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_similar(NULL, sc, NULL, 4, &n, m[0], "milk", 0, 0), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_similar(it, sc, NULL, 4, &n, m[0], NULL, 0, 0), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_overindex(NULL, NULL, NULL, NULL, NULL, 4, &n, NULL, m[0], s, "x",
                                        NULL, NULL, 0),
             PERSONA_EINVAL);
    size_t idx = 0;
    CHECK_RC(persona_affinity_item_find(&idx, m[0], "milk"), PERSONA_OK);
    CHECK(idx == 4);
    CHECK_RC(persona_affinity_item_find(NULL, m[0], "milk"), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_item_find(&idx, m[0], "nope"), PERSONA_ENOTFOUND);
    char key[4];
    size_t len = 0;
    CHECK_RC(persona_affinity_item_key(key, sizeof key, &len, m[0], 4), PERSONA_EBUFS);
    CHECK(len == 4);
    CHECK_RC(persona_affinity_item_key(key, sizeof key, &len, m[0], 5), PERSONA_ENOTFOUND);
    CHECK_RC(persona_affinity_category_key(key, sizeof key, &len, m[0], 9), PERSONA_ENOTFOUND);
    char cat[16];
    CHECK_RC(persona_affinity_category_key(cat, sizeof cat, &len, m[4], 1), PERSONA_OK);
    CHECK_STR(cat, "bread"); /* the item as category */
    persona_affinity_info in = { 0 };
    CHECK_RC(persona_affinity_info_get(&in, m[0]), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_info_get(&in, NULL), PERSONA_EINVAL);
    persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
    CHECK_RC(persona_affinity_pair(&p, NULL, "milk", "bread"), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_pair(&p, m[0], NULL, "bread"), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_save(m[0], NULL), PERSONA_EINVAL);
    for (int i = 0; i < 6; i++)
        persona_affinity_free(m[i]);
    persona_store_free(s);
}

/* ---- brute force on random stores ---- */

enum { USERS = 7, ITEMS = 9, BASKETS = 5, EVENTS = 160 };

typedef struct bev {
    int user, item, basket, type;
    int64_t t;
} bev;

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

static const char *item_name(int i)
{
    static const char *const names[ITEMS] = { "Z", "a", "a b", "a,b", "b", "ba", "é", "\"q\"",
                                              "10" };
    return names[i];
}

/* Units as item bitmasks, by definition (kind: 0 basket, 1 session 30 min, 2 user). */
static size_t brute_units(const bev *e, size_t n, int kind, uint32_t *units)
{
    size_t nu = 0;
    for (int u = 0; u < USERS; u++) {
        if (kind == 2) {
            uint32_t mask = 0;
            for (size_t i = 0; i < n; i++)
                if (e[i].user == u && e[i].type == 0)
                    mask |= 1u << e[i].item;
            if (mask)
                units[nu++] = mask;
        } else if (kind == 0) {
            for (int b = 0; b < BASKETS; b++) {
                uint32_t mask = 0;
                for (size_t i = 0; i < n; i++)
                    if (e[i].user == u && e[i].basket == b && e[i].type == 0)
                        mask |= 1u << e[i].item;
                if (mask)
                    units[nu++] = mask;
            }
        } else {
            /* sessions: the user's counted events by time, split after gaps > 30 min */
            int64_t ts[EVENTS];
            int its[EVENTS];
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (e[i].user == u && e[i].type == 0) {
                    size_t j = k++;
                    while (j > 0 && ts[j - 1] > e[i].t) {
                        ts[j] = ts[j - 1];
                        its[j] = its[j - 1];
                        j--;
                    }
                    ts[j] = e[i].t;
                    its[j] = e[i].item;
                }
            uint32_t mask = 0;
            for (size_t i = 0; i < k; i++) {
                if (i && ts[i] - ts[i - 1] > 30 * 60 * 1000LL) {
                    units[nu++] = mask;
                    mask = 0;
                }
                mask |= 1u << its[i];
            }
            if (mask)
                units[nu++] = mask;
        }
    }
    return nu;
}

typedef struct bsim {
    double score;
    uint64_t count;
    int item; /* rank of the key bytewise */
} bsim;

static int cmp_bsim(const void *a, const void *b)
{
    const bsim *x = a, *y = b;
    /* scores equal as fractions are ties, whatever the rounding of the formula here */
    double tol = 1e-12 * (fabs(x->score) > 1 ? fabs(x->score) : 1);
    if (x->score != y->score && !(fabs(x->score - y->score) <= tol))
        return x->score > y->score ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->item - y->item;
}

static double brute_measure(int ms, double ab, double a, double b, double n)
{
    switch (ms) {
    case PERSONA_AFFINITY_LIFT: return ab * n / (a * b);
    case PERSONA_AFFINITY_JACCARD: return ab / (a + b - ab);
    case PERSONA_AFFINITY_COSINE: return ab / sqrt(a * b);
    case PERSONA_AFFINITY_CONFIDENCE: return ab / a;
    case PERSONA_AFFINITY_SUPPORT: return ab / n;
    case PERSONA_AFFINITY_CONVICTION: return ab == a ? INFINITY : (1 - b / n) / (1 - ab / a);
    case PERSONA_AFFINITY_LEVERAGE: return ab / n - (a / n) * (b / n);
    default: return ab;
    }
}

static int close_enough(double a, double b)
{
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

static void brute_one(const bev *e, size_t n, int kind, uint64_t seed)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    for (size_t i = 0; i < n; i++) {
        char user[8], basket[16];
        snprintf(user, sizeof user, "u%d", e[i].user);
        snprintf(basket, sizeof basket, "b%d", e[i].basket);
        aff_event(s, user, e[i].t, e[i].type ? "view" : "buy", item_name(e[i].item), basket,
                  NULL);
    }
    static const char *const buy[] = { "buy" };
    persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
    o.by = kind;
    o.event_types = buy;
    o.n_event_types = 1;
    persona_affinity_matrix *m = NULL;
    CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_OK);
    uint32_t units[USERS * EVENTS];
    size_t nu = brute_units(e, n, kind, units);
    uint64_t cnt[ITEMS] = { 0 }, co[ITEMS][ITEMS] = { { 0 } };
    for (size_t u = 0; u < nu; u++)
        for (int a = 0; a < ITEMS; a++)
            if (units[u] >> a & 1) {
                cnt[a]++;
                for (int b = 0; b < ITEMS; b++)
                    if (b != a && (units[u] >> b & 1))
                        co[a][b]++;
            }
    /* the rank of each item's key bytewise */
    int rank[ITEMS], present = 0;
    for (int a = 0; a < ITEMS; a++) {
        rank[a] = 0;
        for (int b = 0; b < ITEMS; b++)
            rank[a] += cnt[b] && strcmp(item_name(b), item_name(a)) < 0;
        present += cnt[a] != 0;
    }
    persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
    CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
    int ok = in.units == nu && in.items == (uint64_t)present;
    for (int a = 0; a < ITEMS; a++) {
        if (!cnt[a])
            continue;
        ok &= strcmp(aff_key(m, (size_t)rank[a]), item_name(a)) == 0;
        for (int b = 0; b < ITEMS; b++) {
            if (!cnt[b] || a == b)
                continue;
            persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
            CHECK_RC(persona_affinity_pair(&p, m, item_name(a), item_name(b)), PERSONA_OK);
            double ab = (double)co[a][b], na = (double)cnt[a], nb = (double)cnt[b], N = (double)nu;
            ok &= p.count_ab == co[a][b] && p.count_a == cnt[a] && p.count_b == cnt[b];
            ok &= close_enough(p.lift, brute_measure(PERSONA_AFFINITY_LIFT, ab, na, nb, N)) &&
                  close_enough(p.jaccard, brute_measure(PERSONA_AFFINITY_JACCARD, ab, na, nb, N)) &&
                  close_enough(p.cosine, brute_measure(PERSONA_AFFINITY_COSINE, ab, na, nb, N)) &&
                  close_enough(p.confidence, brute_measure(PERSONA_AFFINITY_CONFIDENCE, ab, na, nb, N)) &&
                  close_enough(p.support, brute_measure(PERSONA_AFFINITY_SUPPORT, ab, na, nb, N)) &&
                  close_enough(p.leverage, brute_measure(PERSONA_AFFINITY_LEVERAGE, ab, na, nb, N));
            if (co[a][b])
                ok &= close_enough(p.conviction,
                                   brute_measure(PERSONA_AFFINITY_CONVICTION, ab, na, nb, N));
        }
        /* similar items under every measure, min count 1 and 2, top 3 and all */
        for (int ms = 0; ms < PERSONA_AFFINITY_MEASURES; ms++)
            for (uint64_t minc = 0; minc <= 2; minc++) {
                bsim want[ITEMS];
                size_t nw = 0;
                for (int b = 0; b < ITEMS; b++)
                    if (b != a && co[a][b] && co[a][b] >= minc)
                        want[nw++] = (bsim){ brute_measure(ms, (double)co[a][b], (double)cnt[a],
                                                           (double)cnt[b], (double)nu),
                                             co[a][b], rank[b] };
                qsort(want, nw, sizeof *want, cmp_bsim);
                uint32_t it[ITEMS];
                double sc[ITEMS];
                uint64_t cc[ITEMS];
                size_t got = 0, cap = minc == 1 ? 3 : ITEMS;
                CHECK_RC(persona_affinity_similar(it, sc, cc, cap, &got, m, item_name(a), ms, minc),
                         PERSONA_OK);
                int sok = got == (nw < cap ? nw : cap);
                for (size_t i = 0; i < got && i < nw; i++)
                    sok &= it[i] == (uint32_t)want[i].item && cc[i] == want[i].count &&
                           close_enough(sc[i], want[i].score);
                if (!sok)
                    fprintf(stderr, "similar %s measure %d min %d differs\n", item_name(a), ms,
                            (int)minc);
                ok &= sok;
            }
    }
    /* recommendations: by brute force, and never owned or excluded */
    for (int u = 0; u < USERS; u++) {
        char user[8];
        snprintf(user, sizeof user, "u%d", u);
        uint32_t own = 0;
        for (size_t i = 0; i < n; i++)
            if (e[i].user == u && e[i].type == 0)
                own |= 1u << e[i].item;
        int ex = (int)rnd(ITEMS);
        const char *exclude[1] = { item_name(ex) };
        uint32_t it[ITEMS];
        double sc[ITEMS];
        size_t got = 0;
        int rc = persona_affinity_recommend(it, sc, ITEMS, &got, m, s, user, exclude, 1,
                                            PERSONA_AFFINITY_COSINE, 0);
        CHECK(rc == PERSONA_OK || rc == PERSONA_ENOTFOUND);
        if (rc)
            continue;
        bsim want[ITEMS];
        size_t nw = 0;
        for (int c = 0; c < ITEMS; c++) {
            if ((own >> c & 1) || c == ex || !cnt[c])
                continue;
            double sum = 0;
            int any = 0;
            for (int h = 0; h < ITEMS; h++)
                if ((own >> h & 1) && co[h][c]) {
                    /* summed in the matrix's order: the owned items' index order */
                    any = 1;
                    (void)sum;
                }
            if (any) {
                for (int r = 0; r < ITEMS; r++)
                    for (int h = 0; h < ITEMS; h++)
                        if (rank[h] == r && cnt[h] && (own >> h & 1) && co[h][c])
                            sum += (double)co[h][c] / sqrt((double)cnt[h] * (double)cnt[c]);
                want[nw++] = (bsim){ sum, 0, rank[c] };
            }
        }
        qsort(want, nw, sizeof *want, cmp_bsim);
        if (got != nw)
            fprintf(stderr, "recommend %s: %zu of %zu\n", user, got, nw);
        ok &= got == nw;
        for (size_t i = 0; i < got && i < nw; i++) {
            ok &= it[i] == (uint32_t)want[i].item && close_enough(sc[i], want[i].score);
            int orig = -1;
            for (int b = 0; b < ITEMS; b++)
                if (cnt[b] && rank[b] == (int)it[i])
                    orig = b;
            ok &= orig >= 0 && !(own >> orig & 1) && orig != ex;
        }
    }
    if (!ok)
        fprintf(stderr, "brute force differs: seed %llu, kind %d\n", (unsigned long long)seed,
                kind);
    CHECK(ok);
    persona_affinity_free(m);
    persona_store_free(s);
}

static void random_events(bev *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        e[i].user = (int)rnd(USERS);
        e[i].item = (int)rnd(ITEMS);
        e[i].basket = (int)rnd(BASKETS);
        e[i].type = rnd(5) == 0;
        e[i].t = (int64_t)rnd(48) * 15 * 60 * 1000; /* quarter hours: gaps of 15 to 45 min */
    }
}

static void test_brute_force(void)
{
    bev e[EVENTS];
    for (uint64_t seed = 1; seed <= 30; seed++) {
        rng_state = seed;
        size_t n = 1 + rnd(EVENTS);
        random_events(e, n);
        for (int kind = 0; kind < 3; kind++)
            brute_one(e, n, kind, seed);
    }
    fprintf(stderr, "brute force: 30 seeds (1 to 30) x 3 units\n");
}

/* Rows longer than the kept top (32): the query goes on in the full order of the row. */
static void test_long_rows(void)
{
    enum { MANY = 70 };
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    rng_state = 77;
    char names[MANY][8];
    for (int i = 0; i < MANY; i++)
        snprintf(names[i], sizeof names[i], "i%02d", i);
    for (int b = 0; b < 60; b++) {
        char basket[8];
        snprintf(basket, sizeof basket, "b%d", b);
        int size = 5 + (int)rnd(40);
        for (int k = 0; k < size; k++)
            aff_event(s, basket, 0, "buy", names[rnd(MANY)], basket, NULL);
    }
    persona_affinity_matrix *m = NULL;
    CHECK_RC(persona_affinity_build(&m, s, NULL), PERSONA_OK);
    int ok = 1;
    for (int a = 0; a < MANY; a += 7)
        for (int32_t ms = 0; ms < PERSONA_AFFINITY_MEASURES; ms++)
            for (uint64_t minc = 0; minc <= 4; minc += 4) {
                bsim want[MANY];
                size_t nw = 0;
                for (int b = 0; b < MANY; b++) {
                    persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
                    if (b == a || persona_affinity_pair(&p, m, names[a], names[b]) != PERSONA_OK ||
                        !p.count_ab || p.count_ab < minc)
                        continue;
                    want[nw++] = (bsim){ brute_measure(ms, (double)p.count_ab, (double)p.count_a,
                                                       (double)p.count_b, (double)p.units),
                                         p.count_ab, b };
                }
                qsort(want, nw, sizeof *want, cmp_bsim);
                uint32_t it[MANY];
                double sc[MANY];
                uint64_t cn[MANY];
                size_t got = 0;
                CHECK_RC(persona_affinity_similar(it, sc, cn, MANY, &got, m, names[a], ms, minc),
                         PERSONA_OK);
                ok &= got == nw && nw > 32;
                for (size_t i = 0; i < got && i < nw; i++)
                    ok &= it[i] == (uint32_t)want[i].item && cn[i] == want[i].count &&
                          close_enough(sc[i], want[i].score);
            }
    CHECK(ok);
    persona_affinity_free(m);
    persona_store_free(s);
}

/* Threads querying one matrix at once, each measure's first query among them (the lazy
 * ranking is made once under the matrix's lock): every thread sees the serial answers. */
typedef struct query_job {
    const persona_affinity_matrix *m;
    const char *want; /* the serial answers */
    int ok;
} query_job;

static char *similar_text(const persona_affinity_matrix *m)
{
    aff_text t = { 0 };
    for (int32_t ms = 0; ms < PERSONA_AFFINITY_MEASURES; ms++)
        for (int i = 0; i < ITEMS; i++) {
            uint32_t it[40];
            double sc[40];
            size_t n = 0;
            if (persona_affinity_similar(it, sc, NULL, 40, &n, m, item_name(i), ms, 0))
                continue;
            for (size_t k = 0; k < n; k++)
                aff_printf(&t, "%u=%.17g ", it[k], sc[k]);
            aff_printf(&t, "\n");
        }
    return t.data ? t.data : calloc(1, 1);
}

static void *query_thread(void *arg)
{
    query_job *j = arg;
    char *got = similar_text(j->m);
    j->ok = strcmp(got, j->want) == 0;
    free(got);
    return NULL;
}

static void test_threads(void)
{
    bev e[EVENTS];
    rng_state = 4242;
    random_events(e, EVENTS);
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    for (size_t i = 0; i < EVENTS; i++) {
        char user[8];
        snprintf(user, sizeof user, "u%d", e[i].user);
        aff_event(s, user, e[i].t, "buy", item_name(e[i].item), "b", NULL);
    }
    persona_affinity_matrix *serial = NULL, *m = NULL;
    CHECK_RC(persona_affinity_build(&serial, s, NULL), PERSONA_OK);
    CHECK_RC(persona_affinity_build(&m, s, NULL), PERSONA_OK);
    char *want = similar_text(serial);
    pthread_t th[4];
    query_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (query_job){ m, want, 0 };
        CHECK(pthread_create(&th[i], NULL, query_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok);
    }
    free(want);
    persona_affinity_free(serial);
    persona_affinity_free(m);
    persona_store_free(s);
}

/* Users split into two stores: the merge answers as the build over all of them. */
static void test_merge(void)
{
    bev e[EVENTS];
    for (uint64_t seed = 100; seed < 110; seed++) {
        rng_state = seed;
        random_events(e, EVENTS);
        for (int kind = 0; kind < 3; kind++) {
            persona_store *all = NULL, *part[2] = { NULL, NULL };
            CHECK_RC(persona_store_new(&all, NULL), PERSONA_OK);
            CHECK_RC(persona_store_new(&part[0], NULL), PERSONA_OK);
            CHECK_RC(persona_store_new(&part[1], NULL), PERSONA_OK);
            for (size_t i = 0; i < EVENTS; i++) {
                char user[8], basket[16];
                snprintf(user, sizeof user, "u%d", e[i].user);
                snprintf(basket, sizeof basket, "b%d", e[i].basket);
                aff_event(all, user, e[i].t, "buy", item_name(e[i].item), basket, "c");
                aff_event(part[e[i].user % 2], user, e[i].t, "buy", item_name(e[i].item), basket,
                          "c");
            }
            persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
            o.by = kind;
            persona_affinity_matrix *w = NULL, *a = NULL, *b = NULL, *mg = NULL;
            CHECK_RC(persona_affinity_build(&w, all, &o), PERSONA_OK);
            CHECK_RC(persona_affinity_build(&a, part[0], &o), PERSONA_OK);
            CHECK_RC(persona_affinity_build(&b, part[1], &o), PERSONA_OK);
            CHECK_RC(persona_affinity_merge(&mg, a, b), PERSONA_OK);
            char *dw = aff_digest(w), *dm = aff_digest(mg);
            CHECK(strcmp(dw, dm) == 0);
            if (strcmp(dw, dm))
                fprintf(stderr, "merge differs: seed %llu kind %d\n", (unsigned long long)seed,
                        kind);
            free(dw);
            free(dm);
            /* recommendations from the merged units equal those from the whole */
            uint32_t i1[ITEMS], i2[ITEMS];
            size_t n1 = 0, n2 = 0;
            int r1 = persona_affinity_recommend(i1, NULL, ITEMS, &n1, w, NULL, "u3", NULL, 0, 0, 0);
            int r2 = persona_affinity_recommend(i2, NULL, ITEMS, &n2, mg, NULL, "u3", NULL, 0, 0, 0);
            CHECK(r1 == r2 && n1 == n2 && memcmp(i1, i2, n1 * sizeof *i1) == 0);
            /* with an empty side */
            persona_affinity_matrix *empty = NULL, *m2 = NULL;
            persona_store *none = NULL;
            CHECK_RC(persona_store_new(&none, NULL), PERSONA_OK);
            CHECK_RC(persona_affinity_build(&empty, none, &o), PERSONA_OK);
            CHECK_RC(persona_affinity_merge(&m2, empty, w), PERSONA_OK);
            dw = aff_digest(w);
            dm = aff_digest(m2);
            CHECK(strcmp(dw, dm) == 0);
            free(dw);
            free(dm);
            /* different options are refused */
            persona_affinity_matrix *other = NULL, *bad = (persona_affinity_matrix *)1;
            o.by = (kind + 1) % 3;
            CHECK_RC(persona_affinity_build(&other, part[0], &o), PERSONA_OK);
            CHECK_RC(persona_affinity_merge(&bad, a, other), PERSONA_EINVAL);
            CHECK(bad == NULL);
            persona_affinity_free(other);
            persona_affinity_free(empty);
            persona_affinity_free(m2);
            persona_store_free(none);
            persona_affinity_free(w);
            persona_affinity_free(a);
            persona_affinity_free(b);
            persona_affinity_free(mg);
            persona_store_free(all);
            persona_store_free(part[0]);
            persona_store_free(part[1]);
        }
    }
}

/* The units handed to the itemset miner: item ids are the matrix's indexes, named by its
 * keys; single items count n_i and pairs n_ab, as the matrix says, under every unit. */
static void test_itemsets_of_units(void)
{
    persona_store *s = hand_store();
    const int32_t bys[3] = { PERSONA_AFFINITY_BY_BASKET, PERSONA_AFFINITY_BY_SESSION,
                             PERSONA_AFFINITY_BY_USER };
    for (int u = 0; u < 3; u++) {
        persona_affinity_matrix *m = build(s, bys[u]);
        persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
        CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
        persona_baskets *b = (persona_baskets *)1;
        CHECK_RC(persona_affinity_baskets(&b, m), PERSONA_OK);
        uint64_t nb = 0, ni = 0;
        CHECK_RC(persona_baskets_counts(&nb, &ni, b), PERSONA_OK);
        CHECK(nb == in.units && ni == in.items);
        for (uint32_t i = 0; i < ni; i++) {
            const char *name = NULL;
            CHECK_RC(persona_baskets_item_name(&name, b, i), PERSONA_OK);
            CHECK_STR(name, aff_key(m, i));
        }
        persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
        o.min_count = 1;
        o.max_size = 2;
        persona_itemsets *sets = NULL;
        CHECK_RC(persona_itemsets_mine(&sets, b, &o), PERSONA_OK);
        uint64_t n_sets = 0, singles = 0, pairs = 0;
        CHECK_RC(persona_itemsets_count(&n_sets, NULL, sets), PERSONA_OK);
        for (uint64_t k = 0; k < n_sets; k++) {
            uint32_t items[2];
            size_t len = 0;
            uint64_t count = 0;
            CHECK_RC(persona_itemsets_get(items, 2, &len, &count, sets, k), PERSONA_OK);
            persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
            char a[256];
            snprintf(a, sizeof a, "%s", aff_key(m, items[0]));
            CHECK_RC(persona_affinity_pair(&p, m, a, aff_key(m, items[len - 1])), PERSONA_OK);
            CHECK(count == p.count_ab);
            singles += len == 1;
            pairs += len == 2;
        }
        CHECK(singles == in.items && pairs == in.pairs);
        persona_itemsets_free(sets);
        persona_baskets_free(b);
        persona_affinity_free(m);
    }
    persona_store_free(s);
    /* an empty matrix: no baskets; NULL arguments */
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    persona_affinity_matrix *m = build(s, PERSONA_AFFINITY_BY_BASKET);
    persona_baskets *b = NULL;
    CHECK_RC(persona_affinity_baskets(&b, m), PERSONA_OK);
    uint64_t nb = 9, ni = 9;
    CHECK_RC(persona_baskets_counts(&nb, &ni, b), PERSONA_OK);
    CHECK(nb == 0 && ni == 0);
    persona_baskets_free(b);
    CHECK_RC(persona_affinity_baskets(&b, NULL), PERSONA_EINVAL);
    CHECK(b == NULL);
    CHECK_RC(persona_affinity_baskets(NULL, m), PERSONA_EINVAL);
    persona_affinity_free(m);
    persona_store_free(s);
}

int main(void)
{
    test_measures_by_hand();
    test_overindex_by_hand();
    test_units_by_hand();
    test_degenerate();
    test_edges();
    test_brute_force();
    test_long_rows();
    test_threads();
    test_merge();
    test_itemsets_of_units();
    return check_report("test_affinity");
}
