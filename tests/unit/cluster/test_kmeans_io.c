/* Saving and loading k-means models (persona_kmeans_save / _load, docs/file-format.md kind
 * 6): plain and multi-view models come back answering every call with the same bits
 * (info, centres, sizes, z-scores, personas, views, predictions) and save to the same
 * bytes; damaged files (every truncation, a flipped byte in every position, fields out of
 * range written by hand) are refused with a clear code and no model; other kinds and
 * missing files are refused.
 *
 * usage: test_kmeans_io */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "damage_check.h"

enum { N = 200, D = 3, K = 4 };

static double points[N * D];

/* Everything a model answers, as bytes in libc memory. */
static unsigned char *answers(const persona_kmeans *m, size_t *len)
{
    persona_kmeans_info info = PERSONA_KMEANS_INFO_INIT;
    CHECK_RC(persona_kmeans_info_get(&info, m), PERSONA_OK);
    size_t cap = sizeof info + (K * D + 2 * K * D + 2 * D + N) * sizeof(double) + K * 8 +
                 N * 4 + K * 256;
    unsigned char *out = calloc(1, cap), *p = out;
    memcpy(p, &info, sizeof info);
    p += sizeof info;
    CHECK_RC(persona_kmeans_centers((double *)p, K * D, m), PERSONA_OK);
    p += K * D * sizeof(double);
    CHECK_RC(persona_kmeans_sizes((uint64_t *)p, K, m), PERSONA_OK);
    p += K * sizeof(uint64_t);
    for (uint32_t c = 0; c < K; c++) {
        CHECK_RC(persona_kmeans_zscores((double *)p, D, m, c), PERSONA_OK);
        p += D * sizeof(double);
        CHECK_RC(persona_kmeans_describe((char *)p, 256, NULL, m, c, NULL, 0), PERSONA_OK);
        p += 256;
    }
    CHECK_RC(persona_kmeans_views_get((double *)p, (double *)p + D, D, m), PERSONA_OK);
    p += 2 * D * sizeof(double);
    CHECK_RC(persona_kmeans_predict((uint32_t *)p, (double *)(p + N * 4), m, points, N, D),
             PERSONA_OK);
    p += N * 4 + N * sizeof(double);
    *len = (size_t)(p - out);
    return out;
}

static char path_a[256], path_b[256];

static void round_trip(const persona_kmeans *m, const char *what)
{
    CHECK_RC(persona_kmeans_save(m, path_a), PERSONA_OK);
    persona_kmeans *back = (persona_kmeans *)1;
    CHECK_RC(persona_kmeans_load(&back, path_a), PERSONA_OK);
    if (!back || back == (persona_kmeans *)1)
        return;
    size_t la, lb;
    unsigned char *a = answers(m, &la), *b = answers(back, &lb);
    if (la != lb || memcmp(a, b, la) != 0) {
        CHECK(!"a loaded model answers as the saved one");
        fprintf(stderr, "  %s\n", what);
    }
    CHECK_RC(persona_kmeans_save(back, path_b), PERSONA_OK);
    check_same_bytes(path_a, path_b);
    free(a);
    free(b);
    persona_kmeans_free(back);
}

/* A load for check_damaged(): no model on failure, freed on success. */
static int load_checked(const char *path)
{
    persona_kmeans *m = (persona_kmeans *)1;
    int rc = persona_kmeans_load(&m, path);
    if (rc == PERSONA_OK)
        persona_kmeans_free(m);
    else
        CHECK(m == NULL);
    return rc;
}

static void damaged(const char *what)
{
    check_damaged(path_a, path_b, load_checked, what);
}

static void test_round_trips(void)
{
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = K;
    o.seed = 4;
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit(&m, points, N, D, &o, NULL), PERSONA_OK);
    round_trip(m, "plain");
    damaged("plain");
    persona_kmeans_free(m);

    static const uint32_t view_of[D] = { 0, 1, 1 };
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    v.n_views = 2;
    v.view_of = view_of;
    CHECK_RC(persona_kmeans_fit_views(&m, points, N, D, &v, &o, NULL), PERSONA_OK);
    round_trip(m, "multi-view");
    damaged("multi-view");
    persona_kmeans_free(m);
}

static void test_errors(void)
{
    persona_kmeans *m = (persona_kmeans *)1;
    CHECK_RC(persona_kmeans_load(&m, "/nonexistent/dir/model.snap"), PERSONA_EIO);
    CHECK(m == NULL);
    CHECK_RC(persona_kmeans_load(NULL, path_a), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_load(&m, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_kmeans_save(NULL, path_a), PERSONA_EINVAL);
    /* a store snapshot is not a k-means model */
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK_RC(persona_store_save(s, path_b), PERSONA_OK);
    persona_store_free(s);
    CHECK_RC(persona_kmeans_load(&m, path_b), PERSONA_ECORRUPT);
    CHECK_MSG("not a k-means model");
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = K;
    CHECK_RC(persona_kmeans_fit(&m, points, N, D, &o, NULL), PERSONA_OK);
    CHECK_RC(persona_kmeans_save(m, "/nonexistent/dir/model.snap"), PERSONA_EIO);
    persona_kmeans_free(m);
}

int main(void)
{
    for (size_t i = 0; i < N * D; i++)
        points[i] = (double)((i * 7919) % 101) / 10 + (double)(i / D % K) * 20;
    snprintf(path_a, sizeof path_a, "%s/kmeans_io_a_%d.snap", test_temp_dir(), (int)getpid());
    snprintf(path_b, sizeof path_b, "%s/kmeans_io_b_%d.snap", test_temp_dir(), (int)getpid());
    test_round_trips();
    test_errors();
    unlink(path_a);
    unlink(path_b);
    return check_report("test_kmeans_io");
}
