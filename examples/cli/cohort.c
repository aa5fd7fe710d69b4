/* The cohort commands: cohort (acquisition cohorts x periods), lifecycle, stickiness.
 * Each flag maps onto one field of persona_cohort_options (include/persona/cohort.h); the
 * library checks the combination and its message is the usage error. docs/cohorts.md. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_TABLES 64

enum { FOR_ALL = 0, RETENTION_ONLY = 1 };

typedef struct cohort_args {
    const char *cmd;
    int32_t kind;
    /* as given */
    const char *period, *window, *row_period, *metric, *retention, *cohort_by, *brackets,
        *periods, *min_users, *consent, *from, *to, *save, *threads;
    const char *active[CLI_MAX_PROPS];
    size_t n_active_flags;
    const char *tables[MAX_TABLES];
    size_t n_tables;
    int rate;
    char **rest; /* argv for cli_parse() */
    int n_rest;
    /* resolved */
    persona_cohort_options opts;
    int32_t metric_id;
    char *active_buf;
    const char **active_types;
    uint32_t *bracket_vals;
} cohort_args;

#define LIST_FLAG ((size_t)-1)

/* The flags of the cohort commands, taken out of argv before cli_parse() sees the rest
 * (input, mapping, -o, --format, --store, --utc-offset), and where each goes. */
static const struct {
    const char *name;
    int scope;
    size_t field; /* offsetof the const char * in cohort_args, or LIST_FLAG */
} cohort_flags[] = {
    { "--period", FOR_ALL, offsetof(cohort_args, period) },
    { "--active", FOR_ALL, LIST_FLAG },
    { "--min-users", FOR_ALL, offsetof(cohort_args, min_users) },
    { "--consent", FOR_ALL, offsetof(cohort_args, consent) },
    { "--from", FOR_ALL, offsetof(cohort_args, from) },
    { "--to", FOR_ALL, offsetof(cohort_args, to) },
    { "--save", FOR_ALL, offsetof(cohort_args, save) },
    { "--threads", FOR_ALL, offsetof(cohort_args, threads) },
    { "--table", FOR_ALL, LIST_FLAG },
    { "--window", RETENTION_ONLY, offsetof(cohort_args, window) },
    { "--row-period", RETENTION_ONLY, offsetof(cohort_args, row_period) },
    { "--metric", RETENTION_ONLY, offsetof(cohort_args, metric) },
    { "--retention", RETENTION_ONLY, offsetof(cohort_args, retention) },
    { "--cohort-by", RETENTION_ONLY, offsetof(cohort_args, cohort_by) },
    { "--brackets", RETENTION_ONLY, offsetof(cohort_args, brackets) },
    { "--periods", RETENTION_ONLY, offsetof(cohort_args, periods) },
};

static void cohort_args_free(cohort_args *a)
{
    free(a->rest);
    free(a->active_buf);
    free(a->active_types);
    free(a->bracket_vals);
}

static const char *const metric_names[] = { "users", "events", "revenue", "rate", "ltv" };

/* Index of a flag in cohort_flags, or -1. */
static int cohort_flag(const char *flag)
{
    for (size_t k = 0; k < sizeof cohort_flags / sizeof *cohort_flags; k++)
        if (strcmp(flag, cohort_flags[k].name) == 0)
            return (int)k;
    return -1;
}

/* Split argv: the cohort flags into a, everything else into a->rest for cli_parse(). */
static int split_args(cohort_args *a, int argc, char **argv)
{
    if (cli_rest_init(&a->rest, &a->n_rest, argc, argv, argv[1], 0))
        return EXIT_RUNTIME;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--rate") == 0) {
            if (a->kind != PERSONA_COHORT_RETENTION)
                return cli_error(EXIT_USAGE, "%s: --rate applies to 'persona cohort' only",
                                 a->cmd);
            a->rate = 1;
            continue;
        }
        const char *v;
        int k = cli_next_own_flag(a->cmd, argc, argv, &i, cohort_flag, a->rest, &a->n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k < 0)
            continue;
        const char *flag = cohort_flags[k].name;
        if (cohort_flags[k].scope == RETENTION_ONLY && a->kind != PERSONA_COHORT_RETENTION)
            return cli_error(EXIT_USAGE, "%s: %s applies to 'persona cohort' only", a->cmd, flag);
        if (strcmp(flag, "--active") == 0) {
            if (a->n_active_flags == CLI_MAX_PROPS)
                return cli_error(EXIT_USAGE, "%s: at most %d --active options", a->cmd,
                                 CLI_MAX_PROPS);
            a->active[a->n_active_flags++] = v;
        } else if (strcmp(flag, "--table") == 0) {
            if (a->n_tables == MAX_TABLES)
                return cli_error(EXIT_USAGE, "%s: at most %d --table options", a->cmd,
                                 MAX_TABLES);
            a->tables[a->n_tables++] = v;
        } else {
            *(const char **)((char *)a + cohort_flags[k].field) = v;
        }
    }
    a->rest[a->n_rest] = NULL;
    return 0;
}

