/* Allocation failures in path models (TESTING.md §5): building (by gap, by session
 * property, from a property with grouping rules, with consent), merging, saving, loading,
 * the explorer's three kinds and the transition tables, with the N-th allocation failing
 * once and from N on, for N = 1, 2, … until the call succeeds. A failed call returns
 * PERSONA_ENOMEM, NULLs its out-pointer and leaks nothing; the call that succeeds gives the
 * reference result. persona_path_next allocates nothing. Every allocation call site of
 * lib/path/ must be reached.
 *
 * usage: test_path_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_inject.h"
#include "oom_sites.h"
#include "path/path_internal.h"
#include "path_test.h"
#include "store_check.h"

static int counted;
static persona_store *store, *part[2];
static persona_path_model *built, *halves[2];
static char path[256];

/* A scenario's result: a model (digested and freed by model_text), or the text of a
 * query (libc memory) for text_only. */
static char *model_text(void *m)
{
    char *d = m ? path_digest(m) : NULL;
    persona_path_free(m);
    return d;
}

static char *text_only(void *text)
{
    return text;
}

static int op_build(void **res, const void *arg)
{
    persona_path_model *m = (persona_path_model *)1;
    int rc = persona_path_build(&m, store, arg);
    *res = m;
    return rc;
}

/* A build whose tables are then counted again by the sparse walk. */
static int op_build_sparse(void **res, const void *arg)
{
    persona_path_model *m = NULL;
    int rc = persona_path_build(&m, store, arg);
    if (!rc && (rc = persona__path_rederive(m, 0)) != PERSONA_OK) {
        persona_path_free(m);
        m = NULL;
    }
    *res = m;
    return rc;
}

static int op_merge(void **res, const void *arg)
{
    (void)arg;
    persona_path_model *m = (persona_path_model *)1;
    int rc = persona_path_merge(&m, halves[0], halves[1]);
    *res = m;
    return rc;
}

static int op_load(void **res, const void *arg)
{
    (void)arg;
    persona_path_model *m = (persona_path_model *)1;
    int rc = persona_path_load(&m, path);
    *res = m;
    return rc;
}

static int op_save(void **res, const void *arg)
{
    (void)arg;
    char **text = (char **)res;
    int rc = persona_path_save(built, path);
    if (!rc) {
        size_t len = 0;
        uint8_t *bytes = read_file(path, &len);
        *text = malloc(2 * len + 1);
        for (size_t i = 0; i < len; i++)
            sprintf(*text + 2 * i, "%02x", bytes[i]);
        (*text)[2 * len] = '\0';
        free(bytes);
    }
    return rc;
}

/* An explorer query (arg: the query) or a transition table (arg NULL: order 2). */
static int op_list(void **res, const void *arg)
{
    char **text = (char **)res;
    persona_path_list *l = (persona_path_list *)1;
    int rc = arg ? persona_path_explore(&l, built, arg) : persona_path_transitions(&l, built, 2);
    if (rc) {
        CHECK(l == NULL);
        return rc;
    }
    failalloc_arm(1, FAILALLOC_FROM_N); /* reading a list allocates nothing */
    size_t rows = 0;
    persona_path_list_size(&rows, l);
    uint64_t sum = 0;
    for (size_t r = 0; r < rows; r++) {
        uint32_t st[16];
        size_t n = 0;
        uint64_t c = 0, x = 0;
        CHECK_RC(persona_path_list_row(st, 16, &n, &c, &x, l, r), PERSONA_OK);
        sum = sum * 31 + c * 7 + x;
        for (size_t i = 0; i < n; i++)
            sum = sum * 17 + st[i];
    }
    CHECK(!failalloc_disarm());
    persona_path_list_free(l);
    *text = malloc(64);
    snprintf(*text, 64, "%zu %llu", rows, (unsigned long long)sum);
    return rc;
}

