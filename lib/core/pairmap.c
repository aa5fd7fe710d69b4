#include "pairmap.h"

#include <string.h>

#include "alloc.h"

/* Keys are ids we assign, not attacker-chosen bytes, so a seeded multiplicative mix is
 * enough here (string keys go through SipHash in intern.c). */
static size_t slot_of(const persona__pairmap *m, uint64_t key)
{
    uint64_t h = (key ^ m->seed) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (size_t)h & (m->slots_cap - 1);
}

void persona__pairmap_prefetch(const persona__pairmap *m, uint64_t key)
{
    if (m->slots_cap)
        __builtin_prefetch(&m->slots[slot_of(m, key)]);
}

void persona__pairmap_init(persona__pairmap *m, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->seed = seed;
}

void persona__pairmap_free(persona__pairmap *m)
{
    persona__free(m->keys);
    persona__free(m->next);
    persona__free(m->slots);
    persona__pairmap_init(m, m->seed);
}

uint32_t persona__pairmap_find(const persona__pairmap *m, uint64_t key)
{
    if (!m->slots_cap)
        return UINT32_MAX;
    size_t mask = m->slots_cap - 1;
    for (size_t i = slot_of(m, key);; i = (i + 1) & mask) {
        uint32_t v = m->slots[i];
        if (!v)
            return UINT32_MAX;
        if (m->keys[v - 1] == key)
            return v - 1;
    }
}

static void place(persona__pairmap *m, uint32_t entry)
{
    size_t mask = m->slots_cap - 1;
    size_t i = slot_of(m, m->keys[entry]);
    while (m->slots[i])
        i = (i + 1) & mask;
    m->slots[i] = entry + 1;
}

int persona__pairmap_reserve(persona__pairmap *m, size_t more)
{
    if (more > (size_t)UINT32_MAX - 1 - m->count)
        return -1;
    size_t need = m->count + more;
    size_t keys_cap = m->cap, next_cap = m->cap;
    if (persona__grow((void **)&m->keys, &keys_cap, need, sizeof *m->keys, 16))
        return -1;
    if (persona__grow((void **)&m->next, &next_cap, need, sizeof *m->next, 16)) {
        /* keys grew but next did not: remember the smaller capacity. */
        m->cap = next_cap < keys_cap ? next_cap : keys_cap;
        return -1;
    }
    m->cap = keys_cap < next_cap ? keys_cap : next_cap;
    size_t want = m->slots_cap ? m->slots_cap : 16;
    while (want / 2 < need)
        want *= 2;
    if (want != m->slots_cap) {
        uint32_t *slots = persona__calloc(want, sizeof *slots);
        if (!slots)
            return -1;
        persona__free(m->slots);
        m->slots = slots;
        m->slots_cap = want;
        for (size_t e = 0; e < m->count; e++)
            if (PERSONA__PAIR_USER(m->keys[e]) != PERSONA__PAIR_RETIRED)
                place(m, (uint32_t)e);
    }
    return 0;
}

uint32_t persona__pairmap_add(persona__pairmap *m, uint64_t key, uint32_t *head)
{
    uint32_t e = (uint32_t)m->count++;
    m->keys[e] = key;
    m->next[e] = *head;
    *head = e;
    place(m, e);
    return e;
}

size_t persona__pairmap_bytes(const persona__pairmap *m)
{
    return m->cap * (sizeof *m->keys + sizeof *m->next) + m->slots_cap * sizeof *m->slots;
}
