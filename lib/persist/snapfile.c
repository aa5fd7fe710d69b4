/* The snapshot container (layout in docs/file-format.md, contract in snapfile.h).
 *
 * Every byte of a file is covered by a check: the header and the table by their CRCs,
 * each section by its own, and the padding after a section must be zero. The layout is
 * tight (each section starts at the 8-aligned end of the one before, the table right after
 * the last), so there are no bytes that no check sees: a single flipped bit anywhere is
 * ECORRUPT (or EVERSION in the version field), never a silently different file. */
#include "snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/crc32c.h"
#include "core/error.h"
#include "core/utf8.h"
#include "io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SNAP_BIG_ENDIAN 1
#else
#define SNAP_BIG_ENDIAN 0
#endif

/* Fuzzers cannot forge checksums: skip the three comparisons so they reach the decoders
 * (TESTING §4). Everything else is checked the same. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_DIFFERS(got, want) ((void)(got), (void)(want), 0)
#else
#define CRC_DIFFERS(got, want) ((got) != (want))
#endif

#define WBUF_CAP ((size_t)1 << 20)   /* writer buffer; bigger puts go straight to write() */
#define RBUF_CAP ((size_t)256 << 10) /* reader window; bigger reads go straight to dst */
#define SWAP_CHUNK 512               /* elements byte-swapped at a time on big-endian hosts */

/* ---- little-endian fields ---------------------------------------------------------- */

