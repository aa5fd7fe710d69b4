/* The feature spec and the feature matrix, shared by lib/features/features_*.c:
 * features_parse.c turns the spec text into terms and views (docs/features.md, grammar),
 * features_build.c computes the values from a store, the levels, fills, means and sds, and
 * answers the queries. */
#ifndef PERSONA_FEATURES_INTERNAL_H
#define PERSONA_FEATURES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/features.h"

/* Term kinds. The traits come first, in the order of feat_trait_names[]. */
enum {
    FT_EVENTS, FT_SESSIONS, FT_ORDERS, FT_VALUE_SUM, FT_EVENT_TYPES, FT_ATTRIBUTES,
    FT_RECENCY, FT_TENURE, /* the traits */
    FT_COUNT, FT_VALUE, FT_ATTR, FT_ENGAGEMENT, FT_ONEHOT_ATTR, FT_ONEHOT_LAST,
};
#define FT_TRAITS 8

extern const char *const persona__feat_trait_names[FT_TRAITS];

typedef struct feat_term {
    int32_t kind;       /* FT_* */
    int32_t transform;  /* PERSONA_FEATURES_IDENTITY, _LOG1P, _SLOG1P */
    uint32_t raw;       /* raw(): not standardized */
    uint32_t view;
    uint32_t levels;    /* one-hot: named levels from the spec, 0 = the options' */
    uint32_t line, col; /* where the term starts, for messages */
    char *arg;          /* type, attribute, property or category; NULL for traits */
    char *name;         /* the column name (one-hot: the prefix of the level names) */
    /* one-hot, set by the build: the named levels in column order, whether an `other`
     * column follows them, and the level indexes sorted by name (lookups) */
    char **level;
    size_t n_level;
    uint32_t has_other;
    uint32_t *by_name;
    size_t first_col, n_cols;
} feat_term;

typedef struct feat_spec {
    feat_term *terms;
    size_t n_terms, terms_cap;
    char **views; /* names */
    size_t *view_first; /* first term of each view, n_views + 1 entries once parsed */
    size_t n_views, views_cap, first_cap;
} feat_spec;

/* Parse a spec of len bytes (no NUL inside is required: a NUL byte is an error). PERSONA_OK,
 * EPARSE (position and message set) or ENOMEM; on failure *spec is left empty. */
int persona__features_parse(feat_spec *spec, const char *text, size_t len);
void persona__features_spec_free(feat_spec *spec);

typedef struct feat_col {
    char *name;
    uint32_t term;
    persona_features_column info; /* view, transform, standardized, fill, mean, sd, present */
} feat_col;

struct persona_features {
    feat_spec spec;
    feat_col *cols;
    size_t d, n;
    int64_t as_of_ms;
    uint32_t flags, max_levels;
    char *keys;        /* n NUL-terminated keys back to back */
    size_t *key_off;   /* n + 1 offsets */
    double *x;         /* n × d */
};

#endif
