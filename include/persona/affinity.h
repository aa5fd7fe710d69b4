/**
 * @file affinity.h
 * @brief Item affinity: co-occurrence of items by basket, session or user, the pair
 *        measures (support, confidence, lift, Jaccard, cosine, conviction, leverage),
 *        similar items, recommendations from a user's history, user × category affinity
 *        with time decay and items that over-index in a segment.
 *
 * Lifecycle: persona_affinity_build() reads a store and returns a #persona_affinity_matrix;
 * persona_affinity_load() reads one saved with persona_affinity_save();
 * persona_affinity_merge() combines two built on disjoint partitions of the users;
 * persona_affinity_free() releases it. A matrix never borrows from the store it was built
 * from: either may be freed first.
 *
 * A *unit* is what co-occurrence is counted in: a basket (the events' basket / order id,
 * per user), a session (a user's events with no gap longer than the session gap) or a
 * user (all of a user's events). An item counts once per unit however often it occurs in
 * it. With N units, n_a the units holding item a and n_ab the units holding a and b, the
 * measures are the plain functions below (persona_affinity_lift() …).
 *
 * Items are numbered 0 … items − 1 in bytewise order of their keys, so wherever a tie
 * order says "then item key bytewise" it is "then the smaller item index".
 *
 * Thread-safety: a matrix is immutable: any number of threads may call the const
 * functions at once (the first similar-items query of a measure builds that measure's
 * sorted neighbour lists once, under an internal lock). Building reads a consistent view
 * of the store. _free never races with other calls on the same matrix.
 */
#ifndef PERSONA_AFFINITY_H
#define PERSONA_AFFINITY_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"
#include "persona/itemsets.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A built affinity matrix. Immutable. */
typedef struct persona_affinity_matrix persona_affinity_matrix;

/** @name What a unit of co-occurrence is (persona_affinity_options.by). Values are permanent. */
/**@{*/
#define PERSONA_AFFINITY_BY_BASKET 0  /**< the basket / order id of the event (events without one are skipped) */
#define PERSONA_AFFINITY_BY_SESSION 1 /**< a session of the user (session gap of the options or the store) */
#define PERSONA_AFFINITY_BY_USER 2    /**< everything a user has */
/**@}*/

/** @name Measures of a pair (a, b), for similar items and recommendations. Values are permanent. */
/**@{*/
#define PERSONA_AFFINITY_LIFT 0       /**< persona_affinity_lift() (the default) */
#define PERSONA_AFFINITY_JACCARD 1    /**< persona_affinity_jaccard() */
#define PERSONA_AFFINITY_COSINE 2     /**< persona_affinity_cosine() */
#define PERSONA_AFFINITY_CONFIDENCE 3 /**< persona_affinity_confidence(), a = the item asked about */
#define PERSONA_AFFINITY_SUPPORT 4    /**< persona_affinity_support() */
#define PERSONA_AFFINITY_CONVICTION 5 /**< persona_affinity_conviction(), a = the item asked about */
#define PERSONA_AFFINITY_LEVERAGE 6   /**< persona_affinity_leverage() */
#define PERSONA_AFFINITY_COUNT 7      /**< n_ab itself */
#define PERSONA_AFFINITY_MEASURES 8   /**< number of measures this version knows */
/**@}*/

/** @name Where a user's categories come from (persona_affinity_options.category_source). */
/**@{*/
#define PERSONA_AFFINITY_CATEGORY_PROP 0 /**< the event property named by category_prop */
#define PERSONA_AFFINITY_CATEGORY_ITEM 1 /**< the item itself */
/**@}*/

/** Options of persona_affinity_build(). Zero is the default of every field. */
typedef struct persona_affinity_options {
    uint32_t struct_size;   /**< sizeof(persona_affinity_options). @since 1.0 */
    int32_t by;             /**< `PERSONA_AFFINITY_BY_*`; 0 = by basket. @since 1.0 */
    int64_t session_gap_ms; /**< by session: the inactivity gap (> it starts a new session); 0 = the store's. @since 1.0 */
    const char *const *event_types; /**< event types that count; NULL = every event with an item. @since 1.0 */
    size_t n_event_types;   /**< entries of event_types. @since 1.0 */
    const char *consent_purpose; /**< count only users who granted this purpose; NULL = everyone. @since 1.0 */
    int32_t category_source; /**< `PERSONA_AFFINITY_CATEGORY_*`; 0 = a property. @since 1.0 */
    uint32_t reserved;      /**< must be 0. @since 1.0 */
    const char *category_prop; /**< the category property; NULL = "category". @since 1.0 */
} persona_affinity_options;

