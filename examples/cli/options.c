/* Command-line options shared by the data commands: input, column mapping, output. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#ifndef PERSONA_SAMPLE_CSV
#define PERSONA_SAMPLE_CSV "examples/data/online_retail_sample.csv"
#endif

const char cli_mapping_help[] =
    "input:\n"
    "  FILE                 CSV (header row) or JSON Lines (.jsonl/.ndjson); '-' = stdin;\n"
    "                       none = the bundled Online Retail sample\n"
    "  --input-format F     csv or jsonl (default: by extension)\n"
    "  --delimiter C        CSV field delimiter (default ','; 'tab' for TAB)\n"
    "  --strict             the first bad row is an error naming its line\n"
    "  --store SNAPSHOT     start from a store saved with --save (then FILE is optional:\n"
    "                       without it nothing is ingested)\n"
    "  --save SNAPSHOT      save the store after loading (replaced atomically)\n"
    "column mapping (header names or JSON members):\n"
    "  --user COL           user key (default user_id)\n"
    "  --time COL           timestamp (default timestamp)\n"
    "  --time-format F      auto|iso|unix_s|unix_ms|PATTERN with %Y %m %d %H %M %S %f\n"
    "  --utc-offset ±HH:MM  offset of times written without a zone (default +00:00)\n"
    "  --event COL          event type column (default event, when present)\n"
    "  --event-const NAME   constant event type when there is no event column\n"
    "  --item COL, --basket COL, --id COL   item, basket/order id, event id (dedup)\n"
    "  --value COL|COL*COL  monetary value, or the product of two columns\n"
    "  --prop NAME=COL      a named property (category, referrer, country, ...); repeatable\n"
    "  --identify EVENT=TYPE:PROP   events of type EVENT link their user with the identifier\n"
    "                       of TYPE (email, phone, customer, ...) in property PROP; repeatable\n"
    "  --consent-event EVENT=PURPOSE:GRANTED   events of type EVENT set consent for the\n"
    "                       purpose in property PURPOSE to the yes/no in property GRANTED\n"
    "output:\n"
    "  -o FILE              write to FILE instead of standard output\n"
    "  --format F           csv, json or text\n";

static const char *const value_flags[] = { "--user",  "--time",  "--time-format", "--event",
                                           "--event-const", "--item", "--basket", "--id",
                                           "--value", "--prop",  "-o",      "--output",
                                           "--format", "--input-format", "--delimiter",
                                           "--utc-offset", "--store", "--save",
                                           "--purpose", "--grant", "--at", "--tracking",
                                           "--source", "--country", "--identify",
                                           "--consent-event" };

int cli_takes_value(const char *flag)
{
    for (size_t i = 0; i < sizeof value_flags / sizeof *value_flags; i++)
        if (strcmp(flag, value_flags[i]) == 0)
            return 1;
    return 0;
}

int cli_next_own_flag(const char *cmd, int argc, char **argv, int *i,
                      int (*lookup)(const char *flag), char **rest, int *n_rest,
                      const char **value)
{
    const char *arg = argv[*i], *eq = strchr(arg, '=');
    char flag[64];
    *value = NULL;
    if (arg[0] == '-' && arg[1] == '-' && eq && (size_t)(eq - arg) < sizeof flag) {
        memcpy(flag, arg, (size_t)(eq - arg));
        flag[eq - arg] = '\0';
        *value = eq + 1;
    } else {
        snprintf(flag, sizeof flag, "%s", arg);
    }
    int k = arg[0] == '-' ? lookup(flag) : -1;
    if (k < 0) { /* not ours: keep it, with its value when it takes one */
        rest[(*n_rest)++] = argv[*i];
        if (arg[0] == '-' && arg[1] && !eq && cli_takes_value(flag) && *i + 1 < argc)
            rest[(*n_rest)++] = argv[++*i];
        return -1;
    }
    if (!*value) {
        if (*i + 1 >= argc) {
            cli_error(EXIT_USAGE, "%s: option %s needs a value", cmd, flag);
            return -2;
        }
        *value = argv[++*i];
    }
    return k;
}

int cli_rest_init(char ***rest, int *n_rest, int argc, char **argv, const char *cmd, int extra)
{
    *rest = malloc(sizeof **rest * (size_t)(argc + extra + 1));
    if (!*rest)
        return cli_error(EXIT_RUNTIME, "out of memory");
    (*rest)[0] = argv[0];
    (*rest)[1] = (char *)cmd;
    *n_rest = 2;
    return 0;
}

