/* persona_store_erase: the store after erasing a person equals a store that never saw
 * them (every export, every remaining person's full export, the info counts, and the
 * deduplication set), the person is gone everywhere, and no string of theirs (marked with
 * a unique marker) survives in the exports or in a snapshot, before or after reopening. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "store_check.h"

#define MARK "Qz7k" /* in every string only the erased person has */
#define VICTIM "victim-" MARK

static char dir[64];

static persona_store *new_store(void)
{
    return new_seeded_store(11);
}

/* How fill() treats the victim. */
enum { ALL, WITHOUT_VICTIM, VICTIM_ANONYMIZED };

/* A stream over 12 users, the victim among them (first to appear, so they introduce event
 * types, items, property names and values that others use later too). WITHOUT_VICTIM
 * leaves their events, attributes and consent out; VICTIM_ANONYMIZED gives them under the
 * key `anon` without event ids and string attributes. */
static void fill_as(persona_store *s, int mode, const char *anon)
{
    static const char *types[] = { "view", "add", "buy", "share" };
    const char *pn[] = { "category", "referrer", "secret" };
    char user[32], item[32], basket[32], id[32], cat[32], ref[32];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 600; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int v = i < 5 || x % 12 == 0; /* the victim's events: the first five, then 1 in 12 */
        if (v)
            snprintf(user, sizeof user, "%s", mode == VICTIM_ANONYMIZED ? anon : VICTIM);
        else
            snprintf(user, sizeof user, "user-%d", (int)(x % 11));
        persona_event e = PERSONA_EVENT_INIT;
        e.user = user;
        e.time_ms = 1700000000000 + (int64_t)((x >> 8) % 100000000);
        e.type = v && i == 2 ? "type-" MARK : types[x % 4];
        if (v && i % 2)
            snprintf(item, sizeof item, "item-" MARK "-%d", i);
        else
            snprintf(item, sizeof item, "sku-%d", (int)(x % 17));
        e.item = item;
        if (x % 3 == 0) {
            snprintf(basket, sizeof basket, v ? "order-" MARK "-%d" : "order-%d", (int)(x % 40));
            e.basket = basket;
        }
        if (x % 2 == 0 && !(v && mode == VICTIM_ANONYMIZED)) {
            snprintf(id, sizeof id, v ? "id-" MARK "-%d" : "id-%d", i);
            e.event_id = id;
        }
        e.value = x % 5 ? (double)(x % 1000) / 4 : NAN;
        snprintf(cat, sizeof cat, v && i == 0 ? "cat-" MARK : "cat-%d", (int)(x % 6));
        snprintf(ref, sizeof ref, "ref-%d", (int)(x % 4));
        const char *pv[3] = { cat, ref, "secret-" MARK };
        e.prop_names = pn;
        e.prop_values = pv;
        e.n_props = v ? 3 : 2;
        if (v && mode == WITHOUT_VICTIM)
            continue;
        CHECK_RC(persona_store_ingest(NULL, s, &e, 1, NULL), PERSONA_OK);
    }
    for (int u = 0; u < 11; u++) {
        snprintf(user, sizeof user, "user-%d", u);
        CHECK_RC(persona_store_attr_set_num(s, user, "ltv", u * 1.5), PERSONA_OK);
        if (u % 3 == 0)
            CHECK_RC(persona_store_consent_set(s, user, "marketing", u & 1, 1700000000000),
                     PERSONA_OK);
    }
    if (mode == ALL) {
        CHECK_RC(persona_store_attr_set_str(s, VICTIM, "name-" MARK, "Ann " MARK), PERSONA_OK);
        CHECK_RC(persona_store_attr_set_str(s, VICTIM, "email", "ann-" MARK "@example.com"),
                 PERSONA_OK);
    }
    if (mode != WITHOUT_VICTIM) {
        const char *key = mode == ALL ? VICTIM : anon;
        CHECK_RC(persona_store_attr_set_num(s, key, "score", 7.5), PERSONA_OK);
        CHECK_RC(persona_store_consent_set(s, key, "purpose-" MARK, 1, 1700000000000),
                 PERSONA_OK);
    }
}

static void fill(persona_store *s, const char *skip)
{
    fill_as(s, skip ? WITHOUT_VICTIM : ALL, NULL);
}

