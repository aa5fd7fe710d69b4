/* Saving and loading a journey set: the snapshot container of lib/persist, kind
 * PERSONA__SNAP_KIND_ATTRIBUTION (docs/file-format.md, "attribution journeys (kind 9)"):
 *
 *   OPTIONS   revision u32, channel property str, conversion types str, touch types str,
 *             consent purpose str, lookback i64, half-life i64, conversions without
 *             touchpoint u64, their value f64                               (required)
 *   CHANNELS  n u64, names str[n] (strictly ascending)                       (required)
 *   PATHS     n u64, touchpoints u64, start u64[n + 1], channels u32[touchpoints],
 *             conversions u64[n], nulls u64[n], value f64[n],
 *             decay conversions f64[touchpoints], decay value f64[touchpoints] (required)
 *
 * Every field is checked as a build would have made it: paths non-empty, in canonical
 * (strictly ascending) order, with journeys, channels in range and each used, numbers
 * finite. */
#include <math.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "persist/snapfile.h"
#include "persona/event.h"

enum { SEC_OPTIONS = 1, SEC_CHANNELS = 2, SEC_PATHS = 3 };
#define ATTR_REVISION 1u
#define ATTR_MAX_TYPES_LEN (1u << 20)

PERSONA_API int persona_attribution_save(const persona_attribution *a, const char *path)
{
    if (!a || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", a ? "path" : "set");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_ATTRIBUTION);
    if (rc)
        return rc;
    persona__snap_begin(w, SEC_OPTIONS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, ATTR_REVISION);
    persona__snap_put_str(w, a->channel_prop);
    persona__snap_put_str(w, a->conversion_types);
    persona__snap_put_str(w, a->touch_types);
    persona__snap_put_str(w, a->consent_purpose);
    persona__snap_put_i64(w, a->lookback_ms);
    persona__snap_put_i64(w, a->half_life_ms);
    persona__snap_put_u64(w, a->conv_no_touch);
    persona__snap_put_f64(w, a->value_no_touch);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_CHANNELS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, a->channels.count);
    for (size_t i = 0; i < a->channels.count; i++)
        persona__snap_put_str(w, persona__intern_str(&a->channels, (uint32_t)i));
    persona__snap_end(w);
    persona__snap_begin(w, SEC_PATHS, PERSONA__SNAP_REQUIRED);
    uint64_t n = a->n_paths, t = a->start[n];
    persona__snap_put_u64(w, n);
    persona__snap_put_u64(w, t);
    persona__snap_put_u64s(w, a->start, n + 1);
    persona__snap_put_u32s(w, a->touch, t);
    persona__snap_put_u64s(w, a->conv, n);
    persona__snap_put_u64s(w, a->nulls, n);
    persona__snap_put_f64s(w, a->value, n);
    persona__snap_put_f64s(w, a->decay_conv, t);
    persona__snap_put_f64s(w, a->decay_value, t);
    persona__snap_end(w);
    return persona__snap_commit(w);
}

/* ---- loading ---- */

static int load_options(persona__snap_reader *r, persona_attribution *a)
{
    uint32_t revision = 0;
    int rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision > ATTR_REVISION)
        return persona__fail(PERSONA_EVERSION, "attribution sections of revision %u are newer "
                             "than this library (%u)", revision, ATTR_REVISION);
    if (!rc && revision == 0)
        rc = persona__snap_corrupt(r, "revision 0");
    if (!rc)
        rc = persona__snap_get_str(r, &a->channel_prop, PERSONA_MAX_KEY_LEN, "channel property");
    if (!rc)
        rc = persona__snap_get_str(r, &a->conversion_types, ATTR_MAX_TYPES_LEN, "conversion types");
    if (!rc)
        rc = persona__snap_get_str(r, &a->touch_types, ATTR_MAX_TYPES_LEN, "touch types");
    if (!rc)
        rc = persona__snap_get_str(r, &a->consent_purpose, PERSONA_MAX_KEY_LEN, "consent purpose");
    if (!rc)
        rc = persona__snap_get_i64(r, &a->lookback_ms);
    if (!rc)
        rc = persona__snap_get_i64(r, &a->half_life_ms);
    if (!rc)
        rc = persona__snap_get_u64(r, &a->conv_no_touch);
    if (!rc)
        rc = persona__snap_get_f64(r, &a->value_no_touch);
    if (!rc && (a->lookback_ms < 0 || a->half_life_ms <= 0 || !isfinite(a->value_no_touch) ||
                (a->channel_prop == NULL) != (a->conversion_types == NULL) ||
                (!a->channel_prop && (a->touch_types || a->consent_purpose || a->lookback_ms))))
        rc = persona__snap_corrupt(r, "options out of range or inconsistent");
    return rc ? rc : persona__snap_section_end(r);
}

