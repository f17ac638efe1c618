/*
 * enc_int.c - FOR and DELTA encodings of integers of width w in {1,2,4,8}.
 * Values are handled as their 64-bit sign/zero extension; all arithmetic on
 * them is mod 2^64, so any w-byte value round-trips.
 *
 * FOR payload:
 *   off 0   u64  base: the minimum, extended to 64 bits
 *   off 8   u8   bit_width (0..8w)
 *   off 9   7    reserved, zero
 *   off 16  u64  factor (>= 1): value i = base + factor * packed_i mod 2^64
 *   off 24       n packed values bit-packed LSB-first, ceil(n*bw/8) bytes,
 *                zero padding to a multiple of 8
 * The payload is exactly 24 + pad8(ceil(n*bw/8)) bytes (24 for n = 0).
 * The writer's factor is the gcd of the v - base (1 when they are all 0).
 *
 * DELTA payload (n = 0: empty):
 *   off 0   u64  first value, extended
 *   off 8   u32  n_mini = ceil((n-1)/256)
 *   off 12  u32  flags: bit 0 FACTORS = the factor array is present (else
 *                every factor is 1); other bits zero
 *   off 16  i64  min_delta[n_mini]
 *           u8   width[n_mini] (0..8w+1, 64 for w = 8), zero padding to 8
 *           u32  factor[n_mini] (>= 1), zero padding to 8; only with FACTORS
 *           per miniblock m: its cnt deltas d_j = v[j]-v[j-1] (mod 2^64)
 *           as packed_j = (d_j - min_delta[m]) / factor[m], bit-packed with
 *           its width, pad8(ceil(cnt*width/8)) bytes (32*width for a full
 *           miniblock of 256); d_j = min_delta + factor * packed_j mod 2^64.
 *   The writer's factor is the gcd of the miniblock's d_j - min_delta when
 *   it fits 32 bits, else its largest power-of-two divisor up to 2^31; it
 *   leaves the array out (and FACTORS clear) when every factor is 1, so
 *   columns without a common step pay nothing for it.
 * The writer measures a block once: tlf_for_plan_make / tlf_delta_plan_make
 * give the exact size and the parameters the *_encode_plan functions then
 * write, byte for byte what the unplanned encoders write.
 * Decoders accept exactly these lengths, reject nonzero reserved or header
 * padding bytes and zero factors, ignore padding after packed data, and
 * reject any decoded value that is not a valid w-byte value (so they never
 * produce values no writer could have written).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "enc_priv.h"

static const char *sname(int is_signed) { return is_signed ? "signed" : "unsigned"; }

static int valid_w(unsigned w) { return w == 1 || w == 2 || w == 4 || w == 8; }

/* ---- common factor ----------------------------------------------------- */

/* inverse of an odd g mod 2^64 (Newton: each step doubles the good bits) */
static uint64_t inv_odd(uint64_t g)
{
    uint64_t x = g; /* g * g = 1 mod 8: 3 bits */
    for (int i = 0; i < 5; i++)
        x *= 2 - g * x;
    return x;
}

/* gcd of an odd a and b > 0 (binary: shifts and subtractions, no
 * divisions, a few dozen steps for 64-bit values) */
static uint64_t gcd_odd(uint64_t a, uint64_t b)
{
    b >>= __builtin_ctzll(b);
    while (a != b) {
        if (a > b) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        b -= a; /* even, > 0 */
        b >>= __builtin_ctzll(b);
    }
    return a;
}

/* gcd of a stream of u64 values: the power of two from their OR, the odd
 * part kept with its inverse, so "odd divides x" is x * inv <= lim (one
 * multiply, vectorisable) and the slow gcd runs only when it shrinks. */
typedef struct gcd_acc {
    uint64_t or_;
    uint64_t odd; /* 0 before the first nonzero value */
    uint64_t inv, lim;
} gcd_acc;

static void acc_odd(gcd_acc *a, uint64_t odd)
{
    a->odd = odd;
    a->inv = inv_odd(odd);
    a->lim = UINT64_MAX / odd;
}

