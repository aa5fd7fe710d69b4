/**
 * @file stability.h
 * @brief Stability of segmentations: the adjusted Rand index between two labelings of the
 *        same users, and the migration of users between the segments of a rule model
 *        from one point in time to another.
 *
 * persona_adjusted_rand_index() compares any two labelings (RFM segments of two periods,
 * k-means runs, rule segments): 1 for identical partitions, about 0 for independent ones,
 * negative for worse than chance. persona_segment_model_migration() counts users by
 * (segment as of one time, segment as of another) for a first-match rule model.
 *
 * Thread-safety: both functions may be called from any threads at once; they read their
 * inputs only (the migration evaluates the model through persona_segment_model_assign(),
 * under the store's read lock per call).
 */
#ifndef PERSONA_STABILITY_H
#define PERSONA_STABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"
#include "persona/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Adjusted Rand index (Hubert & Arabie 1985) of two labelings of the same n items, as
 * scikit-learn's `adjusted_rand_score`: with the pair counts (exact 64-bit integers)
 * S = Σ C(n_ij, 2) over the contingency table, A = Σ C(a_i, 2) and B = Σ C(b_j, 2) over
 * its row and column sums and N = C(n, 2), ARI = 2·(S·N − A·B) / (A·(N − B) + B·(N − A)),
 * its numerator and denominator (exact 128-bit integers) each rounded once to double
 * before the division, so results equal scikit-learn's bit for bit. When the labelings
 * are the same partition (in particular n < 2, both one cluster, or both all singletons)
 * it is 1.0. Label values are arbitrary; only equality matters.
 * @param[out] out the index, in [-1, 1].
 * @param[in]  a   labels of the first labeling (n entries; may be NULL when n is 0).
 * @param[in]  b   labels of the second labeling, item for item.
 * @param[in]  n   number of items, at most 2^32 − 1.
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL out, NULL labels with n > 0,
 *         n too large).
 * @since 1.0
 */
PERSONA_API int persona_adjusted_rand_index(double *out, const uint32_t *a, const uint32_t *b,
                                            size_t n);

/**
 * Migration matrix of a first-match model between two times: entry (i, j), at
 * matrix[i·(k + 1) + j], counts the store's profiles in segment i as of from_ms and in
 * segment j as of to_ms, where k is the model's segment count and index k stands for "no
 * segment". Each profile is evaluated as persona_segment_model_assign() evaluates its key
 * with persona_eval_context.now_ms set to the time (events after it are ignored, no
 * `ctx.*` fields, no hour), so a profile whose first event comes after from_ms usually
 * starts in row k. The matrix sums to the number of profiles (linked identifiers count
 * once). The two evaluations of a profile are separate reads of the store: ingest during
 * the call may be seen by one and not the other.
 * @param[out] matrix   (k + 1)² counts, row-major; unchanged on failure.
 * @param[in]  capacity entries at matrix.
 * @param[in]  model    a #PERSONA_SEGMENT_FIRST_MATCH model.
 * @param[in]  store    the store.
 * @param[in]  from_ms  the earlier time (or any; rows), or #PERSONA_NOW_STORE.
 * @param[in]  to_ms    the later time (columns), or #PERSONA_NOW_STORE.
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity below (k + 1)²: the message gives it);
 *         #PERSONA_EINVAL (NULL model or store, NULL matrix with capacity > 0, an
 *         all-matches model, a time outside #PERSONA_TIME_MIN … #PERSONA_TIME_MAX);
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_migration(uint64_t *matrix, size_t capacity,
                                                const persona_segment_model *model,
                                                const persona_store *store, int64_t from_ms,
                                                int64_t to_ms);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_STABILITY_H */
