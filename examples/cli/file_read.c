/* Reading a whole input file into memory: the basket CSV of `persona itemsets` / `rules`,
 * the rule and list files of `persona segment` and `persona overindex`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
