/* The matrix object: allocation, the counts derived from the units (item counts and the
 * sparse symmetric pair lists), and the lookups of items and categories. */
#include <stdlib.h>
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"

PERSONA__DEFINE_INIT(persona_affinity_options, persona_affinity_options_init)
PERSONA__DEFINE_INIT(persona_affinity_info, persona_affinity_info_init)
PERSONA__DEFINE_INIT(persona_affinity_pair_info, persona_affinity_pair_info_init)

persona_affinity_matrix *persona__affinity_alloc(void)
{
    persona_affinity_matrix *m = persona__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    /* the tables only ever hold keys of one matrix; a fresh key per matrix keeps hostile
     * keys from colliding */
    persona__hash_key key = persona__hash_key_from_seed(0);
    persona__intern_init(&m->items, key);
    persona__intern_init(&m->categories, key);
    persona__intern_init(&m->users, key);
    pthread_mutex_init(&m->lock, NULL);
    for (int i = 0; i < PERSONA_AFFINITY_MEASURES; i++) {
        atomic_init(&m->order[i], NULL);
        atomic_init(&m->top[i], NULL);
    }
    return m;
}

PERSONA_API void persona_affinity_free(persona_affinity_matrix *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_event_types; i++)
        persona__free(m->event_types[i]);
    persona__free(m->event_types);
    persona__free(m->category_prop);
    persona__free(m->consent_purpose);
    persona__intern_free(&m->items);
    persona__intern_free(&m->categories);
    persona__intern_free(&m->users);
    persona__free(m->unit_start);
    persona__free(m->unit_items);
    persona__free(m->unit_user);
    persona__free(m->item_count);
    persona__free(m->row);
    persona__free(m->nbr);
    persona__free(m->cnt);
    for (int i = 0; i < PERSONA_AFFINITY_MEASURES; i++) {
        persona__free(atomic_load_explicit(&m->order[i], memory_order_relaxed));
        aff_top_list *t = atomic_load_explicit(&m->top[i], memory_order_relaxed);
        if (t) {
            persona__free(t->start);
            persona__free(t->entries);
            persona__free(t);
        }
    }
    pthread_mutex_destroy(&m->lock);
    persona__free(m);
}

static char *dup_str(const char *s)
{
    return persona__strndup(s, strlen(s));
}

int persona__affinity_copy_options(persona_affinity_matrix *dst,
                                   const persona_affinity_matrix *src)
{
    dst->by = src->by;
    dst->category_source = src->category_source;
    dst->session_gap_ms = src->session_gap_ms;
    if (src->n_event_types) {
        dst->event_types = persona__calloc(src->n_event_types, sizeof *dst->event_types);
        if (!dst->event_types)
            return persona__fail_nomem();
        for (size_t i = 0; i < src->n_event_types; i++) {
            if (!(dst->event_types[i] = dup_str(src->event_types[i])))
                return persona__fail_nomem();
            dst->n_event_types = i + 1;
        }
    }
    if (src->category_prop && !(dst->category_prop = dup_str(src->category_prop)))
        return persona__fail_nomem();
    if (src->consent_purpose && !(dst->consent_purpose = dup_str(src->consent_purpose)))
        return persona__fail_nomem();
    return PERSONA_OK;
}

/* Sum over the units of |u|² is the work: each unit holding a is walked once per item a,
 * its items counted into a dense accumulator whose touched entries are then emitted in
 * ascending order (a sort of the touched list, or a scan of the items for long rows). */
