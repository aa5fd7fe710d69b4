/* Growable byte buffer for building output (CSV rows, JSON). Errors are sticky: after a
 * failed append every later append is a no-op and persona__buf_failed() says so, so
 * writers check once at the end. */
#ifndef PERSONA_CORE_BUF_H
#define PERSONA_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct persona__buf {
    char *data;
    size_t len, cap;
    int failed;
} persona__buf;

void persona__buf_init(persona__buf *b);
void persona__buf_free(persona__buf *b);
void persona__buf_clear(persona__buf *b);
int persona__buf_reserve(persona__buf *b, size_t more);
void persona__buf_append(persona__buf *b, const char *s, size_t len);
void persona__buf_puts(persona__buf *b, const char *s);
void persona__buf_putc(persona__buf *b, char c);
void persona__buf_u64(persona__buf *b, uint64_t v);
void persona__buf_i64(persona__buf *b, int64_t v);
/* Shortest text that reads back as the same double ("nan"/"inf" never: callers decide). */
void persona__buf_double(persona__buf *b, double v);
/* A JSON number: as persona__buf_double, or null for NaN and infinities (which JSON lacks). */
void persona__buf_json_double(persona__buf *b, double v);
/* One CSV cell (RFC 4180): quoted when it holds the delimiter, a quote, CR or LF, or
 * starts with a space; a cell starting with = + - @ TAB or CR is prefixed with ' so
 * spreadsheets do not run it as a formula. */
void persona__buf_csv_cell(persona__buf *b, const char *s, size_t len, char delimiter);
/* A JSON string literal with quotes; s must be valid UTF-8. */
void persona__buf_json_str(persona__buf *b, const char *s, size_t len);
static inline int persona__buf_failed(const persona__buf *b)
{
    return b->failed;
}

/* A persona_write_fn appending to the persona__buf ctx: 0, or -1 once the buffer failed. */
int persona__buf_write(void *ctx, const char *data, size_t len);
/* Hand a buffer's text to the caller of an *_export_buffer function: when rc is PERSONA_OK
 * and the buffer intact, *out receives the NUL-terminated text (released with
 * persona_free(); "" when empty) and *out_len, unless NULL, its length; otherwise the
 * buffer is freed and rc returned (PERSONA_ENOMEM for a failed buffer). */
int persona__buf_hand_over(persona__buf *b, int rc, char **out, size_t *out_len);

/* A buffered export to a caller's writer (persona_write_fn): text collects in `out` and
 * goes out in pieces of about 64 KiB, and at the end with force; rc keeps the first
 * failure (ENOMEM for the buffer, ECALLBACK when the writer stops). */
typedef struct persona__export_writer {
    persona__buf out;
    int (*write)(void *ctx, const char *data, size_t len);
    void *ctx;
    int rc;
} persona__export_writer;
void persona__export_flush(persona__export_writer *w, int force);

/* Shortest round-trip form of a double into out (at least 32 bytes); returns length. */
size_t persona__fmt_double(char *out, double v);

#endif
