/* Helpers of the commands that read points from a CSV of numbers (kmeans.c, hclust.c): the
 * table of points and the parsing of their flags. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_COLUMNS 4096

void cli_table_free(cli_table *t)
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

int cli_table_read(cli_table *t, const char *cmd, const char *path, const char *want,
                   const char *what)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_error(EXIT_RUNTIME, "%s: %s: %s", cmd, path, strerror(errno));
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
            rc = cli_error(EXIT_RUNTIME, "%s: %s:%zu: line longer than %zu bytes", cmd, path, lineno, cap - 2);
            break;
        }
        if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
            continue;
        size_t n = split_line(line, fields, MAX_COLUMNS);
        if (n > MAX_COLUMNS) {
            rc = cli_error(EXIT_RUNTIME, "%s: %s:%zu: more than %d columns", cmd, path, lineno, MAX_COLUMNS);
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
                    rc = cli_error(EXIT_USAGE, "%s: %s has no column '%s'", cmd, path, name);
                else if (t->n_names == MAX_COLUMNS)
                    rc = cli_error(EXIT_USAGE, "%s: more than %d columns", cmd, MAX_COLUMNS);
                else {
                    col[t->n_names] = c;
                    t->names[t->n_names++] = strdup(name);
                }
            }
            free(list);
            if (!rc && t->n_names == 0)
                rc = cli_error(EXIT_USAGE, "%s: --columns names no column", cmd);
            continue;
        }
        if (n != n_header) {
            rc = cli_error(EXIT_RUNTIME, "%s: %s:%zu: %zu fields, the header has %zu", cmd, path, lineno, n,
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
                rc = cli_error(EXIT_RUNTIME, "%s: %s:%zu: %s column '%s' is '%.40s', not a finite number", cmd,
                               path, lineno, what, t->names[c], s);
            t->v[t->rows * t->n_names + c] = x;
        }
        t->rows++;
    }
    if (!rc && lineno == 0)
        rc = cli_error(EXIT_RUNTIME, "%s: %s is empty (a header row is needed)", cmd, path);
done:
    free(line);
    free(fields);
    free(col);
    fclose(f);
    return rc;
}

void cli_table_standardize(cli_table *t, int standardize, double *mean, double *sd)
{
    size_t n = t->rows, d = t->n_names;
    for (size_t j = 0; j < d; j++) {
        mean[j] = 0;
        sd[j] = 1;
        if (!standardize || n == 0)
            continue;
        double s = 0, q = 0;
        for (size_t i = 0; i < n; i++)
            s += t->v[i * d + j];
        mean[j] = s / (double)n;
        for (size_t i = 0; i < n; i++)
            q += (t->v[i * d + j] - mean[j]) * (t->v[i * d + j] - mean[j]);
        sd[j] = q > 0 ? sqrt(q / (double)n) : 1;
        for (size_t i = 0; i < n; i++)
            t->v[i * d + j] = (t->v[i * d + j] - mean[j]) / sd[j];
    }
}

int cli_write_labels(const char *cmd, const char *path, const uint32_t *labels, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return cli_error(EXIT_RUNTIME, "%s: %s: %s", cmd, path, strerror(errno));
    fputs("cluster\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u\n", labels[i]);
    if (fclose(f))
        return cli_error(EXIT_RUNTIME, "%s: %s: %s", cmd, path, strerror(errno));
    return 0;
}

int cli_parse_flags(const char *cmd, void *args, const cli_flag *flags, size_t n_flags,
                    const cli_flag *switches, size_t n_switches, int *help, int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = 1;
            continue;
        }
        size_t s = 0;
        while (s < n_switches && strcmp(arg, switches[s].name) != 0)
            s++;
        if (s < n_switches) {
            *(int *)((char *)args + switches[s].offset) = 1;
            continue;
        }
        size_t k = 0;
        for (; k < n_flags; k++) {
            size_t len = strlen(flags[k].name);
            if (strncmp(arg, flags[k].name, len) == 0 && (arg[len] == '\0' || (arg[len] == '=' && arg[1] == '-')))
                break;
        }
        if (k == n_flags)
            return cli_error(EXIT_USAGE, "%s: unknown argument '%s' (see --help)", cmd, arg);
        const char **slot = (const char **)((char *)args + flags[k].offset);
        const char *eq = strchr(arg, '=');
        if (eq && strncmp(arg, "--", 2) == 0) {
            *slot = eq + 1;
        } else if (i + 1 >= argc) {
            return cli_error(EXIT_USAGE, "%s: %s needs a value", cmd, arg);
        } else {
            *slot = argv[++i];
        }
    }
    return 0;
}
