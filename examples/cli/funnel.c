/* The funnel command: ordered steps within a window, per-step counts and conversion, time
 * between steps, trend per period and each user's stage. Each flag maps onto one field of
 * persona_funnel_options (include/persona/funnel.h); the library checks the combination
 * and its message is the usage error. docs/funnels.md. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_LIST 64
#define MAX_FUNNELS 64
#define MAX_STEPS PERSONA_FUNNEL_MAX_STEPS

enum { FLAG_ONE, FLAG_WHERE, FLAG_MIN_GAP, FLAG_MAX_GAP, FLAG_EXCLUDE, FLAG_EXCLUDE_WHERE,
       FLAG_FUNNEL };

typedef struct flag_list {
    const char *v[MAX_LIST];
    size_t n;
} flag_list;

typedef struct funnel_args {
    const char *cmd;
    /* as given */
    const char *steps, *window, *order, *count, *hold, *trend, *consent, *from, *to, *save,
        *session_gap;
    flag_list where, min_gap, max_gap, exclude, exclude_where;
    const char *funnels[MAX_FUNNELS];
    size_t n_funnels;
    int stages, times;
    char **rest; /* argv for cli_parse() */
    int n_rest;
    /* resolved */
    persona_funnel_options opts;
    persona_funnel_step step[MAX_STEPS];
    const persona_funnel_step *step_ptr[MAX_STEPS];
    int step_where_set[MAX_STEPS], step_min_set[MAX_STEPS], step_max_set[MAX_STEPS];
    persona_funnel_exclusion excl[MAX_LIST];
    persona_funnel_step excl_event[MAX_LIST];
    const persona_funnel_exclusion *excl_ptr[MAX_LIST];
    int excl_where_set[MAX_LIST];
    /* the --steps list, one --step-where per step, every --exclude and --exclude-where */
    char *copies[1 + MAX_STEPS + 2 * MAX_LIST];
    size_t n_copies;
    int32_t trend_period;           /* of the funnel printed */
    int32_t utc_offset_minutes;
} funnel_args;

#define LIST_FLAG ((size_t)-1)

/* The flags of the funnel command, taken out of argv before cli_parse() sees the rest
 * (input, mapping, -o, --format, --store, --utc-offset), and where each goes. */
static const struct {
    const char *name;
    int kind;
    size_t field; /* offsetof the const char * in funnel_args (FLAG_ONE) */
} funnel_flags[] = {
    { "--steps", FLAG_ONE, offsetof(funnel_args, steps) },
    { "--window", FLAG_ONE, offsetof(funnel_args, window) },
    { "--order", FLAG_ONE, offsetof(funnel_args, order) },
    { "--count", FLAG_ONE, offsetof(funnel_args, count) },
    { "--hold", FLAG_ONE, offsetof(funnel_args, hold) },
    { "--trend", FLAG_ONE, offsetof(funnel_args, trend) },
    { "--consent", FLAG_ONE, offsetof(funnel_args, consent) },
    { "--from", FLAG_ONE, offsetof(funnel_args, from) },
    { "--to", FLAG_ONE, offsetof(funnel_args, to) },
    { "--save", FLAG_ONE, offsetof(funnel_args, save) },
    { "--session-gap", FLAG_ONE, offsetof(funnel_args, session_gap) },
    { "--step-where", FLAG_WHERE, LIST_FLAG },
    { "--min-gap", FLAG_MIN_GAP, LIST_FLAG },
    { "--max-gap", FLAG_MAX_GAP, LIST_FLAG },
    { "--exclude", FLAG_EXCLUDE, LIST_FLAG },
    { "--exclude-where", FLAG_EXCLUDE_WHERE, LIST_FLAG },
    { "--funnel", FLAG_FUNNEL, LIST_FLAG },
};

static void funnel_args_free(funnel_args *a)
{
    free(a->rest);
    for (size_t i = 0; i < a->n_copies; i++)
        free(a->copies[i]);
}

static flag_list *list_of(funnel_args *a, int kind)
{
    switch (kind) {
    case FLAG_WHERE: return &a->where;
    case FLAG_MIN_GAP: return &a->min_gap;
    case FLAG_MAX_GAP: return &a->max_gap;
    case FLAG_EXCLUDE: return &a->exclude;
    default: return &a->exclude_where;
    }
}

