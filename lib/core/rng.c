#include "rng.h"

#include <stdatomic.h>
#include <stdio.h>
#include <threads.h>
#include <time.h>

uint64_t persona__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void persona__rng_seed(persona__rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = persona__splitmix64(&seed); /* never all zero: splitmix64 is a bijection */
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t persona__rng_next(persona__rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double persona__rng_uniform(persona__rng *r)
{
    return (double)(persona__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t persona__rng_below(persona__rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* values below it are unbiased mod n */
    uint64_t v;
    do
        v = persona__rng_next(r);
    while (v >= limit);
    return v % n;
}

/* Read the OS's randomness once per process (call_once); every call then derives a fresh
 * value from it and a counter, so creating many stores costs no system calls while their
 * keys stay distinct and unpredictable. */
static once_flag seed_once = ONCE_FLAG_INIT;
static uint64_t seed_base;
static atomic_uint_fast64_t seed_counter;

static void read_os_seed(void)
{
    uint64_t seed = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&seed, sizeof seed, 1, f) != 1)
            seed = 0;
        fclose(f);
    }
    if (seed == 0) {
        struct timespec ts;
        timespec_get(&ts, TIME_UTC);
        uint64_t s = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        s ^= (uint64_t)(uintptr_t)&seed;
        seed = persona__splitmix64(&s);
    }
    seed_base = seed;
}

uint64_t persona__random_seed(void)
{
    call_once(&seed_once, read_os_seed);
    uint64_t s = seed_base ^ (uint64_t)atomic_fetch_add(&seed_counter, 1) * 0xD1B54A32D192ED03ULL;
    uint64_t seed = persona__splitmix64(&s);
    return seed ? seed : 0x5eed;
}
