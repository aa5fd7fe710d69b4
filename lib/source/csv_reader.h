/* Streaming RFC 4180 record reader beneath the CSV source (source.h). It splits input into
 * records and fields; it does not know about headers, columns or UTF-8 (the caller
 * validates fields), except that a NUL byte in a field rejects the record.
 *
 * Syntax
 *  - A UTF-8 BOM (EF BB BF) at the very start of input is skipped.
 *  - A record ends at LF or CRLF outside quotes, or at the end of input. A CR that is not
 *    directly followed by LF is ordinary data (also when it is the last byte of input).
 *  - Fields are separated by the delimiter. A field whose first byte is '"' is quoted: it
 *    runs to the next '"' that is not doubled, may contain the delimiter, CR and LF, and
 *    "" stands for one '"'. It is returned unescaped (copied into a scratch buffer).
 *    Unquoted fields point into the read buffer (no copy).
 *  - An empty line is a record with one empty field; a last line without a newline is a
 *    record; empty input (or only a BOM) has no records.
 *  - Line numbers are physical: every LF advances them, including LFs inside quotes.
 *
 * Broken records (returned with *reject set and no fields; the caller skips them)
 *  - PERSONA_REJECT_TOO_LONG: the record's bytes, without its LF / CRLF terminator, are
 *    more than max_row_bytes, or it has more than PERSONA__CSV_MAX_FIELDS fields. This
 *    reason wins over the others (a long record is not buffered, so not fully examined).
 *  - PERSONA_REJECT_BAD_QUOTE: a '"' in an unquoted field; after a closing quote something
 *    other than the delimiter, LF or CRLF; a quoted field still open at end of input.
 *  - PERSONA_REJECT_NUL_BYTE: a 0 byte in a field (unless 0 is the delimiter).
 *  When a record has several problems, the first in byte order is reported.
 *
 * Resynchronisation rule (exact): the extent of every record, good or broken, is decided
 * by the same rules as for a good one: a '"' opens a quoted section only as the first byte
 * of a field; elsewhere it is data. A quoted section ends at a '"' not followed by another
 * '"'; whatever follows it up to the next delimiter is unquoted data. So a broken record
 * ends at the first LF that is not inside a quoted section; an unterminated quote makes
 * the rest of the input one broken record.
 *
 * Memory: the reader holds at most about max_row_bytes + 2 blocks of 1 MiB, plus the
 * unescaped copy of the quoted fields of one record and the field array.
 * Thread-safety: single-thread (one reader, one thread at a time). */
#ifndef PERSONA_SOURCE_CSV_READER_H
#define PERSONA_SOURCE_CSV_READER_H

#include <stddef.h>
#include <stdint.h>

/* Most fields in one record; a record with more is rejected as too long. */
#define PERSONA__CSV_MAX_FIELDS 100000
/* max_row_bytes used when 0 is passed. */
#define PERSONA__CSV_DEFAULT_MAX_ROW ((size_t)1 << 20)

typedef struct persona__csv_field {
    const char *ptr; /* not NUL-terminated; valid until the next call on the reader */
    size_t len;
} persona__csv_field;

typedef struct persona__csv_reader persona__csv_reader;

/* Open a file (path) or a memory buffer (borrowed: the caller keeps it alive and unchanged
 * until the reader is freed). delimiter: any byte except '"', CR and LF. max_row_bytes: the
 * longest record kept (0 = PERSONA__CSV_DEFAULT_MAX_ROW; values above SIZE_MAX / 4 are
 * clamped). Returns PERSONA_OK, PERSONA_EIO (file cannot be opened: the message names the
 * path and the system error), PERSONA_ENOMEM, PERSONA_EINVAL (NULL argument, bad
 * delimiter). On failure *out is NULL. */
int persona__csv_reader_open_file(persona__csv_reader **out, const char *path, char delimiter,
                                  size_t max_row_bytes);
int persona__csv_reader_open_memory(persona__csv_reader **out, const char *data, size_t len,
                                    char delimiter, size_t max_row_bytes);
/* NULL is a no-op. */
void persona__csv_reader_free(persona__csv_reader *r);

/* Next record. Returns 1 (a record), 0 at end of input, or PERSONA_EIO (read error) /
 * PERSONA_ENOMEM; after ENOMEM the reader is unchanged and the call may be retried.
 * *fields / *nfields: the fields, valid until the next call on the reader (nfields >= 1
 * for a good record, 0 for a rejected one). *line: 1-based line where the record starts.
 * *reject: -1 for a good record, else the PERSONA_REJECT_* reason (see above). */
int persona__csv_reader_next(persona__csv_reader *r, const persona__csv_field **fields,
                             size_t *nfields, uint64_t *line, int *reject);

/* Back to the first record (after the BOM), line 1. Returns PERSONA_OK, or PERSONA_EIO
 * when the file cannot seek. */
int persona__csv_reader_rewind(persona__csv_reader *r);

/* Input bytes consumed so far (BOM included): the end of the last record returned. */
uint64_t persona__csv_reader_bytes(const persona__csv_reader *r);

/* Testing hook: read `block` bytes at a time (1 = byte by byte), also for memory input,
 * to force records across block boundaries. Call right after open. */
void persona__csv_reader_set_block_size(persona__csv_reader *r, size_t block);

#endif
