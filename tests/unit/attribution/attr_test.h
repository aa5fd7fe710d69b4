/* Helpers the attribution tests share: touchpoint and conversion events, sets from host
 * journeys, one model's credits, and a digest of everything a set answers (info, paths,
 * every model's credits) so two sets can be compared as a caller sees them.
 * Include after check.h. */
#ifndef PERSONA_TEST_ATTR_TEST_H
#define PERSONA_TEST_ATTR_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store_check.h"

/* An event of `type` with campaign = channel (NULL: none) and value (NaN: none). */
static inline void attr_event(persona_store *s, const char *user, int64_t t, const char *type,
                              const char *channel, double value)
{
    ingest_event_with_prop(s, ev(user, t, type, value), "campaign", channel);
}

/* Credits of one model: conv, value, removal effects (arrays of at least 16). */
typedef struct attr_credit {
    double conv[16], value[16], re[16], re_value[16];
    size_t n;
} attr_credit;

static inline int attr_run(attr_credit *c, const persona_attribution *a, int32_t model,
                           int32_t order, double first, double middle, double last)
{
    persona_attribution_model_options o = PERSONA_ATTRIBUTION_MODEL_OPTIONS_INIT;
    o.model = model;
    o.order = order;
    o.position_first = first;
    o.position_middle = middle;
    o.position_last = last;
    memset(c, 0, sizeof *c);
    return persona_attribution_compute(c->conv, c->value, c->re, c->re_value, 16, &c->n, a, &o);
}

/* A set from journeys given as strings of one-letter channels ("AB" = A > B), with
 * conversions, values and nulls; channels named by their letters. */
static inline persona_attribution *attr_from(const char *const *paths, const uint64_t *conv,
                                             const double *value, const uint64_t *nulls, size_t n,
                                             const int64_t *ages, int64_t half_life)
{
    static const char *const names[] = { "A", "B", "C", "D", "E", "F" };
    uint64_t off[32];
    uint32_t touch[256];
    off[0] = 0;
    for (size_t j = 0; j < n; j++) {
        size_t len = strlen(paths[j]);
        for (size_t k = 0; k < len; k++)
            touch[off[j] + k] = (uint32_t)(paths[j][k] - 'A');
        off[j + 1] = off[j] + len;
    }
    persona_attribution_journeys in = PERSONA_ATTRIBUTION_JOURNEYS_INIT;
    in.channels = names;
    in.n_channels = 6;
    in.n_journeys = n;
    in.offsets = off;
    in.touch_channels = touch;
    in.conversions = conv;
    in.values = value;
    in.nulls = nulls;
    in.touch_ages_ms = ages;
    in.half_life_ms = half_life;
    persona_attribution *a = NULL;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_OK);
    return a;
}

/* Everything a set answers, as text (malloc'd). */
static inline char *attr_digest(const persona_attribution *a)
{
    size_t cap = 1 << 16, len = 0;
    char *t = malloc(cap);
#define ATTR_PUT(...)                                                                      \
    do {                                                                                   \
        if (len + 512 > cap)                                                               \
            t = realloc(t, cap *= 2);                                                      \
        len += (size_t)snprintf(t + len, cap - len, __VA_ARGS__);                          \
    } while (0)
    persona_attribution_info in = PERSONA_ATTRIBUTION_INFO_INIT;
    CHECK_RC(persona_attribution_info_get(&in, a), PERSONA_OK);
    ATTR_PUT("channels %llu paths %llu conv %llu nulls %llu touch %llu value %.17g "
             "no-touch %llu %.17g half-life %lld\n", (unsigned long long)in.channels,
             (unsigned long long)in.paths, (unsigned long long)in.conversions,
             (unsigned long long)in.nulls, (unsigned long long)in.touchpoints, in.value,
             (unsigned long long)in.conversions_without_touch, in.value_without_touch,
             (long long)in.half_life_ms);
    for (size_t c = 0; c < in.channels; c++) {
        char name[256];
        CHECK_RC(persona_attribution_channel_name(name, sizeof name, NULL, a, c), PERSONA_OK);
        ATTR_PUT("channel %zu %s\n", c, name);
    }
    for (size_t p = 0; p < in.paths; p++) {
        uint32_t ch[64];
        size_t n = 0;
        uint64_t conv = 0, nulls = 0;
        double v = 0;
        CHECK_RC(persona_attribution_path(ch, 64, &n, &conv, &v, &nulls, a, p), PERSONA_OK);
        ATTR_PUT("path");
        for (size_t i = 0; i < n; i++)
            ATTR_PUT(" %u", ch[i]);
        ATTR_PUT(": %llu %.17g %llu\n", (unsigned long long)conv, v, (unsigned long long)nulls);
    }
    if (in.channels <= 16)
        for (int32_t m = 0; m < PERSONA_ATTRIBUTION_MODELS; m++)
            for (int32_t k = 1; k <= (m ? 1 : 3); k++) {
                attr_credit c;
                CHECK_RC(attr_run(&c, a, m, k, 0, 0, 0), PERSONA_OK);
                ATTR_PUT("model %d order %d:", m, k);
                for (size_t i = 0; i < c.n; i++)
                    ATTR_PUT(" %.17g/%.17g/%.17g/%.17g", c.conv[i], c.value[i], c.re[i],
                             c.re_value[i]);
                ATTR_PUT("\n");
            }
#undef ATTR_PUT
    return t;
}

#endif
