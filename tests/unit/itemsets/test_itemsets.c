/* Frequent itemsets and association rules: a hand-worked example; a brute force over all
 * subsets of up to 10 items on seeded random basket sets (sizes chosen so that both the
 * horizontal and the bit-mask half of the miner run, with and without merged baskets and
 * perfect extensions) for all, closed and maximal sets, max_size and the streaming call;
 * rules against a direct computation; degenerate inputs and errors; the threaded top level
 * against the calling thread alone (the same sets in the same order, the same stops). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "itemsets/itemsets_internal.h"

#define MAXI 10

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

/* A basket set of up to MAXI items as bit masks, and its CSR (with repeats). */
typedef struct bset {
    uint32_t mask[4000];
    size_t n;
    uint32_t n_items;
    uint64_t off[4001];
    uint32_t items[4000 * 2 * MAXI];
} bset;

static void make(bset *b, size_t n, uint32_t n_items, uint32_t density, int bundle)
{
    b->n = n;
    b->n_items = n_items;
    b->off[0] = 0;
    size_t k = 0;
    for (size_t t = 0; t < n; t++) {
        uint32_t m = 0;
        for (uint32_t i = 0; i < n_items; i++)
            if (rnd(100) < density)
                m |= 1u << i;
        if (bundle && rnd(3) == 0)
            m |= 0x7u << (n_items - 3); /* three items bought together: perfect extensions */
        b->mask[t] = m;
        for (uint32_t i = 0; i < n_items; i++)
            if (m >> i & 1) {
                b->items[k++] = i;
                if (rnd(5) == 0)
                    b->items[k++] = i; /* a repeat counts once */
            }
        /* Shuffle the basket's items: the miner must not rely on their order. */
        for (size_t j = b->off[t] + 1; j < k; j++) {
            size_t r = b->off[t] + rnd((uint32_t)(j - b->off[t] + 1));
            uint32_t tmp = b->items[j];
            b->items[j] = b->items[r];
            b->items[r] = tmp;
        }
        b->off[t + 1] = k;
    }
}

static uint64_t count_of(const bset *b, uint32_t set)
{
    uint64_t c = 0;
    for (size_t t = 0; t < b->n; t++)
        c += (b->mask[t] & set) == set;
    return c;
}

/* want[set] = its count when it is in the answer, else 0 (brute force over all subsets). */
static void brute(const bset *b, uint64_t min_count, uint32_t max_size, int target, uint64_t *want)
{
    uint32_t all = 1u << b->n_items;
    static uint64_t cnt[1 << MAXI];
    for (uint32_t s = 1; s < all; s++)
        cnt[s] = count_of(b, s);
    for (uint32_t s = 1; s < all; s++) {
        want[s] = 0;
        int size = __builtin_popcount(s);
        if (cnt[s] < min_count || (max_size && (uint32_t)size > max_size))
            continue;
        int keep = 1;
        for (uint32_t i = 0; i < b->n_items && keep && target; i++) {
            uint32_t sup = s | 1u << i;
            if (sup == s || (max_size && (uint32_t)size + 1 > max_size) || cnt[sup] < min_count)
                continue;
            if (target == PERSONA_ITEMSETS_MAXIMAL || cnt[sup] == cnt[s])
                keep = 0;
        }
        if (keep)
            want[s] = cnt[s];
    }
}

typedef struct got_ctx {
    uint64_t *got;
    int dup;
} got_ctx;

static int collect(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    got_ctx *g = ctx;
    uint32_t s = 0;
    for (size_t i = 0; i < n; i++)
        s |= 1u << items[i];
    if (g->got[s] || (size_t)__builtin_popcount(s) != n)
        g->dup = 1;
    g->got[s] = count;
    return 0;
}

