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
