/* Funnel accessors, allocation and release. */
#include <math.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "cohort/period.h"
#include "core/alloc.h"
#include "core/error.h"
#include "store/store_internal.h"

persona_funnel *persona__funnel_alloc(void)
{
    persona_funnel *f = persona__calloc(1, sizeof *f);
    if (!f)
        persona__fail_nomem();
    return f;
}

void persona__funnel_release(persona_funnel *f)
{
    persona__funnel_spec_free(&f->spec);
    for (int j = 0; j < PERSONA_FUNNEL_MAX_STEPS; j++)
        persona__free(f->times[j]);
    persona__free(f->entered);
    persona__free(f->converted);
    persona__free(f->keys);
    persona__free(f->key_off);
    persona__free(f->stages);
    memset(f, 0, sizeof *f);
}

PERSONA_API void persona_funnel_free(persona_funnel *funnel)
{
    if (!funnel)
        return;
    persona__funnel_release(funnel);
    persona__free(funnel);
}

int persona__funnel_bucket(int64_t ms)
{
    static const int64_t bounds[PERSONA_FUNNEL_TIME_BUCKETS - 1] = {
        60000, 300000, 900000, 3600000, 21600000, 86400000, 604800000
    };
    int b = 0;
    while (b < PERSONA_FUNNEL_TIME_BUCKETS - 1 && ms >= bounds[b])
        b++;
    return b;
}

void persona__funnel_fill_hist(persona_funnel *f)
{
    memset(f->hist, 0, sizeof f->hist);
    for (size_t j = 1; j < f->spec.n_steps; j++)
        for (uint64_t i = 0; i < f->units[j]; i++)
            f->hist[j][persona__funnel_bucket(f->times[j][i])]++;
}

