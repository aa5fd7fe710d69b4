/* Funnel options: the init functions, the check and copy of a caller's options into the
 * spec a funnel keeps, and the comparison of two specs (merge). */
#include <stdio.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "cohort/period.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "persona/event.h"

PERSONA__DEFINE_INIT(persona_funnel_step, persona_funnel_step_init)
PERSONA__DEFINE_INIT(persona_funnel_exclusion, persona_funnel_exclusion_init)
PERSONA__DEFINE_INIT(persona_funnel_options, persona_funnel_options_init)

/* A required or optional string option: non-empty, valid UTF-8, at most a key long. */
/* Durations longer than the whole range of times act like the range itself: clamped, so
 * time arithmetic (t - max_ms, t + window) cannot overflow. */
static int64_t span_clamp(int64_t ms)
{
    const int64_t span = PERSONA_TIME_MAX - PERSONA_TIME_MIN + 1;
    return ms > span ? span : ms;
}

static int check_text(const char *s, const char *where, const char *what)
{
    if (!s)
        return persona__fail(PERSONA_EINVAL, "%s%s is NULL", where, what);
    size_t len = strlen(s);
    if (len == 0)
        return persona__fail(PERSONA_EINVAL, "%s%s is empty", where, what);
    if (len > PERSONA_MAX_KEY_LEN)
        return persona__fail(PERSONA_EINVAL, "%s%s is longer than %d bytes", where, what,
                             PERSONA_MAX_KEY_LEN);
    if (!persona__utf8_valid(s, len, NULL))
        return persona__fail(PERSONA_EINVAL, "%s%s is not valid UTF-8", where, what);
    return PERSONA_OK;
}

static int dup_text(char **dst, const char *s)
{
    if (!s) {
        *dst = NULL;
        return PERSONA_OK;
    }
    *dst = persona__strndup(s, strlen(s));
    return *dst ? PERSONA_OK : persona__fail_nomem();
}

static void match_free(funnel_match *m)
{
    persona__free(m->type);
    persona__free(m->where_property);
    persona__free(m->where_value);
    memset(m, 0, sizeof *m);
}

/* Check one step (is_step) or an exclusion's event and copy it. where: "step 2: ". */
static int match_from(funnel_match *m, const persona_funnel_step *src, const char *name,
                      const char *where, int is_step, int first)
{
    persona_funnel_step st;
    int rc = persona__struct_in(&st, sizeof st, src, sizeof st, name);
    if (rc)
        return rc;
    if ((rc = check_text(st.event_type, where, "event_type")))
        return rc;
    if (st.where_property) {
        if ((rc = check_text(st.where_property, where, "where_property")) ||
            (rc = check_text(st.where_value, where, "where_value")))
            return rc;
        if (st.where_op != PERSONA_WHERE_EQ && st.where_op != PERSONA_WHERE_NE)
            return persona__fail(PERSONA_EINVAL,
                                 "%swhere_op %d is neither PERSONA_WHERE_EQ nor PERSONA_WHERE_NE",
                                 where, (int)st.where_op);
    } else if (st.where_value) {
        return persona__fail(PERSONA_EINVAL, "%swhere_value is set without where_property", where);
    } else if (st.where_op != 0) {
        return persona__fail(PERSONA_EINVAL, "%swhere_op is set without where_property", where);
    }
    if (!is_step && (st.min_ms || st.max_ms))
        return persona__fail(PERSONA_EINVAL, "%smin_ms and max_ms must be 0 for an exclusion",
                             where);
    if (st.min_ms < 0)
        return persona__fail(PERSONA_EINVAL, "%smin_ms is negative", where);
    if (st.max_ms < 0)
        return persona__fail(PERSONA_EINVAL, "%smax_ms is negative", where);
    if (st.max_ms && st.min_ms > st.max_ms)
        return persona__fail(PERSONA_EINVAL, "%smin_ms %lld is greater than max_ms %lld", where,
                             (long long)st.min_ms, (long long)st.max_ms);
    memset(m, 0, sizeof *m);
    m->where_op = st.where_op;
    if (!first) { /* ignored for step 1 */
        m->min_ms = span_clamp(st.min_ms);
        m->max_ms = span_clamp(st.max_ms);
    }
    if (dup_text(&m->type, st.event_type) || dup_text(&m->where_property, st.where_property) ||
        dup_text(&m->where_value, st.where_value)) {
        match_free(m);
        return PERSONA_ENOMEM;
    }
    return PERSONA_OK;
}

