/* Allocation failures in itemsets and rules (TESTING.md §5): building basket sets (pairs,
 * late pairs of earlier baskets, CSR), mining all / closed / maximal sets (horizontal and
 * bit-mask halves, the threaded top level), streaming, and rules with and without top-N, with the N-th allocation
 * failing once and from N on until the call succeeds. A failed call returns PERSONA_ENOMEM,
 * NULLs its out-pointer, leaves the basket set as it was and leaks nothing; the call that
 * finally succeeds gives the reference result. Every allocation call site of lib/itemsets/
 * must be reached.
 *
 * usage: test_itemsets_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "itemsets/itemsets_internal.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_sites.h"

enum { NB = 700, NI = 9 };

static uint64_t off[NB + 1];
static uint32_t items[NB * NI];
static int counted;

static void make(void)
{
    uint64_t s = 7;
    size_t k = 0;
    for (size_t t = 0; t < NB; t++) {
        for (uint32_t i = 0; i < NI; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            if ((s >> 33) % 100 < (i < 5 ? 60u : 25u) || (t % 3 == 0 && i >= 6))
                items[k++] = i;
        }
        off[t + 1] = k;
    }
}

/* A digest of a result: every set's items and count, in order. */
static uint64_t digest_sets(const persona_itemsets *s)
{
    uint64_t n = 0, h = 1469598103934665603ull;
    persona_itemsets_count(&n, NULL, s);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t it[NI];
        size_t len = 0;
        uint64_t c = 0;
        if (persona_itemsets_get(it, NI, &len, &c, s, i))
            abort();
        for (size_t j = 0; j < len; j++)
            h = (h ^ it[j]) * 1099511628211ull;
        h = (h ^ c ^ 0xABCD) * 1099511628211ull;
    }
    return h ^ n;
}

static uint64_t digest_rules(const persona_assoc_rules *r)
{
    uint64_t n = 0, h = 1469598103934665603ull;
    persona_assoc_rules_count(&n, r);
    for (uint64_t i = 0; i < n; i++) {
        persona_assoc_rule m = PERSONA_ASSOC_RULE_INIT;
        uint32_t it[NI];
        if (persona_assoc_rules_get(&m, it, NI, r, i))
            abort();
        for (size_t j = 0; j < m.n_antecedent + m.n_consequent; j++)
            h = (h ^ it[j]) * 1099511628211ull;
        h = (h ^ m.n_antecedent ^ m.count) * 1099511628211ull;
    }
    return h ^ n;
}

/* A scenario makes its call, and on success digests the result and frees it; it returns
 * the call's code. A call that fails must leave its out-pointer NULL (checked inside). */
typedef int (*scenario)(void *ctx, uint64_t *digest);

