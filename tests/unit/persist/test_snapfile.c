/* The snapshot container of lib/persist (docs/file-format.md): round trip of every value
 * type, the exact byte layout, corruption (every bit flip and truncation), messages, I/O
 * faults on every call of a save and a load, allocation failures, misuse (TESTING §5, §6).
 * The failing allocator is installed for the whole program so every test also checks
 * that nothing leaks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "failalloc.h"
#include "persist/io.h"
#include "persist/snapfile.h"

#define KIND PERSONA__SNAP_KIND_STORE
#define MISSING (-1000) /* a section the test expected was not in the file */
#define BIG_LEN ((size_t)1536 * 1024 + 5) /* > the writer's 1 MiB buffer */
#define SMALL_LEN ((size_t)2000)          /* makes a snapshot of about 2.4 KiB */

enum { SEC_EMPTY = 1, SEC_ONE = 2, SEC_SEVEN = 3, SEC_VALUES = 7, SEC_BULK = 9 };
static const uint32_t all_ids[] = { SEC_EMPTY, SEC_ONE, SEC_SEVEN, SEC_VALUES, SEC_BULK };
#define N_IDS (sizeof all_ids / sizeof *all_ids)

static char dir[64];
static uint8_t *bulk; /* the bulk section's bytes (libc memory) */

/* ---- helpers ------------------------------------------------------------------------- */

static const char *in_dir(const char *name)
{
    static char buf[4][sizeof dir + 256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static int file_is(const char *path, const uint8_t *want, size_t want_len)
{
    size_t len;
    uint8_t *got = read_file(path, &len);
    int same = got && len == want_len && memcmp(got, want, len) == 0;
    free(got);
    return same;
}

/* Temporary files of `name` ("<name>.tmp-*") left in the directory. */
static int temps_left(const char *name)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s.tmp-", name);
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void set32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void set64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

/* CRC-32C bit by bit, independent of lib/core's table-driven one. */
static uint32_t crc_ref(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ---- the sample snapshot --------------------------------------------------------------- */

#define NAN_BITS 0x7FF8000000000ABCull /* a NaN with a payload: kept bit for bit */

static const uint32_t u32s[5] = { 0, 1, 0x80000000u, 0xDEADBEEFu, UINT32_MAX };
static const uint64_t u64s[3] = { 0, 0x0123456789ABCDEFull, UINT64_MAX };
static const int64_t i64s[4] = { INT64_MIN, -1, 0, INT64_MAX };

static void sample_f64s(double f[5])
{
    f[0] = from_bits(NAN_BITS);
    f[1] = -0.0;
    f[2] = 1.5;
    f[3] = -DBL_MAX;
    f[4] = 5e-324;
}

/* Sections: empty, 1 byte, 7 bytes, every value type, `bulk_len` bytes put in pieces of
 * several sizes (with BIG_LEN one goes straight to write(), the rest through the buffer).
 * `variant` changes the content, so an old and a new file differ. Only commit()'s result
 * is looked at: the writer's errors are sticky. */
static int save_sample(const char *path, int variant, size_t bulk_len)
{
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, KIND);
    if (rc)
        return rc;
    persona__snap_begin(w, SEC_EMPTY, PERSONA__SNAP_REQUIRED);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_ONE, 0);
    uint8_t one = (uint8_t)(0xA0 + variant);
    persona__snap_put(w, &one, 1);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_SEVEN, PERSONA__SNAP_REQUIRED);
    persona__snap_put(w, "seven!!", 7);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_VALUES, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, 0xCAFEF00Du + (uint32_t)variant);
    persona__snap_put_i32(w, INT32_MIN);
    persona__snap_put_i32(w, -7);
    persona__snap_put_u64(w, UINT64_MAX);
    persona__snap_put_i64(w, INT64_MIN);
    persona__snap_put_f64(w, from_bits(NAN_BITS));
    persona__snap_put_f64(w, -0.0);
    persona__snap_put_u32s(w, u32s, 5);
    persona__snap_put_u32s(w, u32s, 0);
    persona__snap_put_u64s(w, u64s, 3);
    persona__snap_put_i64s(w, i64s, 4);
    double f[5];
    sample_f64s(f);
    persona__snap_put_f64s(w, f, 5);
    persona__snap_end(w);
    persona__snap_begin(w, SEC_BULK, 0);
    size_t done = bulk_len < 100 ? bulk_len : 100;
    persona__snap_put(w, bulk + variant, done);
    if (bulk_len - done > 1200 * 1024) {
        persona__snap_put(w, bulk + variant + done, 1200 * 1024);
        done += 1200 * 1024;
    }
    for (size_t n; done < bulk_len; done += n) {
        n = bulk_len - done < 1000 ? bulk_len - done : 1000;
        persona__snap_put(w, bulk + variant + done, n);
    }
    persona__snap_end(w);
    return persona__snap_commit(w);
}

/* Position at a section and check its length. */
static int enter(persona__snap_reader *r, uint32_t id, const char *name, uint64_t want,
                 int *good)
{
    uint64_t len = 12345;
    int rc = persona__snap_section(r, id, name, &len);
    if (rc == 0)
        return MISSING;
    if (rc < 0)
        return rc;
    if (len != want || persona__snap_left(r) != want)
        *good = 0;
    return PERSONA_OK;
}

