/* Per-node histograms and the best split of the boosted trees (gbdt.h has the criterion). */
#include <math.h>
#include <string.h>

#include "predict/gbdt.h"

#define BINS_PER_FEATURE 256

void persona__gbdt_histogram(persona__gbdt_hist *hist, const persona__gbdt_bins *b,
                             const uint32_t *rows, size_t m, const double *grad,
                             const double *hess)
{
    memset(hist, 0, b->d * BINS_PER_FEATURE * sizeof *hist);
    for (size_t f = 0; f < b->d; f++) {
        const uint8_t *bf = b->bins + f * b->n;
        persona__gbdt_hist *hf = hist + f * BINS_PER_FEATURE;
        for (size_t k = 0; k < m; k++) {
            uint32_t i = rows[k];
            hf[bf[i]].g += grad[i];
            hf[bf[i]].h += hess[i];
        }
    }
}

/* ½ G² / (H + λ): a side's part of the gain. */
static double score(double g, double h, double lambda)
{
    return 0.5 * g * g / (h + lambda);
}

persona__gbdt_split persona__gbdt_best_split(const persona__gbdt_hist *hist,
                                             const persona__gbdt_bins *b,
                                             const persona__gbdt_split_params *p)
{
    persona__gbdt_split best;
    memset(&best, 0, sizeof best);
    for (size_t f = 0; f < b->d; f++) {
        const persona__gbdt_hist *hf = hist + f * BINS_PER_FEATURE;
        size_t value_bins = b->cut_start[f + 1] - b->cut_start[f] + 1;
        double G = hf[PERSONA__GBDT_MISSING].g, H = hf[PERSONA__GBDT_MISSING].h;
        for (size_t k = 0; k < value_bins; k++) {
            G += hf[k].g;
            H += hf[k].h;
        }
        double gm = hf[PERSONA__GBDT_MISSING].g, hm = hf[PERSONA__GBDT_MISSING].h;
        if (!(H + p->lambda > 0))
            continue;
        double parent = score(G, H, p->lambda);
        double gl = 0, hl = 0;
        for (size_t bin = 0; bin + 1 < value_bins; bin++) {
            gl += hf[bin].g;
            hl += hf[bin].h;
            for (int missing_left = 1; missing_left >= 0; missing_left--) {
                double GL = gl + (missing_left ? gm : 0), HL = hl + (missing_left ? hm : 0);
                double GR = G - GL, HR = H - HL;
                if (HL < p->min_child_weight || HR < p->min_child_weight ||
                    !(HL + p->lambda > 0) || !(HR + p->lambda > 0))
                    continue;
                double gain = score(GL, HL, p->lambda) + score(GR, HR, p->lambda) - parent - p->gamma;
                if (gain > 0 && (!best.found || gain > best.gain)) {
                    best = (persona__gbdt_split){ 1, (uint32_t)f, (uint32_t)bin, missing_left, gain,
                                                  GL, HL, GR, HR };
                }
            }
        }
    }
    return best;
}