int persona__affinity_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int persona__affinity_count(persona_affinity_matrix *m)
{
    size_t n = aff_items(m);
    uint64_t entries = m->unit_start ? m->unit_start[m->n_units] : 0;
    uint64_t *ucount = persona__calloc(n + 1, sizeof *ucount);
    uint64_t *inv_start = persona__calloc(n + 1, sizeof *inv_start);
    uint32_t *inv = persona__realloc_array(NULL, entries ? entries : 1, sizeof *inv);
    uint64_t *acc = persona__calloc(n + 1, sizeof *acc);
    uint32_t *touched = persona__realloc_array(NULL, n + 1, sizeof *touched);
    uint64_t *row = persona__calloc(n + 1, sizeof *row);
    uint32_t *nbr = NULL;
    uint64_t *cnt = NULL;
    size_t cap = 0, cap2 = 0, len = 0;
    int rc = PERSONA_OK;
    if (!ucount || !inv_start || !inv || !acc || !touched || !row) {
        rc = persona__fail_nomem();
        goto done;
    }
    for (uint64_t e = 0; e < entries; e++)
        ucount[m->unit_items[e]]++;
    for (size_t i = 0; i < n; i++)
        inv_start[i + 1] = inv_start[i] + ucount[i];
    /* acc doubles as the fill position of each inverted list here */
    for (size_t i = 0; i < n; i++)
        acc[i] = inv_start[i];
    for (uint64_t u = 0; u < m->n_units; u++)
        for (uint64_t e = m->unit_start[u]; e < m->unit_start[u + 1]; e++)
            inv[acc[m->unit_items[e]]++] = (uint32_t)u;
    memset(acc, 0, (n + 1) * sizeof *acc);
    for (size_t a = 0; a < n; a++) {
        size_t nt = 0;
        for (uint64_t k = inv_start[a]; k < inv_start[a + 1]; k++) {
            uint32_t u = inv[k];
            for (uint64_t e = m->unit_start[u]; e < m->unit_start[u + 1]; e++) {
                uint32_t b = m->unit_items[e];
                if (b == a)
                    continue;
                if (acc[b]++ == 0)
                    touched[nt++] = b;
            }
        }
        /* a long row is listed by one pass over the items instead of a sort */
        if (nt * 16 > n) {
            size_t k = 0;
            for (uint32_t b = 0; b < n && k < nt; b++)
                if (acc[b])
                    touched[k++] = b;
        } else {
            qsort(touched, nt, sizeof *touched, persona__affinity_cmp_u32);
        }
        if (persona__grow((void **)&nbr, &cap, len + nt, sizeof *nbr, 64) ||
            persona__grow((void **)&cnt, &cap2, len + nt, sizeof *cnt, 64)) {
            for (size_t t = 0; t < nt; t++)
                acc[touched[t]] = 0;
            rc = persona__fail_nomem();
            goto done;
        }
        for (size_t t = 0; t < nt; t++) {
            nbr[len] = touched[t];
            cnt[len++] = acc[touched[t]];
            acc[touched[t]] = 0;
        }
        row[a + 1] = len;
    }
    m->item_count = ucount;
    m->row = row;
    m->nbr = nbr;
    m->cnt = cnt;
    ucount = NULL;
    row = NULL;
    nbr = NULL;
    cnt = NULL;
done:
    persona__free(ucount);
    persona__free(inv_start);
    persona__free(inv);
    persona__free(acc);
    persona__free(touched);
    persona__free(row);
    persona__free(nbr);
    persona__free(cnt);
    return rc;
}

int persona__affinity_cmp_ranked(const void *a, const void *b)
{
    const aff_ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

int persona__affinity_hand_over(persona_affinity_matrix **out, persona_affinity_matrix *m, int rc)
{
    if (rc) {
        persona_affinity_free(m);
        return rc;
    }
    *out = m;
    return PERSONA_OK;
}

uint64_t persona__affinity_entry(const persona_affinity_matrix *m, uint32_t a, uint32_t b)
{
    uint64_t lo = m->row[a], hi = m->row[a + 1];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (m->nbr[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->row[a + 1] && m->nbr[lo] == b ? lo : UINT64_MAX;
}

int persona__affinity_find(uint32_t *out, const persona_affinity_matrix *m, const char *item)
{
    if (!item)
        return persona__fail(PERSONA_EINVAL, "item is NULL");
    uint32_t id = persona__intern_find(&m->items, item, strlen(item));
    if (id == PERSONA__NO_ID)
        return persona__fail(PERSONA_ENOTFOUND, "item '%.200s' is in no unit of the matrix",
                             item);
    *out = id;
    return PERSONA_OK;
}

PERSONA_API int persona_affinity_info_get(persona_affinity_info *out,
                                          const persona_affinity_matrix *m)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "matrix is NULL");
    persona_affinity_info in = { sizeof in, m->by, 0, 0, 0, 0, 0, 0 };
    in.units = m->n_units;
    in.items = aff_items(m);
    in.pairs = m->row[aff_items(m)] / 2;
    in.users = m->users.count;
    in.categories = m->category_source == PERSONA_AFFINITY_CATEGORY_ITEM ? aff_items(m)
                                                                         : m->categories.count;
    in.entries = m->unit_start[m->n_units];
    return persona__struct_out(out, &in, sizeof in, sizeof in, "persona_affinity_info");
}

PERSONA_API int persona_affinity_item_find(size_t *out, const persona_affinity_matrix *m,
                                           const char *item)
{
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "matrix" : "out");
    uint32_t id = 0;
    int rc = persona__affinity_find(&id, m, item);
    if (!rc)
        *out = id;
    return rc;
}

static int key_out(char *buf, size_t capacity, size_t *out_len, const persona__intern *t,
                   size_t index, const char *what)
{
    if (index >= t->count)
        return persona__fail(PERSONA_ENOTFOUND, "%s %zu of %zu", what, index, t->count);
    return persona__copy_out(buf, capacity, out_len, persona__intern_str(t, (uint32_t)index),
                             persona__intern_len(t, (uint32_t)index));
}

PERSONA_API int persona_affinity_item_key(char *buf, size_t capacity, size_t *out_len,
                                          const persona_affinity_matrix *m, size_t index)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "matrix is NULL");
    return key_out(buf, capacity, out_len, &m->items, index, "item");
}

PERSONA_API int persona_affinity_category_key(char *buf, size_t capacity, size_t *out_len,
                                              const persona_affinity_matrix *m, size_t index)
{
    if (!m)
        return persona__fail(PERSONA_EINVAL, "matrix is NULL");
    return key_out(buf, capacity, out_len,
                   m->category_source == PERSONA_AFFINITY_CATEGORY_ITEM ? &m->items
                                                                        : &m->categories,
                   index, "category");
}
