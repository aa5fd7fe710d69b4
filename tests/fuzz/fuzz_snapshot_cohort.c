/* Fuzz target: bytes -> persona_cohort_table_load (of a snapshot held in memory).
 *
 * Input: a cohort table snapshot (docs/file-format.md), usually a damaged one; seeds are
 * real tables written by make_model_seeds.c. CRCs are not compared in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, PERSONA_ECORRUPT or PERSONA_EVERSION, nothing else; no table on
 *     failure;
 *  2. on success every accessor answers for every row, column and built metric, and both
 *     exports succeed;
 *  3. load(save(x)) == x (same JSON export, and saving again gives the same bytes), and
 *     merging the reloaded copy into x succeeds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohort/cohort_internal.h"
#include "fuzz_common.h"
#include "fuzz_memfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *export(const persona_cohort_table *t, int32_t format, int32_t metric)
{
    char *out = NULL;
    int rc = persona_cohort_table_export_buffer(&out, NULL, t, format, metric);
    FUZZ_ASSERT(rc == PERSONA_OK, "export %d/%d returned %d (%s)", format, metric, rc,
                persona_errmsg());
    return out;
}

static void check_accessors(const persona_cohort_table *t)
{
    size_t rows = 0, cols = 0;
    int32_t kind = -1;
    FUZZ_OK(persona_cohort_table_rows(&rows, t));
    FUZZ_OK(persona_cohort_table_cols(&cols, t));
    FUZZ_OK(persona_cohort_table_kind(&kind, t));
    char buf[8192];
    for (size_t c = 0; c < cols; c++)
        FUZZ_OK(persona_cohort_table_col_label(buf, sizeof buf, NULL, t, c));
    for (size_t r = 0; r < rows; r++) {
        uint64_t n;
        int64_t start;
        FUZZ_OK(persona_cohort_table_label(buf, sizeof buf, NULL, t, r));
        FUZZ_OK(persona_cohort_table_size(&n, NULL, t, r));
        int rc = persona_cohort_table_row_start(&start, t, r);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_ENOTFOUND, "row_start returned %d", rc);
        for (size_t c = 0; c < cols; c++)
            for (int32_t m = PERSONA_COHORT_USERS; m <= PERSONA_COHORT_LTV; m++) {
                double v;
                rc = persona_cohort_table_cell(&v, NULL, t, r, c, m);
                FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EUNSUPPORTED || rc == PERSONA_EINVAL,
                            "cell returned %d", rc);
                FUZZ_ASSERT(rc != PERSONA_EINVAL || kind != PERSONA_COHORT_RETENTION,
                            "cell of a retention table refused metric %d", m);
            }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_cohort_table *t = (persona_cohort_table *)1;
    int rc = persona__cohort_table_load_memory(&t, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(t == NULL, "failed load left a table");
        return 0;
    }
    check_accessors(t);
    persona_free(export(t, PERSONA_COHORT_EXPORT_CSV, PERSONA_COHORT_USERS));
    char *json = export(t, PERSONA_COHORT_EXPORT_JSON, 0);

    size_t len1 = 0, len2 = 0;
    persona__io_set(&memfs_ops);
    rc = persona_cohort_table_save(t, "/memfs/table.snap");
    persona__io_set(NULL);
    uint8_t *b1 = memfs_take(rc, &len1);
    persona_cohort_table *u = NULL;
    rc = persona__cohort_table_load_memory(&u, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved table failed: %d (%s)", rc, persona_errmsg());
    char *json2 = export(u, PERSONA_COHORT_EXPORT_JSON, 0);
    FUZZ_ASSERT(strcmp(json, json2) == 0, "the reloaded table exports differently");
    persona__io_set(&memfs_ops);
    rc = persona_cohort_table_save(u, "/memfs/table.snap");
    persona__io_set(NULL);
    uint8_t *b2 = memfs_take(rc, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    rc = persona_cohort_table_merge(t, u);
    FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EINVAL, "merge returned %d (%s)", rc,
                persona_errmsg());
    persona_free(json);
    persona_free(json2);
    free(b1);
    free(b2);
    persona_cohort_table_free(u);
    persona_cohort_table_free(t);
    return 0;
}
