/* The path explorer (persona_path_explore): every session's path as the query defines it
 * is copied out (excluded states removed, anchors applied, the step limit kept), equal
 * paths are grouped by sorting, and the groups ranked. Drop-offs group every prefix of the
 * paths instead of the paths. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "path/path_internal.h"

typedef struct ref {
    const uint32_t *p; /* states (set once the buffer stops moving) */
    uint64_t off;
    uint32_t len;
    uint32_t hit; /* converted (goal) / dropped after this prefix (drop-offs) */
    uint64_t count, extra;
} ref;

typedef struct explore {
    const persona_path_model *m;
    int32_t kind;
    uint32_t start, end, goal; /* PERSONA_PATH_NO_STATE: unknown, matches nothing */
    uint32_t steps;
    uint64_t top;
    uint8_t *excl;
    uint32_t *q; /* one session's filtered path */
    size_t q_cap;
    uint32_t *buf; /* the paths */
    size_t n_buf, buf_cap;
    ref *refs;
    size_t n_refs, refs_cap;
} explore;

static int cmp_states(const ref *x, const ref *y)
{
    uint32_t n = x->len < y->len ? x->len : y->len;
    for (uint32_t i = 0; i < n; i++)
        if (x->p[i] != y->p[i])
            return x->p[i] < y->p[i] ? -1 : 1;
    return (x->len > y->len) - (x->len < y->len);
}

static int cmp_group(const void *a, const void *b)
{
    return cmp_states(a, b);
}

static int cmp_dropoff_group(const void *a, const void *b)
{
    const ref *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return cmp_states(x, y);
}

static int cmp_rank(const void *a, const void *b)
{
    const ref *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return cmp_states(x, y);
}

static int cmp_dropoff_rank(const void *a, const void *b)
{
    const ref *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return cmp_rank(a, b);
}

static uint32_t state_or_none(const persona_path_model *m, const char *name, uint32_t dflt)
{
    if (!name)
        return dflt;
    uint32_t id = persona__intern_find(&m->states, name, strlen(name));
    return id == PERSONA__NO_ID ? PERSONA_PATH_NO_STATE : id;
}

static int setup(explore *x, const persona_path_model *m, const persona_path_query *query)
{
    persona_path_query q = PERSONA_PATH_QUERY_INIT;
    int rc = query ? persona__struct_in(&q, sizeof q, query, sizeof q, "persona_path_query")
                   : PERSONA_OK;
    if (rc)
        return rc;
    if (q.kind < PERSONA_PATH_TOP || q.kind > PERSONA_PATH_DROPOFF)
        return persona__fail(PERSONA_EINVAL, "kind is %d (PERSONA_PATH_*: 0 to 2)", q.kind);
    if (q.kind == PERSONA_PATH_GOAL && (!q.goal_state || !*q.goal_state))
        return persona__fail(PERSONA_EINVAL, "a goal query without goal_state");
    if (q.reserved)
        return persona__fail(PERSONA_EINVAL, "reserved is not 0");
    if (q.n_exclude && !q.exclude)
        return persona__fail(PERSONA_EINVAL, "exclude is NULL with %zu entries", q.n_exclude);
    x->m = m;
    x->kind = q.kind;
    x->start = state_or_none(m, q.start_state, m->start_id);
    x->end = state_or_none(m, q.end_state, m->end_id);
    x->goal = state_or_none(m, q.goal_state, PERSONA_PATH_NO_STATE);
    x->steps = q.max_steps ? q.max_steps : PATH_DEFAULT_STEPS;
    x->top = q.top;
    if (!(x->excl = persona__calloc(m->states.count + 1, 1)))
        return persona__fail_nomem();
    for (size_t i = 0; i < q.n_exclude; i++) {
        if (!q.exclude[i])
            return persona__fail(PERSONA_EINVAL, "exclude[%zu] is NULL", i);
        uint32_t s = state_or_none(m, q.exclude[i], PERSONA_PATH_NO_STATE);
        if (s != PERSONA_PATH_NO_STATE && s != m->start_id && s != m->end_id)
            x->excl[s] = 1;
    }
    return PERSONA_OK;
}

/* Session i's path "(start)", s1 … sn, "(end)" without the excluded states, in x->q. */
static int filtered(explore *x, uint64_t i, size_t *n_out)
{
    const persona_path_model *m = x->m;
    uint64_t a = m->sess_start[i], n = m->sess_start[i + 1] - a;
    if (persona__grow((void **)&x->q, &x->q_cap, n + 2, sizeof *x->q, 64))
        return persona__fail_nomem();
    size_t k = 0;
    x->q[k++] = m->start_id;
    for (uint64_t j = 0; j < n; j++)
        if (!x->excl[m->sess_states[a + j]])
            x->q[k++] = m->sess_states[a + j];
    x->q[k++] = m->end_id;
    *n_out = k;
    return PERSONA_OK;
}

