/* Hierarchical clustering (hclust.h): hand-worked linkages of four points; a brute-force
 * O(n^3) agglomeration written here from the definitions (every pair of clusters, every
 * pair of points) on random inputs — the same merges and heights to 1e-12; ties and
 * duplicate points; the same bits at every thread count; SciPy's linkage matrices and flat
 * clusters of the 5k benchmark points (tests/data/hclust_5k_*, made by
 * tests/data/make_hclust_reference.py); new points against the definitions; errors.
 *
 * usage: test_hclust [DATA_DIR] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"

static const char *const METHOD_NAMES[] = { "ward", "average", "complete", "single" };

static persona_hclust *fit(const double *x, size_t n, size_t d, int32_t method, uint32_t threads)
{
    persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;
    o.method = method;
    o.threads = threads;
    persona_hclust *m = NULL;
    CHECK_RC(persona_hclust_fit(&m, x, n, d, &o), PERSONA_OK);
    return m;
}

static double *linkage_of(const persona_hclust *m, size_t n)
{
    double *z = calloc(4 * n, sizeof *z);
    CHECK_RC(persona_hclust_linkage(z, 4 * (n - 1), m), PERSONA_OK);
    return z;
}

/* ---- hand-worked: points 0, 1, 3, 7 on a line ---- */

static void test_hand_worked(void)
{
    static const double x[] = { 0, 1, 3, 7 };
    /* single: {0,1} at 1, {0,1}+3 at min(3,2) = 2, then 7 at 4.
     * complete: max(3,2) = 3, then max(7,6,4) = 7.
     * average: (3+2)/2 = 2.5, then (7+6+4)/3.
     * Ward: sqrt(2·2·1/3)·|0.5-3| = 2.5·sqrt(4/3), then sqrt(2·3·1/4)·|4/3-7|. */
    static const double want[4][12] = {
        { 0, 1, 1, 2, 2, 4, 2.8867513459481287, 3, 3, 5, 6.9402209378856721, 4 },
        { 0, 1, 1, 2, 2, 4, 2.5, 3, 3, 5, 17.0 / 3, 4 },
        { 0, 1, 1, 2, 2, 4, 3, 3, 3, 5, 7, 4 },
        { 0, 1, 1, 2, 2, 4, 2, 3, 3, 5, 4, 4 },
    };
    for (int32_t method = 0; method < 4; method++) {
        persona_hclust *m = fit(x, 4, 1, method, 1);
        double *z = linkage_of(m, 4);
        for (int i = 0; i < 12; i++)
            if (!(fabs(z[i] - want[method][i]) <= 1e-15 * fabs(want[method][i]))) {
                CHECK(!"hand-worked linkage");
                fprintf(stderr, "  %s entry %d: %.17g, want %.17g\n", METHOD_NAMES[method], i, z[i],
                        want[method][i]);
            }
        persona_hclust_info info = PERSONA_HCLUST_INFO_INIT;
        CHECK_RC(persona_hclust_info_get(&info, m), PERSONA_OK);
        CHECK(info.method == method && info.n == 4 && info.d == 1);
        uint32_t labels[4], k = 0;
        CHECK_RC(persona_hclust_cut(labels, 4, m, 2), PERSONA_OK);
        CHECK(labels[0] == 0 && labels[1] == 0 && labels[2] == 0 && labels[3] == 1);
        CHECK_RC(persona_hclust_cut(labels, 4, m, 4), PERSONA_OK);
        CHECK(labels[0] == 0 && labels[1] == 1 && labels[2] == 2 && labels[3] == 3);
        CHECK_RC(persona_hclust_cut_height(labels, 4, &k, m, 1.5), PERSONA_OK);
        CHECK(k == 3 && labels[0] == 0 && labels[1] == 0 && labels[2] == 1 && labels[3] == 2);
        CHECK_RC(persona_hclust_cut_height(labels, 4, &k, m, INFINITY), PERSONA_OK);
        CHECK(k == 1 && labels[3] == 0);
        CHECK_RC(persona_hclust_cut_height(labels, 4, &k, m, -1), PERSONA_OK);
        CHECK(k == 4);
        free(z);
        persona_hclust_free(m);
    }
    /* new points, k = 2 ({0,1,3} and {7}) */
    persona_hclust *ward = fit(x, 4, 1, PERSONA_LINKAGE_WARD, 1);
    persona_hclust *single = fit(x, 4, 1, PERSONA_LINKAGE_SINGLE, 1);
    double p[] = { 2, 5 }, dist[2];
    uint32_t lab[2];
    CHECK_RC(persona_hclust_predict(lab, dist, ward, 2, p, 2, 1), PERSONA_OK);
    /* 2: sqrt(2·3/4)·(2 - 4/3) = 0.816… vs 5; 5: sqrt(1.5)·(11/3) = 4.49… vs sqrt(1)·2 = 2 */
    CHECK(lab[0] == 0 && lab[1] == 1);
    CHECK_NEAR(dist[0], sqrt(1.5) * (2.0 / 3), 1e-15);
    CHECK_NEAR(dist[1], 2, 1e-15);
    CHECK_RC(persona_hclust_predict(lab, dist, single, 2, p, 2, 1), PERSONA_OK);
    /* 5 is 2 from 3 and 2 from 7: the lower label */
    CHECK(lab[0] == 0 && lab[1] == 0 && dist[0] == 1 && dist[1] == 2);
    persona_hclust_free(ward);
    persona_hclust_free(single);
}