int cli_parse_duration(int64_t *ms_out, const char *s)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
                  { "d", 86400000 }, { "w", 604800000 } };
    int64_t n = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(p, units[i].unit) == 0) {
            if (n <= 0 || n > INT64_MAX / units[i].ms)
                return -1;
            *ms_out = n * units[i].ms;
            return 0;
        }
    }
    return -1;
}

static int parse_offset(const char *s, int32_t *out)
{
    int sign = 1, h = 0, m = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    char extra;
    if (sscanf(s, "%2d:%2d%c", &h, &m, &extra) != 2 || h > 24 || m > 59)
        return -1;
    *out = sign * (h * 60 + m);
    return 0;
}

static int add_prop(cli_options *o, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return cli_error(EXIT_USAGE, "--prop wants NAME=COLUMN, got '%s'", spec);
    if (o->n_props == CLI_MAX_PROPS)
        return cli_error(EXIT_USAGE, "at most %d --prop options", CLI_MAX_PROPS);
    char *name = malloc((size_t)(eq - spec) + 1);
    if (!name)
        return cli_error(EXIT_RUNTIME, "out of memory");
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    o->prop_storage[o->n_props] = name;
    o->prop_names[o->n_props] = name;
    o->prop_cols[o->n_props] = eq + 1;
    o->n_props++;
    return 0;
}

static int apply_flag(cli_options *o, const char *flag, const char *v)
{
    persona_mapping *m = &o->map;
    if (strcmp(flag, "--user") == 0) m->user = v;
    else if (strcmp(flag, "--time") == 0) m->time = v;
    else if (strcmp(flag, "--time-format") == 0) m->time_format = v;
    else if (strcmp(flag, "--event") == 0) m->event = v;
    else if (strcmp(flag, "--event-const") == 0) m->event_const = v;
    else if (strcmp(flag, "--item") == 0) m->item = v;
    else if (strcmp(flag, "--basket") == 0) m->basket = v;
    else if (strcmp(flag, "--id") == 0) m->event_id = v;
    else if (strcmp(flag, "--value") == 0) m->value = v;
    else if (strcmp(flag, "--prop") == 0) return add_prop(o, v) ? EXIT_USAGE : 0;
    else if (strcmp(flag, "--utc-offset") == 0) {
        if (parse_offset(v, &m->time_offset_minutes))
            return cli_error(EXIT_USAGE, "--utc-offset wants ±HH:MM, got '%s'", v);
    } else if (strcmp(flag, "--purpose") == 0) {
        o->purpose = v;
        return 0;
    } else if (strcmp(flag, "--grant") == 0) {
        o->grant = v;
        return 0;
    } else if (strcmp(flag, "--at") == 0) {
        o->at = v;
        return 0;
    } else if (strcmp(flag, "--tracking") == 0) {
        o->tracking = v;
        return 0;
    } else if (strcmp(flag, "--source") == 0) {
        o->source = v;
        return 0;
    } else if (strcmp(flag, "--country") == 0) {
        o->country = v;
        return 0;
    } else if (strcmp(flag, "--identify") == 0) {
        if (o->n_identify == CLI_MAX_PROPS)
            return cli_error(EXIT_USAGE, "at most %d --identify options", CLI_MAX_PROPS);
        o->identify[o->n_identify++] = v;
        return 0;
    } else if (strcmp(flag, "--consent-event") == 0) {
        o->consent_event = v;
        return 0;
    } else if (strcmp(flag, "--store") == 0) {
        o->store = v;
        return 0;
    } else if (strcmp(flag, "--save") == 0) {
        o->save = v;
        return 0;
    } else if (strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0) {
        o->output = v;
        return 0;
    } else if (strcmp(flag, "--format") == 0) {
        if (strcmp(v, "csv") && strcmp(v, "json") && strcmp(v, "text"))
            return cli_error(EXIT_USAGE, "--format wants csv, json or text, got '%s'", v);
        o->format = v;
        return 0;
    } else if (strcmp(flag, "--input-format") == 0) {
        if (strcmp(v, "csv") && strcmp(v, "jsonl"))
            return cli_error(EXIT_USAGE, "--input-format wants csv or jsonl, got '%s'", v);
        o->input_format = v;
        return 0;
    } else if (strcmp(flag, "--delimiter") == 0) {
        o->delimiter = v;
        return 0;
    }
    o->mapping_given = 1;
    return 0;
}

