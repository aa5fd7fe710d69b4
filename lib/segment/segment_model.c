/* The segment model handle: creation, compiling rule sets and single rules, list
 * segments, in_segment() resolution, getters, and freeing. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "persona/event.h"
#include "segment/rule_ast.h"

PERSONA_API int persona_segment_options_init(persona_segment_options *opts, uint32_t struct_size)
{
    if (!opts || struct_size != sizeof *opts)
        return persona__fail(PERSONA_EINVAL, "persona_segment_options_init: NULL or bad struct_size");
    memset(opts, 0, sizeof *opts);
    opts->struct_size = struct_size;
    return PERSONA_OK;
}

PERSONA_API int persona_eval_context_init(persona_eval_context *ctx, uint32_t struct_size)
{
    if (!ctx || struct_size != sizeof *ctx)
        return persona__fail(PERSONA_EINVAL, "persona_eval_context_init: NULL or bad struct_size");
    persona_eval_context d = PERSONA_EVAL_CONTEXT_INIT;
    *ctx = d;
    return PERSONA_OK;
}

static int read_options(const persona_segment_options *opts, int32_t *mode)
{
    *mode = PERSONA_SEGMENT_FIRST_MATCH;
    if (!opts)
        return PERSONA_OK;
    if (opts->struct_size < sizeof(uint32_t) * 2)
        return persona__fail(PERSONA_EINVAL, "segment options: bad struct_size %u", opts->struct_size);
    if (opts->struct_size > sizeof *opts) {
        const unsigned char *extra = (const unsigned char *)opts + sizeof *opts;
        for (size_t i = 0; i < opts->struct_size - sizeof *opts; i++)
            if (extra[i])
                return persona__fail(PERSONA_EUNSUPPORTED,
                                     "segment options set fields this library does not know");
    }
    if (opts->mode != PERSONA_SEGMENT_FIRST_MATCH && opts->mode != PERSONA_SEGMENT_ALL_MATCHES)
        return persona__fail(PERSONA_EINVAL, "segment options: unknown mode %d", (int)opts->mode);
    *mode = opts->mode;
    return PERSONA_OK;
}

PERSONA_API int persona_segment_model_new(persona_segment_model **out,
                                          const persona_segment_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    *out = NULL;
    int32_t mode;
    int rc = read_options(opts, &mode);
    if (rc)
        return rc;
    persona_segment_model *m = persona__calloc(1, sizeof *m);
    if (!m)
        return persona__fail_nomem();
    m->mode = mode;
    pthread_mutex_init(&m->bind.lock, NULL);
    *out = m;
    return PERSONA_OK;
}

static void free_segment(segment *s)
{
    persona__free(s->name);
    persona__free(s->source);
    for (size_t k = 0; k < s->n_keys; k++)
        persona__free(s->keys[k]);
    persona__free(s->keys);
}

PERSONA_API int persona_segment_model_use_paths(persona_segment_model *m,
                                                const persona_path_model *paths)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "model is NULL");
    m->paths = paths;
    return PERSONA_OK;
}

PERSONA_API void persona_segment_model_free(persona_segment_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_segs; i++)
        free_segment(&m->segs[i]);
    for (size_t i = 0; i < m->n_strs; i++)
        persona__free(m->strs[i]);
    for (size_t i = 0; i < m->n_slots; i++)
        persona__free(m->slots[i].str);
    persona__free(m->segs);
    persona__free(m->code);
    persona__free(m->nums);
    persona__free(m->strs);
    persona__free(m->strs_len);
    persona__free(m->lists);
    persona__free(m->list_items);
    persona__free(m->feats);
    persona__free(m->steps);
    persona__free(m->slots);
    persona__free(m->logic);
    persona__free(m->kids);
    persona__free(m->leaves);
    persona__free(m->refs);
    persona__free((void *)atomic_load(&m->bind.ids));
    pthread_mutex_destroy(&m->bind.lock);
    persona__free(m);
}

void persona__model_mark(const persona_segment_model *m, model_mark *mk)
{
    mk->segs = m->n_segs;
    mk->code = m->n_code;
    mk->nums = m->n_nums;
    mk->strs = m->n_strs;
    mk->lists = m->n_lists;
    mk->list_items = m->n_list_items;
    mk->feats = m->n_feats;
    mk->steps = m->n_steps;
    mk->slots = m->n_slots;
    mk->logic = m->n_logic;
    mk->kids = m->n_kids;
    mk->leaves = m->n_leaves;
    mk->refs = m->n_refs;
}

void persona__model_rollback(persona_segment_model *m, const model_mark *mk)
{
    for (size_t i = mk->segs; i < m->n_segs; i++)
        free_segment(&m->segs[i]);
    for (size_t i = mk->strs; i < m->n_strs; i++)
        persona__free(m->strs[i]);
    for (size_t i = mk->slots; i < m->n_slots; i++)
        persona__free(m->slots[i].str);
    m->n_segs = mk->segs;
    m->n_code = mk->code;
    m->n_nums = mk->nums;
    m->n_strs = mk->strs;
    m->n_lists = mk->lists;
    m->n_list_items = mk->list_items;
    m->n_feats = mk->feats;
    m->n_steps = mk->steps;
    m->n_slots = mk->slots;
    m->n_logic = mk->logic;
    m->n_kids = mk->kids;
    m->n_leaves = mk->leaves;
    m->n_refs = mk->refs;
}

static int find_segment(const persona_segment_model *m, const char *name, size_t len, size_t *out)
{
    for (size_t i = 0; i < m->n_segs; i++)
        if (strlen(m->segs[i].name) == len && memcmp(m->segs[i].name, name, len) == 0) {
            *out = i;
            return 1;
        }
    return 0;
}

/* A segment name: non-empty, valid UTF-8, no control characters, short, unique. */
static int check_name(const persona_segment_model *m, const char *name, size_t len)
{
    if (len == 0)
        return persona__fail(PERSONA_EINVAL, "segment name is empty");
    if (len > PERSONA_SEGMENT_MAX_NAME)
        return persona__fail(PERSONA_EINVAL, "segment name longer than %d bytes", PERSONA_SEGMENT_MAX_NAME);
    if (!persona__utf8_valid(name, len, NULL))
        return persona__fail(PERSONA_EINVAL, "segment name is not valid UTF-8");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F)
            return persona__fail(PERSONA_EINVAL, "segment name '%.*s' holds a control character",
                                 (int)persona__utf8_prefix(name, i), name);
    size_t dup;
    if (find_segment(m, name, len, &dup))
        return persona__fail(PERSONA_EINVAL, "two segments are named '%.*s'", (int)len, name);
    if (m->n_segs >= PERSONA_SEGMENT_MAX)
        return persona__fail(PERSONA_EINVAL, "a model holds at most %d segments", PERSONA_SEGMENT_MAX);
    return PERSONA_OK;
}