static void le32_put(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void le64_put(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_get(const uint8_t *p)
{
    return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

#if SNAP_BIG_ENDIAN
static void swap_in_place(void *v, size_t n, size_t size)
{
    uint8_t *p = v;
    for (size_t i = 0; i < n; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}
#endif

/* One section-table entry; the reader also keeps its position in the table (`index`)
 * because it sorts the entries by id for lookup. */
typedef struct snap_entry {
    uint32_t id, flags;
    uint64_t offset, length;
    uint32_t crc, index;
} snap_entry;

static void entry_encode(uint8_t e[PERSONA__SNAP_TABLE_ENTRY], const snap_entry *s)
{
    le32_put(e, s->id);
    le32_put(e + 4, s->flags);
    le64_put(e + 8, s->offset);
    le64_put(e + 16, s->length);
    le32_put(e + 24, s->crc);
    le32_put(e + 28, 0);
}

static uint64_t pad8(uint64_t n)
{
    return (8 - n % 8) % 8;
}

/* Thread-safe text of an errno value (strerror may share one buffer). */
static const char *errtext(int err, char *buf, size_t cap)
{
    if (strerror_r(err, buf, cap) != 0 || !buf[0])
        snprintf(buf, cap, "error %d", err);
    return buf;
}

/* ---- writer ------------------------------------------------------------------------ */

struct persona__snap_writer {
    int fd; /* -1 once closed */
    int err; /* sticky PERSONA_E* code, 0 while all is well */
    int in_section;
    int renamed; /* the temporary file is the target now: never unlink it */
    uint32_t kind;
    char *path, *tmp, *dir;
    uint8_t *buf;
    size_t buf_len;
    size_t crc_mark; /* buf[crc_mark, buf_len): section bytes not in the section CRC yet */
    uint64_t pos; /* file offset of the next byte (written + buffered) */
    snap_entry *sec; /* finished sections, then the open one at [n_sec] */
    size_t n_sec, cap_sec;
    /* The first failure's message: commit() records it again, since other calls between
     * the failure and commit() may have replaced the thread's last error. */
    char msg[512];
};

static atomic_ulong tmp_counter;

/* Make the failure just recorded by persona__fail*() the writer's sticky one. */
static int w_keep(persona__snap_writer *w, int code)
{
    if (!w->err) {
        w->err = code;
        snprintf(w->msg, sizeof w->msg, "%s", persona_errmsg());
    }
    return code;
}

static int w_fail(persona__snap_writer *w, int code, const char *fmt, ...) PERSONA__PRINTF(3, 4);
static int w_fail(persona__snap_writer *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    persona__vfail_at(code, 0, 0, fmt, ap);
    va_end(ap);
    return w_keep(w, code);
}

static int w_io(persona__snap_writer *w, const char *step, int err)
{
    char e[128];
    /* After the rename the new file is the target: say that it is there but not durable. */
    return w_fail(w, PERSONA_EIO, "%s: %s failed: %s%s", w->path, step, errtext(err, e, sizeof e),
                  w->renamed ? " (the new snapshot is in place but may not survive a crash)" : "");
}

static int write_all(persona__snap_writer *w, const uint8_t *p, size_t n)
{
    const persona__io_ops *io = persona__io();
    while (n > 0) {
        ssize_t got = io->write(w->fd, p, n);
        if (got <= 0) /* 0 means no progress: do not spin on it */
            return w_io(w, "write", got < 0 ? errno : EIO);
        p += got;
        n -= (size_t)got;
    }
    return PERSONA_OK;
}

/* Fold the buffered bytes of the open section into its CRC: done per buffer, not per put,
 * because most puts are 4 or 8 bytes. */
static void crc_pending(persona__snap_writer *w)
{
    if (w->in_section && w->buf_len > w->crc_mark) {
        snap_entry *s = &w->sec[w->n_sec];
        s->crc = persona__crc32c(s->crc, w->buf + w->crc_mark, w->buf_len - w->crc_mark);
    }
    w->crc_mark = w->buf_len;
}

static int flush(persona__snap_writer *w)
{
    crc_pending(w);
    size_t n = w->buf_len;
    w->buf_len = 0;
    w->crc_mark = 0;
    return n ? write_all(w, w->buf, n) : PERSONA_OK;
}

/* Append bytes to the file, outside any section bookkeeping. */
static int raw_put(persona__snap_writer *w, const void *data, size_t len)
{
    if (w->buf_len + len > WBUF_CAP) {
        int rc = flush(w);
        if (rc)
            return rc;
    }
    if (len >= WBUF_CAP) {
        int rc = write_all(w, data, len);
        if (rc)
            return rc;
    } else {
        memcpy(w->buf + w->buf_len, data, len);
        w->buf_len += len;
    }
    w->pos += len;
    return PERSONA_OK;
}

/* The directory holding path, where the rename must be made durable. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return persona__strndup(".", 1);
    return persona__strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static void writer_free(persona__snap_writer *w)
{
    const persona__io_ops *io = persona__io();
    if (w->fd >= 0)
        (void)io->close(w->fd);
    if (w->tmp && w->tmp[0] && !w->renamed)
        (void)io->unlink(w->tmp);
    persona__free(w->path);
    persona__free(w->tmp);
    persona__free(w->dir);
    persona__free(w->buf);
    persona__free(w->sec);
    persona__free(w);
}

int persona__snap_create(persona__snap_writer **out, const char *path, uint32_t kind)
{
    if (out)
        *out = NULL;
    if (!out || !path || !path[0])
        return persona__fail(PERSONA_EINVAL, "snapshot: %s", out ? "empty path" : "out is NULL");
    persona__snap_writer *w = persona__calloc(1, sizeof *w);
    if (!w)
        return persona__fail_nomem();
    w->fd = -1;
    w->kind = kind;
    size_t len = strlen(path);
    size_t tmp_cap = len + 48; /* ".tmp-" + two 20-digit numbers, '-' and NUL */
    /* Everything is allocated before the file exists, so no allocation can fail once a
     * file is on disk except the section list (whose failure commit() cleans up). */
    w->path = persona__strndup(path, len);
    w->tmp = w->path ? persona__calloc(tmp_cap, 1) : NULL;
    w->dir = w->tmp ? dir_of(path) : NULL;
    w->buf = w->dir ? persona__alloc(WBUF_CAP) : NULL;
    if (!w->buf) {
        writer_free(w);
        return persona__fail_nomem();
    }
    const persona__io_ops *io = persona__io();
    /* O_EXCL: never write into a file someone else has open. A name can be taken by a
     * crashed process that had our pid; the next counter value is then tried. */
    for (int tries = 0;; tries++) {
        snprintf(w->tmp, tmp_cap, "%s.tmp-%ld-%lu", path, (long)getpid(),
                 (unsigned long)atomic_fetch_add(&tmp_counter, 1));
        w->fd = io->open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (w->fd >= 0)
            break;
        int err = errno;
        if (err != EEXIST || tries == 16) {
            w->tmp[0] = '\0'; /* nothing to unlink */
            int rc = w_io(w, "create", err);
            writer_free(w);
            return rc;
        }
    }
    /* Placeholder header, overwritten by commit() once the table is known. */
    memset(w->buf, 0, PERSONA__SNAP_HEADER);
    w->buf_len = w->pos = PERSONA__SNAP_HEADER;
    *out = w;
    return PERSONA_OK;
}

int persona__snap_begin(persona__snap_writer *w, uint32_t id, uint32_t flags)
{
    if (w->err)
        return w->err;
    if (w->in_section)
        return w_fail(w, PERSONA_EMISUSE, "%s: section %u begun before section %u ended", w->path,
                      id, w->sec[w->n_sec].id);
    if (id == 0 || (flags & ~PERSONA__SNAP_REQUIRED))
        return w_fail(w, PERSONA_EMISUSE, "%s: section id %u with flags %#x", w->path, id, flags);
    for (size_t i = 0; i < w->n_sec; i++)
        if (w->sec[i].id == id)
            return w_fail(w, PERSONA_EMISUSE, "%s: section %u written twice", w->path, id);
    if (persona__grow((void **)&w->sec, &w->cap_sec, w->n_sec + 1, sizeof *w->sec, 16) != 0)
        return w_keep(w, persona__fail_nomem());
    snap_entry *s = &w->sec[w->n_sec];
    memset(s, 0, sizeof *s);
    s->id = id;
    s->flags = flags;
    s->offset = w->pos; /* 8-aligned: the header is 64 bytes and end() pads */
    w->crc_mark = w->buf_len;
    w->in_section = 1;
    return PERSONA_OK;
}

int persona__snap_put(persona__snap_writer *w, const void *data, size_t len)
{
    if (w->err)
        return w->err;
    if (!w->in_section)
        return w_fail(w, PERSONA_EMISUSE, "%s: data put outside a section", w->path);
    if (len == 0)
        return PERSONA_OK;
    snap_entry *s = &w->sec[w->n_sec];
    s->length += len;
    if (len >= WBUF_CAP) { /* written straight through: checksum it here */
        crc_pending(w);
        s->crc = persona__crc32c(s->crc, data, len);
        int rc = flush(w);
        w->crc_mark = 0;
        return rc ? rc : raw_put(w, data, len);
    }
    return raw_put(w, data, len);
}

int persona__snap_put_u32(persona__snap_writer *w, uint32_t v)
{
    uint8_t b[4];
    le32_put(b, v);
    return persona__snap_put(w, b, sizeof b);
}

int persona__snap_put_i32(persona__snap_writer *w, int32_t v)
{
    return persona__snap_put_u32(w, (uint32_t)v);
}

int persona__snap_put_u64(persona__snap_writer *w, uint64_t v)
{
    uint8_t b[8];
    le64_put(b, v);
    return persona__snap_put(w, b, sizeof b);
}

int persona__snap_put_i64(persona__snap_writer *w, int64_t v)
{
    return persona__snap_put_u64(w, (uint64_t)v);
}

int persona__snap_put_f64(persona__snap_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return persona__snap_put_u64(w, bits);
}

/* n values of `size` bytes, stored little-endian. */
static int put_array(persona__snap_writer *w, const void *v, size_t n, size_t size)
{
    if (n > SIZE_MAX / size) {
        if (w->err)
            return w->err;
        return w_fail(w, PERSONA_EINVAL, "%s: array of %zu values is too large", w->path, n);
    }
#if SNAP_BIG_ENDIAN
    if (n == 0)
        return persona__snap_put(w, v, 0);
    uint8_t tmp[SWAP_CHUNK * 8];
    const uint8_t *p = v;
    int rc = PERSONA_OK;
    while (!rc && n > 0) {
        size_t k = n < SWAP_CHUNK ? n : SWAP_CHUNK;
        memcpy(tmp, p, k * size);
        swap_in_place(tmp, k, size);
        rc = persona__snap_put(w, tmp, k * size);
        p += k * size;
        n -= k;
    }
    return rc;
#else
    return persona__snap_put(w, v, n * size);
#endif
}

int persona__snap_put_u32s(persona__snap_writer *w, const uint32_t *v, size_t n)
{
    return put_array(w, v, n, sizeof *v);
}

int persona__snap_put_u64s(persona__snap_writer *w, const uint64_t *v, size_t n)
{
    return put_array(w, v, n, sizeof *v);
}

int persona__snap_put_i64s(persona__snap_writer *w, const int64_t *v, size_t n)
{
    return put_array(w, v, n, sizeof *v);
}

int persona__snap_put_f64s(persona__snap_writer *w, const double *v, size_t n)
{
    return put_array(w, v, n, sizeof *v);
}

int persona__snap_end(persona__snap_writer *w)
{
    static const uint8_t zeros[8];
    if (w->err)
        return w->err;
    if (!w->in_section)
        return w_fail(w, PERSONA_EMISUSE, "%s: end() without begin()", w->path);
    crc_pending(w); /* the padding is not part of the section */
    int rc = raw_put(w, zeros, (size_t)pad8(w->pos));
    if (rc)
        return rc;
    w->n_sec++;
    w->in_section = 0;
    return PERSONA_OK;
}

/* Table, header, fsync, close, rename, directory fsync. */
static int finish(persona__snap_writer *w)
{
    const persona__io_ops *io = persona__io();
    uint64_t table_off = w->pos;
    uint32_t table_crc = 0;
    uint8_t e[PERSONA__SNAP_TABLE_ENTRY];
    for (size_t i = 0; i < w->n_sec; i++) {
        entry_encode(e, &w->sec[i]);
        table_crc = persona__crc32c(table_crc, e, sizeof e);
        int rc = raw_put(w, e, sizeof e);
        if (rc)
            return rc;
    }
    int rc = flush(w);
    if (rc)
        return rc;

    uint8_t h[PERSONA__SNAP_HEADER] = { 0 };
    memcpy(h, PERSONA__SNAP_MAGIC, 8);
    le32_put(h + 8, PERSONA__SNAP_VERSION);
    le32_put(h + 12, w->kind);
    le64_put(h + 16, w->pos);
    le64_put(h + 24, table_off);
    le32_put(h + 32, (uint32_t)w->n_sec); /* ids are unique nonzero u32: n_sec < 2^32 */
    le32_put(h + 36, table_crc);
    le32_put(h + 60, persona__crc32c(0, h, 60));
    for (size_t done = 0; done < sizeof h;) {
        ssize_t got = io->pwrite(w->fd, h + done, sizeof h - done, (off_t)done);
        if (got <= 0)
            return w_io(w, "write", got < 0 ? errno : EIO);
        done += (size_t)got;
    }

    if (io->fsync(w->fd) != 0)
        return w_io(w, "fsync", errno);
    int fd = w->fd;
    w->fd = -1; /* gone whatever close() says */
    if (io->close(fd) != 0)
        return w_io(w, "close", errno);
    if (io->rename(w->tmp, w->path) != 0)
        return w_io(w, "rename", errno);
    w->renamed = 1;
    int dfd = io->open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dfd < 0)
        return w_io(w, "open directory", errno);
    rc = io->fsync(dfd) != 0 ? w_io(w, "fsync directory", errno) : PERSONA_OK;
    /* A read-only descriptor whose fsync is done has nothing left to lose on close. */
    (void)io->close(dfd);
    return rc;
}

int persona__snap_commit(persona__snap_writer *w)
{
    if (!w)
        return persona__fail(PERSONA_EINVAL, "snapshot writer is NULL");
    int rc;
    if (w->err) {
        rc = persona__fail(w->err, "%s", w->msg);
    } else if (w->in_section) {
        rc = w_fail(w, PERSONA_EMISUSE, "%s: commit() before section %u ended", w->path,
                    w->sec[w->n_sec].id);
    } else {
        rc = finish(w);
    }
    writer_free(w); /* closes and unlinks what is left (nothing after a full success) */
    return rc;
}

void persona__snap_abort(persona__snap_writer *w)
{
    if (w)
        writer_free(w);
}

/* ---- reader ------------------------------------------------------------------------ */

struct persona__snap_reader {
    const uint8_t *mem; /* open_memory: the bytes (fd < 0) */
    int fd;
    uint8_t *buf; /* file: bytes [buf_off, buf_off + buf_len) */
    uint64_t buf_off;
    size_t buf_len;
    const char *path; /* for messages: path_copy or "(memory)" */
    char *path_copy;
    uint64_t size, table_off;
    uint32_t count;
    snap_entry *sec; /* sorted by id */
    const snap_entry *cur; /* the open section, or NULL */
    char name[64];
    uint64_t pos, left;
    uint32_t crc;
    int err; /* sticky */
};

static int r_fail(persona__snap_reader *r, int code, const char *fmt, ...) PERSONA__PRINTF(3, 4);
static int r_fail(persona__snap_reader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    persona__vfail_at(code, 0, 0, fmt, ap);
    va_end(ap);
    if (!r->err)
        r->err = code;
    return code;
}

static int r_io(persona__snap_reader *r, const char *step, int err)
{
    char e[128];
    return r_fail(r, PERSONA_EIO, "%s: %s failed: %s", r->path, step, errtext(err, e, sizeof e));
}

/* ECORRUPT in the open section, at a given file offset. */
static int sec_vcorrupt(persona__snap_reader *r, uint64_t off, const char *fmt, va_list ap)
    PERSONA__PRINTF(3, 0);
static int sec_vcorrupt(persona__snap_reader *r, uint64_t off, const char *fmt, va_list ap)
{
    char what[384];
    vsnprintf(what, sizeof what, fmt, ap);
    if (!r->cur)
        return r_fail(r, PERSONA_ECORRUPT, "%s: %s", r->path, what);
    return r_fail(r, PERSONA_ECORRUPT, "%s: section %s at offset %llu: %s", r->path, r->name,
                  (unsigned long long)off, what);
}

static int sec_corrupt(persona__snap_reader *r, uint64_t off, const char *fmt, ...)
    PERSONA__PRINTF(3, 4);
static int sec_corrupt(persona__snap_reader *r, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sec_vcorrupt(r, off, fmt, ap);
    va_end(ap);
    return rc;
}

int persona__snap_corrupt(persona__snap_reader *r, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    va_list ap;
    va_start(ap, fmt);
    int rc = sec_vcorrupt(r, r->pos, fmt, ap);
    va_end(ap);
    return rc;
}

static int pread_all(persona__snap_reader *r, uint8_t *dst, size_t len, uint64_t off)
{
    const persona__io_ops *io = persona__io();
    while (len > 0) {
        ssize_t got = io->pread(r->fd, dst, len, (off_t)off);
        if (got < 0)
            return r_io(r, "read", errno);
        if (got == 0) /* the size was checked at open: the file shrank since */
            return r_fail(r, PERSONA_EIO, "%s: read failed: unexpected end of file at offset %llu",
                          r->path, (unsigned long long)off);
        dst += got;
        off += (uint64_t)got;
        len -= (size_t)got;
    }
    return PERSONA_OK;
}

/* Copy bytes [off, off + len) of the file (callers keep them within r->size). */
static int fetch(persona__snap_reader *r, uint64_t off, void *dst, size_t len)
{
    if (r->fd < 0) {
        if (len)
            memcpy(dst, r->mem + off, len);
        return PERSONA_OK;
    }
    uint8_t *d = dst;
    while (len > 0) {
        if (off >= r->buf_off && off - r->buf_off < r->buf_len) {
            size_t n = r->buf_len - (size_t)(off - r->buf_off);
            if (n > len)
                n = len;
            memcpy(d, r->buf + (off - r->buf_off), n);
            d += n;
            off += n;
            len -= n;
        } else if (len >= RBUF_CAP) {
            return pread_all(r, d, len, off);
        } else {
            uint64_t n = r->size - off < RBUF_CAP ? r->size - off : RBUF_CAP;
            r->buf_len = 0;
            int rc = pread_all(r, r->buf, (size_t)n, off);
            if (rc)
                return rc;
            r->buf_off = off;
            r->buf_len = (size_t)n;
        }
    }
    return PERSONA_OK;
}

static const char *kind_name(uint32_t kind, char *buf, size_t cap)
{
    if (kind == PERSONA__SNAP_KIND_STORE)
        return "store";
    if (kind == PERSONA__SNAP_KIND_COHORT)
        return "cohort table";
    if (kind == PERSONA__SNAP_KIND_FUNNEL)
        return "funnel";
    if (kind == PERSONA__SNAP_KIND_SEGMENTS)
        return "segment model";
    if (kind == PERSONA__SNAP_KIND_RFM)
        return "table of RFM scores";
    if (kind == PERSONA__SNAP_KIND_KMEANS)
        return "k-means model";
    if (kind == PERSONA__SNAP_KIND_AFFINITY)
        return "matrix of item affinities";
    if (kind == PERSONA__SNAP_KIND_PATHS)
        return "path model";
    if (kind == PERSONA__SNAP_KIND_ATTRIBUTION)
        return "set of attribution journeys";
    snprintf(buf, cap, "kind %u", kind);
    return buf;
}

static int entry_by_id(const void *a, const void *b)
{
    uint32_t x = ((const snap_entry *)a)->id, y = ((const snap_entry *)b)->id;
    return (x > y) - (x < y);
}

/* The table: CRC first (so a damaged table is reported as such), then each entry. */
static int check_table(persona__snap_reader *r, uint32_t want_crc)
{
    const char *p = r->path;
    uint8_t chunk[32 * PERSONA__SNAP_TABLE_ENTRY];
    uint64_t table_len = (uint64_t)r->count * PERSONA__SNAP_TABLE_ENTRY;
    uint32_t crc = 0;
    for (uint64_t done = 0; done < table_len;) {
        size_t n = table_len - done < sizeof chunk ? (size_t)(table_len - done) : sizeof chunk;
        int rc = fetch(r, r->table_off + done, chunk, n);
        if (rc)
            return rc;
        crc = persona__crc32c(crc, chunk, n);
        done += n;
    }
    if (CRC_DIFFERS(crc, want_crc))
        return r_fail(r, PERSONA_ECORRUPT, "%s: section table checksum mismatch at offset %llu", p,
                      (unsigned long long)r->table_off);
    /* count * 32 bytes are in the file: this allocation is bounded by the file's size. */
    r->sec = r->count ? persona__calloc(r->count, sizeof *r->sec) : NULL;
    if (r->count && !r->sec)
        return persona__fail_nomem(); /* the reader is freed: no need to keep it sticky */
    uint64_t expect = PERSONA__SNAP_HEADER; /* where the next section must start */
    for (uint32_t i = 0; i < r->count; i++) {
        uint64_t eoff = r->table_off + (uint64_t)i * PERSONA__SNAP_TABLE_ENTRY;
        uint8_t *e = chunk;
        int rc = fetch(r, eoff, e, PERSONA__SNAP_TABLE_ENTRY);
        if (rc)
            return rc;
        snap_entry *s = &r->sec[i];
        s->id = le32_get(e);
        s->flags = le32_get(e + 4);
        s->offset = le64_get(e + 8);
        s->length = le64_get(e + 16);
        s->crc = le32_get(e + 24);
        s->index = i;
        unsigned long long at = (unsigned long long)eoff;
        if (s->id == 0)
            return r_fail(r, PERSONA_ECORRUPT, "%s: section id 0 at offset %llu", p, at);
        if (s->flags & ~PERSONA__SNAP_REQUIRED)
            return r_fail(r, PERSONA_ECORRUPT, "%s: section %u has unknown flags %#x at offset %llu",
                          p, s->id, s->flags, at);
        if (le32_get(e + 28) != 0)
            return r_fail(r, PERSONA_ECORRUPT,
                          "%s: section %u has a nonzero reserved field at offset %llu", p, s->id,
                          at + 28);
        /* Tight layout: this also rules out offsets below 64, misalignment, disorder
         * and overlap. */
        if (s->offset != expect)
            return r_fail(r, PERSONA_ECORRUPT,
                          "%s: section %u starts at %llu, not at %llu (table entry at offset %llu)",
                          p, s->id, (unsigned long long)s->offset, (unsigned long long)expect, at);
        if (s->length > r->table_off - s->offset)
            return r_fail(r, PERSONA_ECORRUPT,
                          "%s: section %u of %llu bytes runs past the section table at offset %llu",
                          p, s->id, (unsigned long long)s->length,
                          (unsigned long long)r->table_off);
        expect = s->offset + s->length + pad8(s->offset + s->length);
    }
    if (expect != r->table_off)
        return r_fail(r, PERSONA_ECORRUPT, "%s: unused bytes between %llu and the table at offset %llu",
                      p, (unsigned long long)expect, (unsigned long long)r->table_off);
    /* Padding is in no checksum: it must be zero, or a flipped bit there would go unseen. */
    for (uint32_t i = 0; i < r->count; i++) {
        uint64_t end = r->sec[i].offset + r->sec[i].length;
        uint8_t pad[8] = { 0 };
        int rc = fetch(r, end, pad, (size_t)pad8(end));
        if (rc)
            return rc;
        for (size_t k = 0; k < pad8(end); k++)
            if (pad[k])
                return r_fail(r, PERSONA_ECORRUPT, "%s: nonzero padding after section %u at offset %llu",
                              p, r->sec[i].id, (unsigned long long)(end + k));
    }
    if (r->count)
        qsort(r->sec, r->count, sizeof *r->sec, entry_by_id);
    for (uint32_t i = 1; i < r->count; i++)
        if (r->sec[i].id == r->sec[i - 1].id) {
            uint32_t later = r->sec[i].index > r->sec[i - 1].index ? r->sec[i].index
                                                                   : r->sec[i - 1].index;
            return r_fail(r, PERSONA_ECORRUPT, "%s: section %u appears twice (at offset %llu)", p,
                          r->sec[i].id,
                          (unsigned long long)(r->table_off +
                                               (uint64_t)later * PERSONA__SNAP_TABLE_ENTRY));
        }
    return PERSONA_OK;
}

/* Header and table, in the order of docs/file-format.md. */
static int check_file(persona__snap_reader *r, uint32_t kind)
{
    const char *p = r->path;
    uint8_t h[PERSONA__SNAP_HEADER];
    if (r->size < PERSONA__SNAP_HEADER)
        return r_fail(r, PERSONA_ECORRUPT,
                      "%s: not a libpersona snapshot: %llu bytes, shorter than the header, at offset 0",
                      p, (unsigned long long)r->size);
    int rc = fetch(r, 0, h, sizeof h);
    if (rc)
        return rc;
    if (memcmp(h, PERSONA__SNAP_MAGIC, 8) != 0)
        return r_fail(r, PERSONA_ECORRUPT, "%s: not a libpersona snapshot: no magic at offset 0", p);
    /* The version before the header CRC: a newer file is reported as newer, not damaged,
     * even if it changed the header's layout. */
    uint32_t version = le32_get(h + 8);
    if (version > PERSONA__SNAP_VERSION)
        return r_fail(r, PERSONA_EVERSION,
                      "%s: snapshot format version %u at offset 8 is newer than this library's %u",
                      p, version, PERSONA__SNAP_VERSION);
    if (version == 0)
        return r_fail(r, PERSONA_ECORRUPT, "%s: format version 0 at offset 8", p);
    if (CRC_DIFFERS(persona__crc32c(0, h, 60), le32_get(h + 60)))
        return r_fail(r, PERSONA_ECORRUPT, "%s: header checksum mismatch at offset 60", p);
    for (int i = 40; i < 60; i++)
        if (h[i])
            return r_fail(r, PERSONA_ECORRUPT, "%s: nonzero reserved header byte at offset %d", p, i);
    uint32_t file_kind = le32_get(h + 12);
    if (file_kind != kind) {
        char a[24], b[24];
        return r_fail(r, PERSONA_ECORRUPT, "%s: holds a %s, not a %s (kind at offset 12)", p,
                      kind_name(file_kind, a, sizeof a), kind_name(kind, b, sizeof b));
    }
    uint64_t len = le64_get(h + 16);
    if (len != r->size)
        return r_fail(r, PERSONA_ECORRUPT,
                      "%s: %s: the length at offset 16 says %llu bytes, the file has %llu", p,
                      len > r->size ? "truncated" : "trailing bytes", (unsigned long long)len,
                      (unsigned long long)r->size);
    r->table_off = le64_get(h + 24);
    r->count = le32_get(h + 32);
    /* count * 32 < 2^37 cannot overflow, nor can size - table_off once table_off <= size. */
    if (r->table_off < PERSONA__SNAP_HEADER || r->table_off % 8 != 0 || r->table_off > r->size ||
        r->size - r->table_off != (uint64_t)r->count * PERSONA__SNAP_TABLE_ENTRY)
        return r_fail(r, PERSONA_ECORRUPT,
                      "%s: a section table of %u entries at offset %llu does not end at the file "
                      "length %llu",
                      p, r->count, (unsigned long long)r->table_off, (unsigned long long)r->size);
    return check_table(r, le32_get(h + 36));
}

void persona__snap_close(persona__snap_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        (void)persona__io()->close(r->fd); /* read-only: nothing to lose */
    persona__free(r->path_copy);
    persona__free(r->buf);
    persona__free(r->sec);
    persona__free(r);
}

int persona__snap_open(persona__snap_reader **out, const char *path, uint32_t kind)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "snapshot: %s is NULL", out ? "path" : "out");
    persona__snap_reader *r = persona__calloc(1, sizeof *r);
    if (!r)
        return persona__fail_nomem();
    r->fd = -1;
    r->path_copy = persona__strndup(path, strlen(path));
    r->buf = r->path_copy ? persona__alloc(RBUF_CAP) : NULL;
    if (!r->buf) {
        persona__snap_close(r);
        return persona__fail_nomem();
    }
    r->path = r->path_copy;
    const persona__io_ops *io = persona__io();
    struct stat st;
    int rc;
    r->fd = io->open(path, O_RDONLY | O_CLOEXEC, 0);
    if (r->fd < 0)
        rc = r_io(r, "open", errno);
    else if (io->fstat(r->fd, &st) != 0)
        rc = r_io(r, "fstat", errno);
    else {
        r->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
        rc = check_file(r, kind);
    }
    if (rc) {
        persona__snap_close(r);
        return rc;
    }
    *out = r;
    return PERSONA_OK;
}

