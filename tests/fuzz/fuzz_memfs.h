/* An in-memory file system holding the one file a snapshot save writes, installed with
 * persona__io_set, so the snapshot fuzz targets save without a disk and without an fsync
 * per input. Include after fuzz_common.h. */
#ifndef PERSONA_FUZZ_MEMFS_H
#define PERSONA_FUZZ_MEMFS_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "persist/io.h"

#define MEMFS_FD 1000
static uint8_t *memfs_data;
static size_t memfs_len, memfs_cap;

static int memfs_reserve(size_t end)
{
    if (end <= memfs_cap)
        return 0;
    size_t cap = memfs_cap ? memfs_cap : 4096;
    while (cap < end)
        cap *= 2;
    uint8_t *p = realloc(memfs_data, cap);
    if (!p)
        return -1;
    memfs_data = p;
    memfs_cap = cap;
    return 0;
}

static int memfs_open(const char *path, int flags, mode_t mode)
{
    (void)path;
    (void)mode;
    if (!(flags & O_DIRECTORY))
        memfs_len = 0;
    return MEMFS_FD;
}

static ssize_t memfs_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (fd != MEMFS_FD || off < 0 || memfs_reserve((size_t)off + n)) {
        errno = EIO;
        return -1;
    }
    memcpy(memfs_data + off, buf, n);
    if ((size_t)off + n > memfs_len)
        memfs_len = (size_t)off + n;
    return (ssize_t)n;
}

static ssize_t memfs_write(int fd, const void *buf, size_t n)
{
    return memfs_pwrite(fd, buf, n, (off_t)memfs_len);
}

static ssize_t memfs_pread(int fd, void *buf, size_t n, off_t off)
{
    (void)fd, (void)buf, (void)n, (void)off;
    errno = EIO; /* the target reads only from memory */
    return -1;
}

static int memfs_fstat(int fd, struct stat *st)
{
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_size = (off_t)memfs_len;
    return 0;
}

static int memfs_ok_fd(int fd)
{
    (void)fd;
    return 0;
}

static int memfs_rename(const char *from, const char *to)
{
    (void)from, (void)to;
    return 0;
}

static int memfs_unlink(const char *path)
{
    (void)path;
    return 0;
}

static const persona__io_ops memfs_ops = { memfs_open,  memfs_write,  memfs_pwrite,
                                           memfs_pread, memfs_fstat,  memfs_ok_fd,
                                           memfs_ok_fd, memfs_rename, memfs_unlink };

/* A copy of the file the last save wrote (free it); rc is what the save returned. */
static uint8_t *memfs_take(int rc, size_t *len)
{
    FUZZ_ASSERT(rc == PERSONA_OK, "save failed: %d", rc);
    uint8_t *copy = malloc(memfs_len ? memfs_len : 1);
    FUZZ_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, memfs_data, memfs_len);
    *len = memfs_len;
    return copy;
}

/* Save s into the in-memory file; a copy of the bytes (free it). */
static uint8_t *save_to_memory(const persona_store *s, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_store_save(s, "/memfs/store.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

#endif
