/* RFC 4180 record reader (rules in csv_reader.h).
 *
 * Three paths, all agreeing on where a record ends:
 *  - fast: a record without quotes or NUL bytes that lies wholly in the window. Vector
 *    compares (SSE2; a byte table elsewhere) turn 64 bytes into a mask of special bytes,
 *    whose set bits are the field ends; the mask is kept for the next record, so a short
 *    row costs about one compare pass and a few bit scans. Fields point into the window.
 *    This is almost every record of a typical export.
 *  - slow: anything else (quoted fields, broken records, a record at the window end). It
 *    parses from the record start; when it runs out of window it asks for more input and
 *    starts the record over, which stays linear because each refill at least doubles what
 *    is available for the record.
 *  - skip: a record over the limit is consumed by a byte-wise state machine that buffers
 *    nothing, so memory stays bounded whatever the input. */
#include "csv_reader.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "block_reader.h"
#include "core/alloc.h"
#include "core/error.h"
#include "persona/event.h"

struct persona__csv_reader {
    persona__block_reader in;
    unsigned char delim;
    size_t max_row;
    uint64_t line;              /* line where the next record starts */
    persona__csv_field *fields; /* the current record */
    size_t fields_cap;
    char *scratch; /* unescaped quoted fields of the current record */
    size_t scratch_cap;
    unsigned char special[256]; /* 1 for bytes that end a run of plain data */
    /* Special-byte mask of the 64 window bytes at mask_at (NULL: none) with the bits of
     * consumed bytes cleared: short records share a mask instead of each computing its
     * own. Valid while the window does not move (cleared by every refill and rewind). */
    const char *mask_at;
    uint64_t mask;
};

/* ---- special-byte search ---------------------------------------------------------- */

#if defined(__SSE2__)
typedef struct special_keys {
    __m128i delim, lf, cr, quote;
} special_keys;

static void keys_init(special_keys *k, unsigned char delim)
{
    k->delim = _mm_set1_epi8((char)delim);
    k->lf = _mm_set1_epi8('\n');
    k->cr = _mm_set1_epi8('\r');
    k->quote = _mm_set1_epi8('"');
}

/* Bit i set when p[i] (i < 16) is the delimiter, LF, CR, '"' or NUL. */
static inline unsigned special_mask(const persona__csv_reader *r, const special_keys *k,
                                    const char *p)
{
    (void)r;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i a = _mm_or_si128(_mm_cmpeq_epi8(v, k->delim), _mm_cmpeq_epi8(v, k->lf));
    __m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, k->cr), _mm_cmpeq_epi8(v, k->quote));
    b = _mm_or_si128(b, _mm_cmpeq_epi8(v, _mm_setzero_si128()));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(a, b));
}
#else
typedef struct special_keys {
    int unused;
} special_keys;

static void keys_init(special_keys *k, unsigned char delim)
{
    (void)delim;
    k->unused = 0;
}

/* Portable version: the same mask from the byte table. */
static inline unsigned special_mask(const persona__csv_reader *r, const special_keys *k,
                                    const char *p)
{
    (void)k;
    unsigned m = 0;
    for (unsigned i = 0; i < 16; i++)
        m |= (unsigned)r->special[(unsigned char)p[i]] << i;
    return m;
}
#endif

static inline unsigned lowest_bit(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(m);
#else
    unsigned i = 0;
    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}

static inline uint64_t special_mask64(const persona__csv_reader *r, const special_keys *k,
                                      const char *p)
{
    return (uint64_t)special_mask(r, k, p) | (uint64_t)special_mask(r, k, p + 16) << 16 |
           (uint64_t)special_mask(r, k, p + 32) << 32 | (uint64_t)special_mask(r, k, p + 48) << 48;
}

/* Offset of the first special byte in d[k..end), or end. */
static size_t find_special(const persona__csv_reader *r, const special_keys *keys,
                           const char *d, size_t k, size_t end)
{
    while (end - k >= 16) {
        unsigned m = special_mask(r, keys, d + k);
        if (m)
            return k + lowest_bit(m);
        k += 16;
    }
    while (k < end && !r->special[(unsigned char)d[k]])
        k++;
    return k;
}

/* ---- field array and scratch --------------------------------------------------------- */