int persona__snap_open_memory(persona__snap_reader **out, const void *data, size_t len,
                              uint32_t kind)
{
    if (out)
        *out = NULL;
    if (!out || (!data && len))
        return persona__fail(PERSONA_EINVAL, "snapshot: %s is NULL", out ? "data" : "out");
    persona__snap_reader *r = persona__calloc(1, sizeof *r);
    if (!r)
        return persona__fail_nomem();
    r->fd = -1;
    r->mem = data;
    r->size = len;
    r->path = "(memory)";
    int rc = check_file(r, kind);
    if (rc) {
        persona__snap_close(r);
        return rc;
    }
    *out = r;
    return PERSONA_OK;
}

int persona__snap_check_known(persona__snap_reader *r, const uint32_t *known, size_t n)
{
    if (r->err)
        return r->err;
    for (uint32_t i = 0; i < r->count; i++) {
        const snap_entry *s = &r->sec[i];
        if (!(s->flags & PERSONA__SNAP_REQUIRED))
            continue;
        size_t k = 0;
        while (k < n && known[k] != s->id)
            k++;
        if (k == n)
            return r_fail(r, PERSONA_EVERSION,
                          "%s: section %u at offset %llu is required but unknown to this library "
                          "(written by a newer version)",
                          r->path, s->id, (unsigned long long)s->offset);
    }
    return PERSONA_OK;
}

