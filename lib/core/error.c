#include "error.h"

#include <stdio.h>
#include <string.h>

#define MSG_CAP 512

static _Thread_local int last_code;
static _Thread_local char last_msg[MSG_CAP];
static _Thread_local uint64_t last_line, last_column;
static _Thread_local int last_has_position;

int persona__vfail_at(int code, uint64_t line, uint64_t column, const char *fmt, va_list ap)
{
    last_code = code;
    int n = vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    if (n < 0)
        last_msg[0] = '\0';
    /* Never leave a truncated UTF-8 sequence at the end of the message. */
    if (n >= (int)sizeof last_msg) {
        size_t end = sizeof last_msg - 1;
        while (end > 0 && ((unsigned char)last_msg[end - 1] & 0xC0) == 0x80)
            end--;
        if (end > 0 && ((unsigned char)last_msg[end - 1] & 0x80))
            end--;
        last_msg[end] = '\0';
    }
    last_line = line;
    last_column = column;
    last_has_position = line != 0;
    return code;
}

int persona__fail_at(int code, uint64_t line, uint64_t column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    persona__vfail_at(code, line, column, fmt, ap);
    va_end(ap);
    return code;
}

int persona__fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    persona__vfail_at(code, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

int persona__fail_nomem(void)
{
    return persona__fail(PERSONA_ENOMEM, "out of memory");
}

PERSONA_API int persona_errcode(void)
{
    return last_code;
}

PERSONA_API const char *persona_errmsg(void)
{
    return last_msg;
}

PERSONA_API int persona_error_position(uint64_t *line_out, uint64_t *column_out)
{
    if (line_out)
        *line_out = last_has_position ? last_line : 0;
    if (column_out)
        *column_out = last_has_position ? last_column : 0;
    return last_has_position ? PERSONA_OK : PERSONA_ENOTFOUND;
}

PERSONA_API const char *persona_strerror(int code)
{
    switch (code) {
    case PERSONA_OK: return "success";
    case PERSONA_EINVAL: return "invalid argument";
    case PERSONA_ENOMEM: return "out of memory";
    case PERSONA_EBUFS: return "buffer too small";
    case PERSONA_ENOTFOUND: return "not found";
    case PERSONA_EPARSE: return "parse error";
    case PERSONA_EIO: return "input/output error";
    case PERSONA_ECORRUPT: return "corrupt data";
    case PERSONA_EVERSION: return "unsupported version";
    case PERSONA_EUNSUPPORTED: return "unsupported feature";
    case PERSONA_EBUSY: return "busy: objects still live";
    case PERSONA_ECALLBACK: return "callback failed";
    case PERSONA_EMISUSE: return "API misuse";
    case PERSONA_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}
