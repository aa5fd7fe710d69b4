/* A cohort table out and back: CSV / JSON exports, and snapshots (docs/file-format.md,
 * "Cohort tables"). A loaded table is checked as strictly as a built one: its options go
 * through the same validation, its rows must be sorted and distinct, its layout must be
 * the one its extent implies. */
#include <math.h>
#include <string.h>

#include "cohort/cohort_internal.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "persist/snapfile.h"
#include "store/store_internal.h"

/* ---- export ---- */

static void put_cell(persona__buf *b, double v, int csv)
{
    if (isnan(v)) {
        if (!csv)
            persona__buf_puts(b, "null");
        return;
    }
    persona__buf_double(b, v);
}

static void csv_header(persona__buf *b, const persona_cohort_table *t)
{
    char tmp[PERIOD_LABEL_MAX];
    size_t cols = persona__cohort_public_cols(t);
    if (t->o.kind == PERSONA_COHORT_RETENTION)
        persona__buf_puts(b, "cohort,size");
    else if (t->o.kind == PERSONA_COHORT_LIFECYCLE)
        persona__buf_puts(b, "period");
    else
        persona__buf_puts(b, "active_periods");
    for (size_t c = 0; c < cols; c++) {
        persona__buf_putc(b, ',');
        persona__buf_append(b, tmp, persona__cohort_col_label(t, c, tmp));
    }
    persona__buf_putc(b, '\n');
}

static void csv_row(persona__buf *b, const persona_cohort_table *t, size_t row, int32_t metric)
{
    char tmp[PERIOD_LABEL_MAX];
    size_t len;
    const char *label = persona__cohort_row_text(t, row, tmp, &len);
    persona__buf_csv_cell(b, label, len, ',');
    if (t->o.kind == PERSONA_COHORT_RETENTION) {
        persona__buf_putc(b, ',');
        if (!(t->o.min_users && t->rows[row].size < t->o.min_users))
            persona__buf_u64(b, t->rows[row].size);
    }
    size_t cols = persona__cohort_public_cols(t);
    for (size_t c = 0; c < cols; c++) {
        double v;
        int supp;
        persona__cohort_cell(t, row, c, metric, &v, &supp);
        persona__buf_putc(b, ',');
        put_cell(b, v, 1);
    }
    persona__buf_putc(b, '\n');
}

static const char *kind_name(int32_t kind)
{
    return kind == PERSONA_COHORT_LIFECYCLE    ? "lifecycle"
           : kind == PERSONA_COHORT_STICKINESS ? "stickiness"
                                               : "retention";
}

static void json_opts(persona__buf *b, const persona_cohort_table *t)
{
    const cohort_opts *o = &t->o;
    static const char *const units[] = {"", "hour", "day", "week", "month", "quarter", "year", "rolling"};
    persona__buf_puts(b, "{\"kind\":\"");
    persona__buf_puts(b, kind_name(o->kind));
    persona__buf_puts(b, "\",\"period\":\"");
    persona__buf_puts(b, units[o->period]);
    persona__buf_puts(b, "\"");
    if (o->period == PERSONA_PERIOD_ROLLING) {
        persona__buf_puts(b, ",\"row_period\":\"");
        persona__buf_puts(b, units[o->row_period]);
        persona__buf_puts(b, "\",\"window_ms\":");
        persona__buf_i64(b, o->window_ms);
    }
    persona__buf_puts(b, ",\"utc_offset_minutes\":");
    persona__buf_i64(b, o->offset_min);
    if (o->kind == PERSONA_COHORT_RETENTION) {
        persona__buf_puts(b, ",\"cohort_by\":");
        if (o->cohort_event) {
            persona__buf_puts(b, "{\"first_of_type\":");
            persona__buf_json_str(b, o->cohort_event, strlen(o->cohort_event));
            persona__buf_putc(b, '}');
        } else if (o->cohort_property) {
            persona__buf_puts(b, "{\"property\":");
            persona__buf_json_str(b, o->cohort_property, strlen(o->cohort_property));
            persona__buf_putc(b, '}');
        } else {
            persona__buf_puts(b, "\"first_event\"");
        }
        persona__buf_puts(b, o->retention == PERSONA_RETENTION_UNBOUNDED
                                 ? ",\"retention\":\"unbounded\""
                                 : ",\"retention\":\"classic\"");
    }
    persona__buf_puts(b, ",\"active_types\":[");
    for (size_t i = 0; i < o->n_active; i++) {
        if (i)
            persona__buf_putc(b, ',');
        persona__buf_json_str(b, o->active[i], strlen(o->active[i]));
    }
    persona__buf_puts(b, "],\"min_users\":");
    persona__buf_u64(b, o->min_users);
    if (o->consent_purpose) {
        persona__buf_puts(b, ",\"consent_purpose\":");
        persona__buf_json_str(b, o->consent_purpose, strlen(o->consent_purpose));
    }
    persona__buf_putc(b, '}');
}

