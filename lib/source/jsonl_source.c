/* The JSON Lines source: a jsonl_reader plus a compiled mapping. Mapped names are
 * top-level members; when a member appears twice the last one counts. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "fields.h"
#include "jsonl_reader.h"
#include "mapping.h"
#include "source_internal.h"
#include "store/store_internal.h"

enum { S_USER, S_EVENT, S_ITEM, S_BASKET, S_ID, S_COUNT };

typedef struct jsonl_ctx {
    persona__source_state state;
    persona__jsonl_reader *reader;
    char *data;
    persona__mapping map;
    size_t *prop_offs;
    const char **prop_vals;
    persona__strings strings;
    size_t cap; /* events of a batch */
    /* in the ctx's own allocation, after it: */
    persona_event *events;
    uint64_t *lines;
    size_t (*offs)[S_COUNT];
    int *const_event;
} jsonl_ctx;

static const persona__json_member *member(const persona__json_member *m, size_t n,
                                          const char *name)
{
    if (!name)
        return NULL;
    size_t len = strlen(name);
    for (size_t i = n; i-- > 0;)
        if (m[i].key_len == len && memcmp(m[i].key, name, len) == 0)
            return &m[i];
    return NULL;
}

static int bad_row(jsonl_ctx *c, int reason, uint64_t line, const char *what)
{
    if (c->state.strict) {
        persona__source_strict_failure(&c->state, reason, line, what);
        return -1;
    }
    persona__stats_reject(&c->state.rejects, reason, line);
    return 0;
}

static int is_null(const persona__json_member *m)
{
    return !m || m->type == PERSONA__JSON_NULL;
}

/* Keys may be strings or numbers (used as written). 0 ok, -1 wrong type. */
static int text_member(jsonl_ctx *c, const persona__json_member *m, size_t *off, int keep_empty)
{
    *off = 0;
    if (is_null(m))
        return keep_empty ? (*off = persona__strings_add(&c->strings, "", 0)) ? 0 : -2 : 0;
    if (m->type != PERSONA__JSON_STRING && m->type != PERSONA__JSON_NUMBER)
        return -1;
    if (m->val_len == 0 && !keep_empty)
        return 0;
    *off = persona__strings_add(&c->strings, m->val, m->val_len);
    return *off ? 0 : -2;
}

/* Numbers: 0 ok, -1 not a number, -2 a member of a type that cannot be one. */
static int number_member(const persona__json_member *m, double *out)
{
    if (is_null(m) || (m->type == PERSONA__JSON_STRING && m->val_len == 0)) {
        *out = NAN;
        return 0;
    }
    if (m->type != PERSONA__JSON_NUMBER && m->type != PERSONA__JSON_STRING)
        return -2;
    return persona__parse_number(m->val, m->val_len, out) ? -1 : 0;
}

/* A JSON number with an exponent (1.6e9) is read as a number, then as unix seconds or
 * milliseconds the way the time format says (auto: by magnitude, as for integers). */
static int exponent_time(const jsonl_ctx *c, const persona__json_member *m, int64_t *out,
                         const char **why)
{
    double v;
    int kind = c->map.time_format.kind;
    *why = "is not a time";
    if (persona__parse_number(m->val, m->val_len, &v) != 0 ||
        (kind != PERSONA__TIME_AUTO && kind != PERSONA__TIME_UNIX_S && kind != PERSONA__TIME_UNIX_MS))
        return -1;
    int ms = kind == PERSONA__TIME_UNIX_MS || (kind == PERSONA__TIME_AUTO && fabs(v) >= 1e11);
    double t = floor(ms ? v : v * 1000.0);
    if (!(t >= (double)PERSONA_TIME_MIN && t <= (double)PERSONA_TIME_MAX)) {
        *why = "is out of range";
        return -1;
    }
    *out = (int64_t)t;
    return 0;
}

/* Times: 0 ok, -1 not a time, -2 a member of a type that cannot be one. */
static int time_member(jsonl_ctx *c, const persona__json_member *m, int64_t *out,
                       const char **why)
{
    if (is_null(m)) {
        *why = "is missing";
        return -1;
    }
    if (m->type != PERSONA__JSON_STRING && m->type != PERSONA__JSON_NUMBER) {
        *why = "is neither a string nor a number";
        return -2;
    }
    if (m->type == PERSONA__JSON_NUMBER && memchr(m->val, 'e', m->val_len) == NULL &&
        memchr(m->val, 'E', m->val_len) == NULL)
        return persona__mapping_time(&c->map, m->val, m->val_len, out, why);
    if (m->type == PERSONA__JSON_NUMBER)
        return exponent_time(c, m, out, why);
    return persona__mapping_time(&c->map, m->val, m->val_len, out, why);
}

