/* The identity graph: merge equivalence against one key receiving every event (random
 * streams, links at random points in any order), unmerge against the parts built alone
 * (components computed by brute force from the links that remain), every guard, the
 * merge log, attributes and consent across identifiers, normalization, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store_check.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static persona_store *new_store(void)
{
    return new_seeded_store(5);
}

/* A profile's JSON from "events" on: everything but its name and identifier list. */
static char *traits(const persona_store *s, const char *key)
{
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, key), PERSONA_OK);
    char *from = strstr(json, "\"events\":");
    CHECK(from != NULL);
    char *out = strdup(from);
    persona_free(json);
    return out;
}

static void check_same_traits(const persona_store *a, const char *ka, const persona_store *b,
                              const char *kb)
{
    char *x = traits(a, ka), *y = traits(b, kb);
    if (strcmp(x, y) != 0)
        fprintf(stderr, "traits differ:\n  %s\n  %s\n", x, y);
    CHECK(strcmp(x, y) == 0);
    free(x);
    free(y);
}

#define MAX_EVENTS 400
#define MAX_KEYS 6

typedef struct stream {
    persona_event ev[MAX_EVENTS];
    const char *pn[MAX_EVENTS][2], *pv[MAX_EVENTS][2];
    char basket[MAX_EVENTS][16];
    int key[MAX_EVENTS]; /* which identifier the event comes through */
    size_t n;
} stream;

static const char *keys[MAX_KEYS] = { "cust-1", "a@x.org", "cookie-a", "cookie-b", "dev-1",
                                      "dev-2" };
static const int32_t key_types[MAX_KEYS] = { PERSONA_ID_CUSTOMER, PERSONA_ID_EMAIL,
                                             PERSONA_ID_COOKIE,   PERSONA_ID_COOKIE,
                                             PERSONA_ID_KEY,      PERSONA_ID_HOST };

/* Random events: times out of order now and then, values (some absent), baskets, a
 * category and a country property. */
static void make_stream(stream *st, size_t n, int k)
{
    static const char *types[] = { "view", "add", "buy", "share", "search" };
    static const char *cats[] = { "shoes", "hats", "bags" };
    static const char *countries[] = { "FR", "DE", "ES" };
    st->n = n;
    int64_t t = 1700000000000;
    for (size_t i = 0; i < n; i++) {
        persona_event *e = &st->ev[i];
        *e = ev(NULL, 0, NULL, 0);
        t += (int64_t)(rnd() % 4000000);
        e->time_ms = rnd() % 7 == 0 ? t - (int64_t)(rnd() % 90000000) : t;
        e->type = types[rnd() % 5];
        e->value = rnd() % 3 == 0 ? 0 : (double)(rnd() % 10000) / 100.0;
        if (rnd() % 4 == 0) {
            snprintf(st->basket[i], sizeof st->basket[i], "o%d", (int)(rnd() % 20));
            e->basket = st->basket[i];
        }
        size_t np = 0;
        if (rnd() % 2) {
            st->pn[i][np] = "category";
            st->pv[i][np++] = cats[rnd() % 3];
        }
        if (rnd() % 3 == 0) {
            st->pn[i][np] = "country";
            st->pv[i][np++] = countries[rnd() % 3];
        }
        e->prop_names = st->pn[i];
        e->prop_values = st->pv[i];
        e->n_props = np;
        st->key[i] = (int)(rnd() % (uint64_t)k);
    }
}

static void ingest_one(persona_store *s, persona_event e, const char *user)
{
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    e.user = user;
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
}

static void link2(persona_store *s, int a, int b, persona_alias_result *r)
{
    persona_identifier ids[2] = { PERSONA_IDENTIFIER(key_types[a], keys[a]),
                                  PERSONA_IDENTIFIER(key_types[b], keys[b]) };
    CHECK_RC(persona_store_alias(r, s, ids, 2, 1700000000000, "test"), PERSONA_OK);
}

static int uf_find(int *p, int i)
{
    while (p[i] != i)
        i = p[i];
    return i;
}

/* Split a stream over k identifiers, link them by a random spanning tree at random points
 * of the stream, and compare with one key; then unmerge one identifier and compare every
 * part with its events alone. */
