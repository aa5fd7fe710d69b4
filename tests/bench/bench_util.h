/* What the benchmark programs share: a monotonic clock, the median of repeats, one seeded
 * generator so that runs make the same data, and the store a benchmark runs on. */
#ifndef PERSONA_BENCH_UTIL_H
#define PERSONA_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "persona.h"

/* splitmix64, seeded 42: the next pseudo-random 64 bits / a double in [0, 1). */
static uint64_t bench_rng = 42;
static inline uint64_t bench_next_u64(void)
{
    uint64_t z = (bench_rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline double bench_next_unit(void)
{
    return (double)(bench_next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n timings (sorts them). */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* "<prog>: <what>: <the library's message>" on stderr, then exit(1). */
static inline void bench_fail(const char *prog, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, persona_errmsg());
    exit(1);
}

/* The points of a .f64 file (n × d doubles, little-endian, row-major, as shared/bench's
 * gen/blobs.py writes them); *n receives n. A failure ends the program. */
static inline double *bench_read_f64(const char *prog, const char *path, size_t d, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        bench_fail(prog, path);
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    *n = (size_t)bytes / sizeof(double) / d;
    double *x = malloc(*n * d * sizeof *x + 1);
    if (!x || fread(x, sizeof *x, *n * d, f) != *n * d)
        bench_fail(prog, "read points");
    fclose(f);
    return x;
}

/* The store to measure on: opened from a store snapshot when the path ends in .snap, else
 * loaded from a CSV of events (user_id, timestamp, event, value). *load_s receives the
 * seconds it took; a failure ends the program (bench_fail). */
static inline persona_store *bench_load_store(const char *prog, const char *path, double *load_s)
{
    persona_store *store = NULL;
    double t0 = bench_now();
    size_t len = strlen(path);
    if (len > 5 && strcmp(path + len - 5, ".snap") == 0) {
        if (persona_store_open(&store, path))
            bench_fail(prog, "open");
    } else {
        persona_source *src = NULL;
        if (persona_store_new(&store, NULL) || persona_source_open_csv(&src, path, NULL, NULL))
            bench_fail(prog, "setup");
        if (persona_store_load(NULL, store, src, NULL))
            bench_fail(prog, "load");
        persona_source_free(src);
    }
    *load_s = bench_now() - t0;
    return store;
}

#endif
