/* Binary classification metrics: scikit-learn's documented examples and a hand-worked set,
 * every measure against a brute force (all pairs for ROC-AUC, every threshold for
 * precision, recall, average precision and the best F1) on random sets with many ties,
 * the bins against a direct split, degenerate sets, bad input and allocation failures.
 *
 * usage: test_metrics [LIB_DIR] (default: lib, from the source tree's root). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_sites.h"
#include "persona.h"

#define EPS 1e-12

static persona_metrics measure(const double *y, const double *s, size_t n, double t)
{
    persona_metrics m = PERSONA_METRICS_INIT;
    CHECK_RC(persona_metrics_compute(&m, y, s, n, t), PERSONA_OK);
    return m;
}

/* scikit-learn's docstring examples: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
 * = 0.75 and average_precision_score of the same = 0.8333…. By hand: log-loss
 * −(ln 0.9 + ln 0.6 + ln 0.35 + ln 0.8)/4; Brier (0.01 + 0.16 + 0.4225 + 0.04)/4 =
 * 0.158125. At 0.5 only 0.8 is predicted positive: TP 1, FP 0, TN 2: accuracy 3/4,
 * precision 1, recall 1/2, F1 2/3. Thresholds 0.8, 0.4, 0.35, 0.1 give F1 2/3, 1/2, 4/5,
 * 2/3: the best is 4/5 at 0.35. */
static void test_hand(void)
{
    const double y[] = { 0, 0, 1, 1 }, s[] = { 0.1, 0.4, 0.35, 0.8 };
    persona_metrics m = measure(y, s, 4, 0.5);
    CHECK(m.rows == 4 && m.positives == 2);
    CHECK_NEAR(m.roc_auc, 0.75, EPS);
    CHECK_NEAR(m.pr_auc, 5.0 / 6, EPS);
    CHECK_NEAR(m.log_loss, -(log(0.9) + log(0.6) + log(0.35) + log(0.8)) / 4, EPS);
    CHECK_NEAR(m.brier, 0.158125, EPS);
    CHECK(m.threshold == 0.5);
    CHECK_NEAR(m.accuracy, 0.75, EPS);
    CHECK_NEAR(m.precision, 1, EPS);
    CHECK_NEAR(m.recall, 0.5, EPS);
    CHECK_NEAR(m.f1, 2.0 / 3, EPS);
    CHECK_NEAR(m.best_f1, 0.8, EPS);
    CHECK(m.best_f1_threshold == 0.35);
    /* ties: scores 0.5 for a positive and a negative count half a pair:
     * y 1 0 1 0, s .9 .5 .5 .1: pairs (pos, neg) = (.9,.5) 1, (.9,.1) 1, (.5,.5) 1/2,
     * (.5,.1) 1: 3.5 / 4. AP: at .9 P 1 R 1/2; at .5 P 2/3 R 1: 1/2 + 1/2 · 2/3 = 5/6. */
    const double y2[] = { 1, 0, 1, 0 }, s2[] = { 0.9, 0.5, 0.5, 0.1 };
    m = measure(y2, s2, 4, 0.5);
    CHECK_NEAR(m.roc_auc, 0.875, EPS);
    CHECK_NEAR(m.pr_auc, 5.0 / 6, EPS);
    /* at 0.5 three rows are predicted positive (>=): TP 2 FP 1 */
    CHECK_NEAR(m.precision, 2.0 / 3, EPS);
    CHECK_NEAR(m.recall, 1, EPS);
    /* scores that are not probabilities: ranking measures only */
    const double s3[] = { -2, 7, 3.5, 1e6 }; /* the same order as s */
    m = measure(y, s3, 4, 0);
    CHECK_NEAR(m.roc_auc, 0.75, EPS);
    CHECK(isnan(m.log_loss) && isnan(m.brier));
    /* a perfect ranking and a reversed one */
    const double up[] = { 0.1, 0.2, 0.3, 0.4 }, rev[] = { 0.4, 0.3, 0.2, 0.1 };
    CHECK_NEAR(measure(y, up, 4, 0.5).roc_auc, 1, EPS);
    CHECK_NEAR(measure(y, up, 4, 0.5).pr_auc, 1, EPS);
    CHECK_NEAR(measure(y, rev, 4, 0.5).roc_auc, 0, EPS);
    /* clipping: a confident wrong answer costs −ln 1e-15, not infinity */
    const double yy[] = { 1 }, zero[] = { 0 };
    CHECK_NEAR(measure(yy, zero, 1, 0.5).log_loss, -log(1e-15), 1e-9);
}

