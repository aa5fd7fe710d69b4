/* The core of histogram gradient-boosted trees (issue 10): features binned once, then
 * per node the gradient and Hessian sums of each bin and the best split from them.
 *
 * Binning. A feature's present values get at most max_bins − 1 cut points, ascending;
 * value v goes to bin b = the number of cuts below v (so bin b holds cut[b−1] < v ≤ cut[b],
 * the last bin everything above the last cut) and a missing value (NaN) to
 * PERSONA__GBDT_MISSING. With at most max_bins distinct values every value has its own
 * bin (the cuts are the distinct values but the largest); with more, the cuts are the
 * values at ranks ⌊b n / max_bins⌋ (b = 1 … max_bins − 1) of the sorted present values,
 * duplicates dropped — exact quantiles, where XGBoost sketches them.
 *
 * Splits (XGBoost's exact-greedy criterion over the bins). A node with gradient sum G and
 * Hessian sum H splits feature f after bin b into left = bins ≤ b and right = bins > b,
 * its missing rows going to the side that gives the larger gain:
 *     gain = ½ [ G_L² / (H_L + λ) + G_R² / (H_R + λ) − G² / (H + λ) ] − γ,
 * allowed when both sides have Hessian sums ≥ min_child_weight. The best split has the
 * largest gain; ties go to the lower feature, then the lower bin, then missing-left. A
 * node is not split when no split has gain > 0. */
#ifndef PERSONA_PREDICT_GBDT_H
#define PERSONA_PREDICT_GBDT_H

#include <stddef.h>
#include <stdint.h>

#define PERSONA__GBDT_MISSING 255u
#define PERSONA__GBDT_MAX_BINS 255u /* value bins; bin 255 is "missing" */

/* The binned training matrix: row-major bins (feature f of row i at bins[i * d + f], so a
 * histogram pass reads each row's bins and gradients once), each feature's cuts. */
typedef struct persona__gbdt_bins {
    size_t n, d;
    uint8_t *bins;    /* n × d */
    double *cuts;     /* all features' cuts, feature f's at cut_start[f] .. cut_start[f + 1] */
    size_t *cut_start; /* d + 1 */
} persona__gbdt_bins;

/* Bin x (n × d, row-major; NaN = missing, other values finite) with at most max_bins
 * (2 … 255) value bins per feature. PERSONA_OK; EINVAL (max_bins out of range, an
 * infinite value); ENOMEM. */
int persona__gbdt_bin(persona__gbdt_bins *out, const double *x, size_t n, size_t d,
                      unsigned max_bins);
void persona__gbdt_bins_free(persona__gbdt_bins *b);
/* The bin of value v of feature f (a row being scored). */
uint8_t persona__gbdt_bin_of(const persona__gbdt_bins *b, size_t f, double v);

/* Sums over a node's rows, per feature and bin. A node's histogram is compact: feature f's
 * value bins, then its missing bin, start at entry persona__gbdt_hist_at(b, f) — so a
 * one-hot feature takes 3 entries, not 256 (zeroing and scanning cost what the bins do). */
typedef struct persona__gbdt_hist {
    double g, h;
} persona__gbdt_hist;

/* Value bins of feature f (its missing bin comes after them). */
static inline size_t persona__gbdt_value_bins(const persona__gbdt_bins *b, size_t f)
{
    return b->cut_start[f + 1] - b->cut_start[f] + 1;
}
/* First histogram entry of feature f; persona__gbdt_hist_at(b, b->d) entries in all. */
static inline size_t persona__gbdt_hist_at(const persona__gbdt_bins *b, size_t f)
{
    return b->cut_start[f] + 2 * f;
}

/* hist (persona__gbdt_hist_at(b, d) entries, zeroed by the call) := the sums of grad / hess
 * over rows[0 .. m). */
void persona__gbdt_histogram(persona__gbdt_hist *hist, const persona__gbdt_bins *b,
                             const uint32_t *rows, size_t m, const double *grad,
                             const double *hess);

typedef struct persona__gbdt_split_params {
    double lambda;           /* L2 on leaf values (≥ 0) */
    double gamma;            /* least gain of a split (≥ 0) */
    double min_child_weight; /* least Hessian sum of a side (≥ 0) */
} persona__gbdt_split_params;

typedef struct persona__gbdt_split {
    int found;          /* 0: no split has gain > 0 */
    uint32_t feature;
    uint32_t bin;       /* left: bins ≤ bin */
    int missing_left;   /* where the missing rows go */
    double gain;
    double g_left, h_left, g_right, h_right;
} persona__gbdt_split;

/* The best split of a node from its histogram (see the file comment). */
persona__gbdt_split persona__gbdt_best_split(const persona__gbdt_hist *hist,
                                             const persona__gbdt_bins *b,
                                             const persona__gbdt_split_params *p);

/* ---- trees (gbdt_tree.c) ----
 * Grown depth-wise: a node becomes a leaf at max_depth, with fewer than 2 rows, or when
 * it has no split of gain > 0; a leaf's value is −η G / (H + λ). Boosting for log-loss
 * starts from the margin 0 (XGBoost's base_score 0.5) and fits each tree to the gradient
 * p − y and Hessian p (1 − p) of the current margins. */
typedef struct persona__gbdt_node {
    uint32_t feature;     /* split nodes */
    uint32_t bin;         /* left: bins ≤ bin, i.e. values ≤ threshold */
    double threshold;     /* the cut of that bin */
    uint32_t left, right; /* child node indexes; 0 for a leaf (the root is never a child) */
    int32_t missing_left;
    double value;         /* leaves: the output, learning rate applied */
} persona__gbdt_node;

typedef struct persona__gbdt_tree {
    persona__gbdt_node *nodes; /* nodes[0] is the root */
    size_t n_nodes;
} persona__gbdt_tree;

typedef struct persona__gbdt_params {
    persona__gbdt_split_params split;
    unsigned max_depth;   /* 1 … 16 */
    double learning_rate; /* η, > 0 */
    unsigned trees;
} persona__gbdt_params;

/* One tree fitted to grad / hess over rows[0 .. m) (the array is reordered). */
int persona__gbdt_grow(persona__gbdt_tree *out, const persona__gbdt_bins *b, uint32_t *rows,
                       size_t m, const double *grad, const double *hess,
                       const persona__gbdt_params *p);
void persona__gbdt_tree_free(persona__gbdt_tree *t);
/* A tree's output for training row i (binned) or for a row of raw values (NaN = missing). */
double persona__gbdt_tree_binned(const persona__gbdt_tree *t, const persona__gbdt_bins *b,
                                 size_t i);
double persona__gbdt_tree_raw(const persona__gbdt_tree *t, const double *row);

/* Boosting for binary log-loss: p->trees trees on the binned matrix and labels y (0/1);
 * margins (n, may be NULL) receives the final training margins. */
typedef struct persona__gbdt_model {
    persona__gbdt_tree *trees;
    size_t n_trees;
} persona__gbdt_model;
int persona__gbdt_boost(persona__gbdt_model *out, const persona__gbdt_bins *b, const double *y,
                        const persona__gbdt_params *p, double *margins);
void persona__gbdt_model_free(persona__gbdt_model *m);
/* P(y = 1) of a row of raw values. */
double persona__gbdt_predict(const persona__gbdt_model *m, const double *row);

#endif
