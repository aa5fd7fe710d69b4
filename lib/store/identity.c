/* The identity graph: persona_store_alias() links identifiers (the store's user keys) of
 * one person, persona_store_unmerge() takes links back, both recomputing the profiles
 * involved from the event log (rebuild.c).
 *
 * Representation: union-find with every member pointing straight at its root (id_root)
 * and the members of a profile on a circular list (id_next), so a lookup is one load and a
 * merge relabels the members of the merged profiles (few per person). The root is the
 * member of highest type priority, the oldest among equals; it names the profile and
 * holds its traits. The merge log is the graph's edge list: unmerge regroups a profile's
 * identifiers by the links that remain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "core/utf8.h"
#include "persona/identity.h"
#include "store_internal.h"
#include "segment/live.h"

#define MAX_ALIAS_IDS 64

static const id_rule default_rules[] = {
    { PERSONA_ID_KEY, 0, 20, 1, 1 },   { PERSONA_ID_COOKIE, 0, 10, 1, 1 },
    { PERSONA_ID_EMAIL, 1, 40, 1, 1 }, { PERSONA_ID_PHONE, 0, 30, 1, 1 },
    { PERSONA_ID_CUSTOMER, 1, 50, 1, 1 },
};

static const char *const default_blocked[] = { "null", "undefined", "0", "anonymous",
                                               "none", "nan", "unknown" };

static const id_rule *host_rule(const persona_store *s, int32_t type)
{
    for (size_t i = 0; i < s->n_rules; i++)
        if (s->rules[i].type == type)
            return &s->rules[i];
    return NULL;
}

static const id_rule *default_rule(int32_t type)
{
    for (size_t i = 0; i < sizeof default_rules / sizeof *default_rules; i++)
        if (default_rules[i].type == type)
            return &default_rules[i];
    return NULL;
}

/* The rule that sets the limit (want_priority 0) or priority (1) of a type: the host's
 * when it set that field, else the default one; NULL when neither (0 applies). */
static const id_rule *rule_for(const persona_store *s, int32_t type, int want_priority)
{
    const id_rule *r = host_rule(s, type);
    if (r && (want_priority ? r->has_priority : r->has_limit))
        return r;
    return default_rule(type);
}

static uint32_t type_limit(const persona_store *s, int32_t type)
{
    const id_rule *r = rule_for(s, type, 0);
    return r ? r->limit : 0;
}

static int32_t type_priority(const persona_store *s, int32_t type)
{
    const id_rule *r = rule_for(s, type, 1);
    return r ? r->priority : 0;
}

const char *persona__id_type_name(int32_t type, char buf[16])
{
    static const char *const names[] = { "key", "cookie", "email", "phone", "customer" };
    if (type >= 0 && type <= PERSONA_ID_CUSTOMER)
        return names[type];
    snprintf(buf, 16, "%d", (int)type);
    return buf;
}

void persona__identity_release(persona_store *s)
{
    persona__free(s->id_root);
    persona__free(s->id_next);
    persona__free(s->id_type);
    persona__free(s->id_links);
    persona__free(s->merges);
    persona__free(s->rules);
    persona__intern_free(&s->sources);
    persona__intern_free(&s->blocked);
    persona__event_rules_free(s);
}

/* Room for identity entries of n users without covering them yet. */
static int identity_reserve(persona_store *s, size_t n)
{
    size_t c1 = s->ids_cap, c2 = s->ids_cap, c3 = s->ids_cap, c4 = s->ids_cap;
    int fail = persona__grow((void **)&s->id_root, &c1, n, sizeof *s->id_root, 64) ||
               persona__grow((void **)&s->id_next, &c2, n, sizeof *s->id_next, 64) ||
               persona__grow((void **)&s->id_type, &c3, n, sizeof *s->id_type, 64) ||
               persona__grow((void **)&s->id_links, &c4, n, sizeof *s->id_links, 64);
    size_t cap = c1 < c2 ? c1 : c2;
    cap = cap < c3 ? cap : c3;
    s->ids_cap = cap < c4 ? cap : c4; /* what every array has room for */
    return fail ? -1 : 0;
}

