/* Calendar periods of the cohort tables and the funnel trend: a time maps to an absolute
 * period number (hours, days, ISO weeks, months, quarters or years since the epoch, in
 * local time at a fixed UTC offset), so "periods since" is a subtraction. The periods
 * are those of persona_time_bucket() and are labelled by persona_time_label(). */
#ifndef PERSONA_COHORT_PERIOD_H
#define PERSONA_COHORT_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#define PERIOD_MS_PER_DAY INT64_C(86400000)
#define PERIOD_LABEL_MAX 32 /* room for any label with its NUL */

/* a / b rounded down (toward negative infinity), where C rounds toward zero: times before
 * 1970 are negative. */
static inline int64_t persona__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

typedef struct persona__period {
    int32_t unit;      /* a calendar PERSONA_PERIOD_* (HOUR … YEAR) */
    int64_t offset_ms; /* local = UTC + offset */
} persona__period;

/* Whether unit is a calendar PERSONA_PERIOD_* constant. */
int persona__period_unit_ok(int32_t unit);
/* Absolute period number of UTC time t: hours or days since 1970-01-01 00:00 local,
 * weeks since Monday 1969-12-29, year·12 + month − 1, year·4 + quarter − 1, or the year. */
int64_t persona__period_of(const persona__period *p, int64_t t);
/* UTC ms of the start of absolute period n. */
int64_t persona__period_start(const persona__period *p, int64_t n);
/* Label of period n (persona_time_label() of its start) into buf (PERIOD_LABEL_MAX bytes);
 * returns its length. */
size_t persona__period_label(const persona__period *p, int64_t n, char *buf);

/* Fast path for scans: the period of each local day over a span, so a scan divides once
 * per event instead of converting dates. Hours are a division and need no table. */
typedef struct persona__period_days {
    int32_t unit;
    int64_t day0;      /* first local day covered */
    int64_t n;         /* days covered; 0 = no table (persona__period_of is used) */
    int64_t offset_ms;
    int64_t *of_day;   /* period number of day0 + i */
} persona__period_days;
/* Table for times in [t_min, t_max]: 0, or -1 when out of memory. Spans over max_days
 * get no table (lookups still work, more slowly). */
int persona__period_days_init(persona__period_days *d, const persona__period *p, int64_t t_min,
                              int64_t t_max, int64_t max_days);
void persona__period_days_free(persona__period_days *d);
/* persona__period_of through the table. */
static inline int64_t persona__period_days_of(const persona__period_days *d, int64_t t)
{
    int64_t day = persona__floor_div(t + d->offset_ms, PERIOD_MS_PER_DAY);
    if (d->n && day >= d->day0 && day - d->day0 < d->n)
        return d->of_day[day - d->day0];
    persona__period p = {d->unit, d->offset_ms};
    return persona__period_of(&p, t);
}

#endif
