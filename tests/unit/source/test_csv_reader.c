/* Unit tests of the CSV record reader (lib/source/csv_reader.h).
 *
 * Each case is an input and the expected records written by hand as text: one line per
 * record, "<line>:[field][field]..." for a good record and "<line>:!<reason>" for a
 * rejected one (bytes < 0x20 and >= 0x7F inside fields are written \xHH). Every case is
 * read from memory and from a file, whole and in blocks of 1..7, 16 and 64 bytes, and
 * every way must give exactly the expected text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "persona/common.h"
#include "persona/event.h"
#include "source/csv_reader.h"

#include "text_check.h"

static const char *reason_name(int reason)
{
    switch (reason) {
    case PERSONA_REJECT_BAD_QUOTE: return "bad_quote";
    case PERSONA_REJECT_TOO_LONG: return "too_long";
    case PERSONA_REJECT_NUL_BYTE: return "nul_byte";
    default: return "unexpected_reason";
    }
}

static void put_field(text *t, const persona__csv_field *f)
{
    put_str(t, "[");
    for (size_t i = 0; i < f->len; i++) {
        unsigned char c = (unsigned char)f->ptr[i];
        if (c < 0x20 || c >= 0x7F)
            putf(t, "\\x%02x", c);
        else
            put(t, (const char *)&c, 1);
    }
    put_str(t, "]");
}

/* ---- reading ------------------------------------------------------------------------- */

/* Read every record into the text form; returns the reader's final code (0 = end). */
static int dump_reader(persona__csv_reader *r, text *out)
{
    const persona__csv_field *f;
    size_t n;
    uint64_t line;
    int reject, rc;
    while ((rc = persona__csv_reader_next(r, &f, &n, &line, &reject)) == 1) {
        putf(out, "%llu:", (unsigned long long)line);
        if (reject >= 0) {
            putf(out, "!%s", reason_name(reject));
            if (n != 0)
                put_str(out, "(fields on a rejected record)");
        } else {
            if (n == 0)
                put_str(out, "(no fields)");
            for (size_t i = 0; i < n; i++)
                put_field(out, &f[i]);
        }
        put_str(out, "\n");
    }
    return rc;
}

/* One temporary file (made by mkstemp in main), rewritten for each input. */
static char tmp_path[] = "/tmp/persona-test-csv-XXXXXX";

static const char *write_temp(const char *data, size_t len)
{
    const char *path = tmp_path;
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "test: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
    return path;
}

typedef struct way {
    int file;     /* 0 memory, 1 file */
    size_t block; /* 0 = default */
} way;

static const way ways[] = {
    {0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 16}, {0, 64},
    {1, 0}, {1, 1}, {1, 3}, {1, 7}, {1, 16},
};

static int open_way(persona__csv_reader **r, const way *w, const char *data, size_t len,
                    char delim, size_t max_row)
{
    int rc = w->file ? persona__csv_reader_open_file(r, write_temp(data, len), delim, max_row)
                     : persona__csv_reader_open_memory(r, data, len, delim, max_row);
    if (rc == 0 && w->block)
        persona__csv_reader_set_block_size(*r, w->block);
    return rc;
}

/* Check one input against its expected records in every way of reading it. */
static void check_csv_at(int src_line, const char *data, size_t len, char delim, size_t max_row,
                         const char *expected)
{
    for (size_t k = 0; k < sizeof ways / sizeof ways[0]; k++) {
        const way *w = &ways[k];
        persona__csv_reader *r = NULL;
        int rc = open_way(&r, w, data, len, delim, max_row);
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
        CHECK(persona__csv_reader_bytes(r) == len, "line %d (%s, block %zu): bytes %llu of %zu",
              src_line, w->file ? "file" : "memory", w->block,
              (unsigned long long)persona__csv_reader_bytes(r), len);
        /* End of input is sticky. */
        const persona__csv_field *f;
        size_t n;
        uint64_t line;
        int reject;
        CHECK(persona__csv_reader_next(r, &f, &n, &line, &reject) == 0, "line %d: again",
              src_line);
        free(out.s);
        persona__csv_reader_free(r);
    }
}

