/* JSON Lines reader (rules in jsonl_reader.h). A line is located first (memchr for LF),
 * then parsed in place: it is contiguous in the window, so strings without escapes point
 * into it and only escaped strings are decoded into a scratch buffer. Decoding never
 * makes a string longer, so a scratch as long as the line holds every string of it and
 * never moves while the line is parsed. Nested values are checked by a recursive descent
 * bounded by PERSONA__JSONL_MAX_DEPTH, so no input can exhaust the stack. */
#include "jsonl_reader.h"

#include <string.h>

#include "block_reader.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "persona/event.h"

struct persona__jsonl_reader {
    persona__block_reader in;
    size_t max_line;
    uint64_t line; /* number of the next line */
    persona__json_member *members;
    size_t members_cap;
    char *scratch;
    size_t scratch_cap;
};

/* Parse state of one line. Parse functions return 0, REJECTED (reason in `reject`) or a
 * negative PERSONA_E* code. */
#define REJECTED 1

typedef struct jparse {
    persona__jsonl_reader *r;
    const char *p;   /* cursor */
    const char *end; /* end of the line */
    size_t line_len;
    char *out;       /* next free scratch byte; NULL until the line's first escape */
    size_t n;        /* members so far */
    int reject;
} jparse;

static int rejected(jparse *jp, int reason)
{
    jp->reject = reason;
    return REJECTED;
}

static int bad_json(jparse *jp)
{
    return rejected(jp, PERSONA_REJECT_BAD_JSON);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ws(jparse *jp)
{
    while (jp->p < jp->end && is_ws(*jp->p))
        jp->p++;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- strings ---------------------------------------------------------------------------- */

/* 1 when the 8 bytes at p may hold '"', '\\' or a control byte (exact: no false negatives;
 * false positives only cost a byte-wise look). */
static int word_has_stop(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b, lt = (w - ones * 0x20) & ~w;
    return ((zq | zb | lt) & highs) != 0;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) {
        *dst++ = (char)cp;
    } else if (cp < 0x800) {
        *dst++ = (char)(0xC0 | cp >> 6);
        *dst++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *dst++ = (char)(0xE0 | cp >> 12);
        *dst++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *dst++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *dst++ = (char)(0xF0 | cp >> 18);
        *dst++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *dst++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *dst++ = (char)(0x80 | (cp & 0x3F));
    }
    return dst;
}

/* A \u escape; jp->p is at the 'u'. Surrogate pairs are joined; a lone surrogate is bad
 * UTF-8 and \u0000 a NUL byte. */
static int unicode_escape(jparse *jp, unsigned *cp)
{
    const char *p = jp->p + 1;
    if (hex4(p, jp->end, cp))
        return bad_json(jp);
    p += 4;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return rejected(jp, PERSONA_REJECT_BAD_UTF8);
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        unsigned lo;
        if (jp->end - p < 2 || p[0] != '\\' || p[1] != 'u')
            return rejected(jp, PERSONA_REJECT_BAD_UTF8);
        if (hex4(p + 2, jp->end, &lo))
            return bad_json(jp);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return rejected(jp, PERSONA_REJECT_BAD_UTF8);
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    }
    if (*cp == 0)
        return rejected(jp, PERSONA_REJECT_NUL_BYTE);
    jp->p = p;
    return 0;
}

/* One escape; jp->p is at the byte after the backslash. Writes the decoded bytes at *dst
 * when dst is not NULL. */
static int escape(jparse *jp, char **dst)
{
    if (jp->p == jp->end)
        return bad_json(jp);
    char c;
    switch (*jp->p) {
    case '"': c = '"'; break;
    case '\\': c = '\\'; break;
    case '/': c = '/'; break;
    case 'b': c = '\b'; break;
    case 'f': c = '\f'; break;
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'u': {
        unsigned cp;
        int rc = unicode_escape(jp, &cp);
        if (rc)
            return rc;
        if (*dst)
            *dst = put_utf8(*dst, cp);
        return 0;
    }
    default:
        return bad_json(jp);
    }
    jp->p++;
    if (*dst)
        *(*dst)++ = c;
    return 0;
}

/* The scratch holds the decoded strings of the current line; sized once per line, at its
 * first escape, so that nothing written into it moves. */
