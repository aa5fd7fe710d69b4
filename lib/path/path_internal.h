/* Path models (include/persona/path.h): the layout of a model and what the path_*.c files
 * share.
 *
 * path_options.c  validation and copy of the options (the spec), spec comparison
 * path_build.c    the scan: events per user in time order, sessions, states
 * path_markov.c   the derived Markov tables (contexts, successors, order 0) and _next
 * path_explore.c  the explorer queries (top paths, paths to a goal, drop-offs)
 * path_list.c     the list handle, transition tables as lists
 * path_query.c    allocation, info, state names, free
 * path_snap.c     save and load (snapshot kind PERSONA__SNAP_KIND_PATHS)
 * path_merge.c    merge of models built on disjoint users
 *
 * A model keeps its sessions (the paths without "(start)" and "(end)") as CSR:
 * session i holds the states sess_states[sess_start[i] .. sess_start[i + 1]) and belongs to
 * user sess_user[i]; user_last[u] is the user's latest session. Everything else is derived
 * from the sessions by persona__path_derive() — after a build, a load and a merge alike.
 *
 * Contexts form a trie keyed from the newest state back: the context (s) is the entry of
 * PAIR(PATH_ROOT, s) in ctx_map and (r, s) — r older — is PAIR(ctx(s), r); so the
 * contexts of lengths 1 … k before a position are found with k lookups, and back-off is
 * "the longest suffix found". Successors of context c: succ_state / succ_count
 * [succ_start[c] .. succ_start[c + 1]), by count descending then state ascending. */
#ifndef PERSONA_PATH_INTERNAL_H
#define PERSONA_PATH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/intern.h"
#include "core/pairmap.h"
#include "persona/path.h"

#define PATH_ROOT (UINT32_MAX - 1)
#define PATH_DEFAULT_STEPS 10u
#define PATH_MAX_RULES 4096u

/* The options as a model keeps them (defaults resolved, strings owned). */
typedef struct path_spec {
    int32_t order;
    int64_t session_gap_ms; /* effective gap; 0 with a session property */
    char *session_prop;     /* NULL = by gap */
    char *state_prop;       /* NULL = event type */
    char *consent;          /* NULL = everyone */
    size_t n_rules;
    char **pattern; /* n_rules */
    char **target;  /* n_rules; NULL entries drop */
} path_spec;

struct persona_path_model {
    path_spec spec;
    persona__intern states; /* id = index, bytewise order */
    persona__intern users;  /* any order */
    uint32_t start_id, end_id;
    uint64_t skipped;
    uint64_t n_sessions;
    uint64_t *sess_start; /* n_sessions + 1 */
    uint32_t *sess_states;
    uint32_t *sess_user;
    uint32_t *user_last; /* users.count */

    /* derived (path_markov.c) */
    persona__pairmap ctx_map; /* context -> id = entry */
    uint8_t *ctx_len;         /* per context */
    uint64_t *ctx_total;
    uint64_t *succ_start; /* contexts + 1 */
    uint32_t *succ_state;
    uint64_t *succ_count;
    uint64_t n_transitions;
    uint32_t *zero_state; /* order 0: targets by count descending, state ascending */
    uint64_t *zero_count;
    size_t n_zero;
    uint64_t zero_total;
};

struct persona_path_list {
    size_t rows;
    uint64_t *start; /* rows + 1 */
    uint32_t *states;
    uint64_t *count, *extra;
};

/* ---- options (path_options.c) ---- */
int persona__path_spec_from(path_spec *spec, const persona_path_options *opts,
                            int64_t store_gap_ms);
int persona__path_spec_copy(path_spec *dst, const path_spec *src);
void persona__path_spec_free(path_spec *spec);
/* 0 when equal, else EINVAL naming the first difference. */
int persona__path_spec_same(const path_spec *a, const path_spec *b);

/* ---- models (path_query.c) ---- */
/* A new empty model with fresh intern tables. NULL on failure (error recorded). */
persona_path_model *persona__path_alloc(void);
/* End of a constructor: on success *out = m, else m is freed; returns rc. */
int persona__path_hand_over(persona_path_model **out, persona_path_model *m, int rc);
/* Ids of "(start)" and "(end)" (both must be in states). */
void persona__path_special_ids(persona_path_model *m);

/* Release the derived tables (the model keeps its sessions and options). */
void persona__path_drop_derived(persona_path_model *m);

/* ---- derived tables (path_markov.c) ---- */
int persona__path_derive(persona_path_model *m);
/* The tables derived again, with dense counts where they fit (dense = 1) or by the sparse
 * walk (0): tests compare the two. 0 or ENOMEM (the model is then only fit to be freed). */
int persona__path_rederive(persona_path_model *m, int dense);
/* Longest context (at most max_len, the newest states last in h[0..n)) the model saw;
 * returns its id and its length in *len, or UINT32_MAX with *len = 0. */
uint32_t persona__path_context(const persona_path_model *m, const uint32_t *h, size_t n,
                               size_t max_len, size_t *len);

/* The most likely next state of a user's latest session at the model's order (what
 * persona_path_next_user() puts first) and its probability in *prob; PERSONA_PATH_NO_STATE
 * when the user (key of len bytes) has no session in the model. Records no error: the
 * rules' next_event() asks it for every profile. */
uint32_t persona__path_predict_user(const persona_path_model *m, const char *user, size_t len,
                                    double *prob);

/* ---- lists (path_list.c) ---- */
persona_path_list *persona__path_list_alloc(size_t rows, size_t states);

/* persona_path_load() from memory (the fuzz target's way in). */
int persona__path_load_memory(persona_path_model **out, const void *data, size_t len);

#endif