static void merge_equivalence_trial(int trial)
{
    static stream st;
    int k = 2 + trial % (MAX_KEYS - 1);
    make_stream(&st, 50 + rnd() % (MAX_EVENTS - 50), k);
    /* Spanning tree edges: each key i > 0 linked to a random earlier one, at a random
     * point of the stream, in random order. */
    int edge_a[MAX_KEYS], edge_at[MAX_KEYS];
    for (int i = 1; i < k; i++) {
        edge_a[i] = (int)(rnd() % (uint64_t)i);
        edge_at[i] = (int)(rnd() % (st.n + 1));
    }
    persona_store *one = new_store(), *many = new_store();
    int linked = 0;
    for (size_t i = 0; i <= st.n; i++) {
        for (int j = 1; j < k; j++)
            if (edge_at[j] == (int)i) {
                persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
                link2(many, edge_a[j], j, &r);
                CHECK(r.blocked == 0 && r.merged + r.added == 1);
                linked++;
            }
        if (i == st.n)
            break;
        ingest_one(one, st.ev[i], "P");
        ingest_one(many, st.ev[i], keys[st.key[i]]);
    }
    CHECK(linked == k - 1);
    /* Every identifier reaches the same profile, named after the customer id. */
    char name[64];
    for (int i = 0; i < k; i++) {
        CHECK_RC(persona_store_resolve(name, sizeof name, NULL, many, keys[i]), PERSONA_OK);
        CHECK_STR(name, "cust-1");
        check_same_traits(many, keys[i], one, "P");
    }
    /* Unmerge one identifier: parts from the links left, by brute force. */
    int x = (int)(rnd() % (uint64_t)k);
    int parent[MAX_KEYS];
    for (int i = 0; i < k; i++)
        parent[i] = i;
    for (int j = 1; j < k; j++)
        if (edge_a[j] != x && j != x)
            parent[uf_find(parent, j)] = uf_find(parent, edge_a[j]);
    int parts = 0;
    for (int i = 0; i < k; i++)
        parts += uf_find(parent, i) == i;
    persona_identifier id = PERSONA_IDENTIFIER(key_types[x], keys[x]);
    uint32_t got_parts = 0;
    CHECK_RC(persona_store_unmerge(&got_parts, many, &id), PERSONA_OK);
    CHECK(got_parts == (uint32_t)parts);
    for (int c = 0; c < k; c++) {
        if (uf_find(parent, c) != c)
            continue;
        /* The part's events alone, under one key; parts without events have none. */
        persona_store *alone = new_store();
        int has = 0;
        for (size_t i = 0; i < st.n; i++)
            if (uf_find(parent, st.key[i]) == c) {
                ingest_one(alone, st.ev[i], "P");
                has = 1;
            }
        for (int i = 0; i < k; i++) {
            if (uf_find(parent, i) != c)
                continue;
            if (has) {
                check_same_traits(many, keys[i], alone, "P");
            } else {
                persona_profile_info info = PERSONA_PROFILE_INFO_INIT;
                CHECK_RC(persona_store_profile_get(&info, many, keys[i]), PERSONA_OK);
                CHECK(info.events == 0);
            }
        }
        persona_store_free(alone);
    }
    /* Link again: the merged profile is back. */
    for (int i = 0; i < k; i++)
        if (i != 0) {
            persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
            link2(many, 0, i, &r);
        }
    check_same_traits(many, keys[x], one, "P");
    persona_store_free(one);
    persona_store_free(many);
}

static void test_merge_equivalence(void)
{
    for (int trial = 0; trial < 60; trial++)
        merge_equivalence_trial(trial);
}

static char *merge_log(const persona_store *s, const char *user)
{
    char *log = NULL;
    CHECK_RC(persona_store_merge_log(&log, NULL, s, user), PERSONA_OK);
    return log;
}

