/* Behavioural functions and traits of one profile as of `now` (docs/rules.md).
 *
 * What the profile keeps answers most of them in constant time when no event lies after
 * `now`: traits, all-time counts and sums, the last value of a property. The others read
 * the user's events through the log chain, newest arrival first, all features together in
 * one pass (in batches of ACC_BATCH features, so the per-feature state stays small on the
 * stack). While a user's events arrived in time order (no PROFILE_SESSIONS_DIRTY), the chain
 * is in (time, arrival) order, so the pass stops as soon as every feature has seen its
 * window; otherwise it reads the whole chain, and what needs order (sequence(), sessions)
 * reads a sorted copy (on the stack up to SORTED_STACK events, allocated beyond). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/exactsum.h"
#include "core/partials.h"
#include "segment/rule_eval.h"

#define ACC_BATCH 32
#define SUM_PARTIALS 8
#define SORTED_STACK 256
#define MS_PER_DAY INT64_C(86400000)

typedef struct acc {
    uint32_t feat;
    int done;
    int64_t horizon; /* events at or before it no longer matter (INT64_MIN: all do) */
    uint64_t a, b, after; /* counts: in the window / the gap before it / after now */
    double sum, comp;
    int64_t best_t;
    uint32_t found, value; /* days_since / last / last_seen: found, property value id */
    uint64_t mask;         /* regularly: periods with an event */
    uint32_t states;       /* sequence: live NFA states */
    int64_t prev_t;        /* sessions: previous (newer) event time */
    int has_prev;
    int col; /* last: the property's log column, -1 = none */
    /* For live segments: the oldest relevant event in the window (and in restarted()'s
     * gap). */
    int64_t oldest_a, oldest_b;
    /* sum() read from the events: the exact sum (partials; exactsum.h when they run out) */
    uint32_t n_part, part_failed;
    double part[SUM_PARTIALS]; /* last: not cleared */
} acc;



/* Neumaier step, as the store's own sums. */
static void sum_add(double *sum, double *comp, double v)
{
    persona__sum_add(sum, comp, v);
}

static int type_matches(const eval_state *es, uint32_t slot, uint32_t type)
{
    return persona__type_matches(es, slot, type);
}

/* Events of a type (or of any type) the profile holds, after `now` or not. */
static uint64_t type_total(const eval_state *es, uint32_t slot)
{
    const profile *p = &es->s->profiles[es->user];
    if (slot == SLOT_ANY)
        return p->events;
    uint32_t t = es->ids[slot];
    if (t == PERSONA__NO_ID)
        return 0;
    const type_stat *st = persona__profile_type_stat(es->s, es->user, t);
    return st ? st->count : 0;
}

/* ---- sequences: the automaton run on events newest first ----
 * State r (bit r) = the last r positive steps are matched by events seen so far, with no
 * event of a negation of the gap before them in between. An event first extends states
 * (r → r + 1 when it matches positive step m - 1 - r), then kills the states whose gap it
 * negates; state 0 is never re-entered (a trailing negation seen means no later match). */
static uint32_t seq_step_events(const eval_state *es, const feature *f, uint32_t states, uint32_t type)
{
    const seq_step *st = &es->m->steps[f->step0];
    uint32_t m = 0;
    for (uint32_t i = 0; i < f->n_steps; i++)
        m += !st[i].negated;
    uint32_t advance = 0, kill = 0;
    uint32_t j = 0; /* index of the positive step */
    for (uint32_t i = 0; i < f->n_steps; i++) {
        if (!type_matches(es, st[i].slot, type)) {
            j += !st[i].negated;
            continue;
        }
        if (st[i].negated)
            kill |= 1u << (m - st[i].gap); /* gap g is open in state m - g */
        else
            advance |= 1u << (m - 1 - j);  /* state m - 1 - j moves on */
        j += !st[i].negated;
    }
    uint32_t next = (states & ~kill) | ((states & advance) << 1);
    return next;
}

