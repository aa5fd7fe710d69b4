/* The Markov tables of a model, derived from its sessions (after a build, a load and a
 * merge alike), and persona_path_next().
 *
 * Every position j >= 1 of every path "(start)", s1 … sn, "(end)" counts its state after
 * the contexts of lengths 1 … min(order, j) before it. With few states (S^(order+1) cells
 * fit DENSE_CELLS) the counts go to dense arrays, whose nonzero rows then become the
 * contexts; otherwise the trie walk from the newest state back (path_internal.h) finds or
 * adds each context with one lookup, and the pair (context, state) is counted in a
 * temporary pair map. Both give the same tables. The pairs then become each
 * context's successor list, by count descending then state ascending, so a query copies
 * the first N entries of one list. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "path/path_internal.h"

typedef struct counter {
    persona__pairmap trans; /* PAIR(context, next) -> entry */
    uint64_t *count;        /* per entry */
    size_t count_cap, ctx_cap;
    uint32_t head; /* the chains of the pair maps are not used */
} counter;

/* The entry of key in map, added when new (*added = 1). UINT32_MAX on ENOMEM. */
static uint32_t find_add(persona__pairmap *map, uint64_t key, uint32_t *head, int *added)
{
    uint32_t e = persona__pairmap_find(map, key);
    *added = 0;
    if (e != UINT32_MAX)
        return e;
    if (persona__pairmap_reserve(map, 1))
        return UINT32_MAX;
    *added = 1;
    return persona__pairmap_add(map, key, head);
}

/* Count the transitions into position j of the path p (p[0] = "(start)"). */
static int count_position(persona_path_model *m, counter *c, const uint32_t *p, size_t j)
{
    uint32_t ctx = PATH_ROOT;
    size_t top = (size_t)m->spec.order < j ? (size_t)m->spec.order : j;
    for (size_t len = 1; len <= top; len++) {
        int added;
        ctx = find_add(&m->ctx_map, PERSONA__PAIR(ctx, p[j - len]), &c->head, &added);
        if (ctx == UINT32_MAX)
            return persona__fail_nomem();
        if (added) {
            size_t cap = c->ctx_cap;
            if (persona__grow((void **)&m->ctx_total, &cap, ctx + 1, sizeof *m->ctx_total, 64))
                return persona__fail_nomem();
            size_t cap2 = c->ctx_cap;
            if (persona__grow((void **)&m->ctx_len, &cap2, ctx + 1, sizeof *m->ctx_len, 64))
                return persona__fail_nomem();
            c->ctx_cap = cap < cap2 ? cap : cap2;
            m->ctx_total[ctx] = 0;
            m->ctx_len[ctx] = (uint8_t)len;
        }
        m->ctx_total[ctx]++;
        uint32_t t = find_add(&c->trans, PERSONA__PAIR(ctx, p[j]), &c->head, &added);
        if (t == UINT32_MAX || (added && persona__grow((void **)&c->count, &c->count_cap, t + 1,
                                                       sizeof *c->count, 64)))
            return persona__fail_nomem();
        if (added)
            c->count[t] = 0;
        c->count[t]++;
    }
    return PERSONA_OK;
}

typedef struct succ {
    uint64_t count;
    uint32_t state;
} succ;

static int cmp_succ(const void *a, const void *b)
{
    const succ *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->state > y->state) - (x->state < y->state);
}

/* The successor lists from the counted pairs. */
static int make_lists(persona_path_model *m, const counter *c)
{
    size_t n_ctx = m->ctx_map.count, n = c->trans.count;
    m->succ_start = persona__calloc(n_ctx + 2, sizeof *m->succ_start);
    m->succ_state = persona__realloc_array(NULL, n + 1, sizeof *m->succ_state);
    m->succ_count = persona__realloc_array(NULL, n + 1, sizeof *m->succ_count);
    succ *tmp = persona__realloc_array(NULL, n + 1, sizeof *tmp);
    if (!m->succ_start || !m->succ_state || !m->succ_count || !tmp) {
        persona__free(tmp);
        return persona__fail_nomem();
    }
    for (size_t t = 0; t < n; t++)
        m->succ_start[PERSONA__PAIR_USER(c->trans.keys[t]) + 2]++;
    for (size_t i = 0; i < n_ctx; i++)
        m->succ_start[i + 2] += m->succ_start[i + 1];
    for (size_t t = 0; t < n; t++) {
        uint64_t k = c->trans.keys[t];
        tmp[m->succ_start[PERSONA__PAIR_USER(k) + 1]++] = (succ){ c->count[t], PERSONA__PAIR_X(k) };
    }
    for (size_t i = 0; i < n_ctx; i++) {
        uint64_t a = m->succ_start[i], b = m->succ_start[i + 1];
        qsort(tmp + a, b - a, sizeof *tmp, cmp_succ);
    }
    for (size_t t = 0; t < n; t++) {
        m->succ_state[t] = tmp[t].state;
        m->succ_count[t] = tmp[t].count;
    }
    persona__free(tmp);
    m->n_transitions = n;
    return PERSONA_OK;
}

