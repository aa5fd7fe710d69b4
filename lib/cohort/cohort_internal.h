/* The cohort table's layout, shared by the files of lib/cohort/cohort_*.c.
 *
 * A table keeps raw counts (suppression is applied when read) and only what is needed to
 * answer, merge and update exactly: per row its key and size, per cell users, events and
 * an exact revenue sum. Everything derived from the data's extent (how many columns, which
 * cells lie after the end of the data) is recomputed from `t_last` and `first_anchor`, so
 * that merging partials, which moves both, gives what one build over everything gives. */
#ifndef PERSONA_COHORT_INTERNAL_H
#define PERSONA_COHORT_INTERNAL_H

#include <stdint.h>

#include "cohort/period.h"
#include "core/exactsum.h"
#include "persona/cohort.h"
#include "persona/store.h"

#define COHORT_NONE UINT32_MAX
/* Most cells a table may have (rows × columns): a cap that turns "hourly cohorts over ten
 * years" into a clear error instead of gigabytes. */
#define COHORT_MAX_CELLS ((size_t)1 << 24)
#define COHORT_MAX_BYTES ((size_t)1 << 30) /* and at most this much memory for them */
#define COHORT_NONE_LABEL "(none)"

/* The options, validated and owned (strings and arrays copied). */
typedef struct cohort_opts {
    int32_t kind, period, row_period, cohort_by, retention, offset_min;
    int64_t window_ms; /* rolling only */
    uint32_t metrics;  /* bits of EVENTS and REVENUE actually built */
    char *cohort_event, *cohort_property, *consent_purpose;
    char **active; /* sorted, distinct */
    size_t n_active;
    uint32_t *brackets;
    size_t n_brackets;
    uint32_t periods, min_users;
    int64_t from_ms, to_ms;
    int32_t threads;
} cohort_opts;

/* A row: a calendar period (retention by time, lifecycle) or a property value. */
typedef struct cohort_row {
    int64_t period; /* absolute period number (row unit), or the stickiness count */
    char *label;    /* property cohorts: owned value; NULL for "(none)" and period rows */
    uint64_t size;  /* users of the cohort; lifecycle: users active in the period */
    uint64_t dormant_next; /* lifecycle: users active in this period and not the next */
} cohort_row;

struct persona_cohort_table {
    cohort_opts o;
    persona__period col_unit; /* calendar column periods (retention) or lifecycle periods */
    persona__period row_unit; /* rows of a retention table by time */
    size_t n_rows, n_cols, cap_rows;
    cohort_row *rows;
    /* n_rows × n_cols, row-major. Retention: users / events / revenue per cell. Lifecycle:
     * users = new, returning, resurrecting (dormant comes from the rows). Stickiness: one
     * column of users. */
    uint64_t *users;
    uint64_t *events;          /* NULL unless EVENTS was built */
    persona__exactsum *revenue; /* NULL unless REVENUE was built */
    int64_t t_last;       /* latest event time of the store(s); INT64_MIN when empty */
    /* property cohorts count periods from here: the store's first event, or from_ms when
     * later (not the counted users' earliest, which an update could not take back) */
    int64_t first_anchor;
    int64_t first_period, last_period; /* lifecycle / stickiness: active period range */
    uint64_t dormant_before; /* lifecycle: active in the period before the first row, not in it */
    /* persona_cohort_table_update(): the store this was built from and where its log was. */
    const persona_store *store;
    uint64_t store_epoch, set_seq; /* set_seq: consent changes (consent_purpose) */
    size_t log_mark;
    int updatable;
};

/* Options (cohort_options.c). */
int persona__cohort_opts_copy(cohort_opts *dst, const persona_cohort_options *src);
void persona__cohort_opts_free(cohort_opts *o);
/* NULL when equal, else the name of the first field that differs. */
const char *persona__cohort_opts_differ(const cohort_opts *a, const cohort_opts *b);
int persona__cohort_opts_dup(cohort_opts *dst, const cohort_opts *src);

/* Columns a retention table has for its extent (t_last, first_anchor and the rows). */
size_t persona__cohort_raw_cols(const persona_cohort_table *t);
/* Columns held in the cell arrays for the table's kind and extent (lifecycle: 3). */
size_t persona__cohort_cols(const persona_cohort_table *t);
/* Column of a raw period offset (brackets), or COHORT_NONE past the last kept period. */
uint32_t persona__cohort_col_of(const cohort_opts *o, uint64_t raw);
size_t persona__cohort_cols_for_raw(const cohort_opts *o, size_t raw);
/* Whether a retention cell lies after the end of the data for its cohort. */
int persona__cohort_cell_after_data(const persona_cohort_table *t, size_t row, size_t col);

/* An empty table for these options. Takes o over (left zeroed), also on failure. */
int persona__cohort_table_new(persona_cohort_table **out, cohort_opts *o);
/* PERSONA_OK, or PERSONA_EINVAL when a property cohort table (o) would have more than
 * PERSONA_COHORT_MAX_BRACKETS rows. */
int persona__cohort_check_rows(const cohort_opts *o, size_t n_rows);
/* The rows of a and b together, rows with the same key counted once. */
size_t persona__cohort_rows_united(const persona_cohort_table *a, const persona_cohort_table *b);
/* Whether the rows and columns are those the extent implies (a loaded table). */
int persona__cohort_layout_ok(const persona_cohort_table *t);
/* Re-lay the cells for the columns the extent implies (after rows were dropped). */
int persona__cohort_table_fit(persona_cohort_table *t);
/* Add (sign +1) or subtract (-1) one table's counts into another built with the same
 * options: rows united by key (plus the rows the new extent implies), columns widened;
 * `into` unchanged on failure. With from NULL only reshapes `into` to its extent. A
 * subtraction leaves the extent as is (the caller sets it). */
int persona__cohort_table_add(persona_cohort_table *into, const persona_cohort_table *from,
                              int sign);

/* Reading (cohort_query.c). Columns as the API counts them (lifecycle: 4). */
size_t persona__cohort_public_cols(const persona_cohort_table *t);
/* A cell's value (NaN when suppressed or after the data; *supp says which). The caller
 * checked row, col and metric. */
int persona__cohort_cell(const persona_cohort_table *t, size_t row, size_t col, int32_t metric,
                         double *value, int *supp);
int persona__cohort_check_metric(const persona_cohort_table *t, int32_t metric, const char *fn);
/* Text of a row's label (in buf, or the row's own string) and of a column's (in buf);
 * buf holds PERIOD_LABEL_MAX bytes. */
const char *persona__cohort_row_text(const persona_cohort_table *t, size_t row, char *buf,
                                     size_t *len);
size_t persona__cohort_row_label(const persona_cohort_table *t, size_t row, char *buf);
size_t persona__cohort_col_label(const persona_cohort_table *t, size_t col, char *buf);

/* A snapshot held in memory (the fuzz target's way in; cohort_io.c). */
int persona__cohort_table_load_memory(persona_cohort_table **out, const void *data, size_t len);

/* The scan (cohort_build.c): fill an empty t from the store's events, or only from the
 * events listed in `only` (ascending log indexes: the partial table of their users);
 * the caller holds the lock. */
int persona__cohort_scan(persona_cohort_table *t, const persona_store *s, const uint32_t *only,
                         size_t n_only);

#endif
