/* The affinity matrix's layout, shared by the files of lib/affinity/ and by the itemset
 * miner that will run on its units.
 *
 * Units (baskets, sessions or users) are kept as CSR: unit u holds the items
 * unit_items[unit_start[u] .. unit_start[u + 1]), item indexes strictly ascending (an item
 * once per unit), never empty; unit_user[u] is its user (index in `users`). Units are in
 * the order of their users' profile ids in the store, then basket id / session start.
 *
 * Everything else is derived from the units by persona__affinity_count() — after a build,
 * a load and a merge alike, so the three cannot disagree:
 *   item_count[i]        units holding item i (n_i)
 *   row[i] .. row[i + 1) item i's neighbours: nbr[] (ascending item index) and cnt[] (n_ij
 *                        ≥ 1); both directions are stored, so pairs = row[items] / 2.
 * Item indexes are in bytewise order of the keys (the `items` intern table inserts them in
 * that order, so its id is the index); categories likewise. */
#ifndef PERSONA_AFFINITY_INTERNAL_H
#define PERSONA_AFFINITY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/intern.h"
#include "persona/affinity.h"

/* Units are indexed by uint32_t in the inverted lists. */
#define AFF_MAX_UNITS ((uint64_t)UINT32_MAX - 1)

struct persona_affinity_matrix {
    /* the options it was built with (a merge requires them equal) */
    int32_t by;
    int32_t category_source;
    int64_t session_gap_ms; /* effective gap (by session), else 0 */
    char **event_types;     /* sorted bytewise, distinct; NULL = every type */
    size_t n_event_types;
    char *category_prop;    /* property name (category_source PROP), else NULL */
    char *consent_purpose;  /* NULL = everyone */

    persona__intern items;      /* id = index, bytewise order */
    persona__intern categories; /* id = index, bytewise order (PROP source only) */
    persona__intern users;      /* users of the units, any order */

    uint64_t n_units;
    uint64_t *unit_start; /* n_units + 1 */
    uint32_t *unit_items;
    uint32_t *unit_user;

    uint64_t *item_count;
    uint64_t *row; /* items + 1 */
    uint32_t *nbr;
    uint64_t *cnt;

    /* per measure, lazily, built once under lock and published with release:
     * top: the first AFF_TOP entries of each row in similar-items order, side by side
     * (what a top-K query reads); order: every entry of each row in that order (positions
     * in row[i] .. row[i + 1)), made only when a query goes past the top */
    pthread_mutex_t lock;
    _Atomic(struct aff_top_list *) top[PERSONA_AFFINITY_MEASURES];
    _Atomic(uint32_t *) order[PERSONA_AFFINITY_MEASURES];
};

#define AFF_TOP 32
typedef struct aff_top {
    uint32_t item;
    uint32_t reserved;
    uint64_t count;
    double score;
} aff_top;
typedef struct aff_top_list {
    uint64_t *start; /* items + 1: row i's top entries are at entries[start[i] .. start[i + 1]) */
    aff_top *entries;
} aff_top_list;

static inline size_t aff_items(const persona_affinity_matrix *m)
{
    return m->items.count;
}

/* A new empty matrix with fresh intern tables (lock initialised). NULL on failure. */
persona_affinity_matrix *persona__affinity_alloc(void);
/* Item counts and pair lists from the units. 0 or ENOMEM (m's derived arrays stay NULL). */
int persona__affinity_count(persona_affinity_matrix *m);
/* Copy the options of src (strings duplicated). 0 or ENOMEM. */
int persona__affinity_copy_options(persona_affinity_matrix *dst,
                                   const persona_affinity_matrix *src);
/* Score of measure for counts (a = the item asked about). */
double persona__affinity_score(int32_t measure, uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                               uint64_t n);
/* Entry of b in row a, or UINT64_MAX. */
uint64_t persona__affinity_entry(const persona_affinity_matrix *m, uint32_t a, uint32_t b);
/* Index of an item key (ENOTFOUND / EINVAL recorded). */
int persona__affinity_find(uint32_t *out, const persona_affinity_matrix *m, const char *item);
/* A scored item as every ranking of lib/affinity orders them: score descending, then
 * count descending, then item index (= key bytewise) ascending. pos and extra ride along
 * (the entry's position in its row; overindex's z). */
typedef struct aff_ranked {
    double score;
    uint64_t count;
    uint32_t item;
    uint32_t pos;
    double extra;
} aff_ranked;
int persona__affinity_cmp_ranked(const void *a, const void *b);
/* End of a constructor: on success *out = m, else m is freed; returns rc. */
int persona__affinity_hand_over(persona_affinity_matrix **out, persona_affinity_matrix *m, int rc);
/* qsort comparison of uint32_t. */
int persona__affinity_cmp_u32(const void *a, const void *b);
/* persona_affinity_load() from memory (the fuzz target's way in). */
int persona__affinity_load_memory(persona_affinity_matrix **out, const void *data, size_t len);

#endif
