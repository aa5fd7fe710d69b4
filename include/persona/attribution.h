/**
 * @file attribution.h
 * @brief Multi-touch attribution: channel journeys to a conversion, the Markov
 *        removal-effect model of order 1 … 4 and the heuristic models first-touch,
 *        last-touch, linear, position-based (U-shaped) and time-decay; conversions and
 *        conversion value attributed side by side.
 *
 * Lifecycle: persona_attribution_build() extracts the journeys of a store's users;
 * persona_attribution_from_journeys() takes journeys the host supplies;
 * persona_attribution_load() reads a set saved with persona_attribution_save();
 * persona_attribution_merge() combines two sets built on disjoint partitions of the users;
 * persona_attribution_free() releases one. A set never borrows from the store it was built
 * from: either may be freed first.
 *
 * A *journey* is a user's ordered touchpoints (channels) up to a conversion (a converting
 * journey) or up to the end of the user's events (a non-converting, "null" journey).
 * Identical journeys are aggregated: the set holds each distinct path once with its
 * conversions, conversion value and nulls — the form ChannelAttribution takes, and what is
 * saved and merged. Channels are numbered 0 … channels − 1 in bytewise order of their names.
 *
 * Models (persona_attribution_compute()) credit each channel with a number of conversions
 * and an amount of value; summed over the channels they give the set's conversions and
 * value (up to rounding). See docs/attribution.md for the definitions and a worked example.
 *
 * Thread-safety: a set is immutable: any number of threads may call the const functions
 * at once. Nothing here uses threads, so every result is the same whatever the machine.
 * Building reads a consistent view of the store. _free never races with other calls on
 * the same set.
 */
#ifndef PERSONA_ATTRIBUTION_H
#define PERSONA_ATTRIBUTION_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"
#include "persona/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A set of aggregated journeys. Immutable. */
typedef struct persona_attribution persona_attribution;

/** @name Attribution models (persona_attribution_model_options.model). Values are permanent. */
/**@{*/
#define PERSONA_ATTRIBUTION_MARKOV 0   /**< Markov removal effect of order 1 … 4 (the default) */
#define PERSONA_ATTRIBUTION_FIRST 1    /**< first touch: all credit to the first channel */
#define PERSONA_ATTRIBUTION_LAST 2     /**< last touch: all credit to the last channel */
#define PERSONA_ATTRIBUTION_LINEAR 3   /**< equal credit to every touchpoint */
#define PERSONA_ATTRIBUTION_POSITION 4 /**< position-based (U-shaped): first / middle / last weights */
#define PERSONA_ATTRIBUTION_DECAY 5    /**< time decay with the set's half-life */
#define PERSONA_ATTRIBUTION_MODELS 6   /**< number of models this version knows */
/**@}*/

/** Highest Markov order. */
#define PERSONA_ATTRIBUTION_MAX_ORDER 4

/** Options of persona_attribution_build(). Zero is the default of every field. */
typedef struct persona_attribution_options {
    uint32_t struct_size;      /**< sizeof(persona_attribution_options). @since 1.0 */
    uint32_t reserved;         /**< must be 0. @since 1.0 */
    const char *channel_prop;  /**< the property whose value is the channel (e.g. "campaign"); required. @since 1.0 */
    const char *const *conversion_types; /**< event types that are conversions; required (≥ 1). @since 1.0 */
    size_t n_conversion_types; /**< entries of conversion_types. @since 1.0 */
    const char *const *touch_types; /**< event types that are touchpoints (channel "(none)" when the
                                         property is missing); NULL = every non-conversion event
                                         carrying the channel property. @since 1.0 */
    size_t n_touch_types;      /**< entries of touch_types. @since 1.0 */
    int64_t lookback_ms;       /**< only touchpoints at most this long before the journey's end
                                    (its conversion, or its last touchpoint) count; 0 = all. @since 1.0 */
    int64_t half_life_ms;      /**< half-life of the time-decay model; 0 = 7 days. @since 1.0 */
    const char *consent_purpose; /**< count only users who granted this purpose; NULL = everyone. @since 1.0 */
} persona_attribution_options;

