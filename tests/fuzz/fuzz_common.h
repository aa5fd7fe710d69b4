/* Invariant checks shared by the event-source fuzz targets (fuzz_csv_events.c,
 * fuzz_jsonl_events.c). Every failed invariant prints what broke to stderr and calls
 * abort(), so libFuzzer (and driver.c) report it as a crash with the input saved.
 *
 * What is checked after a load (TESTING §4: invariants, not only the absence of crashes):
 *  - stats: events_accepted + events_rejected == rows_read (non-strict, or strict without
 *    failure), the sum of rejected[] == events_rejected, no count for an unknown reason,
 *    min(count, 4) example lines per reason, each a line that exists in the input;
 *  - store: info.events == events_accepted, info.users == users_created; the sum over
 *    users of the profile's events == info.events, every profile has >= 1 event, and the
 *    per-type counts of a profile (over every event type of the store) sum to its events;
 *  - export: the JSONL export has one line per user, every line is one JSON object (read
 *    back with the library's own JSONL reader) whose user_id names a user of the store;
 *  - determinism: a second load of the same input into a fresh store (another random
 *    hash seed) gives a byte-identical CSV export;
 *  - strict vs non-strict: strict succeeds exactly when the non-strict load rejects
 *    nothing; otherwise it fails with PERSONA_EPARSE at the first rejected line.
 * Everything allocated is freed: LeakSanitizer checks that in the fuzz build. */
#ifndef PERSONA_FUZZ_COMMON_H
#define PERSONA_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persona.h"
#include "source/jsonl_reader.h"

#define FUZZ_ASSERT(cond, ...)                                                             \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, " (last error: %s)\n", persona_errmsg());                     \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* A call that cannot fail on valid arguments: anything but PERSONA_OK is a bug. */
#define FUZZ_OK(call)                                                                      \
    do {                                                                                   \
        int frc_ = (call);                                                                 \
        FUZZ_ASSERT(frc_ == PERSONA_OK, "%s returned %d (%s)", #call, frc_,                \
                    persona_strerror(frc_));                                               \
    } while (0)

/* ---- allocator ------------------------------------------------------------------------
 * A store with one event already holds ~1.3-1.8 MiB of event-log chunks and a source
 * ~0.6 MiB of batch arrays. Under ASan such blocks are mmap'd and munmap'd on every
 * input, and the page faults cost ~30 ms per input (≈ 30 exec/s). The targets therefore
 * install an allocator that keeps up to FUZZ_POOL_SLOTS freed blocks of 64 KiB or more
 * and hands them out again for a request of exactly the same size. A pooled block keeps
 * the redzone ASan put after it, and is poisoned while it waits, so overflows and uses
 * after free are still reported. Smaller blocks go straight to malloc / realloc / free. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FUZZ_HAVE_ASAN)
#define FUZZ_HAVE_ASAN 1
#endif
#ifdef FUZZ_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define FUZZ_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FUZZ_POISON(p, n) ((void)(p), (void)(n))
#define FUZZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ASan's default quarantine (256 MiB) keeps freed blocks out of use so long that nearly
 * every allocation of an input touches fresh pages: page faults were a third of the time
 * of an input. 16 MiB still holds every block an input frees (a few hundred KiB), so a
 * use after free within an input is still caught, and the targets run ~1.5x faster.
 * ASAN_OPTIONS set by the caller still win. */
#ifdef FUZZ_HAVE_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

#define FUZZ_POOL_MIN ((size_t)64 << 10)
#define FUZZ_POOL_SLOTS 64
#define FUZZ_HDR 16 /* keeps the caller's block 16-byte aligned */

static void *fuzz_pool_block[FUZZ_POOL_SLOTS];
static size_t fuzz_pool_size[FUZZ_POOL_SLOTS];
static size_t fuzz_pool_n;

