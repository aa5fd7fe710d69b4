/* Unit tests of the JSON Lines reader (lib/source/jsonl_reader.h).
 *
 * Each case is an input and the expected lines written by hand as text: one line per
 * returned line, "<line>:key=<t>:value;..." with t = s string, n number, t true, f false,
 * z null, o object, a array, or "<line>:!<reason>" for a rejected line. Bytes < 0x20,
 * '\\' and bytes >= 0x7F inside keys and values are written \xHH. Every case is read from
 * memory and from a file, whole and in blocks of 1..7, 16 and 64 bytes, and every way must
 * give exactly the expected text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "persona/common.h"
#include "persona/event.h"
#include "source/jsonl_reader.h"

#include "text_check.h"

static void put_bytes(text *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7F || c == '\\')
            putf(t, "\\x%02x", c);
        else
            put(t, (const char *)&c, 1);
    }
}

static const char *reason_name(int reason)
{
    switch (reason) {
    case PERSONA_REJECT_BAD_JSON: return "bad_json";
    case PERSONA_REJECT_BAD_UTF8: return "bad_utf8";
    case PERSONA_REJECT_TOO_LONG: return "too_long";
    case PERSONA_REJECT_NUL_BYTE: return "nul_byte";
    default: return "unexpected_reason";
    }
}

static char type_letter(int type)
{
    switch (type) {
    case PERSONA__JSON_STRING: return 's';
    case PERSONA__JSON_NUMBER: return 'n';
    case PERSONA__JSON_TRUE: return 't';
    case PERSONA__JSON_FALSE: return 'f';
    case PERSONA__JSON_NULL: return 'z';
    case PERSONA__JSON_OBJECT: return 'o';
    case PERSONA__JSON_ARRAY: return 'a';
    default: return '?';
    }
}

/* ---- reading ------------------------------------------------------------------------- */

static int dump_reader(persona__jsonl_reader *r, text *out)
{
    const persona__json_member *m;
    size_t n;
    uint64_t line;
    int reject, rc;
    while ((rc = persona__jsonl_reader_next(r, &m, &n, &line, &reject)) == 1) {
        putf(out, "%llu:", (unsigned long long)line);
        if (reject >= 0) {
            putf(out, "!%s", reason_name(reject));
            if (n != 0)
                put_str(out, "(members on a rejected line)");
        }
        for (size_t i = 0; i < n; i++) {
            put_bytes(out, m[i].key, m[i].key_len);
            putf(out, "=%c:", type_letter(m[i].type));
            put_bytes(out, m[i].val, m[i].val_len);
            put_str(out, ";");
        }
        put_str(out, "\n");
    }
    return rc;
}

/* One temporary file (made by mkstemp in main), rewritten for each input. */
static char tmp_path[] = "/tmp/persona-test-jsonl-XXXXXX";

static const char *write_temp(const char *data, size_t len)
{
    FILE *f = fopen(tmp_path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "test: cannot write %s: %s\n", tmp_path, strerror(errno));
        exit(2);
    }
    return tmp_path;
}

typedef struct way {
    int file;     /* 0 memory, 1 file */
    size_t block; /* 0 = default */
} way;

static const way ways[] = {
    {0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 16}, {0, 64},
    {1, 0}, {1, 1}, {1, 3}, {1, 7}, {1, 16},
};

static int open_way(persona__jsonl_reader **r, const way *w, const char *data, size_t len,
                    size_t max_line)
{
    int rc = w->file ? persona__jsonl_reader_open_file(r, write_temp(data, len), max_line)
                     : persona__jsonl_reader_open_memory(r, data, len, max_line);
    if (rc == 0 && w->block)
        persona__jsonl_reader_set_block_size(*r, w->block);
    return rc;
}

