/**
 * @file itemsets.h
 * @brief Frequent itemsets and association rules of market baskets ("what is bought
 *        together"): all, closed or maximal itemsets above a support threshold, and the
 *        rules A → C between them with support, confidence, lift, conviction, leverage,
 *        Jaccard and cosine.
 *
 * Lifecycle:
 * - #persona_baskets, a basket set: persona_baskets_new() then persona_baskets_add() for
 *   each (basket, item) pair, or persona_baskets_from_csr() from integer arrays;
 *   persona_baskets_free(). Items get dense ids 0, 1, … in order of first appearance (for
 *   persona_baskets_from_csr(): the caller's ids); an item repeated in a basket counts once.
 * - #persona_itemsets, the mined result: persona_itemsets_mine(); persona_itemsets_free().
 *   persona_itemsets_mine_each() hands each itemset to a callback instead of keeping them.
 * - #persona_assoc_rules, rules from a result: persona_assoc_rules_build();
 *   persona_assoc_rules_free().
 * Results never borrow from the handle they were built from; free in any order.
 *
 * Support: an itemset's count is the number of baskets holding all its items; its support
 * is count / baskets. With min_support s and n baskets an itemset is frequent when
 * count >= ceil(s·n − 1e-9) (the 1e-9 keeps s·n = 42.000000000001 from asking for 43, as
 * the benchmark anchors compute it), at least 1. docs/itemsets.md explains the algorithm
 * (depth-first occurrence deliver over merged, projected basket sets), limits and orders.
 *
 * Thread-safety: a basket set is single-thread while it is being filled (persona_baskets_add)
 * and may then be mined by any number of threads at once (the const functions); itemsets and
 * rules are immutable. _free never races with other calls on the same handle.
 */
#ifndef PERSONA_ITEMSETS_H
#define PERSONA_ITEMSETS_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A set of baskets (transactions) and their item dictionary. */
typedef struct persona_baskets persona_baskets;
/** Mined frequent itemsets. Immutable. */
typedef struct persona_itemsets persona_itemsets;
/** Association rules. Immutable. */
typedef struct persona_assoc_rules persona_assoc_rules;

/** @name Targets (persona_itemsets_options.target). Values are permanent. */
/**@{*/
#define PERSONA_ITEMSETS_ALL 0     /**< every frequent itemset */
#define PERSONA_ITEMSETS_CLOSED 1  /**< no superset has the same count */
#define PERSONA_ITEMSETS_MAXIMAL 2 /**< no superset is frequent */
/**@}*/

/** Frequent itemsets a mining may enumerate when max_itemsets is 0 (about 1 GB when kept). */
#define PERSONA_ITEMSETS_DEFAULT_LIMIT 50000000

/** How to mine. Set exactly one of min_support and min_count. */
typedef struct persona_itemsets_options {
    uint32_t struct_size; /**< sizeof(persona_itemsets_options). @since 1.0 */
    /** #PERSONA_ITEMSETS_ALL (0), _CLOSED or _MAXIMAL. Closed and maximal are judged among
     * the frequent itemsets of at most max_size items. @since 1.0 */
    int32_t target;
    /** Least support, a fraction in (0, 1]; 0 = use min_count. @since 1.0 */
    double min_support;
    /** Least count (baskets), >= 1; 0 = use min_support. @since 1.0 */
    uint64_t min_count;
    /** Most frequent itemsets enumerated (all of them, before closed or maximal are picked);
     * more stop the mining with #PERSONA_EBUFS. 0 = #PERSONA_ITEMSETS_DEFAULT_LIMIT.
     * @since 1.0 */
    uint64_t max_itemsets;
    /** Most items in an itemset; 0 = no limit. @since 1.0 */
    uint32_t max_size;
    /** Threads (0 = the online CPUs, at most 8; 1 = the calling thread only). Basket sets of
     * fewer than 65,536 item occurrences are mined on the calling thread. The itemsets, their
     * order and the callbacks (always on the calling thread) are the same for any number.
     * @since 1.0 */
    uint32_t threads;
} persona_itemsets_options;

/** Initializer: `persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;`. */
#define PERSONA_ITEMSETS_OPTIONS_INIT { sizeof(persona_itemsets_options), 0, 0, 0, 0, 0, 0 }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_itemsets_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_itemsets_options_init(persona_itemsets_options *opts, uint32_t struct_size);

