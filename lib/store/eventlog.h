/* The columnar event log: one column per field, in chunks of 65,536 events so that the log
 * grows without copying and wastes at most one chunk. A chunk's columns start small and
 * double as it fills, so a store of a few events stays a few kilobytes. Optional columns (value, item,
 * basket, one per named property) exist in a chunk only once an event in it has them;
 * a missing column reads as absent (NaN / NO_ID). Later builders scan it. */
#ifndef PERSONA_STORE_EVENTLOG_H
#define PERSONA_STORE_EVENTLOG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_CHUNK_BITS 16
#define LOG_CHUNK ((size_t)1 << LOG_CHUNK_BITS)
#define LOG_MAX_PROPS 64 /* named properties kept per event; more names update traits only */
#define LOG_NO_ID UINT32_MAX

typedef struct log_chunk {
    size_t cap; /* events every present column of this chunk has room for (<= LOG_CHUNK) */
    int64_t *time;
    uint32_t *user, *type, *prev; /* prev: previous event of the same user, or LOG_NO_ID */
    double *value;
    uint32_t *item, *basket;
    uint32_t *event_id; /* the event's id (deduplication), so erasing a user can drop it */
    uint32_t *props[LOG_MAX_PROPS];
} log_chunk;

typedef struct persona__eventlog {
    log_chunk **chunks;
    size_t n_chunks, chunks_cap;
    size_t count;
    uint32_t prop_names[LOG_MAX_PROPS]; /* name id of each property column */
    size_t n_props;
    size_t bytes;
} persona__eventlog;

/* What a batch needs from the log, computed before reserving. */
typedef struct log_needs {
    size_t events;
    int value, item, basket, event_id;
    uint64_t props; /* bit per property column */
} log_needs;

void persona__eventlog_init(persona__eventlog *l);
void persona__eventlog_free(persona__eventlog *l);
/* Column of a property name, or -1 when it has none (and none can be added: full). With
 * create = 0 only looks. New columns are registered by reserve (all-or-nothing). */
int persona__eventlog_prop_col(const persona__eventlog *l, uint32_t name_id);
/* Register a property column (no allocation); -1 when all LOG_MAX_PROPS are taken. */
int persona__eventlog_add_prop_col(persona__eventlog *l, uint32_t name_id);
/* Allocate chunks and columns so that `needs.events` appends succeed. 0 or -1. */
int persona__eventlog_reserve(persona__eventlog *l, const log_needs *needs);

static inline log_chunk *persona__eventlog_chunk(const persona__eventlog *l, size_t i)
{
    return l->chunks[i >> LOG_CHUNK_BITS];
}
static inline size_t persona__eventlog_slot(size_t i)
{
    return i & (LOG_CHUNK - 1);
}
static inline int64_t persona__eventlog_time(const persona__eventlog *l, size_t i)
{
    return persona__eventlog_chunk(l, i)->time[persona__eventlog_slot(i)];
}
static inline uint32_t persona__eventlog_prev(const persona__eventlog *l, size_t i)
{
    return persona__eventlog_chunk(l, i)->prev[persona__eventlog_slot(i)];
}
static inline double persona__eventlog_value(const persona__eventlog *l, size_t i)
{
    const log_chunk *c = persona__eventlog_chunk(l, i);
    return c->value ? c->value[persona__eventlog_slot(i)] : NAN;
}

#endif
