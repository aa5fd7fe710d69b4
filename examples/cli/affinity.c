/* The affinity commands (include/persona/affinity.h, docs/affinity.md): `similar` (items
 * that go with an item), `recommend` (items for a user from what they have) and
 * `overindex` (items that over-index in a rule segment). Each builds a matrix from the
 * events (FILE and/or --store, read with the usual mapping) or loads one (--matrix), and
 * prints CSV with item keys quoted per RFC 4180 (keys hold spaces and commas), or JSON.
 *
 * `similar --item KEY` and `recommend --user KEY` name an item / a user, so for them the
 * mapping's item / user columns are given as --item-col / --user-col. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { SIMILAR, RECOMMEND, OVERINDEX };

typedef struct aff_args {
    const char *cmd;
    int kind;
    const char *key, *measure, *top, *min_count, *by, *events, *session_gap, *segment, *rules,
        *model, *matrix, *save_matrix, *item_col, *user_col;
    const char *exclude[CLI_MAX_PROPS];
    size_t n_exclude;
    char **rest;
    int n_rest;
    char *events_buf;
    const char **event_types;
    size_t n_event_types;
    int json; /* --format json */
} aff_args;

#define F_EXCLUDE ((size_t)-1)

static const struct {
    const char *name;
    int kinds; /* bit per command */
    size_t field;
} aff_flags[] = {
    { "--item", 1 << SIMILAR, offsetof(aff_args, key) },
    { "--user", 1 << RECOMMEND, offsetof(aff_args, key) },
    { "--item-col", 1 << SIMILAR, offsetof(aff_args, item_col) },
    { "--user-col", 1 << RECOMMEND, offsetof(aff_args, user_col) },
    { "--measure", 1 << SIMILAR | 1 << RECOMMEND, offsetof(aff_args, measure) },
    { "--exclude", 1 << RECOMMEND, F_EXCLUDE },
    { "--segment", 1 << OVERINDEX, offsetof(aff_args, segment) },
    { "--rules", 1 << OVERINDEX, offsetof(aff_args, rules) },
    { "-m", 1 << OVERINDEX, offsetof(aff_args, model) },
    { "--model", 1 << OVERINDEX, offsetof(aff_args, model) },
    { "--top", 7, offsetof(aff_args, top) },
    { "--min-count", 7, offsetof(aff_args, min_count) },
    { "--by", 7, offsetof(aff_args, by) },
    { "--events", 7, offsetof(aff_args, events) },
    { "--session-gap", 7, offsetof(aff_args, session_gap) },
    { "--matrix", 7, offsetof(aff_args, matrix) },
    { "--save-matrix", 7, offsetof(aff_args, save_matrix) },
};

static int current_kind;

static int aff_flag(const char *flag)
{
    for (size_t k = 0; k < sizeof aff_flags / sizeof *aff_flags; k++)
        if ((aff_flags[k].kinds >> current_kind & 1) && strcmp(flag, aff_flags[k].name) == 0)
            return (int)k;
    return -1;
}

static void aff_args_free(aff_args *a)
{
    free(a->rest);
    free(a->events_buf);
    free(a->event_types);
}

/* Own flags into a; --item-col / --user-col become the mapping's --item / --user. */
static int split_args(aff_args *a, int argc, char **argv)
{
    if (cli_rest_init(&a->rest, &a->n_rest, argc, argv, argv[1], 2))
        return EXIT_RUNTIME;
    current_kind = a->kind;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int k = cli_next_own_flag(a->cmd, argc, argv, &i, aff_flag, a->rest, &a->n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k < 0)
            continue;
        if (aff_flags[k].field == F_EXCLUDE) {
            if (a->n_exclude == CLI_MAX_PROPS)
                return cli_error(EXIT_USAGE, "%s: at most %d --exclude options", a->cmd,
                                 CLI_MAX_PROPS);
            a->exclude[a->n_exclude++] = v;
        } else {
            *(const char **)((char *)a + aff_flags[k].field) = v;
        }
    }
    if (a->item_col) {
        a->rest[a->n_rest++] = (char *)"--item";
        a->rest[a->n_rest++] = (char *)a->item_col;
    } else if (a->user_col) {
        a->rest[a->n_rest++] = (char *)"--user";
        a->rest[a->n_rest++] = (char *)a->user_col;
    }
    a->rest[a->n_rest] = NULL;
    return 0;
}

