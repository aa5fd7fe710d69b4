/* Multi-touch attribution: every model on hand-worked journey sets (the arithmetic is in
 * the comments), the store's journey extraction (conversions, "(none)", lookback, consent,
 * conversions without touchpoint), merge == whole, degenerate sets and bad input.
 * The comparison with an independent implementation on random sets is
 * bindings/python/tests/test_attribution_reference.py.
 *
 * usage: test_attribution */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "attr_test.h"

#define EPS 1e-12

/* The 3-channel set with a loop (A > A):
 *   J1 A > B  1 conversion, value 10      J2 A > A  1 null
 *   J3 C      1 conversion, value 20      J4 B > C  1 null
 * Order 1. start -> A 2/4, -> B 1/4, -> C 1/4. A: self 1/3, -> B 1/3, -> null 1/3.
 * B: -> conv 1/2, -> C 1/2. C: -> conv 1/2, -> null 1/2.
 *   x_C = 1/2, x_B = 1/2 + x_C/2 = 3/4, x_A = (x_B/3) / (2/3) = 3/8,
 *   P = (2 x_A + x_B + x_C) / 4 = (3/4 + 3/4 + 1/2) / 4 = 1/2.
 * Without A: P = (3/4 + 1/2)/4 = 5/16, RE_A = 1 - 5/8 = 3/8.
 * Without B: x_A = 0, P = (1/2)/4 = 1/8, RE_B = 3/4.
 * Without C: x_B = 1/2, x_A = 1/4, P = (1/2 + 1/2)/4 = 1/4, RE_C = 1/2.
 * Sum 13/8: conversions (2) credited A 6/13, B 12/13, C 8/13.
 * Value: rewards B 10/2 = 5, C 20/2 = 10. y_C = 10, y_B = 5 + 5 = 10, y_A = 5,
 *   E = (10 + 10 + 10)/4 = 7.5; without A: 20/4 = 5 (RE 1/3); without B: y_A = 0,
 *   E = 10/4 (RE 2/3); without C: y_B = 5, y_A = 2.5, E = 10/4 (RE 2/3).
 *   Sum 5/3 of value 30: A 6, B 12, C 12. */
static const char *const loop_paths[] = { "AB", "AA", "C", "BC" };
static const uint64_t loop_conv[] = { 1, 0, 1, 0 };
static const double loop_value[] = { 10, 0, 20, 0 };
static const uint64_t loop_nulls[] = { 0, 1, 0, 1 };

static void check_credit(const attr_credit *c, const double *conv, const double *value, size_t n)
{
    CHECK(c->n == n);
    for (size_t i = 0; i < n; i++) {
        CHECK_NEAR(c->conv[i], conv[i], EPS);
        CHECK_NEAR(c->value[i], value[i], EPS);
    }
}

static void test_markov_hand(void)
{
    persona_attribution *a = attr_from(loop_paths, loop_conv, loop_value, loop_nulls, 4, NULL, 0);
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 1, 0, 0, 0), PERSONA_OK);
    CHECK_NEAR(c.re[0], 3.0 / 8, EPS);
    CHECK_NEAR(c.re[1], 3.0 / 4, EPS);
    CHECK_NEAR(c.re[2], 1.0 / 2, EPS);
    CHECK_NEAR(c.re_value[0], 1.0 / 3, EPS);
    CHECK_NEAR(c.re_value[1], 2.0 / 3, EPS);
    CHECK_NEAR(c.re_value[2], 2.0 / 3, EPS);
    check_credit(&c, (const double[]){ 6.0 / 13, 12.0 / 13, 8.0 / 13 },
                 (const double[]){ 6, 12, 12 }, 3);
    /* Order 0 is the default, order 1. */
    attr_credit d;
    CHECK_RC(attr_run(&d, a, PERSONA_ATTRIBUTION_MARKOV, 0, 0, 0, 0), PERSONA_OK);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    /* Order 2: states (A), (A,B), (A,A), (C), (B), (B,C). x_(A) = 1/2 (half go on to
     * (A,B), which converts), x_(C) = 1, x_(B) = x_(B,C) = 0: P = (2/2 + 1)/4 = 1/2.
     * Without A ((A), (A,B), (A,A)): P = 1/4; without B ((A,B), (B), (B,C)): x_(A) = 0,
     * P = 1/4; without C ((C), (B,C)): P = 1/4. Each RE 1/2: 2/3 of a conversion each.
     * Value: y_(A) = 5, y_(C) = 20, E = 30/4; without A: 20/4; without B: 20/4; without
     * C: 10/4: RE 1/3, 1/3, 2/3; of value 30: 7.5, 7.5, 15. */
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 2, 0, 0, 0), PERSONA_OK);
    CHECK_NEAR(c.re[0], 0.5, EPS);
    CHECK_NEAR(c.re[1], 0.5, EPS);
    CHECK_NEAR(c.re[2], 0.5, EPS);
    check_credit(&c, (const double[]){ 2.0 / 3, 2.0 / 3, 2.0 / 3 },
                 (const double[]){ 7.5, 7.5, 15 }, 3);
    /* An order larger than any path: the states are the paths' prefixes, as with order 2
     * here (no path is longer than 2). */
    CHECK_RC(attr_run(&d, a, PERSONA_ATTRIBUTION_MARKOV, 4, 0, 0, 0), PERSONA_OK);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    persona_attribution_free(a);
}

