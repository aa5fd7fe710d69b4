/* The hierarchical-clustering handle: options, the fit (the algorithms' merges turned into
 * SciPy's linkage matrix), flat clusters and the assignment of new points. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/hclust_internal.h"
#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/structs.h"

PERSONA__DEFINE_INIT(persona_hclust_options, persona_hclust_options_init)
PERSONA__DEFINE_INIT(persona_hclust_info, persona_hclust_info_init)

PERSONA_API void persona_hclust_free(persona_hclust *m)
{
    if (!m)
        return;
    persona__free(m->points);
    persona__free(m->z);
    persona__free(m);
}

/* Union–find over the points, each root knowing the id and size of its cluster. */
typedef struct forest {
    uint32_t *parent, *id, *size;
} forest;

static int forest_init(forest *f, size_t n)
{
    f->parent = persona__realloc_array(NULL, n, sizeof *f->parent);
    f->id = persona__realloc_array(NULL, n, sizeof *f->id);
    f->size = persona__realloc_array(NULL, n, sizeof *f->size);
    if (!f->parent || !f->id || !f->size) {
        persona__free(f->parent);
        persona__free(f->id);
        persona__free(f->size);
        return persona__fail_nomem();
    }
    for (size_t i = 0; i < n; i++) {
        f->parent[i] = f->id[i] = (uint32_t)i;
        f->size[i] = 1;
    }
    return PERSONA_OK;
}

static void forest_free(forest *f)
{
    persona__free(f->parent);
    persona__free(f->id);
    persona__free(f->size);
}

static uint32_t forest_root(forest *f, uint32_t i)
{
    while (f->parent[i] != i) {
        f->parent[i] = f->parent[f->parent[i]];
        i = f->parent[i];
    }
    return i;
}

/* Join the roots ra and rb into a cluster of the given id. */
static void forest_join(forest *f, uint32_t ra, uint32_t rb, uint32_t id)
{
    if (f->size[ra] < f->size[rb]) {
        uint32_t t = ra;
        ra = rb;
        rb = t;
    }
    f->parent[rb] = ra;
    f->size[ra] += f->size[rb];
    f->id[ra] = id;
}

/* Merge b sorts before merge a: lower, or as low and found earlier. */
static int sorts_before(const hc_merge *m, uint32_t b, uint32_t a)
{
    return m[b].height < m[a].height || (m[b].height == m[a].height && b < a);
}

/* The merge indexes sorted by height, equal heights in the order found (a merge sort:
 * qsort is not stable and qsort_r is not C11). */
static void sort_merges(uint32_t *idx, uint32_t *tmp, size_t count, const hc_merge *m)
{
    for (size_t width = 1; width < count; width *= 2) {
        for (size_t lo = 0; lo < count; lo += 2 * width) {
            size_t mid = lo + width < count ? lo + width : count;
            size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = sorts_before(m, idx[j], idx[i]) ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, count * sizeof *idx);
    }
}

/* SciPy's linkage matrix from the merges: rows by height, clusters numbered as formed. */
static int to_linkage(const hc_merge *merges, size_t n, double *z)
{
    size_t count = n - 1;
    uint32_t *idx = persona__realloc_array(NULL, count ? count : 1, sizeof *idx);
    uint32_t *tmp = persona__realloc_array(NULL, count ? count : 1, sizeof *tmp);
    forest f = { 0 };
    int rc = (!idx || !tmp) ? persona__fail_nomem() : forest_init(&f, n);
    if (rc) {
        persona__free(idx);
        persona__free(tmp);
        return rc;
    }
    for (size_t i = 0; i < count; i++)
        idx[i] = (uint32_t)i;
    sort_merges(idx, tmp, count, merges);
    for (size_t r = 0; r < count; r++) {
        const hc_merge *m = &merges[idx[r]];
        uint32_t ra = forest_root(&f, m->a), rb = forest_root(&f, m->b);
        uint32_t ia = f.id[ra], ib = f.id[rb];
        double *row = z + 4 * r;
        row[0] = ia < ib ? ia : ib;
        row[1] = ia < ib ? ib : ia;
        row[2] = m->height;
        row[3] = (double)f.size[ra] + (double)f.size[rb];
        forest_join(&f, ra, rb, (uint32_t)(n + r));
    }
    forest_free(&f);
    persona__free(idx);
    persona__free(tmp);
    return PERSONA_OK;
}

/* The largest distance the method can see, n × the squared diagonal of the points' box
 * (Ward's 2ab/(a+b) is below n), must be finite. */
