/* persona_features_build: the spec is parsed (features_parse.c), then under the store's
 * read lock the rows (every profile) are listed, the one-hot levels counted and every value
 * computed; the missing-value fill, mean and sd of each column come last. The same row
 * function serves persona_features_transform(), so a user's transformed row is bit for bit
 * the row the build gave. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cmp.h"
#include "core/error.h"
#include "core/exactsum.h"
#include "core/structs.h"
#include "features/features_internal.h"
#include "store/store_internal.h"

PERSONA__DEFINE_INIT(persona_features_options, persona_features_options_init)
PERSONA__DEFINE_INIT(persona_features_info, persona_features_info_init)
PERSONA__DEFINE_INIT(persona_features_column, persona_features_column_init)

#define DAY_MS 86400000.0

static int is_onehot(const feat_term *t)
{
    return t->kind == FT_ONEHOT_ATTR || t->kind == FT_ONEHOT_LAST;
}

/* ---- values of one profile ---------------------------------------------------------- */

/* Id of each term's argument in the store (PERSONA__NO_ID when the store has never seen
 * it: every user then has count 0, no attribute, no property, no engagement). */
static void resolve_ids(const persona_store *s, const feat_spec *sp, uint32_t *ids)
{
    for (size_t i = 0; i < sp->n_terms; i++) {
        const feat_term *t = &sp->terms[i];
        const persona__intern *table = t->kind == FT_COUNT || t->kind == FT_VALUE ? &s->types
                                       : t->kind == FT_ENGAGEMENT                ? &s->values
                                                                                 : &s->names;
        ids[i] = t->arg ? persona__intern_find(table, t->arg, strlen(t->arg)) : PERSONA__NO_ID;
    }
}

static const attr_value *attr_of(const persona_store *s, uint32_t u, uint32_t name)
{
    if (name == PERSONA__NO_ID)
        return NULL;
    uint32_t e = persona__attr_entry(s, u, name);
    if (e == UINT32_MAX || s->attrs[e].type < 0 || s->attrs[e].type == PERSONA_NULL)
        return NULL;
    return &s->attrs[e];
}

static int value_error(const persona_store *s, uint32_t u, const feat_term *t, const char *what)
{
    return persona__fail(PERSONA_EINVAL, "feature '%.200s', user '%.200s': %s", t->name,
                         persona__intern_str(&s->users, u), what);
}

/* The level string of a one-hot term (NULL when the user has none). */
static int level_of(const persona_store *s, uint32_t u, const feat_term *t, uint32_t id,
                    const char **str, size_t *len)
{
    *str = NULL;
    *len = 0;
    if (t->kind == FT_ONEHOT_ATTR) {
        const attr_value *a = attr_of(s, u, id);
        if (!a)
            return PERSONA_OK;
        if (a->type != PERSONA_STR)
            return value_error(s, u, t, "the attribute is not a string (onehot(attr()) takes "
                                        "string attributes; attr() takes numbers, booleans "
                                        "and times)");
        *str = a->str;
        *len = strlen(a->str);
        return PERSONA_OK;
    }
    uint32_t e = id == PERSONA__NO_ID ? UINT32_MAX
                                      : persona__pairmap_find(&s->user_prop, PERSONA__PAIR(u, id));
    if (e != UINT32_MAX) {
        uint32_t v = s->last_props[e].value;
        *str = persona__intern_str(&s->values, v);
        *len = persona__intern_len(&s->values, v);
    }
    return PERSONA_OK;
}