/* The result handle as masks; items sorted by id. */
static void from_handle(const persona_itemsets *s, uint64_t *got, int *bad)
{
    uint64_t n = 0;
    CHECK_RC(persona_itemsets_count(&n, NULL, s), PERSONA_OK);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t it[MAXI];
        size_t len = 0;
        uint64_t c = 0;
        CHECK_RC(persona_itemsets_get(it, MAXI, &len, &c, s, i), PERSONA_OK);
        uint32_t m = 0;
        for (size_t j = 0; j < len; j++) {
            if (j && it[j - 1] >= it[j])
                *bad = 1;
            m |= 1u << it[j];
        }
        if (got[m])
            *bad = 1;
        got[m] = c;
    }
}

/* Every rule of the itemsets against counts computed from the baskets. */
static void check_rules(const bset *b, const persona_itemsets *s, uint64_t min_count)
{
    persona_assoc_rules_options o = PERSONA_ASSOC_RULES_OPTIONS_INIT;
    o.min_confidence = 0.3;
    persona_assoc_rules *r = NULL;
    CHECK_RC(persona_assoc_rules_build(&r, s, &o), PERSONA_OK);
    uint64_t n = 0;
    persona_assoc_rules_count(&n, r);
    /* Expected number: each frequent set Z splits into 2^|Z| - 2 rules; keep confident ones. */
    uint64_t want_n = 0;
    for (uint32_t z = 1; z < (1u << b->n_items); z++) {
        uint64_t cz = count_of(b, z);
        if (cz < min_count || __builtin_popcount(z) < 2)
            continue;
        for (uint32_t a = (z - 1) & z; a; a = (a - 1) & z)
            want_n += (double)cz / (double)count_of(b, a) >= 0.3;
    }
    CHECK(n == want_n);
    double prev = INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        persona_assoc_rule m = PERSONA_ASSOC_RULE_INIT;
        uint32_t it[MAXI];
        CHECK_RC(persona_assoc_rules_get(&m, it, MAXI, r, i), PERSONA_OK);
        uint32_t a = 0, c = 0;
        for (uint32_t j = 0; j < m.n_antecedent; j++)
            a |= 1u << it[j];
        for (uint32_t j = 0; j < m.n_consequent; j++)
            c |= 1u << it[m.n_antecedent + j];
        double nb = (double)b->n, ca = (double)count_of(b, a), cc = (double)count_of(b, c),
               cz = (double)count_of(b, a | c);
        CHECK(!(a & c) && a && c);
        CHECK(m.count == (uint64_t)cz);
        CHECK(m.support == cz / nb);
        CHECK(m.confidence == cz / ca);
        CHECK(m.lift == (cz / ca) / (cc / nb));
        CHECK(cz == ca ? isinf(m.conviction) : m.conviction == (1 - cc / nb) / (1 - cz / ca));
        CHECK(m.leverage == cz / nb - (ca / nb) * (cc / nb));
        CHECK(m.jaccard == cz / (ca + cc - cz));
        CHECK(m.cosine == cz / sqrt(ca * cc));
        CHECK(m.confidence <= prev);
        prev = m.confidence;
    }
    /* Top 5 by lift = the first 5 of the full list by lift. */
    o.sort_by = PERSONA_RULE_LIFT;
    persona_assoc_rules *all = NULL, *top = NULL;
    CHECK_RC(persona_assoc_rules_build(&all, s, &o), PERSONA_OK);
    o.top = 5;
    CHECK_RC(persona_assoc_rules_build(&top, s, &o), PERSONA_OK);
    uint64_t n_all = 0, n_top = 0;
    persona_assoc_rules_count(&n_all, all);
    persona_assoc_rules_count(&n_top, top);
    CHECK(n_top == (n_all < 5 ? n_all : 5));
    for (uint64_t i = 0; i < n_top; i++) {
        persona_assoc_rule x = PERSONA_ASSOC_RULE_INIT, y = PERSONA_ASSOC_RULE_INIT;
        uint32_t ix[MAXI], iy[MAXI];
        persona_assoc_rules_get(&x, ix, MAXI, all, i);
        persona_assoc_rules_get(&y, iy, MAXI, top, i);
        CHECK(x.lift == y.lift && x.n_antecedent == y.n_antecedent &&
              memcmp(ix, iy, (x.n_antecedent + x.n_consequent) * sizeof *ix) == 0);
    }
    persona_assoc_rules_free(all);
    persona_assoc_rules_free(top);
    persona_assoc_rules_free(r);
}

