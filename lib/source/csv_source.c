/* The CSV source: a csv_reader plus a compiled mapping, producing batches of events.
 * Rows that cannot become events are counted by reason here (field count, quoting, time,
 * number); the store checks the rest (empty user, UTF-8, length, duplicates). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "csv_reader.h"
#include "fields.h"
#include "mapping.h"
#include "source_internal.h"
#include "store/store_internal.h"

enum { S_USER, S_EVENT, S_ITEM, S_BASKET, S_ID, S_COUNT };

typedef struct csv_ctx {
    persona__source_state state;
    persona__csv_reader *reader;
    char *data; /* our copy of an in-memory input */
    persona__mapping map;
    size_t n_header;
    long col[MAP_FIXED]; /* column of each mapped field, -1 = none */
    long *prop_col;
    persona_event events[SOURCE_BATCH];
    uint64_t lines[SOURCE_BATCH];
    size_t offs[SOURCE_BATCH][S_COUNT]; /* string offsets + 1 in strings, 0 = absent */
    size_t *prop_offs;                  /* SOURCE_BATCH x n_props */
    const char **prop_vals;             /* SOURCE_BATCH x n_props */
    persona__strings strings;
} csv_ctx;

static const char *const field_labels[MAP_FIXED] = { "user", "time", "event", "item",
                                                     "basket", "event id", "value", "value" };

static int header_error(int reason)
{
    return persona__fail_at(PERSONA_EPARSE, 1, 0, "header: the first row is not valid CSV (%s)",
                            persona_reject_reason_name(reason));
}

static long find_column(const persona__csv_field *h, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (h[i].len == len && memcmp(h[i].ptr, name, len) == 0)
            return (long)i;
    return -1;
}

static int missing_column(const persona__csv_field *h, size_t n, const char *label,
                          const char *name)
{
    char list[300];
    size_t used = 0;
    for (size_t i = 0; i < n && used + 4 < sizeof list; i++) {
        size_t room = sizeof list - used - 4;
        size_t take = h[i].len < room ? h[i].len : room;
        if (i) {
            memcpy(list + used, ", ", 2);
            used += 2;
        }
        memcpy(list + used, h[i].ptr, take);
        used += take;
    }
    list[used] = '\0';
    if (!persona__utf8_valid(list, used, &used))
        list[used] = '\0';
    return persona__fail(PERSONA_EINVAL, "%s column '%.200s' is not in the header (columns: %s)",
                         label, name, list);
}

static int read_header(csv_ctx *c)
{
    const persona__csv_field *h;
    size_t n;
    uint64_t line;
    int reject;
    int rc = persona__csv_reader_next(c->reader, &h, &n, &line, &reject);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return persona__fail_at(PERSONA_EPARSE, 1, 0, "header: the input is empty (no header row)");
    if (reject >= 0)
        return header_error(reject);
    for (size_t i = 0; i < n; i++)
        if (!persona__utf8_valid(h[i].ptr, h[i].len, NULL))
            return persona__fail_at(PERSONA_EPARSE, 1, 0, "header: column %zu is not valid UTF-8",
                                    i + 1);
    c->n_header = n;
    for (int k = 0; k < MAP_FIXED; k++) {
        c->col[k] = -1;
        if (!c->map.names[k])
            continue;
        c->col[k] = find_column(h, n, c->map.names[k]);
        if (c->col[k] < 0 && !c->map.optional[k])
            return missing_column(h, n, field_labels[k], c->map.names[k]);
    }
    if (c->map.names[MAP_VALUE_B] && (c->col[MAP_VALUE_A] < 0) != (c->col[MAP_VALUE_B] < 0))
        return missing_column(h, n, "value", c->map.names[MAP_VALUE_A]);
    for (size_t p = 0; p < c->map.n_props; p++) {
        c->prop_col[p] = find_column(h, n, c->map.prop_cols[p]);
        if (c->prop_col[p] < 0)
            return missing_column(h, n, c->map.prop_names[p], c->map.prop_cols[p]);
    }
    return PERSONA_OK;
}

/* A bad row: counted, or in strict mode the error that stops the load. */
static int bad_row(csv_ctx *c, int reason, uint64_t line, const char *what)
{
    if (c->state.strict) {
        persona__source_strict_failure(&c->state, reason, line, what);
        return -1;
    }
    persona__stats_reject(&c->state.rejects, reason, line);
    return 0;
}

