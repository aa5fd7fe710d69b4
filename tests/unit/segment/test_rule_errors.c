/* Rule-language errors (docs/rules.md, "Errors" and "Limits"): malformed rules, each with
 * its return code, the line and column of persona_error_position() and its message (the
 * exact text, or phrases that name the offending token), for single rules
 * (persona_segment_model_add_rule) and rule-set texts (persona_segment_model_compile,
 * multi-line ones included). Every token error, grammar error, type error and
 * function-argument error of the language is here, and every limit at the limit (accepted)
 * and one beyond (refused).
 *
 * After each failure nothing changed (TESTING §1): a failed add_rule leaves the model's
 * segment count, its internal tables (constants, features, names, code, logic) and the
 * evaluation and explanation of the rules already in it as they were; a failed compile
 * leaves *out NULL; the same text with the fault removed ("fix") compiles.
 *
 * Messages: "line L, column C: ..." (plus "(segment 'NAME')" in a rule set) with L and C
 * equal to persona_error_position(). A case's message is either exact, or "~" followed by
 * phrases separated by " | " that must all occur ("!phrase": must not occur).
 *
 * Environment: RULE_ERRORS_VERBOSE=1 prints every case with the message it got;
 * RULE_ERRORS_STACK_KIB sets the thread stack of the deep-rule check (default 1024). */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "text_buf.h"
#include "persona/segment.h"
#include "segment/rule_internal.h"

/* 2024-01-01 00:00 UTC */
#define T0 INT64_C(1704067200000)
#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)

static int verbose;

/* ---- the store and the base model every failed add_rule must leave unchanged ---------- */

static persona_store *store;
static persona_eval_context ctx = PERSONA_EVAL_CONTEXT_INIT;

static void ingest(const char *user, int64_t t, const char *type, double value, const char *chan)
{
    persona_event e = PERSONA_EVENT_INIT;
    const char *pn[] = { "channel" }, *pv[] = { chan };
    e.user = user;
    e.time_ms = t;
    e.type = type;
    e.value = value;
    if (chan) {
        e.prop_names = pn;
        e.prop_values = pv;
        e.n_props = 1;
    }
    CHECK_RC(persona_store_ingest(NULL, store, &e, 1, NULL), PERSONA_OK);
}