int persona__snap_require(persona__snap_reader *r, uint32_t id, const char *name, const char *path)
{
    uint64_t len = 0;
    int rc = persona__snap_section(r, id, name, &len);
    if (rc == 0)
        return persona__fail(PERSONA_ECORRUPT, "%s: the %s section is missing", path, name);
    return rc < 0 ? rc : PERSONA_OK;
}

int persona__snap_load(void *out, const char *path, const void *data, size_t len, uint32_t kind,
                       const uint32_t *known, size_t n_known, persona__snap_decode_fn decode)
{
    persona__snap_reader *r = NULL;
    int rc = data ? persona__snap_open_memory(&r, data, len, kind)
                  : persona__snap_open(&r, path, kind);
    if (rc)
        return rc;
    rc = persona__snap_check_known(r, known, n_known);
    if (!rc)
        rc = decode(out, r, path);
    persona__snap_close(r);
    return rc;
}

int persona__snap_section(persona__snap_reader *r, uint32_t id, const char *name,
                          uint64_t *len_out)
{
    if (len_out)
        *len_out = 0;
    if (r->err)
        return r->err;
    r->cur = NULL; /* an open section is abandoned, unchecked */
    r->left = 0;
    snap_entry key = { 0 };
    key.id = id;
    const snap_entry *s =
        r->count ? bsearch(&key, r->sec, r->count, sizeof *r->sec, entry_by_id) : NULL;
    if (!s)
        return 0;
    r->cur = s;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "?");
    r->pos = s->offset;
    r->left = s->length;
    r->crc = 0;
    if (len_out)
        *len_out = s->length;
    return 1;
}

