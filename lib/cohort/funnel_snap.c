/* persona_funnel_save / persona_funnel_load: a funnel in the snapshot container of
 * lib/persist (kind PERSONA__SNAP_KIND_FUNNEL), four required sections:
 *
 *   SPEC   revision u32, then the options: n_steps u32, each step (string type, string
 *          where_property, string where_value, i32 where_op, i64 min_ms, i64 max_ms),
 *          n_excl u64, each (u32 from_step, u32 to_step — 1-based —, the event as a step),
 *          i64 window_ms, i32 order, i32 count, string hold, i32 trend_period,
 *          i32 utc_offset_minutes, string consent, i64 from_ms, i64 to_ms,
 *          i64 session_gap_ms. A string is u32 length (0xFFFFFFFF = none) and its bytes.
 *   STEPS  units[n_steps] u64, then for steps 1 … n-1 the units[j] times (i64, ascending).
 *   TREND  i64 first period, u64 n, entered[n] u64, converted[n] u64.
 *   USERS  u64 n, u64 key bytes, lengths[n] u32, the key bytes, stages[n] (bytes).
 *
 * Loading checks every field: the options go through the same validation as a build
 * (a failure there is ECORRUPT), counts are checked against the section before anything
 * is allocated for them, times ascending, trend totals equal to the step counts, keys
 * valid and strictly ascending, stages within the steps. */
#include <stdlib.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "cohort/period.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "persona/event.h"
#include "persist/snapfile.h"

enum { SEC_SPEC = 1, SEC_STEPS = 2, SEC_TREND = 3, SEC_USERS = 4 };
#define FUNNEL_SECTIONS_REVISION 1u

/* ---- saving ---------------------------------------------------------------------------- */

static void put_match(persona__snap_writer *w, const funnel_match *m)
{
    persona__snap_put_str(w, m->type);
    persona__snap_put_str(w, m->where_property);
    persona__snap_put_str(w, m->where_value);
    persona__snap_put_i32(w, m->where_op);
    persona__snap_put_i64(w, m->min_ms);
    persona__snap_put_i64(w, m->max_ms);
}

static void save_spec(persona__snap_writer *w, const funnel_spec *o)
{
    persona__snap_begin(w, SEC_SPEC, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, FUNNEL_SECTIONS_REVISION);
    persona__snap_put_u32(w, (uint32_t)o->n_steps);
    for (size_t j = 0; j < o->n_steps; j++)
        put_match(w, &o->steps[j]);
    persona__snap_put_u64(w, o->n_excl);
    for (size_t i = 0; i < o->n_excl; i++) {
        persona__snap_put_u32(w, o->excl[i].from + 1);
        persona__snap_put_u32(w, o->excl[i].to + 1);
        put_match(w, &o->excl[i].ev);
    }
    persona__snap_put_i64(w, o->window_ms);
    persona__snap_put_i32(w, o->order);
    persona__snap_put_i32(w, o->count);
    persona__snap_put_str(w, o->hold);
    persona__snap_put_i32(w, o->trend_period);
    persona__snap_put_i32(w, o->utc_offset_minutes);
    persona__snap_put_str(w, o->consent);
    persona__snap_put_i64(w, o->from_ms);
    persona__snap_put_i64(w, o->to_ms);
    persona__snap_put_i64(w, o->session_gap_ms);
    persona__snap_end(w);
}

