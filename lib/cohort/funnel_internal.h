/* Conversion funnels (include/persona/funnel.h): the layout of a built funnel and what
 * the funnel_*.c files share.
 *
 * funnel_options.c  validation and copy of the options (the spec), spec comparison
 * funnel_build.c    the scan: events gathered per profile, units evaluated, results kept
 * funnel_eval.c     the evaluators of one unit (greedy, time-group DP, strict, any order)
 * funnel_sort.c     radix sorts (times, user keys)
 * funnel_query.c    accessors and free
 * funnel_export.c   CSV / JSON / stages CSV exports
 * funnel_snap.c     save and load (snapshot kind PERSONA__SNAP_KIND_FUNNEL)
 * funnel_merge.c    merge of funnels built on disjoint users */
#ifndef PERSONA_COHORT_FUNNEL_INTERNAL_H
#define PERSONA_COHORT_FUNNEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/funnel.h"

#define FUNNEL_DEFAULT_WINDOW_MS (INT64_C(14) * 86400000)
#define FUNNEL_MAX_TREND 1000000 /* most periods of a trend (build and merge refuse more) */
#define FUNNEL_NO_ID UINT32_MAX

/* What an event must be to match a step or an exclusion (strings owned). */
typedef struct funnel_match {
    char *type;
    char *where_property; /* NULL = no predicate */
    char *where_value;
    int32_t where_op;
    int64_t min_ms, max_ms; /* 0 = none (steps only; step 0 keeps 0) */
} funnel_match;

typedef struct funnel_excl {
    uint32_t from, to; /* 0-based steps, from < to: covers the pairs from→from+1 … to-1→to */
    funnel_match ev;
} funnel_excl;

/* The options as the funnel keeps them (defaults resolved). */
typedef struct funnel_spec {
    size_t n_steps;
    funnel_match steps[PERSONA_FUNNEL_MAX_STEPS];
    size_t n_excl;
    funnel_excl *excl;
    int64_t window_ms;
    int32_t order, count;
    char *hold; /* NULL = none */
    int32_t trend_period;
    int32_t utc_offset_minutes;
    char *consent; /* NULL = everyone */
    int64_t from_ms, to_ms; /* 0 = open */
    int64_t session_gap_ms; /* the store's, with count == SESSIONS; else 0 */
} funnel_spec;

struct persona_funnel {
    funnel_spec spec;
    uint64_t units[PERSONA_FUNNEL_MAX_STEPS];
    /* times[j] (j >= 1): the ms from step j-1 to step j of every unit that reached step j,
     * ascending; units[j] values. times[0] is NULL. */
    int64_t *times[PERSONA_FUNNEL_MAX_STEPS];
    uint64_t hist[PERSONA_FUNNEL_MAX_STEPS][PERSONA_FUNNEL_TIME_BUCKETS]; /* from times */
    /* Trend: periods trend_first … trend_first + n_trend - 1. */
    int64_t trend_first;
    size_t n_trend;
    uint64_t *entered, *converted;
    /* Users with stage >= 1, keys ascending bytewise: key i is
     * keys[key_off[i] .. key_off[i+1]) (not NUL-terminated; key_off has n_users + 1). */
    size_t n_users;
    char *keys;
    uint64_t *key_off;
    uint8_t *stages;
};

/* ---- options (funnel_options.c) ---- */

/* Check and copy the caller's options into *spec (zeroed first); on failure *spec holds
 * nothing. session_gap_ms: the store's (kept when count == SESSIONS). */
int persona__funnel_spec_from(funnel_spec *spec, const persona_funnel_options *opts,
                              int64_t session_gap_ms);
/* Deep copy; 0 or ENOMEM (dst then holds nothing). */
int persona__funnel_spec_copy(funnel_spec *dst, const funnel_spec *src);
void persona__funnel_spec_free(funnel_spec *spec);
/* 0 when equal, else EINVAL with the first difference named. */
int persona__funnel_spec_same(const funnel_spec *a, const funnel_spec *b);
/* Whether the greedy evaluation applies: loose order, no per-step min/max, no exclusions,
 * and steps of one event type all with the same predicate (so that events of one type at
 * one time are interchangeable: see funnel_eval.c). */
int persona__funnel_spec_greedy(const funnel_spec *spec);

/* ---- results ---- */

