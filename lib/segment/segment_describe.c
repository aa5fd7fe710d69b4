/* persona_segment_model_describe: which clauses admitted or rejected a user. The logic
 * tree is walked as evaluation walks it (same short-circuit), printing the clauses that
 * decided each segment, with the values of their operands. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/structs.h"
#include "segment/rule_eval.h"


static void put_value(persona__buf *b, const rvalue *v)
{
    switch (v->tag) {
    case V_NUM: persona__buf_double(b, v->u.num); break;
    case V_STR: persona__buf_json_str(b, v->u.str, v->len); break;
    case V_BOOL: persona__buf_puts(b, v->u.b ? "true" : "false"); break;
    default: persona__buf_puts(b, "missing"); break;
    }
}

/* Whether code[from .. to) is one time value: first_seen, last_seen or now. */
static int is_time(const persona_segment_model *m, uint32_t from, uint32_t to)
{
    if (to != from + 1)
        return 0;
    const insn *i = &m->code[from];
    return i->op == OP_NOW ||
           (i->op == OP_FEAT && (m->feats[i->arg].kind == F_FIRST_SEEN || m->feats[i->arg].kind == F_LAST_SEEN));
}

/* After an operand's value, the same in words when it is a time (`2024-03-01 10:00:00 UTC`)
 * or the difference of two times (`1d 20h 5m 3s`): explanations are read by people. */
static void put_reading(persona__buf *b, const persona_segment_model *m, uint32_t from,
                        uint32_t to, const rvalue *v)
{
    if (v->tag != V_NUM || v->u.num != v->u.num || v->u.num > 9.2e18 || v->u.num < -9.2e18)
        return;
    int64_t x = (int64_t)v->u.num;
    if (is_time(m, from, to)) {
        char text[32];
        size_t n = 0;
        if (persona_time_format(text, sizeof text, &n, x, 0) == PERSONA_OK) {
            persona__buf_puts(b, " (");
            persona__buf_append(b, text, n);
            persona__buf_puts(b, " UTC)");
        }
        return;
    }
    /* X - Y with X and Y single time values */
    if (to != from + 3 || m->code[from + 2].op != OP_SUB || !is_time(m, from, from + 1) ||
        !is_time(m, from + 1, from + 2))
        return;
    static const struct { int64_t ms; const char *unit; } units[] = {
        { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
    };
    uint64_t left = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    persona__buf_puts(b, x < 0 ? " (-" : " (");
    int any = 0;
    for (size_t k = 0; k < sizeof units / sizeof *units; k++) {
        uint64_t q = left / (uint64_t)units[k].ms;
        left %= (uint64_t)units[k].ms;
        if (!q && (any || k + 1 < sizeof units / sizeof *units))
            continue;
        if (any)
            persona__buf_putc(b, ' ');
        persona__buf_u64(b, q);
        persona__buf_puts(b, units[k].unit);
        any = 1;
    }
    persona__buf_putc(b, ')');
}

/* A clause's source on one line: comments dropped, runs of white space (line breaks
 * included) as one space; string literals untouched. */
static void put_source(persona__buf *b, const char *s, size_t len)
{
    int space = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < len && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            if (space)
                persona__buf_putc(b, ' ');
            space = 0;
            persona__buf_append(b, s + i, (j < len ? j + 1 : len) - i);
            i = j < len ? j : len;
            continue;
        }
        if (c == '#') {
            while (i + 1 < len && s[i + 1] != '\n')
                i++;
            space = 1;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = 1;
            continue;
        }
        if (space)
            persona__buf_putc(b, ' ');
        space = 0;
        persona__buf_putc(b, c);
    }
}

static void indent(persona__buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        persona__buf_puts(b, "  ");
}

