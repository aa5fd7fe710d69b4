/* Stability of segmentations (stability.h): the adjusted Rand index from exact pair
 * counts, and the migration matrix of a first-match rule model between two times.
 *
 * ARI: with S = Σ C(n_ij, 2), A = Σ C(a_i, 2), B = Σ C(b_j, 2), N = C(n, 2), scikit-learn
 * computes (sklearn/metrics/cluster/_supervised.py, adjusted_rand_score) from its ordered
 * pair confusion matrix tp = 2S, fp = 2(B − S), fn = 2(A − S), tn = 2(N − A − B + S):
 *     2.0 * (tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))
 * with exact Python integers, each operand rounded to double by the float operations.
 * tp·tn − fn·fp = 4(S·N − A·B) and the denominator = 4(A(N − B) + B(N − A)); scaling by 4
 * commutes with rounding, so 2.0 * double(S·N − A·B) / double(A(N − B) + B(N − A)) is the
 * same double. The products need 128 bits: a small portable unsigned 128-bit type below,
 * with correctly rounded (nearest-even) conversion to double, as Python's int → float.
 *
 * Migration: the profiles are listed (their keys copied) under the store's read lock,
 * then each is evaluated at both times with persona_segment_model_assign(), the public
 * evaluation, so the matrix is by construction what per-user assignment gives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "persona/stability.h"
#include "segment/stability_internal.h"
#include "store/store_internal.h"

/* ---- 128-bit arithmetic -------------------------------------------------------------- */

typedef struct u128 {
    uint64_t hi, lo;
} u128;

static u128 mul64(uint64_t a, uint64_t b)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    u128 r;
    r.lo = (mid << 32) | (p00 & 0xffffffffu);
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

static u128 add128(u128 a, u128 b)
{
    u128 r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}

static int cmp128(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* a - b for a >= b */
static u128 sub128(u128 a, u128 b)
{
    u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}

static int bitlen128(u128 x)
{
    int n = 0;
    uint64_t top = x.hi ? x.hi : x.lo;
    while (top) {
        n++;
        top >>= 1;
    }
    return x.hi ? n + 64 : n;
}

/* Bits [0, k) of x, and x >> k, for 0 < k < 128. */
static u128 shr128(u128 x, int k)
{
    u128 r;
    if (k >= 64) {
        r.lo = x.hi >> (k - 64);
        r.hi = 0;
    } else {
        r.lo = (x.lo >> k) | (x.hi << (64 - k));
        r.hi = x.hi >> k;
    }
    return r;
}

static u128 low_bits(u128 x, int k)
{
    if (k >= 64) {
        if (k < 128)
            x.hi &= (UINT64_C(1) << (k - 64)) - 1;
        return x;
    }
    x.hi = 0;
    x.lo &= (UINT64_C(1) << k) - 1;
    return x;
}

double persona__u128_to_double(uint64_t hi, uint64_t lo)
{
    u128 x = { hi, lo };
    int len = bitlen128(x);
    if (len <= 53)
        return (double)x.lo;
    int shift = len - 53;
    uint64_t mant = shr128(x, shift).lo; /* 53 bits */
    u128 rest = low_bits(x, shift);
    u128 half = { 0, 0 };
    if (shift - 1 >= 64)
        half.hi = UINT64_C(1) << (shift - 1 - 64);
    else
        half.lo = UINT64_C(1) << (shift - 1);
    int c = cmp128(rest, half);
    if (c > 0 || (c == 0 && (mant & 1)))
        mant++; /* 2^53 after a carry is still exact */
    return ldexp((double)mant, shift);
}

/* ---- adjusted Rand index ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* k (k - 1) / 2 for k < 2^32 (no overflow) */
static uint64_t pairs(uint64_t k)
{
    return k ? k * (k - 1) / 2 : 0;
}

PERSONA_API int persona_adjusted_rand_index(double *out, const uint32_t *a, const uint32_t *b,
                                            size_t n)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    if (n && (!a || !b))
        return persona__fail(PERSONA_EINVAL, "%s is NULL with n = %zu", a ? "b" : "a", n);
    if ((uint64_t)n > UINT32_MAX)
        return persona__fail(PERSONA_EINVAL, "n = %zu is more than 2^32 - 1 items", n);
    if (n < 2) {
        *out = 1.0; /* no pairs: the same partition */
        return PERSONA_OK;
    }
    uint64_t *ab = persona__realloc_array(NULL, n, sizeof *ab);
    uint32_t *bs = persona__realloc_array(NULL, n, sizeof *bs);
    if (!ab || !bs) {
        persona__free(ab);
        persona__free(bs);
        return persona__fail_nomem();
    }
    for (size_t i = 0; i < n; i++) {
        ab[i] = (uint64_t)a[i] << 32 | b[i];
        bs[i] = b[i];
    }
    qsort(ab, n, sizeof *ab, cmp_u64);
    qsort(bs, n, sizeof *bs, cmp_u32);
    uint64_t s = 0, sa = 0, sb = 0, run_ab = 1, run_a = 1, run_b = 1;
    for (size_t i = 1; i <= n; i++) {
        int end = i == n;
        if (!end && ab[i] == ab[i - 1]) {
            run_ab++;
        } else {
            s += pairs(run_ab);
            run_ab = 1;
        }
        if (!end && ab[i] >> 32 == ab[i - 1] >> 32) {
            run_a++;
        } else {
            sa += pairs(run_a);
            run_a = 1;
        }
        if (!end && bs[i] == bs[i - 1]) {
            run_b++;
        } else {
            sb += pairs(run_b);
            run_b = 1;
        }
    }
    persona__free(ab);
    persona__free(bs);
    if (sa == s && sb == s) { /* fn = fp = 0: the same partition */
        *out = 1.0;
        return PERSONA_OK;
    }
    uint64_t np = pairs(n);
    u128 sn = mul64(s, np), ab2 = mul64(sa, sb);
    int neg = cmp128(sn, ab2) < 0;
    u128 diff = neg ? sub128(ab2, sn) : sub128(sn, ab2);
    double num = persona__u128_to_double(diff.hi, diff.lo);
    if (neg)
        num = -num;
    u128 den = add128(mul64(sa, np - sb), mul64(sb, np - sa));
    *out = 2.0 * num / persona__u128_to_double(den.hi, den.lo);
    return PERSONA_OK;
}

