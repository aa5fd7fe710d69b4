/* Evaluation of one unit: its events sorted by (time, log index) — "positions" below —,
 * each with the steps it matches (smask), the step gaps it is an exclusion event for
 * (xmask) and its hold value. A loose path takes distinct events at non-decreasing times
 * (funnel.h), so which of several events at one time comes first in the log never
 * matters; only strict order follows positions.
 *
 * - Greedy (loose order, no per-step min/max, no exclusions, steps of one type sharing
 *   their predicate): from an entry, each next step takes the first event (by position)
 *   at or after the previous step's time that matches it and is not already on the path.
 *   Exact: at one time, events of one type then match the same steps (they are
 *   interchangeable), so by induction the greedy's time at every step is at most that of
 *   any path from the same entry: when the other path's event for step j is one the greedy
 *   already used, both paths are at that time and the other path holds more steps of that
 *   type there than the greedy does, so an unused event of the type is left at that time.
 *   Its path thus goes furthest, has the smallest times, and — taking the first unused
 *   event each time — the smallest positions among paths with those times. Its times only
 *   grow as the entry moves later (an entry's path, moved onto an earlier entry, stays a
 *   path as far as the window allows), so per-step lower-bound pointers only move forward:
 *   all entries cost O(n · steps). With a hold property the events are split by hold value
 *   first (a path keeps one value).
 * - Time-group DP (the other loose funnels): per entry, the events of its window form
 *   groups of equal time (only the times with an event that can take a step after the
 *   first, or an exclusion event, matter). A path is a run of blocks, each a range of
 *   consecutive steps at one group, matched to distinct events there (a small bipartite
 *   matching, trivial when no event there matches two of the steps), the steps inside a
 *   block having no min_ms; between blocks the min/max gap and the exclusions (an
 *   exclusion event at a group strictly between) apply. A forward pass finds for each group
 *   the steps a path can end a block at (R), the predecessor groups of a step forming a
 *   sliding interval: the furthest step. The path's times are then picked step by step,
 *   each at the earliest time it can take (stay at the current time while the block can
 *   grow, else the first group it can move to). When that walk reaches the furthest step
 *   its times are the smallest (every path is one of the walks it chose the earliest of);
 *   otherwise a backward pass finds the steps a block can start at and still finish (F)
 *   and those reachable after each group (A), and the walk is repeated taking only those.
 *   The positions are picked block by block (the first event that leaves the rest of the
 *   block matchable). O(window events · steps) per entry, plus the matchings.
 * - Strict order: e(i) is the event right after e(i−1), so an entry's path is a chain.
 * - Any order: the sets of events that can be matched to distinct steps form a transversal
 *   matroid, so from each entry (taken first) the greedy scan over the window (take an
 *   event when it enlarges the matching) yields the largest set, with the smallest times.
 *
 * Counting users, the unit's path is the furthest, then the one with the smallest times
 * (t1, …, tk) lexicographically, then the smallest positions: it depends on the events'
 * times and values only, not on the log order of events at one time (but in strict order). */
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
    c->zrun[c->n] = 0;
    for (int j = c->n - 1; j >= 0; j--)
        c->zrun[j] = spec->steps[j].min_ms ? 0 : c->zrun[j + 1] + 1;
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
    if (cap > SIZE_MAX / 8 / sizeof(uint64_t))
        return -1;
    uint32_t *gword = persona__realloc_array(NULL, cap * 8, sizeof *gword);
    uint32_t *skip = persona__realloc_array(NULL, cap + 1, sizeof *skip);
    uint32_t *cls = persona__realloc_array(NULL, cap * 3, sizeof *cls);
    uint8_t *vis = persona__alloc(cap);
    uint64_t *order = persona__realloc_array(NULL, cap, sizeof *order);
    if (!gword || !skip || !cls || !vis || !order) {
        persona__free(gword);
        persona__free(skip);
        persona__free(cls);
        persona__free(vis);
        persona__free(order);
        return -1;
    }
    persona__funnel_scratch_free(sc);
    sc->gword = gword;
    sc->skip = skip;
    sc->cls = cls;
    sc->vis = vis;
    sc->order = order;
    sc->cap = cap;
    sc->n_steps = n_steps;
    return 0;
}

