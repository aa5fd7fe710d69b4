/**
 * @file kmeans.h
 * @brief k-means clustering of points: k-means++ or given initial centres; Lloyd's
 *        iterations, exactly or with Hamerly's or Elkan's bounds; scikit-learn's stopping
 *        rule, so the results can be compared with its KMeans; or mini-batch k-means.
 *
 * Lifecycle: persona_kmeans_fit() clusters n points of d dimensions (row-major doubles)
 * and returns a #persona_kmeans; persona_kmeans_free() releases it. A model does not
 * borrow the points.
 *
 * Definitions (docs/kmeans.md has the details and worked examples):
 * - Distance: squared Euclidean. A point's cluster is the centre nearest to it; of equal
 *   distances, the centre of lowest index.
 * - Iteration (Lloyd): assign every point to its nearest centre, then move each centre to
 *   the mean of its points. A centre left with no points is moved, as scikit-learn does, to
 *   one of the points farthest from their own centres (the farthest to the empty cluster of
 *   lowest index, and so on; ties by point index), which is taken out of its cluster's sum.
 * - Stopping, as scikit-learn: after an iteration whose assignment equals the previous one
 *   ("converged"), or whose summed squared centre shift is at most tol × the mean over the
 *   dimensions of the points' variance, or after max_iter iterations. Unless the assignment
 *   converged, the points are assigned once more to the final centres (the labels then
 *   match the centres). iterations counts the update steps run.
 * - Inertia: the sum over points of the squared distance to their centre.
 * - Hamerly: the same iterations with per-point distance bounds that skip most distance
 *   computations. Bounds are kept with a safety margin, so it gives Lloyd's labels and
 *   centres unless two centres are within rounding error of equally near a point.
 * - Elkan: the same iterations with k lower bounds per point and the distances between
 *   centres (C. Elkan, ICML 2003), kept with the same margin, so the same results as
 *   Lloyd's. Needs n × k doubles (8 n k bytes: 512 MB for a million points and k = 64) on
 *   top of the k × k centre distances; an allocation that fails returns #PERSONA_ENOMEM.
 * - Mini-batch (D. Sculley, WWW 2010, as scikit-learn's MiniBatchKMeans): each step draws
 *   batch_size points with replacement from seed + 1 (every point once when batch_size >=
 *   n), assigns them to the nearest centre and moves each centre c that got points to
 *   (c × v + their sum) / (v + their count), v the points c has had so far (learning rate
 *   1/v per point); no reassignment of small clusters. max_iter × n / batch_size steps (at
 *   least 1); after any step but the first, a summed squared centre shift at most tol × the
 *   mean variance stops. iterations counts steps; then every point is assigned once to the
 *   final centres (labels, sizes, inertia exact for them). Approximate: not Lloyd's result.
 * - k-means++: scikit-learn's greedy variant (2 + ln k candidates per centre, the one that
 *   lowers the potential most), on this library's seeded random stream: the same seed gives
 *   the same centres on every machine and thread count, not scikit-learn's.
 * - n_init > 1: that many k-means++ runs with seeds drawn from the seed; the one of least
 *   inertia is kept (the first of equal ones).
 * Results do not depend on the number of threads: the clusters' sums are kept in fixed
 * point (order-independent) and the inertia is summed over fixed blocks of points in block
 * order.
 *
 * Thread-safety: a model is immutable: any number of threads may call the const functions
 * at once. _free never races with other calls on it.
 */
#ifndef PERSONA_KMEANS_H
#define PERSONA_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fitted k-means model: the centres and what the fit found. Immutable. */
typedef struct persona_kmeans persona_kmeans;

/** @name Algorithms (persona_kmeans_options.algorithm). Values are permanent. */
/**@{*/
/** Lloyd up to 16 clusters (and 64 dimensions), Hamerly beyond: the faster of the two
 *  there; all exact algorithms give the same result. */
#define PERSONA_KMEANS_AUTO 0
/** Every distance every iteration, eight points at a time; up to 64 dimensions the points
 *  are first copied side by side (n × d doubles more memory). */
