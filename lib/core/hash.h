/* Keyed hashing (SipHash-1-3, 128-bit key): with a per-store random key, hostile input
 * cannot be crafted to collide in our hash tables. */
#ifndef PERSONA_CORE_HASH_H
#define PERSONA_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct persona__hash_key {
    uint64_t k0, k1;
} persona__hash_key;

uint64_t persona__hash(const persona__hash_key *key, const void *data, size_t len);
/* SipHash-c-d; persona__hash is SipHash-1-3. */
uint64_t persona__siphash(const persona__hash_key *key, const void *data, size_t len, int c,
                          int d);
/* Derive a key from a seed (0 = fresh randomness from the OS, falling back to time+address). */
persona__hash_key persona__hash_key_from_seed(uint64_t seed);

#endif
