/* The number parser of the sources: strict grammar, and correctly rounded — every result
 * equals strtod's on the same text (brute force over random decimals of every shape). */
#include <stdlib.h>

#include "check.h"
#include "source/fields.h"

static uint64_t rng = 12345;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_grammar(void)
{
    static const struct {
        const char *s;
        int rc;
        double v;
    } cases[] = {
        { "0", 0, 0 },          { "-0", 0, -0.0 },        { "12.5", 0, 12.5 },
        { "+3", 0, 3 },         { ".5", 0, 0.5 },         { "5.", 0, 5 },
        { "1e3", 0, 1000 },     { "1E-3", 0, 0.001 },     { " 7 ", 0, 7 },
        { "007", 0, 7 },        { "2.55", 0, 2.55 },      { "-1.25e+2", 0, -125 },
        { "", -1, 0 },          { " ", -1, 0 },           { ".", -1, 0 },
        { "-", -1, 0 },         { "1,5", -1, 0 },         { "abc", -1, 0 },
        { "inf", -1, 0 },       { "nan", -1, 0 },         { "0x10", -1, 0 },
        { "1e", -1, 0 },        { "1e+", -1, 0 },         { "1..2", -1, 0 },
        { "1 2", -1, 0 },       { "--1", -1, 0 },         { "1e999", -2, 0 },
        { "\xc2\xa0" "1", -1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v = 99;
        int rc = persona__parse_number(cases[i].s, strlen(cases[i].s), &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v)) {
            fprintf(stderr, "parse '%s': rc %d v %.17g, want rc %d v %.17g\n", cases[i].s, rc, v,
                    cases[i].rc, cases[i].v);
            check_failures++;
        }
        check_count++;
    }
    double v;
    CHECK(persona__parse_number("1e-400", 6, &v) == 0 && v == 0); /* underflow is 0, like strtod */
    CHECK(persona__parse_number("-0", 2, &v) == 0 && v == 0 && signbit(v));
}

/* Random decimals: digits before and after the point, optional exponent. */
static void test_rounding(void)
{
    char s[80];
    int bad = 0;
    for (int i = 0; i < 300000; i++) {
        int n = 0;
        if (next() % 4 == 0)
            s[n++] = '-';
        int int_digits = (int)(next() % 22), frac = (int)(next() % 22);
        for (int k = 0; k < int_digits; k++)
            s[n++] = (char)('0' + next() % 10);
        if (frac || int_digits == 0) {
            s[n++] = '.';
            for (int k = 0; k < frac || (int_digits == 0 && k == 0); k++)
                s[n++] = (char)('0' + next() % 10);
        }
        if (next() % 3 == 0)
            n += snprintf(s + n, sizeof s - (size_t)n, "e%d", (int)(next() % 80) - 40);
        s[n] = '\0';
        double got, want = strtod(s, NULL);
        int rc = persona__parse_number(s, (size_t)n, &got);
        if (rc != 0 || memcmp(&got, &want, sizeof got) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "'%s': got %.17g (rc %d), strtod %.17g\n", s, got, rc, want);
        }
    }
    CHECK(bad == 0);
}

int main(void)
{
    test_grammar();
    test_rounding();
    return check_report("test_fields");
}
