/* Growing one tree from histograms and boosting trees for log-loss (gbdt.h). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "persona/common.h"
#include "predict/gbdt.h"
#include "predict/logit_math.h"

#define MAX_DEPTH 16

#define NO_SLOT UINT32_MAX
/* Most memory for the histograms kept for subtraction; beyond it every node's histogram
 * is built from its rows. */
#define SUBTRACTION_BUDGET ((size_t)64 << 20)

/* A node waiting to be grown: its rows are rows[a .. b); its histogram is in slot `slot`
 * of the pool (made by subtraction) or NO_SLOT (built when needed). */
typedef struct pending {
    uint32_t node;
    size_t a, b;
    unsigned depth;
    uint32_t slot;
} pending;

void persona__gbdt_tree_free(persona__gbdt_tree *t)
{
    persona__free(t->nodes);
    memset(t, 0, sizeof *t);
}

void persona__gbdt_model_free(persona__gbdt_model *m)
{
    for (size_t i = 0; i < m->n_trees; i++)
        persona__gbdt_tree_free(&m->trees[i]);
    persona__free(m->trees);
    memset(m, 0, sizeof *m);
}

/* −η G / (H + λ) over rows[0 .. m). */
static double leaf_value(const uint32_t *rows, size_t m, const double *grad, const double *hess,
                         const persona__gbdt_params *p)
{
    double G = 0, H = 0;
    for (size_t k = 0; k < m; k++) {
        G += grad[rows[k]];
        H += hess[rows[k]];
    }
    return H + p->split.lambda > 0 ? -p->learning_rate * G / (H + p->split.lambda) : 0;
}

/* Rows of [a, b) going left first, each side in its former order (tmp: room for b − a). */
static size_t partition(uint32_t *rows, size_t a, size_t b, uint32_t *tmp,
                        const persona__gbdt_bins *bins, const persona__gbdt_split *s)
{
    size_t l = a, r = 0;
    for (size_t k = a; k < b; k++) {
        uint8_t bin = bins->bins[(size_t)rows[k] * bins->d + s->feature];
        int left = bin == PERSONA__GBDT_MISSING ? s->missing_left : bin <= s->bin;
        if (left)
            rows[l++] = rows[k];
        else
            tmp[r++] = rows[k];
    }
    memcpy(rows + l, tmp, r * sizeof *rows);
    return l;
}

/* Whether a node at this depth with these rows may split (and so needs a histogram). */
static int may_split(const persona__gbdt_params *p, unsigned depth, size_t rows)
{
    return depth < p->max_depth && rows >= 2;
}

int persona__gbdt_grow(persona__gbdt_tree *out, const persona__gbdt_bins *b, uint32_t *rows,
                       size_t m, const double *grad, const double *hess,
                       const persona__gbdt_params *p)
{
    memset(out, 0, sizeof *out);
    if (p->max_depth < 1 || p->max_depth > MAX_DEPTH)
        return persona__fail(PERSONA_EINVAL, "max_depth %u: from 1 to %d", p->max_depth, MAX_DEPTH);
    size_t max_nodes = ((size_t)2 << p->max_depth) - 1;
    size_t hs = persona__gbdt_hist_at(b, b->d) + 1; /* entries of one histogram */
    /* Sibling subtraction: a split node's smaller child gets its histogram from its rows,
     * the larger one the parent's minus that. At most two levels of nodes hold one at a
     * time: 2^(max_depth − 1) + 2 slots do. */
    size_t n_slots = ((size_t)1 << (p->max_depth - 1)) + 2;
    if (n_slots * hs * sizeof(persona__gbdt_hist) > SUBTRACTION_BUDGET)
        n_slots = 0;
    persona__gbdt_hist *pool = persona__realloc_array(NULL, (n_slots + 1) * hs, sizeof *pool);
    uint32_t *free_slots = persona__realloc_array(NULL, n_slots + 1, sizeof *free_slots);
    pending *queue = persona__realloc_array(NULL, max_nodes, sizeof *queue);
    uint32_t *tmp = persona__realloc_array(NULL, m + 1, sizeof *tmp);
    out->nodes = persona__calloc(max_nodes, sizeof *out->nodes);
    if (!pool || !free_slots || !queue || !tmp || !out->nodes) {
        persona__free(pool);
        persona__free(free_slots);
        persona__free(queue);
        persona__free(tmp);
        persona__gbdt_tree_free(out);
        return persona__fail_nomem();
    }
    persona__gbdt_hist *scratch = pool + n_slots * hs;
    size_t n_free = 0;
    for (size_t k = n_slots; k-- > 0;)
        free_slots[n_free++] = (uint32_t)k;
    /* breadth first: nodes are numbered level by level */
    size_t head = 0, tail = 0;
    out->n_nodes = 1;
    queue[tail++] = (pending){ 0, 0, m, 0, NO_SLOT };
    while (head < tail) {
        pending q = queue[head++];
        persona__gbdt_node *nd = &out->nodes[q.node];
        persona__gbdt_split s = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        persona__gbdt_hist *H = q.slot != NO_SLOT ? pool + (size_t)q.slot * hs : scratch;
        if (may_split(p, q.depth, q.b - q.a)) { /* a leaf needs no histogram */
            if (q.slot == NO_SLOT)
                persona__gbdt_histogram(H, b, rows + q.a, q.b - q.a, grad, hess);
            s = persona__gbdt_best_split(H, b, &p->split);
        }
        if (!s.found) {
            nd->value = leaf_value(rows + q.a, q.b - q.a, grad, hess, p);
            if (q.slot != NO_SLOT)
                free_slots[n_free++] = q.slot;
            continue;
        }
        size_t mid = partition(rows, q.a, q.b, tmp, b, &s);
        nd->feature = s.feature;
        nd->bin = s.bin;
        nd->threshold = b->cuts[b->cut_start[s.feature] + s.bin];
        nd->missing_left = s.missing_left;
        nd->left = (uint32_t)out->n_nodes++;
        nd->right = (uint32_t)out->n_nodes++;
        pending l = { nd->left, q.a, mid, q.depth + 1, NO_SLOT };
        pending r = { nd->right, mid, q.b, q.depth + 1, NO_SLOT };
        int need_l = may_split(p, l.depth, l.b - l.a), need_r = may_split(p, r.depth, r.b - r.a);
        if ((need_l || need_r) && n_free >= 2) { /* (enough always: the bound above) */
            pending *small = l.b - l.a <= r.b - r.a ? &l : &r, *large = small == &l ? &r : &l;
            small->slot = free_slots[--n_free];
            persona__gbdt_hist *hsm = pool + (size_t)small->slot * hs;
            persona__gbdt_histogram(hsm, b, rows + small->a, small->b - small->a, grad, hess);
            if (q.slot != NO_SLOT) { /* the parent's slot becomes the larger child's */
                large->slot = q.slot;
            } else {
                large->slot = free_slots[--n_free];
                memcpy(pool + (size_t)large->slot * hs, H, hs * sizeof *H);
            }
            persona__gbdt_hist *hl = pool + (size_t)large->slot * hs;
            for (size_t e = 0; e < hs; e++) {
                hl[e].g -= hsm[e].g;
                hl[e].h -= hsm[e].h;
            }
            if (!need_l) {
                free_slots[n_free++] = l.slot;
                l.slot = NO_SLOT;
            }
            if (!need_r) {
                free_slots[n_free++] = r.slot;
                r.slot = NO_SLOT;
            }
        } else if (q.slot != NO_SLOT) {
            free_slots[n_free++] = q.slot;
        }
        queue[tail++] = l;
        queue[tail++] = r;
    }
    persona__free(pool);
    persona__free(free_slots);
    persona__free(queue);
    persona__free(tmp);
    /* room was made for a full tree; keep what was grown (a failed shrink keeps it all) */
    persona__gbdt_node *fit = persona__realloc_array(out->nodes, out->n_nodes, sizeof *fit);
    if (fit)
        out->nodes = fit;
    return PERSONA_OK;
}