int cli_parse(cli_options *o, int argc, char **argv, int allow_key)
{
    memset(o, 0, sizeof *o);
    persona_mapping_init(&o->map, sizeof o->map);
    o->command = argv[1];
    if (allow_key == CLI_ARGS_MANY) {
        o->args = malloc(sizeof *o->args * (size_t)(argc > 2 ? argc - 2 : 1));
        if (!o->args)
            return cli_error(EXIT_RUNTIME, "out of memory");
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
            continue;
        }
        if (strcmp(a, "--strict") == 0) {
            o->strict = 1;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            char flag[64];
            const char *v = NULL;
            const char *eq = strchr(a, '=');
            if (a[1] == '-' && eq && (size_t)(eq - a) < sizeof flag) {
                memcpy(flag, a, (size_t)(eq - a));
                flag[eq - a] = '\0';
                v = eq + 1;
            } else {
                snprintf(flag, sizeof flag, "%s", a);
            }
            if (!cli_takes_value(flag))
                return cli_error(EXIT_USAGE, "%s: unknown option '%s' (try 'persona %s --help')",
                                 o->command, flag, o->command);
            if (!v) {
                if (i + 1 >= argc)
                    return cli_error(EXIT_USAGE, "%s: option %s needs a value", o->command, flag);
                v = argv[++i];
            }
            int rc = apply_flag(o, flag, v);
            if (rc)
                return EXIT_USAGE;
            continue;
        }
        if (allow_key == CLI_ARGS_MANY) {
            o->args[o->n_args++] = a;
        } else if (allow_key && !o->key) {
            o->key = a;
        } else if (!o->file) {
            o->file = a;
        } else {
            return cli_error(EXIT_USAGE, "%s: unexpected argument '%s'", o->command, a);
        }
    }
    o->map.prop_names = o->prop_names;
    o->map.prop_columns = o->prop_cols;
    o->map.n_props = o->n_props;
    return 0;
}

void cli_options_free(cli_options *o)
{
    for (size_t i = 0; i < o->n_props; i++)
        free(o->prop_storage[i]);
    o->n_props = 0;
    free(o->args);
    o->args = NULL;
    o->n_args = 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The bundled sample's mapping; explicit flags still win. */
static void sample_mapping(cli_options *o)
{
    static const char *names[] = { "country" }, *cols[] = { "Country" };
    persona_mapping *m = &o->map;
    if (!m->user) m->user = "CustomerID";
    if (!m->time) m->time = "InvoiceDate";
    if (!m->item) m->item = "StockCode";
    if (!m->basket) m->basket = "InvoiceNo";
    if (!m->value) m->value = "Quantity*UnitPrice";
    if (!m->event && !m->event_const) m->event_const = "purchase";
    if (!m->n_props) {
        m->prop_names = names;
        m->prop_columns = cols;
        m->n_props = 1;
    }
}

int cli_open_source(persona_source **out, cli_options *o)
{
    const char *path = o->file;
    if (!path) {
        path = PERSONA_SAMPLE_CSV;
        if (access(path, R_OK) != 0)
            path = "examples/data/online_retail_sample.csv";
        sample_mapping(o);
    } else if (strcmp(path, "-") == 0) {
        path = "/dev/stdin";
    }
    int jsonl = o->input_format ? strcmp(o->input_format, "jsonl") == 0
                                : ends_with(path, ".jsonl") || ends_with(path, ".ndjson");
    int rc;
    if (jsonl) {
        rc = persona_source_open_jsonl(out, path, &o->map);
    } else {
        persona_csv_options csv = PERSONA_CSV_OPTIONS_INIT;
        if (o->delimiter) {
            if (strcmp(o->delimiter, "tab") == 0 || strcmp(o->delimiter, "\\t") == 0)
                csv.delimiter = '\t';
            else if (strlen(o->delimiter) == 1)
                csv.delimiter = (unsigned char)o->delimiter[0];
            else
                return cli_error(EXIT_USAGE, "--delimiter wants one character, got '%s'",
                                 o->delimiter);
        }
        rc = persona_source_open_csv(out, path, &csv, &o->map);
    }
    if (rc == PERSONA_EINVAL || rc == PERSONA_EPARSE)
        return cli_error(rc == PERSONA_EINVAL ? EXIT_USAGE : EXIT_RUNTIME, "%s: %s",
                         o->file ? o->file : path, persona_errmsg());
    return rc ? cli_lib_error(o->file ? o->file : path) : 0;
}

typedef struct progress {
    struct timespec start;
    int shown;
} progress;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static int show_progress(void *ctx, uint64_t rows, uint64_t bytes)
{
    progress *p = ctx;
    double s = seconds_since(&p->start);
    fprintf(stderr, "\r%llu rows, %.1f MB, %.2f M rows/s   ", (unsigned long long)rows,
            (double)bytes / 1e6, s > 0 ? (double)rows / s / 1e6 : 0.0);
    p->shown = 1;
    return 0;
}

int cli_load(persona_store **store_out, persona_ingest_stats *stats, cli_options *o)
{
    persona_ingest_stats_init(stats, sizeof *stats);
    persona_store *store = NULL;
    if (o->store) {
        if (persona_store_open(&store, o->store) != PERSONA_OK)
            return cli_lib_error("cannot open the store");
    } else {
        persona_store_options so = PERSONA_STORE_OPTIONS_INIT;
        so.session_gap_ms = o->session_gap_ms;
        if (persona_store_new(&store, &so) != PERSONA_OK)
            return cli_lib_error("cannot create a store");
    }
    int rules = cli_apply_event_rules(store, o);
    if (rules) {
        persona_store_free(store);
        return rules;
    }
    if (!o->store || o->file) {
        persona_source *src = NULL;
        int rc = cli_open_source(&src, o);
        if (rc) {
            persona_store_free(store);
            return rc;
        }
        persona_ingest_options opts = PERSONA_INGEST_OPTIONS_INIT;
        progress prog = { { 0, 0 }, 0 };
        if (o->strict)
            opts.flags |= PERSONA_INGEST_STRICT;
        if (isatty(STDERR_FILENO)) {
            clock_gettime(CLOCK_MONOTONIC, &prog.start);
            opts.progress = show_progress;
            opts.progress_ctx = &prog;
        }
        int lrc = persona_store_load(stats, store, src, &opts);
        if (prog.shown)
            fputc('\n', stderr);
        persona_source_free(src);
        if (lrc != PERSONA_OK) {
            cli_error(EXIT_RUNTIME, "%s: %s", o->file ? o->file : "sample", persona_errmsg());
            persona_store_free(store);
            return EXIT_RUNTIME;
        }
    }
    if (o->save && persona_store_save(store, o->save) != PERSONA_OK) {
        persona_store_free(store);
        return cli_lib_error("cannot save the store");
    }
    *store_out = store;
    return 0;
}

FILE *cli_open_output(const cli_options *o)
{
    if (!o->output || strcmp(o->output, "-") == 0)
        return stdout;
    FILE *f = fopen(o->output, "w");
    if (!f)
        cli_error(EXIT_RUNTIME, "cannot write %s: %s", o->output, strerror(errno));
    return f;
}

int cli_close_output(FILE *f, const cli_options *o)
{
    int bad = ferror(f) != 0;
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad)
        return cli_error(EXIT_RUNTIME, "writing %s failed: %s", o->output ? o->output : "stdout",
                         strerror(errno));
    return 0;
}