static int convert(jsonl_ctx *c, size_t n, const persona__json_member *m, size_t nm,
                   uint64_t line)
{
    char what[200];
    persona_event *ev = &c->events[n];
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    const char *why;
    int trc = time_member(c, member(m, nm, c->map.names[MAP_TIME]), &ev->time_ms, &why);
    if (trc) {
        snprintf(what, sizeof what, "time %s", why);
        return bad_row(c, trc == -2 ? PERSONA_REJECT_WRONG_TYPE : PERSONA_REJECT_BAD_TIME, line,
                       what);
    }
    double a = NAN, b = NAN;
    int va = number_member(member(m, nm, c->map.names[MAP_VALUE_A]), &a);
    int vb = va ? 0 : number_member(member(m, nm, c->map.names[MAP_VALUE_B]), &b);
    if (va == -2 || vb == -2)
        return bad_row(c, PERSONA_REJECT_WRONG_TYPE, line, "value is neither a string nor a number");
    if (va || vb)
        return bad_row(c, PERSONA_REJECT_BAD_NUMBER, line, "value is not a number");
    ev->value = c->map.names[MAP_VALUE_B] ? a * b : a;
    if (isinf(ev->value))
        return bad_row(c, PERSONA_REJECT_BAD_NUMBER, line, "value is not finite");
    static const int map_of[S_COUNT] = { MAP_USER, MAP_EVENT, MAP_ITEM, MAP_BASKET, MAP_ID };
    size_t *off = c->offs[n];
    const persona__json_member *evm = member(m, nm, c->map.names[MAP_EVENT]);
    /* A default event member that is absent or null means the constant; a named one must
     * be there. */
    c->const_event[n] = c->map.names[MAP_EVENT] == NULL || (is_null(evm) && c->map.optional[MAP_EVENT]);
    for (int k = 0; k < S_COUNT; k++) {
        if (k == S_EVENT && c->const_event[n]) {
            off[k] = 0;
            continue;
        }
        int rc = text_member(c, member(m, nm, c->map.names[map_of[k]]), &off[k],
                             k == S_USER || k == S_EVENT);
        if (rc == -2)
            return persona__fail_nomem();
        if (rc == -1) {
            snprintf(what, sizeof what, "member '%.80s' is not a string or number",
                     c->map.names[map_of[k]]);
            return bad_row(c, PERSONA_REJECT_WRONG_TYPE, line, what);
        }
    }
    for (size_t p = 0; p < c->map.n_props; p++) {
        int rc = text_member(c, member(m, nm, c->map.prop_cols[p]),
                             &c->prop_offs[n * c->map.n_props + p], 0);
        if (rc == -2)
            return persona__fail_nomem();
        if (rc == -1)
            return bad_row(c, PERSONA_REJECT_WRONG_TYPE, line, "a property is not a string or number");
    }
    c->lines[n] = line;
    return 1;
}

static void finalize(jsonl_ctx *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        persona_event *ev = &c->events[i];
        const size_t *off = c->offs[i];
        ev->user = persona__strings_ptr(&c->strings, off[S_USER]);
        ev->type = c->const_event[i] ? c->map.event_const
                                     : persona__strings_ptr(&c->strings, off[S_EVENT]);
        ev->item = persona__strings_ptr(&c->strings, off[S_ITEM]);
        ev->basket = persona__strings_ptr(&c->strings, off[S_BASKET]);
        ev->event_id = persona__strings_ptr(&c->strings, off[S_ID]);
        if (c->map.n_props) {
            const char **vals = c->prop_vals + i * c->map.n_props;
            for (size_t p = 0; p < c->map.n_props; p++)
                vals[p] = persona__strings_ptr(&c->strings, c->prop_offs[i * c->map.n_props + p]);
            ev->prop_names = (const char *const *)c->map.prop_names;
            ev->prop_values = vals;
            ev->n_props = c->map.n_props;
        }
    }
}