int persona__identity_cover(persona_store *s, size_t n)
{
    if (n <= s->ids_len)
        return 0;
    if (identity_reserve(s, n))
        return -1;
    for (size_t i = s->ids_len; i < n; i++) {
        s->id_root[i] = s->id_next[i] = (uint32_t)i;
        s->id_type[i] = PERSONA_ID_KEY;
        s->id_links[i] = PERSONA__NO_ID;
    }
    s->ids_len = n;
    return 0;
}

/* ASCII lower-case copy of s without surrounding white space into out (room for
 * PERSONA_MAX_KEY_LEN + 1); its length. */
static size_t folded(char *out, const char *s)
{
    size_t len = strlen(s), a = 0;
    while (a < len && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
        a++;
    while (len > a && (s[len - 1] == ' ' || (s[len - 1] >= '\t' && s[len - 1] <= '\r')))
        len--;
    size_t n = len - a > PERSONA_MAX_KEY_LEN ? PERSONA_MAX_KEY_LEN : len - a;
    for (size_t i = 0; i < n; i++) {
        char c = s[a + i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
    }
    out[n] = '\0';
    return n;
}

static int is_blocked(const persona_store *s, const char *value, char *scratch)
{
    size_t n = folded(scratch, value);
    if (n == 0)
        return 1;
    for (size_t i = 0; i < sizeof default_blocked / sizeof *default_blocked; i++)
        if (strcmp(scratch, default_blocked[i]) == 0)
            return 1;
    return persona__intern_find(&s->blocked, scratch, n) != PERSONA__NO_ID;
}

/* One identifier of a call, checked and normalized before the lock is taken. */
typedef struct given {
    int32_t type;
    int blocked;
    char *value; /* normalized (or as given, when blocked) */
    size_t len;
    size_t pos;  /* position in the call, for a stable priority order */
    int32_t priority;
    uint32_t id; /* identifier id once known, NO_ID when new */
    int upgraded; /* a key this call gave its type */
} given;

static int cmp_given(const void *a, const void *b)
{
    const given *x = a, *y = b;
    if (x->blocked != y->blocked)
        return x->blocked - y->blocked; /* the blocked ones last */
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int prepare_given(const persona_store *s, const persona_identifier *in, size_t pos,
                         const char *country, given *g, char *scratch)
{
    if (in->struct_size < sizeof(persona_identifier) || in->struct_size > 4096)
        return persona__fail(PERSONA_EINVAL, "identifier %zu: struct_size not set", pos + 1);
    if (!in->value)
        return persona__fail(PERSONA_EINVAL, "identifier %zu: value is NULL", pos + 1);
    if (in->type < 0)
        return persona__fail(PERSONA_EINVAL, "identifier %zu: negative type %d", pos + 1,
                             (int)in->type);
    g->type = in->type;
    g->pos = pos;
    g->id = PERSONA__NO_ID;
    size_t raw = strlen(in->value);
    if (raw > PERSONA_MAX_KEY_LEN * 2)
        return persona__fail(PERSONA_EINVAL, "identifier %zu is longer than %d bytes", pos + 1,
                             PERSONA_MAX_KEY_LEN);
    g->blocked = is_blocked(s, in->value, scratch);
    size_t len = 0;
    if (!g->blocked) {
        int rc = persona_identifier_normalize(scratch, PERSONA_MAX_KEY_LEN + 1, &len, in->type,
                                              in->value, country[0] ? country : NULL);
        if (rc == PERSONA_EBUFS)
            rc = persona__fail(PERSONA_EINVAL, "identifier %zu is longer than %d bytes",
                               pos + 1, PERSONA_MAX_KEY_LEN);
        if (rc) {
            char why[256];
            snprintf(why, sizeof why, "%s", persona_errmsg());
            return persona__fail(rc, "identifier %zu: %s", pos + 1, why);
        }
        char again[PERSONA_MAX_KEY_LEN + 1];
        g->blocked = is_blocked(s, scratch, again);
    } else {
        len = folded(scratch, in->value);
    }
    g->value = persona__strndup(scratch, len);
    g->len = len;
    g->priority = type_priority(s, in->type);
    return g->value ? PERSONA_OK : persona__fail_nomem();
}

/* Identifiers of type t in the profile of root r. */
static uint32_t count_type(const persona_store *s, uint32_t r, int32_t t)
{
    uint32_t n = 0, m = r;
    do {
        n += persona__id_type(s, m) == t;
        m = persona__id_next(s, m);
    } while (m != r);
    return n;
}

/* Better root of two: higher priority of the identifier's type, then the older id. */
static int better_root(const persona_store *s, uint32_t x, uint32_t y)
{
    int32_t px = type_priority(s, persona__id_type(s, x)), py = type_priority(s, persona__id_type(s, y));
    return px != py ? px > py : x < y;
}

/* Point every member of the profile through m at its best member; that root. */
static uint32_t reroot(persona_store *s, uint32_t m)
{
    uint32_t best = m, x = m;
    do {
        if (better_root(s, x, best))
            best = x;
        x = s->id_next[x];
    } while (x != m);
    x = m;
    do {
        s->id_root[x] = best;
        x = s->id_next[x];
    } while (x != m);
    return best;
}

static void join(persona_store *s, uint32_t ra, uint32_t rb)
{
    uint32_t t = s->id_next[ra];
    s->id_next[ra] = s->id_next[rb];
    s->id_next[rb] = t;
    for (uint32_t x = rb;; x = s->id_next[x]) {
        s->id_root[x] = ra;
        if (s->id_next[x] == rb)
            break;
    }
}

/* Would joining the profiles of ra and rb exceed a per-type limit? The type, or -1. */
static int32_t over_limit(const persona_store *s, uint32_t ra, uint32_t rb)
{
    uint32_t m = rb;
    do {
        int32_t t = persona__id_type(s, m);
        uint32_t lim = type_limit(s, t);
        if (lim && count_type(s, ra, t) + count_type(s, rb, t) > lim)
            return t;
        m = persona__id_next(s, m);
    } while (m != rb);
    return -1;
}

typedef struct alias_call {
    given g[MAX_ALIAS_IDS];
    size_t n;
    uint32_t old_roots[MAX_ALIAS_IDS];
    size_t n_old;
    uint32_t source;
    int64_t at;
    int quiet; /* links carried by events: log neither "same" links nor a repeated block */
} alias_call;

/* Put entry e on the lists of the identifiers it names. */
static void index_link(persona_store *s, uint32_t e)
{
    merge_entry *m = &s->merges[e];
    m->next_a = m->next_b = PERSONA__NO_ID;
    if (!(m->flags & MERGE_A_TEXT) && m->a != PERSONA__NO_ID) {
        m->next_a = s->id_links[m->a];
        s->id_links[m->a] = e;
    }
    if (!(m->flags & MERGE_B_TEXT) && m->b != m->a) {
        m->next_b = s->id_links[m->b];
        s->id_links[m->b] = e;
    }
}

void persona__merge_links_rebuild(persona_store *s)
{
    for (size_t i = 0; i < s->ids_len; i++)
        s->id_links[i] = PERSONA__NO_ID;
    for (size_t e = 0; e < s->n_merges; e++)
        index_link(s, (uint32_t)e);
}

/* Whether anchor a's list already has this very link (outcome, other side, flags). */
static int logged_before(const persona_store *s, uint32_t a, uint32_t b, int32_t outcome,
                         uint32_t flags)
{
    for (uint32_t e = s->id_links[a]; e != PERSONA__NO_ID; e = persona__merge_next(s, e, a)) {
        const merge_entry *m = &s->merges[e];
        if (m->a == a && m->b == b && m->outcome == outcome && m->flags == flags)
            return 1;
    }
    return 0;
}

static void log_link(persona_store *s, const alias_call *c, const given *a, const given *b,
                     int32_t outcome, int32_t limit_type, uint32_t flags)
{
    /* Events repeat their links (every login identifies again, a failed batch is sent
     * again): those add nothing to the log. */
    if (c->quiet && (outcome == PERSONA_LINK_SAME || !a ||
                     (a && outcome >= PERSONA_LINK_BLOCKED_VALUE &&
                      logged_before(s, a->id, b->id, outcome, flags))))
        return;
    merge_entry *m = &s->merges[s->n_merges++];
    memset(m, 0, sizeof *m);
    m->time_ms = c->at;
    m->source = c->source;
    m->a = a ? a->id : PERSONA__NO_ID;
    m->b = b->id;
    m->a_type = a ? a->type : 0;
    m->b_type = b->type;
    m->outcome = outcome;
    m->limit_type = limit_type;
    m->flags = flags;
    index_link(s, (uint32_t)(s->n_merges - 1));
}

/* Room for everything the call may add, before anything changes. */
static int reserve_call(persona_store *s, alias_call *c, recompute_plan *plan)
{
    size_t new_ids = 0, new_bytes = 0, text = 0, text_bytes = 0;
    for (size_t i = 0; i < c->n; i++) {
        given *g = &c->g[i];
        g->id = g->blocked ? PERSONA__NO_ID : persona__intern_find(&s->users, g->value, g->len);
        if (g->id == PERSONA__NO_ID) {
            new_ids++;
            new_bytes += g->len;
            text++;
            text_bytes += g->len;
        } else {
            uint32_t r = persona__id_root(s, g->id);
            size_t k = 0;
            while (k < c->n_old && c->old_roots[k] != r)
                k++;
            if (k == c->n_old)
                c->old_roots[c->n_old++] = r;
        }
    }
    size_t users = s->users.count + new_ids;
    if (persona__intern_reserve(&s->users, new_ids, new_bytes) ||
        persona__grow((void **)&s->profiles, &s->profiles_cap, users, sizeof *s->profiles, 64) ||
        persona__identity_cover(s, s->users.count) || identity_reserve(s, users) ||
        persona__grow((void **)&s->merges, &s->merges_cap, s->n_merges + c->n,
                      sizeof *s->merges, 16) ||
        persona__intern_reserve(&s->sources, text + 1, text_bytes + PERSONA_MAX_KEY_LEN))
        return -1;
    /* Several profiles may be recomputed (merged ones, and ones an upgrade rerooted). */
    return persona__recompute_reserve(s, c->old_roots, c->n_old, c->n_old ? c->n_old : 1, plan);
}

static uint32_t add_identifier(persona_store *s, given *g)
{
    g->id = persona__intern_add(&s->users, g->value, g->len);
    persona__identity_cover(s, (size_t)g->id + 1); /* within the reservation */
    persona__profile_init(&s->profiles[g->id]);
    s->id_type[g->id] = g->type;
    return g->id;
}

/* Link b to the anchor a (not blocked, an identifier by now). */
static void link_one(persona_store *s, alias_call *c, given *a, given *b,
                     persona_alias_result *r)
{
    uint32_t ra = s->id_root[a->id];
    b->id = persona__intern_find(&s->users, b->value, b->len); /* perhaps added just now */
    if (b->id == PERSONA__NO_ID) { /* new: joins unless its type is full */
        uint32_t lim = type_limit(s, b->type);
        if (lim && count_type(s, ra, b->type) + 1 > lim) {
            b->id = persona__intern_add(&s->sources, b->value, b->len);
            log_link(s, c, a, b, PERSONA_LINK_BLOCKED_LIMIT, b->type, MERGE_B_TEXT);
            b->id = PERSONA__NO_ID;
            r->blocked++;
            r->blocked_type = b->type;
            r->outcome = PERSONA_LINK_BLOCKED_LIMIT;
            return;
        }
        add_identifier(s, b);
        join(s, ra, b->id);
        log_link(s, c, a, b, PERSONA_LINK_ADDED, 0, 0);
        r->added++;
        r->outcome = PERSONA_LINK_ADDED;
        return;
    }
    uint32_t rb = s->id_root[b->id];
    if (ra == rb) {
        log_link(s, c, a, b, PERSONA_LINK_SAME, 0, 0);
        r->same++;
        return;
    }
    int32_t t = over_limit(s, ra, rb);
    if (t >= 0) {
        log_link(s, c, a, b, PERSONA_LINK_BLOCKED_LIMIT, t, 0);
        r->blocked++;
        r->blocked_type = t;
        r->outcome = PERSONA_LINK_BLOCKED_LIMIT;
        return;
    }
    join(s, ra, rb);
    log_link(s, c, a, b, PERSONA_LINK_MERGED, 0, 0);
    r->merged++;
    r->outcome = PERSONA_LINK_MERGED;
}

static void log_blocked_value(persona_store *s, alias_call *c, const given *anchor, given *b,
                              persona_alias_result *r)
{
    b->id = persona__intern_add(&s->sources, b->value, b->len);
    log_link(s, c, anchor, b, PERSONA_LINK_BLOCKED_VALUE, 0, MERGE_B_TEXT);
    r->blocked++;
    r->blocked_type = b->type;
    r->outcome = PERSONA_LINK_BLOCKED_VALUE;
}

/* The links of a call, under the write lock. */
static int run_alias(persona_store *s, alias_call *c, const char *source,
                     persona_alias_result *r)
{
    for (size_t i = 0; i < c->n; i++) { /* an identifier keeps its first non-key type */
        given *g = &c->g[i];
        if (g->blocked)
            continue;
        uint32_t id = persona__intern_find(&s->users, g->value, g->len);
        int32_t t = id == PERSONA__NO_ID ? PERSONA_ID_KEY : persona__id_type(s, id);
        if (t != PERSONA_ID_KEY && g->type != PERSONA_ID_KEY && t != g->type) {
            char b1[16], b2[16];
            return persona__fail(PERSONA_EINVAL, "identifier '%.200s' is a %s, not a %s",
                                 g->value, persona__id_type_name(t, b1),
                                 persona__id_type_name(g->type, b2));
        }
    }
    recompute_plan plan = { NULL, 0 };
    if (reserve_call(s, c, &plan))
        return persona__fail_nomem();
    s->epoch++; /* ingest prepared under the read lock must look again */
    c->source = source ? persona__intern_add(&s->sources, source, strlen(source))
                       : PERSONA__NO_ID;
    /* Upgrades: a key named as a typed identifier takes the type, unless its profile
     * already holds as many of that type as the limit allows (then it stays a key). */
    for (size_t i = 0; i < c->n; i++) {
        given *g = &c->g[i];
        if (g->id == PERSONA__NO_ID || g->type == PERSONA_ID_KEY ||
            s->id_type[g->id] == g->type)
            continue;
        uint32_t lim = type_limit(s, g->type);
        if (lim && count_type(s, s->id_root[g->id], g->type) + 1 > lim)
            continue;
        s->id_type[g->id] = g->type;
        g->upgraded = 1;
    }
    r->outcome = PERSONA_LINK_SAME;
    /* The anchor: the highest-priority identifier the store knows (new ones join it, and
     * a limit keeps a new identifier out rather than an existing one), else the first. */
    for (size_t i = 1; i < c->n; i++)
        if (!c->g[i].blocked && c->g[i].id != PERSONA__NO_ID && c->g[0].id == PERSONA__NO_ID) {
            given t = c->g[i];
            memmove(&c->g[1], &c->g[0], i * sizeof *c->g);
            c->g[0] = t;
            break;
        }
    given *anchor = c->n && !c->g[0].blocked ? &c->g[0] : NULL;
    if (anchor && anchor->id == PERSONA__NO_ID)
        add_identifier(s, anchor);
    for (size_t i = 1; i < c->n; i++) {
        if (c->g[i].blocked)
            log_blocked_value(s, c, anchor, &c->g[i], r);
        else
            link_one(s, c, anchor, &c->g[i], r);
    }
    if (c->g[0].blocked) /* all blocked: the first is logged too */
        log_blocked_value(s, c, NULL, &c->g[0], r);
    /* The profile is named after its best identifier; when the root changes or profiles
     * merged, the traits move / combine: recompute from the old roots' events. */
    if (anchor)
        reroot(s, anchor->id);
    for (size_t i = 0; i < c->n; i++) /* profiles an upgrade touched, linked or not */
        if (c->g[i].upgraded)
            reroot(s, c->g[i].id);
    /* Replayed: every old root that is no root any more (merged away, or a better
     * identifier took over), and, after a merge, the anchor's profile. */
    uint32_t root = anchor ? s->id_root[anchor->id] : PERSONA__NO_ID;
    size_t n = 0;
    for (size_t k = 0; k < c->n_old; k++) {
        uint32_t o = c->old_roots[k];
        if (s->id_root[o] != o || (r->merged && s->id_root[o] == root))
            c->old_roots[n++] = o;
    }
    if (!n) {
        persona__free(plan.order);
        return PERSONA_OK;
    }
    /* An opt-out goes with the profile: its final root gets it. */
    uint32_t opted[MAX_ALIAS_IDS];
    size_t n_opted = 0;
    for (size_t k = 0; k < n; k++) {
        profile *p = &s->profiles[c->old_roots[k]];
        if (p->flags & PROFILE_UNTRACKED) {
            opted[n_opted++] = s->id_root[c->old_roots[k]];
            p->flags &= ~PROFILE_UNTRACKED;
            s->n_untracked--;
        }
    }
    r->events_replayed = persona__recompute(s, c->old_roots, n, &plan);
    for (size_t k = 0; k < n_opted; k++)
        if (!(s->profiles[opted[k]].flags & PROFILE_UNTRACKED)) {
            s->profiles[opted[k]].flags |= PROFILE_UNTRACKED;
            s->n_untracked++;
        }
    return PERSONA_OK;
}

PERSONA__DEFINE_INIT(persona_alias_result, persona_alias_result_init)

int persona__identifiers_check(const persona_store *s, const persona_identifier *ids, size_t count)
{
    char *scratch = persona__alloc(PERSONA_MAX_KEY_LEN + 1);
    if (!scratch)
        return persona__fail_nomem();
    int rc = PERSONA_OK;
    for (size_t i = 0; i < count && !rc; i++) {
        given g;
        memset(&g, 0, sizeof g);
        rc = prepare_given(s, &ids[i], i, s->country, &g, scratch);
        persona__free(g.value);
    }
    persona__free(scratch);
    return rc;
}

int persona__store_alias_locked(persona_store *s, const persona_identifier *ids, size_t count,
                                int64_t at_ms, const char *source, int quiet,
                                persona_alias_result *r)
{
    alias_call *c = persona__calloc(1, sizeof *c);
    char *scratch = persona__alloc(PERSONA_MAX_KEY_LEN + 1);
    if (!c || !scratch) {
        persona__free(c);
        persona__free(scratch);
        return persona__fail_nomem();
    }
    c->at = at_ms;
    c->quiet = quiet;
    int rc = PERSONA_OK;
    for (size_t i = 0; i < count && !rc; i++, c->n++)
        rc = prepare_given(s, &ids[i], i, s->country, &c->g[i], scratch);
    if (!rc) {
        qsort(c->g, c->n, sizeof *c->g, cmp_given);
        rc = run_alias(s, c, source, r);
    }
    for (size_t i = 0; i < c->n; i++)
        persona__free(c->g[i].value);
    persona__free(c);
    persona__free(scratch);
    return rc;
}

PERSONA_API int persona_store_alias(persona_alias_result *result_out, persona_store *store,
                                    const persona_identifier *ids, size_t count, int64_t at_ms,
                                    const char *source)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    persona_alias_result r;
    memset(&r, 0, sizeof r);
    if (!store || !ids)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "ids" : "store");
    if (count < 2 || count > MAX_ALIAS_IDS)
        return persona__fail(PERSONA_EINVAL, "alias needs 2 to %d identifiers, got %zu",
                             MAX_ALIAS_IDS, count);
    if (at_ms < PERSONA_TIME_MIN || at_ms > PERSONA_TIME_MAX)
        return persona__fail(PERSONA_EINVAL, "alias time out of range");
    int rc = source ? persona__check_key(source, "source") : PERSONA_OK;
    if (!rc && result_out)
        rc = persona__struct_out(result_out, &r, sizeof r, sizeof r, "persona_alias_result");
    if (rc)
        return rc;
    STORE_WRLOCK(store);
    rc = persona__store_alias_locked(store, ids, count, at_ms, source, 0, &r);
    STORE_UNLOCK(store);
    if (rc == PERSONA_OK && result_out)
        persona__struct_out(result_out, &r, sizeof r, sizeof r, "persona_alias_result");
    return rc;
}

/* ---- unmerge ------------------------------------------------------------------------ */

static uint32_t uf_find(uint32_t *parent, uint32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static size_t index_of(const uint32_t *sorted, size_t n, uint32_t id)
{
    const uint32_t *p = bsearch(&id, sorted, n, sizeof *sorted, cmp_u32);
    return p ? (size_t)(p - sorted) : n;
}

/* Regroup the members of profile r by the links left; the number of parts. */
static size_t regroup(persona_store *s, uint32_t *members, uint32_t *parent, size_t n)
{
    for (size_t i = 0; i < n; i++)
        parent[i] = (uint32_t)i;
    /* The links of the profile: those on its members' lists (each seen from both ends). */
    for (size_t i = 0; i < n; i++)
        for (uint32_t e = s->id_links[members[i]]; e != PERSONA__NO_ID;
             e = persona__merge_next(s, e, members[i])) {
            const merge_entry *m = &s->merges[e];
            if (!persona__merge_is_edge(m))
                continue;
            size_t a = index_of(members, n, m->a), b = index_of(members, n, m->b);
            if (a < n && b < n)
                parent[uf_find(parent, (uint32_t)a)] = uf_find(parent, (uint32_t)b);
        }
    /* Each part becomes a circular list, rooted at its best member. */
    size_t parts = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = uf_find(parent, (uint32_t)i);
        if (p == i) {
            parts++;
            s->id_next[members[i]] = members[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t p = uf_find(parent, (uint32_t)i);
        if (p != i) {
            uint32_t head = members[p], x = members[i];
            s->id_next[x] = s->id_next[head];
            s->id_next[head] = x;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (uf_find(parent, (uint32_t)i) == i)
            reroot(s, members[i]);
    return parts;
}

static int run_unmerge(persona_store *s, uint32_t x, uint32_t *parts_out)
{
    uint32_t r = persona__id_root(s, x);
    size_t n = 0;
    uint32_t m = r;
    do {
        n++;
        m = persona__id_next(s, m);
    } while (m != r);
    int has_links = 0;
    for (uint32_t e = x < s->ids_len ? s->id_links[x] : PERSONA__NO_ID; e != PERSONA__NO_ID;
         e = persona__merge_next(s, e, x))
        has_links |= persona__merge_is_edge(&s->merges[e]);
    if (n == 1 || !has_links) {
        *parts_out = 1;
        return PERSONA_OK;
    }
    uint32_t *members = persona__alloc(n * sizeof *members);
    uint32_t *parent = persona__alloc(n * sizeof *parent);
    recompute_plan plan = { NULL, 0 };
    if (!members || !parent || persona__recompute_reserve(s, &r, 1, n, &plan)) {
        persona__free(members);
        persona__free(parent);
        return persona__fail_nomem();
    }
    s->epoch++;
    size_t k = 0;
    m = r;
    do {
        members[k++] = m;
        m = s->id_next[m];
    } while (m != r);
    qsort(members, n, sizeof *members, cmp_u32);
    for (uint32_t e = s->id_links[x]; e != PERSONA__NO_ID; e = persona__merge_next(s, e, x))
        if (persona__merge_is_edge(&s->merges[e]))
            s->merges[e].flags |= MERGE_UNDONE;
    uint32_t untracked = s->profiles[r].flags & PROFILE_UNTRACKED;
    s->profiles[r].flags &= ~PROFILE_UNTRACKED;
    size_t parts = regroup(s, members, parent, n);
    persona__recompute(s, &r, 1, &plan);
    if (untracked) { /* an opt-out stays with every part */
        s->n_untracked--;
        for (size_t i = 0; i < n; i++)
            if (s->id_root[members[i]] == members[i]) {
                s->profiles[members[i]].flags |= PROFILE_UNTRACKED;
                s->n_untracked++;
            }
    }
    persona__free(members);
    persona__free(parent);
    *parts_out = (uint32_t)parts;
    return PERSONA_OK;
}

PERSONA_API int persona_store_unmerge(uint32_t *parts_out, persona_store *store,
                                      const persona_identifier *id)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    if (!store || !id)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", store ? "id" : "store");
    char *scratch = persona__alloc(PERSONA_MAX_KEY_LEN + 1);
    if (!scratch)
        return persona__fail_nomem();
    given g;
    memset(&g, 0, sizeof g);
    STORE_RDLOCK(store);
    int rc = prepare_given(store, id, 0, store->country, &g, scratch);
    STORE_UNLOCK(store);
    persona__free(scratch);
    uint32_t parts = 0;
    if (!rc) {
        STORE_WRLOCK(store);
        uint32_t x = persona__intern_find(&store->users, g.value, g.len);
        if (x == PERSONA__NO_ID)
            rc = persona__fail(PERSONA_ENOTFOUND, "no identifier '%.200s'", g.value);
        else
            rc = run_unmerge(store, x, &parts);
        STORE_UNLOCK(store);
    }
    persona__free(g.value);
    if (rc == PERSONA_OK && parts_out)
        *parts_out = parts;
    return rc;
}

/* ---- settings and lookups ------------------------------------------------------------ */

static int set_rule(persona_store *store, int32_t type, const uint32_t *limit,
                    const int32_t *priority)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    if (type < 0)
        return persona__fail(PERSONA_EINVAL, "negative identifier type %d", (int)type);
    STORE_WRLOCK(store);
    int rc = PERSONA_OK;
    id_rule *r = (id_rule *)host_rule(store, type);
    if (!r) {
        if (persona__grow((void **)&store->rules, &store->rules_cap, store->n_rules + 1,
                          sizeof *store->rules, 8)) {
            rc = persona__fail_nomem();
        } else {
            r = &store->rules[store->n_rules++];
            memset(r, 0, sizeof *r);
            r->type = type;
        }
    }
    if (r && limit) {
        r->limit = *limit;
        r->has_limit = 1;
    }
    if (r && priority) {
        r->priority = *priority;
        r->has_priority = 1;
    }
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_identity_limit(persona_store *store, int32_t type, uint32_t max)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    return set_rule(store, type, &max, NULL);
}

PERSONA_API int persona_store_identity_priority(persona_store *store, int32_t type,
                                                int32_t priority)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    return set_rule(store, type, NULL, &priority);
}

PERSONA_API int persona_store_identity_block(persona_store *store, const char *value)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    if (!value)
        return persona__fail(PERSONA_EINVAL, "blocked value is NULL");
    int rc = persona__check_key(value[0] ? value : "x", "blocked value");
    if (rc)
        return rc;
    char *scratch = persona__alloc(PERSONA_MAX_KEY_LEN + 1);
    if (!scratch)
        return persona__fail_nomem();
    size_t n = folded(scratch, value);
    STORE_WRLOCK(store);
    if (n && persona__intern_find(&store->blocked, scratch, n) == PERSONA__NO_ID &&
        (persona__intern_reserve(&store->blocked, 1, n) ||
         persona__intern_add(&store->blocked, scratch, n) == PERSONA__NO_ID))
        rc = persona__fail_nomem();
    STORE_UNLOCK(store);
    persona__free(scratch);
    return rc;
}

PERSONA_API int persona_store_identity_country(persona_store *store, const char *code)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    size_t n = code ? strlen(code) : 0;
    for (size_t i = 0; i < n; i++)
        if (code[i] < '0' || code[i] > '9' || n > 3)
            return persona__fail(PERSONA_EINVAL, "country calling code '%.8s': 1 to 3 digits",
                                 code);
    STORE_WRLOCK(store);
    memset(store->country, 0, sizeof store->country);
    if (n)
        memcpy(store->country, code, n);
    STORE_UNLOCK(store);
    return PERSONA_OK;
}

PERSONA_API int persona_store_resolve(char *buf, size_t capacity, size_t *out_len,
                                      const persona_store *store, const char *user)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    STORE_RDLOCK(store);
    int rc;
    uint32_t r = persona__store_find_user(store, user, &rc);
    if (rc == PERSONA_OK)
        rc = persona__copy_out(buf, capacity, out_len, persona__intern_str(&store->users, r),
                               persona__intern_len(&store->users, r));
    STORE_UNLOCK(store);
    return rc;
}
