/* Fuzz target: bytes -> persona_rfm_load (of a snapshot held in memory).
 *
 * Input: an RFM table snapshot (docs/file-format.md, "RFM table (kind 5)"), usually a
 * damaged one; seeds are real tables written by make_model_seeds.c. CRCs are not compared
 * in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, or PERSONA_ECORRUPT / EVERSION / ENOMEM / EIO with no table;
 *  2. on success: bins in 2 … 10; for every user, user_at (read through EBUFS into an exact
 *     buffer) is a non-empty key that find() maps back to its index, get() gives r, f, m in
 *     1 … bins, a named segment, frequency >= 1, recency = floor((reference - latest) /
 *     1 day) >= 0; the users per segment counted from get() equal segment_size() and sum to
 *     count(); index count is ENOTFOUND; the CSV export has count + 1 rows (line feeds
 *     outside quotes), the summary PERSONA_RFM_SEGMENTS + 1, and the JSON export succeeds;
 *  3. load(save(x)) == x: same JSON and CSV exports, and saving the reloaded table gives the
 *     same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "persona/rfm.h"
#include "segment/rfm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY_MS INT64_C(86400000)

static char *export(const persona_rfm *x, int32_t format, size_t *lines)
{
    char *out = NULL;
    size_t len = 0;
    int rc = persona_rfm_export_buffer(&out, &len, x, format);
    FUZZ_ASSERT(rc == PERSONA_OK && out, "export %d returned %d (%s)", format, rc,
                persona_errmsg());
    FUZZ_ASSERT(strlen(out) == len, "export %d: length %zu, text of %zu bytes", format, len,
                strlen(out));
    if (lines) {
        /* CSV rows: line feeds outside quotes (a key may hold one; "" toggles twice) */
        int quoted = 0;
        *lines = 0;
        for (size_t i = 0; i < len; i++) {
            quoted ^= out[i] == '"';
            *lines += out[i] == '\n' && !quoted;
        }
    }
    return out;
}