static void *fuzz_allocate(void *ctx, size_t size)
{
    (void)ctx;
    if (size >= FUZZ_POOL_MIN) {
        for (size_t i = fuzz_pool_n; i-- > 0;) {
            if (fuzz_pool_size[i] != size)
                continue;
            char *h = fuzz_pool_block[i];
            fuzz_pool_n--;
            fuzz_pool_block[i] = fuzz_pool_block[fuzz_pool_n];
            fuzz_pool_size[i] = fuzz_pool_size[fuzz_pool_n];
            FUZZ_UNPOISON(h + FUZZ_HDR, size);
            return h + FUZZ_HDR;
        }
    }
    if (size > SIZE_MAX - FUZZ_HDR)
        return NULL;
    char *h = malloc(size + FUZZ_HDR);
    if (!h)
        return NULL;
    memcpy(h, &size, sizeof size);
    return h + FUZZ_HDR;
}

static void fuzz_deallocate(void *ctx, void *ptr)
{
    (void)ctx;
    char *h = (char *)ptr - FUZZ_HDR;
    size_t size;
    memcpy(&size, h, sizeof size);
    if (size >= FUZZ_POOL_MIN && fuzz_pool_n < FUZZ_POOL_SLOTS) {
        FUZZ_POISON(ptr, size);
        fuzz_pool_block[fuzz_pool_n] = h;
        fuzz_pool_size[fuzz_pool_n] = size;
        fuzz_pool_n++;
        return;
    }
    free(h);
}

static void *fuzz_reallocate(void *ctx, void *ptr, size_t size)
{
    char *h = (char *)ptr - FUZZ_HDR;
    size_t old;
    memcpy(&old, h, sizeof old);
    if (old < FUZZ_POOL_MIN && size < FUZZ_POOL_MIN) {
        char *n = realloc(h, size + FUZZ_HDR);
        if (!n)
            return NULL;
        memcpy(n, &size, sizeof size);
        return n + FUZZ_HDR;
    }
    void *n = fuzz_allocate(ctx, size);
    if (!n)
        return NULL;
    memcpy(n, ptr, old < size ? old : size);
    fuzz_deallocate(ctx, ptr);
    return n;
}

/* Install the pooling allocator once, before the library holds any memory. */
static void fuzz_install_allocator(void)
{
    static int done;
    if (done)
        return;
    persona_allocator a = { sizeof a, 0, NULL, fuzz_allocate, fuzz_reallocate, fuzz_deallocate };
    if (persona_set_allocator(&a) != PERSONA_OK) {
        fprintf(stderr, "fuzz: persona_set_allocator failed: %s\n", persona_errmsg());
        abort();
    }
    done = 1;
}

/* Number of lines of the input: 1 + LFs (a last line without LF still counts). */
static uint64_t fuzz_line_count(const char *data, size_t len)
{
    uint64_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    return n;
}

/* Stats of one load. first_line: smallest line a row can have (2 for CSV: 1 is the
 * header; 1 for JSONL). max_line: number of lines of the input. */
static void fuzz_check_stats(const persona_ingest_stats *st, int rc, int strict,
                             uint64_t first_line, uint64_t max_line)
{
    uint64_t sum = 0;
    for (int r = 0; r < PERSONA_REJECT_SLOTS; r++) {
        sum += st->rejected[r];
        if (r >= PERSONA_REJECT_COUNT)
            FUZZ_ASSERT(st->rejected[r] == 0, "count %llu for unknown reason %d",
                        (unsigned long long)st->rejected[r], r);
        uint64_t want = st->rejected[r] < PERSONA_REJECT_EXAMPLES ? st->rejected[r]
                                                                  : PERSONA_REJECT_EXAMPLES;
        uint64_t have = 0;
        for (int k = 0; k < PERSONA_REJECT_EXAMPLES; k++) {
            uint64_t line = st->example_lines[r][k];
            if (!line)
                continue;
            have++;
            FUZZ_ASSERT(line >= first_line && line <= max_line,
                        "example line %llu of %s outside [%llu, %llu]", (unsigned long long)line,
                        persona_reject_reason_name(r), (unsigned long long)first_line,
                        (unsigned long long)max_line);
        }
        FUZZ_ASSERT(have == want, "%llu example lines for %llu %s rejects",
                    (unsigned long long)have, (unsigned long long)st->rejected[r],
                    persona_reject_reason_name(r));
    }
    FUZZ_ASSERT(sum == st->events_rejected, "sum of rejected[] %llu != events_rejected %llu",
                (unsigned long long)sum, (unsigned long long)st->events_rejected);
    if (strict) {
        /* Strict mode counts nothing: the first bad row stops the load. */
        FUZZ_ASSERT(st->events_rejected == 0, "strict load counted %llu rejects",
                    (unsigned long long)st->events_rejected);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EPARSE, "strict load returned %d", rc);
        if (rc == PERSONA_OK)
            FUZZ_ASSERT(st->events_accepted == st->rows_read,
                        "strict load: accepted %llu != rows_read %llu",
                        (unsigned long long)st->events_accepted,
                        (unsigned long long)st->rows_read);
        else
            FUZZ_ASSERT(st->events_accepted < st->rows_read,
                        "strict failure: accepted %llu of %llu rows",
                        (unsigned long long)st->events_accepted,
                        (unsigned long long)st->rows_read);
    } else {
        FUZZ_ASSERT(rc == PERSONA_OK, "non-strict load returned %d (%s)", rc,
                    persona_strerror(rc));
        FUZZ_ASSERT(st->events_accepted + st->events_rejected == st->rows_read,
                    "accepted %llu + rejected %llu != rows_read %llu",
                    (unsigned long long)st->events_accepted,
                    (unsigned long long)st->events_rejected, (unsigned long long)st->rows_read);
    }
    FUZZ_ASSERT(st->rows_read <= max_line, "rows_read %llu > %llu lines",
                (unsigned long long)st->rows_read, (unsigned long long)max_line);
}