static void gcd_add(gcd_acc *a, const uint64_t *x, size_t n)
{
    uint64_t o = 0;
    for (size_t i = 0; i < n; i++)
        o |= x[i];
    a->or_ |= o;
    if (o == 0 || a->odd == 1)
        return;
    size_t i = 0;
    if (a->odd == 0) {
        while (x[i] == 0)
            i++;
        acc_odd(a, x[i] >> __builtin_ctzll(x[i]));
    }
    for (;;) {
        uint64_t bad = 0, inv = a->inv, lim = a->lim;
        for (size_t j = i; j < n; j++)
            bad |= (uint64_t)(x[j] * inv > lim);
        if (!bad)
            return;
        while (x[i] * inv <= lim)
            i++;
        /* x[i] is not 0 (0 always divides): shrink the odd part */
        acc_odd(a, gcd_odd(a->odd, x[i]));
        if (a->odd == 1)
            return;
    }
}

/* the gcd of all values added, 0 when they were all 0 */
static uint64_t gcd_result(const gcd_acc *a)
{
    return a->or_ ? a->odd << __builtin_ctzll(a->or_) : 0;
}

/* x[i] /= f for values known to be multiples of f (exact division) */
static void div_exact(uint64_t *x, size_t n, uint64_t f)
{
    unsigned k = (unsigned)__builtin_ctzll(f);
    uint64_t inv = inv_odd(f >> k);
    for (size_t i = 0; i < n; i++)
        x[i] = (x[i] >> k) * inv;
}

/* ---- FOR -------------------------------------------------------------- */

void tlf_minmax(const void *v, uint32_t n, unsigned w, int is_signed, uint64_t *mn,
                uint64_t *mx)
{
#define MM(T) do { const T *s = v; T lo = s[0], hi = s[0]; \
        for (uint32_t i = 1; i < n; i++) { lo = s[i] < lo ? s[i] : lo; \
                                           hi = s[i] > hi ? s[i] : hi; } \
        *mn = (uint64_t)lo; *mx = (uint64_t)hi; } while (0)
    switch (w * 2 + (is_signed != 0)) {
    case 2: MM(uint8_t); break;
    case 3: MM(int8_t); break;
    case 4: MM(uint16_t); break;
    case 5: MM(int16_t); break;
    case 8: MM(uint32_t); break;
    case 9: MM(int32_t); break;
    case 16: MM(uint64_t); break;
    default: MM(int64_t); break;
    }
#undef MM
}

/* 0 stays 0; else the next of 8, 16, 32, 64 (never above 8w for w-byte
 * values, whose width is at most 8w) */
static unsigned round_bw(unsigned bw)
{
    return bw == 0 ? 0 : bw <= 8 ? 8 : bw <= 16 ? 16 : bw <= 32 ? 32 : 64;
}

void tlf_for_plan_make(const void *v, uint32_t n, unsigned w, int is_signed,
                       unsigned flags, tlf_for_plan *p)
{
    p->base = 0;
    p->factor = 1;
    p->bw = 0;
    if (n == 0)
        return;
    uint64_t mn, mx;
    tlf_minmax(v, n, w, is_signed, &mn, &mx);
    p->base = mn;
    uint64_t range = mx - mn;
    if (range > 1 && !(flags & TLF_OPT_NO_FACTOR)) {
        gcd_acc a = {0};
        uint64_t tmp[TLF_CHUNK];
        for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
            uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
            tlf_widen(v, s, cnt, w, is_signed, tmp);
            for (uint32_t i = 0; i < cnt; i++)
                tmp[i] -= mn;
            gcd_add(&a, tmp, cnt);
            if (a.odd == 1 && (a.or_ & 1))
                break; /* the gcd is 1 */
        }
        uint64_t g = gcd_result(&a);
        if (g > 1)
            p->factor = g;
    }
    p->bw = tlf_bit_width(range / p->factor); /* exact: factor divides range */
}

/* the plan's bit width, rounded up to a whole number of bytes when asked */
static unsigned plan_bw(const tlf_for_plan *p, unsigned flags)
{
    return flags & TLF_OPT_BYTE_ALIGN ? round_bw(p->bw) : p->bw;
}

