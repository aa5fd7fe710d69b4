/* Saving and loading affinity matrices (persona_affinity_save / _load, docs/file-format.md
 * kind 7): matrices by basket, session and user (with categories, event types, consent)
 * come back answering every query the same and save to the same bytes; damaged files
 * (every truncation, a flipped byte at every position) are refused with ECORRUPT or
 * EVERSION and no matrix; other kinds and missing files are refused.
 *
 * usage: test_affinity_io */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "aff_test.h"
#include "file_check.h"
#include "damage_check.h"

static char path_a[256], path_b[256];

static persona_store *small_store(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    static const char *const items[] = { "milk", "bread", "a, \"b\"", "jam", "tea" };
    static const char *const cats[] = { "dairy", "bakery", NULL, "spreads", "drinks" };
    uint64_t st = 7;
    for (int i = 0; i < 40; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        int it = (int)(st >> 33) % 5, u = (int)(st >> 40) % 4, b = (int)(st >> 50) % 3;
        char user[8], basket[8];
        snprintf(user, sizeof user, "u%d", u);
        snprintf(basket, sizeof basket, "b%d%d", u, b);
        aff_event(s, user, (int64_t)(i % 7) * 3600000, i % 5 ? "buy" : "view", items[it], basket,
                  cats[it]);
    }
    return s;
}

static void round_trip(const persona_affinity_matrix *m, const char *what)
{
    CHECK_RC(persona_affinity_save(m, path_a), PERSONA_OK);
    persona_affinity_matrix *back = NULL;
    CHECK_RC(persona_affinity_load(&back, path_a), PERSONA_OK);
    if (!back)
        return;
    char *a = aff_digest(m), *b = aff_digest(back);
    if (strcmp(a, b)) {
        CHECK(!"a loaded matrix answers as the saved one");
        fprintf(stderr, "  %s\n", what);
    }
    /* and recommends from its own units the same */
    uint32_t i1[8], i2[8];
    size_t n1 = 0, n2 = 0;
    int r1 = persona_affinity_recommend(i1, NULL, 8, &n1, m, NULL, "u1", NULL, 0, 0, 0);
    int r2 = persona_affinity_recommend(i2, NULL, 8, &n2, back, NULL, "u1", NULL, 0, 0, 0);
    CHECK(r1 == r2 && n1 == n2 && memcmp(i1, i2, n1 * sizeof *i1) == 0);
    CHECK_RC(persona_affinity_save(back, path_b), PERSONA_OK);
    check_same_bytes(path_a, path_b);
    free(a);
    free(b);
    persona_affinity_free(back);
}

/* A load for check_damaged(): no matrix on failure, freed on success. */
static int load_checked(const char *path)
{
    persona_affinity_matrix *m = (persona_affinity_matrix *)1;
    int rc = persona_affinity_load(&m, path);
    if (rc == PERSONA_OK)
        persona_affinity_free(m);
    else
        CHECK(m == NULL);
    return rc;
}

static void damaged(const char *what)
{
    check_damaged(path_a, path_b, load_checked, what);
}

int main(void)
{
    snprintf(path_a, sizeof path_a, "%s/aff_io_a_%d.snap", test_temp_dir(), (int)getpid());
    snprintf(path_b, sizeof path_b, "%s/aff_io_b_%d.snap", test_temp_dir(), (int)getpid());
    persona_store *s = small_store();
    static const char *const buy[] = { "buy" };
    for (int by = 0; by < 3; by++) {
        persona_affinity_options o = PERSONA_AFFINITY_OPTIONS_INIT;
        o.by = by;
        if (by == 1) {
            o.event_types = buy;
            o.n_event_types = 1;
            o.category_source = PERSONA_AFFINITY_CATEGORY_ITEM;
        }
        if (by == 2)
            o.consent_purpose = "analytics"; /* nobody granted it: an empty matrix */
        persona_affinity_matrix *m = NULL;
        CHECK_RC(persona_affinity_build(&m, s, &o), PERSONA_OK);
        round_trip(m, by == 0 ? "by basket" : by == 1 ? "by session" : "empty");
        damaged(by == 0 ? "by basket" : by == 1 ? "by session" : "empty");
        persona_affinity_free(m);
    }
    /* the wrong kind, a missing file, NULLs */
    CHECK_RC(persona_store_save(s, path_b), PERSONA_OK);
    persona_affinity_matrix *m = (persona_affinity_matrix *)1;
    CHECK_RC(persona_affinity_load(&m, path_b), PERSONA_ECORRUPT);
    CHECK(m == NULL);
    unlink(path_b);
    CHECK_RC(persona_affinity_load(&m, path_b), PERSONA_EIO);
    CHECK(strstr(persona_errmsg(), path_b) != NULL);
    CHECK_RC(persona_affinity_load(NULL, path_b), PERSONA_EINVAL);
    CHECK_RC(persona_affinity_save(NULL, path_b), PERSONA_EINVAL);
    unlink(path_a);
    unlink(path_b);
    persona_store_free(s);
    return check_report("test_affinity_io");
}
