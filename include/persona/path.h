/**
 * @file path.h
 * @brief Paths: each user's events cut into sessions and mapped to states, Markov models
 *        of order 1 to 4 over them (transition counts and probabilities, the likely next
 *        state of a history or of a user's current session, with back-off), and a path
 *        explorer (most frequent paths with anchors, exclusions and a step limit; paths to
 *        a goal with their conversions; drop-offs after each step).
 *
 * Lifecycle: persona_path_build() reads a store and returns a #persona_path_model;
 * persona_path_load() reads one saved with persona_path_save(); persona_path_merge()
 * combines two built with the same options on disjoint partitions of the users;
 * persona_path_free() releases it. A model never borrows from the store it was built from:
 * either may be freed first. Explorer and transition queries return a #persona_path_list,
 * released with persona_path_list_free(), which never borrows from its model.
 *
 * Sessions. A user's events are taken in time order (events at one time in log order).
 * Without a session property a new session starts after an inactivity gap longer than
 * session_gap_ms; with one, a session is the user's events holding one value of that
 * property (events without it are skipped and counted in persona_path_info.skipped).
 *
 * States. An event's raw value is its type, or the value of state_prop (an event without
 * that property gets the state "(none)", #PERSONA_PATH_NONE). Grouping rules are tried in
 * order on the raw value; the first whose glob pattern matches the whole value (`*` any
 * run, `?` one character, `\` quotes the next) renames it to its state, or drops the event
 * when its state is NULL. Each session becomes the path
 * "(start)", s1, …, sn, "(end)" (#PERSONA_PATH_START, #PERSONA_PATH_END); states are
 * numbered 0 … states − 1 in bytewise order of their names.
 *
 * Markov model of order k (1 ≤ k ≤ 4). For every position j ≥ 1 of every path and every
 * m = 1 … min(k, j), the m states before position j are a context of length m followed by
 * the state at j: a transition counted in the table of order m. P(b | context) is the
 * transitions context → b over all transitions from the context; the probabilities of a
 * context's successors sum to 1. Order 0 is the distribution of every counted target
 * (positions j ≥ 1 of all paths).
 *
 * Back-off (persona_path_next()): with a history h1 … hn and a query order q, the context
 * tried first is the last min(q, n) states; when the model never saw it, the oldest state
 * is dropped and the shorter context tried, down to length 1; when no suffix was seen (or
 * the history is empty) the order-0 distribution answers. The order used is reported.
 *
 * Thread-safety: a model is immutable: any number of threads may call the const functions
 * at once. Building reads a consistent view of the store. _free never races with other
 * calls on the same model (or list).
 */
#ifndef PERSONA_PATH_H
#define PERSONA_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A built path model. Immutable. */
typedef struct persona_path_model persona_path_model;
/** Rows of paths with counts (explorer results, transition tables). Immutable. */
typedef struct persona_path_list persona_path_list;

/** @name Reserved state names. */
/**@{*/
#define PERSONA_PATH_START "(start)" /**< the state before a session's first event */
#define PERSONA_PATH_END "(end)"     /**< the state after a session's last event */
#define PERSONA_PATH_NONE "(none)"   /**< an event without the state property */
/**@}*/

/** Highest Markov order. */
#define PERSONA_PATH_MAX_ORDER 4
/** A state index that matches no state (an unknown name in a history). */
#define PERSONA_PATH_NO_STATE UINT32_MAX

/** One grouping rule: a glob over the raw value and the state it becomes. */
typedef struct persona_path_rule {
    uint32_t struct_size; /**< sizeof(persona_path_rule). @since 1.0 */
    uint32_t reserved;    /**< must be 0. @since 1.0 */
    const char *pattern;  /**< glob on the whole raw value (NULL or "" is refused). @since 1.0 */
    const char *state;    /**< the state's name; NULL = drop matching events. @since 1.0 */
} persona_path_rule;

#define PERSONA_PATH_RULE_INIT { sizeof(persona_path_rule), 0, NULL, NULL }

