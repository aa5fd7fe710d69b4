/* Mini-batch k-means (D. Sculley, "Web-scale k-means clustering", WWW 2010), as
 * scikit-learn's MiniBatchKMeans updates its centres.
 *
 * Each step draws a batch of points, assigns each to its nearest centre, and moves every
 * centre that got points: with v(c) the points it has had in all steps so far, each point
 * moves it by 1/v(c) of the way (Sculley's per-centre learning rate), which over a batch is
 * one weighted mean, c' = (c·v + sum of its batch points) / (v + its batch count) — its
 * first batch puts it at their mean. Centres that no batch reaches stay where they started
 * (no reassignment of small clusters).
 *
 * Batches are batch_size points drawn uniformly with replacement from the run's stream
 * (xoshiro256** seeded with seed + 1; k-means++ uses the seed itself), or every point
 * once, in order, when batch_size >= n. Steps: max_iter × n / batch_size (at least 1), so
 * max_iter counts passes over as many points as the data has; after any step but the
 * first, a summed squared centre shift at most tol_abs stops (scikit-learn's tol rule).
 * The steps run on the calling thread, so the result cannot depend on the thread count;
 * the final assignment of every point to the final centres (labels, sizes, inertia) is
 * persona__km_run's, on the threads. */
#include <string.h>

#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/rng.h"

/* max_iter × n / batch without overflow (saturating). */
static uint64_t step_count(uint32_t max_iter, size_t n, size_t batch)
{
    uint64_t whole = n / batch, part = n % batch; /* n = whole × batch + part */
    if (whole && max_iter > UINT64_MAX / whole)
        return UINT64_MAX;
    uint64_t steps = (uint64_t)max_iter * whole + (uint64_t)max_iter * part / batch;
    return steps ? steps : 1;
}

int persona__km_minibatch(const km_data *kd, double *centers, uint32_t *labels, uint64_t *sizes,
                          uint32_t max_iter, double tol_abs, uint32_t batch_size, uint64_t seed,
                          km_result *res)
{
    size_t n = kd->n, d = kd->d, batch = batch_size < n ? batch_size : n;
    uint32_t k = kd->k;
    uint64_t *seen = persona__calloc(k, sizeof *seen);  /* v(c) */
    uint64_t *count = persona__calloc(k, sizeof *count); /* this batch's points per centre */
    double *sum = persona__realloc_array(NULL, k, d * sizeof *sum);
    if (!seen || !count || !sum) {
        persona__free(seen);
        persona__free(count);
        persona__free(sum);
        return persona__fail_nomem();
    }
    persona__rng rng;
    persona__rng_seed(&rng, seed + 1);
    uint64_t steps = step_count(max_iter, n, batch);
    int converged = 0;
    uint64_t step = 0;
    while (step < steps && !converged) {
        memset(sum, 0, k * d * sizeof *sum);
        memset(count, 0, k * sizeof *count);
        for (size_t b = 0; b < batch; b++) {
            size_t i = batch == n ? b : (size_t)persona__rng_below(&rng, n);
            const double *x = kd->x + i * d;
            double dist2;
            uint32_t a = persona__km_nearest(x, centers, k, d, &dist2);
            count[a]++;
            for (size_t j = 0; j < d; j++)
                sum[(size_t)a * d + j] += x[j];
        }
        double shift_tot = 0;
        for (uint32_t c = 0; c < k; c++) {
            if (!count[c])
                continue;
            double *cc = centers + (size_t)c * d, v = (double)seen[c];
            seen[c] += count[c];
            for (size_t j = 0; j < d; j++) {
                double moved = (cc[j] * v + sum[(size_t)c * d + j]) / (double)seen[c];
                double t = moved - cc[j];
                shift_tot += t * t;
                cc[j] = moved;
            }
        }
        converged = step > 0 && shift_tot <= tol_abs;
        step++;
    }
    persona__free(seen);
    persona__free(count);
    persona__free(sum);
    km_result fin;
    int rc = persona__km_run(kd, centers, labels, sizes, 0, tol_abs, KM_LLOYD, &fin);
    if (rc)
        return rc;
    res->inertia = fin.inertia;
    res->iterations = step > UINT32_MAX ? UINT32_MAX : (uint32_t)step;
    res->converged = (uint32_t)converged;
    return 0;
}
