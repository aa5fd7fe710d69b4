/* Events that carry identity links or consent (persona_store_identify_rule(),
 * persona_store_consent_rule()): before a batch is applied, each such event's links and
 * consent settings are made, in batch order, through the same code as the API calls. They
 * go first because applying the batch cannot fail halfway, while a link can (memory); a
 * link or setting made twice changes nothing, so a batch that failed can be sent again. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store_internal.h"
#include "segment/live.h"

#define MAX_EVENT_IDS 16 /* identifiers one event can link: its user and 15 properties */

void persona__event_rules_free(persona_store *s)
{
    for (size_t i = 0; i < s->n_event_rules; i++) {
        persona__free(s->event_rules[i].event_type);
        persona__free(s->event_rules[i].prop);
        persona__free(s->event_rules[i].prop2);
    }
    persona__free(s->event_rules);
    s->event_rules = NULL;
    s->n_event_rules = s->event_rules_cap = 0;
}

static char *dup_str(const char *v)
{
    return v ? persona__strndup(v, strlen(v)) : NULL;
}

int persona__event_rule_add(persona_store *s, int32_t kind, int32_t id_type,
                            const char *event_type, const char *prop, const char *prop2)
{
    for (size_t i = 0; i < s->n_event_rules; i++) {
        const event_rule *r = &s->event_rules[i];
        if (strcmp(r->event_type, event_type) == 0 &&
            (kind == RULE_CONSENT || r->kind == RULE_CONSENT || strcmp(r->prop, prop) == 0))
            return persona__fail(PERSONA_EINVAL, "event type '%.200s' has a rule for that already",
                                 event_type);
    }
    if (persona__grow((void **)&s->event_rules, &s->event_rules_cap, s->n_event_rules + 1,
                      sizeof *s->event_rules, 4))
        return persona__fail_nomem();
    event_rule r = { kind, id_type, dup_str(event_type), dup_str(prop), dup_str(prop2) };
    if (!r.event_type || !r.prop || (prop2 && !r.prop2)) {
        persona__free(r.event_type);
        persona__free(r.prop);
        persona__free(r.prop2);
        return persona__fail_nomem();
    }
    s->event_rules[s->n_event_rules++] = r;
    return PERSONA_OK;
}

static int add_rule(persona_store *store, int32_t kind, int32_t id_type, const char *event_type,
                    const char *prop, const char *prop2)
{
    if (!store)
        return persona__fail(PERSONA_EINVAL, "store is NULL");
    int rc = persona__check_key(event_type, "event type");
    if (!rc)
        rc = persona__check_key(prop, "property name");
    if (!rc && kind == RULE_CONSENT)
        rc = persona__check_key(prop2, "property name");
    if (!rc && id_type < 0)
        rc = persona__fail(PERSONA_EINVAL, "negative identifier type %d", (int)id_type);
    if (rc)
        return rc;
    STORE_WRLOCK(store);
    rc = persona__event_rule_add(store, kind, id_type, event_type, prop, prop2);
    STORE_UNLOCK(store);
    return rc;
}

PERSONA_API int persona_store_identify_rule(persona_store *store, const char *event_type,
                                            const char *prop_name, int32_t id_type)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    return add_rule(store, RULE_IDENTIFY, id_type, event_type, prop_name, NULL);
}

PERSONA_API int persona_store_consent_rule(persona_store *store, const char *event_type,
                                           const char *purpose_prop, const char *granted_prop)
{
    if (persona__live_check_reentry(store))
        return PERSONA_EMISUSE;
    return add_rule(store, RULE_CONSENT, 0, event_type, purpose_prop, granted_prop);
}

/* The value of property name on ev, or NULL (absent or empty). */
static const char *prop_of(const persona_event *ev, const char *name)
{
    for (size_t p = 0; p < ev->n_props; p++)
        if (ev->prop_names[p] && strcmp(ev->prop_names[p], name) == 0)
            return ev->prop_values[p] && ev->prop_values[p][0] ? ev->prop_values[p] : NULL;
    return NULL;
}