/* ---- the brute force: always merge the closest pair, distances from the definitions ---- */

static double pdist(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

/* The distance of clusters A and B (member lists) by the definition of the method. */
static double cluster_distance(const double *x, size_t d, int32_t method, const size_t *a,
                               size_t na, const size_t *b, size_t nb)
{
    if (method == PERSONA_LINKAGE_WARD) {
        double s = 0;
        for (size_t j = 0; j < d; j++) {
            double ca = 0, cb = 0;
            for (size_t i = 0; i < na; i++)
                ca += x[a[i] * d + j];
            for (size_t i = 0; i < nb; i++)
                cb += x[b[i] * d + j];
            double t = ca / (double)na - cb / (double)nb;
            s += t * t;
        }
        return sqrt(2.0 * (double)na * (double)nb / (double)(na + nb) * s);
    }
    double acc = method == PERSONA_LINKAGE_SINGLE ? INFINITY : 0;
    for (size_t i = 0; i < na; i++)
        for (size_t q = 0; q < nb; q++) {
            double t = pdist(x + a[i] * d, x + b[q] * d, d);
            if (method == PERSONA_LINKAGE_SINGLE)
                acc = t < acc ? t : acc;
            else if (method == PERSONA_LINKAGE_COMPLETE)
                acc = t > acc ? t : acc;
            else
                acc += t;
        }
    return method == PERSONA_LINKAGE_AVERAGE ? acc / (double)(na * nb) : acc;
}

/* The linkage matrix (SciPy's numbering) of greedy agglomeration. */
static void brute_force(const double *x, size_t n, size_t d, int32_t method, double *z)
{
    size_t *members = malloc(n * n * sizeof *members), *count = malloc(n * sizeof *count);
    size_t *id = malloc(n * sizeof *id);
    for (size_t i = 0; i < n; i++) {
        members[i * n] = i;
        count[i] = 1;
        id[i] = i;
    }
    size_t live = n;
    for (size_t r = 0; r + 1 < n; r++) {
        size_t bi = 0, bj = 1;
        double best = INFINITY;
        for (size_t i = 0; i < live; i++)
            for (size_t j = i + 1; j < live; j++) {
                double t = cluster_distance(x, d, method, members + i * n, count[i],
                                            members + j * n, count[j]);
                if (t < best) {
                    best = t;
                    bi = i;
                    bj = j;
                }
            }
        z[4 * r] = (double)(id[bi] < id[bj] ? id[bi] : id[bj]);
        z[4 * r + 1] = (double)(id[bi] < id[bj] ? id[bj] : id[bi]);
        z[4 * r + 2] = best;
        z[4 * r + 3] = (double)(count[bi] + count[bj]);
        memcpy(members + bi * n + count[bi], members + bj * n, count[bj] * sizeof *members);
        count[bi] += count[bj];
        id[bi] = n + r;
        live--;
        memcpy(members + bj * n, members + live * n, count[live] * sizeof *members);
        count[bj] = count[live];
        id[bj] = id[live];
    }
    free(members);
    free(count);
    free(id);
}

static int same_linkage(const double *got, const double *want, size_t n, double tol)
{
    for (size_t r = 0; r + 1 < n; r++) {
        const double *g = got + 4 * r, *w = want + 4 * r;
        if (g[0] != w[0] || g[1] != w[1] || g[3] != w[3] || !(fabs(g[2] - w[2]) <= tol * w[2])) {
            fprintf(stderr, "  row %zu: %g %g %.17g %g, want %g %g %.17g %g\n", r, g[0], g[1],
                    g[2], g[3], w[0], w[1], w[2], w[3]);
            return 0;
        }
    }
    return 1;
}

static void test_brute_force(void)
{
    persona__rng rng;
    persona__rng_seed(&rng, 7);
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 2 + persona__rng_below(&rng, 39), d = 1 + persona__rng_below(&rng, 5);
        double *x = malloc(n * d * sizeof *x);
        for (size_t i = 0; i < n * d; i++)
            x[i] = persona__rng_uniform(&rng) * 10 - 5;
        double *want = malloc(4 * n * sizeof *want);
        for (int32_t method = 0; method < 4; method++) {
            brute_force(x, n, d, method, want);
            persona_hclust *m = fit(x, n, d, method, 1 + (uint32_t)(trial % 3));
            double *z = linkage_of(m, n);
            if (!same_linkage(z, want, n, 1e-12)) {
                CHECK(!"linkage equals the brute force");
                fprintf(stderr, "  trial %d, %s, n %zu, d %zu\n", trial, METHOD_NAMES[method], n, d);
            }
            free(z);
            persona_hclust_free(m);
        }
        free(want);
        free(x);
    }
}

