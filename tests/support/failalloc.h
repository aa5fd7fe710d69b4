/* A test allocator for persona_set_allocator(): counts live blocks and fails the N-th
 * request, once or from N on, remembering the lib/ call site it failed (TESTING.md §5). */
#ifndef PERSONA_TEST_FAILALLOC_H
#define PERSONA_TEST_FAILALLOC_H

#include <stddef.h>
#include <stdint.h>

#define FAILALLOC_ONCE 0
#define FAILALLOC_FROM_N 1

/* Install the allocator (once, before any libpersona object exists). */
void failalloc_install(void);
/* Fail the n-th allocation from now (1-based) in the given mode. */
void failalloc_arm(uint64_t n, int mode);
/* Stop failing; returns 1 if a failure was injected since arm. */
int failalloc_disarm(void);
uint64_t failalloc_live(void);
uint64_t failalloc_calls(void);
/* Call sites (lib/ file:line) that allocated or were failed, for the coverage figure. */
const char *failalloc_last_site(void);
/* Number of distinct call sites seen since install. */
size_t failalloc_sites_seen(void);
/* Print the sites seen, one per line, to a file (for the reached/total figure). */
void failalloc_dump_sites(const char *path);

#endif