static void check_accessors(const persona_rfm *x)
{
    size_t n = 0;
    uint32_t bins = 0;
    int64_t ref = 0;
    FUZZ_OK(persona_rfm_count(&n, x));
    FUZZ_OK(persona_rfm_bins(&bins, x));
    FUZZ_OK(persona_rfm_reference(&ref, x));
    FUZZ_ASSERT(bins >= PERSONA_RFM_MIN_BINS && bins <= PERSONA_RFM_MAX_BINS, "%u bins", bins);
    uint64_t per_segment[PERSONA_RFM_SEGMENTS] = { 0 };
    char small[64];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        int rc = persona_rfm_user_at(small, sizeof small, &len, x, i);
        FUZZ_ASSERT(rc == PERSONA_OK || (rc == PERSONA_EBUFS && len >= sizeof small),
                    "user_at %zu returned %d (length %zu)", i, rc, len);
        char *key = small;
        if (rc == PERSONA_EBUFS) {
            key = malloc(len + 1);
            FUZZ_ASSERT(key != NULL, "out of memory");
            size_t again = 0;
            FUZZ_OK(persona_rfm_user_at(key, len + 1, &again, x, i));
            FUZZ_ASSERT(again == len, "user %zu: length %zu, then %zu", i, len, again);
        }
        FUZZ_ASSERT(len >= 1 && strlen(key) == len, "user %zu: key of %zu bytes, strlen %zu", i,
                    len, strlen(key));
        size_t at = SIZE_MAX;
        FUZZ_OK(persona_rfm_find(&at, x, key));
        FUZZ_ASSERT(at == i, "find(user %zu) gave %zu", i, at);
        if (key != small)
            free(key);
        persona_rfm_entry e = PERSONA_RFM_ENTRY_INIT;
        FUZZ_OK(persona_rfm_get(&e, x, i));
        FUZZ_ASSERT(e.segment >= 0 && e.segment < PERSONA_RFM_SEGMENTS, "user %zu: segment %d", i,
                    e.segment);
        per_segment[e.segment]++;
        FUZZ_ASSERT(e.r >= 1 && e.r <= (int32_t)bins && e.f >= 1 && e.f <= (int32_t)bins &&
                        e.m >= 1 && e.m <= (int32_t)bins,
                    "user %zu: scores %d %d %d of %u bins", i, e.r, e.f, e.m, bins);
        FUZZ_ASSERT(e.frequency >= 1 && !isnan(e.monetary), "user %zu: frequency %llu monetary %g",
                    i, (unsigned long long)e.frequency, e.monetary);
        FUZZ_ASSERT(e.last_purchase_ms <= ref && e.recency_days >= 0 &&
                        e.recency_days == (ref - e.last_purchase_ms) / DAY_MS,
                    "user %zu: latest %lld, recency %lld days, reference %lld", i,
                    (long long)e.last_purchase_ms, (long long)e.recency_days, (long long)ref);
    }
    persona_rfm_entry e = PERSONA_RFM_ENTRY_INIT;
    FUZZ_ASSERT(persona_rfm_get(&e, x, n) == PERSONA_ENOTFOUND, "get(%zu) of %zu users", n, n);
    FUZZ_ASSERT(persona_rfm_user_at(small, sizeof small, NULL, x, n) == PERSONA_ENOTFOUND,
                "user_at(%zu) of %zu users", n, n);
    uint64_t sum = 0;
    for (int32_t s = 0; s < PERSONA_RFM_SEGMENTS; s++) {
        uint64_t k = UINT64_MAX;
        FUZZ_OK(persona_rfm_segment_size(&k, x, s));
        FUZZ_ASSERT(k == per_segment[s], "segment %d: size %llu, %llu users in it", s,
                    (unsigned long long)k, (unsigned long long)per_segment[s]);
        sum += k;
    }
    FUZZ_ASSERT(sum == n, "segment sizes sum to %llu of %zu users", (unsigned long long)sum, n);
    size_t lines = 0;
    persona_free(export(x, PERSONA_RFM_EXPORT_CSV, &lines));
    FUZZ_ASSERT(lines == n + 1, "CSV export of %zu users has %zu lines", n, lines);
    persona_free(export(x, PERSONA_RFM_EXPORT_SUMMARY_CSV, &lines));
    FUZZ_ASSERT(lines == PERSONA_RFM_SEGMENTS + 1, "summary export has %zu lines", lines);
}

static uint8_t *save(const persona_rfm *x, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_rfm_save(x, "/memfs/rfm.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_rfm *x = (persona_rfm *)1;
    int rc = persona__rfm_load_memory(&x, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION || rc == PERSONA_ENOMEM ||
                        rc == PERSONA_EIO,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(x == NULL, "failed load left a table");
        return 0;
    }
    FUZZ_ASSERT(x != NULL, "load succeeded without a table");
    check_accessors(x);
    char *json = export(x, PERSONA_RFM_EXPORT_JSON, NULL);
    char *csv = export(x, PERSONA_RFM_EXPORT_CSV, NULL);

    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save(x, &len1);
    persona_rfm *y = NULL;
    rc = persona__rfm_load_memory(&y, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved table failed: %d (%s)", rc, persona_errmsg());
    check_accessors(y);
    char *json2 = export(y, PERSONA_RFM_EXPORT_JSON, NULL);
    char *csv2 = export(y, PERSONA_RFM_EXPORT_CSV, NULL);
    FUZZ_ASSERT(strcmp(json, json2) == 0, "the reloaded table exports other JSON");
    FUZZ_ASSERT(strcmp(csv, csv2) == 0, "the reloaded table exports other CSV");
    uint8_t *b2 = save(y, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    persona_free(json);
    persona_free(json2);
    persona_free(csv);
    persona_free(csv2);
    free(b1);
    free(b2);
    persona_rfm_free(y);
    persona_rfm_free(x);
    return 0;
}
