/* Allocation failures in the affinity matrix (TESTING.md §5): building (by basket,
 * session and user, with event types, consent and categories), merging, saving, loading
 * and every query that allocates (the first similar-items query of a measure,
 * recommendations, user categories, over-indexing), with the N-th allocation failing once
 * and from N on, for N = 1, 2, … until the call succeeds. A failed call returns
 * PERSONA_ENOMEM, NULLs its out-pointer and leaks nothing; the call that succeeds gives the
 * reference result. Every allocation call site of lib/affinity/ must be reached.
 *
 * usage: test_affinity_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "aff_test.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_inject.h"
#include "oom_sites.h"

static int counted;
static persona_store *store, *part[2];
static persona_affinity_matrix *built, *halves[2];
static char path[256];

/* What a scenario made: a matrix's digest (the matrix freed), or a query's text. */
static char *result_of(persona_affinity_matrix *m, char *text)
{
    if (!m)
        return text;
    char *d = aff_digest(m);
    persona_affinity_free(m);
    return d;
}

OOM_DEFINE_UNDER_INJECTION(persona_affinity_matrix, result_of)

static int op_build(persona_affinity_matrix **m, char **text, const void *arg)
{
    (void)text;
    int rc = persona_affinity_build(m, store, arg);
    if (rc)
        CHECK(*m == NULL);
    return rc;
}

static int op_merge(persona_affinity_matrix **m, char **text, const void *arg)
{
    (void)text;
    (void)arg;
    int rc = persona_affinity_merge(m, halves[0], halves[1]);
    if (rc)
        CHECK(*m == NULL);
    return rc;
}

static int op_load(persona_affinity_matrix **m, char **text, const void *arg)
{
    (void)text;
    (void)arg;
    int rc = persona_affinity_load(m, path);
    if (rc)
        CHECK(*m == NULL);
    return rc;
}

static int op_save(persona_affinity_matrix **m, char **text, const void *arg)
{
    (void)arg;
    *m = NULL;
    int rc = persona_affinity_save(built, path);
    if (!rc)
        *text = file_hex(path);
    return rc;
}

/* Queries write their arrays as text. */
static char *arrays_text(const uint32_t *it, const double *sc, size_t n)
{
    char *t = malloc(64 * n + 1), *p = t;
    *p = '\0';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%u=%.17g ", it[i], sc[i]);
    return t;
}

static int op_recommend(persona_affinity_matrix **m, char **text, const void *arg)
{
    *m = NULL;
    uint32_t it[16];
    double sc[16];
    size_t n = 0;
    static const char *const ex[] = { "milk" };
    int rc = persona_affinity_recommend(it, sc, 16, &n, built, arg ? store : NULL, "u1", ex, 1,
                                        PERSONA_AFFINITY_JACCARD, 0);
    if (!rc)
        *text = arrays_text(it, sc, n);
    return rc;
}

static int op_categories(persona_affinity_matrix **m, char **text, const void *arg)
{
    (void)arg;
    *m = NULL;
    uint32_t it[16];
    double sc[16];
    size_t n = 0;
    int rc = persona_affinity_user_categories(it, sc, 16, &n, built, store, "u2", 0, 0);
    if (!rc)
        *text = arrays_text(it, sc, n);
    return rc;
}

/* The units as a basket set, and the pairs mined from them (counts and names as text). */
static int op_baskets(persona_affinity_matrix **m, char **text, const void *arg)
{
    (void)arg;
    *m = NULL;
    persona_baskets *b = NULL;
    persona_itemsets *sets = NULL;
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    o.min_count = 1;
    o.max_size = 2;
    int rc = persona_affinity_baskets(&b, built);
    if (!rc)
        rc = persona_itemsets_mine(&sets, b, &o);
    if (!rc) {
        uint64_t nb = 0, ni = 0, n_sets = 0;
        persona_baskets_counts(&nb, &ni, b);
        persona_itemsets_count(&n_sets, NULL, sets);
        const char *last = "";
        if (ni)
            persona_baskets_item_name(&last, b, (uint32_t)(ni - 1));
        *text = malloc(300);
        snprintf(*text, 300, "%llu %llu %llu %s", (unsigned long long)nb,
                 (unsigned long long)ni, (unsigned long long)n_sets, last);
    }
    persona_itemsets_free(sets);
    persona_baskets_free(b);
    return rc;
}

static int even_users(void *ctx, const char *user, size_t len)
{
    (void)ctx;
    return (user[len - 1] - '0') % 2 == 0;
}

static int op_overindex(persona_affinity_matrix **m, char **text, const void *arg)
{
    *m = NULL;
    uint32_t it[16];
    double ix[16];
    size_t n = 0;
    int rc = arg ? persona_affinity_overindex(it, ix, NULL, NULL, NULL, 16, &n, NULL, built, store,
                                              "busy", NULL, NULL, 0)
                 : persona_affinity_overindex(it, ix, NULL, NULL, NULL, 16, &n, NULL, built, NULL,
                                              NULL, even_users, NULL, 0);
    if (!rc)
        *text = arrays_text(it, ix, n);
    return rc;
}

