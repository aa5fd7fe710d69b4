/* Fuzz target: bytes -> persona_store_open (of a snapshot held in memory).
 *
 * Input: a store snapshot (docs/file-format.md), usually a damaged one. Seeds are real
 * snapshots made by make_snapshot_seeds.c. The CRC comparisons are skipped in fuzzing
 * builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, TESTING §4), so mutations reach the
 * decoders behind them.
 *
 * Per input:
 *  1. open: PERSONA_OK, PERSONA_ECORRUPT or PERSONA_EVERSION, nothing else; on failure no
 *     store is returned;
 *  2. on success, the store holds together: info counts agree with iteration, every user
 *     has a profile whose per-type counts sum to its events, the exports succeed (JSONL
 *     read back); traits themselves may be any values the file gave;
 *  3. load(save(x)) == x: the store is saved (through an in-memory file system installed
 *     with persona__io_set, so no disk and no fsync per input), the bytes open again, the
 *     reopened store exports the same, and saving it gives the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    persona_store *s = (persona_store *)1;
    int rc = persona__store_open_memory(&s, data, size);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_ECORRUPT || rc == PERSONA_EVERSION,
                    "open returned %d (%s)", rc, persona_strerror(rc));
        FUZZ_ASSERT(s == NULL, "failed open left a store");
        return 0;
    }

    /* 2. Consistency: the checks of the event-source targets, with stats made to match. */
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    FUZZ_OK(persona_store_info_get(&info, s));
    persona_ingest_stats st;
    persona_ingest_stats_init(&st, sizeof st);
    st.events_accepted = info.events;
    st.users_created = info.users;
    fuzz_check_store(s, &st, 0);
    fuzz_check_jsonl_export(s);

    /* 3. load(save(x)) == x. */
    size_t len1 = 0, len2 = 0;
    uint8_t *b1 = save_to_memory(s, &len1);
    persona_store *t = NULL;
    rc = persona__store_open_memory(&t, b1, len1);
    FUZZ_ASSERT(rc == PERSONA_OK, "reopening a saved store failed: %d", rc);
    FUZZ_ASSERT(fuzz_same_export(s, t), "the reopened store exports differently");
    uint8_t *b2 = save_to_memory(t, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0,
                "saving the reopened store gives other bytes");
    free(b1);
    free(b2);
    persona_store_free(t);
    persona_store_free(s);
    return 0;
}