/* The order-0 distribution: every counted target. */
static int make_zero(persona_path_model *m)
{
    size_t s = m->states.count;
    uint64_t *by_state = persona__calloc(s + 1, sizeof *by_state);
    succ *tmp = persona__realloc_array(NULL, s + 1, sizeof *tmp);
    m->zero_state = persona__realloc_array(NULL, s + 1, sizeof *m->zero_state);
    m->zero_count = persona__realloc_array(NULL, s + 1, sizeof *m->zero_count);
    int rc = !by_state || !tmp || !m->zero_state || !m->zero_count ? persona__fail_nomem()
                                                                    : PERSONA_OK;
    if (!rc) {
        uint64_t total = m->sess_start[m->n_sessions];
        for (uint64_t i = 0; i < total; i++)
            by_state[m->sess_states[i]]++;
        by_state[m->end_id] += m->n_sessions;
        size_t n = 0;
        for (size_t i = 0; i < s; i++)
            if (by_state[i])
                tmp[n++] = (succ){ by_state[i], (uint32_t)i };
        qsort(tmp, n, sizeof *tmp, cmp_succ);
        for (size_t i = 0; i < n; i++) {
            m->zero_state[i] = tmp[i].state;
            m->zero_count[i] = tmp[i].count;
        }
        m->n_zero = n;
        m->zero_total = total + m->n_sessions;
    }
    persona__free(by_state);
    persona__free(tmp);
    return rc;
}

/* Dense counting, when every order's (context, next) pairs fit an array of at most
 * DENSE_CELLS cells: a context of length m is the number sum p[j-i] * S^(i-1), i = 1..m
 * (the newest state least significant), and its counts are the row of cells
 * [code * S, code * S + S) of the order-m array. */
#define DENSE_CELLS ((uint64_t)1 << 21)

static int dense_fits(const persona_path_model *m, uint64_t *cells)
{
    uint64_t s = m->states.count, c = s;
    for (int32_t o = 1; o <= m->spec.order; o++) {
        c *= s;
        if (c > DENSE_CELLS)
            return 0;
        cells[o] = c;
    }
    return 1;
}

/* Count every session's positions into the dense arrays cnt[1..order]. */
static void dense_count(const persona_path_model *m, uint64_t *const *cnt)
{
    const uint64_t s = m->states.count;
    const size_t k = (size_t)m->spec.order;
    uint64_t pw[PERSONA_PATH_MAX_ORDER + 1];
    pw[0] = 1;
    for (size_t o = 1; o <= k; o++)
        pw[o] = pw[o - 1] * s;
    for (uint64_t i = 0; i < m->n_sessions; i++) {
        const uint32_t *q = m->sess_states + m->sess_start[i];
        size_t n = (size_t)(m->sess_start[i + 1] - m->sess_start[i]);
        /* position j of the path (start) q[0] … q[n-1] (end): p[j] = q[j - 1] */
        for (size_t j = 1; j <= n + 1; j++) {
            uint64_t next = j <= n ? q[j - 1] : m->end_id, code = 0;
            size_t top = k < j ? k : j;
            for (size_t len = 1; len <= top; len++) {
                uint64_t prev = j - len == 0 ? m->start_id : q[j - len - 1];
                code += prev * pw[len - 1];
                cnt[len][code * s + next]++;
            }
        }
    }
}

/* The contexts and pairs of the dense arrays into the model's context trie and the
 * counter (as the sparse walk would have made them, in another order). */
