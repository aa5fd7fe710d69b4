/* Ward, average and complete linkage by the nearest-neighbour chain (F. Murtagh, "A survey
 * of recent advances in hierarchical clustering algorithms", The Computer Journal 26(4),
 * 1983; D. Müllner, "Modern hierarchical, agglomerative clustering algorithms",
 * arXiv:1109.2378, 2011): follow nearest neighbours from a cluster until two clusters are
 * each other's nearest, merge them, go on from the rest of the chain. For these linkages
 * (reducible ones) this gives the merges of always joining the closest pair.
 *
 * The tie rules are SciPy's: the chain starts at the lowest live slot; a cluster's nearest
 * is the previous cluster in the chain when that is at the least distance, else the lowest
 * slot at it; the merged cluster takes the higher slot of the two.
 *
 * Ward keeps centroids (O(n d) memory): its distance is sqrt(2ab/(a+b)) × the distance
 * of the centroids, compared as ab/(a+b) × the squared distance. Average and complete keep
 * the pairwise distances, updated by the Lance–Williams formulas. */
#include <math.h>
#include <string.h>

#include "cluster/dist_lanes.h"
#include "cluster/hclust_internal.h"
#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"

#define LANES PERSONA__LANES

/* What the chain asks of a linkage. Values are compared: the smaller, the nearer. */
typedef struct chain_ops {
    /* The nearest live cluster to slot x, not x: least value, of equal ones the lowest
     * slot; its value in *value. */
    uint32_t (*nearest)(void *ctx, uint32_t x, double *value);
    /* The value of live slots x and y, with the same bits as nearest() gives from x. */
    double (*value)(void *ctx, uint32_t x, uint32_t y);
    /* Merge live slots x < y at value v into slot y; x dies. */
    void (*merge)(void *ctx, uint32_t x, uint32_t y, double v);
    /* The height of a value. */
    double (*height)(double v);
} chain_ops;

static int run_chain(size_t n, const chain_ops *ops, void *ctx, hc_merge *merges)
{
    uint32_t *chain = persona__realloc_array(NULL, n, sizeof *chain);
    unsigned char *dead = persona__calloc(n, 1);
    if (!chain || !dead) {
        persona__free(chain);
        persona__free(dead);
        return persona__fail_nomem();
    }
    size_t len = 0, first = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        if (len == 0) {
            while (dead[first])
                first++;
            chain[len++] = (uint32_t)first;
        }
        uint32_t x, y;
        double v;
        for (;;) {
            x = chain[len - 1];
            y = ops->nearest(ctx, x, &v);
            if (len > 1) {
                uint32_t prev = chain[len - 2];
                double pv = ops->value(ctx, x, prev);
                if (pv <= v) {
                    y = prev;
                    v = pv;
                    break;
                }
            }
            /* Exact arithmetic cannot revisit a cluster (values fall along the chain);
             * rounding could, so a full chain merges where it stands. */
            if (len == n)
                break;
            chain[len++] = y;
        }
        len -= 2;
        if (x > y) {
            uint32_t t = x;
            x = y;
            y = t;
        }
        merges[k].a = x;
        merges[k].b = y;
        merges[k].height = ops->height(v);
        ops->merge(ctx, x, y, v);
        dead[x] = 1;
    }
    persona__free(chain);
    persona__free(dead);
    return PERSONA_OK;
}

/* ---- Ward: centroids, stored transposed in a compact array of the live clusters ---- */

typedef struct ward {
    size_t d, stride, live;
    double *ct;     /* d × stride: coordinate j of the cluster at position p: ct[j*stride+p] */
    double *count;  /* stride: points of the cluster at position p */
    uint32_t *slot; /* stride: the slot at position p */
    uint32_t *pos;  /* n: the position of slot s */
    double *x;      /* d: one centroid, contiguous */
    double *scratch; /* stride */
} ward;

