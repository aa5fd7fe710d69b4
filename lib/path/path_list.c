/* The list handle (rows of states with two counts) and the transition tables as lists. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "path/path_internal.h"

persona_path_list *persona__path_list_alloc(size_t rows, size_t states)
{
    persona_path_list *l = persona__calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->rows = rows;
    l->start = persona__calloc(rows + 1, sizeof *l->start);
    l->states = persona__realloc_array(NULL, states + 1, sizeof *l->states);
    l->count = persona__realloc_array(NULL, rows + 1, sizeof *l->count);
    l->extra = persona__realloc_array(NULL, rows + 1, sizeof *l->extra);
    if (!l->start || !l->states || !l->count || !l->extra) {
        persona_path_list_free(l);
        return NULL;
    }
    return l;
}

PERSONA_API void persona_path_list_free(persona_path_list *l)
{
    if (!l)
        return;
    persona__free(l->start);
    persona__free(l->states);
    persona__free(l->count);
    persona__free(l->extra);
    persona__free(l);
}

PERSONA_API int persona_path_list_size(size_t *out, const persona_path_list *l)
{
    if (!out || !l)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "list" : "out");
    *out = l->rows;
    return PERSONA_OK;
}

PERSONA_API int persona_path_list_row(uint32_t *states, size_t capacity, size_t *out_len,
                                      uint64_t *count_out, uint64_t *extra_out,
                                      const persona_path_list *l, size_t row)
{
    if (!l || !out_len || (!states && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !l ? "list" : !out_len ? "out_len" : "states");
    if (row >= l->rows)
        return persona__fail(PERSONA_ENOTFOUND, "row %zu: the list has %zu", row, l->rows);
    size_t a = (size_t)l->start[row], n = (size_t)l->start[row + 1] - a;
    *out_len = n;
    if (count_out)
        *count_out = l->count[row];
    if (extra_out)
        *extra_out = l->extra[row];
    if (capacity < n)
        return persona__fail(PERSONA_EBUFS, "row %zu has %zu states, room for %zu", row, n,
                             capacity);
    memcpy(states, l->states + a, n * sizeof *states);
    return PERSONA_OK;
}

/* A context of the transition table with its states, oldest first. */
typedef struct ctx_row {
    uint32_t id;
    uint32_t s[PERSONA_PATH_MAX_ORDER];
} ctx_row;


static int cmp_ctx(const void *a, const void *b)
{
    const ctx_row *x = a, *y = b;
    for (int i = 0; i < PERSONA_PATH_MAX_ORDER; i++)
        if (x->s[i] != y->s[i])
            return x->s[i] < y->s[i] ? -1 : 1;
    return 0;
}

static int order_zero(persona_path_list **out, const persona_path_model *m)
{
    persona_path_list *l = persona__path_list_alloc(m->n_zero, m->n_zero);
    if (!l)
        return persona__fail_nomem();
    for (size_t i = 0; i < m->n_zero; i++) {
        l->start[i + 1] = i + 1;
        l->states[i] = m->zero_state[i];
        l->count[i] = m->zero_count[i];
        l->extra[i] = m->zero_total;
    }
    *out = l;
    return PERSONA_OK;
}

PERSONA_API int persona_path_transitions(persona_path_list **out, const persona_path_model *m,
                                         int32_t order)
{
    if (out)
        *out = NULL;
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "model" : "out");
    if (order < 0 || order > m->spec.order)
        return persona__fail(PERSONA_EINVAL, "order %d: the model has orders 0 to %d", order,
                             m->spec.order);
    if (order == 0)
        return order_zero(out, m);
    size_t n_ctx = 0, rows = 0;
    for (size_t c = 0; c < m->ctx_map.count; c++)
        if (m->ctx_len[c] == order) {
            n_ctx++;
            rows += (size_t)(m->succ_start[c + 1] - m->succ_start[c]);
        }
    ctx_row *cr = persona__realloc_array(NULL, n_ctx + 1, sizeof *cr);
    persona_path_list *l = cr ? persona__path_list_alloc(rows, rows * ((size_t)order + 1)) : NULL;
    if (!l) {
        persona__free(cr);
        return persona__fail_nomem();
    }
    n_ctx = 0;
    for (size_t c = 0; c < m->ctx_map.count; c++) {
        if (m->ctx_len[c] != order)
            continue;
        ctx_row r;
        memset(&r, 0, sizeof r);
        r.id = (uint32_t)c;
        uint32_t e = (uint32_t)c;
        for (int i = 0; i < order; i++) { /* from the oldest state to the newest */
            r.s[i] = PERSONA__PAIR_X(m->ctx_map.keys[e]);
            e = PERSONA__PAIR_USER(m->ctx_map.keys[e]);
        }
        cr[n_ctx++] = r;
    }
    qsort(cr, n_ctx, sizeof *cr, cmp_ctx);
    size_t w = 0, sw = 0;
    for (size_t i = 0; i < n_ctx; i++) {
        uint32_t c = cr[i].id;
        for (uint64_t t = m->succ_start[c]; t < m->succ_start[c + 1]; t++) {
            memcpy(l->states + sw, cr[i].s, (size_t)order * sizeof *l->states);
            l->states[sw + (size_t)order] = m->succ_state[t];
            sw += (size_t)order + 1;
            l->count[w] = m->succ_count[t];
            l->extra[w] = m->ctx_total[c];
            l->start[++w] = sw;
        }
    }
    persona__free(cr);
    *out = l;
    return PERSONA_OK;
}
