/**
 * @file source.h
 * @brief Data sources: pull streams of events (CSV, JSON Lines, arrays, or the caller's
 *        own vtable) and persona_store_load(), which drains one into a store.
 *
 * Lifecycle: a source is made by persona_source_new() (caller's vtable),
 * persona_source_open_csv() / _open_csv_memory(), persona_source_open_jsonl() /
 * _open_jsonl_memory() or persona_source_from_arrays(), consumed by persona_store_load(),
 * and destroyed by persona_source_free().
 *
 * Built-in sources stream with bounded memory: a CSV or JSONL file is read in blocks and
 * one row is held at a time (a row longer than `max_row_bytes` is rejected, not buffered).
 * Rows that cannot become events are counted by reason (event.h) and skipped.
 *
 * Column mapping (#persona_mapping): names of CSV header columns or of top-level JSON
 * members. A NULL field means its default: user `user_id`, time `timestamp`, event `event`
 * when that column exists (else the constant "event"), value `value` when it exists.
 * A name given explicitly must exist. `value` may be `A*B`: the product of two numeric
 * columns (e.g. `Quantity*UnitPrice`). An empty value cell means "no value".
 *
 * Thread-safety: single-thread. A source is used by one thread at a time (it may move
 * between threads); its callbacks run only on the thread that called persona_store_load().
 */
#ifndef PERSONA_SOURCE_H
#define PERSONA_SOURCE_H

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The caller's source. Every callback takes `ctx` first and returns 0 or a negative value;
 * a negative return stops the consuming call with #PERSONA_ECALLBACK.
 */
typedef struct persona_source_vtable {
    uint32_t struct_size; /**< sizeof(persona_source_vtable). @since 1.0 */
    uint32_t reserved;    /**< must be 0. @since 1.0 */
    /** Required. Produce the next batch: `*events_out` and `*count_out`; a count of 0 means
     * the end. The batch is borrowed until the next call to any callback. @since 1.0 */
    int (*next)(void *ctx, const persona_event **events_out, size_t *count_out);
    /** Optional. Restart from the first event. @since 1.0 */
    int (*rewind)(void *ctx);
    /** Optional. After the events, produce batches of profile attributes the same way
     * (count 0 = end). @since 1.0 */
    int (*next_attributes)(void *ctx, const persona_attribute **attrs_out, size_t *count_out);
    /** Optional. Release ctx; called exactly once, by persona_source_free(). Its return
     * value is ignored. @since 1.0 */
    int (*close)(void *ctx);
} persona_source_vtable;

/** Initializer for #persona_source_vtable (no callbacks; set at least `next`). */
#define PERSONA_SOURCE_VTABLE_INIT { sizeof(persona_source_vtable), 0, NULL, NULL, NULL, NULL }

/**
 * Initialize a vtable (no callbacks; set at least `next` before persona_source_new()).
 * @param[out] vtable      the vtable.
 * @param[in]  struct_size sizeof(persona_source_vtable) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_source_vtable_init(persona_source_vtable *vtable, uint32_t struct_size);

/**
 * Wrap the caller's vtable in a source.
 * @param[out] out    the source; NULL on failure.
 * @param[in]  vtable the callbacks (copied up to its struct_size; `next` required).
 * @param[in]  ctx    passed to every callback; owned by the caller until `close`.
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL, no `next`, bad struct_size);
 *         #PERSONA_EUNSUPPORTED (a newer vtable with callbacks this library does not know).
 *         On failure `close` is not called.
 * @since 1.0
 */
PERSONA_API int persona_source_new(persona_source **out, const persona_source_vtable *vtable,
                                   void *ctx);

/**
 * Destroy a source, calling its `close` exactly once.
 * @param[in] source the source, or NULL (no-op).
 * @since 1.0
 */
PERSONA_API void persona_source_free(persona_source *source);