static int dense_materialize(persona_path_model *m, counter *c, uint64_t *const *cnt,
                             uint32_t **ids)
{
    const uint64_t s = m->states.count;
    uint64_t n_ctx = 1;
    for (int32_t o = 1; o <= m->spec.order; o++) {
        uint64_t below = n_ctx; /* contexts of length o - 1 */
        n_ctx *= s;
        for (uint64_t code = 0; code < n_ctx; code++) {
            ids[o][code] = UINT32_MAX;
            const uint64_t *row = cnt[o] + code * s;
            uint64_t total = 0;
            for (uint64_t b = 0; b < s; b++)
                total += row[b];
            if (!total)
                continue;
            uint32_t parent = o == 1 ? PATH_ROOT : ids[o - 1][code % below];
            uint32_t oldest = (uint32_t)(code / below);
            int added;
            uint32_t ctx = find_add(&m->ctx_map, PERSONA__PAIR(parent, oldest), &c->head, &added);
            size_t cap = c->ctx_cap, cap2 = c->ctx_cap;
            if (ctx == UINT32_MAX ||
                persona__grow((void **)&m->ctx_total, &cap, ctx + 1, sizeof *m->ctx_total, 64) ||
                persona__grow((void **)&m->ctx_len, &cap2, ctx + 1, sizeof *m->ctx_len, 64))
                return persona__fail_nomem();
            c->ctx_cap = cap < cap2 ? cap : cap2;
            ids[o][code] = ctx;
            m->ctx_total[ctx] = total;
            m->ctx_len[ctx] = (uint8_t)o;
            for (uint64_t b = 0; b < s; b++) {
                if (!row[b])
                    continue;
                uint32_t t = find_add(&c->trans, PERSONA__PAIR(ctx, (uint32_t)b), &c->head, &added);
                if (t == UINT32_MAX ||
                    persona__grow((void **)&c->count, &c->count_cap, t + 1, sizeof *c->count, 64))
                    return persona__fail_nomem();
                c->count[t] = row[b];
            }
        }
    }
    return PERSONA_OK;
}

static int count_dense(persona_path_model *m, counter *c, const uint64_t *cells)
{
    uint64_t *cnt[PERSONA_PATH_MAX_ORDER + 1] = { NULL };
    uint32_t *ids[PERSONA_PATH_MAX_ORDER + 1] = { NULL };
    int rc = PERSONA_OK;
    for (int32_t o = 1; o <= m->spec.order && !rc; o++)
        if (!(cnt[o] = persona__calloc(cells[o], sizeof *cnt[o])) ||
            !(ids[o] = persona__realloc_array(NULL, cells[o] / m->states.count, sizeof *ids[o])))
            rc = persona__fail_nomem();
    if (!rc) {
        dense_count(m, cnt);
        rc = dense_materialize(m, c, cnt, ids);
    }
    for (int32_t o = 1; o <= m->spec.order; o++) {
        persona__free(cnt[o]);
        persona__free(ids[o]);
    }
    return rc;
}

/* The sparse walk: every position through the context trie and the pair map. */
static int count_sparse(persona_path_model *m, counter *c)
{
    uint32_t *p = NULL;
    size_t p_cap = 0;
    int rc = PERSONA_OK;
    for (uint64_t i = 0; !rc && i < m->n_sessions; i++) {
        uint64_t a = m->sess_start[i], n = m->sess_start[i + 1] - a;
        if (persona__grow((void **)&p, &p_cap, n + 2, sizeof *p, 64)) {
            rc = persona__fail_nomem();
            break;
        }
        p[0] = m->start_id;
        memcpy(p + 1, m->sess_states + a, n * sizeof *p);
        p[n + 1] = m->end_id;
        for (size_t j = 1; !rc && j <= n + 1; j++)
            rc = count_position(m, c, p, j);
    }
    persona__free(p);
    return rc;
}

static int derive(persona_path_model *m, int dense)
{
    counter c;
    memset(&c, 0, sizeof c);
    c.head = UINT32_MAX;
    persona__pairmap_init(&c.trans, m->ctx_map.seed ^ 0x5851F42D4C957F2DULL);
    uint64_t cells[PERSONA_PATH_MAX_ORDER + 1];
    int rc = dense && dense_fits(m, cells) ? count_dense(m, &c, cells) : count_sparse(m, &c);
    if (!rc)
        rc = make_lists(m, &c);
    if (!rc)
        rc = make_zero(m);
    persona__pairmap_free(&c.trans);
    persona__free(c.count);
    return rc;
}

int persona__path_derive(persona_path_model *m)
{
    return derive(m, 1);
}

int persona__path_rederive(persona_path_model *m, int dense)
{
    persona__path_drop_derived(m);
    return derive(m, dense);
}

uint32_t persona__path_context(const persona_path_model *m, const uint32_t *h, size_t n,
                               size_t max_len, size_t *len)
{
    uint32_t ctx = PATH_ROOT, best = UINT32_MAX;
    *len = 0;
    for (size_t l = 1; l <= max_len && l <= n; l++) {
        uint32_t s = h[n - l];
        if (s >= m->states.count)
            break;
        ctx = persona__pairmap_find(&m->ctx_map, PERSONA__PAIR(ctx, s));
        if (ctx == UINT32_MAX)
            break;
        best = ctx;
        *len = l;
    }
    return best;
}

