/* Building a table from a store: one pass over the profiles (or the log) for each user's
 * cohort event, then passes over the columnar log in order, each event touching only its
 * user's state: a bit per (user, period) for distinct users, kept in strips of columns
 * when a bit per user and column would not fit the memory budget. Events and revenue go
 * straight to their cell. Nothing is allocated per event. */
#include <stdlib.h>
#include <string.h>

#include "cohort/cohort_scan.h"
#include "core/alloc.h"
#include "core/error.h"
#include "store/store_internal.h"

/* ---- who is counted, and their cohort event ---- */

static int consent_ok(const persona_store *s, uint32_t purpose, uint32_t root)
{
    if (purpose == PERSONA__NO_ID)
        return 0;
    uint32_t e = persona__consent_entry(s, root, purpose);
    return e != UINT32_MAX && s->consents[e].granted;
}

/* Earliest event per user: of one type (first-of-type cohorts; NO_ID: none), or of any
 * type when any_type (a restricted scan cannot use the profiles' first_seen). */
static void earliest(scan *sc, uint32_t type, int any_type)
{
    for (size_t i = 0; i < sc->n_users; i++)
        sc->t0[i] = INT64_MAX;
    if (type == PERSONA__NO_ID && !any_type)
        return;
    FOR_EACH_EVENT(sc, c, k, {
        if (!any_type && c->type[k] != type)
            continue;
        uint32_t r = root_of(sc->s, c->user[k]);
        if (c->time[k] < sc->t0[r])
            sc->t0[r] = c->time[k];
    });
}

/* The value of a property on each user's earliest event that has it (earliest in the log
 * among ties): value ids into vals, NO_ID when none. */
static int first_touch(scan *sc, uint32_t *vals)
{
    const persona_store *s = sc->s;
    for (size_t i = 0; i < sc->n_users; i++)
        vals[i] = PERSONA__NO_ID;
    const char *name = sc->t->o.cohort_property;
    uint32_t nid = persona__intern_find(&s->names, name, strlen(name));
    int col = nid == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, nid);
    if (col < 0)
        return PERSONA_OK;
    int64_t *best = persona__realloc_array(NULL, sc->n_users ? sc->n_users : 1, sizeof *best);
    if (!best)
        return persona__fail_nomem();
    for (size_t i = 0; i < sc->n_users; i++)
        best[i] = INT64_MAX;
    FOR_EACH_EVENT(sc, c, k, {
        const uint32_t *p = c->props[col];
        if (!p || p[k] == LOG_NO_ID)
            continue;
        uint32_t r = root_of(s, c->user[k]);
        if (c->time[k] < best[r]) {
            best[r] = c->time[k];
            vals[r] = p[k];
        }
    });
    persona__free(best);
    return PERSONA_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct val_key {
    const char *str; /* NULL = "(none)", sorted last */
    uint32_t id;
} val_key;

static int cmp_val(const void *a, const void *b)
{
    const val_key *x = a, *y = b;
    if (!x->str || !y->str)
        return (x->str == NULL) - (y->str == NULL);
    return strcmp(x->str, y->str);
}

/* The distinct cohort periods of the counted users, ascending, in *keys (n_out of them).
 * When they span few periods, *dense maps key - *key_min to its rank (no sort). */