/* Run a scenario under injection until it succeeds; every success gives the same digest. */
static void under_injection(const char *what, scenario fn, void *ctx)
{
    uint64_t want = 0;
    int have = 0;
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            uint64_t live0 = failalloc_live(), d = 0;
            failalloc_arm(n, mode);
            int rc = fn(ctx, &d);
            int inj = failalloc_disarm();
            counted++;
            if (rc == PERSONA_OK) {
                if (!have) {
                    want = d;
                    have = 1;
                }
                CHECK(d == want);
            } else if (rc != PERSONA_ENOMEM) {
                fprintf(stderr, "%s: n=%llu: rc %d (%s)\n", what, (unsigned long long)n, rc,
                        persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
            }
            CHECK(failalloc_live() == live0);
            if (!inj) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
}

static int sc_from_csr(void *ctx, uint64_t *d)
{
    (void)ctx;
    persona_baskets *b = (persona_baskets *)&d;
    int rc = persona_baskets_from_csr(&b, off, NB, items, NULL, NI);
    CHECK(rc == PERSONA_OK || b == NULL);
    *d = 1;
    persona_baskets_free(b);
    return rc;
}

static int sc_new(void *ctx, uint64_t *d)
{
    (void)ctx;
    persona_baskets *b = (persona_baskets *)&d;
    int rc = persona_baskets_new(&b);
    CHECK(rc == PERSONA_OK || b == NULL);
    *d = 1;
    persona_baskets_free(b);
    return rc;
}

typedef struct mine_ctx {
    const persona_baskets *b;
    persona_itemsets_options o;
    const persona_itemsets *s;
    persona_assoc_rules_options ro;
} mine_ctx;

static int sc_mine(void *ctx, uint64_t *d)
{
    mine_ctx *m = ctx;
    persona_itemsets *s = (persona_itemsets *)&d;
    int rc = persona_itemsets_mine(&s, m->b, &m->o);
    CHECK(rc == PERSONA_OK || s == NULL);
    if (!rc)
        *d = digest_sets(s);
    persona_itemsets_free(rc ? NULL : s);
    return rc;
}

static int count_cb(void *ctx, const uint32_t *it, size_t n, uint64_t c);

static int sc_mine_each(void *ctx, uint64_t *d)
{
    mine_ctx *m = ctx;
    *d = 0;
    return persona_itemsets_mine_each(m->b, &m->o, count_cb, d);
}

/* The miner's entry point on the CSR with the parameters at ctx (threaded). */
/* For the threaded scenario: enough subtrees, each long enough, that the helper thread
 * is running (and buffering) before the calling thread has mined them all. */
enum { TB = 3000, TI = 40 };
static uint64_t t_off[TB + 1];
static uint32_t t_items[TB * 12];

static void make_threaded(void)
{
    uint64_t s = 11;
    size_t k = 0;
    for (size_t t = 0; t < TB; t++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = 1 + (s >> 33) % 12;
        uint32_t base = (uint32_t)((s >> 40) % TI);
        for (size_t j = 0; j < len; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            t_items[k++] = (s >> 33) % 3 ? (base + (uint32_t)((s >> 45) % 6)) % TI
                                         : (uint32_t)((s >> 50) % TI);
        }
        t_off[t + 1] = k;
    }
}

static int sc_csr_threads(void *ctx, uint64_t *d)
{
    persona__basket_csr db = { t_off, t_items, TB, TI };
    *d = 0;
    return persona__itemsets_mine_csr(&db, ctx, count_cb, d);
}

static int sc_rules(void *ctx, uint64_t *d)
{
    mine_ctx *m = ctx;
    persona_assoc_rules *r = (persona_assoc_rules *)&d;
    int rc = persona_assoc_rules_build(&r, m->s, &m->ro);
    CHECK(rc == PERSONA_OK || r == NULL);
    if (!rc)
        *d = digest_rules(r);
    persona_assoc_rules_free(rc ? NULL : r);
    return rc;
}

static int count_cb(void *ctx, const uint32_t *it, size_t n, uint64_t c)
{
    uint64_t *h = ctx;
    for (size_t j = 0; j < n; j++)
        *h += it[j] * 31 + c;
    return 0;
}

/* Add one pair with the n-th allocation failing, n = 1, 2, ... until the add allocates
 * nothing more: a failed add returns ENOMEM and leaves the counts as they were. */
static void add_under_injection(persona_baskets *p, const char *key, const char *item)
{
    for (uint64_t n = 1;; n++) {
        uint64_t nb0 = 0, ni0 = 0, nb1 = 0, ni1 = 0;
        persona_baskets_counts(&nb0, &ni0, p);
        failalloc_arm(n, FAILALLOC_ONCE);
        int rc = persona_baskets_add(p, key, strlen(key), item, strlen(item));
        int inj = failalloc_disarm();
        counted++;
        persona_baskets_counts(&nb1, &ni1, p);
        if (rc) {
            CHECK_RC(rc, PERSONA_ENOMEM);
            CHECK(nb0 == nb1 && ni0 == ni1);
        }
        if (!inj) {
            CHECK_RC(rc, PERSONA_OK);
            break;
        }
    }
}

int main(int argc, char **argv)
{
    failalloc_install();
    make();
    persona_baskets *b = NULL;
    under_injection("from_csr", sc_from_csr, NULL);
    under_injection("new", sc_new, NULL);
    /* Pairs, some of earlier baskets: a failed add leaves the set as it was (same counts),
     * and mining then merges the late pairs in. Eighty more items in one basket make the
     * item cache grow (a failed growth keeps the old cache: the add still succeeds). */
    {
        uint64_t live0 = failalloc_live();
        persona_baskets *p = NULL;
        CHECK_RC(persona_baskets_new(&p), PERSONA_OK);
        char key[24], item[16];
        for (size_t t = 0; t < 60; t++)
            for (uint64_t k = off[t]; k < off[t + 1]; k++) {
                size_t bt = (k % 7 == 0 && t > 2) ? t - 2 : t;
                snprintf(key, sizeof key, "%zu", bt);
                snprintf(item, sizeof item, "i%u", items[k]);
                add_under_injection(p, key, item);
            }
        for (int x = 0; x < 80; x++) {
            snprintf(item, sizeof item, "x%d", x);
            add_under_injection(p, "extra", item);
        }
        mine_ctx m = { p, PERSONA_ITEMSETS_OPTIONS_INIT, NULL, PERSONA_ASSOC_RULES_OPTIONS_INIT };
        m.o.min_count = 3;
        under_injection("mine late pairs", sc_mine, &m);
        persona_baskets_free(p);
        CHECK(failalloc_live() == live0);
    }
    CHECK_RC(persona_baskets_from_csr(&b, off, NB, items, NULL, NI), PERSONA_OK);
    mine_ctx m = { b, PERSONA_ITEMSETS_OPTIONS_INIT, NULL, PERSONA_ASSOC_RULES_OPTIONS_INIT };
    m.o.min_count = 8;
    for (int target = 0; target <= 2; target++) {
        m.o.target = target;
        under_injection("mine", sc_mine, &m);
        under_injection("mine_each", sc_mine_each, &m);
    }
    /* The threaded top level (the internal entry point, small limits: every path of it):
     * a failure on a helper thread is raised on the calling thread. */
    const size_t big = PERSONA__ITEMSETS_PENDING_WORDS;
    const size_t limits[][2] = { { big, big }, { 1, big }, { big, 30 } };
    make_threaded();
    for (int l = 0; l < 3; l++) {
        persona__mine_params p = { 20, 0, UINT64_MAX - 1, 2, 0, limits[l][0], limits[l][1] };
        under_injection("mine threaded", sc_csr_threads, &p);
    }
    m.o.target = 0;
    persona_itemsets *s = NULL;
    CHECK_RC(persona_itemsets_mine(&s, b, &m.o), PERSONA_OK);
    m.s = s;
    uint32_t allow[] = { 0, 1, 2, 3, 6, 7 };
    for (int top = 0; top <= 10; top += 10) {
        m.ro.top = (uint64_t)top;
        m.ro.min_confidence = 0.2;
        m.ro.antecedent_items = top ? allow : NULL;
        m.ro.n_antecedent_items = top ? 6 : 0;
        under_injection("rules", sc_rules, &m);
    }
    persona_itemsets_free(s);
    persona_baskets_free(b);
    CHECK(failalloc_live() == 0);
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "assoc_rules.c", "baskets.c", "itemset_index.c",
                                         "itemsets.c", "itemsets_bits.c", "itemsets_mine.c",
                                         "itemsets_parallel.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "itemsets", files, 7, 25, "itemsets");
    return check_report("test_itemsets_oom");
}
