/* Funnel exports: the step table as CSV, everything as one JSON object, the users' stages
 * as CSV. Built in a buffer flushed to the caller's writer about every 64 KiB. */
#include <math.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "cohort/period.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

typedef persona__export_writer writer;

/* A number, or nothing for NaN (CSV). */
static void csv_num(persona__buf *b, double v)
{
    if (!isnan(v))
        persona__buf_double(b, v);
}

static double median_ms(const persona_funnel *f, size_t j)
{
    double m = NAN;
    persona_funnel_time_quantile(&m, f, j, 0.5);
    return m;
}

static void export_csv(writer *w, const persona_funnel *f)
{
    persona__buf *b = &w->out;
    persona__buf_puts(b, "step,event,users,conversion_from_prev,conversion_from_first,"
                         "median_seconds_from_prev\n");
    for (size_t j = 0; j < f->spec.n_steps; j++) {
        double prev = NAN, first = NAN;
        persona_funnel_conversion(&prev, &first, f, j);
        persona__buf_u64(b, j + 1);
        persona__buf_putc(b, ',');
        persona__buf_csv_cell(b, f->spec.steps[j].type, strlen(f->spec.steps[j].type), ',');
        persona__buf_putc(b, ',');
        persona__buf_u64(b, f->units[j]);
        persona__buf_putc(b, ',');
        csv_num(b, prev);
        persona__buf_putc(b, ',');
        csv_num(b, first);
        persona__buf_putc(b, ',');
        csv_num(b, median_ms(f, j) / 1000.0);
        persona__buf_putc(b, '\n');
    }
}

static void export_stages(writer *w, const persona_funnel *f)
{
    persona__buf *b = &w->out;
    persona__buf_puts(b, "user,stage\n");
    for (size_t i = 0; i < f->n_users && !w->rc; i++) {
        persona__buf_csv_cell(b, f->keys + f->key_off[i],
                              (size_t)(f->key_off[i + 1] - f->key_off[i]), ',');
        persona__buf_putc(b, ',');
        persona__buf_u64(b, f->stages[i]);
        persona__buf_putc(b, '\n');
        persona__export_flush(w, 0);
    }
}

static void json_str(persona__buf *b, const char *s)
{
    if (s)
        persona__buf_json_str(b, s, strlen(s));
    else
        persona__buf_puts(b, "null");
}

static void json_ms(persona__buf *b, int64_t v)
{
    if (v)
        persona__buf_i64(b, v);
    else
        persona__buf_puts(b, "null");
}

static void json_match(persona__buf *b, const funnel_match *m, int is_step)
{
    persona__buf_puts(b, "{\"event\":");
    json_str(b, m->type);
    persona__buf_puts(b, ",\"where\":");
    if (m->where_property) {
        persona__buf_puts(b, "{\"property\":");
        json_str(b, m->where_property);
        persona__buf_puts(b, m->where_op == PERSONA_WHERE_NE ? ",\"op\":\"ne\"" : ",\"op\":\"eq\"");
        persona__buf_puts(b, ",\"value\":");
        json_str(b, m->where_value);
        persona__buf_putc(b, '}');
    } else {
        persona__buf_puts(b, "null");
    }
    if (is_step) {
        persona__buf_puts(b, ",\"min_ms\":");
        json_ms(b, m->min_ms);
        persona__buf_puts(b, ",\"max_ms\":");
        json_ms(b, m->max_ms);
    }
    persona__buf_putc(b, '}');
}

static const char *period_name(int32_t p)
{
    switch (p) {
    case PERSONA_PERIOD_HOUR: return "hour";
    case PERSONA_PERIOD_DAY: return "day";
    case PERSONA_PERIOD_WEEK: return "week";
    case PERSONA_PERIOD_QUARTER: return "quarter";
    case PERSONA_PERIOD_YEAR: return "year";
    default: return "month";
    }
}

static void json_options(persona__buf *b, const funnel_spec *o)
{
    static const char *const orders[] = { "loose", "strict", "any_order" };
    static const char *const counts[] = { "users", "totals", "sessions" };
    persona__buf_puts(b, "{\"steps\":[");
    for (size_t j = 0; j < o->n_steps; j++) {
        if (j)
            persona__buf_putc(b, ',');
        json_match(b, &o->steps[j], 1);
    }
    persona__buf_puts(b, "],\"exclusions\":[");
    for (size_t i = 0; i < o->n_excl; i++) {
        if (i)
            persona__buf_putc(b, ',');
        persona__buf_puts(b, "{\"from_step\":");
        persona__buf_u64(b, o->excl[i].from + 1);
        persona__buf_puts(b, ",\"to_step\":");
        persona__buf_u64(b, o->excl[i].to + 1);
        persona__buf_puts(b, ",\"event\":");
        json_match(b, &o->excl[i].ev, 0);
        persona__buf_putc(b, '}');
    }
    persona__buf_puts(b, "],\"window_ms\":");
    persona__buf_i64(b, o->window_ms);
    persona__buf_puts(b, ",\"order\":\"");
    persona__buf_puts(b, orders[o->order]);
    persona__buf_puts(b, "\",\"count\":\"");
    persona__buf_puts(b, counts[o->count]);
    persona__buf_puts(b, "\",\"hold_property\":");
    json_str(b, o->hold);
    persona__buf_puts(b, ",\"trend_period\":\"");
    persona__buf_puts(b, period_name(o->trend_period));
    persona__buf_puts(b, "\",\"utc_offset_minutes\":");
    persona__buf_i64(b, o->utc_offset_minutes);
    persona__buf_puts(b, ",\"consent_purpose\":");
    json_str(b, o->consent);
    persona__buf_puts(b, ",\"from_ms\":");
    json_ms(b, o->from_ms);
    persona__buf_puts(b, ",\"to_ms\":");
    json_ms(b, o->to_ms);
    persona__buf_puts(b, ",\"session_gap_ms\":");
    json_ms(b, o->session_gap_ms);
    persona__buf_putc(b, '}');
}

