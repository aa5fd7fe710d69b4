/* The boosted trees (lib/predict/gbdt_*.c): binning by hand and against its definition;
 * the best split of a node — at the root and at both children of the root's split, so the
 * two levels of a depth-2 tree — against a brute force over every feature, threshold and
 * missing-value side, computed from the rows; whole trees of depth 1 and 2 against the
 * same brute force with their leaves from the rows' sums; boosting (each round lowers the
 * training log-loss, margins equal the trees' outputs on raw values); bad input and
 * allocation failures.
 *
 * usage: test_gbdt [LIB_DIR] (default: lib, from the source tree's root). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_inject.h"
#include "oom_sites.h"
#include "persona.h"
#include "predict/gbdt.h"

static void test_binning_hand(void)
{
    /* one feature: 3 1 NaN 2 2 5 → distinct 1 2 3 5, each its own bin: cuts 1 2 3 */
    const double x[] = { 3, 1, NAN, 2, 2, 5 };
    persona__gbdt_bins b;
    CHECK_RC(persona__gbdt_bin(&b, x, 6, 1, 255), PERSONA_OK);
    CHECK(b.cut_start[1] == 3 && b.cuts[0] == 1 && b.cuts[1] == 2 && b.cuts[2] == 3);
    const uint8_t want[] = { 2, 0, PERSONA__GBDT_MISSING, 1, 1, 3 };
    CHECK(memcmp(b.bins, want, 6) == 0);
    CHECK(persona__gbdt_bin_of(&b, 0, 2.5) == 2 && persona__gbdt_bin_of(&b, 0, 99) == 3 &&
          persona__gbdt_bin_of(&b, 0, -99) == 0 && persona__gbdt_bin_of(&b, 0, NAN) == PERSONA__GBDT_MISSING);
    persona__gbdt_bins_free(&b);
    /* 1 … 10 in 2 bins: the cut is the value at rank ⌊10/2⌋ = 5 of the sorted values, 6 */
    double ten[10];
    for (int i = 0; i < 10; i++)
        ten[i] = 10 - i;
    CHECK_RC(persona__gbdt_bin(&b, ten, 10, 1, 2), PERSONA_OK);
    CHECK(b.cut_start[1] == 1 && b.cuts[0] == 6);
    for (int i = 0; i < 10; i++)
        CHECK(b.bins[i] == (ten[i] > 6));
    persona__gbdt_bins_free(&b);
    /* two features; an all-missing feature has no cuts */
    const double two[] = { 1, NAN, 2, NAN, 1, NAN };
    CHECK_RC(persona__gbdt_bin(&b, two, 3, 2, 16), PERSONA_OK);
    CHECK(b.cut_start[1] == 1 && b.cut_start[2] == 1);
    CHECK(b.bins[0] == 0 && b.bins[2] == 1 && b.bins[4] == 0); /* row-major */
    CHECK(b.bins[1] == PERSONA__GBDT_MISSING && b.bins[5] == PERSONA__GBDT_MISSING);
    persona__gbdt_bins_free(&b);
    CHECK_RC(persona__gbdt_bin(&b, ten, 10, 1, 1), PERSONA_EINVAL);
    CHECK_RC(persona__gbdt_bin(&b, ten, 10, 1, 256), PERSONA_EINVAL);
    const double inf[] = { 1, INFINITY };
    CHECK_RC(persona__gbdt_bin(&b, inf, 2, 1, 8), PERSONA_EINVAL);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* The best split of rows[0 .. m) by brute force: every feature, every value bin but the
 * last as the threshold, missing rows left then right; sums straight from the rows. */
