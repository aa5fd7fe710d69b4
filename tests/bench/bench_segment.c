/* Segment evaluation speed on the store loaded from a CSV of events (user_id, timestamp,
 * event, value — the 10M-event synthetic file), or a store snapshot (.snap):
 *   - assign: one profile against 20 typical rules (all-matches mode, so every rule is
 *     evaluated), ns per call over a fixed random sample of users (cold: the profile, its
 *     events and attributes come from memory) and over 256 users again and again (hot:
 *     in cache), and the allocations made during the timed calls (counted by an
 *     allocator hook: the target is 0);
 *   - scan: every profile of the store through the same 20 rules, users/s, 1 and 2 threads.
 * Attributes (plan, age, pref.topic, score.churn) and consent are set on a third of the
 * users so attribute rules have something to read.
 * usage: bench_segment EVENTS.csv|STORE.snap [REPEATS]   — prints one JSON line.
 *        bench_segment EVENTS.csv REPEATS live — loads the CSV with the 20 rules as live
 *        segments and without (median seconds each, the slowdown, callbacks made).
 *        bench_segment EVENTS.csv|STORE.snap REPEATS scan RULES — the whole-store scan of
 *        the rule file RULES (all-matches, 2 threads) on the loaded store: median seconds
 *        and the count per segment (compare_segment.sh sets it against DuckDB). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

static atomic_ullong allocations;

static void *count_alloc(void *ctx, size_t n)
{
    (void)ctx;
    atomic_fetch_add(&allocations, 1);
    return malloc(n);
}
static void *count_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    atomic_fetch_add(&allocations, 1);
    return realloc(p, n);
}
static void count_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static const char *const rules =
    "vip:            value > 1000 and count(\"transaction\") >= 3\n"
    "cart_abandoner: sequence(\"view\" -> \"addtocart\" -> not \"transaction\", within 1d)\n"
    "active_7d:      count(\"*\", 7d) > 0\n"
    "browser:        count(\"view\", 30d) >= 10 and count(\"transaction\", 30d) == 0\n"
    "buyer_30d:      sum(\"transaction\", 30d) > 100\n"
    "lapsed:         stopped(\"transaction\", 60d)\n"
    "new_visitor:    first_time(\"view\", 7d)\n"
    "returning:      restarted(\"view\", 7d, 30d)\n"
    "regular:        regularly(\"view\", 3 of 4 weeks)\n"
    "recent_cart:    days_since(\"addtocart\") <= 3\n"
    "pro_plan:       plan in [\"pro\", \"team\"]\n"
    "core_age:       age between 25 and 54\n"
    "french:         ctx.country == \"FR\"\n"
    "marketable:     consent(\"marketing\") and value > 0\n"
    "heavy:          events > 100\n"
    "multi_session:  sessions >= 5\n"
    "evening:        ctx.hour between 18 and 23 and count(\"view\", 1d) > 0\n"
    "churn_risk:     score(\"churn\") > 0.7\n"
    "runner:         pref.topic == \"running\"\n"
    "newcomer:       last_seen - first_seen < 7d\n";

static void fail(const char *what)
{
    bench_fail("bench_segment", what);
}

static int count_change(void *ctx, const char *user, size_t len, const char *segment,
                        int32_t entered, int64_t at)
{
    (void)user, (void)len, (void)segment, (void)entered, (void)at;
    (*(unsigned long long *)ctx)++;
    return 0;
}

/* Load the CSV into a fresh store, with the 20 rules as live segments or without; seconds. */
static double load_live(const char *path, int live, unsigned long long *changes)
{
    persona_store *store = NULL;
    persona_source *src = NULL;
    if (persona_store_new(&store, NULL) || persona_source_open_csv(&src, path, NULL, NULL))
        fail("setup");
    if (live) {
        const char *p = rules;
        for (int k = 0; k < 20; k++) {
            const char *colon = strchr(p, ':'), *end = strchr(p, '\n');
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            if (persona_store_add_segment(store, name, colon + 1, (size_t)(end - colon - 1), count_change,
                                          changes))
                fail("add_segment");
            p = end + 1;
        }
    }
    double t0 = bench_now();
    if (persona_store_load(NULL, store, src, NULL))
        fail("load");
    double t = bench_now() - t0;
    persona_source_free(src);
    persona_store_free(store);
    return t;
}

