/**
 * @file common.h
 * @brief Versions, result codes, the thread-local last error, the allocator hook and the
 *        handle types shared by every libpersona header.
 *
 * Every fallible libpersona function returns `int`: #PERSONA_OK (0) or a negative
 * `PERSONA_E*` code. Details of the most recent failure on the calling thread are read with
 * persona_errcode(), persona_errmsg() and persona_error_position(), on the same thread,
 * right after the failing call (the return code is authoritative: the last error may be
 * stale after a success).
 *
 * Thread-safety: every function here may be called from any thread. The allocator hook is
 * process-wide and may only be changed while no libpersona memory is live.
 */
#ifndef PERSONA_COMMON_H
#define PERSONA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PERSONA_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define PERSONA_API __attribute__((visibility("default")))
#else
#define PERSONA_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PERSONA_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define PERSONA_DEPRECATED(msg)
#endif

/** @name Version of the headers (compare with persona_version_number() at run time). */
/**@{*/
#define PERSONA_VERSION_MAJOR 1
#define PERSONA_VERSION_MINOR 0
#define PERSONA_VERSION_PATCH 0
#define PERSONA_VERSION_NUMBER                                                             \
    (PERSONA_VERSION_MAJOR * 1000000 + PERSONA_VERSION_MINOR * 1000 + PERSONA_VERSION_PATCH)
#define PERSONA_VERSION_STRING "1.0.0"
/**@}*/

/** @name Result codes. Values are permanent; new codes are appended. Treat an unknown
 * negative value as a generic failure. */
/**@{*/
#define PERSONA_OK 0            /**< success */
#define PERSONA_EINVAL (-1)     /**< an argument is invalid (NULL, out of range, bad struct_size) */
#define PERSONA_ENOMEM (-2)     /**< an allocation failed; nothing changed, nothing leaked */
#define PERSONA_EBUFS (-3)      /**< caller's buffer too small; needed length in `*out_len` */
#define PERSONA_ENOTFOUND (-4)  /**< the key, user or name does not exist */
#define PERSONA_EPARSE (-5)     /**< input could not be parsed; see persona_error_position() */
#define PERSONA_EIO (-6)        /**< a file operation failed; the message names path and step */
#define PERSONA_ECORRUPT (-7)   /**< a file is damaged (checksum, truncation) */
#define PERSONA_EVERSION (-8)   /**< a file or caller is newer than this library */
#define PERSONA_EUNSUPPORTED (-9) /**< a feature this build or this object does not offer */
#define PERSONA_EBUSY (-10)     /**< the operation needs no live objects (allocator hook) */
#define PERSONA_ECALLBACK (-11) /**< a caller's callback returned an error */
#define PERSONA_EMISUSE (-12)   /**< API used in the wrong order or state */
#define PERSONA_EINTERNAL (-13) /**< a bug in libpersona; please report it */
/**@}*/

/** @name Value types of typed values (profile attributes). Values are permanent. */
/**@{*/
#define PERSONA_NULL 0 /**< no value */
#define PERSONA_NUM 1  /**< a double */
#define PERSONA_STR 2  /**< a NUL-terminated UTF-8 string */
#define PERSONA_BOOL 3 /**< 0 or 1 */
#define PERSONA_TIME 4 /**< int64_t milliseconds since the Unix epoch, UTC */
/**@}*/

/** Receives exported bytes (store, cohort and funnel exports); return 0 to go on, negative to stop with #PERSONA_ECALLBACK. */
typedef int (*persona_write_fn)(void *ctx, const char *data, size_t len);

/** The profile store (store.h). Concurrent: any calls from any threads. */
typedef struct persona_store persona_store;
/** A pull stream of events (source.h). Single-thread. */
typedef struct persona_source persona_source;

/**
 * Version of the loaded library as major·1000000 + minor·1000 + patch.
 * @return the run-time version number (compare with #PERSONA_VERSION_NUMBER).
 * @since 1.0
 */
PERSONA_API int32_t persona_version_number(void);

/**
 * Version of the loaded library as text, e.g. "1.0.0".
 * @return a static string; never NULL.
 * @since 1.0
 */
PERSONA_API const char *persona_version_string(void);

/**
 * Build features of the loaded library, as a static space-separated list such as
 * "openmp=off". Used by `persona version`.
 * @return a static string; never NULL.
 * @since 1.0
 */
