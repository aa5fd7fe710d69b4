/* persona_store_save / persona_store_open: a store after save and open equals the store
 * before (every export, every profile, the info counts) and keeps behaving the same under
 * further ingest (dedup ids, sessions, chains rebuilt); damaged files are refused. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/crc32c.h"
#include "file_check.h"
#include "store_check.h"

static char dir[64];

static const char *path_in_dir(const char *name)
{
    static char buf[4][128];
    static int next;
    char *p = buf[next++ & 3];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

/* Everything observable (store_check.h). */
static void check_same(const persona_store *a, const persona_store *b)
{
    persona_free(check_same_store(a, b));
}

/* Every kind of state: more than the inline event types, orders, items, properties
 * (category engagement and last values), events out of order (sessions recounted), ids
 * for deduplication, attributes of every type (one removed), consent, a user with
 * attributes only. */
static persona_store *rich_store(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.session_gap_ms = 600000;
    o.decay_half_life_ms = 3600000;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, &o), PERSONA_OK);
    static const char *types[] = { "view", "add", "buy", "share", "refund" };
    const char *pn[] = { "category", "referrer", "country" };
    const char *pv[][3] = { { "shoes", "google", "FR" }, { "hats", NULL, "DE" },
                            { NULL, "mail", NULL } };
    char user[16], id[16], item[16], basket[16];
    for (int i = 0; i < 300; i++) {
        snprintf(user, sizeof user, "user-%d", i % 37);
        snprintf(id, sizeof id, "id-%d", i);
        snprintf(item, sizeof item, "sku-%d", i % 11);
        snprintf(basket, sizeof basket, "order-%d", i % 23);
        /* every 7th event is older than the ones before it */
        int64_t t = 1700000000000 + (int64_t)i * 400000 - (i % 7 == 0 ? 5000000 : 0);
        persona_event e = ev(user, t, types[i % 5], i % 3 ? (double)i * 0.25 : NAN);
        e.item = item;
        if (i % 4 == 0)
            e.basket = basket;
        if (i % 2 == 0)
            e.event_id = id;
        e.prop_names = pn;
        e.prop_values = pv[i % 3];
        e.n_props = 3;
        CHECK_RC(persona_store_ingest(NULL, s, &e, 1, NULL), PERSONA_OK);
    }
    CHECK_RC(persona_store_attr_set_num(s, "user-1", "ltv", 12.5), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "user-1", "name", "Zoë"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "user-1", "nick", ""), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_bool(s, "user-2", "vip", 1), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_time(s, "user-2", "signup", 1600000000000), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_null(s, "user-3", "phone"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "user-3", "gone", "x"), PERSONA_OK);
    CHECK_RC(persona_store_attr_remove(s, "user-3", "gone"), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "crm-only", "segment", "gold"), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "user-1", "marketing", 1, 1700000000000), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "user-4", "analytics", 0, 1700000001000), PERSONA_OK);
    CHECK_RC(persona_store_set_tracking(s, "user-7", 0), PERSONA_OK); /* saved as a flag */
    /* The identity graph: a merge of two users with events, an added email, a blocked
     * link, an undone one, host settings and event rules (the identity sections). */
    CHECK_RC(persona_store_identity_country(s, "33"), PERSONA_OK);
    CHECK_RC(persona_store_identity_block(s, "nobody@x.org"), PERSONA_OK);
    CHECK_RC(persona_store_identity_limit(s, PERSONA_ID_PHONE, 1), PERSONA_OK);
    CHECK_RC(persona_store_identity_priority(s, 120, 7), PERSONA_OK);
    CHECK_RC(persona_store_identify_rule(s, "login", "email", PERSONA_ID_EMAIL), PERSONA_OK);
    CHECK_RC(persona_store_consent_rule(s, "optin", "purpose", "granted"), PERSONA_OK);
    persona_identifier link[3] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "user-5"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_KEY, "user-6"),
                                   PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "Five@X.org") };
    CHECK_RC(persona_store_alias(NULL, s, link, 3, 1700000002000, "crm"), PERSONA_OK);
    persona_identifier blocked[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "user-8"),
                                      PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "nobody@x.org") };
    CHECK_RC(persona_store_alias(NULL, s, blocked, 2, 1700000003000, NULL), PERSONA_OK);
    persona_identifier undone[2] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "user-9"),
                                     PERSONA_IDENTIFIER(PERSONA_ID_PHONE, "06 12 34 56 78") };
    CHECK_RC(persona_store_alias(NULL, s, undone, 2, 1700000004000, NULL), PERSONA_OK);
    CHECK_RC(persona_store_unmerge(NULL, s, &undone[1]), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_num(s, "user-6", "ltv", 3), PERSONA_OK);
    return s;
}

