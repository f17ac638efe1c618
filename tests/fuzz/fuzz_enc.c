/*
 * fuzz_enc.c - libFuzzer target for the value decoders of enc.h.
 *
 * Input: 8 header bytes, then the payload.
 *   0  mode: % 6 -> FOR, DELTA, RLE, SCALED, DICT, raw bit unpack
 *   1  bits 0-1: width index (1, 2, 4, 8; SCALED: 4 or 8), bit 2: signed;
 *      mode 5: bit width = byte % 65
 *   2  u16 n (taken % 4097)
 *   4  u32 n_dict (DICT)
 * The decoder runs on an exact-size heap copy of the payload into an
 * exact-size output; on success the values are re-encoded and decoded
 * again and must come back identical (size functions must match too).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enc.h"
#include "tl_format.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void int_case(int mode, const uint8_t *pl, size_t len, uint32_t n,
                     unsigned w, int s)
{
    tl_error err;
    void *out = xmalloc((size_t)n * w);
    int rc = mode == 0 ? tlf_for_decode(pl, len, n, w, s, out, &err)
                       : tlf_delta_decode(pl, len, n, w, s, out, &err);
    if (rc != TL_OK) {
        CHECK(rc == TL_ECORRUPT && err.code == rc && err.msg[0]);
        free(out);
        return;
    }
    tlf_buf b = {0};
    rc = mode == 0 ? tlf_for_encode(out, n, w, s, &b, &err)
                   : tlf_delta_encode(out, n, w, s, &b, &err);
    CHECK(rc == TL_OK);
    CHECK(b.len == (mode == 0 ? tlf_for_size(out, n, w, s) : tlf_delta_size(out, n, w, s)));
    /* (not necessarily <= len: mod 2^64 a crafted base can need fewer bits) */
    void *again = xmalloc((size_t)n * w);
    rc = mode == 0 ? tlf_for_decode(b.p, b.len, n, w, s, again, &err)
                   : tlf_delta_decode(b.p, b.len, n, w, s, again, &err);
    CHECK(rc == TL_OK);
    CHECK(memcmp(out, again, (size_t)n * w) == 0);
    tlf_buf_free(&b);
    free(out);
    free(again);
}

static void rle_case(const uint8_t *pl, size_t len, uint32_t n, unsigned w)
{
    tl_error err;
    void *out = xmalloc((size_t)n * w);
    int rc = tlf_rle_decode(pl, len, n, w, out, &err);
    uint32_t nr;
    const void *vals;
    const uint32_t *ends;
    int rv = tlf_rle_view(pl, len, n, w, &nr, &vals, &ends, &err); /* pl is malloc-aligned */
    CHECK(rv == rc);
    if (rc != TL_OK) {
        CHECK(rc == TL_ECORRUPT && err.msg[0]);
        free(out);
        return;
    }
    tlf_buf b = {0};
    CHECK(tlf_rle_encode(out, n, w, &b, &err) == TL_OK);
    CHECK(b.len == tlf_rle_size(tlf_rle_count_runs(out, n, w), w));
    CHECK(tlf_rle_count_runs(out, n, w) <= nr);
    void *again = xmalloc((size_t)n * w);
    CHECK(tlf_rle_decode(b.p, b.len, n, w, again, &err) == TL_OK);
    CHECK(memcmp(out, again, (size_t)n * w) == 0);
    tlf_buf_free(&b);
    free(out);
    free(again);
}

static void scaled_case(const uint8_t *pl, size_t len, uint32_t n, unsigned w)
{
    tl_error err;
    void *out = xmalloc((size_t)n * w);
    int inner = -1;
    int rc = tlf_scaled_decode(pl, len, n, w, out, &inner, &err);
    if (rc != TL_OK) {
        CHECK(rc == TL_ECORRUPT && err.msg[0]);
        free(out);
        return;
    }
    CHECK(inner == TLF_ENC_PLAIN || inner == TLF_ENC_RLE || inner == TLF_ENC_FOR ||
          inner == TLF_ENC_DELTA);
    /* decimal grids re-encode; other divisors need not be found */
    int64_t *k = xmalloc((size_t)n * 8);
    uint64_t div;
    if (tlf_scaled_find(out, n, w, k, &div)) {
        tlf_buf b = {0};
        CHECK(tlf_scaled_encode(k, n, div, inner, &b, &err) == TL_OK);
        void *again = xmalloc((size_t)n * w);
        CHECK(tlf_scaled_decode(b.p, b.len, n, w, again, NULL, &err) == TL_OK);
        CHECK(memcmp(out, again, (size_t)n * w) == 0);
        free(again);
        tlf_buf_free(&b);
    }
    free(k);
    free(out);
}

static void dict_case(const uint8_t *pl, size_t len, uint32_t n, uint32_t nd)
{
    tl_error err;
    uint32_t *out = xmalloc((size_t)n * 4);
    int rc = tlf_dict_decode_codes(pl, len, n, nd, out, &err);
    if (rc != TL_OK) {
        CHECK(rc == TL_ECORRUPT && err.msg[0]);
        free(out);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        CHECK(out[i] < nd);
    tlf_buf b = {0};
    CHECK(tlf_dict_encode(out, n, nd, &b, &err) == TL_OK);
    CHECK(b.len <= len);
    uint32_t *again = xmalloc((size_t)n * 4);
    CHECK(tlf_dict_decode_codes(b.p, b.len, n, nd, again, &err) == TL_OK);
    CHECK(memcmp(out, again, (size_t)n * 4) == 0);
    tlf_buf_free(&b);
    free(out);
    free(again);
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
    int mode = data[0] % 6;
    static const unsigned WS[4] = {1, 2, 4, 8};
    unsigned w = WS[data[1] & 3];
    int s = (data[1] >> 2) & 1;
    uint32_t n = (uint32_t)(data[2] | data[3] << 8) % 4097;
    uint32_t nd;
    memcpy(&nd, data + 4, 4);
    size_t len = size - 8;
    uint8_t *pl = xmalloc(len);
    memcpy(pl, data + 8, len);
    switch (mode) {
    case 0:
    case 1: int_case(mode, pl, len, n, w, s); break;
    case 2: rle_case(pl, len, n, w); break;
    case 3: scaled_case(pl, len, n, (data[1] & 1) ? 8 : 4); break;
    case 4: dict_case(pl, len, n, nd); break;
    default: bitpack_case(pl, len, n, data[1] % 65); break;
    }
    free(pl);
    return 0;
}
