/* Association rules from mined itemsets: each itemset Z of 2 … 63 items is split into every
 * antecedent A (a bit mask over Z's items in tree order) and consequent C = Z \ A; the counts
 * of A and C are looked up in the set index. With top-N a bounded heap keeps the best N;
 * otherwise every passing rule is kept (up to max_rules). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/structs.h"
#include "itemsets/itemsets_internal.h"

PERSONA__DEFINE_INIT(persona_assoc_rules_options, persona_assoc_rules_options_init)
PERSONA__DEFINE_INIT(persona_assoc_rule, persona_assoc_rule_init)

typedef struct rule {
    double key;       /* the sort measure */
    uint64_t count;   /* count(A ∪ C) */
    uint64_t count_a, count_c;
    uint64_t mask;    /* antecedent: bits over the itemset's items in tree order */
    uint32_t node;    /* the itemset A ∪ C */
    uint32_t pad;
} rule;

struct persona_assoc_rules {
    rule *r;
    size_t n;
    uint64_t n_baskets;
    persona_itemsets *sets; /* a copy of the tree's nodes the rules refer to */
};

PERSONA_API void persona_assoc_rules_free(persona_assoc_rules *r)
{
    if (!r)
        return;
    persona__free(r->r);
    persona_itemsets_free(r->sets);
    persona__free(r);
}

/* The rule order: greater key, then greater count, then earlier itemset, then smaller mask. */
static int better(const rule *a, const rule *b)
{
    if (a->key != b->key)
        return a->key > b->key;
    if (a->count != b->count)
        return a->count > b->count;
    if (a->node != b->node)
        return a->node < b->node;
    return a->mask < b->mask;
}