/* Explain node; returns its truth (or a negative error). */
static int explain(eval_state *es, persona__buf *b, const char *src, uint32_t node, int depth)
{
    const persona_segment_model *m = es->m;
    const logic_node *l = &m->logic[node];
    int r;
    if (l->kind == L_LEAF) {
        const leaf *lf = &m->leaves[l->a];
        rvalue v;
        if ((r = persona__vm_run(es, lf->code, lf->code_end, &v)))
            return r;
        r = persona__truth(&v);
        indent(b, depth);
        put_source(b, src + l->off, l->len);
        persona__buf_puts(b, r ? " is true" : " is false");
        for (uint32_t k = 0; k < lf->n_operands; k++) {
            rvalue o;
            int rc = persona__vm_run(es, lf->opd_code[k], lf->opd_end[k], &o);
            if (rc)
                return rc;
            persona__buf_puts(b, k == 0 ? " (" : ", ");
            put_source(b, src + lf->opd_off[k], lf->opd_len[k]);
            persona__buf_puts(b, " = ");
            put_value(b, &o);
            put_reading(b, m, lf->opd_code[k], lf->opd_end[k], &o);
        }
        persona__buf_puts(b, lf->n_operands ? ")\n" : "\n");
        return r;
    }
    if (l->kind == L_NOT) {
        r = persona__eval_logic(es, node);
        if (r < 0)
            return r;
        indent(b, depth);
        put_source(b, src + l->off, l->len);
        persona__buf_puts(b, r ? " is true, because\n" : " is false, because\n");
        int c = explain(es, b, src, l->a, depth + 1);
        return c < 0 ? c : r;
    }
    /* and / or: the kids evaluation reads, up to the one that decided. */
    int want = l->kind == L_OR;
    r = persona__eval_logic(es, node);
    if (r < 0)
        return r;
    for (uint32_t k = 0; k < l->b; k++) {
        int c = explain(es, b, src, m->kids[l->a + k], depth);
        if (c < 0)
            return c;
        if (c == want)
            break;
    }
    return r;
}

PERSONA_API int persona_segment_model_describe(char *buf, size_t capacity, size_t *out_len,
                                               const persona_segment_model *m,
                                               const persona_store *store, const char *user,
                                               const persona_eval_context *ctx)
{
    if (!m || !store || !user)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !m ? "model" : !store ? "store" : "user");
    persona__buf b;
    persona__buf_init(&b);
    uint32_t ids[PERSONA_RULE_MAX_NAMES];
    eval_state es;
    int rc = PERSONA_OK;
    STORE_RDLOCK(store);
    int64_t now = 0;
    rc = persona__eval_now(store, ctx, &now);
    if (!rc) {
        persona__bind(m, store, ids);
        uint32_t id = persona__intern_find(&store->users, user, strlen(user));
        persona__eval_begin(&es, m, store, id == PERSONA__NO_ID ? id : persona__id_root(store, id), now,
                            ctx, ids);
        es.key = user;
        int matched = 0;
        for (size_t i = 0; i < m->n_segs && !rc; i++) {
            const segment *sg = &m->segs[i];
            persona__buf_puts(&b, sg->name);
            if (matched && m->mode == PERSONA_SEGMENT_FIRST_MATCH) {
                persona__buf_puts(&b, ": not reached (an earlier segment matched)\n");
                continue;
            }
            int r = persona__eval_segment(&es, (uint32_t)i);
            if (r < 0) {
                rc = r;
                break;
            }
            matched |= r;
            persona__buf_puts(&b, r ? ": yes\n" : ": no\n");
            if (sg->kind == SEG_LIST) {
                char line[96];
                snprintf(line, sizeof line, "  %s of the %zu keys of the list\n",
                         r ? "the user is one" : "the user is none", sg->n_keys);
                persona__buf_puts(&b, line);
            } else {
                int c = explain(&es, &b, sg->source, sg->root, 1);
                if (c < 0)
                    rc = c;
            }
        }
    }
    STORE_UNLOCK(store);
    if (!rc && persona__buf_failed(&b))
        rc = persona__fail_nomem();
    if (!rc)
        rc = persona__copy_out(buf, capacity, out_len, b.data ? b.data : "", b.len);
    persona__buf_free(&b);
    return rc;
}
