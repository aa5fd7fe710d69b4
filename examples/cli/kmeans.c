/* `persona kmeans`: k-means of the points of a CSV file (include/persona/kmeans.h,
 * docs/kmeans.md). Output: the centres as `cluster,<column>…` (CSV) or
 * {centers, inertia, iterations, sizes} (JSON); --labels FILE writes each row's cluster. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct km_args {
    const char *points, *columns, *k, *init, *seed, *max_iter, *tol, *algorithm, *labels;
    const char *output, *format, *threads, *batch_size, *views, *view_weights, *gamma, *save;
    int standardize, help;
} km_args;

#define MAX_VIEWS 64

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
    "  --algorithm auto|lloyd|hamerly|elkan|minibatch  auto = lloyd up to 16 clusters,\n"
    "                       hamerly beyond; lloyd, hamerly and elkan give the same\n"
    "                       result; minibatch is approximate\n"
    "  --batch-size N       points per mini-batch step (default 1024)\n"
    "  --views V=A,B;W=C    multi-view k-means: each view's columns (every column in one)\n"
    "  --view-weights 0.7,0.3  fixed weights of the views, in --views order (default: learned)\n"
    "  --gamma G            the exponent of the view weights, > 1 (default 2)\n"
    "  --save FILE          save the model (persona_kmeans_save; of the standardized columns\n"
    "                       with --standardize)\n"
    "  --standardize        fit on z-scores of the columns; centres are shown in the\n"
    "                       original units\n"
    "  --threads N          threads (default: every CPU; the result does not depend on it)\n"
    "  --labels FILE        write `cluster` and each row's cluster, in row order\n"
    "  --format csv|json    csv: cluster,<column>... ; json: {centers, inertia, iterations, sizes}\n"
    "  -o FILE              output file (default stdout)\n";

static int parse(km_args *a, int argc, char **argv)
{
    static const cli_flag flags[] = {
        { "--points", offsetof(km_args, points) },     { "--columns", offsetof(km_args, columns) },
        { "-k", offsetof(km_args, k) },                { "--init", offsetof(km_args, init) },
        { "--seed", offsetof(km_args, seed) },         { "--max-iter", offsetof(km_args, max_iter) },
        { "--tol", offsetof(km_args, tol) },           { "--algorithm", offsetof(km_args, algorithm) },
        { "--labels", offsetof(km_args, labels) },     { "-o", offsetof(km_args, output) },
        { "--output", offsetof(km_args, output) },     { "--format", offsetof(km_args, format) },
        { "--threads", offsetof(km_args, threads) },   { "--batch-size", offsetof(km_args, batch_size) },
        { "--views", offsetof(km_args, views) },       { "--view-weights", offsetof(km_args, view_weights) },
        { "--gamma", offsetof(km_args, gamma) },       { "--save", offsetof(km_args, save) },
    };
    static const cli_flag switches[] = { { "--standardize", offsetof(km_args, standardize) } };
    memset(a, 0, sizeof *a);
    return cli_parse_flags("kmeans", a, flags, sizeof flags / sizeof *flags, switches, 1, &a->help,
                           argc, argv);
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

/* --views "V=A,B;W=C" over the table's columns: view_of (d), the names (borrowed from a
 * copy of the text in *text, freed by the caller), their count; --view-weights and --gamma
 * into v. 0 or an exit code. */
