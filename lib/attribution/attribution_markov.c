/* The Markov removal-effect model (ChannelAttribution's definition).
 *
 * States of order k: after the i-th touchpoint of a path (1-based) the tuple of its last
 * min(i, k) channels; state 0 is the start. Every path, weighted by its journeys
 * (conversions + nulls), walks start -> s_1 -> … -> s_n and ends in conversion (its
 * conversions, with its value) or null (its nulls). Transition probabilities are the
 * counts normalised per state, so with N_s the journeys passing through s:
 *     x_s = Σ_t p_st x_t + conv_s / N_s          (probability of converting from s)
 *     y_s = Σ_t p_st y_t + value_s / N_s         (expected conversion value from s)
 * P = Σ_t p_0t x_t and E = Σ_t p_0t y_t. Removing channel c fixes x = y = 0 in every
 * state whose tuple holds c (transitions into them go to null).
 *
 * Self-loops are solved exactly before either solver: x_s = (…) / (1 − p_ss) is the
 * same as dividing a state's other counts by the journeys that leave it (its count less
 * its self-loops), an integer — computing 1 − p_ss in floating point instead loses every
 * digit when a state loops almost surely (fuzzing found a removal effect below 0 so).
 *
 * Solve: with at most ATTR_DENSE_MAX states (besides the start) directly — Gaussian
 * elimination with partial pivoting of (I − Q) over the states kept, both right-hand sides
 * at once. Above that, Gauss–Seidel sweeps over the states from the newest to the oldest
 * (paths mostly lead to states made after them, so one sweep is close to a back
 * substitution); starting from 0 the iterates rise monotonically to the solution. Sweeps stop when no x or y
 * changes by more than 1e-15 times the largest |x| / |y| (at most ATTR_MAX_SWEEPS).
 * Single-threaded, fixed order: the same bits on every run. */
#include <math.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/pairmap.h"

#define ATTR_TOL 1e-15
#define ATTR_MAX_SWEEPS 100000
#define ATTR_DENSE_MAX 256

typedef struct chain {
    persona__intern states; /* tuple bytes -> id; id 0 = start (empty key) */
    persona__pairmap edges; /* (from, to) -> entry */
    uint64_t *w;            /* per entry */
    uint32_t *head;         /* per state: newest edge out of it */
    uint64_t *conv, *nulls; /* per state: journeys ending there */
    double *value;
    size_t cap_states, cap_w;
    /* solver form */
    uint64_t *row;  /* states + 1 */
    uint32_t *col;  /* targets other than the state itself */
    double *prob;
    double *r, *v; /* per state */
} chain;

static void chain_free(chain *ch)
{
    persona__intern_free(&ch->states);
    persona__pairmap_free(&ch->edges);
    persona__free(ch->w);
    persona__free(ch->head);
    persona__free(ch->conv);
    persona__free(ch->nulls);
    persona__free(ch->value);
    persona__free(ch->row);
    persona__free(ch->col);
    persona__free(ch->prob);
    persona__free(ch->r);
    persona__free(ch->v);
}

/* Id of a state, made with zeroed counters when new; NO_ID on allocation failure. */
static uint32_t state_of(chain *ch, const uint32_t *tuple, size_t len)
{
    const char *key = (const char *)tuple;
    size_t klen = len * sizeof *tuple;
    uint64_t h = persona__hash(&ch->states.key, key, klen);
    uint32_t id = persona__intern_find_h(&ch->states, key, klen, h);
    if (id != PERSONA__NO_ID)
        return id;
    const attr_array arrays[] = { { (void **)&ch->head, sizeof *ch->head },
                                  { (void **)&ch->conv, sizeof *ch->conv },
                                  { (void **)&ch->nulls, sizeof *ch->nulls },
                                  { (void **)&ch->value, sizeof *ch->value } };
    if (persona__attr_grow(arrays, 4, &ch->cap_states, ch->states.count + 1, 64))
        return PERSONA__NO_ID;
    id = persona__intern_add_h(&ch->states, key, klen, h);
    if (id == PERSONA__NO_ID)
        return id;
    ch->head[id] = UINT32_MAX;
    ch->conv[id] = ch->nulls[id] = 0;
    ch->value[id] = 0;
    return id;
}

