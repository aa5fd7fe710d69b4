/* Fuzz target: feature spec text -> the spec parser and persona_features_build() on a fixed
 * store (TESTING §4, docs/features.md).
 *
 * Input: byte 0 = flags, then the spec (any bytes).
 *   byte 0 bit 0: PERSONA_FEATURES_RAW
 *          bits 1-2: max_levels 0 (default), 1, 2 or 1000
 *          bit 3: as_of_ms = a fixed time before every event (negative recency)
 * A missing header byte reads as 0.
 *
 * The store (built once): users with events in and out of time order, purchases with
 * positive and negative values, baskets, categories and referrers, attributes of every
 * type (number, string, boolean, time, null), a user with attributes only.
 *
 * Per input:
 *  1. the parser on the raw bytes (NULs included) returns PERSONA_OK or PERSONA_EPARSE
 *     (ENOMEM is impossible here); on EPARSE persona_error_position() gives a line and
 *     column inside the text (column <= line length + 1) and the message starts with them;
 *     on OK there are terms and views, each view's terms contiguous and non-empty, every
 *     term named.
 *  2. the build on the text up to its first NUL returns OK, EPARSE (with the same position
 *     checks) or EINVAL (a value or size the spec cannot take), and *out is NULL on
 *     failure; on OK: 1 <= d <= 4096, n = the store's users, every value finite, column
 *     names unique, the views' columns partition 0 … d-1, and transform() of every user
 *     gives exactly its row.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features/features_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 INT64_C(1717200000000)
#define DAY INT64_C(86400000)

static persona_store *store;

static void add(const char *user, int64_t t, const char *type, double value, const char *basket,
                const char *category, const char *referrer)
{
    persona_event e = PERSONA_EVENT_INIT;
    const char *names[2] = { "category", "referrer" }, *values[2] = { category, referrer };
    e.user = user;
    e.time_ms = t;
    e.type = type;
    e.value = value;
    e.basket = basket;
    e.prop_names = names;
    e.prop_values = values;
    e.n_props = 2;
    if (persona_store_ingest(NULL, store, &e, 1, NULL) != PERSONA_OK)
        abort();
}

static void setup(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 1;
    if (persona_store_new(&store, &o))
        abort();
    add("a", T0 + 2 * DAY, "purchase", 20, "o1", "shoes", "google");
    add("a", T0, "view", NAN, NULL, "shoes", NULL); /* out of order */
    add("a", T0 + DAY, "purchase", 10, "o2", "hats", NULL);
    add("b", T0 + 3 * DAY, "view", NAN, NULL, "shoes", "bing");
    add("b", T0 + 3 * DAY + 1000, "purchase", -4, NULL, NULL, NULL);
    add("c", T0 + 4 * DAY, "purchase", 5, "o3", NULL, "google");
    add("c", T0 + 5 * DAY, "add to cart", 1e300, NULL, "bags", "mail");
    add("c", T0 + 5 * DAY + 1, "add to cart", 1e300, NULL, "bags", "mail");
    persona_store_attr_set_num(store, "a", "age", 30);
    persona_store_attr_set_str(store, "a", "country", "DE");
    persona_store_attr_set_bool(store, "a", "vip", 1);
    persona_store_attr_set_time(store, "a", "signup", T0 - 10 * DAY);
    persona_store_attr_set_num(store, "b", "age", -50);
    persona_store_attr_set_str(store, "b", "country", "FR");
    persona_store_attr_set_null(store, "b", "vip");
    persona_store_attr_set_str(store, "c", "country", "DE");
    persona_store_attr_set_num(store, "c", "country2", 3);
    persona_store_attr_set_str(store, "d", "country", "US");
    persona_store_attr_set_str(store, "d", "age2", "x");
}

/* The error position is inside the text and the message starts with it. */
static void check_position(const char *text, size_t len)
{
    uint64_t line = 0, col = 0;
    FUZZ_ASSERT(persona_error_position(&line, &col) == PERSONA_OK, "no position");
    uint64_t l = 1;
    size_t start = 0;
    for (size_t i = 0; i < len && l < line; i++)
        if (text[i] == '\n') {
            l++;
            start = i + 1;
        }
    FUZZ_ASSERT(l == line && line >= 1, "line %llu of %llu", (unsigned long long)line,
                (unsigned long long)l);
    size_t end = start;
    while (end < len && text[end] != '\n')
        end++;
    FUZZ_ASSERT(col >= 1 && col <= end - start + 1, "column %llu, line length %zu",
                (unsigned long long)col, end - start);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "line %llu, column %llu: ", (unsigned long long)line,
             (unsigned long long)col);
    FUZZ_ASSERT(strncmp(persona_errmsg(), prefix, strlen(prefix)) == 0, "message '%s'",
                persona_errmsg());
}

