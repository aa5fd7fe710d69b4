/* The set index of a mined prefix tree (itemsets_internal.h): for the closed/maximal check
 * and the rule measures, which look up the subsets of an itemset. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "itemsets/itemsets_internal.h"

uint64_t persona__itemset_word(uint32_t item)
{
    /* splitmix64 of the id: fixed, so results never depend on a seed. */
    uint64_t z = (uint64_t)item * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int persona__itemset_index_build(persona__itemset_index *ix, const persona_itemsets *s)
{
    size_t cap = 16;
    while (cap < 2 * s->n)
        cap <<= 1;
    ix->slots = persona__calloc(cap, sizeof *ix->slots);
    ix->key = persona__realloc_array(NULL, s->n ? s->n : 1, sizeof *ix->key);
    if (!ix->slots || !ix->key) {
        persona__itemset_index_free(ix);
        return persona__fail_nomem();
    }
    ix->mask = cap - 1;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t p = s->parent[i];
        ix->key[i] = (p == PERSONA__ITEMSET_ROOT ? 0 : ix->key[p]) ^ persona__itemset_word(s->item[i]);
        size_t k = (size_t)ix->key[i] & ix->mask;
        while (ix->slots[k])
            k = (k + 1) & ix->mask;
        ix->slots[k] = (uint32_t)i + 1;
    }
    return PERSONA_OK;
}

void persona__itemset_index_free(persona__itemset_index *ix)
{
    persona__free(ix->slots);
    persona__free(ix->key);
    ix->slots = NULL;
    ix->key = NULL;
}

/* Node v holds exactly items[0..n) (v has n items, each of them one of items). */
static int same_set(const persona_itemsets *s, uint32_t v, const uint32_t *items, size_t n)
{
    if (s->depth[v] != n)
        return 0;
    for (; v != PERSONA__ITEMSET_ROOT; v = s->parent[v]) {
        size_t i = 0;
        while (i < n && items[i] != s->item[v])
            i++;
        if (i == n)
            return 0;
    }
    return 1;
}

uint32_t persona__itemset_find(const persona__itemset_index *ix, const persona_itemsets *s,
                               const uint32_t *items, size_t n, uint64_t key)
{
    for (size_t k = (size_t)key & ix->mask;; k = (k + 1) & ix->mask) {
        uint32_t v = ix->slots[k];
        if (!v)
            return PERSONA__ITEMSET_NONE;
        if (ix->key[v - 1] == key && same_set(s, v - 1, items, n))
            return v - 1;
    }
}

void persona__itemset_path(const persona_itemsets *s, uint32_t i, uint32_t *path)
{
    for (size_t d = s->depth[i]; d > 0; d--) {
        path[d - 1] = s->item[i];
        i = s->parent[i];
    }
}

static int by_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void persona__sort_ids(uint32_t *a, size_t n)
{
    if (n > 24) {
        qsort(a, n, sizeof *a, by_id);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}