/* The first rejected line of a non-strict load (0 when nothing was rejected): the line a
 * strict load of the same input must stop at. */
static uint64_t fuzz_first_reject(const persona_ingest_stats *st)
{
    uint64_t first = 0;
    for (int r = 0; r < PERSONA_REJECT_COUNT; r++)
        if (st->rejected[r] && (!first || st->example_lines[r][0] < first))
            first = st->example_lines[r][0];
    return first;
}

/* A key read with one of the *_at functions: into buf, or a heap copy when it is longer. */
typedef struct fuzz_key {
    char small[256];
    char *heap;
    const char *s;
} fuzz_key;

typedef int (*fuzz_at_fn)(char *, size_t, size_t *, const persona_store *, uint64_t);

static void fuzz_key_at(fuzz_key *k, fuzz_at_fn at, const persona_store *store, uint64_t i)
{
    size_t len = 0;
    k->heap = NULL;
    int rc = at(k->small, sizeof k->small, &len, store, i);
    if (rc == PERSONA_EBUFS) {
        FUZZ_ASSERT(len >= sizeof k->small && len <= PERSONA_MAX_KEY_LEN,
                    "EBUFS with length %zu", len);
        k->heap = malloc(len + 1);
        FUZZ_ASSERT(k->heap != NULL, "out of memory");
        size_t len2 = 0;
        FUZZ_OK(at(k->heap, len + 1, &len2, store, i));
        FUZZ_ASSERT(len2 == len, "length %zu, then %zu", len, len2);
        k->s = k->heap;
        return;
    }
    FUZZ_ASSERT(rc == PERSONA_OK, "key %llu: rc %d", (unsigned long long)i, rc);
    FUZZ_ASSERT(strlen(k->small) == len, "key %llu: length %zu but strlen %zu",
                (unsigned long long)i, len, strlen(k->small));
    k->s = k->small;
}

