/* persona_funnel_build: one scan of the event log under the store's read lock.
 *
 * The events that matter (of a step or exclusion type; every event for strict order and
 * sessions) are grouped by profile with a counting sort — count per profile, prefix sums,
 * scatter in log order — so each profile's events end up contiguous and in log order; a
 * stable sort by time (a no-op when they arrived in time order) gives the unit order
 * (time, then log index). Each profile is then evaluated on its own (funnel_eval.c) and
 * its path recorded: step counts, the times between steps, the trend period of its entry
 * and the user's stage.
 *
 * Fast path (loose order, no predicates, no min/max, no exclusions, no hold property,
 * counting users): the events are packed into one 64-bit word each — time above, the
 * step class below —, sorted by (time, class) and evaluated by the greedy with
 * forward-only pointers (only the times of the path matter there, and events of one class
 * at one time are interchangeable). */
#include <stdlib.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "cohort/period.h"
#include "core/alloc.h"
#include "core/error.h"
#include "store/store_internal.h"


/* ---- results being collected --------------------------------------------------------- */

typedef struct acc {
    persona_funnel *f;
    int n;
    int64_t *times[PERSONA_FUNNEL_MAX_STEPS];
    size_t n_times[PERSONA_FUNNEL_MAX_STEPS], cap_times[PERSONA_FUNNEL_MAX_STEPS];
    int64_t *trend; /* 2 · period + converted, per unit */
    size_t n_trend, cap_trend;
    uint8_t *stage; /* per profile */
    persona__period_days days;
    uint32_t root; /* the profile being evaluated */
    int failed;
} acc;

static int push_i64(int64_t **a, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap && persona__grow((void **)a, cap, *n + 1, sizeof **a, 1024))
        return -1;
    (*a)[(*n)++] = v;
    return 0;
}

/* A unit reached k steps along events at times t[0..k). */
static void acc_path(acc *a, const int64_t *t, int k)
{
    if (k < 1)
        return;
    persona_funnel *f = a->f;
    for (int j = 0; j < k; j++)
        f->units[j]++;
    for (int j = 1; j < k; j++)
        if (push_i64(&a->times[j], &a->n_times[j], &a->cap_times[j], t[j] - t[j - 1]))
            a->failed = 1;
    int64_t p = persona__period_days_of(&a->days, t[0]);
    if (push_i64(&a->trend, &a->n_trend, &a->cap_trend, p * 2 + (k == a->n)))
        a->failed = 1;
    if (a->stage[a->root] < k)
        a->stage[a->root] = (uint8_t)k;
}

static void acc_emit(void *ctx, const funnel_ev *u, const funnel_path *path)
{
    int64_t t[PERSONA_FUNNEL_MAX_STEPS];
    for (int j = 0; j < path->k; j++)
        t[j] = u[path->pos[j]].t;
    acc_path(ctx, t, path->k);
}

static void acc_free(acc *a)
{
    for (int j = 0; j < PERSONA_FUNNEL_MAX_STEPS; j++)
        persona__free(a->times[j]);
    persona__free(a->trend);
    persona__free(a->stage);
    persona__period_days_free(&a->days);
}

/* ---- matching events ----------------------------------------------------------------- */

enum { PROP_NONE, PROP_ITEM, PROP_COL, PROP_NEVER };

/* Where an event's value of a property is: its item, a log column, or nowhere. */
typedef struct prop_ref {
    int kind;
    int col;
} prop_ref;

static prop_ref find_prop(const persona_store *s, const char *name)
{
    prop_ref r = { PROP_NONE, -1 };
    if (!name)
        return r;
    if (strcmp(name, "item") == 0) {
        r.kind = PROP_ITEM;
        return r;
    }
    uint32_t id = persona__intern_find(&s->names, name, strlen(name));
    r.col = id == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, id);
    r.kind = r.col < 0 ? PROP_NEVER : PROP_COL;
    return r;
}

static inline uint32_t prop_value(const prop_ref *r, const log_chunk *c, size_t k)
{
    switch (r->kind) {
    case PROP_ITEM: return c->item ? c->item[k] : LOG_NO_ID;
    case PROP_COL: return c->props[r->col] ? c->props[r->col][k] : LOG_NO_ID;
    default: return LOG_NO_ID;
    }
}

