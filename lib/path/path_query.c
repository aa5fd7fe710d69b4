/* Path models: allocation, release, sizes and state names. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "path/path_internal.h"

persona_path_model *persona__path_alloc(void)
{
    persona_path_model *m = persona__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    /* the tables only hold keys of one model: a fresh key per model */
    persona__hash_key key = persona__hash_key_from_seed(0);
    persona__intern_init(&m->states, key);
    persona__intern_init(&m->users, key);
    persona__pairmap_init(&m->ctx_map, key.k0);
    return m;
}

void persona__path_special_ids(persona_path_model *m)
{
    m->start_id = persona__intern_find(&m->states, PERSONA_PATH_START, strlen(PERSONA_PATH_START));
    m->end_id = persona__intern_find(&m->states, PERSONA_PATH_END, strlen(PERSONA_PATH_END));
}

void persona__path_drop_derived(persona_path_model *m)
{
    persona__pairmap_free(&m->ctx_map); /* emptied, its seed kept */
    persona__free(m->ctx_len);
    persona__free(m->ctx_total);
    persona__free(m->succ_start);
    persona__free(m->succ_state);
    persona__free(m->succ_count);
    persona__free(m->zero_state);
    persona__free(m->zero_count);
    m->ctx_len = NULL;
    m->ctx_total = m->succ_start = m->succ_count = m->zero_count = NULL;
    m->succ_state = m->zero_state = NULL;
    m->n_transitions = m->n_zero = 0;
    m->zero_total = 0;
}

PERSONA_API void persona_path_free(persona_path_model *m)
{
    if (!m)
        return;
    persona__path_spec_free(&m->spec);
    persona__intern_free(&m->states);
    persona__intern_free(&m->users);
    persona__free(m->sess_start);
    persona__free(m->sess_states);
    persona__free(m->sess_user);
    persona__free(m->user_last);
    persona__path_drop_derived(m);
    persona__free(m);
}

int persona__path_hand_over(persona_path_model **out, persona_path_model *m, int rc)
{
    if (rc) {
        persona_path_free(m);
        return rc;
    }
    *out = m;
    return PERSONA_OK;
}

PERSONA_API int persona_path_info_get(persona_path_info *out, const persona_path_model *m)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "model" : "out");
    persona_path_info in;
    memset(&in, 0, sizeof in);
    in.order = m->spec.order;
    in.states = m->states.count;
    in.sessions = m->n_sessions;
    in.users = m->users.count;
    in.events = m->sess_start[m->n_sessions];
    in.skipped = m->skipped;
    in.contexts = m->ctx_map.count;
    in.transitions = m->n_transitions;
    return persona__struct_out(out, &in, sizeof in, sizeof in, "persona_path_info");
}

PERSONA_API int persona_path_state_find(uint32_t *out, const persona_path_model *m,
                                        const char *name)
{
    if (!out || !m || !name)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !m ? "model" : "name");
    uint32_t id = persona__intern_find(&m->states, name, strlen(name));
    if (id == PERSONA__NO_ID)
        return persona__fail(PERSONA_ENOTFOUND, "no state \"%s\" in the model", name);
    *out = id;
    return PERSONA_OK;
}

PERSONA_API int persona_path_state_name(char *buf, size_t capacity, size_t *out_len,
                                        const persona_path_model *m, uint32_t index)
{
    if (!m || (!buf && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "buf" : "model");
    if (index >= m->states.count)
        return persona__fail(PERSONA_ENOTFOUND, "state %u: the model has %zu", index,
                             m->states.count);
    return persona__copy_out(buf, capacity, out_len, persona__intern_str(&m->states, index),
                             persona__intern_len(&m->states, index));
}
