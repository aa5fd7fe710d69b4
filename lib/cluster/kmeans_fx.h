/* Cluster sums in 128-bit fixed point. Each coordinate is scaled by a power of two chosen
 * per dimension so that the sum of all n points cannot overflow, then truncated to an
 * integer; integer addition is associative, so a sum does not depend on the order of its
 * terms: the sums recomputed from scratch and the sums kept up to date by moving only the
 * points whose label changed are the same bits, at any thread count and for every
 * algorithm. The truncation loses less than 2^-(125 - log2 n) of the dimension's largest
 * magnitude per term. */
#ifndef PERSONA_CLUSTER_KMEANS_FX_H
#define PERSONA_CLUSTER_KMEANS_FX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Two's complement, hi the upper 64 bits. */
typedef struct km_fx {
    uint64_t lo, hi;
} km_fx;

/* A dimension's scale 2^s as two factors (each a finite double) and its inverse. */
typedef struct km_fx_scale {
    double up1, up2, down1, down2;
} km_fx_scale;

/* The scale of a dimension whose largest magnitude is `most`, for n points. */
static inline km_fx_scale persona__km_fx_scale(double most, size_t n)
{
    int e = 0, bits = 1;
    if (most > 0)
        frexp(most, &e); /* most < 2^e */
    while (bits < 64 && ((uint64_t)1 << bits) <= (uint64_t)n)
        bits++;
    int s = 125 - bits - e; /* |x| 2^s < 2^(125 - bits), n of them below 2^125 */
    int s1 = s > 1000 ? 1000 : s < -1000 ? -1000 : s, s2 = s - s1;
    km_fx_scale sc = { ldexp(1, s1), ldexp(1, s2), ldexp(1, -s1), ldexp(1, -s2) };
    return sc;
}

static inline km_fx persona__km_fx_of(double x, const km_fx_scale *sc)
{
    double v = x * sc->up1 * sc->up2, a = fabs(v);
    /* a < 2^125: hi = floor(a / 2^64) has at most 53 significant bits, and a - hi 2^64 is
     * exact (Sterbenz), below 2^64 */
    uint64_t hi = (uint64_t)(a * 0x1p-64);
    double rem = a - (double)hi * 0x1p64;
    km_fx r = { (uint64_t)rem, hi };
    if (v < 0) {
        r.lo = ~r.lo + 1;
        r.hi = ~r.hi + (r.lo == 0);
    }
    return r;
}

static inline void persona__km_fx_add(km_fx *a, km_fx b)
{
    uint64_t lo = a->lo + b.lo;
    a->hi += b.hi + (lo < b.lo);
    a->lo = lo;
}

static inline void persona__km_fx_sub(km_fx *a, km_fx b)
{
    uint64_t lo = a->lo - b.lo;
    a->hi -= b.hi + (a->lo < b.lo);
    a->lo = lo;
}

/* The sum as a double in the coordinates' units. */
static inline double persona__km_fx_value(km_fx a, const km_fx_scale *sc)
{
    int negative = (a.hi >> 63) != 0;
    if (negative) {
        a.lo = ~a.lo + 1;
        a.hi = ~a.hi + (a.lo == 0);
    }
    double v = (double)a.hi * 0x1p64 + (double)a.lo;
    v = v * sc->down1 * sc->down2;
    return negative ? -v : v;
}

#endif
