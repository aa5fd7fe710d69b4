/**
 * @file funnel.h
 * @brief Conversion funnels: ordered steps within a window, per-step counts, conversion,
 *        time between steps, trend per period and each user's furthest step.
 *
 * Lifecycle: persona_funnel_build() reads a store and returns a #persona_funnel;
 * persona_funnel_load() reads one saved with persona_funnel_save(); persona_funnel_free()
 * releases it. A funnel never borrows from the store: either may be freed first.
 *
 * Definitions. A unit (a user, a session of a user, or an entry — see
 * persona_funnel_options.count) has its events in "unit order": by time, events at the
 * same time in log order (the order they were ingested). A path is a sequence of k distinct
 * events e1, …, ek where ei matches step i (its type, and its predicate when the step has
 * one), time(e1) ≤ time(e2) ≤ … ≤ time(ek) — events at the same time may be taken in
 * either order, whatever their log order — and:
 * - e1 is an entry: its time is in [from_ms, to_ms) when a range is set;
 * - time(ek) − time(e1) ≤ window_ms;
 * - min_ms ≤ time(ei) − time(ei−1) ≤ max_ms of step i (when set; so a min_ms keeps ei from
 *   sharing the time of e(i−1));
 * - no exclusion event x with time(e(i−1)) < time(x) < time(ei) when the exclusion covers
 *   the steps i−1 → i (persona_funnel_exclusion): strictly between in time, so an
 *   exclusion event at the time of e(i−1) or of ei does not break the pair;
 * - with hold_property set, every ei has the same value of that property as e1 (events
 *   without the property match no step);
 * - #PERSONA_FUNNEL_STRICT: ei is the event right after e(i−1) in unit order (no event of
 *   the unit between them). Strict order is the one place where the log order of events at
 *   the same time matters: every other result is the same whatever order the events were
 *   ingested in.
 * The unit reaches step k when some path of k steps exists. #PERSONA_FUNNEL_ANY_ORDER
 * instead counts distinct steps: a unit reaches k when k different steps have matching
 * events within window_ms of the earliest of them (the other constraints do not apply).
 * Precisely, in any order a path is a set of k distinct events that can be given k
 * distinct steps each of them matches (type, predicate); its entry is one of its events of
 * the earliest time (that time in [from_ms, to_ms) when set) and every event lies within
 * window_ms after it; with hold_property set all share the entry's value. Strictness,
 * per-step min/max and exclusions are ignored. Step 1 of an any-order funnel thus counts
 * units with an event of any step, step k those with k distinct steps, and in totals mode
 * every event matching some step is an entry (its paths: the sets it is the entry of).
 *
 * Exclusion events match by type and predicate only (the hold property does not apply to
 * them).
 *
 * Times between steps are measured on one path per unit: among the paths of the unit's
 * furthest step, the one whose times (time(e1), …, time(ek)) are lexicographically
 * smallest; among those (the times are then fixed) the one whose positions in unit order
 * are lexicographically smallest. In totals mode, each entry's path is chosen alike among
 * the paths starting at it. For the plain loose funnel that is the earliest entry that
 * converts furthest, then for each next step the first event at or after the previous
 * step's time that the path does not hold yet. In any order the path is a set: the time of
 * "step k" is the gap between its (k−1)-th and k-th times in ascending order.
 *
 * Cost: loose funnels without min/max and exclusions whose steps of one event type share
 * one predicate (or none) are evaluated greedily in O(events · steps) — the plain loose
 * funnel counting users on packed events; the other cases evaluate every entry on its
 * own, in O(entries · events within the window · steps) per unit (plus a small matching
 * at a time where several events could take steps of one type).
 *
 * Thread-safety: a funnel is immutable except for persona_funnel_merge(): any number of
 * threads may call the const functions at once; merge needs exclusive access. Building
 * reads a consistent view of the store. _free never races with other calls on it.
 */