/* A longer loop, order 1: J1 A > B > A > C converts (value 4), J2 B > B nulls.
 * start -> A 1/2, -> B 1/2. A: -> B 1/2, -> C 1/2. B: -> A 1/3, self 1/3, -> null 1/3.
 * C: -> conv 1. x_C = 1, x_A = x_B/2 + 1/2, x_B = (x_A/3)/(2/3) = x_A/2 -> x_A = x_A/4 + 1/2,
 * x_A = 2/3, x_B = 1/3; P = (2/3 + 1/3)/2 = 1/2.
 * Without A: P = 0 (x_B = 0, no way to C): RE_A = 1. Without B: x_A = 1/2, P = 1/4,
 * RE_B = 1/2. Without C: P = 0, RE_C = 1. Sum 5/2: A 2/5, B 1/5, C 2/5 of 1 conversion;
 * value 4 likewise (the rewards are proportional): 1.6, 0.8, 1.6. */
static void test_markov_loops(void)
{
    static const char *const paths[] = { "ABAC", "BB" };
    persona_attribution *a = attr_from(paths, (const uint64_t[]){ 1, 0 }, (const double[]){ 4, 0 },
                                       (const uint64_t[]){ 0, 1 }, 2, NULL, 0);
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 1, 0, 0, 0), PERSONA_OK);
    CHECK_NEAR(c.re[0], 1, EPS);
    CHECK_NEAR(c.re[1], 0.5, EPS);
    CHECK_NEAR(c.re[2], 1, EPS);
    check_credit(&c, (const double[]){ 0.4, 0.2, 0.4 }, (const double[]){ 1.6, 0.8, 1.6 }, 3);
    persona_attribution_free(a);
}

/* A long loop: A > B repeated 20,000 times then a conversion, a null journey A, and C
 * converting. Order 1: A -> B n/(n+1), A -> null 1/(n+1); B -> A (n-1)/n, B -> conv 1/n;
 * so x_B = (n+1)/(2n), x_A = 1/2, x_C = 1 and P = (2 x_A + x_C)/3 = 2/3. Without A or B,
 * P = 1/3; without C, P = 1/3: every removal effect 1/2, 2/3 of a conversion each. An
 * iteration that stopped early would leave x_A short of 1/2. */
static void test_markov_long_loop(void)
{
    enum { PAIRS = 20000 };
    static uint32_t touch[2 * PAIRS + 2];
    for (size_t i = 0; i < 2 * PAIRS; i++)
        touch[i] = (uint32_t)(i % 2);
    touch[2 * PAIRS] = 0;
    touch[2 * PAIRS + 1] = 2;
    static const char *const names[] = { "A", "B", "C" };
    const uint64_t off[] = { 0, 2 * PAIRS, 2 * PAIRS + 1, 2 * PAIRS + 2 };
    const uint64_t conv[] = { 1, 0, 1 }, nulls[] = { 0, 1, 0 };
    persona_attribution_journeys in = PERSONA_ATTRIBUTION_JOURNEYS_INIT;
    in.channels = names;
    in.n_channels = 3;
    in.n_journeys = 3;
    in.offsets = off;
    in.touch_channels = touch;
    in.conversions = conv;
    in.nulls = nulls;
    persona_attribution *a = NULL;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_OK);
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 1, 0, 0, 0), PERSONA_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_NEAR(c.re[i], 0.5, 1e-12);
        CHECK_NEAR(c.conv[i], 2.0 / 3, 1e-12);
    }
    persona_attribution_free(a);
}

