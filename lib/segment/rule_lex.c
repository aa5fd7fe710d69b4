/* The rule language's tokenizer: one token of lookahead, positions as 1-based line and
 * byte column, strings unescaped into a fixed buffer (no allocation). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/utf8.h"
#include "segment/rule_lex.h"

void persona__lex_init(rule_lexer *lx, const char *text, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->text = text;
    lx->len = len;
    lx->line = 1;
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void skip_space(rule_lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->text[lx->pos];
        if (c == '\n') {
            lx->pos++;
            lx->line++;
            lx->line_start = lx->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            lx->pos++;
        } else if (c == '#') {
            /* A NUL ends the comment: the tokenizer then refuses it where it stands. */
            while (lx->pos < lx->len && lx->text[lx->pos] != '\n' && lx->text[lx->pos] != 0)
                lx->pos++;
        } else {
            break;
        }
    }
}

static void fail(rule_lexer *lx, token *t, const char *msg)
{
    t->kind = T_ERROR;
    snprintf(lx->error, sizeof lx->error, "%s", msg);
}

/* The token's text, quoted, for a message ("'7days'"); long ones cut. */
static void quote_token(const rule_lexer *lx, const token *t, char *out, size_t cap)
{
    size_t n = t->len > 40 ? 40 : t->len;
    n = persona__utf8_prefix(lx->text + t->off, n);
    snprintf(out, cap, "'%.*s%s'", (int)n, lx->text + t->off, t->len > n ? "…" : "");
}

/* fail() with a message "<before><the token quoted><after>". */
static void fail_quoting(rule_lexer *lx, token *t, const char *before, const char *after)
{
    char q[64];
    quote_token(lx, t, q, sizeof q);
    t->kind = T_ERROR;
    snprintf(lx->error, sizeof lx->error, "%s%s%s", before, q, after);
}

/* Milliseconds per duration unit at text[i..), or 0 (and *ulen 0) when none follows. */
static double unit_ms(const char *s, size_t n, size_t *ulen)
{
    static const struct {
        const char *u;
        double ms;
    } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
                  { "d", 86400000 }, { "w", 604800000 } };
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        size_t l = strlen(units[k].u);
        if (n >= l && memcmp(s, units[k].u, l) == 0 && (n == l || !(is_alpha(s[l]) || is_digit(s[l])))) {
            *ulen = l;
            return units[k].ms;
        }
    }
    *ulen = 0;
    return 0;
}

static void lex_number(rule_lexer *lx, token *t)
{
    const char *s = lx->text;
    size_t i = lx->pos, n = lx->len;
    while (i < n && is_digit(s[i]))
        i++;
    if (i < n && s[i] == '.') {
        if (i + 1 >= n || !is_digit(s[i + 1])) {
            lx->pos = i;
            t->len = i - t->off;
            fail(lx, t, "a number needs digits after its decimal point");
            return;
        }
        i++;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < n && is_digit(s[j])) {
            while (j < n && is_digit(s[j]))
                j++;
            i = j;
        } else {
            lx->pos = j;
            t->len = j - t->off;
            fail_quoting(lx, t, "", " is not a number: an exponent needs digits (1e3)");
            return;
        }
    }
    char buf[64];
    size_t nl = i - lx->pos;
    if (nl >= sizeof buf) {
        lx->pos = i;
        t->len = nl;
        fail_quoting(lx, t, "number ", " has more than 63 characters");
        return;
    }
    memcpy(buf, s + lx->pos, nl);
    buf[nl] = 0;
    double v = strtod(buf, NULL);
    size_t ulen = 0;
    double ms = unit_ms(s + i, n - i, &ulen);
    t->kind = T_NUM;
    if (ulen) {
        v *= ms;
        t->kind = T_DUR;
        i += ulen;
    } else if (i < n && (is_alpha(s[i]) || is_digit(s[i]))) {
        size_t j = i;
        while (j < n && (is_alpha(s[j]) || is_digit(s[j])))
            j++;
        lx->pos = j;
        t->len = j - t->off;
        fail_quoting(lx, t, "unknown duration unit in ", " (use ms, s, m, h, d or w)");
        return;
    }
    if (!isfinite(v)) {
        lx->pos = i;
        t->len = i - t->off;
        fail_quoting(lx, t, "number out of range: ", "");
        return;
    }
    t->num = v;
    lx->pos = i;
    t->len = i - t->off;
}