/* ab/(a+b), as ward_scan computes it per lane */
static double ward_weight(double a, double b)
{
    return a * b / (a + b);
}

static void ward_load(ward *w, uint32_t s)
{
    size_t p = w->pos[s];
    for (size_t j = 0; j < w->d; j++)
        w->x[j] = w->ct[j * w->stride + p];
}

/* Values of x (d coordinates, nx points) against the clusters at positions 0 … padded-1
 * into v; returns the least. A position whose count is NaN (x's own, the padding) gets NaN,
 * which is never the least. Each lane does the operations of ward_value(). */
#if defined(__GNUC__)
typedef double lanes __attribute__((vector_size(LANES * sizeof(double))));
typedef long long lane_bits __attribute__((vector_size(LANES * sizeof(double))));
PERSONA__KERNEL_CLONES
static double ward_scan(const double *x, const double *ct, const double *count, size_t stride,
                        size_t padded, size_t d, double nx, double *v)
{
    lanes least;
    for (int l = 0; l < LANES; l++)
        least[l] = INFINITY;
    for (size_t c0 = 0; c0 < padded; c0 += LANES) {
        lanes acc = { 0 }, cnt;
        for (size_t j = 0; j < d; j++) {
            lanes row;
            memcpy(&row, ct + j * stride + c0, sizeof row);
            lanes t = x[j] - row;
            lanes sq = t * t;
            acc += sq;
        }
        memcpy(&cnt, count + c0, sizeof cnt);
        lanes w = nx * cnt / (nx + cnt);
        lanes val = w * acc;
        memcpy(v + c0, &val, sizeof val);
        lane_bits lower = val < least, vb, lb;
        memcpy(&vb, &val, sizeof vb);
        memcpy(&lb, &least, sizeof lb);
        lb = (vb & lower) | (lb & ~lower);
        memcpy(&least, &lb, sizeof least);
    }
    double m = least[0];
    for (int l = 1; l < LANES; l++)
        m = least[l] < m ? least[l] : m;
    return m;
}
#else
static double ward_scan(const double *x, const double *ct, const double *count, size_t stride,
                        size_t padded, size_t d, double nx, double *v)
{
    double m = INFINITY;
    for (size_t c = 0; c < padded; c++) {
        double acc = 0;
        for (size_t j = 0; j < d; j++) {
            double t = x[j] - ct[j * stride + c];
            double sq = t * t;
            acc += sq;
        }
        double w = nx * count[c] / (nx + count[c]);
        v[c] = w * acc;
        m = v[c] < m ? v[c] : m;
    }
    return m;
}
#endif

static uint32_t ward_nearest(void *ctx, uint32_t x, double *value)
{
    ward *w = ctx;
    size_t px = w->pos[x], live = w->live;
    ward_load(w, x);
    double nx = w->count[px];
    w->count[px] = NAN;
    double least = ward_scan(w->x, w->ct, w->count, w->stride, PERSONA__LANES_UP(live), w->d, nx, w->scratch);
    w->count[px] = nx;
    size_t best = live;
    for (size_t p = 0; p < live; p++)
        if (w->scratch[p] == least && (best == live || w->slot[p] < w->slot[best]))
            best = p;
    *value = least;
    return w->slot[best];
}

static double ward_value(void *ctx, uint32_t x, uint32_t y)
{
    ward *w = ctx;
    size_t px = w->pos[x], py = w->pos[y];
    ward_load(w, x);
    double s = 0;
    for (size_t j = 0; j < w->d; j++) {
        double t = w->x[j] - w->ct[j * w->stride + py];
        double sq = t * t;
        s += sq;
    }
    return ward_weight(w->count[px], w->count[py]) * s;
}