/* Index of a flag in funnel_flags, or -1. */
static int funnel_flag(const char *flag)
{
    for (size_t k = 0; k < sizeof funnel_flags / sizeof *funnel_flags; k++)
        if (strcmp(flag, funnel_flags[k].name) == 0)
            return (int)k;
    return -1;
}

/* Split argv: the funnel flags into a, everything else into a->rest for cli_parse(). */
static int split_args(funnel_args *a, int argc, char **argv)
{
    if (cli_rest_init(&a->rest, &a->n_rest, argc, argv, argv[1], 0))
        return EXIT_RUNTIME;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--stages") == 0 || strcmp(arg, "--times") == 0) {
            *(arg[2] == 's' ? &a->stages : &a->times) = 1;
            continue;
        }
        const char *v;
        int k = cli_next_own_flag(a->cmd, argc, argv, &i, funnel_flag, a->rest, &a->n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k < 0)
            continue;
        const char *flag = funnel_flags[k].name;
        int kind = funnel_flags[k].kind;
        if (kind == FLAG_ONE) {
            *(const char **)((char *)a + funnel_flags[k].field) = v;
        } else if (kind == FLAG_FUNNEL) {
            if (a->n_funnels == MAX_FUNNELS)
                return cli_error(EXIT_USAGE, "%s: at most %d --funnel options", a->cmd,
                                 MAX_FUNNELS);
            a->funnels[a->n_funnels++] = v;
        } else {
            flag_list *l = list_of(a, kind);
            if (l->n == MAX_LIST)
                return cli_error(EXIT_USAGE, "%s: at most %d %s options", a->cmd, MAX_LIST, flag);
            l->v[l->n++] = v;
        }
    }
    a->rest[a->n_rest] = NULL;
    return 0;
}

/* A private, writable copy of s (freed with a). */
static char *copy(funnel_args *a, const char *s)
{
    size_t n = strlen(s) + 1;
    if (a->n_copies == sizeof a->copies / sizeof *a->copies)
        return NULL; /* cannot happen: the option lists are capped before */
    char *c = malloc(n);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    a->copies[a->n_copies++] = c;
    return c;
}

/* "N:REST": N (1 ... max) and REST; 0 or -1. */
static int split_number(uint32_t *n, const char **rest, const char *s, uint32_t max)
{
    const char *colon = strchr(s, ':');
    char num[16];
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof num)
        return -1;
    memcpy(num, s, (size_t)(colon - s));
    num[colon - s] = '\0';
    if (cli_parse_uint(n, num, UINT32_MAX) || *n < 1 || *n > max)
        return -1;
    *rest = colon + 1;
    return 0;
}

/* "PROP=VALUE" or "PROP!=VALUE" (split at the first '=') into a step's predicate. */
static int set_predicate(funnel_args *a, persona_funnel_step *s, const char *spec)
{
    char *c = copy(a, spec);
    if (!c)
        return cli_error(EXIT_RUNTIME, "out of memory");
    char *eq = strchr(c, '=');
    if (!eq)
        return -1;
    int ne = eq > c && eq[-1] == '!';
    char *prop_end = ne ? eq - 1 : eq;
    if (prop_end == c || !eq[1])
        return -1;
    *prop_end = '\0';
    s->where_property = c;
    s->where_value = eq + 1;
    s->where_op = ne ? PERSONA_WHERE_NE : PERSONA_WHERE_EQ;
    return 0;
}

static int resolve_steps(funnel_args *a)
{
    char *list = copy(a, a->steps);
    if (!list)
        return cli_error(EXIT_RUNTIME, "out of memory");
    size_t n = 0;
    for (char *tok = list;;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (!*tok)
            return cli_error(EXIT_USAGE, "%s: --steps wants EVENT,EVENT,... with no empty step, "
                                         "got '%s'", a->cmd, a->steps);
        if (n == MAX_STEPS)
            return cli_error(EXIT_USAGE, "%s: --steps: at most %d steps", a->cmd, MAX_STEPS);
        persona_funnel_step_init(&a->step[n], sizeof a->step[n]);
        a->step[n].event_type = tok;
        a->step_ptr[n] = &a->step[n];
        n++;
        if (!comma)
            break;
        tok = comma + 1;
    }
    a->opts.steps = a->step_ptr;
    a->opts.n_steps = n;
    return 0;
}