static void test_guards(void)
{
    persona_store *s = new_store();
    ingest_one(s, ev(NULL, 1700000000000, "view", 1), "cookie-1");
    ingest_one(s, ev(NULL, 1700000001000, "view", 2), "cookie-2");
    /* Blocked values, the defaults and one a host adds, any case, with spaces. */
    const char *blocked[] = { "null", " Undefined", "0", "ANONYMOUS", "", "none", "nan",
                              "unknown", "test@example.com" };
    CHECK_RC(persona_store_identity_block(s, "Test@Example.com"), PERSONA_OK);
    for (size_t i = 0; i < sizeof blocked / sizeof *blocked; i++) {
        persona_identifier ids[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-1"),
                                      PERSONA_IDENTIFIER(i == 8 ? PERSONA_ID_EMAIL : PERSONA_ID_KEY,
                                                         blocked[i]) };
        persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
        CHECK_RC(persona_store_alias(&r, s, ids, 2, 1700000002000, "form"), PERSONA_OK);
        CHECK(r.outcome == PERSONA_LINK_BLOCKED_VALUE && r.blocked == 1 && r.merged == 0);
    }
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    CHECK_RC(persona_store_info_get(&info, s), PERSONA_OK);
    CHECK(info.users == 2); /* no blocked value became an identifier */
    char *log = merge_log(s, "cookie-1");
    CHECK(strstr(log, "\"outcome\":\"blocked-value\"") != NULL);
    CHECK(strstr(log, "\"id\":\"test@example.com\"") != NULL);
    CHECK(strstr(log, "\"source\":\"form\"") != NULL);
    persona_free(log);

    /* Per-type limit: one email per profile; the second is blocked, with the reason. */
    persona_identifier e1[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-1"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "one@x.org") };
    persona_identifier e2[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-1"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "two@x.org") };
    persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
    CHECK_RC(persona_store_alias(&r, s, e1, 2, 1700000003000, NULL), PERSONA_OK);
    CHECK(r.outcome == PERSONA_LINK_ADDED && r.added == 1);
    CHECK_RC(persona_store_alias(&r, s, e2, 2, 1700000004000, NULL), PERSONA_OK);
    CHECK(r.outcome == PERSONA_LINK_BLOCKED_LIMIT && r.blocked == 1 &&
          r.blocked_type == PERSONA_ID_EMAIL);
    CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, "two@x.org"), PERSONA_ENOTFOUND);
    /* ...also when two existing profiles would merge with an email each. */
    persona_identifier e3[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-2"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "three@x.org") };
    CHECK_RC(persona_store_alias(&r, s, e3, 2, 1700000005000, NULL), PERSONA_OK);
    CHECK(r.outcome == PERSONA_LINK_ADDED);
    persona_identifier join[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-1"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "cookie-2") };
    CHECK_RC(persona_store_alias(&r, s, join, 2, 1700000006000, NULL), PERSONA_OK);
    CHECK(r.outcome == PERSONA_LINK_BLOCKED_LIMIT && r.blocked_type == PERSONA_ID_EMAIL);
    persona_profile_info pi = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&pi, s, "cookie-1"), PERSONA_OK);
    CHECK(pi.events == 1);
    log = merge_log(s, NULL);
    CHECK(strstr(log, "\"outcome\":\"blocked-limit\",\"limit_type\":\"email\"") != NULL);
    persona_free(log);
    /* A host raises the limit: the same link merges. */
    CHECK_RC(persona_store_identity_limit(s, PERSONA_ID_EMAIL, 2), PERSONA_OK);
    CHECK_RC(persona_store_alias(&r, s, join, 2, 1700000007000, NULL), PERSONA_OK);
    CHECK(r.outcome == PERSONA_LINK_MERGED && r.events_replayed == 2);
    CHECK_RC(persona_store_profile_get(&pi, s, "three@x.org"), PERSONA_OK);
    CHECK(pi.events == 2);
    persona_store_free(s);

    /* Priority: a call links in priority order, so with a limit of one email the first
     * email given stays and the second is blocked; the customer id names the profile. */
    s = new_store();
    persona_identifier call[4] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "ck"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "first@x.org"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "second@x.org"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "C-9") };
    CHECK_RC(persona_store_alias(&r, s, call, 4, 1700000000000, NULL), PERSONA_OK);
    CHECK(r.added == 2 && r.blocked == 1 && r.blocked_type == PERSONA_ID_EMAIL);
    char name[32];
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "ck"), PERSONA_OK);
    CHECK_STR(name, "C-9");
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "first@x.org"), PERSONA_OK);
    CHECK_STR(name, "C-9");
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "second@x.org"), PERSONA_ENOTFOUND);
    /* A host priority puts the cookie first: it names the profile from the next link on. */
    CHECK_RC(persona_store_identity_priority(s, PERSONA_ID_COOKIE, 99), PERSONA_OK);
    persona_identifier more[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "ck"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "ck2") };
    CHECK_RC(persona_store_alias(&r, s, more, 2, 1700000000000, NULL), PERSONA_OK);
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "C-9"), PERSONA_OK);
    CHECK_STR(name, "ck");
    persona_store_free(s);
}

