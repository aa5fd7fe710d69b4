/**
 * @file segment.h
 * @brief Rule segments: a compiled rule language evaluated on live profiles, and the
 *        segment model that holds an ordered set of named rule and list segments.
 *
 * A segment model is compiled once from rule text (docs/rules.md has the grammar and the
 * exact meaning of every operator and function):
 *
 *     vip:        value > 1000 and orders >= 5
 *     abandoners: sequence("view" -> "add_to_cart" -> not "purchase", within 1d)
 *     lapsing:    stopped("purchase", 60d) and consent("marketing")
 *
 * and then evaluated against profiles of any store: persona_segment_model_assign() for one
 * user (no allocation, well under a microsecond for typical rule sets),
 * persona_segment_model_scan() for every user of a store, persona_segment_model_describe()
 * for an explanation of which clause admitted or rejected a user.
 *
 * Rules are evaluated "as of" a time, `now` (#persona_eval_context): windows such as
 * `count("add_to_cart", 7d)` cover (now - 7 days, now], and events after `now` are ignored
 * everywhere, traits included, so a rule set can be evaluated as of any past date.
 *
 * Errors in rule text are #PERSONA_EPARSE with the line and column of the offending token
 * (persona_error_position()) and a message that names it.
 *
 * Thread-safety: a model is immutable once built (add_rule / add_list are the building
 * steps and must not race with other calls on the same model); evaluation functions may
 * then be called from any threads at once, also while the store is being written (they
 * take the store's read lock).
 */
#ifndef PERSONA_SEGMENT_H
#define PERSONA_SEGMENT_H

#include "common.h"
#include "path.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An ordered set of named segments (rules and static lists). */
typedef struct persona_segment_model persona_segment_model;

/** @name Assignment modes. */
/**@{*/
/** A user belongs to the first segment (in model order) whose rule is true. */
#define PERSONA_SEGMENT_FIRST_MATCH 0
/** A user belongs to every segment whose rule is true. */
#define PERSONA_SEGMENT_ALL_MATCHES 1
/**@}*/

/** @name Limits of the rule language (compile fails with #PERSONA_EPARSE beyond them). */
/**@{*/
#define PERSONA_RULE_MAX_TEXT 1048576 /**< bytes of rule text per compile call */
#define PERSONA_RULE_MAX_DEPTH 64     /**< nesting of parentheses, operators and calls */
#define PERSONA_RULE_MAX_STRING 1024  /**< bytes of one string literal after unescaping */
#define PERSONA_RULE_MAX_LIST 1024    /**< elements of one `in [..]` list */
#define PERSONA_RULE_MAX_STEPS 16     /**< steps of one sequence(), negated ones included */
#define PERSONA_RULE_MAX_FEATURES 256 /**< distinct behavioural functions in one model */
#define PERSONA_RULE_MAX_NAMES 1024   /**< distinct event types and names in one model */
#define PERSONA_SEGMENT_MAX 4096      /**< segments in one model */
#define PERSONA_SEGMENT_MAX_NAME 128  /**< bytes of a segment name */
/**@}*/

/** Options of a segment model. Zero means default for every field. */
typedef struct persona_segment_options {
    uint32_t struct_size; /**< sizeof(persona_segment_options). @since 1.0 */
    int32_t mode;         /**< #PERSONA_SEGMENT_FIRST_MATCH (default) or _ALL_MATCHES. @since 1.0 */
} persona_segment_options;

/** Designated initializer for #persona_segment_options. */
#define PERSONA_SEGMENT_OPTIONS_INIT { sizeof(persona_segment_options), 0 }

/**
 * Initialize options to their defaults (for bindings that cannot use the macro).
 * @param[out] opts        the options.
 * @param[in]  struct_size sizeof(persona_segment_options) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a struct_size this library cannot serve.
 * @since 1.0
 */
PERSONA_API int persona_segment_options_init(persona_segment_options *opts,
                                             uint32_t struct_size);

