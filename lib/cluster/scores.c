/* Scores of a clustering as scikit-learn defines them (silhouette_score,
 * davies_bouldin_score, calinski_harabasz_score; clusters are the labels present, their
 * centres the means of their points), and choosing k with them. Sums run in point order
 * (the silhouette's per point, then in point order), so threads do not change them. */
#include <math.h>
#include <string.h>

#include "cluster/kmeans_blocks.h"
#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/structs.h"

PERSONA__DEFINE_INIT(persona_cluster_scores, persona_cluster_scores_init)

typedef struct sil {
    const double *x;
    size_t d;
    const size_t *idx;     /* the points scored (indexes into x) */
    const uint32_t *label; /* their labels */
    size_t m;
    uint32_t k;
    const uint64_t *size;  /* points of each cluster among them */
    double *s;             /* per point */
    double *scratch;       /* per block: k sums */
} sil;

static void sil_block(void *ctx, size_t b, size_t i0, size_t i1)
{
    sil *c = ctx;
    double *sum = c->scratch + b * c->k;
    for (size_t i = i0; i < i1; i++) {
        memset(sum, 0, c->k * sizeof *sum);
        const double *xi = c->x + c->idx[i] * c->d;
        for (size_t j = 0; j < c->m; j++)
            sum[c->label[j]] += sqrt(persona__km_dist2(xi, c->x + c->idx[j] * c->d, c->d));
        uint32_t own = c->label[i];
        if (c->size[own] <= 1) {
            c->s[i] = 0;
            continue;
        }
        double a = sum[own] / (double)(c->size[own] - 1), b2 = INFINITY;
        for (uint32_t q = 0; q < c->k; q++)
            if (q != own && c->size[q] && sum[q] / (double)c->size[q] < b2)
                b2 = sum[q] / (double)c->size[q];
        double den = a > b2 ? a : b2;
        c->s[i] = den > 0 ? (b2 - a) / den : 0;
    }
}

/* The mean silhouette of the m points idx[] (labels lab[]); NaN unless 2 <= clusters
 * present <= m - 1. 0 or ENOMEM. */
static int silhouette(double *out, const double *x, size_t d, const size_t *idx, const uint32_t *lab,
                      size_t m, uint32_t k, int threads)
{
    uint64_t *size = persona__calloc(k, sizeof *size);
    if (!size)
        return persona__fail_nomem();
    uint32_t present = 0;
    for (size_t i = 0; i < m; i++)
        present += size[lab[i]]++ == 0;
    *out = NAN;
    int rc = 0;
    if (present >= 2 && present + 1 <= m) {
        km_blocks bl = persona__km_blocks(m, k);
        sil c = { x, d, idx, lab, m, k, size, persona__realloc_array(NULL, m, sizeof(double)),
                  persona__realloc_array(NULL, bl.count, k * sizeof(double)) };
        if (!c.s || !c.scratch) {
            rc = persona__fail_nomem();
        } else {
            persona__km_pass(bl, threads, sil_block, &c);
            double total = 0;
            for (size_t i = 0; i < m; i++)
                total += c.s[i];
            *out = total / (double)m;
        }
        persona__free(c.s);
        persona__free(c.scratch);
    }
    persona__free(size);
    return rc;
}

/* Davies–Bouldin and Calinski–Harabasz from the cluster means, and the summed squared
 * distance to them. 0 or ENOMEM. */
static int dispersion(persona_cluster_scores *sc, const double *x, size_t n, size_t d,
                      const uint32_t *lab, uint32_t k)
{
    double *mean = persona__calloc((size_t)k * d, sizeof *mean), *all = persona__calloc(d, sizeof *all);
    double *intra = persona__calloc(k, sizeof *intra);
    uint64_t *size = persona__calloc(k, sizeof *size);
    if (!mean || !all || !intra || !size) {
        persona__free(mean);
        persona__free(all);
        persona__free(intra);
        persona__free(size);
        return persona__fail_nomem();
    }
    for (size_t i = 0; i < n; i++) {
        size[lab[i]]++;
        for (size_t j = 0; j < d; j++) {
            mean[(size_t)lab[i] * d + j] += x[i * d + j];
            all[j] += x[i * d + j];
        }
    }
    uint32_t present = 0;
    for (uint32_t q = 0; q < k; q++) {
        present += size[q] > 0;
        for (size_t j = 0; size[q] && j < d; j++)
            mean[(size_t)q * d + j] /= (double)size[q];
    }
    for (size_t j = 0; j < d; j++)
        all[j] /= (double)n;
    double within = 0, between = 0;
    for (size_t i = 0; i < n; i++) {
        double t = persona__km_dist2(x + i * d, mean + (size_t)lab[i] * d, d);
        within += t;
        intra[lab[i]] += sqrt(t);
    }
    for (uint32_t q = 0; q < k; q++)
        if (size[q]) {
            between += (double)size[q] * persona__km_dist2(mean + (size_t)q * d, all, d);
            intra[q] /= (double)size[q];
        }
    sc->inertia = within;
    sc->calinski_harabasz = sc->davies_bouldin = NAN;
    if (present >= 2 && present < n) {
        sc->calinski_harabasz = within == 0 ? 1.0
                              : between * (double)(n - present) / (within * (double)(present - 1));
        int intra_zero = 1, centres_zero = 1;
        for (uint32_t q = 0; q < k; q++)
            intra_zero &= !size[q] || fabs(intra[q]) <= 1e-8; /* numpy.allclose(…, 0) */
        for (uint32_t q = 0; q < k; q++)
            for (uint32_t e = 0; e < k; e++)
                if (size[q] && size[e])
                    centres_zero &= sqrt(persona__km_dist2(mean + (size_t)q * d, mean + (size_t)e * d, d)) <= 1e-8;
        double db = 0;
        for (uint32_t q = 0; q < k && !intra_zero && !centres_zero; q++) {
            if (!size[q])
                continue;
            double worst = 0;
            for (uint32_t e = 0; e < k; e++) {
                if (e == q || !size[e])
                    continue;
                double dist = sqrt(persona__km_dist2(mean + (size_t)q * d, mean + (size_t)e * d, d));
                double r = dist == 0 ? 0 : (intra[q] + intra[e]) / dist;
                if (r > worst)
                    worst = r;
            }
            db += worst;
        }
        sc->davies_bouldin = intra_zero || centres_zero ? 0.0 : db / (double)present;
    }
    persona__free(mean);
    persona__free(all);
    persona__free(intra);
    persona__free(size);
    return 0;
}