#ifndef PERSONA_FUNNEL_H
#define PERSONA_FUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A built funnel. Immutable but for _merge. */
typedef struct persona_funnel persona_funnel;

/** @name Step order (persona_funnel_options.order). Values are permanent. */
/**@{*/
#define PERSONA_FUNNEL_LOOSE 0     /**< in order; other events may come between (default) */
#define PERSONA_FUNNEL_STRICT 1    /**< in unit order; no other event of the unit between steps */
#define PERSONA_FUNNEL_ANY_ORDER 2 /**< steps in any order within the window */
/**@}*/

/** @name What is counted (persona_funnel_options.count). Values are permanent. */
/**@{*/
/** Unique users: a user counts once, at the furthest step of any of their paths (default). */
#define PERSONA_FUNNEL_USERS 0
/** Totals: every step-1 event is an entry, evaluated on its own (paths starting at it; the
 * other steps may take events of its time, whatever their log order). */
#define PERSONA_FUNNEL_TOTALS 1
/** Sessions: each session of a user (the store's inactivity gap) is a unit of its own, its
 * paths made of its events only. */
#define PERSONA_FUNNEL_SESSIONS 2
/**@}*/

/** @name Predicate operators (persona_funnel_step.where_op). Values are permanent. */
/**@{*/
#define PERSONA_WHERE_EQ 0 /**< the property equals where_value (default) */
#define PERSONA_WHERE_NE 1 /**< the property is absent or differs from where_value */
/**@}*/

/** @name Export formats of persona_funnel_export(). Values are permanent. */
/**@{*/
/** CSV `step,event,users,conversion_from_prev,conversion_from_first,
 * median_seconds_from_prev` (one row per step, step 1-based, users = units, numbers in
 * shortest round-trip form, a NaN conversion empty, the median empty for step 1 or when
 * no unit reached the step). */
#define PERSONA_FUNNEL_EXPORT_CSV 1
/** One JSON object: `options` (steps, exclusions, window_ms, order, count,
 * hold_property, trend_period, utc_offset_minutes, consent_purpose, from_ms, to_ms and,
 * counting sessions, the store's session_gap_ms), `steps` (step, event, units,
 * conversion_from_prev, conversion_from_first, time_from_prev_ms {min, p25, median, p75,
 * p90, max} or null, time_histogram), `trend` (period label, start_ms, entered,
 * converted) and `users` (users who entered); one line. */
#define PERSONA_FUNNEL_EXPORT_JSON 2
/** CSV `user,stage`: every user who reached step 1, sorted by key. */
#define PERSONA_FUNNEL_EXPORT_STAGES_CSV 3
/**@}*/

/** Most steps in a funnel. */
#define PERSONA_FUNNEL_MAX_STEPS 32
/** Buckets of persona_funnel_time_histogram(): upper bounds (exclusive) 1 min, 5 min,
 * 15 min, 1 h, 6 h, 1 day, 7 days, then everything longer. */
#define PERSONA_FUNNEL_TIME_BUCKETS 8

/** One step (or, in persona_funnel_exclusion, the excluded event). */
typedef struct persona_funnel_step {
    uint32_t struct_size;   /**< sizeof(persona_funnel_step). @since 1.0 */
    const char *event_type; /**< the event type; required. @since 1.0 */
    /** Predicate on a named property (or "item": the event's item); NULL = none. A
     * property the store has never seen is absent from every event. @since 1.0 */
    const char *where_property;
    /** The value compared with: required (non-empty) with where_property, NULL without.
     * @since 1.0 */
    const char *where_value;
    /** PERSONA_WHERE_EQ (0) or PERSONA_WHERE_NE; must be 0 without where_property.
     * @since 1.0 */
    int32_t where_op;
    /** Least time since the previous step in ms (0 = none; ignored for step 1). @since 1.0 */
    int64_t min_ms;
    /** Most time since the previous step in ms (0 = only the window). @since 1.0 */
    int64_t max_ms;
} persona_funnel_step;

