/* The identity graph through the store's other operations: a snapshot keeps it (the
 * reopened store equals the original and goes on linking the same way), erase removes a
 * person with every identifier and link (the store equals one that never saw them, no
 * marker string survives anywhere), anonymize folds a person's identifiers into one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "store_check.h"

#define MARK "vk3q" /* in every string only the victim has */

static char dir[64];

static persona_store *new_store(void)
{
    return new_seeded_store(3);
}

static void ingest(persona_store *s, const char *user, int64_t t, const char *type, double v,
                   const char *category)
{
    ingest_with_prop(s, user, t, type, v, "category", category);
}

static void alias2(persona_store *s, int32_t ta, const char *a, int32_t tb, const char *b,
                   const char *source)
{
    persona_identifier ids[2] = { PERSONA_IDENTIFIER(ta, a), PERSONA_IDENTIFIER(tb, b) };
    CHECK_RC(persona_store_alias(NULL, s, ids, 2, 1700000000000, source), PERSONA_OK);
}

/* Three people with links, attributes and consent; with_victim adds a fourth whose every
 * string carries MARK, interleaved with the others. */
static void fill(persona_store *s, int with_victim)
{
    CHECK_RC(persona_store_identity_country(s, "44"), PERSONA_OK);
    CHECK_RC(persona_store_identity_block(s, "guest"), PERSONA_OK);
    CHECK_RC(persona_store_identity_limit(s, PERSONA_ID_PHONE, 1), PERSONA_OK);
    int64_t t = 1700000000000;
    for (int i = 0; i < 40; i++) {
        char user[32];
        snprintf(user, sizeof user, "ck-%d", i % 5);
        ingest(s, user, t + i * 60000, i % 3 ? "view" : "buy", i % 3 ? 0 : i, "shoes");
        if (with_victim && i % 4 == 0)
            ingest(s, "ck-" MARK, t + i * 60000 + 1, "view-" MARK, 2, "cat-" MARK);
        if (i == 10) {
            alias2(s, PERSONA_ID_COOKIE, "ck-0", PERSONA_ID_EMAIL, "zoe@x.org", "login");
            alias2(s, PERSONA_ID_COOKIE, "ck-1", PERSONA_ID_EMAIL, "zoe@x.org", "login");
            if (with_victim) {
                alias2(s, PERSONA_ID_COOKIE, "ck-" MARK, PERSONA_ID_EMAIL, "v" MARK "@x.org",
                       "signup-" MARK);
                alias2(s, PERSONA_ID_CUSTOMER, "c-" MARK, PERSONA_ID_EMAIL, "v" MARK "@x.org",
                       "crm");
                alias2(s, PERSONA_ID_COOKIE, "ck-" MARK, PERSONA_ID_KEY, "guest", "login");
                alias2(s, PERSONA_ID_COOKIE, "ck-" MARK, PERSONA_ID_EMAIL, "w" MARK "@x.org",
                       "login"); /* blocked: one email */
                CHECK_RC(persona_store_attr_set_str(s, "c-" MARK, "name", "N-" MARK),
                         PERSONA_OK);
                CHECK_RC(persona_store_consent_set(s, "ck-" MARK, "marketing", 1, t),
                         PERSONA_OK);
            }
        }
        if (i == 20) {
            alias2(s, PERSONA_ID_COOKIE, "ck-2", PERSONA_ID_PHONE, "07700 900123", NULL);
            alias2(s, PERSONA_ID_COOKIE, "ck-3", PERSONA_ID_PHONE, "07700 900999", NULL);
            alias2(s, PERSONA_ID_COOKIE, "ck-2", PERSONA_ID_COOKIE, "ck-3", NULL); /* blocked */
            alias2(s, PERSONA_ID_COOKIE, "ck-4", PERSONA_ID_EMAIL, "  ", NULL); /* "" logged */
            CHECK_RC(persona_store_attr_set_str(s, "ck-0", "name", "Zoe"), PERSONA_OK);
            CHECK_RC(persona_store_attr_set_num(s, "ck-1", "ltv", 12.5), PERSONA_OK);
            CHECK_RC(persona_store_consent_set(s, "zoe@x.org", "analytics", 1, t), PERSONA_OK);
        }
    }
}