PERSONA_API const char *persona_build_features(void);

/**
 * Code of the most recent failure on this thread.
 * @return a `PERSONA_E*` code, or #PERSONA_OK if no call on this thread has failed yet.
 * @since 1.0
 */
PERSONA_API int persona_errcode(void);

/**
 * Message of the most recent failure on this thread: English UTF-8 naming the input
 * (row, field, path), no trailing newline.
 * @return a thread-local string valid until the next failing libpersona call on this
 *         thread; never NULL ("" when there was no failure).
 * @since 1.0
 */
PERSONA_API const char *persona_errmsg(void);

/**
 * Position of the most recent parse error on this thread.
 * @param[out] line_out   1-based line (or row/record number), may be NULL.
 * @param[out] column_out 1-based column (byte offset in the line + 1), 0 when only the
 *                        line is known; may be NULL.
 * @return #PERSONA_OK when the last error carried a position, #PERSONA_ENOTFOUND otherwise
 *         (then both outputs are set to 0).
 * @since 1.0
 */
PERSONA_API int persona_error_position(uint64_t *line_out, uint64_t *column_out);

/**
 * Static description of a result code.
 * @param code any integer, including unknown codes.
 * @return a static string; never NULL ("unknown error" for codes this library does not know).
 * @since 1.0
 */
PERSONA_API const char *persona_strerror(int code);

/**
 * A process-wide allocator. All three functions receive `ctx` and must be thread-safe.
 * `allocate(ctx, 0)` is never called. `deallocate(ctx, NULL)` is never called.
 * Set `struct_size = sizeof(persona_allocator)`; zero fields are invalid here.
 */
typedef struct persona_allocator {
    uint32_t struct_size;  /**< sizeof(persona_allocator) as compiled by the caller. @since 1.0 */
    uint32_t reserved;     /**< must be 0. @since 1.0 */
    void *ctx;             /**< passed to every call. @since 1.0 */
    void *(*allocate)(void *ctx, size_t size);             /**< like malloc. @since 1.0 */
    void *(*reallocate)(void *ctx, void *ptr, size_t size); /**< like realloc (ptr never NULL). @since 1.0 */
    void (*deallocate)(void *ctx, void *ptr);              /**< like free. @since 1.0 */
} persona_allocator;

/** Initializer for #persona_allocator (no functions yet: set all three). */
#define PERSONA_ALLOCATOR_INIT { sizeof(persona_allocator), 0, NULL, NULL, NULL, NULL }

/**
 * Initialize an allocator description (no functions yet: set all three before
 * persona_set_allocator()).
 * @param[out] allocator   the struct.
 * @param[in]  struct_size sizeof(persona_allocator) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_allocator_init(persona_allocator *allocator, uint32_t struct_size);

/**
 * Replace the allocator used for every libpersona allocation.
 * @param[in] allocator the new allocator (copied), or NULL to restore the C library's.
 * @return #PERSONA_OK; #PERSONA_EBUSY if any memory allocated by libpersona is still live
 *         (objects, returned strings); #PERSONA_EINVAL for a bad struct_size or a NULL
 *         function pointer.
 * @since 1.0
 */
PERSONA_API int persona_set_allocator(const persona_allocator *allocator);

/**
 * Release memory that libpersona returned to the caller (e.g. persona_store_export()).
 * @param[in] ptr the block, or NULL (no-op).
 * @since 1.0
 */
PERSONA_API void persona_free(void *ptr);


/** @name Calendar periods for persona_time_bucket() and persona_time_label(). */
/**@{*/
#define PERSONA_PERIOD_HOUR 1    /**< clock hours */
#define PERSONA_PERIOD_DAY 2     /**< calendar days */
#define PERSONA_PERIOD_WEEK 3    /**< ISO 8601 weeks, Monday to Sunday */
#define PERSONA_PERIOD_MONTH 4   /**< calendar months */
#define PERSONA_PERIOD_QUARTER 5 /**< calendar quarters (Jan, Apr, Jul, Oct) */
#define PERSONA_PERIOD_YEAR 6    /**< calendar years */
/**@}*/