static int edge_add(chain *ch, uint32_t from, uint32_t to, uint64_t w)
{
    uint64_t key = PERSONA__PAIR(from, to);
    uint32_t e = persona__pairmap_find(&ch->edges, key);
    if (e == UINT32_MAX) {
        if (persona__pairmap_reserve(&ch->edges, 1) ||
            persona__grow((void **)&ch->w, &ch->cap_w, ch->edges.count + 1, sizeof *ch->w, 64))
            return -1;
        e = persona__pairmap_add(&ch->edges, key, &ch->head[from]);
        ch->w[e] = 0;
    }
    ch->w[e] += w;
    return 0;
}

static int walk(chain *ch, const persona_attribution *a, int order)
{
    uint32_t none = 0;
    if (state_of(ch, &none, 0) != 0)
        return persona__fail_nomem();
    for (size_t p = 0; p < a->n_paths; p++) {
        const uint32_t *t = a->touch + a->start[p];
        size_t n = (size_t)(a->start[p + 1] - a->start[p]);
        uint64_t w = a->conv[p] + a->nulls[p];
        uint32_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            size_t lo = i + 1 > (size_t)order ? i + 1 - (size_t)order : 0;
            uint32_t s = state_of(ch, t + lo, i + 1 - lo);
            if (s == PERSONA__NO_ID || edge_add(ch, prev, s, w))
                return persona__fail_nomem();
            prev = s;
        }
        ch->conv[prev] += a->conv[p];
        ch->nulls[prev] += a->nulls[p];
        ch->value[prev] += a->value[p];
    }
    return PERSONA_OK;
}

/* The transition lists as probabilities of the journeys leaving each state (self-loops
 * eliminated). */
static int solver_form(chain *ch)
{
    size_t S = ch->states.count, E = ch->edges.count;
    ch->row = persona__realloc_array(NULL, S + 1, sizeof *ch->row);
    ch->col = persona__realloc_array(NULL, E ? E : 1, sizeof *ch->col);
    ch->prob = persona__realloc_array(NULL, E ? E : 1, sizeof *ch->prob);
    ch->r = persona__calloc(S, sizeof *ch->r);
    ch->v = persona__calloc(S, sizeof *ch->v);
    if (!ch->row || !ch->col || !ch->prob || !ch->r || !ch->v)
        return persona__fail_nomem();
    uint64_t k = 0;
    for (size_t s = 0; s < S; s++) {
        ch->row[s] = k;
        uint64_t leaving = ch->conv[s] + ch->nulls[s];
        for (uint32_t e = ch->head[s]; e != UINT32_MAX; e = ch->edges.next[e])
            leaving += PERSONA__PAIR_X(ch->edges.keys[e]) != s ? ch->w[e] : 0;
        double N = (double)leaving;
        for (uint32_t e = ch->head[s]; e != UINT32_MAX; e = ch->edges.next[e]) {
            uint32_t to = PERSONA__PAIR_X(ch->edges.keys[e]);
            if (to == s)
                continue;
            ch->col[k] = to;
            ch->prob[k++] = (double)ch->w[e] / N;
        }
        ch->r[s] = (double)ch->conv[s] / N;
        ch->v[s] = ch->value[s] / N;
    }
    ch->row[S] = k;
    return PERSONA_OK;
}

/* P and E from x and y (the start's transitions). */
static void from_start(const chain *ch, const double *x, const double *y, double *P, double *E)
{
    double p = 0, e = 0;
    for (uint64_t k = ch->row[0]; k < ch->row[1]; k++) {
        p += ch->prob[k] * x[ch->col[k]];
        e += ch->prob[k] * y[ch->col[k]];
    }
    *P = p;
    *E = e;
}

/* P and E with the states flagged in `removed` held at 0, directly: M (room for
 * (S − 1) × (S + 1) doubles) receives (I − Q | r | v) over the kept states, eliminated
 * with partial pivoting. idx: room for S entries. */
