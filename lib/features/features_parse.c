/* The feature spec (docs/features.md, "Grammar"), tokenized by the rule language's lexer
 * with ';' turned on:
 *
 *   spec    := view (';' view)* [';']
 *   view    := [NAME ':'] term (',' term)*
 *   term    := wrapped ['as' NAME]
 *   wrapped := ('log1p' | 'slog1p' | 'raw') '(' wrapped ')' | base
 *   base    := TRAIT | ('count' | 'value' | 'attr' | 'engagement') '(' NAME ')'
 *            | 'onehot' '(' ('attr' | 'last') '(' NAME ')' [',' NUMBER] ')'
 *   NAME    := identifier | "string"
 *
 * Errors are PERSONA_EPARSE at the offending token, the message starting "line L, column C:". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "features/features_internal.h"
#include "segment/rule_lex.h"

const char *const persona__feat_trait_names[FT_TRAITS] = {
    "events", "sessions", "orders", "value_sum", "event_types", "attributes",
    "recency_days", "tenure_days",
};

typedef struct parser {
    rule_lexer lx;
    token tok;
    feat_spec *spec;
} parser;

static void advance(parser *p)
{
    persona__lex_next(&p->lx, &p->tok);
}

static int error_at(const token *t, const char *fmt, ...) PERSONA__PRINTF(2, 3);
static int error_at(const token *t, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return persona__lex_fail(t, NULL, msg);
}

/* The current token quoted for a message. */
static void describe(const parser *p, char *out, size_t cap)
{
    if (p->tok.kind == T_EOF)
        snprintf(out, cap, "the end of the spec");
    else
        persona__tok_describe(&p->lx, &p->tok, out, cap);
}

/* An error about the current token: "<what>, found <token>" (the lexer's own message for a
 * token it refused). */
static int expected(parser *p, const char *what)
{
    if (p->tok.kind == T_ERROR)
        return error_at(&p->tok, "%s", p->lx.error);
    char found[64];
    describe(p, found, sizeof found);
    return error_at(&p->tok, "expected %s, found %s", what, found);
}

static int expect(parser *p, int kind, const char *what)
{
    if (p->tok.kind != kind)
        return expected(p, what);
    advance(p);
    return PERSONA_OK;
}

/* A NAME token (identifier or string) copied into *out. */
static int take_name(parser *p, char **out, const char *what)
{
    const char *s;
    size_t len;
    if (p->tok.kind == T_IDENT) {
        s = p->lx.text + p->tok.off;
        len = p->tok.len;
    } else if (p->tok.kind == T_STR) {
        s = p->lx.str;
        len = p->tok.str_len;
    } else {
        return expected(p, what);
    }
    if (len == 0)
        return error_at(&p->tok, "%s cannot be empty", what);
    if (len > PERSONA_MAX_KEY_LEN)
        return error_at(&p->tok, "%s is longer than %d bytes", what, PERSONA_MAX_KEY_LEN);
    *out = persona__strndup(s, len);
    if (!*out)
        return persona__fail_nomem();
    advance(p);
    return PERSONA_OK;
}

static int is_word(const parser *p, const char *w)
{
    return persona__tok_is(&p->lx, &p->tok, w);
}

/* "a(b)" or "a(b)c" in new memory. */
static char *wrap(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = persona__alloc(la + lb + lc + 3);
    if (s) {
        memcpy(s, a, la);
        s[la] = '(';
        memcpy(s + la + 1, b, lb);
        s[la + 1 + lb] = ')';
        memcpy(s + la + 2 + lb, c, lc + 1);
    }
    return s;
}

static const struct {
    const char *word;
    int32_t kind;
} functions[] = { { "count", FT_COUNT }, { "value", FT_VALUE }, { "attr", FT_ATTR },
                  { "engagement", FT_ENGAGEMENT } };

