/* Calendar periods (period.h). */
#include "cohort/period.h"

#include "core/alloc.h"
#include "core/timeparse.h"
#include "persona/common.h"

#define MS_PER_HOUR INT64_C(3600000)

int persona__period_unit_ok(int32_t unit)
{
    return unit >= PERSONA_PERIOD_HOUR && unit <= PERSONA_PERIOD_YEAR;
}

static int64_t period_of_day(int32_t unit, int64_t day)
{
    int64_t y;
    int m, d;
    switch (unit) {
    case PERSONA_PERIOD_DAY: return day;
    case PERSONA_PERIOD_WEEK: return persona__floor_div(day + 3, 7); /* 1970-01-01 was a Thursday */
    default: break;
    }
    persona__civil_from_days(day, &y, &m, &d);
    if (unit == PERSONA_PERIOD_QUARTER)
        return y * 4 + (m - 1) / 3;
    if (unit == PERSONA_PERIOD_YEAR)
        return y;
    return y * 12 + (m - 1);
}

int64_t persona__period_of(const persona__period *p, int64_t t)
{
    /* Times are bounded (years 1..9999), so t + offset cannot overflow. */
    if (p->unit == PERSONA_PERIOD_HOUR)
        return persona__floor_div(t + p->offset_ms, MS_PER_HOUR);
    return period_of_day(p->unit, persona__floor_div(t + p->offset_ms, PERIOD_MS_PER_DAY));
}

static int64_t first_day(int32_t unit, int64_t n)
{
    switch (unit) {
    case PERSONA_PERIOD_DAY: return n;
    case PERSONA_PERIOD_WEEK: return n * 7 - 3;
    case PERSONA_PERIOD_QUARTER: {
        int64_t y = persona__floor_div(n, 4);
        return persona__days_from_civil(y, (int)(n - y * 4) * 3 + 1, 1);
    }
    case PERSONA_PERIOD_YEAR: return persona__days_from_civil(n, 1, 1);
    default: {
        int64_t y = persona__floor_div(n, 12);
        return persona__days_from_civil(y, (int)(n - y * 12) + 1, 1);
    }
    }
}

int64_t persona__period_start(const persona__period *p, int64_t n)
{
    if (p->unit == PERSONA_PERIOD_HOUR)
        return n * MS_PER_HOUR - p->offset_ms;
    return first_day(p->unit, n) * PERIOD_MS_PER_DAY - p->offset_ms;
}

size_t persona__period_label(const persona__period *p, int64_t n, char *buf)
{
    size_t len = 0;
    if (persona_time_label(buf, PERIOD_LABEL_MAX, &len, persona__period_start(p, n), p->unit,
                           (int32_t)(p->offset_ms / 60000)) != PERSONA_OK) {
        buf[0] = '\0'; /* only outside years 1..9999, which ingest never accepts */
        return 0;
    }
    return len;
}

int persona__period_days_init(persona__period_days *d, const persona__period *p, int64_t t_min,
                              int64_t t_max, int64_t max_days)
{
    d->unit = p->unit;
    d->offset_ms = p->offset_ms;
    d->of_day = NULL;
    d->n = 0;
    d->day0 = 0;
    if (t_max < t_min || p->unit == PERSONA_PERIOD_HOUR)
        return 0;
    int64_t day0 = persona__floor_div(t_min + p->offset_ms, PERIOD_MS_PER_DAY);
    int64_t n = persona__floor_div(t_max + p->offset_ms, PERIOD_MS_PER_DAY) - day0 + 1;
    if (n > max_days)
        return 0;
    int64_t *of = persona__realloc_array(NULL, (size_t)n, sizeof *of);
    if (!of)
        return -1;
    for (int64_t i = 0; i < n; i++)
        of[i] = period_of_day(p->unit, day0 + i);
    d->day0 = day0;
    d->n = n;
    d->of_day = of;
    return 0;
}

void persona__period_days_free(persona__period_days *d)
{
    persona__free(d->of_day);
    d->of_day = NULL;
    d->n = 0;
}
