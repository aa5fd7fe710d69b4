/* Cluster sums in fixed point. Each coordinate is scaled by a power of two chosen per
 * dimension so that no term reaches 2^(96 - log2 n), and truncated to an integer of that
 * scale held as three signed 24-bit-spaced limbs (units 2^48, 2^24 and 1, each below 2^48
 * or 2^24 in magnitude); a sum adds the limbs as 64-bit integers, without carries, which
 * cannot overflow below 2^39 points. Integer addition does not depend on order, so the
 * sums recomputed from scratch and the sums kept up to date by moving only the points whose
 * label changed are the same bits, at any thread count and for every algorithm. The
 * truncation loses less than 2^-(96 - log2 n) of the dimension's largest magnitude per
 * term, far below a double's rounding. Every step is a multiply by a power of two or a
 * conversion between double and int64, exact and branch-free. */
#ifndef PERSONA_CLUSTER_KMEANS_FX_H
#define PERSONA_CLUSTER_KMEANS_FX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct km_fx {
    int64_t l2, l1, l0; /* units 2^48, 2^24, 1 */
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
    while (bits < 63 && ((uint64_t)1 << bits) <= (uint64_t)n)
        bits++;
    int s = 96 - bits - e; /* |x| 2^s < 2^(96 - bits) */
    int s1 = s > 1000 ? 1000 : s < -1000 ? -1000 : s, s2 = s - s1;
    km_fx_scale sc = { ldexp(1, s1), ldexp(1, s2), ldexp(1, -s1), ldexp(1, -s2) };
    return sc;
}

static inline km_fx persona__km_fx_of(double x, const km_fx_scale *sc)
{
    double v = x * sc->up1 * sc->up2;
    /* truncation toward zero leaves a remainder of v's sign, exact (Sterbenz) */
    int64_t l2 = (int64_t)(v * 0x1p-48);
    double t = v - (double)l2 * 0x1p48;
    int64_t l1 = (int64_t)(t * 0x1p-24);
    int64_t l0 = (int64_t)(t - (double)l1 * 0x1p24);
    km_fx r = { l2, l1, l0 };
    return r;
}

static inline void persona__km_fx_add(km_fx *a, km_fx b)
{
    a->l2 += b.l2;
    a->l1 += b.l1;
    a->l0 += b.l0;
}

static inline void persona__km_fx_sub(km_fx *a, km_fx b)
{
    a->l2 -= b.l2;
    a->l1 -= b.l1;
    a->l0 -= b.l0;
}

/* v = q 2^24 + r with 0 <= r < 2^24 (floor division; C's / truncates). */
static inline int64_t persona__km_fx_carry(int64_t *v)
{
    int64_t r = *v % ((int64_t)1 << 24);
    if (r < 0)
        r += (int64_t)1 << 24;
    int64_t q = (*v - r) / ((int64_t)1 << 24);
    *v = r;
    return q;
}

/* The sum as a double in the coordinates' units: the limbs carried into one integer
 * l2 2^48 + (l1 2^24 + l0), both parts exact doubles, added with one rounding. */
static inline double persona__km_fx_value(km_fx a, const km_fx_scale *sc)
{
    a.l1 += persona__km_fx_carry(&a.l0);
    a.l2 += persona__km_fx_carry(&a.l1);
    double v = (double)a.l2 * 0x1p48 + ((double)a.l1 * 0x1p24 + (double)a.l0);
    return v * sc->down1 * sc->down2;
}

#endif
