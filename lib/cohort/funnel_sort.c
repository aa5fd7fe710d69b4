/* Sorting for funnels: times (non-negative int64) and user keys (bytewise), both by LSD
 * radix on 8-bit digits, skipping the digits all values share; keys 8 bytes at a time,
 * most significant chunk first, runs sharing a chunk sorted on the next one. Hundreds of
 * thousands of users sort in a few milliseconds, where qsort with memcmp takes ~100 ms. */
#include <string.h>

#include "cohort/funnel_internal.h"
#include "core/alloc.h"

/* LSD radix sort of T a[0..n) by its 64-bit key KEY(x) (8-bit digits, digits every key
 * shares skipped); tmp has room for n. The result is in a. */
#define DEFINE_RADIX(name, T, KEY)                                                          \
    static void name(T *a, T *tmp, size_t n)                                                \
    {                                                                                        \
        if (n < 2)                                                                           \
            return;                                                                          \
        size_t count[8][256];                                                                \
        memset(count, 0, sizeof count);                                                      \
        for (size_t i = 0; i < n; i++) {                                                     \
            uint64_t k = KEY(a[i]);                                                          \
            for (int d = 0; d < 8; d++)                                                      \
                count[d][(k >> (8 * d)) & 0xFF]++;                                           \
        }                                                                                    \
        T *src = a, *dst = tmp;                                                              \
        for (int d = 0; d < 8; d++) {                                                        \
            size_t *c = count[d];                                                            \
            int trivial = 0;                                                                 \
            for (int b = 0; b < 256; b++)                                                    \
                trivial |= c[b] == n;                                                        \
            if (trivial)                                                                     \
                continue;                                                                    \
            size_t sum = 0;                                                                  \
            for (int b = 0; b < 256; b++) {                                                  \
                size_t t = c[b];                                                             \
                c[b] = sum;                                                                  \
                sum += t;                                                                    \
            }                                                                                \
            for (size_t i = 0; i < n; i++)                                                   \
                dst[c[(KEY(src[i]) >> (8 * d)) & 0xFF]++] = src[i];                          \
            T *t = src;                                                                      \
            src = dst;                                                                       \
            dst = t;                                                                         \
        }                                                                                    \
        if (src != a)                                                                        \
            memcpy(a, src, n * sizeof *a);                                                   \
    }

#define KEY_I64(x) ((uint64_t)(x))
DEFINE_RADIX(radix_i64, int64_t, KEY_I64)

void persona__funnel_sort_i64(int64_t *a, size_t n, int64_t *tmp)
{
    radix_i64(a, tmp, n);
}

typedef struct kitem {
    uint64_t chunk; /* 8 bytes of the key from the current level, big-endian, 0-padded */
    uint64_t ref;   /* index into refs */
} kitem;

#define KEY_ITEM(x) ((x).chunk)
DEFINE_RADIX(radix_items, kitem, KEY_ITEM)

static uint64_t key_chunk(const funnel_keyref *r, size_t level)
{
    size_t off = level * 8;
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        unsigned char b = off + i < r->len ? (unsigned char)r->key[off + i] : 0;
        v = v << 8 | b;
    }
    return v;
}

static int cmp_ref(const funnel_keyref *x, const funnel_keyref *y)
{
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void sort_level(kitem *it, kitem *tmp, size_t n, const funnel_keyref *refs, size_t level)
{
    if (n < 24) { /* insertion sort on whole keys */
        for (size_t i = 1; i < n; i++) {
            kitem x = it[i];
            size_t j = i;
            while (j > 0 && cmp_ref(&refs[it[j - 1].ref], &refs[x.ref]) > 0) {
                it[j] = it[j - 1];
                j--;
            }
            it[j] = x;
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        it[i].chunk = key_chunk(&refs[it[i].ref], level);
    radix_items(it, tmp, n);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1, longest = refs[it[a].ref].len;
        while (b < n && it[b].chunk == it[a].chunk) {
            if (refs[it[b].ref].len > longest)
                longest = refs[it[b].ref].len;
            b++;
        }
        if (b - a > 1 && longest > (level + 1) * 8)
            sort_level(it + a, tmp, b - a, refs, level + 1);
        a = b;
    }
}

int persona__funnel_sort_keys(funnel_keyref *refs, size_t n)
{
    if (n < 2)
        return 0;
    kitem *it = persona__realloc_array(NULL, n, sizeof *it);
    kitem *tmp = persona__realloc_array(NULL, n, sizeof *tmp);
    funnel_keyref *out = persona__realloc_array(NULL, n, sizeof *out);
    if (!it || !tmp || !out) {
        persona__free(it);
        persona__free(tmp);
        persona__free(out);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        it[i].ref = i;
    sort_level(it, tmp, n, refs, 0);
    for (size_t i = 0; i < n; i++)
        out[i] = refs[it[i].ref];
    memcpy(refs, out, n * sizeof *out);
    persona__free(it);
    persona__free(tmp);
    persona__free(out);
    return 0;
}
