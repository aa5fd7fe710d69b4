/**
 * @file rfm.h
 * @brief RFM segmentation: recency, frequency and monetary value of every customer's
 *        purchases, quantile scores 1 … bins, and the eleven standard named segments.
 *
 * Lifecycle: persona_rfm_build() reads a store and returns a #persona_rfm;
 * persona_rfm_load() reads one saved with persona_rfm_save(); persona_rfm_free() releases
 * it. A result never borrows from the store it was built from: either may be freed first.
 *
 * Definitions (docs/rfm.md has worked examples and the segment table):
 * - Purchase: an event of type persona_rfm_options.purchase_type ("purchase") whose value
 *   is not negative (an absent value counts as a purchase of value 0), at a time t with
 *   from_ms ≤ t ≤ reference. A purchase-type event with a negative value is a return
 *   (a cancellation): its value is added to monetary (so it subtracts) and it is neither
 *   an order nor a purchase for recency. Events of persona_rfm_options.return_type, when
 *   set, are returns too: |value| is subtracted from monetary.
 * - Users: every profile with at least one purchase (and, with consent_purpose, a granted
 *   consent for it); profiles with no purchase — none at all, only returns, or only
 *   outside the time range — are left out.
 * - Recency: whole days from the user's latest purchase to the reference time,
 *   floor((reference − latest) / 86,400,000 ms). The reference is
 *   persona_rfm_options.reference_ms, by default the store's clock (its latest event of
 *   any type) + 1 day, the usual "snapshot = max date + 1 day".
 * - Frequency: orders = distinct basket ids among the user's purchases, plus one per
 *   purchase without a basket id.
 * - Monetary: the exact sum of the values of the user's purchases and returns (rounded
 *   once; the result does not depend on the order of the events). It may be 0 or negative.
 * - Scores: with n users in user order (the store's profile order, i.e. order of first
 *   appearance) each of recency, frequency and monetary is ranked 1 … n ascending, ties
 *   by user order (pandas `rank(method="first")`), and rank r gets the bin of
 *   `pandas.qcut(ranks, bins)`: 1 + the number of the inner quantile edges
 *   e_i = quantile(1 … n, i / bins), i = 1 … bins − 1, that are below r, with the edges
 *   computed in double precision exactly as numpy's linear quantile computes them. F and M
 *   are that bin; R is bins + 1 − bin (the most recent get the highest score). One user
 *   gets bin 1 (R = bins, F = M = 1), where pandas would refuse.
 * - Segment: on the 5 × 5 grid of R and FM = the mean of F and M (docs/rfm.md), after
 *   scaling to five levels: R5 = ⌈5·R / bins⌉, FM5 = ⌈5·(F + M) / (2·bins)⌉.
 *
 * Thread-safety: a result is immutable: any number of threads may call the const
 * functions at once. Building reads a consistent view of the store (ingest into the same
 * store waits until the build is done). _free never races with other calls on it.
 */
#ifndef PERSONA_RFM_H
#define PERSONA_RFM_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Per-user RFM values, scores and segments computed from a store. Immutable. */
typedef struct persona_rfm persona_rfm;

/** @name The named segments (persona_rfm_entry.segment). Values are permanent. */
/**@{*/
#define PERSONA_RFM_CHAMPIONS 0          /**< "Champions": R5 5, FM5 5 */
#define PERSONA_RFM_LOYAL 1              /**< "Loyal": R5 3–5, FM5 4–5 (not Champions) */
#define PERSONA_RFM_POTENTIAL_LOYALIST 2 /**< "Potential loyalist": R5 4–5, FM5 2–3 */
#define PERSONA_RFM_NEW 3                /**< "New": R5 5, FM5 1 */
#define PERSONA_RFM_PROMISING 4          /**< "Promising": R5 4, FM5 1 */
#define PERSONA_RFM_NEED_ATTENTION 5     /**< "Need attention": R5 3, FM5 3 */
#define PERSONA_RFM_ABOUT_TO_SLEEP 6     /**< "About to sleep": R5 3, FM5 1–2 */
#define PERSONA_RFM_AT_RISK 7            /**< "At risk": R5 1–2, FM5 3–5 (not Can't lose them) */
#define PERSONA_RFM_CANT_LOSE_THEM 8     /**< "Can't lose them": R5 1, FM5 5 */
#define PERSONA_RFM_HIBERNATING 9        /**< "Hibernating": R5 2, FM5 2 */
#define PERSONA_RFM_LOST 10              /**< "Lost": R5 1–2, FM5 1–2 (not Hibernating) */
/** Number of named segments (ids 0 … 10). */
#define PERSONA_RFM_SEGMENTS 11
/**@}*/