static void brute_case(uint64_t seed, size_t n, uint32_t n_items, uint32_t density, int bundle)
{
    static bset b;
    static uint64_t want[1 << MAXI], got[1 << MAXI];
    rng_state = seed;
    make(&b, n, n_items, density, bundle);
    persona_baskets *bs = NULL;
    CHECK_RC(persona_baskets_from_csr(&bs, b.off, b.n, b.items, NULL, n_items), PERSONA_OK);
    /* The same pairs as strings, in a shuffled order (pairs of earlier baskets come late). */
    persona_baskets *bs2 = NULL;
    CHECK_RC(persona_baskets_new(&bs2), PERSONA_OK);
    size_t n_pairs = b.off[b.n];
    size_t *order = malloc((n_pairs + 1) * sizeof *order), *bof = malloc((n_pairs + 1) * sizeof *bof);
    for (size_t t = 0; t < b.n; t++)
        for (uint64_t k = b.off[t]; k < b.off[t + 1]; k++)
            bof[k] = t;
    for (size_t k = 0; k < n_pairs; k++)
        order[k] = k;
    for (size_t k = 1; k < n_pairs; k++) {
        size_t r = k > 3 ? k - rnd(4) : k; /* mostly grouped, some late */
        size_t tmp = order[k];
        order[k] = order[r];
        order[r] = tmp;
    }
    /* Baskets must keep first-appearance order for the ids to match: add one empty-item-free
     * pair per basket first. */
    for (size_t t = 0; t < b.n; t++) {
        char key[16], item[16];
        snprintf(key, sizeof key, "b%zu", t);
        if (b.off[t + 1] > b.off[t]) {
            snprintf(item, sizeof item, "%u", b.items[b.off[t]]);
            CHECK_RC(persona_baskets_add(bs2, key, strlen(key), item, strlen(item)), PERSONA_OK);
        }
    }
    for (size_t k = 0; k < n_pairs; k++) {
        char key[16], item[16];
        snprintf(key, sizeof key, "b%zu", bof[order[k]]);
        snprintf(item, sizeof item, "%u", b.items[order[k]]);
        CHECK_RC(persona_baskets_add(bs2, key, strlen(key), item, strlen(item)), PERSONA_OK);
    }
    free(order);
    free(bof);
    for (uint64_t mc = 1; mc <= 5; mc += 2) {
        for (uint32_t max_size = 0; max_size <= 3; max_size += 3) {
            for (int target = 0; target <= 2; target++) {
                persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
                uint64_t min_count = mc * (n / 40 + 1);
                o.min_count = min_count;
                o.max_size = max_size;
                o.target = target;
                brute(&b, min_count, max_size, target, want);
                memset(got, 0, sizeof got);
                persona_itemsets *s = NULL;
                CHECK_RC(persona_itemsets_mine(&s, bs, &o), PERSONA_OK);
                int bad = 0;
                from_handle(s, got, &bad);
                CHECK(!bad);
                int same = memcmp(got, want, sizeof(uint64_t) << n_items) == 0;
                CHECK(same);
                if (!same)
                    fprintf(stderr, "seed %llu n %zu items %u min_count %llu max_size %u target %d\n",
                            (unsigned long long)seed, n, n_items, (unsigned long long)min_count,
                            max_size, target);
                /* The streaming call hands over the same sets. */
                memset(got, 0, sizeof got);
                got_ctx g = { got, 0 };
                CHECK_RC(persona_itemsets_mine_each(bs, &o, collect, &g), PERSONA_OK);
                CHECK(!g.dup && memcmp(got, want, sizeof(uint64_t) << n_items) == 0);
                /* The string-built set: item names are the ids, in first-appearance order. */
                persona_itemsets *s2 = NULL;
                CHECK_RC(persona_itemsets_mine(&s2, bs2, &o), PERSONA_OK);
                uint64_t n1 = 0, n2 = 0;
                persona_itemsets_count(&n1, NULL, s);
                persona_itemsets_count(&n2, NULL, s2);
                CHECK(n1 == n2);
                for (uint64_t i = 0; i < n2 && n1 == n2; i++) {
                    uint32_t it[MAXI];
                    size_t len = 0;
                    uint64_t c = 0, m = 0;
                    persona_itemsets_get(it, MAXI, &len, &c, s2, i);
                    for (size_t j = 0; j < len; j++) {
                        const char *name = NULL;
                        persona_baskets_item_name(&name, bs2, it[j]);
                        m |= 1u << atoi(name);
                    }
                    CHECK(want[m] == c);
                }
                if (target == 0 && max_size == 0)
                    check_rules(&b, s, min_count);
                persona_itemsets_free(s);
                persona_itemsets_free(s2);
            }
        }
    }
    persona_baskets_free(bs);
    persona_baskets_free(bs2);
}