uint64_t persona__snap_left(const persona__snap_reader *r)
{
    return r->cur ? r->left : 0;
}

/* Sticky error, or EMISUSE outside a section. */
static int r_usable(persona__snap_reader *r, const char *what)
{
    if (r->err)
        return r->err;
    if (!r->cur)
        return r_fail(r, PERSONA_EMISUSE, "%s: %s outside a section", r->path, what);
    return PERSONA_OK;
}

int persona__snap_read(persona__snap_reader *r, void *dst, size_t len)
{
    int rc = r_usable(r, "read");
    if (rc)
        return rc;
    if (len > r->left)
        return sec_corrupt(r, r->pos, "truncated: %zu bytes wanted, %llu left", len,
                           (unsigned long long)r->left);
    rc = fetch(r, r->pos, dst, len);
    if (rc)
        return rc;
    if (len)
        r->crc = persona__crc32c(r->crc, dst, len);
    r->pos += len;
    r->left -= len;
    return PERSONA_OK;
}

int persona__snap_get_u32(persona__snap_reader *r, uint32_t *v)
{
    uint8_t b[4];
    int rc = persona__snap_read(r, b, sizeof b);
    if (!rc)
        *v = le32_get(b);
    return rc;
}

int persona__snap_get_u64(persona__snap_reader *r, uint64_t *v)
{
    uint8_t b[8];
    int rc = persona__snap_read(r, b, sizeof b);
    if (!rc)
        *v = le64_get(b);
    return rc;
}

