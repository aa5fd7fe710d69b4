#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "error.h"
#include "structs.h"

static void *libc_allocate(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void *libc_reallocate(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}

static void libc_deallocate(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static const persona_allocator libc_allocator = {
    sizeof(persona_allocator), 0, NULL, libc_allocate, libc_reallocate, libc_deallocate,
};

/* The hook is read on every allocation and written only while no block is live, so a
 * plain struct guarded by the live count is enough; the counter itself is atomic. */
static persona_allocator current = {
    sizeof(persona_allocator), 0, NULL, libc_allocate, libc_reallocate, libc_deallocate,
};
static atomic_uint_fast64_t live_blocks;
static _Thread_local const char *current_site;

const char *persona__alloc_site(void)
{
    return current_site;
}

uint64_t persona__alloc_live(void)
{
    return (uint64_t)atomic_load(&live_blocks);
}

void *persona__alloc_at(size_t size, const char *site)
{
    current_site = site;
    void *p = current.allocate(current.ctx, size ? size : 1);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *persona__calloc_at(size_t count, size_t size, const char *site)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = persona__alloc_at(count * size, site);
    if (p)
        memset(p, 0, count * size > 0 ? count * size : 1);
    return p;
}

void *persona__realloc_at(void *ptr, size_t size, const char *site)
{
    if (!ptr)
        return persona__alloc_at(size, site);
    current_site = site;
    return current.reallocate(current.ctx, ptr, size ? size : 1);
}

void *persona__realloc_array_at(void *ptr, size_t count, size_t size, const char *site)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return persona__realloc_at(ptr, count * size, site);
}

char *persona__strndup_at(const char *s, size_t len, const char *site)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = persona__alloc_at(len + 1, site);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void persona__free(void *ptr)
{
    if (!ptr)
        return;
    current.deallocate(current.ctx, ptr);
    atomic_fetch_sub(&live_blocks, 1);
}

int persona__grow_at(void **ptr, size_t *cap, size_t need, size_t elem_size, size_t min_cap,
                     const char *site)
{
    if (need <= *cap)
        return 0;
    /* Grow by half: amortized O(1) appends, and at most a third of a big array unused
     * (doubling would leave up to half, which is what profile memory is measured on). */
    size_t n = *cap ? *cap : min_cap;
    while (n < need) {
        if (n > SIZE_MAX / 3 * 2)
            return -1;
        n += n / 2 + 1;
    }
    void *p = persona__realloc_array_at(*ptr, n, elem_size, site);
    if (!p)
        return -1;
    *ptr = p;
    *cap = n;
    return 0;
}

void persona__prefault(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = 4096;
    uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(page - 1);
#ifdef MADV_HUGEPAGE
    /* Arrays of megabytes (a build's scatter targets) in huge pages where the system
     * offers them on request: one fault and one TLB entry per 2 MB instead of 512. Random
     * writes over tens of megabytes miss the TLB less, and on virtual machines where each
     * page's first touch exits to the hypervisor (even after MADV_POPULATE_WRITE) the
     * first pass over 75 MB measured 130 ms with 4 KB pages and 10 ms with 2 MB ones. */
    if (end - start >= ((uintptr_t)2 << 20))
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#endif
    if (end > start + 16 * page) /* only worth a system call for larger ranges */
        (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}

PERSONA_API void persona_free(void *ptr)
{
    persona__free(ptr);
}

PERSONA__DEFINE_INIT(persona_allocator, persona_allocator_init)

PERSONA_API int persona_set_allocator(const persona_allocator *allocator)
{
    persona_allocator a = libc_allocator;
    if (allocator) {
        int rc = persona__struct_in(&a, sizeof a, allocator, 8 + 4 * sizeof(void *),
                                    "persona_allocator");
        if (rc)
            return rc;
        if (!a.allocate || !a.reallocate || !a.deallocate)
            return persona__fail(PERSONA_EINVAL,
                                 "persona_allocator: allocate, reallocate and deallocate are required");
    }
    if (atomic_load(&live_blocks) != 0)
        return persona__fail(PERSONA_EBUSY,
                             "cannot change the allocator: %llu libpersona blocks are still live",
                             (unsigned long long)atomic_load(&live_blocks));
    current = a;
    return PERSONA_OK;
}