static void test_degenerate(void)
{
    persona_metrics m = measure(NULL, NULL, 0, 0.5);
    CHECK(m.rows == 0 && m.positives == 0);
    CHECK(isnan(m.roc_auc) && isnan(m.pr_auc) && isnan(m.log_loss) && isnan(m.brier));
    CHECK(isnan(m.accuracy) && m.precision == 0 && m.recall == 0 && m.f1 == 0);
    CHECK(m.best_f1 == 0 && isnan(m.best_f1_threshold));
    const double neg[] = { 0, 0, 0 }, pos[] = { 1, 1, 1 }, s[] = { 0.2, 0.7, 0.7 };
    m = measure(neg, s, 3, 0.5);
    CHECK(isnan(m.roc_auc) && isnan(m.pr_auc));
    CHECK(m.precision == 0 && m.recall == 0 && m.f1 == 0 && m.best_f1 == 0);
    CHECK_NEAR(m.accuracy, 1.0 / 3, EPS);
    m = measure(pos, s, 3, 0.5);
    CHECK(isnan(m.roc_auc));
    CHECK_NEAR(m.pr_auc, 1, EPS);
    CHECK_NEAR(m.best_f1, 1, EPS);
    CHECK(m.best_f1_threshold == 0.2);
}

static void test_bad_input(void)
{
    persona_metrics m = PERSONA_METRICS_INIT;
    const double y[] = { 0, 1, 2 }, s[] = { 0.1, 0.2, 0.3 };
    CHECK_RC(persona_metrics_compute(&m, y, s, 3, 0.5), PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "row 2") != NULL);
    const double yh[] = { 0, 0.5 }, ynan[] = { NAN, 1 };
    CHECK_RC(persona_metrics_compute(&m, yh, s, 2, 0.5), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_compute(&m, ynan, s, 2, 0.5), PERSONA_EINVAL);
    const double ok[] = { 0, 1, 1 }, snan[] = { 0.1, NAN, 0.3 }, sinf[] = { 0.1, 0.2, INFINITY };
    CHECK_RC(persona_metrics_compute(&m, ok, snan, 3, 0.5), PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "row 1") != NULL);
    CHECK_RC(persona_metrics_compute(&m, ok, sinf, 3, 0.5), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_compute(&m, ok, s, 3, NAN), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_compute(NULL, ok, s, 3, 0.5), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_compute(&m, NULL, s, 3, 0.5), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_compute(&m, ok, NULL, 3, 0.5), PERSONA_EINVAL);
    persona_metrics unset;
    memset(&unset, 0, sizeof unset);
    CHECK_RC(persona_metrics_compute(&unset, ok, s, 3, 0.5), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_init(&unset, sizeof unset), PERSONA_OK);
    CHECK(unset.struct_size == sizeof unset);
    CHECK_RC(persona_metrics_compute(&unset, ok, s, 3, 0.5), PERSONA_OK);
    uint64_t r[3], p[3];
    double mean[3];
    CHECK_RC(persona_metrics_bins(r, p, mean, NULL, NULL, 0, ok, s, 3), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_bins(r, p, mean, NULL, NULL, 1001, ok, s, 3), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_bins(NULL, p, mean, NULL, NULL, 3, ok, s, 3), PERSONA_EINVAL);
    CHECK_RC(persona_metrics_bins(r, p, mean, NULL, NULL, 3, y, s, 3), PERSONA_EINVAL);
}