/* A state that loops almost surely (fuzzing found it): J1 A > A with M = 274,877,907,011
 * nulls, J2 A > B > A converts, J3 A > C > A 1 conversion and 129 nulls, J4 C 2
 * conversions. Order 1, self-loops dropped from A's M + 264 departures:
 *   x_A = (x_B + 130 x_C + 2) / (M + 262),  x_B = x_A,  x_C = (130 x_A + 2) / 132,
 *   P = ((M + 131) x_A + 2 x_C) / (M + 133).
 * Solved in exact rationals (Python fractions): RE_A = 131/132, RE_B = 3.6104183589e-12,
 * RE_C = 0.50000000023646862. 1 − p_AA is about 1e-9 and was computed by subtraction
 * before, which made RE_B −1.2e-7. */
static void test_markov_near_certain_loop(void)
{
    static const char *const paths[] = { "AA", "ABA", "ACA", "C" };
    persona_attribution *a = attr_from(paths, (const uint64_t[]){ 0, 1, 1, 2 },
                                       (const double[]){ 0, 5, 1, 7.5 },
                                       (const uint64_t[]){ 274877907011u, 0, 129, 0 }, 4, NULL, 0);
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 1, 0, 0, 0), PERSONA_OK);
    CHECK_NEAR(c.re[0], 131.0 / 132, 1e-15);
    CHECK(c.re[1] > 0);
    CHECK_NEAR(c.re[1], 3.61041835894378065e-12, 1e-15);
    CHECK_NEAR(c.re[2], 0.500000000236468622, 1e-15);
    persona_attribution_free(a);
}

static void test_heuristics_hand(void)
{
    persona_attribution *a = attr_from(loop_paths, loop_conv, loop_value, loop_nulls, 4, NULL, 0);
    attr_credit c;
    /* Converting: A > B (1, 10) and C (1, 20); the null journeys credit nothing. */
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_FIRST, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 1, 0, 1 }, (const double[]){ 10, 0, 20 }, 3);
    CHECK(isnan(c.re[0]) && isnan(c.re_value[2]));
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_LAST, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 0, 1, 1 }, (const double[]){ 0, 10, 20 }, 3);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_LINEAR, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 0.5, 0.5, 1 }, (const double[]){ 5, 5, 20 }, 3);
    /* Two touchpoints share the middle weight: 0.3 + 0.05 and 0.6 + 0.05. */
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_POSITION, 0, 0.3, 0.1, 0.6), PERSONA_OK);
    check_credit(&c, (const double[]){ 0.35, 0.65, 1 }, (const double[]){ 3.5, 6.5, 20 }, 3);
    /* Decay without ages: every weight 1, as linear. */
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_DECAY, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 0.5, 0.5, 1 }, (const double[]){ 5, 5, 20 }, 3);
    persona_attribution_free(a);

    /* Position with loops, default 0.4 / 0.2 / 0.4: A > B > C > A (value 100): A gets first
     * and last (0.8), B and C 0.2 / 2 each. Linear: A 2/4, B 1/4, C 1/4. */
    static const char *const p4[] = { "ABCA" };
    a = attr_from(p4, (const uint64_t[]){ 1 }, (const double[]){ 100 }, NULL, 1, NULL, 0);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_POSITION, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 0.8, 0.1, 0.1 }, (const double[]){ 80, 10, 10 }, 3);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_LINEAR, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 0.5, 0.25, 0.25 }, (const double[]){ 50, 25, 25 }, 3);
    persona_attribution_free(a);

    /* Time decay, half-life 1 day: A two days before the conversion weighs 1/4, B at it 1:
     * A 0.25 / 1.25 = 0.2, B 0.8 (value 10: 2 and 8). 3 conversions of the same path:
     * times 3. */
    static const char *const p2[] = { "AB" };
    const int64_t day = 86400000;
    a = attr_from(p2, (const uint64_t[]){ 3 }, (const double[]){ 30 }, NULL, 1,
                  (const int64_t[]){ 2 * day, 0 }, day);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_DECAY, 0, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 0.6, 2.4 }, (const double[]){ 6, 24 }, 2);
    persona_attribution_free(a);
}

