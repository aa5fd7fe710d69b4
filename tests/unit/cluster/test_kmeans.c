/* k-means (kmeans.h): a hand-worked example; a plain reference Lloyd written here from the
 * definition (every point against every centre, means in point order, scikit-learn's
 * stopping rule) on random inputs — the same labels and iterations, centres to 1e-13;
 * Hamerly and Elkan equal to Lloyd (test_kmeans_elkan.c has more), also where the
 * assignment's kernels change hands (few points, many dimensions, groups across blocks);
 * the same bits at every thread count;
 * empty clusters; k-means++; errors; and scikit-learn's own results on a small file
 * (tests/data/kmeans_small.*, made by tests/data/make_kmeans_reference.py).
 *
 * usage: test_kmeans [DATA_DIR] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "km_test.h"

/* ---- the reference ---- */

typedef struct ref_result {
    double inertia;
    uint32_t iterations;
} ref_result;

static double dist2(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

static uint32_t nearest(const double *x, const double *c, size_t k, size_t d)
{
    uint32_t best = 0;
    for (uint32_t q = 1; q < k; q++)
        if (dist2(x, c + q * d, d) < dist2(x, c + best * d, d))
            best = q;
    return best;
}

/* Lloyd as kmeans.h defines it, for inputs where no cluster empties. */
static ref_result ref_lloyd(const double *x, size_t n, size_t d, size_t k, double *c,
                            uint32_t *labels, double tol, uint32_t max_iter)
{
    double mean_var = 0;
    for (size_t j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < n; i++)
            m += x[i * d + j];
        m /= (double)n;
        for (size_t i = 0; i < n; i++)
            v += (x[i * d + j] - m) * (x[i * d + j] - m);
        mean_var += v / (double)n;
    }
    tol *= mean_var / (double)d;
    double *sum = calloc(k * d, sizeof *sum);
    size_t *cnt = calloc(k, sizeof *cnt);
    ref_result r = { 0, 0 };
    int strict = 0;
    for (uint32_t it = 0; it < max_iter; it++) {
        size_t changed = 0;
        memset(sum, 0, k * d * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            uint32_t a = nearest(x + i * d, c, k, d);
            changed += a != labels[i];
            labels[i] = a;
            cnt[a]++;
            for (size_t j = 0; j < d; j++)
                sum[a * d + j] += x[i * d + j];
        }
        double shift = 0;
        for (size_t q = 0; q < k; q++)
            for (size_t j = 0; j < d; j++) {
                double m = sum[q * d + j] / (double)cnt[q];
                shift += (m - c[q * d + j]) * (m - c[q * d + j]);
                c[q * d + j] = m;
            }
        r.iterations = it + 1;
        if (it > 0 && changed == 0) {
            strict = 1;
            break;
        }
        if (shift <= tol)
            break;
    }
    if (!strict)
        for (size_t i = 0; i < n; i++)
            labels[i] = nearest(x + i * d, c, k, d);
    for (size_t i = 0; i < n; i++)
        r.inertia += dist2(x + i * d, c + labels[i] * d, d);
    free(sum);
    free(cnt);
    return r;
}

/* ---- inputs ---- */

static persona_kmeans *fit(const double *x, size_t n, size_t d, uint32_t k, const double *init,
                           int32_t algorithm, uint32_t threads, uint32_t *labels)
{
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = k;
    o.init_centers = init;
    o.algorithm = algorithm;
    o.threads = threads;
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, labels), PERSONA_OK);
    return m;
}

/* ---- tests ---- */

/* Six points on a line, two clusters from centres 0 and 1. Iteration 1: point 0 goes to
 * centre 0, the rest to centre 1 (means 0 and 13.2); iteration 2: {0, 1, 2} and
 * {20, 21, 22} (means 1 and 21); iteration 3 changes no label: 3 iterations, converged,
 * inertia 1 + 0 + 1 + 1 + 0 + 1 = 4. */
