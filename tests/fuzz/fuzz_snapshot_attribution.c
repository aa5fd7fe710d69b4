/* Fuzz target: bytes -> persona_attribution_load (of a snapshot held in memory).
 *
 * Input: an attribution journey-set snapshot (docs/file-format.md, "attribution journeys
 * (kind 9)"), usually a damaged one; seeds are real sets written by make_model_seeds.c.
 * CRCs are not compared in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, or PERSONA_ECORRUPT / EVERSION / ENOMEM / EIO with no set;
 *  2. on success: channel names ascend bytewise; paths are non-empty with channels in
 *     range, ascend in canonical order and add up to the info's totals; every heuristic
 *     model credits non-negative shares summing to the conversions (when the set's counts
 *     are small enough to add exactly); Markov removal effects of order 1 and 2 lie in
 *     [0, 1] (small sets only: the solver's work grows with the states);
 *  3. load(save(s)) == s: saving the reloaded set gives the same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution/attribution_internal.h"
#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "persona/attribution.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_models(const persona_attribution *a, size_t C, uint64_t conversions, int exact)
{
    double conv[64], value[64], re[64], rev[64];
    for (int32_t m = 0; m < PERSONA_ATTRIBUTION_MODELS; m++)
        for (int32_t k = 1; k <= (m == PERSONA_ATTRIBUTION_MARKOV ? 2 : 1); k++) {
            persona_attribution_model_options o = PERSONA_ATTRIBUTION_MODEL_OPTIONS_INIT;
            o.model = m;
            o.order = k;
            size_t n = 0;
            int rc = persona_attribution_compute(conv, value, re, rev, 64, &n, a, &o);
            FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_ENOMEM, "compute: %d", rc);
            if (rc)
                continue;
            FUZZ_ASSERT(n == C, "compute gave %zu channels of %zu", n, C);
            double sum = 0;
            for (size_t c = 0; c < n; c++) {
                sum += conv[c];
                if (m == PERSONA_ATTRIBUTION_MARKOV)
                    FUZZ_ASSERT(re[c] >= -1e-9 && re[c] <= 1 + 1e-9, "removal effect %g", re[c]);
                else
                    FUZZ_ASSERT(isnan(re[c]), "heuristic removal effect not NaN");
            }
            if (exact && m != PERSONA_ATTRIBUTION_DECAY)
                FUZZ_ASSERT(fabs(sum - (double)conversions) <= 1e-6 * ((double)conversions + 1),
                            "model %d credits %.17g of %llu conversions", m, sum,
                            (unsigned long long)conversions);
        }
}

static void check(const persona_attribution *a)
{
    persona_attribution_info in = PERSONA_ATTRIBUTION_INFO_INIT;
    FUZZ_OK(persona_attribution_info_get(&in, a));
    char prev[4200] = "", name[4200];
    for (size_t i = 0; i < in.channels; i++) {
        FUZZ_OK(persona_attribution_channel_name(name, sizeof name, NULL, a, i));
        FUZZ_ASSERT(i == 0 || strcmp(prev, name) < 0, "channel %zu is out of order", i);
        memcpy(prev, name, sizeof name);
    }
    uint64_t conv_sum = 0, big = 0;
    uint32_t last[64];
    size_t last_n = 0;
    for (size_t p = 0; p < in.paths; p++) {
        uint32_t ch[64];
        size_t n = 0;
        uint64_t conv = 0, nulls = 0;
        double v = 0;
        int rc = persona_attribution_path(ch, 64, &n, &conv, &v, &nulls, a, p);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EBUFS, "path %zu: %d", p, rc);
        FUZZ_ASSERT(n >= 1 && (conv || nulls), "path %zu is empty or has no journey", p);
        big |= conv >> 40;
        conv_sum += conv;
        if (rc)
            continue;
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(ch[i] < in.channels, "path %zu: channel out of range", p);
        if (p && last_n) {
            size_t i = 0;
            while (i < n && i < last_n && ch[i] == last[i])
                i++;
            FUZZ_ASSERT(i < n && (i == last_n || last[i] < ch[i]), "path %zu is out of order", p);
        }
        memcpy(last, ch, n * sizeof *ch);
        last_n = n;
    }
    FUZZ_ASSERT(conv_sum == in.conversions, "conversions do not add up");
    if (in.channels <= 64 && in.paths <= 256)
        check_models(a, (size_t)in.channels, in.conversions, !big && in.paths < 64);
}

static uint8_t *save(const persona_attribution *a, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_attribution_save(a, "/memfs/attribution.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_attribution *a = (persona_attribution *)1;
    int rc = persona__attribution_load_memory(&a, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION || rc == PERSONA_ENOMEM ||
                        rc == PERSONA_EIO,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(a == NULL, "failed load left a set");
        return 0;
    }
    FUZZ_ASSERT(a != NULL, "load succeeded without a set");
    check(a);
    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save(a, &len1);
    persona_attribution *y = NULL;
    rc = persona__attribution_load_memory(&y, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved set failed: %d (%s)", rc, persona_errmsg());
    check(y);
    uint8_t *b2 = save(y, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    free(b1);
    free(b2);
    persona_attribution_free(y);
    persona_attribution_free(a);
    return 0;
}
