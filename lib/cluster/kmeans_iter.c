/* One k-means run: Lloyd's iterations, with Hamerly's bounds (G. Hamerly, "Making k-means
 * even faster", SDM 2010), Elkan's (kmeans_elkan.c) or none, and scikit-learn's stopping
 * rule (kmeans.h).
 *
 * Hamerly keeps per point an upper bound on the distance to its centre and a lower bound
 * on the distance to every other centre; a point whose upper bound is below the larger of
 * its lower bound and half the distance from its centre to the nearest other centre keeps
 * its centre without any distance computed. The bounds are checked with a relative margin
 * (KM_BOUND_SLACK) far above the rounding error of the distances, so a skipped point is one
 * whose nearest centre is not in doubt, and the labels are Lloyd's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/kmeans_blocks.h"
#include "cluster/dist_lanes.h"
#include "cluster/kmeans_internal.h"
#include "cluster/nearest_rows.h"
#include "core/alloc.h"
#include "core/error.h"

/* Centres compared at once by the vector kernel; a point's distances to k centres (k
 * rounded up to lanes) fit on the stack up to STACK_K centres, else the scalar loop runs. */
#define LANES PERSONA__LANES
#define STACK_K 1024
/* Up to this many centres the nearest two are chosen with selects. */
#define SELECT_K 16
/* Points ahead whose coordinates are asked for while the current one is assigned. */
#define PREFETCH_AHEAD 8
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

uint32_t persona__km_nearest(const double *x, const double *centers, uint32_t k, size_t d,
                             double *dist2)
{
    uint32_t best = 0;
    double bd = persona__km_dist2(x, centers, d);
    for (uint32_t c = 1; c < k; c++) {
        double t = persona__km_dist2(x, centers + (size_t)c * d, d);
        if (t < bd) {
            bd = t;
            best = c;
        }
    }
    *dist2 = bd;
    return best;
}

enum { PASS_UPDATE, PASS_ASSIGN, PASS_INERTIA, PASS_FAR, PASS_SIDE };

typedef km_run run;

void persona__km_point_dists(const run *r, const double *x, double *dist)
{
    const km_data *kd = r->kd;
    if (r->ct) { /* then kp <= STACK_K */
        double all[STACK_K];
        persona__dist2_lanes(x, r->ct, r->kp, r->kp, kd->d, all);
        memcpy(dist, all, kd->k * sizeof *dist);
        return;
    }
    for (uint32_t c = 0; c < kd->k; c++)
        dist[c] = persona__km_dist2(x, r->centers + (size_t)c * kd->d, kd->d);
}

/* The nearest centre of x (lowest index among equals) and the two smallest squared
 * distances. */
static inline uint32_t nearest_two(const run *r, const double *x, double *b1_out, double *b2_out)
{
    const km_data *kd = r->kd;
    double buf[STACK_K];
    const double *dist = buf;
    if (r->ct)
        persona__dist2_lanes(x, r->ct, r->kp, r->kp, kd->d, buf);
    uint32_t best = 0;
    double b1 = INFINITY, b2 = INFINITY;
    if (r->ct && kd->k <= SELECT_K) {
        /* few centres: which one wins is anyone's guess, so selects, not branches — the
         * least (lowest index of equals), then the least of the others */
        b1 = dist[0];
        for (uint32_t c = 1; c < kd->k; c++) {
            int lower = dist[c] < b1;
            best = lower ? c : best;
            b1 = lower ? dist[c] : b1;
        }
        for (uint32_t c = 0; c < kd->k; c++) {
            double t = c == best ? INFINITY : dist[c];
            b2 = t < b2 ? t : b2;
        }
    } else {
        /* many: the branches are mostly "not nearer" and predicted well */
        for (uint32_t c = 0; c < kd->k; c++) {
            double t = r->ct ? dist[c] : persona__km_dist2(x, r->centers + (size_t)c * kd->d, kd->d);
            if (t < b1) {
                b2 = b1;
                b1 = t;
                best = c;
            } else if (t < b2) {
                b2 = t;
            }
        }
    }
    *b1_out = b1;
    *b2_out = b2;
    return best;
}

/* Hamerly's tests for point i: its label when the bounds keep it (bounds updated), else
 * KM_UNSETTLED and the point needs the distances to every centre. */