static int check_order(const persona_path_model *m, int32_t order)
{
    if (order < 1 || order > m->spec.order)
        return persona__fail(PERSONA_EINVAL, "order %d: the model answers orders 1 to %d", order,
                             m->spec.order);
    return PERSONA_OK;
}

static int answer(uint32_t *states_out, double *probs_out, size_t capacity, size_t *out_len,
                  int32_t *order_out, const persona_path_model *m, const uint32_t *h, size_t n,
                  int32_t order)
{
    size_t len = 0;
    uint32_t ctx = persona__path_context(m, h, n, (size_t)order, &len);
    const uint32_t *st = m->zero_state;
    const uint64_t *cnt = m->zero_count;
    size_t k = m->n_zero;
    double total = (double)m->zero_total;
    if (ctx != UINT32_MAX) {
        uint64_t a = m->succ_start[ctx];
        st = m->succ_state + a;
        cnt = m->succ_count + a;
        k = (size_t)(m->succ_start[ctx + 1] - a);
        total = (double)m->ctx_total[ctx];
    }
    if (k > capacity)
        k = capacity;
    for (size_t i = 0; i < k; i++) {
        states_out[i] = st[i];
        probs_out[i] = (double)cnt[i] / total;
    }
    *out_len = k;
    if (order_out)
        *order_out = (int32_t)len;
    return PERSONA_OK;
}

PERSONA_API int persona_path_next(uint32_t *states_out, double *probs_out, size_t capacity,
                                  size_t *out_len, int32_t *order_out,
                                  const persona_path_model *m, const uint32_t *history,
                                  size_t n_history, int32_t order)
{
    if (!m || !out_len || (capacity && (!states_out || !probs_out)) || (n_history && !history))
        return persona__fail(PERSONA_EINVAL, "%s is NULL",
                             !m ? "model" : !out_len ? "out_len" : n_history && !history
                                                                       ? "history" : "an output array");
    int rc = check_order(m, order);
    if (rc)
        return rc;
    return answer(states_out, probs_out, capacity, out_len, order_out, m, history, n_history,
                  order);
}

/* The history of user u's latest session for a query of `order` into h (room for order
 * + 1): "(start)" then the session, of which only the newest `order` states count.
 * Returns its length. */
static size_t user_history(const persona_path_model *m, uint32_t u, int32_t order, uint32_t *h)
{
    uint64_t sess = m->user_last[u], a = m->sess_start[sess], n = m->sess_start[sess + 1] - a;
    size_t take = n < (uint64_t)order ? (size_t)n : (size_t)order, k = 0;
    if (take < (size_t)order)
        h[k++] = m->start_id;
    memcpy(h + k, m->sess_states + a + n - take, take * sizeof *h);
    return k + take;
}

PERSONA_API int persona_path_next_user(uint32_t *states_out, double *probs_out, size_t capacity,
                                       size_t *out_len, int32_t *order_out,
                                       const persona_path_model *m, const char *user,
                                       int32_t order)
{
    if (!m || !out_len || !user || (capacity && (!states_out || !probs_out)))
        return persona__fail(PERSONA_EINVAL, "%s is NULL",
                             !m ? "model" : !out_len ? "out_len" : !user ? "user" : "an output array");
    int rc = check_order(m, order);
    if (rc)
        return rc;
    uint32_t u = persona__intern_find(&m->users, user, strlen(user));
    if (u == PERSONA__NO_ID)
        return persona__fail(PERSONA_ENOTFOUND, "user \"%s\" has no session in the model", user);
    uint32_t h[PERSONA_PATH_MAX_ORDER + 1];
    size_t n = user_history(m, u, order, h);
    return answer(states_out, probs_out, capacity, out_len, order_out, m, h, n, order);
}

uint32_t persona__path_predict_user(const persona_path_model *m, const char *user, size_t len,
                                    double *prob)
{
    uint32_t u = persona__intern_find(&m->users, user, len);
    if (u == PERSONA__NO_ID)
        return PERSONA_PATH_NO_STATE;
    uint32_t h[PERSONA_PATH_MAX_ORDER + 1], state = PERSONA_PATH_NO_STATE;
    size_t n = user_history(m, u, m->spec.order, h), got = 0;
    answer(&state, prob, 1, &got, NULL, m, h, n, m->spec.order);
    return got ? state : PERSONA_PATH_NO_STATE;
}
