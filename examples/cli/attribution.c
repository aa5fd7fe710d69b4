/* The attribution command (include/persona/attribution.h, docs/attribution.md): builds the
 * channel journeys of the events (FILE and/or --store, the usual mapping; the channel is a
 * --prop of the mapping) or loads saved ones (--journeys), and prints each channel's
 * credited conversions and value under one model as CSV or JSON:
 *   channel,conversions,value,share[,removal_effect,removal_effect_value (markov)] */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct attr_args {
    const char *cmd;
    const char *channel, *conversion, *model, *order, *touch, *lookback, *half_life, *weights,
        *consent, *journeys, *save_journeys;
    char **rest;
    int n_rest;
    char *conv_buf, *touch_buf;
    const char **conv_types, **touch_types;
    size_t n_conv, n_touch;
} attr_args;

static const struct {
    const char *name;
    size_t field;
} attr_flags[] = {
    { "--channel", offsetof(attr_args, channel) },
    { "--conversion", offsetof(attr_args, conversion) },
    { "--model", offsetof(attr_args, model) },
    { "--order", offsetof(attr_args, order) },
    { "--touch", offsetof(attr_args, touch) },
    { "--lookback", offsetof(attr_args, lookback) },
    { "--half-life", offsetof(attr_args, half_life) },
    { "--weights", offsetof(attr_args, weights) },
    { "--consent", offsetof(attr_args, consent) },
    { "--journeys", offsetof(attr_args, journeys) },
    { "--save-journeys", offsetof(attr_args, save_journeys) },
};

static const char *const model_names[] = { "markov", "first", "last", "linear", "position",
                                           "decay" };

static int attr_flag(const char *flag)
{
    for (size_t k = 0; k < sizeof attr_flags / sizeof *attr_flags; k++)
        if (strcmp(flag, attr_flags[k].name) == 0)
            return (int)k;
    return -1;
}

static void attr_args_free(attr_args *a)
{
    free(a->rest);
    free(a->conv_buf);
    free(a->touch_buf);
    free(a->conv_types);
    free(a->touch_types);
}

static int split_args(attr_args *a, int argc, char **argv)
{
    if (cli_rest_init(&a->rest, &a->n_rest, argc, argv, argv[1], 0))
        return EXIT_RUNTIME;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int k = cli_next_own_flag(a->cmd, argc, argv, &i, attr_flag, a->rest, &a->n_rest, &v);
        if (k == -2)
            return EXIT_USAGE;
        if (k >= 0)
            *(const char **)((char *)a + attr_flags[k].field) = v;
    }
    a->rest[a->n_rest] = NULL;
    return 0;
}

/* The model options of --model, --order and --weights; 0 or an exit code. */
static int model_options(persona_attribution_model_options *mo, const attr_args *a)
{
    persona_attribution_model_options_init(mo, sizeof *mo);
    mo->model = -1;
    for (int32_t m = 0; m < PERSONA_ATTRIBUTION_MODELS; m++)
        if (strcmp(a->model ? a->model : "markov", model_names[m]) == 0)
            mo->model = m;
    if (mo->model < 0)
        return cli_error(EXIT_USAGE, "%s: --model wants markov, first, last, linear, position "
                                     "or decay, got '%s'", a->cmd, a->model);
    uint32_t order = 1;
    if (a->order && (cli_parse_uint(&order, a->order, 1000) || order < 1 ||
                     order > PERSONA_ATTRIBUTION_MAX_ORDER))
        return cli_error(EXIT_USAGE, "%s: --order wants the Markov order 1 to %d, got '%s'",
                         a->cmd, PERSONA_ATTRIBUTION_MAX_ORDER, a->order);
    mo->order = (int32_t)order;
    if (a->weights) {
        char *end = NULL;
        mo->position_first = strtod(a->weights, &end);
        if (*end == ',')
            mo->position_middle = strtod(end + 1, &end);
        if (*end == ',')
            mo->position_last = strtod(end + 1, &end);
        if (*end || end == a->weights)
            return cli_error(EXIT_USAGE, "%s: --weights wants FIRST,MIDDLE,LAST summing to 1, "
                                         "got '%s'", a->cmd, a->weights);
    }
    return 0;
}