/* The comma-separated event types of every --active into a->active_types. */
static int resolve_active(cohort_args *a)
{
    size_t total = 0, n = 0;
    for (size_t i = 0; i < a->n_active_flags; i++)
        total += strlen(a->active[i]) + 1;
    if (!a->n_active_flags)
        return 0;
    a->active_buf = malloc(total);
    a->active_types = malloc(sizeof *a->active_types * total);
    if (!a->active_buf || !a->active_types)
        return cli_error(EXIT_RUNTIME, "out of memory");
    char *p = a->active_buf;
    for (size_t i = 0; i < a->n_active_flags; i++) {
        strcpy(p, a->active[i]);
        for (char *tok = p;;) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma = '\0';
            if (!*tok)
                return cli_error(EXIT_USAGE, "%s: --active wants EVENT[,EVENT...], got '%s'",
                                 a->cmd, a->active[i]);
            a->active_types[n++] = tok;
            if (!comma)
                break;
            tok = comma + 1;
        }
        p += strlen(a->active[i]) + 1;
    }
    a->opts.active_types = a->active_types;
    a->opts.n_active_types = n;
    return 0;
}

static int resolve_brackets(cohort_args *a)
{
    const char *s = a->brackets;
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    a->bracket_vals = malloc(sizeof *a->bracket_vals * n);
    if (!a->bracket_vals)
        return cli_error(EXIT_RUNTIME, "out of memory");
    n = 0;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char num[16];
        if (len == 0 || len >= sizeof num)
            goto bad;
        memcpy(num, p, len);
        num[len] = '\0';
        if (cli_parse_uint(&a->bracket_vals[n], num, UINT32_MAX))
            goto bad;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    a->opts.brackets = a->bracket_vals;
    a->opts.n_brackets = n;
    return 0;
bad:
    return cli_error(EXIT_USAGE, "%s: --brackets wants period numbers such as 0,1,2,4, got '%s'",
                     a->cmd, s);
}

static int resolve_time(int64_t *out, cohort_args *a, const char *flag, const char *v)
{
    if (persona_time_parse(out, v, strlen(v), NULL, a->opts.utc_offset_minutes) != PERSONA_OK)
        return cli_error(EXIT_USAGE, "%s: %s '%s': %s", a->cmd, flag, v, persona_errmsg());
    return 0;
}