/** "Evaluate as of the store's clock": the latest of the store's latest event time and its
 * latest persona_store_tick() time (persona_store_clock()). */
#define PERSONA_NOW_STORE INT64_MIN

/**
 * Evaluation context: the time rules are evaluated at, and the request context read by
 * `ctx.NAME` (e.g. referrer, country, device, page) and `ctx.hour`.
 */
typedef struct persona_eval_context {
    uint32_t struct_size; /**< sizeof(persona_eval_context). @since 1.0 */
    int32_t hour;         /**< `ctx.hour`, 0..23; -1 = absent. @since 1.0 */
    int64_t now_ms;       /**< evaluation time, or #PERSONA_NOW_STORE. @since 1.0 */
    size_t count;         /**< number of `ctx.*` fields. @since 1.0 */
    const char *const *names;  /**< their names ("referrer"), borrowed. @since 1.0 */
    const char *const *values; /**< their values (UTF-8), borrowed; NULL = absent. @since 1.0 */
} persona_eval_context;

/** Initializer for #persona_eval_context: no fields, no hour, the store's clock. */
#define PERSONA_EVAL_CONTEXT_INIT { sizeof(persona_eval_context), -1, PERSONA_NOW_STORE, 0, NULL, NULL }

/**
 * Initialize a context to its defaults (no fields, no hour, the store's clock).
 * @param[out] ctx         the context.
 * @param[in]  struct_size sizeof(persona_eval_context) as compiled by the caller.
 * @return #PERSONA_OK; #PERSONA_EINVAL for NULL or a bad struct_size.
 * @since 1.0
 */
PERSONA_API int persona_eval_context_init(persona_eval_context *ctx, uint32_t struct_size);

/**
 * Create an empty model (add segments with persona_segment_model_add_rule() and
 * persona_segment_model_add_list()).
 * @param[out] out  the model; NULL on failure.
 * @param[in]  opts options, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL out, unknown mode, bad
 *         struct_size); #PERSONA_EUNSUPPORTED (newer options with non-zero fields).
 * @since 1.0
 */
PERSONA_API int persona_segment_model_new(persona_segment_model **out,
                                          const persona_segment_options *opts);

/**
 * Compile a rule-set text: segments `NAME: expression`, in order (NAME an identifier or a
 * quoted string); an expression may span lines; `#` starts a comment. A segment may refer
 * to any other with `in_segment("NAME")` (cycles are an error).
 * @param[out] out  the model; NULL on failure.
 * @param[in]  text the text (UTF-8; need not be NUL-terminated); borrowed for the call.
 * @param[in]  len  its length in bytes (at most #PERSONA_RULE_MAX_TEXT).
 * @param[in]  opts options, or NULL for defaults.
 * @return #PERSONA_OK; #PERSONA_EPARSE (line and column in persona_error_position(), the
 *         message names the segment and the token); #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_compile(persona_segment_model **out, const char *text,
                                              size_t len, const persona_segment_options *opts);

/**
 * Append a rule segment.
 * @param[in] model the model (not shared with other threads while building).
 * @param[in] name  the segment name: non-empty UTF-8 without control characters, at most
 *                  #PERSONA_SEGMENT_MAX_NAME bytes, unique in the model.
 * @param[in] expr  the rule expression (UTF-8, need not be NUL-terminated); in_segment()
 *                  may name segments already in the model.
 * @param[in] len   its length in bytes.
 * @return #PERSONA_OK; #PERSONA_EPARSE (position within expr); #PERSONA_EINVAL (NULL, bad or
 *         duplicate name, too many segments); #PERSONA_ENOMEM (model unchanged).
 * @since 1.0
 */
PERSONA_API int persona_segment_model_add_rule(persona_segment_model *model, const char *name,
                                               const char *expr, size_t len);

