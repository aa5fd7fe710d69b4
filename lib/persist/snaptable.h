/* Helpers of model decoders: opening a file or a snapshot in memory, required sections,
 * and key tables (intern tables) in snapshot sections: a u64 count, then each string in
 * id order. Shared by the models that save their keys this way (affinity, paths). */
#ifndef PERSONA_PERSIST_SNAPTABLE_H
#define PERSONA_PERSIST_SNAPTABLE_H

#include "core/intern.h"
#include "persist/snapfile.h"

void persona__snap_put_table(persona__snap_writer *w, const persona__intern *t);
/* Read a table into the empty t; sorted: strictly ascending (id = bytewise order), else
 * distinct. `what` names an entry in messages (ECORRUPT), or ENOMEM. */
int persona__snap_get_table(persona__snap_reader *r, persona__intern *t, int sorted,
                            const char *what);

/* Position at a required section: PERSONA_OK, ECORRUPT ("<path>: the <name> section is
 * missing") or the reader's error. */
int persona__snap_require(persona__snap_reader *r, uint32_t id, const char *name,
                          const char *path);

/* Load a model: open the snapshot of `kind` at path (data == NULL) or held in memory
 * (data, len; path NULL: "(memory)" in messages), let decode() read it into out, close.
 * decode names the file by the path it is given. Returns decode's result or the open's
 * error. */
typedef int (*persona__snap_decode_fn)(void *out, persona__snap_reader *r, const char *path);
int persona__snap_load(void *out, const char *path, const void *data, size_t len, uint32_t kind,
                       persona__snap_decode_fn decode);

#endif
