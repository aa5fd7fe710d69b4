/* Helpers the path tests share: a list or a next-state answer as text with state names,
 * and a digest of everything a model answers (info, every transition table, the explorer
 * under a few queries), so two models can be compared as a caller sees them. Include after
 * check.h. */
#ifndef PERSONA_TEST_PATH_TEST_H
#define PERSONA_TEST_PATH_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

typedef struct path_text {
    char *data;
    size_t len, cap;
} path_text;

static inline void path_put(path_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = realloc(t->data, t->cap);
    }
    memcpy(t->data + t->len, s, n + 1);
    t->len += n;
}

static inline const char *path_name(const persona_path_model *m, uint32_t s)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    if (persona_path_state_name(buf[k], sizeof buf[k], NULL, m, s) != PERSONA_OK)
        snprintf(buf[k], sizeof buf[k], "?%u", s);
    return buf[k];
}

/* A list as lines "a>b>c count extra" (malloc'd). */
static inline char *path_list_text(const persona_path_model *m, const persona_path_list *l)
{
    path_text t = { 0 };
    path_put(&t, "");
    size_t rows = 0;
    CHECK_RC(persona_path_list_size(&rows, l), PERSONA_OK);
    for (size_t r = 0; r < rows; r++) {
        uint32_t st[64];
        size_t n = 0;
        uint64_t c = 0, x = 0;
        CHECK_RC(persona_path_list_row(st, 64, &n, &c, &x, l, r), PERSONA_OK);
        for (size_t i = 0; i < n; i++) {
            if (i)
                path_put(&t, ">");
            path_put(&t, path_name(m, st[i]));
        }
        char num[64];
        snprintf(num, sizeof num, " %" PRIu64 " %" PRIu64 "\n", c, x);
        path_put(&t, num);
    }
    return t.data;
}

/* persona_path_transitions() of one order as text. */
static inline char *path_trans_text(const persona_path_model *m, int32_t order)
{
    persona_path_list *l = NULL;
    CHECK_RC(persona_path_transitions(&l, m, order), PERSONA_OK);
    char *t = l ? path_list_text(m, l) : NULL;
    persona_path_list_free(l);
    return t;
}

/* An explorer query as text. */
static inline char *path_explore_text(const persona_path_model *m, const persona_path_query *q)
{
    persona_path_list *l = NULL;
    CHECK_RC(persona_path_explore(&l, m, q), PERSONA_OK);
    char *t = l ? path_list_text(m, l) : NULL;
    persona_path_list_free(l);
    return t;
}

/* A next-state answer as "name=prob ... @order". */
static inline char *path_next_text(const persona_path_model *m, const char *const *names,
                                   size_t n, int32_t order)
{
    uint32_t h[16], st[32];
    double pr[32];
    for (size_t i = 0; i < n; i++)
        if (persona_path_state_find(&h[i], m, names[i]) != PERSONA_OK)
            h[i] = PERSONA_PATH_NO_STATE;
    size_t k = 0;
    int32_t used = -1;
    CHECK_RC(persona_path_next(st, pr, 32, &k, &used, m, h, n, order), PERSONA_OK);
    path_text t = { 0 };
    path_put(&t, "");
    char buf[300];
    for (size_t i = 0; i < k; i++) {
        snprintf(buf, sizeof buf, "%s=%.6g ", path_name(m, st[i]), pr[i]);
        path_put(&t, buf);
    }
    snprintf(buf, sizeof buf, "@%d", used);
    path_put(&t, buf);
    return t.data;
}

/* Everything the model answers, as text. */
static inline char *path_digest(const persona_path_model *m)
{
    path_text t = { 0 };
    persona_path_info in = PERSONA_PATH_INFO_INIT;
    CHECK_RC(persona_path_info_get(&in, m), PERSONA_OK);
    char buf[400];
    snprintf(buf, sizeof buf,
             "order %d states %" PRIu64 " sessions %" PRIu64 " users %" PRIu64
             " events %" PRIu64 " skipped %" PRIu64 " contexts %" PRIu64 " transitions %" PRIu64 "\n",
             in.order, in.states, in.sessions, in.users, in.events, in.skipped, in.contexts,
             in.transitions);
    path_put(&t, buf);
    for (int32_t o = 0; o <= in.order; o++) {
        char *x = path_trans_text(m, o);
        path_put(&t, x ? x : "");
        free(x);
    }
    for (int32_t kind = PERSONA_PATH_TOP; kind <= PERSONA_PATH_DROPOFF; kind++) {
        persona_path_query q = PERSONA_PATH_QUERY_INIT;
        q.kind = kind;
        q.goal_state = "b";
        q.max_steps = 5;
        char *x = path_explore_text(m, &q);
        path_put(&t, x ? x : "");
        free(x);
    }
    return t.data;
}

#endif
