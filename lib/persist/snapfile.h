/* The snapshot container every handle saves into (DESIGN §7, docs/file-format.md):
 * a 64-byte header, 8-byte aligned sections, a section table; little-endian fixed-width
 * fields; CRC-32C of the header, of the table and of every section.
 *
 * Writing: create() opens a temporary file next to the target; sections are written one
 * after another (begin, put..., end); commit() writes the table and header, fsyncs, renames
 * over the target and fsyncs the directory, so a crash leaves the old or the new file.
 * Errors are sticky: after the first failure every call returns it, commit() returns it,
 * removes the temporary file and frees the writer, so an encoder may check only commit().
 *
 * Reading: open() checks the header and the table (magic, version, kind, lengths, overlap,
 * CRCs) before anything else. Sections are then read as streams: section() positions at
 * one, read() takes bytes from it (never past its end), section_end() requires every byte
 * read and checks its CRC. A reader allocates a fixed buffer and a copy of the section
 * table (checked against the file's size first), nothing driven by counts inside
 * sections: decoders must check a count against persona__snap_left() before allocating
 * for it.
 *
 * Failures: PERSONA_EIO (message: path and step), PERSONA_ECORRUPT (message: section name
 * and byte offset in the file), PERSONA_EVERSION (a newer format version, or a required
 * section this library does not know), PERSONA_ENOMEM. With
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the CRC comparisons are skipped (TESTING §4) so
 * fuzzers get past them; everything else is checked the same. */
#ifndef PERSONA_PERSIST_SNAPFILE_H
#define PERSONA_PERSIST_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define PERSONA__SNAP_MAGIC "PRSNSNAP"
#define PERSONA__SNAP_VERSION 1u /* the container format version this library writes */
#define PERSONA__SNAP_HEADER 64
#define PERSONA__SNAP_TABLE_ENTRY 32

/* What a file holds (header field "kind"). */
#define PERSONA__SNAP_KIND_STORE 1u
#define PERSONA__SNAP_KIND_COHORT 2u
#define PERSONA__SNAP_KIND_FUNNEL 3u
#define PERSONA__SNAP_KIND_SEGMENTS 4u
#define PERSONA__SNAP_KIND_RFM 5u
#define PERSONA__SNAP_KIND_KMEANS 6u
#define PERSONA__SNAP_KIND_AFFINITY 7u
#define PERSONA__SNAP_KIND_PATHS 8u
#define PERSONA__SNAP_KIND_ATTRIBUTION 9u

/* Section flags. A reader that meets a required section it does not know fails with
 * PERSONA_EVERSION; optional sections it does not know are skipped. */
#define PERSONA__SNAP_REQUIRED 1u

typedef struct persona__snap_writer persona__snap_writer;
typedef struct persona__snap_reader persona__snap_reader;

/* ---- writing ---- */

/* Start a snapshot of `kind` that will replace `path`: the data goes to a new temporary
 * file in the same directory (named path + ".tmp-<pid>-<n>", created exclusively). */
int persona__snap_create(persona__snap_writer **out, const char *path, uint32_t kind);
/* Start section `id` (unique in the file, nonzero) with PERSONA__SNAP_* flags. */
int persona__snap_begin(persona__snap_writer *w, uint32_t id, uint32_t flags);
int persona__snap_put(persona__snap_writer *w, const void *data, size_t len);
int persona__snap_put_u32(persona__snap_writer *w, uint32_t v);
int persona__snap_put_i32(persona__snap_writer *w, int32_t v);
int persona__snap_put_u64(persona__snap_writer *w, uint64_t v);
int persona__snap_put_i64(persona__snap_writer *w, int64_t v);
int persona__snap_put_f64(persona__snap_writer *w, double v); /* IEEE 754 bits, NaN kept */
/* Arrays of n values, little-endian (a memcpy on little-endian hosts). */
int persona__snap_put_u32s(persona__snap_writer *w, const uint32_t *v, size_t n);
int persona__snap_put_u64s(persona__snap_writer *w, const uint64_t *v, size_t n);
int persona__snap_put_i64s(persona__snap_writer *w, const int64_t *v, size_t n);
int persona__snap_put_f64s(persona__snap_writer *w, const double *v, size_t n);
/* A string (NULL allowed) as u32 length + bytes. */
int persona__snap_put_str(persona__snap_writer *w, const char *s);
/* End the current section (pads to 8 bytes). */
int persona__snap_end(persona__snap_writer *w);
/* Finish: table, header, fsync, rename over the target, fsync of the directory. Frees w
 * whatever happens. A failure before the rename removes the temporary file and leaves the
 * target untouched; a failure of the directory fsync after it is still PERSONA_EIO (the
 * new file is in place but may not survive a power loss; the message says so). */
