/* The segment commands. `segment rules`: named rule segments (include/persona/segment.h,
 * docs/rules.md) evaluated on every profile of a store: memberships, a summary, or one
 * user's explanation. `segment rfm`: recency / frequency / monetary scores and the named
 * RFM segments (include/persona/rfm.h, docs/rfm.md). `segment kmeans`: k-means clusters of
 * a feature matrix of the store's users (include/persona/features.h, docs/features.md). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_LISTS 64
#define MAX_CONTEXTS 64

typedef struct seg_args {
    const char *cmd; /* "segment rules" */
    /* as given */
    const char *rules, *model, *save, *mode, *now, *threads, *explain, *paths;
    const char *lists[MAX_LISTS];
    size_t n_lists;
    const char *contexts[MAX_CONTEXTS];
    size_t n_contexts;
    int summary;
    char **rest; /* argv for cli_parse() */
    int n_rest;
    /* resolved */
    int32_t mode_id;
    uint32_t n_threads;
    persona_eval_context ctx;
    char *ctx_buf;
    const char **ctx_names, **ctx_values;
    /* the model's segment names, by index */
    char **names;
    size_t n_segments;
} seg_args;

enum { F_RULES, F_MODEL, F_SAVE, F_MODE, F_NOW, F_THREADS, F_EXPLAIN, F_LIST, F_CONTEXT, F_PATHS };

/* The flags of `segment rules`, taken out of argv before cli_parse() sees the rest (input,
 * mapping, -o, --format, --store, --utc-offset). */
static const struct {
    const char *name;
    int id;
} seg_flags[] = {
    { "--rules", F_RULES },     { "--model", F_MODEL },   { "-m", F_MODEL },
    { "--save", F_SAVE },       { "--mode", F_MODE },     { "--now", F_NOW },
    { "--threads", F_THREADS }, { "--explain", F_EXPLAIN }, { "--list", F_LIST },
    { "--context", F_CONTEXT }, { "--paths", F_PATHS },
};

static int seg_flag(const char *flag)
{
    for (size_t k = 0; k < sizeof seg_flags / sizeof *seg_flags; k++)
        if (strcmp(flag, seg_flags[k].name) == 0)
            return (int)k;
    return -1;
}

static void seg_args_free(seg_args *a)
{
    free(a->rest);
    free(a->ctx_buf);
    free(a->ctx_names);
    free(a->ctx_values);
    for (size_t i = 0; a->names && i < a->n_segments; i++)
        free(a->names[i]);
    free(a->names);
}

/* Split argv: the segment flags into a, everything else into a->rest for cli_parse(),
 * whose argv[1] is a->cmd so that its messages name "segment rules". */
static int split_args(seg_args *a, int argc, char **argv)
{
    if (cli_rest_init(&a->rest, &a->n_rest, argc, argv, a->cmd, 0))
        return EXIT_RUNTIME;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--summary") == 0) {
            a->summary = 1;
            continue;
        }
        const char *v;
        int k = cli_next_own_flag(a->cmd, argc, argv, &i, seg_flag, a->rest, &a->n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k < 0)
            continue;
        const char **one = NULL;
        switch (seg_flags[k].id) {
        case F_RULES: one = &a->rules; break;
        case F_MODEL: one = &a->model; break;
        case F_SAVE: one = &a->save; break;
        case F_MODE: one = &a->mode; break;
        case F_NOW: one = &a->now; break;
        case F_THREADS: one = &a->threads; break;
        case F_EXPLAIN: one = &a->explain; break;
        case F_PATHS: one = &a->paths; break;
        case F_LIST:
            if (a->n_lists == MAX_LISTS)
                return cli_error(EXIT_USAGE, "%s: at most %d --list options", a->cmd, MAX_LISTS);
            a->lists[a->n_lists++] = v;
            break;
        default:
            if (a->n_contexts == MAX_CONTEXTS)
                return cli_error(EXIT_USAGE, "%s: at most %d --context options", a->cmd,
                                 MAX_CONTEXTS);
            a->contexts[a->n_contexts++] = v;
            break;
        }
        if (one) {
            if (*one)
                return cli_error(EXIT_USAGE, "%s: %s is given twice", a->cmd, seg_flags[k].name);
            *one = v;
        }
    }
    a->rest[a->n_rest] = NULL;
    return 0;
}

/* --context k=v,... (every --context) into a->ctx: hour=N sets ctx.hour, the others are
 * the ctx.* fields. */
static int resolve_context(seg_args *a)
{
    size_t total = 0, n = 0;
    for (size_t i = 0; i < a->n_contexts; i++)
        total += strlen(a->contexts[i]) + 1;
    if (!a->n_contexts)
        return 0;
    a->ctx_buf = malloc(total);
    a->ctx_names = malloc(sizeof *a->ctx_names * total);
    a->ctx_values = malloc(sizeof *a->ctx_values * total);
    if (!a->ctx_buf || !a->ctx_names || !a->ctx_values)
        return cli_error(EXIT_RUNTIME, "out of memory");
    char *p = a->ctx_buf;
    int hour_given = 0;
    for (size_t i = 0; i < a->n_contexts; i++) {
        const char *spec = a->contexts[i];
        size_t len = strlen(spec);
        memcpy(p, spec, len + 1);
        for (char *tok = p;;) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma = '\0';
            char *eq = strchr(tok, '=');
            if (!eq || eq == tok)
                return cli_error(EXIT_USAGE, "%s: --context wants NAME=VALUE[,NAME=VALUE...], "
                                             "got '%s'", a->cmd, spec);
            *eq = '\0';
            const char *value = eq + 1;
            int dup = strcmp(tok, "hour") == 0 ? hour_given : 0;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(a->ctx_names[j], tok) == 0;
            if (dup)
                return cli_error(EXIT_USAGE, "%s: --context: '%s' is given twice", a->cmd, tok);
            if (strcmp(tok, "hour") == 0) {
                uint32_t h;
                if (cli_parse_uint(&h, value, 23))
                    return cli_error(EXIT_USAGE, "%s: --context hour wants 0 ... 23, got '%s'",
                                     a->cmd, value);
                a->ctx.hour = (int32_t)h;
                hour_given = 1;
            } else {
                a->ctx_names[n] = tok;
                a->ctx_values[n] = value;
                n++;
            }
            if (!comma)
                break;
            tok = comma + 1;
        }
        p += len + 1;
    }
    a->ctx.count = n;
    a->ctx.names = n ? a->ctx_names : NULL;
    a->ctx.values = n ? a->ctx_values : NULL;
    return 0;
}

