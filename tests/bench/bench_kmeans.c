/* k-means speed: persona_kmeans_fit on points already in memory (a .f64 file of n × d
 * doubles, shared/bench's blobs) from the given initial centres (CSV with a header row),
 * as the scikit-learn anchor times KMeans.fit. Prints one JSON line: median seconds of
 * REPEATS fits, seconds per iteration, iterations, inertia; and ns per persona_kmeans_predict
 * of one point (the "assign a new point": k = 8, d = 8 here), over the first 100,000
 * points called one at a time.
 * usage: bench_kmeans POINTS.f64 D INIT.csv [REPEATS] [THREADS] [ALGORITHM] [BATCH_SIZE]
 * ALGORITHM: auto, lloyd, hamerly, elkan, minibatch or its PERSONA_KMEANS_* number (0 … 4);
 * BATCH_SIZE: mini-batch points per step (0 = the default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

static void fail(const char *what)
{
    bench_fail("bench_kmeans", what);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        fail("usage: bench_kmeans POINTS.f64 D INIT.csv [REPEATS] [THREADS] [ALGORITHM] [BATCH_SIZE]");
    size_t d = (size_t)atoi(argv[2]);
    int repeats = argc > 4 ? atoi(argv[4]) : 3, threads = argc > 5 ? atoi(argv[5]) : 2;
    static const char *const names[] = { "auto", "lloyd", "hamerly", "elkan", "minibatch" };
    int algorithm = PERSONA_KMEANS_AUTO;
    if (argc > 6) {
        algorithm = -1;
        for (int a = 0; a < 5; a++)
            if (strcmp(argv[6], names[a]) == 0 || (argv[6][0] == '0' + a && !argv[6][1]))
                algorithm = a;
        if (algorithm < 0)
            fail("ALGORITHM: auto, lloyd, hamerly, elkan, minibatch or 0 … 4");
    }
    uint32_t batch_size = argc > 7 ? (uint32_t)strtoul(argv[7], NULL, 10) : 0;
    if (d < 1 || d > 4096 || repeats < 1 || repeats > 64)
        fail("bad arguments");
    size_t n = 0;
    double *x = bench_read_f64("bench_kmeans", argv[1], d, &n);
    FILE *f = fopen(argv[3], "r");
    if (!f)
        fail(argv[3]);
    char line[65536];
    size_t k = 0, cap = 64;
    double *init = malloc(cap * d * sizeof *init);
    if (!fgets(line, sizeof line, f)) /* header */
        fail("init header");
    while (fgets(line, sizeof line, f)) {
        if (k == cap)
            init = realloc(init, (cap *= 2) * d * sizeof *init);
        char *p = line;
        for (size_t j = 0; j < d; j++) {
            init[k * d + j] = strtod(p, &p);
            if (*p == ',')
                p++;
        }
        k++;
    }
    fclose(f);
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    o.k = (uint32_t)k;
    o.init_centers = init;
    o.threads = (uint32_t)threads;
    o.algorithm = algorithm;
    o.batch_size = batch_size;
    double times[64];
    persona_kmeans_info info = PERSONA_KMEANS_INFO_INIT;
    persona_kmeans *last = NULL;
    for (int r = 0; r < repeats; r++) {
        persona_kmeans *m = NULL;
        double t0 = bench_now();
        if (persona_kmeans_fit(&m, x, n, d, &o, NULL))
            fail("fit");
        times[r] = bench_now() - t0;
        if (persona_kmeans_info_get(&info, m))
            fail("info");
        if (r + 1 < repeats)
            persona_kmeans_free(m);
        else
            last = m;
    }
    double med = bench_median(times, (size_t)repeats);
    size_t n_pred = n < 100000 ? n : 100000;
    uint32_t label;
    unsigned long long label_sum = 0;
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_now();
        for (size_t i = 0; i < n_pred; i++) {
            if (persona_kmeans_predict(&label, NULL, last, x + i * d, 1, d))
                fail("predict");
            label_sum += label;
        }
        times[r] = (bench_now() - t0) / (double)n_pred;
    }
    double predict_ns = bench_median(times, (size_t)repeats) * 1e9;
    persona_kmeans_free(last);
    printf("{\"bench\": \"kmeans\", \"n\": %zu, \"d\": %zu, \"k\": %zu, \"threads\": %d, "
           "\"algorithm\": %d, \"median_s\": %.4f, \"s_per_iter\": %.6f, \"iterations\": %u, "
           "\"inertia\": %.17g, \"predict_ns\": %.1f, \"label_sum\": %llu}\n",
           n, d, k, threads, algorithm, med, med / info.iterations, info.iterations, info.inertia,
           predict_ns, label_sum);
    free(x);
    free(init);
    return 0;
}
