/* The child index of a mined prefix tree: node by (parent, item), for the closed/maximal
 * check and the rule measures (which look up the subsets of an itemset). */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "itemsets/itemsets_internal.h"

static size_t slot_of(uint32_t parent, uint32_t item, size_t mask)
{
    uint64_t h = ((uint64_t)parent << 32 | item) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 31)) & mask;
}

int persona__itemset_index_build(persona__itemset_index *ix, const persona_itemsets *s)
{
    size_t cap = 16;
    while (cap < 2 * s->n)
        cap <<= 1;
    ix->slots = persona__calloc(cap, sizeof *ix->slots);
    if (!ix->slots)
        return persona__fail_nomem();
    ix->mask = cap - 1;
    for (size_t i = 0; i < s->n; i++) {
        size_t k = slot_of(s->parent[i], s->item[i], ix->mask);
        while (ix->slots[k])
            k = (k + 1) & ix->mask;
        ix->slots[k] = (uint32_t)i + 1;
    }
    return PERSONA_OK;
}

void persona__itemset_index_free(persona__itemset_index *ix)
{
    persona__free(ix->slots);
    ix->slots = NULL;
}

uint32_t persona__itemset_child(const persona__itemset_index *ix, const persona_itemsets *s,
                                uint32_t parent, uint32_t item)
{
    for (size_t k = slot_of(parent, item, ix->mask);; k = (k + 1) & ix->mask) {
        uint32_t v = ix->slots[k];
        if (!v)
            return PERSONA__ITEMSET_NONE;
        if (s->parent[v - 1] == parent && s->item[v - 1] == item)
            return v - 1;
    }
}

uint32_t persona__itemset_walk(const persona__itemset_index *ix, const persona_itemsets *s,
                               uint32_t from, const uint32_t *seq, size_t n)
{
    for (size_t i = 0; i < n && from != PERSONA__ITEMSET_NONE; i++)
        from = persona__itemset_child(ix, s, from, seq[i]);
    return from;
}

void persona__itemset_path(const persona_itemsets *s, uint32_t i, uint32_t *path)
{
    for (size_t d = s->depth[i]; d > 0; d--) {
        path[d - 1] = s->item[i];
        i = s->parent[i];
    }
}
