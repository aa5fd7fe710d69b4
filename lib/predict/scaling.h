/* The preprocessing of numeric features before logistic regression, as scikit-learn's
 * SimpleImputer(strategy="median") + StandardScaler: a missing value (NaN) becomes its
 * column's median over the present values (the mean of the two middle ones for an even
 * count; 0 when the column has none), then each column is centred on its mean and divided
 * by its population standard deviation (1 for a constant column). Fitted on training rows,
 * applied to any row after. */
#ifndef PERSONA_PREDICT_SCALING_H
#define PERSONA_PREDICT_SCALING_H

#include <stddef.h>

typedef struct persona__scaling {
    size_t d;
    double *median, *mean, *scale; /* d each, one allocation */
} persona__scaling;

/* Fit on x (n × d, row-major; NaN = missing, other values finite) and transform it in
 * place. PERSONA_OK; EINVAL (an infinite value: the message gives row and column);
 * ENOMEM (x untouched). */
int persona__scaling_fit(persona__scaling *s, double *x, size_t n, size_t d);
/* Transform one row of d values in place. */
void persona__scaling_apply(const persona__scaling *s, double *row);
void persona__scaling_free(persona__scaling *s);

#endif