/**
 * Append a static list segment: a user is a member when any identifier of their profile
 * is one of `keys` (compared byte for byte).
 * @param[in] model the model.
 * @param[in] name  the segment name, as for persona_segment_model_add_rule().
 * @param[in] keys  the user keys (valid UTF-8, copied; duplicates are fine).
 * @param[in] count number of keys.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, bad or duplicate name, a bad key: the message
 *         gives its index); #PERSONA_ENOMEM (model unchanged).
 * @since 1.0
 */
PERSONA_API int persona_segment_model_add_list(persona_segment_model *model, const char *name,
                                               const char *const *keys, size_t count);

/**
 * Give the model's rules a path model to predict from: `next_event()` in a rule is the
 * most likely next state of the user's latest session in it (persona_path_next_user() at
 * the path model's order, its first answer: an event type or a state property's value,
 * or "(end)"), and missing for a user without a session in it — or for every user while
 * no path model is attached. A saved segment model does not keep the path model: attach
 * it again after persona_segment_model_load(). Live segments (persona_store_add_segment())
 * cannot use next_event().
 * @param[in,out] model the segment model.
 * @param[in]     paths the path model, borrowed: it must outlive every evaluation of
 *                      model, or be detached first (NULL detaches).
 * @return #PERSONA_OK; #PERSONA_EINVAL (model NULL).
 * @note Thread-safety: not while model is being evaluated by another thread.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_use_paths(persona_segment_model *model,
                                                const persona_path_model *paths);

/**
 * Destroy a model.
 * @param[in] model the model, or NULL (no-op).
 * @since 1.0
 */
PERSONA_API void persona_segment_model_free(persona_segment_model *model);

/**
 * Number of segments.
 * @param[out] out   the count.
 * @param[in]  model the model.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_count(size_t *out, const persona_segment_model *model);

/**
 * Assignment mode of a model (#PERSONA_SEGMENT_FIRST_MATCH or _ALL_MATCHES).
 * @param[out] out   the mode.
 * @param[in]  model the model.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_mode(int32_t *out, const persona_segment_model *model);

/**
 * Name of a segment.
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  model the model.
 * @param[in]  index 0-based segment index.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (index out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_name(char *buf, size_t capacity, size_t *out_len,
                                           const persona_segment_model *model, size_t index);

/**
 * Source text of a segment's rule as written (empty for a list segment).
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  model the model.
 * @param[in]  index 0-based segment index.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_rule(char *buf, size_t capacity, size_t *out_len,
                                           const persona_segment_model *model, size_t index);

/**
 * Index of the segment with a name.
 * @param[out] out   its 0-based index.
 * @param[in]  model the model.
 * @param[in]  name  the name.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_find(size_t *out, const persona_segment_model *model,
                                           const char *name);

/**
 * Segments of one user: in first-match mode at most one, in all-matches mode every match,
 * in model order. A key the store does not know is evaluated as an empty profile (no
 * events, attributes or consent), so context-only rules still apply to new visitors.
 * Allocates nothing, except for a user with more than 256 events that arrived out of time
 * order when a rule needs their order (sequence(), sessions), and for `orders` as of a time
 * before the user's latest event (docs/rules.md, "Cost").
 * @param[out] out       segment indexes (may be NULL when capacity is 0).
 * @param[in]  capacity  room in out.
 * @param[out] out_count number of segments (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  model     the model.
 * @param[in]  store     the store (read lock held for the call).
 * @param[in]  user      the user key.
 * @param[in]  ctx       evaluation context, or NULL for #PERSONA_EVAL_CONTEXT_INIT.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOMEM; #PERSONA_EINVAL (NULL model, store
 *         or user, bad context: struct_size, hour, now out of range, NULL names).
 * @since 1.0
 */
PERSONA_API int persona_segment_model_assign(uint32_t *out, size_t capacity, size_t *out_count,
                                             const persona_segment_model *model,
                                             const persona_store *store, const char *user,
                                             const persona_eval_context *ctx);

