#include "mapping.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"

static const char *const default_names[MAP_FIXED] = { "user_id", "timestamp", "event", NULL,
                                                      NULL,      NULL,        "value", NULL };

PERSONA__DEFINE_INIT(persona_mapping, persona_mapping_init)

void persona__mapping_free(persona__mapping *m)
{
    for (int k = 0; k < MAP_FIXED; k++)
        persona__free(m->names[k]);
    persona__free(m->event_const);
    for (size_t p = 0; p < m->n_props; p++) {
        persona__free(m->prop_names[p]);
        persona__free(m->prop_cols[p]);
    }
    persona__free(m->prop_names);
    persona__free(m->prop_cols);
    memset(m, 0, sizeof *m);
}

static int dup_name(char **dst, const char *src, size_t len)
{
    *dst = persona__strndup(src, len);
    return *dst ? PERSONA_OK : persona__fail_nomem();
}

static int set_value(persona__mapping *m, const char *value, int optional)
{
    const char *star = strchr(value, '*');
    if (!star)
        return dup_name(&m->names[MAP_VALUE_A], value, strlen(value));
    if (star == value || !star[1] || strchr(star + 1, '*'))
        return persona__fail(PERSONA_EINVAL,
                             "value '%.200s': write one column or COLUMN*COLUMN", value);
    (void)optional;
    int rc = dup_name(&m->names[MAP_VALUE_A], value, (size_t)(star - value));
    return rc ? rc : dup_name(&m->names[MAP_VALUE_B], star + 1, strlen(star + 1));
}

static int compile(persona__mapping *m, const persona_mapping *o)
{
    const char *given[MAP_FIXED] = { o->user, o->time, o->event, o->item, o->basket,
                                     o->event_id, NULL, NULL };
    int rc;
    for (int k = 0; k < MAP_VALUE_A; k++) {
        const char *name = given[k] ? given[k] : default_names[k];
        if (given[k] && !given[k][0])
            return persona__fail(PERSONA_EINVAL, "mapping: an empty column name");
        if (!name || (k == MAP_EVENT && !given[k] && o->event_const))
            continue;
        m->optional[k] = given[k] == NULL;
        if ((rc = dup_name(&m->names[k], name, strlen(name))) != PERSONA_OK)
            return rc;
    }
    m->optional[MAP_USER] = m->optional[MAP_TIME] = 0;
    if (o->value && !o->value[0])
        return persona__fail(PERSONA_EINVAL, "mapping: an empty value column name");
    if ((rc = set_value(m, o->value ? o->value : "value", !o->value)) != PERSONA_OK)
        return rc;
    m->optional[MAP_VALUE_A] = m->optional[MAP_VALUE_B] = o->value == NULL;
    const char *ev = o->event_const ? o->event_const : "event";
    if (!ev[0])
        return persona__fail(PERSONA_EINVAL, "mapping: the constant event type is empty");
    if ((rc = dup_name(&m->event_const, ev, strlen(ev))) != PERSONA_OK)
        return rc;
    if (o->n_props) {
        if (!o->prop_names || !o->prop_columns)
            return persona__fail(PERSONA_EINVAL, "mapping: %zu properties but no names or columns",
                                 o->n_props);
        m->prop_names = persona__calloc(o->n_props, sizeof *m->prop_names);
        m->prop_cols = persona__calloc(o->n_props, sizeof *m->prop_cols);
        if (!m->prop_names || !m->prop_cols)
            return persona__fail_nomem();
        for (size_t p = 0; p < o->n_props; p++) {
            if (!o->prop_names[p] || !o->prop_names[p][0] || !o->prop_columns[p] ||
                !o->prop_columns[p][0])
                return persona__fail(PERSONA_EINVAL, "mapping: property %zu needs a name and a column", p);
            m->n_props = p + 1;
            if ((rc = dup_name(&m->prop_names[p], o->prop_names[p], strlen(o->prop_names[p]))) ||
                (rc = dup_name(&m->prop_cols[p], o->prop_columns[p], strlen(o->prop_columns[p]))))
                return rc;
        }
    }
    if (o->time_offset_minutes < -1440 || o->time_offset_minutes > 1440)
        return persona__fail(PERSONA_EINVAL, "mapping: time offset %d minutes out of range",
                             (int)o->time_offset_minutes);
    m->offset_minutes = o->time_offset_minutes;
    return persona__time_format_compile(&m->time_format, o->time_format);
}

int persona__mapping_compile(persona__mapping *m, const persona_mapping *pub)
{
    persona_mapping o;
    memset(m, 0, sizeof *m);
    memset(&o, 0, sizeof o);
    if (pub) {
        int rc = persona__struct_in(&o, sizeof o, pub, sizeof o, "persona_mapping");
        if (rc)
            return rc;
    }
    int rc = compile(m, &o);
    if (rc)
        persona__mapping_free(m);
    return rc;
}

int persona__mapping_time(const persona__mapping *m, const char *s, size_t len, int64_t *out,
                          const char **why)
{
    return persona__time_parse_fast(&m->time_format, s, len, m->offset_minutes, out, why, NULL);
}