/* Every flag into a (mode, evaluation context, threads); 0 or an exit code. */
static int resolve(seg_args *a, const cli_options *o)
{
    persona_eval_context_init(&a->ctx, sizeof a->ctx);
    if (!a->rules && !a->model)
        return cli_error(EXIT_USAGE, "%s: --rules RULES is required (a rule-set file, docs/rules.md), "
                                     "or -m MODEL to use a model saved with --save", a->cmd);
    if (a->rules && a->model)
        return cli_error(EXIT_USAGE, "%s: give --rules RULES or -m MODEL, not both", a->cmd);
    if (a->rules && !*a->rules)
        return cli_error(EXIT_USAGE, "%s: --rules wants a file name", a->cmd);
    a->mode_id = -1;
    if (a->mode) {
        if (strcmp(a->mode, "first") == 0)
            a->mode_id = PERSONA_SEGMENT_FIRST_MATCH;
        else if (strcmp(a->mode, "all") == 0)
            a->mode_id = PERSONA_SEGMENT_ALL_MATCHES;
        else
            return cli_error(EXIT_USAGE, "%s: --mode wants first or all, got '%s'", a->cmd,
                             a->mode);
    }
    if (a->explain && a->summary)
        return cli_error(EXIT_USAGE, "%s: --explain and --summary each print another table: "
                                     "give one", a->cmd);
    if (a->explain && !*a->explain)
        return cli_error(EXIT_USAGE, "%s: --explain wants a user key", a->cmd);
    if (a->explain && o->format && strcmp(o->format, "text") != 0)
        return cli_error(EXIT_USAGE, "%s: --explain prints plain text (no --format %s)", a->cmd,
                         o->format);
    if (!a->explain && o->format && strcmp(o->format, "text") == 0)
        return cli_error(EXIT_USAGE, "%s: --format wants csv or json (text is for --explain)",
                         a->cmd);
    if (a->now &&
        persona_time_parse(&a->ctx.now_ms, a->now, strlen(a->now), NULL,
                           o->map.time_offset_minutes) != PERSONA_OK)
        return cli_error(EXIT_USAGE, "%s: --now '%s': %s", a->cmd, a->now, persona_errmsg());
    if (a->threads && cli_parse_uint(&a->n_threads, a->threads, 1024))
        return cli_error(EXIT_USAGE, "%s: --threads wants a number 0 ... 1024 (0 = the "
                                     "machine's cores), got '%s'", a->cmd, a->threads);
    for (size_t i = 0; i < a->n_lists; i++) {
        const char *eq = strchr(a->lists[i], '=');
        if (!eq || eq == a->lists[i] || !eq[1])
            return cli_error(EXIT_USAGE, "%s: --list wants NAME=KEYFILE, got '%s'", a->cmd,
                             a->lists[i]);
    }
    if (a->rules && strcmp(a->rules, "-") == 0 && o->file && strcmp(o->file, "-") == 0)
        return cli_error(EXIT_USAGE, "%s: --rules - and FILE - cannot both read standard input",
                         a->cmd);
    return resolve_context(a);
}

/* A parse error of the rule file: "FILE:LINE:COLUMN: message". The library's message
 * starts "line L, column C" (then ": msg" or " (segment 'x'): msg"); that prefix is
 * replaced by the position, so the segment reads "segment 'x': msg". */
static int rules_parse_error(const char *path)
{
    const char *msg = persona_errmsg();
    uint64_t line = 0, column = 0;
    persona_error_position(&line, &column);
    unsigned long long l, c;
    int used = 0;
    if (sscanf(msg, "line %llu, column %llu%n", &l, &c, &used) == 2 && used > 0) {
        const char *rest = msg + used;
        if (strncmp(rest, ": ", 2) == 0) {
            msg = rest + 2;
        } else if (strncmp(rest, " (segment ", 10) == 0) {
            const char *close = strstr(rest, "): ");
            if (close)
                return cli_error(EXIT_RUNTIME, "%s:%llu:%llu: %.*s: %s",
                                 path, (unsigned long long)line, (unsigned long long)column,
                                 (int)(close - rest - 2), rest + 2, close + 3);
        }
    }
    if (column)
        return cli_error(EXIT_RUNTIME, "%s:%llu:%llu: %s", path, (unsigned long long)line,
                         (unsigned long long)column, msg);
    if (line)
        return cli_error(EXIT_RUNTIME, "%s:%llu: %s", path, (unsigned long long)line, msg);
    return cli_error(EXIT_RUNTIME, "%s: %s", path, msg);
}

/* --list NAME=KEYFILE: a static list segment of the user keys in KEYFILE, one per line (a
 * trailing CR is dropped, empty lines are skipped). */
static int add_list(seg_args *a, persona_segment_model *m, const char *spec)
{
    const char *eq = strchr(spec, '=');
    size_t name_len = (size_t)(eq - spec);
    const char *path = eq + 1;
    char *name = malloc(name_len + 1);
    if (!name)
        return cli_error(EXIT_RUNTIME, "out of memory");
    memcpy(name, spec, name_len);
    name[name_len] = '\0';
    size_t len = 0;
    char *text = cli_read_file(a->cmd, "--list ", path, &len);
    if (!text) {
        free(name);
        return EXIT_RUNTIME;
    }
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == '\n';
    const char **keys = malloc(sizeof *keys * cap);
    size_t *lines = malloc(sizeof *lines * cap);
    int rc = 0;
    if (!keys || !lines) {
        rc = cli_error(EXIT_RUNTIME, "out of memory");
        goto done;
    }
    size_t n = 0, line = 0;
    for (size_t start = 0; start < len;) {
        size_t stop = start;
        while (stop < len && text[stop] != '\n')
            stop++;
        size_t next = stop + 1, klen = stop - start;
        line++;
        if (klen && text[stop - 1] == '\r')
            klen--;
        if (memchr(text + start, '\0', klen)) {
            rc = cli_error(EXIT_RUNTIME, "%s: --list %s:%zu: a key holds a NUL byte", a->cmd,
                           path, line);
            goto done;
        }
        text[start + klen] = '\0';
        if (klen) {
            keys[n] = text + start;
            lines[n] = line;
            n++;
        }
        start = next;
    }
    int lrc = persona_segment_model_add_list(m, name, keys, n);
    if (lrc == PERSONA_EINVAL) {
        size_t bad;
        if (sscanf(persona_errmsg(), "list key %zu", &bad) == 1 && bad < n)
            rc = cli_error(EXIT_RUNTIME, "%s: --list %s:%zu: the key is too long or not valid "
                                         "UTF-8", a->cmd, path, lines[bad]);
        else
            rc = cli_error(EXIT_USAGE, "%s: --list %s: %s", a->cmd, spec, persona_errmsg());
    } else if (lrc != PERSONA_OK) {
        rc = cli_lib_error("--list");
    }
done:
    free(keys);
    free(lines);
    free(text);
    free(name);
    return rc;
}

