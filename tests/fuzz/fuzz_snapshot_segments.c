/* Fuzz target: bytes -> persona_segment_model_load (of a snapshot held in memory).
 *
 * Input: a segment model snapshot (docs/file-format.md, "Segment model (kind 4)"), usually
 * a damaged one; seeds are real models written by make_model_seeds.c. CRCs are not
 * compared in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, or PERSONA_ECORRUPT / EVERSION / ENOMEM / EIO with no model;
 *  2. on success: count in 1 … PERSONA_SEGMENT_MAX, mode first- or all-matches; every
 *     segment's name (non-empty, find(name) gives its index) and rule text (read through
 *     EBUFS into an exact buffer); on a tiny fixed store (3 users and one it does not know)
 *     assign() agrees with test() of every segment under the model's mode (first match:
 *     the first true one; all matches: every true one, in order), assign() into no room
 *     gives EBUFS with the same count, and describe() succeeds;
 *  3. load(save(x)) == x: same mode, names, rule texts, answers and describe() text, and
 *     saving the reloaded model gives the same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "persona/segment.h"
#include "segment/rule_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 INT64_C(1717200000000) /* 2024-06-01 00:00 UTC */
#define DAY_MS INT64_C(86400000)
#define N_USERS 4 /* 3 in the store, then one it does not know */
static const char *const users[N_USERS] = { "ann", "bob", "cy", "nobody" };
static persona_store *store;
static const char *const ctx_names[2] = { "referrer", "country" };
static const char *const ctx_values[2] = { "news.example.com", "CH" };
static persona_eval_context ctx = PERSONA_EVAL_CONTEXT_INIT;

static void ev(const char *user, int64_t t, const char *type, double value, const char *basket,
               const char *category)
{
    persona_event e = PERSONA_EVENT_INIT;
    const char *names[1] = { "category" }, *values[1] = { category };
    e.user = user;
    e.time_ms = t;
    e.type = type;
    e.value = value;
    e.basket = basket;
    if (category) {
        e.prop_names = names;
        e.prop_values = values;
        e.n_props = 1;
    }
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    FUZZ_OK(persona_store_ingest(&st, store, &e, 1, NULL));
    FUZZ_ASSERT(st.events_accepted == 1, "seed event of %s rejected", user);
}

static void build_store(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 20240601;
    FUZZ_OK(persona_store_new(&store, &o));
    ev("ann", T0 - 30 * DAY_MS, "view", 0, NULL, "running shoes");
    ev("ann", T0 - 30 * DAY_MS + 60000, "add_to_cart", 120, "b1", "running shoes");
    ev("ann", T0 - 29 * DAY_MS, "purchase", 120, "b1", "running shoes");
    ev("ann", T0 - 2 * DAY_MS, "login", NAN, NULL, NULL);
    ev("ann", T0 - 1 * DAY_MS, "view", 0, NULL, "socks");
    ev("bob", T0 - 3 * DAY_MS, "purchase", 1500, "b2", "tents");
    ev("bob", T0 - 70 * DAY_MS, "purchase", 250.5, "b3", "tents"); /* out of time order */
    for (int w = 0; w < 6; w++)
        ev("bob", T0 - w * 7 * DAY_MS - 3600000, "login", NAN, NULL, NULL);
    ev("cy", T0 - 120 * DAY_MS, "signup", NAN, NULL, NULL);
    ev("cy", T0 - 4 * 3600000, "purchase", -5, "b4", "books");
    FUZZ_OK(persona_store_attr_set_str(store, "ann", "plan", "pro"));
    FUZZ_OK(persona_store_attr_set_str(store, "ann", "pref.topic", "running"));
    FUZZ_OK(persona_store_attr_set_num(store, "ann", "score.churn", 0.25));
    FUZZ_OK(persona_store_attr_set_str(store, "bob", "plan", "team"));
    FUZZ_OK(persona_store_attr_set_bool(store, "bob", "vip", 1));
    FUZZ_OK(persona_store_attr_set_null(store, "cy", "plan"));
    FUZZ_OK(persona_store_consent_set(store, "ann", "marketing", 1, T0 - 50 * DAY_MS));
    FUZZ_OK(persona_store_consent_set(store, "bob", "marketing", 0, T0 - 50 * DAY_MS));
    ctx.hour = 3;
    ctx.now_ms = T0 + DAY_MS / 2;
    ctx.count = 2;
    ctx.names = ctx_names;
    ctx.values = ctx_values;
}