static int cmp_rules(const void *x, const void *y)
{
    const rule *a = x, *b = y;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

static void measures(persona_assoc_rule *m, const rule *r, uint64_t n)
{
    double nb = (double)n, sa = (double)r->count_a / nb, sc = (double)r->count_c / nb;
    m->count = r->count;
    m->support = (double)r->count / nb;
    m->confidence = (double)r->count / (double)r->count_a;
    m->lift = m->confidence / sc;
    m->conviction = r->count == r->count_a ? INFINITY : (1 - sc) / (1 - m->confidence);
    m->leverage = m->support - sa * sc;
    m->jaccard = (double)r->count / (double)(r->count_a + r->count_c - r->count);
    m->cosine = (double)r->count / sqrt((double)r->count_a * (double)r->count_c);
    m->antecedent_support = sa;
    m->consequent_support = sc;
}

static double key_of(const persona_assoc_rule *m, int32_t by)
{
    switch (by) {
    case PERSONA_RULE_LIFT:
        return m->lift;
    case PERSONA_RULE_SUPPORT:
        return m->support;
    case PERSONA_RULE_CONVICTION:
        return m->conviction;
    case PERSONA_RULE_LEVERAGE:
        return m->leverage;
    default:
        return m->confidence;
    }
}

/* Min-heap on `better` of at most top rules: the worst kept is at [0]. */
static void heap_down(rule *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, w = i;
        if (l < n && better(&h[w], &h[l]))
            w = l;
        if (l + 1 < n && better(&h[w], &h[l + 1]))
            w = l + 1;
        if (w == i)
            return;
        rule t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void heap_up(rule *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(&h[p], &h[i]))
            return;
        rule t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

typedef struct build {
    persona_assoc_rules_options o;
    const persona_itemsets *s;
    persona__itemset_index ix;
    uint8_t *allow_a, *allow_c; /* per item id, NULL = any */
    rule *r;
    size_t n, cap;
    uint64_t limit;
} build;

static int add_rule(build *b, const rule *r)
{
    if (b->o.top) {
        if (b->n < b->o.top) {
            if (persona__grow((void **)&b->r, &b->cap, b->n + 1, sizeof *b->r, 256))
                return persona__fail_nomem();
            b->r[b->n++] = *r;
            heap_up(b->r, b->n - 1);
        } else if (better(r, &b->r[0])) {
            b->r[0] = *r;
            heap_down(b->r, b->n, 0);
        }
        return PERSONA_OK;
    }
    if (b->n == b->limit)
        return persona__fail(PERSONA_EBUFS,
                             "more than %llu rules (max_rules): raise the thresholds or use top",
                             (unsigned long long)b->limit);
    if (persona__grow((void **)&b->r, &b->cap, b->n + 1, sizeof *b->r, 256))
        return persona__fail_nomem();
    b->r[b->n++] = *r;
    return PERSONA_OK;
}

/* The count of the sub-itemset of path[0..k) selected by mask. */
static uint64_t count_of(const build *b, const uint32_t *path, size_t k, uint64_t mask)
{
    uint32_t seq[64];
    size_t m = 0;
    uint64_t key = 0;
    for (size_t i = 0; i < k; i++)
        if (mask >> i & 1) {
            seq[m++] = path[i];
            key ^= persona__itemset_word(path[i]);
        }
    uint32_t x = persona__itemset_find(&b->ix, b->s, seq, m, key);
    return x == PERSONA__ITEMSET_NONE ? 0 : b->s->count[x];
}

static int rules_of(build *b, uint32_t node)
{
    const persona_itemsets *s = b->s;
    uint32_t path[64];
    size_t k = s->depth[node];
    if (k < 2 || k > 63)
        return PERSONA_OK;
    persona__itemset_path(s, node, path);
    uint64_t full = (k == 64 ? 0 : (1ull << k)) - 1;
    for (uint64_t mask = 1; mask < full; mask++) {
        int ok = 1;
        for (size_t i = 0; i < k && ok; i++) {
            const uint8_t *allow = (mask >> i & 1) ? b->allow_a : b->allow_c;
            ok = !allow || allow[path[i]];
        }
        if (!ok)
            continue;
        rule r;
        memset(&r, 0, sizeof r);
        r.node = node;
        r.mask = mask;
        r.count = s->count[node];
        r.count_a = count_of(b, path, k, mask);
        r.count_c = count_of(b, path, k, full & ~mask);
        if (!r.count_a || !r.count_c)
            return persona__fail(PERSONA_EINTERNAL, "a subset of a frequent itemset is missing");
        persona_assoc_rule m;
        measures(&m, &r, s->n_baskets);
        if (m.confidence < b->o.min_confidence || m.lift < b->o.min_lift)
            continue;
        r.key = key_of(&m, b->o.sort_by);
        int rc = add_rule(b, &r);
        if (rc)
            return rc;
    }
    return PERSONA_OK;
}

static int read_allow(uint8_t **out, const uint32_t *ids, size_t n, uint32_t n_items, const char *what)
{
    *out = NULL;
    if (!ids)
        return PERSONA_OK;
    *out = persona__calloc(n_items ? n_items : 1, 1);
    if (!*out)
        return persona__fail_nomem();
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= n_items)
            return persona__fail(PERSONA_EINVAL, "%s item %u: only %u items", what, ids[i], n_items);
        (*out)[ids[i]] = 1;
    }
    return PERSONA_OK;
}

/* A copy of the itemsets' tree (the rules must not borrow it). */
static int copy_tree(persona_itemsets **out, const persona_itemsets *s)
{
    persona_itemsets *c = persona__calloc(1, sizeof *c);
    if (!c)
        return persona__fail_nomem();
    size_t n = s->n ? s->n : 1;
    c->parent = persona__realloc_array(NULL, n, sizeof *c->parent);
    c->item = persona__realloc_array(NULL, n, sizeof *c->item);
    c->depth = persona__realloc_array(NULL, n, sizeof *c->depth);
    c->count = persona__realloc_array(NULL, n, sizeof *c->count);
    if (!c->parent || !c->item || !c->depth || !c->count) {
        persona_itemsets_free(c);
        return persona__fail_nomem();
    }
    if (s->n) { /* an empty result has no arrays */
        memcpy(c->parent, s->parent, s->n * sizeof *c->parent);
        memcpy(c->item, s->item, s->n * sizeof *c->item);
        memcpy(c->depth, s->depth, s->n * sizeof *c->depth);
        memcpy(c->count, s->count, s->n * sizeof *c->count);
    }
    c->n = c->cap = s->n;
    c->n_baskets = s->n_baskets;
    c->n_items = s->n_items;
    *out = c;
    return PERSONA_OK;
}