static int scratch_for_line(jparse *jp)
{
    persona__jsonl_reader *r = jp->r;
    if (r->scratch_cap < jp->line_len) {
        char *s = persona__realloc(r->scratch, jp->line_len);
        if (!s)
            return persona__fail_nomem();
        r->scratch = s;
        r->scratch_cap = jp->line_len;
    }
    jp->out = r->scratch;
    return 0;
}

/* A string; jp->p is after the opening quote. With val != NULL the decoded string is
 * returned (pointing into the line when it has no escapes); otherwise it is only checked. */
static int string(jparse *jp, const char **val, size_t *len)
{
    const char *start = jp->p;
    char *dst = NULL, *dst0 = NULL;
    for (;;) {
        const char *run = jp->p;
        while (jp->end - jp->p >= 8 && !word_has_stop(jp->p))
            jp->p += 8;
        if (dst && jp->p > run) {
            memcpy(dst, run, (size_t)(jp->p - run));
            dst += jp->p - run;
        }
        if (jp->p == jp->end)
            return bad_json(jp); /* unterminated */
        unsigned char c = (unsigned char)*jp->p;
        if (c == '"')
            break;
        if (c == '\\') {
            if (val && !dst) {
                /* First escape of this string: copy what came before it. */
                if (!jp->out) {
                    int rc = scratch_for_line(jp);
                    if (rc)
                        return rc;
                }
                dst = dst0 = jp->out;
                memcpy(dst, start, (size_t)(jp->p - start));
                dst += jp->p - start;
            }
            jp->p++;
            int rc = escape(jp, &dst);
            if (rc)
                return rc;
            continue;
        }
        if (c < 0x20)
            return rejected(jp, c == 0 ? PERSONA_REJECT_NUL_BYTE : PERSONA_REJECT_BAD_JSON);
        if (dst)
            *dst++ = (char)c;
        jp->p++;
    }
    if (val) {
        if (dst) {
            *val = dst0;
            *len = (size_t)(dst - dst0);
            jp->out = dst;
        } else {
            *val = start;
            *len = (size_t)(jp->p - start);
        }
    }
    jp->p++; /* closing quote */
    return 0;
}

/* ---- other values ------------------------------------------------------------------------- */

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(jparse *jp)
{
    const char *p = jp->p, *end = jp->end;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return bad_json(jp);
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return bad_json(jp);
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return bad_json(jp);
        while (p < end && is_digit(*p))
            p++;
    }
    jp->p = p;
    return 0;
}

/* true / false / null: *type gets the PERSONA__JSON_* type. */
static int literal(jparse *jp, int *type)
{
    static const struct {
        const char *text;
        size_t len;
        int type;
    } lits[] = {
        {"true", 4, PERSONA__JSON_TRUE},
        {"false", 5, PERSONA__JSON_FALSE},
        {"null", 4, PERSONA__JSON_NULL},
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        if ((size_t)(jp->end - jp->p) >= lits[i].len &&
            memcmp(jp->p, lits[i].text, lits[i].len) == 0) {
            jp->p += lits[i].len;
            *type = lits[i].type;
            return 0;
        }
    }
    return bad_json(jp);
}

static int value(jparse *jp, int depth, int *type);

/* An object or array (jp->p at its bracket) at nesting depth `depth`. */
static int container(jparse *jp, int depth)
{
    if (depth > PERSONA__JSONL_MAX_DEPTH)
        return bad_json(jp);
    const char close = *jp->p == '{' ? '}' : ']';
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        int rc, type;
        if (close == '}') {
            if (jp->p == jp->end || *jp->p != '"')
                return bad_json(jp);
            jp->p++;
            if ((rc = string(jp, NULL, NULL)) != 0)
                return rc;
            skip_ws(jp);
            if (jp->p == jp->end || *jp->p != ':')
                return bad_json(jp);
            jp->p++;
            skip_ws(jp);
        }
        if ((rc = value(jp, depth + 1, &type)) != 0)
            return rc;
        skip_ws(jp);
        if (jp->p == jp->end)
            return bad_json(jp);
        char c = *jp->p++;
        if (c == close)
            return 0;
        if (c != ',')
            return bad_json(jp);
        skip_ws(jp); /* a value must follow: "[1,]" fails in value(), "{"a":1,}" above */
    }
}