static int resolve_step_flags(funnel_args *a)
{
    uint32_t n_steps = (uint32_t)a->opts.n_steps;
    for (size_t i = 0; i < a->where.n; i++) {
        const char *v = a->where.v[i], *rest;
        uint32_t k;
        if (split_number(&k, &rest, v, n_steps))
            return cli_error(EXIT_USAGE, "%s: --step-where wants STEP:PROP=VALUE or "
                                         "STEP:PROP!=VALUE with STEP 1 ... %u, got '%s'",
                             a->cmd, n_steps, v);
        if (a->step_where_set[k - 1]++)
            return cli_error(EXIT_USAGE, "%s: --step-where: step %u has a predicate already "
                                         "(one per step)", a->cmd, k);
        int rc = set_predicate(a, &a->step[k - 1], rest);
        if (rc > 0)
            return rc;
        if (rc)
            return cli_error(EXIT_USAGE, "%s: --step-where wants STEP:PROP=VALUE or "
                                         "STEP:PROP!=VALUE (non-empty PROP and VALUE), got '%s'",
                             a->cmd, v);
    }
    for (int max = 0; max <= 1; max++) {
        const flag_list *l = max ? &a->max_gap : &a->min_gap;
        const char *flag = max ? "--max-gap" : "--min-gap";
        for (size_t i = 0; i < l->n; i++) {
            const char *v = l->v[i], *rest;
            uint32_t k;
            int64_t ms;
            if (split_number(&k, &rest, v, n_steps) || k < 2 || cli_parse_duration(&ms, rest))
                return cli_error(EXIT_USAGE, "%s: %s wants STEP:DURATION with STEP 2 ... %u "
                                             "(the gap from step STEP-1) and a duration such "
                                             "as 90s, 30m, 24h or 7d, got '%s'",
                                 a->cmd, flag, n_steps, v);
            int *set = max ? a->step_max_set : a->step_min_set;
            if (set[k - 1]++)
                return cli_error(EXIT_USAGE, "%s: %s: step %u is given twice", a->cmd, flag, k);
            *(max ? &a->step[k - 1].max_ms : &a->step[k - 1].min_ms) = ms;
        }
    }
    for (size_t j = 0; j < a->opts.n_steps; j++)
        if (a->step[j].max_ms && a->step[j].min_ms > a->step[j].max_ms)
            return cli_error(EXIT_USAGE, "%s: step %zu: --min-gap is longer than --max-gap",
                             a->cmd, j + 1);
    return 0;
}

/* A suffix ":FROM-TO" (digits) at the end of s: its position, else NULL. */
static const char *range_suffix(const char *s, uint32_t *from, uint32_t *to)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return NULL;
    const char *dash = strchr(colon, '-');
    char num[16];
    if (!dash || dash == colon + 1 || (size_t)(dash - colon - 1) >= sizeof num)
        return NULL;
    memcpy(num, colon + 1, (size_t)(dash - colon - 1));
    num[dash - colon - 1] = '\0';
    if (cli_parse_uint(from, num, UINT32_MAX) || cli_parse_uint(to, dash + 1, UINT32_MAX))
        return NULL;
    return colon;
}

