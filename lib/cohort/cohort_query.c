/* Reading a cohort table: rows, columns, labels and cells, with small-cell suppression
 * applied here (the table itself keeps true counts so merges stay exact). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cohort/cohort_internal.h"
#include "core/error.h"
#include "store/store_internal.h"

static const char *const lifecycle_names[4] = {"new", "returning", "resurrecting", "dormant"};

static int check_table(const void *out, const persona_cohort_table *t, const char *fn)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "%s: out is NULL", fn);
    if (!t)
        return persona__fail(PERSONA_EINVAL, "%s: table is NULL", fn);
    return PERSONA_OK;
}

static int check_row(const persona_cohort_table *t, size_t row, const char *fn)
{
    if (row >= t->n_rows)
        return persona__fail(PERSONA_EINVAL, "%s: row %zu is out of range (%zu rows)", fn, row,
                             t->n_rows);
    return PERSONA_OK;
}

size_t persona__cohort_public_cols(const persona_cohort_table *t)
{
    switch (t->o.kind) {
    case PERSONA_COHORT_LIFECYCLE: return 4;
    case PERSONA_COHORT_STICKINESS: return 1;
    default: return t->n_cols;
    }
}

PERSONA_API int persona_cohort_table_kind(int32_t *out, const persona_cohort_table *t)
{
    int rc = check_table(out, t, "persona_cohort_table_kind");
    if (rc == PERSONA_OK)
        *out = t->o.kind;
    return rc;
}

PERSONA_API int persona_cohort_table_rows(size_t *out, const persona_cohort_table *t)
{
    int rc = check_table(out, t, "persona_cohort_table_rows");
    if (rc == PERSONA_OK)
        *out = t->n_rows;
    return rc;
}

PERSONA_API int persona_cohort_table_cols(size_t *out, const persona_cohort_table *t)
{
    int rc = check_table(out, t, "persona_cohort_table_cols");
    if (rc == PERSONA_OK)
        *out = persona__cohort_public_cols(t);
    return rc;
}

static int suppressed(const persona_cohort_table *t, uint64_t users)
{
    return t->o.min_users && users < t->o.min_users;
}

/* Users of a lifecycle cell: dormant comes from the previous period's row. */
static uint64_t lifecycle_users(const persona_cohort_table *t, size_t row, size_t col)
{
    if (col < 3)
        return t->users[row * 3 + col];
    return row ? t->rows[row - 1].dormant_next : t->dormant_before;
}

int persona__cohort_cell(const persona_cohort_table *t, size_t row, size_t col, int32_t metric,
                         double *value, int *supp)
{
    *supp = 0;
    *value = NAN;
    if (t->o.kind != PERSONA_COHORT_RETENTION) {
        uint64_t u = t->o.kind == PERSONA_COHORT_LIFECYCLE ? lifecycle_users(t, row, col)
                                                           : t->users[row];
        if (suppressed(t, u))
            *supp = 1;
        else
            *value = (double)u;
        return PERSONA_OK;
    }
    if (persona__cohort_cell_after_data(t, row, col))
        return PERSONA_OK;
    size_t cell = row * t->n_cols + col;
    if (suppressed(t, t->users[cell]) || suppressed(t, t->rows[row].size)) {
        *supp = 1;
        return PERSONA_OK;
    }
    switch (metric) {
    case PERSONA_COHORT_USERS: *value = (double)t->users[cell]; break;
    case PERSONA_COHORT_EVENTS: *value = (double)t->events[cell]; break;
    case PERSONA_COHORT_REVENUE: *value = persona__exactsum_value(&t->revenue[cell]); break;
    case PERSONA_COHORT_RATE:
        *value = (double)t->users[cell] / (double)t->rows[row].size;
        break;
    default: { /* LTV: the exact revenue of p0 … col, rounded once */
        persona__exactsum sum;
        persona__exactsum_init(&sum);
        for (size_t c = 0; c <= col; c++)
            persona__exactsum_merge(&sum, &t->revenue[row * t->n_cols + c]);
        *value = persona__exactsum_value(&sum) / (double)t->rows[row].size;
        break;
    }
    }
    return PERSONA_OK;
}

