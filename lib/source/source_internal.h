/* What built-in sources (CSV, JSONL, arrays) share with the load loop beyond the public
 * vtable: line numbers of the events of the current batch, and the rows they rejected
 * themselves (parse errors), counted by reason. */
#ifndef PERSONA_SOURCE_INTERNAL_H
#define PERSONA_SOURCE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/source.h"

#define SOURCE_BATCH 4096 /* events per batch of the built-in sources */

/* Events a batch of a built-in source needs room for: SOURCE_BATCH for a file (len
 * SIZE_MAX), fewer for an in-memory input of len bytes, since every row takes at least two bytes (a host
 * that opens a source per request with a handful of events should not pay ~0.6 MiB). */
size_t persona__source_batch_cap(size_t len);

typedef struct persona__source_state {
    const uint64_t *lines;      /* line of each event of the last batch, NULL = ordinal */
    persona_ingest_stats rejects; /* rows rejected by the source since the last take */
    uint64_t rows;              /* rows read so far (good and rejected) */
    uint64_t bytes;             /* input bytes consumed so far */
    int strict;                 /* stop at the first bad row (set by the load) */
    int failed_strict;          /* strict mode met a bad row: the next `next` fails with it */
    uint64_t strict_line;
    char strict_msg[256];
} persona__source_state;

/* Strict mode: remember the first bad row. The source returns the events before it as a
 * batch (so a bad row the store finds earlier in the file is reported first) and fails on
 * its next call with persona__source_strict_error(). */
void persona__source_strict_failure(persona__source_state *st, int reason, uint64_t line,
                                    const char *what);
int persona__source_strict_error(const persona__source_state *st);

struct persona_source {
    persona_source_vtable vt;
    void *ctx;
    persona__source_state *state; /* built-in sources only */
};

/* Wrap a built-in source; on failure calls close(ctx) itself so callers need no cleanup
 * path beyond their own ctx. */
int persona__source_wrap(persona_source **out, const persona_source_vtable *vt, void *ctx,
                         persona__source_state *state);

#endif
