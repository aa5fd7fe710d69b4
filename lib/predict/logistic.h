/* L2-regularised logistic regression fitted exactly (to rounding) by Newton's method: the
 * solver the predictors will train with (issue 10). It works on a dense row-major matrix
 * of finite numbers that the caller has already imputed and scaled; the intercept is not
 * penalised.
 *
 *   minimise  L(w, b) = Σ_i [ log(1 + e^{m_i}) − y_i m_i ] + λ/2 ‖w‖²,   m_i = x_i·w + b
 *
 * (scikit-learn's LogisticRegression with C = 1/λ minimises the same function). Each
 * iteration solves H Δ = −∇L by Cholesky (H = Xᵀ diag(p(1 − p)) X + λ I, the intercept's
 * row unpenalised) and backtracks until L decreases enough (Armijo). Once the decrease a
 * step promises (the Newton decrement −∇Lᵀ Δ / 2) is below 1e-12 (1 + L), too small for L
 * to judge in doubles, full steps are taken while each halves |∇L|∞. It stops when
 * |∇L|∞ ≤ 1e-15 (n + 1), when the gradient stops halving there, or when a step no longer
 * moves θ. L is strictly convex for λ > 0, so the minimum is unique and
 * |θ − θ*| ≤ |∇L| / λ. Sums run in a fixed order: the same bits on every run. */
#ifndef PERSONA_PREDICT_LOGISTIC_H
#define PERSONA_PREDICT_LOGISTIC_H

#include <stddef.h>

#define PERSONA__LOGIT_MAX_FEATURES 4096 /* the Hessian is (d + 1)² doubles */
#define PERSONA__LOGIT_MAX_ITER 100

typedef struct persona__logit {
    size_t d;
    double *coef;     /* d coefficients (owned) */
    double intercept;
    int iterations;   /* Newton iterations made */
    double loss;      /* L at the end */
    double grad_max;  /* |∇L|∞ at the end */
} persona__logit;

/* Fit on x (n × d, row-major, finite), labels y (0 or 1, both present), λ > 0.
 * PERSONA_OK; EINVAL (d = 0 or above the limit, a label not 0/1, a single class, a value
 * not finite, λ not > 0: the message says which); ENOMEM. On failure out is left empty. */
int persona__logit_fit(persona__logit *out, const double *x, const double *y, size_t n,
                       size_t d, double lambda);
void persona__logit_free(persona__logit *m);

/* P(y = 1) of one row of d values. */
double persona__logit_predict(const persona__logit *m, const double *row);

#endif
