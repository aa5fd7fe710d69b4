/* Per-node histograms and the best split of the boosted trees (gbdt.h has the criterion). */
#include <math.h>
#include <string.h>

#include "predict/gbdt.h"

void persona__gbdt_histogram(persona__gbdt_hist *hist, const persona__gbdt_bins *b,
                             const uint32_t *rows, size_t m, const double *grad,
                             const double *hess)
{
    size_t d = b->d;
    memset(hist, 0, persona__gbdt_hist_at(b, d) * sizeof *hist);
    /* Row by row, every feature: consecutive updates go to different features' entries, so
     * they do not wait on each other (feature by feature, a two-valued feature's updates
     * would all chain on the same two entries). */
    for (size_t k = 0; k < m; k++) {
        uint32_t i = rows[k];
        const uint8_t *rb = b->bins + (size_t)i * d;
        double g = grad[i], h = hess[i];
        for (size_t f = 0; f < d; f++) {
            size_t value_bins = b->cut_start[f + 1] - b->cut_start[f] + 1;
            /* bin 255 (missing) goes to the entry after the value bins */
            size_t e = b->cut_start[f] + 2 * f + (rb[f] < value_bins ? rb[f] : value_bins);
            hist[e].g += g;
            hist[e].h += h;
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
        const persona__gbdt_hist *hf = hist + persona__gbdt_hist_at(b, f);
        size_t value_bins = persona__gbdt_value_bins(b, f);
        double G = hf[value_bins].g, H = hf[value_bins].h;
        for (size_t k = 0; k < value_bins; k++) {
            G += hf[k].g;
            H += hf[k].h;
        }
        double gm = hf[value_bins].g, hm = hf[value_bins].h;
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