/** Earliest time libpersona accepts: 0001-01-01 00:00:00 UTC, in ms since the epoch. */
#define PERSONA_TIME_MIN INT64_C(-62135596800000)
/** Latest time libpersona accepts: 9999-12-31 23:59:59.999 UTC, in ms since the epoch. */
#define PERSONA_TIME_MAX INT64_C(253402300799999)

/**
 * Parse a timestamp.
 *
 * Formats: NULL, "" or "auto" accepts ISO 8601 (`2021-03-04T05:06:07.123+01:00`, `T` or
 * one space between date and time, optional seconds and fraction, `Z` or `±hh:mm` /
 * `±hhmm`), a plain date (`2021-03-04`), and an integer of unix seconds (magnitude below
 * 10^11) or milliseconds (10^11 and above); a date written with `/` or `.` and two
 * leading numbers (`03/04/2021`) is refused as ambiguous: pass a pattern. "iso" accepts only
 * the ISO forms; "unix_s" integer or decimal seconds; "unix_ms" integer milliseconds.
 * Anything else is a pattern in which `%Y` (4 digits), `%m`, `%d`, `%H`, `%M`, `%S` (1–2
 * digits), `%f` (fraction digits) and `%%` are fields and every other byte must match itself.
 *
 * @param[out] out            milliseconds since the epoch, UTC.
 * @param[in]  text           the text (need not be NUL-terminated).
 * @param[in]  len            its length in bytes.
 * @param[in]  format         NULL, "auto", "iso", "unix_s", "unix_ms" or a pattern.
 * @param[in]  offset_minutes fixed offset of times written without a zone (local = UTC +
 *                            offset); ignored for unix times and times with a zone.
 * @return #PERSONA_OK; #PERSONA_EPARSE when the text does not match (message says why,
 *         position gives the column); #PERSONA_EINVAL for NULL pointers, a bad pattern or
 *         |offset| > 1440; the time must lie in [#PERSONA_TIME_MIN, #PERSONA_TIME_MAX].
 * @since 1.0
 */
PERSONA_API int persona_time_parse(int64_t *out, const char *text, size_t len,
                                   const char *format, int32_t offset_minutes);

/**
 * Start of the calendar period containing a time, computed in UTC shifted by a fixed
 * offset (no time-zone database, no `localtime`).
 * @param[out] out            start of the period, ms since the epoch, UTC.
 * @param[in]  time_ms        the time.
 * @param[in]  period         one of the `PERSONA_PERIOD_*` constants.
 * @param[in]  offset_minutes fixed offset in [-1440, 1440]: periods start at local midnight.
 * @return #PERSONA_OK; #PERSONA_EINVAL for an unknown period, an offset out of range or a
 *         time outside [#PERSONA_TIME_MIN, #PERSONA_TIME_MAX].
 * @since 1.0
 */
PERSONA_API int persona_time_bucket(int64_t *out, int64_t time_ms, int32_t period,
                                    int32_t offset_minutes);

/**
 * Write a time as `YYYY-MM-DD HH:MM:SS` (plus `.fff` when the milliseconds are not zero)
 * at a fixed offset.
 * @param[out] buf            destination, NUL-terminated on success.
 * @param[in]  capacity       size of buf in bytes (24 is always enough).
 * @param[out] out_len        length written without the NUL, or needed (without NUL) on
 *                            #PERSONA_EBUFS; may be NULL.
 * @param[in]  time_ms        the time.
 * @param[in]  offset_minutes fixed offset in [-1440, 1440].
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL for a time out of range or bad offset.
 * @since 1.0
 */
PERSONA_API int persona_time_format(char *buf, size_t capacity, size_t *out_len,
                                    int64_t time_ms, int32_t offset_minutes);

/**
 * Label of the period containing a time: `2021-03-04 05h` (hour), `2021-03-04` (day),
 * `2021-W09` (ISO week, with the ISO week-year), `2021-03` (month), `2021-Q1`, `2021`.
 * @param[out] buf, capacity, out_len as for persona_time_format() (16 is always enough).
 * @param[in]  time_ms        the time.
 * @param[in]  period         one of the `PERSONA_PERIOD_*` constants.
 * @param[in]  offset_minutes fixed offset in [-1440, 1440].
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL as for persona_time_bucket().
 * @since 1.0
 */
PERSONA_API int persona_time_label(char *buf, size_t capacity, size_t *out_len,
                                   int64_t time_ms, int32_t period, int32_t offset_minutes);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_COMMON_H */