/* Read the sample back; *same says whether every value was as written. */
static int read_sample(persona__snap_reader *r, int variant, size_t bulk_len, int *same)
{
    int good = 1;
    *same = 0;
    int rc = persona__snap_check_known(r, all_ids, N_IDS);
    if (!rc)
        rc = enter(r, SEC_EMPTY, "empty", 0, &good);
    if (!rc)
        rc = persona__snap_section_end(r);
    uint8_t b[8] = { 0 };
    if (!rc)
        rc = enter(r, SEC_ONE, "one", 1, &good);
    if (!rc)
        rc = persona__snap_read(r, b, 1);
    if (!rc)
        rc = persona__snap_section_end(r);
    good &= b[0] == 0xA0 + variant;
    if (!rc)
        rc = enter(r, SEC_SEVEN, "seven", 7, &good);
    if (!rc)
        rc = persona__snap_read(r, b, 7);
    if (!rc)
        rc = persona__snap_section_end(r);
    good &= memcmp(b, "seven!!", 7) == 0;

    uint32_t u32 = 0, a32[5] = { 0 };
    int32_t i32a = 0, i32b = 0;
    uint64_t u64 = 0, a64[3] = { 0 };
    int64_t i64 = 0, ai64[4] = { 0 };
    double nan_ = 0, negz = 0, f[5] = { 0 }, want_f[5];
    if (!rc)
        rc = enter(r, SEC_VALUES, "values", 4 * 3 + 8 * 4 + 4 * 5 + 8 * 3 + 8 * 4 + 8 * 5, &good);
    /* The reader's errors are sticky: one check after the run of gets is enough. */
    persona__snap_get_u32(r, &u32);
    persona__snap_get_i32(r, &i32a);
    persona__snap_get_i32(r, &i32b);
    persona__snap_get_u64(r, &u64);
    persona__snap_get_i64(r, &i64);
    persona__snap_get_f64(r, &nan_);
    persona__snap_get_f64(r, &negz);
    persona__snap_get_u32s(r, a32, 5);
    persona__snap_get_u32s(r, a32, 0);
    persona__snap_get_u64s(r, a64, 3);
    persona__snap_get_i64s(r, ai64, 4);
    if (!rc)
        rc = persona__snap_get_f64s(r, f, 5);
    if (!rc)
        rc = persona__snap_section_end(r);
    sample_f64s(want_f);
    good &= u32 == 0xCAFEF00Du + (uint32_t)variant && i32a == INT32_MIN && i32b == -7;
    good &= u64 == UINT64_MAX && i64 == INT64_MIN;
    good &= bits(nan_) == NAN_BITS && bits(negz) == bits(-0.0);
    good &= memcmp(a32, u32s, sizeof a32) == 0 && memcmp(a64, u64s, sizeof a64) == 0;
    good &= memcmp(ai64, i64s, sizeof ai64) == 0;
    for (int i = 0; i < 5; i++)
        good &= bits(f[i]) == bits(want_f[i]);

    /* The bulk: a small read, one past the reader's window (straight into dst), then
     * pieces through the window. */
    uint8_t *got = calloc(bulk_len ? bulk_len : 1, 1);
    if (!rc)
        rc = enter(r, SEC_BULK, "bulk", bulk_len, &good);
    size_t done = 0;
    size_t first = bulk_len < 100 ? bulk_len : 100;
    if (!rc)
        rc = persona__snap_read(r, got, first);
    done += first;
    if (!rc && bulk_len - done > 300 * 1024) {
        rc = persona__snap_read(r, got + done, 300 * 1024);
        done += 300 * 1024;
    }
    while (!rc && done < bulk_len) {
        size_t n = bulk_len - done < 4093 ? bulk_len - done : 4093;
        rc = persona__snap_read(r, got + done, n);
        done += n;
    }
    good &= persona__snap_left(r) == 0;
    if (!rc)
        rc = persona__snap_section_end(r);
    good &= memcmp(got, bulk + variant, bulk_len) == 0;
    free(got);
    *same = !rc && good;
    return rc;
}

/* Open, read back and close: the result of the first failing step. */
static int load_sample(const char *path, int variant, size_t bulk_len, int *same)
{
    persona__snap_reader *r = NULL;
    *same = 0;
    int rc = persona__snap_open(&r, path, KIND);
    if (!rc)
        rc = read_sample(r, variant, bulk_len, same);
    persona__snap_close(r);
    return rc;
}

/* ---- 1. round trip ------------------------------------------------------------------- */

static void test_round_trip(void)
{
    const char *path = in_dir("round.snap");
    CHECK_RC(save_sample(path, 0, BIG_LEN), PERSONA_OK);
    CHECK(temps_left("round.snap") == 0);
    int same = 0;
    persona__snap_reader *r = NULL;
    CHECK_RC(persona__snap_open(&r, path, KIND), PERSONA_OK);
    CHECK_RC(read_sample(r, 0, BIG_LEN, &same), PERSONA_OK);
    CHECK(same);
    uint64_t len = 99;
    CHECK(persona__snap_section(r, 12345, "absent", &len) == 0 && len == 0);
    CHECK(persona__snap_left(r) == 0);
    persona__snap_close(r);

    size_t n;
    uint8_t *data = read_file(path, &n);
    CHECK(data != NULL);
    CHECK_RC(persona__snap_open_memory(&r, data, n, KIND), PERSONA_OK);
    CHECK_RC(read_sample(r, 0, BIG_LEN, &same), PERSONA_OK);
    CHECK(same);
    CHECK(persona__snap_section(r, 4, "absent", NULL) == 0);
    persona__snap_close(r);

    /* Overwriting an existing snapshot gives the other content. */
    CHECK_RC(save_sample(path, 1, BIG_LEN), PERSONA_OK);
    CHECK_RC(load_sample(path, 1, BIG_LEN, &same), PERSONA_OK);
    CHECK(same);
    free(data);

    /* A snapshot with no sections at all is just the header. */
    persona__snap_writer *w = NULL;
    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_commit(w), PERSONA_OK);
    data = read_file(path, &n);
    CHECK(n == PERSONA__SNAP_HEADER);
    CHECK_RC(persona__snap_open_memory(&r, data, n, KIND), PERSONA_OK);
    CHECK(persona__snap_section(r, SEC_ONE, "one", NULL) == 0);
    persona__snap_close(r);
    free(data);
}

