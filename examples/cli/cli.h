/* The persona command-line tool: a thin host over the C API (shared/docs/CLI.md). */
#ifndef PERSONA_CLI_H
#define PERSONA_CLI_H

#include <stdio.h>

#include "persona.h"

#define CLI_MAX_PROPS 64

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* Everything a data command may be given on its command line. */
typedef struct cli_options {
    const char *command;
    const char *file;         /* NULL = bundled sample */
    const char *output;       /* -o, NULL = stdout */
    const char *format;       /* --format csv|json|text */
    const char *input_format; /* --input-format csv|jsonl */
    const char *delimiter;
    int strict;
    int help;
    const char *key;          /* positional KEY of `profile` */
    const char *store;        /* --store: a saved store to start from */
    const char *save;         /* --save: where to save the store after loading */
    const char *purpose;      /* consent: --purpose */
    const char *grant;        /* consent: --grant yes|no */
    const char *at;           /* consent: --at TIME (default now) */
    const char *tracking;     /* consent: --tracking on|off */
    const char *source;       /* alias: --source S (who or what linked the identifiers) */
    const char *country;      /* alias: --country CC (default country calling code) */
    const char *identify[CLI_MAX_PROPS]; /* --identify EVENT=TYPE:PROP, repeatable */
    size_t n_identify;
    const char *consent_event; /* --consent-event EVENT=PURPOSE_PROP:GRANTED_PROP */
    const char **args;        /* CLI_ARGS_MANY: every positional argument, in order */
    size_t n_args;
    persona_mapping map;
    const char *prop_names[CLI_MAX_PROPS];
    const char *prop_cols[CLI_MAX_PROPS];
    char *prop_storage[CLI_MAX_PROPS];
    size_t n_props;
    int mapping_given;        /* any mapping flag used */
    int64_t session_gap_ms;   /* set by a command before cli_load(): the new store's
                                 inactivity gap (0 = the library's 30 min) */
} cli_options;

/* Print "persona: ..." to stderr; returns code. */
int cli_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Report a failed library call (its message) and return EXIT_RUNTIME. */
int cli_lib_error(const char *what);

/* allow_key of cli_parse(): every positional goes to o->args (none to key or file). */
#define CLI_ARGS_MANY 2

/* Parse argv[2..] for a data command. allow_key: 0 = [FILE], 1 = [KEY] [FILE],
 * CLI_ARGS_MANY = any number of positionals in o->args. Returns 0, or EXIT_USAGE (or
 * EXIT_RUNTIME when out of memory) after printing why. */
int cli_parse(cli_options *o, int argc, char **argv, int allow_key);
void cli_options_free(cli_options *o);
/* 1 when cli_parse() knows flag and it takes a value. */
int cli_takes_value(const char *flag);
/* For commands with value flags of their own, taken out of argv before cli_parse() sees
 * the rest: looks at argv[*i]. When lookup() knows its flag (written "--x v" or "--x=v"),
 * returns lookup's index with *value set and *i past the value; otherwise appends the
 * argument to rest (with its value when cli_parse() takes one) and returns -1; returns -2
 * after printing a usage error (a flag of its own without a value). */
int cli_next_own_flag(const char *cmd, int argc, char **argv, int *i,
                      int (*lookup)(const char *flag), char **rest, int *n_rest,
                      const char **value);
/* Start the argv handed to cli_parse() after a command took its own flags out: room for
 * argc + extra arguments and a NULL, [0] = argv[0], [1] = cmd (how messages name the
 * command), *n_rest = 2. 0, or EXIT_RUNTIME after saying so when out of memory. */
int cli_rest_init(char ***rest, int *n_rest, int argc, char **argv, const char *cmd, int extra);
/* A duration written N followed by ms, s, m, h, d or w ("90s", "30m", "24h", "7d"), N > 0;
 * 0, or -1 when s is not one. */
int cli_parse_duration(int64_t *ms_out, const char *s);
/* An identifier written TYPE:VALUE or a bare VALUE (a key); 0 or EXIT_USAGE after saying
 * why, naming cmd. */
int cli_parse_identifier(persona_identifier *id, const char *cmd, const char *arg);
/* Give the store the event rules of --identify and --consent-event; 0 or an exit code. */
int cli_apply_event_rules(persona_store *store, const cli_options *o);

/* Open the source the options describe (bundled sample when no file). */
int cli_open_source(persona_source **out, cli_options *o);
/* Build a store (empty, or --store) and load the input into it (the bundled sample
 * only when neither FILE nor --store is given), with progress on a terminal; --save it. */
int cli_load(persona_store **store_out, persona_ingest_stats *stats, cli_options *o);

/* Split a comma-separated list of names (flag's value, e.g. "--events A,B") into a copy
 * (*buf) and pointers into it (*items, *n_items); both malloc'd, freed by the caller
 * whatever the result. 0, or an exit code after saying why (an empty name). */