/* The matrix is a binary tree over the points: every cluster merged once, a < b < n + r,
 * sizes added, heights not decreasing. */
static int valid_tree(const double *z, size_t n)
{
    size_t *size = calloc(2 * n, sizeof *size);
    unsigned char *used = calloc(2 * n, 1);
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        size[i] = 1;
    for (size_t r = 0; r + 1 < n && ok; r++) {
        const double *row = z + 4 * r;
        size_t a = (size_t)row[0], b = (size_t)row[1];
        ok = row[0] == (double)a && row[1] == (double)b && a < b && b < n + r && !used[a] &&
             !used[b] && row[3] == (double)(size[a] + size[b]) && (r == 0 || row[2] >= z[4 * r - 2]);
        used[a] = used[b] = 1;
        size[n + r] = size[a] + size[b];
    }
    free(size);
    free(used);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Points on a small grid, many at equal distances and some duplicated: whatever order the
 * ties are broken in, the tree is valid, the same at every thread count, and single
 * linkage's heights (a minimum spanning tree's edges) are the brute force's. */
static void test_ties(void)
{
    persona__rng rng;
    persona__rng_seed(&rng, 11);
    for (int trial = 0; trial < 100; trial++) {
        size_t n = 2 + persona__rng_below(&rng, 30), d = 1 + persona__rng_below(&rng, 3);
        double *x = malloc(n * d * sizeof *x);
        for (size_t i = 0; i < n * d; i++)
            x[i] = (double)persona__rng_below(&rng, 4);
        double *want = malloc(4 * n * sizeof *want);
        for (int32_t method = 0; method < 4; method++) {
            persona_hclust *one = fit(x, n, d, method, 1), *two = fit(x, n, d, method, 2);
            double *z1 = linkage_of(one, n), *z2 = linkage_of(two, n);
            CHECK(valid_tree(z1, n));
            CHECK(memcmp(z1, z2, 4 * (n - 1) * sizeof *z1) == 0);
            if (method == PERSONA_LINKAGE_SINGLE) {
                brute_force(x, n, d, method, want);
                double *hg = malloc(n * sizeof *hg), *hw = malloc(n * sizeof *hw);
                for (size_t r = 0; r + 1 < n; r++) {
                    hg[r] = z1[4 * r + 2];
                    hw[r] = want[4 * r + 2];
                }
                qsort(hw, n - 1, sizeof *hw, cmp_double);
                CHECK(memcmp(hg, hw, (n - 1) * sizeof *hg) == 0);
                free(hg);
                free(hw);
            }
            free(z1);
            free(z2);
            persona_hclust_free(one);
            persona_hclust_free(two);
        }
        free(want);
        free(x);
    }
    /* all points equal: every merge at height 0 */
    double same[12] = { 0 };
    for (int32_t method = 0; method < 4; method++) {
        persona_hclust *m = fit(same, 6, 2, method, 1);
        double *z = linkage_of(m, 6);
        CHECK(valid_tree(z, 6) && z[2] == 0 && z[4 * 4 + 2] == 0);
        free(z);
        persona_hclust_free(m);
    }
}