/* Degenerate sets: no conversions; a channel only in null journeys; length-1 journeys. */
static void test_edges(void)
{
    static const char *const p[] = { "AB", "C" };
    persona_attribution *a = attr_from(p, (const uint64_t[]){ 0, 0 }, NULL,
                                       (const uint64_t[]){ 2, 1 }, 2, NULL, 0);
    for (int32_t m = 0; m < PERSONA_ATTRIBUTION_MODELS; m++) {
        attr_credit c;
        CHECK_RC(attr_run(&c, a, m, 1, 0, 0, 0), PERSONA_OK);
        check_credit(&c, (const double[]){ 0, 0, 0 }, (const double[]){ 0, 0, 0 }, 3);
    }
    persona_attribution_free(a);
    /* D only in a null journey D > A; A alone converts. start -> A 1/2, -> D 1/2;
     * D -> A 1; A: -> conv 1/2, -> null 1/2. P = (1/2 + 1/2)/2 = 1/2; without D: 1/4
     * (RE 1/2); without A: 0 (RE 1). A 2/3, D 1/3 of 1 conversion. Heuristics: D 0. */
    static const char *const q[] = { "A", "DA" };
    a = attr_from(q, (const uint64_t[]){ 1, 0 }, (const double[]){ 3, 0 },
                  (const uint64_t[]){ 0, 1 }, 2, NULL, 0);
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 1, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 2.0 / 3, 1.0 / 3 }, (const double[]){ 2, 1 }, 2);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_LINEAR, 1, 0, 0, 0), PERSONA_OK);
    check_credit(&c, (const double[]){ 1, 0 }, (const double[]){ 3, 0 }, 2);
    char name[8];
    CHECK_RC(persona_attribution_channel_name(name, sizeof name, NULL, a, 1), PERSONA_OK);
    CHECK_STR(name, "D");
    persona_attribution_free(a);
    /* An empty set. */
    a = attr_from(NULL, NULL, NULL, NULL, 0, NULL, 0);
    size_t n = 9;
    CHECK_RC(persona_attribution_compute(NULL, NULL, NULL, NULL, 0, &n, a, NULL), PERSONA_OK);
    CHECK(n == 0);
    double one[1];
    CHECK_RC(persona_attribution_compute(one, NULL, NULL, NULL, 0, &n, a, NULL), PERSONA_OK);
    persona_attribution_free(a);
}

static void test_bad_input(void)
{
    persona_attribution *a = attr_from(loop_paths, loop_conv, loop_value, loop_nulls, 4, NULL, 0);
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 5, 0, 0, 0), PERSONA_EINVAL);
    CHECK_MSG("order is 5");
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, -1, 0, 0, 0), PERSONA_EINVAL);
    CHECK_RC(attr_run(&c, a, 6, 1, 0, 0, 0), PERSONA_EINVAL);
    CHECK_MSG("model is 6");
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_POSITION, 1, 0.5, 0.5, 0.5), PERSONA_EINVAL);
    CHECK_MSG("sum 1");
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_POSITION, 1, 1.2, -0.2, 0), PERSONA_EINVAL);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_POSITION, 1, NAN, 0.5, 0.5), PERSONA_EINVAL);
    double small[2];
    size_t n = 0;
    CHECK_RC(persona_attribution_compute(small, NULL, NULL, NULL, 2, &n, a, NULL), PERSONA_EBUFS);
    CHECK(n == 3);
    CHECK_RC(persona_attribution_compute(small, NULL, NULL, NULL, 2, &n, NULL, NULL), PERSONA_EINVAL);
    uint32_t ch[1];
    CHECK_RC(persona_attribution_path(ch, 1, &n, NULL, NULL, NULL, a, 0), PERSONA_EBUFS);
    CHECK(n == 2);
    CHECK_RC(persona_attribution_path(ch, 1, &n, NULL, NULL, NULL, a, 4), PERSONA_ENOTFOUND);
    CHECK_RC(persona_attribution_channel_name(NULL, 0, &n, a, 3), PERSONA_ENOTFOUND);
    persona_attribution_free(a);

    /* host journeys */
    static const char *const names[] = { "A", "B", "A" };
    uint64_t off[] = { 0, 1, 1 }, conv[] = { 1, 1 }, off2[] = { 0, 1, 0 };
    uint32_t touch[] = { 0, 7 };
    double bad_value[] = { INFINITY, 0 };
    int64_t ages[] = { -1, 0 };
    persona_attribution_journeys in = PERSONA_ATTRIBUTION_JOURNEYS_INIT;
    in.channels = names;
    in.n_channels = 3;
    in.n_journeys = 1;
    in.offsets = off;
    in.touch_channels = touch;
    in.conversions = conv;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("is a repeat");
    CHECK(a == NULL);
    in.n_channels = 2;
    in.n_journeys = 2; /* journey 1 is empty but converts */
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("journey 1 is empty");
    in.offsets = off2;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("offsets descend");
    in.n_journeys = 1;
    in.offsets = (const uint64_t[]){ 0, 2 };
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("channel index 7 is out of range");
    in.offsets = off;
    in.values = bad_value;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("not finite");
    in.values = NULL;
    in.touch_ages_ms = ages;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("age is negative");
    in.touch_ages_ms = NULL;
    in.half_life_ms = -1;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    CHECK_MSG("half_life_ms is negative");
    in.half_life_ms = 0;
    in.struct_size = 0;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_EINVAL);
    in.struct_size = sizeof in;
    CHECK_RC(persona_attribution_from_journeys(&a, &in), PERSONA_OK);
    persona_attribution_info info = PERSONA_ATTRIBUTION_INFO_INIT;
    CHECK_RC(persona_attribution_info_get(&info, a), PERSONA_OK);
    CHECK(info.channels == 1 && info.paths == 1 && info.conversions == 1); /* B unused: dropped */
    persona_attribution_free(a);
    persona_attribution_free(NULL);
}

