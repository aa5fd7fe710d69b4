/* UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
#ifndef PERSONA_CORE_UTF8_H
#define PERSONA_CORE_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8, else 0; *bad_offset (may be NULL) gets the offset of
 * the first invalid byte. */
int persona__utf8_valid(const char *s, size_t len, size_t *bad_offset);

#endif
