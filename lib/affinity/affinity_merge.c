/* persona_affinity_merge: the union of the item (and category) keys in bytewise order,
 * the users of a then of b, the units of a then of b with their items renumbered. The
 * renumbering keeps each unit's order (both key lists and their union are sorted, so the
 * map is increasing), and the counts are derived from the units as after a build: merge
 * equals a build over both partitions. */
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"

static int same_options(const persona_affinity_matrix *a, const persona_affinity_matrix *b)
{
    if (a->by != b->by || a->category_source != b->category_source ||
        a->session_gap_ms != b->session_gap_ms || a->n_event_types != b->n_event_types)
        return 0;
    for (size_t i = 0; i < a->n_event_types; i++)
        if (strcmp(a->event_types[i], b->event_types[i]))
            return 0;
    if (!a->category_prop != !b->category_prop ||
        (a->category_prop && strcmp(a->category_prop, b->category_prop)))
        return 0;
    return !a->consent_purpose == !b->consent_purpose &&
           (!a->consent_purpose || strcmp(a->consent_purpose, b->consent_purpose) == 0);
}

/* dst = sorted union of the sorted tables x and y; map_x / map_y: old id -> new. */
static int union_sorted(persona__intern *dst, const persona__intern *x, const persona__intern *y,
                        uint32_t *map_x, uint32_t *map_y)
{
    size_t i = 0, j = 0;
    while (i < x->count || j < y->count) {
        int c = i == x->count   ? 1
                : j == y->count ? -1
                                : strcmp(persona__intern_str(x, (uint32_t)i),
                                         persona__intern_str(y, (uint32_t)j));
        const persona__intern *t = c <= 0 ? x : y;
        size_t k = c <= 0 ? i : j;
        uint32_t id = persona__intern_add(dst, persona__intern_str(t, (uint32_t)k),
                                          persona__intern_len(t, (uint32_t)k));
        if (id == PERSONA__NO_ID)
            return persona__fail_nomem();
        if (c <= 0)
            map_x[i++] = id;
        if (c >= 0)
            map_y[j++] = id;
    }
    return PERSONA_OK;
}

/* Append the units of src with items through imap and users re-interned into m. */
static int append_units(persona_affinity_matrix *m, const persona_affinity_matrix *src,
                        const uint32_t *imap, uint64_t *u, uint64_t *e)
{
    for (uint64_t k = 0; k < src->n_units; k++) {
        for (uint64_t x = src->unit_start[k]; x < src->unit_start[k + 1]; x++)
            m->unit_items[(*e)++] = imap[src->unit_items[x]];
        const char *key = persona__intern_str(&src->users, src->unit_user[k]);
        uint32_t id = persona__intern_add(&m->users, key, strlen(key));
        if (id == PERSONA__NO_ID)
            return persona__fail_nomem();
        m->unit_user[*u] = id;
        m->unit_start[++*u] = *e;
    }
    return PERSONA_OK;
}

static int merge_into(persona_affinity_matrix *m, const persona_affinity_matrix *a,
                      const persona_affinity_matrix *b)
{
    int rc = persona__affinity_copy_options(m, a);
    if (rc)
        return rc;
    uint64_t units = a->n_units + b->n_units;
    uint64_t entries = a->unit_start[a->n_units] + b->unit_start[b->n_units];
    if (units > AFF_MAX_UNITS)
        return persona__fail(PERSONA_EINVAL, "%llu units: more than the limit",
                             (unsigned long long)units);
    uint32_t *ma = persona__realloc_array(NULL, aff_items(a) + 1, sizeof *ma);
    uint32_t *mb = persona__realloc_array(NULL, aff_items(b) + 1, sizeof *mb);
    uint32_t *ca = persona__realloc_array(NULL, a->categories.count + 1, sizeof *ca);
    uint32_t *cb = persona__realloc_array(NULL, b->categories.count + 1, sizeof *cb);
    m->unit_start = persona__calloc(units + 1, sizeof *m->unit_start);
    m->unit_items = persona__realloc_array(NULL, entries ? entries : 1, sizeof *m->unit_items);
    m->unit_user = persona__realloc_array(NULL, units ? units : 1, sizeof *m->unit_user);
    if (!ma || !mb || !ca || !cb || !m->unit_start || !m->unit_items || !m->unit_user)
        rc = persona__fail_nomem();
    if (!rc)
        rc = union_sorted(&m->items, &a->items, &b->items, ma, mb);
    if (!rc)
        rc = union_sorted(&m->categories, &a->categories, &b->categories, ca, cb);
    uint64_t u = 0, e = 0;
    if (!rc)
        rc = append_units(m, a, ma, &u, &e);
    if (!rc)
        rc = append_units(m, b, mb, &u, &e);
    if (!rc)
        m->n_units = units;
    persona__free(ma);
    persona__free(mb);
    persona__free(ca);
    persona__free(cb);
    return rc;
}

PERSONA_API int persona_affinity_merge(persona_affinity_matrix **out,
                                       const persona_affinity_matrix *a,
                                       const persona_affinity_matrix *b)
{
    if (out)
        *out = NULL;
    if (!out || !a || !b)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !a ? "a" : "b");
    if (!same_options(a, b))
        return persona__fail(PERSONA_EINVAL, "the matrices were built with different options "
                                             "(unit, session gap, event types, category, consent)");
    persona_affinity_matrix *m = persona__affinity_alloc();
    if (!m)
        return persona__fail_nomem();
    int rc = merge_into(m, a, b);
    if (!rc)
        rc = persona__affinity_count(m);
    return persona__affinity_hand_over(out, m, rc);
}