/* Bucket of persona_funnel_time_histogram() of a time in ms. */
int persona__funnel_bucket(int64_t ms);
/* Recompute hist[][] from times[][]. */
void persona__funnel_fill_hist(persona_funnel *f);
/* A fresh funnel with nothing but zeros (spec not set). NULL on ENOMEM (error recorded). */
persona_funnel *persona__funnel_alloc(void);
/* Release everything a funnel holds but the struct itself. */
void persona__funnel_release(persona_funnel *f);
/* Index of a user key in f->keys, or -1. */
long long persona__funnel_find_user(const persona_funnel *f, const char *key, size_t len);

/* ---- sorting (funnel_sort.c) ---- */

/* Sort a[0..n) ascending (non-negative values); tmp has room for n. */
void persona__funnel_sort_i64(int64_t *a, size_t n, int64_t *tmp);
/* Key with its index, for sorting keys bytewise. */
typedef struct funnel_keyref {
    const char *key;
    uint32_t len;
    uint32_t idx;
} funnel_keyref;
/* Sort refs bytewise by key (keys distinct). 0, or -1 on ENOMEM (refs unchanged). */
int persona__funnel_sort_keys(funnel_keyref *refs, size_t n);

/* ---- evaluation of one unit (funnel_eval.c) ---- */

/* One event of a unit as the general evaluators see it. */
typedef struct funnel_ev {
    int64_t t;
    uint32_t idx;   /* log index (ties in time keep log order) */
    uint32_t smask; /* bit j: matches step j (type, predicate, hold value present) */
    uint32_t xmask; /* bit j (j >= 1): matches an exclusion covering steps j-1 → j */
    uint32_t hold;  /* hold value id, FUNNEL_NO_ID = absent */
} funnel_ev;

/* The best path of a unit (or of one entry). */
typedef struct funnel_path {
    int k;                                       /* steps reached, 0 = none */
    uint32_t pos[PERSONA_FUNNEL_MAX_STEPS];      /* positions in the unit of e1 … ek */
} funnel_path;

/* Scratch of the evaluators, grown to the longest unit; freed with _free. */
typedef struct funnel_scratch {
    uint32_t *gword;  /* 8 × cap: per time group of a window its bounds and masks
                       * (funnel_eval.c) */
    uint32_t *skip;   /* cap + 1: per position, the next event the time-group DP needs */
    uint32_t *cls;    /* 3 × cap: matching classes (mask, count, load) */
    uint8_t *vis;     /* cap: classes visited by an augmenting search */
    uint64_t *order;  /* cap: (hold value << 32 | position), grouped by hold value */
    size_t cap, n_steps;
} funnel_scratch;
int persona__funnel_scratch_reserve(funnel_scratch *sc, size_t n_steps, size_t n);
void persona__funnel_scratch_free(funnel_scratch *sc);

/* Evaluation context: the spec's numbers the evaluators need. */
typedef struct funnel_ctx {
    const funnel_spec *spec;
    int n;               /* steps */
    int64_t window;      /* ms */
    int has_from, has_to;
    int64_t from_ms, to_ms;
    int hold;            /* a hold property is set */
    int strict, any_order, greedy;
    /* zrun[j]: how many consecutive steps from j (0-based) have no min_ms, i.e. may share
     * the time of the step before them; zrun[n] = 0 */
    int zrun[PERSONA_FUNNEL_MAX_STEPS + 1];
} funnel_ctx;
void persona__funnel_ctx_init(funnel_ctx *c, const funnel_spec *spec);

/* Whether event e of a unit can start a path (entry): matches step 0 (any step in any
 * order), time in range, hold value present when required. */
static inline int persona__funnel_is_entry(const funnel_ctx *c, const funnel_ev *e)
{
    uint32_t need = c->any_order ? UINT32_MAX : 1u;
    if (!(e->smask & need))
        return 0;
    if (c->has_from && e->t < c->from_ms)
        return 0;
    if (c->has_to && e->t >= c->to_ms)
        return 0;
    return 1;
}

/* Receives a path found in unit u (positions index u). */
typedef void (*funnel_emit_fn)(void *ctx, const funnel_ev *u, const funnel_path *path);
/* Evaluate the unit u[0..n) (sorted by time, then log index). per_entry = 0: emit the
 * unit's best path (furthest step, then the lexicographically smallest times, then the
 * smallest positions) once, nothing when it has no entry. per_entry = 1 (TOTALS): emit
 * the best path of every entry. The scratch must have room for n events
 * (persona__funnel_scratch_reserve). */
void persona__funnel_eval(const funnel_ctx *c, const funnel_ev *u, size_t n,
                          funnel_scratch *sc, int per_entry, funnel_emit_fn emit, void *ctx);

/* persona_funnel_load() of a snapshot held in memory (the fuzz target's way in). */
int persona__funnel_load_memory(persona_funnel **out, const void *data, size_t len);

#endif
