/*
 * fuzz_enc.c - libFuzzer target for the value decoders of enc.h.
 *
 * Input: 8 header bytes, then the payload.
 *   0  mode: % 8 -> FOR, DELTA, RLE, SCALED, DICT codes, raw bit unpack,
 *      tlf_scaled_find on raw floats, DICT of fixed-width values
 *   1  bits 0-1: width index (1, 2, 4, 8; SCALED/find: bit 0 picks 8 or 4),
 *      bit 2: signed; bit 3: re-encode with TLF_OPT_BYTE_ALIGN; bits 4-5
 *      (DICT): re-encode with codes forced to FOR (01) or RLE (10);
 *      bit 6 (FOR, DELTA): re-encode with TLF_OPT_NO_FACTOR;
 *      mode 5: bit width = byte % 65
 *   2  u16 n (taken % 4097)
 *   4  u32 n_dict (DICT)
 * Each decoder runs on an exact-size heap copy of the payload into an
 * exact-size output, once with the SIMD kernels and once with the scalar
 * paths: both must agree on the result code, message and values. On
 * success the values are re-encoded and decoded again and must come back
 * identical (size functions must match the bytes appended).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enc.h"
#include "enc_priv.h"
#include "tl_format.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

#define CHECK(c) do { if (!(c)) abort(); } while (0)

enum { M_FOR, M_DELTA, M_RLE, M_SCALED, M_DICT, M_BITS, M_FIND, M_FDICT, M_COUNT };

static int dec(int mode, const uint8_t *pl, size_t len, uint32_t n, unsigned w,
               int s, uint32_t nd, void *out, tl_error *err)
{
    switch (mode) {
    case M_FOR: return tlf_for_decode(pl, len, n, w, s, out, err);
    case M_DELTA: return tlf_delta_decode(pl, len, n, w, s, out, err);
    case M_RLE: return tlf_rle_decode(pl, len, n, w, out, err);
    case M_SCALED: return tlf_scaled_decode(pl, len, n, w, out, NULL, err);
    case M_FDICT: return tlf_fdict_decode(pl, len, n, w, out, err);
    default: return tlf_dict_decode_codes(pl, len, n, nd, out, err);
    }
}

static int enc(int mode, const void *v, uint32_t n, unsigned w, int s,
               uint32_t nd, unsigned fl, tlf_buf *b, size_t *size_fn)
{
    switch (mode) {
    case M_FOR:
        *size_fn = tlf_for_size_opt(v, n, w, s, fl);
        return tlf_for_encode_opt(v, n, w, s, fl, b, NULL);
    case M_DELTA:
        *size_fn = tlf_delta_size_opt(v, n, w, s, fl);
        return tlf_delta_encode_opt(v, n, w, s, fl, b, NULL);
    case M_RLE:
        *size_fn = tlf_rle_size(tlf_rle_count_runs(v, n, w), w);
        return tlf_rle_encode(v, n, w, b, NULL);
    case M_FDICT: {
        tlf_fdict d = {0};
        uint32_t *codes = xmalloc((size_t)n * 4);
        int fits, rc = tlf_fdict_build(&d, v, n, w, n, codes, &fits, NULL);
        CHECK(rc == TL_OK && fits);
        *size_fn = tlf_fdict_size(d.n_dict, w, tlf_dict_codes_size(codes, n, fl));
        rc = tlf_fdict_encode(d.vals, d.n_dict, w, codes, n, fl, b, NULL);
        /* distinct entries in first-seen order: never more than the input's */
        CHECK(n == 0 || d.n_dict <= n);
        free(codes);
        tlf_fdict_free(&d);
        return rc;
    }
    default:
        *size_fn = tlf_dict_codes_size(v, n, fl);
        return tlf_dict_encode_opt(v, n, nd, fl, b, NULL);
    }
}