/* 4 baskets {a,b,c} {a,b} {a,c} {b}, min count 2, worked by hand. */
static void hand_worked(void)
{
    const char *pairs[][2] = { { "1", "a" }, { "1", "b" }, { "1", "c" }, { "2", "a" }, { "2", "b" },
                               { "3", "a" }, { "3", "c" }, { "4", "b" }, { "4", "b" } };
    persona_baskets *b = NULL;
    CHECK_RC(persona_baskets_new(&b), PERSONA_OK);
    for (size_t i = 0; i < 9; i++)
        CHECK_RC(persona_baskets_add(b, pairs[i][0], 1, pairs[i][1], 1), PERSONA_OK);
    uint64_t nb = 0, ni = 0;
    CHECK_RC(persona_baskets_counts(&nb, &ni, b), PERSONA_OK);
    CHECK(nb == 4 && ni == 3);
    const char *name = NULL;
    CHECK_RC(persona_baskets_item_name(&name, b, 2), PERSONA_OK);
    CHECK_STR(name, "c");
    CHECK_RC(persona_baskets_item_name(&name, b, 3), PERSONA_ENOTFOUND);
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    o.min_support = 0.5; /* ceil(0.5 × 4) = 2 */
    const char *want_all[] = { "a:3", "b:3", "c:2", "ab:2", "ac:2" };
    const char *want_closed[] = { "a:3", "b:3", "ab:2", "ac:2" };
    const char *want_max[] = { "ab:2", "ac:2" };
    const char *const *wants[] = { want_all, want_closed, want_max };
    size_t n_wants[] = { 5, 4, 2 };
    for (int target = 0; target <= 2; target++) {
        o.target = target;
        persona_itemsets *s = NULL;
        CHECK_RC(persona_itemsets_mine(&s, b, &o), PERSONA_OK);
        uint64_t n = 0, baskets = 0;
        CHECK_RC(persona_itemsets_count(&n, &baskets, s), PERSONA_OK);
        CHECK(n == n_wants[target] && baskets == 4);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t it[3];
            size_t len = 0;
            uint64_t c = 0;
            CHECK_RC(persona_itemsets_get(it, 3, &len, &c, s, i), PERSONA_OK);
            char text[8] = { 0 };
            for (size_t j = 0; j < len; j++)
                text[j] = (char)('a' + it[j]);
            snprintf(text + len, sizeof text - len, ":%llu", (unsigned long long)c);
            int found = 0;
            for (size_t w = 0; w < n_wants[target]; w++)
                found |= strcmp(wants[target][w], text) == 0;
            CHECK(found);
        }
        if (target == 0) {
            uint32_t it[1];
            size_t len = 0;
            CHECK_RC(persona_itemsets_get(it, 1, &len, NULL, s, 3), PERSONA_EBUFS);
            CHECK(len == 2);
            CHECK_RC(persona_itemsets_get(it, 1, &len, NULL, s, 5), PERSONA_ENOTFOUND);
            /* Rules: a -> b has confidence 2/3 and lift (2/3) / (3/4) = 8/9. */
            persona_assoc_rules_options ro = PERSONA_ASSOC_RULES_OPTIONS_INIT;
            persona_assoc_rules *r = NULL;
            CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_OK);
            uint64_t nr = 0;
            CHECK_RC(persona_assoc_rules_count(&nr, r), PERSONA_OK);
            CHECK(nr == 4); /* a->b, b->a, a->c, c->a */
            persona_assoc_rule m = PERSONA_ASSOC_RULE_INIT;
            uint32_t ri[2];
            CHECK_RC(persona_assoc_rules_get(&m, ri, 2, r, 0), PERSONA_OK);
            CHECK(m.confidence == 1.0 && ri[0] == 2 && ri[1] == 0 && isinf(m.conviction));
            CHECK_RC(persona_assoc_rules_get(&m, ri, 1, r, 0), PERSONA_EBUFS);
            int seen = 0;
            for (uint64_t i = 0; i < nr; i++) {
                persona_assoc_rules_get(&m, ri, 2, r, i);
                if (ri[0] == 0 && ri[1] == 1) {
                    seen = 1;
                    CHECK(m.confidence == 2.0 / 3 && m.lift == (2.0 / 3) / 0.75);
                    CHECK(m.leverage == 0.5 - 0.75 * 0.75);
                }
            }
            CHECK(seen);
            persona_assoc_rules_free(r);
            /* Constraints: only c allowed as consequent -> a->c only. */
            uint32_t only_c = 2;
            ro.consequent_items = &only_c;
            ro.n_consequent_items = 1;
            CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_OK);
            persona_assoc_rules_count(&nr, r);
            CHECK(nr == 1);
            persona_assoc_rules_get(&m, ri, 2, r, 0);
            CHECK(ri[0] == 0 && ri[1] == 2);
            persona_assoc_rules_free(r);
            ro.consequent_items = NULL;
            ro.n_consequent_items = 0;
            ro.min_lift = 1.1; /* lift(a->c) = (2/3)/(1/2) = 4/3; lift(a->b) = 8/9 */
            CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_OK);
            persona_assoc_rules_count(&nr, r);
            CHECK(nr == 2);
            persona_assoc_rules_free(r);
        } else {
            persona_assoc_rules *r = (persona_assoc_rules *)&o;
            CHECK_RC(persona_assoc_rules_build(&r, s, NULL), PERSONA_EINVAL);
            CHECK(r == NULL);
        }
        persona_itemsets_free(s);
    }
    persona_baskets_free(b);
}