/* ---- helpers of the analysis commands (cohort.c, funnel.c) ---- */

const char *const cli_period_names[] = { NULL, "hour", "day", "week", "month",
                                         "quarter", "year", "rolling" };

int32_t cli_period_of(const char *v, int rolling_ok)
{
    int32_t last = rolling_ok ? PERSONA_PERIOD_ROLLING : PERSONA_PERIOD_YEAR;
    for (int32_t p = PERSONA_PERIOD_HOUR; p <= last; p++)
        if (strcmp(v, cli_period_names[p]) == 0)
            return p;
    return -1;
}

int cli_parse_uint(uint32_t *out, const char *s, uint32_t max)
{
    uint64_t n = 0;
    if (!*s)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
        if (n > max)
            return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

void cli_analysis_help(void)
{
    static const char *const redefined[] = { "  --save ", "  --utc-offset ", "  --format ",
                                             "  --store " };
    int skip = 0;
    for (const char *line = cli_mapping_help; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        if (line[0] != ' ' || line[2] != ' ') /* a new entry, not a continuation line */
            skip = 0;
        for (size_t i = 0; i < sizeof redefined / sizeof *redefined; i++)
            skip |= strncmp(line, redefined[i], strlen(redefined[i])) == 0;
        if (!skip)
            fwrite(line, 1, len, stdout);
        line += len;
    }
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

int cli_split_list(char **buf, const char ***items, size_t *n_items, const char *cmd,
                   const char *flag, const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    *buf = malloc(strlen(list) + 1);
    *items = malloc(n * sizeof **items);
    *n_items = 0;
    if (!*buf || !*items)
        return cli_error(EXIT_RUNTIME, "out of memory");
    strcpy(*buf, list);
    for (char *tok = *buf;;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (!*tok)
            return cli_error(EXIT_USAGE, "%s: %s wants EVENT[,EVENT...], got '%s'", cmd, flag,
                             list);
        (*items)[(*n_items)++] = tok;
        if (!comma)
            break;
        tok = comma + 1;
    }
    return 0;
}
