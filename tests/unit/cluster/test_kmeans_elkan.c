/* Elkan's bounds (PERSONA_KMEANS_ELKAN) against the library's Lloyd, which test_kmeans.c
 * checks against a reference written from the definition: the same labels, iterations,
 * converged flag, sizes, and the same bits of centres and inertia (the sums are the same
 * additions once the labels are the same), on inputs made to trip bounds: random blobs,
 * points on an integer grid (many exact ties between centres, duplicate points, duplicate
 * initial centres that leave clusters empty), k = 1, k = n, all points equal, k above the
 * vector kernel's limit (1,024) — and the same bits at 1, 2, 3 and 8 threads. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "km_test.h"

typedef struct fitted {
    double *centers;
    uint32_t *labels;
    uint64_t *sizes;
    persona_kmeans_info info;
} fitted;

static void fitted_free(fitted *f)
{
    free(f->centers);
    free(f->labels);
    free(f->sizes);
}

static fitted fit(const double *x, size_t n, size_t d, uint32_t k, const double *init,
                  int32_t algorithm, uint32_t threads)
{
    fitted f = { calloc(k * d, sizeof(double)), calloc(n, sizeof(uint32_t)),
                 calloc(k, sizeof(uint64_t)), PERSONA_KMEANS_INFO_INIT };
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = k;
    o.init_centers = init;
    o.algorithm = algorithm;
    o.threads = threads;
    o.seed = 5; /* k-means++ when init is NULL */
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit(&m, x, n, d, &o, f.labels), PERSONA_OK);
    if (m) {
        CHECK_RC(persona_kmeans_centers(f.centers, k * d, m), PERSONA_OK);
        CHECK_RC(persona_kmeans_sizes(f.sizes, k, m), PERSONA_OK);
        CHECK_RC(persona_kmeans_info_get(&f.info, m), PERSONA_OK);
    }
    persona_kmeans_free(m);
    return f;
}

static int cases, differing;

/* Elkan at `threads` equals Lloyd at one thread, bit for bit. */
static void same_as_lloyd(const char *what, const double *x, size_t n, size_t d, uint32_t k,
                          const double *init, uint32_t threads)
{
    fitted l = fit(x, n, d, k, init, PERSONA_KMEANS_LLOYD, 1);
    fitted e = fit(x, n, d, k, init, PERSONA_KMEANS_ELKAN, threads);
    int same = memcmp(l.labels, e.labels, n * sizeof *l.labels) == 0 &&
               memcmp(l.centers, e.centers, k * d * sizeof *l.centers) == 0 &&
               memcmp(l.sizes, e.sizes, k * sizeof *l.sizes) == 0 &&
               memcmp(&l.info.inertia, &e.info.inertia, sizeof l.info.inertia) == 0 &&
               l.info.iterations == e.info.iterations && l.info.converged == e.info.converged;
    CHECK(same);
    cases++;
    if (!same) {
        differing++;
        fprintf(stderr, "%s: n %zu d %zu k %u threads %u: Elkan differs from Lloyd "
                        "(iterations %u / %u, inertia %.17g / %.17g)\n",
                what, n, d, k, threads, e.info.iterations, l.info.iterations, e.info.inertia,
                l.info.inertia);
    }
    fitted_free(&l);
    fitted_free(&e);
}

/* k distinct rows of x as initial centres (rows q × n / k). */
static double *rows_as_init(const double *x, size_t n, size_t d, size_t k)
{
    double *init = malloc(k * d * sizeof *init);
    for (size_t q = 0; q < k; q++)
        memcpy(init + q * d, x + (q * (n / k)) * d, d * sizeof *init);
    return init;
}

