/* Multi-view k-means (kmeans.h, persona_kmeans_fit_views): one view is plain k-means; fixed
 * weights are k-means of scaled columns; learned weights against a reference written here
 * from the definition (Lloyd on the weighted distance, then the closed-form weights, until
 * the labels stay) — the same labels and weights, and the informative view weighted most;
 * the weights are the closed form of the reported sums; n_init keeps the best of its runs;
 * the same bits at every thread count; a view of weight 0 is ignored; errors.
 *
 * usage: test_kmeans_views */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"

enum { N = 600, D = 5, K = 3, V = 3 };

static const uint32_t VIEW_OF[D] = { 0, 0, 1, 1, 2 };
static double points[N * D], init[K * D];

/* View 0 separates three clusters well, view 1 weakly, view 2 is noise. */
static void make_points(void)
{
    persona__rng rng;
    persona__rng_seed(&rng, 99);
    for (size_t i = 0; i < N; i++) {
        int c = (int)(i % K);
        double *x = points + i * D;
        x[0] = c * 6.0 + persona__rng_uniform(&rng) * 2;
        x[1] = -c * 4.0 + persona__rng_uniform(&rng) * 2;
        x[2] = c * 1.0 + persona__rng_uniform(&rng) * 3;
        x[3] = persona__rng_uniform(&rng) * 3 - c * 0.5;
        x[4] = persona__rng_uniform(&rng) * 10;
    }
    for (size_t c = 0; c < K; c++) /* one point of each cluster, at its noisy edge */
        memcpy(init + c * D, points + (c + 3 * 7) * D, D * sizeof(double));
}

static persona_kmeans_options base_options(void)
{
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = K;
    o.init_centers = init;
    o.tol = 5e-324; /* stop when nothing moves, as the reference */
    o.threads = 1;
    return o;
}

/* ---- the reference ---- */

static double wdist(const double *x, const double *c, const double *w, double gamma)
{
    double s = 0;
    for (size_t j = 0; j < D; j++)
        s += pow(w[VIEW_OF[j]], gamma) * (x[j] - c[j]) * (x[j] - c[j]);
    return s;
}

/* Rounds of Lloyd under the weights (to no change) and closed-form weights, until a round
 * changes no label. Returns the rounds. */
static uint32_t reference(double gamma, uint32_t *labels, double *w, double *within)
{
    double c[K * D];
    uint32_t prev[N];
    memcpy(c, init, sizeof c);
    for (size_t q = 0; q < V; q++)
        w[q] = 1.0 / V;
    for (uint32_t round = 1;; round++) {
        /* Lloyd: assign, move the centres; stop when no label changed or nothing moved */
        for (int first = 1;; first = 0) {
            int changed = first;
            for (size_t i = 0; i < N; i++) {
                uint32_t best = 0;
                for (uint32_t q = 1; q < K; q++)
                    if (wdist(points + i * D, c + q * D, w, gamma) <
                        wdist(points + i * D, c + best * D, w, gamma))
                        best = q;
                changed |= best != labels[i];
                labels[i] = best;
            }
            double sum[K * D] = { 0 }, cnt[K] = { 0 };
            for (size_t i = 0; i < N; i++) {
                cnt[labels[i]]++;
                for (size_t j = 0; j < D; j++)
                    sum[labels[i] * D + j] += points[i * D + j];
            }
            double moved = 0;
            for (size_t q = 0; q < K * D; q++) {
                double m = sum[q] / cnt[q / D];
                moved += fabs(m - c[q]);
                c[q] = m;
            }
            if (!changed || moved == 0)
                break;
        }
        memset(within, 0, V * sizeof *within);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < D; j++)
                within[VIEW_OF[j]] += (points[i * D + j] - c[labels[i] * D + j]) *
                                      (points[i * D + j] - c[labels[i] * D + j]);
        if (round > 1 && memcmp(prev, labels, sizeof prev) == 0)
            return round;
        memcpy(prev, labels, sizeof prev);
        double s = 0;
        for (size_t q = 0; q < V; q++)
            s += w[q] = pow(within[q], 1 / (1 - gamma));
        for (size_t q = 0; q < V; q++)
            w[q] /= s;
    }
}

static persona_kmeans *fit_views(const double *weights, double gamma, uint32_t threads,
                                 uint32_t *labels)
{
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    v.n_views = V;
    v.view_of = VIEW_OF;
    v.weights = weights;
    v.gamma = gamma;
    persona_kmeans_options o = base_options();
    o.threads = threads;
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, labels), PERSONA_OK);
    return m;
}

