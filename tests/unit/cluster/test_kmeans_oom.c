/* Allocation failures in k-means (TESTING.md §5): fits with k-means++ and several runs, with
 * given centres that leave a cluster empty (the relocation allocates), every algorithm
 * (Lloyd, Hamerly, Elkan, mini-batch) and two threads, with the N-th allocation failing once and from N on, for N = 1, 2, … until
 * the call succeeds. A failed fit returns PERSONA_ENOMEM, NULLs its out-pointer, leaves the
 * labels as they were and leaks nothing; the fit that finally succeeds gives the reference
 * result. The same for scores and choosing k. Predicting allocates nothing. Every allocation call site of lib/cluster/ must be
 * reached.
 *
 * usage: test_kmeans_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_sites.h"

enum { N = 3000, D = 3 };

static double points[N * D];

/* The fit's centres, labels and inertia as bytes in libc memory. */
static unsigned char *result_of(const persona_kmeans *m, const uint32_t *labels, uint32_t k,
                                size_t *len)
{
    *len = k * D * sizeof(double) + N * sizeof *labels + sizeof(double);
    unsigned char *out = malloc(*len);
    persona_kmeans_info in = PERSONA_KMEANS_INFO_INIT;
    if (persona_kmeans_centers((double *)out, k * D, m) || persona_kmeans_info_get(&in, m))
        abort();
    memcpy(out + k * D * sizeof(double), labels, N * sizeof *labels);
    memcpy(out + *len - sizeof(double), &in.inertia, sizeof(double));
    return out;
}

static int counted;

static void check_fit(const persona_kmeans_options *o, const char *what)
{
    uint64_t live0 = failalloc_live();
    uint32_t *labels = malloc(N * sizeof *labels);
    unsigned char *want = NULL;
    size_t want_len = 0;
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            persona_kmeans *m = (persona_kmeans *)labels; /* must come back NULL on failure */
            memset(labels, 0xA5, N * sizeof *labels);
            failalloc_arm(n, mode);
            int rc = persona_kmeans_fit(&m, points, N, D, o, labels);
            int injected = failalloc_disarm();
            counted++;
            if (rc == PERSONA_OK) {
                size_t len;
                unsigned char *got = result_of(m, labels, o->k, &len);
                if (!want) {
                    want = got;
                    want_len = len;
                } else {
                    CHECK(len == want_len && memcmp(got, want, len) == 0);
                    free(got);
                }
                persona_kmeans_free(m);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s: n=%llu mode=%d: rc %d (%s)\n", what,
                            (unsigned long long)n, mode, rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(m == NULL);
                CHECK(labels[0] == 0xA5A5A5A5u && labels[N - 1] == 0xA5A5A5A5u);
            }
            CHECK(failalloc_live() == live0);
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
    free(want);
    free(labels);
}

int main(int argc, char **argv)
{
    failalloc_install();
    uint64_t st = 12345;
    for (size_t i = 0; i < N * D; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        points[i] = (double)(i / D % 4) * 10 + (double)(st >> 11) * 0x1.0p-53;
    }
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = 4;
    o.n_init = 2;
    o.seed = 3;
    o.threads = 2;
    o.batch_size = 500;
    for (int32_t alg = PERSONA_KMEANS_LLOYD; alg <= PERSONA_KMEANS_MINIBATCH; alg++) {
        o.algorithm = alg;
        check_fit(&o, "k-means++, two runs");
    }
    o.algorithm = PERSONA_KMEANS_HAMERLY; /* for scores, choosing k and predicting below */
    /* a centre far from every point: its cluster empties and takes the farthest point */
    double init[5 * D] = { 0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30, 1e6, 1e6, 1e6 };
    persona_kmeans_options g = PERSONA_KMEANS_OPTIONS_INIT;
    g.k = 5;
    g.init_centers = init;
    g.threads = 2;
    for (int32_t alg = PERSONA_KMEANS_LLOYD; alg <= PERSONA_KMEANS_MINIBATCH; alg++) {
        g.algorithm = alg;
        check_fit(&g, "an empty cluster");
    }
    /* scores (exact and sampled silhouette) and choosing k */
    uint32_t *lab = malloc(N * sizeof *lab);
    for (size_t i = 0; i < N; i++)
        lab[i] = (uint32_t)(i % 4);
    for (int what = 0; what < 3; what++) {
        persona_cluster_scores want[3], got[3];
        for (uint64_t n = 0;; n++) { /* n = 0: the reference, without injection */
            for (int r = 0; r < 3; r++)
                got[r] = (persona_cluster_scores)PERSONA_CLUSTER_SCORES_INIT;
            uint64_t live0 = failalloc_live();
            if (n)
                failalloc_arm(n, n % 2 ? FAILALLOC_ONCE : FAILALLOC_FROM_N);
            int rc = what == 2 ? persona_kmeans_choose_k(got, 3, points, 400, D, 2, 4, &o, 100)
                               : persona_cluster_scores_get(got, points, what ? N : 500, D, lab, 4,
                                                           what ? 300 : 0, 1);
            int injected = n ? failalloc_disarm() : 0;
            counted++;
            CHECK(failalloc_live() == live0);
            if (rc == PERSONA_OK) {
                if (n == 0)
                    memcpy(want, got, sizeof want);
                else
                    CHECK(memcmp(got, want, (what == 2 ? 3 : 1) * sizeof *got) == 0);
            } else {
                CHECK_RC(rc, PERSONA_ENOMEM);
            }
            if (n && !injected)
                break;
        }
    }
    free(lab);
    /* predicting allocates nothing */
    persona_kmeans *m = NULL;
    CHECK_RC(persona_kmeans_fit(&m, points, N, D, &o, NULL), PERSONA_OK);
    char want[256], got[256];
    CHECK_RC(persona_kmeans_describe(want, sizeof want, NULL, m, 1, NULL, 0), PERSONA_OK);
    for (uint64_t n = 1;; n++) {
        uint64_t live0 = failalloc_live();
        failalloc_arm(n, FAILALLOC_ONCE);
        int rc = persona_kmeans_describe(got, sizeof got, NULL, m, 1, NULL, 0);
        int injected = failalloc_disarm();
        counted++;
        CHECK(failalloc_live() == live0);
        if (rc == PERSONA_OK)
            CHECK(strcmp(got, want) == 0);
        else
            CHECK_RC(rc, PERSONA_ENOMEM);
        if (!injected)
            break;
    }
    uint32_t l[10];
    failalloc_arm(1, FAILALLOC_FROM_N);
    CHECK_RC(persona_kmeans_predict(l, NULL, m, points, 10, D), PERSONA_OK);
    CHECK(!failalloc_disarm());
    persona_kmeans_free(m);
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "kmeans.c", "kmeans_elkan.c", "kmeans_init.c",
                                         "kmeans_iter.c", "kmeans_minibatch.c", "scores.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "cluster", files, 6, 42, "k-means");
    return check_report("test_kmeans_oom");
}
