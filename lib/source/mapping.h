/* A compiled column mapping: the caller's persona_mapping copied (names owned), the time
 * format compiled, and the value split into one column or a product of two. */
#ifndef PERSONA_SOURCE_MAPPING_H
#define PERSONA_SOURCE_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include "core/timeparse.h"
#include "persona/source.h"

/* Fields a mapping names, in the order of persona__mapping.names. */
enum { MAP_USER, MAP_TIME, MAP_EVENT, MAP_ITEM, MAP_BASKET, MAP_ID, MAP_VALUE_A, MAP_VALUE_B,
       MAP_FIXED };

typedef struct persona__mapping {
    char *names[MAP_FIXED];   /* column / member names, NULL = not mapped */
    int optional[MAP_FIXED];  /* default names: fine when absent from the input */
    char *event_const;        /* event type when there is no event column */
    char **prop_names, **prop_cols;
    size_t n_props;
    persona__time_format time_format;
    int32_t offset_minutes;
} persona__mapping;

/* Copy and validate (EINVAL with a message, ENOMEM). pub may be NULL (defaults). */
int persona__mapping_compile(persona__mapping *m, const persona_mapping *pub);
void persona__mapping_free(persona__mapping *m);

/* Parse a time field; 0 or -1 with *why. */
int persona__mapping_time(const persona__mapping *m, const char *s, size_t len, int64_t *out,
                          const char **why);

#endif