int cli_split_list(char **buf, const char ***items, size_t *n_items, const char *cmd,
                   const char *flag, const char *list);

/* Helpers of the analysis commands (cohort.c, funnel.c). */
/* "hour" ... "year", "rolling", indexed by PERSONA_PERIOD_* (and PERSONA_PERIOD_ROLLING). */
extern const char *const cli_period_names[];
/* A period name -> PERSONA_PERIOD_* (rolling only when rolling_ok), else -1. */
int32_t cli_period_of(const char *name, int rolling_ok);
/* A decimal number 0 ... max, digits only; 0 or -1. */
int cli_parse_uint(uint32_t *out, const char *s, uint32_t max);
/* The whole of a file ('-' = standard input), NUL-terminated (file_read.c), its length in
 * *len_out; NULL after saying why ("CMD: WHAT PATH: reason"; what is "" or e.g. "--rules "). */
char *cli_read_file(const char *cmd, const char *what, const char *path, size_t *len_out);
/* The same, but a regular file is mapped (private, writable: changes stay in memory) instead
 * of copied; *mapped says which, for cli_unmap_file. No NUL after the text when mapped. */
char *cli_map_file(const char *cmd, const char *what, const char *path, size_t *len_out,
                   int *mapped);
void cli_unmap_file(char *buf, size_t len, int mapped);
/* The shared input/mapping/output help less the --save, --utc-offset, --format and --store
 * entries, which the analysis commands redefine. */
void cli_analysis_help(void);
/* 1 when argv[2..] has --help or -h. */
int cli_wants_help(int argc, char **argv);

/* Helpers of the commands that read points from a CSV of numbers (points.c). */
/* A parsed CSV of numbers: the names of the columns kept and the values, row-major. */
typedef struct cli_table {
    char **names;
    size_t n_names; /* columns kept */
    double *v;
    size_t rows, cap;
} cli_table;
/* Read the CSV `path` (a header row, then numbers), keeping the columns named in `want`
 * (comma-separated; NULL = all) in that order; `what` names the file in messages ("points").
 * 0, or an exit code after saying why (naming cmd). */
int cli_table_read(cli_table *t, const char *cmd, const char *path, const char *want,
                   const char *what);
void cli_table_free(cli_table *t);
/* With standardize, replace each column by its z-scores (population standard deviation; a
 * column without spread is only centred) and give mean and sd (d each) to undo it;
 * without, mean 0 and sd 1. */
void cli_table_standardize(cli_table *t, int standardize, double *mean, double *sd);
/* Write `cluster` and the n labels, one per line, to path; 0 or an exit code. */
int cli_write_labels(const char *cmd, const char *path, const uint32_t *labels, size_t n);
/* A flag of a command's argument struct: a `const char *` value at offset, or an int set
 * to 1 when a switch is given. */
typedef struct cli_flag {
    const char *name;
    size_t offset;
} cli_flag;
/* Parse argv[2..] into args ("--x v", "--x=v", "-k v"; --help/-h set *help). 0, or
 * EXIT_USAGE after saying why. */
int cli_parse_flags(const char *cmd, void *args, const cli_flag *flags, size_t n_flags,
                    const cli_flag *switches, size_t n_switches, int *help, int argc, char **argv);

/* A CSV cell as the library's exports write one: quoted when it holds a comma, a quote
 * or a line break or starts with a space; a leading = + - @ TAB CR is neutralized with '
 * (cells.c). */
void cli_put_cell(FILE *f, const char *s, size_t len);
/* A number as the library writes it: the shortest of %.15g … %.17g that reads back;
 * nothing (CSV) or null (JSON) for NaN, null for infinities in JSON. */
void cli_put_num(FILE *f, double v, int json);
/* s (len bytes) as a JSON string: quotes, backslashes and control characters escaped. */
void cli_put_json(FILE *f, const char *s, size_t len);

/* Open -o (or stdout); close_output reports write errors. */
FILE *cli_open_output(const cli_options *o);
int cli_close_output(FILE *f, const cli_options *o);

int cmd_version(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_consent(int argc, char **argv);
int cmd_alias(int argc, char **argv);
int cmd_unmerge(int argc, char **argv);
int cmd_merge_log(int argc, char **argv);
int cmd_cohort(int argc, char **argv);
int cmd_lifecycle(int argc, char **argv);
int cmd_stickiness(int argc, char **argv);
int cmd_funnel(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_kmeans(int argc, char **argv);
int cmd_hclust(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_overindex(int argc, char **argv);
int cmd_itemsets(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_paths(int argc, char **argv);
int cmd_next(int argc, char **argv);
int cmd_attribution(int argc, char **argv);

#endif
