/* Identity graph: time per operation of persona_store_alias(), persona_store_unmerge() and
 * persona_store_resolve() on a store built from synthetic events, and ingest into a store
 * where 30 % of the users are linked against one where none is.
 *
 * The events: USERS users with power-law activity (user rank u = USERS * x^3, x uniform:
 * a mean of 10 events per user at the defaults, a median of about 4), plus planted heavy
 * profiles of exactly 1,000, 10,000 and 100,000 events spread through the stream; types
 * view 90 % / addtocart 7 % / transaction 3 %, values on carts and transactions, a
 * `category` property on every event (40 categories, 60 % the user's favourite), baskets on
 * carts and transactions (a transaction closes the user's current basket), times
 * increasing by 6 s.
 *
 * Operations, each timed one by one (median, p99, mean) on one store:
 *  1. alias a new email to an existing user (users u % 10 < 3): the email outranks the key,
 *     so the profile moves to it and its events are replayed;
 *  1b. alias a new cookie to an existing user (u % 10 in 3..4): the key stays the root,
 *     nothing is replayed (5 rounds, which also grow the merge log for 4b);
 *  2. merge two existing users with 8 to 12 events each (u % 10 >= 5);
 *  3. merge a light user (1 or 2 events) into a heavy profile (1 k, 10 k, 100 k events):
 *     the replay is linear in the events, reported as ns per replayed event;
 *  4. unmerge the profiles of 2, half before the cookie rounds (a short merge log), half
 *     after (a long one);
 *  5. persona_store_resolve() of random identifiers (keys and emails), timed in batches of
 *     100 lookups (a clock read costs about as much as a lookup).
 * Ingest: EVENTS / 2 further events of the same users, in batches of 4,096 rotating among
 * three stores built from the same events: unlinked; the users of step 1 linked to a
 * cookie (roots unchanged: only the root indirection differs); the store of step 1 (the
 * same users linked to an email: profiles moved and replayed). Per store the total time
 * and the slowest batch. The unlinked store's rate is the reference: every operation is
 * also given as the number of events that ingest in the same time.
 *
 * usage: bench_alias [EVENTS] [USERS] [PAIRS]   (default 1000000 100000 2000) — prints a
 * table and one JSON line. A heavy tier is left out when its planted events exceed
 * EVENTS / 10. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "persona.h"

#define BATCH 4096
#define KEYLEN 32
#define N_CATS 40
#define COOKIE_ROUNDS 5

static void die(const char *what)
{
    fprintf(stderr, "bench_alias: %s: %s\n", what, persona_errmsg());
    exit(1);
}

/* ---- the synthetic stream ------------------------------------------------------------ */

static const char *prop_names[] = { "category" };
static char cats[N_CATS][16];

typedef struct stream {
    size_t n;
    persona_event *ev;
    const char **cat;  /* the category value of each event (prop_values points here) */
    char *baskets;     /* KEYLEN bytes per basket-carrying event */
} stream;

/* Events of the users in `who` (n of them, in that order), times from t0. `orders` counts
 * each user's closed baskets across streams. */
static void make_stream(stream *st, const uint32_t *who, size_t n, char (*keys)[KEYLEN],
                        uint32_t *orders, int64_t t0)
{
    static const char *types[] = { "view", "addtocart", "transaction" };
    st->n = n;
    st->ev = malloc(n * sizeof *st->ev);
    st->cat = malloc(n * sizeof *st->cat);
    uint8_t *kind = malloc(n);
    size_t with_basket = 0;
    if (!st->ev || !st->cat || !kind)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        uint64_t r = bench_next_u64() % 100;
        kind[i] = r < 90 ? 0 : r < 97 ? 1 : 2;
        with_basket += kind[i] != 0;
    }
    st->baskets = malloc((with_basket ? with_basket : 1) * KEYLEN);
    if (!st->baskets)
        die("out of memory");
    size_t b = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = who[i];
        uint64_t r = bench_next_u64();
        persona_event e = PERSONA_EVENT_INIT;
        e.user = keys[u];
        e.time_ms = t0 + (int64_t)i * 6000;
        e.type = types[kind[i]];
        e.value = kind[i] == 0 ? NAN : kind[i] == 1 ? (double)(r % 10000) / 100.0
                                                     : (double)(r % 50000) / 100.0;
        st->cat[i] = cats[(r >> 20) % 100 < 60 ? u % N_CATS : (r >> 32) % N_CATS];
        e.prop_names = prop_names;
        e.prop_values = &st->cat[i];
        e.n_props = 1;
        if (kind[i]) {
            char *bk = st->baskets + KEYLEN * b++;
            snprintf(bk, KEYLEN, "o%u-%u", u, orders[u]);
            e.basket = bk;
            if (kind[i] == 2)
                orders[u]++;
        }
        st->ev[i] = e;
    }
    free(kind);
}

