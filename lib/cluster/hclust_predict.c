/* New points joined to the flat clusters of a hierarchy by the linkage's own rule: the
 * cluster the point would merge with first, at the height it would merge. */
#include <math.h>
#include <string.h>

#include "cluster/hclust_internal.h"
#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"

/* Per cluster: the centroid (Ward) or the least, greatest or summed distance of the point
 * to the cluster's points (single, complete, average). */
typedef struct joiner {
    const persona_hclust *m;
    uint32_t k;
    const uint32_t *labels; /* of the fitted points */
    double *count;          /* k */
    double *acc;            /* k × d centroids (Ward) or k accumulators */
} joiner;

static uint32_t join(const joiner *j, const double *x, double *dist)
{
    const persona_hclust *m = j->m;
    size_t d = m->d;
    if (m->method != PERSONA_LINKAGE_WARD) {
        double init = m->method == PERSONA_LINKAGE_SINGLE ? INFINITY
                      : m->method == PERSONA_LINKAGE_COMPLETE ? -INFINITY : 0;
        for (uint32_t c = 0; c < j->k; c++)
            j->acc[c] = init;
        for (size_t i = 0; i < m->n; i++) {
            double t = sqrt(persona__km_dist2(x, m->points + i * d, d));
            double *a = &j->acc[j->labels[i]];
            if (m->method == PERSONA_LINKAGE_SINGLE)
                *a = t < *a ? t : *a;
            else if (m->method == PERSONA_LINKAGE_COMPLETE)
                *a = t > *a ? t : *a;
            else
                *a += t;
        }
    }
    uint32_t best = 0;
    double bd = INFINITY;
    for (uint32_t c = 0; c < j->k; c++) {
        double v;
        if (m->method == PERSONA_LINKAGE_WARD)
            v = sqrt(2 * j->count[c] / (j->count[c] + 1)) *
                sqrt(persona__km_dist2(x, j->acc + (size_t)c * d, d));
        else if (m->method == PERSONA_LINKAGE_AVERAGE)
            v = j->acc[c] / j->count[c];
        else
            v = j->acc[c];
        if (c == 0 || v < bd) {
            bd = v;
            best = c;
        }
    }
    *dist = bd;
    return best;
}

PERSONA_API int persona_hclust_predict(uint32_t *labels, double *dist, const persona_hclust *m,
                                       uint32_t k, const double *points, size_t n, size_t d)
{
    if (!labels || !m || (!points && n))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !labels ? "labels" : !m ? "model" : "points");
    if (d != m->d)
        return persona__fail(PERSONA_EINVAL, "points of %zu dimensions for a model of %zu", d, m->d);
    if (k < 1 || k > m->n)
        return persona__fail(PERSONA_EINVAL, "k = %u: 1 to the %zu points", k, m->n);
    int rc = persona__km_check_finite(points, n, d, "points");
    if (rc || n == 0)
        return rc;
    uint32_t *fit = persona__realloc_array(NULL, m->n, sizeof *fit);
    double *count = persona__calloc(k, sizeof *count);
    double *acc = persona__calloc(k, (m->method == PERSONA_LINKAGE_WARD ? d : 1) * sizeof *acc);
    if (!fit || !count || !acc) {
        rc = persona__fail_nomem();
        goto done;
    }
    if ((rc = persona__hc_flat(fit, m, m->n - k, NULL)))
        goto done;
    for (size_t i = 0; i < m->n; i++)
        count[fit[i]] += 1;
    if (m->method == PERSONA_LINKAGE_WARD) {
        for (size_t i = 0; i < m->n; i++)
            for (size_t c = 0; c < d; c++)
                acc[(size_t)fit[i] * d + c] += m->points[i * d + c];
        for (uint32_t c = 0; c < k; c++)
            for (size_t q = 0; q < d; q++)
                acc[(size_t)c * d + q] /= count[c];
    }
    joiner j = { m, k, fit, count, acc };
    for (size_t i = 0; i < n; i++) {
        double t;
        labels[i] = join(&j, points + i * d, &t);
        if (dist)
            dist[i] = t;
    }
done:
    persona__free(fit);
    persona__free(count);
    persona__free(acc);
    return rc;
}
