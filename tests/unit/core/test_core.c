/* lib/core building blocks against known vectors and brute force: CRC32C, SipHash-1-3
 * keyed hashing, UTF-8 validation, interning, the pair map, the output buffer's CSV and
 * JSON escaping, double formatting, struct_size validation, the allocator hook. */
#include <stdlib.h>

#include "check.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/crc32c.h"
#include "core/hash.h"
#include "core/intern.h"
#include "core/pairmap.h"
#include "core/structs.h"
#include "core/utf8.h"

static void test_crc32c(void)
{
    /* Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789". */
    CHECK(persona__crc32c(0, "123456789", 9) == 0xE3069283u);
    unsigned char zeros[32] = { 0 }, ones[32], inc[32];
    memset(ones, 0xFF, sizeof ones);
    for (int i = 0; i < 32; i++)
        inc[i] = (unsigned char)i;
    CHECK(persona__crc32c(0, zeros, 32) == 0x8A9136AAu);
    CHECK(persona__crc32c(0, ones, 32) == 0x62A8AB43u);
    CHECK(persona__crc32c(0, inc, 32) == 0x46DD794Eu);
    /* Incremental equals one shot at every split point. */
    for (size_t k = 0; k <= 32; k++)
        CHECK(persona__crc32c(persona__crc32c(0, inc, k), inc + k, 32 - k) == 0x46DD794Eu);
    /* The table version gives the same values, and the CPU path (where there is one)
     * agrees with it at every length 0..300 and start offset 0..7. */
    CHECK(persona__crc32c_portable(0, "123456789", 9) == 0xE3069283u);
    CHECK(persona__crc32c_portable(0, inc, 32) == 0x46DD794Eu);
    unsigned char buf[320];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    int same = 1;
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 300; len++)
            same &= persona__crc32c(7, buf + off, len) == persona__crc32c_portable(7, buf + off, len);
    CHECK(same);
}

static void test_siphash(void)
{
    /* The reference implementation's vectors (key 00..0f, message 00 01 02 … of length n):
     * SipHash-2-4 for several lengths, which exercises every tail length and the block
     * loop, and SipHash-1-3 (what the tables use) for lengths 0 and 1. */
    persona__hash_key k = { 0x0706050403020100ULL, 0x0F0E0D0C0B0A0908ULL };
    unsigned char msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    static const struct {
        size_t len;
        uint64_t h;
    } sip24[] = { { 0, 0x726fdb47dd0e0e31ULL },  { 1, 0x74f839c593dc67fdULL },
                  { 2, 0x0d6c8009d9a94f5aULL },  { 3, 0x85676696d7fb7e2dULL },
                  { 7, 0xab0200f58b01d137ULL },  { 8, 0x93f5f5799a932462ULL },
                  { 9, 0x9e0082df0ba9e4b0ULL },  { 15, 0xa129ca6149be45e5ULL },
                  { 16, 0x3f2acc7f57c29bdbULL }, { 31, 0x32d892fad841c342ULL },
                  { 63, 0x958a324ceb064572ULL } };
    for (size_t i = 0; i < sizeof sip24 / sizeof *sip24; i++)
        CHECK(persona__siphash(&k, msg, sip24[i].len, 2, 4) == sip24[i].h);
    CHECK(persona__hash(&k, msg, 0) == 0xabac0158050fc4dcULL);
    CHECK(persona__hash(&k, msg, 1) == 0xc9f49bf37d57ca93ULL);
    /* Different keys, different hashes; same key, same hash. */
    persona__hash_key k2 = persona__hash_key_from_seed(1), k3 = persona__hash_key_from_seed(1);
    CHECK(k2.k0 == k3.k0 && k2.k1 == k3.k1);
    CHECK(persona__hash(&k2, "abc", 3) != persona__hash(&k, "abc", 3));
    /* seed 0: fresh keys, different for every store */
    persona__hash_key r1 = persona__hash_key_from_seed(0), r2 = persona__hash_key_from_seed(0);
    CHECK(r1.k0 != r2.k0 && r1.k1 != r2.k1);
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t len;
        int ok;
        size_t bad;
    } cases[] = {
        { "", 0, 1, 0 },
        { "plain ascii text, long enough for the 8-byte path", 50, 1, 0 },
        { "\xc3\xa9", 2, 1, 0 },                 /* é */
        { "\xe2\x82\xac", 3, 1, 0 },             /* € */
        { "\xf0\x9f\x98\x80", 4, 1, 0 },         /* U+1F600 */
        { "\xf4\x8f\xbf\xbf", 4, 1, 0 },         /* U+10FFFF */
        { "\xc0\xaf", 2, 0, 0 },                 /* overlong / */
        { "\xc1\xbf", 2, 0, 0 },                 /* overlong */
        { "\xe0\x80\xaf", 3, 0, 0 },             /* overlong */
        { "\xf0\x80\x80\xaf", 4, 0, 0 },         /* overlong */
        { "\xed\xa0\x80", 3, 0, 0 },             /* surrogate D800 */
        { "\xed\xbf\xbf", 3, 0, 0 },             /* surrogate DFFF */
        { "\xf4\x90\x80\x80", 4, 0, 0 },         /* above U+10FFFF */
        { "\xf5\x80\x80\x80", 4, 0, 0 },
        { "\xff", 1, 0, 0 },
        { "\x80", 1, 0, 0 },                     /* lone continuation */
        { "ab\xc3", 3, 0, 2 },                   /* truncated at the end */
        { "abcdefgh\xe2\x82", 10, 0, 8 },        /* truncated after the fast path */
        { "a\xe2\x28\xa1", 4, 0, 1 },            /* bad continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t bad = 999;
        int ok = persona__utf8_valid(cases[i].s, cases[i].len, &bad);
        CHECK(ok == cases[i].ok);
        if (!cases[i].ok)
            CHECK(bad == cases[i].bad);
    }
    /* Brute force: every 1- and 2-byte sequence against a direct decoder. */
    for (unsigned a = 0; a < 256; a++) {
        unsigned char one[1] = { (unsigned char)a };
        CHECK(persona__utf8_valid((char *)one, 1, NULL) == (a < 0x80));
        for (unsigned b = 0; b < 256; b++) {
            unsigned char two[2] = { (unsigned char)a, (unsigned char)b };
            int want = (a < 0x80 && b < 0x80) ||
                       (a >= 0xC2 && a <= 0xDF && (b & 0xC0) == 0x80);
            if (persona__utf8_valid((char *)two, 2, NULL) != want) {
                CHECK(!"2-byte sequence misjudged");
                break;
            }
        }
    }
}

