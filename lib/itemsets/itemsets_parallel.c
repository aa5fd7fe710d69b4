/* The miner's top level on several threads. The subtrees of the top-level items are
 * independent once level 0 is built and its occurrences delivered: each thread mines whole
 * subtrees with its own levels (and its own level-0 counters, the only part of level 0 a
 * subtree writes), taking the next item in order. The callback sees exactly the sequential
 * sequence (same sets, same order, the same set at which max_itemsets or the callback
 * stops), always on the calling thread:
 *  - the calling thread mines the oldest subtree not yet handed over itself, emitting
 *    straight to the callback, whenever nobody else has it;
 *  - any other subtree goes to its own buffer, handed to the callback in item order once
 *    all earlier ones are; the calling thread takes such subtrees too while the oldest one
 *    runs elsewhere, so it never waits for a subtree nobody has started.
 * Memory stays bounded: a buffer past subtree_words (persona__mine_params) is dropped and
 * its subtree left to the calling thread to mine again (straight to the callback) when its
 * turn comes; helper threads stop taking subtrees while finished, not yet handed-over
 * buffers hold more than pending_words. */
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "itemsets/itemsets_internal.h"
#include "itemsets/mine_internal.h"

/* DONE: buffered, to hand over; DROPPED: its buffer grew too big, to mine again. */
enum { TODO, RUNNING, DONE, DROPPED };

/* One top-level item's subtree: its itemsets as records (size k, count low and high
 * words, then the k items). */
typedef struct subtree {
    uint32_t *rec;
    size_t n, cap, limit;
    int rc, nomem, dropped, state;
} subtree;

typedef struct par {
    miner *top;              /* level 0, the callback, the global count */
    miner work[PERSONA__MAX_THREADS];
    subtree *sub;            /* one per top-level item */
    size_t m, next, handed;  /* items; the next to take; the next to hand over */
    size_t pending;          /* words of finished, unhanded buffers */
    size_t pending_max, subtree_max;
    int stop, rc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} par;

static int buffer_emit(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    subtree *t = ctx;
    if (t->n + 3 + n > t->limit) {
        t->dropped = 1;
        return 1;
    }
    if (persona__grow((void **)&t->rec, &t->cap, t->n + 3 + n, sizeof *t->rec, 1024)) {
        t->nomem = 1;
        return 1;
    }
    uint32_t *r = t->rec + t->n;
    r[0] = (uint32_t)n;
    r[1] = (uint32_t)count;
    r[2] = (uint32_t)(count >> 32);
    memcpy(r + 3, items, n * sizeof *items);
    t->n += 3 + n;
    return 0;
}

/* A thread's miner: its own levels, level 0 shared but for the counters. */
static int work_init(miner *w, const miner *top)
{
    memset(w, 0, sizeof *w);
    w->min_count = top->min_count;
    w->max_size = top->max_size;
    w->max_itemsets = top->max_itemsets;
    w->emit = buffer_emit;
    w->n_lv = top->n_lv;
    size_t m = top->lv[0].m;
    w->lv = persona__calloc(w->n_lv, sizeof *w->lv);
    w->prefix = persona__calloc(w->n_lv, sizeof *w->prefix);
    w->pe = persona__realloc_array(NULL, m, sizeof *w->pe);
    if (!w->lv || !w->prefix || !w->pe)
        return -1;
    w->lv[0] = top->lv[0];
    w->lv[0].cnt = persona__calloc(m, sizeof *w->lv[0].cnt);
    w->lv[0].newid = persona__realloc_array(NULL, m, sizeof *w->lv[0].newid);
    return w->lv[0].cnt && w->lv[0].newid ? 0 : -1;
}

static void work_free(miner *w)
{
    if (w->lv) {
        level own0;
        memset(&own0, 0, sizeof own0);
        own0.cnt = w->lv[0].cnt;
        own0.newid = w->lv[0].newid;
        w->lv[0] = own0; /* the rest of level 0 belongs to the top miner */
        for (size_t i = 0; i < w->n_lv; i++)
            persona__mine_level_free(&w->lv[i]);
    }
    persona__free(w->lv);
    persona__free(w->prefix);
    persona__free(w->pe);
    persona__free(w->bits);
    persona__free(w->words);
    persona__free(w->wsum);
}

/* Mine subtree e on thread i into its buffer. */
static void run_buffered(par *P, int i, size_t e)
{
    miner *w = &P->work[i];
    subtree *t = &P->sub[e];
    t->limit = P->subtree_max;
    w->emit = buffer_emit;
    w->ctx = t;
    w->emitted = 0; /* a subtree alone past max_itemsets means the whole is too */
    w->max_itemsets = P->top->max_itemsets;
    w->n_pe = 0;
    int rc = persona__mine_item(w, 0, (uint32_t)e);
    if (rc == PERSONA_ECALLBACK && t->nomem)
        rc = PERSONA_ENOMEM;
    if (rc == PERSONA_ECALLBACK && t->dropped) {
        persona__free(t->rec);
        t->rec = NULL;
        t->n = t->cap = 0;
        rc = PERSONA_OK;
    }
    t->rc = rc;
}

/* Mine the oldest subtree e on the calling thread straight to the callback, as the
 * sequential miner would (its count and limit go on from the handed-over sets). */
static int run_direct(par *P, size_t e)
{
    miner *w = &P->work[0], *top = P->top;
    w->emit = top->emit;
    w->ctx = top->ctx;
    w->emitted = top->emitted;
    w->max_itemsets = top->max_itemsets;
    w->n_pe = 0;
    int rc = persona__mine_item(w, 0, (uint32_t)e);
    top->emitted = w->emitted;
    return rc;
}

