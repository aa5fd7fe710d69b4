/* Export of every profile as CSV (the `persona profiles` table) or JSON Lines, and of one
 * profile as JSON. Output is built in a buffer and flushed to the caller's writer in
 * pieces of about 64 KiB. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "persona/identity.h"
#include "store_internal.h"

#define FLUSH_AT 65536

/* Keys that are plain decimal integers (no sign, no leading zero) sort first, by value;
 * the rest follow bytewise. Numeric ids then come out as DuckDB's ORDER BY prints them. */
static int is_plain_int(const char *s, size_t len)
{
    if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int cmp_keys(const char *a, size_t la, const char *b, size_t lb)
{
    int ia = is_plain_int(a, la), ib = is_plain_int(b, lb);
    if (ia != ib)
        return ia ? -1 : 1;
    if (ia && la != lb)
        return la < lb ? -1 : 1;
    size_t n = la < lb ? la : lb;
    int c = memcmp(a, b, n);
    return c ? c : (la > lb) - (la < lb);
}

static const persona__intern *sort_table;

static int cmp_ids(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return cmp_keys(persona__intern_str(sort_table, a), persona__intern_len(sort_table, a),
                    persona__intern_str(sort_table, b), persona__intern_len(sort_table, b));
}

static int cmp_bytes(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const char *x = persona__intern_str(sort_table, a), *y = persona__intern_str(sort_table, b);
    size_t lx = persona__intern_len(sort_table, a), ly = persona__intern_len(sort_table, b);
    int c = memcmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* qsort has no context argument in C11; the table pointer is set under the store lock
 * by one exporter at a time (export_lock). */
static pthread_mutex_t export_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t *sorted_ids(const persona__intern *t, int natural)
{
    uint32_t *ids = persona__calloc(t->count ? t->count : 1, sizeof *ids);
    if (!ids)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        ids[i] = (uint32_t)i;
    pthread_mutex_lock(&export_lock);
    sort_table = t;
    qsort(ids, t->count, sizeof *ids, natural ? cmp_ids : cmp_bytes);
    pthread_mutex_unlock(&export_lock);
    return ids;
}

void persona__json_time(persona__buf *b, int64_t t)
{
    char tmp[32];
    size_t n = 0;
    if (persona_time_format(tmp, sizeof tmp, &n, t, 0) == PERSONA_OK)
        persona__buf_append(b, tmp, n);
}

static void put_key_csv(persona__buf *b, const persona__intern *t, uint32_t id)
{
    persona__buf_csv_cell(b, persona__intern_str(t, id), persona__intern_len(t, id), ',');
}

void persona__json_key(persona__buf *b, const persona__intern *t, uint32_t id)
{
    persona__buf_json_str(b, persona__intern_str(t, id), persona__intern_len(t, id));
}

typedef struct exporter {
    const persona_store *s;
    persona__buf out;
    persona_write_fn write;
    void *ctx;
    int rc;
} exporter;

static void flush(exporter *x, int force)
{
    if (x->rc || (!force && x->out.len < FLUSH_AT))
        return;
    if (persona__buf_failed(&x->out)) {
        x->rc = persona__fail_nomem();
        return;
    }
    if (x->out.len && x->write(x->ctx, x->out.data, x->out.len) < 0)
        x->rc = persona__fail(PERSONA_ECALLBACK, "the export writer returned an error");
    persona__buf_clear(&x->out);
}

static void csv_header(exporter *x, const uint32_t *types)
{
    const persona_store *s = x->s;
    persona__buf_puts(&x->out, "user_id,events");
    for (size_t k = 0; k < s->types.count; k++) {
        persona__buf_putc(&x->out, ',');
        put_key_csv(&x->out, &s->types, types[k]);
    }
    persona__buf_puts(&x->out, ",value_sum,first_ts,last_ts\n");
}

static void csv_row(exporter *x, uint32_t u, const uint32_t *type_col, uint64_t *counts)
{
    const persona_store *s = x->s;
    const profile *p = &s->profiles[u];
    for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
        if (p->inline_type[k] != UINT32_MAX)
            counts[type_col[p->inline_type[k]]] = p->inline_stat[k].count;
    for (uint32_t e = p->head_type; e != UINT32_MAX; e = s->user_type.next[e])
        counts[type_col[PERSONA__PAIR_X(s->user_type.keys[e])]] = s->type_stats[e].count;
    put_key_csv(&x->out, &s->users, u);
    persona__buf_putc(&x->out, ',');
    persona__buf_u64(&x->out, p->events);
    for (size_t k = 0; k < s->types.count; k++) {
        persona__buf_putc(&x->out, ',');
        persona__buf_u64(&x->out, counts[k]);
        counts[k] = 0;
    }
    persona__buf_putc(&x->out, ',');
    persona__buf_double(&x->out, p->value_sum + p->value_comp);
    persona__buf_putc(&x->out, ',');
    if (p->events)
        persona__json_time(&x->out, p->first_seen);
    persona__buf_putc(&x->out, ',');
    if (p->events)
        persona__json_time(&x->out, p->last_seen);
    persona__buf_putc(&x->out, '\n');
}

static void json_attr(persona__buf *b, const attr_value *v)
{
    switch (v->type) {
    case PERSONA_NUM: persona__buf_json_double(b, v->num); break;
    case PERSONA_STR: persona__buf_json_str(b, v->str, strlen(v->str)); break;
    case PERSONA_BOOL: persona__buf_puts(b, v->boolean ? "true" : "false"); break;
    case PERSONA_TIME:
        persona__buf_putc(b, '"');
        persona__json_time(b, v->time_ms);
        persona__buf_putc(b, '"');
        break;
    default: persona__buf_puts(b, "null"); break;
    }
}

static void json_type(persona__buf *b, const persona_store *s, uint32_t type,
                      const type_stat *ts, int *first)
{
    if (!*first)
        persona__buf_putc(b, ',');
    *first = 0;
    persona__json_key(b, &s->types, type);
    persona__buf_puts(b, ":{\"count\":");
    persona__buf_u64(b, ts->count);
    persona__buf_puts(b, ",\"value\":");
    persona__buf_json_double(b, ts->value + ts->comp);
    persona__buf_puts(b, ",\"last\":\"");
    persona__json_time(b, persona__eventlog_time(&s->log, ts->latest));
    persona__buf_puts(b, "\"}");
}

/* The identifiers of profile root in id order (their list's order depends on the merges
 * made, not on what the profile is): the smallest after `prev` (UINT32_MAX: the first),
 * UINT32_MAX when none is left. */
static uint32_t member_after(const persona_store *s, uint32_t root, uint32_t prev)
{
    uint32_t best = UINT32_MAX, m = root;
    do {
        if ((prev == UINT32_MAX || m > prev) && m < best)
            best = m;
        m = persona__id_next(s, m);
    } while (m != root);
    return best;
}

/* One profile as a JSON object. Chains list entries newest first; that order is kept. */
static void json_profile(const persona_store *s, persona__buf *b, uint32_t u)
{
    const profile *p = &s->profiles[u];
    persona__buf_puts(b, "{\"user_id\":");
    persona__json_key(b, &s->users, u);
    if (persona__id_next(s, u) != u || persona__id_type(s, u) != 0) {
        persona__buf_puts(b, ",\"identifiers\":[");
        for (uint32_t m = member_after(s, u, UINT32_MAX); m != UINT32_MAX;
             m = member_after(s, u, m)) {
            char tmp[16];
            persona__buf_puts(b, "{\"type\":\"");
            persona__buf_puts(b, persona__id_type_name(persona__id_type(s, m), tmp));
            persona__buf_puts(b, "\",\"id\":");
            persona__json_key(b, &s->users, m);
            persona__buf_puts(b, member_after(s, u, m) == UINT32_MAX ? "}" : "},");
        }
        persona__buf_putc(b, ']');
    }
    persona__buf_puts(b, ",\"events\":");
    persona__buf_u64(b, p->events);
    if (p->events) {
        persona__buf_puts(b, ",\"first_seen\":\"");
        persona__json_time(b, p->first_seen);
        persona__buf_puts(b, "\",\"last_seen\":\"");
        persona__json_time(b, p->last_seen);
        persona__buf_putc(b, '"');
    }
    persona__buf_puts(b, ",\"value_sum\":");
    persona__buf_json_double(b, p->value_sum + p->value_comp);
    if (p->flags & PROFILE_UNTRACKED)
        persona__buf_puts(b, ",\"do_not_track\":true");
    persona__buf_puts(b, ",\"orders\":");
    persona__buf_u64(b, p->orders);
    persona__buf_puts(b, ",\"sessions\":");
    uint64_t sessions = 0;
    if (persona__profile_sessions(s, u, &sessions))
        b->failed = 1; /* reported as ENOMEM by whoever checks the buffer */
    persona__buf_u64(b, sessions);
    persona__buf_puts(b, ",\"types\":{");
    int first_type = 1;
    for (int k = 0; k < PROFILE_INLINE_TYPES; k++)
        if (p->inline_type[k] != UINT32_MAX)
            json_type(b, s, p->inline_type[k], &p->inline_stat[k], &first_type);
    for (uint32_t e = p->head_type; e != UINT32_MAX; e = s->user_type.next[e])
        json_type(b, s, PERSONA__PAIR_X(s->user_type.keys[e]), &s->type_stats[e], &first_type);
    persona__buf_puts(b, "},\"last\":{");
    for (uint32_t e = p->head_prop; e != UINT32_MAX; e = s->user_prop.next[e]) {
        persona__json_key(b, &s->names, PERSONA__PAIR_X(s->user_prop.keys[e]));
        persona__buf_puts(b, ":{\"value\":");
        persona__json_key(b, &s->values, s->last_props[e].value);
        persona__buf_puts(b, ",\"time\":\"");
        persona__json_time(b, s->last_props[e].time_ms);
        persona__buf_puts(b, s->user_prop.next[e] != UINT32_MAX ? "\"}," : "\"}");
    }
    persona__buf_puts(b, "},\"engagement\":{");
    for (uint32_t e = p->head_category; e != UINT32_MAX; e = s->user_category.next[e]) {
        const engagement *g = &s->engagements[e];
        persona__json_key(b, &s->values, PERSONA__PAIR_X(s->user_category.keys[e]));
        persona__buf_putc(b, ':');
        /* Evaluated at the user's last event, so the figure does not depend on "now". */
        persona__buf_json_double(b, g->score * exp2(-(double)(p->last_seen - g->ref_ms) /
                                                (double)s->half_life_ms));
        if (s->user_category.next[e] != UINT32_MAX)
            persona__buf_putc(b, ',');
    }
    /* Attributes and consent of every identifier of the profile, the winner of each name
     * (a single identifier's chain, newest first, as it always was). */
    persona__buf_puts(b, "},\"attributes\":{");
    int first = 1;
    for (uint32_t m = member_after(s, u, UINT32_MAX); m != UINT32_MAX; m = member_after(s, u, m)) {
        for (uint32_t e = s->profiles[m].head_attr; e != UINT32_MAX; e = s->user_attr.next[e]) {
            uint32_t name = PERSONA__PAIR_X(s->user_attr.keys[e]);
            if (s->attrs[e].type < 0 || persona__attr_entry(s, u, name) != e)
                continue;
            if (!first)
                persona__buf_putc(b, ',');
            first = 0;
            persona__json_key(b, &s->names, name);
            persona__buf_putc(b, ':');
            json_attr(b, &s->attrs[e]);
        }
    }
    persona__buf_puts(b, "},\"consent\":{");
    first = 1;
    for (uint32_t m = member_after(s, u, UINT32_MAX); m != UINT32_MAX; m = member_after(s, u, m)) {
        for (uint32_t e = s->profiles[m].head_consent; e != UINT32_MAX;
             e = s->user_consent.next[e]) {
            uint32_t name = PERSONA__PAIR_X(s->user_consent.keys[e]);
            if (persona__consent_entry(s, u, name) != e)
                continue;
            if (!first)
                persona__buf_putc(b, ',');
            first = 0;
            persona__json_key(b, &s->names, name);
            persona__buf_puts(b, s->consents[e].granted ? ":{\"granted\":true,\"time\":\""
                                                        : ":{\"granted\":false,\"time\":\"");
            persona__json_time(b, s->consents[e].time_ms);
            persona__buf_puts(b, "\"}");
        }
    }
    persona__buf_puts(b, "}}");
}

static int export_all(exporter *x, int32_t format)
{
    const persona_store *s = x->s;
    uint32_t *users = sorted_ids(&s->users, 1);
    uint32_t *types = sorted_ids(&s->types, 0);
    uint32_t *type_col = persona__calloc(s->types.count + 1, sizeof *type_col);
    uint64_t *counts = persona__calloc(s->types.count + 1, sizeof *counts);
    if (!users || !types || !type_col || !counts) {
        x->rc = persona__fail_nomem();
    } else {
        for (size_t k = 0; k < s->types.count; k++)
            type_col[types[k]] = (uint32_t)k;
        if (format == PERSONA_EXPORT_PROFILES_CSV)
            csv_header(x, types);
        for (size_t i = 0; i < s->users.count && !x->rc; i++) {
            if (persona__id_root(s, users[i]) != users[i])
                continue; /* exported once, under the key naming its profile */
            if (format == PERSONA_EXPORT_PROFILES_CSV) {
                csv_row(x, users[i], type_col, counts);
            } else {
                json_profile(s, &x->out, users[i]);
                persona__buf_putc(&x->out, '\n');
            }
            flush(x, 0);
        }
        flush(x, 1);
    }
    persona__free(users);
    persona__free(types);
    persona__free(type_col);
    persona__free(counts);
    return x->rc;
}

PERSONA_API int persona_store_export(const persona_store *store, int32_t format,
                                     persona_write_fn write, void *ctx)
{
    if (!store || !write)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "write" : "store");
    if (format != PERSONA_EXPORT_PROFILES_CSV && format != PERSONA_EXPORT_PROFILES_JSONL)
        return persona__fail(PERSONA_EINVAL, "unknown export format %d", (int)format);
    exporter x = { store, { 0 }, write, ctx, PERSONA_OK };
    persona__buf_init(&x.out);
    STORE_RDLOCK(store);
    int rc = export_all(&x, format);
    STORE_UNLOCK(store);
    persona__buf_free(&x.out);
    return rc;
}

/* Give the caller the buffer's text (NUL-terminated, even when empty), or free it. */
static int hand_over(persona__buf *b, int rc, char **out, size_t *out_len)
{
    if (rc == PERSONA_OK && (persona__buf_failed(b) || persona__buf_reserve(b, 0)))
        rc = persona__fail_nomem();
    if (rc) {
        persona__buf_free(b);
        return rc;
    }
    if (out_len)
        *out_len = b->len;
    *out = b->data;
    return PERSONA_OK;
}

static int append_to_buf(void *ctx, const char *data, size_t len)
{
    persona__buf *b = ctx;
    persona__buf_append(b, data, len);
    return persona__buf_failed(b) ? -1 : 0;
}

PERSONA_API int persona_store_export_buffer(char **out, size_t *out_len,
                                            const persona_store *store, int32_t format)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    *out = NULL;
    persona__buf b;
    persona__buf_init(&b);
    int rc = persona_store_export(store, format, append_to_buf, &b);
    if (rc == PERSONA_ECALLBACK)
        rc = persona__fail_nomem();
    return hand_over(&b, rc, out, out_len);
}