/* The journeys: built from the events, or --journeys. */
static int get_journeys(persona_attribution **out, attr_args *a, cli_options *o)
{
    if (a->journeys) {
        if (a->channel || a->conversion || a->touch || a->lookback || a->half_life || a->consent)
            return cli_error(EXIT_USAGE, "%s: --journeys loads saved journeys; --channel, "
                             "--conversion, --touch, --lookback, --half-life and --consent were "
                             "fixed when they were built", a->cmd);
        if (persona_attribution_load(out, a->journeys) != PERSONA_OK)
            return cli_error(EXIT_RUNTIME, "%s: --journeys: %s", a->cmd, persona_errmsg());
        return 0;
    }
    if (!a->channel || !a->conversion)
        return cli_error(EXIT_USAGE, "%s: --channel PROP and --conversion EVENT are required",
                         a->cmd);
    persona_attribution_options op;
    persona_attribution_options_init(&op, sizeof op);
    op.channel_prop = a->channel;
    op.consent_purpose = a->consent;
    int rc = cli_split_list(&a->conv_buf, &a->conv_types, &a->n_conv, a->cmd, "--conversion",
                            a->conversion);
    if (!rc && a->touch)
        rc = cli_split_list(&a->touch_buf, &a->touch_types, &a->n_touch, a->cmd, "--touch",
                            a->touch);
    if (rc)
        return rc;
    op.conversion_types = a->conv_types;
    op.n_conversion_types = a->n_conv;
    op.touch_types = a->touch_types;
    op.n_touch_types = a->n_touch;
    if (a->lookback && cli_parse_duration(&op.lookback_ms, a->lookback))
        return cli_error(EXIT_USAGE, "%s: --lookback wants a duration such as 30d, got '%s'",
                         a->cmd, a->lookback);
    if (a->half_life && cli_parse_duration(&op.half_life_ms, a->half_life))
        return cli_error(EXIT_USAGE, "%s: --half-life wants a duration such as 7d, got '%s'",
                         a->cmd, a->half_life);
    /* the channel must be a column of the events: --prop NAME=COL, by default COL = NAME */
    int mapped = 0;
    for (size_t i = 0; i < o->n_props; i++)
        mapped |= strcmp(o->prop_names[i], a->channel) == 0;
    if (!mapped && o->file && o->n_props < CLI_MAX_PROPS) {
        o->prop_names[o->n_props] = a->channel;
        o->prop_cols[o->n_props++] = a->channel;
        o->map.n_props = o->n_props;
    }
    persona_store *store = NULL;
    if ((rc = cli_load(&store, NULL, o)))
        return rc;
    if (persona_attribution_build(out, store, &op) != PERSONA_OK)
        rc = cli_lib_error("attribution");
    persona_store_free(store);
    return rc;
}

static void print(FILE *f, const persona_attribution *set, const double *v, size_t n, int markov,
                  int json)
{
    double total = 0;
    for (size_t c = 0; c < n; c++)
        total += v[c];
    fputs(json ? "[" : markov ? "channel,conversions,value,share,removal_effect,"
                                "removal_effect_value\n"
                              : "channel,conversions,value,share\n", f);
    static const char *const keys[] = { "conversions", "value", "share", "removal_effect",
                                        "removal_effect_value" };
    for (size_t c = 0; c < n; c++) {
        char name[PERSONA_MAX_KEY_LEN + 1];
        size_t len = 0;
        persona_attribution_channel_name(name, sizeof name, &len, set, c);
        if (json) {
            fputs(c ? ",\n{\"channel\":" : "{\"channel\":", f);
            cli_put_json(f, name, len);
        } else {
            cli_put_cell(f, name, len);
        }
        double row[5] = { v[c], v[n + c], total > 0 ? v[c] / total : 0, v[2 * n + c],
                          v[3 * n + c] };
        for (int k = 0; k < (markov ? 5 : 3); k++) {
            if (json)
                fprintf(f, ",\"%s\":", keys[k]);
            else
                fputc(',', f);
            cli_put_num(f, row[k], json);
        }
        fputs(json ? "}" : "\n", f);
    }
    if (json)
        fputs("]\n", f);
}

