/* A feature column of a row-major matrix, as the predictors' preprocessing reads it. */
#ifndef PERSONA_PREDICT_COLUMN_H
#define PERSONA_PREDICT_COLUMN_H

#include <math.h>
#include <stdlib.h>

#include "core/cmp.h"

/* The present (non-NaN) values of column j of x (n × d, row-major) into out, ascending;
 * returns how many. */
static inline size_t persona__sorted_column(double *out, const double *x, size_t n, size_t d,
                                            size_t j)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i * d + j]))
            out[k++] = x[i * d + j];
    qsort(out, k, sizeof *out, persona__cmp_double);
    return k;
}

#endif
