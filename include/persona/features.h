/**
 * @file features.h
 * @brief Feature matrices from the profiles of a store: traits, per-type counts and values,
 *        recency, attributes, category engagement and one-hot levels, with log1p and
 *        standardization kept in the result, grouped in named views; the input of
 *        persona_kmeans_fit() and the other clustering builders.
 *
 * Lifecycle: persona_features_build() reads a store under a spec (a small text language,
 * docs/features.md) and returns a #persona_features; persona_features_free() releases it.
 * A result never borrows from the store it was built from: either may be freed first.
 *
 * The spec: views separated by `;`, each `NAME: TERM, TERM, …` (no name when there is one
 * view: it is called "all"); a term is a trait (`events sessions orders value_sum
 * event_types attributes recency_days tenure_days`), `count(TYPE)`, `value(TYPE)`,
 * `attr(NAME)`, `engagement(CATEGORY)`, `onehot(attr(NAME)[, LEVELS])` or
 * `onehot(last(PROPERTY)[, LEVELS])`, optionally wrapped in `log1p(…)` or `slog1p(…)`
 * and in `raw(…)` (not standardized), optionally followed by `as NAME`. Example:
 * `behaviour: log1p(events), sessions; transactions: log1p(value(purchase)), recency_days`.
 *
 * Rows: every profile of the store, in the store's profile order (a profile of linked
 * identifiers once, named by the key persona_store_resolve() gives). Columns: in spec
 * order, a one-hot term giving one column per level; the columns of a view are contiguous.
 * A value is computed raw, then log1p / slog1p, then a missing value (no such attribute,
 * recency of a profile without events) is filled with the column's mean over the users
 * that have it (0 when none has), then standardized to (x − mean) / sd with the
 * population sd (a column without spread gives 0). The fill, mean and sd are kept, so
 * persona_features_transform() gives a user's row exactly as the build did.
 *
 * Thread-safety: a result is immutable: any number of threads may call the const functions
 * at once. Building reads a consistent view of the store (ingest into the same store waits
 * until the build is done). _free never races with other calls on it.
 */
#ifndef PERSONA_FEATURES_H
#define PERSONA_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"
#include "persona/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A feature matrix built from a store, with its spec, columns, views and transforms.
 * Immutable. */
typedef struct persona_features persona_features;

/** @name Limits. */
/**@{*/
#define PERSONA_FEATURES_MAX_SPEC 65536   /**< most bytes of a spec */
#define PERSONA_FEATURES_MAX_COLUMNS 4096 /**< most columns (#PERSONA_KMEANS_MAX_D) */
#define PERSONA_FEATURES_MAX_LEVELS 1000  /**< most named levels of a one-hot term */
#define PERSONA_FEATURES_DEFAULT_LEVELS 10 /**< named levels of a one-hot term by default */
/**@}*/

/** @name Flags (persona_features_options.flags). */
/**@{*/
/** No standardization of any column: values after log1p and the missing-value fill. */
#define PERSONA_FEATURES_RAW 1u
/**@}*/

/** @name Transforms of a column (persona_features_column.transform). Values are permanent. */
/**@{*/
#define PERSONA_FEATURES_IDENTITY 0 /**< the value as computed */
#define PERSONA_FEATURES_LOG1P 1    /**< log(1 + x), x >= 0 */
#define PERSONA_FEATURES_SLOG1P 2   /**< sign(x) · log(1 + |x|) */
/**@}*/

/** How to build. Zero everywhere: standardized columns, as of the store's latest event,
 * #PERSONA_FEATURES_DEFAULT_LEVELS levels per one-hot term. */