static int time_keys(scan *sc, int64_t **keys, uint32_t **dense, int64_t *key_min, size_t *n_out)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    size_t n = 0;
    for (size_t r = 0; r < sc->n_users; r++) {
        if (sc->row[r] == COHORT_NONE)
            continue;
        int64_t key = persona__period_days_of(&sc->row_days, sc->t0[r]);
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
        n++;
    }
    *keys = NULL;
    *dense = NULL;
    *key_min = lo;
    *n_out = 0;
    if (!n)
        return PERSONA_OK;
    if (hi - lo < (INT64_C(1) << 22)) {
        size_t span = (size_t)(hi - lo + 1), u = 0;
        *dense = persona__calloc(span, sizeof **dense);
        if (!*dense)
            return persona__fail_nomem();
        for (size_t r = 0; r < sc->n_users; r++)
            if (sc->row[r] != COHORT_NONE)
                (*dense)[persona__period_days_of(&sc->row_days, sc->t0[r]) - lo] = 1;
        for (size_t i = 0; i < span; i++)
            u += (*dense)[i] != 0;
        *keys = persona__realloc_array(NULL, u ? u : 1, sizeof **keys);
        if (!*keys) {
            persona__free(*dense);
            *dense = NULL;
            return persona__fail_nomem();
        }
        u = 0;
        for (size_t i = 0; i < span; i++)
            if ((*dense)[i]) {
                (*dense)[i] = (uint32_t)u;
                (*keys)[u++] = lo + (int64_t)i;
            }
        *n_out = u;
        return PERSONA_OK;
    }
    *keys = persona__realloc_array(NULL, n, sizeof **keys);
    if (!*keys)
        return persona__fail_nomem();
    size_t k = 0;
    for (size_t r = 0; r < sc->n_users; r++)
        if (sc->row[r] != COHORT_NONE)
            (*keys)[k++] = persona__period_days_of(&sc->row_days, sc->t0[r]);
    qsort(*keys, k, sizeof **keys, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || (*keys)[u - 1] != (*keys)[i])
            (*keys)[u++] = (*keys)[i];
    *n_out = u;
    return PERSONA_OK;
}

/* Rows of a retention table: one per distinct cohort period or property value of the
 * counted users, sorted; each user's row index in sc->row. */
static int make_rows(scan *sc, const uint32_t *vals)
{
    persona_cohort_table *t = sc->t;
    const persona_store *s = sc->s;
    int by_prop = t->o.cohort_by == PERSONA_COHORT_BY_PROPERTY;
    size_t n_keys = by_prop ? s->values.count + 1 : 0, n_counted = 0;
    int64_t *keys = NULL, key_min = 0;
    uint32_t *row_of_val = NULL, *dense = NULL;
    int rc0;
    for (size_t r = 0; r < sc->n_users; r++)
        n_counted += sc->row[r] != COHORT_NONE;
    if (by_prop) {
        row_of_val = persona__realloc_array(NULL, n_keys, sizeof *row_of_val);
        if (!row_of_val)
            return persona__fail_nomem();
        for (size_t i = 0; i < n_keys; i++)
            row_of_val[i] = COHORT_NONE;
        for (size_t r = 0; r < sc->n_users; r++)
            if (sc->row[r] != COHORT_NONE)
                row_of_val[vals[r] == PERSONA__NO_ID ? n_keys - 1 : vals[r]] = 0;
        n_counted = 0;
        for (size_t i = 0; i < n_keys; i++)
            n_counted += row_of_val[i] == 0;
    } else {
        rc0 = time_keys(sc, &keys, &dense, &key_min, &n_counted);
        if (rc0)
            return rc0;
    }
    /* n_counted is now the number of rows */
    int rc = persona__cohort_check_rows(&t->o, n_counted);
    val_key *vk = NULL;
    if (rc == PERSONA_OK &&
        !(t->rows = persona__calloc(n_counted ? n_counted : 1, sizeof *t->rows)))
        rc = persona__fail_nomem();
    if (rc == PERSONA_OK && by_prop) {
        vk = persona__realloc_array(NULL, n_counted ? n_counted : 1, sizeof *vk);
        if (!vk)
            rc = persona__fail_nomem();
        size_t k = 0;
        for (size_t i = 0; rc == PERSONA_OK && i < n_keys; i++)
            if (row_of_val[i] == 0)
                vk[k++] = (val_key){i + 1 == n_keys ? NULL : persona__intern_str(&s->values, (uint32_t)i),
                                    (uint32_t)i};
        if (rc == PERSONA_OK)
            qsort(vk, k, sizeof *vk, cmp_val);
        for (size_t i = 0; rc == PERSONA_OK && i < k; i++) {
            row_of_val[vk[i].id] = (uint32_t)i;
            if (vk[i].str && !(t->rows[i].label = persona__strndup(vk[i].str, strlen(vk[i].str))))
                rc = persona__fail_nomem();
            t->n_rows = i + 1;
        }
    } else if (rc == PERSONA_OK) {
        for (size_t i = 0; i < n_counted; i++)
            t->rows[i].period = keys[i];
        t->n_rows = n_counted;
    }
    t->cap_rows = t->n_rows;
    for (size_t r = 0; rc == PERSONA_OK && r < sc->n_users; r++) {
        if (sc->row[r] == COHORT_NONE)
            continue;
        uint32_t row;
        if (by_prop) {
            row = row_of_val[vals[r] == PERSONA__NO_ID ? n_keys - 1 : vals[r]];
        } else {
            int64_t key = persona__period_days_of(&sc->row_days, sc->t0[r]);
            if (dense) {
                row = dense[key - key_min];
            } else {
                int64_t *hit = bsearch(&key, keys, t->n_rows, sizeof *keys, cmp_i64);
                row = (uint32_t)(hit - keys);
            }
        }
        sc->row[r] = row;
        t->rows[row].size++;
    }
    persona__free(vk);
    persona__free(keys);
    persona__free(dense);
    persona__free(row_of_val);
    return rc;
}

