/* Newton's method for L2-regularised logistic regression (logistic.h has the objective
 * and the stopping rule). Variables θ = (w_0 … w_{d−1}, b); the intercept is last. */
#include "predict/logistic.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "persona/common.h"
#include "predict/logit_math.h"

#define ARMIJO 1e-4
#define MAX_HALVINGS 60

typedef struct newton {
    const double *x, *y;
    size_t n, d, k; /* k = d + 1 */
    double lambda;
    double *theta, *grad, *hess, *step, *margin, *xstep;
} newton;

/* L at margins m + t · xstep and weights theta + t · step (t = 0: the current point). */
static double loss_at(const newton *nw, double t)
{
    double sum = 0, pen = 0;
    for (size_t i = 0; i < nw->n; i++) {
        double m = nw->margin[i] + t * nw->xstep[i];
        sum += persona__log1pexp(m) - nw->y[i] * m;
    }
    for (size_t j = 0; j < nw->d; j++) {
        double w = nw->theta[j] + t * nw->step[j];
        pen += w * w;
    }
    return sum + 0.5 * nw->lambda * pen;
}

/* Adds rows [i, i + m) (m ≤ 4) to the gradient and the lower triangle of the Hessian:
 * four rows at a time, so that each pass over the Hessian does four rows' work. */
static void add_rows(newton *nw, size_t i, size_t m)
{
    size_t k = nw->k, d = nw->d;
    double *restrict grad = nw->grad, *restrict hess = nw->hess;
    const double *restrict r[4];
    double res[4] = { 0, 0, 0, 0 }, v[4] = { 0, 0, 0, 0 };
    for (size_t q = 0; q < 4; q++) {
        r[q] = nw->x + (i + (q < m ? q : 0)) * d; /* missing rows: weight 0 */
        if (q < m) {
            double p = persona__sigmoid(nw->margin[i + q]);
            res[q] = p - nw->y[i + q];
            v[q] = p * (1 - p);
        }
    }
    for (size_t j = 0; j < d; j++) {
        grad[j] += res[0] * r[0][j] + res[1] * r[1][j] + res[2] * r[2][j] + res[3] * r[3][j];
        double a0 = v[0] * r[0][j], a1 = v[1] * r[1][j], a2 = v[2] * r[2][j], a3 = v[3] * r[3][j];
        double *restrict h = hess + j * k;
        for (size_t l = 0; l <= j; l++)
            h[l] += a0 * r[0][l] + a1 * r[1][l] + a2 * r[2][l] + a3 * r[3][l];
        hess[d * k + j] += a0 + a1 + a2 + a3; /* the intercept's row */
    }
    grad[d] += res[0] + res[1] + res[2] + res[3];
    hess[d * k + d] += v[0] + v[1] + v[2] + v[3];
}

/* Gradient and the lower triangle of the Hessian at the current margins. */
static void derivatives(newton *nw)
{
    size_t k = nw->k, d = nw->d;
    memset(nw->grad, 0, k * sizeof *nw->grad);
    memset(nw->hess, 0, k * k * sizeof *nw->hess);
    for (size_t i = 0; i < nw->n; i += 4)
        add_rows(nw, i, nw->n - i < 4 ? nw->n - i : 4);
    for (size_t j = 0; j < d; j++) {
        nw->grad[j] += nw->lambda * nw->theta[j];
        nw->hess[j * k + j] += nw->lambda;
    }
}

/* Solve H s = −g in place of step by Cholesky (the lower triangle of hess, destroyed);
 * 0, or −1 when H is not positive definite to working precision. */
static int cholesky_solve(newton *nw)
{
    size_t k = nw->k;
    double *a = nw->hess;
    for (size_t j = 0; j < k; j++) {
        double s = a[j * k + j];
        for (size_t l = 0; l < j; l++)
            s -= a[j * k + l] * a[j * k + l];
        if (!(s > 0))
            return -1;
        double djj = sqrt(s);
        a[j * k + j] = djj;
        for (size_t i = j + 1; i < k; i++) {
            double t = a[i * k + j];
            for (size_t l = 0; l < j; l++)
                t -= a[i * k + l] * a[j * k + l];
            a[i * k + j] = t / djj;
        }
    }
    for (size_t i = 0; i < k; i++) { /* L z = −g */
        double t = -nw->grad[i];
        for (size_t l = 0; l < i; l++)
            t -= a[i * k + l] * nw->step[l];
        nw->step[i] = t / a[i * k + i];
    }
    for (size_t i = k; i-- > 0;) { /* Lᵀ s = z */
        double t = nw->step[i];
        for (size_t l = i + 1; l < k; l++)
            t -= a[l * k + i] * nw->step[l];
        nw->step[i] = t / a[i * k + i];
    }
    return 0;
}

static double max_abs(const double *v, size_t k)
{
    double m = 0;
    for (size_t j = 0; j < k; j++)
        m = fmax(m, fabs(v[j]));
    return m;
}