static int grow_fields(persona__csv_reader *r)
{
    size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
    if (cap > PERSONA__CSV_MAX_FIELDS)
        cap = PERSONA__CSV_MAX_FIELDS;
    persona__csv_field *f = persona__realloc_array(r->fields, cap, sizeof *f);
    if (!f)
        return persona__fail_nomem();
    r->fields = f;
    r->fields_cap = cap;
    return 0;
}

/* Results of the slow path's steps (non-negative) besides PERSONA_E* codes. */
enum {
    AT_DELIM,     /* field ended at a delimiter */
    AT_LINE_END,  /* field and record ended at LF or CRLF */
    AT_INPUT_END, /* field and record ended at the end of input */
    AFTER_QUOTE,  /* text after a closing quote: the field goes on unquoted */
    NEED_MORE,    /* the window ended before the record did */
    TOO_LONG,     /* the record is over the limit */
    RESTART,      /* scratch moved: parse the record again */
    DONE          /* a record is complete */
};

/* State of one slow-path parse of a record. */
typedef struct slow_rec {
    size_t n;       /* fields so far */
    size_t used;    /* scratch bytes used */
    int reject;     /* first problem, or -1 */
    uint64_t lfs;   /* LFs consumed, terminator included */
    size_t next;    /* window offset after the record */
} slow_rec;

static void note_reject(slow_rec *st, int reason)
{
    if (st->reject < 0)
        st->reject = reason;
}

static int push_field(persona__csv_reader *r, slow_rec *st, const char *ptr, size_t len)
{
    if (st->n == PERSONA__CSV_MAX_FIELDS)
        return TOO_LONG;
    if (st->n == r->fields_cap) {
        int rc = grow_fields(r);
        if (rc)
            return rc;
    }
    r->fields[st->n].ptr = ptr;
    r->fields[st->n].len = len;
    st->n++;
    return 0;
}

/* Append unescaped bytes. Growing the scratch moves it, which would leave earlier fields
 * of this record dangling, so then the record is parsed again (rarely: it doubles). */
static int scratch_put(persona__csv_reader *r, slow_rec *st, const char *src, size_t len)
{
    if (len > r->scratch_cap - st->used) {
        size_t need = st->used + len;
        size_t cap = r->scratch_cap ? r->scratch_cap : 256;
        while (cap < need)
            cap *= 2; /* need <= max_row + 1 (scan_quoted checks): no overflow */
        char *p = persona__realloc(r->scratch, cap);
        if (!p)
            return persona__fail_nomem();
        r->scratch = p;
        r->scratch_cap = cap;
        if (st->used)
            return RESTART;
    }
    memcpy(r->scratch + st->used, src, len);
    st->used += len;
    return 0;
}

static uint64_t count_lf(const char *p, size_t n)
{
    uint64_t lfs = 0;
    const char *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lfs++;
        p++;
    }
    return lfs;
}

/* ---- slow path --------------------------------------------------------------------------- */

/* Unquoted data from *i to the end of the field. *stop gets the offset where the field's
 * bytes end, *i the offset after its terminator. */
static int scan_unquoted(const persona__csv_reader *r, const special_keys *keys, slow_rec *st,
                         size_t *i, size_t *stop)
{
    const char *d = r->in.data;
    const size_t end = r->in.len;
    size_t k = *i;
    for (;;) {
        k = find_special(r, keys, d, k, end);
        if (k == end) {
            if (!r->in.eof)
                return NEED_MORE;
            *stop = *i = end;
            return AT_INPUT_END;
        }
        unsigned char c = (unsigned char)d[k];
        if (c == r->delim) {
            *stop = k;
            *i = k + 1;
            return AT_DELIM;
        }
        if (c == '\n') {
            *stop = k;
            *i = k + 1;
            return AT_LINE_END;
        }
        if (c == '\r') {
            if (k + 1 == end && !r->in.eof)
                return NEED_MORE; /* CRLF or data: the next byte decides */
            if (k + 1 < end && d[k + 1] == '\n') {
                *stop = k;
                *i = k + 2;
                return AT_LINE_END;
            }
            /* a lone CR is data */
        } else {
            note_reject(st, c == '"' ? PERSONA_REJECT_BAD_QUOTE : PERSONA_REJECT_NUL_BYTE);
        }
        k++;
    }
}

