/* Running one job on a few threads (POSIX threads; OpenMP stays optional). Builders split
 * their work so that each part's result does not depend on how many parts there are, and
 * combine the parts in a fixed order: the result is the same for any thread count. */
#ifndef PERSONA_CORE_PARALLEL_H
#define PERSONA_CORE_PARALLEL_H

#define PERSONA__MAX_THREADS 8

/* Threads to use for a request of `want` (0 = the machine's online CPUs), capped at
 * PERSONA__MAX_THREADS. */
int persona__threads(int want);
/* Run fn(ctx, i) for i = 0 … n-1, part 0 on the calling thread, the others on new threads
 * (a part whose thread cannot be started runs on the calling thread afterwards), and
 * return when all are done. */
void persona__parallel_run(int n, void (*fn)(void *ctx, int i), void *ctx);

#endif
