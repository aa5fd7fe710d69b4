/* Reading an RFM result: getters, exports (CSV per user, CSV summary, JSON) and the
 * snapshot (kind PERSONA__SNAP_KIND_RFM in the container of lib/persist), two required sections:
 *
 *   SPEC   revision u32, bins u32, reference_ms i64, from_ms i64, purchase_type,
 *          return_type, consent_purpose (strings: u32 length, 0xFFFFFFFF = none, bytes).
 *   USERS  n u64, key bytes u64, key lengths u32[n], the keys, latest purchase i64[n],
 *          orders u64[n], monetary f64[n] (IEEE 754 bits).
 *
 * Loading checks every field (the options as a build checks them, counts against the
 * section before anything is allocated for them, keys valid, distinct and non-empty,
 * times within [from, reference], orders >= 1, monetary not NaN) and computes the scores
 * and segments again from the values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "persist/snapfile.h"
#include "segment/rfm_internal.h"
#include "store/store_internal.h"

/* ---- getters ------------------------------------------------------------------------- */

PERSONA_API int persona_rfm_count(size_t *out, const persona_rfm *x)
{
    if (!out || !x)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "rfm" : "out");
    *out = x->n;
    return PERSONA_OK;
}

PERSONA_API int persona_rfm_bins(uint32_t *out, const persona_rfm *x)
{
    if (!out || !x)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "rfm" : "out");
    *out = x->o.bins;
    return PERSONA_OK;
}

PERSONA_API int persona_rfm_reference(int64_t *out, const persona_rfm *x)
{
    if (!out || !x)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "rfm" : "out");
    *out = x->o.reference_ms;
    return PERSONA_OK;
}

static int check_index(const persona_rfm *x, size_t index)
{
    if (!x)
        return persona__fail(PERSONA_EINVAL, "rfm is NULL");
    if (index >= x->n)
        return persona__fail(PERSONA_ENOTFOUND, "no user %zu (%zu users scored)", index, x->n);
    return PERSONA_OK;
}

PERSONA_API int persona_rfm_user_at(char *buf, size_t capacity, size_t *out_len,
                                    const persona_rfm *x, size_t index)
{
    int rc = check_index(x, index);
    if (rc)
        return rc;
    size_t len;
    const char *key = persona__rfm_key(x, index, &len);
    return persona__copy_out(buf, capacity, out_len, key, len);
}

static persona_rfm_entry entry_of(const persona_rfm *x, size_t i)
{
    persona_rfm_entry e;
    memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    e.segment = x->segment[i];
    e.last_purchase_ms = x->last_ms[i];
    e.recency_days = (x->o.reference_ms - x->last_ms[i]) / RFM_DAY_MS;
    e.frequency = x->frequency[i];
    e.monetary = x->monetary[i];
    e.r = x->r[i];
    e.f = x->f[i];
    e.m = x->m[i];
    return e;
}

PERSONA_API int persona_rfm_get(persona_rfm_entry *out, const persona_rfm *x, size_t index)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    int rc = check_index(x, index);
    if (rc)
        return rc;
    persona_rfm_entry e = entry_of(x, index);
    return persona__struct_out(out, &e, sizeof e, sizeof e, "persona_rfm_entry");
}

PERSONA_API int persona_rfm_find(size_t *out, const persona_rfm *x, const char *user)
{
    if (!out || !x || !user)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !x ? "rfm" : "user");
    size_t ulen = strlen(user), lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, klen;
        const char *key = persona__rfm_key(x, x->by_key[mid], &klen);
        int c = memcmp(key, user, klen < ulen ? klen : ulen);
        if (c == 0)
            c = (klen > ulen) - (klen < ulen);
        if (c == 0) {
            *out = x->by_key[mid];
            return PERSONA_OK;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return persona__fail(PERSONA_ENOTFOUND, "user '%.200s' is not scored", user);
}

PERSONA_API int persona_rfm_segment_size(uint64_t *out, const persona_rfm *x, int32_t segment)
{
    if (!out || !x)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "rfm" : "out");
    if (segment < 0 || segment >= PERSONA_RFM_SEGMENTS)
        return persona__fail(PERSONA_EINVAL, "unknown RFM segment %d (0 … %d)", (int)segment,
                             PERSONA_RFM_SEGMENTS - 1);
    *out = x->seg_size[segment];
    return PERSONA_OK;
}