static int jsonl_next(void *vctx, const persona_event **events_out, size_t *count_out)
{
    jsonl_ctx *c = vctx;
    if (c->state.failed_strict)
        return persona__source_strict_error(&c->state);
    c->strings.len = 0;
    size_t n = 0;
    while (n < c->cap && !c->state.failed_strict) {
        const persona__json_member *m;
        size_t nm;
        uint64_t line;
        int reject;
        int rc = persona__jsonl_reader_next(c->reader, &m, &nm, &line, &reject);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        c->state.rows++;
        if (reject >= 0) {
            bad_row(c, reject, line, "the line is not one JSON object");
            continue;
        }
        rc = convert(c, n, m, nm, line);
        if (rc < 0 && !c->state.failed_strict)
            return rc;
        if (rc > 0)
            n += (size_t)rc;
    }
    finalize(c, n);
    c->state.bytes = persona__jsonl_reader_bytes(c->reader);
    *events_out = c->events;
    *count_out = n;
    return 0;
}

static int jsonl_rewind(void *vctx)
{
    jsonl_ctx *c = vctx;
    int rc = persona__jsonl_reader_rewind(c->reader);
    if (rc == 0) {
        c->state.rows = c->state.bytes = 0;
        c->state.failed_strict = 0;
        memset(&c->state.rejects, 0, sizeof c->state.rejects);
    }
    return rc;
}

static int jsonl_close(void *vctx)
{
    jsonl_ctx *c = vctx;
    persona__jsonl_reader_free(c->reader);
    persona__mapping_free(&c->map);
    persona__strings_free(&c->strings);
    persona__free(c->prop_offs);
    persona__free(c->prop_vals);
    persona__free(c->data);
    persona__free(c);
    return 0;
}

static const persona_source_vtable jsonl_vtable = { sizeof jsonl_vtable, 0, jsonl_next,
                                                    jsonl_rewind, NULL, jsonl_close };

static int open_common(persona_source **out, jsonl_ctx *c, const persona_mapping *map)
{
    c->state.lines = c->lines;
    int rc = persona__mapping_compile(&c->map, map);
    if (rc == PERSONA_OK && c->map.n_props) {
        size_t np = c->map.n_props;
        c->prop_offs = persona__calloc(np * c->cap, sizeof *c->prop_offs);
        c->prop_vals = persona__calloc(np * c->cap, sizeof *c->prop_vals);
        if (!c->prop_offs || !c->prop_vals)
            rc = persona__fail_nomem();
    }
    if (rc) {
        jsonl_close(c);
        return rc;
    }
    return persona__source_wrap(out, &jsonl_vtable, c, &c->state);
}

#define JSONL_MAX_LINE ((size_t)1 << 20)

/* Both constructors: a file (path) or a private copy of caller memory (data, len). */
static int open_jsonl(persona_source **out, const char *path, const char *data, size_t len,
                      const persona_mapping *map)
{
    const size_t cap = persona__source_batch_cap(path ? SIZE_MAX : len);
    const size_t per_event =
        sizeof(persona_event) + sizeof(uint64_t) + sizeof(size_t[S_COUNT]) + sizeof(int);
    jsonl_ctx *c = persona__alloc(sizeof *c + cap * per_event);
    if (!c)
        return persona__fail_nomem();
    memset(c, 0, sizeof *c);
    c->cap = cap;
    c->events = (persona_event *)(c + 1);
    c->lines = (uint64_t *)(c->events + cap);
    c->offs = (size_t(*)[S_COUNT])(c->lines + cap);
    c->const_event = (int *)(c->offs + cap);
    int rc;
    if (path)
        rc = persona__jsonl_reader_open_file(&c->reader, path, JSONL_MAX_LINE);
    else if ((c->data = persona__input_copy(data, len)) == NULL)
        rc = persona__fail_nomem();
    else
        rc = persona__jsonl_reader_open_memory(&c->reader, c->data, len, JSONL_MAX_LINE);
    if (rc) {
        jsonl_close(c);
        return rc;
    }
    return open_common(out, c, map);
}

PERSONA_API int persona_source_open_jsonl(persona_source **out, const char *path,
                                          const persona_mapping *map)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    return open_jsonl(out, path, NULL, 0, map);
}

PERSONA_API int persona_source_open_jsonl_memory(persona_source **out, const char *data,
                                                 size_t len, const persona_mapping *map)
{
    if (out)
        *out = NULL;
    if (!out || (!data && len))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "data" : "out");
    return open_jsonl(out, NULL, data, len, map);
}
