/**
 * @file event.h
 * @brief The event record, the attribute record, reject reasons, and the options and
 *        statistics of ingesting events (shared by store.h and source.h).
 *
 * Thread-safety: plain data; nothing here is shared state.
 */
#ifndef PERSONA_EVENT_H
#define PERSONA_EVENT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest key (user, item, basket, event type, event id, property value) in bytes. */
#define PERSONA_MAX_KEY_LEN 4096

/**
 * One event, filled by the caller. Strings are NUL-terminated UTF-8, borrowed for the
 * duration of the call only. Zero / NULL means absent for every optional field.
 */
typedef struct persona_event {
    uint32_t struct_size;           /**< sizeof(persona_event). @since 1.0 */
    uint32_t reserved;              /**< must be 0. @since 1.0 */
    const char *user;               /**< user key, required, non-empty. @since 1.0 */
    int64_t time_ms;                /**< required: ms since the epoch, UTC, in [PERSONA_TIME_MIN, PERSONA_TIME_MAX] (0 is 1970-01-01, not "absent"). @since 1.0 */
    const char *type;               /**< event type; NULL = "event"; "" is rejected. @since 1.0 */
    const char *item;               /**< item key, optional. @since 1.0 */
    double value;                   /**< monetary value; NaN = absent (0 adds nothing either). @since 1.0 */
    const char *event_id;           /**< id for deduplication, optional. @since 1.0 */
    const char *basket;             /**< basket / order id, optional (orders = distinct baskets). @since 1.0 */
    const char *const *prop_names;  /**< names of named properties (`category`, `referrer`, …). @since 1.0 */
    const char *const *prop_values; /**< their values; NULL or "" = absent. @since 1.0 */
    size_t n_props;                 /**< number of named properties. @since 1.0 */
} persona_event;

/** Designated initializer for #persona_event (no value: 0 adds nothing to sums). */
#define PERSONA_EVENT_INIT { sizeof(persona_event), 0, NULL, 0, NULL, NULL, 0.0, NULL, NULL, NULL, NULL, 0 }

/**
 * Initialize an event: all fields absent, value 0.
 * @param[out] event       the event.
 * @param[in]  struct_size sizeof(persona_event) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_event_init(persona_event *event, uint32_t struct_size);

/** @name Reasons a row or event is rejected (index into persona_ingest_stats.rejected). */
/**@{*/
#define PERSONA_REJECT_MISSING_USER 0  /**< no user key, or an empty one */
#define PERSONA_REJECT_BAD_TIME 1      /**< time missing, unparsable or out of range */
#define PERSONA_REJECT_BAD_NUMBER 2    /**< value not a finite number */
#define PERSONA_REJECT_BAD_UTF8 3      /**< a field is not valid UTF-8 */
#define PERSONA_REJECT_FIELD_COUNT 4   /**< a CSV row with a different number of fields than the header */
#define PERSONA_REJECT_DUPLICATE_ID 5  /**< event id seen before */
#define PERSONA_REJECT_TOO_LONG 6      /**< a field longer than PERSONA_MAX_KEY_LEN, or a row over the row limit */
#define PERSONA_REJECT_MISSING_EVENT 7 /**< the event-type field is empty */
#define PERSONA_REJECT_BAD_QUOTE 8     /**< CSV quoting broken (stray or unterminated quote) */
#define PERSONA_REJECT_BAD_JSON 9      /**< a JSONL line is not one JSON object */
#define PERSONA_REJECT_WRONG_TYPE 10   /**< a JSON member has a type that cannot be used (object for a user) */
#define PERSONA_REJECT_NUL_BYTE 11     /**< a field contains a NUL byte */
#define PERSONA_REJECT_SUPPRESSED 12   /**< the user opted out of tracking (persona_store_set_tracking()): not stored; never an error, even in strict mode */
#define PERSONA_REJECT_BAD_IDENTIFIER 13 /**< an identify event (persona_store_identify_rule()) carries an identifier that does not normalize or clashes with a known one of another type */
#define PERSONA_REJECT_BAD_CONSENT 14  /**< a consent event (persona_store_consent_rule()) without a purpose or with a granted value that is not yes/no */
#define PERSONA_REJECT_COUNT 15        /**< number of reasons this version knows */
#define PERSONA_REJECT_SLOTS 32        /**< size of the per-reason arrays (room for new reasons) */
#define PERSONA_REJECT_EXAMPLES 4      /**< line numbers kept per reason */
/**@}*/

/**
 * Short snake_case name of a reject reason ("missing_user", "bad_time", …).
 * @param reason a `PERSONA_REJECT_*` value.
 * @return a static string; "unknown" for values this library does not know.
 * @since 1.0
 */
