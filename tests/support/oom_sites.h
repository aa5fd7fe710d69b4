/* The allocation call sites of some lib/ files that an OOM test reached (TESTING §5): every
 * line of lib/DIR/FILE that calls persona__alloc / _calloc / _realloc / _realloc_array /
 * _strndup / _grow must be among the sites the failing allocator saw. Include after
 * check.h, failalloc.h and file_check.h. */
#ifndef PERSONA_TEST_OOM_SITES_H
#define PERSONA_TEST_OOM_SITES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Checks that every call site of lib_dir/dir/files[i] was reached; at least `least` of
 * them exist (so a moved directory cannot pass unseen). */
static inline void check_oom_sites(const char *lib_dir, const char *dir, const char *const *files,
                                   size_t n_files, int least, const char *what)
{
    char dump[128];
    snprintf(dump, sizeof dump, "%s/oom_sites_%d.txt", test_temp_dir(), (int)getpid());
    failalloc_dump_sites(dump);
    size_t dlen = 0;
    uint8_t *dtext = read_file(dump, &dlen);
    unlink(dump);
    char *seen = malloc(dlen + 1);
    if (dtext)
        memcpy(seen, dtext, dlen);
    seen[dlen] = '\0';
    free(dtext);
    static const char *const calls[] = { "persona__alloc(", "persona__calloc(",
                                         "persona__realloc(", "persona__realloc_array(",
                                         "persona__strndup(", "persona__grow(" };
    int total = 0, reached = 0;
    for (size_t fi = 0; fi < n_files; fi++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s/%s", lib_dir, dir, files[fi]);
        size_t len = 0;
        uint8_t *src = read_file(path, &len);
        CHECK(src != NULL);
        if (!src)
            continue;
        char *text = malloc(len + 1);
        memcpy(text, src, len);
        text[len] = '\0';
        free(src);
        int line = 1;
        for (char *p = text; *p;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            int has = 0;
            for (size_t c = 0; c < sizeof calls / sizeof *calls; c++)
                has |= strstr(p, calls[c]) != NULL;
            if (has) {
                char site[128];
                snprintf(site, sizeof site, "%s/%s:%d\n", dir, files[fi], line);
                total++;
                if (strstr(seen, site))
                    reached++;
                else
                    fprintf(stderr, "  not reached: lib/%s/%s:%d\n", dir, files[fi], line);
            }
            if (!nl)
                break;
            p = nl + 1;
            line++;
        }
        free(text);
    }
    fprintf(stderr, "allocation call sites of %s reached: %d/%d\n", what, reached, total);
    CHECK(total >= least && reached == total);
    free(seen);
}

#endif