/* ---- 2. the bytes ------------------------------------------------------------------- */

static void test_layout(void)
{
    /* One section "abc" (id 5, required), built by hand from docs/file-format.md. */
    uint8_t want[104] = { 0 };
    memcpy(want, "PRSNSNAP", 8);
    set32(want + 8, 1);
    set32(want + 12, 1);
    set64(want + 16, 104);
    set64(want + 24, 72);
    set32(want + 32, 1);
    memcpy(want + 64, "abc", 3); /* then 5 bytes of padding */
    set32(want + 72, 5);
    set32(want + 76, 1);
    set64(want + 80, 64);
    set64(want + 88, 3);
    set32(want + 96, crc_ref("abc", 3));
    set32(want + 36, crc_ref(want + 72, 32));
    set32(want + 60, crc_ref(want, 60));
    CHECK(crc_ref("123456789", 9) == 0xE3069283u);

    const char *path = in_dir("layout.snap");
    persona__snap_writer *w = NULL;
    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_begin(w, 5, PERSONA__SNAP_REQUIRED), PERSONA_OK);
    CHECK_RC(persona__snap_put(w, "abc", 3), PERSONA_OK);
    CHECK_RC(persona__snap_end(w), PERSONA_OK);
    CHECK_RC(persona__snap_commit(w), PERSONA_OK);
    CHECK(file_is(path, want, sizeof want));

    /* The sample: header fields at their offsets, the table where the header says, each
     * entry's offset, length and CRC, zero padding. */
    CHECK_RC(save_sample(path, 0, SMALL_LEN), PERSONA_OK);
    size_t n;
    uint8_t *f = read_file(path, &n);
    if (!f || n < 64) {
        CHECK(0);
        return;
    }
    CHECK(memcmp(f, "PRSNSNAP", 8) == 0);
    CHECK(get32(f + 8) == PERSONA__SNAP_VERSION && get32(f + 12) == KIND);
    CHECK(get64(f + 16) == n);
    uint64_t table = get64(f + 24);
    uint32_t count = get32(f + 32);
    CHECK(count == N_IDS && table % 8 == 0 && table + 32 * count == n);
    CHECK(get32(f + 36) == crc_ref(f + table, 32 * count));
    for (int i = 40; i < 60; i++)
        CHECK(f[i] == 0);
    CHECK(get32(f + 60) == crc_ref(f, 60));
    uint64_t expect = 64;
    for (uint32_t i = 0; i < count && table + 32 * count == n; i++) {
        const uint8_t *e = f + table + 32 * i;
        uint64_t off = get64(e + 8), len = get64(e + 16);
        CHECK(get32(e) == all_ids[i]);
        CHECK(get32(e + 4) == (all_ids[i] == SEC_ONE || all_ids[i] == SEC_BULK ? 0u : 1u));
        CHECK(off == expect && off + len <= table);
        CHECK(get32(e + 24) == crc_ref(f + off, len));
        CHECK(get32(e + 28) == 0);
        expect = (off + len + 7) / 8 * 8;
        for (uint64_t p = off + len; p < expect; p++)
            CHECK(f[p] == 0);
    }
    CHECK(expect == table);
    free(f);
}

/* ---- 3. corruption ------------------------------------------------------------------ */

/* Open and read every section of the sample (reading what is there, whatever its
 * length): the first failure, or OK. */
static int read_everything(persona__snap_reader **rp, const uint8_t *data, size_t len,
                           const char *path)
{
    persona__snap_reader *r = NULL;
    int rc = path ? persona__snap_open(&r, path, KIND)
                  : persona__snap_open_memory(&r, data, len, KIND);
    if (!rc)
        rc = persona__snap_check_known(r, all_ids, N_IDS);
    for (size_t i = 0; i < N_IDS && !rc; i++) {
        uint64_t n = 0;
        rc = persona__snap_section(r, all_ids[i], "s", &n);
        if (rc == 0)
            rc = MISSING;
        else if (rc == 1)
            rc = PERSONA_OK;
        uint8_t buf[512];
        while (!rc && persona__snap_left(r) > 0) {
            uint64_t k = persona__snap_left(r) < sizeof buf ? persona__snap_left(r) : sizeof buf;
            rc = persona__snap_read(r, buf, (size_t)k);
        }
        if (!rc)
            rc = persona__snap_section_end(r);
    }
    if (rp && !rc)
        *rp = r;
    else
        persona__snap_close(r);
    return rc;
}

