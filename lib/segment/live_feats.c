/* Incremental feature state of live segments (live_feats.h). A profile's record is a
 * header and one block per feature with state; an all-zero record is a profile without
 * events. Event references in a record are stored plus one (0: none). */
#include <math.h>
#include <string.h>

#include "core/partials.h"
#include "segment/live_feats.h"

#define MS_PER_DAY INT64_C(86400000)
#define COUNT_LOOKBACK 64 /* events walked back to time a compared count() (feature.limit) */
#define LIVE_PARTIALS 8 /* exact sums of cents need up to 5 (measured on 5,000 values) */

/* The oldest event of a type still in a window, and how many are: the edge's time is
 * kept so that asking whether it left reads no event. */
typedef struct edge {
    uint32_t tail; /* event + 1 (0: none in the window) */
    uint32_t count;
    int64_t tail_t;
} edge;

typedef struct st_count {
    edge w;
    uint32_t head;      /* newest event of the type, + 1 */
    uint32_t change_ok; /* change_t is known (see LS_COUNT in persona__live_feats_eval) */
    int64_t change_t;
} st_count;

typedef struct st_sum {
    edge w;
    uint32_t n_part, part_failed; /* part_failed: the partials had no room; sum from events */
    double part[LIVE_PARTIALS];
} st_sum;

typedef struct st_time {
    int64_t t;
    uint32_t has, pad;
} st_time;

typedef struct st_restarted {
    edge w;
    int64_t left_t; /* newest event of the type that left the window */
    uint32_t has_left, pad;
} st_restarted;

typedef struct st_regularly {
    int64_t last_period; /* calendar period of the newest event of the type */
    uint64_t mask;       /* bit i: period last_period - i has one (0: no event yet) */
} st_regularly;

typedef struct st_sequence {
    uint32_t alive; /* bit r (r >= 1): some partial match of the first r steps lives */
    uint32_t dead0; /* a leading `not` event was seen (no window): no new match can start */
    int64_t best[PERSONA_RULE_MAX_STEPS + 1]; /* per state: latest start of its partials */
} st_sequence;

typedef struct st_category {
    uint32_t value; /* value id + 1 */
    uint32_t pad;
} st_category;

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Whether feature f's value can change with time alone. */
static int moves_with_time(const feature *f)
{
    switch (f->kind) {
    case F_COUNT: case F_SUM: case F_SEQUENCE:
        return f->window != 0;
    case F_DAYS_SINCE: case F_FIRST_TIME: case F_STOPPED: case F_RESTARTED: case F_REGULARLY:
        return 1;
    default:
        return 0;
    }
}

static uint8_t logic_deps(const persona_segment_model *m, uint32_t node, uint8_t *seen, uint8_t *deps);

/* DEP_* of segment k (seen: 1 while in progress or done; in_segment() chains are short and
 * acyclic, checked at compile). */
static uint8_t segment_deps(const persona_segment_model *m, uint32_t k, uint8_t *seen, uint8_t *deps)
{
    if (seen[k])
        return deps[k];
    seen[k] = 1;
    deps[k] = m->segs[k].kind == SEG_RULE ? logic_deps(m, m->segs[k].root, seen, deps) : 0;
    return deps[k];
}

static uint8_t logic_deps(const persona_segment_model *m, uint32_t node, uint8_t *seen, uint8_t *deps)
{
    const logic_node *n = &m->logic[node];
    uint8_t d = 0;
    switch (n->kind) {
    case L_NOT:
        return logic_deps(m, n->a, seen, deps);
    case L_AND:
    case L_OR:
        for (uint32_t i = 0; i < n->b; i++)
            d |= logic_deps(m, m->kids[n->a + i], seen, deps);
        return d;
    default:
        break;
    }
    const leaf *lf = &m->leaves[n->a];
    for (uint32_t c = lf->code; c < lf->code_end; c++) {
        const insn *i = &m->code[c];
        switch (i->op) {
        case OP_FEAT:
            d |= DEP_EVENTS | (moves_with_time(&m->feats[i->arg]) ? DEP_TIME : 0);
            break;
        case OP_NOW: d |= DEP_TIME; break;
        case OP_ATTR: case OP_EXISTS_ATTR: case OP_CONSENT: d |= DEP_HOST; break;
        case OP_INSEG: d |= segment_deps(m, i->arg, seen, deps); break;
        default: break; /* constants; the request context, which live evaluation has not */
        }
    }
    return d;
}

