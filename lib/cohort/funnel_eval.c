/* Evaluation of one unit: its events sorted by (time, log index), each with the steps it
 * matches (smask), the step gaps it is an exclusion event for (xmask) and its hold value.
 *
 * - Greedy (loose order, no per-step min/max, no exclusions): from a start, each next step
 *   is the first matching event after the previous one; that path goes furthest and is the
 *   lexicographically earliest of its length. Next-step pointers only move forward as the
 *   start moves forward, so all starts cost O(n · steps). With a hold property the events
 *   are split by hold value first (a path keeps one value).
 * - Layered DP (everything else ordered): per start, layer j holds the events at which a
 *   path of j+1 steps can end; an event joins layer j when some member of layer j-1 lies in
 *   its predecessor range — a position interval (min/max times, the last exclusion event
 *   before it, strictness), tested with prefix counts. The lexicographically earliest path
 *   of the furthest layer is read back with a backward pass (who can still finish) and a
 *   forward pick. Cost O(window events · steps) per start.
 * - Any order: the sets of events that can be matched to distinct steps form a transversal
 *   matroid, so from each entry the greedy scan (take an event when it enlarges the
 *   matching) yields the largest set within the window, lexicographically earliest. */
#include <stdlib.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "core/alloc.h"

void persona__funnel_ctx_init(funnel_ctx *c, const funnel_spec *spec)
{
    memset(c, 0, sizeof *c);
    c->spec = spec;
    c->n = (int)spec->n_steps;
    c->window = spec->window_ms;
    c->has_from = spec->from_ms != 0;
    c->has_to = spec->to_ms != 0;
    c->from_ms = spec->from_ms;
    c->to_ms = spec->to_ms;
    c->hold = spec->hold != NULL;
    c->strict = spec->order == PERSONA_FUNNEL_STRICT;
    c->any_order = spec->order == PERSONA_FUNNEL_ANY_ORDER;
    c->greedy = !c->any_order && persona__funnel_spec_greedy(spec);
}

int persona__funnel_scratch_reserve(funnel_scratch *sc, size_t n_steps, size_t n)
{
    if (n <= sc->cap && n_steps <= sc->n_steps)
        return 0;
    size_t cap = n > sc->cap ? n : sc->cap;
    if (cap < 64)
        cap = 64;
    if (n_steps < sc->n_steps)
        n_steps = sc->n_steps;
    if (cap > SIZE_MAX / 2 / (n_steps ? n_steps : 1))
        return -1;
    uint8_t *layers = persona__alloc(cap * n_steps);
    uint32_t *prefix = persona__realloc_array(NULL, cap + 1, sizeof *prefix);
    int32_t *diff = persona__realloc_array(NULL, cap + 1, sizeof *diff);
    uint64_t *order = persona__realloc_array(NULL, cap, sizeof *order);
    if (!layers || !prefix || !diff || !order) {
        persona__free(layers);
        persona__free(prefix);
        persona__free(diff);
        persona__free(order);
        return -1;
    }
    persona__funnel_scratch_free(sc);
    sc->layers = layers;
    sc->prefix = prefix;
    sc->diff = diff;
    sc->order = order;
    sc->cap = cap;
    sc->n_steps = n_steps;
    return 0;
}

void persona__funnel_scratch_free(funnel_scratch *sc)
{
    persona__free(sc->layers);
    persona__free(sc->prefix);
    persona__free(sc->diff);
    persona__free(sc->order);
    memset(sc, 0, sizeof *sc);
}

/* ---- sequences: the whole unit, or the events of one hold value ---------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Calls fn for each sequence of positions to evaluate: all of u (seq NULL), or with a hold
 * property each hold value's events (seq = positions, ascending). */
typedef void (*seq_fn)(const funnel_ctx *c, const funnel_ev *u, size_t n, const uint64_t *seq,
                       size_t m, void *st);

static void for_each_seq(const funnel_ctx *c, const funnel_ev *u, size_t n, funnel_scratch *sc,
                         seq_fn fn, void *st)
{
    if (!c->hold) {
        fn(c, u, n, NULL, n, st);
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i].hold != FUNNEL_NO_ID && u[i].smask)
            sc->order[m++] = (uint64_t)u[i].hold << 32 | i;
    qsort(sc->order, m, sizeof *sc->order, cmp_u64);
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && sc->order[b] >> 32 == sc->order[a] >> 32)
            b++;
        fn(c, u, n, sc->order + a, b - a, st);
        a = b;
    }
}

