/* Recursive-descent parser of the rule language (grammar in docs/rules.md), with static
 * type checking. Constants, behavioural functions (features) and names go into the model
 * as they are met; a failed compile takes them back (persona__model_rollback). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/timeparse.h"
#include "core/utf8.h"
#include "segment/rule_ast.h"

#define MAX_DURATION_MS 3.15576e14 /* 10,000 years of 365.25 days: windows beyond are typos */
/* Operands of one chain of the same operator (a + b + c …): code generation recurses
 * along such a chain, so it is bounded like nesting is. */
#define MAX_CHAIN 1024
#define MS_PER_HOUR 3600000.0
#define MS_PER_DAY 86400000.0

static const char *const keywords[] = {
    "and", "or", "not", "in", "contains", "starts_with", "ends_with", "matches", "between",
    "true", "false", "now", "of", "within", "attr", "pref", "ctx",
};
static const char *const traits[] = { "events", "value", "orders", "sessions", "first_seen",
                                      "last_seen" };
static const int trait_kind[] = { F_EVENTS, F_VALUE, F_ORDERS, F_SESSIONS, F_FIRST_SEEN,
                                  F_LAST_SEEN };
static const char *const functions[] = {
    "count", "sum", "days_since", "first_time", "stopped", "restarted", "regularly",
    "sequence", "last", "consent", "score", "in_segment", "exists", "date", "next_event",
};

int persona__rule_word_reserved(const char *s, size_t n)
{
    const char *const *lists[] = { keywords, traits, functions };
    const size_t counts[] = { sizeof keywords / sizeof *keywords, sizeof traits / sizeof *traits,
                              sizeof functions / sizeof *functions };
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++)
            if (strlen(lists[l][i]) == n && memcmp(lists[l][i], s, n) == 0)
                return 1;
    return 0;
}

static const char *type_name(int ty)
{
    return ty == TY_NUM ? "a number" : ty == TY_STR ? "a string" : ty == TY_BOOL ? "a condition" : "a value";
}

int persona__parse_error_tok(rule_parser *p, const token *t, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return persona__lex_fail(t, p->seg_name, msg);
}

