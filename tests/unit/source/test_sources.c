/* Source handles through the public API: the caller's vtable (errors → ECALLBACK, close
 * exactly once, optional callbacks), attributes from a source, rewind, progress, arrays,
 * CSV/JSONL open errors and strict mode's first bad row in file order. */
#include <stdlib.h>

#include "check.h"

typedef struct vt_state {
    int next_calls, closes, fail_at, attr_calls;
    persona_event ev[2];
    persona_attribute attr[1];
} vt_state;

static int vt_next(void *ctx, const persona_event **events, size_t *count)
{
    vt_state *st = ctx;
    if (++st->next_calls == st->fail_at)
        return -5;
    *events = st->ev;
    *count = st->next_calls <= 2 ? 2 : 0;
    return 0;
}

static int vt_attrs(void *ctx, const persona_attribute **attrs, size_t *count)
{
    vt_state *st = ctx;
    *attrs = st->attr;
    *count = st->attr_calls++ == 0 ? 1 : 0;
    return 0;
}

static int vt_close(void *ctx)
{
    ((vt_state *)ctx)->closes++;
    return 0;
}

static void init_state(vt_state *st)
{
    memset(st, 0, sizeof *st);
    persona_event e = PERSONA_EVENT_INIT;
    e.user = "v", e.time_ms = 10, e.type = "t";
    st->ev[0] = e;
    e.time_ms = 20;
    st->ev[1] = e;
    persona_attribute a = { sizeof a, PERSONA_NUM, "v", "score", 4.5, NULL, 0, 0, 0 };
    st->attr[0] = a;
}

static void test_vtable(void)
{
    vt_state st;
    init_state(&st);
    persona_source_vtable vt = { sizeof vt, 0, vt_next, NULL, vt_attrs, vt_close };
    persona_source *src = NULL;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK_RC(persona_source_new(&src, &vt, &st), PERSONA_OK);
    CHECK_RC(persona_source_rewind(src), PERSONA_EUNSUPPORTED);
    persona_ingest_stats stats = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_load(&stats, s, src, NULL), PERSONA_OK);
    CHECK(stats.events_accepted == 4 && stats.rows_read == 4);
    double score;
    CHECK_RC(persona_store_attr_get_num(&score, s, "v", "score"), PERSONA_OK);
    CHECK(score == 4.5);
    persona_source_free(src);
    CHECK(st.closes == 1);

    init_state(&st);
    st.fail_at = 2;
    CHECK_RC(persona_source_new(&src, &vt, &st), PERSONA_OK);
    CHECK_RC(persona_store_load(&stats, s, src, NULL), PERSONA_ECALLBACK);
    CHECK_MSG("returned -5");
    CHECK(stats.events_accepted == 2); /* the first batch stays applied */
    persona_source_free(src);
    CHECK(st.closes == 1);

    persona_source_vtable no_next = { sizeof no_next, 0, NULL, NULL, NULL, NULL };
    CHECK_RC(persona_source_new(&src, &no_next, &st), PERSONA_EINVAL);
    CHECK(src == NULL);
    persona_source_vtable zero = { 0 };
    CHECK_RC(persona_source_new(&src, &zero, &st), PERSONA_EINVAL);
    persona_source_free(NULL);
    persona_store_free(s);
}

static int stop_progress(void *ctx, uint64_t rows, uint64_t bytes)
{
    (void)bytes;
    *(uint64_t *)ctx = rows;
    return -1;
}

static char *big_csv(int rows)
{
    size_t cap = (size_t)rows * 40 + 64;
    char *t = malloc(cap);
    size_t n = (size_t)snprintf(t, cap, "user_id,timestamp\n");
    for (int i = 0; i < rows; i++)
        n += (size_t)snprintf(t + n, cap - n, "u%d,%d\n", i % 97, 1000 + i);
    return t;
}

