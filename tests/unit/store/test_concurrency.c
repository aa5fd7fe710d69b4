/* The store is shared between threads: 6 ingest threads, 2 readers, 1 thread setting
 * attributes and consent, linking identifiers (merging profiles that are still receiving
 * events) and erasing people, and 1 saving snapshots run at once. Afterwards the store
 * equals one built serially from the same events followed by the same administrative
 * calls (compared by export: merges commute with ingest, as the identity tests show),
 * every profile a reader saw was consistent (its events never more than the sum of its
 * per-type counts), and every snapshot taken meanwhile opens as a consistent store (open
 * checks each profile against the log). Run under TSan for the race check. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "persona/identity.h"

#define THREADS 6
#define PER_THREAD 15000
#define USERS 500

#define DUP_EVERY 100 /* every 100th event of thread 1 repeats thread 0's, event id and all */

static persona_store *shared;
static char keys[USERS][8];
static char dup_ids[PER_THREAD / DUP_EVERY][16];
static persona_event events[THREADS][PER_THREAD];
static volatile int done_writers;
static int reader_inconsistent;

static void make_events(void)
{
    static const char *types[] = { "view", "cart", "buy" };
    uint64_t x = 99;
    for (int u = 0; u < USERS; u++)
        snprintf(keys[u], sizeof keys[u], "u%d", u);
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            persona_event e = PERSONA_EVENT_INIT;
            e.user = keys[(x >> 33) % USERS];
            e.time_ms = (int64_t)((x >> 20) % 100000000);
            e.type = types[(x >> 8) % 3];
            e.value = (double)((x >> 40) % 100);
            events[t][i] = e;
        }
    }
    /* Duplicates across threads: whichever thread's copy comes first is kept, the other is
     * rejected (checked again under the write lock after a lock-free prepare). */
    for (int i = 0; i < PER_THREAD; i += DUP_EVERY) {
        snprintf(dup_ids[i / DUP_EVERY], sizeof dup_ids[0], "dup-%d", i);
        events[0][i].event_id = dup_ids[i / DUP_EVERY];
        events[1][i] = events[0][i];
    }
}

