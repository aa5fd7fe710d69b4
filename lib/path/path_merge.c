/* persona_path_merge: the sessions of both models (users disjoint) under one state
 * numbering (the union of the names, bytewise), the tables derived again — so counts are
 * sums and every query answers as a build over all the users. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "path/path_internal.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The union of the state names of a and b, in bytewise order. */
static int union_states(persona_path_model *m, const persona_path_model *a,
                        const persona_path_model *b)
{
    size_t n = a->states.count + b->states.count;
    const char **keys = persona__realloc_array(NULL, n + 1, sizeof *keys);
    if (!keys)
        return persona__fail_nomem();
    for (size_t i = 0; i < a->states.count; i++)
        keys[i] = persona__intern_str(&a->states, (uint32_t)i);
    for (size_t i = 0; i < b->states.count; i++)
        keys[a->states.count + i] = persona__intern_str(&b->states, (uint32_t)i);
    qsort(keys, n, sizeof *keys, cmp_str);
    int rc = PERSONA_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (persona__intern_add(&m->states, keys[i], strlen(keys[i])) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
    persona__free(keys);
    return rc;
}

/* Append the sessions and users of src. */
static int append(persona_path_model *m, const persona_path_model *src, uint64_t *sess,
                  uint64_t *entry)
{
    uint32_t *map = persona__realloc_array(NULL, src->states.count + 1, sizeof *map);
    uint32_t *umap = persona__realloc_array(NULL, src->users.count + 1, sizeof *umap);
    int rc = !map || !umap ? persona__fail_nomem() : PERSONA_OK;
    for (size_t i = 0; !rc && i < src->states.count; i++)
        map[i] = persona__intern_find(&m->states, persona__intern_str(&src->states, (uint32_t)i),
                                      persona__intern_len(&src->states, (uint32_t)i));
    for (size_t u = 0; !rc && u < src->users.count; u++) {
        const char *key = persona__intern_str(&src->users, (uint32_t)u);
        size_t len = persona__intern_len(&src->users, (uint32_t)u);
        if (persona__intern_find(&m->users, key, len) != PERSONA__NO_ID)
            rc = persona__fail(PERSONA_EINVAL, "user \"%s\" is in both models: partitions "
                                               "must be disjoint", key);
        else if ((umap[u] = persona__intern_add(&m->users, key, len)) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
        else
            m->user_last[umap[u]] = (uint32_t)(*sess + src->user_last[u]);
    }
    for (uint64_t i = 0; !rc && i < src->n_sessions; i++) {
        m->sess_user[*sess] = umap[src->sess_user[i]];
        for (uint64_t e = src->sess_start[i]; e < src->sess_start[i + 1]; e++)
            m->sess_states[(*entry)++] = map[src->sess_states[e]];
        m->sess_start[++*sess] = *entry;
    }
    persona__free(map);
    persona__free(umap);
    return rc;
}

PERSONA_API int persona_path_merge(persona_path_model **out, const persona_path_model *a,
                                   const persona_path_model *b)
{
    if (out)
        *out = NULL;
    if (!out || !a || !b)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !a ? "a" : "b");
    int rc = persona__path_spec_same(&a->spec, &b->spec);
    if (rc)
        return rc;
    uint64_t n = a->n_sessions + b->n_sessions;
    uint64_t entries = a->sess_start[a->n_sessions] + b->sess_start[b->n_sessions];
    if (entries >= UINT32_MAX)
        return persona__fail(PERSONA_EINVAL, "%llu events: more than the limit",
                             (unsigned long long)entries);
    persona_path_model *m = persona__path_alloc();
    if (!m)
        return persona__fail_nomem();
    rc = persona__path_spec_copy(&m->spec, &a->spec);
    if (!rc)
        rc = union_states(m, a, b);
    if (!rc) {
        persona__path_special_ids(m);
        m->skipped = a->skipped + b->skipped;
        m->sess_start = persona__calloc(n + 1, sizeof *m->sess_start);
        m->sess_states = persona__realloc_array(NULL, entries + 1, sizeof *m->sess_states);
        m->sess_user = persona__realloc_array(NULL, n + 1, sizeof *m->sess_user);
        m->user_last = persona__realloc_array(NULL, a->users.count + b->users.count + 1,
                                              sizeof *m->user_last);
        if (!m->sess_start || !m->sess_states || !m->sess_user || !m->user_last)
            rc = persona__fail_nomem();
    }
    uint64_t sess = 0, entry = 0;
    if (!rc)
        rc = append(m, a, &sess, &entry);
    if (!rc)
        rc = append(m, b, &sess, &entry);
    if (!rc) {
        m->n_sessions = n;
        rc = persona__path_derive(m);
    }
    return persona__path_hand_over(out, m, rc);
}
