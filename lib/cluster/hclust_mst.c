/* Single linkage by Prim's minimum spanning tree (R. Prim, 1957; F. J. Rohlf, "Algorithm 76",
 * 1973): grow a tree from point 0, each step adding the point nearest to it; the edges,
 * sorted, are the merges. O(n d) memory; distances computed as needed.
 *
 * Tie rules, as SciPy's: a point's distance to the tree is lowered only by a strictly
 * nearer tree point; the next point is the nearest, of equal ones the lowest index. */
#include <math.h>

#include "cluster/dist_lanes.h"
#include "cluster/hclust_internal.h"
#include "core/alloc.h"
#include "core/error.h"

#define LANES PERSONA__LANES

int persona__hc_single(const double *x, size_t n, size_t d, hc_merge *merges)
{
    /* The points not in the tree, compact: position p holds point slot[p]. */
    size_t stride = PERSONA__LANES_UP(n), live = n;
    double *ct = persona__calloc(d, stride * sizeof *ct);
    double *near2 = persona__calloc(stride, sizeof *near2); /* squared distance to the tree */
    uint32_t *from = persona__calloc(stride, sizeof *from);  /* the tree point at it */
    uint32_t *slot = persona__calloc(stride, sizeof *slot);
    double *buf = persona__calloc(stride, sizeof *buf);
    int rc = PERSONA_OK;
    if (!ct || !near2 || !from || !slot || !buf) {
        rc = persona__fail_nomem();
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            ct[j * stride + i] = x[i * d + j];
        near2[i] = INFINITY;
        slot[i] = (uint32_t)i;
    }
    size_t at = 0; /* the position of the point joining the tree */
    for (size_t k = 0; k + 1 < n; k++) {
        uint32_t joined = slot[at];
        /* take it out: the last position moves into its place */
        size_t last = --live;
        for (size_t j = 0; j < d; j++)
            ct[j * stride + at] = ct[j * stride + last];
        near2[at] = near2[last];
        from[at] = from[last];
        slot[at] = slot[last];
        persona__dist2_lanes(x + (size_t)joined * d, ct, stride, PERSONA__LANES_UP(live), d, buf);
        size_t best = 0;
        for (size_t p = 0; p < live; p++) {
            if (buf[p] < near2[p]) {
                near2[p] = buf[p];
                from[p] = joined;
            }
            if (near2[p] < near2[best] || (near2[p] == near2[best] && slot[p] < slot[best]))
                best = p;
        }
        merges[k].a = from[best];
        merges[k].b = slot[best];
        merges[k].height = sqrt(near2[best]);
        at = best;
    }
done:
    persona__free(ct);
    persona__free(near2);
    persona__free(from);
    persona__free(slot);
    persona__free(buf);
    return rc;
}