/* The store's journeys: u1 A, B, purchase(10), A, A (a converting A > B and a null
 * A > A); u2 C, purchase(20); u3 B, C; u4 purchase(5) with no touchpoint; the loop set
 * of test_markov_hand. Events of other types without the property are no touchpoints. */
static persona_store *loop_store(int part)
{
    persona_store *s = new_seeded_store(3);
    if (part != 1) {
        attr_event(s, "u1", 1000, "visit", "A", NAN);
        attr_event(s, "u1", 2000, "visit", "B", NAN);
        attr_event(s, "u1", 2500, "visit", NULL, NAN);
        attr_event(s, "u1", 3000, "purchase", "B", 10);
        attr_event(s, "u1", 5000, "visit", "A", NAN);
        attr_event(s, "u1", 4000, "visit", "A", NAN); /* out of order: sorted by time */
        attr_event(s, "u3", 1000, "ad", "B", NAN);
        attr_event(s, "u3", 9000, "ad", "C", NAN);
    }
    if (part != 0) {
        attr_event(s, "u2", 1000, "visit", "C", NAN);
        attr_event(s, "u2", 2000, "purchase", NULL, 20);
        attr_event(s, "u4", 2000, "purchase", NULL, 5);
        attr_event(s, "u4", 1000, "signup", NULL, NAN);
    }
    return s;
}

static persona_attribution *build(const persona_store *s, const persona_attribution_options *o)
{
    persona_attribution *a = NULL;
    CHECK_RC(persona_attribution_build(&a, s, o), PERSONA_OK);
    return a;
}

