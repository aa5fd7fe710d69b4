/* The Newton solver of L2 logistic regression (lib/predict/logistic.c) and its
 * preprocessing (scaling.c): hand-worked imputation and scaling, a hand-solved case, an optimality certificate on random data (the gradient recomputed here in long
 * double vanishes; L is strictly convex, so that is the minimum, within |∇L| / λ), the
 * same bits on every run, bad input and allocation failures.
 *
 * usage: test_logistic [LIB_DIR] (default: lib, from the source tree's root). */
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
#include "predict/logistic.h"
#include "predict/scaling.h"

/* x = (−1, 1), y = (0, 1), λ = 1: by symmetry b = 0, and ∂L/∂w = 0 reads
 * −σ(−w) + (σ(w) − 1) + w = 0, i.e. w = 2 σ(−w) (w ≈ 0.6749). */
static void test_hand(void)
{
    const double x[] = { -1, 1 }, y[] = { 0, 1 };
    persona__logit m;
    CHECK_RC(persona__logit_fit(&m, x, y, 2, 1, 1.0), PERSONA_OK);
    double w = m.coef[0];
    CHECK_NEAR(w, 2 / (1 + exp(w)), 1e-13);
    CHECK_NEAR(w, 0.6749, 1e-4);
    CHECK_NEAR(m.intercept, 0, 1e-13);
    CHECK_NEAR(persona__logit_predict(&m, &x[1]), 1 / (1 + exp(-w)), 1e-15);
    CHECK(m.iterations >= 1 && m.iterations < 20);
    persona__logit_free(&m);
    /* a stronger penalty pulls w toward 0: λ = 10 solves 10 w = 2 σ(−w) */
    CHECK_RC(persona__logit_fit(&m, x, y, 2, 1, 10.0), PERSONA_OK);
    CHECK_NEAR(10 * m.coef[0], 2 / (1 + exp(m.coef[0])), 1e-13);
    persona__logit_free(&m);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* ∇L at (w, b), in long double. */
static long double grad_max(const double *x, const double *y, size_t n, size_t d, double lambda,
                            const persona__logit *m, long double *loss)
{
    long double g[16] = { 0 }, L = 0;
    for (size_t i = 0; i < n; i++) {
        long double s = m->intercept;
        for (size_t j = 0; j < d; j++)
            s += (long double)m->coef[j] * x[i * d + j];
        long double p = 1 / (1 + expl(-s));
        L += (s > 0 ? s + log1pl(expl(-s)) : log1pl(expl(s))) - y[i] * s;
        for (size_t j = 0; j < d; j++)
            g[j] += (p - y[i]) * x[i * d + j];
        g[d] += p - y[i];
    }
    long double worst = 0;
    for (size_t j = 0; j < d; j++) {
        g[j] += lambda * (long double)m->coef[j];
        L += 0.5L * lambda * (long double)m->coef[j] * m->coef[j];
    }
    for (size_t j = 0; j <= d; j++)
        worst = fabsl(g[j]) > worst ? fabsl(g[j]) : worst;
    *loss = L;
    return worst;
}

static void test_certificate(void)
{
    enum { MAXN = 3000, MAXD = 12 };
    static double x[MAXN * MAXD], y[MAXN];
    for (int trial = 0; trial < 60; trial++) {
        size_t n = 2 + (size_t)(uniform() * (trial % 3 ? 300 : MAXN - 2));
        size_t d = 1 + (size_t)(uniform() * MAXD);
        double lambda = trial % 4 == 0 ? 1e-3 : trial % 4 == 1 ? 1 : trial % 4 == 2 ? 10 : 0.05;
        int separable = trial % 5 == 0;
        double truth[MAXD];
        for (size_t j = 0; j < d; j++)
            truth[j] = 4 * uniform() - 2;
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            double s = -0.5, common = uniform() - 0.5; /* correlated columns */
            for (size_t j = 0; j < d; j++) {
                double v = (j % 3 == 2 ? (double)(int)(uniform() * 4) : 3 * (uniform() - 0.5)) + common;
                x[i * d + j] = v;
                s += truth[j] * v;
            }
            y[i] = separable ? s > 0 : uniform() < 1 / (1 + exp(-s));
            pos += y[i] == 1;
        }
        if (pos == 0 || pos == n)
            y[0] = 1 - y[0];
        persona__logit m, again;
        CHECK_RC(persona__logit_fit(&m, x, y, n, d, lambda), PERSONA_OK);
        long double L;
        long double g = grad_max(x, y, n, d, lambda, &m, &L);
        if (!(g <= 1e-9L * (long double)(n + 1)))
            fprintf(stderr, "trial %d n %zu d %zu lambda %g: |grad| %Lg after %d iterations\n",
                    trial, n, d, lambda, g, m.iterations);
        CHECK(g <= 1e-9L * (long double)(n + 1));
        CHECK(fabsl(L - m.loss) <= 1e-9L * (1 + fabsl(L)));
        /* no coordinate move lowers L (a check independent of the gradient's formula) */
        for (size_t j = 0; j < d; j++)
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                double keep = m.coef[j];
                m.coef[j] = keep + sgn * 1e-4 * (1 + fabs(keep));
                long double L2;
                grad_max(x, y, n, d, lambda, &m, &L2);
                CHECK(L2 >= L - 1e-9L * (1 + fabsl(L)));
                m.coef[j] = keep;
            }
        /* the same bits again */
        CHECK_RC(persona__logit_fit(&again, x, y, n, d, lambda), PERSONA_OK);
        CHECK(memcmp(m.coef, again.coef, (d + 1) * sizeof *m.coef) == 0 &&
              m.intercept == again.intercept && m.iterations == again.iterations);
        persona__logit_free(&m);
        persona__logit_free(&again);
    }
}

