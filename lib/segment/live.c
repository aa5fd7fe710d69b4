/* Live segments: a model of the store's registered rules (all-matches), per profile the
 * set of segments it is in and the next time its rules may change with no new event, a
 * min-heap of those times, and an outbox of changes for the callbacks.
 *
 * Exactness: a profile's membership is recomputed with the same evaluator a batch
 * evaluation uses, as of the store's clock, whenever something it reads may have changed
 * — its own events (ingest), the passage of time (the feature's next-change time, kept in
 * the heap), host changes (attributes, consent), identity changes (a full re-evaluation,
 * when the store's epoch moved). So live membership equals a batch evaluation as of the
 * clock after every call, and the callbacks are the differences. The behavioural
 * functions are kept incrementally per profile (live_feats.h): an event updates them in
 * constant time, an evaluation takes out what left the windows, so the cost per event is
 * constant amortized, not a re-scan of the profile's history. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "segment/live.h"
#include "segment/live_feats.h"
#include "segment/rule_eval.h"

typedef struct heap_entry {
    int64_t t;
    uint32_t user;
} heap_entry;

/* What live segments keep per profile outside its feature state, together: a look reads
 * and writes all of it. */
typedef struct profile_slot {
    uint64_t member; /* bit k: in segment k */
    int64_t next;    /* next look, INT64_MAX = none */
    uint32_t stamp;  /* the update that looked at it last */
    uint32_t pad;
} profile_slot;

typedef struct change {
    uint32_t user;
    uint64_t before, after;
} change;

typedef struct live_state {
    persona_segment_model *model;
    persona_segment_fn fns[PERSONA_LIVE_SEGMENT_MAX];
    void *ctxs[PERSONA_LIVE_SEGMENT_MAX];
    profile_slot *slot; /* per profile index */
    change *outbox;    /* one per profile at most */
    size_t cap, n_out;
    heap_entry *heap;
    size_t n_heap, heap_cap;
    uint32_t cur_stamp;
    uint64_t epoch;    /* store epoch of the last full evaluation */
    eval_state *es;
    uint32_t ids[PERSONA_RULE_MAX_NAMES];
    live_plan plan;
    uint8_t *rec;      /* per profile: plan.stride bytes of feature state */
    uint32_t *fwd;     /* per event: the next event of its profile (LOG_NO_ID: none) */
    size_t fwd_cap;
} live_state;

/* The stores whose callbacks this thread is running (a callback may write to another
 * store, whose callbacks then run inside it). */
#define DELIVERY_DEPTH 16
static _Thread_local const persona_store *delivering[DELIVERY_DEPTH];
static _Thread_local int n_delivering;

int persona__live_check_reentry(const persona_store *s)
{
    for (int i = 0; s && i < n_delivering; i++)
        if (delivering[i] == s)
            return persona__fail(PERSONA_EMISUSE,
                                 "a live-segment callback must not write to a store whose callbacks are running");
    if (s && n_delivering == DELIVERY_DEPTH)
        return persona__fail(PERSONA_EMISUSE, "live-segment callbacks nested more than %d stores deep",
                             DELIVERY_DEPTH);
    return PERSONA_OK;
}

int64_t persona__store_clock(const persona_store *s)
{
    if (s->has_tick && (!s->log.count || s->tick_ms > s->last_time_ms))
        return s->tick_ms;
    return s->log.count ? s->last_time_ms : 0;
}

PERSONA_API int persona_store_clock(int64_t *out, const persona_store *store)
{
    if (!out || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "store" : "out");
    STORE_RDLOCK(store);
    *out = persona__store_clock(store);
    STORE_UNLOCK(store);
    return PERSONA_OK;
}

/* ---- per-profile arrays ---- */

static int grow_fwd(live_state *L, size_t events)
{
    if (events <= L->fwd_cap)
        return 0;
    size_t cap = L->fwd_cap ? L->fwd_cap : 1024;
    while (cap < events)
        cap *= 2;
    uint32_t *fwd = persona__realloc_array(L->fwd, cap, sizeof *fwd);
    if (!fwd)
        return -1;
    L->fwd = fwd;
    L->fwd_cap = cap;
    return 0;
}

static uint8_t *rec_of(const live_state *L, uint32_t u)
{
    return L->rec + (size_t)u * L->plan.stride;
}

