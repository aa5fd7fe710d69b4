/* The generic source handle, the arrays source and persona_store_load(). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "source_internal.h"
#include "store/store_internal.h"

#define VTABLE_V1_SIZE (offsetof(persona_source_vtable, close) + sizeof(void (*)(void)))

size_t persona__source_batch_cap(size_t len)
{
    if (len / 2 >= SOURCE_BATCH)
        return SOURCE_BATCH;
    return len / 2 + 1;
}

int persona__source_wrap(persona_source **out, const persona_source_vtable *vt, void *ctx,
                         persona__source_state *state)
{
    persona_source *s = persona__calloc(1, sizeof *s);
    if (!s) {
        if (vt->close)
            vt->close(ctx);
        return persona__fail_nomem();
    }
    s->vt = *vt;
    s->ctx = ctx;
    s->state = state;
    *out = s;
    return PERSONA_OK;
}

PERSONA__DEFINE_INIT(persona_source_vtable, persona_source_vtable_init)

PERSONA__DEFINE_INIT(persona_event_arrays, persona_event_arrays_init)

PERSONA_API int persona_source_new(persona_source **out, const persona_source_vtable *vtable,
                                   void *ctx)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    *out = NULL;
    persona_source_vtable vt;
    int rc = persona__struct_in(&vt, sizeof vt, vtable, offsetof(persona_source_vtable, rewind),
                                "persona_source_vtable");
    if (rc)
        return rc;
    if (!vt.next)
        return persona__fail(PERSONA_EINVAL, "persona_source_vtable: next is required");
    persona_source *s = persona__calloc(1, sizeof *s);
    if (!s)
        return persona__fail_nomem();
    s->vt = vt;
    s->ctx = ctx;
    *out = s;
    return PERSONA_OK;
}

PERSONA_API void persona_source_free(persona_source *source)
{
    if (!source)
        return;
    if (source->vt.close)
        source->vt.close(source->ctx);
    persona__free(source);
}

PERSONA_API int persona_source_rewind(persona_source *source)
{
    if (!source)
        return persona__fail(PERSONA_EINVAL, "source is NULL");
    if (!source->vt.rewind)
        return persona__fail(PERSONA_EUNSUPPORTED, "this source cannot rewind");
    int rc = source->vt.rewind(source->ctx);
    if (rc < 0 && !source->state)
        return persona__fail(PERSONA_ECALLBACK, "the source's rewind returned %d", rc);
    return rc < 0 ? rc : PERSONA_OK;
}

void persona__source_strict_failure(persona__source_state *st, int reason, uint64_t line,
                                    const char *what)
{
    st->failed_strict = 1;
    st->strict_line = line;
    snprintf(st->strict_msg, sizeof st->strict_msg, "line %llu: %s (%s)",
             (unsigned long long)line, what, persona_reject_reason_name(reason));
    persona__utf8_truncate(st->strict_msg);
}

int persona__source_strict_error(const persona__source_state *st)
{
    return persona__fail_at(PERSONA_EPARSE, st->strict_line, 0, "%s", st->strict_msg);
}

/* ---------------------------------------------------------------- arrays source */

typedef struct arrays_ctx {
    persona__source_state state;
    persona_event_arrays a;
    size_t pos;
    persona_event batch[SOURCE_BATCH];
    const char **prop_values;            /* n_props per event of the batch */
} arrays_ctx;

