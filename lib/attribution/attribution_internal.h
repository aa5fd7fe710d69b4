/* The journey set's layout, shared by the files of lib/attribution/.
 *
 * Paths are kept as CSR in canonical order (lexicographic by channel index, a prefix
 * first; no two equal): path p's touchpoints are touch[start[p] .. start[p + 1]), never
 * empty. conv / value / nulls are its totals; decay_conv / decay_value, per touchpoint,
 * the time-decay credit its journeys gave that touchpoint (computed at the build with the
 * set's half-life). Channels are numbered in bytewise order of their names (the intern
 * table inserts them in that order, so its id is the index).
 *
 * A build, a host's journeys, a merge and a load all end in the same aggregator
 * (attribution_paths.c), so the four cannot disagree on the canonical form. */
#ifndef PERSONA_ATTRIBUTION_INTERNAL_H
#define PERSONA_ATTRIBUTION_INTERNAL_H

#include <stdint.h>

#include "core/intern.h"
#include "persona/attribution.h"

/* The channel of a touchpoint event that lacks the channel property. */
#define ATTR_NONE "(none)"
/* Most journeys (conversions + nulls) a set may hold: counts stay exact as doubles and
 * their sums cannot wrap. */
#define ATTR_MAX_JOURNEYS ((uint64_t)1 << 53)
#define ATTR_DEFAULT_HALF_LIFE_MS ((int64_t)7 * 24 * 3600 * 1000)

struct persona_attribution {
    /* the options it was built with (a merge requires them equal); NULL strings for a
     * set from host journeys. Type lists are sorted, distinct and joined by '\n'. */
    char *channel_prop;
    char *conversion_types;
    char *touch_types;
    char *consent_purpose;
    int64_t lookback_ms;
    int64_t half_life_ms;

    persona__intern channels; /* id = index, bytewise order */
    size_t n_paths;
    uint64_t *start; /* n_paths + 1 */
    uint32_t *touch;
    uint64_t *conv, *nulls;
    double *value;
    double *decay_conv, *decay_value; /* per touchpoint */
    uint64_t conv_no_touch;
    double value_no_touch;
};

/* Collects journeys: equal paths are summed. Channel ids are the caller's (remapped by
 * finish). */
typedef struct attr_agg {
    persona__intern paths; /* key: the path's uint32 channel ids as bytes */
    uint64_t *conv, *nulls;
    double *value;
    uint64_t *dstart; /* per path: its first decay entry */
    size_t cap;
    double *dconv, *dvalue;
    size_t n_decay, cap_decay;
} attr_agg;

/* Parallel arrays grown together: each of the n arrays (*arrays[i].ptr, elements of
 * arrays[i].size bytes) to room for `need` elements, doubling *cap (at least min_cap).
 * 0, or -1 with *cap unchanged (arrays already grown keep their new size, which is only
 * room to spare). */
typedef struct attr_array {
    void **ptr;
    size_t size;
} attr_array;
int persona__attr_grow(const attr_array *arrays, size_t n, size_t *cap, size_t need,
                       size_t min_cap);
/* a's path arrays for n paths of t touchpoints (start, touch, counts, value, decay
 * credits); 0 or ENOMEM (what was allocated is freed with a). */
int persona__attr_alloc_paths(persona_attribution *a, uint64_t n, uint64_t t);
/* A new empty set (intern table ready). NULL on failure. */
persona_attribution *persona__attribution_alloc(void);
void persona__attr_agg_init(attr_agg *g);
void persona__attr_agg_free(attr_agg *g);
/* Add a journey of len ≥ 1 channels: conv conversions of value `value`, nulls
 * non-converting; dconv / dvalue its per-touchpoint decay credit (NULL = none). 0 or
 * ENOMEM (g unchanged). */
int persona__attr_agg_add(attr_agg *g, const uint32_t *path, size_t len, uint64_t conv,
                          double value, uint64_t nulls, const double *dconv,
                          const double *dvalue);
/* Time-decay credit of one journey's touchpoints: weight 2^(-age_i / half_life), shifted
 * by the smallest age so that no weight underflows (the shares are the same), times
 * conv / value over the weights' sum. */
void persona__attr_decay(double *dconv, double *dvalue, const int64_t *ages, size_t len,
                         uint64_t conv, double value, int64_t half_life_ms);
/* The collected paths into a's CSR arrays in canonical order, channel ids through map
 * (NULL = as they are). 0 or ENOMEM (a's arrays stay NULL). */
int persona__attr_agg_finish(attr_agg *g, persona_attribution *a, const uint32_t *map);
/* Insert names[0 .. n) in bytewise order into a->channels; map[i] receives name i's
 * index. 0 or ENOMEM. */
int persona__attr_channels_sorted(persona_attribution *a, const char *const *names, size_t n,
                                  uint32_t *map);
/* The channels the collected paths use, of names[0 .. n) (indexed by the paths' channel
 * ids), into a in bytewise order; map[i] receives name i's index, or NO_ID when no path
 * uses it. 0 or ENOMEM. */
int persona__attr_channels_used(persona_attribution *a, const attr_agg *g,
                                const char *const *names, size_t n, uint32_t *map);
/* The journeys (conversions + nulls) of a set, or UINT64_MAX when more than
 * ATTR_MAX_JOURNEYS. */
uint64_t persona__attr_journeys(const persona_attribution *a);
/* End of a constructor: on success *out = a, else a is freed; returns rc. */
int persona__attribution_hand_over(persona_attribution **out, persona_attribution *a, int rc);
/* Markov removal effects and credits (attribution_markov.c). */
int persona__attribution_markov(double *conv_out, double *value_out, double *re_out,
                                double *re_value_out, const persona_attribution *a, int order);
/* persona_attribution_load() from memory (the fuzz target's way in). */
int persona__attribution_load_memory(persona_attribution **out, const void *data, size_t len);

#endif