/**
 * Truth of one segment's rule for one user, whatever the mode (as in_segment() sees it).
 * @param[out] out   1 member, 0 not.
 * @param[in]  model, store, user, ctx as for persona_segment_model_assign().
 * @param[in]  index 0-based segment index.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (index out of range); #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_test(int32_t *out, const persona_segment_model *model,
                                           size_t index, const persona_store *store,
                                           const char *user, const persona_eval_context *ctx);

/**
 * Explain a user's assignment in plain text, one line per segment in model order:
 * `NAME: yes|no`, followed by the clauses that decided it, each with its value and the
 * values of its operands (e.g. `  value > 1000 is false (value = 532.5)`). In first-match
 * mode segments after the match are listed as `not reached`.
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  model, store, user, ctx as for persona_segment_model_assign().
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_describe(char *buf, size_t capacity, size_t *out_len,
                                               const persona_segment_model *model,
                                               const persona_store *store, const char *user,
                                               const persona_eval_context *ctx);

/** Receives one membership of a scan; return 0 to go on, negative to stop (#PERSONA_ECALLBACK). */
typedef int (*persona_member_fn)(void *ctx, const char *user, size_t user_len,
                                 uint32_t segment);

/**
 * Evaluate every profile of a store: counts per segment and, when `member` is given,
 * one call per (user, segment) membership in user index order (then segment order).
 * @param[out] counts   members per segment (capacity entries; may be NULL with capacity 0).
 * @param[in]  capacity room in counts (the model's segment count, or less to skip).
 * @param[out] none_out users in no segment; may be NULL.
 * @param[in]  model    the model.
 * @param[in]  store    the store (read lock held for the call, so `member` must not write
 *                      to it).
 * @param[in]  ctx      evaluation context (its `ctx.*` fields apply to every user), or NULL.
 * @param[in]  member   called on the calling thread, or NULL.
 * @param[in]  member_ctx passed to member.
 * @param[in]  threads  worker threads, 0 = one per core; results do not depend on it.
 * @return #PERSONA_OK; #PERSONA_ECALLBACK; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_scan(uint64_t *counts, size_t capacity, uint64_t *none_out,
                                           const persona_segment_model *model,
                                           const persona_store *store,
                                           const persona_eval_context *ctx,
                                           persona_member_fn member, void *member_ctx,
                                           uint32_t threads);

/**
 * Save a model (its rule texts, lists and options) as a snapshot file
 * (docs/file-format.md, kind 4); loading compiles the rules again.
 * @param[in] model the model.
 * @param[in] path  the file (replaced atomically).
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_save(const persona_segment_model *model, const char *path);

/**
 * Load a model saved by persona_segment_model_save().
 * @param[out] out  the model; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ECORRUPT (damaged, or a rule that no longer
 *         compiles); #PERSONA_EVERSION; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_segment_model_load(persona_segment_model **out, const char *path);

/** @name Live segments: named rules registered on a store, kept exact as events arrive.
 *
 * Membership of a live segment is, at every moment, what the rule gives for the profile
 * as of the store's clock: the latest event time ingested or the latest
 * persona_store_tick() time, whichever is later. After each ingest call the profiles the
 * batch touched are evaluated again; conditions that change with time alone (a window
 * emptying, `days_since` growing, `stopped` becoming true, `now` in a rule) are evaluated
 * again by persona_store_tick() (and by any ingest that moves the clock past them). A
 * change calls the segment's callback: `entered` 1 when the user enters, 0 when they
 * leave, `at_ms` the clock at which it was seen. Within one call, callbacks come in the
 * order of the users' indexes, then of the segments.
 *
 * Callbacks run on the calling thread after the store's changes are applied, with the
 * store's read lock held: they may read the store; every call that would change it
 * returns #PERSONA_EMISUSE. A negative return stops the remaining callbacks of that call, which
 * then returns #PERSONA_ECALLBACK (the store's changes stay applied).
 *
 * Attribute and consent changes, links of identities, erasure and opt-outs re-evaluate
 * memberships without calling back (the host made the change and knows it); the changes
 * of later ingests and ticks are called back as usual. Live segments
 * are not saved with the store: register them again after persona_store_open(). Rules of
 * live segments see no request context (`ctx.*` is missing). At most
 * #PERSONA_LIVE_SEGMENT_MAX live segments per store.
 *
 * Cost: the store keeps a small state per profile and behavioural function (16 to 90
 * bytes) and 4 bytes per event, updated in constant time per event (amortized); see
 * docs/rules.md, "Live segments". */