static void json_table(persona__buf *b, const persona_cohort_table *t)
{
    char tmp[PERIOD_LABEL_MAX];
    size_t cols = persona__cohort_public_cols(t);
    persona__buf_puts(b, "{\"options\":");
    json_opts(b, t);
    persona__buf_puts(b, ",\"columns\":[");
    for (size_t c = 0; c < cols; c++) {
        if (c)
            persona__buf_putc(b, ',');
        size_t len = persona__cohort_col_label(t, c, tmp);
        persona__buf_json_str(b, tmp, len);
    }
    persona__buf_puts(b, "],\"rows\":[");
    static const int32_t metrics[] = {PERSONA_COHORT_USERS, PERSONA_COHORT_RATE,
                                      PERSONA_COHORT_EVENTS, PERSONA_COHORT_REVENUE,
                                      PERSONA_COHORT_LTV};
    static const char *const names[] = {"users", "rate", "events", "revenue", "ltv"};
    for (size_t r = 0; r < t->n_rows; r++) {
        persona__buf_puts(b, r ? ",{\"label\":" : "{\"label\":");
        size_t len;
        const char *label = persona__cohort_row_text(t, r, tmp, &len);
        persona__buf_json_str(b, label, len);
        int64_t start;
        if (persona_cohort_table_row_start(&start, t, r) == PERSONA_OK) {
            persona__buf_puts(b, ",\"start\":\"");
            persona__json_time(b, start);
            persona__buf_putc(b, '"');
        }
        persona__buf_puts(b, ",\"size\":");
        if (t->o.min_users && t->rows[r].size < t->o.min_users)
            persona__buf_puts(b, "null");
        else
            persona__buf_u64(b, t->rows[r].size);
        for (size_t m = 0; m < sizeof metrics / sizeof *metrics; m++) {
            if (persona__cohort_check_metric(t, metrics[m], "export") != PERSONA_OK)
                continue;
            persona__buf_puts(b, ",\"");
            persona__buf_puts(b, names[m]);
            persona__buf_puts(b, "\":[");
            for (size_t c = 0; c < cols; c++) {
                double v;
                int supp;
                persona__cohort_cell(t, r, c, metrics[m], &v, &supp);
                if (c)
                    persona__buf_putc(b, ',');
                put_cell(b, v, 0);
            }
            persona__buf_putc(b, ']');
        }
        persona__buf_putc(b, '}');
    }
    persona__buf_puts(b, "]}\n");
}

static int export_to(persona__buf *b, const persona_cohort_table *t, int32_t format,
                     int32_t metric, const char *fn)
{
    if (!t)
        return persona__fail(PERSONA_EINVAL, "%s: table is NULL", fn);
    if (format != PERSONA_COHORT_EXPORT_CSV && format != PERSONA_COHORT_EXPORT_JSON)
        return persona__fail(PERSONA_EINVAL, "%s: unknown format %d", fn, (int)format);
    if (format == PERSONA_COHORT_EXPORT_CSV) {
        int rc = persona__cohort_check_metric(t, metric, fn);
        if (rc)
            return rc;
        csv_header(b, t);
        for (size_t r = 0; r < t->n_rows; r++)
            csv_row(b, t, r, metric);
    } else {
        json_table(b, t);
    }
    return persona__buf_failed(b) ? persona__fail_nomem() : PERSONA_OK;
}

PERSONA_API int persona_cohort_table_export(const persona_cohort_table *t, int32_t format,
                                            int32_t metric, persona_write_fn write, void *ctx)
{
    if (!write)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_table_export: write is NULL");
    persona__buf b;
    persona__buf_init(&b);
    int rc = export_to(&b, t, format, metric, "persona_cohort_table_export");
    if (rc == PERSONA_OK && b.len && write(ctx, b.data, b.len) < 0)
        rc = persona__fail(PERSONA_ECALLBACK, "persona_cohort_table_export: write failed");
    persona__buf_free(&b);
    return rc;
}