static int error_node(rule_parser *p, const ast *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int error_node(rule_parser *p, const ast *n, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    token t = { 0 };
    t.line = n->line;
    t.col = n->col;
    return persona__parse_error_tok(p, &t, "%s", msg);
}

/* ---- tokens ---- */

static int advance(rule_parser *p)
{
    p->last_end = p->tok.off + p->tok.len;
    persona__lex_next(&p->lx, &p->tok);
    if (p->tok.kind == T_ERROR)
        return persona__parse_error_tok(p, &p->tok, "%s", p->lx.error);
    return PERSONA_OK;
}

static int is_word(rule_parser *p, const char *w)
{
    return persona__tok_is(&p->lx, &p->tok, w);
}

static int found_error(rule_parser *p, const char *expected)
{
    char what[64];
    persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
    return persona__parse_error_tok(p, &p->tok, "expected %s, found %s", expected, what);
}

static int expect(rule_parser *p, int kind, const char *expected)
{
    if (p->tok.kind != kind)
        return found_error(p, expected);
    return advance(p);
}

static int in_list(const rule_lexer *lx, const token *t, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (persona__tok_is(lx, t, words[i]))
            return (int)i;
    return -1;
}
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- nodes and model tables ---- */

static uint32_t new_node(rule_parser *p, int *rc, int kind, int type, const token *at)
{
    if (persona__grow((void **)&p->nodes, &p->nodes_cap, p->n_nodes + 1, sizeof *p->nodes, 32)) {
        *rc = persona__fail_nomem();
        return AST_NONE;
    }
    ast *n = &p->nodes[p->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->type = (uint8_t)type;
    n->off = (uint32_t)at->off;
    n->end = (uint32_t)(at->off + at->len);
    n->line = at->line;
    n->col = at->col;
    return (uint32_t)p->n_nodes++;
}

static int add_num(rule_parser *p, double v, uint32_t *out)
{
    persona_segment_model *m = p->m;
    if (persona__grow((void **)&m->nums, &m->nums_cap, m->n_nums + 1, sizeof *m->nums, 16))
        return persona__fail_nomem();
    m->nums[m->n_nums] = v;
    *out = (uint32_t)m->n_nums++;
    return PERSONA_OK;
}

static int add_str(rule_parser *p, const char *s, size_t len, uint32_t *out)
{
    persona_segment_model *m = p->m;
    for (size_t i = 0; i < m->n_strs; i++)
        if (m->strs_len[i] == len && memcmp(m->strs[i], s, len) == 0) {
            *out = (uint32_t)i;
            return PERSONA_OK;
        }
    size_t cap = m->strs_cap;
    if (persona__grow((void **)&m->strs, &cap, m->n_strs + 1, sizeof *m->strs, 16))
        return persona__fail_nomem();
    cap = m->strs_cap;
    if (persona__grow((void **)&m->strs_len, &cap, m->n_strs + 1, sizeof *m->strs_len, 16))
        return persona__fail_nomem();
    m->strs_cap = cap;
    char *copy = persona__strndup(s, len);
    if (!copy)
        return persona__fail_nomem();
    m->strs[m->n_strs] = copy;
    m->strs_len[m->n_strs] = (uint32_t)len;
    *out = (uint32_t)m->n_strs++;
    return PERSONA_OK;
}

static int add_slot(rule_parser *p, const token *at, uint32_t kind, const char *s, size_t len,
                    uint32_t *out)
{
    persona_segment_model *m = p->m;
    for (size_t i = 0; i < m->n_slots; i++)
        if (m->slots[i].kind == kind && m->slots[i].len == len && memcmp(m->slots[i].str, s, len) == 0) {
            *out = (uint32_t)i;
            return PERSONA_OK;
        }
    if (m->n_slots >= PERSONA_RULE_MAX_NAMES)
        return persona__parse_error_tok(p, at, "more than %d distinct event types and names in one model",
                                        PERSONA_RULE_MAX_NAMES);
    if (persona__grow((void **)&m->slots, &m->slots_cap, m->n_slots + 1, sizeof *m->slots, 16))
        return persona__fail_nomem();
    char *copy = persona__strndup(s, len);
    if (!copy)
        return persona__fail_nomem();
    m->slots[m->n_slots].kind = kind;
    m->slots[m->n_slots].len = (uint32_t)len;
    m->slots[m->n_slots].str = copy;
    *out = (uint32_t)m->n_slots++;
    return PERSONA_OK;
}

static int same_feature(const persona_segment_model *m, const feature *a, const feature *b)
{
    if (a->kind != b->kind || a->slot != b->slot || a->window != b->window || a->gap != b->gap ||
        a->period != b->period || a->k != b->k || a->n != b->n || a->n_steps != b->n_steps)
        return 0;
    for (uint32_t i = 0; i < a->n_steps; i++) {
        const seq_step *x = &m->steps[a->step0 + i], *y = &m->steps[b->step0 + i];
        if (x->slot != y->slot || x->negated != y->negated || x->gap != y->gap)
            return 0;
    }
    return 1;
}

/* Add feature f (its steps, if any, already appended at f->step0), deduplicated. */
static int add_feature(rule_parser *p, const token *at, feature *f, uint32_t *out)
{
    persona_segment_model *m = p->m;
    for (size_t i = 0; i < m->n_feats; i++)
        if (same_feature(m, &m->feats[i], f)) {
            m->n_steps -= f->n_steps; /* the duplicate's steps are not needed */
            *out = (uint32_t)i;
            return PERSONA_OK;
        }
    if (m->n_feats >= PERSONA_RULE_MAX_FEATURES)
        return persona__parse_error_tok(p, at, "more than %d distinct behavioural functions in one model",
                                        PERSONA_RULE_MAX_FEATURES);
    if (persona__grow((void **)&m->feats, &m->feats_cap, m->n_feats + 1, sizeof *m->feats, 16))
        return persona__fail_nomem();
    m->feats[m->n_feats] = *f;
    *out = (uint32_t)m->n_feats++;
    return PERSONA_OK;
}

/* ---- expressions ---- */

static uint32_t parse_expr(rule_parser *p, int *rc);
static uint32_t parse_sum(rule_parser *p, int *rc);

static int enter(rule_parser *p, const token *at)
{
    if (++p->depth > PERSONA_RULE_MAX_DEPTH)
        return persona__parse_error_tok(p, at, "rule nested deeper than %d levels",
                                        PERSONA_RULE_MAX_DEPTH);
    return PERSONA_OK;
}

static void span(rule_parser *p, uint32_t n, uint32_t from)
{
    p->nodes[n].off = p->nodes[from].off;
    p->nodes[n].end = (uint32_t)p->last_end;
}

static int boolish(int ty)
{
    return ty == TY_BOOL || ty == TY_ANY;
}

/* The event-type argument: a non-empty string literal. */
static int type_arg(rule_parser *p, const char *fn, uint32_t *slot)
{
    if (p->tok.kind != T_STR) {
        char what[64];
        persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
        return persona__parse_error_tok(p, &p->tok, "%s needs an event type in double quotes, found %s", fn, what);
    }
    if (p->tok.str_len == 0)
        return persona__parse_error_tok(p, &p->tok, "event type of %s is empty (use \"*\" for any type)", fn);
    int rc;
    if (p->tok.str_len == 1 && p->lx.str[0] == '*')
        *slot = SLOT_ANY;
    else if ((rc = add_slot(p, &p->tok, SLOT_TYPE, p->lx.str, p->tok.str_len, slot)))
        return rc;
    return advance(p);
}

static int string_arg(rule_parser *p, const char *fn, const char *what_arg)
{
    if (p->tok.kind != T_STR) {
        char what[64];
        persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
        return persona__parse_error_tok(p, &p->tok, "%s needs %s in double quotes, found %s", fn, what_arg, what);
    }
    if (p->tok.str_len == 0)
        return persona__parse_error_tok(p, &p->tok, "%s of %s is empty", what_arg, fn);
    return PERSONA_OK;
}

static int duration_arg(rule_parser *p, const char *fn, const char *what_arg, int64_t *out)
{
    if (p->tok.kind != T_DUR) {
        char what[64];
        persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
        return persona__parse_error_tok(p, &p->tok, "the %s of %s must be a duration such as 7d, found %s",
                                        what_arg, fn, what);
    }
    double v = p->tok.num;
    if (!(v >= 1) || v > MAX_DURATION_MS || v != floor(v)) {
        char what[64];
        persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
        return persona__parse_error_tok(p, &p->tok,
                                        "the %s of %s must be a whole number of milliseconds from 1 ms to 10,000 years, found %s",
                                        what_arg, fn, what);
    }
    *out = (int64_t)v;
    return advance(p);
}

static int comma(rule_parser *p, const char *fn)
{
    char expected[80];
    snprintf(expected, sizeof expected, "',' between the arguments of %s", fn);
    return expect(p, T_COMMA, expected);
}

static int close_call(rule_parser *p, const char *fn)
{
    char expected[80];
    snprintf(expected, sizeof expected, "')' to close the arguments of %s", fn);
    return expect(p, T_RPAREN, expected);
}

/* regularly(TYPE, K of N UNIT) */
static int parse_regularly(rule_parser *p, feature *f)
{
    int rc;
    if ((rc = type_arg(p, "regularly", &f->slot)) || (rc = comma(p, "regularly")))
        return rc;
    uint32_t kn[2];
    token k_tok = p->tok;
    for (int i = 0; i < 2; i++) {
        if (p->tok.kind != T_NUM || p->tok.num != floor(p->tok.num) || p->tok.num < 1 || p->tok.num > 64) {
            char what[64];
            persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
            return persona__parse_error_tok(p, &p->tok,
                                            "regularly needs 'K of N weeks' with whole numbers 1 <= K <= N <= 64, found %s",
                                            what);
        }
        kn[i] = (uint32_t)p->tok.num;
        if ((rc = advance(p)))
            return rc;
        if (i == 0) {
            if (!is_word(p, "of"))
                return found_error(p, "'of' in regularly(TYPE, K of N weeks)");
            if ((rc = advance(p)))
                return rc;
        }
    }
    if (kn[0] > kn[1])
        return persona__parse_error_tok(p, &k_tok, "regularly: K (%u) is more than N (%u)", kn[0], kn[1]);
    static const char *const units[] = { "hours", "hour", "days", "day", "weeks", "week" };
    static const double unit_ms[] = { MS_PER_HOUR, MS_PER_HOUR, MS_PER_DAY, MS_PER_DAY,
                                      7 * MS_PER_DAY, 7 * MS_PER_DAY };
    int u = in_list(&p->lx, &p->tok, units, COUNT_OF(units));
    if (u < 0)
        return found_error(p, "hours, days or weeks");
    f->k = kn[0];
    f->n = kn[1];
    f->period = (int64_t)unit_ms[u];
    return advance(p);
}

/* sequence(STEP -> STEP ... [, within W]) */
static int parse_sequence(rule_parser *p, feature *f)
{
    persona_segment_model *m = p->m;
    f->step0 = (uint32_t)m->n_steps;
    uint32_t positives = 0;
    int rc;
    for (;;) {
        token at = p->tok;
        int negated = 0;
        if (is_word(p, "not")) {
            negated = 1;
            if ((rc = advance(p)))
                return rc;
        }
        if (f->n_steps >= PERSONA_RULE_MAX_STEPS)
            return persona__parse_error_tok(p, &at, "a sequence has at most %d steps", PERSONA_RULE_MAX_STEPS);
        uint32_t slot;
        if ((rc = type_arg(p, "a sequence step", &slot)))
            return rc;
        if (persona__grow((void **)&m->steps, &m->steps_cap, m->n_steps + 1, sizeof *m->steps, 16))
            return persona__fail_nomem();
        seq_step *st = &m->steps[m->n_steps++];
        st->slot = slot;
        st->negated = (uint32_t)negated;
        st->gap = positives;
        positives += !negated;
        f->n_steps++;
        if (p->tok.kind != T_ARROW)
            break;
        if ((rc = advance(p)))
            return rc;
    }
    if (!positives)
        return persona__parse_error_tok(p, &p->tok, "a sequence needs at least one step without not");
    if (p->tok.kind == T_COMMA) {
        if ((rc = advance(p)))
            return rc;
        if (!is_word(p, "within"))
            return found_error(p, "'within' and a duration after the steps of sequence");
        if ((rc = advance(p)) || (rc = duration_arg(p, "sequence", "window", &f->window)))
            return rc;
    } else if (p->tok.kind != T_RPAREN) {
        return found_error(p, "'->', ', within' or ')' in sequence");
    }
    return PERSONA_OK;
}

/* A reference usable in exists(): attribute, preference or context field. Sets *kind to
 * A_EXISTS_* and *arg. */
static int parse_ref(rule_parser *p, uint32_t *n_out, int *rc, int for_exists);

static uint32_t parse_call(rule_parser *p, int *rc, const token *name_tok, int fn)
{
    const char *fname = functions[fn];
    uint32_t n = AST_NONE;
    if ((*rc = advance(p)) || (*rc = advance(p))) /* the name and '(' */
        return AST_NONE;
    feature f;
    memset(&f, 0, sizeof f);
    switch (fn) {
    case 0: /* count */
    case 1: /* sum */
        f.kind = fn == 0 ? F_COUNT : F_SUM;
        if ((*rc = type_arg(p, fname, &f.slot)))
            return AST_NONE;
        if (p->tok.kind == T_COMMA &&
            ((*rc = advance(p)) || (*rc = duration_arg(p, fname, "window", &f.window))))
            return AST_NONE;
        break;
    case 2: /* days_since */
        f.kind = F_DAYS_SINCE;
        if ((*rc = type_arg(p, fname, &f.slot)))
            return AST_NONE;
        break;
    case 3: /* first_time */
    case 4: /* stopped */
    case 5: /* restarted */
        f.kind = fn == 3 ? F_FIRST_TIME : fn == 4 ? F_STOPPED : F_RESTARTED;
        if ((*rc = type_arg(p, fname, &f.slot)) || (*rc = comma(p, fname)) ||
            (*rc = duration_arg(p, fname, "window", &f.window)))
            return AST_NONE;
        f.gap = f.window;
        if (fn == 5 && p->tok.kind == T_COMMA &&
            ((*rc = advance(p)) || (*rc = duration_arg(p, fname, "gap", &f.gap))))
            return AST_NONE;
        if (fn != 5)
            f.gap = 0;
        break;
    case 6: /* regularly */
        f.kind = F_REGULARLY;
        if ((*rc = parse_regularly(p, &f)))
            return AST_NONE;
        break;
    case 7: /* sequence */
        f.kind = F_SEQUENCE;
        f.slot = SLOT_ANY;
        if ((*rc = parse_sequence(p, &f)))
            return AST_NONE;
        break;
    case 8: /* last */
        f.kind = F_LAST;
        if ((*rc = string_arg(p, fname, "a property name")) ||
            (*rc = add_slot(p, &p->tok, SLOT_NAME, p->lx.str, p->tok.str_len, &f.slot)) ||
            (*rc = advance(p)))
            return AST_NONE;
        break;
    case 9:  /* consent */
    case 10: /* score */
    {
        if ((*rc = string_arg(p, fname, fn == 9 ? "a purpose" : "a score name")))
            return AST_NONE;
        char name[PERSONA_RULE_MAX_STRING + 8];
        size_t len = 0;
        if (fn == 10) {
            memcpy(name, "score.", 6);
            len = 6;
        }
        memcpy(name + len, p->lx.str, p->tok.str_len);
        len += p->tok.str_len;
        uint32_t slot;
        if ((*rc = add_slot(p, &p->tok, SLOT_NAME, name, len, &slot)))
            return AST_NONE;
        n = new_node(p, rc, fn == 9 ? A_CONSENT : A_ATTR, fn == 9 ? TY_BOOL : TY_NUM, name_tok);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        p->nodes[n].a = slot;
        p->nodes[n].op = fn == 10;
        break;
    }
    case 11: /* in_segment */
    {
        if ((*rc = string_arg(p, fname, "a segment name")))
            return AST_NONE;
        uint32_t s;
        if ((*rc = add_str(p, p->lx.str, p->tok.str_len, &s)))
            return AST_NONE;
        n = new_node(p, rc, A_INSEG, TY_BOOL, &p->tok);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        p->nodes[n].a = s;
        break;
    }
    case 12: /* exists */
        if (parse_ref(p, &n, rc, 1))
            return AST_NONE;
        break;
    case 14: /* next_event */
        n = new_node(p, rc, A_NEXT, TY_STR, name_tok);
        if (n == AST_NONE)
            return AST_NONE;
        break;
    case 13: /* date */
    {
        if ((*rc = string_arg(p, fname, "an ISO 8601 date")))
            return AST_NONE;
        persona__time_format tf;
        persona__time_format_compile(&tf, "iso");
        int64_t t;
        const char *why = NULL;
        if (persona__time_parse_fast(&tf, p->lx.str, p->tok.str_len, 0, &t, &why, NULL)) {
            *rc = persona__parse_error_tok(p, &p->tok, "date(): %s", why ? why : "not an ISO 8601 date");
            return AST_NONE;
        }
        uint32_t k = 0;
        if ((*rc = add_num(p, (double)t, &k)))
            return AST_NONE;
        n = new_node(p, rc, A_NUM, TY_NUM, &p->tok);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        p->nodes[n].a = k;
        break;
    }
    }
    if (n == AST_NONE) {
        uint32_t fi;
        if ((*rc = add_feature(p, name_tok, &f, &fi)))
            return AST_NONE;
        int ty = (f.kind == F_FIRST_TIME || f.kind == F_STOPPED || f.kind == F_RESTARTED ||
                  f.kind == F_REGULARLY || f.kind == F_SEQUENCE) ? TY_BOOL
                 : f.kind == F_LAST ? TY_STR : TY_NUM;
        n = new_node(p, rc, A_FEAT, ty, name_tok);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].a = fi;
    }
    if ((*rc = close_call(p, fname)))
        return AST_NONE;
    p->nodes[n].off = (uint32_t)name_tok->off;
    p->nodes[n].end = (uint32_t)p->last_end;
    p->nodes[n].line = name_tok->line;
    p->nodes[n].col = name_tok->col;
    return n;
}

/* attr.NAME, attr["NAME"], pref.NAME, ctx.NAME, ctx.hour, or a bare attribute name.
 * for_exists: make the exists() node instead of the value. */
static int parse_ref(rule_parser *p, uint32_t *n_out, int *rc, int for_exists)
{
    token at = p->tok;
    char name[PERSONA_RULE_MAX_STRING + 8];
    size_t len = 0;
    int is_ctx = 0;
    if (p->tok.kind != T_IDENT)
        return *rc = found_error(p, "an attribute, pref.NAME or ctx.NAME");
    int prefixed = is_word(p, "attr") || is_word(p, "pref") || is_word(p, "ctx");
    if (prefixed) {
        int pref = is_word(p, "pref");
        is_ctx = is_word(p, "ctx");
        if ((*rc = advance(p)))
            return *rc;
        if (!is_ctx && !pref && p->tok.kind == T_LBRACK) {
            if ((*rc = advance(p)) || (*rc = string_arg(p, "attr[...]", "an attribute name")))
                return *rc;
            memcpy(name, p->lx.str, p->tok.str_len);
            len = p->tok.str_len;
            if ((*rc = advance(p)) || (*rc = expect(p, T_RBRACK, "']' after the attribute name")))
                return *rc;
        } else {
            if ((*rc = expect(p, T_DOT, is_ctx ? "'.' and a field name after ctx" : "'.' and a name")))
                return *rc;
            if (p->tok.kind != T_IDENT)
                return *rc = found_error(p, "a name after '.'");
            if (pref) {
                memcpy(name, "pref.", 5);
                len = 5;
            }
            memcpy(name + len, p->lx.text + p->tok.off, p->tok.len);
            len += p->tok.len;
            if ((*rc = advance(p)))
                return *rc;
        }
    } else {
        if (in_list(&p->lx, &p->tok, keywords, COUNT_OF(keywords)) >= 0 ||
            in_list(&p->lx, &p->tok, traits, COUNT_OF(traits)) >= 0 ||
            in_list(&p->lx, &p->tok, functions, COUNT_OF(functions)) >= 0) {
            char what[64];
            persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
            return *rc = persona__parse_error_tok(p, &p->tok,
                                                  "%s is a reserved word: write attr.%.*s for an attribute of that name",
                                                  what, (int)p->tok.len, p->lx.text + p->tok.off);
        }
        memcpy(name, p->lx.text + p->tok.off, p->tok.len);
        len = p->tok.len;
        if ((*rc = advance(p)))
            return *rc;
    }
    uint32_t n, arg;
    if (is_ctx && len == 4 && memcmp(name, "hour", 4) == 0) {
        n = new_node(p, rc, for_exists ? A_EXISTS_HOUR : A_CTX_HOUR, for_exists ? TY_BOOL : TY_NUM, &at);
        arg = 0;
    } else if (is_ctx) {
        if ((*rc = add_str(p, name, len, &arg)))
            return *rc;
        n = new_node(p, rc, for_exists ? A_EXISTS_CTX : A_CTX, for_exists ? TY_BOOL : TY_ANY, &at);
    } else {
        if ((*rc = add_slot(p, &at, SLOT_NAME, name, len, &arg)))
            return *rc;
        n = new_node(p, rc, for_exists ? A_EXISTS_ATTR : A_ATTR, for_exists ? TY_BOOL : TY_ANY, &at);
    }
    if (n == AST_NONE)
        return *rc;
    p->nodes[n].a = arg;
    p->nodes[n].end = (uint32_t)p->last_end;
    *n_out = n;
    return PERSONA_OK;
}

static uint32_t parse_primary(rule_parser *p, int *rc)
{
    token at = p->tok;
    uint32_t n;
    switch (p->tok.kind) {
    case T_NUM:
    case T_DUR: {
        uint32_t k = 0;
        if ((*rc = add_num(p, p->tok.num, &k)))
            return AST_NONE;
        n = new_node(p, rc, A_NUM, TY_NUM, &at);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        p->nodes[n].a = k;
        return n;
    }
    case T_STR: {
        uint32_t k = 0;
        if ((*rc = add_str(p, p->lx.str, p->tok.str_len, &k)))
            return AST_NONE;
        n = new_node(p, rc, A_STR, TY_STR, &at);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        p->nodes[n].a = k;
        return n;
    }
    case T_LPAREN: {
        if ((*rc = enter(p, &at)) || (*rc = advance(p)))
            return AST_NONE;
        n = parse_expr(p, rc);
        if (n == AST_NONE || (*rc = expect(p, T_RPAREN, "')'")))
            return AST_NONE;
        p->depth--;
        p->nodes[n].off = (uint32_t)at.off;
        p->nodes[n].end = (uint32_t)p->last_end;
        return n;
    }
    case T_IDENT:
        break;
    default: {
        *rc = found_error(p, "a value (a number, a string, a name or '(')");
        return AST_NONE;
    }
    }
    if (is_word(p, "true") || is_word(p, "false")) {
        n = new_node(p, rc, A_BOOL, TY_BOOL, &at);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].op = is_word(p, "true");
        if ((*rc = advance(p)))
            return AST_NONE;
        return n;
    }
    if (is_word(p, "now")) {
        n = new_node(p, rc, A_NOW, TY_NUM, &at);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        return n;
    }
    int tr = in_list(&p->lx, &p->tok, traits, COUNT_OF(traits));
    if (tr >= 0) {
        feature f;
        memset(&f, 0, sizeof f);
        f.kind = (uint32_t)trait_kind[tr];
        uint32_t fi;
        if ((*rc = add_feature(p, &at, &f, &fi)))
            return AST_NONE;
        n = new_node(p, rc, A_FEAT, TY_NUM, &at);
        if (n == AST_NONE || (*rc = advance(p)))
            return AST_NONE;
        p->nodes[n].a = fi;
        return n;
    }
    int fn = in_list(&p->lx, &p->tok, functions, COUNT_OF(functions));
    /* Peek: a call needs '(' right after the name. */
    rule_lexer save = p->lx;
    token next;
    persona__lex_next(&p->lx, &next);
    p->lx = save;
    if (next.kind == T_LPAREN) {
        if (fn < 0) {
            char what[64];
            persona__tok_describe(&p->lx, &p->tok, what, sizeof what);
            *rc = persona__parse_error_tok(p, &p->tok, "unknown function %s", what);
            return AST_NONE;
        }
        if ((*rc = enter(p, &at)))
            return AST_NONE;
        n = parse_call(p, rc, &at, fn);
        p->depth--;
        return n;
    }
    if (fn >= 0) {
        *rc = persona__parse_error_tok(p, &p->tok, "%s is a function: write %s(...)", functions[fn], functions[fn]);
        return AST_NONE;
    }
    if (parse_ref(p, &n, rc, 0))
        return AST_NONE;
    return n;
}