static void test_corruption(void)
{
    const char *path = in_dir("corrupt.snap");
    CHECK_RC(save_sample(path, 0, SMALL_LEN), PERSONA_OK);
    size_t n;
    uint8_t *good = read_file(path, &n);
    if (!good) {
        CHECK(0);
        return;
    }
    CHECK(n > 2048 && n < 3072);
    CHECK_RC(read_everything(NULL, good, n, NULL), PERSONA_OK);
    uint8_t *bad = malloc(n + 100);

    /* Every single-bit flip. */
    int flips_ok = 1;
    size_t flip_end = n < 4096 ? n : 4096;
    for (size_t bit = 0; bit < flip_end * 8; bit++) {
        memcpy(bad, good, n);
        bad[bit / 8] ^= (uint8_t)(1u << bit % 8);
        int rc = read_everything(NULL, bad, n, NULL);
        if (rc != PERSONA_ECORRUPT && rc != PERSONA_EVERSION) {
            fprintf(stderr, "flip of bit %zu: %d (%s)\n", bit, rc, persona_errmsg());
            flips_ok = 0;
        }
    }
    CHECK(flips_ok);

    /* Every truncation, in memory and as a file. */
    int cuts_ok = 1;
    const char *cut = in_dir("cut.snap");
    for (size_t len = 0; len < n; len++) {
        int rc = read_everything(NULL, good, len, NULL);
        write_file(cut, good, len);
        int rc_file = read_everything(NULL, NULL, 0, cut);
        if (rc != PERSONA_ECORRUPT || rc_file != PERSONA_ECORRUPT) {
            fprintf(stderr, "truncation to %zu: %d, %d (%s)\n", len, rc, rc_file,
                    persona_errmsg());
            cuts_ok = 0;
        }
    }
    CHECK(cuts_ok);
    CHECK_RC(read_everything(NULL, good, 10, NULL), PERSONA_ECORRUPT);
    CHECK_MSG("not a libpersona snapshot");
    CHECK_RC(read_everything(NULL, good, n - 1, NULL), PERSONA_ECORRUPT);
    CHECK_MSG("truncated");

    /* Trailing bytes, even zeros. */
    memcpy(bad, good, n);
    memset(bad + n, 0, 100);
    for (size_t extra = 1; extra <= 100; extra += 7) {
        CHECK_RC(read_everything(NULL, bad, n + extra, NULL), PERSONA_ECORRUPT);
        CHECK_MSG("trailing bytes");
    }

    /* A newer version is EVERSION, whether or not the header CRC was fixed up. */
    memcpy(bad, good, n);
    set32(bad + 8, 2);
    CHECK_RC(read_everything(NULL, bad, n, NULL), PERSONA_EVERSION);
    set32(bad + 60, crc_ref(bad, 60));
    CHECK_RC(read_everything(NULL, bad, n, NULL), PERSONA_EVERSION);
    CHECK_MSG("version 2");
    CHECK_MSG("library's 1");
    set32(bad + 8, 0);
    set32(bad + 60, crc_ref(bad, 60));
    CHECK_RC(read_everything(NULL, bad, n, NULL), PERSONA_ECORRUPT);

    /* A valid file of another kind, both ways. */
    persona__snap_reader *r = NULL;
    CHECK_RC(persona__snap_open_memory(&r, good, n, PERSONA__SNAP_KIND_COHORT), PERSONA_ECORRUPT);
    CHECK_MSG("holds a store, not a cohort table");
    CHECK_RC(persona__snap_open_memory(&r, good, n, 42), PERSONA_ECORRUPT);
    CHECK_MSG("holds a store, not a kind 42");
    CHECK(r == NULL);
    persona__snap_writer *w = NULL;
    CHECK_RC(persona__snap_create(&w, path, 99), PERSONA_OK);
    CHECK_RC(persona__snap_commit(w), PERSONA_OK);
    CHECK_RC(persona__snap_open(&r, path, KIND), PERSONA_ECORRUPT);
    CHECK_MSG("holds a kind 99, not a store");

    /* Sections this reader does not know: a required one is EVERSION, an optional one is
     * skipped. */
    for (int required = 0; required < 2; required++) {
        CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
        persona__snap_begin(w, SEC_ONE, PERSONA__SNAP_REQUIRED);
        persona__snap_put_u32(w, 42);
        persona__snap_end(w);
        persona__snap_begin(w, 99, required ? PERSONA__SNAP_REQUIRED : 0);
        persona__snap_put_u64(w, 1);
        persona__snap_end(w);
        CHECK_RC(persona__snap_commit(w), PERSONA_OK);
        const uint32_t known[] = { SEC_ONE };
        uint32_t v = 0;
        CHECK_RC(persona__snap_open(&r, path, KIND), PERSONA_OK);
        CHECK_RC(persona__snap_check_known(r, known, 1), required ? PERSONA_EVERSION : PERSONA_OK);
        if (required) {
            CHECK_MSG("section 99");
            /* sticky */
            CHECK_RC(persona__snap_section(r, SEC_ONE, "one", NULL), PERSONA_EVERSION);
        } else {
            CHECK(persona__snap_section(r, SEC_ONE, "one", NULL) == 1);
            CHECK_RC(persona__snap_get_u32(r, &v), PERSONA_OK);
            CHECK_RC(persona__snap_section_end(r), PERSONA_OK);
            CHECK(v == 42);
        }
        persona__snap_close(r);
    }
    free(bad);
    free(good);
}

/* Recompute the table and header CRCs: only the structural checks see the change. */
static void fix_crcs(uint8_t *f, size_t n)
{
    uint64_t table = get64(f + 24), count = get32(f + 32);
    if (table <= n && count <= (n - table) / 32)
        set32(f + 36, crc_ref(f + table, 32 * count));
    set32(f + 60, crc_ref(f, 60));
}

/* Damage that the checksums cannot see (they are fixed up, as a fuzzer's inputs in effect
 * are): each structural check on its own. */
