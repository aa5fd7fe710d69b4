/* The allocation-failure loop of TESTING §5 for one scenario: op() is called with the N-th
 * allocation failing once, then from N on, for N = 1, 2, … until a call sees no injected
 * failure. A failed call must return PERSONA_ENOMEM with no result and leave the live block
 * count as before; a call that succeeds must give the reference result (the first call's,
 * made without injection). Results are compared as text, made by text() after the
 * injection is disarmed (text() frees the result; a query made there may allocate).
 * Include after check.h and failalloc.h. */
#ifndef PERSONA_TEST_OOM_INJECT_H
#define PERSONA_TEST_OOM_INJECT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One scenario: returns rc; on success *result holds what it made (NULL allowed). */
typedef int (*oom_op_fn)(void **result, const void *arg);
/* The result as malloc'd text; frees the result. */
typedef char *(*oom_text_fn)(void *result);

static inline void oom_under_injection(oom_op_fn op, oom_text_fn text, const void *arg,
                                       const char *what, int *counted)
{
    void *res = NULL;
    CHECK_RC(op(&res, arg), PERSONA_OK);
    char *want = text(res);
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            uint64_t live0 = failalloc_live();
            res = NULL;
            failalloc_arm(n, mode);
            int rc = op(&res, arg);
            int injected = failalloc_disarm();
            (*counted)++;
            if (rc == PERSONA_OK) {
                char *got = text(res);
                CHECK(got && want && strcmp(got, want) == 0);
                free(got);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s: n=%llu mode=%d: rc %d (%s)\n", what,
                            (unsigned long long)n, mode, rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(res == NULL);
            }
            CHECK(failalloc_live() == live0);
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
    free(want);
}

#endif
