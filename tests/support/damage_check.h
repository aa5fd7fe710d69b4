/* The damaged-snapshot check of the model I/O tests: the file at `good` cut at every
 * length and with a byte flipped at every position, each written to `scratch` and given
 * to `load` — which returns the load's code, checks that a failed load left no handle and
 * frees a loaded one. The container's CRCs and the decoders' checks cover every byte, so
 * each must be refused with ECORRUPT or EVERSION. Also: two saves hold the same bytes.
 * Include after check.h and file_check.h. */
#ifndef PERSONA_TEST_DAMAGE_CHECK_H
#define PERSONA_TEST_DAMAGE_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int damaged_refused(int (*load)(const char *path), const char *scratch,
                                  const uint8_t *bytes, size_t len)
{
    write_file(scratch, bytes, len);
    int rc = load(scratch);
    if (rc == PERSONA_OK)
        return 0;
    CHECK(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION);
    return 1;
}

static inline void check_damaged(const char *good_path, const char *scratch,
                                 int (*load)(const char *path), const char *what)
{
    size_t len;
    uint8_t *good = read_file(good_path, &len);
    CHECK(good != NULL);
    if (!good)
        return;
    size_t loaded = 0;
    for (size_t cut = 0; cut < len; cut++)
        loaded += !damaged_refused(load, scratch, good, cut);
    for (size_t at = 0; at < len; at++) {
        good[at] ^= 0x20;
        loaded += !damaged_refused(load, scratch, good, len);
        good[at] ^= 0x20;
    }
    if (loaded)
        fprintf(stderr, "  %s: %zu damaged files of %zu loaded\n", what, loaded, 2 * len);
    CHECK(loaded == 0);
    free(good);
}

/* Two saves of the same model (the original's and the reloaded one's) hold the same bytes. */
static inline void check_same_bytes(const char *path_a, const char *path_b)
{
    size_t fa, fb;
    uint8_t *ba = read_file(path_a, &fa), *bb = read_file(path_b, &fb);
    CHECK(ba && bb && fa == fb && memcmp(ba, bb, fa) == 0);
    free(ba);
    free(bb);
}

#endif