static const char *const measure_names[] = { "lift",    "jaccard",    "cosine",   "confidence",
                                             "support", "conviction", "leverage", "count" };

static int32_t measure_of(const char *s)
{
    for (int32_t i = 0; i < PERSONA_AFFINITY_MEASURES; i++)
        if (strcmp(s, measure_names[i]) == 0)
            return i;
    return -1;
}

/* --events A,B into a->event_types. */
static int split_events(aff_args *a)
{
    if (!a->events)
        return 0;
    return cli_split_list(&a->events_buf, &a->event_types, &a->n_event_types, a->cmd, "--events",
                          a->events);
}

/* The build options of the flags; 0 or an exit code. */
static int build_options(persona_affinity_options *op, aff_args *a)
{
    persona_affinity_options_init(op, sizeof *op);
    if (a->by) {
        if (strcmp(a->by, "basket") == 0)
            op->by = PERSONA_AFFINITY_BY_BASKET;
        else if (strcmp(a->by, "session") == 0)
            op->by = PERSONA_AFFINITY_BY_SESSION;
        else if (strcmp(a->by, "user") == 0)
            op->by = PERSONA_AFFINITY_BY_USER;
        else
            return cli_error(EXIT_USAGE, "%s: --by wants basket, session or user, got '%s'",
                             a->cmd, a->by);
    }
    if (a->session_gap && cli_parse_duration(&op->session_gap_ms, a->session_gap))
        return cli_error(EXIT_USAGE, "%s: --session-gap wants a duration such as 30m, got '%s'",
                         a->cmd, a->session_gap);
    int rc = split_events(a);
    op->event_types = a->event_types;
    op->n_event_types = a->n_event_types;
    return rc;
}

/* The matrix (built from the store, or --matrix) and the store (NULL when only --matrix). */
static int get_matrix(persona_affinity_matrix **m, persona_store **store, aff_args *a,
                      cli_options *o)
{
    persona_affinity_options op;
    int rc = build_options(&op, a);
    if (rc)
        return rc;
    if (a->matrix && (a->by || a->events || a->session_gap))
        return cli_error(EXIT_USAGE, "%s: --matrix loads a saved matrix; --by, --events and "
                                     "--session-gap were fixed when it was built", a->cmd);
    if (!a->matrix || o->file || o->store) {
        if (o->file && !o->map.item && !o->store)
            o->map.item = "item";
        if ((rc = cli_load(store, NULL, o)))
            return rc;
    }
    if (a->matrix) {
        if (persona_affinity_load(m, a->matrix) != PERSONA_OK)
            return cli_error(EXIT_RUNTIME, "%s: --matrix: %s", a->cmd, persona_errmsg());
    } else if (persona_affinity_build(m, *store, &op) != PERSONA_OK) {
        return cli_lib_error("affinity");
    }
    if (a->save_matrix && persona_affinity_save(*m, a->save_matrix) != PERSONA_OK)
        return cli_lib_error("cannot save the matrix");
    return 0;
}

/* Row i of the output: its item key as a CSV cell, or `{"item":"…"` as a JSON object in an
 * array; the caller adds the values (put_value) and ends it (end_row). */
static void put_item(FILE *f, const persona_affinity_matrix *m, uint32_t index, size_t i,
                     int json)
{
    char buf[PERSONA_MAX_KEY_LEN + 1];
    size_t len = 0;
    persona_affinity_item_key(buf, sizeof buf, &len, m, index);
    if (json) {
        fputs(i ? ",\n{\"item\":" : "{\"item\":", f);
        cli_put_json(f, buf, len);
    } else {
        cli_put_cell(f, buf, len);
    }
}