/* The raw value of a numeric term; NaN when missing. */
static int raw_value(const persona_store *s, uint32_t u, const feat_term *t, uint32_t id,
                     int64_t as_of, double *out)
{
    const profile *p = &s->profiles[u];
    const type_stat *ts;
    const attr_value *a;
    uint64_t sessions;
    switch (t->kind) {
    case FT_EVENTS: *out = (double)p->events; break;
    case FT_SESSIONS:
        if (persona__profile_sessions(s, u, &sessions))
            return persona__fail_nomem();
        *out = (double)sessions;
        break;
    case FT_ORDERS: *out = p->orders; break;
    case FT_VALUE_SUM: *out = p->value_sum + p->value_comp; break;
    case FT_EVENT_TYPES: *out = p->n_types; break;
    case FT_ATTRIBUTES: *out = persona__profile_attr_count(s, u); break;
    case FT_RECENCY:
        *out = p->events ? (double)(as_of - p->last_seen) / DAY_MS : NAN;
        break;
    case FT_TENURE:
        *out = p->events ? (double)(as_of - p->first_seen) / DAY_MS : NAN;
        break;
    case FT_COUNT:
    case FT_VALUE:
        ts = id == PERSONA__NO_ID ? NULL : persona__profile_type_stat(s, u, id);
        *out = !ts ? 0 : t->kind == FT_COUNT ? (double)ts->count : ts->value + ts->comp;
        break;
    case FT_ATTR:
        a = attr_of(s, u, id);
        if (a && a->type == PERSONA_STR)
            return value_error(s, u, t, "the attribute is a string (use onehot(attr()))");
        *out = !a                          ? NAN
               : a->type == PERSONA_NUM    ? a->num
               : a->type == PERSONA_BOOL   ? (double)(a->boolean != 0)
                                           : (double)(as_of - a->time_ms) / DAY_MS;
        break;
    default: { /* FT_ENGAGEMENT */
        uint32_t e = id == PERSONA__NO_ID
                         ? UINT32_MAX
                         : persona__pairmap_find(&s->user_category, PERSONA__PAIR(u, id));
        const engagement *g = e == UINT32_MAX ? NULL : &s->engagements[e];
        /* as persona_store_profile_engagement() computes it */
        *out = g ? g->score * exp2(-((double)as_of - (double)g->ref_ms) / (double)s->half_life_ms)
                 : 0;
        break;
    }
    }
    return PERSONA_OK;
}

/* Lookup of a level among a term's named levels: its index, or n_level (`other`). */
static size_t find_level(const feat_term *t, const char *str, size_t len)
{
    size_t lo = 0, hi = t->n_level;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *l = t->level[t->by_name[mid]];
        size_t ll = strlen(l);
        int c = memcmp(l, str, ll < len ? ll : len);
        if (c == 0)
            c = (ll > len) - (ll < len);
        if (c == 0)
            return t->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return t->n_level;
}

/* A profile's row before the fill and standardization: transformed values, NaN when
 * missing; one-hot columns 1 / 0. The levels are known. */
static int row_values(const persona_features *f, const persona_store *s, uint32_t u,
                      const uint32_t *ids, double *row)
{
    for (size_t i = 0; i < f->spec.n_terms; i++) {
        const feat_term *t = &f->spec.terms[i];
        double *x = row + t->first_col;
        int rc;
        if (is_onehot(t)) {
            const char *str;
            size_t len;
            if ((rc = level_of(s, u, t, ids[i], &str, &len)))
                return rc;
            for (size_t c = 0; c < t->n_cols; c++)
                x[c] = 0;
            if (str)
                x[find_level(t, str, len)] = 1;
            continue;
        }
        double v = NAN;
        if ((rc = raw_value(s, u, t, ids[i], f->as_of_ms, &v)))
            return rc;
        if (t->transform == PERSONA_FEATURES_LOG1P && v < 0)
            return value_error(s, u, t, "a negative value under log1p (slog1p takes any sign)");
        if (t->transform == PERSONA_FEATURES_LOG1P)
            v = log1p(v);
        else if (t->transform == PERSONA_FEATURES_SLOG1P)
            v = v < 0 ? -log1p(-v) : log1p(v);
        if (isinf(v))
            return value_error(s, u, t, "the value is not finite");
        *x = v;
    }
    return PERSONA_OK;
}

static double finish(const persona_features_column *c, double v)
{
    if (isnan(v))
        v = c->fill;
    if (!c->standardized)
        return v;
    return c->sd > 0 ? (v - c->mean) / c->sd : 0;
}

/* ---- one-hot levels ------------------------------------------------------------------ */

typedef struct level_count {
    const char *s;
    size_t len, count, index;
} level_count;

