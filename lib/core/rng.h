/* splitmix64 (to spread a seed into keys), one source of fresh randomness for per-store
 * hash keys, and the seeded stream builders draw from (xoshiro256**: the same seed gives
 * the same numbers on every machine). */
#ifndef PERSONA_CORE_RNG_H
#define PERSONA_CORE_RNG_H

#include <stdint.h>

uint64_t persona__splitmix64(uint64_t *state);
/* Fresh non-zero randomness from /dev/urandom, or from time and addresses without it. */
uint64_t persona__random_seed(void);

/* A seeded stream. */
typedef struct persona__rng {
    uint64_t s[4];
} persona__rng;
void persona__rng_seed(persona__rng *r, uint64_t seed);
uint64_t persona__rng_next(persona__rng *r);
/* Uniform in [0, 1): 53 random bits. */
double persona__rng_uniform(persona__rng *r);
/* Uniform in 0 … n-1 (n >= 1), without modulo bias. */
uint64_t persona__rng_below(persona__rng *r, uint64_t n);

#endif