static char *whole_log(const persona_store *s)
{
    char *log = NULL;
    CHECK_RC(persona_store_merge_log(&log, NULL, s, NULL), PERSONA_OK);
    return log;
}

static void check_same_graph(const persona_store *a, const persona_store *b)
{
    persona_free(check_same_store(a, b));
    char *la = whole_log(a), *lb = whole_log(b);
    CHECK_STR(la, lb);
    persona_free(la);
    persona_free(lb);
    const char *keys[] = { "ck-0", "ck-1", "zoe@x.org", "ck-2", "+447700900123", "ck-3" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char ra[64], rb[64];
        CHECK_RC(persona_store_resolve(ra, sizeof ra, NULL, a, keys[i]), PERSONA_OK);
        CHECK_RC(persona_store_resolve(rb, sizeof rb, NULL, b, keys[i]), PERSONA_OK);
        CHECK_STR(ra, rb);
    }
}

static void test_snapshot_keeps_the_graph(void)
{
    persona_store *s = new_store();
    fill(s, 1);
    char path[96];
    snprintf(path, sizeof path, "%s/graph.snap", dir);
    CHECK_RC(persona_store_save(s, path), PERSONA_OK);
    persona_store *o = NULL;
    CHECK_RC(persona_store_open(&o, path), PERSONA_OK);
    check_same_graph(s, o);
    /* The guards and the graph go on working the same way after reopening. */
    persona_store *both[2] = { s, o };
    for (int k = 0; k < 2; k++) {
        persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
        persona_identifier ids[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "ck-4"),
                                      PERSONA_IDENTIFIER(PERSONA_ID_PHONE, "07700 900123") };
        CHECK_RC(persona_store_alias(&r, both[k], ids, 2, 1700000000000, NULL), PERSONA_OK);
        CHECK(r.merged == 1);
        persona_identifier g[2] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "ck-4"),
                                    PERSONA_IDENTIFIER(PERSONA_ID_KEY, "GUEST") };
        CHECK_RC(persona_store_alias(&r, both[k], g, 2, 1700000000000, NULL), PERSONA_OK);
        CHECK(r.outcome == PERSONA_LINK_BLOCKED_VALUE);
        persona_identifier x = PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "zoe@x.org");
        uint32_t parts = 0;
        CHECK_RC(persona_store_unmerge(&parts, both[k], &x), PERSONA_OK);
        CHECK(parts == 3);
        CHECK_RC(persona_store_attr_set_str(both[k], "ck-1", "name", "Z"), PERSONA_OK);
    }
    check_same_graph(s, o);
    persona_store_free(o);
    /* And once more through a file, after the unmerge. */
    CHECK_RC(persona_store_save(s, path), PERSONA_OK);
    CHECK_RC(persona_store_open(&o, path), PERSONA_OK);
    check_same_graph(s, o);
    persona_store_free(o);
    persona_store_free(s);
    unlink(path);
}

static void check_no_marker(const persona_store *s, const char *path)
{
    char *out = NULL;
    CHECK_RC(persona_store_export_buffer(&out, NULL, s, PERSONA_EXPORT_PROFILES_JSONL),
             PERSONA_OK);
    CHECK(strstr(out, MARK) == NULL);
    persona_free(out);
    out = whole_log(s);
    CHECK(strstr(out, MARK) == NULL);
    persona_free(out);
    CHECK_RC(persona_store_save(s, path), PERSONA_OK);
    CHECK(file_contains(path, MARK) == 0);
}

