/* All memory of lib/ goes through these wrappers (CI greps for direct libc calls), so the
 * allocator hook and the OOM injector see every allocation. Sizes are overflow-checked.
 * Each wrapper records its call site (file:line) in a thread-local that a test allocator
 * can read with persona__alloc_site(). On failure they return NULL without setting the
 * error: the caller returns persona__fail_nomem(). */
#ifndef PERSONA_CORE_ALLOC_H
#define PERSONA_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PERSONA__STR2(x) #x
#define PERSONA__STR(x) PERSONA__STR2(x)
#define PERSONA__SITE __FILE__ ":" PERSONA__STR(__LINE__)

void *persona__alloc_at(size_t size, const char *site);
void *persona__calloc_at(size_t count, size_t size, const char *site);
void *persona__realloc_at(void *ptr, size_t size, const char *site);
/* realloc to count*size with overflow check. */
void *persona__realloc_array_at(void *ptr, size_t count, size_t size, const char *site);
char *persona__strndup_at(const char *s, size_t len, const char *site);
void persona__free(void *ptr);

#define persona__alloc(size) persona__alloc_at((size), PERSONA__SITE)
#define persona__calloc(count, size) persona__calloc_at((count), (size), PERSONA__SITE)
#define persona__realloc(ptr, size) persona__realloc_at((ptr), (size), PERSONA__SITE)
#define persona__realloc_array(ptr, count, size)                                          \
    persona__realloc_array_at((ptr), (count), (size), PERSONA__SITE)
#define persona__strndup(s, len) persona__strndup_at((s), (len), PERSONA__SITE)

/* Ask the kernel to map the pages of [p, p + bytes) now, in one call, instead of one
 * fault per page on first write (where it can: Linux 5.14+; elsewhere a no-op). For memory
 * about to be written in full, e.g. a new event-log chunk. */
void persona__prefault(void *p, size_t bytes);

/* Call site of the allocation being made on this thread (for test allocators). */
const char *persona__alloc_site(void);
/* Blocks currently allocated through the wrappers (all threads). */
uint64_t persona__alloc_live(void);

/* Grow a dynamic array so that it holds at least `need` elements: *cap doubles (at least
 * `min_cap`). Returns 0, or -1 on overflow / allocation failure with *ptr unchanged. */
int persona__grow_at(void **ptr, size_t *cap, size_t need, size_t elem_size, size_t min_cap,
                     const char *site);
#define persona__grow(ptr, cap, need, elem_size, min_cap)                                 \
    persona__grow_at((ptr), (cap), (need), (elem_size), (min_cap), PERSONA__SITE)

#endif