/* Which users count, their cohort event and row. */
static int choose_users(scan *sc)
{
    persona_cohort_table *t = sc->t;
    const persona_store *s = sc->s;
    const cohort_opts *o = &t->o;
    uint32_t purpose = PERSONA__NO_ID;
    if (o->consent_purpose)
        purpose = persona__intern_find(&s->names, o->consent_purpose, strlen(o->consent_purpose));
    uint32_t *vals = NULL;
    int rc = PERSONA_OK;
    if (o->kind == PERSONA_COHORT_RETENTION && o->cohort_by == PERSONA_COHORT_BY_FIRST_OF_TYPE) {
        earliest(sc, persona__intern_find(&s->types, o->cohort_event, strlen(o->cohort_event)), 0);
    } else if (sc->only) {
        earliest(sc, PERSONA__NO_ID, 1);
    } else {
        for (size_t r = 0; r < sc->n_users; r++)
            sc->t0[r] = root_of(s, (uint32_t)r) == r && s->profiles[r].events
                            ? s->profiles[r].first_seen
                            : INT64_MAX;
    }
    if (o->kind == PERSONA_COHORT_RETENTION && o->cohort_by == PERSONA_COHORT_BY_PROPERTY) {
        vals = persona__realloc_array(NULL, sc->n_users ? sc->n_users : 1, sizeof *vals);
        rc = vals ? first_touch(sc, vals) : persona__fail_nomem();
    }
    int retention = o->kind == PERSONA_COHORT_RETENTION;
    for (size_t r = 0; r < sc->n_users; r++) {
        int64_t t0 = sc->t0[r];
        int in = t0 != INT64_MAX && root_of(s, (uint32_t)r) == r;
        if (in && retention && o->from_ms && t0 < o->from_ms)
            in = 0;
        if (in && retention && o->to_ms && t0 >= o->to_ms)
            in = 0;
        if (in && o->consent_purpose)
            in = consent_ok(s, purpose, (uint32_t)r);
        sc->row[r] = in ? 0 : COHORT_NONE;
        sc->base[r] = o->period == PERSONA_PERIOD_ROLLING ? t0
                      : in ? persona__period_days_of(&sc->days, t0) : 0;
    }
    if (rc == PERSONA_OK && retention)
        rc = make_rows(sc, vals);
    persona__free(vals);
    return rc;
}

/* ---- the event passes ---- */

/* Column of an event of user r at time t, or NO_COL (before the cohort event, past the
 * kept periods). */
