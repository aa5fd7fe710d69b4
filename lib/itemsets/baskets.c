/* The basket-set handle: an item dictionary and the baskets as CSR (basket keys interned
 * only to find a basket again). Pairs usually arrive grouped by basket (a long CSV sorted
 * by order id), so the basket of the previous pair is checked first and the pair appended
 * to the last basket without a lookup; a pair of an earlier basket goes to `late`, merged
 * into the CSR when the set is mined. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/intern.h"
#include "itemsets/itemsets_internal.h"

struct persona_baskets {
    persona__intern keys;  /* basket keys -> basket id (unused for CSR-built sets) */
    persona__intern items; /* item names -> item id */
    uint64_t *offsets;     /* n_baskets + 1 */
    uint32_t *csr;         /* items of the baskets, in CSR order */
    size_t n_baskets, cap_off, n_csr, cap_csr;
    uint32_t *late;        /* (basket, item) pairs of baskets that were not the last one */
    size_t n_late, cap_late;
    uint32_t last;         /* basket of the previous pair, UINT32_MAX = none */
    /* Item id + 1 by a cheap hash of the name (direct-mapped, verified by comparing the
     * name): most pairs name an item seen before, and this skips the keyed hash. It
     * starts small and grows with the items (up to ICACHE_MAX slots), so that a small set
     * does not pay for a big table. */
    uint32_t *icache;
    size_t icache_mask;
};

#define ICACHE_MIN 256
#define ICACHE_MAX 16384

#define LIMIT (UINT32_MAX - 2)

static persona_baskets *alloc_set(void)
{
    persona_baskets *b = persona__calloc(1, sizeof *b);
    if (!b)
        return NULL;
    persona__hash_key k = persona__hash_key_from_seed(0);
    persona__intern_init(&b->keys, k);
    persona__intern_init(&b->items, k);
    b->last = UINT32_MAX;
    b->offsets = persona__calloc(1, sizeof *b->offsets);
    b->icache = b->offsets ? persona__calloc(ICACHE_MIN, sizeof *b->icache) : NULL;
    b->icache_mask = ICACHE_MIN - 1;
    if (!b->icache) {
        persona__free(b->offsets);
        persona__free(b);
        return NULL;
    }
    b->cap_off = 1;
    return b;
}

PERSONA_API int persona_baskets_new(persona_baskets **out)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "NULL out");
    *out = alloc_set();
    return *out ? PERSONA_OK : persona__fail_nomem();
}

PERSONA_API void persona_baskets_free(persona_baskets *b)
{
    if (!b)
        return;
    persona__intern_free(&b->keys);
    persona__intern_free(&b->items);
    persona__free(b->offsets);
    persona__free(b->csr);
    persona__free(b->late);
    persona__free(b->icache);
    persona__free(b);
}

static size_t icache_slot(const persona_baskets *b, const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return (h ^ (h >> 15)) & b->icache_mask;
}

/* Four slots per item (up to ICACHE_MAX): a bigger, empty table. The cache only saves
 * hashing, so when there is no memory for a bigger one the current one is kept. */
static void icache_grow(persona_baskets *b)
{
    size_t slots = b->icache_mask + 1;
    if (slots >= ICACHE_MAX || b->items.count < slots / 4)
        return;
    uint32_t *t = persona__calloc(slots * 4, sizeof *t);
    if (!t)
        return;
    persona__free(b->icache);
    b->icache = t;
    b->icache_mask = slots * 4 - 1;
}

/* Room for one more basket (offsets) and one more CSR entry; 0 or -1. */
static int reserve(persona_baskets *b, int new_basket)
{
    if (new_basket &&
        persona__grow((void **)&b->offsets, &b->cap_off, b->n_baskets + 2, sizeof *b->offsets, 64))
        return -1;
    return persona__grow((void **)&b->csr, &b->cap_csr, b->n_csr + 1, sizeof *b->csr, 256);
}