static void test_store(void)
{
    persona_store *s = loop_store(-1);
    static const char *const purchase[] = { "purchase", "refund" };
    persona_attribution_options o = PERSONA_ATTRIBUTION_OPTIONS_INIT;
    o.channel_prop = "campaign";
    o.conversion_types = purchase;
    o.n_conversion_types = 2;
    persona_attribution *a = build(s, &o);
    persona_attribution *h = attr_from(loop_paths, loop_conv, loop_value, loop_nulls, 4, NULL, 0);
    persona_attribution_info in = PERSONA_ATTRIBUTION_INFO_INIT;
    CHECK_RC(persona_attribution_info_get(&in, a), PERSONA_OK);
    CHECK(in.channels == 3 && in.paths == 4 && in.conversions == 2 && in.nulls == 2);
    CHECK(in.touchpoints == 7 && in.value == 30);
    CHECK(in.conversions_without_touch == 1 && in.value_without_touch == 5);
    /* the same paths and credits as the host's journeys, apart from the time-decay
     * weights (ages differ) and the conversion without touchpoint */
    for (int32_t m = 0; m < PERSONA_ATTRIBUTION_DECAY; m++) {
        attr_credit x, y;
        CHECK_RC(attr_run(&x, a, m, 1, 0, 0, 0), PERSONA_OK);
        CHECK_RC(attr_run(&y, h, m, 1, 0, 0, 0), PERSONA_OK);
        CHECK(memcmp(&x, &y, sizeof x) == 0);
    }
    /* Decay with the default 7-day half-life: A 2 s and B 1 s before the purchase. */
    attr_credit c;
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_DECAY, 0, 0, 0, 0), PERSONA_OK);
    double wa = exp2(-1000.0 / (7 * 86400000.0)), wb = 1;
    CHECK_NEAR(c.conv[0], wa / (wa + wb), EPS);
    CHECK_NEAR(c.value[1], 10 * wb / (wa + wb), EPS);
    persona_attribution_free(a);

    /* Touchpoints by type: every "visit" is one; the one without campaign is "(none)":
     * u1: A > B > (none) converts, A > A null; u2: C converts; u3's "ad"s are not
     * touchpoints. Lookback 1.5 s drops u1's A before the purchase at 3 s. */
    static const char *const visit[] = { "visit" };
    o.touch_types = visit;
    o.n_touch_types = 1;
    o.lookback_ms = 1500;
    a = build(s, &o);
    CHECK_RC(persona_attribution_info_get(&in, a), PERSONA_OK);
    CHECK(in.channels == 4 && in.paths == 3 && in.conversions == 2 && in.nulls == 1);
    char name[16];
    CHECK_RC(persona_attribution_channel_name(name, sizeof name, NULL, a, 0), PERSONA_OK);
    CHECK_STR(name, "(none)");
    uint32_t ch[8];
    size_t n = 0;
    uint64_t conv = 0, nulls = 0;
    double v = 0;
    /* channels: (none) 0, A 1, B 2, C 3; paths: A > A (null), B > (none) (conv), C (conv) */
    CHECK_RC(persona_attribution_path(ch, 8, &n, &conv, &v, &nulls, a, 1), PERSONA_OK);
    CHECK(n == 2 && ch[0] == 2 && ch[1] == 0 && conv == 1 && v == 10 && nulls == 0);
    persona_attribution_free(a);

    /* A conversion event that never occurs: only null journeys, every credit 0. */
    static const char *const never[] = { "subscribe" };
    o = (persona_attribution_options)PERSONA_ATTRIBUTION_OPTIONS_INIT;
    o.channel_prop = "campaign";
    o.conversion_types = never;
    o.n_conversion_types = 1;
    a = build(s, &o);
    CHECK_RC(persona_attribution_info_get(&in, a), PERSONA_OK);
    CHECK(in.conversions == 0 && in.nulls == 3 && in.paths == 3);
    CHECK_RC(attr_run(&c, a, PERSONA_ATTRIBUTION_MARKOV, 2, 0, 0, 0), PERSONA_OK);
    CHECK(c.n == 3 && c.conv[0] == 0 && c.conv[1] == 0 && c.conv[2] == 0 && c.re[0] == 0);
    persona_attribution_free(a);

    /* A property no event has: no touchpoints at all. Consent: nobody granted. */
    o.conversion_types = purchase;
    o.channel_prop = "referrer";
    a = build(s, &o);
    CHECK_RC(persona_attribution_info_get(&in, a), PERSONA_OK);
    CHECK(in.channels == 0 && in.paths == 0 && in.conversions_without_touch == 3);
    persona_attribution_free(a);
    o.channel_prop = "campaign";
    o.consent_purpose = "marketing";
    CHECK_RC(persona_store_consent_set(s, "u2", "marketing", 1, 0), PERSONA_OK);
    a = build(s, &o);
    CHECK_RC(persona_attribution_info_get(&in, a), PERSONA_OK);
    CHECK(in.channels == 1 && in.paths == 1 && in.conversions == 1 && in.value == 20);
    persona_attribution_free(a);

    /* bad options */
    o = (persona_attribution_options)PERSONA_ATTRIBUTION_OPTIONS_INIT;
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_EINVAL);
    CHECK_MSG("channel_prop");
    CHECK(a == NULL);
    o.channel_prop = "campaign";
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_EINVAL);
    CHECK_MSG("no conversion event type");
    o.conversion_types = purchase;
    o.n_conversion_types = 2;
    o.half_life_ms = -5;
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_EINVAL);
    CHECK_MSG("half_life_ms is negative");
    o.half_life_ms = 0;
    o.lookback_ms = -1;
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_EINVAL);
    o.lookback_ms = 0;
    o.touch_types = (const char *const[]){ "" };
    o.n_touch_types = 1;
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_EINVAL);
    CHECK_MSG("touch type 0 is empty");
    CHECK_RC(persona_attribution_build(&a, s, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_attribution_build(&a, NULL, &o), PERSONA_EINVAL);
    persona_attribution_free(h);
    persona_store_free(s);
}