static void test_structure(void)
{
    const char *path = in_dir("structure.snap");
    CHECK_RC(save_sample(path, 0, SMALL_LEN), PERSONA_OK);
    size_t n;
    uint8_t *good = read_file(path, &n);
    if (!good || n < 64) {
        CHECK(0);
        return;
    }
    uint8_t *bad = malloc(n);
    const uint64_t table = get64(good + 24);
    const uint32_t count = get32(good + 32);
    CHECK(count == N_IDS && table + 32 * count == n);
    uint8_t *e = bad + table; /* the table entries (of bad) */
#define CRAFT(damage, phrase)                                                              \
    do {                                                                                   \
        memcpy(bad, good, n);                                                              \
        damage;                                                                            \
        fix_crcs(bad, n);                                                                  \
        CHECK_RC(read_everything(NULL, bad, n, NULL), PERSONA_ECORRUPT);                   \
        CHECK_MSG(phrase);                                                                 \
    } while (0)
    CRAFT(bad[40] = 1, "nonzero reserved header byte at offset 40");
    CRAFT(bad[59] = 0x80, "nonzero reserved header byte at offset 59");
    CRAFT(set64(bad + 16, n + 8), "truncated");
    CRAFT(set64(bad + 16, n - 8), "trailing bytes");
    CRAFT(set64(bad + 24, table + 8), "does not end at the file length");
    CRAFT(set64(bad + 24, table - 4), "does not end at the file length");
    CRAFT(set64(bad + 24, 56), "does not end at the file length");
    CRAFT(set64(bad + 24, UINT64_MAX - 7), "does not end at the file length");
    CRAFT(set32(bad + 32, count + 1), "does not end at the file length");
    CRAFT(set32(bad + 32, UINT32_MAX), "does not end at the file length");
    CRAFT((set64(bad + 24, n), set32(bad + 32, 0)), "unused bytes between 64 and the table");
    CRAFT(set32(e, 0), "section id 0 at offset");
    CRAFT(set32(e + 32, SEC_EMPTY), "section 1 appears twice");
    CRAFT(set32(e + 4, 2), "unknown flags 0x2");
    CRAFT(set32(e + 4, 0x80000001u), "unknown flags 0x80000001");
    CRAFT(set32(e + 28, 1), "nonzero reserved field");
    CRAFT(set64(e + 64 + 8, 80), "section 3 starts at 80, not at 72");
    CRAFT(set64(e + 64 + 8, 73), "section 3 starts at 73, not at 72");
    CRAFT(set64(e + 64 + 8, UINT64_MAX), "not at 72");
    CRAFT(set64(e + 128 + 16, get64(e + 128 + 16) + 8), "runs past the section table");
    CRAFT(set64(e + 128 + 16, UINT64_MAX), "runs past the section table");
    CRAFT(set64(e + 128 + 16, get64(e + 128 + 16) - 8), "unused bytes between");
    CRAFT(bad[65] = 1, "nonzero padding after section 2 at offset 65");
#undef CRAFT
    free(bad);
    free(good);
}

/* ---- 4. messages and the reader's contract --------------------------------------------- */

static void test_messages(void)
{
    const char *path = in_dir("msg.snap");
    CHECK_RC(save_sample(path, 0, SMALL_LEN), PERSONA_OK);
    size_t n;
    uint8_t *f = read_file(path, &n);
    if (!f) {
        CHECK(0);
        return;
    }
    /* SEC_SEVEN starts at 72 (64: empty, 64: one byte + 7 of padding). */
    f[72 + 2] ^= 0x10;
    persona__snap_reader *r = NULL;
    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_OK);
    uint8_t b[8];
    CHECK(persona__snap_section(r, SEC_SEVEN, "seven", NULL) == 1);
    CHECK_RC(persona__snap_read(r, b, 7), PERSONA_OK);
    CHECK_RC(persona__snap_section_end(r), PERSONA_ECORRUPT);
    CHECK_MSG("(memory): section seven at offset 72: checksum mismatch");
    persona__snap_close(r);
    f[72 + 2] ^= 0x10;
    write_file(path, f, n);

    /* Damage in the header or the table names the offset; a file by its path. */
    f[30] ^= 1;
    write_file(path, f, n);
    CHECK_RC(persona__snap_open(&r, path, KIND), PERSONA_ECORRUPT);
    CHECK_MSG(path);
    CHECK_MSG("header checksum mismatch at offset 60");
    f[30] ^= 1;
    f[n - 3] ^= 1;
    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_ECORRUPT);
    CHECK_MSG("section table checksum mismatch at offset");
    f[n - 3] ^= 1;

    /* Reads past the end, unread bytes, counts that cannot fit, stickiness, switching. */
    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_OK);
    uint64_t len = 0;
    CHECK(persona__snap_section(r, SEC_SEVEN, "seven", &len) == 1 && len == 7);
    CHECK_RC(persona__snap_read(r, b, 3), PERSONA_OK);
    CHECK(persona__snap_left(r) == 4);
    CHECK(persona__snap_section(r, SEC_ONE, "one", &len) == 1 && len == 1); /* switch */
    CHECK_RC(persona__snap_read(r, b, 1), PERSONA_OK);
    CHECK_RC(persona__snap_section_end(r), PERSONA_OK);
    CHECK(persona__snap_section(r, SEC_SEVEN, "seven", NULL) == 1);
    CHECK_RC(persona__snap_need(r, 7, 1, "chars"), PERSONA_OK);
    CHECK_RC(persona__snap_need(r, UINT64_MAX, 8, "things"), PERSONA_ECORRUPT);
    CHECK_MSG("section seven at offset 72: things: 18446744073709551615 entries do not fit in "
              "the 7 bytes left");
    persona__snap_close(r);

    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_OK);
    CHECK(persona__snap_section(r, SEC_SEVEN, "seven", NULL) == 1);
    CHECK_RC(persona__snap_read(r, b, 5), PERSONA_OK);
    CHECK_RC(persona__snap_section_end(r), PERSONA_ECORRUPT);
    CHECK_MSG("section seven at offset 77: 2 bytes not read");
    uint32_t v;
    CHECK_RC(persona__snap_get_u32(r, &v), PERSONA_ECORRUPT); /* sticky */
    CHECK_RC(persona__snap_section(r, SEC_ONE, "one", NULL), PERSONA_ECORRUPT);
    persona__snap_close(r);

    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_OK);
    CHECK(persona__snap_section(r, SEC_SEVEN, "seven", NULL) == 1);
    CHECK_RC(persona__snap_get_u64(r, (uint64_t *)b), PERSONA_ECORRUPT);
    CHECK_MSG("section seven at offset 72: truncated");
    persona__snap_close(r);

    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_OK);
    CHECK(persona__snap_section(r, SEC_VALUES, "values", NULL) == 1);
    CHECK_RC(persona__snap_corrupt(r, "value %d is odd", 3), PERSONA_ECORRUPT);
    CHECK_MSG("(memory): section values at offset 80: value 3 is odd");
    persona__snap_close(r);

    CHECK_RC(persona__snap_open_memory(&r, f, n, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_read(r, b, 1), PERSONA_EMISUSE); /* no section open */
    persona__snap_close(r);

    CHECK_RC(persona__snap_open(&r, in_dir("nonexistent.snap"), KIND), PERSONA_EIO);
    CHECK_MSG("nonexistent.snap: open failed: No such file or directory");
    free(f);
}