static uint32_t seq_positives(const eval_state *es, const feature *f)
{
    return persona__seq_positives(es->m, f);
}

/* Whether a sequence's answer is settled: matched with no leading negation that could
 * still undo it, or no live state left. */
static int seq_settled(const eval_state *es, const feature *f, uint32_t states)
{
    uint32_t m = seq_positives(es, f);
    return states == 0 || ((states >> m) & 1u && !persona__seq_leading_not(es->m, f));
}

/* Whether a behavioural function reads only events of types the user never had (so its
 * answer needs no event: 0, missing or false). A sequence needs every positive step. */
static int never_had(const eval_state *es, const feature *f)
{
    switch (f->kind) {
    case F_COUNT: case F_SUM: case F_DAYS_SINCE: case F_FIRST_TIME: case F_STOPPED:
    case F_RESTARTED: case F_REGULARLY:
        return type_total(es, f->slot) == 0;
    case F_SEQUENCE:
        for (uint32_t i = 0; i < f->n_steps; i++) {
            const seq_step *st = &es->m->steps[f->step0 + i];
            if (!st->negated && type_total(es, st->slot) == 0)
                return 1;
        }
        return 0;
    default:
        return 0;
    }
}

static void change_at(eval_state *es, int64_t t)
{
    persona__eval_change_at(es, t);
}

/* The latest time of the profile's events of a type (or of any type); 0 when it has
 * none. */
static int type_last_time(const eval_state *es, uint32_t slot, int64_t *last)
{
    const profile *p = &es->s->profiles[es->user];
    if (slot == SLOT_ANY) {
        *last = p->last_seen;
        return p->events > 0;
    }
    uint32_t t = es->ids[slot];
    const type_stat *st = t == PERSONA__NO_ID ? NULL : persona__profile_type_stat(es->s, es->user, t);
    if (!st || !st->count)
        return 0;
    *last = persona__eventlog_time(&es->s->log, st->latest);
    return 1;
}

/* days_since() and stopped() of a profile with no event after now: from the latest time of
 * the type, without reading events. 1 when answered. */
static int answer_from_last_time(eval_state *es, const feature *f, rvalue *out)
{
    int64_t last, now = es->now;
    if (!type_last_time(es, f->slot, &last))
        return 0;
    if (f->kind == F_DAYS_SINCE) {
        persona__days_since_change(es, last, f->limit, MS_PER_DAY);
        *out = persona__rv_num((double)((now - last) / MS_PER_DAY));
    } else { /* stopped(): the newest has left the window — true until a new event */
        if (last > now - f->window)
            change_at(es, last + f->window);
        *out = persona__rv_bool(last <= now - f->window);
    }
    return 1;
}

/* ---- the sorted copy, for out-of-order users ---- */

typedef struct ev_ref {
    int64_t t;
    uint32_t idx;
    uint32_t aux; /* event type, or basket id */
} ev_ref;

static int cmp_time_idx(const void *x, const void *y)
{
    const ev_ref *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_aux(const void *x, const void *y)
{
    const ev_ref *a = x, *b = y;
    return (a->aux > b->aux) - (a->aux < b->aux);
}

/* The user's events at or before now, sorted by (time, arrival) — or by basket with
 * baskets = 1 (events without one left out). *heap is set when it had to allocate. */
static int collect(eval_state *es, ev_ref *stack_buf, ev_ref **out, size_t *n_out, int baskets)
{
    const persona_store *s = es->s;
    const profile *p = &s->profiles[es->user];
    ev_ref *v = stack_buf;
    if (p->events > SORTED_STACK) {
        v = persona__calloc((size_t)p->events, sizeof *v);
        if (!v)
            return persona__fail_nomem();
    }
    size_t n = 0;
    for (uint32_t e = p->last_event; e != LOG_NO_ID && n < p->events;) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        int64_t t = c->time[k];
        if (t <= es->now) {
            uint32_t aux = baskets ? (c->basket ? c->basket[k] : LOG_NO_ID) : c->type[k];
            if (!baskets || aux != LOG_NO_ID) {
                v[n].t = t;
                v[n].idx = e;
                v[n].aux = aux;
                n++;
            }
        }
        e = c->prev[k];
    }
    qsort(v, n, sizeof *v, baskets ? cmp_aux : cmp_time_idx);
    *out = v;
    *n_out = n;
    return 0;
}

