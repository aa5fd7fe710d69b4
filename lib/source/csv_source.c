/* The CSV source: a csv_reader plus a compiled mapping, producing batches of events.
 * Rows that cannot become events are counted by reason here (field count, quoting, time,
 * number); the store checks the rest (empty user, UTF-8, length, duplicates). */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
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

/* One batch of events and what parsing it found. Two of them let a worker thread parse
 * the next batch while the caller ingests this one (a batch is borrowed until the next
 * call of next, so the worker never writes the one the caller holds). */
typedef struct csv_batch {
    persona__strings strings;
    size_t n;
    int end;                            /* the input ended with this batch */
    int rc;                             /* < 0: the error of this batch (below) */
    uint64_t err_line, err_column;
    char err_msg[512];
    persona__source_state found;        /* rejects, rows, bytes, strict failure */
    size_t cap;                         /* events the arrays below hold */
    size_t *prop_offs;                  /* cap x n_props */
    const char **prop_vals;             /* cap x n_props */
    /* in the batch's own allocation, after it: */
    persona_event *events;
    uint64_t *lines;
    size_t (*offs)[S_COUNT]; /* string offsets + 1 in strings, 0 = absent */
} csv_batch;

typedef struct csv_ctx {
    persona__source_state state;
    persona__csv_reader *reader;
    char *data; /* our copy of an in-memory input */
    persona__mapping map;
    size_t n_header;
    long col[MAP_FIXED]; /* column of each mapped field, -1 = none */
    long *prop_col;
    csv_batch *batch[2]; /* the second one is made when the worker starts */
    int handed;           /* batch held by the caller, -1 none */
    int done;             /* the last batch (end, error or strict failure) was handed out */
    /* the worker thread, started once the input proves longer than one batch */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t worker;
    int sync_ready;       /* mu and cv initialised */
    int worker_running;
    int stop;
    int ready[2], busy[2];
    int next_take;
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
static int bad_row(csv_ctx *c, csv_batch *b, int reason, uint64_t line, const char *what)
{
    if (c->state.strict) {
        persona__source_strict_failure(&b->found, reason, line, what);
        return -1;
    }
    persona__stats_reject(&b->found.rejects, reason, line);
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

static int text_field(csv_batch *b, size_t *off, const persona__csv_field *f, int keep_empty)
{
    if (f->len == 0 && !keep_empty) {
        *off = 0;
        return 0;
    }
    *off = persona__strings_add(&b->strings, f->ptr, f->len);
    return *off ? 0 : -1;
}

/* Turn record f into event n of the batch: 1 = added, 0 = skipped (counted), <0 = stop. */
static int convert(csv_ctx *c, csv_batch *b, const persona__csv_field *f, size_t nf,
                   uint64_t line)
{
    size_t n = b->n;
    char what[200];
    if (nf != c->n_header) {
        snprintf(what, sizeof what, "%zu fields where the header has %zu", nf, c->n_header);
        return bad_row(c, b, PERSONA_REJECT_FIELD_COUNT, line, what);
    }
    persona_event *ev = &b->events[n];
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    const persona__csv_field *tf = &f[c->col[MAP_TIME]];
    const char *why = "is empty";
    if (tf->len == 0 || persona__mapping_time(&c->map, tf->ptr, tf->len, &ev->time_ms, &why)) {
        /* quote at most 60 bytes of the input, and only whole UTF-8 characters */
        snprintf(what, sizeof what, "time '%.*s' %s%s",
                 (int)persona__utf8_prefix(tf->ptr, tf->len < 60 ? tf->len : 60), tf->ptr,
                 tf->len ? "is not a time: " : "", why);
        return bad_row(c, b, PERSONA_REJECT_BAD_TIME, line, what);
    }
    ev->value = NAN;
    if (c->col[MAP_VALUE_A] >= 0 && parse_value(c, f, &ev->value)) {
        snprintf(what, sizeof what, "value is not a finite number");
        return bad_row(c, b, PERSONA_REJECT_BAD_NUMBER, line, what);
    }
    size_t *off = b->offs[n];
    static const int map_of[S_COUNT] = { MAP_USER, MAP_EVENT, MAP_ITEM, MAP_BASKET, MAP_ID };
    for (int k = 0; k < S_COUNT; k++) {
        off[k] = 0;
        long col = c->col[map_of[k]];
        /* user and event keep "" so the store counts them as missing with this line. */
        if (col >= 0 && text_field(b, &off[k], &f[col], k == S_USER || k == S_EVENT))
            return persona__fail_nomem();
    }
    for (size_t p = 0; p < c->map.n_props; p++)
        if (text_field(b, &b->prop_offs[n * c->map.n_props + p], &f[c->prop_col[p]], 0))
            return persona__fail_nomem();
    b->lines[n] = line;
    return 1;
}

/* Offsets become pointers once the batch's strings stop moving. */
static void finalize(const csv_ctx *c, csv_batch *b)
{
    const persona__strings *st = &b->strings;
    for (size_t i = 0; i < b->n; i++) {
        persona_event *ev = &b->events[i];
        const size_t *off = b->offs[i];
        ev->user = persona__strings_ptr(st, off[S_USER]);
        ev->type = c->col[MAP_EVENT] >= 0 ? persona__strings_ptr(st, off[S_EVENT])
                                          : c->map.event_const;
        ev->item = persona__strings_ptr(st, off[S_ITEM]);
        ev->basket = persona__strings_ptr(st, off[S_BASKET]);
        ev->event_id = persona__strings_ptr(st, off[S_ID]);
        if (c->map.n_props) {
            const char **vals = b->prop_vals + i * c->map.n_props;
            for (size_t p = 0; p < c->map.n_props; p++)
                vals[p] = persona__strings_ptr(st, b->prop_offs[i * c->map.n_props + p]);
            ev->prop_names = (const char *const *)c->map.prop_names;
            ev->prop_values = vals;
            ev->n_props = c->map.n_props;
        }
    }
}

static void batch_free(csv_batch *b)
{
    if (!b)
        return;
    persona__strings_free(&b->strings);
    persona__free(b->prop_offs);
    persona__free(b->prop_vals);
    persona__free(b);
}

/* A batch of cap events with its property arrays; NULL on allocation failure (error not
 * recorded). */
static csv_batch *batch_new(const persona__mapping *map, size_t cap)
{
    const size_t per_event = sizeof(persona_event) + sizeof(uint64_t) + sizeof(size_t[S_COUNT]);
    csv_batch *b = persona__alloc(sizeof *b + cap * per_event);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->events = (persona_event *)(b + 1);
    b->lines = (uint64_t *)(b->events + cap);
    b->offs = (size_t(*)[S_COUNT])(b->lines + cap);
    if (map->n_props) {
        b->prop_offs = persona__calloc(map->n_props * cap, sizeof *b->prop_offs);
        b->prop_vals = persona__calloc(map->n_props * cap, sizeof *b->prop_vals);
        if (!b->prop_offs || !b->prop_vals) {
            batch_free(b);
            return NULL;
        }
    }
    return b;
}

/* Parse the next batch into b (on whichever thread runs it). Errors are kept in b with
 * their message, since the thread-local error belongs to the parsing thread. */
static void fill(csv_ctx *c, csv_batch *b)
{
    b->strings.len = 0;
    b->n = 0;
    b->end = 0;
    b->rc = 0;
    memset(&b->found.rejects, 0, sizeof b->found.rejects);
    b->found.failed_strict = 0;
    int rc = 0;
    while (b->n < b->cap && !b->found.failed_strict) {
        const persona__csv_field *f;
        size_t nf;
        uint64_t line;
        int reject;
        rc = persona__csv_reader_next(c->reader, &f, &nf, &line, &reject);
        if (rc <= 0) {
            b->end = rc == 0;
            break;
        }
        rc = 0;
        /* A blank line is no row (files often end with one). */
        if (reject < 0 && nf == 1 && f[0].len == 0 && c->n_header > 1)
            continue;
        b->found.rows++;
        if (reject >= 0) {
            bad_row(c, b, reject, line, "the row is not valid CSV");
            continue;
        }
        int added = convert(c, b, f, nf, line);
        if (added < 0 && !b->found.failed_strict) {
            rc = added;
            break;
        }
        if (added > 0)
            b->n++;
    }
    if (rc < 0) {
        b->rc = rc;
        persona_error_position(&b->err_line, &b->err_column);
        snprintf(b->err_msg, sizeof b->err_msg, "%s", persona_errmsg());
    }
    finalize(c, b);
    b->found.bytes = persona__csv_reader_bytes(c->reader);
}

static int batch_is_last(const csv_batch *b)
{
    return b->end || b->rc < 0 || b->found.failed_strict;
}

static void *worker_main(void *arg)
{
    csv_ctx *c = arg;
    int k = 1; /* batch 0 was filled on the caller's thread and is held by it */
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->stop && (c->ready[k] || c->busy[k]))
            pthread_cond_wait(&c->cv, &c->mu);
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        /* counters continue from the batch before */
        c->batch[k]->found.rows = c->batch[k ^ 1]->found.rows;
        fill(c, c->batch[k]);
        pthread_mutex_lock(&c->mu);
        c->ready[k] = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (batch_is_last(c->batch[k]))
            break;
        k ^= 1;
    }
    return NULL;
}

