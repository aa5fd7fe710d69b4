/* Allocation failures in live segments (TESTING.md §5): registering a segment (the model,
 * the per-profile state and its new layout, the event links), ingesting events that add
 * profiles and events (state and links grow), and ticking. For every n, failing the n-th
 * allocation (once, and from the n-th on) must give PERSONA_ENOMEM with the store's
 * segments and memberships as they were, or success with the memberships a run without
 * failures gives; nothing leaks, and the store keeps working: a later ingest still equals
 * a batch evaluation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "failalloc.h"
#include "store_check.h"

#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000)

static const char *const first_rule = "count(\"buy\", 2d) >= 1 and sum(\"buy\", 3d) > 1";
/* reads only events (no time): a look caused by time alone skips it */
static const char *const third_rule = "sequence(\"buy\" -> \"view\") and events > 2";
static const char *const second_rule =
    "sequence(\"view\" -> \"buy\", within 1d) or regularly(\"view\", 2 of 3 days) or restarted(\"buy\", 1d)";

static int on_change(void *ctx, const char *user, size_t len, const char *segment,
                     int32_t entered, int64_t at)
{
    (void)ctx, (void)user, (void)len, (void)segment, (void)entered, (void)at;
    return 0;
}

static void ingest_stream(persona_store *s, int from, int to)
{
    for (int k = from; k < to; k++) {
        char name[16];
        snprintf(name, sizeof name, "u%d", k % 40);
        persona_event e = ev(name, T0 + (int64_t)k * HOUR, k % 3 ? "view" : "buy", 0.5 * (k % 5));
        persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
        if (persona_store_ingest(&st, s, &e, 1, NULL))
            abort();
    }
}

/* "big": 300 events newest first, so that evaluating it needs a sorted copy of its events
 * (allocated beyond 256): a look that can fail, and must be retried. */
static void ingest_big(persona_store *s)
{
    for (int k = 300; k-- > 0;) {
        persona_event e = ev("big", T0 + (int64_t)k * 60000, k % 2 ? "view" : "buy", 1);
        persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
        if (persona_store_ingest(&st, s, &e, 1, NULL))
            abort();
    }
}

static void user_name(char *name, size_t cap, int u)
{
    if (u == 48)
        snprintf(name, cap, "big");
    else
        snprintf(name, cap, "u%d", u);
}

/* Every user's live segments, as text. */
static void memberships(persona_store *s, char *out, size_t cap)
{
    out[0] = 0;
    size_t n = 0;
    if (persona_store_segment_count(&n, s))
        abort();
    snprintf(out, cap, "%zu segments:", n);
    for (int u = 0; u < 49; u++) {
        char name[16];
        user_name(name, sizeof name, u);
        uint32_t segs[4];
        size_t count = 0;
        if (persona_store_segments_of(segs, 4, &count, s, name))
            abort();
        for (size_t i = 0; i < count; i++)
            snprintf(out + strlen(out), cap - strlen(out), " %s:%u", name, segs[i]);
    }
}

/* Live memberships equal a batch evaluation of the same rules as of the clock. */
static void check_against_batch(persona_store *s, int two)
{
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    persona_segment_model *m = NULL;
    CHECK_RC(persona_segment_model_new(&m, &o), PERSONA_OK);
    CHECK_RC(persona_segment_model_add_rule(m, "first", first_rule, strlen(first_rule)), PERSONA_OK);
    CHECK_RC(persona_segment_model_add_rule(m, "third", third_rule, strlen(third_rule)), PERSONA_OK);
    if (two)
        CHECK_RC(persona_segment_model_add_rule(m, "second", second_rule, strlen(second_rule)), PERSONA_OK);
    for (int u = 0; u < 49; u++) {
        char name[16];
        user_name(name, sizeof name, u);
        uint32_t live[4], batch[4];
        size_t n_live = 0, n_batch = 0;
        CHECK_RC(persona_store_segments_of(live, 4, &n_live, s, name), PERSONA_OK);
        CHECK_RC(persona_segment_model_assign(batch, 4, &n_batch, m, s, name, NULL), PERSONA_OK);
        CHECK(n_live == n_batch && memcmp(live, batch, n_live * sizeof *live) == 0);
    }
    persona_segment_model_free(m);
}

