/* persona_affinity_build: under the store's read lock the counted events (an item, a
 * counted type, a basket when by basket, the consent purpose granted) are listed as
 * (user, basket, time, item) records and the items and categories they use collected; the
 * records are sorted so that each unit is a run (by basket: user then basket; by session:
 * user then time, a new session after a gap longer than the session gap; by user: user),
 * and each run becomes one unit of distinct items. The counts follow from the units
 * (persona__affinity_count). */
#include <stdlib.h>
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/cmp.h"
#include "core/error.h"
#include "core/structs.h"
#include "store/store_internal.h"

typedef struct rec {
    uint32_t user; /* profile root */
    uint32_t basket;
    int64_t time;
    uint32_t item; /* store item id, then matrix index */
    uint32_t seq;  /* log order among equal keys: the sort is then total */
} rec;

static int cmp_rec_basket(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->basket != y->basket)
        return x->basket < y->basket ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_rec_time(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorted event types, without repeats. */
static int copy_types(persona_affinity_matrix *m, const persona_affinity_options *o)
{
    if (!o->n_event_types)
        return PERSONA_OK;
    if (!o->event_types)
        return persona__fail(PERSONA_EINVAL, "event_types is NULL with %zu entries",
                             o->n_event_types);
    m->event_types = persona__calloc(o->n_event_types, sizeof *m->event_types);
    if (!m->event_types)
        return persona__fail_nomem();
    for (size_t i = 0; i < o->n_event_types; i++) {
        const char *t = o->event_types[i];
        if (!t || !*t)
            return persona__fail(PERSONA_EINVAL, "event type %zu is %s", i, t ? "empty" : "NULL");
        if (!(m->event_types[m->n_event_types] = persona__strndup(t, strlen(t))))
            return persona__fail_nomem();
        m->n_event_types++;
    }
    qsort(m->event_types, m->n_event_types, sizeof *m->event_types, persona__cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < m->n_event_types; i++) {
        if (w && strcmp(m->event_types[w - 1], m->event_types[i]) == 0) {
            persona__free(m->event_types[i]);
            continue;
        }
        m->event_types[w++] = m->event_types[i];
    }
    m->n_event_types = w;
    return PERSONA_OK;
}

static int set_options(persona_affinity_matrix *m, const persona_affinity_options *opts,
                       const persona_store *s)
{
    persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
    int rc = opts ? persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_affinity_options")
                  : PERSONA_OK;
    if (rc)
        return rc;
    if (o.by < PERSONA_AFFINITY_BY_BASKET || o.by > PERSONA_AFFINITY_BY_USER)
        return persona__fail(PERSONA_EINVAL, "by is %d (PERSONA_AFFINITY_BY_*: 0 to 2)", o.by);
    if (o.category_source != PERSONA_AFFINITY_CATEGORY_PROP &&
        o.category_source != PERSONA_AFFINITY_CATEGORY_ITEM)
        return persona__fail(PERSONA_EINVAL, "category_source is %d", o.category_source);
    if (o.session_gap_ms < 0)
        return persona__fail(PERSONA_EINVAL, "session_gap_ms is negative");
    if (o.reserved)
        return persona__fail(PERSONA_EINVAL, "reserved is not 0");
    m->by = o.by;
    m->category_source = o.category_source;
    m->session_gap_ms =
        o.by == PERSONA_AFFINITY_BY_SESSION ? (o.session_gap_ms ? o.session_gap_ms : s->session_gap_ms)
                                            : 0;
    if ((rc = copy_types(m, &o)))
        return rc;
    if (o.category_source == PERSONA_AFFINITY_CATEGORY_PROP) {
        const char *p = o.category_prop && *o.category_prop ? o.category_prop : "category";
        if (!(m->category_prop = persona__strndup(p, strlen(p))))
            return persona__fail_nomem();
    }
    if (o.consent_purpose && !(m->consent_purpose = persona__strndup(o.consent_purpose,
                                                                     strlen(o.consent_purpose))))
        return persona__fail_nomem();
    return PERSONA_OK;
}

/* What the scan needs to know per store id. */
typedef struct scan {
    uint8_t *type_ok;  /* per type id; NULL = all */
    uint8_t *consent;  /* per user id: 0 unknown, 1 granted, 2 not; NULL = everyone */
    uint32_t purpose;
    int cat_col;       /* property column of the category, -1 none */
    uint32_t *item_map; /* store item id -> matrix index, NO_ID = unused */
    uint8_t *cat_used;  /* per store value id */
} scan;

static void scan_free(scan *sc)
{
    persona__free(sc->type_ok);
    persona__free(sc->consent);
    persona__free(sc->item_map);
    persona__free(sc->cat_used);
}

static int scan_init(scan *sc, const persona_affinity_matrix *m, const persona_store *s)
{
    memset(sc, 0, sizeof *sc);
    sc->cat_col = -1;
    if (m->n_event_types) {
        if (!(sc->type_ok = persona__calloc(s->types.count + 1, 1)))
            return persona__fail_nomem();
        for (size_t i = 0; i < m->n_event_types; i++) {
            uint32_t t = persona__intern_find(&s->types, m->event_types[i],
                                              strlen(m->event_types[i]));
            if (t != PERSONA__NO_ID)
                sc->type_ok[t] = 1;
        }
    }
    if (m->consent_purpose) {
        if (!(sc->consent = persona__calloc(s->users.count + 1, 1)))
            return persona__fail_nomem();
        sc->purpose = persona__intern_find(&s->names, m->consent_purpose,
                                           strlen(m->consent_purpose));
    }
    if (m->category_prop) {
        uint32_t name = persona__intern_find(&s->names, m->category_prop, strlen(m->category_prop));
        sc->cat_col = name == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, name);
        if (!(sc->cat_used = persona__calloc(s->values.count + 1, 1)))
            return persona__fail_nomem();
    }
    if (!(sc->item_map = persona__realloc_array(NULL, s->items.count + 1, sizeof *sc->item_map)))
        return persona__fail_nomem();
    for (size_t i = 0; i <= s->items.count; i++)
        sc->item_map[i] = PERSONA__NO_ID;
    return PERSONA_OK;
}

