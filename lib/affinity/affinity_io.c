/* Saving and loading an affinity matrix: the snapshot container of lib/persist, kind
 * PERSONA__SNAP_KIND_AFFINITY (docs/file-format.md, "affinity matrix (kind 7)"):
 *
 *   OPTIONS  revision u32, by i32, category_source i32, session_gap i64, consent str,
 *            category property str, n_types u32, types str[n]                 (required)
 *   KEYS     n_items u64, items str[n] (strictly ascending), n_categories u64,
 *            categories str[n] (strictly ascending), n_users u64, users str[n] (distinct)
 *                                                                           (required)
 *   UNITS    n_units u64, entries u64, start u64[n_units + 1], items u32[entries],
 *            user u32[n_units]                                               (required)
 *
 * Only the units are saved: counts and pair lists are derived again on load, so a loaded
 * matrix cannot hold counts that disagree with its units. Every field is checked as a
 * build would have made it (units non-empty, items strictly ascending and in range,
 * every item in some unit, keys sorted and distinct). */
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "persist/snapfile.h"
#include "persist/snaptable.h"
#include "persona/event.h"

enum { SEC_OPTIONS = 1, SEC_KEYS = 2, SEC_UNITS = 3 };
#define AFF_REVISION 1u
#define AFF_MAX_TYPES 4096u

PERSONA_API int persona_affinity_save(const persona_affinity_matrix *m, const char *path)
{
    if (!m || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "path" : "matrix");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_AFFINITY);
    if (rc)
        return rc;
    persona__snap_begin(w, SEC_OPTIONS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, AFF_REVISION);
    persona__snap_put_i32(w, m->by);
    persona__snap_put_i32(w, m->category_source);
    persona__snap_put_i64(w, m->session_gap_ms);
    persona__snap_put_str(w, m->consent_purpose);
    persona__snap_put_str(w, m->category_prop);
    persona__snap_put_u32(w, (uint32_t)m->n_event_types);
    for (size_t i = 0; i < m->n_event_types; i++)
        persona__snap_put_str(w, m->event_types[i]);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_KEYS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_table(w, &m->items);
    persona__snap_put_table(w, &m->categories);
    persona__snap_put_table(w, &m->users);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_UNITS, PERSONA__SNAP_REQUIRED);
    uint64_t entries = m->unit_start[m->n_units];
    persona__snap_put_u64(w, m->n_units);
    persona__snap_put_u64(w, entries);
    persona__snap_put_u64s(w, m->unit_start, m->n_units + 1);
    persona__snap_put_u32s(w, m->unit_items, entries);
    persona__snap_put_u32s(w, m->unit_user, m->n_units);
    persona__snap_end(w);
    return persona__snap_commit(w);
}

/* ---- loading ---- */

static int load_options(persona__snap_reader *r, persona_affinity_matrix *m)
{
    uint32_t revision = 0, n_types = 0;
    int rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision > AFF_REVISION)
        return persona__fail(PERSONA_EVERSION, "affinity sections of revision %u are newer "
                                               "than this library (%u)", revision, AFF_REVISION);
    if (!rc && revision == 0)
        rc = persona__snap_corrupt(r, "revision 0");
    if (!rc)
        rc = persona__snap_get_i32(r, &m->by);
    if (!rc)
        rc = persona__snap_get_i32(r, &m->category_source);
    if (!rc)
        rc = persona__snap_get_i64(r, &m->session_gap_ms);
    if (!rc && (m->by < 0 || m->by > PERSONA_AFFINITY_BY_USER || m->category_source < 0 ||
                m->category_source > PERSONA_AFFINITY_CATEGORY_ITEM ||
                (m->by == PERSONA_AFFINITY_BY_SESSION) != (m->session_gap_ms > 0) ||
                m->session_gap_ms < 0))
        rc = persona__snap_corrupt(r, "by %d, category source %d, session gap %lld", m->by,
                                   m->category_source, (long long)m->session_gap_ms);
    if (!rc)
        rc = persona__snap_get_str(r, &m->consent_purpose, PERSONA_MAX_KEY_LEN, "consent purpose");
    if (!rc)
        rc = persona__snap_get_str(r, &m->category_prop, PERSONA_MAX_KEY_LEN, "category property");
    if (!rc && (m->category_source == PERSONA_AFFINITY_CATEGORY_PROP) != (m->category_prop != NULL))
        rc = persona__snap_corrupt(r, "category property does not match the category source");
    if (!rc)
        rc = persona__snap_get_u32(r, &n_types);
    if (!rc && n_types > AFF_MAX_TYPES)
        rc = persona__snap_corrupt(r, "%u event types", n_types);
    if (!rc)
        rc = persona__snap_need(r, n_types, 4, "event types");
    if (!rc && n_types && !(m->event_types = persona__calloc(n_types, sizeof *m->event_types)))
        rc = persona__fail_nomem();
    for (uint32_t i = 0; !rc && i < n_types; i++) {
        rc = persona__snap_get_str(r, &m->event_types[i], PERSONA_MAX_KEY_LEN, "event type");
        if (!rc)
            m->n_event_types = i + 1;
        if (!rc && (!m->event_types[i] || !*m->event_types[i] ||
                    (i && strcmp(m->event_types[i - 1], m->event_types[i]) >= 0)))
            rc = persona__snap_corrupt(r, "event type %u is empty or out of order", i);
    }
    return rc ? rc : persona__snap_section_end(r);
}