#define PERSONA_KMEANS_LLOYD 1
#define PERSONA_KMEANS_HAMERLY 2   /**< Lloyd's iterations with Hamerly's bounds */
#define PERSONA_KMEANS_ELKAN 3     /**< Lloyd's iterations with Elkan's bounds (n × k memory) */
#define PERSONA_KMEANS_MINIBATCH 4 /**< mini-batch steps (approximate), see batch_size */
/**@}*/

/** @name Limits. */
/**@{*/
#define PERSONA_KMEANS_MAX_K 65536 /**< most clusters */
#define PERSONA_KMEANS_MAX_D 4096  /**< most dimensions */
/**@}*/

/** How to fit. Zero everywhere except k: k-means++ with seed 0, Hamerly, at most 300
 * iterations, tol 1e-4, one run, every CPU, batches of 1,024 for mini-batch. */
typedef struct persona_kmeans_options {
    uint32_t struct_size; /**< sizeof(persona_kmeans_options). @since 1.0 */
    /** Clusters, 1 … #PERSONA_KMEANS_MAX_K and at most the number of points (0 = 8).
     * @since 1.0 */
    uint32_t k;
    /** Most iterations (0 = 300). @since 1.0 */
    uint32_t max_iter;
    /** k-means++ runs, the best kept (0 = 1); must be 0 or 1 with init_centers. @since 1.0 */
    uint32_t n_init;
    /** Relative tolerance of the stopping rule, finite and >= 0 (0 = 1e-4). @since 1.0 */
    double tol;
    /** Seed of k-means++ (any value; 0 is a seed like the others). @since 1.0 */
    uint64_t seed;
    /** k × d initial centres, row-major, finite (NULL = k-means++); copied. @since 1.0 */
    const double *init_centers;
    /** #PERSONA_KMEANS_AUTO, _LLOYD, _HAMERLY, _ELKAN or _MINIBATCH. @since 1.0 */
    int32_t algorithm;
    /** Threads (0 = the online CPUs, at most 8). The result is the same for any number.
     * @since 1.0 */
    uint32_t threads;
    /** Points per mini-batch step (0 = 1024, scikit-learn's default; at least n: every
     * point each step); only #PERSONA_KMEANS_MINIBATCH reads it. @since 1.0 */
    uint32_t batch_size;
    uint32_t reserved; /**< must be 0. @since 1.0 */
} persona_kmeans_options;

/** Initializer: `persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;`. */
#define PERSONA_KMEANS_OPTIONS_INIT { sizeof(persona_kmeans_options), 0, 0, 0, 0.0, 0, NULL, 0, 0, 0, 0 }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_kmeans_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_options_init(persona_kmeans_options *opts, uint32_t struct_size);

/**
 * Cluster points.
 * @param[out] out        the model, freed with persona_kmeans_free(); NULL on failure.
 * @param[in]  points     n × d doubles, row-major (borrowed for the call).
 * @param[in]  n          number of points, >= 1.
 * @param[in]  d          dimensions, 1 … #PERSONA_KMEANS_MAX_D.
 * @param[in]  opts       the options; NULL = all defaults.
 * @param[out] labels_out n cluster indexes (the final assignment), or NULL.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL out or points, n or d out of range, k more than
 *         n, a point or initial centre coordinate that is NaN or infinite — the message
 *         gives its row and column —, coordinates so large that their variance
 *         overflows, a bad tol or algorithm, n_init > 1 with given centres, reserved not
 *         0); #PERSONA_ENOMEM (also when Elkan's n × k bounds do not fit in memory);
 *         #PERSONA_EUNSUPPORTED (a newer caller's options).
 *         Thread-safety: any number of fits may run at once.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_fit(persona_kmeans **out, const double *points, size_t n, size_t d,
                                   const persona_kmeans_options *opts, uint32_t *labels_out);

/**
 * Release a model. NULL is a no-op.
 * @param[in] model the model.
 * @since 1.0
 */
PERSONA_API void persona_kmeans_free(persona_kmeans *model);