static int parse_base(parser *p, feat_term *t)
{
    for (int k = 0; k < FT_TRAITS; k++)
        if (is_word(p, persona__feat_trait_names[k])) {
            t->kind = k;
            t->name = persona__strndup(persona__feat_trait_names[k],
                                       strlen(persona__feat_trait_names[k]));
            if (!t->name)
                return persona__fail_nomem();
            advance(p);
            return PERSONA_OK;
        }
    const char *fn = NULL;
    for (size_t k = 0; k < sizeof functions / sizeof functions[0]; k++)
        if (is_word(p, functions[k].word)) {
            t->kind = functions[k].kind;
            fn = functions[k].word;
        }
    int rc;
    if (fn) {
        advance(p);
        if ((rc = expect(p, T_LPAREN, "'('")) || (rc = take_name(p, &t->arg, "a name")) ||
            (rc = expect(p, T_RPAREN, "')'")))
            return rc;
        t->name = wrap(fn, t->arg, "");
        return t->name ? PERSONA_OK : persona__fail_nomem();
    }
    if (is_word(p, "onehot")) {
        advance(p);
        if ((rc = expect(p, T_LPAREN, "'('")))
            return rc;
        const char *inner = is_word(p, "attr") ? "attr" : is_word(p, "last") ? "last" : NULL;
        if (!inner)
            return expected(p, "attr(NAME) or last(PROPERTY)");
        t->kind = inner[0] == 'a' ? FT_ONEHOT_ATTR : FT_ONEHOT_LAST;
        advance(p);
        if ((rc = expect(p, T_LPAREN, "'('")) || (rc = take_name(p, &t->arg, "a name")) ||
            (rc = expect(p, T_RPAREN, "')'")))
            return rc;
        if (p->tok.kind == T_COMMA) {
            advance(p);
            if (p->tok.kind != T_NUM || p->tok.num < 1 ||
                p->tok.num > PERSONA_FEATURES_MAX_LEVELS || p->tok.num != (double)(uint32_t)p->tok.num)
                return p->tok.kind == T_ERROR
                           ? expected(p, "")
                           : error_at(&p->tok, "the levels of onehot() are a whole number "
                                               "1 … %d", PERSONA_FEATURES_MAX_LEVELS);
            t->levels = (uint32_t)p->tok.num;
            advance(p);
        }
        if ((rc = expect(p, T_RPAREN, "')' or ', LEVELS'")))
            return rc;
        t->name = wrap(inner, t->arg, "");
        return t->name ? PERSONA_OK : persona__fail_nomem();
    }
    if (p->tok.kind == T_IDENT) {
        char found[64];
        describe(p, found, sizeof found);
        return error_at(&p->tok, "unknown feature %s (traits: events, sessions, orders, "
                                 "value_sum, event_types, attributes, recency_days, "
                                 "tenure_days; functions: count, value, attr, engagement, "
                                 "onehot, log1p, slog1p, raw)", found);
    }
    return expected(p, "a feature");
}

static int parse_wrapped(parser *p, feat_term *t)
{
    int32_t transform = is_word(p, "log1p")    ? PERSONA_FEATURES_LOG1P
                        : is_word(p, "slog1p") ? PERSONA_FEATURES_SLOG1P
                                               : PERSONA_FEATURES_IDENTITY;
    int raw = is_word(p, "raw");
    if (!transform && !raw)
        return parse_base(p, t);
    token at = p->tok;
    if (transform && t->transform)
        return error_at(&at, "one feature takes one of log1p and slog1p, once");
    if (raw && t->raw)
        return error_at(&at, "raw() is given twice");
    if (transform)
        t->transform = transform;
    else
        t->raw = 1;
    advance(p);
    int rc;
    if ((rc = expect(p, T_LPAREN, "'('")) || (rc = parse_wrapped(p, t)) ||
        (rc = expect(p, T_RPAREN, "')'")))
        return rc;
    if (transform && (t->kind == FT_ONEHOT_ATTR || t->kind == FT_ONEHOT_LAST))
        return error_at(&at, "%s() does not apply to onehot() columns",
                        transform == PERSONA_FEATURES_LOG1P ? "log1p" : "slog1p");
    if (transform) {
        char *name = wrap(transform == PERSONA_FEATURES_LOG1P ? "log1p" : "slog1p", t->name, "");
        if (!name)
            return persona__fail_nomem();
        persona__free(t->name);
        t->name = name;
    }
    return PERSONA_OK;
}

static int at_view_name(const parser *p);

static void term_free(feat_term *t)
{
    persona__free(t->arg);
    persona__free(t->name);
    for (size_t i = 0; i < t->n_level; i++)
        persona__free(t->level[i]);
    persona__free(t->level);
    persona__free(t->by_name);
    memset(t, 0, sizeof *t);
}

