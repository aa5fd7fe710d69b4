/* The itemsets handle: options and threshold, the mined sets kept as a prefix tree (20 bytes
 * a set: parent, last item, size, count), closed and maximal sets picked from the tree, and
 * the accessors. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "itemsets/itemsets_internal.h"

PERSONA__DEFINE_INIT(persona_itemsets_options, persona_itemsets_options_init)

PERSONA_API void persona_itemsets_free(persona_itemsets *s)
{
    if (!s)
        return;
    persona__free(s->parent);
    persona__free(s->item);
    persona__free(s->depth);
    persona__free(s->count);
    persona__free(s->keep);
    persona__free(s);
}

/* Validated options -> the miner's parameters. */
static int read_options(persona__mine_params *p, int32_t *target, const persona_itemsets_options *in,
                        uint64_t n_baskets)
{
    persona_itemsets_options o;
    memset(&o, 0, sizeof o);
    if (!in)
        return persona__fail(PERSONA_EINVAL, "options are required (min_support or min_count)");
    int rc = persona__struct_in(&o, sizeof o, in, sizeof o, "persona_itemsets_options");
    if (rc)
        return rc;
    if (o.target < PERSONA_ITEMSETS_ALL || o.target > PERSONA_ITEMSETS_MAXIMAL)
        return persona__fail(PERSONA_EINVAL, "unknown target %d", (int)o.target);
    if (o.min_count && o.min_support != 0)
        return persona__fail(PERSONA_EINVAL, "min_support and min_count are both set");
    memset(p, 0, sizeof *p);
    if (o.min_count) {
        p->min_count = o.min_count;
    } else {
        if (!(o.min_support > 0 && o.min_support <= 1))
            return persona__fail(PERSONA_EINVAL, "min_support %g: must be in (0, 1] (or set min_count)",
                                 o.min_support);
        /* As the anchors: ceil(s·n − 1e-9), so that 0.002 × 21000 asks for 42, not 43. */
        double c = ceil(o.min_support * (double)n_baskets - 1e-9);
        p->min_count = c < 1 ? 1 : (uint64_t)c;
    }
    p->max_size = o.max_size;
    p->threads = o.threads;
    p->parallel_min = PERSONA__ITEMSETS_PARALLEL_MIN;
    p->pending_words = PERSONA__ITEMSETS_PENDING_WORDS;
    p->subtree_words = PERSONA__ITEMSETS_SUBTREE_WORDS;
    p->max_itemsets = o.max_itemsets ? o.max_itemsets : PERSONA_ITEMSETS_DEFAULT_LIMIT;
    *target = o.target;
    return PERSONA_OK;
}

typedef struct tree_ctx {
    persona_itemsets *s;
    uint32_t stack[64];
    int nomem;
} tree_ctx;

static int tree_emit(void *ctx, const uint32_t *items, size_t n, uint64_t count)
{
    tree_ctx *t = ctx;
    persona_itemsets *s = t->s;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint32_t *parent = persona__realloc_array(s->parent, cap, sizeof *parent);
        if (parent)
            s->parent = parent;
        uint32_t *item = parent ? persona__realloc_array(s->item, cap, sizeof *item) : NULL;
        if (item)
            s->item = item;
        uint8_t *depth = item ? persona__realloc_array(s->depth, cap, sizeof *depth) : NULL;
        if (depth)
            s->depth = depth;
        uint64_t *cnt = depth ? persona__realloc_array(s->count, cap, sizeof *cnt) : NULL;
        if (!cnt) {
            t->nomem = 1;
            return -1;
        }
        s->count = cnt;
        s->cap = cap;
    }
    size_t i = s->n++;
    s->parent[i] = n > 1 ? t->stack[n - 2] : PERSONA__ITEMSET_ROOT;
    s->item[i] = items[n - 1];
    s->depth[i] = (uint8_t)n;
    s->count[i] = count;
    t->stack[n - 1] = (uint32_t)i;
    return 0;
}

/* Mark the sets with a frequent superset (bit 1) and with one of the same count (bit 2):
 * each set of k + 1 items marks its k + 1 subsets of k items. */
static int mark_subsets(const persona_itemsets *s, const persona__itemset_index *ix, uint8_t *flag)
{
    uint32_t path[64], sub[64];
    for (size_t y = 0; y < s->n; y++) {
        size_t k = s->depth[y];
        if (k < 2)
            continue;
        persona__itemset_path(s, (uint32_t)y, path);
        for (size_t i = 0; i < k; i++) {
            memcpy(sub, path, i * sizeof *sub);
            memcpy(sub + i, path + i + 1, (k - i - 1) * sizeof *sub);
            uint64_t key = ix->key[y] ^ persona__itemset_word(path[i]);
            uint32_t x = persona__itemset_find(ix, s, sub, k - 1, key);
            if (x == PERSONA__ITEMSET_NONE)
                return persona__fail(PERSONA_EINTERNAL, "a subset of a frequent itemset is missing");
            flag[x] |= (uint8_t)(1 | (s->count[x] == s->count[y] ? 2 : 0));
        }
    }
    return PERSONA_OK;
}

