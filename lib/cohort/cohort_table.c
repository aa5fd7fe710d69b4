/* The cohort table as a container: rows kept sorted by key, cells row-major, the extent
 * (columns, cells after the end of the data) derived from t_last and first_anchor, and the
 * exact addition of one table into another that merge and update are made of. */
#include <string.h>

#include "cohort/cohort_internal.h"
#include "core/alloc.h"
#include "core/error.h"

int persona__cohort_table_new(persona_cohort_table **out, cohort_opts *o)
{
    persona_cohort_table *t = persona__calloc(1, sizeof *t);
    if (!t) {
        persona__cohort_opts_free(o);
        return persona__fail_nomem();
    }
    t->o = *o;
    memset(o, 0, sizeof *o);
    t->col_unit.unit = t->o.period == PERSONA_PERIOD_ROLLING ? t->o.row_period : t->o.period;
    t->col_unit.offset_ms = (int64_t)t->o.offset_min * 60000;
    t->row_unit.unit = t->o.row_period;
    t->row_unit.offset_ms = t->col_unit.offset_ms;
    t->t_last = INT64_MIN;
    t->first_anchor = INT64_MAX;
    t->first_period = INT64_MAX;
    t->last_period = INT64_MIN;
    *out = t;
    return PERSONA_OK;
}

PERSONA_API void persona_cohort_table_free(persona_cohort_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows; i++)
        persona__free(t->rows[i].label);
    persona__free(t->rows);
    persona__free(t->users);
    persona__free(t->events);
    persona__free(t->revenue);
    persona__cohort_opts_free(&t->o);
    persona__free(t);
}

static int is_rolling(const cohort_opts *o)
{
    return o->period == PERSONA_PERIOD_ROLLING;
}

static int by_property(const cohort_opts *o)
{
    return o->kind == PERSONA_COHORT_RETENTION && o->cohort_by == PERSONA_COHORT_BY_PROPERTY;
}

/* Raw periods (p0 …) with data for users whose cohort event is at or after `from`
 * (a time), or in period `from_period` of the rows. */
static int64_t avail_from_time(const persona_cohort_table *t, int64_t from)
{
    if (t->t_last < from)
        return 0;
    if (is_rolling(&t->o))
        return persona__floor_div(t->t_last - from, t->o.window_ms) + 1;
    return persona__period_of(&t->col_unit, t->t_last) - persona__period_of(&t->col_unit, from) + 1;
}

static int64_t row_avail(const persona_cohort_table *t, size_t row)
{
    if (by_property(&t->o))
        return t->first_anchor == INT64_MAX ? 0 : avail_from_time(t, t->first_anchor);
    return avail_from_time(t, persona__period_start(&t->row_unit, t->rows[row].period));
}

size_t persona__cohort_raw_cols(const persona_cohort_table *t)
{
    if (t->o.kind != PERSONA_COHORT_RETENTION || t->n_rows == 0)
        return 0;
    int64_t raw = row_avail(t, 0); /* the earliest row has the most periods */
    if (raw < 0)
        raw = 0;
    if (t->o.periods && raw > (int64_t)t->o.periods)
        raw = t->o.periods;
    return (size_t)raw;
}

size_t persona__cohort_cols_for_raw(const cohort_opts *o, size_t raw)
{
    if (!o->n_brackets)
        return raw;
    size_t n = 0;
    while (n < o->n_brackets && o->brackets[n] < raw)
        n++;
    return n;
}

