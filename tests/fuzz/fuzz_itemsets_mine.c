/* Fuzz target: the itemset miner and rule builder against brute force (TESTING §4,
 * docs/itemsets.md). The basket sets are small enough (at most 12 items) that the support
 * of every one of the 4,096 item subsets is computed directly, so every result is checked
 * exactly, not only for plausibility.
 *
 * Input: byte 0 = mining flags, byte 1 = limits, then one byte per item occurrence.
 *   byte 0 bits 0-1: min_count 1 … 4;  bits 2-3: target all / closed / maximal / all;
 *          bits 4-5: max_size none / 1 / 2 / 3;  bit 6: rules sorted by lift (else
 *          confidence);  bit 7: rule constraints (antecedent items: id % 3 != 0,
 *          consequent items: even ids).
 *   byte 1 bits 0-3: min_confidence k / 16;  bits 4-7: max_itemsets 25 × v (0: 400; small
 *          limits keep dense inputs fast and reach EBUFS).
 *   then each byte: item (byte & 0x7F) % 13, 12 meaning none; bit 7 closes the basket
 *          (the last basket closes at the end of the input).
 * Per input:
 *  1. mining returns OK exactly when the frequent itemsets (of at most max_size items) are
 *     at most max_itemsets, else EBUFS with no result;
 *  2. on OK: the itemsets are exactly the frequent / closed / maximal ones of brute force,
 *     each once, with its count; the streaming call hands over the same sets in the same
 *     order (target all), and so does the miner on two threads with small buffer limits;
 *  3. rules (target all, max_rules 2,000: EBUFS exactly when brute force has more):
 *     exactly the pairs A → C of brute force passing the confidence filter and the
 *     constraints, each with its count and measures (to 1e-12), sorted by
 *     the measure, greatest first.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "itemsets/itemsets_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_ITEMS 12
#define N_SETS (1u << N_ITEMS)
/* Rules built at most (max_rules): more is EBUFS, which keeps dense inputs fast. */
#define MAX_RULES 2000

/* Brute force: sup[m] = baskets holding every item of mask m. */
static uint32_t sup[N_SETS];
static uint8_t seen[N_SETS];

typedef struct oracle {
    uint64_t min_count;
    uint32_t max_size;
} oracle;

static int popcount(uint32_t m)
{
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

static int frequent(const oracle *o, uint32_t m)
{
    return m && sup[m] >= o->min_count && (!o->max_size || (uint32_t)popcount(m) <= o->max_size);
}

/* Whether m is in the target: closed (no one-item extension with the same count) or
 * maximal (no frequent one-item extension), among sets of at most max_size items. A
 * longer superset with the same count (or frequent) implies such an extension. */
static int in_target(const oracle *o, int target, uint32_t m)
{
    if (!frequent(o, m))
        return 0;
    for (uint32_t x = 0; target && x < N_ITEMS; x++) {
        uint32_t e = m | 1u << x;
        if (e == m || !frequent(o, e))
            continue;
        if (target == PERSONA_ITEMSETS_MAXIMAL || sup[e] == sup[m])
            return 0;
    }
    return 1;
}

static uint32_t mask_of(const uint32_t *items, size_t n)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(items[i] < N_ITEMS, "item id %u", items[i]);
        FUZZ_ASSERT(!(m >> items[i] & 1), "item %u twice", items[i]);
        m |= 1u << items[i];
    }
    return m;
}

typedef struct stream {
    const persona_itemsets *s;
    uint64_t i;
} stream;

/* The streamed sets come in the order of the kept ones. */
static int same_as_kept(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    stream *st = ctx;
    uint32_t it[N_ITEMS];
    size_t k = 0;
    uint64_t c = 0;
    FUZZ_OK(persona_itemsets_get(it, N_ITEMS, &k, &c, st->s, st->i));
    FUZZ_ASSERT(k == n && c == count && mask_of(it, k) == mask_of(items, n),
                "streamed set %llu differs from the kept one", (unsigned long long)st->i);
    st->i++;
    return 0;
}

static int near(double got, double want)
{
    if (isinf(want))
        return isinf(got) && (got > 0) == (want > 0);
    return fabs(got - want) <= 1e-12 * (fabs(want) > 1 ? fabs(want) : 1);
}

static double measure(const persona_assoc_rule *r, int by_lift)
{
    return by_lift ? r->lift : r->confidence;
}