static int parse_value(csv_ctx *c, const persona__csv_field *f, double *out)
{
    const persona__csv_field *a = &f[c->col[MAP_VALUE_A]];
    double va, vb;
    if (a->len == 0) {
        *out = NAN;
        return 0;
    }
    if (persona__parse_number(a->ptr, a->len, &va) != 0)
        return -1;
    if (c->col[MAP_VALUE_B] < 0) {
        *out = va;
        return 0;
    }
    const persona__csv_field *b = &f[c->col[MAP_VALUE_B]];
    if (b->len == 0) {
        *out = NAN;
        return 0;
    }
    if (persona__parse_number(b->ptr, b->len, &vb) != 0)
        return -1;
    *out = va * vb;
    return isfinite(*out) ? 0 : -1;
}

static int add_string(csv_ctx *c, size_t *off, const persona__csv_field *f)
{
    *off = persona__strings_add(&c->strings, f->ptr, f->len);
    return *off ? 0 : -1;
}

static int text_field(csv_ctx *c, size_t *off, const persona__csv_field *f, int keep_empty)
{
    if (f->len == 0 && !keep_empty) {
        *off = 0;
        return 0;
    }
    return add_string(c, off, f);
}

/* Turn record f into event n of the batch: 1 = added, 0 = skipped (counted), <0 = stop. */
static int convert(csv_ctx *c, size_t n, const persona__csv_field *f, size_t nf, uint64_t line)
{
    char what[200];
    if (nf != c->n_header) {
        snprintf(what, sizeof what, "%zu fields where the header has %zu", nf, c->n_header);
        return bad_row(c, PERSONA_REJECT_FIELD_COUNT, line, what);
    }
    persona_event *ev = &c->events[n];
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    const persona__csv_field *tf = &f[c->col[MAP_TIME]];
    const char *why = "is empty";
    if (tf->len == 0 || persona__mapping_time(&c->map, tf->ptr, tf->len, &ev->time_ms, &why)) {
        /* quote at most 60 bytes of the input, and only whole UTF-8 characters */
        snprintf(what, sizeof what, "time '%.*s' %s%s",
                 (int)persona__utf8_prefix(tf->ptr, tf->len < 60 ? tf->len : 60), tf->ptr,
                 tf->len ? "is not a time: " : "", why);
        return bad_row(c, PERSONA_REJECT_BAD_TIME, line, what);
    }
    ev->value = NAN;
    if (c->col[MAP_VALUE_A] >= 0 && parse_value(c, f, &ev->value)) {
        snprintf(what, sizeof what, "value is not a finite number");
        return bad_row(c, PERSONA_REJECT_BAD_NUMBER, line, what);
    }
    size_t *off = c->offs[n];
    static const int map_of[S_COUNT] = { MAP_USER, MAP_EVENT, MAP_ITEM, MAP_BASKET, MAP_ID };
    for (int k = 0; k < S_COUNT; k++) {
        off[k] = 0;
        long col = c->col[map_of[k]];
        /* user and event keep "" so the store counts them as missing with this line. */
        if (col >= 0 && text_field(c, &off[k], &f[col], k == S_USER || k == S_EVENT))
            return persona__fail_nomem();
    }
    for (size_t p = 0; p < c->map.n_props; p++)
        if (text_field(c, &c->prop_offs[n * c->map.n_props + p], &f[c->prop_col[p]], 0))
            return persona__fail_nomem();
    c->lines[n] = line;
    return 1;
}

