/* Helpers the store tests share: an event from its main fields, and the check that two
 * stores hold the same (everything a caller can read back). Include after check.h. */
#ifndef PERSONA_TEST_STORE_CHECK_H
#define PERSONA_TEST_STORE_CHECK_H

#include <stdio.h>
#include <string.h>

#include "check.h"

static inline persona_event ev(const char *user, int64_t t, const char *type, double value)
{
    persona_event e = PERSONA_EVENT_INIT;
    e.user = user;
    e.time_ms = t;
    e.type = type;
    e.value = value;
    return e;
}

/* Ingest event e with one named property (skipped when prop_value is NULL), checking
 * that it was accepted. */
static inline void ingest_event_with_prop(persona_store *s, persona_event e, const char *prop,
                                          const char *prop_value)
{
    const char *names[1] = { prop }, *values[1] = { prop_value };
    if (prop_value) {
        e.prop_names = names;
        e.prop_values = values;
        e.n_props = 1;
    }
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_ingest(&st, s, &e, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
}

/* Ingest one event with one named property (skipped when value is NULL), checking that it
 * was accepted. */
static inline void ingest_with_prop(persona_store *s, const char *user, int64_t t,
                                    const char *type, double value, const char *prop,
                                    const char *prop_value)
{
    ingest_event_with_prop(s, ev(user, t, type, value), prop, prop_value);
}

/* A store with a fixed hash seed (so runs are repeatable) and default settings. */
static inline persona_store *new_seeded_store(uint64_t seed)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = seed;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, &o), PERSONA_OK);
    return s;
}

/* Show where two texts first differ (to stderr), so a failed comparison says why. */
static inline void show_difference(const char *what, const char *a, const char *b)
{
    if (!a || !b || strcmp(a, b) == 0)
        return;
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    size_t from = i > 80 ? i - 80 : 0;
    fprintf(stderr, "%s differ at byte %zu:\n  %.200s\n  %.200s\n", what, i, a + from, b + from);
}

/* Both exports, the info counts and every person's full export (profile and events)
 * equal. Returns the CSV export of a (persona_free it) for further checks. */
static inline char *check_same_store(const persona_store *a, const persona_store *b)
{
    int32_t formats[] = { PERSONA_EXPORT_PROFILES_JSONL, PERSONA_EXPORT_PROFILES_CSV };
    char *csv = NULL;
    for (int f = 0; f < 2; f++) {
        char *ea = NULL, *eb = NULL;
        CHECK_RC(persona_store_export_buffer(&ea, NULL, a, formats[f]), PERSONA_OK);
        CHECK_RC(persona_store_export_buffer(&eb, NULL, b, formats[f]), PERSONA_OK);
        show_difference("exports", ea, eb);
        CHECK(ea && eb && strcmp(ea, eb) == 0);
        persona_free(eb);
        if (f == 1)
            csv = ea;
        else
            persona_free(ea);
    }
    persona_store_info ia = PERSONA_STORE_INFO_INIT, ib = PERSONA_STORE_INFO_INIT;
    CHECK_RC(persona_store_info_get(&ia, a), PERSONA_OK);
    CHECK_RC(persona_store_info_get(&ib, b), PERSONA_OK);
    CHECK(ia.users == ib.users && ia.events == ib.events && ia.event_types == ib.event_types &&
          ia.items == ib.items && ia.baskets == ib.baskets &&
          ia.first_time_ms == ib.first_time_ms && ia.last_time_ms == ib.last_time_ms);
    for (uint64_t u = 0; u < ia.users; u++) {
        char key[PERSONA_MAX_KEY_LEN + 1];
        CHECK_RC(persona_store_user_at(key, sizeof key, NULL, a, u), PERSONA_OK);
        char *pa = NULL, *pb = NULL;
        CHECK_RC(persona_store_export_profile(&pa, NULL, a, key), PERSONA_OK);
        CHECK_RC(persona_store_export_profile(&pb, NULL, b, key), PERSONA_OK);
        show_difference("person exports", pa, pb);
        CHECK(pa && pb && strcmp(pa, pb) == 0);
        persona_free(pa);
        persona_free(pb);
    }
    return csv;
}

#endif