static void put_value(FILE *f, const char *name, double v, int json)
{
    if (json)
        fprintf(f, ",\"%s\":", name);
    else
        fputc(',', f);
    cli_put_num(f, v, json);
}

static void end_row(FILE *f, int json)
{
    fputs(json ? "}" : "\n", f);
}

/* The header row (CSV) or the array's start (JSON); finish_rows ends the array. */
static void start_rows(FILE *f, const char *header, int json)
{
    fputs(json ? "[" : header, f);
}

static void finish_rows(FILE *f, int json)
{
    if (json)
        fputs("]\n", f);
}

typedef struct seg_member {
    const persona_segment_model *model;
    size_t index;
    const persona_store *store;
    int failed;
} seg_member;

static int in_segment(void *ctx, const char *user, size_t len)
{
    (void)len;
    seg_member *s = ctx;
    int32_t in = 0;
    if (persona_segment_model_test(&in, s->model, s->index, s->store, user, NULL) != PERSONA_OK) {
        s->failed = 1;
        return -1;
    }
    return in;
}

/* The segment model of --rules or -m. */
static int segment_model(persona_segment_model **out, const aff_args *a)
{
    if (!a->segment)
        return cli_error(EXIT_USAGE, "%s: --segment NAME is required", a->cmd);
    if (!a->rules == !a->model)
        return cli_error(EXIT_USAGE, "%s: give the segment's rules: --rules FILE (a rule-set "
                                     "file, docs/rules.md) or -m MODEL, one of them", a->cmd);
    if (a->model) {
        if (persona_segment_model_load(out, a->model) != PERSONA_OK)
            return cli_error(EXIT_RUNTIME, "%s: -m: %s", a->cmd, persona_errmsg());
        return 0;
    }
    size_t len = 0;
    char *text = cli_read_file(a->cmd, "--rules ", a->rules, &len);
    if (!text)
        return EXIT_RUNTIME;
    int rc = persona_segment_model_compile(out, text, len, NULL);
    free(text);
    if (rc != PERSONA_OK) {
        uint64_t line = 0, col = 0;
        persona_error_position(&line, &col);
        return cli_error(rc == PERSONA_EPARSE ? EXIT_USAGE : EXIT_RUNTIME, "%s:%llu:%llu: %s",
                         a->rules, (unsigned long long)line, (unsigned long long)col,
                         persona_errmsg());
    }
    return 0;
}

static int overindex(FILE *f, const persona_affinity_matrix *m, const persona_store *store,
                     const aff_args *a, size_t top, uint64_t min_count)
{
    persona_segment_model *model = NULL;
    int rc = segment_model(&model, a);
    if (rc)
        return rc;
    seg_member s = { model, 0, store, 0 };
    if (persona_segment_model_find(&s.index, model, a->segment) != PERSONA_OK) {
        persona_segment_model_free(model);
        return cli_error(EXIT_USAGE, "%s: --segment: %s", a->cmd, persona_errmsg());
    }
    uint32_t *it = malloc((top + 1) * sizeof *it);
    double *v = malloc((top + 1) * 4 * sizeof *v);
    uint64_t units = 0;
    size_t n = 0;
    if (!it || !v) {
        rc = cli_error(EXIT_RUNTIME, "out of memory");
    } else if (persona_affinity_overindex(it, v, v + top, v + 2 * top, v + 3 * top, top, &n,
                                          &units, m, NULL, NULL, in_segment, &s,
                                          min_count) != PERSONA_OK) {
        rc = cli_lib_error(s.failed ? "segment" : "overindex");
    } else {
        static const char *const names[] = { "index", "segment_share", "population_share", "z" };
        start_rows(f, "item,index,segment_share,population_share,z\n", a->json);
        for (size_t i = 0; i < n; i++) {
            put_item(f, m, it[i], i, a->json);
            for (int c = 0; c < 4; c++)
                put_value(f, names[c], v[(size_t)c * top + i], a->json);
            end_row(f, a->json);
        }
        finish_rows(f, a->json);
    }
    free(it);
    free(v);
    persona_segment_model_free(model);
    return rc;
}