/* Users split in two stores: the merged sets equal the whole one. */
static void test_merge(void)
{
    persona_store *whole = loop_store(-1), *p0 = loop_store(0), *p1 = loop_store(1);
    static const char *const purchase[] = { "purchase" };
    persona_attribution_options o = PERSONA_ATTRIBUTION_OPTIONS_INIT;
    o.channel_prop = "campaign";
    o.conversion_types = purchase;
    o.n_conversion_types = 1;
    persona_attribution *w = build(whole, &o), *a = build(p0, &o), *b = build(p1, &o), *m = NULL;
    CHECK_RC(persona_attribution_merge(&m, a, b), PERSONA_OK);
    char *dw = attr_digest(w), *dm = attr_digest(m);
    CHECK_STR(dm, dw);
    persona_attribution_free(m);
    CHECK_RC(persona_attribution_merge(&m, b, a), PERSONA_OK);
    free(dm);
    dm = attr_digest(m);
    CHECK_STR(dm, dw);
    persona_attribution_free(m);
    o.lookback_ms = 5;
    persona_attribution *other = build(p1, &o);
    CHECK_RC(persona_attribution_merge(&m, a, other), PERSONA_EINVAL);
    CHECK_MSG("different options");
    CHECK(m == NULL);
    CHECK_RC(persona_attribution_merge(&m, a, NULL), PERSONA_EINVAL);
    free(dw);
    free(dm);
    persona_attribution_free(other);
    persona_attribution_free(w);
    persona_attribution_free(a);
    persona_attribution_free(b);
    persona_store_free(whole);
    persona_store_free(p0);
    persona_store_free(p1);
}

/* Threads computing on one set at once (the set is immutable): every thread gets the
 * single-threaded result, bit for bit (also run by the TSan gate, suite concurrency). */
typedef struct job {
    const persona_attribution *a;
    attr_credit want[3], got[3];
    int rc;
} job;

static void *compute_all(void *arg)
{
    job *j = arg;
    for (int round = 0; round < 20 && !j->rc; round++)
        for (int k = 0; k < 3 && !j->rc; k++)
            j->rc = attr_run(&j->got[k], j->a, k == 2 ? PERSONA_ATTRIBUTION_DECAY
                                                      : PERSONA_ATTRIBUTION_MARKOV,
                             k + 1, 0, 0, 0);
    return NULL;
}

static void test_threads(void)
{
    static const char *const paths[] = { "AB", "AA", "C", "BC", "ABCA", "CBA", "B" };
    persona_attribution *a = attr_from(paths, (const uint64_t[]){ 1, 0, 2, 0, 1, 1, 0 },
                                       (const double[]){ 1, 0, 2, 0, 4, 8, 0 },
                                       (const uint64_t[]){ 2, 1, 0, 3, 1, 0, 2 }, 7, NULL, 0);
    job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].a = a;
    }
    for (int k = 0; k < 3; k++)
        CHECK_RC(attr_run(&jobs[0].want[k], a, k == 2 ? PERSONA_ATTRIBUTION_DECAY
                                                      : PERSONA_ATTRIBUTION_MARKOV,
                          k + 1, 0, 0, 0), PERSONA_OK);
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, compute_all, &jobs[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_RC(jobs[i].rc, PERSONA_OK);
        CHECK(memcmp(jobs[i].got, jobs[0].want, sizeof jobs[i].got) == 0);
    }
    persona_attribution_free(a);
}

int main(void)
{
    test_markov_hand();
    test_markov_loops();
    test_markov_long_loop();
    test_markov_near_certain_loop();
    test_heuristics_hand();
    test_edges();
    test_bad_input();
    test_store();
    test_merge();
    test_threads();
    return check_report("test_attribution");
}
