#include "intern.h"

#include <string.h>

#include "alloc.h"

void persona__intern_init(persona__intern *t, persona__hash_key key)
{
    memset(t, 0, sizeof *t);
    t->key = key;
    persona__arena_init(&t->bytes, 1024);
}

void persona__intern_free(persona__intern *t)
{
    persona__arena_free(&t->bytes);
    persona__free(t->entries);
    persona__free(t->slots);
    t->entries = NULL;
    t->slots = NULL;
    t->count = t->entries_cap = t->slots_cap = 0;
}

uint32_t persona__intern_find_h(const persona__intern *t, const char *s, size_t len,
                                uint64_t hash)
{
    if (!t->slots_cap)
        return PERSONA__NO_ID;
    size_t mask = t->slots_cap - 1;
    uint32_t h32 = (uint32_t)(hash >> 32);
    for (size_t i = (size_t)h32 & mask;; i = (i + 1) & mask) {
        uint32_t v = t->slots[i];
        if (!v)
            return PERSONA__NO_ID;
        const persona__intern_entry *e = &t->entries[v - 1];
        if (e->hash == h32 && e->len == len && memcmp(e->str, s, len) == 0)
            return v - 1;
    }
}

uint32_t persona__intern_find(const persona__intern *t, const char *s, size_t len)
{
    return persona__intern_find_h(t, s, len, persona__hash(&t->key, s, len));
}

/* The slot comes from the same 32 bits the entry keeps, so growing the table needs no
 * rehashing of the strings. */
static void place(uint32_t *slots, size_t cap, uint32_t h32, uint32_t id)
{
    size_t mask = cap - 1;
    size_t i = (size_t)h32 & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = id + 1;
}

static int rehash(persona__intern *t, size_t new_cap)
{
    uint32_t *slots = persona__calloc(new_cap, sizeof *slots);
    if (!slots)
        return -1;
    persona__prefault(slots, new_cap * sizeof *slots); /* written at random just below */
    for (size_t id = 0; id < t->count; id++) {
        place(slots, new_cap, t->entries[id].hash, (uint32_t)id);
    }
    persona__free(t->slots);
    t->slots = slots;
    t->slots_cap = new_cap;
    return 0;
}

int persona__intern_reserve(persona__intern *t, size_t more, size_t bytes)
{
    if (more > (size_t)UINT32_MAX - 1 - t->count)
        return -1;
    size_t need = t->count + more;
    /* Load factor at most 1/2: short probe chains for linear probing. */
    size_t want = t->slots_cap ? t->slots_cap : 16;
    while (want / 2 < need)
        want *= 2;
    size_t had = t->entries_cap;
    if (persona__grow((void **)&t->entries, &t->entries_cap, need, sizeof *t->entries, 16))
        return -1;
    if (t->entries_cap != had) /* the new entries are written one after another */
        persona__prefault(t->entries + t->count, (t->entries_cap - t->count) * sizeof *t->entries);
    if (bytes + more < bytes || persona__arena_reserve(&t->bytes, bytes + more))
        return -1;
    if (want != t->slots_cap && rehash(t, want))
        return -1;
    return 0;
}

uint32_t persona__intern_add_h(persona__intern *t, const char *s, size_t len, uint64_t hash)
{
    uint32_t id = persona__intern_find_h(t, s, len, hash);
    if (id != PERSONA__NO_ID)
        return id;
    if (len > UINT32_MAX - 1 || persona__intern_reserve(t, 1, len))
        return PERSONA__NO_ID;
    char *copy = persona__arena_alloc(&t->bytes, len + 1);
    if (!copy)
        return PERSONA__NO_ID;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    id = (uint32_t)t->count++;
    persona__intern_entry *e = &t->entries[id];
    e->str = copy;
    e->len = (uint32_t)len;
    e->hash = (uint32_t)(hash >> 32);
    place(t->slots, t->slots_cap, e->hash, id);
    return id;
}

uint32_t persona__intern_add(persona__intern *t, const char *s, size_t len)
{
    return persona__intern_add_h(t, s, len, persona__hash(&t->key, s, len));
}

size_t persona__intern_bytes(const persona__intern *t)
{
    return t->bytes.bytes_held + t->entries_cap * sizeof *t->entries +
           t->slots_cap * sizeof *t->slots;
}
