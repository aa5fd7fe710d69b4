/* Streaming JSON Lines reader beneath the JSONL source (source.h): one JSON object per
 * line, split into its top-level members.
 *
 * Lines
 *  - A line ends at LF; a CR right before the LF is part of the terminator. A UTF-8 BOM at
 *    the very start of input is skipped. The last line needs no LF.
 *  - Blank lines (only JSON whitespace: space, tab, CR) are skipped silently; they still
 *    count for line numbers.
 *
 * Rejected lines (returned with *reject set and no members; the caller skips them). The
 * first applicable reason in this order wins:
 *  1. PERSONA_REJECT_TOO_LONG: the line, without its LF / CRLF, is longer than
 *     max_line_bytes (even a blank one: a long line is not buffered, so not examined).
 *  2. PERSONA_REJECT_BAD_UTF8: invalid UTF-8 anywhere in the line.
 *  3. The first problem met while parsing from the left:
 *     PERSONA_REJECT_TOO_LONG: a top-level member beyond PERSONA__JSONL_MAX_MEMBERS;
 *     PERSONA_REJECT_BAD_JSON: syntax error (RFC 8259), a value other than an object,
 *       anything but whitespace after the object, nesting deeper than
 *       PERSONA__JSONL_MAX_DEPTH (the top-level object is depth 1);
 *     PERSONA_REJECT_BAD_UTF8: a \u escape that is a lone surrogate;
 *     PERSONA_REJECT_NUL_BYTE: a raw 0 byte inside a string, or a \u0000 escape (in any
 *       string of the line, nested ones included).
 *  Resynchronisation is always at the next LF (JSON text cannot hold a raw LF).
 *
 * Members (top level only, in order; duplicate keys are all kept — the caller takes the
 * last): key unescaped; val / val_len by type:
 *  STRING  the unescaped UTF-8 string (not NUL-terminated)
 *  NUMBER  the number as written (checked against the JSON grammar)
 *  TRUE / FALSE / NULL  the literal
 *  OBJECT / ARRAY  the raw text of the value, brackets included (validated, not decoded)
 * Pointers are valid until the next call on the reader.
 *
 * Memory: at most about max_line_bytes + 2 blocks of 1 MiB, plus the unescaped strings of
 * one line and the member array. Thread-safety: single-thread. */
#ifndef PERSONA_SOURCE_JSONL_READER_H
#define PERSONA_SOURCE_JSONL_READER_H

#include <stddef.h>
#include <stdint.h>

#define PERSONA__JSON_STRING 1
#define PERSONA__JSON_NUMBER 2
#define PERSONA__JSON_TRUE 3
#define PERSONA__JSON_FALSE 4
#define PERSONA__JSON_NULL 5
#define PERSONA__JSON_OBJECT 6
#define PERSONA__JSON_ARRAY 7

/* Deepest nesting accepted (the top-level object counts as 1). */
#define PERSONA__JSONL_MAX_DEPTH 64
/* Most top-level members in one line; a line with more is rejected as too long. */
#define PERSONA__JSONL_MAX_MEMBERS 100000
/* max_line_bytes used when 0 is passed. */
#define PERSONA__JSONL_DEFAULT_MAX_LINE ((size_t)1 << 20)

typedef struct persona__json_member {
    const char *key;
    size_t key_len;
    int type; /* PERSONA__JSON_* */
    const char *val;
    size_t val_len;
} persona__json_member;

typedef struct persona__jsonl_reader persona__jsonl_reader;

/* Open a file or a memory buffer (borrowed: kept alive and unchanged by the caller until
 * the reader is freed). max_line_bytes: longest line kept (0 = the default; values above
 * SIZE_MAX / 4 are clamped). Returns PERSONA_OK, PERSONA_EIO (the message names the path
 * and the system error), PERSONA_ENOMEM, PERSONA_EINVAL (NULL argument). On failure *out
 * is NULL. */
int persona__jsonl_reader_open_file(persona__jsonl_reader **out, const char *path,
                                    size_t max_line_bytes);
int persona__jsonl_reader_open_memory(persona__jsonl_reader **out, const char *data, size_t len,
                                      size_t max_line_bytes);
/* NULL is a no-op. */
void persona__jsonl_reader_free(persona__jsonl_reader *r);

/* Next non-blank line. Returns 1 (a line), 0 at end of input, or PERSONA_EIO /
 * PERSONA_ENOMEM (after ENOMEM the reader is unchanged and the call may be retried).
 * *members / *count: the top-level members (count 0 for a rejected line or for {}).
 * *line: 1-based line number. *reject: -1, or a PERSONA_REJECT_* reason (see above). */
int persona__jsonl_reader_next(persona__jsonl_reader *r, const persona__json_member **members,
                               size_t *count, uint64_t *line, int *reject);

/* Back to the first line (after the BOM), line 1. PERSONA_OK, or PERSONA_EIO when the file
 * cannot seek. */
int persona__jsonl_reader_rewind(persona__jsonl_reader *r);

/* Input bytes consumed so far (BOM included): the end of the last line returned. */
uint64_t persona__jsonl_reader_bytes(const persona__jsonl_reader *r);

/* Testing hook: read `block` bytes at a time, also for memory input. Call right after
 * open. */
void persona__jsonl_reader_set_block_size(persona__jsonl_reader *r, size_t block);

#endif