#define PERSONA_AFFINITY_OPTIONS_INIT { sizeof(persona_affinity_options), 0, 0, NULL, 0, NULL, 0, 0, NULL }

/**
 * Zero an options struct and set its struct_size (for bindings without the macro).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_options_init(persona_affinity_options *opts, uint32_t struct_size);

/** Sizes of a matrix (persona_affinity_info_get()). */
typedef struct persona_affinity_info {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_affinity_info). @since 1.0 */
    int32_t by;           /**< `PERSONA_AFFINITY_BY_*` the matrix counts by. @since 1.0 */
    uint64_t units;       /**< N: baskets, sessions or users holding at least one item. @since 1.0 */
    uint64_t items;       /**< distinct items. @since 1.0 */
    uint64_t pairs;       /**< unordered pairs of items that co-occur at least once. @since 1.0 */
    uint64_t users;       /**< distinct users with a unit. @since 1.0 */
    uint64_t categories;  /**< distinct categories seen (persona_affinity_user_categories()). @since 1.0 */
    uint64_t entries;     /**< item occurrences summed over the units (the baskets' total size). @since 1.0 */
} persona_affinity_info;

#define PERSONA_AFFINITY_INFO_INIT { sizeof(persona_affinity_info), 0, 0, 0, 0, 0, 0, 0 }

/**
 * Zero an info struct and set its struct_size.
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_info_init(persona_affinity_info *info, uint32_t struct_size);

/**
 * Build a matrix from a store's events: every event with an item whose type counts (and,
 * by basket, with a basket id) puts its item into its unit; users without the consent
 * purpose are left out. Units, pair counts and the units themselves (for itemset mining)
 * are kept. A store with no such event gives an empty matrix (0 units, 0 items).
 * @param[out] out   the matrix (persona_affinity_free()); NULL on failure.
 * @param[in]  store the store (read lock held during the build).
 * @param[in]  opts  options, or NULL for the defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL store or out, bad options: by, category_source,
 *         negative session gap, NULL event type); #PERSONA_EUNSUPPORTED (options from a newer
 *         library); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_affinity_build(persona_affinity_matrix **out, const persona_store *store,
                                       const persona_affinity_options *opts);

/**
 * Release a matrix. NULL is a no-op.
 * @param[in] matrix the matrix.
 * @since 1.0
 */
PERSONA_API void persona_affinity_free(persona_affinity_matrix *matrix);

/**
 * Sizes of a matrix.
 * @param[out] out    filled up to its struct_size.
 * @param[in]  matrix the matrix.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, struct_size unset).
 * @since 1.0
 */
PERSONA_API int persona_affinity_info_get(persona_affinity_info *out,
                                          const persona_affinity_matrix *matrix);

/**
 * Index of an item key (items are numbered in bytewise key order).
 * @param[out] out    the index.
 * @param[in]  matrix the matrix.
 * @param[in]  item   the item key.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (no unit holds the item: message names it);
 *         #PERSONA_EINVAL (NULL).
 * @since 1.0
 */
PERSONA_API int persona_affinity_item_find(size_t *out, const persona_affinity_matrix *matrix,
                                           const char *item);

/**
 * Key of an item.
 * @param[out] buf      receives the NUL-terminated key (may be NULL when capacity is 0).
 * @param[in]  capacity room in buf.
 * @param[out] out_len  the key's length without the NUL (also on #PERSONA_EBUFS); may be NULL.
 * @param[in]  matrix   the matrix.
 * @param[in]  index    0 … items − 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND (index out of range); #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_item_key(char *buf, size_t capacity, size_t *out_len,
                                          const persona_affinity_matrix *matrix, size_t index);

/**
 * Name of a category of persona_affinity_user_categories() (categories are numbered in
 * bytewise order; with #PERSONA_AFFINITY_CATEGORY_ITEM they are the items).
 * @param[out] buf, capacity, out_len as for persona_affinity_item_key().
 * @param[in]  matrix the matrix.
 * @param[in]  index  0 … categories − 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS; #PERSONA_ENOTFOUND; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_category_key(char *buf, size_t capacity, size_t *out_len,
                                              const persona_affinity_matrix *matrix, size_t index);

/** @name The measures of a pair from its counts.
 * n_ab: units holding a and b; n_a, n_b: units holding a, b; n: all units. Each returns NaN
 * when its denominator is 0 or the counts are impossible (n_ab > min(n_a, n_b), n_a or
 * n_b > n). */
