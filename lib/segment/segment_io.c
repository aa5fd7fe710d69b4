/* persona_segment_model_save / _load: a model in the snapshot container of lib/persist
 * (kind PERSONA__SNAP_KIND_SEGMENTS), one required section:
 *
 *   SEGMENTS  revision u32, mode i32, n u32, then per segment: kind u32 (0 rule, 1 list),
 *             string name, then for a rule its string source, for a list u64 n_keys and
 *             the keys as strings (sorted, distinct).
 *
 * The rules are kept as text and compiled again on load, so a file stays readable when
 * the bytecode changes; a rule that no longer compiles is ECORRUPT with the compiler's
 * message. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "persist/snapfile.h"
#include "persona/event.h"
#include "segment/rule_internal.h"

enum { SEC_SEGMENTS = 1 };
#define SEGMENTS_REVISION 1u

PERSONA_API int persona_segment_model_save(const persona_segment_model *m, const char *path)
{
    if (!m || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "path" : "model");
    persona__snap_writer *w;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_SEGMENTS);
    if (rc)
        return rc;
    persona__snap_begin(w, SEC_SEGMENTS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, SEGMENTS_REVISION);
    persona__snap_put_i32(w, m->mode);
    persona__snap_put_u32(w, (uint32_t)m->n_segs);
    for (size_t i = 0; i < m->n_segs; i++) {
        const segment *s = &m->segs[i];
        persona__snap_put_u32(w, s->kind);
        persona__snap_put_str(w, s->name);
        if (s->kind == SEG_RULE) {
            persona__snap_put_str(w, s->source);
        } else {
            persona__snap_put_u64(w, s->n_keys);
            for (size_t k = 0; k < s->n_keys; k++)
                persona__snap_put_str(w, s->keys[k]);
        }
    }
    persona__snap_end(w);
    return persona__snap_commit(w);
}

/* ECORRUPT carrying the message of the failure just recorded (copied first: the
 * message buffer is the one being written). */
static int corrupt_from_last(persona__snap_reader *r, const char *name)
{
    if (persona_errcode() == PERSONA_ENOMEM)
        return PERSONA_ENOMEM;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", persona_errmsg());
    return name ? persona__snap_corrupt(r, "segment '%.100s': %s", name, msg)
                : persona__snap_corrupt(r, "%s", msg);
}

static int load_segment(persona__snap_reader *r, persona_segment_model *m)
{
    uint32_t kind;
    char *name = NULL, *source = NULL;
    char **keys = NULL;
    uint64_t n_keys = 0;
    int rc = persona__snap_get_u32(r, &kind);
    if (!rc && kind != SEG_RULE && kind != SEG_LIST)
        rc = persona__snap_corrupt(r, "unknown segment kind %u", kind);
    if (!rc)
        rc = persona__snap_get_str(r, &name, PERSONA_SEGMENT_MAX_NAME, "segment name");
    if (!rc && !name)
        rc = persona__snap_corrupt(r, "segment without a name");
    if (!rc && kind == SEG_RULE) {
        rc = persona__snap_get_str(r, &source, PERSONA_RULE_MAX_TEXT, "rule");
        if (!rc && !source)
            rc = persona__snap_corrupt(r, "rule segment '%.100s' without its rule", name);
        if (!rc && persona__model_add_rule(m, name, source, strlen(source), 0))
            rc = corrupt_from_last(r, name);
    } else if (!rc) {
        rc = persona__snap_get_u64(r, &n_keys);
        if (!rc)
            rc = persona__snap_need(r, n_keys, 4, "list keys");
        if (!rc) {
            keys = persona__calloc(n_keys ? (size_t)n_keys : 1, sizeof *keys);
            if (!keys)
                rc = persona__fail_nomem();
        }
        for (uint64_t k = 0; !rc && k < n_keys; k++) {
            rc = persona__snap_get_str(r, &keys[k], PERSONA_MAX_KEY_LEN, "list key");
            if (!rc && (!keys[k] || !keys[k][0]))
                rc = persona__snap_corrupt(r, "list '%.100s': empty key", name);
            if (!rc && k && strcmp(keys[k - 1], keys[k]) >= 0)
                rc = persona__snap_corrupt(r, "list '%.100s': keys not sorted and distinct", name);
        }
        if (!rc && persona_segment_model_add_list(m, name, (const char *const *)keys, (size_t)n_keys))
            rc = corrupt_from_last(r, name);
        for (uint64_t k = 0; keys && k < n_keys; k++)
            persona__free(keys[k]);
        persona__free(keys);
    }
    persona__free(name);
    persona__free(source);
    return rc;
}

static int load(persona__snap_reader *r, const char *path, persona_segment_model **out);

PERSONA_API int persona_segment_model_load(persona_segment_model **out, const char *path)
{
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    *out = NULL;
    persona__snap_reader *r;
    int rc = persona__snap_open(&r, path, PERSONA__SNAP_KIND_SEGMENTS);
    return rc ? rc : load(r, path, out);
}

int persona__segment_model_load_memory(persona_segment_model **out, const void *data, size_t len)
{
    *out = NULL;
    persona__snap_reader *r;
    int rc = persona__snap_open_memory(&r, data, len, PERSONA__SNAP_KIND_SEGMENTS);
    return rc ? rc : load(r, "(memory)", out);
}

/* Decode the opened file; closes r. */
static int load(persona__snap_reader *r, const char *path, persona_segment_model **out)
{
    int rc;
    static const uint32_t known[] = { SEC_SEGMENTS };
    persona_segment_model *m = NULL;
    uint64_t len;
    rc = persona__snap_check_known(r, known, 1);
    if (!rc) {
        int found = persona__snap_section(r, SEC_SEGMENTS, "segments", &len);
        rc = found < 0 ? found : found == 0 ? persona__fail(PERSONA_ECORRUPT, "%s: no segments section", path) : 0;
    }
    uint32_t revision = 0, n = 0;
    int32_t mode = 0;
    if (!rc)
        rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision != SEGMENTS_REVISION)
        rc = persona__fail(PERSONA_EVERSION, "%s: segment model revision %u (this library reads %u)", path,
                           revision, SEGMENTS_REVISION);
    if (!rc)
        rc = persona__snap_get_i32(r, &mode);
    if (!rc)
        rc = persona__snap_get_u32(r, &n);
    if (!rc && (mode != PERSONA_SEGMENT_FIRST_MATCH && mode != PERSONA_SEGMENT_ALL_MATCHES))
        rc = persona__snap_corrupt(r, "unknown mode %d", (int)mode);
    if (!rc && (n == 0 || n > PERSONA_SEGMENT_MAX))
        rc = persona__snap_corrupt(r, "%u segments", n);
    if (!rc) {
        persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
        o.mode = mode;
        rc = persona_segment_model_new(&m, &o);
    }
    for (uint32_t i = 0; !rc && i < n; i++)
        rc = load_segment(r, m);
    if (!rc && persona__segments_resolve(m, 0))
        rc = corrupt_from_last(r, NULL);
    if (!rc)
        rc = persona__snap_section_end(r);
    persona__snap_close(r);
    if (rc) {
        persona_segment_model_free(m);
        return rc;
    }
    *out = m;
    return PERSONA_OK;
}
