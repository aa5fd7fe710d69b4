/* persona_attribution_build: under the store's read lock the events that matter
 * (touchpoints and conversions of consenting users) are listed as records, sorted by
 * (profile, time, log order), and each profile's records are walked: touchpoints collect
 * until a conversion closes a converting journey; what is left at the end is a
 * non-converting one. Journeys go to the aggregator with the store's value ids as
 * channels, renumbered in bytewise order of the names at the end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "core/alloc.h"
#include "core/cmp.h"
#include "core/error.h"
#include "core/structs.h"
#include "store/store_internal.h"

#define CHAN_NONE (UINT32_MAX - 1) /* a touchpoint without the property */
#define REC_CONV UINT32_MAX       /* the record is a conversion */

typedef struct rec {
    uint32_t root;
    uint32_t seq; /* log index: the sort is total */
    int64_t time;
    uint32_t chan; /* store value id, CHAN_NONE, or REC_CONV */
    uint32_t reserved;
    double value; /* conversions: the event's value, absent = 0 */
} rec;

static int cmp_rec(const void *x, const void *y)
{
    const rec *a = x, *b = y;
    if (a->root != b->root)
        return a->root < b->root ? -1 : 1;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Types sorted, distinct, joined by '\n' (what a merge compares). */
static int join_types(char **out, const char *const *types, size_t n, const char *what)
{
    if (n && !types)
        return persona__fail(PERSONA_EINVAL, "%s is NULL with %zu entries", what, n);
    const char **t = persona__realloc_array(NULL, n ? n : 1, sizeof *t);
    if (!t)
        return persona__fail_nomem();
    size_t len = 1;
    for (size_t i = 0; i < n; i++) {
        if (!types[i] || !*types[i]) {
            persona__free(t);
            return persona__fail(PERSONA_EINVAL, "%s %zu is %s", what, i,
                                 types[i] ? "empty" : "NULL");
        }
        t[i] = types[i];
        len += strlen(t[i]) + 1;
    }
    qsort(t, n, sizeof *t, persona__cmp_str);
    char *s = persona__alloc(len);
    if (s) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (i && strcmp(t[i - 1], t[i]) == 0)
                continue;
            if (k)
                s[k++] = '\n';
            memcpy(s + k, t[i], strlen(t[i]));
            k += strlen(t[i]);
        }
        s[k] = '\0';
    }
    persona__free(t);
    *out = s;
    return s ? PERSONA_OK : persona__fail_nomem();
}

static int set_options(persona_attribution *a, const persona_attribution_options *opts)
{
    persona_attribution_options o;
    int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_attribution_options");
    if (rc)
        return rc;
    if (o.reserved)
        return persona__fail(PERSONA_EINVAL, "reserved is not 0");
    if (!o.channel_prop || !*o.channel_prop)
        return persona__fail(PERSONA_EINVAL, "channel_prop is not set");
    if (!o.n_conversion_types)
        return persona__fail(PERSONA_EINVAL, "no conversion event type is given");
    if (o.lookback_ms < 0 || o.half_life_ms < 0)
        return persona__fail(PERSONA_EINVAL, "%s is negative",
                             o.lookback_ms < 0 ? "lookback_ms" : "half_life_ms");
    a->lookback_ms = o.lookback_ms;
    if (o.half_life_ms)
        a->half_life_ms = o.half_life_ms;
    if (!(a->channel_prop = persona__strndup(o.channel_prop, strlen(o.channel_prop))))
        return persona__fail_nomem();
    if ((rc = join_types(&a->conversion_types, o.conversion_types, o.n_conversion_types,
                         "conversion type")))
        return rc;
    if (o.n_touch_types && (rc = join_types(&a->touch_types, o.touch_types, o.n_touch_types,
                                            "touch type")))
        return rc;
    if (o.consent_purpose &&
        !(a->consent_purpose = persona__strndup(o.consent_purpose, strlen(o.consent_purpose))))
        return persona__fail_nomem();
    return PERSONA_OK;
}

/* What the scan needs per store id. */
typedef struct scan {
    uint8_t *kind;    /* per type id: 1 touch, 2 conversion, 0 neither */
    uint8_t *consent; /* per user id: 0 unknown, 1 granted, 2 not; NULL = everyone */
    uint32_t purpose;
    int col;          /* the channel property's column, -1 none */
    int by_type;      /* touchpoints are the listed types */
} scan;