/* A string read with a name / rule style getter, through EBUFS into an exact heap copy. */
typedef int (*text_fn)(char *, size_t, size_t *, const persona_segment_model *, size_t);

static char *get_text(text_fn fn, const persona_segment_model *m, size_t i, size_t *len_out)
{
    size_t len = 0;
    int rc = fn(NULL, 0, &len, m, i);
    FUZZ_ASSERT(rc == PERSONA_EBUFS, "text of segment %zu into no room returned %d", i, rc);
    char *s = malloc(len + 1);
    FUZZ_ASSERT(s != NULL, "out of memory");
    size_t again = 0;
    FUZZ_OK(fn(s, len + 1, &again, m, i));
    FUZZ_ASSERT(again == len && strlen(s) == len, "segment %zu: length %zu, then %zu", i, len,
                again);
    *len_out = len;
    return s;
}

static char *describe(const persona_segment_model *m, const char *user)
{
    size_t len = 0;
    int rc = persona_segment_model_describe(NULL, 0, &len, m, store, user, &ctx);
    FUZZ_ASSERT(rc == PERSONA_EBUFS, "describe %s into no room returned %d", user, rc);
    char *s = malloc(len + 1);
    FUZZ_ASSERT(s != NULL, "out of memory");
    size_t again = 0;
    FUZZ_OK(persona_segment_model_describe(s, len + 1, &again, m, store, user, &ctx));
    FUZZ_ASSERT(again == len, "describe %s: length %zu, then %zu", user, len, again);
    return s;
}

typedef struct model_view {
    size_t n;
    int32_t mode;
    char **names, **rules;
    uint8_t *truth; /* n per user */
    char *desc[N_USERS];
} model_view;

static uint32_t assigned[PERSONA_SEGMENT_MAX];

