/* Fuzz target: persona_identifier_normalize.
 *
 * Input: byte 0 picks the type (mod 6: key, cookie, email, phone, customer, a host type),
 * byte 1 bit 0 the default country code ("33" or none), the rest is the identifier (up to
 * the first NUL). Seeds: corpus/identity_normalize/seed-* (written by hand).
 *
 * Per input: the result is PERSONA_OK or PERSONA_EINVAL; on success the identifier is valid
 * UTF-8, not empty, without surrounding white space, at most PERSONA_MAX_KEY_LEN bytes, and
 * normalizing it again gives it back (a phone number then without a country code: it is
 * international); an email has one '@' and no upper-case ASCII; a phone number is '+' and
 * 8 to 15 digits; a buffer one byte short gives PERSONA_EBUFS with the same length. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int32_t types[6] = { PERSONA_ID_KEY,   PERSONA_ID_COOKIE,   PERSONA_ID_EMAIL,
                                  PERSONA_ID_PHONE, PERSONA_ID_CUSTOMER, PERSONA_ID_HOST + 3 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 3 * PERSONA_MAX_KEY_LEN)
        return 0;
    const int32_t type = types[data[0] % 6];
    const char *cc = data[1] & 1 ? "33" : NULL;
    char *value = malloc(size - 1);
    FUZZ_ASSERT(value != NULL, "out of memory");
    memcpy(value, data + 2, size - 2);
    value[size - 2] = '\0';
    static char out[PERSONA_MAX_KEY_LEN + 1], again[PERSONA_MAX_KEY_LEN + 1];
    size_t len = 0, len2 = 0;
    int rc = persona_identifier_normalize(out, sizeof out, &len, type, value, cc);
    FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EINVAL, "rc %d", rc);
    if (rc == PERSONA_OK) {
        FUZZ_ASSERT(len > 0 && len <= PERSONA_MAX_KEY_LEN && strlen(out) == len, "length %zu", len);
        FUZZ_ASSERT(persona__utf8_valid(out, len, NULL), "result is not UTF-8");
        FUZZ_ASSERT(out[0] != ' ' && out[len - 1] != ' ' && out[0] != '\t' &&
                        out[len - 1] != '\n',
                    "white space kept");
        FUZZ_OK(persona_identifier_normalize(again, sizeof again, &len2, type, out,
                                             type == PERSONA_ID_PHONE ? NULL : cc));
        FUZZ_ASSERT(len2 == len && memcmp(again, out, len) == 0, "not idempotent: %s -> %s",
                    out, again);
        if (type == PERSONA_ID_EMAIL) {
            const char *at = strchr(out, '@');
            FUZZ_ASSERT(at && !strchr(at + 1, '@'), "email without exactly one '@': %s", out);
            for (size_t i = 0; i < len; i++)
                FUZZ_ASSERT(!(out[i] >= 'A' && out[i] <= 'Z'), "upper case in %s", out);
        }
        if (type == PERSONA_ID_PHONE)
            FUZZ_ASSERT(out[0] == '+' && len >= 9 && len <= 16 &&
                            strspn(out + 1, "0123456789") == len - 1,
                        "not E.164: %s", out);
        char small[PERSONA_MAX_KEY_LEN + 1];
        size_t len3 = 0;
        FUZZ_ASSERT(persona_identifier_normalize(small, len, &len3, type, value, cc) ==
                            PERSONA_EBUFS &&
                        len3 == len,
                    "short buffer: length %zu", len3);
    }
    free(value);
    return 0;
}
