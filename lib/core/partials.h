/* Exact sums of doubles kept as a few non-overlapping partials (Shewchuk's expansions, the
 * method of Python's math.fsum): adding a value, or taking one away again, is exact, and
 * the value read is the exact sum rounded once to nearest-even — the same bits whatever the
 * order of the additions, and the same as persona__exactsum_value (exactsum.h) of the same
 * multiset. Cheap and small while the values' binary exponents stay within a few times 53
 * of each other (money, counts: one or two partials); the caller gives the capacity and
 * learns when it was not enough, or when a partial left the finite range, and then sums
 * with exactsum.h instead. */
#ifndef PERSONA_CORE_PARTIALS_H
#define PERSONA_CORE_PARTIALS_H

#include <stdint.h>

/* Add x (finite) to the partials p[0 .. *n) (capacity cap). 0, or -1 when the exact sum
 * needs more than cap partials or a partial overflowed: p is then unusable. */
int persona__partials_add(double *p, uint32_t *n, uint32_t cap, double x);
/* The exact sum of the partials rounded to nearest-even; +0.0 for a zero sum. */
double persona__partials_value(const double *p, uint32_t n);

#endif
