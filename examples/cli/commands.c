/* The commands: version, stats, profiles, profile, erase, consent, alias, unmerge,
 * merge-log. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

extern const char cli_mapping_help[];

static int help(const char *synopsis, const char *what)
{
    printf("usage: persona %s\n\n%s\n\n%s", synopsis, what, cli_mapping_help);
    return 0;
}

/* Parse a data command's options and answer --help: -1 means go on, anything else is the
 * exit code to return (the options are freed then). */
static int parse_or_help(cli_options *o, int argc, char **argv, int allow_key,
                         const char *synopsis, const char *what)
{
    int rc = cli_parse(o, argc, argv, allow_key);
    if (rc || o->help) {
        cli_options_free(o);
        return rc ? rc : help(synopsis, what);
    }
    return -1;
}

int cmd_version(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: persona version\n\nPrint the library version and build features.\n");
            return 0;
        }
        return cli_error(EXIT_USAGE, "version: unexpected argument '%s'", argv[i]);
    }
    printf("persona %s (libpersona %s, %s)\n", PERSONA_VERSION_STRING, persona_version_string(),
           persona_build_features());
    return 0;
}

static void format_time(char *buf, size_t cap, int64_t t, int have)
{
    if (!have || persona_time_format(buf, cap, NULL, t, 0) != PERSONA_OK)
        buf[0] = '\0';
}

typedef struct stat_row {
    const char *name;
    char value[48];
} stat_row;

static void print_stats(FILE *f, const char *format, const stat_row *rows, size_t n,
                        const persona_ingest_stats *st)
{
    if (strcmp(format, "csv") == 0) {
        fputs("metric,value\n", f);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s,%s\n", rows[i].name, rows[i].value);
        return;
    }
    if (strcmp(format, "json") == 0) {
        fputc('{', f);
        for (size_t i = 0; i < n; i++) {
            /* Counts are numbers, times and empty values strings. */
            int numeric = rows[i].value[0] && strspn(rows[i].value, "0123456789.") == strlen(rows[i].value);
            fprintf(f, "%s\"%s\":%s%s%s", i ? "," : "", rows[i].name, numeric ? "" : "\"",
                    rows[i].value, numeric ? "" : "\"");
        }
        fputs(",\"rejected_examples\":{", f);
        int first = 1;
        for (int r = 0; r < PERSONA_REJECT_COUNT; r++) {
            if (!st->rejected[r])
                continue;
            fprintf(f, "%s\"%s\":[", first ? "" : ",", persona_reject_reason_name(r));
            for (int k = 0; k < PERSONA_REJECT_EXAMPLES && st->example_lines[r][k]; k++)
                fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)st->example_lines[r][k]);
            fputc(']', f);
            first = 0;
        }
        fputs("}}\n", f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%-26s %s", rows[i].name, rows[i].value);
        if (strncmp(rows[i].name, "rejected_", 9) == 0) {
            for (int r = 0; r < PERSONA_REJECT_COUNT; r++) {
                if (strcmp(rows[i].name + 9, persona_reject_reason_name(r)) || !st->rejected[r])
                    continue;
                fputs("  (lines", f);
                for (int k = 0; k < PERSONA_REJECT_EXAMPLES && st->example_lines[r][k]; k++)
                    fprintf(f, "%s %llu", k ? "," : "", (unsigned long long)st->example_lines[r][k]);
                fputs(st->rejected[r] > PERSONA_REJECT_EXAMPLES ? ", ...)" : ")", f);
            }
        }
        fputc('\n', f);
    }
}

int cmd_stats(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 0,
                           "stats [options] [FILE]",
                           "Ingest FILE and print what was read: rows, accepted and rejected events\n"
                           "(by reason, with the first line numbers), users, items, event types,\n"
                           "time range and memory per event and per profile.");
    if (rc >= 0)
        return rc;
    rc = 0;
    persona_store *store = NULL;
    persona_ingest_stats st;
    rc = cli_load(&store, &st, &o);
    if (rc) {
        cli_options_free(&o);
        return rc;
    }
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info, store);
    stat_row rows[16 + PERSONA_REJECT_COUNT];
    size_t n = 0;
