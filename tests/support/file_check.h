/* Whole-file helpers the snapshot tests share (libc memory: not counted by the library's
 * allocator). */
#ifndef PERSONA_TEST_FILE_CHECK_H
#define PERSONA_TEST_FILE_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where tests write their snapshots: /dev/shm when it is there (every save fsyncs, which
 * takes minutes on a busy disk and nothing on tmpfs; test_crash keeps the real disk's
 * behaviour covered), else /tmp. */
static inline const char *test_temp_dir(void)
{
    struct stat st;
    return stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
               ? "/dev/shm"
               : "/tmp";
}

/* The bytes of a file (free them) and their count, or NULL when it cannot be read. */
static inline uint8_t *read_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p)
        *len = (size_t)n;
    return p;
}

/* Write a whole file; a test that cannot is broken, so exit. */
static inline void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* A whole file as lower-case hex text (malloc'd; "" when it cannot be read), so that two
 * saves can be compared as text. */
static inline char *file_hex(const char *path)
{
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    char *text = malloc(2 * len + 1);
    for (size_t i = 0; i < len; i++)
        sprintf(text + 2 * i, "%02x", bytes[i]);
    text[2 * len] = '\0';
    free(bytes);
    return text;
}

/* Whether the file holds `what` anywhere (-1: cannot be read). */
static inline int file_contains(const char *path, const char *what)
{
    size_t n = 0, wl = strlen(what);
    uint8_t *p = read_file(path, &n);
    if (!p)
        return -1;
    int found = 0;
    for (size_t i = 0; i + wl <= n && !found; i++)
        found = memcmp(p + i, what, wl) == 0;
    free(p);
    return found;
}

#endif
