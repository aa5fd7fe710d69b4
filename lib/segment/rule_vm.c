/* The stack VM that runs a leaf's bytecode, the short-circuit walk of the logic tree, and
 * segment membership (rules, lists, in_segment memo). Semantics of every operator are in
 * docs/rules.md ("Values and missing values"). */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "path/path_internal.h"
#include "segment/rule_eval.h"

void persona__eval_begin(eval_state *es, const persona_segment_model *m, const persona_store *s,
                         uint32_t user, int64_t now, const persona_eval_context *ctx,
                         const uint32_t *ids)
{
    es->m = m;
    es->s = s;
    es->user = user;
    es->now = now;
    es->ctx = ctx;
    es->ids = ids;
    es->feats_ready = 0;
    es->skip = NULL;
    es->rc = 0;
    es->depth = 0;
    es->key = NULL;
    es->next_change = INT64_MAX;
    memset(es->memo, 0, m->n_memo);
}


/* A number, NaN (arithmetic on nothing) being missing. */
static rvalue num(double v)
{
    return isnan(v) ? persona__rv_missing : persona__rv_num(v);
}

static rvalue str(const char *s, size_t len)
{
    rvalue r = { V_STR, (uint32_t)len, { 0 } };
    r.u.str = s;
    return r;
}

/* -1, 0, 1 for values of one tag (numbers or strings); strings byte-wise. */
static int order(const rvalue *a, const rvalue *b)
{
    if (a->tag == V_NUM)
        return (a->u.num > b->u.num) - (a->u.num < b->u.num);
    if (a->tag == V_BOOL)
        return a->u.b - b->u.b;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->u.str, b->u.str, n);
    if (c)
        return c < 0 ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

static int present_same(const rvalue *a, const rvalue *b)
{
    return a->tag != V_MISSING && a->tag == b->tag;
}

static int compare(const rvalue *a, const rvalue *b, int op)
{
    if (!present_same(a, b))
        return 0;
    if (a->tag == V_BOOL && op != CMP_EQ && op != CMP_NE)
        return 0;
    int c = order(a, b);
    switch (op) {
    case CMP_EQ: return c == 0;
    case CMP_NE: return c != 0;
    case CMP_LT: return c < 0;
    case CMP_LE: return c <= 0;
    case CMP_GT: return c > 0;
    default: return c >= 0;
    }
}

static int find_bytes(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl == 0)
        return 1;
    if (nl > hl)
        return 0;
    const char *end = h + hl - nl;
    for (const char *p = h; p <= end; p++) {
        p = memchr(p, n[0], (size_t)(end - p) + 1);
        if (!p)
            return 0;
        if (memcmp(p, n, nl) == 0)
            return 1;
    }
    return 0;
}

static rvalue attribute(const eval_state *es, uint32_t slot, int numbers_only, int exists)
{
    uint32_t name = es->ids[slot];
    if (es->user == PERSONA__NO_ID || name == PERSONA__NO_ID)
        return exists ? persona__rv_bool(0) : persona__rv_missing;
    uint32_t e = persona__attr_entry(es->s, es->user, name);
    if (e == UINT32_MAX || es->s->attrs[e].type < 0)
        return exists ? persona__rv_bool(0) : persona__rv_missing;
    if (exists)
        return persona__rv_bool(1);
    const attr_value *a = &es->s->attrs[e];
    switch (a->type) {
    case PERSONA_NUM: return num(a->num);
    case PERSONA_TIME: return num((double)a->time_ms);
    case PERSONA_STR: return numbers_only ? persona__rv_missing : str(a->str, strlen(a->str));
    case PERSONA_BOOL: return numbers_only ? persona__rv_missing : persona__rv_bool(a->boolean);
    }
    return persona__rv_missing;
}

static rvalue context_field(const eval_state *es, uint32_t k, int exists)
{
    const persona_eval_context *c = es->ctx;
    const char *name = es->m->strs[k];
    if (c)
        for (size_t i = 0; i < c->count; i++)
            if (c->names[i] && strcmp(c->names[i], name) == 0 && c->values && c->values[i])
                return exists ? persona__rv_bool(1) : str(c->values[i], strlen(c->values[i]));
    return exists ? persona__rv_bool(0) : persona__rv_missing;
}