static void ward_merge(void *ctx, uint32_t x, uint32_t y, double v)
{
    (void)v;
    ward *w = ctx;
    size_t px = w->pos[x], py = w->pos[y], last = w->live - 1;
    double a = w->count[px], b = w->count[py];
    for (size_t j = 0; j < w->d; j++) {
        double *row = w->ct + j * w->stride;
        row[py] = (a * row[px] + b * row[py]) / (a + b);
    }
    w->count[py] = a + b;
    /* the last live cluster takes x's position */
    for (size_t j = 0; j < w->d; j++)
        w->ct[j * w->stride + px] = w->ct[j * w->stride + last];
    w->count[px] = w->count[last];
    w->slot[px] = w->slot[last];
    w->pos[w->slot[px]] = (uint32_t)px;
    w->count[last] = NAN; /* padding from now on */
    w->live = last;
}

static double ward_height(double v)
{
    return sqrt(2 * v);
}

static int ward_chain(const double *x, size_t n, size_t d, hc_merge *merges)
{
    ward w = { d, PERSONA__LANES_UP(n), n, NULL, NULL, NULL, NULL, NULL, NULL };
    w.ct = persona__calloc(d * w.stride, sizeof *w.ct);
    w.count = persona__calloc(w.stride, sizeof *w.count);
    w.slot = persona__calloc(w.stride, sizeof *w.slot);
    w.pos = persona__calloc(n, sizeof *w.pos);
    w.x = persona__calloc(d, sizeof *w.x);
    w.scratch = persona__calloc(w.stride, sizeof *w.scratch);
    int rc = PERSONA_OK;
    if (!w.ct || !w.count || !w.slot || !w.pos || !w.x || !w.scratch) {
        rc = persona__fail_nomem();
    } else {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++)
                w.ct[j * w.stride + i] = x[i * d + j];
            w.count[i] = 1;
            w.slot[i] = (uint32_t)i;
            w.pos[i] = (uint32_t)i;
        }
        for (size_t p = n; p < w.stride; p++)
            w.count[p] = NAN;
        static const chain_ops ops = { ward_nearest, ward_value, ward_merge, ward_height };
        rc = run_chain(n, &ops, &w, merges);
    }
    persona__free(w.ct);
    persona__free(w.count);
    persona__free(w.slot);
    persona__free(w.pos);
    persona__free(w.x);
    persona__free(w.scratch);
    return rc;
}

/* ---- Average and complete: the condensed distance matrix, as SciPy's pdist ---- */

typedef struct pairwise {
    size_t n;
    int32_t method;
    double *dist;   /* n(n-1)/2: pair i < j at row_start(i) + j - i - 1 */
    double *count;  /* n: points of the cluster in slot s */
    uint32_t *live; /* the live slots in increasing order */
    size_t n_live;
} pairwise;

static size_t row_start(size_t n, size_t i)
{
    return n * i - i * (i + 1) / 2;
}

static double *pair(pairwise *p, size_t i, size_t j)
{
    if (i > j) {
        size_t t = i;
        i = j;
        j = t;
    }
    return p->dist + row_start(p->n, i) + (j - i - 1);
}

static uint32_t pair_nearest(void *ctx, uint32_t x, double *value)
{
    pairwise *p = ctx;
    const uint32_t *live = p->live;
    size_t m = p->n_live, q = 0;
    uint32_t best = (uint32_t)p->n;
    double bv = INFINITY;
    for (; q < m && live[q] < x; q++) { /* column x of the rows above: one load a row */
        double v = *pair(p, live[q], x);
        if (best == p->n || v < bv) {
            bv = v;
            best = live[q];
        }
    }
    const double *row = p->dist + row_start(p->n, x) - x - 1; /* row[i] = pair (x, i), i > x */
    for (q++; q < m; q++) {
        double v = row[live[q]];
        if (best == p->n || v < bv) {
            bv = v;
            best = live[q];
        }
    }
    *value = bv;
    return best;
}

static double pair_value(void *ctx, uint32_t x, uint32_t y)
{
    return *pair(ctx, x, y);
}

