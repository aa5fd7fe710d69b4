#include "block_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

/* A file-level failure: EIO whose message names the step, the path and the system error. */
static int fail_io(const char *step, const char *path, int err)
{
    char msg[128];
    if (strerror_r(err, msg, sizeof msg) != 0)
        msg[0] = '\0';
    if (!msg[0])
        return persona__fail(PERSONA_EIO, "cannot %s '%s': error %d", step, path, err);
    return persona__fail(PERSONA_EIO, "cannot %s '%s': %s", step, path, msg);
}

static void reset_window(persona__block_reader *br)
{
    br->pos = 0;
    br->base = 0;
    br->started = 0;
    br->mem_off = 0;
    if (br->fd < 0 && !br->copy_mem) {
        /* Borrowed memory is one window that is complete from the start. */
        br->data = br->mem;
        br->len = br->mem_len;
        br->eof = 1;
    } else {
        br->data = br->buf;
        br->len = 0;
        br->eof = 0;
    }
}

int persona__block_reader_open_file(persona__block_reader *br, const char *path, size_t limit)
{
    memset(br, 0, sizeof *br);
    br->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_io("open", path, errno);
    /* A directory opens fine but fails on read(); say so now, where the caller expects
     * errors about the path. */
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return fail_io("read", path, EISDIR);
    }
    br->path = persona__strndup(path, strlen(path));
    if (!br->path) {
        close(fd);
        return persona__fail_nomem();
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint: failure is harmless */
#endif
    br->fd = fd;
    br->block = PERSONA__BLOCK_SIZE;
    br->limit = limit;
    reset_window(br);
    return PERSONA_OK;
}

void persona__block_reader_open_memory(persona__block_reader *br, const char *data, size_t len,
                                       size_t limit)
{
    memset(br, 0, sizeof *br);
    br->fd = -1;
    /* Never do arithmetic on a NULL window, even for empty input. */
    br->mem = data ? data : "";
    br->mem_len = data ? len : 0;
    br->block = PERSONA__BLOCK_SIZE;
    br->limit = limit;
    reset_window(br);
}

void persona__block_reader_close(persona__block_reader *br)
{
    if (br->fd >= 0)
        close(br->fd);
    persona__free(br->path);
    persona__free(br->buf);
    memset(br, 0, sizeof *br);
    br->fd = -1;
}

void persona__block_reader_set_block(persona__block_reader *br, size_t block)
{
    br->block = block ? block : 1;
    if (br->fd < 0) {
        br->copy_mem = 1;
        reset_window(br);
    }
}

/* One read of at most n bytes into dst: bytes read, 0 at end of input, -1 on error. */
static ptrdiff_t source_read(persona__block_reader *br, char *dst, size_t n)
{
    if (br->fd < 0) {
        size_t left = br->mem_len - br->mem_off;
        if (n > left)
            n = left;
        memcpy(dst, br->mem + br->mem_off, n);
        br->mem_off += n;
        return (ptrdiff_t)n;
    }
    for (;;) {
        ssize_t got = read(br->fd, dst, n);
        if (got >= 0 || errno != EINTR)
            return got;
    }
}

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Make room for `need` bytes in the buffer; growth doubles (so a record that keeps growing
 * costs amortized O(1) per byte) but never beyond limit + block. */
static int ensure_cap(persona__block_reader *br, size_t need)
{
    if (need <= br->cap)
        return 0;
    size_t most = add_sat(br->limit, br->block);
    size_t cap = br->cap > most / 2 ? most : br->cap * 2;
    if (cap < need)
        cap = need;
    char *p = persona__realloc(br->buf, cap);
    if (!p)
        return persona__fail_nomem();
    br->buf = p;
    br->cap = cap;
    br->data = p;
    return 0;
}

int persona__block_reader_refill(persona__block_reader *br, size_t want)
{
    if (br->eof)
        return 0;
    /* Keep the unconsumed tail at the front. */
    size_t keep = br->len - br->pos;
    if (keep && br->pos)
        memmove(br->buf, br->buf + br->pos, keep);
    br->base += br->pos;
    br->len = keep;
    br->pos = 0;

    size_t room = add_sat(keep < br->limit ? br->limit - keep : 0, br->block);
    if (want > room)
        want = room;
    if (want == 0)
        want = 1;
    int rc = ensure_cap(br, add_sat(keep, want > br->block ? want : br->block));
    if (rc)
        return rc;
    size_t got = 0;
    while (got < want && br->len < br->cap) {
        size_t n = br->cap - br->len;
        if (n > br->block)
            n = br->block;
        ptrdiff_t r = source_read(br, br->buf + br->len, n);
        if (r < 0)
            return fail_io("read", br->path, errno);
        if (r == 0) {
            br->eof = 1;
            break;
        }
        br->len += (size_t)r;
        got += (size_t)r;
    }
    return 0;
}

int persona__block_reader_begin(persona__block_reader *br)
{
    if (br->started)
        return 0;
    if (!br->eof && br->len - br->pos < 3) {
        /* refill() reads until 3 bytes are in or input ends, whatever the block size. */
        int rc = persona__block_reader_refill(br, 3);
        if (rc)
            return rc;
    }
    if (br->len - br->pos >= 3 && memcmp(br->data + br->pos, "\xEF\xBB\xBF", 3) == 0)
        br->pos += 3;
    br->started = 1;
    return 0;
}

int persona__block_reader_rewind(persona__block_reader *br)
{
    if (br->fd >= 0 && lseek(br->fd, 0, SEEK_SET) < 0)
        return fail_io("rewind", br->path, errno);
    reset_window(br);
    return 0;
}