static void test_hand_worked(void)
{
    const double x[6] = { 0, 1, 2, 20, 21, 22 }, init[2] = { 0, 1 };
    uint32_t labels[6];
    for (int32_t alg = PERSONA_KMEANS_AUTO; alg <= PERSONA_KMEANS_ELKAN; alg++) {
        persona_kmeans *m = fit(x, 6, 1, 2, init, alg, 1, labels);
        if (!m)
            continue;
        persona_kmeans_info in = info_of(m);
        CHECK(in.iterations == 3 && in.converged == 1 && in.k == 2 && in.d == 1 && in.n == 6);
        CHECK(in.inertia == 4.0);
        double c[2];
        uint64_t sizes[2];
        CHECK_RC(persona_kmeans_centers(c, 2, m), PERSONA_OK);
        CHECK(c[0] == 1.0 && c[1] == 21.0);
        CHECK_RC(persona_kmeans_sizes(sizes, 2, m), PERSONA_OK);
        CHECK(sizes[0] == 3 && sizes[1] == 3);
        CHECK(labels[0] == 0 && labels[2] == 0 && labels[3] == 1 && labels[5] == 1);
        /* new points: 11 is nearer 1 than 21 by 0 … equal distance 10 each: the lower index */
        const double q[3] = { 11, 11.5, -5 };
        uint32_t ql[3];
        double qd[3];
        CHECK_RC(persona_kmeans_predict(ql, qd, m, q, 3, 1), PERSONA_OK);
        CHECK(ql[0] == 0 && ql[1] == 1 && ql[2] == 0 && qd[0] == 100 && qd[2] == 36);
        persona_kmeans_free(m);
    }
}

/* Random inputs against the reference: the same labels and iterations; centres to 1e-13
 * and inertia to 1e-12 (the library sums in fixed point, the reference in doubles). */
/* Every exact algorithm on x against the reference from `init`: labels, iterations,
 * inertia, centres and sizes. */
static void check_reference(const double *x, size_t n, size_t d, size_t k, const double *init)
{
    double *ref_c = malloc(k * d * sizeof *ref_c);
    memcpy(ref_c, init, k * d * sizeof *init);
    uint32_t *ref_l = malloc(n * sizeof *ref_l), *l = malloc(n * sizeof *l);
    for (size_t i = 0; i < n; i++)
        ref_l[i] = UINT32_MAX;
    ref_result rr = ref_lloyd(x, n, d, k, ref_c, ref_l, 1e-4, 300);
    for (int32_t alg = PERSONA_KMEANS_LLOYD; alg <= PERSONA_KMEANS_ELKAN; alg++) {
        persona_kmeans *m = fit(x, n, d, (uint32_t)k, init, alg, 2, l);
        if (!m)
            continue;
        persona_kmeans_info in = info_of(m);
        double *c = malloc(k * d * sizeof *c);
        CHECK_RC(persona_kmeans_centers(c, k * d, m), PERSONA_OK);
        uint64_t *sizes = malloc(k * sizeof *sizes);
        CHECK_RC(persona_kmeans_sizes(sizes, k, m), PERSONA_OK);
        int same_labels = memcmp(l, ref_l, n * sizeof *l) == 0;
        CHECK(same_labels);
        CHECK(in.iterations == rr.iterations);
        CHECK_NEAR(in.inertia, rr.inertia, 1e-12 * rr.inertia);
        for (size_t q = 0; q < k * d; q++)
            CHECK_NEAR(c[q], ref_c[q], 1e-13 * (1 + fabs(ref_c[q])));
        uint64_t total = 0;
        for (size_t q = 0; q < k; q++) {
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++)
                cnt += l[i] == q;
            CHECK(sizes[q] == cnt);
            total += sizes[q];
        }
        CHECK(total == n);
        if (!same_labels)
            fprintf(stderr, "n %zu d %zu k %zu algorithm %d: labels differ\n", n, d, k, alg);
        free(c);
        free(sizes);
        persona_kmeans_free(m);
    }
    free(ref_c);
    free(ref_l);
    free(l);
}

static void test_reference(void)
{
    for (int trial = 0; trial < 40; trial++) {
        size_t n = trial < 30 ? 50 + (size_t)(uniform() * 1500) : 3000 + (size_t)(uniform() * 6000);
        size_t d = 1 + (size_t)(uniform() * 6), k = 2 + (size_t)(uniform() * 9);
        double *x = blobs(n, d, k, trial % 2 ? 1.0 : 6.0);
        double *init = malloc(k * d * sizeof *init);
        for (size_t q = 0; q < k; q++) /* distinct points as the initial centres */
            memcpy(init + q * d, x + (q * (n / k)) * d, d * sizeof *init);
        check_reference(x, n, d, k, init);
        free(x);
        free(init);
    }
}