static int stop_after_two(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    (void)items;
    (void)n;
    (void)count;
    return ++*(int *)ctx == 2;
}

static void errors(void)
{
    persona_baskets *b = NULL, *empty = NULL;
    persona_itemsets *s = (persona_itemsets *)&b;
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    CHECK_RC(persona_baskets_new(&empty), PERSONA_OK);
    /* No threshold, min_support 0, > 1, NaN, negative, both set. */
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    CHECK(s == NULL);
    CHECK_MSG("min_support");
    CHECK_RC(persona_itemsets_mine(&s, empty, NULL), PERSONA_EINVAL);
    o.min_support = 1.5;
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    CHECK_MSG("(0, 1]");
    o.min_support = NAN;
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    o.min_support = -0.1;
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    o.min_support = 0.5;
    o.min_count = 3;
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    CHECK_MSG("both");
    o.min_count = 0;
    o.target = 3;
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    o.target = 0;
    o.struct_size = 2;
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_EINVAL);
    o.struct_size = sizeof o;
    /* No baskets: nothing is frequent, no error. */
    CHECK_RC(persona_itemsets_mine(&s, empty, &o), PERSONA_OK);
    uint64_t n = 9;
    persona_itemsets_count(&n, NULL, s);
    CHECK(n == 0);
    persona_itemsets_free(s);
    /* One item in one basket, min_support 1. */
    CHECK_RC(persona_baskets_new(&b), PERSONA_OK);
    CHECK_RC(persona_baskets_add(b, "x", 1, "only", 4), PERSONA_OK);
    CHECK_RC(persona_baskets_add(b, "x", 1, "only", 4), PERSONA_OK);
    o.min_support = 1;
    CHECK_RC(persona_itemsets_mine(&s, b, &o), PERSONA_OK);
    persona_itemsets_count(&n, NULL, s);
    CHECK(n == 1);
    persona_itemsets_free(s);
    /* Keys with NUL, NULL. */
    CHECK_RC(persona_baskets_add(b, "a\0b", 3, "i", 1), PERSONA_EINVAL);
    CHECK_MSG("NUL");
    CHECK_RC(persona_baskets_add(NULL, "a", 1, "i", 1), PERSONA_EINVAL);
    CHECK_RC(persona_baskets_add(b, NULL, 1, "i", 1), PERSONA_EINVAL);
    persona_baskets_free(b);
    /* CSR errors. */
    uint64_t off[] = { 0, 2, 1 };
    uint32_t items[] = { 0, 1 };
    const char *names[] = { "p", "p" };
    CHECK_RC(persona_baskets_from_csr(&b, off, 2, items, NULL, 2), PERSONA_EINVAL);
    CHECK(b == NULL);
    CHECK_MSG("decrease");
    off[2] = 2;
    CHECK_RC(persona_baskets_from_csr(&b, off, 2, items, NULL, 1), PERSONA_EINVAL);
    CHECK_MSG("item id 1");
    CHECK_RC(persona_baskets_from_csr(&b, off, 2, items, names, 2), PERSONA_EINVAL);
    CHECK_MSG("'p' is given twice");
    /* The itemset limit: 12 items in every basket make 4095 sets; 4094 are refused. */
    uint64_t off12[] = { 0, 12, 24 };
    uint32_t it12[24];
    for (uint32_t i = 0; i < 24; i++)
        it12[i] = i % 12;
    CHECK_RC(persona_baskets_from_csr(&b, off12, 2, it12, NULL, 12), PERSONA_OK);
    o.min_support = 0;
    o.min_count = 2;
    o.max_itemsets = 4094;
    CHECK_RC(persona_itemsets_mine(&s, b, &o), PERSONA_EBUFS);
    CHECK(s == NULL);
    CHECK_MSG("max_itemsets");
    o.max_itemsets = 4095; /* the limit itself is accepted */
    CHECK_RC(persona_itemsets_mine(&s, b, &o), PERSONA_OK);
    persona_itemsets_count(&n, NULL, s);
    CHECK(n == 4095);
    persona_itemsets_free(s);
    o.max_itemsets = 0;
    int calls = 0;
    CHECK_RC(persona_itemsets_mine_each(b, &o, stop_after_two, &calls), PERSONA_ECALLBACK);
    CHECK(calls == 2);
    /* A set of 70 items in every basket: 2^70 sets, refused at once with the default limit. */
    uint64_t off70[] = { 0, 70 };
    uint32_t it70[70];
    for (uint32_t i = 0; i < 70; i++)
        it70[i] = i;
    persona_baskets *b70 = NULL;
    CHECK_RC(persona_baskets_from_csr(&b70, off70, 1, it70, NULL, 70), PERSONA_OK);
    o.min_count = 1;
    CHECK_RC(persona_itemsets_mine(&s, b70, &o), PERSONA_EBUFS);
    o.max_size = 2; /* 70 + 70·69/2 = 2485 sets */
    CHECK_RC(persona_itemsets_mine(&s, b70, &o), PERSONA_OK);
    persona_itemsets_count(&n, NULL, s);
    CHECK(n == 2485);
    /* Rule options. */
    persona_assoc_rules *r = NULL;
    persona_assoc_rules_options ro = PERSONA_ASSOC_RULES_OPTIONS_INIT;
    ro.min_confidence = NAN;
    CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_EINVAL);
    ro.min_confidence = 0;
    ro.sort_by = 9;
    CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_EINVAL);
    ro.sort_by = PERSONA_RULE_SUPPORT;
    ro.max_rules = 100;
    CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_EBUFS);
    CHECK_MSG("max_rules");
    ro.top = 3;
    CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_OK);
    persona_assoc_rules_count(&n, r);
    CHECK(n == 3);
    persona_assoc_rules_free(r);
    uint32_t bad_id = 70;
    ro.antecedent_items = &bad_id;
    ro.n_antecedent_items = 1;
    CHECK_RC(persona_assoc_rules_build(&r, s, &ro), PERSONA_EINVAL);
    persona_itemsets_free(s);
    persona_baskets_free(b70);
    persona_baskets_free(b);
    persona_baskets_free(empty);
    persona_itemsets_free(NULL);
    persona_baskets_free(NULL);
    persona_assoc_rules_free(NULL);
}