PERSONA_API int persona_assoc_rules_build(persona_assoc_rules **out, const persona_itemsets *s,
                                          const persona_assoc_rules_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !s)
        return persona__fail(PERSONA_EINVAL, "NULL out or itemsets");
    if (s->target != PERSONA_ITEMSETS_ALL)
        return persona__fail(PERSONA_EINVAL, "rules need every frequent itemset (target all), "
                                             "not closed or maximal ones");
    build b;
    memset(&b, 0, sizeof b);
    if (opts) {
        int rc = persona__struct_in(&b.o, sizeof b.o, opts, sizeof b.o, "persona_assoc_rules_options");
        if (rc)
            return rc;
    }
    if (!(b.o.min_confidence >= 0) || !(b.o.min_lift >= 0))
        return persona__fail(PERSONA_EINVAL, "min_confidence and min_lift must be numbers >= 0");
    if (b.o.sort_by < PERSONA_RULE_CONFIDENCE || b.o.sort_by > PERSONA_RULE_LEVERAGE)
        return persona__fail(PERSONA_EINVAL, "unknown measure %d", (int)b.o.sort_by);
    b.s = s;
    b.limit = b.o.max_rules ? b.o.max_rules : PERSONA_ITEMSETS_DEFAULT_LIMIT;
    int rc = read_allow(&b.allow_a, b.o.antecedent_items, b.o.n_antecedent_items, s->n_items,
                        "antecedent");
    if (!rc)
        rc = read_allow(&b.allow_c, b.o.consequent_items, b.o.n_consequent_items, s->n_items,
                        "consequent");
    if (!rc)
        rc = persona__itemset_index_build(&b.ix, s);
    for (size_t i = 0; !rc && i < s->n; i++)
        rc = rules_of(&b, (uint32_t)i);
    persona__itemset_index_free(&b.ix);
    persona__free(b.allow_a);
    persona__free(b.allow_c);
    persona_assoc_rules *r = NULL;
    if (!rc) {
        r = persona__calloc(1, sizeof *r);
        if (!r)
            rc = persona__fail_nomem();
    }
    if (!rc)
        rc = copy_tree(&r->sets, s);
    if (rc) {
        persona__free(r);
        persona__free(b.r);
        return rc;
    }
    if (b.n)
        qsort(b.r, b.n, sizeof *b.r, cmp_rules);
    r->r = b.r;
    r->n = b.n;
    r->n_baskets = s->n_baskets;
    *out = r;
    return PERSONA_OK;
}

PERSONA_API int persona_assoc_rules_count(uint64_t *out, const persona_assoc_rules *r)
{
    if (!out || !r)
        return persona__fail(PERSONA_EINVAL, "NULL out or rules");
    *out = r->n;
    return PERSONA_OK;
}

PERSONA_API int persona_assoc_rules_get(persona_assoc_rule *rule_out, uint32_t *items_out,
                                        size_t capacity, const persona_assoc_rules *r,
                                        uint64_t index)
{
    if (!rule_out || !r || (!items_out && capacity))
        return persona__fail(PERSONA_EINVAL, "NULL rule, rules or items_out");
    if (index >= r->n)
        return persona__fail(PERSONA_ENOTFOUND, "no rule %llu (%zu rules)",
                             (unsigned long long)index, r->n);
    const rule *x = &r->r[index];
    const persona_itemsets *s = r->sets;
    size_t k = s->depth[x->node];
    persona_assoc_rule m;
    memset(&m, 0, sizeof m);
    measures(&m, x, r->n_baskets);
    uint32_t path[64];
    persona__itemset_path(s, x->node, path);
    size_t na = 0;
    for (size_t i = 0; i < k; i++)
        na += x->mask >> i & 1;
    m.n_antecedent = (uint32_t)na;
    m.n_consequent = (uint32_t)(k - na);
    int rc = persona__struct_out(rule_out, &m, sizeof m, sizeof m, "persona_assoc_rule");
    if (rc)
        return rc;
    if (capacity < k)
        return persona__fail(PERSONA_EBUFS, "rule %llu has %zu items, room for %zu",
                             (unsigned long long)index, k, capacity);
    size_t a = 0, c = na;
    for (size_t i = 0; i < k; i++) {
        if (x->mask >> i & 1)
            items_out[a++] = path[i];
        else
            items_out[c++] = path[i];
    }
    persona__sort_ids(items_out, na);
    persona__sort_ids(items_out + na, k - na);
    return PERSONA_OK;
}