static void test_normalization_and_types(void)
{
    persona_store *s = new_store();
    CHECK_RC(persona_store_identity_country(s, "33"), PERSONA_OK);
    persona_identifier ids[3] = { PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "  Ann@Example.COM "),
                                  PERSONA_IDENTIFIER(PERSONA_ID_PHONE, "06 12 34 56 78"),
                                  PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, " ck-1 ") };
    persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
    CHECK_RC(persona_store_alias(&r, s, ids, 3, 1700000000000, NULL), PERSONA_OK);
    char name[64];
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "+33612345678"), PERSONA_OK);
    CHECK_STR(name, "ann@example.com");
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "ck-1"), PERSONA_OK);
    /* An event under the normalized email reaches the profile. */
    ingest_one(s, ev(NULL, 1700000000000, "view", 0), "ann@example.com");
    persona_profile_info pi = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&pi, s, "ck-1"), PERSONA_OK);
    CHECK(pi.events == 1);
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, "ck-1"), PERSONA_OK);
    CHECK(strstr(json, "\"user_id\":\"ann@example.com\",\"identifiers\":[") != NULL);
    CHECK(strstr(json, "{\"type\":\"phone\",\"id\":\"+33612345678\"}") != NULL);
    persona_free(json);
    /* The same value under another type is refused, nothing changed. */
    persona_identifier clash[2] = { PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "ck-1"),
                                    PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "other") };
    char *before = merge_log(s, NULL);
    CHECK_RC(persona_store_alias(&r, s, clash, 2, 1700000000000, NULL), PERSONA_EINVAL);
    CHECK_MSG("is a cookie, not a customer");
    char *after = merge_log(s, NULL);
    CHECK_STR(after, before);
    persona_free(after);
    /* Errors: invalid email, too few identifiers, NULLs, bad times and sources. */
    persona_identifier bad[2] = { PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "not-an-email"),
                                  PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "x") };
    CHECK_RC(persona_store_alias(&r, s, bad, 2, 1700000000000, NULL), PERSONA_EINVAL);
    CHECK_MSG("identifier 1: email");
    CHECK_RC(persona_store_alias(&r, s, ids, 1, 1700000000000, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_alias(&r, s, NULL, 2, 1700000000000, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_alias(&r, NULL, ids, 2, 1700000000000, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_alias(&r, s, ids, 2, PERSONA_TIME_MAX + 1, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_alias(&r, s, ids, 2, 1700000000000, ""), PERSONA_EINVAL);
    persona_identifier unset = { 0, PERSONA_ID_KEY, "x" };
    persona_identifier two[2] = { unset, ids[0] };
    CHECK_RC(persona_store_alias(&r, s, two, 2, 1700000000000, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_identity_country(s, "1234"), PERSONA_EINVAL);
    CHECK_RC(persona_store_identity_country(s, "4a"), PERSONA_EINVAL);
    CHECK_RC(persona_store_identity_limit(s, -1, 1), PERSONA_EINVAL);
    CHECK_RC(persona_store_identity_block(s, NULL), PERSONA_EINVAL);
    after = merge_log(s, NULL);
    CHECK_STR(after, before);
    persona_free(after);
    persona_free(before);
    persona_identifier nobody = PERSONA_IDENTIFIER(PERSONA_ID_KEY, "nobody");
    CHECK_RC(persona_store_unmerge(NULL, s, &nobody), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_merge_log(&json, NULL, s, "nobody"), PERSONA_ENOTFOUND);
    persona_store_free(s);
}

/* Attributes and consent stay with the identifier they were set through; through any
 * identifier the profile shows the one set last; unmerge gives each its own back. */
static void test_attributes_across_identifiers(void)
{
    persona_store *s = new_store();
    CHECK_RC(persona_store_attr_set_str(s, "a", "plan", "free"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "b", "plan", "gold"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_num(s, "a", "ltv", 3), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "a", "marketing", 1, 2000), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "b", "marketing", 0, 1000), PERSONA_OK);
    persona_identifier ab[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "a"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_KEY, "b") };
    CHECK_RC(persona_store_alias(NULL, s, ab, 2, 1700000000000, NULL), PERSONA_OK);
    char buf[32];
    CHECK_RC(persona_store_attr_get_str(buf, sizeof buf, NULL, s, "a", "plan"), PERSONA_OK);
    CHECK_STR(buf, "gold");
    double ltv = 0;
    CHECK_RC(persona_store_attr_get_num(&ltv, s, "b", "ltv"), PERSONA_OK);
    CHECK(ltv == 3);
    int32_t granted = -1;
    int64_t at = 0;
    CHECK_RC(persona_store_consent_get(&granted, &at, s, "b", "marketing"), PERSONA_OK);
    CHECK(granted == 1 && at == 2000); /* the later time wins, not the later call */
    persona_profile_info pi = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&pi, s, "b"), PERSONA_OK);
    CHECK(pi.attributes == 2);
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, "b"), PERSONA_OK);
    CHECK(strstr(json, "\"attributes\":{\"plan\":\"gold\",\"ltv\":3}") != NULL ||
          strstr(json, "\"attributes\":{\"ltv\":3,\"plan\":\"gold\"}") != NULL);
    CHECK(strstr(json, "\"consent\":{\"marketing\":{\"granted\":true") != NULL);
    persona_free(json);
    /* Setting through a, later, wins again. */
    CHECK_RC(persona_store_attr_set_str(s, "a", "plan", "silver"), PERSONA_OK);
    CHECK_RC(persona_store_attr_get_str(buf, sizeof buf, NULL, s, "b", "plan"), PERSONA_OK);
    CHECK_STR(buf, "silver");
    persona_identifier a = PERSONA_IDENTIFIER(PERSONA_ID_KEY, "a");
    uint32_t parts = 0;
    CHECK_RC(persona_store_unmerge(&parts, s, &a), PERSONA_OK);
    CHECK(parts == 2);
    CHECK_RC(persona_store_attr_get_str(buf, sizeof buf, NULL, s, "b", "plan"), PERSONA_OK);
    CHECK_STR(buf, "gold");
    CHECK_RC(persona_store_attr_get_num(&ltv, s, "b", "ltv"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_consent_get(&granted, &at, s, "b", "marketing"), PERSONA_OK);
    CHECK(granted == 0 && at == 1000);
    /* A removal through the merged profile removes every identifier's value. */
    CHECK_RC(persona_store_alias(NULL, s, ab, 2, 1700000000000, NULL), PERSONA_OK);
    CHECK_RC(persona_store_attr_remove(s, "b", "plan"), PERSONA_OK);
    CHECK_RC(persona_store_attr_get_str(buf, sizeof buf, NULL, s, "a", "plan"), PERSONA_ENOTFOUND);
    char *log = merge_log(s, "a");
    CHECK(strstr(log, "\"undone\":true") != NULL);
    persona_free(log);
    persona_store_free(s);
}

