/* The injection loop the model OOM tests share (TESTING.md §5). OOM_DEFINE_UNDER_INJECTION(T,
 * result_of) defines
 *     static void under_injection(int (*op)(T **h, char **text, const void *arg),
 *                                 const void *arg, const char *what)
 * which runs op once for the reference result, then again with the N-th allocation
 * failing once and from N on, for N = 1, 2, … until no failure is injected: a failed call
 * returns PERSONA_ENOMEM and leaves *h NULL (or untouched) and nothing allocated; a call
 * that succeeds gives the reference result. An op puts a handle it made in *h and a
 * query's result (malloc'd text) in *text; result_of(h, text) turns them into one
 * malloc'd text, freeing the handle. The test file defines `static int counted` (runs
 * under injection). Include after check.h and failalloc.h. */
#ifndef PERSONA_TEST_OOM_INJECT_H
#define PERSONA_TEST_OOM_INJECT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OOM_DEFINE_UNDER_INJECTION(T, result_of)                                           \
    static void under_injection(int (*op)(T **h, char **text, const void *arg),           \
                                const void *arg, const char *what)                        \
    {                                                                                      \
        T *h = NULL;                                                                       \
        char *text = NULL;                                                                 \
        CHECK_RC(op(&h, &text, arg), PERSONA_OK);                                          \
        char *want = result_of(h, text);                                                   \
        for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {                \
            for (uint64_t n = 1;; n++) {                                                   \
                uint64_t live0 = failalloc_live();                                         \
                h = (T *)1;                                                                \
                text = NULL;                                                               \
                failalloc_arm(n, mode);                                                    \
                int rc = op(&h, &text, arg);                                               \
                int injected = failalloc_disarm();                                         \
                counted++;                                                                 \
                if (rc == PERSONA_OK) {                                                    \
                    char *got = result_of(h == (T *)1 ? NULL : h, text);                   \
                    CHECK(got && want && strcmp(got, want) == 0);                          \
                    free(got);                                                             \
                } else {                                                                   \
                    if (rc != PERSONA_ENOMEM)                                              \
                        fprintf(stderr, "%s: n=%llu mode=%d: rc %d (%s)\n", what,          \
                                (unsigned long long)n, mode, rc, persona_errmsg());        \
                    CHECK_RC(rc, PERSONA_ENOMEM);                                          \
                    CHECK(h == NULL || h == (T *)1);                                       \
                    free(text);                                                            \
                }                                                                          \
                CHECK(failalloc_live() == live0);                                          \
                if (!injected) {                                                           \
                    CHECK_RC(rc, PERSONA_OK);                                              \
                    break;                                                                 \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        free(want);                                                                        \
    }

#endif