static int consent_granted(scan *sc, const persona_store *s, uint32_t root)
{
    return !sc->consent || persona__consent_cached(s, sc->consent, sc->purpose, root);
}

/* The counted events as records; items and categories used are marked. */
static int collect(rec **out, size_t *n_out, scan *sc, const persona_affinity_matrix *m,
                   const persona_store *s)
{
    const persona__eventlog *l = &s->log;
    rec *r = NULL;
    size_t n = 0, cap = 0;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        if (!c->item || (m->by == PERSONA_AFFINITY_BY_BASKET && !c->basket))
            continue;
        for (size_t k = 0; k < len; k++) {
            uint32_t item = c->item[k];
            if (item == LOG_NO_ID || (sc->type_ok && !sc->type_ok[c->type[k]]))
                continue;
            uint32_t basket = c->basket ? c->basket[k] : LOG_NO_ID;
            if (m->by == PERSONA_AFFINITY_BY_BASKET && basket == LOG_NO_ID)
                continue;
            uint32_t root = persona__id_root(s, c->user[k]);
            if (!consent_granted(sc, s, root))
                continue;
            if (persona__grow((void **)&r, &cap, n + 1, sizeof *r, 1024)) {
                persona__free(r);
                return persona__fail_nomem();
            }
            r[n] = (rec){ root, m->by == PERSONA_AFFINITY_BY_BASKET ? basket : 0, c->time[k],
                          item, (uint32_t)(ci * LOG_CHUNK + k) };
            n++;
            sc->item_map[item] = 0;
            if (sc->cat_col >= 0 && c->props[sc->cat_col]) {
                uint32_t v = c->props[sc->cat_col][k];
                if (v != LOG_NO_ID)
                    sc->cat_used[v] = 1;
            }
        }
    }
    *out = r;
    *n_out = n;
    return PERSONA_OK;
}

/* Insert the marked strings of table t (flag per id) into dst in bytewise order; map, when
 * given, receives each id's new index. */