/* Any value, checked but not decoded (strings included); *type gets its kind. */
static int value(jparse *jp, int depth, int *type)
{
    if (jp->p == jp->end)
        return bad_json(jp);
    char c = *jp->p;
    if (c == '{' || c == '[') {
        *type = c == '{' ? PERSONA__JSON_OBJECT : PERSONA__JSON_ARRAY;
        return container(jp, depth);
    }
    if (c == '"') {
        *type = PERSONA__JSON_STRING;
        jp->p++;
        return string(jp, NULL, NULL);
    }
    if (c == '-' || is_digit(c)) {
        *type = PERSONA__JSON_NUMBER;
        return number(jp);
    }
    return literal(jp, type);
}

/* ---- the top-level object -------------------------------------------------------------------- */

static int push_member(jparse *jp, const persona__json_member *m)
{
    persona__jsonl_reader *r = jp->r;
    if (jp->n == PERSONA__JSONL_MAX_MEMBERS)
        return rejected(jp, PERSONA_REJECT_TOO_LONG);
    if (jp->n == r->members_cap) {
        size_t cap = r->members_cap ? r->members_cap * 2 : 16;
        if (cap > PERSONA__JSONL_MAX_MEMBERS)
            cap = PERSONA__JSONL_MAX_MEMBERS;
        persona__json_member *a = persona__realloc_array(r->members, cap, sizeof *a);
        if (!a)
            return persona__fail_nomem();
        r->members = a;
        r->members_cap = cap;
    }
    r->members[jp->n++] = *m;
    return 0;
}

/* One member: "key": value. Strings at the top level are decoded. */
static int member(jparse *jp)
{
    persona__json_member m;
    int rc;
    if (jp->p == jp->end || *jp->p != '"')
        return bad_json(jp);
    jp->p++;
    if ((rc = string(jp, &m.key, &m.key_len)) != 0)
        return rc;
    skip_ws(jp);
    if (jp->p == jp->end || *jp->p != ':')
        return bad_json(jp);
    jp->p++;
    skip_ws(jp);
    const char *start = jp->p;
    if (jp->p < jp->end && *jp->p == '"') {
        m.type = PERSONA__JSON_STRING;
        jp->p++;
        rc = string(jp, &m.val, &m.val_len);
    } else {
        rc = value(jp, 2, &m.type);
        m.val = start;
        m.val_len = (size_t)(jp->p - start);
    }
    if (rc)
        return rc;
    return push_member(jp, &m);
}

static int parse_object(jparse *jp)
{
    skip_ws(jp);
    if (jp->p == jp->end || *jp->p != '{')
        return bad_json(jp);
    jp->p++;
    skip_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
    } else {
        for (;;) {
            int rc = member(jp);
            if (rc)
                return rc;
            skip_ws(jp);
            if (jp->p == jp->end)
                return bad_json(jp);
            char c = *jp->p++;
            if (c == '}')
                break;
            if (c != ',')
                return bad_json(jp);
            skip_ws(jp);
        }
    }
    skip_ws(jp);
    return jp->p == jp->end ? 0 : bad_json(jp); /* trailing garbage */
}

/* Parse line[0..len): 0 (ok or rejected: *reject says) or a PERSONA_E* code. */
static int parse_line(persona__jsonl_reader *r, const char *line, size_t len, size_t *count,
                      int *reject)
{
    *count = 0;
    size_t bad;
    if (!persona__utf8_valid(line, len, &bad)) {
        *reject = PERSONA_REJECT_BAD_UTF8;
        return 0;
    }
    jparse jp = {r, line, line + len, len, NULL, 0, -1};
    int rc = parse_object(&jp);
    if (rc < 0)
        return rc;
    *reject = rc == REJECTED ? jp.reject : -1;
    if (rc == 0)
        *count = jp.n;
    return 0;
}

/* ---- lines ------------------------------------------------------------------------------------ */

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_ws(s[i]))
            return 0;
    return 1;
}

/* Consume a too-long line up to and including its LF without buffering it. */
static int skip_line(persona__jsonl_reader *r)
{
    for (;;) {
        const char *s = r->in.data + r->in.pos;
        const char *nl = memchr(s, '\n', r->in.len - r->in.pos);
        if (nl) {
            r->in.pos = (size_t)(nl + 1 - r->in.data);
            return 0;
        }
        r->in.pos = r->in.len;
        if (r->in.eof)
            return 0;
        int rc = persona__block_reader_refill(&r->in, r->in.block);
        if (rc)
            return rc;
    }
}