static persona_store *make_store(int which)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    static const char *const pages[] = { "home", "p/1", "p/2", "cart", NULL, "junk" };
    uint64_t st = 11;
    for (int i = 0; i < 90; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        int p = (int)((st >> 33) % 6), u = (int)((st >> 40) % 6);
        if (which >= 0 && u % 2 != which)
            continue;
        char user[8], sid[8];
        snprintf(user, sizeof user, "u%d", u);
        snprintf(sid, sizeof sid, "s%d", (int)((st >> 50) % 2));
        persona_event e = ev(user, (int64_t)(i % 9) * 1200000, i % 4 ? "view" : "buy", NAN);
        const char *names[2] = { "sid", "page" }, *values[2] = { sid, pages[p] };
        e.prop_names = names;
        e.prop_values = values;
        e.n_props = pages[p] ? 2 : 1;
        CHECK_RC(persona_store_ingest(NULL, s, &e, 1, NULL), PERSONA_OK);
    }
    CHECK_RC(persona_store_consent_set(s, "u1", "analytics", 1, 0), PERSONA_OK);
    CHECK_RC(persona_store_consent_set(s, "u2", "analytics", 1, 0), PERSONA_OK);
    return s;
}

int main(int argc, char **argv)
{
    failalloc_install();
    snprintf(path, sizeof path, "%s/path_oom_%d.snap", test_temp_dir(), (int)getpid());
    store = make_store(-1);
    part[0] = make_store(0);
    part[1] = make_store(1);
    persona_path_rule rules[2] = { PERSONA_PATH_RULE_INIT, PERSONA_PATH_RULE_INIT };
    rules[0].pattern = "p/*";
    rules[0].state = "product";
    rules[1].pattern = "junk";
    persona_path_options o[5];
    for (int i = 0; i < 5; i++) {
        o[i] = (persona_path_options)PERSONA_PATH_OPTIONS_INIT;
        o[i].order = i % 4 + 1;
    }
    o[1].state_prop = "page";
    o[1].rules = rules;
    o[1].n_rules = 2;
    o[2].session_prop = "sid";
    o[3].consent_purpose = "analytics";
    o[4].consent_purpose = "marketing"; /* nobody: an empty model */
    for (int i = 0; i < 5; i++)
        oom_under_injection(op_build, model_text, &o[i], "build", &counted);
    for (int i = 0; i < 2; i++)
        oom_under_injection(op_build_sparse, model_text, &o[i], "build (sparse)", &counted);
    CHECK_RC(persona_path_build(&built, store, &o[1]), PERSONA_OK);
    CHECK_RC(persona_path_build(&halves[0], part[0], &o[1]), PERSONA_OK);
    CHECK_RC(persona_path_build(&halves[1], part[1], &o[1]), PERSONA_OK);
    oom_under_injection(op_merge, model_text, NULL, "merge", &counted);
    oom_under_injection(op_save, text_only, NULL, "save", &counted);
    oom_under_injection(op_load, model_text, NULL, "load", &counted);
    oom_under_injection(op_list, text_only, NULL, "transitions", &counted);
    static const char *const ex[] = { "home" };
    persona_path_query q[3];
    for (int k = 0; k < 3; k++) {
        q[k] = (persona_path_query)PERSONA_PATH_QUERY_INIT;
        q[k].kind = k;
        q[k].goal_state = "cart";
        q[k].exclude = ex;
        q[k].n_exclude = 1;
        oom_under_injection(op_list, text_only, &q[k], "explore", &counted);
    }
    /* next states allocate nothing */
    uint32_t h[2] = { 0, 1 }, st[4];
    double pr[4];
    size_t k = 0;
    failalloc_arm(1, FAILALLOC_FROM_N);
    CHECK_RC(persona_path_next(st, pr, 4, &k, NULL, built, h, 2, 2), PERSONA_OK);
    CHECK_RC(persona_path_next_user(st, pr, 4, &k, NULL, built, "u1", 2), PERSONA_OK);
    CHECK(!failalloc_disarm());
    persona_path_free(built);
    persona_path_free(halves[0]);
    persona_path_free(halves[1]);
    persona_store_free(store);
    persona_store_free(part[0]);
    persona_store_free(part[1]);
    unlink(path);
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "path_build.c", "path_explore.c", "path_list.c",
                                         "path_markov.c", "path_merge.c", "path_options.c",
                                         "path_query.c", "path_snap.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "path", files, 8, 30, "path");
    return check_report("test_path_oom");
}
