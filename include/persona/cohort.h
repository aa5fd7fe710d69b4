/**
 * @file cohort.h
 * @brief Cohort tables (acquisition cohorts × periods: retained users, events, revenue,
 *        LTV), lifecycle (new / returning / resurrecting / dormant users per period) and
 *        stickiness (users by number of active periods), computed from a store's events.
 *
 * Lifecycle: persona_cohort_build() reads a store and returns a #persona_cohort_table;
 * persona_cohort_table_load() reads one saved with persona_cohort_table_save();
 * persona_cohort_table_free() releases it. A table never borrows from the store it was
 * built from: either may be freed first.
 *
 * Every figure is exact. Users are counted distinct; revenue is summed exactly and
 * rounded once (the result does not depend on the order of the events), so a table built
 * from partitions of the users and combined with persona_cohort_table_merge(), or kept up
 * to date with persona_cohort_table_update(), equals one built at once, to the last bit.
 *
 * Periods are the calendar periods of persona_time_bucket() (hour, day, ISO week, month,
 * quarter, year) in UTC moved by a fixed offset (persona_cohort_options.utc_offset_minutes):
 * a day starts at local midnight, a week on Monday. Period p of a user is
 * counted from the period of the user's cohort event (p0 = the same period). With
 * #PERSONA_PERIOD_ROLLING, period p is instead the window [t0 + p·w, t0 + (p+1)·w) after
 * the time t0 of the user's cohort event.
 *
 * Thread-safety: a table is immutable except for persona_cohort_table_merge() and
 * persona_cohort_table_update(): any number of threads may call the const functions at
 * once; the two that modify it need exclusive access. Building reads a consistent view of
 * the store (ingest into the same store waits until the build is done). _free never
 * races with other calls on the same table.
 */
#ifndef PERSONA_COHORT_H
#define PERSONA_COHORT_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A built cohort, lifecycle or stickiness table. Immutable but for _merge and _update. */
typedef struct persona_cohort_table persona_cohort_table;

/** @name What a table holds (persona_cohort_options.kind). Values are permanent. */
/**@{*/
/** Acquisition cohorts: one row per cohort (the period of the users' cohort event, or a
 * first-touch property value), one column per period since (p0, p1, … or brackets). */
#define PERSONA_COHORT_RETENTION 0
/** One row per calendar period from the first to the last active period of the store;
 * columns new, returning, resurrecting, dormant (see persona_cohort_table_cell()). */
#define PERSONA_COHORT_LIFECYCLE 1
/** One row per number of active periods k = 1 … the periods of the range; one column,
 * the users active in exactly k of them. */
#define PERSONA_COHORT_STICKINESS 2
/**@}*/

/** Rolling windows (persona_cohort_options.period; the calendar periods are the
 * `PERSONA_PERIOD_*` constants of common.h, hour to year): windows of
 * persona_cohort_options.window_ms (default 24 hours) from each user's cohort event; rows
 * are still calendar periods, of persona_cohort_options.row_period. */
#define PERSONA_PERIOD_ROLLING 7

/** @name Cohort definitions (persona_cohort_options.cohort_by). Values are permanent. */
/**@{*/
/** The period of the user's first event of any type (the default). */
#define PERSONA_COHORT_BY_FIRST_EVENT 0
/** The period of the user's first event of type persona_cohort_options.cohort_event;
 * users without one are left out, and their events before it are not counted. */
#define PERSONA_COHORT_BY_FIRST_OF_TYPE 1
/** A first-touch property: the value of property persona_cohort_options.cohort_property
 * on the user's earliest event that has it (the earliest in the log among events at the
 * same time); users with no such event form the row "(none)". Periods count from the
 * user's first event of any type. */
#define PERSONA_COHORT_BY_PROPERTY 2
/**@}*/

/** @name Retention modes (persona_cohort_options.retention). Values are permanent. */
/**@{*/
/** Users with an active event in period p (the default). */
#define PERSONA_RETENTION_CLASSIC 0
/** Users with an active event in period p or any later period. */
#define PERSONA_RETENTION_UNBOUNDED 1
/**@}*/

/** @name Metrics. A metric id selects what persona_cohort_table_cell() reads; the build
 * computes users always and the others named in persona_cohort_options.metrics as the
 * bit (1u << id). Values are permanent. */
