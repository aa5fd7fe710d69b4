/* persona_segment_model_scan: every profile of a store through the model. Profiles are
 * split into contiguous ranges evaluated on worker threads; memberships are kept per range
 * and handed to the callback in profile order afterwards, on the calling thread, so the
 * output does not depend on the thread count. */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "segment/rule_eval.h"

typedef struct membership {
    uint32_t user, segment;
} membership;

typedef struct scan_part {
    uint32_t from, to; /* profile ids */
    uint64_t *counts;  /* per segment */
    uint64_t none;
    membership *list;  /* when the caller wants memberships */
    size_t n_list, list_cap;
    int rc;
} scan_part;

typedef struct scan_job {
    const persona_segment_model *m;
    const persona_store *s;
    const persona_eval_context *ctx;
    const uint32_t *ids;
    int64_t now;
    int keep;
    scan_part *parts;
} scan_job;

static void scan_range(void *arg, int i)
{
    scan_job *job = arg;
    scan_part *part = &job->parts[i];
    const persona_segment_model *m = job->m;
    const persona_store *s = job->s;
    eval_state *es = persona__alloc(sizeof *es);
    if (!es) {
        part->rc = persona__fail_nomem();
        return;
    }
    for (uint32_t u = part->from; u < part->to && !part->rc; u++) {
        if (persona__id_root(s, u) != u)
            continue; /* an identifier merged into another profile */
        persona__eval_begin(es, m, s, u, job->now, job->ctx, job->ids);
        es->key = persona__intern_str(&s->users, u);
        int any = 0;
        for (size_t k = 0; k < m->n_segs; k++) {
            int r = persona__eval_segment(es, (uint32_t)k);
            if (r < 0) {
                part->rc = r;
                break;
            }
            if (!r)
                continue;
            any = 1;
            part->counts[k]++;
            if (job->keep) {
                if (persona__grow((void **)&part->list, &part->list_cap, part->n_list + 1,
                                  sizeof *part->list, 256)) {
                    part->rc = persona__fail_nomem();
                    break;
                }
                part->list[part->n_list].user = u;
                part->list[part->n_list].segment = (uint32_t)k;
                part->n_list++;
            }
            if (m->mode == PERSONA_SEGMENT_FIRST_MATCH)
                break;
        }
        part->none += !any;
    }
    persona__free(es);
}

PERSONA_API int persona_segment_model_scan(uint64_t *counts, size_t capacity, uint64_t *none_out,
                                           const persona_segment_model *m,
                                           const persona_store *store,
                                           const persona_eval_context *ctx,
                                           persona_member_fn member, void *member_ctx,
                                           uint32_t threads)
{
    if (!m || !store)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "store" : "model");
    if (!counts && capacity)
        return persona__fail(PERSONA_EINVAL, "counts is NULL with capacity %zu", capacity);
    if (threads > 1024)
        return persona__fail(PERSONA_EINVAL, "threads %u is more than 1024", threads);
    int rc;
    uint32_t *ids = persona__calloc(m->n_slots ? m->n_slots : 1, sizeof *ids);
    if (!ids)
        return persona__fail_nomem();
    STORE_RDLOCK(store);
    int64_t now = 0;
    rc = persona__eval_now(store, ctx, &now);
    int n_parts = persona__threads((int)threads);
    uint32_t n_users = (uint32_t)store->users.count;
    if ((uint32_t)n_parts > n_users / 1024 + 1)
        n_parts = (int)(n_users / 1024 + 1); /* small stores: not worth a thread */
    scan_part *parts = rc ? NULL : persona__calloc((size_t)n_parts, sizeof *parts);
    if (!rc && !parts)
        rc = persona__fail_nomem();
    for (int i = 0; !rc && i < n_parts; i++) {
        parts[i].from = (uint32_t)((uint64_t)n_users * (uint64_t)i / (uint64_t)n_parts);
        parts[i].to = (uint32_t)((uint64_t)n_users * (uint64_t)(i + 1) / (uint64_t)n_parts);
        parts[i].counts = persona__calloc(m->n_segs ? m->n_segs : 1, sizeof *parts[i].counts);
        if (!parts[i].counts)
            rc = persona__fail_nomem();
    }
    if (!rc) {
        persona__bind(m, store, ids);
        scan_job job = { m, store, ctx, ids, now, member != NULL, parts };
        persona__parallel_run(n_parts, scan_range, &job);
        for (int i = 0; !rc && i < n_parts; i++)
            rc = parts[i].rc;
        /* The failure was recorded on a worker's thread: record it on the caller's. */
        if (rc == PERSONA_ENOMEM)
            persona__fail_nomem();
        else if (rc)
            persona__fail(rc, "segment scan failed: %s", persona_strerror(rc));
    }
    if (!rc) {
        uint64_t none = 0;
        for (size_t k = 0; k < capacity; k++)
            counts[k] = 0;
        for (int i = 0; i < n_parts; i++) {
            none += parts[i].none;
            for (size_t k = 0; k < capacity && k < m->n_segs; k++)
                counts[k] += parts[i].counts[k];
        }
        if (none_out)
            *none_out = none;
        for (int i = 0; !rc && member && i < n_parts; i++)
            for (size_t j = 0; j < parts[i].n_list; j++) {
                const membership *ms = &parts[i].list[j];
                if (member(member_ctx, persona__intern_str(&store->users, ms->user),
                           persona__intern_len(&store->users, ms->user), ms->segment) < 0) {
                    rc = persona__fail(PERSONA_ECALLBACK, "the member callback stopped the scan");
                    break;
                }
            }
    }
    STORE_UNLOCK(store);
    for (int i = 0; parts && i < n_parts; i++) {
        persona__free(parts[i].counts);
        persona__free(parts[i].list);
    }
    persona__free(parts);
    persona__free(ids);
    return rc;
}
