/* The compiled form of rules, shared by the files of lib/segment/.
 *
 * A rule compiles (rule_parse.c → rule_compile.c) into three parts:
 *   - a logic tree of and / or / not nodes over leaves, walked with short-circuit by
 *     rule_eval.c and by the explanation (segment_describe.c);
 *   - leaves: maximal non-logical subexpressions (a comparison, a boolean function, a bare
 *     attribute), each a stretch of stack bytecode run by the VM (rule_vm.c);
 *   - features: the behavioural functions and traits, computed per user in one pass over
 *     their newest events (rule_features.c) and read by the bytecode.
 * Names (event types, attribute and property names) are slots resolved against a store's
 * intern tables at evaluation time, cached per store (segment_bind.c). */
#ifndef PERSONA_SEGMENT_RULE_INTERNAL_H
#define PERSONA_SEGMENT_RULE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/glob.h"
#include "persona/segment.h"

/* ---- run-time values ---- */

enum { V_MISSING = 0, V_NUM = 1, V_STR = 2, V_BOOL = 3 };
typedef struct rvalue {
    uint32_t tag;
    uint32_t len; /* V_STR */
    union {
        double num;
        const char *str;
        int b;
    } u;
} rvalue;

/* Values of the three kinds (a number is kept as given, NaN included: callers that
 * must read NaN as missing say so). */
static inline rvalue persona__rv_num(double v)
{
    rvalue r = { V_NUM, 0, { 0 } };
    r.u.num = v;
    return r;
}
static inline rvalue persona__rv_bool(int b)
{
    rvalue r = { V_BOOL, 0, { 0 } };
    r.u.b = b != 0;
    return r;
}
static const rvalue persona__rv_missing = { V_MISSING, 0, { 0 } };

/* ---- static types ---- */
enum { TY_NUM = 1, TY_STR = 2, TY_BOOL = 3, TY_ANY = 4 };

/* ---- bytecode ---- */
enum {
    OP_NUM,       /* push nums[arg] */
    OP_STR,       /* push strs[arg] */
    OP_BOOL,      /* push flag */
    OP_NOW,       /* push now */
    OP_FEAT,      /* push the user's feature arg */
    OP_ATTR,      /* push attribute slot arg (flag 1: numbers only, for score()) */
    OP_CTX,       /* push context field strs[arg] */
    OP_CTX_HOUR,  /* push ctx.hour */
    OP_EXISTS_ATTR, OP_EXISTS_CTX, OP_EXISTS_HOUR,
    OP_CONSENT,   /* push consent of purpose slot arg */
    OP_INSEG,     /* push membership of segment arg */
    OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
    OP_CMP,       /* flag: CMP_* */
    OP_IN,        /* list arg; flag 1 = not in */
    OP_CONTAINS, OP_STARTS, OP_ENDS, /* flag 1 = negated (contains only) */
    OP_MATCHES,   /* glob strs[arg] */
    OP_BETWEEN,   /* flag 1 = not between */
    OP_TRUTH,     /* top := (top is true) */
    OP_NOT, OP_AND, OP_OR, /* eager, on truth values (logic inside a leaf) */
    OP_NEXT,      /* push next_event() */
};
enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

typedef struct insn {
    uint8_t op;
    uint8_t flag;
    uint16_t pad;
    uint32_t arg;
} insn;

/* ---- features ---- */
enum {
    F_EVENTS, F_VALUE, F_ORDERS, F_SESSIONS, F_FIRST_SEEN, F_LAST_SEEN, /* traits */
    F_COUNT, F_SUM, F_DAYS_SINCE, F_FIRST_TIME, F_STOPPED, F_RESTARTED, F_REGULARLY,
    F_SEQUENCE, F_LAST,
};
#define SLOT_ANY UINT32_MAX /* the event type "*" */

typedef struct feature {
    uint32_t kind;
    uint32_t slot;   /* event type slot (SLOT_ANY for "*"), or property name slot (F_LAST) */
    int64_t window;  /* ms; 0 = none */
    int64_t gap;     /* F_RESTARTED */
    int64_t period;  /* F_REGULARLY */
    uint32_t k, n;   /* F_REGULARLY */
    uint32_t step0, n_steps; /* F_SEQUENCE: steps[step0 .. step0 + n_steps) */
    /* F_DAYS_SINCE and windowed F_COUNT, for live segments: the largest constant (floored,
     * 0 ..1e7) any rule compares it with — beyond it the outcome of every comparison stays
     * as time passes (days_since() grows, a windowed count() shrinks) — or -1 when a rule
     * uses it otherwise (arithmetic, …). Not part of the feature's identity. */
    int64_t limit;
} feature;

/* One step of a sequence: a positive step, or a negation applying to gap `gap`
 * (0 = before the first positive step, m = after the last of m). */
typedef struct seq_step {
    uint32_t slot;
    uint32_t negated;
    uint32_t gap; /* negations only */
} seq_step;

/* ---- names resolved per store ---- */
enum { SLOT_TYPE = 1, SLOT_NAME = 2 };
typedef struct name_slot {
    uint32_t kind;
    uint32_t len;
    char *str; /* owned */
} name_slot;