/* ---- exports ------------------------------------------------------------------------- */

typedef persona__export_writer writer;

static double share_of(const persona_rfm *x, int32_t s)
{
    return x->n ? (double)x->seg_size[s] / (double)x->n : NAN;
}

static void export_csv(writer *w, const persona_rfm *x)
{
    persona__buf *b = &w->out;
    persona__buf_puts(b, "user,recency_days,frequency,monetary,r,f,m,segment\n");
    for (size_t i = 0; i < x->n && !w->rc; i++) {
        persona_rfm_entry e = entry_of(x, i);
        size_t len;
        const char *key = persona__rfm_key(x, i, &len);
        const char *name = persona_rfm_segment_name(e.segment);
        persona__buf_csv_cell(b, key, len, ',');
        persona__buf_putc(b, ',');
        persona__buf_i64(b, e.recency_days);
        persona__buf_putc(b, ',');
        persona__buf_u64(b, e.frequency);
        persona__buf_putc(b, ',');
        persona__buf_double(b, e.monetary);
        persona__buf_putc(b, ',');
        persona__buf_i64(b, e.r);
        persona__buf_putc(b, ',');
        persona__buf_i64(b, e.f);
        persona__buf_putc(b, ',');
        persona__buf_i64(b, e.m);
        persona__buf_putc(b, ',');
        persona__buf_csv_cell(b, name, strlen(name), ',');
        persona__buf_putc(b, '\n');
        persona__export_flush(w, 0);
    }
}

static void export_summary(writer *w, const persona_rfm *x)
{
    persona__buf *b = &w->out;
    persona__buf_puts(b, "segment,users,share\n");
    for (int32_t s = 0; s < PERSONA_RFM_SEGMENTS; s++) {
        const char *name = persona_rfm_segment_name(s);
        persona__buf_csv_cell(b, name, strlen(name), ',');
        persona__buf_putc(b, ',');
        persona__buf_u64(b, x->seg_size[s]);
        persona__buf_putc(b, ',');
        double share = share_of(x, s);
        if (!isnan(share))
            persona__buf_double(b, share);
        persona__buf_putc(b, '\n');
    }
}

static void json_str_or_null(persona__buf *b, const char *s)
{
    if (s)
        persona__buf_json_str(b, s, strlen(s));
    else
        persona__buf_puts(b, "null");
}

static void json_time(persona__buf *b, int64_t t)
{
    char text[32];
    size_t len = 0;
    if (persona_time_format(text, sizeof text, &len, t, 0) == PERSONA_OK)
        persona__buf_json_str(b, text, len);
    else
        persona__buf_puts(b, "null"); /* the default reference past PERSONA_TIME_MAX */
}

static void export_json(writer *w, const persona_rfm *x)
{
    persona__buf *b = &w->out;
    persona__buf_puts(b, "{\"bins\":");
    persona__buf_u64(b, x->o.bins);
    persona__buf_puts(b, ",\"reference\":");
    json_time(b, x->o.reference_ms);
    persona__buf_puts(b, ",\"reference_ms\":");
    persona__buf_i64(b, x->o.reference_ms);
    persona__buf_puts(b, ",\"from\":");
    if (x->o.from_ms)
        json_time(b, x->o.from_ms);
    else
        persona__buf_puts(b, "null");
    persona__buf_puts(b, ",\"purchase_type\":");
    json_str_or_null(b, x->o.purchase_type);
    persona__buf_puts(b, ",\"return_type\":");
    json_str_or_null(b, x->o.return_type);
    persona__buf_puts(b, ",\"consent_purpose\":");
    json_str_or_null(b, x->o.consent_purpose);
    persona__buf_puts(b, ",\"users\":");
    persona__buf_u64(b, x->n);
    persona__buf_puts(b, ",\"segments\":[");
    for (int32_t s = 0; s < PERSONA_RFM_SEGMENTS; s++) {
        persona__buf_puts(b, s ? ",{\"segment\":" : "{\"segment\":");
        json_str_or_null(b, persona_rfm_segment_name(s));
        persona__buf_puts(b, ",\"users\":");
        persona__buf_u64(b, x->seg_size[s]);
        persona__buf_puts(b, ",\"share\":");
        persona__buf_json_double(b, share_of(x, s));
        persona__buf_putc(b, '}');
    }
    persona__buf_puts(b, "],\"rows\":[");
    for (size_t i = 0; i < x->n && !w->rc; i++) {
        persona_rfm_entry e = entry_of(x, i);
        size_t len;
        const char *key = persona__rfm_key(x, i, &len);
        persona__buf_puts(b, i ? ",\n{\"user\":" : "\n{\"user\":");
        persona__buf_json_str(b, key, len);
        persona__buf_puts(b, ",\"recency_days\":");
        persona__buf_i64(b, e.recency_days);
        persona__buf_puts(b, ",\"frequency\":");
        persona__buf_u64(b, e.frequency);
        persona__buf_puts(b, ",\"monetary\":");
        persona__buf_json_double(b, e.monetary);
        persona__buf_puts(b, ",\"r\":");
        persona__buf_i64(b, e.r);
        persona__buf_puts(b, ",\"f\":");
        persona__buf_i64(b, e.f);
        persona__buf_puts(b, ",\"m\":");
        persona__buf_i64(b, e.m);
        persona__buf_puts(b, ",\"segment\":");
        json_str_or_null(b, persona_rfm_segment_name(e.segment));
        persona__buf_putc(b, '}');
        persona__export_flush(w, 0);
    }
    persona__buf_puts(b, x->n ? "\n]}\n" : "]}\n");
}