static void test_csv_source(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    char *text = big_csv(10000);
    persona_source *src = NULL;
    CHECK_RC(persona_source_open_csv_memory(&src, text, strlen(text), NULL, NULL), PERSONA_OK);
    persona_ingest_options o = PERSONA_INGEST_OPTIONS_INIT;
    uint64_t seen = 0;
    o.progress = stop_progress;
    o.progress_ctx = &seen;
    o.progress_every = 5000;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_load(&st, s, src, &o), PERSONA_ECALLBACK);
    CHECK(seen >= 5000 && seen < 10000);
    /* rewind and read all again into a fresh store */
    persona_store *s2 = NULL;
    CHECK_RC(persona_store_new(&s2, NULL), PERSONA_OK);
    CHECK_RC(persona_source_rewind(src), PERSONA_OK);
    CHECK_RC(persona_store_load(&st, s2, src, NULL), PERSONA_OK);
    CHECK(st.rows_read == 10000 && st.events_accepted == 10000);
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    CHECK_RC(persona_store_info_get(&info, s2), PERSONA_OK);
    CHECK(info.users == 97 && info.events == 10000 && info.first_time_ms == 1000000);
    persona_source_free(src);
    free(text);

    /* a named column that is missing: EINVAL listing the header */
    persona_mapping m = PERSONA_MAPPING_INIT;
    m.item = "sku";
    CHECK_RC(persona_source_open_csv_memory(&src, "user_id,timestamp\n", 18, NULL, &m), PERSONA_EINVAL);
    CHECK_MSG("item column 'sku' is not in the header (columns: user_id, timestamp)");
    CHECK(src == NULL);
    CHECK_RC(persona_source_open_csv_memory(&src, "", 0, NULL, NULL), PERSONA_EPARSE);
    CHECK_RC(persona_source_open_csv(&src, "/nonexistent/x.csv", NULL, NULL), PERSONA_EIO);
    CHECK_MSG("/nonexistent/x.csv");
    persona_csv_options bad = PERSONA_CSV_OPTIONS_INIT;
    bad.delimiter = '"';
    CHECK_RC(persona_source_open_csv_memory(&src, "a\n", 2, &bad, NULL), PERSONA_EINVAL);
    m = (persona_mapping)PERSONA_MAPPING_INIT;
    m.time_format = "%d/%q";
    CHECK_RC(persona_source_open_csv_memory(&src, "user_id,timestamp\n", 18, NULL, &m), PERSONA_EINVAL);

    /* strict: a bad time on line 4 comes after an empty user on line 3: line 3 is reported */
    static const char strict_csv[] = "user_id,timestamp\na,1000\n,2000\nb,notatime\n";
    CHECK_RC(persona_source_open_csv_memory(&src, strict_csv, sizeof strict_csv - 1, NULL, NULL),
             PERSONA_OK);
    o = (persona_ingest_options)PERSONA_INGEST_OPTIONS_INIT;
    o.flags = PERSONA_INGEST_STRICT;
    CHECK_RC(persona_store_load(&st, s2, src, &o), PERSONA_EPARSE);
    CHECK_MSG("line 3");
    uint64_t line = 0;
    CHECK_RC(persona_error_position(&line, NULL), PERSONA_OK);
    CHECK(line == 3);
    persona_source_free(src);
    static const char strict2[] = "user_id,timestamp\na,1000\nb,notatime\n,3000\n";
    CHECK_RC(persona_source_open_csv_memory(&src, strict2, sizeof strict2 - 1, NULL, NULL), PERSONA_OK);
    CHECK_RC(persona_store_load(&st, s2, src, &o), PERSONA_EPARSE);
    CHECK_MSG("line 3: time 'notatime'");
    persona_source_free(src);
    persona_store_free(s);
    persona_store_free(s2);
}

/* Review findings: example lines are the smallest per reason whoever rejected the row;
 * rewind clears a strict failure; constructors NULL their out-param on every error. */