static inline uint32_t column_of(const scan *sc, uint32_t r, int64_t time)
{
    const cohort_opts *o = &sc->t->o;
    if (time < sc->t0[r]) /* before a first-of-type cohort event */
        return NO_COL;
    int64_t raw = o->period == PERSONA_PERIOD_ROLLING
                      ? persona__floor_div(time - sc->base[r], o->window_ms)
                      : persona__period_days_of(&sc->days, time) - sc->base[r];
    if (raw < 0)
        return NO_COL;
    return persona__cohort_col_of(o, (uint64_t)raw);
}

/* One pass of a retention table: bits of the columns [lo, lo + 64·w) per user, and (when
 * sums) the events and revenue of every cell. maxcol: unbounded retention instead. */
static void retention_pass(scan *sc, uint64_t *bits, size_t w, size_t lo, int sums,
                           int32_t *maxcol)
{
    persona_cohort_table *t = sc->t;
    size_t hi = lo + 64 * w;
    FOR_EACH_EVENT(sc, c, k, {
        uint32_t r = root_of(sc->s, c->user[k]);
        uint32_t row = sc->row[r];
        if (row == COHORT_NONE || !type_active(sc, c->type[k]))
            continue;
        uint32_t col = column_of(sc, r, c->time[k]);
        if (col == NO_COL || col >= sc->n_cols)
            continue;
        if (maxcol) {
            if ((int32_t)col > maxcol[r])
                maxcol[r] = (int32_t)col;
        } else if (col >= lo && col < hi) {
            size_t b = col - lo;
            bits[(size_t)r * w + b / 64] |= UINT64_C(1) << (b % 64);
        }
        if (sums) {
            size_t cell = (size_t)row * sc->n_cols + col;
            if (t->events)
                t->events[cell]++;
            if (t->revenue && c->value)
                persona__exactsum_add(&t->revenue[cell], c->value[k]);
        }
    });
}

static void count_bits(scan *sc, const uint64_t *bits, size_t w, size_t lo)
{
    persona_cohort_table *t = sc->t;
    for (size_t r = 0; r < sc->n_users; r++) {
        if (sc->row[r] == COHORT_NONE)
            continue;
        uint64_t *cells = &t->users[(size_t)sc->row[r] * sc->n_cols];
        for (size_t j = 0; j < w; j++) {
            uint64_t x = bits[r * w + j];
            while (x) {
                cells[lo + j * 64 + (size_t)__builtin_ctzll(x)]++;
                x &= x - 1;
            }
        }
    }
}

static int retention_counts(scan *sc)
{
    int fast = persona__cohort_fast_retention(sc);
    if (fast)
        return fast < 0 ? fast : PERSONA_OK;
    persona_cohort_table *t = sc->t;
    if (t->o.retention == PERSONA_RETENTION_UNBOUNDED) {
        int32_t *maxcol = persona__realloc_array(NULL, sc->n_users ? sc->n_users : 1, sizeof *maxcol);
        if (!maxcol)
            return persona__fail_nomem();
        for (size_t r = 0; r < sc->n_users; r++)
            maxcol[r] = -1;
        retention_pass(sc, NULL, 0, 0, 1, maxcol);
        /* a user active up to column m counts in columns 0..m */
        for (size_t r = 0; r < sc->n_users; r++)
            if (sc->row[r] != COHORT_NONE && maxcol[r] >= 0)
                t->users[(size_t)sc->row[r] * sc->n_cols + (size_t)maxcol[r]]++;
        for (size_t row = 0; row < t->n_rows; row++)
            for (size_t c = sc->n_cols; c-- > 1;)
                t->users[row * sc->n_cols + c - 1] += t->users[row * sc->n_cols + c];
        persona__free(maxcol);
        return PERSONA_OK;
    }
    size_t words = (sc->n_cols + 63) / 64, per_user = BITS_BUDGET / 8 / (sc->n_users ? sc->n_users : 1);
    size_t w = words < per_user ? words : per_user ? per_user : 1;
    uint64_t *bits = persona__calloc(sc->n_users ? sc->n_users * w : 1, sizeof *bits);
    if (!bits)
        return persona__fail_nomem();
    for (size_t lo = 0; lo < sc->n_cols || lo == 0; lo += 64 * w) {
        if (lo)
            memset(bits, 0, sc->n_users * w * sizeof *bits);
        retention_pass(sc, bits, w, lo, lo == 0, NULL);
        count_bits(sc, bits, w, lo);
        if (sc->n_cols == 0)
            break;
    }
    persona__free(bits);
    return PERSONA_OK;
}