uint32_t persona__cohort_col_of(const cohort_opts *o, uint64_t raw)
{
    if (o->periods && raw >= o->periods)
        return COHORT_NONE;
    if (!o->n_brackets)
        return raw > UINT32_MAX - 1 ? COHORT_NONE : (uint32_t)raw;
    /* the last bracket whose start is <= raw */
    size_t lo = 0, hi = o->n_brackets;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (o->brackets[mid] <= raw)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

int persona__cohort_cell_after_data(const persona_cohort_table *t, size_t row, size_t col)
{
    if (t->o.kind != PERSONA_COHORT_RETENTION)
        return 0;
    int64_t first_raw = t->o.n_brackets ? (int64_t)t->o.brackets[col] : (int64_t)col;
    return first_raw >= row_avail(t, row);
}

static size_t cells_of(size_t rows, size_t cols)
{
    return rows * cols;
}

/* New cell arrays for rows × cols, copying the old cells of row mapping[i] (or none). */
static int relayout(persona_cohort_table *t, size_t n_rows, size_t n_cols, const uint32_t *old_row_of)
{
    size_t n = cells_of(n_rows, n_cols);
    size_t cell_bytes = sizeof(uint64_t) +
                        (t->o.metrics & (1u << PERSONA_COHORT_EVENTS) ? sizeof(uint64_t) : 0) +
                        (t->o.metrics & (1u << PERSONA_COHORT_REVENUE) ? sizeof(persona__exactsum) : 0);
    if (n_cols && (n_rows > COHORT_MAX_CELLS / n_cols || n > COHORT_MAX_BYTES / cell_bytes))
        return persona__fail(PERSONA_EINVAL, "cohort table: %zu rows x %zu columns is too many "
                                             "cells (at most %zu, %zu MiB); use a longer period, "
                                             "brackets or periods", n_rows, n_cols,
                             (size_t)COHORT_MAX_CELLS, (size_t)(COHORT_MAX_BYTES >> 20));
    uint64_t *users = NULL, *events = NULL;
    persona__exactsum *revenue = NULL;
    int ok = 1;
    if (n) {
        users = persona__calloc(n, sizeof *users);
        ok &= users != NULL;
        if (ok && (t->o.metrics & (1u << PERSONA_COHORT_EVENTS))) {
            events = persona__calloc(n, sizeof *events);
            ok &= events != NULL;
        }
        if (ok && (t->o.metrics & (1u << PERSONA_COHORT_REVENUE))) {
            revenue = persona__realloc_array(NULL, n, sizeof *revenue);
            ok &= revenue != NULL;
            for (size_t i = 0; ok && i < n; i++)
                persona__exactsum_init(&revenue[i]);
        }
    }
    if (!ok) {
        persona__free(users);
        persona__free(events);
        persona__free(revenue);
        return persona__fail_nomem();
    }
    for (size_t r = 0; r < n_rows; r++) {
        uint32_t from = old_row_of ? old_row_of[r] : (uint32_t)r;
        if (from == COHORT_NONE || from >= t->n_rows)
            continue;
        size_t m = n_cols < t->n_cols ? n_cols : t->n_cols;
        for (size_t c = 0; c < m; c++) {
            size_t src = (size_t)from * t->n_cols + c, dst = r * n_cols + c;
            users[dst] = t->users[src];
            if (events)
                events[dst] = t->events[src];
            if (revenue)
                revenue[dst] = t->revenue[src];
        }
    }
    persona__free(t->users);
    persona__free(t->events);
    persona__free(t->revenue);
    t->users = users;
    t->events = events;
    t->revenue = revenue;
    t->n_cols = n_cols;
    return PERSONA_OK;
}

static int row_cmp(const persona_cohort_table *t, const cohort_row *r, int64_t period,
                   const char *label)
{
    if (!by_property(&t->o))
        return r->period < period ? -1 : r->period > period;
    /* property values bytewise, "(none)" (NULL) last */
    if (!r->label || !label)
        return (r->label == NULL) - (label == NULL);
    return strcmp(r->label, label);
}

int persona__cohort_check_rows(const cohort_opts *o, size_t n_rows)
{
    if (by_property(o) && n_rows > PERSONA_COHORT_MAX_BRACKETS)
        return persona__fail(PERSONA_EINVAL, "cohort table: %zu values of property '%s', more "
                                             "than the %d rows of a property cohort",
                             n_rows, o->cohort_property, PERSONA_COHORT_MAX_BRACKETS);
    return PERSONA_OK;
}

size_t persona__cohort_rows_united(const persona_cohort_table *a, const persona_cohort_table *b)
{
    size_t i = 0, j = 0, n = 0;
    while (i < a->n_rows || j < b->n_rows) {
        int c = i == a->n_rows   ? 1
                : j == b->n_rows ? -1
                                 : row_cmp(a, &a->rows[i], b->rows[j].period, b->rows[j].label);
        i += c <= 0;
        j += c >= 0;
        n++;
    }
    return n;
}

/* Rows a lifecycle or stickiness table has for its active period range. */
static void derived_range(const persona_cohort_table *t, int64_t *lo, int64_t *hi)
{
    *lo = t->first_period;
    *hi = t->last_period;
    if (t->o.from_ms && persona__period_of(&t->col_unit, t->o.from_ms) > *lo)
        *lo = persona__period_of(&t->col_unit, t->o.from_ms);
    if (t->o.to_ms && persona__period_of(&t->col_unit, t->o.to_ms - 1) < *hi)
        *hi = persona__period_of(&t->col_unit, t->o.to_ms - 1);
}

size_t persona__cohort_cols(const persona_cohort_table *t)
{
    if (!t->n_rows)
        return 0;
    switch (t->o.kind) {
    case PERSONA_COHORT_LIFECYCLE: return 3; /* dormant lives in the rows */
    case PERSONA_COHORT_STICKINESS: return 1;
    default: return persona__cohort_cols_for_raw(&t->o, persona__cohort_raw_cols(t));
    }
}

/* The keys of the rows a table with extent (first_period, last_period) must have beyond
 * those holding counts: every period of a lifecycle range, every count 1..n of
 * stickiness. Written to keys (room for n), returns n; *n_out only counts when keys NULL. */
static size_t implied_rows(const persona_cohort_table *t, int64_t *keys)
{
    if (t->o.kind == PERSONA_COHORT_RETENTION || t->first_period > t->last_period)
        return 0;
    int64_t lo, hi;
    derived_range(t, &lo, &hi);
    if (hi < lo)
        return 0;
    size_t n = (size_t)(hi - lo + 1);
    for (size_t i = 0; keys && i < n; i++)
        keys[i] = t->o.kind == PERSONA_COHORT_LIFECYCLE ? lo + (int64_t)i : (int64_t)i + 1;
    return n;
}

int persona__cohort_layout_ok(const persona_cohort_table *t)
{
    if (persona__cohort_cols(t) != t->n_cols)
        return 0;
    if (t->o.kind == PERSONA_COHORT_RETENTION)
        return 1;
    size_t n = implied_rows(t, NULL);
    if (n != t->n_rows)
        return 0;
    int64_t lo, hi;
    derived_range(t, &lo, &hi);
    for (size_t i = 0; i < n; i++)
        if (t->rows[i].period != (t->o.kind == PERSONA_COHORT_LIFECYCLE ? lo : 1) + (int64_t)i)
            return 0;
    return 1;
}

int persona__cohort_table_fit(persona_cohort_table *t)
{
    size_t want = persona__cohort_cols(t);
    return want == t->n_cols ? PERSONA_OK : relayout(t, t->n_rows, want, NULL);
}

/* Union of a's rows, b's rows (either may be NULL) and the implied keys, sorted, as an
 * array of source indexes. Returns the count or SIZE_MAX when out of memory. */
typedef struct row_src {
    uint32_t a, b;
    int64_t period;
    const char *label;
} row_src;

static int src_cmp(const persona_cohort_table *t, const row_src *x, const row_src *y)
{
    cohort_row rx = {.period = x->period, .label = (char *)x->label};
    return row_cmp(t, &rx, y->period, y->label);
}

static size_t union_rows(const persona_cohort_table *t, const persona_cohort_table *b,
                         const int64_t *implied, size_t n_implied, row_src **out)
{
    size_t nb = b ? b->n_rows : 0, cap = t->n_rows + nb + n_implied;
    row_src *u = persona__realloc_array(NULL, cap ? cap : 1, sizeof *u);
    if (!u)
        return SIZE_MAX;
    size_t n = 0, i = 0, j = 0, k = 0;
    while (i < t->n_rows || j < nb || k < n_implied) {
        row_src c[3];
        int have[3] = {i < t->n_rows, j < nb, k < n_implied};
        if (have[0])
            c[0] = (row_src){(uint32_t)i, COHORT_NONE, t->rows[i].period, t->rows[i].label};
        if (have[1])
            c[1] = (row_src){COHORT_NONE, (uint32_t)j, b->rows[j].period, b->rows[j].label};
        if (have[2])
            c[2] = (row_src){COHORT_NONE, COHORT_NONE, implied[k], NULL};
        int best = -1;
        for (int q = 0; q < 3; q++)
            if (have[q] && (best < 0 || src_cmp(t, &c[q], &c[best]) < 0))
                best = q;
        row_src r = c[best];
        for (int q = 0; q < 3; q++) {
            if (!have[q] || src_cmp(t, &c[q], &r) != 0)
                continue;
            if (q == 0)
                r.a = (uint32_t)i++;
            else if (q == 1)
                r.b = (uint32_t)j++;
            else
                k++;
        }
        u[n++] = r;
    }
    *out = u;
    return n;
}

/* Give t the rows `u` (indexes into t's own rows in .a) and n_cols columns. */
static int reshape(persona_cohort_table *t, const row_src *u, size_t n, size_t n_cols)
{
    uint32_t *map = persona__realloc_array(NULL, n ? n : 1, sizeof *map);
    cohort_row *rows = persona__calloc(n ? n : 1, sizeof *rows);
    char **labels = persona__calloc(n ? n : 1, sizeof *labels);
    int rc = map && rows && labels ? PERSONA_OK : persona__fail_nomem();
    for (size_t i = 0; rc == PERSONA_OK && i < n; i++) {
        map[i] = u[i].a;
        if (u[i].a == COHORT_NONE && u[i].label &&
            !(labels[i] = persona__strndup(u[i].label, strlen(u[i].label))))
            rc = persona__fail_nomem();
    }
    if (rc == PERSONA_OK)
        rc = relayout(t, n, n_cols, map);
    if (rc == PERSONA_OK) {
        for (size_t i = 0; i < n; i++) {
            if (u[i].a != COHORT_NONE) {
                rows[i] = t->rows[u[i].a];
            } else {
                rows[i].period = u[i].period;
                rows[i].label = labels[i];
                labels[i] = NULL;
            }
        }
        persona__free(t->rows);
        t->rows = rows;
        t->n_rows = t->cap_rows = n;
        rows = NULL;
    }
    for (size_t i = 0; labels && i < n; i++)
        persona__free(labels[i]);
    persona__free(labels);
    persona__free(rows);
    persona__free(map);
    return rc;
}

int persona__cohort_table_add(persona_cohort_table *into, const persona_cohort_table *from,
                              int sign)
{
    /* The extent of the sum, then its rows and columns, then the counts. Nothing in `into`
     * changes before every allocation has succeeded. */
    persona_cohort_table ext = *into;
    if (sign > 0 && from) {
        ext.t_last = from->t_last > ext.t_last ? from->t_last : ext.t_last;
        ext.first_anchor = from->first_anchor < ext.first_anchor ? from->first_anchor : ext.first_anchor;
        ext.first_period = from->first_period < ext.first_period ? from->first_period : ext.first_period;
        ext.last_period = from->last_period > ext.last_period ? from->last_period : ext.last_period;
    }
    size_t n_imp = implied_rows(&ext, NULL);
    int64_t *imp = n_imp ? persona__realloc_array(NULL, n_imp, sizeof *imp) : NULL;
    if (n_imp && !imp)
        return persona__fail_nomem();
    implied_rows(&ext, imp);
    row_src *u = NULL;
    size_t n = union_rows(into, from, imp, n_imp, &u);
    persona__free(imp);
    if (n == SIZE_MAX)
        return persona__fail_nomem();
    /* Columns follow the extent and the rows (the earliest row has the most). */
    persona_cohort_table probe = ext;
    cohort_row first = {0};
    if (n) {
        first.period = u[0].period;
        probe.rows = &first;
        probe.n_rows = 1;
    } else {
        probe.n_rows = 0;
    }
    size_t n_cols = persona__cohort_cols(&probe);
    if (n_cols < into->n_cols)
        n_cols = into->n_cols;
    int rc = reshape(into, u, n, n_cols);
    if (rc) {
        persona__free(u);
        return rc;
    }
    into->t_last = ext.t_last;
    into->first_anchor = ext.first_anchor;
    into->first_period = ext.first_period;
    into->last_period = ext.last_period;
    for (size_t i = 0; from && i < n; i++) {
        if (u[i].b == COHORT_NONE)
            continue;
        const cohort_row *fr = &from->rows[u[i].b];
        cohort_row *tr = &into->rows[i];
        tr->size += sign > 0 ? fr->size : -fr->size;
        tr->dormant_next += sign > 0 ? fr->dormant_next : -fr->dormant_next;
        for (size_t c = 0; c < from->n_cols; c++) {
            size_t s = (size_t)u[i].b * from->n_cols + c, d = i * into->n_cols + c;
            into->users[d] += sign > 0 ? from->users[s] : -from->users[s];
            if (into->events)
                into->events[d] += sign > 0 ? from->events[s] : -from->events[s];
            if (into->revenue) {
                if (sign > 0)
                    persona__exactsum_merge(&into->revenue[d], &from->revenue[s]);
                else
                    persona__exactsum_unmerge(&into->revenue[d], &from->revenue[s]);
            }
        }
    }
    if (from)
        into->dormant_before += sign > 0 ? from->dormant_before : -from->dormant_before;
    persona__free(u);
    return PERSONA_OK;
}
