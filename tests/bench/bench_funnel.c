/* Funnel build speed: view → addtocart → transaction within 24 h, counting users, on the
 * store loaded from a CSV of events (columns user_id, timestamp, event, value) — or from a
 * store snapshot when the path ends in .snap.
 * usage: bench_funnel EVENTS.csv|STORE.snap [REPEATS [MODE]]   — prints one JSON line
 * (median build time, single thread) with the step counts. MODE: fast (default), predicate
 * (a predicate every event passes: the greedy on general records) or exclusion (an
 * exclusion nobody has: the time-group DP); all give the same counts. The DuckDB anchor on
 * the 10M-event synthetic file gives users [631114, 218059, 103281]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

static void fail(const char *what)
{
    bench_fail("bench_funnel", what);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/persona-bench/events_10m.csv";
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    if (repeats < 1 || repeats > 64)
        repeats = 5;
    double load_s = 0;
    persona_store *store = bench_load_store("bench_funnel", path, &load_s);

    persona_funnel_step s1 = PERSONA_FUNNEL_STEP_INIT, s2 = PERSONA_FUNNEL_STEP_INIT,
                        s3 = PERSONA_FUNNEL_STEP_INIT;
    s1.event_type = "view";
    s2.event_type = "addtocart";
    s3.event_type = "transaction";
    const persona_funnel_step *steps[] = { &s1, &s2, &s3 };
    persona_funnel_options o = PERSONA_FUNNEL_OPTIONS_INIT;
    o.steps = steps;
    o.n_steps = 3;
    o.window_ms = 24 * 3600 * 1000LL;
    const char *mode = argc > 3 ? argv[3] : "fast";
    persona_funnel_step never = PERSONA_FUNNEL_STEP_INIT;
    never.event_type = "never-seen";
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &never;
    const persona_funnel_exclusion *xp[] = { &x };
    if (strcmp(mode, "predicate") == 0) {
        s1.where_property = "item";
        s1.where_value = "never-seen";
        s1.where_op = PERSONA_WHERE_NE;
    } else if (strcmp(mode, "exclusion") == 0) {
        o.exclusions = xp;
        o.n_exclusions = 1;
    }
    double times[64];
    uint64_t units[3] = { 0, 0, 0 };
    double median_s[3] = { 0, 0, 0 };
    for (int r = 0; r < repeats; r++) {
        persona_funnel *f = NULL;
        double a = bench_now();
        if (persona_funnel_build(&f, store, &o))
            fail("build");
        times[r] = bench_now() - a;
        for (size_t j = 0; j < 3; j++) {
            persona_funnel_units(&units[j], f, j);
            persona_funnel_time_quantile(&median_s[j], f, j, 0.5);
        }
        persona_funnel_free(f);
    }
    double build_s = bench_median(times, (size_t)repeats);
    printf("{\"mode\": \"%s\", \"load_s\": %.2f, \"build_s\": %.3f, \"users\": [%llu, %llu, %llu], "
           "\"median_ms\": [null, %.0f, %.0f], \"anchor_match\": %s}\n",
           mode, load_s, build_s, (unsigned long long)units[0], (unsigned long long)units[1],
           (unsigned long long)units[2], median_s[1], median_s[2],
           units[0] == 631114 && units[1] == 218059 && units[2] == 103281 ? "true" : "false");
    persona_store_free(store);
    return 0;
}