/**
 * A new, empty basket set.
 * @param[out] out the set, freed with persona_baskets_free(); NULL on failure.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL out); #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_baskets_new(persona_baskets **out);

/**
 * Add one (basket, item) pair. A basket is created at its key's first pair (baskets keep
 * that order), an item at its first pair; a pair already in the set changes nothing.
 * Pairs of a basket need not be adjacent, but adjacent ones are faster.
 * @param[in,out] b          the set.
 * @param[in]     basket     the basket key, basket_len bytes (copied; any bytes but NUL).
 * @param[in]     basket_len its length.
 * @param[in]     item       the item key, item_len bytes (copied; any bytes but NUL).
 * @param[in]     item_len   its length.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, a key containing NUL, more than
 *         UINT32_MAX - 2 baskets, items or pairs); #PERSONA_ENOMEM (the set unchanged).
 *         Thread-safety: one thread at a time per set.
 * @since 1.0
 */
PERSONA_API int persona_baskets_add(persona_baskets *b, const char *basket, size_t basket_len,
                                    const char *item, size_t item_len);

/**
 * A basket set from integer arrays (CSR): basket i holds items[offsets[i] .. offsets[i+1]).
 * @param[out] out       the set, freed with persona_baskets_free(); NULL on failure.
 * @param[in]  offsets   n_baskets + 1 non-decreasing offsets, offsets[0] = 0 (copied).
 * @param[in]  n_baskets number of baskets (0 is allowed).
 * @param[in]  items     offsets[n_baskets] item ids, each < n_names (copied); repeats in a
 *                       basket count once.
 * @param[in]  names     n_names distinct NUL-terminated item names (copied), or NULL: the
 *                       items are then named by their decimal id.
 * @param[in]  n_names   number of items (ids 0 … n_names - 1).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL arrays, offsets not as above, an id out of
 *         range, a repeated name — the message names it —, sizes past UINT32_MAX - 2);
 *         #PERSONA_ENOMEM.
 * @since 1.0
 */
PERSONA_API int persona_baskets_from_csr(persona_baskets **out, const uint64_t *offsets,
                                         size_t n_baskets, const uint32_t *items,
                                         const char *const *names, size_t n_names);

/**
 * Release a basket set. NULL is a no-op.
 * @param[in] b the set.
 * @since 1.0
 */
PERSONA_API void persona_baskets_free(persona_baskets *b);

/**
 * Number of baskets and of distinct items.
 * @param[out] baskets_out baskets (may be NULL).
 * @param[out] items_out   items (may be NULL).
 * @param[in]  b           the set.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL b).
 * @since 1.0
 */
PERSONA_API int persona_baskets_counts(uint64_t *baskets_out, uint64_t *items_out,
                                       const persona_baskets *b);

/**
 * The name of item id `item`.
 * @param[out] out  the NUL-terminated name, borrowed: valid until the set changes or is freed.
 * @param[in]  b    the set.
 * @param[in]  item the id.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL); #PERSONA_ENOTFOUND (no such id).
 * @since 1.0
 */
PERSONA_API int persona_baskets_item_name(const char **out, const persona_baskets *b, uint32_t item);

/**
 * Receives one frequent itemset of persona_itemsets_mine_each().
 * @param ctx     the caller's pointer.
 * @param items   the item ids, n_items of them, in mining order (not sorted); borrowed for
 *                the call.
 * @param n_items the size of the itemset.
 * @param count   the number of baskets holding all its items.
 * @return 0 to go on; any other value stops the mining with #PERSONA_ECALLBACK.
 */
typedef int (*persona_itemset_fn)(void *ctx, const uint32_t *items, size_t n_items, uint64_t count);

/**
 * Mine the frequent itemsets of a basket set.
 * @param[out] out  the itemsets, freed with persona_itemsets_free(); NULL on failure.
 * @param[in]  b    the baskets (not borrowed by the result).
 * @param[in]  opts the options (required: a threshold must be set).
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL, min_support NaN, <= 0 or > 1 while min_count
 *         is 0, both set, an unknown target); #PERSONA_EBUFS (more than max_itemsets
 *         frequent itemsets: the message says so; nothing is returned); #PERSONA_ENOMEM;
 *         #PERSONA_EUNSUPPORTED (a newer caller's options). Any number of threads may mine
 *         one set at once.
 * @since 1.0
 */
PERSONA_API int persona_itemsets_mine(persona_itemsets **out, const persona_baskets *b,
                                      const persona_itemsets_options *opts);

