/* The path commands (include/persona/path.h, docs/paths.md): `paths` prints a Markov
 * transition table (from,to,count,probability), the most frequent paths (--paths), the
 * paths to a goal with their conversions (--goal) or the drop-offs after each step
 * (--dropoffs); `next` prints the likely next events of a history or of a user's current
 * session (event,probability). Both build a model from the events (FILE and/or --store,
 * read with the usual mapping) or load one (--model). Paths and contexts are written as
 * their states joined by " > ". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RULES 256
#define SEP " > "

enum { PATHS, NEXT };

typedef struct paths_args {
    const char *cmd;
    int kind;
    const char *order, *session_gap, *session_prop, *state_prop, *top, *goal, *start, *end,
        *max_steps, *model, *save_model, *history, *user, *user_col, *consent;
    int paths, dropoffs;
    const char *exclude[CLI_MAX_PROPS];
    size_t n_exclude;
    persona_path_rule rules[MAX_RULES];
    char *rule_copies[MAX_RULES];
    size_t n_rules;
    char **rest;
    int n_rest;
    int json;
} paths_args;

enum { F_ONE, F_EXCLUDE, F_RENAME, F_DROP };

static const struct {
    const char *name;
    int kinds; /* bit per command */
    int what;
    size_t field;
} paths_flags[] = {
    { "--order", 3, F_ONE, offsetof(paths_args, order) },
    { "--session-gap", 3, F_ONE, offsetof(paths_args, session_gap) },
    { "--session-prop", 3, F_ONE, offsetof(paths_args, session_prop) },
    { "--state-prop", 3, F_ONE, offsetof(paths_args, state_prop) },
    { "--consent", 3, F_ONE, offsetof(paths_args, consent) },
    { "--rename", 3, F_RENAME, 0 },
    { "--drop", 3, F_DROP, 0 },
    { "--top", 3, F_ONE, offsetof(paths_args, top) },
    { "--model", 3, F_ONE, offsetof(paths_args, model) },
    { "--save-model", 3, F_ONE, offsetof(paths_args, save_model) },
    { "--goal", 1 << PATHS, F_ONE, offsetof(paths_args, goal) },
    { "--start", 1 << PATHS, F_ONE, offsetof(paths_args, start) },
    { "--end", 1 << PATHS, F_ONE, offsetof(paths_args, end) },
    { "--max-steps", 1 << PATHS, F_ONE, offsetof(paths_args, max_steps) },
    { "--exclude", 1 << PATHS, F_EXCLUDE, 0 },
    { "--history", 1 << NEXT, F_ONE, offsetof(paths_args, history) },
    { "--user", 1 << NEXT, F_ONE, offsetof(paths_args, user) },
    { "--user-col", 1 << NEXT, F_ONE, offsetof(paths_args, user_col) },
};

static int current_kind;

static int paths_flag(const char *flag)
{
    for (size_t k = 0; k < sizeof paths_flags / sizeof *paths_flags; k++)
        if ((paths_flags[k].kinds >> current_kind & 1) && strcmp(flag, paths_flags[k].name) == 0)
            return (int)k;
    return -1;
}

static void paths_args_free(paths_args *a)
{
    free(a->rest);
    for (size_t i = 0; i < a->n_rules; i++)
        free(a->rule_copies[i]);
}

/* --rename PATTERN=STATE or --drop PATTERN as the next grouping rule. */
static int add_rule(paths_args *a, const char *v, int drop)
{
    if (a->n_rules == MAX_RULES)
        return cli_error(EXIT_USAGE, "%s: at most %d --rename and --drop options", a->cmd,
                         MAX_RULES);
    char *c = malloc(strlen(v) + 1);
    if (!c)
        return cli_error(EXIT_RUNTIME, "out of memory");
    strcpy(c, v);
    a->rule_copies[a->n_rules] = c;
    persona_path_rule *r = &a->rules[a->n_rules++];
    persona_path_rule_init(r, sizeof *r);
    r->pattern = c;
    if (!drop) {
        char *eq = strrchr(c, '=');
        if (!eq || eq == c || !eq[1])
            return cli_error(EXIT_USAGE, "%s: --rename wants PATTERN=STATE, got '%s'", a->cmd, v);
        *eq = '\0';
        r->state = eq + 1;
    }
    return 0;
}

