/* Multi-view k-means (kmeans.h, persona_kmeans_fit_views): rounds of k-means on the columns
 * scaled by w_v^(gamma/2), each followed by the view weights that minimise
 * sum_v w_v^gamma D_v for the labels found (Huang, Ng, Rong and Li, "Automated variable
 * weighting in k-means type clustering", IEEE TPAMI 27(5), 2005, applied to groups of
 * columns; Cai, Nie and Huang, "Multi-view k-means clustering on big data", IJCAI 2013).
 *
 * Scaling the columns turns the weighted distance into the plain one, so every round is an
 * exact k-means run of kmeans_iter.c with its stopping rule and thread-independence; the
 * objective does not increase from one step to the next (the labels and centres minimise it
 * for fixed weights, the weights for fixed labels). */
#include <math.h>
#include <string.h>

#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/structs.h"

#define DEFAULT_GAMMA 2.0
#define DEFAULT_ROUNDS 30

PERSONA__DEFINE_INIT(persona_kmeans_views, persona_kmeans_views_init)

uint32_t persona__km_nearest_scaled(const double *x, const double *scale, const double *centers,
                                    uint32_t k, size_t d, double *dist2)
{
    uint32_t best = 0;
    double bd = INFINITY;
    for (uint32_t c = 0; c < k; c++) {
        const double *cc = centers + (size_t)c * d;
        double s = 0;
        for (size_t j = 0; j < d; j++) {
            double t = x[j] * scale[j] - cc[j];
            double sq = t * t;
            s += sq;
        }
        if (c == 0 || s < bd) {
            bd = s;
            best = c;
        }
    }
    *dist2 = bd;
    return best;
}

static int read_views(persona_kmeans_views *v, const persona_kmeans_views *in, size_t d)
{
    memset(v, 0, sizeof *v);
    if (!in)
        return persona__fail(PERSONA_EINVAL, "views is NULL");
    int rc = persona__struct_in(v, sizeof *v, in, sizeof *v, "persona_kmeans_views");
    if (rc)
        return rc;
    if (v->n_views == 0 || v->n_views > d)
        return persona__fail(PERSONA_EINVAL, "n_views = %u: 1 to the %zu columns", v->n_views, d);
    if (!v->view_of)
        return persona__fail(PERSONA_EINVAL, "view_of is NULL");
    if (v->gamma == 0)
        v->gamma = DEFAULT_GAMMA;
    if (!isfinite(v->gamma) || v->gamma <= 1)
        return persona__fail(PERSONA_EINVAL, "gamma must be finite and above 1");
    if (!v->max_rounds)
        v->max_rounds = DEFAULT_ROUNDS;
    for (size_t j = 0; j < d; j++)
        if (v->view_of[j] >= v->n_views)
            return persona__fail(PERSONA_EINVAL, "column %zu: view %u of %u", j, v->view_of[j],
                                 v->n_views);
    for (uint32_t q = 0; q < v->n_views; q++) {
        size_t j = 0;
        while (j < d && v->view_of[j] != q)
            j++;
        if (j == d)
            return persona__fail(PERSONA_EINVAL, "view %u has no column", q);
    }
    if (v->weights) {
        double sum = 0;
        for (uint32_t q = 0; q < v->n_views; q++) {
            if (!isfinite(v->weights[q]) || v->weights[q] < 0)
                return persona__fail(PERSONA_EINVAL, "weight %u must be finite and >= 0", q);
            sum += v->weights[q];
        }
        if (!(sum > 0) || !isfinite(sum))
            return persona__fail(PERSONA_EINVAL, "the weights sum to %g", sum);
    }
    return PERSONA_OK;
}

/* One procedure from one start: its state and what it found. */
typedef struct mv_run {
    const double *x;
    size_t n, d;
    uint32_t k;
    const persona_kmeans_views *v;
    const persona_kmeans_options *o;
    int threads;
    double *w, *within; /* n_views */
    double *scale;      /* d */
    double *xs;         /* n × d: the scaled points */
    double *cen;        /* k × d scaled centres */
    double *mean;       /* k × d centres in the original units */
    uint32_t *labels, *prev;
    uint64_t *sizes;
    double objective;
    uint32_t iterations, converged, rounds;
} mv_run;

static void set_scale(mv_run *r)
{
    for (size_t j = 0; j < r->d; j++)
        r->scale[j] = pow(r->w[r->v->view_of[j]], r->v->gamma / 2);
    for (size_t i = 0; i < r->n * r->d; i++)
        r->xs[i] = r->x[i] * r->scale[i % r->d];
}

/* The clusters' means in the original units (a cluster left empty keeps its centre where
 * the scale allows, else 0), D_v and the objective. */