static int consent(const eval_state *es, uint32_t slot)
{
    uint32_t name = es->ids[slot];
    if (es->user == PERSONA__NO_ID || name == PERSONA__NO_ID)
        return 0;
    uint32_t e = persona__consent_entry(es->s, es->user, name);
    return e != UINT32_MAX && es->s->consents[e].granted;
}

static rvalue arith(int op, const rvalue *a, const rvalue *b)
{
    if (a->tag != V_NUM || b->tag != V_NUM)
        return persona__rv_missing;
    double x = a->u.num, y = b->u.num;
    switch (op) {
    case OP_ADD: return num(x + y);
    case OP_SUB: return num(x - y);
    case OP_MUL: return num(x * y);
    case OP_DIV: return y == 0 ? persona__rv_missing : num(x / y);
    default: return y == 0 ? persona__rv_missing : num(fmod(x, y));
    }
}

/* next_event(): the path model's most likely next state of the user's latest session. */
static rvalue next_event(const eval_state *es)
{
    const persona_path_model *pm = es->m->paths;
    if (!pm || es->user == PERSONA__NO_ID)
        return persona__rv_missing;
    const persona__intern *users = &es->s->users;
    double p;
    uint32_t st = persona__path_predict_user(pm, persona__intern_str(users, es->user),
                                             persona__intern_len(users, es->user), &p);
    return st == PERSONA_PATH_NO_STATE
               ? persona__rv_missing
               : str(persona__intern_str(&pm->states, st), persona__intern_len(&pm->states, st));
}

/* Whether an instruction only pushes a value (no operands): the loads. */
static int is_load(uint8_t op)
{
    switch (op) {
    case OP_NUM: case OP_STR: case OP_BOOL: case OP_NOW: case OP_FEAT: case OP_ATTR:
    case OP_EXISTS_ATTR: case OP_CTX: case OP_EXISTS_CTX: case OP_CTX_HOUR: case OP_EXISTS_HOUR:
    case OP_CONSENT: case OP_NEXT:
        return 1;
    default:
        return 0;
    }
}

/* The value a load instruction pushes (0, or a failure computing the features). */
static int load(eval_state *es, const insn *i, rvalue *out)
{
    const persona_segment_model *m = es->m;
    int rc;
    switch (i->op) {
    case OP_NUM: *out = num(m->nums[i->arg]); break;
    case OP_STR: *out = str(m->strs[i->arg], m->strs_len[i->arg]); break;
    case OP_BOOL: *out = persona__rv_bool(i->flag); break;
    case OP_NOW:
        /* Any later time may change the answer: look again at the next tick. */
        if (es->now < INT64_MAX && es->next_change > es->now + 1)
            es->next_change = es->now + 1;
        *out = num((double)es->now);
        break;
    case OP_FEAT:
        if (!es->feats_ready && (rc = persona__features_compute(es)))
            return rc;
        *out = es->feats[i->arg];
        break;
    case OP_ATTR: *out = attribute(es, i->arg, i->flag, 0); break;
    case OP_EXISTS_ATTR: *out = attribute(es, i->arg, 0, 1); break;
    case OP_CTX: *out = context_field(es, i->arg, 0); break;
    case OP_EXISTS_CTX: *out = context_field(es, i->arg, 1); break;
    case OP_CTX_HOUR:
    case OP_EXISTS_HOUR: {
        int h = es->ctx ? es->ctx->hour : -1;
        int has = h >= 0 && h <= 23;
        *out = i->op == OP_EXISTS_HOUR ? persona__rv_bool(has) : has ? num(h) : persona__rv_missing;
        break;
    }
    case OP_NEXT: *out = next_event(es); break;
    default: /* OP_CONSENT */
        *out = persona__rv_bool(consent(es, i->arg));
        break;
    }
    return 0;
}