static int pick_target(persona_itemsets *s)
{
    persona__itemset_index ix;
    uint8_t *flag = persona__calloc(s->n ? s->n : 1, 1);
    if (!flag)
        return persona__fail_nomem();
    int rc = persona__itemset_index_build(&ix, s);
    if (rc) {
        persona__free(flag);
        return rc;
    }
    rc = mark_subsets(s, &ix, flag);
    persona__itemset_index_free(&ix);
    uint8_t drop = s->target == PERSONA_ITEMSETS_CLOSED ? 2 : 1;
    size_t n_keep = 0;
    for (size_t i = 0; i < s->n; i++)
        n_keep += !(flag[i] & drop);
    if (!rc) {
        s->keep = persona__realloc_array(NULL, n_keep ? n_keep : 1, sizeof *s->keep);
        if (!s->keep)
            rc = persona__fail_nomem();
    }
    if (!rc) {
        for (size_t i = 0; i < s->n; i++)
            if (!(flag[i] & drop))
                s->keep[s->n_keep++] = (uint32_t)i;
    }
    persona__free(flag);
    return rc;
}

/* Mine b into a new tree (picking closed or maximal sets when asked). */
static int mine_tree(persona_itemsets **out, const persona_baskets *b,
                     const persona_itemsets_options *opts)
{
    *out = NULL;
    if (!b)
        return persona__fail(PERSONA_EINVAL, "NULL basket set");
    uint64_t n_baskets = 0, n_items = 0;
    persona_baskets_counts(&n_baskets, &n_items, b);
    persona__mine_params p;
    int32_t target = 0;
    int rc = read_options(&p, &target, opts, n_baskets);
    if (rc)
        return rc;
    /* Tree nodes are uint32_t indices. */
    if (p.max_itemsets > UINT32_MAX - 3)
        p.max_itemsets = UINT32_MAX - 3;
    persona_itemsets *s = persona__calloc(1, sizeof *s);
    if (!s)
        return persona__fail_nomem();
    s->n_baskets = n_baskets;
    s->n_items = (uint32_t)n_items;
    s->target = target;
    persona__basket_csr db;
    uint64_t *tmp_off;
    uint32_t *tmp_items;
    rc = persona__baskets_csr(&db, &tmp_off, &tmp_items, b);
    if (!rc) {
        tree_ctx t;
        t.s = s;
        t.nomem = 0;
        rc = persona__itemsets_mine_csr(&db, &p, tree_emit, &t);
        if (t.nomem)
            rc = persona__fail_nomem();
    }
    persona__free(tmp_off);
    persona__free(tmp_items);
    if (!rc && target != PERSONA_ITEMSETS_ALL)
        rc = pick_target(s);
    if (rc) {
        persona_itemsets_free(s);
        return rc;
    }
    *out = s;
    return PERSONA_OK;
}

PERSONA_API int persona_itemsets_mine(persona_itemsets **out, const persona_baskets *b,
                                      const persona_itemsets_options *opts)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "NULL out");
    return mine_tree(out, b, opts);
}

PERSONA_API int persona_itemsets_mine_each(const persona_baskets *b,
                                           const persona_itemsets_options *opts,
                                           persona_itemset_fn fn, void *ctx)
{
    if (!b || !fn)
        return persona__fail(PERSONA_EINVAL, "NULL basket set or callback");
    uint64_t n_baskets = 0;
    persona_baskets_counts(&n_baskets, NULL, b);
    persona__mine_params p;
    int32_t target = 0;
    int rc = read_options(&p, &target, opts, n_baskets);
    if (rc)
        return rc;
    if (target == PERSONA_ITEMSETS_ALL) {
        persona__basket_csr db;
        uint64_t *tmp_off;
        uint32_t *tmp_items;
        rc = persona__baskets_csr(&db, &tmp_off, &tmp_items, b);
        if (!rc)
            rc = persona__itemsets_mine_csr(&db, &p, fn, ctx);
        persona__free(tmp_off);
        persona__free(tmp_items);
        return rc;
    }
    /* Closed and maximal need every set first. */
    persona_itemsets *s = NULL;
    rc = mine_tree(&s, b, opts);
    uint32_t path[64];
    for (size_t i = 0; !rc && i < s->n_keep; i++) {
        uint32_t node = s->keep[i];
        persona__itemset_path(s, node, path);
        if (fn(ctx, path, s->depth[node], s->count[node]))
            rc = persona__fail(PERSONA_ECALLBACK, "the itemset callback stopped");
    }
    persona_itemsets_free(s);
    return rc;
}

PERSONA_API int persona_itemsets_count(uint64_t *out, uint64_t *baskets_out, const persona_itemsets *s)
{
    if (!s)
        return persona__fail(PERSONA_EINVAL, "NULL itemsets");
    if (out)
        *out = s->keep ? s->n_keep : s->n;
    if (baskets_out)
        *baskets_out = s->n_baskets;
    return PERSONA_OK;
}

PERSONA_API int persona_itemsets_get(uint32_t *items_out, size_t capacity, size_t *len_out,
                                     uint64_t *count_out, const persona_itemsets *s, uint64_t index)
{
    if (!s || !len_out || (!items_out && capacity))
        return persona__fail(PERSONA_EINVAL, "NULL itemsets, len_out or items_out");
    uint64_t n = s->keep ? s->n_keep : s->n;
    if (index >= n)
        return persona__fail(PERSONA_ENOTFOUND, "no itemset %llu (%llu itemsets)",
                             (unsigned long long)index, (unsigned long long)n);
    uint32_t node = s->keep ? s->keep[index] : (uint32_t)index;
    size_t k = s->depth[node];
    *len_out = k;
    if (count_out)
        *count_out = s->count[node];
    if (capacity < k)
        return persona__fail(PERSONA_EBUFS, "itemset %llu has %zu items, room for %zu",
                             (unsigned long long)index, k, capacity);
    persona__itemset_path(s, node, items_out);
    persona__sort_ids(items_out, k);
    return PERSONA_OK;
}
