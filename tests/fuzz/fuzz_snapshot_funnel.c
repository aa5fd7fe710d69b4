/* Fuzz target: bytes -> persona_funnel_load (of a snapshot held in memory).
 *
 * Input: a funnel snapshot (docs/file-format.md), usually a damaged one; seeds are real
 * funnels written by make_model_seeds.c. CRCs are not compared in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, PERSONA_ECORRUPT or PERSONA_EVERSION, nothing else; no funnel on
 *     failure;
 *  2. on success every accessor answers for every step, trend period and user (a user's
 *     stage read back by key equals the listed one), and the three exports succeed;
 *  3. load(save(x)) == x (same JSON export, same bytes when saved again); merging the
 *     reloaded copy into x is refused (the same users are in both) and leaves x as it was. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohort/funnel_internal.h"
#include "fuzz_common.h"
#include "fuzz_memfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *export(const persona_funnel *f, int32_t format)
{
    char *out = NULL;
    int rc = persona_funnel_export_buffer(&out, NULL, f, format);
    FUZZ_ASSERT(rc == PERSONA_OK, "export %d returned %d (%s)", format, rc, persona_errmsg());
    return out;
}

static void check_accessors(const persona_funnel *f)
{
    size_t steps = 0, periods = 0, users = 0;
    char buf[8192];
    FUZZ_OK(persona_funnel_step_count(&steps, f));
    for (size_t i = 0; i < steps; i++) {
        uint64_t n, hist[PERSONA_FUNNEL_TIME_BUCKETS];
        double a, b;
        FUZZ_OK(persona_funnel_step_event(buf, sizeof buf, NULL, f, i));
        FUZZ_OK(persona_funnel_units(&n, f, i));
        FUZZ_OK(persona_funnel_conversion(&a, &b, f, i));
        FUZZ_OK(persona_funnel_time_quantile(&a, f, i, 0.5));
        FUZZ_OK(persona_funnel_time_quantile(&a, f, i, 1.0));
        FUZZ_OK(persona_funnel_time_histogram(hist, PERSONA_FUNNEL_TIME_BUCKETS, NULL, f, i));
    }
    FUZZ_OK(persona_funnel_trend_count(&periods, f));
    for (size_t i = 0; i < periods && i < 4096; i++) {
        int64_t start;
        uint64_t in, conv;
        FUZZ_OK(persona_funnel_trend_at(&start, &in, &conv, f, i));
    }
    FUZZ_OK(persona_funnel_user_count(&users, f));
    for (size_t i = 0; i < users && i < 4096; i++) {
        int32_t stage = -1, again = -2;
        FUZZ_OK(persona_funnel_user_at(buf, sizeof buf, NULL, &stage, f, i));
        FUZZ_OK(persona_funnel_stage_of(&again, f, buf));
        FUZZ_ASSERT(stage == again, "user %zu: stage %d listed, %d by key", i, stage, again);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_funnel *f = (persona_funnel *)1;
    int rc = persona__funnel_load_memory(&f, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(f == NULL, "failed load left a funnel");
        return 0;
    }
    check_accessors(f);
    persona_free(export(f, PERSONA_FUNNEL_EXPORT_CSV));
    persona_free(export(f, PERSONA_FUNNEL_EXPORT_STAGES_CSV));
    char *json = export(f, PERSONA_FUNNEL_EXPORT_JSON);

    size_t len1 = 0, len2 = 0;
    persona__io_set(&memfs_ops);
    rc = persona_funnel_save(f, "/memfs/funnel.snap");
    persona__io_set(NULL);
    uint8_t *b1 = memfs_take(rc, &len1);
    persona_funnel *g = NULL;
    rc = persona__funnel_load_memory(&g, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved funnel failed: %d (%s)", rc, persona_errmsg());
    char *json2 = export(g, PERSONA_FUNNEL_EXPORT_JSON);
    FUZZ_ASSERT(strcmp(json, json2) == 0, "the reloaded funnel exports differently");
    persona__io_set(&memfs_ops);
    rc = persona_funnel_save(g, "/memfs/funnel.snap");
    persona__io_set(NULL);
    uint8_t *b2 = memfs_take(rc, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    size_t users = 0;
    FUZZ_OK(persona_funnel_user_count(&users, f));
    rc = persona_funnel_merge(f, g);
    FUZZ_ASSERT(users ? rc == PERSONA_EINVAL : rc == PERSONA_OK,
                "merging a funnel with its copy (%zu users) returned %d", users, rc);
    if (users) {
        char *json3 = export(f, PERSONA_FUNNEL_EXPORT_JSON);
        FUZZ_ASSERT(strcmp(json, json3) == 0, "a refused merge changed the funnel");
        persona_free(json3);
    }
    persona_free(json);
    persona_free(json2);
    free(b1);
    free(b2);
    persona_funnel_free(g);
    persona_funnel_free(f);
    return 0;
}