#define SEQ_POS(seq, x) ((seq) ? (size_t)(uint32_t)(seq)[x] : (size_t)(x))

typedef struct eval_state {
    int per_entry;
    funnel_emit_fn emit;
    void *ctx;
    funnel_path best;
    funnel_scratch *sc;
} eval_state;

/* Keep the better of two unit paths: further, or as far and lexicographically earlier. */
static void keep_best(funnel_path *best, const funnel_path *p)
{
    if (p->k > best->k) {
        *best = *p;
        return;
    }
    if (p->k == best->k && p->k > 0) {
        for (int j = 0; j < p->k; j++)
            if (p->pos[j] != best->pos[j]) {
                if (p->pos[j] < best->pos[j])
                    *best = *p;
                return;
            }
    }
}

/* ---- greedy ------------------------------------------------------------------------- */

static void greedy_seq(const funnel_ctx *c, const funnel_ev *u, size_t n, const uint64_t *seq,
                       size_t m, void *stp)
{
    (void)n;
    eval_state *st = stp;
    size_t ptr[PERSONA_FUNNEL_MAX_STEPS] = { 0 };
    for (size_t x = 0; x < m; x++) {
        size_t s = SEQ_POS(seq, x);
        if (!persona__funnel_is_entry(c, &u[s]))
            continue;
        funnel_path p;
        p.k = 1;
        p.pos[0] = (uint32_t)s;
        size_t prev = x;
        for (int j = 1; j < c->n; j++) {
            size_t y = ptr[j] > prev + 1 ? ptr[j] : prev + 1;
            uint32_t bit = 1u << j;
            while (y < m && !(u[SEQ_POS(seq, y)].smask & bit))
                y++;
            ptr[j] = y;
            if (y >= m || u[SEQ_POS(seq, y)].t - u[s].t > c->window)
                break;
            p.pos[j] = (uint32_t)SEQ_POS(seq, y);
            p.k = j + 1;
            prev = y;
        }
        if (st->per_entry) {
            st->emit(st->ctx, u, &p);
        } else {
            keep_best(&st->best, &p);
            if (p.k == c->n)
                break; /* later starts of this sequence cannot do better */
        }
    }
}

/* ---- layered DP --------------------------------------------------------------------- */

/* Predecessor range of relative position r (event e = v[r]) for step j: positions
 * [*lo, *hi] relative to the start. Pointers a, b advance with r. Returns 0 when empty. */
typedef struct sweep {
    size_t a, b;  /* first position with t >= t(e) - max; positions with t <= t(e) - min */
    size_t lastx; /* last exclusion event before r (relative), valid if have_x */
    int have_x;
} sweep;

static int pred_range(const funnel_ctx *c, const funnel_ev *v, int j, size_t r, sweep *sw,
                      size_t *lo, size_t *hi)
{
    const funnel_match *m = &c->spec->steps[j];
    int64_t t = v[r].t;
    size_t l = 0, h = r - 1;
    if (c->strict)
        l = r - 1;
    if (sw->have_x && sw->lastx > l)
        l = sw->lastx;
    if (m->max_ms) {
        while (sw->a < r && v[sw->a].t < t - m->max_ms)
            sw->a++;
        if (sw->a > l)
            l = sw->a;
    }
    if (m->min_ms) {
        while (sw->b < r && v[sw->b].t <= t - m->min_ms)
            sw->b++;
        if (sw->b == 0)
            return 0;
        if (sw->b - 1 < h)
            h = sw->b - 1;
    }
    *lo = l;
    *hi = h;
    return l <= h;
}

static void sweep_after(sweep *sw, const funnel_ev *v, size_t r, uint32_t bit)
{
    if (v[r].xmask & bit) {
        sw->lastx = r;
        sw->have_x = 1;
    }
}

static int step_ok(const funnel_ctx *c, const funnel_ev *v, size_t r, int j)
{
    return (v[r].smask >> j & 1u) && (!c->hold || v[r].hold == v[0].hold);
}