/* 1 yes, 0 no, -1 neither. */
static int yes_no(const char *v)
{
    static const char *const yes[] = { "true", "yes", "1", "granted", "opt-in" };
    static const char *const no[] = { "false", "no", "0", "denied", "opt-out" };
    char low[16];
    size_t n = strlen(v);
    if (n >= sizeof low)
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + ('a' - 'A') : v[i]);
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcmp(low, yes[i]) == 0)
            return 1;
        if (strcmp(low, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* Whether the event will be stored at all: links and consent of events ingest is going to
 * reject (bad fields, a known event id, an opted-out user) are not made. */
static int will_be_stored(const persona_store *s, const persona_event *ev)
{
    if (ev->struct_size < offsetof(persona_event, n_props) + sizeof(size_t) ||
        ev->struct_size > 4096 || !ev->user || !ev->type || !persona__event_fields_ok(ev))
        return 0;
    if (ev->event_id && ev->event_id[0] &&
        persona__intern_find(&s->event_ids, ev->event_id, strlen(ev->event_id)) != PERSONA__NO_ID)
        return 0;
    uint32_t u = persona__intern_find(&s->users, ev->user, strlen(ev->user));
    return u == PERSONA__NO_ID || !(s->profiles[persona__id_root(s, u)].flags & PROFILE_UNTRACKED);
}

/* Event ev's links and consent settings (dry: only checked). Everything about the event
 * is checked before anything is made, so a rejected event (*bad: its reason) changes
 * nothing. */
static int apply_one(persona_store *s, const persona_event *ev, uint8_t *bad, int dry)
{
    persona_identifier ids[MAX_EVENT_IDS];
    size_t n = 0;
    ids[n++] = (persona_identifier)PERSONA_IDENTIFIER(PERSONA_ID_KEY, ev->user);
    for (size_t i = 0; i < s->n_event_rules; i++) {
        const event_rule *r = &s->event_rules[i];
        if (strcmp(r->event_type, ev->type) != 0)
            continue;
        const char *v = prop_of(ev, r->prop);
        if (r->kind == RULE_CONSENT) {
            const char *g = prop_of(ev, r->prop2);
            if (!v || !g || yes_no(g) < 0 || persona__check_key(v, "purpose")) {
                *bad = PERSONA_REJECT_BAD_CONSENT;
                return PERSONA_OK;
            }
        } else if (v && n < MAX_EVENT_IDS) {
            ids[n++] = (persona_identifier)PERSONA_IDENTIFIER(r->id_type, v);
        }
    }
    int rc = PERSONA_OK;
    if (n >= 2 && dry) {
        rc = persona__identifiers_check(s, ids, n);
    } else if (n >= 2) {
        char source[256] = "event"; /* named after the event type unless that is long */
        if (strlen(ev->type) < sizeof source - 7)
            snprintf(source, sizeof source, "event:%s", ev->type);
        persona_alias_result r;
        memset(&r, 0, sizeof r);
        rc = persona__store_alias_locked(s, ids, n, ev->time_ms, source, 1, &r);
    }
    if (rc == PERSONA_EINVAL) {
        *bad = PERSONA_REJECT_BAD_IDENTIFIER;
        return PERSONA_OK;
    }
    for (size_t i = 0; i < s->n_event_rules && !rc && !dry; i++) {
        const event_rule *r = &s->event_rules[i];
        if (r->kind == RULE_CONSENT && strcmp(r->event_type, ev->type) == 0)
            rc = persona__consent_set_locked(s, ev->user, prop_of(ev, r->prop),
                                             yes_no(prop_of(ev, r->prop2)), ev->time_ms);
    }
    return rc;
}

static int run_rules(persona_store *s, const persona_event *events, size_t count, uint8_t *bad,
                     int dry)
{
    /* event ids of this batch's events so far (any type: an event with a rule that repeats
     * the id of any earlier event is a duplicate ingest rejects) */
    persona__intern ids;
    persona__intern_init(&ids, s->key);
    int rc = PERSONA_OK;
    for (size_t i = 0; i < count && !rc; i++) {
        bad[i] = 0xFF;
        const persona_event *ev = &events[i];
        int match = 0;
        for (size_t k = 0; k < s->n_event_rules && !match && ev->type; k++)
            match = strcmp(s->event_rules[k].event_type, ev->type) == 0;
        int has_id = ev->event_id && ev->event_id[0];
        if ((!match && !has_id) || !will_be_stored(s, ev))
            continue;
        if (has_id) {
            size_t before = ids.count, len = strlen(ev->event_id);
            if (persona__intern_add(&ids, ev->event_id, len) == PERSONA__NO_ID) {
                rc = persona__fail_nomem();
                break;
            }
            if (ids.count == before)
                continue; /* ingest rejects it as a duplicate */
        }
        if (match)
            rc = apply_one(s, ev, &bad[i], dry);
    }
    persona__intern_free(&ids);
    return rc;
}

int persona__apply_event_rules(persona_store *s, const persona_event *events, size_t count,
                               uint8_t *bad)
{
    return run_rules(s, events, count, bad, 0);
}

int persona__check_event_rules(const persona_store *s, const persona_event *events, size_t count,
                               uint8_t *bad)
{
    return run_rules((persona_store *)s, events, count, bad, 1); /* dry: nothing written */
}
