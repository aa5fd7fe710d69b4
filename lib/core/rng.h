/* splitmix64 (to spread a seed into keys) and one source of fresh randomness for
 * per-store hash keys. (Seeded streams for the builders come with the builders.) */
#ifndef PERSONA_CORE_RNG_H
#define PERSONA_CORE_RNG_H

#include <stdint.h>

uint64_t persona__splitmix64(uint64_t *state);
/* Fresh non-zero randomness from /dev/urandom, or from time and addresses without it. */
uint64_t persona__random_seed(void);

#endif