static void test_bad_input(void)
{
    persona__logit m;
    const double x[] = { 1, 2, 3, 4 }, y[] = { 0, 1, 1, 0 }, same[] = { 1, 1, 1, 1 };
    CHECK_RC(persona__logit_fit(&m, x, same, 4, 1, 1), PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "both classes") != NULL);
    CHECK(m.coef == NULL);
    const double bad[] = { 0, 1, 2, 0 };
    CHECK_RC(persona__logit_fit(&m, x, bad, 4, 1, 1), PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "row 2") != NULL);
    const double xnan[] = { 1, NAN, 3, 4 };
    CHECK_RC(persona__logit_fit(&m, xnan, y, 4, 1, 1), PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "row 1") != NULL);
    CHECK_RC(persona__logit_fit(&m, x, y, 4, 1, 0), PERSONA_EINVAL);
    CHECK_RC(persona__logit_fit(&m, x, y, 4, 1, -1), PERSONA_EINVAL);
    CHECK_RC(persona__logit_fit(&m, x, y, 4, 1, NAN), PERSONA_EINVAL);
    CHECK_RC(persona__logit_fit(&m, x, y, 4, 0, 1), PERSONA_EINVAL);
    CHECK_RC(persona__logit_fit(&m, x, y, 0, 1, 1), PERSONA_EINVAL); /* no rows: no class */
    /* a constant column is fine: the penalty keeps its coefficient at 0 */
    const double xc[] = { 5, -1, 5, 1, 5, 2, 5, -2 };
    CHECK_RC(persona__logit_fit(&m, xc, y, 4, 2, 1), PERSONA_OK);
    persona__logit_free(&m);
}

/* Columns: (1, NaN, 3, 5) — median of 1, 3, 5 is 3 — then mean 3, population sd
 * sqrt(8/4) = sqrt 2; (7, 7, 7, 7): constant, scale 1; (NaN × 4): no values, median 0;
 * (4, NaN, NaN, 1): the median of an even count, 2.5 → (4, 2.5, 2.5, 1), mean 2.5, sd
 * sqrt((2.25 + 2.25) / 4). */