/* A step or exclusion with a predicate. */
typedef struct pred {
    uint32_t type;
    prop_ref prop;
    uint32_t value; /* id of where_value in items / values, NO_ID when never seen */
    int32_t op;
    uint32_t smask, xmask;
} pred;

typedef struct matcher {
    size_t n_types;
    uint32_t *smask, *xmask; /* per type: steps / exclusion gaps matched without predicate */
    uint8_t *relevant;       /* per type: named by a step or an exclusion */
    uint8_t *has_pred;
    pred preds[PERSONA_FUNNEL_MAX_STEPS * 2];
    pred *xpreds; /* exclusions beyond the fixed room */
    size_t n_preds;
    prop_ref hold;
    int any_pred;
} matcher;

static void matcher_free(matcher *m)
{
    persona__free(m->smask);
    persona__free(m->xmask);
    persona__free(m->relevant);
    persona__free(m->has_pred);
    persona__free(m->xpreds);
}

static uint32_t gap_mask(uint32_t from, uint32_t to)
{
    uint32_t m = 0;
    for (uint32_t j = from + 1; j <= to; j++)
        m |= 1u << j;
    return m;
}

static pred *pred_slot(matcher *m)
{
    size_t i = m->n_preds++;
    return i < PERSONA_FUNNEL_MAX_STEPS * 2 ? &m->preds[i]
                                            : &m->xpreds[i - PERSONA_FUNNEL_MAX_STEPS * 2];
}

static const pred *pred_at(const matcher *m, size_t i)
{
    return i < PERSONA_FUNNEL_MAX_STEPS * 2 ? &m->preds[i]
                                            : &m->xpreds[i - PERSONA_FUNNEL_MAX_STEPS * 2];
}

static void add_match(matcher *m, const persona_store *s, const funnel_match *fm, uint32_t smask,
                      uint32_t xmask)
{
    uint32_t type = persona__intern_find(&s->types, fm->type, strlen(fm->type));
    if (type == PERSONA__NO_ID)
        return; /* a type the store never saw: nothing matches */
    m->relevant[type] = 1;
    if (!fm->where_property) {
        m->smask[type] |= smask;
        m->xmask[type] |= xmask;
        return;
    }
    pred *p = pred_slot(m);
    p->type = type;
    p->prop = find_prop(s, fm->where_property);
    const persona__intern *t = p->prop.kind == PROP_ITEM ? &s->items : &s->values;
    p->value = persona__intern_find(t, fm->where_value, strlen(fm->where_value));
    p->op = fm->where_op;
    p->smask = smask;
    p->xmask = xmask;
    m->has_pred[type] = 1;
    m->any_pred = 1;
}

static int matcher_init(matcher *m, const persona_store *s, const funnel_spec *spec)
{
    memset(m, 0, sizeof *m);
    m->n_types = s->types.count;
    size_t nt = m->n_types ? m->n_types : 1;
    m->smask = persona__calloc(nt, sizeof *m->smask);
    m->xmask = persona__calloc(nt, sizeof *m->xmask);
    m->relevant = persona__calloc(nt, 1);
    m->has_pred = persona__calloc(nt, 1);
    if (spec->n_steps + spec->n_excl > PERSONA_FUNNEL_MAX_STEPS * 2)
        m->xpreds = persona__calloc(spec->n_steps + spec->n_excl, sizeof *m->xpreds);
    if (!m->smask || !m->xmask || !m->relevant || !m->has_pred ||
        (spec->n_steps + spec->n_excl > PERSONA_FUNNEL_MAX_STEPS * 2 && !m->xpreds))
        return -1;
    for (size_t j = 0; j < spec->n_steps; j++)
        add_match(m, s, &spec->steps[j], 1u << j, 0);
    for (size_t i = 0; i < spec->n_excl; i++)
        add_match(m, s, &spec->excl[i].ev, 0, gap_mask(spec->excl[i].from, spec->excl[i].to));
    m->hold = find_prop(s, spec->hold);
    return 0;
}

