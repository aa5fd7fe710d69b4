/* The k-means handle: options, the runs of a fit (n_init, the best kept), the getters and
 * the assignment of new points. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cluster/kmeans_internal.h"
#include "cluster/nearest_rows.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/structs.h"

#define DEFAULT_K 8
#define DEFAULT_MAX_ITER 300
#define DEFAULT_TOL 1e-4
#define DEFAULT_BATCH 1024 /* scikit-learn's MiniBatchKMeans default */

PERSONA__DEFINE_INIT(persona_kmeans_options, persona_kmeans_options_init)
PERSONA__DEFINE_INIT(persona_kmeans_info, persona_kmeans_info_init)

int persona__km_check_finite(const double *v, size_t rows, size_t d, const char *what)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < d; j++)
            if (!isfinite(v[r * d + j]))
                return persona__fail(PERSONA_EINVAL, "%s: row %zu, column %zu is %s", what, r, j,
                                     isnan(v[r * d + j]) ? "NaN" : "infinite");
    return PERSONA_OK;
}

void persona__km_column_spread(const double *x, size_t n, size_t d, double *mean, double *sd)
{
    /* row by row, every column's sum in point order: one pass over memory, not 2 d */
    memset(mean, 0, d * sizeof *mean);
    memset(sd, 0, d * sizeof *sd);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    for (size_t j = 0; j < d; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double t = x[i * d + j] - mean[j];
            sd[j] += t * t;
        }
    for (size_t j = 0; j < d; j++)
        sd[j] = sqrt(sd[j] / (double)n);
}

int persona__km_read_options(persona_kmeans_options *o, const persona_kmeans_options *in,
                             size_t n, size_t d)
{
    memset(o, 0, sizeof *o);
    if (in) {
        int rc = persona__struct_in(o, sizeof *o, in, sizeof *o, "persona_kmeans_options");
        if (rc)
            return rc;
    }
    if (!o->k)
        o->k = DEFAULT_K;
    if (!o->max_iter)
        o->max_iter = DEFAULT_MAX_ITER;
    if (!o->n_init)
        o->n_init = 1;
    if (o->tol == 0)
        o->tol = DEFAULT_TOL;
    if (!o->batch_size)
        o->batch_size = DEFAULT_BATCH;
    if (o->k > PERSONA_KMEANS_MAX_K)
        return persona__fail(PERSONA_EINVAL, "k = %u: at most %d clusters", o->k, PERSONA_KMEANS_MAX_K);
    if (o->k > n)
        return persona__fail(PERSONA_EINVAL, "k = %u is more than the %zu points", o->k, n);
    if (!isfinite(o->tol) || o->tol < 0)
        return persona__fail(PERSONA_EINVAL, "tol must be finite and >= 0");
    if (o->algorithm < PERSONA_KMEANS_AUTO || o->algorithm > PERSONA_KMEANS_MINIBATCH)
        return persona__fail(PERSONA_EINVAL, "unknown algorithm %d (0 auto … 4 minibatch)",
                             (int)o->algorithm);
    if (o->reserved)
        return persona__fail(PERSONA_EINVAL, "persona_kmeans_options: reserved must be 0");
    if (o->init_centers && o->n_init > 1)
        return persona__fail(PERSONA_EINVAL, "n_init = %u with given initial centres (one run only)",
                             o->n_init);
    if (o->init_centers)
        return persona__km_check_finite(o->init_centers, o->k, d, "init_centers");
    return PERSONA_OK;
}

PERSONA_API void persona_kmeans_free(persona_kmeans *m)
{
    if (!m)
        return;
    persona__free(m->centers);
    persona__free(m->sizes);
    persona__free(m->mean);
    persona__free(m->sd);
    persona__free(m->scale);
    persona__free(m->scaled_centers);
    persona__free(m->view_weights);
    persona__free(m->view_within);
    persona__free(m);
}

int persona__km_check_points(persona_kmeans **out, const double *points, size_t n, size_t d)
{
    if (out)
        *out = NULL;
    if (!out || !points)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "points" : "out");
    if (n == 0)
        return persona__fail(PERSONA_EINVAL, "no points to cluster");
    if (d == 0 || d > PERSONA_KMEANS_MAX_D)
        return persona__fail(PERSONA_EINVAL, "d = %zu: 1 to %d dimensions", d, PERSONA_KMEANS_MAX_D);
    if (n > SIZE_MAX / d / sizeof(double))
        return persona__fail(PERSONA_EINVAL, "%zu points of %zu dimensions do not fit in memory", n, d);
    return PERSONA_OK;
}