static persona_store *save_and_open(const persona_store *s, const char *name)
{
    const char *p = path_in_dir(name);
    CHECK_RC(persona_store_save(s, p), PERSONA_OK);
    persona_store *t = NULL;
    CHECK_RC(persona_store_open(&t, p), PERSONA_OK);
    return t;
}

static void test_round_trip(void)
{
    persona_store *s = rich_store();
    persona_store *t = save_and_open(s, "rich.snap");
    if (!t) {
        persona_store_free(s);
        return;
    }
    check_same(s, t);

    /* The rebuilt store behaves the same: a known id is a duplicate, a new event joins
     * the user's chain (sessions recounted from it), new users and types work. */
    persona_event more[4] = { ev("user-5", 1700000000000 - 1000, "view", 1),
                              ev("user-5", 1800000000000, "wishlist", NAN),
                              ev("new-user", 1700000500000, "buy", 3),
                              ev("user-6", 1700000600000, "add", 2) };
    more[3].event_id = "id-6"; /* ingested before */
    persona_ingest_stats sa, sb;
    persona_ingest_stats_init(&sa, sizeof sa);
    persona_ingest_stats_init(&sb, sizeof sb);
    CHECK_RC(persona_store_ingest(&sa, s, more, 4, NULL), PERSONA_OK);
    CHECK_RC(persona_store_ingest(&sb, t, more, 4, NULL), PERSONA_OK);
    CHECK(sa.events_accepted == 3 && sb.events_accepted == 3);
    CHECK(sb.rejected[PERSONA_REJECT_DUPLICATE_ID] == 1);
    check_same(s, t);

    /* A second save of the opened store writes the same bytes. */
    const char *p1 = path_in_dir("a.snap"), *p2 = path_in_dir("b.snap");
    CHECK_RC(persona_store_save(s, p1), PERSONA_OK);
    CHECK_RC(persona_store_save(t, p2), PERSONA_OK);
    size_t l1 = 0, l2 = 0;
    uint8_t *b1 = read_file(p1, &l1), *b2 = read_file(p2, &l2);
    CHECK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0);
    free(b1);
    free(b2);
    persona_store_free(s);
    persona_store_free(t);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A file written before section 42 (the latest event of each profile's event types)
 * opens with those found again from the events: the saved file with that section turned
 * into an optional one this library does not know (skipped), its table and header CRCs
 * made right again. */
static void test_without_latest_events(void)
{
    persona_store *s = rich_store();
    const char *p = path_in_dir("latest.snap");
    CHECK_RC(persona_store_save(s, p), PERSONA_OK);
    size_t len = 0;
    uint8_t *b = read_file(p, &len);
    CHECK(b && len > 64);
    if (!b) {
        persona_store_free(s);
        return;
    }
    uint64_t table = (uint64_t)get_u32(b + 24) | (uint64_t)get_u32(b + 28) << 32;
    uint32_t n = get_u32(b + 32), patched = 0;
    CHECK(table + 32 * (uint64_t)n == len);
    for (uint32_t i = 0; i < n && table + 32 * (uint64_t)n == len; i++) {
        uint8_t *e = b + table + 32 * i;
        if (get_u32(e) == 42) {
            put_u32(e, 4242);
            put_u32(e + 4, 0);
            patched++;
        }
    }
    CHECK(patched == 1);
    put_u32(b + 36, persona__crc32c(0, b + table, 32 * (size_t)n));
    put_u32(b + 60, persona__crc32c(0, b, 60));
    const char *q = path_in_dir("old.snap");
    write_file(q, b, len);
    free(b);
    persona_store *t = NULL;
    CHECK_RC(persona_store_open(&t, q), PERSONA_OK);
    if (t)
        check_same(s, t); /* the profile exports show the time of every type's latest event */
    persona_store_free(t);
    persona_store_free(s);
}

static void test_empty(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    persona_store *t = save_and_open(s, "empty.snap");
    if (t) {
        check_same(s, t);
        persona_store_info info = PERSONA_STORE_INFO_INIT;
        CHECK_RC(persona_store_info_get(&info, t), PERSONA_OK);
        CHECK(info.users == 0 && info.events == 0);
    }
    persona_store_free(s);
    persona_store_free(t);
}

/* More events than one log chunk (65,536), and more property names than log columns (64):
 * the names past the 64th live only in the profiles' last values. */
static void test_big(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    enum { N = 150000, BATCH = 1000 };
    persona_event *e = calloc(BATCH, sizeof *e);
    char (*users)[16] = calloc(BATCH, 16);
    char names[70][8], vals[70][8];
    const char *pn[70], *pv[70];
    for (int k = 0; k < 70; k++) {
        snprintf(names[k], sizeof names[k], "p%d", k);
        snprintf(vals[k], sizeof vals[k], "v%d", k % 9);
        pn[k] = names[k];
        pv[k] = vals[k];
    }
    for (int i = 0; i < N; i += BATCH) {
        for (int j = 0; j < BATCH; j++) {
            int n = i + j;
            snprintf(users[j], 16, "u%d", (n * 7919) % 5003);
            e[j] = ev(users[j], 1600000000000 + (int64_t)n * 1000, n % 3 ? "view" : "buy",
                      n % 5 ? NAN : n * 0.5);
            if (n % 1000 == 0) { /* a few events carry all 70 properties */
                e[j].prop_names = pn;
                e[j].prop_values = pv;
                e[j].n_props = 70;
            }
        }
        CHECK_RC(persona_store_ingest(NULL, s, e, BATCH, NULL), PERSONA_OK);
    }
    free(e);
    free(users);
    persona_store *t = save_and_open(s, "big.snap");
    if (t) {
        check_same(s, t);
        char buf[16];
        CHECK_RC(persona_store_profile_last(buf, sizeof buf, NULL, NULL, t, "u0", "p69"), PERSONA_OK);
        CHECK_STR(buf, "v6");
    }
    persona_store_free(s);
    persona_store_free(t);
}

/* Damage: every bit flip in the first 4 KiB and every truncation of a small snapshot is
 * refused with ECORRUPT / EVERSION; never a store with other content. */
static void test_damage(void)
{
    persona_store *s = rich_store();
    const char *p = path_in_dir("small.snap"), *q = path_in_dir("damaged.snap");
    CHECK_RC(persona_store_save(s, p), PERSONA_OK);
    persona_store_free(s);
    size_t len = 0;
    uint8_t *orig = read_file(p, &len);
    CHECK(orig != NULL && len > 64);
    if (!orig)
        return;
    size_t flips = len < 4096 ? len : 4096, refused = 0, bad_code = 0;
    char *copy = malloc(len);
    for (size_t bit = 0; bit < flips * 8; bit++) {
        memcpy(copy, orig, len);
        copy[bit / 8] ^= (char)(1u << (bit % 8));
        write_file(q, copy, len);
        persona_store *t = NULL;
        int rc = persona_store_open(&t, q);
        if (rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION)
            refused++;
        else
            bad_code++;
        if (rc != PERSONA_ECORRUPT && rc != PERSONA_EVERSION && bad_code <= 3)
            fprintf(stderr, "flip of bit %zu: rc %d (%s)\n", bit, rc, persona_errmsg());
        persona_store_free(t);
    }
    CHECK(refused == flips * 8);
    size_t truncs_refused = 0;
    for (size_t n = 0; n < len; n++) {
        write_file(q, orig, n);
        persona_store *t = NULL;
        int rc = persona_store_open(&t, q);
        truncs_refused += rc == PERSONA_ECORRUPT;
        persona_store_free(t);
    }
    CHECK(truncs_refused == len);
    free(copy);
    free(orig);
}

static void test_errors(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_open(&s, path_in_dir("missing.snap")), PERSONA_EIO);
    CHECK_MSG("missing.snap");
    CHECK(s == NULL);
    CHECK_RC(persona_store_open(NULL, "x"), PERSONA_EINVAL);
    CHECK_RC(persona_store_open(&s, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_save(NULL, "x"), PERSONA_EINVAL);
    const char *text = path_in_dir("text.snap");
    write_file(text, "user_id,timestamp\nu1,2020-01-01\n", 32);
    CHECK_RC(persona_store_open(&s, text), PERSONA_ECORRUPT);
    CHECK_MSG("not a libpersona snapshot");
    persona_store *t = NULL;
    CHECK_RC(persona_store_new(&t, NULL), PERSONA_OK);
    CHECK_RC(persona_store_save(t, path_in_dir("no-such-dir/x.snap")), PERSONA_EIO);
    CHECK_MSG("no-such-dir");
    persona_store_free(t);
}

/* Nothing but the snapshots is left in the directory: no temporary files. */
static void check_no_temp_files(void)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        CHECK(strstr(e->d_name, ".tmp") == NULL);
        if (e->d_name[0] != '.') {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/persona-snap-XXXXXX", test_temp_dir());
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_without_latest_events();
    test_empty();
    test_big();
    test_damage();
    test_errors();
    check_no_temp_files();
    return check_report("test_snapshot");
}
