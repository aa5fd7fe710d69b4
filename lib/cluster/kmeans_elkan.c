/* Elkan's bounds (C. Elkan, "Using the triangle inequality to accelerate k-means", ICML
 * 2003) for the iterations of kmeans_iter.c.
 *
 * Per point: an upper bound u on the distance to its centre a and one lower bound l(c) on
 * the distance to each centre c; per centre, s(a), half the distance to the nearest other;
 * per pair, half their distance. A point with u below s(a) keeps a without any distance
 * computed. Otherwise another centre c is looked at only when u reaches both l(c) and half
 * the distance from a to c (the triangle inequality: below either, c is farther than a);
 * then u is made exact once, and the distance to c computed if the test still fails. When
 * the centres move, u grows by its centre's shift and each l(c) shrinks by c's shift (kept
 * >= 0), here at the point's next assignment, in the same pass.
 *
 * As with Hamerly (kmeans_iter.c), each test keeps the margin KM_BOUND_SLACK: a centre is
 * passed over only when it is certainly farther, and of the distances computed the least
 * wins with ties to the lower index, as Lloyd compares them — so the labels are Lloyd's. */
#include <math.h>

#include "cluster/kmeans_internal.h"

/* The first assignment: every distance, which also sets the bounds exactly. */
static uint32_t first_assign(km_run *r, size_t i, const double *x, double *lb)
{
    uint32_t k = r->kd->k, best = 0;
    persona__km_point_dists(r, x, lb);
    for (uint32_t c = 1; c < k; c++)
        if (lb[c] < lb[best])
            best = c;
    for (uint32_t c = 0; c < k; c++)
        lb[c] = sqrt(lb[c]);
    r->upper[i] = lb[best];
    return best;
}

uint32_t persona__km_elkan_assign(km_run *r, size_t i)
{
    const km_data *kd = r->kd;
    uint32_t k = kd->k;
    size_t d = kd->d;
    const double *x = kd->x + i * d;
    double *lb = r->lower + i * k;
    if (r->first)
        return first_assign(r, i, x, lb);
    const double *shift = r->shift;
    for (uint32_t c = 0; c < k; c++) {
        double l = lb[c] - shift[c];
        lb[c] = l > 0 ? l : 0;
    }
    uint32_t a = r->labels[i];
    double u = r->upper[i] + shift[a];
    if (u * (1 + KM_BOUND_SLACK) < r->half_gap[a]) {
        r->upper[i] = u;
        return a;
    }
    double da2 = -1; /* the exact squared distance to a, once computed */
    for (uint32_t c = 0; c < k; c++) {
        if (c == a)
            continue;
        double h = r->half_cc[(size_t)a * k + c];
        double z = lb[c] > h ? lb[c] : h;
        if (u * (1 + KM_BOUND_SLACK) < z)
            continue;
        if (da2 < 0) {
            da2 = persona__km_dist2(x, r->centers + (size_t)a * d, d);
            u = lb[a] = sqrt(da2);
            if (u * (1 + KM_BOUND_SLACK) < z)
                continue;
        }
        double dc2 = persona__km_dist2(x, r->centers + (size_t)c * d, d);
        lb[c] = sqrt(dc2);
        if (dc2 < da2 || (dc2 == da2 && c < a)) {
            a = c;
            da2 = dc2;
            u = lb[c];
        }
    }
    r->upper[i] = u;
    return a;
}