static void pair_merge(void *ctx, uint32_t x, uint32_t y, double v)
{
    (void)v;
    pairwise *p = ctx;
    double a = p->count[x], b = p->count[y];
    size_t m = p->n_live, at = 0;
    for (size_t q = 0; q < m; q++) {
        uint32_t i = p->live[q];
        if (i == x)
            at = q;
        if (i == x || i == y)
            continue;
        double dx = *pair(p, i, x), *dy = pair(p, i, y);
        if (p->method == PERSONA_LINKAGE_COMPLETE)
            *dy = dx > *dy ? dx : *dy;
        else
            *dy = (a * dx + b * *dy) / (a + b);
    }
    p->count[y] = a + b;
    memmove(p->live + at, p->live + at + 1, (m - at - 1) * sizeof *p->live);
    p->n_live = m - 1;
}

static double same_height(double v)
{
    return v;
}

/* Rows of the matrix on `threads` threads: row i is part i mod threads. */
typedef struct pdist_job {
    const double *ct; /* d × stride, the points transposed */
    size_t n, d, stride;
    double *dist;
    double *scratch; /* threads × stride */
    int threads;
} pdist_job;

static void pdist_part(void *ctx, int t)
{
    pdist_job *job = ctx;
    double *buf = job->scratch + (size_t)t * job->stride;
    double *xi = buf + job->stride - job->d; /* the point's coordinates: past every row read */
    for (size_t i = (size_t)t; i + 1 < job->n; i += (size_t)job->threads) {
        for (size_t j = 0; j < job->d; j++)
            xi[j] = job->ct[j * job->stride + i];
        size_t from = (i + 1) / LANES * LANES;
        persona__dist2_lanes(xi, job->ct + from, job->stride, PERSONA__LANES_UP(job->n) - from, job->d, buf);
        double *row = job->dist + row_start(job->n, i);
        for (size_t j = i + 1; j < job->n; j++)
            row[j - i - 1] = sqrt(buf[j - from]);
    }
}

static int pairwise_chain(const double *x, size_t n, size_t d, int32_t method, int threads,
                          hc_merge *merges)
{
    pairwise p = { n, method, NULL, NULL, NULL, n };
    size_t pairs = n * (n - 1) / 2, stride = PERSONA__LANES_UP(n) + d;
    if (threads < 1)
        threads = 1;
    if ((size_t)threads > n)
        threads = (int)n;
    p.dist = persona__realloc_array(NULL, pairs ? pairs : 1, sizeof *p.dist);
    p.count = persona__calloc(n, sizeof *p.count);
    p.live = persona__calloc(n, sizeof *p.live);
    double *ct = persona__calloc(d, stride * sizeof *ct);
    double *scratch = persona__calloc((size_t)threads, stride * sizeof *scratch);
    int rc = PERSONA_OK;
    if (!p.dist || !p.count || !p.live || !ct || !scratch) {
        rc = persona__fail_nomem();
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                ct[j * stride + i] = x[i * d + j];
        pdist_job job = { ct, n, d, stride, p.dist, scratch, threads };
        if (threads == 1)
            pdist_part(&job, 0);
        else
            persona__parallel_run(threads, pdist_part, &job);
        for (size_t i = 0; i < n; i++) {
            p.count[i] = 1;
            p.live[i] = (uint32_t)i;
        }
        static const chain_ops ops = { pair_nearest, pair_value, pair_merge, same_height };
        rc = run_chain(n, &ops, &p, merges);
    }
    persona__free(ct);
    persona__free(scratch);
    persona__free(p.dist);
    persona__free(p.count);
    persona__free(p.live);
    return rc;
}

int persona__hc_chain(const double *x, size_t n, size_t d, int32_t method, int threads,
                      hc_merge *merges)
{
    if (method == PERSONA_LINKAGE_WARD)
        return ward_chain(x, n, d, merges);
    return pairwise_chain(x, n, d, method, threads, merges);
}