enum { OP_ADD_SEGMENT, OP_INGEST, OP_TICK };
static const char *const op_names[] = { "add_segment", "ingest", "tick" };
static int counted;

static void check_op(int op)
{
    char *want = NULL;
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            uint64_t live0 = failalloc_live();
            persona_store *s = new_seeded_store(3);
            ingest_stream(s, 0, 60);
            ingest_big(s);
            CHECK_RC(persona_store_add_segment(s, "first", first_rule, strlen(first_rule), on_change, NULL),
                     PERSONA_OK);
            CHECK_RC(persona_store_add_segment(s, "third", third_rule, strlen(third_rule), on_change, NULL),
                     PERSONA_OK);
            if (op != OP_ADD_SEGMENT)
                CHECK_RC(persona_store_add_segment(s, "second", second_rule, strlen(second_rule),
                                                   on_change, NULL), PERSONA_OK);
            char before[8192], got[8192];
            memberships(s, before, sizeof before);
            /* new users (u40..u47) and new events for old ones */
            persona_event evs[12];
            char names[12][16];
            for (int i = 0; i < 12; i++) {
                user_name(names[i], sizeof names[i], i == 11 ? 48 : 30 + i);
                evs[i] = ev(names[i], T0 + 61 * HOUR + (int64_t)i * 60000, i % 2 ? "buy" : "view", 1.5);
            }
            persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
            failalloc_arm(n, mode);
            int rc;
            switch (op) {
            case OP_ADD_SEGMENT:
                rc = persona_store_add_segment(s, "second", second_rule, strlen(second_rule), on_change, NULL);
                break;
            case OP_INGEST: rc = persona_store_ingest(&st, s, evs, 12, NULL); break;
            default: rc = persona_store_tick(s, T0 + 100 * HOUR); break;
            }
            int injected = failalloc_disarm();
            counted++;
            /* A look that ran out of memory keeps the old memberships and is retried (all
             * rules) at the next tick: one millisecond later, everything is current. */
            int64_t clock = 0;
            CHECK_RC(persona_store_clock(&clock, s), PERSONA_OK);
            if (rc == PERSONA_OK)
                CHECK_RC(persona_store_tick(s, clock + 1), PERSONA_OK);
            memberships(s, got, sizeof got);
            if (rc == PERSONA_OK) {
                if (!want)
                    want = strdup(got);
                if (strcmp(got, want) != 0)
                    fprintf(stderr, "%s: n=%llu mode=%d: memberships differ:\n%s\n%s\n", op_names[op],
                            (unsigned long long)n, mode, got, want);
                CHECK(strcmp(got, want) == 0);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s: n=%llu mode=%d: rc %d (%s)\n", op_names[op],
                            (unsigned long long)n, mode, rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(strcmp(before, got) == 0);
            }
            /* still working: more events, then live equals batch */
            ingest_stream(s, 62, 90);
            check_against_batch(s, op != OP_ADD_SEGMENT || rc == PERSONA_OK);
            persona_store_free(s);
            uint64_t live = failalloc_live();
            if (live != live0)
                fprintf(stderr, "%s: n=%llu mode=%d: %lld blocks leaked\n", op_names[op],
                        (unsigned long long)n, mode, (long long)(live - live0));
            CHECK(live == live0);
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
    free(want);
}

int main(void)
{
    failalloc_install();
    for (int op = OP_ADD_SEGMENT; op <= OP_TICK; op++)
        check_op(op);
    fprintf(stderr, "%d runs under injection\n", counted);
    CHECK(counted > 10);
    return check_report("test_live_oom");
}