static void solve_dense(const chain *ch, const uint8_t *removed, double *M, uint32_t *idx,
                        double *x, double *y, double *P, double *E)
{
    size_t S = ch->states.count, m = 0;
    for (size_t s = 1; s < S; s++)
        idx[s] = removed[s] ? UINT32_MAX : (uint32_t)m++;
    size_t w = m + 2; /* row width: the matrix, then r and v */
    memset(M, 0, m * w * sizeof *M);
    for (size_t s = 1; s < S; s++) {
        if (removed[s])
            continue;
        double *row = M + idx[s] * w;
        row[idx[s]] = 1;
        for (uint64_t k = ch->row[s]; k < ch->row[s + 1]; k++)
            if (!removed[ch->col[k]])
                row[idx[ch->col[k]]] -= ch->prob[k];
        row[m] = ch->r[s];
        row[m + 1] = ch->v[s];
    }
    for (size_t c = 0; c < m; c++) {
        size_t piv = c;
        for (size_t i = c + 1; i < m; i++)
            if (fabs(M[i * w + c]) > fabs(M[piv * w + c]))
                piv = i;
        if (piv != c)
            for (size_t j = c; j < w; j++) {
                double t = M[c * w + j];
                M[c * w + j] = M[piv * w + j];
                M[piv * w + j] = t;
            }
        double d = M[c * w + c];
        for (size_t i = c + 1; i < m; i++) {
            double f = M[i * w + c] / d;
            if (f == 0)
                continue;
            for (size_t j = c; j < w; j++)
                M[i * w + j] -= f * M[c * w + j];
        }
    }
    for (size_t c = m; c-- > 0;) { /* back substitution, in place of r and v */
        double sx = M[c * w + m], sy = M[c * w + m + 1];
        for (size_t j = c + 1; j < m; j++) {
            sx -= M[c * w + j] * M[j * w + m];
            sy -= M[c * w + j] * M[j * w + m + 1];
        }
        M[c * w + m] = sx / M[c * w + c];
        M[c * w + m + 1] = sy / M[c * w + c];
    }
    x[0] = y[0] = 0;
    for (size_t s = 1; s < S; s++) {
        x[s] = removed[s] ? 0 : M[idx[s] * w + m];
        y[s] = removed[s] ? 0 : M[idx[s] * w + m + 1];
    }
    from_start(ch, x, y, P, E);
}

/* P and E with the states flagged in `removed` held at 0, by Gauss–Seidel sweeps. */
static void solve(const chain *ch, const uint8_t *removed, double *x, double *y, double *P,
                  double *E)
{
    size_t S = ch->states.count;
    memset(x, 0, S * sizeof *x);
    memset(y, 0, S * sizeof *y);
    for (int sweep = 0; sweep < ATTR_MAX_SWEEPS; sweep++) {
        double dx = 0, dy = 0, mx = 0, my = 0;
        for (size_t s = S; s-- > 1;) {
            if (removed[s])
                continue;
            double sx = ch->r[s], sy = ch->v[s];
            for (uint64_t k = ch->row[s]; k < ch->row[s + 1]; k++) {
                sx += ch->prob[k] * x[ch->col[k]];
                sy += ch->prob[k] * y[ch->col[k]];
            }
            dx = fmax(dx, fabs(sx - x[s]));
            dy = fmax(dy, fabs(sy - y[s]));
            mx = fmax(mx, fabs(sx));
            my = fmax(my, fabs(sy));
            x[s] = sx;
            y[s] = sy;
        }
        if (dx <= ATTR_TOL * mx && dy <= ATTR_TOL * my)
            break;
    }
    from_start(ch, x, y, P, E);
}

