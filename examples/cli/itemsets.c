/* `persona itemsets` and `persona rules`: frequent itemsets and association rules of a long
 * basket CSV (include/persona/itemsets.h, docs/itemsets.md). Itemsets stream from the miner
 * straight into a 1 MiB output buffer: items sorted bytewise by a precomputed rank, names
 * and quoting decided once per item, and the "count,support" text made once per count, so
 * writing 6 M rows costs little more than copying bytes. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "itemsets_cli.h"

typedef struct fim_args {
    const char *file, *basket, *item, *min_support, *min_count, *max_size, *item_sep, *target,
        *max_itemsets, *delimiter, *output, *format, *min_confidence, *min_lift, *top, *sort_by,
        *threads;
    int strict, help;
} fim_args;

static const char help_itemsets[] =
    "usage: persona itemsets [FILE] --basket COL --item COL --min-support S [options]\n"
    "  frequent itemsets of a long CSV, one (basket, item) pair a row (docs/itemsets.md)\n"
    "  --basket COL         the basket (order) column\n"
    "  --item COL           the item column\n"
    "  --min-support S      least share of baskets, 0 < S <= 1 (count >= ceil(S x baskets))\n"
    "  --min-count N        or: least number of baskets\n"
    "  --max-size N         most items in an itemset\n"
    "  --target all|closed|maximal   (default all)\n"
    "  --max-itemsets N     stop with an error past N itemsets (default 50000000)\n"
    "  --threads N          threads (default: every CPU; the result does not depend on it)\n"
    "  --item-sep TEXT      between the items of a set (default ' | ')\n"
    "  --delimiter C        input field delimiter (default ,)\n"
    "  --strict             a row without basket or item is an error (default: skipped)\n"
    "  -o FILE              output file (default stdout)\n"
    "  Output: items,count,support; items sorted bytewise, the field quoted per RFC 4180;\n"
    "  rows in mining order. With no FILE: the bundled sample (InvoiceNo, Description).\n";

static const char help_rules[] =
    "usage: persona rules [FILE] --basket COL --item COL --min-support S [options]\n"
    "  association rules A -> C between frequent itemsets (docs/itemsets.md)\n"
    "  the options of 'persona itemsets' (not --target), and:\n"
    "  --min-confidence C   least confidence (0 ... 1)\n"
    "  --min-lift L         least lift\n"
    "  --top N              the N best rules only\n"
    "  --sort-by confidence|lift|support|conviction|leverage   (default confidence)\n"
    "  Output: antecedent,consequent,support,confidence,lift,conviction, best first\n"
    "  (ties: greater count, then mining order); conviction 'inf' at confidence 1.\n";

static const char *const TARGETS[] = { "all", "closed", "maximal" };
static const char *const MEASURES[] = { "confidence", "lift", "support", "conviction", "leverage" };

static int parse(fim_args *a, const char *cmd, int argc, char **argv)
{
    static const cli_flag flags[] = {
        { "--basket", offsetof(fim_args, basket) },
        { "--item", offsetof(fim_args, item) },
        { "--min-support", offsetof(fim_args, min_support) },
        { "--min-count", offsetof(fim_args, min_count) },
        { "--max-size", offsetof(fim_args, max_size) },
        { "--item-sep", offsetof(fim_args, item_sep) },
        { "--target", offsetof(fim_args, target) },
        { "--max-itemsets", offsetof(fim_args, max_itemsets) },
        { "--delimiter", offsetof(fim_args, delimiter) },
        { "-o", offsetof(fim_args, output) },
        { "--output", offsetof(fim_args, output) },
        { "--format", offsetof(fim_args, format) },
        { "--min-confidence", offsetof(fim_args, min_confidence) },
        { "--min-lift", offsetof(fim_args, min_lift) },
        { "--top", offsetof(fim_args, top) },
        { "--sort-by", offsetof(fim_args, sort_by) },
        { "--threads", offsetof(fim_args, threads) },
    };
    static const cli_flag switches[] = { { "--strict", offsetof(fim_args, strict) } };
    memset(a, 0, sizeof *a);
    /* The one positional FILE is taken out first; cli_parse_flags knows only flags. */
    char **rest = malloc((size_t)argc * sizeof *rest);
    if (!rest)
        return cli_error(EXIT_RUNTIME, "out of memory");
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int takes = 0;
        for (size_t f = 0; i >= 2 && f < sizeof flags / sizeof *flags; f++)
            takes |= strcmp(s, flags[f].name) == 0;
        if (i >= 2 && !takes && (s[0] != '-' || s[1] == '\0')) {
            if (a->file) {
                free(rest);
                return cli_error(EXIT_USAGE, "%s: more than one FILE ('%s', '%s')", cmd, a->file, s);
            }
            a->file = s;
            continue;
        }
        rest[n++] = argv[i];
        if (takes && i + 1 < argc)
            rest[n++] = argv[++i];
    }
    int rc = cli_parse_flags(cmd, a, flags, sizeof flags / sizeof *flags, switches, 1, &a->help, n,
                             rest);
    free(rest);
    return rc;
}