size_t tlf_for_plan_size(const tlf_for_plan *p, uint32_t n, unsigned flags)
{
    return (size_t)(24 + tlf_pad8(tlf_bitpack_bytes(n, plan_bw(p, flags))));
}

size_t tlf_for_size_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                        unsigned flags)
{
    tlf_for_plan p;
    tlf_for_plan_make(v, n, w, is_signed, flags, &p);
    return tlf_for_plan_size(&p, n, flags);
}

size_t tlf_for_size(const void *v, uint32_t n, unsigned w, int is_signed)
{
    return tlf_for_size_opt(v, n, w, is_signed, 0);
}

int tlf_for_encode_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                       unsigned flags, tlf_buf *out, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "for: value width %u, expected 1, 2, 4 or 8", w);
    tlf_for_plan pl;
    tlf_for_plan_make(v, n, w, is_signed, flags, &pl);
    return tlf_for_encode_plan(v, n, w, is_signed, &pl, flags, out, err);
}

int tlf_for_encode_plan(const void *v, uint32_t n, unsigned w, int is_signed,
                        const tlf_for_plan *plan, unsigned flags, tlf_buf *out,
                        tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "for: value width %u, expected 1, 2, 4 or 8", w);
    tlf_for_plan pl = *plan;
    unsigned bw = plan_bw(&pl, flags);
    size_t nb = tlf_bitpack_bytes(n, bw), total = 24 + (size_t)tlf_pad8(nb);
    int rc = tlf_buf_reserve(out, total, err);
    if (rc)
        return rc;
    uint8_t *p = out->p + out->len;
    memset(p, 0, 24);
    tlf_st64(p, pl.base);
    p[8] = (uint8_t)bw;
    tlf_st64(p + 16, pl.factor);
    uint64_t tmp[TLF_CHUNK];
    for (uint32_t s = 0; s < n && bw > 0; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        tlf_widen(v, s, cnt, w, is_signed, tmp);
        for (uint32_t i = 0; i < cnt; i++)
            tmp[i] -= pl.base;
        if (pl.factor > 1)
            div_exact(tmp, cnt, pl.factor);
        tlf_bitpack64(tmp, cnt, bw, p + 24 + (size_t)s / 8 * bw);
    }
    memset(p + 24 + nb, 0, total - 24 - nb);
    out->len += total;
    return TL_OK;
}

int tlf_for_encode(const void *v, uint32_t n, unsigned w, int is_signed,
                   tlf_buf *out, tl_error *err)
{
    return tlf_for_encode_opt(v, n, w, is_signed, 0, out, err);
}

int tlf_for_parse(const uint8_t *src, size_t len, uint32_t n, unsigned max_bw,
                  const char *what, size_t off0, tlf_for_hdr *h, tl_error *err)
{
    if (len < 24)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected at least the 24-byte header",
                            what, len);
    unsigned bw = src[8];
    if (bw > max_bw)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: bit width at payload offset %zu is %u, expected at most %u",
                            what, off0 + 8, bw, max_bw);
    for (size_t i = 9; i < 16; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: reserved byte at payload offset %zu is 0x%02x, expected 0",
                                what, off0 + i, src[i]);
    uint64_t factor = tlf_ld64(src + 16);
    if (factor == 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: factor at payload offset %zu is 0, expected >= 1",
                            what, off0 + 16);
    size_t nb = tlf_bitpack_bytes(n, bw);
    uint64_t exp = 24 + tlf_pad8(nb);
    if (len != exp)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected 24 + %llu = %llu for %u values of bit width %u",
                            what, len, (unsigned long long)(exp - 24),
                            (unsigned long long)exp, n, bw);
    h->base = tlf_ld64(src);
    h->factor = factor;
    h->bw = bw;
    h->data = src + 24;
    h->nbytes = nb;
    h->data_off = off0 + 24;
    return TL_OK;
}