static void test_review_regressions(void)
{
    /* lines 2-5: 4100-byte users (the store rejects them); lines 6-9: 6000-byte rows
     * (the reader rejects them): the examples must be 2 3 4 5 */
    size_t cap = 4 * 4200 + 4 * 6100 + 64, n = 0;
    char *t = malloc(cap);
    n += (size_t)snprintf(t + n, cap - n, "user_id,timestamp\n");
    for (int i = 0; i < 4; i++) {
        memset(t + n, 'u', 4100);
        n += 4100;
        n += (size_t)snprintf(t + n, cap - n, ",%d\n", i);
    }
    for (int i = 0; i < 4; i++) {
        memset(t + n, 'r', 6000);
        n += 6000;
        n += (size_t)snprintf(t + n, cap - n, ",%d\n", i);
    }
    persona_csv_options o = PERSONA_CSV_OPTIONS_INIT;
    o.max_row_bytes = 5000;
    persona_source *src = NULL;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK_RC(persona_source_open_csv_memory(&src, t, n, &o, NULL), PERSONA_OK);
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    CHECK(st.rejected[PERSONA_REJECT_TOO_LONG] == 8);
    CHECK(st.example_lines[PERSONA_REJECT_TOO_LONG][0] == 2 &&
          st.example_lines[PERSONA_REJECT_TOO_LONG][3] == 5);
    persona_source_free(src);
    free(t);

    static const char bad[] = "user_id,timestamp\na,1000\nb,xx\nc,3000\n";
    CHECK_RC(persona_source_open_csv_memory(&src, bad, sizeof bad - 1, NULL, NULL), PERSONA_OK);
    persona_ingest_options strict = PERSONA_INGEST_OPTIONS_INIT;
    strict.flags = PERSONA_INGEST_STRICT;
    CHECK_RC(persona_store_load(&st, s, src, &strict), PERSONA_EPARSE);
    CHECK_RC(persona_source_rewind(src), PERSONA_OK);
    persona_store *s2 = NULL;
    CHECK_RC(persona_store_new(&s2, NULL), PERSONA_OK);
    CHECK_RC(persona_store_load(&st, s2, src, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 2 && st.rejected[PERSONA_REJECT_BAD_TIME] == 1);
    persona_source_free(src);

    src = (persona_source *)(uintptr_t)1;
    CHECK_RC(persona_source_open_csv(&src, NULL, NULL, NULL), PERSONA_EINVAL);
    CHECK(src == NULL);
    src = (persona_source *)(uintptr_t)1;
    CHECK_RC(persona_source_open_jsonl_memory(&src, NULL, 5, NULL), PERSONA_EINVAL);
    CHECK(src == NULL);
    char *json = (char *)(uintptr_t)1;
    CHECK_RC(persona_store_profile_json(&json, NULL, NULL, "u"), PERSONA_EINVAL);
    CHECK(json == NULL);
    persona_store_free(s);
    persona_store_free(s2);
}

/* JSONL members of every shape against the time format and value product. */
static void test_jsonl_fields(void)
{
    static const char text[] =
        "{\"user_id\":\"a\",\"timestamp\":1.6e12,\"q\":2,\"p\":1.5}\n"      /* ms by magnitude */
        "{\"user_id\":\"b\",\"timestamp\":1.6e9,\"q\":2,\"p\":\"x\"}\n"    /* bad number */
        "{\"user_id\":\"c\",\"timestamp\":1e30,\"q\":2,\"p\":1}\n"         /* out of range */
        "{\"user_id\":\"d\",\"timestamp\":1.6e9,\"q\":[2],\"p\":1}\n"      /* wrong type */
        "{\"user_id\":\"e\",\"timestamp\":1.6e9,\"q\":2,\"p\":{}}\n"       /* wrong type */
        "{\"user_id\":\"f\",\"timestamp\":1.6e9,\"q\":\"\",\"p\":1}\n"     /* no value */
        "{\"user_id\":12,\"timestamp\":\"2021-01-01\",\"q\":null,\"p\":1,\"ev\":\"buy\"}\n";
    persona_mapping m = PERSONA_MAPPING_INIT;
    m.value = "q*p";
    persona_source *src = NULL;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK_RC(persona_source_open_jsonl_memory(&src, text, sizeof text - 1, &m), PERSONA_OK);
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 3 && st.rejected[PERSONA_REJECT_BAD_NUMBER] == 1 &&
          st.rejected[PERSONA_REJECT_BAD_TIME] == 1 && st.rejected[PERSONA_REJECT_WRONG_TYPE] == 2);
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&p, s, "a"), PERSONA_OK);
    CHECK(p.first_seen_ms == 1600000000000 && p.value_sum == 3);
    CHECK_RC(persona_store_profile_get(&p, s, "f"), PERSONA_OK);
    CHECK(p.first_seen_ms == 1600000000000 && p.value_sum == 0);
    CHECK_RC(persona_store_profile_get(&p, s, "12"), PERSONA_OK);
    CHECK(p.first_seen_ms == 1609459200000);
    persona_source_free(src);

    /* unix_ms: an exponent number is milliseconds; iso refuses numbers with exponents */
    static const char t2[] = "{\"user_id\":\"g\",\"timestamp\":1.6e12}\n";
    m = (persona_mapping)PERSONA_MAPPING_INIT;
    m.time_format = "unix_ms";
    CHECK_RC(persona_source_open_jsonl_memory(&src, t2, sizeof t2 - 1, &m), PERSONA_OK);
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1);
    persona_source_free(src);
    m.time_format = "iso";
    CHECK_RC(persona_source_open_jsonl_memory(&src, t2, sizeof t2 - 1, &m), PERSONA_OK);
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 0 && st.rejected[PERSONA_REJECT_BAD_TIME] == 1);
    persona_source_free(src);
    /* a named event member must be there */
    m = (persona_mapping)PERSONA_MAPPING_INIT;
    m.event = "ev";
    static const char t3[] = "{\"user_id\":\"h\",\"timestamp\":1}\n{\"user_id\":\"h\",\"timestamp\":1,\"ev\":\"x\"}\n";
    CHECK_RC(persona_source_open_jsonl_memory(&src, t3, sizeof t3 - 1, &m), PERSONA_OK);
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 1 && st.rejected[PERSONA_REJECT_MISSING_EVENT] == 1);
    persona_source_free(src);
    persona_store_free(s);
}