void persona__funnel_spec_free(funnel_spec *spec)
{
    for (size_t i = 0; i < spec->n_steps; i++)
        match_free(&spec->steps[i]);
    for (size_t i = 0; i < spec->n_excl; i++)
        match_free(&spec->excl[i].ev);
    persona__free(spec->excl);
    persona__free(spec->hold);
    persona__free(spec->consent);
    memset(spec, 0, sizeof *spec);
}

static int spec_scalars(funnel_spec *spec, const persona_funnel_options *o, int64_t gap)
{
    if (o->window_ms < 0)
        return persona__fail(PERSONA_EINVAL, "window_ms is negative");
    if (o->order != PERSONA_FUNNEL_LOOSE && o->order != PERSONA_FUNNEL_STRICT &&
        o->order != PERSONA_FUNNEL_ANY_ORDER)
        return persona__fail(PERSONA_EINVAL,
                             "order %d is not PERSONA_FUNNEL_LOOSE, _STRICT or _ANY_ORDER",
                             (int)o->order);
    if (o->count != PERSONA_FUNNEL_USERS && o->count != PERSONA_FUNNEL_TOTALS &&
        o->count != PERSONA_FUNNEL_SESSIONS)
        return persona__fail(PERSONA_EINVAL,
                             "count %d is not PERSONA_FUNNEL_USERS, _TOTALS or _SESSIONS",
                             (int)o->count);
    int rc;
    if (o->hold_property && (rc = check_text(o->hold_property, "", "hold_property")))
        return rc;
    if (o->trend_period && !persona__period_unit_ok(o->trend_period))
        return persona__fail(PERSONA_EINVAL,
                             "trend_period %d is not a calendar PERSONA_PERIOD_* (HOUR … YEAR)",
                             (int)o->trend_period);
    if (o->utc_offset_minutes < -1440 || o->utc_offset_minutes > 1440)
        return persona__fail(PERSONA_EINVAL, "utc_offset_minutes %d is outside -1440 … 1440",
                             (int)o->utc_offset_minutes);
    if (o->consent_purpose && (rc = check_text(o->consent_purpose, "", "consent_purpose")))
        return rc;
    if (o->from_ms && o->to_ms && o->from_ms >= o->to_ms)
        return persona__fail(PERSONA_EINVAL, "from_ms %lld is not before to_ms %lld",
                             (long long)o->from_ms, (long long)o->to_ms);
    spec->window_ms = o->window_ms ? span_clamp(o->window_ms) : FUNNEL_DEFAULT_WINDOW_MS;
    spec->order = o->order;
    spec->count = o->count;
    spec->trend_period = o->trend_period ? o->trend_period : PERSONA_PERIOD_MONTH;
    spec->utc_offset_minutes = o->utc_offset_minutes;
    spec->from_ms = o->from_ms;
    spec->to_ms = o->to_ms;
    spec->session_gap_ms = o->count == PERSONA_FUNNEL_SESSIONS ? gap : 0;
    return PERSONA_OK;
}