static void stop_worker(csv_ctx *c)
{
    if (!c->worker_running)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->worker, NULL);
    c->worker_running = 0;
    c->stop = 0;
    c->ready[0] = c->ready[1] = c->busy[0] = c->busy[1] = 0;
}

/* Hand batch k to the caller: its rejects and counters go to the shared state. */
static int deliver(csv_ctx *c, int k, const persona_event **events_out, size_t *count_out)
{
    csv_batch *b = c->batch[k];
    persona__source_state *st = &c->state;
    for (int r = 0; r < PERSONA_REJECT_SLOTS; r++)
        for (uint64_t i = 0; i < b->found.rejects.rejected[r]; i++)
            persona__stats_reject(&st->rejects, r,
                                  i < PERSONA_REJECT_EXAMPLES ? b->found.rejects.example_lines[r][i]
                                                              : UINT64_MAX);
    st->rows = b->found.rows;
    st->bytes = b->found.bytes;
    st->lines = b->lines;
    c->handed = k;
    c->done = batch_is_last(b);
    if (b->found.failed_strict) {
        st->failed_strict = 1;
        st->strict_line = b->found.strict_line;
        memcpy(st->strict_msg, b->found.strict_msg, sizeof st->strict_msg);
    }
    if (b->rc < 0)
        return persona__fail_at(b->rc, b->err_line, b->err_column, "%s", b->err_msg);
    *events_out = b->events;
    *count_out = b->n;
    return 0;
}