/* The model of --rules or -m, with the --list segments appended; 0 or an exit code. */
static int build_model(persona_segment_model **out, seg_args *a)
{
    persona_segment_model *m = NULL;
    int rc = 0;
    *out = NULL;
    if (a->rules) {
        size_t len = 0;
        char *text = cli_read_file(a->cmd, "--rules ", a->rules, &len);
        if (!text)
            return EXIT_RUNTIME;
        persona_segment_options opts = PERSONA_SEGMENT_OPTIONS_INIT;
        opts.mode = a->mode_id < 0 ? PERSONA_SEGMENT_FIRST_MATCH : a->mode_id;
        int lrc = persona_segment_model_compile(&m, text, len, &opts);
        free(text);
        if (lrc == PERSONA_EPARSE)
            return rules_parse_error(strcmp(a->rules, "-") == 0 ? "<stdin>" : a->rules);
        if (lrc != PERSONA_OK)
            return cli_error(EXIT_RUNTIME, "%s: %s", a->rules, persona_errmsg());
    } else {
        if (persona_segment_model_load(&m, a->model) != PERSONA_OK)
            return cli_error(EXIT_RUNTIME, "%s: -m: %s", a->cmd, persona_errmsg());
        int32_t mode = 0;
        persona_segment_model_mode(&mode, m);
        if (a->mode_id >= 0 && a->mode_id != mode) {
            persona_segment_model_free(m);
            return cli_error(EXIT_USAGE, "%s: the saved model's mode is %s, not %s (the mode "
                                         "was fixed when it was compiled)",
                             a->cmd, mode == PERSONA_SEGMENT_ALL_MATCHES ? "all" : "first",
                             a->mode);
        }
    }
    for (size_t i = 0; i < a->n_lists && rc == 0; i++)
        rc = add_list(a, m, a->lists[i]);
    if (rc) {
        persona_segment_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* The segment names, by index, into a->names. */
static int load_names(seg_args *a, const persona_segment_model *m)
{
    size_t n = 0;
    if (persona_segment_model_count(&n, m) != PERSONA_OK)
        return cli_lib_error(a->cmd);
    a->names = calloc(n ? n : 1, sizeof *a->names);
    if (!a->names)
        return cli_error(EXIT_RUNTIME, "out of memory");
    a->n_segments = n;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (persona_segment_model_name(NULL, 0, &len, m, i) != PERSONA_EBUFS)
            return cli_lib_error(a->cmd);
        a->names[i] = malloc(len + 1);
        if (!a->names[i])
            return cli_error(EXIT_RUNTIME, "out of memory");
        if (persona_segment_model_name(a->names[i], len + 1, NULL, m, i) != PERSONA_OK)
            return cli_lib_error(a->cmd);
    }
    return 0;
}

typedef struct member_out {
    FILE *f;
    const seg_args *a;
    int json;
    uint64_t rows;
} member_out;

static int put_member(void *ctx, const char *user, size_t user_len, uint32_t segment)
{
    member_out *w = ctx;
    const char *name = w->a->names[segment];
    if (w->json) {
        fputs(w->rows ? ",\n{\"user\":" : "\n{\"user\":", w->f);
        cli_put_json(w->f, user, user_len);
        fputs(",\"segment\":", w->f);
        cli_put_json(w->f, name, strlen(name));
        fputc('}', w->f);
    } else {
        cli_put_cell(w->f, user, user_len);
        fputc(',', w->f);
        cli_put_cell(w->f, name, strlen(name));
        fputc('\n', w->f);
    }
    w->rows++;
    return ferror(w->f) ? -1 : 0;
}

/* The opening members of the JSON object: mode, now, users. */
static void put_json_head(FILE *f, const persona_segment_model *m, int64_t now, int have_now,
                          uint64_t users)
{
    int32_t mode = 0;
    persona_segment_model_mode(&mode, m);
    fprintf(f, "{\"mode\":\"%s\",\"now\":", mode == PERSONA_SEGMENT_ALL_MATCHES ? "all" : "first");
    char when[40];
    if (have_now && persona_time_format(when, sizeof when, NULL, now, 0) == PERSONA_OK)
        fprintf(f, "\"%s\"", when);
    else
        fputs("null", f);
    fprintf(f, ",\"users\":%llu", (unsigned long long)users);
}

static int scan_error(const seg_args *a, int lrc)
{
    if (lrc == PERSONA_EINVAL)
        return cli_error(EXIT_USAGE, "%s: %s", a->cmd, persona_errmsg());
    return cli_lib_error(a->cmd);
}

static int print_members(seg_args *a, const cli_options *o, const persona_segment_model *m,
                         const persona_store *store, int64_t now, int have_now, uint64_t users)
{
    FILE *f = cli_open_output(o);
    if (!f)
        return EXIT_RUNTIME;
    member_out w = { f, a, o->format && strcmp(o->format, "json") == 0, 0 };
    if (w.json) {
        put_json_head(f, m, now, have_now, users);
        fputs(",\"members\":[", f);
    } else {
        fputs("user,segment\n", f);
    }
    int lrc = persona_segment_model_scan(NULL, 0, NULL, m, store, &a->ctx, put_member, &w,
                                         a->n_threads);
    int rc = 0;
    if (lrc == PERSONA_ECALLBACK)
        rc = 0; /* a write error: cli_close_output() reports it */
    else if (lrc != PERSONA_OK)
        rc = scan_error(a, lrc);
    if (w.json && rc == 0)
        fputs(w.rows ? "\n]}\n" : "]}\n", f);
    int crc = cli_close_output(f, o);
    return rc ? rc : crc;
}

static int print_summary(seg_args *a, const cli_options *o, const persona_segment_model *m,
                         const persona_store *store, int64_t now, int have_now, uint64_t users)
{
    uint64_t *counts = calloc(a->n_segments ? a->n_segments : 1, sizeof *counts);
    uint64_t none = 0;
    if (!counts)
        return cli_error(EXIT_RUNTIME, "out of memory");
    int lrc = persona_segment_model_scan(counts, a->n_segments, &none, m, store, &a->ctx, NULL,
                                         NULL, a->n_threads);
    if (lrc != PERSONA_OK) {
        free(counts);
        return scan_error(a, lrc);
    }
    FILE *f = cli_open_output(o);
    if (!f) {
        free(counts);
        return EXIT_RUNTIME;
    }
    int json = o->format && strcmp(o->format, "json") == 0;
    double total = users ? (double)users : NAN;
    if (json) {
        put_json_head(f, m, now, have_now, users);
        fputs(",\"segments\":[", f);
        for (size_t i = 0; i < a->n_segments; i++) {
            fputs(i ? ",\n{\"segment\":" : "\n{\"segment\":", f);
            cli_put_json(f, a->names[i], strlen(a->names[i]));
            fprintf(f, ",\"users\":%llu,\"share\":", (unsigned long long)counts[i]);
            cli_put_num(f, (double)counts[i] / total, 1);
            fputc('}', f);
        }
        fprintf(f, "%s],\"none\":{\"users\":%llu,\"share\":", a->n_segments ? "\n" : "",
                (unsigned long long)none);
        cli_put_num(f, (double)none / total, 1);
        fputs("}}\n", f);
    } else {
        fputs("segment,users,share\n", f);
        for (size_t i = 0; i < a->n_segments; i++) {
            cli_put_cell(f, a->names[i], strlen(a->names[i]));
            fprintf(f, ",%llu,", (unsigned long long)counts[i]);
            cli_put_num(f, (double)counts[i] / total, 0);
            fputc('\n', f);
        }
        fprintf(f, "(none),%llu,", (unsigned long long)none);
        cli_put_num(f, (double)none / total, 0);
        fputc('\n', f);
    }
    free(counts);
    return cli_close_output(f, o);
}

static int print_explain(seg_args *a, const cli_options *o, const persona_segment_model *m,
                         const persona_store *store)
{
    size_t len = 0, cap = 4096;
    char *buf = NULL;
    int lrc;
    for (;;) {
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            return cli_error(EXIT_RUNTIME, "out of memory");
        }
        buf = nb;
        lrc = persona_segment_model_describe(buf, cap, &len, m, store, a->explain, &a->ctx);
        if (lrc != PERSONA_EBUFS || len + 1 <= cap)
            break;
        cap = len + 1;
    }
    if (lrc != PERSONA_OK) {
        free(buf);
        return scan_error(a, lrc);
    }
    persona_profile_info info = PERSONA_PROFILE_INFO_INIT;
    if (persona_store_profile_get(&info, store, a->explain) == PERSONA_ENOTFOUND)
        fprintf(stderr, "persona: %s: note: '%s' is not a user of the store; explained as a "
                        "new visitor (no events, attributes or consent)\n",
                a->cmd, a->explain);
    FILE *f = cli_open_output(o);
    if (!f) {
        free(buf);
        return EXIT_RUNTIME;
    }
    fwrite(buf, 1, len, f);
    if (len && buf[len - 1] != '\n')
        fputc('\n', f);
    free(buf);
    return cli_close_output(f, o);
}