/* Lifecycle and stickiness: the active periods of each user as bits, in strips of
 * periods (with one period of overlap on each side: a period's class needs the one
 * before, dormancy the one after), classified per user. Counts go to arrays by period
 * relative to p0 (the store's first period) and become rows at the end. */
typedef struct activity {
    int64_t p0, n;          /* periods [p0, p0 + n) */
    int64_t lo_opt, hi_opt; /* the option range, relative to p0 */
    uint64_t *cls;          /* 3 per period: new, returning, resurrecting */
    uint64_t *dormant_next; /* per period */
    uint64_t *hist;         /* stickiness: users by active periods, 0..n */
    int64_t *first;         /* per user: first active period, INT64_MAX = none yet */
    int64_t *last;          /* per user: last active period */
    uint32_t *active_in_range; /* per user */
} activity;

static void activity_pass(scan *sc, activity *a, uint64_t *bits, size_t w, int64_t lo)
{
    FOR_EACH_EVENT(sc, c, k, {
        uint32_t r = root_of(sc->s, c->user[k]);
        if (sc->row[r] == COHORT_NONE || !type_active(sc, c->type[k]))
            continue;
        int64_t b = persona__period_days_of(&sc->days, c->time[k]) - a->p0 - (lo - 1);
        if (b >= 0 && b < (int64_t)(64 * w))
            bits[(size_t)r * w + (size_t)b / 64] |= UINT64_C(1) << (b % 64);
    });
}

static void activity_classify(scan *sc, activity *a, const uint64_t *bits, size_t w,
                              int64_t lo, int64_t hi)
{
    for (size_t r = 0; r < sc->n_users; r++) {
        if (sc->row[r] == COHORT_NONE)
            continue;
        const uint64_t *ub = &bits[r * w];
#define BIT(p) ((p) - (lo - 1) >= 0 && (ub[((p) - (lo - 1)) / 64] >> (((p) - (lo - 1)) % 64) & 1))
        for (int64_t p = lo; p < hi; p++) {
            if (!BIT(p))
                continue;
            if (a->first[r] == INT64_MAX)
                a->first[r] = p;
            a->last[r] = p;
            int in_range = p >= a->lo_opt && p <= a->hi_opt;
            if (in_range) {
                int cls = a->first[r] == p ? 0 : BIT(p - 1) ? 1 : 2;
                a->cls[p * 3 + cls]++;
                a->active_in_range[r]++;
            }
            if (p >= a->lo_opt - 1 && p <= a->hi_opt && !BIT(p + 1))
                a->dormant_next[p]++;
        }
#undef BIT
    }
}