static int cmp_bytes(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int cmp_by_name(const void *a, const void *b)
{
    const level_count *x = a, *y = b;
    return cmp_bytes(x->s, x->len, y->s, y->len);
}

static int cmp_by_count(const void *a, const void *b)
{
    const level_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return cmp_by_name(a, b);
}

/* Count the values of a one-hot term over the rows and keep the `limit` most frequent
 * (ties by name) as its levels. */
static int count_levels(const persona_store *s, const uint32_t *rows, size_t n, feat_term *t,
                        uint32_t id, uint32_t limit, level_count *vals)
{
    size_t m = 0;
    for (size_t r = 0; r < n; r++) {
        int rc = level_of(s, rows[r], t, id, &vals[m].s, &vals[m].len);
        if (rc)
            return rc;
        m += vals[m].s != NULL;
    }
    qsort(vals, m, sizeof *vals, cmp_by_name);
    size_t distinct = 0;
    for (size_t i = 0; i < m; i++) {
        if (distinct && cmp_by_name(&vals[distinct - 1], &vals[i]) == 0) {
            vals[distinct - 1].count++;
            continue;
        }
        vals[distinct] = vals[i];
        vals[distinct].count = 1;
        distinct++;
    }
    qsort(vals, distinct, sizeof *vals, cmp_by_count);
    size_t keep = distinct < limit ? distinct : limit;
    if (keep) {
        t->level = persona__calloc(keep, sizeof *t->level);
        t->by_name = persona__calloc(keep, sizeof *t->by_name);
        if (!t->level || !t->by_name)
            return persona__fail_nomem();
    }
    for (size_t i = 0; i < keep; i++) {
        t->level[i] = persona__strndup(vals[i].s, vals[i].len);
        if (!t->level[i])
            return persona__fail_nomem();
        t->n_level++;
        vals[i].index = i;
    }
    qsort(vals, keep, sizeof *vals, cmp_by_name);
    for (size_t i = 0; i < keep; i++)
        t->by_name[i] = (uint32_t)vals[i].index;
    t->has_other = 1;
    return PERSONA_OK;
}

/* ---- the columns --------------------------------------------------------------------- */

static char *level_name(const char *prefix, const char *level)
{
    size_t lp = strlen(prefix), ll = strlen(level);
    char *s = persona__alloc(lp + ll + 2);
    if (s) {
        memcpy(s, prefix, lp);
        s[lp] = '=';
        memcpy(s + lp + 1, level, ll + 1);
    }
    return s;
}

/* Column names, views and transforms from the terms (levels known). */
static int make_columns(persona_features *f)
{
    size_t d = 0;
    for (size_t i = 0; i < f->spec.n_terms; i++) {
        feat_term *t = &f->spec.terms[i];
        t->first_col = d;
        t->n_cols = is_onehot(t) ? t->n_level + t->has_other : 1;
        d += t->n_cols;
    }
    if (d > PERSONA_FEATURES_MAX_COLUMNS)
        return persona__fail(PERSONA_EINVAL, "the spec gives %zu columns, more than %d", d,
                             PERSONA_FEATURES_MAX_COLUMNS);
    f->cols = persona__calloc(d, sizeof *f->cols);
    if (!f->cols)
        return persona__fail_nomem();
    f->d = d;
    for (size_t i = 0; i < f->spec.n_terms; i++) {
        const feat_term *t = &f->spec.terms[i];
        for (size_t c = 0; c < t->n_cols; c++) {
            feat_col *col = &f->cols[t->first_col + c];
            col->term = (uint32_t)i;
            col->info.struct_size = sizeof col->info;
            col->info.view = t->view;
            col->info.transform = t->transform;
            col->info.standardized = !t->raw && !(f->flags & PERSONA_FEATURES_RAW);
            col->name = !is_onehot(t)        ? persona__strndup(t->name, strlen(t->name))
                        : c < t->n_level     ? level_name(t->name, t->level[c])
                                             : level_name(t->name, "other");
            if (!col->name)
                return persona__fail_nomem();
        }
    }
    char **names = persona__calloc(d ? d : 1, sizeof *names);
    if (!names)
        return persona__fail_nomem();
    for (size_t j = 0; j < d; j++)
        names[j] = f->cols[j].name;
    qsort(names, d, sizeof *names, persona__cmp_str);
    int rc = PERSONA_OK;
    for (size_t j = 1; j < d && rc == PERSONA_OK; j++)
        if (strcmp(names[j - 1], names[j]) == 0)
            rc = persona__fail(PERSONA_EINVAL, "two columns are named '%.200s'", names[j]);
    persona__free(names);
    return rc;
}

/* Fill, mean and sd of every column, then the matrix finished with them. */
static void column_stats(persona_features *f)
{
    persona__exactsum sum;
    for (size_t j = 0; j < f->d; j++) {
        persona_features_column *c = &f->cols[j].info;
        persona__exactsum_init(&sum);
        for (size_t r = 0; r < f->n; r++) {
            double v = f->x[r * f->d + j];
            if (!isnan(v)) {
                persona__exactsum_add(&sum, v);
                c->present++;
            }
        }
        c->fill = c->present ? persona__exactsum_value(&sum) / (double)c->present : 0;
        if (c->standardized) {
            c->mean = c->fill; /* the mean of the filled column is the mean of the present */
            persona__exactsum_init(&sum);
            for (size_t r = 0; r < f->n; r++) {
                double v = f->x[r * f->d + j];
                double dv = (isnan(v) ? c->fill : v) - c->mean;
                persona__exactsum_add(&sum, dv * dv);
            }
            c->sd = f->n ? sqrt(persona__exactsum_value(&sum) / (double)f->n) : 0;
        } else {
            c->sd = 1;
        }
        for (size_t r = 0; r < f->n; r++)
            f->x[r * f->d + j] = finish(c, f->x[r * f->d + j]);
    }
}

static int check_stats(const persona_features *f)
{
    for (size_t j = 0; j < f->d; j++) {
        const persona_features_column *c = &f->cols[j].info;
        if (!isfinite(c->fill) || !isfinite(c->sd))
            return persona__fail(PERSONA_EINVAL, "column '%.200s': the values are too large "
                                                 "to average (use log1p or slog1p)",
                                 f->cols[j].name);
    }
    return PERSONA_OK;
}

/* ---- build --------------------------------------------------------------------------- */

static int build_locked(persona_features *f, const persona_store *s, uint32_t *ids)
{
    if (!f->as_of_ms)
        f->as_of_ms = s->log.count ? s->last_time_ms : 0;
    resolve_ids(s, &f->spec, ids);
    size_t n_ids = s->users.count, n = 0, key_bytes = 0;
    for (uint32_t u = 0; u < n_ids; u++)
        if (persona__id_root(s, u) == u) {
            n++;
            key_bytes += persona__intern_len(&s->users, u) + 1;
        }
    uint32_t *rows = persona__calloc(n ? n : 1, sizeof *rows);
    level_count *vals = persona__calloc(n ? n : 1, sizeof *vals);
    f->keys = persona__alloc(key_bytes ? key_bytes : 1);
    f->key_off = persona__calloc(n + 1, sizeof *f->key_off);
    int rc = rows && vals && f->keys && f->key_off ? PERSONA_OK : persona__fail_nomem();
    if (rc == PERSONA_OK) {
        size_t r = 0, off = 0;
        for (uint32_t u = 0; u < n_ids; u++)
            if (persona__id_root(s, u) == u) {
                size_t len = persona__intern_len(&s->users, u);
                memcpy(f->keys + off, persona__intern_str(&s->users, u), len + 1);
                f->key_off[r] = off;
                rows[r++] = u;
                off += len + 1;
            }
        f->key_off[n] = off;
        f->n = n;
    }
    for (size_t i = 0; rc == PERSONA_OK && i < f->spec.n_terms; i++) {
        feat_term *t = &f->spec.terms[i];
        if (is_onehot(t))
            rc = count_levels(s, rows, n, t, ids[i], t->levels ? t->levels : f->max_levels,
                              vals);
    }
    persona__free(vals);
    if (rc == PERSONA_OK)
        rc = make_columns(f);
    if (rc == PERSONA_OK && n && f->d) {
        f->x = persona__calloc(n, f->d * sizeof *f->x);
        if (!f->x)
            rc = persona__fail_nomem();
    }
    for (size_t r = 0; rc == PERSONA_OK && r < n; r++)
        rc = row_values(f, s, rows[r], ids, f->x + r * f->d);
    persona__free(rows);
    return rc;
}

static int options_in(persona_features *f, const persona_features_options *opts)
{
    persona_features_options o = PERSONA_FEATURES_OPTIONS_INIT;
    if (opts) {
        int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_features_options");
        if (rc)
            return rc;
    }
    if (o.flags & ~PERSONA_FEATURES_RAW)
        return persona__fail(PERSONA_EUNSUPPORTED, "features options: unknown flags 0x%x",
                             (unsigned)(o.flags & ~PERSONA_FEATURES_RAW));
    if (o.as_of_ms && (o.as_of_ms < PERSONA_TIME_MIN || o.as_of_ms > PERSONA_TIME_MAX))
        return persona__fail(PERSONA_EINVAL, "features options: as_of_ms %lld is outside "
                                             "PERSONA_TIME_MIN … PERSONA_TIME_MAX",
                             (long long)o.as_of_ms);
    if (o.max_levels > PERSONA_FEATURES_MAX_LEVELS)
        return persona__fail(PERSONA_EINVAL, "features options: max_levels %u is more than %d",
                             (unsigned)o.max_levels, PERSONA_FEATURES_MAX_LEVELS);
    if (o.reserved)
        return persona__fail(PERSONA_EINVAL, "features options: reserved is not 0");
    f->flags = o.flags;
    f->as_of_ms = o.as_of_ms;
    f->max_levels = o.max_levels ? o.max_levels : PERSONA_FEATURES_DEFAULT_LEVELS;
    return PERSONA_OK;
}

PERSONA_API void persona_features_free(persona_features *f)
{
    if (!f)
        return;
    persona__features_spec_free(&f->spec);
    for (size_t j = 0; f->cols && j < f->d; j++)
        persona__free(f->cols[j].name);
    persona__free(f->cols);
    persona__free(f->keys);
    persona__free(f->key_off);
    persona__free(f->x);
    persona__free(f);
}

PERSONA_API int persona_features_build(persona_features **out, const persona_store *store,
                                       const char *spec, const persona_features_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "persona_features_build: out is NULL");
    *out = NULL;
    if (!store || !spec)
        return persona__fail(PERSONA_EINVAL, "persona_features_build: %s is NULL",
                             store ? "spec" : "store");
    size_t len = strlen(spec);
    if (len > PERSONA_FEATURES_MAX_SPEC)
        return persona__fail(PERSONA_EINVAL, "the spec has %zu bytes, more than %d", len,
                             PERSONA_FEATURES_MAX_SPEC);
    persona_features *f = persona__calloc(1, sizeof *f);
    if (!f)
        return persona__fail_nomem();
    int rc = options_in(f, opts);
    if (rc == PERSONA_OK)
        rc = persona__features_parse(&f->spec, spec, len);
    uint32_t *ids = NULL;
    if (rc == PERSONA_OK) {
        ids = persona__calloc(f->spec.n_terms, sizeof *ids);
        if (!ids)
            rc = persona__fail_nomem();
    }
    if (rc == PERSONA_OK) {
        STORE_RDLOCK(store);
        rc = build_locked(f, store, ids);
        STORE_UNLOCK(store);
    }
    persona__free(ids);
    if (rc == PERSONA_OK) {
        column_stats(f);
        rc = check_stats(f);
    }
    if (rc) {
        persona_features_free(f);
        return rc;
    }
    *out = f;
    return PERSONA_OK;
}

