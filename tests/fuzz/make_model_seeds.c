/* Seeds of the model snapshot fuzz targets: real cohort tables and funnels (one per kind
 * and feature) of a small store, so the fuzzer starts from files that load.
 * usage: make_model_seeds cohort|funnel DIR   (writes DIR/seed-*; from the source root:
 *        ./build/tests/fuzz/make_model_seeds cohort tests/fuzz/corpus/snapshot_cohort
 *        ./build/tests/fuzz/make_model_seeds funnel tests/fuzz/corpus/snapshot_funnel) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persona.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1704067200000) /* 2024-01-01 */

static void must(int rc, const char *what)
{
    if (rc != PERSONA_OK) {
        fprintf(stderr, "make_model_seeds: %s: %s\n", what, persona_errmsg());
        exit(1);
    }
}

static persona_store *small_store(void)
{
    persona_store *s = NULL;
    must(persona_store_new(&s, NULL), "store");
    const char *users[] = {"ann", "bob", "cy", "dee"};
    const char *refs[] = {"ads", NULL, "mail", "ads"};
    for (int u = 0; u < 4; u++)
        for (int k = 0; k < 5; k++) {
            persona_event e = PERSONA_EVENT_INIT;
            const char *names[1] = {"ref"}, *vals[1] = {refs[u]};
            e.user = users[u];
            e.time_ms = T0 + (int64_t)(u * 9 + k * 17) * DAY;
            e.type = k % 2 ? "buy" : "view";
            e.value = k % 2 ? 3.25 * (k + u) : NAN;
            if (refs[u]) {
                e.prop_names = names;
                e.prop_values = vals;
                e.n_props = 1;
            }
            must(persona_store_ingest(NULL, s, &e, 1, NULL), "ingest");
        }
    return s;
}

/* Build a cohort table (co) or a funnel (fo) of s and save it as DIR/seed-NAME. */
static void write_seed(const persona_store *s, const persona_cohort_options *co,
                       const persona_funnel_options *fo, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    if (co) {
        persona_cohort_table *t = NULL;
        must(persona_cohort_build(&t, s, co), name);
        must(persona_cohort_table_save(t, path), path);
        persona_cohort_table_free(t);
    } else {
        persona_funnel *f = NULL;
        must(persona_funnel_build(&f, s, fo), name);
        must(persona_funnel_save(f, path), path);
        persona_funnel_free(f);
    }
}

static void cohort_seeds(const char *dir)
{
    persona_store *s = small_store();
    static const uint32_t brackets[] = {0, 1, 2, 4};
    static const char *const buy[] = {"buy"};
    persona_cohort_options o = PERSONA_COHORT_OPTIONS_INIT;
    o.metrics = (1u << PERSONA_COHORT_EVENTS) | (1u << PERSONA_COHORT_REVENUE);
    write_seed(s, &o, NULL, dir, "monthly-all-metrics");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.cohort_by = PERSONA_COHORT_BY_PROPERTY;
    o.cohort_property = "ref";
    o.period = PERSONA_PERIOD_WEEK;
    o.brackets = brackets;
    o.n_brackets = 4;
    o.min_users = 2;
    write_seed(s, &o, NULL, dir, "property-weekly-brackets");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.period = PERSONA_PERIOD_ROLLING;
    o.row_period = PERSONA_PERIOD_QUARTER;
    o.window_ms = 7 * DAY;
    o.retention = PERSONA_RETENTION_UNBOUNDED;
    o.cohort_by = PERSONA_COHORT_BY_FIRST_OF_TYPE;
    o.cohort_event = "buy";
    o.active_types = buy;
    o.n_active_types = 1;
    o.metrics = 1u << PERSONA_COHORT_REVENUE;
    o.utc_offset_minutes = 330;
    o.consent_purpose = "email";
    write_seed(s, &o, NULL, dir, "rolling-first-buy");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.kind = PERSONA_COHORT_LIFECYCLE;
    o.period = PERSONA_PERIOD_WEEK;
    o.from_ms = T0 + 20 * DAY;
    write_seed(s, &o, NULL, dir, "lifecycle-weekly");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    o.kind = PERSONA_COHORT_STICKINESS;
    o.period = PERSONA_PERIOD_DAY;
    write_seed(s, &o, NULL, dir, "stickiness-daily");
    persona_store_free(s);
    persona_store *empty = NULL;
    must(persona_store_new(&empty, NULL), "store");
    o = (persona_cohort_options)PERSONA_COHORT_OPTIONS_INIT;
    write_seed(empty, &o, NULL, dir, "empty");
    persona_store_free(empty);
}

static void funnel_seeds(const char *dir)
{
    persona_store *s = small_store();
    persona_funnel_step view = PERSONA_FUNNEL_STEP_INIT, buy = PERSONA_FUNNEL_STEP_INIT,
                        ads_buy = PERSONA_FUNNEL_STEP_INIT;
    view.event_type = "view";
    buy.event_type = "buy";
    buy.max_ms = 30 * DAY;
    ads_buy.event_type = "buy";
    ads_buy.where_property = "ref";
    ads_buy.where_value = "ads";
    const persona_funnel_step *two[] = {&view, &buy}, *three[] = {&view, &ads_buy, &view};
    persona_funnel_step bought = PERSONA_FUNNEL_STEP_INIT;
    bought.event_type = "buy";
    persona_funnel_exclusion x = PERSONA_FUNNEL_EXCLUSION_INIT;
    x.event = &bought;
    x.from_step = 1;
    x.to_step = 2;
    const persona_funnel_exclusion *xs[] = {&x};
    persona_funnel_options o = PERSONA_FUNNEL_OPTIONS_INIT;
    o.steps = two;
    o.n_steps = 2;
    o.window_ms = 40 * DAY;
    write_seed(s, NULL, &o, dir, "loose-users");
    o.steps = three;
    o.n_steps = 3;
    o.order = PERSONA_FUNNEL_STRICT;
    o.count = PERSONA_FUNNEL_TOTALS;
    o.trend_period = PERSONA_PERIOD_WEEK;
    write_seed(s, NULL, &o, dir, "strict-totals-weekly");
    o.order = PERSONA_FUNNEL_ANY_ORDER;
    o.count = PERSONA_FUNNEL_SESSIONS;
    o.hold_property = "ref";
    write_seed(s, NULL, &o, dir, "any-order-sessions-hold");
    o = (persona_funnel_options)PERSONA_FUNNEL_OPTIONS_INIT;
    o.steps = three;
    o.n_steps = 3;
    o.exclusions = xs;
    o.n_exclusions = 1;
    o.consent_purpose = "email";
    o.utc_offset_minutes = -300;
    write_seed(s, NULL, &o, dir, "predicate-exclusion");
    persona_store_free(s);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "cohort") != 0 && strcmp(argv[1], "funnel") != 0)) {
        fprintf(stderr, "usage: make_model_seeds cohort|funnel DIR\n");
        return 2;
    }
    if (strcmp(argv[1], "cohort") == 0)
        cohort_seeds(argv[2]);
    else
        funnel_seeds(argv[2]);
    return 0;
}