static int split_args(paths_args *a, int argc, char **argv)
{
    if (cli_rest_init(&a->rest, &a->n_rest, argc, argv, argv[1], 2))
        return EXIT_RUNTIME;
    current_kind = a->kind;
    for (int i = 2; i < argc; i++) {
        if (a->kind == PATHS && (strcmp(argv[i], "--paths") == 0 || strcmp(argv[i], "--dropoffs") == 0)) {
            *(argv[i][2] == 'p' ? &a->paths : &a->dropoffs) = 1;
            continue;
        }
        const char *v;
        int k = cli_next_own_flag(a->cmd, argc, argv, &i, paths_flag, a->rest, &a->n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k < 0)
            continue;
        int rc = 0;
        switch (paths_flags[k].what) {
        case F_ONE: *(const char **)((char *)a + paths_flags[k].field) = v; break;
        case F_RENAME: rc = add_rule(a, v, 0); break;
        case F_DROP: rc = add_rule(a, v, 1); break;
        default:
            if (a->n_exclude == CLI_MAX_PROPS)
                return cli_error(EXIT_USAGE, "%s: at most %d --exclude options", a->cmd,
                                 CLI_MAX_PROPS);
            a->exclude[a->n_exclude++] = v;
        }
        if (rc)
            return rc;
    }
    if (a->user_col) { /* next: --user names the user, --user-col the mapping's column */
        a->rest[a->n_rest++] = (char *)"--user";
        a->rest[a->n_rest++] = (char *)a->user_col;
    }
    a->rest[a->n_rest] = NULL;
    return 0;
}

/* The model: built from the events, or --model; saved to --save-model. */
static int get_model(persona_path_model **m, paths_args *a, cli_options *o, uint32_t order)
{
    persona_path_options op;
    persona_path_options_init(&op, sizeof op);
    op.order = (int32_t)order;
    op.session_prop = a->session_prop;
    op.state_prop = a->state_prop;
    op.consent_purpose = a->consent;
    op.rules = a->rules;
    op.n_rules = a->n_rules;
    if (a->session_gap && cli_parse_duration(&op.session_gap_ms, a->session_gap))
        return cli_error(EXIT_USAGE, "%s: --session-gap wants a duration such as 30m, got '%s'",
                         a->cmd, a->session_gap);
    if (a->model) {
        if (a->session_gap || a->session_prop || a->state_prop || a->n_rules || a->consent ||
            o->file || o->store)
            return cli_error(EXIT_USAGE, "%s: --model loads a saved model; its events, sessions "
                                         "and states were fixed when it was built", a->cmd);
        if (persona_path_load(m, a->model) != PERSONA_OK)
            return cli_error(EXIT_RUNTIME, "%s: --model: %s", a->cmd, persona_errmsg());
    } else {
        persona_store *store = NULL;
        int rc = cli_load(&store, NULL, o);
        if (rc)
            return rc;
        rc = persona_path_build(m, store, &op);
        persona_store_free(store);
        if (rc != PERSONA_OK)
            return cli_error(rc == PERSONA_EINVAL ? EXIT_USAGE : EXIT_RUNTIME, "%s: %s", a->cmd,
                             persona_errmsg());
    }
    if (a->save_model && persona_path_save(*m, a->save_model) != PERSONA_OK)
        return cli_lib_error("cannot save the model");
    return 0;
}

/* States joined by " > " as one CSV cell or JSON string. */
static void put_states(FILE *f, const persona_path_model *m, const uint32_t *st, size_t n,
                       int json)
{
    size_t cap = 256, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; text && i < n; i++) {
        size_t nl = 0;
        persona_path_state_name(NULL, 0, &nl, m, st[i]);
        while (text && len + nl + sizeof SEP + 1 > cap) {
            char *t = realloc(text, cap *= 2);
            if (!t)
                free(text);
            text = t;
        }
        if (!text)
            break;
        if (i) {
            memcpy(text + len, SEP, sizeof SEP - 1);
            len += sizeof SEP - 1;
        }
        persona_path_state_name(text + len, cap - len, NULL, m, st[i]);
        len += nl;
    }
    if (json)
        cli_put_json(f, text ? text : "", text ? len : 0);
    else
        cli_put_cell(f, text ? text : "", text ? len : 0);
    free(text);
}