static void json_step(persona__buf *b, const persona_funnel *f, size_t j)
{
    static const double qs[] = { 0, 0.25, 0.5, 0.75, 0.9, 1 };
    static const char *const qn[] = { "min", "p25", "median", "p75", "p90", "max" };
    double prev = NAN, first = NAN;
    persona_funnel_conversion(&prev, &first, f, j);
    persona__buf_puts(b, "{\"step\":");
    persona__buf_u64(b, j + 1);
    persona__buf_puts(b, ",\"event\":");
    json_str(b, f->spec.steps[j].type);
    persona__buf_puts(b, ",\"units\":");
    persona__buf_u64(b, f->units[j]);
    persona__buf_puts(b, ",\"conversion_from_prev\":");
    persona__buf_json_double(b, prev);
    persona__buf_puts(b, ",\"conversion_from_first\":");
    persona__buf_json_double(b, first);
    persona__buf_puts(b, ",\"time_from_prev_ms\":");
    if (j == 0 || f->units[j] == 0) {
        persona__buf_puts(b, "null");
    } else {
        persona__buf_putc(b, '{');
        for (size_t q = 0; q < sizeof qs / sizeof *qs; q++) {
            double v = NAN;
            persona_funnel_time_quantile(&v, f, j, qs[q]);
            if (q)
                persona__buf_putc(b, ',');
            persona__buf_putc(b, '"');
            persona__buf_puts(b, qn[q]);
            persona__buf_puts(b, "\":");
            persona__buf_json_double(b, v);
        }
        persona__buf_putc(b, '}');
    }
    persona__buf_puts(b, ",\"time_histogram\":[");
    for (int k = 0; k < PERSONA_FUNNEL_TIME_BUCKETS; k++) {
        if (k)
            persona__buf_putc(b, ',');
        persona__buf_u64(b, f->hist[j][k]);
    }
    persona__buf_puts(b, "]}");
}

static void export_json(writer *w, const persona_funnel *f)
{
    persona__buf *b = &w->out;
    persona__buf_puts(b, "{\"options\":");
    json_options(b, &f->spec);
    persona__buf_puts(b, ",\"steps\":[");
    for (size_t j = 0; j < f->spec.n_steps; j++) {
        if (j)
            persona__buf_putc(b, ',');
        json_step(b, f, j);
    }
    persona__buf_puts(b, "],\"trend\":[");
    persona__period p = { f->spec.trend_period, (int64_t)f->spec.utc_offset_minutes * 60000 };
    for (size_t i = 0; i < f->n_trend && !w->rc; i++) {
        char label[PERIOD_LABEL_MAX];
        int64_t n = f->trend_first + (int64_t)i;
        size_t len = persona__period_label(&p, n, label);
        if (i)
            persona__buf_putc(b, ',');
        persona__buf_puts(b, "{\"period\":");
        persona__buf_json_str(b, label, len);
        persona__buf_puts(b, ",\"start_ms\":");
        persona__buf_i64(b, persona__period_start(&p, n));
        persona__buf_puts(b, ",\"entered\":");
        persona__buf_u64(b, f->entered[i]);
        persona__buf_puts(b, ",\"converted\":");
        persona__buf_u64(b, f->converted[i]);
        persona__buf_putc(b, '}');
        persona__export_flush(w, 0);
    }
    persona__buf_puts(b, "],\"users\":");
    persona__buf_u64(b, f->n_users);
    persona__buf_puts(b, "}\n");
}

PERSONA_API int persona_funnel_export(const persona_funnel *funnel, int32_t format,
                                      persona_write_fn write, void *ctx)
{
    if (!funnel || !write)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", funnel ? "write" : "funnel");
    if (format != PERSONA_FUNNEL_EXPORT_CSV && format != PERSONA_FUNNEL_EXPORT_JSON &&
        format != PERSONA_FUNNEL_EXPORT_STAGES_CSV)
        return persona__fail(PERSONA_EINVAL, "unknown funnel export format %d", (int)format);
    writer w = { { 0 }, write, ctx, PERSONA_OK };
    persona__buf_init(&w.out);
    if (format == PERSONA_FUNNEL_EXPORT_CSV)
        export_csv(&w, funnel);
    else if (format == PERSONA_FUNNEL_EXPORT_JSON)
        export_json(&w, funnel);
    else
        export_stages(&w, funnel);
    persona__export_flush(&w, 1);
    persona__buf_free(&w.out);
    return w.rc;
}

PERSONA_API int persona_funnel_export_buffer(char **out, size_t *out_len,
                                             const persona_funnel *funnel, int32_t format)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    persona__buf b;
    persona__buf_init(&b);
    int rc = persona_funnel_export(funnel, format, persona__buf_write, &b);
    if (rc == PERSONA_ECALLBACK) /* the only write that fails is an append out of memory */
        rc = persona__fail_nomem();
    return persona__buf_hand_over(&b, rc, out, out_len);
}
