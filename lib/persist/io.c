#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* Calls that a signal can interrupt before anything happened are retried. close() is not:
 * on Linux the descriptor is gone even when it reports EINTR, so a retry could close a
 * descriptor another thread has just opened. */

static int io_open(const char *path, int flags, mode_t mode)
{
    int fd;
    do
        fd = open(path, flags, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static ssize_t io_write(int fd, const void *buf, size_t n)
{
    ssize_t r;
    do
        r = write(fd, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

static ssize_t io_pwrite(int fd, const void *buf, size_t n, off_t offset)
{
    ssize_t r;
    do
        r = pwrite(fd, buf, n, offset);
    while (r < 0 && errno == EINTR);
    return r;
}

static ssize_t io_pread(int fd, void *buf, size_t n, off_t offset)
{
    ssize_t r;
    do
        r = pread(fd, buf, n, offset);
    while (r < 0 && errno == EINTR);
    return r;
}

static int io_fstat(int fd, struct stat *st)
{
    int r;
    do
        r = fstat(fd, st);
    while (r < 0 && errno == EINTR);
    return r;
}

static int io_fsync(int fd)
{
    int r;
    do
        r = fsync(fd);
    while (r < 0 && errno == EINTR);
    return r;
}

static int io_close(int fd)
{
    return close(fd);
}

static int io_rename(const char *from, const char *to)
{
    return rename(from, to);
}

static int io_unlink(const char *path)
{
    return unlink(path);
}

const persona__io_ops persona__io_libc = {
    io_open, io_write, io_pwrite, io_pread, io_fstat, io_fsync, io_close, io_rename, io_unlink,
};

/* Changed only by tests, while no file is open (io.h), so a plain pointer suffices. */
static const persona__io_ops *current_ops = &persona__io_libc;

const persona__io_ops *persona__io(void)
{
    return current_ops;
}

void persona__io_set(const persona__io_ops *ops)
{
    current_ops = ops ? ops : &persona__io_libc;
}
