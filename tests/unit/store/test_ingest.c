/* Bad events are counted by reason and lose nothing else: a mixed batch leaves the store
 * exactly as the good events alone would (compared by export); strict mode stops at the
 * first bad event with nothing applied; dedup by event id. */
#include <stdlib.h>

#include "check.h"
#include "store_check.h"

static char *export_of(persona_store *s)
{
    char *out = NULL;
    CHECK_RC(persona_store_export_buffer(&out, NULL, s, PERSONA_EXPORT_PROFILES_JSONL), PERSONA_OK);
    return out;
}

static persona_store *new_store(void)
{
    return new_seeded_store(7);
}

static void test_mixed_batch(void)
{
    static char long_key[PERSONA_MAX_KEY_LEN + 2];
    memset(long_key, 'k', PERSONA_MAX_KEY_LEN + 1);
    static char max_key[PERSONA_MAX_KEY_LEN + 1];
    memset(max_key, 'm', PERSONA_MAX_KEY_LEN);
    const char *pn[] = { "country" }, *pv[] = { "GB" };
    persona_event good[6] = { ev("a", 1000, "view", NAN), ev("b", 2000, "buy", 9.5),
                              ev("a", 3000, "buy", 1.25), ev(max_key, 4000, NULL, NAN),
                              ev("c", PERSONA_TIME_MIN, "view", 0), ev("c", PERSONA_TIME_MAX, "view", -3) };
    good[1].event_id = "id-1";
    good[2].prop_names = pn, good[2].prop_values = pv, good[2].n_props = 1;
    persona_event bad[10] = {
        ev(NULL, 1, "view", NAN),           /* missing user */
        ev("", 1, "view", NAN),             /* missing user */
        ev("d", 1, "", NAN),                /* missing event */
        ev("d", 1, "view", INFINITY),       /* bad number */
        ev("d\xc3", 1, "view", NAN),        /* bad utf8 */
        ev(long_key, 1, "view", NAN),       /* too long */
        ev("d", PERSONA_TIME_MAX + 1, "view", NAN), /* bad time */
        ev("d", 1, "view", NAN),            /* duplicate id of good[1] */
        ev("d", 1, "view\xed\xa0\x80", NAN),/* surrogate: bad utf8 */
        ev("d", 1, "view", NAN),            /* property value too long */
    };
    bad[7].event_id = "id-1";
    const char *lpv[] = { long_key };
    bad[9].prop_names = pn, bad[9].prop_values = lpv, bad[9].n_props = 1;
    /* Interleave: good, bad, bad, good, ... */
    persona_event mixed[16];
    size_t n = 0, g = 0, b = 0;
    while (g < 6 || b < 10) {
        if (g < 6)
            mixed[n++] = good[g++];
        for (int k = 0; k < 2 && b < 10; k++)
            mixed[n++] = bad[b++];
    }
    persona_store *s1 = new_store(), *s2 = new_store();
    persona_ingest_stats st = { sizeof st };
    CHECK_RC(persona_store_ingest(&st, s1, mixed, n, NULL), PERSONA_OK);
    CHECK(st.rows_read == 16 && st.events_accepted == 6 && st.events_rejected == 10);
    CHECK(st.rejected[PERSONA_REJECT_MISSING_USER] == 2);
    CHECK(st.rejected[PERSONA_REJECT_MISSING_EVENT] == 1);
    CHECK(st.rejected[PERSONA_REJECT_BAD_NUMBER] == 1);
    CHECK(st.rejected[PERSONA_REJECT_BAD_UTF8] == 2);
    CHECK(st.rejected[PERSONA_REJECT_TOO_LONG] == 2);
    CHECK(st.rejected[PERSONA_REJECT_BAD_TIME] == 1);
    CHECK(st.rejected[PERSONA_REJECT_DUPLICATE_ID] == 1);
    /* Example lines are 1-based positions in the batch: bad[0] and bad[1] are 2 and 3. */
    CHECK(st.example_lines[PERSONA_REJECT_MISSING_USER][0] == 2);
    CHECK(st.example_lines[PERSONA_REJECT_MISSING_USER][1] == 3);
    CHECK(st.example_lines[PERSONA_REJECT_MISSING_USER][2] == 0);
    CHECK_RC(persona_store_ingest(NULL, s2, good, 6, NULL), PERSONA_OK);
    char *e1 = export_of(s1), *e2 = export_of(s2);
    CHECK(e1 && e2 && strcmp(e1, e2) == 0);
    persona_free(e1);
    persona_free(e2);
    persona_store_info info = { sizeof info };
    CHECK_RC(persona_store_info_get(&info, s1), PERSONA_OK);
    CHECK(info.users == 4 && info.events == 6);
    persona_store_free(s1);
    persona_store_free(s2);
}