/* ---- SciPy on the 5k benchmark points ---- */

static double *read_points(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    double *x = malloc(5000 * 8 * sizeof *x);
    *n = fread(x, 8 * sizeof *x, 5000, f);
    fclose(f);
    return x;
}

static double *read_linkage(const char *path, size_t rows)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    double *z = malloc(4 * rows * sizeof *z);
    char line[256];
    size_t r = 0;
    if (!fgets(line, sizeof line, f))
        r = rows + 1;
    while (r < rows && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lf,%lf,%lf,%lf", z + 4 * r, z + 4 * r + 1, z + 4 * r + 2, z + 4 * r + 3) != 4)
            break;
        r++;
    }
    fclose(f);
    if (r != rows) {
        free(z);
        return NULL;
    }
    return z;
}

static void test_scipy_cuts(const char *dir, persona_hclust *const *models, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hclust_5k_scipy_cuts.csv", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    uint32_t *got = malloc(n * sizeof *got);
    int cuts = 0;
    if (!fgets(line, (int)cap, f))
        line[0] = 0;
    while (fgets(line, (int)cap, f)) {
        char method[16], kind[16];
        double value;
        int used = 0;
        if (sscanf(line, "%15[^,],%15[^,],%lf,%n", method, kind, &value, &used) != 3)
            break;
        int32_t mi = 0;
        while (mi < 4 && strcmp(METHOD_NAMES[mi], method) != 0)
            mi++;
        CHECK(mi < 4);
        if (mi == 4)
            break;
        if (strcmp(kind, "k") == 0) {
            CHECK_RC(persona_hclust_cut(got, n, models[mi], (uint32_t)value), PERSONA_OK);
        } else {
            uint32_t k = 0;
            CHECK_RC(persona_hclust_cut_height(got, n, &k, models[mi], value), PERSONA_OK);
        }
        char *p = line + used;
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            char *end;
            unsigned long v = strtoul(p, &end, 10);
            bad += end == p || v != got[i];
            p = end;
        }
        if (bad)
            fprintf(stderr, "  %s cut %s %g: %zu labels differ\n", method, kind, value, bad);
        CHECK(bad == 0);
        cuts++;
    }
    CHECK(cuts == 12);
    free(line);
    free(got);
    fclose(f);
}