#define ROW_U(label, v) (rows[n].name = (label), snprintf(rows[n++].value, sizeof rows[0].value, "%llu", (unsigned long long)(v)))
    ROW_U("rows_read", st.rows_read);
    ROW_U("events_accepted", st.events_accepted);
    ROW_U("events_rejected", st.events_rejected);
    static char reason_labels[PERSONA_REJECT_COUNT][40];
    for (int r = 0; r < PERSONA_REJECT_COUNT; r++) {
        snprintf(reason_labels[r], sizeof reason_labels[r], "rejected_%s", persona_reject_reason_name(r));
        ROW_U(reason_labels[r], st.rejected[r]);
    }
    ROW_U("users", info.users);
    ROW_U("items", info.items);
    ROW_U("event_types", info.event_types);
    rows[n].name = "first_time";
    format_time(rows[n++].value, sizeof rows[0].value, info.first_time_ms, info.events > 0);
    rows[n].name = "last_time";
    format_time(rows[n++].value, sizeof rows[0].value, info.last_time_ms, info.events > 0);
    rows[n].name = "bytes_per_event";
    snprintf(rows[n++].value, sizeof rows[0].value, "%.1f",
             info.events ? (double)info.bytes_events / (double)info.events : 0.0);
    rows[n].name = "bytes_per_profile";
    snprintf(rows[n++].value, sizeof rows[0].value, "%.1f",
             info.users ? (double)info.bytes_profiles / (double)info.users : 0.0);
#undef ROW_U
    FILE *f = cli_open_output(&o);
    if (f) {
        print_stats(f, o.format ? o.format : "text", rows, n, &st);
        rc = cli_close_output(f, &o);
    } else {
        rc = EXIT_RUNTIME;
    }
    persona_store_free(store);
    cli_options_free(&o);
    return rc;
}

static int write_file(void *ctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -1;
}

int cmd_profiles(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 0,
                           "profiles [options] [FILE]",
                           "Ingest FILE and write one row per user, sorted by key (plain integers\n"
                           "first, numerically): user_id,events,<count per event type>...,\n"
                           "value_sum,first_ts,last_ts. --format json writes JSON Lines with every\n"
                           "trait, attribute and consent.");
    if (rc >= 0)
        return rc;
    rc = 0;
    if (o.format && strcmp(o.format, "text") == 0) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "profiles: --format wants csv or json");
    }
    persona_store *store = NULL;
    persona_ingest_stats st;
    rc = cli_load(&store, &st, &o);
    if (rc == 0) {
        FILE *f = cli_open_output(&o);
        if (!f) {
            rc = EXIT_RUNTIME;
        } else {
            int fmt = o.format && strcmp(o.format, "json") == 0 ? PERSONA_EXPORT_PROFILES_JSONL
                                                                 : PERSONA_EXPORT_PROFILES_CSV;
            if (persona_store_export(store, fmt, write_file, f) != PERSONA_OK)
                rc = cli_lib_error("export");
            int crc = cli_close_output(f, &o);
            rc = rc ? rc : crc;
        }
        persona_store_free(store);
    }
    cli_options_free(&o);
    return rc;
}

/* One line of output (the JSON a command prints) to --output or stdout; the exit code. */
static int print_line(cli_options *o, const char *text)
{
    FILE *f = cli_open_output(o);
    if (!f)
        return EXIT_RUNTIME;
    fprintf(f, "%s\n", text);
    return cli_close_output(f, o);
}

int cmd_profile(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 1,
                           "profile KEY [options] [FILE]",
                           "Ingest FILE (or open --store) and print everything held about the user\n"
                           "KEY as one JSON object, for access and portability requests: the profile\n"
                           "(traits, counts and value per event type, last property values, category\n"
                           "engagement, attributes, consent) and every stored event of the user.");
    if (rc >= 0)
        return rc;
    rc = 0;
    if (!o.key) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "profile: which user? (persona profile KEY [FILE])");
    }
    persona_store *store = NULL;
    persona_ingest_stats st;
    rc = cli_load(&store, &st, &o);
    if (rc == 0) {
        char *json = NULL;
        if (persona_store_export_profile(&json, NULL, store, o.key) != PERSONA_OK) {
            rc = cli_lib_error("profile");
        } else {
            rc = print_line(&o, json);
        }
        persona_free(json);
        persona_store_free(store);
    }
    cli_options_free(&o);
    return rc;
}

