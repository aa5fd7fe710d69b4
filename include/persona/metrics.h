/**
 * @file persona/metrics.h
 * @brief How well scores separate two classes: ROC-AUC, PR-AUC, log-loss, Brier score,
 * accuracy / precision / recall / F1 at a threshold and the threshold of the best F1, and
 * the decile table behind calibration, lift and gain charts.
 *
 * The inputs are plain arrays: labels (each exactly 0 or 1) and scores (finite numbers;
 * probabilities for log-loss and Brier), one per row. Any model's scores can be measured —
 * the predictors of this library, a host's own, another tool's.
 *
 * Definitions (docs/metrics.md has them with worked examples):
 * - ROC-AUC: the probability that a positive row scores above a negative one, a tie
 *   counting one half (the area under the ROC curve with straight segments between its
 *   points; scikit-learn's roc_auc_score). NaN when either class is absent.
 * - PR-AUC: average precision, Σ (R_k − R_{k−1}) P_k over the distinct scores from the
 *   highest down, where P_k and R_k are the precision and recall of predicting positive
 *   every row scoring at least the k-th (scikit-learn's average_precision_score). NaN
 *   without positives.
 * - Log-loss: the mean of −ln p over positives and −ln(1 − p) over negatives, p clipped
 *   to [1e-15, 1 − 1e-15]. Brier: the mean of (p − y)². Both NaN unless every score lies
 *   in [0, 1].
 * - At a threshold t a row is predicted positive when its score is at least t. Precision
 *   is 0 when nothing is predicted positive, recall 0 without positives, F1 0 when both
 *   are 0.
 * - Best F1: the largest F1 over every threshold that is a row's score; its threshold is
 *   the highest score reaching it (the fewest rows predicted positive).
 *
 * Thread-safety: the functions read only their arguments; any number of threads may call
 * them at once.
 */
#ifndef PERSONA_METRICS_H
#define PERSONA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The metrics of one set of scores (filled by persona_metrics_compute()). */
typedef struct persona_metrics {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_metrics). @since 1.0 */
    uint32_t reserved;    /**< 0. @since 1.0 */
    uint64_t rows;        /**< rows measured. @since 1.0 */
    uint64_t positives;   /**< rows labelled 1. @since 1.0 */
    double roc_auc;       /**< ROC-AUC; NaN with one class only. @since 1.0 */
    double pr_auc;        /**< average precision; NaN without positives. @since 1.0 */
    double log_loss;      /**< mean log-loss; NaN unless every score is in [0, 1]. @since 1.0 */
    double brier;         /**< mean squared error of the scores; NaN likewise. @since 1.0 */
    double threshold;     /**< the threshold of the next four (as given). @since 1.0 */
    double accuracy;      /**< share of rows predicted right at the threshold. @since 1.0 */
    double precision;     /**< TP / (TP + FP) at the threshold; 0 when nothing is predicted positive. @since 1.0 */
    double recall;        /**< TP / positives at the threshold; 0 without positives. @since 1.0 */
    double f1;            /**< 2 P R / (P + R); 0 when P + R = 0. @since 1.0 */
    double best_f1;       /**< the largest F1 over thresholds at the rows' scores. @since 1.0 */
    double best_f1_threshold; /**< the highest score reaching it (NaN without rows). @since 1.0 */
} persona_metrics;

/** Initializer for #persona_metrics. */
#define PERSONA_METRICS_INIT { sizeof(persona_metrics), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Zero a metrics struct and set its struct_size (for bindings without the macro).
 * @param[out] metrics     the struct.
 * @param[in]  struct_size sizeof(persona_metrics) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, bad struct_size).
 * @since 1.0
 */
PERSONA_API int persona_metrics_init(persona_metrics *metrics, uint32_t struct_size);

/**
 * Measure scores against labels (the definitions are in the file comment). O(n log n):
 * sorts a copy of the rows' order.
 * @param[out] out       filled up to its struct_size (set it first).
 * @param[in]  labels    n values, each exactly 0 or 1 (doubles, so that integer and
 *                       boolean arrays of numpy convert without a loop).
 * @param[in]  scores    n finite scores; higher means more likely positive.
 * @param[in]  n         rows (0 gives zero counts and NaN measures).
 * @param[in]  threshold the threshold of accuracy, precision, recall and F1 (finite).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL arguments, a label other than 0 or 1 or a
 *         score that is not finite — the message gives the row —, a threshold that is not
 *         finite, struct_size unset); #PERSONA_ENOMEM (out untouched).
 * @since 1.0
 */
PERSONA_API int persona_metrics_compute(persona_metrics *out, const double *labels,
                                        const double *scores, size_t n, double threshold);

/**
 * The decile table (or any number of bins): rows sorted by score, highest first (ties in
 * row order), row i of n going to bin ⌊i · bins / n⌋ — so bins differ in size by at most
 * one row and a run of tied scores may straddle two bins. Per bin: its rows, positives,
 * mean score and lowest and highest score. Calibration compares mean score with
 * positives / rows; the lift of bin b is (positives_b / rows_b) / (positives / n); the
 * cumulative gain through bin b is the positives of bins 0 … b over all positives.
 * @param[out] rows_out      bins entries: rows per bin (a bin is empty when n < bins).
 * @param[out] positives_out bins entries: positives per bin.
 * @param[out] mean_out      bins entries: mean score (NaN for an empty bin).
 * @param[out] min_out       bins entries: lowest score (NaN for an empty bin); may be NULL.
 * @param[out] max_out       bins entries: highest score (NaN for an empty bin); may be NULL.
 * @param[in]  bins          1 … 1000.
 * @param[in]  labels, scores, n as for persona_metrics_compute().
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL arguments, bins out of range, a bad label or
 *         score: the message gives the row); #PERSONA_ENOMEM (outputs untouched).
 * @since 1.0
 */
PERSONA_API int persona_metrics_bins(uint64_t *rows_out, uint64_t *positives_out,
                                     double *mean_out, double *min_out, double *max_out,
                                     size_t bins, const double *labels, const double *scores,
                                     size_t n);

#ifdef __cplusplus
}
#endif

#endif