#define PERSONA_ATTRIBUTION_OPTIONS_INIT { sizeof(persona_attribution_options), 0, NULL, NULL, 0, NULL, 0, 0, 0, NULL }

/**
 * Zero an options struct and set its struct_size (for bindings without the macro).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_options_init(persona_attribution_options *opts,
                                                 uint32_t struct_size);

/** Journeys supplied by the host (persona_attribution_from_journeys()). Journey j's
 * touchpoints are touch_channels[offsets[j] .. offsets[j + 1]), each an index into
 * channels. Journeys may repeat: they are aggregated. */
typedef struct persona_attribution_journeys {
    uint32_t struct_size;           /**< sizeof(persona_attribution_journeys). @since 1.0 */
    uint32_t reserved;              /**< must be 0. @since 1.0 */
    const char *const *channels;    /**< channel names (distinct, non-empty UTF-8). @since 1.0 */
    size_t n_channels;              /**< entries of channels. @since 1.0 */
    size_t n_journeys;              /**< journeys. @since 1.0 */
    const uint64_t *offsets;        /**< n_journeys + 1 ascending offsets, offsets[0] = 0. @since 1.0 */
    const uint32_t *touch_channels; /**< offsets[n_journeys] channel indexes. @since 1.0 */
    const uint64_t *conversions;    /**< conversions per journey. @since 1.0 */
    const double *values;           /**< conversion value per journey (finite); NULL = 0. @since 1.0 */
    const uint64_t *nulls;          /**< non-converting occurrences per journey; NULL = 0. @since 1.0 */
    const int64_t *touch_ages_ms;   /**< per touchpoint: time before the conversion (≥ 0), for
                                         time decay; NULL = 0 (decay then equals linear). @since 1.0 */
    int64_t half_life_ms;           /**< half-life of the time-decay model; 0 = 7 days. @since 1.0 */
} persona_attribution_journeys;

#define PERSONA_ATTRIBUTION_JOURNEYS_INIT { sizeof(persona_attribution_journeys), 0, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/**
 * Zero a journeys struct and set its struct_size.
 * @param[out] journeys    the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_journeys_init(persona_attribution_journeys *journeys,
                                                  uint32_t struct_size);

/** Options of persona_attribution_compute(). Zero is the default of every field. */
typedef struct persona_attribution_model_options {
    uint32_t struct_size;   /**< sizeof(persona_attribution_model_options). @since 1.0 */
    int32_t model;          /**< `PERSONA_ATTRIBUTION_*` model; 0 = Markov. @since 1.0 */
    int32_t order;          /**< Markov order 1 … #PERSONA_ATTRIBUTION_MAX_ORDER; 0 = 1. @since 1.0 */
    uint32_t reserved;      /**< must be 0. @since 1.0 */
    double position_first;  /**< position-based: weight of the first touchpoint. @since 1.0 */
    double position_middle; /**< position-based: weight shared by the middle touchpoints. @since 1.0 */
    double position_last;   /**< position-based: weight of the last touchpoint; all three 0 =
                                 0.4 / 0.2 / 0.4, else each ≥ 0 and their sum 1 (± 1e-9). @since 1.0 */
} persona_attribution_model_options;

#define PERSONA_ATTRIBUTION_MODEL_OPTIONS_INIT { sizeof(persona_attribution_model_options), 0, 0, 0, 0.0, 0.0, 0.0 }

/**
 * Zero a model-options struct and set its struct_size.
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_model_options_init(persona_attribution_model_options *opts,
                                                       uint32_t struct_size);

/** Sizes and totals of a set (persona_attribution_info_get()). */
typedef struct persona_attribution_info {
    uint32_t struct_size;   /**< set by the caller: sizeof(persona_attribution_info). @since 1.0 */
    uint32_t reserved;      /**< 0. @since 1.0 */
    uint64_t channels;      /**< distinct channels. @since 1.0 */
    uint64_t paths;         /**< distinct paths (aggregated journeys). @since 1.0 */
    uint64_t conversions;   /**< converting journeys. @since 1.0 */
    uint64_t nulls;         /**< non-converting journeys. @since 1.0 */
    uint64_t touchpoints;   /**< touchpoints over every journey (with repeats). @since 1.0 */
    double value;           /**< conversion value of the converting journeys. @since 1.0 */
    uint64_t conversions_without_touch; /**< conversions with no touchpoint before them (not attributed). @since 1.0 */
    double value_without_touch; /**< their value. @since 1.0 */
    int64_t half_life_ms;   /**< half-life of the time-decay credit. @since 1.0 */
} persona_attribution_info;

