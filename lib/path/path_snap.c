/* Saving and loading a path model: the snapshot container of lib/persist, kind
 * PERSONA__SNAP_KIND_PATHS (docs/file-format.md, "path model (kind 8)"):
 *
 *   OPTIONS  revision u32, order i32, session gap i64, session property str, state
 *            property str, consent str, n_rules u32, (pattern str, state str)[n_rules],
 *            skipped u64                                                     (required)
 *   KEYS     n_states u64, states str[n] (strictly ascending), n_users u64,
 *            users str[n] (distinct)                                         (required)
 *   SESSIONS n_sessions u64, entries u64, start u64[n_sessions + 1],
 *            states u32[entries], user u32[n_sessions], last u32[n_users]    (required)
 *
 * Only the sessions are saved: the Markov tables are derived again on load, so a loaded
 * model cannot hold counts that disagree with its sessions. Every field is checked as a
 * build would have made it. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "path/path_internal.h"
#include "persist/snapfile.h"
#include "persist/snaptable.h"
#include "persona/event.h"

enum { SEC_OPTIONS = 1, SEC_KEYS = 2, SEC_SESSIONS = 3 };
#define PATH_REVISION 1u

PERSONA_API int persona_path_save(const persona_path_model *m, const char *path)
{
    if (!m || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "path" : "model");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_PATHS);
    if (rc)
        return rc;
    const path_spec *sp = &m->spec;
    persona__snap_begin(w, SEC_OPTIONS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, PATH_REVISION);
    persona__snap_put_i32(w, sp->order);
    persona__snap_put_i64(w, sp->session_gap_ms);
    persona__snap_put_str(w, sp->session_prop);
    persona__snap_put_str(w, sp->state_prop);
    persona__snap_put_str(w, sp->consent);
    persona__snap_put_u32(w, (uint32_t)sp->n_rules);
    for (size_t i = 0; i < sp->n_rules; i++) {
        persona__snap_put_str(w, sp->pattern[i]);
        persona__snap_put_str(w, sp->target[i]);
    }
    persona__snap_put_u64(w, m->skipped);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_KEYS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_table(w, &m->states);
    persona__snap_put_table(w, &m->users);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_SESSIONS, PERSONA__SNAP_REQUIRED);
    uint64_t entries = m->sess_start[m->n_sessions];
    persona__snap_put_u64(w, m->n_sessions);
    persona__snap_put_u64(w, entries);
    persona__snap_put_u64s(w, m->sess_start, m->n_sessions + 1);
    persona__snap_put_u32s(w, m->sess_states, entries);
    persona__snap_put_u32s(w, m->sess_user, m->n_sessions);
    persona__snap_put_u32s(w, m->user_last, m->users.count);
    persona__snap_end(w);
    return persona__snap_commit(w);
}

/* ---- loading ---- */

static int load_rules(persona__snap_reader *r, path_spec *sp)
{
    uint32_t n = 0;
    int rc = persona__snap_get_u32(r, &n);
    if (!rc && n > PATH_MAX_RULES)
        rc = persona__snap_corrupt(r, "%u grouping rules", n);
    if (!rc)
        rc = persona__snap_need(r, n, 8, "grouping rules");
    if (!rc && n) {
        sp->pattern = persona__calloc(n, sizeof *sp->pattern);
        sp->target = persona__calloc(n, sizeof *sp->target);
        if (!sp->pattern || !sp->target)
            rc = persona__fail_nomem();
    }
    for (uint32_t i = 0; !rc && i < n; i++) {
        sp->n_rules = i + 1;
        rc = persona__snap_get_str(r, &sp->pattern[i], PERSONA_MAX_KEY_LEN, "rule pattern");
        if (!rc)
            rc = persona__snap_get_str(r, &sp->target[i], PERSONA_MAX_KEY_LEN, "rule state");
        if (!rc && (!sp->pattern[i] || !*sp->pattern[i] || (sp->target[i] && !*sp->target[i])))
            rc = persona__snap_corrupt(r, "grouping rule %u is empty", i);
    }
    return rc;
}

static int load_options(persona__snap_reader *r, persona_path_model *m)
{
    path_spec *sp = &m->spec;
    uint32_t revision = 0;
    int rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision > PATH_REVISION)
        return persona__fail(PERSONA_EVERSION, "path sections of revision %u are newer than "
                                               "this library (%u)", revision, PATH_REVISION);
    if (!rc && revision == 0)
        rc = persona__snap_corrupt(r, "revision 0");
    if (!rc)
        rc = persona__snap_get_i32(r, &sp->order);
    if (!rc)
        rc = persona__snap_get_i64(r, &sp->session_gap_ms);
    if (!rc)
        rc = persona__snap_get_str(r, &sp->session_prop, PERSONA_MAX_KEY_LEN, "session property");
    if (!rc)
        rc = persona__snap_get_str(r, &sp->state_prop, PERSONA_MAX_KEY_LEN, "state property");
    if (!rc)
        rc = persona__snap_get_str(r, &sp->consent, PERSONA_MAX_KEY_LEN, "consent purpose");
    if (!rc && (sp->order < 1 || sp->order > PERSONA_PATH_MAX_ORDER || sp->session_gap_ms < 0 ||
                (sp->session_prop != NULL) != (sp->session_gap_ms == 0)))
        rc = persona__snap_corrupt(r, "order %d, session gap %lld", sp->order,
                                   (long long)sp->session_gap_ms);
    if (!rc)
        rc = load_rules(r, sp);
    if (!rc)
        rc = persona__snap_get_u64(r, &m->skipped);
    return rc ? rc : persona__snap_section_end(r);
}