static int activity_fill(scan *sc, activity *a)
{
    persona_cohort_table *t = sc->t;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t r = 0; r < sc->n_users; r++) {
        if (sc->row[r] == COHORT_NONE || a->first[r] == INT64_MAX)
            continue;
        first = a->first[r] < first ? a->first[r] : first;
        last = a->last[r] > last ? a->last[r] : last;
        if (a->active_in_range[r])
            a->hist[a->active_in_range[r]]++;
    }
    if (first == INT64_MAX)
        return PERSONA_OK;
    t->first_period = a->p0 + first;
    t->last_period = a->p0 + last;
    int rc = persona__cohort_table_add(t, NULL, 1); /* lays out the implied rows */
    if (rc)
        return rc;
    for (size_t i = 0; i < t->n_rows; i++) {
        cohort_row *row = &t->rows[i];
        if (t->o.kind == PERSONA_COHORT_STICKINESS) {
            t->users[i] = row->size = row->period <= a->n ? a->hist[row->period] : 0;
            continue;
        }
        int64_t p = row->period - a->p0;
        for (int c = 0; c < 3; c++) {
            t->users[i * 3 + (size_t)c] = a->cls[p * 3 + c];
            row->size += a->cls[p * 3 + c];
        }
        row->dormant_next = a->dormant_next[p];
    }
    int64_t before = t->n_rows ? t->rows[0].period - 1 - a->p0 : -1;
    if (t->o.kind == PERSONA_COHORT_LIFECYCLE && before >= 0)
        t->dormant_before = a->dormant_next[before];
    return PERSONA_OK;
}

static int activity_counts(scan *sc)
{
    persona_cohort_table *t = sc->t;
    const persona_store *s = sc->s;
    if (s->log.count == 0)
        return PERSONA_OK;
    activity a = {0};
    a.p0 = persona__period_of(&t->col_unit, s->first_time_ms);
    a.n = persona__period_of(&t->col_unit, s->last_time_ms) - a.p0 + 1;
    if ((uint64_t)a.n > COHORT_MAX_CELLS)
        return persona__fail(PERSONA_EINVAL, "cohort table: the events span %lld periods, more "
                                             "than %zu; use a longer period", (long long)a.n,
                             (size_t)COHORT_MAX_CELLS);
    a.lo_opt = t->o.from_ms ? persona__period_of(&t->col_unit, t->o.from_ms) - a.p0 : INT64_MIN / 2;
    a.hi_opt = t->o.to_ms ? persona__period_of(&t->col_unit, t->o.to_ms - 1) - a.p0 : INT64_MAX / 2;
    size_t n = (size_t)a.n, nu = sc->n_users ? sc->n_users : 1;
    a.cls = persona__calloc(n * 3, sizeof *a.cls);
    a.dormant_next = persona__calloc(n, sizeof *a.dormant_next);
    a.hist = persona__calloc(n + 1, sizeof *a.hist);
    a.first = persona__realloc_array(NULL, nu, sizeof *a.first);
    a.last = persona__calloc(nu, sizeof *a.last);
    a.active_in_range = persona__calloc(nu, sizeof *a.active_in_range);
    /* a strip of 64·w bits holds 64·w − 2 periods plus the neighbours */
    size_t words = (n + 2 + 63) / 64, per_user = BITS_BUDGET / 8 / nu;
    size_t w = words < per_user ? words : per_user ? per_user : 1;
    if (64 * w < 3)
        w = 1;
    uint64_t *bits = persona__calloc(nu * w, sizeof *bits);
    int rc = PERSONA_OK;
    if (!a.cls || !a.dormant_next || !a.hist || !a.first || !a.last || !a.active_in_range || !bits)
        rc = persona__fail_nomem();
    for (size_t r = 0; rc == PERSONA_OK && r < sc->n_users; r++)
        a.first[r] = INT64_MAX;
    int64_t step = (int64_t)(64 * w) - 2;
    for (int64_t lo = 0; rc == PERSONA_OK && lo < a.n; lo += step) {
        int64_t hi = lo + step < a.n ? lo + step : a.n;
        if (lo)
            memset(bits, 0, nu * w * sizeof *bits);
        activity_pass(sc, &a, bits, w, lo);
        activity_classify(sc, &a, bits, w, lo, hi);
    }
    if (rc == PERSONA_OK)
        rc = activity_fill(sc, &a);
    persona__free(bits);
    persona__free(a.cls);
    persona__free(a.dormant_next);
    persona__free(a.hist);
    persona__free(a.first);
    persona__free(a.last);
    persona__free(a.active_in_range);
    return rc;
}