static int spec_exclusions(funnel_spec *spec, const persona_funnel_options *o)
{
    if (!o->n_exclusions)
        return PERSONA_OK;
    if (!o->exclusions)
        return persona__fail(PERSONA_EINVAL, "exclusions is NULL but n_exclusions is %zu",
                             o->n_exclusions);
    spec->excl = persona__calloc(o->n_exclusions, sizeof *spec->excl);
    if (!spec->excl)
        return persona__fail_nomem();
    for (size_t i = 0; i < o->n_exclusions; i++) {
        char name[48], where[48];
        snprintf(name, sizeof name, "exclusion %zu", i + 1);
        snprintf(where, sizeof where, "exclusion %zu: ", i + 1);
        persona_funnel_exclusion x;
        int rc = persona__struct_in(&x, sizeof x, o->exclusions[i], sizeof x, name);
        if (rc)
            return rc;
        uint32_t from = x.from_step, to = x.to_step;
        if (from == 0 && to == 0) {
            from = 1;
            to = (uint32_t)spec->n_steps;
        } else if (from == 0 || to == 0) {
            return persona__fail(PERSONA_EINVAL, "%s%s is 0 (both 0 = step 1 to the last)",
                                 where, from == 0 ? "from_step" : "to_step");
        }
        if (from >= to)
            return persona__fail(PERSONA_EINVAL, "%sfrom_step %u is not before to_step %u%s",
                                 where, from, to,
                                 spec->n_steps == 1 ? " (a funnel of 1 step has no gap)" : "");
        if (to > spec->n_steps)
            return persona__fail(PERSONA_EINVAL, "%sto_step %u is beyond the %zu steps", where,
                                 to, spec->n_steps);
        snprintf(name, sizeof name, "exclusion %zu: event", i + 1);
        if (!x.event)
            return persona__fail(PERSONA_EINVAL, "%sevent is NULL", where);
        rc = match_from(&spec->excl[i].ev, x.event, name, where, 0, 0);
        if (rc)
            return rc;
        spec->excl[i].from = from - 1;
        spec->excl[i].to = to - 1;
        spec->n_excl = i + 1;
    }
    return PERSONA_OK;
}

int persona__funnel_spec_from(funnel_spec *spec, const persona_funnel_options *opts,
                              int64_t session_gap_ms)
{
    memset(spec, 0, sizeof *spec);
    persona_funnel_options o;
    int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_funnel_options");
    if (rc)
        return rc;
    if (!o.steps || o.n_steps == 0)
        return persona__fail(PERSONA_EINVAL, "no steps: a funnel needs 1 … %d",
                             PERSONA_FUNNEL_MAX_STEPS);
    if (o.n_steps > PERSONA_FUNNEL_MAX_STEPS)
        return persona__fail(PERSONA_EINVAL, "%zu steps: at most %d", o.n_steps,
                             PERSONA_FUNNEL_MAX_STEPS);
    rc = spec_scalars(spec, &o, session_gap_ms);
    for (size_t i = 0; !rc && i < o.n_steps; i++) {
        char name[32], where[32];
        snprintf(name, sizeof name, "step %zu", i + 1);
        snprintf(where, sizeof where, "step %zu: ", i + 1);
        rc = match_from(&spec->steps[i], o.steps[i], name, where, 1, i == 0);
        if (!rc)
            spec->n_steps = i + 1;
    }
    if (!rc)
        rc = spec_exclusions(spec, &o);
    if (!rc && (dup_text(&spec->hold, o.hold_property) ||
                dup_text(&spec->consent, o.consent_purpose)))
        rc = PERSONA_ENOMEM;
    if (rc)
        persona__funnel_spec_free(spec);
    return rc;
}

static int match_copy(funnel_match *d, const funnel_match *s)
{
    *d = *s;
    d->type = d->where_property = d->where_value = NULL;
    if (dup_text(&d->type, s->type) || dup_text(&d->where_property, s->where_property) ||
        dup_text(&d->where_value, s->where_value)) {
        match_free(d);
        return PERSONA_ENOMEM;
    }
    return PERSONA_OK;
}

int persona__funnel_spec_copy(funnel_spec *dst, const funnel_spec *src)
{
    *dst = *src;
    dst->n_steps = dst->n_excl = 0;
    dst->excl = NULL;
    dst->hold = dst->consent = NULL;
    int rc = PERSONA_OK;
    for (size_t i = 0; !rc && i < src->n_steps; i++) {
        rc = match_copy(&dst->steps[i], &src->steps[i]);
        if (!rc)
            dst->n_steps = i + 1;
    }
    if (!rc && src->n_excl) {
        dst->excl = persona__calloc(src->n_excl, sizeof *dst->excl);
        if (!dst->excl)
            rc = persona__fail_nomem();
        for (size_t i = 0; !rc && i < src->n_excl; i++) {
            dst->excl[i] = src->excl[i];
            rc = match_copy(&dst->excl[i].ev, &src->excl[i].ev);
            if (!rc)
                dst->n_excl = i + 1;
        }
    }
    if (!rc && (dup_text(&dst->hold, src->hold) || dup_text(&dst->consent, src->consent)))
        rc = persona__fail_nomem();
    if (rc)
        persona__funnel_spec_free(dst);
    return rc;
}