/* One user's JSON into a new buffer: the checks, lock and lookup the per-user exports
 * share; `write` returns PERSONA_OK or an error code. */
static int one_user(char **out, size_t *out_len, const persona_store *store, const char *user,
                    int (*write)(const persona_store *, persona__buf *, uint32_t),
                    int user_optional)
{
    if (out)
        *out = NULL;
    if (!out || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "store" : "out");
    persona__buf b;
    persona__buf_init(&b);
    STORE_RDLOCK(store);
    int rc = PERSONA_OK;
    uint32_t u = user_optional && !user ? PERSONA__NO_ID
                                        : persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK)
        rc = write(store, &b, u);
    STORE_UNLOCK(store);
    return hand_over(&b, rc, out, out_len);
}

static int write_profile(const persona_store *s, persona__buf *b, uint32_t u)
{
    json_profile(s, b, u);
    return PERSONA_OK;
}

PERSONA_API int persona_store_profile_json(char **out, size_t *out_len,
                                           const persona_store *store, const char *user)
{
    return one_user(out, out_len, store, user, write_profile, 0);
}

/* One event of the log as JSON: time, type and whatever else it carries. */
static void json_event(const persona_store *s, persona__buf *b, size_t i)
{
    const log_chunk *c = persona__eventlog_chunk(&s->log, i);
    size_t k = persona__eventlog_slot(i);
    persona__buf_puts(b, "{\"time\":\"");
    persona__json_time(b, c->time[k]);
    persona__buf_puts(b, "\",\"type\":");
    persona__json_key(b, &s->types, c->type[k]);
    if (c->item && c->item[k] != LOG_NO_ID) {
        persona__buf_puts(b, ",\"item\":");
        persona__json_key(b, &s->items, c->item[k]);
    }
    if (c->basket && c->basket[k] != LOG_NO_ID) {
        persona__buf_puts(b, ",\"basket\":");
        persona__json_key(b, &s->baskets, c->basket[k]);
    }
    if (c->event_id && c->event_id[k] != LOG_NO_ID) {
        persona__buf_puts(b, ",\"id\":");
        persona__json_key(b, &s->event_ids, c->event_id[k]);
    }
    if (c->value && !isnan(c->value[k])) {
        persona__buf_puts(b, ",\"value\":");
        persona__buf_json_double(b, c->value[k]);
    }
    int first = 1;
    for (size_t p = 0; p < s->log.n_props && p < LOG_MAX_PROPS; p++) {
        if (!c->props[p] || c->props[p][k] == LOG_NO_ID)
            continue;
        persona__buf_puts(b, first ? ",\"props\":{" : ",");
        first = 0;
        persona__json_key(b, &s->names, s->log.prop_names[p]);
        persona__buf_putc(b, ':');
        persona__json_key(b, &s->values, c->props[p][k]);
    }
    persona__buf_puts(b, first ? "}" : "}}");
}

