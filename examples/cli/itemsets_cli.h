/* Shared by `persona itemsets` and `persona rules` (itemsets.c, baskets_read.c). */
#ifndef PERSONA_ITEMSETS_CLI_H
#define PERSONA_ITEMSETS_CLI_H

#include "cli.h"

/* Where the baskets come from: a long CSV and its two columns. */
typedef struct basket_source {
    const char *cmd, *path, *basket_col, *item_col;
    char delimiter;
    int strict;
} basket_source;

/* Read the CSV into a new basket set; 0 or an exit code after saying why. */
int cli_read_baskets(persona_baskets **out, const basket_source *src);
/* The same from the file's bytes buf[0..len) (quoted fields are unescaped in place). */
int cli_parse_baskets(persona_baskets **out, char *buf, size_t len, const basket_source *src);

#endif
