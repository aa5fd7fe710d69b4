/* Fuzz target: bytes -> persona_path_load (of a snapshot held in memory).
 *
 * Input: a path model snapshot (docs/file-format.md, "path model (kind 8)"), usually a
 * damaged one; seeds are real models written by make_model_seeds.c. CRCs are not compared
 * in fuzzing builds.
 *
 * Per input:
 *  1. load: PERSONA_OK, or PERSONA_ECORRUPT / EVERSION / ENOMEM / EIO with no model;
 *  2. on success: state names ascend bytewise and find their own index; the transition
 *     table of every order lists each context's successors with counts summing to the
 *     context's total; next states of every single-state history come by probability
 *     descending, summing to at most 1; the explorer's three kinds run, counts descending;
 *  3. load(save(m)) == m: saving the reloaded model gives the same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "path/path_internal.h"
#include "persona/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const persona_path_list *l, int transitions)
{
    size_t rows = 0;
    FUZZ_OK(persona_path_list_size(&rows, l));
    uint64_t sum = 0, prev_count = UINT64_MAX;
    uint32_t prev[8] = { 0 };
    size_t prev_n = 0;
    for (size_t r = 0; r < rows && r < 4096; r++) {
        uint32_t st[8];
        size_t n = 0;
        uint64_t c = 0, x = 0;
        int rc = persona_path_list_row(st, 8, &n, &c, &x, l, r);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EBUFS, "row %zu: %d", r, rc);
        FUZZ_ASSERT(c > 0, "row %zu has count 0", r);
        if (!transitions) {
            FUZZ_ASSERT(x <= c, "row %zu: extra %llu over count %llu", r, (unsigned long long)x,
                        (unsigned long long)c);
            continue;
        }
        int same = r && prev_n == n && n && memcmp(prev, st, (n - 1) * sizeof *st) == 0;
        if (!same)
            sum = 0;
        FUZZ_ASSERT(!same || c <= prev_count, "successors out of order at row %zu", r);
        sum += c;
        FUZZ_ASSERT(sum <= x, "successors of row %zu exceed the context's total", r);
        memcpy(prev, st, n * sizeof *st);
        prev_n = n;
        prev_count = c;
    }
}

static void check(const persona_path_model *m)
{
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    FUZZ_OK(persona_path_info_get(&in, m));
    char prev[4200] = "", name[4200];
    for (uint32_t i = 0; i < in.states; i++) {
        FUZZ_OK(persona_path_state_name(name, sizeof name, NULL, m, i));
        uint32_t back = UINT32_MAX;
        FUZZ_OK(persona_path_state_find(&back, m, name));
        FUZZ_ASSERT(back == i, "state %u finds %u", i, back);
        FUZZ_ASSERT(i == 0 || strcmp(prev, name) < 0, "state %u out of order", i);
        memcpy(prev, name, sizeof name);
    }
    for (int32_t o = 0; o <= in.order; o++) {
        persona_path_list *l = NULL;
        int rc = persona_path_transitions(&l, m, o);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_ENOMEM, "transitions: %d", rc);
        if (l)
            check_list(l, 1);
        persona_path_list_free(l);
    }
    for (uint32_t s = 0; s < in.states && s < 64; s++) {
        uint32_t st[8];
        double pr[8];
        size_t k = 0;
        int32_t used = -1;
        FUZZ_OK(persona_path_next(st, pr, 8, &k, &used, m, &s, 1, in.order));
        double sum = 0;
        for (size_t i = 0; i < k; i++) {
            FUZZ_ASSERT(st[i] < in.states && pr[i] > 0 && (i == 0 || pr[i] <= pr[i - 1]),
                        "next of %u at %zu", s, i);
            sum += pr[i];
        }
        FUZZ_ASSERT(sum <= 1 + 1e-9 && used >= 0 && used <= 1, "next of %u sums to %g", s, sum);
    }
    for (int32_t kind = 0; kind <= PERSONA_PATH_DROPOFF; kind++) {
        persona_path_query q = PERSONA_PATH_QUERY_INIT;
        q.kind = kind;
        q.goal_state = "b";
        q.top = 64;
        persona_path_list *l = NULL;
        int rc = persona_path_explore(&l, m, &q);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_ENOMEM, "explore: %d", rc);
        if (l)
            check_list(l, 0);
        persona_path_list_free(l);
    }
}

static uint8_t *save(const persona_path_model *m, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_path_save(m, "/memfs/paths.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_path_model *m = (persona_path_model *)1;
    int rc = persona__path_load_memory(&m, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION || rc == PERSONA_ENOMEM ||
                        rc == PERSONA_EIO,
                    "load returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(m == NULL, "failed load left a model");
        return 0;
    }
    FUZZ_ASSERT(m != NULL, "load succeeded without a model");
    check(m);
    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save(m, &len1);
    persona_path_model *y = NULL;
    rc = persona__path_load_memory(&y, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reloading a saved model failed: %d (%s)", rc, persona_errmsg());
    check(y);
    uint8_t *b2 = save(y, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0, "saving again gives other bytes");
    free(b1);
    free(b2);
    persona_path_free(y);
    persona_path_free(m);
    return 0;
}