/* The profile and the user's events, oldest first (the chain runs newest first). */
static int write_person(const persona_store *s, persona__buf *b, uint32_t u)
{
    const profile *p = &s->profiles[u];
    uint32_t *order = persona__alloc((p->events ? p->events : 1) * sizeof *order);
    if (!order)
        return persona__fail_nomem();
    size_t n = 0;
    for (uint32_t e = p->last_event; e != LOG_NO_ID && n < p->events;
         e = persona__eventlog_prev(&s->log, e))
        order[n++] = e;
    persona__buf_puts(b, "{\"format\":\"persona-person-1\",\"profile\":");
    json_profile(s, b, u);
    persona__buf_puts(b, ",\"events\":[");
    for (size_t i = n; i-- > 0;) {
        json_event(s, b, order[i]);
        if (i)
            persona__buf_putc(b, ',');
    }
    persona__buf_putc(b, ']');
    if (persona__merge_log_count(s, u)) {
        persona__buf_puts(b, ",\"merge_log\":");
        persona__merge_log_json(s, b, u);
    }
    persona__buf_putc(b, '}');
    persona__free(order);
    return PERSONA_OK;
}

PERSONA_API int persona_store_export_profile(char **out, size_t *out_len,
                                             const persona_store *store, const char *user)
{
    return one_user(out, out_len, store, user, write_person, 0);
}

static int write_merge_log(const persona_store *s, persona__buf *b, uint32_t root)
{
    persona__merge_log_json(s, b, root);
    return PERSONA_OK;
}

PERSONA_API int persona_store_merge_log(char **out, size_t *out_len, const persona_store *store,
                                        const char *user)
{
    return one_user(out, out_len, store, user, write_merge_log, 1);
}