static void release(ev_ref *v, ev_ref *stack_buf)
{
    if (v != stack_buf)
        persona__free(v);
}

/* sessions, orders and the sequences of an out-of-order user, from sorted copies. */
static int sorted_features(eval_state *es, int want_sessions, int want_orders, int want_seq)
{
    ev_ref stack_buf[SORTED_STACK];
    ev_ref *v;
    size_t n;
    int rc;
    const persona_segment_model *m = es->m;
    if (want_sessions || want_seq) {
        if ((rc = collect(es, stack_buf, &v, &n, 0)))
            return rc;
        for (size_t fi = 0; fi < m->n_feats; fi++) {
            const feature *f = &m->feats[fi];
            if (f->kind == F_SESSIONS && want_sessions) {
                uint64_t sessions = n ? 1 : 0;
                for (size_t i = 1; i < n; i++)
                    sessions += v[i].t - v[i - 1].t > es->s->session_gap_ms;
                es->feats[fi] = persona__rv_num((double)sessions);
            } else if (f->kind == F_SEQUENCE && want_seq) {
                uint32_t states = 1;
                int64_t oldest = INT64_MAX;
                for (size_t i = n; i-- > 0 && (f->window || !seq_settled(es, f, states));) {
                    if (f->window && v[i].t <= es->now - f->window)
                        break;
                    states = seq_step_events(es, f, states, v[i].aux);
                    oldest = v[i].t;
                }
                if (f->window && oldest != INT64_MAX)
                    change_at(es, oldest + f->window);
                es->feats[fi] = persona__rv_bool((states >> seq_positives(es, f)) & 1u);
            }
        }
        release(v, stack_buf);
    }
    if (want_orders) {
        if ((rc = collect(es, stack_buf, &v, &n, 1)))
            return rc;
        uint64_t orders = 0;
        for (size_t i = 0; i < n; i++)
            orders += i == 0 || v[i].aux != v[i - 1].aux;
        release(v, stack_buf);
        for (size_t fi = 0; fi < m->n_feats; fi++)
            if (m->feats[fi].kind == F_ORDERS)
                es->feats[fi] = persona__rv_num((double)orders);
    }
    return 0;
}

/* ---- the pass over the chain ---- */

double persona__feature_sum_exact(const eval_state *es, uint32_t fi)
{
    const feature *f = &es->m->feats[fi];
    const persona_store *s = es->s;
    const profile *p = &s->profiles[es->user];
    persona__exactsum x;
    persona__exactsum_init(&x);
    size_t left = p->events;
    for (uint32_t e = p->last_event; e != LOG_NO_ID && left; left--) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        int64_t t = c->time[k];
        if (t <= es->now && (!f->window || t > es->now - f->window) &&
            type_matches(es, f->slot, c->type[k]) && c->value)
            persona__exactsum_add(&x, c->value[k]); /* NaN (no value) is ignored */
        e = c->prev[k];
    }
    double v = persona__exactsum_value(&x);
    return v == 0.0 ? 0.0 : v;
}

static int64_t sub_clamped(int64_t a, int64_t b)
{
    /* now ≥ PERSONA_TIME_MIN and windows ≤ ~3.2e14 ms: no overflow, but stay safe. */
    return a < INT64_MIN + b ? INT64_MIN : a - b;
}

/* Set up the accumulator of feature fi; returns 0 when the feature was answered without
 * the events (or is answered by the sorted pass), 1 when the pass must read events. */
