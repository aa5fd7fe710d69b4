/* RFM scores and segments from the per-user values (docs/rfm.md):
 *
 * - ranks 1 … n by value, ties in user order (pandas rank(method="first"));
 * - the bin of a rank as pandas.qcut(ranks, bins) gives it: qcut takes the edges
 *   numpy.quantile(ranks, numpy.linspace(0, 1, bins + 1)) (linear method) and puts r in
 *   the bin (e_(i-1), e_i], the first bin closed. The edges are reproduced here operation
 *   for operation in double precision, because they are not always the exact quantiles:
 *   with 6 bins and 19 ranks the fifth edge is 15.999999999999998, not 16, so rank 16 is
 *   in bin 6;
 * - the segment from the grid of R and the mean of F and M, scaled to five levels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "segment/rfm_internal.h"

void persona__rfm_edges(double *edges, size_t n, uint32_t bins)
{
    /* numpy.linspace(0, 1, bins + 1): arange(bins + 1) * (1 / bins) + 0, last set to 1 */
    volatile double step = 1.0 / (double)bins;
    double last = (double)(n - 1);
    for (uint32_t i = 1; i < bins; i++) {
        volatile double p = (double)i * step;
        p = p + 0.0;
        /* numpy's linear quantile: virtual index v = (n - 1) * p between the order
         * statistics prev + 1 and prev + 2 (the sorted ranks), interpolated by
         * numpy's _lerp: a + d * t, or b - d * (1 - t) when t >= 0.5 */
        volatile double v = last * p;
        if (v >= last) { /* past the last index: the largest rank */
            edges[i - 1] = (double)n;
            continue;
        }
        double prev = floor(v);
        volatile double t = v - prev;
        double a = prev + 1.0, b = prev + 2.0, d = b - a;
        volatile double dt;
        if (t >= 0.5) {
            dt = d * (1.0 - t);
            edges[i - 1] = b - dt;
        } else {
            dt = d * t;
            edges[i - 1] = a + dt;
        }
    }
}

uint32_t persona__rfm_bin(const double *edges, uint32_t bins, size_t r)
{
    /* searchsorted(edges, r, side="left"): the edges strictly below r; e_0 = 1 is below
     * every rank but the first, which include_lowest puts in bin 1 */
    uint32_t bin = 1;
    double x = (double)r;
    for (uint32_t i = 0; i + 1 < bins; i++)
        bin += edges[i] < x;
    return bin;
}

/* Putler's R × FM chart (docs/rfm.md): rows FM5 = 5 … 1, columns R5 = 1 … 5. */
static const int8_t grid[5][5] = {
    { PERSONA_RFM_CANT_LOSE_THEM, PERSONA_RFM_AT_RISK, PERSONA_RFM_LOYAL, PERSONA_RFM_LOYAL,
      PERSONA_RFM_CHAMPIONS },
    { PERSONA_RFM_AT_RISK, PERSONA_RFM_AT_RISK, PERSONA_RFM_LOYAL, PERSONA_RFM_LOYAL,
      PERSONA_RFM_LOYAL },
    { PERSONA_RFM_AT_RISK, PERSONA_RFM_AT_RISK, PERSONA_RFM_NEED_ATTENTION,
      PERSONA_RFM_POTENTIAL_LOYALIST, PERSONA_RFM_POTENTIAL_LOYALIST },
    { PERSONA_RFM_LOST, PERSONA_RFM_HIBERNATING, PERSONA_RFM_ABOUT_TO_SLEEP,
      PERSONA_RFM_POTENTIAL_LOYALIST, PERSONA_RFM_POTENTIAL_LOYALIST },
    { PERSONA_RFM_LOST, PERSONA_RFM_LOST, PERSONA_RFM_ABOUT_TO_SLEEP, PERSONA_RFM_PROMISING,
      PERSONA_RFM_NEW },
};

int32_t persona__rfm_segment_of(uint32_t r, uint32_t f, uint32_t m, uint32_t bins)
{
    /* the point (5R / bins, 5 (F + M) / (2 bins)) of the [0, 5]² chart lies in the cell
     * (ceil, ceil): a point on a border belongs to the cell below / to the left */
    uint32_t r5 = (5 * r + bins - 1) / bins;
    uint32_t fm5 = (5 * (f + m) + 2 * bins - 1) / (2 * bins);
    return grid[5 - fm5][r5 - 1];
}