/* Dependency depth of segment i (in_segment chains), with cycle detection: state 0 new,
 * 1 on the path, 2 done (depth[i] valid). */
static int chain_depth(persona_segment_model *m, size_t i, uint8_t *state, uint32_t *depth,
                       const segment_ref **at)
{
    if (state[i] == 2)
        return 0;
    if (state[i] == 1)
        return -1;
    state[i] = 1;
    uint32_t d = 0;
    for (size_t r = 0; r < m->n_refs; r++) {
        if (m->refs[r].owner != i)
            continue;
        uint32_t to = m->code[m->refs[r].insn].arg;
        int rc = chain_depth(m, to, state, depth, at);
        if (rc) {
            if (!*at)
                *at = &m->refs[r];
            return rc;
        }
        if (depth[to] + 1 > d)
            d = depth[to] + 1;
        if (d > SEGMENT_MAX_CHAIN) {
            *at = &m->refs[r];
            return -2;
        }
    }
    depth[i] = d;
    state[i] = 2;
    return 0;
}

int persona__segments_resolve(persona_segment_model *m, size_t first)
{
    for (size_t r = 0; r < m->n_refs; r++) {
        segment_ref *ref = &m->refs[r];
        if (ref->owner < first)
            continue;
        size_t to;
        const char *name = m->strs[ref->name];
        if (!find_segment(m, name, m->strs_len[ref->name], &to))
            return persona__fail_at(PERSONA_EPARSE, ref->line, ref->col,
                                    "line %u, column %u (segment '%.100s'): in_segment: no segment named '%.100s'",
                                    ref->line, ref->col, m->segs[ref->owner].name, name);
        m->code[ref->insn].arg = (uint32_t)to;
    }
    uint8_t *state = persona__calloc(m->n_segs ? m->n_segs : 1, 1);
    uint32_t *depth = persona__calloc(m->n_segs ? m->n_segs : 1, sizeof *depth);
    int rc = PERSONA_OK;
    if (!state || !depth) {
        rc = persona__fail_nomem();
        goto done;
    }
    for (size_t i = first; i < m->n_segs; i++) {
        const segment_ref *at = NULL;
        int c = chain_depth(m, i, state, depth, &at);
        if (c) {
            const char *to = m->segs[m->code[at->insn].arg].name;
            rc = persona__fail_at(PERSONA_EPARSE, at->line, at->col,
                                  c == -1 ? "line %u, column %u (segment '%.100s'): in_segment('%.100s') makes a cycle"
                                          : "line %u, column %u (segment '%.100s'): in_segment('%.100s') chains more than 16 segments deep",
                                  at->line, at->col, m->segs[at->owner].name, to);
            goto done;
        }
    }
    /* Memo slots for the segments in_segment() names. */
    m->n_memo = 0;
    for (size_t i = 0; i < m->n_segs; i++)
        m->segs[i].memo = UINT32_MAX;
    for (size_t r = 0; r < m->n_refs; r++) {
        segment *s = &m->segs[m->code[m->refs[r].insn].arg];
        if (s->memo == UINT32_MAX)
            s->memo = m->n_memo++;
    }
done:
    persona__free(state);
    persona__free(depth);
    return rc;
}

