#include "structs.h"

#include <string.h>

#include "error.h"

static int check_size(uint32_t size, size_t min_size, const char *name)
{
    if (size < min_size || size > PERSONA__STRUCT_MAX)
        return persona__fail(PERSONA_EINVAL,
                             "%s: struct_size not set (got %u, expected at least %zu)", name,
                             size, min_size);
    return PERSONA_OK;
}

int persona__struct_in(void *dst, size_t dst_size, const void *src, size_t min_size,
                       const char *name)
{
    if (!src)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", name);
    uint32_t size;
    memcpy(&size, src, sizeof size);
    int rc = check_size(size, min_size, name);
    if (rc)
        return rc;
    memset(dst, 0, dst_size);
    memcpy(dst, src, size < dst_size ? size : dst_size);
    const unsigned char *tail = (const unsigned char *)src;
    for (size_t i = dst_size; i < size; i++)
        if (tail[i])
            return persona__fail(PERSONA_EUNSUPPORTED,
                                 "%s: byte %zu is set but this library (%s) knows only %zu bytes",
                                 name, i, PERSONA_VERSION_STRING, dst_size);
    memcpy(dst, &size, sizeof size);
    return PERSONA_OK;
}

int persona__struct_out(void *dst, const void *src, size_t src_size, size_t min_size,
                        const char *name)
{
    if (!dst)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", name);
    uint32_t size;
    memcpy(&size, dst, sizeof size);
    int rc = check_size(size, min_size, name);
    if (rc)
        return rc;
    size_t n = size < src_size ? size : src_size;
    memcpy(dst, src, n);
    if (size > src_size)
        memset((char *)dst + src_size, 0, size - src_size);
    memcpy(dst, &size, sizeof size);
    return PERSONA_OK;
}

int persona__struct_init(void *dst, uint32_t struct_size, size_t our_size, size_t min_size,
                         const char *name)
{
    if (!dst)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", name);
    int rc = check_size(struct_size, min_size, name);
    if (rc)
        return rc;
    (void)our_size;
    memset(dst, 0, struct_size);
    memcpy(dst, &struct_size, sizeof struct_size);
    return PERSONA_OK;
}

/* Copy a string into a caller buffer with the EBUFS protocol. */
int persona__copy_out(char *buf, size_t capacity, size_t *out_len, const char *s, size_t len)
{
    if (out_len)
        *out_len = len;
    if (!buf && capacity)
        return persona__fail(PERSONA_EINVAL, "buf is NULL but capacity is %zu", capacity);
    if (capacity <= len) {
        if (capacity)
            buf[0] = '\0';
        return persona__fail(PERSONA_EBUFS, "buffer of %zu bytes is too small: %zu needed",
                             capacity, len + 1);
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return PERSONA_OK;
}