/* ---- 5. I/O faults ------------------------------------------------------------------ */

enum { OP_OPEN, OP_WRITE, OP_PWRITE, OP_PREAD, OP_FSTAT, OP_FSYNC, OP_CLOSE, OP_RENAME,
       OP_UNLINK, N_OPS };
static const char *const op_names[N_OPS] = { "open",  "write", "pwrite", "pread", "fstat",
                                             "fsync", "close", "rename", "unlink" };
enum { F_EIO, F_ENOSPC, F_SHORT_ENOSPC, F_SHORT, N_FAULTS };
static const char *const fault_names[N_FAULTS] = { "EIO", "ENOSPC", "short then ENOSPC",
                                                   "short" };

static int calls[N_OPS];
static int fault_op = -1, fault_k, fault_kind, fault_fired, fail_next;

/* 0: pass the call through, 1: fail it (errno set), 2: pass through half the bytes. */
static int fault_action(int op)
{
    int k = ++calls[op];
    if (op != fault_op)
        return 0;
    if (fail_next) { /* the call after a short count */
        fail_next = 0;
        errno = ENOSPC;
        return 1;
    }
    if (k != fault_k)
        return 0;
    fault_fired = 1;
    switch (fault_kind) {
    case F_EIO:
        errno = EIO;
        return 1;
    case F_ENOSPC:
        errno = ENOSPC;
        return 1;
    case F_SHORT_ENOSPC:
        fail_next = 1;
        return 2;
    default:
        return 2;
    }
}

static int f_open(const char *path, int flags, mode_t mode)
{
    return fault_action(OP_OPEN) == 1 ? -1 : persona__io_libc.open(path, flags, mode);
}

static ssize_t f_write(int fd, const void *buf, size_t n)
{
    int a = fault_action(OP_WRITE);
    return a == 1 ? -1 : persona__io_libc.write(fd, buf, a == 2 ? n / 2 : n);
}

static ssize_t f_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    int a = fault_action(OP_PWRITE);
    return a == 1 ? -1 : persona__io_libc.pwrite(fd, buf, a == 2 ? n / 2 : n, off);
}

static ssize_t f_pread(int fd, void *buf, size_t n, off_t off)
{
    int a = fault_action(OP_PREAD);
    return a == 1 ? -1 : persona__io_libc.pread(fd, buf, a == 2 ? n / 2 : n, off);
}

static int f_fstat(int fd, struct stat *st)
{
    return fault_action(OP_FSTAT) == 1 ? -1 : persona__io_libc.fstat(fd, st);
}

static int f_fsync(int fd)
{
    return fault_action(OP_FSYNC) == 1 ? -1 : persona__io_libc.fsync(fd);
}

static int f_close(int fd)
{
    int a = fault_action(OP_CLOSE);
    int rc = persona__io_libc.close(fd); /* the descriptor is gone either way, as in Linux */
    return a == 1 ? -1 : rc;
}

static int f_rename(const char *from, const char *to)
{
    return fault_action(OP_RENAME) == 1 ? -1 : persona__io_libc.rename(from, to);
}

static int f_unlink(const char *path)
{
    return fault_action(OP_UNLINK) == 1 ? -1 : persona__io_libc.unlink(path);
}

static const persona__io_ops fault_ops = { f_open,  f_write, f_pwrite, f_pread,  f_fstat,
                                           f_fsync, f_close, f_rename, f_unlink };

static void arm_fault(int op, int k, int kind)
{
    memset(calls, 0, sizeof calls);
    fault_op = op, fault_k = k, fault_kind = kind;
    fault_fired = fail_next = 0;
    persona__io_set(&fault_ops);
}

static void disarm_fault(void)
{
    persona__io_set(NULL);
    fault_op = -1;
}

/* The step a save names when the k-th call of op fails (NULL: the save succeeds). */
static const char *save_step(int op, int k, int kind)
{
    if (kind == F_SHORT)
        return NULL;
    switch (op) {
    case OP_OPEN:
        return k == 1 ? "create" : "open directory";
    case OP_WRITE:
    case OP_PWRITE:
        return "write";
    case OP_FSYNC:
        return k == 1 ? "fsync" : "fsync directory";
    case OP_CLOSE:
        return k == 1 ? "close" : NULL; /* closing the directory after its fsync */
    case OP_RENAME:
        return "rename";
    default:
        return "?";
    }
}

