/* Turning text fields into event fields, shared by the CSV and JSONL sources: numbers with
 * a strict grammar, the A*B value product, and per-batch storage of NUL-terminated copies. */
#ifndef PERSONA_SOURCE_FIELDS_H
#define PERSONA_SOURCE_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Parse a decimal number: [-+]digits[.digits][(e|E)[-+]digits] or [-+].digits…, with
 * surrounding ASCII spaces allowed. No hex, inf, nan or thousands separators. Correctly
 * rounded, independent of the C locale. 0 ok, -1 not a number, -2 out of double range. */
int persona__parse_number(const char *s, size_t len, double *out);

/* Strings of one batch, stored NUL-terminated; offsets stay valid while the batch is
 * built, pointers only after persona__strings_ptr() once the batch is complete. */
typedef struct persona__strings {
    char *data;
    size_t len, cap;
} persona__strings;

/* Append s[0..len) plus NUL when it does not fit: grows, or returns 0 on failure. */
size_t persona__strings_add_slow(persona__strings *st, const char *s, size_t len);

/* Append s[0..len) plus NUL; returns its offset + 1, or 0 on allocation failure. */
static inline size_t persona__strings_add(persona__strings *st, const char *s, size_t len)
{
    if (len >= st->cap - st->len || st->cap == 0)
        return persona__strings_add_slow(st, s, len);
    size_t off = st->len;
    memcpy(st->data + off, s, len);
    st->data[off + len] = '\0';
    st->len += len + 1;
    return off + 1;
}
static inline const char *persona__strings_ptr(const persona__strings *st, size_t off1)
{
    return off1 ? st->data + off1 - 1 : NULL;
}
void persona__strings_free(persona__strings *st);

/* A private copy of an in-memory input (at least one byte allocated), or NULL. */
char *persona__input_copy(const char *data, size_t len);

#endif