#define CSV(lit, expected) check_csv_at(__LINE__, lit, sizeof(lit) - 1, ',', 0, expected)
#define CSV_D(lit, delim, expected) check_csv_at(__LINE__, lit, sizeof(lit) - 1, delim, 0, expected)
#define CSV_MAX(lit, max, expected) check_csv_at(__LINE__, lit, sizeof(lit) - 1, ',', max, expected)

/* ---- cases ----------------------------------------------------------------------------- */

static void test_basic(void)
{
    CSV("", "");
    CSV("a,b,c\n1,2,3\n", "1:[a][b][c]\n2:[1][2][3]\n");
    CSV("a,b\n1,2", "1:[a][b]\n2:[1][2]\n");                 /* no trailing newline */
    CSV("a,b\r\n1,2\r\n", "1:[a][b]\n2:[1][2]\n");           /* CRLF */
    CSV("a,b\r\n1,2", "1:[a][b]\n2:[1][2]\n");
    CSV(",,\n,\n", "1:[][][]\n2:[][]\n");                    /* empty fields */
    CSV("a,\n,b\n", "1:[a][]\n2:[][b]\n");
    CSV("a\n\nb\n\n", "1:[a]\n2:[]\n3:[b]\n4:[]\n");         /* empty lines */
    CSV("\n", "1:[]\n");
    CSV("\r\n\r\n", "1:[]\n2:[]\n");
    CSV("x", "1:[x]\n");
    CSV("a\rb,c\n", "1:[a\\x0db][c]\n");                     /* lone CR is data */
    CSV("a,b\r", "1:[a][b\\x0d]\n");                         /* also at end of input */
    CSV("a\r\r\nb\n", "1:[a\\x0d]\n2:[b]\n");
    /* Records long enough for the vector path, next to short ones. */
    CSV("user_id,timestamp,event,value\n123456,2023-05-06 07:08:09,view,\n"
        "7,2023-05-06 07:08:10,purchase,12.50\n",
        "1:[user_id][timestamp][event][value]\n2:[123456][2023-05-06 07:08:09][view][]\n"
        "3:[7][2023-05-06 07:08:10][purchase][12.50]\n");
    CSV("0123456789abcdef0123456789abcdef0123456789\n,,,,,,,,,,,,,,,,,,,,\n",
        "1:[0123456789abcdef0123456789abcdef0123456789]\n"
        "2:[][][][][][][][][][][][][][][][][][][][][]\n");
}

static void test_bom(void)
{
    CSV("\xEF\xBB\xBF" "a,b\n1,2\n", "1:[a][b]\n2:[1][2]\n");
    CSV("\xEF\xBB\xBF", "");
    CSV("\xEF\xBB\xBF\n", "1:[]\n");
    CSV("\xEF\xBB\xBF\"q\"\n", "1:[q]\n");
    CSV("\xEF\xBB", "1:[\\xef\\xbb]\n");                      /* not a whole BOM: data */
    CSV("a\n\xEF\xBB\xBF\n", "1:[a]\n2:[\\xef\\xbb\\xbf]\n"); /* only at the very start */
}

static void test_quotes(void)
{
    CSV("\"a,b\",\"c\"\"d\",\"\"\n", "1:[a,b][c\"d][]\n");
    CSV("\"\"\"\"\n", "1:[\"]\n");
    CSV("\"line1\nline2\",x\nnext,y\n", "1:[line1\\x0aline2][x]\n3:[next][y]\n");
    CSV("\"a\r\nb\",c\r\nd,e\r\n", "1:[a\\x0d\\x0ab][c]\n3:[d][e]\n");
    CSV("\"\n\n\n\"\nz\n", "1:[\\x0a\\x0a\\x0a]\n5:[z]\n");
    CSV("\"abc\"", "1:[abc]\n");                          /* closing quote at end of input */
    CSV("a,\"\"", "1:[a][]\n");
    CSV("\"x\"\r\n\"y\"\n", "1:[x]\n2:[y]\n");
    CSV("\"a\",\"b\"\n", "1:[a][b]\n");
    CSV("plain,\"quoted, with delimiter\",\"with \"\"quotes\"\"\",end\n",
        "1:[plain][quoted, with delimiter][with \"quotes\"][end]\n");
    CSV("\"a;b\";c\n", "1:!bad_quote\n"); /* ',' is the delimiter: ";c" follows the quote */
}

