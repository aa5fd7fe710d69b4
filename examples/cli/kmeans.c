/* `persona kmeans`: k-means of the points of a CSV file (include/persona/kmeans.h,
 * docs/kmeans.md). Output: the centres as `cluster,<column>…` (CSV) or
 * {centers, inertia, iterations, sizes} (JSON); --labels FILE writes each row's cluster. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_COLUMNS 4096

typedef struct km_args {
    const char *points, *columns, *k, *init, *seed, *max_iter, *tol, *algorithm, *labels;
    const char *output, *format, *threads, *batch_size;
    int standardize, help;
} km_args;

static const char help[] =
    "usage: persona kmeans --points FILE.csv [options]\n"
    "  k-means of the rows of a CSV file with a header row (docs/kmeans.md)\n"
    "  --points FILE.csv    the points (numbers; a header row names the columns)\n"
    "  --columns A,B,...    the columns to use (default: all)\n"
    "  -k K                 clusters (default 8)\n"
    "  --init kmeans++|FILE.csv  k-means++ (default) or k initial centres (header row, the\n"
    "                       same columns)\n"
    "  --seed S             seed of k-means++ (default 0)\n"
    "  --max-iter N         most iterations (default 300)\n"
    "  --tol T              scikit-learn's relative tolerance (default 1e-4)\n"
    "  --algorithm auto|lloyd|hamerly|elkan|minibatch  auto = hamerly; lloyd, hamerly and\n"
    "                       elkan give the same result; minibatch is approximate\n"
    "  --batch-size N       points per mini-batch step (default 1024)\n"
    "  --standardize        fit on z-scores of the columns; centres are shown in the\n"
    "                       original units\n"
    "  --threads N          threads (default: every CPU; the result does not depend on it)\n"
    "  --labels FILE        write `cluster` and each row's cluster, in row order\n"
    "  --format csv|json    csv: cluster,<column>... ; json: {centers, inertia, iterations, sizes}\n"
    "  -o FILE              output file (default stdout)\n";

/* A parsed CSV of numbers: the names of the columns kept and the values, row-major. */
typedef struct table {
    char **names;
    size_t n_names; /* columns kept */
    double *v;
    size_t rows, cap;
} table;

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n_names; i++)
        free(t->names[i]);
    free(t->names);
    free(t->v);
}

/* Split one CSV line into fields (RFC 4180 quotes; the line is modified). */
static size_t split_line(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *start = p, *w = p;
        if (*p == '"') {
            p++;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n')
                *w++ = *p++;
        }
        char end = *p;
        *w = '\0';
        if (n < max)
            fields[n] = start;
        n++;
        if (end != ',')
            break;
        p++;
    }
    return n;
}

/* Read the CSV `path`, keeping the columns named in `want` (comma-separated; NULL = all) in
 * that order. 0, or an exit code after saying why. */
