#include "arena.h"

#include <stdint.h>

#include "alloc.h"

struct persona__arena_chunk {
    persona__arena_chunk *next;
    size_t size, used;
    /* bytes follow */
};

void persona__arena_init(persona__arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 65536;
    a->bytes_held = 0;
}

void persona__arena_free(persona__arena *a)
{
    persona__arena_chunk *c = a->head;
    while (c) {
        persona__arena_chunk *next = c->next;
        persona__free(c);
        c = next;
    }
    a->head = NULL;
    a->bytes_held = 0;
}

size_t persona__arena_room(const persona__arena *a)
{
    return a->head ? a->head->size - a->head->used : 0;
}

int persona__arena_reserve(persona__arena *a, size_t bytes)
{
    if (persona__arena_room(a) >= bytes)
        return 0;
    size_t size = bytes > a->chunk_size ? bytes : a->chunk_size;
    if (size > SIZE_MAX - sizeof(persona__arena_chunk))
        return -1;
    persona__arena_chunk *c = persona__alloc(sizeof *c + size);
    if (!c)
        return -1;
    c->next = a->head;
    c->size = size;
    c->used = 0;
    a->head = c;
    a->bytes_held += sizeof *c + size;
    /* Grow chunks with the arena so the chunk count stays logarithmic. */
    if (a->chunk_size < (size_t)1 << 24)
        a->chunk_size *= 2;
    return 0;
}

void *persona__arena_alloc(persona__arena *a, size_t bytes)
{
    if (persona__arena_reserve(a, bytes) != 0)
        return NULL;
    void *p = (char *)(a->head + 1) + a->head->used;
    a->head->used += bytes;
    return p;
}