/* The shapes where the assignment changes hands: fewer points than one group of the
 * many-points kernel, groups split across blocks of points (n beyond a block, not a
 * multiple of the group), the kernel's largest dimension count and one more (the
 * one-point-at-a-time loop). */
static void test_shapes(void)
{
    static const size_t ns[] = { 5, 8, 13, 2053, 4101 }, ds[] = { 8, 17, 64, 65 };
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
        for (size_t di = 0; di < sizeof ds / sizeof *ds; di++) {
            size_t n = ns[ni], d = ds[di], k = n < 8 ? 2 : 5;
            double *x = blobs(n, d, k, 8.0);
            double *init = malloc(k * d * sizeof *init);
            for (size_t q = 0; q < k; q++)
                memcpy(init + q * d, x + (q * (n / k)) * d, d * sizeof *init);
            check_reference(x, n, d, k, init);
            free(x);
            free(init);
        }
}

/* The same bits at 1, 2, 3 and 8 threads, for the exact algorithms and for k-means++. */
static void test_threads(void)
{
    size_t n = 20000, d = 5;
    double *x = blobs(n, d, 12, 2.0);
    uint32_t *l0 = malloc(n * sizeof *l0), *l = malloc(n * sizeof *l);
    for (int32_t alg = PERSONA_KMEANS_LLOYD; alg <= PERSONA_KMEANS_ELKAN; alg++) {
        double c0[12 * 5], c[12 * 5];
        persona_kmeans_info i0 = PERSONA_KMEANS_INFO_INIT;
        const uint32_t threads[4] = { 1, 2, 3, 8 };
        for (int t = 0; t < 4; t++) {
            persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
            o.k = 12;
            o.seed = 7;
            o.n_init = 2;
            o.algorithm = alg;
            o.threads = threads[t];
            persona_kmeans *m = NULL;
            CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, t ? l : l0), PERSONA_OK);
            if (!m)
                continue;
            CHECK_RC(persona_kmeans_centers(t ? c : c0, 60, m), PERSONA_OK);
            persona_kmeans_info in = info_of(m);
            if (t == 0) {
                i0 = in;
            } else {
                CHECK(memcmp(c, c0, sizeof c) == 0 && memcmp(l, l0, n * sizeof *l) == 0);
                CHECK(memcmp(&in.inertia, &i0.inertia, sizeof in.inertia) == 0);
                CHECK(in.iterations == i0.iterations);
            }
            persona_kmeans_free(m);
        }
    }
    free(x);
    free(l0);
    free(l);
}

/* A centre no point is nearest to takes the point farthest from its centre: points 0, 1,
 * 2, 10 with centres 0.5, 100 and 3 — centre 1 gets no point; 10 is the farthest from its
 * centre (3, at 7) and becomes centre 1's only point, leaving {2} to centre 2:
 * centres 0.5, 10, 2 after the first iteration, which the second keeps. */
static void test_empty_cluster(void)
{
    const double x[4] = { 0, 1, 2, 10 }, init[3] = { 0.5, 100, 3 };
    uint32_t labels[4];
    for (int32_t alg = PERSONA_KMEANS_LLOYD; alg <= PERSONA_KMEANS_ELKAN; alg++) {
        persona_kmeans *m = fit(x, 4, 1, 3, init, alg, 1, labels);
        if (!m)
            continue;
        double c[3];
        CHECK_RC(persona_kmeans_centers(c, 3, m), PERSONA_OK);
        CHECK(c[0] == 0.5 && c[1] == 10 && c[2] == 2);
        CHECK(labels[0] == 0 && labels[1] == 0 && labels[2] == 2 && labels[3] == 1);
        persona_kmeans_info in = info_of(m);
        CHECK(in.inertia == 0.5 && in.iterations == 2);
        persona_kmeans_free(m);
    }
}

/* k-means++: the same seed gives the same model, another seed another start; on five
 * well-separated blobs it finds the five (inertia of the blobs' own spread). */
