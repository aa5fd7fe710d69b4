/* The kernel of nearest_rows.h. */
#include <math.h>
#include <string.h>

#include "cluster/dist_lanes.h"
#include "cluster/nearest_rows.h"

#if defined(__GNUC__)
typedef double rows_f __attribute__((vector_size(PERSONA__ROWS * sizeof(double))));
typedef int64_t rows_i __attribute__((vector_size(PERSONA__ROWS * sizeof(int64_t))));
/* the same, read from memory aligned to a double only */
typedef double rows_fu __attribute__((vector_size(PERSONA__ROWS * sizeof(double)), aligned(8)));

/* a where m is set (all ones), else b (a macro: a vector-valued function would be built
 * for the baseline vector unit, not for each clone) */
#define PICK(m, a, b) ((rows_f)(((rows_i)(a) & (m)) | ((rows_i)(b) & ~(m))))

/* The kernel's body; want_second is a constant at each call, so Lloyd's assignment does
 * not pay for the second nearest. */
static inline __attribute__((always_inline)) void
nearest_side(const rows_fu *xt, const double *centers, uint32_t k, size_t d,
             uint32_t label[PERSONA__ROWS], double best[PERSONA__ROWS],
             double second[PERSONA__ROWS], int want_second)
{
    rows_f b1, b2;
    rows_i lab = { 0 };
    for (size_t p = 0; p < PERSONA__ROWS; p++)
        b1[p] = b2[p] = INFINITY;
    for (uint32_t c = 0; c < k; c++) {
        const double *cc = centers + (size_t)c * d;
        rows_f acc = { 0 };
        for (size_t j = 0; j < d; j++) {
            rows_f t = xt[j] - cc[j];
            rows_f sq = t * t;
            acc += sq;
        }
        /* nearer than the best: the best becomes the second; else maybe the second */
        rows_i nearer = acc < b1;
        rows_i idx = { 0 };
        idx += (int64_t)c;
        if (want_second) {
            rows_i second_nearer = acc < b2;
            b2 = PICK(nearer, b1, PICK(second_nearer, acc, b2));
        }
        b1 = PICK(nearer, acc, b1);
        lab = (idx & nearer) | (lab & ~nearer);
    }
    for (size_t p = 0; p < PERSONA__ROWS; p++) {
        label[p] = (uint32_t)lab[p];
        best[p] = b1[p];
        if (want_second)
            second[p] = b2[p];
    }
}

PERSONA__KERNEL_CLONES
void persona__nearest_rows(const double *const rows[PERSONA__ROWS], const double *centers,
                           uint32_t k, size_t d, uint32_t label[PERSONA__ROWS],
                           double best[PERSONA__ROWS], double second[PERSONA__ROWS])
{
    rows_f xt[PERSONA__ROWS_MAX_D];
    double *side = (double *)xt;
    for (size_t p = 0; p < PERSONA__ROWS; p++)
        for (size_t j = 0; j < d; j++)
            side[j * PERSONA__ROWS + p] = rows[p][j];
    if (second)
        nearest_side((const rows_fu *)xt, centers, k, d, label, best, second, 1);
    else
        nearest_side((const rows_fu *)xt, centers, k, d, label, best, NULL, 0);
}

PERSONA__KERNEL_CLONES
void persona__nearest_side(const double *side, const double *centers, uint32_t k, size_t d,
                           uint32_t label[PERSONA__ROWS], double best[PERSONA__ROWS])
{
    if (d == PERSONA__ROWS) /* unrolled: the coordinates stay in registers */
        nearest_side((const rows_fu *)side, centers, k, PERSONA__ROWS, label, best, NULL, 0);
    else
        nearest_side((const rows_fu *)side, centers, k, d, label, best, NULL, 0);
}
#else
void persona__nearest_rows(const double *const rows[PERSONA__ROWS], const double *centers,
                           uint32_t k, size_t d, uint32_t label[PERSONA__ROWS],
                           double best[PERSONA__ROWS], double second[PERSONA__ROWS])
{
    for (size_t p = 0; p < PERSONA__ROWS; p++) {
        double b1 = INFINITY, b2 = INFINITY;
        uint32_t lab = 0;
        for (uint32_t c = 0; c < k; c++) {
            const double *cc = centers + (size_t)c * d;
            double acc = 0;
            for (size_t j = 0; j < d; j++) {
                double t = rows[p][j] - cc[j];
                double sq = t * t;
                acc += sq;
            }
            if (acc < b1) {
                b2 = b1;
                b1 = acc;
                lab = c;
            } else if (acc < b2) {
                b2 = acc;
            }
        }
        label[p] = lab;
        best[p] = b1;
        if (second)
            second[p] = b2;
    }
}

void persona__nearest_side(const double *side, const double *centers, uint32_t k, size_t d,
                           uint32_t label[PERSONA__ROWS], double best[PERSONA__ROWS])
{
    double x[PERSONA__ROWS][PERSONA__ROWS_MAX_D];
    const double *rows[PERSONA__ROWS];
    for (size_t p = 0; p < PERSONA__ROWS; p++) {
        for (size_t j = 0; j < d; j++)
            x[p][j] = side[j * PERSONA__ROWS + p];
        rows[p] = x[p];
    }
    persona__nearest_rows(rows, centers, k, d, label, best, NULL);
}
#endif