void tlf_for_chunk(const tlf_for_hdr *h, uint32_t start, uint32_t cnt,
                   uint64_t *out)
{
    tlf_unpack_at(h->data, h->nbytes, (uint64_t)start * h->bw, cnt, h->bw, out);
    uint64_t base = h->base, f = h->factor;
    if (f == 1) {
        for (uint32_t i = 0; i < cnt; i++)
            out[i] += base;
    } else {
        for (uint32_t i = 0; i < cnt; i++)
            out[i] = base + f * out[i];
    }
}

int tlf_for_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                   int is_signed, void *dst, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "for: value width %u, expected 1, 2, 4 or 8", w);
    tlf_for_hdr h;
    int rc = tlf_for_parse(src, len, n, 8 * w, "for", 0, &h, err);
    if (rc)
        return rc;
    if (!tlf_fits(h.base, w, is_signed))
        return tl_error_set(err, TL_ECORRUPT,
                            "for: base at payload offset 0 is 0x%016llx, not a valid %s %u-byte value",
                            (unsigned long long)h.base, sname(is_signed), w);
    if (tlf_fast_for(h.data, h.nbytes, h.bw, h.base, h.factor, n,
                     tlf_kind_int(w, is_signed), NULL, dst))
        return TL_OK;
    uint64_t tmp[TLF_CHUNK], pk[TLF_CHUNK];
    for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        tlf_for_chunk(&h, s, cnt, tmp);
        size_t bad = tlf_narrow(tmp, cnt, w, is_signed, dst, s);
        if (bad < cnt) {
            uint64_t i = s + bad;
            tlf_unpack_at(h.data, h.nbytes, (uint64_t)s * h.bw, cnt, h.bw, pk);
            return tl_error_set(err, TL_ECORRUPT,
                                "for: value %llu (packed at payload offset %llu) is base + %llu * factor %llu = 0x%016llx, not a valid %s %u-byte value",
                                (unsigned long long)i,
                                (unsigned long long)(24 + i * h.bw / 8),
                                (unsigned long long)pk[bad], (unsigned long long)h.factor,
                                (unsigned long long)tmp[bad], sname(is_signed), w);
        }
    }
    return TL_OK;
}

/* ---- DELTA ------------------------------------------------------------ */

static uint32_t n_mini_of(uint32_t n) { return n <= 1 ? 0 : (n - 1 + TLF_MINI - 1) / TLF_MINI; }

static uint64_t mini_bytes(uint32_t cnt, unsigned bw)
{
    return tlf_pad8(tlf_bitpack_bytes(cnt, bw));
}

#define DELTA_FACTORS 1u /* flags bit: the factor array is present */

static uint64_t delta_hdr_bytes(uint32_t nm, int factors)
{
    return 16 + 8 * (uint64_t)nm + tlf_pad8(nm) + (factors ? tlf_pad8(4 * (uint64_t)nm) : 0);
}

/* Deltas of miniblock m of the extended values (cnt returned), with its
 * min delta, factor and width; d[] receives (delta - min) / factor. */
static uint32_t delta_mini_prep(const void *v, uint32_t n, unsigned w,
                                int is_signed, unsigned flags, uint32_t m,
                                uint64_t *d, int64_t *min_out,
                                uint32_t *factor_out, unsigned *bw_out)
{
    uint64_t x[TLF_MINI + 1];
    uint32_t s = m * TLF_MINI, cnt = n - 1 - s < TLF_MINI ? n - 1 - s : TLF_MINI;
    tlf_widen(v, s, cnt + 1, w, is_signed, x);
    int64_t mn = INT64_MAX;
    for (uint32_t i = 0; i < cnt; i++) {
        d[i] = x[i + 1] - x[i];
        mn = (int64_t)d[i] < mn ? (int64_t)d[i] : mn;
    }
    uint64_t or_ = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        d[i] -= (uint64_t)mn;
        or_ |= d[i];
    }
    uint64_t f = 1;
    if (or_ > 1 && !(flags & TLF_OPT_NO_FACTOR)) {
        gcd_acc a = {0};
        gcd_add(&a, d, cnt);
        uint64_t g = gcd_result(&a);
        /* a factor is a u32: else the largest power of two that divides */
        f = g <= UINT32_MAX ? g : (uint64_t)1 << (__builtin_ctzll(g) < 31 ? __builtin_ctzll(g) : 31);
        if (f > 1) {
            div_exact(d, cnt, f);
            or_ = 0;
            for (uint32_t i = 0; i < cnt; i++)
                or_ |= d[i];
        } else {
            f = 1;
        }
    }
    *min_out = mn;
    *factor_out = (uint32_t)f;
    *bw_out = tlf_bit_width(or_);
    return cnt;
}

