/* The frequent-itemset miner: depth-first over projected basket sets with occurrence
 * deliver (as in Uno et al.'s LCM), see docs/itemsets.md.
 *
 * A level holds a conditional basket set: the baskets containing the current prefix,
 * reduced to the items that follow the prefix's last item and are frequent with it, as
 * ascending local ids, identical baskets merged into one with a weight. Each item's
 * occurrences (position in the basket) are listed once per level; the child of item e is
 * built from the basket suffixes after e's occurrences, so the work per node is the size of
 * its own conditional basket set, not the number of candidate pairs as in plain Eclat.
 * Items are ranked by ascending support, so rare items (few baskets) carry the long
 * suffixes and frequent items the short ones. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "itemsets/itemsets_internal.h"
#include "itemsets/mine_internal.h"

void persona__mine_level_free(level *l)
{
    persona__free(l->items);
    persona__free(l->off);
    persona__free(l->w);
    persona__free(l->gid);
    persona__free(l->sup);
    persona__free(l->occ_start);
    persona__free(l->occ);
    persona__free(l->occ_tx);
    persona__free(l->cur);
    persona__free(l->newid);
    persona__free(l->cnt);
    persona__free(l->hslots);
    persona__free(l->th);
}

/* Grow one array to n elements (contents kept); 0 or -1. */
static int grow(void **p, size_t n, size_t elem)
{
    void *q = persona__realloc_array(*p, n ? n : 1, elem);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

/* Room for m items, n_tx baskets and n_items occurrences; per-item arrays zeroed where the
 * algorithm needs zeros (cnt). 0 or -1. */
static int level_reserve(level *l, size_t m, size_t n_tx, size_t n_items)
{
    if (m > l->cap_m) {
        size_t c = m + m / 2 + 8;
        if (grow((void **)&l->gid, c, sizeof *l->gid) || grow((void **)&l->sup, c, sizeof *l->sup) ||
            grow((void **)&l->occ_start, c + 1, sizeof *l->occ_start) ||
            grow((void **)&l->cur, c, sizeof *l->cur) || grow((void **)&l->newid, c, sizeof *l->newid) ||
            grow((void **)&l->cnt, c, sizeof *l->cnt))
            return -1;
        memset(l->cnt, 0, c * sizeof *l->cnt);
        l->cap_m = c;
    }
    if (n_tx + 1 > l->cap_tx) {
        size_t c = n_tx + n_tx / 2 + 8;
        if (grow((void **)&l->off, c, sizeof *l->off) || grow((void **)&l->w, c, sizeof *l->w) ||
            grow((void **)&l->th, c, sizeof *l->th))
            return -1;
        l->cap_tx = c;
    }
    if (n_items + 1 > l->cap_items) { /* never NULL: the callers offset items[] */
        size_t c = n_items + n_items / 2 + 8;
        if (grow((void **)&l->items, c, sizeof *l->items) ||
            grow((void **)&l->occ, c, sizeof *l->occ) || grow((void **)&l->occ_tx, c, sizeof *l->occ_tx))
            return -1;
        l->cap_items = c;
    }
    /* The merge table: a power of two at least twice the baskets. */
    size_t h = 16;
    while (h < 2 * n_tx)
        h <<= 1;
    if (h > l->cap_h) {
        if (grow((void **)&l->hslots, h, sizeof *l->hslots))
            return -1;
        l->cap_h = h;
    }
    return 0;
}

static uint64_t hash_items(const uint32_t *a, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a[i]) * 0xFF51AFD7ED558CCDull;
    return h ^ (h >> 29);
}

/* Incremental basket-set building: append a basket's items at l->items[l->n_items..] first,
 * then call this to keep it (or merge it into an identical one). Returns nothing: capacity
 * was reserved for the worst case. hmask = table size - 1, table cleared by the caller. */
static void commit_basket(level *l, size_t len, uint32_t weight, size_t hmask)
{
    if (len == 0)
        return;
    const uint32_t *a = l->items + l->n_items;
    uint64_t h = hash_items(a, len);
    size_t s = (size_t)h & hmask;
    for (;;) {
        uint32_t v = l->hslots[s];
        if (!v)
            break;
        uint32_t t = v - 1;
        size_t tl = l->off[t + 1] - l->off[t];
        if (l->th[t] == (uint32_t)h && tl == len && memcmp(l->items + l->off[t], a, len * sizeof *a) == 0) {
            l->w[t] += weight;
            return;
        }
        s = (s + 1) & hmask;
    }
    l->hslots[s] = (uint32_t)l->n_tx + 1;
    l->th[l->n_tx] = (uint32_t)h;
    l->w[l->n_tx] = weight;
    l->n_items += len;
    l->n_tx++;
    l->off[l->n_tx] = (uint32_t)l->n_items;
}

