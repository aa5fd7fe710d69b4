/* Allocation failures in the feature builder (TESTING.md §5): a build of a spec with every
 * kind of term, views, aliases and one-hot levels over a store with a profile whose events
 * arrived out of order (its sessions are recounted, which allocates), and transform(), with
 * the N-th allocation failing once and from N on, for N = 1, 2, … until the call succeeds.
 * A failed call returns PERSONA_ENOMEM, NULLs its out-pointer (build) or leaves the row as
 * it was (transform), leaves the store as it was and leaks nothing; the call that finally
 * succeeds gives the reference result. Every allocation call site of lib/features/ must
 * be reached.
 *
 * usage: test_features_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_sites.h"
#include "store_check.h"

#define T0 INT64_C(1717200000000)
#define DAY INT64_C(86400000)

static const char *const SPECS[2] = {
    "behaviour: log1p(events), sessions, orders, value_sum, event_types, attributes, "
    "recency_days, tenure_days as tenure; money: count(purchase), slog1p(value(purchase)), "
    "raw(value(\"no such\")); who: attr(age), attr(vip), onehot(attr(country), 2) as cc, "
    "onehot(last(referrer)), engagement(shoes)",
    "events, onehot(attr(country))", /* no view names: the view "all" */
};

/* Everything a caller can read of a result, as text in libc memory. */
static char *digest(const persona_features *f)
{
    persona_features_info in = PERSONA_FEATURES_INFO_INIT;
    if (persona_features_info_get(&in, f))
        abort();
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    len += (size_t)snprintf(out + len, cap - len, "%llu %llu %u\n", (unsigned long long)in.n,
                            (unsigned long long)in.d, (unsigned)in.views);
    double x[256];
    if (in.n * in.d > 256 || persona_features_matrix(x, 256, f))
        abort();
    for (size_t i = 0; i < in.n * in.d; i++)
        len += (size_t)snprintf(out + len, cap - len, "%.17g,", x[i]);
    char buf[64];
    for (size_t j = 0; j < in.d; j++) {
        if (persona_features_column_name(buf, sizeof buf, NULL, f, j))
            abort();
        len += (size_t)snprintf(out + len, cap - len, "\n%s", buf);
    }
    for (size_t i = 0; i < in.n; i++) {
        if (persona_features_user_at(buf, sizeof buf, NULL, f, i))
            abort();
        len += (size_t)snprintf(out + len, cap - len, " %s", buf);
    }
    return out;
}

static int counted;

int main(int argc, char **argv)
{
    failalloc_install();
    persona_store *s = new_seeded_store(3);
    ingest_with_prop(s, "a", T0 + 2 * DAY, "purchase", 20, "referrer", "google");
    ingest_with_prop(s, "a", T0, "view", 0, "category", "shoes"); /* out of order */
    ingest_with_prop(s, "a", T0 + DAY, "purchase", 10, "category", "shoes");
    ingest_with_prop(s, "b", T0 + 3 * DAY, "view", 0, "referrer", "bing");
    ingest_with_prop(s, "c", T0 + 4 * DAY, "purchase", 5, NULL, NULL);
    CHECK_RC(persona_store_attr_set_num(s, "a", "age", 30), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_bool(s, "b", "vip", 1), PERSONA_OK);
    const char *countries[] = { "DE", "FR", "DE", "US" }, *users[] = { "a", "b", "c", "d" };
    for (int i = 0; i < 4; i++)
        CHECK_RC(persona_store_attr_set_str(s, users[i], "country", countries[i]), PERSONA_OK);
    char *before = NULL;
    CHECK_RC(persona_store_export_buffer(&before, NULL, s, PERSONA_EXPORT_PROFILES_JSONL),
             PERSONA_OK);

    for (int sp = 0; sp < 2; sp++) {
        char *want = NULL;
        int transformed = 0;
        for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
            for (uint64_t n = 1;; n++) {
                uint64_t live0 = failalloc_live();
                persona_features *f = (persona_features *)s; /* must come back NULL on failure */
                failalloc_arm(n, mode);
                int rc = persona_features_build(&f, s, SPECS[sp], NULL);
                int injected = failalloc_disarm();
                counted++;
                if (rc == PERSONA_OK) {
                    char *got = digest(f);
                    if (!want)
                        want = got;
                    else {
                        CHECK_STR(got, want);
                        free(got);
                    }
                    /* transform() of each user, failing too */
                    double row[64], ref[64];
                    persona_features_info in = PERSONA_FEATURES_INFO_INIT;
                    CHECK_RC(persona_features_info_get(&in, f), PERSONA_OK);
                    double x[256];
                    CHECK_RC(persona_features_matrix(x, 256, f), PERSONA_OK);
                    for (size_t u = 0; !transformed && u < in.n; u++) {
                        memcpy(ref, x + u * in.d, in.d * sizeof *ref);
                        for (uint64_t k = 1;; k++) {
                            memset(row, 0x5A, sizeof row);
                            failalloc_arm(k, k % 2 ? FAILALLOC_ONCE : FAILALLOC_FROM_N);
                            int trc = persona_features_transform(row, 64, f, s, users[u]);
                            int inj = failalloc_disarm();
                            counted++;
                            if (trc == PERSONA_OK) {
                                CHECK(memcmp(row, ref, in.d * sizeof *row) == 0);
                            } else {
                                CHECK_RC(trc, PERSONA_ENOMEM);
                                CHECK(((unsigned char *)row)[0] == 0x5A);
                            }
                            if (!inj)
                                break;
                        }
                    }
                    transformed = 1;
                    persona_features_free(f);
                } else {
                    if (rc != PERSONA_ENOMEM)
                        fprintf(stderr, "n=%llu mode=%d: rc %d (%s)\n", (unsigned long long)n, mode,
                                rc, persona_errmsg());
                    CHECK_RC(rc, PERSONA_ENOMEM);
                    CHECK(f == NULL);
                }
                CHECK(failalloc_live() == live0);
                if (!injected) {
                    CHECK_RC(rc, PERSONA_OK);
                    break;
                }
            }
        }
        free(want);
    }
    char *after = NULL;
    CHECK_RC(persona_store_export_buffer(&after, NULL, s, PERSONA_EXPORT_PROFILES_JSONL),
             PERSONA_OK);
    CHECK_STR(after, before);
    persona_free(before);
    persona_free(after);
    persona_store_free(s);
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "features_build.c", "features_parse.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "features", files, 2, 15, "features");
    return check_report("test_features_oom");
}