static int grow_to(live_state *L, size_t users, size_t events)
{
    if (grow_fwd(L, events))
        return -1;
    if (users <= L->cap && 2 * users + 1 <= L->heap_cap)
        return 0;
    size_t cap = L->cap ? L->cap : 64;
    while (cap < users)
        cap *= 2;
    if (cap > L->cap) {
        profile_slot *slot = persona__realloc_array(L->slot, cap, sizeof *slot);
        if (!slot)
            return -1;
        L->slot = slot;
        change *out = persona__realloc_array(L->outbox, cap, sizeof *out);
        if (!out)
            return -1;
        L->outbox = out;
        uint8_t *rec = persona__realloc_array(L->rec, cap, L->plan.stride);
        if (!rec)
            return -1;
        L->rec = rec;
        memset(rec + L->cap * L->plan.stride, 0, (cap - L->cap) * L->plan.stride);
        for (size_t i = L->cap; i < cap; i++)
            slot[i] = (profile_slot){ 0, INT64_MAX, 0, 0 };
        L->cap = cap;
    }
    if (L->heap_cap < 2 * cap + 1) { /* room for stale entries between compactions */
        heap_entry *h = persona__realloc_array(L->heap, 2 * cap + 1, sizeof *h);
        if (!h)
            return -1;
        L->heap = h;
        L->heap_cap = 2 * cap + 1;
    }
    return 0;
}

int persona__live_reserve(persona_store *s, size_t users, size_t events)
{
    return s->live ? grow_to(s->live, users, events) : 0;
}

/* ---- the heap of next looks (lazy deletion: an entry whose time is not the profile's
 * next any more is stale) ---- */

/* A 4-ary heap: half the depth of a binary one, and a node's children share a cache line
 * or two. */
