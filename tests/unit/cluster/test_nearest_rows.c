/* The many-points kernel of k-means' assignment (lib/cluster/nearest_rows.h) against a
 * plain loop over the centres written here: the same label (the lowest index among equal
 * distances), the same bits of the nearest and second nearest squared distance, for every
 * dimension count the kernel takes, one to many centres, repeated rows, duplicate centres
 * (ties), points on a centre, and the side-by-side entry point.
 *
 * usage: test_nearest_rows */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cluster/nearest_rows.h"
#include "km_test.h"

/* the nearest centre, its squared distance and the least of the others, one at a time */
static void brute(const double *x, const double *c, uint32_t k, size_t d, uint32_t *label,
                  double *best, double *second)
{
    *label = 0;
    *best = *second = INFINITY;
    for (uint32_t q = 0; q < k; q++) {
        double s = 0;
        for (size_t j = 0; j < d; j++) {
            double t = x[j] - c[(size_t)q * d + j];
            double sq = t * t;
            s += sq;
        }
        if (s < *best) {
            *second = *best;
            *best = s;
            *label = q;
        } else if (s < *second) {
            *second = s;
        }
    }
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void check_points(const double *const rows[PERSONA__ROWS], const double *c, uint32_t k,
                         size_t d)
{
    uint32_t label[PERSONA__ROWS], label2[PERSONA__ROWS];
    double best[PERSONA__ROWS], second[PERSONA__ROWS], best2[PERSONA__ROWS];
    double side[PERSONA__ROWS * PERSONA__ROWS_MAX_D];
    persona__nearest_rows(rows, c, k, d, label, best, second);
    for (size_t p = 0; p < PERSONA__ROWS; p++)
        for (size_t j = 0; j < d; j++)
            side[j * PERSONA__ROWS + p] = rows[p][j];
    persona__nearest_side(side, c, k, d, label2, best2);
    for (size_t p = 0; p < PERSONA__ROWS; p++) {
        uint32_t el;
        double eb, es;
        brute(rows[p], c, k, d, &el, &eb, &es);
        CHECK(label[p] == el && label2[p] == el);
        CHECK(same_bits(best[p], eb) && same_bits(best2[p], eb));
        CHECK(same_bits(second[p], es));
        if (label[p] != el || !same_bits(second[p], es))
            fprintf(stderr, "d %zu k %u point %zu: label %u (want %u), second %.17g (want %.17g)\n",
                    d, k, p, label[p], el, second[p], es);
    }
}

static void test_random(void)
{
    static const uint32_t ks[] = { 1, 2, 3, 7, 8, 9, 16, 33, 100 };
    for (size_t d = 1; d <= PERSONA__ROWS_MAX_D; d += d < 10 ? 1 : 9) {
        for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
            uint32_t k = ks[ki];
            double *c = blobs(k, d, 3, 4.0);
            double *x = blobs(4 * PERSONA__ROWS, d, 3, 4.0);
            for (int trial = 0; trial < 4; trial++) {
                const double *rows[PERSONA__ROWS];
                for (size_t p = 0; p < PERSONA__ROWS; p++)
                    rows[p] = x + (size_t)(uniform() * 4 * PERSONA__ROWS) * d;
                check_points(rows, c, k, d);
            }
            free(c);
            free(x);
        }
    }
}

/* Equal distances: the lowest index wins and the second nearest equals the nearest. */
static void test_ties(void)
{
    enum { D = 5, K = 6 };
    double c[K * D];
    for (size_t q = 0; q < K; q++)
        for (size_t j = 0; j < D; j++)
            c[q * D + j] = (double)(q % 3) + 0.25 * (double)j; /* centres 0-2 repeat as 3-5 */
    double x[PERSONA__ROWS * D];
    const double *rows[PERSONA__ROWS];
    for (size_t p = 0; p < PERSONA__ROWS; p++) {
        for (size_t j = 0; j < D; j++) /* on a centre, or halfway between two */
            x[p * D + j] = p < 3 ? c[p * D + j] : 0.5 * (double)(p % 3) + 0.25 * (double)j;
        rows[p] = x + p * D;
    }
    check_points(rows, c, K, D);
    uint32_t label[PERSONA__ROWS];
    double best[PERSONA__ROWS], second[PERSONA__ROWS];
    persona__nearest_rows(rows, c, K, D, label, best, second);
    CHECK(label[0] == 0 && label[1] == 1 && label[2] == 2);
    CHECK(best[0] == 0 && second[0] == 0); /* its twin, centre 3 */
    CHECK(label[4] == 0 && best[4] == second[4]); /* halfway between 0 and 1 (and 3, 4) */
    /* one centre: no second */
    persona__nearest_rows(rows, c, 1, D, label, best, second);
    for (size_t p = 0; p < PERSONA__ROWS; p++)
        CHECK(label[p] == 0 && isinf(second[p]));
}

int main(void)
{
    test_random();
    test_ties();
    return check_report("test_nearest_rows");
}