#define KM_UNSETTLED UINT32_MAX
static inline uint32_t hamerly_keeps(run *r, size_t i)
{
    const km_data *kd = r->kd;
    uint32_t a = r->labels[i];
    double u = r->upper[i] + r->shift[a];
    double l = r->lower[i] - (a == r->max_shift_c ? r->second_shift : r->max_shift);
    double m = l > r->half_gap[a] ? l : r->half_gap[a];
    if (u * (1 + KM_BOUND_SLACK) >= m)
        u = sqrt(persona__km_dist2(kd->x + i * kd->d, r->centers + (size_t)a * kd->d, kd->d));
    if (u * (1 + KM_BOUND_SLACK) >= m)
        return KM_UNSETTLED;
    r->upper[i] = u;
    r->lower[i] = l;
    return a;
}

/* The label of point i for this assignment, one point at a time (Elkan, or points with
 * more dimensions than the many-points kernel takes). */
static inline uint32_t assign_point(run *r, size_t i)
{
    const km_data *kd = r->kd;
    double b1, b2;
    if (r->method == KM_LLOYD)
        return nearest_two(r, kd->x + i * kd->d, &b1, &b2);
    if (r->method == KM_ELKAN)
        return persona__km_elkan_assign(r, i);
    if (!r->first) {
        uint32_t a = hamerly_keeps(r, i);
        if (a != KM_UNSETTLED)
            return a;
    }
    uint32_t best = nearest_two(r, kd->x + i * kd->d, &b1, &b2);
    r->upper[i] = sqrt(b1);
    r->lower[i] = sqrt(b2);
    return best;
}

/* One block's share of a pass: its partial sums and counts (update pass), and the points
 * waiting for the many-points kernel. */
typedef struct block_work {
    run *r;
    km_fx *sum;
    int64_t *delta;
    uint64_t changed;
    size_t waiting;
    size_t wait[PERSONA__ROWS];
} block_work;

/* Point i, whose coordinates are x[0], x[stride], …, gets label a: in the update pass, a
 * point that moves changes the sums (every point when recounting). */
static inline void settle_at(block_work *w, size_t i, uint32_t a, const double *x, size_t stride)
{
    run *r = w->r;
    if (r->pass == PASS_ASSIGN) {
        r->labels[i] = a;
        return;
    }
    const km_data *kd = r->kd;
    size_t d = kd->d;
    uint32_t was = r->labels[i];
    w->changed += a != was || r->first;
    r->labels[i] = a;
    if (a == was && !r->recount)
        return;
    km_fx *to = w->sum + (size_t)a * d, *from = w->sum + (size_t)was * d;
    for (size_t j = 0; j < d; j++) {
        km_fx v = persona__km_fx_of(x[j * stride], &r->scale[j]);
        persona__km_fx_add(&to[j], v);
        if (!r->recount)
            persona__km_fx_sub(&from[j], v);
    }
    w->delta[a]++;
    if (!r->recount)
        w->delta[was]--;
}

static inline void settle(block_work *w, size_t i, uint32_t a)
{
    settle_at(w, i, a, w->r->kd->x + i * w->r->kd->d, 1);
}

/* The waiting points' nearest centres, found together (a short batch repeats its first
 * point in the unused lanes). */
static void settle_waiting(block_work *w)
{
    run *r = w->r;
    const km_data *kd = r->kd;
    if (!w->waiting)
        return;
    const double *rows[PERSONA__ROWS];
    for (size_t p = 0; p < PERSONA__ROWS; p++)
        rows[p] = kd->x + w->wait[p < w->waiting ? p : 0] * kd->d;
    uint32_t label[PERSONA__ROWS];
    double best[PERSONA__ROWS], second[PERSONA__ROWS];
    persona__nearest_rows(rows, r->centers, kd->k, kd->d, label, best,
                          r->method == KM_HAMERLY ? second : NULL);
    for (size_t p = 0; p < w->waiting; p++) {
        size_t i = w->wait[p];
        if (r->method == KM_HAMERLY) {
            r->upper[i] = sqrt(best[p]);
            r->lower[i] = sqrt(second[p]);
        }
        settle(w, i, label[p]);
    }
    w->waiting = 0;
}

/* The centres transposed for the kernel (padding lanes infinitely far). */
static void transpose(const double *centers, uint32_t k, size_t d, size_t kp, double *ct)
{
    for (size_t j = 0; j < d; j++)
        for (size_t c = 0; c < kp; c++)
            ct[j * kp + c] = c < k ? centers[c * d + j] : INFINITY;
}

