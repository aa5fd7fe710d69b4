/* A host with live segments: stream the bundled Online Retail sample into a store with
 * four segments registered, print who enters and leaves as it happens, then let time run
 * on for two months with persona_store_tick() so the time-based exits show.
 *
 * usage: live_segments [ORDERS.csv] [--all]   (default: the bundled sample; --all prints
 * every change instead of the first 20) */
#include <persona.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SEGMENTS 4
static const struct {
    const char *name, *rule;
} segments[N_SEGMENTS] = {
    { "big_spender", "sum(\"purchase\", 30d) > 2000" },
    { "regular", "regularly(\"purchase\", 3 of 4 weeks)" },
    { "lapsing", "stopped(\"purchase\", 45d) and value > 500" },
    { "came_back", "restarted(\"purchase\", 14d, 60d)" },
};

/* Split one CSV line (RFC 4180 quotes, no embedded line breaks) into at most 8 fields of
 * up to 511 bytes; returns the number of fields. */
static int split_csv(const char *line, char fields[8][512])
{
    int nf = 0;
    size_t k = 0;
    int quoted = 0;
    for (const char *p = line;; p++) {
        char c = *p;
        if (quoted) {
            if (c == '"' && p[1] == '"') {
                c = '"';
                p++;
            } else if (c == '"') {
                quoted = 0;
                continue;
            } else if (!c) {
                return -1;
            }
        } else if (c == '"') {
            quoted = 1;
            continue;
        } else if (c == ',' || c == '\n' || c == '\r' || !c) {
            if (nf < 8)
                fields[nf][k] = 0;
            nf++;
            k = 0;
            if (c != ',')
                return nf;
            continue;
        }
        if (nf < 8 && k < 511)
            fields[nf][k++] = c;
    }
}

typedef struct tally {
    unsigned long enters[N_SEGMENTS], exits[N_SEGMENTS], printed;
    int print_all;
} tally;

static int on_change(void *ctx, const char *user, size_t user_len, const char *segment,
                     int32_t entered, int64_t at_ms)
{
    tally *t = ctx;
    for (int k = 0; k < N_SEGMENTS; k++)
        if (strcmp(segment, segments[k].name) == 0)
            (entered ? t->enters : t->exits)[k]++;
    if (t->print_all || t->printed < 20) {
        char when[32];
        persona_time_format(when, sizeof when, NULL, at_ms, 0);
        printf("%s  %-5s %-12s customer %.*s\n", when, entered ? "enter" : "exit", segment,
               (int)user_len, user);
        t->printed++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = "examples/data/online_retail_sample.csv";
    tally t = { { 0 }, { 0 }, 0, 0 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            t.print_all = 1;
        else
            path = argv[i];
    }
    persona_store *store = NULL;
    if (persona_store_new(&store, NULL) != PERSONA_OK)
        return 1;
    for (int k = 0; k < N_SEGMENTS; k++)
        if (persona_store_add_segment(store, segments[k].name, segments[k].rule,
                                      strlen(segments[k].rule), on_change, &t) != PERSONA_OK) {
            fprintf(stderr, "segment %s: %s\n", segments[k].name, persona_errmsg());
            return 1;
        }
    /* Orders arrive one invoice at a time, as a shop would send them. */
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char line[4096], fields[8][512];
    persona_event batch[512];
    static char keys[512][512], baskets[512][512], items[512][512];
    size_t n = 0;
    unsigned long long loaded = 0, skipped = 0;
    int header = 1;
    for (;;) {
        int more = fgets(line, sizeof line, f) != NULL;
        if (more && header) {
            header = 0;
            continue;
        }
        if (more && split_csv(line, fields) != 8) {
            skipped++;
            continue;
        }
        /* A new invoice (or the end): send the one collected so far. */
        if (n && (!more || strcmp(fields[0], baskets[n - 1]) != 0 || n == 512)) {
            persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
            if (persona_store_ingest(&st, store, batch, n, NULL) != PERSONA_OK) {
                fprintf(stderr, "ingest: %s\n", persona_errmsg());
                return 1;
            }
            loaded += st.events_accepted;
            skipped += st.events_rejected;
            n = 0;
        }
        if (!more)
            break;
        if (!fields[6][0]) { /* no customer */
            skipped++;
            continue;
        }
        persona_event e = PERSONA_EVENT_INIT;
        snprintf(keys[n], sizeof keys[n], "%s", fields[6]);
        snprintf(baskets[n], sizeof baskets[n], "%s", fields[0]);
        snprintf(items[n], sizeof items[n], "%s", fields[1]);
        e.user = keys[n];
        e.basket = baskets[n];
        e.item = items[n];
        e.type = "purchase";
        e.value = atof(fields[3]) * atof(fields[5]);
        if (persona_time_parse(&e.time_ms, fields[4], strlen(fields[4]), NULL, 0) != PERSONA_OK) {
            skipped++;
            continue;
        }
        batch[n++] = e;
    }
    fclose(f);
    printf("-- %llu events streamed (%llu rows skipped: no customer or unreadable); time runs on --\n",
           loaded, skipped);
    int64_t clock = 0;
    persona_store_clock(&clock, store);
    for (int day = 1; day <= 60; day++)
        if (persona_store_tick(store, clock + (int64_t)day * 86400000) != PERSONA_OK) {
            fprintf(stderr, "tick: %s\n", persona_errmsg());
            return 1;
        }
    if (!t.print_all && t.printed >= 20)
        printf("... (--all prints every change)\n");
    /* Members now, counted from the store, next to what the callbacks said. */
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info, store);
    unsigned long members[N_SEGMENTS] = { 0 };
    char key[256];
    for (uint64_t u = 0; u < info.users; u++) {
        uint32_t in[N_SEGMENTS];
        size_t n_in = 0;
        persona_store_user_at(key, sizeof key, NULL, store, u);
        persona_store_segments_of(in, N_SEGMENTS, &n_in, store, key);
        for (size_t i = 0; i < n_in; i++)
            members[in[i]]++;
    }
    printf("%-12s %7s %7s %8s\n", "segment", "entered", "left", "members");
    int consistent = 1;
    for (int k = 0; k < N_SEGMENTS; k++) {
        printf("%-12s %7lu %7lu %8lu\n", segments[k].name, t.enters[k], t.exits[k], members[k]);
        consistent &= t.enters[k] - t.exits[k] == members[k];
    }
    persona_store_free(store);
    return consistent ? 0 : 2;
}