/* The vector path only takes records with at least 64 bytes of window after their start;
 * a long last row puts the interesting records before it on that path (the small-block
 * ways still take the other one, and must agree). */
#define D40 "0123456789012345678901234567890123456789"
#define TAIL D40 D40 D40 "\n"
#define TAIL_F "[" D40 D40 D40 "]"

static void test_fast_path(void)
{
    CSV("a,b\r\nc,d\r\n" TAIL, "1:[a][b]\n2:[c][d]\n3:" TAIL_F "\n");
    CSV("a\rb,c\n" TAIL, "1:[a\\x0db][c]\n2:" TAIL_F "\n");
    CSV(",,\n\n" TAIL, "1:[][][]\n2:[]\n3:" TAIL_F "\n");
    CSV("abc,def,\"g,h\"\n" TAIL, "1:[abc][def][g,h]\n2:" TAIL_F "\n");
    CSV("abcdef,gh\"i\n" TAIL, "1:!bad_quote\n2:" TAIL_F "\n");
    CSV("abcdef,g\0h\n" TAIL, "1:!nul_byte\n2:" TAIL_F "\n");
    CSV("abcdef,gh\r\r\n" TAIL, "1:[abcdef][gh\\x0d]\n2:" TAIL_F "\n");
    CSV_D("123456|2023-05-06 07:08:09|view|\n7|x,y|z|\n" TAIL,
          '|', "1:[123456][2023-05-06 07:08:09][view][]\n2:[7][x,y][z][]\n3:" TAIL_F "\n");
    CSV_MAX("0123456789012345678901234\nok\n" TAIL "ok\n", 20,
            "1:!too_long\n2:[ok]\n3:!too_long\n4:[ok]\n");
}

/* Quoted fields longer than the first scratch buffer: the scratch grows (and moves) in
 * the middle of a record, which must not disturb the fields before it. */
static void test_long_quoted(void)
{
    text in = {0}, want = {0};
    put_str(&in, "\"a\"\"\",");
    put_str(&want, "1:[a\"]");
    for (int k = 1; k <= 3; k++) {
        put_str(&in, "\"");
        put_str(&want, "[");
        for (int i = 0; i < 300 * k; i++) {
            put_str(&in, i % 50 == 49 ? "\"\"" : "b");
            put_str(&want, i % 50 == 49 ? "\"" : "b");
        }
        put_str(&in, k < 3 ? "\"," : "\"\nz\n");
        put_str(&want, "]");
    }
    put_str(&want, "\n2:[z]\n");
    check_csv_at(__LINE__, in.s, in.len, ',', 0, want.s);
    free(in.s);
    free(want.s);
}

static void test_delimiters(void)
{
    CSV_D("a;b,c\n\"x;y\";z\n", ';', "1:[a][b,c]\n2:[x;y][z]\n");
    CSV_D("a\tb\n\"x\ty\"\tz\n", '\t', "1:[a][b]\n2:[x\\x09y][z]\n");
    CSV_D("a|b||\n", '|', "1:[a][b][][]\n");
    CSV_D("123456|2023-05-06 07:08:09|view|\n", '|', "1:[123456][2023-05-06 07:08:09][view][]\n");
}