PERSONA_API int persona_baskets_add(persona_baskets *b, const char *basket, size_t basket_len,
                                    const char *item, size_t item_len)
{
    if (!b || (!basket && basket_len) || (!item && item_len))
        return persona__fail(PERSONA_EINVAL, "NULL basket set or key");
    if ((basket_len && memchr(basket, 0, basket_len)) || (item_len && memchr(item, 0, item_len)))
        return persona__fail(PERSONA_EINVAL, "a basket or item key contains a NUL byte");
    if (!basket)
        basket = "";
    if (!item)
        item = "";
    if (b->n_csr + b->n_late >= LIMIT)
        return persona__fail(PERSONA_EINVAL, "more than %u (basket, item) pairs", LIMIT);
    /* The basket: the previous one, an existing one, or a new one (not yet interned). */
    uint32_t bid = UINT32_MAX;
    uint64_t bh = 0;
    if (b->last != UINT32_MAX && persona__intern_len(&b->keys, b->last) == basket_len &&
        memcmp(persona__intern_str(&b->keys, b->last), basket, basket_len) == 0) {
        bid = b->last;
    } else {
        bh = persona__hash(&b->keys.key, basket, basket_len);
        bid = persona__intern_find_h(&b->keys, basket, basket_len, bh);
    }
    size_t slot = icache_slot(b, item, item_len);
    uint32_t iid = b->icache[slot] ? b->icache[slot] - 1 : PERSONA__NO_ID;
    uint64_t ih = 0;
    if (iid == PERSONA__NO_ID || persona__intern_len(&b->items, iid) != item_len ||
        memcmp(persona__intern_str(&b->items, iid), item, item_len) != 0) {
        ih = persona__hash(&b->items.key, item, item_len);
        iid = persona__intern_find_h(&b->items, item, item_len, ih);
    }
    int new_basket = bid == PERSONA__NO_ID, new_item = iid == PERSONA__NO_ID;
    if ((new_basket && b->n_baskets >= LIMIT) || (new_item && b->items.count >= LIMIT))
        return persona__fail(PERSONA_EINVAL, "more than %u baskets or items", LIMIT);
    /* Reserve everything first so that a failure leaves the set unchanged. */
    int late = !new_basket && bid != b->n_baskets - 1;
    if (late ? persona__grow((void **)&b->late, &b->cap_late, 2 * (b->n_late + 1), sizeof *b->late, 256)
             : reserve(b, new_basket))
        return persona__fail_nomem();
    if ((new_basket && persona__intern_reserve(&b->keys, 1, basket_len)) ||
        (new_item && persona__intern_reserve(&b->items, 1, item_len)))
        return persona__fail_nomem();
    if (new_basket) {
        bid = persona__intern_add_h(&b->keys, basket, basket_len, bh);
        b->n_baskets++;
        b->offsets[b->n_baskets] = b->n_csr;
    }
    if (new_item) {
        iid = persona__intern_add_h(&b->items, item, item_len, ih);
        icache_grow(b);
        slot = icache_slot(b, item, item_len);
    }
    if (late) {
        b->late[2 * b->n_late] = bid;
        b->late[2 * b->n_late + 1] = iid;
        b->n_late++;
    } else {
        b->csr[b->n_csr++] = iid;
        b->offsets[b->n_baskets] = b->n_csr;
    }
    b->last = bid;
    b->icache[slot] = iid + 1;
    return PERSONA_OK;
}