void persona__live_plan_make(live_plan *plan, const persona_segment_model *m)
{
    memset(plan, 0, sizeof *plan);
    size_t off = sizeof(rec_header);
    for (uint32_t fi = 0; fi < m->n_feats; fi++) {
        const feature *f = &m->feats[fi];
        uint8_t kind = LS_PROFILE;
        size_t size = 0;
        switch (f->kind) {
        case F_COUNT:
            if (f->window)
                kind = LS_COUNT, size = sizeof(st_count);
            break;
        case F_SUM:
            if (f->window)
                kind = LS_SUM, size = sizeof(st_sum);
            break;
        case F_DAYS_SINCE:
        case F_STOPPED:
            kind = LS_LAST_TIME, size = sizeof(st_time);
            break;
        case F_FIRST_TIME:
            kind = LS_FIRST_TIME, size = sizeof(st_time);
            break;
        case F_RESTARTED:
            kind = LS_RESTARTED, size = sizeof(st_restarted);
            break;
        case F_REGULARLY:
            kind = LS_REGULARLY, size = sizeof(st_regularly);
            break;
        case F_SEQUENCE:
            if (!(f->window && persona__seq_leading_not(m, f)))
                kind = LS_SEQUENCE,
                size = offsetof(st_sequence, best) + (persona__seq_positives(m, f) + 1) * sizeof(int64_t);
            break;
        case F_LAST:
            if (strcmp(m->slots[f->slot].str, "category") == 0)
                kind = LS_CATEGORY, size = sizeof(st_category);
            break;
        }
        plan->kind[fi] = kind;
        if (kind == LS_PROFILE)
            continue;
        plan->feats[plan->n++] = fi;
        plan->off[fi] = (uint32_t)off;
        plan->skip[fi] = 1;
        off += size;
    }
    plan->stride = round8(off);
    uint8_t seen[PERSONA_LIVE_SEGMENT_MAX] = { 0 };
    for (uint32_t k = 0; k < m->n_segs && k < PERSONA_LIVE_SEGMENT_MAX; k++)
        segment_deps(m, k, seen, plan->deps);
}

/* ---- reading the log ---- */

static int matches(const eval_state *es, uint32_t slot, uint32_t type)
{
    return persona__type_matches(es, slot, type);
}

static int64_t time_of(const persona_store *s, uint32_t e)
{
    return persona__eventlog_time(&s->log, e);
}

static uint32_t type_of(const persona_store *s, uint32_t e)
{
    return persona__eventlog_chunk(&s->log, e)->type[persona__eventlog_slot(e)];
}

/* The first event of the type at or after e's successor (+ 1; 0: none). */
static uint32_t next_of_type(const eval_state *es, uint32_t slot, uint32_t e, const uint32_t *fwd)
{
    for (e = fwd[e]; e != LOG_NO_ID; e = fwd[e])
        if (matches(es, slot, type_of(es->s, e)))
            return e + 1;
    return 0;
}

static void edge_add(edge *w, uint32_t e, int64_t t)
{
    w->count++;
    if (!w->tail) {
        w->tail = e + 1;
        w->tail_t = t;
    }
}

/* Whether the edge's event has left a window that starts after `horizon`. */
static int edge_leaving(const edge *w, int64_t horizon)
{
    return w->tail && w->tail_t <= horizon;
}

/* Take the edge's event out: the next of the type becomes the edge. */
static void edge_pop(const eval_state *es, edge *w, uint32_t slot, const uint32_t *fwd)
{
    w->count--;
    w->tail = next_of_type(es, slot, w->tail - 1, fwd);
    if (w->tail)
        w->tail_t = time_of(es->s, w->tail - 1);
}

/* The event of the type n events of it before e (e itself matches). */
static uint32_t back_of_type(const eval_state *es, uint32_t slot, uint32_t e, uint32_t n)
{
    while (n) {
        e = persona__eventlog_prev(&es->s->log, e);
        n -= matches(es, slot, type_of(es->s, e));
    }
    return e;
}

/* ---- events in ---- */

static void sequence_add(const eval_state *es, const feature *f, st_sequence *q, uint32_t type,
                         int64_t t)
{
    const seq_step *st = &es->m->steps[f->step0];
    uint32_t m = persona__seq_positives(es->m, f);
    uint32_t old = q->alive | (q->dead0 ? 0u : 1u); /* bit 0: state 0 lives */
    uint32_t kill = 0;
    for (uint32_t i = 0; i < f->n_steps; i++)
        if (st[i].negated && matches(es, st[i].slot, type))
            kill |= 1u << st[i].gap; /* an event in gap g ends the partials waiting there */
    uint32_t now_alive = old & ~kill;
    int64_t start[PERSONA_RULE_MAX_STEPS + 1];
    for (uint32_t r = 1; r <= m; r++)
        start[r] = q->best[r];
    uint32_t j = 0; /* positive step index: state j moves on to j + 1 */
    for (uint32_t i = 0; i < f->n_steps; i++) {
        if (st[i].negated)
            continue;
        if (matches(es, st[i].slot, type) && ((old >> j) & 1u)) {
            int64_t s = j == 0 ? t : start[j];
            if (!((now_alive >> (j + 1)) & 1u) || s > q->best[j + 1])
                q->best[j + 1] = s;
            now_alive |= 1u << (j + 1);
        }
        j++;
    }
    q->dead0 = !(now_alive & 1u);
    q->alive = now_alive & ~1u;
}

