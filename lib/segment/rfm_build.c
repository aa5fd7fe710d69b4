/* persona_rfm_build: one walk over every profile's event chain under the store's read lock
 * gathers the latest purchase, the orders and the exact monetary sum of each profile;
 * rfm_score.c then ranks and scores them. Options are checked and copied first, so the
 * result never borrows from the caller or the store. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/exactsum.h"
#include "core/structs.h"
#include "segment/rfm_internal.h"
#include "store/store_internal.h"

PERSONA__DEFINE_INIT(persona_rfm_options, persona_rfm_options_init)
PERSONA__DEFINE_INIT(persona_rfm_entry, persona_rfm_entry_init)

/* ---- options ------------------------------------------------------------------------- */

void persona__rfm_opts_free(rfm_opts *o)
{
    persona__free(o->purchase_type);
    persona__free(o->return_type);
    persona__free(o->consent_purpose);
    memset(o, 0, sizeof *o);
}

static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return PERSONA_OK;
    *dst = persona__strndup(src, strlen(src));
    return *dst ? PERSONA_OK : persona__fail_nomem();
}

static int time_ok(int64_t t)
{
    return t >= PERSONA_TIME_MIN && t <= PERSONA_TIME_MAX;
}

static int check_options(const persona_rfm_options *in)
{
    if (in->bins && (in->bins < PERSONA_RFM_MIN_BINS || in->bins > PERSONA_RFM_MAX_BINS))
        return persona__fail(PERSONA_EINVAL, "rfm options: bins %u is outside %d … %d",
                             (unsigned)in->bins, PERSONA_RFM_MIN_BINS, PERSONA_RFM_MAX_BINS);
    if (in->purchase_type &&
        persona__check_key(in->purchase_type, "rfm options: purchase_type") != PERSONA_OK)
        return PERSONA_EINVAL;
    if (in->return_type &&
        persona__check_key(in->return_type, "rfm options: return_type") != PERSONA_OK)
        return PERSONA_EINVAL;
    const char *purchase = in->purchase_type ? in->purchase_type : RFM_DEFAULT_PURCHASE;
    if (in->return_type && strcmp(in->return_type, purchase) == 0)
        return persona__fail(PERSONA_EINVAL, "rfm options: return_type '%s' is the purchase "
                                             "type (negative purchase values are returns "
                                             "already)", in->return_type);
    if (in->consent_purpose &&
        persona__check_key(in->consent_purpose, "rfm options: consent_purpose") != PERSONA_OK)
        return PERSONA_EINVAL;
    if (in->reference_ms && !time_ok(in->reference_ms))
        return persona__fail(PERSONA_EINVAL, "rfm options: reference_ms %lld is outside "
                                             "PERSONA_TIME_MIN … PERSONA_TIME_MAX",
                             (long long)in->reference_ms);
    if (in->from_ms && !time_ok(in->from_ms))
        return persona__fail(PERSONA_EINVAL, "rfm options: from_ms %lld is outside "
                                             "PERSONA_TIME_MIN … PERSONA_TIME_MAX",
                             (long long)in->from_ms);
    if (in->from_ms && in->reference_ms && in->from_ms > in->reference_ms)
        return persona__fail(PERSONA_EINVAL, "rfm options: from_ms is after reference_ms");
    return PERSONA_OK;
}

int persona__rfm_opts_copy(rfm_opts *dst, const persona_rfm_options *src)
{
    persona_rfm_options in = PERSONA_RFM_OPTIONS_INIT;
    memset(dst, 0, sizeof *dst);
    if (src) {
        int rc = persona__struct_in(&in, sizeof in, src, sizeof in, "persona_rfm_options");
        if (rc)
            return rc;
    }
    int rc = check_options(&in);
    if (rc)
        return rc;
    dst->bins = in.bins ? in.bins : RFM_DEFAULT_BINS;
    dst->reference_ms = in.reference_ms;
    dst->from_ms = in.from_ms;
    rc = dup_str(&dst->purchase_type, in.purchase_type ? in.purchase_type : RFM_DEFAULT_PURCHASE);
    if (rc == PERSONA_OK)
        rc = dup_str(&dst->return_type, in.return_type);
    if (rc == PERSONA_OK)
        rc = dup_str(&dst->consent_purpose, in.consent_purpose);
    if (rc)
        persona__rfm_opts_free(dst);
    return rc;
}