static const char *const segment_names[PERSONA_RFM_SEGMENTS] = {
    "Champions",      "Loyal",   "Potential loyalist", "New",
    "Promising",      "Need attention", "About to sleep", "At risk",
    "Can't lose them", "Hibernating", "Lost",
};

PERSONA_API const char *persona_rfm_segment_name(int32_t segment)
{
    if (segment < 0 || segment >= PERSONA_RFM_SEGMENTS)
        return "unknown";
    return segment_names[segment];
}

/* ---- ranking ------------------------------------------------------------------------- */

typedef struct rank_sort {
    const persona_rfm *x;
    int what; /* 0 recency (latest purchase, descending), 1 frequency, 2 monetary */
} rank_sort;

/* qsort has no context argument: the sort runs with the lock-free thread-local below. */
static _Thread_local const rank_sort *current;

static int cmp_rank(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const persona_rfm *x = current->x;
    int c = 0;
    switch (current->what) {
    case 0: /* recency ascending = latest purchase descending; whole days only */
    {
        int64_t ra = (x->o.reference_ms - x->last_ms[a]) / RFM_DAY_MS;
        int64_t rb = (x->o.reference_ms - x->last_ms[b]) / RFM_DAY_MS;
        c = (ra > rb) - (ra < rb);
        break;
    }
    case 1:
        c = (x->frequency[a] > x->frequency[b]) - (x->frequency[a] < x->frequency[b]);
        break;
    default:
        c = (x->monetary[a] > x->monetary[b]) - (x->monetary[a] < x->monetary[b]);
        break;
    }
    return c ? c : (a > b) - (a < b);
}

static int cmp_key(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    size_t la, lb;
    const char *ka = persona__rfm_key(current->x, a, &la);
    const char *kb = persona__rfm_key(current->x, b, &lb);
    int c = memcmp(ka, kb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

int persona__rfm_score(persona_rfm *x)
{
    size_t n = x->n, alloc = n ? n : 1;
    if (!x->key_off && !(x->key_off = persona__calloc(1, sizeof *x->key_off)))
        return persona__fail_nomem(); /* no users: the one offset */
    uint32_t *order = persona__realloc_array(NULL, alloc, sizeof *order);
    x->by_key = persona__realloc_array(NULL, alloc, sizeof *x->by_key);
    x->r = persona__alloc(alloc);
    x->f = persona__alloc(alloc);
    x->m = persona__alloc(alloc);
    x->segment = persona__alloc(alloc);
    if (!order || !x->by_key || !x->r || !x->f || !x->m || !x->segment) {
        persona__free(order);
        return persona__fail_nomem();
    }
    double edges[PERSONA_RFM_MAX_BINS];
    uint32_t bins = x->o.bins;
    if (n)
        persona__rfm_edges(edges, n, bins);
    uint8_t *score[3] = { x->r, x->f, x->m };
    for (int what = 0; what < 3; what++) {
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        rank_sort rs = { x, what };
        current = &rs;
        qsort(order, n, sizeof *order, cmp_rank);
        current = NULL;
        for (size_t k = 0; k < n; k++) {
            uint32_t bin = persona__rfm_bin(edges, bins, k + 1);
            score[what][order[k]] = (uint8_t)(what == 0 ? bins + 1 - bin : bin);
        }
    }
    memset(x->seg_size, 0, sizeof x->seg_size);
    for (size_t i = 0; i < n; i++) {
        int32_t s = persona__rfm_segment_of(x->r[i], x->f[i], x->m[i], bins);
        x->segment[i] = (uint8_t)s;
        x->seg_size[s]++;
    }
    for (size_t i = 0; i < n; i++)
        x->by_key[i] = (uint32_t)i;
    rank_sort rs = { x, 0 };
    current = &rs;
    qsort(x->by_key, n, sizeof *x->by_key, cmp_key);
    current = NULL;
    persona__free(order);
    return PERSONA_OK;
}
