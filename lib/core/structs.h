/* Validation of caller-filled and library-filled structs that begin with struct_size
 * (CONVENTIONS §5): old callers send a shorter struct (missing tail = zeros = defaults),
 * newer callers a longer one whose unknown tail must be zero. */
#ifndef PERSONA_CORE_STRUCTS_H
#define PERSONA_CORE_STRUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "persona/common.h"

#define PERSONA__STRUCT_MAX 4096u

/* Copy a caller-filled struct `src` into the zeroed internal `dst` of dst_size bytes.
 * min_size is the first released size. Returns PERSONA_OK, EINVAL (NULL, struct_size
 * unset or out of range) or EUNSUPPORTED (non-zero bytes beyond dst_size). */
int persona__struct_in(void *dst, size_t dst_size, const void *src, size_t min_size,
                       const char *name);

/* Copy a library-filled struct `src` (src_size bytes, its own struct_size ignored) into
 * the caller's `dst`, writing only as many bytes as dst->struct_size says and keeping it. */
int persona__struct_out(void *dst, const void *src, size_t src_size, size_t min_size,
                        const char *name);

/* For persona_*_init(ptr, struct_size): zero the caller's struct and set struct_size;
 * fails like struct_in when the size is out of range. */
int persona__struct_init(void *dst, uint32_t struct_size, size_t our_size, size_t min_size,
                         const char *name);

/* Copy string s (len bytes) into a caller buffer with the EBUFS protocol (CONVENTIONS §7):
 * *out_len = len always; NUL-terminated when it fits; EBUFS (buf[0] = NUL) when not. */
int persona__copy_out(char *buf, size_t capacity, size_t *out_len, const char *s, size_t len);

/* Defines the public persona_<type>_init(ptr, struct_size) of a struct: zeroed with
 * struct_size set, for bindings that cannot use the _INIT macros. */
#define PERSONA__DEFINE_INIT(type, fn)                                                      \
    PERSONA_API int fn(type *ptr, uint32_t struct_size)                                     \
    {                                                                                        \
        return persona__struct_init(ptr, struct_size, sizeof *ptr, sizeof *ptr, #type);     \
    }

#endif
