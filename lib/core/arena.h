/* Bump allocator for bytes that live as long as their owner (interned strings). Memory is
 * kept in chunks that never move, so pointers into the arena stay valid. */
#ifndef PERSONA_CORE_ARENA_H
#define PERSONA_CORE_ARENA_H

#include <stddef.h>

typedef struct persona__arena_chunk persona__arena_chunk;

typedef struct persona__arena {
    persona__arena_chunk *head; /* current chunk; older ones follow ->next */
    size_t chunk_size;          /* default size of a new chunk */
    size_t bytes_held;          /* total bytes allocated from the allocator */
} persona__arena;

void persona__arena_init(persona__arena *a, size_t chunk_size);
void persona__arena_free(persona__arena *a);
/* Make sure the next allocations totalling `bytes` succeed without allocating.
 * Returns 0 or -1 (allocation failure, arena unchanged). */
int persona__arena_reserve(persona__arena *a, size_t bytes);
/* Allocate `bytes` (alignment 1); NULL on allocation failure. */
void *persona__arena_alloc(persona__arena *a, size_t bytes);
/* Bytes still free in the current chunk. */
size_t persona__arena_room(const persona__arena *a);

#endif
