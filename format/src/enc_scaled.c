/*
 * enc_scaled.c - SCALED: floats (w = 4, 8) stored as int64 k with
 * value = (double)k / (double)divisor, narrowed to float for w = 4.
 *
 * Payload:
 *   off 0   u64  divisor, 1 .. 2^53
 *   off 8   u8   inner encoding of the k values: PLAIN (0), RLE (1),
 *                FOR (3) or DELTA (4), as int64 (w = 8, signed)
 *   off 9   7    reserved, zero
 *   off 16       inner payload (n int64 k), |k| <= 2^53
 * The decoder validates the header, the inner payload (offsets in its
 * messages are relative to the SCALED payload) and every k, and decodes
 * the inner integers chunk by chunk into a stack buffer, never allocating.
 *
 * tlf_scaled_find tries divisors 10^e, e = 0..9, in order, and accepts the
 * first for which every value v round-trips bit for bit; then it divides k
 * and the divisor by their gcd (same rational, so the same correctly
 * rounded quotient).
 */
#include <math.h>
#include <string.h>

#include "enc_priv.h"
#include "tl_format.h"

#define K_MAX ((int64_t)1 << 53)

/* ---- finding k ---------------------------------------------------------- */

/* 1: x = k/p exactly (bit for bit after the division); 0: not for this p;
 * -1: never (NaN, inf, -0.0, too large for any divisor). */
static inline int try_k(double x, uint64_t xbits, double p, int is_f32,
                        int64_t *k)
{
    double r = x * p;
    if (!(fabs(r) <= 0x1p53))
        return (x != x || fabs(x) > 0x1p53) ? -1 : 0;
    double t = trunc(r);
    if (fabs(r - t) >= 0.5) /* llround: halves away from zero */
        t += copysign(1.0, r);
    int64_t kk = (int64_t)t;
    double q = (double)kk / p;
    uint64_t qb;
    if (is_f32) {
        float f = (float)q;
        uint32_t fb;
        memcpy(&fb, &f, 4);
        qb = fb;
    } else {
        memcpy(&qb, &q, 8);
    }
    *k = kk;
    return qb == xbits;
}

#define FIND_BLOCK 128u

/* 1: every value is k/10^e; 0: not for this e; -1: not for any e */
static int try_e(const void *v, uint32_t n, int is_f32, double p, int64_t *k)
{
    for (uint32_t s = 0; s < n; s += FIND_BLOCK) {
        uint32_t cnt = n - s < FIND_BLOCK ? n - s : FIND_BLOCK;
        if (tlf_fast_find(is_f32 ? (const void *)((const float *)v + s)
                                 : (const void *)((const double *)v + s),
                          cnt, is_f32, p, k + s) == 1)
            continue;
        /* no SIMD, or a failure in this block: the first failure decides */
        for (uint32_t j = s; j < s + cnt; j++) {
            double x;
            uint64_t xb;
            if (is_f32) {
                float f = ((const float *)v)[j];
                uint32_t fb;
                memcpy(&fb, &f, 4);
                x = f;
                xb = fb;
                if (fb == 0x80000000u)
                    return -1;
            } else {
                x = ((const double *)v)[j];
                memcpy(&xb, &x, 8);
                if (xb == 0x8000000000000000ull)
                    return -1;
            }
            int r = try_k(x, xb, p, is_f32, &k[j]);
            if (r != 1)
                return r;
        }
    }
    return 1;
}

/* For d = 5^b: the inverse of d mod 2^64 and floor((2^64-1)/d). A u is a
 * multiple of d iff u * inv mod 2^64 <= lim, and then u * inv = u / d.
 * (Kept as data so the compiler vectorises the test instead of turning it
 * back into an overflow check.) */
static const uint64_t INV5[10][2] = {
    {1, UINT64_MAX},
    {0xcccccccccccccccdull, 0x3333333333333333ull}, /* 5^1 */
    {0x8f5c28f5c28f5c29ull, 0x0a3d70a3d70a3d70ull}, /* 5^2 */
    {0x1cac083126e978d5ull, 0x020c49ba5e353f7cull}, /* 5^3 */
    {0xd288ce703afb7e91ull, 0x0068db8bac710cb2ull}, /* 5^4 */
    {0x5d4e8fb00bcbe61dull, 0x0014f8b588e368f0ull}, /* 5^5 */
    {0x790fb65668c26139ull, 0x000431bde82d7b63ull}, /* 5^6 */
    {0xe5032477ae8d46a5ull, 0x0000d6bf94d5e57aull}, /* 5^7 */
    {0xc767074b22e90e21ull, 0x00002af31dc46118ull}, /* 5^8 */
    {0x8e47ce423a2e9c6dull, 0x0000089705f4136bull}, /* 5^9 */
};