/**@{*/
#define PERSONA_COHORT_USERS 0   /**< distinct users (retention mode applies) */
#define PERSONA_COHORT_EVENTS 1  /**< active events */
#define PERSONA_COHORT_REVENUE 2 /**< exact sum of the active events' values (absent = 0) */
#define PERSONA_COHORT_RATE 3    /**< users / the cohort's size (needs only users) */
/** Cumulative revenue per cohort user: revenue of p0 … p divided by the cohort's size (the
 * LTV curve; needs REVENUE). */
#define PERSONA_COHORT_LTV 4
/**@}*/

/** @name Columns of a lifecycle table. Values are permanent. */
/**@{*/
#define PERSONA_LIFECYCLE_NEW 0          /**< first active period ever */
#define PERSONA_LIFECYCLE_RETURNING 1    /**< active in this period and the one before */
#define PERSONA_LIFECYCLE_RESURRECTING 2 /**< active now, not in the period before, active earlier */
#define PERSONA_LIFECYCLE_DORMANT 3      /**< active in the period before, not in this one */
/**@}*/

/** @name Export formats of persona_cohort_table_export(). Values are permanent. */
/**@{*/
/** Wide CSV of one metric. Retention: `cohort,size,p0,p1,…` (a bracket's column is named
 * `p2-3`, an open last bracket `p8+`); lifecycle: `period,new,returning,resurrecting,
 * dormant`; stickiness: `active_periods,users`. A suppressed cell is an empty field; a
 * retention cell after the end of the data for its cohort is empty too. Numbers are
 * integers or the shortest round-trip form. */
#define PERSONA_COHORT_EXPORT_CSV 1
/** One JSON object: the options, and per row its label, start, size and every built
 * metric per column (`null` when suppressed or past the data). */
#define PERSONA_COHORT_EXPORT_JSON 2
/**@}*/

/** Longest persona_cohort_options.brackets array and most rows of a property cohort. */
#define PERSONA_COHORT_MAX_BRACKETS 1024

/** How to build a table. Zero everywhere is a monthly classic retention table by first
 * event counting users. */
typedef struct persona_cohort_options {
    uint32_t struct_size; /**< sizeof(persona_cohort_options). @since 1.0 */
    int32_t kind;         /**< PERSONA_COHORT_RETENTION (0), _LIFECYCLE, _STICKINESS. @since 1.0 */
    /** Column periods: a calendar `PERSONA_PERIOD_*` of common.h (hour … year; 0 = month)
     * or #PERSONA_PERIOD_ROLLING (retention only). @since 1.0 */
    int32_t period;
    /** Row periods with #PERSONA_PERIOD_ROLLING (0 = month; calendar only). @since 1.0 */
    int32_t row_period;
    /** Rolling window length in ms (0 = 24 hours); only with #PERSONA_PERIOD_ROLLING. @since 1.0 */
    int64_t window_ms;
    /** Offset of local time from UTC in minutes, −1440 … 1440 (0 = UTC). @since 1.0 */
    int32_t utc_offset_minutes;
    int32_t cohort_by; /**< PERSONA_COHORT_BY_* (0 = first event). @since 1.0 */
    const char *cohort_event;    /**< the type for #PERSONA_COHORT_BY_FIRST_OF_TYPE. @since 1.0 */
    const char *cohort_property; /**< the property for #PERSONA_COHORT_BY_PROPERTY. @since 1.0 */
    int32_t retention; /**< PERSONA_RETENTION_* (0 = classic). @since 1.0 */
    /** Bit (1u << metric) per extra metric: EVENTS, REVENUE (0 = users only). @since 1.0 */
    uint32_t metrics;
    /** Event types that make a user active (and are the events counted and summed);
     * NULL / 0 = every type. Unknown types are allowed (they match nothing). @since 1.0 */
    const char *const *active_types;
    size_t n_active_types; /**< entries in active_types. @since 1.0 */
    /** Period brackets: first periods of the columns, strictly increasing, starting at 0,
     * e.g. {0, 1, 2, 4} for the columns 0, 1, 2–3, 4–(periods−1). NULL / 0 = one column
     * per period. @since 1.0 */
    const uint32_t *brackets;
    size_t n_brackets; /**< entries in brackets. @since 1.0 */
    /** Periods kept: p0 … p(periods−1); later activity is not counted (0 = all). @since 1.0 */
    uint32_t periods;
    /** Cells (and cohort sizes) covering fewer than this many users read as suppressed
     * (0 = none). The saved table keeps the true counts. @since 1.0 */
    uint32_t min_users;
    /** Count only users who granted consent for this purpose (NULL = everyone). @since 1.0 */
    const char *consent_purpose;
    /** Time range [from_ms, to_ms) (0 = open; a bound must lie in #PERSONA_TIME_MIN …
     * #PERSONA_TIME_MAX): retention rows are the cohorts whose cohort event falls in it;
     * lifecycle and stickiness rows are the periods it touches. @since 1.0 */
    int64_t from_ms;
    int64_t to_ms; /**< end of the range, exclusive (0 = open). @since 1.0 */
    /** Threads of the scan (0 = the machine's cores, at most 8); the result is the same
     * for any number. @since 1.0 */
    int32_t threads;
} persona_cohort_options;

