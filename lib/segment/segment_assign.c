/* persona_segment_model_assign / _test: evaluate a model for one user under the store's
 * read lock, with everything on the stack. */
#include <string.h>

#include "core/error.h"
#include "segment/live.h"
#include "segment/rule_eval.h"

int persona__eval_now(const persona_store *s, const persona_eval_context *ctx, int64_t *now)
{
    if (ctx) {
        if (ctx->struct_size != sizeof *ctx)
            return persona__fail(PERSONA_EINVAL, "persona_eval_context: bad struct_size %u", ctx->struct_size);
        if (ctx->hour < -1 || ctx->hour > 23)
            return persona__fail(PERSONA_EINVAL, "persona_eval_context: hour %d is not -1 or 0..23", (int)ctx->hour);
        if (ctx->count && !ctx->names)
            return persona__fail(PERSONA_EINVAL, "persona_eval_context: %zu fields but names is NULL", ctx->count);
        if (ctx->now_ms != PERSONA_NOW_STORE &&
            (ctx->now_ms < PERSONA_TIME_MIN || ctx->now_ms > PERSONA_TIME_MAX))
            return persona__fail(PERSONA_EINVAL, "persona_eval_context: now_ms %lld is out of range",
                                 (long long)ctx->now_ms);
        if (ctx->now_ms != PERSONA_NOW_STORE) {
            *now = ctx->now_ms;
            return PERSONA_OK;
        }
    }
    *now = persona__store_clock(s);
    return PERSONA_OK;
}

/* Shared by assign and test: arguments checked, lock taken, state prepared. */
typedef struct one_user {
    uint32_t ids[PERSONA_RULE_MAX_NAMES];
    eval_state es;
} one_user;

static int begin(one_user *u, const persona_segment_model *m, const persona_store *s,
                 const char *user, const persona_eval_context *ctx)
{
    int64_t now = 0;
    int rc = persona__eval_now(s, ctx, &now);
    if (rc)
        return rc;
    persona__bind(m, s, u->ids);
    uint32_t id = persona__intern_find(&s->users, user, strlen(user));
    uint32_t root = id == PERSONA__NO_ID ? id : persona__id_root(s, id);
    if (root != PERSONA__NO_ID) {
        /* The profile and the attribute / consent slots the rules will read, fetched
         * together rather than one cache miss after another. */
        __builtin_prefetch(&s->profiles[root]);
        __builtin_prefetch((const char *)&s->profiles[root] + 64);
        for (size_t i = 0; i < m->n_slots; i++)
            if (m->slots[i].kind == SLOT_NAME && u->ids[i] != PERSONA__NO_ID) {
                persona__pairmap_prefetch(&s->user_attr, PERSONA__PAIR(root, u->ids[i]));
                persona__pairmap_prefetch(&s->user_consent, PERSONA__PAIR(root, u->ids[i]));
            }
    }
    persona__eval_begin(&u->es, m, s, root, now, ctx, u->ids);
    u->es.key = user;
    return PERSONA_OK;
}

static int check_args(const persona_segment_model *m, const persona_store *s, const char *user)
{
    if (!m || !s || !user)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !m ? "model" : !s ? "store" : "user");
    return PERSONA_OK;
}

PERSONA_API int persona_segment_model_assign(uint32_t *out, size_t capacity, size_t *out_count,
                                             const persona_segment_model *m,
                                             const persona_store *store, const char *user,
                                             const persona_eval_context *ctx)
{
    int rc = check_args(m, store, user);
    if (rc)
        return rc;
    if (!out && capacity)
        return persona__fail(PERSONA_EINVAL, "out is NULL with capacity %zu", capacity);
    one_user u;
    size_t count = 0;
    STORE_RDLOCK(store);
    rc = begin(&u, m, store, user, ctx);
    for (size_t i = 0; !rc && i < m->n_segs; i++) {
        int r = persona__eval_segment(&u.es, (uint32_t)i);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r) {
            if (count < capacity)
                out[count] = (uint32_t)i;
            count++;
            if (m->mode == PERSONA_SEGMENT_FIRST_MATCH)
                break;
        }
    }
    STORE_UNLOCK(store);
    if (rc)
        return rc;
    if (out_count)
        *out_count = count;
    if (count > capacity)
        return persona__fail(PERSONA_EBUFS, "the user is in %zu segments; room for %zu", count, capacity);
    return PERSONA_OK;
}

PERSONA_API int persona_segment_model_test(int32_t *out, const persona_segment_model *m,
                                           size_t index, const persona_store *store,
                                           const char *user, const persona_eval_context *ctx)
{
    int rc = check_args(m, store, user);
    if (rc)
        return rc;
    if (!out)
        return persona__fail(PERSONA_EINVAL, "out is NULL");
    if (index >= m->n_segs)
        return persona__fail(PERSONA_ENOTFOUND, "no segment %zu (the model has %zu)", index, m->n_segs);
    one_user u;
    STORE_RDLOCK(store);
    rc = begin(&u, m, store, user, ctx);
    int r = rc ? rc : persona__eval_segment(&u.es, (uint32_t)index);
    STORE_UNLOCK(store);
    if (r < 0)
        return r;
    *out = r;
    return PERSONA_OK;
}
