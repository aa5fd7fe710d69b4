/* Allocation failures in attribution (TESTING.md §5): building from a store (plain, by
 * touch types with lookback, with consent), from host journeys, merging, saving, loading
 * and every model (the Markov chain allocates; heuristics only their scratch), with the
 * N-th allocation failing once and from N on, for N = 1, 2, … until the call succeeds. A
 * failed call returns PERSONA_ENOMEM, NULLs its out-pointer and leaks nothing; the call
 * that succeeds gives the reference result. Every allocation call site of
 * lib/attribution/ must be reached.
 *
 * usage: test_attribution_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "attr_test.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_inject.h"
#include "oom_sites.h"

static int counted;
static persona_store *store, *part[2];
static persona_attribution *built, *halves[2];
static char path[256];

static char *result_of(persona_attribution *a, char *text)
{
    if (!a)
        return text;
    char *d = attr_digest(a);
    persona_attribution_free(a);
    return d;
}

OOM_DEFINE_UNDER_INJECTION(persona_attribution, result_of)

static int op_build(persona_attribution **a, char **text, const void *arg)
{
    (void)text;
    int rc = persona_attribution_build(a, store, arg);
    if (rc)
        CHECK(*a == NULL);
    return rc;
}

static int op_journeys(persona_attribution **a, char **text, const void *arg)
{
    (void)text;
    (void)arg;
    static const char *const names[] = { "A", "B", "C", "D" };
    static const uint64_t off[] = { 0, 2, 4, 5, 9, 11 };
    static const uint32_t touch[] = { 0, 1, 0, 0, 2, 0, 1, 2, 0, 0, 1 };
    static const uint64_t conv[] = { 1, 0, 2, 1, 1 }, nulls[] = { 0, 1, 1, 0, 0 };
    static const double value[] = { 5, 0, 7, 1, 5 };
    static const int64_t ages[] = { 9, 0, 5, 1, 0, 40, 30, 20, 10, 2, 0 };
    persona_attribution_journeys in = PERSONA_ATTRIBUTION_JOURNEYS_INIT;
    in.channels = names;
    in.n_channels = 4;
    in.n_journeys = 5;
    in.offsets = off;
    in.touch_channels = touch;
    in.conversions = conv;
    in.values = value;
    in.nulls = nulls;
    in.touch_ages_ms = ages;
    in.half_life_ms = 10;
    int rc = persona_attribution_from_journeys(a, &in);
    if (rc)
        CHECK(*a == NULL);
    return rc;
}

static int op_merge(persona_attribution **a, char **text, const void *arg)
{
    (void)text;
    (void)arg;
    int rc = persona_attribution_merge(a, halves[0], halves[1]);
    if (rc)
        CHECK(*a == NULL);
    return rc;
}

static int op_load(persona_attribution **a, char **text, const void *arg)
{
    (void)text;
    (void)arg;
    int rc = persona_attribution_load(a, path);
    if (rc)
        CHECK(*a == NULL);
    return rc;
}

static int op_save(persona_attribution **a, char **text, const void *arg)
{
    (void)arg;
    *a = NULL;
    int rc = persona_attribution_save(built, path);
    if (!rc)
        *text = file_hex(path);
    return rc;
}

/* One model's credits as text; arg: model * 10 + order. */
static int op_compute(persona_attribution **a, char **text, const void *arg)
{
    *a = NULL;
    int code = *(const int *)arg;
    attr_credit c;
    int rc = attr_run(&c, built, code / 10, code % 10, 0, 0, 0);
    if (!rc) {
        *text = malloc(128 * c.n + 1);
        char *p = *text;
        *p = '\0';
        for (size_t i = 0; i < c.n; i++)
            p += sprintf(p, "%.17g %.17g %.17g ", c.conv[i], c.value[i], c.re[i]);
    }
    return rc;
}

static persona_store *make_store(int which)
{
    persona_store *s = new_seeded_store(2);
    static const char *const ch[] = { "mail", "search", "social", NULL };
    uint64_t st = 11;
    for (int i = 0; i < 80; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        int u = (int)((st >> 40) % 6), k = (int)((st >> 33) % 5);
        if (which >= 0 && u % 2 != which)
            continue;
        char user[8];
        snprintf(user, sizeof user, "u%d", u);
        if (k == 4)
            attr_event(s, user, i * 1000, "purchase", NULL, (double)(i % 5));
        else
            attr_event(s, user, i * 1000, k == 3 ? "visit" : "ad", ch[k], NAN);
    }
    CHECK_RC(persona_store_consent_set(s, "u1", "ads", 1, 0), PERSONA_OK);
    return s;
}

int main(int argc, char **argv)
{
    failalloc_install();
    snprintf(path, sizeof path, "%s/attr_oom_%d.snap", test_temp_dir(), (int)getpid());
    store = make_store(-1);
    part[0] = make_store(0);
    part[1] = make_store(1);
    static const char *const purchase[] = { "purchase" }, *const touch[] = { "visit", "ad" };
    persona_attribution_options o[3];
    for (int i = 0; i < 3; i++) {
        o[i] = (persona_attribution_options)PERSONA_ATTRIBUTION_OPTIONS_INIT;
        o[i].channel_prop = "campaign";
        o[i].conversion_types = purchase;
        o[i].n_conversion_types = 1;
    }
    o[1].touch_types = touch;
    o[1].n_touch_types = 2;
    o[1].lookback_ms = 20000;
    o[2].consent_purpose = "ads";
    for (int i = 0; i < 3; i++)
        under_injection(op_build, &o[i], "build");
    under_injection(op_journeys, NULL, "host journeys");
    CHECK_RC(persona_attribution_build(&built, store, &o[1]), PERSONA_OK);
    CHECK_RC(persona_attribution_build(&halves[0], part[0], &o[1]), PERSONA_OK);
    CHECK_RC(persona_attribution_build(&halves[1], part[1], &o[1]), PERSONA_OK);
    under_injection(op_merge, NULL, "merge");
    under_injection(op_save, NULL, "save");
    under_injection(op_load, NULL, "load");
    static const int codes[] = { 1, 2, 3, 4, 10, 30, 50 };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        under_injection(op_compute, &codes[i], "compute");
    persona_attribution_free(built);
    persona_attribution_free(halves[0]);
    persona_attribution_free(halves[1]);
    persona_store_free(store);
    persona_store_free(part[0]);
    persona_store_free(part[1]);
    unlink(path);
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "attribution_build.c", "attribution_compute.c",
                                         "attribution_input.c", "attribution_io.c",
                                         "attribution_markov.c", "attribution_merge.c",
                                         "attribution_paths.c", "attribution_set.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "attribution", files, 8, 30, "attribution");
    return check_report("test_attribution_oom");
}