static void *ingest_thread(void *arg)
{
    persona_event *ev = arg;
    for (int i = 0; i < PER_THREAD; i += 1000)
        if (persona_store_ingest(NULL, shared, ev + i, 1000, NULL) != PERSONA_OK)
            abort();
    __atomic_add_fetch(&done_writers, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *reader_thread(void *arg)
{
    (void)arg;
    int bad = 0;
    while (__atomic_load_n(&done_writers, __ATOMIC_SEQ_CST) < THREADS) {
        for (int u = 0; u < USERS; u += 7) {
            persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
            if (persona_store_profile_get(&p, shared, keys[u]) != PERSONA_OK)
                continue;
            uint64_t a = 0, b = 0, c = 0;
            persona_store_profile_type(&a, NULL, shared, keys[u], "view");
            persona_store_profile_type(&b, NULL, shared, keys[u], "cart");
            persona_store_profile_type(&c, NULL, shared, keys[u], "buy");
            /* counts only grow, and were read after the profile: never fewer than its events */
            bad += a + b + c < p.events;
            char *json = NULL; /* a person's full export walks their event chain */
            bad += persona_store_export_profile(&json, NULL, shared, keys[u]) != PERSONA_OK;
            persona_free(json);
        }
        persona_store_info info = PERSONA_STORE_INFO_INIT;
        persona_store_info_get(&info, shared);
    }
    __atomic_add_fetch(&reader_inconsistent, bad, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Attributes and consent for every user; every tenth pair of users linked under a new
 * customer id (which names the merged profile whatever the order of creation); meanwhile
 * people who have no events (so that erasing them commutes with the ingest) come and are
 * erased again, each rebuilding the whole store under the others' feet. */
static void admin_calls(persona_store *store)
{
    char temp[32], customer[32];
    for (int u = 0; u < USERS; u++) {
        if (persona_store_attr_set_num(store, keys[u], "n", u) != PERSONA_OK ||
            persona_store_consent_set(store, keys[u], "marketing", u & 1, u) != PERSONA_OK)
            abort();
        if (u % 10 == 1) {
            snprintf(customer, sizeof customer, "c%d", u);
            persona_identifier ids[3] = { PERSONA_IDENTIFIER(PERSONA_ID_KEY, keys[u - 1]),
                                          PERSONA_IDENTIFIER(PERSONA_ID_KEY, keys[u]),
                                          PERSONA_IDENTIFIER(PERSONA_ID_CUSTOMER, customer) };
            persona_alias_result r = PERSONA_ALIAS_RESULT_INIT;
            if (persona_store_alias(&r, store, ids, 3, 1700000000000, "admin") != PERSONA_OK ||
                r.blocked)
                abort();
        }
        if (u % 50 == 0) {
            snprintf(temp, sizeof temp, "temp-%d", u);
            persona_erase_receipt r = PERSONA_ERASE_RECEIPT_INIT;
            if (persona_store_attr_set_str(store, temp, "email", "x@example.com") !=
                    PERSONA_OK ||
                persona_store_set_tracking(store, temp, 0) != PERSONA_OK ||
                persona_store_erase(&r, store, temp) != PERSONA_OK || r.attributes != 1)
                abort();
        }
    }
}

static void *admin_thread(void *arg)
{
    (void)arg;
    admin_calls(shared);
    return NULL;
}

static char snap_dir[64];
static int snapshots_taken, snapshots_bad;

static void *saver_thread(void *arg)
{
    (void)arg;
    char path[128];
    snprintf(path, sizeof path, "%s/live.snap", snap_dir);
    do { /* at least once, however fast the writers are */
        persona_store *copy = NULL;
        if (persona_store_save(shared, path) != PERSONA_OK ||
            persona_store_open(&copy, path) != PERSONA_OK) {
            fprintf(stderr, "snapshot of the live store: %s\n", persona_errmsg());
            snapshots_bad++;
            break;
        }
        persona_store_free(copy);
        snapshots_taken++;
    } while (__atomic_load_n(&done_writers, __ATOMIC_SEQ_CST) < THREADS);
    unlink(path);
    return NULL;
}

/* Several threads ingest the very same events, each with an event id: every id is
 * stored once, whichever thread gets there first (most batches are prepared while another
 * thread is applying the same ids, so the check under the write lock decides). */
#define SAME_THREADS 4
#define SAME_EVENTS 20000
static persona_event same_events[SAME_EVENTS];

static void *same_thread(void *arg)
{
    persona_store *store = arg;
    for (int i = 0; i < SAME_EVENTS; i += 250)
        if (persona_store_ingest(NULL, store, same_events + i, 250, NULL) != PERSONA_OK)
            abort();
    return NULL;
}

static void test_same_ids_from_many_threads(void)
{
    static char id_text[SAME_EVENTS][16];
    for (int i = 0; i < SAME_EVENTS; i++) {
        snprintf(id_text[i], sizeof id_text[i], "id-%d", i);
        same_events[i] = events[0][i % PER_THREAD];
        same_events[i].event_id = id_text[i];
    }
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 9;
    persona_store *store = NULL, *serial = NULL;
    CHECK_RC(persona_store_new(&store, &o), PERSONA_OK);
    CHECK_RC(persona_store_new(&serial, &o), PERSONA_OK);
    pthread_t th[SAME_THREADS];
    for (int t = 0; t < SAME_THREADS; t++)
        pthread_create(&th[t], NULL, same_thread, store);
    for (int t = 0; t < SAME_THREADS; t++)
        pthread_join(th[t], NULL);
    CHECK_RC(persona_store_ingest(NULL, serial, same_events, SAME_EVENTS, NULL), PERSONA_OK);
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    CHECK_RC(persona_store_info_get(&info, store), PERSONA_OK);
    CHECK(info.events == SAME_EVENTS);
    char *a = NULL, *b = NULL;
    CHECK_RC(persona_store_export_buffer(&a, NULL, store, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK_RC(persona_store_export_buffer(&b, NULL, serial, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK(a && b && strcmp(a, b) == 0);
    persona_free(a);
    persona_free(b);
    persona_store_free(store);
    persona_store_free(serial);
}

int main(void)
{
    make_events();
    snprintf(snap_dir, sizeof snap_dir, "/tmp/persona-conc-XXXXXX");
    if (!mkdtemp(snap_dir))
        return 1;
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 5;
    CHECK_RC(persona_store_new(&shared, &o), PERSONA_OK);
    pthread_t w[THREADS], r[2], a;
    for (int t = 0; t < THREADS; t++)
        pthread_create(&w[t], NULL, ingest_thread, events[t]);
    for (int t = 0; t < 2; t++)
        pthread_create(&r[t], NULL, reader_thread, NULL);
    pthread_create(&a, NULL, admin_thread, NULL);
    pthread_t saver;
    pthread_create(&saver, NULL, saver_thread, NULL);
    for (int t = 0; t < THREADS; t++)
        pthread_join(w[t], NULL);
    for (int t = 0; t < 2; t++)
        pthread_join(r[t], NULL);
    pthread_join(a, NULL);
    pthread_join(saver, NULL);
    rmdir(snap_dir);
    CHECK(reader_inconsistent == 0);
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    CHECK_RC(persona_store_info_get(&info, shared), PERSONA_OK);
    CHECK(info.events == (uint64_t)THREADS * PER_THREAD - PER_THREAD / DUP_EVERY);
    CHECK(snapshots_bad == 0 && snapshots_taken > 0);

    /* Serial reference: same events, then the same administrative calls; arrival order
     * differs, but every trait is order-independent except value sums' last bits (values
     * here are integers). */
    persona_store *serial = NULL;
    CHECK_RC(persona_store_new(&serial, &o), PERSONA_OK);
    for (int t = 0; t < THREADS; t++)
        CHECK_RC(persona_store_ingest(NULL, serial, events[t], PER_THREAD, NULL), PERSONA_OK);
    admin_calls(serial);
    char *csv1 = NULL, *csv2 = NULL;
    CHECK_RC(persona_store_export_buffer(&csv1, NULL, shared, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK_RC(persona_store_export_buffer(&csv2, NULL, serial, PERSONA_EXPORT_PROFILES_CSV), PERSONA_OK);
    CHECK(csv1 && csv2 && strcmp(csv1, csv2) == 0);
    persona_free(csv1);
    persona_free(csv2);
    /* Per-user JSON (traits, sessions, attributes, consent) equal too, apart from the
     * order of chained entries, so compare the scalar traits of every user. */
    int bad = 0;
    for (int u = 0; u < USERS; u++) {
        persona_profile_info p1 = PERSONA_PROFILE_INFO_INIT, p2 = PERSONA_PROFILE_INFO_INIT;
        persona_store_profile_get(&p1, shared, keys[u]);
        persona_store_profile_get(&p2, serial, keys[u]);
        bad += p1.events != p2.events || p1.sessions != p2.sessions ||
               p1.first_seen_ms != p2.first_seen_ms || p1.last_seen_ms != p2.last_seen_ms ||
               p1.value_sum != p2.value_sum || p1.attributes != p2.attributes;
    }
    CHECK(bad == 0);
    persona_store_free(shared);
    persona_store_free(serial);
    test_same_ids_from_many_threads();
    return check_report("test_concurrency");
}