/* Steps, exclusion gaps and hold value of event k of chunk c (type known relevant). */
static inline void match_event(const matcher *m, const log_chunk *c, size_t k, uint32_t type,
                               funnel_ev *e)
{
    uint32_t sm = m->smask[type], xm = m->xmask[type];
    if (m->has_pred[type]) {
        for (size_t i = 0; i < m->n_preds; i++) {
            const pred *p = pred_at(m, i);
            if (p->type != type)
                continue;
            uint32_t v = prop_value(&p->prop, c, k);
            int eq = v != LOG_NO_ID && v == p->value;
            if (eq == (p->op == PERSONA_WHERE_EQ)) {
                sm |= p->smask;
                xm |= p->xmask;
            }
        }
    }
    e->hold = FUNNEL_NO_ID;
    if (m->hold.kind != PROP_NONE) {
        e->hold = prop_value(&m->hold, c, k);
        if (e->hold == LOG_NO_ID)
            sm = 0; /* without the property an event matches no step */
    }
    e->smask = sm;
    e->xmask = xm;
}

/* ---- grouping by profile ------------------------------------------------------------- */

typedef struct scan {
    const persona_store *s;
    const uint8_t *allowed; /* per profile, NULL = everyone */
    size_t n_users;
    size_t *off; /* n_users + 1 */
    size_t total;
} scan;

static inline uint32_t root_of(const persona_store *s, uint32_t id)
{
    return id < s->ids_len ? s->id_root[id] : id;
}

static inline size_t chunk_len(const persona__eventlog *l, size_t ci)
{
    size_t left = l->count - ci * LOG_CHUNK;
    return left < LOG_CHUNK ? left : LOG_CHUNK;
}

/* Count the events per profile that keep[type] selects (keep NULL: all); off[] becomes the
 * start of each profile's run. */
static void count_events(scan *sc, const uint8_t *keep)
{
    const persona_store *s = sc->s;
    size_t *cnt = sc->off;
    for (size_t ci = 0; ci * LOG_CHUNK < s->log.count; ci++) {
        const log_chunk *c = s->log.chunks[ci];
        size_t len = chunk_len(&s->log, ci);
        for (size_t k = 0; k < len; k++) {
            if (keep && !keep[c->type[k]])
                continue;
            uint32_t r = root_of(s, c->user[k]);
            if (sc->allowed && !sc->allowed[r])
                continue;
            cnt[r]++;
        }
    }
    size_t sum = 0;
    for (size_t u = 0; u < sc->n_users; u++) {
        size_t v = sc->off[u];
        sc->off[u] = sum;
        sum += v;
    }
    sc->total = sum;
}

/* After a scatter, off[u] is the end of u's run; its start is off[u - 1] (0 for u = 0). */
static inline size_t run_start(const scan *sc, size_t u)
{
    return u ? sc->off[u - 1] : 0;
}

/* ---- fast path ----------------------------------------------------------------------- */

/* An event packed in 64 bits: [time - tmin][class][profile within its bucket]. Profiles
 * are bucketed by id (2^ub per bucket): the scan writes each event to its bucket's stream
 * (a thousand or so sequential streams, which caches absorb), then each bucket — small
 * enough to stay in cache — is grouped by profile and evaluated. */
typedef struct packing {
    unsigned ub, cb, tshift; /* bits of the profile-in-bucket and class fields; ub + cb */
    uint64_t umask, cmask;
    int64_t tmin;
} packing;

static inline int64_t packed_time(const packing *pk, uint64_t v)
{
    return (int64_t)(v >> pk->tshift) + pk->tmin;
}

static inline unsigned packed_class(const packing *pk, uint64_t v)
{
    return (unsigned)((v >> pk->ub) & pk->cmask);
}

static unsigned bits_for(uint64_t v)
{
    unsigned b = 0;
    while (b < 64 && (v >> b))
        b++;
    return b;
}