/* A quoted field whose opening quote is at *i, unescaped into the scratch. rs is the
 * record start (for the length limit). On AFTER_QUOTE, *i is the first byte after the
 * closing quote; otherwise as scan_unquoted(). */
static int scan_quoted(persona__csv_reader *r, slow_rec *st, size_t rs, size_t *i, size_t *stop)
{
    const char *d = r->in.data;
    const size_t end = r->in.len;
    size_t k = *i + 1;
    for (;;) {
        const char *q = memchr(d + k, '"', end - k);
        size_t qi = q ? (size_t)(q - d) : end;
        /* Everything before the quote belongs to the record: check before copying it. */
        if (qi - rs > r->max_row)
            return TOO_LONG;
        if (qi > k) {
            st->lfs += count_lf(d + k, qi - k);
            if (memchr(d + k, 0, qi - k))
                note_reject(st, PERSONA_REJECT_NUL_BYTE);
            int rc = scratch_put(r, st, d + k, qi - k);
            if (rc)
                return rc;
        }
        if (!q) {
            if (!r->in.eof)
                return NEED_MORE;
            note_reject(st, PERSONA_REJECT_BAD_QUOTE); /* unterminated */
            *stop = *i = end;
            return AT_INPUT_END;
        }
        k = qi + 1;
        if (k == end) {
            if (!r->in.eof)
                return NEED_MORE; /* "" or a closing quote: the next byte decides */
            *stop = *i = end;
            return AT_INPUT_END;
        }
        unsigned char c = (unsigned char)d[k];
        if (c == '"') {
            int rc = scratch_put(r, st, "\"", 1);
            if (rc)
                return rc;
            k++;
            continue;
        }
        *stop = k;
        if (c == r->delim) {
            *i = k + 1;
            return AT_DELIM;
        }
        if (c == '\n') {
            *i = k + 1;
            return AT_LINE_END;
        }
        if (c == '\r') {
            if (k + 1 == end && !r->in.eof)
                return NEED_MORE;
            if (k + 1 < end && d[k + 1] == '\n') {
                *i = k + 2;
                return AT_LINE_END;
            }
        }
        note_reject(st, PERSONA_REJECT_BAD_QUOTE);
        *i = k;
        return AFTER_QUOTE;
    }
}

/* Parse the record at the window cursor. Returns DONE (st filled), NEED_MORE, TOO_LONG,
 * RESTART or a PERSONA_E* code. Consumes nothing: the caller moves the cursor. */
static int parse_slow(persona__csv_reader *r, const special_keys *keys, slow_rec *st)
{
    const size_t rs = r->in.pos;
    size_t i = rs;
    st->n = 0;
    st->used = 0;
    st->reject = -1;
    st->lfs = 0;
    for (;;) {
        /* The delimiter before this field is record content. */
        if (i - rs > r->max_row)
            return TOO_LONG;
        const char *ptr;
        size_t stop, len;
        int how;
        if (i < r->in.len && r->in.data[i] == '"') {
            size_t s0 = st->used;
            how = scan_quoted(r, st, rs, &i, &stop);
            if (how == AFTER_QUOTE)
                how = scan_unquoted(r, keys, st, &i, &stop); /* rejected: content moot */
            len = st->used - s0;
            ptr = len ? r->scratch + s0 : "";
        } else {
            size_t start = i;
            how = scan_unquoted(r, keys, st, &i, &stop);
            ptr = r->in.data + start;
            len = stop - start;
        }
        if (how < 0 || how > AT_INPUT_END)
            return how;
        int rc = push_field(r, st, ptr, len);
        if (rc)
            return rc;
        if (how == AT_DELIM)
            continue;
        if (stop - rs > r->max_row)
            return TOO_LONG;
        if (how == AT_LINE_END)
            st->lfs++;
        st->next = i;
        return DONE;
    }
}

/* ---- skip path --------------------------------------------------------------------------- */

enum { SK_FIELD_START, SK_UNQUOTED, SK_QUOTED, SK_QUOTE_SEEN, SK_END };

/* The record-extent rules of the slow path as a byte-wise state machine. */
static int skip_step(int state, unsigned char c, unsigned char delim)
{
    if (state == SK_QUOTED)
        return c == '"' ? SK_QUOTE_SEEN : SK_QUOTED;
    if (c == '"' && state != SK_UNQUOTED)
        return SK_QUOTED; /* opening quote, or "" inside a quoted field */
    if (c == '\n')
        return SK_END;
    return c == delim ? SK_FIELD_START : SK_UNQUOTED;
}

