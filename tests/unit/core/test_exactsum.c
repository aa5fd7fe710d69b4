/* lib/core/exactsum.c against hand cases, Python's math.fsum, the hardware (a + b of two
 * doubles is their exact sum correctly rounded), and a reference accumulator written here
 * another way: a two's complement array of single bits, fed through frexp() and rounded
 * bit by bit into ldexp(), where the library uses 32-bit limbs and builds the encoding.
 * Random cases print their seed; rerun with EXACTSUM_SEED=<seed> to repeat one run. */
#include <float.h>
#include <inttypes.h>
#include <stdlib.h>

#include "check.h"
#include "core/exactsum.h"

typedef persona__exactsum acc;

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static int same_bits(double a, double b)
{
    return bits_of(a) == bits_of(b);
}

#define CHECK_BITS(got, want)                                                              \
    do {                                                                                   \
        double g_ = (got), w_ = (want);                                                    \
        check_count++;                                                                     \
        if (!same_bits(g_, w_)) {                                                          \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: %s = %a, want %a\n", __FILE__, __LINE__, #got, g_, w_); \
        }                                                                                  \
    } while (0)

static double sum_of(const double *v, size_t n)
{
    acc a;
    persona__exactsum_init(&a);
    for (size_t i = 0; i < n; i++)
        persona__exactsum_add(&a, v[i]);
    return persona__exactsum_value(&a);
}

#define SUM(...) sum_of((const double[]){ __VA_ARGS__ }, sizeof((double[]){ __VA_ARGS__ }) / sizeof(double))

/* ---- the reference: bit i of a two's complement integer has weight 2^(i - 1074) ---- */

#define RBITS 2240 /* 2098 bits of doubles, 2^14 values of headroom, and a sign */

typedef struct ref {
    unsigned char bit[RBITS];
} ref;

/* Adds or subtracts mant * 2^pos, letting the carry or borrow run as far as it must. */
static void ref_addsub(ref *r, uint64_t mant, int pos, int subtract)
{
    int carry = 0;
    for (int i = pos; i < RBITS; i++) {
        int b = i - pos < 64 ? (int)(mant >> (i - pos) & 1) : 0;
        if (i - pos >= 64 && !carry)
            break;
        int t = subtract ? r->bit[i] - b - carry : r->bit[i] + b + carry;
        r->bit[i] = (unsigned char)(t & 1);
        carry = subtract ? t < 0 : t > 1;
    }
}

static void ref_add(ref *r, double v, int negate)
{
    if (v == 0 || !isfinite(v))
        return;
    int ex;
    double f = frexp(fabs(v), &ex); /* |v| = f 2^ex, f in [0.5, 1) */
    uint64_t mant = (uint64_t)ldexp(f, 53);
    int pos = ex - 53 + 1074;
    for (; pos < 0; pos++)
        mant >>= 1; /* subnormals: frexp normalized away bits that were zero */
    ref_addsub(r, mant, pos, (v < 0) != negate);
}

static double ref_value(const ref *in)
{
    ref r = *in;
    int negative = r.bit[RBITS - 1];
    if (negative) { /* magnitude: invert and add one */
        for (int i = 0; i < RBITS; i++)
            r.bit[i] ^= 1;
        ref_addsub(&r, 1, 0, 0);
    }
    int h = RBITS - 1;
    while (h >= 0 && !r.bit[h])
        h--;
    if (h < 0)
        return 0.0;
    uint64_t mant = 0;
    for (int i = h; i > h - 53; i--)
        mant = mant << 1 | (uint64_t)(i >= 0 && r.bit[i]);
    int half = h - 53 >= 0 && r.bit[h - 53], sticky = 0;
    for (int i = 0; i < h - 53; i++)
        sticky |= r.bit[i];
    if (half && (sticky || (mant & 1)))
        mant++;
    double v = ldexp((double)mant, h - 52 - 1074);
    return negative ? -v : v;
}

/* ---- random values ---- */

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double make(uint64_t sign, unsigned biased_exp, uint64_t frac)
{
    return from_bits(sign << 63 | (uint64_t)biased_exp << 52 | (frac & ((1ull << 52) - 1)));
}

enum { K_ANY, K_WINDOW, K_MONEY, K_TINY, K_HUGE, K_KINDS };

/* A finite double of the given kind; `center` is the biased exponent K_WINDOW clusters
 * around, so their sums round and carry a lot. */
static double rand_double(uint64_t *s, int kind, unsigned center)
{
    uint64_t r = next(s), sign = r >> 63;
    switch (kind) {
    case K_ANY: return make(sign, (unsigned)(next(s) % 2047), r);
    case K_WINDOW: {
        int e = (int)center + (int)(next(s) % 121) - 60;
        return make(sign, (unsigned)(e < 0 ? 0 : e > 2046 ? 2046 : e), r);
    }
    case K_MONEY: return (sign ? -1.0 : 1.0) * (double)(next(s) % 100000000) / 100.0;
    case K_TINY: return make(sign, (unsigned)(next(s) % 40), r); /* subnormals and near */
    default: return make(sign, 2046 - (unsigned)(next(s) % 40), r);
    }
}

static void shuffle(double *v, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next(s) % i);
        double t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Values of mixed kinds; with `cancel`, most are followed somewhere by their negation,
 * some slightly perturbed, so the sum is far below the terms. */
static size_t rand_case(double *v, size_t n, uint64_t *s, int cancel)
{
    unsigned center = (unsigned)(next(s) % 2047);
    int kinds = (int)(next(s) % 31) + 1; /* which kinds this case mixes */
    size_t k = 0;
    while (k < n) {
        int kind = (int)(next(s) % K_KINDS);
        if (!(kinds >> kind & 1))
            continue;
        v[k++] = rand_double(s, kind, center);
        if (cancel && k < n && next(s) % 4) {
            uint64_t b = bits_of(-v[k - 1]);
            if (next(s) % 2 && (b & 0x7FF0000000000000ull) != 0x7FF0000000000000ull)
                b += (uint64_t)(next(s) % 5) - 2; /* a few ulps off */
            v[k++] = from_bits(b);
        }
    }
    if (cancel)
        shuffle(v, n, s);
    return n;
}

/* ---- tests ---- */

static void test_hand_cases(void)
{
    CHECK_BITS(SUM(1e100, 1.0, -1e100), 1.0);
    CHECK_BITS(SUM(0.1, 0.2, 0.3), 0x1.3333333333333p-1); /* math.fsum; naive gives ...4p-1 */
    CHECK_BITS(SUM(0.1, 0.2, -0.3), 0x1p-55);
    CHECK_BITS(SUM(1e308, 1e308, -1e308), 1e308); /* no intermediate overflow */
    CHECK_BITS(SUM(-7.0), -7.0);
    CHECK_BITS(SUM(3.0, -3.0, 2.5), 2.5);

    /* Subnormals: the smallest steps, into and out of the normal range. */
    double tiny = 0x1p-1074;
    CHECK_BITS(SUM(tiny), tiny);
    CHECK_BITS(SUM(tiny, tiny, tiny), 0x3p-1074);
    CHECK_BITS(SUM(DBL_MIN, -tiny), 0x0.fffffffffffffp-1022);
    CHECK_BITS(SUM(0x0.fffffffffffffp-1022, tiny), DBL_MIN);
    CHECK_BITS(SUM(-tiny, -tiny), -0x1p-1073);
    CHECK_BITS(SUM(1.0, tiny, -1.0), tiny);
    CHECK_BITS(SUM(DBL_MAX, tiny, -DBL_MAX), tiny);

    /* Overflow of the finite sum rounds as IEEE does: DBL_MAX plus half an ulp is a tie,
     * and DBL_MAX's odd mantissa makes it round up to inf. */
    CHECK_BITS(SUM(DBL_MAX, DBL_MAX), INFINITY);
    CHECK_BITS(SUM(-DBL_MAX, -DBL_MAX), -INFINITY);
    CHECK_BITS(SUM(DBL_MAX, 0x1p970), INFINITY);
    CHECK_BITS(SUM(DBL_MAX, 0x1p969), DBL_MAX);
    CHECK_BITS(SUM(DBL_MAX, 0x1p969, 0x1p969), INFINITY);
    CHECK_BITS(SUM(DBL_MAX, 0x1p970, -0x1p-1074), DBL_MAX);
    CHECK_BITS(SUM(DBL_MAX, DBL_MAX, -DBL_MAX), DBL_MAX);

    /* Zeros: an exact zero is +0.0 whatever was added. */
    CHECK_BITS(SUM(0.0), 0.0);
    CHECK_BITS(SUM(-0.0), 0.0);
    CHECK_BITS(SUM(-0.0, -0.0), 0.0);
    CHECK_BITS(SUM(-1.5, 1.5), 0.0);
    CHECK_BITS(SUM(-1.5, -0.0), -1.5);
    acc a;
    persona__exactsum_init(&a);
    CHECK_BITS(persona__exactsum_value(&a), 0.0);
    CHECK(persona__exactsum_is_zero(&a));
    persona__exactsum_add(&a, -0.0);
    CHECK(persona__exactsum_is_zero(&a));
    persona__exactsum_add(&a, tiny);
    CHECK(!persona__exactsum_is_zero(&a));
    persona__exactsum_sub(&a, tiny);
    CHECK(persona__exactsum_is_zero(&a));

    /* NaN is absent; infinities win over any finite part, both signs give NaN. */
    CHECK_BITS(SUM(NAN), 0.0);
    CHECK_BITS(SUM(1.0, NAN, 2.0, -NAN), 3.0);
    CHECK_BITS(SUM(INFINITY, 1.0), INFINITY);
    CHECK_BITS(SUM(-INFINITY, DBL_MAX, DBL_MAX), -INFINITY);
    CHECK_BITS(SUM(INFINITY, INFINITY, NAN), INFINITY);
    CHECK(isnan(SUM(INFINITY, -INFINITY)));
    CHECK(isnan(SUM(1.0, -INFINITY, 2.0, INFINITY)));
    persona__exactsum_init(&a);
    persona__exactsum_add(&a, NAN);
    CHECK(persona__exactsum_is_zero(&a));
    persona__exactsum_add(&a, INFINITY);
    CHECK(!persona__exactsum_is_zero(&a));
    persona__exactsum_add(&a, 5.0);
    CHECK_BITS(persona__exactsum_value(&a), INFINITY);
    persona__exactsum_add(&a, -INFINITY);
    CHECK(isnan(persona__exactsum_value(&a)));
    persona__exactsum_sub(&a, INFINITY);
    CHECK_BITS(persona__exactsum_value(&a), -INFINITY);
    persona__exactsum_sub(&a, -INFINITY);
    CHECK_BITS(persona__exactsum_value(&a), 5.0);
    persona__exactsum_sub(&a, 5.0);
    CHECK(persona__exactsum_is_zero(&a));
    /* Taking out an infinity that was never added is adding the opposite one. */
    persona__exactsum_sub(&a, INFINITY);
    CHECK_BITS(persona__exactsum_value(&a), -INFINITY);
    persona__exactsum_add(&a, INFINITY);
    CHECK(persona__exactsum_is_zero(&a));
    persona__exactsum_sub(&a, -INFINITY);
    CHECK_BITS(persona__exactsum_value(&a), INFINITY);
    persona__exactsum_add(&a, -INFINITY);
    CHECK(persona__exactsum_is_zero(&a));
}

static void test_ties(void)
{
    /* Exactly halfway: to the even neighbour, at several scales and signs. */
    CHECK_BITS(SUM(1.0, 0x1p-53), 1.0);
    CHECK_BITS(SUM(1.0, 0x1p-52, 0x1p-53), 1.0 + 0x1p-51);
    CHECK_BITS(SUM(-1.0, -0x1p-53), -1.0);
    CHECK_BITS(SUM(-1.0, -0x1p-52, -0x1p-53), -1.0 - 0x1p-51);
    CHECK_BITS(SUM(0x1p100, 0x1p47), 0x1p100);
    CHECK_BITS(SUM(0x1p100, 0x1p48, 0x1p47), 0x1p100 + 0x1p49);
    CHECK_BITS(SUM(0x1p-1000, 0x1p-1053), 0x1p-1000);
    /* Just above or below halfway, the deciding bit a long way down. */
    CHECK_BITS(SUM(1.0, 0x1p-53, 0x1p-1074), 1.0 + 0x1p-52);
    CHECK_BITS(SUM(1.0, 0x1p-53, -0x1p-1074), 1.0);
    CHECK_BITS(SUM(0x1p1000, 0x1p947, 0x1p-1074), 0x1p1000 + 0x1p948);
    CHECK_BITS(SUM(0x1p1000, 0x1p947, -0x1p-1074), 0x1p1000);
    CHECK_BITS(SUM(-0x1p1000, -0x1p947, -0x1p-1074), -0x1p1000 - 0x1p948);
    /* Rounding up carries into a new binade. */
    CHECK_BITS(SUM(0x1.fffffffffffffp0, 0x1p-53), 2.0);
    CHECK_BITS(SUM(0x1.fffffffffffffp0, 0x1p-54), 0x1.fffffffffffffp0);
}

/* Rows made with Python 3.11 (/usr/bin/python3), math.fsum of each row:
 *   import math, random
 *   random.seed(20240611)
 *   for r in range(8):
 *       k = random.randint(-300, 290)
 *       vals = [random.choice([1, -1]) * random.random() * 10.0 ** (k + random.randint(0, 8))
 *               for _ in range(8)]
 *       vals += [-v * (1 + random.randint(-4, 4) * 2.0 ** -52) for v in vals[:6]]
 *       vals += [random.random() * 10.0 ** random.randint(-320, k) for _ in range(2)]
 *       random.shuffle(vals)
 *       print("    { { " + ", ".join(v.hex() for v in vals) + " }, " + math.fsum(vals).hex() + " },")
 */
static const struct {
    double v[16], fsum;
} fsum_rows[] = {
    { { -0x1.9425c577ceb37p+152, 0x1.bab619f60b133p+165, -0x1.d4f42eab90ab4p+157, 0x1.647f42442d51fp+161, 0x1.8605c25a47e4ap-157, -0x1.6767a68612d73p+170, 0x1.d4f42eab90ab8p+157, 0x1.c9cfb835a5f06p+157, -0x1.647f42442d519p+161, -0x1.c9cfb835a5f08p+157, -0x1.04b178d07f639p+147, -0x1.bab619f60b131p+165, 0x1.9425c577ceb35p+152, -0x1.9c0a4f9fecb6fp+167, 0x1.661d66e4182c2p-680, 0x1.04b178d07f639p+147 }, -0x1.9ae8f07a106e1p+170 },
    { { 0x1.3c9a1d98486f6p+441, 0x1.269502d7b851cp+428, 0x1.4ad74f8ff22a3p-661, 0x1.bd100e6f9691ap-16, 0x1.90c32c42ee459p+413, -0x1.2d8ba55a85a22p+440, -0x1.0ae82f02728aap+421, -0x1.3c9a1d98486f6p+441, 0x1.2d8ba55a85a27p+440, 0x1.0ae82f02728adp+421, -0x1.90c32c42ee45cp+413, -0x1.4fad32ac26952p+440, -0x1.18b62d6e96b32p+425, -0x1.3a9b02c72d7c2p+441, 0x1.18b62d6e96b2fp+425, -0x1.269502d7b851cp+428 }, -0x1.e2719c1d40c69p+441 },
    { { -0x1.83a92db4dc4c6p-22, 0x1.2fe5cbc6d343dp-4, -0x1.08e54ac415b6ep-27, -0x1.27ef71240c048p-14, -0x1.383a46fe55ca7p-11, 0x1.7492c5af571c1p-26, 0x1.347607f65dba8p-559, 0x1.3cc3025368afcp-17, 0x1.655c6d7de026ap-650, -0x1.8977ab32bc183p-12, 0x1.83a92db4dc4c1p-22, 0x1.27ef71240c04bp-14, 0x1.8977ab32bc189p-12, -0x1.2fe5cbc6d343dp-4, -0x1.3cc3025368afep-17, -0x1.7492c5af571c7p-26 }, -0x1.383b4fe3a08e5p-11 },
    { { 0x1.fe53a32397be5p+454, -0x1.a2fd7cbab420fp+467, 0x1.478139d6910f0p+451, 0x1.34e80657ba9fcp+408, 0x1.c6e89dd043130p+454, -0x1.b2b4fa6d885b8p+456, 0x1.c51f940925d2cp+460, -0x1.c51f940925d2cp+460, -0x1.8c0486685f0fbp+440, 0x1.a2fd7cbab4212p+467, 0x1.b2b4fa6d885b3p+456, 0x1.570cef7e0b68ep-994, -0x1.478139d6910f1p+451, 0x1.23a8f7990df9dp+455, -0x1.23a8f7990df98p+455, 0x1.8c0486685f0fep+440 }, 0x1.e29e2079f06acp+455 },
    { { 0x1.ec923b9e95f82p-516, -0x1.211e257762f20p-512, 0x1.7bdd17e0d07dcp-504, -0x1.ec923b9e95f8ap-516, 0x1.6f8e8708fd201p-599, -0x1.7bdd17e0d07e2p-504, -0x1.9f57572b2384fp-509, 0x1.f5ba711289c03p-513, 0x1.5984be48f4c1ap-526, 0x1.6a9c96cdc395cp-509, -0x1.f5ba711289c07p-513, 0x1.9f57572b23849p-509, -0x1.6a9c96cdc3960p-509, 0x0.0000000014bc9p-1022, -0x1.8c92b39d93181p-510, -0x1.5984be48f4c16p-526 }, -0x1.d4da3cfb6bedep-510 },
    { { -0x1.e56de7923278cp+224, 0x1.e1b16315e90d7p+214, 0x1.b7743b82732ffp+223, -0x1.e1b16315e90ddp+214, 0x1.c81f1a67a48c1p+208, 0x1.e56de7923278ep+224, -0x1.c81f1a67a48c3p+208, -0x1.ec03460bcde2bp+204, 0x1.fda74a1f19da3p+4, -0x1.75448c2d96c2bp+225, 0x1.7b74197f52f6dp+225, -0x1.7b74197f52f6dp+225, -0x1.b7743b8273301p+223, 0x1.42e410f998486p-147, -0x1.cdce95b9655adp+201, 0x1.75448c2d96c2ap+225 }, -0x1.12de8c61fe080p+205 },
    { { -0x1.694f8440af1ddp+27, 0x1.61da9908ceeccp+19, 0x1.05e34dfa0d7b2p+16, -0x1.e51b8c7bf76dfp+16, -0x1.1e639ea11e25dp+36, -0x1.11ff3d8e64963p+33, -0x1.61da9908ceed2p+19, 0x1.11ff3d8e64964p+33, 0x1.694f8440af1e0p+27, 0x1.0c599f1ba3bd8p+23, -0x1.df78b001ced1dp+8, -0x1.0c599f1ba3bd8p+23, -0x1.05e34dfa0d7b0p+16, 0x1.059c0dd7791fbp-514, 0x1.1961be0a71d4ep-171, 0x1.df78b001ced23p+8 }, -0x1.1e63bcf2d6ed9p+36 },
    { { -0x1.83b0559bc3cf5p+275, -0x1.22ee8866fb881p+287, 0x1.db672c9782c2dp+288, 0x0.0000000000295p-1022, -0x1.774f2889b37d8p+279, -0x1.c1e15e4504b7cp+268, -0x1.67e2677fbf5a8p+291, 0x1.67e2677fbf5aep+291, 0x1.774f2889b37dep+279, -0x1.391fe593fa3b9p+268, -0x1.db672c9782c34p+288, 0x1.83b0559bc3cefp+275, 0x1.c1e15e4504b78p+268, -0x1.4ae8ef6b297f9p+265, 0x1.249b12328a76ep+235, 0x1.22ee8866fb883p+287 }, -0x1.627d0356ca4e4p+268 },
};

static void test_fsum_rows(void)
{
    for (size_t r = 0; r < sizeof fsum_rows / sizeof fsum_rows[0]; r++)
        CHECK_BITS(sum_of(fsum_rows[r].v, 16), fsum_rows[r].fsum);
}

/* Merging carries the infinities along, and unmerge takes them out again. */
static void test_merge_infinities(void)
{
    acc a, b, c;
    persona__exactsum_init(&a);
    persona__exactsum_init(&b);
    persona__exactsum_add(&a, 2.0);
    persona__exactsum_add(&b, INFINITY);
    persona__exactsum_add(&b, 1.0);
    persona__exactsum_merge(&a, &b);
    CHECK_BITS(persona__exactsum_value(&a), INFINITY);
    persona__exactsum_init(&c);
    persona__exactsum_add(&c, -INFINITY);
    persona__exactsum_merge(&a, &c);
    CHECK(isnan(persona__exactsum_value(&a)));
    persona__exactsum_unmerge(&a, &b);
    CHECK_BITS(persona__exactsum_value(&a), -INFINITY);
    persona__exactsum_unmerge(&a, &c);
    CHECK_BITS(persona__exactsum_value(&a), 2.0);
    persona__exactsum_merge(&a, &a); /* the same accumulator on both sides */
    CHECK_BITS(persona__exactsum_value(&a), 4.0);
    persona__exactsum_unmerge(&a, &a);
    CHECK(persona__exactsum_is_zero(&a));
    persona__exactsum_unmerge(&a, &b); /* an unmerge with nothing to take from */
    CHECK_BITS(persona__exactsum_value(&a), -INFINITY);
    persona__exactsum_merge(&a, &b);
    CHECK(persona__exactsum_is_zero(&a));
}

/* Two doubles: the hardware's a + b is the oracle (ties, overflow, subnormals included),
 * except that an exact zero is +0.0 here even for -0.0 + -0.0. */
static void test_pairs(uint64_t seed)
{
    uint64_t s = seed;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        double a = rand_double(&s, (int)(next(&s) % K_KINDS), (unsigned)(next(&s) % 2047));
        double b;
        switch (next(&s) % 4) {
        case 0: b = rand_double(&s, (int)(next(&s) % K_KINDS), (unsigned)(next(&s) % 2047)); break;
        case 1: /* near a's scale, so they interact */
            b = rand_double(&s, K_WINDOW, (unsigned)(bits_of(a) >> 52 & 0x7FF)); break;
        case 2: /* a's neighbour, negated: heavy cancellation */
            b = -from_bits(bits_of(a) + (uint64_t)(next(&s) % 7) - 3); break;
        default: { /* half an ulp of a, give or take one bit of the last place: ties */
            int e;
            frexp(a, &e);
            b = ldexp(next(&s) % 2 ? 1.0 : -1.0, e - 54) * (1 + (double)(next(&s) % 3) * 0x1p-52);
        }
        }
        if (!isfinite(a) || !isfinite(b))
            continue;
        double want = a + b;
        if (want == 0)
            want = 0.0;
        double got = SUM(a, b);
        check_count++;
        if (!same_bits(got, want) && (check_failures++, bad++ < 5)) {
            fprintf(stderr, "pairs seed %" PRIu64 " i %d: %a + %a = %a, want %a\n", seed, i, a,
                    b, got, want);
        }
    }
}

static int same_state(const acc *a, const acc *b)
{
    uint64_t wa[64], wb[64];
    size_t n = persona__exactsum_words(a);
    persona__exactsum_put(a, wa);
    persona__exactsum_put(b, wb);
    return memcmp(wa, wb, n * sizeof wa[0]) == 0;
}

#define MAXN 5000

/* One random multiset: the value against the reference; then the same values shuffled,
 * in parts merged together, and taken out again must give the same canonical words. */
static int random_case(uint64_t seed, size_t n, int cancel)
{
    static double v[MAXN];
    static ref r;
    uint64_t s = seed;
    rand_case(v, n, &s, cancel);
    memset(&r, 0, sizeof r);
    acc whole;
    persona__exactsum_init(&whole);
    for (size_t i = 0; i < n; i++) {
        persona__exactsum_add(&whole, v[i]);
        ref_add(&r, v[i], 0);
    }
    double got = persona__exactsum_value(&whole), want = ref_value(&r);
    int ok = 1;
    if (!same_bits(got, want)) {
        fprintf(stderr, "case seed %" PRIu64 " n %zu cancel %d: sum %a, reference %a\n", seed, n,
                cancel, got, want);
        ok = 0;
    }

    shuffle(v, n, &s);
    acc again, parts[4], merged;
    persona__exactsum_init(&again);
    for (size_t i = 0; i < n; i++)
        persona__exactsum_add(&again, v[i]);
    if (!same_state(&again, &whole) || !same_bits(persona__exactsum_value(&again), got)) {
        fprintf(stderr, "case seed %" PRIu64 ": shuffled order differs\n", seed);
        ok = 0;
    }

    for (int p = 0; p < 4; p++)
        persona__exactsum_init(&parts[p]);
    for (size_t i = 0; i < n; i++)
        persona__exactsum_add(&parts[next(&s) % 4], v[i]);
    persona__exactsum_init(&merged);
    for (int p = 3; p >= 0; p--)
        persona__exactsum_merge(&merged, &parts[p]);
    if (!same_state(&merged, &whole) || !same_bits(persona__exactsum_value(&merged), got)) {
        fprintf(stderr, "case seed %" PRIu64 ": merged parts differ\n", seed);
        ok = 0;
    }
    /* whole - part0 == part1 + part2 + part3 */
    persona__exactsum_unmerge(&merged, &parts[0]);
    persona__exactsum_merge(&parts[1], &parts[2]);
    persona__exactsum_merge(&parts[1], &parts[3]);
    if (!same_state(&merged, &parts[1])) {
        fprintf(stderr, "case seed %" PRIu64 ": unmerge differs\n", seed);
        ok = 0;
    }

    /* Take everything out, in yet another order, with sub. */
    shuffle(v, n, &s);
    for (size_t i = 0; i < n; i++)
        persona__exactsum_sub(&again, v[i]);
    acc zero;
    persona__exactsum_init(&zero);
    if (!persona__exactsum_is_zero(&again) || !same_state(&again, &zero) ||
        !same_bits(persona__exactsum_value(&again), 0.0)) {
        fprintf(stderr, "case seed %" PRIu64 ": add then sub is not zero\n", seed);
        ok = 0;
    }
    return ok;
}

static void test_random(uint64_t seed)
{
    uint64_t s = seed;
    int bad = 0;
    for (int c = 0; c < 600; c++) {
        size_t n = c < 8 ? MAXN : (size_t)(next(&s) % 200) + 1;
        check_count++;
        if (!random_case(next(&s), n, c % 2) && (check_failures++, ++bad == 5))
            break; /* enough to go on */
    }
    if (bad)
        fprintf(stderr, "random: %d cases failed (run seed %" PRIu64 ")\n", bad, seed);
}

/* Sums past DBL_MAX stay exact (the finite part has room to 2^1067), so taking values out
 * brings them back. */
static void test_past_dbl_max(void)
{
    acc a;
    persona__exactsum_init(&a);
    for (int i = 0; i < 100000; i++)
        persona__exactsum_add(&a, DBL_MAX);
    CHECK_BITS(persona__exactsum_value(&a), INFINITY);
    for (int i = 0; i < 99999; i++)
        persona__exactsum_sub(&a, DBL_MAX);
    CHECK_BITS(persona__exactsum_value(&a), DBL_MAX);
}

/* White box: limbs as far out as 2^30 adds can push them before the carry schedule
 * (exactsum.c's MAX_PENDING) runs, the same sum spread differently, with both signs
 * between neighbours; every reading must carry them exactly, and the add that reaches
 * the schedule must carry (UBSan watches for overflow on the way). */
static void test_carry_schedule(void)
{
    static const double v[] = { -0x1.fffffffffffffp-1011, 1e300, -3.5, 0x1p-1074, -0x1p-1074,
                                7.25e-310, -1e-300, 0x1.23456789abcdep+600 };
    acc a, b, c;
    persona__exactsum_init(&a);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        persona__exactsum_add(&a, v[i]);
    b = a;
    const int64_t far = INT64_C(1) << 30;
    for (int i = 0; i + 1 < PERSONA__EXACTSUM_LIMBS; i++) {
        int64_t moved = i % 3 ? far : -far; /* limb i gains moved 2^32, limb i + 1 loses it */
        b.limb[i] += moved * (INT64_C(1) << 32);
        b.limb[i + 1] -= moved;
    }
    b.pending = (UINT32_C(1) << 30) - 2;
    CHECK(same_state(&a, &b));
    CHECK_BITS(persona__exactsum_value(&b), persona__exactsum_value(&a));
    CHECK(!persona__exactsum_is_zero(&b));
    c = b;
    persona__exactsum_unmerge(&c, &a);
    CHECK(persona__exactsum_is_zero(&c));

    persona__exactsum_add(&b, 1.0);
    CHECK(b.pending == (UINT32_C(1) << 30) - 1);
    persona__exactsum_add(&b, 2.0);
    int carried = b.pending == 0;
    for (int i = 0; i + 1 < PERSONA__EXACTSUM_LIMBS; i++)
        carried &= b.limb[i] >= 0 && b.limb[i] <= 0xFFFFFFFF;
    CHECK(carried);
    persona__exactsum_add(&a, 2.0);
    persona__exactsum_add(&a, 1.0);
    CHECK(same_state(&a, &b));
}

static void test_serialize(uint64_t seed)
{
    size_t n = persona__exactsum_words(NULL);
    CHECK(n > 0 && n <= 64);
    uint64_t w[64], w2[64];
    acc a, b;

    /* Round trips of random sums (with infinities sometimes), and canonical words: equal
     * sums with different histories write the same words. */
    uint64_t s = seed;
    int bad = 0;
    static double v[300];
    for (int c = 0; c < 300; c++) {
        size_t k = (size_t)(next(&s) % 300) + 1;
        rand_case(v, k, &s, c % 2);
        persona__exactsum_init(&a);
        for (size_t i = 0; i < k; i++)
            persona__exactsum_add(&a, v[i]);
        if (c % 7 == 0)
            persona__exactsum_add(&a, c % 2 ? INFINITY : -INFINITY);
        if (c % 11 == 0)
            persona__exactsum_sub(&a, INFINITY);
        persona__exactsum_put(&a, w);
        int ok = persona__exactsum_get(&b, w, n) == 0;
        persona__exactsum_put(&b, w2);
        ok = ok && memcmp(w, w2, n * sizeof w[0]) == 0 &&
             same_bits(persona__exactsum_value(&a), persona__exactsum_value(&b));
        /* The same sum built as (sum + x) - x. */
        persona__exactsum_add(&b, v[0] * 3);
        persona__exactsum_sub(&b, v[0] * 3);
        persona__exactsum_put(&b, w2);
        ok = ok && memcmp(w, w2, n * sizeof w[0]) == 0;
        check_count++;
        if (!ok && (check_failures++, bad++ < 5)) {
            fprintf(stderr, "serialize seed %" PRIu64 " case %d: round trip differs\n", seed, c);
        }
    }

    /* Every canonical form reads back and writes the same words: random words made
     * canonical (high half of the half-used word cleared, top limb in range). */
    for (int c = 0; c < 300; c++) {
        for (size_t i = 0; i < n; i++)
            w[i] = next(&s);
        w[n - 4] &= 0xFFFFFFFFu;
        w[n - 3] = (uint64_t)(int64_t)((int64_t)(next(&s) % (1ull << 62)) - (INT64_C(1) << 61));
        check_count++;
        if (persona__exactsum_get(&a, w, n) != 0) {
            check_failures++;
            fprintf(stderr, "serialize: canonical words rejected (case %d)\n", c);
            continue;
        }
        persona__exactsum_put(&a, w2);
        CHECK(memcmp(w, w2, n * sizeof w[0]) == 0);
    }

    /* The words of 1.0: all zero but bit 1074 (word 16, bit 50); a negative sum shows in
     * the top limb. Then malformed words are refused and leave a zero accumulator. */
    persona__exactsum_init(&a);
    persona__exactsum_add(&a, 1.0);
    persona__exactsum_put(&a, w);
    int only = 1;
    for (size_t i = 0; i < n; i++)
        only &= w[i] == (i == 16 ? 1ull << 50 : 0);
    CHECK(only);
    persona__exactsum_init(&a);
    persona__exactsum_add(&a, -0x1p-1074);
    persona__exactsum_put(&a, w);
    CHECK(w[0] == UINT64_MAX && w[n - 4] == 0xFFFFFFFFu && w[n - 3] == UINT64_MAX);
    CHECK(persona__exactsum_get(&b, w, n) == 0);
    CHECK_BITS(persona__exactsum_value(&b), -0x1p-1074);

    persona__exactsum_init(&a);
    persona__exactsum_add(&a, 12.5);
    persona__exactsum_put(&a, w);
    memcpy(w2, w, sizeof w);
    CHECK(persona__exactsum_get(&b, w2, n - 1) == -1);
    CHECK(persona__exactsum_get(&b, w2, n + 1) == -1);
    CHECK(persona__exactsum_get(&b, NULL, n) == -1);
    w2[n - 4] |= 1ull << 32; /* a limb beyond 32 bits: not carried */
    CHECK(persona__exactsum_get(&b, w2, n) == -1 && persona__exactsum_is_zero(&b));
    memcpy(w2, w, sizeof w);
    w2[n - 3] = (uint64_t)1 << 61; /* the largest top limb is fine, one more is not */
    CHECK(persona__exactsum_get(&b, w2, n) == 0);
    CHECK_BITS(persona__exactsum_value(&b), INFINITY);
    /* Beyond that the sum saturates (it is inf anyway), so what put() writes still reads. */
    persona__exactsum_merge(&b, &b);
    persona__exactsum_merge(&b, &b);
    persona__exactsum_add(&b, DBL_MAX);
    persona__exactsum_put(&b, w2);
    CHECK(w2[n - 3] == (uint64_t)1 << 61 && persona__exactsum_get(&b, w2, n) == 0);
    CHECK_BITS(persona__exactsum_value(&b), INFINITY);
    w2[n - 3]++;
    CHECK(persona__exactsum_get(&b, w2, n) == -1);
    w2[n - 3] = (uint64_t)-(INT64_C(1) << 61);
    CHECK(persona__exactsum_get(&b, w2, n) == 0);
    CHECK_BITS(persona__exactsum_value(&b), -INFINITY);
    w2[n - 3]--;
    CHECK(persona__exactsum_get(&b, w2, n) == -1);
    w2[n - 3] = (uint64_t)INT64_MIN;
    CHECK(persona__exactsum_get(&b, w2, n) == -1);
    w2[n - 3] = UINT64_MAX >> 1;
    CHECK(persona__exactsum_get(&b, w2, n) == -1);
    CHECK(persona__exactsum_is_zero(&b));
}

int main(void)
{
    uint64_t seed = 0x5eed5eed2024ull;
    const char *env = getenv("EXACTSUM_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    test_hand_cases();
    test_ties();
    test_fsum_rows();
    test_merge_infinities();
    test_pairs(seed);
    test_random(seed + 1);
    test_serialize(seed + 2);
    test_past_dbl_max();
    test_carry_schedule();
    if (check_failures)
        fprintf(stderr, "exactsum: seed %" PRIu64 " (EXACTSUM_SEED to repeat)\n", seed);
    return check_report("exactsum");
}