static int pick(const char *const *names, int n, const char *v)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

static int parse_u64(uint64_t *out, const char *s)
{
    char *end = NULL;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int parse_num(double *out, const char *s)
{
    char *end = NULL;
    *out = strtod(s, &end);
    return *s && !*end && !isnan(*out) ? 0 : -1;
}

/* Options shared by both commands; 0 or an exit code. */
static int mining_options(const fim_args *a, const char *cmd, persona_itemsets_options *o)
{
    if (a->min_support && a->min_count)
        return cli_error(EXIT_USAGE, "%s: give --min-support or --min-count, not both", cmd);
    if (!a->min_support && !a->min_count)
        return cli_error(EXIT_USAGE, "%s: --min-support S or --min-count N is required", cmd);
    if (a->min_support && (parse_num(&o->min_support, a->min_support) || !(o->min_support > 0) ||
                           o->min_support > 1))
        return cli_error(EXIT_USAGE, "%s: --min-support '%s': a fraction 0 < S <= 1", cmd,
                         a->min_support);
    if (a->min_count && (parse_u64(&o->min_count, a->min_count) || !o->min_count))
        return cli_error(EXIT_USAGE, "%s: --min-count '%s': a positive number", cmd, a->min_count);
    if (a->max_size && (cli_parse_uint(&o->max_size, a->max_size, UINT32_MAX - 1) || !o->max_size))
        return cli_error(EXIT_USAGE, "%s: --max-size '%s': a positive number", cmd, a->max_size);
    if (a->max_itemsets && (parse_u64(&o->max_itemsets, a->max_itemsets) || !o->max_itemsets))
        return cli_error(EXIT_USAGE, "%s: --max-itemsets '%s': a positive number", cmd,
                         a->max_itemsets);
    if (a->threads && cli_parse_uint(&o->threads, a->threads, 1024))
        return cli_error(EXIT_USAGE, "%s: --threads '%s': a number", cmd, a->threads);
    if (a->target && (o->target = pick(TARGETS, 3, a->target)) < 0)
        return cli_error(EXIT_USAGE, "%s: --target '%s': all, closed or maximal", cmd, a->target);
    if (a->format && strcmp(a->format, "csv") != 0)
        return cli_error(EXIT_USAGE, "%s: --format '%s': only csv", cmd, a->format);
    if (a->delimiter && strlen(a->delimiter) != 1)
        return cli_error(EXIT_USAGE, "%s: --delimiter '%s': one character", cmd, a->delimiter);
    return 0;
}

/* ---- the output: item names, their bytewise ranks and the row writer ---- */

typedef struct out_ctx {
    FILE *f;
    char *buf;
    size_t len, cap;
    const char **name;
    size_t *name_len, max_name; /* max_name: the longest name (quoted, doubled quotes) */
    uint32_t *rank;     /* bytewise order of the names */
    uint8_t *quote;     /* the name needs the field quoted */
    const char *sep;
    size_t sep_len;
    int sep_quote;
    uint64_t n_baskets;
    char *tail;         /* per count: ",count,support\n" text */
    uint32_t *tail_off; /* offset + 1 into tail, 0 = not made yet (length in the first byte) */
    size_t tail_len, tail_cap;
    int failed;
} out_ctx;

static void put(out_ctx *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) {
        if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
            o->failed = 1;
        o->len = 0;
        if (n > o->cap) {
            if (fwrite(s, 1, n, o->f) != n)
                o->failed = 1;
            return;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* A name inside a quoted field: quotes doubled. */
static void put_quoted(out_ctx *o, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            put(o, s + start, i + 1 - start);
            put(o, "\"", 1);
            start = i + 1;
        }
    put(o, s + start, n - start);
}

static int needs_quote(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return 1;
    return 0;
}

/* Write items (ids) sorted by rank, joined by the separator, as one CSV field. */
static void put_items(out_ctx *o, const uint32_t *items, size_t n)
{
    uint32_t s[64];
    int q = o->sep_quote && n > 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = items[i];
        size_t j = i;
        q |= o->quote[v];
        while (j > 0 && o->rank[s[j - 1]] > o->rank[v]) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = v;
    }
    if (!q) {
        /* The common case: room for the whole field at once, then plain copies. */
        size_t need = n * (o->max_name + o->sep_len);
        if (o->len + need > o->cap) {
            if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
                o->failed = 1;
            o->len = 0;
        }
        if (need <= o->cap) {
            char *w = o->buf + o->len;
            for (size_t i = 0; i < n; i++) {
                if (i) {
                    memcpy(w, o->sep, o->sep_len);
                    w += o->sep_len;
                }
                memcpy(w, o->name[s[i]], o->name_len[s[i]]);
                w += o->name_len[s[i]];
            }
            o->len = (size_t)(w - o->buf);
            return;
        }
    }
    if (q)
        put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            q ? put_quoted(o, o->sep, o->sep_len) : put(o, o->sep, o->sep_len);
        q ? put_quoted(o, o->name[s[i]], o->name_len[s[i]]) : put(o, o->name[s[i]], o->name_len[s[i]]);
    }
    if (q)
        put(o, "\"", 1);
}

