/* persona_identifier_normalize: one spelling per identifier, so that " Ann@Example.com"
 * and "ann@example.com", or "06 12 34 56 78" and "+33 6 12 34 56 78", link to one person.
 * Rules in include/persona/identity.h. */
#include <string.h>

#include "core/error.h"
#include "core/utf8.h"
#include "persona/identity.h"
#include "store/store_internal.h"

#define E164_MIN_DIGITS 8
#define E164_MAX_DIGITS 15

static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The email, lower-cased, into out (len bytes: normalizing keeps the length). */
static int email(char *out, const char *s, size_t len)
{
    size_t at = len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7F)
            return persona__fail(PERSONA_EINVAL, "email: contains a space or control character");
        if (c == '@') {
            if (at != len)
                return persona__fail(PERSONA_EINVAL, "email: more than one '@'");
            at = i;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    if (at == len || at == 0)
        return persona__fail(PERSONA_EINVAL, "email: %s", at == len ? "no '@'" : "nothing before '@'");
    /* The domain: labels separated by single dots, none empty. */
    const char *d = out + at + 1, *end = out + len;
    if (d == end)
        return persona__fail(PERSONA_EINVAL, "email: nothing after '@'");
    for (const char *p = d; p <= end; p++)
        if ((p == end || *p == '.') && (p == d || p[-1] == '.'))
            return persona__fail(PERSONA_EINVAL, "email: an empty label in the domain");
    return PERSONA_OK;
}

/* The phone number as E.164 ("+" and digits) into out; *n its length. */
static int phone(char *out, size_t *n, const char *s, size_t len, const char *country)
{
    char digits[E164_MAX_DIGITS + 8];
    size_t nd = 0;
    int plus = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= '0' && c <= '9') {
            if (nd == sizeof digits)
                return persona__fail(PERSONA_EINVAL, "phone: more than %d digits",
                                     E164_MAX_DIGITS);
            digits[nd++] = (char)c;
        } else if (c == '+' && nd == 0 && !plus) {
            plus = 1;
        } else if (!(c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')')) {
            return persona__fail(PERSONA_EINVAL, "phone: '%c' is not part of a phone number",
                                 c >= ' ' && c < 0x7F ? c : '?');
        }
    }
    const char *num = digits;
    size_t cc_len = 0;
    if (!plus && nd >= 2 && digits[0] == '0' && digits[1] == '0') {
        num += 2; /* 00 = international prefix */
        nd -= 2;
    } else if (!plus) {
        if (!country || !country[0])
            return persona__fail(PERSONA_EINVAL,
                                 "phone: a national number needs a default country code");
        cc_len = strlen(country);
        if (cc_len > 3 || strspn(country, "0123456789") != cc_len || country[0] == '0')
            return persona__fail(PERSONA_EINVAL, "phone: country code '%.8s' is not 1-3 digits",
                                 country);
        if (nd && digits[0] == '0') { /* the national trunk prefix */
            num++;
            nd--;
        }
    }
    if (cc_len + nd < E164_MIN_DIGITS || cc_len + nd > E164_MAX_DIGITS)
        return persona__fail(PERSONA_EINVAL, "phone: %zu digits (E.164 allows %d to %d)",
                             cc_len + nd, E164_MIN_DIGITS, E164_MAX_DIGITS);
    out[0] = '+';
    if (cc_len) /* country is NULL for international numbers */
        memcpy(out + 1, country, cc_len);
    memcpy(out + 1 + cc_len, num, nd);
    *n = 1 + cc_len + nd;
    return PERSONA_OK;
}

PERSONA_API int persona_identifier_normalize(char *buf, size_t capacity, size_t *out_len,
                                             int32_t type, const char *value,
                                             const char *country_code)
{
    if (out_len)
        *out_len = 0;
    if (!value || type < 0)
        return persona__fail(PERSONA_EINVAL, value ? "identifier type %d" : "value is NULL",
                             (int)type);
    size_t len = strlen(value);
    if (!persona__utf8_valid(value, len, NULL))
        return persona__fail(PERSONA_EINVAL, "identifier is not valid UTF-8");
    while (len && is_space((unsigned char)value[0]))
        value++, len--;
    while (len && is_space((unsigned char)value[len - 1]))
        len--;
    if (len == 0 || len > PERSONA_MAX_KEY_LEN)
        return persona__fail(PERSONA_EINVAL, "identifier is %s", len ? "too long" : "empty");
    char out[PERSONA_MAX_KEY_LEN + 1];
    size_t n = len;
    int rc = PERSONA_OK;
    if (type == PERSONA_ID_EMAIL)
        rc = email(out, value, len);
    else if (type == PERSONA_ID_PHONE)
        rc = phone(out, &n, value, len, country_code);
    else
        memcpy(out, value, len);
    if (rc)
        return rc;
    out[n] = '\0';
    return persona__copy_out(buf, capacity, out_len, out, n);
}