static size_t table_mask(size_t n_tx)
{
    size_t h = 16;
    while (h < 2 * n_tx)
        h <<= 1;
    return h - 1;
}

/* List each item's occurrences (positions) of a built level. */
void persona__mine_deliver(level *l)
{
    memset(l->occ_start, 0, (l->m + 1) * sizeof *l->occ_start);
    for (size_t i = 0; i < l->n_items; i++)
        l->occ_start[l->items[i] + 1]++;
    for (size_t e = 0; e < l->m; e++)
        l->occ_start[e + 1] += l->occ_start[e];
    memcpy(l->cur, l->occ_start, l->m * sizeof *l->cur);
    for (size_t t = 0; t < l->n_tx; t++)
        for (uint32_t p = l->off[t]; p < l->off[t + 1]; p++) {
            uint32_t k = l->cur[l->items[p]]++;
            l->occ[k] = p;
            l->occ_tx[k] = (uint32_t)t;
        }
}

int persona__mine_too_many(const miner *mn)
{
    return persona__fail(PERSONA_EBUFS,
                         "more than %llu frequent itemsets (max_itemsets): raise the minimum "
                         "support, set max_size or raise max_itemsets",
                         (unsigned long long)mn->max_itemsets);
}

/* The baskets of an item's occurrences lie anywhere in items[]: fetch the one 8 ahead of
 * occurrence k (a cache miss per basket otherwise). */
static inline void prefetch_occ(const level *l, uint32_t k, uint32_t k_end)
{
    if (k + 8 < k_end) {
        __builtin_prefetch(&l->items[l->occ[k + 8]]);
        __builtin_prefetch(&l->off[l->occ_tx[k + 8] + 1]);
        __builtin_prefetch(&l->w[l->occ_tx[k + 8]]);
    }
}

/* Count the items following e in the baskets holding e (level d's cnt), and sort them:
 * perfect extensions (in every such basket: count == sup[e]) go to the miner's pe stack,
 * the other frequent ones get child ids in newid; *m_out = their number. Counts are
 * zeroed again except for the kept ones, which fill_child() uses and zeroes. */
static void count_child(miner *mn, size_t d, uint32_t e, size_t *m_out, size_t *total_out)
{
    level *l = &mn->lv[d];
    size_t total = 0;
    uint32_t k_end = l->occ_start[e + 1];
    for (uint32_t k = l->occ_start[e]; k < k_end; k++) {
        prefetch_occ(l, k, k_end);
        uint32_t p = l->occ[k], t = l->occ_tx[k], end = l->off[t + 1];
        uint64_t wt = l->w[t];
        total += end - p - 1;
        for (uint32_t q = p + 1; q < end; q++)
            l->cnt[l->items[q]] += wt;
    }
    size_t m2 = 0;
    uint64_t s = l->sup[e];
    for (size_t x = e + 1; x < l->m; x++) {
        uint64_t c = l->cnt[x];
        if (c == s) {
            mn->pe[mn->n_pe++] = l->gid[x];
            l->newid[x] = NONE;
            l->cnt[x] = 0;
        } else if (c >= mn->min_count) {
            l->newid[x] = (uint32_t)m2++;
        } else {
            l->newid[x] = NONE;
            l->cnt[x] = 0;
        }
    }
    *m_out = m2;
    *total_out = total;
}

/* Build the child of item e of level d (m2 items) into level d + 1. */
static int fill_child(miner *mn, size_t d, uint32_t e, size_t m2, size_t total)
{
    level *l = &mn->lv[d], *c = &mn->lv[d + 1];
    size_t n_occ = l->occ_start[e + 1] - l->occ_start[e];
    int fail = level_reserve(c, m2, n_occ, total);
    for (size_t x = e + 1; x < l->m; x++) {
        if (l->newid[x] != NONE && !fail) {
            c->gid[l->newid[x]] = l->gid[x];
            c->sup[l->newid[x]] = l->cnt[x];
        }
        l->cnt[x] = 0;
    }
    if (fail)
        return persona__fail_nomem();
    c->m = m2;
    c->n_tx = c->n_items = 0;
    c->off[0] = 0;
    size_t hmask = table_mask(n_occ);
    memset(c->hslots, 0, (hmask + 1) * sizeof *c->hslots);
    uint32_t k_end = l->occ_start[e + 1];
    for (uint32_t k = l->occ_start[e]; k < k_end; k++) {
        prefetch_occ(l, k, k_end);
        uint32_t p = l->occ[k], t = l->occ_tx[k], end = l->off[t + 1];
        uint32_t *dst = c->items + c->n_items;
        size_t len = 0;
        for (uint32_t q = p + 1; q < end; q++) {
            uint32_t id = l->newid[l->items[q]];
            if (id != NONE)
                dst[len++] = id;
        }
        commit_basket(c, len, l->w[t], hmask);
    }
    return PERSONA_OK;
}