static void test_broken(void)
{
    /* A quote inside an unquoted field. */
    CSV("a,b\"c,d\ngood,1\n", "1:!bad_quote\n2:[good][1]\n");
    CSV("a\"\nok\n", "1:!bad_quote\n2:[ok]\n");
    /* Text after a closing quote; the rest of the field is unquoted data. */
    CSV("\"ab\"c,d\ngood\n", "1:!bad_quote\n2:[good]\n");
    CSV("\"a\"b\"c\nd\"\nok\n", "1:!bad_quote\n2:!bad_quote\n3:[ok]\n");
    CSV("\"a\" ,b\nok\n", "1:!bad_quote\n2:[ok]\n");
    CSV("\"a\"\rb\nok\n", "1:!bad_quote\n2:[ok]\n"); /* lone CR after the quote */
    CSV("\"a\"\r", "1:!bad_quote\n");
    /* An unterminated quote swallows the rest of the input. */
    CSV("a,b\n\"open,x\nmore\n", "1:[a][b]\n2:!bad_quote\n");
    CSV("\"a\"\"", "1:!bad_quote\n");
    CSV("\"", "1:!bad_quote\n");
    /* NUL bytes, quoted or not. */
    CSV("a,b\0c\nok\n", "1:!nul_byte\n2:[ok]\n");
    CSV("\"x\0\",y\nok\n", "1:!nul_byte\n2:[ok]\n");
    CSV("\0", "1:!nul_byte\n");
    /* The first problem in byte order wins. */
    CSV("a\"b,\0\n", "1:!bad_quote\n");
    CSV("x\0,y\"z\n", "1:!nul_byte\n");
    /* A broken record is followed by good ones with the right line numbers. */
    CSV("h\n\"a\nb\"x\nc\nd\n", "1:[h]\n2:!bad_quote\n4:[c]\n5:[d]\n");
}

static void test_too_long(void)
{
    CSV_MAX("0123456789\n01234567890\nabc,def\n\"q\nq\",x\nz\n", 10,
            "1:[0123456789]\n2:!too_long\n3:[abc][def]\n4:[q\\x0aq][x]\n6:[z]\n");
    /* The terminator does not count: exactly max with CRLF is fine. */
    CSV_MAX("abc\r\nabcd\r\nx\r\n", 3, "1:[abc]\n2:!too_long\n3:[x]\n");
    CSV_MAX("abc", 3, "1:[abc]\n");
    CSV_MAX("abcd", 3, "1:!too_long\n");
    CSV_MAX("abc\r", 3, "1:!too_long\n"); /* the CR is data here */
    /* Quoted newlines inside a long record are skipped with it and still counted. */
    CSV_MAX("\"aaaaaaaaaaaa\nbbbbbbbbbbbbbb\",c\nok\n", 10, "1:!too_long\n3:[ok]\n");
    CSV_MAX("\"a\nb\"\"\nc\",\"dddddddddddddddddddd\nx\"\n1,2\n", 12, "1:!too_long\n5:[1][2]\n");
    /* Long unquoted records on the vector path. */
    CSV_MAX("short,row\n0123456789abcdef0123456789abcdef0123456789abcdef\n"
            "123456,2023-05-06 07:08:09,view,\n",
            40,
            "1:[short][row]\n2:!too_long\n3:[123456][2023-05-06 07:08:09][view][]\n");
    /* Too long wins over other problems, even ones before the limit. */
    CSV_MAX("a\"bcdefghijkl\nok\n", 8, "1:!too_long\n2:[ok]\n");
    /* An unterminated quote that is also too long. */
    CSV_MAX("ok\n\"aaaaaaaaaaaaaaaaaaaa\nb\nc\n", 8, "1:[ok]\n2:!too_long\n");
}

/* 100000 fields are fine, 100001 are too many. */
static void test_field_limit(void)
{
    size_t n = PERSONA__CSV_MAX_FIELDS;
    size_t len = 2 * n + 128;
    char *data = malloc(len);
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        data[at++] = i + 1 < n ? ',' : '\n'; /* n-1 commas + LF: n empty fields */
    for (size_t i = 0; i < n; i++)
        data[at++] = ','; /* n commas: n + 1 fields */
    data[at++] = '\n';
    /* A long last row keeps the records above on the vector path. */
    static const char last[] = "ok," D40 D40 "\n";
    memcpy(data + at, last, sizeof last - 1);
    at += sizeof last - 1;
    for (int blocks = 0; blocks < 2; blocks++) {
        persona__csv_reader *r;
        CHECK(persona__csv_reader_open_memory(&r, data, at, ',', 0) == 0, "open");
        if (blocks)
            persona__csv_reader_set_block_size(r, 4096);
        const persona__csv_field *f;
        size_t nf;
        uint64_t line;
        int reject;
        CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1, "first");
        CHECK(reject == -1 && nf == n && line == 1, "reject %d nf %zu line %llu", reject, nf,
              (unsigned long long)line);
        CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1, "second");
        CHECK(reject == PERSONA_REJECT_TOO_LONG && nf == 0 && line == 2, "reject %d nf %zu", reject,
              nf);
        CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1, "third");
        CHECK(reject == -1 && nf == 2 && line == 3 && f[0].len == 2 && f[1].len == 80,
              "reject %d", reject);
        CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 0, "end");
        persona__csv_reader_free(r);
    }
    free(data);
}