static void test_intern(void)
{
    persona__intern t;
    persona__intern_init(&t, persona__hash_key_from_seed(9));
    char key[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        CHECK(persona__intern_add(&t, key, (size_t)n) == (uint32_t)i);
    }
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        bad += persona__intern_find(&t, key, (size_t)n) != (uint32_t)i;
        bad += persona__intern_add(&t, key, (size_t)n) != (uint32_t)i; /* no duplicate */
        bad += strcmp(persona__intern_str(&t, (uint32_t)i), key) != 0;
    }
    CHECK(bad == 0 && t.count == 5000);
    CHECK(persona__intern_find(&t, "key-5000", 8) == PERSONA__NO_ID);
    CHECK(persona__intern_add(&t, "", 0) == 5000); /* the empty string is a key too */
    CHECK(persona__intern_add(&t, "a\0b", 3) == 5001 && persona__intern_find(&t, "a", 1) == PERSONA__NO_ID);
    persona__intern_free(&t);
}

static void test_pairmap(void)
{
    persona__pairmap m;
    persona__pairmap_init(&m, 77);
    uint32_t heads[100];
    for (int u = 0; u < 100; u++)
        heads[u] = UINT32_MAX;
    CHECK(persona__pairmap_reserve(&m, 100 * 7) == 0);
    for (uint32_t u = 0; u < 100; u++)
        for (uint32_t x = 0; x < 7; x++)
            CHECK(persona__pairmap_add(&m, PERSONA__PAIR(u, x * 1000), &heads[u]) == u * 7 + x);
    int bad = 0;
    for (uint32_t u = 0; u < 100; u++) {
        for (uint32_t x = 0; x < 7; x++)
            bad += persona__pairmap_find(&m, PERSONA__PAIR(u, x * 1000)) != u * 7 + x;
        bad += persona__pairmap_find(&m, PERSONA__PAIR(u, 1)) != UINT32_MAX;
        /* the user's chain lists its 7 entries, newest first */
        uint32_t want = 6, n = 0;
        for (uint32_t e = heads[u]; e != UINT32_MAX; e = m.next[e], n++)
            bad += PERSONA__PAIR_X(m.keys[e]) != want-- * 1000;
        bad += n != 7;
    }
    CHECK(bad == 0);
    persona__pairmap_free(&m);
}