/* Opting out: a merge with an opted-out profile stays opted out, unmerge keeps it on
 * every part; events through any identifier are suppressed. */
static void test_tracking_across_identifiers(void)
{
    persona_store *s = new_store();
    ingest_one(s, ev(NULL, 1700000000000, "view", 0), "a");
    ingest_one(s, ev(NULL, 1700000000000, "view", 0), "b");
    CHECK_RC(persona_store_set_tracking(s, "b", 0), PERSONA_OK);
    persona_identifier ab[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "a"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_KEY, "b") };
    CHECK_RC(persona_store_alias(NULL, s, ab, 2, 1700000000000, NULL), PERSONA_OK);
    int32_t tracking = 1;
    CHECK_RC(persona_store_get_tracking(&tracking, s, "a"), PERSONA_OK);
    CHECK(tracking == 0);
    persona_event e = ev("a", 1700000001000, "view", 0);
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 0 && st.rejected[PERSONA_REJECT_SUPPRESSED] == 1);
    persona_identifier b = PERSONA_IDENTIFIER(PERSONA_ID_KEY, "b");
    CHECK_RC(persona_store_unmerge(NULL, s, &b), PERSONA_OK);
    CHECK_RC(persona_store_get_tracking(&tracking, s, "a"), PERSONA_OK);
    CHECK(tracking == 0);
    CHECK_RC(persona_store_set_tracking(s, "a", 1), PERSONA_OK);
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
    CHECK_RC(persona_store_get_tracking(&tracking, s, "b"), PERSONA_OK);
    CHECK(tracking == 0);
    persona_store_free(s);
}

static persona_event prop_event(const char *user, int64_t t, const char *type,
                                const char **names, const char **values, size_t n)
{
    persona_event e = ev(user, t, type, 0);
    e.prop_names = names;
    e.prop_values = values;
    e.n_props = n;
    return e;
}

/* identify events link exactly as persona_store_alias() does; consent events set consent;
 * bad ones are rejected by reason, strict mode fails on them; rules survive a snapshot. */
