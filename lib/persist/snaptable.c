/* Key tables in snapshot sections (snaptable.h). */
#include "persist/snaptable.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "persona/event.h"

void persona__snap_put_table(persona__snap_writer *w, const persona__intern *t)
{
    persona__snap_put_u64(w, t->count);
    for (size_t i = 0; i < t->count; i++)
        persona__snap_put_str(w, persona__intern_str(t, (uint32_t)i));
}

int persona__snap_get_table(persona__snap_reader *r, persona__intern *t, int sorted,
                            const char *what)
{
    uint64_t n = 0;
    int rc = persona__snap_get_u64(r, &n);
    if (!rc)
        rc = persona__snap_need(r, n, 4, what);
    if (!rc && n >= UINT32_MAX)
        rc = persona__snap_corrupt(r, "%llu %s", (unsigned long long)n, what);
    for (uint64_t i = 0; !rc && i < n; i++) {
        char *s = NULL;
        rc = persona__snap_get_str(r, &s, PERSONA_MAX_KEY_LEN, what);
        if (!rc && !s)
            rc = persona__snap_corrupt(r, "%s %llu is missing", what, (unsigned long long)i);
        if (!rc && sorted && i &&
            strcmp(persona__intern_str(t, (uint32_t)(i - 1)), s) >= 0)
            rc = persona__snap_corrupt(r, "%s %llu is out of order", what, (unsigned long long)i);
        if (!rc) {
            uint32_t id = persona__intern_add(t, s, strlen(s));
            if (id == PERSONA__NO_ID)
                rc = persona__fail_nomem();
            else if (id != i)
                rc = persona__snap_corrupt(r, "%s %llu is a repeat", what, (unsigned long long)i);
        }
        persona__free(s);
    }
    return rc;
}
