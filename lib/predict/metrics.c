/* Binary classification metrics (include/persona/metrics.h): one sort of the rows by
 * score, highest first, then every measure in passes over the sorted rows. Sums go
 * through exactsum, so a measure does not depend on the order of the rows beyond the
 * documented tie rules. */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/exactsum.h"
#include "core/structs.h"
#include "persona/metrics.h"

#define LOGLOSS_EPS 1e-15
#define MAX_BINS 1000

typedef struct ranked {
    double score;
    size_t row;
    int label;
} ranked;

/* Highest score first; ties in row order. */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* The rows sorted (the caller frees *out); EINVAL naming the first bad row, ENOMEM. */
static int rank_rows(ranked **out, const double *labels, const double *scores, size_t n)
{
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] != 0 && labels[i] != 1)
            return persona__fail(PERSONA_EINVAL, "row %zu: label %g is not 0 or 1", i, labels[i]);
        if (!isfinite(scores[i]))
            return persona__fail(PERSONA_EINVAL, "row %zu: score %g is not a finite number", i,
                                 scores[i]);
    }
    ranked *r = persona__realloc_array(NULL, n ? n : 1, sizeof *r);
    if (!r)
        return persona__fail_nomem();
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){ scores[i], i, labels[i] == 1 };
    qsort(r, n, sizeof *r, cmp_ranked);
    *out = r;
    return PERSONA_OK;
}

static double f1_of(double precision, double recall)
{
    return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
}

/* ROC-AUC, average precision and the best F1 from the sorted rows: one pass over the runs
 * of tied scores. Each run adds its positives × the negatives ranked below it, plus half
 * of its positives × its own negatives (the Mann–Whitney count). */
static void ranking_measures(persona_metrics *m, const ranked *r, size_t n)
{
    uint64_t P = m->positives, N = n - P, tp = 0, fp = 0;
    double pairs = 0, ap = 0, prev_recall = 0;
    m->best_f1 = 0;
    m->best_f1_threshold = n ? r[0].score : NAN;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t run_pos = 0;
        while (j < n && r[j].score == r[i].score)
            run_pos += (uint64_t)r[j++].label;
        uint64_t run_neg = (j - i) - run_pos;
        /* negatives below this run: N − fp − run_neg */
        pairs += (double)run_pos * (double)(N - fp - run_neg) + 0.5 * (double)run_pos * (double)run_neg;
        tp += run_pos;
        fp += run_neg;
        double precision = (double)tp / (double)(tp + fp);
        double recall = P ? (double)tp / (double)P : 0;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        double f1 = f1_of(precision, recall);
        if (f1 > m->best_f1) {
            m->best_f1 = f1;
            m->best_f1_threshold = r[i].score;
        }
        i = j;
    }
    m->roc_auc = P && N ? pairs / ((double)P * (double)N) : NAN;
    m->pr_auc = P ? ap : NAN;
}

PERSONA_API int persona_metrics_compute(persona_metrics *out, const double *labels,
                                        const double *scores, size_t n, double threshold)
{
    if (!out || (n && (!labels || !scores)))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !labels ? "labels" : "scores");
    if (!isfinite(threshold))
        return persona__fail(PERSONA_EINVAL, "threshold %g is not a finite number", threshold);
    ranked *r = NULL;
    int rc = rank_rows(&r, labels, scores, n);
    if (rc)
        return rc;
    persona_metrics m = PERSONA_METRICS_INIT;
    m.rows = n;
    m.threshold = threshold;
    persona__exactsum loss, sq;
    persona__exactsum_init(&loss);
    persona__exactsum_init(&sq);
    int probabilities = 1;
    uint64_t tp = 0, fp = 0, tn = 0;
    for (size_t i = 0; i < n; i++) {
        int y = r[i].label;
        double p = r[i].score;
        m.positives += (uint64_t)y;
        probabilities &= p >= 0 && p <= 1;
        double q = fmin(fmax(p, LOGLOSS_EPS), 1 - LOGLOSS_EPS);
        persona__exactsum_add(&loss, -log(y ? q : 1 - q));
        persona__exactsum_add(&sq, (p - y) * (p - y));
        int predicted = p >= threshold;
        tp += (uint64_t)(predicted && y);
        fp += (uint64_t)(predicted && !y);
        tn += (uint64_t)(!predicted && !y);
    }
    double rows = (double)n;
    m.log_loss = n && probabilities ? persona__exactsum_value(&loss) / rows : NAN;
    m.brier = n && probabilities ? persona__exactsum_value(&sq) / rows : NAN;
    m.accuracy = n ? (double)(tp + tn) / rows : NAN;
    m.precision = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    m.recall = m.positives ? (double)tp / (double)m.positives : 0;
    m.f1 = f1_of(m.precision, m.recall);
    ranking_measures(&m, r, n);
    persona__free(r);
    return persona__struct_out(out, &m, sizeof m, sizeof m, "persona_metrics");
}

PERSONA_API int persona_metrics_bins(uint64_t *rows_out, uint64_t *positives_out,
                                     double *mean_out, double *min_out, double *max_out,
                                     size_t bins, const double *labels, const double *scores,
                                     size_t n)
{
    if (!rows_out || !positives_out || !mean_out || (n && (!labels || !scores)))
        return persona__fail(PERSONA_EINVAL, "%s is NULL",
                             !rows_out ? "rows_out" : !positives_out ? "positives_out"
                             : !mean_out ? "mean_out" : !labels ? "labels" : "scores");
    if (bins < 1 || bins > MAX_BINS)
        return persona__fail(PERSONA_EINVAL, "bins %zu: from 1 to %d", bins, MAX_BINS);
    ranked *r = NULL;
    int rc = rank_rows(&r, labels, scores, n);
    if (rc)
        return rc;
    size_t q = n / bins, rem = n % bins;
    for (size_t b = 0, i = 0; b < bins; b++) {
        /* rows [i, end) of bin b, those with ⌊i · bins / n⌋ = b: end = ⌈(b + 1) n / bins⌉,
         * split so that nothing overflows */
        size_t end = (b + 1) * q + ((b + 1) * rem + bins - 1) / bins;
        persona__exactsum sum;
        persona__exactsum_init(&sum);
        uint64_t pos = 0;
        for (size_t k = i; k < end; k++) {
            pos += (uint64_t)r[k].label;
            persona__exactsum_add(&sum, r[k].score);
        }
        rows_out[b] = end - i;
        positives_out[b] = pos;
        mean_out[b] = end > i ? persona__exactsum_value(&sum) / (double)(end - i) : NAN;
        if (min_out)
            min_out[b] = end > i ? r[end - 1].score : NAN;
        if (max_out)
            max_out[b] = end > i ? r[i].score : NAN;
        i = end;
    }
    persona__free(r);
    return PERSONA_OK;
}

PERSONA__DEFINE_INIT(persona_metrics, persona_metrics_init)