static void check_jsonl_at(int src_line, const char *data, size_t len, size_t max_line,
                           const char *expected)
{
    for (size_t k = 0; k < sizeof ways / sizeof ways[0]; k++) {
        const way *w = &ways[k];
        persona__jsonl_reader *r = NULL;
        int rc = open_way(&r, w, data, len, max_line);
        if (rc) {
            CHECK(0, "line %d: open failed: %d %s", src_line, rc, persona_errmsg());
            continue;
        }
        text out = {0};
        put_str(&out, "");
        rc = dump_reader(r, &out);
        CHECK(rc == 0, "line %d (%s, block %zu): reader returned %d", src_line,
              w->file ? "file" : "memory", w->block, rc);
        CHECK(strcmp(out.s, expected) == 0, "line %d (%s, block %zu):\n got:\n%s want:\n%s",
              src_line, w->file ? "file" : "memory", w->block, out.s, expected);
        CHECK(persona__jsonl_reader_bytes(r) == len, "line %d (%s, block %zu): bytes %llu of %zu",
              src_line, w->file ? "file" : "memory", w->block,
              (unsigned long long)persona__jsonl_reader_bytes(r), len);
        free(out.s);
        persona__jsonl_reader_free(r);
    }
}

#define JL(lit, expected) check_jsonl_at(__LINE__, lit, sizeof(lit) - 1, 0, expected)
#define JL_MAX(lit, max, expected) check_jsonl_at(__LINE__, lit, sizeof(lit) - 1, max, expected)
/* A single line that must be rejected for `reason`. */
#define JL_BAD(lit, reason) JL(lit, "1:!" reason "\n")

/* ---- cases ----------------------------------------------------------------------------- */

static void test_basic(void)
{
    JL("", "");
    JL("{\"a\":\"x\",\"b\":1}\n", "1:a=s:x;b=n:1;\n");
    JL("{\"s\":\"str\",\"n\":-0,\"t\":true,\"f\":false,\"z\":null,"
       "\"o\":{\"k\":[1,2,{\"x\":null}]},\"a\":[]}",
       "1:s=s:str;n=n:-0;t=t:true;f=f:false;z=z:null;o=o:{\"k\":[1,2,{\"x\":null}]};a=a:[];\n");
    JL("  { \"a\" : 1 , \"b\":[ 1 , 2 ] }  \r\n", "1:a=n:1;b=a:[ 1 , 2 ];\n");
    JL("{\"a\":1,\r\"b\":2}\n", "1:a=n:1;b=n:2;\n");                 /* CR is whitespace */
    JL("\n  \n{\"a\":1}\n\t\r\n{\"b\":2}", "3:a=n:1;\n5:b=n:2;\n");  /* blank lines */
    JL("\n\n\n", "");
    JL("\xEF\xBB\xBF{\"a\":1}\n", "1:a=n:1;\n");                     /* BOM */
    JL("\xEF\xBB\xBF", "");
    JL("{\"a\":1}\r\n{\"b\":2}\r\n", "1:a=n:1;\n2:b=n:2;\n");        /* CRLF */
    JL("{}\n{ }\n", "1:\n2:\n");
    JL("{\"a\":1,\"a\":2}\n", "1:a=n:1;a=n:2;\n");                   /* duplicates kept */
    JL("{\"\":\"\"}\n", "1:=s:;\n");
    JL("{\"o\":{},\"a\":[[]],\"s\":\"\"}\n", "1:o=o:{};a=a:[[]];s=s:;\n");
    JL("{\"k\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}\n",
       "1:k=s:caf\\xc3\\xa9 \\xe2\\x82\\xac \\xf0\\x9f\\x98\\x80;\n"); /* raw UTF-8 */
    JL("{\"a\":1}\n{\"b\":\"a long string value that crosses several small blocks\"}\n",
       "1:a=n:1;\n2:b=s:a long string value that crosses several small blocks;\n");
}