static int check_input(const double *x, const double *y, size_t n, size_t d, double lambda)
{
    if (d == 0 || d > PERSONA__LOGIT_MAX_FEATURES)
        return persona__fail(PERSONA_EINVAL, "%zu features: from 1 to %d", d,
                             PERSONA__LOGIT_MAX_FEATURES);
    if (!(lambda > 0) || !isfinite(lambda))
        return persona__fail(PERSONA_EINVAL, "L2 penalty %g: it must be above 0", lambda);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return persona__fail(PERSONA_EINVAL, "row %zu: label %g is not 0 or 1", i, y[i]);
        pos += y[i] == 1;
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[i * d + j]))
                return persona__fail(PERSONA_EINVAL, "row %zu, feature %zu: %g is not a finite number",
                                     i, j, x[i * d + j]);
    }
    if (pos == 0 || pos == n)
        return persona__fail(PERSONA_EINVAL, "every label is %d: a model needs both classes",
                             pos ? 1 : 0);
    return PERSONA_OK;
}

void persona__logit_free(persona__logit *m)
{
    persona__free(m->coef);
    memset(m, 0, sizeof *m);
}

int persona__logit_fit(persona__logit *out, const double *x, const double *y, size_t n,
                       size_t d, double lambda)
{
    memset(out, 0, sizeof *out);
    int rc = check_input(x, y, n, d, lambda);
    if (rc)
        return rc;
    newton nw = { x, y, n, d, d + 1, lambda, NULL, NULL, NULL, NULL, NULL, NULL };
    size_t k = nw.k;
    nw.theta = persona__calloc(k, sizeof *nw.theta);
    nw.grad = persona__realloc_array(NULL, k, sizeof *nw.grad);
    nw.step = persona__realloc_array(NULL, k, sizeof *nw.step);
    nw.hess = persona__realloc_array(NULL, k * k, sizeof *nw.hess);
    nw.margin = persona__calloc(n, sizeof *nw.margin);
    nw.xstep = persona__realloc_array(NULL, n ? n : 1, sizeof *nw.xstep);
    if (!nw.theta || !nw.grad || !nw.step || !nw.hess || !nw.margin || !nw.xstep) {
        rc = persona__fail_nomem();
        goto done;
    }
    double loss = loss_at(&nw, 0), prev_grad = INFINITY;
    int it = 0;
    for (; it < PERSONA__LOGIT_MAX_ITER; it++) {
        derivatives(&nw);
        double grad = max_abs(nw.grad, k);
        if (grad <= 1e-15 * ((double)n + 1))
            break;
        if (cholesky_solve(&nw)) /* H singular to working precision: a gradient step */
            for (size_t j = 0; j < k; j++)
                nw.step[j] = -nw.grad[j];
        double slope = 0; /* ∇Lᵀ Δ < 0 */
        for (size_t j = 0; j < k; j++)
            slope += nw.grad[j] * nw.step[j];
        /* Near the minimum the decrease a step brings is below the rounding of L, so L can
         * no longer judge it: there the full Newton step is taken (quadratic convergence)
         * for as long as it keeps halving the gradient. */
        int near = -slope / 2 <= 1e-12 * (1 + fabs(loss));
        if ((near && !(grad <= prev_grad / 2)) ||
            max_abs(nw.step, k) <= 1e-15 * (1 + max_abs(nw.theta, k)))
            break;
        prev_grad = grad;
        for (size_t i = 0; i < n; i++) {
            const double *row = x + i * d;
            double s = nw.step[d];
            for (size_t j = 0; j < d; j++)
                s += row[j] * nw.step[j];
            nw.xstep[i] = s;
        }
        double t = 1, trial = loss_at(&nw, t);
        if (!near) {
            for (int h = 0; h < MAX_HALVINGS && !(trial <= loss + ARMIJO * t * slope); h++) {
                t /= 2;
                trial = loss_at(&nw, t);
            }
            if (!(trial < loss))
                break; /* no decrease left at working precision */
        }
        for (size_t j = 0; j < k; j++)
            nw.theta[j] += t * nw.step[j];
        for (size_t i = 0; i < n; i++)
            nw.margin[i] += t * nw.xstep[i];
        loss = trial;
    }
    for (size_t i = 0; i < n; i++) { /* margins afresh (no drift from the updates) */
        const double *row = x + i * d;
        double s = nw.theta[d];
        for (size_t j = 0; j < d; j++)
            s += row[j] * nw.theta[j];
        nw.margin[i] = s;
    }
    memset(nw.step, 0, k * sizeof *nw.step);
    loss = loss_at(&nw, 0);
    derivatives(&nw); /* the gradient at the point returned */
    out->d = d;
    out->coef = nw.theta;
    out->intercept = nw.theta[d];
    out->iterations = it;
    out->loss = loss;
    out->grad_max = max_abs(nw.grad, k);
    nw.theta = NULL;
done:
    persona__free(nw.theta);
    persona__free(nw.grad);
    persona__free(nw.step);
    persona__free(nw.hess);
    persona__free(nw.margin);
    persona__free(nw.xstep);
    return rc;
}

double persona__logit_predict(const persona__logit *m, const double *row)
{
    double s = m->intercept;
    for (size_t j = 0; j < m->d; j++)
        s += m->coef[j] * row[j];
    return persona__sigmoid(s);
}