/* Parse and emit one rule at p->tok; source is the rule's text span. */
static int compile_one(rule_parser *p, const char *name)
{
    size_t start = p->tok.off;
    int rc;
    uint32_t root = persona__parse_rule(p, &rc);
    if (root == AST_NONE)
        return rc;
    return persona__emit_rule(p, root, name, p->lx.text + start, p->last_end - start);
}

static void parser_init(rule_parser *p, persona_segment_model *m, const char *text, size_t len)
{
    memset(p, 0, sizeof *p);
    p->m = m;
    persona__lex_init(&p->lx, text, len);
}

static int next_token(rule_parser *p)
{
    persona__lex_next(&p->lx, &p->tok);
    return p->tok.kind == T_ERROR ? persona__parse_error_tok(p, &p->tok, "%s", p->lx.error) : PERSONA_OK;
}

static int check_text(const char *text, size_t len)
{
    if (!text && len)
        return persona__fail(PERSONA_EINVAL, "rule text is NULL");
    if (len > PERSONA_RULE_MAX_TEXT) {
        /* Positioned at the first byte past the limit, like every limit of the language. */
        uint64_t line = 1, col = 1;
        for (size_t i = 0; i < PERSONA_RULE_MAX_TEXT; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return persona__fail_at(PERSONA_EPARSE, line, col,
                                "line %llu, column %llu: rule text longer than %d bytes",
                                (unsigned long long)line, (unsigned long long)col, PERSONA_RULE_MAX_TEXT);
    }
    size_t bad;
    if (len && !persona__utf8_valid(text, len, &bad)) {
        uint64_t line = 1, col = 1;
        for (size_t i = 0; i < bad; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return persona__fail_at(PERSONA_EPARSE, line, col, "line %llu, column %llu: rule text is not valid UTF-8",
                                (unsigned long long)line, (unsigned long long)col);
    }
    return PERSONA_OK;
}

int persona__model_add_rule(persona_segment_model *m, const char *name, const char *expr,
                            size_t len, int resolve)
{
    if (!m || !name)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "name" : "model");
    int rc = check_text(expr, len);
    if (rc || (rc = check_name(m, name, strlen(name))))
        return rc;
    model_mark mk;
    persona__model_mark(m, &mk);
    rule_parser p;
    parser_init(&p, m, expr ? expr : "", len);
    p.seg = (uint32_t)m->n_segs;
    if (!(rc = next_token(&p)))
        rc = compile_one(&p, name);
    if (!rc && p.tok.kind != T_EOF) {
        char what[64];
        persona__tok_describe(&p.lx, &p.tok, what, sizeof what);
        rc = persona__parse_error_tok(&p, &p.tok, "unexpected %s after the end of the rule", what);
    }
    if (!rc && resolve)
        rc = persona__segments_resolve(m, mk.segs);
    persona__parser_free(&p);
    if (rc)
        persona__model_rollback(m, &mk);
    else
        persona__bind_reset(m);
    return rc;
}

PERSONA_API int persona_segment_model_add_rule(persona_segment_model *m, const char *name,
                                               const char *expr, size_t len)
{
    return persona__model_add_rule(m, name, expr, len, 1);
}

PERSONA_API int persona_segment_model_compile(persona_segment_model **out, const char *text,
                                              size_t len, const persona_segment_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    *out = NULL;
    int rc = check_text(text, len);
    if (rc)
        return rc;
    persona_segment_model *m;
    if ((rc = persona_segment_model_new(&m, opts)))
        return rc;
    rule_parser p;
    parser_init(&p, m, text ? text : "", len);
    rc = next_token(&p);
    while (!rc && p.tok.kind != T_EOF) {
        token name_tok = p.tok;
        char name[PERSONA_SEGMENT_MAX_NAME + 1];
        size_t nlen;
        if (p.tok.kind == T_IDENT) {
            nlen = p.tok.len;
            if (persona__rule_word_reserved(text + p.tok.off, nlen)) {
                rc = persona__parse_error_tok(&p, &p.tok,
                                              "'%.*s' is a reserved word: quote a segment of that name (\"%.*s\": …)",
                                              (int)nlen, text + p.tok.off, (int)nlen, text + p.tok.off);
                break;
            }
            if (nlen > PERSONA_SEGMENT_MAX_NAME) {
                rc = persona__parse_error_tok(&p, &p.tok, "segment name longer than %d bytes", PERSONA_SEGMENT_MAX_NAME);
                break;
            }
            memcpy(name, text + p.tok.off, nlen);
        } else if (p.tok.kind == T_STR) {
            nlen = p.tok.str_len;
            if (nlen > PERSONA_SEGMENT_MAX_NAME) {
                rc = persona__parse_error_tok(&p, &p.tok, "segment name longer than %d bytes", PERSONA_SEGMENT_MAX_NAME);
                break;
            }
            memcpy(name, p.lx.str, nlen);
        } else {
            char what[64];
            persona__tok_describe(&p.lx, &p.tok, what, sizeof what);
            rc = persona__parse_error_tok(&p, &p.tok, "expected a segment name (NAME: rule), found %s", what);
            break;
        }
        name[nlen] = 0;
        if ((rc = next_token(&p)))
            break;
        if (p.tok.kind != T_COLON) {
            char what[64];
            persona__tok_describe(&p.lx, &p.tok, what, sizeof what);
            rc = persona__parse_error_tok(&p, &p.tok,
                                          "expected ':' after the segment name '%.100s', found %s (a rule set is lines of NAME: rule)",
                                          name, what);
            break;
        }
        if (check_name(m, name, nlen)) {
            rc = persona__parse_error_tok(&p, &name_tok, "%s", persona_errmsg());
            break;
        }
        p.seg = (uint32_t)m->n_segs;
        p.seg_name = name;
        p.depth = 0;
        p.n_nodes = 0;
        if ((rc = next_token(&p)))
            break;
        int next_is_segment = 0;
        if (p.tok.kind == T_IDENT || p.tok.kind == T_STR) {
            rule_lexer save = p.lx;
            token after;
            persona__lex_next(&p.lx, &after);
            p.lx = save;
            next_is_segment = after.kind == T_COLON;
        }
        if (p.tok.kind == T_EOF || next_is_segment) {
            rc = persona__parse_error_tok(&p, &p.tok, "segment '%.100s' has no rule after ':'", name);
            break;
        }
        rc = compile_one(&p, name);
        if (!rc && p.tok.kind != T_EOF && p.tok.kind != T_ERROR) {
            /* The next token must start a segment: NAME followed by ':'. */
            rule_lexer save = p.lx;
            token next;
            persona__lex_next(&p.lx, &next);
            p.lx = save;
            if ((p.tok.kind != T_IDENT && p.tok.kind != T_STR) || next.kind != T_COLON) {
                char what[64];
                persona__tok_describe(&p.lx, &p.tok, what, sizeof what);
                rc = persona__parse_error_tok(&p, &p.tok, "unexpected %s after the rule (a new segment starts with NAME:)",
                                              what);
            }
        }
    }
    if (!rc && m->n_segs == 0)
        rc = persona__fail_at(PERSONA_EPARSE, 1, 1, "line 1, column 1: the rule set has no segments");
    if (!rc)
        rc = persona__segments_resolve(m, 0);
    persona__parser_free(&p);
    if (rc) {
        persona_segment_model_free(m);
        return rc;
    }
    *out = m;
    return PERSONA_OK;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

PERSONA_API int persona_segment_model_add_list(persona_segment_model *m, const char *name,
                                               const char *const *keys, size_t count)
{
    if (!m || !name || (!keys && count))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !m ? "model" : !name ? "name" : "keys");
    int rc = check_name(m, name, strlen(name));
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++) {
        if (!keys[i])
            return persona__fail(PERSONA_EINVAL, "list key %zu is NULL", i);
        size_t l = strlen(keys[i]);
        if (l == 0 || l > PERSONA_MAX_KEY_LEN || !persona__utf8_valid(keys[i], l, NULL))
            return persona__fail(PERSONA_EINVAL, "list key %zu is empty, too long or not valid UTF-8", i);
    }
    if (persona__grow((void **)&m->segs, &m->segs_cap, m->n_segs + 1, sizeof *m->segs, 8))
        return persona__fail_nomem();
    segment s;
    memset(&s, 0, sizeof s);
    s.kind = SEG_LIST;
    s.memo = UINT32_MAX;
    s.name = persona__strndup(name, strlen(name));
    s.source = persona__strndup("", 0);
    s.keys = persona__calloc(count ? count : 1, sizeof *s.keys);
    if (!s.name || !s.source || !s.keys)
        goto nomem;
    for (size_t i = 0; i < count; i++) {
        s.keys[i] = persona__strndup(keys[i], strlen(keys[i]));
        if (!s.keys[i])
            goto nomem;
        s.n_keys++;
    }
    qsort(s.keys, s.n_keys, sizeof *s.keys, cmp_key);
    size_t w = 0;
    for (size_t i = 0; i < s.n_keys; i++) {
        if (w && strcmp(s.keys[w - 1], s.keys[i]) == 0)
            persona__free(s.keys[i]);
        else
            s.keys[w++] = s.keys[i];
    }
    s.n_keys = w;
    m->segs[m->n_segs++] = s;
    return PERSONA_OK;
nomem:
    free_segment(&s);
    return persona__fail_nomem();
}