static int acc_init(eval_state *es, uint32_t fi, acc *a, int future, int monotone)
{
    const feature *f = &es->m->feats[fi];
    const profile *p = &es->s->profiles[es->user];
    int64_t now = es->now, horizon = INT64_MIN;
    uint32_t states = 0;
    int col = 0;
    if (never_had(es, f)) {
        es->feats[fi] = f->kind == F_COUNT || f->kind == F_SUM ? persona__rv_num(0)
                      : f->kind == F_DAYS_SINCE ? persona__rv_missing : persona__rv_bool(0);
        return 0;
    }
    switch (f->kind) {
    case F_EVENTS:
        if (!future) {
            es->feats[fi] = persona__rv_num((double)p->events);
            return 0;
        }
        horizon = now; /* events - those after now */
        goto pass;
    case F_VALUE:
        if (!future) {
            es->feats[fi] = persona__rv_num(p->value_sum + p->value_comp);
            return 0;
        }
        goto pass;
    case F_FIRST_SEEN:
        es->feats[fi] = p->first_seen <= now ? persona__rv_num((double)p->first_seen) : persona__rv_missing;
        return 0;
    case F_LAST_SEEN:
        if (!future) {
            es->feats[fi] = persona__rv_num((double)p->last_seen);
            return 0;
        }
        goto pass;
    case F_SESSIONS:
        if (monotone && !future) {
            es->feats[fi] = persona__rv_num((double)p->sessions);
            return 0;
        }
        if (!monotone)
            return 0; /* out of order: the sorted pass */
        goto pass;
    case F_ORDERS:
        if (!future) {
            es->feats[fi] = persona__rv_num((double)p->orders);
            return 0;
        }
        return 0; /* the sorted pass */
    case F_COUNT:
    case F_SUM:
        if (!f->window && !future) {
            if (f->kind == F_COUNT) {
                es->feats[fi] = persona__rv_num((double)type_total(es, f->slot));
            } else if (f->slot == SLOT_ANY) {
                es->feats[fi] = persona__rv_num(p->value_sum + p->value_comp);
            } else {
                uint32_t t = es->ids[f->slot];
                const type_stat *st = t == PERSONA__NO_ID ? NULL : persona__profile_type_stat(es->s, es->user, t);
                es->feats[fi] = persona__rv_num(st ? st->value + st->comp : 0);
            }
            return 0;
        }
        if (f->window)
            horizon = sub_clamped(now, f->window);
        goto pass;
    case F_DAYS_SINCE:
    case F_STOPPED:
        if (!future && answer_from_last_time(es, f, &es->feats[fi]))
            return 0;
        if (f->kind == F_STOPPED)
            horizon = sub_clamped(now, f->window);
        goto pass;
    case F_FIRST_TIME:
        horizon = sub_clamped(now, f->window);
        goto pass;
    case F_RESTARTED:
        horizon = sub_clamped(sub_clamped(now, f->window), f->gap);
        goto pass;
    case F_REGULARLY: /* from the start of the oldest of the N periods */
        horizon = persona__period_start(persona__period_index(now, f->period) - (int64_t)f->n + 1,
                                           f->period) - 1;
        goto pass;
    case F_SEQUENCE:
        if (!monotone)
            return 0; /* the sorted pass */
        states = 1;
        if (f->window)
            horizon = sub_clamped(now, f->window);
        goto pass;
    case F_LAST: {
        /* The profile keeps the last value of every property but "category" (which feeds
         * engagement instead). */
        if (!future && es->ids[f->slot] != es->s->category_name) {
            uint32_t name = es->ids[f->slot];
            uint32_t e = name == PERSONA__NO_ID ? UINT32_MAX
                       : persona__pairmap_find(&es->s->user_prop, PERSONA__PAIR(es->user, name));
            if (e == UINT32_MAX) {
                es->feats[fi] = persona__rv_missing;
            } else {
                uint32_t v = es->s->last_props[e].value;
                rvalue r = { V_STR, persona__intern_len(&es->s->values, v), { 0 } };
                r.u.str = persona__intern_str(&es->s->values, v);
                es->feats[fi] = r;
            }
            return 0;
        }
        col = es->ids[f->slot] == PERSONA__NO_ID ? -1
            : persona__eventlog_prop_col(&es->s->log, es->ids[f->slot]);
        goto pass;
    }
    }
    return 0;
pass:
    /* Only features that read events get an accumulator (clearing one costs more than
     * answering most features). */
    memset(a, 0, offsetof(acc, part)); /* the partials count from n_part */
    a->feat = fi;
    a->horizon = horizon;
    a->states = states;
    a->col = col;
    a->oldest_a = a->oldest_b = INT64_MAX;
    return 1;
}

