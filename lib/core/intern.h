/* Interning: each distinct string gets a dense uint32_t id (0, 1, 2, … in order of first
 * insertion). Bytes live in an arena, lookups go through an open-addressing table keyed
 * with the owner's hash key. reserve() followed by inserts within the reservation never
 * allocates, which is how a batch is applied all-or-nothing. */
#ifndef PERSONA_CORE_INTERN_H
#define PERSONA_CORE_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "hash.h"

#define PERSONA__NO_ID UINT32_MAX

typedef struct persona__intern_entry {
    const char *str; /* NUL-terminated, in the arena */
    uint32_t len;
    uint32_t hash; /* high 32 bits of the keyed hash: the slot and a quick filter */
} persona__intern_entry;

typedef struct persona__intern {
    persona__hash_key key;
    persona__arena bytes;
    persona__intern_entry *entries;
    size_t count, entries_cap;
    uint32_t *slots; /* id + 1, 0 = empty */
    size_t slots_cap; /* power of two */
} persona__intern;

void persona__intern_init(persona__intern *t, persona__hash_key key);
void persona__intern_free(persona__intern *t);
/* Id of s, or PERSONA__NO_ID. hash must be persona__hash(&t->key, s, len). */
uint32_t persona__intern_find_h(const persona__intern *t, const char *s, size_t len,
                                uint64_t hash);
uint32_t persona__intern_find(const persona__intern *t, const char *s, size_t len);
/* Room for `more` new strings totalling `bytes` bytes (without NULs). 0 or -1. */
int persona__intern_reserve(persona__intern *t, size_t more, size_t bytes);
/* Id of s, inserting it if new. Returns PERSONA__NO_ID only on allocation failure (or
 * when the table would exceed UINT32_MAX - 1 ids). */
uint32_t persona__intern_add_h(persona__intern *t, const char *s, size_t len, uint64_t hash);
uint32_t persona__intern_add(persona__intern *t, const char *s, size_t len);
static inline const char *persona__intern_str(const persona__intern *t, uint32_t id)
{
    return t->entries[id].str;
}
static inline uint32_t persona__intern_len(const persona__intern *t, uint32_t id)
{
    return t->entries[id].len;
}
/* Prefetch hints for batched lookups: first the slot a hash starts at, then (once that is
 * in cache) the entry and string it points to. Lookups stay correct without them. */
static inline void persona__intern_prefetch_slot(const persona__intern *t, uint64_t hash)
{
    if (t->slots_cap)
        __builtin_prefetch(&t->slots[(size_t)(hash >> 32) & (t->slots_cap - 1)]);
}
static inline void persona__intern_prefetch_entry(const persona__intern *t, uint64_t hash)
{
    if (!t->slots_cap)
        return;
    uint32_t v = t->slots[(size_t)(hash >> 32) & (t->slots_cap - 1)];
    if (v) {
        __builtin_prefetch(&t->entries[v - 1]);
    }
}
static inline void persona__intern_prefetch_str(const persona__intern *t, uint64_t hash)
{
    if (!t->slots_cap)
        return;
    uint32_t v = t->slots[(size_t)(hash >> 32) & (t->slots_cap - 1)];
    if (v)
        __builtin_prefetch(t->entries[v - 1].str);
}
/* Bytes held (arena, entries, table). */
size_t persona__intern_bytes(const persona__intern *t);

#endif