static int run(seg_args *a, int argc, char **argv)
{
    cli_options o;
    persona_segment_model *m = NULL;
    persona_path_model *paths = NULL;
    persona_store *store = NULL;
    int rc = split_args(a, argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    if (rc || (rc = resolve(a, &o)) || (rc = build_model(&m, a)) || (rc = load_names(a, m)))
        goto done;
    if (a->paths && (persona_path_load(&paths, a->paths) != PERSONA_OK ||
                     persona_segment_model_use_paths(m, paths) != PERSONA_OK)) {
        rc = cli_error(EXIT_RUNTIME, "%s: --paths: %s", a->cmd, persona_errmsg());
        goto done;
    }
    if (a->save && persona_segment_model_save(m, a->save) != PERSONA_OK) {
        rc = cli_lib_error("cannot save the model");
        goto done;
    }
    persona_ingest_stats st;
    if ((rc = cli_load(&store, &st, &o)))
        goto done;
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    if (persona_store_info_get(&info, store) != PERSONA_OK) {
        rc = cli_lib_error(a->cmd);
        goto done;
    }
    int have_now = a->ctx.now_ms != PERSONA_NOW_STORE || info.events > 0;
    int64_t now = a->ctx.now_ms != PERSONA_NOW_STORE ? a->ctx.now_ms : info.last_time_ms;
    if (a->explain)
        rc = print_explain(a, &o, m, store);
    else if (a->summary)
        rc = print_summary(a, &o, m, store, now, have_now, info.users);
    else
        rc = print_members(a, &o, m, store, now, have_now, info.users);
done:
    persona_store_free(store);
    persona_segment_model_free(m);
    persona_path_free(paths);
    cli_options_free(&o);
    seg_args_free(a);
    return rc;
}

static int rules_help(void)
{
    fputs(
        "usage: persona segment rules --rules RULES [options] [FILE]\n"
        "       persona segment rules -m MODEL [options] [FILE]\n"
        "\n"
        "Rule segments: evaluate named rules (docs/rules.md) on every profile and print\n"
        "user,segment, one row per membership, in the store's user order (order of first\n"
        "appearance), then the model's segment order; a user in no segment has no row.\n"
        "RULES is a file of 'NAME: expression' segments, in order, e.g.\n"
        "  vip:     value > 1000 and orders >= 5\n"
        "  lapsing: stopped(\"purchase\", 60d) and consent(\"marketing\")\n"
        "A rule that does not compile is an error 'RULES:LINE:COLUMN: message' (exit 1).\n"
        "Cells are CSV-quoted as in the library's exports (a leading = + - @ is prefixed\n"
        "with ').\n"
        "\n"
        "segment rules options:\n"
        "  --rules RULES        the rule-set file ('-' = standard input); required unless -m\n"
        "  -m MODEL, --model MODEL  use a model saved with --save instead of --rules\n"
        "  --save MODEL         also save the model (rules, lists, mode) as a snapshot file\n"
        "                       (not the store)\n"
        "  --mode M             first (default: a user gets the first segment whose rule\n"
        "                       holds) or all (every segment whose rule holds); a saved\n"
        "                       model keeps the mode it was compiled with\n"
        "  --list NAME=KEYFILE  a static list segment NAME: the user keys in KEYFILE, one per\n"
        "                       line (empty lines skipped); appended after the rules (and\n"
        "                       a saved model's segments) in the order given, so the rules\n"
        "                       cannot name it in in_segment(); repeatable\n"
        "  --now TIME           evaluate as of TIME (a date or ISO time, local at\n"
        "                       --utc-offset unless it has a zone): events after it are\n"
        "                       ignored, windows end at it (default: the latest event)\n"
        "  --paths PATHMODEL    a path model saved with 'persona paths --save-model', which\n"
        "                       next_event() in the rules reads (without it next_event()\n"
        "                       is missing for every user)\n"
        "  --context K=V[,K=V...]  request context of every user, read by ctx.K; hour=N\n"
        "                       (0 ... 23) sets ctx.hour; repeatable\n"
        "  --threads N          threads of the scan (0 = the machine's cores, default; at\n"
        "                       most 1024); the result is the same for any number\n"
        "  --summary            print segment,users,share instead: members per segment in\n"
        "                       model order, share = users / all profiles, and a last row\n"
        "                       (none) for the users in no segment\n"
        "  --explain KEY        print, as plain text, why the user KEY is or is not in each\n"
        "                       segment: the clauses that decided it, with their values\n"
        "  --format F           csv (default) or json: one object {mode, now, users,\n"
        "                       members: [{user, segment}...]}; with --summary {mode, now,\n"
        "                       users, segments: [{segment, users, share}...], none: {users,\n"
        "                       share}}\n"
        "  --utc-offset ±HH:MM  offset of --now and of input times written without a zone\n"
        "                       (default +00:00)\n"
        "  --store SNAPSHOT     the events of a store saved with 'persona stats --save' (plus\n"
        "                       FILE's, when given)\n"
        "\n",
        stdout);
    cli_analysis_help();
    return 0;
}

/* ---- flags of segment rfm and segment kmeans ------------------------------------------ */

/* A flag of a kind's own: its name and the offset of its `const char *` in the kind's args. */
typedef struct own_flag {
    const char *name;
    size_t field;
} own_flag;

static int own_flag_index(const own_flag *t, size_t n, const char *flag)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(flag, t[k].name) == 0)
            return (int)k;
    return -1;
}

