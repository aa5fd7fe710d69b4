/* Exact sums of doubles (a Kulisch-style long fixed-point accumulator), so cohort revenue
 * does not depend on the order events arrive in or on how work was split: the same multiset
 * of values, added in any order or summed in parts and merged, gives the same bits, and
 * the value is the exact sum rounded once to nearest-even (what Python's math.fsum gives).
 *
 * NaN is an absent value and ignored; infinities are counted apart from the finite part, so
 * sub() undoes add() for them too. An exact zero reads as +0.0 (a sum of cancelling values
 * or of nothing is not "negative"). The finite part is exact while its magnitude stays
 * below 2^1067 (some 2^43 additions of DBL_MAX); past that it saturates, still reading
 * as +-inf, and order independence is no longer promised. */
#ifndef PERSONA_CORE_EXACTSUM_H
#define PERSONA_CORE_EXACTSUM_H

#include <stddef.h>
#include <stdint.h>

/* Limb i holds 32 bits of weight 2^(32 i - 1074) once carries are propagated; 66 limbs
 * reach past DBL_MAX, the last one keeps the sign and the excess. Between normalizations
 * limbs drift outside 32 bits; `pending` bounds how far. */
#define PERSONA__EXACTSUM_LIMBS 66

typedef struct persona__exactsum {
    int64_t limb[PERSONA__EXACTSUM_LIMBS];
    /* +inf and -inf added minus those subtracted, mod 2^64: a count below zero (more
     * subtracted than added) reads as the opposite infinity, as sub(x) is add(-x). */
    uint64_t pos_inf, neg_inf;
    uint32_t pending;
} persona__exactsum;

void persona__exactsum_init(persona__exactsum *a);
void persona__exactsum_add(persona__exactsum *a, double v);
/* The exact inverse of add: sub(v) after add(v) leaves the same canonical state. */
void persona__exactsum_sub(persona__exactsum *a, double v);
/* a += b and a -= b (a and b may be the same accumulator). */
void persona__exactsum_merge(persona__exactsum *a, const persona__exactsum *b);
void persona__exactsum_unmerge(persona__exactsum *a, const persona__exactsum *b);
/* The sum rounded to nearest-even: +-inf when infinities of one sign are in it (NaN when
 * both are), +-inf when the finite sum rounds beyond DBL_MAX. */
double persona__exactsum_value(const persona__exactsum *a);
/* Nothing but zeros added (or everything added was subtracted again). */
int persona__exactsum_is_zero(const persona__exactsum *a);

/* Snapshot form: always persona__exactsum_words() uint64 words, least significant first
 * (the file's byte order is the caller's), the same for equal sums whatever their history.
 * get() returns -1, leaving *a zero, when n or the words are not such a form: they come
 * from files. */
size_t persona__exactsum_words(const persona__exactsum *a);
void persona__exactsum_put(const persona__exactsum *a, uint64_t *words);
int persona__exactsum_get(persona__exactsum *a, const uint64_t *words, size_t n);

#endif