static void test_save_faults(void)
{
    const char *name = "faults.snap", *path = in_dir(name);
    size_t old_len, new_len;
    CHECK_RC(save_sample(path, 1, BIG_LEN), PERSONA_OK);
    uint8_t *new_bytes = read_file(path, &new_len);
    CHECK_RC(save_sample(path, 0, BIG_LEN), PERSONA_OK);
    uint8_t *old_bytes = read_file(path, &old_len);

    /* Recording pass: how many calls of each kind a save makes. */
    int rec[N_OPS];
    arm_fault(-1, 0, 0);
    CHECK_RC(save_sample(path, 1, BIG_LEN), PERSONA_OK);
    disarm_fault();
    memcpy(rec, calls, sizeof rec);
    CHECK(file_is(path, new_bytes, new_len));
    CHECK(rec[OP_OPEN] == 2 && rec[OP_FSYNC] == 2 && rec[OP_RENAME] == 1 && rec[OP_WRITE] >= 3);
    write_file(path, old_bytes, old_len);

    int runs = 0;
    for (int op = 0; op < N_OPS; op++)
        for (int k = 1; k <= rec[op]; k++)
            for (int kind = 0; kind < N_FAULTS; kind++) {
                if (kind >= F_SHORT_ENOSPC && op != OP_WRITE && op != OP_PWRITE)
                    continue;
                runs++;
                const char *step = save_step(op, k, kind);
                arm_fault(op, k, kind);
                int rc = save_sample(path, 1, BIG_LEN);
                disarm_fault();
                char ctx[96];
                snprintf(ctx, sizeof ctx, "%s #%d: %s", op_names[op], k, fault_names[kind]);
                CHECK(fault_fired);
                int after_rename = step && strstr(step, "directory");
                if (!step) {
                    CHECK_RC(rc, PERSONA_OK);
                } else {
                    CHECK_RC(rc, PERSONA_EIO);
                    char want[256];
                    snprintf(want, sizeof want, "%s: %s failed: ", path, step);
                    if (!strstr(persona_errmsg(), want))
                        fprintf(stderr, "%s: message \"%s\"\n", ctx, persona_errmsg());
                    CHECK_MSG(want);
                    if (after_rename)
                        CHECK_MSG("in place but may not survive a crash");
                }
                int intact = (!step || after_rename) ? file_is(path, new_bytes, new_len)
                                                     : file_is(path, old_bytes, old_len);
                if (!intact)
                    fprintf(stderr, "%s: the file is not as expected\n", ctx);
                CHECK(intact);
                CHECK(temps_left(name) == 0);
                CHECK(failalloc_live() == 0);
                CHECK_RC(save_sample(path, 1, BIG_LEN), PERSONA_OK); /* retry */
                CHECK(file_is(path, new_bytes, new_len));
                write_file(path, old_bytes, old_len);
            }
    CHECK(runs >= 20);
    fprintf(stderr, "save faults: %d runs over %d calls\n", runs,
            rec[OP_OPEN] + rec[OP_WRITE] + rec[OP_PWRITE] + rec[OP_FSYNC] + rec[OP_CLOSE] +
                rec[OP_RENAME]);
    free(old_bytes);
    free(new_bytes);
}

static void test_load_faults(void)
{
    const char *path = in_dir("loadfaults.snap");
    CHECK_RC(save_sample(path, 0, BIG_LEN), PERSONA_OK);
    int rec[N_OPS], same = 0;
    arm_fault(-1, 0, 0);
    CHECK_RC(load_sample(path, 0, BIG_LEN, &same), PERSONA_OK);
    disarm_fault();
    memcpy(rec, calls, sizeof rec);
    CHECK(same && rec[OP_OPEN] == 1 && rec[OP_FSTAT] == 1 && rec[OP_PREAD] >= 3);

    static const struct { int op; const char *step; } ops[] = {
        { OP_OPEN, "open" }, { OP_FSTAT, "fstat" }, { OP_PREAD, "read" }, { OP_CLOSE, NULL },
    };
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        for (int k = 1; k <= rec[ops[i].op]; k++)
            for (int kind = 0; kind < N_FAULTS; kind++) {
                if (kind >= F_SHORT_ENOSPC && ops[i].op != OP_PREAD)
                    continue;
                arm_fault(ops[i].op, k, kind);
                int rc = load_sample(path, 0, BIG_LEN, &same);
                disarm_fault();
                CHECK(fault_fired);
                if (!ops[i].step || kind == F_SHORT) {
                    CHECK_RC(rc, PERSONA_OK);
                    CHECK(same);
                } else {
                    CHECK_RC(rc, PERSONA_EIO);
                    char want[256];
                    snprintf(want, sizeof want, "%s: %s failed: ", path, ops[i].step);
                    CHECK_MSG(want);
                }
                CHECK(failalloc_live() == 0);
            }
    CHECK_RC(load_sample(path, 0, BIG_LEN, &same), PERSONA_OK);
    CHECK(same);
}

/* ---- 6. allocation failures --------------------------------------------------------- */

