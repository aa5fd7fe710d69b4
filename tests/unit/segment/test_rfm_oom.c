/* Allocation failures in RFM and the stability measures (TESTING.md §5): build (several
 * option sets), export (each format), save + load, the adjusted Rand index and the
 * migration matrix, with the N-th allocation failing once and from N on, for N = 1, 2, …
 * until the call succeeds. A failed call returns PERSONA_ENOMEM, NULLs its out-pointer,
 * leaves the caller's output as it was and leaks nothing; the call that finally succeeds
 * gives the reference result. At the end, every allocation call site of
 * lib/segment/rfm_*.c and stability.c must have been reached.
 *
 * usage: test_rfm_oom [LIB_DIR] (default: lib, from the source tree's root). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "failalloc.h"
#include "file_check.h"
#include "oom_sites.h"
#include "store_check.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000)

static void put(persona_store *s, const char *user, int64_t t, const char *type, double v,
                const char *basket)
{
    persona_event e = ev(user, t, type, v);
    e.basket = basket;
    if (persona_store_ingest(NULL, s, &e, 1, NULL) != PERSONA_OK)
        abort();
}

/* 90 users with long keys (more than the first 4 KiB of key storage), one with 100
 * orders (more than the first 64 basket slots), returns, refunds, consent for some. */
static persona_store *make_store(void)
{
    persona_store *s = new_seeded_store(5);
    char user[96], basket[32];
    for (int u = 0; u < 90; u++) {
        snprintf(user, sizeof user, "customer-%03d-with-a-rather-long-identifier-for-the-keys", u);
        int orders = u == 7 ? 100 : 1 + u % 4;
        for (int k = 0; k < orders; k++) {
            snprintf(basket, sizeof basket, "o%d-%d", u, k);
            put(s, user, T0 + (int64_t)((u * 13 + k * 7) % 90) * DAY, "purchase",
                1.25 * (u % 9 + 1) + k, basket);
        }
        if (u % 5 == 0)
            put(s, user, T0 + (int64_t)(u % 30) * DAY, "purchase", -3.5, "C");
        if (u % 6 == 0)
            put(s, user, T0 + (int64_t)(u % 20) * DAY, "refund", 2, NULL);
        if (u % 3)
            persona_store_consent_set(s, user, "ads", u % 2, T0);
    }
    put(s, "viewer", T0, "view", NAN, NULL);
    return s;
}

static char *json_of(const persona_rfm *x)
{
    char *out = NULL;
    if (persona_rfm_export_buffer(&out, NULL, x, PERSONA_RFM_EXPORT_JSON))
        return NULL;
    return out;
}

enum { OP_BUILD, OP_EXPORT, OP_SAVE_LOAD, OP_ARI, OP_MIGRATION };
static const char *const op_names[] = { "build", "export", "save+load", "ari", "migration" };
static int counted;

/* A result as text in libc memory (NULL when the export itself fails). */
static char *text_of(const persona_rfm *x)
{
    char *j = json_of(x);
    char *t = j ? strdup(j) : NULL;
    persona_free(j);
    return t;
}

/* One call under injection (failing the n-th allocation in mode); its result as text in
 * libc memory, made after injection stopped. */
static char *attempt(int op, uint64_t n, int mode, const persona_rfm_options *o,
                     int32_t format, const char *path, const persona_store *s,
                     const persona_segment_model *m, const persona_rfm *made, int *rc_out,
                     int *injected)
{
    char text[256];
    char *result = NULL;
    int rc = PERSONA_OK;
    static uint32_t a[300], b[300];
    for (int i = 0; i < 300; i++) {
        a[i] = (uint32_t)(i % 7);
        b[i] = (uint32_t)((i * 5) % 11);
    }
    switch (op) {
    case OP_BUILD: {
        persona_rfm *x = (persona_rfm *)text; /* must come back NULL on failure */
        failalloc_arm(n, mode);
        rc = persona_rfm_build(&x, s, o);
        *injected = failalloc_disarm();
        if (rc == PERSONA_OK) {
            result = text_of(x);
            persona_rfm_free(x);
        } else {
            CHECK(x == NULL);
        }
        break;
    }
    case OP_EXPORT: {
        char *out = text;
        failalloc_arm(n, mode);
        rc = persona_rfm_export_buffer(&out, NULL, made, format);
        *injected = failalloc_disarm();
        if (rc == PERSONA_OK) {
            result = strdup(out);
            persona_free(out);
        } else {
            CHECK(out == NULL);
        }
        break;
    }
    case OP_SAVE_LOAD: {
        persona_rfm *y = (persona_rfm *)text;
        failalloc_arm(n, mode);
        rc = persona_rfm_load(&y, path);
        *injected = failalloc_disarm();
        if (rc == PERSONA_OK) {
            result = text_of(y);
            persona_rfm_free(y);
        } else {
            CHECK(y == NULL);
        }
        break;
    }
    case OP_ARI: {
        double out = -7;
        failalloc_arm(n, mode);
        rc = persona_adjusted_rand_index(&out, a, b, 300);
        *injected = failalloc_disarm();
        if (rc == PERSONA_OK) {
            snprintf(text, sizeof text, "%.17g", out);
            result = strdup(text);
        } else {
            CHECK(out == -7);
        }
        break;
    }
    default: {
        uint64_t mx[9];
        memset(mx, 0x5A, sizeof mx);
        failalloc_arm(n, mode);
        rc = persona_segment_model_migration(mx, 9, m, s, T0 + 20 * DAY, PERSONA_NOW_STORE);
        *injected = failalloc_disarm();
        if (rc == PERSONA_OK) {
            size_t at = 0;
            for (int i = 0; i < 9; i++)
                at += (size_t)snprintf(text + at, sizeof text - at, "%llu ",
                                       (unsigned long long)mx[i]);
            result = strdup(text);
        } else {
            for (int i = 0; i < 9; i++)
                CHECK(mx[i] == UINT64_C(0x5A5A5A5A5A5A5A5A));
        }
        break;
    }
    }
    *rc_out = rc;
    return result;
}

