/* Squared distances from one point to many, the many stored transposed so that a vector
 * of them is compared at once (k-means' centres, hierarchical clustering's clusters). */
#ifndef PERSONA_CLUSTER_DIST_LANES_H
#define PERSONA_CLUSTER_DIST_LANES_H

#include <stddef.h>

#define PERSONA__LANES 8
/* v rounded up to a multiple of PERSONA__LANES. */
#define PERSONA__LANES_UP(v) (((v) + PERSONA__LANES - 1) / PERSONA__LANES * PERSONA__LANES)

/* Vector kernels are compiled for the vector units x86-64 CPUs have and picked at load
 * time; every version does the same operations per lane, so the bits do not depend on it.
 * A square is a statement of its own so that no compiler fuses it into the sum. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PERSONA__KERNEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PERSONA__KERNEL_CLONES
#endif

/* Squared distances from x (d coordinates) to the first `count` points stored transposed,
 * coordinate j of point c at ct[j * stride + c] (count and stride multiples of
 * PERSONA__LANES, count <= stride), into dist[0 … count). Every lane sums
 * (x[j] - c[j])^2 in dimension order, as persona__km_dist2 does, so the bits are those of
 * the scalar distance. */
void persona__dist2_lanes(const double *x, const double *ct, size_t stride, size_t count,
                          size_t d, double *dist);

#endif
