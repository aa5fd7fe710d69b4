/* The pair measures, each the formula its header documents, and persona_affinity_pair().
 * Counts are converted to double before multiplying so that n_a · n_b cannot overflow.
 * Each measure is computed as one correctly rounded operation on a ratio of exact integer
 * products (exact while the products stay below 2^53), so two pairs whose measures are
 * equal as fractions get the same double: tie orders then depend on the counts only, not
 * on rounding. Hence cosine as √(n_ab² / (n_a n_b)) and leverage as
 * (n_ab n − n_a n_b) / n². */
#include <math.h>

#include "affinity/affinity_internal.h"
#include "core/error.h"
#include "core/structs.h"

/* Counts a pair can have: n_ab ≤ min(n_a, n_b), n_a and n_b ≤ n. */
static int possible(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n)
{
    return n_ab <= n_a && n_ab <= n_b && n_a <= n && n_b <= n;
}

PERSONA_API double persona_affinity_support(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n == 0)
        return NAN;
    return (double)n_ab / (double)n;
}

PERSONA_API double persona_affinity_confidence(uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                                               uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n_a == 0)
        return NAN;
    return (double)n_ab / (double)n_a;
}

PERSONA_API double persona_affinity_lift(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n_a == 0 || n_b == 0)
        return NAN;
    return (double)n_ab * (double)n / ((double)n_a * (double)n_b);
}

PERSONA_API double persona_affinity_jaccard(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n_a + n_b == 0)
        return NAN;
    return (double)n_ab / ((double)n_a + (double)n_b - (double)n_ab);
}

PERSONA_API double persona_affinity_cosine(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n_a == 0 || n_b == 0)
        return NAN;
    return sqrt((double)n_ab * (double)n_ab / ((double)n_a * (double)n_b));
}

PERSONA_API double persona_affinity_conviction(uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                                               uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n_a == 0 || n == 0)
        return NAN;
    if (n_ab == n_a)
        return INFINITY;
    /* the product form: no rounding of 1 − x twice */
    return (double)n_a * (double)(n - n_b) / ((double)n * (double)(n_a - n_ab));
}

PERSONA_API double persona_affinity_leverage(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n)
{
    if (!possible(n_ab, n_a, n_b, n) || n == 0)
        return NAN;
    double N = (double)n;
    return ((double)n_ab * N - (double)n_a * (double)n_b) / (N * N);
}

double persona__affinity_score(int32_t measure, uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                               uint64_t n)
{
    switch (measure) {
    case PERSONA_AFFINITY_JACCARD: return persona_affinity_jaccard(n_ab, n_a, n_b, n);
    case PERSONA_AFFINITY_COSINE: return persona_affinity_cosine(n_ab, n_a, n_b, n);
    case PERSONA_AFFINITY_CONFIDENCE: return persona_affinity_confidence(n_ab, n_a, n_b, n);
    case PERSONA_AFFINITY_SUPPORT: return persona_affinity_support(n_ab, n_a, n_b, n);
    case PERSONA_AFFINITY_CONVICTION: return persona_affinity_conviction(n_ab, n_a, n_b, n);
    case PERSONA_AFFINITY_LEVERAGE: return persona_affinity_leverage(n_ab, n_a, n_b, n);
    case PERSONA_AFFINITY_COUNT: return (double)n_ab;
    default: return persona_affinity_lift(n_ab, n_a, n_b, n);
    }
}

PERSONA_API int persona_affinity_pair(persona_affinity_pair_info *out,
                                      const persona_affinity_matrix *m, const char *a,
                                      const char *b)
{
    if (!m || !out)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "out" : "matrix");
    uint32_t ia, ib;
    int rc = persona__affinity_find(&ia, m, a);
    if (!rc)
        rc = persona__affinity_find(&ib, m, b);
    if (rc)
        return rc;
    uint64_t e = ia == ib ? UINT64_MAX : persona__affinity_entry(m, ia, ib);
    uint64_t nab = ia == ib ? m->item_count[ia] : e == UINT64_MAX ? 0 : m->cnt[e];
    uint64_t na = m->item_count[ia], nb = m->item_count[ib], n = m->n_units;
    persona_affinity_pair_info p = { sizeof p, 0, nab, na, nb, n, 0, 0, 0, 0, 0, 0, 0 };
    p.support = persona_affinity_support(nab, na, nb, n);
    p.confidence = persona_affinity_confidence(nab, na, nb, n);
    p.lift = persona_affinity_lift(nab, na, nb, n);
    p.jaccard = persona_affinity_jaccard(nab, na, nb, n);
    p.cosine = persona_affinity_cosine(nab, na, nb, n);
    p.conviction = persona_affinity_conviction(nab, na, nb, n);
    p.leverage = persona_affinity_leverage(nab, na, nb, n);
    return persona__struct_out(out, &p, sizeof p, sizeof p, "persona_affinity_pair_info");
}