static int put_tail(out_ctx *o, uint64_t count)
{
    if (count > o->n_baskets)
        return -1;
    if (!o->tail_off[count]) {
        char t[64];
        int n = snprintf(t, sizeof t, ",%llu,%.17g\n", (unsigned long long)count,
                         (double)count / (double)o->n_baskets);
        if (o->tail_len + (size_t)n + 1 > o->tail_cap) {
            size_t cap = (o->tail_cap + (size_t)n + 1) * 2;
            char *t2 = realloc(o->tail, cap);
            if (!t2)
                return -1;
            o->tail = t2;
            o->tail_cap = cap;
        }
        o->tail[o->tail_len] = (char)n; /* under 64 */
        memcpy(o->tail + o->tail_len + 1, t, (size_t)n);
        o->tail_off[count] = (uint32_t)o->tail_len + 1;
        o->tail_len += (size_t)n + 1;
    }
    const char *t = o->tail + o->tail_off[count] - 1;
    put(o, t + 1, (size_t)(unsigned char)t[0]);
    return 0;
}

static int row(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    out_ctx *o = ctx;
    put_items(o, items, n);
    return put_tail(o, count) || o->failed ? -1 : 0;
}

static const char *const *names_for_sort;

static int by_name(const void *x, const void *y)
{
    return strcmp(names_for_sort[*(const uint32_t *)x], names_for_sort[*(const uint32_t *)y]);
}

static void out_free(out_ctx *o)
{
    free(o->buf);
    free(o->name);
    free(o->name_len);
    free(o->rank);
    free(o->quote);
    free(o->tail);
    free(o->tail_off);
}