static int resolve_exclusions(funnel_args *a)
{
    for (size_t i = 0; i < a->exclude.n; i++) {
        const char *v = a->exclude.v[i];
        persona_funnel_exclusion *x = &a->excl[i];
        persona_funnel_step *ev = &a->excl_event[i];
        persona_funnel_exclusion_init(x, sizeof *x);
        persona_funnel_step_init(ev, sizeof *ev);
        char *c = copy(a, v);
        if (!c)
            return cli_error(EXIT_RUNTIME, "out of memory");
        uint32_t from = 0, to = 0;
        const char *suffix = range_suffix(c, &from, &to);
        if (suffix) {
            c[suffix - c] = '\0';
            x->from_step = from;
            x->to_step = to;
        }
        if (!*c)
            return cli_error(EXIT_USAGE, "%s: --exclude wants EVENT or EVENT:FROM-TO, got '%s'",
                             a->cmd, v);
        if (a->opts.n_steps < 2)
            return cli_error(EXIT_USAGE, "%s: --exclude needs a funnel of 2 steps or more",
                             a->cmd);
        if (suffix && (from < 1 || from >= to || to > a->opts.n_steps))
            return cli_error(EXIT_USAGE, "%s: --exclude EVENT:FROM-TO wants 1 <= FROM < TO <= "
                                         "%zu (the steps it lies between), got '%s'",
                             a->cmd, a->opts.n_steps, v);
        ev->event_type = c;
        x->event = ev;
        a->excl_ptr[i] = x;
    }
    for (size_t i = 0; i < a->exclude_where.n; i++) {
        const char *v = a->exclude_where.v[i], *rest;
        uint32_t k;
        if (split_number(&k, &rest, v, (uint32_t)a->exclude.n))
            return cli_error(EXIT_USAGE, "%s: --exclude-where wants N:PROP=VALUE or "
                                         "N:PROP!=VALUE, N = 1 ... the number of --exclude "
                                         "options (%zu), got '%s'",
                             a->cmd, a->exclude.n, v);
        if (a->excl_where_set[k - 1]++)
            return cli_error(EXIT_USAGE, "%s: --exclude-where: exclusion %u has a predicate "
                                         "already (one each)", a->cmd, k);
        int rc = set_predicate(a, &a->excl_event[k - 1], rest);
        if (rc > 0)
            return rc;
        if (rc)
            return cli_error(EXIT_USAGE, "%s: --exclude-where wants N:PROP=VALUE or "
                                         "N:PROP!=VALUE (non-empty PROP and VALUE), got '%s'",
                             a->cmd, v);
    }
    a->opts.exclusions = a->exclude.n ? a->excl_ptr : NULL;
    a->opts.n_exclusions = a->exclude.n;
    return 0;
}

static int resolve_time(int64_t *out, funnel_args *a, const char *flag, const char *v)
{
    if (persona_time_parse(out, v, strlen(v), NULL, a->opts.utc_offset_minutes) != PERSONA_OK)
        return cli_error(EXIT_USAGE, "%s: %s '%s': %s", a->cmd, flag, v, persona_errmsg());
    return 0;
}

/* The trend period of --trend (0 = not given), or a usage error. */
static int resolve_trend(funnel_args *a)
{
    if (a->trend && cli_period_of(a->trend, 0) < 0)
        return cli_error(EXIT_USAGE, "%s: --trend wants hour, day, week, month, quarter or "
                                     "year, got '%s'", a->cmd, a->trend);
    return 0;
}

/* Every build flag into a->opts (and o->session_gap_ms); 0 or an exit code. */
static int resolve(funnel_args *a, cli_options *o)
{
    persona_funnel_options *op = &a->opts;
    persona_funnel_options_init(op, sizeof *op);
    op->utc_offset_minutes = o->map.time_offset_minutes;
    int rc;
    if (!a->steps)
        return cli_error(EXIT_USAGE, "%s: --steps is required, e.g. --steps "
                                     "view,addtocart,transaction (or --funnel FILE to print a "
                                     "saved funnel)", a->cmd);
    if ((rc = resolve_steps(a)) || (rc = resolve_step_flags(a)) || (rc = resolve_exclusions(a)))
        return rc;
    if (a->window && cli_parse_duration(&op->window_ms, a->window))
        return cli_error(EXIT_USAGE, "%s: --window wants a duration such as 90s, 30m, 24h or "
                                     "7d, got '%s'", a->cmd, a->window);
    if (a->order) {
        if (strcmp(a->order, "loose") == 0)
            op->order = PERSONA_FUNNEL_LOOSE;
        else if (strcmp(a->order, "strict") == 0)
            op->order = PERSONA_FUNNEL_STRICT;
        else if (strcmp(a->order, "any") == 0)
            op->order = PERSONA_FUNNEL_ANY_ORDER;
        else
            return cli_error(EXIT_USAGE, "%s: --order wants loose, strict or any, got '%s'",
                             a->cmd, a->order);
    }
    if (a->count) {
        if (strcmp(a->count, "users") == 0)
            op->count = PERSONA_FUNNEL_USERS;
        else if (strcmp(a->count, "totals") == 0)
            op->count = PERSONA_FUNNEL_TOTALS;
        else if (strcmp(a->count, "sessions") == 0)
            op->count = PERSONA_FUNNEL_SESSIONS;
        else
            return cli_error(EXIT_USAGE, "%s: --count wants users, totals or sessions, got '%s'",
                             a->cmd, a->count);
    }
    if (a->session_gap) {
        if (op->count != PERSONA_FUNNEL_SESSIONS)
            return cli_error(EXIT_USAGE, "%s: --session-gap applies to --count sessions only",
                             a->cmd);
        if (o->store)
            return cli_error(EXIT_USAGE, "%s: --session-gap does not apply to --store (a saved "
                                         "store keeps the gap it was created with)", a->cmd);
        if (cli_parse_duration(&o->session_gap_ms, a->session_gap))
            return cli_error(EXIT_USAGE, "%s: --session-gap wants a duration such as 90s, 30m, "
                                         "24h or 7d, got '%s'", a->cmd, a->session_gap);
    }
    if (a->hold) {
        if (!*a->hold)
            return cli_error(EXIT_USAGE, "%s: --hold wants a property name (or item)", a->cmd);
        op->hold_property = a->hold;
    }
    if (a->trend)
        op->trend_period = cli_period_of(a->trend, 0);
    if (a->consent) {
        if (!*a->consent)
            return cli_error(EXIT_USAGE, "%s: --consent wants a purpose", a->cmd);
        op->consent_purpose = a->consent;
    }
    if (a->from && (rc = resolve_time(&op->from_ms, a, "--from", a->from)))
        return rc;
    if (a->to && (rc = resolve_time(&op->to_ms, a, "--to", a->to)))
        return rc;
    if (a->from && a->to && op->from_ms >= op->to_ms)
        return cli_error(EXIT_USAGE, "%s: --from %s is not before --to %s", a->cmd, a->from,
                         a->to);
    a->trend_period = op->trend_period ? op->trend_period : PERSONA_PERIOD_MONTH;
    a->utc_offset_minutes = op->utc_offset_minutes;
    return 0;
}

