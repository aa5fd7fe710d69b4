/* A growable text the tests write what they read or produced into, to compare it with the
 * expected text. Out of memory ends the test (exit 2). */
#ifndef PERSONA_TEST_TEXT_BUF_H
#define PERSONA_TEST_TEXT_BUF_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
    char *s;
    size_t len, cap;
} text;

/* Room for `more` bytes and the terminating NUL. */
static inline void text_room(text *t, size_t more)
{
    if (t->len + more + 1 <= t->cap)
        return;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->s, cap);
    if (!p) {
        fprintf(stderr, "test: out of memory\n");
        exit(2);
    }
    t->s = p;
    t->cap = cap;
}

static inline void put(text *t, const char *s, size_t n)
{
    text_room(t, n);
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

/* Append a NUL-terminated string. */
static inline void put_str(text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* Append formatted text (of any length). */
static inline void putf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void putf(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    text_room(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Empty it (keeping its memory). */
static inline void text_reset(text *t)
{
    t->len = 0;
    if (t->s)
        t->s[0] = '\0';
}

#endif
