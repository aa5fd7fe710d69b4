/* Reading a long basket CSV (a header row; one (basket, item) pair a row, RFC 4180 quotes)
 * into a persona_baskets for `persona itemsets` and `persona rules`. The whole file is read
 * into memory and scanned once: at 3 M rows a per-line stdio loop would cost more than the
 * mining. Rows without a basket or item value are skipped (--strict: an error naming the
 * line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itemsets_cli.h"

/* One field starting at *p (quotes removed in place, so the text may move left); sets
 * start and flen and returns the character that ended it (delim, '\n', or 0 at the end). */
static char next_field(char **p, const char *end, char delim, char **start, size_t *flen,
                       size_t *line)
{
    char *s = *p;
    if (s < end && *s == '"') {
        char *w = s, *r = s + 1;
        *start = s;
        while (r < end) {
            if (*r == '"') {
                if (r + 1 < end && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                    continue;
                }
                r++;
                break;
            }
            if (*r == '\n')
                (*line)++;
            *w++ = *r++;
        }
        *flen = (size_t)(w - s);
        while (r < end && *r != delim && *r != '\n')
            r++;
        s = r;
    } else {
        *start = s;
        while (s < end && *s != delim && *s != '\n')
            s++;
        *flen = (size_t)(s - *start);
        if (*flen && (*start)[*flen - 1] == '\r')
            (*flen)--;
    }
    if (s >= end) {
        *p = s;
        return 0;
    }
    *p = s + 1;
    return *s;
}

/* Skip the rest of a row; the character that ended it. */
static char skip_row(char **p, const char *end, char delim, size_t *line)
{
    char *st;
    size_t fl;
    char c;
    do
        c = next_field(p, end, delim, &st, &fl, line);
    while (c == delim);
    return c;
}

int cli_read_baskets(persona_baskets **out, const basket_source *src)
{
    *out = NULL;
    size_t len = 0;
    char *buf = cli_read_file(src->cmd, "", src->path, &len);
    if (!buf)
        return EXIT_RUNTIME;
    int rc = cli_parse_baskets(out, buf, len, src);
    free(buf);
    return rc;
}

int cli_parse_baskets(persona_baskets **out, char *buf, size_t len, const basket_source *src)
{
    *out = NULL;
    int rc = 0;
    char *p = buf, *end = buf + len;
    char delim = src->delimiter;
    size_t line = 1;
    /* The header: find the two columns. */
    long col_b = -1, col_i = -1, ncol = 0;
    char c;
    do {
        char *st;
        size_t fl;
        c = next_field(&p, end, delim, &st, &fl, &line);
        if (fl == strlen(src->basket_col) && memcmp(st, src->basket_col, fl) == 0 && col_b < 0)
            col_b = ncol;
        if (fl == strlen(src->item_col) && memcmp(st, src->item_col, fl) == 0 && col_i < 0)
            col_i = ncol;
        ncol++;
    } while (c == delim);
    if (col_b < 0 || col_i < 0) {
        return cli_error(EXIT_USAGE, "%s: %s has no column '%s'", src->cmd, src->path,
                         col_b < 0 ? src->basket_col : src->item_col);
    }
    long last = col_b > col_i ? col_b : col_i;
    persona_baskets *b = NULL;
    if (persona_baskets_new(&b))
        return cli_lib_error(src->cmd);
    while (p < end) {
        line++;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            p += *p == '\n' ? 1 : 2; /* an empty line */
            continue;
        }
        char *bs = NULL, *is = NULL;
        size_t bl = 0, il = 0;
        long col = 0;
        c = delim;
        while (col <= last && c == delim) {
            char *st;
            size_t fl;
            c = next_field(&p, end, delim, &st, &fl, &line);
            if (col == col_b) {
                bs = st;
                bl = fl;
            }
            if (col == col_i) {
                is = st;
                il = fl;
            }
            col++;
        }
        if (c == delim)
            c = skip_row(&p, end, delim, &line);
        if (col <= last || !bl || !il) {
            if (src->strict) {
                rc = cli_error(EXIT_RUNTIME, "%s: %s:%zu: no %s value", src->cmd, src->path, line,
                               bl ? "item" : "basket");
                break;
            }
            continue;
        }
        if (persona_baskets_add(b, bs, bl, is, il)) {
            rc = cli_error(EXIT_RUNTIME, "%s: %s:%zu: %s", src->cmd, src->path, line, persona_errmsg());
            break;
        }
    }
    if (rc) {
        persona_baskets_free(b);
        return rc;
    }
    *out = b;
    return 0;
}