/** What a fit found. Filled by the library up to the caller's struct_size. */
typedef struct persona_kmeans_info {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_kmeans_info). @since 1.0 */
    uint32_t k;           /**< clusters. @since 1.0 */
    uint64_t d;           /**< dimensions. @since 1.0 */
    uint64_t n;           /**< points fitted. @since 1.0 */
    double inertia;       /**< sum of squared distances to the centres. @since 1.0 */
    uint32_t iterations;  /**< update steps of the kept run (multi-view: of its last
                               round). @since 1.0 */
    uint32_t converged;   /**< 1 when it stopped by the rule, 0 at max_iter (multi-view:
                               when the labels stopped changing between rounds). @since 1.0 */
    uint32_t n_views;     /**< views (1 for persona_kmeans_fit()). @since 1.0 */
    uint32_t rounds;      /**< multi-view: rounds of weights (0 for persona_kmeans_fit()).
                               @since 1.0 */
} persona_kmeans_info;

/** Initializer for #persona_kmeans_info (struct_size set, the rest 0). */
#define PERSONA_KMEANS_INFO_INIT { sizeof(persona_kmeans_info), 0, 0, 0, 0.0, 0, 0, 0, 0 }

/**
 * Prepare an info struct (struct_size set, the rest 0).
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof(persona_kmeans_info) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_info_init(persona_kmeans_info *info, uint32_t struct_size);

/**
 * What the fit found.
 * @param[out] info  filled up to its struct_size (which the caller sets).
 * @param[in]  model the model.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, bad struct_size).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_info_get(persona_kmeans_info *info, const persona_kmeans *model);

/**
 * The centres, k × d doubles row-major.
 * @param[out] out      room for `capacity` doubles.
 * @param[in]  capacity its size in doubles.
 * @param[in]  model    the model.
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity < k × d; nothing written); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_centers(double *out, size_t capacity, const persona_kmeans *model);

/**
 * Points per cluster in the final assignment.
 * @param[out] out      room for `capacity` counts.
 * @param[in]  capacity at least k.
 * @param[in]  model    the model.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_sizes(uint64_t *out, size_t capacity, const persona_kmeans *model);

/**
 * The nearest centre of points: the cluster a new point belongs to. Allocates nothing.
 * @param[out] labels    n cluster indexes.
 * @param[out] dist2     n squared distances to that centre, or NULL.
 * @param[in]  model     the model.
 * @param[in]  points    n × d doubles, row-major, d the model's dimensions.
 * @param[in]  n         number of points.
 * @param[in]  d         must equal the model's.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, d different, a NaN or infinite coordinate:
 *         labels before it are written).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_predict(uint32_t *labels, double *dist2, const persona_kmeans *model,
                                       const double *points, size_t n, size_t d);

/**
 * A cluster's centre as z-scores: (centre − mean) / standard deviation of each dimension
 * over the fitted points (ddof 0; 0 for a dimension without spread).
 * @param[out] out      d z-scores.
 * @param[in]  capacity room in out, at least d.
 * @param[in]  model    the model.
 * @param[in]  cluster  0 … k-1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL (NULL, cluster out of range).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_zscores(double *out, size_t capacity, const persona_kmeans *model,
                                       uint32_t cluster);

/**
 * A cluster's persona in plain words, from its centre's z-scores: the dimensions with
 * |z| >= 0.5, most distinctive first (ties by dimension), at most four, each as
 * "very high NAME" (z >= 1.5), "high NAME" (0.5 <= z < 1.5), "low NAME" or "very low NAME",
 * with the centre's value in parentheses; "typical" when none; then the cluster's share
 * and size: "very high monetary (8.21), low recency (1.3): 12.3 % of points (523)".
 * NUL-terminated.
 * @param[out] buf      room for `capacity` bytes (may be NULL with capacity 0 to ask the
 *                      length).
 * @param[in]  capacity its size.
 * @param[out] out_len  the length without the NUL (also on EBUFS), or NULL.
 * @param[in]  model    the model.
 * @param[in]  cluster  0 … k-1.
 * @param[in]  names    d names of the dimensions (UTF-8, borrowed), or NULL for x0, x1, ….
 * @param[in]  n_names  d when names are given.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL (NULL model, cluster out of range,
 *         n_names not d, a NULL name).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_describe(char *buf, size_t capacity, size_t *out_len,
                                        const persona_kmeans *model, uint32_t cluster,
                                        const char *const *names, size_t n_names);

/** Multi-view k-means (docs/kmeans.md "Multi-view k-means"): the columns fall into views
 * (feature groups such as behaviour, transactions, demographics); the distance of a point
 * to a centre is sum over views v of w_v^gamma × the squared distance of the point's and
 * the centre's columns of v. With weights learned, the fit alternates k-means under the
 * current weights with the weights that minimise the objective for the labels found,
 * w_v proportional to D_v^(1/(1-gamma)), D_v the within-cluster sum of squares of view v
 * (a view with D_v = 0 gets weight 0; all zero: equal weights), until a round leaves the
 * labels as they were: the view weighting of Huang, Ng, Rong and Li (TPAMI 2005) applied
 * to groups of columns, as in the multi-view k-means of Cai, Nie and Huang (IJCAI 2013). */