/** Initializer: `persona_funnel_step s = PERSONA_FUNNEL_STEP_INIT;`. */
#define PERSONA_FUNNEL_STEP_INIT { sizeof(persona_funnel_step), NULL, NULL, NULL, 0, 0, 0 }

/** An event that breaks a conversion when it happens between two steps. */
typedef struct persona_funnel_exclusion {
    uint32_t struct_size; /**< sizeof(persona_funnel_exclusion). @since 1.0 */
    /** Steps (1-based) it lies between: from_step < to_step ≤ the number of steps
     * (0, 0 = between step 1 and the last; one of them 0 alone is an error, as is any
     * exclusion on a funnel of 1 step). @since 1.0 */
    uint32_t from_step;
    uint32_t to_step; /**< see from_step. @since 1.0 */
    /** The excluded event: type and optional predicate (its min_ms / max_ms must be 0). @since 1.0 */
    const persona_funnel_step *event;
} persona_funnel_exclusion;

/** Initializer: `persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;`. */
#define PERSONA_FUNNEL_EXCLUSION_INIT { sizeof(persona_funnel_exclusion), 0, 0, NULL }

/** How to build a funnel. */
typedef struct persona_funnel_options {
    uint32_t struct_size; /**< sizeof(persona_funnel_options). @since 1.0 */
    /** The steps in order (pointers, each struct with its own struct_size); 1 …
     * #PERSONA_FUNNEL_MAX_STEPS. @since 1.0 */
    const persona_funnel_step *const *steps;
    size_t n_steps;
    const persona_funnel_exclusion *const *exclusions; /**< NULL / 0 = none. @since 1.0 */
    size_t n_exclusions;
    /** Conversion window from the step-1 event in ms (0 = 14 days; negative is an error). @since 1.0 */
    int64_t window_ms;
    int32_t order; /**< PERSONA_FUNNEL_LOOSE (0), _STRICT, _ANY_ORDER. @since 1.0 */
    int32_t count; /**< PERSONA_FUNNEL_USERS (0), _TOTALS, _SESSIONS. @since 1.0 */
    /** A property every step's event must share with step 1's (or "item"); NULL = none.
     * A property the store has never seen: nobody enters. @since 1.0 */
    const char *hold_property;
    /** Calendar period of the trend (a `PERSONA_PERIOD_*` of common.h, HOUR … YEAR;
     * 0 = month). A trend may span at most 1,000,000 periods (build and merge refuse
     * more with #PERSONA_EINVAL). @since 1.0 */
    int32_t trend_period;
    int32_t utc_offset_minutes; /**< of the trend periods, −1440 … 1440. @since 1.0 */
    /** Count only users whose current consent for this purpose is granted (NULL =
     * everyone; a purpose the store has never seen: nobody). @since 1.0 */
    const char *consent_purpose;
    /** Entries (step-1 events) in [from_ms, to_ms) only (0 = open; when both are set
     * from_ms must be below to_ms). @since 1.0 */
    int64_t from_ms;
    int64_t to_ms; /**< see from_ms. @since 1.0 */
} persona_funnel_options;

/** Initializer: `persona_funnel_options o = PERSONA_FUNNEL_OPTIONS_INIT;`. */
#define PERSONA_FUNNEL_OPTIONS_INIT { sizeof(persona_funnel_options), NULL, 0, NULL, 0, 0, 0, 0, NULL, 0, 0, NULL, 0, 0 }

