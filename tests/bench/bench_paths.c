/* Path model speed: persona_path_build (sessions by the 30-minute gap, states = event
 * types) of order 1 and of order 2 on the store loaded from a CSV of events (columns
 * user_id, timestamp, event, value) — or from a store snapshot when the path ends in .snap
 * — and persona_path_next (order 2, top 3) on histories drawn from the model's states.
 * usage: bench_paths EVENTS.csv|STORE.snap [REPEATS [TRANSITIONS.csv]]   — prints one JSON
 * line (median build times, events/s, ns per next query); with TRANSITIONS.csv also writes
 * the first-order table as from,to,count (for compare_paths.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

static void fail(const char *what)
{
    bench_fail("bench_paths", what);
}

static double build(const persona_store *store, int32_t order, int repeats,
                    persona_path_model **keep)
{
    persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
    o.order = order;
    double times[64];
    for (int r = 0; r < repeats; r++) {
        persona_path_model *m = NULL;
        double a = bench_now();
        if (persona_path_build(&m, store, &o))
            fail("build");
        times[r] = bench_now() - a;
        if (r + 1 == repeats && keep)
            *keep = m;
        else
            persona_path_free(m);
    }
    return bench_median(times, (size_t)repeats);
}

static void write_table(const persona_path_model *m, const char *path)
{
    FILE *f = fopen(path, "w");
    persona_path_list *l = NULL;
    if (!f || persona_path_transitions(&l, m, 1))
        fail("transitions");
    size_t rows = 0;
    persona_path_list_size(&rows, l);
    fputs("from,to,count\n", f);
    for (size_t r = 0; r < rows; r++) {
        uint32_t st[2];
        size_t n = 0;
        uint64_t c = 0;
        char a[256], b[256];
        persona_path_list_row(st, 2, &n, &c, NULL, l, r);
        persona_path_state_name(a, sizeof a, NULL, m, st[0]);
        persona_path_state_name(b, sizeof b, NULL, m, st[1]);
        fprintf(f, "%s,%s,%llu\n", a, b, (unsigned long long)c);
    }
    persona_path_list_free(l);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/persona-bench/events_10m.csv";
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    if (repeats < 1 || repeats > 64)
        repeats = 5;
    double load_s = 0;
    persona_store *store = bench_load_store("bench_paths", path, &load_s);
    persona_store_info si = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&si, store);
    persona_path_model *m1 = NULL, *m2 = NULL;
    double order1_s = build(store, 1, repeats, &m1);
    double order2_s = build(store, 2, repeats, &m2);
    if (argc > 3)
        write_table(m1, argv[3]);
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    persona_path_info_get(&in, m2);

    /* next: 1M queries over 4,096 histories of two random states (some unseen: back-off) */
    enum { H = 4096, QUERIES = 1000000 };
    static uint32_t hist[H][2];
    for (int i = 0; i < H; i++)
        for (int j = 0; j < 2; j++)
            hist[i][j] = (uint32_t)(bench_next_u64() % in.states);
    uint32_t st[3];
    double pr[3], sum = 0;
    size_t k = 0;
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        double a = bench_now();
        for (int q = 0; q < QUERIES; q++) {
            persona_path_next(st, pr, 3, &k, NULL, m2, hist[q & (H - 1)], 2, 2);
            sum += pr[0];
        }
        double t = (bench_now() - a) / QUERIES * 1e9;
        best = t < best ? t : best;
    }
    printf("{\"events\": %llu, \"users\": %llu, \"load_s\": %.2f, \"order1_s\": %.3f, "
           "\"order2_s\": %.3f, \"order2_events_per_s\": %.0f, \"sessions\": %llu, "
           "\"states\": %llu, \"contexts\": %llu, \"next_ns\": %.1f, \"check\": %.3f}\n",
           (unsigned long long)si.events, (unsigned long long)si.users, load_s, order1_s,
           order2_s, (double)si.events / order2_s, (unsigned long long)in.sessions,
           (unsigned long long)in.states, (unsigned long long)in.contexts, best, sum);
    persona_path_free(m1);
    persona_path_free(m2);
    persona_store_free(store);
    return 0;
}