/* ---- threads: the same callbacks in the same order as one thread ---- */

typedef struct trace {
    uint32_t *w; /* per set: n, count, items */
    size_t n, cap;
    uint64_t calls, stop_at;
} trace;

static int record(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    trace *t = ctx;
    if (t->n + n + 2 > t->cap) {
        t->cap = (t->n + n + 2) * 2;
        t->w = realloc(t->w, t->cap * sizeof *t->w);
        if (!t->w)
            abort();
    }
    t->w[t->n++] = (uint32_t)n;
    t->w[t->n++] = (uint32_t)count;
    memcpy(t->w + t->n, items, n * sizeof *items);
    t->n += n;
    return ++t->calls == t->stop_at;
}

/* The miner's code and callbacks on `threads` threads (the internal entry point: small
 * buffer limits send small sets through every path of the threaded top level). */
static int traced(trace *t, const persona__basket_csr *db, persona__mine_params p,
                  uint32_t threads, uint64_t stop_at)
{
    free(t->w);
    memset(t, 0, sizeof *t);
    t->stop_at = stop_at;
    p.threads = threads;
    return persona__itemsets_mine_csr(db, &p, record, t);
}

/* A skewed random basket set in CSR: low ids common, items clustered near a base. */
static void skewed(uint64_t seed, size_t n, uint32_t n_items, uint64_t **off, uint32_t **items)
{
    rng_state = seed;
    *off = malloc((n + 1) * sizeof **off);
    *items = malloc(n * 12 * sizeof **items);
    size_t k = 0;
    (*off)[0] = 0;
    for (size_t t = 0; t < n; t++) {
        size_t len = 1 + rnd(12);
        uint32_t base = rnd(n_items);
        for (size_t j = 0; j < len; j++)
            (*items)[k++] = rnd(3) ? (base + rnd(6)) % n_items : rnd(1 + rnd(n_items));
        (*off)[t + 1] = k;
    }
}