static int add_ref(explore *x, uint64_t off, uint32_t len, uint32_t hit)
{
    if (persona__grow((void **)&x->refs, &x->refs_cap, x->n_refs + 1, sizeof *x->refs, 256))
        return persona__fail_nomem();
    x->refs[x->n_refs++] = (ref){ NULL, off, len, hit, 1, hit };
    return PERSONA_OK;
}

/* Copy q[a .. a + len) to the buffer; its offset in *off. */
static int keep(explore *x, const uint32_t *q, size_t len, uint64_t *off)
{
    if (persona__grow((void **)&x->buf, &x->buf_cap, x->n_buf + len + 1, sizeof *x->buf, 1024))
        return persona__fail_nomem();
    memcpy(x->buf + x->n_buf, q, len * sizeof *q);
    *off = x->n_buf;
    x->n_buf += len;
    return PERSONA_OK;
}

/* Session paths (and prefixes) as references into the buffer. */
static int collect_session(explore *x, uint64_t i)
{
    size_t n = 0;
    int rc = filtered(x, i, &n);
    if (rc)
        return rc;
    const uint32_t *q = x->q;
    uint64_t off = 0;
    if (x->kind == PERSONA_PATH_GOAL) {
        size_t g = 1;
        while (g < n - 1 && q[g] != x->goal)
            g++;
        uint32_t hit = g < n - 1;
        size_t from = g > x->steps ? g - x->steps : 0;
        rc = keep(x, q + from, g - from, &off);
        return rc ? rc : add_ref(x, off, (uint32_t)(g - from), hit);
    }
    size_t a = 0;
    while (a < n && q[a] != x->start)
        a++;
    size_t b = a + (x->start == x->end); /* the end anchor comes after the start */
    while (b < n && q[b] != x->end)
        b++;
    if (a >= n || b >= n)
        return PERSONA_OK;
    size_t len = b - a + 1 > x->steps ? x->steps : b - a + 1;
    if ((rc = keep(x, q + a, len, &off)))
        return rc;
    if (x->kind == PERSONA_PATH_TOP)
        return add_ref(x, off, (uint32_t)len, 0);
    for (size_t k = 1; k <= len && a + k - 1 < b && !rc; k++)
        rc = add_ref(x, off, (uint32_t)k, a + k == b);
    return rc;
}

/* Group equal paths (count and extra summed) and rank the groups. */
static int to_list(persona_path_list **out, explore *x)
{
    ref *r = x->refs;
    size_t n = x->n_refs;
    for (size_t i = 0; i < n; i++)
        r[i].p = x->buf + r[i].off;
    int drop = x->kind == PERSONA_PATH_DROPOFF;
    if (n)
        qsort(r, n, sizeof *r, drop ? cmp_dropoff_group : cmp_group);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        if (g && (drop ? cmp_dropoff_group : cmp_group)(&r[g - 1], &r[i]) == 0) {
            r[g - 1].count += r[i].count;
            r[g - 1].extra += r[i].extra;
        } else {
            r[g++] = r[i];
        }
    }
    if (g)
        qsort(r, g, sizeof *r, drop ? cmp_dropoff_rank : cmp_rank);
    /* keep the first `top` rows (of each prefix length for drop-offs) */
    size_t w = 0, states = 0, run = 0;
    for (size_t i = 0; i < g; i++) {
        run = i && drop && r[i].len != r[i - 1].len ? 0 : run;
        if (x->top && run >= x->top)
            continue;
        run++;
        r[w++] = r[i];
        states += r[i].len;
    }
    persona_path_list *l = persona__path_list_alloc(w, states);
    if (!l)
        return persona__fail_nomem();
    size_t s = 0;
    for (size_t i = 0; i < w; i++) {
        memcpy(l->states + s, r[i].p, r[i].len * sizeof *l->states);
        s += r[i].len;
        l->start[i + 1] = s;
        l->count[i] = r[i].count;
        l->extra[i] = r[i].extra;
    }
    *out = l;
    return PERSONA_OK;
}

PERSONA_API int persona_path_explore(persona_path_list **out, const persona_path_model *m,
                                     const persona_path_query *query)
{
    if (out)
        *out = NULL;
    if (!out || !m)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "model" : "out");
    explore x;
    memset(&x, 0, sizeof x);
    int rc = setup(&x, m, query);
    for (uint64_t i = 0; !rc && i < m->n_sessions; i++)
        rc = collect_session(&x, i);
    if (!rc)
        rc = to_list(out, &x);
    persona__free(x.excl);
    persona__free(x.q);
    persona__free(x.buf);
    persona__free(x.refs);
    return rc;
}