/* Names, ranks and quoting of every item; a name containing the separator is refused. */
static int out_init(out_ctx *o, const char *cmd, const persona_baskets *b, const char *sep)
{
    memset(o, 0, sizeof *o);
    uint64_t nb = 0, ni = 0;
    persona_baskets_counts(&nb, &ni, b);
    o->n_baskets = nb;
    o->sep = sep;
    o->sep_len = strlen(sep);
    o->sep_quote = needs_quote(sep, o->sep_len);
    o->cap = 1 << 20;
    o->buf = malloc(o->cap);
    o->name = malloc((ni + 1) * sizeof *o->name);
    o->name_len = malloc((ni + 1) * sizeof *o->name_len);
    o->rank = malloc((ni + 1) * sizeof *o->rank);
    o->quote = malloc(ni + 1);
    o->tail_off = calloc(nb + 1, sizeof *o->tail_off);
    uint32_t *order = malloc((ni + 1) * sizeof *order);
    if (!o->buf || !o->name || !o->name_len || !o->rank || !o->quote || !o->tail_off || !order) {
        free(order);
        return cli_error(EXIT_RUNTIME, "out of memory");
    }
    for (uint32_t i = 0; i < ni; i++) {
        persona_baskets_item_name(&o->name[i], b, i);
        o->name_len[i] = strlen(o->name[i]);
        if (o->name_len[i] > o->max_name)
            o->max_name = o->name_len[i];
        o->quote[i] = (uint8_t)needs_quote(o->name[i], o->name_len[i]);
        order[i] = i;
        if (o->sep_len && strstr(o->name[i], sep)) {
            free(order);
            return cli_error(EXIT_RUNTIME,
                             "%s: item '%s' contains the item separator '%s': choose another "
                             "with --item-sep",
                             cmd, o->name[i], sep);
        }
    }
    names_for_sort = o->name;
    qsort(order, ni, sizeof *order, by_name);
    for (uint32_t r = 0; r < ni; r++)
        o->rank[order[r]] = r;
    free(order);
    return 0;
}

/* ---- the commands ---- */

static int load(persona_baskets **b, fim_args *a, const char *cmd)
{
    basket_source src = { cmd, a->file, a->basket, a->item, ',', a->strict };
    if (!a->file) {
        /* The bundled Online Retail sample has baskets: invoices of described products. */
        src.path = PERSONA_SAMPLE_CSV;
        src.basket_col = a->basket ? a->basket : "InvoiceNo";
        src.item_col = a->item ? a->item : "Description";
    } else if (!a->basket || !a->item) {
        return cli_error(EXIT_USAGE, "%s: --basket COL and --item COL are required (see --help)", cmd);
    }
    if (a->delimiter)
        src.delimiter = a->delimiter[0];
    return cli_read_baskets(b, &src);
}

/* The baskets and the output's item table (memory the caller frees with out_free and
 * persona_baskets_free, also after a failure). */
static int load_for_output(persona_baskets **b, out_ctx *oc, fim_args *a, const char *cmd)
{
    memset(oc, 0, sizeof *oc);
    int rc = load(b, a, cmd);
    if (!rc)
        rc = out_init(oc, cmd, *b, a->item_sep ? a->item_sep : " | ");
    return rc;
}

static int run_itemsets(fim_args *a)
{
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    int rc = mining_options(a, "itemsets", &o);
    persona_baskets *b = NULL;
    out_ctx oc = { 0 };
    if (!rc)
        rc = load_for_output(&b, &oc, a, "itemsets");
    cli_options co = { 0 };
    co.output = a->output;
    if (!rc && !(oc.f = cli_open_output(&co)))
        rc = EXIT_RUNTIME;
    if (!rc) {
        put(&oc, "items,count,support\n", 20);
        if (persona_itemsets_mine_each(b, &o, row, &oc))
            rc = oc.failed ? cli_error(EXIT_RUNTIME, "itemsets: writing the output failed")
                           : cli_lib_error("itemsets");
        if (!rc && oc.len && fwrite(oc.buf, 1, oc.len, oc.f) != oc.len)
            rc = cli_error(EXIT_RUNTIME, "itemsets: writing the output failed");
        int rc2 = cli_close_output(oc.f, &co);
        if (!rc)
            rc = rc2;
    }
    out_free(&oc);
    persona_baskets_free(b);
    return rc;
}

static void put_double(out_ctx *o, double v)
{
    char t[40];
    int n = isinf(v) ? snprintf(t, sizeof t, "%s", v > 0 ? "inf" : "-inf")
                     : snprintf(t, sizeof t, "%.17g", v);
    put(o, t, (size_t)n);
}