static void test_plusplus(void)
{
    size_t n = 5000, d = 3;
    double *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = 100.0 * (double)(i % 5) * (j == 0) + (uniform() - 0.5);
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = 5;
    o.seed = 42;
    persona_kmeans *a = NULL, *b = NULL;
    CHECK_RC(persona_kmeans_fit(&a, x, n, d, &o, NULL), PERSONA_OK);
    CHECK_RC(persona_kmeans_fit(&b, x, n, d, &o, NULL), PERSONA_OK);
    if (a && b) {
        double ca[15], cb[15];
        persona_kmeans_centers(ca, 15, a);
        persona_kmeans_centers(cb, 15, b);
        CHECK(memcmp(ca, cb, sizeof ca) == 0);
        persona_kmeans_info in = info_of(a);
        CHECK(in.inertia < (double)n * 3 * (1.0 / 12) * 1.1); /* uniform(-0.5, 0.5): var 1/12 */
        uint64_t sizes[5];
        persona_kmeans_sizes(sizes, 5, a);
        for (int q = 0; q < 5; q++)
            CHECK(sizes[q] == 1000);
    }
    persona_kmeans_free(a);
    persona_kmeans_free(b);
    free(x);
}

/* n_init = 4 keeps the least inertia of its runs: the runs are k-means++ from the seeds
 * the documented stream gives (xoshiro256** seeded with `seed`), each fitted here alone. */
static void test_n_init(void)
{
    size_t n = 3000, d = 2;
    double *x = blobs(n, d, 9, 3.0);
    persona__rng seeds;
    persona__rng_seed(&seeds, 11);
    double best = INFINITY;
    for (int r = 0; r < 4; r++) {
        persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
        o.k = 6;
        o.seed = persona__rng_next(&seeds);
        persona_kmeans *m = NULL;
        CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, NULL), PERSONA_OK);
        if (m && info_of(m).inertia < best)
            best = info_of(m).inertia;
        persona_kmeans_free(m);
    }
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = 6;
    o.seed = 11;
    o.n_init = 4;
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, NULL), PERSONA_OK);
    if (m)
        CHECK(info_of(m).inertia == best);
    persona_kmeans_free(m);
    free(x);
}

