/* Seeds of fuzz_snapshot_store: real snapshots of small stores, one per feature, so the
 * fuzzer starts from files that open.
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
    return 0;
}