static void test_event_rules(void)
{
    persona_store *s = new_store(), *api = new_store();
    CHECK_RC(persona_store_identify_rule(s, "identify", "email", PERSONA_ID_EMAIL), PERSONA_OK);
    CHECK_RC(persona_store_identify_rule(s, "identify", "customer_id", PERSONA_ID_CUSTOMER),
             PERSONA_OK);
    CHECK_RC(persona_store_consent_rule(s, "consent", "purpose", "granted"), PERSONA_OK);
    CHECK_RC(persona_store_identify_rule(s, "identify", "email", PERSONA_ID_PHONE),
             PERSONA_EINVAL);
    CHECK_RC(persona_store_consent_rule(s, "consent", "p", "g"), PERSONA_EINVAL);
    CHECK_RC(persona_store_identify_rule(s, "identify", "x", -1), PERSONA_EINVAL);
    CHECK_RC(persona_store_identify_rule(NULL, "identify", "x", 1), PERSONA_EINVAL);
    const char *idn[2] = { "email", "customer_id" }, *idv[2] = { " Ann@X.org", "C1" };
    const char *cn[2] = { "purpose", "granted" }, *cv_yes[2] = { "marketing", "Yes" },
               *cv_no[2] = { "marketing", "opt-out" }, *cv_bad[2] = { "marketing", "maybe" };
    const char *bad_email[1] = { "nope" };
    persona_event batch[7] = {
        ev("ck-1", 1700000000000, "view", 3),
        ev("ck-2", 1700000001000, "view", 4),
        prop_event("ck-1", 1700000002000, "identify", idn, idv, 2),
        prop_event("ck-2", 1700000003000, "identify", idn, idv, 1),
        prop_event("ck-1", 1700000004000, "consent", cn, cv_yes, 2),
        prop_event("ck-2", 1700000005000, "identify", idn, bad_email, 1),
        prop_event("ck-1", 1700000006000, "consent", cn, cv_bad, 2),
    };
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, batch, 7, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 5 && st.rejected[PERSONA_REJECT_BAD_IDENTIFIER] == 1 &&
          st.rejected[PERSONA_REJECT_BAD_CONSENT] == 1);
    CHECK(st.example_lines[PERSONA_REJECT_BAD_IDENTIFIER][0] == 6 &&
          st.example_lines[PERSONA_REJECT_BAD_CONSENT][0] == 7);
    CHECK_STR(persona_reject_reason_name(PERSONA_REJECT_BAD_IDENTIFIER), "bad_identifier");
    CHECK_STR(persona_reject_reason_name(PERSONA_REJECT_BAD_CONSENT), "bad_consent");
    /* The same through the API: the links (a batch's links come before its events), then
     * the events that were stored. */
    persona_identifier l1[3] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "ck-1"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "ann@x.org"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "C1") };
    CHECK_RC(persona_store_alias(NULL, api, l1, 3, 1700000002000, "event:identify"), PERSONA_OK);
    CHECK_RC(persona_store_alias(NULL, api, l1 + 1, 1, 0, NULL), PERSONA_EINVAL);
    persona_identifier l2[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "ck-2"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "ann@x.org") };
    CHECK_RC(persona_store_alias(NULL, api, l2, 2, 1700000003000, "event:identify"), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(api, "ck-1", "marketing", 1, 1700000004000), PERSONA_OK);
    CHECK_RC(persona_store_ingest(NULL, api, batch, 5, NULL), PERSONA_OK);
    check_same_traits(s, "ck-2", api, "ck-2");
    char *la = merge_log(s, NULL), *lb = merge_log(api, NULL);
    CHECK_STR(la, lb);
    persona_free(la);
    persona_free(lb);
    int32_t granted = -1;
    int64_t at = 0;
    CHECK_RC(persona_store_consent_get(&granted, &at, s, "C1", "marketing"), PERSONA_OK);
    CHECK(granted == 1 && at == 1700000004000);
    /* The same identify events again (a second login, or a batch sent again after a
     * failure): nothing new in the merge log. */
    char *log_before = merge_log(s, NULL);
    CHECK_RC(persona_store_ingest(NULL, s, batch + 2, 2, NULL), PERSONA_OK);
    char *log_after = merge_log(s, NULL);
    CHECK_STR(log_after, log_before);
    persona_free(log_before);
    persona_free(log_after);
    /* A later "no" wins; strict mode fails on a bad one (the line named). */
    persona_event no = prop_event("ck-2", 1700000007000, "consent", cn, cv_no, 2);
    CHECK_RC(persona_store_ingest(NULL, s, &no, 1, NULL), PERSONA_OK);
    CHECK_RC(persona_store_consent_get(&granted, &at, s, "ck-1", "marketing"), PERSONA_OK);
    CHECK(granted == 0 && at == 1700000007000);
    persona_ingest_options strict = PERSONA_INGEST_OPTIONS_INIT;
    strict.flags = PERSONA_INGEST_STRICT;
    CHECK_RC(persona_store_ingest(NULL, s, &batch[5], 1, &strict), PERSONA_EPARSE);
    /* A strict batch refused by a later event makes none of its links and consent
     * settings: a bad field, a bad rule property or a duplicate event id on the last row
     * refuses the batch before the first row's consent or the second row's link. */
    const char *cv_grant[2] = { "newsletter", "yes" }, *fresh[1] = { "bo@x.org" };
    persona_event late_bad[3] = {
        prop_event("ck-5", 1700000010000, "consent", cn, cv_grant, 2),
        prop_event("ck-5", 1700000011000, "identify", idn, fresh, 1),
        ev("ck-5", 1700000012000, "view", 1),
    };
    char *merges_before = merge_log(s, NULL);
    for (int k = 0; k < 3; k++) {
        persona_event last = late_bad[2];
        if (k == 0)
            late_bad[2].type = ""; /* a bad field */
        else if (k == 1)
            late_bad[2] = prop_event("ck-5", 1700000012000, "consent", cn, cv_bad, 2);
        else
            late_bad[2].event_id = late_bad[1].event_id = "same-id"; /* a duplicate */
        persona_ingest_stats sst = PERSONA_INGEST_STATS_INIT;
        CHECK_RC(persona_store_ingest(&sst, s, late_bad, 3, &strict), PERSONA_EPARSE);
        uint64_t line = 0;
        persona_error_position(&line, NULL);
        CHECK(line == 3);
        CHECK_RC(persona_store_consent_get(&granted, &at, s, "ck-5", "newsletter"), PERSONA_ENOTFOUND);
        CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, "bo@x.org"), PERSONA_ENOTFOUND);
        char *merges_after = merge_log(s, NULL);
        CHECK_STR(merges_after, merges_before);
        persona_free(merges_after);
        late_bad[2] = last;
        late_bad[1].event_id = NULL;
    }
    persona_free(merges_before);
    /* The good batch goes in whole. */
    CHECK_RC(persona_store_ingest(NULL, s, late_bad, 3, &strict), PERSONA_OK);
    CHECK_RC(persona_store_consent_get(&granted, &at, s, "ck-5", "newsletter"), PERSONA_OK);
    CHECK(granted == 1);
    char root5[16];
    CHECK_RC(persona_store_resolve(root5, sizeof root5, NULL, s, "bo@x.org"), PERSONA_OK);
    /* An opted-out user's identify event links nothing (and is not stored). */
    CHECK_RC(persona_store_set_tracking(s, "ck-9", 0), PERSONA_OK);
    const char *other[1] = { "zed@x.org" };
    persona_event quiet = prop_event("ck-9", 1700000008000, "identify", idn, other, 1);
    CHECK_RC(persona_store_ingest(&st, s, &quiet, 1, NULL), PERSONA_OK);
    CHECK(st.rejected[PERSONA_REJECT_SUPPRESSED] == 1);
    CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, "zed@x.org"), PERSONA_ENOTFOUND);
    /* The rules are kept by a snapshot: the reopened store links the same way. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/persona-rules-%d.snap", (int)getpid());
    CHECK_RC(persona_store_save(s, path), PERSONA_OK);
    persona_store *o = NULL;
    CHECK_RC(persona_store_open(&o, path), PERSONA_OK);
    unlink(path);
    const char *third[1] = { "C3" };
    persona_event link3 = prop_event("ck-3", 1700000009000, "identify", idn + 1, third, 1);
    persona_store *both[2] = { s, o };
    for (int k = 0; k < 2; k++) {
        CHECK_RC(persona_store_ingest(NULL, both[k], &link3, 1, NULL), PERSONA_OK);
        char name[16];
        CHECK_RC(persona_store_resolve(name, sizeof name, NULL, both[k], "ck-3"), PERSONA_OK);
        CHECK_STR(name, "C3");
    }
    persona_free(check_same_store(s, o));
    persona_store_free(o);
    persona_store_free(s);
    persona_store_free(api);
}

/* Cases a review found: a type upgrade may not exceed a limit; erase drops a logged
 * value that later became the person's identifier; rule events that ingest rejects as
 * duplicates link nothing; events whose identifiers are all blocked log nothing. */
