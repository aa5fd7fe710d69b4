/* Starting centres: k-means++ as scikit-learn's _kmeans_plusplus (D. Arthur and
 * S. Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007, with the
 * greedy choice among 2 + ln k candidates), and the data's mean variance that scales the
 * stopping tolerance. */
#include <math.h>
#include <string.h>

#include "cluster/kmeans_blocks.h"
#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"

#define MAX_TRIALS 32

typedef struct pp {
    const km_data *kd;
    double *closest;          /* per point: squared distance to the nearest centre so far */
    const double *cand;       /* trials × d candidate points */
    uint32_t trials;
    double *bpot;             /* per block × trials: potential with that candidate added */
    int update;               /* 1: fold candidate 0 into closest */
} pp;

static void pp_block(void *ctx, size_t b, size_t i0, size_t i1)
{
    pp *p = ctx;
    size_t d = p->kd->d;
    double pot[MAX_TRIALS] = { 0 };
    for (size_t i = i0; i < i1; i++) {
        const double *x = p->kd->x + i * d;
        for (uint32_t t = 0; t < p->trials; t++) {
            double v = persona__km_dist2(x, p->cand + (size_t)t * d, d);
            if (p->closest[i] < v)
                v = p->closest[i];
            pot[t] += v;
            if (p->update)
                p->closest[i] = v;
        }
    }
    memcpy(p->bpot + b * p->trials, pot, p->trials * sizeof *pot);
}

/* The potential of each candidate (closest updated with candidate 0 when update). */
static void potentials(pp *p, km_blocks bl, double *out)
{
    persona__km_pass(bl, p->kd->threads, pp_block, p);
    for (uint32_t t = 0; t < p->trials; t++) {
        out[t] = 0;
        for (size_t b = 0; b < bl.count; b++)
            out[t] += p->bpot[b * p->trials + t];
    }
}

/* The first index whose running sum of w reaches r (numpy's searchsorted on the cumulative
 * sum, side "left"), clipped to the last. */
static size_t search_cumulative(const double *cum, size_t n, double r)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n ? lo : n - 1;
}

int persona__km_plusplus(const km_data *kd, uint64_t seed, double *centers)
{
    size_t n = kd->n, d = kd->d;
    uint32_t trials = 2 + (uint32_t)log((double)kd->k);
    if (trials > MAX_TRIALS)
        trials = MAX_TRIALS;
    persona__rng rng;
    persona__rng_seed(&rng, seed);
    km_blocks bl = persona__km_blocks(n, trials);
    pp p = { kd, NULL, NULL, 1, NULL, 0 };
    p.closest = persona__realloc_array(NULL, n, sizeof *p.closest);
    double *cum = persona__realloc_array(NULL, n, sizeof *cum);
    double *cand = persona__realloc_array(NULL, trials, d * sizeof *cand);
    p.bpot = persona__realloc_array(NULL, bl.count, trials * sizeof *p.bpot);
    double pots[MAX_TRIALS];
    size_t ids[MAX_TRIALS];
    int rc = 0;
    if (!p.closest || !cum || !cand || !p.bpot) {
        rc = persona__fail_nomem();
        goto done;
    }
    memcpy(centers, kd->x + persona__rng_below(&rng, n) * d, d * sizeof *centers);
    double *closest = p.closest, pot;
    for (size_t i = 0; i < n; i++)
        closest[i] = INFINITY;
    p.cand = centers;
    p.trials = 1;
    p.update = 1;
    potentials(&p, bl, &pot); /* the distances to the first centre */
    for (uint32_t c = 1; c < kd->k; c++) {
        double run = 0;
        for (size_t i = 0; i < n; i++)
            cum[i] = run += closest[i];
        for (uint32_t t = 0; t < trials; t++) {
            ids[t] = search_cumulative(cum, n, persona__rng_uniform(&rng) * pot);
            memcpy(cand + (size_t)t * d, kd->x + ids[t] * d, d * sizeof *cand);
        }
        p.cand = cand;
        p.trials = trials;
        p.update = 0;
        potentials(&p, bl, pots);
        uint32_t best = 0;
        for (uint32_t t = 1; t < trials; t++)
            if (pots[t] < pots[best])
                best = t;
        double *centre = centers + (size_t)c * d;
        memcpy(centre, kd->x + ids[best] * d, d * sizeof *centre);
        p.cand = centre;
        p.trials = 1;
        p.update = 1;
        potentials(&p, bl, &pot);
    }
done:
    persona__free(p.closest);
    persona__free(cum);
    persona__free(cand);
    persona__free(p.bpot);
    return rc;
}

typedef struct var_pass {
    const km_data *kd;
    const double *mean; /* NULL: sums of the coordinates; else of squared deviations */
    double *bsum;       /* per block × d */
} var_pass;

static void var_block(void *ctx, size_t b, size_t i0, size_t i1)
{
    var_pass *v = ctx;
    size_t d = v->kd->d;
    double *s = v->bsum + b * d;
    memset(s, 0, d * sizeof *s);
    for (size_t i = i0; i < i1; i++) {
        const double *x = v->kd->x + i * d;
        for (size_t j = 0; j < d; j++) {
            double t = v->mean ? x[j] - v->mean[j] : x[j];
            s[j] += v->mean ? t * t : t;
        }
    }
}

int persona__km_mean_variance(const km_data *kd, double *out)
{
    size_t d = kd->d;
    km_blocks bl = persona__km_blocks(kd->n, d);
    var_pass v = { kd, NULL, persona__realloc_array(NULL, bl.count, d * sizeof(double)) };
    double *mean = persona__calloc(d, sizeof *mean);
    double total = NAN;
    int rc = v.bsum && mean ? 0 : persona__fail_nomem();
    if (!rc) {
        for (int pass = 0; pass < 2; pass++) {
            persona__km_pass(bl, kd->threads, var_block, &v);
            double *acc = pass == 0 ? mean : NULL;
            double var_sum = 0;
            for (size_t j = 0; j < d; j++) {
                double s = 0;
                for (size_t b = 0; b < bl.count; b++)
                    s += v.bsum[b * d + j];
                if (acc)
                    acc[j] = s / (double)kd->n;
                else
                    var_sum += s / (double)kd->n;
            }
            v.mean = mean;
            total = var_sum / (double)d;
        }
    }
    persona__free(v.bsum);
    persona__free(mean);
    if (!rc && !isfinite(total))
        rc = persona__fail(PERSONA_EINVAL, "the points' variance overflows: coordinates too large");
    *out = total;
    return rc;
}