static int active_types(scan *sc)
{
    const cohort_opts *o = &sc->t->o;
    if (!o->n_active)
        return PERSONA_OK;
    const persona_store *s = sc->s;
    sc->active_type = persona__calloc(s->types.count ? s->types.count : 1, 1);
    if (!sc->active_type)
        return persona__fail_nomem();
    for (size_t i = 0; i < o->n_active; i++) {
        uint32_t id = persona__intern_find(&s->types, o->active[i], strlen(o->active[i]));
        if (id != PERSONA__NO_ID)
            sc->active_type[id] = 1;
    }
    return PERSONA_OK;
}

int persona__cohort_scan(persona_cohort_table *t, const persona_store *s, const uint32_t *only,
                         size_t n_only)
{
    scan sc = {.s = s, .t = t, .n_users = s->users.count, .only = only, .n_only = n_only};
    size_t nu = sc.n_users ? sc.n_users : 1;
    t->t_last = s->log.count ? s->last_time_ms : INT64_MIN;
    if (s->log.count)
        t->first_anchor = t->o.from_ms > s->first_time_ms ? t->o.from_ms : s->first_time_ms;
    sc.t0 = persona__realloc_array(NULL, nu, sizeof *sc.t0);
    sc.base = persona__realloc_array(NULL, nu, sizeof *sc.base);
    sc.row = persona__realloc_array(NULL, nu, sizeof *sc.row);
    int rc = sc.t0 && sc.base && sc.row ? PERSONA_OK : persona__fail_nomem();
    if (rc == PERSONA_OK)
        rc = active_types(&sc);
    /* with empty tables the lookups fall back to persona__period_of */
    sc.days = (persona__period_days){.unit = t->col_unit.unit, .offset_ms = t->col_unit.offset_ms};
    sc.row_days = (persona__period_days){.unit = t->row_unit.unit, .offset_ms = t->row_unit.offset_ms};
    if (rc == PERSONA_OK && s->log.count &&
        (persona__period_days_init(&sc.days, &t->col_unit, s->first_time_ms, s->last_time_ms,
                                   INT64_C(1) << 20) != 0 ||
         persona__period_days_init(&sc.row_days, &t->row_unit, s->first_time_ms,
                                   s->last_time_ms, INT64_C(1) << 20) != 0))
        rc = persona__fail_nomem();
    if (rc == PERSONA_OK)
        rc = choose_users(&sc);
    if (rc == PERSONA_OK && t->o.kind == PERSONA_COHORT_RETENTION) {
        rc = persona__cohort_table_add(t, NULL, 1); /* allocates the cells */
        sc.n_cols = t->n_cols;
        if (rc == PERSONA_OK)
            rc = retention_counts(&sc);
    } else if (rc == PERSONA_OK) {
        rc = activity_counts(&sc);
    }
    persona__period_days_free(&sc.days);
    persona__period_days_free(&sc.row_days);
    persona__free(sc.active_type);
    persona__free(sc.t0);
    persona__free(sc.base);
    persona__free(sc.row);
    return rc;
}

PERSONA_API int persona_cohort_build(persona_cohort_table **out, const persona_store *store,
                                     const persona_cohort_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_build: out is NULL");
    *out = NULL;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "persona_cohort_build: store is NULL");
    cohort_opts o;
    int rc = persona__cohort_opts_copy(&o, opts);
    if (rc)
        return rc;
    persona_cohort_table *t = NULL;
    rc = persona__cohort_table_new(&t, &o);
    if (rc)
        return rc;
    STORE_RDLOCK(store);
    rc = persona__cohort_scan(t, store, NULL, 0);
    t->store = store;
    t->store_epoch = store->epoch;
    t->set_seq = store->set_seq;
    t->log_mark = store->log.count;
    t->updatable = 1;
    STORE_UNLOCK(store);
    if (rc) {
        persona_cohort_table_free(t);
        return rc;
    }
    *out = t;
    return PERSONA_OK;
}