/* ---- against a brute force ---- */

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void brute(const double *y, const double *s, size_t n, double t, persona_metrics *b)
{
    double P = 0, N = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        P += y[i], N += 1 - y[i];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (y[i] == 1 && y[j] == 0)
                pairs += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
    b->roc_auc = P && N ? pairs / (P * N) : NAN;
    /* every distinct score as a threshold, from the highest down */
    double ap = 0, prev_r = 0, best = 0, best_t = NAN, last = INFINITY;
    for (;;) {
        double next = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (s[i] < last && s[i] > next)
                next = s[i];
        if (next == -INFINITY)
            break;
        double tp = 0, fp = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i] >= next)
                tp += y[i], fp += 1 - y[i];
        double pr = tp / (tp + fp), rc = P ? tp / P : 0, f = pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
        ap += (rc - prev_r) * pr;
        prev_r = rc;
        if (f > best)
            best = f, best_t = next;
        last = next;
    }
    b->pr_auc = P ? ap : NAN;
    b->best_f1 = best;
    b->best_f1_threshold = n ? (isnan(best_t) ? last : best_t) : NAN;
    double tp = 0, fp = 0, tn = 0, ll = 0, br = 0;
    for (size_t i = 0; i < n; i++) {
        int pred = s[i] >= t;
        tp += pred && y[i] == 1;
        fp += pred && y[i] == 0;
        tn += !pred && y[i] == 0;
        double q = fmin(fmax(s[i], 1e-15), 1 - 1e-15);
        ll -= y[i] == 1 ? log(q) : log(1 - q);
        br += (s[i] - y[i]) * (s[i] - y[i]);
    }
    b->accuracy = (tp + tn) / (double)n;
    b->precision = tp + fp ? tp / (tp + fp) : 0;
    b->recall = P ? tp / P : 0;
    b->f1 = b->precision + b->recall > 0 ? 2 * b->precision * b->recall / (b->precision + b->recall) : 0;
    b->log_loss = ll / (double)n;
    b->brier = br / (double)n;
}

static void same(double got, double want, const char *what, int trial)
{
    int ok = (isnan(got) && isnan(want)) || fabs(got - want) <= 1e-9 * (1 + fabs(want));
    if (!ok)
        fprintf(stderr, "trial %d %s: got %.17g want %.17g\n", trial, what, got, want);
    CHECK(ok);
}