static int check_range(const double *x, size_t n, size_t d)
{
    double diag2 = 0;
    for (size_t j = 0; j < d; j++) {
        double lo = x[j], hi = x[j];
        for (size_t i = 1; i < n; i++) {
            double v = x[i * d + j];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        double span = hi - lo;
        diag2 += span * span;
    }
    if (!isfinite(diag2 * (double)n))
        return persona__fail(PERSONA_EINVAL, "coordinates so large that the distances overflow");
    return PERSONA_OK;
}

static int read_options(persona_hclust_options *o, const persona_hclust_options *in)
{
    memset(o, 0, sizeof *o);
    if (in) {
        int rc = persona__struct_in(o, sizeof *o, in, sizeof *o, "persona_hclust_options");
        if (rc)
            return rc;
    }
    if (o->method < PERSONA_LINKAGE_WARD || o->method > PERSONA_LINKAGE_SINGLE)
        return persona__fail(PERSONA_EINVAL, "unknown linkage method %d", (int)o->method);
    return PERSONA_OK;
}

PERSONA_API int persona_hclust_fit(persona_hclust **out, const double *points, size_t n, size_t d,
                                   const persona_hclust_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !points)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "points" : "out");
    if (n == 0 || n > PERSONA_HCLUST_MAX_N)
        return persona__fail(PERSONA_EINVAL, "n = %zu: 1 to %d points", n, PERSONA_HCLUST_MAX_N);
    if (d == 0 || d > PERSONA_HCLUST_MAX_D)
        return persona__fail(PERSONA_EINVAL, "d = %zu: 1 to %d dimensions", d, PERSONA_HCLUST_MAX_D);
    persona_hclust_options o;
    int rc = read_options(&o, opts);
    if (!rc)
        rc = persona__km_check_finite(points, n, d, "points");
    if (!rc)
        rc = check_range(points, n, d);
    if (rc)
        return rc;
    persona_hclust *m = persona__calloc(1, sizeof *m);
    hc_merge *merges = persona__realloc_array(NULL, n, sizeof *merges);
    if (m) {
        m->points = persona__realloc_array(NULL, n * d, sizeof *m->points);
        m->z = persona__realloc_array(NULL, 4 * n, sizeof *m->z);
    }
    if (!m || !m->points || !m->z || !merges) {
        rc = persona__fail_nomem();
        goto done;
    }
    m->method = o.method;
    m->n = n;
    m->d = d;
    memcpy(m->points, points, n * d * sizeof *points);
    if (n > 1) {
        if (o.method == PERSONA_LINKAGE_SINGLE)
            rc = persona__hc_single(points, n, d, merges);
        else
            rc = persona__hc_chain(points, n, d, o.method, persona__threads((int)o.threads), merges);
        if (!rc)
            rc = to_linkage(merges, n, m->z);
        if (rc)
            goto done;
    }
    *out = m;
    m = NULL;
done:
    persona_hclust_free(m);
    persona__free(merges);
    return rc;
}

PERSONA_API int persona_hclust_info_get(persona_hclust_info *info, const persona_hclust *m)
{
    if (!info || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", info ? "model" : "info");
    persona_hclust_info v = { sizeof v, m->method, m->n, m->d };
    return persona__struct_out(info, &v, sizeof v, sizeof v, "persona_hclust_info");
}

PERSONA_API int persona_hclust_linkage(double *out, size_t capacity, const persona_hclust *m)
{
    if (!m || (!out && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "out" : "model");
    size_t need = 4 * (m->n - 1);
    if (capacity < need)
        return persona__fail(PERSONA_EBUFS, "room for %zu doubles, %zu needed", capacity, need);
    if (need)
        memcpy(out, m->z, need * sizeof *out);
    return PERSONA_OK;
}

int persona__hc_flat(uint32_t *labels, const persona_hclust *m, size_t merges, uint32_t *k_out)
{
    size_t n = m->n;
    forest f = { 0 };
    uint32_t *rep = persona__realloc_array(NULL, 2 * n, sizeof *rep); /* a point of cluster id */
    int rc = rep ? forest_init(&f, n) : persona__fail_nomem();
    if (rc) {
        persona__free(rep);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        rep[i] = (uint32_t)i;
    for (size_t r = 0; r < merges; r++) {
        const double *row = m->z + 4 * r;
        uint32_t a = rep[(size_t)row[0]], b = rep[(size_t)row[1]];
        rep[n + r] = a;
        forest_join(&f, forest_root(&f, a), forest_root(&f, b), (uint32_t)(n + r));
    }
    /* the sizes are no longer needed: a root's slot becomes its label, given in point order */
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++)
        f.size[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = forest_root(&f, (uint32_t)i);
        if (f.size[r] == UINT32_MAX)
            f.size[r] = k++;
        labels[i] = f.size[r];
    }
    if (k_out)
        *k_out = k;
    forest_free(&f);
    persona__free(rep);
    return PERSONA_OK;
}

PERSONA_API int persona_hclust_cut(uint32_t *labels, size_t capacity, const persona_hclust *m,
                                   uint32_t k)
{
    if (!labels || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", labels ? "model" : "labels");
    if (k < 1 || k > m->n)
        return persona__fail(PERSONA_EINVAL, "k = %u: 1 to the %zu points", k, m->n);
    if (capacity < m->n)
        return persona__fail(PERSONA_EBUFS, "room for %zu labels, %zu needed", capacity, m->n);
    return persona__hc_flat(labels, m, m->n - k, NULL);
}

PERSONA_API int persona_hclust_cut_height(uint32_t *labels, size_t capacity, uint32_t *k_out,
                                          const persona_hclust *m, double height)
{
    if (!labels || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", labels ? "model" : "labels");
    if (isnan(height))
        return persona__fail(PERSONA_EINVAL, "the height is NaN");
    if (capacity < m->n)
        return persona__fail(PERSONA_EBUFS, "room for %zu labels, %zu needed", capacity, m->n);
    size_t merges = 0;
    while (merges + 1 < m->n && m->z[4 * merges + 2] <= height)
        merges++;
    return persona__hc_flat(labels, m, merges, k_out);
}
