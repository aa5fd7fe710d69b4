/* The file calls of lib/persist go through one operations table, so tests can substitute
 * one that fails a chosen call (EIO, ENOSPC, a short write) or records what a save did
 * (TESTING §6). Only tests change it; it is not meant to change while files are open. */
#ifndef PERSONA_PERSIST_IO_H
#define PERSONA_PERSIST_IO_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct persona__io_ops {
    int (*open)(const char *path, int flags, mode_t mode);
    ssize_t (*write)(int fd, const void *buf, size_t n);
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t offset);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t offset);
    int (*fstat)(int fd, struct stat *st);
    int (*fsync)(int fd);
    int (*close)(int fd);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
} persona__io_ops;

/* The libc calls (open, write, … as such). */
extern const persona__io_ops persona__io_libc;

/* The table in use (persona__io_libc unless a test set another). */
const persona__io_ops *persona__io(void);
/* Tests: use ops from now on; NULL restores persona__io_libc. */
void persona__io_set(const persona__io_ops *ops);

#endif