static void test_numbers(void)
{
    JL("{\"n\":-0}\n{\"n\":1e5}\n{\"n\":1.5E-3}\n{\"n\":0}\n{\"n\":-12.5e+10}\n{\"n\":0.0}\n"
       "{\"n\":123456789012345678901234567890}\n{\"n\":1E05}\n",
       "1:n=n:-0;\n2:n=n:1e5;\n3:n=n:1.5E-3;\n4:n=n:0;\n5:n=n:-12.5e+10;\n6:n=n:0.0;\n"
       "7:n=n:123456789012345678901234567890;\n8:n=n:1E05;\n");
    JL("{\"n\":[0,-1,2.5,3e-7]}\n", "1:n=a:[0,-1,2.5,3e-7];\n");
    JL_BAD("{\"n\":01}", "bad_json");
    JL_BAD("{\"n\":1.}", "bad_json");
    JL_BAD("{\"n\":.5}", "bad_json");
    JL_BAD("{\"n\":+1}", "bad_json");
    JL_BAD("{\"n\":-}", "bad_json");
    JL_BAD("{\"n\":1e}", "bad_json");
    JL_BAD("{\"n\":1e+}", "bad_json");
    JL_BAD("{\"n\":--1}", "bad_json");
    JL_BAD("{\"n\":0x1}", "bad_json");
    JL_BAD("{\"n\":1.e5}", "bad_json");
    JL_BAD("{\"n\":-01}", "bad_json");
    JL_BAD("{\"n\":[01]}", "bad_json");
    JL_BAD("{\"n\":NaN}", "bad_json");
    JL_BAD("{\"n\":Infinity}", "bad_json");
}

static void test_strings(void)
{
    /* Every escape, BMP and astral \u, surrogate pairs in both cases of hex digits. */
    JL("{\"k\\\"ey\":\"a\\\\b\\/c\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\uD83D\\uDE00\"}\n",
       "1:k\"ey=s:a\\x5cb/c\\x08\\x0c\\x0a\\x0d\\x09A\\xc3\\xa9\\xe2\\x82\\xac"
       "\\xf0\\x9f\\x98\\x80\\xf0\\x9f\\x98\\x80;\n");
    /* An escape after a long plain run (the word-at-a-time scan must copy the run). */
    JL("{\"k\":\"0123456789abcdefghij\\n0123456789abcdefghij\",\"k2\":\"x\\ty\"}\n",
       "1:k=s:0123456789abcdefghij\\x0a0123456789abcdefghij;k2=s:x\\x09y;\n");
    JL("{\"\\u00e9t\\u00e9\":\"\\u0000x\"}\n", "1:!nul_byte\n");
    JL("{\"a\":\"\\u007f\\u0080\\u07ff\\u0800\\uffff\\udbff\\udfff\"}\n",
       "1:a=s:\\x7f\\xc2\\x80\\xdf\\xbf\\xe0\\xa0\\x80\\xef\\xbf\\xbf\\xf4\\x8f\\xbf\\xbf;\n");
    /* Escapes inside nested values are checked, and kept raw. */
    JL("{\"o\":{\"\\u0041\":\"\\n\"}}\n", "1:o=o:{\"\\x5cu0041\":\"\\x5cn\"};\n");
    JL_BAD("{\"a\":\"x\\q\"}", "bad_json");      /* unknown escape */
    JL_BAD("{\"a\":\"\\u12\"}", "bad_json");     /* short \u */
    JL_BAD("{\"a\":\"\\u12g4\"}", "bad_json");
    JL_BAD("{\"a\":\"x}", "bad_json");           /* unterminated */
    JL_BAD("{\"a\":\"x\\\"}", "bad_json");
    JL_BAD("{\"a\":\"x\ty\"}", "bad_json");      /* raw control byte */
    JL_BAD("{\"a\":\"x\\", "bad_json");        /* backslash at the end of the line */
    JL_BAD("{\"a\":\"\\u1", "bad_json");       /* \u cut short by the line end */
    JL_BAD("{\"a\":\"\\ud800\\u12g4\"}", "bad_json"); /* bad hex in the low half */
    JL_BAD("{\"a\":'x'}", "bad_json");
    JL_BAD("{a:1}", "bad_json");
}