static void make_store(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 11;
    CHECK_RC(persona_store_new(&store, &o), PERSONA_OK);
    ingest("u1", T0 - 3 * DAY, "view", 0, "shoes");
    ingest("u1", T0 - 2 * DAY, "buy", 120, "shoes");
    ingest("u1", T0 - 1 * DAY, "buy", 30, "socks");
    ingest("u2", T0 - 5 * DAY, "view", 0, NULL);
    CHECK_RC(persona_store_attr_set_str(store, "u1", "plan", "pro"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(store, "u2", "plan", "free"), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(store, "u1", "marketing", 1, T0 - 10 * DAY), PERSONA_OK);
    ctx.now_ms = T0;
    ctx.hour = 9;
}

/* Segment 0 "base" holds for u1 only, 1 "vips" (a list) for u2 only, 2 "either" for
 * both, 3 "seq" for u1 only. */
static const char *const base_rules[][2] = {
    { "base", "count(\"buy\", 7d) >= 2 and plan == \"pro\" and consent(\"marketing\")" },
    { "either", "in_segment(\"base\") or in_segment(\"vips\")" },
    { "seq", "sequence(\"view\" -> \"buy\", within 30d) and last(\"channel\") == \"socks\"" },
};

static persona_segment_model *make_base(void)
{
    persona_segment_model *m = NULL;
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    CHECK_RC(persona_segment_model_new(&m, &o), PERSONA_OK);
    CHECK_RC(persona_segment_model_add_rule(m, base_rules[0][0], base_rules[0][1],
                                            strlen(base_rules[0][1])),
             PERSONA_OK);
    const char *keys[] = { "u2" };
    CHECK_RC(persona_segment_model_add_list(m, "vips", keys, 1), PERSONA_OK);
    for (int i = 1; i < 3; i++)
        CHECK_RC(persona_segment_model_add_rule(m, base_rules[i][0], base_rules[i][1],
                                                strlen(base_rules[i][1])),
                 PERSONA_OK);
    return m;
}

/* What a caller can observe of a model, plus its internal table sizes. */
typedef struct model_state {
    size_t count;
    model_mark mark;
    char describe[2][2048];
    uint32_t segs[2][8];
    size_t n_segs[2];
} model_state;

static void observe(const persona_segment_model *m, model_state *st)
{
    memset(st, 0, sizeof *st);
    CHECK_RC(persona_segment_model_count(&st->count, m), PERSONA_OK);
    persona__model_mark(m, &st->mark);
    const char *users[2] = { "u1", "u2" };
    for (int u = 0; u < 2; u++) {
        size_t len = 0;
        CHECK_RC(persona_segment_model_describe(st->describe[u], sizeof st->describe[u], &len, m,
                                                store, users[u], &ctx),
                 PERSONA_OK);
        CHECK_RC(persona_segment_model_assign(st->segs[u], 8, &st->n_segs[u], m, store, users[u],
                                              &ctx),
                 PERSONA_OK);
    }
}

static int same_state(const model_state *a, const model_state *b)
{
    return a->count == b->count && memcmp(&a->mark, &b->mark, sizeof a->mark) == 0 &&
           strcmp(a->describe[0], b->describe[0]) == 0 &&
           strcmp(a->describe[1], b->describe[1]) == 0 && a->n_segs[0] == b->n_segs[0] &&
           a->n_segs[1] == b->n_segs[1] && memcmp(a->segs, b->segs, sizeof a->segs) == 0;
}

/* The base model answers as it was built to. */
static void check_base_answers(const persona_segment_model *m, int src)
{
    static const int32_t want[2][4] = { { 1, 0, 1, 1 }, { 0, 1, 1, 0 } };
    const char *users[2] = { "u1", "u2" };
    for (int u = 0; u < 2; u++)
        for (size_t i = 0; i < 4; i++) {
            int32_t got = -1;
            CHECK_RC(persona_segment_model_test(&got, m, i, store, users[u], &ctx), PERSONA_OK);
            if (got != want[u][i]) {
                check_failures++;
                fprintf(stderr, "case at line %d: segment %zu is %d for %s, want %d\n", src, i,
                        got, users[u], want[u][i]);
            }
        }
}

/* ---- one malformed input ------------------------------------------------------------- */

typedef struct bad {
    int src;          /* line of this file */
    int set;          /* 0: add_rule, 1: compile */
    const char *text; /* NUL-terminated unless len */
    size_t len;       /* 0: strlen(text) */
    int rc;
    uint64_t line, col; /* 0, 0: no position */
    const char *msg;  /* exact, or "~phrase | phrase | !absent" */
    const char *fix;  /* the text without the fault (must compile), or NULL */
} bad;

#define R(t, l, c, m, f) { __LINE__, 0, t, 0, PERSONA_EPARSE, l, c, m, f }
#define S(t, l, c, m, f) { __LINE__, 1, t, 0, PERSONA_EPARSE, l, c, m, f }

static int message_ok(const char *got, const char *want, int src)
{
    if (want[0] != '~') {
        if (strcmp(got, want) == 0)
            return 1;
        fprintf(stderr, "case at line %d: message\n  got  \"%s\"\n  want \"%s\"\n", src, got, want);
        return 0;
    }
    char phrases[512];
    snprintf(phrases, sizeof phrases, "%s", want + 1);
    int ok = 1;
    for (char *p = phrases, *next; p; p = next) {
        next = strstr(p, " | ");
        if (next) {
            *next = 0;
            next += 3;
        }
        int absent = p[0] == '!';
        int found = strstr(got, p + absent) != NULL;
        if (found == absent) {
            fprintf(stderr, "case at line %d: message \"%s\" %s \"%s\"\n", src, got,
                    absent ? "must not contain" : "lacks", p + absent);
            ok = 0;
        }
    }
    return ok;
}

/* The error left by the last call against the case. */
static void check_error(const bad *b, int rc)
{
    const char *kind = b->set ? "compile" : "add_rule";
    uint64_t line = 99, col = 99;
    int prc = persona_error_position(&line, &col);
    const char *msg = persona_errmsg();
    if (verbose) {
        char shown[80];
        size_t k = 0;
        for (const char *p = b->text; *p && k + 3 < sizeof shown; p++) {
            if (*p == '\n') {
                shown[k++] = '\\';
                shown[k++] = 'n';
            } else {
                shown[k++] = *p;
            }
        }
        shown[k] = 0;
        fprintf(stderr, "[%d] %s %s => %d %" PRIu64 ":%" PRIu64 " %s\n", b->src, kind, shown, rc,
                line, col, msg);
    }
    check_count += 3;
    if (rc != b->rc) {
        check_failures++;
        fprintf(stderr, "case at line %d (%s): returned %d (%s), want %d; errmsg: %s\n", b->src,
                kind, rc, persona_strerror(rc), b->rc, msg);
        return;
    }
    if (line != b->line || col != b->col || (b->line ? prc != PERSONA_OK : prc != PERSONA_ENOTFOUND)) {
        check_failures++;
        fprintf(stderr, "case at line %d (%s): position %" PRIu64 ":%" PRIu64 ", want %" PRIu64
                ":%" PRIu64 " (%s)\n", b->src, kind, line, col, b->line, b->col, msg);
    }
    if (b->line) {
        /* The message starts with the position it reports. */
        char prefix[64];
        int n = snprintf(prefix, sizeof prefix, "line %" PRIu64 ", column %" PRIu64, line, col);
        if (strncmp(msg, prefix, (size_t)n) != 0 || (msg[n] != ':' && msg[n] != ' ')) {
            check_failures++;
            fprintf(stderr, "case at line %d (%s): message \"%s\" does not start with \"%s\"\n",
                    b->src, kind, msg, prefix);
        }
    }
    if (!message_ok(msg, b->msg, b->src))
        check_failures++;
}

/* The fixed text compiles the way the failing one was given. */
static void check_fix(const bad *b)
{
    if (!b->fix)
        return;
    persona_segment_model *m = NULL;
    int rc;
    if (b->set) {
        rc = persona_segment_model_compile(&m, b->fix, strlen(b->fix), NULL);
    } else {
        m = make_base();
        rc = persona_segment_model_add_rule(m, "new", b->fix, strlen(b->fix));
    }
    check_count++;
    if (rc != PERSONA_OK) {
        check_failures++;
        fprintf(stderr, "case at line %d: the fix \"%s\" does not compile: %s\n", b->src, b->fix,
                persona_errmsg());
    }
    persona_segment_model_free(m);
}

static void run_case(persona_segment_model **basep, const model_state *before, const bad *b)
{
    persona_segment_model *base = *basep;
    size_t len = b->len ? b->len : strlen(b->text);
    if (b->set) {
        persona_segment_model *out = (persona_segment_model *)&out;
        int rc = persona_segment_model_compile(&out, b->text, len, NULL);
        check_error(b, rc);
        CHECK(out == NULL);
        if (rc == PERSONA_OK)
            persona_segment_model_free(out);
    } else {
        int rc = persona_segment_model_add_rule(base, "new", b->text, len);
        check_error(b, rc);
        if (rc == PERSONA_OK) {
            /* reported above; a fresh base model for the next cases */
            persona_segment_model_free(base);
            *basep = make_base();
            return;
        }
        model_state after;
        observe(base, &after);
        check_count++;
        if (!same_state(before, &after)) {
            check_failures++;
            fprintf(stderr, "case at line %d: the failed add_rule changed the model "
                    "(%zu segments, was %zu)\n", b->src, after.count, before->count);
        }
        check_base_answers(base, b->src);
    }
    check_fix(b);
}

/* ---- the cases ----------------------------------------------------------------------- */

/* Token errors (docs/rules.md "Tokens"). */
static const bad token_cases[] = {
    R("orders > 1 $ 2", 1, 12, "~unexpected character '$'", "orders > 1"),
    R("plan == \"pro\" ; vip", 1, 15, "~unexpected character ';'", "plan == \"pro\" or vip"),
    R("x \xe2\x86\x92 y", 1, 3, "~unexpected character '\xe2\x86\x92'", "x == y"),
    R("x == \"\xc3\xa9\" and \xc3\xbc", 1, 15, "~unexpected character '\xc3\xbc'", "x == \"\xc3\xa9\" and u"),
    R("orders = 5", 1, 8, "line 1, column 8: '=' is not an operator: compare with '=='", "orders == 5"),
    R("orders > 1 && events > 2", 1, 12, "~'&&' | the words and, or, not", "orders > 1 and events > 2"),
    R("orders > 1 || events > 2", 1, 12, "~'||' | the words and, or, not", "orders > 1 or events > 2"),
    R("!vip", 1, 1, "~'!' | the words and, or, not", "not vip"),
    R("plan == 'pro'", 1, 9, "line 1, column 9: strings are written in double quotes", "plan == \"pro\""),
    R("plan == \"pro", 1, 9, "line 1, column 9: string not closed (a \" is missing)", "plan == \"pro\""),
    R("plan == \"pro\nor x", 1, 9, "line 1, column 9: string not closed (a \" is missing)", NULL),
    R("plan == \"a\\qb\"", 1, 11, "~unknown escape | '\\q'", "plan == \"a\\\\qb\""),
    R("plan == \"a\\", 1, 11, "~unknown escape", NULL),
    R("plan == \"\xff\"", 1, 10, "line 1, column 10: rule text is not valid UTF-8", "plan == \"\xc3\xbf\""),
    R("plan == \"a\xc3\"", 1, 11, "line 1, column 11: rule text is not valid UTF-8", NULL),
    R("plan == \"\xed\xa0\x80\"", 1, 10, "line 1, column 10: rule text is not valid UTF-8", NULL), /* surrogate */
    R("plan == \"\xc0\xaf\"", 1, 10, "line 1, column 10: rule text is not valid UTF-8", NULL),     /* overlong */
    R("orders > 1.", 1, 10, "line 1, column 10: a number needs digits after its decimal point", "orders > 1.0"),
    R("orders > 1.x", 1, 10, "line 1, column 10: a number needs digits after its decimal point", NULL),
    R("orders > .5", 1, 10, "line 1, column 10: expected a value (a number, a string, a name or '('), found '.'", "orders > 0.5"),
    R("orders > 1e400", 1, 10, "~number out of range | 1e400", "orders > 1e300"),
    R("orders > 1e", 1, 10, "~1e", "orders > 1e0"),
    R("count(\"x\", 7y) > 0", 1, 12, "~unknown duration unit | 7y | ms, s, m, h, d or w", "count(\"x\", 7d) > 0"),
    R("count(\"x\", 7days) > 0", 1, 12, "~unknown duration unit | 7days", "count(\"x\", 7d) > 0"),
    R("count(\"x\", 3mo) > 0", 1, 12, "~unknown duration unit | 3mo", NULL),
};

/* Grammar errors. */
static const bad grammar_cases[] = {
    R("orders >", 1, 9, "line 1, column 9: expected a value (a number, a string, a name or '('), found the end of the rule", "orders > 1"),
    R("orders > 1 and", 1, 15, "line 1, column 15: expected a value (a number, a string, a name or '('), found the end of the rule", "orders > 1"),
    R("* 3 > 1", 1, 1, "line 1, column 1: expected a value (a number, a string, a name or '('), found '*'", "3 > 1"),
    R("orders > 1 and or x", 1, 16, "~'or' is a reserved word", "orders > 1 or x"),
    R("(orders > 1", 1, 12, "line 1, column 12: expected ')', found the end of the rule", "(orders > 1)"),
    R("((x)", 1, 5, "line 1, column 5: expected ')', found the end of the rule", "((x))"),
    R("(x > 1 and (y > 2)", 1, 19, "line 1, column 19: expected ')', found the end of the rule", NULL),
    R("plan in [\"a\", \"b\"", 1, 18, "line 1, column 18: expected ',' or ']' in the list, found the end of the rule", "plan in [\"a\", \"b\"]"),
    R("plan in [\"a\" \"b\"]", 1, 14, "line 1, column 14: expected ',' or ']' in the list, found '\"b\"'", "plan in [\"a\", \"b\"]"),
    R("plan in \"a\"", 1, 9, "line 1, column 9: expected '[' to start the list of in, found '\"a\"'", "plan in [\"a\"]"),
    R("plan in []", 1, 10, "line 1, column 10: expected a number, a string, true or false in the list, found ']'", NULL),
    R("plan in [\"a\", plan]", 1, 15, "line 1, column 15: expected a number, a string, true or false in the list, found 'plan'", NULL),
    R("x in [1,]", 1, 9, "line 1, column 9: expected a number, a string, true or false in the list, found ']'", "x in [1]"),
    R("x in [,1]", 1, 7, "line 1, column 7: expected a number, a string, true or false in the list, found ','", "x in [1]"),
    R("plan in [-\"a\"]", 1, 11, "line 1, column 11: expected a number after '-', found '\"a\"'", "plan in [-1]"),
    R("plan in [\"a\", 1]", 1, 15, "line 1, column 15: a list holds values of one type: a number among strings", "plan in [\"a\", \"1\"]"),
    R("x in [true, 2d]", 1, 13, "line 1, column 13: a list holds values of one type: a number among conditions", NULL),
    R("plan not > 3", 1, 10, "line 1, column 10: expected in, contains or between after not, found '>'", "plan not in [3]"),
    R("plan not foo", 1, 10, "line 1, column 10: expected in, contains or between after not, found 'foo'", NULL),
    R("x not starts_with \"a\"", 1, 7, "line 1, column 7: expected in, contains or between after not, found 'starts_with'", "not (x starts_with \"a\")"),
    R("x not matches \"a*\"", 1, 7, "line 1, column 7: expected in, contains or between after not, found 'matches'", "not (x matches \"a*\")"),
    R("1 < orders < 3", 1, 12, "line 1, column 12: comparisons do not chain: write x between a and b, or use and", "orders between 1 and 3"),
    R("orders == 1 == 2", 1, 13, "line 1, column 13: comparisons do not chain: write x between a and b, or use and", NULL),
    R("cnt(\"x\") > 1", 1, 1, "line 1, column 1: unknown function 'cnt'", "count(\"x\") > 1"),
    R("x > 1 and Count(\"x\") > 1", 1, 11, "line 1, column 11: unknown function 'Count'", NULL),
    R("count > 1", 1, 1, "line 1, column 1: count is a function: write count(...)", "count(\"x\") > 1"),
    R("consent == true", 1, 1, "line 1, column 1: consent is a function: write consent(...)", "consent(\"m\") == true"),
    R("and > 1", 1, 1, "line 1, column 1: 'and' is a reserved word: write attr.and for an attribute of that name", "attr.and > 1"),
    R("of == 1", 1, 1, "line 1, column 1: 'of' is a reserved word: write attr.of for an attribute of that name", "attr.of == 1"),
    R("within == 1", 1, 1, "line 1, column 1: 'within' is a reserved word: write attr.within for an attribute of that name", "attr[\"within\"] == 1"),
    R("x == 1 or matches == 1", 1, 11, "line 1, column 11: 'matches' is a reserved word: write attr.matches for an attribute of that name", NULL),
    R("x == not", 1, 6, "line 1, column 6: 'not' is a reserved word: write attr.not for an attribute of that name", NULL),
    R("exists(count)", 1, 8, "line 1, column 8: 'count' is a reserved word: write attr.count for an attribute of that name", "exists(attr.count)"),
    R("attr == 1", 1, 6, "line 1, column 6: expected '.' and a name, found '=='", "attr.a == 1"),
    R("attr. == 1", 1, 7, "line 1, column 7: expected a name after '.', found '=='", NULL),
    R("attr.1 == 1", 1, 6, "line 1, column 6: expected a name after '.', found '1'", NULL),
    R("attr[\"a\" == 1", 1, 10, "line 1, column 10: expected ']' after the attribute name, found '=='", "attr[\"a\"] == 1"),
    R("attr[a] == 1", 1, 6, "line 1, column 6: attr[...] needs an attribute name in double quotes, found 'a'", NULL),
    R("pref == 1", 1, 6, "line 1, column 6: expected '.' and a name, found '=='", "pref.x == 1"),
    R("ctx == \"a\"", 1, 5, "line 1, column 5: expected '.' and a field name after ctx, found '=='", "ctx.a == \"a\""),
    R("", 1, 1, "line 1, column 1: the rule is empty", "x"),
    R("   # only a comment", 1, 20, "line 1, column 20: the rule is empty", NULL),
    R("\n\n  ", 3, 3, "line 3, column 3: the rule is empty", NULL),
    R("orders > 1 junk", 1, 12, "line 1, column 12: unexpected 'junk' after the end of the rule", "orders > 1"),
    R("orders > 1)", 1, 11, "line 1, column 11: unexpected ')' after the end of the rule", NULL),
    R("x . y", 1, 3, "line 1, column 3: unexpected '.' after the end of the rule", NULL),
    R("x > 1\n  y > 2", 2, 3, "line 2, column 3: unexpected 'y' after the end of the rule", "x > 1\n  and y > 2"),
    R("x matches y", 1, 11, "line 1, column 11: expected a glob pattern in double quotes after matches, found 'y'", "x matches \"y\""),
    R("x between 1", 1, 12, "line 1, column 12: expected 'and' in x between a and b, found the end of the rule", "x between 1 and 2"),
    R("x between 1 or 2", 1, 13, "line 1, column 13: expected 'and' in x between a and b, found 'or'", NULL),
    R("[]", 1, 1, "line 1, column 1: expected a value (a number, a string, a name or '('), found '['", NULL),
    /* multi-line rules: positions count lines and bytes in the line */
    R("count(\"view\") > 2 and\n  count(\"buy\", 7d > 1", 2, 19,
      "line 2, column 19: expected ')' to close the arguments of count, found '>'",
      "count(\"view\") > 2 and\n  count(\"buy\", 7d) > 1"),
    R("x > 1 or\n\t(y > 2 and # comment\n\t z ==)", 3, 7,
      "line 3, column 7: expected a value (a number, a string, a name or '('), found ')'", NULL),
};

/* Type errors: docs/rules.md "Values": "fail to compile with the position of the
 * offending operator". */
static const bad type_cases[] = {
    R("\"a\" + 1 > 0", 1, 5, "~'+' needs numbers, found a string", "1 + 1 > 0"),
    R("x > 1 and \"a\" * 2 > 0", 1, 15, "~'*' needs numbers, found a string", NULL),
    R("2 - last(\"category\") > 0", 1, 3, "~'-' needs numbers, found a string", NULL),
    R("true % 2 == 0", 1, 6, "~'%' needs numbers, found a condition", NULL),
    R("-\"a\" == 1", 1, 1, "~'-' needs a number, found a string", "-1 == x"),
    R("count(\"x\") == \"a\"", 1, 12, "line 1, column 12: cannot compare a number with a string", "count(\"x\") == 1"),
    R("\"a\" < 1", 1, 5, "line 1, column 5: cannot compare a string with a number", NULL),
    R("last(\"c\") > 1", 1, 11, "line 1, column 11: cannot compare a string with a number", "last(\"c\") > \"1\""),
    R("score(\"s\") == \"a\"", 1, 12, "line 1, column 12: cannot compare a number with a string", NULL),
    R("true == 1", 1, 6, "line 1, column 6: cannot compare a condition with a number", NULL),
    R("consent(\"m\") == 1", 1, 14, "line 1, column 14: cannot compare a condition with a number", "consent(\"m\") == true"),
    R("ctx.hour == \"9\"", 1, 10, "line 1, column 10: cannot compare a number with a string", "ctx.hour == 9"),
    R("true < false", 1, 6, "line 1, column 6: conditions compare only with == and !=", "true != false"),
    R("x > 1 and (y > 1) >= (z > 1)", 1, 19, "line 1, column 19: conditions compare only with == and !=", NULL),
    R("1 and 2", 1, 3, "~'and' needs conditions on both sides, found a number", NULL),
    R("orders and vip", 1, 8, "~'and' needs conditions on both sides, found a number", "orders > 0 and vip"),
    R("vip or \"x\"", 1, 5, "~'or' needs conditions on both sides, found a string", NULL),
    R("not 5", 1, 1, "~'not' needs a condition, found a number", NULL),
    R("not count(\"x\")", 1, 1, "~'not' needs a condition, found a number", "not count(\"x\") > 0"),
    R("count(\"x\") in [\"a\"]", 1, 12, "~cannot look for a number in a list of strings", "count(\"x\") in [1]"),
    R("count(\"x\") contains \"a\"", 1, 12, "~'contains' needs strings, found a number", NULL),
    R("x starts_with 1", 1, 3, "~'starts_with' needs strings, found a number", "x starts_with \"1\""),
    R("x ends_with now", 1, 3, "~'ends_with' needs strings, found a number", NULL),
    R("x between 1 and \"a\"", 1, 3, "~'between' needs numbers or strings of one type, found a string", "x between 1 and 2"),
    R("true between 1 and 2", 1, 6, "~'between' needs numbers or strings of one type, found a condition", NULL),
    /* a rule that is not a condition */
    R("count(\"x\")", 1, 1, "line 1, column 1: a rule must be a condition, found a number (compare it: e.g. count(...) > 0)", "count(\"x\") > 0"),
    R("now", 1, 1, "line 1, column 1: a rule must be a condition, found a number (compare it: e.g. count(...) > 0)", NULL),
    R("value", 1, 1, "line 1, column 1: a rule must be a condition, found a number (compare it: e.g. count(...) > 0)", "value > 0"),
    R("1 + 2", 1, 3, "line 1, column 3: a rule must be a condition, found a number (compare it: e.g. count(...) > 0)", NULL),
    R("\"str\"", 1, 1, "line 1, column 1: a rule must be a condition, found a string (compare it: e.g. x > 0)", NULL),
    R("last(\"category\")", 1, 1, "~a rule must be a condition, found a string", "exists(attr.category)"),
};

/* Function arguments (docs/rules.md "Functions"). */
static const bad function_cases[] = {
    /* count / sum */
    R("count() > 0", 1, 7, "line 1, column 7: count needs an event type in double quotes, found ')'", "count(\"x\") > 0"),
    R("count(1) > 0", 1, 7, "line 1, column 7: count needs an event type in double quotes, found '1'", NULL),
    R("count(x) > 0", 1, 7, "line 1, column 7: count needs an event type in double quotes, found 'x'", "count(\"x\") > 0"),
    R("count(\"\") > 0", 1, 7, "line 1, column 7: event type of count is empty (use \"*\" for any type)", "count(\"*\") > 0"),
    R("count(\"x\", 7d, 1) > 0", 1, 14, "line 1, column 14: expected ')' to close the arguments of count, found ','", "count(\"x\", 7d) > 0"),
    R("count(\"x\", 7) > 0", 1, 12, "line 1, column 12: the window of count must be a duration such as 7d, found '7'", "count(\"x\", 7d) > 0"),
    R("count(\"x\", \"7d\") > 0", 1, 12, "line 1, column 12: the window of count must be a duration such as 7d, found '\"7d\"'", NULL),
    R("count(\"x\", 0d) > 0", 1, 12, "~the window of count must be | '0d'", "count(\"x\", 1ms) > 0"),
    R("count(\"x\", -7d) > 0", 1, 12, "line 1, column 12: the window of count must be a duration such as 7d, found '-'", NULL),
    R("count(\"x\", 0.5ms) > 0", 1, 12, "~the window of count must be | '0.5ms'", NULL),
    R("count(\"x\", 1.5ms) > 0", 1, 12, "~the window of count must be | '1.5ms'", "count(\"x\", 1.5s) > 0"),
    R("count(\"x\", 0.0001s) > 0", 1, 12, "~the window of count must be | '0.0001s'", NULL),
    R("count(\"x\", 20000000d) > 0", 1, 12, "~the window of count must be | '20000000d'", "count(\"x\", 3650000d) > 0"),
    R("count(\"x\" 7d) > 0", 1, 11, "line 1, column 11: expected ')' to close the arguments of count, found '7d'", NULL),
    R("sum() > 0", 1, 5, "line 1, column 5: sum needs an event type in double quotes, found ')'", "sum(\"x\") > 0"),
    R("sum(\"x\", \"y\") > 0", 1, 10, "line 1, column 10: the window of sum must be a duration such as 7d, found '\"y\"'", NULL),
    R("sum(\"x\", 1h, 2h) > 0", 1, 12, "line 1, column 12: expected ')' to close the arguments of sum, found ','", NULL),
    /* days_since */
    R("days_since() > 0", 1, 12, "line 1, column 12: days_since needs an event type in double quotes, found ')'", "days_since(\"x\") > 0"),
    R("days_since(1) > 0", 1, 12, "line 1, column 12: days_since needs an event type in double quotes, found '1'", NULL),
    R("days_since(\"x\", 7d) > 0", 1, 15, "line 1, column 15: expected ')' to close the arguments of days_since, found ','", NULL),
    /* first_time / stopped / restarted */
    R("first_time(\"x\")", 1, 15, "line 1, column 15: expected ',' between the arguments of first_time, found ')'", "first_time(\"x\", 7d)"),
    R("first_time(\"x\", 7)", 1, 17, "line 1, column 17: the window of first_time must be a duration such as 7d, found '7'", NULL),
    R("first_time(\"x\", 0ms)", 1, 17, "~the window of first_time must be | '0ms'", NULL),
    R("first_time(\"x\", 7d, 2d)", 1, 19, "line 1, column 19: expected ')' to close the arguments of first_time, found ','", NULL),
    R("stopped(\"x\")", 1, 12, "line 1, column 12: expected ',' between the arguments of stopped, found ')'", "stopped(\"x\", 60d)"),
    R("stopped(\"x\", 0s)", 1, 14, "~the window of stopped must be | '0s'", NULL),
    R("stopped(7d, \"x\")", 1, 9, "line 1, column 9: stopped needs an event type in double quotes, found '7d'", "stopped(\"x\", 7d)"),
    R("stopped(\"x\", now)", 1, 14, "line 1, column 14: the window of stopped must be a duration such as 7d, found 'now'", NULL),
    R("restarted(\"x\")", 1, 14, "line 1, column 14: expected ',' between the arguments of restarted, found ')'", "restarted(\"x\", 7d)"),
    R("restarted(\"x\", 7d, 0d)", 1, 20, "~the gap of restarted must be | '0d'", "restarted(\"x\", 7d, 1d)"),
    R("restarted(\"x\", 7d, 1.5ms)", 1, 20, "~the gap of restarted must be | '1.5ms'", NULL),
    R("restarted(\"x\", 7d, 2)", 1, 20, "line 1, column 20: the gap of restarted must be a duration such as 7d, found '2'", NULL),
    R("restarted(\"x\", 7d, 2d, 3d)", 1, 22, "line 1, column 22: expected ')' to close the arguments of restarted, found ','", NULL),
    /* regularly */
    R("regularly(\"x\")", 1, 14, "line 1, column 14: expected ',' between the arguments of regularly, found ')'", "regularly(\"x\", 4 of 6 weeks)"),
    R("regularly(4 of 6 weeks)", 1, 11, "line 1, column 11: regularly needs an event type in double quotes, found '4'", NULL),
    R("regularly(\"x\", 4 of 3 weeks)", 1, 16, "~regularly | K (4) is more than N (3)", "regularly(\"x\", 3 of 4 weeks)"),
    R("regularly(\"x\", 4 of 65 weeks)", 1, 21, "~1 <= K <= N <= 64 | '65'", "regularly(\"x\", 4 of 64 weeks)"),
    R("regularly(\"x\", 0 of 6 weeks)", 1, 16, "~1 <= K <= N <= 64 | '0'", NULL),
    R("regularly(\"x\", -1 of 6 weeks)", 1, 16, "~1 <= K <= N <= 64 | '-'", NULL),
    R("regularly(\"x\", 4.5 of 6 weeks)", 1, 16, "~1 <= K <= N <= 64 | '4.5'", NULL),
    R("regularly(\"x\", 4 of 6d)", 1, 21, "~1 <= K <= N <= 64 | '6d'", NULL),
    R("regularly(\"x\", 4 of 6 wekks)", 1, 23, "line 1, column 23: expected hours, days or weeks, found 'wekks'", "regularly(\"x\", 4 of 6 weeks)"),
    R("regularly(\"x\", 1 of 6 months)", 1, 23, "line 1, column 23: expected hours, days or weeks, found 'months'", NULL),
    R("regularly(\"x\", 4 of 6)", 1, 22, "line 1, column 22: expected hours, days or weeks, found ')'", NULL),
    R("regularly(\"x\", 4 6 weeks)", 1, 18, "line 1, column 18: expected 'of' in regularly(TYPE, K of N weeks), found '6'", NULL),
    R("regularly(\"x\", 4 of 6 weeks, 1d)", 1, 28, "line 1, column 28: expected ')' to close the arguments of regularly, found ','", NULL),
    /* sequence */
    R("sequence()", 1, 10, "line 1, column 10: a sequence step needs an event type in double quotes, found ')'", "sequence(\"a\")"),
    R("sequence(not \"x\")", 1, 17, "line 1, column 17: a sequence needs at least one step without not", "sequence(not \"x\" -> \"y\")"),
    R("sequence(not \"x\" -> not \"y\")", 1, 28, "line 1, column 28: a sequence needs at least one step without not", NULL),
    R("sequence(\"a\" -> )", 1, 17, "line 1, column 17: a sequence step needs an event type in double quotes, found ')'", NULL),
    R("sequence(\"a\" \"b\")", 1, 14, "line 1, column 14: expected '->', ', within' or ')' in sequence, found '\"b\"'", "sequence(\"a\" -> \"b\")"),
    R("sequence(\"a\", 1d)", 1, 15, "line 1, column 15: expected 'within' and a duration after the steps of sequence, found '1d'", "sequence(\"a\", within 1d)"),
    R("sequence(\"a\",)", 1, 14, "line 1, column 14: expected 'within' and a duration after the steps of sequence, found ')'", NULL),
    R("sequence(\"a\", within)", 1, 21, "line 1, column 21: the window of sequence must be a duration such as 7d, found ')'", NULL),
    R("sequence(\"a\", within 7)", 1, 22, "line 1, column 22: the window of sequence must be a duration such as 7d, found '7'", NULL),
    R("sequence(\"a\" -> \"b\", within 0d)", 1, 29, "~the window of sequence must be | '0d'", NULL),
    R("sequence(\"a\" -> \"b\", within 1d, within 2d)", 1, 31, "line 1, column 31: expected ')' to close the arguments of sequence, found ','", NULL),
    R("sequence(within 1d)", 1, 10, "line 1, column 10: a sequence step needs an event type in double quotes, found 'within'", NULL),
    R("sequence(\"a\" -> not not \"b\")", 1, 21, "line 1, column 21: a sequence step needs an event type in double quotes, found 'not'", NULL),
    /* last / consent / score / in_segment / exists / date */
    R("last() == \"x\"", 1, 6, "line 1, column 6: last needs a property name in double quotes, found ')'", "last(\"c\") == \"x\""),
    R("last(1) == \"x\"", 1, 6, "line 1, column 6: last needs a property name in double quotes, found '1'", NULL),
    R("last(\"\") == \"x\"", 1, 6, "line 1, column 6: a property name of last is empty", NULL),
    R("last(\"a\", \"b\") == \"x\"", 1, 9, "line 1, column 9: expected ')' to close the arguments of last, found ','", NULL),
    R("consent()", 1, 9, "line 1, column 9: consent needs a purpose in double quotes, found ')'", "consent(\"m\")"),
    R("consent(\"\")", 1, 9, "line 1, column 9: a purpose of consent is empty", NULL),
    R("consent(marketing)", 1, 9, "line 1, column 9: consent needs a purpose in double quotes, found 'marketing'", "consent(\"marketing\")"),
    R("consent(\"a\", \"b\")", 1, 12, "line 1, column 12: expected ')' to close the arguments of consent, found ','", NULL),
    R("score() > 1", 1, 7, "line 1, column 7: score needs a score name in double quotes, found ')'", "score(\"churn\") > 1"),
    R("score(1) > 1", 1, 7, "line 1, column 7: score needs a score name in double quotes, found '1'", NULL),
    R("score(\"a\", 1) > 1", 1, 10, "line 1, column 10: expected ')' to close the arguments of score, found ','", NULL),
    R("in_segment()", 1, 12, "line 1, column 12: in_segment needs a segment name in double quotes, found ')'", "in_segment(\"base\")"),
    R("in_segment(base)", 1, 12, "line 1, column 12: in_segment needs a segment name in double quotes, found 'base'", "in_segment(\"base\")"),
    R("in_segment(\"base\", \"vips\")", 1, 18, "line 1, column 18: expected ')' to close the arguments of in_segment, found ','", NULL),
    R("in_segment(\"nope\")", 1, 1, "line 1, column 1 (segment 'new'): in_segment: no segment named 'nope'", "in_segment(\"vips\")"),
    R("x > 1 and\n  in_segment(\"Base\")", 2, 3, "line 2, column 3 (segment 'new'): in_segment: no segment named 'Base'", NULL),
    R("in_segment(\"new\")", 1, 1, "line 1, column 1 (segment 'new'): in_segment('new') makes a cycle", NULL),
    R("exists()", 1, 8, "line 1, column 8: expected an attribute, pref.NAME or ctx.NAME, found ')'", "exists(plan)"),
    R("exists(\"plan\")", 1, 8, "line 1, column 8: expected an attribute, pref.NAME or ctx.NAME, found '\"plan\"'", "exists(attr[\"plan\"])"),
    R("exists(1)", 1, 8, "line 1, column 8: expected an attribute, pref.NAME or ctx.NAME, found '1'", NULL),
    R("exists(attr.a, attr.b)", 1, 14, "line 1, column 14: expected ')' to close the arguments of exists, found ','", NULL),
    R("date() > 0", 1, 6, "line 1, column 6: date needs an ISO 8601 date in double quotes, found ')'", "date(\"2024-01-01\") > 0"),
    R("date(1) > now", 1, 6, "line 1, column 6: date needs an ISO 8601 date in double quotes, found '1'", NULL),
    R("date(\"\") > now", 1, 6, "line 1, column 6: an ISO 8601 date of date is empty", NULL),
    R("date(\"2024-13-01\") > now", 1, 6, "line 1, column 6: date(): month 13 out of range", "date(\"2024-12-01\") > now"),
    R("date(\"2024-02-30\") > now", 1, 6, "line 1, column 6: date(): day 30 out of range", "date(\"2024-02-29\") > now"),
    R("date(\"2024-01-01T25:00:00Z\") > now", 1, 6, "line 1, column 6: date(): hour 25 out of range", "date(\"2024-01-01T23:00:00Z\") > now"),
    R("date(\"yesterday\") > now", 1, 6, "line 1, column 6: date(): expected a 4-digit year (YYYY-MM-DD)", NULL),
    R("date(\"2024-01-01\", \"x\") > now", 1, 18, "line 1, column 18: expected ')' to close the arguments of date, found ','", NULL),
};

/* Rule sets (persona_segment_model_compile). */
static const bad set_cases[] = {
    S("vip value > 10", 1, 5, "line 1, column 5: expected ':' after the segment name 'vip', found 'value' (a rule set is lines of NAME: rule)", "vip: value > 10"),
    S("a b: x > 1", 1, 3, "line 1, column 3: expected ':' after the segment name 'a', found 'b' (a rule set is lines of NAME: rule)", "a_b: x > 1"),
    S("vip: value > 10\nbig value > 100", 2, 1, "line 2, column 1 (segment 'vip'): unexpected 'big' after the rule (a new segment starts with NAME:)", "vip: value > 10\nbig: value > 100"),
    S("a: x > 1 b y > 2", 1, 10, "line 1, column 10 (segment 'a'): unexpected 'b' after the rule (a new segment starts with NAME:)", "a: x > 1 b: y > 2"),
    S("vip: value > 10 junk", 1, 17, "line 1, column 17 (segment 'vip'): unexpected 'junk' after the rule (a new segment starts with NAME:)", NULL),
    S("vip: value > 10 )", 1, 17, "line 1, column 17 (segment 'vip'): unexpected ')' after the rule (a new segment starts with NAME:)", NULL),
    S("vip: value > 10 \"x\"", 1, 17, "line 1, column 17 (segment 'vip'): unexpected '\"x\"' after the rule (a new segment starts with NAME:)", NULL),
    S(" vip : value > 1  ;", 1, 19, "~(segment 'vip') | unexpected character ';'", " vip : value > 1"),
    S("12: value > 1", 1, 1, "line 1, column 1: expected a segment name (NAME: rule), found '12'", "s12: value > 1"),
    S(": value > 1", 1, 1, "line 1, column 1: expected a segment name (NAME: rule), found ':'", NULL),
    S("\"\": value > 1", 1, 1, "line 1, column 1: segment name is empty", "\" \": value > 1"),
    S("\"a\\tb\": value > 1", 1, 1, "~segment name | holds a control character", "\"a b\": value > 1"),
    S("vip: value > 10\nvip: orders > 1", 2, 1, "~two segments are named 'vip'", "vip: value > 10\nvip2: orders > 1"),
    S("vip: value > 10\n\"vip\": orders > 1", 2, 1, "~two segments are named 'vip'", NULL),
    S("a: x\nb: y\na: z", 3, 1, "~two segments are named 'a' | !segment 'b'", NULL),
    S("vip:", 1, 5, "line 1, column 5 (segment 'vip'): segment 'vip' has no rule after ':'", "vip: x"),
    S("vip: value > 10\nlapsed:", 2, 8, "line 2, column 8 (segment 'lapsed'): segment 'lapsed' has no rule after ':'", NULL),
    S("vip: value > 10\nlapsed: # nothing yet\n", 3, 1, "line 3, column 1 (segment 'lapsed'): segment 'lapsed' has no rule after ':'", NULL),
    S("vip: value > 10\nlapsed:\nother: orders > 1", 3, 1, "~segment 'lapsed' has no rule", "vip: value > 10\nlapsed: x\nother: orders > 1"),
    S("", 1, 1, "line 1, column 1: the rule set has no segments", "a: x"),
    S("# nothing\n\n", 1, 1, "line 1, column 1: the rule set has no segments", NULL),
    S("a: in_segment(\"zz\")", 1, 4, "line 1, column 4 (segment 'a'): in_segment: no segment named 'zz'", "a: in_segment(\"a2\")\na2: x"),
    S("a: value > 1\nb: orders > 1 and in_segment(\"zz\")", 2, 19, "line 2, column 19 (segment 'b'): in_segment: no segment named 'zz'", NULL),
    S("a: in_segment(\"a\")", 1, 4, "line 1, column 4 (segment 'a'): in_segment('a') makes a cycle", NULL),
    S("a: in_segment(\"b\")\nb: in_segment(\"a\")", 2, 4, "~makes a cycle | 'a' | 'b'", "a: in_segment(\"b\")\nb: x"),
    S("a: in_segment(\"b\")\nb: in_segment(\"c\")\nc: x > 1 and in_segment(\"a\")", 3, 14, "~makes a cycle | 'c' | 'a'", NULL),
    S("vip: value >\n  10 and\n  orders >\n  \"a\"", 3, 10, "line 3, column 10 (segment 'vip'): cannot compare a number with a string", "vip: value >\n  10 and\n  orders >\n  1"),
    S("vip: value > 1\n\nlapsed: stopped(\"buy\", 0d)", 3, 24, "~(segment 'lapsed') | the window of stopped must be | '0d'", NULL),
    S("a: count(\"x\", 7d) > 1 and\n   count(\"y\", 7d  > 1", 2, 19, "line 2, column 19 (segment 'a'): expected ')' to close the arguments of count, found '>'", NULL),
    S("a:\n  x > 1 ==", 2, 9, "line 2, column 9 (segment 'a'): comparisons do not chain: write x between a and b, or use and", NULL),
    S("a: x > 1\n\"b\xff\": y", 2, 3, "line 2, column 3: rule text is not valid UTF-8", NULL),
    S("a: x > 1\nb: y == 'z'", 2, 9, "line 2, column 9 (segment 'b'): strings are written in double quotes", NULL),
    S("a: x > 1\nb: cnt(\"q\") > 1", 2, 4, "line 2, column 4 (segment 'b'): unknown function 'cnt'", NULL),
    S("a: x > 1\nb: regularly(\"login\", 7 of 6 weeks)", 2, 23, "~(segment 'b') | K (7) is more than N (6)", NULL),
};

static void run_cases(persona_segment_model **base, const model_state *before, const bad *cases,
                      size_t n, int *total)
{
    for (size_t i = 0; i < n; i++) {
        run_case(base, before, &cases[i]);
        (*total)++;
    }
}

/* Inputs holding NUL bytes (lengths given). A NUL cannot survive in a rule's source text
 * (persona_segment_model_rule() and the snapshot hand out NUL-terminated strings: a NUL in
 * a comment cut the saved rule short, see regress/rule_compile_eval), so it is refused
 * wherever it stands, with its position and a message naming it. */
static void nul_cases(persona_segment_model **base, const model_state *before, int *total)
{
    static const char in_string[] = "x == \"a\0b\"";
    static const char outside[] = "x\0 > 1";
    static const char in_set[] = "a: x > 1\nb: y\0";
    static const char in_comment[] = "x # \0\n> 1";
    static const char in_set_comment[] = "a: x # \0\n> 1\nb: y";
    const bad cases[] = {
        { __LINE__, 0, in_string, sizeof in_string - 1, PERSONA_EPARSE, 1, 6,
          "line 1, column 6: string holds a NUL byte", "x == \"ab\"" },
        { __LINE__, 0, outside, sizeof outside - 1, PERSONA_EPARSE, 1, 2, "~NUL", "x > 1" },
        { __LINE__, 1, in_set, sizeof in_set - 1, PERSONA_EPARSE, 2, 5,
          "~(segment 'b') | NUL", NULL },
        { __LINE__, 0, in_comment, sizeof in_comment - 1, PERSONA_EPARSE, 1, 5, "~NUL",
          "x # \n> 1" },
        { __LINE__, 1, in_set_comment, sizeof in_set_comment - 1, PERSONA_EPARSE, 1, 8, "~NUL",
          "a: x #\n> 1\nb: y" },
    };
    run_cases(base, before, cases, sizeof cases / sizeof *cases, total);
}

/* add_rule's own argument errors (EINVAL, no position). */
static void add_rule_name_cases(persona_segment_model *base, const model_state *before)
{
    static const char *const names[] = { "base", "", "a\tb" };
    static const char *const want[] = { "two segments are named 'base'", "segment name is empty",
                                        "holds a control character" };
    char longname[PERSONA_SEGMENT_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    for (int i = 0; i < 4; i++) {
        const char *name = i < 3 ? names[i] : longname;
        CHECK_RC(persona_segment_model_add_rule(base, name, "x > 1", 5), PERSONA_EINVAL);
        CHECK_MSG(i < 3 ? want[i] : "longer than 128 bytes");
        CHECK(persona_error_position(NULL, NULL) == PERSONA_ENOTFOUND);
        model_state after;
        observe(base, &after);
        CHECK(same_state(before, &after));
    }
}

/* ---- limits -------------------------------------------------------------------------- */

/* add_rule of t into m as name: rc, and the position and a phrase of a failure. */
static void expect_add(persona_segment_model *m, const char *name, const text *t, int want_rc,
                       uint64_t line, uint64_t col, const char *phrase, int src)
{
    size_t before = 0, after = 0;
    model_mark mk0, mk1;
    persona_segment_model_count(&before, m);
    persona__model_mark(m, &mk0);
    int rc = persona_segment_model_add_rule(m, name, t->s, t->len);
    check_count++;
    if (rc != want_rc) {
        check_failures++;
        fprintf(stderr, "limit case at line %d: add_rule returned %d, want %d (%s)\n", src, rc,
                want_rc, rc ? persona_errmsg() : "");
        return;
    }
    persona_segment_model_count(&after, m);
    if (rc == PERSONA_OK) {
        CHECK(after == before + 1);
        return;
    }
    persona__model_mark(m, &mk1);
    CHECK(after == before);
    CHECK(memcmp(&mk0, &mk1, sizeof mk0) == 0);
    uint64_t l = 0, c = 0;
    persona_error_position(&l, &c);
    if (verbose)
        fprintf(stderr, "[%d] limit => %d %" PRIu64 ":%" PRIu64 " %s\n", src, rc, l, c,
                persona_errmsg());
    check_count++;
    if (l != line || c != col) {
        check_failures++;
        fprintf(stderr, "limit case at line %d: position %" PRIu64 ":%" PRIu64 ", want %" PRIu64
                ":%" PRIu64 " (%s)\n", src, l, c, line, col, persona_errmsg());
    }
    if (!message_ok(persona_errmsg(), phrase, src))
        check_failures++;
}
#define EXPECT_ADD(m, name, t, rc, l, c, phrase) expect_add(m, name, t, rc, l, c, phrase, __LINE__)

static void expect_compile(const text *t, int want_rc, uint64_t line, uint64_t col,
                           const char *phrase, int src)
{
    persona_segment_model *m = (persona_segment_model *)&m;
    int rc = persona_segment_model_compile(&m, t->s, t->len, NULL);
    check_count++;
    if (rc != want_rc) {
        check_failures++;
        fprintf(stderr, "limit case at line %d: compile returned %d, want %d (%s)\n", src, rc,
                want_rc, rc ? persona_errmsg() : "");
    } else if (rc != PERSONA_OK) {
        uint64_t l = 0, c = 0;
        persona_error_position(&l, &c);
        if (verbose)
            fprintf(stderr, "[%d] limit => %d %" PRIu64 ":%" PRIu64 " %s\n", src, rc, l, c,
                    persona_errmsg());
        check_count++;
        if (l != line || c != col) {
            check_failures++;
            fprintf(stderr, "limit case at line %d: position %" PRIu64 ":%" PRIu64 ", want %" PRIu64
                    ":%" PRIu64 " (%s)\n", src, l, c, line, col, persona_errmsg());
        }
        if (!message_ok(persona_errmsg(), phrase, src))
            check_failures++;
    }
    if (rc == PERSONA_OK)
        persona_segment_model_free(m);
    else
        CHECK(m == NULL);
}
#define EXPECT_COMPILE(t, rc, l, c, phrase) expect_compile(t, rc, l, c, phrase, __LINE__)

/* Truth of segment index for user u1 in m. */
static int32_t truth(const persona_segment_model *m, size_t index, const char *user)
{
    int32_t v = -1;
    CHECK_RC(persona_segment_model_test(&v, m, index, store, user, &ctx), PERSONA_OK);
    return v;
}

static void limit_depth(void)
{
    persona_segment_model *m = make_base();
    text t = { 0 };
    /* parentheses: 64 levels, then 65 */
    for (int n = 64; n <= 65; n++) {
        text_reset(&t);
        for (int i = 0; i < n; i++)
            put_str(&t, "(");
        put_str(&t, "plan == \"pro\"");
        for (int i = 0; i < n; i++)
            put_str(&t, ")");
        if (n == 64) {
            EXPECT_ADD(m, "paren64", &t, PERSONA_OK, 0, 0, NULL);
            CHECK(truth(m, 4, "u1") == 1 && truth(m, 4, "u2") == 0);
        } else {
            EXPECT_ADD(m, "paren65", &t, PERSONA_EPARSE, 1, 65,
                       "line 1, column 65: rule nested deeper than 64 levels");
        }
    }
    /* not: 64 ok (even count: the value itself), 65 fails at the 65th */
    for (int n = 64; n <= 65; n++) {
        text_reset(&t);
        for (int i = 0; i < n; i++)
            put_str(&t, "not ");
        put_str(&t, "plan == \"pro\"");
        EXPECT_ADD(m, n == 64 ? "not64" : "not65", &t, n == 64 ? PERSONA_OK : PERSONA_EPARSE, 1,
                   4 * 64 + 1, "line 1, column 257: rule nested deeper than 64 levels");
    }
    CHECK(truth(m, 5, "u1") == 1 && truth(m, 5, "u2") == 0);
    /* unary minus: 64 '-' then the value */
    for (int n = 64; n <= 65; n++) {
        text_reset(&t);
        for (int i = 0; i < n; i++)
            put_str(&t, "-");
        put_str(&t, "count(\"buy\") == 2");
        /* the call counts too: 64 minus signs and a call are 65 levels */
        EXPECT_ADD(m, n == 64 ? "neg64" : "neg65", &t, PERSONA_EPARSE, 1, n == 64 ? 65 : 65,
                   "~rule nested deeper than 64 levels");
    }
    for (int n = 63; n <= 64; n++) {
        text_reset(&t);
        for (int i = 0; i < n; i++)
            put_str(&t, "-");
        put_str(&t, "value == 150");
        EXPECT_ADD(m, n == 63 ? "neg63" : "neg64", &t, PERSONA_OK, 0, 0, NULL);
    }
    CHECK(truth(m, 6, "u1") == 0 && truth(m, 7, "u1") == 1); /* -...-150: odd / even */
    /* a call inside 63 parentheses is 64 levels; inside 64 it is 65 */
    for (int n = 63; n <= 64; n++) {
        text_reset(&t);
        for (int i = 0; i < n; i++)
            put_str(&t, "(");
        put_str(&t, "stopped(\"view\", 1d)");
        for (int i = 0; i < n; i++)
            put_str(&t, ")");
        EXPECT_ADD(m, n == 63 ? "call64" : "call65", &t, n == 63 ? PERSONA_OK : PERSONA_EPARSE, 1,
                   65, "line 1, column 65: rule nested deeper than 64 levels");
    }
    CHECK(truth(m, 8, "u1") == 1 && truth(m, 8, "u2") == 1);
    /* right-nested sums: x + (x + (...)): an operator and a parenthesis per level */
    for (int n = 32; n <= 33; n++) {
        text_reset(&t);
        for (int i = 0; i < n; i++)
            put_str(&t, "1 + (");
        put_str(&t, "1");
        for (int i = 0; i < n; i++)
            put_str(&t, ")");
        putf(&t, " == %d", n + 1);
        /* level 2k-1 is the k-th '+', level 2k the k-th '(' (at column 5k) */
        EXPECT_ADD(m, n == 32 ? "sum32" : "sum33", &t, n == 32 ? PERSONA_OK : PERSONA_EPARSE, 1,
                   3 + 5 * 32, "line 1, column 163: rule nested deeper than 64 levels");
    }
    CHECK(truth(m, 9, "u2") == 1);
    /* a depth error in a rule set names its line */
    text_reset(&t);
    put_str(&t, "ok: x > 1\ndeep:\n  ");
    for (int i = 0; i < 65; i++)
        put_str(&t, "(");
    put_str(&t, "x");
    for (int i = 0; i < 65; i++)
        put_str(&t, ")");
    EXPECT_COMPILE(&t, PERSONA_EPARSE, 3, 67,
                   "line 3, column 67 (segment 'deep'): rule nested deeper than 64 levels");
    free(t.s);
    persona_segment_model_free(m);
}

static void limit_string(void)
{
    persona_segment_model *m = make_base();
    text t = { 0 };
    /* 1024 bytes ok, 1025 not; counted after unescaping and in bytes (UTF-8) */
    for (int n = 1024; n <= 1025; n++) {
        text_reset(&t);
        put_str(&t, "plan != \"");
        for (int i = 0; i < n; i++)
            put_str(&t, "a");
        put_str(&t, "\"");
        EXPECT_ADD(m, n == 1024 ? "s1024" : "s1025", &t, n == 1024 ? PERSONA_OK : PERSONA_EPARSE, 1,
                   9, "line 1, column 9: string longer than 1024 bytes");
    }
    text_reset(&t);
    put_str(&t, "plan != \"");
    for (int i = 0; i < 1024; i++)
        put_str(&t, "\\n");
    put_str(&t, "\"");
    EXPECT_ADD(m, "esc1024", &t, PERSONA_OK, 0, 0, NULL);
    text_reset(&t);
    put_str(&t, "plan != \"");
    for (int i = 0; i < 512; i++)
        put_str(&t, "\xc3\xa9");
    put_str(&t, "\"");
    EXPECT_ADD(m, "utf1024", &t, PERSONA_OK, 0, 0, NULL);
    text_reset(&t);
    put_str(&t, "plan != \"a");
    for (int i = 0; i < 512; i++)
        put_str(&t, "\xc3\xa9");
    put_str(&t, "\"");
    EXPECT_ADD(m, "utf1025", &t, PERSONA_EPARSE, 1, 9, "line 1, column 9: string longer than 1024 bytes");
    /* the same in an argument and in a segment name position of a rule set */
    text_reset(&t);
    put_str(&t, "count(\"");
    for (int i = 0; i < 1025; i++)
        put_str(&t, "t");
    put_str(&t, "\") > 0");
    EXPECT_ADD(m, "arg1025", &t, PERSONA_EPARSE, 1, 7, "line 1, column 7: string longer than 1024 bytes");
    size_t n = 0;
    persona_segment_model_count(&n, m);
    CHECK(n == 7);
    CHECK(truth(m, 4, "u1") == 1 && truth(m, 4, "u2") == 1);
    free(t.s);
    persona_segment_model_free(m);
}

static void limit_list(void)
{
    persona_segment_model *m = make_base();
    text t = { 0 };
    for (int n = 1024; n <= 1025; n++) {
        text_reset(&t);
        put_str(&t, "value in [");
        for (int i = 0; i < n; i++)
            putf(&t, "%s%d", i ? ", " : "", i == n - 1 ? 150 : 7);
        put_str(&t, "]");
        /* element k (0-based) starts at column 11 + 3k for one-digit elements */
        EXPECT_ADD(m, n == 1024 ? "l1024" : "l1025", &t, n == 1024 ? PERSONA_OK : PERSONA_EPARSE, 1,
                   11 + 3 * 1024, "line 1, column 3083: a list has at most 1024 elements");
    }
    CHECK(truth(m, 4, "u1") == 1 && truth(m, 4, "u2") == 0);
    free(t.s);
    persona_segment_model_free(m);
}

static void limit_steps(void)
{
    persona_segment_model *m = make_base();
    text t = { 0 };
    for (int n = 16; n <= 17; n++) {
        text_reset(&t);
        put_str(&t, "sequence(\"view\"");
        for (int i = 1; i < n; i++)
            put_str(&t, " -> not \"zz\""); /* 12 bytes each */
        put_str(&t, ")");
        EXPECT_ADD(m, n == 16 ? "st16" : "st17", &t, n == 16 ? PERSONA_OK : PERSONA_EPARSE, 1,
                   15 + 12 * 15 + 5, "line 1, column 200: a sequence has at most 16 steps");
    }
    CHECK(truth(m, 4, "u1") == 1 && truth(m, 4, "u2") == 1);
    free(t.s);
    persona_segment_model_free(m);
}

/* 256 distinct behavioural functions (traits included) per model. */
static void limit_features(void)
{
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    text t = { 0 };
    /* 4 rules of 64 distinct windows: 256 features */
    for (int r = 0; r < 4; r++) {
        text_reset(&t);
        for (int i = 0; i < 64; i++)
            putf(&t, "%scount(\"buy\", %dh) >= 2", i ? " or " : "", 1 + r * 64 + i);
        char name[16];
        snprintf(name, sizeof name, "f%d", r);
        EXPECT_ADD(m, name, &t, PERSONA_OK, 0, 0, NULL);
    }
    /* every one again: not new, so accepted */
    text_reset(&t);
    put_str(&t, "count(\"buy\", 1h) >= 0 and count(\"buy\", 256h) >= 2");
    EXPECT_ADD(m, "again", &t, PERSONA_OK, 0, 0, NULL);
    /* the 257th: a trait is a feature too */
    text_reset(&t);
    put_str(&t, "count(\"buy\", 2h) >= 0 and\n  orders > 0");
    EXPECT_ADD(m, "f257", &t, PERSONA_EPARSE, 2, 3,
               "line 2, column 3: more than 256 distinct behavioural functions in one model");
    text_reset(&t);
    put_str(&t, "sequence(\"view\" -> \"buy\")");
    EXPECT_ADD(m, "f257b", &t, PERSONA_EPARSE, 1, 1,
               "line 1, column 1: more than 256 distinct behavioural functions in one model");
    size_t n = 0;
    persona_segment_model_count(&n, m);
    CHECK(n == 5);
    CHECK(truth(m, 0, "u1") == 1); /* from 49h on a window holds both buys */
    CHECK(truth(m, 0, "u2") == 0);
    CHECK(truth(m, 4, "u1") == 1);
    persona_segment_model_free(m);

    /* in one rule set: 256 ok, 257 fail */
    for (int k = 256; k <= 257; k++) {
        text_reset(&t);
        put_str(&t, "a: events > 0\nb: ");
        size_t line2 = 14, col = 0;
        for (int i = 1; i < k; i++) {
            putf(&t, "%s", i > 1 ? " or " : "");
            col = t.len - line2 + 1; /* of the last sum, the 257th feature with k = 257 */
            putf(&t, "sum(\"buy\", %dd) > 0", i);
        }
        EXPECT_COMPILE(&t, k == 256 ? PERSONA_OK : PERSONA_EPARSE, 2, col,
                       "~(segment 'b') | more than 256 distinct behavioural functions");
    }
    free(t.s);
}

/* 1024 distinct event types and names per model. */
static void limit_names(void)
{
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    text t = { 0 };
    /* 8 rules of 128 names: attributes, preferences, event types, property names, purposes,
     * scores (event types and property names through 192 features, under their limit) */
    for (int r = 0; r < 8; r++) {
        text_reset(&t);
        for (int i = 0; i < 128; i++) {
            int k = r * 128 + i;
            const char *sep = i ? " or " : "";
            switch (k % 8) {
            case 0: putf(&t, "%sa%d == 1", sep, k); break;
            case 1: putf(&t, "%sdays_since(\"t%d\") == 1", sep, k); break;
            case 2: putf(&t, "%sctx.f%d == \"x\" or a%d == 2", sep, k, k); break;
            case 3: putf(&t, "%sconsent(\"c%d\")", sep, k); break;
            case 4: putf(&t, "%sscore(\"s%d\") > 1", sep, k); break;
            case 5: putf(&t, "%spref.q%d == 1", sep, k); break;
            case 6: putf(&t, "%sexists(attr[\"e%d\"])", sep, k); break;
            default:
                if (k % 16 == 7)
                    putf(&t, "%slast(\"p%d\") == \"x\"", sep, k);
                else
                    putf(&t, "%sattr.b%d > 1", sep, k);
                break;
            }
        }
        char name[16];
        snprintf(name, sizeof name, "n%d", r);
        EXPECT_ADD(m, name, &t, PERSONA_OK, 0, 0, NULL);
    }
    text_reset(&t);
    put_str(&t, "a0 == 1 and days_since(\"t1\") == 1");
    EXPECT_ADD(m, "known", &t, PERSONA_OK, 0, 0, NULL);
    text_reset(&t);
    put_str(&t, "a0 == 1 and plan == \"pro\"");
    EXPECT_ADD(m, "n1025", &t, PERSONA_EPARSE, 1, 13,
               "line 1, column 13: more than 1024 distinct event types and names in one model");
    text_reset(&t);
    put_str(&t, "count(\"buy\") > 1");
    EXPECT_ADD(m, "n1025b", &t, PERSONA_EPARSE, 1, 7,
               "line 1, column 7: more than 1024 distinct event types and names in one model");
    text_reset(&t);
    put_str(&t, "count(\"*\") > 1"); /* "*" is no name */
    EXPECT_ADD(m, "any", &t, PERSONA_OK, 0, 0, NULL);
    size_t n = 0;
    persona_segment_model_count(&n, m);
    CHECK(n == 10);
    CHECK(truth(m, 9, "u1") == 1 && truth(m, 9, "u2") == 0);
    persona_segment_model_free(m);

    /* in one rule set */
    for (int k = 1024; k <= 1025; k++) {
        text_reset(&t);
        for (int i = 0; i < k; i++)
            putf(&t, "s%d: exists(pref.n%04d)\n", i, i);
        EXPECT_COMPILE(&t, k == 1024 ? PERSONA_OK : PERSONA_EPARSE, 1025, 15,
                       "~(segment 's1024') | more than 1024 distinct event types and names");
    }
    free(t.s);
}

static void limit_segments(void)
{
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    char name[32];
    for (int i = 0; i < PERSONA_SEGMENT_MAX; i++) {
        snprintf(name, sizeof name, "s%d", i);
        int rc = persona_segment_model_add_rule(m, name, "value > 100", 11);
        if (rc != PERSONA_OK) {
            CHECK_RC(rc, PERSONA_OK);
            break;
        }
    }
    CHECK_RC(persona_segment_model_add_rule(m, "one_more", "value > 100", 11), PERSONA_EINVAL);
    CHECK_MSG("at most 4096 segments");
    const char *keys[] = { "u1" };
    CHECK_RC(persona_segment_model_add_list(m, "list_more", keys, 1), PERSONA_EINVAL);
    CHECK_MSG("at most 4096 segments");
    size_t n = 0;
    persona_segment_model_count(&n, m);
    CHECK(n == PERSONA_SEGMENT_MAX);
    CHECK(truth(m, PERSONA_SEGMENT_MAX - 1, "u1") == 1);
    persona_segment_model_free(m);

    text t = { 0 };
    for (int k = 4096; k <= 4097; k++) {
        text_reset(&t);
        for (int i = 0; i < k; i++)
            putf(&t, "s%d: value > %d\n", i, i);
        EXPECT_COMPILE(&t, k == 4096 ? PERSONA_OK : PERSONA_EPARSE, 4097, 1,
                       "~at most 4096 segments");
    }
    free(t.s);
}

/* Text per call: 1 MiB is accepted, one byte more is not. */
static void limit_text(void)
{
    text t = { 0 };
    put_str(&t, "a: value > 100 # ");
    while (t.len < PERSONA_RULE_MAX_TEXT - 1)
        put_str(&t, "c");
    put_str(&t, "\n");
    CHECK(t.len == PERSONA_RULE_MAX_TEXT);
    EXPECT_COMPILE(&t, PERSONA_OK, 0, 0, NULL);
    put_str(&t, " ");
    /* include/persona/segment.h: beyond a limit "compile fails with PERSONA_EPARSE"; the
     * position is the first byte past the limit (line 2 here) */
    EXPECT_COMPILE(&t, PERSONA_EPARSE, 2, 1, "~1048576 bytes");
    persona_segment_model *m = make_base();
    model_state before, after;
    observe(m, &before);
    text_reset(&t);
    put_str(&t, "value > 100");
    while (t.len <= PERSONA_RULE_MAX_TEXT)
        put_str(&t, " ");
    int rc = persona_segment_model_add_rule(m, "huge", t.s, t.len);
    CHECK_RC(rc, PERSONA_EPARSE);
    CHECK_MSG("1048576 bytes");
    observe(m, &after);
    CHECK(same_state(&before, &after));
    persona_segment_model_free(m);
    free(t.s);
}

/* Chains of one operator: 1024 operands, then 1025. */
static void limit_chains(void)
{
    persona_segment_model *m = make_base();
    text t = { 0 };
    static const struct {
        const char *first, *op, *term, *tail, *name;
        int oplen_at; /* column of the 1024th operator */
        const char *msg;
    } chains[] = {
        { "", " + ", "value", " == 153600", "sum", 0, "more than 1024 terms in one sum or product" },
        { "", " - ", "value", " < 0", "diff", 0, "more than 1024 terms in one sum or product" },
        { "", " * ", "1", " == 1", "prod", 0, "more than 1024 terms in one sum or product" },
        { "", " and ", "plan == \"pro\"", "", "and", 0, "more than 1024 conditions joined by 'and'" },
        { "", " or ", "plan == \"pro\"", "", "or", 0, "more than 1024 conditions joined by 'or'" },
    };
    size_t segs = 4;
    for (size_t c = 0; c < sizeof chains / sizeof *chains; c++) {
        for (int n = 1024; n <= 1025; n++) {
            text_reset(&t);
            size_t col = 0;
            for (int i = 0; i < n; i++) {
                if (i) {
                    if (i == 1024)
                        col = t.len + 2; /* the operator after the space */
                    put_str(&t, chains[c].op);
                }
                put_str(&t, chains[c].term);
            }
            put_str(&t, chains[c].tail);
            char name[32], msg[160];
            snprintf(name, sizeof name, "%s%d", chains[c].name, n);
            snprintf(msg, sizeof msg, "line 1, column %zu: %s: use parentheses", col, chains[c].msg);
            EXPECT_ADD(m, name, &t, n == 1024 ? PERSONA_OK : PERSONA_EPARSE, 1, col, msg);
            segs += n == 1024;
        }
    }
    /* the accepted chains evaluate: 1024 x 150 = 153600; 150 - 1023 x 150 < 0; 1 */
    for (size_t i = 4; i < segs; i++)
        CHECK(truth(m, i, "u1") == 1);
    CHECK(truth(m, 7, "u2") == 0);
    /* parentheses split a chain: 2 x 1000 terms */
    text_reset(&t);
    put_str(&t, "(");
    for (int i = 0; i < 1000; i++)
        put_str(&t, i ? " + 1" : "1");
    put_str(&t, ") + (");
    for (int i = 0; i < 1000; i++)
        put_str(&t, i ? " + 1" : "1");
    put_str(&t, ") == 2000");
    EXPECT_ADD(m, "split", &t, PERSONA_OK, 0, 0, NULL);
    CHECK(truth(m, segs, "u2") == 1);
    free(t.s);
    persona_segment_model_free(m);
}

/* in_segment chains: 16 deep is accepted, 17 is not; in rule sets and one add_rule at a time. */
static void limit_segment_chain(void)
{
    text t = { 0 };
    for (int depth = 16; depth <= 17; depth++) {
        text_reset(&t);
        put_str(&t, "c0: plan == \"pro\"\n");
        for (int i = 1; i <= depth; i++)
            putf(&t, "c%d: in_segment(\"c%d\")\n", i, i - 1);
        char msg[160];
        snprintf(msg, sizeof msg, "line %d, column %d (segment 'c%d'): in_segment('c%d') chains more "
                 "than 16 segments deep", depth + 1, depth >= 10 ? 6 : 5, depth, depth - 1);
        EXPECT_COMPILE(&t, depth == 16 ? PERSONA_OK : PERSONA_EPARSE, (uint64_t)depth + 1,
                       depth >= 10 ? 6 : 5, msg);
    }
    /* written backwards (forward references): the same limit */
    for (int depth = 16; depth <= 17; depth++) {
        text_reset(&t);
        for (int i = depth; i >= 1; i--)
            putf(&t, "c%d: in_segment(\"c%d\")\n", i, i - 1);
        put_str(&t, "c0: plan == \"pro\"\n");
        EXPECT_COMPILE(&t, depth == 16 ? PERSONA_OK : PERSONA_EPARSE, 1, 6,
                       "~chains more than 16 segments deep | (segment 'c17')");
    }
    /* one add_rule at a time */
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, NULL), PERSONA_OK);
    CHECK_RC(persona_segment_model_add_rule(m, "c0", "plan == \"pro\"", 13), PERSONA_OK);
    char name[16];
    for (int i = 1; i <= 17; i++) {
        text_reset(&t);
        putf(&t, "x > 1 or in_segment(\"c%d\")", i - 1);
        snprintf(name, sizeof name, "c%d", i);
        if (i <= 16)
            EXPECT_ADD(m, name, &t, PERSONA_OK, 0, 0, NULL);
        else
            EXPECT_ADD(m, name, &t, PERSONA_EPARSE, 1, 10,
                       "line 1, column 10 (segment 'c17'): in_segment('c16') chains more than 16 segments deep");
    }
    CHECK(truth(m, 16, "u1") == 1 && truth(m, 16, "u2") == 0);
    persona_segment_model_free(m);
    free(t.s);
}

