/*
 * enc_buf.c - tlf_buf, the growable byte buffer encoders append to.
 * Invariants: len <= cap; p is NULL iff cap == 0; growth at least doubles
 * so appends are amortised O(1); buffers are meant to be reused (callers
 * reset len and keep the capacity).
 */
#include <stdlib.h>
#include <string.h>

#include "enc.h"

int tlf_buf_reserve(tlf_buf *b, size_t extra, tl_error *err)
{
    if (extra <= b->cap - b->len)
        return TL_OK;
    if (extra > SIZE_MAX - b->len)
        return tl_error_set(err, TL_ENOMEM,
                            "buffer: cannot grow %zu bytes by %zu", b->len, extra);
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return tl_error_set(err, TL_ENOMEM,
                            "buffer: out of memory growing to %zu bytes", cap);
    b->p = p;
    b->cap = cap;
    return TL_OK;
}

int tlf_buf_append(tlf_buf *b, const void *src, size_t len, tl_error *err)
{
    if (len == 0)
        return TL_OK;
    int rc = tlf_buf_reserve(b, len, err);
    if (rc)
        return rc;
    memcpy(b->p + b->len, src, len);
    b->len += len;
    return TL_OK;
}

int tlf_buf_pad(tlf_buf *b, size_t align, tl_error *err)
{
    if (align <= 1)
        return TL_OK;
    size_t pad = (align - b->len % align) % align;
    if (pad == 0)
        return TL_OK;
    int rc = tlf_buf_reserve(b, pad, err);
    if (rc)
        return rc;
    memset(b->p + b->len, 0, pad);
    b->len += pad;
    return TL_OK;
}

void tlf_buf_free(tlf_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