typedef struct persona_features_options {
    uint32_t struct_size; /**< sizeof(persona_features_options). @since 1.0 */
    /** #PERSONA_FEATURES_RAW or 0 (other bits must be 0). @since 1.0 */
    uint32_t flags;
    /** Time recency_days, tenure_days, time attributes and engagement are measured at, ms
     * since the epoch in #PERSONA_TIME_MIN … #PERSONA_TIME_MAX (0 = the store's latest
     * event time; 0 for a store without events). @since 1.0 */
    int64_t as_of_ms;
    /** Named levels of a one-hot term whose spec gives none, 1 …
     * #PERSONA_FEATURES_MAX_LEVELS (0 = #PERSONA_FEATURES_DEFAULT_LEVELS). @since 1.0 */
    uint32_t max_levels;
    uint32_t reserved; /**< must be 0. @since 1.0 */
} persona_features_options;

/** Initializer: `persona_features_options o = PERSONA_FEATURES_OPTIONS_INIT;`. */
#define PERSONA_FEATURES_OPTIONS_INIT { sizeof(persona_features_options), 0, 0, 0, 0 }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_features_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_features_options_init(persona_features_options *opts,
                                              uint32_t struct_size);

/** Sizes of a result. Filled by the library up to the caller's struct_size. */
typedef struct persona_features_info {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_features_info). @since 1.0 */
    uint32_t views;       /**< views (named groups of columns), >= 1. @since 1.0 */
    uint64_t n;           /**< rows: users. @since 1.0 */
    uint64_t d;           /**< columns. @since 1.0 */
    int64_t as_of_ms;     /**< the time measured at (the default resolved). @since 1.0 */
    uint32_t flags;       /**< the options' flags. @since 1.0 */
    uint32_t reserved;    /**< 0. @since 1.0 */
} persona_features_info;

/** Initializer for #persona_features_info (struct_size set, the rest 0). */
#define PERSONA_FEATURES_INFO_INIT { sizeof(persona_features_info), 0, 0, 0, 0, 0, 0 }

/**
 * Prepare an info struct (struct_size set, the rest 0).
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof(persona_features_info) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_features_info_init(persona_features_info *info, uint32_t struct_size);

/** One column: its view and transforms. Filled by the library up to the caller's
 * struct_size. */
typedef struct persona_features_column {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_features_column). @since 1.0 */
    uint32_t view;        /**< the view it belongs to. @since 1.0 */
    /** #PERSONA_FEATURES_IDENTITY, _LOG1P or _SLOG1P. @since 1.0 */
    int32_t transform;
    /** 1 when standardized, 0 when not (raw() or #PERSONA_FEATURES_RAW). @since 1.0 */
    uint32_t standardized;
    /** Value given to a user without one (after the transform). @since 1.0 */
    double fill;
    /** Mean subtracted (0 when not standardized). @since 1.0 */
    double mean;
    /** Population standard deviation divided by (1 when not standardized; 0 for a column
     * without spread, whose values are then all 0). @since 1.0 */
    double sd;
    /** Users that had a value (the others got the fill). @since 1.0 */
    uint64_t present;
} persona_features_column;

/** Initializer for #persona_features_column (struct_size set, the rest 0). */
#define PERSONA_FEATURES_COLUMN_INIT { sizeof(persona_features_column), 0, 0, 0, 0.0, 0.0, 0.0, 0 }

/**
 * Prepare a column struct (struct_size set, the rest 0).
 * @param[out] column      the struct.
 * @param[in]  struct_size sizeof(persona_features_column) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_features_column_init(persona_features_column *column,
                                             uint32_t struct_size);

/**
 * Build the feature matrix of every profile of a store.
 * @param[out] out   the result, freed with persona_features_free(); NULL on failure.
 * @param[in]  store the store (read under its lock; not borrowed).
 * @param[in]  spec  the spec (docs/features.md), NUL-terminated UTF-8 (copied).
 * @param[in]  opts  the options; NULL = all defaults.
 * @return #PERSONA_OK; #PERSONA_EPARSE (the spec: persona_error_position() gives the line
 *         and column, the message starts with them); #PERSONA_EINVAL (NULL out, store or
 *         spec, a spec longer than #PERSONA_FEATURES_MAX_SPEC, bad options, more than
 *         #PERSONA_FEATURES_MAX_COLUMNS columns, two columns of one name, and values:
 *         a negative value under log1p, a string attribute under attr() or another type
 *         under onehot(attr()), a value that is not finite — the message names the column
 *         and the user); #PERSONA_ENOMEM; #PERSONA_EUNSUPPORTED (a newer caller's options).
 * @since 1.0
 */