static int parse_views(persona_kmeans_views *v, uint32_t *view_of, char **names, char **text,
                       double *weights, const km_args *a, const cli_table *t)
{
    size_t d = t->n_names;
    for (size_t j = 0; j < d; j++)
        view_of[j] = UINT32_MAX;
    *text = strdup(a->views);
    if (!*text)
        return cli_error(EXIT_RUNTIME, "out of memory");
    uint32_t nv = 0;
    char *save_view = NULL;
    for (char *view = strtok_r(*text, ";", &save_view); view; view = strtok_r(NULL, ";", &save_view)) {
        char *eq = strchr(view, '=');
        if (!eq || eq == view || nv == MAX_VIEWS)
            return cli_error(EXIT_USAGE, "kmeans: --views: '%s' is not NAME=COLUMN,... (at most "
                                         "%d views)", view, MAX_VIEWS);
        *eq = '\0';
        names[nv] = view;
        char *save_col = NULL;
        for (char *col = strtok_r(eq + 1, ",", &save_col); col; col = strtok_r(NULL, ",", &save_col)) {
            size_t j = 0;
            while (j < d && strcmp(t->names[j], col) != 0)
                j++;
            if (j == d)
                return cli_error(EXIT_USAGE, "kmeans: --views: view '%s' names column '%s', "
                                             "not among the points' columns", view, col);
            if (view_of[j] != UINT32_MAX)
                return cli_error(EXIT_USAGE, "kmeans: --views: column '%s' is in two views", col);
            view_of[j] = nv;
        }
        nv++;
    }
    for (size_t j = 0; j < d; j++)
        if (view_of[j] == UINT32_MAX)
            return cli_error(EXIT_USAGE, "kmeans: --views: column '%s' is in no view", t->names[j]);
    v->n_views = nv;
    v->view_of = view_of;
    if (a->view_weights) {
        const char *p = a->view_weights;
        for (uint32_t q = 0; q < nv; q++) {
            char *end = NULL;
            weights[q] = strtod(p, &end);
            if (end == p || (*end != ',' && *end != '\0') || (*end == '\0' && q + 1 < nv) ||
                (*end == ',' && q + 1 == nv))
                return cli_error(EXIT_USAGE, "kmeans: --view-weights '%s': %u numbers, one a view",
                                 a->view_weights, nv);
            p = end + (*end == ',');
        }
        v->weights = weights;
    }
    if (a->gamma) {
        char *end = NULL;
        v->gamma = strtod(a->gamma, &end);
        if (!*a->gamma || *end)
            return cli_error(EXIT_USAGE, "kmeans: --gamma '%s' is not a number", a->gamma);
    }
    return 0;
}

/* The fit and its output. */
static int run(const km_args *a)
{
    cli_table pts, init = { 0 };
    int rc = cli_table_read(&pts, "kmeans", a->points, a->columns, "points");
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
    double *mean = !rc ? calloc(d, sizeof *mean) : NULL, *sd = !rc ? calloc(d, sizeof *sd) : NULL;
    if (!rc && (!mean || !sd))
        rc = cli_error(EXIT_RUNTIME, "out of memory");
    if (!rc)
        cli_table_standardize(&pts, a->standardize, mean, sd);
    if (!rc && a->init && strcmp(a->init, "kmeans++") != 0 && strcmp(a->init, "k-means++") != 0) {
        char *want = malloc(d * 4097 + 1); /* the points' column names, comma-separated */
        if (want) {
            want[0] = '\0';
            for (size_t j = 0; j < d; j++) {
                strcat(want, j ? "," : "");
                strcat(want, pts.names[j]);
            }
        }
        rc = want ? cli_table_read(&init, "kmeans", a->init, want, "init") : cli_error(EXIT_RUNTIME, "out of memory");
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
    persona_kmeans_views views = PERSONA_KMEANS_VIEWS_INIT;
    uint32_t *view_of = !rc && a->views ? malloc(d * sizeof *view_of) : NULL;
    char *view_names[MAX_VIEWS], *view_text = NULL;
    double view_w[MAX_VIEWS];
    if (!rc && a->views)
        rc = view_of ? parse_views(&views, view_of, view_names, &view_text, view_w, a, &pts)
                     : cli_error(EXIT_RUNTIME, "out of memory");
    else if (!rc && (a->view_weights || a->gamma))
        rc = cli_error(EXIT_USAGE, "kmeans: --view-weights and --gamma need --views");
    if (!rc && (a->views ? persona_kmeans_fit_views(&m, pts.v, n, d, &views, &o, labels)
                         : persona_kmeans_fit(&m, pts.v, n, d, &o, labels)))
        rc = cli_lib_error("kmeans");
    if (!rc && a->save && persona_kmeans_save(m, a->save))
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
            fputc(']', f);
            if (a->views) {
                double w[MAX_VIEWS], within[MAX_VIEWS];
                persona_kmeans_views_get(w, within, MAX_VIEWS, m);
                fputs(", \"views\": {", f);
                for (uint32_t q = 0; q < views.n_views; q++)
                    fprintf(f, "%s\"%s\": {\"weight\": %.17g, \"within\": %.17g}", q ? ", " : "",
                            view_names[q], w[q], within[q]);
                fprintf(f, "}, \"rounds\": %u", info.rounds);
            }
            fputs("}\n", f);
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
    if (!rc && a->labels)
        rc = cli_write_labels("kmeans", a->labels, labels, n);
    persona_kmeans_free(m);
    free(view_of);
    free(view_text);
    free(labels);
    free(c);
    free(sizes);
    free(mean);
    free(sd);
    cli_table_free(&pts);
    cli_table_free(&init);
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