int cmd_erase(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 1,
                           "erase KEY --store SNAPSHOT [--save SNAPSHOT]",
                           "Erase the user KEY from a saved store: profile, events and their ids,\n"
                           "attributes, consent and every string only they held. The store is saved\n"
                           "back (to --save, else over --store, atomically) and a JSON receipt of\n"
                           "what was removed is printed.");
    if (rc >= 0)
        return rc;
    rc = 0;
    if (!o.key || !o.store || o.file) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "erase: usage: persona erase KEY --store SNAPSHOT");
    }
    persona_store *store = NULL;
    persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
    const char *target = o.save ? o.save : o.store;
    if (persona_store_open(&store, o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot open the store");
    else if (persona_store_erase(&r, store, o.key) != PERSONA_OK)
        rc = cli_lib_error("erase");
    else if (persona_store_save(store, target) != PERSONA_OK)
        rc = cli_lib_error("cannot save the store");
    if (rc == 0) {
        FILE *f = cli_open_output(&o);
        if (f) {
            fprintf(f,
                    "{\"events\":%llu,\"identifiers\":%llu,\"attributes\":%llu,"
                    "\"consents\":%llu,\"stale_models\":%llu}\n",
                    (unsigned long long)r.events, (unsigned long long)r.identifiers,
                    (unsigned long long)r.attributes, (unsigned long long)r.consents,
                    (unsigned long long)r.stale_models);
            rc = cli_close_output(f, &o);
        } else {
            rc = EXIT_RUNTIME;
        }
    }
    persona_store_free(store);
    cli_options_free(&o);
    return rc;
}

/* "yes"/"on" -> 1, "no"/"off" -> 0, else -1. */
static int yes_no(const char *v)
{
    if (!v)
        return -1;
    if (!strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
        return 1;
    if (!strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
        return 0;
    return -1;
}

int cmd_consent(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 1,
                           "consent KEY --store SNAPSHOT (--purpose P --grant yes|no [--at TIME] "
                           "| --tracking on|off)",
                           "Record, in a saved store, that the user KEY granted or withdrew consent\n"
                           "for a purpose (at TIME, default now), or turn do-not-track on or off\n"
                           "(--tracking off: their events are no longer stored). The store is saved\n"
                           "back (to --save, else over --store) and a JSON receipt printed.");
    if (rc >= 0)
        return rc;
    rc = 0;
    int grant = yes_no(o.grant), tracking = yes_no(o.tracking);
    int by_purpose = o.purpose && grant >= 0 && !o.tracking;
    int by_tracking = tracking >= 0 && !o.purpose && !o.grant && !o.at;
    if (!o.key || !o.store || o.file || !(by_purpose || by_tracking)) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "consent: usage: persona consent KEY --store SNAPSHOT "
                                     "(--purpose P --grant yes|no [--at TIME] | --tracking on|off)");
    }
    int64_t at = (int64_t)time(NULL) * 1000;
    if (o.at && persona_time_parse(&at, o.at, strlen(o.at), NULL, 0) != PERSONA_OK) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "consent: --at: %s", persona_errmsg());
    }
    persona_store *store = NULL;
    if (persona_store_open(&store, o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot open the store");
    else if (by_purpose && persona_store_consent_set(store, o.key, o.purpose, grant, at))
        rc = cli_lib_error("consent");
    else if (by_tracking && persona_store_set_tracking(store, o.key, tracking))
        rc = cli_lib_error("consent");
    else if (persona_store_save(store, o.save ? o.save : o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot save the store");
    if (rc == 0) {
        FILE *f = cli_open_output(&o);
        if (f) {
            if (by_purpose) {
                char when[40];
                size_t n = 0;
                persona_time_format(when, sizeof when, &n, at, 0);
                fputs("{\"purpose\":", f);
                cli_put_json(f, o.purpose, strlen(o.purpose));
                fprintf(f, ",\"granted\":%s,\"time\":\"%s\"}\n", grant ? "true" : "false",
                        when);
            } else {
                fprintf(f, "{\"tracking\":%s}\n", tracking ? "true" : "false");
            }
            rc = cli_close_output(f, &o);
        } else {
            rc = EXIT_RUNTIME;
        }
    }
    persona_store_free(store);
    cli_options_free(&o);
    return rc;
}

/* ---- the identity graph: alias, unmerge, merge-log ---------------------------------- */

static const struct {
    const char *name;
    int32_t type;
} id_types[] = {
    { "key", PERSONA_ID_KEY },     { "cookie", PERSONA_ID_COOKIE },
    { "email", PERSONA_ID_EMAIL }, { "phone", PERSONA_ID_PHONE },
    { "customer", PERSONA_ID_CUSTOMER },
};

/* An identifier written TYPE:VALUE (TYPE a name above or a host type number >= 100), or a
 * bare VALUE without ':' (a user key). Returns 0, or EXIT_USAGE after saying why. */
int cli_parse_identifier(persona_identifier *id, const char *cmd, const char *arg)
{
    id->struct_size = sizeof *id;
    id->type = PERSONA_ID_KEY;
    id->value = arg;
    const char *colon = strchr(arg, ':');
    if (!colon) {
        if (!*arg)
            return cli_error(EXIT_USAGE, "%s: empty identifier", cmd);
        return 0;
    }
    size_t n = (size_t)(colon - arg);
    int known = 0;
    for (size_t i = 0; i < sizeof id_types / sizeof *id_types && !known; i++) {
        if (strlen(id_types[i].name) == n && strncmp(arg, id_types[i].name, n) == 0) {
            id->type = id_types[i].type;
            known = 1;
        }
    }
    if (!known && n > 0 && n <= 9 && strspn(arg, "0123456789") == n) {
        long t = strtol(arg, NULL, 10);
        if (t < PERSONA_ID_HOST)
            return cli_error(EXIT_USAGE,
                             "%s: identifier '%s': type %ld is not a host type (host types "
                             "are numbered from %d; use key, cookie, email, phone or customer)",
                             cmd, arg, t, PERSONA_ID_HOST);
        id->type = (int32_t)t;
        known = 1;
    }
    if (!known)
        return cli_error(EXIT_USAGE,
                         "%s: identifier '%s': unknown type '%.*s' (want TYPE:VALUE with TYPE "
                         "key, cookie, email, phone, customer or a host type number >= %d; "
                         "write key:VALUE for a key that contains ':')",
                         cmd, arg, (int)n, arg, PERSONA_ID_HOST);
    id->value = colon + 1;
    if (!*id->value)
        return cli_error(EXIT_USAGE, "%s: identifier '%s' has no value after the type", cmd,
                         arg);
    return 0;
}

int cli_apply_event_rules(persona_store *store, const cli_options *o)
{
    for (size_t i = 0; i < o->n_identify; i++) {
        const char *spec = o->identify[i], *eq = strchr(spec, '=');
        if (!eq || eq == spec)
            return cli_error(EXIT_USAGE, "--identify wants EVENT=TYPE:PROPERTY, got '%s'", spec);
        char event[256];
        persona_identifier id;
        int rc = cli_parse_identifier(&id, "--identify", eq + 1);
        if (rc)
            return rc;
        snprintf(event, sizeof event, "%.*s", (int)(eq - spec), spec);
        if (persona_store_identify_rule(store, event, id.value, id.type) != PERSONA_OK)
            return cli_error(EXIT_USAGE, "--identify %s: %s", spec, persona_errmsg());
    }
    if (o->consent_event) {
        const char *spec = o->consent_event, *eq = strchr(spec, '=');
        const char *colon = eq ? strchr(eq, ':') : NULL;
        if (!eq || eq == spec || !colon || colon == eq + 1 || !colon[1])
            return cli_error(EXIT_USAGE,
                             "--consent-event wants EVENT=PURPOSE_PROPERTY:GRANTED_PROPERTY, "
                             "got '%s'", spec);
        char event[256], purpose[256];
        snprintf(event, sizeof event, "%.*s", (int)(eq - spec), spec);
        snprintf(purpose, sizeof purpose, "%.*s", (int)(colon - eq - 1), eq + 1);
        if (persona_store_consent_rule(store, event, purpose, colon + 1) != PERSONA_OK)
            return cli_error(EXIT_USAGE, "--consent-event %s: %s", spec, persona_errmsg());
    }
    return 0;
}

static const char *link_outcome_name(int32_t outcome)
{
    switch (outcome) {
    case PERSONA_LINK_MERGED: return "merged";
    case PERSONA_LINK_ADDED: return "added";
    case PERSONA_LINK_SAME: return "same";
    case PERSONA_LINK_BLOCKED_VALUE: return "blocked-value";
    case PERSONA_LINK_BLOCKED_LIMIT: return "blocked-limit";
    default: return NULL;
    }
}

/* A type as the merge log names it: key, cookie, ... or the number of a host type. */
static void put_id_type(FILE *f, int32_t type)
{
    for (size_t i = 0; i < sizeof id_types / sizeof *id_types; i++) {
        if (id_types[i].type == type) {
            fprintf(f, "\"%s\"", id_types[i].name);
            return;
        }
    }
    fprintf(f, "%ld", (long)type);
}

/* A library error of an identity command: an invalid argument is a usage error. */
static int identity_error(const char *cmd, int code)
{
    if (code == PERSONA_EINVAL)
        return cli_error(EXIT_USAGE, "%s: %s", cmd, persona_errmsg());
    return cli_lib_error(cmd);
}

#define ID_SYNTAX_HELP                                                                 \
    "An ID is TYPE:VALUE, TYPE one of key, cookie, email, phone, customer or a\n"      \
    "host type number (100 and up), or a bare VALUE without ':', meaning a user\n"     \
    "key (write key:VALUE for a key that contains ':'). Values are normalized by\n"    \
    "their type: emails trimmed and lower-cased, phone numbers made E.164."

int cmd_alias(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, CLI_ARGS_MANY,
                           "alias --store SNAPSHOT [--save SNAPSHOT] [--source S] [--at TIME] "
                           "[--country CC] ID ID [ID...]",
                           "Link identifiers of one person in a saved store: their profiles merge\n"
                           "into one (traits recomputed from the event log), identifiers the store\n"
                           "has not seen join it. Guards (blocked values, per-type limits) may\n"
                           "block a link; that is not an error, it is counted. Every link goes to\n"
                           "the merge log (persona merge-log) with --at TIME (default now) and\n"
                           "--source S (who or what linked them: login, crm-import, ...).\n"
                           "--country CC sets the store's default calling code for national phone\n"
                           "numbers (\"33\"; kept in the store). The store is saved back (to --save,\n"
                           "else over --store) and one JSON line printed:\n"
                           "{\"outcome\":\"merged\"|\"added\"|\"same\"|\"blocked-value\"|\"blocked-limit\",\n"
                           "\"merged\":N,\"added\":N,\"same\":N,\"blocked\":N,\"events_replayed\":N}\n"
                           "(with \"blocked_type\" when a link was blocked by a limit or value).\n"
                           ID_SYNTAX_HELP);
    if (rc >= 0)
        return rc;
    rc = 0;
    if (!o.store || o.n_args < 2) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "alias: usage: persona alias --store SNAPSHOT ID ID [ID...]");
    }
    persona_identifier *ids = malloc(sizeof *ids * o.n_args);
    if (!ids) {
        cli_options_free(&o);
        return cli_error(EXIT_RUNTIME, "out of memory");
    }
    for (size_t i = 0; i < o.n_args && rc == 0; i++)
        rc = cli_parse_identifier(&ids[i], "alias", o.args[i]);
    int64_t at = (int64_t)time(NULL) * 1000;
    if (rc == 0 && o.at && persona_time_parse(&at, o.at, strlen(o.at), NULL, 0) != PERSONA_OK)
        rc = cli_error(EXIT_USAGE, "alias: --at: %s", persona_errmsg());
    if (rc) {
        free(ids);
        cli_options_free(&o);
        return rc;
    }
    persona_store *store = NULL;
    persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
    int lrc;
    if (persona_store_open(&store, o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot open the store");
    else if (o.country && (lrc = persona_store_identity_country(store, o.country)) != PERSONA_OK)
        rc = lrc == PERSONA_EINVAL
                 ? cli_error(EXIT_USAGE, "alias: --country: %s", persona_errmsg())
                 : cli_lib_error("alias");
    else if ((lrc = persona_store_alias(&r, store, ids, o.n_args, at, o.source)) != PERSONA_OK)
        rc = identity_error("alias", lrc);
    else if (persona_store_save(store, o.save ? o.save : o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot save the store");
    if (rc == 0) {
        FILE *f = cli_open_output(&o);
        if (f) {
            const char *name = link_outcome_name(r.outcome);
            if (name)
                fprintf(f, "{\"outcome\":\"%s\"", name);
            else
                fprintf(f, "{\"outcome\":%ld", (long)r.outcome);
            fprintf(f, ",\"merged\":%lu,\"added\":%lu,\"same\":%lu,\"blocked\":%lu",
                    (unsigned long)r.merged, (unsigned long)r.added, (unsigned long)r.same,
                    (unsigned long)r.blocked);
            if (r.blocked) {
                fputs(",\"blocked_type\":", f);
                put_id_type(f, r.blocked_type);
            }
            fprintf(f, ",\"events_replayed\":%llu}\n", (unsigned long long)r.events_replayed);
            rc = cli_close_output(f, &o);
        } else {
            rc = EXIT_RUNTIME;
        }
    }
    persona_store_free(store);
    free(ids);
    cli_options_free(&o);
    return rc;
}

int cmd_unmerge(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 1, "unmerge ID --store SNAPSHOT [--save SNAPSHOT]",
                           "Split a wrongly merged profile in a saved store: every link of the\n"
                           "merge log that involves ID is marked undone, the profile's identifiers\n"
                           "are regrouped by the links that remain and each part's traits are\n"
                           "recomputed from the event log. Attributes and consent stay with the\n"
                           "identifier they were set through. The store is saved back (to --save,\n"
                           "else over --store) and {\"parts\":N} printed: how many profiles the\n"
                           "profile became (1 when ID had no links).\n" ID_SYNTAX_HELP);
    if (rc >= 0)
        return rc;
    rc = 0;
    if (!o.key || !o.store || o.file) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "unmerge: usage: persona unmerge ID --store SNAPSHOT");
    }
    persona_identifier id;
    rc = cli_parse_identifier(&id, "unmerge", o.key);
    if (rc) {
        cli_options_free(&o);
        return rc;
    }
    persona_store *store = NULL;
    uint32_t parts = 0;
    int lrc;
    if (persona_store_open(&store, o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot open the store");
    else if ((lrc = persona_store_unmerge(&parts, store, &id)) != PERSONA_OK)
        rc = identity_error("unmerge", lrc);
    else if (persona_store_save(store, o.save ? o.save : o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot save the store");
    if (rc == 0) {
        char line[32];
        snprintf(line, sizeof line, "{\"parts\":%lu}", (unsigned long)parts);
        rc = print_line(&o, line);
    }
    persona_store_free(store);
    cli_options_free(&o);
    return rc;
}

int cmd_merge_log(int argc, char **argv)
{
    cli_options o;
    int rc = parse_or_help(&o, argc, argv, 1, "merge-log --store SNAPSHOT [KEY]",
                           "Print the merge log of a saved store as one JSON array, oldest first:\n"
                           "every link persona alias made or a guard blocked, each\n"
                           "{\"seq\":N,\"time\":...,\"source\":...,\"a\":{\"type\":...,\"id\":...},\"b\":{...},\n"
                           "\"outcome\":...} (\"limit_type\" when blocked by a limit, \"undone\":true\n"
                           "after persona unmerge). With KEY (any identifier of a profile, as\n"
                           "stored: normalized), only the links of that profile.");
    if (rc >= 0)
        return rc;
    rc = 0;
    if (!o.store || o.file || o.save) {
        cli_options_free(&o);
        return cli_error(EXIT_USAGE, "merge-log: usage: persona merge-log --store SNAPSHOT [KEY]");
    }
    persona_store *store = NULL;
    char *json = NULL;
    int lrc;
    if (persona_store_open(&store, o.store) != PERSONA_OK)
        rc = cli_lib_error("cannot open the store");
    else if ((lrc = persona_store_merge_log(&json, NULL, store, o.key)) != PERSONA_OK)
        rc = identity_error("merge-log", lrc);
    if (rc == 0)
        rc = print_line(&o, json);
    persona_free(json);
    persona_store_free(store);
    cli_options_free(&o);
    return rc;
}