/**@{*/
/**
 * support = n_ab / n.
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_support(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**
 * confidence(a → b) = n_ab / n_a.
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_confidence(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**
 * lift = n_ab · n / (n_a · n_b) (= confidence(a → b) / (n_b / n)).
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_lift(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**
 * Jaccard = n_ab / (n_a + n_b − n_ab).
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_jaccard(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**
 * cosine = n_ab / √(n_a · n_b), computed as √(n_ab² / (n_a · n_b)).
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_cosine(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**
 * conviction(a → b) = (1 − n_b / n) / (1 − n_ab / n_a), computed as
 * n_a (n − n_b) / (n (n_a − n_ab)); +infinity when n_ab = n_a (the rule never fails).
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_conviction(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**
 * leverage = n_ab / n − (n_a / n) · (n_b / n), computed as (n_ab · n − n_a · n_b) / n².
 * @param[in] n_ab units holding a and b.
 * @param[in] n_a  units holding a.
 * @param[in] n_b  units holding b.
 * @param[in] n    all units.
 * @return the measure; NaN for a zero denominator or impossible counts.
 * @since 1.0
 */
PERSONA_API double persona_affinity_leverage(uint64_t n_ab, uint64_t n_a, uint64_t n_b, uint64_t n);
/**@}*/

/** Counts and every measure of one pair (persona_affinity_pair()). */
typedef struct persona_affinity_pair_info {
    uint32_t struct_size; /**< set by the caller: sizeof(persona_affinity_pair_info). @since 1.0 */
    uint32_t reserved;    /**< 0. @since 1.0 */
    uint64_t count_ab;    /**< n_ab. @since 1.0 */
    uint64_t count_a;     /**< n_a. @since 1.0 */
    uint64_t count_b;     /**< n_b. @since 1.0 */
    uint64_t units;       /**< n. @since 1.0 */
    double support;       /**< persona_affinity_support(). @since 1.0 */
    double confidence;    /**< persona_affinity_confidence(), a → b. @since 1.0 */
    double lift;          /**< persona_affinity_lift(). @since 1.0 */
    double jaccard;       /**< persona_affinity_jaccard(). @since 1.0 */
    double cosine;        /**< persona_affinity_cosine(). @since 1.0 */
    double conviction;    /**< persona_affinity_conviction(), a → b. @since 1.0 */
    double leverage;      /**< persona_affinity_leverage(). @since 1.0 */
} persona_affinity_pair_info;

#define PERSONA_AFFINITY_PAIR_INFO_INIT { sizeof(persona_affinity_pair_info), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Zero a pair-info struct and set its struct_size.
 * @param[out] info        the struct.
 * @param[in]  struct_size sizeof the caller's struct.
 * @return #PERSONA_OK; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_pair_info_init(persona_affinity_pair_info *info,
                                                uint32_t struct_size);

/**
 * Counts and measures of the pair (a, b). Allocates nothing.
 * @param[out] out    filled up to its struct_size.
 * @param[in]  matrix the matrix.
 * @param[in]  a, b   item keys (may be equal: n_ab = n_a).
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (an item no unit holds, named in the message);
 *         #PERSONA_EINVAL (NULL, struct_size unset).
 * @since 1.0
 */
PERSONA_API int persona_affinity_pair(persona_affinity_pair_info *out,
                                      const persona_affinity_matrix *matrix, const char *a,
                                      const char *b);