int persona__km_fit_run(const km_data *kd, const persona_kmeans_options *o, double *centers,
                        uint32_t *labels, uint64_t *sizes, double tol_abs, uint64_t seed,
                        km_result *res)
{
    if (o->algorithm == PERSONA_KMEANS_MINIBATCH)
        return persona__km_minibatch(kd, centers, labels, sizes, o->max_iter, tol_abs,
                                     o->batch_size, seed, res);
    int method = o->algorithm == PERSONA_KMEANS_LLOYD ? KM_LLOYD
               : o->algorithm == PERSONA_KMEANS_ELKAN ? KM_ELKAN
               : o->algorithm == PERSONA_KMEANS_HAMERLY ? KM_HAMERLY
               : o->k <= KM_AUTO_LLOYD_K && kd->d <= PERSONA__ROWS_MAX_D ? KM_LLOYD : KM_HAMERLY;
    return persona__km_run(kd, centers, labels, sizes, o->max_iter, tol_abs, method, res);
}

PERSONA_API int persona_kmeans_fit(persona_kmeans **out, const double *points, size_t n, size_t d,
                                   const persona_kmeans_options *opts, uint32_t *labels_out)
{
    int rc = persona__km_check_points(out, points, n, d);
    if (rc)
        return rc;
    persona_kmeans_options o;
    rc = persona__km_read_options(&o, opts, n, d);
    if (!rc)
        rc = persona__km_check_finite(points, n, d, "points");
    if (rc)
        return rc;
    km_data kd = { points, n, d, o.k, persona__threads((int)o.threads) };
    size_t kdn = (size_t)o.k * d;
    persona_kmeans *m = persona__calloc(1, sizeof *m);
    double *trial = persona__realloc_array(NULL, kdn, sizeof *trial);
    uint32_t *labels = persona__calloc(n, sizeof *labels);
    uint32_t *best_labels = o.n_init > 1 ? persona__calloc(n, sizeof *best_labels) : NULL;
    uint64_t *sizes = persona__calloc(o.k, sizeof *sizes);
    if (m) {
        m->centers = persona__realloc_array(NULL, kdn, sizeof *m->centers);
        m->sizes = persona__calloc(o.k, sizeof *m->sizes);
        m->mean = persona__calloc(d, sizeof *m->mean);
        m->sd = persona__calloc(d, sizeof *m->sd);
    }
    if (!m || !m->centers || !m->sizes || !m->mean || !m->sd || !trial || !labels || !sizes ||
        (o.n_init > 1 && !best_labels)) {
        rc = persona__fail_nomem();
        goto done;
    }
    double mean_var;
    if ((rc = persona__km_mean_variance(&kd, &mean_var)))
        goto done;
    persona__rng seeds;
    persona__rng_seed(&seeds, o.seed);
    m->inertia = INFINITY;
    for (uint32_t run = 0; run < o.n_init; run++) {
        uint64_t seed = o.n_init > 1 ? persona__rng_next(&seeds) : o.seed;
        if (o.init_centers)
            memcpy(trial, o.init_centers, kdn * sizeof *trial);
        else if ((rc = persona__km_plusplus(&kd, seed, trial)))
            goto done;
        memset(labels, 0, n * sizeof *labels);
        km_result res;
        if ((rc = persona__km_fit_run(&kd, &o, trial, labels, sizes, o.tol * mean_var, seed, &res)))
            goto done;
        if (run == 0 || res.inertia < m->inertia) {
            memcpy(m->centers, trial, kdn * sizeof *trial);
            memcpy(m->sizes, sizes, o.k * sizeof *sizes);
            m->inertia = res.inertia;
            m->iterations = res.iterations;
            m->converged = res.converged;
            if (best_labels)
                memcpy(best_labels, labels, n * sizeof *labels);
        }
    }
    m->k = o.k;
    m->d = d;
    m->n = n;
    persona__km_column_spread(points, n, d, m->mean, m->sd);
    if (labels_out)
        memcpy(labels_out, best_labels ? best_labels : labels, n * sizeof *labels_out);
    *out = m;
    m = NULL;
done:
    persona_kmeans_free(m);
    persona__free(trial);
    persona__free(labels);
    persona__free(best_labels);
    persona__free(sizes);
    return rc;
}

PERSONA_API int persona_kmeans_info_get(persona_kmeans_info *info, const persona_kmeans *m)
{
    if (!info || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", info ? "model" : "info");
    persona_kmeans_info v = { sizeof v,      m->k,          m->d,
                              m->n,          m->inertia,    m->iterations,
                              m->converged,  m->n_views ? m->n_views : 1, m->rounds };
    return persona__struct_out(info, &v, sizeof v, sizeof v, "persona_kmeans_info");
}

PERSONA_API int persona_kmeans_centers(double *out, size_t capacity, const persona_kmeans *m)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "model" : "out");
    size_t need = (size_t)m->k * m->d;
    if (capacity < need)
        return persona__fail(PERSONA_EBUFS, "room for %zu doubles, %zu needed", capacity, need);
    memcpy(out, m->centers, need * sizeof *out);
    return PERSONA_OK;
}

