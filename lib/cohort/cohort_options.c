/* Checking and owning a cohort table's options: every bad option is refused before any
 * work with a message naming the field, and the table keeps its own copy so it never
 * borrows from the caller. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cohort/cohort_internal.h"
#include "core/alloc.h"
#include "core/cmp.h"
#include "core/error.h"
#include "core/structs.h"
#include "store/store_internal.h"

#define MAX_OFFSET_MIN 1440
#define DEFAULT_WINDOW_MS INT64_C(86400000)
#define MAX_THREADS 8

PERSONA__DEFINE_INIT(persona_cohort_options, persona_cohort_options_init)

void persona__cohort_opts_free(cohort_opts *o)
{
    persona__free(o->cohort_event);
    persona__free(o->cohort_property);
    persona__free(o->consent_purpose);
    for (size_t i = 0; i < o->n_active; i++)
        persona__free(o->active[i]);
    persona__free(o->active);
    persona__free(o->brackets);
    memset(o, 0, sizeof *o);
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return PERSONA_OK;
    *dst = persona__strndup(src, strlen(src));
    return *dst ? PERSONA_OK : persona__fail_nomem();
}

/* A range end: 0 (open) or a time ingest accepts. */
static int range_end_ok(int64_t t)
{
    return t == 0 || (t >= PERSONA_TIME_MIN && t <= PERSONA_TIME_MAX);
}

static int check_kind_and_periods(const persona_cohort_options *in)
{
    if (in->kind < PERSONA_COHORT_RETENTION || in->kind > PERSONA_COHORT_STICKINESS)
        return persona__fail(PERSONA_EINVAL, "cohort options: unknown kind %d", (int)in->kind);
    int rolling = in->period == PERSONA_PERIOD_ROLLING;
    if (in->period != 0 && !rolling && !persona__period_unit_ok(in->period))
        return persona__fail(PERSONA_EINVAL, "cohort options: unknown period %d", (int)in->period);
    if (rolling && in->kind != PERSONA_COHORT_RETENTION)
        return persona__fail(PERSONA_EINVAL, "cohort options: rolling windows apply to "
                                             "retention tables only, not lifecycle or stickiness");
    if (in->row_period != 0 && !persona__period_unit_ok(in->row_period))
        return persona__fail(PERSONA_EINVAL, "cohort options: row_period %d is not a calendar "
                                             "period", (int)in->row_period);
    if (in->row_period != 0 && !rolling)
        return persona__fail(PERSONA_EINVAL, "cohort options: row_period is set but period is "
                                             "not PERSONA_PERIOD_ROLLING");
    if (in->window_ms < 0 || (in->window_ms > 0 && !rolling))
        return persona__fail(PERSONA_EINVAL, in->window_ms < 0
                                                 ? "cohort options: window_ms is negative"
                                                 : "cohort options: window_ms is set but period "
                                                   "is not PERSONA_PERIOD_ROLLING");
    if (in->utc_offset_minutes < -MAX_OFFSET_MIN || in->utc_offset_minutes > MAX_OFFSET_MIN)
        return persona__fail(PERSONA_EINVAL, "cohort options: utc_offset_minutes %d is outside "
                                             "-1440..1440", (int)in->utc_offset_minutes);
    /* the range's ends go through the period arithmetic, exact (and free of overflow) for
     * the times ingest accepts */
    if (!range_end_ok(in->from_ms) || !range_end_ok(in->to_ms)) {
        int from = !range_end_ok(in->from_ms);
        return persona__fail(PERSONA_EINVAL, "cohort options: %s %lld is outside "
                                             "PERSONA_TIME_MIN … PERSONA_TIME_MAX",
                             from ? "from_ms" : "to_ms", (long long)(from ? in->from_ms : in->to_ms));
    }
    if (in->from_ms && in->to_ms && in->to_ms <= in->from_ms)
        return persona__fail(PERSONA_EINVAL, "cohort options: to_ms is not after from_ms");
    if (in->threads < 0)
        return persona__fail(PERSONA_EINVAL, "cohort options: threads is negative");
    return PERSONA_OK;
}

