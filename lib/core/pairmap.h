/* Map from a pair of dense ids (user, x) to a dense entry index 0, 1, 2, … in insertion
 * order. Entries of one user are chained (newest first) so a profile can list its entries
 * without scanning the map. Like intern tables, reserve() then add() never allocates.
 * An entry whose key a caller rewrote to user PERSONA__PAIR_RETIRED (and x = its own
 * index, so retired keys stay distinct) is retired: never found, and left out of the
 * table when it is rebuilt. */
#ifndef PERSONA_CORE_PAIRMAP_H
#define PERSONA_CORE_PAIRMAP_H

#include <stddef.h>
#include <stdint.h>

#define PERSONA__PAIR(user, x) (((uint64_t)(user) << 32) | (uint32_t)(x))
#define PERSONA__PAIR_USER(key) ((uint32_t)((key) >> 32))
#define PERSONA__PAIR_X(key) ((uint32_t)(key))
#define PERSONA__PAIR_RETIRED UINT32_MAX

typedef struct persona__pairmap {
    uint64_t seed;
    uint64_t *keys;    /* per entry */
    uint32_t *next;    /* per entry: previous entry of the same user, or UINT32_MAX */
    size_t count, cap; /* entries */
    uint32_t *slots;   /* entry + 1, 0 = empty; power-of-two size */
    size_t slots_cap;
} persona__pairmap;

void persona__pairmap_init(persona__pairmap *m, uint64_t seed);
void persona__pairmap_free(persona__pairmap *m);
uint32_t persona__pairmap_find(const persona__pairmap *m, uint64_t key);
/* Room for `more` new entries. 0 or -1 (map unchanged). */
int persona__pairmap_reserve(persona__pairmap *m, size_t more);
/* Insert a new key (must not be present) chained after *head (the user's newest entry,
 * updated). Requires a prior reserve. Returns the entry index. */
uint32_t persona__pairmap_add(persona__pairmap *m, uint64_t key, uint32_t *head);
size_t persona__pairmap_bytes(const persona__pairmap *m);
/* Hint that key will be looked up soon (its slot is fetched into cache); no effect on
 * results. */
void persona__pairmap_prefetch(const persona__pairmap *m, uint64_t key);

#endif
