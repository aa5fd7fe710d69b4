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
#include "persist/io.h"
#include "store/store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- an in-memory file system with one file being written --------------------------- */
#define MEMFS_FD 1000
static uint8_t *memfs_data;
static size_t memfs_len, memfs_cap;

static int memfs_reserve(size_t end)
{
    if (end <= memfs_cap)
        return 0;
    size_t cap = memfs_cap ? memfs_cap : 4096;
    while (cap < end)
        cap *= 2;
    uint8_t *p = realloc(memfs_data, cap);
    if (!p)
        return -1;
    memfs_data = p;
    memfs_cap = cap;
    return 0;
}

static int memfs_open(const char *path, int flags, mode_t mode)
{
    (void)path;
    (void)mode;
    if (!(flags & O_DIRECTORY))
        memfs_len = 0;
    return MEMFS_FD;
}

static ssize_t memfs_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (fd != MEMFS_FD || off < 0 || memfs_reserve((size_t)off + n)) {
        errno = EIO;
        return -1;
    }
    memcpy(memfs_data + off, buf, n);
    if ((size_t)off + n > memfs_len)
        memfs_len = (size_t)off + n;
    return (ssize_t)n;
}

static ssize_t memfs_write(int fd, const void *buf, size_t n)
{
    return memfs_pwrite(fd, buf, n, (off_t)memfs_len);
}

static ssize_t memfs_pread(int fd, void *buf, size_t n, off_t off)
{
    (void)fd, (void)buf, (void)n, (void)off;
    errno = EIO; /* the target reads only from memory */
    return -1;
}

static int memfs_fstat(int fd, struct stat *st)
{
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_size = (off_t)memfs_len;
    return 0;
}

static int memfs_ok_fd(int fd)
{
    (void)fd;
    return 0;
}

static int memfs_rename(const char *from, const char *to)
{
    (void)from, (void)to;
    return 0;
}

static int memfs_unlink(const char *path)
{
    (void)path;
    return 0;
}

static const persona__io_ops memfs_ops = { memfs_open,  memfs_write,  memfs_pwrite,
                                           memfs_pread, memfs_fstat,  memfs_ok_fd,
                                           memfs_ok_fd, memfs_rename, memfs_unlink };

/* Save s into the in-memory file; a copy of the bytes (free it). */
static uint8_t *save_to_memory(const persona_store *s, size_t *len)
{
    persona__io_set(&memfs_ops);
    int rc = persona_store_save(s, "/memfs/store.snap");
    persona__io_set(NULL);
    FUZZ_ASSERT(rc == PERSONA_OK, "save of an opened store failed: %d", rc);
    uint8_t *copy = malloc(memfs_len ? memfs_len : 1);
    FUZZ_ASSERT(copy != NULL, "out of memory");
    memcpy(copy, memfs_data, memfs_len);
    *len = memfs_len;
    return copy;
}

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
