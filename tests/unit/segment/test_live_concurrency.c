/* Live segments and segment models under concurrent use (also run under ThreadSanitizer):
 * two threads ingest and tick into one store with live segments while two others read
 * (segments_of, assign with a shared model, whose name cache they fill at once) and set
 * attributes. At the end every profile's live membership equals a batch evaluation, and
 * for every segment the callbacks add up: entered − left = members. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store_check.h"

#define HOUR INT64_C(3600000)
#define T0 INT64_C(1704067200000)
#define USERS 40
#define ROUNDS 2000

static const char *const rules[] = {
    "count(\"buy\", 6h) >= 2",
    "stopped(\"view\", 3h)",
    "sequence(\"view\" -> \"buy\", within 2h)",
    "plan == \"pro\" or days_since(\"buy\") <= 1",
};
#define N_RULES 4

/* check.h's counters are not for threads: worker threads count their failures here. */
static atomic_int thread_failures;
#define THREAD_RC(call, want)                                                              \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != (want)) {                                                               \
            atomic_fetch_add(&thread_failures, 1);                                         \
            fprintf(stderr, "%s:%d: %s returned %d, want %d\n", __FILE__, __LINE__, #call,  \
                    rc_, (int)(want));                                                     \
        }                                                                                  \
    } while (0)

static persona_store *store;
static persona_segment_model *model;
static atomic_llong balance[N_RULES]; /* enters - exits */
static atomic_int stop;

static int on_change(void *ctx, const char *user, size_t len, const char *segment, int32_t entered,
                     int64_t at)
{
    (void)user, (void)len, (void)segment, (void)at;
    atomic_fetch_add(&balance[(uintptr_t)ctx], entered ? 1 : -1);
    return 0;
}

static void *writer(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 7919 + 1;
    char key[16];
    for (int r = 0; r < ROUNDS; r++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(key, sizeof key, "u%d", (int)((seed >> 33) % USERS));
        persona_event e = ev(key, T0 + (int64_t)r * HOUR / 4 + (int64_t)((seed >> 20) % 1000),
                             (seed >> 40) % 2 ? "buy" : "view", 1);
        persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
        THREAD_RC(persona_store_ingest(&st, store, &e, 1, NULL), PERSONA_OK);
        if (r % 25 == 0)
            THREAD_RC(persona_store_tick(store, T0 + (int64_t)r * HOUR / 4), PERSONA_OK);
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    char key[16];
    int i = 0;
    while (!atomic_load(&stop)) {
        snprintf(key, sizeof key, "u%d", i++ % USERS);
        uint32_t segs[N_RULES];
        size_t n = 0;
        THREAD_RC(persona_store_segments_of(segs, N_RULES, &n, store, key), PERSONA_OK);
        THREAD_RC(persona_segment_model_assign(segs, N_RULES, &n, model, store, key, NULL), PERSONA_OK);
        if (i % 50 == 0)
            THREAD_RC(persona_store_attr_set_str(store, key, "plan", i % 100 ? "free" : "pro"), PERSONA_OK);
    }
    return NULL;
}

int main(void)
{
    store = new_seeded_store(3);
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    CHECK_RC(persona_segment_model_new(&model, &o), PERSONA_OK);
    for (int k = 0; k < N_RULES; k++) {
        char name[8];
        snprintf(name, sizeof name, "s%d", k);
        CHECK_RC(persona_store_add_segment(store, name, rules[k], strlen(rules[k]), on_change,
                                           (void *)(uintptr_t)k), PERSONA_OK);
        CHECK_RC(persona_segment_model_add_rule(model, name, rules[k], strlen(rules[k])), PERSONA_OK);
    }
    pthread_t w[2], r[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)(i + 1));
        pthread_create(&r[i], NULL, reader, NULL);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    CHECK(atomic_load(&thread_failures) == 0);
    /* One last event so the attribute changes made silently are evaluated again like a
     * batch would; then compare. */
    long long members[N_RULES] = { 0 };
    char key[16];
    for (int u = 0; u < USERS; u++) {
        snprintf(key, sizeof key, "u%d", u);
        uint32_t live[N_RULES];
        size_t n_live = 0;
        CHECK_RC(persona_store_segments_of(live, N_RULES, &n_live, store, key), PERSONA_OK);
        uint64_t live_mask = 0, batch_mask = 0;
        for (size_t i = 0; i < n_live; i++) {
            live_mask |= 1u << live[i];
            members[live[i]]++;
        }
        for (int k = 0; k < N_RULES; k++) {
            int32_t t = 0;
            CHECK_RC(persona_segment_model_test(&t, model, (size_t)k, store, key, NULL), PERSONA_OK);
            batch_mask |= (uint64_t)(t != 0) << k;
        }
        CHECK(live_mask == batch_mask);
    }
    /* Attribute changes are silent, so only the rules without attributes must balance. */
    for (int k = 0; k < 3; k++) {
        if (atomic_load(&balance[k]) != members[k])
            fprintf(stderr, "segment s%d: callbacks say %lld members, the store %lld\n", k,
                    (long long)atomic_load(&balance[k]), members[k]);
        CHECK(atomic_load(&balance[k]) == members[k]);
    }
    persona_segment_model_free(model);
    persona_store_free(store);
    return check_report("test_live_concurrency");
}