/* ---- the result ---------------------------------------------------------------------- */

int persona__rfm_new(persona_rfm **out, rfm_opts *o)
{
    *out = NULL;
    persona_rfm *x = persona__calloc(1, sizeof *x);
    if (!x) {
        persona__rfm_opts_free(o);
        return persona__fail_nomem();
    }
    x->o = *o;
    memset(o, 0, sizeof *o);
    *out = x;
    return PERSONA_OK;
}

PERSONA_API void persona_rfm_free(persona_rfm *x)
{
    if (!x)
        return;
    persona__rfm_opts_free(&x->o);
    persona__free(x->keys);
    persona__free(x->key_off);
    persona__free(x->last_ms);
    persona__free(x->frequency);
    persona__free(x->monetary);
    persona__free(x->r);
    persona__free(x->f);
    persona__free(x->m);
    persona__free(x->segment);
    persona__free(x->by_key);
    persona__free(x);
}

/* ---- the walk ------------------------------------------------------------------------ */

typedef struct walk {
    const persona_store *s;
    persona_rfm *x;
    uint32_t purchase, ret, purpose; /* ids, PERSONA__NO_ID = none in the store */
    uint32_t *baskets;               /* scratch: basket ids of one profile's purchases */
    size_t baskets_cap;
    size_t cap_last, cap_freq, cap_mon, cap_off;
    size_t keys_len, keys_cap;
    persona__exactsum sum;
} walk;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Room for one more user in the result's arrays and for its key (grown one by one: a
 * failure leaves the grown ones to persona_rfm_free()). */
static int reserve_user(walk *w, size_t key_len)
{
    persona_rfm *x = w->x;
    size_t n = x->n + 1;
    if (persona__grow((void **)&x->last_ms, &w->cap_last, n, sizeof *x->last_ms, 64) ||
        persona__grow((void **)&x->frequency, &w->cap_freq, n, sizeof *x->frequency, 64) ||
        persona__grow((void **)&x->monetary, &w->cap_mon, n, sizeof *x->monetary, 64) ||
        persona__grow((void **)&x->key_off, &w->cap_off, n + 1, sizeof *x->key_off, 65) ||
        persona__grow((void **)&x->keys, &w->keys_cap, w->keys_len + key_len + 1, 1, 4096))
        return persona__fail_nomem();
    return PERSONA_OK;
}

static int consent_ok(const walk *w, uint32_t root)
{
    if (w->purpose == PERSONA__NO_ID)
        return 0;
    uint32_t e = persona__consent_entry(w->s, root, w->purpose);
    return e != UINT32_MAX && w->s->consents[e].granted;
}

/* One profile: its purchases, returns and orders; appended to the result when it has a
 * purchase. */