static persona__gbdt_split brute_split(const persona__gbdt_bins *b, const uint32_t *rows,
                                       size_t m, const double *g, const double *h,
                                       const persona__gbdt_split_params *p)
{
    persona__gbdt_split best;
    memset(&best, 0, sizeof best);
    double G = 0, H = 0;
    for (size_t k = 0; k < m; k++)
        G += g[rows[k]], H += h[rows[k]];
    for (size_t f = 0; f < b->d; f++) {
        size_t value_bins = b->cut_start[f + 1] - b->cut_start[f] + 1;
        for (size_t t = 0; t + 1 < value_bins; t++)
            for (int ml = 1; ml >= 0; ml--) {
                double GL = 0, HL = 0;
                for (size_t k = 0; k < m; k++) {
                    uint8_t bin = b->bins[rows[k] * b->d + f];
                    if (bin == PERSONA__GBDT_MISSING ? ml : bin <= t)
                        GL += g[rows[k]], HL += h[rows[k]];
                }
                double GR = G - GL, HR = H - HL;
                if (HL < p->min_child_weight || HR < p->min_child_weight ||
                    !(HL + p->lambda > 0) || !(HR + p->lambda > 0) || !(H + p->lambda > 0))
                    continue;
                double gain = 0.5 * (GL * GL / (HL + p->lambda) + GR * GR / (HR + p->lambda) -
                                     G * G / (H + p->lambda)) - p->gamma;
                if (gain > 0 && (!best.found || gain > best.gain))
                    best = (persona__gbdt_split){ 1, (uint32_t)f, (uint32_t)t, ml, gain, GL, HL, GR, HR };
            }
    }
    return best;
}

static void same_split(const persona__gbdt_split *a, const persona__gbdt_split *w, int trial)
{
    int ok = a->found == w->found &&
             (!w->found || (a->feature == w->feature && a->bin == w->bin &&
                            a->missing_left == w->missing_left &&
                            fabs(a->gain - w->gain) <= 1e-9 * (1 + fabs(w->gain)) &&
                            a->g_left == w->g_left && a->h_left == w->h_left));
    if (!ok)
        fprintf(stderr, "trial %d: got %d f%u b%u ml%d gain %.17g, want %d f%u b%u ml%d gain %.17g\n",
                trial, a->found, a->feature, a->bin, a->missing_left, a->gain, w->found, w->feature,
                w->bin, w->missing_left, w->gain);
    CHECK(ok);
}

/* Random nodes: values with few distinct levels and missing cells; gradients and Hessians
 * on a grid of powers of two, so that every sum is exact in doubles and the histogram's
 * sums equal the brute force's bit for bit (ties then break alike). */
static void test_split_brute(void)
{
    enum { MAXN = 300, MAXD = 5 };
    static double x[MAXN * MAXD], g[MAXN], h[MAXN];
    static persona__gbdt_hist hist[MAXD * 256];
    uint32_t rows[MAXN], left[MAXN], right[MAXN];
    for (int trial = 0; trial < 300; trial++) {
        size_t n = 2 + rnd(MAXN - 1), d = 1 + rnd(MAXD);
        uint32_t levels = 2 + rnd(trial % 2 ? 6 : 400), miss = rnd(4);
        for (size_t i = 0; i < n * d; i++)
            x[i] = rnd(10) < miss ? NAN : (double)rnd(levels) / 4;
        for (size_t i = 0; i < n; i++) {
            g[i] = ((double)rnd(33) - 16) / 16;
            h[i] = (double)(1 + rnd(16)) / 64;
        }
        persona__gbdt_split_params p = { trial % 3 ? 1.0 : 0.0, trial % 4 == 0 ? 0.25 : 0,
                                         trial % 5 == 0 ? 0.5 : 0 };
        persona__gbdt_bins b;
        CHECK_RC(persona__gbdt_bin(&b, x, n, d, 2 + rnd(60)), PERSONA_OK);
        /* the bins obey their definition */
        for (size_t f = 0; f < d; f++)
            for (size_t i = 0; i < n; i++) {
                double v = x[i * d + f];
                uint8_t want = 0;
                if (isnan(v))
                    want = PERSONA__GBDT_MISSING;
                else
                    for (size_t c = b.cut_start[f]; c < b.cut_start[f + 1]; c++)
                        want += b.cuts[c] < v;
                CHECK(b.bins[i * d + f] == want);
            }
        for (size_t i = 0; i < n; i++)
            rows[i] = (uint32_t)i;
        persona__gbdt_histogram(hist, &b, rows, n, g, h);
        persona__gbdt_split got = persona__gbdt_best_split(hist, &b, &p);
        persona__gbdt_split want = brute_split(&b, rows, n, g, h, &p);
        same_split(&got, &want, trial);
        if (got.found) { /* the second level: each child of the root's split */
            size_t nl = 0, nr = 0;
            for (size_t i = 0; i < n; i++) {
                uint8_t bin = b.bins[i * d + got.feature];
                int goes_left = bin == PERSONA__GBDT_MISSING ? got.missing_left : bin <= got.bin;
                if (goes_left)
                    left[nl++] = (uint32_t)i;
                else
                    right[nr++] = (uint32_t)i;
            }
            CHECK(nl && nr);
            const uint32_t *side[2] = { left, right };
            size_t count[2] = { nl, nr };
            for (int s = 0; s < 2; s++) {
                persona__gbdt_histogram(hist, &b, side[s], count[s], g, h);
                persona__gbdt_split c = persona__gbdt_best_split(hist, &b, &p);
                persona__gbdt_split cw = brute_split(&b, side[s], count[s], g, h, &p);
                same_split(&c, &cw, trial);
            }
        }
        persona__gbdt_bins_free(&b);
    }
}