/* One event (newest arrival first) into one accumulator. */
static void acc_event(eval_state *es, acc *a, const log_chunk *c, size_t k, int monotone)
{
    const feature *f = &es->m->feats[a->feat];
    int64_t t = c->time[k], now = es->now;
    uint32_t type = c->type[k];
    if (t > now) {
        if (f->kind == F_EVENTS)
            a->after++;
        else if ((f->kind == F_FIRST_TIME || f->kind == F_STOPPED || f->kind == F_RESTARTED) &&
                 type_matches(es, f->slot, type))
            a->after++;
        return;
    }
    switch (f->kind) {
    case F_EVENTS:
        break;
    case F_VALUE: {
        double v = c->value ? c->value[k] : NAN;
        if (!isnan(v))
            sum_add(&a->sum, &a->comp, v);
        break;
    }
    case F_LAST_SEEN:
        if (!a->found || t > a->best_t) {
            a->best_t = t;
            a->found = 1;
        }
        a->done = monotone;
        break;
    case F_SESSIONS: /* monotone only: times come newest first */
        if (a->has_prev && a->prev_t - t > es->s->session_gap_ms)
            a->a++;
        if (!a->has_prev)
            a->a = 1;
        a->has_prev = 1;
        a->prev_t = t;
        break;
    case F_COUNT:
    case F_SUM:
        if (type_matches(es, f->slot, type) && (!f->window || t > now - f->window)) {
            a->a++;
            if (t < a->oldest_a)
                a->oldest_a = t;
            double v = c->value ? c->value[k] : NAN;
            if (f->kind == F_SUM && !isnan(v) && !a->part_failed)
                a->part_failed = persona__partials_add(a->part, &a->n_part, SUM_PARTIALS, v) != 0;
        }
        break;
    case F_DAYS_SINCE:
        if (type_matches(es, f->slot, type)) {
            if (!a->found || t > a->best_t)
                a->best_t = t;
            a->found = 1;
            a->done = monotone;
        }
        break;
    case F_FIRST_TIME:
    case F_STOPPED:
    case F_RESTARTED:
        if (type_matches(es, f->slot, type)) {
            if (t > now - f->window) {
                a->a++;
                if (t < a->oldest_a)
                    a->oldest_a = t;
                if (t > a->best_t || !a->found) { /* stopped(): the newest in the window */
                    a->best_t = t;
                    a->found = 1;
                }
                /* In time order the first one decides stopped() (false until it leaves). */
                a->done = monotone && f->kind == F_STOPPED;
            } else if (f->kind == F_RESTARTED && t > now - f->window - f->gap) {
                a->b++;
                if (t < a->oldest_b || a->oldest_b == INT64_MAX)
                    a->oldest_b = t;
                /* In time order the first event of the gap decides: restarted() is false
                 * until the newest of the gap (this one) has left it, which is the time
                 * that matters; the window above is complete by now. */
                a->done = monotone;
            }
        }
        break;
    case F_REGULARLY:
        if (type_matches(es, f->slot, type) && t > a->horizon) {
            int64_t j = persona__period_index(now, f->period) - persona__period_index(t, f->period);
            if (j < (int64_t)f->n)
                a->mask |= UINT64_C(1) << j;
        }
        break;
    case F_SEQUENCE:
        if (!f->window || t > now - f->window) {
            a->states = seq_step_events(es, f, a->states, type);
            /* Windowed: read the whole window, so the time it changes is known. */
            a->done = !f->window && seq_settled(es, f, a->states);
            if (f->window && t < a->oldest_a)
                a->oldest_a = t;
        }
        break;
    case F_LAST: {
        uint32_t v = a->col >= 0 && c->props[a->col] ? c->props[a->col][k] : LOG_NO_ID;
        if (v != LOG_NO_ID && (!a->found || t > a->best_t)) {
            a->best_t = t;
            a->value = v;
            a->found = 1;
            a->done = monotone;
        }
        break;
    }
    }
}