static void test_arrays(void)
{
    const char *users[] = { "a", "b", NULL, "a" };
    int64_t times[] = { 1, 2, 3, 4 };
    double values[] = { 1.5, NAN, 2, 0.25 };
    const char *refs[] = { "x", NULL, "y", "" };
    const char *const *pv[] = { refs };
    const char *pn[] = { "referrer" };
    persona_event_arrays a = { sizeof a, 0, 4, users, times, NULL, NULL, values, NULL, NULL, 1, pn, pv };
    persona_source *src = NULL;
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK_RC(persona_source_from_arrays(&src, &a), PERSONA_OK);
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    CHECK_RC(persona_store_load(&st, s, src, NULL), PERSONA_OK);
    CHECK(st.events_accepted == 3 && st.rejected[PERSONA_REJECT_MISSING_USER] == 1);
    CHECK(st.example_lines[PERSONA_REJECT_MISSING_USER][0] == 3);
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    CHECK_RC(persona_store_profile_get(&p, s, "a"), PERSONA_OK);
    CHECK(p.events == 2 && p.value_sum == 1.75);
    char buf[8];
    CHECK_RC(persona_store_profile_last(buf, sizeof buf, NULL, NULL, s, "a", "referrer"), PERSONA_OK);
    CHECK_STR(buf, "x"); /* the "" of the later event means absent */
    CHECK_RC(persona_source_rewind(src), PERSONA_OK);
    persona_source_free(src);
    a.user = NULL;
    CHECK_RC(persona_source_from_arrays(&src, &a), PERSONA_EINVAL);
    persona_store_free(s);
}

int main(void)
{
    test_vtable();
    test_csv_source();
    test_arrays();
    test_review_regressions();
    test_jsonl_fields();
    return check_report("test_sources");
}