/* 2, 4 and 8 threads against one: every callback in order, and a callback's stop and
 * max_itemsets at four points (the same sets before the same stop). */
static void threads_case(uint64_t seed, size_t n, uint32_t n_items, uint64_t min_count,
                         uint32_t max_size, size_t pending_words, size_t subtree_words)
{
    uint64_t *off = NULL;
    uint32_t *items = NULL;
    skewed(seed, n, n_items, &off, &items);
    persona__basket_csr db = { off, items, n, n_items };
    persona__mine_params p = { min_count, max_size, UINT64_MAX - 1, 1, 0, pending_words,
                               subtree_words };
    trace one = { 0 }, many = { 0 };
    CHECK_RC(traced(&one, &db, p, 1, 0), PERSONA_OK);
    CHECK(one.calls > 50);
    for (uint32_t th = 2; th <= 8; th *= 2) {
        CHECK_RC(traced(&many, &db, p, th, 0), PERSONA_OK);
        CHECK(many.calls == one.calls && many.n == one.n &&
              memcmp(many.w, one.w, one.n * sizeof *one.w) == 0);
        const uint64_t stops[] = { 2, 6, one.calls / 3 + 1, one.calls };
        for (int q = 0; q < 4; q++) {
            uint64_t at = stops[q];
            CHECK_RC(traced(&many, &db, p, th, at), PERSONA_ECALLBACK);
            CHECK(many.calls == at && memcmp(many.w, one.w, many.n * sizeof *one.w) == 0);
            persona__mine_params lim = p;
            lim.max_itemsets = at - 1;
            CHECK_RC(traced(&many, &db, lim, th, 0), PERSONA_EBUFS);
            CHECK(many.calls == at - 1 && memcmp(many.w, one.w, many.n * sizeof *one.w) == 0);
            CHECK(strstr(persona_errmsg(), "max_itemsets") != NULL);
        }
    }
    free(one.w);
    free(many.w);
    free(off);
    free(items);
}