/* Measure every miniblock: min delta, factor and width into the arrays
 * (when not NULL); returns the payload bytes, *factors = some factor is
 * not 1. */
static size_t delta_measure(const void *v, uint32_t n, unsigned w, int is_signed,
                            unsigned flags, int64_t *mins, uint32_t *factor, uint8_t *width,
                            int *factors)
{
    *factors = 0;
    if (n == 0)
        return 0;
    uint32_t nm = n_mini_of(n);
    uint64_t total = 0, d[TLF_MINI];
    for (uint32_t m = 0; m < nm; m++) {
        int64_t mn;
        uint32_t f;
        unsigned bw;
        uint32_t cnt = delta_mini_prep(v, n, w, is_signed, flags, m, d, &mn, &f, &bw);
        if (mins) {
            mins[m] = mn;
            factor[m] = f;
            width[m] = (uint8_t)bw;
        }
        total += mini_bytes(cnt, bw);
        *factors |= f != 1;
    }
    return (size_t)(total + delta_hdr_bytes(nm, *factors));
}

size_t tlf_delta_size_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                          unsigned flags)
{
    int factors;
    return delta_measure(v, n, w, is_signed, flags, NULL, NULL, NULL, &factors);
}

size_t tlf_delta_size(const void *v, uint32_t n, unsigned w, int is_signed)
{
    return tlf_delta_size_opt(v, n, w, is_signed, 0);
}

int tlf_delta_encode_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                         unsigned flags, tlf_buf *out, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "delta: value width %u, expected 1, 2, 4 or 8", w);
    if (n == 0)
        return TL_OK;
    /* the plan's arrays: 13 bytes a miniblock */
    size_t nm = n_mini_of(n);
    uint8_t *mem = malloc(nm * (sizeof(int64_t) + sizeof(uint32_t) + 1));
    if (!mem)
        return tl_error_set(err, TL_ENOMEM, "delta: out of memory (plan of %zu miniblocks)", nm);
    tlf_delta_plan p = {.mins = (int64_t *)(void *)mem,
                        .factor = (uint32_t *)(void *)(mem + nm * sizeof(int64_t)),
                        .width = mem + nm * (sizeof(int64_t) + sizeof(uint32_t))};
    tlf_delta_plan_make(v, n, w, is_signed, flags, &p);
    int rc = tlf_delta_encode_plan(v, n, w, is_signed, &p, out, err);
    free(mem);
    return rc;
}

int tlf_delta_encode(const void *v, uint32_t n, unsigned w, int is_signed,
                     tlf_buf *out, tl_error *err)
{
    return tlf_delta_encode_opt(v, n, w, is_signed, 0, out, err);
}

size_t tlf_delta_plan_make(const void *v, uint32_t n, unsigned w, int is_signed,
                           unsigned flags, tlf_delta_plan *p)
{
    p->n_mini = n_mini_of(n);
    p->size = delta_measure(v, n, w, is_signed, flags, p->mins, p->factor, p->width,
                            &p->factors);
    return p->size;
}

