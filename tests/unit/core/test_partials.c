/* lib/core/partials.c: hand cases from Python's math.fsum (its own test suite's half-way
 * cases), then random multisets — values of one scale, of wildly different scales, with
 * cancellation — added in a random order with some taken away again, read after every
 * step and compared bit for bit with exactsum.h (a different exact method) over the same
 * multiset. A capacity too small or an overflow must say so. PARTIALS_SEED repeats a run. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/exactsum.h"
#include "core/partials.h"

#define CAP 64

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static double fsum(const double *v, size_t n)
{
    double p[CAP];
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        CHECK(persona__partials_add(p, &k, CAP, v[i]) == 0);
    return persona__partials_value(p, k);
}

static void hand_cases(void)
{
    double tenth[10];
    for (int i = 0; i < 10; i++)
        tenth[i] = 0.1;
    CHECK(same_bits(fsum(tenth, 10), 1.0));
    double big[] = { 1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50 };
    CHECK(same_bits(fsum(big, 7), 0x1.bff2ee48e0530p-333));
    double tie1[] = { 0x1p53, -0.5, -0x1p-54 };
    CHECK(same_bits(fsum(tie1, 3), 0x1p53 - 1.0));
    double tie2[] = { 0x1p53, 1.0, 0x1p-100 };
    CHECK(same_bits(fsum(tie2, 3), 0x1p53 + 2.0));
    double tie3[] = { 0x1p53 + 10.0, 1.0, 0x1p-100 };
    CHECK(same_bits(fsum(tie3, 3), 0x1p53 + 12.0));
    double tie4[] = { 0x1p53 - 4.0, 0.5, 0x1p-54 };
    CHECK(same_bits(fsum(tie4, 3), 0x1p53 - 3.0));
    double cancel[] = { -2.5, 2.5 };
    CHECK(same_bits(fsum(cancel, 2), 0.0)); /* +0, not -0 */
    double negzero[] = { -0.0 };
    CHECK(same_bits(fsum(negzero, 1), 0.0));
    CHECK(same_bits(persona__partials_value(NULL, 0), 0.0));
    /* no room, and overflow */
    double p[2];
    uint32_t k = 0;
    CHECK(persona__partials_add(p, &k, 2, 1.0) == 0);
    CHECK(persona__partials_add(p, &k, 2, 0x1p-80) == 0);
    CHECK(k == 2);
    CHECK(persona__partials_add(p, &k, 2, 0x1p-200) == -1);
    k = 0;
    CHECK(persona__partials_add(p, &k, 2, DBL_MAX) == 0);
    CHECK(persona__partials_add(p, &k, 2, DBL_MAX) == -1);
}

static uint64_t rng;
static uint64_t next_u64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double random_value(int scale)
{
    double m = (double)(next_u64() >> 11) * 0x1p-53; /* [0, 1) with 53 bits */
    int e;
    switch (scale) {
    case 0: /* money: cents */
        return (double)(int64_t)(next_u64() % 200000 - 100000) / 100.0;
    case 1: /* one scale */
        e = (int)(next_u64() % 8);
        break;
    case 2: /* wide */
        e = (int)(next_u64() % 400) - 200;
        break;
    default: /* extreme, tiny and huge */
        e = (int)(next_u64() % 2000) - 1070;
    }
    double v = ldexp(m, e);
    return next_u64() & 1 ? -v : v;
}

/* Multisets of up to 40 values: add and take away in a random order, compare after each
 * step. */
static void random_cases(int rounds)
{
    for (int r = 0; r < rounds; r++) {
        int scale = r % 4;
        double held[40];
        size_t n_held = 0;
        double p[CAP];
        uint32_t k = 0;
        persona__exactsum ref;
        persona__exactsum_init(&ref);
        for (int step = 0; step < 120; step++) {
            if (n_held && (n_held == 40 || next_u64() % 3 == 0)) {
                size_t i = next_u64() % n_held;
                double v = held[i];
                held[i] = held[--n_held];
                CHECK(persona__partials_add(p, &k, CAP, -v) == 0);
                persona__exactsum_sub(&ref, v);
            } else {
                double v = random_value(scale);
                if (next_u64() % 8 == 0 && n_held)
                    v = -held[next_u64() % n_held]; /* exact cancellation */
                held[n_held++] = v;
                CHECK(persona__partials_add(p, &k, CAP, v) == 0);
                persona__exactsum_add(&ref, v);
            }
            double got = persona__partials_value(p, k), want = persona__exactsum_value(&ref);
            if (!same_bits(got, want)) {
                fprintf(stderr, "round %d step %d (scale %d): %a, exactsum %a\n", r, step, scale,
                        got, want);
                CHECK(same_bits(got, want));
                return;
            }
            CHECK(k <= 40);
        }
    }
}

int main(void)
{
    const char *seed = getenv("PARTIALS_SEED");
    rng = seed ? strtoull(seed, NULL, 10) : 20261125;
    fprintf(stderr, "test_partials: PARTIALS_SEED=%" PRIu64 "\n", rng);
    hand_cases();
    random_cases(2000);
    return check_report("partials");
}
