#include "exactsum.h"

#include <math.h>
#include <string.h>

#define LIMBS PERSONA__EXACTSUM_LIMBS
#define TOP (LIMBS - 1)
#define LOW32 0xFFFFFFFFu
#define FRAC_MASK ((((uint64_t)1) << 52) - 1)
/* An add moves each limb by less than 2^32, so below the top limb |limb| < (pending + 1)
 * 2^32; carrying every 2^30 adds keeps that inside int64. */
#define MAX_PENDING (UINT32_C(1) << 30)
/* The top limb (weight 2^1006) is clamped here when carried into: a sum that large is
 * +-inf anyway, and the bound leaves room for 2^30 adds (< 2^20 each) and one merge. */
#define TOP_LIMIT (INT64_C(1) << 61)
/* Snapshot words: the limbs under the top packed two to a word, the top limb, the two
 * infinity counts. */
#define PACKED ((TOP + 1) / 2)
#define WORDS (PACKED + 3)

void persona__exactsum_init(persona__exactsum *a)
{
    memset(a, 0, sizeof *a);
}

/* Leaves every limb under the top in [0, 2^32): the floor division is spelled out rather
 * than left to >> of a negative value. */
static void carry(int64_t *limb)
{
    for (int i = 0; i < TOP; i++) {
        int64_t low = limb[i] & LOW32;
        limb[i + 1] += (limb[i] - low) / (INT64_C(1) << 32);
        limb[i] = low;
    }
}

static void normalize(persona__exactsum *a)
{
    carry(a->limb);
    if (a->limb[TOP] > TOP_LIMIT)
        a->limb[TOP] = TOP_LIMIT;
    else if (a->limb[TOP] < -TOP_LIMIT)
        a->limb[TOP] = -TOP_LIMIT;
    a->pending = 0;
}

/* Two's complement reading of a word, spelled out: the plain conversion is
 * implementation-defined above INT64_MAX. */
static int64_t to_signed(uint64_t u)
{
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)~u - 1;
}

static void accumulate(persona__exactsum *a, double v, uint64_t negate)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t m = bits & FRAC_MASK;
    unsigned e = (unsigned)(bits >> 52) & 0x7FF;
    if (e == 0x7FF) {
        if (!m) /* NaN is an absent value */
            *(bits >> 63 ? &a->neg_inf : &a->pos_inf) += negate ? UINT64_MAX : 1;
        return;
    }
    /* Normals carry the hidden bit and sit one place lower than their biased exponent
     * says, which puts subnormals and the smallest normals on the same 2^-1074 grid. */
    if (e) {
        m |= FRAC_MASK + 1;
        e--;
    }
    /* m << s has up to 84 bits: take its three 32-bit pieces without a wider type. */
    unsigned s = e & 31;
    int64_t flip = -(int64_t)((bits >> 63) ^ negate);
    int64_t p0 = (int64_t)((m << s) & LOW32), p1 = (int64_t)((m << s) >> 32),
            p2 = (int64_t)((m >> 32) >> (32 - s));
    int64_t *l = a->limb + (e >> 5);
    l[0] += (p0 ^ flip) - flip;
    l[1] += (p1 ^ flip) - flip;
    l[2] += (p2 ^ flip) - flip;
    if (++a->pending >= MAX_PENDING)
        normalize(a);
}

void persona__exactsum_add(persona__exactsum *a, double v)
{
    accumulate(a, v, 0);
}

void persona__exactsum_sub(persona__exactsum *a, double v)
{
    accumulate(a, v, 1);
}

static void combine(persona__exactsum *a, const persona__exactsum *b, int64_t sign)
{
    persona__exactsum t = *b; /* b may be a */
    normalize(&t);
    normalize(a);
    for (int i = 0; i < LIMBS; i++)
        a->limb[i] += sign * t.limb[i];
    uint64_t usign = (uint64_t)sign;
    a->pos_inf += usign * t.pos_inf;
    a->neg_inf += usign * t.neg_inf;
    a->pending = 1;
}

void persona__exactsum_merge(persona__exactsum *a, const persona__exactsum *b)
{
    combine(a, b, 1);
}

void persona__exactsum_unmerge(persona__exactsum *a, const persona__exactsum *b)
{
    combine(a, b, -1);
}

static int top_bit(uint32_t x)
{
    int n = 0;
    while (x >>= 1)
        n++;
    return n;
}

