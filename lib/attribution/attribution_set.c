/* The journey set's lifecycle and plain lookups: allocation and release, the struct
 * initialisers, sizes, channel names and paths. */
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"

PERSONA__DEFINE_INIT(persona_attribution_options, persona_attribution_options_init)
PERSONA__DEFINE_INIT(persona_attribution_journeys, persona_attribution_journeys_init)
PERSONA__DEFINE_INIT(persona_attribution_model_options, persona_attribution_model_options_init)
PERSONA__DEFINE_INIT(persona_attribution_info, persona_attribution_info_init)

persona_attribution *persona__attribution_alloc(void)
{
    persona_attribution *a = persona__calloc(1, sizeof *a);
    if (!a)
        return NULL;
    persona__intern_init(&a->channels, persona__hash_key_from_seed(0));
    a->half_life_ms = ATTR_DEFAULT_HALF_LIFE_MS;
    return a;
}

PERSONA_API void persona_attribution_free(persona_attribution *a)
{
    if (!a)
        return;
    persona__free(a->channel_prop);
    persona__free(a->conversion_types);
    persona__free(a->touch_types);
    persona__free(a->consent_purpose);
    persona__intern_free(&a->channels);
    persona__free(a->start);
    persona__free(a->touch);
    persona__free(a->conv);
    persona__free(a->nulls);
    persona__free(a->value);
    persona__free(a->decay_conv);
    persona__free(a->decay_value);
    persona__free(a);
}

int persona__attr_grow(const attr_array *arrays, size_t n, size_t *cap, size_t need,
                       size_t min_cap)
{
    if (need <= *cap)
        return 0;
    size_t got = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t c = *cap;
        if (persona__grow(arrays[i].ptr, &c, need, arrays[i].size, min_cap))
            return -1;
        got = c < got ? c : got;
    }
    *cap = got;
    return 0;
}

int persona__attr_alloc_paths(persona_attribution *a, uint64_t n, uint64_t t)
{
    size_t np = n ? (size_t)n : 1, nt = t ? (size_t)t : 1;
    a->start = persona__realloc_array(NULL, (size_t)n + 1, sizeof *a->start);
    a->touch = persona__realloc_array(NULL, nt, sizeof *a->touch);
    a->conv = persona__realloc_array(NULL, np, sizeof *a->conv);
    a->nulls = persona__realloc_array(NULL, np, sizeof *a->nulls);
    a->value = persona__realloc_array(NULL, np, sizeof *a->value);
    a->decay_conv = persona__realloc_array(NULL, nt, sizeof *a->decay_conv);
    a->decay_value = persona__realloc_array(NULL, nt, sizeof *a->decay_value);
    if (!a->start || !a->touch || !a->conv || !a->nulls || !a->value || !a->decay_conv ||
        !a->decay_value)
        return persona__fail_nomem();
    return PERSONA_OK;
}

int persona__attribution_hand_over(persona_attribution **out, persona_attribution *a, int rc)
{
    if (rc) {
        persona_attribution_free(a);
        return rc;
    }
    *out = a;
    return PERSONA_OK;
}

uint64_t persona__attr_journeys(const persona_attribution *a)
{
    uint64_t total = a->conv_no_touch;
    for (size_t p = 0; p < a->n_paths; p++) {
        if (a->conv[p] > ATTR_MAX_JOURNEYS || a->nulls[p] > ATTR_MAX_JOURNEYS)
            return UINT64_MAX;
        total += a->conv[p] + a->nulls[p];
        if (total > ATTR_MAX_JOURNEYS)
            return UINT64_MAX;
    }
    return total;
}

PERSONA_API int persona_attribution_info_get(persona_attribution_info *out,
                                             const persona_attribution *a)
{
    if (!out || !a)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "set" : "out");
    persona_attribution_info in = PERSONA_ATTRIBUTION_INFO_INIT;
    in.channels = a->channels.count;
    in.paths = a->n_paths;
    for (size_t p = 0; p < a->n_paths; p++) {
        in.conversions += a->conv[p];
        in.nulls += a->nulls[p];
        in.value += a->value[p];
        in.touchpoints += (a->conv[p] + a->nulls[p]) * (a->start[p + 1] - a->start[p]);
    }
    in.conversions_without_touch = a->conv_no_touch;
    in.value_without_touch = a->value_no_touch;
    in.half_life_ms = a->half_life_ms;
    return persona__struct_out(out, &in, sizeof in, sizeof in, "persona_attribution_info");
}

PERSONA_API int persona_attribution_channel_name(char *buf, size_t capacity, size_t *out_len,
                                                 const persona_attribution *a, size_t index)
{
    if (!a || (!buf && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", a ? "buf" : "set");
    if (index >= a->channels.count)
        return persona__fail(PERSONA_ENOTFOUND, "channel %zu: the set has %zu channels", index,
                             a->channels.count);
    return persona__copy_out(buf, capacity, out_len, persona__intern_str(&a->channels, (uint32_t)index),
                             persona__intern_len(&a->channels, (uint32_t)index));
}

PERSONA_API int persona_attribution_path(uint32_t *channels_out, size_t capacity, size_t *out_len,
                                         uint64_t *conversions_out, double *value_out,
                                         uint64_t *nulls_out, const persona_attribution *a,
                                         size_t index)
{
    if (!a || (!channels_out && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", a ? "channels_out" : "set");
    if (index >= a->n_paths)
        return persona__fail(PERSONA_ENOTFOUND, "path %zu: the set has %zu paths", index,
                             a->n_paths);
    size_t len = (size_t)(a->start[index + 1] - a->start[index]);
    if (out_len)
        *out_len = len;
    if (capacity < len)
        return persona__fail(PERSONA_EBUFS, "path %zu has %zu channels, room for %zu", index, len,
                             capacity);
    memcpy(channels_out, a->touch + a->start[index], len * sizeof *channels_out);
    if (conversions_out)
        *conversions_out = a->conv[index];
    if (value_out)
        *value_out = a->value[index];
    if (nulls_out)
        *nulls_out = a->nulls[index];
    return PERSONA_OK;
}