PERSONA_API int persona_kmeans_sizes(uint64_t *out, size_t capacity, const persona_kmeans *m)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "model" : "out");
    if (capacity < m->k)
        return persona__fail(PERSONA_EBUFS, "room for %zu counts, %u needed", capacity, m->k);
    memcpy(out, m->sizes, m->k * sizeof *out);
    return PERSONA_OK;
}

PERSONA_API int persona_kmeans_predict(uint32_t *labels, double *dist2, const persona_kmeans *m,
                                       const double *points, size_t n, size_t d)
{
    if (!labels || !m || (!points && n))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !labels ? "labels" : !m ? "model" : "points");
    if (d != m->d)
        return persona__fail(PERSONA_EINVAL, "points of %zu dimensions for a model of %zu", d, m->d);
    for (size_t i = 0; i < n; i++) {
        const double *x = points + i * d;
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[j]))
                return persona__fail(PERSONA_EINVAL, "point %zu, column %zu is %s", i, j,
                                     isnan(x[j]) ? "NaN" : "infinite");
        double d2;
        labels[i] = m->scale ? persona__km_nearest_scaled(x, m->scale, m->scaled_centers, m->k, d, &d2)
                             : persona__km_nearest(x, m->centers, m->k, d, &d2);
        if (dist2)
            dist2[i] = d2;
    }
    return PERSONA_OK;
}

PERSONA_API int persona_kmeans_zscores(double *out, size_t capacity, const persona_kmeans *m,
                                       uint32_t cluster)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "model" : "out");
    if (cluster >= m->k)
        return persona__fail(PERSONA_EINVAL, "cluster %u: the model has %u", cluster, m->k);
    if (capacity < m->d)
        return persona__fail(PERSONA_EBUFS, "room for %zu z-scores, %zu needed", capacity, m->d);
    const double *c = m->centers + (size_t)cluster * m->d;
    for (size_t j = 0; j < m->d; j++)
        out[j] = m->sd[j] > 0 ? (c[j] - m->mean[j]) / m->sd[j] : 0;
    return PERSONA_OK;
}

#define DESCRIBE_MOST 4

PERSONA_API int persona_kmeans_describe(char *buf, size_t capacity, size_t *out_len,
                                        const persona_kmeans *m, uint32_t cluster,
                                        const char *const *names, size_t n_names)
{
    if (!m || (!buf && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !m ? "model" : "buf");
    if (cluster >= m->k)
        return persona__fail(PERSONA_EINVAL, "cluster %u: the model has %u", cluster, m->k);
    if (names && n_names != m->d)
        return persona__fail(PERSONA_EINVAL, "%zu names for %zu dimensions", n_names, m->d);
    for (size_t j = 0; names && j < n_names; j++)
        if (!names[j])
            return persona__fail(PERSONA_EINVAL, "name %zu is NULL", j);
    double *z = persona__realloc_array(NULL, m->d, sizeof *z);
    persona__buf b;
    persona__buf_init(&b);
    if (!z)
        return persona__fail_nomem();
    persona_kmeans_zscores(z, m->d, m, cluster);
    size_t said = 0;
    char tmp[64];
    while (said < DESCRIBE_MOST) {
        /* the most distinctive dimension not said yet (ties: lower index); said ones are NaN */
        size_t j = m->d;
        for (size_t q = 0; q < m->d; q++)
            if (!isnan(z[q]) && (j == m->d || fabs(z[q]) > fabs(z[j])))
                j = q;
        if (j == m->d || fabs(z[j]) < 0.5)
            break;
        double zj = z[j];
        z[j] = NAN;
        if (said++)
            persona__buf_puts(&b, ", ");
        persona__buf_puts(&b, zj >= 1.5 ? "very high " : zj >= 0.5 ? "high " : zj > -1.5 ? "low " : "very low ");
        if (names) {
            persona__buf_puts(&b, names[j]);
        } else {
            snprintf(tmp, sizeof tmp, "x%zu", j);
            persona__buf_puts(&b, tmp);
        }
        snprintf(tmp, sizeof tmp, " (%.4g)", m->centers[(size_t)cluster * m->d + j]);
        persona__buf_puts(&b, tmp);
    }
    if (!said)
        persona__buf_puts(&b, "typical");
    snprintf(tmp, sizeof tmp, ": %.1f %% of points (%llu)",
             m->n ? 100.0 * (double)m->sizes[cluster] / (double)m->n : 0.0,
             (unsigned long long)m->sizes[cluster]);
    persona__buf_puts(&b, tmp);
    int rc = b.failed ? persona__fail_nomem() : persona__copy_out(buf, capacity, out_len, b.data, b.len);
    persona__buf_free(&b);
    persona__free(z);
    return rc;
}
