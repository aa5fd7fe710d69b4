/* Code generation: a parsed rule becomes a logic tree (and / or chains flattened) over
 * leaves of stack bytecode, and a new segment of the model. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "segment/rule_ast.h"
#include "segment/rule_eval.h"

/* Deepest VM stack a leaf may need (the VM's own size): nesting is bounded by
 * PERSONA_RULE_MAX_DEPTH and a node holds at most three operands, so a rule that parsed
 * needs about 66 at most. */
#define VM_STACK_LIMIT VM_STACK

typedef struct emitter {
    rule_parser *p;
    uint32_t bounded; /* a node with a limit (note_limit) compared with constants only, or AST_NONE */
    const ast *bounded_parent; /* its comparison */
    uint32_t base; /* offset of the rule's first byte in the lexed text */
    int sp, max_sp;
} emitter;

static int put(emitter *e, int op, int flag, uint32_t arg, int stack_change)
{
    persona_segment_model *m = e->p->m;
    if (persona__grow((void **)&m->code, &m->code_cap, m->n_code + 1, sizeof *m->code, 64))
        return persona__fail_nomem();
    insn *i = &m->code[m->n_code++];
    i->op = (uint8_t)op;
    i->flag = (uint8_t)flag;
    i->pad = 0;
    i->arg = arg;
    e->sp += stack_change;
    if (e->sp > e->max_sp)
        e->max_sp = e->sp;
    return PERSONA_OK;
}

static int add_ref(emitter *e, const ast *n)
{
    persona_segment_model *m = e->p->m;
    if (persona__grow((void **)&m->refs, &m->refs_cap, m->n_refs + 1, sizeof *m->refs, 8))
        return persona__fail_nomem();
    segment_ref *r = &m->refs[m->n_refs++];
    r->insn = (uint32_t)m->n_code;
    r->owner = e->p->seg;
    r->name = n->a;
    r->line = n->line;
    r->col = n->col;
    return PERSONA_OK;
}

static int is_constant(const ast *n);
static int emit(emitter *e, uint32_t idx);

/* Whether a feature of this kind has a limit (feature.limit). */
static int limited(const feature *f)
{
    return f->kind == F_DAYS_SINCE || (f->kind == F_COUNT && f->window);
}

/* Whether node x is days_since() or a windowed count() and every other operand of its
 * comparison a number. */
static int bounded_feature(const emitter *e, const ast *cmp, uint32_t x)
{
    const ast *n = &e->p->nodes[x];
    if ((cmp->kind != A_CMP && cmp->kind != A_BETWEEN) || n->kind != A_FEAT ||
        !limited(&e->p->m->feats[n->a]))
        return 0;
    uint32_t opd[3] = { cmp->a, cmp->b, cmp->kind == A_BETWEEN ? cmp->c : AST_NONE };
    for (int i = 0; i < 3; i++)
        if (opd[i] != AST_NONE && opd[i] != x &&
            (e->p->nodes[opd[i]].kind != A_NUM))
            return 0;
    return cmp->kind == A_CMP || cmp->a == x; /* between: as the value, not a bound */
}

/* An operand of a comparison (or the value of a between). */
static int emit_operand(emitter *e, const ast *parent, uint32_t x)
{
    uint32_t saved = e->bounded;
    const ast *saved_parent = e->bounded_parent;
    e->bounded = bounded_feature(e, parent, x) ? x : AST_NONE;
    e->bounded_parent = parent;
    int rc = emit(e, x);
    e->bounded = saved;
    e->bounded_parent = saved_parent;
    return rc;
}

/* days_since() or a windowed count() compared with constants only needs live
 * re-evaluation only around the largest of them: record how it is used (feature.limit). */
static void note_limit(emitter *e, uint32_t idx)
{
    const ast *n = &e->p->nodes[idx];
    feature *f = &e->p->m->feats[n->a];
    if (!limited(f) || f->limit < 0)
        return;
    if (e->bounded != idx) {
        f->limit = -1;
        return;
    }
    const ast *parent = e->bounded_parent;
    uint32_t others[2] = { AST_NONE, AST_NONE };
    if (parent) {
        others[0] = parent->a == idx ? parent->b : parent->a;
        if (parent->kind == A_BETWEEN)
            others[1] = parent->c;
    }
    for (int k = 0; k < 2; k++) {
        if (others[k] == AST_NONE)
            continue;
        double c = e->p->m->nums[e->p->nodes[others[k]].a];
        int64_t d = c < 0 ? 0 : c > 1e7 ? 10000000 : (int64_t)c;
        if (d > f->limit)
            f->limit = d;
    }
}