int persona__snap_commit(persona__snap_writer *w);
/* Give up: remove the temporary file, free w (NULL is fine). */
void persona__snap_abort(persona__snap_writer *w);

/* ---- reading ---- */

/* Open a snapshot file / a snapshot in memory (not copied: data must outlive the reader)
 * and check header and table. kind must match the file's. */
int persona__snap_open(persona__snap_reader **out, const char *path, uint32_t kind);
int persona__snap_open_memory(persona__snap_reader **out, const void *data, size_t len,
                              uint32_t kind);
void persona__snap_close(persona__snap_reader *r);
/* Fail with PERSONA_EVERSION if the file has a required section whose id is not in
 * known[0..n) (call once, after open). */
int persona__snap_check_known(persona__snap_reader *r, const uint32_t *known, size_t n);
/* Position at section id, named `name` in messages. Returns 1 (found; *len_out its
 * length), 0 (not in the file) or an error. */
int persona__snap_section(persona__snap_reader *r, uint32_t id, const char *name,
                          uint64_t *len_out);
/* Position at a section the file must have: PERSONA_OK, or ECORRUPT "<path>: the <name>
 * section is missing", or the error of persona__snap_section(). */
int persona__snap_require(persona__snap_reader *r, uint32_t id, const char *name, const char *path);
/* A model's whole load: open the snapshot of `kind` at `path`, or, with data non-NULL, the
 * len bytes at data (path then names it in messages), refuse required sections outside
 * known[0 .. n_known), run decode(out, reader, path) and close the reader. Returns what
 * the first failing step returned. */
typedef int (*persona__snap_decode_fn)(void *out, persona__snap_reader *r, const char *path);
int persona__snap_load(void *out, const char *path, const void *data, size_t len, uint32_t kind,
                       const uint32_t *known, size_t n_known, persona__snap_decode_fn decode);
/* Bytes of the current section not read yet. */
uint64_t persona__snap_left(const persona__snap_reader *r);
/* Read from the current section; PERSONA_ECORRUPT ("<name>: truncated at offset N")
 * when fewer than len bytes are left. */
int persona__snap_read(persona__snap_reader *r, void *dst, size_t len);
int persona__snap_get_u32(persona__snap_reader *r, uint32_t *v);
int persona__snap_get_i32(persona__snap_reader *r, int32_t *v);
int persona__snap_get_u64(persona__snap_reader *r, uint64_t *v);
int persona__snap_get_i64(persona__snap_reader *r, int64_t *v);
int persona__snap_get_f64(persona__snap_reader *r, double *v);
int persona__snap_get_u32s(persona__snap_reader *r, uint32_t *v, size_t n);
int persona__snap_get_u64s(persona__snap_reader *r, uint64_t *v, size_t n);
int persona__snap_get_i64s(persona__snap_reader *r, int64_t *v, size_t n);
int persona__snap_get_f64s(persona__snap_reader *r, double *v, size_t n);
/* Check that n elements of size elem fit in what is left of the section (so a decoder
 * can allocate for them): PERSONA_ECORRUPT naming the section and `what` otherwise. */
int persona__snap_need(persona__snap_reader *r, uint64_t n, size_t elem, const char *what);
/* A string written by persona__snap_put_str(): *out is NULL (written NULL) or an owned
 * NUL-terminated copy (persona__free); ECORRUPT when longer than max_len, holding a NUL or
 * not valid UTF-8 (`what` names it in the message). */
int persona__snap_get_str(persona__snap_reader *r, char **out, uint32_t max_len, const char *what);
/* End the current section: every byte read (padding excepted) and the CRC matching. */
int persona__snap_section_end(persona__snap_reader *r);
/* Record PERSONA_ECORRUPT for the current section: "<path>: section <name> at offset
 * <file offset of the next unread byte>: <message>", and return it. */
int persona__snap_corrupt(persona__snap_reader *r, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
