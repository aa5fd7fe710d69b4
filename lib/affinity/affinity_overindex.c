/* Items that over-index in a segment: each user of the matrix is asked once whether they
 * are in the segment (a live segment of a store, through the public API, or the host's
 * callback); the units of members are counted per item and compared with all units. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "persona/segment.h"

/* Index of the live segment `name` of the store. */
static int live_index(uint32_t *out, const persona_store *s, const char *name)
{
    size_t n = 0;
    int rc = persona_store_segment_count(&n, s);
    for (size_t i = 0; !rc && i < n; i++) {
        char buf[256];
        size_t len = 0;
        rc = persona_store_segment_name(buf, sizeof buf, &len, s, i);
        if (rc == PERSONA_EBUFS) { /* longer than any name we look for in buf: not it */
            rc = PERSONA_OK;
            continue;
        }
        if (!rc && strcmp(buf, name) == 0) {
            *out = (uint32_t)i;
            return PERSONA_OK;
        }
    }
    if (rc)
        return rc;
    return persona__fail(PERSONA_ENOTFOUND, "the store has no live segment '%.200s'", name);
}

/* member[u] for every user of the matrix. */
static int members(uint8_t *in, const persona_affinity_matrix *m, const persona_store *s,
                   const char *segment, persona_affinity_member_fn fn, void *ctx)
{
    uint32_t seg = 0;
    int rc = fn ? PERSONA_OK : live_index(&seg, s, segment);
    for (size_t u = 0; !rc && u < m->users.count; u++) {
        const char *key = persona__intern_str(&m->users, (uint32_t)u);
        if (fn) {
            int r = fn(ctx, key, persona__intern_len(&m->users, (uint32_t)u));
            if (r < 0)
                return persona__fail(PERSONA_ECALLBACK, "the member callback stopped at user "
                                                        "'%.200s' (%d)", key, r);
            in[u] = r > 0;
            continue;
        }
        uint32_t segs[PERSONA_LIVE_SEGMENT_MAX];
        size_t ns = 0;
        rc = persona_store_segments_of(segs, PERSONA_LIVE_SEGMENT_MAX, &ns, s, key);
        for (size_t i = 0; !rc && i < ns; i++)
            in[u] |= segs[i] == seg;
    }
    return rc;
}

PERSONA_API int persona_affinity_overindex(uint32_t *items_out, double *index_out,
                                           double *segment_share_out,
                                           double *population_share_out, double *z_out,
                                           size_t capacity, size_t *out_count,
                                           uint64_t *segment_units_out,
                                           const persona_affinity_matrix *m,
                                           const persona_store *store, const char *segment,
                                           persona_affinity_member_fn member, void *member_ctx,
                                           uint64_t min_count)
{
    if (out_count)
        *out_count = 0;
    if (!m || (capacity && !items_out))
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "items_out" : "matrix");
    if (!member && (!store || !segment))
        return persona__fail(PERSONA_EINVAL, "neither a member callback nor a store and "
                                             "segment name given");
    size_t n = aff_items(m);
    uint8_t *in = persona__calloc(m->users.count + 1, 1);
    uint64_t *xs = persona__calloc(n + 1, sizeof *xs);
    aff_ranked *ov = persona__realloc_array(NULL, n + 1, sizeof *ov);
    int rc = !in || !xs || !ov ? persona__fail_nomem() : PERSONA_OK;
    if (!rc)
        rc = members(in, m, store, segment, member, member_ctx);
    if (!rc) {
        uint64_t S = 0, N = m->n_units;
        for (uint64_t k = 0; k < N; k++) {
            if (!in[m->unit_user[k]])
                continue;
            S++;
            for (uint64_t e = m->unit_start[k]; e < m->unit_start[k + 1]; e++)
                xs[m->unit_items[e]]++;
        }
        uint64_t R = N - S, least = min_count ? min_count : 1;
        size_t no = 0;
        for (size_t i = 0; i < n; i++) {
            if (xs[i] < least)
                continue;
            double ss = (double)xs[i] / (double)S, ps = (double)m->item_count[i] / (double)N;
            double p = ps, z = 0;
            if (R > 0 && p > 0 && p < 1) {
                double xr = (double)(m->item_count[i] - xs[i]) / (double)R;
                z = (ss - xr) / sqrt(p * (1 - p) * (1 / (double)S + 1 / (double)R));
            }
            ov[no++] = (aff_ranked){ 100 * ss / ps, xs[i], (uint32_t)i, 0, z };
        }
        qsort(ov, no, sizeof *ov, persona__affinity_cmp_ranked);
        size_t w = no < capacity ? no : capacity;
        for (size_t i = 0; i < w; i++) {
            items_out[i] = ov[i].item;
            if (index_out)
                index_out[i] = ov[i].score;
            if (segment_share_out)
                segment_share_out[i] = (double)ov[i].count / (double)S;
            if (population_share_out)
                population_share_out[i] = (double)m->item_count[ov[i].item] / (double)N;
            if (z_out)
                z_out[i] = ov[i].extra;
        }
        if (out_count)
            *out_count = w;
        if (segment_units_out)
            *segment_units_out = S;
    }
    persona__free(in);
    persona__free(xs);
    persona__free(ov);
    return rc;
}