/* every k a multiple of 5^b */
static int all_mul5(const int64_t *k, uint32_t n, unsigned b)
{
    uint64_t inv = INV5[b][0], lim = INV5[b][1];
    for (uint32_t s = 0; s < n; s += FIND_BLOCK) {
        uint32_t cnt = n - s < FIND_BLOCK ? n - s : FIND_BLOCK;
        uint64_t bad = 0;
        for (uint32_t j = s; j < s + cnt; j++) {
            uint64_t u = k[j] < 0 ? -(uint64_t)k[j] : (uint64_t)k[j];
            bad |= (uint64_t)(u * inv > lim);
        }
        if (bad)
            return 0;
    }
    return 1;
}

static const uint64_t P10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000,
                                 10000000, 100000000, 1000000000};
static const uint64_t P5[10] = {1, 5, 25, 125, 625, 3125, 15625, 78125,
                                390625, 1953125};

int tlf_scaled_find(const void *v, uint32_t n, unsigned w, int64_t *k,
                    uint64_t *divisor)
{
    if (w != 4 && w != 8)
        return 0;
    unsigned e = 0;
    for (; e < 10; e++) {
        int r = try_e(v, n, w == 4, (double)P10[e], k);
        if (r < 0)
            return 0;
        if (r == 1)
            break;
    }
    if (e == 10)
        return 0;
    /* g = gcd(all k, 10^e) = 2^a * 5^b */
    uint64_t or_ = 0;
    for (uint32_t i = 0; i < n; i++)
        or_ |= (uint64_t)k[i];
    if (or_ == 0) {
        *divisor = 1;
        return 1;
    }
    unsigned a = (unsigned)__builtin_ctzll(or_);
    if (a > e)
        a = e;
    unsigned b = 0;
    while (b < e && all_mul5(k, n, b + 1))
        b++;
    if (a || b) {
        /* exact division: multiples of 2^a * 5^b */
        uint64_t inv = INV5[b][0];
        for (uint32_t i = 0; i < n; i++)
            k[i] = (int64_t)((uint64_t)(k[i] >> a) * inv);
    }
    *divisor = P10[e] >> a;
    *divisor /= P5[b];
    return 1;
}

/* index of the first |k| > 2^53 in k[0..cnt), or cnt */
static size_t check_k(const uint64_t *k, size_t cnt)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < cnt; i++)
        bad |= (k[i] + (uint64_t)K_MAX) > 2 * (uint64_t)K_MAX;
    if (!bad)
        return cnt;
    for (size_t i = 0; i < cnt; i++)
        if ((k[i] + (uint64_t)K_MAX) > 2 * (uint64_t)K_MAX)
            return i;
    return cnt;
}

/* ---- encoding ----------------------------------------------------------- */

int tlf_scaled_encode(const int64_t *k, uint32_t n, uint64_t divisor,
                      int inner, tlf_buf *out, tl_error *err)
{
    return tlf_scaled_encode_opt(k, n, divisor, inner, 0, out, err);
}

int tlf_scaled_encode_opt(const int64_t *k, uint32_t n, uint64_t divisor,
                          int inner, unsigned flags, tlf_buf *out, tl_error *err)
{
    return tlf_scaled_encode_plan(k, n, divisor, inner, NULL, NULL, flags, out, err);
}