/* Mark the store's ids of the '\n'-joined types with k. */
static void mark_types(uint8_t *kind, const persona_store *s, const char *joined, uint8_t k)
{
    for (const char *p = joined; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        uint32_t t = persona__intern_find(&s->types, p, len);
        if (t != PERSONA__NO_ID)
            kind[t] = k;
        p = e ? e + 1 : p + len;
    }
}

static int scan_init(scan *sc, const persona_attribution *a, const persona_store *s)
{
    memset(sc, 0, sizeof *sc);
    if (!(sc->kind = persona__calloc(s->types.count + 1, 1)))
        return persona__fail_nomem();
    sc->by_type = a->touch_types != NULL;
    mark_types(sc->kind, s, a->touch_types, 1);
    mark_types(sc->kind, s, a->conversion_types, 2); /* a conversion is never a touchpoint */
    if (a->consent_purpose) {
        if (!(sc->consent = persona__calloc(s->users.count + 1, 1)))
            return persona__fail_nomem();
        sc->purpose = persona__intern_find(&s->names, a->consent_purpose,
                                           strlen(a->consent_purpose));
    }
    uint32_t name = persona__intern_find(&s->names, a->channel_prop, strlen(a->channel_prop));
    sc->col = name == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, name);
    return PERSONA_OK;
}

static int consents(scan *sc, const persona_store *s, uint32_t root)
{
    return !sc->consent || persona__consent_cached(s, sc->consent, sc->purpose, root);
}

static int collect(rec **out, size_t *n_out, scan *sc, const persona_store *s)
{
    const persona__eventlog *l = &s->log;
    rec *r = NULL;
    size_t n = 0, cap = 0;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t len = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        const uint32_t *prop = sc->col >= 0 ? c->props[sc->col] : NULL;
        for (size_t k = 0; k < len; k++) {
            uint8_t kind = sc->kind[c->type[k]];
            uint32_t v = prop ? prop[k] : LOG_NO_ID;
            uint32_t chan;
            if (kind == 2)
                chan = REC_CONV;
            else if (kind == 1 || (!sc->by_type && v != LOG_NO_ID))
                chan = v == LOG_NO_ID ? CHAN_NONE : v;
            else
                continue;
            uint32_t root = persona__id_root(s, c->user[k]);
            if (!consents(sc, s, root))
                continue;
            if (persona__grow((void **)&r, &cap, n + 1, sizeof *r, 1024)) {
                persona__free(r);
                return persona__fail_nomem();
            }
            double value = chan == REC_CONV && c->value ? c->value[k] : NAN;
            r[n++] = (rec){ root, (uint32_t)(ci * LOG_CHUNK + k), c->time[k], chan, 0,
                            isnan(value) ? 0 : value };
        }
    }
    *out = r;
    *n_out = n;
    return PERSONA_OK;
}

/* Channels met so far: store value id (values.count for "(none)") -> local id, and the
 * names in order of first use. */
typedef struct chans {
    uint32_t *local;
    const char **names;
    size_t n, cap;
} chans;

static uint32_t chan_local(chans *ch, const persona_store *s, uint32_t v)
{
    size_t slot = v == CHAN_NONE ? s->values.count : v;
    if (ch->local[slot] != PERSONA__NO_ID)
        return ch->local[slot];
    if (persona__grow((void **)&ch->names, &ch->cap, ch->n + 1, sizeof *ch->names, 16))
        return PERSONA__NO_ID;
    ch->names[ch->n] = v == CHAN_NONE ? ATTR_NONE : persona__intern_str(&s->values, v);
    ch->local[slot] = (uint32_t)ch->n;
    return (uint32_t)ch->n++;
}

/* One journey's scratch: channels and times of its touchpoints. */
typedef struct journey {
    uint32_t *chan;
    int64_t *age;
    double *dc, *dv;
    size_t n, cap;
} journey;