/* Sort one profile's events by v >> sh (most are sorted already). */
static void sort_packed(uint64_t *v, size_t n, uint64_t *tmp, unsigned sh)
{
    size_t i = 1;
    while (i < n && v[i] >> sh >= v[i - 1] >> sh)
        i++;
    if (i >= n)
        return;
    if (n <= 64) {
        for (; i < n; i++) {
            uint64_t x = v[i];
            size_t j = i;
            while (j > 0 && v[j - 1] >> sh > x >> sh) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    /* bottom-up merge sort (stable) */
    uint64_t *src = v, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t a = 0; a < n; a += 2 * w) {
            size_t m = a + w < n ? a + w : n, b = a + 2 * w < n ? a + 2 * w : n;
            size_t x = a, y = m, o = a;
            while (x < m && y < b)
                dst[o++] = (src[y] >> sh < src[x] >> sh) ? src[y++] : src[x++];
            while (x < m)
                dst[o++] = src[x++];
            while (y < b)
                dst[o++] = src[y++];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

/* Greedy over one profile's packed events, sorted by (time, class): each next step takes
 * the first event of its class at or after the previous step's time that the path does
 * not hold yet (funnel_eval.c: exact, since events of one class are interchangeable).
 * The events the path holds at the current time come first among their class there (the
 * entry is the first of its class at its time, and each step took the next one), so they
 * are skipped by counting. step_cls[j]: the class of step j, 0 = none. */
static void fast_user(acc *a, const funnel_ctx *c, const packing *pk, const uint8_t *step_cls,
                      const uint64_t *v, size_t m)
{
    size_t ptr[PERSONA_FUNNEL_MAX_STEPS] = { 0 };
    int64_t best[PERSONA_FUNNEL_MAX_STEPS], cur[PERSONA_FUNNEL_MAX_STEPS];
    int best_k = 0;
    const unsigned c0 = step_cls[0];
    uint64_t last_entry = UINT64_MAX; /* (time, class) key of the last entry evaluated */
    for (size_t x = 0; x < m; x++) {
        uint64_t key = v[x] >> pk->ub;
        if ((key & pk->cmask) != c0 || key == last_entry)
            continue; /* not step 1, or an entry at the same time as the last: same paths */
        last_entry = key;
        int64_t t = packed_time(pk, v[x]);
        if ((c->has_from && t < c->from_ms) || (c->has_to && t >= c->to_ms))
            continue;
        cur[0] = t;
        int k = 1, blk = 0; /* steps blk … j−1 are at the time tprev */
        uint64_t tprev = key >> pk->cb;
        for (int j = 1; j < c->n; j++) {
            unsigned cj = step_cls[j];
            if (!cj)
                break;
            uint64_t lo = tprev << pk->cb | cj; /* (time, class) at least this, class cj */
            size_t y = ptr[j];
            while (y < m && ((v[y] >> pk->ub) < lo || ((v[y] >> pk->ub) & pk->cmask) != cj))
                y++;
            ptr[j] = y;
            for (int i = blk; i < j && y < m; i++)
                if (step_cls[i] == cj) /* held by the path: take the next of the class */
                    do
                        y++;
                    while (y < m && ((v[y] >> pk->ub) & pk->cmask) != cj);
            if (y >= m)
                break;
            int64_t ty = packed_time(pk, v[y]);
            if (ty - t > c->window)
                break;
            cur[j] = ty;
            k = j + 1;
            if ((v[y] >> pk->tshift) != tprev) {
                tprev = v[y] >> pk->tshift;
                blk = j;
            }
        }
        if (k > best_k) {
            best_k = k;
            memcpy(best, cur, (size_t)k * sizeof *cur);
            if (k == c->n)
                break;
        }
    }
    acc_path(a, best, best_k);
}

typedef struct fast_state {
    uint8_t *cls;          /* per type: its class, 0 = not a step type */
    uint8_t step_cls[PERSONA_FUNNEL_MAX_STEPS]; /* per step: its class, 0 = none */
    size_t *bstart;        /* per bucket (+1): start in part; after the scan, its end */
    uint64_t *part;        /* events bucket by bucket */
    uint64_t *group;       /* one bucket grouped by profile */
    uint64_t *tmp;         /* merge-sort scratch */
    uint32_t *ucnt;        /* per profile of a bucket (+1) */
} fast_state;

static void fast_free(fast_state *fs)
{
    persona__free(fs->cls);
    persona__free(fs->bstart);
    persona__free(fs->part);
    persona__free(fs->group);
    persona__free(fs->tmp);
    persona__free(fs->ucnt);
}

/* Scan into part[]: 0, -1 (ENOMEM), or 1 when an event lies outside [tmin, tmax] (the
 * caller repacks with the whole time range). */
static int fast_scan(fast_state *fs, const scan *sc, const packing *pk, size_t n_buckets)
{
    const persona_store *s = sc->s;
    size_t *bs = fs->bstart;
    memset(bs, 0, (n_buckets + 1) * sizeof *bs);
    for (size_t ci = 0; ci * LOG_CHUNK < s->log.count; ci++) {
        const log_chunk *ch = s->log.chunks[ci];
        size_t len = chunk_len(&s->log, ci);
        for (size_t k = 0; k < len; k++) {
            if (!fs->cls[ch->type[k]])
                continue;
            uint32_t r = root_of(s, ch->user[k]);
            if (sc->allowed && !sc->allowed[r])
                continue;
            bs[(r >> pk->ub) + 1]++;
        }
    }
    for (size_t b = 0; b < n_buckets; b++)
        bs[b + 1] += bs[b];
    size_t total = bs[n_buckets];
    persona__free(fs->part);
    fs->part = persona__realloc_array(NULL, total ? total : 1, sizeof *fs->part);
    if (!fs->part)
        return -1;
    uint64_t *part = fs->part;
    uint64_t span = pk->tshift >= 64 ? 0 : UINT64_MAX >> pk->tshift;
    for (size_t ci = 0; ci * LOG_CHUNK < s->log.count; ci++) {
        const log_chunk *ch = s->log.chunks[ci];
        size_t len = chunk_len(&s->log, ci);
        for (size_t k = 0; k < len; k++) {
            uint64_t cl = fs->cls[ch->type[k]];
            if (!cl)
                continue;
            uint32_t r = root_of(s, ch->user[k]);
            if (sc->allowed && !sc->allowed[r])
                continue;
            uint64_t dt = (uint64_t)ch->time[k] - (uint64_t)pk->tmin;
            if (dt > span)
                return 1;
            part[bs[r >> pk->ub]++] = dt << pk->tshift | cl << pk->ub | (r & pk->umask);
        }
    }
    /* bs[b] is now the end of bucket b, the start of b + 1 */
    return 0;
}

static int fast_path(acc *a, scan *sc, const funnel_ctx *c, const matcher *m)
{
    const persona_store *s = sc->s;
    fast_state fs;
    memset(&fs, 0, sizeof fs);
    fs.cls = persona__calloc(m->n_types ? m->n_types : 1, 1);
    if (!fs.cls)
        return -1;
    unsigned n_cls = 0;
    for (size_t t = 0; t < m->n_types; t++)
        if (m->smask[t]) {
            fs.cls[t] = (uint8_t)++n_cls;
            for (int j = 0; j < c->n; j++)
                if (m->smask[t] >> j & 1u)
                    fs.step_cls[j] = (uint8_t)n_cls;
        }
    packing pk;
    pk.cb = bits_for(n_cls);
    pk.cmask = ((uint64_t)1 << pk.cb) - 1;
    pk.tmin = s->log.count ? s->first_time_ms : 0;
    unsigned tb = bits_for((uint64_t)(s->log.count ? s->last_time_ms - s->first_time_ms : 0));
    int rc = 1;
    size_t n_buckets = 0;
    for (int attempt = 0; rc == 1 && attempt < 2; attempt++) {
        if (attempt == 1) { /* the store's time range was not exact: use all times */
            pk.tmin = PERSONA_TIME_MIN;
            tb = bits_for((uint64_t)(PERSONA_TIME_MAX - PERSONA_TIME_MIN));
        }
        if (tb == 0)
            tb = 1;
        pk.ub = 64 - pk.cb - tb < 10 ? 64 - pk.cb - tb : 10;
        pk.umask = ((uint64_t)1 << pk.ub) - 1;
        pk.tshift = pk.ub + pk.cb;
        n_buckets = (sc->n_users >> pk.ub) + 1;
        persona__free(fs.bstart);
        fs.bstart = persona__calloc(n_buckets + 1, sizeof *fs.bstart);
        rc = fs.bstart ? fast_scan(&fs, sc, &pk, n_buckets) : -1;
    }
    size_t most = 0;
    for (size_t b = 0; rc == 0 && b < n_buckets; b++) {
        size_t len = fs.bstart[b] - (b ? fs.bstart[b - 1] : 0);
        most = len > most ? len : most;
    }
    if (!rc) {
        fs.group = persona__realloc_array(NULL, most ? most : 1, sizeof *fs.group);
        fs.tmp = persona__realloc_array(NULL, most ? most : 1, sizeof *fs.tmp);
        fs.ucnt = persona__calloc(((size_t)1 << pk.ub) + 1, sizeof *fs.ucnt);
        if (!fs.group || !fs.tmp || !fs.ucnt)
            rc = -1;
    }
    size_t nu = (size_t)1 << pk.ub;
    for (size_t b = 0; rc == 0 && b < n_buckets; b++) {
        size_t from = b ? fs.bstart[b - 1] : 0, to = fs.bstart[b];
        if (from == to)
            continue;
        uint32_t *uc = fs.ucnt;
        memset(uc, 0, (nu + 1) * sizeof *uc);
        for (size_t i = from; i < to; i++)
            uc[(fs.part[i] & pk.umask) + 1]++;
        for (size_t u = 0; u < nu; u++)
            uc[u + 1] += uc[u];
        for (size_t i = from; i < to; i++)
            fs.group[uc[fs.part[i] & pk.umask]++] = fs.part[i];
        /* uc[u] is now the end of profile u's events */
        for (size_t u = 0; u < nu; u++) {
            size_t gb = u ? uc[u - 1] : 0, ge = uc[u];
            if (gb == ge)
                continue;
            sort_packed(fs.group + gb, ge - gb, fs.tmp, pk.ub);
            a->root = (uint32_t)(b << pk.ub | u);
            fast_user(a, c, &pk, fs.step_cls, fs.group + gb, ge - gb);
        }
        if (a->failed)
            rc = -1;
    }
    fast_free(&fs);
    return rc ? -1 : 0;
}

/* ---- general path -------------------------------------------------------------------- */

static int cmp_ev(const void *pa, const void *pb)
{
    const funnel_ev *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static void sort_run(funnel_ev *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i].t < v[i - 1].t) {
            qsort(v, n, sizeof *v, cmp_ev);
            return;
        }
}

static int general_path(acc *a, scan *sc, const funnel_ctx *c, const matcher *m)
{
    const persona_store *s = sc->s;
    const funnel_spec *spec = c->spec;
    int all = spec->order == PERSONA_FUNNEL_STRICT || spec->count == PERSONA_FUNNEL_SESSIONS;
    sc->off = persona__calloc(sc->n_users + 1, sizeof *sc->off);
    if (!sc->off)
        return -1;
    count_events(sc, all ? NULL : m->relevant);
    funnel_ev *v = persona__realloc_array(NULL, sc->total ? sc->total : 1, sizeof *v);
    if (!v)
        return -1;
    size_t *off = sc->off;
    for (size_t ci = 0; ci * LOG_CHUNK < s->log.count; ci++) {
        const log_chunk *ch = s->log.chunks[ci];
        size_t len = chunk_len(&s->log, ci);
        for (size_t k = 0; k < len; k++) {
            uint32_t type = ch->type[k];
            if (!all && !m->relevant[type])
                continue;
            uint32_t r = root_of(s, ch->user[k]);
            if (sc->allowed && !sc->allowed[r])
                continue;
            funnel_ev *e = &v[off[r]++];
            e->t = ch->time[k];
            e->idx = (uint32_t)(ci * LOG_CHUNK + k);
            if (m->relevant[type]) {
                match_event(m, ch, k, type, e);
            } else {
                e->smask = e->xmask = 0;
                e->hold = FUNNEL_NO_ID;
            }
        }
    }
    funnel_scratch scr;
    memset(&scr, 0, sizeof scr);
    int rc = 0;
    int per_entry = spec->count == PERSONA_FUNNEL_TOTALS;
    for (size_t u = 0; u < sc->n_users && !rc; u++) {
        size_t b = run_start(sc, u), e = off[u];
        if (b == e)
            continue;
        funnel_ev *run = v + b;
        size_t n = e - b;
        sort_run(run, n);
        if (persona__funnel_scratch_reserve(&scr, spec->n_steps, n)) {
            rc = -1;
            break;
        }
        a->root = (uint32_t)u;
        if (spec->count == PERSONA_FUNNEL_SESSIONS) {
            for (size_t x = 0; x < n;) {
                size_t y = x + 1;
                while (y < n && run[y].t - run[y - 1].t <= spec->session_gap_ms)
                    y++;
                persona__funnel_eval(c, run + x, y - x, &scr, 0, acc_emit, a);
                x = y;
            }
        } else {
            persona__funnel_eval(c, run, n, &scr, per_entry, acc_emit, a);
        }
        if (a->failed)
            rc = -1;
    }
    persona__funnel_scratch_free(&scr);
    persona__free(v);
    return rc;
}

/* ---- results into the funnel --------------------------------------------------------- */

static int finish_times(acc *a)
{
    persona_funnel *f = a->f;
    size_t most = 0;
    for (int j = 1; j < a->n; j++)
        if (a->n_times[j] > most)
            most = a->n_times[j];
    int64_t *tmp = persona__realloc_array(NULL, most ? most : 1, sizeof *tmp);
    if (!tmp)
        return -1;
    for (int j = 1; j < a->n; j++) {
        persona__funnel_sort_i64(a->times[j], a->n_times[j], tmp);
        f->times[j] = a->times[j];
        a->times[j] = NULL;
    }
    persona__free(tmp);
    persona__funnel_fill_hist(f);
    return 0;
}

static int finish_trend(acc *a)
{
    persona_funnel *f = a->f;
    if (!a->n_trend)
        return 0;
    int64_t lo = a->trend[0] >> 1, hi = lo;
    for (size_t i = 1; i < a->n_trend; i++) {
        int64_t p = a->trend[i] >> 1; /* arithmetic shift: floor for negative periods */
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    if (hi - lo >= FUNNEL_MAX_TREND)
        return persona__fail(PERSONA_EINVAL,
                             "the trend would span %lld periods (at most %d): choose a longer "
                             "trend_period",
                             (long long)(hi - lo + 1), FUNNEL_MAX_TREND);
    size_t n = (size_t)(hi - lo + 1);
    f->entered = persona__calloc(n, sizeof *f->entered);
    f->converted = persona__calloc(n, sizeof *f->converted);
    if (!f->entered || !f->converted)
        return persona__fail_nomem();
    for (size_t i = 0; i < a->n_trend; i++) {
        size_t at = (size_t)((a->trend[i] >> 1) - lo);
        f->entered[at]++;
        f->converted[at] += (uint64_t)(a->trend[i] & 1);
    }
    f->trend_first = lo;
    f->n_trend = n;
    return 0;
}

static int finish_users(acc *a, const persona_store *s)
{
    persona_funnel *f = a->f;
    size_t n = 0, bytes = 0;
    for (size_t u = 0; u < s->users.count; u++)
        if (a->stage[u]) {
            n++;
            bytes += persona__intern_len(&s->users, (uint32_t)u);
        }
    funnel_keyref *refs = persona__realloc_array(NULL, n ? n : 1, sizeof *refs);
    f->keys = persona__alloc(bytes ? bytes : 1);
    f->key_off = persona__realloc_array(NULL, n + 1, sizeof *f->key_off);
    f->stages = persona__alloc(n ? n : 1);
    if (!refs || !f->keys || !f->key_off || !f->stages) {
        persona__free(refs);
        return -1;
    }
    size_t i = 0;
    for (size_t u = 0; u < s->users.count; u++)
        if (a->stage[u]) {
            refs[i].key = persona__intern_str(&s->users, (uint32_t)u);
            refs[i].len = persona__intern_len(&s->users, (uint32_t)u);
            refs[i].idx = (uint32_t)u;
            i++;
        }
    if (persona__funnel_sort_keys(refs, n)) {
        persona__free(refs);
        return -1;
    }
    size_t at = 0;
    for (i = 0; i < n; i++) {
        f->key_off[i] = at;
        memcpy(f->keys + at, refs[i].key, refs[i].len);
        at += refs[i].len;
        f->stages[i] = a->stage[refs[i].idx];
    }
    f->key_off[n] = at;
    f->n_users = n;
    persona__free(refs);
    return 0;
}

/* ---- the build ----------------------------------------------------------------------- */

static int consent_allowed(const persona_store *s, const char *purpose, uint8_t *allowed)
{
    uint32_t name = persona__intern_find(&s->names, purpose, strlen(purpose));
    if (name == PERSONA__NO_ID)
        return 0; /* an unknown purpose: nobody granted it */
    for (size_t u = 0; u < s->users.count; u++) {
        if (root_of(s, (uint32_t)u) != u)
            continue;
        uint32_t e = persona__consent_entry(s, (uint32_t)u, name);
        allowed[u] = e != UINT32_MAX && s->consents[e].granted == 1;
    }
    return 0;
}

static int build_locked(persona_funnel *f, const persona_store *s)
{
    const funnel_spec *spec = &f->spec;
    funnel_ctx c;
    persona__funnel_ctx_init(&c, spec);
    acc a;
    memset(&a, 0, sizeof a);
    a.f = f;
    a.n = (int)spec->n_steps;
    matcher m;
    scan sc;
    memset(&sc, 0, sizeof sc);
    sc.s = s;
    sc.n_users = s->users.count;
    uint8_t *allowed = NULL;
    int rc = PERSONA_OK;
    persona__period per = { spec->trend_period, (int64_t)spec->utc_offset_minutes * 60000 };
    a.stage = persona__calloc(sc.n_users ? sc.n_users : 1, 1);
    if (matcher_init(&m, s, spec) || !a.stage ||
        persona__period_days_init(&a.days, &per, s->first_time_ms, s->last_time_ms,
                                  s->log.count ? 400000 : 0))
        rc = PERSONA_ENOMEM;
    if (!rc && spec->consent) {
        allowed = persona__calloc(sc.n_users ? sc.n_users : 1, 1);
        if (!allowed)
            rc = PERSONA_ENOMEM;
        else
            consent_allowed(s, spec->consent, allowed);
        sc.allowed = allowed;
    }
    if (!rc) {
        int fast = c.greedy && !m.any_pred && m.hold.kind == PROP_NONE &&
                   spec->count == PERSONA_FUNNEL_USERS;
        if (fast ? fast_path(&a, &sc, &c, &m) : general_path(&a, &sc, &c, &m))
            rc = PERSONA_ENOMEM;
    }
    if (!rc && finish_times(&a))
        rc = PERSONA_ENOMEM;
    if (!rc)
        rc = finish_trend(&a);
    if (!rc && finish_users(&a, s))
        rc = PERSONA_ENOMEM;
    persona__free(allowed);
    persona__free(sc.off);
    matcher_free(&m);
    acc_free(&a);
    return rc == PERSONA_ENOMEM ? persona__fail_nomem() : rc;
}

PERSONA_API int persona_funnel_build(persona_funnel **out, const persona_store *store,
                                     const persona_funnel_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "store" : "out");
    if (!opts)
        return persona__fail(PERSONA_EINVAL, "opts is NULL");
    persona_funnel *f = persona__funnel_alloc();
    if (!f)
        return PERSONA_ENOMEM;
    STORE_RDLOCK(store);
    int rc = persona__funnel_spec_from(&f->spec, opts, store->session_gap_ms);
    if (!rc)
        rc = build_locked(f, store);
    STORE_UNLOCK(store);
    if (rc) {
        persona_funnel_free(f);
        return rc;
    }
    *out = f;
    return PERSONA_OK;
}
