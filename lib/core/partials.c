/* Partials: the "msum" of Shewchuk (1997) as Python's math.fsum does it. Invariant: the
 * partials are non-overlapping and increasing in magnitude, and their exact sum is the
 * exact sum of everything added. */
#include <math.h>

#include "core/partials.h"

int persona__partials_add(double *p, uint32_t *n, uint32_t cap, double x)
{
    uint32_t i = 0;
    for (uint32_t j = 0; j < *n; j++) {
        double y = p[j];
        if (fabs(x) < fabs(y)) {
            double t = x;
            x = y;
            y = t;
        }
        double hi = x + y;
        double lo = y - (hi - x); /* exact: |x| >= |y| (Fast2Sum) */
        if (lo != 0.0)
            p[i++] = lo;
        x = hi;
    }
    if (!isfinite(x) || i == cap)
        return -1;
    p[i++] = x;
    *n = i;
    return 0;
}

double persona__partials_value(const double *p, uint32_t n)
{
    if (n == 0)
        return 0.0;
    double hi = p[--n], lo = 0.0;
    while (n > 0) {
        double x = hi, y = p[--n];
        hi = x + y;
        double yr = hi - x;
        lo = y - yr;
        if (lo != 0.0)
            break;
    }
    /* Round half to even: when the rest (lo and the partials below it) pushes past a tie
     * that hi + lo rounded the wrong way, correct by one step. */
    if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
        double y = lo * 2.0;
        double x = hi + y;
        double yr = x - hi;
        if (y == yr)
            hi = x;
    }
    return hi == 0.0 ? 0.0 : hi;
}