/* Two's complement without relying on implementation-defined conversions. */
int persona__snap_get_i32(persona__snap_reader *r, int32_t *v)
{
    uint32_t u;
    int rc = persona__snap_get_u32(r, &u);
    if (!rc)
        *v = u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
    return rc;
}

int persona__snap_get_i64(persona__snap_reader *r, int64_t *v)
{
    uint64_t u;
    int rc = persona__snap_get_u64(r, &u);
    if (!rc)
        *v = u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
    return rc;
}

int persona__snap_get_f64(persona__snap_reader *r, double *v)
{
    uint64_t u;
    int rc = persona__snap_get_u64(r, &u);
    if (!rc)
        memcpy(v, &u, sizeof *v);
    return rc;
}

static int get_array(persona__snap_reader *r, void *v, size_t n, size_t size)
{
    int rc = r_usable(r, "read");
    if (rc)
        return rc;
    if (n > r->left / size)
        return sec_corrupt(r, r->pos, "truncated: %zu values of %zu bytes wanted, %llu bytes left",
                           n, size, (unsigned long long)r->left);
    rc = persona__snap_read(r, v, n * size);
#if SNAP_BIG_ENDIAN
    if (!rc)
        swap_in_place(v, n, size);
#endif
    return rc;
}

int persona__snap_get_u32s(persona__snap_reader *r, uint32_t *v, size_t n)
{
    return get_array(r, v, n, sizeof *v);
}

