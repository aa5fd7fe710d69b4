/* Median imputation and standardisation (scaling.h). */
#include "predict/scaling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/exactsum.h"
#include "persona/common.h"
#include "predict/column.h"

void persona__scaling_free(persona__scaling *s)
{
    persona__free(s->median);
    memset(s, 0, sizeof *s);
}

int persona__scaling_fit(persona__scaling *s, double *x, size_t n, size_t d)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n * d; i++)
        if (isinf(x[i]))
            return persona__fail(PERSONA_EINVAL, "row %zu, column %zu: %g is not a finite number",
                                 i / d, i % d, x[i]);
    double *stats = persona__realloc_array(NULL, 3 * d + 1, sizeof *stats);
    double *col = persona__realloc_array(NULL, n + 1, sizeof *col);
    if (!stats || !col) {
        persona__free(stats);
        persona__free(col);
        return persona__fail_nomem();
    }
    s->d = d;
    s->median = stats;
    s->mean = stats + d;
    s->scale = stats + 2 * d;
    for (size_t j = 0; j < d; j++) {
        size_t k = persona__sorted_column(col, x, n, d, j);
        double med = k == 0 ? 0 : k % 2 ? col[k / 2] : (col[k / 2 - 1] + col[k / 2]) / 2;
        /* exact sums: the mean and variance do not depend on the rows' order */
        persona__exactsum sum, sq;
        persona__exactsum_init(&sum);
        persona__exactsum_init(&sq);
        for (size_t i = 0; i < n; i++) {
            double *v = &x[i * d + j];
            if (isnan(*v))
                *v = med;
            persona__exactsum_add(&sum, *v);
        }
        double mean = n ? persona__exactsum_value(&sum) / (double)n : 0;
        for (size_t i = 0; i < n; i++) {
            double dv = x[i * d + j] - mean;
            persona__exactsum_add(&sq, dv * dv);
        }
        double sd = n ? sqrt(persona__exactsum_value(&sq) / (double)n) : 0;
        s->median[j] = med;
        s->mean[j] = mean;
        s->scale[j] = sd > 0 ? sd : 1;
        for (size_t i = 0; i < n; i++)
            x[i * d + j] = (x[i * d + j] - mean) / s->scale[j];
    }
    persona__free(col);
    return PERSONA_OK;
}

void persona__scaling_apply(const persona__scaling *s, double *row)
{
    for (size_t j = 0; j < s->d; j++) {
        double v = isnan(row[j]) ? s->median[j] : row[j];
        row[j] = (v - s->mean[j]) / s->scale[j];
    }
}
