/* The fixed-point cluster sums of k-means (lib/cluster/kmeans_fx.h): the same bits in any
 * order and when kept up to date by adding and removing terms; within a double's rounding
 * of the exact sum (lib/core/exactsum, Python's math.fsum) for mixed signs and magnitudes
 * from 1e-300 to 1e300; the exact sum rounded once when no term loses bits; exact for small
 * integers; zero for nothing.
 *
 * usage: test_kmeans_fx */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cluster/kmeans_fx.h"
#include "core/exactsum.h"
#include "core/rng.h"

enum { N = 5000 };

static double sum_fx(const double *v, const size_t *order, size_t n, const km_fx_scale *sc)
{
    km_fx s = { 0, 0, 0 };
    for (size_t i = 0; i < n; i++)
        persona__km_fx_add(&s, persona__km_fx_of(v[order ? order[i] : i], sc));
    return persona__km_fx_value(s, sc);
}

static void test_magnitudes(void)
{
    persona__rng rng;
    persona__rng_seed(&rng, 21);
    static const double scales[] = { 1e-300, 1e-10, 1, 3.5e7, 1e300 };
    double v[N];
    size_t order[N];
    for (size_t si = 0; si < sizeof scales / sizeof *scales; si++) {
        double most = 0;
        persona__exactsum exact;
        persona__exactsum_init(&exact);
        for (size_t i = 0; i < N; i++) {
            /* mixed signs, magnitudes spread over six decades below the scale */
            v[i] = (persona__rng_uniform(&rng) * 2 - 1) * scales[si] *
                   pow(10, -6 * persona__rng_uniform(&rng));
            most = fabs(v[i]) > most ? fabs(v[i]) : most;
            persona__exactsum_add(&exact, v[i]);
            order[i] = N - 1 - i;
        }
        km_fx_scale sc = persona__km_fx_scale(most, N);
        double a = sum_fx(v, NULL, N, &sc), b = sum_fx(v, order, N, &sc);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
        double want = persona__exactsum_value(&exact);
        /* the truncation loses < N 2^-(96 - 13) most; the result rounds once */
        CHECK_NEAR(a, want, 4e-16 * fabs(want) + N * ldexp(most, -83));
        /* kept up to date: add everything, remove the second half, add it back in pieces */
        km_fx s = { 0, 0, 0 };
        for (size_t i = 0; i < N; i++)
            persona__km_fx_add(&s, persona__km_fx_of(v[i], &sc));
        for (size_t i = N / 2; i < N; i++)
            persona__km_fx_sub(&s, persona__km_fx_of(v[i], &sc));
        for (size_t i = N; i-- > N / 2;)
            persona__km_fx_add(&s, persona__km_fx_of(v[i], &sc));
        double c = persona__km_fx_value(s, &sc);
        CHECK(memcmp(&a, &c, sizeof a) == 0);
    }
}

static void test_exact_cases(void)
{
    km_fx_scale sc = persona__km_fx_scale(1000, 4);
    km_fx s = { 0, 0, 0 };
    CHECK(persona__km_fx_value(s, &sc) == 0);
    static const double v[] = { 1000, -999.5, 0.25, -0.75 };
    for (int i = 0; i < 4; i++)
        persona__km_fx_add(&s, persona__km_fx_of(v[i], &sc));
    CHECK(persona__km_fx_value(s, &sc) == 0);
    persona__km_fx_add(&s, persona__km_fx_of(-1000, &sc));
    CHECK(persona__km_fx_value(s, &sc) == -1000);
    km_fx_scale zero = persona__km_fx_scale(0, 10);
    km_fx z = persona__km_fx_of(0, &zero);
    CHECK(persona__km_fx_value(z, &zero) == 0);
    /* the largest magnitude for many points stays exact when alone */
    km_fx_scale big = persona__km_fx_scale(DBL_MAX, (size_t)1 << 30);
    km_fx m = persona__km_fx_of(-DBL_MAX, &big);
    CHECK(persona__km_fx_value(m, &big) == -DBL_MAX);
}

/* Terms of at most 53 bits that the scale keeps whole (dyadic, all of one sign so the limbs
 * grow past 2^53 and must be carried): the value is the exact sum rounded once, the bits of
 * exactsum's. */
static void test_one_rounding(void)
{
    persona__rng rng;
    persona__rng_seed(&rng, 5);
    for (int trial = 0; trial < 20; trial++) {
        size_t n = 1000 + persona__rng_below(&rng, 100000);
        km_fx_scale sc = persona__km_fx_scale(0x1p40, n);
        km_fx s = { 0, 0, 0 };
        persona__exactsum exact;
        persona__exactsum_init(&exact);
        for (size_t i = 0; i < n; i++) {
            double v = ldexp((double)(persona__rng_next(&rng) >> 11), -13); /* < 2^40 */
            persona__km_fx_add(&s, persona__km_fx_of(v, &sc));
            persona__exactsum_add(&exact, v);
        }
        double got = persona__km_fx_value(s, &sc), want = persona__exactsum_value(&exact);
        CHECK(memcmp(&got, &want, sizeof got) == 0);
    }
}

/* Limbs far outside their 24 bits (as sums of more than 2^29 terms make them), the value
 * rounded once: each expected double is the exact integer l2 2^48 + l1 2^24 + l0 rounded
 * to nearest by Python's float(int); adding the three limbs as doubles rounds twice and
 * misses all three. */
static void test_carries(void)
{
    static const struct {
        int64_t l2, l1, l0;
        double want;
    } cases[] = {
        { -43481, 176487435157, INT64_C(-1145135278483113088), -0x1.214bbbd8c1821p+63 },
        { 38109, 243473921284, INT64_C(1952163347267713836), 0x1.d1494edb5adbfp+63 },
        { -104598, 267632232180, INT64_C(4221110912479390162), -0x1.1fb17a365c241p+64 },
    };
    km_fx_scale unit = { 1, 1, 1, 1 };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        km_fx v = { cases[c].l2, cases[c].l1, cases[c].l0 };
        CHECK(persona__km_fx_value(v, &unit) == cases[c].want);
    }
}

int main(void)
{
    test_one_rounding();
    test_carries();
    test_magnitudes();
    test_exact_cases();
    return check_report("test_kmeans_fx");
}
