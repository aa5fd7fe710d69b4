/* UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
#ifndef PERSONA_CORE_UTF8_H
#define PERSONA_CORE_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8, else 0; *bad_offset (may be NULL) gets the offset of
 * the first invalid byte. */
int persona__utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Length of the longest valid UTF-8 prefix of s[0..len) (for quoting input in messages). */
size_t persona__utf8_prefix(const char *s, size_t len);
/* Cut a NUL-terminated string after its longest valid UTF-8 prefix (after snprintf may
 * have cut a sequence in half). */
void persona__utf8_truncate(char *s);

/* Same answer as persona__utf8_valid for short keys, without a call when all is ASCII
 * (user ids, event types: checked for every ingested event). */
static inline int persona__utf8_valid_short(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] & 0x80)
            return persona__utf8_valid(s, len, NULL);
    return 1;
}

#endif