/** @name Score bins (persona_rfm_options.bins). */
/**@{*/
#define PERSONA_RFM_MIN_BINS 2  /**< fewest bins */
#define PERSONA_RFM_MAX_BINS 10 /**< most bins */
/**@}*/

/** @name Export formats of persona_rfm_export(). Values are permanent. */
/**@{*/
/** One row per user in user order: `user,recency_days,frequency,monetary,r,f,m,segment`
 * (monetary in the shortest round-trip form, segment by name). */
#define PERSONA_RFM_EXPORT_CSV 1
/** One row per named segment in id order, empty ones included: `segment,users,share`
 * (share = users / all scored users; empty when there are none). */
#define PERSONA_RFM_EXPORT_SUMMARY_CSV 2
/** One JSON object: the options (bins, reference, purchase_type, return_type, from,
 * consent_purpose), users, segments [{segment, users, share}] and rows [{user,
 * recency_days, frequency, monetary, r, f, m, segment}]. */
#define PERSONA_RFM_EXPORT_JSON 3
/**@}*/

/** How to build. Zero everywhere: 5 bins, purchases of type "purchase", no return type,
 * reference = the store's clock + 1 day, every purchase up to it, every user. */
typedef struct persona_rfm_options {
    uint32_t struct_size; /**< sizeof(persona_rfm_options). @since 1.0 */
    /** Score bins, #PERSONA_RFM_MIN_BINS … #PERSONA_RFM_MAX_BINS (0 = 5). @since 1.0 */
    uint32_t bins;
    /** Event type of purchases (NULL = "purchase"). A type the store does not know is
     * not an error: nobody is scored. @since 1.0 */
    const char *purchase_type;
    /** Event type of returns, whose |value| is subtracted from monetary (NULL = none;
     * must differ from the purchase type). @since 1.0 */
    const char *return_type;
    /** Reference time, ms since the epoch, in #PERSONA_TIME_MIN … #PERSONA_TIME_MAX:
     * recency is measured to it and events after it are ignored (0 = the store's latest
     * event time + 1 day; the instant 1970-01-01 00:00:00.000 itself cannot be asked for).
     * @since 1.0 */
    int64_t reference_ms;
    /** Earliest event time counted, e.g. "the last 12 months" (0 = no limit; not after
     * an explicit reference_ms). @since 1.0 */
    int64_t from_ms;
    /** Score only users who granted consent for this purpose (NULL = everyone). @since 1.0 */
    const char *consent_purpose;
} persona_rfm_options;

/** Initializer: `persona_rfm_options o = PERSONA_RFM_OPTIONS_INIT;`. */
#define PERSONA_RFM_OPTIONS_INIT { sizeof(persona_rfm_options), 0, NULL, NULL, 0, 0, NULL }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_rfm_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_rfm_options_init(persona_rfm_options *opts, uint32_t struct_size);

/** One scored user. Filled by the library up to the caller's struct_size. */
typedef struct persona_rfm_entry {
    uint32_t struct_size;     /**< set by the caller: sizeof(persona_rfm_entry). @since 1.0 */
    int32_t segment;          /**< PERSONA_RFM_CHAMPIONS … PERSONA_RFM_LOST. @since 1.0 */
    int64_t last_purchase_ms; /**< time of the latest purchase. @since 1.0 */
    int64_t recency_days;     /**< whole days from it to the reference time, >= 0. @since 1.0 */
    uint64_t frequency;       /**< orders, >= 1. @since 1.0 */
    double monetary;          /**< purchases minus returns, exact sum rounded once. @since 1.0 */
    int32_t r;                /**< recency score 1 … bins (bins = most recent). @since 1.0 */
    int32_t f;                /**< frequency score 1 … bins. @since 1.0 */
    int32_t m;                /**< monetary score 1 … bins. @since 1.0 */
    uint32_t reserved;        /**< 0. @since 1.0 */
} persona_rfm_entry;

/** Initializer for #persona_rfm_entry (struct_size set, the rest 0). */
#define PERSONA_RFM_ENTRY_INIT { sizeof(persona_rfm_entry), 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Prepare an entry for persona_rfm_get() (struct_size set, the rest 0).
 * @param[out] entry       the struct.
 * @param[in]  struct_size sizeof(persona_rfm_entry) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_rfm_entry_init(persona_rfm_entry *entry, uint32_t struct_size);

/**
 * Compute recency, frequency, monetary, scores and segments for the users of a store.
 * @param[out] out   the result, freed with persona_rfm_free(); NULL on failure.
 * @param[in]  store the store (read under its lock; not borrowed).
 * @param[in]  opts  the options; NULL = all defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL out or store, or bad options: the message
 *         names the field — bins out of range, a type or purpose that is not a valid key,
 *         return_type equal to purchase_type, a time out of range, from_ms after
 *         reference_ms); #PERSONA_ENOMEM; #PERSONA_EUNSUPPORTED (a newer caller's options).
 * @since 1.0
 */