int persona__cohort_check_metric(const persona_cohort_table *t, int32_t metric, const char *fn)
{
    if (t->o.kind != PERSONA_COHORT_RETENTION) {
        if (metric != PERSONA_COHORT_USERS)
            return persona__fail(PERSONA_EINVAL, "%s: lifecycle and stickiness tables hold "
                                                 "users only (metric %d)", fn, (int)metric);
        return PERSONA_OK;
    }
    if (metric < PERSONA_COHORT_USERS || metric > PERSONA_COHORT_LTV)
        return persona__fail(PERSONA_EINVAL, "%s: unknown metric %d", fn, (int)metric);
    if ((metric == PERSONA_COHORT_EVENTS && !t->events) ||
        ((metric == PERSONA_COHORT_REVENUE || metric == PERSONA_COHORT_LTV) && !t->revenue))
        return persona__fail(PERSONA_EUNSUPPORTED, "%s: the table was built without the %s "
                                                   "metric (options.metrics)", fn,
                             metric == PERSONA_COHORT_EVENTS ? "events" : "revenue");
    return PERSONA_OK;
}

PERSONA_API int persona_cohort_table_cell(double *value_out, int32_t *suppressed_out,
                                          const persona_cohort_table *t, size_t row, size_t col,
                                          int32_t metric)
{
    static const char fn[] = "persona_cohort_table_cell";
    int rc = check_table(value_out, t, fn);
    if (rc == PERSONA_OK)
        rc = check_row(t, row, fn);
    if (rc == PERSONA_OK && col >= persona__cohort_public_cols(t))
        rc = persona__fail(PERSONA_EINVAL, "%s: column %zu is out of range (%zu columns)", fn,
                           col, persona__cohort_public_cols(t));
    if (rc == PERSONA_OK)
        rc = persona__cohort_check_metric(t, metric, fn);
    if (rc)
        return rc;
    int supp;
    persona__cohort_cell(t, row, col, metric, value_out, &supp);
    if (suppressed_out)
        *suppressed_out = supp;
    return PERSONA_OK;
}

PERSONA_API int persona_cohort_table_size(uint64_t *size_out, int32_t *suppressed_out,
                                          const persona_cohort_table *t, size_t row)
{
    static const char fn[] = "persona_cohort_table_size";
    int rc = check_table(size_out, t, fn);
    if (rc == PERSONA_OK)
        rc = check_row(t, row, fn);
    if (rc)
        return rc;
    int supp = suppressed(t, t->rows[row].size);
    *size_out = supp ? 0 : t->rows[row].size;
    if (suppressed_out)
        *suppressed_out = supp;
    return PERSONA_OK;
}

size_t persona__cohort_row_label(const persona_cohort_table *t, size_t row, char *buf)
{
    const cohort_row *r = &t->rows[row];
    if (t->o.kind == PERSONA_COHORT_STICKINESS) {
        int n = snprintf(buf, PERIOD_LABEL_MAX, "%lld", (long long)r->period);
        return n < 0 ? 0 : (size_t)n;
    }
    if (t->o.kind == PERSONA_COHORT_RETENTION && t->o.cohort_by == PERSONA_COHORT_BY_PROPERTY)
        return 0; /* the caller uses the label string */
    return persona__period_label(t->o.kind == PERSONA_COHORT_RETENTION ? &t->row_unit
                                                                       : &t->col_unit,
                                 r->period, buf);
}

const char *persona__cohort_row_text(const persona_cohort_table *t, size_t row, char *buf,
                                     size_t *len)
{
    if (t->o.kind == PERSONA_COHORT_RETENTION && t->o.cohort_by == PERSONA_COHORT_BY_PROPERTY) {
        const char *s = t->rows[row].label ? t->rows[row].label : COHORT_NONE_LABEL;
        *len = strlen(s);
        return s;
    }
    *len = persona__cohort_row_label(t, row, buf);
    return buf;
}

