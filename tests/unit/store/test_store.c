/* Profiles and traits against hand-worked values; attributes, consent, getters, export. */
#include <stdlib.h>

#include "check.h"
#include "store_check.h"

static persona_store *new_store(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.decay_half_life_ms = 86400000;
    o.hash_seed = 42;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, &o), PERSONA_OK);
    return s;
}

/* u1: four events, one out of order; u2: one event. Expected values worked by hand:
 * sessions of u1 (times 500k, 1000k, 1600k, 4000k ms, gap 1800k) = 2; last referrer is
 * the one of the latest event carrying it (e3, "email"), although e4 arrives after it. */
static void test_traits(void)
{
    persona_store *s = new_store();
    const char *names[] = { "category", "referrer" };
    const char *v1[] = { "shoes", "google" }, *v3[] = { NULL, "email" }, *v4[] = { "shoes", "bing" };
    persona_event e[5];
    e[0] = ev("u1", 1000000, "view", NAN);
    e[0].prop_names = names, e[0].prop_values = v1, e[0].n_props = 2;
    e[1] = ev("u1", 1600000, "add", 10.5);
    e[1].basket = "b1", e[1].item = "i1";
    e[2] = ev("u1", 4000000, "purchase", 20);
    e[2].basket = "b1";
    e[2].prop_names = names, e[2].prop_values = v3, e[2].n_props = 2;
    e[3] = ev("u1", 500000, "view", NAN);
    e[3].basket = "b2";
    e[3].prop_names = names, e[3].prop_values = v4, e[3].n_props = 2;
    e[4] = ev("u2", 2000000, "view", NAN);
    persona_ingest_stats st = { sizeof st };
    CHECK_RC(persona_store_ingest(&st, s, e, 5, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 5 && st.events_rejected == 0 && st.users_created == 2);

    persona_profile_info p = { sizeof p };
    CHECK_RC(persona_store_profile_get(&p, s, "u1"), PERSONA_OK);
    CHECK(p.events == 4);
    CHECK(p.first_seen_ms == 500000 && p.last_seen_ms == 4000000);
    CHECK(p.value_sum == 30.5);
    CHECK(p.orders == 2);
    CHECK(p.sessions == 2);
    CHECK(p.event_types == 3);
    uint64_t count;
    double value;
    CHECK_RC(persona_store_profile_type(&count, &value, s, "u1", "view"), PERSONA_OK);
    CHECK(count == 2 && value == 0);
    CHECK_RC(persona_store_profile_type(&count, &value, s, "u1", "add"), PERSONA_OK);
    CHECK(count == 1 && value == 10.5);
    CHECK_RC(persona_store_profile_type(&count, &value, s, "u1", "never"), PERSONA_OK);
    CHECK(count == 0 && value == 0);
    char buf[64];
    size_t len;
    int64_t t;
    CHECK_RC(persona_store_profile_last(buf, sizeof buf, &len, &t, s, "u1", "referrer"), PERSONA_OK);
    CHECK_STR(buf, "email");
    CHECK(len == 5 && t == 4000000);
    CHECK_RC(persona_store_profile_last(buf, 3, &len, NULL, s, "u1", "referrer"), PERSONA_EBUFS);
    CHECK(len == 5);
    CHECK_RC(persona_store_profile_last(buf, sizeof buf, &len, NULL, s, "u2", "referrer"),
             PERSONA_ENOTFOUND);
    /* 0.5 (one half-life old) + 2^(-86.9/86.4), computed with Python: 0.9979983829924025 */
    double g;
    CHECK_RC(persona_store_profile_engagement(&g, s, "u1", "shoes", 87400000), PERSONA_OK);
    CHECK_NEAR(g, 0.9979983829924025, 1e-12);
    CHECK_RC(persona_store_profile_engagement(&g, s, "u2", "shoes", 87400000), PERSONA_OK);
    CHECK(g == 0);
    /* any int64 time is fine (no overflow): far in the past the score is huge, far ahead 0 */
    CHECK_RC(persona_store_profile_engagement(&g, s, "u1", "shoes", INT64_MAX), PERSONA_OK);
    CHECK(g == 0);
    CHECK_RC(persona_store_profile_engagement(&g, s, "u1", "shoes", INT64_MIN), PERSONA_OK);
    CHECK(isinf(g));
    CHECK_RC(persona_store_profile_get(&p, s, "u2"), PERSONA_OK);
    CHECK(p.events == 1 && p.sessions == 1 && p.orders == 0);
    CHECK_RC(persona_store_profile_get(&p, s, "nobody"), PERSONA_ENOTFOUND);
    CHECK_MSG("nobody");

    persona_store_info info = { sizeof info };
    CHECK_RC(persona_store_info_get(&info, s), PERSONA_OK);
    CHECK(info.users == 2 && info.events == 5 && info.event_types == 3 && info.items == 1);
    CHECK(info.baskets == 2 && info.first_time_ms == 500000 && info.last_time_ms == 4000000);

    char *csv = NULL;
    CHECK_RC(persona_store_export_buffer(&csv, &len, s, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK_STR(csv, "user_id,events,add,purchase,view,value_sum,first_ts,last_ts\n"
                   "u1,4,1,1,2,30.5,1970-01-01 00:08:20,1970-01-01 01:06:40\n"
                   "u2,1,0,0,1,0,1970-01-01 00:33:20,1970-01-01 00:33:20\n");
    persona_free(csv);
    CHECK_RC(persona_store_user_at(buf, sizeof buf, &len, s, 1), PERSONA_OK);
    CHECK_STR(buf, "u2");
    CHECK_RC(persona_store_user_at(buf, sizeof buf, &len, s, 2), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_event_type_at(buf, sizeof buf, &len, s, 0), PERSONA_OK);
    CHECK_STR(buf, "view");
    persona_store_free(s);
}

/* Sessions in order: a gap of exactly the limit stays in the session, one ms more does not. */
static void test_sessions_boundary(void)
{
    persona_store *s = new_store();
    persona_event e[3] = { ev("a", 0, NULL, NAN), ev("a", 1800000, NULL, NAN),
                           ev("a", 3600001, NULL, NAN) };
    CHECK_RC(persona_store_ingest(NULL, s, e, 3, NULL), PERSONA_OK);
    persona_profile_info p = { sizeof p };
    CHECK_RC(persona_store_profile_get(&p, s, "a"), PERSONA_OK);
    CHECK(p.sessions == 2);
    persona_store_free(s);
}

static void test_export_order(void)
{
    persona_store *s = new_store();
    persona_event e[5] = { ev("10", 0, "x", NAN), ev("9", 0, "x", NAN), ev("a", 0, "x", NAN),
                           ev("007", 0, "x", NAN), ev("=cmd", 0, "x", 1.25) };
    CHECK_RC(persona_store_ingest(NULL, s, e, 5, NULL), PERSONA_OK);
    char *csv = NULL;
    CHECK_RC(persona_store_export_buffer(&csv, NULL, s, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK_STR(csv, "user_id,events,x,value_sum,first_ts,last_ts\n"
                   "9,1,1,0,1970-01-01 00:00:00,1970-01-01 00:00:00\n"
                   "10,1,1,0,1970-01-01 00:00:00,1970-01-01 00:00:00\n"
                   "007,1,1,0,1970-01-01 00:00:00,1970-01-01 00:00:00\n"
                   "'=cmd,1,1,1.25,1970-01-01 00:00:00,1970-01-01 00:00:00\n"
                   "a,1,1,0,1970-01-01 00:00:00,1970-01-01 00:00:00\n");
    persona_free(csv);
    persona_store_free(s);
}

/* More event types than a profile keeps inline, first in one batch, then again. */
static void test_many_types(void)
{
    persona_store *s = new_store();
    char types[10][4];
    persona_event e[10];
    for (int i = 0; i < 10; i++) {
        snprintf(types[i], sizeof types[i], "t%d", i);
        e[i] = ev("u", i, types[i], i);
    }
    CHECK_RC(persona_store_ingest(NULL, s, e, 10, NULL), PERSONA_OK);
    CHECK_RC(persona_store_ingest(NULL, s, e, 10, NULL), PERSONA_OK);
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&p, s, "u"), PERSONA_OK);
    CHECK(p.events == 20 && p.event_types == 10 && p.value_sum == 90);
    int bad = 0;
    for (int i = 0; i < 10; i++) {
        uint64_t c;
        double v;
        bad += persona_store_profile_type(&c, &v, s, "u", types[i]) != PERSONA_OK || c != 2 ||
               v != 2.0 * i;
    }
    CHECK(bad == 0);
    char *csv = NULL;
    CHECK_RC(persona_store_export_buffer(&csv, NULL, s, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK_STR(csv, "user_id,events,t0,t1,t2,t3,t4,t5,t6,t7,t8,t9,value_sum,first_ts,last_ts\n"
                   "u,20,2,2,2,2,2,2,2,2,2,2,90,1970-01-01 00:00:00,1970-01-01 00:00:00.009\n");
    persona_free(csv);
    persona_store_free(s);
}

static void test_empty_export(void)
{
    persona_store *s = new_store();
    char *out = NULL;
    size_t len = 99;
    CHECK_RC(persona_store_export_buffer(&out, &len, s, PERSONA_EXPORT_PROFILES_JSONL), PERSONA_OK);
    CHECK(out && len == 0 && out[0] == '\0');
    persona_free(out);
    CHECK_RC(persona_store_export_buffer(&out, &len, s, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK_STR(out, "user_id,events,value_sum,first_ts,last_ts\n");
    persona_free(out);
    CHECK_RC(persona_store_export_buffer(&out, &len, s, 99), PERSONA_EINVAL);
    CHECK(out == NULL);
    persona_store_free(s);
}

static void test_attributes(void)
{
    persona_store *s = new_store();
    CHECK_RC(persona_store_attr_set_num(s, "crm1", "age", 41), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "crm1", "first_name", "Zoë \"Z\""), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_bool(s, "crm1", "vip", 7), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_time(s, "crm1", "signup", 86400000), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_null(s, "crm1", "churned"), PERSONA_OK);
    double d;
    int32_t b, type;
    int64_t t;
    char buf[32];
    size_t len;
    CHECK_RC(persona_store_attr_get_num(&d, s, "crm1", "age"), PERSONA_OK);
    CHECK(d == 41);
    CHECK_RC(persona_store_attr_get_str(buf, sizeof buf, &len, s, "crm1", "first_name"), PERSONA_OK);
    CHECK_STR(buf, "Zoë \"Z\"");
    CHECK(len == 8);
    CHECK_RC(persona_store_attr_get_bool(&b, s, "crm1", "vip"), PERSONA_OK);
    CHECK(b == 1);
    CHECK_RC(persona_store_attr_get_time(&t, s, "crm1", "signup"), PERSONA_OK);
    CHECK(t == 86400000);
    CHECK_RC(persona_store_attr_type(&type, s, "crm1", "churned"), PERSONA_OK);
    CHECK(type == PERSONA_NULL);
    CHECK_RC(persona_store_attr_get_num(&d, s, "crm1", "first_name"), PERSONA_EINVAL);
    CHECK_MSG("is STR, not NUM");
    CHECK_RC(persona_store_attr_get_num(&d, s, "crm1", "height"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_attr_set_num(s, "crm1", "age", NAN), PERSONA_EINVAL);
    CHECK_RC(persona_store_attr_set_num(s, "", "age", 1), PERSONA_EINVAL);
    CHECK_RC(persona_store_attr_set_str(s, "crm1", "bad", "\xff"), PERSONA_EINVAL);
    /* overwrite with another type */
    CHECK_RC(persona_store_attr_set_str(s, "crm1", "age", "forty-one"), PERSONA_OK);
    CHECK_RC(persona_store_attr_type(&type, s, "crm1", "age"), PERSONA_OK);
    CHECK(type == PERSONA_STR);
    persona_profile_info p = { sizeof p };
    CHECK_RC(persona_store_profile_get(&p, s, "crm1"), PERSONA_OK);
    CHECK(p.events == 0 && p.attributes == 5);
    CHECK_RC(persona_store_attr_remove(s, "crm1", "vip"), PERSONA_OK);
    CHECK_RC(persona_store_attr_remove(s, "crm1", "vip"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_profile_get(&p, s, "crm1"), PERSONA_OK);
    CHECK(p.attributes == 4);

    CHECK_RC(persona_store_consent_set(s, "crm1", "marketing", 1, 1000), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "crm1", "marketing", 0, 2000), PERSONA_OK);
    CHECK_RC(persona_store_consent_get(&b, &t, s, "crm1", "marketing"), PERSONA_OK);
    CHECK(b == 0 && t == 2000);
    CHECK_RC(persona_store_consent_get(&b, &t, s, "crm1", "analytics"), PERSONA_ENOTFOUND);

    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, &len, s, "crm1"), PERSONA_OK);
    CHECK_STR(json, "{\"user_id\":\"crm1\",\"events\":0,\"value_sum\":0,\"orders\":0,"
                    "\"sessions\":0,\"types\":{},\"last\":{},\"engagement\":{},"
                    "\"attributes\":{\"churned\":null,\"signup\":\"1970-01-02 00:00:00\","
                    "\"first_name\":\"Zoë \\\"Z\\\"\",\"age\":\"forty-one\"},"
                    "\"consent\":{\"marketing\":{\"granted\":false,\"time\":\"1970-01-01 00:00:02\"}}}");
    persona_free(json);
    persona_store_free(s);
}

static void test_args(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(NULL, NULL), PERSONA_EINVAL);
    persona_store_options o = { 0 };
    CHECK_RC(persona_store_new(&s, &o), PERSONA_EINVAL);
    CHECK_MSG("struct_size not set");
    CHECK(s == NULL);
    /* A newer caller's options with an unknown field set. */
    struct {
        persona_store_options o;
        uint64_t newer;
    } big = { PERSONA_STORE_OPTIONS_INIT, 1 };
    big.o.struct_size = sizeof big;
    CHECK_RC(persona_store_new(&s, &big.o), PERSONA_EUNSUPPORTED);
    big.newer = 0;
    CHECK_RC(persona_store_new(&s, &big.o), PERSONA_OK);
    persona_store_free(s);
    persona_store_free(NULL);
    persona_store_options neg = PERSONA_STORE_OPTIONS_INIT;
    neg.session_gap_ms = -1;
    CHECK_RC(persona_store_new(&s, &neg), PERSONA_EINVAL);
    CHECK_RC(persona_store_ingest(NULL, NULL, NULL, 0, NULL), PERSONA_EINVAL);
    CHECK(strcmp(persona_strerror(-999), "unknown error") == 0);
    CHECK(persona_version_number() == PERSONA_VERSION_NUMBER);
    CHECK_STR(persona_version_string(), PERSONA_VERSION_STRING);
}

/* Values near DBL_MAX overflow a sum to infinity (as in DuckDB or pandas): the CSV export
 * says inf, the JSON exports say null (JSON has no infinity), never invalid JSON. */
static void test_overflowing_sum(void)
{
    persona_store *s = new_store();
    persona_event e[2] = { ev("big", 1000, "buy", 1e308), ev("big", 2000, "buy", 1e308) };
    CHECK_RC(persona_store_ingest(NULL, s, e, 2, NULL), PERSONA_OK);
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, "big"), PERSONA_OK);
    CHECK(json && strstr(json, "inf") == NULL && strstr(json, "nan") == NULL &&
          strstr(json, "\"value_sum\":null") != NULL);
    persona_free(json);
    char *csv = NULL;
    CHECK_RC(persona_store_export_buffer(&csv, NULL, s, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK(csv && strstr(csv, ",inf,") != NULL);
    persona_free(csv);
    persona_store_free(s);
}

/* Everything about one person: the profile object and the person's events in arrival
 * order (an out-of-order one last), nobody else's. Expected events written by hand. */
static void test_export_profile(void)
{
    persona_store *s = new_store();
    const char *pn[] = { "category" }, *pv[] = { "shoes" };
    persona_event e[4] = { ev("u1", 1000, "view", NAN), ev("u1", 2000, "buy", 12.5),
                           ev("u2", 1500, "view", NAN), ev("u1", 500, "view", NAN) };
    e[0].prop_names = pn, e[0].prop_values = pv, e[0].n_props = 1;
    e[1].item = "i1", e[1].basket = "b1", e[1].event_id = "ev-7";
    CHECK_RC(persona_store_ingest(NULL, s, e, 4, NULL), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_str(s, "u1", "name", "Ann"), PERSONA_OK);
    char *person = NULL, *profile = NULL;
    size_t len = 0;
    CHECK_RC(persona_store_export_profile(&person, &len, s, "u1"), PERSONA_OK);
    CHECK_RC(persona_store_profile_json(&profile, NULL, s, "u1"), PERSONA_OK);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"format\":\"persona-person-1\",\"profile\":%s,\"events\":["
             "{\"time\":\"1970-01-01 00:00:01\",\"type\":\"view\",\"props\":{\"category\":\"shoes\"}},"
             "{\"time\":\"1970-01-01 00:00:02\",\"type\":\"buy\",\"item\":\"i1\",\"basket\":\"b1\","
             "\"id\":\"ev-7\",\"value\":12.5},"
             "{\"time\":\"1970-01-01 00:00:00.500\",\"type\":\"view\"}]}",
             profile ? profile : "");
    CHECK_STR(person, want);
    CHECK(person && len == strlen(person));
    CHECK(profile && strstr(profile, "\"name\":\"Ann\"") != NULL);
    persona_free(person);
    persona_free(profile);
    person = (char *)1;
    CHECK_RC(persona_store_export_profile(&person, NULL, s, "nobody"), PERSONA_ENOTFOUND);
    CHECK(person == NULL);
    CHECK_RC(persona_store_export_profile(NULL, NULL, s, "u1"), PERSONA_EINVAL);
    CHECK_RC(persona_store_export_profile(&person, NULL, s, NULL), PERSONA_EINVAL);
    /* A user with attributes only has no events. */
    CHECK_RC(persona_store_attr_set_num(s, "crm", "ltv", 3), PERSONA_OK);
    CHECK_RC(persona_store_export_profile(&person, NULL, s, "crm"), PERSONA_OK);
    CHECK(person && strstr(person, "\"events\":[]}") != NULL);
    persona_free(person);
    persona_store_free(s);
}

/* Do-not-track: a person who opted out has their events counted as suppressed (strict
 * mode included) and not stored, from arrays and from a CSV load alike; opting back in
 * collects again; a person can opt out before their first event; erasing them forgets the
 * setting with everything else. */
static void test_do_not_track(void)
{
    persona_store *s = new_store();
    persona_event e[3] = { ev("u1", 1000, "view", NAN), ev("u2", 1000, "view", NAN),
                           ev("u1", 2000, "buy", 5) };
    CHECK_RC(persona_store_ingest(NULL, s, e, 1, NULL), PERSONA_OK);
    int32_t tracking = -1;
    CHECK_RC(persona_store_get_tracking(&tracking, s, "u1"), PERSONA_OK);
    CHECK(tracking == 1);
    CHECK_RC(persona_store_set_tracking(s, "u1", 0), PERSONA_OK);
    CHECK_RC(persona_store_set_tracking(s, "later", 0), PERSONA_OK);
    CHECK_RC(persona_store_get_tracking(&tracking, s, "u1"), PERSONA_OK);
    CHECK(tracking == 0);

    persona_ingest_options strict = PERSONA_INGEST_OPTIONS_INIT;
    strict.flags = PERSONA_INGEST_STRICT;
    persona_ingest_stats st;
    persona_ingest_stats_init(&st, sizeof st);
    CHECK_RC(persona_store_ingest(&st, s, e, 3, &strict), PERSONA_OK);
    CHECK(st.events_accepted == 1 && st.events_rejected == 2 &&
          st.rejected[PERSONA_REJECT_SUPPRESSED] == 2);
    CHECK(st.example_lines[PERSONA_REJECT_SUPPRESSED][0] == 1 &&
          st.example_lines[PERSONA_REJECT_SUPPRESSED][1] == 3);
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&p, s, "u1"), PERSONA_OK);
    CHECK(p.events == 1 && p.value_sum == 0);
    CHECK_RC(persona_store_profile_get(&p, s, "later"), PERSONA_OK);
    CHECK(p.events == 0);
    char *json = NULL;
    CHECK_RC(persona_store_profile_json(&json, NULL, s, "u1"), PERSONA_OK);
    CHECK(json && strstr(json, "\"do_not_track\":true") != NULL);
    persona_free(json);

    static const char csv[] = "user_id,timestamp,event\nlater,1970-01-01T00:00:03Z,view\n"
                              "u2,1970-01-01T00:00:04Z,view\n";
    persona_source *src = NULL;
    CHECK_RC(persona_source_open_csv_memory(&src, csv, sizeof csv - 1, NULL, NULL), PERSONA_OK);
    persona_ingest_stats_init(&st, sizeof st);
    CHECK_RC(persona_store_load(&st, s, src, &strict), PERSONA_OK);
    CHECK(st.events_accepted == 1 && st.rejected[PERSONA_REJECT_SUPPRESSED] == 1 &&
          st.example_lines[PERSONA_REJECT_SUPPRESSED][0] == 2);
    persona_source_free(src);

    CHECK_RC(persona_store_set_tracking(s, "u1", 1), PERSONA_OK);
    persona_ingest_stats_init(&st, sizeof st);
    CHECK_RC(persona_store_ingest(&st, s, e + 2, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
    CHECK_RC(persona_store_erase(NULL, s, "later"), PERSONA_OK);
    persona_ingest_stats_init(&st, sizeof st);
    persona_event again = ev("later", 9000, "view", NAN);
    CHECK_RC(persona_store_ingest(&st, s, &again, 1, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1); /* a new person now */
    CHECK_RC(persona_store_get_tracking(&tracking, s, "nobody"), PERSONA_ENOTFOUND);
    CHECK_RC(persona_store_get_tracking(NULL, s, "u1"), PERSONA_EINVAL);
    CHECK_RC(persona_store_set_tracking(NULL, "u1", 0), PERSONA_EINVAL);
    CHECK_RC(persona_store_set_tracking(s, "", 0), PERSONA_EINVAL);
    persona_store_free(s);
}

int main(void)
{
    test_traits();
    test_sessions_boundary();
    test_export_order();
    test_attributes();
    test_empty_export();
    test_many_types();
    test_args();
    test_overflowing_sum();
    test_export_profile();
    test_do_not_track();
    return check_report("test_store");
}
