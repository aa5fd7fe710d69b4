/* The vector kernel of dist_lanes.h. */
#include <string.h>

#include "cluster/dist_lanes.h"

#if defined(__GNUC__)
typedef double lanes __attribute__((vector_size(PERSONA__LANES * sizeof(double))));
PERSONA__KERNEL_CLONES
void persona__dist2_lanes(const double *x, const double *ct, size_t stride, size_t count,
                          size_t d, double *dist)
{
    for (size_t c0 = 0; c0 < count; c0 += PERSONA__LANES) {
        lanes acc = { 0 };
        for (size_t j = 0; j < d; j++) {
            lanes row;
            memcpy(&row, ct + j * stride + c0, sizeof row);
            lanes t = x[j] - row;
            lanes sq = t * t;
            acc += sq;
        }
        memcpy(dist + c0, &acc, sizeof acc);
    }
}
#else
void persona__dist2_lanes(const double *x, const double *ct, size_t stride, size_t count,
                          size_t d, double *dist)
{
    for (size_t c = 0; c < count; c++) {
        double acc = 0;
        for (size_t j = 0; j < d; j++) {
            double t = x[j] - ct[j * stride + c];
            double sq = t * t;
            acc += sq;
        }
        dist[c] = acc;
    }
}
#endif
