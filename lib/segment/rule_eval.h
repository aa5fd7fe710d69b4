/* Evaluating a compiled model for one profile: the state of one evaluation (kept on the
 * caller's stack: nothing is allocated), the VM, the logic walk and the features. The
 * caller holds the store's read lock. */
#ifndef PERSONA_SEGMENT_RULE_EVAL_H
#define PERSONA_SEGMENT_RULE_EVAL_H

#include "segment/rule_internal.h"
#include "store/store_internal.h"

/* Deepest VM stack of a leaf; the compiler rejects rules that would need more. */
#define VM_STACK 96

typedef struct eval_state {
    const persona_segment_model *m;
    const persona_store *s;
    uint32_t user; /* profile (root), or PERSONA__NO_ID for a key the store does not know */
    const char *key; /* the key asked about (list segments of an unknown key), or NULL */
    int64_t now;
    const persona_eval_context *ctx;
    const uint32_t *ids; /* store id of every name slot (PERSONA__NO_ID: not in the store) */
    int feats_ready;
    const uint8_t *skip; /* per feature: 1 = already in feats (live state), or NULL */
    int rc;    /* first error met (ENOMEM from the sorted pass), sticky */
    int depth; /* in_segment() nesting */
    int64_t next_change; /* earliest time after now a feature read may change (INT64_MAX:
                            none): when live segments look at this user again */
    rvalue feats[PERSONA_RULE_MAX_FEATURES];
    uint8_t memo[PERSONA_SEGMENT_MAX]; /* per memo slot: 0 unknown, 1 false, 2 true */
} eval_state;

/* Prepare es for one user (memo cleared, features not computed yet). */
void persona__eval_begin(eval_state *es, const persona_segment_model *m, const persona_store *s,
                         uint32_t user, int64_t now, const persona_eval_context *ctx,
                         const uint32_t *ids);
/* Truth of segment seg's rule (or list) for the user: 1, 0, or a negative error code. */
int persona__eval_segment(eval_state *es, uint32_t seg);
/* Truth of a logic node: 1, 0, or negative. */
int persona__eval_logic(eval_state *es, uint32_t node);
/* Run code[from .. to), which leaves one value, into *out. 0 or negative. */
int persona__vm_run(eval_state *es, uint32_t from, uint32_t to, rvalue *out);
/* Compute every feature of the model for the user (rule_features.c). 0 or negative. */
int persona__features_compute(eval_state *es);
/* sum() feature fi summed from the user's events with exactsum.h (what the partials of
 * the pass give, when they had no room). */
double persona__feature_sum_exact(const eval_state *es, uint32_t fi);
/* Note a time after now at which a feature may change (for live segments). */
static inline void persona__eval_change_at(eval_state *es, int64_t t)
{
    if (t > es->now && t < es->next_change)
        es->next_change = t;
}
/* The next look at a days_since() feature whose newest event is at `last` (ms per day
 * `day`): when the day count moves on, unless it is past every limit a rule compares it
 * with (feature.limit, -1 = none). */
static inline void persona__days_since_change(eval_state *es, int64_t last, int64_t limit,
                                              int64_t day)
{
    int64_t d = (es->now - last) / day;
    if (limit < 0 || d <= limit)
        persona__eval_change_at(es, last + (d + 1) * day);
}
/* Whether an event type (store id) is the one of name slot `slot` (or any, for "*"). */
static inline int persona__type_matches(const eval_state *es, uint32_t slot, uint32_t type)
{
    return slot == SLOT_ANY || es->ids[slot] == type;
}
/* The positive steps of sequence feature f. */
static inline uint32_t persona__seq_positives(const persona_segment_model *m, const feature *f)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->n_steps; i++)
        n += !m->steps[f->step0 + i].negated;
    return n;
}
/* Whether sequence feature f has a negation before its first positive step. */
static inline int persona__seq_leading_not(const persona_segment_model *m, const feature *f)
{
    for (uint32_t i = 0; i < f->n_steps; i++)
        if (m->steps[f->step0 + i].negated && m->steps[f->step0 + i].gap == 0)
            return 1;
    return 0;
}
/* The calendar period of time t for regularly(): periods of P ms counted in UTC from
 * 1970-01-01 00:00, weeks from Monday 1970-01-05. */
static inline int64_t persona__period_index(int64_t t, int64_t period)
{
    int64_t x = t - (period == INT64_C(604800000) ? INT64_C(345600000) : 0);
    int64_t q = x / period;
    return q - (x % period < 0);
}
static inline int64_t persona__period_start(int64_t index, int64_t period)
{
    return index * period + (period == INT64_C(604800000) ? INT64_C(345600000) : 0);
}
/* Whether a value counts as true in and / or / not. */
static inline int persona__truth(const rvalue *v)
{
    return v->tag == V_BOOL && v->u.b;
}

/* Resolve the model's name slots against store s into ids (n_slots entries), through the
 * model's per-store cache (segment_bind.c). Caller holds the store's lock. */
void persona__bind(const persona_segment_model *m, const persona_store *s, uint32_t *ids);

/* The evaluation time of a context: its now_ms, or the store's clock. Caller holds the
 * lock. EINVAL for a bad context. */
int persona__eval_now(const persona_store *s, const persona_eval_context *ctx, int64_t *now);

#endif