/* ---- queries ------------------------------------------------------------------------- */

PERSONA_API int persona_features_info_get(persona_features_info *info,
                                          const persona_features *f)
{
    if (!f)
        return persona__fail(PERSONA_EINVAL, "features is NULL");
    persona_features_info in;
    memset(&in, 0, sizeof in);
    in.views = (uint32_t)f->spec.n_views;
    in.n = f->n;
    in.d = f->d;
    in.as_of_ms = f->as_of_ms;
    in.flags = f->flags;
    return persona__struct_out(info, &in, sizeof in, sizeof in, "persona_features_info");
}

PERSONA_API int persona_features_matrix(double *out, size_t capacity, const persona_features *f)
{
    if (!f || (!out && capacity))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", f ? "out" : "features");
    size_t need = f->n * f->d;
    if (capacity < need)
        return persona__fail(PERSONA_EBUFS, "the matrix needs %zu doubles, room for %zu", need,
                             capacity);
    if (need)
        memcpy(out, f->x, need * sizeof *out);
    return PERSONA_OK;
}

static int check_column(const persona_features *f, size_t column)
{
    if (!f)
        return persona__fail(PERSONA_EINVAL, "features is NULL");
    if (column >= f->d)
        return persona__fail(PERSONA_ENOTFOUND, "column %zu out of range (%zu)", column, f->d);
    return PERSONA_OK;
}

