/* Fuzz target: a long basket CSV -> the CLI's basket reader (examples/cli/baskets_read.c)
 * and the miner (TESTING §4, docs/itemsets.md).
 *
 * Input: byte 0 = flags, then the CSV (any bytes; the header must name `basket` and `item`).
 *   byte 0 bits 0-1: min_count 1 … 4;  bits 2-3: target all / closed / maximal / all;
 *          bit 4: max_size 2;  bit 5: ';' as the delimiter;  bit 6: strict.
 * Per input:
 *  1. the reader returns 0, or an exit code (1 or 2) with no basket set;
 *  2. on a basket set: mining (at most 2,000 itemsets) returns OK or EBUFS (the limit);
 *     on OK every itemset has count >= min_count and <= the baskets, its items are
 *     distinct ids < the items, sorted, at most max_size of them; the streaming call hands
 *     over the same number of sets (target all); the rules of an "all" result have
 *     0 < confidence <= 1, support <= each side's support, and lift > 0.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itemsets_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_baskets_csv: %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The reader's error reporting (examples/cli/main.c), silent here. */
int cli_error(int code, const char *fmt, ...)
{
    (void)fmt;
    return code;
}

int cli_lib_error(const char *what)
{
    (void)what;
    return EXIT_RUNTIME;
}

static int count_sets(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    (void)items;
    (void)n;
    (void)count;
    ++*(uint64_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags = size ? data[0] : 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    if (size > 1)
        memcpy(buf, data + 1, size - 1);
    size_t len = size ? size - 1 : 0;
    buf[len] = '\0';
    basket_source src = { "fuzz", "input", "basket", "item", (flags & 32) ? ';' : ',', flags >> 6 & 1 };
    persona_baskets *b = NULL;
    int rc = cli_parse_baskets(&b, buf, len, &src);
    free(buf);
    FUZZ_ASSERT(rc == 0 || ((rc == EXIT_RUNTIME || rc == EXIT_USAGE) && b == NULL));
    if (rc)
        return 0;
    uint64_t nb = 0, ni = 0;
    FUZZ_ASSERT(persona_baskets_counts(&nb, &ni, b) == PERSONA_OK);
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    o.min_count = 1 + (flags & 3);
    o.target = (flags >> 2 & 3) == 3 ? 0 : flags >> 2 & 3;
    o.max_size = (flags & 16) ? 2 : 0;
    o.max_itemsets = 2000; /* small: a fuzz input explores paths, not volume */
    persona_itemsets *s = NULL;
    rc = persona_itemsets_mine(&s, b, &o);
    FUZZ_ASSERT(rc == PERSONA_OK || (rc == PERSONA_EBUFS && s == NULL));
    if (rc == PERSONA_OK) {
        uint64_t n = 0, base = 0;
        FUZZ_ASSERT(persona_itemsets_count(&n, &base, s) == PERSONA_OK && base == nb);
        for (uint64_t i = 0; i < n; i++) {
            uint32_t it[64];
            size_t k = 0;
            uint64_t c = 0;
            FUZZ_ASSERT(persona_itemsets_get(it, 64, &k, &c, s, i) == PERSONA_OK);
            FUZZ_ASSERT(c >= o.min_count && c <= nb && k >= 1 && (!o.max_size || k <= o.max_size));
            for (size_t j = 0; j < k; j++)
                FUZZ_ASSERT(it[j] < ni && (j == 0 || it[j - 1] < it[j]));
        }
        if (o.target == PERSONA_ITEMSETS_ALL) {
            uint64_t streamed = 0;
            FUZZ_ASSERT(persona_itemsets_mine_each(b, &o, count_sets, &streamed) == PERSONA_OK);
            FUZZ_ASSERT(streamed == n);
            persona_assoc_rules_options ro = PERSONA_ASSOC_RULES_OPTIONS_INIT;
            ro.max_rules = 2000;
            persona_assoc_rules *r = NULL;
            rc = persona_assoc_rules_build(&r, s, &ro);
            FUZZ_ASSERT(rc == PERSONA_OK || (rc == PERSONA_EBUFS && r == NULL));
            uint64_t nr = 0;
            if (rc == PERSONA_OK)
                persona_assoc_rules_count(&nr, r);
            for (uint64_t i = 0; i < nr; i++) {
                persona_assoc_rule m = PERSONA_ASSOC_RULE_INIT;
                uint32_t it[64];
                FUZZ_ASSERT(persona_assoc_rules_get(&m, it, 64, r, i) == PERSONA_OK);
                FUZZ_ASSERT(m.confidence > 0 && m.confidence <= 1 && m.lift > 0);
                FUZZ_ASSERT(m.support <= m.antecedent_support && m.support <= m.consequent_support);
            }
            persona_assoc_rules_free(r);
        }
        persona_itemsets_free(s);
    }
    persona_baskets_free(b);
    return 0;
}