static void test_utf8(void)
{
    JL_BAD("{\"a\":\"\xff\"}", "bad_utf8");
    JL_BAD("{\"a\":\"\xc0\xaf\"}", "bad_utf8");          /* overlong */
    JL_BAD("{\"a\":\"\xed\xa0\x80\"}", "bad_utf8");      /* encoded surrogate */
    JL_BAD("{\"a\":\"\xe2\x82\"}", "bad_utf8");          /* truncated */
    JL_BAD("{\"a\":1}\xff", "bad_utf8");                 /* wins over bad_json */
    JL_BAD("{\"a\":\"\\ud800\"}", "bad_utf8");           /* lone high surrogate */
    JL_BAD("{\"a\":\"\\udc00\"}", "bad_utf8");           /* lone low surrogate */
    JL_BAD("{\"a\":\"\\ud800\\u0041\"}", "bad_utf8");    /* high + non-low */
    JL_BAD("{\"a\":\"\\ud800x\"}", "bad_utf8");
    JL_BAD("{\"a\":\"\\ud800\\ud800\"}", "bad_utf8");
    JL_BAD("{\"\\udfff\":1}", "bad_utf8");               /* in a key */
    JL_BAD("{\"a\":[\"\\ud800\"]}", "bad_utf8");         /* nested */
    /* The first problem from the left wins among parse problems. */
    JL_BAD("{\"a\":\"\\ud800\", x}", "bad_utf8");
    JL_BAD("{x, \"a\":\"\\ud800\"}", "bad_json");
    /* A bad line does not disturb the next. */
    JL("{\"a\":\"\xff\"}\n{\"b\":1}\n", "1:!bad_utf8\n2:b=n:1;\n");
}

static void test_nul(void)
{
    JL_BAD("{\"a\":\"x\\u0000\"}", "nul_byte");
    JL_BAD("{\"a\\u0000\":1}", "nul_byte");
    JL_BAD("{\"a\":[\"\\u0000\"]}", "nul_byte");
    JL("{\"a\":\"x\0y\"}\n{\"b\":1}\n", "1:!nul_byte\n2:b=n:1;\n"); /* raw NUL in a string */
    JL_BAD("{\"a\":1}\0", "bad_json");                               /* outside a string */
    JL_BAD("{\"a\":1,\0\"b\":2}", "bad_json");
}

static void test_structure(void)
{
    JL_BAD("{\"a\":1,}", "bad_json");       /* trailing commas */
    JL_BAD("{\"a\":[1,]}", "bad_json");
    JL_BAD("{\"a\":{\"b\":1,}}", "bad_json");
    JL_BAD("{,}", "bad_json");
    JL_BAD("{\"a\":1,,\"b\":2}", "bad_json");
    JL_BAD("{\"a\":[,1]}", "bad_json");
    JL_BAD("[1,2]", "bad_json");            /* not an object */
    JL_BAD("\"x\"", "bad_json");
    JL_BAD("1", "bad_json");
    JL_BAD("null", "bad_json");
    JL_BAD("{\"a\":1} x", "bad_json");      /* trailing garbage */
    JL_BAD("{\"a\":1}{}", "bad_json");
    JL_BAD("{\"a\":1", "bad_json");         /* unclosed */
    JL_BAD("{\"a\":[1,2}", "bad_json");
    JL_BAD("{\"a\":{\"b\":1]}", "bad_json");
    JL_BAD("{\"a\" 1}", "bad_json");        /* missing colon */
    JL_BAD("{\"a\":}", "bad_json");
    JL_BAD("{\"a\":1 \"b\":2}", "bad_json");
    JL_BAD("{\"a\":tru}", "bad_json");
    JL_BAD("{\"a\":nulls}", "bad_json");
    JL_BAD("{\"a\":True}", "bad_json");
    JL_BAD("{", "bad_json");
    JL_BAD("}", "bad_json");
    JL_BAD("{\"a\":[1 2]}", "bad_json");
    JL_BAD("{\"a\":{1:2}}", "bad_json");
    JL_BAD("{\"a\":{\"\\q\":1}}", "bad_json");  /* bad escape in a nested key */
    JL_BAD("{\"a\":{\"b\" 1}}", "bad_json");     /* nested missing colon */
    JL_BAD("{\"a\":[1", "bad_json");              /* nested, cut by the line end */
    JL_BAD("{\"a\":[", "bad_json");
    JL_BAD("{\"a\":{\"b\":", "bad_json");
    JL("[1]\n{\"ok\":true}\nnot json\n", "1:!bad_json\n2:ok=t:true;\n3:!bad_json\n");
}