/* Split argv: the kind's flags (table t, looked up by `lookup`) into args, --summary into
 * *summary, everything else into *rest for cli_parse() (input, mapping, -o, --format,
 * --store, --utc-offset), whose argv[1] is cmd so that its messages name the kind. */
static int split_own_args(const char *cmd, void *args, const own_flag *t, int (*lookup)(const char *),
                          int *summary, char ***rest, int *n_rest, int argc, char **argv)
{
    if (cli_rest_init(rest, n_rest, argc, argv, cmd, 0))
        return EXIT_RUNTIME;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--summary") == 0) {
            *summary = 1;
            continue;
        }
        const char *v;
        int k = cli_next_own_flag(cmd, argc, argv, &i, lookup, *rest, n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k < 0)
            continue;
        const char **slot = (const char **)((char *)args + t[k].field);
        if (*slot)
            return cli_error(EXIT_USAGE, "%s: %s is given twice", cmd, t[k].name);
        *slot = v;
    }
    (*rest)[*n_rest] = NULL;
    return 0;
}

/* A time flag (--as-of, --from) into *out; 0 or an exit code. */
static int parse_time_flag(int64_t *out, const char *cmd, const cli_options *o, const char *flag,
                           const char *v)
{
    if (persona_time_parse(out, v, strlen(v), NULL, o->map.time_offset_minutes) != PERSONA_OK)
        return cli_error(EXIT_USAGE, "%s: %s '%s': %s", cmd, flag, v, persona_errmsg());
    if (*out == 0) /* 0 means "default" in the options */
        return cli_error(EXIT_USAGE, "%s: %s cannot be 1970-01-01 00:00:00.000 UTC itself (it "
                                     "means the default); give a time 1 ms later", cmd, flag);
    return 0;
}

/* ---- segment rfm ---------------------------------------------------------------------- */

typedef struct rfm_args {
    const char *cmd; /* "segment rfm" */
    const char *purchase, *ret, *bins, *as_of, *from, *consent, *save, *model;
    int summary;
    char **rest; /* argv for cli_parse() */
    int n_rest;
    persona_rfm_options opts;
} rfm_args;

/* The flags of `segment rfm`, taken out of argv before cli_parse() sees the rest (input,
 * mapping, -o, --format, --store, --utc-offset). */
static const own_flag rfm_flags[] = {
    { "--purchase-event", offsetof(rfm_args, purchase) },
    { "--return-event", offsetof(rfm_args, ret) },
    { "--bins", offsetof(rfm_args, bins) },
    { "--as-of", offsetof(rfm_args, as_of) },
    { "--from", offsetof(rfm_args, from) },
    { "--consent", offsetof(rfm_args, consent) },
    { "--save", offsetof(rfm_args, save) },
    { "--model", offsetof(rfm_args, model) },
    { "-m", offsetof(rfm_args, model) },
};

static int rfm_flag(const char *flag)
{
    return own_flag_index(rfm_flags, sizeof rfm_flags / sizeof *rfm_flags, flag);
}

static int rfm_split_args(rfm_args *a, int argc, char **argv)
{
    return split_own_args(a->cmd, a, rfm_flags, rfm_flag, &a->summary, &a->rest, &a->n_rest,
                          argc, argv);
}

/* Every flag into a->opts; 0 or an exit code. */
static int rfm_resolve(rfm_args *a, const cli_options *o)
{
    persona_rfm_options_init(&a->opts, sizeof a->opts);
    if (o->format && strcmp(o->format, "csv") != 0 && strcmp(o->format, "json") != 0)
        return cli_error(EXIT_USAGE, "%s: --format wants csv or json, got '%s'", a->cmd,
                         o->format);
    int rc;
    if (a->model) {
        const char *bad = a->purchase ? "--purchase-event" : a->ret ? "--return-event"
                          : a->bins ? "--bins" : a->as_of ? "--as-of" : a->from ? "--from"
                          : a->consent ? "--consent" : o->file ? "FILE" : o->store ? "--store"
                          : o->mapping_given ? "a mapping option" : NULL;
        if (bad)
            return cli_error(EXIT_USAGE, "%s: -m prints a saved result; %s does not apply (the "
                                         "options were fixed when it was built)", a->cmd, bad);
        return 0;
    }
    if (a->bins) {
        uint32_t bins = 0;
        if (cli_parse_uint(&bins, a->bins, 10) || bins < 2)
            return cli_error(EXIT_USAGE, "%s: --bins wants a number 2 ... 10, got '%s'", a->cmd,
                             a->bins);
        a->opts.bins = bins;
    }
    /* with --event-const NAME every event is a NAME: those are the purchases */
    a->opts.purchase_type = a->purchase ? a->purchase
                            : (o->map.event_const && !o->map.event) ? o->map.event_const
                                                                    : NULL;
    a->opts.return_type = a->ret;
    a->opts.consent_purpose = a->consent;
    if (a->as_of && (rc = parse_time_flag(&a->opts.reference_ms, a->cmd, o, "--as-of", a->as_of)))
        return rc;
    if (a->from && (rc = parse_time_flag(&a->opts.from_ms, a->cmd, o, "--from", a->from)))
        return rc;
    return 0;
}