static void free_stream(stream *st)
{
    free(st->ev);
    free(st->cat);
    free(st->baskets);
}

static double ingest_batch(persona_store *s, const persona_event *ev, size_t n)
{
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    double t0 = bench_now();
    if (persona_store_ingest(&st, s, ev, n, NULL) != PERSONA_OK)
        die("ingest");
    double t = bench_now() - t0;
    if (st.events_rejected) {
        fprintf(stderr, "bench_alias: %llu events rejected\n",
                (unsigned long long)st.events_rejected);
        exit(1);
    }
    return t;
}

/* Seconds to ingest a whole stream into s. */
static double ingest_all(persona_store *s, const stream *st)
{
    double t = 0;
    for (size_t i = 0; i < st->n; i += BATCH)
        t += ingest_batch(s, st->ev + i, st->n - i < BATCH ? st->n - i : BATCH);
    return t;
}

/* ---- timings ------------------------------------------------------------------------- */

typedef struct series {
    const char *name, *tag; /* table row, JSON prefix */
    double *ns; /* per op */
    size_t n, cap;
    double replayed; /* events replayed in total */
    int no_replay_count; /* the call does not report events replayed */
    double median, p99, mean;
} series;

static void add(series *s, double ns, uint64_t replayed)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->ns = realloc(s->ns, s->cap * sizeof *s->ns);
        if (!s->ns)
            die("out of memory");
    }
    s->ns[s->n++] = ns;
    s->replayed += (double)replayed;
}

static void summarize(series *s)
{
    if (!s->n)
        return;
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->ns[i];
    s->mean = sum / (double)s->n;
    s->median = bench_median(s->ns, s->n); /* sorts */
    size_t k = (size_t)ceil(0.99 * (double)s->n) - 1;
    s->p99 = s->ns[k < s->n ? k : s->n - 1];
}

static void fmt_ns(char *buf, size_t cap, double ns)
{
    if (ns < 1e3)
        snprintf(buf, cap, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, cap, "%.1f µs", ns / 1e3);
    else
        snprintf(buf, cap, "%.2f ms", ns / 1e6);
}

static double alias2(persona_store *s, int32_t ta, const char *a, int32_t tb, const char *b,
                     int64_t at, persona_alias_result *r)
{
    persona_identifier ids[2] = { PERSONA_IDENTIFIER(ta, a), PERSONA_IDENTIFIER(tb, b) };
    *r = (persona_alias_result)PERSONA_ALIAS_RESULT_INIT;
    double t0 = bench_now();
    int rc = persona_store_alias(r, s, ids, 2, at, "bench");
    double t = bench_now() - t0;
    if (rc != PERSONA_OK)
        die("alias");
    return t * 1e9;
}

/* One round of cookies: a new cookie "ck<user>-<round>" aliased to each user of the pool
 * (the key stays the root: nothing is replayed). Returns the links made. */
static size_t cookie_round(persona_store *s, char (*keys)[KEYLEN], const uint32_t *pool, size_t n,
                           size_t round, int64_t at, series *timed)
{
    char cookie[64];
    persona_alias_result r;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = pool[i];
        snprintf(cookie, sizeof cookie, "ck%u-%zu", u + 1, round);
        double ns = alias2(s, PERSONA_ID_KEY, keys[u], PERSONA_ID_COOKIE, cookie, at, &r);
        if (r.added != 1)
            die("cookie alias: not added");
        add(timed, ns, r.events_replayed);
    }
    return n;
}