/* {"a": then `inner` brackets: total depth 1 + inner. */
static char *nested(int inner, char open, char close)
{
    char *s = malloc((size_t)inner * 2 + 16);
    size_t at = 0;
    memcpy(s, "{\"a\":", 5);
    at = 5;
    for (int i = 0; i < inner; i++)
        s[at++] = open;
    for (int i = 0; i < inner; i++)
        s[at++] = close;
    s[at++] = '}';
    s[at] = '\0';
    return s;
}

static void test_depth(void)
{
    char *ok = nested(63, '[', ']'); /* depth 64 */
    char *deep = nested(64, '[', ']'); /* depth 65 */
    char want[512];
    snprintf(want, sizeof want, "1:a=a:%.*s;\n", (int)(strlen(ok) - 6), ok + 5);
    check_jsonl_at(__LINE__, ok, strlen(ok), 0, want);
    check_jsonl_at(__LINE__, deep, strlen(deep), 0, "1:!bad_json\n");
    free(ok);
    free(deep);
    /* Objects count the same way: {"a":{"a":...{}}} */
    text t = {0};
    put_str(&t, "");
    for (int i = 0; i < 64; i++)
        put_str(&t, "{\"a\":");
    put_str(&t, "{}");
    for (int i = 0; i < 64; i++)
        put_str(&t, "}");
    check_jsonl_at(__LINE__, t.s, t.len, 0, "1:!bad_json\n"); /* depth 65 */
    t.len = 0;
    for (int i = 0; i < 63; i++)
        put_str(&t, "{\"a\":");
    put_str(&t, "{}");
    for (int i = 0; i < 63; i++)
        put_str(&t, "}");
    /* depth 64: the member value is the raw text of the nested objects */
    text w = {0};
    put_str(&w, "1:a=o:");
    put_bytes(&w, t.s + 5, t.len - 6);
    put_str(&w, ";\n");
    check_jsonl_at(__LINE__, t.s, t.len, 0, w.s);
    /* Very deep input must not exhaust the stack either. */
    t.len = 0;
    put_str(&t, "{\"a\":");
    for (int i = 0; i < 100000; i++)
        put_str(&t, "[");
    check_jsonl_at(__LINE__, t.s, t.len, 0, "1:!bad_json\n");
    free(t.s);
    free(w.s);
}

static void test_too_long(void)
{
    /* 16 bytes is fine, 17 is not; the terminator does not count. */
    JL_MAX("{\"a\":\"01234567\"}\n{\"a\":\"012345678\"}\n{\"b\":1}\r\n{\"a\":\"01234567\"}\r\n"
           "{\"c\":2}",
           16, "1:a=s:01234567;\n2:!too_long\n3:b=n:1;\n4:a=s:01234567;\n5:c=n:2;\n");
    JL_MAX("{\"a\":\"01234567890123456789012345678901234567890123456789\"}\n\n{\"b\":1}\n", 16,
           "1:!too_long\n3:b=n:1;\n");
    JL_MAX("                    \n{\"b\":1}\n", 16, "1:!too_long\n2:b=n:1;\n"); /* even blank */
    JL_MAX("{\"b\":1}\n{\"a\":\"0123456789012345678901234567890\"}", 16,
           "1:b=n:1;\n2:!too_long\n");
    JL_MAX("{\"a\":\"01234567\"}\r", 16, "1:!too_long\n"); /* the CR is not a terminator here */
}

