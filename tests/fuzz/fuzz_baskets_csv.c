/* Fuzz target: a long basket CSV -> the CLI's basket reader (examples/cli/baskets_read.c)
 * (TESTING §4, docs/itemsets.md). The miner has its own target (fuzz_itemsets_mine.c),
 * with a brute-force oracle; here it only counts the items.
 *
 * Input: byte 0 = flags, then the CSV (any bytes; the header must name `basket` and `item`).
 *   byte 0 bit 5: ';' as the delimiter;  bit 6: strict (the other bits are unused).
 * Per input:
 *  1. the reader returns 0, or an exit code (1 or 2) with no basket set;
 *  2. on a basket set: at most as many baskets and items as data lines; every item has a
 *     name; mining the single items (min count 1) finds every item once, each in at most
 *     every basket, and their counts add up to at most the data lines (one pair a row);
 *  3. strict vs lenient: when the strict read succeeds (nothing skipped), the lenient one
 *     succeeds too, with the same counts.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "itemsets_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* Read text[0..len) (copied: the reader unescapes in place); the reader's code. */
static int read_set(persona_baskets **out, const uint8_t *text, size_t len, char delim,
                    int strict)
{
    char *buf = malloc(len + 1);
    if (!buf)
        abort();
    if (len)
        memcpy(buf, text, len);
    buf[len] = '\0';
    basket_source src = { "fuzz", "input", "basket", "item", delim, strict };
    int rc = cli_parse_baskets(out, buf, len, &src);
    free(buf);
    FUZZ_ASSERT(rc == 0 || ((rc == EXIT_RUNTIME || rc == EXIT_USAGE) && *out == NULL),
                "reader code %d", rc);
    return rc;
}

typedef struct singles {
    uint64_t sets, sum, max;
} singles;

static int add_single(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    singles *s = ctx;
    (void)items;
    FUZZ_ASSERT(n == 1, "a set of %zu items with max_size 1", n);
    s->sets++;
    s->sum += count;
    if (count > s->max)
        s->max = count;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    uint8_t flags = size ? data[0] : 0;
    const uint8_t *text = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    char delim = (flags & 32) ? ';' : ',';
    int strict = flags >> 6 & 1;
    persona_baskets *b = NULL;
    if (read_set(&b, text, len, delim, strict))
        return 0;
    uint64_t lines = fuzz_line_count((const char *)text, len), nb = 0, ni = 0;
    FUZZ_OK(persona_baskets_counts(&nb, &ni, b));
    FUZZ_ASSERT(nb < lines && ni < lines, "%llu baskets, %llu items from %llu lines",
                (unsigned long long)nb, (unsigned long long)ni, (unsigned long long)lines);
    for (uint64_t i = 0; i < ni; i++) {
        const char *name = NULL;
        FUZZ_OK(persona_baskets_item_name(&name, b, (uint32_t)i));
        FUZZ_ASSERT(name != NULL, "item %llu has no name", (unsigned long long)i);
    }
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    o.min_count = 1;
    o.max_size = 1;
    singles s = { 0, 0, 0 };
    FUZZ_OK(persona_itemsets_mine_each(b, &o, add_single, &s));
    FUZZ_ASSERT(s.sets == ni && s.max <= nb && s.sum < lines,
                "%llu single items of %llu, largest count %llu of %llu baskets, %llu pairs",
                (unsigned long long)s.sets, (unsigned long long)ni, (unsigned long long)s.max,
                (unsigned long long)nb, (unsigned long long)s.sum);
    /* The other mode: a strict read that succeeds skipped nothing, so the two reads
     * succeed together and agree (the lenient one fails only where strict fails too). */
    persona_baskets *other = NULL;
    int rc = read_set(&other, text, len, delim, !strict);
    FUZZ_ASSERT(!strict || rc == 0, "a strict read succeeded, a lenient one failed (%d)", rc);
    if (!rc) {
        uint64_t nb2 = 0, ni2 = 0;
        FUZZ_OK(persona_baskets_counts(&nb2, &ni2, other));
        FUZZ_ASSERT(nb2 == nb && ni2 == ni, "strict %d: %llu baskets, %llu items; other: %llu, %llu",
                    strict, (unsigned long long)nb, (unsigned long long)ni,
                    (unsigned long long)nb2, (unsigned long long)ni2);
    }
    persona_baskets_free(other);
    persona_baskets_free(b);
    return 0;
}