static void measure(mv_run *r)
{
    size_t d = r->d, V = r->v->n_views;
    memset(r->mean, 0, (size_t)r->k * d * sizeof *r->mean);
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < d; j++)
            r->mean[(size_t)r->labels[i] * d + j] += r->x[i * d + j];
    for (uint32_t c = 0; c < r->k; c++)
        for (size_t j = 0; j < d; j++) {
            double *m = &r->mean[(size_t)c * d + j];
            if (r->sizes[c])
                *m /= (double)r->sizes[c];
            else
                *m = r->scale[j] > 0 ? r->cen[(size_t)c * d + j] / r->scale[j] : 0;
        }
    memset(r->within, 0, V * sizeof *r->within);
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = 0; j < d; j++) {
            double t = r->x[i * d + j] - r->mean[(size_t)r->labels[i] * d + j];
            r->within[r->v->view_of[j]] += t * t;
        }
    r->objective = 0;
    for (size_t q = 0; q < V; q++)
        r->objective += pow(r->w[q], r->v->gamma) * r->within[q];
}

/* w_v proportional to D_v^(1/(1-gamma)); a view with D_v = 0 gets 0; all 0: equal. */
static void learn_weights(mv_run *r)
{
    size_t V = r->v->n_views;
    double sum = 0;
    for (size_t q = 0; q < V; q++) {
        r->w[q] = r->within[q] > 0 ? pow(r->within[q], 1 / (1 - r->v->gamma)) : 0;
        sum += r->w[q];
    }
    for (size_t q = 0; q < V; q++)
        r->w[q] = sum > 0 ? r->w[q] / sum : 1.0 / (double)V;
}

static int run_views(mv_run *r, uint64_t seed)
{
    size_t V = r->v->n_views, kd_n = (size_t)r->k * r->d;
    double sum = 0;
    for (size_t q = 0; q < V; q++)
        sum += r->v->weights ? r->v->weights[q] : 1;
    for (size_t q = 0; q < V; q++)
        r->w[q] = (r->v->weights ? r->v->weights[q] : 1) / sum;
    km_data kd = { r->xs, r->n, r->d, r->k, r->threads };
    int rc = PERSONA_OK;
    for (r->rounds = 1;; r->rounds++) {
        set_scale(r);
        double mean_var;
        if ((rc = persona__km_mean_variance(&kd, &mean_var)))
            return rc;
        if (r->rounds > 1) {
            for (size_t i = 0; i < kd_n; i++)
                r->cen[i] = r->mean[i] * r->scale[i % r->d];
        } else if (r->o->init_centers) {
            for (size_t i = 0; i < kd_n; i++)
                r->cen[i] = r->o->init_centers[i] * r->scale[i % r->d];
        } else if ((rc = persona__km_plusplus(&kd, seed, r->cen))) {
            return rc;
        }
        memset(r->labels, 0, r->n * sizeof *r->labels);
        km_result res;
        rc = persona__km_fit_run(&kd, r->o, r->cen, r->labels, r->sizes, r->o->tol * mean_var,
                                 seed, &res);
        if (rc)
            return rc;
        r->iterations = res.iterations;
        measure(r);
        if (r->v->weights) {
            r->converged = res.converged;
            return PERSONA_OK;
        }
        r->converged = r->rounds > 1 && memcmp(r->labels, r->prev, r->n * sizeof *r->labels) == 0;
        if (r->converged || r->rounds == r->v->max_rounds)
            return PERSONA_OK;
        memcpy(r->prev, r->labels, r->n * sizeof *r->labels);
        learn_weights(r);
    }
}

static void run_free(mv_run *r)
{
    persona__free(r->w);
    persona__free(r->within);
    persona__free(r->scale);
    persona__free(r->xs);
    persona__free(r->cen);
    persona__free(r->mean);
    persona__free(r->labels);
    persona__free(r->prev);
    persona__free(r->sizes);
}

static int run_alloc(mv_run *r)
{
    size_t V = r->v->n_views, kd_n = (size_t)r->k * r->d;
    r->w = persona__calloc(V, sizeof *r->w);
    r->within = persona__calloc(V, sizeof *r->within);
    r->scale = persona__calloc(r->d, sizeof *r->scale);
    r->xs = persona__realloc_array(NULL, r->n * r->d, sizeof *r->xs);
    r->cen = persona__calloc(kd_n, sizeof *r->cen);
    r->mean = persona__calloc(kd_n, sizeof *r->mean);
    r->labels = persona__calloc(r->n, sizeof *r->labels);
    r->prev = persona__calloc(r->n, sizeof *r->prev);
    r->sizes = persona__calloc(r->k, sizeof *r->sizes);
    if (!r->w || !r->within || !r->scale || !r->xs || !r->cen || !r->mean || !r->labels ||
        !r->prev || !r->sizes)
        return persona__fail_nomem();
    return PERSONA_OK;
}