/* Consume the record at the cursor without buffering it; *lfs gets its LFs. */
static int skip_record(persona__csv_reader *r, uint64_t *lfs)
{
    int state = SK_FIELD_START;
    *lfs = 0;
    for (;;) {
        const unsigned char *d = (const unsigned char *)r->in.data;
        size_t k = r->in.pos;
        const size_t end = r->in.len;
        while (k < end) {
            unsigned char c = d[k++];
            *lfs += c == '\n';
            state = skip_step(state, c, r->delim);
            if (state == SK_END) {
                r->in.pos = k;
                return 0;
            }
        }
        r->in.pos = end;
        if (r->in.eof)
            return 0;
        r->mask_at = NULL;
        int rc = persona__block_reader_refill(&r->in, r->in.block);
        if (rc)
            return rc;
    }
}

/* ---- fast path --------------------------------------------------------------------------- */

/* The record at the cursor when it has no quote or NUL and ends inside the window (not in
 * its last 64 bytes). Returns DONE (cursor moved, *nfields set), NEED_MORE to hand the
 * record to the slow path, or PERSONA_ENOMEM. The field array is kept in locals because a
 * store through it may alias anything (-fno-strict-aliasing) and would force reloads. */
static int parse_fast(persona__csv_reader *r, const special_keys *keys, size_t *nfields)
{
    const char *const rec = r->in.data + r->in.pos;
    const char *const end = r->in.data + r->in.len;
    const char delim = (char)r->delim;
    const size_t max_row = r->max_row;
    persona__csv_field *f = r->fields;
    size_t cap = r->fields_cap, n = 0;
    const char *p = rec, *field = rec;
    uint64_t m;
    if (r->mask_at && rec >= r->mask_at && rec - r->mask_at < 64) {
        p = r->mask_at; /* the record starts inside the last mask: reuse it */
        m = r->mask & ~(((uint64_t)1 << (rec - p)) - 1);
    } else if ((size_t)(end - p) >= 64) {
        m = special_mask64(r, keys, p);
    } else {
        return NEED_MORE;
    }
    for (;;) {
        while (m) {
            const char *s = p + lowest_bit(m);
            m &= m - 1;
            const char *next;
            if (*s == delim) {
                next = NULL;
            } else if (*s == '\n') {
                next = s + 1;
            } else if (*s == '\r' && s + 1 < end) {
                if (s[1] != '\n')
                    continue; /* a lone CR is data */
                next = s + 2;
            } else {
                return NEED_MORE; /* quote, NUL, or CR at the window end */
            }
            if (n == cap) {
                if (n == PERSONA__CSV_MAX_FIELDS)
                    return NEED_MORE; /* the slow path says too long */
                int rc = grow_fields(r);
                if (rc)
                    return rc;
                f = r->fields;
                cap = r->fields_cap;
            }
            f[n].ptr = field;
            f[n].len = (size_t)(s - field);
            n++;
            field = s + 1;
            if (!next)
                continue;
            if ((size_t)(s - rec) > max_row)
                return NEED_MORE; /* too long: the slow path says so */
            r->in.pos = (size_t)(next - r->in.data);
            r->line++;
            r->mask_at = p;
            r->mask = m;
            *nfields = n;
            return DONE;
        }
        p += 64;
        if ((size_t)(p - rec) > max_row + 1 || (size_t)(end - p) < 64)
            return NEED_MORE;
        m = special_mask64(r, keys, p);
    }
}

/* ---- public -------------------------------------------------------------------------------- */