/** Initializer: `persona_cohort_options o = PERSONA_COHORT_OPTIONS_INIT;`. */
#define PERSONA_COHORT_OPTIONS_INIT { sizeof(persona_cohort_options), 0, 0, 0, 0, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL, 0, 0, 0, NULL, 0, 0, 0 }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_cohort_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_cohort_options_init(persona_cohort_options *opts, uint32_t struct_size);

/**
 * Build a cohort, lifecycle or stickiness table from the events of a store.
 * @param[out] out   the new table, freed with persona_cohort_table_free(); NULL on failure.
 * @param[in]  store the store (read under its lock; not borrowed).
 * @param[in]  opts  the options; NULL = all defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (bad options: the message names the field —
 *         unknown kind or period, offset out of range, brackets not increasing from 0, a
 *         missing cohort event type or property, rolling windows for lifecycle, a range
 *         bound outside the accepted times, …; or a table too big: more than
 *         #PERSONA_COHORT_MAX_BRACKETS property rows, cells over 2^24 or 1 GiB);
 *         #PERSONA_ENOMEM; #PERSONA_EUNSUPPORTED (a newer caller's options).
 * @since 1.0
 */
PERSONA_API int persona_cohort_build(persona_cohort_table **out, const persona_store *store,
                                     const persona_cohort_options *opts);

/**
 * Release a table. NULL is a no-op.
 * @param[in] table the table.
 * @since 1.0
 */
PERSONA_API void persona_cohort_table_free(persona_cohort_table *table);

