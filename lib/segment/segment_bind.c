/* Name slots resolved against a store. Looking up every event type and name at each
 * evaluation would cost more than the evaluation itself, so the model keeps the ids of the
 * last store it met under a sequence lock: readers copy them and check that no writer
 * touched them meanwhile; a miss resolves on the caller's stack and, when no other thread
 * is at it, installs the result. The ids stay valid while the store's serial and epoch
 * are unchanged (the intern tables only grow in between); a name not in the store yet is
 * looked up again once its table has grown. */
#include <string.h>

#include "core/alloc.h"
#include "segment/rule_eval.h"

static uint32_t lookup(const persona_store *s, const name_slot *sl)
{
    const persona__intern *t = sl->kind == SLOT_TYPE ? &s->types : &s->names;
    return persona__intern_find(t, sl->str, sl->len);
}

static int cache_read(const persona_segment_model *m, const persona_store *s, uint32_t *ids)
{
    bind_cache *c = (bind_cache *)&m->bind;
    uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
    _Atomic uint32_t *cached = atomic_load_explicit(&c->ids, memory_order_acquire);
    if ((seq & 1) || !cached)
        return 0;
    if (atomic_load_explicit(&c->serial, memory_order_relaxed) != s->serial ||
        atomic_load_explicit(&c->epoch, memory_order_relaxed) != s->epoch ||
        atomic_load_explicit(&c->n_types, memory_order_relaxed) != s->types.count ||
        atomic_load_explicit(&c->n_names, memory_order_relaxed) != s->names.count)
        return 0;
    for (size_t i = 0; i < m->n_slots; i++)
        ids[i] = atomic_load_explicit(&cached[i], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&c->seq, memory_order_relaxed) == seq;
}

static void cache_write(const persona_segment_model *m, const persona_store *s, const uint32_t *ids)
{
    bind_cache *c = (bind_cache *)&m->bind;
    if (pthread_mutex_trylock(&c->lock) != 0)
        return; /* another thread is installing: it will do */
    _Atomic uint32_t *cached = atomic_load_explicit(&c->ids, memory_order_relaxed);
    if (!cached) {
        /* Allocated once per model; without memory the cache just stays empty. */
        cached = persona__calloc(m->n_slots, sizeof *cached);
        if (!cached) {
            pthread_mutex_unlock(&c->lock);
            return;
        }
    }
    uint64_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
    atomic_store_explicit(&c->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&c->serial, s->serial, memory_order_relaxed);
    atomic_store_explicit(&c->epoch, s->epoch, memory_order_relaxed);
    atomic_store_explicit(&c->n_types, s->types.count, memory_order_relaxed);
    atomic_store_explicit(&c->n_names, s->names.count, memory_order_relaxed);
    for (size_t i = 0; i < m->n_slots; i++)
        atomic_store_explicit(&cached[i], ids[i], memory_order_relaxed);
    atomic_store_explicit(&c->ids, cached, memory_order_release);
    atomic_store_explicit(&c->seq, seq + 2, memory_order_release);
    pthread_mutex_unlock(&c->lock);
}

void persona__bind(const persona_segment_model *m, const persona_store *s, uint32_t *ids)
{
    if (m->n_slots == 0 || cache_read(m, s, ids))
        return;
    for (size_t i = 0; i < m->n_slots; i++)
        ids[i] = lookup(s, &m->slots[i]);
    cache_write(m, s, ids);
}

void persona__bind_reset(persona_segment_model *m)
{
    persona__free((void *)atomic_load(&m->bind.ids));
    atomic_store(&m->bind.ids, NULL);
    atomic_store(&m->bind.seq, 0);
}
