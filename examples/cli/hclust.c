/* `persona hclust`: hierarchical clustering of the points of a CSV file
 * (include/persona/hclust.h, docs/hclust.md). Output: SciPy's linkage matrix as rows
 * `a,b,distance,size` (CSV) or {linkage: [[a, b, distance, size], …]} (JSON); with -k or
 * --height, the flat clusters too (--labels FILE, and their count in JSON). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct hc_args {
    const char *points, *columns, *linkage, *k, *height, *labels, *output, *format, *threads;
    int standardize, help;
} hc_args;

static const char help[] =
    "usage: persona hclust --points FILE.csv [options]\n"
    "  hierarchical clustering of the rows of a CSV file with a header row (docs/hclust.md)\n"
    "  --points FILE.csv    the points (numbers; a header row names the columns)\n"
    "  --columns A,B,...    the columns to use (default: all)\n"
    "  --linkage ward|average|complete|single   (default ward)\n"
    "  --standardize        cluster z-scores of the columns\n"
    "  -k K                 flat clusters: those left after the last K-1 merges are undone\n"
    "  --height H           flat clusters: every merge at distance <= H\n"
    "  --labels FILE        with -k or --height: write `cluster` and each row's cluster\n"
    "  --threads N          threads (default: every CPU; the result does not depend on it)\n"
    "  --format csv|json    csv: a,b,distance,size (SciPy's linkage matrix, one merge per row);\n"
    "                       json: {linkage, clusters (with -k or --height)}\n"
    "  -o FILE              output file (default stdout)\n";

static const char *const LINKAGES[] = { "ward", "average", "complete", "single" };

static int parse(hc_args *a, int argc, char **argv)
{
    static const cli_flag flags[] = {
        { "--points", offsetof(hc_args, points) },   { "--columns", offsetof(hc_args, columns) },
        { "--linkage", offsetof(hc_args, linkage) }, { "-k", offsetof(hc_args, k) },
        { "--height", offsetof(hc_args, height) },   { "--labels", offsetof(hc_args, labels) },
        { "-o", offsetof(hc_args, output) },         { "--output", offsetof(hc_args, output) },
        { "--format", offsetof(hc_args, format) },   { "--threads", offsetof(hc_args, threads) },
    };
    static const cli_flag switches[] = { { "--standardize", offsetof(hc_args, standardize) } };
    memset(a, 0, sizeof *a);
    return cli_parse_flags("hclust", a, flags, sizeof flags / sizeof *flags, switches, 1, &a->help,
                           argc, argv);
}

/* The options beyond the points: 0 or an exit code. */
static int check_args(const hc_args *a, persona_hclust_options *o, uint32_t *k, double *height)
{
    if (a->linkage) {
        int32_t m = 0;
        while (m < 4 && strcmp(LINKAGES[m], a->linkage) != 0)
            m++;
        if (m == 4)
            return cli_error(EXIT_USAGE, "hclust: --linkage '%s': ward, average, complete or single",
                             a->linkage);
        o->method = m;
    }
    if (a->k && a->height)
        return cli_error(EXIT_USAGE, "hclust: -k and --height cannot both be given");
    if (a->k && (cli_parse_uint(k, a->k, UINT32_MAX - 1) || !*k))
        return cli_error(EXIT_USAGE, "hclust: -k '%s': a positive number", a->k);
    if (a->height) {
        char *end = NULL;
        *height = strtod(a->height, &end);
        if (!*a->height || *end || isnan(*height))
            return cli_error(EXIT_USAGE, "hclust: --height '%s' is not a number", a->height);
    }
    if (a->labels && !a->k && !a->height)
        return cli_error(EXIT_USAGE, "hclust: --labels needs -k or --height");
    if (a->threads && cli_parse_uint(&o->threads, a->threads, 1024))
        return cli_error(EXIT_USAGE, "hclust: --threads '%s': a number", a->threads);
    if (a->format && strcmp(a->format, "csv") != 0 && strcmp(a->format, "json") != 0)
        return cli_error(EXIT_USAGE, "hclust: --format '%s': csv or json", a->format);
    return 0;
}

static int write_linkage(const hc_args *a, const double *z, size_t rows, int flat, uint32_t k)
{
    cli_options out = { 0 };
    out.output = a->output;
    FILE *f = cli_open_output(&out);
    if (!f)
        return EXIT_RUNTIME;
    int json = a->format && strcmp(a->format, "json") == 0;
    fputs(json ? "{\"linkage\": [" : "a,b,distance,size\n", f);
    for (size_t r = 0; r < rows; r++) {
        const double *row = z + 4 * r;
        fprintf(f, json ? "%s[%.0f, %.0f, %.17g, %.0f]" : "%s%.0f,%.0f,%.17g,%.0f\n",
                json && r ? ", " : "", row[0], row[1], row[2], row[3]);
    }
    if (json) {
        fputc(']', f);
        if (flat)
            fprintf(f, ", \"clusters\": %u", k);
        fputs("}\n", f);
    }
    return cli_close_output(f, &out);
}

static int run(const hc_args *a)
{
    cli_table pts;
    persona_hclust_options o = PERSONA_HCLUST_OPTIONS_INIT;
    uint32_t k = 0;
    double height = 0;
    int rc = check_args(a, &o, &k, &height);
    if (rc)
        return rc;
    rc = cli_table_read(&pts, "hclust", a->points, a->columns, "points");
    size_t n = pts.rows, d = pts.n_names;
    if (!rc && n == 0)
        rc = cli_error(EXIT_RUNTIME, "hclust: %s has no rows", a->points);
    double *mean = !rc ? calloc(d, sizeof *mean) : NULL, *sd = !rc ? calloc(d, sizeof *sd) : NULL;
    double *z = !rc ? calloc(4 * n, sizeof *z) : NULL;
    uint32_t *labels = !rc ? calloc(n, sizeof *labels) : NULL;
    if (!rc && (!mean || !sd || !z || !labels))
        rc = cli_error(EXIT_RUNTIME, "out of memory");
    if (!rc)
        cli_table_standardize(&pts, a->standardize, mean, sd);
    persona_hclust *m = NULL;
    if (!rc && persona_hclust_fit(&m, pts.v, n, d, &o))
        rc = cli_lib_error("hclust");
    if (!rc && a->k && k > n)
        rc = cli_error(EXIT_USAGE, "hclust: -k %u is more than the %zu points", k, n);
    if (!rc && a->k && persona_hclust_cut(labels, n, m, k))
        rc = cli_lib_error("hclust");
    if (!rc && a->height && persona_hclust_cut_height(labels, n, &k, m, height))
        rc = cli_lib_error("hclust");
    if (!rc && persona_hclust_linkage(z, 4 * (n - 1), m))
        rc = cli_lib_error("hclust");
    if (!rc)
        rc = write_linkage(a, z, n - 1, a->k || a->height, k);
    if (!rc && a->labels)
        rc = cli_write_labels("hclust", a->labels, labels, n);
    persona_hclust_free(m);
    free(mean);
    free(sd);
    free(z);
    free(labels);
    cli_table_free(&pts);
    return rc;
}

int cmd_hclust(int argc, char **argv)
{
    hc_args a;
    int rc = parse(&a, argc, argv);
    if (rc)
        return rc;
    if (a.help) {
        fputs(help, stdout);
        return 0;
    }
    if (!a.points)
        return cli_error(EXIT_USAGE, "hclust: --points FILE.csv is required (see --help)");
    return run(&a);
}