/**
 * The items most similar to `item` under a measure: every item b ≠ item with
 * n_ab ≥ max(1, min_count), sorted by score descending, then n_ab descending, then item
 * key bytewise; the first `capacity` of them. After the first query of a measure (which
 * sorts every item's neighbours once for that measure, allocating), a query allocates
 * nothing and reads only the entries it returns and those min_count skips.
 * @param[out] items_out  item indexes (persona_affinity_item_key()); NULL when capacity is 0.
 * @param[out] scores_out scores, or NULL.
 * @param[out] counts_out n_ab, or NULL.
 * @param[in]  capacity   how many to return at most (top-K).
 * @param[out] out_count  how many were written; may be NULL.
 * @param[in]  matrix     the matrix.
 * @param[in]  item       the item key.
 * @param[in]  measure    `PERSONA_AFFINITY_*` measure (confidence and conviction are item → b).
 * @param[in]  min_count  least n_ab; 0 = 1.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (unknown item); #PERSONA_EINVAL (NULL, unknown
 *         measure); #PERSONA_ENOMEM (first query of a measure only).
 * @since 1.0
 */
PERSONA_API int persona_affinity_similar(uint32_t *items_out, double *scores_out,
                                         uint64_t *counts_out, size_t capacity, size_t *out_count,
                                         const persona_affinity_matrix *matrix, const char *item,
                                         int32_t measure, uint64_t min_count);

/**
 * Recommendations for a user: every item c the user does not have and the host does not
 * exclude, scored by the sum over the items h the user has of the measure of (h → c),
 * counting only pairs with n_hc ≥ max(1, min_count); sorted by score descending, then
 * item key bytewise; the first `capacity` of them. The user's items are those of their
 * counted events in `store` now (event types as at the build), or, with store NULL, the
 * items of their units in the matrix. Items the matrix does not know are ignored (in the
 * history and in exclude).
 * @param[out] items_out  item indexes; NULL when capacity is 0.
 * @param[out] scores_out scores, or NULL.
 * @param[in]  capacity   how many to return at most.
 * @param[out] out_count  how many were written; may be NULL.
 * @param[in]  matrix     the matrix.
 * @param[in]  store      the store holding the user's history, or NULL (see above).
 * @param[in]  user       the user key.
 * @param[in]  exclude    item keys never to recommend (n_exclude entries; may be NULL when 0).
 * @param[in]  n_exclude  entries of exclude.
 * @param[in]  measure    `PERSONA_AFFINITY_*` measure.
 * @param[in]  min_count  least n_hc for a pair to count; 0 = 1.
 * @return #PERSONA_OK (0 items for a user without history); #PERSONA_ENOTFOUND (a user
 *         the store, or with store NULL the matrix, does not know); #PERSONA_EINVAL (NULL,
 *         unknown measure, NULL exclude entry); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_affinity_recommend(uint32_t *items_out, double *scores_out,
                                           size_t capacity, size_t *out_count,
                                           const persona_affinity_matrix *matrix,
                                           const persona_store *store, const char *user,
                                           const char *const *exclude, size_t n_exclude,
                                           int32_t measure, uint64_t min_count);

/**
 * A user's affinity to categories with exponential time decay: for each category, the sum
 * over the user's counted events at or before as_of_ms whose category it is of
 * 2^(−(as_of_ms − t) / half_life_ms); sorted by score descending, then category bytewise.
 * Categories are those the matrix saw at its build (others are left out).
 * @param[out] categories_out category indexes (persona_affinity_category_key()).
 * @param[out] scores_out     scores, or NULL.
 * @param[in]  capacity       how many to return at most.
 * @param[out] out_count      how many were written; may be NULL.
 * @param[in]  matrix         the matrix (its event types and category source).
 * @param[in]  store          the store holding the user's events.
 * @param[in]  user           the user key.
 * @param[in]  as_of_ms       the time; 0 = the store's clock.
 * @param[in]  half_life_ms   the half-life (> 0); 0 = the store's decay half-life.
 * @return #PERSONA_OK; #PERSONA_ENOTFOUND (unknown user); #PERSONA_EINVAL (NULL, negative
 *         half-life); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_affinity_user_categories(uint32_t *categories_out, double *scores_out,
                                                 size_t capacity, size_t *out_count,
                                                 const persona_affinity_matrix *matrix,
                                                 const persona_store *store, const char *user,
                                                 int64_t as_of_ms, int64_t half_life_ms);

/** Says whether a user is in the segment of persona_affinity_overindex(): 1 yes, 0 no,
 * negative to stop (#PERSONA_ECALLBACK). */
typedef int (*persona_affinity_member_fn)(void *ctx, const char *user, size_t user_len);

