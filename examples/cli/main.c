/* persona: entry point and command dispatch. */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: persona <command> [options] [FILE]\n"
    "\n"
    "commands:\n"
    "  version            library version and build features\n"
    "  stats              ingest FILE and print counts, rejected rows by reason, memory\n"
    "  profiles           one CSV row per user: events, counts per type, value, first/last\n"
    "  profile KEY        everything held about one user, as JSON\n"
    "  erase KEY          erase a user from a saved store (--store FILE); prints a receipt\n"
    "  consent KEY        record consent for a purpose, or do-not-track, in a saved store\n"
    "  alias ID ID...     link identifiers of one person in a saved store (merges profiles)\n"
    "  unmerge ID         split a wrongly merged profile in a saved store (undo ID's links)\n"
    "  merge-log [KEY]    the links alias made or a guard blocked, as JSON (--store FILE)\n"
    "  cohort             acquisition cohorts x periods: retained users, events, revenue, LTV\n"
    "  lifecycle          new, returning, resurrecting and dormant users per period\n"
    "  stickiness         users by number of active periods\n"
    "  funnel             conversion funnel: users at each step in order within a window\n"
    "  segment rules      rule segments (--rules RULES): user,segment per membership\n"
    "  kmeans             k-means of the rows of a CSV of numbers (--points FILE.csv)\n"
    "  hclust             hierarchical clustering of the rows of a CSV of numbers\n"
    "  similar            items bought together with an item (--item KEY), by a measure\n"
    "  recommend          items for a user (--user KEY) from what they have, never owned ones\n"
    "  overindex          items that over-index in a segment (--segment NAME --rules FILE)\n"
    "  itemsets           frequent itemsets of baskets (--basket COL --item COL)\n"
    "  rules              association rules between frequent itemsets\n"
    "  paths              session paths: Markov transitions, top paths, paths to a goal\n"
    "  next               likely next events of a history (--history) or a user (--user)\n"
    "  attribution        multi-touch attribution of conversions to channels (--channel PROP)\n"
    "\n"
    "With no FILE, data commands use the bundled Online Retail sample.\n"
    "Run 'persona <command> --help' for the options of a command.\n";

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("persona: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_lib_error(const char *what)
{
    return cli_error(EXIT_RUNTIME, "%s: %s", what, persona_errmsg());
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        { "version", cmd_version },
        { "stats", cmd_stats },
        { "profiles", cmd_profiles },
        { "profile", cmd_profile },
        { "erase", cmd_erase },
        { "consent", cmd_consent },
        { "alias", cmd_alias },
        { "unmerge", cmd_unmerge },
        { "merge-log", cmd_merge_log },
        { "cohort", cmd_cohort },
        { "lifecycle", cmd_lifecycle },
        { "stickiness", cmd_stickiness },
        { "funnel", cmd_funnel },
        { "segment", cmd_segment },
        { "kmeans", cmd_kmeans },
        { "hclust", cmd_hclust },
        { "similar", cmd_similar },
        { "recommend", cmd_recommend },
        { "overindex", cmd_overindex },
        { "itemsets", cmd_itemsets },
        { "rules", cmd_rules },
        { "paths", cmd_paths },
        { "next", cmd_next },
        { "attribution", cmd_attribution },
    };
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc, argv);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc, argv);
    return cli_error(EXIT_USAGE, "unknown command '%s' (try 'persona --help')", argv[1]);
}