typedef struct persona_kmeans_views {
    uint32_t struct_size; /**< sizeof(persona_kmeans_views). @since 1.0 */
    /** Views, 1 … d. @since 1.0 */
    uint32_t n_views;
    /** d view indexes, one per column (each view has a column); borrowed. @since 1.0 */
    const uint32_t *view_of;
    /** n_views fixed weights, finite, >= 0, not all 0 (scaled to sum 1), or NULL: learned,
     * starting from equal weights. Borrowed. @since 1.0 */
    const double *weights;
    /** The exponent gamma of the weights, > 1 (0 = 2). @since 1.0 */
    double gamma;
    /** Most rounds of weights (0 = 30). @since 1.0 */
    uint32_t max_rounds;
} persona_kmeans_views;

/** Initializer: `persona_kmeans_views v = PERSONA_KMEANS_VIEWS_INIT;`. */
#define PERSONA_KMEANS_VIEWS_INIT { sizeof(persona_kmeans_views), 0, NULL, NULL, 0.0, 0 }

/**
 * Zero a views struct and set its struct_size (for bindings).
 * @param[out] views       the struct.
 * @param[in]  struct_size sizeof(persona_kmeans_views) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_kmeans_views_init(persona_kmeans_views *views, uint32_t struct_size);

/**
 * Multi-view k-means. Every round is a k-means fit (opts: k, algorithm, max_iter, tol,
 * threads; the first round starts from k-means++ on the weighted columns or from
 * init_centers, each later round from the previous centres) of the columns scaled by
 * w_v^(gamma/2), so Lloyd's stopping rule and the thread-independence of
 * persona_kmeans_fit() hold within a round. The model's centres are the means of the
 * clusters' points in the original units; its inertia is the objective, sum over views of
 * w_v^gamma × D_v; persona_kmeans_predict() uses the weighted distance (and gives it as
 * dist2); persona_kmeans_views_get() gives the weights and the D_v.
 * @param[out] out        the model; NULL on failure.
 * @param[in]  points     n × d doubles, row-major (borrowed for the call).
 * @param[in]  n, d       as for persona_kmeans_fit().
 * @param[in]  views      the views (required).
 * @param[in]  opts       the k-means options; NULL = defaults. n_init > 1 runs the whole
 *                        procedure from that many k-means++ starts and keeps the least
 *                        objective.
 * @param[out] labels_out n cluster indexes, or NULL.
 * @return #PERSONA_OK; #PERSONA_EINVAL (the errors of persona_kmeans_fit(); NULL views or
 *         view_of, n_views 0 or above d, a view index out of range, a view without
 *         columns, bad weights, gamma <= 1 or not finite); #PERSONA_ENOMEM;
 *         #PERSONA_EUNSUPPORTED.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_fit_views(persona_kmeans **out, const double *points, size_t n,
                                         size_t d, const persona_kmeans_views *views,
                                         const persona_kmeans_options *opts, uint32_t *labels_out);

/**
 * The view weights and the within-cluster sums of squares of a multi-view model (n_views of
 * each, in view order); a model of persona_kmeans_fit() has one view of weight 1.
 * @param[out] weights_out room for capacity weights (sum 1), or NULL.
 * @param[out] within_out  room for capacity sums D_v, or NULL.
 * @param[in]  capacity    at least n_views (persona_kmeans_info).
 * @param[in]  model       the model.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_views_get(double *weights_out, double *within_out, size_t capacity,
                                         const persona_kmeans *model);

/**
 * Save a model (plain or multi-view) to a file (docs/file-format.md, kind 6), replacing it
 * atomically: a crash leaves the old file or the new one.
 * @param[in] model the model.
 * @param[in] path  the file.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL); #PERSONA_EIO (the message names the file
 *         and the failed call); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_save(const persona_kmeans *model, const char *path);

/**
 * Load a model saved with persona_kmeans_save(): it answers every call as the saved one.
 * @param[out] out  the model; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL); #PERSONA_EIO; #PERSONA_ECORRUPT (not a
 *         k-means model, damaged, or a field out of range: the message says which);
 *         #PERSONA_EVERSION (written by a newer library); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_kmeans_load(persona_kmeans **out, const char *path);

/** How well labels separate points (scikit-learn's definitions, docs/kmeans.md "Choosing
 * k"). Filled by the library up to the caller's struct_size. */
