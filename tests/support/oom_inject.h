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

/* For tests whose scenarios make a handle and/or a text: OOM_DEFINE_UNDER_INJECTION(T,
 * result_of) defines
 *     static void under_injection(int (*op)(T **h, char **text, const void *arg),
 *                                 const void *arg, const char *what)
 * running op through oom_under_injection(). An op puts a handle it made in *h (it may leave
 * *h untouched) and a query's result (malloc'd text) in *text; result_of(h, text) turns
 * them into one malloc'd text, freeing the handle. A failed op must leave no handle. The
 * test file defines `static int counted` (runs under injection). */
#define OOM_DEFINE_UNDER_INJECTION(T, result_of)                                           \
    typedef struct oom_made {                                                              \
        T *h;                                                                              \
        char *text;                                                                        \
    } oom_made;                                                                            \
    static int (*oom_current)(T **h, char **text, const void *arg);                       \
    static int oom_run(void **res, const void *arg)                                        \
    {                                                                                      \
        T *h = (T *)1;                                                                     \
        char *text = NULL;                                                                 \
        int rc = oom_current(&h, &text, arg);                                              \
        if (h == (T *)1)                                                                   \
            h = NULL;                                                                      \
        if (rc) {                                                                          \
            CHECK(h == NULL);                                                              \
            free(text);                                                                    \
            return rc;                                                                     \
        }                                                                                  \
        oom_made *m = malloc(sizeof *m);                                                   \
        if (!m)                                                                            \
            abort();                                                                       \
        m->h = h;                                                                          \
        m->text = text;                                                                    \
        *res = m;                                                                          \
        return rc;                                                                         \
    }                                                                                      \
    static char *oom_text(void *res)                                                       \
    {                                                                                      \
        oom_made *m = res;                                                                 \
        char *t = result_of(m->h, m->text);                                                \
        free(m);                                                                           \
        return t;                                                                          \
    }                                                                                      \
    static void under_injection(int (*op)(T **h, char **text, const void *arg),           \
                                const void *arg, const char *what)                        \
    {                                                                                      \
        oom_current = op;                                                                  \
        oom_under_injection(oom_run, oom_text, arg, what, &counted);                       \
    }

#endif