int persona__snap_get_u64s(persona__snap_reader *r, uint64_t *v, size_t n)
{
    return get_array(r, v, n, sizeof *v);
}

int persona__snap_get_i64s(persona__snap_reader *r, int64_t *v, size_t n)
{
    return get_array(r, v, n, sizeof *v);
}

int persona__snap_get_f64s(persona__snap_reader *r, double *v, size_t n)
{
    return get_array(r, v, n, sizeof *v);
}

int persona__snap_need(persona__snap_reader *r, uint64_t n, size_t elem, const char *what)
{
    int rc = r_usable(r, "need");
    if (rc)
        return rc;
    if (elem && n > r->left / elem)
        return sec_corrupt(r, r->pos, "%s: %llu entries do not fit in the %llu bytes left", what,
                           (unsigned long long)n, (unsigned long long)r->left);
    return PERSONA_OK;
}

int persona__snap_section_end(persona__snap_reader *r)
{
    int rc = r_usable(r, "section_end");
    if (rc)
        return rc;
    if (r->left)
        return sec_corrupt(r, r->pos, "%llu bytes not read", (unsigned long long)r->left);
    if (CRC_DIFFERS(r->crc, r->cur->crc))
        return sec_corrupt(r, r->cur->offset, "checksum mismatch");
    r->cur = NULL;
    return PERSONA_OK;
}