static void sift_up(heap_entry *h, size_t i)
{
    heap_entry x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 4;
        if (h[p].t <= x.t)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static void sift_down(heap_entry *h, size_t n, size_t i)
{
    heap_entry x = h[i];
    for (;;) {
        size_t c = 4 * i + 1, m = i;
        int64_t best = x.t;
        for (size_t k = c; k < c + 4 && k < n; k++)
            if (h[k].t < best) {
                best = h[k].t;
                m = k;
            }
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = x;
}

static int by_user_time(const void *a, const void *b)
{
    const heap_entry *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

/* Drop stale entries (and duplicates): at most one per profile remains. Sorting keeps the
 * per-profile stamps of the update in progress untouched (they say who was looked at). */
static void compact(live_state *L)
{
    size_t w = 0;
    for (size_t i = 0; i < L->n_heap; i++)
        if (L->slot[L->heap[i].user].next == L->heap[i].t)
            L->heap[w++] = L->heap[i];
    qsort(L->heap, w, sizeof *L->heap, by_user_time);
    size_t u = 0;
    for (size_t i = 0; i < w; i++)
        if (u == 0 || L->heap[u - 1].user != L->heap[i].user)
            L->heap[u++] = L->heap[i];
    L->n_heap = u;
    for (size_t i = u / 2; i-- > 0;)
        sift_down(L->heap, u, i);
}

static void schedule(live_state *L, uint32_t u, int64_t t)
{
    if (L->slot[u].next == t)
        return;
    L->slot[u].next = t;
    if (t == INT64_MAX)
        return;
    if (L->n_heap == L->heap_cap)
        compact(L); /* room: a profile has at most one live entry, heap_cap > profiles */
    L->heap[L->n_heap] = (heap_entry){ t, u };
    sift_up(L->heap, L->n_heap++);
}

/* ---- evaluation ---- */

/* What a look re-evaluates: everything, constant rules too (registration, identity and
 * host changes); what events change (and time, which moved on too; attributes and
 * consent only when the store's event rules may have set them); what time alone
 * changes. */
#define NEED_ALL (DEP_EVENTS | DEP_TIME | DEP_HOST)
static int need_events(const persona_store *s)
{
    return DEP_EVENTS | DEP_TIME | (s->n_event_rules ? DEP_HOST : 0);
}
#define NEED_TIME DEP_TIME

/* Membership of profile u as of now, and its next look: the segments whose rules read
 * something in `need` (DEP_*) are evaluated again, the others keep their membership. On
 * failure (memory for an out-of-order profile) the old membership stays and the look is
 * retried at the next tick. */
static uint64_t evaluate(persona_store *s, live_state *L, uint32_t u, int64_t now, int need,
                         int64_t *next)
{
    eval_state *es = L->es;
    persona__eval_begin(es, L->model, s, u, now, NULL, L->ids);
    uint8_t *rec = rec_of(L, u);
    if (persona__live_rec_first_look(rec))
        need = NEED_ALL; /* a new profile: constant rules and lists too */
    if (persona__live_rec_mode(rec) == LM_INCREMENTAL) {
        es->skip = L->plan.skip;
        persona__live_feats_eval(&L->plan, es, rec, L->fwd);
    }
    uint64_t mask = 0;
    for (size_t k = 0; k < L->model->n_segs; k++) {
        if (need != NEED_ALL && !(L->plan.deps[k] & need)) {
            mask |= L->slot[u].member & ((uint64_t)1 << k);
            continue;
        }
        int r = persona__eval_segment(es, (uint32_t)k);
        if (r < 0) {
            /* out of memory: keep what is known, try again (everything) at the next tick */
            persona__live_rec_forget(rec);
            *next = now < INT64_MAX ? now + 1 : now;
            return L->slot[u].member;
        }
        mask |= (uint64_t)(r != 0) << k;
    }
    *next = es->next_change;
    return mask;
}


/* Look at profile u (once per update), recording a change in the outbox. */
static void look(persona_store *s, live_state *L, uint32_t u, int64_t now, int silent, int need)
{
    if (u >= L->cap || persona__id_root(s, u) != u || L->slot[u].stamp == L->cur_stamp)
        return;
    L->slot[u].stamp = L->cur_stamp;
    int64_t next;
    uint64_t mask = evaluate(s, L, u, now, need, &next);
    if (mask != L->slot[u].member) {
        if (!silent)
            L->outbox[L->n_out++] = (change){ u, L->slot[u].member, mask };
        L->slot[u].member = mask;
    }
    schedule(L, u, next);
}

/* Forward links of every event, from the profiles' chains (each event is in one). */
static void link_all(const persona_store *s, live_state *L)
{
    for (size_t e = 0; e < s->log.count; e++)
        L->fwd[e] = LOG_NO_ID;
    for (size_t e = 0; e < s->log.count; e++) {
        uint32_t prev = persona__eventlog_prev(&s->log, e);
        if (prev != LOG_NO_ID)
            L->fwd[prev] = (uint32_t)e;
    }
}

/* The feature state of every profile from its events. */
static void replay_all(persona_store *s, live_state *L, int64_t now)
{
    memset(L->rec, 0, L->cap * L->plan.stride);
    link_all(s, L);
    eval_state *es = L->es;
    size_t n = s->users.count < L->cap ? s->users.count : L->cap;
    for (uint32_t u = 0; u < (uint32_t)n; u++) {
        if (persona__id_root(s, u) != u || !s->profiles[u].events)
            continue;
        if (s->profiles[u].flags & PROFILE_SESSIONS_DIRTY) {
            persona__live_rec_set_batch(rec_of(L, u));
            continue;
        }
        persona__eval_begin(es, L->model, s, u, now, NULL, L->ids);
        persona__live_feats_replay(&L->plan, es, rec_of(L, u), L->fwd);
    }
}

/* A new update: profiles not looked at in it yet have another stamp. */
static void next_stamp(live_state *L)
{
    if (++L->cur_stamp == 0) { /* wrapped: clear the stamps */
        for (size_t u = 0; u < L->cap; u++)
            L->slot[u].stamp = 0;
        L->cur_stamp = 1;
    }
}

/* Every profile again, silently (registration, identity changes, erasure). */
static void evaluate_all(persona_store *s, live_state *L, int64_t now)
{
    L->n_heap = 0; /* the outbox stays: changes found before are still to be called back */
    for (size_t u = 0; u < L->cap; u++) {
        L->slot[u].member = 0;
        L->slot[u].next = INT64_MAX;
    }
    replay_all(s, L, now);
    next_stamp(L);
    size_t n = s->users.count < L->cap ? s->users.count : L->cap;
    for (uint32_t u = 0; u < (uint32_t)n; u++)
        look(s, L, u, now, 1, NEED_ALL);
    L->epoch = s->epoch;
}

/* The profiles due by now. */
static void run_due(persona_store *s, live_state *L, int64_t now)
{
    while (L->n_heap && L->heap[0].t <= now) {
        heap_entry e = L->heap[0];
        L->heap[0] = L->heap[--L->n_heap];
        sift_down(L->heap, L->n_heap, 0);
        if (L->slot[e.user].next != e.t)
            continue; /* stale */
        /* Taken (look() schedules anew). A profile looked at in this update already has
         * its next look after now, so a due entry is never one of those. */
        L->slot[e.user].next = INT64_MAX;
        look(s, L, e.user, now, 0, NEED_TIME);
    }
}

/* After identities moved (link, unmerge, erasure, opt-out: the store's epoch), everyone
 * again, silently, as of the clock before the write at hand applies its own changes. */
void persona__live_sync(persona_store *s)
{
    live_state *L = s->live;
    if (L && L->epoch != s->epoch) {
        persona__bind(L->model, s, L->ids);
        evaluate_all(s, L, persona__store_clock(s));
    }
}

/* Start an update: bind names (identities are in sync: persona__live_sync ran first).
 * 1 when it had to evaluate everyone (the state then has every event of the log). */
static int begin_update(persona_store *s, live_state *L, int64_t now)
{
    persona__bind(L->model, s, L->ids);
    int all = L->epoch != s->epoch;
    if (all)
        evaluate_all(s, L, now);
    next_stamp(L);
    return all;
}

void persona__live_after_events(persona_store *s, size_t from, size_t to)
{
    live_state *L = s->live;
    if (!L || from == to)
        return;
    int64_t now = persona__store_clock(s);
    if (!begin_update(s, L, now)) {
        /* Link the new events and add them to their profiles' state (all before anyone is
         * evaluated: a profile may have several events in the batch). */
        eval_state *es = L->es;
        persona__eval_begin(es, L->model, s, PERSONA__NO_ID, now, NULL, L->ids);
        for (size_t e = from; e < to; e++) {
            const log_chunk *c = persona__eventlog_chunk(&s->log, e);
            size_t k = persona__eventlog_slot(e);
            L->fwd[e] = LOG_NO_ID;
            if (c->prev[k] != LOG_NO_ID)
                L->fwd[c->prev[k]] = (uint32_t)e;
            uint32_t u = persona__id_root(s, c->user[k]);
            if (u >= L->cap)
                continue;
            uint8_t *rec = rec_of(L, u);
            if (persona__live_rec_mode(rec) != LM_INCREMENTAL)
                continue;
            if (s->profiles[u].flags & PROFILE_SESSIONS_DIRTY)
                persona__live_rec_set_batch(rec); /* out of time order: the batch pass */
            else
                persona__live_feats_add(&L->plan, es, rec, (uint32_t)e);
        }
    }
    for (size_t e = from; e < to; e++) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        uint32_t u = persona__id_root(s, c->user[persona__eventlog_slot(e)]);
        look(s, L, u, now, 0, need_events(s));
    }
    run_due(s, L, now);
}

void persona__live_touch(persona_store *s, uint32_t root)
{
    live_state *L = s->live;
    if (!L || root >= L->cap)
        return;
    persona__live_rec_forget(rec_of(L, root));
    int64_t now = persona__store_clock(s);
    if (L->slot[root].next > now)
        schedule(L, root, now);
}

void persona__live_after_change(persona_store *s, uint32_t root)
{
    live_state *L = s->live;
    if (!L)
        return;
    int64_t now = persona__store_clock(s);
    begin_update(s, L, now);
    look(s, L, root, now, 1, NEED_ALL);
}

static int cmp_change(const void *a, const void *b)
{
    uint32_t x = ((const change *)a)->user, y = ((const change *)b)->user;
    return (x > y) - (x < y);
}

int persona__live_deliver(persona_store *s)
{
    live_state *L = s->live;
    if (!L || !L->n_out)
        return PERSONA_OK;
    qsort(L->outbox, L->n_out, sizeof *L->outbox, cmp_change);
    int64_t at = persona__store_clock(s);
    int rc = PERSONA_OK;
    delivering[n_delivering++] = s; /* room: checked on the way in */
    for (size_t i = 0; i < L->n_out && !rc; i++) {
        const change *c = &L->outbox[i];
        uint64_t diff = c->before ^ c->after;
        const char *key = persona__intern_str(&s->users, c->user);
        size_t len = persona__intern_len(&s->users, c->user);
        for (size_t k = 0; k < L->model->n_segs && !rc; k++) {
            if (!((diff >> k) & 1) || !L->fns[k])
                continue;
            if (L->fns[k](L->ctxs[k], key, len, L->model->segs[k].name, (int32_t)((c->after >> k) & 1), at) < 0)
                rc = persona__fail(PERSONA_ECALLBACK, "the callback of live segment '%.200s' stopped",
                                   L->model->segs[k].name);
        }
    }
    n_delivering--;
    L->n_out = 0;
    return rc;
}

void persona__live_free(persona_store *s)
{
    live_state *L = s->live;
    if (!L)
        return;
    persona_segment_model_free(L->model);
    persona__free(L->slot);
    persona__free(L->outbox);
    persona__free(L->heap);
    persona__free(L->es);
    persona__free(L->rec);
    persona__free(L->fwd);
    persona__free(L);
    s->live = NULL;
}

/* ---- the public calls ---- */

int persona__model_add_rule(persona_segment_model *m, const char *name, const char *expr,
                            size_t len, int resolve);

PERSONA_API int persona_store_add_segment(persona_store *store, const char *name,
                                          const char *rule, size_t len,
                                          persona_segment_fn on_change, void *ctx)
{
    if (!store || !name || (!rule && len))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !store ? "store" : !name ? "name" : "rule");
    int rc = persona__live_check_reentry(store);
    if (rc)
        return rc;
    pthread_mutex_lock(&store->live_lock);
    STORE_WRLOCK(store);
    live_state *L = store->live, *fresh = NULL;
    if (!L) {
        fresh = L = persona__calloc(1, sizeof *L);
        persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
        o.mode = PERSONA_SEGMENT_ALL_MATCHES;
        if (!L || !(L->es = persona__alloc(sizeof *L->es)) || persona_segment_model_new(&L->model, &o)) {
            rc = persona__fail_nomem();
            goto done;
        }
        L->epoch = store->epoch - 1; /* evaluate everything on first use */
        persona__live_plan_make(&L->plan, L->model);
    }
    if (L->model->n_segs >= PERSONA_LIVE_SEGMENT_MAX) {
        rc = persona__fail(PERSONA_EINVAL, "a store has at most %d live segments", PERSONA_LIVE_SEGMENT_MAX);
        goto done;
    }
    size_t before = L->model->n_segs;
    if (grow_to(L, store->users.count, store->log.count)) {
        rc = persona__fail_nomem();
        goto done;
    }
    model_mark mk;
    persona__model_mark(L->model, &mk);
    if ((rc = persona__model_add_rule(L->model, name, rule ? rule : "", len, 1)))
        goto done;
    for (size_t c = mk.code; c < L->model->n_code; c++)
        if (L->model->code[c].op == OP_NEXT) {
            persona__model_rollback(L->model, &mk);
            persona__bind_reset(L->model);
            rc = persona__fail(PERSONA_EINVAL, "segment \"%s\": next_event() needs a path model, "
                               "which live segments have not: use it in a segment model "
                               "(persona_segment_model_use_paths)", name);
            goto done;
        }
    /* The new rule's features change the layout of the state: a new record per profile
     * (filled by the evaluation below). */
    live_plan *plan = persona__alloc(sizeof *plan);
    uint8_t *rec = NULL;
    if (plan) {
        persona__live_plan_make(plan, L->model);
        rec = persona__calloc(L->cap, plan->stride);
    }
    if (!rec) {
        persona__free(plan);
        persona__model_rollback(L->model, &mk);
        persona__bind_reset(L->model);
        rc = persona__fail_nomem();
        goto done;
    }
    L->plan = *plan;
    persona__free(plan);
    persona__free(L->rec);
    L->rec = rec;
    L->fns[before] = on_change;
    L->ctxs[before] = ctx;
    store->live = L;
    fresh = NULL;
    persona__bind_reset(L->model);
    persona__bind(L->model, store, L->ids);
    evaluate_all(store, L, persona__store_clock(store));
done:
    if (fresh) {
        store->live = fresh;
        persona__live_free(store);
    }
    STORE_UNLOCK(store);
    pthread_mutex_unlock(&store->live_lock);
    return rc;
}

PERSONA_API int persona_store_tick(persona_store *store, int64_t now_ms)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    if (now_ms < PERSONA_TIME_MIN || now_ms > PERSONA_TIME_MAX)
        return persona__fail(PERSONA_EINVAL, "tick: time %lld is out of range", (long long)now_ms);
    int rc = persona__live_check_reentry(store);
    if (rc)
        return rc;
    pthread_mutex_lock(&store->live_lock);
    STORE_WRLOCK(store);
    live_state *L = store->live;
    if (L && grow_to(L, store->users.count, store->log.count)) { /* profiles added by links or opt-outs */
        rc = persona__fail_nomem();
    } else {
        persona__live_sync(store);
        if (!store->has_tick || now_ms > store->tick_ms) {
            store->tick_ms = now_ms;
            store->has_tick = 1;
        }
        if (L) {
            int64_t now = persona__store_clock(store);
            begin_update(store, L, now);
            run_due(store, L, now);
        }
    }
    STORE_UNLOCK(store);
    if (L && !rc) {
        STORE_RDLOCK(store);
        rc = persona__live_deliver(store);
        STORE_UNLOCK(store);
    }
    pthread_mutex_unlock(&store->live_lock);
    return rc;
}