PERSONA_API const char *persona_reject_reason_name(int32_t reason);

/** What an ingest or load did. Filled by the library up to the caller's struct_size. */
typedef struct persona_ingest_stats {
    uint32_t struct_size;     /**< set by the caller: sizeof(persona_ingest_stats). @since 1.0 */
    uint32_t reserved;        /**< 0. @since 1.0 */
    uint64_t rows_read;       /**< rows / events / lines seen (header excluded). @since 1.0 */
    uint64_t bytes_read;      /**< input bytes consumed (file sources). @since 1.0 */
    uint64_t events_accepted; /**< events applied to the store. @since 1.0 */
    uint64_t events_rejected; /**< rows or events skipped; the sum of `rejected`. @since 1.0 */
    uint64_t rejected[PERSONA_REJECT_SLOTS]; /**< per `PERSONA_REJECT_*` reason. @since 1.0 */
    uint64_t example_lines[PERSONA_REJECT_SLOTS][PERSONA_REJECT_EXAMPLES]; /**< first lines per reason (1-based; 0 = none). @since 1.0 */
    uint64_t users_created;   /**< profiles that did not exist before. @since 1.0 */
} persona_ingest_stats;

/** Initializer for #persona_ingest_stats (struct_size set, the rest 0). */
#define PERSONA_INGEST_STATS_INIT { sizeof(persona_ingest_stats), 0, 0, 0, 0, 0, { 0 }, { { 0 } }, 0 }

/** Flags of #persona_ingest_options. */
#define PERSONA_INGEST_STRICT 1u /**< the first bad row fails the call (#PERSONA_EPARSE naming it) */

/**
 * Progress callback: called on the calling thread about every `progress_every` rows.
 * Return 0 to go on, a negative value to stop the load with #PERSONA_ECALLBACK.
 */
typedef int (*persona_progress_fn)(void *ctx, uint64_t rows, uint64_t bytes);

/** Options of persona_store_ingest() and persona_store_load(). Zero means default. */
typedef struct persona_ingest_options {
    uint32_t struct_size;         /**< sizeof(persona_ingest_options). @since 1.0 */
    uint32_t flags;               /**< `PERSONA_INGEST_*` flags. @since 1.0 */
    persona_progress_fn progress; /**< optional progress callback. @since 1.0 */
    void *progress_ctx;           /**< passed to progress. @since 1.0 */
    uint64_t progress_every;      /**< rows between progress calls; 0 = 1,048,576. @since 1.0 */
} persona_ingest_options;

/** Designated initializer for #persona_ingest_options. */
#define PERSONA_INGEST_OPTIONS_INIT { sizeof(persona_ingest_options), 0, NULL, NULL, 0 }

/**
 * Initialize ingest options to their defaults.
 * @param[out] opts        the options.
 * @param[in]  struct_size sizeof(persona_ingest_options) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_ingest_options_init(persona_ingest_options *opts, uint32_t struct_size);

/**
 * Initialize a stats struct (struct_size set, everything else 0).
 * @param[out] stats       the stats.
 * @param[in]  struct_size sizeof(persona_ingest_stats) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_ingest_stats_init(persona_ingest_stats *stats, uint32_t struct_size);

/**
 * One host-set profile attribute, filled by the caller (used by data sources that also
 * deliver profile attributes). Strings are borrowed for the duration of the call.
 */
typedef struct persona_attribute {
    uint32_t struct_size; /**< sizeof(persona_attribute). @since 1.0 */
    int32_t type;         /**< PERSONA_NULL, _NUM, _STR, _BOOL or _TIME. @since 1.0 */
    const char *user;     /**< user key, required. @since 1.0 */
    const char *name;     /**< attribute name, required. @since 1.0 */
    double num;           /**< value when type is PERSONA_NUM. @since 1.0 */
    const char *str;      /**< value when type is PERSONA_STR. @since 1.0 */
    int64_t time_ms;      /**< value when type is PERSONA_TIME. @since 1.0 */
    int32_t boolean;      /**< value when type is PERSONA_BOOL (non-zero = true). @since 1.0 */
    int32_t reserved;     /**< must be 0. @since 1.0 */
} persona_attribute;

/** Initializer for #persona_attribute (type PERSONA_NULL, everything absent). */
#define PERSONA_ATTRIBUTE_INIT { sizeof(persona_attribute), 0, NULL, NULL, 0.0, NULL, 0, 0, 0 }

/**
 * Initialize an attribute record (type PERSONA_NULL, everything absent).
 * @param[out] attr        the record.
 * @param[in]  struct_size sizeof(persona_attribute) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_attribute_init(persona_attribute *attr, uint32_t struct_size);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_EVENT_H */
