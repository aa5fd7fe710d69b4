/* Saving and loading a k-means model: the snapshot container of lib/persist, kind
 * PERSONA__SNAP_KIND_KMEANS (docs/file-format.md, "k-means model (kind 6)"):
 *
 *   MODEL  revision u32, k u32, d u64, n u64, iterations u32, converged u32, inertia f64,
 *          centres f64[k·d], sizes u64[k], mean f64[d], sd f64[d]       (required)
 *   VIEWS  n_views u32, rounds u32, scale f64[d], scaled centres f64[k·d],
 *          weights f64[n_views], within f64[n_views]      (required; multi-view models only)
 *
 * Loading checks every field as a fit would have made it (sizes against the section before
 * anything is allocated for them, finite numbers, sizes adding up to n), so a loaded model
 * answers every call as the saved one did. */
#include <math.h>
#include <string.h>

#include "cluster/kmeans_internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "persist/snapfile.h"

enum { SEC_MODEL = 1, SEC_VIEWS = 2 };
#define KMEANS_SECTIONS_REVISION 1u

PERSONA_API int persona_kmeans_save(const persona_kmeans *m, const char *path)
{
    if (!m || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", m ? "path" : "model");
    persona__snap_writer *w = NULL;
    int rc = persona__snap_create(&w, path, PERSONA__SNAP_KIND_KMEANS);
    if (rc)
        return rc;
    size_t kd = (size_t)m->k * m->d;
    persona__snap_begin(w, SEC_MODEL, PERSONA__SNAP_REQUIRED);
    persona__snap_put_u32(w, KMEANS_SECTIONS_REVISION);
    persona__snap_put_u32(w, m->k);
    persona__snap_put_u64(w, m->d);
    persona__snap_put_u64(w, m->n);
    persona__snap_put_u32(w, m->iterations);
    persona__snap_put_u32(w, m->converged);
    persona__snap_put_f64(w, m->inertia);
    persona__snap_put_f64s(w, m->centers, kd);
    persona__snap_put_u64s(w, m->sizes, m->k);
    persona__snap_put_f64s(w, m->mean, m->d);
    persona__snap_put_f64s(w, m->sd, m->d);
    persona__snap_end(w);
    if (m->scale) {
        persona__snap_begin(w, SEC_VIEWS, PERSONA__SNAP_REQUIRED);
        persona__snap_put_u32(w, m->n_views);
        persona__snap_put_u32(w, m->rounds);
        persona__snap_put_f64s(w, m->scale, m->d);
        persona__snap_put_f64s(w, m->scaled_centers, kd);
        persona__snap_put_f64s(w, m->view_weights, m->n_views);
        persona__snap_put_f64s(w, m->view_within, m->n_views);
        persona__snap_end(w);
    }
    return persona__snap_commit(w);
}

/* ---- loading ---- */

/* n doubles, each finite and (when nonneg) >= 0; else ECORRUPT naming what. */
static int get_finite(persona__snap_reader *r, double *v, size_t n, int nonneg, const char *what)
{
    int rc = persona__snap_get_f64s(r, v, n);
    for (size_t i = 0; !rc && i < n; i++)
        if (!isfinite(v[i]) || (nonneg && v[i] < 0))
            rc = persona__snap_corrupt(r, "%s %zu is %g", what, i, v[i]);
    return rc;
}

static int load_model(persona__snap_reader *r, persona_kmeans *m)
{
    uint32_t revision = 0, k = 0;
    uint64_t d = 0, n = 0;
    int rc = persona__snap_get_u32(r, &revision);
    if (!rc && revision > KMEANS_SECTIONS_REVISION)
        return persona__fail(PERSONA_EVERSION, "k-means sections of revision %u are newer than "
                                               "this library (%u)",
                             revision, KMEANS_SECTIONS_REVISION);
    if (!rc && revision == 0)
        rc = persona__snap_corrupt(r, "revision 0");
    if (!rc)
        rc = persona__snap_get_u32(r, &k);
    if (!rc)
        rc = persona__snap_get_u64(r, &d);
    if (!rc)
        rc = persona__snap_get_u64(r, &n);
    if (!rc && (k < 1 || k > PERSONA_KMEANS_MAX_K || d < 1 || d > PERSONA_KMEANS_MAX_D || n < k))
        rc = persona__snap_corrupt(r, "k %u, d %llu, n %llu", k, (unsigned long long)d,
                                   (unsigned long long)n);
    if (!rc)
        rc = persona__snap_get_u32(r, &m->iterations);
    if (!rc)
        rc = persona__snap_get_u32(r, &m->converged);
    if (!rc && m->converged > 1)
        rc = persona__snap_corrupt(r, "converged is %u", m->converged);
    if (!rc)
        rc = get_finite(r, &m->inertia, 1, 1, "inertia");
    size_t kd = (size_t)k * (size_t)d;
    /* the centres, sizes, mean and sd must be in the section before they are allocated */
    if (!rc)
        rc = persona__snap_need(r, kd + k + 2 * d, sizeof(double), "centres");
    if (rc)
        return rc;
    m->k = k;
    m->d = (size_t)d;
    m->n = (size_t)n;
    m->centers = persona__realloc_array(NULL, kd, sizeof *m->centers);
    m->sizes = persona__realloc_array(NULL, k, sizeof *m->sizes);
    m->mean = persona__realloc_array(NULL, d, sizeof *m->mean);
    m->sd = persona__realloc_array(NULL, d, sizeof *m->sd);
    if (!m->centers || !m->sizes || !m->mean || !m->sd)
        return persona__fail_nomem();
    if ((rc = get_finite(r, m->centers, kd, 0, "centre coordinate")) ||
        (rc = persona__snap_get_u64s(r, m->sizes, k)))
        return rc;
    uint64_t sum = 0;
    for (uint32_t c = 0; c < k; c++) {
        if (m->sizes[c] > n - sum)
            return persona__snap_corrupt(r, "cluster sizes add up to more than %llu points",
                                         (unsigned long long)n);
        sum += m->sizes[c];
    }
    if (sum != n)
        return persona__snap_corrupt(r, "cluster sizes add up to %llu of %llu points",
                                     (unsigned long long)sum, (unsigned long long)n);
    if ((rc = get_finite(r, m->mean, m->d, 0, "column mean")) ||
        (rc = get_finite(r, m->sd, m->d, 1, "column deviation")))
        return rc;
    return persona__snap_section_end(r);
}

static int load_views(persona__snap_reader *r, persona_kmeans *m)
{
    uint32_t views = 0;
    int rc = persona__snap_get_u32(r, &views);
    if (!rc && (views < 1 || views > m->d))
        rc = persona__snap_corrupt(r, "%u views of %zu columns", views, m->d);
    if (!rc)
        rc = persona__snap_get_u32(r, &m->rounds);
    if (!rc && m->rounds < 1)
        rc = persona__snap_corrupt(r, "0 rounds");
    size_t kd = (size_t)m->k * m->d;
    if (!rc)
        rc = persona__snap_need(r, m->d + kd + 2 * (size_t)views, sizeof(double), "views");
    if (rc)
        return rc;
    m->n_views = views;
    m->scale = persona__realloc_array(NULL, m->d, sizeof *m->scale);
    m->scaled_centers = persona__realloc_array(NULL, kd, sizeof *m->scaled_centers);
    m->view_weights = persona__realloc_array(NULL, views, sizeof *m->view_weights);
    m->view_within = persona__realloc_array(NULL, views, sizeof *m->view_within);
    if (!m->scale || !m->scaled_centers || !m->view_weights || !m->view_within)
        return persona__fail_nomem();
    if ((rc = get_finite(r, m->scale, m->d, 1, "column scale")) ||
        (rc = get_finite(r, m->scaled_centers, kd, 0, "scaled centre coordinate")) ||
        (rc = get_finite(r, m->view_weights, views, 1, "view weight")) ||
        (rc = get_finite(r, m->view_within, views, 1, "view sum of squares")))
        return rc;
    return persona__snap_section_end(r);
}

static const uint32_t known_sections[] = { SEC_MODEL, SEC_VIEWS };

static int load_reader(persona_kmeans **out, persona__snap_reader *r, const char *path)
{
    int rc = persona__snap_check_known(r, known_sections, 2);
    if (rc)
        return rc;
    uint64_t len = 0;
    rc = persona__snap_section(r, SEC_MODEL, "model", &len);
    if (rc == 0)
        return persona__fail(PERSONA_ECORRUPT, "%s: the model section is missing", path);
    if (rc < 0)
        return rc;
    persona_kmeans *m = persona__calloc(1, sizeof *m);
    if (!m)
        return persona__fail_nomem();
    rc = load_model(r, m);
    if (!rc) {
        rc = persona__snap_section(r, SEC_VIEWS, "views", &len);
        rc = rc == 1 ? load_views(r, m) : rc;
    }
    if (rc) {
        persona_kmeans_free(m);
        return rc;
    }
    *out = m;
    return PERSONA_OK;
}

PERSONA_API int persona_kmeans_load(persona_kmeans **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "path" : "out");
    persona__snap_reader *r = NULL;
    int rc = persona__snap_open(&r, path, PERSONA__SNAP_KIND_KMEANS);
    if (rc)
        return rc;
    rc = load_reader(out, r, path);
    persona__snap_close(r);
    return rc;
}

int persona__kmeans_load_memory(persona_kmeans **out, const void *data, size_t len)
{
    *out = NULL;
    persona__snap_reader *r = NULL;
    int rc = persona__snap_open_memory(&r, data, len, PERSONA__SNAP_KIND_KMEANS);
    if (rc)
        return rc;
    rc = load_reader(out, r, "(memory)");
    persona__snap_close(r);
    return rc;
}