static void test_member_limit(void)
{
    size_t n = PERSONA__JSONL_MAX_MEMBERS;
    text t = {0};
    put_str(&t, "{");
    for (size_t i = 0; i < n; i++)
        put_str(&t, i ? ",\"\":0" : "\"\":0");
    put_str(&t, "}\n{");
    for (size_t i = 0; i <= n; i++)
        put_str(&t, i ? ",\"\":0" : "\"\":0");
    put_str(&t, "}\n{\"ok\":1}\n");
    persona__jsonl_reader *r;
    CHECK(persona__jsonl_reader_open_memory(&r, t.s, t.len, 0) == 0, "open");
    const persona__json_member *m;
    size_t count;
    uint64_t line;
    int reject;
    CHECK(persona__jsonl_reader_next(r, &m, &count, &line, &reject) == 1, "first");
    CHECK(reject == -1 && count == n && line == 1, "reject %d count %zu", reject, count);
    CHECK(persona__jsonl_reader_next(r, &m, &count, &line, &reject) == 1, "second");
    CHECK(reject == PERSONA_REJECT_TOO_LONG && count == 0 && line == 2, "reject %d", reject);
    CHECK(persona__jsonl_reader_next(r, &m, &count, &line, &reject) == 1, "third");
    CHECK(reject == -1 && count == 1 && line == 3, "reject %d", reject);
    persona__jsonl_reader_free(r);
    free(t.s);
}

static void test_rewind(void)
{
    static const char data[] = "\xEF\xBB\xBF{\"a\":1}\n\n{\"b\":\"x\\ny\"}\n{\"c\":[]}";
    const char *want = "1:a=n:1;\n3:b=s:x\\x0ay;\n4:c=a:[];\n";
    for (size_t k = 0; k < sizeof ways / sizeof ways[0]; k++) {
        persona__jsonl_reader *r;
        CHECK(open_way(&r, &ways[k], data, sizeof data - 1, 0) == 0, "open");
        const persona__json_member *m;
        size_t n;
        uint64_t line;
        int reject;
        CHECK(persona__jsonl_reader_next(r, &m, &n, &line, &reject) == 1, "first");
        CHECK(persona__jsonl_reader_bytes(r) == 11, "bytes %llu",
              (unsigned long long)persona__jsonl_reader_bytes(r));
        CHECK(persona__jsonl_reader_rewind(r) == 0, "rewind");
        CHECK(persona__jsonl_reader_bytes(r) == 0, "bytes after rewind");
        text out = {0};
        put_str(&out, "");
        CHECK(dump_reader(r, &out) == 0, "dump");
        CHECK(strcmp(out.s, want) == 0, "way %zu after rewind:\n%s", k, out.s);
        CHECK(persona__jsonl_reader_rewind(r) == 0, "rewind at end");
        out.len = 0;
        CHECK(dump_reader(r, &out) == 0, "dump");
        CHECK(strcmp(out.s, want) == 0, "way %zu after second rewind:\n%s", k, out.s);
        free(out.s);
        persona__jsonl_reader_free(r);
    }
}

static void test_open_errors(void)
{
    persona__jsonl_reader *r = NULL;
    const char *missing = "/tmp/persona-test-no-such-dir/missing.jsonl";
    CHECK(persona__jsonl_reader_open_file(&r, missing, 0) == PERSONA_EIO, "missing file");
    CHECK(r == NULL, "out not cleared");
    CHECK(strstr(persona_errmsg(), missing) != NULL, "message lacks the path: %s", persona_errmsg());
    CHECK(strstr(persona_errmsg(), strerror(ENOENT)) != NULL, "message lacks the cause: %s",
          persona_errmsg());
    CHECK(persona__jsonl_reader_open_file(&r, "/tmp", 0) == PERSONA_EIO, "directory");
    CHECK(persona__jsonl_reader_open_memory(&r, NULL, 1, 0) == PERSONA_EINVAL, "NULL data");
    persona__jsonl_reader_free(NULL);
}

/* ---- allocation failures --------------------------------------------------------------- */

static long alloc_count, alloc_fail_at = -1, alloc_live;

static void *t_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (++alloc_count == alloc_fail_at)
        return NULL;
    void *p = malloc(size);
    if (p)
        alloc_live++;
    return p;
}

static void *t_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (++alloc_count == alloc_fail_at)
        return NULL;
    return realloc(ptr, size);
}

static void t_free(void *ctx, void *ptr)
{
    (void)ctx;
    alloc_live--;
    free(ptr);
}

/* Fail the Nth allocation for N = 1, 2, ... until open + read-all succeeds; every failure
 * is ENOMEM, leaks nothing, and a retried next() goes on correctly. */