/* The instruction of a comparison or string / list / range operator, after its operands. */
static int put_operator(emitter *e, const ast *n)
{
    switch (n->kind) {
    case A_CMP: return put(e, OP_CMP, n->op, 0, -1);
    case A_CONTAINS: return put(e, OP_CONTAINS, n->neg, 0, -1);
    case A_STARTS: return put(e, OP_STARTS, 0, 0, -1);
    case A_ENDS: return put(e, OP_ENDS, 0, 0, -1);
    case A_BETWEEN: return put(e, OP_BETWEEN, n->neg, 0, -2);
    case A_IN: return put(e, OP_IN, n->neg, n->b, 0);
    default: return put(e, OP_MATCHES, 0, n->b, 0);
    }
}

static int binary_op(const ast *n)
{
    return n->kind == A_ARITH ? n->op : n->kind == A_AND ? OP_AND : OP_OR;
}

/* a + b + c … (and leaf-internal and / or chains) are left-deep: walk the left spine in a
 * loop, so that code generation recurses only as deep as the rule nests, not as long as a
 * chain is (1,024 terms nested 64 times would otherwise need ~65,000 frames). */
static int emit_chain(emitter *e, uint32_t idx)
{
    uint32_t local[16], *spine = local;
    size_t n = 0, cap = 16;
    int rc = PERSONA_OK;
    uint32_t cur = idx;
    for (;;) {
        const ast *x = &e->p->nodes[cur];
        if (x->kind != A_ARITH && x->kind != A_AND && x->kind != A_OR)
            break;
        if (n == cap) {
            size_t ncap = cap * 2;
            uint32_t *bigger = spine == local ? persona__calloc(ncap, sizeof *bigger)
                                              : persona__realloc_array(spine, ncap, sizeof *bigger);
            if (!bigger) {
                rc = persona__fail_nomem();
                goto done;
            }
            if (spine == local)
                memcpy(bigger, local, sizeof local);
            spine = bigger;
            cap = ncap;
        }
        spine[n++] = cur;
        cur = x->a;
    }
    if ((rc = emit(e, cur)))
        goto done;
    while (n-- > 0) {
        const ast *x = &e->p->nodes[spine[n]];
        uint32_t b = x->b;
        int op = binary_op(x);
        if ((rc = emit(e, b)) || (rc = put(e, op, 0, 0, -1)))
            goto done;
    }
done:
    if (spine != local)
        persona__free(spine);
    return rc;
}

static int emit(emitter *e, uint32_t idx)
{
    const ast *n = &e->p->nodes[idx];
    int rc;
    switch (n->kind) {
    case A_NUM: return put(e, OP_NUM, 0, n->a, 1);
    case A_STR: return put(e, OP_STR, 0, n->a, 1);
    case A_BOOL: return put(e, OP_BOOL, n->op, 0, 1);
    case A_NOW: return put(e, OP_NOW, 0, 0, 1);
    case A_NEXT: return put(e, OP_NEXT, 0, 0, 1);
    case A_FEAT:
        note_limit(e, idx);
        return put(e, OP_FEAT, 0, n->a, 1);
    case A_ATTR: return put(e, OP_ATTR, n->op, n->a, 1);
    case A_CTX: return put(e, OP_CTX, 0, n->a, 1);
    case A_CTX_HOUR: return put(e, OP_CTX_HOUR, 0, 0, 1);
    case A_EXISTS_ATTR: return put(e, OP_EXISTS_ATTR, 0, n->a, 1);
    case A_EXISTS_CTX: return put(e, OP_EXISTS_CTX, 0, n->a, 1);
    case A_EXISTS_HOUR: return put(e, OP_EXISTS_HOUR, 0, 0, 1);
    case A_CONSENT: return put(e, OP_CONSENT, 0, n->a, 1);
    case A_INSEG:
        if ((rc = add_ref(e, n)))
            return rc;
        return put(e, OP_INSEG, 0, n->a, 1);
    case A_NEG:
        if ((rc = emit(e, n->a)))
            return rc;
        return put(e, OP_NEG, 0, 0, 0);
    case A_NOT:
        if ((rc = emit(e, n->a)))
            return rc;
        return put(e, OP_NOT, 0, 0, 0);
    case A_ARITH:
    case A_AND:
    case A_OR:
        return emit_chain(e, idx);
    case A_CMP:
    case A_CONTAINS:
    case A_STARTS:
    case A_ENDS:
        if ((rc = emit_operand(e, n, n->a)) || (rc = emit_operand(e, n, n->b)))
            return rc;
        return put_operator(e, n);
    case A_IN:
    case A_MATCHES:
        if ((rc = emit_operand(e, n, n->a)))
            return rc;
        return put_operator(e, n);
    case A_BETWEEN: {
        uint32_t a = n->a, b = n->b, c = n->c;
        if ((rc = emit_operand(e, n, a)) || (rc = emit(e, b)) || (rc = emit(e, c)))
            return rc;
        return put_operator(e, n);
    }
    }
    return persona__fail(PERSONA_EINTERNAL, "rule compiler: unknown node kind %d", n->kind);
}

