/**
 * @file hclust.h
 * @brief Hierarchical (agglomerative) clustering of points: Ward, average, complete and
 *        single linkage, in SciPy's linkage-matrix convention; flat clusters by count or
 *        by height; new points assigned by the linkage's own rule.
 *
 * Lifecycle: persona_hclust_fit() clusters n points of d dimensions (row-major doubles)
 * and returns a #persona_hclust; persona_hclust_free() releases it. A model keeps a copy of
 * the points (to assign new ones) and does not borrow them.
 *
 * Definitions (docs/hclust.md has the details and worked examples). Distances between
 * points are Euclidean. The distance of clusters A and B (sizes a, b) is
 * - single: the least distance of a point of A and a point of B;
 * - complete: the greatest such distance;
 * - average (UPGMA): the mean of the a·b distances;
 * - Ward: sqrt(2ab / (a + b)) × the distance of the centroids of A and B (so two points
 *   merge at their distance, as in SciPy).
 * Every step merges the two clusters at least distance apart. Ward, average and complete
 * run the nearest-neighbour chain; single runs Prim's minimum spanning tree. Memory:
 * Ward and single keep O(n d); average and complete keep the n(n-1)/2 pairwise distances
 * (8 bytes each: 1.6 GB for 20,000 points).
 *
 * The linkage matrix, as scipy.cluster.hierarchy.linkage returns it: n-1 rows of four
 * doubles (a, b, distance, size). Row i merges clusters a < b into cluster n + i; clusters
 * 0 … n-1 are the points. Rows are in increasing distance; merges at equal distances keep
 * the order in which the algorithm found them (docs/hclust.md gives the tie rules, which
 * are SciPy's).
 *
 * Thread-safety: a model is immutable: any number of threads may call the const functions
 * at once. _free never races with other calls on it.
 */
#ifndef PERSONA_HCLUST_H
#define PERSONA_HCLUST_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A fitted hierarchy: the linkage matrix and the points. Immutable. */
typedef struct persona_hclust persona_hclust;

/** @name Linkages (persona_hclust_options.method). Values are permanent. */
/**@{*/
#define PERSONA_LINKAGE_WARD 0     /**< least increase of within-cluster squares */
#define PERSONA_LINKAGE_AVERAGE 1  /**< mean pairwise distance (UPGMA) */
#define PERSONA_LINKAGE_COMPLETE 2 /**< greatest pairwise distance */
#define PERSONA_LINKAGE_SINGLE 3   /**< least pairwise distance */
/**@}*/

/** @name Limits. */
/**@{*/
#define PERSONA_HCLUST_MAX_N 1000000 /**< most points */
#define PERSONA_HCLUST_MAX_D 4096    /**< most dimensions */
/**@}*/

/** How to fit. Zero everywhere: Ward on every CPU. */
typedef struct persona_hclust_options {
    uint32_t struct_size; /**< sizeof(persona_hclust_options). @since 1.0 */
    /** #PERSONA_LINKAGE_WARD (0), _AVERAGE, _COMPLETE or _SINGLE. @since 1.0 */
    int32_t method;
    /** Threads (0 = the online CPUs, at most 8). The result is the same for any number.
     * @since 1.0 */
    uint32_t threads;
} persona_hclust_options;

/** Initializer: `persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;`. */
#define PERSONA_HCLUST_OPTIONS_INIT { sizeof(persona_hclust_options), 0, 0 }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_hclust_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_hclust_options_init(persona_hclust_options *opts, uint32_t struct_size);

/**
 * Build the hierarchy of points.
 * @param[out] out    the model, freed with persona_hclust_free(); NULL on failure.
 * @param[in]  points n × d doubles, row-major (copied).
 * @param[in]  n      number of points, 1 … #PERSONA_HCLUST_MAX_N.
 * @param[in]  d      dimensions, 1 … #PERSONA_HCLUST_MAX_D.
 * @param[in]  opts   the options; NULL = all defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL out or points, n or d out of range, a NaN or
 *         infinite coordinate — the message gives its row and column —, coordinates so
 *         large that a distance overflows, an unknown method); #PERSONA_ENOMEM (also when
 *         the pairwise distances of average or complete linkage do not fit in memory);
 *         #PERSONA_EUNSUPPORTED (a newer caller's options).
 *         Thread-safety: any number of fits may run at once.
 * @since 1.0
 */