int tlf_delta_encode_plan(const void *v, uint32_t n, unsigned w, int is_signed,
                          const tlf_delta_plan *p, tlf_buf *out, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "delta: value width %u, expected 1, 2, 4 or 8", w);
    if (n == 0)
        return TL_OK;
    uint32_t nm = p->n_mini;
    assert(nm == n_mini_of(n));
    int rc = tlf_buf_reserve(out, p->size, err);
    if (rc)
        return rc;
    uint8_t *q = out->p + out->len;
    size_t hdr = (size_t)delta_hdr_bytes(nm, p->factors);
    size_t wd_off = 16 + 8 * (size_t)nm, f_off = wd_off + (size_t)tlf_pad8(nm);
    memset(q, 0, hdr);
    uint64_t x[TLF_MINI + 1], d[TLF_MINI];
    tlf_widen(v, 0, 1, w, is_signed, x);
    tlf_st64(q, x[0]);
    tlf_st32(q + 8, nm);
    tlf_st32(q + 12, p->factors ? DELTA_FACTORS : 0);
    for (uint32_t m = 0; m < nm; m++) {
        tlf_st64(q + 16 + 8 * (size_t)m, (uint64_t)p->mins[m]);
        q[wd_off + m] = p->width[m];
        if (p->factors)
            tlf_st32(q + f_off + 4 * (size_t)m, p->factor[m]);
    }
    uint8_t *dst = q + hdr;
    for (uint32_t m = 0; m < nm; m++) {
        uint32_t s = m * TLF_MINI, cnt = n - 1 - s < TLF_MINI ? n - 1 - s : TLF_MINI;
        tlf_widen(v, s, cnt + 1, w, is_signed, x);
        uint64_t mn = (uint64_t)p->mins[m];
        for (uint32_t i = 0; i < cnt; i++)
            d[i] = x[i + 1] - x[i] - mn;
        if (p->factor[m] > 1)
            div_exact(d, cnt, p->factor[m]);
        size_t nb = tlf_bitpack_bytes(cnt, p->width[m]), mb = (size_t)mini_bytes(cnt, p->width[m]);
        tlf_bitpack64(d, cnt, p->width[m], dst);
        memset(dst + nb, 0, mb - nb);
        dst += mb;
    }
    assert((size_t)(dst - q) == p->size);
    out->len += p->size;
    return TL_OK;
}

int tlf_delta_parse(const uint8_t *src, size_t len, uint32_t n,
                    unsigned max_bw, const char *what, size_t off0,
                    tlf_delta_hdr *h, tl_error *err)
{
    memset(h, 0, sizeof *h);
    h->n = n;
    if (n == 0) {
        if (len != 0)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: payload is %zu bytes, expected 0 for 0 values",
                                what, len);
        return TL_OK;
    }
    if (len < 16)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected at least the 16-byte header for %u values",
                            what, len, n);
    uint32_t nm = tlf_ld32(src + 8), want = n_mini_of(n);
    if (nm != want)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: miniblock count at payload offset %zu is %u, expected %u for %u values",
                            what, off0 + 8, nm, want, n);
    uint32_t fl = tlf_ld32(src + 12);
    if (fl & ~DELTA_FACTORS)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: flags at payload offset %zu are 0x%08x, expected 0 or 1 (bit 0: factors present)",
                            what, off0 + 12, fl);
    int factors = (fl & DELTA_FACTORS) != 0;
    uint64_t hdr = delta_hdr_bytes(nm, factors);
    if (len < hdr)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected at least %llu for the header, %u min deltas, widths%s",
                            what, len, (unsigned long long)hdr, nm, factors ? " and factors" : "");
    size_t wd_off = 16 + 8 * (size_t)nm, f_off = wd_off + (size_t)tlf_pad8(nm);
    const uint8_t *wd = src + wd_off, *fa = factors ? src + f_off : NULL;
    uint64_t data = 0;
    for (uint32_t m = 0; m < nm; m++) {
        if (wd[m] > max_bw)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: bit width of miniblock %u at payload offset %zu is %u, expected at most %u",
                                what, m, off0 + wd_off + m, wd[m], max_bw);
        if (fa && tlf_ld32(fa + 4 * (size_t)m) == 0)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: factor of miniblock %u at payload offset %zu is 0, expected >= 1",
                                what, m, off0 + f_off + 4 * (size_t)m);
        uint32_t cnt = m + 1 < nm ? TLF_MINI : n - 1 - m * TLF_MINI;
        data += mini_bytes(cnt, wd[m]);
    }
    for (uint64_t i = wd_off + nm; i < f_off; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: padding byte at payload offset %llu is 0x%02x, expected 0",
                                what, (unsigned long long)(off0 + i), src[i]);
    for (uint64_t i = f_off + 4 * (uint64_t)nm; fa && i < hdr; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: padding byte at payload offset %llu is 0x%02x, expected 0",
                                what, (unsigned long long)(off0 + i), src[i]);
    if (len != hdr + data)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected %llu + %llu = %llu for %u values (header + packed miniblocks)",
                            what, len, (unsigned long long)hdr,
                            (unsigned long long)data,
                            (unsigned long long)(hdr + data), n);
    h->first = tlf_ld64(src);
    h->n_mini = nm;
    h->mins = src + 16;
    h->widths = wd;
    h->factors = fa;
    h->data = src + hdr;
    h->data_len = (size_t)data;
    h->data_off = off0 + (size_t)hdr;
    return TL_OK;
}

