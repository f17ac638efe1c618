/*
 * error.c - the tl_error convention (see tl_error.h): one table of code
 * names, message setters that never overflow err->msg and accept err == NULL.
 */
#include "tl_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *tl_strerror(int code)
{
    switch (code) {
    case TL_OK: return "TL_OK: success";
    case TL_EIO: return "TL_EIO: I/O error";
    case TL_ECORRUPT: return "TL_ECORRUPT: corrupt data";
    case TL_ECHECKSUM: return "TL_ECHECKSUM: checksum mismatch";
    case TL_EVERSION: return "TL_EVERSION: unsupported format version";
    case TL_ECONFLICT: return "TL_ECONFLICT: conflicting concurrent commit";
    case TL_ENOTFOUND: return "TL_ENOTFOUND: not found";
    case TL_EINVAL: return "TL_EINVAL: invalid argument";
    case TL_ENOMEM: return "TL_ENOMEM: out of memory";
    case TL_EUNSUPPORTED: return "TL_EUNSUPPORTED: not supported";
    case TL_EBUSY: return "TL_EBUSY: busy";
    default: return "unknown error code";
    }
}

static void vset(tl_error *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    err->sys_errno = 0;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int tl_error_set(tl_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, code, fmt, ap);
        va_end(ap);
    }
    return code;
}

int tl_error_sys(tl_error *err, int sys_errno, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, TL_EIO, fmt, ap);
        va_end(ap);
        err->sys_errno = sys_errno;
        size_t n = strlen(err->msg);
        if (n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(sys_errno));
    }
    return TL_EIO;
}

void tl_error_prefix(tl_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char pre[TL_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    /* Assemble pre + old message, truncating at the buffer's end. */
    char old[TL_ERROR_MSG_LEN];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t np = strlen(pre), no = strlen(old), cap = sizeof err->msg - 1;
    if (np > cap)
        np = cap;
    if (no > cap - np)
        no = cap - np;
    memcpy(err->msg, pre, np);
    memcpy(err->msg + np, old, no);
    err->msg[np + no] = '\0';
}

void tl_error_clear(tl_error *err)
{
    if (err) {
        err->code = TL_OK;
        err->sys_errno = 0;
        err->msg[0] = '\0';
    }
}
