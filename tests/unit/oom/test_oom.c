/* Allocation-failure injection (TESTING.md §5): every scenario is run with the N-th
 * allocation failing, once and from N on, for N = 1, 2, … until it succeeds. Each failure
 * must return PERSONA_ENOMEM (or succeed with the reference result where the allocation
 * was optional), leave the store's state unchanged, NULL the out-pointer, leak nothing,
 * and the same call without the fault must then give the reference result. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "failalloc.h"

typedef struct scenario {
    const char *name;
    /* Build the state the call acts on (not under fault injection); may be NULL. */
    persona_store *(*setup)(void);
    /* The call under test; *out_text (may stay NULL) holds what it produced. */
    int (*run)(persona_store *s, char **out_text);
    /* A load of several batches: a failure keeps the batches before it, so the retry runs
     * on a fresh store instead of checking that nothing changed. */
    int several_batches;
} scenario;

static const char CSV[] =
    "user_id,timestamp,event,value,cat,basket\n"
    "u1,2023-01-01 10:00:00,view,,shoes,\n"
    "u2,2023-01-01 10:01:00,buy,12.5,hats,o1\n"
    ",2023-01-01 10:02:00,view,,,\n"
    "u1,2023-01-01 11:00:00,buy,3,shoes,o2\n"
    "u3,2023-01-01 11:00:00,view,x,,\n";
static const char JSONL[] =
    "{\"user_id\":\"u1\",\"timestamp\":\"2023-01-01T10:00:00Z\",\"event\":\"view\",\"ref\":\"ad\"}\n"
    "{\"user_id\":\"u4\",\"timestamp\":1672567200000,\"event\":\"buy\",\"value\":2}\n"
    "[1,2]\n";

static persona_store *empty_store(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 3;
    persona_store *s = NULL;
    if (persona_store_new(&s, &o) != PERSONA_OK)
        abort();
    return s;
}

static persona_store *filled_store(void)
{
    persona_store *s = empty_store();
    const char *pn[] = { "category" }, *pv[] = { "shoes" };
    persona_event e[3] = { PERSONA_EVENT_INIT, PERSONA_EVENT_INIT, PERSONA_EVENT_INIT };
    e[0].user = "u1", e[0].time_ms = 1000, e[0].type = "view";
    e[0].prop_names = pn, e[0].prop_values = pv, e[0].n_props = 1;
    e[1].user = "u2", e[1].time_ms = 2000, e[1].type = "buy", e[1].value = 4, e[1].basket = "o";
    e[2].user = "u1", e[2].time_ms = 500, e[2].type = "buy", e[2].event_id = "e2";
    if (persona_store_ingest(NULL, s, e, 3, NULL) != PERSONA_OK ||
        persona_store_attr_set_str(s, "u1", "name", "Ann") != PERSONA_OK)
        abort();
    return s;
}

static int run_new(persona_store *unused, char **text)
{
    (void)unused;
    persona_store *s = NULL;
    int rc = persona_store_new(&s, NULL);
    if (rc != PERSONA_OK && s != NULL)
        return -1000; /* out must be NULL on failure */
    if (rc == PERSONA_OK) {
        char *csv = NULL;
        rc = persona_store_export_buffer(&csv, NULL, s, PERSONA_EXPORT_PROFILES_CSV);
        if (rc == PERSONA_OK)
            *text = strdup(csv); /* libc copy: the live count of libpersona blocks can reach 0 */
        persona_free(csv);
        persona_store_free(s);
    }
    return rc;
}

static int run_ingest(persona_store *s, char **text)
{
    const char *pn[] = { "category", "referrer" }, *pv[] = { "hats", "mail" };
    persona_event e[4] = { PERSONA_EVENT_INIT, PERSONA_EVENT_INIT, PERSONA_EVENT_INIT,
                           PERSONA_EVENT_INIT };
    e[0].user = "u9", e[0].time_ms = 3000, e[0].type = "view", e[0].item = "i1";
    e[0].prop_names = pn, e[0].prop_values = pv, e[0].n_props = 2;
    e[1].user = "u1", e[1].time_ms = 100, e[1].type = "new-type", e[1].event_id = "e9";
    e[2].user = "u2", e[2].time_ms = 9000, e[2].type = "buy", e[2].basket = "o2", e[2].value = 1;
    e[3].user = "", e[3].time_ms = 1;
    (void)text;
    return persona_store_ingest(NULL, s, e, 4, NULL);
}

static int load(persona_store *s, persona_source *src, int rc)
{
    if (rc != PERSONA_OK)
        return rc;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    rc = persona_store_load(&st, s, src, NULL);
    persona_source_free(src);
    return rc;
}