int tlf_scaled_encode_plan(const int64_t *k, uint32_t n, uint64_t divisor,
                           int inner, const tlf_for_plan *for_plan,
                           const tlf_delta_plan *delta_plan, unsigned flags,
                           tlf_buf *out, tl_error *err)
{
    if (divisor == 0 || divisor > (uint64_t)K_MAX)
        return tl_error_set(err, TL_EINVAL,
                            "scaled: divisor %llu, expected 1 .. 2^53",
                            (unsigned long long)divisor);
    if (inner != TLF_ENC_PLAIN && inner != TLF_ENC_RLE && inner != TLF_ENC_FOR &&
        inner != TLF_ENC_DELTA)
        return tl_error_set(err, TL_EINVAL,
                            "scaled: inner encoding %d, expected plain, rle, for or delta",
                            inner);
    size_t bad = check_k((const uint64_t *)(const void *)k, n);
    if (bad < n)
        return tl_error_set(err, TL_EINVAL,
                            "scaled: k[%zu] = %lld, expected |k| <= 2^53", bad,
                            (long long)k[bad]);
    uint8_t hdr[16] = {0};
    tlf_st64(hdr, divisor);
    hdr[8] = (uint8_t)inner;
    int rc = tlf_buf_append(out, hdr, 16, err);
    if (rc)
        return rc;
    switch (inner) {
    case TLF_ENC_PLAIN: return tlf_buf_append(out, k, (size_t)n * 8, err);
    case TLF_ENC_RLE: return tlf_rle_encode(k, n, 8, out, err);
    case TLF_ENC_FOR:
        return for_plan ? tlf_for_encode_plan(k, n, 8, 1, for_plan, flags, out, err)
                        : tlf_for_encode_opt(k, n, 8, 1, flags, out, err);
    default:
        return delta_plan ? tlf_delta_encode_plan(k, n, 8, 1, delta_plan, out, err)
                          : tlf_delta_encode(k, n, 8, 1, out, err);
    }
}

/* ---- decoding ----------------------------------------------------------- */

static void convert(const uint64_t *k, size_t cnt, double dv, unsigned w,
                    void *dst, size_t start)
{
    if (w == 8) {
        double *d = (double *)dst + start;
        for (size_t i = 0; i < cnt; i++)
            d[i] = (double)(int64_t)k[i] / dv;
    } else {
        float *f = (float *)dst + start;
        for (size_t i = 0; i < cnt; i++)
            f[i] = (float)((double)(int64_t)k[i] / dv);
    }
}

static int bad_k(uint64_t i, uint64_t k, tl_error *err)
{
    return tl_error_set(err, TL_ECORRUPT,
                        "scaled: value %llu has k = %lld, expected |k| <= 2^53",
                        (unsigned long long)i, (long long)k);
}

int tlf_scaled_decode_i32(const uint8_t *src, size_t len, uint32_t n, int32_t *dst,
                          uint64_t *div, int *inner_out)
{
    if (tlf_enc_no_simd || len < 16)
        return 0;
    uint64_t d = tlf_ld64(src);
    if (d == 0 || d > (uint64_t)K_MAX || src[8] != TLF_ENC_DELTA)
        return 0;
    for (size_t i = 9; i < 16; i++)
        if (src[i])
            return 0;
    tlf_delta_hdr h;
    if (tlf_delta_parse(src + 16, len - 16, n, 64, "scaled: inner delta", 16, &h, NULL) != TL_OK)
        return 0;
    if (n > 0) {
        int64_t first = (int64_t)h.first;
        if (first < INT32_MIN || first > INT32_MAX)
            return 0;
        dst[0] = (int32_t)first;
        /* |k| < 2^31 <= 2^53: every k is valid (check_k) */
        if (!tlf_fast_delta(&h, TLF_K_I32, NULL, dst))
            return 0;
    }
    *div = d;
    *inner_out = TLF_ENC_DELTA;
    return 1;
}