static void run_block(void *ctx, size_t b, size_t i0, size_t i1)
{
    run *r = ctx;
    const km_data *kd = r->kd;
    size_t d = kd->d;
    if (r->pass == PASS_INERTIA || r->pass == PASS_FAR) {
        double s = 0;
        for (size_t i = i0; i < i1; i++) {
            double t = persona__km_dist2(kd->x + i * d, r->centers + (size_t)r->labels[i] * d, d);
            if (r->pass == PASS_FAR)
                r->far[i] = t;
            s += t;
        }
        if (r->pass == PASS_INERTIA)
            r->binertia[b] = s;
        return;
    }
    size_t rows_d = PERSONA__ROWS * d;
    if (r->pass == PASS_SIDE) { /* the whole groups that start in this block */
        size_t first = (i0 + PERSONA__ROWS - 1) / PERSONA__ROWS * PERSONA__ROWS;
        for (; first < i1 && first + PERSONA__ROWS <= kd->n; first += PERSONA__ROWS) {
            double *group = r->side + first / PERSONA__ROWS * rows_d;
            for (size_t p = 0; p < PERSONA__ROWS; p++)
                for (size_t j = 0; j < d; j++)
                    group[j * PERSONA__ROWS + p] = kd->x[(first + p) * d + j];
        }
        return;
    }
    block_work w = { .r = r };
    if (r->pass == PASS_UPDATE) {
        w.sum = r->bfx + b * kd->k * d;
        w.delta = r->bdelta + b * kd->k;
        memset(w.sum, 0, kd->k * d * sizeof *w.sum);
        memset(w.delta, 0, kd->k * sizeof *w.delta);
    }
    /* Elkan keeps a bound per centre, filled one point at a time */
    int rows = r->method != KM_ELKAN && d <= PERSONA__ROWS_MAX_D;
    for (size_t i = i0; i < i1; i++) {
        /* Bounds send a scattered third of the points to their coordinates; fetched ahead,
         * they stream from memory instead of waiting one miss each. */
        if (!r->side && i + PREFETCH_AHEAD < i1)
            PREFETCH(kd->x + (i + PREFETCH_AHEAD) * d);
        if (!rows) {
            settle(&w, i, assign_point(r, i));
            continue;
        }
        if (r->side && i % PERSONA__ROWS == 0 && i + PERSONA__ROWS <= i1) {
            /* a whole group already side by side: straight to the kernel */
            uint32_t label[PERSONA__ROWS];
            double best[PERSONA__ROWS];
            const double *group = r->side + i / PERSONA__ROWS * rows_d;
            persona__nearest_side(group, r->centers, kd->k, d, label, best);
            /* a moving point's coordinates from the group the kernel just read */
            for (size_t p = 0; p < PERSONA__ROWS; p++)
                settle_at(&w, i + p, label[p], group + p, PERSONA__ROWS);
            i += PERSONA__ROWS - 1;
            continue;
        }
        if (r->method == KM_HAMERLY && !r->first) {
            uint32_t a = hamerly_keeps(r, i);
            if (a != KM_UNSETTLED) {
                settle(&w, i, a);
                continue;
            }
        }
        w.wait[w.waiting++] = i;
        if (w.waiting == PERSONA__ROWS)
            settle_waiting(&w);
    }
    settle_waiting(&w);
    if (r->pass == PASS_UPDATE)
        r->bchanged[b] = w.changed;
}

/* The points farthest from their own centres, farthest first (ties: lower index). */
typedef struct far_point {
    double dist2;
    size_t i;
} far_point;