/* A record longer than the default block, in the default configuration. */
static void test_big_record(void)
{
    size_t n = 3u << 20;
    char *data = malloc(n + 16);
    memset(data, 'x', n);
    memcpy(data + n, ",y\nz\n", 5);
    persona__csv_reader *r;
    /* max_row 4 MiB: the 3 MiB record is kept and spans several 1 MiB blocks. */
    CHECK(persona__csv_reader_open_file(&r, write_temp(data, n + 5), ',', 4u << 20) == 0, "open");
    const persona__csv_field *f;
    size_t nf;
    uint64_t line;
    int reject;
    CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1, "big");
    CHECK(reject == -1 && nf == 2 && f[0].len == n && f[1].len == 1 && f[1].ptr[0] == 'y',
          "reject %d nf %zu", reject, nf);
    CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1 && line == 2 && nf == 1,
          "after big");
    persona__csv_reader_free(r);
    /* Default limit (1 MiB): rejected, and the next record still comes out. */
    CHECK(persona__csv_reader_open_file(&r, write_temp(data, n + 5), ',', 0) == 0, "open");
    CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1, "big");
    CHECK(reject == PERSONA_REJECT_TOO_LONG && line == 1, "reject %d", reject);
    CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 1 && line == 2 && nf == 1 &&
              f[0].ptr[0] == 'z',
          "after big");
    CHECK(persona__csv_reader_next(r, &f, &nf, &line, &reject) == 0, "end");
    persona__csv_reader_free(r);
    free(data);
}

static void test_rewind(void)
{
    static const char data[] = "\xEF\xBB\xBF" "a,b\n\"x\ny\",z\nlast";
    const char *want = "1:[a][b]\n2:[x\\x0ay][z]\n4:[last]\n";
    for (size_t k = 0; k < sizeof ways / sizeof ways[0]; k++) {
        persona__csv_reader *r;
        CHECK(open_way(&r, &ways[k], data, sizeof data - 1, ',', 0) == 0, "open");
        const persona__csv_field *f;
        size_t n;
        uint64_t line;
        int reject;
        CHECK(persona__csv_reader_next(r, &f, &n, &line, &reject) == 1, "first");
        CHECK(persona__csv_reader_bytes(r) == 7, "bytes after the first record: %llu",
              (unsigned long long)persona__csv_reader_bytes(r));
        CHECK(persona__csv_reader_next(r, &f, &n, &line, &reject) == 1, "second");
        CHECK(persona__csv_reader_rewind(r) == 0, "rewind");
        CHECK(persona__csv_reader_bytes(r) == 0, "bytes after rewind");
        text out = {0};
        put_str(&out, "");
        CHECK(dump_reader(r, &out) == 0, "dump");
        CHECK(strcmp(out.s, want) == 0, "way %zu after rewind:\n%s", k, out.s);
        /* Rewind at the end too. */
        CHECK(persona__csv_reader_rewind(r) == 0, "rewind at end");
        out.len = 0;
        CHECK(dump_reader(r, &out) == 0, "dump");
        CHECK(strcmp(out.s, want) == 0, "way %zu after second rewind:\n%s", k, out.s);
        free(out.s);
        persona__csv_reader_free(r);
    }
}