long long persona__funnel_find_user(const persona_funnel *f, const char *key, size_t len)
{
    size_t lo = 0, hi = f->n_users;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = f->keys + f->key_off[mid];
        size_t kl = (size_t)(f->key_off[mid + 1] - f->key_off[mid]);
        int c = memcmp(k, key, kl < len ? kl : len);
        if (!c)
            c = (kl > len) - (kl < len);
        if (c == 0)
            return (long long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int check_step(const persona_funnel *f, size_t step)
{
    if (!f)
        return persona__fail(PERSONA_EINVAL, "funnel is NULL");
    if (step >= f->spec.n_steps)
        return persona__fail(PERSONA_EINVAL, "step %zu is out of range (the funnel has %zu)",
                             step, f->spec.n_steps);
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_step_count(size_t *out, const persona_funnel *funnel)
{
    if (!out || !funnel)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "funnel" : "out");
    *out = funnel->spec.n_steps;
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_step_event(char *buf, size_t capacity, size_t *out_len,
                                          const persona_funnel *funnel, size_t step)
{
    int rc = check_step(funnel, step);
    if (rc)
        return rc;
    const char *t = funnel->spec.steps[step].type;
    return persona__copy_out(buf, capacity, out_len, t, strlen(t));
}

PERSONA_API int persona_funnel_units(uint64_t *out, const persona_funnel *funnel, size_t step)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = check_step(funnel, step);
    if (rc)
        return rc;
    *out = funnel->units[step];
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_conversion(double *from_prev_out, double *from_first_out,
                                          const persona_funnel *funnel, size_t step)
{
    int rc = check_step(funnel, step);
    if (rc)
        return rc;
    const uint64_t *u = funnel->units;
    if (from_prev_out)
        *from_prev_out = step == 0       ? 1.0
                         : u[step - 1] ? (double)u[step] / (double)u[step - 1]
                                         : NAN;
    if (from_first_out)
        *from_first_out = u[0] ? (double)u[step] / (double)u[0] : NAN;
    return PERSONA_OK;
}

/* numpy.quantile(..., method="linear") of the ascending a[0..n), n > 0. */
static double quantile(const int64_t *a, uint64_t n, double q)
{
    double pos = q * (double)(n - 1);
    double fl = floor(pos);
    uint64_t lo = (uint64_t)fl;
    if (lo > n - 1)
        lo = n - 1;
    uint64_t hi = lo + 1 < n ? lo + 1 : n - 1;
    double g = pos - fl;
    double x = (double)a[lo], y = (double)a[hi], d = y - x;
    return g >= 0.5 ? y - d * (1 - g) : x + d * g;
}

PERSONA_API int persona_funnel_time_quantile(double *out, const persona_funnel *funnel,
                                             size_t step, double q)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = check_step(funnel, step);
    if (rc)
        return rc;
    if (!(q >= 0.0 && q <= 1.0))
        return persona__fail(PERSONA_EINVAL, "q %g is outside 0 … 1", q);
    uint64_t n = funnel->units[step];
    *out = step == 0 || n == 0 ? NAN : quantile(funnel->times[step], n, q);
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_time_histogram(uint64_t *counts, size_t capacity,
                                              size_t *out_len, const persona_funnel *funnel,
                                              size_t step)
{
    int rc = check_step(funnel, step);
    if (rc)
        return rc;
    if (out_len)
        *out_len = PERSONA_FUNNEL_TIME_BUCKETS;
    if (capacity < PERSONA_FUNNEL_TIME_BUCKETS)
        return persona__fail(PERSONA_EBUFS, "capacity %zu is below the %d buckets", capacity,
                             PERSONA_FUNNEL_TIME_BUCKETS);
    if (!counts)
        return persona__fail(PERSONA_EINVAL, "counts is NULL");
    memcpy(counts, funnel->hist[step], sizeof funnel->hist[step]);
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_trend_count(size_t *out, const persona_funnel *funnel)
{
    if (!out || !funnel)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "funnel" : "out");
    *out = funnel->n_trend;
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_trend_at(int64_t *start_out, uint64_t *entered_out,
                                        uint64_t *converted_out, const persona_funnel *funnel,
                                        size_t i)
{
    if (!funnel)
        return persona__fail(PERSONA_EINVAL, "funnel is NULL");
    if (i >= funnel->n_trend)
        return persona__fail(PERSONA_EINVAL, "period %zu is out of range (the trend has %zu)",
                             i, funnel->n_trend);
    if (start_out) {
        persona__period p = { funnel->spec.trend_period,
                              (int64_t)funnel->spec.utc_offset_minutes * 60000 };
        *start_out = persona__period_start(&p, funnel->trend_first + (int64_t)i);
    }
    if (entered_out)
        *entered_out = funnel->entered[i];
    if (converted_out)
        *converted_out = funnel->converted[i];
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_stage_of(int32_t *out, const persona_funnel *funnel,
                                        const char *user)
{
    if (!out || !funnel || !user)
        return persona__fail(PERSONA_EINVAL, "%s is NULL",
                             !out ? "out" : !funnel ? "funnel" : "user");
    long long i = persona__funnel_find_user(funnel, user, strlen(user));
    *out = i < 0 ? 0 : funnel->stages[i];
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_user_count(size_t *out, const persona_funnel *funnel)
{
    if (!out || !funnel)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "funnel" : "out");
    *out = funnel->n_users;
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_user_at(char *buf, size_t capacity, size_t *out_len,
                                       int32_t *stage_out, const persona_funnel *funnel,
                                       size_t i)
{
    if (!funnel)
        return persona__fail(PERSONA_EINVAL, "funnel is NULL");
    if (i >= funnel->n_users)
        return persona__fail(PERSONA_EINVAL, "user %zu is out of range (%zu users entered)", i,
                             funnel->n_users);
    if (stage_out)
        *stage_out = funnel->stages[i];
    return persona__copy_out(buf, capacity, out_len, funnel->keys + funnel->key_off[i],
                             (size_t)(funnel->key_off[i + 1] - funnel->key_off[i]));
}