static void test_erase_a_linked_person(void)
{
    char path[96];
    snprintf(path, sizeof path, "%s/erase.snap", dir);
    const char *via[] = { "ck-" MARK, "v" MARK "@x.org", "c-" MARK };
    for (size_t k = 0; k < 3; k++) {
        persona_store *s = new_store(), *never = new_store();
        fill(s, 1);
        fill(never, 0);
        persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
        CHECK_RC(persona_store_erase(&r, s, via[k]), PERSONA_OK);
        CHECK(r.identifiers == 3 && r.events == 10 && r.attributes == 1 && r.consents == 1);
        for (size_t j = 0; j < 3; j++)
            CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, via[j]), PERSONA_ENOTFOUND);
        check_same_graph(s, never);
        check_no_marker(s, path);
        persona_store *o = NULL;
        CHECK_RC(persona_store_open(&o, path), PERSONA_OK);
        check_same_graph(o, never);
        check_no_marker(o, path);
        persona_store_free(o);
        persona_store_free(s);
        persona_store_free(never);
    }
    /* Erasing one of two linked profiles' people leaves the other's links intact. */
    persona_store *s = new_store();
    fill(s, 0);
    CHECK_RC(persona_store_erase(NULL, s, "ck-2"), PERSONA_OK);
    CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, "+447700900123"), PERSONA_ENOTFOUND);
    char name[64];
    CHECK_RC(persona_store_resolve(name, sizeof name, NULL, s, "ck-1"), PERSONA_OK);
    CHECK_STR(name, "zoe@x.org");
    char *log = whole_log(s);
    CHECK(strstr(log, "900123") == NULL && strstr(log, "zoe@x.org") != NULL);
    persona_free(log);
    persona_store_free(s);
    unlink(path);
}

static void test_anonymize_a_linked_person(void)
{
    char path[96];
    snprintf(path, sizeof path, "%s/anon.snap", dir);
    persona_store *s = new_store();
    fill(s, 1);
    persona_profile_info before = PERSONA_PROFILE_INFO_INIT, after = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&before, s, "v" MARK "@x.org"), PERSONA_OK);
    char anon[PERSONA_ANON_KEY_LEN + 1];
    persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
    CHECK_RC(persona_store_anonymize(anon, sizeof anon, NULL, &r, s, "c-" MARK), PERSONA_OK);
    CHECK(r.identifiers == 3 && r.attributes == 1 && r.events == 0);
    CHECK_RC(persona_store_profile_get(&after, s, anon), PERSONA_OK);
    CHECK(after.events == before.events && after.value_sum == before.value_sum &&
          after.sessions == before.sessions);
    for (size_t j = 0; j < 3; j++) {
        const char *via[] = { "ck-" MARK, "v" MARK "@x.org", "c-" MARK };
        CHECK_RC(persona_store_resolve(NULL, 0, NULL, s, via[j]), PERSONA_ENOTFOUND);
    }
    int32_t granted = 0;
    CHECK_RC(persona_store_consent_get(&granted, NULL, s, anon, "marketing"), PERSONA_OK);
    CHECK(granted == 1);
    /* The behaviour stays, marked strings other than the event type and category too. */
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, anon), PERSONA_OK);
    CHECK(strstr(json, "\"identifiers\"") == NULL && strstr(json, "N-" MARK) == NULL);
    persona_free(json);
    char *log = whole_log(s);
    CHECK(strstr(log, MARK) == NULL);
    persona_free(log);
    CHECK_RC(persona_store_save(s, path), PERSONA_OK);
    persona_store *o = NULL;
    CHECK_RC(persona_store_open(&o, path), PERSONA_OK);
    persona_free(check_same_store(s, o));
    persona_store_free(o);
    persona_store_free(s);
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/persona-graph-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_snapshot_keeps_the_graph();
    test_erase_a_linked_person();
    test_anonymize_a_linked_person();
    rmdir(dir);
    return check_report("test_graph_persist");
}
