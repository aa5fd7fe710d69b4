/* Allocation failures in hierarchical and multi-view clustering (TESTING.md §5; k-means
 * has test_kmeans_oom.c): fits of every linkage on two threads, flat clusters by count and
 * by height, new points, and multi-view k-means (learned weights from k-means++ with
 * restarts, fixed weights from given centres), with the N-th allocation failing once and
 * from N on, for N = 1, 2, … until the call succeeds. A failed call returns PERSONA_ENOMEM,
 * NULLs a fit's out-pointer, leaves its output as it was and leaks nothing; the call that
 * finally succeeds gives the reference result. Every allocation call site of
 * lib/cluster/hclust*.c and kmeans_views.c must be reached.
 *
 * usage: test_cluster_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_sites.h"

enum { N = 300, D = 3, Q = 7 };

static double points[N * D];
static int counted;

/* One call under test: writes its result (len bytes) into out, returns a status. */
typedef int (*call_fn)(const void *ctx, void *out);

/* The call with the N-th allocation failing (once, then from N on) until it succeeds;
 * the reference result is the uninjected call's. */
static void check_call(call_fn call, const void *ctx, size_t len, const char *what)
{
    unsigned char *want = malloc(len), *got = malloc(len);
    memset(want, 0xA5, len); /* bytes a call never writes stay equal */
    CHECK_RC(call(ctx, want), PERSONA_OK);
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            uint64_t live0 = failalloc_live();
            memset(got, 0xA5, len);
            failalloc_arm(n, mode);
            int rc = call(ctx, got);
            int injected = failalloc_disarm();
            counted++;
            CHECK(failalloc_live() == live0);
            if (rc == PERSONA_OK) {
                CHECK(memcmp(got, want, len) == 0);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s: n=%llu: rc %d (%s)\n", what, (unsigned long long)n, rc,
                            persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(got[0] == 0xA5 && got[len - 1] == 0xA5);
            }
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
    free(want);
    free(got);
}

static int fit_call(const void *ctx, void *out)
{
    persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;
    o.method = *(const int32_t *)ctx;
    o.threads = 2;
    persona_hclust *m = (persona_hclust *)out; /* must come back NULL on failure */
    int rc = persona_hclust_fit(&m, points, N, D, &o);
    if (rc) {
        CHECK(m == NULL);
        return rc;
    }
    CHECK_RC(persona_hclust_linkage(out, 4 * (N - 1), m), PERSONA_OK);
    persona_hclust_free(m);
    return rc;
}

static int cut_call(const void *ctx, void *out)
{
    return persona_hclust_cut(out, N, ctx, 5);
}

static int cut_height_call(const void *ctx, void *out)
{
    return persona_hclust_cut_height(out, N, NULL, ctx, 0.5);
}

static int predict_call(const void *ctx, void *out)
{
    return persona_hclust_predict(out, (double *)((uint32_t *)out + Q + 1), ctx, 4, points, Q, D);
}

/* Multi-view fits: labels, centres, weights and the objective. */
typedef struct views_case {
    const persona_kmeans_views *v;
    const persona_kmeans_options *o;
} views_case;

enum { VK = 3 };

static int views_call(const void *ctx, void *out)
{
    const views_case *c = ctx;
    persona_kmeans *m = (persona_kmeans *)out;
    uint32_t *labels = out;
    int rc = persona_kmeans_fit_views(&m, points, N, D, c->v, c->o, labels);
    if (rc) {
        CHECK(m == NULL);
        return rc;
    }
    double *rest = (double *)(labels + N);
    persona_kmeans_info info = PERSONA_KMEANS_INFO_INIT;
    CHECK_RC(persona_kmeans_centers(rest, VK * D, m), PERSONA_OK);
    CHECK_RC(persona_kmeans_views_get(rest + VK * D, NULL, 2, m), PERSONA_OK);
    CHECK_RC(persona_kmeans_info_get(&info, m), PERSONA_OK);
    rest[VK * D + 2] = info.inertia;
    persona_kmeans_free(m);
    return rc;
}

static void check_views(void)
{
    static const uint32_t view_of[D] = { 0, 0, 1 };
    static const double weights[2] = { 2, 1 };
    double init[VK * D];
    memcpy(init, points, sizeof init);
    persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;
    v.n_views = 2;
    v.view_of = view_of;
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = VK;
    o.n_init = 2;
    o.threads = 2;
    views_case learned = { &v, &o };
    size_t len = N * sizeof(uint32_t) + (VK * D + 3) * sizeof(double);
    check_call(views_call, &learned, len, "multi-view, learned");
    persona_kmeans_views fixed = v;
    fixed.weights = weights;
    persona_kmeans_options given = o;
    given.n_init = 1;
    given.init_centers = init;
    views_case fixed_case = { &fixed, &given };
    check_call(views_call, &fixed_case, len, "multi-view, fixed");
}

int main(int argc, char **argv)
{
    failalloc_install();
    uint64_t st = 777;
    for (size_t i = 0; i < N * D; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        points[i] = (double)(i / D % 3) * 5 + (double)(st >> 11) * 0x1.0p-53;
    }
    for (int32_t method = PERSONA_LINKAGE_WARD; method <= PERSONA_LINKAGE_SINGLE; method++) {
        check_call(fit_call, &method, 4 * (N - 1) * sizeof(double), "fit");
        persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;
        o.method = method;
        persona_hclust *m = NULL;
        CHECK_RC(persona_hclust_fit(&m, points, N, D, &o), PERSONA_OK);
        check_call(cut_call, m, N * sizeof(uint32_t), "cut");
        check_call(cut_height_call, m, N * sizeof(uint32_t), "cut_height");
        check_call(predict_call, m, (Q + 1) * sizeof(uint32_t) + Q * sizeof(double), "predict");
        persona_hclust_free(m);
    }
    check_views();
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "hclust.c", "hclust_chain.c", "hclust_mst.c",
                                         "hclust_predict.c", "kmeans_views.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "cluster", files, 5, 30,
                    "hierarchical and multi-view clustering");
    return check_report("test_cluster_oom");
}
