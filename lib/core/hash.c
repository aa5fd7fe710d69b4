#include "hash.h"

#include <string.h>

#include "rng.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                           \
    do {                                                                                   \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                          \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                             \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                             \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                          \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* SipHash with c compression and d finalization rounds: 1-3 for tables (as CPython and
 * Rust use), 2-4 only to check the implementation against the published vectors. Inline
 * so each wrapper gets its rounds unrolled: this runs once per ingested event. */
static inline uint64_t siphash(const persona__hash_key *key, const void *data, size_t len,
                               int c, int d)
{
    const unsigned char *in = data;
    uint64_t v0 = key->k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = key->k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = key->k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = key->k1 ^ 0x7465646279746573ULL;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    switch (len & 7) {
    case 7: b |= (uint64_t)in[full + 6] << 48; /* fall through */
    case 6: b |= (uint64_t)in[full + 5] << 40; /* fall through */
    case 5: b |= (uint64_t)in[full + 4] << 32; /* fall through */
    case 4: b |= (uint64_t)in[full + 3] << 24; /* fall through */
    case 3: b |= (uint64_t)in[full + 2] << 16; /* fall through */
    case 2: b |= (uint64_t)in[full + 1] << 8;  /* fall through */
    case 1: b |= (uint64_t)in[full]; break;
    default: break;
    }
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t persona__siphash(const persona__hash_key *key, const void *data, size_t len, int c,
                          int d)
{
    return siphash(key, data, len, c, d);
}

uint64_t persona__hash(const persona__hash_key *key, const void *data, size_t len)
{
    return siphash(key, data, len, 1, 3);
}

persona__hash_key persona__hash_key_from_seed(uint64_t seed)
{
    if (seed == 0)
        seed = persona__random_seed();
    uint64_t s = seed;
    persona__hash_key k;
    k.k0 = persona__splitmix64(&s);
    k.k1 = persona__splitmix64(&s);
    return k;
}