void persona__funnel_scratch_free(funnel_scratch *sc)
{
    persona__free(sc->gword);
    persona__free(sc->skip);
    persona__free(sc->cls);
    persona__free(sc->vis);
    persona__free(sc->order);
    memset(sc, 0, sizeof *sc);
}

/* Bits a … b (0 ≤ a ≤ b ≤ 31). */
static uint32_t bit_range(int a, int b)
{
    uint32_t hi = b >= 31 ? UINT32_MAX : (1u << (b + 1)) - 1;
    return hi & ~((1u << a) - 1);
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

/* Keep the better of two unit paths: further; as far and with lexicographically smaller
 * times; the same times and lexicographically smaller positions. */
static void keep_best(funnel_path *best, const funnel_path *p, const funnel_ev *u)
{
    if (p->k != best->k) {
        if (p->k > best->k)
            *best = *p;
        return;
    }
    for (int j = 0; j < p->k; j++)
        if (u[p->pos[j]].t != u[best->pos[j]].t) {
            if (u[p->pos[j]].t < u[best->pos[j]].t)
                *best = *p;
            return;
        }
    for (int j = 0; j < p->k; j++)
        if (p->pos[j] != best->pos[j]) {
            if (p->pos[j] < best->pos[j])
                *best = *p;
            return;
        }
}

/* ---- greedy ------------------------------------------------------------------------- */

/* Whether position r is on the path at steps from … to−1. */
static int on_path(const funnel_path *p, int from, int to, uint32_t r)
{
    for (int i = from; i < to; i++)
        if (p->pos[i] == r)
            return 1;
    return 0;
}

static void greedy_seq(const funnel_ctx *c, const funnel_ev *u, size_t n, const uint64_t *seq,
                       size_t m, void *stp)
{
    (void)n;
    eval_state *st = stp;
    /* ptr[j]: the first event of step j at or after the previous entry's step j−1 time */
    size_t ptr[PERSONA_FUNNEL_MAX_STEPS] = { 0 };
    for (size_t x = 0; x < m; x++) {
        size_t s = SEQ_POS(seq, x);
        if (!persona__funnel_is_entry(c, &u[s]))
            continue;
        funnel_path p;
        p.k = 1;
        p.pos[0] = (uint32_t)s;
        int64_t tprev = u[s].t;
        int blk = 0; /* the path's steps blk … j−1 are at tprev */
        for (int j = 1; j < c->n; j++) {
            uint32_t bit = 1u << j;
            size_t y = ptr[j];
            while (y < m && (u[SEQ_POS(seq, y)].t < tprev || !(u[SEQ_POS(seq, y)].smask & bit)))
                y++;
            ptr[j] = y;
            while (y < m && (!(u[SEQ_POS(seq, y)].smask & bit) ||
                             on_path(&p, blk, j, (uint32_t)SEQ_POS(seq, y))))
                y++;
            if (y >= m || u[SEQ_POS(seq, y)].t - u[s].t > c->window)
                break;
            p.pos[j] = (uint32_t)SEQ_POS(seq, y);
            p.k = j + 1;
            if (u[p.pos[j]].t != tprev) {
                tprev = u[p.pos[j]].t;
                blk = j;
            }
        }
        if (st->per_entry) {
            st->emit(st->ctx, u, &p);
        } else {
            keep_best(&st->best, &p, u);
            if (p.k == c->n)
                break; /* later entries of this sequence cannot do better */
        }
    }
}

/* ---- strict order: chains --------------------------------------------------------------- */

static void strict_path(const funnel_ctx *c, const funnel_ev *u, size_t n, size_t s,
                        funnel_path *p)
{
    p->k = 1;
    p->pos[0] = (uint32_t)s;
    for (int j = 1; j < c->n; j++) {
        size_t r = s + (size_t)j;
        if (r >= n || !(u[r].smask >> j & 1u) || (c->hold && u[r].hold != u[s].hold) ||
            u[r].t - u[s].t > c->window)
            return;
        const funnel_match *m = &c->spec->steps[j];
        int64_t gap = u[r].t - u[r - 1].t;
        if ((m->min_ms && gap < m->min_ms) || (m->max_ms && gap > m->max_ms))
            return;
        p->pos[j] = (uint32_t)r;
        p->k = j + 1;
    }
}

/* ---- time-group DP (loose order) ------------------------------------------------------ */

typedef struct gdp {
    const funnel_ctx *c;
    const funnel_ev *u;
    size_t n;    /* events of the unit */
    size_t s;    /* the entry: step 1, at group 0 */
    uint32_t hv; /* its hold value */
    size_t G;    /* groups of the window found so far (gdp_more finds the next) */
    size_t next; /* the first position not looked at yet */
    const uint32_t *nx; /* nx[r]: the first position ≥ r with an event a group needs */
    int all;     /* all of the window's groups found */
    /* per group: gs, ge: its positions [gs, ge); R: steps a path can end a block at; F:
     * steps a block can start at and the path still reach the target; A: steps that can
     * start the next block after this group; X: exclusion gaps of its events; E: steps after
     * the first its eligible events match; N: its eligible events (up to 2), | GRP_MULTI
     * when one of them matches several of those steps */
    uint32_t *gs, *ge, *R, *F, *A, *X, *E, *N;
    funnel_scratch *sc;
} gdp;

#define GRP_COUNT 3u
#define GRP_MULTI 4u

static inline int64_t gtime(const gdp *d, size_t g)
{
    return d->u[d->gs[g]].t;
}

/* An event that can take a step of the entry's path after the first (the entry itself is
 * step 1, and no other event takes step 1). */
static inline int eligible(const gdp *d, size_t r)
{
    return r != d->s && (d->u[r].smask & ~1u) && (!d->c->hold || d->u[r].hold == d->hv);
}

/* Add the group of the events from position b at its time (to the end of that time). */
static void gdp_add(gdp *d, size_t b)
{
    const funnel_ev *u = d->u;
    size_t r = b, n = d->n, G = d->G;
    uint32_t X = 0, E = 0, N = 0;
    for (; r < n && u[r].t == u[b].t; r++) {
        X |= u[r].xmask;
        if (eligible(d, r)) {
            uint32_t m = u[r].smask & ~1u;
            E |= m;
            N += (N & GRP_COUNT) < 2;
            if (m & (m - 1))
                N |= GRP_MULTI;
        }
    }
    d->next = r;
    d->gs[G] = (uint32_t)b;
    d->ge[G] = (uint32_t)r;
    d->X[G] = X;
    d->E[G] = E;
    d->N[G] = N;
    d->R[G] = d->F[G] = d->A[G] = 0;
    d->G = G + 1;
}

/* Find the next group of the window; 0 when there is none. Only times with an event that
 * can take a step after the first or is an exclusion event are groups: no path uses the
 * other times, and the paths between groups do not depend on them. nx[r] is the first
 * position from r of such an event (of any hold value: eligible() checks). */
static int gdp_more(gdp *d)
{
    if (d->all)
        return 0;
    size_t r = d->nx[d->next];
    if (r >= d->n || d->u[r].t - d->u[d->s].t > d->c->window) {
        d->all = 1;
        return 0;
    }
    gdp_add(d, r);
    return 1;
}

static void gdp_init(gdp *d, const funnel_ctx *c, const funnel_ev *u, size_t n, size_t s,
                     funnel_scratch *sc)
{
    d->c = c;
    d->u = u;
    d->n = n;
    d->s = s;
    d->hv = u[s].hold;
    d->sc = sc;
    d->nx = sc->skip;
    uint32_t *w = sc->gword;
    d->gs = w;
    d->ge = w + sc->cap;
    d->R = w + 2 * sc->cap;
    d->F = w + 3 * sc->cap;
    d->A = w + 4 * sc->cap;
    d->X = w + 5 * sc->cap;
    d->E = w + 6 * sc->cap;
    d->N = w + 7 * sc->cap;
    size_t a = s;
    while (a > 0 && u[a - 1].t == u[s].t)
        a--;
    d->G = 0;
    d->all = 0;
    gdp_add(d, a); /* group 0: the entry's time */
}

/* Bipartite matching of steps to classes of events (events with one step mask, count). */
typedef struct kuhn {
    int nc;
    const uint32_t *mask, *cnt;
    uint32_t *load;
    uint8_t *vis;
    int8_t asg[PERSONA_FUNNEL_MAX_STEPS]; /* step -> class, -1 */
} kuhn;

static int kuhn_augment(kuhn *k, int step)
{
    for (int cl = 0; cl < k->nc; cl++) {
        if (!(k->mask[cl] >> step & 1u) || k->vis[cl])
            continue;
        k->vis[cl] = 1;
        if (k->load[cl] < k->cnt[cl]) {
            k->load[cl]++;
            k->asg[step] = (int8_t)cl;
            return 1;
        }
        for (int s2 = 0; s2 < PERSONA_FUNNEL_MAX_STEPS; s2++)
            if (k->asg[s2] == cl && kuhn_augment(k, s2)) {
                k->asg[step] = (int8_t)cl; /* s2 moved to another class */
                return 1;
            }
    }
    return 0;
}

/* The most m ≤ lim such that steps i … i+m−1 can take distinct eligible events of group g,
 * none of skip[0..ns). */
static int grp_run(const gdp *d, size_t g, int i, int lim, const uint32_t *skip, int ns)
{
    if (lim <= 0 || !(d->E[g] >> i & 1u))
        return 0;
    if (ns == 0) {
        if ((d->N[g] & GRP_COUNT) == 1)
            return 1;
        if (!(d->N[g] & GRP_MULTI)) { /* each event has one step: steps do not compete */
            int run = __builtin_ctz(~(d->E[g] >> i));
            return run < lim ? run : lim;
        }
    }
    uint32_t want = bit_range(i, i + lim - 1);
    funnel_scratch *sc = d->sc;
    uint32_t *mask = sc->cls, *cnt = sc->cls + sc->cap, *load = sc->cls + 2 * sc->cap;
    int nc = 0;
    for (size_t r = d->gs[g]; r < d->ge[g]; r++) {
        uint32_t mk = d->u[r].smask & want;
        if (!mk || !eligible(d, r))
            continue;
        int skipped = 0;
        for (int q = 0; q < ns && !skipped; q++)
            skipped = skip[q] == r;
        if (skipped)
            continue;
        int cl = 0;
        while (cl < nc && mask[cl] != mk)
            cl++;
        if (cl == nc) {
            mask[nc] = mk;
            cnt[nc] = 0;
            load[nc] = 0;
            nc++;
        }
        if (cnt[cl] < (uint32_t)lim)
            cnt[cl]++;
    }
    kuhn k;
    k.nc = nc;
    k.mask = mask;
    k.cnt = cnt;
    k.load = load;
    k.vis = sc->vis;
    memset(k.asg, -1, sizeof k.asg);
    for (int t = 0; t < lim; t++) {
        memset(k.vis, 0, (size_t)nc);
        if (!kuhn_augment(&k, i + t))
            return t;
    }
    return lim;
}

/* Count of bit b of W over the groups [lo, hi), both bounds moving one way only. */
typedef struct win {
    size_t lo, hi;
    uint32_t cnt;
} win;

static void win_forward(win *w, const uint32_t *W, int b, size_t nl, size_t nh)
{
    if (nl >= w->hi) {
        w->lo = w->hi = nl;
        w->cnt = 0;
    } else {
        for (; w->lo < nl; w->lo++)
            w->cnt -= W[w->lo] >> b & 1u;
    }
    for (; w->hi < nh; w->hi++)
        w->cnt += W[w->hi] >> b & 1u;
}

static void win_backward(win *w, const uint32_t *W, int b, size_t nl, size_t nh)
{
    if (nh <= w->lo) {
        w->lo = w->hi = nh;
        w->cnt = 0;
    } else {
        while (w->hi > nh) {
            w->hi--;
            w->cnt -= W[w->hi] >> b & 1u;
        }
    }
    while (w->lo > nl) {
        w->lo--;
        w->cnt += W[w->lo] >> b & 1u;
    }
}

/* Block length limit for a block starting at step i (no min_ms inside, at most k − i). */
static int block_lim(const funnel_ctx *c, int i, int k)
{
    int lim = 1 + c->zrun[i + 1];
    return lim < k - i ? lim : k - i;
}

/* Forward: R of every group (until the last step is reached); returns the steps reached. */
static int gdp_forward(gdp *d)
{
    const funnel_ctx *c = d->c;
    int n = c->n;
    int m0 = grp_run(d, 0, 1, block_lim(c, 0, n) - 1, NULL, 0);
    d->R[0] = bit_range(0, m0);
    int K = m0 + 1;
    if (K == n)
        return K;
    win w[PERSONA_FUNNEL_MAX_STEPS];
    size_t pl[PERSONA_FUNNEL_MAX_STEPS], ph[PERSONA_FUNNEL_MAX_STEPS];
    size_t lastx[PERSONA_FUNNEL_MAX_STEPS];
    memset(w, 0, sizeof *w * (size_t)n);
    memset(pl, 0, sizeof *pl * (size_t)n);
    memset(ph, 0, sizeof *ph * (size_t)n);
    memset(lastx, 0, sizeof *lastx * (size_t)n);
    for (size_t g = 1; g < d->G || gdp_more(d); g++) {
        int64_t T = gtime(d, g);
        uint32_t cand = d->E[g] & ~1u, cross = 0;
        for (uint32_t b = cand; b; b &= b - 1) {
            int i = __builtin_ctz(b);
            const funnel_match *m = &c->spec->steps[i];
            /* predecessor groups g' < g: T − T(g') ≥ min, ≤ max, no exclusion between */
            size_t nh = ph[i];
            while (nh < g && (!m->min_ms || T - gtime(d, nh) >= m->min_ms))
                nh++;
            ph[i] = nh;
            size_t nl = pl[i];
            if (m->max_ms)
                while (nl < g && T - gtime(d, nl) > m->max_ms)
                    nl++;
            pl[i] = nl;
            if (lastx[i] > nl)
                nl = lastx[i];
            win_forward(&w[i], d->R, i - 1, nl, nh);
            if (w[i].cnt)
                cross |= 1u << i;
        }
        uint32_t R = 0;
        for (uint32_t b = cross; b; b &= b - 1) {
            int i = __builtin_ctz(b);
            int m = grp_run(d, g, i, block_lim(c, i, n), NULL, 0);
            if (m)
                R |= bit_range(i, i + m - 1);
        }
        d->R[g] = R;
        if (R) {
            int top = 32 - __builtin_clz(R);
            if (top > K)
                K = top;
            if (K == n)
                return K;
        }
        for (uint32_t b = d->X[g]; b; b &= b - 1)
            lastx[__builtin_ctz(b)] = g;
    }
    return K;
}

/* Backward for a target of K steps: A of every group, F of every group but 0. */
static void gdp_backward(gdp *d, int K)
{
    const funnel_ctx *c = d->c;
    while (gdp_more(d))
        ;
    /* no path reaches the target after the last group with an event of step K */
    size_t G = d->G;
    while (G > 1 && !(d->E[G - 1] >> (K - 1) & 1u))
        G--;
    d->G = G;
    win w[PERSONA_FUNNEL_MAX_STEPS];
    size_t bl[PERSONA_FUNNEL_MAX_STEPS], bh[PERSONA_FUNNEL_MAX_STEPS];
    size_t fx[PERSONA_FUNNEL_MAX_STEPS];
    for (int i = 0; i < K; i++) {
        w[i].lo = w[i].hi = G;
        w[i].cnt = 0;
        bl[i] = bh[i] = fx[i] = G;
    }
    uint32_t last = 1u << (K - 1);
    for (size_t g = G; g-- > 0;) {
        if (g + 1 < G)
            for (uint32_t b = d->X[g + 1]; b; b &= b - 1)
                fx[__builtin_ctz(b)] = g + 1;
        int64_t T = gtime(d, g);
        uint32_t A = 0;
        for (int i = 1; i < K; i++) {
            const funnel_match *m = &c->spec->steps[i];
            /* successor groups g2 > g: T(g2) − T ≥ min, ≤ max, no exclusion between */
            size_t nl = g + 1;
            if (m->min_ms) {
                nl = bl[i];
                while (nl > g + 1 && gtime(d, nl - 1) - T >= m->min_ms)
                    nl--;
                bl[i] = nl;
            }
            size_t nh = bh[i];
            if (m->max_ms)
                while (nh > g + 1 && gtime(d, nh - 1) - T > m->max_ms)
                    nh--;
            bh[i] = nh;
            if (fx[i] + 1 < nh)
                nh = fx[i] + 1;
            win_backward(&w[i], d->F, i, nl, nh);
            if (w[i].cnt)
                A |= 1u << i;
        }
        d->A[g] = A;
        if (g == 0)
            break;
        uint32_t ends = (A >> 1) | last; /* bit j: a block may end at step j here */
        uint32_t F = 0;
        for (uint32_t b = d->E[g] & bit_range(1, K - 1); b; b &= b - 1) {
            int i = __builtin_ctz(b);
            int m = grp_run(d, g, i, block_lim(c, i, K), NULL, 0);
            if (m && (ends & bit_range(i, i + m - 1)))
                F |= 1u << i;
        }
        d->F[g] = F;
    }
}

/* The groups sg[] of a path of K steps with the smallest times: each step at the earliest
 * time it can take. guided = 0: among the steps the path can take next, whether or not it
 * then reaches step K — when such a walk reaches K its times are the smallest (every path
 * of K steps is one of the walks it chose the earliest of); returns the steps placed.
 * guided = 1 (after gdp_backward): only where the path can still reach step K. */
static int gdp_times(gdp *d, int K, int guided, size_t *sg)
{
    const funnel_ctx *c = d->c;
    size_t gc = 0;
    int end = grp_run(d, 0, 1, block_lim(c, 0, K) - 1, NULL, 0); /* block 1 … end */
    uint32_t ends = guided ? (d->A[0] >> 1) | 1u << (K - 1) : UINT32_MAX;
    sg[0] = 0;
    for (int j = 1; j < K; j++) {
        if (j <= end && (ends & bit_range(j, end))) {
            sg[j] = gc; /* the same time as step j−1 */
            continue;
        }
        const funnel_match *m = &c->spec->steps[j];
        int64_t T = gtime(d, gc);
        size_t g = gc + 1;
        int found = 0;
        for (; g < d->G || (!guided && gdp_more(d)); g++) {
            int64_t dt = gtime(d, g) - T;
            if (m->max_ms && dt > m->max_ms)
                break;
            if ((!m->min_ms || dt >= m->min_ms) && ((guided ? d->F[g] : d->E[g]) >> j & 1u)) {
                found = 1;
                break;
            }
            if (d->X[g] >> j & 1u) /* an exclusion here lies between gc and any later group */
                break;
        }
        if (!found)
            return j; /* guided: cannot happen, the backward pass said the path goes on */
        gc = g;
        sg[j] = g;
        end = j + grp_run(d, g, j, block_lim(c, j, K), NULL, 0) - 1;
        if (guided)
            ends = (d->A[g] >> 1) | 1u << (K - 1);
    }
    return K;
}

/* The path of K steps with the smallest times, then the smallest positions. */
static void gdp_path(gdp *d, int K, funnel_path *p)
{
    size_t sg[PERSONA_FUNNEL_MAX_STEPS];
    if (gdp_times(d, K, 0, sg) < K) {
        gdp_backward(d, K);
        K = gdp_times(d, K, 1, sg);
    }
    p->k = 1;
    p->pos[0] = (uint32_t)d->s;
    /* positions: block by block, each step the first event that leaves the block's other
     * steps matchable */
    uint32_t chosen[PERSONA_FUNNEL_MAX_STEPS];
    for (int j = 1; j < K;) {
        size_t g = sg[j];
        int e = j;
        while (e + 1 < K && sg[e + 1] == g)
            e++;
        int nch = 0;
        for (int q = j; q <= e; q++) {
            uint32_t pick = UINT32_MAX;
            for (size_t r = d->gs[g]; r < d->ge[g] && pick == UINT32_MAX; r++) {
                if (!(d->u[r].smask >> q & 1u) || !eligible(d, r))
                    continue;
                int used = 0;
                for (int t = 0; t < nch && !used; t++)
                    used = chosen[t] == r;
                if (used)
                    continue;
                chosen[nch] = (uint32_t)r;
                if (q == e || grp_run(d, g, q + 1, e - q, chosen, nch + 1) == e - q)
                    pick = (uint32_t)r;
            }
            if (pick == UINT32_MAX) { /* cannot happen */
                K = q;
                break;
            }
            chosen[nch++] = pick;
            p->pos[q] = pick;
            p->k = q + 1;
        }
        j = e + 1;
    }
}

/* The steps entry s reaches; with p, also its path. */
static int entry_eval(const funnel_ctx *c, const funnel_ev *u, size_t n, size_t s,
                      funnel_scratch *sc, funnel_path *p)
{
    if (c->strict) {
        funnel_path q;
        strict_path(c, u, n, s, &q);
        if (p)
            *p = q;
        return q.k;
    }
    gdp d;
    gdp_init(&d, c, u, n, s, sc);
    int K = gdp_forward(&d);
    if (p) {
        p->k = 1;
        p->pos[0] = (uint32_t)s;
        if (K > 1)
            gdp_path(&d, K, p);
    }
    return K;
}

static void ordered_unit(const funnel_ctx *c, const funnel_ev *u, size_t n, eval_state *st)
{
    funnel_path p;
    if (!c->strict) { /* for gdp_more */
        uint32_t *nx = st->sc->skip;
        nx[n] = (uint32_t)n;
        for (size_t r = n; r-- > 0;)
            nx[r] = (u[r].smask & ~1u) || u[r].xmask ? (uint32_t)r : nx[r + 1];
    }
    if (st->per_entry) {
        for (size_t s = 0; s < n; s++)
            if (persona__funnel_is_entry(c, &u[s])) {
                entry_eval(c, u, n, s, st->sc, &p);
                st->emit(st->ctx, u, &p);
            }
        return;
    }
    int best_k = 0;
    int64_t best_t = 0;
    for (size_t s = 0; s < n; s++) {
        if (!persona__funnel_is_entry(c, &u[s]))
            continue;
        int k = entry_eval(c, u, n, s, st->sc, NULL);
        if (k > best_k) {
            best_k = k;
            best_t = u[s].t;
            if (k == c->n)
                break;
        }
    }
    if (!best_k)
        return;
    /* the unit's path starts at the earliest time some entry reaches best_k; the entries
     * at that time may reach it with different times after */
    size_t a = 0;
    while (u[a].t != best_t)
        a++;
    for (size_t s = a; s < n && u[s].t == best_t; s++)
        if (persona__funnel_is_entry(c, &u[s]) && entry_eval(c, u, n, s, st->sc, &p) == best_k)
            keep_best(&st->best, &p, u);
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
        try_add(&mt, u[s].smask & all); /* the entry first */
        p.k = 1;
        p.pos[0] = (uint32_t)s;
        /* then the window from the entry's time on, events at that time in any log order */
        size_t y = x;
        while (y > 0 && u[SEQ_POS(seq, y - 1)].t == u[s].t)
            y--;
        for (; y < m && mt.k < c->n; y++) {
            if (y == x)
                continue;
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
            keep_best(&st->best, &p, u);
            if (p.k == c->n)
                break;
        }
    }
}

/* ---- entry point -------------------------------------------------------------------- */

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
        ordered_unit(c, u, n, &st); /* checks hold values itself */
    if (!per_entry && st.best.k)
        emit(ctx, u, &st.best);
}