/* The deepest recursion a rule within every limit can cause: 32 levels of a 1024-term sum
 * whose first right operand is the next level (an operator and a parenthesis per level:
 * depth 64), about 130 KB of text. Compiling and evaluating it must not need more than a
 * 1 MiB thread stack (the default of many thread pools and of Windows). Run in a child
 * process so an overflow fails this check only. Sanitizer builds use far larger frames:
 * skipped there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STACK_CHECK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define STACK_CHECK 0
#endif
#endif
#ifndef STACK_CHECK
#define STACK_CHECK 1
#endif

static text deep_rule;

static void *compile_deep(void *arg)
{
    (void)arg;
    persona_segment_model *m = NULL;
    intptr_t ok = 0;
    if (persona_segment_model_new(&m, NULL) == PERSONA_OK &&
        persona_segment_model_add_rule(m, "deep", deep_rule.s, deep_rule.len) == PERSONA_OK) {
        int32_t v = -1;
        char buf[256];
        size_t len = 0;
        ok = persona_segment_model_test(&v, m, 0, store, "u1", &ctx) == PERSONA_OK && v == 1 &&
             persona_segment_model_describe(buf, sizeof buf, &len, m, store, "u1", &ctx) ==
                 PERSONA_EBUFS;
    } else {
        fprintf(stderr, "deep rule: %s\n", persona_errmsg());
    }
    persona_segment_model_free(m);
    return (void *)ok;
}

static void limit_stack(void)
{
    /* level k: (1 + LEVEL(k-1) + 1 + ... + 1) with 1024 terms; value 1024 * 32 + 1 - 32 */
    text inner = { 0 }, next = { 0 };
    put_str(&inner, "1");
    for (int level = 0; level < 32; level++) {
        text_reset(&next);
        put_str(&next, "(1 + ");
        put(&next, inner.s, inner.len);
        for (int i = 0; i < 1022; i++)
            put_str(&next, " + 1");
        put_str(&next, ")");
        text tmp = inner;
        inner = next;
        next = tmp;
    }
    deep_rule = inner;
    putf(&deep_rule, " == %d", 1 + 32 * 1023);
    free(next.s);
    CHECK(deep_rule.len < 140000);
    if (!STACK_CHECK) {
        fprintf(stderr, "test_rule_errors: stack check skipped in a sanitizer build\n");
        free(deep_rule.s);
        return;
    }
    size_t stack_kib = 1024;
    const char *e = getenv("RULE_ERRORS_STACK_KIB");
    if (e && atoi(e) >= 64)
        stack_kib = (size_t)atoi(e);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_attr_t attr;
        pthread_t th;
        void *ok = NULL;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, stack_kib << 10);
        if (pthread_create(&th, &attr, compile_deep, NULL) != 0 || pthread_join(th, &ok) != 0)
            _exit(3);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    check_count++;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        check_failures++;
        if (WIFSIGNALED(status))
            fprintf(stderr, "a rule within every limit (%zu bytes, depth 64, 1024-term sums) "
                    "killed a thread with a %zu KiB stack: signal %d\n", deep_rule.len,
                    stack_kib, WTERMSIG(status));
        else
            fprintf(stderr, "deep rule: child exited with %d\n", WEXITSTATUS(status));
    }
    free(deep_rule.s);
}