/**
 * Zero a step struct and set its struct_size (for bindings).
 * @param[out] step        the struct.
 * @param[in]  struct_size sizeof(persona_funnel_step) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_step_init(persona_funnel_step *step, uint32_t struct_size);

/**
 * Zero an exclusion struct and set its struct_size (for bindings).
 * @param[out] exclusion   the struct.
 * @param[in]  struct_size sizeof(persona_funnel_exclusion) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_exclusion_init(persona_funnel_exclusion *exclusion,
                                              uint32_t struct_size);

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_funnel_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_options_init(persona_funnel_options *opts, uint32_t struct_size);

/**
 * Build a funnel from the events of a store.
 * @param[out] out   the funnel, freed with persona_funnel_free(); NULL on failure.
 * @param[in]  store the store (read under its lock; not borrowed).
 * @param[in]  opts  the options (steps are required).
 * @return #PERSONA_OK; #PERSONA_EINVAL (no steps, too many, a NULL or invalid type,
 *         window or step times negative, min_ms > max_ms, an exclusion's steps out of
 *         range, an unknown order, count, where_op or trend_period value; the message
 *         names the step); #PERSONA_ENOMEM; #PERSONA_EUNSUPPORTED (non-zero bytes beyond
 *         the struct this library knows). A type the store has never seen is not an
 *         error (nobody reaches that step).
 * @since 1.0
 */
PERSONA_API int persona_funnel_build(persona_funnel **out, const persona_store *store,
                                     const persona_funnel_options *opts);

/**
 * Release a funnel. NULL is a no-op.
 * @param[in] funnel the funnel.
 * @since 1.0
 */
PERSONA_API void persona_funnel_free(persona_funnel *funnel);

/**
 * Number of steps.
 * @param[out] out    the number of steps.
 * @param[in]  funnel the funnel.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_step_count(size_t *out, const persona_funnel *funnel);

/**
 * Event type of a step.
 * @param[out] buf, capacity, out_len the NUL-terminated type (#PERSONA_EBUFS when short).
 * @param[in]  funnel the funnel.
 * @param[in]  step   0-based step.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_step_event(char *buf, size_t capacity, size_t *out_len,
                                          const persona_funnel *funnel, size_t step);

/**
 * Units (users, sessions or entries) that reached a step.
 * @param[out] out    the count.
 * @param[in]  funnel the funnel.
 * @param[in]  step   0-based step.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_units(uint64_t *out, const persona_funnel *funnel, size_t step);

/**
 * Conversion to a step.
 * @param[out] from_prev_out  units at this step / at the previous one (1 for step 0; NaN
 *                            when the previous step has none); may be NULL.
 * @param[out] from_first_out units at this step / at step 0 (NaN when step 0 has none);
 *                            may be NULL.
 * @param[in]  funnel the funnel.
 * @param[in]  step   0-based step.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_conversion(double *from_prev_out, double *from_first_out,
                                          const persona_funnel *funnel, size_t step);

/**
 * A quantile of the time from the previous step to this one, over the units that reached
 * it (linear interpolation between order statistics, as numpy's default; q = 0.5 is the
 * median).
 * @param[out] out    milliseconds; NaN for step 0 or when no unit reached the step.
 * @param[in]  funnel the funnel.
 * @param[in]  step   0-based step.
 * @param[in]  q      0 … 1.
 * @return #PERSONA_OK; #PERSONA_EINVAL (q out of range, step out of range).
 * @since 1.0
 */
PERSONA_API int persona_funnel_time_quantile(double *out, const persona_funnel *funnel,
                                             size_t step, double q);