static void help(void)
{
    puts("usage: persona attribution --channel PROP --conversion EVENT[,EVENT...] [options] [FILE]\n"
         "\n"
         "Multi-touch attribution of the conversions to the channels of the journeys before\n"
         "them (docs/attribution.md). The channel is the value of the event property PROP\n"
         "(a column of FILE mapped with --prop PROP=COL; by default the column PROP).\n"
         "\n"
         "  --channel PROP          the property whose value is the channel (campaign, referrer)\n"
         "  --conversion EVENTS     conversion event types (a conversion ends a journey)\n"
         "  --model M               markov (default), first, last, linear, position, decay\n"
         "  --order K               Markov order 1 to 4 (default 1)\n"
         "  --weights F,M,L         position-based weights summing to 1 (default 0.4,0.2,0.4)\n"
         "  --touch EVENTS          touchpoints are these event types (\"(none)\" without PROP);\n"
         "                          default: every other event carrying PROP\n"
         "  --lookback DURATION     only touchpoints this long before the journey's end\n"
         "  --half-life DURATION    half-life of the decay model (default 7d)\n"
         "  --consent PURPOSE       only users who granted PURPOSE\n"
         "  --journeys FILE         use journeys saved with --save-journeys instead of events\n"
         "  --save-journeys FILE    save the journeys (snapshot) for later runs or merging\n"
         "  --format csv|json       output (default csv):\n"
         "                          channel,conversions,value,share[,removal_effect,\n"
         "                          removal_effect_value] (the last two with markov)\n");
    cli_analysis_help();
}

int cmd_attribution(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    attr_args a = { .cmd = argv[1] };
    cli_options o;
    persona_attribution *set = NULL;
    double *v = NULL;
    int rc = split_args(&a, argc, argv);
    if (!rc)
        rc = cli_parse(&o, a.n_rest, a.rest, 0);
    else
        memset(&o, 0, sizeof o);
    persona_attribution_model_options mo;
    if (!rc)
        rc = model_options(&mo, &a);
    int json = o.format && strcmp(o.format, "json") == 0;
    if (!rc && o.format && !json && strcmp(o.format, "csv") != 0)
        rc = cli_error(EXIT_USAGE, "%s: --format wants csv or json", a.cmd);
    if (!rc)
        rc = get_journeys(&set, &a, &o);
    if (!rc && a.save_journeys && persona_attribution_save(set, a.save_journeys) != PERSONA_OK)
        rc = cli_lib_error("cannot save the journeys");
    size_t n = 0;
    if (!rc) {
        persona_attribution_compute(NULL, NULL, NULL, NULL, 0, &n, set, &mo);
        v = malloc((4 * n + 1) * sizeof *v);
        if (!v)
            rc = cli_error(EXIT_RUNTIME, "out of memory");
    }
    if (!rc && persona_attribution_compute(v, v + n, v + 2 * n, v + 3 * n, n, &n, set, &mo) !=
                   PERSONA_OK)
        rc = cli_error(EXIT_USAGE, "%s: %s", a.cmd, persona_errmsg());
    if (!rc) {
        FILE *f = cli_open_output(&o);
        if (!f)
            rc = EXIT_RUNTIME;
        else {
            print(f, set, v, n, mo.model == PERSONA_ATTRIBUTION_MARKOV, json);
            rc = cli_close_output(f, &o);
        }
    }
    free(v);
    persona_attribution_free(set);
    cli_options_free(&o);
    attr_args_free(&a);
    return rc;
}