static void test_scaling(void)
{
    double x[] = { 1, 7, NAN, 4, NAN, 7, NAN, NAN, 3, 7, NAN, NAN, 5, 7, NAN, 1 };
    persona__scaling s;
    CHECK_RC(persona__scaling_fit(&s, x, 4, 4), PERSONA_OK);
    CHECK(s.median[0] == 3 && s.mean[0] == 3 && fabs(s.scale[0] - sqrt(2)) < 1e-15);
    CHECK(s.median[1] == 7 && s.mean[1] == 7 && s.scale[1] == 1);
    CHECK(s.median[2] == 0 && s.mean[2] == 0 && s.scale[2] == 1);
    CHECK(s.median[3] == 2.5 && s.mean[3] == 2.5);
    CHECK_NEAR(x[0], -2 / sqrt(2), 1e-15);
    CHECK_NEAR(x[4], 0, 1e-15); /* the imputed 3 */
    CHECK(x[1] == 0 && x[2] == 0);
    double sd3 = sqrt(4.5 / 4);
    CHECK_NEAR(x[3], 1.5 / sd3, 1e-15);
    CHECK_NEAR(x[7], 0, 1e-15);
    double row[] = { NAN, 8, 5, NAN };
    persona__scaling_apply(&s, row);
    CHECK_NEAR(row[0], 0, 1e-15);
    CHECK_NEAR(row[1], 1, 1e-15);
    CHECK_NEAR(row[2], 5, 1e-15);
    CHECK_NEAR(row[3], 0, 1e-15);
    persona__scaling_free(&s);
    double inf[] = { 1, INFINITY };
    CHECK_RC(persona__scaling_fit(&s, inf, 2, 1), PERSONA_EINVAL);
    CHECK(strstr(persona_errmsg(), "row 1") != NULL);
}

/* ---- allocation failures (oom_under_injection: each failure ENOMEM with nothing left,
 * each success the reference result) ---- */

static int counted;

static int op_logit(void **res, const void *arg)
{
    (void)arg;
    const double x[] = { -1, 0.5, 1, 2 }, y[] = { 0, 1, 1, 0 };
    persona__logit *m = malloc(sizeof *m);
    int rc = persona__logit_fit(m, x, y, 4, 1, 1);
    if (rc) {
        CHECK(m->coef == NULL);
        free(m);
        return rc;
    }
    *res = m;
    return rc;
}

static char *logit_text(void *res)
{
    persona__logit *m = res;
    char *t = malloc(128);
    snprintf(t, 128, "%.17g %.17g %d", m->coef[0], m->intercept, m->iterations);
    persona__logit_free(m);
    free(m);
    return t;
}

/* The scaled matrix is the result; a failed fit must leave it as it was. */
static int op_scaling(void **res, const void *arg)
{
    (void)arg;
    double *x = malloc(4 * sizeof *x);
    x[0] = 1, x[1] = NAN, x[2] = 3, x[3] = 2;
    persona__scaling s;
    int rc = persona__scaling_fit(&s, x, 2, 2);
    if (rc) {
        CHECK(x[0] == 1 && isnan(x[1]) && x[2] == 3 && x[3] == 2);
        free(x);
        return rc;
    }
    persona__scaling_free(&s);
    *res = x;
    return rc;
}

static char *matrix_text(void *res)
{
    double *x = res;
    char *t = malloc(128);
    snprintf(t, 128, "%.17g %.17g %.17g %.17g", x[0], x[1], x[2], x[3]);
    free(x);
    return t;
}

static void test_oom(const char *lib_dir)
{
    oom_under_injection(op_logit, logit_text, NULL, "logistic fit", &counted);
    oom_under_injection(op_scaling, matrix_text, NULL, "scaling", &counted);
    static const char *const files[] = { "logistic.c", "scaling.c" };
    check_oom_sites(lib_dir, "predict", files, 2, 8, "logistic regression");
}

int main(int argc, char **argv)
{
    failalloc_install();
    test_hand();
    test_certificate();
    test_bad_input();
    test_scaling();
    test_oom(argc > 1 ? argv[1] : "lib");
    return check_report("test_logistic");
}
