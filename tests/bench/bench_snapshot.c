/* Snapshot speed: persona_store_save and persona_store_open of the store built from a CSV
 * of events (columns user_id, timestamp, event, value), in MB/s of snapshot file.
 * usage: bench_snapshot CSV SNAPSHOT [REPEATS]   — prints one JSON line (median times).
 * tests/bench/compare_snapshot.sh runs it on the 10M-event synthetic file next to a
 * `dd conv=fdatasync` write of the same size into the same directory. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_util.h"
#include "persona.h"

static void fail(const char *what)
{
    fprintf(stderr, "bench_snapshot: %s: %s\n", what, persona_errmsg());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_snapshot CSV SNAPSHOT [REPEATS]\n");
        return 2;
    }
    int repeats = argc > 3 ? atoi(argv[3]) : 3;
    if (repeats < 1 || repeats > 64)
        repeats = 3;
    persona_store *store = NULL;
    persona_source *src = NULL;
    if (persona_store_new(&store, NULL) || persona_source_open_csv(&src, argv[1], NULL, NULL))
        fail("setup");
    if (persona_store_load(NULL, store, src, NULL))
        fail("load");
    persona_source_free(src);
    double save_s[64], open_s[64];
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_now();
        if (persona_store_save(store, argv[2]))
            fail("save");
        double t1 = bench_now();
        persona_store *again = NULL;
        if (persona_store_open(&again, argv[2]))
            fail("open");
        double t2 = bench_now();
        persona_store_free(again);
        save_s[r] = t1 - t0;
        open_s[r] = t2 - t1;
    }
    double s = bench_median(save_s, (size_t)repeats), o = bench_median(open_s, (size_t)repeats);
    struct stat st;
    if (stat(argv[2], &st) != 0)
        return 1;
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info, store);
    double mb = (double)st.st_size / 1e6;
    printf("{\"events\": %llu, \"users\": %llu, \"snapshot_mb\": %.1f, \"save_s\": %.3f, "
           "\"open_s\": %.3f, \"save_mb_s\": %.1f, \"open_mb_s\": %.1f}\n",
           (unsigned long long)info.events, (unsigned long long)info.users, mb, s, o, mb / s,
           mb / o);
    persona_store_free(store);
    return 0;
}