/* The leaf values under node i, left to right, into out from k on; returns the new k. */
static size_t leaves_left_to_right(const persona__gbdt_tree *t, uint32_t i, double *out, size_t k)
{
    const persona__gbdt_node *nd = &t->nodes[i];
    if (!nd->left) {
        if (k < 8)
            out[k] = nd->value;
        return k + 1;
    }
    k = leaves_left_to_right(t, nd->left, out, k);
    return leaves_left_to_right(t, nd->right, out, k);
}

/* A tree grown to depth 1 or 2 equals the brute force: the root's split, the children's
 * splits on the rows each side receives, and every leaf −η G / (H + λ) of its rows. */
static void test_trees_brute(void)
{
    enum { MAXN = 200, MAXD = 4 };
    static double x[MAXN * MAXD], g[MAXN], h[MAXN];
    uint32_t rows[MAXN], all[MAXN], left[MAXN], right[MAXN];
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 2 + rnd(MAXN - 1), d = 1 + rnd(MAXD);
        for (size_t i = 0; i < n * d; i++)
            x[i] = rnd(8) == 0 ? NAN : (double)rnd(12);
        for (size_t i = 0; i < n; i++) {
            g[i] = ((double)rnd(33) - 16) / 16;
            h[i] = (double)(1 + rnd(16)) / 64;
            all[i] = rows[i] = (uint32_t)i;
        }
        persona__gbdt_params p = { { trial % 2 ? 1.0 : 0.5, 0, trial % 3 == 0 ? 0.25 : 0 },
                                   1 + (unsigned)(trial % 2), 0.3, 1 };
        persona__gbdt_bins b;
        CHECK_RC(persona__gbdt_bin(&b, x, n, d, 16), PERSONA_OK);
        persona__gbdt_tree t;
        CHECK_RC(persona__gbdt_grow(&t, &b, rows, n, g, h, &p), PERSONA_OK);
        persona__gbdt_split root = brute_split(&b, all, n, g, h, &p.split);
        double want_leaf[4];
        size_t leaves = 0;
        const uint32_t *side[2] = { left, right };
        size_t count[2] = { 0, 0 };
        if (root.found) {
            CHECK(t.nodes[0].left && t.nodes[0].feature == root.feature && t.nodes[0].bin == root.bin &&
                  t.nodes[0].missing_left == root.missing_left);
            for (size_t i = 0; i < n; i++) {
                uint8_t bin = b.bins[i * d + root.feature];
                int l = bin == PERSONA__GBDT_MISSING ? root.missing_left : bin <= root.bin;
                if (l)
                    left[count[0]++] = (uint32_t)i;
                else
                    right[count[1]++] = (uint32_t)i;
            }
            for (int sd = 0; sd < 2; sd++) {
                const persona__gbdt_node *c = &t.nodes[sd ? t.nodes[0].right : t.nodes[0].left];
                persona__gbdt_split cs = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
                if (p.max_depth == 2 && count[sd] >= 2)
                    cs = brute_split(&b, side[sd], count[sd], g, h, &p.split);
                CHECK((c->left != 0) == cs.found);
                if (cs.found) {
                    CHECK(c->feature == cs.feature && c->bin == cs.bin && c->missing_left == cs.missing_left);
                    want_leaf[leaves++] = -0.3 * cs.g_left / (cs.h_left + p.split.lambda);
                    want_leaf[leaves++] = -0.3 * cs.g_right / (cs.h_right + p.split.lambda);
                } else {
                    double G = 0, H = 0;
                    for (size_t k = 0; k < count[sd]; k++)
                        G += g[side[sd][k]], H += h[side[sd][k]];
                    want_leaf[leaves++] = -0.3 * G / (H + p.split.lambda);
                }
            }
        } else {
            double G = 0, H = 0;
            for (size_t i = 0; i < n; i++)
                G += g[i], H += h[i];
            CHECK(t.nodes[0].left == 0 && t.n_nodes == 1);
            want_leaf[leaves++] = -0.3 * G / (H + p.split.lambda);
        }
        /* the leaves, left to right, equal the brute force's */
        double got_leaf[8];
        size_t k = leaves_left_to_right(&t, 0, got_leaf, 0);
        CHECK(k == leaves);
        for (size_t i = 0; i < k && i < leaves; i++)
            CHECK_NEAR(got_leaf[i], want_leaf[i], 1e-15);
        /* scoring raw values follows the same path as the bins */
        for (size_t i = 0; i < n; i++)
            CHECK(persona__gbdt_tree_raw(&t, x + i * d) == persona__gbdt_tree_binned(&t, &b, i));
        persona__gbdt_tree_free(&t);
        persona__gbdt_bins_free(&b);
    }
}