static int load_channels(persona__snap_reader *r, persona_attribution *a)
{
    uint64_t n = 0;
    int rc = persona__snap_get_u64(r, &n);
    if (!rc)
        rc = persona__snap_need(r, n, 4, "channels");
    if (!rc && n >= UINT32_MAX)
        rc = persona__snap_corrupt(r, "%llu channels", (unsigned long long)n);
    for (uint64_t i = 0; !rc && i < n; i++) {
        char *s = NULL;
        rc = persona__snap_get_str(r, &s, PERSONA_MAX_KEY_LEN, "channel");
        if (!rc && (!s || !*s))
            rc = persona__snap_corrupt(r, "channel %llu is missing", (unsigned long long)i);
        if (!rc && i && strcmp(persona__intern_str(&a->channels, (uint32_t)(i - 1)), s) >= 0)
            rc = persona__snap_corrupt(r, "channel %llu is out of order", (unsigned long long)i);
        if (!rc && persona__intern_add(&a->channels, s, strlen(s)) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
        persona__free(s);
    }
    return rc ? rc : persona__snap_section_end(r);
}

/* Path p after path p - 1 in canonical order. */
static int ascends(const persona_attribution *a, size_t p)
{
    const uint32_t *x = a->touch + a->start[p - 1], *y = a->touch + a->start[p];
    size_t nx = (size_t)(a->start[p] - a->start[p - 1]), ny = (size_t)(a->start[p + 1] - a->start[p]);
    for (size_t i = 0; i < nx && i < ny; i++)
        if (x[i] != y[i])
            return x[i] < y[i];
    return nx < ny;
}

static int check_paths(persona__snap_reader *r, const persona_attribution *a, uint64_t t)
{
    size_t C = a->channels.count, n = a->n_paths;
    if (a->start[0] != 0 || a->start[n] != t)
        return persona__snap_corrupt(r, "path offsets do not cover the touchpoints");
    uint8_t *used = persona__calloc(C + 1, 1);
    if (!used)
        return persona__fail_nomem();
    int rc = PERSONA_OK;
    for (size_t p = 0; p < n && !rc; p++) {
        if (a->start[p + 1] <= a->start[p] || a->start[p + 1] > t || !(a->conv[p] || a->nulls[p]) ||
            !isfinite(a->value[p]) || (p && !ascends(a, p))) {
            rc = persona__snap_corrupt(r, "path %zu is empty, out of order or without journeys", p);
            break;
        }
        for (uint64_t k = a->start[p]; k < a->start[p + 1]; k++) {
            if (a->touch[k] >= C || !isfinite(a->decay_conv[k]) || !isfinite(a->decay_value[k])) {
                rc = persona__snap_corrupt(r, "path %zu: channel or decay credit out of range", p);
                break;
            }
            used[a->touch[k]] = 1;
        }
    }
    if (!rc && (a->conv_no_touch > ATTR_MAX_JOURNEYS || persona__attr_journeys(a) == UINT64_MAX))
        rc = persona__snap_corrupt(r, "more than 2^53 journeys");
    for (size_t c = 0; c < C && !rc; c++)
        if (!used[c])
            rc = persona__snap_corrupt(r, "channel %zu is in no path", c);
    persona__free(used);
    return rc;
}

static int load_paths(persona__snap_reader *r, persona_attribution *a)
{
    uint64_t n = 0, t = 0;
    int rc = persona__snap_get_u64(r, &n);
    if (!rc)
        rc = persona__snap_get_u64(r, &t);
    if (!rc && (t < n || n >= UINT32_MAX))
        rc = persona__snap_corrupt(r, "%llu paths of %llu touchpoints", (unsigned long long)n,
                                   (unsigned long long)t);
    if (!rc)
        rc = persona__snap_need(r, t, 20, "touchpoints");
    /* the per-path arrays must be in the section too before anything is allocated */
    if (!rc && persona__snap_left(r) - t * 20 < (n + 1) * 8 + n * 24)
        rc = persona__snap_corrupt(r, "%llu paths do not fit the section", (unsigned long long)n);
    if (rc)
        return rc;
    if ((rc = persona__attr_alloc_paths(a, n, t)))
        return rc;
    rc = persona__snap_get_u64s(r, a->start, n + 1);
    if (!rc)
        rc = persona__snap_get_u32s(r, a->touch, t);
    if (!rc)
        rc = persona__snap_get_u64s(r, a->conv, n);
    if (!rc)
        rc = persona__snap_get_u64s(r, a->nulls, n);
    if (!rc)
        rc = persona__snap_get_f64s(r, a->value, n);
    if (!rc)
        rc = persona__snap_get_f64s(r, a->decay_conv, t);
    if (!rc)
        rc = persona__snap_get_f64s(r, a->decay_value, t);
    if (!rc) {
        a->n_paths = n;
        rc = check_paths(r, a, t);
    }
    if (rc)
        a->n_paths = 0;
    return rc ? rc : persona__snap_section_end(r);
}

static const uint32_t known_sections[] = { SEC_OPTIONS, SEC_CHANNELS, SEC_PATHS };

static int decode(void *out, persona__snap_reader *r, const char *path)
{
    persona_attribution *a = persona__attribution_alloc();
    if (!a)
        return persona__fail_nomem();
    int rc = persona__snap_require(r, SEC_OPTIONS, "options", path);
    if (!rc)
        rc = load_options(r, a);
    if (!rc && !(rc = persona__snap_require(r, SEC_CHANNELS, "channels", path)))
        rc = load_channels(r, a);
    if (!rc && !(rc = persona__snap_require(r, SEC_PATHS, "paths", path)))
        rc = load_paths(r, a);
    return persona__attribution_hand_over(out, a, rc);
}

PERSONA_API int persona_attribution_load(persona_attribution **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    return persona__snap_load(out, path, NULL, 0, PERSONA__SNAP_KIND_ATTRIBUTION, known_sections,
                              3, decode);
}

int persona__attribution_load_memory(persona_attribution **out, const void *data, size_t len)
{
    *out = NULL;
    return persona__snap_load(out, "(memory)", data, len, PERSONA__SNAP_KIND_ATTRIBUTION,
                              known_sections, 3, decode);
}