/**
 * Items that over-index in a segment. Over the units of the matrix (baskets, sessions or
 * users), S = units of segment users, x_s of them holding the item; R = the other units,
 * x_r of them holding it. segment share = x_s / S, population share = (x_s + x_r) / (S + R),
 * index = 100 · segment share / population share, and the significance is the pooled
 * two-proportion z of segment against rest:
 * z = (x_s/S − x_r/R) / √(p (1 − p) (1/S + 1/R)), p = (x_s + x_r) / (S + R) (0 when R = 0
 * or p is 0 or 1). Items with x_s ≥ max(1, min_count) are sorted by index descending, then
 * x_s descending, then item key bytewise.
 * The segment is either a live segment of `store` by name, or `member` asked once per user.
 * @param[out] items_out              item indexes.
 * @param[out] index_out              indexes, or NULL.
 * @param[out] segment_share_out      segment shares, or NULL.
 * @param[out] population_share_out   population shares, or NULL.
 * @param[out] z_out                  z scores, or NULL.
 * @param[in]  capacity               how many to return at most.
 * @param[out] out_count              how many were written; may be NULL.
 * @param[out] segment_units_out      S, or NULL.
 * @param[in]  matrix                 the matrix.
 * @param[in]  store                  the store whose live segment `segment` is (when member is NULL).
 * @param[in]  segment                the live segment's name (when member is NULL).
 * @param[in]  member                 membership callback, or NULL.
 * @param[in]  member_ctx             passed to member.
 * @param[in]  min_count              least x_s; 0 = 1.
 * @return #PERSONA_OK (0 items when the segment holds no unit); #PERSONA_ENOTFOUND (no live
 *         segment of that name); #PERSONA_ECALLBACK; #PERSONA_EINVAL (NULL matrix, neither
 *         segment nor member); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_affinity_overindex(uint32_t *items_out, double *index_out,
                                           double *segment_share_out,
                                           double *population_share_out, double *z_out,
                                           size_t capacity, size_t *out_count,
                                           uint64_t *segment_units_out,
                                           const persona_affinity_matrix *matrix,
                                           const persona_store *store, const char *segment,
                                           persona_affinity_member_fn member, void *member_ctx,
                                           uint64_t min_count);

/**
 * Combine two matrices built with the same options on disjoint partitions of the users:
 * the result equals the matrix built on all of them (units, counts, measures; the units
 * of a come first, then those of b).
 * @param[out] out the merged matrix; NULL on failure.
 * @param[in]  a, b the parts (unchanged).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, different options: unit, session gap, event
 *         types, category source); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_affinity_merge(persona_affinity_matrix **out,
                                       const persona_affinity_matrix *a,
                                       const persona_affinity_matrix *b);

/**
 * Save a matrix as a snapshot file (docs/file-format.md, kind 7).
 * @param[in] matrix the matrix.
 * @param[in] path   the file (replaced atomically).
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ENOMEM; #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_save(const persona_affinity_matrix *matrix, const char *path);

/**
 * Load a matrix saved with persona_affinity_save(); it answers every query as the saved one.
 * @param[out] out  the matrix; NULL on failure.
 * @param[in]  path the file.
 * @return #PERSONA_OK; #PERSONA_EIO; #PERSONA_ECORRUPT; #PERSONA_EVERSION; #PERSONA_ENOMEM;
 *         #PERSONA_EINVAL.
 * @since 1.0
 */
PERSONA_API int persona_affinity_load(persona_affinity_matrix **out, const char *path);

/**
 * The matrix's units (baskets, sessions or users, as it was built) as a basket set, for
 * frequent itemsets and association rules (persona/itemsets.h: persona_itemsets_mine(),
 * persona_assoc_rules_build()). Basket b is unit b; item id i is the matrix's item index i
 * (persona_affinity_item_key()), named by its key. An itemset's count is then the number
 * of units holding all its items, so a pair's count equals persona_affinity_pair()'s n_ab.
 * @param[out] out    the basket set (free with persona_baskets_free()); NULL on failure.
 * @param[in]  matrix the matrix (unchanged; may be queried by other threads meanwhile).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_affinity_baskets(persona_baskets **out,
                                         const persona_affinity_matrix *matrix);

#ifdef __cplusplus
}
#endif

#endif