static void test_scipy(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hclust_5k_points.f64", dir);
    size_t n = 0;
    double *x = read_points(path, &n);
    CHECK(x != NULL && n == 5000);
    if (!x || n != 5000) {
        free(x);
        return;
    }
    persona_hclust *models[4];
    for (int32_t method = 0; method < 4; method++) {
        snprintf(path, sizeof path, "%s/hclust_5k_scipy_%s.csv", dir, METHOD_NAMES[method]);
        double *want = read_linkage(path, n - 1);
        CHECK(want != NULL);
        models[method] = fit(x, n, 8, method, 2);
        double *z = linkage_of(models[method], n);
        if (want && !same_linkage(z, want, n, 1e-12)) {
            CHECK(!"SciPy's linkage matrix");
            fprintf(stderr, "  %s\n", METHOD_NAMES[method]);
        }
        /* the same bits on one thread (the pairwise distances are computed in parallel) */
        persona_hclust *one = fit(x, n, 8, method, 1);
        double *z1 = linkage_of(one, n);
        CHECK(memcmp(z, z1, 4 * (n - 1) * sizeof *z) == 0);
        free(z1);
        persona_hclust_free(one);
        free(z);
        free(want);
    }
    test_scipy_cuts(dir, models, n);
    for (int32_t method = 0; method < 4; method++)
        persona_hclust_free(models[method]);
    free(x);
}

/* ---- new points against the definitions ---- */

static void test_predict(void)
{
    persona__rng rng;
    persona__rng_seed(&rng, 5);
    size_t n = 60, d = 3, q = 25;
    double *x = malloc(n * d * sizeof *x), *p = malloc(q * d * sizeof *p);
    for (size_t i = 0; i < n * d; i++)
        x[i] = persona__rng_uniform(&rng) * 4;
    for (size_t i = 0; i < q * d; i++)
        p[i] = persona__rng_uniform(&rng) * 5 - 0.5;
    uint32_t *cut = malloc(n * sizeof *cut), lab[25];
    size_t *members = malloc(n * sizeof *members);
    double dist[25];
    for (int32_t method = 0; method < 4; method++) {
        persona_hclust *m = fit(x, n, d, method, 1);
        for (uint32_t k = 1; k <= 7; k += 3) {
            CHECK_RC(persona_hclust_cut(cut, n, m, k), PERSONA_OK);
            CHECK_RC(persona_hclust_predict(lab, dist, m, k, p, q, d), PERSONA_OK);
            for (size_t i = 0; i < q; i++) {
                uint32_t best = 0;
                double bd = INFINITY;
                for (uint32_t c = 0; c < k; c++) {
                    size_t count = 0;
                    for (size_t j = 0; j < n; j++)
                        if (cut[j] == c)
                            members[count++] = j;
                    /* the point as cluster {n}: x extended by it */
                    double *xe = malloc((n + 1) * d * sizeof *xe);
                    memcpy(xe, x, n * d * sizeof *xe);
                    memcpy(xe + n * d, p + i * d, d * sizeof *xe);
                    size_t self = n;
                    double t = cluster_distance(xe, d, method, &self, 1, members, count);
                    free(xe);
                    if (c == 0 || t < bd - 1e-12 * bd) {
                        bd = t;
                        best = c;
                    }
                }
                CHECK(lab[i] == best);
                CHECK_NEAR(dist[i], bd, 1e-12 * bd);
            }
        }
        persona_hclust_free(m);
    }
    free(x);
    free(p);
    free(cut);
    free(members);
}

/* ---- errors ---- */

