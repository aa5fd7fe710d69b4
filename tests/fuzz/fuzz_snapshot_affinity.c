/* Fuzz target: bytes -> persona_affinity_load (of a snapshot held in memory).
 *
 * Input: an affinity matrix snapshot (docs/file-format.md, "affinity matrix (kind 7)"),
 * usually a damaged one; seeds are real matrices written by make_model_seeds.c. CRCs are not
 * compared in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, or PERSONA_ECORRUPT / EVERSION / ENOMEM / EIO with no matrix;
 *  2. on success: every item's key finds its own index, keys ascend bytewise; every pair
 *     count is at most both item counts, which are at most the units; similar items
 *     (every measure, the first 16 items) come sorted by the documented order with
 *     co-counts > 0; recommendations from the matrix's units hold no owned item;
 *  3. load(save(m)) == m: saving the reloaded matrix gives the same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "affinity/affinity_internal.h"
#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "persona/affinity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const persona_affinity_matrix *m)
{
    persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
    FUZZ_OK(persona_affinity_info_get(&in, m));
    char prev[4200] = "", key[4200];
    size_t n_check = in.items < 16 ? (size_t)in.items : 16;
    for (size_t i = 0; i < in.items; i++) {
        FUZZ_OK(persona_affinity_item_key(key, sizeof key, NULL, m, i));
        size_t back = SIZE_MAX;
        FUZZ_OK(persona_affinity_item_find(&back, m, key));
        FUZZ_ASSERT(back == i, "item %zu's key finds %zu", i, back);
        FUZZ_ASSERT(i == 0 || strcmp(prev, key) < 0, "item %zu's key is out of order", i);
        memcpy(prev, key, sizeof key);
    }
    for (size_t a = 0; a < n_check; a++) {
        char ka[4200], kb[4200];
        FUZZ_OK(persona_affinity_item_key(ka, sizeof ka, NULL, m, a));
        for (int32_t ms = 0; ms < PERSONA_AFFINITY_MEASURES; ms++) {
            uint32_t it[16];
            double sc[16];
            uint64_t cn[16];
            size_t n = 0;
            FUZZ_OK(persona_affinity_similar(it, sc, cn, 16, &n, m, ka, ms, 0));
            for (size_t i = 0; i < n; i++) {
                FUZZ_ASSERT(it[i] < in.items && it[i] != a && cn[i] > 0, "similar %zu", i);
                FUZZ_ASSERT(i == 0 || sc[i - 1] > sc[i] ||
                                (sc[i - 1] == sc[i] &&
                                 (cn[i - 1] > cn[i] || (cn[i - 1] == cn[i] && it[i - 1] < it[i]))),
                            "similar items of %zu out of order at %zu", a, i);
                persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
                FUZZ_OK(persona_affinity_item_key(kb, sizeof kb, NULL, m, it[i]));
                FUZZ_OK(persona_affinity_pair(&p, m, ka, kb));
                FUZZ_ASSERT(p.count_ab == cn[i] && p.count_ab <= p.count_a &&
                                p.count_ab <= p.count_b && p.count_a <= p.units &&
                                p.count_b <= p.units,
                            "pair counts %llu %llu %llu of %llu", (unsigned long long)p.count_ab,
                            (unsigned long long)p.count_a, (unsigned long long)p.count_b,
                            (unsigned long long)p.units);
            }
        }
    }
    /* recommendations for the first user of the matrix never hold their own items */
    if (m->users.count) {
        const char *user = persona__intern_str(&m->users, 0);
        uint32_t it[16];
        size_t n = 0;
        FUZZ_OK(persona_affinity_recommend(it, NULL, 16, &n, m, NULL, user, NULL, 0, 0, 0));
        for (uint64_t u = 0; u < m->n_units; u++)
            if (m->unit_user[u] == 0)
                for (uint64_t e = m->unit_start[u]; e < m->unit_start[u + 1]; e++)
                    for (size_t i = 0; i < n; i++)
                        FUZZ_ASSERT(it[i] != m->unit_items[e], "recommended an owned item");
    }
}

static uint8_t *save(const persona_affinity_matrix *m, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_affinity_save(m, "/memfs/affinity.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_affinity_matrix *m = (persona_affinity_matrix *)1;
    int rc = persona__affinity_load_memory(&m, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION || rc == PERSONA_ENOMEM ||
                        rc == PERSONA_EIO,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(m == NULL, "failed load left a matrix");
        return 0;
    }
    FUZZ_ASSERT(m != NULL, "load succeeded without a matrix");
    check(m);
    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save(m, &len1);
    persona_affinity_matrix *y = NULL;
    rc = persona__affinity_load_memory(&y, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved matrix failed: %d (%s)", rc, persona_errmsg());
    check(y);
    uint8_t *b2 = save(y, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    free(b1);
    free(b2);
    persona_affinity_free(y);
    persona_affinity_free(m);
    return 0;
}