/* ---- migration matrix ---------------------------------------------------------------- */

static int time_arg_ok(int64_t t)
{
    return t == PERSONA_NOW_STORE || (t >= PERSONA_TIME_MIN && t <= PERSONA_TIME_MAX);
}

/* The keys of the store's profiles, back to back with their NULs. */
static int profile_keys(const persona_store *s, char **keys_out, size_t *n_out)
{
    *keys_out = NULL;
    *n_out = 0;
    STORE_RDLOCK(s);
    size_t bytes = 0, n = 0;
    uint32_t n_ids = (uint32_t)s->users.count;
    for (uint32_t u = 0; u < n_ids; u++)
        if (persona__id_root(s, u) == u) {
            bytes += (size_t)persona__intern_len(&s->users, u) + 1;
            n++;
        }
    char *keys = persona__alloc(bytes ? bytes : 1);
    if (keys) {
        char *p = keys;
        for (uint32_t u = 0; u < n_ids; u++)
            if (persona__id_root(s, u) == u) {
                size_t len = persona__intern_len(&s->users, u);
                memcpy(p, persona__intern_str(&s->users, u), len + 1);
                p += len + 1;
            }
    }
    STORE_UNLOCK(s);
    if (!keys)
        return persona__fail_nomem();
    *keys_out = keys;
    *n_out = n;
    return PERSONA_OK;
}

/* The segment of a key as of a time (k = none). */
static int segment_at(uint32_t *out, const persona_segment_model *model,
                      const persona_store *store, const char *key, int64_t t, size_t k)
{
    persona_eval_context ctx = PERSONA_EVAL_CONTEXT_INIT;
    ctx.now_ms = t;
    uint32_t seg = 0;
    size_t count = 0;
    int rc = persona_segment_model_assign(&seg, 1, &count, model, store, key, &ctx);
    if (rc)
        return rc;
    *out = count ? seg : (uint32_t)k;
    return PERSONA_OK;
}

PERSONA_API int persona_segment_model_migration(uint64_t *matrix, size_t capacity,
                                                const persona_segment_model *model,
                                                const persona_store *store, int64_t from_ms,
                                                int64_t to_ms)
{
    if (!model || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", model ? "store" : "model");
    if (!matrix && capacity)
        return persona__fail(PERSONA_EINVAL, "matrix is NULL with capacity %zu", capacity);
    if (!time_arg_ok(from_ms) || !time_arg_ok(to_ms)) {
        int from = !time_arg_ok(from_ms);
        return persona__fail(PERSONA_EINVAL, "%s %lld is outside PERSONA_TIME_MIN … "
                                             "PERSONA_TIME_MAX",
                             from ? "from_ms" : "to_ms", (long long)(from ? from_ms : to_ms));
    }
    int32_t mode = 0;
    size_t k = 0;
    int rc = persona_segment_model_mode(&mode, model);
    if (!rc)
        rc = persona_segment_model_count(&k, model);
    if (rc)
        return rc;
    if (mode != PERSONA_SEGMENT_FIRST_MATCH)
        return persona__fail(PERSONA_EINVAL, "a migration matrix needs a first-match model "
                                             "(a user in several segments has no one row)");
    size_t side = k + 1, need = side * side;
    if (capacity < need)
        return persona__fail(PERSONA_EBUFS, "the matrix needs %zu entries ((%zu + 1)^2); room "
                                            "for %zu", need, k, capacity);
    uint64_t *counts = persona__calloc(need, sizeof *counts);
    if (!counts)
        return persona__fail_nomem();
    char *keys = NULL;
    size_t n = 0;
    rc = profile_keys(store, &keys, &n);
    const char *key = keys;
    for (size_t i = 0; i < n && !rc; i++) {
        uint32_t from = 0, to = 0;
        rc = segment_at(&from, model, store, key, from_ms, k);
        if (!rc)
            rc = segment_at(&to, model, store, key, to_ms, k);
        if (!rc)
            counts[(size_t)from * side + to]++;
        key += strlen(key) + 1;
    }
    if (!rc)
        memcpy(matrix, counts, need * sizeof *counts);
    persona__free(keys);
    persona__free(counts);
    return rc;
}