/* The scan of a rule file on a loaded store, 2 threads. */
static int scan_rules(const char *path, int repeats, const char *rules_path)
{
    FILE *f = fopen(rules_path, "rb");
    static char text[1 << 16];
    size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (!f || len == sizeof text - 1)
        fail("rules file");
    fclose(f);
    double load_s = 0;
    persona_store *store = bench_load_store("bench_segment", path, &load_s);
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    persona_segment_model *m = NULL;
    size_t n = 0;
    if (persona_segment_model_compile(&m, text, len, &o) || persona_segment_model_count(&n, m) || n > 64)
        fail("compile");
    uint64_t counts[64], none = 0;
    double times[64];
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_now();
        if (persona_segment_model_scan(counts, n, &none, m, store, NULL, NULL, NULL, 2))
            fail("scan");
        times[r] = bench_now() - t0;
    }
    printf("{\"bench\": \"segment-scan\", \"load_s\": %.3f, \"scan_s\": %.3f, \"counts\": {", load_s,
           bench_median(times, (size_t)repeats));
    for (size_t k = 0; k < n; k++) {
        char name[PERSONA_SEGMENT_MAX_NAME + 1];
        if (persona_segment_model_name(name, sizeof name, NULL, m, k))
            fail("name");
        printf("%s\"%s\": %llu", k ? ", " : "", name, (unsigned long long)counts[k]);
    }
    printf("}}\n");
    persona_segment_model_free(m);
    persona_store_free(store);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 4 && strcmp(argv[3], "scan") == 0) {
        int reps = atoi(argv[2]);
        return scan_rules(argv[1], reps >= 1 && reps <= 64 ? reps : 3, argv[4]);
    }
    if (argc > 3 && strcmp(argv[3], "live") == 0) {
        /* Ingest with 20 live segments against ingest without, same CSV, same run. */
        int reps = atoi(argv[2]) > 0 ? atoi(argv[2]) : 3;
        double plain[16], live[16];
        unsigned long long changes = 0;
        for (int r = 0; r < reps && r < 16; r++) {
            plain[r] = load_live(argv[1], 0, &changes);
            changes = 0;
            live[r] = load_live(argv[1], 1, &changes);
        }
        double p = bench_median(plain, (size_t)(reps < 16 ? reps : 16));
        double l = bench_median(live, (size_t)(reps < 16 ? reps : 16));
        printf("{\"bench\": \"segment-live\", \"rules\": 20, \"load_s_without\": %.3f, "
               "\"load_s_with_20_live\": %.3f, \"slowdown\": %.2f, \"changes\": %llu}\n",
               p, l, l / p, changes);
        return 0;
    }

    const char *path = argc > 1 ? argv[1] : "/tmp/persona-bench/events_10m.csv";
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    if (repeats < 1 || repeats > 64)
        repeats = 5;
    persona_allocator a = PERSONA_ALLOCATOR_INIT;
    a.allocate = count_alloc;
    a.reallocate = count_realloc;
    a.deallocate = count_free;
    if (persona_set_allocator(&a))
        fail("allocator");
    double load_s = 0;
    persona_store *store = bench_load_store("bench_segment", path, &load_s);
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    if (persona_store_info_get(&info, store))
        fail("info");
    /* Attributes and consent on every third user. */
    char key[256];
    static const char *const plans[] = { "free", "pro", "team" };
    for (uint64_t u = 0; u < info.users; u += 3) {
        if (persona_store_user_at(key, sizeof key, NULL, store, u))
            fail("user_at");
        if (persona_store_attr_set_str(store, key, "plan", plans[u % 3 == 0 ? (u / 3) % 3 : 0]) ||
            persona_store_attr_set_num(store, key, "age", (double)(18 + u % 60)) ||
            persona_store_attr_set_str(store, key, "pref.topic", u % 2 ? "running" : "hiking") ||
            persona_store_attr_set_num(store, key, "score.churn", (double)(u % 100) / 100.0) ||
            persona_store_consent_set(store, key, "marketing", (int32_t)(u % 2), 0))
            fail("attributes");
    }
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    persona_segment_model *m = NULL;
    if (persona_segment_model_compile(&m, rules, strlen(rules), &o))
        fail("compile");

    /* A fixed sample of user keys (copied, so the loop measures only assign). */
    enum { SAMPLE = 200000 };
    size_t n_sample = info.users < SAMPLE ? (size_t)info.users : SAMPLE;
    char **keys = calloc(n_sample, sizeof *keys);
    for (size_t i = 0; i < n_sample; i++) {
        uint64_t u = bench_next_u64() % info.users;
        if (persona_store_user_at(key, sizeof key, NULL, store, u))
            fail("user_at");
        keys[i] = strdup(key);
    }
    const char *names[] = { "country", "device" }, *values[] = { "FR", "mobile" };
    persona_eval_context ctx = PERSONA_EVAL_CONTEXT_INIT;
    ctx.count = 2;
    ctx.names = names;
    ctx.values = values;
    ctx.hour = 20;
    uint32_t segs[32];
    size_t count;
    uint64_t memberships = 0;
    for (size_t i = 0; i < n_sample; i++) /* warm-up: caches, the name binding */
        if (persona_segment_model_assign(segs, 32, &count, m, store, keys[i], &ctx))
            fail("assign");
    double times[64];
    unsigned long long allocs = 0;
    for (int r = 0; r < repeats; r++) {
        unsigned long long before = atomic_load(&allocations);
        double t0 = bench_now();
        for (size_t i = 0; i < n_sample; i++) {
            if (persona_segment_model_assign(segs, 32, &count, m, store, keys[i], &ctx))
                fail("assign");
            memberships += count;
        }
        times[r] = (bench_now() - t0) / (double)n_sample;
        allocs += atomic_load(&allocations) - before;
    }
    double assign_ns = bench_median(times, (size_t)repeats) * 1e9;
    /* The same on 256 users over and over: their profiles, events and attributes stay in
     * cache, so this is the evaluation's own cost without the memory latency of a random
     * profile of a large store. */
    enum { HOT = 256, HOT_ROUNDS = 400 };
    size_t n_hot = n_sample < HOT ? n_sample : HOT;
    for (int r = 0; r < repeats; r++) {
        unsigned long long before = atomic_load(&allocations);
        double t0 = bench_now();
        for (int k = 0; k < HOT_ROUNDS; k++)
            for (size_t i = 0; i < n_hot; i++)
                if (persona_segment_model_assign(segs, 32, &count, m, store, keys[i], &ctx))
                    fail("assign");
        times[r] = (bench_now() - t0) / (double)(n_hot * HOT_ROUNDS);
        allocs += atomic_load(&allocations) - before;
    }
    double hot_ns = bench_median(times, (size_t)repeats) * 1e9;

    double scan_s[2];
    uint64_t counts[20], none = 0;
    for (int th = 1; th <= 2; th++) {
        for (int r = 0; r < repeats; r++) {
            double t0 = bench_now();
            if (persona_segment_model_scan(counts, 20, &none, m, store, &ctx, NULL, NULL, (uint32_t)th))
                fail("scan");
            times[r] = bench_now() - t0;
        }
        scan_s[th - 1] = bench_median(times, (size_t)repeats);
    }
    printf("{\"bench\": \"segment\", \"events\": %llu, \"users\": %llu, \"rules\": 20, "
           "\"load_s\": %.3f, \"assign_ns\": %.1f, \"assign_hot_ns\": %.1f, \"assign_allocations\": %llu, "
           "\"assign_calls\": %llu, \"scan_s_1_thread\": %.3f, \"scan_users_per_s_1_thread\": %.0f, "
           "\"scan_s_2_threads\": %.3f, \"scan_users_per_s_2_threads\": %.0f, \"counts\": [",
           (unsigned long long)info.events, (unsigned long long)info.users, load_s, assign_ns, hot_ns,
           allocs, (unsigned long long)(n_sample + n_hot * HOT_ROUNDS) * (unsigned long long)repeats, scan_s[0],
           (double)info.users / scan_s[0], scan_s[1], (double)info.users / scan_s[1]);
    for (int k = 0; k < 20; k++)
        printf("%s%llu", k ? ", " : "", (unsigned long long)counts[k]);
    printf("], \"none\": %llu, \"memberships_sampled\": %llu}\n", (unsigned long long)none,
           (unsigned long long)memberships);
    for (size_t i = 0; i < n_sample; i++)
        free(keys[i]);
    free(keys);
    persona_segment_model_free(m);
    persona_store_free(store);
    return 0;
}