/* For each channel, the states whose tuple holds it: states_of[by[c] .. by[c + 1]). */
static int states_by_channel(const chain *ch, size_t C, uint64_t **by_out, uint32_t **of_out)
{
    size_t S = ch->states.count;
    uint64_t *by = persona__calloc(C + 1, sizeof *by);
    uint32_t *tuple_seen = persona__realloc_array(NULL, C ? C : 1, sizeof *tuple_seen);
    uint32_t *of = NULL;
    if (!by || !tuple_seen)
        goto nomem;
    for (size_t c = 0; c < C; c++)
        tuple_seen[c] = UINT32_MAX;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t c = 0; c < C; c++)
            tuple_seen[c] = UINT32_MAX;
        for (size_t s = 1; s < S; s++) {
            size_t len = persona__intern_len(&ch->states, (uint32_t)s) / sizeof(uint32_t);
            uint32_t t[PERSONA_ATTRIBUTION_MAX_ORDER];
            memcpy(t, persona__intern_str(&ch->states, (uint32_t)s), len * sizeof *t);
            for (size_t i = 0; i < len; i++) {
                if (tuple_seen[t[i]] == s)
                    continue;
                tuple_seen[t[i]] = (uint32_t)s;
                if (pass == 0)
                    by[t[i] + 1]++;
                else
                    of[by[t[i]]++] = (uint32_t)s;
            }
        }
        if (pass == 0) {
            for (size_t c = 0; c < C; c++)
                by[c + 1] += by[c];
            if (!(of = persona__realloc_array(NULL, by[C] ? by[C] : 1, sizeof *of)))
                goto nomem;
        } else {
            for (size_t c = C; c > 0; c--) /* the fill moved each start to the next one's */
                by[c] = by[c - 1];
            by[0] = 0;
        }
    }
    persona__free(tuple_seen);
    *by_out = by;
    *of_out = of;
    return PERSONA_OK;
nomem:
    persona__free(by);
    persona__free(tuple_seen);
    persona__free(of);
    return persona__fail_nomem();
}

int persona__attribution_markov(double *conv_out, double *value_out, double *re_out,
                                double *re_value_out, const persona_attribution *a, int order)
{
    size_t C = a->channels.count;
    double total_conv = 0, total_value = 0;
    for (size_t p = 0; p < a->n_paths; p++) {
        total_conv += (double)a->conv[p];
        total_value += a->value[p];
    }
    if (total_conv == 0)
        return PERSONA_OK; /* outputs are zeroed */
    chain ch;
    memset(&ch, 0, sizeof ch);
    persona__intern_init(&ch.states, persona__hash_key_from_seed(0));
    persona__pairmap_init(&ch.edges, 0x9E3779B97F4A7C15ULL);
    uint64_t *by = NULL;
    uint32_t *of = NULL;
    double *x = NULL, *y = NULL, *M = NULL;
    uint32_t *idx = NULL;
    uint8_t *removed = NULL;
    int rc = walk(&ch, a, order);
    if (!rc)
        rc = solver_form(&ch);
    if (!rc)
        rc = states_by_channel(&ch, C, &by, &of);
    if (!rc) {
        size_t S = ch.states.count;
        x = persona__realloc_array(NULL, S, sizeof *x);
        y = persona__realloc_array(NULL, S, sizeof *y);
        removed = persona__calloc(S, 1);
        if (S - 1 <= ATTR_DENSE_MAX) {
            M = persona__realloc_array(NULL, (S - 1) * (S + 1) + 1, sizeof *M);
            idx = persona__realloc_array(NULL, S, sizeof *idx);
        }
        if (!x || !y || !removed || (S - 1 <= ATTR_DENSE_MAX && (!M || !idx)))
            rc = persona__fail_nomem();
    }
    if (!rc) {
        double P, E, sum = 0, sum_v = 0;
        if (M)
            solve_dense(&ch, removed, M, idx, x, y, &P, &E);
        else
            solve(&ch, removed, x, y, &P, &E);
        for (size_t c = 0; c < C; c++) {
            for (uint64_t k = by[c]; k < by[c + 1]; k++)
                removed[of[k]] = 1;
            double Pc, Ec;
            if (M)
                solve_dense(&ch, removed, M, idx, x, y, &Pc, &Ec);
            else
                solve(&ch, removed, x, y, &Pc, &Ec);
            for (uint64_t k = by[c]; k < by[c + 1]; k++)
                removed[of[k]] = 0;
            re_out[c] = P > 0 ? 1 - Pc / P : 0;
            re_value_out[c] = E != 0 ? 1 - Ec / E : 0;
            sum += re_out[c];
            sum_v += re_value_out[c];
        }
        for (size_t c = 0; c < C; c++) {
            conv_out[c] = sum > 0 ? total_conv * re_out[c] / sum : 0;
            value_out[c] = sum_v != 0 ? total_value * re_value_out[c] / sum_v : 0;
        }
    }
    persona__free(x);
    persona__free(y);
    persona__free(removed);
    persona__free(M);
    persona__free(idx);
    persona__free(by);
    persona__free(of);
    chain_free(&ch);
    return rc;
}