/* Hand a finished subtree's itemsets to the callback (calling thread), then its error, if
 * it failed: raised again here, where the caller reads it. A subtree stopped by its own
 * max_itemsets holds its first max_itemsets sets, so the global limit stops the hand-over
 * at the same set as a sequential mining would (the global count is at least as large). */
static int hand_over(par *P, const subtree *t)
{
    miner *top = P->top;
    for (size_t p = 0; p < t->n;) {
        const uint32_t *r = t->rec + p;
        if (top->emitted == top->max_itemsets)
            return persona__mine_too_many(top);
        top->emitted++;
        if (top->emit(top->ctx, r + 3, r[0], (uint64_t)r[1] | (uint64_t)r[2] << 32))
            return persona__fail(PERSONA_ECALLBACK, "the itemset callback stopped the mining");
        p += 3 + r[0];
    }
    if (t->rc == PERSONA_EBUFS)
        return persona__mine_too_many(top);
    if (t->rc == PERSONA_ENOMEM)
        return persona__fail_nomem();
    if (t->rc)
        return persona__fail(t->rc, "mining a subtree failed");
    return PERSONA_OK;
}

/* Called with the lock held: hand over every finished subtree in order (thread 0 only). */
static void hand_over_ready(par *P)
{
    while (!P->stop && P->handed < P->m && P->sub[P->handed].state == DONE) {
        subtree *t = &P->sub[P->handed];
        pthread_mutex_unlock(&P->mu);
        int rc = hand_over(P, t);
        pthread_mutex_lock(&P->mu);
        P->pending -= t->n;
        persona__free(t->rec);
        t->rec = NULL;
        t->n = t->cap = 0;
        P->handed++;
        if (rc) {
            P->stop = 1;
            P->rc = rc;
        }
        pthread_cond_broadcast(&P->cv);
    }
}

/* Called with the lock held: mine subtree e into its buffer on thread i. */
static void take_buffered(par *P, int i, size_t e)
{
    subtree *t = &P->sub[e];
    t->state = RUNNING;
    pthread_mutex_unlock(&P->mu);
    run_buffered(P, i, e);
    pthread_mutex_lock(&P->mu);
    t->state = t->dropped ? DROPPED : DONE;
    P->pending += t->n;
    if (t->rc)
        P->next = P->m; /* the result is an error: start nothing more */
    pthread_cond_broadcast(&P->cv);
}

/* The calling thread: hand over, mine the oldest subtree straight to the callback when
 * nobody has it, otherwise a later one into its buffer, otherwise wait. */
static void part_calling(par *P)
{
    for (;;) {
        hand_over_ready(P);
        if (P->stop || P->handed == P->m)
            return;
        size_t e = P->handed;
        subtree *t = &P->sub[e];
        if (t->state == DROPPED || t->state == TODO) {
            if (t->state == TODO)
                P->next++; /* tasks are taken in order: the oldest untaken is the next */
            t->state = RUNNING;
            pthread_mutex_unlock(&P->mu);
            int rc = run_direct(P, e);
            pthread_mutex_lock(&P->mu);
            P->handed++;
            if (rc) {
                P->stop = 1;
                P->rc = rc;
            }
            pthread_cond_broadcast(&P->cv);
        } else if (P->next < P->m) {
            take_buffered(P, 0, P->next++);
        } else {
            pthread_cond_wait(&P->cv, &P->mu); /* the oldest runs on another thread */
        }
    }
}

/* Another thread: the next subtree into its buffer, while there is room. */
static void part_helper(par *P, int i)
{
    while (!P->stop && P->next < P->m) {
        if (P->pending > P->pending_max)
            pthread_cond_wait(&P->cv, &P->mu);
        else
            take_buffered(P, i, P->next++);
    }
}

static void part(void *ctx, int i)
{
    par *P = ctx;
    pthread_mutex_lock(&P->mu);
    if (i == 0)
        part_calling(P);
    else
        part_helper(P, i);
    pthread_mutex_unlock(&P->mu);
}

int persona__mine_top_parallel(miner *mn, int threads, const persona__mine_params *p)
{
    par P;
    memset(&P, 0, sizeof P);
    P.pending_max = p->pending_words;
    P.subtree_max = p->subtree_words;
    if (threads > PERSONA__MAX_THREADS)
        threads = PERSONA__MAX_THREADS;
    P.top = mn;
    P.m = mn->lv[0].m;
    P.sub = persona__calloc(P.m, sizeof *P.sub);
    int rc = P.sub ? PERSONA_OK : persona__fail_nomem();
    int n_work = 0;
    for (; !rc && n_work < threads; n_work++)
        if (work_init(&P.work[n_work], mn))
            rc = persona__fail_nomem();
    if (!rc && pthread_mutex_init(&P.mu, NULL) == 0) {
        if (pthread_cond_init(&P.cv, NULL) == 0) {
            persona__mine_deliver(&mn->lv[0]);
            persona__parallel_run(threads, part, &P);
            rc = P.rc;
            pthread_cond_destroy(&P.cv);
        } else {
            rc = persona__fail(PERSONA_ENOMEM, "cannot create a condition variable");
        }
        pthread_mutex_destroy(&P.mu);
    } else if (!rc) {
        rc = persona__fail(PERSONA_ENOMEM, "cannot create a mutex");
    }
    for (int i = 0; i < n_work; i++)
        work_free(&P.work[i]);
    for (size_t e = 0; P.sub && e < P.m; e++)
        persona__free(P.sub[e].rec);
    persona__free(P.sub);
    return rc;
}