/* Offsets become pointers once the batch's strings stop moving. */
static void finalize(csv_ctx *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        persona_event *ev = &c->events[i];
        const size_t *off = c->offs[i];
        ev->user = persona__strings_ptr(&c->strings, off[S_USER]);
        ev->type = c->col[MAP_EVENT] >= 0 ? persona__strings_ptr(&c->strings, off[S_EVENT])
                                          : c->map.event_const;
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

static int csv_next(void *vctx, const persona_event **events_out, size_t *count_out)
{
    csv_ctx *c = vctx;
    if (c->state.failed_strict)
        return persona__source_strict_error(&c->state);
    c->strings.len = 0;
    size_t n = 0;
    while (n < SOURCE_BATCH && !c->state.failed_strict) {
        const persona__csv_field *f;
        size_t nf;
        uint64_t line;
        int reject;
        int rc = persona__csv_reader_next(c->reader, &f, &nf, &line, &reject);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        /* A blank line is no row (files often end with one). */
        if (reject < 0 && nf == 1 && f[0].len == 0 && c->n_header > 1)
            continue;
        c->state.rows++;
        if (reject >= 0) {
            bad_row(c, reject, line, "the row is not valid CSV");
            continue;
        }
        rc = convert(c, n, f, nf, line);
        if (rc < 0 && !c->state.failed_strict)
            return rc;
        if (rc > 0)
            n += (size_t)rc;
    }
    finalize(c, n);
    c->state.bytes = persona__csv_reader_bytes(c->reader);
    *events_out = c->events;
    *count_out = n;
    return 0;
}

static int csv_rewind(void *vctx)
{
    csv_ctx *c = vctx;
    int rc = persona__csv_reader_rewind(c->reader);
    if (rc)
        return rc;
    c->state.rows = 0;
    c->state.bytes = 0;
    c->state.failed_strict = 0;
    memset(&c->state.rejects, 0, sizeof c->state.rejects);
    /* Skip the header again: it was validated when the source was opened. */
    const persona__csv_field *h;
    size_t n;
    uint64_t line;
    int reject;
    rc = persona__csv_reader_next(c->reader, &h, &n, &line, &reject);
    return rc < 0 ? rc : 0;
}

static int csv_close(void *vctx)
{
    csv_ctx *c = vctx;
    persona__csv_reader_free(c->reader);
    persona__mapping_free(&c->map);
    persona__strings_free(&c->strings);
    persona__free(c->prop_col);
    persona__free(c->prop_offs);
    persona__free(c->prop_vals);
    persona__free(c->data);
    persona__free(c);
    return 0;
}

static const persona_source_vtable csv_vtable = { sizeof csv_vtable, 0, csv_next, csv_rewind,
                                                  NULL, csv_close };

static int check_options(persona_csv_options *o, const persona_csv_options *pub)
{
    memset(o, 0, sizeof *o);
    if (pub) {
        int rc = persona__struct_in(o, sizeof *o, pub, sizeof *o, "persona_csv_options");
        if (rc)
            return rc;
    }
    if (o->delimiter == 0)
        o->delimiter = ',';
    if (o->delimiter > 255 || o->delimiter == '"' || o->delimiter == '\r' || o->delimiter == '\n')
        return persona__fail(PERSONA_EINVAL, "CSV delimiter must be one byte other than '\"', CR and LF");
    if (o->flags || o->reserved)
        return persona__fail(PERSONA_EINVAL, "persona_csv_options: flags and reserved must be 0");
    if (o->max_row_bytes == 0)
        o->max_row_bytes = (size_t)1 << 20;
    return PERSONA_OK;
}

/* Common part of the file and memory constructors: ctx with its reader set. */
static int open_common(persona_source **out, csv_ctx *c, const persona_mapping *map)
{
    c->state.lines = c->lines;
    int rc = persona__mapping_compile(&c->map, map);
    if (rc == PERSONA_OK && c->map.n_props) {
        size_t np = c->map.n_props;
        c->prop_col = persona__calloc(np, sizeof *c->prop_col);
        c->prop_offs = persona__calloc(np * SOURCE_BATCH, sizeof *c->prop_offs);
        c->prop_vals = persona__calloc(np * SOURCE_BATCH, sizeof *c->prop_vals);
        if (!c->prop_col || !c->prop_offs || !c->prop_vals)
            rc = persona__fail_nomem();
    }
    if (rc == PERSONA_OK)
        rc = read_header(c);
    if (rc) {
        csv_close(c);
        return rc;
    }
    return persona__source_wrap(out, &csv_vtable, c, &c->state);
}

PERSONA_API int persona_csv_options_init(persona_csv_options *opts, uint32_t struct_size)
{
    return persona__struct_init(opts, struct_size, sizeof *opts, sizeof *opts,
                                "persona_csv_options");
}

PERSONA_API int persona_source_open_csv(persona_source **out, const char *path,
                                        const persona_csv_options *csv,
                                        const persona_mapping *map)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    persona_csv_options o;
    int rc = check_options(&o, csv);
    if (rc)
        return rc;
    csv_ctx *c = persona__calloc(1, sizeof *c);
    if (!c)
        return persona__fail_nomem();
    rc = persona__csv_reader_open_file(&c->reader, path, (char)o.delimiter, o.max_row_bytes);
    if (rc) {
        csv_close(c);
        return rc;
    }
    return open_common(out, c, map);
}

PERSONA_API int persona_source_open_csv_memory(persona_source **out, const char *data,
                                               size_t len, const persona_csv_options *csv,
                                               const persona_mapping *map)
{
    if (out)
        *out = NULL;
    if (!out || (!data && len))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "data" : "out");
    persona_csv_options o;
    int rc = check_options(&o, csv);
    if (rc)
        return rc;
    csv_ctx *c = persona__calloc(1, sizeof *c);
    if (!c)
        return persona__fail_nomem();
    c->data = persona__alloc(len ? len : 1);
    if (!c->data) {
        csv_close(c);
        return persona__fail_nomem();
    }
    if (len)
        memcpy(c->data, data, len);
    rc = persona__csv_reader_open_memory(&c->reader, c->data, len, (char)o.delimiter,
                                         o.max_row_bytes);
    if (rc) {
        csv_close(c);
        return rc;
    }
    return open_common(out, c, map);
}