double persona__gbdt_tree_binned(const persona__gbdt_tree *t, const persona__gbdt_bins *b,
                                 size_t i)
{
    const persona__gbdt_node *nd = &t->nodes[0];
    while (nd->left) {
        uint8_t bin = b->bins[i * b->d + nd->feature];
        int left = bin == PERSONA__GBDT_MISSING ? nd->missing_left : bin <= nd->bin;
        nd = &t->nodes[left ? nd->left : nd->right];
    }
    return nd->value;
}

double persona__gbdt_tree_raw(const persona__gbdt_tree *t, const double *row)
{
    const persona__gbdt_node *nd = &t->nodes[0];
    while (nd->left) {
        double v = row[nd->feature];
        int left = isnan(v) ? nd->missing_left : v <= nd->threshold;
        nd = &t->nodes[left ? nd->left : nd->right];
    }
    return nd->value;
}

int persona__gbdt_boost(persona__gbdt_model *out, const persona__gbdt_bins *b, const double *y,
                        const persona__gbdt_params *p, double *margins)
{
    memset(out, 0, sizeof *out);
    size_t n = b->n;
    if (!(p->learning_rate > 0) || !isfinite(p->learning_rate))
        return persona__fail(PERSONA_EINVAL, "learning rate %g: it must be above 0", p->learning_rate);
    for (size_t i = 0; i < n; i++)
        if (y[i] != 0 && y[i] != 1)
            return persona__fail(PERSONA_EINVAL, "row %zu: label %g is not 0 or 1", i, y[i]);
    double *f = persona__calloc(n + 1, sizeof *f);
    double *grad = persona__realloc_array(NULL, n + 1, sizeof *grad);
    double *hess = persona__realloc_array(NULL, n + 1, sizeof *hess);
    uint32_t *rows = persona__realloc_array(NULL, n + 1, sizeof *rows);
    out->trees = persona__calloc(p->trees + 1, sizeof *out->trees);
    int rc = !f || !grad || !hess || !rows || !out->trees ? persona__fail_nomem() : PERSONA_OK;
    for (unsigned t = 0; !rc && t < p->trees; t++) {
        for (size_t i = 0; i < n; i++) {
            double pr = persona__sigmoid(f[i]);
            grad[i] = pr - y[i];
            hess[i] = pr * (1 - pr);
            rows[i] = (uint32_t)i;
        }
        rc = persona__gbdt_grow(&out->trees[t], b, rows, n, grad, hess, p);
        if (rc)
            break;
        out->n_trees++;
        for (size_t i = 0; i < n; i++)
            f[i] += persona__gbdt_tree_binned(&out->trees[t], b, i);
    }
    if (!rc && margins)
        memcpy(margins, f, n * sizeof *f);
    persona__free(f);
    persona__free(grad);
    persona__free(hess);
    persona__free(rows);
    if (rc)
        persona__gbdt_model_free(out);
    return rc;
}

double persona__gbdt_predict(const persona__gbdt_model *m, const double *row)
{
    double f = 0;
    for (size_t t = 0; t < m->n_trees; t++)
        f += persona__gbdt_tree_raw(&m->trees[t], row);
    return persona__sigmoid(f);
}