int main(void)
{
    verbose = getenv("RULE_ERRORS_VERBOSE") != NULL;
    make_store();
    persona_segment_model *base = make_base();
    model_state before;
    observe(base, &before);
    check_base_answers(base, __LINE__);
    CHECK(before.count == 4);

    int total = 0;
    run_cases(&base, &before, token_cases, sizeof token_cases / sizeof *token_cases, &total);
    run_cases(&base, &before, grammar_cases, sizeof grammar_cases / sizeof *grammar_cases, &total);
    run_cases(&base, &before, type_cases, sizeof type_cases / sizeof *type_cases, &total);
    run_cases(&base, &before, function_cases, sizeof function_cases / sizeof *function_cases, &total);
    run_cases(&base, &before, set_cases, sizeof set_cases / sizeof *set_cases, &total);
    nul_cases(&base, &before, &total);
    add_rule_name_cases(base, &before);
    fprintf(stderr, "test_rule_errors: %d malformed rules and rule sets\n", total);

    /* after all those failures the base model still takes a rule that uses new names */
    const char *more = "count(\"view\", 30d) >= 1 and not in_segment(\"seq\") and ctx.hour < 12";
    CHECK_RC(persona_segment_model_add_rule(base, "more", more, strlen(more)), PERSONA_OK);
    CHECK(truth(base, 4, "u1") == 0 && truth(base, 4, "u2") == 1);
    persona_segment_model_free(base);

    limit_depth();
    limit_string();
    limit_list();
    limit_steps();
    limit_features();
    limit_names();
    limit_segments();
    limit_text();
    limit_chains();
    limit_segment_chain();
    limit_stack();

    persona_store_free(store);
    return check_report("test_rule_errors");
}