static void test_oom(void)
{
    const char *name = "oom.snap", *path = in_dir(name);
    size_t old_len, new_len;
    CHECK_RC(save_sample(path, 1, SMALL_LEN), PERSONA_OK);
    uint8_t *new_bytes = read_file(path, &new_len);
    CHECK_RC(save_sample(path, 0, SMALL_LEN), PERSONA_OK);
    uint8_t *old_bytes = read_file(path, &old_len);
    CHECK(failalloc_live() == 0);

    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        uint64_t n = 1;
        for (;; n++) {
            failalloc_arm(n, mode);
            int rc = save_sample(path, 1, SMALL_LEN);
            int injected = failalloc_disarm();
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                CHECK(file_is(path, new_bytes, new_len));
                write_file(path, old_bytes, old_len); /* the reads below expect it */
                break;
            }
            CHECK_RC(rc, PERSONA_ENOMEM);
            CHECK(failalloc_live() == 0);
            CHECK(file_is(path, old_bytes, old_len));
            CHECK(temps_left(name) == 0);
            CHECK_RC(save_sample(path, 1, SMALL_LEN), PERSONA_OK);
            write_file(path, old_bytes, old_len);
        }
        CHECK(n >= 5); /* writer, path, temporary name, directory, buffer, sections */

        for (int memory = 0; memory < 2; memory++)
            for (n = 1;; n++) {
                persona__snap_reader *r = NULL;
                int same = 0;
                failalloc_arm(n, mode);
                int rc = memory ? persona__snap_open_memory(&r, new_bytes, new_len, KIND)
                                : persona__snap_open(&r, path, KIND);
                if (!rc)
                    rc = read_sample(r, memory ? 1 : 0, SMALL_LEN, &same);
                int injected = failalloc_disarm();
                persona__snap_close(r);
                if (!injected) {
                    CHECK_RC(rc, PERSONA_OK);
                    CHECK(same);
                    break;
                }
                CHECK_RC(rc, PERSONA_ENOMEM);
                CHECK(r == NULL);
                CHECK(failalloc_live() == 0);
            }
    }
    free(old_bytes);
    free(new_bytes);
}

/* ---- 7. misuse ----------------------------------------------------------------------- */

static void test_misuse(void)
{
    const char *name = "misuse.snap", *path = in_dir(name);
    unlink(path);
    persona__snap_writer *w = NULL;

    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK(temps_left(name) == 1);
    CHECK_RC(persona__snap_begin(w, 1, 0), PERSONA_OK);
    CHECK_RC(persona__snap_begin(w, 2, 0), PERSONA_EMISUSE);
    CHECK_RC(persona__snap_end(w), PERSONA_EMISUSE); /* sticky */
    CHECK_RC(persona__snap_commit(w), PERSONA_EMISUSE);
    CHECK_MSG("begun before section 1 ended");
    CHECK(temps_left(name) == 0 && access(path, F_OK) != 0);

    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_begin(w, 1, 0), PERSONA_OK);
    CHECK_RC(persona__snap_end(w), PERSONA_OK);
    CHECK_RC(persona__snap_begin(w, 1, 0), PERSONA_EMISUSE);
    CHECK_MSG("section 1 written twice");
    CHECK_RC(persona__snap_commit(w), PERSONA_EMISUSE);

    static const struct { uint32_t id, flags; } bad[] = { { 0, 0 }, { 3, 2 }, { 3, 0x80000001u } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
        CHECK_RC(persona__snap_begin(w, bad[i].id, bad[i].flags), PERSONA_EMISUSE);
        CHECK_RC(persona__snap_commit(w), PERSONA_EMISUSE);
    }

    /* end() and put() outside a section; the first message survives later failures. */
    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_put_u32(w, 1), PERSONA_EMISUSE);
    persona__snap_reader *r = NULL;
    CHECK_RC(persona__snap_open(&r, in_dir("nonexistent.snap"), KIND), PERSONA_EIO);
    CHECK_RC(persona__snap_begin(w, 1, 0), PERSONA_EMISUSE);
    CHECK_RC(persona__snap_commit(w), PERSONA_EMISUSE);
    CHECK_MSG("data put outside a section");
    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_end(w), PERSONA_EMISUSE);
    CHECK_RC(persona__snap_commit(w), PERSONA_EMISUSE);
    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_begin(w, 1, 0), PERSONA_OK);
    CHECK_RC(persona__snap_commit(w), PERSONA_EMISUSE); /* section left open */

    /* abort() removes the temporary file. */
    CHECK_RC(persona__snap_create(&w, path, KIND), PERSONA_OK);
    CHECK_RC(persona__snap_begin(w, 1, 0), PERSONA_OK);
    CHECK_RC(persona__snap_put(w, "x", 1), PERSONA_OK);
    persona__snap_abort(w);
    persona__snap_abort(NULL);
    CHECK(temps_left(name) == 0 && access(path, F_OK) != 0);

    /* A directory that does not exist. */
    CHECK_RC(persona__snap_create(&w, in_dir("no/such/dir.snap"), KIND), PERSONA_EIO);
    CHECK_MSG("no/such/dir.snap: create failed: No such file or directory");
    CHECK(w == NULL);
    CHECK(failalloc_live() == 0);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(in_dir(e->d_name));
    if (d)
        closedir(d);
    if (rmdir(dir) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* The checksums are not compared in fuzzing builds: most of this test cannot pass. */
    fprintf(stderr, "test_snapfile: skipped in a fuzzing build\n");
    return 77;
#endif
    failalloc_install();
    snprintf(dir, sizeof dir, "/tmp/persona-snapfile-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    bulk = malloc(BIG_LEN + 2);
    for (size_t i = 0; i < BIG_LEN + 2; i++)
        bulk[i] = (uint8_t)(i * 131 + (i >> 9));
    test_round_trip();
    test_layout();
    test_corruption();
    test_structure();
    test_messages();
    test_save_faults();
    test_load_faults();
    test_oom();
    test_misuse();
    CHECK(failalloc_live() == 0);
    free(bulk);
    remove_dir();
    return check_report("test_snapfile");
}
