/* The merge log as JSON (persona_store_merge_log(), the person export). */
#include "persona/identity.h"
#include "store_internal.h"

static const char *outcome_name(int32_t o)
{
    static const char *const names[] = { "?", "merged", "added", "same", "blocked-value",
                                         "blocked-limit" };
    return o >= 1 && o <= PERSONA_LINK_BLOCKED_LIMIT ? names[o] : names[0];
}

static void side(const persona_store *s, persona__buf *b, uint32_t id, int32_t type, int text)
{
    if (id == PERSONA__NO_ID) {
        persona__buf_puts(b, "null");
        return;
    }
    char tmp[16];
    persona__buf_puts(b, "{\"type\":\"");
    persona__buf_puts(b, persona__id_type_name(type, tmp));
    persona__buf_puts(b, "\",\"id\":");
    persona__json_key(b, text ? &s->sources : &s->users, id);
    persona__buf_putc(b, '}');
}

/* Whether entry m concerns the profile of root (either side one of its identifiers). */
static int concerns(const persona_store *s, const merge_entry *m, uint32_t root)
{
    return (!(m->flags & MERGE_A_TEXT) && m->a != PERSONA__NO_ID &&
            persona__id_root(s, m->a) == root) ||
           (!(m->flags & MERGE_B_TEXT) && m->b != PERSONA__NO_ID &&
            persona__id_root(s, m->b) == root);
}

size_t persona__merge_log_count(const persona_store *s, uint32_t root)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_merges; i++)
        n += root == PERSONA__NO_ID || concerns(s, &s->merges[i], root);
    return n;
}

void persona__merge_log_json(const persona_store *s, persona__buf *b, uint32_t root)
{
    persona__buf_putc(b, '[');
    int first = 1;
    for (size_t i = 0; i < s->n_merges; i++) {
        const merge_entry *m = &s->merges[i];
        if (root != PERSONA__NO_ID && !concerns(s, m, root))
            continue;
        persona__buf_puts(b, first ? "{\"seq\":" : ",{\"seq\":");
        first = 0;
        persona__buf_u64(b, i + 1);
        persona__buf_puts(b, ",\"time\":\"");
        persona__json_time(b, m->time_ms);
        persona__buf_puts(b, "\",\"source\":");
        if (m->source == PERSONA__NO_ID)
            persona__buf_puts(b, "null");
        else
            persona__json_key(b, &s->sources, m->source);
        persona__buf_puts(b, ",\"a\":");
        side(s, b, m->a, m->a_type, (m->flags & MERGE_A_TEXT) != 0);
        persona__buf_puts(b, ",\"b\":");
        side(s, b, m->b, m->b_type, (m->flags & MERGE_B_TEXT) != 0);
        persona__buf_puts(b, ",\"outcome\":\"");
        persona__buf_puts(b, outcome_name(m->outcome));
        persona__buf_putc(b, '"');
        if (m->outcome == PERSONA_LINK_BLOCKED_LIMIT) {
            char tmp[16];
            persona__buf_puts(b, ",\"limit_type\":\"");
            persona__buf_puts(b, persona__id_type_name(m->limit_type, tmp));
            persona__buf_putc(b, '"');
        }
        if (m->flags & MERGE_UNDONE)
            persona__buf_puts(b, ",\"undone\":true");
        persona__buf_putc(b, '}');
    }
    persona__buf_putc(b, ']');
}