static int in_list(const persona_segment_model *m, const insn *i, const rvalue *x)
{
    const const_list *l = &m->lists[i->arg];
    int same = present_same(x, &m->list_items[l->first]), hit = 0;
    for (uint32_t k = 0; same && !hit && k < l->n; k++)
        hit = order(x, &m->list_items[l->first + k]) == 0;
    return same && (i->flag ? !hit : hit);
}

static int between(const insn *i, const rvalue *x, const rvalue *lo, const rvalue *hi)
{
    if (!present_same(x, lo) || !present_same(x, hi) || x->tag == V_BOOL)
        return 0;
    int in = order(lo, x) <= 0 && order(x, hi) <= 0;
    return i->flag ? !in : in;
}

uint32_t persona__leaf_form(const persona_segment_model *m, const leaf *lf)
{
    const insn *c = &m->code[lf->code];
    uint32_t n = lf->code_end - lf->code;
    if (n == 0 || !is_load(c[0].op))
        return LEAF_VM;
    if (n == 1)
        return LEAF_VALUE;
    if (n == 2 && c[1].op == OP_IN)
        return LEAF_IN;
    if (n == 3 && is_load(c[1].op) && c[2].op == OP_CMP)
        return LEAF_CMP;
    if (n == 4 && is_load(c[1].op) && is_load(c[2].op) && c[3].op == OP_BETWEEN)
        return LEAF_BETWEEN;
    return LEAF_VM;
}

int persona__vm_run(eval_state *es, uint32_t from, uint32_t to, rvalue *out)
{
    const persona_segment_model *m = es->m;
    rvalue st[VM_STACK];
    int sp = 0, rc;
    for (uint32_t pc = from; pc < to; pc++) {
        const insn *i = &m->code[pc];
        switch (i->op) {
        case OP_NUM: case OP_STR: case OP_BOOL: case OP_NOW: case OP_FEAT: case OP_ATTR:
        case OP_EXISTS_ATTR: case OP_CTX: case OP_EXISTS_CTX: case OP_CTX_HOUR: case OP_EXISTS_HOUR:
        case OP_CONSENT: case OP_NEXT:
            if ((rc = load(es, i, &st[sp++])))
                return rc;
            break;
        case OP_INSEG:
            if ((rc = persona__eval_segment(es, i->arg)) < 0)
                return rc;
            st[sp++] = persona__rv_bool(rc);
            break;
        case OP_NEG:
            st[sp - 1] = st[sp - 1].tag == V_NUM ? num(-st[sp - 1].u.num) : persona__rv_missing;
            break;
        case OP_ADD:
        case OP_SUB:
        case OP_MUL:
        case OP_DIV:
        case OP_MOD:
            st[sp - 2] = arith(i->op, &st[sp - 2], &st[sp - 1]);
            sp--;
            break;
        case OP_CMP:
            st[sp - 2] = persona__rv_bool(compare(&st[sp - 2], &st[sp - 1], i->flag));
            sp--;
            break;
        case OP_IN: st[sp - 1] = persona__rv_bool(in_list(m, i, &st[sp - 1])); break;
        case OP_CONTAINS:
        case OP_STARTS:
        case OP_ENDS: {
            const rvalue *a = &st[sp - 2], *b = &st[sp - 1];
            int r = 0;
            if (a->tag == V_STR && b->tag == V_STR) {
                if (i->op == OP_CONTAINS)
                    r = find_bytes(a->u.str, a->len, b->u.str, b->len) != (i->flag != 0);
                else if (b->len <= a->len)
                    r = memcmp(i->op == OP_STARTS ? a->u.str : a->u.str + a->len - b->len, b->u.str,
                               b->len) == 0;
            }
            st[sp - 2] = persona__rv_bool(r);
            sp--;
            break;
        }
        case OP_MATCHES: {
            const rvalue *a = &st[sp - 1];
            st[sp - 1] = persona__rv_bool(a->tag == V_STR &&
                                 persona__glob_match(m->strs[i->arg], m->strs_len[i->arg], a->u.str, a->len));
            break;
        }
        case OP_BETWEEN:
            st[sp - 3] = persona__rv_bool(between(i, &st[sp - 3], &st[sp - 2], &st[sp - 1]));
            sp -= 2;
            break;
        case OP_TRUTH: st[sp - 1] = persona__rv_bool(persona__truth(&st[sp - 1])); break;
        case OP_NOT: st[sp - 1] = persona__rv_bool(!persona__truth(&st[sp - 1])); break;
        case OP_AND:
        case OP_OR: {
            int a = persona__truth(&st[sp - 2]), b = persona__truth(&st[sp - 1]);
            st[sp - 2] = persona__rv_bool(i->op == OP_AND ? a && b : a || b);
            sp--;
            break;
        }
        default:
            return persona__fail(PERSONA_EINTERNAL, "rule VM: unknown instruction %d", i->op);
        }
    }
    *out = st[0];
    return 0;
}