static void test_errors(void)
{
    const double x[4] = { 0, 1, 2, 3 }, bad[4] = { 0, NAN, 2, 3 }, inf[2] = { 0, INFINITY };
    persona_kmeans *m = (persona_kmeans *)x;
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = 2;
    CHECK_RC(persona_kmeans_fit(&m, x, 0, 1, &o, NULL), PERSONA_EINVAL);
    CHECK(m == NULL);
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 0, &o, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_fit(&m, NULL, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_fit(NULL, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_fit(&m, bad, 2, 2, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("row 0, column 1 is NaN");
    o.k = 5;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("more than the 4 points");
    o.k = 2;
    o.tol = -1;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    o.tol = NAN;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    o.tol = 0;
    o.algorithm = 9;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    o.algorithm = PERSONA_KMEANS_MINIBATCH + 1;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("unknown algorithm 5");
    o.algorithm = -1;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    o.algorithm = 0;
    o.reserved = 1;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("reserved must be 0");
    o.reserved = 0;
    o.algorithm = 0;
    o.init_centers = inf;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("init_centers: row 1, column 0 is infinite");
    o.init_centers = x;
    o.n_init = 3;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    o.n_init = 0;
    o.struct_size = 4;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_EINVAL);
    o.struct_size = sizeof o;
    CHECK_RC(persona_kmeans_fit(&m, x, 4, 1, &o, NULL), PERSONA_OK);
    double c[2];
    uint64_t sizes[2];
    uint32_t l[2];
    CHECK_RC(persona_kmeans_centers(c, 1, m), PERSONA_EBUFS);
    CHECK_RC(persona_kmeans_sizes(sizes, 1, m), PERSONA_EBUFS);
    CHECK_RC(persona_kmeans_predict(l, NULL, m, x, 2, 2), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_predict(l, NULL, m, bad, 2, 1), PERSONA_EINVAL);
    CHECK_MSG("point 1, column 0 is NaN");
    CHECK_RC(persona_kmeans_info_get(NULL, m), PERSONA_EINVAL);
    persona_kmeans *one_huge = NULL;
    const double huge[4] = { 1e300, -1e300, 1e300, -1e300 };
    o.init_centers = NULL;
    CHECK_RC(persona_kmeans_fit(&one_huge, huge, 4, 1, &o, NULL), PERSONA_EINVAL);
    CHECK_MSG("variance overflows");
    /* k = n and duplicate points: every point its own cluster, inertia 0 */
    const double dup[4] = { 1, 1, 1, 1 };
    persona_kmeans *one = NULL;
    o.init_centers = NULL;
    o.k = 4;
    CHECK_RC(persona_kmeans_fit(&one, dup, 4, 1, &o, NULL), PERSONA_OK);
    if (one)
        CHECK(info_of(one).inertia == 0);
    persona_kmeans_free(one);
    persona_kmeans_free(m);
    persona_kmeans_free(NULL);
}

/* ---- scikit-learn's results on a small file ---- */

static double *read_csv(const char *path, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[4096];
    size_t cap = 1024, n = 0;
    double *v = malloc(cap * sizeof *v);
    *rows = *cols = 0;
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return v;
    }
    while (fgets(line, sizeof line, f)) {
        size_t c = 0;
        for (char *p = line; *p && *p != '\n';) {
            if (n == cap)
                v = realloc(v, (cap *= 2) * sizeof *v);
            v[n++] = strtod(p, &p);
            c++;
            if (*p == ',')
                p++;
        }
        *cols = c;
        (*rows)++;
    }
    fclose(f);
    return v;
}

static void test_sklearn(const char *dir)
{
    char path[512];
    size_t n, d, k, kd, nl, one;
    snprintf(path, sizeof path, "%s/kmeans_small_points.csv", dir);
    double *x = read_csv(path, &n, &d);
    snprintf(path, sizeof path, "%s/kmeans_small_init.csv", dir);
    double *init = read_csv(path, &k, &kd);
    snprintf(path, sizeof path, "%s/kmeans_small_sklearn_centers.csv", dir);
    double *want_c = read_csv(path, &k, &kd);
    snprintf(path, sizeof path, "%s/kmeans_small_sklearn_labels.csv", dir);
    double *want_l = read_csv(path, &nl, &one);
    snprintf(path, sizeof path, "%s/kmeans_small_sklearn_summary.csv", dir);
    double *summary = read_csv(path, &one, &kd); /* inertia, iterations */
    CHECK(x && init && want_c && want_l && summary && nl == n && n > 0);
    if (!(x && init && want_c && want_l && summary && nl == n && n > 0))
        return;
    uint32_t *l = malloc(n * sizeof *l);
    for (int32_t alg = PERSONA_KMEANS_LLOYD; alg <= PERSONA_KMEANS_ELKAN; alg++) {
        persona_kmeans *m = fit(x, n, d, (uint32_t)k, init, alg, 2, l);
        if (!m)
            continue;
        persona_kmeans_info in = info_of(m);
        CHECK(in.iterations == (uint32_t)summary[1]);
        CHECK_NEAR(in.inertia, summary[0], 1e-9 * summary[0]);
        double *c = malloc(k * d * sizeof *c);
        persona_kmeans_centers(c, k * d, m);
        for (size_t q = 0; q < k * d; q++)
            CHECK_NEAR(c[q], want_c[q], 1e-9 * (1 + fabs(want_c[q])));
        size_t differ = 0;
        for (size_t i = 0; i < n; i++)
            differ += l[i] != (uint32_t)want_l[i];
        CHECK(differ == 0);
        free(c);
        persona_kmeans_free(m);
    }
    free(l);
    free(x);
    free(init);
    free(want_c);
    free(want_l);
    free(summary);
}

/* Two pairs on a line, {0, 1} and {10, 11}: silhouettes 9.5/10.5 and 8.5/9.5 (twice
 * each), Davies–Bouldin (0.5 + 0.5) / 10 = 0.1, Calinski–Harabasz (2·25 + 2·25)·2 / 1 = 200,
 * inertia 4 · 0.25 = 1. One cluster present: the three are NaN. */
static void test_scores_hand(void)
{
    const double x[4] = { 0, 1, 10, 11 };
    const uint32_t two[4] = { 0, 0, 1, 1 }, one[4] = { 2, 2, 2, 2 };
    persona_cluster_scores sc = PERSONA_CLUSTER_SCORES_INIT;
    CHECK_RC(persona_cluster_scores_get(&sc, x, 4, 1, two, 2, 0, 0), PERSONA_OK);
    CHECK_NEAR(sc.silhouette, (9.5 / 10.5 + 8.5 / 9.5) / 2, 1e-15);
    CHECK_NEAR(sc.davies_bouldin, 0.1, 1e-15);
    CHECK_NEAR(sc.calinski_harabasz, 200, 1e-12);
    CHECK(sc.inertia == 1 && sc.k == 2 && sc.silhouette_points == 4);
    CHECK_RC(persona_cluster_scores_get(&sc, x, 4, 1, one, 3, 0, 0), PERSONA_OK);
    CHECK(isnan(sc.silhouette) && isnan(sc.davies_bouldin) && isnan(sc.calinski_harabasz));
    CHECK_RC(persona_cluster_scores_get(&sc, x, 4, 1, one, 2, 0, 0), PERSONA_EINVAL);
    CHECK_MSG("label 2 of point 0");
    const double bad[2] = { 0, NAN };
    CHECK_RC(persona_cluster_scores_get(&sc, bad, 2, 1, two, 2, 0, 0), PERSONA_EINVAL);
}

/* scikit-learn's silhouette_score, davies_bouldin_score and calinski_harabasz_score of
 * three labelings of the small file (tests/data/kmeans_small_sklearn_scores.csv). */
static void test_scores_sklearn(const char *dir)
{
    char path[512];
    size_t n, d, nl, one;
    snprintf(path, sizeof path, "%s/kmeans_small_points.csv", dir);
    double *x = read_csv(path, &n, &d);
    snprintf(path, sizeof path, "%s/kmeans_small_sklearn_labels.csv", dir);
    double *fit_l = read_csv(path, &nl, &one);
    snprintf(path, sizeof path, "%s/kmeans_small_sklearn_scores.csv", dir);
    FILE *f = fopen(path, "r");
    CHECK(x && fit_l && f && nl == n);
    if (!x || !fit_l || !f || nl != n)
        return;
    uint32_t *l = malloc(n * sizeof *l);
    char line[512], name[32];
    unsigned k;
    double sil, db, ch;
    int rows = 0;
    if (!fgets(line, sizeof line, f)) /* header */
        rows = -100;
    while (fgets(line, sizeof line, f) &&
           sscanf(line, "%31[^,],%u,%lf,%lf,%lf", name, &k, &sil, &db, &ch) == 5) {
        for (size_t i = 0; i < n; i++) {
            uint32_t fl = (uint32_t)fit_l[i];
            l[i] = strcmp(name, "mod7") == 0 ? (uint32_t)(i % 7)
                 : strcmp(name, "gap") == 0 ? (fl == 5 ? 7 : fl == 2 ? 5 : fl) : fl;
        }
        persona_cluster_scores sc = PERSONA_CLUSTER_SCORES_INIT;
        CHECK_RC(persona_cluster_scores_get(&sc, x, n, d, l, k, 0, 0), PERSONA_OK);
        CHECK_NEAR(sc.silhouette, sil, 1e-12 * (1 + fabs(sil)));
        CHECK_NEAR(sc.davies_bouldin, db, 1e-12 * db);
        CHECK_NEAR(sc.calinski_harabasz, ch, 1e-12 * ch);
        /* a sample: reproducible, near the exact value */
        persona_cluster_scores s1 = PERSONA_CLUSTER_SCORES_INIT, s2 = PERSONA_CLUSTER_SCORES_INIT;
        CHECK_RC(persona_cluster_scores_get(&s1, x, n, d, l, k, 600, 9), PERSONA_OK);
        CHECK_RC(persona_cluster_scores_get(&s2, x, n, d, l, k, 600, 9), PERSONA_OK);
        CHECK(s1.silhouette_points == 600 && s1.silhouette == s2.silhouette);
        CHECK(fabs(s1.silhouette - sil) < 0.05);
        rows++;
    }
    CHECK(rows == 3);
    fclose(f);
    /* choosing k on the same points: a row per k, the fit's inertia falling with k */
    persona_cluster_scores t[5];
    for (int i = 0; i < 5; i++)
        t[i] = (persona_cluster_scores)PERSONA_CLUSTER_SCORES_INIT;
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.seed = 4;
    o.n_init = 3;
    CHECK_RC(persona_kmeans_choose_k(t, 4, x, n, d, 2, 6, &o, 0), PERSONA_EBUFS);
    CHECK_RC(persona_kmeans_choose_k(t, 5, x, n, d, 2, 6, &o, 0), PERSONA_OK);
    for (int i = 0; i < 5; i++) {
        CHECK(t[i].k == (uint32_t)(2 + i) && t[i].silhouette_points == n);
        if (i)
            CHECK(t[i].inertia < t[i - 1].inertia);
    }
    o.k = 4;
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, NULL), PERSONA_OK);
    if (m)
        CHECK(info_of(m).inertia == t[2].inertia);
    persona_kmeans_free(m);
    CHECK_RC(persona_kmeans_choose_k(t, 5, x, n, d, 3, 2, &o, 0), PERSONA_EINVAL);
    free(l);
    free(x);
    free(fit_l);
}