static uint32_t parse_unary(rule_parser *p, int *rc)
{
    if (p->tok.kind != T_MINUS)
        return parse_primary(p, rc);
    token at = p->tok;
    if ((*rc = enter(p, &at)) || (*rc = advance(p)))
        return AST_NONE;
    uint32_t x = parse_unary(p, rc);
    p->depth--;
    if (x == AST_NONE)
        return AST_NONE;
    if (p->nodes[x].type != TY_NUM && p->nodes[x].type != TY_ANY) {
        *rc = persona__parse_error_tok(p, &at, "'-' needs a number, found %s", type_name(p->nodes[x].type));
        return AST_NONE;
    }
    uint32_t n = new_node(p, rc, A_NEG, TY_NUM, &at);
    if (n == AST_NONE)
        return AST_NONE;
    p->nodes[n].a = x;
    p->nodes[n].end = (uint32_t)p->last_end;
    return n;
}

static uint32_t arith(rule_parser *p, int *rc, uint32_t l, uint32_t (*next)(rule_parser *, int *),
                      const int *kinds, const int *ops, int n_ops)
{
    for (int terms = 1;; terms++) {
        int op = -1;
        for (int i = 0; i < n_ops; i++)
            if (p->tok.kind == kinds[i])
                op = ops[i];
        if (op < 0)
            return l;
        token at = p->tok;
        if (terms >= MAX_CHAIN) {
            *rc = persona__parse_error_tok(p, &at, "more than %d terms in one sum or product: use parentheses", MAX_CHAIN);
            return AST_NONE;
        }
        if ((*rc = enter(p, &at)) || (*rc = advance(p)))
            return AST_NONE;
        uint32_t r = next(p, rc);
        p->depth--;
        if (r == AST_NONE)
            return AST_NONE;
        char sym[8];
        snprintf(sym, sizeof sym, "%.*s", (int)at.len, p->lx.text + at.off);
        for (int side = 0; side < 2; side++) {
            const ast *x = &p->nodes[side ? r : l];
            if (x->type != TY_NUM && x->type != TY_ANY) {
                *rc = persona__parse_error_tok(p, &at, "'%s' needs numbers, found %s", sym, type_name(x->type));
                return AST_NONE;
            }
        }
        uint32_t n = new_node(p, rc, A_ARITH, TY_NUM, &at);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].op = (uint8_t)op;
        p->nodes[n].a = l;
        p->nodes[n].b = r;
        span(p, n, l);
        l = n;
    }
}