static void test_review_cases(void)
{
    persona_store *s = new_store();
    ingest_one(s, ev(NULL, 1000, "view", 1), "a@x.org");
    ingest_one(s, ev(NULL, 2000, "view", 1), "b@x.org");
    persona_identifier ab[2] = { PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "a@x.org"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_KEY, "b@x.org") };
    CHECK_RC(persona_store_alias(NULL, s, ab, 2, 1000, NULL), PERSONA_OK);
    persona_identifier up[2] = { PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "b@x.org"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "z1") };
    CHECK_RC(persona_store_alias(NULL, s, up, 2, 1000, NULL), PERSONA_OK);
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, "z1"), PERSONA_OK);
    CHECK(strstr(json, "{\"type\":\"key\",\"id\":\"b@x.org\"}") != NULL); /* one email */
    persona_free(json);
    persona_store_free(s);

    s = new_store();
    ingest_one(s, ev(NULL, 1000, "view", 1), "c1");
    persona_identifier p1[2] = { PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "c1"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "e1@x.org") };
    persona_identifier p2[2] = { PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "c1"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "victim@x.org") };
    persona_identifier p3[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "vc"),
                                 PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "victim@x.org") };
    CHECK_RC(persona_store_alias(NULL, s, p1, 2, 1000, NULL), PERSONA_OK);
    CHECK_RC(persona_store_alias(NULL, s, p2, 2, 1000, NULL), PERSONA_OK); /* blocked */
    CHECK_RC(persona_store_alias(NULL, s, p3, 2, 1000, NULL), PERSONA_OK);
    CHECK_RC(persona_store_erase(NULL, s, "victim@x.org"), PERSONA_OK);
    char *log = merge_log(s, NULL);
    CHECK(strstr(log, "victim") == NULL && strstr(log, "e1@x.org") != NULL);
    persona_free(log);
    persona_store_free(s);

    s = new_store();
    CHECK_RC(persona_store_identify_rule(s, "login", "email", PERSONA_ID_EMAIL), PERSONA_OK);
    CHECK_RC(persona_store_consent_rule(s, "consent", "purpose", "granted"), PERSONA_OK);
    const char *n1[1] = { "email" }, *v1[1] = { "first@x.org" }, *v2[1] = { "second@x.org" };
    const char *cn[2] = { "purpose", "granted" }, *yes[2] = { "ads", "yes" }, *no[2] = { "ads", "no" };
    persona_event dup[4] = { prop_event("u", 1000, "login", n1, v1, 1),
                             prop_event("w", 2000, "login", n1, v2, 1),
                             prop_event("u", 3000, "consent", cn, yes, 2),
                             prop_event("u", 4000, "consent", cn, no, 2) };
    dup[1].event_id = dup[0].event_id = "e-1";
    dup[3].event_id = dup[2].event_id = "e-2";
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, dup, 4, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 2 && st.rejected[PERSONA_REJECT_DUPLICATE_ID] == 2);
    CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, "second@x.org"), PERSONA_ENOTFOUND);
    int32_t granted = -1;
    CHECK_RC(persona_store_consent_get(&granted, NULL, s, "u", "ads"), PERSONA_OK);
    CHECK(granted == 1);
    /* a consent event repeating the id of an earlier event of another type: a duplicate */
    persona_event mixed[2] = { prop_event("v", 4500, "view", NULL, NULL, 0),
                               prop_event("x", 4600, "consent", cn, yes, 2) };
    mixed[1].event_id = mixed[0].event_id = "e-3";
    CHECK_RC(persona_store_ingest(&st, s, mixed, 2, NULL), PERSONA_OK);
    CHECK_RC(persona_store_consent_get(&granted, NULL, s, "x", "ads"), PERSONA_ENOTFOUND);
    const char *blocked[1] = { "undefined" };
    persona_event junk = prop_event("undefined", 5000, "login", n1, blocked, 1);
    for (int i = 0; i < 5; i++)
        CHECK_RC(persona_store_ingest(NULL, s, &junk, 1, NULL), PERSONA_OK);
    log = merge_log(s, NULL);
    CHECK(strstr(log, "undefined") == NULL);
    persona_free(log);
    /* Anonymizing drops an identifier an identify event carried as a property. */
    char anon[PERSONA_ANON_KEY_LEN + 1];
    CHECK_RC(persona_store_anonymize(anon, sizeof anon, NULL, NULL, s, "first@x.org"),
             PERSONA_OK);
    char *person = NULL;
    CHECK_RC(persona_store_export_profile(&person, NULL, s, anon), PERSONA_OK);
    CHECK(strstr(person, "first@x.org") == NULL && strstr(person, "\"login\"") != NULL);
    persona_free(person);
    persona_store_free(s);
}

int main(void)
{
    test_merge_equivalence();
    test_guards();
    test_normalization_and_types();
    test_attributes_across_identifiers();
    test_tracking_across_identifiers();
    test_event_rules();
    test_review_cases();
    return check_report("test_graph");
}