/* Through the public calls, past the size below which mining stays on one thread: kept
 * all, closed and maximal results of two threads equal one thread's. */
static void threads_public(void)
{
    uint64_t *off = NULL;
    uint32_t *items = NULL;
    size_t n = 14000;
    skewed(13, n, 80, &off, &items);
    CHECK(off[n] >= PERSONA__ITEMSETS_PARALLEL_MIN);
    persona_baskets *b = NULL;
    CHECK_RC(persona_baskets_from_csr(&b, off, n, items, NULL, 80), PERSONA_OK);
    free(off);
    free(items);
    for (int target = 0; target <= 2; target++) {
        persona_itemsets *s1 = NULL, *s2 = NULL;
        persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
        o.min_count = 30;
        o.target = target;
        o.threads = 1;
        CHECK_RC(persona_itemsets_mine(&s1, b, &o), PERSONA_OK);
        o.threads = 2;
        CHECK_RC(persona_itemsets_mine(&s2, b, &o), PERSONA_OK);
        uint64_t n1 = 0, n2 = 0;
        persona_itemsets_count(&n1, NULL, s1);
        persona_itemsets_count(&n2, NULL, s2);
        CHECK(n1 == n2 && n1 > 100);
        int same = 1;
        for (uint64_t i = 0; i < n1 && n1 == n2; i++) {
            uint32_t x[64], y[64];
            size_t lx = 0, ly = 0;
            uint64_t cx = 0, cy = 0;
            persona_itemsets_get(x, 64, &lx, &cx, s1, i);
            persona_itemsets_get(y, 64, &ly, &cy, s2, i);
            same &= lx == ly && cx == cy && memcmp(x, y, lx * sizeof *x) == 0;
        }
        CHECK(same);
        persona_itemsets_free(s1);
        persona_itemsets_free(s2);
    }
    persona_baskets_free(b);
}

static void threads_same_as_one(void)
{
    const size_t big = PERSONA__ITEMSETS_PENDING_WORDS;
    threads_case(7, 3000, 60, 15, 0, big, big);
    threads_case(8, 800, 25, 4, 3, big, big);
    threads_case(9, 200, 12, 2, 0, big, big);
    /* Helper threads waiting for the calling thread at every subtree. */
    threads_case(10, 3000, 60, 15, 0, 1, big);
    /* Buffers dropped past a few sets: those subtrees are mined again by the calling
     * thread, straight to the callback. */
    threads_case(11, 3000, 60, 15, 0, big, 40);
    threads_case(12, 800, 25, 4, 3, 1, 40);
    threads_public();
}

/* usage: test_itemsets [threads]  (threads: only the threaded checks, for the TSan stage) */
int main(int argc, char **argv)
{
    threads_same_as_one();
    if (argc > 1 && strcmp(argv[1], "threads") == 0)
        return check_report("test_itemsets threads");
    hand_worked();
    errors();
    uint64_t seed = 20261125;
    fprintf(stderr, "seed %llu\n", (unsigned long long)seed);
    for (int rep = 0; rep < 12; rep++) {
        static const size_t sizes[] = { 1, 7, 40, 64, 65, 300, 513, 1500 };
        size_t n = sizes[rep % 8];
        brute_case(seed + (uint64_t)rep, n, 4 + (uint32_t)(rep % 7), 20 + (uint32_t)(rep * 7 % 60),
                   rep % 3 == 0);
    }
    /* Dense: most items in most baskets, bundles on top. */
    brute_case(seed + 100, 600, 10, 85, 1);
    brute_case(seed + 101, 50, 10, 70, 1);
    return check_report("test_itemsets");
}