/* Emit prefix[0..k) (count) and then, depth-first, the set plus every combination of the
 * perfect extensions pe[start..n_pe) (same count: each is in every basket of the set). */
int persona__mine_emit_with(miner *mn, size_t k, uint64_t count, size_t start)
{
    if (mn->emitted == mn->max_itemsets)
        return persona__mine_too_many(mn);
    mn->emitted++;
    if (mn->emit(mn->ctx, mn->prefix, k, count))
        return persona__fail(PERSONA_ECALLBACK, "the itemset callback stopped the mining");
    if (mn->max_size && k >= mn->max_size)
        return PERSONA_OK;
    for (size_t i = start; i < mn->n_pe; i++) {
        mn->prefix[k] = mn->pe[i];
        int rc = persona__mine_emit_with(mn, k + 1, count, i + 1);
        if (rc)
            return rc;
    }
    return PERSONA_OK;
}

/* Item e of level d (delivered): emit the base prefix plus e, with the combinations of the
 * perfect extensions collected on the way down, then mine e's child. */
int persona__mine_item(miner *mn, size_t d, uint32_t e)
{
    level *l = &mn->lv[d];
    size_t pe0 = mn->n_pe, m2 = 0, total = 0;
    int rc = PERSONA_OK;
    int deeper = !(mn->max_size && d + 1 >= mn->max_size) && e + 1 < l->m;
    if (deeper)
        count_child(mn, d, e, &m2, &total);
    /* A set of d + 1 base items and n_pe extensions has 2^(d+1+n_pe) - 1 frequent
     * subsets: past any limit when that reaches the depth cap. */
    size_t full = d + 1 + mn->n_pe + (m2 ? 1 : 0);
    if (full >= DEPTH_CAP && !(mn->max_size && mn->max_size < DEPTH_CAP)) {
        for (size_t x = e + 1; deeper && x < l->m; x++)
            l->cnt[x] = 0;
        mn->n_pe = pe0;
        return persona__mine_too_many(mn);
    }
    mn->prefix[d] = l->gid[e];
    rc = persona__mine_emit_with(mn, d + 1, l->sup[e], 0);
    if (!rc && m2) {
        rc = fill_child(mn, d, e, m2, total);
        if (!rc)
            rc = persona__mine_use_bits(mn->lv[d + 1].n_tx, m2)
                     ? persona__mine_bits(mn, d + 1, &mn->lv[d + 1])
                     : persona__mine_level(mn, d + 1);
    } else if (m2) {
        for (size_t x = e + 1; x < l->m; x++)
            l->cnt[x] = 0;
    }
    mn->n_pe = pe0;
    return rc;
}

/* Emit every frequent extension of the base prefix (d items) held by level d. */
int persona__mine_level(miner *mn, size_t d)
{
    level *l = &mn->lv[d];
    persona__mine_deliver(l);
    for (uint32_t e = 0; e < l->m; e++) {
        int rc = persona__mine_item(mn, d, e);
        if (rc)
            return rc;
    }
    return PERSONA_OK;
}

typedef struct rank_of {
    uint64_t sup;
    uint32_t id;
} rank_of;