#define PERSONA_ATTRIBUTION_INFO_INIT { sizeof(persona_attribution_info), 0, 0, 0, 0, 0, 0, 0.0, 0, 0.0, 0 }

/**
 * Zero an info struct and set its struct_size.
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_info_init(persona_attribution_info *info, uint32_t struct_size);

/**
 * Extract the journeys of a store's users and aggregate them. Per user (profile), events
 * in time order (then arrival order): a touchpoint adds its channel — the channel
 * property's value verbatim, "(none)" when a touchpoint of a listed touch type lacks it;
 * a conversion event ends the journey as converting with the event's value (absent = 0),
 * and the next touchpoint starts a new one; the touchpoints after the user's last
 * conversion form a non-converting journey. A conversion event is never a touchpoint. A
 * conversion with no touchpoint before it is counted in the info but attributed to no
 * channel. With lookback_ms, touchpoints older than the lookback before the journey's end
 * are dropped (a journey left empty is not kept). Users without the consent purpose are
 * left out. A store without conversions gives a set of only non-converting journeys (every
 * model then credits 0).
 * @param[out] out   the set (persona_attribution_free()); NULL on failure.
 * @param[in]  store the store (read lock held during the build).
 * @param[in]  opts  options (channel_prop and conversion_types are required).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store, out or opts, no channel property, no
 *         conversion type, NULL or empty type, negative lookback or half-life);
 *         #PERSONA_EUNSUPPORTED (options from a newer library); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_attribution_build(persona_attribution **out, const persona_store *store,
                                          const persona_attribution_options *opts);

/**
 * Aggregate journeys the host supplies (for tests, benchmarks and data from elsewhere).
 * A journey with 0 conversions and 0 nulls is ignored; channels no kept journey uses are
 * dropped.
 * @param[out] out      the set; NULL on failure.
 * @param[in]  journeys the journeys (read during the call only).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, struct_size unset, a repeated, NULL or empty
 *         channel name, offsets not ascending from 0, a channel index out of range, an
 *         empty journey with conversions or nulls, a non-finite value, a
 *         negative age or half-life, more than 2^53 conversions and nulls in all; the message
 *         names the journey); #PERSONA_EUNSUPPORTED;
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_attribution_from_journeys(persona_attribution **out,
                                                  const persona_attribution_journeys *journeys);

/**
 * Release a set. NULL is a no-op.
 * @param[in] set the set.
 * @since 1.0
 */
PERSONA_API void persona_attribution_free(persona_attribution *set);

/**
 * Sizes and totals of a set.
 * @param[out] out filled up to its struct_size.
 * @param[in]  set the set.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, struct_size unset).
 * @since 1.0
 */
PERSONA_API int persona_attribution_info_get(persona_attribution_info *out,
                                             const persona_attribution *set);