static void test_strict(void)
{
    persona_store *s = new_store();
    persona_event e[3] = { ev("a", 1, "view", NAN), ev("b", 2, "view", NAN), ev("", 3, "view", NAN) };
    persona_ingest_options o = PERSONA_INGEST_OPTIONS_INIT;
    o.flags = PERSONA_INGEST_STRICT;
    persona_ingest_stats st = { sizeof st };
    CHECK_RC(persona_store_ingest(&st, s, e, 3, &o), PERSONA_EPARSE);
    CHECK_MSG("event 3: user is missing");
    uint64_t line, col;
    CHECK_RC(persona_error_position(&line, &col), PERSONA_OK);
    CHECK(line == 3);
    persona_store_info info = { sizeof info };
    CHECK_RC(persona_store_info_get(&info, s), PERSONA_OK);
    CHECK(info.users == 0 && info.events == 0);
    CHECK_RC(persona_store_ingest(&st, s, e, 2, &o), PERSONA_OK);
    CHECK(st.events_accepted == 2);
    persona_store_free(s);
}

static void test_dedup(void)
{
    persona_store *s = new_store();
    persona_event e[4] = { ev("a", 1, "view", NAN), ev("a", 2, "view", NAN), ev("a", 3, "view", NAN),
                           ev("a", 4, "view", NAN) };
    e[0].event_id = "x";
    e[1].event_id = "x"; /* duplicate inside the batch */
    e[2].event_id = "y";
    persona_ingest_stats st = { sizeof st };
    CHECK_RC(persona_store_ingest(&st, s, e, 4, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 3 && st.rejected[PERSONA_REJECT_DUPLICATE_ID] == 1);
    CHECK(st.example_lines[PERSONA_REJECT_DUPLICATE_ID][0] == 2);
    CHECK_RC(persona_store_ingest(&st, s, e + 2, 1, NULL), PERSONA_OK); /* again: duplicate */
    CHECK(st.events_accepted == 0 && st.rejected[PERSONA_REJECT_DUPLICATE_ID] == 1);
    persona_profile_info p = { sizeof p };
    CHECK_RC(persona_store_profile_get(&p, s, "a"), PERSONA_OK);
    CHECK(p.events == 3);
    persona_store_free(s);
}

/* Many users across several batches: totals equal a brute-force count. */
static void test_many(void)
{
    persona_store *s = new_store();
    enum { N = 50000, U = 977 };
    static persona_event e[N];
    static char keys[U][8];
    static uint64_t want[U];
    for (int u = 0; u < U; u++)
        snprintf(keys[u], sizeof keys[u], "u%d", u);
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int u = (int)((x >> 33) % U);
        e[i] = ev(keys[u], (int64_t)(x >> 40), (x >> 20) & 1 ? "a" : "b", NAN);
        want[u]++;
    }
    CHECK_RC(persona_store_ingest(NULL, s, e, 20000, NULL), PERSONA_OK);
    CHECK_RC(persona_store_ingest(NULL, s, e + 20000, N - 20000, NULL), PERSONA_OK);
    int bad = 0;
    for (int u = 0; u < U; u++) {
        persona_profile_info p = { sizeof p };
        if (want[u] == 0) {
            bad += persona_store_profile_get(&p, s, keys[u]) != PERSONA_ENOTFOUND;
            continue;
        }
        bad += persona_store_profile_get(&p, s, keys[u]) != PERSONA_OK || p.events != want[u];
        uint64_t ca, cb;
        persona_store_profile_type(&ca, NULL, s, keys[u], "a");
        persona_store_profile_type(&cb, NULL, s, keys[u], "b");
        bad += ca + cb != want[u];
    }
    CHECK(bad == 0);
    persona_store_free(s);
}

int main(void)
{
    test_mixed_batch();
    test_strict();
    test_dedup();
    test_many();
    return check_report("test_ingest");
}