static void put_field(FILE *f, const char *name, int first, int json)
{
    if (json)
        fprintf(f, first ? "{\"%s\":" : ",\"%s\":", name);
    else if (!first)
        fputc(',', f);
}

/* The rows of a list. transitions: from,to,count,probability; else path,<count>,<extra>. */
static int print_list(FILE *f, const persona_path_model *m, const persona_path_list *l,
                      int transitions, const char *const names[3], uint32_t top, int json)
{
    size_t rows = 0, printed = 0, run = 0;
    persona_path_list_size(&rows, l);
    uint32_t *st = malloc(64 * sizeof *st), *prev = malloc(64 * sizeof *prev);
    size_t cap = 64, prev_n = 0;
    if (!st || !prev) {
        free(st);
        free(prev);
        return cli_error(EXIT_RUNTIME, "out of memory");
    }
    if (json)
        fputc('[', f);
    else if (transitions)
        fputs("from,to,count,probability\n", f);
    else
        fprintf(f, "path,%s,%s\n", names[1], names[2]);
    for (size_t r = 0; r < rows; r++) {
        size_t n = 0;
        uint64_t c = 0, x = 0;
        while (persona_path_list_row(st, cap, &n, &c, &x, l, r) == PERSONA_EBUFS) {
            uint32_t *t = realloc(st, n * sizeof *st), *p = realloc(prev, n * sizeof *prev);
            if (t)
                st = t;
            if (p)
                prev = p;
            if (!t || !p) {
                free(st);
                free(prev);
                return cli_error(EXIT_RUNTIME, "out of memory");
            }
            cap = n;
        }
        if (transitions) { /* --top: the first N successors of each context */
            int same = r && prev_n == n && memcmp(prev, st, (n - 1) * sizeof *st) == 0;
            run = same ? run + 1 : 0;
            memcpy(prev, st, n * sizeof *st);
            prev_n = n;
            if (top && run >= top)
                continue;
        }
        if (json && printed)
            fputs(",\n", f);
        printed++;
        put_field(f, transitions ? "from" : "path", 1, json);
        put_states(f, m, st, transitions ? n - 1 : n, json);
        if (transitions) {
            put_field(f, "to", 0, json);
            put_states(f, m, st + n - 1, 1, json);
        }
        put_field(f, transitions ? "count" : names[1], 0, json);
        fprintf(f, "%llu", (unsigned long long)c);
        put_field(f, transitions ? "probability" : names[2], 0, json);
        if (transitions)
            cli_put_num(f, (double)c / (double)x, json);
        else
            fprintf(f, "%llu", (unsigned long long)x);
        fputs(json ? "}" : "\n", f);
    }
    if (json)
        fputs("]\n", f);
    free(st);
    free(prev);
    return 0;
}

static int run_paths(FILE *f, const persona_path_model *m, const paths_args *a, uint32_t order,
                     uint32_t top)
{
    persona_path_list *l = NULL;
    int explore = a->paths || a->dropoffs || a->goal;
    if (!explore) {
        if (persona_path_transitions(&l, m, (int32_t)order) != PERSONA_OK)
            return cli_lib_error(a->cmd);
        int rc = print_list(f, m, l, 1, NULL, top, a->json);
        persona_path_list_free(l);
        return rc;
    }
    if (a->paths + a->dropoffs + (a->goal != NULL) > 1)
        return cli_error(EXIT_USAGE, "%s: --paths, --dropoffs and --goal are different "
                                     "questions: give one", a->cmd);
    persona_path_query q;
    persona_path_query_init(&q, sizeof q);
    q.kind = a->goal ? PERSONA_PATH_GOAL : a->dropoffs ? PERSONA_PATH_DROPOFF : PERSONA_PATH_TOP;
    q.goal_state = a->goal;
    q.start_state = a->start;
    q.end_state = a->end;
    q.exclude = a->exclude;
    q.n_exclude = a->n_exclude;
    q.top = top;
    if (a->max_steps && (cli_parse_uint(&q.max_steps, a->max_steps, 1000000) || !q.max_steps))
        return cli_error(EXIT_USAGE, "%s: --max-steps wants a number from 1, got '%s'", a->cmd,
                         a->max_steps);
    if (persona_path_explore(&l, m, &q) != PERSONA_OK)
        return cli_error(EXIT_USAGE, "%s: %s", a->cmd, persona_errmsg());
    static const char *const top_names[3] = { "path", "count", "extra" };
    static const char *const goal_names[3] = { "path", "count", "conversions" };
    static const char *const drop_names[3] = { "path", "sessions", "dropoffs" };
    int rc = print_list(f, m, l, 0, a->goal ? goal_names : a->dropoffs ? drop_names : top_names,
                        0, a->json);
    persona_path_list_free(l);
    return rc;
}

