/* Combining tables: merge adds a partial built on other users; update brings a table up
 * to date with its store by taking out, then putting back, the contribution of the users
 * with new events. Both rest on the exact addition of cohort_table.c: integer counts and
 * exact revenue sums, so the result is the one a single build would give. */
#include <stdlib.h>
#include <string.h>

#include "cohort/cohort_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "store/store_internal.h"

PERSONA_API int persona_cohort_table_merge(persona_cohort_table *into,
                                           const persona_cohort_table *from)
{
    static const char fn[] = "persona_cohort_table_merge";
    if (!into || !from)
        return persona__fail(PERSONA_EINVAL, "%s: %s is NULL", fn, into ? "from" : "into");
    if (into == from)
        return persona__fail(PERSONA_EINVAL, "%s: a table cannot be merged into itself", fn);
    const char *diff = persona__cohort_opts_differ(&into->o, &from->o);
    if (diff)
        return persona__fail(PERSONA_EINVAL, "%s: the tables were built with different options "
                                             "(%s)", fn, diff);
    int rc = persona__cohort_check_rows(&into->o, persona__cohort_rows_united(into, from));
    if (rc == PERSONA_OK)
        rc = persona__cohort_table_add(into, from, 1);
    if (rc == PERSONA_OK)
        into->updatable = 0;
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The events of the users with events at or after `mark`, all of them (now) and those
 * before mark (then), each list ascending. */
static int touched_events(const persona_store *s, size_t mark, uint32_t **now, size_t *n_now,
                          uint32_t **then, size_t *n_then)
{
    size_t nu = s->users.count ? s->users.count : 1, n_roots = 0, total = 0;
    uint8_t *seen = persona__calloc(nu, 1);
    uint32_t *roots = persona__realloc_array(NULL, nu, sizeof *roots);
    int rc = seen && roots ? PERSONA_OK : persona__fail_nomem();
    for (size_t e = mark; rc == PERSONA_OK && e < s->log.count; e++) {
        uint32_t r = persona__id_root(s, persona__eventlog_chunk(&s->log, e)->user[persona__eventlog_slot(e)]);
        if (!seen[r]) {
            seen[r] = 1;
            roots[n_roots++] = r;
            total += s->profiles[r].events;
        }
    }
    *now = *then = NULL;
    *n_now = *n_then = 0;
    if (rc == PERSONA_OK) {
        *now = persona__realloc_array(NULL, total ? total : 1, sizeof **now);
        *then = persona__realloc_array(NULL, total ? total : 1, sizeof **then);
        if (!*now || !*then)
            rc = persona__fail_nomem();
    }
    for (size_t i = 0; rc == PERSONA_OK && i < n_roots; i++) {
        for (uint32_t e = s->profiles[roots[i]].last_event; e != LOG_NO_ID;
             e = persona__eventlog_prev(&s->log, e)) {
            if (*n_now == total) { /* the chain is longer than the profile says: a bug */
                rc = persona__fail(PERSONA_EINTERNAL, "cohort update: event chain of a profile "
                                                      "longer than its event count");
                break;
            }
            (*now)[(*n_now)++] = e;
            if (e < mark)
                (*then)[(*n_then)++] = e;
        }
    }
    if (rc == PERSONA_OK) {
        qsort(*now, *n_now, sizeof **now, cmp_u32);
        qsort(*then, *n_then, sizeof **then, cmp_u32);
    } else {
        persona__free(*now);
        persona__free(*then);
        *now = *then = NULL;
    }
    persona__free(seen);
    persona__free(roots);
    return rc;
}

/* A table for t's options (copied), filled by a scan of `only` (NULL: every event). */
static int partial(persona_cohort_table **out, const persona_cohort_table *t,
                   const persona_store *s, const uint32_t *only, size_t n_only, int all)
{
    cohort_opts o;
    int rc = persona__cohort_opts_dup(&o, &t->o);
    if (rc)
        return rc;
    rc = persona__cohort_table_new(out, &o);
    if (rc)
        return rc;
    if (all || n_only)
        rc = persona__cohort_scan(*out, s, all ? NULL : only, n_only);
    if (rc) {
        persona_cohort_table_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Retention rows whose users all moved away (a first-touch value that changed). */
static void drop_empty_rows(persona_cohort_table *t)
{
    if (t->o.kind != PERSONA_COHORT_RETENTION)
        return;
    size_t k = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (t->rows[r].size == 0) {
            persona__free(t->rows[r].label);
            continue;
        }
        if (k != r) {
            t->rows[k] = t->rows[r];
            size_t n = t->n_cols;
            memmove(&t->users[k * n], &t->users[r * n], n * sizeof *t->users);
            if (t->events)
                memmove(&t->events[k * n], &t->events[r * n], n * sizeof *t->events);
            if (t->revenue)
                memmove(&t->revenue[k * n], &t->revenue[r * n], n * sizeof *t->revenue);
        }
        k++;
    }
    t->n_rows = k;
}

/* Give dst the counts of src (built with the same options), keeping dst's options and
 * update state; src is freed with dst's old counts. */
static void take_counts(persona_cohort_table *dst, persona_cohort_table *src)
{
    persona_cohort_table old = *dst;
    *dst = *src;
    dst->o = old.o;
    dst->store = old.store;
    dst->store_epoch = old.store_epoch;
    dst->set_seq = old.set_seq;
    dst->log_mark = old.log_mark;
    dst->updatable = old.updatable;
    src->rows = old.rows;
    src->n_rows = old.n_rows;
    src->users = old.users;
    src->events = old.events;
    src->revenue = old.revenue;
    persona_cohort_table_free(src);
}

PERSONA_API int persona_cohort_table_update(persona_cohort_table *t, const persona_store *store)
{
    static const char fn[] = "persona_cohort_table_update";
    if (!t || !store)
        return persona__fail(PERSONA_EINVAL, "%s: %s is NULL", fn, t ? "store" : "table");
    if (!t->updatable)
        return persona__fail(PERSONA_EMISUSE, "%s: a merged or loaded table cannot be updated; "
                                              "build it again", fn);
    if (t->store != store)
        return persona__fail(PERSONA_EMISUSE, "%s: the table was built from another store", fn);
    STORE_RDLOCK(store);
    int rebuild = store->epoch != t->store_epoch || store->log.count < t->log_mark ||
                  (t->o.consent_purpose && store->set_seq != t->set_seq);
    persona_cohort_table *next = NULL, *then = NULL, *now = NULL;
    uint32_t *now_ev = NULL, *then_ev = NULL;
    size_t n_now = 0, n_then = 0;
    int rc = PERSONA_OK;
    if (rebuild) {
        rc = partial(&next, t, store, NULL, 0, 1);
    } else if (store->log.count > t->log_mark) {
        rc = touched_events(store, t->log_mark, &now_ev, &n_now, &then_ev, &n_then);
        if (rc == PERSONA_OK)
            rc = partial(&now, t, store, now_ev, n_now, 0);
        if (rc == PERSONA_OK)
            rc = partial(&then, t, store, then_ev, n_then, 0);
        /* next = t + now - then, built aside so t is untouched on failure */
        if (rc == PERSONA_OK)
            rc = partial(&next, t, store, NULL, 0, 0);
        if (rc == PERSONA_OK)
            rc = persona__cohort_table_add(next, t, 1);
        if (rc == PERSONA_OK)
            rc = persona__cohort_table_add(next, now, 1);
        if (rc == PERSONA_OK)
            rc = persona__cohort_table_add(next, then, -1);
        if (rc == PERSONA_OK) {
            drop_empty_rows(next);
            rc = persona__cohort_check_rows(&next->o, next->n_rows);
        }
        if (rc == PERSONA_OK)
            rc = persona__cohort_table_fit(next);
    }
    if (rc == PERSONA_OK) {
        t->store_epoch = store->epoch;
        t->set_seq = store->set_seq;
        t->log_mark = store->log.count;
    }
    STORE_UNLOCK(store);
    if (rc == PERSONA_OK && next)
        take_counts(t, next);
    else
        persona_cohort_table_free(next);
    persona_cohort_table_free(now);
    persona_cohort_table_free(then);
    persona__free(now_ev);
    persona__free(then_ev);
    return rc;
}