static double log_loss(const double *y, const double *f, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (f[i] > 0 ? f[i] + log1p(exp(-f[i])) : log1p(exp(f[i]))) - y[i] * f[i];
    return s / (double)n;
}

static void test_boosting(void)
{
    enum { N = 400, D = 3 };
    static double x[N * D], y[N], f[N];
    for (size_t i = 0; i < N; i++) {
        double s = -0.5;
        for (size_t j = 0; j < D; j++) {
            x[i * D + j] = rnd(10) == 0 ? NAN : (double)rnd(1000) / 100 - 5;
            s += isnan(x[i * D + j]) ? 0.5 : (j == 1 ? -1 : 1) * x[i * D + j] * 0.4;
        }
        y[i] = (double)rnd(1000) / 1000 < 1 / (1 + exp(-s));
    }
    persona__gbdt_bins b;
    CHECK_RC(persona__gbdt_bin(&b, x, N, D, 32), PERSONA_OK);
    double prev = log(2); /* the loss of margin 0 */
    for (unsigned trees = 1; trees <= 12; trees++) {
        persona__gbdt_params p = { { 1, 0, 1 }, 3, 0.3, trees };
        persona__gbdt_model m;
        CHECK_RC(persona__gbdt_boost(&m, &b, y, &p, f), PERSONA_OK);
        CHECK(m.n_trees == trees);
        double loss = log_loss(y, f, N);
        CHECK(loss < prev);
        prev = loss;
        for (size_t i = 0; i < N; i++) {
            double sum = 0;
            for (size_t t = 0; t < m.n_trees; t++)
                sum += persona__gbdt_tree_raw(&m.trees[t], x + i * D);
            CHECK(sum == f[i]);
            CHECK(persona__gbdt_predict(&m, x + i * D) == 1 / (1 + exp(-f[i])) ||
                  fabs(persona__gbdt_predict(&m, x + i * D) - 1 / (1 + exp(-f[i]))) < 1e-15);
        }
        persona__gbdt_model_free(&m);
    }
    persona__gbdt_params bad = { { 1, 0, 1 }, 3, 0, 2 };
    persona__gbdt_model m;
    CHECK_RC(persona__gbdt_boost(&m, &b, y, &bad, NULL), PERSONA_EINVAL);
    bad.learning_rate = 0.1;
    bad.max_depth = 0;
    CHECK_RC(persona__gbdt_boost(&m, &b, y, &bad, NULL), PERSONA_EINVAL);
    CHECK(m.trees == NULL);
    y[3] = 2;
    bad.max_depth = 2;
    CHECK_RC(persona__gbdt_boost(&m, &b, y, &bad, NULL), PERSONA_EINVAL);
    persona__gbdt_bins_free(&b);
}

