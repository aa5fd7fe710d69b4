/* persona_attribution_merge: the channels of both parts in bytewise order, then every
 * path of a and of b renumbered into them and aggregated again, so paths both parts hold
 * are summed and the result is in canonical order — what a build over both partitions
 * gives. */
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"

static int same_str(const char *x, const char *y)
{
    return !x == !y && (!x || strcmp(x, y) == 0);
}

static int same_options(const persona_attribution *a, const persona_attribution *b)
{
    return same_str(a->channel_prop, b->channel_prop) &&
           same_str(a->conversion_types, b->conversion_types) &&
           same_str(a->touch_types, b->touch_types) &&
           same_str(a->consent_purpose, b->consent_purpose) && a->lookback_ms == b->lookback_ms &&
           a->half_life_ms == b->half_life_ms;
}

static int copy_str(char **dst, const char *src)
{
    if (src && !(*dst = persona__strndup(src, strlen(src))))
        return persona__fail_nomem();
    return PERSONA_OK;
}

/* Paths of src into g with channels renumbered by finding their names in m. */
static int add_paths(attr_agg *g, persona_attribution *m, const persona_attribution *src,
                     uint32_t **buf, size_t *cap)
{
    for (size_t p = 0; p < src->n_paths; p++) {
        size_t s = (size_t)src->start[p], len = (size_t)(src->start[p + 1] - s);
        if (persona__grow((void **)buf, cap, len, sizeof **buf, 16))
            return persona__fail_nomem();
        for (size_t i = 0; i < len; i++) {
            uint32_t c = src->touch[s + i];
            (*buf)[i] = persona__intern_find(&m->channels, persona__intern_str(&src->channels, c),
                                             persona__intern_len(&src->channels, c));
        }
        int rc = persona__attr_agg_add(g, *buf, len, src->conv[p], src->value[p], src->nulls[p],
                                       src->decay_conv + s, src->decay_value + s);
        if (rc)
            return rc;
    }
    return PERSONA_OK;
}

static int merge_into(persona_attribution *m, const persona_attribution *a,
                      const persona_attribution *b)
{
    int rc = copy_str(&m->channel_prop, a->channel_prop);
    if (!rc)
        rc = copy_str(&m->conversion_types, a->conversion_types);
    if (!rc)
        rc = copy_str(&m->touch_types, a->touch_types);
    if (!rc)
        rc = copy_str(&m->consent_purpose, a->consent_purpose);
    m->lookback_ms = a->lookback_ms;
    m->half_life_ms = a->half_life_ms;
    m->conv_no_touch = a->conv_no_touch + b->conv_no_touch;
    m->value_no_touch = a->value_no_touch + b->value_no_touch;
    size_t na = a->channels.count, n = na + b->channels.count;
    const char **names = persona__realloc_array(NULL, n ? n : 1, sizeof *names);
    uint32_t *map = persona__realloc_array(NULL, n ? n : 1, sizeof *map);
    uint32_t *buf = NULL;
    size_t cap = 0;
    if (!rc && (!names || !map))
        rc = persona__fail_nomem();
    for (size_t i = 0; !rc && i < n; i++)
        names[i] = i < na ? persona__intern_str(&a->channels, (uint32_t)i)
                          : persona__intern_str(&b->channels, (uint32_t)(i - na));
    if (!rc)
        rc = persona__attr_channels_sorted(m, names, n, map);
    attr_agg g;
    persona__attr_agg_init(&g);
    if (!rc)
        rc = add_paths(&g, m, a, &buf, &cap);
    if (!rc)
        rc = add_paths(&g, m, b, &buf, &cap);
    if (!rc)
        rc = persona__attr_agg_finish(&g, m, NULL);
    persona__attr_agg_free(&g);
    persona__free(buf);
    persona__free(names);
    persona__free(map);
    return rc;
}

PERSONA_API int persona_attribution_merge(persona_attribution **out, const persona_attribution *a,
                                          const persona_attribution *b)
{
    if (out)
        *out = NULL;
    if (!out || !a || !b)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !a ? "a" : "b");
    if (!same_options(a, b))
        return persona__fail(PERSONA_EINVAL, "the sets were built with different options "
                             "(channel property, types, lookback, half-life or consent)");
    uint64_t ja = persona__attr_journeys(a), jb = persona__attr_journeys(b);
    if (ja == UINT64_MAX || jb == UINT64_MAX || ja + jb > ATTR_MAX_JOURNEYS)
        return persona__fail(PERSONA_EINVAL, "the sets hold more than 2^53 journeys together");
    persona_attribution *m = persona__attribution_alloc();
    if (!m)
        return persona__fail_nomem();
    return persona__attribution_hand_over(out, m, merge_into(m, a, b));
}