static int check_sessions(persona__snap_reader *r, persona_path_model *m, uint64_t entries)
{
    uint64_t n = m->n_sessions;
    if (m->sess_start[0] != 0 || m->sess_start[n] != entries)
        return persona__snap_corrupt(r, "session offsets do not cover the states");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t a = m->sess_start[i], b = m->sess_start[i + 1];
        if (b <= a || b > entries || m->sess_user[i] >= m->users.count)
            return persona__snap_corrupt(r, "session %llu is empty, out of range or has no user",
                                         (unsigned long long)i);
    }
    for (uint64_t e = 0; e < entries; e++) {
        uint32_t s = m->sess_states[e];
        if (s >= m->states.count || s == m->start_id || s == m->end_id)
            return persona__snap_corrupt(r, "state %u of entry %llu is out of range", s,
                                         (unsigned long long)e);
    }
    for (size_t u = 0; u < m->users.count; u++) {
        uint32_t last = m->user_last[u];
        if (last >= n || m->sess_user[last] != u)
            return persona__snap_corrupt(r, "user %zu: latest session %u is not theirs", u, last);
    }
    return PERSONA_OK;
}

static int load_sessions(persona__snap_reader *r, persona_path_model *m)
{
    uint64_t n = 0, entries = 0;
    int rc = persona__snap_get_u64(r, &n);
    if (!rc)
        rc = persona__snap_get_u64(r, &entries);
    if (!rc && (n > entries || entries >= UINT32_MAX || (n == 0) != (m->users.count == 0)))
        rc = persona__snap_corrupt(r, "%llu sessions of %llu states", (unsigned long long)n,
                                   (unsigned long long)entries);
    if (!rc)
        rc = persona__snap_need(r, entries, 4, "session states");
    if (!rc && persona__snap_left(r) - entries * 4 < (n + 1) * 8 + n * 4 + m->users.count * 4)
        rc = persona__snap_corrupt(r, "%llu sessions do not fit the section",
                                   (unsigned long long)n);
    if (rc)
        return rc;
    m->sess_start = persona__realloc_array(NULL, n + 1, sizeof *m->sess_start);
    m->sess_states = persona__realloc_array(NULL, entries + 1, sizeof *m->sess_states);
    m->sess_user = persona__realloc_array(NULL, n + 1, sizeof *m->sess_user);
    m->user_last = persona__realloc_array(NULL, m->users.count + 1, sizeof *m->user_last);
    if (!m->sess_start || !m->sess_states || !m->sess_user || !m->user_last)
        return persona__fail_nomem();
    m->sess_start[0] = 0;
    rc = persona__snap_get_u64s(r, m->sess_start, n + 1);
    if (!rc)
        rc = persona__snap_get_u32s(r, m->sess_states, entries);
    if (!rc)
        rc = persona__snap_get_u32s(r, m->sess_user, n);
    if (!rc)
        rc = persona__snap_get_u32s(r, m->user_last, m->users.count);
    if (!rc) {
        m->n_sessions = n;
        rc = check_sessions(r, m, entries);
        if (rc)
            m->n_sessions = 0;
    }
    return rc ? rc : persona__snap_section_end(r);
}

static int load_keys(persona__snap_reader *r, persona_path_model *m)
{
    int rc = persona__snap_get_table(r, &m->states, 1, "state");
    if (!rc)
        rc = persona__snap_get_table(r, &m->users, 0, "user");
    if (!rc) {
        persona__path_special_ids(m);
        if (m->start_id == PERSONA__NO_ID || m->end_id == PERSONA__NO_ID)
            rc = persona__snap_corrupt(r, "the states lack \"(start)\" or \"(end)\"");
    }
    return rc ? rc : persona__snap_section_end(r);
}

static const uint32_t known_sections[] = { SEC_OPTIONS, SEC_KEYS, SEC_SESSIONS };

static int load_reader(void *dst, persona__snap_reader *r, const char *path)
{
    persona_path_model **out = dst;
    int rc = PERSONA_OK;
    persona_path_model *m = persona__path_alloc();
    if (!m)
        return persona__fail_nomem();
    if (!(rc = persona__snap_require(r, SEC_OPTIONS, "options", path)))
        rc = load_options(r, m);
    if (!rc && !(rc = persona__snap_require(r, SEC_KEYS, "keys", path)))
        rc = load_keys(r, m);
    if (!rc && !(rc = persona__snap_require(r, SEC_SESSIONS, "sessions", path)))
        rc = load_sessions(r, m);
    if (!rc)
        rc = persona__path_derive(m);
    return persona__path_hand_over(out, m, rc);
}

PERSONA_API int persona_path_load(persona_path_model **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    return persona__snap_load(out, path, NULL, 0, PERSONA__SNAP_KIND_PATHS, known_sections, 3,
                             load_reader);
}

int persona__path_load_memory(persona_path_model **out, const void *data, size_t len)
{
    *out = NULL;
    return persona__snap_load(out, "(memory)", data, len, PERSONA__SNAP_KIND_PATHS,
                             known_sections, 3, load_reader);
}
