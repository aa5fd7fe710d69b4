/* Whole-string glob matching (glob.c): `*` any run, `?` one UTF-8 character, `\` quotes
 * the next character; O(len(s) * len(p)) whatever the pattern. */
#ifndef PERSONA_CORE_GLOB_H
#define PERSONA_CORE_GLOB_H

#include <stddef.h>

/* 1 when s[0..slen) matches the pattern p[0..plen), else 0. */
int persona__glob_match(const char *p, size_t plen, const char *s, size_t slen);

#endif