static void save_results(persona__snap_writer *w, const persona_funnel *f)
{
    persona__snap_begin(w, SEC_STEPS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64s(w, f->units, f->spec.n_steps);
    for (size_t j = 1; j < f->spec.n_steps; j++)
        persona__snap_put_i64s(w, f->times[j], (size_t)f->units[j]);
    persona__snap_end(w);

    persona__snap_begin(w, SEC_TREND, PERSONA__SNAP_REQUIRED);
    persona__snap_put_i64(w, f->trend_first);
    persona__snap_put_u64(w, f->n_trend);
    persona__snap_put_u64s(w, f->entered, f->n_trend);
    persona__snap_put_u64s(w, f->converted, f->n_trend);
    persona__snap_end(w);

    persona__snap_begin(w, SEC_USERS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, f->n_users);
    persona__snap_put_u64(w, f->n_users ? f->key_off[f->n_users] : 0);
    for (size_t i = 0; i < f->n_users; i++)
        persona__snap_put_u32(w, (uint32_t)(f->key_off[i + 1] - f->key_off[i]));
    if (f->n_users)
        persona__snap_put(w, f->keys, (size_t)f->key_off[f->n_users]);
    persona__snap_put(w, f->stages, f->n_users);
    persona__snap_end(w);
}

PERSONA_API int persona_funnel_save(const persona_funnel *funnel, const char *path)
{
    if (!funnel || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", funnel ? "path" : "funnel");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_FUNNEL);
    if (rc)
        return rc;
    save_spec(w, &funnel->spec);
    save_results(w, funnel);
    return persona__snap_commit(w);
}

/* ---- loading --------------------------------------------------------------------------- */

typedef struct loader {
    persona__snap_reader *r;
    const char *path;
    char *strs[PERSONA_FUNNEL_MAX_STEPS * 3 + 8]; /* strings of steps, hold, consent */
    size_t n_strs;
} loader;

static int need_section(loader *ld, uint32_t id, const char *name)
{
    uint64_t len = 0;
    int rc = persona__snap_section(ld->r, id, name, &len);
    if (rc == 0)
        return persona__fail(PERSONA_ECORRUPT, "%s: the %s section is missing", ld->path, name);
    return rc < 0 ? rc : PERSONA_OK;
}

/* A string kept by the loader until the spec is built from it. */
static int get_kept(loader *ld, const char **out)
{
    char *s = NULL;
    int rc = persona__snap_get_str(ld->r, &s, PERSONA_MAX_KEY_LEN, "string");
    *out = s;
    if (s)
        ld->strs[ld->n_strs++] = s;
    return rc;
}

static int get_step(loader *ld, persona_funnel_step *st)
{
    memset(st, 0, sizeof *st);
    st->struct_size = sizeof *st;
    int rc = get_kept(ld, &st->event_type);
    if (!rc)
        rc = get_kept(ld, &st->where_property);
    if (!rc)
        rc = get_kept(ld, &st->where_value);
    if (!rc)
        rc = persona__snap_get_i32(ld->r, &st->where_op);
    if (!rc)
        rc = persona__snap_get_i64(ld->r, &st->min_ms);
    if (!rc)
        rc = persona__snap_get_i64(ld->r, &st->max_ms);
    return rc;
}

/* The options, checked as a build checks them. */
static int load_spec(loader *ld, funnel_spec *spec)
{
    persona__snap_reader *r = ld->r;
    uint32_t revision = 0, n_steps = 0;
    uint64_t n_excl = 0;
    persona_funnel_step steps[PERSONA_FUNNEL_MAX_STEPS];
    const persona_funnel_step *step_ptrs[PERSONA_FUNNEL_MAX_STEPS];
    persona_funnel_step *xsteps = NULL;
    persona_funnel_exclusion *excl = NULL;
    const persona_funnel_exclusion **excl_ptrs = NULL;
    persona_funnel_options o = PERSONA_FUNNEL_OPTIONS_INIT;
    int64_t gap = 0;
    int rc = need_section(ld, SEC_SPEC, "spec");
    if (!rc)
        rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision > FUNNEL_SECTIONS_REVISION)
        rc = persona__fail(PERSONA_EVERSION, "%s: funnel sections of revision %u are newer "
                                             "than this library (%u)",
                           ld->path, revision, FUNNEL_SECTIONS_REVISION);
    if (!rc && revision == 0)
        rc = persona__snap_corrupt(r, "revision 0");
    if (!rc)
        rc = persona__snap_get_u32(r, &n_steps);
    if (!rc && (n_steps == 0 || n_steps > PERSONA_FUNNEL_MAX_STEPS))
        rc = persona__snap_corrupt(r, "%u steps", n_steps);
    for (uint32_t j = 0; !rc && j < n_steps; j++) {
        rc = get_step(ld, &steps[j]);
        step_ptrs[j] = &steps[j];
    }
    if (!rc)
        rc = persona__snap_get_u64(r, &n_excl);
    /* each exclusion takes at least 41 bytes: a 1-byte type, two NULL strings, the
     * operator, two gaps, two steps */
    if (!rc && n_excl && !(rc = persona__snap_need(r, n_excl, 41, "exclusions"))) {
        xsteps = persona__calloc((size_t)n_excl, sizeof *xsteps);
        excl = persona__calloc((size_t)n_excl, sizeof *excl);
        excl_ptrs = persona__calloc((size_t)n_excl, sizeof *excl_ptrs);
        if (!xsteps || !excl || !excl_ptrs)
            rc = persona__fail_nomem();
    }
    char **xstrs = NULL;
    size_t n_xstrs = 0;
    if (!rc && n_excl && !(xstrs = persona__calloc((size_t)n_excl * 3, sizeof *xstrs)))
        rc = persona__fail_nomem();
    for (uint64_t i = 0; !rc && i < n_excl; i++) {
        excl[i].struct_size = sizeof excl[i];
        rc = persona__snap_get_u32(r, &excl[i].from_step);
        if (!rc)
            rc = persona__snap_get_u32(r, &excl[i].to_step);
        if (!rc) {
            /* exclusion strings are held outside ld->strs (their number is unbounded) */
            size_t keep = ld->n_strs;
            rc = get_step(ld, &xsteps[i]);
            while (ld->n_strs > keep)
                xstrs[n_xstrs++] = ld->strs[--ld->n_strs];
        }
        excl[i].event = &xsteps[i];
        excl_ptrs[i] = &excl[i];
    }
    if (!rc)
        rc = persona__snap_get_i64(r, &o.window_ms);
    if (!rc)
        rc = persona__snap_get_i32(r, &o.order);
    if (!rc)
        rc = persona__snap_get_i32(r, &o.count);
    if (!rc)
        rc = get_kept(ld, &o.hold_property);
    if (!rc)
        rc = persona__snap_get_i32(r, &o.trend_period);
    if (!rc)
        rc = persona__snap_get_i32(r, &o.utc_offset_minutes);
    if (!rc)
        rc = get_kept(ld, &o.consent_purpose);
    if (!rc)
        rc = persona__snap_get_i64(r, &o.from_ms);
    if (!rc)
        rc = persona__snap_get_i64(r, &o.to_ms);
    if (!rc)
        rc = persona__snap_get_i64(r, &gap);
    if (!rc)
        rc = persona__snap_section_end(r);
    if (!rc && (o.window_ms <= 0 || o.trend_period == 0 || gap < 0 ||
                (o.count == PERSONA_FUNNEL_SESSIONS) != (gap > 0) ||
                (n_steps > 0 && (steps[0].min_ms || steps[0].max_ms))))
        rc = persona__fail(PERSONA_ECORRUPT, "%s: section spec: defaults not resolved", ld->path);
    if (!rc) {
        o.steps = step_ptrs;
        o.n_steps = n_steps;
        o.exclusions = excl_ptrs;
        o.n_exclusions = (size_t)n_excl;
        rc = persona__funnel_spec_from(spec, &o, gap);
        if (rc == PERSONA_EINVAL || rc == PERSONA_EUNSUPPORTED)
            rc = persona__fail(PERSONA_ECORRUPT, "%s: section spec: %s", ld->path,
                               persona_errmsg());
    }
    for (size_t i = 0; i < n_xstrs; i++)
        persona__free(xstrs[i]);
    persona__free(xstrs);
    persona__free(xsteps);
    persona__free(excl);
    persona__free(excl_ptrs);
    return rc;
}

static int load_steps(loader *ld, persona_funnel *f)
{
    persona__snap_reader *r = ld->r;
    size_t n = f->spec.n_steps;
    int rc = need_section(ld, SEC_STEPS, "steps");
    if (!rc)
        rc = persona__snap_get_u64s(r, f->units, n);
    for (size_t j = 1; !rc && j < n; j++)
        if (f->units[j] > f->units[j - 1])
            rc = persona__snap_corrupt(r, "step %zu has more units than step %zu", j + 1, j);
    for (size_t j = 1; !rc && j < n; j++) {
        uint64_t m = f->units[j];
        if ((rc = persona__snap_need(r, m, sizeof(int64_t), "times")))
            break;
        f->times[j] = persona__realloc_array(NULL, m ? (size_t)m : 1, sizeof(int64_t));
        if (!f->times[j]) {
            rc = persona__fail_nomem();
            break;
        }
        rc = m ? persona__snap_get_i64s(r, f->times[j], (size_t)m) : PERSONA_OK;
        for (uint64_t i = 0; !rc && i < m; i++)
            if (f->times[j][i] < 0 || (i && f->times[j][i] < f->times[j][i - 1]))
                rc = persona__snap_corrupt(r, "times of step %zu not ascending", j + 1);
    }
    if (!rc)
        rc = persona__snap_section_end(r);
    return rc;
}

static int load_trend(loader *ld, persona_funnel *f)
{
    persona__snap_reader *r = ld->r;
    uint64_t n = 0;
    int64_t first = 0;
    int rc = need_section(ld, SEC_TREND, "trend");
    if (!rc)
        rc = persona__snap_get_i64(r, &first);
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    persona__period p = { f->spec.trend_period, (int64_t)f->spec.utc_offset_minutes * 60000 };
    /* last - (n - 1), not first + (n - 1): first comes from the file and may be anything */
    if (!rc && (n > FUNNEL_MAX_TREND ||
                (n && (first < persona__period_of(&p, PERSONA_TIME_MIN) ||
                       first > persona__period_of(&p, PERSONA_TIME_MAX) - (int64_t)(n - 1)))))
        rc = persona__snap_corrupt(r, "a trend of %llu periods from %lld", (unsigned long long)n,
                                   (long long)first);
    if (!rc)
        rc = persona__snap_need(r, n, 2 * sizeof(uint64_t), "trend");
    if (!rc && n) {
        f->entered = persona__realloc_array(NULL, (size_t)n, sizeof *f->entered);
        f->converted = persona__realloc_array(NULL, (size_t)n, sizeof *f->converted);
        if (!f->entered || !f->converted)
            rc = persona__fail_nomem();
    }
    if (!rc && n)
        rc = persona__snap_get_u64s(r, f->entered, (size_t)n);
    if (!rc && n)
        rc = persona__snap_get_u64s(r, f->converted, (size_t)n);
    uint64_t sum_e = 0, sum_c = 0;
    for (uint64_t i = 0; !rc && i < n; i++) {
        if (f->converted[i] > f->entered[i] || f->entered[i] > f->units[0] - sum_e)
            rc = persona__snap_corrupt(r, "trend period %llu", (unsigned long long)i);
        sum_e += f->entered[i];
        sum_c += f->converted[i];
    }
    if (!rc && (sum_e != f->units[0] || sum_c != f->units[f->spec.n_steps - 1] ||
                (n && (f->entered[0] == 0 || f->entered[n - 1] == 0)) || (!n && first)))
        rc = persona__snap_corrupt(r, "trend totals differ from the step counts");
    if (!rc) {
        f->trend_first = first;
        f->n_trend = (size_t)n;
        rc = persona__snap_section_end(r);
    }
    return rc;
}

static int load_users(loader *ld, persona_funnel *f)
{
    persona__snap_reader *r = ld->r;
    uint64_t n = 0, bytes = 0;
    uint32_t *lens = NULL;
    int rc = need_section(ld, SEC_USERS, "users");
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    if (!rc)
        rc = persona__snap_get_u64(r, &bytes);
    if (!rc && (rc = persona__snap_need(r, n, sizeof(uint32_t) + 2, "users")) == 0 &&
        (rc = persona__snap_need(r, bytes, 1, "user keys")) == 0) {
        lens = persona__realloc_array(NULL, n ? (size_t)n : 1, sizeof *lens);
        f->key_off = persona__realloc_array(NULL, (size_t)n + 1, sizeof *f->key_off);
        f->keys = persona__alloc(bytes ? (size_t)bytes : 1);
        f->stages = persona__alloc(n ? (size_t)n : 1);
        if (!lens || !f->key_off || !f->keys || !f->stages)
            rc = persona__fail_nomem();
    }
    if (!rc && n)
        rc = persona__snap_get_u32s(r, lens, (size_t)n);
    uint64_t at = 0;
    for (uint64_t i = 0; !rc && i < n; i++) {
        if (lens[i] == 0 || lens[i] > PERSONA_MAX_KEY_LEN || lens[i] > bytes - at)
            rc = persona__snap_corrupt(r, "user %llu: key length %u", (unsigned long long)i,
                                       lens[i]);
        f->key_off[i] = at;
        at += lens[i];
    }
    if (!rc && at != bytes)
        rc = persona__snap_corrupt(r, "key lengths do not add up to %llu bytes",
                                   (unsigned long long)bytes);
    if (!rc) {
        f->key_off[n] = at;
        if (bytes)
            rc = persona__snap_read(r, f->keys, (size_t)bytes);
    }
    if (!rc && n)
        rc = persona__snap_read(r, f->stages, (size_t)n);
    uint64_t at_least[PERSONA_FUNNEL_MAX_STEPS] = { 0 };
    for (uint64_t i = 0; !rc && i < n; i++) {
        const char *k = f->keys + f->key_off[i];
        size_t len = lens[i];
        if (memchr(k, 0, len) || !persona__utf8_valid(k, len, NULL))
            rc = persona__snap_corrupt(r, "user %llu: key is not valid text",
                                       (unsigned long long)i);
        else if (i) {
            size_t pl = lens[i - 1], m = pl < len ? pl : len;
            int c = memcmp(f->keys + f->key_off[i - 1], k, m);
            if (c > 0 || (c == 0 && pl >= len))
                rc = persona__snap_corrupt(r, "user %llu: keys not ascending",
                                           (unsigned long long)i);
        }
        if (!rc && (f->stages[i] == 0 || f->stages[i] > f->spec.n_steps))
            rc = persona__snap_corrupt(r, "user %llu: stage %u", (unsigned long long)i,
                                       f->stages[i]);
        for (size_t j = 0; !rc && j < f->stages[i]; j++)
            at_least[j]++;
    }
    /* counting users, the stages are the step counts; otherwise a user holds >= 1 unit */
    for (size_t j = 0; !rc && j < f->spec.n_steps; j++)
        if (f->spec.count == PERSONA_FUNNEL_USERS ? at_least[j] != f->units[j]
                                                  : at_least[j] > f->units[j])
            rc = persona__snap_corrupt(r, "stages do not match the count of step %zu", j + 1);
    if (!rc) {
        f->n_users = (size_t)n;
        rc = persona__snap_section_end(r);
    }
    persona__free(lens);
    return rc;
}

static const uint32_t known_sections[] = { SEC_SPEC, SEC_STEPS, SEC_TREND, SEC_USERS };

/* Read a funnel from an open snapshot (the reader stays the caller's). */
static int load_reader(persona_funnel **out, loader *ld)
{
    persona_funnel *f = persona__funnel_alloc();
    int rc = f ? PERSONA_OK : persona__fail_nomem();
    if (!rc)
        rc = persona__snap_check_known(ld->r, known_sections,
                                       sizeof known_sections / sizeof *known_sections);
    if (!rc)
        rc = load_spec(ld, &f->spec);
    for (size_t i = 0; i < ld->n_strs; i++)
        persona__free(ld->strs[i]);
    if (!rc)
        rc = load_steps(ld, f);
    if (!rc)
        rc = load_trend(ld, f);
    if (!rc)
        rc = load_users(ld, f);
    if (rc) {
        persona_funnel_free(f);
        return rc;
    }
    persona__funnel_fill_hist(f);
    *out = f;
    return PERSONA_OK;
}

PERSONA_API int persona_funnel_load(persona_funnel **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.path = path;
    int rc = persona__snap_open(&ld.r, path, PERSONA__SNAP_KIND_FUNNEL);
    if (rc)
        return rc;
    rc = load_reader(out, &ld);
    persona__snap_close(ld.r);
    return rc;
}

int persona__funnel_load_memory(persona_funnel **out, const void *data, size_t len)
{
    *out = NULL;
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.path = "(memory)";
    int rc = persona__snap_open_memory(&ld.r, data, len, PERSONA__SNAP_KIND_FUNNEL);
    if (rc)
        return rc;
    rc = load_reader(out, &ld);
    persona__snap_close(ld.r);
    return rc;
}