static int arrays_next(void *vctx, const persona_event **events_out, size_t *count_out)
{
    arrays_ctx *c = vctx;
    size_t n = c->a.count - c->pos;
    if (n > SOURCE_BATCH)
        n = SOURCE_BATCH;
    for (size_t i = 0; i < n; i++) {
        size_t k = c->pos + i;
        persona_event *ev = &c->batch[i];
        memset(ev, 0, sizeof *ev);
        ev->struct_size = sizeof *ev;
        ev->user = c->a.user[k];
        ev->time_ms = c->a.time_ms[k];
        ev->type = c->a.type ? c->a.type[k] : NULL;
        ev->item = c->a.item ? c->a.item[k] : NULL;
        ev->value = c->a.value ? c->a.value[k] : NAN;
        ev->event_id = c->a.event_id ? c->a.event_id[k] : NULL;
        ev->basket = c->a.basket ? c->a.basket[k] : NULL;
        if (c->a.n_props) {
            const char **vals = c->prop_values + i * c->a.n_props;
            for (size_t p = 0; p < c->a.n_props; p++)
                vals[p] = c->a.prop_values[p] ? c->a.prop_values[p][k] : NULL;
            ev->prop_names = c->a.prop_names;
            ev->prop_values = vals;
            ev->n_props = c->a.n_props;
        }
    }
    c->pos += n;
    c->state.rows += n;
    *events_out = c->batch;
    *count_out = n;
    return 0;
}

static int arrays_rewind(void *vctx)
{
    arrays_ctx *c = vctx;
    c->pos = 0;
    c->state.rows = 0;
    return 0;
}

static int arrays_close(void *vctx)
{
    arrays_ctx *c = vctx;
    persona__free(c->prop_values);
    persona__free(c);
    return 0;
}

PERSONA_API int persona_source_from_arrays(persona_source **out,
                                           const persona_event_arrays *arrays)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    *out = NULL;
    persona_event_arrays a;
    int rc = persona__struct_in(&a, sizeof a, arrays, sizeof a, "persona_event_arrays");
    if (rc)
        return rc;
    if (a.count && (!a.user || !a.time_ms))
        return persona__fail(PERSONA_EINVAL, "persona_event_arrays: user and time_ms are required");
    if (a.n_props && (!a.prop_names || !a.prop_values))
        return persona__fail(PERSONA_EINVAL,
                             "persona_event_arrays: %zu properties but no names or values",
                             a.n_props);
    for (size_t p = 0; p < a.n_props; p++)
        if (!a.prop_names[p] || !a.prop_names[p][0])
            return persona__fail(PERSONA_EINVAL, "persona_event_arrays: property %zu has no name", p);
    if (a.n_props > SIZE_MAX / SOURCE_BATCH)
        return persona__fail(PERSONA_EINVAL, "persona_event_arrays: too many properties");
    arrays_ctx *c = persona__calloc(1, sizeof *c);
    if (!c)
        return persona__fail_nomem();
    c->a = a;
    if (a.n_props) {
        c->prop_values = persona__calloc(a.n_props * SOURCE_BATCH, sizeof *c->prop_values);
        if (!c->prop_values) {
            persona__free(c);
            return persona__fail_nomem();
        }
    }
    static const persona_source_vtable vt = { sizeof vt, 0, arrays_next, arrays_rewind, NULL,
                                              arrays_close };
    return persona__source_wrap(out, &vt, c, &c->state);
}

/* ---------------------------------------------------------------- load */

/* Fold the rows a built-in source rejected into the load's stats. */
static void take_rejects(persona_ingest_stats *st, persona__source_state *state)
{
    persona_ingest_stats *r = &state->rejects;
    for (int reason = 0; reason < PERSONA_REJECT_SLOTS; reason++) {
        for (uint64_t k = 0; k < r->rejected[reason]; k++) {
            uint64_t line = k < PERSONA_REJECT_EXAMPLES ? r->example_lines[reason][k] : 0;
            if (line)
                persona__stats_reject(st, reason, line);
            else {
                st->rejected[reason]++;
                st->events_rejected++;
            }
        }
    }
    memset(r, 0, sizeof *r);
}