/* Layers of the paths from v[0] over v[0..w): returns the steps reached. */
static int dp_layers(const funnel_ctx *c, const funnel_ev *v, size_t w, funnel_scratch *sc)
{
    uint8_t *L0 = sc->layers;
    memset(L0, 0, w);
    L0[0] = 1;
    int k = 1;
    for (int j = 1; j < c->n; j++) {
        const uint8_t *P = sc->layers + (size_t)(j - 1) * sc->cap;
        uint8_t *R = sc->layers + (size_t)j * sc->cap;
        uint32_t *pre = sc->prefix;
        pre[0] = 0;
        for (size_t x = 0; x < w; x++)
            pre[x + 1] = pre[x] + P[x];
        if (pre[w] == 0)
            break;
        sweep sw = { 0, 0, 0, 0 };
        uint32_t bit = 1u << j;
        int any = 0;
        R[0] = 0;
        sweep_after(&sw, v, 0, bit);
        for (size_t r = 1; r < w; r++) {
            size_t lo, hi;
            uint8_t ok = 0;
            if (step_ok(c, v, r, j) && pred_range(c, v, j, r, &sw, &lo, &hi))
                ok = pre[hi + 1] - pre[lo] > 0;
            R[r] = ok;
            any |= ok;
            sweep_after(&sw, v, r, bit);
        }
        if (!any)
            break;
        k = j + 1;
    }
    return k;
}

/* The lexicographically earliest path of k steps from v[0] (layers filled by dp_layers):
 * positions relative to v. */
static void dp_path(const funnel_ctx *c, const funnel_ev *v, size_t w, int k, funnel_scratch *sc,
                    uint32_t *pos)
{
    /* Backward: keep in layer j-1 only the events some kept event of layer j can follow. */
    for (int j = k - 1; j >= 1; j--) {
        uint8_t *P = sc->layers + (size_t)(j - 1) * sc->cap;
        const uint8_t *R = sc->layers + (size_t)j * sc->cap;
        int32_t *d = sc->diff;
        memset(d, 0, (w + 1) * sizeof *d);
        sweep sw = { 0, 0, 0, 0 };
        uint32_t bit = 1u << j;
        sweep_after(&sw, v, 0, bit);
        for (size_t r = 1; r < w; r++) {
            size_t lo, hi;
            if (R[r] && pred_range(c, v, j, r, &sw, &lo, &hi)) {
                d[lo]++;
                d[hi + 1]--;
            }
            sweep_after(&sw, v, r, bit);
        }
        int32_t cover = 0;
        for (size_t x = 0; x < w; x++) {
            cover += d[x];
            if (!cover)
                P[x] = 0;
        }
    }
    /* Forward: each next step is the earliest kept event the previous one can precede. */
    pos[0] = 0;
    for (int j = 1; j < k; j++) {
        const uint8_t *R = sc->layers + (size_t)j * sc->cap;
        sweep sw = { 0, 0, 0, 0 };
        uint32_t bit = 1u << j;
        size_t prev = pos[j - 1];
        sweep_after(&sw, v, 0, bit);
        for (size_t r = 1; r < w; r++) {
            size_t lo, hi;
            if (R[r] && pred_range(c, v, j, r, &sw, &lo, &hi) && r > prev && lo <= prev &&
                prev <= hi) {
                pos[j] = (uint32_t)r;
                break;
            }
            sweep_after(&sw, v, r, bit);
        }
    }
}

/* Events within the window of start s: u[s .. s + w). */
static size_t window_len(const funnel_ctx *c, const funnel_ev *u, size_t n, size_t s)
{
    size_t e = s + 1;
    while (e < n && u[e].t - u[s].t <= c->window)
        e++;
    return e - s;
}

static void dp_unit(const funnel_ctx *c, const funnel_ev *u, size_t n, eval_state *st)
{
    size_t best_s = 0;
    int best_k = 0;
    for (size_t s = 0; s < n; s++) {
        if (!persona__funnel_is_entry(c, &u[s]))
            continue;
        size_t w = window_len(c, u, n, s);
        int k = dp_layers(c, u + s, w, st->sc);
        if (st->per_entry) {
            funnel_path p;
            p.k = k;
            dp_path(c, u + s, w, k, st->sc, p.pos);
            for (int j = 0; j < k; j++)
                p.pos[j] += (uint32_t)s;
            st->emit(st->ctx, u, &p);
            continue;
        }
        if (k > best_k) {
            best_k = k;
            best_s = s;
            if (k == c->n)
                break;
        }
    }
    if (!st->per_entry && best_k) {
        size_t w = window_len(c, u, n, best_s);
        funnel_path p;
        p.k = dp_layers(c, u + best_s, w, st->sc);
        dp_path(c, u + best_s, w, p.k, st->sc, p.pos);
        for (int j = 0; j < p.k; j++)
            p.pos[j] += (uint32_t)best_s;
        st->best = p;
    }
}

/* ---- any order ---------------------------------------------------------------------- */