static int rfm_write(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

static int run_rfm(rfm_args *a, int argc, char **argv)
{
    cli_options o;
    persona_rfm *x = NULL;
    persona_store *store = NULL;
    int rc = rfm_split_args(a, argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    if (rc || (rc = rfm_resolve(a, &o)))
        goto done;
    if (a->model) {
        if (persona_rfm_load(&x, a->model) != PERSONA_OK) {
            rc = cli_error(EXIT_RUNTIME, "%s: -m: %s", a->cmd, persona_errmsg());
            goto done;
        }
    } else {
        persona_ingest_stats st;
        if ((rc = cli_load(&store, &st, &o)))
            goto done;
        int brc = persona_rfm_build(&x, store, &a->opts);
        if (brc == PERSONA_EINVAL) {
            rc = cli_error(EXIT_USAGE, "%s: %s", a->cmd, persona_errmsg());
            goto done;
        }
        if (brc != PERSONA_OK) {
            rc = cli_lib_error(a->cmd);
            goto done;
        }
    }
    if (a->save && persona_rfm_save(x, a->save) != PERSONA_OK) {
        rc = cli_lib_error("cannot save the RFM result");
        goto done;
    }
    FILE *f = cli_open_output(&o);
    if (!f) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    int32_t format = o.format && strcmp(o.format, "json") == 0 ? PERSONA_RFM_EXPORT_JSON
                     : a->summary                              ? PERSONA_RFM_EXPORT_SUMMARY_CSV
                                                               : PERSONA_RFM_EXPORT_CSV;
    int erc = persona_rfm_export(x, format, rfm_write, f);
    if (erc != PERSONA_OK && erc != PERSONA_ECALLBACK) /* a write error: reported below */
        rc = cli_lib_error("export");
    int crc = cli_close_output(f, &o);
    rc = rc ? rc : crc;
done:
    persona_rfm_free(x);
    persona_store_free(store);
    cli_options_free(&o);
    free(a->rest);
    return rc;
}

static int rfm_help(void)
{
    fputs(
        "usage: persona segment rfm [options] [FILE]\n"
        "       persona segment rfm -m SAVED [-o OUT] [--summary] [--format F]\n"
        "\n"
        "RFM segmentation (docs/rfm.md): per customer with at least one purchase, recency\n"
        "(whole days from the latest purchase to the reference time), frequency (orders:\n"
        "distinct basket ids, plus one per purchase without a basket) and monetary value\n"
        "(purchases minus returns, summed exactly), scored 1 ... bins by quantiles of their\n"
        "ranks as pandas.qcut(x.rank(method=\"first\"), bins) does (ties in the store's\n"
        "user order; R reversed: the most recent get the highest score), and one of eleven\n"
        "named segments from R and the mean of F and M (Champions, Loyal, Potential\n"
        "loyalist, New, Promising, Need attention, About to sleep, At risk, Can't lose\n"
        "them, Hibernating, Lost).\n"
        "A purchase-type event with a negative value is a return (a cancellation): its value\n"
        "counts in monetary, it is not an order and not a purchase.\n"
        "Output: user,recency_days,frequency,monetary,r,f,m,segment in the store's user\n"
        "order (order of first appearance).\n"
        "\n"
        "segment rfm options:\n"
        "  --purchase-event T   event type of purchases (default: purchase; with\n"
        "                       --event-const NAME, NAME: every row is then a purchase)\n"
        "  --return-event T     event type of returns, whose |value| is subtracted from\n"
        "                       monetary (default: none)\n"
        "  --bins N             score bins 2 ... 10 (default 5)\n"
        "  --as-of TIME         reference time (a date or ISO time, local at --utc-offset\n"
        "                       unless it has a zone): recency counts to it, later events are\n"
        "                       ignored (default: the latest event + 1 day)\n"
        "  --from TIME          ignore events before TIME (e.g. only the last 12 months)\n"
        "  --consent PURPOSE    score only users who granted consent for PURPOSE\n"
        "  --summary            print segment,users,share instead: users per segment, all\n"
        "                       eleven in the order above, share = users / scored users\n"
        "  --format F           csv (default) or json: one object {bins, reference,\n"
        "                       reference_ms, from, purchase_type, return_type,\n"
        "                       consent_purpose, users, segments: [{segment, users, share}],\n"
        "                       rows: [{user, recency_days, frequency, monetary, r, f, m,\n"
        "                       segment}]} (with or without --summary)\n"
        "  --save SAVED         also save the result as a snapshot file (not the store)\n"
        "  -m SAVED, --model SAVED  print a result saved with --save instead of reading events\n"
        "  --utc-offset ±HH:MM  offset of --as-of, --from and of input times written without a\n"
        "                       zone (default +00:00)\n"
        "  --store SNAPSHOT     the events of a store saved with 'persona stats --save' (plus\n"
        "                       FILE's, when given)\n"
        "\n",
        stdout);
    cli_analysis_help();
    return 0;
}

/* ---- segment kmeans ------------------------------------------------------------------- */

typedef struct km_args {
    const char *cmd; /* "segment kmeans" */
    const char *features, *k, *seed, *n_init, *choose_k, *as_of, *threads;
    int summary;
    char **rest; /* argv for cli_parse() */
    int n_rest;
    char *spec;  /* the default spec, when --features is not given */
    persona_kmeans_options km;
    persona_features_options fo;
    uint32_t k_min, k_max;
} km_args;

static const own_flag km_flags[] = {
    { "--features", offsetof(km_args, features) }, { "-k", offsetof(km_args, k) },
    { "--seed", offsetof(km_args, seed) },         { "--n-init", offsetof(km_args, n_init) },
    { "--choose-k", offsetof(km_args, choose_k) }, { "--as-of", offsetof(km_args, as_of) },
    { "--threads", offsetof(km_args, threads) },
};

static int km_flag(const char *flag)
{
    return own_flag_index(km_flags, sizeof km_flags / sizeof *km_flags, flag);
}

/* The default spec (docs/features.md): recency, orders and spend, the purchase type as for
 * segment rfm. */
static int km_default_spec(km_args *a, const cli_options *o)
{
    const char *purchase = o->map.event_const && !o->map.event ? o->map.event_const : "purchase";
    size_t len = strlen(purchase);
    a->spec = malloc(2 * len + 128);
    if (!a->spec)
        return cli_error(EXIT_RUNTIME, "out of memory");
    char *q = a->spec + sprintf(a->spec, "recency: recency_days; frequency: log1p(orders); "
                                         "monetary: slog1p(value(\"");
    for (size_t i = 0; i < len; i++) {
        if (purchase[i] == '"' || purchase[i] == '\\')
            *q++ = '\\';
        *q++ = purchase[i];
    }
    strcpy(q, "\")) as monetary");
    return 0;
}

static int km_resolve(km_args *a, const cli_options *o)
{
    persona_kmeans_options_init(&a->km, sizeof a->km);
    persona_features_options_init(&a->fo, sizeof a->fo);
    if (o->format && strcmp(o->format, "csv") != 0)
        return cli_error(EXIT_USAGE, "%s: --format wants csv, got '%s'", a->cmd, o->format);
    uint32_t u = 8;
    if (a->k && (cli_parse_uint(&u, a->k, PERSONA_KMEANS_MAX_K) || !u))
        return cli_error(EXIT_USAGE, "%s: -k wants a number 1 ... %d, got '%s'", a->cmd,
                         PERSONA_KMEANS_MAX_K, a->k);
    a->km.k = u;
    if (a->n_init && (cli_parse_uint(&a->km.n_init, a->n_init, 1000) || !a->km.n_init))
        return cli_error(EXIT_USAGE, "%s: --n-init wants a number 1 ... 1000, got '%s'", a->cmd,
                         a->n_init);
    if (a->threads && cli_parse_uint(&a->km.threads, a->threads, 1024))
        return cli_error(EXIT_USAGE, "%s: --threads wants a number, got '%s'", a->cmd, a->threads);
    if (a->seed) {
        char *end = NULL;
        errno = 0;
        unsigned long long s = strtoull(a->seed, &end, 10);
        if (!a->seed[0] || *end || errno || a->seed[0] == '-')
            return cli_error(EXIT_USAGE, "%s: --seed wants a whole number >= 0, got '%s'",
                             a->cmd, a->seed);
        a->km.seed = s;
    }
    if (a->choose_k) {
        const char *dots = strstr(a->choose_k, "..");
        char lo[16];
        size_t l = dots ? (size_t)(dots - a->choose_k) : 0;
        if (!dots || l == 0 || l >= sizeof lo)
            return cli_error(EXIT_USAGE, "%s: --choose-k wants A..B (e.g. 2..12), got '%s'",
                             a->cmd, a->choose_k);
        memcpy(lo, a->choose_k, l);
        lo[l] = 0;
        if (cli_parse_uint(&a->k_min, lo, PERSONA_KMEANS_MAX_K) ||
            cli_parse_uint(&a->k_max, dots + 2, PERSONA_KMEANS_MAX_K) || a->k_min < 1 ||
            a->k_max < a->k_min || a->k_max - a->k_min > 1000)
            return cli_error(EXIT_USAGE, "%s: --choose-k wants A..B with 1 <= A <= B (at most "
                                         "1001 values), got '%s'", a->cmd, a->choose_k);
        if (a->summary || a->k)
            return cli_error(EXIT_USAGE, "%s: --choose-k prints the quality table; %s does not "
                                         "apply", a->cmd, a->k ? "-k" : "--summary");
    }
    if (a->as_of)
        return parse_time_flag(&a->fo.as_of_ms, a->cmd, o, "--as-of", a->as_of);
    return 0;
}

/* k,inertia,silhouette,davies_bouldin,calinski_harabasz for k_min … k_max; the silhouette
 * of at most 2,000 users drawn with the seed. */
static int km_choose_k(const km_args *a, FILE *f, const double *x, size_t n, size_t d)
{
    if (a->k_max > n)
        return cli_error(EXIT_USAGE, "%s: --choose-k up to %u, but there are %zu users", a->cmd,
                         a->k_max, n);
    size_t rows = a->k_max - a->k_min + 1;
    persona_cluster_scores *sc = calloc(rows, sizeof *sc);
    if (!sc)
        return cli_error(EXIT_RUNTIME, "out of memory");
    for (size_t r = 0; r < rows; r++)
        persona_cluster_scores_init(&sc[r], sizeof sc[r]);
    int rc = 0;
    if (persona_kmeans_choose_k(sc, rows, x, n, d, a->k_min, a->k_max, &a->km,
                                n > 2000 ? 2000 : 0) != PERSONA_OK)
        rc = cli_lib_error(a->cmd);
    else {
        fputs("k,inertia,silhouette,davies_bouldin,calinski_harabasz\n", f);
        for (size_t r = 0; r < rows; r++)
            fprintf(f, "%u,%.17g,%.17g,%.17g,%.17g\n", sc[r].k, sc[r].inertia, sc[r].silhouette,
                    sc[r].davies_bouldin, sc[r].calinski_harabasz);
    }
    free(sc);
    return rc;
}

/* The column names of the features (for describe); NULL after saying why. */
static char **km_column_names(const km_args *a, const persona_features *feat, size_t d)
{
    char **names = calloc(d, sizeof *names);
    for (size_t j = 0; names && j < d; j++) {
        size_t len = 0;
        persona_features_column_name(NULL, 0, &len, feat, j);
        names[j] = malloc(len + 1);
        if (!names[j] || persona_features_column_name(names[j], len + 1, NULL, feat, j)) {
            for (size_t i = 0; i <= j; i++)
                free(names[i]);
            free(names);
            names = NULL;
        }
    }
    if (!names)
        cli_error(EXIT_RUNTIME, "%s: out of memory", a->cmd);
    return names;
}

/* cluster,users,share,description per cluster. */
static int km_summary(const km_args *a, FILE *f, const persona_kmeans *m,
                      const persona_features *feat, size_t n, size_t d)
{
    persona_kmeans_info info = PERSONA_KMEANS_INFO_INIT;
    persona_kmeans_info_get(&info, m);
    uint64_t *sizes = calloc(info.k, sizeof *sizes);
    char **names = km_column_names(a, feat, d);
    int rc = sizes && names ? 0 : cli_error(EXIT_RUNTIME, "out of memory");
    if (!rc)
        persona_kmeans_sizes(sizes, info.k, m);
    if (!rc)
        fputs("cluster,users,share,description\n", f);
    for (uint32_t c = 0; !rc && c < info.k; c++) {
        size_t len = 0;
        persona_kmeans_describe(NULL, 0, &len, m, c, (const char *const *)names, d);
        char *text = malloc(len + 1);
        if (!text || persona_kmeans_describe(text, len + 1, NULL, m, c,
                                             (const char *const *)names, d)) {
            free(text);
            rc = cli_lib_error(a->cmd);
            break;
        }
        fprintf(f, "%u,%llu,%.17g,", c, (unsigned long long)sizes[c],
                (double)sizes[c] / (double)n);
        cli_put_cell(f, text, len);
        fputc('\n', f);
        free(text);
    }
    for (size_t j = 0; names && j < d; j++)
        free(names[j]);
    free(names);
    free(sizes);
    return rc;
}

/* user,cluster in the features' row order. */
static int km_rows(const km_args *a, FILE *f, const persona_features *feat,
                   const uint32_t *labels, size_t n)
{
    fputs("user,cluster\n", f);
    char key[PERSONA_MAX_KEY_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (persona_features_user_at(key, sizeof key, &len, feat, i))
            return cli_lib_error(a->cmd);
        cli_put_cell(f, key, len);
        fprintf(f, ",%u\n", labels[i]);
    }
    return 0;
}

static int run_kmeans(km_args *a, int argc, char **argv)
{
    cli_options o;
    persona_store *store = NULL;
    persona_features *feat = NULL;
    persona_kmeans *m = NULL;
    double *x = NULL;
    uint32_t *labels = NULL;
    int rc = split_own_args(a->cmd, a, km_flags, km_flag, &a->summary, &a->rest, &a->n_rest,
                            argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    if (!rc)
        rc = km_resolve(a, &o);
    persona_ingest_stats st;
    if (!rc)
        rc = cli_load(&store, &st, &o);
    if (!rc && !a->features)
        rc = km_default_spec(a, &o);
    if (!rc) {
        int brc = persona_features_build(&feat, store, a->features ? a->features : a->spec, &a->fo);
        if (brc == PERSONA_EPARSE || brc == PERSONA_EINVAL)
            rc = cli_error(EXIT_USAGE, "%s: --features: %s", a->cmd, persona_errmsg());
        else if (brc)
            rc = cli_lib_error(a->cmd);
    }
    persona_features_info fi = PERSONA_FEATURES_INFO_INIT;
    if (!rc) {
        persona_features_info_get(&fi, feat);
        if (fi.n == 0)
            rc = cli_error(EXIT_RUNTIME, "%s: the store has no users", a->cmd);
    }
    size_t n = (size_t)fi.n, d = (size_t)fi.d;
    if (!rc) {
        x = malloc(n * d * sizeof *x);
        labels = malloc(n * sizeof *labels);
        if (!x || !labels)
            rc = cli_error(EXIT_RUNTIME, "out of memory");
        else
            persona_features_matrix(x, n * d, feat);
    }
    if (!rc && !a->choose_k && a->km.k > n)
        rc = cli_error(EXIT_USAGE, "%s: -k %u, but there are %zu users", a->cmd, a->km.k, n);
    if (!rc && !a->choose_k && persona_kmeans_fit(&m, x, n, d, &a->km, labels))
        rc = cli_lib_error(a->cmd);
    FILE *f = rc ? NULL : cli_open_output(&o);
    if (!rc && !f)
        rc = EXIT_RUNTIME;
    if (f) {
        rc = a->choose_k  ? km_choose_k(a, f, x, n, d)
             : a->summary ? km_summary(a, f, m, feat, n, d)
                          : km_rows(a, f, feat, labels, n);
        int crc = cli_close_output(f, &o);
        rc = rc ? rc : crc;
    }
    persona_kmeans_free(m);
    persona_features_free(feat);
    persona_store_free(store);
    free(x);
    free(labels);
    free(a->spec);
    cli_options_free(&o);
    free(a->rest);
    return rc;
}

static int kmeans_help(void)
{
    fputs(
        "usage: persona segment kmeans [options] [FILE]\n"
        "\n"
        "k-means clusters of the users of a store (docs/kmeans.md, \"Clustering users of a\n"
        "store\"): a feature matrix of every profile built from --features (docs/features.md:\n"
        "traits, per-type counts and values, recency, attributes, engagement, one-hot\n"
        "levels, log1p, standardized by default), clustered with k-means++ (exact).\n"
        "Output: user,cluster in the store's user order.\n"
        "\n"
        "segment kmeans options:\n"
        "  --features SPEC      the features (default: recency: recency_days; frequency:\n"
        "                       log1p(orders); monetary: slog1p(value(\"purchase\")) as\n"
        "                       monetary, with the purchase type of --event-const)\n"
        "  -k K                 clusters (default 8)\n"
        "  --seed S             seed of k-means++ (default 0)\n"
        "  --n-init N           k-means++ runs, the best kept (default 1)\n"
        "  --threads N          threads (default: every CPU; the result does not depend on it)\n"
        "  --as-of TIME         time recency and tenure are measured at (default: the latest\n"
        "                       event)\n"
        "  --summary            print cluster,users,share,description instead (description:\n"
        "                       the cluster's distinctive features in words)\n"
        "  --choose-k A..B      print k,inertia,silhouette,davies_bouldin,calinski_harabasz\n"
        "                       for k = A ... B (silhouette of at most 2,000 users drawn\n"
        "                       with the seed)\n"
        "  --utc-offset ±HH:MM  offset of --as-of and of input times written without a zone\n"
        "  --store SNAPSHOT     the events of a store saved with 'persona stats --save' (plus\n"
        "                       FILE's, when given)\n"
        "\n",
        stdout);
    cli_analysis_help();
    return 0;
}

static const char segment_usage[] =
    "usage: persona segment <kind> [options] [FILE]\n"
    "\n"
    "kinds:\n"
    "  rules      named rule segments (--rules RULES): user,segment\n"
    "  rfm        recency/frequency/monetary scores and segments:\n"
    "             user,recency_days,frequency,monetary,r,f,m,segment\n"
    "  kmeans     k-means clusters of profile features (--features SPEC, -k K):\n"
    "             user,cluster\n"
    "\n"
    "Run 'persona segment <kind> --help' for the options of a kind.\n";

int cmd_segment(int argc, char **argv)
{
    if (argc < 3)
        return cli_error(EXIT_USAGE, "segment: which kind? persona segment rules --rules RULES "
                                     "(try 'persona segment --help')");
    const char *kind = argv[2];
    if (strcmp(kind, "--help") == 0 || strcmp(kind, "-h") == 0 || strcmp(kind, "help") == 0) {
        fputs(segment_usage, stdout);
        return 0;
    }
    if (strcmp(kind, "kmeans") == 0) {
        if (cli_wants_help(argc, argv))
            return kmeans_help();
        km_args ka;
        memset(&ka, 0, sizeof ka);
        ka.cmd = "segment kmeans";
        return run_kmeans(&ka, argc, argv);
    }
    if (strcmp(kind, "rfm") == 0) {
        for (int i = 3; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                return rfm_help();
        rfm_args ra;
        memset(&ra, 0, sizeof ra);
        ra.cmd = "segment rfm";
        return run_rfm(&ra, argc, argv);
    }
    if (strcmp(kind, "rules") != 0) {
        if (kind[0] == '-')
            return cli_error(EXIT_USAGE, "segment: the kind comes first: persona segment rules "
                                         "[options] (got '%s')", kind);
        return cli_error(EXIT_USAGE, "segment: unknown kind '%s' (rules, rfm or kmeans; try "
                                     "'persona segment --help')", kind);
    }
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return rules_help();
    seg_args *a = calloc(1, sizeof *a);
    if (!a)
        return cli_error(EXIT_RUNTIME, "out of memory");
    a->cmd = "segment rules";
    int rc = run(a, argc, argv);
    free(a);
    return rc;
}