/* The kept run becomes the model. */
static int to_model(persona_kmeans **out, const mv_run *r)
{
    size_t V = r->v->n_views, kd_n = (size_t)r->k * r->d;
    persona_kmeans *m = persona__calloc(1, sizeof *m);
    if (m) {
        m->centers = persona__realloc_array(NULL, kd_n, sizeof *m->centers);
        m->scaled_centers = persona__realloc_array(NULL, kd_n, sizeof *m->scaled_centers);
        m->scale = persona__realloc_array(NULL, r->d, sizeof *m->scale);
        m->sizes = persona__calloc(r->k, sizeof *m->sizes);
        m->mean = persona__calloc(r->d, sizeof *m->mean);
        m->sd = persona__calloc(r->d, sizeof *m->sd);
        m->view_weights = persona__realloc_array(NULL, V, sizeof *m->view_weights);
        m->view_within = persona__realloc_array(NULL, V, sizeof *m->view_within);
    }
    if (!m || !m->centers || !m->scaled_centers || !m->scale || !m->sizes || !m->mean ||
        !m->sd || !m->view_weights || !m->view_within) {
        persona_kmeans_free(m);
        return persona__fail_nomem();
    }
    m->k = r->k;
    m->d = r->d;
    m->n = r->n;
    memcpy(m->centers, r->mean, kd_n * sizeof *m->centers);
    memcpy(m->scaled_centers, r->cen, kd_n * sizeof *m->scaled_centers);
    memcpy(m->scale, r->scale, r->d * sizeof *m->scale);
    memcpy(m->sizes, r->sizes, r->k * sizeof *m->sizes);
    memcpy(m->view_weights, r->w, V * sizeof *m->view_weights);
    memcpy(m->view_within, r->within, V * sizeof *m->view_within);
    m->inertia = r->objective;
    m->iterations = r->iterations;
    m->converged = r->converged;
    m->n_views = (uint32_t)V;
    m->rounds = r->rounds;
    persona__km_column_spread(r->x, r->n, r->d, m->mean, m->sd);
    *out = m;
    return PERSONA_OK;
}

PERSONA_API int persona_kmeans_fit_views(persona_kmeans **out, const double *points, size_t n,
                                         size_t d, const persona_kmeans_views *views,
                                         const persona_kmeans_options *opts, uint32_t *labels_out)
{
    int rc = persona__km_check_points(out, points, n, d);
    if (rc)
        return rc;
    persona_kmeans_options o;
    persona_kmeans_views v;
    if ((rc = persona__km_read_options(&o, opts, n, d)) || (rc = read_views(&v, views, d)) ||
        (rc = persona__km_check_finite(points, n, d, "points")))
        return rc;
    mv_run best = { .x = points, .n = n, .d = d, .k = o.k, .v = &v, .o = &o,
                    .threads = persona__threads((int)o.threads) };
    mv_run trial = best;
    persona__rng seeds;
    persona__rng_seed(&seeds, o.seed);
    if ((rc = run_alloc(&best)) || (o.n_init > 1 && (rc = run_alloc(&trial))))
        goto done;
    for (uint32_t run = 0; run < o.n_init; run++) {
        uint64_t seed = o.n_init > 1 ? persona__rng_next(&seeds) : o.seed;
        mv_run *r = run == 0 ? &best : &trial;
        if ((rc = run_views(r, seed)))
            goto done;
        if (run > 0 && trial.objective < best.objective) {
            mv_run t = best;
            best = trial;
            trial = t;
        }
    }
    if ((rc = to_model(out, &best)))
        goto done;
    if (labels_out)
        memcpy(labels_out, best.labels, n * sizeof *labels_out);
done:
    run_free(&best);
    if (o.n_init > 1)
        run_free(&trial);
    return rc;
}

PERSONA_API int persona_kmeans_views_get(double *weights_out, double *within_out, size_t capacity,
                                         const persona_kmeans *m)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "model is NULL");
    uint32_t V = m->n_views ? m->n_views : 1;
    if (capacity < V)
        return persona__fail(PERSONA_EBUFS, "room for %zu views, %u needed", capacity, V);
    if (weights_out) {
        if (m->view_weights)
            memcpy(weights_out, m->view_weights, V * sizeof *weights_out);
        else
            weights_out[0] = 1;
    }
    if (within_out) {
        if (m->view_within)
            memcpy(within_out, m->view_within, V * sizeof *within_out);
        else
            within_out[0] = m->inertia;
    }
    return PERSONA_OK;
}