static int run_rules(fim_args *a)
{
    persona_itemsets_options o = PERSONA_ITEMSETS_OPTIONS_INIT;
    persona_assoc_rules_options ro = PERSONA_ASSOC_RULES_OPTIONS_INIT;
    int rc = a->target ? cli_error(EXIT_USAGE, "rules: --target is not an option of rules") : 0;
    if (!rc)
        rc = mining_options(a, "rules", &o);
    if (!rc && a->min_confidence &&
        (parse_num(&ro.min_confidence, a->min_confidence) || ro.min_confidence < 0 ||
         ro.min_confidence > 1))
        rc = cli_error(EXIT_USAGE, "rules: --min-confidence '%s': 0 ... 1", a->min_confidence);
    if (!rc && a->min_lift && (parse_num(&ro.min_lift, a->min_lift) || ro.min_lift < 0))
        rc = cli_error(EXIT_USAGE, "rules: --min-lift '%s': a number >= 0", a->min_lift);
    if (!rc && a->top && (parse_u64(&ro.top, a->top) || !ro.top))
        rc = cli_error(EXIT_USAGE, "rules: --top '%s': a positive number", a->top);
    if (!rc && a->sort_by && (ro.sort_by = pick(MEASURES, 5, a->sort_by)) < 0)
        rc = cli_error(EXIT_USAGE, "rules: --sort-by '%s': confidence, lift, support, conviction or leverage",
                       a->sort_by);
    persona_baskets *b = NULL;
    out_ctx oc = { 0 };
    if (!rc)
        rc = load_for_output(&b, &oc, a, "rules");
    persona_itemsets *s = NULL;
    persona_assoc_rules *r = NULL;
    if (!rc && (persona_itemsets_mine(&s, b, &o) || persona_assoc_rules_build(&r, s, &ro)))
        rc = cli_lib_error("rules");
    cli_options co = { 0 };
    co.output = a->output;
    if (!rc && !(oc.f = cli_open_output(&co)))
        rc = EXIT_RUNTIME;
    if (!rc) {
        uint64_t n = 0;
        persona_assoc_rules_count(&n, r);
        static const char head[] = "antecedent,consequent,support,confidence,lift,conviction\n";
        put(&oc, head, sizeof head - 1);
        uint32_t items[64];
        for (uint64_t i = 0; i < n && !rc; i++) {
            persona_assoc_rule m = PERSONA_ASSOC_RULE_INIT;
            if (persona_assoc_rules_get(&m, items, 64, r, i)) {
                rc = cli_lib_error("rules");
                break;
            }
            put_items(&oc, items, m.n_antecedent);
            put(&oc, ",", 1);
            put_items(&oc, items + m.n_antecedent, m.n_consequent);
            const double v[4] = { m.support, m.confidence, m.lift, m.conviction };
            for (int k = 0; k < 4; k++) {
                put(&oc, ",", 1);
                put_double(&oc, v[k]);
            }
            put(&oc, "\n", 1);
        }
        if (oc.len && fwrite(oc.buf, 1, oc.len, oc.f) != oc.len)
            oc.failed = 1;
        if (!rc && oc.failed)
            rc = cli_error(EXIT_RUNTIME, "rules: writing the output failed");
        int rc2 = cli_close_output(oc.f, &co);
        if (!rc)
            rc = rc2;
    }
    persona_assoc_rules_free(r);
    persona_itemsets_free(s);
    out_free(&oc);
    persona_baskets_free(b);
    return rc;
}

static int run(int argc, char **argv, const char *cmd, const char *help, int (*fn)(fim_args *))
{
    fim_args a;
    int rc = parse(&a, cmd, argc, argv);
    if (rc)
        return rc;
    if (a.help) {
        fputs(help, stdout);
        return 0;
    }
    return fn(&a);
}

int cmd_itemsets(int argc, char **argv)
{
    return run(argc, argv, "itemsets", help_itemsets, run_itemsets);
}

int cmd_rules(int argc, char **argv)
{
    return run(argc, argv, "rules", help_rules, run_rules);
}
