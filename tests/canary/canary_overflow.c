/* Canary (TESTING §1, §3): a signed int overflow that UndefinedBehaviorSanitizer must
 * stop. Registered with should_fail: true in suite 'canary', only when b_sanitize has
 * 'undefined'. UBSan only prints by default and the program then exits 0, which fails this
 * test: it passes only when the build uses -fno-sanitize-recover=all or the test setup sets
 * UBSAN_OPTIONS=halt_on_error=1. The operand comes through a volatile and the result is
 * printed, so the addition cannot be folded or deleted. */
#include <limits.h>
#include <stdio.h>

static volatile int operand = INT_MAX;

int main(void)
{
    int x = operand;
    int sum = x + 1; /* INT_MAX + 1: undefined */
    fprintf(stderr, "canary_overflow: INT_MAX + 1 gave %d and was not stopped\n", sum);
    return 0;
}
