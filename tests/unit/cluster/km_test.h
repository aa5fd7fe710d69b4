/* Shared by the k-means tests (include after check.h): a fixed xorshift stream (so every
 * run sees the same points), points around random blob centres, and a model's info. */
#ifndef PERSONA_TEST_KM_TEST_H
#define PERSONA_TEST_KM_TEST_H

#include <stdint.h>
#include <stdlib.h>

static uint64_t rng_state = 88172645463325252ULL;
static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

/* n points around `blobs` random centres in [-10, 10]^d, spread `spread`. */
static double *blobs(size_t n, size_t d, size_t n_blobs, double spread)
{
    double *c = malloc(n_blobs * d * sizeof *c), *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n_blobs * d; i++)
        c[i] = 20 * uniform() - 10;
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)(uniform() * (double)n_blobs);
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = c[b * d + j] + spread * (uniform() + uniform() + uniform() - 1.5);
    }
    free(c);
    return x;
}

static inline persona_kmeans_info info_of(const persona_kmeans *m)
{
    persona_kmeans_info in = PERSONA_KMEANS_INFO_INIT;
    CHECK_RC(persona_kmeans_info_get(&in, m), PERSONA_OK);
    return in;
}

#endif