static int by_support(const void *a, const void *b)
{
    const rank_of *x = a, *y = b;
    if (x->sup != y->sup)
        return x->sup < y->sup ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Level 0 from the CSR: supports (each id once per basket), ranks by ascending support,
 * then the baskets as sorted ranks of their frequent items, identical ones merged. */
static int build_top(miner *mn, const persona__basket_csr *db)
{
    uint32_t n_items = db->n_items;
    size_t n_b = db->n_baskets, n_occ = (size_t)db->offsets[n_b];
    uint32_t *stamp = persona__calloc(n_items ? n_items : 1, sizeof *stamp);
    uint64_t *sup = persona__calloc(n_items ? n_items : 1, sizeof *sup);
    uint32_t *rank = persona__realloc_array(NULL, n_items ? n_items : 1, sizeof *rank);
    rank_of *order = persona__realloc_array(NULL, n_items ? n_items : 1, sizeof *order);
    int rc = PERSONA_OK;
    if (!stamp || !sup || !rank || !order) {
        rc = persona__fail_nomem();
        goto done;
    }
    for (size_t b = 0; b < n_b; b++)
        for (uint64_t k = db->offsets[b]; k < db->offsets[b + 1]; k++) {
            uint32_t it = db->items[k];
            if (stamp[it] != b + 1) {
                stamp[it] = (uint32_t)b + 1;
                sup[it]++;
            }
        }
    size_t m = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        rank[i] = NONE;
        if (sup[i] >= mn->min_count) {
            order[m].sup = sup[i];
            order[m++].id = i;
        }
    }
    qsort(order, m, sizeof *order, by_support);
    level *l = &mn->lv[0];
    if (level_reserve(l, m, n_b, n_occ)) {
        rc = persona__fail_nomem();
        goto done;
    }
    for (size_t r = 0; r < m; r++) {
        rank[order[r].id] = (uint32_t)r;
        l->gid[r] = order[r].id;
        l->sup[r] = order[r].sup;
    }
    memset(stamp, 0, n_items * sizeof *stamp);
    l->m = m;
    l->n_tx = l->n_items = 0;
    l->off[0] = 0;
    size_t hmask = table_mask(n_b);
    memset(l->hslots, 0, (hmask + 1) * sizeof *l->hslots);
    for (size_t b = 0; b < n_b; b++) {
        uint32_t *dst = l->items + l->n_items;
        size_t len = 0;
        for (uint64_t k = db->offsets[b]; k < db->offsets[b + 1]; k++) {
            uint32_t it = db->items[k];
            if (rank[it] != NONE && stamp[it] != b + 1) {
                stamp[it] = (uint32_t)b + 1;
                dst[len++] = rank[it];
            }
        }
        persona__sort_ids(dst, len);
        commit_basket(l, len, 1, hmask);
    }
done:
    persona__free(stamp);
    persona__free(sup);
    persona__free(rank);
    persona__free(order);
    return rc;
}

static int check_db(const persona__basket_csr *db)
{
    if (!db || (db->n_baskets && (!db->offsets || !db->items)))
        return persona__fail(PERSONA_EINVAL, "no basket set");
    if (db->n_baskets >= UINT32_MAX - 1)
        return persona__fail(PERSONA_EINVAL, "%zu baskets: at most %u", db->n_baskets,
                             UINT32_MAX - 2);
    if (!db->n_baskets)
        return PERSONA_OK;
    if (db->offsets[0] != 0)
        return persona__fail(PERSONA_EINVAL, "basket offsets must start at 0");
    for (size_t b = 0; b < db->n_baskets; b++)
        if (db->offsets[b + 1] < db->offsets[b])
            return persona__fail(PERSONA_EINVAL, "basket offsets decrease at basket %zu", b);
    if (db->offsets[db->n_baskets] >= UINT32_MAX - 1)
        return persona__fail(PERSONA_EINVAL, "%llu item occurrences: at most %u",
                             (unsigned long long)db->offsets[db->n_baskets], UINT32_MAX - 2);
    for (uint64_t k = 0; k < db->offsets[db->n_baskets]; k++)
        if (db->items[k] >= db->n_items)
            return persona__fail(PERSONA_EINVAL, "item id %u out of range (%u items)",
                                 db->items[k], db->n_items);
    return PERSONA_OK;
}

int persona__itemsets_mine_csr(const persona__basket_csr *db, const persona__mine_params *p,
                               persona__itemset_emit emit, void *ctx)
{
    int rc = check_db(db);
    if (rc)
        return rc;
    if (!p || !p->min_count || !p->max_itemsets || !emit)
        return persona__fail(PERSONA_EINVAL, "mining parameters not set");
    miner mn;
    memset(&mn, 0, sizeof mn);
    mn.min_count = p->min_count;
    mn.max_size = p->max_size;
    mn.max_itemsets = p->max_itemsets;
    mn.emit = emit;
    mn.ctx = ctx;
    mn.n_lv = DEPTH_CAP + 1;
    mn.lv = persona__calloc(mn.n_lv, sizeof *mn.lv);
    mn.prefix = persona__calloc(mn.n_lv, sizeof *mn.prefix);
    if (!mn.lv || !mn.prefix)
        rc = persona__fail_nomem();
    if (!rc)
        rc = build_top(&mn, db);
    if (!rc && mn.lv[0].m) {
        mn.pe = persona__realloc_array(NULL, mn.lv[0].m, sizeof *mn.pe);
        int threads = persona__threads((int)p->threads);
        if (!mn.pe)
            rc = persona__fail_nomem();
        else if (threads > 1 && mn.lv[0].m > 1 && mn.lv[0].n_items >= p->parallel_min)
            rc = persona__mine_top_parallel(&mn, threads, p);
        else
            rc = persona__mine_level(&mn, 0);
    }
    if (mn.lv)
        for (size_t i = 0; i < mn.n_lv; i++)
            persona__mine_level_free(&mn.lv[i]);
    persona__free(mn.lv);
    persona__free(mn.prefix);
    persona__free(mn.pe);
    persona__free(mn.bits);
    persona__free(mn.words);
    persona__free(mn.wsum);
    return rc;
}