static int query(FILE *f, const persona_affinity_matrix *m, const persona_store *store,
                 const aff_args *a, int32_t measure, size_t top, uint64_t min_count)
{
    if (a->kind == OVERINDEX)
        return overindex(f, m, store, a, top, min_count);
    uint32_t *it = malloc((top + 1) * sizeof *it);
    double *sc = malloc((top + 1) * sizeof *sc);
    uint64_t *cn = malloc((top + 1) * sizeof *cn);
    size_t n = 0;
    int rc = 0, lrc;
    if (!it || !sc || !cn) {
        rc = cli_error(EXIT_RUNTIME, "out of memory");
        goto done;
    }
    if (a->kind == SIMILAR)
        lrc = persona_affinity_similar(it, sc, cn, top, &n, m, a->key, measure, min_count);
    else
        lrc = persona_affinity_recommend(it, sc, top, &n, m, store, a->key, a->exclude,
                                         a->n_exclude, measure, min_count);
    if (lrc == PERSONA_ENOTFOUND) {
        rc = cli_error(EXIT_RUNTIME, "%s: %s", a->cmd, persona_errmsg());
        goto done;
    }
    if (lrc != PERSONA_OK) {
        rc = cli_lib_error(a->cmd);
        goto done;
    }
    start_rows(f, a->kind == SIMILAR ? "item,score,count\n" : "item,score\n", a->json);
    for (size_t i = 0; i < n; i++) {
        put_item(f, m, it[i], i, a->json);
        put_value(f, "score", sc[i], a->json);
        if (a->kind == SIMILAR)
            fprintf(f, a->json ? ",\"count\":%llu" : ",%llu", (unsigned long long)cn[i]);
        end_row(f, a->json);
    }
    finish_rows(f, a->json);
done:
    free(it);
    free(sc);
    free(cn);
    return rc;
}

