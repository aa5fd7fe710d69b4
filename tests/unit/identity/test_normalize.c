/* persona_identifier_normalize against hand-written expectations: emails, phone numbers
 * (international, national with a country code, 00 prefix), other types, refusals with
 * their reason, and the buffer contract. */
#include <stdlib.h>

#include "check.h"

typedef struct norm_case {
    int32_t type;
    const char *in, *cc, *want; /* want NULL: PERSONA_EINVAL, with `why` in the message */
    const char *why;
} norm_case;

static const norm_case cases[] = {
    { PERSONA_ID_EMAIL, "  Ann.Lee@Example.COM \t", NULL, "ann.lee@example.com", NULL },
    { PERSONA_ID_EMAIL, "a@b", NULL, "a@b", NULL },
    { PERSONA_ID_EMAIL, "Zoë@Exämple.de", NULL, "zoë@exämple.de", NULL }, /* non-ASCII kept */
    { PERSONA_ID_EMAIL, "first+tag@mail.example.org", NULL, "first+tag@mail.example.org", NULL },
    { PERSONA_ID_EMAIL, "ann.example.com", NULL, NULL, "no '@'" },
    { PERSONA_ID_EMAIL, "@example.com", NULL, NULL, "nothing before '@'" },
    { PERSONA_ID_EMAIL, "ann@", NULL, NULL, "nothing after '@'" },
    { PERSONA_ID_EMAIL, "ann@@example.com", NULL, NULL, "more than one '@'" },
    { PERSONA_ID_EMAIL, "ann lee@example.com", NULL, NULL, "space or control" },
    { PERSONA_ID_EMAIL, "ann@example..com", NULL, NULL, "empty label" },
    { PERSONA_ID_EMAIL, "ann@.example.com", NULL, NULL, "empty label" },
    { PERSONA_ID_EMAIL, "ann@example.com.", NULL, NULL, "empty label" },
    { PERSONA_ID_PHONE, "+33 6 12 34 56 78", NULL, "+33612345678", NULL },
    { PERSONA_ID_PHONE, "06 12 34 56 78", "33", "+33612345678", NULL },
    { PERSONA_ID_PHONE, "0033 (6) 12-34-56-78", NULL, "+33612345678", NULL },
    { PERSONA_ID_PHONE, "(555) 123-4567", "1", "+15551234567", NULL },
    { PERSONA_ID_PHONE, "+1 555.123.4567", "33", "+15551234567", NULL }, /* + wins over cc */
    { PERSONA_ID_PHONE, "030/12345678", "49", "+493012345678", NULL },
    { PERSONA_ID_PHONE, "+123456789012345", NULL, "+123456789012345", NULL }, /* 15 digits */
    { PERSONA_ID_PHONE, "+1234567890123456", NULL, NULL, "16 digits" },
    { PERSONA_ID_PHONE, "+1234567", NULL, NULL, "7 digits" },
    { PERSONA_ID_PHONE, "06 12 34 56 78", NULL, NULL, "needs a default country code" },
    { PERSONA_ID_PHONE, "06 12 34 56 78", "0033", NULL, "is not 1-3 digits" },
    { PERSONA_ID_PHONE, "+33 6 12 ab", NULL, NULL, "'a' is not part of a phone number" },
    { PERSONA_ID_PHONE, "6+12345678", "33", NULL, "'+' is not part" },
    { PERSONA_ID_COOKIE, "  c0ffee-42 ", NULL, "c0ffee-42", NULL },
    { PERSONA_ID_CUSTOMER, "CUST-0001", NULL, "CUST-0001", NULL }, /* case kept */
    { PERSONA_ID_KEY, "\tKey With Spaces\n", NULL, "Key With Spaces", NULL },
    { PERSONA_ID_HOST + 7, " loyalty:99 ", NULL, "loyalty:99", NULL },
    { PERSONA_ID_COOKIE, " \t\n ", NULL, NULL, "empty" },
    { PERSONA_ID_COOKIE, "bad\xC3(", NULL, NULL, "UTF-8" },
    { -1, "x", NULL, NULL, "type -1" },
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const norm_case *c = &cases[i];
        char buf[64];
        size_t len = 99;
        int rc = persona_identifier_normalize(buf, sizeof buf, &len, c->type, c->in, c->cc);
        if (c->want) {
            CHECK_RC(rc, PERSONA_OK);
            CHECK_STR(rc == PERSONA_OK ? buf : "(failed)", c->want);
            CHECK(len == strlen(c->want));
            /* Normalizing a normalized identifier changes nothing. */
            char again[64];
            CHECK_RC(persona_identifier_normalize(again, sizeof again, NULL, c->type, buf,
                                                  c->type == PERSONA_ID_PHONE ? NULL : c->cc),
                     PERSONA_OK);
            CHECK_STR(again, c->want);
        } else {
            CHECK_RC(rc, PERSONA_EINVAL);
            CHECK_MSG(c->why);
        }
    }
}

static void test_buffers(void)
{
    char small[8];
    size_t len = 0;
    CHECK_RC(persona_identifier_normalize(small, sizeof small, &len, PERSONA_ID_EMAIL,
                                          "Ann@Example.com", NULL),
             PERSONA_EBUFS);
    CHECK(len == 15 && small[0] == '\0');
    CHECK_RC(persona_identifier_normalize(NULL, 0, &len, PERSONA_ID_PHONE, "+44 20 7946 0958",
                                          NULL),
             PERSONA_EBUFS);
    CHECK(len == 13);
    CHECK_RC(persona_identifier_normalize(NULL, 4, &len, PERSONA_ID_COOKIE, "x", NULL),
             PERSONA_EINVAL);
    CHECK_RC(persona_identifier_normalize(small, sizeof small, &len, PERSONA_ID_COOKIE, NULL,
                                          NULL),
             PERSONA_EINVAL);
    /* Longest key accepted, one more byte refused. */
    char *big = malloc(PERSONA_MAX_KEY_LEN + 2), *out = malloc(PERSONA_MAX_KEY_LEN + 1);
    memset(big, 'k', PERSONA_MAX_KEY_LEN + 1);
    big[PERSONA_MAX_KEY_LEN] = '\0';
    CHECK_RC(persona_identifier_normalize(out, PERSONA_MAX_KEY_LEN + 1, &len, PERSONA_ID_COOKIE,
                                          big, NULL),
             PERSONA_OK);
    big[PERSONA_MAX_KEY_LEN] = 'k';
    big[PERSONA_MAX_KEY_LEN + 1] = '\0';
    CHECK_RC(persona_identifier_normalize(out, PERSONA_MAX_KEY_LEN + 1, &len, PERSONA_ID_COOKIE,
                                          big, NULL),
             PERSONA_EINVAL);
    free(big);
    free(out);
}

int main(void)
{
    test_table();
    test_buffers();
    return check_report("test_normalize");
}