/**
 * Distribution of the time from the previous step to this one in
 * #PERSONA_FUNNEL_TIME_BUCKETS buckets (bounds in the constant's documentation).
 * @param[out] counts   receives the bucket counts.
 * @param[in]  capacity entries in counts (at least #PERSONA_FUNNEL_TIME_BUCKETS).
 * @param[out] out_len  the number of buckets; may be NULL.
 * @param[in]  funnel   the funnel.
 * @param[in]  step     0-based step (all zero for step 0).
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_time_histogram(uint64_t *counts, size_t capacity,
                                              size_t *out_len, const persona_funnel *funnel,
                                              size_t step);

/**
 * Number of periods of the conversion trend (from the first to the last period with an
 * entry; empty periods included).
 * @param[out] out    the number of periods.
 * @param[in]  funnel the funnel.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_trend_count(size_t *out, const persona_funnel *funnel);

/**
 * One period of the trend: units whose path started (step-1 event of their counted path)
 * in the period, and how many of them reached the last step.
 * @param[out] start_out     start of the period (UTC ms); may be NULL.
 * @param[out] entered_out   units that entered; may be NULL.
 * @param[out] converted_out units that reached the last step; may be NULL.
 * @param[in]  funnel the funnel.
 * @param[in]  i      0-based period.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_trend_at(int64_t *start_out, uint64_t *entered_out,
                                        uint64_t *converted_out, const persona_funnel *funnel,
                                        size_t i);

/**
 * A user's furthest step: 0 when the user never entered (or is unknown), else k when
 * they reached step k (1-based), so "dropped after step 2" is stage 2 of a longer funnel.
 * In sessions or totals mode, the furthest over the user's units.
 * @param[out] out    the stage.
 * @param[in]  funnel the funnel.
 * @param[in]  user   the key naming the user's profile (persona_store_resolve()).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL arguments).
 * @since 1.0
 */
PERSONA_API int persona_funnel_stage_of(int32_t *out, const persona_funnel *funnel,
                                        const char *user);

/**
 * Number of users who entered (the users with a stage ≥ 1).
 * @param[out] out    the count.
 * @param[in]  funnel the funnel.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_user_count(size_t *out, const persona_funnel *funnel);

/**
 * The i-th user who entered, in bytewise key order, and their stage.
 * @param[out] buf, capacity, out_len the NUL-terminated key (#PERSONA_EBUFS when short).
 * @param[out] stage_out the user's stage; may be NULL.
 * @param[in]  funnel the funnel.
 * @param[in]  i      0-based index.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_user_at(char *buf, size_t capacity, size_t *out_len,
                                       int32_t *stage_out, const persona_funnel *funnel,
                                       size_t i);

/**
 * Export the funnel.
 * @param[in] funnel the funnel.
 * @param[in] format PERSONA_FUNNEL_EXPORT_CSV, _JSON or _STAGES_CSV.
 * @param[in] write  called with consecutive pieces of the output, on the calling thread.
 * @param[in] ctx    passed to write.
 * @return #PERSONA_OK; #PERSONA_ECALLBACK; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_export(const persona_funnel *funnel, int32_t format,
                                      persona_write_fn write, void *ctx);

/**
 * Export the funnel into one buffer.
 * @param[out] out     NUL-terminated text owned by the caller (persona_free()); NULL on failure.
 * @param[out] out_len its length without the NUL; may be NULL.
 * @param[in]  funnel, format as for persona_funnel_export().
 * @return as persona_funnel_export(), without #PERSONA_ECALLBACK.
 * @since 1.0
 */
PERSONA_API int persona_funnel_export_buffer(char **out, size_t *out_len,
                                             const persona_funnel *funnel, int32_t format);

/**
 * Add a funnel built with the same options on other users into `into`; the result equals
 * a funnel built over the union of their events (counts, quantiles, trend, stages).
 * @param[in,out] into the funnel that receives; unchanged on failure.
 * @param[in]     from the partial (may be freed afterwards).
 * @return #PERSONA_OK; #PERSONA_EINVAL (options differ — the message names the first
 *         difference; counting sessions, the stores' session gaps must match too —, a
 *         user in both, `into` == `from`, or a merged trend over the period limit);
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_funnel_merge(persona_funnel *into, const persona_funnel *from);

/**
 * Save a funnel as a snapshot (temporary file, then rename).
 * @param[in] funnel the funnel.
 * @param[in] path   the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_save(const persona_funnel *funnel, const char *path);

/**
 * Load a funnel saved with persona_funnel_save().
 * @param[out] out  the funnel; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ECORRUPT; #PERSONA_EVERSION;
 *         #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_funnel_load(persona_funnel **out, const char *path);

#ifdef __cplusplus
}
#endif

#endif
