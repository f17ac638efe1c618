/*
 * tl_error.h - the one error convention shared by every ticklake library.
 *
 * Every fallible function returns int: TL_OK (0) or one of the negative
 * TL_E* codes below, and takes `tl_error *err` as its last argument. err may
 * be NULL. On failure the function that detected the problem fills err->msg
 * with where (file, column, block, byte offset), what was expected and what
 * was found; callers forward it, optionally prefixing context with
 * tl_error_prefix(). err->sys_errno holds errno when a system call failed.
 */
#ifndef TL_ERROR_H
#define TL_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    TL_OK = 0,
    TL_EIO = -1,          /* a system call failed (see sys_errno) */
    TL_ECORRUPT = -2,     /* bytes on disk do not follow the format */
    TL_ECHECKSUM = -3,    /* a checksum did not match */
    TL_EVERSION = -4,     /* unknown or unsupported format version */
    TL_ECONFLICT = -5,    /* a concurrent commit conflicts */
    TL_ENOTFOUND = -6,    /* file, column, version ... does not exist */
    TL_EINVAL = -7,       /* bad argument from the caller */
    TL_ENOMEM = -8,       /* allocation failed */
    TL_EUNSUPPORTED = -9, /* valid but not supported (encoding, feature) */
    TL_EBUSY = -10,       /* resource busy / retry budget exhausted */
};

#define TL_ERROR_MSG_LEN 512

typedef struct tl_error {
    int code;       /* TL_OK or a TL_E* code */
    int sys_errno;  /* errno of the failed system call, else 0 */
    char msg[TL_ERROR_MSG_LEN];
} tl_error;

#if defined(__GNUC__)
#define TL_WUR __attribute__((warn_unused_result))
#define TL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TL_WUR
#define TL_PRINTF(a, b)
#endif

/* Short fixed name of a code ("TL_ECORRUPT: corrupt data"). Never NULL. */
const char *tl_strerror(int code);

/* Set err (if non-NULL) and return code. The message is truncated to fit. */
int tl_error_set(tl_error *err, int code, const char *fmt, ...) TL_PRINTF(3, 4);

/* Like tl_error_set, also records sys_errno and appends strerror(sys_errno). */
int tl_error_sys(tl_error *err, int sys_errno, const char *fmt, ...) TL_PRINTF(3, 4);

/* Prepend context ("path: ") to an existing message; keeps code. */
void tl_error_prefix(tl_error *err, const char *fmt, ...) TL_PRINTF(2, 3);

/* Reset to TL_OK with an empty message. NULL-safe. */
void tl_error_clear(tl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TL_ERROR_H */