/* Personas: two features, one cluster far above the mean in the first and below in the
 * second. Points: 8 at (0, 10), 2 at (10, 0): means (2, 8), standard deviations (4, 4);
 * cluster of the 2: z = (+2, -2) -> "very high a (10), very low b (0): 20.0 % of points
 * (2)"; the other: z = (-0.5, +0.5) -> "low a (0), high b (10): 80.0 % of points (8)" (ties
 * in |z| by dimension). */
static void test_describe(void)
{
    double x[20];
    for (int i = 0; i < 10; i++) {
        x[2 * i] = i < 8 ? 0 : 10;
        x[2 * i + 1] = i < 8 ? 10 : 0;
    }
    const double init[4] = { 0, 10, 10, 0 };
    persona_kmeans *m = fit(x, 10, 2, 2, init, PERSONA_KMEANS_AUTO, 1, NULL);
    if (!m)
        return;
    double z[2];
    CHECK_RC(persona_kmeans_zscores(z, 2, m, 1), PERSONA_OK);
    CHECK(z[0] == 2 && z[1] == -2);
    const char *names[2] = { "a", "b" };
    char buf[256];
    size_t len = 0;
    CHECK_RC(persona_kmeans_describe(buf, sizeof buf, &len, m, 1, names, 2), PERSONA_OK);
    CHECK_STR(buf, "very high a (10), very low b (0): 20.0 % of points (2)");
    CHECK_RC(persona_kmeans_describe(buf, sizeof buf, NULL, m, 0, names, 2), PERSONA_OK);
    CHECK_STR(buf, "low a (0), high b (10): 80.0 % of points (8)");
    CHECK_RC(persona_kmeans_describe(buf, sizeof buf, NULL, m, 0, NULL, 0), PERSONA_OK);
    CHECK_STR(buf, "low x0 (0), high x1 (10): 80.0 % of points (8)");
    CHECK_RC(persona_kmeans_describe(buf, 5, &len, m, 1, names, 2), PERSONA_EBUFS);
    CHECK(len == strlen("very high a (10), very low b (0): 20.0 % of points (2)"));
    CHECK_RC(persona_kmeans_describe(buf, sizeof buf, NULL, m, 2, names, 2), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_describe(buf, sizeof buf, NULL, m, 0, names, 1), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_zscores(z, 1, m, 0), PERSONA_EBUFS);
    persona_kmeans_free(m);
    /* no spread anywhere: typical */
    const double same[3] = { 4, 4, 4 };
    persona_kmeans *t = fit(same, 3, 1, 1, NULL, PERSONA_KMEANS_AUTO, 1, NULL);
    if (t) {
        CHECK_RC(persona_kmeans_describe(buf, sizeof buf, NULL, t, 0, NULL, 0), PERSONA_OK);
        CHECK_STR(buf, "typical: 100.0 % of points (3)");
    }
    persona_kmeans_free(t);
}

int main(int argc, char **argv)
{
    test_hand_worked();
    test_reference();
    test_shapes();
    test_threads();
    test_empty_cluster();
    test_plusplus();
    test_n_init();
    test_errors();
    test_sklearn(argc > 1 ? argv[1] : "tests/data");
    test_scores_hand();
    test_describe();
    test_scores_sklearn(argc > 1 ? argv[1] : "tests/data");
    return check_report("test_kmeans");
}