/* Options that shape a build, which a --funnel run cannot apply. */
static const char *build_flag_given(const funnel_args *a, const cli_options *o)
{
    if (a->steps) return "--steps";
    if (a->window) return "--window";
    if (a->order) return "--order";
    if (a->count) return "--count";
    if (a->session_gap) return "--session-gap";
    if (a->hold) return "--hold";
    if (a->consent) return "--consent";
    if (a->from) return "--from";
    if (a->to) return "--to";
    if (a->where.n) return "--step-where";
    if (a->min_gap.n) return "--min-gap";
    if (a->max_gap.n) return "--max-gap";
    if (a->exclude.n) return "--exclude";
    if (a->exclude_where.n) return "--exclude-where";
    if (o->file) return "FILE";
    if (o->store) return "--store";
    if (o->mapping_given || o->map.time_offset_minutes) return "a mapping option";
    return NULL;
}

static int write_file(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

/* --funnel FILE...: load saved funnels and merge them into the first. */
static int load_funnels(persona_funnel **out, const funnel_args *a)
{
    persona_funnel *fn = NULL;
    for (size_t i = 0; i < a->n_funnels; i++) {
        persona_funnel *part = NULL;
        if (persona_funnel_load(&part, a->funnels[i]) != PERSONA_OK) {
            persona_funnel_free(fn);
            return cli_error(EXIT_RUNTIME, "%s: --funnel %s: %s", a->cmd, a->funnels[i],
                             persona_errmsg());
        }
        if (!fn) {
            fn = part;
            continue;
        }
        int rc = persona_funnel_merge(fn, part);
        persona_funnel_free(part);
        if (rc != PERSONA_OK) {
            persona_funnel_free(fn);
            return cli_error(EXIT_RUNTIME, "%s: cannot merge %s: %s", a->cmd, a->funnels[i],
                             persona_errmsg());
        }
    }
    *out = fn;
    return 0;
}

/* The trend period and offset a saved funnel was built with: the API has no accessor, so
 * they are read from the options object that opens its JSON export. */
static int saved_trend_options(funnel_args *a, const persona_funnel *fn)
{
    char *json = NULL;
    if (persona_funnel_export_buffer(&json, NULL, fn, PERSONA_FUNNEL_EXPORT_JSON) != PERSONA_OK)
        return cli_lib_error("export");
    /* inside a JSON string a quote is escaped, so the first match is the member itself */
    const char *p = strstr(json, ",\"trend_period\":\"");
    const char *q = strstr(json, ",\"utc_offset_minutes\":");
    int rc = 0;
    if (!p || !q) {
        rc = cli_error(EXIT_RUNTIME, "%s: cannot read the trend options of the saved funnel",
                       a->cmd);
    } else {
        char name[16] = "";
        sscanf(p + strlen(",\"trend_period\":\""), "%15[a-z]", name);
        a->trend_period = cli_period_of(name, 0);
        a->utc_offset_minutes = (int32_t)strtol(q + strlen(",\"utc_offset_minutes\":"), NULL, 10);
        if (a->trend_period < 0)
            rc = cli_error(EXIT_RUNTIME, "%s: unknown trend period '%s' in the saved funnel",
                           a->cmd, name);
    }
    persona_free(json);
    return rc;
}

static int build_funnel(persona_funnel **out, funnel_args *a, cli_options *o)
{
    persona_store *store = NULL;
    persona_ingest_stats st;
    int rc = cli_load(&store, &st, o);
    if (rc)
        return rc;
    int brc = persona_funnel_build(out, store, &a->opts);
    persona_store_free(store);
    if (brc == PERSONA_EINVAL)
        return cli_error(EXIT_USAGE, "%s: %s", a->cmd, persona_errmsg());
    return brc ? cli_lib_error(a->cmd) : 0;
}

/* `period,entered,converted,conversion`, one row per period of the trend. */
static int print_trend(FILE *f, const funnel_args *a, const persona_funnel *fn)
{
    size_t n = 0;
    if (persona_funnel_trend_count(&n, fn) != PERSONA_OK)
        return cli_lib_error("trend");
    fputs("period,entered,converted,conversion\n", f);
    for (size_t i = 0; i < n; i++) {
        int64_t start = 0;
        uint64_t entered = 0, converted = 0;
        char label[32];
        if (persona_funnel_trend_at(&start, &entered, &converted, fn, i) != PERSONA_OK ||
            persona_time_label(label, sizeof label, NULL, start, a->trend_period,
                               a->utc_offset_minutes) != PERSONA_OK)
            return cli_lib_error("trend");
        fprintf(f, "%s,%llu,%llu,", label, (unsigned long long)entered,
                (unsigned long long)converted);
        cli_put_num(f, entered ? (double)converted / (double)entered : NAN, 0);
        fputc('\n', f);
    }
    return 0;
}

/* Time from the previous step: quantiles in seconds and the histogram, one row per step. */
static int print_times(FILE *f, const persona_funnel *fn)
{
    static const double qs[] = { 0, 0.25, 0.5, 0.75, 0.9, 1 };
    size_t n = 0;
    if (persona_funnel_step_count(&n, fn) != PERSONA_OK)
        return cli_lib_error("times");
    fputs("step,event,users,min_seconds,p25_seconds,median_seconds,p75_seconds,p90_seconds,"
          "max_seconds,under_1m,1m_5m,5m_15m,15m_1h,1h_6h,6h_1d,1d_7d,7d_plus\n", f);
    for (size_t j = 0; j < n; j++) {
        size_t len = 0;
        if (persona_funnel_step_event(NULL, 0, &len, fn, j) != PERSONA_EBUFS)
            return cli_lib_error("times");
        char *event = malloc(len + 1);
        uint64_t units = 0, hist[PERSONA_FUNNEL_TIME_BUCKETS];
        if (!event)
            return cli_error(EXIT_RUNTIME, "out of memory");
        if (persona_funnel_step_event(event, len + 1, NULL, fn, j) != PERSONA_OK ||
            persona_funnel_units(&units, fn, j) != PERSONA_OK ||
            persona_funnel_time_histogram(hist, PERSONA_FUNNEL_TIME_BUCKETS, NULL, fn, j) !=
                PERSONA_OK) {
            free(event);
            return cli_lib_error("times");
        }
        fprintf(f, "%zu,", j + 1);
        cli_put_cell(f, event, strlen(event));
        free(event);
        fprintf(f, ",%llu", (unsigned long long)units);
        for (size_t q = 0; q < sizeof qs / sizeof *qs; q++) {
            double v = NAN;
            if (persona_funnel_time_quantile(&v, fn, j, qs[q]) != PERSONA_OK)
                return cli_lib_error("times");
            fputc(',', f);
            cli_put_num(f, v / 1000.0, 0);
        }
        for (int k = 0; k < PERSONA_FUNNEL_TIME_BUCKETS; k++)
            fprintf(f, ",%llu", (unsigned long long)hist[k]);
        fputc('\n', f);
    }
    return 0;
}

static int print_funnel(const funnel_args *a, const cli_options *o, const persona_funnel *fn)
{
    FILE *f = cli_open_output(o);
    if (!f)
        return EXIT_RUNTIME;
    int rc = 0, json = o->format && strcmp(o->format, "json") == 0;
    if (json || a->stages || (!a->times && !a->trend)) {
        int fmt = json ? PERSONA_FUNNEL_EXPORT_JSON
                  : a->stages ? PERSONA_FUNNEL_EXPORT_STAGES_CSV
                              : PERSONA_FUNNEL_EXPORT_CSV;
        if (persona_funnel_export(fn, fmt, write_file, f) != PERSONA_OK)
            rc = cli_lib_error("export");
    } else if (a->times) {
        rc = print_times(f, fn);
    } else {
        rc = print_trend(f, a, fn);
    }
    int crc = cli_close_output(f, o);
    return rc ? rc : crc;
}

/* Output flags that exclude each other; 0 or a usage error. */
static int check_output(const funnel_args *a, const cli_options *o)
{
    if (o->format && strcmp(o->format, "text") == 0)
        return cli_error(EXIT_USAGE, "%s: --format wants csv or json", a->cmd);
    int json = o->format && strcmp(o->format, "json") == 0;
    if (a->stages + a->times > 1 || (a->stages && a->trend && !json) ||
        (a->times && a->trend && !json))
        return cli_error(EXIT_USAGE, "%s: --stages, --times and --trend each print another "
                                     "table: give one", a->cmd);
    if (json && (a->stages || a->times))
        return cli_error(EXIT_USAGE, "%s: %s writes CSV only (--format json has the times and "
                                     "the number of users who entered, not their stages)",
                         a->cmd, a->stages ? "--stages" : "--times");
    return 0;
}

static int run(funnel_args *a, int argc, char **argv)
{
    cli_options o;
    persona_funnel *fn = NULL;
    int rc = split_args(a, argc, argv);
    if (rc == 0)
        rc = cli_parse(&o, a->n_rest, a->rest, 0);
    else
        memset(&o, 0, sizeof o);
    if (rc || (rc = check_output(a, &o)) || (rc = resolve_trend(a)))
        goto done;
    if (a->n_funnels) {
        const char *bad = build_flag_given(a, &o);
        if (bad) {
            rc = cli_error(EXIT_USAGE, "%s: --funnel prints saved funnels; %s does not apply "
                                       "(the options were fixed when the funnel was built)",
                           a->cmd, bad);
            goto done;
        }
        if ((rc = load_funnels(&fn, a)) || (rc = saved_trend_options(a, fn)))
            goto done;
        if (a->trend && cli_period_of(a->trend, 0) != a->trend_period) {
            rc = cli_error(EXIT_USAGE, "%s: the saved funnel's trend is by %s, not %s (the "
                                       "period was fixed when it was built)",
                           a->cmd, cli_period_names[a->trend_period], a->trend);
            goto done;
        }
    } else {
        if ((rc = resolve(a, &o)) || (rc = build_funnel(&fn, a, &o)))
            goto done;
    }
    if (a->save && persona_funnel_save(fn, a->save) != PERSONA_OK)
        rc = cli_lib_error("cannot save the funnel");
    else
        rc = print_funnel(a, &o, fn);
done:
    persona_funnel_free(fn);
    cli_options_free(&o);
    funnel_args_free(a);
    return rc;
}

static int funnel_help(void)
{
    fputs(
        "usage: persona funnel --steps A,B,C [options] [FILE]\n"
        "       persona funnel --funnel SAVED [--funnel SAVED...] [output options]\n"
        "\n"
        "Conversion funnel: how many users reached each step, in order, within a window\n"
        "from their step-1 event. Output: step,event,users,conversion_from_prev,\n"
        "conversion_from_first,median_seconds_from_prev (users = the units counted, see\n"
        "--count; conversions are fractions, empty when the base is 0; the median time from\n"
        "the previous step in seconds, empty for step 1 and when nobody reached the step).\n"
        "\n"
        "A user reaches step k when they have distinct events e1, e2, ..., ek with\n"
        "time(e1) <= time(e2) <= ... <= time(ek), ei of step i's type and predicate, and\n"
        "time(ek) - time(e1) <= the window. Other events may come between steps, and\n"
        "consecutive steps may share a time whatever the order of those events in the input\n"
        "(only --order strict follows the input order of events at one time).\n"
        "The DuckDB anchor's funnel (ordered, other events allowed between, window measured\n"
        "from step 1, ties allowed: t1 <= t2 <= t3 <= t1 + window) is\n"
        "the default --order loose with --window:\n"
        "  persona funnel --steps view,addtocart,transaction --window 24h events.csv\n"
        "\n",
        stdout);
    fputs(
        "funnel options:\n"
        "  --steps A,B,C        the event types of the steps, in order (1 ... 32; required\n"
        "                       unless --funnel); a type may repeat (purchase,purchase)\n"
        "  --window DURATION    conversion window from the step-1 event (default 14d); 90s,\n"
        "                       30m, 24h, 7d, 2w (also ms)\n"
        "  --order O            loose (default: other events may come between steps),\n"
        "                       strict (step i+1 is the user's very next event after step i),\n"
        "                       any (k distinct steps, in any order, within the window of the\n"
        "                       earliest; predicates and --hold apply, gaps and exclusions\n"
        "                       do not)\n"
        "  --count C            users (default: a user counts once, at their furthest step),\n"
        "                       totals (every step-1 event is an entry counted on its own),\n"
        "                       sessions (each session of a user is a unit of its own)\n"
        "  --session-gap DURATION  with --count sessions: the inactivity gap that starts a\n"
        "                       new session (default 30m; not with --store, whose gap is saved)\n"
        "  --step-where STEP:PROP=VALUE, --step-where STEP:PROP!=VALUE\n"
        "                       step STEP (1-based) matches only events whose property PROP\n"
        "                       (mapped with --prop, or item) is VALUE / is absent or not VALUE;\n"
        "                       split at the first '='; one per step, repeatable over steps\n"
        "  --min-gap STEP:DURATION, --max-gap STEP:DURATION\n"
        "                       least / most time from step STEP-1 to step STEP (STEP >= 2)\n"
        "  --exclude EVENT[:FROM-TO]  a conversion breaks when an EVENT lies strictly\n"
        "                       between steps FROM and TO (default: between step 1 and the\n"
        "                       last); repeatable. An EVENT that ends in :N-M itself must be\n"
        "                       given a range\n"
        "  --exclude-where N:PROP=VALUE, --exclude-where N:PROP!=VALUE\n"
        "                       a predicate on the event of the N-th --exclude\n"
        "  --hold PROP          every step's event must have the value of property PROP (or\n"
        "                       item) that the step-1 event has; events without it match no\n"
        "                       step\n"
        "",
        stdout);
    fputs(
        "  --consent PURPOSE    count only users who granted consent for PURPOSE\n"
        "  --from TIME, --to TIME  only entries (step-1 events) in [from, to); a date or ISO\n"
        "                       time, local at --utc-offset unless it has a zone\n"
        "  --utc-offset ±HH:MM  local time of the trend periods and of --from/--to; also the\n"
        "                       offset of input times written without a zone (default +00:00)\n"
        "  --trend P            print the trend instead: period,entered,converted,conversion\n"
        "                       per hour, day, week, month (the default of --format json and\n"
        "                       --save), quarter or year of the entry (the step-1 event of\n"
        "                       the counted path); converted = reached the last step\n"
        "  --stages             print user,stage instead: every user who entered and their\n"
        "                       furthest step, sorted by key\n"
        "  --times              print the time from the previous step instead:\n"
        "                       step,event,users,min/p25/median/p75/p90/max _seconds and a\n"
        "                       histogram (under_1m, 1m_5m, 5m_15m, 15m_1h, 1h_6h, 6h_1d,\n"
        "                       1d_7d, 7d_plus)\n"
        "  --format F           csv (default) or json (one object: options, steps with time\n"
        "                       quantiles and histograms, trend, number of users)\n"
        "  --save FILE          also save the funnel as a snapshot FILE (not the store)\n"
        "  --funnel FILE        print a funnel saved with --save instead of reading events;\n"
        "                       repeat to merge partial funnels built with the same options\n"
        "                       from disjoint users (with --trend, --stages, --times,\n"
        "                       --format, --save, -o)\n"
        "  --store SNAPSHOT     the events of a store saved with 'persona stats --save' (plus\n"
        "                       FILE's, when given)\n"
        "\n",
        stdout);
    cli_analysis_help();
    return 0;
}

int cmd_funnel(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return funnel_help();
    funnel_args *a = calloc(1, sizeof *a);
    if (!a)
        return cli_error(EXIT_RUNTIME, "out of memory");
    a->cmd = argv[1];
    int rc = run(a, argc, argv);
    free(a);
    return rc;
}
