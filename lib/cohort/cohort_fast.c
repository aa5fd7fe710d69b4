/* The common retention table fast: calendar periods and at most 64 columns. Each event
 * then touches one 16-byte record of its identifier (the column bits, the cohort period
 * and the row side by side, so one cache miss instead of three), and the work is split
 * between threads by identifier, each reading the whole log but updating only its own
 * records and its own event and revenue cells. The parts are added in a fixed order
 * with exact arithmetic, so the table is the same for any number of threads. */
#include <string.h>

#include "cohort/cohort_scan.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"

/* Raw periods a fast table may span (the raw → column map is a table). */
#define FAST_MAX_RAW 4096
#define PREFETCH_AHEAD 16

typedef struct fast_user {
    uint64_t bits;  /* columns with activity */
    int32_t base;   /* period of the cohort event */
    uint32_t row;   /* COHORT_NONE = not counted */
} fast_user;

typedef struct fast_job {
    scan *sc;
    fast_user *fu;   /* by identifier: members carry their root's row and base */
    uint8_t *col_of; /* raw period offset -> column */
    int64_t n_raw;
    int parts;
    uint64_t *events[PERSONA__MAX_THREADS];           /* per part, n_rows × n_cols */
    persona__exactsum *revenue[PERSONA__MAX_THREADS]; /* per part */
} fast_job;

static void fast_part(void *ctx, int part)
{
    fast_job *j = ctx;
    const scan *sc = j->sc;
    const persona__eventlog *l = &sc->s->log;
    const persona__period_days *d = &sc->days;
    fast_user *fu = j->fu;
    const uint8_t *col_of = j->col_of;
    const uint8_t *active = sc->active_type;
    uint64_t *events = j->events[part];
    persona__exactsum *revenue = j->revenue[part];
    size_t n_cols = sc->n_cols;
    /* a contiguous range of identifiers per part: a compare per event, not a division */
    uint32_t lo = (uint32_t)(sc->n_users * (size_t)part / (size_t)j->parts);
    uint32_t hi = (uint32_t)(sc->n_users * (size_t)(part + 1) / (size_t)j->parts);
    int64_t n_raw = j->n_raw, day0 = d->day0, n_days = d->n;
    for (size_t ci = 0; ci < l->n_chunks; ci++) {
        const log_chunk *c = l->chunks[ci];
        size_t n = ci + 1 < l->n_chunks ? LOG_CHUNK : l->count - ci * LOG_CHUNK;
        for (size_t k = 0; k < n; k++) {
            /* the records are far apart in memory: ask for one a few events ahead */
            if (k + PREFETCH_AHEAD < n)
                __builtin_prefetch(&fu[c->user[k + PREFETCH_AHEAD]], 1);
            uint32_t id = c->user[k];
            if (id < lo || id >= hi)
                continue;
            fast_user *u = &fu[id];
            if (u->row == COHORT_NONE || (active && !active[c->type[k]]))
                continue;
            int64_t day = persona__floor_div(c->time[k] + d->offset_ms, PERIOD_MS_PER_DAY);
            int64_t p = day - day0 >= 0 && day - day0 < n_days ? d->of_day[day - day0]
                                                                : persona__period_days_of(d, c->time[k]);
            int64_t raw = p - u->base;
            if ((uint64_t)raw >= (uint64_t)n_raw)
                continue;
            unsigned col = col_of[raw];
            u->bits |= UINT64_C(1) << col;
            if (events)
                events[(size_t)u->row * n_cols + col]++;
            if (revenue && c->value)
                persona__exactsum_add(&revenue[(size_t)u->row * n_cols + col], c->value[k]);
        }
    }
}

static int eligible(const scan *sc, int64_t *n_raw)
{
    const persona_cohort_table *t = sc->t;
    /* first-of-type cohorts skip the events before the cohort event: a time compare the
     * fast record has no room for */
    if (t->o.period == PERSONA_PERIOD_ROLLING || sc->n_cols > 64 || sc->only || !sc->days.n ||
        t->o.cohort_by == PERSONA_COHORT_BY_FIRST_OF_TYPE)
        return 0;
    *n_raw = (int64_t)persona__cohort_raw_cols(t);
    if (*n_raw > FAST_MAX_RAW)
        return 0;
    for (size_t r = 0; r < sc->n_users; r++)
        if (sc->row[r] != COHORT_NONE && (sc->base[r] < INT32_MIN || sc->base[r] > INT32_MAX))
            return 0;
    return 1;
}