static char *export_of(const persona_store *s, int32_t format)
{
    char *out = NULL;
    CHECK_RC(persona_store_export_buffer(&out, NULL, s, format), PERSONA_OK);
    return out;
}

/* a and b hold the same (store_check.h); with no_marker, a's exports hold no marker. */
static void check_equal_as(const persona_store *a, const persona_store *b, int no_marker)
{
    char *csv = check_same_store(a, b), *jsonl = export_of(a, PERSONA_EXPORT_PROFILES_JSONL);
    CHECK(!no_marker || (csv && jsonl && !strstr(csv, MARK) && !strstr(jsonl, MARK)));
    persona_free(csv);
    persona_free(jsonl);
}

static void check_equal(const persona_store *a, const persona_store *b)
{
    check_equal_as(a, b, 1);
}

static void check_equal_full(const persona_store *a, const persona_store *b)
{
    check_equal_as(a, b, 0);
}

static int file_has_marker(const char *path)
{
    return file_contains(path, MARK);
}

static void test_equals_never_seen(void)
{
    persona_store *a = new_store(), *b = new_store();
    fill(a, NULL);
    fill(b, VICTIM);
    persona_profile_info pi = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&pi, a, VICTIM), PERSONA_OK);
    char before[256];
    snprintf(before, sizeof before, "%s/before.snap", dir);
    CHECK_RC(persona_store_save(a, before), PERSONA_OK);
    CHECK(file_has_marker(before) == 1); /* the scan finds what is there */

    persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
    CHECK_RC(persona_store_erase(&r, a, VICTIM), PERSONA_OK);
    CHECK(r.events == pi.events && r.events >= 5);
    CHECK(r.identifiers == 1 && r.attributes == 3 && r.consents == 1 && r.stale_models == 0);
    CHECK_RC(persona_store_profile_get(&pi, a, VICTIM), PERSONA_ENOTFOUND);
    char *json = NULL;
    CHECK_RC(persona_store_export_profile(&json, NULL, a, VICTIM), PERSONA_ENOTFOUND);
    check_equal(a, b);

    /* The deduplication set forgot the victim's ids; the others' are still known. */
    persona_event e[2] = { PERSONA_EVENT_INIT, PERSONA_EVENT_INIT };
    e[0].user = "late", e[0].time_ms = 1800000000000, e[0].type = "view";
    e[0].event_id = "id-" MARK "-0";
    e[1] = e[0];
    e[1].event_id = "id-6";
    persona_ingest_stats sa, sb;
    persona_ingest_stats_init(&sa, sizeof sa);
    persona_ingest_stats_init(&sb, sizeof sb);
    CHECK_RC(persona_store_ingest(&sa, a, e, 2, NULL), PERSONA_OK);
    CHECK_RC(persona_store_ingest(&sb, b, e, 2, NULL), PERSONA_OK);
    CHECK(sa.events_accepted == sb.events_accepted && sa.events_accepted >= 1);
    CHECK(sa.rejected[PERSONA_REJECT_DUPLICATE_ID] == sb.rejected[PERSONA_REJECT_DUPLICATE_ID]);
    /* Remove the late event's marker again: it came after the erase. */
    CHECK_RC(persona_store_erase(NULL, a, "late"), PERSONA_OK);
    CHECK_RC(persona_store_erase(NULL, b, "late"), PERSONA_OK);
    check_equal(a, b);

    /* Nothing of theirs in the next snapshot, nor after reopening it. */
    char after[256];
    snprintf(after, sizeof after, "%s/after.snap", dir);
    CHECK_RC(persona_store_save(a, after), PERSONA_OK);
    CHECK(file_has_marker(after) == 0);
    persona_store *c = NULL;
    CHECK_RC(persona_store_open(&c, after), PERSONA_OK);
    if (c) {
        CHECK_RC(persona_store_profile_get(&pi, c, VICTIM), PERSONA_ENOTFOUND);
        check_equal(c, b);
    }
    unlink(before);
    unlink(after);
    persona_store_free(a);
    persona_store_free(b);
    persona_store_free(c);
}

/* Anonymizing keeps the person's behaviour under a new key and drops what identifies them:
 * the store equals one that got their events under that key without ids and without their
 * string attributes. */
