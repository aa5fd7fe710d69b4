/* The vertical half of the miner: once a projected basket set has at most 512 (merged,
 * weighted) baskets, each item's baskets fit in a mask of at most eight 64-bit words, and
 * the count of an extension is an AND plus a weighted popcount, instead of a scan of the
 * basket suffixes. Deep, dense parts of the search (Online Retail's product bundles) spend
 * almost all their time here. Same enumeration order and perfect extensions as the
 * horizontal half (itemsets_mine.c). */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "itemsets/mine_internal.h"

/* Bits set in v: without -mpopcnt (the library is built for any x86-64) the builtin is a
 * libgcc call, slower than these few operations. */
static inline uint64_t popcount64(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (v * 0x0101010101010101ull) >> 56;
}

/* Weight of the baskets in mask m (n_words words). */
static uint64_t weight(const miner *mn, const uint64_t *m)
{
    uint64_t s = 0;
    if (mn->unit) {
        for (size_t w = 0; w < mn->n_words; w++)
            s += popcount64(m[w]);
        return s;
    }
    for (size_t w = 0; w < mn->n_words; w++) {
        uint64_t v = m[w];
        for (size_t b = 8 * w; v; b++, v >>= 8)
            s += mn->wsum[b][v & 0xFF];
    }
    return s;
}

/* Extensions of the base prefix (d items) by the class cls[0..m), whose children are
 * written at cls + m, their masks from word `top` on (the stack has room for all). */
static int mine_class(miner *mn, size_t d, bit_item *cls, size_t m, size_t top)
{
    bit_item *child = cls + m;
    size_t nw = mn->n_words;
    for (size_t i = 0; i < m; i++) {
        size_t pe0 = mn->n_pe, m2 = 0;
        int deeper = !(mn->max_size && d + 1 >= mn->max_size);
        const uint64_t *mi = mn->words + cls[i].mask;
        uint64_t si = cls[i].count;
        for (size_t j = i + 1; deeper && j < m; j++) {
            const uint64_t *mj = mn->words + cls[j].mask;
            uint64_t *mk = mn->words + top + m2 * nw;
            uint64_t diff = 0;
            for (size_t w = 0; w < nw; w++) {
                mk[w] = mi[w] & mj[w];
                diff |= mk[w] ^ mi[w];
            }
            uint64_t c = diff ? weight(mn, mk) : si;
            if (c == si) {
                mn->pe[mn->n_pe++] = cls[j].gid;
            } else if (c >= mn->min_count) {
                child[m2].mask = top + m2 * nw;
                child[m2].count = c;
                child[m2].gid = cls[j].gid;
                m2++;
            }
        }
        if (d + 1 + mn->n_pe + (m2 ? 1 : 0) >= DEPTH_CAP &&
            !(mn->max_size && mn->max_size < DEPTH_CAP))
            return persona__mine_too_many(mn);
        mn->prefix[d] = cls[i].gid;
        int rc = persona__mine_emit_with(mn, d + 1, si, 0);
        if (!rc && m2)
            rc = mine_class(mn, d + 1, child, m2, top + m2 * nw);
        mn->n_pe = pe0;
        if (rc)
            return rc;
    }
    return PERSONA_OK;
}

int persona__mine_bits(miner *mn, size_t d, const level *l)
{
    size_t m = l->m, nw = (l->n_tx + 63) / 64, need = m * (m + 1) / 2 + 1;
    size_t need_w = (need + m) * nw;
    /* Only the table rows of the mask bytes in use are filled and read (weight() stops at
     * the last set bit), so they are grown, not zeroed: a small input mined many times (the
     * fuzzer, a host mining per segment) does not pay for 128 KB each time. */
    if (persona__grow((void **)&mn->bits, &mn->bits_cap, need, sizeof *mn->bits, 64) ||
        persona__grow((void **)&mn->words, &mn->words_cap, need_w, sizeof *mn->words, 64) ||
        persona__grow((void **)&mn->wsum, &mn->wsum_cap, (l->n_tx + 7) / 8, sizeof *mn->wsum, 1))
        return persona__fail_nomem();
    mn->n_words = nw;
    mn->unit = 1;
    for (size_t t = 0; t < l->n_tx; t++)
        mn->unit &= l->w[t] == 1;
    /* The weight of every byte value of each mask byte in use. */
    for (size_t b = 0; !mn->unit && b < (l->n_tx + 7) / 8; b++) {
        mn->wsum[b][0] = 0;
        for (unsigned v = 1; v < 256; v++) {
            size_t t = 8 * b + (unsigned)__builtin_ctz(v);
            mn->wsum[b][v] = mn->wsum[b][v & (v - 1)] + (t < l->n_tx ? l->w[t] : 0);
        }
    }
    bit_item *cls = mn->bits;
    memset(mn->words, 0, m * nw * sizeof *mn->words);
    for (size_t x = 0; x < m; x++) {
        cls[x].mask = x * nw;
        cls[x].count = l->sup[x];
        cls[x].gid = l->gid[x];
    }
    for (size_t t = 0; t < l->n_tx; t++)
        for (uint32_t p = l->off[t]; p < l->off[t + 1]; p++)
            mn->words[l->items[p] * nw + t / 64] |= 1ull << (t % 64);
    return mine_class(mn, d, cls, m, m * nw);
}