PERSONA_API int persona_hclust_fit(persona_hclust **out, const double *points, size_t n, size_t d,
                                   const persona_hclust_options *opts);

/**
 * Release a model. NULL is a no-op.
 * @param[in] model the model.
 * @since 1.0
 */
PERSONA_API void persona_hclust_free(persona_hclust *model);

/** What a model holds. Filled by the library up to the caller's struct_size. */
typedef struct persona_hclust_info {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_hclust_info). @since 1.0 */
    int32_t method;       /**< the linkage. @since 1.0 */
    uint64_t n;           /**< points (the matrix has n - 1 rows). @since 1.0 */
    uint64_t d;           /**< dimensions. @since 1.0 */
} persona_hclust_info;

/** Initializer for #persona_hclust_info (struct_size set, the rest 0). */
#define PERSONA_HCLUST_INFO_INIT { sizeof(persona_hclust_info), 0, 0, 0 }

/**
 * Prepare an info struct (struct_size set, the rest 0).
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof(persona_hclust_info) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_hclust_info_init(persona_hclust_info *info, uint32_t struct_size);

/**
 * What a model holds.
 * @param[out] info  filled up to its struct_size (which the caller sets).
 * @param[in]  model the model.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, bad struct_size).
 * @since 1.0
 */
PERSONA_API int persona_hclust_info_get(persona_hclust_info *info, const persona_hclust *model);

/**
 * The linkage matrix: (n-1) × 4 doubles row-major, rows (a, b, distance, size) as
 * scipy.cluster.hierarchy.linkage returns them.
 * @param[out] out      room for `capacity` doubles.
 * @param[in]  capacity its size in doubles, at least 4(n-1) (0 is enough for one point).
 * @param[in]  model    the model.
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity too small; nothing written); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_hclust_linkage(double *out, size_t capacity, const persona_hclust *model);

/**
 * Flat clusters by count: the clusters left after the first n - k merges (as SciPy's
 * cut_tree(Z, n_clusters=k); exactly k clusters, also when merges tie). Labels are
 * numbered 0 … k-1 in the order of each cluster's first point.
 * @param[out] labels   n labels, one per fitted point.
 * @param[in]  capacity room in labels, at least n.
 * @param[in]  model    the model.
 * @param[in]  k        clusters, 1 … n.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL (NULL, k out of range);
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_hclust_cut(uint32_t *labels, size_t capacity, const persona_hclust *model,
                                   uint32_t k);

/**
 * Flat clusters by height: every merge at distance <= height is made, no other (as SciPy's
 * fcluster(Z, height, criterion="distance"): no two points of a cluster have a cophenetic
 * distance above height). Labels as for persona_hclust_cut().
 * @param[out] labels   n labels.
 * @param[in]  capacity room in labels, at least n.
 * @param[out] k_out    the number of clusters, or NULL.
 * @param[in]  model    the model.
 * @param[in]  height   the height, not NaN (below every distance: n clusters; infinity: 1).
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL (NULL, NaN height); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_hclust_cut_height(uint32_t *labels, size_t capacity, uint32_t *k_out,
                                          const persona_hclust *model, double height);

/**
 * Assign new points to the flat clusters of persona_hclust_cut(model, k), each to the
 * cluster the linkage would merge it with first: the least single / complete / average
 * distance to the cluster's fitted points, or for Ward the least
 * sqrt(2m / (m + 1)) × the distance to the centroid of a cluster of m points (the height
 * at which the point would join it). Of equal distances, the lowest label.
 * @param[out] labels  n labels.
 * @param[out] dist    n such distances, or NULL.
 * @param[in]  model   the model.
 * @param[in]  k       clusters, 1 … the model's n.
 * @param[in]  points  n × d doubles, row-major, d the model's dimensions.
 * @param[in]  n       number of points.
 * @param[in]  d       must equal the model's.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, d different, k out of range, a NaN or
 *         infinite coordinate: nothing written); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_hclust_predict(uint32_t *labels, double *dist, const persona_hclust *model,
                                       uint32_t k, const double *points, size_t n, size_t d);

#ifdef __cplusplus
}
#endif

#endif