uint32_t tlf_delta_mini(const tlf_delta_hdr *h, uint32_t m, uint64_t prev,
                        size_t *pos, uint64_t *out)
{
    uint32_t cnt = m + 1 < h->n_mini ? TLF_MINI : h->n - 1 - m * TLF_MINI;
    unsigned bw = h->widths[m];
    uint64_t mn = tlf_ld64(h->mins + 8 * (size_t)m);
    uint64_t f = h->factors ? tlf_ld32(h->factors + 4 * (size_t)m) : 1;
    tlf_unpack_at(h->data + *pos, h->data_len - *pos, 0, cnt, bw, out);
    for (uint32_t i = 0; i < cnt; i++) {
        prev += mn + f * out[i];
        out[i] = prev;
    }
    *pos += (size_t)mini_bytes(cnt, bw);
    return cnt;
}

int tlf_delta_decode_i32(const uint8_t *src, size_t len, uint32_t n, int32_t *dst)
{
    tlf_delta_hdr h;
    if (tlf_enc_no_simd || tlf_delta_parse(src, len, n, 64, "delta", 0, &h, NULL) != TL_OK)
        return 0;
    if (n == 0)
        return 1;
    int64_t first = (int64_t)h.first;
    if (first < INT32_MIN || first > INT32_MAX)
        return 0;
    dst[0] = (int32_t)first;
    return tlf_fast_delta(&h, TLF_K_I32, NULL, dst);
}

int tlf_delta_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                     int is_signed, void *dst, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "delta: value width %u, expected 1, 2, 4 or 8", w);
    tlf_delta_hdr h;
    int rc = tlf_delta_parse(src, len, n, w == 8 ? 64 : 8 * w + 1, "delta", 0, &h, err);
    if (rc)
        return rc;
    if (n == 0)
        return TL_OK;
    if (!tlf_fits(h.first, w, is_signed))
        return tl_error_set(err, TL_ECORRUPT,
                            "delta: first value at payload offset 0 is 0x%016llx, not a valid %s %u-byte value",
                            (unsigned long long)h.first, sname(is_signed), w);
    tlf_narrow(&h.first, 1, w, is_signed, dst, 0);
    if (tlf_fast_delta(&h, tlf_kind_int(w, is_signed), NULL, dst))
        return TL_OK;
    uint64_t tmp[TLF_MINI], prev = h.first;
    size_t pos = 0;
    for (uint32_t m = 0; m < h.n_mini; m++) {
        size_t at = pos;
        uint32_t cnt = tlf_delta_mini(&h, m, prev, &pos, tmp);
        size_t bad = tlf_narrow(tmp, cnt, w, is_signed, dst, 1 + (size_t)m * TLF_MINI);
        if (bad < cnt)
            return tl_error_set(err, TL_ECORRUPT,
                                "delta: value %llu (miniblock %u, packed at payload offset %zu) decodes to 0x%016llx, not a valid %s %u-byte value",
                                (unsigned long long)(1 + (uint64_t)m * TLF_MINI + bad),
                                m, h.data_off + at, (unsigned long long)tmp[bad],
                                sname(is_signed), w);
        prev = tmp[cnt - 1];
    }
    return TL_OK;
}
