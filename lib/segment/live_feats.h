/* Incremental feature state for live segments: per profile, per behavioural function of
 * the live model, a few words that an event updates in constant time and that answer the
 * function as of the store's clock after the expired events are taken out (each event is
 * taken out of each window once, so the cost per event is constant amortized):
 *   - count() and sum() in a window, restarted(): a sliding window — the oldest event of
 *     the type still in it (a forward link away from the next one), the count, the exact
 *     sum of the values as partials (core/partials.h);
 *   - regularly(K of N periods): one such window edge per period;
 *   - days_since(), stopped(), first_time(): the newest / first time of the type;
 *   - sequence(): the automaton run oldest first, keeping per state the latest start of a
 *     partial match (a later start stays in the window longer and has the same future);
 *   - last() of the "category" property (other properties the profile keeps itself).
 * Traits, all-time counts and sums and the other last() values come from the profile as
 * in a batch evaluation. A profile whose events arrived out of time order, and a windowed
 * sequence() with a leading `not` step, are answered by the batch pass over the events
 * (rule_features.c) instead: the first because its chain is not in time order, the second
 * because which partial match counts then depends on the time of asking.
 *
 * The caller (live.c) holds the store's write lock. */
#ifndef PERSONA_SEGMENT_LIVE_FEATS_H
#define PERSONA_SEGMENT_LIVE_FEATS_H

#include <stddef.h>
#include <stdint.h>

#include "segment/rule_eval.h"

/* How a live feature is kept. */
enum {
    LS_PROFILE = 0, /* read from the profile (or the batch pass): no state */
    LS_COUNT, LS_SUM, LS_LAST_TIME, LS_FIRST_TIME, LS_RESTARTED, LS_REGULARLY, LS_SEQUENCE,
    LS_CATEGORY,
};

/* A profile's record starts with its mode — kept incrementally (an all-zero record is a
 * profile without events), or answered by the batch pass (events came out of order) —
 * and whether the profile was ever evaluated (its memberships are then known). */
enum { LM_INCREMENTAL = 0, LM_BATCH = 1 };
typedef struct rec_header {
    uint32_t mode;
    uint32_t evaluated;
} rec_header;
static inline uint32_t persona__live_rec_mode(const uint8_t *rec)
{
    return ((const rec_header *)rec)->mode;
}
static inline void persona__live_rec_set_batch(uint8_t *rec)
{
    ((rec_header *)rec)->mode = LM_BATCH;
}
/* The profile's memberships are not all known any more (a look failed, or host data
 * changed outside a look): its next look evaluates every rule. */
static inline void persona__live_rec_forget(uint8_t *rec)
{
    ((rec_header *)rec)->evaluated = 0;
}
/* 1 the first time it is asked for a record (until the record is cleared or forgotten). */
static inline int persona__live_rec_first_look(uint8_t *rec)
{
    rec_header *h = (rec_header *)rec;
    int first = !h->evaluated;
    h->evaluated = 1;
    return first;
}

/* What a segment's rule reads, for looks that need only some rules again. */
enum {
    DEP_EVENTS = 1, /* the user's events (traits, behavioural functions) */
    DEP_TIME = 2,   /* `now`, or a function whose value moves with time alone */
    DEP_HOST = 4,   /* attributes, consent, scores: changed by host calls (and event rules) */
};

typedef struct live_plan {
    uint32_t n; /* features with state, in feats[] */
    uint32_t feats[PERSONA_RULE_MAX_FEATURES];
    uint8_t kind[PERSONA_RULE_MAX_FEATURES]; /* per model feature: LS_* */
    uint32_t off[PERSONA_RULE_MAX_FEATURES]; /* per model feature: byte offset of its state */
    uint8_t skip[PERSONA_RULE_MAX_FEATURES]; /* per model feature: 1 = answered from state */
    size_t stride; /* bytes per profile record (a multiple of 8) */
    uint8_t deps[PERSONA_LIVE_SEGMENT_MAX]; /* per segment: DEP_* (in_segment() included) */
} live_plan;

/* Lay out the state of model m's features. */
void persona__live_plan_make(live_plan *plan, const persona_segment_model *m);

/* Forward links of the log: fwd[e] is the next event of e's profile (LOG_NO_ID: none). */

/* Build profile es->user's state from its events (its record must be zero): the events
 * oldest first through persona__live_feats_add. Needs fwd complete. */
void persona__live_feats_replay(const live_plan *plan, eval_state *es, uint8_t *rec,
                                const uint32_t *fwd);
/* Event e of the profile whose record is rec, newest of its profile, into the state.
 * es has the model, store, ids (as of the evaluation to come). */
void persona__live_feats_add(const live_plan *plan, const eval_state *es, uint8_t *rec, uint32_t e);
/* Take out what left the windows by es->now and write the answers into es->feats (the
 * features with state), noting the times they change next (es->next_change). */
void persona__live_feats_eval(const live_plan *plan, eval_state *es, uint8_t *rec, const uint32_t *fwd);

#endif