static double unmerge1(persona_store *s, const char *key, uint32_t *parts)
{
    persona_identifier id = PERSONA_IDENTIFIER(PERSONA_ID_KEY, key);
    double t0 = bench_now();
    int rc = persona_store_unmerge(parts, s, &id);
    double t = bench_now() - t0;
    if (rc != PERSONA_OK)
        die("unmerge");
    return t * 1e9;
}

static void shuffle_u32(uint32_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = bench_next_u64() % i;
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t users = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
    size_t pairs = argc > 3 ? strtoull(argv[3], NULL, 10) : 2000;
    if (n < 10000 || users < 100 || users > n) {
        fprintf(stderr, "usage: bench_alias [EVENTS >= 10000] [USERS <= EVENTS] [PAIRS]\n");
        return 2;
    }
    for (int c = 0; c < N_CATS; c++)
        snprintf(cats[c], sizeof cats[c], "cat%02d", c);

    /* Heavy tiers: profiles of exactly `events` events, `ops` merges into each. */
    struct tier {
        size_t events, profiles, ops, first;
        int on;
        series s;
    } tiers[] = { { .events = 1000, .profiles = 20, .ops = 25 },
                  { .events = 10000, .profiles = 5, .ops = 40 },
                  { .events = 100000, .profiles = 1, .ops = 50 } };
    const size_t n_tiers = sizeof tiers / sizeof *tiers;
    size_t planted = 0, n_heavy = 0;
    for (size_t t = 0; t < n_tiers; t++) {
        tiers[t].on = tiers[t].events * tiers[t].profiles <= n / 10;
        if (!tiers[t].on)
            continue;
        tiers[t].first = users + n_heavy;
        n_heavy += tiers[t].profiles;
        planted += tiers[t].events * tiers[t].profiles;
    }
    size_t all_users = users + n_heavy;
    char(*keys)[KEYLEN] = malloc(all_users * KEYLEN);
    uint32_t *orders = calloc(all_users, sizeof *orders);
    uint32_t *count = calloc(all_users, sizeof *count);
    uint32_t *who = malloc(n * sizeof *who);
    if (!keys || !orders || !count || !who)
        die("out of memory");
    for (size_t u = 0; u < users; u++)
        snprintf(keys[u], KEYLEN, "%zu", u + 1);
    for (size_t t = 0, k = 0; t < n_tiers; t++)
        for (size_t h = 0; tiers[t].on && h < tiers[t].profiles; h++, k++)
            snprintf(keys[users + k], KEYLEN, "heavy%zu-%zu", tiers[t].events, h);

    /* Who each event belongs to: the planted counts exactly, the rest power law; shuffled. */
    size_t w = 0;
    for (size_t t = 0; t < n_tiers; t++)
        for (size_t h = 0; tiers[t].on && h < tiers[t].profiles; h++)
            for (size_t e = 0; e < tiers[t].events; e++)
                who[w++] = (uint32_t)(tiers[t].first + h);
    for (; w < n; w++) {
        size_t u = (size_t)((double)users * pow(bench_next_unit(), 3.0));
        who[w] = (uint32_t)(u < users ? u : users - 1);
    }
    shuffle_u32(who, n);
    for (size_t i = 0; i < n; i++)
        count[who[i]]++;
    const int64_t t_start = 1672531200000LL;
    stream base;
    make_stream(&base, who, n, keys, orders, t_start);

    /* The pools the operations draw from (disjoint). */
    uint32_t *email_pool = malloc(users * sizeof(uint32_t)),
             *cookie_pool = malloc(users * sizeof(uint32_t)),
             *pair_pool = malloc(users * sizeof(uint32_t)),
             *light_pool = malloc(users * sizeof(uint32_t));
    size_t n_email = 0, n_cookie = 0, n_pair = 0, n_light = 0;
    if (!email_pool || !cookie_pool || !pair_pool || !light_pool)
        die("out of memory");
    for (uint32_t u = 0; u < users; u++) {
        if (!count[u])
            continue;
        if (u % 10 < 3)
            email_pool[n_email++] = u;
        else if (u % 10 < 5)
            cookie_pool[n_cookie++] = u;
        else if (count[u] >= 8 && count[u] <= 12)
            pair_pool[n_pair++] = u;
        else if (count[u] <= 2)
            light_pool[n_light++] = u;
    }
    shuffle_u32(pair_pool, n_pair);
    shuffle_u32(light_pool, n_light);
    if (pairs > n_pair / 2)
        pairs = n_pair / 2;
    size_t lights_needed = 0;
    for (size_t t = 0; t < n_tiers; t++)
        lights_needed += tiers[t].on ? tiers[t].profiles * tiers[t].ops : 0;
    if (lights_needed > n_light)
        die("too few light users for the heavy merges (more USERS)");

    /* Three stores from the same events: S gets the email links and the operations, C the
     * same users linked to cookies (roots unchanged, nothing replayed), U stays unlinked. */
    persona_store *st[3] = { NULL, NULL, NULL }; /* U, C, S */
    double build[3];
    for (int k = 0; k < 3; k++) {
        if (persona_store_new(&st[k], NULL) != PERSONA_OK)
            die("store");
        build[k] = ingest_all(st[k], &base);
    }
    persona_store *S = st[2], *C = st[1];
    persona_store_info info0 = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info0, S);

    int64_t at = t_start + (int64_t)n * 6000;
    size_t links = 0; /* entries in S's merge log */
    persona_alias_result r;
    char a[KEYLEN + 32];

    /* 1. a new email for 30 % of the users: the profile moves to the email. */
    series email = { .name = "alias new email to a user (profile moves, replays)", .tag = "email" };
    for (size_t i = 0; i < n_email; i++) {
        uint32_t u = email_pool[i];
        snprintf(a, sizeof a, "user%u@example.com", u + 1);
        double ns = alias2(S, PERSONA_ID_KEY, keys[u], PERSONA_ID_EMAIL, a, at, &r);
        if (r.added != 1 || r.events_replayed != count[u])
            die("email alias: not added, or not every event replayed");
        add(&email, ns, r.events_replayed);
        links++;
    }

    char a2[KEYLEN + 32];
    for (size_t i = 0; i < n_email; i++) { /* the same users get a cookie in C */
        persona_identifier ids[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, keys[email_pool[i]]),
                                      PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, a2) };
        snprintf(a2, sizeof a2, "ck%u-x", email_pool[i] + 1);
        if (persona_store_alias(NULL, C, ids, 2, at, "bench") != PERSONA_OK)
            die("alias");
    }

    /* Ingest: the same further events into U, C and S, batch by batch, rotating which store
     * goes first. Per store: total time and the slowest batch. */
    size_t m = n / 2;
    uint32_t *who2 = malloc(m * sizeof *who2);
    if (!who2)
        die("out of memory");
    for (size_t i = 0; i < m; i++) {
        size_t u = (size_t)((double)users * pow(bench_next_unit(), 3.0));
        who2[i] = (uint32_t)(u < users ? u : users - 1);
    }
    stream more;
    make_stream(&more, who2, m, keys, orders, at + 6000);
    double t_in[3] = { 0, 0, 0 }, t_max[3] = { 0, 0, 0 };
    for (size_t i = 0, k = 0; i < m; i += BATCH, k++) {
        size_t b = m - i < BATCH ? m - i : BATCH;
        for (size_t j = 0; j < 3; j++) {
            size_t x = (k + j) % 3;
            double t = ingest_batch(st[x], more.ev + i, b);
            t_in[x] += t;
            if (t > t_max[x])
                t_max[x] = t;
        }
    }
    double t_unlinked = t_in[0], t_cookie = t_in[1], t_linked = t_in[2];
    double ingest_ns = t_unlinked * 1e9 / (double)m; /* the reference */
    at = more.ev[m - 1].time_ms + 6000;

    /* 1b. first round of cookies (more rounds after 4a). */
    series cookie = { .name = "alias new cookie to a user (no move, no replay)", .tag = "cookie" };
    links += cookie_round(S, keys, cookie_pool, n_cookie, 0, at, &cookie);

    /* 2. merges of two ~10-event users. */
    series pair = { .name = "merge two users (8-12 events each)", .tag = "pair" };
    for (size_t i = 0; i < pairs; i++) {
        uint32_t x = pair_pool[2 * i], y = pair_pool[2 * i + 1];
        double ns = alias2(S, PERSONA_ID_KEY, keys[x], PERSONA_ID_KEY, keys[y], at, &r);
        if (r.merged != 1)
            die("pair merge: not merged");
        add(&pair, ns, r.events_replayed);
        links++;
    }
    if (pairs) { /* the merged profile has both users' events */
        persona_profile_info pi = PERSONA_PROFILE_INFO_INIT;
        uint32_t x = pair_pool[0], y = pair_pool[1];
        uint64_t want = count[x] + count[y];
        for (size_t i = 0; i < m; i++)
            want += who2[i] == x || who2[i] == y;
        if (persona_store_profile_get(&pi, S, keys[y]) != PERSONA_OK || pi.events != want)
            die("pair merge: wrong event count");
    }

    /* 3. light users into heavy profiles. */
    size_t light = 0;
    for (size_t t = 0; t < n_tiers; t++) {
        if (!tiers[t].on)
            continue;
        static char names[3][64], tags[3][24];
        snprintf(names[t], sizeof names[t], "merge 1-2 event user into %zu-event profile",
                 tiers[t].events);
        snprintf(tags[t], sizeof tags[t], "heavy%zu", tiers[t].events);
        tiers[t].s.name = names[t];
        tiers[t].s.tag = tags[t];
        for (size_t op = 0; op < tiers[t].ops; op++)
            for (size_t h = 0; h < tiers[t].profiles; h++) {
                uint32_t x = (uint32_t)(tiers[t].first + h), y = light_pool[light++];
                double ns = alias2(S, PERSONA_ID_KEY, keys[x], PERSONA_ID_KEY, keys[y], at, &r);
                if (r.merged != 1 || r.events_replayed < tiers[t].events)
                    die("heavy merge: not merged");
                add(&tiers[t].s, ns, r.events_replayed);
                links++;
            }
    }

    /* 4a. unmerge half the pairs with the merge log as it is. */
    series unm_short = { .tag = "unmerge_short", .no_replay_count = 1 },
           unm_long = { .tag = "unmerge_long", .no_replay_count = 1 };
    char name_short[96], name_long[96];
    size_t links_short = links;
    uint32_t parts = 0;
    for (size_t i = 0; i < pairs / 2; i++) {
        add(&unm_short, unmerge1(S, keys[pair_pool[2 * i + 1]], &parts), 0);
        if (parts != 2)
            die("unmerge: not 2 parts");
    }
    /* 1b continued: more cookie rounds grow the merge log. */
    for (size_t round = 1; round < COOKIE_ROUNDS; round++)
        links += cookie_round(S, keys, cookie_pool, n_cookie, round, at, &cookie);
    /* 4b. the other half with the longer log. */
    size_t links_long = links;
    for (size_t i = pairs / 2; i < pairs; i++) {
        add(&unm_long, unmerge1(S, keys[pair_pool[2 * i + 1]], &parts), 0);
        if (parts != 2)
            die("unmerge: not 2 parts");
    }
    snprintf(name_short, sizeof name_short, "unmerge a 2-identifier profile (log %zu links)",
             links_short);
    snprintf(name_long, sizeof name_long, "unmerge a 2-identifier profile (log %zu links)",
             links_long);
    unm_short.name = name_short;
    unm_long.name = name_long;

    /* 5. resolve random keys and emails, in batches of 100. */
    series resolve = { .name = "resolve an identifier (key or email)", .tag = "resolve",
                       .no_replay_count = 1 };
    {
        enum { PER = 100, BATCHES = 10000 };
        static char q[PER][KEYLEN + 32];
        char buf[PERSONA_MAX_KEY_LEN + 1];
        for (size_t k = 0; k < BATCHES; k++) {
            for (size_t j = 0; j < PER; j++) {
                uint64_t rr = bench_next_u64();
                uint32_t u = (uint32_t)(rr % users);
                while (!count[u])
                    u = (u + 1) % (uint32_t)users;
                if ((rr >> 40) % 4 == 0 && u % 10 < 3)
                    snprintf(q[j], sizeof q[j], "user%u@example.com", u + 1);
                else
                    snprintf(q[j], sizeof q[j], "%s", keys[u]);
            }
            double t0 = bench_now();
            for (size_t j = 0; j < PER; j++)
                if (persona_store_resolve(buf, sizeof buf, NULL, S, q[j]) != PERSONA_OK)
                    die("resolve");
            add(&resolve, (bench_now() - t0) * 1e9 / PER, 0);
        }
    }
    persona_store_info info1 = PERSONA_STORE_INFO_INIT;
    persona_store_info_get(&info1, S);

    /* The table. */
    series *rows[16];
    size_t n_rows = 0;
    rows[n_rows++] = &email;
    rows[n_rows++] = &cookie;
    rows[n_rows++] = &pair;
    for (size_t t = 0; t < n_tiers; t++)
        if (tiers[t].on)
            rows[n_rows++] = &tiers[t].s;
    rows[n_rows++] = &unm_short;
    rows[n_rows++] = &unm_long;
    rows[n_rows++] = &resolve;
    printf("bench_alias: %zu events, %zu users (+%zu heavy, %zu planted events), store of "
           "%llu profiles; %zu + %zu further events for ingest\n",
           n, users, n_heavy, planted, (unsigned long long)info0.users, m, m);
    printf("ingest from empty, 3 stores: %.2f / %.2f / %.2f M events/s\n", (double)n / build[0] / 1e6,
           (double)n / build[1] / 1e6, (double)n / build[2] / 1e6);
    static const char *const how[3] = { "unlinked", "30% of users linked to a cookie (roots unchanged)",
                                        "30% of users linked to an email (profiles moved)" };
    printf("ingest of %zu further events in batches of %d:\n", m, BATCH);
    for (int k = 0; k < 3; k++)
        printf("  %-50s %.2f M events/s, time / unlinked %.3f, slowest batch %.1f ms\n", how[k],
               (double)m / t_in[k] / 1e6, t_in[k] / t_unlinked, t_max[k] * 1e3);
    printf("reference (unlinked): %.0f ns per ingested event\n", ingest_ns);
    printf("\n| operation | ops | median | p99 | mean | events replayed / op | mean ns / replayed "
           "event | median = ingest of N events |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n_rows; i++) {
        series *s = rows[i];
        summarize(s);
        char md[32], p99[32], mean[32], per[32] = "—", reps[32] = "—";
        fmt_ns(md, sizeof md, s->median);
        fmt_ns(p99, sizeof p99, s->p99);
        fmt_ns(mean, sizeof mean, s->mean);
        double rep = s->replayed / (double)(s->n ? s->n : 1);
        if (s->replayed > 0)
            snprintf(per, sizeof per, "%.0f", s->mean / rep);
        if (!s->no_replay_count)
            snprintf(reps, sizeof reps, "%.1f", rep);
        printf("| %s | %zu | %s | %s | %s | %s | %s | %.1f |\n", s->name, s->n, md, p99, mean,
               reps, per, s->median / ingest_ns);
    }
    printf("\nstore memory: %.1f MB after ingest, %.1f MB at the end (profiles %.1f -> %.1f MB)\n",
           (double)info0.bytes_total / 1e6, (double)info1.bytes_total / 1e6,
           (double)info0.bytes_profiles / 1e6, (double)info1.bytes_profiles / 1e6);

    printf("{\"workload\":\"alias\",\"events\":%zu,\"users\":%zu,\"ingest_ns_per_event\":%.1f,"
           "\"ingest_cookie_over_unlinked\":%.3f,\"ingest_email_over_unlinked\":%.3f,"
           "\"slowest_batch_ms\":[%.1f,%.1f,%.1f]",
           n, users, ingest_ns, t_cookie / t_unlinked, t_linked / t_unlinked, t_max[0] * 1e3,
           t_max[1] * 1e3, t_max[2] * 1e3);
    for (size_t i = 0; i < n_rows; i++)
        printf(",\"%s_ops\":%zu,\"%s_median_ns\":%.0f,\"%s_p99_ns\":%.0f,\"%s_mean_ns\":%.0f",
               rows[i]->tag, rows[i]->n, rows[i]->tag, rows[i]->median, rows[i]->tag,
               rows[i]->p99, rows[i]->tag, rows[i]->mean);
    printf("}\n");

    for (int k = 0; k < 3; k++)
        persona_store_free(st[k]);
    free_stream(&base);
    free_stream(&more);
    for (size_t i = 0; i < n_rows; i++)
        free(rows[i]->ns);
    free(keys), free(orders), free(count), free(who), free(who2);
    free(email_pool), free(cookie_pool), free(pair_pool), free(light_pool);
    return 0;
}
