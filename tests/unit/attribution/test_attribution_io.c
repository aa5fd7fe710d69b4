/* Saving and loading journey sets (persona_attribution_save / _load, docs/file-format.md
 * kind 9): sets from a store (with touch types, lookback, consent), from host journeys and
 * an empty one come back answering every query the same and save to the same bytes;
 * damaged files (every truncation, a flipped byte at every position) are refused with
 * ECORRUPT or EVERSION and no set; other kinds and missing files are refused.
 *
 * usage: test_attribution_io */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "attr_test.h"
#include "file_check.h"
#include "damage_check.h"

static char path_a[256], path_b[256];

static void round_trip(const persona_attribution *a, const char *what)
{
    CHECK_RC(persona_attribution_save(a, path_a), PERSONA_OK);
    persona_attribution *b = NULL;
    CHECK_RC(persona_attribution_load(&b, path_a), PERSONA_OK);
    if (!b)
        return;
    char *da = attr_digest(a), *db = attr_digest(b);
    if (strcmp(da, db))
        fprintf(stderr, "%s: loaded set differs\n", what);
    CHECK_STR(db, da);
    CHECK_RC(persona_attribution_save(b, path_b), PERSONA_OK);
    check_same_bytes(path_a, path_b);
    free(da);
    free(db);
    persona_attribution_free(b);
}

static int load_and_free(const char *path)
{
    persona_attribution *a = (persona_attribution *)1;
    int rc = persona_attribution_load(&a, path);
    if (rc)
        CHECK(a == NULL);
    persona_attribution_free(rc ? NULL : a);
    return rc;
}

int main(void)
{
    snprintf(path_a, sizeof path_a, "%s/attr_io_a_%d.snap", test_temp_dir(), (int)getpid());
    snprintf(path_b, sizeof path_b, "%s/attr_io_b_%d.snap", test_temp_dir(), (int)getpid());
    persona_store *s = new_seeded_store(5);
    static const char *const ch[] = { "mail", "search", "social", "a, \"b\"" };
    uint64_t st = 9;
    for (int i = 0; i < 60; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        char user[8];
        snprintf(user, sizeof user, "u%d", (int)(st >> 40) % 6);
        int k = (int)(st >> 33) % 6;
        if (k == 5)
            attr_event(s, user, i * 1000, "purchase", NULL, (double)(i % 7));
        else
            attr_event(s, user, i * 1000, "visit", k == 4 ? NULL : ch[k], NAN);
    }
    CHECK_RC(persona_store_consent_set(s, "u1", "ads", 1, 0), PERSONA_OK);
    static const char *const purchase[] = { "purchase" }, *const visit[] = { "visit" };
    persona_attribution_options o = PERSONA_ATTRIBUTION_OPTIONS_INIT;
    o.channel_prop = "campaign";
    o.conversion_types = purchase;
    o.n_conversion_types = 1;
    persona_attribution *a = NULL;
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_OK);
    round_trip(a, "store");
    check_damaged(path_a, path_b, load_and_free, "store set");
    persona_attribution_free(a);
    o.touch_types = visit;
    o.n_touch_types = 1;
    o.lookback_ms = 5000;
    o.half_life_ms = 3000;
    o.consent_purpose = "ads";
    CHECK_RC(persona_attribution_build(&a, s, &o), PERSONA_OK);
    round_trip(a, "store with options");
    persona_attribution_free(a);

    static const char *const paths[] = { "AB", "AA", "C", "BC", "ABCA" };
    a = attr_from(paths, (const uint64_t[]){ 1, 0, 3, 0, 2 }, (const double[]){ 10, 0, 20, 0, 1.5 },
                  (const uint64_t[]){ 0, 1, 0, 2, 1 }, 5, NULL, 0);
    round_trip(a, "host journeys");
    check_damaged(path_a, path_b, load_and_free, "host set");
    persona_attribution_free(a);
    a = attr_from(NULL, NULL, NULL, NULL, 0, NULL, 0);
    round_trip(a, "empty");
    persona_attribution_free(a);

    /* another kind, a missing file, NULLs */
    persona_affinity_matrix *m = NULL;
    CHECK_RC(persona_affinity_build(&m, s, NULL), PERSONA_OK);
    CHECK_RC(persona_affinity_save(m, path_a), PERSONA_OK);
    persona_affinity_free(m);
    CHECK_RC(load_and_free(path_a), PERSONA_ECORRUPT);
    CHECK_MSG("not a set of attribution journeys");
    unlink(path_a);
    CHECK_RC(load_and_free(path_a), PERSONA_EIO);
    CHECK_RC(persona_attribution_load(NULL, path_a), PERSONA_EINVAL);
    CHECK_RC(persona_attribution_save(NULL, path_a), PERSONA_EINVAL);
    unlink(path_b);
    persona_store_free(s);
    return check_report("test_attribution_io");
}
