/* The columnar event log against hand-written expectations, through the store's internals:
 * every event lands in order with its user, time, type, value, item, basket and named
 * properties — including property names the store already knew before they had a column
 * ("category", an attribute's name), which once lost their values. */
#include <stdlib.h>

#include "check.h"
#include "store/store_internal.h"

static const char *prop_of(const persona_store *s, size_t i, const char *name)
{
    uint32_t nid = persona__intern_find(&s->names, name, strlen(name));
    int col = nid == PERSONA__NO_ID ? -1 : persona__eventlog_prop_col(&s->log, nid);
    if (col < 0)
        return "(no column)";
    const log_chunk *c = persona__eventlog_chunk(&s->log, i);
    if (!c->props[col] || c->props[col][persona__eventlog_slot(i)] == LOG_NO_ID)
        return "(none)";
    return persona__intern_str(&s->values, c->props[col][persona__eventlog_slot(i)]);
}

int main(void)
{
    persona_store *s = NULL;
    CHECK_RC(persona_store_new(&s, NULL), PERSONA_OK);
    CHECK_RC(persona_store_attr_set_num(s, "u", "country", 1), PERSONA_OK); /* name known, no column */
    const char *n1[] = { "category", "color" }, *v1[] = { "shoes", "red" };
    const char *n2[] = { "country" }, *v2[] = { "FR" };
    persona_event e[3] = { PERSONA_EVENT_INIT, PERSONA_EVENT_INIT, PERSONA_EVENT_INIT };
    e[0].user = "u", e[0].time_ms = 5, e[0].type = "view", e[0].item = "i9";
    e[0].prop_names = n1, e[0].prop_values = v1, e[0].n_props = 2;
    e[1].user = "w", e[1].time_ms = 6, e[1].type = "buy", e[1].value = 2.5, e[1].basket = "o1";
    e[1].prop_names = n2, e[1].prop_values = v2, e[1].n_props = 1;
    e[2].user = "u", e[2].time_ms = 4, e[2].type = "buy";
    e[2].prop_names = n2, e[2].prop_values = v2, e[2].n_props = 1;
    CHECK_RC(persona_store_ingest(NULL, s, e, 3, NULL), PERSONA_OK);
    CHECK(s->log.count == 3);
    CHECK_STR(prop_of(s, 0, "category"), "shoes");
    CHECK_STR(prop_of(s, 0, "color"), "red");
    CHECK_STR(prop_of(s, 0, "country"), "(none)");
    CHECK_STR(prop_of(s, 1, "country"), "FR");
    CHECK_STR(prop_of(s, 2, "country"), "FR");
    CHECK_STR(prop_of(s, 1, "color"), "(none)");
    const log_chunk *c = persona__eventlog_chunk(&s->log, 0);
    CHECK_STR(persona__intern_str(&s->users, c->user[0]), "u");
    CHECK_STR(persona__intern_str(&s->users, c->user[1]), "w");
    CHECK(c->time[0] == 5 && c->time[1] == 6 && c->time[2] == 4);
    CHECK_STR(persona__intern_str(&s->types, c->type[1]), "buy");
    CHECK(isnan(persona__eventlog_value(&s->log, 0)) && persona__eventlog_value(&s->log, 1) == 2.5);
    CHECK_STR(persona__intern_str(&s->items, c->item[0]), "i9");
    CHECK(c->item[1] == LOG_NO_ID);
    CHECK_STR(persona__intern_str(&s->baskets, c->basket[1]), "o1");
    /* per-user chain: u's events newest first are 2 then 0 */
    CHECK(s->profiles[c->user[0]].last_event == 2 && c->prev[2] == 0 && c->prev[0] == LOG_NO_ID);
    /* a second batch in which an existing name gains its column while a new name appears */
    const char *n3[] = { "referrer", "color" }, *v3[] = { "ad", "blue" };
    persona_event f = PERSONA_EVENT_INIT;
    f.user = "w", f.time_ms = 9, f.prop_names = n3, f.prop_values = v3, f.n_props = 2;
    CHECK_RC(persona_store_ingest(NULL, s, &f, 1, NULL), PERSONA_OK);
    CHECK_STR(prop_of(s, 3, "referrer"), "ad");
    CHECK_STR(prop_of(s, 3, "color"), "blue");
    persona_store_free(s);
    return check_report("test_eventlog");
}
