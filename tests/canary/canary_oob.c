/* Canary (TESTING §1, §3): a heap out-of-bounds write that AddressSanitizer must catch.
 * Registered with should_fail: true in suite 'canary', only when b_sanitize has 'address'.
 * If this program exits 0, the sanitizer setup is broken (not compiled in, or errors not
 * fatal). The index comes through a volatile and the written byte is read back and used,
 * so the optimizer cannot delete the write. */
#include <stdio.h>
#include <stdlib.h>

static volatile size_t index_past_end = 16;

int main(void)
{
    char *volatile block = malloc(16);
    if (!block)
        return 0;
    size_t i = index_past_end;
    block[i] = 'x'; /* one byte past the 16-byte block */
    int used = block[i];
    fprintf(stderr, "canary_oob: wrote %d past the end and was not stopped\n", used);
    free(block);
    return 0;
}