static int journey_push(journey *j, uint32_t chan, int64_t time)
{
    const attr_array arrays[] = { { (void **)&j->chan, sizeof *j->chan },
                                  { (void **)&j->age, sizeof *j->age },
                                  { (void **)&j->dc, sizeof *j->dc },
                                  { (void **)&j->dv, sizeof *j->dv } };
    if (persona__attr_grow(arrays, 4, &j->cap, j->n + 1, 16))
        return -1;
    j->chan[j->n] = chan;
    j->age[j->n++] = time; /* a time until the journey ends */
    return 0;
}

/* Close the journey ending at time `end` (a conversion when conv). */
static int journey_end(persona_attribution *a, attr_agg *g, journey *j, int conv, int64_t end,
                       double value)
{
    size_t from = 0;
    if (a->lookback_ms)
        while (from < j->n && j->age[from] < end - a->lookback_ms)
            from++;
    size_t len = j->n - from;
    j->n = 0;
    if (!len) {
        if (conv) {
            a->conv_no_touch++;
            a->value_no_touch += value;
        }
        return PERSONA_OK;
    }
    if (!conv)
        return persona__attr_agg_add(g, j->chan + from, len, 0, 0, 1, NULL, NULL);
    for (size_t i = from; i < from + len; i++)
        j->age[i] = end - j->age[i];
    persona__attr_decay(j->dc, j->dv, j->age + from, len, 1, value, a->half_life_ms);
    return persona__attr_agg_add(g, j->chan + from, len, 1, value, 0, j->dc, j->dv);
}

static int walk(persona_attribution *a, attr_agg *g, chans *ch, const rec *r, size_t n,
                const persona_store *s)
{
    journey j = { 0 };
    int rc = PERSONA_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (r[i].chan == REC_CONV) {
            rc = journey_end(a, g, &j, 1, r[i].time, r[i].value);
        } else {
            uint32_t c = chan_local(ch, s, r[i].chan);
            if (c == PERSONA__NO_ID || journey_push(&j, c, r[i].time))
                rc = persona__fail_nomem();
        }
        if (!rc && (i + 1 == n || r[i + 1].root != r[i].root) && j.n)
            rc = journey_end(a, g, &j, 0, j.age[j.n - 1], 0);
    }
    persona__free(j.chan);
    persona__free(j.age);
    persona__free(j.dc);
    persona__free(j.dv);
    return rc;
}

static int build_locked(persona_attribution *a, attr_agg *g, const persona_store *s)
{
    scan sc;
    rec *r = NULL;
    size_t n = 0;
    chans ch = { 0 };
    uint32_t *map = NULL;
    int rc = scan_init(&sc, a, s);
    if (!rc)
        rc = collect(&r, &n, &sc, s);
    if (!rc) {
        if (n) /* r is NULL without records, and qsort's pointer must not be */
            qsort(r, n, sizeof *r, cmp_rec);
        if (!(ch.local = persona__realloc_array(NULL, s->values.count + 1, sizeof *ch.local)))
            rc = persona__fail_nomem();
        for (size_t i = 0; !rc && i <= s->values.count; i++)
            ch.local[i] = PERSONA__NO_ID;
    }
    if (!rc)
        rc = walk(a, g, &ch, r, n, s);
    if (!rc && !(map = persona__realloc_array(NULL, ch.n ? ch.n : 1, sizeof *map)))
        rc = persona__fail_nomem();
    /* the names point into the store: inserted while the lock is held */
    if (!rc) /* a channel whose touchpoints the lookback dropped is left out */
        rc = persona__attr_channels_used(a, g, ch.names, ch.n, map);
    if (!rc)
        rc = persona__attr_agg_finish(g, a, map);
    persona__free(map);
    persona__free(ch.local);
    persona__free(ch.names);
    persona__free(r);
    persona__free(sc.kind);
    persona__free(sc.consent);
    return rc;
}

PERSONA_API int persona_attribution_build(persona_attribution **out, const persona_store *store,
                                          const persona_attribution_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !store || !opts)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !store ? "store" : "opts");
    persona_attribution *a = persona__attribution_alloc();
    if (!a)
        return persona__fail_nomem();
    attr_agg g;
    persona__attr_agg_init(&g);
    int rc = set_options(a, opts);
    if (!rc) {
        STORE_RDLOCK(store);
        rc = build_locked(a, &g, store);
        STORE_UNLOCK(store);
    }
    persona__attr_agg_free(&g);
    return persona__attribution_hand_over(out, a, rc);
}