static int is_constant(const ast *n)
{
    return n->kind == A_NUM || n->kind == A_STR || n->kind == A_BOOL;
}

static int add_logic(emitter *e, uint32_t kind, uint32_t a, uint32_t b, const ast *n, uint32_t *out)
{
    persona_segment_model *m = e->p->m;
    if (persona__grow((void **)&m->logic, &m->logic_cap, m->n_logic + 1, sizeof *m->logic, 16))
        return persona__fail_nomem();
    logic_node *l = &m->logic[m->n_logic];
    l->kind = kind;
    l->a = a;
    l->b = b;
    l->off = n->off - e->base;
    l->len = n->end - n->off;
    *out = (uint32_t)m->n_logic++;
    return PERSONA_OK;
}

/* A leaf: the code of node idx leaving one boolean, and the code ranges of its operands
 * (shown by the explanation). */
static int emit_leaf(emitter *e, uint32_t idx, uint32_t *out)
{
    persona_segment_model *m = e->p->m;
    const ast *n = &e->p->nodes[idx];
    leaf lf;
    memset(&lf, 0, sizeof lf);
    lf.code = (uint32_t)m->n_code;
    e->sp = 0;
    int rc;
    uint32_t opds[3] = { AST_NONE, AST_NONE, AST_NONE };
    int with_operands = n->kind == A_CMP || n->kind == A_CONTAINS || n->kind == A_STARTS ||
                        n->kind == A_ENDS || n->kind == A_BETWEEN || n->kind == A_IN ||
                        n->kind == A_MATCHES;
    if (with_operands) {
        opds[0] = n->a;
        if (n->kind != A_IN && n->kind != A_MATCHES)
            opds[1] = n->b;
        if (n->kind == A_BETWEEN)
            opds[2] = n->c;
        for (int i = 0; i < 3; i++) {
            if (opds[i] == AST_NONE)
                continue;
            const ast *o = &e->p->nodes[opds[i]];
            uint32_t start = (uint32_t)m->n_code;
            if ((rc = (i == 0 || n->kind == A_CMP) ? emit_operand(e, n, opds[i]) : emit(e, opds[i])))
                return rc;
            if (!is_constant(o)) {
                uint32_t k = lf.n_operands++;
                lf.opd_code[k] = start;
                lf.opd_end[k] = (uint32_t)m->n_code;
                lf.opd_off[k] = o->off - e->base;
                lf.opd_len[k] = o->end - o->off;
            }
        }
        if ((rc = put_operator(e, n)))
            return rc;
    } else {
        if ((rc = emit(e, idx)))
            return rc;
        if (n->type != TY_BOOL) {
            /* A bare attribute or context field as a condition: show its value. */
            lf.n_operands = 1;
            lf.opd_code[0] = lf.code;
            lf.opd_end[0] = (uint32_t)m->n_code;
            lf.opd_off[0] = n->off - e->base;
            lf.opd_len[0] = n->end - n->off;
            if ((rc = put(e, OP_TRUTH, 0, 0, 0)))
                return rc;
        }
    }
    lf.code_end = (uint32_t)m->n_code;
    lf.form = persona__leaf_form(m, &lf);
    if (e->max_sp > VM_STACK_LIMIT)
        return persona__parse_error_tok(e->p, &(token){ .line = n->line, .col = n->col },
                                        "rule too deeply nested to evaluate");
    if ((uint32_t)e->max_sp > m->max_stack)
        m->max_stack = (uint32_t)e->max_sp;
    if (persona__grow((void **)&m->leaves, &m->leaves_cap, m->n_leaves + 1, sizeof *m->leaves, 16))
        return persona__fail_nomem();
    m->leaves[m->n_leaves] = lf;
    return add_logic(e, L_LEAF, (uint32_t)m->n_leaves++, 0, n, out);
}

