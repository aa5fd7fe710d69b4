/* The miner's top level on several threads. The subtrees of the top-level items are
 * independent once level 0 is built and its occurrences delivered: each thread mines whole
 * subtrees with its own levels (and its own level-0 counters, the only part of level 0 a
 * subtree writes), taking the next item in order. A subtree's itemsets go to its own
 * buffer; the calling thread hands the buffers to the emit callback strictly in item
 * order, so the callback sees exactly the sequential sequence (same sets, same order, the
 * same itemset at which max_itemsets or a callback stops it).
 *
 * The calling thread also mines: it takes the next subtree whenever the oldest unhanded one
 * is not finished, so it never waits for a subtree nobody has started (and works alone
 * when no thread could be started). Other threads stop taking subtrees while the finished
 * but unhanded buffers hold more than persona__itemsets_parallel_pending words, which
 * bounds the extra memory. */
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "itemsets/itemsets_internal.h"
#include "itemsets/mine_internal.h"

size_t persona__itemsets_parallel_min = (size_t)1 << 16;
size_t persona__itemsets_parallel_pending = (size_t)16 << 20; /* words: 64 MB */

enum { TODO, RUNNING, DONE };

/* One top-level item's subtree: its itemsets as records (size k, count low and high
 * words, then the k items). */
typedef struct subtree {
    uint32_t *rec;
    size_t n, cap;
    int rc, nomem, state;
} subtree;

typedef struct par {
    miner *top;              /* level 0, the callback, the global count */
    miner work[PERSONA__MAX_THREADS];
    subtree *sub;            /* one per top-level item */
    size_t m, next, handed;  /* items; the next to take; the next to hand over */
    size_t pending;          /* words of finished, unhanded buffers */
    int stop, rc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} par;

static int buffer_emit(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    subtree *t = ctx;
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

/* Mine subtree e on thread i. */
static void run_subtree(par *P, int i, size_t e)
{
    miner *w = &P->work[i];
    subtree *t = &P->sub[e];
    w->ctx = t;
    w->emitted = 0; /* a subtree alone past max_itemsets means the whole is too */
    w->n_pe = 0;
    int rc = persona__mine_item(w, 0, (uint32_t)e);
    if (rc == PERSONA_ECALLBACK && t->nomem)
        rc = PERSONA_ENOMEM;
    t->rc = rc;
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

static void part(void *ctx, int i)
{
    par *P = ctx;
    pthread_mutex_lock(&P->mu);
    for (;;) {
        if (i == 0) {
            hand_over_ready(P);
            if (P->stop || P->handed == P->m)
                break;
        }
        if (P->stop || P->next == P->m || (i != 0 && P->pending > persona__itemsets_parallel_pending)) {
            if (i != 0 && (P->stop || P->next == P->m))
                break;
            pthread_cond_wait(&P->cv, &P->mu); /* thread 0: the oldest runs elsewhere */
            continue;
        }
        size_t e = P->next++;
        P->sub[e].state = RUNNING;
        pthread_mutex_unlock(&P->mu);
        run_subtree(P, i, e);
        pthread_mutex_lock(&P->mu);
        P->sub[e].state = DONE;
        P->pending += P->sub[e].n;
        if (P->sub[e].rc)
            P->next = P->m; /* the result is an error: start nothing more */
        pthread_cond_broadcast(&P->cv);
    }
    pthread_mutex_unlock(&P->mu);
}

int persona__mine_top_parallel(miner *mn, int threads)
{
    par P;
    memset(&P, 0, sizeof P);
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
