/* Attribution benchmark: N synthetic journeys over C channels (default 1,000,000 and 20),
 * generated here with the shared seeded generator: channel popularity falls off
 * geometrically, lengths 1 … 12 (geometric, mean ~3), repeats common; a journey converts
 * with a probability that grows with the channels it saw (value 10 … 200), else it is a
 * null. Timed (median of R runs, seconds): aggregating the journeys
 * (persona_attribution_from_journeys), the Markov removal effect of order 1, 2 and 3, and
 * every heuristic model. Prints the set's sizes and the Markov credits of order 1, so that
 * another implementation can be compared on the same data (--dump FILE writes the journeys
 * as text: "conversions value nulls c1 c2 …" per line).
 *
 * usage: bench_attribution [N] [C] [R] [--dump FILE] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

static const char *prog = "bench_attribution";

int main(int argc, char **argv)
{
    size_t n = 1000000, C = 20, R = 3;
    const char *dump = NULL;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump = argv[++i];
        else if (pos == 0 && ++pos)
            n = strtoull(argv[i], NULL, 10);
        else if (pos == 1 && ++pos)
            C = strtoull(argv[i], NULL, 10);
        else
            R = strtoull(argv[i], NULL, 10);
    }
    if (C < 2 || C > 200 || !n || !R) {
        fprintf(stderr, "usage: bench_attribution [N] [C (2..200)] [R] [--dump FILE]\n");
        return 2;
    }
    char (*names)[8] = malloc(C * sizeof *names);
    const char **np = malloc(C * sizeof *np);
    uint64_t *off = malloc((n + 1) * sizeof *off), *conv = malloc(n * sizeof *conv),
             *nulls = malloc(n * sizeof *nulls);
    double *value = malloc(n * sizeof *value);
    size_t cap = 4 * n;
    uint32_t *touch = malloc(cap * sizeof *touch);
    int64_t *ages = malloc(cap * sizeof *ages);
    if (!names || !np || !off || !conv || !nulls || !value || !touch || !ages)
        return 1;
    for (size_t c = 0; c < C; c++) {
        snprintf(names[c], sizeof names[c], "ch%02zu", c);
        np[c] = names[c];
    }
    off[0] = 0;
    for (size_t j = 0; j < n; j++) {
        size_t len = 1;
        while (len < 12 && bench_next_unit() < 0.62)
            len++;
        if (off[j] + len > cap) {
            cap *= 2;
            touch = realloc(touch, cap * sizeof *touch);
            ages = realloc(ages, cap * sizeof *ages);
            if (!touch || !ages)
                return 1;
        }
        double p = 0.05;
        for (size_t k = 0; k < len; k++) {
            size_t c = 0;
            while (c + 1 < C && bench_next_unit() < 0.75)
                c++;
            touch[off[j] + k] = (uint32_t)c;
            ages[off[j] + k] = (int64_t)(len - k) * 3600000 * (int64_t)(1 + bench_next_u64() % 48);
            p += 0.02 * (double)(c % 5);
        }
        off[j + 1] = off[j] + len;
        int converts = bench_next_unit() < p;
        conv[j] = (uint64_t)converts;
        nulls[j] = (uint64_t)!converts;
        value[j] = converts ? 10 + (double)(bench_next_u64() % 191) : 0;
    }
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (!f)
            return 1;
        for (size_t j = 0; j < n; j++) {
            fprintf(f, "%llu %.17g %llu", (unsigned long long)conv[j], value[j],
                    (unsigned long long)nulls[j]);
            for (uint64_t k = off[j]; k < off[j + 1]; k++)
                fprintf(f, " %u", touch[k]);
            fputc('\n', f);
        }
        fclose(f);
    }
    persona_attribution_journeys in = PERSONA_ATTRIBUTION_JOURNEYS_INIT;
    in.channels = np;
    in.n_channels = C;
    in.n_journeys = n;
    in.offsets = off;
    in.touch_channels = touch;
    in.conversions = conv;
    in.values = value;
    in.nulls = nulls;
    in.touch_ages_ms = ages;
    double *t = malloc(R * sizeof *t);
    persona_attribution *a = NULL;
    for (size_t r = 0; r < R; r++) {
        persona_attribution_free(a);
        a = NULL;
        double t0 = bench_now();
        if (persona_attribution_from_journeys(&a, &in))
            bench_fail(prog, "from_journeys");
        t[r] = bench_now() - t0;
    }
    persona_attribution_info info = PERSONA_ATTRIBUTION_INFO_INIT;
    persona_attribution_info_get(&info, a);
    printf("journeys %zu, channels %llu, distinct paths %llu, touchpoints %llu, conversions %llu\n",
           n, (unsigned long long)info.channels, (unsigned long long)info.paths,
           (unsigned long long)info.touchpoints, (unsigned long long)info.conversions);
    printf("aggregate journeys (from_journeys): %.3f s\n", bench_median(t, R));
    static const char *const model_names[] = { "markov", "first", "last", "linear", "position",
                                               "decay" };
    double *credit = malloc(C * sizeof *credit), *re = malloc(C * sizeof *re);
    for (int32_t m = 0; m < PERSONA_ATTRIBUTION_MODELS; m++)
        for (int32_t k = 1; k <= (m ? 1 : 3); k++) {
            persona_attribution_model_options o = PERSONA_ATTRIBUTION_MODEL_OPTIONS_INIT;
            o.model = m;
            o.order = k;
            for (size_t r = 0; r < R; r++) {
                double t0 = bench_now();
                if (persona_attribution_compute(credit, NULL, re, NULL, C, NULL, a, &o))
                    bench_fail(prog, "compute");
                t[r] = bench_now() - t0;
            }
            if (m == 0)
                printf("markov order %d: %.3f s\n", k, bench_median(t, R));
            else
                printf("%s: %.3f s\n", model_names[m], bench_median(t, R));
            if (m == 0 && k == 1) {
                printf("  order-1 credits:");
                for (size_t c = 0; c < C; c++)
                    printf(" %.6f", credit[c]);
                printf("\n");
            }
        }
    persona_attribution_free(a);
    free(credit);
    free(re);
    free(t);
    free(names);
    free(np);
    free(off);
    free(conv);
    free(nulls);
    free(value);
    free(touch);
    free(ages);
    return 0;
}