static int intern_sorted(persona__intern *dst, const persona__intern *t, const uint8_t *flag,
                         uint32_t *map)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        n += map ? map[i] != PERSONA__NO_ID : flag[i] != 0;
    const char **keys = persona__realloc_array(NULL, n ? n : 1, sizeof *keys);
    if (!keys)
        return persona__fail_nomem();
    n = 0;
    for (size_t i = 0; i < t->count; i++)
        if (map ? map[i] != PERSONA__NO_ID : flag[i] != 0)
            keys[n++] = persona__intern_str(t, (uint32_t)i);
    qsort(keys, n, sizeof *keys, persona__cmp_str);
    int rc = PERSONA_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (persona__intern_add(dst, keys[i], strlen(keys[i])) == PERSONA__NO_ID)
            rc = persona__fail_nomem();
    if (!rc && map)
        for (size_t i = 0; i < t->count; i++)
            if (map[i] != PERSONA__NO_ID)
                map[i] = persona__intern_find(dst, persona__intern_str(t, (uint32_t)i),
                                              persona__intern_len(t, (uint32_t)i));
    persona__free(keys);
    return rc;
}

/* Whether record i starts a new unit after record i - 1. */
static int new_unit(const persona_affinity_matrix *m, const rec *r, size_t i)
{
    if (i == 0 || r[i].user != r[i - 1].user)
        return 1;
    if (m->by == PERSONA_AFFINITY_BY_BASKET)
        return r[i].basket != r[i - 1].basket;
    if (m->by == PERSONA_AFFINITY_BY_SESSION)
        return r[i].time - r[i - 1].time > m->session_gap_ms;
    return 0;
}

/* The units from the sorted records (items already matrix indexes). */
static int make_units(persona_affinity_matrix *m, rec *r, size_t n, const persona_store *s)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++)
        units += new_unit(m, r, i);
    if (units > AFF_MAX_UNITS)
        return persona__fail(PERSONA_EINVAL, "%zu units: more than the limit", units);
    m->unit_start = persona__calloc(units + 1, sizeof *m->unit_start);
    m->unit_items = persona__realloc_array(NULL, n ? n : 1, sizeof *m->unit_items);
    m->unit_user = persona__realloc_array(NULL, units ? units : 1, sizeof *m->unit_user);
    if (!m->unit_start || !m->unit_items || !m->unit_user)
        return persona__fail_nomem();
    size_t u = 0, e = 0;
    uint32_t last_root = PERSONA__NO_ID, last_user = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !new_unit(m, r, j))
            j++;
        size_t from = e;
        for (size_t k = i; k < j; k++)
            m->unit_items[e++] = r[k].item;
        qsort(m->unit_items + from, e - from, sizeof *m->unit_items, persona__affinity_cmp_u32);
        size_t w = from;
        for (size_t k = from; k < e; k++)
            if (w == from || m->unit_items[w - 1] != m->unit_items[k])
                m->unit_items[w++] = m->unit_items[k];
        e = w;
        if (r[i].user != last_root) {
            const char *key = persona__intern_str(&s->users, r[i].user);
            last_user = persona__intern_add(&m->users, key, strlen(key));
            if (last_user == PERSONA__NO_ID)
                return persona__fail_nomem();
            last_root = r[i].user;
        }
        m->unit_user[u] = last_user;
        m->unit_start[++u] = e;
        i = j;
    }
    m->n_units = units;
    return PERSONA_OK;
}

static int build_locked(persona_affinity_matrix *m, const persona_store *s)
{
    scan sc;
    rec *r = NULL;
    size_t n = 0;
    int rc = scan_init(&sc, m, s);
    if (!rc)
        rc = collect(&r, &n, &sc, m, s);
    if (!rc)
        rc = intern_sorted(&m->items, &s->items, NULL, sc.item_map);
    if (!rc && m->category_prop)
        rc = intern_sorted(&m->categories, &s->values, sc.cat_used, NULL);
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            r[i].item = sc.item_map[r[i].item];
        if (n) /* r is NULL without records, and qsort's pointer must not be */
            qsort(r, n, sizeof *r,
                  m->by == PERSONA_AFFINITY_BY_SESSION ? cmp_rec_time : cmp_rec_basket);
        rc = make_units(m, r, n, s);
    }
    persona__free(r);
    scan_free(&sc);
    return rc;
}

PERSONA_API int persona_affinity_build(persona_affinity_matrix **out, const persona_store *store,
                                       const persona_affinity_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "store" : "out");
    persona_affinity_matrix *m = persona__affinity_alloc();
    if (!m)
        return persona__fail_nomem();
    int rc = set_options(m, opts, store);
    if (!rc) {
        STORE_RDLOCK(store);
        rc = build_locked(m, store);
        STORE_UNLOCK(store);
    }
    if (!rc)
        rc = persona__affinity_count(m);
    return persona__affinity_hand_over(out, m, rc);
}