/* Profiles against the store totals and the load's stats. */
static void fuzz_check_store(const persona_store *store, const persona_ingest_stats *st,
                             int loaded_from_events)
{
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    FUZZ_OK(persona_store_info_get(&info, store));
    FUZZ_ASSERT(info.events == st->events_accepted, "store has %llu events, stats say %llu",
                (unsigned long long)info.events, (unsigned long long)st->events_accepted);
    FUZZ_ASSERT(info.users == st->users_created, "store has %llu users, stats created %llu",
                (unsigned long long)info.users, (unsigned long long)st->users_created);
    FUZZ_ASSERT(info.users <= info.events, "%llu users for %llu events",
                (unsigned long long)info.users, (unsigned long long)info.events);
    FUZZ_ASSERT(info.event_types <= info.events && (info.events == 0) == (info.event_types == 0),
                "%llu event types for %llu events", (unsigned long long)info.event_types,
                (unsigned long long)info.events);
    FUZZ_ASSERT(persona_store_user_at(NULL, 0, NULL, store, info.users) == PERSONA_ENOTFOUND,
                "user index %llu (one past the end) found", (unsigned long long)info.users);
    FUZZ_ASSERT(persona_store_event_type_at(NULL, 0, NULL, store, info.event_types) ==
                    PERSONA_ENOTFOUND,
                "type index %llu (one past the end) found", (unsigned long long)info.event_types);

    fuzz_key *types = NULL;
    if (info.event_types) {
        types = calloc((size_t)info.event_types, sizeof *types);
        FUZZ_ASSERT(types != NULL, "out of memory");
        for (uint64_t t = 0; t < info.event_types; t++) {
            fuzz_key_at(&types[t], persona_store_event_type_at, store, t);
            FUZZ_ASSERT(types[t].s[0] != '\0', "event type %llu is empty", (unsigned long long)t);
        }
    }
    uint64_t total = 0;
    for (uint64_t u = 0; u < info.users; u++) {
        fuzz_key user;
        fuzz_key_at(&user, persona_store_user_at, store, u);
        FUZZ_ASSERT(user.s[0] != '\0', "user %llu has an empty key", (unsigned long long)u);
        persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
        FUZZ_OK(persona_store_profile_get(&p, store, user.s));
        /* Traits a load of events maintains; a snapshot only has to hold together. */
        FUZZ_ASSERT(!loaded_from_events || p.events >= 1, "user %llu has no events",
                    (unsigned long long)u);
        FUZZ_ASSERT(!loaded_from_events || p.first_seen_ms <= p.last_seen_ms,
                    "first seen after last seen");
        FUZZ_ASSERT(!loaded_from_events || (p.sessions >= 1 && p.sessions <= p.events),
                    "%llu sessions for %llu events", (unsigned long long)p.sessions,
                    (unsigned long long)p.events);
        FUZZ_ASSERT(!loaded_from_events || p.orders <= p.events, "%llu orders for %llu events",
                    (unsigned long long)p.orders, (unsigned long long)p.events);
        uint64_t by_type = 0, types_seen = 0;
        for (uint64_t t = 0; t < info.event_types; t++) {
            uint64_t count = 0;
            FUZZ_OK(persona_store_profile_type(&count, NULL, store, user.s, types[t].s));
            by_type += count;
            types_seen += count > 0;
        }
        FUZZ_ASSERT(by_type == p.events, "user %llu: per-type counts sum to %llu, events %llu",
                    (unsigned long long)u, (unsigned long long)by_type,
                    (unsigned long long)p.events);
        FUZZ_ASSERT(!loaded_from_events || types_seen == p.event_types, "user %llu: %llu types with events, info says %llu",
                    (unsigned long long)u, (unsigned long long)types_seen,
                    (unsigned long long)p.event_types);
        /* Identifiers of one profile (an identity graph) all reach it: count it once. */
        char root[PERSONA_MAX_KEY_LEN + 1];
        FUZZ_OK(persona_store_resolve(root, sizeof root, NULL, store, user.s));
        if (strcmp(root, user.s) == 0) {
            total += p.events;
        }
        free(user.heap);
    }
    FUZZ_ASSERT(total == info.events, "profiles hold %llu events, the store %llu",
                (unsigned long long)total, (unsigned long long)info.events);
    for (uint64_t t = 0; t < info.event_types; t++)
        free(types[t].heap);
    free(types);
}

/* Profiles of a store: users that name their own profile (all of them without aliases). */
static uint64_t fuzz_profile_count(const persona_store *store, uint64_t users)
{
    uint64_t n = 0;
    for (uint64_t u = 0; u < users; u++) {
        fuzz_key user;
        fuzz_key_at(&user, persona_store_user_at, store, u);
        char root[PERSONA_MAX_KEY_LEN + 1];
        FUZZ_OK(persona_store_resolve(root, sizeof root, NULL, store, user.s));
        n += strcmp(root, user.s) == 0;
        free(user.heap);
    }
    return n;
}

/* The JSONL export: one JSON object per user, read back with the library's JSONL reader;
 * each line's user_id names a user of the store. */