/** Options of persona_path_build(). Zero is the default of every field. */
typedef struct persona_path_options {
    uint32_t struct_size;       /**< sizeof(persona_path_options). @since 1.0 */
    int32_t order;              /**< highest Markov order, 1 … 4; 0 = 1. @since 1.0 */
    int64_t session_gap_ms;     /**< inactivity gap (> it starts a session); 0 = the store's. @since 1.0 */
    const char *session_prop;   /**< property holding a session id; NULL = sessions by gap. @since 1.0 */
    const char *state_prop;     /**< property giving the state; NULL = the event type. @since 1.0 */
    const persona_path_rule *rules; /**< grouping rules, first match wins; NULL = none. @since 1.0 */
    size_t n_rules;             /**< entries of rules. @since 1.0 */
    const char *consent_purpose; /**< only users who granted it; NULL = everyone. @since 1.0 */
} persona_path_options;

#define PERSONA_PATH_OPTIONS_INIT { sizeof(persona_path_options), 0, 0, NULL, NULL, NULL, 0, NULL }

/**
 * Zero an options struct and set its struct_size (for bindings without the macro).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_path_options_init(persona_path_options *opts, uint32_t struct_size);

/**
 * Zero a rule and set its struct_size.
 * @param[out] rule        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_path_rule_init(persona_path_rule *rule, uint32_t struct_size);

/** Sizes of a model (persona_path_info_get()). */
typedef struct persona_path_info {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_path_info). @since 1.0 */
    int32_t order;        /**< highest Markov order. @since 1.0 */
    uint64_t states;      /**< distinct states, "(start)" and "(end)" included. @since 1.0 */
    uint64_t sessions;    /**< sessions (paths). @since 1.0 */
    uint64_t users;       /**< users with a session. @since 1.0 */
    uint64_t events;      /**< events in the paths (START and END not counted). @since 1.0 */
    uint64_t skipped;     /**< events left out: dropped by a rule, without the session property. @since 1.0 */
    uint64_t contexts;    /**< contexts of orders 1 … order. @since 1.0 */
    uint64_t transitions; /**< distinct (context, next state) pairs of orders 1 … order. @since 1.0 */
} persona_path_info;

#define PERSONA_PATH_INFO_INIT { sizeof(persona_path_info), 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Zero an info struct and set its struct_size.
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_path_info_init(persona_path_info *info, uint32_t struct_size);

/**
 * Build a model from a store's events (users without the consent purpose left out). A
 * store without events gives an empty model (no sessions; the states "(start)" and
 * "(end)" only).
 * @param[out] out   the model (persona_path_free()); NULL on failure.
 * @param[in]  store the store (read lock held during the build).
 * @param[in]  opts  options, or NULL for the defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store or out; order beyond 1 … 4; negative gap;
 *         a rule with no pattern, a reserved state name as rule target or a nonzero
 *         reserved field; the message names the field); #PERSONA_EUNSUPPORTED (options from
 *         a newer library); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_path_build(persona_path_model **out, const persona_store *store,
                                   const persona_path_options *opts);

/**
 * Release a model. NULL is a no-op.
 * @param[in] model the model.
 * @since 1.0
 */
PERSONA_API void persona_path_free(persona_path_model *model);

/**
 * Sizes of a model.
 * @param[out] out   filled up to its struct_size.
 * @param[in]  model the model.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, struct_size unset).
 * @since 1.0
 */
PERSONA_API int persona_path_info_get(persona_path_info *out, const persona_path_model *model);

/**
 * Index of a state name.
 * @param[out] out   the index.
 * @param[in]  model the model.
 * @param[in]  name  the state's name.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (the message names it); #PERSONA_EINVAL (NULL).
 * @since 1.0
 */
PERSONA_API int persona_path_state_find(uint32_t *out, const persona_path_model *model,
                                        const char *name);