static void check_op(int op, const persona_rfm_options *o, int32_t format, const char *what)
{
    uint64_t live0 = failalloc_live();
    char path[128];
    snprintf(path, sizeof path, "%s/test_rfm_oom_%d.snap", test_temp_dir(), (int)getpid());
    persona_store *s = make_store();
    persona_segment_model *m = NULL;
    const char *rules = "big: sum(\"purchase\") > 20\nany: count(\"purchase\") >= 1\n";
    if (persona_segment_model_compile(&m, rules, strlen(rules), NULL))
        abort();
    persona_rfm *made = NULL;
    if (op == OP_EXPORT || op == OP_SAVE_LOAD) {
        if (persona_rfm_build(&made, s, o) || (op == OP_SAVE_LOAD && persona_rfm_save(made, path)))
            abort();
    }
    if (op == OP_MIGRATION) { /* the model's binding cache is made once, on first use */
        uint64_t mx[9];
        if (persona_segment_model_migration(mx, 9, m, s, T0, T0))
            abort();
    }
    char *want = NULL;
    uint64_t live1 = failalloc_live();
    for (int mode = FAILALLOC_ONCE; mode <= FAILALLOC_FROM_N; mode++) {
        for (uint64_t n = 1;; n++) {
            int rc = PERSONA_OK, injected = 0;
            char *got = attempt(op, n, mode, o, format, path, s, m, made, &rc, &injected);
            counted++;
            if (rc == PERSONA_OK) {
                if (!want)
                    want = got ? strdup(got) : NULL;
                if (!got || !want || strcmp(got, want) != 0)
                    fprintf(stderr, "%s %s: n=%llu mode=%d: result differs\n", op_names[op],
                            what, (unsigned long long)n, mode);
                CHECK(got && want && strcmp(got, want) == 0);
            } else {
                if (rc != PERSONA_ENOMEM)
                    fprintf(stderr, "%s %s: n=%llu mode=%d: rc %d (%s)\n", op_names[op], what,
                            (unsigned long long)n, mode, rc, persona_errmsg());
                CHECK_RC(rc, PERSONA_ENOMEM);
            }
            free(got);
            uint64_t live = failalloc_live();
            if (live != live1)
                fprintf(stderr, "%s %s: n=%llu mode=%d: %lld blocks leaked\n", op_names[op],
                        what, (unsigned long long)n, mode, (long long)(live - live1));
            CHECK(live == live1);
            if (!injected) {
                CHECK_RC(rc, PERSONA_OK);
                break;
            }
        }
    }
    /* the save itself under injection: ENOMEM or OK, nothing leaked, and the file then
     * holds the old or the new (here: the same) result */
    if (op == OP_SAVE_LOAD) {
        for (uint64_t n = 1;; n++) {
            failalloc_arm(n, FAILALLOC_ONCE);
            int rc = persona_rfm_save(made, path);
            int injected = failalloc_disarm();
            counted++;
            if (rc != PERSONA_OK)
                CHECK_RC(rc, PERSONA_ENOMEM);
            CHECK(failalloc_live() == live1);
            if (!injected)
                break;
        }
        persona_rfm *y = NULL;
        CHECK_RC(persona_rfm_load(&y, path), PERSONA_OK);
        char *t = y ? text_of(y) : NULL;
        CHECK(t && want && strcmp(t, want) == 0);
        free(t);
        persona_rfm_free(y);
    }
    free(want);
    persona_rfm_free(made);
    persona_segment_model_free(m);
    persona_store_free(s);
    unlink(path);
    CHECK(failalloc_live() == live0);
}

int main(int argc, char **argv)
{
    failalloc_install();
    persona_rfm_options o[4];
    for (int i = 0; i < 4; i++)
        o[i] = (persona_rfm_options)PERSONA_RFM_OPTIONS_INIT;
    o[1].return_type = "refund";
    o[1].consent_purpose = "ads";
    o[1].from_ms = T0 + 3 * DAY;
    o[2].bins = 3;
    o[2].reference_ms = T0 + 60 * DAY;
    o[3].purchase_type = "nothing";
    const char *what[4] = { "defaults", "return type, consent, from", "3 bins, reference",
                            "nobody scored" };
    for (int i = 0; i < 4; i++) {
        check_op(OP_BUILD, &o[i], 0, what[i]);
        check_op(OP_SAVE_LOAD, &o[i], 0, what[i]);
    }
    for (int32_t f = PERSONA_RFM_EXPORT_CSV; f <= PERSONA_RFM_EXPORT_JSON; f++)
        check_op(OP_EXPORT, &o[1], f, "format");
    check_op(OP_ARI, NULL, 0, "300 items");
    check_op(OP_MIGRATION, NULL, 0, "2 rules");
    fprintf(stderr, "%d runs under injection\n", counted);
    static const char *const files[] = { "rfm_build.c", "rfm_io.c", "rfm_score.c", "stability.c" };
    check_oom_sites(argc > 1 ? argv[1] : "lib", "segment", files, 4, 21, "rfm and stability");
    return check_report("test_rfm_oom");
}