PERSONA_API int persona_rfm_export(const persona_rfm *x, int32_t format, persona_write_fn write,
                                   void *ctx)
{
    if (!x || !write)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", x ? "write" : "rfm");
    if (format != PERSONA_RFM_EXPORT_CSV && format != PERSONA_RFM_EXPORT_SUMMARY_CSV &&
        format != PERSONA_RFM_EXPORT_JSON)
        return persona__fail(PERSONA_EINVAL, "unknown RFM export format %d", (int)format);
    writer w = { { 0 }, write, ctx, PERSONA_OK };
    persona__buf_init(&w.out);
    if (format == PERSONA_RFM_EXPORT_CSV)
        export_csv(&w, x);
    else if (format == PERSONA_RFM_EXPORT_SUMMARY_CSV)
        export_summary(&w, x);
    else
        export_json(&w, x);
    persona__export_flush(&w, 1);
    persona__buf_free(&w.out);
    return w.rc;
}

PERSONA_API int persona_rfm_export_buffer(char **out, size_t *out_len, const persona_rfm *x,
                                          int32_t format)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    persona__buf b;
    persona__buf_init(&b);
    int rc = persona_rfm_export(x, format, persona__buf_write, &b);
    if (rc == PERSONA_ECALLBACK) /* the only write that fails is an append out of memory */
        rc = persona__fail_nomem();
    return persona__buf_hand_over(&b, rc, out, out_len);
}

/* ---- saving -------------------------------------------------------------------------- */

enum { SEC_SPEC = 1, SEC_USERS = 2 };
#define RFM_SECTIONS_REVISION 1u