static void test_anonymize(void)
{
    persona_store *a = new_store();
    fill(a, NULL);
    persona_profile_info before = PERSONA_PROFILE_INFO_INIT, after = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&before, a, VICTIM), PERSONA_OK);
    char key[32] = "";
    size_t len = 0;
    persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
    CHECK_RC(persona_store_anonymize(key, 8, &len, NULL, a, VICTIM), PERSONA_EBUFS);
    CHECK(len == PERSONA_ANON_KEY_LEN);
    CHECK_RC(persona_store_profile_get(&after, a, VICTIM), PERSONA_OK); /* nothing done */
    CHECK_RC(persona_store_anonymize(key, sizeof key, &len, &r, a, VICTIM), PERSONA_OK);
    CHECK(strlen(key) == PERSONA_ANON_KEY_LEN && strncmp(key, "anon-", 5) == 0);
    CHECK(r.events == 0 && r.consents == 0 && r.attributes == 2 && r.identifiers > 1);
    CHECK_RC(persona_store_profile_get(&after, a, VICTIM), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_profile_get(&after, a, key), PERSONA_OK);
    CHECK(after.events == before.events && after.sessions == before.sessions &&
          after.value_sum == before.value_sum && after.first_seen_ms == before.first_seen_ms &&
          after.last_seen_ms == before.last_seen_ms && after.orders == before.orders &&
          after.attributes == 1);

    persona_store *b = new_store();
    fill_as(b, VICTIM_ANONYMIZED, key);
    check_equal_full(a, b);

    char path[256];
    snprintf(path, sizeof path, "%s/anon.snap", dir);
    CHECK_RC(persona_store_save(a, path), PERSONA_OK);
    static const char *gone[] = { VICTIM, "id-" MARK, "Ann " MARK, "ann-" MARK, "name-" MARK };
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        CHECK(file_contains(path, gone[i]) == 0);
    CHECK(file_contains(path, "item-" MARK) == 1); /* behaviour stays */
    unlink(path);
    CHECK_RC(persona_store_anonymize(NULL, 0, NULL, NULL, a, VICTIM), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_anonymize(NULL, 5, NULL, NULL, a, key), PERSONA_EINVAL);
    persona_store_free(a);
    persona_store_free(b);
}

static void test_errors_and_edges(void)
{
    persona_store *s = new_store();
    persona_event e = PERSONA_EVENT_INIT;
    e.user = "only", e.time_ms = 1000, e.type = "view", e.item = "i";
    CHECK_RC(persona_store_ingest(NULL, s, &e, 1, NULL), PERSONA_OK);
    char *before = export_of(s, PERSONA_EXPORT_PROFILES_JSONL);
    CHECK_RC(persona_store_erase(NULL, s, "nobody"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_erase(NULL, NULL, "only"), PERSONA_EINVAL);
    CHECK_RC(persona_store_erase(NULL, s, NULL), PERSONA_EINVAL);
    CHECK_RC(persona_store_erase(NULL, s, ""), PERSONA_EINVAL);
    persona_erase_receipt bad = PERSONA_ERASE_RECEIPT_INIT;
    bad.struct_size = 3;
    CHECK_RC(persona_store_erase(&bad, s, "only"), PERSONA_EINVAL);
    char *still = export_of(s, PERSONA_EXPORT_PROFILES_JSONL);
    CHECK(before && still && strcmp(before, still) == 0); /* refused calls changed nothing */
    persona_free(before);
    persona_free(still);

    /* Erasing the only user leaves a store equal to a new one. */
    persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
    CHECK_RC(persona_store_erase(&r, s, "only"), PERSONA_OK);
    CHECK(r.events == 1 && r.attributes == 0 && r.consents == 0);
    persona_store *fresh = new_store();
    check_equal(s, fresh);
    CHECK_RC(persona_store_erase(NULL, s, "only"), PERSONA_ENOTFOUND);
    /* A profile with attributes only (no events). */
    CHECK_RC(persona_store_attr_set_num(s, "crm", "x", 1), PERSONA_OK);
    CHECK_RC(persona_store_erase(&r, s, "crm"), PERSONA_OK);
    CHECK(r.events == 0 && r.attributes == 1);
    check_equal(s, fresh);
    CHECK_RC(persona_erase_receipt_init(NULL, sizeof r), PERSONA_EINVAL);
    persona_store_free(fresh);
    persona_store_free(s);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/persona-erase-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_equals_never_seen();
    test_anonymize();
    test_errors_and_edges();
    rmdir(dir);
    return check_report("test_erase");
}
