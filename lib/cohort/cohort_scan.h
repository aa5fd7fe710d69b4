/* The state of one table build (cohort_build.c), shared with its fast path
 * (cohort_fast.c). */
#ifndef PERSONA_COHORT_SCAN_H
#define PERSONA_COHORT_SCAN_H

#include "cohort/cohort_internal.h"
#include "store/store_internal.h"

/* Memory for the per-user bits of one strip; more columns take more passes. */
#define BITS_BUDGET ((size_t)256 << 20)
#define NO_COL UINT32_MAX

typedef struct scan {
    const persona_store *s;
    persona_cohort_table *t;
    size_t n_users;        /* identifiers: arrays below are indexed by profile root */
    int64_t *t0;           /* cohort event time, INT64_MAX = none */
    int64_t *base;         /* calendar: period of t0; rolling: t0 */
    uint32_t *row;         /* row index, COHORT_NONE = not counted */
    uint8_t *active_type;  /* by type id; NULL = every type is active */
    persona__period_days days;     /* column periods by local day */
    persona__period_days row_days; /* row periods by local day */
    size_t n_cols;         /* columns of the cell arrays */
    const uint32_t *only;  /* restricted scan: these events (ascending), NULL = all */
    size_t n_only;
} scan;

/* Run BODY for every event of the scan (c: its chunk, k: its slot): the whole log in
 * order, or only the listed events (ascending) when the scan is restricted to some users.
 * BODY may `continue`. */
#define FOR_EACH_EVENT(sc, c, k, BODY)                                                     \
    do {                                                                                   \
        const persona__eventlog *l_ = &(sc)->s->log;                                       \
        if ((sc)->only) {                                                                  \
            for (size_t i_ = 0; i_ < (sc)->n_only; i_++) {                                 \
                const log_chunk *c = persona__eventlog_chunk(l_, (sc)->only[i_]);          \
                size_t k = persona__eventlog_slot((sc)->only[i_]);                         \
                BODY                                                                       \
            }                                                                              \
        } else {                                                                           \
            for (size_t ci_ = 0; ci_ < l_->n_chunks; ci_++) {                              \
                const log_chunk *c = l_->chunks[ci_];                                      \
                size_t n_ = ci_ + 1 < l_->n_chunks ? LOG_CHUNK : l_->count - ci_ * LOG_CHUNK; \
                for (size_t k = 0; k < n_; k++) {                                          \
                    BODY                                                                   \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    } while (0)

static inline uint32_t root_of(const persona_store *s, uint32_t id)
{
    return persona__id_root(s, id);
}

static inline int type_active(const scan *sc, uint32_t type)
{
    return !sc->active_type || sc->active_type[type];
}

int persona__cohort_fast_retention(scan *sc);

#endif