static int run(aff_args *a, int argc, char **argv)
{
    cli_options o;
    persona_affinity_matrix *m = NULL;
    persona_store *store = NULL;
    int rc = split_args(a, argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    if (rc)
        goto done;
    int32_t measure = a->measure ? measure_of(a->measure) : PERSONA_AFFINITY_LIFT;
    uint32_t top = 10, min_count = 0;
    a->json = o.format && strcmp(o.format, "json") == 0;
    if (o.format && strcmp(o.format, "csv") != 0 && !a->json)
        rc = cli_error(EXIT_USAGE, "%s: --format wants csv or json", a->cmd);
    else if (a->kind != OVERINDEX && !a->key)
        rc = cli_error(EXIT_USAGE, "%s: %s KEY is required", a->cmd,
                       a->kind == SIMILAR ? "--item" : "--user");
    else if (measure < 0)
        rc = cli_error(EXIT_USAGE, "%s: --measure wants lift, jaccard, cosine, confidence, "
                                   "support, conviction, leverage or count, got '%s'",
                       a->cmd, a->measure);
    else if (a->top && (cli_parse_uint(&top, a->top, 1000000) || top == 0))
        rc = cli_error(EXIT_USAGE, "%s: --top wants a number from 1, got '%s'", a->cmd, a->top);
    else if (a->min_count && cli_parse_uint(&min_count, a->min_count, UINT32_MAX))
        rc = cli_error(EXIT_USAGE, "%s: --min-count wants a number, got '%s'", a->cmd,
                       a->min_count);
    if (rc || (rc = get_matrix(&m, &store, a, &o)))
        goto done;
    if (a->kind == OVERINDEX && !store) {
        rc = cli_error(EXIT_USAGE, "%s: the segment is evaluated on the events: give FILE or "
                                   "--store with --matrix", a->cmd);
        goto done;
    }
    FILE *f = cli_open_output(&o);
    if (!f) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = query(f, m, store, a, measure, top, min_count);
    int crc = cli_close_output(f, &o);
    rc = rc ? rc : crc;
done:
    persona_affinity_free(m);
    persona_store_free(store);
    cli_options_free(&o);
    aff_args_free(a);
    return rc;
}

static const char common_help[] =
    "  --top N              rows to print (default 10)\n"
    "  --min-count N        only pairs seen together in at least N units (default 1)\n"
    "  --by U               the unit of co-occurrence: basket (default; the --basket column),\n"
    "                       session or user\n"
    "  --events A,B         event types that count (default every event with an item)\n"
    "  --session-gap D      with --by session: the inactivity gap (default 30m)\n"
    "  --matrix FILE        a matrix saved with --save-matrix instead of building one\n"
    "  --save-matrix FILE   save the matrix built (persona_affinity_save)\n"
    "  --format F           csv (default) or json (an array of objects with the same fields)\n"
    "\n"
    "Item keys are printed as CSV cells (RFC 4180: quoted when they hold a comma, a quote\n"
    "or a line break). Events are read with the usual mapping; the item column defaults\n"
    "to 'item'.\n\n";

static int help(int kind)
{
    if (kind == SIMILAR)
        fputs("usage: persona similar --item KEY [options] [FILE]\n\n"
              "The items most often together with KEY, by a measure: item,score,count (count =\n"
              "units holding both). Sorted by score, then count (both descending), then item\n"
              "key bytewise.\n\n"
              "similar options:\n"
              "  --item KEY           the item\n"
              "  --measure M          lift (default), jaccard, cosine, confidence (KEY -> item),\n"
              "                       support, conviction, leverage or count\n"
              "  --item-col COL       the item column of the input (default 'item')\n",
              stdout);
    else if (kind == RECOMMEND)
        fputs("usage: persona recommend --user KEY [options] [FILE]\n\n"
              "Items for a user: the sum of the measure from each item they have, never an\n"
              "item they have or one excluded: item,score. Sorted by score descending, then\n"
              "item key bytewise.\n\n"
              "recommend options:\n"
              "  --user KEY           the user\n"
              "  --measure M          as for 'persona similar' (default lift)\n"
              "  --exclude ITEM       never recommend ITEM (repeatable)\n"
              "  --user-col COL       the user column of the input (default 'user_id')\n",
              stdout);
    else
        fputs("usage: persona overindex --segment NAME --rules FILE [options] [FILE]\n\n"
              "Items that over-index in a segment against all units:\n"
              "item,index,segment_share,population_share,z. segment_share = share of the\n"
              "segment's units holding the item, population_share = share of all units,\n"
              "index = 100 * segment_share / population_share, z = two-proportion z of the\n"
              "segment against the other units. Sorted by index descending.\n\n"
              "overindex options:\n"
              "  --segment NAME       the segment\n"
              "  --rules FILE         a rule-set file defining it (docs/rules.md)\n"
              "  -m MODEL             or a saved segment model\n",
              stdout);
    fputs(common_help, stdout);
    cli_analysis_help();
    return 0;
}

static int command(int argc, char **argv, int kind)
{
    if (cli_wants_help(argc, argv))
        return help(kind);
    aff_args a;
    memset(&a, 0, sizeof a);
    a.cmd = argv[1];
    a.kind = kind;
    return run(&a, argc, argv);
}

int cmd_similar(int argc, char **argv)
{
    return command(argc, argv, SIMILAR);
}

int cmd_recommend(int argc, char **argv)
{
    return command(argc, argv, RECOMMEND);
}

int cmd_overindex(int argc, char **argv)
{
    return command(argc, argv, OVERINDEX);
}
