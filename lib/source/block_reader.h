/* Block input shared by the CSV and JSONL readers: a window of bytes over a file or a
 * memory buffer that the caller consumes from the front and refills at the back.
 *
 * The window is data[0..len); the caller owns the cursor `pos` (bytes before it are
 * consumed). persona__block_reader_refill() drops the consumed bytes, keeps the unconsumed
 * tail (an incomplete record) at the front and reads more after it, so a record that spans
 * blocks is contiguous in memory. The buffer grows only as far as `limit` bytes of kept
 * tail plus one block, which is what bounds a reader's memory.
 *
 * A memory buffer is normally borrowed as one window (no copy, eof from the start). For
 * tests, persona__block_reader_set_block() makes memory input go through the buffer in
 * blocks of a given size, exactly as a file would, so boundary cases can be forced. */
#ifndef PERSONA_SOURCE_BLOCK_READER_H
#define PERSONA_SOURCE_BLOCK_READER_H

#include <stddef.h>
#include <stdint.h>

/* Default read size: large enough that read() overhead vanishes, small enough to stay in
 * L2/L3 while a block is tokenized. */
#define PERSONA__BLOCK_SIZE ((size_t)1 << 20)

typedef struct persona__block_reader {
    /* The window, read by the caller. */
    const char *data; /* window start (NULL while empty) */
    size_t len;       /* bytes in the window */
    size_t pos;       /* consumed bytes at the window front (caller-maintained) */
    int eof;          /* 1 when nothing follows data[len) */
    uint64_t base;    /* input offset of data[0] */

    /* Private. */
    int fd;            /* file descriptor, -1 for memory input */
    char *path;        /* file path for messages (owned), NULL for memory */
    const char *mem;   /* memory input (borrowed) */
    size_t mem_len;    /* its length */
    size_t mem_off;    /* bytes of it copied so far (block mode) */
    int copy_mem;      /* 1: memory input goes through buf in blocks */
    char *buf;         /* owned buffer (file input, or memory in block mode) */
    size_t cap;        /* its size */
    size_t block;      /* bytes per read */
    size_t limit;      /* longest unconsumed tail the buffer must keep */
    int started;       /* the BOM check has run */
} persona__block_reader;

/* Open `path` for reading. limit: longest tail a refill must keep (the caller's record
 * limit plus its terminator). Returns PERSONA_OK, PERSONA_EIO (message names the path and
 * the system error) or PERSONA_ENOMEM. On failure *br holds nothing to free. */
int persona__block_reader_open_file(persona__block_reader *br, const char *path, size_t limit);
/* Borrow data[0..len) (the caller keeps it alive). Cannot fail. */
void persona__block_reader_open_memory(persona__block_reader *br, const char *data, size_t len,
                                       size_t limit);
/* Release everything; the struct may then be opened again. Safe on a closed reader. */
void persona__block_reader_close(persona__block_reader *br);

/* Testing hook: read `block` bytes at a time (>= 1) and send memory input through the
 * buffer too. Call after open, before the first begin(). */
void persona__block_reader_set_block(persona__block_reader *br, size_t block);

/* Fill the first bytes and skip a UTF-8 BOM (EF BB BF) at the very start of input; a no-op
 * after the first call (until rewind). Returns 0 or a negative PERSONA_E* code. */
int persona__block_reader_begin(persona__block_reader *br);

/* Drop data[0..pos), move the rest to the front (pos becomes 0) and read until at least
 * `want` new bytes are in (fewer only at end of input, then eof is set). The kept tail must
 * not exceed `limit`; `want` is clamped to the room the buffer may have. Returns 0 or
 * PERSONA_EIO / PERSONA_ENOMEM; on failure the window is still consistent (the tail is
 * kept, pos is 0) and the call may be retried. Must not be called at eof. */
int persona__block_reader_refill(persona__block_reader *br, size_t want);

/* Back to the first byte of input (begin() runs again on next use). Returns 0, or
 * PERSONA_EIO when the file cannot seek (message names the path). */
int persona__block_reader_rewind(persona__block_reader *br);

/* Bytes of input consumed: everything before data[pos]. */
static inline uint64_t persona__block_reader_offset(const persona__block_reader *br)
{
    return br->base + br->pos;
}

#endif
