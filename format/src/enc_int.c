/*
 * enc_int.c - FOR and DELTA encodings of integers of width w in {1,2,4,8}.
 * Values are handled as their 64-bit sign/zero extension; all arithmetic on
 * them is mod 2^64, so any w-byte value round-trips.
 *
 * FOR payload:
 *   off 0   u64  base: the minimum, extended to 64 bits
 *   off 8   u8   bit_width (0..8w)
 *   off 9   7    reserved, zero
 *   off 16       n values (v - base) mod 2^64 bit-packed LSB-first,
 *                ceil(n*bw/8) bytes, zero padding to a multiple of 8
 * The payload is exactly 16 + pad8(ceil(n*bw/8)) bytes (16 for n = 0).
 *
 * DELTA payload (n = 0: empty):
 *   off 0   u64  first value, extended
 *   off 8   u32  n_mini = ceil((n-1)/256)
 *   off 12  u32  reserved, zero
 *   off 16  i64  min_delta[n_mini]
 *           u8   width[n_mini] (0..8w+1, 64 for w = 8), zero padding to 8
 *           per miniblock: its cnt deltas d_j = v[j]-v[j-1] (mod 2^64)
 *           minus min_delta, bit-packed with its width, pad8(ceil(cnt*width/8))
 *           bytes (32*width for a full miniblock of 256).
 * Decoders accept exactly these lengths, reject nonzero reserved or header
 * padding bytes, ignore padding after packed data, and reject any decoded
 * value that is not a valid w-byte value (so they never produce values no
 * writer could have written).
 */
#include <string.h>

#include "enc_priv.h"

static const char *sname(int is_signed) { return is_signed ? "signed" : "unsigned"; }

static int valid_w(unsigned w) { return w == 1 || w == 2 || w == 4 || w == 8; }

/* ---- FOR -------------------------------------------------------------- */

/* min and max of the extended values (signed or unsigned order) */
static void minmax(const void *v, uint32_t n, unsigned w, int is_signed,
                   uint64_t *mn, uint64_t *mx)
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

static unsigned for_width(const void *v, uint32_t n, unsigned w, int is_signed,
                          unsigned flags, uint64_t *base)
{
    if (n == 0) {
        *base = 0;
        return 0;
    }
    uint64_t mn, mx;
    minmax(v, n, w, is_signed, &mn, &mx);
    *base = mn;
    unsigned bw = tlf_bit_width(mx - mn);
    return (flags & TLF_OPT_BYTE_ALIGN) ? round_bw(bw) : bw;
}

size_t tlf_for_size_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                        unsigned flags)
{
    uint64_t base;
    unsigned bw = for_width(v, n, w, is_signed, flags, &base);
    return (size_t)(16 + tlf_pad8(tlf_bitpack_bytes(n, bw)));
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
    uint64_t base;
    unsigned bw = for_width(v, n, w, is_signed, flags, &base);
    size_t nb = tlf_bitpack_bytes(n, bw), total = 16 + (size_t)tlf_pad8(nb);
    int rc = tlf_buf_reserve(out, total, err);
    if (rc)
        return rc;
    uint8_t *p = out->p + out->len;
    memset(p, 0, 16);
    tlf_st64(p, base);
    p[8] = (uint8_t)bw;
    uint64_t tmp[TLF_CHUNK];
    for (uint32_t s = 0; s < n && bw > 0; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        tlf_widen(v, s, cnt, w, is_signed, tmp);
        for (uint32_t i = 0; i < cnt; i++)
            tmp[i] -= base;
        tlf_bitpack64(tmp, cnt, bw, p + 16 + (size_t)s / 8 * bw);
    }
    memset(p + 16 + nb, 0, total - 16 - nb);
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
    if (len < 16)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected at least the 16-byte header",
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
    size_t nb = tlf_bitpack_bytes(n, bw);
    uint64_t exp = 16 + tlf_pad8(nb);
    if (len != exp)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected 16 + %llu = %llu for %u values of bit width %u",
                            what, len, (unsigned long long)(exp - 16),
                            (unsigned long long)exp, n, bw);
    h->base = tlf_ld64(src);
    h->bw = bw;
    h->data = src + 16;
    h->nbytes = nb;
    h->data_off = off0 + 16;
    return TL_OK;
}

