/* Saving and loading path models (persona_path_save / _load, docs/file-format.md kind 8):
 * models by gap and by session property, with grouping rules, of orders 1 to 4, and an
 * empty one come back answering every query the same (and the same next state of each
 * user) and save to the same bytes; damaged files (every truncation, a flipped byte at
 * every position) are refused with ECORRUPT or EVERSION and no model; other kinds and
 * missing files are refused.
 *
 * usage: test_path_io */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "file_check.h"
#include "damage_check.h"
#include "path_test.h"
#include "store_check.h"

static char path_a[256], path_b[256];

static persona_store *small_store(void)
{
    persona_store *s = new_seeded_store(9);
    static const char *const pages[] = { "home", "product/1", "product/2", "cart", NULL };
    uint64_t st = 7;
    for (int i = 0; i < 60; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        int p = (int)(st >> 33) % 5, u = (int)(st >> 40) % 4;
        char user[8], sid[8];
        snprintf(user, sizeof user, "u%d", u);
        snprintf(sid, sizeof sid, "s%d", (int)(st >> 50) % 3);
        persona_event e = ev(user, (int64_t)(i % 9) * 1200000, i % 3 ? "view" : "click", NAN);
        const char *names[2] = { "page", "sid" }, *values[2] = { pages[p], sid };
        e.prop_names = pages[p] ? names : names + 1;
        e.prop_values = pages[p] ? values : values + 1;
        e.n_props = pages[p] ? 2 : 1;
        CHECK_RC(persona_store_ingest(NULL, s, &e, 1, NULL), PERSONA_OK);
    }
    return s;
}

static void round_trip(const persona_path_model *m, const char *what)
{
    CHECK_RC(persona_path_save(m, path_a), PERSONA_OK);
    persona_path_model *back = NULL;
    CHECK_RC(persona_path_load(&back, path_a), PERSONA_OK);
    if (!back)
        return;
    char *a = path_digest(m), *b = path_digest(back);
    if (strcmp(a, b)) {
        CHECK(!"a loaded model answers as the saved one");
        fprintf(stderr, "  %s\n", what);
    }
    for (int u = 0; u < 5; u++) {
        char user[8];
        snprintf(user, sizeof user, "u%d", u);
        uint32_t s1[8], s2[8];
        double p1[8], p2[8];
        size_t n1 = 0, n2 = 0;
        int r1 = persona_path_next_user(s1, p1, 8, &n1, NULL, m, user, 1);
        int r2 = persona_path_next_user(s2, p2, 8, &n2, NULL, back, user, 1);
        CHECK(r1 == r2 && n1 == n2 && memcmp(s1, s2, n1 * sizeof *s1) == 0 &&
              memcmp(p1, p2, n1 * sizeof *p1) == 0);
    }
    CHECK_RC(persona_path_save(back, path_b), PERSONA_OK);
    check_same_bytes(path_a, path_b);
    free(a);
    free(b);
    persona_path_free(back);
}

static int load_checked(const char *path)
{
    persona_path_model *m = (persona_path_model *)1;
    int rc = persona_path_load(&m, path);
    if (rc == PERSONA_OK)
        persona_path_free(m);
    else
        CHECK(m == NULL);
    return rc;
}

int main(void)
{
    snprintf(path_a, sizeof path_a, "%s/path_io_a_%d.snap", test_temp_dir(), (int)getpid());
    snprintf(path_b, sizeof path_b, "%s/path_io_b_%d.snap", test_temp_dir(), (int)getpid());
    persona_store *s = small_store();
    persona_path_rule rules[2] = { PERSONA_PATH_RULE_INIT, PERSONA_PATH_RULE_INIT };
    rules[0].pattern = "product/*";
    rules[0].state = "product";
    rules[1].pattern = "cart";
    for (int variant = 0; variant < 4; variant++) {
        persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
        o.order = variant + 1;
        if (variant == 1) {
            o.state_prop = "page";
            o.rules = rules;
            o.n_rules = 2;
        }
        if (variant == 2)
            o.session_prop = "sid";
        if (variant == 3)
            o.consent_purpose = "analytics"; /* nobody granted it: an empty model */
        persona_path_model *m = NULL;
        CHECK_RC(persona_path_build(&m, s, &o), PERSONA_OK);
        static const char *const what[] = { "by type", "by page with rules", "by session id",
                                             "empty" };
        round_trip(m, what[variant]);
        check_damaged(path_a, path_b, load_checked, what[variant]);
        persona_path_free(m);
    }
    CHECK_RC(persona_store_save(s, path_b), PERSONA_OK);
    persona_path_model *m = (persona_path_model *)1;
    CHECK_RC(persona_path_load(&m, path_b), PERSONA_ECORRUPT);
    CHECK(m == NULL);
    unlink(path_b);
    CHECK_RC(persona_path_load(&m, path_b), PERSONA_EIO);
    CHECK(strstr(persona_errmsg(), path_b) != NULL);
    CHECK_RC(persona_path_load(NULL, path_b), PERSONA_EINVAL);
    CHECK_RC(persona_path_save(NULL, path_b), PERSONA_EINVAL);
    unlink(path_a);
    unlink(path_b);
    persona_store_free(s);
    return check_report("test_path_io");
}