static uint32_t parse_product(rule_parser *p, int *rc)
{
    static const int kinds[] = { T_STAR, T_SLASH, T_PERCENT };
    static const int ops[] = { OP_MUL, OP_DIV, OP_MOD };
    uint32_t l = parse_unary(p, rc);
    return l == AST_NONE ? AST_NONE : arith(p, rc, l, parse_unary, kinds, ops, 3);
}

static uint32_t parse_sum(rule_parser *p, int *rc)
{
    static const int kinds[] = { T_PLUS, T_MINUS };
    static const int ops[] = { OP_ADD, OP_SUB };
    uint32_t l = parse_product(p, rc);
    return l == AST_NONE ? AST_NONE : arith(p, rc, l, parse_product, kinds, ops, 2);
}

static int cmp_of(int kind)
{
    switch (kind) {
    case T_EQ: return CMP_EQ;
    case T_NE: return CMP_NE;
    case T_LT: return CMP_LT;
    case T_LE: return CMP_LE;
    case T_GT: return CMP_GT;
    case T_GE: return CMP_GE;
    }
    return -1;
}

/* Static types a and b may meet in a comparison: equal, or one of them dynamic. */
static int comparable(int a, int b)
{
    return a == TY_ANY || b == TY_ANY || a == b;
}

/* One literal of an `in` list. */
static int parse_literal(rule_parser *p, rvalue *v, int *ty)
{
    int neg = 0, rc;
    if (p->tok.kind == T_MINUS) {
        neg = 1;
        if ((rc = advance(p)))
            return rc;
    }
    if (p->tok.kind == T_NUM || p->tok.kind == T_DUR) {
        v->tag = V_NUM;
        v->u.num = neg ? -p->tok.num : p->tok.num;
        *ty = TY_NUM;
    } else if (!neg && p->tok.kind == T_STR) {
        uint32_t k = 0;
        if ((rc = add_str(p, p->lx.str, p->tok.str_len, &k)))
            return rc;
        v->tag = V_STR;
        v->len = p->tok.str_len;
        v->u.str = p->m->strs[k];
        *ty = TY_STR;
    } else if (!neg && (is_word(p, "true") || is_word(p, "false"))) {
        v->tag = V_BOOL;
        v->u.b = is_word(p, "true");
        *ty = TY_BOOL;
    } else {
        return found_error(p, neg ? "a number after '-'" : "a number, a string, true or false in the list");
    }
    return advance(p);
}