/**
 * Mine and hand each itemset to a callback as it is found, keeping none (target all);
 * closed and maximal itemsets are handed over after the whole enumeration.
 * @param[in] b    the baskets.
 * @param[in] opts the options, as for persona_itemsets_mine().
 * @param[in] fn   called once per itemset, on the calling thread, in mining order.
 * @param[in] ctx  passed to fn.
 * @return as persona_itemsets_mine(), plus #PERSONA_ECALLBACK (fn returned non-zero).
 * @since 1.0
 */
PERSONA_API int persona_itemsets_mine_each(const persona_baskets *b,
                                           const persona_itemsets_options *opts,
                                           persona_itemset_fn fn, void *ctx);

/**
 * Release itemsets. NULL is a no-op.
 * @param[in] s the itemsets.
 * @since 1.0
 */
PERSONA_API void persona_itemsets_free(persona_itemsets *s);

/**
 * Number of itemsets in a result, and of baskets they were mined from.
 * @param[out] out         itemsets (may be NULL).
 * @param[out] baskets_out baskets, the denominator of support (may be NULL).
 * @param[in]  s           the itemsets.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL s).
 * @since 1.0
 */
PERSONA_API int persona_itemsets_count(uint64_t *out, uint64_t *baskets_out, const persona_itemsets *s);

/**
 * Itemset number `index` (0 … count - 1, in mining order: depth-first, a set before its
 * extensions).
 * @param[out] items_out room for `capacity` ids; receives the items sorted by id.
 * @param[in]  capacity  its size.
 * @param[out] len_out   the itemset's size (always set, also with #PERSONA_EBUFS).
 * @param[out] count_out its count (may be NULL).
 * @param[in]  s         the itemsets.
 * @param[in]  index     which one.
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity too small; nothing written);
 *         #PERSONA_EINVAL (NULL); #PERSONA_ENOTFOUND (index out of range).
 * @since 1.0
 */
PERSONA_API int persona_itemsets_get(uint32_t *items_out, size_t capacity, size_t *len_out,
                                     uint64_t *count_out, const persona_itemsets *s, uint64_t index);

/** @name Rule measures (persona_assoc_rules_options.sort_by). Values are permanent. */
/**@{*/
#define PERSONA_RULE_CONFIDENCE 0 /**< count(A ∪ C) / count(A) */
#define PERSONA_RULE_LIFT 1       /**< confidence / support(C) */
#define PERSONA_RULE_SUPPORT 2    /**< count(A ∪ C) / baskets */
#define PERSONA_RULE_CONVICTION 3 /**< (1 − support(C)) / (1 − confidence); +inf at confidence 1 */
#define PERSONA_RULE_LEVERAGE 4   /**< support(A ∪ C) − support(A)·support(C) */
/**@}*/

/** Rules wanted. Zero everywhere: every rule, by confidence. */
typedef struct persona_assoc_rules_options {
    uint32_t struct_size; /**< sizeof(persona_assoc_rules_options). @since 1.0 */
    /** Order and top-N measure: #PERSONA_RULE_CONFIDENCE (0), _LIFT, _SUPPORT, _CONVICTION
     * or _LEVERAGE; rules come sorted by it, greatest first. @since 1.0 */
    int32_t sort_by;
    /** Least confidence, 0 … 1 (0 = any). @since 1.0 */
    double min_confidence;
    /** Least lift (0 = any). @since 1.0 */
    double min_lift;
    /** Keep only the best `top` rules (0 = all). @since 1.0 */
    uint64_t top;
    /** Most rules kept when top is 0; more stop with #PERSONA_EBUFS.
     * 0 = #PERSONA_ITEMSETS_DEFAULT_LIMIT. @since 1.0 */
    uint64_t max_rules;
    /** Items allowed in antecedents (n_antecedent_items ids), NULL = any. @since 1.0 */
    const uint32_t *antecedent_items;
    /** Number of antecedent_items. @since 1.0 */
    size_t n_antecedent_items;
    /** Items allowed in consequents, NULL = any. @since 1.0 */
    const uint32_t *consequent_items;
    /** Number of consequent_items. @since 1.0 */
    size_t n_consequent_items;
} persona_assoc_rules_options;

/** Initializer: `persona_assoc_rules_options o = PERSONA_ASSOC_RULES_OPTIONS_INIT;`. */
#define PERSONA_ASSOC_RULES_OPTIONS_INIT                                                     \
    { sizeof(persona_assoc_rules_options), 0, 0, 0, 0, 0, NULL, 0, NULL, 0 }