static int by_far(const void *a, const void *b)
{
    const far_point *x = a, *y = b;
    if (x->dist2 != y->dist2)
        return x->dist2 > y->dist2 ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Clusters left empty take the points farthest from their centres (as scikit-learn's
 * _relocate_empty_clusters): sums and counts move with them; labels stay. 0 or ENOMEM. */
static int relocate_empty(run *r, km_blocks bl, km_fx *sum, uint64_t *count)
{
    const km_data *kd = r->kd;
    size_t d = kd->d, n_empty = 0;
    for (uint32_t c = 0; c < kd->k; c++)
        n_empty += count[c] == 0;
    if (!n_empty)
        return 0;
    far_point *fp = persona__realloc_array(NULL, kd->n, sizeof *fp);
    r->far = persona__realloc_array(NULL, kd->n, sizeof *r->far);
    if (!fp || !r->far) {
        persona__free(fp);
        persona__free(r->far);
        r->far = NULL;
        return persona__fail_nomem();
    }
    r->pass = PASS_FAR;
    persona__km_pass(bl, kd->threads, run_block, r);
    for (size_t i = 0; i < kd->n; i++)
        fp[i] = (far_point){ r->far[i], i };
    qsort(fp, kd->n, sizeof *fp, by_far);
    size_t next = 0;
    for (uint32_t c = 0; c < kd->k && next < kd->n; c++) {
        if (count[c])
            continue;
        size_t i = fp[next++].i;
        const double *x = kd->x + i * d;
        uint32_t from = r->labels[i];
        for (size_t j = 0; j < d; j++) {
            km_fx v = persona__km_fx_of(x[j], &r->scale[j]);
            persona__km_fx_sub(&sum[(size_t)from * d + j], v);
            sum[(size_t)c * d + j] = v;
        }
        count[from]--;
        count[c] = 1;
    }
    persona__free(fp);
    persona__free(r->far);
    r->far = NULL;
    r->recount = 1; /* the moved points' labels stay: the next sums start afresh */
    return 0;
}

/* Hamerly's second test and Elkan's s(c) and centre-centre test. */
void persona__km_half_gaps(const double *centers, uint32_t k, size_t d, double *half_cc,
                           double *half_gap)
{
    for (uint32_t c = 0; c < k; c++) {
        half_gap[c] = INFINITY;
        if (half_cc)
            half_cc[(size_t)c * k + c] = 0;
    }
    for (uint32_t c = 0; c < k; c++)
        for (uint32_t e = c + 1; e < k; e++) {
            double g = sqrt(persona__km_dist2(centers + (size_t)c * d, centers + (size_t)e * d, d)) / 2;
            if (g < half_gap[c])
                half_gap[c] = g;
            if (g < half_gap[e])
                half_gap[e] = g;
            if (half_cc)
                half_cc[(size_t)c * k + e] = half_cc[(size_t)e * k + c] = g;
        }
}

/* The largest centre shift, its centre, and the largest of the others. */
static void shift_maxima(run *r, const double *shift, uint32_t k)
{
    r->max_shift = r->second_shift = 0;
    r->max_shift_c = 0;
    for (uint32_t c = 0; c < k; c++) {
        if (shift[c] > r->max_shift) {
            r->second_shift = r->max_shift;
            r->max_shift = shift[c];
            r->max_shift_c = c;
        } else if (shift[c] > r->second_shift) {
            r->second_shift = shift[c];
        }
    }
}

int persona__km_run(const km_data *kd, double *centers, uint32_t *labels, uint64_t *sizes,
                    uint32_t max_iter, double tol_abs, int method, km_result *res)
{
    uint32_t k = kd->k;
    size_t d = kd->d, kd_size = (size_t)k * d;
    run r;
    memset(&r, 0, sizeof r);
    r.kd = kd;
    km_blocks bl = persona__km_blocks(kd->n, 2 * kd_size + k);
    r.method = method;
    r.labels = labels;
    size_t nb = bl.count;
    double *next = persona__realloc_array(NULL, kd_size, sizeof *next);
    double *shift = persona__realloc_array(NULL, k, sizeof *shift);
    double *half_gap = persona__realloc_array(NULL, k, sizeof *half_gap);
    uint64_t *count = persona__realloc_array(NULL, k, sizeof *count);
    r.bfx = persona__realloc_array(NULL, nb, kd_size * sizeof *r.bfx);
    r.bdelta = persona__realloc_array(NULL, nb, k * sizeof *r.bdelta);
    km_fx *total = persona__calloc(kd_size, sizeof *total);
    km_fx_scale *scale = persona__realloc_array(NULL, d, sizeof *scale);
    r.bchanged = persona__realloc_array(NULL, nb, sizeof *r.bchanged);
    r.binertia = persona__realloc_array(NULL, nb, sizeof *r.binertia);
    r.kp = PERSONA__LANES_UP(k);
    double *ct = r.kp <= STACK_K ? persona__realloc_array(NULL, d, r.kp * sizeof *ct) : NULL;
    double *half_cc = NULL;
    int bounds = method != KM_LLOYD;
    if (bounds) {
        /* Elkan: k lower bounds per point (n × k doubles) and the k × k centre distances */
        size_t per_point = method == KM_ELKAN ? k : 1;
        r.upper = persona__realloc_array(NULL, kd->n, sizeof *r.upper);
        r.lower = persona__realloc_array(NULL, kd->n, per_point * sizeof *r.lower);
    }
    if (method == KM_ELKAN)
        half_cc = persona__realloc_array(NULL, k, (size_t)k * sizeof *half_cc);
    /* Lloyd reads every point every iteration: copied side by side once (it pays back
     * within a few passes), the kernel loads them as whole vectors (aligned: padded by one
     * group) */
    double *side_mem = NULL;
    size_t groups = kd->n / PERSONA__ROWS;
    int want_side = method == KM_LLOYD && d <= PERSONA__ROWS_MAX_D && groups && max_iter > 2;
    if (want_side) {
        side_mem = persona__realloc_array(NULL, groups + 1, PERSONA__ROWS * d * sizeof *side_mem);
        if (side_mem) {
            size_t misalign = (uintptr_t)side_mem % (PERSONA__ROWS * sizeof(double));
            r.side = side_mem + (misalign ? (PERSONA__ROWS * sizeof(double) - misalign) / sizeof(double) : 0);
        }
    }
    int rc = 0;
    if ((want_side && !side_mem) || !next || !shift || !half_gap || !count || !r.bfx || !r.bdelta || !total || !scale || !r.bchanged ||
        !r.binertia || (bounds && (!r.upper || !r.lower)) || (method == KM_ELKAN && !half_cc) ||
        (r.kp <= STACK_K && !ct)) {
        rc = persona__fail_nomem();
        goto done;
    }
    /* each dimension's largest magnitude, in next's first d slots, row by row */
    memset(next, 0, d * sizeof *next);
    for (size_t i = 0; i < kd->n; i++)
        for (size_t j = 0; j < d; j++)
            next[j] = fabs(kd->x[i * d + j]) > next[j] ? fabs(kd->x[i * d + j]) : next[j];
    for (size_t j = 0; j < d; j++)
        scale[j] = persona__km_fx_scale(next[j], kd->n);
    r.scale = scale;
    if (r.side) {
        r.pass = PASS_SIDE;
        persona__km_pass(bl, kd->threads, run_block, &r);
    }
    r.recount = 1;
    r.shift = shift;
    r.half_gap = half_gap;
    r.half_cc = half_cc;
    res->converged = 0;
    res->iterations = 0;
    int strict = 0;
    r.first = 1;
    for (uint32_t it = 0; it < max_iter; it++) {
        r.centers = centers;
        if (ct)
            transpose(centers, k, d, r.kp, ct);
        r.ct = ct;
        if (bounds)
            persona__km_half_gaps(centers, k, d, half_cc, half_gap);
        r.pass = PASS_UPDATE;
        persona__km_pass(bl, kd->threads, run_block, &r);
        uint64_t changed = 0;
        if (r.recount) {
            memset(total, 0, kd_size * sizeof *total);
            memset(count, 0, k * sizeof *count);
            r.recount = 0;
        }
        for (size_t b = 0; b < nb; b++) {
            changed += r.bchanged[b];
            const km_fx *s = r.bfx + b * kd_size;
            for (size_t q = 0; q < kd_size; q++)
                persona__km_fx_add(&total[q], s[q]);
            for (uint32_t c = 0; c < k; c++)
                count[c] += (uint64_t)r.bdelta[b * k + c];
        }
        if ((rc = relocate_empty(&r, bl, total, count)))
            goto done;
        double shift_tot = 0;
        for (uint32_t c = 0; c < k; c++) {
            double *nc = next + (size_t)c * d;
            for (size_t j = 0; j < d; j++)
                nc[j] = persona__km_fx_value(total[(size_t)c * d + j], &scale[j]) / (double)count[c];
            shift[c] = sqrt(persona__km_dist2(nc, centers + (size_t)c * d, d));
            shift_tot += shift[c] * shift[c];
        }
        memcpy(centers, next, kd_size * sizeof *centers);
        shift_maxima(&r, shift, k);
        res->iterations = it + 1;
        if (!r.first && changed == 0) {
            strict = 1;
            res->converged = 1;
            break;
        }
        r.first = 0;
        if (shift_tot <= tol_abs) {
            res->converged = 1;
            break;
        }
    }
    r.centers = centers;
    if (ct)
        transpose(centers, k, d, r.kp, ct);
    r.ct = ct;
    if (!strict) { /* the labels of the final centres */
        if (bounds)
            persona__km_half_gaps(centers, k, d, half_cc, half_gap);
        r.pass = PASS_ASSIGN;
        persona__km_pass(bl, kd->threads, run_block, &r);
    }
    memset(sizes, 0, k * sizeof *sizes);
    for (size_t i = 0; i < kd->n; i++)
        sizes[labels[i]]++;
    r.pass = PASS_INERTIA;
    persona__km_pass(bl, kd->threads, run_block, &r);
    res->inertia = 0;
    for (size_t b = 0; b < nb; b++)
        res->inertia += r.binertia[b];
done:
    persona__free(side_mem);
    persona__free(ct);
    persona__free(next);
    persona__free(shift);
    persona__free(half_gap);
    persona__free(half_cc);
    persona__free(count);
    persona__free(r.bfx);
    persona__free(r.bdelta);
    persona__free(total);
    persona__free(scale);
    persona__free(r.bchanged);
    persona__free(r.binertia);
    persona__free(r.upper);
    persona__free(r.lower);
    return rc;
}