/**
 * Restart a source from its first event.
 * @param[in] source the source.
 * @return #PERSONA_OK; #PERSONA_EUNSUPPORTED (no rewind: standard input, a vtable without
 *         one); #PERSONA_EIO; #PERSONA_ECALLBACK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_source_rewind(persona_source *source);

/** Column mapping: which columns (or JSON members) make which event fields. */
typedef struct persona_mapping {
    uint32_t struct_size;         /**< sizeof(persona_mapping). @since 1.0 */
    int32_t time_offset_minutes;  /**< offset of times written without a zone, [-1440, 1440]. @since 1.0 */
    const char *user;             /**< user key column; NULL = "user_id". @since 1.0 */
    const char *time;             /**< time column; NULL = "timestamp". @since 1.0 */
    const char *time_format;      /**< persona_time_parse() format; NULL = "auto". @since 1.0 */
    const char *event;            /**< event type column; NULL = "event" if present. @since 1.0 */
    const char *event_const;      /**< constant event type; when set and `event` is not, every event gets it even if an `event` column exists; NULL = "event". @since 1.0 */
    const char *item;             /**< item column, optional. @since 1.0 */
    const char *basket;           /**< basket / order id column, optional. @since 1.0 */
    const char *event_id;         /**< event id column (deduplication), optional. @since 1.0 */
    const char *value;            /**< value column or `A*B`; NULL = "value" if present. @since 1.0 */
    const char *const *prop_names;   /**< property names (e.g. "country"). @since 1.0 */
    const char *const *prop_columns; /**< the column of each property. @since 1.0 */
    size_t n_props;               /**< number of properties. @since 1.0 */
} persona_mapping;

/** Designated initializer for #persona_mapping (all defaults). */
#define PERSONA_MAPPING_INIT { sizeof(persona_mapping), 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/**
 * Initialize a mapping to its defaults.
 * @param[out] map the mapping. @param[in] struct_size sizeof(persona_mapping).
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_mapping_init(persona_mapping *map, uint32_t struct_size);

/** CSV dialect and limits. */
typedef struct persona_csv_options {
    uint32_t struct_size;  /**< sizeof(persona_csv_options). @since 1.0 */
    uint32_t delimiter;    /**< field delimiter byte (not `"`, CR or LF); 0 = ','. @since 1.0 */
    uint32_t flags;        /**< reserved, must be 0. @since 1.0 */
    uint32_t reserved;     /**< must be 0. @since 1.0 */
    size_t max_row_bytes;  /**< longest row kept; longer rows are rejected (too_long); 0 = 1 MiB. @since 1.0 */
} persona_csv_options;

/** Designated initializer for #persona_csv_options. */
#define PERSONA_CSV_OPTIONS_INIT { sizeof(persona_csv_options), 0, 0, 0, 0 }

/**
 * Initialize CSV options to their defaults.
 * @param[out] opts the options. @param[in] struct_size sizeof(persona_csv_options).
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_csv_options_init(persona_csv_options *opts, uint32_t struct_size);

/**
 * Open a CSV file (RFC 4180: header row, quoted fields with embedded delimiters, newlines
 * and doubled quotes, CRLF or LF, optional UTF-8 BOM). The header is read at once.
 * @param[out] out  the source; NULL on failure.
 * @param[in]  path file path.
 * @param[in]  csv  dialect, or NULL for defaults.
 * @param[in]  map  mapping, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_EIO (cannot open or read: message names the path);
 *         #PERSONA_EPARSE (no header row, or a header that is not valid CSV / UTF-8);
 *         #PERSONA_EINVAL (a mapped column missing from the header — the message lists the
 *         header —, a bad time format, bad options); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_source_open_csv(persona_source **out, const char *path,
                                        const persona_csv_options *csv,
                                        const persona_mapping *map);

/**
 * Open CSV text held in memory (copied, so the caller's buffer may be freed at once).
 * @param[out] out  the source; NULL on failure.
 * @param[in]  data the text (need not be NUL-terminated; NULL only with len 0).
 * @param[in]  len  its length in bytes.
 * @param[in]  csv  dialect, or NULL for defaults.
 * @param[in]  map  mapping, or NULL for defaults.
 * @return as persona_source_open_csv(), without #PERSONA_EIO.
 * @since 1.0
 */
PERSONA_API int persona_source_open_csv_memory(persona_source **out, const char *data,
                                               size_t len, const persona_csv_options *csv,
                                               const persona_mapping *map);