static int walk_profile(walk *w, uint32_t root)
{
    const persona_store *s = w->s;
    const profile *p = &s->profiles[root];
    const rfm_opts *o = &w->x->o;
    if (o->consent_purpose && !consent_ok(w, root))
        return PERSONA_OK;
    int64_t latest = INT64_MIN;
    uint64_t loose = 0; /* purchases without a basket */
    size_t n_baskets = 0;
    persona__exactsum_init(&w->sum);
    uint64_t left = p->events;
    for (uint32_t e = p->last_event; e != LOG_NO_ID && left; left--) {
        const log_chunk *c = persona__eventlog_chunk(&s->log, e);
        size_t k = persona__eventlog_slot(e);
        e = c->prev[k];
        uint32_t type = c->type[k];
        if (type != w->purchase && type != w->ret)
            continue;
        int64_t t = c->time[k];
        if (t > o->reference_ms || (o->from_ms && t < o->from_ms))
            continue;
        double v = c->value ? c->value[k] : NAN;
        if (type == w->ret) {
            if (!isnan(v))
                persona__exactsum_add(&w->sum, -fabs(v));
            continue;
        }
        if (!isnan(v))
            persona__exactsum_add(&w->sum, v);
        if (v < 0)
            continue; /* a return: monetary only */
        if (t > latest)
            latest = t;
        uint32_t basket = c->basket ? c->basket[k] : LOG_NO_ID;
        if (basket == LOG_NO_ID) {
            loose++;
            continue;
        }
        if (persona__grow((void **)&w->baskets, &w->baskets_cap, n_baskets + 1,
                          sizeof *w->baskets, 64))
            return persona__fail_nomem();
        w->baskets[n_baskets++] = basket;
    }
    if (latest == INT64_MIN)
        return PERSONA_OK; /* no purchase */
    if (n_baskets > 1)
        qsort(w->baskets, n_baskets, sizeof *w->baskets, cmp_u32);
    uint64_t orders = loose;
    for (size_t i = 0; i < n_baskets; i++)
        orders += i == 0 || w->baskets[i] != w->baskets[i - 1];
    size_t key_len = persona__intern_len(&s->users, root);
    int rc = reserve_user(w, key_len);
    if (rc)
        return rc;
    persona_rfm *x = w->x;
    if (x->n == 0)
        x->key_off[0] = 0;
    memcpy(x->keys + w->keys_len, persona__intern_str(&s->users, root), key_len + 1);
    w->keys_len += key_len + 1;
    x->key_off[x->n + 1] = w->keys_len;
    x->last_ms[x->n] = latest;
    x->frequency[x->n] = orders;
    x->monetary[x->n] = persona__exactsum_value(&w->sum);
    x->n++;
    return PERSONA_OK;
}

static uint32_t type_id(const persona_store *s, const char *type)
{
    return type ? persona__intern_find(&s->types, type, strlen(type)) : PERSONA__NO_ID;
}

static int build_locked(persona_rfm *x, const persona_store *s)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.x = x;
    if (!x->o.reference_ms)
        x->o.reference_ms = (s->log.count ? s->last_time_ms : 0) + RFM_DAY_MS;
    w.purchase = type_id(s, x->o.purchase_type);
    w.ret = type_id(s, x->o.return_type);
    w.purpose = x->o.consent_purpose ? persona__intern_find(&s->names, x->o.consent_purpose,
                                                            strlen(x->o.consent_purpose))
                                     : PERSONA__NO_ID;
    int rc = PERSONA_OK;
    if (w.purchase != PERSONA__NO_ID && (!x->o.consent_purpose || w.purpose != PERSONA__NO_ID)) {
        uint32_t n_ids = (uint32_t)s->users.count;
        for (uint32_t u = 0; u < n_ids && rc == PERSONA_OK; u++)
            if (persona__id_root(s, u) == u)
                rc = walk_profile(&w, u);
    }
    persona__free(w.baskets);
    return rc;
}

PERSONA_API int persona_rfm_build(persona_rfm **out, const persona_store *store,
                                  const persona_rfm_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "persona_rfm_build: out is NULL");
    *out = NULL;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "persona_rfm_build: store is NULL");
    rfm_opts o;
    int rc = persona__rfm_opts_copy(&o, opts);
    if (rc)
        return rc;
    persona_rfm *x = NULL;
    if ((rc = persona__rfm_new(&x, &o)))
        return rc;
    STORE_RDLOCK(store);
    rc = build_locked(x, store);
    STORE_UNLOCK(store);
    if (rc == PERSONA_OK)
        rc = persona__rfm_score(x);
    if (rc) {
        persona_rfm_free(x);
        return rc;
    }
    *out = x;
    return PERSONA_OK;
}