static int read_table(table *t, const char *path, const char *want, const char *what)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error(EXIT_RUNTIME, "kmeans: %s: %s", path, strerror(errno));
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    char **fields = malloc(MAX_COLUMNS * sizeof *fields);
    size_t *col = malloc(MAX_COLUMNS * sizeof *col);
    int rc = 0;
    if (!line || !fields || !col) {
        rc = cli_error(EXIT_RUNTIME, "out of memory");
        goto done;
    }
    size_t lineno = 0, n_header = 0;
    while (!rc && fgets(line, (int)cap, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len + 1 == cap && line[len - 1] != '\n') {
            rc = cli_error(EXIT_RUNTIME, "kmeans: %s:%zu: line longer than %zu bytes", path, lineno, cap - 2);
            break;
        }
        if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
            continue;
        size_t n = split_line(line, fields, MAX_COLUMNS);
        if (n > MAX_COLUMNS) {
            rc = cli_error(EXIT_RUNTIME, "kmeans: %s:%zu: more than %d columns", path, lineno, MAX_COLUMNS);
            break;
        }
        if (lineno == 1) { /* the header: which columns, in which order */
            n_header = n;
            t->names = calloc(MAX_COLUMNS, sizeof *t->names);
            if (!t->names) {
                rc = cli_error(EXIT_RUNTIME, "out of memory");
                break;
            }
            if (!want) {
                for (size_t c = 0; c < n; c++) {
                    col[c] = c;
                    t->names[t->n_names++] = strdup(fields[c]);
                }
                continue;
            }
            char *list = strdup(want), *save = NULL;
            for (char *name = strtok_r(list, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
                size_t c = 0;
                while (c < n && strcmp(fields[c], name) != 0)
                    c++;
                if (c == n)
                    rc = cli_error(EXIT_USAGE, "kmeans: %s has no column '%s'", path, name);
                else if (t->n_names == MAX_COLUMNS)
                    rc = cli_error(EXIT_USAGE, "kmeans: more than %d columns", MAX_COLUMNS);
                else {
                    col[t->n_names] = c;
                    t->names[t->n_names++] = strdup(name);
                }
            }
            free(list);
            if (!rc && t->n_names == 0)
                rc = cli_error(EXIT_USAGE, "kmeans: --columns names no column");
            continue;
        }
        if (n != n_header) {
            rc = cli_error(EXIT_RUNTIME, "kmeans: %s:%zu: %zu fields, the header has %zu", path, lineno, n,
                           n_header);
            break;
        }
        if ((t->rows + 1) * t->n_names > t->cap) {
            size_t nc = t->cap ? t->cap * 2 : 1024 * t->n_names;
            double *v = realloc(t->v, nc * sizeof *v);
            if (!v) {
                rc = cli_error(EXIT_RUNTIME, "out of memory");
                break;
            }
            t->v = v;
            t->cap = nc;
        }
        for (size_t c = 0; c < t->n_names && !rc; c++) {
            const char *s = fields[col[c]];
            char *end = NULL;
            errno = 0;
            double x = strtod(s, &end);
            if (!*s || *end || !isfinite(x))
                rc = cli_error(EXIT_RUNTIME, "kmeans: %s:%zu: %s column '%s' is '%.40s', not a finite number",
                               path, lineno, what, t->names[c], s);
            t->v[t->rows * t->n_names + c] = x;
        }
        t->rows++;
    }
    if (!rc && lineno == 0)
        rc = cli_error(EXIT_RUNTIME, "kmeans: %s is empty (a header row is needed)", path);
done:
    free(line);
    free(fields);
    free(col);
    fclose(f);
    return rc;
}

static int set(const char **slot, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    if (eq && strncmp(arg, "--", 2) == 0) {
        *slot = eq + 1;
        return 0;
    }
    if (*i + 1 >= argc)
        return cli_error(EXIT_USAGE, "kmeans: %s needs a value", arg);
    *slot = argv[++*i];
    return 0;
}

static int parse(km_args *a, int argc, char **argv)
{
    static const struct {
        const char *name;
        size_t offset;
    } flags[] = {
        { "--points", offsetof(km_args, points) },     { "--columns", offsetof(km_args, columns) },
        { "-k", offsetof(km_args, k) },                { "--init", offsetof(km_args, init) },
        { "--seed", offsetof(km_args, seed) },         { "--max-iter", offsetof(km_args, max_iter) },
        { "--tol", offsetof(km_args, tol) },           { "--algorithm", offsetof(km_args, algorithm) },
        { "--labels", offsetof(km_args, labels) },     { "-o", offsetof(km_args, output) },
        { "--output", offsetof(km_args, output) },     { "--format", offsetof(km_args, format) },
        { "--threads", offsetof(km_args, threads) },   { "--batch-size", offsetof(km_args, batch_size) },
    };
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
            continue;
        }
        if (strcmp(arg, "--standardize") == 0) {
            a->standardize = 1;
            continue;
        }
        size_t k = 0, nf = sizeof flags / sizeof *flags;
        for (; k < nf; k++) {
            size_t len = strlen(flags[k].name);
            if (strncmp(arg, flags[k].name, len) == 0 && (arg[len] == '\0' || (arg[len] == '=' && arg[1] == '-')))
                break;
        }
        if (k == nf)
            return cli_error(EXIT_USAGE, "kmeans: unknown argument '%s' (see --help)", arg);
        int rc = set((const char **)((char *)a + flags[k].offset), argc, argv, &i);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_number(double *out, const char *s, const char *flag)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v) || v < 0)
        return cli_error(EXIT_USAGE, "kmeans: %s '%s' is not a number >= 0", flag, s);
    *out = v;
    return 0;
}