int persona__csv_reader_next(persona__csv_reader *r, const persona__csv_field **fields,
                             size_t *nfields, uint64_t *line, int *reject)
{
    int rc = r->in.started ? 0 : persona__block_reader_begin(&r->in);
    if (rc)
        return rc;
    special_keys keys;
    keys_init(&keys, r->delim);
    for (;;) {
        if (r->in.pos == r->in.len) {
            if (r->in.eof)
                return 0;
            r->mask_at = NULL;
            rc = persona__block_reader_refill(&r->in, r->in.block);
            if (rc)
                return rc;
            continue;
        }
        const uint64_t start_line = r->line;
        size_t n = 0;
        rc = parse_fast(r, &keys, &n);
        if (rc == DONE) {
            *fields = r->fields;
            *nfields = n;
            *line = start_line;
            *reject = -1;
            return 1;
        }
        slow_rec st;
        if (rc == NEED_MORE)
            rc = parse_slow(r, &keys, &st);
        if (rc == DONE) {
            r->in.pos = st.next;
            r->line += st.lfs;
            *fields = r->fields;
            *nfields = st.reject < 0 ? st.n : 0;
            *line = start_line;
            *reject = st.reject;
            return 1;
        }
        if (rc == NEED_MORE) {
            size_t have = r->in.len - r->in.pos;
            /* With more than max_row + 1 bytes and no end in sight, the record is too long
             * (+1: the last byte may be the CR of a CRLF). */
            if (have <= r->max_row + 1) {
                r->mask_at = NULL;
                rc = persona__block_reader_refill(&r->in, have > r->in.block ? have : r->in.block);
                if (rc)
                    return rc;
                continue;
            }
            rc = TOO_LONG;
        }
        if (rc == RESTART)
            continue;
        if (rc != TOO_LONG)
            return rc;
        uint64_t lfs;
        rc = skip_record(r, &lfs);
        if (rc)
            return rc;
        r->line += lfs;
        *fields = r->fields;
        *nfields = 0;
        *line = start_line;
        *reject = PERSONA_REJECT_TOO_LONG;
        return 1;
    }
}

static int reader_new(persona__csv_reader **out, char delimiter, size_t max_row_bytes)
{
    unsigned char d = (unsigned char)delimiter;
    /* 0 is refused too: it would make "a NUL byte in a field" ambiguous. */
    if (d == '"' || d == '\r' || d == '\n' || d == 0)
        return persona__fail(PERSONA_EINVAL,
                             "CSV delimiter must be one byte other than '\"', CR, LF and NUL");
    persona__csv_reader *r = persona__calloc(1, sizeof *r);
    if (!r)
        return persona__fail_nomem();
    r->delim = d;
    r->max_row = max_row_bytes ? max_row_bytes : PERSONA__CSV_DEFAULT_MAX_ROW;
    if (r->max_row > SIZE_MAX / 4)
        r->max_row = SIZE_MAX / 4;
    r->line = 1;
    r->special[d] = r->special['\n'] = r->special['\r'] = r->special['"'] = r->special[0] = 1;
    *out = r;
    return 0;
}

int persona__csv_reader_open_file(persona__csv_reader **out, const char *path, char delimiter,
                                  size_t max_row_bytes)
{
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "csv reader: %s is NULL", out ? "path" : "out");
    *out = NULL;
    persona__csv_reader *r = NULL;
    int rc = reader_new(&r, delimiter, max_row_bytes);
    if (rc)
        return rc;
    /* The buffer keeps at most one unfinished record: max_row bytes plus a CRLF. */
    rc = persona__block_reader_open_file(&r->in, path, r->max_row + 2);
    if (rc) {
        persona__free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int persona__csv_reader_open_memory(persona__csv_reader **out, const char *data, size_t len,
                                    char delimiter, size_t max_row_bytes)
{
    if (!out || (!data && len))
        return persona__fail(PERSONA_EINVAL, "csv reader: %s is NULL", out ? "data" : "out");
    *out = NULL;
    persona__csv_reader *r = NULL;
    int rc = reader_new(&r, delimiter, max_row_bytes);
    if (rc)
        return rc;
    persona__block_reader_open_memory(&r->in, data, len, r->max_row + 2);
    *out = r;
    return 0;
}

void persona__csv_reader_free(persona__csv_reader *r)
{
    if (!r)
        return;
    persona__block_reader_close(&r->in);
    persona__free(r->fields);
    persona__free(r->scratch);
    persona__free(r);
}

int persona__csv_reader_rewind(persona__csv_reader *r)
{
    r->mask_at = NULL;
    int rc = persona__block_reader_rewind(&r->in);
    if (rc)
        return rc;
    r->line = 1;
    return 0;
}

uint64_t persona__csv_reader_bytes(const persona__csv_reader *r)
{
    return persona__block_reader_offset(&r->in);
}

void persona__csv_reader_set_block_size(persona__csv_reader *r, size_t block)
{
    r->mask_at = NULL;
    persona__block_reader_set_block(&r->in, block);
}
