/* Internals of stability.c exposed for the unit tests. */
#ifndef PERSONA_STABILITY_INTERNAL_H
#define PERSONA_STABILITY_INTERNAL_H

#include <stdint.h>

/* The unsigned 128-bit integer hi·2^64 + lo rounded to the nearest double, ties to even
 * (as Python converts an int to float); exact below 2^53. */
double persona__u128_to_double(uint64_t hi, uint64_t lo);

#endif