/* The fit and its output. */
static int run(const km_args *a)
{
    table pts, init = { 0 };
    int rc = read_table(&pts, a->points, a->columns, "points");
    size_t n = pts.rows, d = pts.n_names;
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    uint32_t u;
    double tol = 0, seed = 0;
    if (!rc && a->k && (cli_parse_uint(&u, a->k, PERSONA_KMEANS_MAX_K) || !u))
        rc = cli_error(EXIT_USAGE, "kmeans: -k '%s': 1 to %d", a->k, PERSONA_KMEANS_MAX_K);
    else if (!rc && a->k)
        o.k = u;
    if (!rc && a->max_iter && (cli_parse_uint(&o.max_iter, a->max_iter, 1000000000) || !o.max_iter))
        rc = cli_error(EXIT_USAGE, "kmeans: --max-iter '%s': a positive number", a->max_iter);
    if (!rc && a->threads && cli_parse_uint(&o.threads, a->threads, 1024))
        rc = cli_error(EXIT_USAGE, "kmeans: --threads '%s': a number", a->threads);
    if (!rc && a->tol && !(rc = parse_number(&tol, a->tol, "--tol")))
        o.tol = tol > 0 ? tol : 5e-324; /* 0: stop only when nothing moves */
    if (!rc && a->seed && !(rc = parse_number(&seed, a->seed, "--seed")))
        o.seed = (uint64_t)seed;
    if (!rc && a->batch_size && (cli_parse_uint(&o.batch_size, a->batch_size, UINT32_MAX) || !o.batch_size))
        rc = cli_error(EXIT_USAGE, "kmeans: --batch-size '%s': a positive number", a->batch_size);
    if (!rc && a->algorithm) {
        static const char *const names[] = { "auto", "lloyd", "hamerly", "elkan", "minibatch" };
        int32_t alg = 0, n_names = (int32_t)(sizeof names / sizeof *names);
        while (alg < n_names && strcmp(a->algorithm, names[alg]) != 0)
            alg++; /* the index is the PERSONA_KMEANS_* value */
        if (alg == n_names)
            rc = cli_error(EXIT_USAGE, "kmeans: --algorithm '%s': auto, lloyd, hamerly, elkan or minibatch",
                           a->algorithm);
        o.algorithm = alg;
    }
    if (!rc && a->format && strcmp(a->format, "csv") != 0 && strcmp(a->format, "json") != 0)
        rc = cli_error(EXIT_USAGE, "kmeans: --format '%s': csv or json", a->format);
    if (!rc && n == 0)
        rc = cli_error(EXIT_RUNTIME, "kmeans: %s has no rows", a->points);
    /* standardization: z-scores (a column without spread is left centred at 0) */
    double *mean = !rc ? calloc(d, sizeof *mean) : NULL, *sd = !rc ? calloc(d, sizeof *sd) : NULL;
    if (!rc && (!mean || !sd))
        rc = cli_error(EXIT_RUNTIME, "out of memory");
    for (size_t j = 0; !rc && j < d; j++) {
        sd[j] = 1;
        if (!a->standardize)
            continue;
        double s = 0, q = 0;
        for (size_t i = 0; i < n; i++)
            s += pts.v[i * d + j];
        mean[j] = s / (double)n;
        for (size_t i = 0; i < n; i++)
            q += (pts.v[i * d + j] - mean[j]) * (pts.v[i * d + j] - mean[j]);
        sd[j] = q > 0 ? sqrt(q / (double)n) : 1;
        for (size_t i = 0; i < n; i++)
            pts.v[i * d + j] = (pts.v[i * d + j] - mean[j]) / sd[j];
    }
    if (!rc && a->init && strcmp(a->init, "kmeans++") != 0 && strcmp(a->init, "k-means++") != 0) {
        char *want = malloc(d * 4097 + 1); /* the points' column names, comma-separated */
        if (want) {
            want[0] = '\0';
            for (size_t j = 0; j < d; j++) {
                strcat(want, j ? "," : "");
                strcat(want, pts.names[j]);
            }
        }
        rc = want ? read_table(&init, a->init, want, "init") : cli_error(EXIT_RUNTIME, "out of memory");
        free(want);
        if (!rc && a->k && init.rows != o.k)
            rc = cli_error(EXIT_USAGE, "kmeans: %s has %zu centres, -k is %u", a->init, init.rows, o.k);
        if (!rc) {
            o.k = (uint32_t)init.rows;
            for (size_t i = 0; i < init.rows; i++)
                for (size_t j = 0; j < d; j++)
                    init.v[i * d + j] = (init.v[i * d + j] - mean[j]) / sd[j];
            o.init_centers = init.v;
        }
    }
    persona_kmeans *m = NULL;
    uint32_t *labels = !rc ? malloc(n * sizeof *labels) : NULL;
    if (!rc && !labels)
        rc = cli_error(EXIT_RUNTIME, "out of memory");
    if (!rc && persona_kmeans_fit(&m, pts.v, n, d, &o, labels))
        rc = cli_lib_error("kmeans");
    persona_kmeans_info info = PERSONA_KMEANS_INFO_INIT;
    double *c = NULL;
    uint64_t *sizes = NULL;
    if (!rc) {
        persona_kmeans_info_get(&info, m);
        c = malloc((size_t)info.k * d * sizeof *c);
        sizes = malloc(info.k * sizeof *sizes);
        if (!c || !sizes)
            rc = cli_error(EXIT_RUNTIME, "out of memory");
    }
    if (!rc) {
        persona_kmeans_centers(c, (size_t)info.k * d, m);
        persona_kmeans_sizes(sizes, info.k, m);
        for (size_t i = 0; i < info.k; i++) /* back to the original units */
            for (size_t j = 0; j < d; j++)
                c[i * d + j] = c[i * d + j] * sd[j] + mean[j];
        cli_options out = { 0 };
        out.output = a->output;
        FILE *f = cli_open_output(&out);
        if (!f) {
            rc = EXIT_RUNTIME;
        } else if (a->format && strcmp(a->format, "json") == 0) {
            fputs("{\"centers\": [", f);
            for (size_t i = 0; i < info.k; i++) {
                fputs(i ? ", [" : "[", f);
                for (size_t j = 0; j < d; j++)
                    fprintf(f, "%s%.17g", j ? ", " : "", c[i * d + j]);
                fputc(']', f);
            }
            fprintf(f, "], \"inertia\": %.17g, \"iterations\": %u, \"converged\": %s, \"sizes\": [", info.inertia,
                    info.iterations, info.converged ? "true" : "false");
            for (size_t i = 0; i < info.k; i++)
                fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)sizes[i]);
            fputs("]}\n", f);
            rc = cli_close_output(f, &out);
        } else {
            fputs("cluster", f);
            for (size_t j = 0; j < d; j++)
                fprintf(f, ",%s", pts.names[j]);
            fputc('\n', f);
            for (size_t i = 0; i < info.k; i++) {
                fprintf(f, "%zu", i);
                for (size_t j = 0; j < d; j++)
                    fprintf(f, ",%.17g", c[i * d + j]);
                fputc('\n', f);
            }
            rc = cli_close_output(f, &out);
        }
    }
    if (!rc && a->labels) {
        FILE *lf = fopen(a->labels, "w");
        if (!lf)
            rc = cli_error(EXIT_RUNTIME, "kmeans: %s: %s", a->labels, strerror(errno));
        else {
            fputs("cluster\n", lf);
            for (size_t i = 0; i < n; i++)
                fprintf(lf, "%u\n", labels[i]);
            if (fclose(lf))
                rc = cli_error(EXIT_RUNTIME, "kmeans: %s: %s", a->labels, strerror(errno));
        }
    }
    persona_kmeans_free(m);
    free(labels);
    free(c);
    free(sizes);
    free(mean);
    free(sd);
    table_free(&pts);
    table_free(&init);
    return rc;
}

int cmd_kmeans(int argc, char **argv)
{
    km_args a;
    int rc = parse(&a, argc, argv);
    if (rc)
        return rc;
    if (a.help) {
        fputs(help, stdout);
        return 0;
    }
    if (!a.points)
        return cli_error(EXIT_USAGE, "kmeans: --points FILE.csv is required (see --help)");
    return run(&a);
}