static int run_csv(persona_store *s, char **text)
{
    const char *names[] = { "category" }, *cols[] = { "cat" };
    persona_mapping m = PERSONA_MAPPING_INIT;
    m.basket = "basket";
    m.prop_names = names, m.prop_columns = cols, m.n_props = 1;
    persona_source *src = NULL;
    int rc = persona_source_open_csv_memory(&src, CSV, sizeof CSV - 1, NULL, &m);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

static int run_jsonl(persona_store *s, char **text)
{
    const char *names[] = { "referrer" }, *cols[] = { "ref" };
    persona_mapping m = PERSONA_MAPPING_INIT;
    m.prop_names = names, m.prop_columns = cols, m.n_props = 1;
    persona_source *src = NULL;
    int rc = persona_source_open_jsonl_memory(&src, JSONL, sizeof JSONL - 1, &m);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

static int run_arrays(persona_store *s, char **text)
{
    const char *users[] = { "a", "b", "a" }, *types[] = { "x", "y", NULL };
    const char *cats[] = { "c1", NULL, "c2" };
    const char *const *pv[] = { cats };
    const char *pn[] = { "category" };
    int64_t times[] = { 5, 6, 7 };
    double values[] = { 1, NAN, 2 };
    persona_event_arrays a = { sizeof a, 0, 3, users, times, types, NULL, values, NULL, NULL,
                               1, pn, pv };
    persona_source *src = NULL;
    int rc = persona_source_from_arrays(&src, &a);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

static char csv_path[64], jsonl_path[64];

static void write_temp(char *path, size_t cap, const char *suffix, const char *text)
{
    snprintf(path, cap, "/tmp/persona_oom_XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

static int run_csv_file(persona_store *s, char **text)
{
    persona_source *src = NULL;
    int rc = persona_source_open_csv(&src, csv_path, NULL, NULL);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

static int run_jsonl_file(persona_store *s, char **text)
{
    persona_source *src = NULL;
    int rc = persona_source_open_jsonl(&src, jsonl_path, NULL);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

/* A caller's vtable source: one batch of two events, then the end (one batch, so a failed
 * load must leave the store unchanged). */
typedef struct vt_ctx {
    int calls;
    persona_event e[2];
} vt_ctx;

static int vt_next(void *ctx, const persona_event **events, size_t *count)
{
    vt_ctx *c = ctx;
    *events = c->e;
    *count = c->calls++ == 0 ? 2 : 0;
    return 0;
}

static int run_vtable(persona_store *s, char **text)
{
    vt_ctx c = { 0, { PERSONA_EVENT_INIT, PERSONA_EVENT_INIT } };
    c.e[0].user = "v1", c.e[0].time_ms = 10;
    c.e[1].user = "v2", c.e[1].time_ms = 20, c.e[1].type = "t";
    persona_source_vtable vt = { sizeof vt, 0, vt_next, NULL, NULL, NULL };
    persona_source *src = NULL;
    int rc = persona_source_new(&src, &vt, &c);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

/* Enough users that the profile array must grow inside an attribute setter. */
static persona_store *store_64_users(void)
{
    persona_store *s = empty_store();
    char key[16];
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "k%d", i);
        if (persona_store_attr_set_bool(s, key, "b", 1) != PERSONA_OK)
            abort();
    }
    return s;
}

/* 10,000 rows: three batches, so parsing moves to the CSV source's worker thread and
 * allocation failures hit it there too. */
static char *many_rows_csv;
static size_t many_rows_len;

static void make_many_rows(void)
{
    size_t cap = 10000 * 48 + 64;
    many_rows_csv = malloc(cap);
    size_t n = (size_t)snprintf(many_rows_csv, cap, "user_id,timestamp,event,value,cat\n");
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(many_rows_csv + n, cap - n, "user%d,%d,%s,%d.5,c%d\n", i % 613,
                              1600000000 + i, i % 3 ? "view" : "buy", i % 7, i % 5);
    many_rows_len = n;
}

static int run_csv_batches(persona_store *s, char **text)
{
    const char *names[] = { "category" }, *cols[] = { "cat" };
    persona_mapping m = PERSONA_MAPPING_INIT;
    m.prop_names = names, m.prop_columns = cols, m.n_props = 1;
    persona_source *src = NULL;
    int rc = persona_source_open_csv_memory(&src, many_rows_csv, many_rows_len, NULL, &m);
    if (rc != PERSONA_OK && src)
        return -1000;
    (void)text;
    return load(s, src, rc);
}

/* One call per scenario: a failed call must leave the store as it was. */
static int run_attr_new_user(persona_store *s, char **text)
{
    (void)text;
    return persona_store_attr_set_str(s, "u7", "name", "Bo");
}

static int run_attr_overwrite(persona_store *s, char **text)
{
    (void)text;
    return persona_store_attr_set_num(s, "u1", "name", 30);
}

static int run_consent(persona_store *s, char **text)
{
    (void)text;
    return persona_store_consent_set(s, "u8", "marketing", 1, 5);
}

static int run_export(persona_store *s, char **text)
{
    char *csv = NULL, *json = NULL;
    int rc = persona_store_export_buffer(&csv, NULL, s, PERSONA_EXPORT_PROFILES_CSV);
    if (rc != PERSONA_OK && csv)
        return -1000;
    if (rc == PERSONA_OK)
        rc = persona_store_profile_json(&json, NULL, s, "u1");
    if (rc != PERSONA_OK && json)
        return -1000;
    if (rc == PERSONA_OK) {
        size_t n = strlen(csv) + strlen(json) + 2;
        *text = malloc(n);
        snprintf(*text, n, "%s|%s", csv, json);
    }
    persona_free(csv);
    persona_free(json);
    return rc;
}

static int run_export_person(persona_store *s, char **text)
{
    char *out = (char *)1;
    int rc = persona_store_export_profile(&out, NULL, s, "u1");
    if (rc != PERSONA_OK)
        return out == NULL ? rc : -1000;
    *text = strdup(out);
    persona_free(out);
    return rc;
}

static int run_erase(persona_store *s, char **text)
{
    persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
    int rc = persona_store_erase(&r, s, "u1");
    if (rc == PERSONA_OK && (*text = malloc(64)) != NULL)
        snprintf(*text, 64, "%llu events %llu attributes", (unsigned long long)r.events,
                 (unsigned long long)r.attributes);
    return rc;
}

static int run_anonymize(persona_store *s, char **text)
{
    char key[PERSONA_ANON_KEY_LEN + 1];
    int rc = persona_store_anonymize(key, sizeof key, NULL, NULL, s, "u1");
    if (rc == PERSONA_OK)
        *text = strdup("anonymized"); /* the key is random: compare that it worked */
    return rc;
}

static int run_opt_out(persona_store *s, char **text)
{
    (void)text;
    return persona_store_set_tracking(s, "newcomer", 0); /* makes a profile */
}

/* Snapshots: a save that fails leaves no temporary file and the previous snapshot as it
 * was; an open that fails returns no store. */
static char snap_dir[64], snap_path[96], saved_path[96];

static int temp_files_left(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", snap_dir);
    return system(cmd) == 0;
}

/* A checksum of the file, as text (libc memory: the live count of libpersona blocks must
 * reach 0 between runs). */
static char *file_digest(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint64_t h = 1469598103934665603ull, n = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        h = (h ^ (uint64_t)c) * 1099511628211ull;
        n++;
    }
    fclose(f);
    char *out = malloc(48);
    if (out)
        snprintf(out, 48, "%llu bytes, fnv %016llx", (unsigned long long)n,
                 (unsigned long long)h);
    return out;
}

static int run_save(persona_store *s, char **text)
{
    char *before = file_digest(snap_path);
    int rc = persona_store_save(s, snap_path);
    char *after = file_digest(snap_path);
    if (rc != PERSONA_OK && (temp_files_left() || !before || !after || strcmp(before, after)))
        rc = -1000; /* a failed save must not touch the previous snapshot */
    free(before);
    if (rc == PERSONA_OK)
        *text = after;
    else
        free(after);
    return rc;
}

static persona_store *filled_store_saved(void)
{
    persona_store *s = filled_store();
    if (persona_store_save(s, saved_path) != PERSONA_OK)
        abort();
    return s;
}

static int run_open(persona_store *unused, char **text)
{
    (void)unused;
    persona_store *t = (persona_store *)1;
    int rc = persona_store_open(&t, saved_path);
    if (rc != PERSONA_OK)
        return t == NULL ? rc : -1000;
    char *csv = NULL;
    rc = persona_store_export_buffer(&csv, NULL, t, PERSONA_EXPORT_PROFILES_JSONL);
    if (rc == PERSONA_OK)
        *text = strdup(csv);
    persona_free(csv);
    persona_store_free(t);
    return rc;
}

/* The store's whole state as text (computed with injection off). */
static char *digest(persona_store *s)
{
    if (!s)
        return NULL;
    char *out = NULL, *copy;
    if (persona_store_export_buffer(&out, NULL, s, PERSONA_EXPORT_PROFILES_JSONL) != PERSONA_OK)
        abort();
    copy = strdup(out);
    persona_free(out);
    /* Keys made by persona_store_anonymize are random: compare them as "anon-*". */
    for (char *p = copy; p && (p = strstr(p, "anon-")) != NULL; p += 5)
        if (strspn(p + 5, "0123456789abcdef") >= 16)
            memset(p + 5, '*', 16);
    return copy;
}

static int run_scenario(const scenario *sc, persona_store **s, char **text)
{
    *s = sc->setup ? sc->setup() : NULL;
    *text = NULL;
    return sc->run(*s, text);
}

static void check_scenario(const scenario *sc)
{
    persona_store *ref_store;
    char *ref_text;
    if (run_scenario(sc, &ref_store, &ref_text) != PERSONA_OK) {
        fprintf(stderr, "%s: reference run failed: %s\n", sc->name, persona_errmsg());
        check_failures++;
        return;
    }
    char *ref_digest = digest(ref_store);
    persona_store_free(ref_store);
    int failures_before = check_failures;
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            persona_store *s = sc->setup ? sc->setup() : NULL;
            char *before = digest(s), *text = NULL;
            failalloc_arm(n, mode);
            int rc = sc->run(s, &text);
            int injected = failalloc_disarm();
            char fail_site[128];
            snprintf(fail_site, sizeof fail_site, "%s", failalloc_last_site());
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK); /* n is past the last allocation: the plain run */
            } else if (rc != PERSONA_OK) {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s: n=%llu mode=%d at %s: rc %d (%s)\n", sc->name,
                            (unsigned long long)n, mode, failalloc_last_site(), rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
                char *after = digest(s);
                check_count++;
                if (!sc->several_batches && before && (!after || strcmp(before, after) != 0)) {
                    check_failures++;
                    fprintf(stderr, "%s: n=%llu mode=%d: state changed by a failed call (%s)\n",
                            sc->name, (unsigned long long)n, mode, fail_site);
                    if (getenv("OOM_VERBOSE"))
                        fprintf(stderr, "before:\n%s\nafter:\n%s\n", before, after ? after : "(null)");
                }
                free(after);
                free(text);
                text = NULL;
                if (sc->several_batches) {
                    persona_store_free(s);
                    s = sc->setup();
                }
                rc = sc->run(s, &text); /* the same call without the fault */
                CHECK_RC(rc, PERSONA_OK);
            }
            char *d = digest(s);
            CHECK(!ref_digest || (d && strcmp(d, ref_digest) == 0));
            CHECK(!ref_text || (text && strcmp(text, ref_text) == 0));
            free(d);
            free(before);
            free(text);
            persona_store_free(s);
            if (failalloc_live() != 0) {
                fprintf(stderr, "%s: n=%llu mode=%d: %llu blocks leaked\n", sc->name,
                        (unsigned long long)n, mode, (unsigned long long)failalloc_live());
                check_failures++;
                return;
            }
            if (check_failures > failures_before + 5 || !injected)
                break;
        }
    }
    free(ref_text);
    free(ref_digest);
}

int main(int argc, char **argv)
{
    write_temp(csv_path, sizeof csv_path, ".csv", CSV);
    make_many_rows();
    write_temp(jsonl_path, sizeof jsonl_path, ".jsonl", JSONL);
    snprintf(snap_dir, sizeof snap_dir, "/tmp/persona_oom_snap_XXXXXX");
    if (!mkdtemp(snap_dir))
        abort();
    snprintf(snap_path, sizeof snap_path, "%s/store.snap", snap_dir);
    snprintf(saved_path, sizeof saved_path, "%s/saved.snap", snap_dir);
    failalloc_install();
    {
        persona_store *old = empty_store(); /* the previous snapshot a failed save keeps */
        if (persona_store_save(old, snap_path) != PERSONA_OK)
            abort();
        persona_store_free(old);
    }
    static const scenario scenarios[] = {
        { "store new", NULL, run_new },
        { "array ingest", filled_store, run_ingest },
        { "csv load", filled_store, run_csv },
        { "jsonl load", filled_store, run_jsonl },
        { "arrays source", empty_store, run_arrays },
        { "attribute of a new user", filled_store, run_attr_new_user },
        { "attribute overwritten", filled_store, run_attr_overwrite },
        { "consent", filled_store, run_consent },
        { "attribute growing the profiles", store_64_users, run_attr_new_user },
        { "csv file load", filled_store, run_csv_file },
        { "jsonl file load", filled_store, run_jsonl_file },
        { "vtable source", filled_store, run_vtable },
        { "csv load over several batches", empty_store, run_csv_batches, 1 },
        { "export", filled_store, run_export },
        { "export of one person", filled_store, run_export_person },
        { "erase", filled_store, run_erase },
        { "anonymize", filled_store, run_anonymize },
        { "opt-out of a new user", filled_store, run_opt_out },
        { "snapshot save", filled_store, run_save },
        { "snapshot open", filled_store_saved, run_open },
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++)
        check_scenario(&scenarios[i]);
    fprintf(stderr, "allocation call sites reached: %zu\n", failalloc_sites_seen());
    if (argc > 1)
        failalloc_dump_sites(argv[1]);
    remove(csv_path);
    remove(jsonl_path);
    remove(snap_path);
    remove(saved_path);
    rmdir(snap_dir);
    free(many_rows_csv);
    return check_report("test_oom");
}
