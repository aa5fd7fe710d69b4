/* The logistic link, shared by logistic regression and the boosted trees. */
#ifndef PERSONA_PREDICT_LOGIT_MATH_H
#define PERSONA_PREDICT_LOGIT_MATH_H

#include <math.h>

/* 1 / (1 + e^−m) without overflow. */
static inline double persona__sigmoid(double m)
{
    if (m >= 0)
        return 1 / (1 + exp(-m));
    double e = exp(m);
    return e / (1 + e);
}

/* log(1 + e^m) without overflow. */
static inline double persona__log1pexp(double m)
{
    return m > 0 ? m + log1p(exp(-m)) : log1p(exp(m));
}

#endif