/* Every flag into a->opts (and a->metric_id); 0 or an exit code. */
static int resolve(cohort_args *a, const cli_options *o)
{
    persona_cohort_options *op = &a->opts;
    persona_cohort_options_init(op, sizeof *op);
    op->kind = a->kind;
    op->utc_offset_minutes = o->map.time_offset_minutes;
    int rc;
    if (a->period && (op->period = cli_period_of(a->period, 1)) < 0)
        return cli_error(EXIT_USAGE, "%s: --period wants hour, day, week, month, quarter, year "
                                     "or rolling, got '%s'", a->cmd, a->period);
    if (a->row_period && (op->row_period = cli_period_of(a->row_period, 0)) < 0)
        return cli_error(EXIT_USAGE, "%s: --row-period wants hour, day, week, month, quarter "
                                     "or year, got '%s'", a->cmd, a->row_period);
    if ((a->window || a->row_period) && op->period != PERSONA_PERIOD_ROLLING)
        return cli_error(EXIT_USAGE, "%s: %s applies to --period rolling only", a->cmd,
                         a->window ? "--window" : "--row-period");
    if (a->window && cli_parse_duration(&op->window_ms, a->window))
        return cli_error(EXIT_USAGE, "%s: --window wants a duration such as 90s, 30m, 24h or "
                                     "7d, got '%s'", a->cmd, a->window);
    a->metric_id = a->rate ? PERSONA_COHORT_RATE : PERSONA_COHORT_USERS;
    if (a->metric) {
        int32_t m = -1;
        for (int32_t i = 0; i < (int32_t)(sizeof metric_names / sizeof *metric_names); i++)
            if (strcmp(a->metric, metric_names[i]) == 0)
                m = i;
        if (m < 0)
            return cli_error(EXIT_USAGE, "%s: --metric wants users, events, revenue, rate or "
                                         "ltv, got '%s'", a->cmd, a->metric);
        if (a->rate && m != PERSONA_COHORT_RATE)
            return cli_error(EXIT_USAGE, "%s: --rate means --metric rate, not --metric %s",
                             a->cmd, a->metric);
        a->metric_id = m;
    }
    if (a->metric_id == PERSONA_COHORT_EVENTS)
        op->metrics = 1u << PERSONA_COHORT_EVENTS;
    else if (a->metric_id == PERSONA_COHORT_REVENUE || a->metric_id == PERSONA_COHORT_LTV)
        op->metrics = 1u << PERSONA_COHORT_REVENUE;
    if (a->retention) {
        if (strcmp(a->retention, "classic") == 0)
            op->retention = PERSONA_RETENTION_CLASSIC;
        else if (strcmp(a->retention, "unbounded") == 0)
            op->retention = PERSONA_RETENTION_UNBOUNDED;
        else
            return cli_error(EXIT_USAGE, "%s: --retention wants classic or unbounded, got '%s'",
                             a->cmd, a->retention);
    }
    if (a->cohort_by) {
        if (strcmp(a->cohort_by, "first_seen") == 0) {
            op->cohort_by = PERSONA_COHORT_BY_FIRST_EVENT;
        } else if (strncmp(a->cohort_by, "first:", 6) == 0) {
            op->cohort_by = PERSONA_COHORT_BY_FIRST_OF_TYPE;
            op->cohort_event = a->cohort_by + 6;
            if (!*op->cohort_event)
                return cli_error(EXIT_USAGE, "%s: --cohort-by first: wants an event type "
                                             "(first:EVENT)", a->cmd);
        } else if (*a->cohort_by) {
            op->cohort_by = PERSONA_COHORT_BY_PROPERTY;
            op->cohort_property = a->cohort_by;
        } else {
            return cli_error(EXIT_USAGE, "%s: --cohort-by wants first_seen, first:EVENT or a "
                                         "property name", a->cmd);
        }
    }
    if (a->brackets && (rc = resolve_brackets(a)))
        return rc;
    if (a->periods && cli_parse_uint(&op->periods, a->periods, UINT32_MAX))
        return cli_error(EXIT_USAGE, "%s: --periods wants a number, got '%s'", a->cmd, a->periods);
    if (a->min_users && cli_parse_uint(&op->min_users, a->min_users, UINT32_MAX))
        return cli_error(EXIT_USAGE, "%s: --min-users wants a number, got '%s'", a->cmd,
                         a->min_users);
    uint32_t threads = 0;
    if (a->threads && cli_parse_uint(&threads, a->threads, 4096))
        return cli_error(EXIT_USAGE, "%s: --threads wants a number (0 = the machine's cores), "
                                     "got '%s'", a->cmd, a->threads);
    op->threads = (int32_t)threads;
    op->consent_purpose = a->consent;
    if (a->from && (rc = resolve_time(&op->from_ms, a, "--from", a->from)))
        return rc;
    if (a->to && (rc = resolve_time(&op->to_ms, a, "--to", a->to)))
        return rc;
    return resolve_active(a);
}