static persona_store *make_store(int which)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    static const char *const items[] = { "milk", "bread", "jam", "tea", "cake", "rice" };
    static const char *const cats[] = { "dairy", "bakery", "spreads", NULL, "bakery", "dry" };
    uint64_t st = 11;
    for (int i = 0; i < 120; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        int it = (int)((st >> 33) % 6), u = (int)((st >> 40) % 6), b = (int)((st >> 50) % 3);
        if (which >= 0 && u % 2 != which)
            continue;
        char user[8], basket[8];
        snprintf(user, sizeof user, "u%d", u);
        snprintf(basket, sizeof basket, "b%d", b);
        aff_event(s, user, (int64_t)(i % 9) * 1200000, i % 4 ? "buy" : "view", items[it], basket,
                  cats[it]);
    }
    CHECK_RC(persona_store_consent_set(s, "u1", "analytics", 1, 0), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "u2", "analytics", 1, 0), PERSONA_OK);
    return s;
}

int main(int argc, char **argv)
{
    failalloc_install();
    snprintf(path, sizeof path, "%s/aff_oom_%d.snap", test_temp_dir(), (int)getpid());
    store = make_store(-1);
    part[0] = make_store(0);
    part[1] = make_store(1);
    CHECK_RC(persona_store_add_segment(store, "busy", "events >= 20", 12, NULL, NULL), PERSONA_OK);
    static const char *const buy[] = { "buy", "purchase" };
    persona_affinity_options o[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (persona_affinity_options)PERSONA_AFFINITY_OPTIONS_INIT;
        o[i].by = i % 3;
    }
    o[1].event_types = buy;
    o[1].n_event_types = 2;
    o[2].category_source = PERSONA_AFFINITY_CATEGORY_ITEM;
    o[3].consent_purpose = "analytics";
    for (int i = 0; i < 4; i++)
        under_injection(op_build, &o[i], "build");
    CHECK_RC(persona_affinity_build(&built, store, &o[1]), PERSONA_OK);
    CHECK_RC(persona_affinity_build(&halves[0], part[0], &o[1]), PERSONA_OK);
    CHECK_RC(persona_affinity_build(&halves[1], part[1], &o[1]), PERSONA_OK);
    under_injection(op_merge, NULL, "merge");
    under_injection(op_save, NULL, "save");
    under_injection(op_load, NULL, "load");
    under_injection(op_recommend, NULL, "recommend from the matrix");
    under_injection(op_recommend, "store", "recommend from the store");
    under_injection(op_categories, NULL, "user categories");
    under_injection(op_baskets, NULL, "units as baskets");
    under_injection(op_overindex, NULL, "overindex by callback");
    under_injection(op_overindex, "live", "overindex by live segment");
    /* the first similar-items query of a measure sorts, allocating; once done, queries
     * allocate nothing */
    for (int32_t ms = 0; ms < PERSONA_AFFINITY_MEASURES; ms++) {
        uint32_t it[8];
        size_t n = 0;
        for (uint64_t k = 1;; k++) {
            uint64_t live0 = failalloc_live();
            failalloc_arm(k, FAILALLOC_ONCE);
            int rc = persona_affinity_similar(it, NULL, NULL, 8, &n, built, "bread", ms, 0);
            int injected = failalloc_disarm();
            counted++;
            CHECK(rc == PERSONA_OK || rc == PERSONA_ENOMEM);
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                CHECK(failalloc_live() == live0 + 3); /* the measure's top lists, kept */
                break;
            }
            CHECK(failalloc_live() == live0);
        }
        failalloc_arm(1, FAILALLOC_FROM_N);
        CHECK_RC(persona_affinity_similar(it, NULL, NULL, 8, &n, built, "bread", ms, 0), PERSONA_OK);
        CHECK(!failalloc_disarm());
    }
    /* rows longer than the kept top: the full order is made on the first query past it */
    persona_store *wide = NULL;
    CHECK_RC(persona_store_new(&wide, NULL), PERSONA_OK);
    for (int i = 0; i < 40; i++) {
        char item[8];
        snprintf(item, sizeof item, "w%02d", i);
        aff_event(wide, "u", 0, "buy", item, "b", NULL);
    }
    persona_affinity_matrix *wm = NULL;
    CHECK_RC(persona_affinity_build(&wm, wide, NULL), PERSONA_OK);
    uint32_t wit[40];
    size_t wn = 0;
    CHECK_RC(persona_affinity_similar(wit, NULL, NULL, 8, &wn, wm, "w00", 0, 0), PERSONA_OK);
    for (uint64_t k = 1;; k++) {
        uint64_t live0 = failalloc_live();
        failalloc_arm(k, FAILALLOC_ONCE);
        int rc = persona_affinity_similar(wit, NULL, NULL, 40, &wn, wm, "w00", 0, 0);
        int injected = failalloc_disarm();
        counted++;
        if (!injected) {
            CHECK_RC(rc, PERSONA_OK);
            CHECK(wn == 39);
            break;
        }
        CHECK_RC(rc, PERSONA_ENOMEM);
        CHECK(failalloc_live() == live0);
    }
    persona_affinity_free(wm);
    persona_store_free(wide);
    persona_affinity_free(built);
    persona_affinity_free(halves[0]);
    persona_affinity_free(halves[1]);
    persona_store_free(store);
    persona_store_free(part[0]);
    persona_store_free(part[1]);
    unlink(path);
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "affinity_baskets.c", "affinity_build.c",
                                         "affinity_io.c", "affinity_matrix.c",
                                         "affinity_merge.c", "affinity_overindex.c",
                                         "affinity_similar.c", "affinity_user.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "affinity", files, 8, 30, "affinity");
    return check_report("test_affinity_oom");
}