static uint32_t parse_in_list(rule_parser *p, int *rc, uint32_t l, const token *at, int neg)
{
    persona_segment_model *m = p->m;
    if ((*rc = expect(p, T_LBRACK, "'[' to start the list of in")))
        return AST_NONE;
    if (persona__grow((void **)&m->lists, &m->lists_cap, m->n_lists + 1, sizeof *m->lists, 8)) {
        *rc = persona__fail_nomem();
        return AST_NONE;
    }
    const_list list = { (uint32_t)m->n_list_items, 0 };
    int list_ty = 0;
    for (;;) {
        token et = p->tok;
        rvalue v;
        memset(&v, 0, sizeof v);
        int ty = 0;
        if ((*rc = parse_literal(p, &v, &ty)))
            return AST_NONE;
        if (list_ty && ty != list_ty) {
            *rc = persona__parse_error_tok(p, &et, "a list holds values of one type: %s among %ss",
                                           type_name(ty), type_name(list_ty) + 2);
            return AST_NONE;
        }
        list_ty = ty;
        if (list.n >= PERSONA_RULE_MAX_LIST) {
            *rc = persona__parse_error_tok(p, &et, "a list has at most %d elements", PERSONA_RULE_MAX_LIST);
            return AST_NONE;
        }
        if (persona__grow((void **)&m->list_items, &m->list_items_cap, m->n_list_items + 1,
                          sizeof *m->list_items, 16)) {
            *rc = persona__fail_nomem();
            return AST_NONE;
        }
        m->list_items[m->n_list_items++] = v;
        list.n++;
        if (p->tok.kind == T_COMMA) {
            if ((*rc = advance(p)))
                return AST_NONE;
            continue;
        }
        if ((*rc = expect(p, T_RBRACK, "',' or ']' in the list")))
            return AST_NONE;
        break;
    }
    if (!comparable(p->nodes[l].type, list_ty)) {
        *rc = persona__parse_error_tok(p, at, "cannot look for %s in a list of %ss", type_name(p->nodes[l].type),
                                       type_name(list_ty) + 2);
        return AST_NONE;
    }
    m->lists[m->n_lists] = list;
    uint32_t n = new_node(p, rc, A_IN, TY_BOOL, at);
    if (n == AST_NONE)
        return AST_NONE;
    p->nodes[n].a = l;
    p->nodes[n].b = (uint32_t)m->n_lists++;
    p->nodes[n].neg = (uint8_t)neg;
    span(p, n, l);
    return n;
}

