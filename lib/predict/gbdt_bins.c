/* Binning of the training matrix for the boosted trees (gbdt.h has the rules). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "persona/common.h"
#include "predict/column.h"
#include "predict/gbdt.h"

/* The number of cuts below v: a binary search over cuts[0 .. k). */
static uint8_t bin_in(const double *cuts, size_t k, double v)
{
    size_t lo = 0, hi = k;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cuts[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)lo;
}

uint8_t persona__gbdt_bin_of(const persona__gbdt_bins *b, size_t f, double v)
{
    if (isnan(v))
        return PERSONA__GBDT_MISSING;
    size_t a = b->cut_start[f];
    return bin_in(b->cuts + a, b->cut_start[f + 1] - a, v);
}

void persona__gbdt_bins_free(persona__gbdt_bins *b)
{
    persona__free(b->bins);
    persona__free(b->cuts);
    persona__free(b->cut_start);
    memset(b, 0, sizeof *b);
}

/* The cuts of one feature from its k sorted present values into cuts; returns how many. */
static size_t make_cuts(const double *sorted, size_t k, unsigned max_bins, double *cuts)
{
    size_t distinct = 0, c = 0;
    for (size_t i = 0; i < k && distinct <= max_bins; i++)
        distinct += i == 0 || sorted[i] != sorted[i - 1];
    if (distinct <= max_bins) { /* one bin per distinct value */
        for (size_t i = 0; i + 1 < k; i++)
            if (sorted[i] != sorted[i + 1])
                cuts[c++] = sorted[i];
        return c;
    }
    for (size_t q = 1; q < max_bins; q++) {
        double v = sorted[q * k / max_bins];
        if (c == 0 || v > cuts[c - 1])
            cuts[c++] = v;
    }
    return c;
}

int persona__gbdt_bin(persona__gbdt_bins *out, const double *x, size_t n, size_t d,
                      unsigned max_bins)
{
    memset(out, 0, sizeof *out);
    if (max_bins < 2 || max_bins > PERSONA__GBDT_MAX_BINS)
        return persona__fail(PERSONA_EINVAL, "max_bins %u: from 2 to %u", max_bins,
                             PERSONA__GBDT_MAX_BINS);
    for (size_t i = 0; i < n * d; i++)
        if (isinf(x[i]))
            return persona__fail(PERSONA_EINVAL, "row %zu, feature %zu: %g is not a finite number",
                                 i / d, i % d, x[i]);
    double *col = persona__realloc_array(NULL, n + 1, sizeof *col);
    out->n = n;
    out->d = d;
    out->bins = persona__realloc_array(NULL, n * d + 1, sizeof *out->bins);
    out->cuts = persona__realloc_array(NULL, d * (max_bins - 1) + 1, sizeof *out->cuts);
    out->cut_start = persona__realloc_array(NULL, d + 1, sizeof *out->cut_start);
    if (!col || !out->bins || !out->cuts || !out->cut_start) {
        persona__free(col);
        persona__gbdt_bins_free(out);
        return persona__fail_nomem();
    }
    size_t at = 0;
    for (size_t f = 0; f < d; f++) {
        size_t k = persona__sorted_column(col, x, n, d, f);
        out->cut_start[f] = at;
        at += make_cuts(col, k, max_bins, out->cuts + at);
        out->cut_start[f + 1] = at;
        for (size_t i = 0; i < n; i++)
            out->bins[i * d + f] = persona__gbdt_bin_of(out, f, x[i * d + f]);
    }
    persona__free(col);
    return PERSONA_OK;
}