static void check_rules(const persona_itemsets *s, uint64_t nb, uint8_t flags, uint8_t limits,
                        const oracle *o)
{
    static const uint32_t ante[] = { 1, 2, 4, 5, 7, 8, 10, 11 };
    static const uint32_t cons[] = { 0, 2, 4, 6, 8, 10 };
    uint32_t allow_a = 0, allow_c = 0;
    int by_lift = flags >> 6 & 1, constrained = flags >> 7 & 1;
    unsigned k = limits & 15;
    persona_assoc_rules_options ro = PERSONA_ASSOC_RULES_OPTIONS_INIT;
    ro.sort_by = by_lift ? PERSONA_RULE_LIFT : PERSONA_RULE_CONFIDENCE;
    ro.min_confidence = k / 16.0;
    if (constrained) {
        ro.antecedent_items = ante;
        ro.n_antecedent_items = sizeof ante / sizeof *ante;
        ro.consequent_items = cons;
        ro.n_consequent_items = sizeof cons / sizeof *cons;
        allow_a = mask_of(ante, ro.n_antecedent_items);
        allow_c = mask_of(cons, ro.n_consequent_items);
    }
    ro.max_rules = MAX_RULES;
    /* The rules of brute force: A ⊂ S, C = S \ A, both non-empty, confidence >= k/16
     * (exactly: 16 count >= k count(A)), items allowed. */
    uint64_t want = 0;
    for (uint32_t m = 1; m < N_SETS; m++) {
        if (!frequent(o, m))
            continue;
        for (uint32_t a = (m - 1) & m; a; a = (a - 1) & m) {
            uint32_t c = m & ~a;
            if (16ull * sup[m] < (uint64_t)k * sup[a])
                continue;
            if (constrained && ((a & ~allow_a) || (c & ~allow_c)))
                continue;
            want++;
        }
    }
    persona_assoc_rules *r = NULL;
    int rc = persona_assoc_rules_build(&r, s, &ro);
    if (want > MAX_RULES) {
        FUZZ_ASSERT(rc == PERSONA_EBUFS && r == NULL, "%llu rules, limit %d: code %d",
                    (unsigned long long)want, MAX_RULES, rc);
        return;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "rules: code %d (%s)", rc, persona_errmsg());
    uint64_t n = 0;
    FUZZ_OK(persona_assoc_rules_count(&n, r));
    FUZZ_ASSERT(n == want, "%llu rules, brute force %llu", (unsigned long long)n,
                (unsigned long long)want);
    double prev = INFINITY;
    for (uint64_t i = 0; i < n; i++) {
        persona_assoc_rule m = PERSONA_ASSOC_RULE_INIT;
        uint32_t it[N_ITEMS];
        FUZZ_OK(persona_assoc_rules_get(&m, it, N_ITEMS, r, i));
        FUZZ_ASSERT(m.n_antecedent >= 1 && m.n_consequent >= 1 &&
                        m.n_antecedent + m.n_consequent <= N_ITEMS,
                    "rule %llu: %u -> %u items", (unsigned long long)i, m.n_antecedent,
                    m.n_consequent);
        uint32_t a = mask_of(it, m.n_antecedent), c = mask_of(it + m.n_antecedent, m.n_consequent);
        uint32_t u = a | c;
        FUZZ_ASSERT(!(a & c) && frequent(o, u), "rule %llu: sides overlap or not frequent",
                    (unsigned long long)i);
        FUZZ_ASSERT(!constrained || (!(a & ~allow_a) && !(c & ~allow_c)),
                    "rule %llu breaks the constraints", (unsigned long long)i);
        double n_b = (double)nb, cu = sup[u], ca = sup[a], cc = sup[c];
        double conf = cu / ca, supc = cc / n_b;
        FUZZ_ASSERT(m.count == sup[u] && near(m.support, cu / n_b) && near(m.confidence, conf) &&
                        near(m.lift, conf / supc) && near(m.antecedent_support, ca / n_b) &&
                        near(m.consequent_support, supc) &&
                        near(m.leverage, cu / n_b - (ca / n_b) * supc) &&
                        near(m.jaccard, cu / (ca + cc - cu)) && near(m.cosine, cu / sqrt(ca * cc)) &&
                        (cu == ca ? isinf(m.conviction) : near(m.conviction, (1 - supc) / (1 - conf))),
                    "rule %llu: measures differ from a direct computation", (unsigned long long)i);
        FUZZ_ASSERT(measure(&m, by_lift) <= prev, "rule %llu out of order", (unsigned long long)i);
        prev = measure(&m, by_lift);
    }
    persona_assoc_rules_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    if (size < 2)
        return 0;
    uint8_t flags = data[0], limits = data[1];
    size_t n_occ = size - 2;
    uint64_t *off = malloc((n_occ + 2) * sizeof *off);
    uint32_t *items = malloc((n_occ + 1) * sizeof *items);
    if (!off || !items)
        abort();
    memset(sup, 0, sizeof sup);
    size_t nb = 0, k = 0;
    uint32_t basket = 0;
    off[0] = 0;
    for (size_t i = 2; i < size; i++) {
        uint32_t id = (uint32_t)(data[i] & 0x7F) % (N_ITEMS + 1);
        if (id < N_ITEMS) {
            items[k++] = id;
            basket |= 1u << id;
        }
        if (data[i] & 0x80 || i + 1 == size) {
            off[++nb] = k;
            sup[basket]++;
            basket = 0;
        }
    }
    /* Superset sums: sup[m] = baskets whose items include m. */
    for (uint32_t b = 0; b < N_ITEMS; b++)
        for (uint32_t m = 0; m < N_SETS; m++)
            if (!(m >> b & 1))
                sup[m] += sup[m | 1u << b];
    persona_baskets *set = NULL;
    FUZZ_OK(persona_baskets_from_csr(&set, off, nb, items, NULL, N_ITEMS));
    persona__basket_csr db = { off, items, nb, N_ITEMS };

    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    o.min_count = 1 + (flags & 3);
    o.target = (flags >> 2 & 3) == 3 ? PERSONA_ITEMSETS_ALL : flags >> 2 & 3;
    o.max_size = flags >> 4 & 3;
    o.max_itemsets = (limits >> 4) ? 25u * (limits >> 4) : 400;
    oracle orc = { o.min_count, o.max_size };
    uint64_t n_frequent = 0, n_target = 0;
    for (uint32_t m = 1; m < N_SETS; m++) {
        n_frequent += frequent(&orc, m);
        n_target += in_target(&orc, o.target, m);
    }
    persona_itemsets *s = NULL;
    int rc = persona_itemsets_mine(&s, set, &o);
    uint64_t limit = o.max_itemsets;
    if (n_frequent > limit) {
        FUZZ_ASSERT(rc == PERSONA_EBUFS && s == NULL, "%llu frequent sets, limit %llu: code %d",
                    (unsigned long long)n_frequent, (unsigned long long)limit, rc);
        persona_baskets_free(set);
        free(off);
        free(items);
        return 0;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "mining: code %d (%s)", rc, persona_errmsg());
    uint64_t n = 0, base = 0;
    FUZZ_OK(persona_itemsets_count(&n, &base, s));
    FUZZ_ASSERT(n == n_target && base == nb, "%llu sets of %llu baskets, brute force %llu of %zu",
                (unsigned long long)n, (unsigned long long)base, (unsigned long long)n_target, nb);
    memset(seen, 0, sizeof seen);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t it[N_ITEMS];
        size_t len = 0;
        uint64_t c = 0;
        FUZZ_OK(persona_itemsets_get(it, N_ITEMS, &len, &c, s, i));
        for (size_t j = 1; j < len; j++)
            FUZZ_ASSERT(it[j - 1] < it[j], "set %llu not sorted", (unsigned long long)i);
        uint32_t m = mask_of(it, len);
        FUZZ_ASSERT(in_target(&orc, o.target, m) && c == sup[m] && !seen[m],
                    "set %llu (mask %#x, count %llu): brute force count %u, %s, seen %d",
                    (unsigned long long)i, m, (unsigned long long)c, sup[m],
                    in_target(&orc, o.target, m) ? "in target" : "not in target", seen[m]);
        seen[m] = 1;
    }
    if (o.target == PERSONA_ITEMSETS_ALL) {
        stream st = { s, 0 };
        FUZZ_OK(persona_itemsets_mine_each(set, &o, same_as_kept, &st));
        FUZZ_ASSERT(st.i == n, "streamed %llu sets, kept %llu", (unsigned long long)st.i,
                    (unsigned long long)n);
        /* Two threads, with buffer limits small enough (from the input's size) that helper
         * threads wait and subtree buffers are dropped and mined again. */
        persona__mine_params p = { o.min_count, o.max_size, o.max_itemsets, 2, 0, 1 + size % 7,
                                   8 + size % 97 };
        stream th = { s, 0 };
        FUZZ_OK(persona__itemsets_mine_csr(&db, &p, same_as_kept, &th));
        FUZZ_ASSERT(th.i == n, "two threads: %llu sets, kept %llu", (unsigned long long)th.i,
                    (unsigned long long)n);
        check_rules(s, nb, flags, limits, &orc);
    }
    persona_itemsets_free(s);
    persona_baskets_free(set);
    free(off);
    free(items);
    return 0;
}