PERSONA_API int persona_rfm_save(const persona_rfm *x, const char *path)
{
    if (!x || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", x ? "path" : "rfm");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_RFM);
    if (rc)
        return rc;
    persona__snap_begin(w, SEC_SPEC, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, RFM_SECTIONS_REVISION);
    persona__snap_put_u32(w, x->o.bins);
    persona__snap_put_i64(w, x->o.reference_ms);
    persona__snap_put_i64(w, x->o.from_ms);
    persona__snap_put_str(w, x->o.purchase_type);
    persona__snap_put_str(w, x->o.return_type);
    persona__snap_put_str(w, x->o.consent_purpose);
    persona__snap_end(w);

    persona__snap_begin(w, SEC_USERS, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u64(w, x->n);
    persona__snap_put_u64(w, x->n ? x->key_off[x->n] - x->n : 0); /* without the NULs */
    for (size_t i = 0; i < x->n; i++) {
        size_t len;
        persona__rfm_key(x, i, &len);
        persona__snap_put_u32(w, (uint32_t)len);
    }
    for (size_t i = 0; i < x->n; i++) {
        size_t len;
        const char *key = persona__rfm_key(x, i, &len);
        persona__snap_put(w, key, len);
    }
    if (x->n) {
        persona__snap_put_i64s(w, x->last_ms, x->n);
        persona__snap_put_u64s(w, x->frequency, x->n);
        persona__snap_put_f64s(w, x->monetary, x->n);
    }
    persona__snap_end(w);
    return persona__snap_commit(w);
}

/* ---- loading ------------------------------------------------------------------------- */

typedef struct loader {
    persona__snap_reader *r;
    const char *path;
} loader;

static int need_section(loader *ld, uint32_t id, const char *name)
{
    uint64_t len = 0;
    int rc = persona__snap_section(ld->r, id, name, &len);
    if (rc == 0)
        return persona__fail(PERSONA_ECORRUPT, "%s: the %s section is missing", ld->path, name);
    return rc < 0 ? rc : PERSONA_OK;
}

/* The options, checked as a build checks them. */
static int load_spec(loader *ld, rfm_opts *o)
{
    persona__snap_reader *r = ld->r;
    uint32_t revision = 0, bins = 0;
    int64_t reference = 0, from = 0;
    char *strs[3] = { NULL, NULL, NULL };
    int rc = need_section(ld, SEC_SPEC, "spec");
    if (!rc)
        rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision > RFM_SECTIONS_REVISION)
        rc = persona__fail(PERSONA_EVERSION, "%s: RFM sections of revision %u are newer than "
                                             "this library (%u)",
                           ld->path, revision, RFM_SECTIONS_REVISION);
    if (!rc && revision == 0)
        rc = persona__snap_corrupt(r, "revision 0");
    if (!rc)
        rc = persona__snap_get_u32(r, &bins);
    if (!rc)
        rc = persona__snap_get_i64(r, &reference);
    if (!rc)
        rc = persona__snap_get_i64(r, &from);
    for (int i = 0; i < 3 && !rc; i++)
        rc = persona__snap_get_str(r, &strs[i], PERSONA_MAX_KEY_LEN, "option string");
    if (!rc)
        rc = persona__snap_section_end(r);
    if (!rc && (bins == 0 || !strs[0] || reference < PERSONA_TIME_MIN ||
                reference > RFM_REFERENCE_MAX || (from && from > reference)))
        rc = persona__fail(PERSONA_ECORRUPT, "%s: section spec: bins %u, reference %lld, "
                                             "from %lld",
                           ld->path, bins, (long long)reference, (long long)from);
    if (!rc) {
        persona_rfm_options in = PERSONA_RFM_OPTIONS_INIT;
        in.bins = bins;
        in.from_ms = from;
        in.purchase_type = strs[0];
        in.return_type = strs[1];
        in.consent_purpose = strs[2];
        rc = persona__rfm_opts_copy(o, &in);
        if (rc == PERSONA_EINVAL || rc == PERSONA_EUNSUPPORTED)
            rc = persona__fail(PERSONA_ECORRUPT, "%s: section spec: %s", ld->path,
                               persona_errmsg());
        o->reference_ms = reference;
    }
    for (int i = 0; i < 3; i++)
        persona__free(strs[i]);
    return rc;
}

static int cmp_key_idx(const persona_rfm *x, uint32_t a, uint32_t b)
{
    size_t la, lb;
    const char *ka = persona__rfm_key(x, a, &la), *kb = persona__rfm_key(x, b, &lb);
    int c = memcmp(ka, kb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int load_users(loader *ld, persona_rfm *x)
{
    persona__snap_reader *r = ld->r;
    uint64_t n = 0, bytes = 0;
    uint32_t *lens = NULL;
    int rc = need_section(ld, SEC_USERS, "users");
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    if (!rc)
        rc = persona__snap_get_u64(r, &bytes);
    /* per user: a length, a key byte at least, a time, orders and monetary */
    if (!rc && n > UINT32_MAX)
        rc = persona__snap_corrupt(r, "%llu users", (unsigned long long)n);
    if (!rc && (rc = persona__snap_need(r, n, sizeof(uint32_t) + 1 + 24, "users")) == 0 &&
        (rc = persona__snap_need(r, bytes, 1, "user keys")) == 0) {
        size_t alloc = n ? (size_t)n : 1;
        lens = persona__realloc_array(NULL, alloc, sizeof *lens);
        x->key_off = persona__realloc_array(NULL, (size_t)n + 1, sizeof *x->key_off);
        x->keys = persona__alloc((size_t)bytes + (size_t)n + 1);
        x->last_ms = persona__realloc_array(NULL, alloc, sizeof *x->last_ms);
        x->frequency = persona__realloc_array(NULL, alloc, sizeof *x->frequency);
        x->monetary = persona__realloc_array(NULL, alloc, sizeof *x->monetary);
        if (!lens || !x->key_off || !x->keys || !x->last_ms || !x->frequency || !x->monetary)
            rc = persona__fail_nomem();
    }
    if (!rc && n)
        rc = persona__snap_get_u32s(r, lens, (size_t)n);
    uint64_t at = 0, sum = 0;
    for (uint64_t i = 0; !rc && i < n; i++) {
        if (lens[i] == 0 || lens[i] > PERSONA_MAX_KEY_LEN || lens[i] > bytes - sum)
            rc = persona__snap_corrupt(r, "user %llu: key length %u", (unsigned long long)i,
                                       lens[i]);
        sum += lens[i];
    }
    if (!rc && sum != bytes)
        rc = persona__snap_corrupt(r, "key lengths do not add up to %llu bytes",
                                   (unsigned long long)bytes);
    for (uint64_t i = 0; !rc && i < n; i++) {
        char *k = x->keys + at;
        x->key_off[i] = at;
        rc = persona__snap_read(r, k, lens[i]);
        if (!rc && (memchr(k, 0, lens[i]) || !persona__utf8_valid(k, lens[i], NULL)))
            rc = persona__snap_corrupt(r, "user %llu: key is not valid text",
                                       (unsigned long long)i);
        k[lens[i]] = '\0';
        at += (uint64_t)lens[i] + 1;
    }
    if (!rc) {
        x->key_off[n] = at;
        if (n)
            rc = persona__snap_get_i64s(r, x->last_ms, (size_t)n);
    }
    if (!rc && n)
        rc = persona__snap_get_u64s(r, x->frequency, (size_t)n);
    if (!rc && n)
        rc = persona__snap_get_f64s(r, x->monetary, (size_t)n);
    for (uint64_t i = 0; !rc && i < n; i++) {
        int64_t t = x->last_ms[i];
        if (t < PERSONA_TIME_MIN || t > x->o.reference_ms || (x->o.from_ms && t < x->o.from_ms))
            rc = persona__snap_corrupt(r, "user %llu: purchase time %lld outside the range",
                                       (unsigned long long)i, (long long)t);
        else if (x->frequency[i] == 0 || isnan(x->monetary[i]))
            rc = persona__snap_corrupt(r, "user %llu: no orders or no monetary value",
                                       (unsigned long long)i);
    }
    if (!rc) {
        x->n = (size_t)n;
        rc = persona__snap_section_end(r);
    }
    persona__free(lens);
    return rc;
}

static const uint32_t known_sections[] = { SEC_SPEC, SEC_USERS };

static int load_reader(persona_rfm **out, loader *ld)
{
    rfm_opts o;
    memset(&o, 0, sizeof o);
    int rc = persona__snap_check_known(ld->r, known_sections,
                                       sizeof known_sections / sizeof *known_sections);
    if (!rc)
        rc = load_spec(ld, &o);
    persona_rfm *x = NULL;
    if (rc) {
        persona__rfm_opts_free(&o);
        return rc;
    }
    if ((rc = persona__rfm_new(&x, &o)))
        return rc;
    rc = load_users(ld, x);
    if (!rc)
        rc = persona__rfm_score(x);
    for (size_t i = 1; !rc && i < x->n; i++)
        if (cmp_key_idx(x, x->by_key[i - 1], x->by_key[i]) == 0)
            rc = persona__fail(PERSONA_ECORRUPT, "%s: section users: user %u appears twice",
                               ld->path, (unsigned)x->by_key[i]);
    if (rc) {
        persona_rfm_free(x);
        return rc;
    }
    *out = x;
    return PERSONA_OK;
}

PERSONA_API int persona_rfm_load(persona_rfm **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    loader ld = { NULL, path };
    int rc = persona__snap_open(&ld.r, path, PERSONA__SNAP_KIND_RFM);
    if (rc)
        return rc;
    rc = load_reader(out, &ld);
    persona__snap_close(ld.r);
    return rc;
}

int persona__rfm_load_memory(persona_rfm **out, const void *data, size_t len)
{
    *out = NULL;
    loader ld = { NULL, "(memory)" };
    int rc = persona__snap_open_memory(&ld.r, data, len, PERSONA__SNAP_KIND_RFM);
    if (rc)
        return rc;
    rc = load_reader(out, &ld);
    persona__snap_close(ld.r);
    return rc;
}
