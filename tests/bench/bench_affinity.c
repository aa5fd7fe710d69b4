/* Affinity benchmark: build a matrix by basket from a basket file (CSV basket,item, e.g.
 * /tmp/persona-bench/retail.baskets.csv; each basket is its own user, its id also its time
 * in unix seconds) and time (1) the build, median of `repeats`, and (2) the similar-items
 * query top-10 by lift, every item in turn, after the first query of the measure sorted
 * the neighbour lists: ns per query, median of `repeats` passes over all items.
 *
 * usage: bench_affinity BASKETS.csv [repeats] */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/persona-bench/retail.baskets.csv";
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    if (repeats < 1 || repeats > 99)
        repeats = 5;
    persona_mapping map = PERSONA_MAPPING_INIT;
    map.user = "basket";
    map.time = "basket";
    map.time_format = "unix_s";
    map.item = "item";
    map.basket = "basket";
    map.event_const = "purchase";
    persona_store *store = NULL;
    persona_source *src = NULL;
    double t0 = bench_now();
    if (persona_store_new(&store, NULL) || persona_source_open_csv(&src, path, NULL, &map) ||
        persona_store_load(NULL, store, src, NULL))
        bench_fail("bench_affinity", path);
    persona_source_free(src);
    double load_s = bench_now() - t0;
    double build[99], query[99];
    persona_affinity_matrix *m = NULL;
    for (int r = 0; r < repeats; r++) {
        persona_affinity_free(m);
        m = NULL;
        t0 = bench_now();
        if (persona_affinity_build(&m, store, NULL))
            bench_fail("bench_affinity", "build");
        build[r] = bench_now() - t0;
    }
    persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
    persona_affinity_info_get(&in, m);
    size_t n = (size_t)in.items;
    char **keys = malloc(n * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        persona_affinity_item_key(NULL, 0, &len, m, i);
        keys[i] = malloc(len + 1);
        persona_affinity_item_key(keys[i], len + 1, NULL, m, i);
    }
    uint32_t it[10];
    double sc[10];
    uint64_t cn[10];
    size_t got = 0, total = 0;
    t0 = bench_now();
    if (n && persona_affinity_similar(it, sc, cn, 10, &got, m, keys[0], PERSONA_AFFINITY_LIFT, 0))
        bench_fail("bench_affinity", "similar");
    double first_s = bench_now() - t0;
    for (int r = 0; r < repeats; r++) {
        t0 = bench_now();
        for (size_t i = 0; i < n; i++) {
            persona_affinity_similar(it, sc, cn, 10, &got, m, keys[i], PERSONA_AFFINITY_LIFT, 0);
            total += got;
        }
        query[r] = (bench_now() - t0) / (double)(n ? n : 1);
    }
    printf("affinity %s: %llu baskets, %llu items, %llu pairs, %llu entries; load %.3f s\n",
           path, (unsigned long long)in.units, (unsigned long long)in.items,
           (unsigned long long)in.pairs, (unsigned long long)in.entries, load_s);
    printf("build by basket: %.3f s (median of %d)\n", bench_median(build, (size_t)repeats),
           repeats);
    printf("first lift query (sorts every row): %.3f s\n", first_s);
    printf("similar top-10 by lift: %.0f ns per query (median of %d passes over %zu items; "
           "%zu results)\n",
           bench_median(query, (size_t)repeats) * 1e9, repeats, n, total);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    persona_affinity_free(m);
    persona_store_free(store);
    return 0;
}
