/* Hierarchical clustering speed: persona_hclust_fit on points already in memory (a .f64
 * file of n × d doubles, shared/bench's hc_*_d8), as the SciPy and fastcluster anchors time
 * their linkage call. Prints one JSON line: median seconds of REPEATS fits and the sum and
 * largest of the merge heights (to compare with the anchors' summaries).
 * usage: bench_hclust POINTS.f64 D [METHOD: ward|average|complete|single] [REPEATS] [THREADS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

static const char *const METHODS[] = { "ward", "average", "complete", "single" };

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_fail("bench_hclust", "usage: bench_hclust POINTS.f64 D [METHOD] [REPEATS] [THREADS]");
    size_t d = (size_t)atoi(argv[2]), n = 0;
    const char *method = argc > 3 ? argv[3] : "ward";
    int repeats = argc > 4 ? atoi(argv[4]) : 3, threads = argc > 5 ? atoi(argv[5]) : 2;
    int32_t mi = 0;
    while (mi < 4 && strcmp(METHODS[mi], method) != 0)
        mi++;
    if (d < 1 || d > 4096 || mi == 4 || repeats < 1 || repeats > 64)
        bench_fail("bench_hclust", "bad arguments");
    double *x = bench_read_f64("bench_hclust", argv[1], d, &n);
    persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;
    o.method = mi;
    o.threads = (uint32_t)threads;
    double times[64], *z = malloc(4 * n * sizeof *z);
    for (int r = 0; r < repeats; r++) {
        persona_hclust *m = NULL;
        double t0 = bench_now();
        if (persona_hclust_fit(&m, x, n, d, &o))
            bench_fail("bench_hclust", "fit");
        times[r] = bench_now() - t0;
        if (persona_hclust_linkage(z, 4 * (n - 1), m))
            bench_fail("bench_hclust", "linkage");
        persona_hclust_free(m);
    }
    double sum = 0, top = 0;
    for (size_t r = 0; r + 1 < n; r++) {
        sum += z[4 * r + 2];
        top = z[4 * r + 2] > top ? z[4 * r + 2] : top;
    }
    printf("{\"bench\": \"hclust\", \"method\": \"%s\", \"n\": %zu, \"d\": %zu, \"threads\": %d, "
           "\"median_s\": %.4f, \"height_sum\": %.17g, \"height_max\": %.17g}\n",
           method, n, d, threads, bench_median(times, (size_t)repeats), sum, top);
    free(x);
    free(z);
    return 0;
}
