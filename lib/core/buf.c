#include "buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

void persona__buf_init(persona__buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void persona__buf_free(persona__buf *b)
{
    persona__free(b->data);
    persona__buf_init(b);
}

void persona__buf_clear(persona__buf *b)
{
    b->len = 0;
}

int persona__buf_reserve(persona__buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (more > SIZE_MAX - b->len - 1 ||
        persona__grow((void **)&b->data, &b->cap, b->len + more + 1, 1, 256)) {
        b->failed = 1;
        return -1;
    }
    b->data[b->len] = '\0'; /* the text is always a valid C string, even when empty */
    return 0;
}

void persona__buf_append(persona__buf *b, const char *s, size_t len)
{
    if (persona__buf_reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

int persona__buf_write(void *ctx, const char *data, size_t len)
{
    persona__buf *b = ctx;
    persona__buf_append(b, data, len);
    return persona__buf_failed(b) ? -1 : 0;
}

int persona__buf_hand_over(persona__buf *b, int rc, char **out, size_t *out_len)
{
    if (rc == PERSONA_OK && persona__buf_reserve(b, 0)) /* also fails for a failed buffer */
        rc = persona__fail_nomem();
    if (rc) {
        persona__buf_free(b);
        return rc;
    }
    if (out_len)
        *out_len = b->len;
    *out = b->data;
    return PERSONA_OK;
}

void persona__buf_puts(persona__buf *b, const char *s)
{
    persona__buf_append(b, s, strlen(s));
}

void persona__buf_putc(persona__buf *b, char c)
{
    persona__buf_append(b, &c, 1);
}

void persona__buf_u64(persona__buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    persona__buf_append(b, tmp + sizeof tmp - n, n);
}

void persona__buf_i64(persona__buf *b, int64_t v)
{
    if (v < 0) {
        persona__buf_putc(b, '-');
        persona__buf_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        persona__buf_u64(b, (uint64_t)v);
    }
}

size_t persona__fmt_double(char *out, double v)
{
    if (v == 0) {
        /* -0 prints as 0: sums of cancelling values are not "negative". */
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}

void persona__buf_double(persona__buf *b, double v)
{
    char tmp[32];
    size_t n = persona__fmt_double(tmp, v);
    persona__buf_append(b, tmp, n);
}

void persona__buf_json_double(persona__buf *b, double v)
{
    if (isfinite(v))
        persona__buf_double(b, v);
    else
        persona__buf_puts(b, "null");
}

void persona__buf_csv_cell(persona__buf *b, const char *s, size_t len, char delimiter)
{
    int neutralize = len > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                                 s[0] == '\t' || s[0] == '\r');
    int quote = len > 0 && s[0] == ' ';
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == delimiter || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote && !neutralize) {
        persona__buf_append(b, s, len);
        return;
    }
    if (quote)
        persona__buf_putc(b, '"');
    if (neutralize)
        persona__buf_putc(b, '\'');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            persona__buf_append(b, s + start, i - start + 1);
            persona__buf_putc(b, '"');
            start = i + 1;
        }
    }
    persona__buf_append(b, s + start, len - start);
    if (quote)
        persona__buf_putc(b, '"');
}

void persona__buf_json_str(persona__buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    persona__buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&')
            continue;
        persona__buf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': persona__buf_append(b, "\\\"", 2); break;
        case '\\': persona__buf_append(b, "\\\\", 2); break;
        case '\n': persona__buf_append(b, "\\n", 2); break;
        case '\r': persona__buf_append(b, "\\r", 2); break;
        case '\t': persona__buf_append(b, "\\t", 2); break;
        default: {
            /* Control characters, and < > & so JSON is safe to embed in HTML. */
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            persona__buf_append(b, u, 6);
        }
        }
    }
    persona__buf_append(b, s + start, len - start);
    persona__buf_putc(b, '"');
}

void persona__export_flush(persona__export_writer *w, int force)
{
    if (w->rc || (!force && w->out.len < 65536))
        return;
    if (persona__buf_failed(&w->out)) {
        w->rc = persona__fail_nomem();
        return;
    }
    if (w->out.len && w->write(w->ctx, w->out.data, w->out.len) < 0)
        w->rc = persona__fail(PERSONA_ECALLBACK, "the export writer returned an error");
    persona__buf_clear(&w->out);
}