static void test_brute(void)
{
    enum { MAXN = 120 };
    double y[MAXN], s[MAXN];
    for (int trial = 0; trial < 400; trial++) {
        size_t n = 1 + rnd(MAXN);
        uint32_t levels = 1 + rnd(trial % 2 ? 6 : 1000); /* few levels: many ties */
        uint32_t rate = 1 + rnd(99);
        for (size_t i = 0; i < n; i++) {
            y[i] = rnd(100) < rate;
            s[i] = (double)rnd(levels) / (double)levels;
        }
        double t = (double)rnd(11) / 10;
        persona_metrics m = measure(y, s, n, t), b;
        brute(y, s, n, t, &b);
        same(m.roc_auc, b.roc_auc, "roc_auc", trial);
        same(m.pr_auc, b.pr_auc, "pr_auc", trial);
        same(m.log_loss, b.log_loss, "log_loss", trial);
        same(m.brier, b.brier, "brier", trial);
        same(m.accuracy, b.accuracy, "accuracy", trial);
        same(m.precision, b.precision, "precision", trial);
        same(m.recall, b.recall, "recall", trial);
        same(m.f1, b.f1, "f1", trial);
        same(m.best_f1, b.best_f1, "best_f1", trial);
        if (b.best_f1 > 0)
            same(m.best_f1_threshold, b.best_f1_threshold, "best_f1_threshold", trial);
        /* bins: sizes differ by at most one, add up, and hold the rows in score order */
        size_t bins = 1 + rnd(12);
        uint64_t r[12], p[12];
        double mean[12], lo[12], hi[12];
        CHECK_RC(persona_metrics_bins(r, p, mean, lo, hi, bins, y, s, n), PERSONA_OK);
        uint64_t rows = 0, pos = 0;
        /* the rows in order: highest score first, ties in row order (selection by rank) */
        int used[MAXN] = { 0 };
        size_t k = 0;
        for (size_t b2 = 0; b2 < bins; b2++) {
            CHECK(r[b2] == ((b2 + 1) * n + bins - 1) / bins - (b2 * n + bins - 1) / bins);
            double sum = 0, mn = INFINITY, mx = -INFINITY;
            uint64_t bp = 0;
            for (uint64_t q = 0; q < r[b2]; q++, k++) {
                size_t best_i = MAXN;
                for (size_t i = 0; i < n; i++)
                    if (!used[i] && (best_i == MAXN || s[i] > s[best_i]))
                        best_i = i;
                used[best_i] = 1;
                sum += s[best_i];
                bp += (uint64_t)y[best_i];
                mn = fmin(mn, s[best_i]);
                mx = fmax(mx, s[best_i]);
            }
            CHECK(p[b2] == bp);
            if (r[b2]) {
                same(mean[b2], sum / (double)r[b2], "bin mean", trial);
                CHECK(lo[b2] == mn && hi[b2] == mx);
            } else {
                CHECK(isnan(mean[b2]) && isnan(lo[b2]) && isnan(hi[b2]));
            }
            rows += r[b2];
            pos += p[b2];
        }
        CHECK(rows == n && pos == m.positives);
    }
}

/* Rows in any order give the same metrics (ties are handled as runs, sums are exact). */
static void test_order_free(void)
{
    enum { N = 5000 };
    static double y[N], s[N], y2[N], s2[N];
    for (size_t i = 0; i < N; i++) {
        y[i] = rnd(3) == 0;
        s[i] = (double)rnd(50) / 49 * 0.98 + 0.01 + (y[i] ? 0.005 : 0);
    }
    for (size_t i = 0; i < N; i++) { /* reversed */
        y2[i] = y[N - 1 - i];
        s2[i] = s[N - 1 - i];
    }
    persona_metrics a = measure(y, s, N, 0.4), b = measure(y2, s2, N, 0.4);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
}

static void test_oom(const char *lib_dir)
{
    const double y[] = { 0, 1, 1, 0 }, s[] = { 0.3, 0.6, 0.6, 0.1 };
    persona_metrics m = PERSONA_METRICS_INIT, before;
    m.rows = 77;
    before = m;
    uint64_t live = failalloc_live();
    failalloc_arm(1, FAILALLOC_FROM_N);
    CHECK_RC(persona_metrics_compute(&m, y, s, 4, 0.5), PERSONA_ENOMEM);
    failalloc_disarm();
    CHECK(memcmp(&m, &before, sizeof m) == 0);
    uint64_t r[2] = { 5, 5 }, p[2];
    double mean[2];
    failalloc_arm(1, FAILALLOC_FROM_N);
    CHECK_RC(persona_metrics_bins(r, p, mean, NULL, NULL, 2, y, s, 4), PERSONA_ENOMEM);
    failalloc_disarm();
    CHECK(r[0] == 5 && r[1] == 5);
    CHECK(failalloc_live() == live);
    static const char *const files[] = { "metrics.c" };
    check_oom_sites(lib_dir, "predict", files, 1, 1, "metrics");
}

int main(int argc, char **argv)
{
    failalloc_install();
    test_hand();
    test_degenerate();
    test_bad_input();
    test_brute();
    test_order_free();
    test_oom(argc > 1 ? argv[1] : "lib");
    return check_report("test_metrics");
}
