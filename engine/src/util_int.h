/*
 * util_int.h - small internal helpers shared by engine files: growing a
 * reusable scratch buffer, and the exact cents -> double conversion used
 * by the generator's prices and the CSV writer's fast path.
 */
#ifndef TL_UTIL_INT_H
#define TL_UTIL_INT_H

#include "tl_error.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Index of the first byte that breaks UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, at most U+10FFFF), or n if p[0..n) is valid. In
 * log_action.c. */
size_t tl_utf8_bad(const uint8_t *p, size_t n);

/* Make *p (capacity *cap bytes, may be NULL / 0) hold at least need bytes:
 * capacity doubles from 4096, so a buffer reused across batches or blocks
 * is reallocated O(log) times. The contents are kept (realloc). Returns
 * TL_OK, or TL_ENOMEM with *p and *cap unchanged: the caller writes the
 * message, since it knows what the buffer was for. */
TL_WUR static inline int tl_grow(void **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return TL_OK;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    void *q = realloc(*p, n);
    if (!q)
        return TL_ENOMEM;
    *p = q;
    *cap = n;
    return TL_OK;
}

/* x / 100.0, correctly rounded, for an integer x with |x| < 2^31 (cents).
 * With FMA, a reciprocal product corrected by one exact remainder step:
 * equal to the division for every int32 (checked exhaustively), and much
 * cheaper (vectorises); without FMA, the division. */
static inline double tl_cents_to_f64(double x)
{
#ifdef __FMA__
    double q0 = x * 0.01;
    return fma(fma(-q0, 100.0, x), 0.01, q0);
#else
    return x / 100.0;
#endif
}

#endif /* TL_UTIL_INT_H */