/* Operands of a chain of one logical operator, in order (a and (b and c) and d → a b c d). */
static int collect(emitter *e, uint32_t idx, int kind, uint32_t **v, size_t *n, size_t *cap)
{
    const ast *x = &e->p->nodes[idx];
    if (x->kind == kind) {
        uint32_t a = x->a, b = x->b;
        int rc = collect(e, a, kind, v, n, cap);
        return rc ? rc : collect(e, b, kind, v, n, cap);
    }
    if (persona__grow((void **)v, cap, *n + 1, sizeof **v, 8))
        return persona__fail_nomem();
    (*v)[(*n)++] = idx;
    return PERSONA_OK;
}

static int emit_logic(emitter *e, uint32_t idx, uint32_t *out)
{
    const ast *n = &e->p->nodes[idx];
    int rc;
    if (n->kind == A_NOT) {
        uint32_t child;
        if ((rc = emit_logic(e, n->a, &child)))
            return rc;
        return add_logic(e, L_NOT, child, 0, &e->p->nodes[idx], out);
    }
    if (n->kind != A_AND && n->kind != A_OR)
        return emit_leaf(e, idx, out);
    int kind = n->kind;
    uint32_t *ops = NULL;
    size_t n_ops = 0, cap = 0;
    if ((rc = collect(e, idx, kind, &ops, &n_ops, &cap)))
        goto done;
    /* Children first (they append their own kids), then this node's kids, contiguous. */
    for (size_t i = 0; i < n_ops; i++)
        if ((rc = emit_logic(e, ops[i], &ops[i])))
            goto done;
    persona_segment_model *m = e->p->m;
    if (persona__grow((void **)&m->kids, &m->kids_cap, m->n_kids + n_ops, sizeof *m->kids, 16)) {
        rc = persona__fail_nomem();
        goto done;
    }
    uint32_t first = (uint32_t)m->n_kids;
    memcpy(m->kids + m->n_kids, ops, n_ops * sizeof *ops);
    m->n_kids += n_ops;
    rc = add_logic(e, kind == A_AND ? L_AND : L_OR, first, (uint32_t)n_ops, &e->p->nodes[idx], out);
done:
    persona__free(ops);
    return rc;
}

int persona__emit_rule(rule_parser *p, uint32_t root, const char *name, const char *source,
                       size_t source_len)
{
    persona_segment_model *m = p->m;
    emitter e = { p, AST_NONE, NULL, p->nodes[root].off, 0, 0 };
    /* The span of the root covers the whole rule (outer parentheses included). */
    e.base = (uint32_t)(source - p->lx.text);
    uint32_t logic_root;
    int rc = emit_logic(&e, root, &logic_root);
    if (rc)
        return rc;
    if (persona__grow((void **)&m->segs, &m->segs_cap, m->n_segs + 1, sizeof *m->segs, 8))
        return persona__fail_nomem();
    segment *s = &m->segs[m->n_segs];
    memset(s, 0, sizeof *s);
    s->name = persona__strndup(name, strlen(name));
    s->source = persona__strndup(source, source_len);
    if (!s->name || !s->source) {
        persona__free(s->name);
        persona__free(s->source);
        return persona__fail_nomem();
    }
    s->kind = SEG_RULE;
    s->root = logic_root;
    s->memo = UINT32_MAX;
    m->n_segs++;
    return PERSONA_OK;
}