static int load_attributes(persona_store *store, persona_source *src)
{
    for (;;) {
        const persona_attribute *attrs = NULL;
        size_t n = 0;
        int cb = src->vt.next_attributes(src->ctx, &attrs, &n);
        if (cb < 0)
            return persona__fail(PERSONA_ECALLBACK, "the source's next_attributes returned %d", cb);
        if (n == 0)
            return PERSONA_OK;
        if (!attrs)
            return persona__fail(PERSONA_ECALLBACK, "next_attributes gave %zu attributes but no array", n);
        for (size_t i = 0; i < n; i++) {
            const persona_attribute *a = &attrs[i];
            int rc;
            if (a->struct_size < sizeof *a)
                return persona__fail(PERSONA_EINVAL, "attribute %zu: struct_size not set", i);
            switch (a->type) {
            case PERSONA_NUM: rc = persona_store_attr_set_num(store, a->user, a->name, a->num); break;
            case PERSONA_STR: rc = persona_store_attr_set_str(store, a->user, a->name, a->str); break;
            case PERSONA_BOOL: rc = persona_store_attr_set_bool(store, a->user, a->name, a->boolean); break;
            case PERSONA_TIME: rc = persona_store_attr_set_time(store, a->user, a->name, a->time_ms); break;
            case PERSONA_NULL: rc = persona_store_attr_set_null(store, a->user, a->name); break;
            default: rc = persona__fail(PERSONA_EINVAL, "attribute %zu: unknown type %d", i, a->type);
            }
            if (rc)
                return rc;
        }
    }
}

static int load_events(persona_ingest_stats *st, persona_store *store, persona_source *src,
                       const persona_ingest_options *o)
{
    int strict = (o->flags & PERSONA_INGEST_STRICT) != 0;
    uint64_t every = o->progress_every ? o->progress_every : (uint64_t)1 << 20;
    uint64_t next_progress = every;
    uint64_t ordinal = 0;
    if (src->state)
        src->state->strict = strict;
    for (;;) {
        const persona_event *events = NULL;
        size_t n = 0;
        int cb = src->vt.next(src->ctx, &events, &n);
        if (src->state) {
            if (cb < 0)
                return cb; /* built-in sources record their own error */
            take_rejects(st, src->state);
            /* Strict mode: a bad first row of a batch ends that batch empty; that is not
             * the end of the input but the error. */
            if (n == 0 && src->state->failed_strict)
                return persona__source_strict_error(src->state);
        } else if (cb < 0) {
            return persona__fail(PERSONA_ECALLBACK, "the source's next returned %d", cb);
        }
        if (n == 0)
            break;
        if (!events)
            return persona__fail(PERSONA_ECALLBACK, "next gave %zu events but no array", n);
        int rc = persona__store_ingest_batch(store, events, n, src->state ? src->state->lines : NULL,
                                             ordinal, strict, st);
        if (rc)
            return rc;
        ordinal += n;
        uint64_t rows = src->state ? src->state->rows : ordinal;
        if (o->progress && rows >= next_progress) {
            next_progress = rows + every;
            if (o->progress(o->progress_ctx, rows, src->state ? src->state->bytes : 0) < 0)
                return persona__fail(PERSONA_ECALLBACK, "the progress callback asked to stop");
        }
    }
    return PERSONA_OK;
}

PERSONA_API int persona_store_load(persona_ingest_stats *stats_out, persona_store *store,
                                   persona_source *source, const persona_ingest_options *opts)
{
    if (!store || !source)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "source" : "store");
    persona_ingest_options o;
    memset(&o, 0, sizeof o);
    if (opts) {
        int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_ingest_options");
        if (rc)
            return rc;
    }
    persona_ingest_stats st;
    memset(&st, 0, sizeof st);
    if (stats_out) {
        int rc = persona__struct_out(stats_out, &st, sizeof st, sizeof st, "persona_ingest_stats");
        if (rc)
            return rc;
    }
    int rc = load_events(&st, store, source, &o);
    if (rc == PERSONA_OK && source->vt.next_attributes)
        rc = load_attributes(store, source);
    /* rows_read counts what the source read, rejected rows included. */
    st.rows_read = source->state ? source->state->rows : st.events_accepted + st.events_rejected;
    st.bytes_read = source->state ? source->state->bytes : 0;
    if (stats_out)
        persona__struct_out(stats_out, &st, sizeof st, sizeof st, "persona_ingest_stats");
    return rc;
}