/**
 * Zero an options struct and set its struct_size (for bindings).
 * @param[out] opts        the struct.
 * @param[in]  struct_size sizeof(persona_assoc_rules_options) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_assoc_rules_options_init(persona_assoc_rules_options *opts,
                                                 uint32_t struct_size);

/** One rule A → C. Filled by the library up to the caller's struct_size. */
typedef struct persona_assoc_rule {
    uint32_t struct_size;  /**< set by the caller: sizeof(persona_assoc_rule). @since 1.0 */
    uint32_t n_antecedent; /**< items in A. @since 1.0 */
    uint32_t n_consequent; /**< items in C. @since 1.0 */
    uint32_t reserved;     /**< 0. @since 1.0 */
    uint64_t count;        /**< baskets holding A ∪ C. @since 1.0 */
    double support;        /**< count / baskets. @since 1.0 */
    double confidence;     /**< count / count(A). @since 1.0 */
    double lift;           /**< confidence / support(C). @since 1.0 */
    double conviction;     /**< (1 − support(C)) / (1 − confidence), +inf at confidence 1. @since 1.0 */
    double leverage;       /**< support − support(A)·support(C). @since 1.0 */
    double jaccard;        /**< count / (count(A) + count(C) − count). @since 1.0 */
    double cosine;         /**< count / sqrt(count(A)·count(C)). @since 1.0 */
    double antecedent_support; /**< support(A). @since 1.0 */
    double consequent_support; /**< support(C). @since 1.0 */
} persona_assoc_rule;

/** Initializer for #persona_assoc_rule (struct_size set, the rest 0). */
#define PERSONA_ASSOC_RULE_INIT { sizeof(persona_assoc_rule), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Prepare a rule struct (struct_size set, the rest 0).
 * @param[out] rule        the struct.
 * @param[in]  struct_size sizeof(persona_assoc_rule) as the caller compiled it.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL or a size out of range).
 * @since 1.0
 */
PERSONA_API int persona_assoc_rule_init(persona_assoc_rule *rule, uint32_t struct_size);

/**
 * Every rule A → C (A, C non-empty and disjoint, A ∪ C a mined itemset) passing the
 * filters, sorted by the sort_by measure, greatest first; ties by greater count, then by
 * the itemsets' mining order, then by the antecedent (its items' positions in the itemset,
 * compared as a bit mask). Itemsets of more than 63 items give no rules.
 * @param[out] out  the rules, freed with persona_assoc_rules_free(); NULL on failure.
 * @param[in]  s    itemsets mined with target #PERSONA_ITEMSETS_ALL (the counts of A and C
 *                  come from them; not borrowed).
 * @param[in]  opts the options; NULL = all defaults.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL out or s, closed or maximal itemsets, a NaN or
 *         negative threshold, an unknown measure, a constraint id >= the items);
 *         #PERSONA_EBUFS (more than max_rules rules
 *         with top 0); #PERSONA_ENOMEM; #PERSONA_EUNSUPPORTED (a newer caller's options).
 * @since 1.0
 */
PERSONA_API int persona_assoc_rules_build(persona_assoc_rules **out, const persona_itemsets *s,
                                          const persona_assoc_rules_options *opts);

/**
 * Release rules. NULL is a no-op.
 * @param[in] r the rules.
 * @since 1.0
 */
PERSONA_API void persona_assoc_rules_free(persona_assoc_rules *r);

/**
 * Number of rules.
 * @param[out] out the count.
 * @param[in]  r   the rules.
 * @return #PERSONA_OK; #PERSONA_EINVAL (NULL).
 * @since 1.0
 */
PERSONA_API int persona_assoc_rules_count(uint64_t *out, const persona_assoc_rules *r);

/**
 * Rule number `index` in the documented order.
 * @param[out] rule      its measures, filled up to rule->struct_size (which the caller sets).
 * @param[out] items_out room for `capacity` ids: the antecedent's items sorted by id, then
 *                       the consequent's (rule->n_antecedent + rule->n_consequent ids).
 * @param[in]  capacity  its size.
 * @param[in]  r         the rules.
 * @param[in]  index     0 … count - 1.
 * @return #PERSONA_OK; #PERSONA_EBUFS (capacity too small; rule filled, no items written);
 *         #PERSONA_EINVAL (NULL, bad struct_size); #PERSONA_ENOTFOUND (index out of range).
 * @since 1.0
 */
PERSONA_API int persona_assoc_rules_get(persona_assoc_rule *rule, uint32_t *items_out,
                                        size_t capacity, const persona_assoc_rules *r,
                                        uint64_t index);

#ifdef __cplusplus
}
#endif

#endif