/**
 * Open a JSON Lines file: one JSON object per line; blank lines are skipped. Mapped
 * members are top-level; strings and numbers are accepted for every field (a number for a
 * user or item key is used as written), `null` means absent (for the default `event`
 * member, absent or `null` both give the constant event type). A time given as a JSON
 * number is unix seconds or milliseconds per the time format (auto: by magnitude).
 * @param[out] out  the source; NULL on failure.
 * @param[in]  path file path.
 * @param[in]  map  mapping, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_EINVAL (bad mapping or format); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_source_open_jsonl(persona_source **out, const char *path,
                                          const persona_mapping *map);

/**
 * Open JSON Lines text held in memory (copied, so the caller's buffer may be freed at once).
 * @param[out] out  the source; NULL on failure.
 * @param[in]  data the text (need not be NUL-terminated; NULL only with len 0).
 * @param[in]  len  its length in bytes.
 * @param[in]  map  mapping, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (bad mapping or format); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_source_open_jsonl_memory(persona_source **out, const char *data,
                                                 size_t len, const persona_mapping *map);

/**
 * Columns of events, one array per field, each `count` long. Absent optional arrays are
 * NULL; NULL entries inside string arrays and NaN values mean absent.
 */
typedef struct persona_event_arrays {
    uint32_t struct_size;          /**< sizeof(persona_event_arrays). @since 1.0 */
    uint32_t reserved;             /**< must be 0. @since 1.0 */
    size_t count;                  /**< number of events. @since 1.0 */
    const char *const *user;       /**< required. @since 1.0 */
    const int64_t *time_ms;        /**< required. @since 1.0 */
    const char *const *type;       /**< optional; NULL = every event is "event". @since 1.0 */
    const char *const *item;       /**< optional. @since 1.0 */
    const double *value;           /**< optional. @since 1.0 */
    const char *const *event_id;   /**< optional. @since 1.0 */
    const char *const *basket;     /**< optional. @since 1.0 */
    size_t n_props;                /**< number of named properties. @since 1.0 */
    const char *const *prop_names; /**< their names. @since 1.0 */
    const char *const *const *prop_values; /**< prop_values[p][i]: property p of event i. @since 1.0 */
} persona_event_arrays;

/** Initializer for #persona_event_arrays (no columns, count 0). */
#define PERSONA_EVENT_ARRAYS_INIT { sizeof(persona_event_arrays), 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL }

/**
 * Initialize a set of event columns (no columns, count 0).
 * @param[out] arrays      the struct.
 * @param[in]  struct_size sizeof(persona_event_arrays) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_event_arrays_init(persona_event_arrays *arrays, uint32_t struct_size);

/**
 * A source over columns held by the caller. The arrays are borrowed (not copied) and must
 * stay valid and unchanged until the source is freed.
 * @param[out] out    the source; NULL on failure.
 * @param[in]  arrays the columns.
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL required column with count > 0,
 *         bad struct_size, props without names).
 * @since 1.0
 */
PERSONA_API int persona_source_from_arrays(persona_source **out,
                                           const persona_event_arrays *arrays);

/**
 * Drain a source into a store, batch by batch. Each batch is validated, deduplicated and
 * applied as persona_store_ingest() does; rows the source could not parse are counted by
 * reason as well. Example lines are line numbers of the file (1 = header) for CSV,
 * line numbers for JSONL, and 1-based event ordinals for other sources.
 * @param[out] stats_out what happened (may be NULL); its struct_size must be set.
 * @param[in]  store     the store.
 * @param[in]  source    the source (read from its current position to its end).
 * @param[in]  opts      options, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_EPARSE (strict mode: the first bad row in input order, its
 *         line in the message and in persona_error_position()); #PERSONA_EIO (read error);
 *         #PERSONA_ECALLBACK (a source callback or the progress callback failed);
 *         #PERSONA_ENOMEM; #PERSONA_EINVAL. A load is atomic per batch, not as a whole: on
 *         failure the batches before the failing one stay applied (stats_out says how many
 *         events) and the failing batch is not. In strict mode the built-in sources end a
 *         batch just before a bad row they find themselves, so every good row before it is
 *         applied; a bad row the store finds (empty user, invalid UTF-8, duplicate id)
 *         fails its whole batch. Load into a fresh store when you need all or nothing.
 * @since 1.0
 */
PERSONA_API int persona_store_load(persona_ingest_stats *stats_out, persona_store *store,
                                   persona_source *source, const persona_ingest_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_SOURCE_H */