static uint32_t parse_comparison(rule_parser *p, int *rc)
{
    uint32_t l = parse_sum(p, rc);
    if (l == AST_NONE)
        return AST_NONE;
    token at = p->tok;
    int cmp = cmp_of(p->tok.kind);
    if (cmp >= 0) {
        if ((*rc = advance(p)))
            return AST_NONE;
        uint32_t r = parse_sum(p, rc);
        if (r == AST_NONE)
            return AST_NONE;
        int lt = p->nodes[l].type, rt = p->nodes[r].type;
        if (!comparable(lt, rt)) {
            *rc = persona__parse_error_tok(p, &at, "cannot compare %s with %s", type_name(lt), type_name(rt));
            return AST_NONE;
        }
        if (cmp != CMP_EQ && cmp != CMP_NE && (lt == TY_BOOL || rt == TY_BOOL)) {
            *rc = persona__parse_error_tok(p, &at, "conditions compare only with == and !=");
            return AST_NONE;
        }
        if (cmp_of(p->tok.kind) >= 0) {
            *rc = persona__parse_error_tok(p, &p->tok, "comparisons do not chain: write x between a and b, or use and");
            return AST_NONE;
        }
        uint32_t n = new_node(p, rc, A_CMP, TY_BOOL, &at);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].op = (uint8_t)cmp;
        p->nodes[n].a = l;
        p->nodes[n].b = r;
        span(p, n, l);
        return n;
    }
    int neg = 0;
    if (is_word(p, "not")) {
        rule_lexer save = p->lx;
        token next;
        persona__lex_next(&p->lx, &next);
        p->lx = save;
        if (!(persona__tok_is(&p->lx, &next, "in") || persona__tok_is(&p->lx, &next, "contains") ||
              persona__tok_is(&p->lx, &next, "between"))) {
            char what[64];
            persona__tok_describe(&p->lx, &next, what, sizeof what);
            *rc = persona__parse_error_tok(p, &next, "expected in, contains or between after not, found %s", what);
            return AST_NONE;
        }
        neg = 1;
        if ((*rc = advance(p)))
            return AST_NONE;
        at = p->tok;
    }
    if (is_word(p, "in")) {
        if ((*rc = advance(p)))
            return AST_NONE;
        return parse_in_list(p, rc, l, &at, neg);
    }
    int kind = is_word(p, "contains") ? A_CONTAINS : is_word(p, "starts_with") ? A_STARTS
             : is_word(p, "ends_with") ? A_ENDS : is_word(p, "matches") ? A_MATCHES
             : is_word(p, "between") ? A_BETWEEN : -1;
    if (kind < 0)
        return l;
    char opname[16];
    snprintf(opname, sizeof opname, "%.*s", (int)at.len, p->lx.text + at.off);
    if ((*rc = advance(p)))
        return AST_NONE;
    uint32_t n;
    if (kind == A_MATCHES) {
        if (p->tok.kind != T_STR) {
            *rc = found_error(p, "a glob pattern in double quotes after matches");
            return AST_NONE;
        }
        uint32_t k = 0;
        if ((*rc = add_str(p, p->lx.str, p->tok.str_len, &k)))
            return AST_NONE;
        if ((*rc = advance(p)))
            return AST_NONE;
        n = new_node(p, rc, A_MATCHES, TY_BOOL, &at);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].b = k;
        p->nodes[n].c = AST_NONE;
    } else {
        uint32_t r = parse_sum(p, rc), c = AST_NONE;
        if (r == AST_NONE)
            return AST_NONE;
        if (kind == A_BETWEEN) {
            if (!is_word(p, "and")) {
                *rc = found_error(p, "'and' in x between a and b");
                return AST_NONE;
            }
            if ((*rc = advance(p)))
                return AST_NONE;
            c = parse_sum(p, rc);
            if (c == AST_NONE)
                return AST_NONE;
        }
        n = new_node(p, rc, kind, TY_BOOL, &at);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].b = r;
        p->nodes[n].c = c;
    }
    p->nodes[n].a = l;
    p->nodes[n].neg = (uint8_t)neg;
    span(p, n, l);
    /* Types: string operators want strings; between wants numbers or strings of one type. */
    const ast *x = &p->nodes[n];
    uint32_t opd[3] = { x->a, kind == A_MATCHES ? AST_NONE : x->b, x->c };
    int want = kind == A_BETWEEN ? 0 : TY_STR, seen = 0;
    for (int i = 0; i < 3; i++) {
        if (opd[i] == AST_NONE)
            continue;
        int ty = p->nodes[opd[i]].type;
        if (ty == TY_ANY)
            continue;
        if ((want && ty != want) || ty == TY_BOOL || (seen && ty != seen)) {
            *rc = persona__parse_error_tok(p, &at, "'%s' needs %s, found %s", opname,
                                           kind == A_BETWEEN ? "numbers or strings of one type" : "strings",
                                           type_name(ty));
            return AST_NONE;
        }
        seen = ty;
    }
    return n;
}

