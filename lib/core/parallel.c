#include "parallel.h"

#include <pthread.h>
#include <unistd.h>

int persona__threads(int want)
{
    if (want <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        want = n > 0 && n < PERSONA__MAX_THREADS ? (int)n : n > 0 ? PERSONA__MAX_THREADS : 1;
    }
    return want < PERSONA__MAX_THREADS ? want : PERSONA__MAX_THREADS;
}

typedef struct part {
    void (*fn)(void *ctx, int i);
    void *ctx;
    int i;
} part;

static void *run_part(void *arg)
{
    part *p = arg;
    p->fn(p->ctx, p->i);
    return NULL;
}

void persona__parallel_run(int n, void (*fn)(void *ctx, int i), void *ctx)
{
    pthread_t tid[PERSONA__MAX_THREADS];
    part parts[PERSONA__MAX_THREADS];
    int started[PERSONA__MAX_THREADS] = {0};
    if (n > PERSONA__MAX_THREADS)
        n = PERSONA__MAX_THREADS;
    for (int i = 1; i < n; i++) {
        parts[i] = (part){fn, ctx, i};
        started[i] = pthread_create(&tid[i], NULL, run_part, &parts[i]) == 0;
    }
    fn(ctx, 0);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            fn(ctx, i);
    }
}
