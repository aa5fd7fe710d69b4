/* Timestamp parsing and proleptic-Gregorian calendar arithmetic in UTC (pure integer
 * code: no localtime/mktime/timegm, no time-zone database).
 *
 * Ingest parses millions of timestamps, so the format is compiled once and the parser
 * neither allocates nor touches the thread-local error: it reports a static reason and a
 * column, and the caller decides how to record the failure. */
#ifndef PERSONA_CORE_TIMEPARSE_H
#define PERSONA_CORE_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Kinds of time format. */
#define PERSONA__TIME_AUTO 0    /* ISO 8601 or unix seconds/ms by magnitude */
#define PERSONA__TIME_ISO 1     /* ISO 8601 only */
#define PERSONA__TIME_UNIX_S 2  /* integer or decimal seconds */
#define PERSONA__TIME_UNIX_MS 3 /* integer milliseconds */
#define PERSONA__TIME_PATTERN 4 /* strftime-like pattern */

/* Longest pattern (in bytes of the format string) that compiles. */
#define PERSONA__TIME_PATTERN_MAX 64

typedef struct persona__time_format {
    int kind; /* PERSONA__TIME_* */
    /* Compiled pattern: ops[i] < 256 is a literal byte, 256 + n is field n (see time.c). */
    uint16_t n_ops;
    uint16_t ops[PERSONA__TIME_PATTERN_MAX];
} persona__time_format;

/* Compile a format: NULL, "", "auto", "iso", "unix_s", "unix_ms" or a pattern with %Y %m
 * %d (required), %H %M %S %f (optional, each at most once) and %%; spaces around a pattern
 * are dropped, as they are around the text. Returns PERSONA_OK, or PERSONA_EINVAL recorded
 * with persona__fail (the message names the pattern). */
int persona__time_format_compile(persona__time_format *f, const char *format);

/* Parse s[0..len) (ASCII spaces around it are ignored). Times written without a zone are
 * local at offset_minutes (UTC = local - offset). Returns 0 with *out in ms UTC, or -1 with
 * *why a static English reason and *err_col the 1-based column of the problem (both may
 * be NULL). Never allocates, never records the thread-local error. */
int persona__time_parse_fast(const persona__time_format *f, const char *s, size_t len,
                             int32_t offset_minutes, int64_t *out, const char **why,
                             size_t *err_col);

/* Days since 1970-01-01 of a proleptic-Gregorian date (any year, month 1..12, day 1..31). */
int64_t persona__days_from_civil(int64_t y, int m, int d);
/* Inverse of persona__days_from_civil. */
void persona__civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* ISO 8601 week-year and week (1..53) of a day; returns the week. */
int persona__iso_week(int64_t days, int64_t *iso_year, int *week);

#endif