static void check_parser(const char *text, size_t len)
{
    feat_spec spec;
    int rc = persona__features_parse(&spec, text, len);
    FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EPARSE, "parse rc %d", rc);
    if (rc) {
        FUZZ_ASSERT(spec.n_terms == 0 && spec.terms == NULL, "spec not emptied");
        check_position(text, len);
        return;
    }
    FUZZ_ASSERT(spec.n_terms >= 1 && spec.n_views >= 1, "empty spec");
    FUZZ_ASSERT(spec.view_first[0] == 0 && spec.view_first[spec.n_views] == spec.n_terms,
                "view bounds");
    for (size_t v = 0; v < spec.n_views; v++) {
        FUZZ_ASSERT(spec.views[v] && spec.views[v][0], "view %zu unnamed", v);
        FUZZ_ASSERT(spec.view_first[v] < spec.view_first[v + 1], "view %zu empty", v);
        for (size_t i = spec.view_first[v]; i < spec.view_first[v + 1]; i++)
            FUZZ_ASSERT(spec.terms[i].view == v, "term %zu in view %u", i, spec.terms[i].view);
    }
    for (size_t i = 0; i < spec.n_terms; i++)
        FUZZ_ASSERT(spec.terms[i].name && spec.terms[i].name[0], "term %zu unnamed", i);
    persona__features_spec_free(&spec);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_build(const char *text, size_t len, uint8_t flags)
{
    static const uint32_t levels[4] = { 0, 1, 2, 1000 };
    persona_features_options o = PERSONA_FEATURES_OPTIONS_INIT;
    o.flags = flags & 1 ? PERSONA_FEATURES_RAW : 0;
    o.max_levels = levels[(flags >> 1) & 3];
    o.as_of_ms = flags & 8 ? T0 - 100 * DAY : 0;
    persona_features *f = (persona_features *)store;
    int rc = persona_features_build(&f, store, text, &o);
    if (rc) {
        FUZZ_ASSERT(f == NULL, "out not NULL");
        FUZZ_ASSERT(rc == PERSONA_EPARSE || rc == PERSONA_EINVAL, "build rc %d", rc);
        if (rc == PERSONA_EPARSE)
            check_position(text, len);
        return;
    }
    persona_features_info in = PERSONA_FEATURES_INFO_INIT;
    FUZZ_ASSERT(persona_features_info_get(&in, f) == PERSONA_OK, "info");
    persona_store_info si = PERSONA_STORE_INFO_INIT;
    FUZZ_ASSERT(persona_store_info_get(&si, store) == PERSONA_OK, "store info");
    FUZZ_ASSERT(in.d >= 1 && in.d <= PERSONA_FEATURES_MAX_COLUMNS && in.n == si.users,
                "n %llu d %llu", (unsigned long long)in.n, (unsigned long long)in.d);
    size_t n = in.n, d = in.d;
    double *x = malloc(n * d * sizeof *x), *row = malloc(d * sizeof *row);
    char **names = malloc(d * sizeof *names);
    FUZZ_ASSERT(persona_features_matrix(x, n * d, f) == PERSONA_OK, "matrix");
    for (size_t i = 0; i < n * d; i++)
        FUZZ_ASSERT(isfinite(x[i]), "value %zu not finite", i);
    for (size_t j = 0; j < d; j++) {
        size_t need = 0;
        FUZZ_ASSERT(persona_features_column_name(NULL, 0, &need, f, j) == PERSONA_EBUFS, "len");
        names[j] = malloc(need + 1);
        FUZZ_ASSERT(persona_features_column_name(names[j], need + 1, NULL, f, j) == PERSONA_OK,
                    "name");
    }
    qsort(names, d, sizeof *names, cmp_names);
    for (size_t j = 1; j < d; j++)
        FUZZ_ASSERT(strcmp(names[j - 1], names[j]) != 0, "column '%s' twice", names[j]);
    for (size_t j = 0; j < d; j++)
        free(names[j]);
    free(names);
    size_t next = 0;
    for (uint32_t v = 0; v < in.views; v++) {
        size_t first = 0, count = 0;
        FUZZ_ASSERT(persona_features_view_columns(&first, &count, f, v) == PERSONA_OK, "view");
        FUZZ_ASSERT(first == next && count >= 1, "view %u: %zu + %zu", v, first, count);
        next = first + count;
    }
    FUZZ_ASSERT(next == d, "views cover %zu of %zu", next, d);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        FUZZ_ASSERT(persona_features_user_at(key, sizeof key, NULL, f, i) == PERSONA_OK, "key");
        FUZZ_ASSERT(persona_features_transform(row, d, f, store, key) == PERSONA_OK,
                    "transform %s", key);
        FUZZ_ASSERT(memcmp(row, x + i * d, d * sizeof *row) == 0, "row %zu differs", i);
    }
    free(x);
    free(row);
    persona_features_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        setup();
    uint8_t flags = size ? data[0] : 0;
    const char *text = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    if (len > PERSONA_FEATURES_MAX_SPEC)
        return 0;
    check_parser(text, len);
    char *z = malloc(len + 1);
    memcpy(z, text, len);
    z[len] = 0;
    check_build(z, strlen(z), flags);
    free(z);
    return 0;
}