PERSONA_API int persona_cohort_table_export_buffer(char **out, size_t *out_len,
                                                   const persona_cohort_table *t,
                                                   int32_t format, int32_t metric)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_table_export_buffer: out is NULL");
    *out = NULL;
    persona__buf b;
    persona__buf_init(&b);
    int rc = export_to(&b, t, format, metric, "persona_cohort_table_export_buffer");
    return persona__buf_hand_over(&b, rc, out, out_len);
}

/* ---- snapshots ---- */

enum { SEC_OPTIONS = 1, SEC_ROWS = 2, SEC_CELLS = 3 };
#define SUM_WORDS_MAX 128

/* Words of an exact sum in a file (a constant of the accumulator). */
static size_t sum_words(void)
{
    persona__exactsum z;
    persona__exactsum_init(&z);
    size_t n = persona__exactsum_words(&z);
    return n < SUM_WORDS_MAX ? n : SUM_WORDS_MAX;
}

static void save_options(persona__snap_writer *w, const persona_cohort_table *t)
{
    const cohort_opts *o = &t->o;
    persona__snap_begin(w, SEC_OPTIONS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_i32(w, o->kind);
    persona__snap_put_i32(w, o->period);
    persona__snap_put_i32(w, o->period == PERSONA_PERIOD_ROLLING ? o->row_period : 0);
    persona__snap_put_i64(w, o->window_ms);
    persona__snap_put_i32(w, o->offset_min);
    persona__snap_put_i32(w, o->cohort_by);
    persona__snap_put_i32(w, o->retention);
    persona__snap_put_u32(w, o->metrics);
    persona__snap_put_u32(w, o->periods);
    persona__snap_put_u32(w, o->min_users);
    persona__snap_put_i64(w, o->from_ms);
    persona__snap_put_i64(w, o->to_ms);
    persona__snap_put_str(w, o->cohort_event);
    persona__snap_put_str(w, o->cohort_property);
    persona__snap_put_str(w, o->consent_purpose);
    persona__snap_put_u32(w, (uint32_t)o->n_active);
    for (size_t i = 0; i < o->n_active; i++)
        persona__snap_put_str(w, o->active[i]);
    persona__snap_put_u32(w, (uint32_t)o->n_brackets);
    persona__snap_put_u32s(w, o->brackets, o->n_brackets);
    persona__snap_end(w);
}

static void save_rows(persona__snap_writer *w, const persona_cohort_table *t)
{
    persona__snap_begin(w, SEC_ROWS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_i64(w, t->t_last);
    persona__snap_put_i64(w, t->first_anchor);
    persona__snap_put_i64(w, t->first_period);
    persona__snap_put_i64(w, t->last_period);
    persona__snap_put_u64(w, t->dormant_before);
    persona__snap_put_u64(w, t->n_rows);
    persona__snap_put_u64(w, t->n_cols);
    for (size_t r = 0; r < t->n_rows; r++) {
        persona__snap_put_i64(w, t->rows[r].period);
        persona__snap_put_u64(w, t->rows[r].size);
        persona__snap_put_u64(w, t->rows[r].dormant_next);
        persona__snap_put_str(w, t->rows[r].label);
    }
    persona__snap_end(w);
}

static void save_cells(persona__snap_writer *w, const persona_cohort_table *t)
{
    size_t n = t->n_rows * t->n_cols;
    persona__snap_begin(w, SEC_CELLS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64s(w, t->users, n);
    if (t->events)
        persona__snap_put_u64s(w, t->events, n);
    for (size_t i = 0; t->revenue && i < n; i++) {
        uint64_t words[SUM_WORDS_MAX];
        persona__exactsum_put(&t->revenue[i], words);
        persona__snap_put_u64s(w, words, sum_words());
    }
    persona__snap_end(w);
}

PERSONA_API int persona_cohort_table_save(const persona_cohort_table *t, const char *path)
{
    if (!t || !path)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_table_save: %s is NULL",
                             t ? "path" : "table");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_COHORT);
    if (rc)
        return rc;
    save_options(w, t);
    save_rows(w, t);
    save_cells(w, t);
    return persona__snap_commit(w);
}

/* Options as written, checked by the same code as the caller's. */
static int load_options(persona__snap_reader *r, cohort_opts *o)
{
    persona_cohort_options in = PERSONA_COHORT_OPTIONS_INIT;
    char *event = NULL, *prop = NULL, *purpose = NULL, **active = NULL;
    uint32_t *brackets = NULL, n_active = 0, n_brackets = 0, got_active = 0;
    int rc = persona__snap_section(r, SEC_OPTIONS, "cohort options", NULL);
    if (rc == 0)
        rc = persona__snap_corrupt(r, "no options section");
    if (rc == 1) {
        rc = persona__snap_get_i32(r, &in.kind);
        if (!rc) rc = persona__snap_get_i32(r, &in.period);
        if (!rc) rc = persona__snap_get_i32(r, &in.row_period);
        if (!rc) rc = persona__snap_get_i64(r, &in.window_ms);
        if (!rc) rc = persona__snap_get_i32(r, &in.utc_offset_minutes);
        if (!rc) rc = persona__snap_get_i32(r, &in.cohort_by);
        if (!rc) rc = persona__snap_get_i32(r, &in.retention);
        if (!rc) rc = persona__snap_get_u32(r, &in.metrics);
        if (!rc) rc = persona__snap_get_u32(r, &in.periods);
        if (!rc) rc = persona__snap_get_u32(r, &in.min_users);
        if (!rc) rc = persona__snap_get_i64(r, &in.from_ms);
        if (!rc) rc = persona__snap_get_i64(r, &in.to_ms);
        if (!rc) rc = persona__snap_get_str(r, &event, PERSONA_MAX_KEY_LEN, "cohort event");
        if (!rc) rc = persona__snap_get_str(r, &prop, PERSONA_MAX_KEY_LEN, "cohort property");
        if (!rc) rc = persona__snap_get_str(r, &purpose, PERSONA_MAX_KEY_LEN, "consent purpose");
        if (!rc) rc = persona__snap_get_u32(r, &n_active);
        if (!rc) rc = persona__snap_need(r, n_active, sizeof(uint32_t), "active types");
        if (!rc && n_active && !(active = persona__calloc(n_active, sizeof *active)))
            rc = persona__fail_nomem();
        for (; !rc && got_active < n_active; got_active++)
            rc = persona__snap_get_str(r, &active[got_active], PERSONA_MAX_KEY_LEN, "active type");
        if (!rc) rc = persona__snap_get_u32(r, &n_brackets);
        if (!rc && n_brackets > PERSONA_COHORT_MAX_BRACKETS)
            rc = persona__snap_corrupt(r, "%u brackets", n_brackets);
        if (!rc) rc = persona__snap_need(r, n_brackets, sizeof(uint32_t), "brackets");
        if (!rc && n_brackets && !(brackets = persona__realloc_array(NULL, n_brackets, sizeof *brackets)))
            rc = persona__fail_nomem();
        if (!rc) rc = persona__snap_get_u32s(r, brackets, n_brackets);
        if (!rc) rc = persona__snap_section_end(r);
    }
    if (!rc) {
        in.cohort_event = event;
        in.cohort_property = prop;
        in.consent_purpose = purpose;
        in.active_types = (const char *const *)active;
        in.n_active_types = n_active;
        in.brackets = brackets;
        in.n_brackets = n_brackets;
        rc = persona__cohort_opts_copy(o, &in);
        /* stored values are the defaults resolved, so they must read back the same */
        if (rc == PERSONA_EINVAL || rc == PERSONA_EUNSUPPORTED ||
            (rc == PERSONA_OK && (o->period != in.period || o->metrics != in.metrics)))
            rc = persona__snap_corrupt(r, "options not valid: %s", persona_errmsg());
        if (rc && rc != PERSONA_ENOMEM && rc != PERSONA_ECORRUPT)
            rc = PERSONA_ECORRUPT;
        if (rc)
            persona__cohort_opts_free(o);
    }
    for (uint32_t i = 0; active && i < got_active; i++)
        persona__free(active[i]);
    persona__free(active);
    persona__free(brackets);
    persona__free(event);
    persona__free(prop);
    persona__free(purpose);
    return rc > 0 ? PERSONA_OK : rc;
}

static int row_key_cmp(const persona_cohort_table *t, const cohort_row *a, const cohort_row *b)
{
    if (t->o.kind == PERSONA_COHORT_RETENTION && t->o.cohort_by == PERSONA_COHORT_BY_PROPERTY) {
        if (!a->label || !b->label)
            return (a->label == NULL) - (b->label == NULL);
        return strcmp(a->label, b->label);
    }
    return a->period < b->period ? -1 : a->period > b->period;
}

/* Whether period n of a unit holds times libpersona accepts (so its arithmetic cannot
 * overflow). */
static int in_time(const persona__period *p, int64_t n)
{
    return n >= persona__period_of(p, PERSONA_TIME_MIN) && n <= persona__period_of(p, PERSONA_TIME_MAX);
}

static int period_ok(const persona_cohort_table *t, int64_t n)
{
    if (t->o.kind == PERSONA_COHORT_STICKINESS)
        return n >= 1 && n <= (int64_t)COHORT_MAX_CELLS;
    return in_time(t->o.kind == PERSONA_COHORT_RETENTION ? &t->row_unit : &t->col_unit, n);
}

static int load_rows(persona__snap_reader *r, persona_cohort_table *t)
{
    uint64_t n_rows, n_cols;
    int rc = persona__snap_section(r, SEC_ROWS, "cohort rows", NULL);
    if (rc == 0)
        return persona__snap_corrupt(r, "no rows section");
    if (rc < 0)
        return rc;
    rc = persona__snap_get_i64(r, &t->t_last);
    if (!rc) rc = persona__snap_get_i64(r, &t->first_anchor);
    if (!rc) rc = persona__snap_get_i64(r, &t->first_period);
    if (!rc) rc = persona__snap_get_i64(r, &t->last_period);
    if (!rc) rc = persona__snap_get_u64(r, &t->dormant_before);
    if (!rc) rc = persona__snap_get_u64(r, &n_rows);
    if (!rc) rc = persona__snap_get_u64(r, &n_cols);
    if (!rc) rc = persona__snap_need(r, n_rows, 28, "rows");
    int by_prop = t->o.kind == PERSONA_COHORT_RETENTION && t->o.cohort_by == PERSONA_COHORT_BY_PROPERTY;
    if (!rc && (n_cols > COHORT_MAX_CELLS || (n_cols && n_rows > COHORT_MAX_CELLS / n_cols) ||
                (by_prop && n_rows > PERSONA_COHORT_MAX_BRACKETS)))
        rc = persona__snap_corrupt(r, "%llu rows x %llu columns", (unsigned long long)n_rows,
                                   (unsigned long long)n_cols);
    /* times within what ingest accepts keep the period arithmetic in range */
    int64_t lo = PERSONA_TIME_MIN, hi = PERSONA_TIME_MAX;
    if (!rc && ((t->t_last != INT64_MIN && (t->t_last < lo || t->t_last > hi)) ||
                (t->first_anchor != INT64_MAX && (t->first_anchor < lo || t->first_anchor > hi))))
        rc = persona__snap_corrupt(r, "times out of range");
    if (!rc && n_rows && !(t->rows = persona__calloc(n_rows, sizeof *t->rows)))
        rc = persona__fail_nomem();
    for (uint64_t i = 0; !rc && i < n_rows; i++) {
        cohort_row *row = &t->rows[i];
        rc = persona__snap_get_i64(r, &row->period);
        if (!rc) rc = persona__snap_get_u64(r, &row->size);
        if (!rc) rc = persona__snap_get_u64(r, &row->dormant_next);
        if (!rc) rc = persona__snap_get_str(r, &row->label, PERSONA_MAX_KEY_LEN, "row label");
        t->n_rows = t->cap_rows = (size_t)i + (row->label || !rc);
        if (rc)
            break;
        if ((row->label != NULL && !by_prop) || (by_prop && row->period != 0) ||
            (!by_prop && !period_ok(t, row->period)))
            rc = persona__snap_corrupt(r, "row %llu is not a row of this table", (unsigned long long)i);
        else if (i && row_key_cmp(t, &t->rows[i - 1], row) >= 0)
            rc = persona__snap_corrupt(r, "rows out of order at row %llu", (unsigned long long)i);
    }
    if (!rc)
        rc = persona__snap_section_end(r);
    /* the active period range: none yet (INT64_MAX, INT64_MIN; always so for retention),
     * or in order and in range whatever the rows, as implied_rows() counts on it */
    int no_range = t->first_period == INT64_MAX && t->last_period == INT64_MIN;
    if (!rc && !no_range &&
        (t->o.kind == PERSONA_COHORT_RETENTION || t->first_period > t->last_period ||
         !in_time(&t->col_unit, t->first_period) || !in_time(&t->col_unit, t->last_period)))
        rc = persona__snap_corrupt(r, "period range out of order or out of range");
    t->n_cols = (size_t)n_cols;
    return rc;
}

/* The layout must be the one the extent implies (what a merge would compute), checked
 * before the cells are allocated. */
static int check_layout(persona__snap_reader *r, persona_cohort_table *t)
{
    if (!persona__cohort_layout_ok(t))
        return persona__snap_corrupt(r, "rows or columns do not match the table's extent");
    return PERSONA_OK;
}

static int load_cells(persona__snap_reader *r, persona_cohort_table *t)
{
    size_t n = t->n_rows * t->n_cols, nw = sum_words();
    int rc = persona__snap_section(r, SEC_CELLS, "cohort cells", NULL);
    if (rc == 0)
        return persona__snap_corrupt(r, "no cells section");
    if (rc < 0)
        return rc;
    size_t per_cell = 8 + (t->o.metrics & (1u << PERSONA_COHORT_EVENTS) ? 8 : 0) +
                      (t->o.metrics & (1u << PERSONA_COHORT_REVENUE) ? 8 * nw : 0);
    rc = persona__snap_need(r, n, per_cell, "cells");
    if (!rc && n && !(t->users = persona__calloc(n, sizeof *t->users)))
        rc = persona__fail_nomem();
    if (!rc && n && (t->o.metrics & (1u << PERSONA_COHORT_EVENTS)) &&
        !(t->events = persona__calloc(n, sizeof *t->events)))
        rc = persona__fail_nomem();
    if (!rc && n && (t->o.metrics & (1u << PERSONA_COHORT_REVENUE)) &&
        !(t->revenue = persona__realloc_array(NULL, n, sizeof *t->revenue)))
        rc = persona__fail_nomem();
    if (!rc)
        rc = persona__snap_get_u64s(r, t->users, n);
    if (!rc && t->events)
        rc = persona__snap_get_u64s(r, t->events, n);
    for (size_t i = 0; !rc && t->revenue && i < n; i++) {
        uint64_t words[SUM_WORDS_MAX];
        rc = persona__snap_get_u64s(r, words, nw);
        if (!rc && persona__exactsum_get(&t->revenue[i], words, nw) != 0)
            rc = persona__snap_corrupt(r, "revenue of cell %zu is not an exact sum", i);
    }
    if (!rc)
        rc = persona__snap_section_end(r);
    return rc;
}

static int load_reader(persona_cohort_table **out, persona__snap_reader *r)
{
    static const uint32_t known[] = {SEC_OPTIONS, SEC_ROWS, SEC_CELLS};
    *out = NULL;
    cohort_opts o;
    persona_cohort_table *t = NULL;
    int rc = persona__snap_check_known(r, known, sizeof known / sizeof *known);
    if (!rc)
        rc = load_options(r, &o);
    if (!rc)
        rc = persona__cohort_table_new(&t, &o);
    if (!rc)
        rc = load_rows(r, t);
    if (!rc)
        rc = check_layout(r, t);
    if (!rc)
        rc = load_cells(r, t);
    if (rc) {
        persona_cohort_table_free(t);
        return rc;
    }
    *out = t;
    return PERSONA_OK;
}

PERSONA_API int persona_cohort_table_load(persona_cohort_table **out, const char *path)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_table_load: out is NULL");
    *out = NULL;
    if (!path)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_table_load: path is NULL");
    persona__snap_reader *r = NULL;
    int rc = persona__snap_open(&r, path, PERSONA__SNAP_KIND_COHORT);
    if (rc)
        return rc;
    rc = load_reader(out, r);
    persona__snap_close(r);
    return rc;
}

int persona__cohort_table_load_memory(persona_cohort_table **out, const void *data, size_t len)
{
    *out = NULL;
    persona__snap_reader *r = NULL;
    int rc = persona__snap_open_memory(&r, data, len, PERSONA__SNAP_KIND_COHORT);
    if (rc)
        return rc;
    rc = load_reader(out, r);
    persona__snap_close(r);
    return rc;
}