typedef struct persona_cluster_scores {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_cluster_scores). @since 1.0 */
    uint32_t k;           /**< clusters scored. @since 1.0 */
    /** Mean silhouette, -1 … 1 (higher is better); NaN unless 2 <= clusters present <=
     * points scored - 1. @since 1.0 */
    double silhouette;
    /** Davies–Bouldin index, >= 0 (lower is better). @since 1.0 */
    double davies_bouldin;
    /** Calinski–Harabasz index (higher is better); NaN unless 2 <= clusters present < n.
     * @since 1.0 */
    double calinski_harabasz;
    /** Sum of squared distances to the cluster means (for persona_kmeans_choose_k(): the
     * fit's inertia, the elbow). @since 1.0 */
    double inertia;
    /** Points the silhouette was averaged over (all, or the sample). @since 1.0 */
    uint64_t silhouette_points;
} persona_cluster_scores;

/** Initializer for #persona_cluster_scores (struct_size set, the rest 0). */
#define PERSONA_CLUSTER_SCORES_INIT { sizeof(persona_cluster_scores), 0, 0.0, 0.0, 0.0, 0.0, 0 }

/**
 * Prepare a scores struct (struct_size set, the rest 0).
 * @param[out] scores      the struct.
 * @param[in]  struct_size sizeof(persona_cluster_scores) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_cluster_scores_init(persona_cluster_scores *scores, uint32_t struct_size);

/**
 * Score a clustering: silhouette, Davies–Bouldin and Calinski–Harabasz as scikit-learn's
 * silhouette_score, davies_bouldin_score and calinski_harabasz_score define them
 * (Euclidean distances; cluster centres are the means of their points).
 * @param[out] out    filled up to its struct_size.
 * @param[in]  points n × d doubles, row-major, finite.
 * @param[in]  n, d   as for persona_kmeans_fit().
 * @param[in]  labels n cluster indexes, each < k.
 * @param[in]  k      number of clusters (some may be empty).
 * @param[in]  sample 0: the silhouette of every point (n² distances); else the silhouette
 *                    of `sample` points drawn without replacement with `seed` (as
 *                    scikit-learn's sample_size: distances within the sample only).
 * @param[in]  seed   seed of the sample.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, n or d out of range, a label >= k, a NaN or
 *         infinite coordinate); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_cluster_scores_get(persona_cluster_scores *out, const double *points,
                                           size_t n, size_t d, const uint32_t *labels, uint32_t k,
                                           uint64_t sample, uint64_t seed);

/**
 * Choosing k: a k-means fit for each k of k_min … k_max (the other options as given) and
 * its scores, one row per k (the elbow in inertia, silhouette, Davies–Bouldin,
 * Calinski–Harabasz).
 * @param[out] rows      room for `capacity` rows; each needs its struct_size set.
 * @param[in]  capacity  at least k_max - k_min + 1.
 * @param[in]  points, n, d as for persona_kmeans_fit().
 * @param[in]  k_min, k_max 1 <= k_min <= k_max <= n.
 * @param[in]  opts      the fit's options (k is ignored); NULL = defaults.
 * @param[in]  sample    the silhouette sample, as for persona_cluster_scores_get().
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity too small; nothing done); the errors of
 *         persona_kmeans_fit().
 * @since 1.0
 */
PERSONA_API int persona_kmeans_choose_k(persona_cluster_scores *rows, size_t capacity,
                                        const double *points, size_t n, size_t d, uint32_t k_min,
                                        uint32_t k_max, const persona_kmeans_options *opts,
                                        uint64_t sample);

#ifdef __cplusplus
}
#endif

#endif
