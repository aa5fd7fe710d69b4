/* Canary (TESTING §1, §7) for the `valgrind` test setup: a branch on uninitialized heap
 * memory and 100 definitely lost blocks, which `valgrind --error-exitcode=1` must turn
 * into a failure. Registered with should_fail: true in suite 'canary-valgrind' (the
 * setup excludes suite 'canary', whose sanitizer canaries valgrind cannot see), and only
 * in builds without sanitizers. Not under valgrind it exits 77 (skip), so plain
 * `meson test` is unaffected; under valgrind an exit 0 means the setup lost its
 * --error-exitcode or leak options. Valgrind is detected by its preload library in
 * LD_PRELOAD (no valgrind headers needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BLOCKS 100
#define BLOCK_SIZE 64

static void *volatile blocks[N_BLOCKS];

static int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload") != NULL;
}

int main(void)
{
    if (!under_valgrind()) {
        fprintf(stderr, "canary_valgrind: not running under valgrind; skipping\n");
        return 77;
    }
    /* Uninitialized read that decides a branch and the exit path. */
    int *volatile uninit = malloc(sizeof(int));
    if (!uninit)
        return 0;
    int branch = *uninit > 0 ? 1 : 2;
    free(uninit);
    /* Definite leaks: the only pointers are cleared. */
    for (int i = 0; i < N_BLOCKS; i++) {
        char *p = malloc(BLOCK_SIZE);
        if (p)
            memset(p, i, BLOCK_SIZE);
        blocks[i] = p;
    }
    for (int i = 0; i < N_BLOCKS; i++)
        blocks[i] = NULL;
    fprintf(stderr, "canary_valgrind: branch %d on uninitialized memory, %d blocks leaked\n",
            branch, N_BLOCKS);
    return 0;
}