void persona__live_feats_add(const live_plan *plan, const eval_state *es, uint8_t *rec, uint32_t e)
{
    const persona_store *s = es->s;
    const log_chunk *c = persona__eventlog_chunk(&s->log, e);
    size_t k = persona__eventlog_slot(e);
    int64_t t = c->time[k];
    uint32_t type = c->type[k];
    for (uint32_t i = 0; i < plan->n; i++) {
        uint32_t fi = plan->feats[i];
        const feature *f = &es->m->feats[fi];
        uint8_t *st = rec + plan->off[fi];
        if (plan->kind[fi] == LS_SEQUENCE) {
            sequence_add(es, f, (st_sequence *)st, type, t);
            continue;
        }
        if (plan->kind[fi] == LS_CATEGORY) {
            uint32_t name = es->ids[f->slot];
            int col = name == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, name);
            uint32_t v = col >= 0 && c->props[col] ? c->props[col][k] : LOG_NO_ID;
            if (v != LOG_NO_ID)
                ((st_category *)st)->value = v + 1;
            continue;
        }
        if (!matches(es, f->slot, type))
            continue;
        switch (plan->kind[fi]) {
        case LS_COUNT: {
            st_count *w = (st_count *)st;
            edge_add(&w->w, e, t);
            w->head = e + 1;
            w->change_ok = 0;
            break;
        }
        case LS_SUM: {
            st_sum *w = (st_sum *)st;
            edge_add(&w->w, e, t);
            double v = c->value ? c->value[k] : NAN;
            if (!isnan(v) && !w->part_failed)
                w->part_failed = persona__partials_add(w->part, &w->n_part, LIVE_PARTIALS, v) != 0;
            break;
        }
        case LS_LAST_TIME: {
            st_time *x = (st_time *)st;
            x->t = t;
            x->has = 1;
            break;
        }
        case LS_FIRST_TIME: {
            st_time *x = (st_time *)st;
            if (!x->has) {
                x->t = t;
                x->has = 1;
            }
            break;
        }
        case LS_RESTARTED:
            edge_add(&((st_restarted *)st)->w, e, t);
            break;
        case LS_REGULARLY: {
            st_regularly *r = (st_regularly *)st;
            int64_t p = persona__period_index(t, f->period);
            int64_t d = r->mask ? p - r->last_period : 0; /* >= 0: events in time order */
            r->mask = (d >= 64 ? 0 : r->mask << d) | 1u;
            r->last_period = p;
            break;
        }
        }
    }
}

void persona__live_feats_replay(const live_plan *plan, eval_state *es, uint8_t *rec,
                                const uint32_t *fwd)
{
    const persona_store *s = es->s;
    const profile *p = &s->profiles[es->user];
    uint32_t first = p->last_event;
    size_t left = p->events;
    for (uint32_t e = first; e != LOG_NO_ID && left; e = persona__eventlog_prev(&s->log, e), left--)
        first = e;
    for (uint32_t e = first; e != LOG_NO_ID; e = fwd[e])
        persona__live_feats_add(plan, es, rec, e);
}

/* ---- answers ---- */



static double value_of(const persona_store *s, uint32_t e)
{
    return persona__eventlog_value(&s->log, e);
}