int persona__jsonl_reader_next(persona__jsonl_reader *r, const persona__json_member **members,
                               size_t *count, uint64_t *line, int *reject)
{
    int rc = persona__block_reader_begin(&r->in);
    if (rc)
        return rc;
    for (;;) {
        const size_t avail = r->in.len - r->in.pos;
        if (avail == 0) {
            if (r->in.eof)
                return 0;
            if ((rc = persona__block_reader_refill(&r->in, r->in.block)) != 0)
                return rc;
            continue;
        }
        const char *s = r->in.data + r->in.pos;
        const char *nl = memchr(s, '\n', avail);
        if (!nl && !r->in.eof) {
            /* No end in sight: more than max_line + 1 bytes (the last may be a CR) means
             * too long; otherwise read at least as much again. */
            if (avail > r->max_line + 1) {
                if ((rc = skip_line(r)) != 0)
                    return rc;
                *members = r->members;
                *count = 0;
                *line = r->line++;
                *reject = PERSONA_REJECT_TOO_LONG;
                return 1;
            }
            rc = persona__block_reader_refill(&r->in, avail > r->in.block ? avail : r->in.block);
            if (rc)
                return rc;
            continue;
        }
        size_t len = nl ? (size_t)(nl - s) : avail;
        size_t content = nl && len && s[len - 1] == '\r' ? len - 1 : len;
        size_t n = 0;
        int why = -1;
        if (content > r->max_line) {
            why = PERSONA_REJECT_TOO_LONG;
        } else if (is_blank(s, len)) {
            r->in.pos += nl ? len + 1 : len;
            r->line++;
            continue;
        } else if ((rc = parse_line(r, s, len, &n, &why)) != 0) {
            return rc; /* nothing consumed: the call can be retried */
        }
        r->in.pos += nl ? len + 1 : len;
        *members = r->members;
        *count = n;
        *line = r->line++;
        *reject = why;
        return 1;
    }
}

/* ---- lifecycle --------------------------------------------------------------------------------- */

static int reader_new(persona__jsonl_reader **out, size_t max_line_bytes)
{
    persona__jsonl_reader *r = persona__calloc(1, sizeof *r);
    if (!r)
        return persona__fail_nomem();
    r->max_line = max_line_bytes ? max_line_bytes : PERSONA__JSONL_DEFAULT_MAX_LINE;
    if (r->max_line > SIZE_MAX / 4)
        r->max_line = SIZE_MAX / 4;
    r->line = 1;
    *out = r;
    return 0;
}

int persona__jsonl_reader_open_file(persona__jsonl_reader **out, const char *path,
                                    size_t max_line_bytes)
{
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "jsonl reader: %s is NULL", out ? "path" : "out");
    *out = NULL;
    persona__jsonl_reader *r = NULL;
    int rc = reader_new(&r, max_line_bytes);
    if (rc)
        return rc;
    /* The buffer keeps at most one unfinished line: max_line bytes plus a CRLF. */
    rc = persona__block_reader_open_file(&r->in, path, r->max_line + 2);
    if (rc) {
        persona__free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int persona__jsonl_reader_open_memory(persona__jsonl_reader **out, const char *data, size_t len,
                                      size_t max_line_bytes)
{
    if (!out || (!data && len))
        return persona__fail(PERSONA_EINVAL, "jsonl reader: %s is NULL", out ? "data" : "out");
    *out = NULL;
    persona__jsonl_reader *r = NULL;
    int rc = reader_new(&r, max_line_bytes);
    if (rc)
        return rc;
    persona__block_reader_open_memory(&r->in, data, len, r->max_line + 2);
    *out = r;
    return 0;
}

void persona__jsonl_reader_free(persona__jsonl_reader *r)
{
    if (!r)
        return;
    persona__block_reader_close(&r->in);
    persona__free(r->members);
    persona__free(r->scratch);
    persona__free(r);
}

int persona__jsonl_reader_rewind(persona__jsonl_reader *r)
{
    int rc = persona__block_reader_rewind(&r->in);
    if (rc)
        return rc;
    r->line = 1;
    return 0;
}

uint64_t persona__jsonl_reader_bytes(const persona__jsonl_reader *r)
{
    return persona__block_reader_offset(&r->in);
}

void persona__jsonl_reader_set_block_size(persona__jsonl_reader *r, size_t block)
{
    persona__block_reader_set_block(&r->in, block);
}