/**
 * What the table holds.
 * @param[out] out   PERSONA_COHORT_RETENTION, _LIFECYCLE or _STICKINESS.
 * @param[in]  table the table.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_kind(int32_t *out, const persona_cohort_table *table);

/**
 * Number of rows: cohorts (sorted by period, or by property value bytewise with "(none)"
 * last), lifecycle periods, or stickiness counts 1 … n.
 * @param[out] out   the number of rows.
 * @param[in]  table the table.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_rows(size_t *out, const persona_cohort_table *table);

/**
 * Number of columns: periods p0 … (or brackets) of a retention table, 4 for lifecycle,
 * 1 for stickiness.
 * @param[out] out   the number of columns.
 * @param[in]  table the table.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_cols(size_t *out, const persona_cohort_table *table);

/**
 * Read one cell.
 * @param[out] value_out      the value; NaN when suppressed or not available: a period
 *                            that starts after the store's last event for this cohort
 *                            (property cohorts: for a user whose first event is the
 *                            store's first, or from_ms when later).
 * @param[out] suppressed_out 1 when the cell covers fewer than min_users users, else 0;
 *                            may be NULL.
 * @param[in]  table          the table.
 * @param[in]  row, col       the cell (0-based).
 * @param[in]  metric         PERSONA_COHORT_USERS, _EVENTS, _REVENUE, _RATE, _LTV for a
 *                            retention table; PERSONA_COHORT_USERS for lifecycle (columns
 *                            PERSONA_LIFECYCLE_*) and stickiness.
 * @return #PERSONA_OK; #PERSONA_EINVAL (row, col or metric out of range);
 *         #PERSONA_EUNSUPPORTED (a metric the table was not built with).
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_cell(double *value_out, int32_t *suppressed_out,
                                          const persona_cohort_table *table, size_t row,
                                          size_t col, int32_t metric);

/**
 * Users in a cohort (a retention row); for lifecycle and stickiness rows, the users active
 * in that period / counted in that row.
 * @param[out] size_out       the number of users; 0 when suppressed.
 * @param[out] suppressed_out 1 when fewer than min_users, else 0; may be NULL.
 * @param[in]  table          the table.
 * @param[in]  row            the row.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_size(uint64_t *size_out, int32_t *suppressed_out,
                                          const persona_cohort_table *table, size_t row);

/**
 * Label of a row: its period's persona_time_label() ("2024-03", "2024-03-07",
 * "2024-W10", "2024-Q1", …), the property value or "(none)", or the count ("3") of a
 * stickiness row.
 * @param[out] buf      receives the NUL-terminated label; may be NULL when capacity is 0.
 * @param[in]  capacity size of buf.
 * @param[out] out_len  the label's length without the NUL; may be NULL.
 * @param[in]  table    the table.
 * @param[in]  row      the row.
 * @return #PERSONA_OK; #PERSONA_EBUFS (with the length needed); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_label(char *buf, size_t capacity, size_t *out_len,
                                           const persona_cohort_table *table, size_t row);

/**
 * Label of a column: "p0", "p1", a bracket "p2-3" or "p8+", or a lifecycle / stickiness
 * column name ("new", "returning", "resurrecting", "dormant", "users").
 * @param[out] buf, capacity, out_len as for persona_cohort_table_label().
 * @param[in]  table the table.
 * @param[in]  col   the column.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_col_label(char *buf, size_t capacity, size_t *out_len,
                                               const persona_cohort_table *table, size_t col);

/**
 * Start of a row's period (local midnight of its first day, as UTC ms).
 * @param[out] out   the start.
 * @param[in]  table the table.
 * @param[in]  row   the row.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (a property cohort or a stickiness row has no
 *         period); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_row_start(int64_t *out, const persona_cohort_table *table,
                                               size_t row);

/**
 * Export the table.
 * @param[in] table  the table.
 * @param[in] format #PERSONA_COHORT_EXPORT_CSV or #PERSONA_COHORT_EXPORT_JSON.
 * @param[in] metric the metric of a CSV export (ignored for JSON).
 * @param[in] write  called with consecutive pieces of the output, on the calling thread.
 * @param[in] ctx    passed to write.
 * @return #PERSONA_OK; #PERSONA_ECALLBACK (write failed); #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL; #PERSONA_EUNSUPPORTED (a metric not built).
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_export(const persona_cohort_table *table, int32_t format,
                                            int32_t metric, persona_write_fn write, void *ctx);

/**
 * Export the table into one buffer.
 * @param[out] out     NUL-terminated text owned by the caller (persona_free()); NULL on failure.
 * @param[out] out_len its length without the NUL; may be NULL.
 * @param[in]  table, format, metric as for persona_cohort_table_export().
 * @return as persona_cohort_table_export(), without #PERSONA_ECALLBACK.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_export_buffer(char **out, size_t *out_len,
                                                   const persona_cohort_table *table,
                                                   int32_t format, int32_t metric);

/**
 * Add a partial table computed on other users into `into`. Both must have been built
 * with the same options (kind, periods, offset, cohort definition, retention, metrics,
 * active types, brackets, periods, min_users, consent purpose, range) from stores whose
 * users are disjoint; the result equals a table built over the union of their events.
 * Rows are united by label; `into` stops being updatable (persona_cohort_table_update()).
 * @param[in,out] into the table that receives the counts; unchanged on failure.
 * @param[in]     from the partial to add (may be freed afterwards).
 * @return #PERSONA_OK; #PERSONA_EINVAL (options differ: the message names the first
 *         difference; `into` == `from`); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_merge(persona_cohort_table *into,
                                           const persona_cohort_table *from);

/**
 * Bring a table up to date with the store it was built from: count the events ingested
 * since the build (or the last update). The result equals persona_cohort_build() on the
 * store now. The work is proportional to the new events, the history of the users they
 * belong to and one pass over the store's user table; after a link, unmerge or erase in
 * the store (or a consent change, when consent_purpose is set) the table is rebuilt.
 * @param[in,out] table the table; unchanged on failure.
 * @param[in]     store the store it was built from.
 * @return #PERSONA_OK; #PERSONA_EMISUSE (another store, or a merged or loaded table);
 *         #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_update(persona_cohort_table *table,
                                            const persona_store *store);

/**
 * Save a table as a snapshot (written to a temporary file and renamed: a crash leaves the
 * old file or the new one).
 * @param[in] table the table.
 * @param[in] path  the file.
 * @return #PERSONA_OK; #PERSONA_EIO (the message names the path and step); #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_save(const persona_cohort_table *table, const char *path);

/**
 * Load a table saved with persona_cohort_table_save().
 * @param[out] out  the table; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ECORRUPT (damaged or not a cohort table);
 *         #PERSONA_EVERSION (a newer format); #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_cohort_table_load(persona_cohort_table **out, const char *path);

#ifdef __cplusplus
}
#endif

#endif