static void test_alloc_failures(void)
{
    static const char data[] =
        "{\"a\":\"x\\ny\",\"b\":1}\n"
        "{\"1\":1,\"2\":2,\"3\":3,\"4\":4,\"5\":5,\"6\":6,\"7\":7,\"8\":8,\"9\":9,\"10\":10,"
        "\"11\":11,\"12\":12,\"13\":13,\"14\":14,\"15\":15,\"16\":16,\"17\":17}\n"
        "{\"long\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}\n"
        "{\"too\":\"long long long long long long long long long long long long long long long "
        "long long long long long long long long long long long long long long long long\"}\n"
        "{\"z\":null}";
    const char *want = "1:a=s:x\\x0ay;b=n:1;\n2:1=n:1;2=n:2;3=n:3;4=n:4;5=n:5;6=n:6;7=n:7;8=n:8;"
                       "9=n:9;10=n:10;11=n:11;12=n:12;13=n:13;14=n:14;15=n:15;16=n:16;17=n:17;\n"
                       "3:long=s:\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9"
                       "\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9;\n4:!too_long\n5:z=z:null;\n";
    /* Whole-window reads (the vector path) and 8-byte blocks (buffer growth). */
    for (int mode = 0; mode < 4; mode++) {
        const int file = mode & 1;
        const size_t block = mode & 2 ? 8 : 0;
        const char *path = file ? write_temp(data, sizeof data - 1) : NULL;
        int done = 0;
        for (long n = 1; !done && n < 1000; n++) {
            alloc_count = 0;
            alloc_fail_at = n;
            persona__jsonl_reader *r = NULL;
            int rc = file ? persona__jsonl_reader_open_file(&r, path, 128)
                          : persona__jsonl_reader_open_memory(&r, data, sizeof data - 1, 128);
            text out = {0};
            put_str(&out, "");
            if (rc == 0) {
                if (block)
                    persona__jsonl_reader_set_block_size(r, block);
                rc = dump_reader(r, &out);
                if (rc == PERSONA_ENOMEM) {
                    alloc_fail_at = -1;
                    int rc2 = dump_reader(r, &out);
                    CHECK(rc2 == 0 && strcmp(out.s, want) == 0,
                          "mode %d, fail at %ld: retry gave %d:\n%s", mode, n, rc2, out.s);
                } else {
                    done = 1;
                    CHECK(rc == 0 && strcmp(out.s, want) == 0, "mode %d: got %d:\n%s", mode, rc,
                          out.s);
                }
            }
            CHECK(rc == 0 || rc == PERSONA_ENOMEM, "mode %d, fail at %ld: code %d", mode, n, rc);
            persona__jsonl_reader_free(r);
            free(out.s);
            CHECK(alloc_live == 0, "mode %d, fail at %ld: %ld blocks leaked", mode, n, alloc_live);
            CHECK(persona__alloc_live() == 0, "mode %d, fail at %ld: library counts %llu live",
                  mode, n, (unsigned long long)persona__alloc_live());
        }
        CHECK(done, "mode %d: never succeeded", mode);
    }
    alloc_fail_at = -1;
}

int main(void)
{
    /* The allocator can only change while nothing is live: install it first. */
    static const persona_allocator alloc = {sizeof(persona_allocator), 0, NULL,
                                            t_alloc, t_realloc, t_free};
    if (persona_set_allocator(&alloc) != PERSONA_OK) {
        fprintf(stderr, "cannot install the test allocator: %s\n", persona_errmsg());
        return 1;
    }
    int fd = mkstemp(tmp_path);
    if (fd < 0) {
        fprintf(stderr, "mkstemp: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    test_basic();
    test_numbers();
    test_strings();
    test_utf8();
    test_nul();
    test_structure();
    test_depth();
    test_too_long();
    test_member_limit();
    test_rewind();
    test_open_errors();
    test_alloc_failures();
    CHECK(alloc_live == 0, "%ld blocks leaked overall", alloc_live);
    unlink(tmp_path);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("jsonl_reader: all checks passed\n");
    return 0;
}
