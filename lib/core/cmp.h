/* qsort comparisons that several areas of lib/ sort with. */
#ifndef PERSONA_CORE_CMP_H
#define PERSONA_CORE_CMP_H

#include <string.h>

/* Two `const char *` elements, bytewise (strcmp). */
static inline int persona__cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Two `double` elements, ascending (no NaN among them). */
static inline int persona__cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
