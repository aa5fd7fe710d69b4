/* Minimal assertion helpers for the C test programs: failures go to stderr (LSan reports
 * at exit, stdout may be buffered) and the program exits 1 if any check failed. */
#ifndef PERSONA_TEST_CHECK_H
#define PERSONA_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "persona.h"

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        check_count++;                                                                     \
        if (!(cond)) {                                                                     \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                                  \
    } while (0)

/* Exact return code, with the library's message shown on mismatch. */
#define CHECK_RC(call, want)                                                               \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        check_count++;                                                                     \
        if (rc_ != (want)) {                                                               \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d; errmsg: %s\n", __FILE__,  \
                    __LINE__, #call, rc_, persona_strerror(rc_), (int)(want),              \
                    persona_errmsg());                                                     \
        }                                                                                  \
    } while (0)

#define CHECK_STR(got, want)                                                               \
    do {                                                                                   \
        const char *g_ = (got), *w_ = (want);                                              \
        check_count++;                                                                     \
        if (!g_ || strcmp(g_, w_) != 0) {                                                  \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,        \
                    g_ ? g_ : "(null)", w_);                                               \
        }                                                                                  \
    } while (0)

/* The message of the last error contains a phrase. */
#define CHECK_MSG(phrase)                                                                  \
    do {                                                                                   \
        check_count++;                                                                     \
        if (!strstr(persona_errmsg(), (phrase))) {                                         \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: errmsg \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,      \
                    persona_errmsg(), (phrase));                                           \
        }                                                                                  \
    } while (0)

#define CHECK_NEAR(got, want, tol)                                                         \
    do {                                                                                   \
        double g_ = (got), w_ = (want);                                                    \
        check_count++;                                                                     \
        if (!(fabs(g_ - w_) <= (tol))) {                                                   \
            check_failures++;                                                              \
            fprintf(stderr, "%s:%d: %s = %.17g, want %.17g\n", __FILE__, __LINE__, #got,   \
                    g_, w_);                                                               \
        }                                                                                  \
    } while (0)

static inline int check_report(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