static void test_open_errors(void)
{
    persona__csv_reader *r = (persona__csv_reader *)&r;
    const char *missing = "/tmp/persona-test-no-such-dir/missing.csv";
    CHECK(persona__csv_reader_open_file(&r, missing, ',', 0) == PERSONA_EIO, "missing file");
    CHECK(r == NULL, "out not cleared");
    CHECK(persona_errcode() == PERSONA_EIO, "errcode %d", persona_errcode());
    CHECK(strstr(persona_errmsg(), missing) != NULL, "message lacks the path: %s", persona_errmsg());
    CHECK(strstr(persona_errmsg(), strerror(ENOENT)) != NULL, "message lacks the cause: %s",
          persona_errmsg());
    CHECK(persona__csv_reader_open_file(&r, "/tmp", ',', 0) == PERSONA_EIO, "directory");
    CHECK(strstr(persona_errmsg(), "/tmp") != NULL, "message lacks the path: %s", persona_errmsg());
    static const char bad[] = {'"', '\r', '\n', '\0'};
    for (size_t i = 0; i < sizeof bad; i++) {
        CHECK(persona__csv_reader_open_memory(&r, "a", 1, bad[i], 0) == PERSONA_EINVAL,
              "delimiter 0x%02x accepted", (unsigned)bad[i]);
        CHECK(r == NULL, "out not cleared");
    }
    CHECK(persona__csv_reader_open_memory(&r, NULL, 1, ',', 0) == PERSONA_EINVAL, "NULL data");
    CHECK(persona__csv_reader_open_memory(&r, NULL, 0, ',', 0) == 0, "NULL empty data");
    const persona__csv_field *f;
    size_t n;
    uint64_t line;
    int reject;
    CHECK(persona__csv_reader_next(r, &f, &n, &line, &reject) == 0, "empty");
    persona__csv_reader_free(r);
    persona__csv_reader_free(NULL);
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

/* Fail the Nth allocation for N = 1, 2, ... until open + read-all succeeds. Every failure
 * must be ENOMEM and leak nothing; after a failure in next() the same call, retried with
 * allocation working again, must go on as if nothing had happened. */
static void test_alloc_failures(void)
{
    /* Quoted fields (scratch), > 16 fields (field array), a long record over small blocks
     * (buffer growth) and a too-long one (skip). */
    static const char data[] =
        "a,\"b\"\"c\",d\n"
        "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n"
        "\"0123456789012345678901234567890123456789\",\"x\ny\"\n"
        "0123456789012345678901234567890123456789012345678901234567890123456789\n"
        "last";
    const char *want = "1:[a][b\"c][d]\n2:[1][2][3][4][5][6][7][8][9][10][11][12][13][14][15]"
                       "[16][17][18][19][20]\n3:[0123456789012345678901234567890123456789]"
                       "[x\\x0ay]\n5:!too_long\n6:[last]\n";
    /* Whole-window reads (the vector path) and 8-byte blocks (buffer growth). */
    for (int mode = 0; mode < 4; mode++) {
        const int file = mode & 1;
        const size_t block = mode & 2 ? 8 : 0;
        const char *path = file ? write_temp(data, sizeof data - 1) : NULL;
        int done = 0;
        for (long n = 1; !done && n < 1000; n++) {
            alloc_count = 0;
            alloc_fail_at = n;
            persona__csv_reader *r = NULL;
            int rc = file ? persona__csv_reader_open_file(&r, path, ',', 64)
                          : persona__csv_reader_open_memory(&r, data, sizeof data - 1, ',', 64);
            text out = {0};
            put_str(&out, "");
            if (rc == 0) {
                if (block)
                    persona__csv_reader_set_block_size(r, block);
                rc = dump_reader(r, &out);
                if (rc == PERSONA_ENOMEM) {
                    /* Retry with working allocation: the output must be complete. */
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
            persona__csv_reader_free(r);
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
    test_bom();
    test_quotes();
    test_long_quoted();
    test_fast_path();
    test_delimiters();
    test_broken();
    test_too_long();
    test_field_limit();
    test_big_record();
    test_rewind();
    test_open_errors();
    test_alloc_failures();
    CHECK(alloc_live == 0, "%ld blocks leaked overall", alloc_live);

    unlink(tmp_path);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("csv_reader: all checks passed\n");
    return 0;
}
