/* What the benchmark programs share: a monotonic clock, the median of repeats, and one
 * seeded generator so that runs make the same data. */
#ifndef PERSONA_BENCH_UTIL_H
#define PERSONA_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

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

#endif