/**@{*/

#define PERSONA_LIVE_SEGMENT_MAX 64 /**< live segments per store */

/** Receives a membership change of a live segment; return 0 to go on, negative to stop. */
typedef int (*persona_segment_fn)(void *ctx, const char *user, size_t user_len,
                                  const char *segment, int32_t entered, int64_t at_ms);

/**
 * Register a live segment. Its membership is computed for every profile at once, as of
 * the store's clock, without callbacks.
 * @param[in] store     the store.
 * @param[in] name      the segment name (as for persona_segment_model_add_rule(); unique
 *                      among the store's live segments).
 * @param[in] rule      the rule text (UTF-8, need not be NUL-terminated); in_segment() may
 *                      name live segments registered before.
 * @param[in] len       its length in bytes.
 * @param[in] on_change called on every change, or NULL.
 * @param[in] ctx       passed to on_change.
 * @return #PERSONA_OK; #PERSONA_EPARSE (position within rule); #PERSONA_EINVAL (NULL, bad
 *         or duplicate name, more than #PERSONA_LIVE_SEGMENT_MAX); #PERSONA_ENOMEM
 *         (nothing registered); #PERSONA_EMISUSE (from a callback of this store).
 * @since 1.0
 */
PERSONA_API int persona_store_add_segment(persona_store *store, const char *name,
                                          const char *rule, size_t len,
                                          persona_segment_fn on_change, void *ctx);

/**
 * Advance the store's clock to now_ms and apply the live-segment changes due by then
 * (users leaving a window, entering `stopped(...)`, …), calling back for each. The clock
 * moves with or without live segments; a time before it changes nothing (the clock never
 * goes back).
 * @param[in] store  the store.
 * @param[in] now_ms the time, in [#PERSONA_TIME_MIN, #PERSONA_TIME_MAX].
 * @return #PERSONA_OK; #PERSONA_ECALLBACK; #PERSONA_ENOMEM; #PERSONA_EINVAL;
 *         #PERSONA_EMISUSE (from a callback of this store).
 * @since 1.0
 */
PERSONA_API int persona_store_tick(persona_store *store, int64_t now_ms);

/**
 * The store's clock: the latest of its latest event time and its latest tick (0 for a
 * store that has neither).
 * @param[out] out   the clock, ms since the epoch.
 * @param[in]  store the store.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_clock(int64_t *out, const persona_store *store);

/**
 * Number of live segments of a store.
 * @param[out] out   the count.
 * @param[in]  store the store.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_segment_count(size_t *out, const persona_store *store);

/**
 * Name of a live segment.
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  store the store.
 * @param[in]  index 0-based, in order of registration.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_segment_name(char *buf, size_t capacity, size_t *out_len,
                                           const persona_store *store, size_t index);

/**
 * The live segments a user is in now (indexes in order of registration). A key the store
 * does not know is in none.
 * @param[out] out       segment indexes (may be NULL when capacity is 0).
 * @param[in]  capacity  room in out.
 * @param[out] out_count number of segments (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  store     the store.
 * @param[in]  user      the user key.
 * Right after an identity change (link, unmerge, erasure) and before the next ingest or
 * tick, the profile is evaluated on the spot (which allocates).
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_store_segments_of(uint32_t *out, size_t capacity, size_t *out_count,
                                          const persona_store *store, const char *user);
/**@}*/

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_SEGMENT_H */