PERSONA_API int persona_cohort_table_label(char *buf, size_t capacity, size_t *out_len,
                                           const persona_cohort_table *t, size_t row)
{
    static const char fn[] = "persona_cohort_table_label";
    if (!buf && capacity)
        return persona__fail(PERSONA_EINVAL, "%s: buf is NULL but capacity is %zu", fn, capacity);
    if (!t)
        return persona__fail(PERSONA_EINVAL, "%s: table is NULL", fn);
    int rc = check_row(t, row, fn);
    if (rc)
        return rc;
    char tmp[PERIOD_LABEL_MAX];
    size_t len;
    const char *s = persona__cohort_row_text(t, row, tmp, &len);
    return persona__copy_out(buf, capacity, out_len, s, len);
}

size_t persona__cohort_col_label(const persona_cohort_table *t, size_t col, char *buf)
{
    int n;
    if (t->o.kind == PERSONA_COHORT_LIFECYCLE)
        n = snprintf(buf, PERIOD_LABEL_MAX, "%s", lifecycle_names[col]);
    else if (t->o.kind == PERSONA_COHORT_STICKINESS)
        n = snprintf(buf, PERIOD_LABEL_MAX, "users");
    else if (!t->o.n_brackets)
        n = snprintf(buf, PERIOD_LABEL_MAX, "p%zu", col);
    else {
        unsigned lo = t->o.brackets[col];
        int open = col + 1 == t->o.n_brackets && !t->o.periods;
        unsigned hi = col + 1 < t->o.n_brackets ? t->o.brackets[col + 1] - 1
                      : t->o.periods ? t->o.periods - 1 : lo;
        if (open)
            n = snprintf(buf, PERIOD_LABEL_MAX, "p%u+", lo);
        else if (hi == lo)
            n = snprintf(buf, PERIOD_LABEL_MAX, "p%u", lo);
        else
            n = snprintf(buf, PERIOD_LABEL_MAX, "p%u-%u", lo, hi);
    }
    return n < 0 ? 0 : (size_t)n;
}

PERSONA_API int persona_cohort_table_col_label(char *buf, size_t capacity, size_t *out_len,
                                               const persona_cohort_table *t, size_t col)
{
    static const char fn[] = "persona_cohort_table_col_label";
    if (!buf && capacity)
        return persona__fail(PERSONA_EINVAL, "%s: buf is NULL but capacity is %zu", fn, capacity);
    if (!t)
        return persona__fail(PERSONA_EINVAL, "%s: table is NULL", fn);
    if (col >= persona__cohort_public_cols(t))
        return persona__fail(PERSONA_EINVAL, "%s: column %zu is out of range (%zu columns)", fn,
                             col, persona__cohort_public_cols(t));
    char tmp[PERIOD_LABEL_MAX];
    size_t len = persona__cohort_col_label(t, col, tmp);
    return persona__copy_out(buf, capacity, out_len, tmp, len);
}

PERSONA_API int persona_cohort_table_row_start(int64_t *out, const persona_cohort_table *t,
                                               size_t row)
{
    static const char fn[] = "persona_cohort_table_row_start";
    int rc = check_table(out, t, fn);
    if (rc == PERSONA_OK)
        rc = check_row(t, row, fn);
    if (rc)
        return rc;
    if (t->o.kind == PERSONA_COHORT_STICKINESS ||
        (t->o.kind == PERSONA_COHORT_RETENTION && t->o.cohort_by == PERSONA_COHORT_BY_PROPERTY))
        return persona__fail(PERSONA_ENOTFOUND, "%s: %s rows have no period", fn,
                             t->o.kind == PERSONA_COHORT_STICKINESS ? "stickiness" : "property");
    *out = persona__period_start(t->o.kind == PERSONA_COHORT_RETENTION ? &t->row_unit
                                                                       : &t->col_unit,
                                 t->rows[row].period);
    return PERSONA_OK;
}