void persona__live_feats_eval(const live_plan *plan, eval_state *es, uint8_t *rec, const uint32_t *fwd)
{
    const persona_store *s = es->s;
    int64_t now = es->now;
    for (uint32_t i = 0; i < plan->n; i++) {
        uint32_t fi = plan->feats[i];
        const feature *f = &es->m->feats[fi];
        uint8_t *st = rec + plan->off[fi];
        rvalue *out = &es->feats[fi];
        switch (plan->kind[fi]) {
        case LS_COUNT: {
            st_count *w = (st_count *)st;
            while (edge_leaving(&w->w, now - f->window))
                edge_pop(es, &w->w, f->slot, fwd);
            /* Compared with constants up to limit only: an outcome changes at the earliest
             * when the count drops from limit + 1 to limit, as the (limit + 1)-th newest
             * event leaves (which only a new event changes). */
            if (f->limit >= 0 && f->limit < COUNT_LOOKBACK && w->w.count > (uint64_t)f->limit) {
                if (!w->change_ok) {
                    uint32_t e = back_of_type(es, f->slot, w->head - 1, (uint32_t)f->limit);
                    w->change_t = time_of(s, e) + f->window;
                    w->change_ok = 1;
                }
                persona__eval_change_at(es, w->change_t);
            } else if (w->w.tail) {
                persona__eval_change_at(es, w->w.tail_t + f->window);
            }
            *out = persona__rv_num((double)w->w.count);
            break;
        }
        case LS_SUM: {
            st_sum *w = (st_sum *)st;
            while (edge_leaving(&w->w, now - f->window)) {
                double v = value_of(s, w->w.tail - 1);
                if (!isnan(v) && !w->part_failed)
                    w->part_failed = persona__partials_add(w->part, &w->n_part, LIVE_PARTIALS, -v) != 0;
                edge_pop(es, &w->w, f->slot, fwd);
            }
            if (!w->w.count) { /* nothing left: exact again */
                w->n_part = 0;
                w->part_failed = 0;
            }
            if (w->w.tail)
                persona__eval_change_at(es, w->w.tail_t + f->window);
            *out = persona__rv_num(w->part_failed ? persona__feature_sum_exact(es, fi)
                                      : persona__partials_value(w->part, w->n_part));
            break;
        }
        case LS_LAST_TIME: {
            const st_time *x = (const st_time *)st;
            if (f->kind == F_DAYS_SINCE) {
                if (x->has)
                    persona__days_since_change(es, x->t, f->limit, MS_PER_DAY);
                *out = x->has ? persona__rv_num((double)((now - x->t) / MS_PER_DAY)) : persona__rv_missing;
            } else { /* stopped(): had one, and the newest has left the window */
                if (x->has)
                    persona__eval_change_at(es, x->t + f->window);
                *out = persona__rv_bool(x->has && x->t <= now - f->window);
            }
            break;
        }
        case LS_FIRST_TIME: {
            const st_time *x = (const st_time *)st;
            if (x->has)
                persona__eval_change_at(es, x->t + f->window);
            *out = persona__rv_bool(x->has && x->t > now - f->window);
            break;
        }
        case LS_RESTARTED: {
            st_restarted *w = (st_restarted *)st;
            while (edge_leaving(&w->w, now - f->window)) {
                w->left_t = w->w.tail_t;
                w->has_left = 1;
                edge_pop(es, &w->w, f->slot, fwd);
            }
            /* In the window, none in the gap before it, and one before the gap: the newest
             * event before the window is the one that decides both. */
            int yes = w->w.count > 0 && w->has_left && w->left_t <= now - f->window - f->gap;
            /* True: until the next event leaves the window (it then is in the gap). False:
             * at the earliest when the newest that left (or the next to leave) is a gap
             * further back; a look that finds it still false is harmless. */
            if (yes)
                persona__eval_change_at(es, w->w.tail_t + f->window);
            else if (w->w.count)
                persona__eval_change_at(es, (w->has_left ? w->left_t : w->w.tail_t) + f->window + f->gap);
            *out = persona__rv_bool(yes);
            break;
        }
        case LS_REGULARLY: {
            const st_regularly *r = (const st_regularly *)st;
            uint64_t last_n = f->n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << f->n) - 1;
            int64_t c = persona__period_index(now, f->period), d = c - r->last_period;
            uint64_t cur = !r->mask || d < 0 || d >= 64 ? 0 : (r->mask << d) & last_n;
            int yes = __builtin_popcountll(cur) >= (int)f->k;
            /* Without events the periods only leave: true until enough have left. */
            for (int64_t ahead = 1; yes && cur; ahead++) {
                cur = (cur << 1) & last_n;
                if (__builtin_popcountll(cur) < (int)f->k) {
                    persona__eval_change_at(es, persona__period_start(c + ahead, f->period));
                    break;
                }
            }
            *out = persona__rv_bool(yes);
            break;
        }
        case LS_SEQUENCE: {
            const st_sequence *q = (const st_sequence *)st;
            uint32_t m = persona__seq_positives(es->m, f);
            int done = (q->alive >> m) & 1u;
            if (done && f->window) {
                persona__eval_change_at(es, q->best[m] + f->window);
                done = q->best[m] > now - f->window;
            }
            *out = persona__rv_bool(done);
            break;
        }
        case LS_CATEGORY: {
            const st_category *x = (const st_category *)st;
            if (x->value) {
                rvalue r = { V_STR, persona__intern_len(&s->values, x->value - 1), { 0 } };
                r.u.str = persona__intern_str(&s->values, x->value - 1);
                *out = r;
            } else {
                *out = persona__rv_missing;
            }
            break;
        }
        }
    }
}