/* ---- logic tree and leaves ---- */
enum { L_LEAF, L_AND, L_OR, L_NOT };
typedef struct logic_node {
    uint32_t kind;
    uint32_t a, b; /* L_AND / L_OR: children kids[a .. a + b) (chains are flattened, so
                      evaluation recurses only as deep as and / or / not alternate);
                      L_NOT: child a; L_LEAF: leaf a */
    uint32_t off, len; /* source span in the segment's rule text */
} logic_node;

/* Common leaf forms the evaluator runs without the VM loop (same semantics): two values
 * compared, a value in a constant list, a value between two others, or a value alone —
 * each value a single load (constant, feature, attribute, context field, consent). Any
 * other leaf runs on the VM. */
enum { LEAF_VM, LEAF_CMP, LEAF_IN, LEAF_BETWEEN, LEAF_VALUE };
typedef struct leaf {
    uint32_t code, code_end;      /* whole leaf, leaves one boolean */
    uint32_t form;                /* LEAF_* (set by persona__leaf_form) */
    uint32_t n_operands;          /* 0..3: operands shown by the explanation */
    uint32_t opd_code[3], opd_end[3];
    uint32_t opd_off[3], opd_len[3];
} leaf;

enum { SEG_RULE = 0, SEG_LIST = 1 };
typedef struct segment {
    char *name;   /* owned */
    char *source; /* owned rule text ("" for a list) */
    uint32_t kind;
    uint32_t root;      /* logic node (SEG_RULE) */
    char **keys;        /* SEG_LIST: sorted, distinct, owned */
    size_t n_keys;
    uint32_t memo;      /* memo slot when in_segment() names it, else UINT32_MAX */
} segment;

/* A constant list of `in [..]`: elements lists_items[first .. first + n). */
typedef struct const_list {
    uint32_t first, n;
} const_list;

/* An in_segment() call, resolved once every segment of a compile call is known. */
typedef struct segment_ref {
    uint32_t insn;    /* its OP_INSEG */
    uint32_t owner;   /* segment whose rule holds it */
    uint32_t name;    /* strs index of the name */
    uint32_t line, col;
} segment_ref;

/* Resolution of the name slots against one store, valid while the store's serial, epoch
 * and intern counts are unchanged; readers copy it under a sequence lock (seq odd while a
 * writer is filling it). */
typedef struct bind_cache {
    atomic_uint_fast64_t seq;
    atomic_uint_fast64_t serial, epoch, n_types, n_names;
    _Atomic(_Atomic uint32_t *) ids; /* per name slot; set once, under lock */
    pthread_mutex_t lock;
} bind_cache;

struct persona_segment_model {
    int32_t mode;
    segment *segs;
    size_t n_segs, segs_cap;

    insn *code;
    size_t n_code, code_cap;
    double *nums;
    size_t n_nums, nums_cap;
    char **strs; /* owned, NUL-terminated; strs_len gives lengths */
    uint32_t *strs_len;
    size_t n_strs, strs_cap;
    const_list *lists;
    size_t n_lists, lists_cap;
    rvalue *list_items; /* V_NUM / V_STR (pointing into strs) / V_BOOL */
    size_t n_list_items, list_items_cap;
    feature *feats;
    size_t n_feats, feats_cap;
    seq_step *steps;
    size_t n_steps, steps_cap;
    name_slot *slots;
    size_t n_slots, slots_cap;
    logic_node *logic;
    size_t n_logic, logic_cap;
    uint32_t *kids;
    size_t n_kids, kids_cap;
    leaf *leaves;
    size_t n_leaves, leaves_cap;
    segment_ref *refs;
    size_t n_refs, refs_cap;
    uint32_t n_memo; /* segments named by in_segment(): each has a memo slot */
    uint32_t max_stack; /* deepest VM stack of any leaf */
    uint32_t any_features;
    bind_cache bind;
    const persona_path_model *paths; /* next_event()'s, borrowed; NULL = none */
};

/* ---- compiling (rule_parse.c → rule_emit.c) ---- */


/* Counts of every model array, to take back what a failed compile appended. */
typedef struct model_mark {
    size_t segs, code, nums, strs, lists, list_items, feats, steps, slots, logic, kids, leaves, refs;
} model_mark;
void persona__model_mark(const persona_segment_model *m, model_mark *mk);
void persona__model_rollback(persona_segment_model *m, const model_mark *mk);

/* Resolve the in_segment() references of segments from `first` on against every segment
 * of m, and reject cycles and chains deeper than SEGMENT_MAX_CHAIN. PERSONA_OK or EPARSE
 * (recorded with the reference's position). */
#define SEGMENT_MAX_CHAIN 16
int persona__segments_resolve(persona_segment_model *m, size_t first);
/* persona_segment_model_add_rule(), with in_segment() left unresolved when resolve = 0
 * (loading: forward references resolve once every segment is back). */
int persona__model_add_rule(persona_segment_model *m, const char *name, const char *expr,
                            size_t len, int resolve);

/* persona_segment_model_load() of a snapshot held in memory (the fuzz target's way in). */
int persona__segment_model_load_memory(persona_segment_model **out, const void *data, size_t len);

/* Forget the cached name resolution (the model's slots changed). */
void persona__bind_reset(persona_segment_model *m);

/* The form of leaf lf (rule_vm.c). */
uint32_t persona__leaf_form(const persona_segment_model *m, const leaf *lf);


#endif