static void lex_string(rule_lexer *lx, token *t)
{
    const char *s = lx->text;
    size_t i = lx->pos + 1, n = lx->len, out = 0;
    for (;;) {
        if (i >= n || s[i] == '\n') {
            lx->pos = i;
            t->len = i - t->off;
            fail(lx, t, "string not closed (a \" is missing)");
            return;
        }
        char c = s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            char e = i + 1 < n ? s[i + 1] : 0;
            char r = e == '"' ? '"' : e == '\\' ? '\\' : e == 'n' ? '\n' : e == 't' ? '\t' : 0;
            if (!r) {
                lx->pos = i;
                t->off = i;
                t->col = (uint32_t)(i - lx->line_start + 1);
                t->len = i + 1 < n ? 2 : 1;
                fail_quoting(lx, t, "unknown escape ", " in string (use \\\" \\\\ \\n or \\t)");
                return;
            }
            c = r;
            i += 2;
        } else {
            i++;
        }
        if (out >= PERSONA_RULE_MAX_STRING) {
            lx->pos = i;
            t->len = i - t->off;
            fail(lx, t, "string longer than 1024 bytes");
            return;
        }
        lx->str[out++] = c;
    }
    lx->str[out] = 0;
    size_t bad;
    if (!persona__utf8_valid(lx->str, out, &bad)) {
        lx->pos = i + 1;
        t->len = i + 1 - t->off;
        fail(lx, t, "string is not valid UTF-8");
        return;
    }
    if (memchr(lx->str, 0, out)) {
        lx->pos = i + 1;
        t->len = i + 1 - t->off;
        fail(lx, t, "string holds a NUL byte");
        return;
    }
    t->kind = T_STR;
    t->str_len = (uint32_t)out;
    lx->pos = i + 1;
    t->len = lx->pos - t->off;
}

void persona__lex_next(rule_lexer *lx, token *t)
{
    skip_space(lx);
    memset(t, 0, sizeof *t);
    t->off = lx->pos;
    t->line = lx->line;
    t->col = (uint32_t)(lx->pos - lx->line_start + 1);
    if (lx->pos >= lx->len) {
        t->kind = T_EOF;
        return;
    }
    const char *s = lx->text;
    char c = s[lx->pos], d = lx->pos + 1 < lx->len ? s[lx->pos + 1] : 0;
    if (is_digit(c)) {
        lex_number(lx, t);
        return;
    }
    if (c == '"') {
        lex_string(lx, t);
        return;
    }
    if (is_alpha(c)) {
        size_t i = lx->pos;
        while (i < lx->len && (is_alpha(s[i]) || is_digit(s[i])))
            i++;
        t->kind = T_IDENT;
        t->len = i - lx->pos;
        lx->pos = i;
        return;
    }
    static const struct {
        char a, b;
        int kind;
    } two[] = { { '=', '=', T_EQ }, { '!', '=', T_NE }, { '<', '=', T_LE },
                { '>', '=', T_GE }, { '-', '>', T_ARROW } };
    for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
        if (c == two[k].a && d == two[k].b) {
            t->kind = two[k].kind;
            t->len = 2;
            lx->pos += 2;
            return;
        }
    static const char one[] = "()[],.:<>+-*/%";
    static const int one_kind[] = { T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_DOT,
                                    T_COLON, T_LT, T_GT, T_PLUS, T_MINUS, T_STAR, T_SLASH,
                                    T_PERCENT };
    if (c == ';' && lx->semicolon) {
        t->kind = T_SEMI;
        t->len = 1;
        lx->pos++;
        return;
    }
    const char *hit = c ? strchr(one, c) : NULL;
    if (hit) {
        t->kind = one_kind[hit - one];
        t->len = 1;
        lx->pos++;
        return;
    }
    /* One whole UTF-8 character (or && / ||), so the message can quote it. */
    size_t l = 1;
    if ((c == '&' || c == '|') && d == c)
        l = 2;
    while (lx->pos + l < lx->len && ((unsigned char)s[lx->pos + l] & 0xC0) == 0x80 && l < 4)
        l++;
    t->len = l;
    lx->pos += l;
    if (c == '=')
        fail(lx, t, "'=' is not an operator: compare with '=='");
    else if (c == '&' || c == '|' || c == '!')
        fail_quoting(lx, t, "", " is not an operator: use the words and, or, not");
    else if (c == '\'')
        fail(lx, t, "strings are written in double quotes");
    else if (c == 0)
        fail(lx, t, "unexpected NUL byte");
    else
        fail_quoting(lx, t, "unexpected character ", "");
}

int persona__lex_fail(const token *t, const char *segment, char *msg)
{
    persona__utf8_truncate(msg);
    if (segment)
        return persona__fail_at(PERSONA_EPARSE, t->line, t->col,
                                "line %u, column %u (segment '%.100s'): %s", t->line, t->col,
                                segment, msg);
    return persona__fail_at(PERSONA_EPARSE, t->line, t->col, "line %u, column %u: %s", t->line,
                            t->col, msg);
}

int persona__tok_is(const rule_lexer *lx, const token *t, const char *word)
{
    size_t n = strlen(word);
    return t->kind == T_IDENT && t->len == n && memcmp(lx->text + t->off, word, n) == 0;
}

void persona__tok_describe(const rule_lexer *lx, const token *t, char *out, size_t cap)
{
    if (t->kind == T_EOF) {
        snprintf(out, cap, "the end of the rule");
        return;
    }
    size_t n = t->len > 40 ? 40 : t->len;
    n = persona__utf8_prefix(lx->text + t->off, n);
    char quoted[48];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof quoted; i++) {
        char c = lx->text[t->off + i];
        quoted[k++] = (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
    }
    quoted[k] = 0;
    snprintf(out, cap, "'%s%s'", quoted, t->len > n ? "…" : "");
}
