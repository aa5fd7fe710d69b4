/* The RFM result's layout, shared by lib/segment/rfm_*.c.
 *
 * A result keeps per user only what the scores are computed from (latest purchase time,
 * orders, exact monetary value) plus the scores and segment; loading a snapshot computes
 * the scores again from the saved values (rfm_score.c), so they cannot disagree. */
#ifndef PERSONA_RFM_INTERNAL_H
#define PERSONA_RFM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "persona/rfm.h"

#define RFM_DAY_MS INT64_C(86400000)
#define RFM_DEFAULT_BINS 5u
#define RFM_DEFAULT_PURCHASE "purchase"
/* Snapshot kind of an RFM result (docs/rfm.md). The container's kinds live in
 * lib/persist/snapfile.h (1 store, 2 cohort, 3 funnel, 4 segments); this one is the next. */
/* Latest reference time: the default (the store's clock + 1 day) of a store whose last
 * event is at PERSONA_TIME_MAX. */
#define RFM_REFERENCE_MAX (PERSONA_TIME_MAX + RFM_DAY_MS)

/* The options, checked and owned. */
typedef struct rfm_opts {
    uint32_t bins;
    int64_t reference_ms; /* resolved (never the 0 of "default") */
    int64_t from_ms;      /* 0 = no limit */
    char *purchase_type;  /* never NULL once resolved */
    char *return_type, *consent_purpose; /* NULL = none */
} rfm_opts;

struct persona_rfm {
    rfm_opts o;
    size_t n;
    char *keys;         /* n NUL-terminated keys, back to back */
    uint64_t *key_off;  /* n + 1 offsets into keys (the NULs are not counted in lengths) */
    int64_t *last_ms;   /* latest purchase */
    uint64_t *frequency;
    double *monetary;
    uint8_t *r, *f, *m, *segment;
    uint32_t *by_key;   /* indexes sorted by key bytes (persona_rfm_find) */
    uint64_t seg_size[PERSONA_RFM_SEGMENTS];
};

static inline const char *persona__rfm_key(const persona_rfm *x, size_t i, size_t *len)
{
    *len = (size_t)(x->key_off[i + 1] - x->key_off[i] - 1);
    return x->keys + x->key_off[i];
}

/* Options (rfm_build.c): checked and copied; reference_ms stays 0 when defaulted (the
 * caller resolves it from the store). EINVAL / EUNSUPPORTED / ENOMEM. */
int persona__rfm_opts_copy(rfm_opts *dst, const persona_rfm_options *src);
void persona__rfm_opts_free(rfm_opts *o);

/* Scoring (rfm_score.c). */
/* The inner quantile edges e_1 … e_(bins-1) of ranks 1 … n as numpy computes them (bins
 * 2 … 10, n >= 1), and the bin of rank r (1 … n) under them. */
void persona__rfm_edges(double *edges, size_t n, uint32_t bins);
uint32_t persona__rfm_bin(const double *edges, uint32_t bins, size_t r);
/* Segment of R, F, M scores with `bins` bins. */
int32_t persona__rfm_segment_of(uint32_t r, uint32_t f, uint32_t m, uint32_t bins);
/* Fill r, f, m, segment, seg_size and by_key of a result whose values are set (allocates
 * the arrays; ENOMEM leaves them NULL). */
int persona__rfm_score(persona_rfm *x);

/* An empty result (no users yet), owning o (left zeroed, also on failure). */
int persona__rfm_new(persona_rfm **out, rfm_opts *o);

/* A snapshot held in memory (the fuzz target's way in; rfm_io.c). */
int persona__rfm_load_memory(persona_rfm **out, const void *data, size_t len);

#endif
