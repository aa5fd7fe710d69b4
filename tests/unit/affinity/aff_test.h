/* Helpers the affinity tests share: events with item, basket and category, and a digest
 * of everything a matrix answers (keys, counts and measures of every pair, similar-items
 * lists under every measure), so two matrices can be compared as a caller sees them.
 * Include after check.h (store_check.h is included here). */
#ifndef PERSONA_TEST_AFF_TEST_H
#define PERSONA_TEST_AFF_TEST_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store_check.h"

/* Ingest one event with item and basket; category NULL = none. */
static inline void aff_event(persona_store *s, const char *user, int64_t t, const char *type,
                             const char *item, const char *basket, const char *category)
{
    persona_event e = ev(user, t, type, NAN);
    e.item = item;
    e.basket = basket;
    ingest_event_with_prop(s, e, "category", category);
}

typedef struct aff_text {
    char *data;
    size_t len, cap;
} aff_text;

static inline void aff_printf(aff_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void aff_printf(aff_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->data = realloc(t->data, t->cap);
    }
    memcpy(t->data + t->len, tmp, (size_t)n + 1);
    t->len += (size_t)n;
}

static inline char *aff_key(const persona_affinity_matrix *m, size_t i)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    CHECK_RC(persona_affinity_item_key(buf[k], sizeof buf[k], NULL, m, i), PERSONA_OK);
    return buf[k];
}

/* Everything the matrix answers, as text (malloc'd). */
static inline char *aff_digest(const persona_affinity_matrix *m)
{
    aff_text t = { 0 };
    persona_affinity_info in = PERSONA_AFFINITY_INFO_INIT;
    CHECK_RC(persona_affinity_info_get(&in, m), PERSONA_OK);
    aff_printf(&t, "by %d units %llu items %llu pairs %llu entries %llu categories %llu\n", in.by,
               (unsigned long long)in.units, (unsigned long long)in.items,
               (unsigned long long)in.pairs, (unsigned long long)in.entries,
               (unsigned long long)in.categories);
    for (size_t a = 0; a < in.items; a++) {
        char ka[256];
        strcpy(ka, aff_key(m, a));
        for (size_t b = 0; b < in.items; b++) {
            persona_affinity_pair_info p = PERSONA_AFFINITY_PAIR_INFO_INIT;
            CHECK_RC(persona_affinity_pair(&p, m, ka, aff_key(m, b)), PERSONA_OK);
            if (p.count_ab || a == b)
                aff_printf(&t, "%s|%s %llu %llu %llu %.17g %.17g %.17g %.17g\n", ka, aff_key(m, b),
                           (unsigned long long)p.count_ab, (unsigned long long)p.count_a,
                           (unsigned long long)p.count_b, p.lift, p.jaccard, p.conviction,
                           p.leverage);
        }
        for (int32_t ms = 0; ms < PERSONA_AFFINITY_MEASURES; ms++) {
            uint32_t items[64];
            double sc[64];
            uint64_t cn[64];
            size_t n = 0;
            CHECK_RC(persona_affinity_similar(items, sc, cn, 64, &n, m, ka, ms, 0), PERSONA_OK);
            aff_printf(&t, "similar %s %d:", ka, ms);
            for (size_t i = 0; i < n; i++)
                aff_printf(&t, " %s=%.17g/%llu", aff_key(m, items[i]), sc[i],
                           (unsigned long long)cn[i]);
            aff_printf(&t, "\n");
        }
    }
    if (!t.data)
        t.data = calloc(1, 1);
    return t.data;
}

#endif
