/* Canary (TESTING §1, §3): leaks 100 blocks of 64 bytes that LeakSanitizer must report at
 * exit. Registered with should_fail: true in suite 'canary', only when b_sanitize has
 * 'address'. The pointers are kept only in a volatile global that is cleared before main
 * returns (a single leaked block can hide in a stale stack slot or register; a hundred
 * cannot), and each block is written so the allocations are used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BLOCKS 100
#define BLOCK_SIZE 64

static void *volatile blocks[N_BLOCKS];

static void leak(void)
{
    for (int i = 0; i < N_BLOCKS; i++) {
        char *p = malloc(BLOCK_SIZE);
        if (p)
            memset(p, i, BLOCK_SIZE);
        blocks[i] = p;
    }
}

static void forget(void)
{
    for (int i = 0; i < N_BLOCKS; i++)
        blocks[i] = NULL;
}

int main(void)
{
    leak();
    unsigned sum = 0;
    for (int i = 0; i < N_BLOCKS; i++)
        if (blocks[i])
            sum += ((unsigned char *)blocks[i])[BLOCK_SIZE - 1];
    forget();
    fprintf(stderr, "canary_leak: leaked %d blocks of %d bytes (checksum %u)\n", N_BLOCKS,
            BLOCK_SIZE, sum);
    return 0;
}