/* Users per cell from the bits of each profile (its identifiers' bits together). */
static void count_users(scan *sc, fast_user *fu)
{
    persona_cohort_table *t = sc->t;
    size_t n_cols = sc->n_cols;
    for (size_t id = 0; id < sc->n_users; id++) {
        uint32_t r = persona__id_root(sc->s, (uint32_t)id);
        if (r != id && fu[id].row != COHORT_NONE)
            fu[r].bits |= fu[id].bits;
    }
    for (size_t r = 0; r < sc->n_users; r++) {
        if (sc->row[r] == COHORT_NONE || persona__id_root(sc->s, (uint32_t)r) != r)
            continue;
        uint64_t *cells = &t->users[(size_t)sc->row[r] * n_cols];
        uint64_t x = fu[r].bits;
        if (t->o.retention == PERSONA_RETENTION_UNBOUNDED) {
            if (x) /* active up to the highest column: counted in every column before it */
                cells[63 - __builtin_clzll(x)]++;
            continue;
        }
        while (x) {
            cells[__builtin_ctzll(x)]++;
            x &= x - 1;
        }
    }
    if (t->o.retention == PERSONA_RETENTION_UNBOUNDED)
        for (size_t row = 0; row < t->n_rows; row++)
            for (size_t c = n_cols; c-- > 1;)
                t->users[row * n_cols + c - 1] += t->users[row * n_cols + c];
}

int persona__cohort_fast_retention(scan *sc)
{
    int64_t n_raw;
    if (!eligible(sc, &n_raw))
        return 0;
    persona_cohort_table *t = sc->t;
    fast_job j = {.sc = sc, .n_raw = n_raw};
    j.parts = persona__threads(t->o.threads);
    size_t n_cells = t->n_rows * sc->n_cols;
    j.fu = persona__realloc_array(NULL, sc->n_users ? sc->n_users : 1, sizeof *j.fu);
    j.col_of = persona__alloc(n_raw ? (size_t)n_raw : 1);
    int rc = j.fu && j.col_of ? PERSONA_OK : persona__fail_nomem();
    for (int p = 0; rc == PERSONA_OK && p < j.parts && n_cells; p++) {
        if (t->events && !(j.events[p] = persona__calloc(n_cells, sizeof *j.events[p])))
            rc = persona__fail_nomem();
        if (rc == PERSONA_OK && t->revenue &&
            !(j.revenue[p] = persona__realloc_array(NULL, n_cells, sizeof *j.revenue[p])))
            rc = persona__fail_nomem();
        for (size_t i = 0; rc == PERSONA_OK && t->revenue && i < n_cells; i++)
            persona__exactsum_init(&j.revenue[p][i]);
    }
    if (rc == PERSONA_OK) {
        for (int64_t raw = 0; raw < n_raw; raw++)
            j.col_of[raw] = (uint8_t)persona__cohort_col_of(&t->o, (uint64_t)raw);
        for (size_t id = 0; id < sc->n_users; id++) {
            uint32_t r = persona__id_root(sc->s, (uint32_t)id);
            j.fu[id] = (fast_user){0, (int32_t)sc->base[r], sc->row[r]};
        }
        persona__parallel_run(j.parts, fast_part, &j);
        count_users(sc, j.fu);
        for (int p = 0; p < j.parts && n_cells; p++)
            for (size_t i = 0; i < n_cells; i++) {
                if (t->events)
                    t->events[i] += j.events[p][i];
                if (t->revenue)
                    persona__exactsum_merge(&t->revenue[i], &j.revenue[p][i]);
            }
    }
    for (int p = 0; p < j.parts; p++) {
        persona__free(j.events[p]);
        persona__free(j.revenue[p]);
    }
    persona__free(j.fu);
    persona__free(j.col_of);
    return rc == PERSONA_OK ? 1 : rc;
}
