/* persona_attribution_compute: the model options checked, then the heuristic models
 * (every converting path's conversions and value shared among its touchpoints by the
 * model's weights) or the Markov model (attribution_markov.c). */
#include <math.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"

static int check_options(persona_attribution_model_options *o,
                         const persona_attribution_model_options *opts)
{
    persona_attribution_model_options d = PERSONA_ATTRIBUTION_MODEL_OPTIONS_INIT;
    *o = d;
    int rc = opts ? persona__struct_in(o, sizeof *o, opts, sizeof *o,
                                       "persona_attribution_model_options")
                  : PERSONA_OK;
    if (rc)
        return rc;
    if (o->reserved)
        return persona__fail(PERSONA_EINVAL, "reserved is not 0");
    if (o->model < 0 || o->model >= PERSONA_ATTRIBUTION_MODELS)
        return persona__fail(PERSONA_EINVAL, "model is %d (PERSONA_ATTRIBUTION_*: 0 to %d)",
                             o->model, PERSONA_ATTRIBUTION_MODELS - 1);
    if (o->order == 0)
        o->order = 1;
    if (o->order < 1 || o->order > PERSONA_ATTRIBUTION_MAX_ORDER)
        return persona__fail(PERSONA_EINVAL, "order is %d: the Markov order is 1 to %d", o->order,
                             PERSONA_ATTRIBUTION_MAX_ORDER);
    double f = o->position_first, m = o->position_middle, l = o->position_last;
    if (f == 0 && m == 0 && l == 0) {
        o->position_first = o->position_last = 0.4;
        o->position_middle = 0.2;
    } else if (!(f >= 0 && m >= 0 && l >= 0) || !(fabs(f + m + l - 1) <= 1e-9)) {
        return persona__fail(PERSONA_EINVAL, "position weights %g, %g, %g: each must be >= 0 "
                             "and their sum 1", f, m, l);
    }
    return PERSONA_OK;
}

/* Weight of touchpoint i of n under a heuristic model (decay is read from the set). */
static double weight(const persona_attribution_model_options *o, size_t i, size_t n)
{
    switch (o->model) {
    case PERSONA_ATTRIBUTION_FIRST:
        return i == 0;
    case PERSONA_ATTRIBUTION_LAST:
        return i + 1 == n;
    case PERSONA_ATTRIBUTION_LINEAR:
        return 1.0 / (double)n;
    default: /* position */
        if (n == 1)
            return 1;
        if (n == 2)
            return (i == 0 ? o->position_first : o->position_last) + o->position_middle / 2;
        if (i == 0)
            return o->position_first;
        if (i + 1 == n)
            return o->position_last;
        return o->position_middle / (double)(n - 2);
    }
}

static void heuristic(double *conv, double *value, const persona_attribution *a,
                      const persona_attribution_model_options *o)
{
    for (size_t p = 0; p < a->n_paths; p++) {
        if (!a->conv[p])
            continue;
        size_t s = (size_t)a->start[p], n = (size_t)(a->start[p + 1] - s);
        for (size_t i = 0; i < n; i++) {
            uint32_t c = a->touch[s + i];
            if (o->model == PERSONA_ATTRIBUTION_DECAY) {
                conv[c] += a->decay_conv[s + i];
                value[c] += a->decay_value[s + i];
                continue;
            }
            double w = weight(o, i, n);
            if (w == 0)
                continue;
            conv[c] += (double)a->conv[p] * w;
            value[c] += a->value[p] * w;
        }
    }
}

PERSONA_API int persona_attribution_compute(double *conversions_out, double *value_out,
                                            double *removal_out, double *removal_value_out,
                                            size_t capacity, size_t *out_len,
                                            const persona_attribution *a,
                                            const persona_attribution_model_options *opts)
{
    if (!a)
        return persona__fail(PERSONA_EINVAL, "set is NULL");
    persona_attribution_model_options o;
    int rc = check_options(&o, opts);
    if (rc)
        return rc;
    size_t n = a->channels.count;
    if (out_len)
        *out_len = n;
    int any = conversions_out || value_out || removal_out || removal_value_out;
    if (any && capacity < n)
        return persona__fail(PERSONA_EBUFS, "%zu channels, room for %zu", n, capacity);
    if (!any)
        return PERSONA_OK;
    double *conv = persona__calloc(n ? n : 1, sizeof *conv);
    double *value = persona__calloc(n ? n : 1, sizeof *value);
    double *re = persona__calloc(n ? n : 1, sizeof *re);
    double *rev = persona__calloc(n ? n : 1, sizeof *rev);
    if (!conv || !value || !re || !rev)
        rc = persona__fail_nomem();
    else if (o.model == PERSONA_ATTRIBUTION_MARKOV)
        rc = persona__attribution_markov(conv, value, re, rev, a, o.order);
    else {
        heuristic(conv, value, a, &o);
        for (size_t c = 0; c < n; c++)
            re[c] = rev[c] = NAN;
    }
    if (!rc) {
        if (conversions_out)
            memcpy(conversions_out, conv, n * sizeof *conv);
        if (value_out)
            memcpy(value_out, value, n * sizeof *value);
        if (removal_out)
            memcpy(removal_out, re, n * sizeof *re);
        if (removal_value_out)
            memcpy(removal_value_out, rev, n * sizeof *rev);
    }
    persona__free(conv);
    persona__free(value);
    persona__free(re);
    persona__free(rev);
    return rc;
}
