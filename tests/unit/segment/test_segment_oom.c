/* Allocation failures in segment models (TESTING.md §5): compile, add_rule, add_list,
 * assign (a large out-of-order user, whose ordered functions need the heap), describe,
 * scan with members on several threads, save and load — with the N-th allocation failing
 * once and from N on, for N = 1, 2, … until the call succeeds. A failed call returns
 * PERSONA_ENOMEM, leaves the model it acts on as it was and leaks nothing; the call that
 * finally succeeds gives the reference result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "store_check.h"

#define HOUR INT64_C(3600000)
#define T0 INT64_C(1704067200000)

static const char *const rules =
    "a: count(\"buy\", 7d) >= 2 or in_segment(\"later\")\n"
    "b: sequence(\"view\" -> \"buy\" -> not \"view\", within 30d) and plan in [\"x\", \"pro\"]\n"
    "c: sessions > 3 and orders >= 1 and last(\"ref\") matches \"a*\"\n"
    "later: regularly(\"view\", 2 of 4 weeks) and not stopped(\"buy\", 3d)\n";

/* Users with events in and out of time order; "big" has 400 of them, out of order. */
static persona_store *make_store(void)
{
    persona_store *s = new_seeded_store(5);
    char name[16], basket[16];
    for (int u = 0; u < 30; u++) {
        snprintf(name, sizeof name, "u%d", u);
        for (int k = 0; k < 6; k++) {
            int j = (u % 3 == 0) ? 5 - k : k; /* every third user out of order */
            snprintf(basket, sizeof basket, "o%d", j / 2);
            persona_event e = ev(name, T0 + (int64_t)(u + j * 29) * HOUR * 7, j % 2 ? "buy" : "view", j);
            e.basket = j % 2 ? basket : NULL;
            persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
            if (persona_store_ingest(&st, s, &e, 1, NULL))
                abort();
        }
        if (u % 4 == 0)
            ingest_with_prop(s, name, T0 + (int64_t)u * HOUR, "view", NAN, "ref", "ads");
        if (u % 5 == 0 && persona_store_attr_set_str(s, name, "plan", "pro"))
            abort();
    }
    for (int k = 0; k < 400; k++) {
        int j = (int)((uint64_t)k * 211 % 400);
        persona_event e = ev("big", T0 + (int64_t)j * HOUR, j % 3 ? "view" : "buy", 1);
        persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
        if (persona_store_ingest(&st, s, &e, 1, NULL))
            abort();
    }
    return s;
}

static int members(void *ctx, const char *user, size_t len, uint32_t seg)
{
    char *out = ctx;
    size_t n = strlen(out);
    if (n + len + 16 < 8192)
        snprintf(out + n, 8192 - n, "%.*s:%u ", (int)len, user, seg);
    return 0;
}

/* Everything a model answers on the store, as text (count, names, scan). */
static void summary(const persona_segment_model *m, persona_store *s, char *out)
{
    out[0] = 0;
    size_t n = 0;
    if (persona_segment_model_count(&n, m))
        abort();
    snprintf(out, 8192, "%zu segments: ", n);
    uint64_t counts[8] = { 0 };
    if (persona_segment_model_scan(counts, n < 8 ? n : 8, NULL, m, s, NULL, members, out, 1))
        abort();
}

enum { OP_COMPILE, OP_ADD_RULE, OP_ADD_LIST, OP_ASSIGN, OP_DESCRIBE, OP_SCAN, OP_SAVE, OP_LOAD };
static const char *const op_names[] = { "compile", "add_rule", "add_list", "assign",
                                        "describe", "scan", "save", "load" };
static int counted;

static void check_op(int op, persona_store *s, const char *path)
{
    uint64_t live0 = failalloc_live();
    char *want = NULL;
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            persona_segment_model *m = NULL, *result = NULL;
            persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
            o.mode = PERSONA_SEGMENT_ALL_MATCHES;
            if (op != OP_COMPILE && op != OP_LOAD &&
                persona_segment_model_compile(&m, rules, strlen(rules), &o))
                abort();
            char before[8192] = "", got[8192] = "";
            if (m)
                summary(m, s, before);
            const char *extra = "count(\"view\") > 2 and last(\"ref\") == \"ads\" and sum(\"buy\", 30d) > 1";
            const char *keys[] = { "u3", "u7", "nobody" };
            uint32_t segs[8];
            size_t count = 0;
            persona_eval_context c = PERSONA_EVAL_CONTEXT_INIT;
            c.now_ms = T0 + 200 * HOUR;
            failalloc_arm(n, mode);
            int rc;
            switch (op) {
            case OP_COMPILE: rc = persona_segment_model_compile(&result, rules, strlen(rules), &o); break;
            case OP_ADD_RULE: rc = persona_segment_model_add_rule(m, "extra", extra, strlen(extra)); break;
            case OP_ADD_LIST: rc = persona_segment_model_add_list(m, "list", keys, 3); break;
            case OP_ASSIGN: rc = persona_segment_model_assign(segs, 8, &count, m, s, "big", &c); break;
            case OP_DESCRIBE: rc = persona_segment_model_describe(got, sizeof got, NULL, m, s, "big", &c); break;
            case OP_SCAN: {
                uint64_t counts[8];
                rc = persona_segment_model_scan(counts, 4, NULL, m, s, &c, members, got, 3);
                break;
            }
            case OP_SAVE: rc = persona_segment_model_save(m, path); break;
            default: rc = persona_segment_model_load(&result, path); break;
            }
            int injected = failalloc_disarm();
            counted++;
            if (rc == PERSONA_OK) {
                if (op == OP_COMPILE || op == OP_LOAD)
                    summary(result, s, got);
                else if (op == OP_ADD_RULE || op == OP_ADD_LIST)
                    summary(m, s, got);
                else if (op == OP_ASSIGN)
                    for (size_t k = 0; k < count; k++)
                        snprintf(got + strlen(got), 16, "%u ", segs[k]);
                else if (op == OP_SAVE) {
                    persona_segment_model *back = NULL;
                    if (persona_segment_model_load(&back, path))
                        abort();
                    summary(back, s, got);
                    persona_segment_model_free(back);
                }
                if (!want)
                    want = strdup(got);
                if (strcmp(got, want) != 0)
                    fprintf(stderr, "%s: n=%llu mode=%d: result differs:\n%s\n%s\n", op_names[op],
                            (unsigned long long)n, mode, got, want);
                CHECK(strcmp(got, want) == 0);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s: n=%llu mode=%d: rc %d (%s)\n", op_names[op],
                            (unsigned long long)n, mode, rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(result == NULL);
                if (m) {
                    char after[8192];
                    summary(m, s, after);
                    CHECK(strcmp(before, after) == 0);
                }
            }
            persona_segment_model_free(result);
            persona_segment_model_free(m);
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
    persona_store *s = make_store();
    char path[64];
    snprintf(path, sizeof path, "%s/test_segment_oom_XXXXXX", test_temp_dir());
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    persona_segment_model *m = NULL;
    if (persona_segment_model_compile(&m, rules, strlen(rules), &o) || persona_segment_model_save(m, path)) {
        fprintf(stderr, "setup: %s\n", persona_errmsg());
        abort();
    }
    persona_segment_model_free(m);
    for (int op = OP_COMPILE; op <= OP_LOAD; op++)
        check_op(op, s, path);
    persona_store_free(s);
    unlink(path);
    fprintf(stderr, "%d runs under injection\n", counted);
    return check_report("test_segment_oom");
}