PERSONA_API int persona_features_column_name(char *buf, size_t capacity, size_t *out_len,
                                             const persona_features *f, size_t column)
{
    int rc = check_column(f, column);
    return rc ? rc
              : persona__copy_out(buf, capacity, out_len, f->cols[column].name,
                                  strlen(f->cols[column].name));
}

PERSONA_API int persona_features_column_get(persona_features_column *out,
                                            const persona_features *f, size_t column)
{
    int rc = check_column(f, column);
    return rc ? rc
              : persona__struct_out(out, &f->cols[column].info, sizeof f->cols[column].info,
                                    sizeof f->cols[column].info, "persona_features_column");
}

static int check_view(const persona_features *f, uint32_t view)
{
    if (!f)
        return persona__fail(PERSONA_EINVAL, "features is NULL");
    if (view >= f->spec.n_views)
        return persona__fail(PERSONA_ENOTFOUND, "view %u out of range (%zu)", (unsigned)view,
                             f->spec.n_views);
    return PERSONA_OK;
}

PERSONA_API int persona_features_view_name(char *buf, size_t capacity, size_t *out_len,
                                           const persona_features *f, uint32_t view)
{
    int rc = check_view(f, view);
    return rc ? rc
              : persona__copy_out(buf, capacity, out_len, f->spec.views[view],
                                  strlen(f->spec.views[view]));
}