static uint32_t parse_not(rule_parser *p, int *rc)
{
    if (!is_word(p, "not"))
        return parse_comparison(p, rc);
    token at = p->tok;
    if ((*rc = enter(p, &at)) || (*rc = advance(p)))
        return AST_NONE;
    uint32_t x = parse_not(p, rc);
    p->depth--;
    if (x == AST_NONE)
        return AST_NONE;
    if (!boolish(p->nodes[x].type)) {
        *rc = persona__parse_error_tok(p, &at, "'not' needs a condition, found %s", type_name(p->nodes[x].type));
        return AST_NONE;
    }
    uint32_t n = new_node(p, rc, A_NOT, TY_BOOL, &at);
    if (n == AST_NONE)
        return AST_NONE;
    p->nodes[n].a = x;
    p->nodes[n].end = (uint32_t)p->last_end;
    return n;
}

static uint32_t logical(rule_parser *p, int *rc, const char *word, int kind,
                        uint32_t (*next)(rule_parser *, int *))
{
    uint32_t l = next(p, rc);
    for (int terms = 1; l != AST_NONE && is_word(p, word); terms++) {
        token at = p->tok;
        if (terms >= MAX_CHAIN) {
            *rc = persona__parse_error_tok(p, &at, "more than %d conditions joined by '%s': use parentheses",
                                           MAX_CHAIN, word);
            return AST_NONE;
        }
        if ((*rc = enter(p, &at)) || (*rc = advance(p)))
            return AST_NONE;
        if (p->tok.kind == T_COLON) { /* "or: …" starting a segment in a rule set */
            *rc = persona__parse_error_tok(p, &at, "'%s' is a reserved word: quote a segment of that name (\"%s\": …)",
                                           word, word);
            return AST_NONE;
        }
        uint32_t r = next(p, rc);
        p->depth--;
        if (r == AST_NONE)
            return AST_NONE;
        for (int side = 0; side < 2; side++) {
            const ast *x = &p->nodes[side ? r : l];
            if (!boolish(x->type)) {
                *rc = persona__parse_error_tok(p, &at, "'%s' needs conditions on both sides, found %s", word,
                                               type_name(x->type));
                return AST_NONE;
            }
        }
        uint32_t n = new_node(p, rc, kind, TY_BOOL, &at);
        if (n == AST_NONE)
            return AST_NONE;
        p->nodes[n].a = l;
        p->nodes[n].b = r;
        span(p, n, l);
        l = n;
    }
    return l;
}

static uint32_t parse_and(rule_parser *p, int *rc)
{
    return logical(p, rc, "and", A_AND, parse_not);
}

static uint32_t parse_expr(rule_parser *p, int *rc)
{
    return logical(p, rc, "or", A_OR, parse_and);
}

uint32_t persona__parse_rule(rule_parser *p, int *rc)
{
    *rc = PERSONA_OK;
    if (p->tok.kind == T_EOF) {
        *rc = persona__parse_error_tok(p, &p->tok, "the rule is empty");
        return AST_NONE;
    }
    uint32_t root = parse_expr(p, rc);
    if (root == AST_NONE)
        return AST_NONE;
    if (!boolish(p->nodes[root].type)) {
        *rc = error_node(p, &p->nodes[root], "a rule must be a condition, found %s (compare it: e.g. %s > 0)",
                         type_name(p->nodes[root].type), p->nodes[root].type == TY_NUM ? "count(...)" : "x");
        return AST_NONE;
    }
    return root;
}

void persona__parser_free(rule_parser *p)
{
    persona__free(p->nodes);
    p->nodes = NULL;
    p->n_nodes = p->nodes_cap = 0;
}
