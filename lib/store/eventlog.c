#include "eventlog.h"

#include <string.h>

#include "core/alloc.h"

void persona__eventlog_init(persona__eventlog *l)
{
    memset(l, 0, sizeof *l);
}

static void chunk_free(log_chunk *c)
{
    if (!c)
        return;
    persona__free(c->time);
    persona__free(c->user);
    persona__free(c->type);
    persona__free(c->prev);
    persona__free(c->value);
    persona__free(c->item);
    persona__free(c->basket);
    persona__free(c->event_id);
    for (size_t p = 0; p < LOG_MAX_PROPS; p++)
        persona__free(c->props[p]);
    persona__free(c);
}

void persona__eventlog_free(persona__eventlog *l)
{
    for (size_t i = 0; i < l->n_chunks; i++)
        chunk_free(l->chunks[i]);
    persona__free(l->chunks);
    persona__eventlog_init(l);
}

int persona__eventlog_prop_col(const persona__eventlog *l, uint32_t name_id)
{
    for (size_t p = 0; p < l->n_props; p++)
        if (l->prop_names[p] == name_id)
            return (int)p;
    return -1;
}

int persona__eventlog_add_prop_col(persona__eventlog *l, uint32_t name_id)
{
    int p = persona__eventlog_prop_col(l, name_id);
    if (p >= 0 || l->n_props == LOG_MAX_PROPS)
        return p;
    l->prop_names[l->n_props] = name_id;
    return (int)l->n_props++;
}

#define FIRST_CAP 64 /* slots of a new chunk's columns; doubled up to LOG_CHUNK */

/* Grow one column to cap slots, filling the new ones with absent (0xFF bytes are
 * LOG_NO_ID for ids; values get NaN). A column not there yet is made with cap slots. */
static int grow_ids(uint32_t **col, size_t old_cap, size_t cap, size_t *bytes)
{
    size_t from = *col ? old_cap : 0;
    uint32_t *p = persona__realloc_array(*col, cap, sizeof *p);
    if (!p)
        return -1;
    persona__prefault(p + from, (cap - from) * sizeof *p);
    memset(p + from, 0xFF, (cap - from) * sizeof *p);
    *bytes += (cap - from) * sizeof *p;
    *col = p;
    return 0;
}

static int grow_values(double **col, size_t old_cap, size_t cap, size_t *bytes)
{
    size_t from = *col ? old_cap : 0;
    double *p = persona__realloc_array(*col, cap, sizeof *p);
    if (!p)
        return -1;
    persona__prefault(p + from, (cap - from) * sizeof *p);
    for (size_t i = from; i < cap; i++)
        p[i] = NAN;
    *bytes += (cap - from) * sizeof *p;
    *col = p;
    return 0;
}

/* Base columns hold whatever apply writes, so growing them needs no fill. */
static int grow_base(void **col, size_t old_cap, size_t cap, size_t elem, size_t *bytes)
{
    void *p = persona__realloc_array(*col, cap, elem);
    if (!p)
        return -1;
    persona__prefault((char *)p + old_cap * elem, (cap - old_cap) * elem);
    *bytes += (cap - old_cap) * elem;
    *col = p;
    return 0;
}

/* Give chunk c room for `slots` events in every column it has and every optional column
 * the batch needs. On failure the chunk's content is unchanged (columns may have grown). */
static int chunk_room(persona__eventlog *l, log_chunk *c, size_t slots, const log_needs *needs)
{
    /* Only the first chunk starts small: once a log has filled one, it is a big log. */
    size_t cap = c->cap ? c->cap : l->n_chunks > 1 ? LOG_CHUNK : FIRST_CAP;
    while (cap < slots)
        cap *= 2;
    if (cap > LOG_CHUNK)
        cap = LOG_CHUNK;
    size_t *b = &l->bytes, old = c->cap;
    if (cap != old &&
        (grow_base((void **)&c->time, old, cap, sizeof *c->time, b) ||
         grow_base((void **)&c->user, old, cap, sizeof *c->user, b) ||
         grow_base((void **)&c->type, old, cap, sizeof *c->type, b) ||
         grow_base((void **)&c->prev, old, cap, sizeof *c->prev, b)))
        return -1;
    if ((c->value || needs->value) && (cap != old || !c->value) &&
        grow_values(&c->value, old, cap, b))
        return -1;
    if ((c->item || needs->item) && (cap != old || !c->item) && grow_ids(&c->item, old, cap, b))
        return -1;
    if ((c->basket || needs->basket) && (cap != old || !c->basket) &&
        grow_ids(&c->basket, old, cap, b))
        return -1;
    if ((c->event_id || needs->event_id) && (cap != old || !c->event_id) &&
        grow_ids(&c->event_id, old, cap, b))
        return -1;
    for (size_t p = 0; p < l->n_props; p++) {
        int want = c->props[p] || (needs->props >> p & 1);
        if (want && (cap != old || !c->props[p]) && grow_ids(&c->props[p], old, cap, b))
            return -1;
    }
    c->cap = cap;
    return 0;
}

int persona__eventlog_reserve(persona__eventlog *l, const log_needs *needs)
{
    if (needs->events == 0)
        return 0;
    if (needs->events > (size_t)UINT32_MAX - 1 - l->count)
        return -1;
    size_t last = l->count + needs->events - 1;
    size_t need_chunks = (last >> LOG_CHUNK_BITS) + 1;
    if (persona__grow((void **)&l->chunks, &l->chunks_cap, need_chunks, sizeof *l->chunks, 8))
        return -1;
    while (l->n_chunks < need_chunks) {
        log_chunk *c = persona__calloc(1, sizeof *c);
        if (!c)
            return -1;
        l->bytes += sizeof *c;
        l->chunks[l->n_chunks++] = c;
    }
    for (size_t k = l->count >> LOG_CHUNK_BITS; k < need_chunks; k++) {
        size_t slots = k == last >> LOG_CHUNK_BITS ? (last & (LOG_CHUNK - 1)) + 1 : LOG_CHUNK;
        if (chunk_room(l, l->chunks[k], slots, needs))
            return -1;
    }
    return 0;
}
