/* k-means, shared by the files of lib/cluster/: the model, one run of iterations
 * (kmeans_iter.c, with Elkan's bounds in kmeans_elkan.c), mini-batch steps
 * (kmeans_minibatch.c) and k-means++ (kmeans_init.c). */
#ifndef PERSONA_CLUSTER_KMEANS_INTERNAL_H
#define PERSONA_CLUSTER_KMEANS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/kmeans_fx.h"
#include "persona/kmeans.h"

/* Points per block. Every pass cuts the points into blocks of this size whose partial
 * sums are added in block order, so results do not depend on the number of threads. */
#define KM_BLOCK 2048

struct persona_kmeans {
    uint32_t k;
    size_t d, n;
    double *centers; /* k × d */
    double *mean, *sd; /* d: of the fitted points (ddof 0), for z-scores */
    uint64_t *sizes; /* k */
    double inertia;
    uint32_t iterations;
    uint32_t converged;
    /* Multi-view (kmeans_views.c); NULL / 0 for a plain fit. Predicting scales a point's
     * column j by scale[j] and compares it with the fit's own scaled centres, so that the
     * fitted points get their fit labels bit for bit. */
    uint32_t n_views, rounds;
    double *scale;          /* d */
    double *scaled_centers; /* k × d */
    double *view_weights, *view_within; /* n_views */
};

/* The points and how to run. */
typedef struct km_data {
    const double *x;
    size_t n, d;
    uint32_t k;
    int threads;
} km_data;

/* What one run found. */
typedef struct km_result {
    double inertia;
    uint32_t iterations;
    uint32_t converged;
} km_result;

/* Squared distance of d-vectors a and b, summed in dimension order. Every distance of
 * this library is this sequence of operations (the vector kernel of kmeans_iter.c does the
 * same per lane; the square is a statement of its own so that no compiler fuses it into the
 * sum), so the same point and centre give the same bits everywhere. */
static inline double persona__km_dist2(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        double sq = t * t;
        s += sq;
    }
    return s;
}

/* PERSONA_OK, or EINVAL naming the first coordinate of the rows × d values that is NaN or
 * infinite ("WHAT: row r, column c is NaN"). */
int persona__km_check_finite(const double *v, size_t rows, size_t d, const char *what);

/* The nearest of k centres (lowest index among equals) and its squared distance. */
uint32_t persona__km_nearest(const double *x, const double *centers, uint32_t k, size_t d,
                             double *dist2);

/* The nearest of k scaled centres to x with column j scaled by scale[j] (the multi-view
 * distance): the bits of persona__km_dist2 of the scaled point. */
uint32_t persona__km_nearest_scaled(const double *x, const double *scale, const double *centers,
                                    uint32_t k, size_t d, double *dist2);

/* *out = NULL; EINVAL for a NULL out or points, no points, d out of range or n × d too
 * large (the first checks of persona_kmeans_fit()). */
int persona__km_check_points(persona_kmeans **out, const double *points, size_t n, size_t d);

/* persona_kmeans_load of a snapshot in memory (the fuzz target's entry). */
int persona__kmeans_load_memory(persona_kmeans **out, const void *data, size_t len);

/* The options with defaults filled in and checked against n and d (the checks of
 * persona_kmeans_fit()). */
int persona__km_read_options(persona_kmeans_options *o, const persona_kmeans_options *in,
                             size_t n, size_t d);

/* Mean and standard deviation (ddof 0) of each dimension, in point order. */
void persona__km_column_spread(const double *x, size_t n, size_t d, double *mean, double *sd);

/* How a run of Lloyd's iterations finds each point's centre: every distance, or skipping
 * the centres that bounds show to be farther (Hamerly: one lower bound per point; Elkan: k). */
enum { KM_LLOYD, KM_HAMERLY, KM_ELKAN };
/* PERSONA_KMEANS_AUTO runs Lloyd up to this many centres, Hamerly beyond: with the
 * many-points kernel a Lloyd pass costs less than Hamerly's bookkeeping and the distances
 * of the points its bounds do not settle (1 M blobs, 8 dimensions: Lloyd 0.27 s and Hamerly
 * 0.48 s at k = 8, even at 16, Hamerly 1.5 times faster at 32). */