static int load_units(persona__snap_reader *r, persona_affinity_matrix *m)
{
    uint64_t units = 0, entries = 0;
    int rc = persona__snap_get_u64(r, &units);
    if (!rc)
        rc = persona__snap_get_u64(r, &entries);
    if (!rc && (units > AFF_MAX_UNITS || entries < units ||
                (m->items.count == 0) != (units == 0) || (units == 0) != (m->users.count == 0)))
        rc = persona__snap_corrupt(r, "%llu units of %llu entries", (unsigned long long)units,
                                   (unsigned long long)entries);
    if (!rc)
        rc = persona__snap_need(r, entries, 4, "unit entries");
    /* offsets, entries and users must all be in the section before they are allocated */
    if (!rc && persona__snap_left(r) - entries * 4 < (units + 1) * 8 + units * 4)
        rc = persona__snap_corrupt(r, "%llu units do not fit the section",
                                   (unsigned long long)units);
    if (rc)
        return rc;
    m->unit_start = persona__realloc_array(NULL, units + 1, sizeof *m->unit_start);
    m->unit_items = persona__realloc_array(NULL, entries ? entries : 1, sizeof *m->unit_items);
    m->unit_user = persona__realloc_array(NULL, units ? units : 1, sizeof *m->unit_user);
    uint8_t *used = persona__calloc(m->items.count + 1, 1);
    if (!m->unit_start || !m->unit_items || !m->unit_user || !used) {
        persona__free(used);
        return persona__fail_nomem();
    }
    rc = persona__snap_get_u64s(r, m->unit_start, units + 1);
    if (!rc)
        rc = persona__snap_get_u32s(r, m->unit_items, entries);
    if (!rc)
        rc = persona__snap_get_u32s(r, m->unit_user, units);
    if (!rc && (m->unit_start[0] != 0 || m->unit_start[units] != entries))
        rc = persona__snap_corrupt(r, "unit offsets do not cover the entries");
    for (uint64_t u = 0; !rc && u < units; u++) {
        uint64_t a = m->unit_start[u], b = m->unit_start[u + 1];
        if (b <= a || b > entries || m->unit_user[u] >= m->users.count) {
            rc = persona__snap_corrupt(r, "unit %llu is empty, out of range or has no user",
                                       (unsigned long long)u);
            break;
        }
        for (uint64_t e = a; e < b; e++) {
            uint32_t it = m->unit_items[e];
            if (it >= m->items.count || (e > a && m->unit_items[e - 1] >= it)) {
                rc = persona__snap_corrupt(r, "unit %llu: items out of order or range",
                                           (unsigned long long)u);
                break;
            }
            used[it] = 1;
        }
    }
    for (size_t i = 0; !rc && i < m->items.count; i++)
        if (!used[i])
            rc = persona__snap_corrupt(r, "item %zu is in no unit", i);
    persona__free(used);
    if (!rc)
        m->n_units = units;
    return rc ? rc : persona__snap_section_end(r);
}

static const uint32_t known_sections[] = { SEC_OPTIONS, SEC_KEYS, SEC_UNITS };

static int load_reader(void *dst, persona__snap_reader *r, const char *path)
{
    persona_affinity_matrix **out = dst;
    int rc = PERSONA_OK;
    persona_affinity_matrix *m = persona__affinity_alloc();
    if (!m)
        return persona__fail_nomem();
    if (!(rc = persona__snap_require(r, SEC_OPTIONS, "options", path)))
        rc = load_options(r, m);
    if (!rc && !(rc = persona__snap_require(r, SEC_KEYS, "keys", path))) {
        rc = persona__snap_get_table(r, &m->items, 1, "item");
        if (!rc)
            rc = persona__snap_get_table(r, &m->categories, 1, "category");
        if (!rc && m->category_source == PERSONA_AFFINITY_CATEGORY_ITEM && m->categories.count)
            rc = persona__snap_corrupt(r, "categories with the item as category");
        if (!rc)
            rc = persona__snap_get_table(r, &m->users, 0, "user");
        if (!rc)
            rc = persona__snap_section_end(r);
    }
    if (!rc && !(rc = persona__snap_require(r, SEC_UNITS, "units", path)))
        rc = load_units(r, m);
    if (!rc)
        rc = persona__affinity_count(m);
    return persona__affinity_hand_over(out, m, rc);
}

PERSONA_API int persona_affinity_load(persona_affinity_matrix **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    return persona__snap_load(out, path, NULL, 0, PERSONA__SNAP_KIND_AFFINITY, known_sections, 3,
                             load_reader);
}

int persona__affinity_load_memory(persona_affinity_matrix **out, const void *data, size_t len)
{
    *out = NULL;
    return persona__snap_load(out, "(memory)", data, len, PERSONA__SNAP_KIND_AFFINITY,
                             known_sections, 3, load_reader);
}