static void fuzz_check_jsonl_export(const persona_store *store)
{
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    FUZZ_OK(persona_store_info_get(&info, store));
    char *out = NULL;
    size_t len = 0;
    FUZZ_OK(persona_store_export_buffer(&out, &len, store, PERSONA_EXPORT_PROFILES_JSONL));
    FUZZ_ASSERT(out != NULL && strlen(out) == len, "export length %zu", len);
    FUZZ_ASSERT(len == 0 || out[len - 1] == '\n', "export does not end with a newline");
    persona__jsonl_reader *r = NULL;
    FUZZ_OK(persona__jsonl_reader_open_memory(&r, out, len, 0));
    uint64_t lines = 0;
    for (;;) {
        const persona__json_member *m;
        size_t n;
        uint64_t line;
        int reject;
        int rc = persona__jsonl_reader_next(r, &m, &n, &line, &reject);
        FUZZ_ASSERT(rc == 0 || rc == 1, "reading the export: rc %d", rc);
        if (rc == 0)
            break;
        lines++;
        FUZZ_ASSERT(reject < 0, "export line %llu is not one JSON object (%s)",
                    (unsigned long long)line, persona_reject_reason_name(reject));
        FUZZ_ASSERT(line == lines, "export line %llu is blank", (unsigned long long)lines);
        const persona__json_member *user = NULL;
        for (size_t i = 0; i < n; i++)
            if (m[i].key_len == 7 && memcmp(m[i].key, "user_id", 7) == 0)
                user = &m[i];
        FUZZ_ASSERT(user && user->type == PERSONA__JSON_STRING,
                    "export line %llu has no string user_id", (unsigned long long)line);
        char *key = malloc(user->val_len + 1);
        FUZZ_ASSERT(key != NULL, "out of memory");
        memcpy(key, user->val, user->val_len);
        key[user->val_len] = '\0';
        persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
        FUZZ_ASSERT(memchr(user->val, 0, user->val_len) == NULL &&
                        persona_store_profile_get(&p, store, key) == PERSONA_OK,
                    "export line %llu: user_id does not round-trip", (unsigned long long)line);
        free(key);
    }
    uint64_t profiles = fuzz_profile_count(store, info.users);
    FUZZ_ASSERT(lines == profiles, "JSONL export has %llu lines for %llu profiles",
                (unsigned long long)lines, (unsigned long long)profiles);
    persona__jsonl_reader_free(r);
    persona_free(out);
}

/* The CSV export of a store (persona_free it). */
static char *fuzz_export_csv(const persona_store *store, size_t *len)
{
    char *out = NULL;
    FUZZ_OK(persona_store_export_buffer(&out, len, store, PERSONA_EXPORT_PROFILES_CSV));
    return out;
}

/* Two stores export the same profiles, byte for byte. */
static int fuzz_same_export(const persona_store *a, const persona_store *b)
{
    size_t la = 0, lb = 0;
    char *ea = fuzz_export_csv(a, &la), *eb = fuzz_export_csv(b, &lb);
    int same = la == lb && memcmp(ea, eb, la) == 0;
    persona_free(ea);
    persona_free(eb);
    return same;
}

/* One input loaded in both modes: the strict load succeeds exactly when the non-strict one
 * rejects nothing (then both stores export the same), else it fails with PERSONA_EPARSE at
 * the non-strict load's first rejected line, having accepted no more rows. */
static void fuzz_check_modes(int strict_rc, uint64_t strict_err_line,
                             const persona_ingest_stats *strict_st,
                             const persona_store *strict_store,
                             const persona_ingest_stats *lenient_st,
                             const persona_store *lenient_store)
{
    uint64_t first_bad = fuzz_first_reject(lenient_st);
    if (first_bad == 0) {
        FUZZ_ASSERT(strict_rc == PERSONA_OK,
                    "strict load failed (line %llu) where the non-strict load rejected nothing",
                    (unsigned long long)strict_err_line);
        FUZZ_ASSERT(fuzz_same_export(strict_store, lenient_store),
                    "strict and non-strict loads of clean input differ");
    } else {
        FUZZ_ASSERT(strict_rc == PERSONA_EPARSE && strict_err_line == first_bad,
                    "strict load: rc %d at line %llu, non-strict first reject at line %llu",
                    strict_rc, (unsigned long long)strict_err_line,
                    (unsigned long long)first_bad);
        FUZZ_ASSERT(strict_st->events_accepted <= lenient_st->events_accepted,
                    "strict accepted more than non-strict");
    }
}

#endif