static void test_errors(void)
{
    double x[] = { 0, 1, 2, 3, 4, 5 };
    persona_hclust *m = (persona_hclust *)1;
    CHECK_RC(persona_hclust_fit(NULL, x, 3, 2, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_fit(&m, NULL, 3, 2, NULL), PERSONA_EINVAL);
    CHECK(m == NULL);
    CHECK_RC(persona_hclust_fit(&m, x, 0, 2, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_fit(&m, x, 3, 0, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_fit(&m, x, 3, PERSONA_HCLUST_MAX_D + 1, NULL), PERSONA_EINVAL);
    persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;
    o.method = 4;
    CHECK_RC(persona_hclust_fit(&m, x, 3, 2, &o), PERSONA_EINVAL);
    CHECK_MSG("unknown linkage method 4");
    o.method = -1;
    CHECK_RC(persona_hclust_fit(&m, x, 3, 2, &o), PERSONA_EINVAL);
    o.method = 0;
    o.struct_size = 2;
    CHECK_RC(persona_hclust_fit(&m, x, 3, 2, &o), PERSONA_EINVAL);
    x[3] = NAN;
    CHECK_RC(persona_hclust_fit(&m, x, 3, 2, NULL), PERSONA_EINVAL);
    CHECK_MSG("points: row 1, column 1 is NaN");
    x[3] = -INFINITY;
    CHECK_RC(persona_hclust_fit(&m, x, 3, 2, NULL), PERSONA_EINVAL);
    CHECK_MSG("infinite");
    x[3] = 1e200;
    CHECK_RC(persona_hclust_fit(&m, x, 3, 2, NULL), PERSONA_EINVAL);
    CHECK_MSG("overflow");
    CHECK(m == NULL);
    x[3] = 3;

    /* one point: no merges, one cluster */
    m = fit(x, 1, 2, PERSONA_LINKAGE_WARD, 1);
    uint32_t one = 9, k = 0;
    CHECK_RC(persona_hclust_linkage(NULL, 0, m), PERSONA_OK);
    CHECK_RC(persona_hclust_cut(&one, 1, m, 1), PERSONA_OK);
    CHECK(one == 0);
    CHECK_RC(persona_hclust_cut_height(&one, 1, &k, m, 0), PERSONA_OK);
    CHECK(k == 1);
    persona_hclust_free(m);

    m = fit(x, 3, 2, PERSONA_LINKAGE_AVERAGE, 1);
    double z[8];
    uint32_t labels[3];
    CHECK_RC(persona_hclust_linkage(z, 7, m), PERSONA_EBUFS);
    CHECK_RC(persona_hclust_linkage(NULL, 8, m), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_linkage(z, 8, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_cut(labels, 3, m, 0), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_cut(labels, 3, m, 4), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_cut(labels, 2, m, 2), PERSONA_EBUFS);
    CHECK_RC(persona_hclust_cut(NULL, 3, m, 2), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_cut_height(labels, 3, &k, m, NAN), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_cut_height(labels, 2, &k, m, 1), PERSONA_EBUFS);
    double p[] = { 1, 1 }, dist;
    CHECK_RC(persona_hclust_predict(labels, &dist, m, 2, p, 1, 3), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_predict(labels, &dist, m, 0, p, 1, 2), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_predict(labels, &dist, m, 4, p, 1, 2), PERSONA_EINVAL);
    p[1] = NAN;
    labels[0] = 7;
    CHECK_RC(persona_hclust_predict(labels, &dist, m, 2, p, 1, 2), PERSONA_EINVAL);
    CHECK(labels[0] == 7);
    CHECK_RC(persona_hclust_predict(labels, &dist, m, 2, NULL, 0, 2), PERSONA_OK);
    persona_hclust_info info = PERSONA_HCLUST_INFO_INIT;
    info.struct_size = 3;
    CHECK_RC(persona_hclust_info_get(&info, m), PERSONA_EINVAL);
    CHECK_RC(persona_hclust_info_get(NULL, m), PERSONA_EINVAL);
    persona_hclust_free(m);
    persona_hclust_free(NULL);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/data";
    test_hand_worked();
    test_brute_force();
    test_ties();
    test_predict();
    test_errors();
    test_scipy(dir);
    return check_report("test_hclust");
}
