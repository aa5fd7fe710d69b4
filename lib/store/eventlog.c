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

static int alloc_ids(uint32_t **col, size_t *bytes)
{
    if (*col)
        return 0;
    *col = persona__alloc(LOG_CHUNK * sizeof **col);
    if (!*col)
        return -1;
    memset(*col, 0xFF, LOG_CHUNK * sizeof **col); /* LOG_NO_ID */
    *bytes += LOG_CHUNK * sizeof **col;
    return 0;
}

static int alloc_values(double **col, size_t *bytes)
{
    if (*col)
        return 0;
    *col = persona__alloc(LOG_CHUNK * sizeof **col);
    if (!*col)
        return -1;
    for (size_t i = 0; i < LOG_CHUNK; i++)
        (*col)[i] = NAN;
    *bytes += LOG_CHUNK * sizeof **col;
    return 0;
}

static log_chunk *chunk_new(size_t *bytes)
{
    log_chunk *c = persona__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->time = persona__alloc(LOG_CHUNK * sizeof *c->time);
    c->user = persona__alloc(LOG_CHUNK * sizeof *c->user);
    c->type = persona__alloc(LOG_CHUNK * sizeof *c->type);
    c->prev = persona__alloc(LOG_CHUNK * sizeof *c->prev);
    if (!c->time || !c->user || !c->type || !c->prev) {
        chunk_free(c);
        return NULL;
    }
    *bytes += sizeof *c + LOG_CHUNK * (sizeof *c->time + 3 * sizeof *c->user);
    return c;
}

/* Optional columns a batch needs, in every chunk it will touch. */
static int chunk_columns(persona__eventlog *l, log_chunk *c, const log_needs *needs)
{
    if (needs->value && alloc_values(&c->value, &l->bytes))
        return -1;
    if (needs->item && alloc_ids(&c->item, &l->bytes))
        return -1;
    if (needs->basket && alloc_ids(&c->basket, &l->bytes))
        return -1;
    for (size_t p = 0; p < l->n_props; p++)
        if ((needs->props >> p & 1) && alloc_ids(&c->props[p], &l->bytes))
            return -1;
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
        log_chunk *c = chunk_new(&l->bytes);
        if (!c)
            return -1;
        l->chunks[l->n_chunks++] = c;
    }
    for (size_t k = l->count >> LOG_CHUNK_BITS; k < need_chunks; k++)
        if (chunk_columns(l, l->chunks[k], needs))
            return -1;
    return 0;
}
