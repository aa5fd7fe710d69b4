#include "failalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "persona/common.h"

static atomic_uint_fast64_t live, calls, countdown;
static atomic_int armed, mode_from_n, injected;
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *sites[4096];
static size_t n_sites;
static const char *last_site;

static void note_site(void)
{
    const char *s = persona__alloc_site();
    if (!s)
        return;
    pthread_mutex_lock(&sites_lock);
    last_site = s;
    size_t i = 0;
    for (; i < n_sites; i++)
        if (sites[i] == s || strcmp(sites[i], s) == 0)
            break;
    if (i == n_sites && n_sites < sizeof sites / sizeof *sites)
        sites[n_sites++] = s;
    pthread_mutex_unlock(&sites_lock);
}

static int should_fail(void)
{
    atomic_fetch_add(&calls, 1);
    note_site();
    if (!atomic_load(&armed))
        return 0;
    uint64_t left = atomic_load(&countdown);
    if (left > 1) {
        atomic_store(&countdown, left - 1);
        return 0;
    }
    if (!atomic_load(&mode_from_n))
        atomic_store(&armed, 0);
    atomic_store(&injected, 1);
    return 1;
}

static void *fa_allocate(void *ctx, size_t size)
{
    (void)ctx;
    if (should_fail())
        return NULL;
    void *p = malloc(size);
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

static void *fa_reallocate(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (should_fail())
        return NULL;
    return realloc(ptr, size);
}

static void fa_deallocate(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
    atomic_fetch_sub(&live, 1);
}

void failalloc_install(void)
{
    persona_allocator a = { sizeof a, 0, NULL, fa_allocate, fa_reallocate, fa_deallocate };
    if (persona_set_allocator(&a) != PERSONA_OK) {
        fprintf(stderr, "failalloc: cannot install: %s\n", persona_errmsg());
        exit(1);
    }
}

void failalloc_arm(uint64_t n, int mode)
{
    atomic_store(&countdown, n);
    atomic_store(&mode_from_n, mode == FAILALLOC_FROM_N);
    atomic_store(&injected, 0);
    atomic_store(&armed, 1);
}

int failalloc_disarm(void)
{
    atomic_store(&armed, 0);
    return atomic_load(&injected);
}

uint64_t failalloc_live(void)
{
    return atomic_load(&live);
}

uint64_t failalloc_calls(void)
{
    return atomic_load(&calls);
}

const char *failalloc_last_site(void)
{
    return last_site ? last_site : "?";
}

size_t failalloc_sites_seen(void)
{
    return n_sites;
}

void failalloc_dump_sites(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (size_t i = 0; i < n_sites; i++)
        fprintf(f, "%s\n", sites[i]);
    fclose(f);
}