/* A string as u32 length + bytes; NULL is the length UINT32_MAX (so "" stays ""). */
int persona__snap_put_str(persona__snap_writer *w, const char *s)
{
    if (!s)
        return persona__snap_put_u32(w, UINT32_MAX);
    size_t len = strlen(s);
    if (len >= UINT32_MAX)
        return persona__snap_put_u32(w, UINT32_MAX); /* unreachable: keys are short */
    int rc = persona__snap_put_u32(w, (uint32_t)len);
    return rc ? rc : persona__snap_put(w, s, len);
}

int persona__snap_get_str(persona__snap_reader *r, char **out, uint32_t max_len, const char *what)
{
    *out = NULL;
    uint32_t len;
    int rc = persona__snap_get_u32(r, &len);
    if (rc || len == UINT32_MAX)
        return rc;
    if (len > max_len)
        return persona__snap_corrupt(r, "%s of %u bytes (at most %u)", what, len, max_len);
    rc = persona__snap_need(r, len, 1, what);
    if (rc)
        return rc;
    char *s = persona__alloc((size_t)len + 1);
    if (!s)
        return persona__fail_nomem();
    rc = persona__snap_read(r, s, len);
    s[len] = '\0';
    if (rc == PERSONA_OK && (memchr(s, '\0', len) || !persona__utf8_valid(s, len, NULL)))
        rc = persona__snap_corrupt(r, "%s is not valid UTF-8 text", what);
    if (rc) {
        persona__free(s);
        return rc;
    }
    *out = s;
    return PERSONA_OK;
}