static int write_file(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

static const char *kind_command(int32_t kind)
{
    return kind == PERSONA_COHORT_LIFECYCLE    ? "lifecycle"
           : kind == PERSONA_COHORT_STICKINESS ? "stickiness"
                                               : "cohort";
}

/* --table FILE...: load saved tables and merge them into the first. */
static int load_tables(persona_cohort_table **out, const cohort_args *a)
{
    persona_cohort_table *t = NULL;
    for (size_t i = 0; i < a->n_tables; i++) {
        persona_cohort_table *part = NULL;
        if (persona_cohort_table_load(&part, a->tables[i]) != PERSONA_OK) {
            persona_cohort_table_free(t);
            return cli_error(EXIT_RUNTIME, "%s: --table: %s", a->cmd, persona_errmsg());
        }
        int32_t kind = -1;
        persona_cohort_table_kind(&kind, part);
        if (kind != a->kind) {
            persona_cohort_table_free(part);
            persona_cohort_table_free(t);
            return cli_error(EXIT_RUNTIME, "%s holds a %s table, not a %s table (use 'persona %s')",
                             a->tables[i], kind_command(kind), a->cmd, kind_command(kind));
        }
        if (!t) {
            t = part;
            continue;
        }
        int rc = persona_cohort_table_merge(t, part);
        persona_cohort_table_free(part);
        if (rc != PERSONA_OK) {
            persona_cohort_table_free(t);
            return cli_error(EXIT_RUNTIME, "%s: cannot merge %s: %s", a->cmd, a->tables[i],
                             persona_errmsg());
        }
    }
    *out = t;
    return 0;
}

static int build_table(persona_cohort_table **out, cohort_args *a, cli_options *o)
{
    persona_store *store = NULL;
    persona_ingest_stats st;
    int rc = cli_load(&store, &st, o);
    if (rc)
        return rc;
    int brc = persona_cohort_build(out, store, &a->opts);
    persona_store_free(store);
    if (brc == PERSONA_EINVAL)
        return cli_error(EXIT_USAGE, "%s: %s", a->cmd, persona_errmsg());
    return brc ? cli_lib_error(a->cmd) : 0;
}

/* Options that shape a build, which a --table run cannot apply. */
static const char *build_flag_given(const cohort_args *a, const cli_options *o)
{
    if (a->period) return "--period";
    if (a->window) return "--window";
    if (a->row_period) return "--row-period";
    if (a->retention) return "--retention";
    if (a->cohort_by) return "--cohort-by";
    if (a->brackets) return "--brackets";
    if (a->periods) return "--periods";
    if (a->min_users) return "--min-users";
    if (a->consent) return "--consent";
    if (a->from) return "--from";
    if (a->to) return "--to";
    if (a->threads) return "--threads";
    if (a->n_active_flags) return "--active";
    if (o->file) return "FILE";
    if (o->store) return "--store";
    if (o->mapping_given || o->map.time_offset_minutes) return "a mapping option";
    return NULL;
}

static int run(cohort_args *a, int argc, char **argv)
{
    cli_options o;
    persona_cohort_table *t = NULL;
    int rc = split_args(a, argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    if (rc)
        goto done;
    if (o.format && strcmp(o.format, "text") == 0) {
        rc = cli_error(EXIT_USAGE, "%s: --format wants csv or json", a->cmd);
        goto done;
    }
    if ((rc = resolve(a, &o)))
        goto done;
    if (a->n_tables) {
        const char *bad = build_flag_given(a, &o);
        if (bad) {
            rc = cli_error(EXIT_USAGE, "%s: --table prints saved tables; %s does not apply "
                                       "(the options were fixed when the table was built)",
                           a->cmd, bad);
            goto done;
        }
        rc = load_tables(&t, a);
    } else {
        rc = build_table(&t, a, &o);
    }
    if (rc)
        goto done;
    if (a->save && persona_cohort_table_save(t, a->save) != PERSONA_OK) {
        rc = cli_lib_error("cannot save the table");
    } else {
        FILE *f = cli_open_output(&o);
        if (!f) {
            rc = EXIT_RUNTIME;
        } else {
            int fmt = o.format && strcmp(o.format, "json") == 0 ? PERSONA_COHORT_EXPORT_JSON
                                                                : PERSONA_COHORT_EXPORT_CSV;
            int erc = persona_cohort_table_export(t, fmt, a->metric_id, write_file, f);
            if (erc == PERSONA_EUNSUPPORTED)
                rc = cli_error(EXIT_USAGE, "%s: --metric %s: %s", a->cmd,
                               metric_names[a->metric_id], persona_errmsg());
            else if (erc != PERSONA_OK)
                rc = cli_lib_error("export");
            int crc = cli_close_output(f, &o);
            rc = rc ? rc : crc;
        }
    }
done:
    persona_cohort_table_free(t);
    cli_options_free(&o);
    cohort_args_free(a);
    return rc;
}

static const char common_help[] =
    "  --period P           hour, day, week (ISO, from Monday), month (default), quarter,\n"
    "                       year%s\n"
    "  --active EVENT[,EVENT]  event types that make a user active (repeatable;\n"
    "                       default every type)%s\n"
    "  --utc-offset ±HH:MM  local time: periods start at local midnight at this offset from\n"
    "                       UTC; it is also the offset of input times written without a zone\n"
    "                       (default +00:00)\n"
    "  --from TIME, --to TIME  only [from, to): %s; a date\n"
    "                       or ISO time, local at --utc-offset unless it has a zone\n"
    "  --min-users K        suppress cells (and sizes) covering fewer than K users: empty in\n"
    "                       CSV, null in JSON; a saved table keeps the true counts\n"
    "  --consent PURPOSE    count only users who granted consent for PURPOSE\n"
    "  --threads N          threads of the scan (0 = the machine's cores, at most 8); the\n"
    "                       result is the same for any number\n"
    "  --save FILE          also save the table as a snapshot FILE (not the store)\n"
    "  --table FILE         print a table saved with --save instead of reading events;\n"
    "                       repeat to merge partial tables built from disjoint users\n"
    "  --format F           csv (default) or json (the options and every built metric)\n"
    "  --store SNAPSHOT     the events of a store saved with 'persona stats --save' (plus\n"
    "                       FILE's, when given)\n";

static void help_common(const char *period_extra, const char *active_extra, const char *range)
{
    printf(common_help, period_extra, active_extra, range);
}

static int cohort_help(void)
{
    fputs("usage: persona cohort [options] [FILE]\n"
          "\n"
          "Acquisition cohorts x periods. Row = a cohort: the users whose cohort event (by\n"
          "default their first event) falls in the same period; column pN = the period N\n"
          "periods after the cohort's own (p0). Output: cohort,size,p0,p1,... (size = users in\n"
          "the cohort); an empty cell is a period after the end of the data, or suppressed.\n"
          "\n"
          "cohort options:\n",
          stdout);
    help_common(" or rolling (see --window)", "; also the events counted and\n"
                "                       summed",
                "cohorts whose cohort event falls in it");
    fputs("  --metric M           users (distinct users active in the period; default), events\n"
          "                       (active events), revenue (exact sum of their values), rate\n"
          "                       (users / size), ltv (revenue of p0..pN / size, cumulative)\n"
          "  --rate               the same as --metric rate\n"
          "  --retention R        classic (active in pN; default) or unbounded (active in pN or\n"
          "                       any later period)\n"
          "  --cohort-by C        first_seen (period of the first event; default), first:EVENT\n"
          "                       (period of the first EVENT; users without one are left out,\n"
          "                       their events before it are not counted), or a property\n"
          "                       PROP (rows = its first-touch value, \"(none)\" last; periods\n"
          "                       still count from the first event)\n"
          "  --brackets B         column brackets: first periods, increasing from 0, e.g. 0,1,2,4\n"
          "                       gives p0,p1,p2-3,p4+ (users active in any period of one)\n"
          "  --periods N          keep p0..p(N-1); later activity is not counted\n"
          "  --window DURATION    with --period rolling: pN = [t0 + N*w, t0 + (N+1)*w) after the\n"
          "                       time t0 of the user's cohort event (default 24h); 90s, 30m,\n"
          "                       24h, 7d, 2w\n"
          "  --row-period P       with --period rolling: the calendar period of the rows\n"
          "                       (default month)\n\n",
          stdout);
    cli_analysis_help();
    return 0;
}

static int lifecycle_help(void)
{
    fputs("usage: persona lifecycle [options] [FILE]\n"
          "\n"
          "Users per calendar period, from the first to the last active period:\n"
          "period,new,returning,resurrecting,dormant. new = first active period ever;\n"
          "returning = active in this period and the one before; resurrecting = active now,\n"
          "not in the period before, active earlier; dormant = active in the period before,\n"
          "not in this one.\n"
          "\n"
          "lifecycle options:\n",
          stdout);
    help_common("", "", "the periods it touches");
    fputc('\n', stdout);
    cli_analysis_help();
    return 0;
}

static int stickiness_help(void)
{
    fputs("usage: persona stickiness [options] [FILE]\n"
          "\n"
          "Users by the number of calendar periods they were active in:\n"
          "active_periods,users, one row per k = 1 ... the number of periods from the first to\n"
          "the last active period (or of the --from/--to range).\n"
          "\n"
          "stickiness options:\n",
          stdout);
    help_common("", "", "the periods it touches");
    fputc('\n', stdout);
    cli_analysis_help();
    return 0;
}

static int cohort_command(int argc, char **argv, int32_t kind, int (*help)(void))
{
    if (cli_wants_help(argc, argv))
        return help();
    cohort_args a;
    memset(&a, 0, sizeof a);
    a.cmd = argv[1];
    a.kind = kind;
    return run(&a, argc, argv);
}

int cmd_cohort(int argc, char **argv)
{
    return cohort_command(argc, argv, PERSONA_COHORT_RETENTION, cohort_help);
}

int cmd_lifecycle(int argc, char **argv)
{
    return cohort_command(argc, argv, PERSONA_COHORT_LIFECYCLE, lifecycle_help);
}

int cmd_stickiness(int argc, char **argv)
{
    return cohort_command(argc, argv, PERSONA_COHORT_STICKINESS, stickiness_help);
}
