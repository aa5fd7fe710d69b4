/* Cohort table build speed: monthly acquisition cohorts, classic retention, distinct users
 * (the DuckDB anchor's definition), on the store loaded from a CSV of events (user_id,
 * timestamp, event, value) or opened from a store snapshot (.snap).
 * usage: bench_cohort EVENTS.csv|STORE.snap [REPEATS] [OUT.csv] [THREADS]
 * Prints one JSON line (median build time) and writes the wide table to OUT.csv, which
 * ../shared/bench/compare.py cohort reads beside the anchors' files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

static void fail(const char *what)
{
    bench_fail("bench_cohort", what);
}

static int write_file(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/persona-bench/events_10m.csv";
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    const char *out = argc > 3 ? argv[3] : NULL;
    int threads = argc > 4 ? atoi(argv[4]) : 0;
    if (repeats < 1 || repeats > 64)
        repeats = 5;
    double load_s = 0;
    persona_store *store = bench_load_store("bench_cohort", path, &load_s);
    persona_cohort_options o = PERSONA_COHORT_OPTIONS_INIT;
    o.threads = threads;
    double times[64];
    persona_cohort_table *t = NULL;
    for (int r = 0; r < repeats; r++) {
        persona_cohort_table_free(t);
        t = NULL;
        double a = bench_now();
        if (persona_cohort_build(&t, store, &o))
            fail("build");
        times[r] = bench_now() - a;
    }
    size_t rows = 0, cols = 0;
    persona_cohort_table_rows(&rows, t);
    persona_cohort_table_cols(&cols, t);
    uint64_t users = 0;
    for (size_t i = 0; i < rows; i++) {
        uint64_t n = 0;
        persona_cohort_table_size(&n, NULL, t, i);
        users += n;
    }
    if (out) {
        FILE *f = fopen(out, "w");
        if (!f || persona_cohort_table_export(t, PERSONA_COHORT_EXPORT_CSV, PERSONA_COHORT_USERS,
                                              write_file, f) || fclose(f))
            fail("export");
    }
    printf("{\"load_s\": %.2f, \"build_s\": %.4f, \"threads\": %d, \"cohorts\": %zu, "
           "\"columns\": %zu, \"users\": %llu}\n",
           load_s, bench_median(times, (size_t)repeats), threads, rows, cols,
           (unsigned long long)users);
    persona_cohort_table_free(t);
    persona_store_free(store);
    return 0;
}