static void test_blobs(void)
{
    for (int trial = 0; trial < 30; trial++) {
        size_t n = 50 + (size_t)(uniform() * 5000), d = 1 + (size_t)(uniform() * 8);
        uint32_t k = 2 + (uint32_t)(uniform() * 40);
        double *x = blobs(n, d, 1 + (size_t)(uniform() * 12), trial % 3 ? 1.5 : 8.0);
        double *init = rows_as_init(x, n, d, k);
        same_as_lloyd("blobs, given centres", x, n, d, k, init, 1 + (uint32_t)(trial % 3));
        same_as_lloyd("blobs, k-means++", x, n, d, k, NULL, 2);
        free(init);
        free(x);
    }
}

/* Integer coordinates 0 … 4 in 1 or 2 dimensions: a point is often exactly as far from two
 * centres (the lower index must win), points repeat, and initial centres drawn from the
 * grid repeat too, so clusters empty and are relocated. */
static void test_grid_ties(void)
{
    for (int trial = 0; trial < 40; trial++) {
        size_t d = 1 + (size_t)(trial % 2), n = 20 + (size_t)(uniform() * 400);
        uint32_t k = 2 + (uint32_t)(uniform() * 9);
        double *x = malloc(n * d * sizeof *x), *init = malloc(k * d * sizeof *init);
        for (size_t i = 0; i < n * d; i++)
            x[i] = (double)(int)(uniform() * 5);
        for (size_t i = 0; i < k * d; i++)
            init[i] = (double)(int)(uniform() * 5);
        same_as_lloyd("grid", x, n, d, k, init, 1 + (uint32_t)(trial % 2));
        /* half-integer centres: points exactly midway between two of them */
        for (size_t i = 0; i < k * d; i++)
            init[i] += 0.5;
        same_as_lloyd("grid, half-way centres", x, n, d, k, init, 2);
        free(x);
        free(init);
    }
}

static void test_edges(void)
{
    size_t n = 300, d = 3;
    double *x = blobs(n, d, 4, 2.0);
    same_as_lloyd("k = 1", x, n, d, 1, NULL, 2);
    same_as_lloyd("k = n", x, n, d, (uint32_t)n, x, 2);
    same_as_lloyd("k = n, k-means++", x, n, d, (uint32_t)n, NULL, 1);
    /* duplicates: every point twice, k = n */
    double *twice = malloc(2 * n * d * sizeof *twice);
    memcpy(twice, x, n * d * sizeof *x);
    memcpy(twice + n * d, x, n * d * sizeof *x);
    same_as_lloyd("duplicated points, k = n", twice, 2 * n, d, (uint32_t)(2 * n), NULL, 2);
    /* all points equal: every cluster but one empties and is relocated */
    double same[40];
    for (int i = 0; i < 40; i++)
        same[i] = 3.25;
    const double init[4] = { 0, 1, 2, 3 };
    same_as_lloyd("all points equal", same, 40, 1, 4, init, 2);
    /* a centre no point is near (its cluster empties at once) */
    double far_init[5 * 3];
    memcpy(far_init, x, 4 * d * sizeof *x);
    far_init[12] = far_init[13] = far_init[14] = 1e6;
    same_as_lloyd("an empty cluster", x, n, d, 5, far_init, 2);
    free(twice);
    free(x);
    /* k above the vector kernel's 1,024 centres: the scalar distances */
    size_t nb = 2500;
    double *many = blobs(nb, 2, 30, 3.0);
    same_as_lloyd("k = 1100", many, nb, 2, 1100, NULL, 2);
    free(many);
}

/* The same bits at 1, 2, 3 and 8 threads (and Lloyd's), over several blocks of points. */
static void test_threads(void)
{
    size_t n = 30000, d = 4;
    double *x = blobs(n, d, 15, 2.5);
    const uint32_t threads[4] = { 1, 2, 3, 8 };
    for (int t = 0; t < 4; t++)
        same_as_lloyd("threads", x, n, d, 20, NULL, threads[t]);
    free(x);
}

int main(void)
{
    test_blobs();
    test_grid_ties();
    test_edges();
    test_threads();
    fprintf(stderr, "%d cases, %d where Elkan differs from Lloyd\n", cases, differing);
    return check_report("test_kmeans_elkan");
}
