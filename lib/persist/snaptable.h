/* Key tables (intern tables) in snapshot sections: a u64 count, then each string in id
 * order. Shared by the models that save their keys this way (affinity, paths); loading a
 * whole model is persona__snap_load (snapfile.h). */
#ifndef PERSONA_PERSIST_SNAPTABLE_H
#define PERSONA_PERSIST_SNAPTABLE_H

#include "core/intern.h"
#include "persist/snapfile.h"

void persona__snap_put_table(persona__snap_writer *w, const persona__intern *t);
/* Read a table into the empty t; sorted: strictly ascending (id = bytewise order), else
 * distinct. `what` names an entry in messages (ECORRUPT), or ENOMEM. */
int persona__snap_get_table(persona__snap_reader *r, persona__intern *t, int sorted,
                            const char *what);

#endif