static void view_of(model_view *v, const persona_segment_model *m)
{
    memset(v, 0, sizeof *v);
    FUZZ_OK(persona_segment_model_count(&v->n, m));
    FUZZ_OK(persona_segment_model_mode(&v->mode, m));
    FUZZ_ASSERT(v->n >= 1 && v->n <= PERSONA_SEGMENT_MAX, "%zu segments", v->n);
    FUZZ_ASSERT(v->mode == PERSONA_SEGMENT_FIRST_MATCH || v->mode == PERSONA_SEGMENT_ALL_MATCHES,
                "mode %d", v->mode);
    v->names = calloc(v->n, sizeof *v->names);
    v->rules = calloc(v->n, sizeof *v->rules);
    v->truth = calloc(v->n * N_USERS, 1);
    FUZZ_ASSERT(v->names && v->rules && v->truth, "out of memory");
    for (size_t i = 0; i < v->n; i++) {
        size_t len;
        v->names[i] = get_text(persona_segment_model_name, m, i, &len);
        FUZZ_ASSERT(len >= 1 && len <= PERSONA_SEGMENT_MAX_NAME, "segment %zu: name of %zu bytes",
                    i, len);
        size_t at = SIZE_MAX;
        FUZZ_OK(persona_segment_model_find(&at, m, v->names[i]));
        FUZZ_ASSERT(at == i, "find(name of %zu) gave %zu", i, at);
        v->rules[i] = get_text(persona_segment_model_rule, m, i, &len);
    }
    char buf[8];
    FUZZ_ASSERT(persona_segment_model_name(buf, sizeof buf, NULL, m, v->n) == PERSONA_ENOTFOUND,
                "name of segment %zu of %zu", v->n, v->n);
    for (int u = 0; u < N_USERS; u++) {
        uint8_t *t = v->truth + (size_t)u * v->n;
        size_t expect = 0;
        for (size_t i = 0; i < v->n; i++) {
            int32_t yes = -1;
            FUZZ_OK(persona_segment_model_test(&yes, m, i, store, users[u], &ctx));
            FUZZ_ASSERT(yes == 0 || yes == 1, "test gave %d", yes);
            t[i] = (uint8_t)yes;
            if (yes && (v->mode == PERSONA_SEGMENT_ALL_MATCHES || expect == 0))
                expect++;
        }
        size_t count = SIZE_MAX;
        FUZZ_OK(persona_segment_model_assign(assigned, PERSONA_SEGMENT_MAX, &count, m, store,
                                             users[u], &ctx));
        FUZZ_ASSERT(count == expect, "%s: assign gave %zu segments, test %zu", users[u], count,
                    expect);
        for (size_t k = 0, i = 0; k < count; k++, i++) {
            while (i < v->n && !t[i])
                i++;
            FUZZ_ASSERT(i < v->n && assigned[k] == i, "%s: assign[%zu] = %u, test says %zu",
                        users[u], k, assigned[k], i);
        }
        if (expect) {
            size_t c2 = 0;
            int rc = persona_segment_model_assign(NULL, 0, &c2, m, store, users[u], &ctx);
            FUZZ_ASSERT(rc == PERSONA_EBUFS && c2 == expect,
                        "%s: assign into no room: %d, count %zu of %zu", users[u], rc, c2, expect);
        }
        v->desc[u] = describe(m, users[u]);
    }
}

static void view_free(model_view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->names[i]);
        free(v->rules[i]);
    }
    free(v->names);
    free(v->rules);
    free(v->truth);
    for (int u = 0; u < N_USERS; u++)
        free(v->desc[u]);
}

static void view_same(const model_view *a, const model_view *b)
{
    FUZZ_ASSERT(a->n == b->n && a->mode == b->mode, "reloaded: %zu segments mode %d, was %zu mode %d",
                b->n, b->mode, a->n, a->mode);
    for (size_t i = 0; i < a->n; i++) {
        FUZZ_ASSERT(strcmp(a->names[i], b->names[i]) == 0, "reloaded: name %zu differs", i);
        FUZZ_ASSERT(strcmp(a->rules[i], b->rules[i]) == 0, "reloaded: rule %zu differs", i);
    }
    FUZZ_ASSERT(memcmp(a->truth, b->truth, a->n * N_USERS) == 0, "reloaded: other answers");
    for (int u = 0; u < N_USERS; u++)
        FUZZ_ASSERT(strcmp(a->desc[u], b->desc[u]) == 0, "reloaded: describe %s differs", users[u]);
}

static uint8_t *save(const persona_segment_model *m, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_segment_model_save(m, "/memfs/model.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    if (!store)
        build_store();
    persona_segment_model *m = (persona_segment_model *)1;
    int rc = persona__segment_model_load_memory(&m, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION || rc == PERSONA_ENOMEM ||
                        rc == PERSONA_EIO,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(m == NULL, "failed load left a model");
        return 0;
    }
    FUZZ_ASSERT(m != NULL, "load succeeded without a model");
    model_view a, b;
    view_of(&a, m);

    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save(m, &len1);
    persona_segment_model *r = NULL;
    rc = persona__segment_model_load_memory(&r, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved model failed: %d (%s)", rc, persona_errmsg());
    view_of(&b, r);
    view_same(&a, &b);
    uint8_t *b2 = save(r, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    view_free(&a);
    view_free(&b);
    free(b1);
    free(b2);
    persona_segment_model_free(r);
    persona_segment_model_free(m);
    return 0;
}