/**
 * Name of a state.
 * @param[out] buf      receives the NUL-terminated name (may be NULL when capacity is 0).
 * @param[in]  capacity room in buf.
 * @param[out] out_len  the name's length without the NUL (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  model    the model.
 * @param[in]  index    0 … states − 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (index out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_path_state_name(char *buf, size_t capacity, size_t *out_len,
                                        const persona_path_model *model, uint32_t index);

/**
 * The most likely next states after a history, with back-off (see the file comment):
 * successors in order of probability descending, then state index ascending. "(end)" is a
 * possible successor (the session ends); "(start)" never is. Allocates nothing.
 * @param[out] states_out receives up to capacity state indexes (may be NULL when capacity is 0).
 * @param[out] probs_out  their probabilities (may be NULL when capacity is 0).
 * @param[in]  capacity   room in both arrays: the top-N asked for.
 * @param[out] out_len    entries written (min(capacity, successors)).
 * @param[out] order_out  the order that answered (0 … order); may be NULL.
 * @param[in]  model      the model.
 * @param[in]  history    state indexes, oldest first (#PERSONA_PATH_NO_STATE allowed: such a
 *                        state is never seen); give "(start)" first for a session's beginning.
 * @param[in]  n_history  entries of history (0 = order-0 distribution).
 * @param[in]  order      the order to try first, 1 … the model's order.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL arguments, order outside 1 … the model's order:
 *         the message names the range).
 * @since 1.0
 */
PERSONA_API int persona_path_next(uint32_t *states_out, double *probs_out, size_t capacity,
                                  size_t *out_len, int32_t *order_out,
                                  const persona_path_model *model, const uint32_t *history,
                                  size_t n_history, int32_t order);

/**
 * persona_path_next() for a user's current session: the history is "(start)" followed by
 * the states of the user's latest session in the model (the session holding the user's
 * latest event).
 * @param[out] states_out, probs_out, capacity, out_len, order_out as persona_path_next().
 * @param[in]  model the model.
 * @param[in]  user  the user's key.
 * @param[in]  order the order to try first, 1 … the model's order.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (the user has no session in the model);
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_path_next_user(uint32_t *states_out, double *probs_out, size_t capacity,
                                       size_t *out_len, int32_t *order_out,
                                       const persona_path_model *model, const char *user,
                                       int32_t order);

/** @name What an explorer query lists (persona_path_query.kind). Values are permanent. */
/**@{*/
/** Most frequent paths. A session's path runs from the first occurrence of start_state
 * (or "(start)") to the first occurrence of end_state after it (or "(end)"), excluded
 * states removed first, at most max_steps states long (longer ones are cut, without the
 * end). Sessions without the anchors are left out. count = sessions, extra = 0. */
#define PERSONA_PATH_TOP 0
/** Paths to a goal: a session's path is its states before the first goal_state, or its
 * whole path before "(end)" when it never reaches the goal, from "(start)" (excluded
 * states removed; only the last max_steps states kept). count = sessions with that path,
 * extra = those of them that reached the goal (conversions). */
#define PERSONA_PATH_GOAL 1
/** Drop-offs: every prefix of the paths of #PERSONA_PATH_TOP up to max_steps states;
 * count = sessions whose path begins with the prefix, extra = those ending right after
 * it (the next state is "(end)", or the end anchor). Rows by prefix length, then as
 * usual. */
#define PERSONA_PATH_DROPOFF 2
/**@}*/

/** An explorer query (persona_path_explore()). Zero is the default of every field. */
typedef struct persona_path_query {
    uint32_t struct_size;       /**< sizeof(persona_path_query). @since 1.0 */
    int32_t kind;               /**< `PERSONA_PATH_TOP`, `_GOAL`, `_DROPOFF`; 0 = top. @since 1.0 */
    const char *start_state;    /**< start anchor; NULL = "(start)". @since 1.0 */
    const char *end_state;      /**< end anchor; NULL = "(end)". @since 1.0 */
    const char *goal_state;     /**< the goal (required for #PERSONA_PATH_GOAL). @since 1.0 */
    const char *const *exclude; /**< states removed from the paths; NULL = none. @since 1.0 */
    size_t n_exclude;           /**< entries of exclude. @since 1.0 */
    uint32_t max_steps;         /**< longest path in states; 0 = 10. @since 1.0 */
    uint32_t reserved;          /**< must be 0. @since 1.0 */
    uint64_t top;               /**< rows kept, the first in order (of each prefix length for drop-offs); 0 = all. @since 1.0 */
} persona_path_query;

