/* Shared by the two halves of the miner: itemsets_mine.c (horizontal: projected basket
 * sets) and itemsets_bits.c (vertical: one 64-bit basket mask per item once a projected set
 * has at most 64 baskets). */
#ifndef PERSONA_ITEMSETS_MINE_INTERNAL_H
#define PERSONA_ITEMSETS_MINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "itemsets/itemsets_internal.h"

#define NONE UINT32_MAX
/* The depth (itemset size) at which 2^depth - 1 subsets could never fit in 64 bits. */
#define DEPTH_CAP 63

typedef struct level {
    uint32_t *items, *off, *w;   /* baskets: items[off[t] .. off[t+1]), weight w[t] */
    uint32_t *gid;               /* local id -> global id */
    uint64_t *sup;               /* weighted support of each local item */
    uint32_t *occ_start;         /* m + 1: item's occurrences in occ[] */
    uint32_t *occ, *occ_tx;      /* position in items[] and basket of each occurrence */
    uint32_t *cur;               /* fill cursor of occ per item */
    uint32_t *newid;             /* child's local id of each local item, NONE = dropped */
    uint64_t *cnt;               /* child's weighted counts, zero between uses */
    uint32_t *hslots;            /* merge table of the child's baskets: basket + 1 */
    uint32_t *th;                /* hash of each basket (filters the merge's compares) */
    size_t cap_items, cap_tx, cap_m, cap_h;
    size_t n_tx, m, n_items;
} level;

typedef struct miner {
    level *lv;
    size_t n_lv;
    uint32_t *prefix;
    uint32_t *pe; /* perfect extensions of the sets on the way down (room for every item) */
    size_t n_pe;
    uint64_t min_count, emitted, max_itemsets;
    uint32_t max_size;
    persona__itemset_emit emit;
    void *ctx;

    /* itemsets_bits.c: per depth, the class of items (global id, basket mask, count) */
    struct bit_item *bits;
    size_t bits_cap;
    uint64_t *words; /* the masks of the class stack, n_words words each */
    size_t words_cap, n_words;
    int unit;        /* every basket weighs 1: counts are popcounts */
    uint64_t (*wsum)[256]; /* weight of each byte value, per mask byte in use */
    size_t wsum_cap;
} miner;


/* A projected set switches to bit masks when it has at most this many baskets and the
 * class stack of itemsets_bits.c (up to items²/2 masks) stays under PERSONA__BITS_MAX_WORDS. */
#define PERSONA__BITS_MAX_TX 512
#define PERSONA__BITS_MAX_WORDS ((size_t)1 << 22)

typedef struct bit_item {
    uint64_t count; /* weight of the baskets holding the item and the prefix */
    size_t mask;    /* its mask: words[mask .. mask + n_words) */
    uint32_t gid;
    uint32_t pad;
} bit_item;

/* Whether a projected set of n_tx baskets and m items is mined with masks. */
static inline int persona__mine_use_bits(size_t n_tx, size_t m)
{
    size_t w = (n_tx + 63) / 64;
    return n_tx <= PERSONA__BITS_MAX_TX && m <= 4096 && (m * (m + 1) / 2 + m) * w <= PERSONA__BITS_MAX_WORDS;
}

int persona__mine_too_many(const miner *mn);
/* Release a level's arrays (the struct itself is the caller's). */
void persona__mine_level_free(level *l);
/* List each item's occurrences of a built level (before its items are mined). */
void persona__mine_deliver(level *l);
/* Mine the delivered level d: every item (persona__mine_item) in order. */
int persona__mine_level(miner *mn, size_t d);
/* Item e of the delivered level d and everything below it. */
int persona__mine_item(miner *mn, size_t d, uint32_t e);
/* Level 0 (built and delivered) mined on `threads` threads, one top-level item at a time,
 * the itemsets handed to mn->emit on the calling thread in the sequential order
 * (itemsets_parallel.c); p's buffer limits. */
int persona__mine_top_parallel(miner *mn, int threads, const persona__mine_params *p);
/* Emit prefix[0..k) with count, then with every combination of pe[start..n_pe). */
int persona__mine_emit_with(miner *mn, size_t k, uint64_t count, size_t start);
/* Mine level l (d base items in the prefix; at most 64 baskets) with bit masks. */
int persona__mine_bits(miner *mn, size_t d, const level *l);

#endif