/**
 * Name of a channel.
 * @param[out] buf      receives the NUL-terminated name (may be NULL when capacity is 0).
 * @param[in]  capacity room in buf.
 * @param[out] out_len  the name's length without the NUL (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  set      the set.
 * @param[in]  index    0 … channels − 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (index out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_channel_name(char *buf, size_t capacity, size_t *out_len,
                                                 const persona_attribution *set, size_t index);

/**
 * One aggregated path (paths are in lexicographic order of their channel indexes, a
 * prefix first).
 * @param[out] channels_out    its channel indexes (may be NULL when capacity is 0).
 * @param[in]  capacity        room in channels_out.
 * @param[out] out_len         the path's length (also on #PERSONA_EBUFS); may be NULL.
 * @param[out] conversions_out its conversions, or NULL.
 * @param[out] value_out       its conversion value, or NULL.
 * @param[out] nulls_out       its non-converting journeys, or NULL.
 * @param[in]  set             the set.
 * @param[in]  index           0 … paths − 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS (nothing written); #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_path(uint32_t *channels_out, size_t capacity, size_t *out_len,
                                         uint64_t *conversions_out, double *value_out,
                                         uint64_t *nulls_out, const persona_attribution *set,
                                         size_t index);

/**
 * Attribute the set's conversions and value to its channels with one model.
 *
 * Heuristic models credit each converting path's conversions c and value v: first / last
 * touch all to the first / last touchpoint; linear 1/n to each of its n touchpoints (a
 * channel that repeats gets each share); position-based: one touchpoint gets all, two get
 * first + middle/2 and last + middle/2, n ≥ 3 get first, middle/(n − 2) each, last;
 * time decay: touchpoint i weighs 2^(−age_i / half-life) (age: time before the
 * conversion), credit = weight / the path's weight sum (computed at the build, per
 * journey, and summed per path).
 *
 * Markov (ChannelAttribution's definition): states are the last min(i, order) channels
 * after the i-th touchpoint, plus start, conversion and null; transition probabilities
 * are the journeys' transition counts normalised per state. P = probability of reaching
 * conversion from start; removing channel c sends every transition into a state holding c
 * to null, giving P₋c; removal effect RE_c = 1 − P₋c / P, and the channel gets
 * conversions · RE_c / Σ RE. Value uses the expected conversion value instead of P (each
 * transition into conversion rewards its mean value). The absorbing chain is solved
 * directly (Gaussian elimination with partial pivoting) up to 256 states, else by
 * Gauss–Seidel sweeps (self-loops solved exactly) until no state changes by more than
 * 1e-15 relative, at most 100,000 sweeps; removal effects are written to removal_out.
 * Without conversions every credit and removal effect is 0.
 * @param[out] conversions_out  conversions credited per channel (capacity entries), or NULL.
 * @param[out] value_out        value credited per channel, or NULL.
 * @param[out] removal_out      Markov: removal effect of conversions per channel; heuristic
 *                              models: NaN; or NULL.
 * @param[out] removal_value_out Markov: removal effect of value per channel; else NaN; or NULL.
 * @param[in]  capacity         entries of each array given (≥ channels unless all are NULL).
 * @param[out] out_len          the number of channels (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  set              the set.
 * @param[in]  opts             model options, or NULL for Markov of order 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_EINVAL (NULL set, unknown model, order 0 or
 *         above #PERSONA_ATTRIBUTION_MAX_ORDER after defaults, i.e. negative or > 4; position
 *         weights negative or not summing to 1); #PERSONA_EUNSUPPORTED; #PERSONA_ENOMEM
 *         (Markov only).
 * @since 1.0
 */
PERSONA_API int persona_attribution_compute(double *conversions_out, double *value_out,
                                            double *removal_out, double *removal_value_out,
                                            size_t capacity, size_t *out_len,
                                            const persona_attribution *set,
                                            const persona_attribution_model_options *opts);

/**
 * Combine two sets built with the same options on disjoint partitions of the users: the
 * result equals the set built on all of them (paths, counts; values up to the order of
 * floating-point additions).
 * @param[out] out the merged set; NULL on failure.
 * @param[in]  a, b the parts (unchanged).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, different options: channel property,
 *         conversion and touch types, lookback, half-life, consent purpose; more than 2^53
 *         journeys together); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_attribution_merge(persona_attribution **out, const persona_attribution *a,
                                          const persona_attribution *b);

/**
 * Save a set as a snapshot file (docs/file-format.md, kind 9).
 * @param[in] set  the set.
 * @param[in] path the file (replaced atomically).
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_save(const persona_attribution *set, const char *path);

/**
 * Load a set saved with persona_attribution_save(); it answers every query as the saved one.
 * @param[out] out  the set; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ECORRUPT; #PERSONA_EVERSION; #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_attribution_load(persona_attribution **out, const char *path);

#ifdef __cplusplus
}
#endif

#endif