/* ---- allocation failures (oom_under_injection: each failure ENOMEM with nothing left,
 * each success the reference result) ---- */

static int counted;
static const double oom_x[] = { 1, 2, NAN, 4, 5, 6 }, oom_y[] = { 0, 1, 1 };

static int op_bin(void **res, const void *arg)
{
    (void)arg;
    persona__gbdt_bins *b = malloc(sizeof *b);
    int rc = persona__gbdt_bin(b, oom_x, 3, 2, 8);
    if (rc) {
        CHECK(b->bins == NULL && b->cuts == NULL && b->cut_start == NULL);
        free(b);
        return rc;
    }
    *res = b;
    return rc;
}

static char *bins_text(void *res)
{
    persona__gbdt_bins *b = res;
    char *t = malloc(256);
    int k = snprintf(t, 256, "cuts %zu %zu:", b->cut_start[1], b->cut_start[2]);
    for (size_t i = 0; i < 6; i++)
        k += snprintf(t + k, 256 - (size_t)k, " %u", b->bins[i]);
    persona__gbdt_bins_free(b);
    free(b);
    return t;
}

/* Boosting on bins made beforehand (arg). A failed shrink of a tree's nodes keeps the
 * larger block: that call succeeds, with the reference result. */
static int op_boost(void **res, const void *arg)
{
    persona__gbdt_params p = { { 0, 0, 0 }, 2, 0.5, 3 };
    persona__gbdt_model *m = malloc(sizeof *m);
    int rc = persona__gbdt_boost(m, arg, oom_y, &p, NULL);
    if (rc) {
        CHECK(m->trees == NULL && m->n_trees == 0);
        free(m);
        return rc;
    }
    *res = m;
    return rc;
}

static char *model_text(void *res)
{
    persona__gbdt_model *m = res;
    char *t = malloc(256);
    int k = snprintf(t, 256, "%zu trees:", m->n_trees);
    for (size_t i = 0; i < 3; i++)
        k += snprintf(t + k, 256 - (size_t)k, " %.17g", persona__gbdt_predict(m, oom_x + 2 * i));
    persona__gbdt_model_free(m);
    free(m);
    return t;
}

static void test_oom(const char *lib_dir)
{
    oom_under_injection(op_bin, bins_text, NULL, "binning", &counted);
    persona__gbdt_bins b;
    CHECK_RC(persona__gbdt_bin(&b, oom_x, 3, 2, 8), PERSONA_OK);
    oom_under_injection(op_boost, model_text, &b, "boosting", &counted);
    persona__gbdt_bins_free(&b);
    static const char *const files[] = { "gbdt_bins.c", "gbdt_split.c", "gbdt_tree.c" };
    check_oom_sites(lib_dir, "predict", files, 3, 12, "boosted trees");
}

int main(int argc, char **argv)
{
    failalloc_install();
    test_binning_hand();
    test_split_brute();
    test_trees_brute();
    test_boosting();
    test_oom(argc > 1 ? argv[1] : "lib");
    return check_report("test_gbdt");
}