PERSONA_API int persona_features_view_columns(size_t *first_out, size_t *count_out,
                                              const persona_features *f, uint32_t view)
{
    int rc = check_view(f, view);
    if (rc)
        return rc;
    const feat_term *first = &f->spec.terms[f->spec.view_first[view]];
    const feat_term *last = &f->spec.terms[f->spec.view_first[view + 1] - 1];
    if (first_out)
        *first_out = first->first_col;
    if (count_out)
        *count_out = last->first_col + last->n_cols - first->first_col;
    return PERSONA_OK;
}

PERSONA_API int persona_features_user_at(char *buf, size_t capacity, size_t *out_len,
                                         const persona_features *f, size_t row)
{
    if (!f)
        return persona__fail(PERSONA_EINVAL, "features is NULL");
    if (row >= f->n)
        return persona__fail(PERSONA_ENOTFOUND, "row %zu out of range (%zu)", row, f->n);
    return persona__copy_out(buf, capacity, out_len, f->keys + f->key_off[row],
                             f->key_off[row + 1] - f->key_off[row] - 1);
}

PERSONA_API int persona_features_transform(double *out, size_t capacity,
                                           const persona_features *f,
                                           const persona_store *store, const char *user)
{
    if (!f || !store || !out)
        return persona__fail(PERSONA_EINVAL, "persona_features_transform: %s is NULL",
                             !f ? "features" : !store ? "store" : "out");
    if (capacity < f->d)
        return persona__fail(PERSONA_EBUFS, "a row needs %zu doubles, room for %zu", f->d,
                             capacity);
    uint32_t *ids = persona__calloc(f->spec.n_terms, sizeof *ids);
    double *row = persona__calloc(f->d, sizeof *row);
    int rc = ids && row ? PERSONA_OK : persona__fail_nomem();
    if (rc == PERSONA_OK) {
        STORE_RDLOCK(store);
        uint32_t u = persona__store_find_user(store, user, &rc);
        if (rc == PERSONA_OK) {
            resolve_ids(store, &f->spec, ids);
            rc = row_values(f, store, u, ids, row);
        }
        STORE_UNLOCK(store);
    }
    if (rc == PERSONA_OK)
        for (size_t j = 0; j < f->d; j++)
            out[j] = finish(&f->cols[j].info, row[j]);
    persona__free(ids);
    persona__free(row);
    return rc;
}