#define KM_AUTO_LLOYD_K 16

/* Bound tests keep this relative margin, far above the rounding error of the distances, so
 * a centre is passed over only when it is certainly farther and the labels are Lloyd's. */
#define KM_BOUND_SLACK 1e-9

/* The state of one run (kmeans_iter.c), read by the passes over the blocks of points. */
typedef struct km_run {
    const km_data *kd;
    int pass;
    int method, first;     /* KM_*; first: the first assignment (no bounds yet) */
    const double *centers; /* the centres of this assignment */
    const double *ct;      /* the same transposed (d × kp), or NULL: the scalar loop */
    double *side;          /* Lloyd: the points side by side, PERSONA__ROWS per group, or NULL */
    size_t kp;
    uint32_t *labels;
    /* Update pass: the change per block of the clusters' fixed-point sums (k × d) and
     * counts (k) from the points whose label changed, or from every point when `recount`
     * (the first assignment, and after empty clusters took points). */
    km_fx *bfx;
    int64_t *bdelta;
    const km_fx_scale *scale; /* d */
    int recount;
    uint64_t *bchanged;  /* per block: labels changed */
    double *binertia;    /* per block: sum of squared distances (inertia pass) */
    double *far;         /* per point: squared distance to its centre (far pass) */
    double *upper;       /* per point: upper bound on the distance to its centre */
    double *lower;       /* Hamerly: per point; Elkan: per point × centre (n × k) */
    const double *shift;    /* per centre: how far it moved */
    const double *half_gap; /* per centre: half the distance to the nearest other */
    const double *half_cc;  /* Elkan: k × k, half the distance between two centres */
    double max_shift, second_shift;
    uint32_t max_shift_c;
} km_run;

/* Lloyd's iterations from the centres in `centers` (k × d, updated in place) until the
 * stopping rule; labels (n) get the final assignment, sizes (k) its counts.
 * tol_abs = tol × the mean variance; method: KM_*. max_iter 0: only the final assignment,
 * sizes and inertia of the given centres. 0 or ENOMEM. */
int persona__km_run(const km_data *kd, double *centers, uint32_t *labels, uint64_t *sizes,
                    uint32_t max_iter, double tol_abs, int method, km_result *res);

/* The squared distances from x to the k centres of the run, into dist[0 … k). */
void persona__km_point_dists(const km_run *r, const double *x, double *dist);

/* Half the distance from each centre to the nearest other (half_gap, k) and, unless
 * half_cc is NULL, between every two centres (half_cc, k × k, 0 on the diagonal). */
void persona__km_half_gaps(const double *centers, uint32_t k, size_t d, double *half_cc,
                           double *half_gap);

/* Elkan (kmeans_elkan.c): the label of point i for this assignment, using and updating
 * its bounds (r->upper[i], r->lower[i·k …]). */
uint32_t persona__km_elkan_assign(km_run *r, size_t i);

/* Mini-batch k-means (kmeans_minibatch.c) from `centers` (updated in place): steps of
 * batch_size points drawn with `seed`, then the final assignment as persona__km_run.
 * 0 or ENOMEM. */
int persona__km_minibatch(const km_data *kd, double *centers, uint32_t *labels, uint64_t *sizes,
                          uint32_t max_iter, double tol_abs, uint32_t batch_size, uint64_t seed,
                          km_result *res);

/* One run of the options' algorithm (Lloyd, Hamerly, Elkan or mini-batch with `seed`) from
 * `centers`, as persona__km_run. 0 or ENOMEM. */
int persona__km_fit_run(const km_data *kd, const persona_kmeans_options *o, double *centers,
                        uint32_t *labels, uint64_t *sizes, double tol_abs, uint64_t seed,
                        km_result *res);

/* k-means++ (scikit-learn's greedy variant) into centers (k × d). 0 or ENOMEM. */
int persona__km_plusplus(const km_data *kd, uint64_t seed, double *centers);

/* The mean over dimensions of the points' variance (ddof 0), in block order, into *out.
 * 0, ENOMEM, or EINVAL when it overflows (coordinates too large to square). */
int persona__km_mean_variance(const km_data *kd, double *out);

#endif