void tlf_for_chunk(const tlf_for_hdr *h, uint32_t start, uint32_t cnt,
                   uint64_t *out)
{
    tlf_unpack_at(h->data, h->nbytes, (uint64_t)start * h->bw, cnt, h->bw, out);
    uint64_t base = h->base;
    for (uint32_t i = 0; i < cnt; i++)
        out[i] += base;
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
    if (tlf_fast_for(h.data, h.nbytes, h.bw, h.base, n, tlf_kind_int(w, is_signed),
                     NULL, dst))
        return TL_OK;
    uint64_t tmp[TLF_CHUNK];
    for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        tlf_for_chunk(&h, s, cnt, tmp);
        size_t bad = tlf_narrow(tmp, cnt, w, is_signed, dst, s);
        if (bad < cnt) {
            uint64_t i = s + bad;
            return tl_error_set(err, TL_ECORRUPT,
                                "for: value %llu (packed at payload offset %llu) is base + %llu = 0x%016llx, not a valid %s %u-byte value",
                                (unsigned long long)i,
                                (unsigned long long)(16 + i * h.bw / 8),
                                (unsigned long long)(tmp[bad] - h.base),
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

/* Deltas of miniblock m of the extended values (cnt returned), with its
 * min delta and width; d[] receives delta - min. */
static uint32_t delta_mini_prep(const void *v, uint32_t n, unsigned w,
                                int is_signed, uint32_t m, uint64_t *d,
                                int64_t *min_out, unsigned *bw_out)
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
    *min_out = mn;
    *bw_out = tlf_bit_width(or_);
    return cnt;
}

size_t tlf_delta_size(const void *v, uint32_t n, unsigned w, int is_signed)
{
    if (n == 0)
        return 0;
    uint32_t nm = n_mini_of(n);
    uint64_t total = 16 + 8 * (uint64_t)nm + tlf_pad8(nm);
    uint64_t d[TLF_MINI];
    for (uint32_t m = 0; m < nm; m++) {
        int64_t mn;
        unsigned bw;
        uint32_t cnt = delta_mini_prep(v, n, w, is_signed, m, d, &mn, &bw);
        total += mini_bytes(cnt, bw);
    }
    return (size_t)total;
}

int tlf_delta_encode(const void *v, uint32_t n, unsigned w, int is_signed,
                     tlf_buf *out, tl_error *err)
{
    if (!valid_w(w))
        return tl_error_set(err, TL_EINVAL, "delta: value width %u, expected 1, 2, 4 or 8", w);
    if (n == 0)
        return TL_OK;
    uint32_t nm = n_mini_of(n);
    size_t hdr = 16 + 8 * (size_t)nm + (size_t)tlf_pad8(nm);
    int rc = tlf_buf_reserve(out, hdr, err);
    if (rc)
        return rc;
    size_t at = out->len; /* offsets, not pointers: the buffer may move */
    uint8_t *p = out->p + at;
    memset(p, 0, hdr);
    uint64_t first;
    tlf_widen(v, 0, 1, w, is_signed, &first);
    tlf_st64(p, first);
    tlf_st32(p + 8, nm);
    out->len += hdr;
    uint64_t d[TLF_MINI];
    for (uint32_t m = 0; m < nm; m++) {
        int64_t mn;
        unsigned bw;
        uint32_t cnt = delta_mini_prep(v, n, w, is_signed, m, d, &mn, &bw);
        size_t mb = (size_t)mini_bytes(cnt, bw);
        rc = tlf_buf_reserve(out, mb, err);
        if (rc)
            return rc;
        p = out->p + at;
        tlf_st64(p + 16 + 8 * (size_t)m, (uint64_t)mn);
        p[16 + 8 * (size_t)nm + m] = (uint8_t)bw;
        uint8_t *q = out->p + out->len;
        size_t nb = tlf_bitpack_bytes(cnt, bw);
        tlf_bitpack64(d, cnt, bw, q);
        memset(q + nb, 0, mb - nb);
        out->len += mb;
    }
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
    uint32_t res = tlf_ld32(src + 12);
    if (res)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: reserved field at payload offset %zu is 0x%08x, expected 0",
                            what, off0 + 12, res);
    uint64_t hdr = 16 + 8 * (uint64_t)nm + tlf_pad8(nm);
    if (len < hdr)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: payload is %zu bytes, expected at least %llu for the header, %u min deltas and widths",
                            what, len, (unsigned long long)hdr, nm);
    const uint8_t *wd = src + 16 + 8 * (size_t)nm;
    uint64_t data = 0;
    for (uint32_t m = 0; m < nm; m++) {
        if (wd[m] > max_bw)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: bit width of miniblock %u at payload offset %zu is %u, expected at most %u",
                                what, m, off0 + 16 + 8 * (size_t)nm + m, wd[m], max_bw);
        uint32_t cnt = m + 1 < nm ? TLF_MINI : n - 1 - m * TLF_MINI;
        data += mini_bytes(cnt, wd[m]);
    }
    for (uint64_t i = 16 + 9 * (uint64_t)nm; i < hdr; i++)
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
    tlf_unpack_at(h->data + *pos, h->data_len - *pos, 0, cnt, bw, out);
    for (uint32_t i = 0; i < cnt; i++) {
        prev += mn + out[i];
        out[i] = prev;
    }
    *pos += (size_t)mini_bytes(cnt, bw);
    return cnt;
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