static int parse_term(parser *p, uint32_t view)
{
    feat_spec *s = p->spec;
    if (persona__grow((void **)&s->terms, &s->terms_cap, s->n_terms + 1, sizeof *s->terms, 8))
        return persona__fail_nomem();
    feat_term *t = &s->terms[s->n_terms];
    memset(t, 0, sizeof *t);
    token start = p->tok;
    if (at_view_name(p)) {
        char name[64];
        describe(p, name, sizeof name);
        return error_at(&start, "view %s starts here: end the view before with ';'", name);
    }
    t->view = view;
    t->line = start.line;
    t->col = start.col;
    int rc = parse_wrapped(p, t);
    if (rc == PERSONA_OK && is_word(p, "as")) {
        advance(p);
        char *alias = NULL;
        rc = take_name(p, &alias, "a column name after 'as'");
        if (rc == PERSONA_OK) {
            persona__free(t->name);
            t->name = alias;
        }
    }
    for (size_t i = 0; rc == PERSONA_OK && i < s->n_terms; i++)
        if (strcmp(s->terms[i].name, t->name) == 0)
            rc = error_at(&start, "column '%.200s' is given twice", t->name);
    if (rc) {
        term_free(t);
        return rc;
    }
    s->n_terms++;
    return PERSONA_OK;
}

/* Whether the current token starts "NAME :" (a view name). */
static int at_view_name(const parser *p)
{
    if (p->tok.kind != T_IDENT && p->tok.kind != T_STR)
        return 0;
    rule_lexer peek = p->lx;
    token next;
    persona__lex_next(&peek, &next);
    return next.kind == T_COLON;
}

static int parse_view(parser *p)
{
    feat_spec *s = p->spec;
    if (persona__grow((void **)&s->views, &s->views_cap, s->n_views + 1, sizeof *s->views, 4) ||
        persona__grow((void **)&s->view_first, &s->first_cap, s->n_views + 2,
                      sizeof *s->view_first, 5))
        return persona__fail_nomem();
    token start = p->tok;
    char *name = NULL;
    int rc;
    if (at_view_name(p)) {
        if ((rc = take_name(p, &name, "a view name")))
            return rc;
        for (size_t v = 0; v < s->n_views; v++)
            if (s->views[v] && strcmp(s->views[v], name) == 0) {
                persona__free(name);
                return error_at(&start, "view '%.200s' is given twice", s->views[v]);
            }
        advance(p); /* the ':' */
    }
    if (!name && s->n_views > 0)
        return error_at(&start, "a view needs a name when there are several (NAME: features)");
    s->views[s->n_views] = name;
    s->view_first[s->n_views] = s->n_terms;
    s->n_views++;
    for (;;) {
        if ((rc = parse_term(p, (uint32_t)(s->n_views - 1))))
            return rc;
        if (p->tok.kind != T_COMMA)
            return PERSONA_OK;
        advance(p);
    }
}

void persona__features_spec_free(feat_spec *s)
{
    for (size_t i = 0; i < s->n_terms; i++)
        term_free(&s->terms[i]);
    persona__free(s->terms);
    for (size_t v = 0; v < s->n_views; v++)
        persona__free(s->views[v]);
    persona__free(s->views);
    persona__free(s->view_first);
    memset(s, 0, sizeof *s);
}

static int parse_spec(parser *p)
{
    feat_spec *s = p->spec;
    advance(p);
    if (p->tok.kind == T_EOF)
        return error_at(&p->tok, "the spec has no features");
    for (;;) {
        int rc = parse_view(p);
        if (rc)
            return rc;
        if (p->tok.kind == T_SEMI) {
            advance(p);
            if (p->tok.kind == T_EOF)
                break;
            if (s->n_views == 1 && !s->views[0])
                return error_at(&p->tok, "a view needs a name when there are several "
                                         "(NAME: features)");
            continue;
        }
        if (p->tok.kind == T_EOF)
            break;
        return expected(p, "',' or ';'");
    }
    s->view_first[s->n_views] = s->n_terms;
    if (!s->views[0]) {
        s->views[0] = persona__strndup("all", 3);
        if (!s->views[0])
            return persona__fail_nomem();
    }
    return PERSONA_OK;
}

int persona__features_parse(feat_spec *spec, const char *text, size_t len)
{
    memset(spec, 0, sizeof *spec);
    parser p;
    memset(&p, 0, sizeof p);
    persona__lex_init(&p.lx, text, len);
    p.lx.semicolon = 1;
    p.spec = spec;
    int rc = parse_spec(&p);
    if (rc)
        persona__features_spec_free(spec);
    return rc;
}