int tlf_scaled_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                      void *dst, int *inner_out, tl_error *err)
{
    if (w != 4 && w != 8)
        return tl_error_set(err, TL_EINVAL, "scaled: value width %u, expected 4 or 8", w);
    if (len < 16)
        return tl_error_set(err, TL_ECORRUPT,
                            "scaled: payload is %zu bytes, expected at least the 16-byte header",
                            len);
    uint64_t div = tlf_ld64(src);
    if (div == 0 || div > (uint64_t)K_MAX)
        return tl_error_set(err, TL_ECORRUPT,
                            "scaled: divisor at payload offset 0 is %llu, expected 1 .. 2^53",
                            (unsigned long long)div);
    int inner = src[8];
    if (inner != TLF_ENC_PLAIN && inner != TLF_ENC_RLE && inner != TLF_ENC_FOR &&
        inner != TLF_ENC_DELTA)
        return tl_error_set(err, TL_ECORRUPT,
                            "scaled: inner encoding at payload offset 8 is %d, expected plain (0), rle (1), for (3) or delta (4)",
                            inner);
    for (size_t i = 9; i < 16; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "scaled: reserved byte at payload offset %zu is 0x%02x, expected 0",
                                i, src[i]);
    if (inner_out)
        *inner_out = inner;
    const uint8_t *ip = src + 16;
    size_t il = len - 16;
    double dv = (double)div;
    uint64_t tmp[TLF_CHUNK];
    int rc;
    int kind = w == 8 ? TLF_K_F64 : TLF_K_F32;
    tlf_fast_prm prm = {.divisor = div};
    switch (inner) {
    case TLF_ENC_PLAIN:
        if (il != (uint64_t)n * 8)
            return tl_error_set(err, TL_ECORRUPT,
                                "scaled: inner plain: payload is %zu bytes, expected %llu for %u values",
                                il, (unsigned long long)n * 8, n);
        if (tlf_fast_plain64(ip, n, kind, &prm, dst))
            return TL_OK;
        for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
            uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
            memcpy(tmp, ip + (size_t)s * 8, (size_t)cnt * 8);
            size_t bad = check_k(tmp, cnt);
            if (bad < cnt)
                return bad_k(s + bad, tmp[bad], err);
            convert(tmp, cnt, dv, w, dst, s);
        }
        return TL_OK;
    case TLF_ENC_FOR: {
        tlf_for_hdr h;
        rc = tlf_for_parse(ip, il, n, 64, "scaled: inner for", 16, &h, err);
        if (rc)
            return rc;
        if (tlf_fast_for(h.data, h.nbytes, h.bw, h.base, h.factor, n, kind, &prm, dst))
            return TL_OK;
        for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
            uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
            tlf_for_chunk(&h, s, cnt, tmp);
            size_t bad = check_k(tmp, cnt);
            if (bad < cnt)
                return bad_k(s + bad, tmp[bad], err);
            convert(tmp, cnt, dv, w, dst, s);
        }
        return TL_OK;
    }
    case TLF_ENC_DELTA: {
        tlf_delta_hdr h;
        rc = tlf_delta_parse(ip, il, n, 64, "scaled: inner delta", 16, &h, err);
        if (rc)
            return rc;
        if (n == 0)
            return TL_OK;
        if (check_k(&h.first, 1) == 0)
            return bad_k(0, h.first, err);
        convert(&h.first, 1, dv, w, dst, 0);
        if (tlf_fast_delta(&h, kind, &prm, dst))
            return TL_OK;
        uint64_t prev = h.first;
        size_t pos = 0;
        for (uint32_t m = 0; m < h.n_mini; m++) {
            uint32_t cnt = tlf_delta_mini(&h, m, prev, &pos, tmp);
            size_t bad = check_k(tmp, cnt);
            if (bad < cnt)
                return bad_k(1 + (uint64_t)m * TLF_MINI + bad, tmp[bad], err);
            convert(tmp, cnt, dv, w, dst, 1 + (size_t)m * TLF_MINI);
            prev = tmp[cnt - 1];
        }
        return TL_OK;
    }
    default: {
        tlf_rle_hdr h;
        rc = tlf_rle_parse(ip, il, n, 8, "scaled: inner rle", 16, &h, err);
        if (rc)
            return rc;
        uint32_t prev = 0;
        for (uint32_t r = 0; r < h.n_runs; r++) {
            uint32_t e = tlf_ld32(h.ends + 4 * (size_t)r);
            size_t off = h.ends_off + 4 * (size_t)r;
            if (e <= prev)
                return tl_error_set(err, TL_ECORRUPT,
                                    "scaled: inner rle: run end at payload offset %zu not increasing: %u after %u",
                                    off, e, prev);
            if (e > n)
                return tl_error_set(err, TL_ECORRUPT,
                                    "scaled: inner rle: run end at payload offset %zu is %u, beyond the %u values",
                                    off, e, n);
            uint64_t kv = tlf_ld64(h.values + 8 * (size_t)r);
            if (check_k(&kv, 1) == 0)
                return bad_k(prev, kv, err);
            double x = (double)(int64_t)kv / dv;
            if (w == 8) {
                double *d = dst;
                for (uint32_t i = prev; i < e; i++)
                    d[i] = x;
            } else {
                float xf = (float)x, *d = dst;
                for (uint32_t i = prev; i < e; i++)
                    d[i] = xf;
            }
            prev = e;
        }
        if (prev != n)
            return tl_error_set(err, TL_ECORRUPT,
                                "scaled: inner rle: last run end at payload offset %zu is %u, expected %u",
                                h.ends_off + 4 * (size_t)(h.n_runs - 1), prev, n);
        return TL_OK;
    }
    }
}