/* The 64 bits of d from bit lo up, and whether any bit below lo is set. */
static uint64_t window(const uint32_t *d, int lo, int *sticky)
{
    int k = lo >> 5, s = lo & 31;
    uint64_t w = ((uint64_t)d[k + 1] << 32 | d[k]) >> s;
    if (s)
        w |= (uint64_t)d[k + 2] << (64 - s);
    *sticky = (d[k] & ((UINT32_C(1) << s) - 1)) != 0;
    for (int i = 0; i < k && !*sticky; i++)
        *sticky = d[i] != 0;
    return w;
}

/* Bits of the double nearest to the magnitude held in d (a multiple of 2^-1074), ties to
 * even: the integer's top 53 bits, rounded on the rest. */
static uint64_t round_magnitude(const uint32_t *d, int ndigits)
{
    int j = ndigits - 1;
    while (j >= 0 && !d[j])
        j--;
    if (j < 0)
        return 0;
    int h = 32 * j + top_bit(d[j]);
    int sticky = 0;
    uint64_t w = h < 64 ? ((uint64_t)d[1] << 32 | d[0]) << (63 - h) : window(d, h - 63, &sticky);
    uint64_t mant = w >> 11, rest = w & 0x7FF;
    if (rest > 0x400 || (rest == 0x400 && (sticky || (mant & 1)))) {
        if (++mant >> 53) {
            mant >>= 1;
            h++;
        }
    }
    if (h < 52) /* subnormal: the integer is the encoding, and nothing was cut off */
        return mant >> (52 - h);
    if (h - 51 >= 0x7FF)
        return (uint64_t)0x7FF << 52; /* beyond DBL_MAX after rounding: inf, as IEEE */
    return (uint64_t)(h - 51) << 52 | (mant & FRAC_MASK);
}

static double finite_value(const persona__exactsum *a)
{
    int64_t limb[LIMBS];
    memcpy(limb, a->limb, sizeof limb);
    carry(limb);
    uint64_t sign = 0;
    if (limb[TOP] < 0) {
        for (int i = 0; i < LIMBS; i++)
            limb[i] = -limb[i];
        carry(limb);
        sign = (uint64_t)1 << 63;
    }
    /* The top limb may exceed 32 bits; two spare zero digits let window() read past it. */
    uint32_t d[LIMBS + 2];
    for (int i = 0; i < LIMBS; i++)
        d[i] = (uint32_t)((uint64_t)limb[i] & LOW32);
    d[LIMBS] = (uint32_t)((uint64_t)limb[TOP] >> 32);
    d[LIMBS + 1] = 0;
    uint64_t bits = round_magnitude(d, LIMBS + 1) | sign;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

double persona__exactsum_value(const persona__exactsum *a)
{
    int plus = to_signed(a->pos_inf) > 0 || to_signed(a->neg_inf) < 0;
    int minus = to_signed(a->neg_inf) > 0 || to_signed(a->pos_inf) < 0;
    if (plus && minus)
        return NAN;
    if (plus || minus)
        return plus ? INFINITY : -INFINITY;
    return finite_value(a);
}

int persona__exactsum_is_zero(const persona__exactsum *a)
{
    if (a->pos_inf || a->neg_inf)
        return 0;
    int64_t limb[LIMBS];
    memcpy(limb, a->limb, sizeof limb);
    carry(limb);
    for (int i = 0; i < LIMBS; i++)
        if (limb[i])
            return 0;
    return 1;
}

size_t persona__exactsum_words(const persona__exactsum *a)
{
    return WORDS;
}

void persona__exactsum_put(const persona__exactsum *a, uint64_t *words)
{
    persona__exactsum t = *a;
    normalize(&t);
    for (int w = 0; w < PACKED; w++) {
        uint64_t hi = 2 * w + 1 < TOP ? (uint64_t)t.limb[2 * w + 1] : 0;
        words[w] = hi << 32 | (uint64_t)t.limb[2 * w];
    }
    words[PACKED] = (uint64_t)t.limb[TOP];
    words[PACKED + 1] = t.pos_inf;
    words[PACKED + 2] = t.neg_inf;
}

int persona__exactsum_get(persona__exactsum *a, const uint64_t *words, size_t n)
{
    persona__exactsum_init(a);
    if (!words || n != WORDS)
        return -1;
    /* Canonical means carried: the half word past the last packed limb is empty and the
     * top limb is within the clamp normalize() applies. */
    int64_t top = to_signed(words[PACKED]);
    if ((TOP % 2 && words[PACKED - 1] >> 32) || top > TOP_LIMIT || top < -TOP_LIMIT)
        return -1;
    for (int i = 0; i < TOP; i++)
        a->limb[i] = (int64_t)(words[i / 2] >> (i % 2 * 32) & LOW32);
    a->limb[TOP] = top;
    a->pos_inf = words[PACKED + 1];
    a->neg_inf = words[PACKED + 2];
    return 0;
}
