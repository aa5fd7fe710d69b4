/* RFM segmentation and stability measures (rfm.h, stability.h):
 *
 * - quantile bins against pandas.qcut for every bins 2..10 and n = 2..200 ranks
 *   (tests/data/rfm_qcut_bins.csv), including the sizes where numpy's floating-point
 *   edges differ from the exact quantiles;
 * - the segment grid against Putler's chart regions, evaluated here with exact
 *   rational comparisons;
 * - hand-worked stores: purchases, orders, returns (negative values and a return type),
 *   events without basket or value, ties in user order, fewer users than bins, one user,
 *   users without purchases, reference and from times, consent, linked identifiers;
 * - random stores against a brute-force computation from the events the test made;
 * - the bundled Online Retail sample against the pandas reference
 *   (tests/data/rfm_retail_sample.csv, made by tests/data/make_rfm_reference.py);
 * - getters, exports, options and their errors, save / load and damaged snapshots;
 * - the adjusted Rand index against hand-worked contingency tables and scikit-learn
 *   (tests/data/rfm_ari_sklearn.csv), and its 128-bit rounding;
 * - migration matrices against per-user assignment at both times.
 *
 * usage: test_rfm TESTS_DATA_DIR [EXAMPLES_DATA_DIR] (default: the source tree's, found
 * from the working directory). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "store_check.h"
#include "segment/rfm_internal.h"
#include "segment/stability_internal.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000) /* 2024-01-01 00:00:00 UTC */

static const char *data_dir = "tests/data";
static const char *examples_dir = "examples/data";

/* ---- small helpers ------------------------------------------------------------------- */

static void put(persona_store *s, const char *user, int64_t t, const char *type, double v,
                const char *basket)
{
    persona_event e = ev(user, t, type, v);
    e.basket = basket;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
}

static persona_rfm *build(const persona_store *s, const persona_rfm_options *o)
{
    persona_rfm *x = NULL;
    CHECK_RC(persona_rfm_build(&x, s, o), PERSONA_OK);
    return x;
}

static char *export_of(const persona_rfm *x, int32_t format)
{
    char *out = NULL;
    CHECK_RC(persona_rfm_export_buffer(&out, NULL, x, format), PERSONA_OK);
    return out;
}

/* The entry of a user by key (CHECK that it is scored). */
static persona_rfm_entry entry(const persona_rfm *x, const char *user)
{
    persona_rfm_entry e = PERSONA_RFM_ENTRY_INIT;
    size_t i = 0;
    CHECK_RC(persona_rfm_find(&i, x, user), PERSONA_OK);
    CHECK_RC(persona_rfm_get(&e, x, i), PERSONA_OK);
    return e;
}

#define CHECK_ENTRY(x, user, rec, freq, mon, R, F, M, seg)                                  \
    do {                                                                                   \
        persona_rfm_entry e_ = entry((x), (user));                                         \
        CHECK(e_.recency_days == (rec));                                                   \
        CHECK(e_.frequency == (uint64_t)(freq));                                           \
        CHECK(e_.monetary == (mon));                                                       \
        CHECK(e_.r == (R) && e_.f == (F) && e_.m == (M));                                  \
        if (e_.segment != (seg))                                                           \
            fprintf(stderr, "user %s: segment %s, want %s\n", (user),                     \
                    persona_rfm_segment_name(e_.segment), persona_rfm_segment_name(seg));  \
        CHECK(e_.segment == (seg));                                                        \
    } while (0)

/* Lines of a text file (libc memory); NULL when it cannot be read. */
static char **read_lines(const char *path, size_t *n_out)
{
    size_t len = 0;
    uint8_t *text = read_file(path, &len);
    *n_out = 0;
    if (!text)
        return NULL;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    char **lines = malloc(sizeof *lines * (cap + 1));
    char *buf = malloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    free(text);
    size_t n = 0;
    for (char *p = buf; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[n++] = p;
        if (!nl)
            break;
        p = nl + 1;
    }
    lines[n] = buf; /* freed by free_lines */
    *n_out = n;
    return lines;
}

static void free_lines(char **lines, size_t n)
{
    if (lines) {
        free(lines[n]);
        free(lines);
    }
}