static int same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int match_same(const funnel_match *a, const funnel_match *b, const char *where)
{
    if (!same_text(a->type, b->type))
        return persona__fail(PERSONA_EINVAL, "options differ: %sevent_type", where);
    if (!same_text(a->where_property, b->where_property) ||
        !same_text(a->where_value, b->where_value) || a->where_op != b->where_op)
        return persona__fail(PERSONA_EINVAL, "options differ: %spredicate", where);
    if (a->min_ms != b->min_ms || a->max_ms != b->max_ms)
        return persona__fail(PERSONA_EINVAL, "options differ: %smin_ms / max_ms", where);
    return PERSONA_OK;
}

int persona__funnel_spec_same(const funnel_spec *a, const funnel_spec *b)
{
    if (a->n_steps != b->n_steps)
        return persona__fail(PERSONA_EINVAL, "options differ: %zu steps and %zu steps",
                             a->n_steps, b->n_steps);
    for (size_t i = 0; i < a->n_steps; i++) {
        char where[32];
        snprintf(where, sizeof where, "step %zu ", i + 1);
        int rc = match_same(&a->steps[i], &b->steps[i], where);
        if (rc)
            return rc;
    }
    if (a->n_excl != b->n_excl)
        return persona__fail(PERSONA_EINVAL, "options differ: %zu exclusions and %zu",
                             a->n_excl, b->n_excl);
    for (size_t i = 0; i < a->n_excl; i++) {
        char where[40];
        snprintf(where, sizeof where, "exclusion %zu ", i + 1);
        if (a->excl[i].from != b->excl[i].from || a->excl[i].to != b->excl[i].to)
            return persona__fail(PERSONA_EINVAL, "options differ: %ssteps", where);
        int rc = match_same(&a->excl[i].ev, &b->excl[i].ev, where);
        if (rc)
            return rc;
    }
    const char *what = NULL;
    if (a->window_ms != b->window_ms)
        what = "window_ms";
    else if (a->order != b->order)
        what = "order";
    else if (a->count != b->count)
        what = "count";
    else if (!same_text(a->hold, b->hold))
        what = "hold_property";
    else if (a->trend_period != b->trend_period)
        what = "trend_period";
    else if (a->utc_offset_minutes != b->utc_offset_minutes)
        what = "utc_offset_minutes";
    else if (!same_text(a->consent, b->consent))
        what = "consent_purpose";
    else if (a->from_ms != b->from_ms)
        what = "from_ms";
    else if (a->to_ms != b->to_ms)
        what = "to_ms";
    else if (a->session_gap_ms != b->session_gap_ms)
        what = "the stores' session gap";
    return what ? persona__fail(PERSONA_EINVAL, "options differ: %s", what) : PERSONA_OK;
}

static int same_predicate(const funnel_match *a, const funnel_match *b)
{
    if (!a->where_property || !b->where_property)
        return !a->where_property && !b->where_property;
    return strcmp(a->where_property, b->where_property) == 0 &&
           strcmp(a->where_value, b->where_value) == 0 && a->where_op == b->where_op;
}

int persona__funnel_spec_greedy(const funnel_spec *spec)
{
    if (spec->order != PERSONA_FUNNEL_LOOSE || spec->n_excl)
        return 0;
    for (size_t i = 0; i < spec->n_steps; i++)
        if (spec->steps[i].min_ms || spec->steps[i].max_ms)
            return 0;
    /* Two steps of one type with different predicates: an event at some time may match
     * one of them and another event at that time both, and which of the two a step takes
     * then matters (the greedy would not be exact). */
    for (size_t i = 0; i < spec->n_steps; i++)
        for (size_t j = i + 1; j < spec->n_steps; j++)
            if (strcmp(spec->steps[i].type, spec->steps[j].type) == 0 &&
                !same_predicate(&spec->steps[i], &spec->steps[j]))
                return 0;
    return 1;
}
