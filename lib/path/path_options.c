/* Path options: validation, the copy a model keeps (path_spec), comparison for merges. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "path/path_internal.h"

PERSONA__DEFINE_INIT(persona_path_options, persona_path_options_init)
PERSONA__DEFINE_INIT(persona_path_rule, persona_path_rule_init)
PERSONA__DEFINE_INIT(persona_path_info, persona_path_info_init)
PERSONA__DEFINE_INIT(persona_path_query, persona_path_query_init)

void persona__path_spec_free(path_spec *spec)
{
    persona__free(spec->session_prop);
    persona__free(spec->state_prop);
    persona__free(spec->consent);
    for (size_t i = 0; i < spec->n_rules; i++) {
        persona__free(spec->pattern[i]);
        persona__free(spec->target[i]);
    }
    persona__free(spec->pattern);
    persona__free(spec->target);
    memset(spec, 0, sizeof *spec);
}

/* *dst = a copy of s (NULL stays NULL). 0 or ENOMEM. */
static int dup_str(char **dst, const char *s)
{
    *dst = NULL;
    if (s && !(*dst = persona__strndup(s, strlen(s))))
        return persona__fail_nomem();
    return PERSONA_OK;
}

static int is_reserved(const char *s)
{
    return strcmp(s, PERSONA_PATH_START) == 0 || strcmp(s, PERSONA_PATH_END) == 0;
}

static int copy_rules(path_spec *spec, const persona_path_rule *rules, size_t n)
{
    if (!n)
        return PERSONA_OK;
    if (!rules)
        return persona__fail(PERSONA_EINVAL, "rules is NULL with %zu entries", n);
    if (n > PATH_MAX_RULES)
        return persona__fail(PERSONA_EINVAL, "%zu rules: more than %u", n, PATH_MAX_RULES);
    spec->pattern = persona__calloc(n, sizeof *spec->pattern);
    spec->target = persona__calloc(n, sizeof *spec->target);
    if (!spec->pattern || !spec->target)
        return persona__fail_nomem();
    for (size_t i = 0; i < n; i++) {
        persona_path_rule r;
        int rc = persona__struct_in(&r, sizeof r, &rules[i], sizeof r, "persona_path_rule");
        if (rc)
            return rc;
        if (r.reserved)
            return persona__fail(PERSONA_EINVAL, "rule %zu: reserved is not 0", i);
        if (!r.pattern || !*r.pattern)
            return persona__fail(PERSONA_EINVAL, "rule %zu: the pattern is %s", i,
                                 r.pattern ? "empty" : "NULL");
        if (r.state && (!*r.state || is_reserved(r.state)))
            return persona__fail(PERSONA_EINVAL, "rule %zu: the state \"%s\" is %s", i, r.state,
                                 *r.state ? "reserved" : "empty");
        spec->n_rules = i + 1;
        if ((rc = dup_str(&spec->pattern[i], r.pattern)) || (rc = dup_str(&spec->target[i], r.state)))
            return rc;
    }
    return PERSONA_OK;
}

static int fill(path_spec *spec, const persona_path_options *opts, int64_t store_gap_ms)
{
    persona_path_options o = PERSONA_PATH_OPTIONS_INIT;
    int rc = opts ? persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_path_options")
                  : PERSONA_OK;
    if (rc)
        return rc;
    if (o.order < 0 || o.order > PERSONA_PATH_MAX_ORDER)
        return persona__fail(PERSONA_EINVAL, "order is %d: the Markov order must be 1 to %d",
                             o.order, PERSONA_PATH_MAX_ORDER);
    if (o.session_gap_ms < 0)
        return persona__fail(PERSONA_EINVAL, "session_gap_ms is negative");
    spec->order = o.order ? o.order : 1;
    const char *sp = o.session_prop && *o.session_prop ? o.session_prop : NULL;
    const char *st = o.state_prop && *o.state_prop ? o.state_prop : NULL;
    const char *cp = o.consent_purpose && *o.consent_purpose ? o.consent_purpose : NULL;
    spec->session_gap_ms = sp ? 0 : o.session_gap_ms ? o.session_gap_ms : store_gap_ms;
    if ((rc = dup_str(&spec->session_prop, sp)) || (rc = dup_str(&spec->state_prop, st)) ||
        (rc = dup_str(&spec->consent, cp)))
        return rc;
    return copy_rules(spec, o.rules, o.n_rules);
}

int persona__path_spec_from(path_spec *spec, const persona_path_options *opts,
                            int64_t store_gap_ms)
{
    memset(spec, 0, sizeof *spec);
    int rc = fill(spec, opts, store_gap_ms);
    if (rc)
        persona__path_spec_free(spec);
    return rc;
}

int persona__path_spec_copy(path_spec *dst, const path_spec *src)
{
    memset(dst, 0, sizeof *dst);
    dst->order = src->order;
    dst->session_gap_ms = src->session_gap_ms;
    int rc = dup_str(&dst->session_prop, src->session_prop);
    if (!rc)
        rc = dup_str(&dst->state_prop, src->state_prop);
    if (!rc)
        rc = dup_str(&dst->consent, src->consent);
    if (!rc && src->n_rules) {
        dst->pattern = persona__calloc(src->n_rules, sizeof *dst->pattern);
        dst->target = persona__calloc(src->n_rules, sizeof *dst->target);
        if (!dst->pattern || !dst->target)
            rc = persona__fail_nomem();
        for (size_t i = 0; !rc && i < src->n_rules; i++) {
            dst->n_rules = i + 1;
            rc = dup_str(&dst->pattern[i], src->pattern[i]);
            if (!rc)
                rc = dup_str(&dst->target[i], src->target[i]);
        }
    }
    if (rc)
        persona__path_spec_free(dst);
    return rc;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int persona__path_spec_same(const path_spec *a, const path_spec *b)
{
    if (a->order != b->order)
        return persona__fail(PERSONA_EINVAL, "the models differ in order (%d, %d)", a->order,
                             b->order);
    if (a->session_gap_ms != b->session_gap_ms)
        return persona__fail(PERSONA_EINVAL, "the models differ in session gap");
    if (!same_str(a->session_prop, b->session_prop))
        return persona__fail(PERSONA_EINVAL, "the models differ in session property");
    if (!same_str(a->state_prop, b->state_prop))
        return persona__fail(PERSONA_EINVAL, "the models differ in state property");
    if (!same_str(a->consent, b->consent))
        return persona__fail(PERSONA_EINVAL, "the models differ in consent purpose");
    if (a->n_rules != b->n_rules)
        return persona__fail(PERSONA_EINVAL, "the models differ in grouping rules");
    for (size_t i = 0; i < a->n_rules; i++)
        if (!same_str(a->pattern[i], b->pattern[i]) || !same_str(a->target[i], b->target[i]))
            return persona__fail(PERSONA_EINVAL, "the models differ in grouping rule %zu", i);
    return PERSONA_OK;
}