static int check_cohort_def(const persona_cohort_options *in)
{
    if (in->cohort_by < PERSONA_COHORT_BY_FIRST_EVENT || in->cohort_by > PERSONA_COHORT_BY_PROPERTY)
        return persona__fail(PERSONA_EINVAL, "cohort options: unknown cohort_by %d",
                             (int)in->cohort_by);
    if (in->kind != PERSONA_COHORT_RETENTION && in->cohort_by != PERSONA_COHORT_BY_FIRST_EVENT)
        return persona__fail(PERSONA_EINVAL, "cohort options: cohort_by applies to retention "
                                             "tables only");
    if (in->cohort_by == PERSONA_COHORT_BY_FIRST_OF_TYPE &&
        persona__check_key(in->cohort_event, "cohort options: cohort_event") != PERSONA_OK)
        return PERSONA_EINVAL;
    if (in->cohort_by == PERSONA_COHORT_BY_PROPERTY &&
        persona__check_key(in->cohort_property, "cohort options: cohort_property") != PERSONA_OK)
        return PERSONA_EINVAL;
    if (in->retention != PERSONA_RETENTION_CLASSIC && in->retention != PERSONA_RETENTION_UNBOUNDED)
        return persona__fail(PERSONA_EINVAL, "cohort options: unknown retention %d",
                             (int)in->retention);
    uint32_t known = (1u << PERSONA_COHORT_USERS) | (1u << PERSONA_COHORT_EVENTS) |
                     (1u << PERSONA_COHORT_REVENUE);
    if (in->metrics & ~known)
        return persona__fail(PERSONA_EINVAL, "cohort options: metrics 0x%x names a metric that is "
                                             "not built (only EVENTS and REVENUE bits)",
                             (unsigned)in->metrics);
    if (in->kind != PERSONA_COHORT_RETENTION && (in->metrics & ~(1u << PERSONA_COHORT_USERS)))
        return persona__fail(PERSONA_EINVAL, "cohort options: lifecycle and stickiness count "
                                             "users only");
    if (in->consent_purpose &&
        persona__check_key(in->consent_purpose, "cohort options: consent_purpose") != PERSONA_OK)
        return PERSONA_EINVAL;
    return PERSONA_OK;
}

static int check_columns(const persona_cohort_options *in)
{
    if (in->n_active_types && !in->active_types)
        return persona__fail(PERSONA_EINVAL, "cohort options: active_types is NULL but "
                                             "n_active_types is %zu", in->n_active_types);
    for (size_t i = 0; i < in->n_active_types; i++) {
        char what[64];
        snprintf(what, sizeof what, "cohort options: active_types[%zu]", i);
        if (persona__check_key(in->active_types[i], what) != PERSONA_OK)
            return PERSONA_EINVAL;
    }
    if (in->n_brackets && !in->brackets)
        return persona__fail(PERSONA_EINVAL, "cohort options: brackets is NULL but n_brackets "
                                             "is %zu", in->n_brackets);
    if (in->n_brackets && in->kind != PERSONA_COHORT_RETENTION)
        return persona__fail(PERSONA_EINVAL, "cohort options: brackets apply to retention "
                                             "tables only");
    if (in->n_brackets > PERSONA_COHORT_MAX_BRACKETS)
        return persona__fail(PERSONA_EINVAL, "cohort options: %zu brackets (at most %d)",
                             in->n_brackets, PERSONA_COHORT_MAX_BRACKETS);
    if (in->n_brackets && in->brackets[0] != 0)
        return persona__fail(PERSONA_EINVAL, "cohort options: brackets must start at period 0 "
                                             "(brackets[0] is %u)", (unsigned)in->brackets[0]);
    for (size_t i = 1; i < in->n_brackets; i++)
        if (in->brackets[i] <= in->brackets[i - 1])
            return persona__fail(PERSONA_EINVAL, "cohort options: brackets out of order: "
                                                 "brackets[%zu] = %u is not above brackets[%zu] "
                                                 "= %u", i, (unsigned)in->brackets[i], i - 1,
                                 (unsigned)in->brackets[i - 1]);
    if (in->n_brackets && in->periods && in->brackets[in->n_brackets - 1] >= in->periods)
        return persona__fail(PERSONA_EINVAL, "cohort options: the last bracket starts at period "
                                             "%u, not before periods = %u",
                             (unsigned)in->brackets[in->n_brackets - 1], (unsigned)in->periods);
    if (in->periods && in->kind != PERSONA_COHORT_RETENTION)
        return persona__fail(PERSONA_EINVAL, "cohort options: periods applies to retention "
                                             "tables only");
    return PERSONA_OK;
}