static void test_learned_against_reference(void)
{
    for (int g = 0; g < 2; g++) {
        double gamma = g ? 4 : 2;
        uint32_t want[N] = { 0 }, got[N];
        double ww[V], wd[V], gw[V], gd[V];
        uint32_t rounds = reference(gamma, want, ww, wd);
        persona_kmeans *m = fit_views(NULL, gamma, 1, got);
        CHECK(memcmp(got, want, sizeof got) == 0);
        CHECK_RC(persona_kmeans_views_get(gw, gd, V, m), PERSONA_OK);
        for (size_t q = 0; q < V; q++) {
            CHECK_NEAR(gw[q], ww[q], 1e-9 * ww[q]);
            CHECK_NEAR(gd[q], wd[q], 1e-9 * wd[q]);
        }
        /* the view that separates the clusters weighs most, the noise least */
        CHECK(gw[0] > gw[1] && gw[1] > gw[2]);
        persona_kmeans_info info = PERSONA_KMEANS_INFO_INIT;
        CHECK_RC(persona_kmeans_info_get(&info, m), PERSONA_OK);
        CHECK(info.n_views == V && info.rounds == rounds && info.converged == 1);
        /* converged: the weights are the closed form of the reported sums */
        double s = 0, objective = 0;
        for (size_t q = 0; q < V; q++)
            s += pow(gd[q], 1 / (1 - gamma));
        for (size_t q = 0; q < V; q++) {
            CHECK_NEAR(gw[q], pow(gd[q], 1 / (1 - gamma)) / s, 1e-12);
            objective += pow(gw[q], gamma) * gd[q];
        }
        CHECK_NEAR(info.inertia, objective, 1e-12 * objective);
        /* predicting the fitted points gives their labels */
        uint32_t again[N];
        double dist[N];
        CHECK_RC(persona_kmeans_predict(again, dist, m, points, N, D), PERSONA_OK);
        CHECK(memcmp(again, got, sizeof got) == 0);
        persona_kmeans_free(m);
    }
}

/* One view: plain k-means (the weight stays 1). Fixed weights: k-means of the columns
 * scaled by w_v^(gamma/2) (here gamma = 2: by w_v). */
