#include "fields.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static const char *localeconv_point(void)
{
    const struct lconv *lc = localeconv();
    return lc && lc->decimal_point && lc->decimal_point[0] ? lc->decimal_point : ".";
}

/* Slow path: strtod on a copy whose decimal point matches the current locale. */
static int slow_parse(const char *s, size_t len, double *out)
{
    char tmp[400];
    if (len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    const char *point = localeconv_point();
    if (point[0] != '.')
        for (size_t i = 0; i < len; i++)
            if (tmp[i] == '.')
                tmp[i] = point[0];
    errno = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + len)
        return -1;
    if (errno == ERANGE && isinf(v))
        return -2;
    *out = v;
    return 0;
}

int persona__parse_number(const char *s, size_t len, double *out)
{
    while (len && s[0] == ' ') {
        s++;
        len--;
    }
    while (len && s[len - 1] == ' ')
        len--;
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t mant = 0;
    int digits = 0, frac_digits = 0, sig = 0;
    int exact = 1;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (mant == 0 && s[i] == '0')
            continue;
        if (sig < 19)
            mant = mant * 10 + (uint64_t)(s[i] - '0');
        else
            exact = 0;
        sig++;
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++) {
            if (mant == 0 && s[i] == '0') {
                continue;
            }
            if (sig < 19)
                mant = mant * 10 + (uint64_t)(s[i] - '0');
            else
                exact = 0;
            sig++;
        }
    }
    if (digits + frac_digits == 0)
        return -1;
    long exp10 = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        if (i >= len || s[i] < '0' || s[i] > '9')
            return -1;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (s[i] - '0');
        if (eneg)
            exp10 = -exp10;
    }
    if (i != len)
        return -1;
    /* Fast path (Clinger): an exact mantissa below 2^53 times an exact power of ten is
     * correctly rounded by one IEEE multiplication or division. Leading zeros of the
     * fraction were skipped but still scale: count the scale from the fraction digits. */
    long scale = exp10 - frac_digits;
    if (exact && mant < ((uint64_t)1 << 53) && scale >= -22 && scale <= 22) {
        double v = (double)mant;
        v = scale < 0 ? v / pow10_exact[-scale] : v * pow10_exact[scale];
        *out = neg ? -v : v;
        return 0;
    }
    if (mant == 0 && exact) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    return slow_parse(s, len, out);
}

size_t persona__strings_add_slow(persona__strings *st, const char *s, size_t len)
{
    if (len > SIZE_MAX - st->len - 2 ||
        persona__grow((void **)&st->data, &st->cap, st->len + len + 1, 1, 4096))
        return 0;
    size_t off = st->len;
    if (len)
        memcpy(st->data + off, s, len);
    st->data[off + len] = '\0';
    st->len += len + 1;
    return off + 1;
}

void persona__strings_free(persona__strings *st)
{
    persona__free(st->data);
    st->data = NULL;
    st->len = st->cap = 0;
}

char *persona__input_copy(const char *data, size_t len)
{
    char *copy = persona__alloc(len ? len : 1);
    if (copy && len)
        memcpy(copy, data, len);
    return copy;
}
