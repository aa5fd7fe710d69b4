/* Fits L2 logistic regression (lambda = 1, scikit-learn's C = 1) on a numeric CSV with a
 * header row and the 0/1 label `y` in the last column (an empty cell is missing), after
 * median imputation and standardisation, and prints the coefficients then the intercept,
 * one per line (%.17g). For test_logistic_reference.py, which compares them with a Newton
 * solve written for the test (tests/data/logistic_reference.csv).
 *
 * usage: logistic_fit_csv FILE.csv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persona.h"
#include "predict/logistic.h"
#include "predict/scaling.h"

static void die(const char *what)
{
    fprintf(stderr, "logistic_fit_csv: %s: %s\n", what, persona_errmsg());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: logistic_fit_csv FILE.csv\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    static char line[1 << 16];
    if (!f || !fgets(line, sizeof line, f)) {
        fprintf(stderr, "logistic_fit_csv: cannot read %s\n", argv[1]);
        return 1;
    }
    size_t cols = 1;
    for (const char *p = line; *p; p++)
        cols += *p == ',';
    size_t d = cols - 1, n = 0, cap = 1024;
    double *x = malloc(cap * d * sizeof *x), *y = malloc(cap * sizeof *y);
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            x = realloc(x, cap * d * sizeof *x);
            y = realloc(y, cap * sizeof *y);
        }
        char *p = line;
        for (size_t j = 0; j < cols; j++) {
            char *end = p;
            double v = *p == ',' || *p == '\n' || *p == '\0' ? NAN : strtod(p, &end);
            if (j < d)
                x[n * d + j] = v;
            else
                y[n] = v;
            p = *end == ',' ? end + 1 : end;
        }
        n++;
    }
    fclose(f);
    persona__scaling sc;
    persona__logit m;
    if (persona__scaling_fit(&sc, x, n, d))
        die("scaling");
    if (persona__logit_fit(&m, x, y, n, d, 1.0))
        die("fit");
    for (size_t j = 0; j < d; j++)
        printf("%.17g\n", m.coef[j]);
    printf("%.17g\n", m.intercept);
    persona__logit_free(&m);
    persona__scaling_free(&sc);
    free(x);
    free(y);
    return 0;
}
