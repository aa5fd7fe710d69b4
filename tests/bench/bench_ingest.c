/* In-memory ingest speed: events per second through persona_store_ingest, batches of 4096,
 * on a synthetic stream shaped like shared/bench/gen/events.c (N/15 users with power-law
 * activity, 3 event types, values on a tenth of the events, times increasing).
 * usage: bench_ingest [EVENTS] [REPEATS] [THREADS]   (default 10000000 3 1) — prints one
 * JSON line. With THREADS > 1 the batches are shared out among that many threads feeding
 * one store (batch i to thread i mod THREADS), and the same run also times one thread, so
 * the line gives the speedup (issue 4 asks for >= 1.7 with 2 threads). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "persona.h"

typedef struct feeder {
    persona_store *store;
    const persona_event *ev;
    size_t n;
    int index, threads;
} feeder;

static void *feed(void *arg)
{
    const feeder *f = arg;
    size_t batch = 0;
    for (size_t i = 0; i < f->n; i += 4096, batch++) {
        if ((int)(batch % (size_t)f->threads) != f->index)
            continue;
        size_t m = f->n - i < 4096 ? f->n - i : 4096;
        if (persona_store_ingest(NULL, f->store, f->ev + i, m, NULL) != PERSONA_OK) {
            fprintf(stderr, "ingest: %s\n", persona_errmsg());
            exit(1);
        }
    }
    return NULL;
}

/* Median seconds to ingest everything with `threads` threads (info of the last store). */
static double time_ingest(const persona_event *ev, size_t n, int repeats, int threads,
                          double *best, persona_store_info *info)
{
    double times[16];
    *best = 1e300;
    for (int k = 0; k < repeats; k++) {
        persona_store *s = NULL;
        if (persona_store_new(&s, NULL) != PERSONA_OK)
            exit(1);
        pthread_t tid[16];
        feeder f[16];
        double t0 = bench_now();
        for (int t = 0; t < threads; t++) {
            f[t] = (feeder){ s, ev, n, t, threads };
            pthread_create(&tid[t], NULL, feed, &f[t]);
        }
        for (int t = 0; t < threads; t++)
            pthread_join(tid[t], NULL);
        times[k] = bench_now() - t0;
        if (times[k] < *best)
            *best = times[k];
        persona_store_info_get(info, s);
        persona_store_free(s);
    }
    return bench_median(times, (size_t)repeats);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    size_t users = n / 15 > 1000 ? n / 15 : 1000;
    char *keys = malloc(users * 24);
    persona_event *ev = malloc(n * sizeof *ev);
    if (!keys || !ev)
        return 1;
    for (size_t u = 0; u < users; u++)
        snprintf(keys + 24 * u, 24, "%zu", u + 1);
    static const char *types[] = { "view", "addtocart", "transaction" };
    for (size_t i = 0; i < n; i++) {
        /* rank ~ power law: u = users * x^(1/(1-0.9))-ish, cheap and skewed */
        double x = bench_next_unit();
        size_t u = (size_t)((double)users * pow(x, 10.0));
        if (u >= users)
            u = users - 1;
        uint64_t r = bench_next_u64();
        persona_event e = PERSONA_EVENT_INIT;
        e.user = keys + 24 * u;
        e.time_ms = 1672531200000LL + (int64_t)i * 6000;
        e.type = types[r % 100 < 90 ? 0 : r % 100 < 97 ? 1 : 2];
        e.value = r % 10 == 0 ? (double)(r % 10000) / 100.0 : NAN;
        ev[i] = e;
    }
    if (repeats < 1 || repeats > 16)
        repeats = 3;
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    if (threads < 1 || threads > 16)
        threads = 1;
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    double best = 0, median = time_ingest(ev, n, repeats, 1, &best, &info);
    if (threads == 1) {
        printf("{\"workload\":\"ingest-memory\",\"events\":%zu,\"users\":%llu,\"median_s\":%.4f,"
               "\"min_s\":%.4f,\"events_per_s\":%.0f,\"bytes_per_event\":%.1f,"
               "\"bytes_per_profile\":%.1f}\n",
               n, (unsigned long long)info.users, median, best, (double)n / median,
               (double)info.bytes_events / (double)info.events,
               (double)info.bytes_profiles / (double)info.users);
    } else {
        double best_t = 0, median_t = time_ingest(ev, n, repeats, threads, &best_t, &info);
        printf("{\"workload\":\"ingest-threads\",\"events\":%zu,\"threads\":%d,"
               "\"events_per_s_1\":%.0f,\"events_per_s_%d\":%.0f,\"speedup\":%.2f}\n",
               n, threads, (double)n / median, threads, (double)n / median_t, median / median_t);
    }
    free(ev);
    free(keys);
    return 0;
}
