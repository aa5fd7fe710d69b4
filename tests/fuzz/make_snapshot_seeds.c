/* Seeds of fuzz_snapshot_store: real snapshots of small stores, one per feature, so the
 * fuzzer starts from files that open. The identity seeds fill the sections of the identity
 * graph (identity sources, blocked identifiers, identity, setting order: docs/file-format.md).
 * usage: make_snapshot_seeds DIR   (writes DIR/seed-*; run from the source root:
 *        ./build/tests/fuzz/make_snapshot_seeds tests/fuzz/corpus/snapshot_store) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "persona.h"

static void must(int rc, const char *what)
{
    if (rc != PERSONA_OK) {
        fprintf(stderr, "make_snapshot_seeds: %s: %s\n", what, persona_errmsg());
        exit(1);
    }
}

static void save(const persona_store *s, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    must(persona_store_save(s, path), path);
}

/* Link the n identifiers of one person. */
static void alias(persona_store *s, const char *source, int64_t at, size_t n,
                  const persona_identifier *ids)
{
    persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
    must(persona_store_alias(&r, s, ids, n, at, source), "alias");
}

static persona_event ev(const char *user, int64_t t, const char *type, double value)
{
    persona_event e = PERSONA_EVENT_INIT;
    e.user = user;
    e.time_ms = t;
    e.type = type;
    e.value = value;
    return e;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_snapshot_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "new");
    save(s, dir, "empty");

    persona_event one = ev("u1", 1700000000000, "view", NAN);
    must(persona_store_ingest(NULL, s, &one, 1, NULL), "ingest");
    save(s, dir, "one-event");

    /* Every section non-empty: five types (two in the map), orders, items, properties
     * (category engagement, last values), an out-of-order event, ids, attributes of
     * every type (one removed), consent. */
    const char *pn[] = { "category", "referrer" }, *pv[] = { "shoes", "mail" };
    static const char *types[] = { "view", "add", "buy", "share", "refund" };
    for (int i = 0; i < 12; i++) {
        char id[8];
        snprintf(id, sizeof id, "e%d", i);
        persona_event e = ev(i % 2 ? "u1" : "u2", 1700000000000 + (i % 5 == 4 ? -1 : i) * 600000,
                             types[i % 5], i % 3 ? i * 1.5 : NAN);
        e.item = i % 2 ? "sku-1" : "sku-2";
        e.basket = i % 3 ? "o1" : "o2";
        e.event_id = id;
        e.prop_names = pn;
        e.prop_values = pv;
        e.n_props = 2;
        must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
    }
    must(persona_store_attr_set_num(s, "u1", "ltv", 3.5), "attr");
    must(persona_store_attr_set_str(s, "u1", "name", "Zoë"), "attr");
    must(persona_store_attr_set_bool(s, "u2", "vip", 1), "attr");
    must(persona_store_attr_set_time(s, "u2", "signup", 1600000000000), "attr");
    must(persona_store_attr_set_null(s, "u2", "phone"), "attr");
    must(persona_store_attr_set_str(s, "u2", "gone", "x"), "attr");
    must(persona_store_attr_remove(s, "u2", "gone"), "attr");
    must(persona_store_consent_set(s, "u1", "marketing", 1, 1700000000000), "consent");
    must(persona_store_consent_set(s, "crm-only", "analytics", 0, 1700000000000), "consent");
    save(s, dir, "all-sections");
    persona_store_free(s);

    /* The smallest graph: two keys with events merged, one host rule, a country code. */
    must(persona_store_new(&s, NULL), "new");
    persona_event two[] = { ev("k1", 1700000000000, "view", NAN),
                            ev("c1", 1700000060000, "buy", 2.5) };
    must(persona_store_ingest(NULL, s, two, 2, NULL), "ingest");
    must(persona_store_identity_country(s, "33"), "country");
    must(persona_store_identity_limit(s, PERSONA_ID_PHONE, 1), "limit");
    const persona_identifier merge[] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "k1"),
                                         PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c1") };
    alias(s, "login", 1700000120000, 2, merge);
    save(s, dir, "identity-min");
    persona_store_free(s);

    /* Every part of the graph: links added, merged (profiles with events, one opted out),
     * same, blocked by a default and a host-blocked value, blocked by a limit (an existing
     * profile and a new identifier), all blocked (no anchor), one unmerged; rules with a
     * limit, a priority, both; attributes and consent set through two identifiers of one
     * profile; events through non-root identifiers before and after the links. */
    must(persona_store_new(&s, NULL), "new");
    for (int i = 0; i < 10; i++) {
        static const char *users[] = { "k1", "c1", "c2", "k3", "c3" };
        persona_event e = ev(users[i % 5], 1700000000000 + i * 60000, i % 3 ? "view" : "buy",
                             i % 3 ? NAN : i * 1.25);
        e.basket = i % 3 ? NULL : "o1";
        e.prop_names = pn;
        e.prop_values = pv;
        e.n_props = 2;
        must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
    }
    must(persona_store_identity_country(s, "33"), "country");
    must(persona_store_identity_limit(s, PERSONA_ID_PHONE, 1), "limit");
    must(persona_store_identity_priority(s, PERSONA_ID_HOST, 60), "priority");
    must(persona_store_identity_limit(s, PERSONA_ID_COOKIE, 3), "limit");
    must(persona_store_identity_priority(s, PERSONA_ID_COOKIE, 15), "priority");
    must(persona_store_identity_block(s, " Nobody@Example.org "), "block");
    must(persona_store_attr_set_str(s, "c1", "name", "Ann"), "attr");
    must(persona_store_consent_set(s, "c1", "marketing", 1, 1700000000000), "consent");
    must(persona_store_set_tracking(s, "k3", 0), "tracking");
    int64_t t = 1700001000000;
    const persona_identifier login[] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c1"),
                                         PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "Ann@B.org") };
    alias(s, "login", t++, 2, login); /* added */
    const persona_identifier crm[] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "k1"),
                                       PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "ann@b.org"),
                                       PERSONA_IDENTIFIER(PERSONA_ID_PHONE, "06 12 34 56 78"),
                                       PERSONA_IDENTIFIER(PERSONA_ID_HOST, "crm-7") };
    alias(s, "crm-import", t++, 4, crm); /* merged, added ×2 */
    alias(s, "login", t++, 2, login);    /* same */
    const persona_identifier placeholder[] = {
        PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c1"),
        PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "nobody@example.org"),
        PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, "null") };
    alias(s, NULL, t++, 3, placeholder); /* blocked-value ×2 */
    const persona_identifier other[] = { PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c2"),
                                         PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "bob@b.org") };
    alias(s, "login", t++, 2, other); /* added */
    const persona_identifier two_emails[] = { PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "ann@b.org"),
                                              PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c2") };
    alias(s, "login", t++, 2, two_emails); /* blocked-limit: existing profiles */
    const persona_identifier phone2[] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "k1"),
                                          PERSONA_IDENTIFIER(PERSONA_ID_PHONE, "+4915112345678") };
    alias(s, "sms", t++, 2, phone2); /* blocked-limit: a new identifier (logged as text) */
    const persona_identifier nothing[] = { PERSONA_IDENTIFIER(PERSONA_ID_EMAIL, "undefined"),
                                           PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "none") };
    alias(s, "login", t++, 2, nothing); /* all blocked: no anchor */
    const persona_identifier wrong[] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, "k3"),
                                         PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c3") };
    alias(s, "login", t++, 2, wrong); /* merged (opted out), then taken back */
    must(persona_store_attr_set_str(s, "ann@b.org", "name", "Anne"), "attr");
    must(persona_store_attr_set_bool(s, "k1", "vip", 1), "attr");
    must(persona_store_consent_set(s, "k1", "marketing", 0, 1700002000000), "consent");
    persona_event late[] = { ev("c1", 1700003000000, "view", NAN),
                             ev("+33612345678", 1700003060000, "buy", 9.5),
                             ev("c3", 1700003120000, "view", NAN) };
    must(persona_store_ingest(NULL, s, late, 3, NULL), "ingest");
    uint32_t parts = 0;
    const persona_identifier undo = PERSONA_IDENTIFIER(PERSONA_ID_COOKIE, "c3");
    must(persona_store_unmerge(&parts, s, &undo), "unmerge");
    save(s, dir, "identity");
    persona_store_free(s);
    return 0;
}
