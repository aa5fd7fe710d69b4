#include <persona.h>
#include <stdio.h>

int main(void)
{
    persona_store *store = NULL;
    if (persona_store_new(&store, NULL) != PERSONA_OK)
        return 1;
    persona_event e = PERSONA_EVENT_INIT;
    e.user = "u42", e.type = "purchase", e.time_ms = 1700000000000, e.value = 19.9;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    if (persona_store_ingest(&st, store, &e, 1, NULL) != PERSONA_OK)
        fprintf(stderr, "ingest: %s\n", persona_errmsg());
    persona_profile_info p = PERSONA_PROFILE_INFO_INIT;
    if (persona_store_profile_get(&p, store, "u42") == PERSONA_OK)
        printf("u42: %llu events, value %.2f\n", (unsigned long long)p.events, p.value_sum);
    persona_store_free(store);
    return 0;
}