/* decode with and without SIMD; 1 and the values in out if valid */
static int decode_both(int mode, const uint8_t *pl, size_t len, uint32_t n,
                       unsigned w, int s, uint32_t nd, void *out)
{
    tl_error e1, e2;
    void *o2 = xmalloc((size_t)n * w);
    tlf_enc_no_simd = 0;
    int r1 = dec(mode, pl, len, n, w, s, nd, out, &e1);
    tlf_enc_no_simd = 1;
    int r2 = dec(mode, pl, len, n, w, s, nd, o2, &e2);
    tlf_enc_no_simd = 0;
    CHECK(r1 == r2);
    if (r1 == TL_OK)
        CHECK(memcmp(out, o2, (size_t)n * w) == 0);
    else
        CHECK(r1 == TL_ECORRUPT && e1.code == r1 && e1.msg[0] && strcmp(e1.msg, e2.msg) == 0);
    free(o2);
    return r1 == TL_OK;
}

static void value_case(int mode, const uint8_t *pl, size_t len, uint32_t n,
                       unsigned w, int s, uint32_t nd, unsigned fl)
{
    void *out = xmalloc((size_t)n * w);
    if (!decode_both(mode, pl, len, n, w, s, nd, out)) {
        free(out);
        return;
    }
    if (mode == M_RLE) {
        uint32_t nr;
        const void *vals;
        const uint32_t *ends;
        CHECK(tlf_rle_view(pl, len, n, w, &nr, &vals, &ends, NULL) == TL_OK);
        CHECK(tlf_rle_count_runs(out, n, w) <= nr);
    }
    if (mode == M_DICT)
        for (uint32_t i = 0; i < n; i++)
            CHECK(((const uint32_t *)out)[i] < nd);
    tlf_buf b = {0};
    size_t want;
    CHECK(enc(mode, out, n, w, s, nd, fl, &b, &want) == TL_OK);
    CHECK(b.len == want);
    if (mode == M_DICT && !(fl & (TLF_OPT_BYTE_ALIGN | TLF_OPT_CODES_FOR | TLF_OPT_CODES_RLE)))
        CHECK(b.len <= len); /* the smaller of minimal FOR and minimal RLE */
    void *again = xmalloc((size_t)n * w);
    tl_error err;
    CHECK(dec(mode, b.p, b.len, n, w, s, nd, again, &err) == TL_OK);
    CHECK(memcmp(out, again, (size_t)n * w) == 0);
    tlf_buf_free(&b);
    free(out);
    free(again);
}

/* both paths of tlf_scaled_find must agree; a result must reproduce v */
static int find_both(const void *v, uint32_t n, unsigned w, int64_t *k, uint64_t *div)
{
    int64_t *k2 = xmalloc((size_t)n * 8);
    uint64_t d2 = 0;
    tlf_enc_no_simd = 1;
    int r2 = tlf_scaled_find(v, n, w, k2, &d2);
    tlf_enc_no_simd = 0;
    int r1 = tlf_scaled_find(v, n, w, k, div);
    CHECK(r1 == r2);
    if (r1) {
        CHECK(*div == d2 && memcmp(k, k2, (size_t)n * 8) == 0);
        CHECK(*div >= 1 && *div <= 1000000000);
        for (uint32_t i = 0; i < n; i++) {
            CHECK(k[i] >= -(1ll << 53) && k[i] <= (1ll << 53));
            double q = (double)k[i] / (double)*div;
            if (w == 8) {
                CHECK(memcmp(&q, (const double *)v + i, 8) == 0);
            } else {
                float f = (float)q;
                CHECK(memcmp(&f, (const float *)v + i, 4) == 0);
            }
        }
    }
    free(k2);
    return r1;
}