static int csv_next(void *vctx, const persona_event **events_out, size_t *count_out)
{
    csv_ctx *c = vctx;
    if (c->state.failed_strict)
        return persona__source_strict_error(&c->state);
    *events_out = c->batch[0]->events;
    *count_out = 0;
    if (c->worker_running && c->handed >= 0) {
        pthread_mutex_lock(&c->mu);
        c->busy[c->handed] = 0;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    c->handed = -1;
    if (c->done)
        return 0;
    if (!c->worker_running) {
        c->batch[0]->found.rows = c->state.rows;
        fill(c, c->batch[0]);
        int rc = deliver(c, 0, events_out, count_out);
        /* A second batch follows: parse it (and the rest) on a worker thread while the
         * caller ingests. Without a thread the parsing simply stays on this one. */
        if (rc == 0 && !c->done && c->sync_ready &&
            (c->batch[1] || (c->batch[1] = batch_new(&c->map, c->batch[0]->cap)) != NULL)) {
            c->busy[0] = 1;
            c->next_take = 1;
            c->worker_running = pthread_create(&c->worker, NULL, worker_main, c) == 0;
            if (!c->worker_running)
                c->busy[0] = 0;
        }
        return rc;
    }
    int k = c->next_take;
    pthread_mutex_lock(&c->mu);
    while (!c->ready[k])
        pthread_cond_wait(&c->cv, &c->mu);
    c->ready[k] = 0;
    c->busy[k] = 1;
    pthread_mutex_unlock(&c->mu);
    c->next_take = k ^ 1;
    return deliver(c, k, events_out, count_out);
}

static int csv_rewind(void *vctx)
{
    csv_ctx *c = vctx;
    stop_worker(c);
    c->handed = -1;
    c->done = 0;
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
    stop_worker(c);
    if (c->sync_ready) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
    }
    persona__csv_reader_free(c->reader);
    persona__mapping_free(&c->map);
    for (int k = 0; k < 2; k++)
        batch_free(c->batch[k]);
    persona__free(c->prop_col);
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
static int open_common(persona_source **out, csv_ctx *c, const persona_mapping *map,
                       size_t batch_cap)
{
    c->handed = -1;
    int rc = persona__mapping_compile(&c->map, map);
    if (rc == PERSONA_OK && c->map.n_props) {
        size_t np = c->map.n_props;
        c->prop_col = persona__calloc(np, sizeof *c->prop_col);
        if (!c->prop_col)
            rc = persona__fail_nomem();
    }
    if (rc == PERSONA_OK && (c->batch[0] = batch_new(&c->map, batch_cap)) == NULL)
        rc = persona__fail_nomem();
    /* Without a mutex the source still works, parsing on the caller's thread only. */
    if (rc == PERSONA_OK && pthread_mutex_init(&c->mu, NULL) == 0) {
        if (pthread_cond_init(&c->cv, NULL) == 0)
            c->sync_ready = 1;
        else
            pthread_mutex_destroy(&c->mu);
    }
    if (rc == PERSONA_OK)
        rc = read_header(c);
    if (rc) {
        csv_close(c);
        return rc;
    }
    return persona__source_wrap(out, &csv_vtable, c, &c->state);
}

PERSONA__DEFINE_INIT(persona_csv_options, persona_csv_options_init)

/* Both constructors: a file (path) or a private copy of caller memory (data, len). */
static int open_csv(persona_source **out, const char *path, const char *data, size_t len,
                    const persona_csv_options *csv, const persona_mapping *map)
{
    persona_csv_options o;
    int rc = check_options(&o, csv);
    if (rc)
        return rc;
    csv_ctx *c = persona__calloc(1, sizeof *c);
    if (!c)
        return persona__fail_nomem();
    if (path) {
        rc = persona__csv_reader_open_file(&c->reader, path, (char)o.delimiter, o.max_row_bytes);
    } else if ((c->data = persona__input_copy(data, len)) == NULL) {
        rc = persona__fail_nomem();
    } else {
        rc = persona__csv_reader_open_memory(&c->reader, c->data, len, (char)o.delimiter,
                                             o.max_row_bytes);
    }
    if (rc) {
        csv_close(c);
        return rc;
    }
    return open_common(out, c, map, persona__source_batch_cap(path ? SIZE_MAX : len));
}

PERSONA_API int persona_source_open_csv(persona_source **out, const char *path,
                                        const persona_csv_options *csv,
                                        const persona_mapping *map)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    return open_csv(out, path, NULL, 0, csv, map);
}

PERSONA_API int persona_source_open_csv_memory(persona_source **out, const char *data,
                                               size_t len, const persona_csv_options *csv,
                                               const persona_mapping *map)
{
    if (out)
        *out = NULL;
    if (!out || (!data && len))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "data" : "out");
    return open_csv(out, NULL, data, len, csv, map);
}