PERSONA_API int persona_rfm_build(persona_rfm **out, const persona_store *store,
                                  const persona_rfm_options *opts);

/**
 * Release a result. NULL is a no-op.
 * @param[in] rfm the result.
 * @since 1.0
 */
PERSONA_API void persona_rfm_free(persona_rfm *rfm);

/**
 * Number of scored users.
 * @param[out] out the count.
 * @param[in]  rfm the result.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_count(size_t *out, const persona_rfm *rfm);

/**
 * Score bins the result was built with.
 * @param[out] out the bins (2 … 10).
 * @param[in]  rfm the result.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_bins(uint32_t *out, const persona_rfm *rfm);

/**
 * Reference time recency was measured to (the default resolved: the store's clock + 1 day).
 * @param[out] out ms since the epoch.
 * @param[in]  rfm the result.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_reference(int64_t *out, const persona_rfm *rfm);

/**
 * Key of the scored user at an index (user order: the store's profile order; a profile
 * of linked identifiers is named by the key persona_store_resolve() gives).
 * @param[out] buf, capacity, out_len as for persona_store_user_at().
 * @param[in]  rfm   the result.
 * @param[in]  index 0-based, below persona_rfm_count().
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (index out of range);
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_user_at(char *buf, size_t capacity, size_t *out_len,
                                    const persona_rfm *rfm, size_t index);

/**
 * Values, scores and segment of the scored user at an index.
 * @param[out] out   the entry; its struct_size must be set.
 * @param[in]  rfm   the result.
 * @param[in]  index 0-based, below persona_rfm_count().
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (index out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_get(persona_rfm_entry *out, const persona_rfm *rfm, size_t index);

/**
 * Index of a user by key (the key persona_rfm_user_at() gives, compared byte for byte).
 * @param[out] out  the index.
 * @param[in]  rfm  the result.
 * @param[in]  user the key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (not scored: no purchase, no consent, or
 *         unknown); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_find(size_t *out, const persona_rfm *rfm, const char *user);

/**
 * Users in a named segment.
 * @param[out] out     the count.
 * @param[in]  rfm     the result.
 * @param[in]  segment PERSONA_RFM_CHAMPIONS … PERSONA_RFM_LOST.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, or a segment out of range).
 * @since 1.0
 */
PERSONA_API int persona_rfm_segment_size(uint64_t *out, const persona_rfm *rfm,
                                         int32_t segment);

/**
 * Name of a segment: "Champions", "Loyal", "Potential loyalist", "New", "Promising",
 * "Need attention", "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost".
 * @param[in] segment a segment id.
 * @return a static string; "unknown" for values this library does not know.
 * @since 1.0
 */
PERSONA_API const char *persona_rfm_segment_name(int32_t segment);

/**
 * Export the result.
 * @param[in] rfm    the result.
 * @param[in] format #PERSONA_RFM_EXPORT_CSV, _SUMMARY_CSV or _JSON.
 * @param[in] write  called with consecutive pieces of the output, on the calling thread.
 * @param[in] ctx    passed to write.
 * @return #PERSONA_OK; #PERSONA_ECALLBACK (write failed); #PERSONA_ENOMEM; #PERSONA_EINVAL
 *         (NULL, unknown format).
 * @since 1.0
 */
PERSONA_API int persona_rfm_export(const persona_rfm *rfm, int32_t format,
                                   persona_write_fn write, void *ctx);

/**
 * Export the result into one buffer.
 * @param[out] out     NUL-terminated text owned by the caller (persona_free()); NULL on failure.
 * @param[out] out_len its length without the NUL; may be NULL.
 * @param[in]  rfm, format as for persona_rfm_export().
 * @return as persona_rfm_export(), without #PERSONA_ECALLBACK.
 * @since 1.0
 */
PERSONA_API int persona_rfm_export_buffer(char **out, size_t *out_len, const persona_rfm *rfm,
                                          int32_t format);

/**
 * Save a result as a snapshot (docs/rfm.md; written to a temporary file and renamed: a
 * crash leaves the old file or the new one).
 * @param[in] rfm  the result.
 * @param[in] path the file.
 * @return #PERSONA_OK; #PERSONA_EIO (the message names the path and step); #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_save(const persona_rfm *rfm, const char *path);

/**
 * Load a result saved with persona_rfm_save(); the scores and segments are computed again
 * from the saved values.
 * @param[out] out  the result; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ECORRUPT (damaged or not an RFM result);
 *         #PERSONA_EVERSION (a newer format); #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_rfm_load(persona_rfm **out, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* PERSONA_RFM_H */