/* A leaf's truth: its common forms directly, the rest on the VM. */
static int eval_leaf(eval_state *es, const leaf *lf)
{
    const insn *c = &es->m->code[lf->code];
    rvalue v[3];
    int rc;
    switch (lf->form) {
    case LEAF_VALUE:
        return (rc = load(es, c, &v[0])) ? rc : persona__truth(&v[0]);
    case LEAF_IN:
        return (rc = load(es, c, &v[0])) ? rc : in_list(es->m, &c[1], &v[0]);
    case LEAF_CMP:
        if ((rc = load(es, c, &v[0])) || (rc = load(es, &c[1], &v[1])))
            return rc;
        return compare(&v[0], &v[1], c[2].flag);
    case LEAF_BETWEEN:
        if ((rc = load(es, c, &v[0])) || (rc = load(es, &c[1], &v[1])) || (rc = load(es, &c[2], &v[2])))
            return rc;
        return between(&c[3], &v[0], &v[1], &v[2]);
    default:
        rc = persona__vm_run(es, lf->code, lf->code_end, &v[0]);
        return rc ? rc : persona__truth(&v[0]);
    }
}

int persona__eval_logic(eval_state *es, uint32_t node)
{
    const logic_node *l = &es->m->logic[node];
    switch (l->kind) {
    case L_LEAF:
        return eval_leaf(es, &es->m->leaves[l->a]);
    case L_NOT: {
        int r = persona__eval_logic(es, l->a);
        return r < 0 ? r : !r;
    }
    default: {
        int want = l->kind == L_OR; /* the value that decides the chain */
        for (uint32_t k = 0; k < l->b; k++) {
            int r = persona__eval_logic(es, es->m->kids[l->a + k]);
            if (r < 0 || r == want)
                return r;
        }
        return !want;
    }
    }
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a, b);
}

/* Whether any identifier of the profile is one of the list's sorted keys. */
static int list_member(const eval_state *es, const segment *sg, const char *key)
{
    const persona_store *s = es->s;
    uint32_t u = es->user;
    uint32_t m = u;
    do {
        const char *k = m == PERSONA__NO_ID ? key : persona__intern_str(&s->users, m);
        size_t lo = 0, hi = sg->n_keys;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = cmp_str(sg->keys[mid], k);
            if (c == 0)
                return 1;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (m == PERSONA__NO_ID)
            return 0;
        m = persona__id_next(s, m);
    } while (m != u);
    return 0;
}

int persona__eval_segment(eval_state *es, uint32_t seg)
{
    const segment *sg = &es->m->segs[seg];
    if (sg->memo != UINT32_MAX && es->memo[sg->memo])
        return es->memo[sg->memo] - 1;
    int r;
    if (sg->kind == SEG_LIST) {
        /* the key asked about, or the profile's own (read only when a list needs it) */
        const char *key = es->key ? es->key
                        : es->user != PERSONA__NO_ID ? persona__intern_str(&es->s->users, es->user) : "";
        r = list_member(es, sg, key);
    } else {
        if (++es->depth > SEGMENT_MAX_CHAIN + 1)
            return persona__fail(PERSONA_EINTERNAL, "in_segment nesting beyond the compiled limit");
        r = persona__eval_logic(es, sg->root);
        es->depth--;
    }
    if (r >= 0 && sg->memo != UINT32_MAX)
        es->memo[sg->memo] = (uint8_t)(r + 1);
    return r;
}
