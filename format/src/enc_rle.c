/*
 * enc_rle.c - RLE of fixed-width values (w in {1,2,4,8}); runs are found by
 * comparing bit patterns, so -0.0 != 0.0 and equal NaNs form one run.
 *
 * Payload:
 *   off 0   u32  n_runs (0 iff n = 0; at most n)
 *   off 4   u32  reserved, zero
 *   off 8        values: n_runs*w bytes, zero padding to a multiple of 8
 *           u32  ends[n_runs]: cumulative exclusive end row of each run,
 *                strictly increasing, ends[n_runs-1] = n
 * Exactly 8 + pad8(n_runs*w) + 4*n_runs bytes. Decoders reject nonzero
 * reserved or padding bytes. The ends of an 8-byte-aligned payload are
 * 4-byte aligned (tlf_rle_view relies on it).
 */
#include <string.h>

#include "enc_priv.h"

static int valid_w(unsigned w) { return w == 1 || w == 2 || w == 4 || w == 8; }

uint32_t tlf_rle_count_runs(const void *v, uint32_t n, unsigned w)
{
    if (n == 0)
        return 0;
    uint32_t r = 1;
#define C(T) do { const T *s = v; \
        for (uint32_t i = 1; i < n; i++) r += s[i] != s[i - 1]; } while (0)
    switch (w) {
    case 1: C(uint8_t); break;
    case 2: C(uint16_t); break;
    case 4: C(uint32_t); break;
    default: C(uint64_t); break;
    }
#undef C
    return r;
}

size_t tlf_rle_size(uint32_t n_runs, unsigned w)
{
    return (size_t)(8 + tlf_pad8((uint64_t)n_runs * w) + 4 * (uint64_t)n_runs);
}

int tlf_rle_encode(const void *v, uint32_t n, unsigned w, tlf_buf *out,
                   tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "rle: value width %u, expected 1, 2, 4 or 8", w);
    uint32_t nr = tlf_rle_count_runs(v, n, w);
    size_t total = tlf_rle_size(nr, w);
    int rc = tlf_buf_reserve(out, total, err);
    if (rc)
        return rc;
    uint8_t *p = out->p + out->len;
    size_t vpad = (size_t)tlf_pad8((uint64_t)nr * w);
    memset(p, 0, 8 + vpad);
    tlf_st32(p, nr);
    uint8_t *vals = p + 8, *ends = p + 8 + vpad;
#define E(T) do { const T *s = v; T cur = s[0]; uint32_t r = 0; \
        for (uint32_t i = 1; i < n; i++) { \
            if (s[i] != cur) { memcpy(vals + (size_t)r * sizeof(T), &cur, sizeof(T)); \
                               tlf_st32(ends + 4 * (size_t)r, i); r++; cur = s[i]; } } \
        memcpy(vals + (size_t)r * sizeof(T), &cur, sizeof(T)); \
        tlf_st32(ends + 4 * (size_t)r, n); } while (0)
    if (n > 0) {
        switch (w) {
        case 1: E(uint8_t); break;
        case 2: E(uint16_t); break;
        case 4: E(uint32_t); break;
        default: E(uint64_t); break;
        }
    }
#undef E
    out->len += total;
    return TL_OK;
}

int tlf_rle_parse(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                  const char *what, size_t off0, tlf_rle_hdr *h, tl_error *err)
{
    if (len < 8)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected at least the 8-byte header",
                            what, len);
    uint32_t nr = tlf_ld32(src), res = tlf_ld32(src + 4);
    if (n == 0 && nr != 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: run count at payload offset %zu is %u, expected 0 for 0 values",
                            what, off0, nr);
    if (n > 0 && (nr == 0 || nr > n))
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: run count at payload offset %zu is %u, expected 1 .. %u",
                            what, off0, nr, n);
    if (res)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: reserved field at payload offset %zu is 0x%08x, expected 0",
                            what, off0 + 4, res);
    uint64_t vb = (uint64_t)nr * w, vpad = tlf_pad8(vb);
    uint64_t exp = 8 + vpad + 4 * (uint64_t)nr;
    if (len != exp)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected 8 + %llu + %llu = %llu for %u runs of %u-byte values",
                            what, len, (unsigned long long)vpad,
                            (unsigned long long)(4 * (uint64_t)nr),
                            (unsigned long long)exp, nr, w);
    for (uint64_t i = 8 + vb; i < 8 + vpad; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: padding byte at payload offset %llu is 0x%02x, expected 0",
                                what, (unsigned long long)(off0 + i), src[i]);
    h->n_runs = nr;
    h->values = src + 8;
    h->ends = src + 8 + vpad;
    h->values_off = off0 + 8;
    h->ends_off = off0 + 8 + (size_t)vpad;
    return TL_OK;
}

static int bad_end(const tlf_rle_hdr *h, const char *what, uint32_t r,
                   uint32_t e, uint32_t prev, uint32_t n, tl_error *err)
{
    size_t off = h->ends_off + 4 * (size_t)r;
    if (e <= prev)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: run end at payload offset %zu not increasing: %u after %u",
                            what, off, e, prev);
    if (e > n)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: run end at payload offset %zu is %u, beyond the %u values",
                            what, off, e, n);
    return tl_error_set(err, TL_ECORRUPT,
                        "%s: last run end at payload offset %zu is %u, expected %u",
                        what, off, e, n);
}

int tlf_rle_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                   void *dst, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "rle: value width %u, expected 1, 2, 4 or 8", w);
    tlf_rle_hdr h;
    int rc = tlf_rle_parse(src, len, n, w, "rle", 0, &h, err);
    if (rc)
        return rc;
    uint32_t prev = 0, nr = h.n_runs;
#define D(T) do { T *d = dst; \
        for (uint32_t r = 0; r < nr; r++) { \
            uint32_t e = tlf_ld32(h.ends + 4 * (size_t)r); \
            if (e <= prev || e > n) return bad_end(&h, "rle", r, e, prev, n, err); \
            T x; memcpy(&x, h.values + (size_t)r * sizeof(T), sizeof(T)); \
            for (uint32_t i = prev; i < e; i++) d[i] = x; \
            prev = e; } } while (0)
    switch (w) {
    case 1: D(uint8_t); break;
    case 2: D(uint16_t); break;
    case 4: D(uint32_t); break;
    default: D(uint64_t); break;
    }
#undef D
    if (prev != n)
        return bad_end(&h, "rle", nr - 1, prev, 0, n, err);
    return TL_OK;
}

int tlf_rle_view(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                 uint32_t *n_runs, const void **values, const uint32_t **ends,
                 tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "rle: value width %u, expected 1, 2, 4 or 8", w);
    if ((uintptr_t)src % 4)
        return tl_error_set(err, TL_EINVAL, "rle: payload at %p is not 4-byte aligned",
                            (const void *)src);
    tlf_rle_hdr h;
    int rc = tlf_rle_parse(src, len, n, w, "rle", 0, &h, err);
    if (rc)
        return rc;
    uint32_t prev = 0;
    for (uint32_t r = 0; r < h.n_runs; r++) {
        uint32_t e = tlf_ld32(h.ends + 4 * (size_t)r);
        if (e <= prev || e > n)
            return bad_end(&h, "rle", r, e, prev, n, err);
        prev = e;
    }
    if (prev != n)
        return bad_end(&h, "rle", h.n_runs - 1, prev, 0, n, err);
    *n_runs = h.n_runs;
    *values = h.values;
    *ends = (const uint32_t *)(const void *)h.ends;
    return TL_OK;
}