/* --history A,B,C as state indexes (unknown names never seen). */
static int history_of(uint32_t **out, size_t *n_out, const persona_path_model *m, const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    uint32_t *h = malloc(n * sizeof *h);
    char *buf = malloc(strlen(s) + 1);
    if (!h || !buf) {
        free(h);
        free(buf);
        return cli_error(EXIT_RUNTIME, "out of memory");
    }
    strcpy(buf, s);
    n = 0;
    for (char *tok = buf;;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (persona_path_state_find(&h[n], m, tok) != PERSONA_OK)
            h[n] = PERSONA_PATH_NO_STATE;
        n++;
        if (!comma)
            break;
        tok = comma + 1;
    }
    free(buf);
    *out = h;
    *n_out = n;
    return 0;
}

static int run_next(FILE *f, const persona_path_model *m, const paths_args *a, uint32_t order,
                    uint32_t top)
{
    uint32_t *st = malloc(top * sizeof *st), *h = NULL;
    double *pr = malloc(top * sizeof *pr);
    size_t n = 0, n_h = 0;
    int rc = !st || !pr ? cli_error(EXIT_RUNTIME, "out of memory") : 0;
    int lrc = PERSONA_OK;
    if (!rc && a->user)
        lrc = persona_path_next_user(st, pr, top, &n, NULL, m, a->user, (int32_t)order);
    else if (!rc && !(rc = history_of(&h, &n_h, m, a->history)))
        lrc = persona_path_next(st, pr, top, &n, NULL, m, h, n_h, (int32_t)order);
    if (!rc && lrc != PERSONA_OK)
        rc = cli_error(lrc == PERSONA_EINVAL ? EXIT_USAGE : EXIT_RUNTIME, "%s: %s", a->cmd,
                       persona_errmsg());
    if (!rc) {
        fputs(a->json ? "[" : "event,probability\n", f);
        for (size_t i = 0; i < n; i++) {
            if (a->json && i)
                fputs(",\n", f);
            put_field(f, "event", 1, a->json);
            put_states(f, m, &st[i], 1, a->json);
            put_field(f, "probability", 0, a->json);
            cli_put_num(f, pr[i], a->json);
            fputs(a->json ? "}" : "\n", f);
        }
        if (a->json)
            fputs("]\n", f);
    }
    free(st);
    free(pr);
    free(h);
    return rc;
}

/* Flags checked before anything is read; 0 or an exit code. */
static int check_flags(paths_args *a, const cli_options *o, uint32_t *order, uint32_t *top)
{
    a->json = o->format && strcmp(o->format, "json") == 0;
    if (o->format && strcmp(o->format, "csv") != 0 && !a->json)
        return cli_error(EXIT_USAGE, "%s: --format wants csv or json", a->cmd);
    if (a->order && (cli_parse_uint(order, a->order, 1000) || *order < 1 ||
                     *order > PERSONA_PATH_MAX_ORDER))
        return cli_error(EXIT_USAGE, "%s: --order wants a Markov order from 1 to %d, got '%s'",
                         a->cmd, PERSONA_PATH_MAX_ORDER, a->order);
    if (a->top && (cli_parse_uint(top, a->top, 1000000) || *top == 0))
        return cli_error(EXIT_USAGE, "%s: --top wants a number from 1, got '%s'", a->cmd, a->top);
    if (a->kind == NEXT && !a->history == !a->user)
        return cli_error(EXIT_USAGE, "%s: give --history A,B,... or --user KEY, one of them",
                         a->cmd);
    return 0;
}

