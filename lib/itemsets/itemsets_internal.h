/* Frequent-itemset mining behind include/persona/itemsets.h, shared with other parts of
 * lib/ (the affinity matrix hands the baskets of its event log to the same miner).
 *
 * The miner's input is a plain basket set in CSR form: basket b holds the item ids
 * items[offsets[b] .. offsets[b + 1]), each < n_items, in any order; an id repeated in a
 * basket counts once. Limits: at most UINT32_MAX - 1 baskets and item occurrences (the
 * miner indexes them with uint32_t). */
#ifndef PERSONA_ITEMSETS_INTERNAL_H
#define PERSONA_ITEMSETS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/itemsets.h"

typedef struct persona__basket_csr {
    const uint64_t *offsets; /* n_baskets + 1 entries, offsets[0] = 0 */
    const uint32_t *items;   /* offsets[n_baskets] ids */
    size_t n_baskets;
    uint32_t n_items;        /* ids are < n_items */
} persona__basket_csr;

typedef struct persona__mine_params {
    uint64_t min_count;    /* >= 1: an itemset is frequent when in at least this many baskets */
    uint32_t max_size;     /* 0 = no limit */
    uint64_t max_itemsets; /* > 0: more frequent itemsets than this -> PERSONA_EBUFS */
    uint32_t threads;      /* 0 = the online CPUs (persona__threads); the result is the same */
    /* The threaded top level (itemsets_parallel.c). Any values give the same result; the
     * public calls use the PERSONA__ITEMSETS_* defaults, tests small ones to send small
     * sets through every path. */
    size_t parallel_min;   /* least item occurrences mined on more than one thread */
    size_t pending_words;  /* finished, unhanded buffers (4-byte words) past which helper
                              threads wait for the calling thread */
    size_t subtree_words;  /* words a subtree mined on another thread may buffer before it
                              is dropped and mined again by the calling thread in its turn */
} persona__mine_params;

/* Smaller basket sets are done before threads would have started. */
#define PERSONA__ITEMSETS_PARALLEL_MIN ((size_t)1 << 16)
#define PERSONA__ITEMSETS_PENDING_WORDS ((size_t)1 << 20)  /* 4 MB */
#define PERSONA__ITEMSETS_SUBTREE_WORDS ((size_t)1 << 20)  /* 4 MB */

/* Receives each frequent itemset once: items (global ids, not sorted) and its basket count.
 * Emission is depth-first: a set of k >= 2 items is the most recently emitted set of k - 1
 * items plus its last item (so a caller can keep a prefix tree with a stack of k entries).
 * A non-zero return stops the mining with PERSONA_ECALLBACK. */
typedef int (*persona__itemset_emit)(void *ctx, const uint32_t *items, size_t n, uint64_t count);

/* Mine every frequent itemset of db (occurrence deliver over projected, merged basket sets:
 * docs/itemsets.md). PERSONA_OK; PERSONA_EINVAL (a basket set beyond the limits above or an
 * id >= n_items); PERSONA_ENOMEM; PERSONA_EBUFS (more than max_itemsets, message says so);
 * PERSONA_ECALLBACK. Nothing is kept after the call; emit is called on the calling thread
 * in the same order for any number of threads. */
int persona__itemsets_mine_csr(const persona__basket_csr *db, const persona__mine_params *p,
                               persona__itemset_emit emit, void *ctx);

/* The basket set of a persona_baskets handle as CSR: borrowed from the handle, or (when
 * pairs of earlier baskets came late) built in *tmp_off / *tmp_items, which the caller
 * frees with persona__free. PERSONA_OK or PERSONA_ENOMEM. */
int persona__baskets_csr(persona__basket_csr *out, uint64_t **tmp_off, uint32_t **tmp_items,
                         const persona_baskets *b);

/* A mined result: the frequent itemsets as a prefix tree in emission order (node i is its
 * parent's set plus item[i]; parent UINT32_MAX = the empty set), and which nodes are kept
 * (all, closed or maximal). rank[g] orders the global ids the way the miner did. */
struct persona_itemsets {
    uint32_t *parent, *item;
    uint8_t *depth; /* items in the set, 1 … 63 */
    uint64_t *count;
    size_t n, cap;
    uint32_t *keep; /* indices of the nodes in the result (NULL = every node) */
    size_t n_keep;
    uint64_t n_baskets;
    uint32_t n_items;
    int32_t target;
};

#define PERSONA__ITEMSET_ROOT UINT32_MAX       /* parent of the sets of one item */
#define PERSONA__ITEMSET_NONE (UINT32_MAX - 1) /* no such node */

/* Lookup of a mined set by its items in any order: an open-addressing table on the XOR of
 * per-item random words (so a subset's key is the set's key with one word XORed out). The
 * tree's paths are not in one canonical item order (perfect extensions are appended after
 * the items they extend), so sets are compared as sets. */
typedef struct persona__itemset_index {
    uint32_t *slots; /* node + 1, 0 = empty */
    uint64_t *key;   /* per node: XOR of its items' words */
    size_t mask;
} persona__itemset_index;

int persona__itemset_index_build(persona__itemset_index *ix, const persona_itemsets *s);
void persona__itemset_index_free(persona__itemset_index *ix);
/* The word of an item. */
uint64_t persona__itemset_word(uint32_t item);
/* The node holding exactly items[0..n) (any order, no repeats; key = XOR of their words),
 * or PERSONA__ITEMSET_NONE. */
uint32_t persona__itemset_find(const persona__itemset_index *ix, const persona_itemsets *s,
                               const uint32_t *items, size_t n, uint64_t key);
/* Sort ids ascending (insertion sort for the short lists of an itemset, qsort beyond). */
void persona__sort_ids(uint32_t *a, size_t n);
/* The items of node i in tree order (path from the root), into path[0..depth). */
void persona__itemset_path(const persona_itemsets *s, uint32_t i, uint32_t *path);

#endif