static void test_against_plain_kmeans(void)
{
    static const uint32_t one_view[D] = { 0, 0, 0, 0, 0 };
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    v.n_views = 1;
    v.view_of = one_view;
    persona_kmeans_options o = base_options();
    o.tol = 0; /* the default rule */
    uint32_t a[N], b[N];
    persona_kmeans *mv = NULL, *plain = NULL;
    CHECK_RC(persona_kmeans_fit_views(&mv, points, N, D, &v, &o, a), PERSONA_OK);
    CHECK_RC(persona_kmeans_fit(&plain, points, N, D, &o, b), PERSONA_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    persona_kmeans_info ia = PERSONA_KMEANS_INFO_INIT, ib = PERSONA_KMEANS_INFO_INIT;
    persona_kmeans_info_get(&ia, mv);
    persona_kmeans_info_get(&ib, plain);
    CHECK_NEAR(ia.inertia, ib.inertia, 1e-12 * ib.inertia);
    CHECK(ia.rounds == 2 && ib.rounds == 0 && ib.n_views == 1);
    double ca[K * D], cb[K * D], w = 0, within = 0;
    persona_kmeans_centers(ca, K * D, mv);
    persona_kmeans_centers(cb, K * D, plain);
    for (size_t i = 0; i < K * D; i++)
        CHECK_NEAR(ca[i], cb[i], 1e-12 * (1 + fabs(cb[i])));
    CHECK_RC(persona_kmeans_views_get(&w, &within, 1, plain), PERSONA_OK);
    CHECK(w == 1 && within == ib.inertia);
    persona_kmeans_free(mv);
    persona_kmeans_free(plain);

    static const double fixed[V] = { 4, 3, 1 }; /* scaled to 0.5, 0.375, 0.125 */
    static const double unit[V] = { 0.5, 0.375, 0.125 };
    double *scaled = malloc(sizeof points), sinit[K * D];
    for (size_t i = 0; i < N * D; i++)
        scaled[i] = points[i] * unit[VIEW_OF[i % D]];
    for (size_t i = 0; i < K * D; i++)
        sinit[i] = init[i] * unit[VIEW_OF[i % D]];
    mv = fit_views(fixed, 2, 1, a);
    o = base_options();
    o.init_centers = sinit;
    CHECK_RC(persona_kmeans_fit(&plain, scaled, N, D, &o, b), PERSONA_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    double gw[V];
    CHECK_RC(persona_kmeans_views_get(gw, NULL, V, mv), PERSONA_OK);
    CHECK(gw[0] == unit[0] && gw[1] == unit[1] && gw[2] == unit[2]);
    persona_kmeans_centers(ca, K * D, mv);
    persona_kmeans_centers(cb, K * D, plain);
    for (size_t i = 0; i < K * D; i++)
        CHECK_NEAR(ca[i] * unit[VIEW_OF[i % D]], cb[i], 1e-12 * (1 + fabs(cb[i])));
    persona_kmeans_info_get(&ia, mv);
    CHECK(ia.rounds == 1);
    persona_kmeans_free(mv);
    persona_kmeans_free(plain);

    /* weight 0: view 2 (the noise column) is ignored */
    static const double no_noise[V] = { 1, 1, 0 };
    mv = fit_views(no_noise, 2, 1, a);
    for (size_t i = 0; i < N * D; i++)
        scaled[i] = (i % D == 4) ? 0 : points[i] * 0.5;
    for (size_t i = 0; i < K * D; i++)
        sinit[i] = (i % D == 4) ? 0 : init[i] * 0.5;
    CHECK_RC(persona_kmeans_fit(&plain, scaled, N, D, &o, b), PERSONA_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    persona_kmeans_free(mv);
    persona_kmeans_free(plain);
    free(scaled);
}

static void test_threads_and_restarts(void)
{
    uint32_t a[N], b[N];
    persona_kmeans *one = fit_views(NULL, 2, 1, a), *two = fit_views(NULL, 2, 2, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    double c1[K * D], c2[K * D], w1[V], w2[V];
    persona_kmeans_centers(c1, K * D, one);
    persona_kmeans_centers(c2, K * D, two);
    persona_kmeans_views_get(w1, NULL, V, one);
    persona_kmeans_views_get(w2, NULL, V, two);
    CHECK(memcmp(c1, c2, sizeof c1) == 0 && memcmp(w1, w2, sizeof w1) == 0);
    persona_kmeans_free(one);
    persona_kmeans_free(two);

    /* n_init = 4 from k-means++ keeps the least objective of the four runs, each fitted
     * alone with the seed drawn for it */
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    v.n_views = V;
    v.view_of = VIEW_OF;
    persona_kmeans_options o = base_options();
    o.init_centers = NULL;
    o.k = 4;
    o.n_init = 4;
    o.seed = 17;
    persona_kmeans *best = NULL;
    CHECK_RC(persona_kmeans_fit_views(&best, points, N, D, &v, &o, a), PERSONA_OK);
    persona_kmeans_info ib = PERSONA_KMEANS_INFO_INIT;
    persona_kmeans_info_get(&ib, best);
    persona__rng seeds;
    persona__rng_seed(&seeds, 17);
    double least = INFINITY;
    uint32_t kept[N];
    for (int r = 0; r < 4; r++) {
        persona_kmeans_options alone = o;
        alone.n_init = 1;
        alone.seed = persona__rng_next(&seeds);
        persona_kmeans *m = NULL;
        CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &alone, b), PERSONA_OK);
        persona_kmeans_info im = PERSONA_KMEANS_INFO_INIT;
        persona_kmeans_info_get(&im, m);
        if (im.inertia < least) {
            least = im.inertia;
            memcpy(kept, b, sizeof kept);
        }
        persona_kmeans_free(m);
    }
    CHECK(ib.inertia == least);
    CHECK(memcmp(a, kept, sizeof a) == 0);
    persona_kmeans_free(best);
}

static void test_errors(void)
{
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    persona_kmeans_options o = base_options();
    persona_kmeans *m = (persona_kmeans *)1;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, NULL, &o, NULL), PERSONA_EINVAL);
    CHECK(m == NULL);
    CHECK_MSG("views is NULL");
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("n_views = 0");
    v.n_views = D + 1;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    v.n_views = V;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("view_of is NULL");
    uint32_t bad_of[D] = { 0, 0, 1, 1, 3 };
    v.view_of = bad_of;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("column 4: view 3 of 3");
    bad_of[4] = 1;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("view 2 has no column");
    v.view_of = VIEW_OF;
    double w[V] = { 1, -1, 1 };
    v.weights = w;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("weight 1");
    w[1] = NAN;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    w[0] = w[1] = w[2] = 0;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("sum to 0");
    v.weights = NULL;
    v.gamma = 1;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("gamma");
    v.gamma = NAN;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    v.gamma = 0;
    v.struct_size = 3;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    v.struct_size = sizeof v;
    o.n_init = 2; /* with given centres */
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    o.n_init = 1;
    CHECK_RC(persona_kmeans_fit_views(&m, NULL, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_fit_views(NULL, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    double keep = points[7];
    points[7] = INFINITY;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("row 1, column 2 is infinite");
    points[7] = keep;
    CHECK(m == NULL);
    m = fit_views(NULL, 2, 1, NULL);
    double out[V];
    CHECK_RC(persona_kmeans_views_get(out, NULL, V - 1, m), PERSONA_EBUFS);
    CHECK_RC(persona_kmeans_views_get(out, NULL, V, NULL), PERSONA_EINVAL);
    persona_kmeans_free(m);
}

int main(void)
{
    make_points();
    test_learned_against_reference();
    test_against_plain_kmeans();
    test_threads_and_restarts();
    test_errors();
    return check_report("test_kmeans_views");
}