static void scaled_case(const uint8_t *pl, size_t len, uint32_t n, unsigned w)
{
    void *out = xmalloc((size_t)n * w);
    int inner = -1;
    if (!decode_both(M_SCALED, pl, len, n, w, 1, 0, out)) {
        free(out);
        return;
    }
    CHECK(tlf_scaled_decode(pl, len, n, w, out, &inner, NULL) == TL_OK);
    CHECK(inner == TLF_ENC_PLAIN || inner == TLF_ENC_RLE || inner == TLF_ENC_FOR ||
          inner == TLF_ENC_DELTA);
    /* decimal grids re-encode; other divisors need not be found */
    int64_t *k = xmalloc((size_t)n * 8);
    uint64_t div;
    if (find_both(out, n, w, k, &div)) {
        tlf_buf b = {0};
        CHECK(tlf_scaled_encode(k, n, div, inner, &b, NULL) == TL_OK);
        void *again = xmalloc((size_t)n * w);
        CHECK(tlf_scaled_decode(b.p, b.len, n, w, again, NULL, NULL) == TL_OK);
        CHECK(memcmp(out, again, (size_t)n * w) == 0);
        free(again);
        tlf_buf_free(&b);
    }
    free(k);
    free(out);
}

static void find_case(const uint8_t *pl, size_t len, unsigned w)
{
    uint32_t n = (uint32_t)(len / w);
    void *v = xmalloc((size_t)n * w);
    memcpy(v, pl, (size_t)n * w);
    int64_t *k = xmalloc((size_t)n * 8);
    uint64_t div;
    find_both(v, n, w, k, &div);
    free(k);
    free(v);
}

static void bitpack_case(const uint8_t *pl, size_t len, uint32_t n, unsigned bw)
{
    if (bw && (uint64_t)n * bw > (uint64_t)len * 8)
        n = (uint32_t)((uint64_t)len * 8 / bw);
    size_t nb = tlf_bitpack_bytes(n, bw);
    uint64_t *v = xmalloc((size_t)n * 8);
    tlf_bitunpack64(pl, n, bw, v);
    uint8_t *re = xmalloc(nb);
    tlf_bitpack64(v, n, bw, re);
    if (nb) {
        CHECK(memcmp(re, pl, nb - 1) == 0);
        unsigned used = (unsigned)(((uint64_t)n * bw) % 8);
        uint8_t mask = used ? (uint8_t)((1u << used) - 1) : 0xFF;
        CHECK(re[nb - 1] == (pl[nb - 1] & mask));
    }
    free(v);
    free(re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    int mode = data[0] % M_COUNT;
    static const unsigned WS[4] = {1, 2, 4, 8};
    unsigned w = WS[data[1] & 3];
    int s = (data[1] >> 2) & 1;
    uint32_t n = (uint32_t)(data[2] | data[3] << 8) % 4097;
    uint32_t nd;
    memcpy(&nd, data + 4, 4);
    size_t len = size - 8;
    uint8_t *pl = xmalloc(len);
    memcpy(pl, data + 8, len);
    unsigned fl = (data[1] & 8) ? TLF_OPT_BYTE_ALIGN : 0;
    if (((data[1] >> 4) & 3) == 1)
        fl |= TLF_OPT_CODES_FOR;
    else if (((data[1] >> 4) & 3) == 2)
        fl |= TLF_OPT_CODES_RLE;
    switch (mode) {
    case M_FOR:
    case M_DELTA:
    case M_RLE:
        if (data[1] & 0x40)
            fl |= TLF_OPT_NO_FACTOR;
        value_case(mode, pl, len, n, w, s, 0, fl & (TLF_OPT_BYTE_ALIGN | TLF_OPT_NO_FACTOR));
        break;
    case M_DICT: value_case(mode, pl, len, n, 4, 0, nd, fl); break;
    case M_FDICT: value_case(mode, pl, len, n, w, 0, 0, fl); break;
    case M_SCALED: scaled_case(pl, len, n, (data[1] & 1) ? 8 : 4); break;
    case M_BITS: bitpack_case(pl, len, n, data[1] % 65); break;
    default: find_case(pl, len, (data[1] & 1) ? 8 : 4); break;
    }
    free(pl);
    return 0;
}
