/* Whole-string glob matching (the rules' `matches`, path grouping rules): `*` any run,
 * `?` one UTF-8 character, `\` quotes the next character. The classic single-backtrack-
 * point algorithm: on a mismatch it resumes after the last `*` one character further, so
 * it runs in O(len(s) * len(p)) whatever the pattern (no blow-up on `*a*a*a*b`). */
#include "core/glob.h"

/* Length of the UTF-8 character starting at s[0] (1 for a stray byte). */
static size_t char_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return l <= n ? l : 1;
}

int persona__glob_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0;
    size_t star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < plen) {
            size_t sl = char_len(s + si, slen - si);
            if (p[pi] == '?') {
                pi++;
                si += sl;
                continue;
            }
            size_t q = pi;
            if (p[q] == '\\' && q + 1 < plen)
                q++;
            size_t pl = char_len(p + q, plen - q);
            if (pl == sl) {
                size_t k = 0;
                while (k < pl && p[q + k] == s[si + k])
                    k++;
                if (k == pl) {
                    pi = q + pl;
                    si += sl;
                    continue;
                }
            }
        }
        if (star_p == (size_t)-1)
            return 0;
        /* Let the last star swallow one more character and try again from there. */
        star_s += char_len(s + star_s, slen - star_s);
        si = star_s;
        pi = star_p;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}