static int run(paths_args *a, int argc, char **argv)
{
    cli_options o;
    persona_path_model *m = NULL;
    int rc = split_args(a, argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    uint32_t order = 0, top = a->kind == NEXT ? 5 : 0;
    if (rc || (rc = check_flags(a, &o, &order, &top)))
        goto done;
    /* the model's order: --order, or (with --model) the saved one */
    if ((rc = get_model(&m, a, &o, order ? order : 1)))
        goto done;
    persona_path_info in;
    persona_path_info_init(&in, sizeof in);
    persona_path_info_get(&in, m);
    if (order > (uint32_t)in.order) {
        rc = cli_error(EXIT_USAGE, "%s: --order %u: the model has orders 1 to %d", a->cmd, order,
                       in.order);
        goto done;
    }
    order = order ? order : (uint32_t)in.order;
    FILE *f = cli_open_output(&o);
    if (!f) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = a->kind == PATHS ? run_paths(f, m, a, order, top) : run_next(f, m, a, order, top);
    int crc = cli_close_output(f, &o);
    rc = rc ? rc : crc;
done:
    persona_path_free(m);
    cli_options_free(&o);
    paths_args_free(a);
    return rc;
}

static const char common_help[] =
    "model options:\n"
    "  --order N            Markov order, 1 to 4 (default 1; with --model its own)\n"
    "  --session-gap D      inactivity gap that starts a session (default 30m)\n"
    "  --session-prop PROP  sessions by a session-id property instead of the gap\n"
    "  --state-prop PROP    states from a property (page category, referrer, channel...)\n"
    "                       instead of the event type; events without it are '(none)'\n"
    "  --rename PAT=STATE   grouping rule: raw values matching the glob PAT (* ? \\) become\n"
    "                       STATE (repeatable; with --drop, the first matching rule wins)\n"
    "  --drop PAT           grouping rule: events whose raw value matches PAT are left out\n"
    "  --consent PURPOSE    only users who granted PURPOSE\n"
    "  --model FILE         a model saved with --save-model instead of building one\n"
    "  --save-model FILE    save the model built (persona_path_save)\n"
    "  --format F           csv (default) or json (an array of objects with the same fields)\n"
    "\n"
    "Every session is the path (start) > s1 > ... > sn > (end).\n\n";

static int help(int kind)
{
    if (kind == PATHS)
        fputs("usage: persona paths [options] [FILE]\n\n"
              "The transition table of the Markov model: from,to,count,probability (from = the\n"
              "context, its states joined by ' > '; rows by context, then count descending).\n"
              "With --paths, --goal or --dropoffs the path explorer instead:\n"
              "  --paths              most frequent paths: path,count,extra (extra is 0)\n"
              "  --goal STATE         paths before STATE (or the whole session when it never\n"
              "                       gets there): path,count,conversions\n"
              "  --dropoffs           every prefix of the paths: path,sessions,dropoffs\n"
              "                       (dropoffs = sessions ending right after it)\n\n"
              "paths options:\n"
              "  --top N              transitions: the first N successors of each context;\n"
              "                       explorer: the N most frequent rows (per step for\n"
              "                       --dropoffs)\n"
              "  --start STATE        paths start at the first STATE (default (start))\n"
              "  --end STATE          paths end at the next STATE (default (end))\n"
              "  --exclude STATE      remove STATE from the paths (repeatable)\n"
              "  --max-steps N        longest path, in states (default 10)\n\n",
              stdout);
    else
        fputs("usage: persona next (--history A,B,... | --user KEY) [options] [FILE]\n\n"
              "The likely next events after a history (oldest first; put (start) first for the\n"
              "beginning of a session), or after a user's latest session: event,probability,\n"
              "by probability descending. A history the model never saw backs off to shorter\n"
              "ones, down to the overall distribution (docs/paths.md).\n\n"
              "next options:\n"
              "  --history A,B,...    the states so far\n"
              "  --user KEY           the user whose current session is the history\n"
              "  --user-col COL       the user column of the input (default 'user_id')\n"
              "  --top N              rows (default 5)\n\n",
              stdout);
    fputs(common_help, stdout);
    cli_analysis_help();
    return 0;
}

static int command(int argc, char **argv, int kind)
{
    if (cli_wants_help(argc, argv))
        return help(kind);
    paths_args a;
    memset(&a, 0, sizeof a);
    a.cmd = argv[1];
    a.kind = kind;
    return run(&a, argc, argv);
}

int cmd_paths(int argc, char **argv)
{
    return command(argc, argv, PATHS);
}

int cmd_next(int argc, char **argv)
{
    return command(argc, argv, NEXT);
}