int persona__cohort_opts_copy(cohort_opts *dst, const persona_cohort_options *src)
{
    persona_cohort_options in = PERSONA_COHORT_OPTIONS_INIT;
    memset(dst, 0, sizeof *dst);
    if (src) {
        int rc = persona__struct_in(&in, sizeof in, src, sizeof in, "persona_cohort_options");
        if (rc)
            return rc;
    }
    int rc = check_kind_and_periods(&in);
    if (rc == PERSONA_OK)
        rc = check_cohort_def(&in);
    if (rc == PERSONA_OK)
        rc = check_columns(&in);
    if (rc)
        return rc;
    dst->kind = in.kind;
    dst->period = in.period ? in.period : PERSONA_PERIOD_MONTH;
    dst->row_period = in.period == PERSONA_PERIOD_ROLLING
                          ? (in.row_period ? in.row_period : PERSONA_PERIOD_MONTH)
                          : dst->period;
    dst->window_ms = in.period == PERSONA_PERIOD_ROLLING
                         ? (in.window_ms ? in.window_ms : DEFAULT_WINDOW_MS)
                         : 0;
    dst->offset_min = in.utc_offset_minutes;
    dst->cohort_by = in.cohort_by;
    dst->retention = in.retention;
    dst->metrics = in.metrics & ~(1u << PERSONA_COHORT_USERS);
    dst->periods = in.periods;
    dst->min_users = in.min_users;
    dst->from_ms = in.from_ms;
    dst->to_ms = in.to_ms;
    dst->threads = in.threads;
    rc = dup_str(&dst->cohort_event,
                 in.cohort_by == PERSONA_COHORT_BY_FIRST_OF_TYPE ? in.cohort_event : NULL);
    if (rc == PERSONA_OK)
        rc = dup_str(&dst->cohort_property,
                     in.cohort_by == PERSONA_COHORT_BY_PROPERTY ? in.cohort_property : NULL);
    if (rc == PERSONA_OK)
        rc = dup_str(&dst->consent_purpose, in.consent_purpose);
    if (rc == PERSONA_OK && in.n_active_types) {
        dst->active = persona__calloc(in.n_active_types, sizeof *dst->active);
        rc = dst->active ? PERSONA_OK : persona__fail_nomem();
        for (size_t i = 0; rc == PERSONA_OK && i < in.n_active_types; i++) {
            rc = dup_str(&dst->active[i], in.active_types[i]);
            dst->n_active += rc == PERSONA_OK;
        }
        if (rc == PERSONA_OK) { /* sorted and distinct, so equal sets compare equal */
            qsort(dst->active, dst->n_active, sizeof *dst->active, persona__cmp_str);
            size_t k = 0;
            for (size_t i = 0; i < dst->n_active; i++) {
                if (k && strcmp(dst->active[k - 1], dst->active[i]) == 0)
                    persona__free(dst->active[i]);
                else
                    dst->active[k++] = dst->active[i];
            }
            dst->n_active = k;
        }
    }
    if (rc == PERSONA_OK && in.n_brackets) {
        dst->brackets = persona__realloc_array(NULL, in.n_brackets, sizeof *dst->brackets);
        rc = dst->brackets ? PERSONA_OK : persona__fail_nomem();
        if (rc == PERSONA_OK) {
            memcpy(dst->brackets, in.brackets, in.n_brackets * sizeof *dst->brackets);
            dst->n_brackets = in.n_brackets;
        }
    }
    if (rc)
        persona__cohort_opts_free(dst);
    return rc;
}

int persona__cohort_opts_dup(cohort_opts *dst, const cohort_opts *src)
{
    const char **active = NULL;
    if (src->n_active) {
        active = persona__calloc(src->n_active, sizeof *active);
        if (!active)
            return persona__fail_nomem();
        for (size_t i = 0; i < src->n_active; i++)
            active[i] = src->active[i];
    }
    persona_cohort_options in = PERSONA_COHORT_OPTIONS_INIT;
    in.kind = src->kind;
    in.period = src->period;
    in.row_period = src->period == PERSONA_PERIOD_ROLLING ? src->row_period : 0;
    in.window_ms = src->window_ms;
    in.utc_offset_minutes = src->offset_min;
    in.cohort_by = src->cohort_by;
    in.cohort_event = src->cohort_event;
    in.cohort_property = src->cohort_property;
    in.retention = src->retention;
    in.metrics = src->metrics;
    in.active_types = active;
    in.n_active_types = src->n_active;
    in.brackets = src->brackets;
    in.n_brackets = src->n_brackets;
    in.periods = src->periods;
    in.min_users = src->min_users;
    in.consent_purpose = src->consent_purpose;
    in.from_ms = src->from_ms;
    in.to_ms = src->to_ms;
    in.threads = src->threads;
    int rc = persona__cohort_opts_copy(dst, &in);
    persona__free(active);
    return rc;
}

static int str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

const char *persona__cohort_opts_differ(const cohort_opts *a, const cohort_opts *b)
{
    if (a->kind != b->kind)
        return "kind";
    if (a->period != b->period || a->row_period != b->row_period)
        return "period";
    if (a->window_ms != b->window_ms)
        return "window_ms";
    if (a->offset_min != b->offset_min)
        return "utc_offset_minutes";
    if (a->cohort_by != b->cohort_by || str_differ(a->cohort_event, b->cohort_event) ||
        str_differ(a->cohort_property, b->cohort_property))
        return "cohort definition";
    if (a->retention != b->retention)
        return "retention";
    if (a->metrics != b->metrics)
        return "metrics";
    if (a->n_active != b->n_active)
        return "active_types";
    for (size_t i = 0; i < a->n_active; i++)
        if (strcmp(a->active[i], b->active[i]) != 0)
            return "active_types";
    if (a->n_brackets != b->n_brackets ||
        (a->n_brackets && memcmp(a->brackets, b->brackets, a->n_brackets * sizeof *a->brackets)))
        return "brackets";
    if (a->periods != b->periods)
        return "periods";
    if (a->min_users != b->min_users)
        return "min_users";
    if (str_differ(a->consent_purpose, b->consent_purpose))
        return "consent_purpose";
    if (a->from_ms != b->from_ms || a->to_ms != b->to_ms)
        return "time range";
    return NULL;
}
