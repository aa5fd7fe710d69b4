/* Thread-local last error: every failing path in lib/ ends in persona__fail*(), which
 * records code, message and (for parsers) position and returns the code. */
#ifndef PERSONA_CORE_ERROR_H
#define PERSONA_CORE_ERROR_H

#include <stdarg.h>
#include <stdint.h>

#include "persona/common.h"

#if defined(__GNUC__) || defined(__clang__)
#define PERSONA__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PERSONA__PRINTF(f, a)
#endif

/* Record a failure and return code. */
int persona__fail(int code, const char *fmt, ...) PERSONA__PRINTF(2, 3);
/* Record a failure with a 1-based line and column (0 = unknown) and return code. */
int persona__fail_at(int code, uint64_t line, uint64_t column, const char *fmt, ...)
    PERSONA__PRINTF(4, 5);
int persona__vfail_at(int code, uint64_t line, uint64_t column, const char *fmt, va_list ap);
/* Shorthand for the one message every allocation failure gets. */
int persona__fail_nomem(void);

#endif
