/* The nearest centre of several points at once: the points' coordinates side by side in
 * vector lanes (one lane per point), each centre's coordinate broadcast, so one pass over
 * the centres serves PERSONA__ROWS points. It is k-means' assignment step for few centres,
 * where comparing one point with a vector of centres leaves most of the time to picking the
 * least lane. */
#ifndef PERSONA_CLUSTER_NEAREST_ROWS_H
#define PERSONA_CLUSTER_NEAREST_ROWS_H

#include <stddef.h>
#include <stdint.h>

/* Points handled by one call. */
#define PERSONA__ROWS 8
/* Most dimensions the kernel takes (the points are copied to the stack side by side). */
#define PERSONA__ROWS_MAX_D 64

/* For each of PERSONA__ROWS points (rows[p]: d coordinates, d <= PERSONA__ROWS_MAX_D), the
 * nearest of k >= 1 centres (row-major k × d): label[p] the lowest index among the nearest,
 * best[p] its squared distance, second[p] the least squared distance to another centre
 * (INFINITY when k == 1; not asked for when second is NULL). Every distance sums (x[j] - c[j])^2 in dimension order, as
 * persona__km_dist2 does, so the bits are those of the scalar distance. Rows may repeat. */
void persona__nearest_rows(const double *const rows[PERSONA__ROWS], const double *centers,
                           uint32_t k, size_t d, uint32_t label[PERSONA__ROWS],
                           double best[PERSONA__ROWS], double second[PERSONA__ROWS]);

/* persona__nearest_rows without the second nearest, for PERSONA__ROWS points already side
 * by side: coordinate j of point p at side[j * PERSONA__ROWS + p]. */
void persona__nearest_side(const double *side, const double *centers, uint32_t k, size_t d,
                           uint32_t label[PERSONA__ROWS], double best[PERSONA__ROWS]);

#endif