PERSONA_API int persona_store_segment_count(size_t *out, const persona_store *store)
{
    if (!out || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "store" : "out");
    STORE_RDLOCK(store);
    *out = store->live ? store->live->model->n_segs : 0;
    STORE_UNLOCK(store);
    return PERSONA_OK;
}

PERSONA_API int persona_store_segment_name(char *buf, size_t capacity, size_t *out_len,
                                           const persona_store *store, size_t index)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    STORE_RDLOCK(store);
    int rc;
    size_t n = store->live ? store->live->model->n_segs : 0;
    if (index >= n) {
        rc = persona__fail(PERSONA_ENOTFOUND, "no live segment %zu (the store has %zu)", index, n);
    } else {
        const char *name = store->live->model->segs[index].name;
        rc = persona__copy_out(buf, capacity, out_len, name, strlen(name));
    }
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_segments_of(uint32_t *out, size_t capacity, size_t *out_count,
                                          const persona_store *store, const char *user)
{
    if (!store || !user || (!out && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !store ? "store" : !user ? "user" : "out");
    STORE_RDLOCK(store);
    size_t count = 0;
    const live_state *L = store->live;
    uint32_t id = persona__intern_find(&store->users, user, strlen(user));
    if (L && id != PERSONA__NO_ID) {
        uint32_t root = persona__id_root(store, id);
        uint64_t mask = root < L->cap ? L->slot[root].member : 0;
        if (L->epoch != store->epoch) {
            /* Identities moved (link, unmerge, erasure) since the last update, which will
             * re-evaluate everyone: until then, evaluate this profile here. */
            uint32_t ids[PERSONA_RULE_MAX_NAMES];
            eval_state *es = persona__alloc(sizeof *es);
            if (!es) {
                STORE_UNLOCK(store);
                return persona__fail_nomem();
            }
            persona__bind(L->model, store, ids);
            persona__eval_begin(es, L->model, store, root, persona__store_clock(store), NULL, ids);
            es->key = user;
            mask = 0;
            for (size_t k = 0; k < L->model->n_segs; k++) {
                int r = persona__eval_segment(es, (uint32_t)k);
                if (r < 0) {
                    persona__free(es);
                    STORE_UNLOCK(store);
                    return r;
                }
                mask |= (uint64_t)(r != 0) << k;
            }
            persona__free(es);
        }
        for (size_t k = 0; k < L->model->n_segs; k++)
            if ((mask >> k) & 1) {
                if (count < capacity)
                    out[count] = (uint32_t)k;
                count++;
            }
    }
    STORE_UNLOCK(store);
    if (out_count)
        *out_count = count;
    if (count > capacity)
        return persona__fail(PERSONA_EBUFS, "the user is in %zu live segments; room for %zu", count, capacity);
    return PERSONA_OK;
}