static char *data_path(const char *dir, const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* ---- quantile bins vs pandas ---------------------------------------------------------- */

static void test_qcut_bins(void)
{
    size_t n_lines = 0;
    char **lines = read_lines(data_path(data_dir, "rfm_qcut_bins.csv"), &n_lines);
    CHECK(lines != NULL && n_lines == 1 + 9 * 199);
    size_t compared = 0, float_cases = 0;
    for (size_t li = 1; lines && li < n_lines; li++) {
        unsigned bins = 0;
        size_t n = 0;
        int used = 0;
        if (sscanf(lines[li], "%u,%zu,%n", &bins, &n, &used) != 2) {
            CHECK(!"bad line in rfm_qcut_bins.csv");
            continue;
        }
        size_t want[PERSONA_RFM_MAX_BINS] = {0}, got[PERSONA_RFM_MAX_BINS] = {0};
        const char *p = lines[li] + used;
        for (unsigned b = 0; b < bins; b++) {
            char *end;
            want[b] = strtoul(p, &end, 10);
            p = end;
        }
        double edges[PERSONA_RFM_MAX_BINS];
        persona__rfm_edges(edges, n, bins);
        for (size_t r = 1; r <= n; r++) {
            uint32_t bin = persona__rfm_bin(edges, bins, r);
            CHECK(bin >= 1 && bin <= bins);
            if (bin >= 1 && bin <= bins)
                got[bin - 1]++;
        }
        int same = memcmp(want, got, sizeof want) == 0;
        if (!same)
            fprintf(stderr, "qcut bins %u, n %zu: sizes differ from pandas\n", bins, n);
        CHECK(same);
        /* the cases where the exact quantile 1 + (n - 1) i / bins is an integer k but the
         * double edge is not k: rank k (or k + 1) goes to the other bin than exact
         * arithmetic would put it in */
        for (unsigned i = 1; i < bins; i++)
            if ((n - 1) * i % bins == 0 && edges[i - 1] != 1.0 + (double)((n - 1) * i / bins))
                float_cases++;
        compared++;
    }
    CHECK(compared == 9 * 199);
    CHECK(float_cases > 50); /* e.g. bins 6, n 19: 15.999999999999998 */
    free_lines(lines, n_lines);
    /* one rank: every edge is 1, the rank is in bin 1 */
    double edges[PERSONA_RFM_MAX_BINS];
    for (uint32_t bins = 2; bins <= 10; bins++) {
        persona__rfm_edges(edges, 1, bins);
        CHECK(persona__rfm_bin(edges, bins, 1) == 1);
    }
}

/* ---- the segment grid ---------------------------------------------------------------- */

/* Putler's regions on the [0,5] × [0,5] chart (x = R, y = mean of F and M), as
 * x0 < x <= x1 and y0 < y <= y1, the nested ones first. */
static const struct {
    int32_t seg;
    int x0, x1, y0, y1;
} regions[] = {
    { PERSONA_RFM_CHAMPIONS, 4, 5, 4, 5 },       { PERSONA_RFM_CANT_LOSE_THEM, 0, 1, 4, 5 },
    { PERSONA_RFM_HIBERNATING, 1, 2, 1, 2 },     { PERSONA_RFM_LOYAL, 2, 5, 3, 5 },
    { PERSONA_RFM_POTENTIAL_LOYALIST, 3, 5, 1, 3 }, { PERSONA_RFM_NEW, 4, 5, 0, 1 },
    { PERSONA_RFM_PROMISING, 3, 4, 0, 1 },       { PERSONA_RFM_NEED_ATTENTION, 2, 3, 2, 3 },
    { PERSONA_RFM_ABOUT_TO_SLEEP, 2, 3, 0, 2 },  { PERSONA_RFM_AT_RISK, 0, 2, 2, 5 },
    { PERSONA_RFM_LOST, 0, 2, 0, 2 },
};

static int32_t region_of(unsigned r, unsigned f, unsigned m, unsigned bins)
{
    /* x = 5r / bins, y = 5 (f + m) / (2 bins): compare a < x as a·bins < 5r, etc. */
    for (size_t i = 0; i < sizeof regions / sizeof *regions; i++) {
        long x0 = regions[i].x0, x1 = regions[i].x1, y0 = regions[i].y0, y1 = regions[i].y1;
        long xn = 5L * r, xd = bins, yn = 5L * (f + m), yd = 2L * bins;
        if (x0 * xd < xn && xn <= x1 * xd && y0 * yd < yn && yn <= y1 * yd)
            return regions[i].seg;
    }
    return -1;
}

static void test_grid(void)
{
    for (unsigned bins = 2; bins <= 10; bins++)
        for (unsigned r = 1; r <= bins; r++)
            for (unsigned f = 1; f <= bins; f++)
                for (unsigned m = 1; m <= bins; m++) {
                    int32_t want = region_of(r, f, m, bins);
                    CHECK(want >= 0);
                    CHECK(persona__rfm_segment_of(r, f, m, bins) == want);
                }
    /* the 5-bin chart, row by row (docs/rfm.md) */
    CHECK(persona__rfm_segment_of(5, 5, 5, 5) == PERSONA_RFM_CHAMPIONS);
    CHECK(persona__rfm_segment_of(5, 5, 4, 5) == PERSONA_RFM_CHAMPIONS); /* FM 4.5 -> 5 */
    CHECK(persona__rfm_segment_of(5, 4, 4, 5) == PERSONA_RFM_LOYAL);
    CHECK(persona__rfm_segment_of(1, 5, 5, 5) == PERSONA_RFM_CANT_LOSE_THEM);
    CHECK(persona__rfm_segment_of(1, 4, 4, 5) == PERSONA_RFM_AT_RISK);
    CHECK(persona__rfm_segment_of(2, 3, 2, 5) == PERSONA_RFM_AT_RISK);
    CHECK(persona__rfm_segment_of(3, 3, 3, 5) == PERSONA_RFM_NEED_ATTENTION);
    CHECK(persona__rfm_segment_of(4, 3, 2, 5) == PERSONA_RFM_POTENTIAL_LOYALIST);
    CHECK(persona__rfm_segment_of(2, 2, 2, 5) == PERSONA_RFM_HIBERNATING);
    CHECK(persona__rfm_segment_of(2, 2, 1, 5) == PERSONA_RFM_HIBERNATING);
    CHECK(persona__rfm_segment_of(1, 2, 2, 5) == PERSONA_RFM_LOST);
    CHECK(persona__rfm_segment_of(3, 1, 2, 5) == PERSONA_RFM_ABOUT_TO_SLEEP);
    CHECK(persona__rfm_segment_of(4, 1, 1, 5) == PERSONA_RFM_PROMISING);
    CHECK(persona__rfm_segment_of(5, 1, 1, 5) == PERSONA_RFM_NEW);
    CHECK(persona__rfm_segment_of(5, 2, 1, 5) == PERSONA_RFM_POTENTIAL_LOYALIST);
    const char *names[] = { "Champions", "Loyal", "Potential loyalist", "New", "Promising",
                            "Need attention", "About to sleep", "At risk", "Can't lose them",
                            "Hibernating", "Lost" };
    for (int32_t s = 0; s < PERSONA_RFM_SEGMENTS; s++)
        CHECK_STR(persona_rfm_segment_name(s), names[s]);
    CHECK_STR(persona_rfm_segment_name(-1), "unknown");
    CHECK_STR(persona_rfm_segment_name(PERSONA_RFM_SEGMENTS), "unknown");
}

/* ---- hand-worked stores -------------------------------------------------------------- */

/* a: two orders (o1 twice, o2), a later return; b: views only; c: two purchases without a
 * basket, one without a value; d: only a return; e: one recent purchase; the store's last
 * event is a view of e at T0 + 10.5 days, so the reference is T0 + 11.5 days. */
static persona_store *hand_store(void)
{
    persona_store *s = new_seeded_store(7);
    put(s, "a", T0, "purchase", 10, "o1");
    put(s, "a", T0 + 1000, "purchase", 5, "o1");
    put(s, "b", T0 + 1 * DAY, "view", NAN, NULL);
    put(s, "c", T0 + 2 * DAY, "purchase", 3, NULL);
    put(s, "c", T0 + 2 * DAY, "purchase", NAN, NULL);
    put(s, "a", T0 + 5 * DAY, "purchase", 20, "o2");
    put(s, "a", T0 + 6 * DAY, "purchase", -7, "C1");
    put(s, "d", T0 + 3 * DAY, "purchase", -4, "C9");
    put(s, "e", T0 + 8 * DAY, "purchase", 1.5, "o3");
    put(s, "a", T0 + 9 * DAY, "view", NAN, NULL);
    put(s, "e", T0 + 10 * DAY + DAY / 2, "view", NAN, NULL);
    return s;
}

static void test_hand(void)
{
    persona_store *s = hand_store();
    persona_rfm *x = build(s, NULL);
    size_t n = 0;
    CHECK_RC(persona_rfm_count(&n, x), PERSONA_OK);
    CHECK(n == 3); /* a, c, e: b has no purchase, d only a return */
    int64_t ref = 0;
    uint32_t bins = 0;
    CHECK_RC(persona_rfm_reference(&ref, x), PERSONA_OK);
    CHECK(ref == T0 + 11 * DAY + DAY / 2);
    CHECK_RC(persona_rfm_bins(&bins, x), PERSONA_OK);
    CHECK(bins == 5);
    /* recency: a 6.5 -> 6 days, c 9.5 -> 9, e 3.5 -> 3. Three ranks, five bins: the edges
     * are 1.4, 1.8, 2.2, 2.6, so ranks 1, 2, 3 are in bins 1, 3, 5.
     * R (reversed): e 5, a 3, c 1. F: e 1 order (rank 1), a and c 2 orders (a first: rank
     * 2, c rank 3) -> 1, 3, 5. M: a 10 + 5 + 20 - 7 = 28, c 3, e 1.5 -> a 5, c 3, e 1.
     * a: R3, FM ceil((3 + 5) / 2) = 4 -> Loyal; c: R1, FM 4 -> At risk; e: R5, FM 1 -> New */
    CHECK_ENTRY(x, "a", 6, 2, 28.0, 3, 3, 5, PERSONA_RFM_LOYAL);
    CHECK_ENTRY(x, "c", 9, 2, 3.0, 1, 5, 3, PERSONA_RFM_AT_RISK);
    CHECK_ENTRY(x, "e", 3, 1, 1.5, 5, 1, 1, PERSONA_RFM_NEW);
    persona_rfm_entry e = entry(x, "a");
    CHECK(e.last_purchase_ms == T0 + 5 * DAY && e.reserved == 0 &&
          e.struct_size == sizeof e);
    size_t i = 99;
    CHECK_RC(persona_rfm_find(&i, x, "b"), PERSONA_ENOTFOUND);
    CHECK_MSG("'b' is not scored");
    CHECK_RC(persona_rfm_find(&i, x, "d"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_rfm_find(&i, x, "zz"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_rfm_find(&i, x, ""), PERSONA_ENOTFOUND);
    /* user order: the store's, a c e */
    char key[8];
    size_t len = 0;
    CHECK_RC(persona_rfm_user_at(key, sizeof key, &len, x, 0), PERSONA_OK);
    CHECK_STR(key, "a");
    CHECK_RC(persona_rfm_user_at(key, sizeof key, &len, x, 2), PERSONA_OK);
    CHECK_STR(key, "e");
    CHECK_RC(persona_rfm_user_at(NULL, 0, &len, x, 1), PERSONA_EBUFS);
    CHECK(len == 1);
    CHECK_RC(persona_rfm_user_at(key, sizeof key, &len, x, 3), PERSONA_ENOTFOUND);
    CHECK_MSG("no user 3");
    CHECK_RC(persona_rfm_get(&e, x, 3), PERSONA_ENOTFOUND);
    uint64_t total = 0, size = 0;
    for (int32_t sg = 0; sg < PERSONA_RFM_SEGMENTS; sg++) {
        CHECK_RC(persona_rfm_segment_size(&size, x, sg), PERSONA_OK);
        total += size;
    }
    CHECK(total == 3);
    CHECK_RC(persona_rfm_segment_size(&size, x, PERSONA_RFM_LOYAL), PERSONA_OK);
    CHECK(size == 1);
    CHECK_RC(persona_rfm_segment_size(&size, x, 11), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_segment_size(&size, x, -1), PERSONA_EINVAL);

    char *csv = export_of(x, PERSONA_RFM_EXPORT_CSV);
    CHECK_STR(csv, "user,recency_days,frequency,monetary,r,f,m,segment\n"
                   "a,6,2,28,3,3,5,Loyal\n"
                   "c,9,2,3,1,5,3,At risk\n"
                   "e,3,1,1.5,5,1,1,New\n");
    persona_free(csv);
    char *sum = export_of(x, PERSONA_RFM_EXPORT_SUMMARY_CSV);
    CHECK_STR(sum, "segment,users,share\n"
                   "Champions,0,0\nLoyal,1,0.3333333333333333\nPotential loyalist,0,0\n"
                   "New,1,0.3333333333333333\nPromising,0,0\nNeed attention,0,0\n"
                   "About to sleep,0,0\nAt risk,1,0.3333333333333333\nCan't lose them,0,0\n"
                   "Hibernating,0,0\nLost,0,0\n");
    persona_free(sum);
    char *json = export_of(x, PERSONA_RFM_EXPORT_JSON);
    const char *head = "{\"bins\":5,\"reference\":\"2024-01-12 12:00:00\","
                       "\"reference_ms\":1705060800000,\"from\":null,"
                       "\"purchase_type\":\"purchase\",\"return_type\":null,"
                       "\"consent_purpose\":null,\"users\":3,\"segments\":"
                       "[{\"segment\":\"Champions\",\"users\":0,\"share\":0},";
    CHECK(json && strncmp(json, head, strlen(head)) == 0);
    CHECK(json && strstr(json, "\n{\"user\":\"c\",\"recency_days\":9,\"frequency\":2,"
                               "\"monetary\":3,\"r\":1,\"f\":5,\"m\":3,\"segment\":\"At risk\"}"));
    CHECK(json && strstr(json, "{\"segment\":\"Can't lose them\",\"users\":0,\"share\":0}"));
    persona_free(json);

    /* a newer caller's longer entry: the tail it has and we do not is zeroed; a size below
     * the first released one is refused */
    struct {
        persona_rfm_entry e;
        uint64_t more;
    } big;
    memset(&big, 0xEE, sizeof big);
    big.e.struct_size = sizeof big;
    CHECK_RC(persona_rfm_get(&big.e, x, 0), PERSONA_OK);
    CHECK(big.e.struct_size == sizeof big && big.more == 0 && big.e.segment == PERSONA_RFM_LOYAL);
    big.e.struct_size = 8;
    CHECK_RC(persona_rfm_get(&big.e, x, 0), PERSONA_EINVAL);
    CHECK_MSG("struct_size not set");
    persona_rfm_free(x);

    /* the store can go first: the result does not borrow from it */
    x = build(s, NULL);
    persona_store_free(s);
    CHECK_ENTRY(x, "e", 3, 1, 1.5, 5, 1, 1, PERSONA_RFM_NEW);
    persona_rfm_free(x);
}

/* Six users with the same single purchase: ranks follow user order. */
static void test_ties(void)
{
    persona_store *s = new_seeded_store(1);
    const char *users[] = { "u1", "u2", "u3", "u4", "u5", "u6" };
    for (int i = 0; i < 6; i++)
        put(s, users[i], T0, "purchase", 4, NULL);
    persona_rfm *x = build(s, NULL);
    /* six ranks, five bins: edges 2, 3, 4, 5 (exactly), so ranks 1..6 -> 1 1 2 3 4 5 */
    const int bin[] = { 1, 1, 2, 3, 4, 5 };
    for (int i = 0; i < 6; i++) {
        persona_rfm_entry e = entry(x, users[i]);
        CHECK(e.recency_days == 1 && e.frequency == 1 && e.monetary == 4.0);
        CHECK(e.f == bin[i] && e.m == bin[i] && e.r == 6 - bin[i]);
    }
    persona_rfm_free(x);
    /* ties broken by user order, not by key: "u0" arrives last */
    put(s, "u0", T0, "purchase", 4, NULL);
    x = build(s, NULL);
    persona_rfm_entry e = entry(x, "u0");
    CHECK(e.f == 5 && e.m == 5 && e.r == 1);
    e = entry(x, "u1");
    CHECK(e.f == 1 && e.r == 5);
    persona_rfm_free(x);
    persona_store_free(s);
}

static void test_few_users(void)
{
    /* two users, five bins: edges 1.2 … 1.8, ranks 1 and 2 in bins 1 and 5 */
    persona_store *s = new_seeded_store(2);
    put(s, "old", T0, "purchase", 100, "x1");
    put(s, "old", T0 + DAY, "purchase", 100, "x2");
    put(s, "new", T0 + 3 * DAY, "purchase", 1, "y1");
    persona_rfm *x = build(s, NULL);
    CHECK_ENTRY(x, "old", 3, 2, 200.0, 1, 5, 5, PERSONA_RFM_CANT_LOSE_THEM);
    CHECK_ENTRY(x, "new", 1, 1, 1.0, 5, 1, 1, PERSONA_RFM_NEW);
    persona_rfm_free(x);
    /* two bins: the same two users, scores 1 and 2; R5 = ceil(5 R / 2), FM5 likewise */
    persona_rfm_options o = PERSONA_RFM_OPTIONS_INIT;
    o.bins = 2;
    x = build(s, &o);
    /* old: R 1 -> R5 = ceil(5 / 2) = 3, FM 2 -> FM5 5: Loyal; new: R5 5, FM5 ceil(2.5) = 3 */
    CHECK_ENTRY(x, "old", 3, 2, 200.0, 1, 2, 2, PERSONA_RFM_LOYAL);
    CHECK_ENTRY(x, "new", 1, 1, 1.0, 2, 1, 1, PERSONA_RFM_POTENTIAL_LOYALIST);
    persona_rfm_free(x);
    persona_store_free(s);

    /* one user: bin 1 for every value, R = bins */
    s = new_seeded_store(3);
    put(s, "solo", T0, "purchase", 9, NULL);
    x = build(s, NULL);
    CHECK_ENTRY(x, "solo", 1, 1, 9.0, 5, 1, 1, PERSONA_RFM_NEW);
    persona_rfm_free(x);
    o.bins = 10;
    x = build(s, &o);
    CHECK_ENTRY(x, "solo", 1, 1, 9.0, 10, 1, 1, PERSONA_RFM_NEW);
    persona_rfm_free(x);
    persona_store_free(s);

    /* nobody: no purchases at all, and an empty store */
    s = new_seeded_store(4);
    put(s, "v", T0, "view", 1, NULL);
    for (int round = 0; round < 2; round++) {
        x = build(s, NULL);
        size_t n = 9;
        CHECK_RC(persona_rfm_count(&n, x), PERSONA_OK);
        CHECK(n == 0);
        char *csv = export_of(x, PERSONA_RFM_EXPORT_CSV);
        CHECK_STR(csv, "user,recency_days,frequency,monetary,r,f,m,segment\n");
        persona_free(csv);
        char *sum = export_of(x, PERSONA_RFM_EXPORT_SUMMARY_CSV);
        CHECK(sum && strstr(sum, "segment,users,share\nChampions,0,\nLoyal,0,\n") == sum);
        persona_free(sum);
        char *json = export_of(x, PERSONA_RFM_EXPORT_JSON);
        CHECK(json && strstr(json, "\"users\":0,") && strstr(json, "\"share\":null") &&
              strstr(json, "\"rows\":[]}\n"));
        persona_free(json);
        size_t i;
        CHECK_RC(persona_rfm_find(&i, x, "v"), PERSONA_ENOTFOUND);
        persona_rfm_free(x);
        persona_store_free(s);
        s = new_seeded_store(5);
    }
    int64_t ref = 0;
    x = build(s, NULL);
    CHECK_RC(persona_rfm_reference(&ref, x), PERSONA_OK);
    CHECK(ref == DAY); /* an empty store's clock is 0 */
    persona_rfm_free(x);
    persona_store_free(s);
}

static int write_nothing(void *ctx, const char *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
    return 0;
}

static int write_fails(void *ctx, const char *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
    return -1;
}

static void test_options(void)
{
    persona_store *s = new_seeded_store(9);
    put(s, "p", T0, "order", 50, "A");
    put(s, "p", T0 + 2 * DAY, "order", 30, "B");
    put(s, "p", T0 + 3 * DAY, "refund", 8, NULL);     /* |8| subtracted */
    put(s, "p", T0 + 4 * DAY, "refund", -2, NULL);    /* |-2| subtracted */
    put(s, "q", T0 + 1 * DAY, "order", 10, "C");
    put(s, "q", T0 + 20 * DAY, "order", 99, "D");     /* after an explicit reference */
    put(s, "r", T0 + 6 * DAY, "purchase", 1000, "E"); /* not the purchase type */
    persona_rfm_options o = PERSONA_RFM_OPTIONS_INIT;
    o.purchase_type = "order";
    o.return_type = "refund";
    persona_rfm *x = build(s, &o);
    size_t n = 0;
    persona_rfm_count(&n, x);
    CHECK(n == 2);
    /* reference T0 + 21 days; p 80 - 8 - 2; both 2 orders: p ranks first (user order) */
    CHECK_ENTRY(x, "p", 19, 2, 70.0, 1, 1, 1, PERSONA_RFM_LOST);
    CHECK_ENTRY(x, "q", 1, 2, 109.0, 5, 5, 5, PERSONA_RFM_CHAMPIONS);
    char *json = export_of(x, PERSONA_RFM_EXPORT_JSON);
    CHECK(json && strstr(json, "\"purchase_type\":\"order\",\"return_type\":\"refund\""));
    persona_free(json);
    persona_rfm_free(x);

    /* an explicit reference: later events are ignored, recency counts to it */
    o.reference_ms = T0 + 10 * DAY;
    x = build(s, &o);
    CHECK_ENTRY(x, "q", 9, 1, 10.0, 1, 1, 1, PERSONA_RFM_LOST);
    CHECK_ENTRY(x, "p", 8, 2, 70.0, 5, 5, 5, PERSONA_RFM_CHAMPIONS);
    int64_t ref = 0;
    persona_rfm_reference(&ref, x);
    CHECK(ref == T0 + 10 * DAY);
    persona_rfm_free(x);
    /* an event at the reference time counts (t <= reference): recency 0 */
    o.reference_ms = T0 + 2 * DAY;
    x = build(s, &o);
    CHECK_ENTRY(x, "p", 0, 2, 80.0, 5, 5, 5, PERSONA_RFM_CHAMPIONS);
    persona_rfm_free(x);

    /* from: purchases (and returns) before it are ignored; p's first order goes */
    o.reference_ms = 0;
    o.from_ms = T0 + DAY;
    x = build(s, &o);
    CHECK_ENTRY(x, "p", 19, 1, 20.0, 1, 1, 1, PERSONA_RFM_LOST);
    CHECK_ENTRY(x, "q", 1, 2, 109.0, 5, 5, 5, PERSONA_RFM_CHAMPIONS);
    persona_rfm_free(x);
    o.from_ms = T0 + 30 * DAY; /* after the default reference: nobody */
    x = build(s, &o);
    persona_rfm_count(&n, x);
    CHECK(n == 0);
    persona_rfm_free(x);

    /* consent: only users who granted the purpose */
    o.from_ms = 0;
    o.consent_purpose = "analytics";
    x = build(s, &o); /* nobody has recorded consent: nobody */
    persona_rfm_count(&n, x);
    CHECK(n == 0);
    persona_rfm_free(x);
    CHECK_RC(persona_store_consent_set(s, "q", "analytics", 1, T0), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "p", "analytics", 0, T0), PERSONA_OK);
    x = build(s, &o);
    persona_rfm_count(&n, x);
    CHECK(n == 1);
    CHECK_ENTRY(x, "q", 1, 2, 109.0, 5, 1, 1, PERSONA_RFM_NEW); /* one user: bin 1 */
    persona_rfm_free(x);

    /* a purchase type the store does not know: nobody, no error */
    persona_rfm_options o2 = PERSONA_RFM_OPTIONS_INIT;
    o2.purchase_type = "nothing";
    x = build(s, &o2);
    persona_rfm_count(&n, x);
    CHECK(n == 0);
    persona_rfm_free(x);

    /* errors */
    persona_rfm *bad = (persona_rfm *)&o2;
    o2 = (persona_rfm_options)PERSONA_RFM_OPTIONS_INIT;
    o2.bins = 1;
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK(bad == NULL);
    CHECK_MSG("bins 1 is outside 2");
    o2.bins = 11;
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    o2.bins = 0;
    o2.return_type = "purchase";
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("return_type 'purchase' is the purchase type");
    o2.return_type = "";
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("return_type");
    o2.return_type = NULL;
    o2.purchase_type = "\xff";
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("purchase_type");
    o2.purchase_type = NULL;
    o2.consent_purpose = "";
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("consent_purpose");
    o2.consent_purpose = NULL;
    o2.reference_ms = PERSONA_TIME_MAX + 1;
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("reference_ms");
    o2.reference_ms = T0;
    o2.from_ms = PERSONA_TIME_MIN - 1;
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("from_ms");
    o2.from_ms = T0 + 1;
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("from_ms is after reference_ms");
    o2.from_ms = T0; /* from == reference is fine */
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_OK);
    persona_rfm_free(bad);
    o2 = (persona_rfm_options)PERSONA_RFM_OPTIONS_INIT;
    o2.struct_size = 0;
    CHECK_RC(persona_rfm_build(&bad, s, &o2), PERSONA_EINVAL);
    CHECK_MSG("struct_size not set");
    /* a newer caller's longer struct: zero tail fine, non-zero tail EUNSUPPORTED */
    struct {
        persona_rfm_options o;
        uint64_t more;
    } big;
    memset(&big, 0, sizeof big);
    big.o.struct_size = sizeof big;
    CHECK_RC(persona_rfm_build(&bad, s, &big.o), PERSONA_OK);
    persona_rfm_free(bad);
    big.more = 1;
    CHECK_RC(persona_rfm_build(&bad, s, &big.o), PERSONA_EUNSUPPORTED);
    CHECK(bad == NULL);
    CHECK_RC(persona_rfm_build(NULL, s, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_build(&bad, NULL, NULL), PERSONA_EINVAL);
    CHECK_MSG("store is NULL");
    persona_rfm_options_init(&o2, sizeof o2);
    CHECK(o2.struct_size == sizeof o2 && o2.bins == 0 && o2.purchase_type == NULL);
    CHECK_RC(persona_rfm_options_init(NULL, sizeof o2), PERSONA_EINVAL);

    /* NULL arguments of the getters */
    x = build(s, NULL);
    size_t i;
    uint32_t b;
    int64_t t;
    persona_rfm_entry e = PERSONA_RFM_ENTRY_INIT;
    CHECK_RC(persona_rfm_count(NULL, x), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_count(&i, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_bins(&b, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_reference(&t, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_get(NULL, x, 0), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_get(&e, NULL, 0), PERSONA_EINVAL);
    e.struct_size = 0;
    CHECK_RC(persona_rfm_get(&e, x, 0), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_find(&i, x, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_user_at(NULL, 0, NULL, NULL, 0), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_export(x, 4, write_nothing, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_export(x, PERSONA_RFM_EXPORT_CSV, write_fails, NULL), PERSONA_ECALLBACK);
    CHECK_MSG("writer returned an error");
    char *out = (char *)&i;
    CHECK_RC(persona_rfm_export_buffer(&out, NULL, x, 0), PERSONA_EINVAL);
    CHECK(out == NULL);
    CHECK_MSG("unknown RFM export format 0");
    CHECK_RC(persona_rfm_export_buffer(&out, NULL, NULL, PERSONA_RFM_EXPORT_CSV), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_export(x, PERSONA_RFM_EXPORT_CSV, NULL, NULL), PERSONA_EINVAL);
    persona_rfm_free(x);
    persona_rfm_free(NULL);
    persona_store_free(s);
}

/* Linked identifiers are one profile: counted once, under the resolved key. */
static void test_aliases(void)
{
    persona_store *s = new_seeded_store(11);
    put(s, "cookie-1", T0, "purchase", 5, "b1");
    put(s, "cust-1", T0 + DAY, "purchase", 7, "b2");
    put(s, "other", T0 + DAY, "purchase", 1, "b3");
    persona_identifier ids[2] = { PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "cust-1"),
                                  PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-1") };
    CHECK_RC(persona_store_alias(NULL, s, ids, 2, T0 + 2 * DAY, NULL), PERSONA_OK);
    char name[64];
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "cookie-1"), PERSONA_OK);
    persona_rfm *x = build(s, NULL);
    size_t n = 0;
    persona_rfm_count(&n, x);
    CHECK(n == 2);
    /* both 1 day: the merged profile comes first in profile order */
    CHECK_ENTRY(x, name, 1, 2, 12.0, 5, 5, 5, PERSONA_RFM_CHAMPIONS);
    CHECK_ENTRY(x, "other", 1, 1, 1.0, 1, 1, 1, PERSONA_RFM_LOST);
    size_t i;
    const char *other_key = strcmp(name, "cust-1") == 0 ? "cookie-1" : "cust-1";
    CHECK_RC(persona_rfm_find(&i, x, other_key), PERSONA_ENOTFOUND);
    persona_rfm_free(x);
    persona_store_free(s);
}

/* ---- random stores vs brute force ----------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t k)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)((rng_state >> 33) % k);
}

#define MAX_EV 400
#define MAX_U 40

typedef struct bf_event {
    int user, type; /* type 0 purchase, 1 refund, 2 view */
    int64_t t;
    double v;       /* NAN = absent */
    int basket;     /* -1 = none */
} bf_event;

/* The bin of rank r (1-based) of n ranks from pandas' bin sizes (rfm_qcut_bins.csv). */
static int qcut_sizes[11][201][10];
static int have_sizes;

static void load_sizes(void)
{
    size_t n_lines = 0;
    char **lines = read_lines(data_path(data_dir, "rfm_qcut_bins.csv"), &n_lines);
    for (size_t li = 1; lines && li < n_lines; li++) {
        unsigned bins, n;
        int used;
        if (sscanf(lines[li], "%u,%u,%n", &bins, &n, &used) != 2 || bins > 10 || n > 200)
            continue;
        const char *p = lines[li] + used;
        for (unsigned b = 0; b < bins; b++) {
            char *end;
            qcut_sizes[bins][n][b] = (int)strtol(p, &end, 10);
            p = end;
        }
    }
    have_sizes = lines != NULL;
    free_lines(lines, n_lines);
}

static int pandas_bin(size_t r, size_t n, unsigned bins)
{
    if (n == 1)
        return 1;
    int acc = 0;
    for (unsigned b = 0; b < bins; b++) {
        acc += qcut_sizes[bins][n][b];
        if ((int)r <= acc)
            return (int)b + 1;
    }
    return -1;
}

typedef struct bf_user {
    int scored;
    int64_t last;
    uint64_t freq;
    double mon;
    int idx;          /* position among scored users */
    int r, f, m;
} bf_user;

static int64_t bf_key_rec[MAX_U];
static uint64_t bf_key_freq[MAX_U];
static double bf_key_mon[MAX_U];
static int bf_what;

static int cmp_bf(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb, c;
    if (bf_what == 0)
        c = (bf_key_rec[a] > bf_key_rec[b]) - (bf_key_rec[a] < bf_key_rec[b]);
    else if (bf_what == 1)
        c = (bf_key_freq[a] > bf_key_freq[b]) - (bf_key_freq[a] < bf_key_freq[b]);
    else
        c = (bf_key_mon[a] > bf_key_mon[b]) - (bf_key_mon[a] < bf_key_mon[b]);
    return c ? c : a - b;
}

static void test_random(int rounds)
{
    load_sizes();
    CHECK(have_sizes);
    for (int round = 0; round < rounds; round++) {
        rng_state = 1000 + (uint64_t)round;
        int n_users = 1 + (int)rnd(MAX_U), n_ev = 1 + (int)rnd(MAX_EV);
        unsigned bins = 2 + rnd(9);
        int use_return = (int)rnd(2), use_ref = (int)rnd(3) == 0, use_from = (int)rnd(3) == 0;
        bf_event evs[MAX_EV];
        persona_store *s = new_seeded_store((uint64_t)round);
        char name[16];
        int order_of[MAX_U], seen[MAX_U] = { 0 }, n_seen = 0; /* store user order */
        int64_t tmax = INT64_MIN;
        for (int i = 0; i < n_ev; i++) {
            bf_event *e = &evs[i];
            e->user = (int)rnd((uint32_t)n_users);
            e->type = (int)rnd(3);
            e->t = T0 + (int64_t)rnd(60) * DAY / 3 + (int64_t)rnd(1000);
            int vk = (int)rnd(6);
            e->v = vk == 0 ? NAN : vk == 1 ? -(double)(1 + rnd(50)) / 4 : (double)(1 + rnd(400)) / 8;
            e->basket = rnd(3) ? (int)rnd(12) : -1;
            char basket[16];
            snprintf(name, sizeof name, "u%d", e->user);
            snprintf(basket, sizeof basket, "b%d", e->basket);
            static const char *const types[] = { "purchase", "refund", "view" };
            put(s, name, e->t, types[e->type], e->v, e->basket >= 0 ? basket : NULL);
            if (!seen[e->user]) {
                seen[e->user] = 1;
                order_of[n_seen++] = e->user;
            }
            if (e->t > tmax)
                tmax = e->t;
        }
        persona_rfm_options o = PERSONA_RFM_OPTIONS_INIT;
        o.bins = bins;
        if (use_return)
            o.return_type = "refund";
        int64_t ref = tmax + DAY, from = 0;
        if (use_ref)
            ref = o.reference_ms = T0 + (int64_t)rnd(25) * DAY;
        if (use_from && T0 + 5 * DAY <= ref)
            from = o.from_ms = T0 + 5 * DAY;
        /* brute force */
        bf_user us[MAX_U];
        memset(us, 0, sizeof us);
        for (int u = 0; u < n_users; u++) {
            int baskets[12] = { 0 };
            uint64_t loose = 0;
            double vals[MAX_EV];
            int nv = 0;
            int64_t last = INT64_MIN;
            for (int i = 0; i < n_ev; i++) {
                const bf_event *e = &evs[i];
                if (e->user != u || e->t > ref || (from && e->t < from))
                    continue;
                if (e->type == 1 && use_return) {
                    if (!isnan(e->v))
                        vals[nv++] = -fabs(e->v);
                } else if (e->type == 0) {
                    if (!isnan(e->v))
                        vals[nv++] = e->v;
                    if (!(e->v < 0)) {
                        if (e->t > last)
                            last = e->t;
                        if (e->basket < 0)
                            loose++;
                        else
                            baskets[e->basket] = 1;
                    }
                }
            }
            if (last == INT64_MIN)
                continue;
            us[u].scored = 1;
            us[u].last = last;
            us[u].freq = loose;
            for (int b = 0; b < 12; b++)
                us[u].freq += (uint64_t)baskets[b];
            /* values are multiples of 1/8 well below 2^40: any order sums exactly */
            double sum = 0;
            for (int k = 0; k < nv; k++)
                sum += vals[k];
            us[u].mon = sum;
        }
        int scored[MAX_U], n = 0;
        for (int k = 0; k < n_seen; k++)
            if (us[order_of[k]].scored)
                scored[n++] = order_of[k];
        for (int k = 0; k < n; k++) {
            bf_key_rec[k] = (ref - us[scored[k]].last) / DAY;
            bf_key_freq[k] = us[scored[k]].freq;
            bf_key_mon[k] = us[scored[k]].mon;
        }
        for (bf_what = 0; bf_what < 3; bf_what++) {
            int idx[MAX_U];
            for (int k = 0; k < n; k++)
                idx[k] = k;
            qsort(idx, (size_t)n, sizeof *idx, cmp_bf);
            for (int k = 0; k < n; k++) {
                int bin = pandas_bin((size_t)k + 1, (size_t)n, bins);
                bf_user *bu = &us[scored[idx[k]]];
                if (bf_what == 0)
                    bu->r = (int)bins + 1 - bin;
                else if (bf_what == 1)
                    bu->f = bin;
                else
                    bu->m = bin;
            }
        }
        persona_rfm *x = build(s, &o);
        size_t got_n = 0;
        persona_rfm_count(&got_n, x);
        CHECK(got_n == (size_t)n);
        for (int k = 0; k < n && got_n == (size_t)n; k++) {
            persona_rfm_entry e = PERSONA_RFM_ENTRY_INIT;
            char key[16];
            snprintf(name, sizeof name, "u%d", scored[k]);
            CHECK_RC(persona_rfm_user_at(key, sizeof key, NULL, x, (size_t)k), PERSONA_OK);
            CHECK_STR(key, name);
            CHECK_RC(persona_rfm_get(&e, x, (size_t)k), PERSONA_OK);
            const bf_user *bu = &us[scored[k]];
            int ok = e.last_purchase_ms == bu->last && e.recency_days == (ref - bu->last) / DAY &&
                     e.frequency == bu->freq && e.monetary == bu->mon && e.r == bu->r &&
                     e.f == bu->f && e.m == bu->m &&
                     e.segment == region_of((unsigned)bu->r, (unsigned)bu->f, (unsigned)bu->m,
                                            bins);
            if (!ok)
                fprintf(stderr, "random round %d, user %s: got %lld %llu %g %d%d%d, want "
                                "%lld %llu %g %d%d%d\n", round, name, (long long)e.recency_days,
                        (unsigned long long)e.frequency, e.monetary, e.r, e.f, e.m,
                        (long long)((ref - bu->last) / DAY), (unsigned long long)bu->freq,
                        bu->mon, bu->r, bu->f, bu->m);
            CHECK(ok);
        }
        persona_rfm_free(x);
        persona_store_free(s);
    }
}

/* ---- the bundled sample vs pandas ---------------------------------------------------- */

static persona_store *load_retail(const char *path)
{
    persona_store *s = new_seeded_store(42);
    persona_mapping map = PERSONA_MAPPING_INIT;
    map.user = "CustomerID";
    map.time = "InvoiceDate";
    map.basket = "InvoiceNo";
    map.value = "Quantity*UnitPrice";
    map.event_const = "purchase";
    persona_source *src = NULL;
    int rc = persona_source_open_csv(&src, path, NULL, &map);
    CHECK_RC(rc, PERSONA_OK);
    if (rc) {
        persona_store_free(s);
        return NULL;
    }
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    persona_source_free(src);
    return s;
}

/* Compare a result's CSV export with a reference file written by pandas: the same rows in
 * the same order; monetary compared as numbers. */
static void compare_with_reference(const persona_rfm *x, const char *ref_name,
                                   const char *summary_name)
{
    size_t n_lines = 0;
    char **want = read_lines(data_path(data_dir, ref_name), &n_lines);
    CHECK(want != NULL && n_lines > 1);
    char *csv = export_of(x, PERSONA_RFM_EXPORT_CSV);
    size_t n_got = 0;
    char *p = csv;
    size_t bad = 0;
    for (size_t li = 0; want && csv && li < n_lines; li++) {
        char *nl = strchr(p, '\n');
        if (!nl) {
            bad++;
            break;
        }
        *nl = '\0';
        n_got++;
        if (strcmp(p, want[li]) != 0) {
            /* same fields but the number formatting? */
            char gu[64], wu[64], gs[64], ws[64];
            long long grec, wrec, gf, wf;
            double gm, wm;
            int gr, gff, gmm, wr, wff, wmm;
            int ok = sscanf(p, "%63[^,],%lld,%lld,%lf,%d,%d,%d,%63[^\n]", gu, &grec, &gf, &gm,
                            &gr, &gff, &gmm, gs) == 8 &&
                     sscanf(want[li], "%63[^,],%lld,%lld,%lf,%d,%d,%d,%63[^\n]", wu, &wrec, &wf,
                            &wm, &wr, &wff, &wmm, ws) == 8 &&
                     strcmp(gu, wu) == 0 && grec == wrec && gf == wf && gm == wm && gr == wr &&
                     gff == wff && gmm == wmm && strcmp(gs, ws) == 0;
            if (!ok && bad < 5)
                fprintf(stderr, "%s line %zu: got '%s', want '%s'\n", ref_name, li + 1, p,
                        want[li]);
            bad += !ok;
        }
        p = nl + 1;
    }
    CHECK(bad == 0);
    CHECK(n_got == n_lines);
    CHECK(csv && *p == '\0');
    persona_free(csv);
    free_lines(want, n_lines);
    /* the summary: the same counts; shares as numbers */
    want = read_lines(data_path(data_dir, summary_name), &n_lines);
    CHECK(want != NULL && n_lines == 12);
    char *sum = export_of(x, PERSONA_RFM_EXPORT_SUMMARY_CSV);
    p = sum;
    for (size_t li = 0; want && sum && li < n_lines; li++) {
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        char gs[64], ws[64];
        unsigned long long gu, wu;
        double gsh, wsh;
        if (li == 0)
            CHECK_STR(p, want[0]);
        else
            CHECK(sscanf(p, "%63[^,],%llu,%lf", gs, &gu, &gsh) == 3 &&
                  sscanf(want[li], "%63[^,],%llu,%lf", ws, &wu, &wsh) == 3 &&
                  strcmp(gs, ws) == 0 && gu == wu && gsh == wsh);
        p = nl + 1;
    }
    persona_free(sum);
    free_lines(want, n_lines);
}

static void test_sample_reference(void)
{
    persona_store *s = load_retail(data_path(examples_dir, "online_retail_sample.csv"));
    if (!s)
        return;
    persona_rfm *x = build(s, NULL);
    size_t n = 0;
    persona_rfm_count(&n, x);
    CHECK(n == 220);
    compare_with_reference(x, "rfm_retail_sample.csv", "rfm_retail_sample_summary.csv");
    persona_rfm_free(x);
    persona_store_free(s);
}

/* ---- save and load -------------------------------------------------------------------- */

static void test_save_load(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/test_rfm_%d.snap", test_temp_dir(), (int)getpid());
    persona_store *s = hand_store();
    CHECK_RC(persona_store_consent_set(s, "a", "ads", 1, T0), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "e", "ads", 1, T0), PERSONA_OK);
    persona_rfm_options o = PERSONA_RFM_OPTIONS_INIT;
    o.bins = 3;
    o.return_type = "refund";
    o.consent_purpose = "ads";
    o.from_ms = T0 - DAY;
    for (int variant = 0; variant < 3; variant++) {
        persona_rfm *x = build(s, variant == 0 ? NULL : variant == 1 ? &o : NULL);
        if (variant == 2) { /* an empty result */
            persona_rfm_free(x);
            persona_rfm_options none = PERSONA_RFM_OPTIONS_INIT;
            none.purchase_type = "nothing";
            x = build(s, &none);
        }
        CHECK_RC(persona_rfm_save(x, path), PERSONA_OK);
        persona_rfm *y = NULL;
        CHECK_RC(persona_rfm_load(&y, path), PERSONA_OK);
        for (int32_t f = PERSONA_RFM_EXPORT_CSV; f <= PERSONA_RFM_EXPORT_JSON; f++) {
            char *a = export_of(x, f), *b = y ? export_of(y, f) : NULL;
            show_difference("save/load", a, b);
            CHECK(a && b && strcmp(a, b) == 0);
            persona_free(a);
            persona_free(b);
        }
        size_t i = 0;
        if (variant != 2) {
            CHECK_RC(persona_rfm_find(&i, y, "e"), PERSONA_OK);
        }
        persona_rfm_free(y);
        persona_rfm_free(x);
    }
    /* damage: every truncation and every single-bit flip (in the first 4 KiB) -> ECORRUPT,
     * or EVERSION for a flip that makes the version newer */
    persona_rfm *x = build(s, &o);
    CHECK_RC(persona_rfm_save(x, path), PERSONA_OK);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    CHECK(bytes && len > 64);
    char damaged[300];
    snprintf(damaged, sizeof damaged, "%s.bad", path);
    int wrong = 0;
    for (size_t cut = 0; bytes && cut < len; cut++) {
        write_file(damaged, bytes, cut);
        persona_rfm *y = (persona_rfm *)&cut;
        int rc = persona_rfm_load(&y, damaged);
        wrong += rc != PERSONA_ECORRUPT || y != NULL;
    }
    for (size_t bit = 0; bytes && bit < 8 * len && bit < 8 * 4096; bit++) {
        bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        write_file(damaged, bytes, len);
        bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        persona_rfm *y = NULL;
        int rc = persona_rfm_load(&y, damaged);
        wrong += (rc != PERSONA_ECORRUPT && rc != PERSONA_EVERSION) || y != NULL;
    }
    CHECK(wrong == 0);
    free(bytes);
    /* another kind of snapshot, a missing file, NULLs */
    CHECK_RC(persona_store_save(s, damaged), PERSONA_OK);
    persona_rfm *y = NULL;
    CHECK_RC(persona_rfm_load(&y, damaged), PERSONA_ECORRUPT);
    CHECK_MSG("not a table of RFM scores");
    unlink(damaged);
    CHECK_RC(persona_rfm_load(&y, damaged), PERSONA_EIO);
    CHECK_RC(persona_rfm_load(NULL, path), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_load(&y, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_save(NULL, path), PERSONA_EINVAL);
    CHECK_RC(persona_rfm_save(x, NULL), PERSONA_EINVAL);
    persona_rfm_free(x);
    unlink(path);
    persona_store_free(s);
}

/* ---- adjusted Rand index -------------------------------------------------------------- */

static double ari(const uint32_t *a, const uint32_t *b, size_t n)
{
    double out = NAN;
    CHECK_RC(persona_adjusted_rand_index(&out, a, b, n), PERSONA_OK);
    return out;
}

static void test_u128(void)
{
    CHECK(persona__u128_to_double(0, 0) == 0.0);
    CHECK(persona__u128_to_double(0, 12345) == 12345.0);
    uint64_t p53 = UINT64_C(1) << 53;
    CHECK(persona__u128_to_double(0, p53 + 1) == ldexp(1, 53));          /* tie -> even */
    CHECK(persona__u128_to_double(0, p53 + 3) == ldexp(1, 53) + 4);      /* tie -> even (up) */
    CHECK(persona__u128_to_double(0, UINT64_MAX) == ldexp(1, 64));
    CHECK(persona__u128_to_double(1, 0) == ldexp(1, 64));
    /* 2^100 + 2^47: exactly half an ulp (2^48) above 2^100 -> 2^100 (even) */
    CHECK(persona__u128_to_double(UINT64_C(1) << 36, UINT64_C(1) << 47) == ldexp(1, 100));
    CHECK(persona__u128_to_double(UINT64_C(1) << 36, (UINT64_C(1) << 47) + 1) ==
          ldexp(1, 100) + ldexp(1, 48));
    /* 2^100 + 3·2^47: half-way between 2^100 + 2^48 (odd) and 2^100 + 2^49 -> the latter */
    CHECK(persona__u128_to_double(UINT64_C(1) << 36, UINT64_C(3) << 47) ==
          ldexp(1, 100) + ldexp(1, 49));
    CHECK(persona__u128_to_double(UINT64_MAX, UINT64_MAX) == ldexp(1, 128));
}

static void test_ari(void)
{
    test_u128();
    /* hand-worked: n = 4, a = 0 0 1 2, b = 0 0 1 1: contingency (0,0) 2, (1,1) 1, (2,1) 1;
     * S = 1, A = 1, B = 2, N = 6: 2 (6 - 2) / (1·4 + 2·5) = 8 / 14 */
    uint32_t a1[] = { 0, 0, 1, 2 }, b1[] = { 0, 0, 1, 1 };
    CHECK(ari(a1, b1, 4) == 8.0 / 14.0);
    CHECK(ari(b1, a1, 4) == 8.0 / 14.0); /* symmetric */
    /* 0 0 1 1 vs 0 1 0 1: S = 0, A = B = 2, N = 6: 2 (0 - 4) / (2·4 + 2·4) = -0.5 */
    uint32_t a2[] = { 0, 0, 1, 1 }, b2[] = { 0, 1, 0, 1 };
    CHECK(ari(a2, b2, 4) == -0.5);
    /* one cluster vs all singletons: S = 0, A = 6, B = 0: 0 */
    uint32_t a3[] = { 7, 7, 7, 7 }, b3[] = { 0, 1, 2, 3 };
    CHECK(ari(a3, b3, 4) == 0.0);
    /* the same partition under other labels, both single clusters, n < 2 */
    uint32_t a4[] = { 4000000000u, 4000000000u, 3, 3, 9 }, b4[] = { 1, 1, 0, 0, 2 };
    CHECK(ari(a4, b4, 5) == 1.0);
    CHECK(ari(a3, a3, 4) == 1.0);
    CHECK(ari(b3, b3, 4) == 1.0); /* all singletons */
    CHECK(ari(a1, b1, 1) == 1.0);
    CHECK(ari(NULL, NULL, 0) == 1.0);
    /* 3 × 3 table by hand: a = 0 0 0 1 1 1 2 2 2, b = 0 0 1 1 1 2 2 2 0:
     * n_ij: (0,0) 2 (0,1) 1 (1,1) 2 (1,2) 1 (2,2) 2 (2,0) 1 -> S = 3; A = 3·3 = 9;
     * b sizes 3 3 3 -> B = 9; N = 36: 2 (3·36 - 81) / (9·27 + 9·27) = 54 / 486 = 1/9 */
    uint32_t a5[] = { 0, 0, 0, 1, 1, 1, 2, 2, 2 }, b5[] = { 0, 0, 1, 1, 1, 2, 2, 2, 0 };
    CHECK(ari(a5, b5, 9) == 2.0 * 27.0 / 486.0);
    double out = 0;
    CHECK_RC(persona_adjusted_rand_index(NULL, a1, b1, 4), PERSONA_EINVAL);
    CHECK_RC(persona_adjusted_rand_index(&out, NULL, b1, 4), PERSONA_EINVAL);
    CHECK_MSG("a is NULL with n = 4");
    CHECK_RC(persona_adjusted_rand_index(&out, a1, NULL, 4), PERSONA_EINVAL);
#if SIZE_MAX > UINT32_MAX
    CHECK_RC(persona_adjusted_rand_index(&out, a1, b1, (size_t)UINT32_MAX + 1), PERSONA_EINVAL);
#endif

    /* scikit-learn on LCG labelings (tests/data/rfm_ari_sklearn.csv): bit for bit */
    size_t n_lines = 0;
    char **lines = read_lines(data_path(data_dir, "rfm_ari_sklearn.csv"), &n_lines);
    CHECK(lines != NULL && n_lines >= 10);
    size_t compared = 0;
    for (size_t li = 1; lines && li < n_lines; li++) {
        unsigned long n, ka, kb, keep, seed;
        char text[64];
        if (sscanf(lines[li], "%lu,%lu,%lu,%lu,%lu,%63s", &n, &ka, &kb, &keep, &seed, text) != 6)
            continue;
        double want = strtod(text, NULL);
        uint32_t *a = malloc(sizeof *a * n), *b = malloc(sizeof *b * n);
        uint64_t x = seed;
#define DRAW() (x = x * 6364136223846793005u + 1442695040888963407u, x >> 33)
        for (unsigned long i = 0; i < n; i++) {
            a[i] = (uint32_t)(DRAW() % ka);
            if (DRAW() % 100 < keep)
                b[i] = (uint32_t)(a[i] % kb);
            else
                b[i] = (uint32_t)(DRAW() % kb);
        }
#undef DRAW
        double got = ari(a, b, n);
        if (got != want)
            fprintf(stderr, "ARI n=%lu seed=%lu: %.17g, sklearn %.17g\n", n, seed, got, want);
        CHECK(got == want);
        free(a);
        free(b);
        compared++;
    }
    CHECK(compared == 12);
    free_lines(lines, n_lines);
}

/* ---- migration ----------------------------------------------------------------------- */

static void check_migration_by_assign(const persona_segment_model *m, const persona_store *s,
                                      int64_t from, int64_t to)
{
    size_t k = 0;
    persona_segment_model_count(&k, m);
    size_t side = k + 1;
    uint64_t *got = calloc(side * side, sizeof *got), *want = calloc(side * side, sizeof *want);
    CHECK_RC(persona_segment_model_migration(got, side * side, m, s, from, to), PERSONA_OK);
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info, s);
    for (uint64_t u = 0; u < info.users; u++) {
        char key[64], root[64];
        persona_store_user_at(key, sizeof key, NULL, s, u);
        persona_store_resolve(root, sizeof root, NULL, s, key);
        if (strcmp(key, root) != 0)
            continue; /* an identifier linked into another's profile */
        uint32_t seg[2];
        int64_t times[2] = { from, to };
        for (int j = 0; j < 2; j++) {
            persona_eval_context ctx = PERSONA_EVAL_CONTEXT_INIT;
            ctx.now_ms = times[j];
            size_t count = 0;
            uint32_t one = 0;
            CHECK_RC(persona_segment_model_assign(&one, 1, &count, m, s, key, &ctx), PERSONA_OK);
            seg[j] = count ? one : (uint32_t)k;
        }
        want[seg[0] * side + seg[1]]++;
    }
    CHECK(memcmp(got, want, side * side * sizeof *got) == 0);
    free(got);
    free(want);
}

static void test_migration(void)
{
    persona_store *s = new_seeded_store(21);
    /* big: spent over 100; small: spent anything; as of T0 + 5 days and T0 + 20 days */
    put(s, "x", T0, "purchase", 50, NULL);          /* small -> big */
    put(s, "x", T0 + 10 * DAY, "purchase", 80, NULL);
    put(s, "y", T0 + DAY, "purchase", 500, NULL);   /* big -> big */
    put(s, "z", T0 + 2 * DAY, "view", NAN, NULL);   /* none -> small */
    put(s, "z", T0 + 12 * DAY, "purchase", 5, NULL);
    put(s, "w", T0 + 15 * DAY, "purchase", 1000, NULL); /* new: none -> big */
    put(s, "v", T0 + 3 * DAY, "view", NAN, NULL);   /* none -> none */
    persona_segment_model *m = NULL;
    const char *rules = "big: value > 100\nsmall: value > 0\n";
    CHECK_RC(persona_segment_model_compile(&m, rules, strlen(rules), NULL), PERSONA_OK);
    uint64_t mx[9];
    memset(mx, 0xAB, sizeof mx);
    CHECK_RC(persona_segment_model_migration(mx, 9, m, s, T0 + 5 * DAY, T0 + 20 * DAY),
             PERSONA_OK);
    /* rows: big, small, none as of T0 + 5d; columns as of T0 + 20d */
    const uint64_t want[9] = { 1, 0, 0, /* big: y */
                               1, 0, 0, /* small: x -> big */
                               1, 1, 1 /* none: w -> big, z -> small, v -> none */ };
    CHECK(memcmp(mx, want, sizeof want) == 0);
    /* the other way round: the transpose */
    CHECK_RC(persona_segment_model_migration(mx, 9, m, s, T0 + 20 * DAY, T0 + 5 * DAY),
             PERSONA_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            CHECK(mx[i * 3 + j] == want[j * 3 + i]);
    /* the store's clock */
    CHECK_RC(persona_segment_model_migration(mx, 9, m, s, PERSONA_NOW_STORE, PERSONA_NOW_STORE),
             PERSONA_OK);
    CHECK(mx[0] == 3 && mx[4] == 1 && mx[8] == 1);
    check_migration_by_assign(m, s, T0 + 5 * DAY, T0 + 20 * DAY);
    check_migration_by_assign(m, s, T0 - DAY, PERSONA_NOW_STORE);

    /* errors: the matrix is left as it was */
    uint64_t before[9];
    memcpy(before, mx, sizeof mx);
    CHECK_RC(persona_segment_model_migration(mx, 8, m, s, T0, T0), PERSONA_EBUFS);
    CHECK_MSG("needs 9 entries");
    CHECK_RC(persona_segment_model_migration(NULL, 0, m, s, T0, T0), PERSONA_EBUFS);
    CHECK_RC(persona_segment_model_migration(NULL, 9, m, s, T0, T0), PERSONA_EINVAL);
    CHECK_RC(persona_segment_model_migration(mx, 9, NULL, s, T0, T0), PERSONA_EINVAL);
    CHECK_RC(persona_segment_model_migration(mx, 9, m, NULL, T0, T0), PERSONA_EINVAL);
    CHECK_RC(persona_segment_model_migration(mx, 9, m, s, PERSONA_TIME_MAX + 1, T0),
             PERSONA_EINVAL);
    CHECK_MSG("from_ms");
    CHECK_RC(persona_segment_model_migration(mx, 9, m, s, T0, PERSONA_TIME_MIN - 1),
             PERSONA_EINVAL);
    CHECK_MSG("to_ms");
    CHECK(memcmp(before, mx, sizeof mx) == 0);
    persona_segment_options all = PERSONA_SEGMENT_OPTIONS_INIT;
    all.mode = PERSONA_SEGMENT_ALL_MATCHES;
    persona_segment_model *ma = NULL;
    CHECK_RC(persona_segment_model_compile(&ma, rules, strlen(rules), &all), PERSONA_OK);
    CHECK_RC(persona_segment_model_migration(mx, 9, ma, s, T0, T0), PERSONA_EINVAL);
    CHECK_MSG("first-match");
    persona_segment_model_free(ma);

    /* linked identifiers count once; a model with no segments is one cell */
    persona_identifier ids[2] = { PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "x"),
                                  PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "v") };
    CHECK_RC(persona_store_alias(NULL, s, ids, 2, T0 + 16 * DAY, NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_migration(mx, 9, m, s, T0 + 5 * DAY, T0 + 20 * DAY),
             PERSONA_OK);
    uint64_t total = 0;
    for (int i = 0; i < 9; i++)
        total += mx[i];
    CHECK(total == 4);
    check_migration_by_assign(m, s, T0 + 5 * DAY, T0 + 20 * DAY);
    persona_segment_model *empty = NULL;
    CHECK_RC(persona_segment_model_new(&empty, NULL), PERSONA_OK);
    uint64_t one = 0;
    CHECK_RC(persona_segment_model_migration(&one, 1, empty, s, T0, T0), PERSONA_OK);
    CHECK(one == 4);
    persona_segment_model_free(empty);
    persona_segment_model_free(m);

    /* random stores and rules vs per-user assignment */
    for (int round = 0; round < 20; round++) {
        rng_state = 77 + (uint64_t)round;
        persona_store *r = new_seeded_store((uint64_t)round);
        char name[16];
        int n_ev = 1 + (int)rnd(120);
        for (int i = 0; i < n_ev; i++) {
            snprintf(name, sizeof name, "u%u", rnd(25));
            static const char *const types[] = { "purchase", "view", "cart" };
            put(r, name, T0 + (int64_t)rnd(40) * DAY, types[rnd(3)], (double)rnd(50), NULL);
        }
        const char *rs = "vip: sum(\"purchase\") > 60\nactive: count(\"view\", 7d) >= 1\n"
                         "carted: count(\"cart\") >= 2 and not (count(\"purchase\", 10d) >= 1)\n";
        persona_segment_model *rm = NULL;
        CHECK_RC(persona_segment_model_compile(&rm, rs, strlen(rs), NULL), PERSONA_OK);
        check_migration_by_assign(rm, r, T0 + (int64_t)rnd(40) * DAY, T0 + (int64_t)rnd(40) * DAY);
        persona_segment_model_free(rm);
        persona_store_free(r);
    }
    persona_store_free(s);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
    if (argc > 2)
        examples_dir = argv[2];
    const char *rounds = getenv("RFM_ROUNDS");
    test_qcut_bins();
    test_grid();
    test_hand();
    test_ties();
    test_few_users();
    test_options();
    test_aliases();
    test_random(rounds ? atoi(rounds) : 300);
    test_sample_reference();
    test_save_load();
    test_ari();
    test_migration();
    return check_report("test_rfm");
}