static void test_buf(void)
{
    persona__buf b;
    persona__buf_init(&b);
    const char *cells[] = { "plain", "a,b", "say \"hi\"", "two\nlines", " lead", "=1+2",
                            "-3", "@x", "\tt", "" };
    for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
        persona__buf_csv_cell(&b, cells[i], strlen(cells[i]), ',');
        persona__buf_putc(&b, '|');
    }
    CHECK_STR(b.data, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" lead\"|'=1+2|'-3|'@x|'\tt||");
    persona__buf_clear(&b);
    persona__buf_json_str(&b, "q\"\\\n\t<a>&\x01", 10);
    CHECK_STR(b.data, "\"q\\\"\\\\\\n\\t\\u003ca\\u003e\\u0026\\u0001\"");
    persona__buf_clear(&b);
    persona__buf_i64(&b, INT64_MIN);
    persona__buf_putc(&b, ' ');
    persona__buf_u64(&b, UINT64_MAX);
    CHECK_STR(b.data, "-9223372036854775808 18446744073709551615");
    persona__buf_free(&b);
    char tmp[32];
    static const struct {
        double v;
        const char *s;
    } nums[] = { { 0.1, "0.1" }, { 2662.06, "2662.06" },
                 { 1e21, "1e+21" }, { -0.0, "0" }, { 1.0 / 3, "0.3333333333333333" },
                 { 123456789012345678.0, "1.2345678901234568e+17" }, { 5e-324, "4.94065645841247e-324" } };
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        persona__fmt_double(tmp, nums[i].v);
        CHECK_STR(tmp, nums[i].s);
        CHECK(strtod(tmp, NULL) == nums[i].v);
    }
}

typedef struct v1 {
    uint32_t struct_size;
    uint32_t a;
} v1;
typedef struct v2 {
    uint32_t struct_size;
    uint32_t a;
    uint64_t b;
} v2;

static void test_structs(void)
{
    v1 dst;
    v2 newer = { sizeof newer, 7, 0 };
    CHECK_RC(persona__struct_in(&dst, sizeof dst, &newer, sizeof dst, "v"), PERSONA_OK);
    CHECK(dst.a == 7 && dst.struct_size == sizeof newer);
    newer.b = 1;
    CHECK_RC(persona__struct_in(&dst, sizeof dst, &newer, sizeof dst, "v"), PERSONA_EUNSUPPORTED);
    v1 zero = { 0, 0 };
    CHECK_RC(persona__struct_in(&dst, sizeof dst, &zero, sizeof dst, "v"), PERSONA_EINVAL);
    CHECK_MSG("struct_size not set");
    uint32_t huge[1200] = { 4097 };
    CHECK_RC(persona__struct_in(&dst, sizeof dst, huge, sizeof dst, "v"), PERSONA_EINVAL);
    /* out: an older caller's shorter struct gets only its bytes */
    v2 src = { 0, 5, 99 };
    v1 out = { sizeof out, 0 };
    CHECK_RC(persona__struct_out(&out, &src, sizeof src, sizeof out, "v"), PERSONA_OK);
    CHECK(out.a == 5 && out.struct_size == sizeof out);
}

static int allocs;
static void *count_alloc(void *ctx, size_t n)
{
    (void)ctx;
    allocs++;
    return malloc(n);
}
static void *count_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n);
}
static void count_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void test_allocator_hook(void)
{
    persona_allocator a = { sizeof a, 0, NULL, count_alloc, count_realloc, count_free };
    CHECK_RC(persona_set_allocator(&a), PERSONA_OK);
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK(allocs > 0);
    CHECK_RC(persona_set_allocator(NULL), PERSONA_EBUSY); /* objects alive */
    CHECK_MSG("still live");
    persona_store_free(s);
    CHECK(persona__alloc_live() == 0);
    persona_allocator broken = { sizeof broken, 0, NULL, NULL, count_realloc, count_free };
    CHECK_RC(persona_set_allocator(&broken), PERSONA_EINVAL);
    CHECK_RC(persona_set_allocator(NULL), PERSONA_OK);
    /* size arithmetic never overflows into a small allocation */
    CHECK(persona__calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(persona__realloc_array(NULL, SIZE_MAX / 8, 16) == NULL);
}

int main(void)
{
    test_crc32c();
    test_siphash();
    test_utf8();
    test_intern();
    test_pairmap();
    test_buf();
    test_structs();
    test_allocator_hook();
    return check_report("test_core");
}