PERSONA_API int persona_baskets_from_csr(persona_baskets **out, const uint64_t *offsets,
                                         size_t n_baskets, const uint32_t *items,
                                         const char *const *names, size_t n_names)
{
    if (out)
        *out = NULL;
    if (!out || !offsets || (!items && n_baskets && offsets[n_baskets]))
        return persona__fail(PERSONA_EINVAL, "NULL out, offsets or items");
    if (n_baskets > LIMIT || n_names > LIMIT)
        return persona__fail(PERSONA_EINVAL, "more than %u baskets or items", LIMIT);
    if (offsets[0] != 0)
        return persona__fail(PERSONA_EINVAL, "offsets[0] must be 0");
    for (size_t i = 0; i < n_baskets; i++)
        if (offsets[i + 1] < offsets[i])
            return persona__fail(PERSONA_EINVAL, "offsets decrease at basket %zu", i);
    uint64_t n_csr = offsets[n_baskets];
    if (n_csr > LIMIT)
        return persona__fail(PERSONA_EINVAL, "more than %u item occurrences", LIMIT);
    for (uint64_t k = 0; k < n_csr; k++)
        if (items[k] >= n_names)
            return persona__fail(PERSONA_EINVAL, "item id %u at position %llu: only %zu items",
                                 items[k], (unsigned long long)k, n_names);
    persona_baskets *b = alloc_set();
    if (!b)
        return persona__fail_nomem();
    int rc = PERSONA_OK;
    uint64_t *off = persona__realloc_array(b->offsets, n_baskets + 1, sizeof *off);
    if (off)
        b->offsets = off;
    b->csr = persona__realloc_array(NULL, n_csr ? n_csr : 1, sizeof *b->csr);
    if (!off || !b->csr || persona__intern_reserve(&b->items, n_names, 0))
        rc = persona__fail_nomem();
    if (!rc) {
        memcpy(b->offsets, offsets, (n_baskets + 1) * sizeof *offsets);
        if (n_csr)
            memcpy(b->csr, items, n_csr * sizeof *items);
        b->n_baskets = n_baskets;
        b->cap_off = n_baskets + 1;
        b->cap_csr = n_csr ? n_csr : 1;
        b->n_csr = n_csr;
    }
    for (size_t i = 0; !rc && i < n_names; i++) {
        char tmp[24];
        const char *s = names ? names[i] : tmp;
        if (!s) {
            rc = persona__fail(PERSONA_EINVAL, "item name %zu is NULL", i);
            break;
        }
        if (!names)
            snprintf(tmp, sizeof tmp, "%zu", i);
        size_t len = strlen(s);
        if (persona__intern_find(&b->items, s, len) != PERSONA__NO_ID) {
            rc = persona__fail(PERSONA_EINVAL, "item name '%s' is given twice", s);
            break;
        }
        if (persona__intern_add(&b->items, s, len) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
    }
    if (rc) {
        persona_baskets_free(b);
        return rc;
    }
    *out = b;
    return PERSONA_OK;
}

PERSONA_API int persona_baskets_counts(uint64_t *baskets_out, uint64_t *items_out,
                                       const persona_baskets *b)
{
    if (!b)
        return persona__fail(PERSONA_EINVAL, "NULL basket set");
    if (baskets_out)
        *baskets_out = b->n_baskets;
    if (items_out)
        *items_out = b->items.count;
    return PERSONA_OK;
}

PERSONA_API int persona_baskets_item_name(const char **out, const persona_baskets *b, uint32_t item)
{
    if (out)
        *out = NULL;
    if (!out || !b)
        return persona__fail(PERSONA_EINVAL, "NULL out or basket set");
    if (item >= b->items.count)
        return persona__fail(PERSONA_ENOTFOUND, "no item %u (%zu items)", item, b->items.count);
    *out = persona__intern_str(&b->items, item);
    return PERSONA_OK;
}

int persona__baskets_csr(persona__basket_csr *out, uint64_t **tmp_off, uint32_t **tmp_items,
                         const persona_baskets *b)
{
    *tmp_off = NULL;
    *tmp_items = NULL;
    out->n_baskets = b->n_baskets;
    out->n_items = (uint32_t)b->items.count;
    out->offsets = b->offsets;
    out->items = b->csr;
    if (!b->n_late)
        return PERSONA_OK;
    /* Merge the late pairs in: count per basket, then copy each basket's run and its late
     * items (late pairs keep their order). */
    uint64_t *off = persona__calloc(b->n_baskets + 1, sizeof *off);
    uint32_t *items = persona__realloc_array(NULL, b->n_csr + b->n_late, sizeof *items);
    uint64_t *cur = persona__calloc(b->n_baskets + 1, sizeof *cur);
    if (!off || !items || !cur) {
        persona__free(off);
        persona__free(items);
        persona__free(cur);
        return persona__fail_nomem();
    }
    for (size_t i = 0; i < b->n_late; i++)
        cur[b->late[2 * i]]++;
    for (size_t t = 0; t < b->n_baskets; t++)
        off[t + 1] = off[t] + (b->offsets[t + 1] - b->offsets[t]) + cur[t];
    for (size_t t = 0; t < b->n_baskets; t++) {
        uint64_t run = b->offsets[t + 1] - b->offsets[t];
        memcpy(items + off[t], b->csr + b->offsets[t], run * sizeof *items);
        cur[t] = off[t] + run;
    }
    for (size_t i = 0; i < b->n_late; i++)
        items[cur[b->late[2 * i]]++] = b->late[2 * i + 1];
    persona__free(cur);
    out->offsets = off;
    out->items = items;
    *tmp_off = off;
    *tmp_items = items;
    return PERSONA_OK;
}