#define PERSONA_PATH_QUERY_INIT { sizeof(persona_path_query), 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0 }

/**
 * Zero a query struct and set its struct_size.
 * @param[out] query       the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_path_query_init(persona_path_query *query, uint32_t struct_size);

/**
 * Run an explorer query. Rows are ordered by count descending, then by their states
 * (indexes) lexicographically (drop-offs first by prefix length). An anchor, goal or
 * exclusion naming a state the model never saw matches nothing (an unknown start anchor or
 * goal gives no rows / no conversions).
 * @param[out] out   the rows (persona_path_list_free()); NULL on failure.
 * @param[in]  model the model.
 * @param[in]  query the query, or NULL for the defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL model or out, unknown kind, goal query without
 *         a goal, nonzero reserved); #PERSONA_EUNSUPPORTED; #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_path_explore(persona_path_list **out, const persona_path_model *model,
                                     const persona_path_query *query);

/**
 * The transition table of one order: one row per (context, next state), its states the
 * context followed by the next state (order + 1 states), count = transitions, extra = all
 * transitions from the context (probability = count / extra). Order 0 gives one row per
 * target with its single state. Rows by context (lexicographic state indexes), then count
 * descending, then next state.
 * @param[out] out   the rows (persona_path_list_free()); NULL on failure.
 * @param[in]  model the model.
 * @param[in]  order 0 … the model's order.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, order out of range); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_path_transitions(persona_path_list **out, const persona_path_model *model,
                                         int32_t order);

/**
 * Release a list. NULL is a no-op.
 * @param[in] list the list.
 * @since 1.0
 */
PERSONA_API void persona_path_list_free(persona_path_list *list);

/**
 * Number of rows of a list.
 * @param[out] out  rows.
 * @param[in]  list the list.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL).
 * @since 1.0
 */
PERSONA_API int persona_path_list_size(size_t *out, const persona_path_list *list);

/**
 * One row of a list: its states (indexes of the model it came from) and counts.
 * @param[out] states    receives up to capacity states (may be NULL when capacity is 0).
 * @param[in]  capacity  room in states.
 * @param[out] out_len   the row's number of states (also on #PERSONA_EBUFS).
 * @param[out] count_out the row's count; may be NULL.
 * @param[out] extra_out the row's second count (see the query kinds); may be NULL.
 * @param[in]  list      the list.
 * @param[in]  row       0 … rows − 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS (states too small; counts written); #PERSONA_ENOTFOUND
 *         (row out of range); #PERSONA_EINVAL (NULL).
 * @since 1.0
 */
PERSONA_API int persona_path_list_row(uint32_t *states, size_t capacity, size_t *out_len,
                                      uint64_t *count_out, uint64_t *extra_out,
                                      const persona_path_list *list, size_t row);

/**
 * Save a model (snapshot kind "paths"; written to a temporary file, then renamed).
 * @param[in] model the model.
 * @param[in] path  the file.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL); #PERSONA_EIO (the message names the path and
 *         step); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_path_save(const persona_path_model *model, const char *path);

/**
 * Load a model saved with persona_path_save(); it answers every query as the saved one.
 * @param[out] out  the model; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL); #PERSONA_EIO; #PERSONA_ECORRUPT (damaged or
 *         not a path model); #PERSONA_EVERSION (a newer format); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_path_load(persona_path_model **out, const char *path);

/**
 * Combine two models built with the same options on disjoint partitions of the users: the
 * result answers every query as a model built on all the users at once (transition
 * counts are sums).
 * @param[out] out the merged model; NULL on failure.
 * @param[in]  a   one model.
 * @param[in]  b   the other.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, different options: the message names the
 *         first difference; a user in both: the message names it); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_path_merge(persona_path_model **out, const persona_path_model *a,
                                   const persona_path_model *b);

#ifdef __cplusplus
}
#endif

#endif
