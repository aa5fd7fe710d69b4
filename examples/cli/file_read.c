/* Reading a whole input file into memory: the basket CSV of `persona itemsets` / `rules`
 * (mapped when it is a regular file), the rule and list files of `persona segment` and
 * `persona overindex`. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

char *cli_read_file(const char *cmd, const char *what, const char *path, size_t *len_out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_error(EXIT_RUNTIME, "%s: %s%s: %s", cmd, what, path, strerror(errno));
        return NULL;
    }
    /* A regular file is read in one piece of its size (no doubling copies: the basket
     * CSVs run to tens of megabytes); a pipe grows. */
    struct stat st;
    size_t cap = 4096, n = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            char *b2 = cap > SIZE_MAX / 2 - 1 ? NULL : realloc(buf, 2 * cap + 1);
            if (!b2) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b2;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = buf && ferror(f), err = errno;
    if (f != stdin)
        fclose(f);
    if (!buf) {
        cli_error(EXIT_RUNTIME, "out of memory");
        return NULL;
    }
    if (bad) {
        cli_error(EXIT_RUNTIME, "%s: %s%s: %s", cmd, what, path, strerror(err));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len_out = n;
    return buf;
}

char *cli_map_file(const char *cmd, const char *what, const char *path, size_t *len_out,
                   int *mapped)
{
    *mapped = 0;
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size < SIZE_MAX) {
        /* Private and writable: the few pages a reader writes (quotes removed in place) are
         * copied, the rest is read straight from the page cache, not copied into a buffer. */
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            close(fd);
            *mapped = 1;
            *len_out = (size_t)st.st_size;
            return m;
        }
    }
    if (fd >= 0)
        close(fd);
    return cli_read_file(cmd, what, path, len_out);
}

void cli_unmap_file(char *buf, size_t len, int mapped)
{
    if (mapped)
        munmap(buf, len);
    else
        free(buf);
}