/* Scores into sc (its struct_size untouched). */
static int score(persona_cluster_scores *sc, const double *x, size_t n, size_t d, const uint32_t *lab,
                 uint32_t k, uint64_t sample, uint64_t seed, int threads)
{
    int rc = dispersion(sc, x, n, d, lab, k);
    if (rc)
        return rc;
    size_t m = sample && sample < n ? (size_t)sample : n;
    size_t *idx = persona__realloc_array(NULL, n, sizeof *idx);
    uint32_t *sl = persona__realloc_array(NULL, m, sizeof *sl);
    if (!idx || !sl) {
        persona__free(idx);
        persona__free(sl);
        return persona__fail_nomem();
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if (m < n) { /* the first m of a seeded shuffle */
        persona__rng rng;
        persona__rng_seed(&rng, seed);
        for (size_t i = 0; i < m; i++) {
            size_t j = i + (size_t)persona__rng_below(&rng, n - i);
            size_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    }
    for (size_t i = 0; i < m; i++)
        sl[i] = lab[idx[i]];
    sc->k = k;
    sc->silhouette_points = m;
    rc = silhouette(&sc->silhouette, x, d, idx, sl, m, k, threads);
    persona__free(idx);
    persona__free(sl);
    return rc;
}

static int check_points(const double *x, size_t n, size_t d)
{
    if (n == 0 || d == 0 || d > PERSONA_KMEANS_MAX_D)
        return persona__fail(PERSONA_EINVAL, "n = %zu, d = %zu: at least one point of 1 to %d dimensions",
                             n, d, PERSONA_KMEANS_MAX_D);
    return persona__km_check_finite(x, n, d, "points");
}

PERSONA_API int persona_cluster_scores_get(persona_cluster_scores *out, const double *points,
                                           size_t n, size_t d, const uint32_t *labels, uint32_t k,
                                           uint64_t sample, uint64_t seed)
{
    if (!out || !points || !labels)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", !out ? "out" : !points ? "points" : "labels");
    int rc = check_points(points, n, d);
    if (rc)
        return rc;
    if (k == 0 || k > PERSONA_KMEANS_MAX_K)
        return persona__fail(PERSONA_EINVAL, "k = %u: 1 to %d clusters", k, PERSONA_KMEANS_MAX_K);
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= k)
            return persona__fail(PERSONA_EINVAL, "label %u of point %zu is not below k = %u", labels[i], i, k);
    persona_cluster_scores sc = PERSONA_CLUSTER_SCORES_INIT;
    if ((rc = score(&sc, points, n, d, labels, k, sample, seed, persona__threads(0))))
        return rc;
    return persona__struct_out(out, &sc, sizeof sc, sizeof sc, "persona_cluster_scores");
}

PERSONA_API int persona_kmeans_choose_k(persona_cluster_scores *rows, size_t capacity,
                                        const double *points, size_t n, size_t d, uint32_t k_min,
                                        uint32_t k_max, const persona_kmeans_options *opts,
                                        uint64_t sample)
{
    if (!rows || !points)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", rows ? "points" : "rows");
    if (k_min < 1 || k_min > k_max || k_max > n || k_max > PERSONA_KMEANS_MAX_K)
        return persona__fail(PERSONA_EINVAL, "k from %u to %u: need 1 <= k_min <= k_max <= %zu points",
                             k_min, k_max, n);
    if (capacity < (size_t)(k_max - k_min) + 1)
        return persona__fail(PERSONA_EBUFS, "room for %zu rows, %u needed", capacity, k_max - k_min + 1);
    persona_kmeans_options o = PERSONA_KMEANS_OPTIONS_INIT;
    if (opts) {
        int rc = persona__struct_in(&o, sizeof o, opts, sizeof o, "persona_kmeans_options");
        if (rc)
            return rc;
    }
    uint32_t *labels = persona__realloc_array(NULL, n, sizeof *labels);
    if (!labels)
        return persona__fail_nomem();
    int rc = 0;
    for (uint32_t k = k_min; k <= k_max && !rc; k++) {
        persona_kmeans_options ok = o;
        ok.k = k;
        ok.init_centers = NULL; /* one set of centres cannot serve every k */
        persona_kmeans *m = NULL;
        if ((rc = persona_kmeans_fit(&m, points, n, d, &ok, labels)))
            break;
        persona_cluster_scores sc = PERSONA_CLUSTER_SCORES_INIT;
        rc = score(&sc, points, n, d, labels, k, sample, o.seed, persona__threads((int)o.threads));
        if (!rc) {
            sc.inertia = m->inertia;
            rc = persona__struct_out(&rows[k - k_min], &sc, sizeof sc, sizeof sc, "persona_cluster_scores");
        }
        persona_kmeans_free(m);
    }
    persona__free(labels);
    return rc;
}
