/* Fuzz target: bytes -> persona_kmeans_load (of a snapshot held in memory).
 *
 * Input: a k-means model snapshot (docs/file-format.md, "k-means model (kind 6)"), usually a
 * damaged one; seeds are real plain and multi-view models written by make_model_seeds.c.
 * CRCs are not compared in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, or PERSONA_ECORRUPT / EVERSION / ENOMEM / EIO with no model;
 *  2. on success: info has 1 <= k <= n, 1 <= d, n_views in 1 … d; the sizes add up to n;
 *     the centres, z-scores and view weights and sums read back finite (sums >= 0);
 *     every cluster has a persona text that ends with its size; predicting the centres and
 *     a point of zeros gives labels below k and finite squared distances >= 0;
 *  3. load(save(m)) == m: the same info, centres and predictions, and saving the reloaded
 *     model gives the same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/kmeans_internal.h"
#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "persona/kmeans.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the model answers that a reload must repeat: info, centres, predictions. */
typedef struct answers {
    persona_kmeans_info info;
    double *centers, *dist;
    uint32_t *labels;
} answers;

static answers check(const persona_kmeans *m)
{
    answers a = { PERSONA_KMEANS_INFO_INIT, NULL, NULL, NULL };
    FUZZ_OK(persona_kmeans_info_get(&a.info, m));
    uint32_t k = a.info.k;
    size_t d = (size_t)a.info.d;
    FUZZ_ASSERT(k >= 1 && k <= a.info.n && d >= 1 && a.info.n_views >= 1 && a.info.n_views <= d,
                "k %u, n %llu, d %zu, %u views", k, (unsigned long long)a.info.n, d,
                a.info.n_views);
    FUZZ_ASSERT(isfinite(a.info.inertia) && a.info.inertia >= 0, "inertia %g", a.info.inertia);
    size_t kd = (size_t)k * d;
    a.centers = malloc(kd * sizeof *a.centers);
    a.labels = malloc((k + 1) * sizeof *a.labels);
    a.dist = malloc((k + 1) * sizeof *a.dist);
    uint64_t *sizes = malloc(k * sizeof *sizes);
    double *z = malloc(d * sizeof *z), *w = malloc(2 * d * sizeof *w);
    double *probe = calloc(kd + d, sizeof *probe);
    FUZZ_ASSERT(a.centers && a.labels && a.dist && sizes && z && w && probe, "out of memory");
    FUZZ_OK(persona_kmeans_centers(a.centers, kd, m));
    FUZZ_OK(persona_kmeans_sizes(sizes, k, m));
    uint64_t sum = 0;
    for (uint32_t c = 0; c < k; c++)
        sum += sizes[c];
    FUZZ_ASSERT(sum == a.info.n, "sizes add up to %llu of %llu", (unsigned long long)sum,
                (unsigned long long)a.info.n);
    for (size_t i = 0; i < kd; i++)
        FUZZ_ASSERT(isfinite(a.centers[i]), "centre coordinate %zu is %g", i, a.centers[i]);
    FUZZ_OK(persona_kmeans_views_get(w, w + d, d, m));
    for (uint32_t q = 0; q < a.info.n_views; q++)
        FUZZ_ASSERT(isfinite(w[q]) && w[q] >= 0 && isfinite(w[d + q]) && w[d + q] >= 0,
                    "view %u: weight %g, sum %g", q, w[q], w[d + q]);
    char text[512], tail[64];
    for (uint32_t c = 0; c < k && c < 16; c++) {
        FUZZ_OK(persona_kmeans_zscores(z, d, m, c));
        size_t len = 0;
        int rc = persona_kmeans_describe(text, sizeof text, &len, m, c, NULL, 0);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EBUFS, "describe %u returned %d", c, rc);
        snprintf(tail, sizeof tail, "(%llu)", (unsigned long long)sizes[c]);
        FUZZ_ASSERT(rc != PERSONA_OK || (len >= strlen(tail) &&
                                         strcmp(text + len - strlen(tail), tail) == 0),
                    "persona %u: \"%s\" does not end with %s", c, text, tail);
    }
    /* the centres (the first k rows) and a point of zeros */
    size_t rows = k < 64 ? k : 64;
    memcpy(probe, a.centers, rows * d * sizeof *probe);
    memset(probe + rows * d, 0, d * sizeof *probe);
    FUZZ_OK(persona_kmeans_predict(a.labels, a.dist, m, probe, rows + 1, d));
    for (size_t i = 0; i <= rows; i++)
        FUZZ_ASSERT(a.labels[i] < k && a.dist[i] >= 0, "point %zu: label %u, distance %g", i,
                    a.labels[i], a.dist[i]);
    free(sizes);
    free(z);
    free(w);
    free(probe);
    return a;
}

static void answers_free(answers *a)
{
    free(a->centers);
    free(a->labels);
    free(a->dist);
}

static uint8_t *save(const persona_kmeans *m, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_kmeans_save(m, "/memfs/kmeans.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_kmeans *m = (persona_kmeans *)1;
    int rc = persona__kmeans_load_memory(&m, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION || rc == PERSONA_ENOMEM ||
                        rc == PERSONA_EIO,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(m == NULL, "failed load left a model");
        return 0;
    }
    FUZZ_ASSERT(m != NULL, "load succeeded without a model");
    answers a = check(m);
    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save(m, &len1);
    persona_kmeans *y = NULL;
    rc = persona__kmeans_load_memory(&y, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved model failed: %d (%s)", rc, persona_errmsg());
    answers b = check(y);
    size_t kd = (size_t)a.info.k * (size_t)a.info.d, rows = a.info.k < 64 ? a.info.k : 64;
    FUZZ_ASSERT(memcmp(&a.info, &b.info, sizeof a.info) == 0, "the reloaded model's info differs");
    FUZZ_ASSERT(memcmp(a.centers, b.centers, kd * sizeof *a.centers) == 0,
                "the reloaded model's centres differ");
    FUZZ_ASSERT(memcmp(a.labels, b.labels, (rows + 1) * sizeof *a.labels) == 0 &&
                    memcmp(a.dist, b.dist, (rows + 1) * sizeof *a.dist) == 0,
                "the reloaded model predicts otherwise");
    uint8_t *b2 = save(y, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    answers_free(&a);
    answers_free(&b);
    free(b1);
    free(b2);
    persona_kmeans_free(y);
    persona_kmeans_free(m);
    return 0;
}
