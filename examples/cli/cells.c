/* CSV cells, JSON strings and numbers as the library's exports write them, shared by the
 * commands that print their own rows (consent, funnel, segment, similar, recommend,
 * overindex). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_put_cell(FILE *f, const char *s, size_t len)
{
    int neutralize = len > 0 && strchr("=+-@\t\r", s[0]) != NULL;
    int quote = len > 0 && s[0] == ' ';
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (quote)
        fputc('"', f);
    if (neutralize)
        fputc('\'', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    if (quote)
        fputc('"', f);
}

void cli_put_num(FILE *f, double v, int json)
{
    char tmp[32];
    if (isnan(v) || (json && isinf(v))) {
        if (json)
            fputs("null", f);
        return;
    }
    if (v == 0) {
        fputc('0', f);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    fputs(tmp, f);
}

void cli_put_json(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