/* A matching of chosen events to distinct steps. */
typedef struct matching {
    uint32_t mask[PERSONA_FUNNEL_MAX_STEPS]; /* steps each chosen event matches */
    int step_of[PERSONA_FUNNEL_MAX_STEPS];   /* chosen event -> its step */
    int owner[PERSONA_FUNNEL_MAX_STEPS];     /* step -> chosen event, -1 */
    uint32_t used;                           /* steps owned */
    int k;
} matching;

static int augment(matching *mt, int ev, uint32_t *seen)
{
    uint32_t m = mt->mask[ev] & ~*seen;
    while (m) {
        int b = __builtin_ctz(m);
        m &= m - 1;
        *seen |= 1u << b;
        if (mt->owner[b] < 0 || augment(mt, mt->owner[b], seen)) {
            mt->owner[b] = ev;
            mt->step_of[ev] = b;
            return 1;
        }
    }
    return 0;
}

/* Add an event with step mask m when it enlarges the matching; 1 if added. */
static int try_add(matching *mt, uint32_t m)
{
    int ev = mt->k;
    mt->mask[ev] = m;
    uint32_t free_steps = m & ~mt->used;
    if (free_steps) {
        int b = __builtin_ctz(free_steps);
        mt->owner[b] = ev;
        mt->step_of[ev] = b;
    } else {
        uint32_t seen = 0;
        int owner[PERSONA_FUNNEL_MAX_STEPS], step_of[PERSONA_FUNNEL_MAX_STEPS];
        memcpy(owner, mt->owner, sizeof owner);
        memcpy(step_of, mt->step_of, sizeof step_of);
        if (!augment(mt, ev, &seen)) {
            memcpy(mt->owner, owner, sizeof owner);
            memcpy(mt->step_of, step_of, sizeof step_of);
            return 0;
        }
    }
    /* an augmenting path re-assigns owned steps and takes one free step at its end */
    mt->used = 0;
    for (int b = 0; b < PERSONA_FUNNEL_MAX_STEPS; b++)
        if (mt->owner[b] >= 0)
            mt->used |= 1u << b;
    mt->k++;
    return 1;
}

static void any_seq(const funnel_ctx *c, const funnel_ev *u, size_t n, const uint64_t *seq,
                    size_t m, void *stp)
{
    (void)n;
    eval_state *st = stp;
    uint32_t all = c->n == 32 ? UINT32_MAX : (1u << c->n) - 1;
    for (size_t x = 0; x < m; x++) {
        size_t s = SEQ_POS(seq, x);
        if (!persona__funnel_is_entry(c, &u[s]))
            continue;
        matching mt;
        memset(mt.owner, 0xFF, sizeof mt.owner);
        mt.used = 0;
        mt.k = 0;
        uint32_t rejected[16];
        int n_rej = 0;
        funnel_path p;
        p.k = 0;
        for (size_t y = x; y < m && mt.k < c->n; y++) {
            const funnel_ev *e = &u[SEQ_POS(seq, y)];
            if (e->t - u[s].t > c->window)
                break;
            uint32_t em = e->smask & all;
            if (!em)
                continue;
            int skip = 0;
            for (int r = 0; r < n_rej && !skip; r++)
                skip = (em & ~rejected[r]) == 0;
            if (skip)
                continue;
            if (try_add(&mt, em))
                p.pos[p.k++] = (uint32_t)SEQ_POS(seq, y);
            else if (n_rej < 16)
                rejected[n_rej++] = em;
        }
        if (st->per_entry) {
            st->emit(st->ctx, u, &p);
        } else {
            keep_best(&st->best, &p);
            if (p.k == c->n)
                break;
        }
    }
}

/* ---- entry point -------------------------------------------------------------------- */

static void dp_seq(const funnel_ctx *c, const funnel_ev *u, size_t n, const uint64_t *seq,
                   size_t m, void *stp)
{
    (void)seq;
    (void)m;
    dp_unit(c, u, n, stp);
}

void persona__funnel_eval(const funnel_ctx *c, const funnel_ev *u, size_t n,
                          funnel_scratch *sc, int per_entry, funnel_emit_fn emit, void *ctx)
{
    eval_state st;
    memset(&st, 0, sizeof st);
    st.per_entry = per_entry;
    st.emit = emit;
    st.ctx = ctx;
    st.sc = sc;
    if (c->any_order)
        for_each_seq(c, u, n, sc, any_seq, &st);
    else if (c->greedy)
        for_each_seq(c, u, n, sc, greedy_seq, &st);
    else
        dp_seq(c, u, n, NULL, n, &st); /* the DP checks hold values itself */
    if (!per_entry && st.best.k)
        emit(ctx, u, &st.best);
}