/* The earliest time after now at which the feature's value may change with no new event
 * (an event leaves a window or crosses a period; days_since() moves on a day): live
 * segments look again then. Conservative: a look that finds nothing changed is harmless. */
static void acc_change(eval_state *es, const acc *a)
{
    const feature *f = &es->m->feats[a->feat];
    switch (f->kind) {
    case F_COUNT: case F_SUM: case F_FIRST_TIME: case F_SEQUENCE:
        if (f->window && a->oldest_a != INT64_MAX)
            change_at(es, a->oldest_a + f->window);
        break;
    case F_STOPPED: /* true once the newest event of the window has left it */
        if (a->found)
            change_at(es, a->best_t + f->window);
        break;
    case F_RESTARTED:
        if (a->oldest_a != INT64_MAX)
            change_at(es, a->oldest_a + f->window);
        if (a->oldest_b != INT64_MAX)
            change_at(es, a->oldest_b + f->window + f->gap);
        break;
    case F_REGULARLY: /* the periods move on at the next boundary */
        if (a->mask)
            change_at(es, persona__period_start(persona__period_index(es->now, f->period) + 1, f->period));
        break;
    case F_DAYS_SINCE:
        if (a->found)
            persona__days_since_change(es, a->best_t, f->limit, MS_PER_DAY);
        break;
    }
}

static void acc_finish(eval_state *es, acc *a)
{
    const feature *f = &es->m->feats[a->feat];
    const profile *p = &es->s->profiles[es->user];
    rvalue *out = &es->feats[a->feat];
    acc_change(es, a);
    switch (f->kind) {
    case F_EVENTS: *out = persona__rv_num((double)(p->events - a->after)); break;
    case F_VALUE: *out = persona__rv_num(a->sum + a->comp); break;
    case F_LAST_SEEN: *out = a->found ? persona__rv_num((double)a->best_t) : persona__rv_missing; break;
    case F_SESSIONS: *out = persona__rv_num((double)a->a); break;
    case F_COUNT: *out = persona__rv_num((double)a->a); break;
    case F_SUM:
        *out = persona__rv_num(a->part_failed ? persona__feature_sum_exact(es, a->feat)
                                  : persona__partials_value(a->part, a->n_part));
        break;
    case F_DAYS_SINCE:
        *out = a->found ? persona__rv_num((double)((es->now - a->best_t) / MS_PER_DAY)) : persona__rv_missing;
        break;
    case F_FIRST_TIME:
    case F_STOPPED:
    case F_RESTARTED: {
        /* a and b are exact unless the pass stopped early, which it does only once they
         * settle the answer (stopped: a > 0; restarted: b > 0). */
        uint64_t upto_now = type_total(es, f->slot) - a->after;
        uint64_t before = upto_now - a->a - a->b; /* at or before the window (and gap) */
        if (f->kind == F_FIRST_TIME)
            *out = persona__rv_bool(a->a > 0 && before == 0);
        else if (f->kind == F_STOPPED)
            *out = persona__rv_bool(a->a == 0 && before > 0);
        else
            *out = persona__rv_bool(a->a > 0 && a->b == 0 && before > 0);
        break;
    }
    case F_REGULARLY: {
        uint32_t periods = (uint32_t)__builtin_popcountll(a->mask);
        *out = persona__rv_bool(periods >= f->k);
        break;
    }
    case F_SEQUENCE: *out = persona__rv_bool((a->states >> seq_positives(es, f)) & 1u); break;
    case F_LAST:
        if (a->found) {
            rvalue r = { V_STR, persona__intern_len(&es->s->values, a->value), { 0 } };
            r.u.str = persona__intern_str(&es->s->values, a->value);
            *out = r;
        } else {
            *out = persona__rv_missing;
        }
        break;
    }
}

