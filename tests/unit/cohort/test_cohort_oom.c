/* Allocation failures in cohort tables (TESTING.md §5): build, merge, update, export,
 * save and load, with the N-th allocation failing once and from N on, for N = 1, 2, …
 * until the call succeeds. A failed call returns PERSONA_ENOMEM, NULLs its out-pointer,
 * leaves the table it acts on as it was, and leaks nothing; the call that finally
 * succeeds gives the reference result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "failalloc.h"
#include "store_check.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000) /* 2024-01-01 */

/* An event with property "ref" (none when ref is NULL). */
static void add(persona_store *s, const char *user, int64_t t, const char *type, double v,
                const char *ref)
{
    ingest_with_prop(s, user, t, type, v, "ref", ref);
}

/* Users u<first>… with events over three months; `late` adds a later batch. */
static persona_store *make_store(int first, int count, int late)
{
    persona_store *s = new_seeded_store(3);
    char name[16];
    for (int u = first; u < first + count; u++) {
        snprintf(name, sizeof name, "u%d", u);
        for (int k = 0; k < 4; k++)
            add(s, name, T0 + (int64_t)(u * 7 + k * 23) * DAY / 2, k % 2 ? "buy" : "view",
                k % 2 ? 2.5 * (u + 1) : NAN, u % 3 ? "ads" : NULL);
        if (late)
            add(s, name, T0 + (int64_t)(100 + u) * DAY, "buy", 1.25, "mail");
    }
    return s;
}

static char *json_of(const persona_cohort_table *t)
{
    char *out = NULL;
    if (persona_cohort_table_export_buffer(&out, NULL, t, PERSONA_COHORT_EXPORT_JSON, 0))
        return NULL;
    return out;
}

enum { OP_BUILD, OP_MERGE, OP_UPDATE, OP_EXPORT, OP_SAVE_LOAD };
static const char *const op_names[] = {"build", "merge", "update", "export", "save+load"};

static int counted;

/* One operation under injection; the tables it acts on are made outside it. */
static void check_op(int op, const persona_cohort_options *o, const char *what)
{
    uint64_t live0 = failalloc_live();
    char path[64];
    snprintf(path, sizeof path, "%s/test_cohort_oom_XXXXXX", test_temp_dir());
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    char *want = NULL;
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            persona_store *s = make_store(0, 6, op == OP_UPDATE);
            persona_store *b = make_store(10, 4, 0);
            persona_cohort_table *t = NULL, *part = NULL, *result = NULL;
            char *out = NULL;
            if (op != OP_BUILD) {
                if (op == OP_UPDATE) { /* built before the late batch arrives */
                    persona_store_free(s);
                    s = make_store(0, 6, 0);
                }
                if (persona_cohort_build(&t, s, o) || persona_cohort_build(&part, b, o))
                    abort();
                if (op == OP_UPDATE) { /* the late events arrive after the build */
                    char name[16];
                    for (int u = 0; u < 6; u++) {
                        snprintf(name, sizeof name, "u%d", u);
                        add(s, name, T0 + (int64_t)(100 + u) * DAY, "buy", 1.25, "mail");
                    }
                }
                if (op == OP_SAVE_LOAD && persona_cohort_table_save(t, path))
                    abort();
            }
            char *before = t ? json_of(t) : NULL;
            failalloc_arm(n, mode);
            int rc;
            switch (op) {
            case OP_BUILD: rc = persona_cohort_build(&result, s, o); break;
            case OP_MERGE: rc = persona_cohort_table_merge(t, part); break;
            case OP_UPDATE: rc = persona_cohort_table_update(t, s); break;
            case OP_EXPORT:
                rc = persona_cohort_table_export_buffer(&out, NULL, t, PERSONA_COHORT_EXPORT_JSON, 0);
                break;
            default: rc = persona_cohort_table_load(&result, path); break;
            }
            int injected = failalloc_disarm();
            counted++;
            char *got = NULL;
            if (rc == PERSONA_OK) {
                got = op == OP_EXPORT ? out : json_of(op == OP_BUILD || op == OP_SAVE_LOAD ? result : t);
                out = NULL;
                if (!want)
                    want = got ? strdup(got) : NULL;
                if (!got || !want || strcmp(got, want) != 0)
                    fprintf(stderr, "%s %s: n=%llu mode=%d: result differs\n", op_names[op], what,
                            (unsigned long long)n, mode);
                CHECK(got && want && strcmp(got, want) == 0);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s %s: n=%llu mode=%d: rc %d (%s)\n", op_names[op], what,
                            (unsigned long long)n, mode, rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(result == NULL && out == NULL);
                if (t) {
                    char *after = json_of(t);
                    CHECK(before && after && strcmp(before, after) == 0);
                    persona_free(after);
                }
            }
            persona_free(got);
            persona_free(before);
            persona_cohort_table_free(result);
            persona_cohort_table_free(t);
            persona_cohort_table_free(part);
            persona_store_free(s);
            persona_store_free(b);
            uint64_t live = failalloc_live();
            if (live != live0)
                fprintf(stderr, "%s %s: n=%llu mode=%d: %lld blocks leaked\n", op_names[op], what,
                        (unsigned long long)n, mode, (long long)(live - live0));
            CHECK(live == live0);
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
    free(want);
    unlink(path);
}

int main(void)
{
    failalloc_install();
    static const uint32_t brackets[] = {0, 1, 3};
    static const char *const buy[] = {"buy"};
    struct {
        const char *what;
        persona_cohort_options o;
    } cases[7];
    for (int i = 0; i < 7; i++)
        cases[i].o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    cases[0].what = "monthly (fast path, all metrics, 2 threads)";
    cases[0].o.metrics = (1u << PERSONA_COHORT_EVENTS) | (1u << PERSONA_COHORT_REVENUE);
    cases[0].o.threads = 2;
    cases[1].what = "property, brackets, active types";
    cases[1].o.cohort_by = PERSONA_COHORT_BY_PROPERTY;
    cases[1].o.cohort_property = "ref";
    cases[1].o.brackets = brackets;
    cases[1].o.n_brackets = 3;
    cases[1].o.active_types = buy;
    cases[1].o.n_active_types = 1;
    cases[2].what = "rolling weekly rows, revenue, unbounded";
    cases[2].o.period = PERSONA_PERIOD_ROLLING;
    cases[2].o.row_period = PERSONA_PERIOD_WEEK;
    cases[2].o.metrics = 1u << PERSONA_COHORT_REVENUE;
    cases[2].o.retention = PERSONA_RETENTION_UNBOUNDED;
    cases[3].what = "first of type, daily";
    cases[3].o.cohort_by = PERSONA_COHORT_BY_FIRST_OF_TYPE;
    cases[3].o.cohort_event = "buy";
    cases[3].o.period = PERSONA_PERIOD_DAY;
    cases[4].what = "lifecycle weekly";
    cases[4].o.kind = PERSONA_COHORT_LIFECYCLE;
    cases[4].o.period = PERSONA_PERIOD_WEEK;
    cases[5].what = "stickiness daily";
    cases[5].o.kind = PERSONA_COHORT_STICKINESS;
    cases[5].o.period = PERSONA_PERIOD_DAY;
    cases[6].what = "consent purpose";
    cases[6].o.consent_purpose = "email";
    for (int i = 0; i < 7; i++)
        for (int op = OP_BUILD; op <= OP_SAVE_LOAD; op++)
            check_op(op, &cases[i].o, cases[i].what);
    fprintf(stderr, "%d runs under injection\n", counted);
    return check_report("test_cohort_oom");
}