PERSONA_API int persona_features_build(persona_features **out, const persona_store *store,
                                       const char *spec, const persona_features_options *opts);

/**
 * Release a result. NULL is a no-op.
 * @param[in] features the result.
 * @since 1.0
 */
PERSONA_API void persona_features_free(persona_features *features);

/**
 * Sizes of a result.
 * @param[out] info     filled up to its struct_size (which the caller sets).
 * @param[in]  features the result.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, bad struct_size).
 * @since 1.0
 */
PERSONA_API int persona_features_info_get(persona_features_info *info,
                                          const persona_features *features);

/**
 * The matrix, n × d doubles row-major (rows in user order, columns in spec order).
 * @param[out] out      room for `capacity` doubles (may be NULL when n × d is 0).
 * @param[in]  capacity its size in doubles.
 * @param[in]  features the result.
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity < n × d; nothing written); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_features_matrix(double *out, size_t capacity,
                                        const persona_features *features);

/**
 * Name of a column: the term's `as` name, else its canonical text (`log1p(count(view))`);
 * a one-hot level is `PREFIX=VALUE` or `PREFIX=other` with PREFIX the `as` name or the
 * inner term (`attr(country)`).
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  features the result.
 * @param[in]  column   0 … d-1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (column out of range);
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_features_column_name(char *buf, size_t capacity, size_t *out_len,
                                             const persona_features *features, size_t column);

/**
 * View, transforms, fill, mean and sd of a column.
 * @param[out] out      filled up to its struct_size (which the caller sets).
 * @param[in]  features the result.
 * @param[in]  column   0 … d-1.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (column out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_features_column_get(persona_features_column *out,
                                            const persona_features *features, size_t column);

/**
 * Name of a view ("all" for a spec without view names).
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  features the result.
 * @param[in]  view     0 … views-1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (view out of range);
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_features_view_name(char *buf, size_t capacity, size_t *out_len,
                                           const persona_features *features, uint32_t view);

/**
 * The columns of a view: first … first + count − 1.
 * @param[out] first_out the first column; may be NULL.
 * @param[out] count_out the number of columns (>= 1); may be NULL.
 * @param[in]  features  the result.
 * @param[in]  view      0 … views-1.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (view out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_features_view_columns(size_t *first_out, size_t *count_out,
                                              const persona_features *features, uint32_t view);

/**
 * Key of the user of a row.
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  features the result.
 * @param[in]  row      0 … n-1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (row out of range);
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_features_user_at(char *buf, size_t capacity, size_t *out_len,
                                         const persona_features *features, size_t row);

/**
 * One user's row computed now from a store with the result's spec, as_of time, one-hot
 * levels (a value that is not a level goes to `other`, or to no column when the term has
 * none), fills, means and sds: for a user of the build and an unchanged store, exactly
 * the user's row of the matrix. The way to give a new or changed user to
 * persona_kmeans_predict().
 * @param[out] out      d doubles.
 * @param[in]  capacity room in out, at least d.
 * @param[in]  features the result.
 * @param[in]  store    the store (any store; read under its lock).
 * @param[in]  user     the user key.
 * @return #PERSONA_OK; #PERSONA_EBUFS (nothing written); #PERSONA_ENOTFOUND (no such user);
 *         #PERSONA_EINVAL (NULL, and the value errors of persona_features_build());
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_features_transform(double *out, size_t capacity,
                                           const persona_features *features,
                                           const persona_store *store, const char *user);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_FEATURES_H */