/* Read the chain for accumulators accs[0..n). */
static void chain_pass(eval_state *es, acc *accs, size_t n, int monotone)
{
    const persona_store *s = es->s;
    const profile *p = &s->profiles[es->user];
    int64_t stop = INT64_MIN; /* monotone: the pass ends at an event at or before it */
    if (monotone) {
        stop = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (!accs[i].done && accs[i].horizon < stop)
                stop = accs[i].horizon;
    }
    /* In time order, the profile's last_seen is the newest event's time: when it is
     * already past every horizon the log need not be touched. */
    if (monotone && p->last_seen <= stop && p->last_seen <= es->now)
        return;
    for (uint32_t e = p->last_event; e != LOG_NO_ID;) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        int64_t t = c->time[k];
        if (monotone && t <= stop && t <= es->now)
            break;
        int settled = 0;
        for (size_t i = 0; i < n; i++) {
            if (accs[i].done)
                continue;
            acc_event(es, &accs[i], c, k, monotone);
            settled |= accs[i].done;
        }
        if (settled && monotone) {
            stop = INT64_MAX;
            int all_done = 1;
            for (size_t i = 0; i < n; i++)
                if (!accs[i].done) {
                    all_done = 0;
                    if (accs[i].horizon < stop)
                        stop = accs[i].horizon;
                }
            if (all_done)
                break;
        }
        e = c->prev[k];
    }
}

int persona__features_compute(eval_state *es)
{
    const persona_segment_model *m = es->m;
    es->feats_ready = 1;
    const profile *p = es->user == PERSONA__NO_ID ? NULL : &es->s->profiles[es->user];
    if (!p || p->events == 0 || p->first_seen > es->now) {
        /* No events at or before now. */
        for (size_t fi = 0; fi < m->n_feats; fi++) {
            const feature *f = &m->feats[fi];
            if (es->skip && es->skip[fi])
                continue;
            switch (f->kind) {
            case F_EVENTS: case F_VALUE: case F_ORDERS: case F_SESSIONS: case F_COUNT: case F_SUM:
                es->feats[fi] = persona__rv_num(0);
                break;
            case F_FIRST_SEEN: case F_LAST_SEEN: case F_DAYS_SINCE: case F_LAST:
                es->feats[fi] = persona__rv_missing;
                break;
            default:
                es->feats[fi] = persona__rv_bool(0);
            }
        }
        return 0;
    }
    int future = p->last_seen > es->now;
    int monotone = !(p->flags & PROFILE_SESSIONS_DIRTY);
    int want_sessions = 0, want_orders = 0, want_seq = 0;
    acc accs[ACC_BATCH];
    size_t n = 0;
    for (size_t fi = 0; fi < m->n_feats; fi++) {
        const feature *f = &m->feats[fi];
        if (es->skip && es->skip[fi])
            continue;
        if (!acc_init(es, (uint32_t)fi, &accs[n], future, monotone)) {
            want_sessions |= f->kind == F_SESSIONS && !(monotone && !future);
            want_orders |= f->kind == F_ORDERS && future;
            want_seq |= f->kind == F_SEQUENCE && !monotone && !never_had(es, f);
            continue;
        }
        if (++n == ACC_BATCH) {
            chain_pass(es, accs, n, monotone);
            for (size_t i = 0; i < n; i++)
                acc_finish(es, &accs[i]);
            n = 0;
        }
    }
    if (n) {
        chain_pass(es, accs, n, monotone);
        for (size_t i = 0; i < n; i++)
            acc_finish(es, &accs[i]);
    }
    if (want_sessions || want_orders || want_seq) {
        int rc = sorted_features(es, want_sessions, want_orders, want_seq);
        if (rc) {
            es->rc = rc;
            return rc;
        }
    }
    return 0;
}