PERSONA_API int persona_segment_model_count(size_t *out, const persona_segment_model *m)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "out" : "model");
    *out = m->n_segs;
    return PERSONA_OK;
}

PERSONA_API int persona_segment_model_mode(int32_t *out, const persona_segment_model *m)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "out" : "model");
    *out = m->mode;
    return PERSONA_OK;
}


PERSONA_API int persona_segment_model_name(char *buf, size_t capacity, size_t *out_len,
                                           const persona_segment_model *m, size_t index)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "model is NULL");
    if (index >= m->n_segs)
        return persona__fail(PERSONA_ENOTFOUND, "no segment %zu (the model has %zu)", index, m->n_segs);
    const char *s = m->segs[index].name;
    return persona__copy_out(buf, capacity, out_len, s, strlen(s));
}

PERSONA_API int persona_segment_model_rule(char *buf, size_t capacity, size_t *out_len,
                                           const persona_segment_model *m, size_t index)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "model is NULL");
    if (index >= m->n_segs)
        return persona__fail(PERSONA_ENOTFOUND, "no segment %zu (the model has %zu)", index, m->n_segs);
    const char *s = m->segs[index].source;
    return persona__copy_out(buf, capacity, out_len, s, strlen(s));
}

PERSONA_API int persona_segment_model_find(size_t *out, const persona_segment_model *m,
                                           const char *name)
{
    if (!out || !m || !name)
        return persona__fail(PERSONA_EINVAL, "out, model and name are required");
    if (!find_segment(m, name, strlen(name), out))
        return persona__fail(PERSONA_ENOTFOUND, "no segment named '%.200s'", name);
    return PERSONA_OK;
}
