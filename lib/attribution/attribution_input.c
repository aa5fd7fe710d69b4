/* persona_attribution_from_journeys: a host's journeys, checked one by one (the message
 * names the journey), aggregated like a build's; channels no kept journey uses are left
 * out, the others numbered in bytewise order. */
#include <math.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"

/* Channel names: present, non-empty, distinct. */
static int check_channels(const persona_attribution_journeys *in)
{
    if (in->n_channels && !in->channels)
        return persona__fail(PERSONA_EINVAL, "channels is NULL with %zu entries", in->n_channels);
    if (in->n_channels >= UINT32_MAX)
        return persona__fail(PERSONA_EINVAL, "%zu channels: more than the limit", in->n_channels);
    persona__intern seen;
    persona__intern_init(&seen, persona__hash_key_from_seed(0));
    int rc = PERSONA_OK;
    for (size_t i = 0; i < in->n_channels && !rc; i++) {
        const char *c = in->channels[i];
        if (!c || !*c)
            rc = persona__fail(PERSONA_EINVAL, "channel %zu is %s", i, c ? "empty" : "NULL");
        else if (persona__intern_add(&seen, c, strlen(c)) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
        else if (seen.count != i + 1)
            rc = persona__fail(PERSONA_EINVAL, "channel %zu (\"%s\") is a repeat", i, c);
    }
    persona__intern_free(&seen);
    return rc;
}

/* Journey j: its touchpoints, counts, value and ages. */
static int check_journey(const persona_attribution_journeys *in, size_t j)
{
    uint64_t a = in->offsets[j], b = in->offsets[j + 1];
    if (b < a)
        return persona__fail(PERSONA_EINVAL, "journey %zu: offsets descend (%llu > %llu)", j,
                             (unsigned long long)a, (unsigned long long)b);
    uint64_t conv = in->conversions[j], nulls = in->nulls ? in->nulls[j] : 0;
    double v = in->values ? in->values[j] : 0;
    if (!isfinite(v))
        return persona__fail(PERSONA_EINVAL, "journey %zu: value is not finite", j);
    if (a == b && (conv || nulls))
        return persona__fail(PERSONA_EINVAL, "journey %zu is empty but has conversions or nulls",
                             j);
    for (uint64_t k = a; k < b; k++) {
        if (in->touch_channels[k] >= in->n_channels)
            return persona__fail(PERSONA_EINVAL, "journey %zu: channel index %u is out of range "
                                 "(%zu channels)", j, in->touch_channels[k], in->n_channels);
        if (in->touch_ages_ms && in->touch_ages_ms[k] < 0)
            return persona__fail(PERSONA_EINVAL, "journey %zu: touchpoint age is negative", j);
    }
    return PERSONA_OK;
}

static int check(const persona_attribution_journeys *in)
{
    if (in->reserved)
        return persona__fail(PERSONA_EINVAL, "reserved is not 0");
    if (in->half_life_ms < 0)
        return persona__fail(PERSONA_EINVAL, "half_life_ms is negative");
    if (in->n_journeys && (!in->offsets || !in->conversions))
        return persona__fail(PERSONA_EINVAL, "%s is NULL with %zu journeys",
                             in->offsets ? "conversions" : "offsets", in->n_journeys);
    if (in->n_journeys && in->offsets[0] != 0)
        return persona__fail(PERSONA_EINVAL, "offsets[0] is not 0");
    if (in->n_journeys && in->offsets[in->n_journeys] && !in->touch_channels)
        return persona__fail(PERSONA_EINVAL, "touch_channels is NULL");
    int rc = check_channels(in);
    uint64_t total = 0;
    for (size_t j = 0; j < in->n_journeys && !rc; j++) {
        rc = check_journey(in, j);
        uint64_t c = in->conversions[j], n = in->nulls ? in->nulls[j] : 0;
        if (c > ATTR_MAX_JOURNEYS || n > ATTR_MAX_JOURNEYS || (total += c + n) > ATTR_MAX_JOURNEYS)
            rc = persona__fail(PERSONA_EINVAL, "journey %zu: more than 2^53 journeys in all", j);
    }
    return rc;
}

static int aggregate(persona_attribution *a, const persona_attribution_journeys *in, attr_agg *g)
{
    double *dc = NULL, *dv = NULL;
    int64_t *zero = NULL;
    size_t cap = 0;
    int rc = PERSONA_OK;
    for (size_t j = 0; j < in->n_journeys && !rc; j++) {
        uint64_t o = in->offsets[j], conv = in->conversions[j];
        size_t len = (size_t)(in->offsets[j + 1] - o);
        uint64_t nulls = in->nulls ? in->nulls[j] : 0;
        double v = in->values ? in->values[j] : 0;
        if (!conv && !nulls)
            continue;
        if (len > cap) {
            size_t c = cap;
            if (persona__grow((void **)&dc, &c, len, sizeof *dc, 16) ||
                persona__grow((void **)&dv, &cap, len, sizeof *dv, 16)) {
                rc = persona__fail_nomem();
                break;
            }
            int64_t *z = persona__realloc_array(zero, cap, sizeof *z);
            if (!z) {
                rc = persona__fail_nomem();
                break;
            }
            zero = z;
            memset(zero, 0, cap * sizeof *zero);
        }
        const uint32_t *path = in->touch_channels + o;
        if (conv)
            persona__attr_decay(dc, dv, in->touch_ages_ms ? in->touch_ages_ms + o : zero, len, conv,
                                v, a->half_life_ms);
        rc = persona__attr_agg_add(g, path, len, conv, conv ? v : 0, nulls, conv ? dc : NULL,
                                   conv ? dv : NULL);
    }
    persona__free(dc);
    persona__free(dv);
    persona__free(zero);
    return rc;
}

PERSONA_API int persona_attribution_from_journeys(persona_attribution **out,
                                                  const persona_attribution_journeys *journeys)
{
    if (out)
        *out = NULL;
    if (!out || !journeys)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "journeys" : "out");
    persona_attribution_journeys in;
    int rc = persona__struct_in(&in, sizeof in, journeys, sizeof in, "persona_attribution_journeys");
    if (!rc)
        rc = check(&in);
    if (rc)
        return rc;
    persona_attribution *a = persona__attribution_alloc();
    if (!a)
        return persona__fail_nomem();
    if (in.half_life_ms)
        a->half_life_ms = in.half_life_ms;
    attr_agg g;
    persona__attr_agg_init(&g);
    uint32_t *map = persona__realloc_array(NULL, in.n_channels ? in.n_channels : 1, sizeof *map);
    rc = map ? PERSONA_OK : persona__fail_nomem();
    if (!rc)
        rc = aggregate(a, &in, &g);
    if (!rc)
        rc = persona__attr_channels_used(a, &g, in.channels, in.n_channels, map);
    if (!rc)
        rc = persona__attr_agg_finish(&g, a, map);
    persona__attr_agg_free(&g);
    persona__free(map);
    return persona__attribution_hand_over(out, a, rc);
}
