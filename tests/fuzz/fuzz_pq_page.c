/*
 * fuzz_pq_page.c - libFuzzer target for the Parquet page decoders and
 * codecs of pq_page.h.
 *
 * Input: 4 header bytes, then the payload.
 *   0  mode % 16: 0 hybrid u32, 1 hybrid u8, 2 hybrid bitmap, 3 v1 levels,
 *      4 dictionary indices, 5 PLAIN fixed, 6 PLAIN BOOLEAN, 7 PLAIN
 *      BYTE_ARRAY, 8 DELTA INT32, 9 DELTA INT64, 10 DELTA_LENGTH_BYTE_ARRAY,
 *      11 DELTA_BYTE_ARRAY, 12 BYTE_STREAM_SPLIT, 13 decompress,
 *      14 compress + decompress round trip, 15 hybrid encode round trip
 *   1  parameter: bit width (modes 0, 1, 3, 15: % 33 or % 9), bit offset
 *      (2: % 8), dictionary size (4: * 3), value width (5, 12: % 17 + 1),
 *      codec (13, 14: % 8)
 *   2  u16 n (value count; mode 13: expected size), taken % 4097 (13: as is)
 * The payload is an exact-size heap copy and outputs are exact-size heap
 * buffers, so any access outside them is caught. Decoders must return
 * TL_OK or TL_ECORRUPT (codecs also TL_EUNSUPPORTED) with a message; on
 * success hybrid values are re-encoded and must decode back identically.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pq_page.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void check_err(int rc, const tl_error *e, int codec)
{
    if (rc == TL_OK)
        return;
    CHECK(rc == TL_ECORRUPT || (codec && rc == TL_EUNSUPPORTED));
    CHECK(e->code == rc && e->msg[0]);
    if (!codec)
        CHECK(strstr(e->msg, "byte offset") != NULL);
}

static void hybrid_back(const uint32_t *v, size_t n, unsigned bw)
{
    uint8_t *buf = xmalloc(tlf_pq_hybrid_bound(n, bw));
    size_t len = tlf_pq_hybrid_encode32(v, n, bw, buf);
    CHECK(len <= tlf_pq_hybrid_bound(n, bw));
    uint32_t *o = xmalloc(n * 4);
    tl_error e;
    CHECK(tlf_pq_hybrid_decode32(buf, len, bw, o, n, 0, NULL, &e) == TL_OK);
    CHECK(n == 0 || memcmp(o, v, n * 4) == 0);
    free(o);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    unsigned mode = data[0] % 16, par = data[1];
    size_t raw_n = (size_t)data[2] | (size_t)data[3] << 8;
    size_t n = raw_n % 4097;
    size_t len = size - 4;
    uint8_t *src = xmalloc(len);
    memcpy(src, data + 4, len);
    tl_error e;
    int rc;
    switch (mode) {
    case 0: case 4: {
        unsigned bw = par % 33;
        uint32_t *o = xmalloc(n * 4);
        if (mode == 0) {
            size_t used = 0;
            rc = tlf_pq_hybrid_decode32(src, len, bw, o, n, 0, &used, &e);
            check_err(rc, &e, 0);
            if (rc == TL_OK) {
                CHECK(used <= len);
                for (size_t i = 0; i < n; i++)
                    CHECK(bw == 32 || o[i] < (1u << bw));
                hybrid_back(o, n, bw);
            }
        } else {
            uint32_t ds = par * 3u;
            rc = tlf_pq_dict_indices(src, len, o, n, ds, 0, &e);
            check_err(rc, &e, 0);
            if (rc == TL_OK)
                for (size_t i = 0; i < n; i++)
                    CHECK(o[i] < ds);
        }
        free(o);
        break;
    }
    case 1: case 3: {
        unsigned bw = par % 9;
        uint8_t *o = xmalloc(n);
        size_t used = 0;
        if (mode == 1)
            rc = tlf_pq_hybrid_decode8(src, len, bw, o, n, 0, &used, &e);
        else
            rc = tlf_pq_levels_v1(src, len, bw, o, n, 0, &used, &e);
        check_err(rc, &e, 0);
        if (rc == TL_OK) {
            CHECK(used <= len);
            uint32_t *w = xmalloc(n * 4);
            for (size_t i = 0; i < n; i++) {
                CHECK(bw == 8 || o[i] < (1u << bw));
                w[i] = o[i];
            }
            hybrid_back(w, n, bw);
            uint8_t *buf = xmalloc(tlf_pq_hybrid_bound(n, bw));
            size_t l8 = tlf_pq_hybrid_encode8(o, n, bw, buf);
            uint8_t *o2 = xmalloc(n);
            CHECK(tlf_pq_hybrid_decode8(buf, l8, bw, o2, n, 0, NULL, &e) == TL_OK);
            CHECK(n == 0 || memcmp(o, o2, n) == 0);
            free(o2);
            free(buf);
            free(w);
        }
        free(o);
        break;
    }
    case 2: {
        uint64_t bit0 = par % 8, n_set = 0;
        size_t nb = (size_t)((bit0 + n + 7) / 8);
        uint8_t *bm = xmalloc(nb);
        memset(bm, 0, nb);
        rc = tlf_pq_hybrid_decode_bits(src, len, bm, bit0, n, &n_set, 0, NULL, &e);
        check_err(rc, &e, 0);
        if (rc == TL_OK) {
            uint64_t c = 0;
            for (size_t i = 0; i < n; i++)
                c += (uint64_t)tl_bit_get(bm, bit0 + i);
            CHECK(c == n_set);
            uint8_t *buf = xmalloc(tlf_pq_hybrid_bound(n, 1));
            size_t l = tlf_pq_hybrid_encode_bits(bm, bit0, n, buf);
            uint8_t *bm2 = xmalloc(nb);
            memset(bm2, 0, nb);
            CHECK(tlf_pq_hybrid_decode_bits(buf, l, bm2, bit0, n, NULL, 0, NULL, &e) == TL_OK);
            CHECK(nb == 0 || memcmp(bm, bm2, nb) == 0);
            free(bm2);
            free(buf);
        }
        free(bm);
        break;
    }
    case 5: case 12: {
        size_t w = par % 17 + 1;
        uint8_t *o = xmalloc(n * w);
        if (mode == 5)
            rc = tlf_pq_plain_fixed(src, len, w, o, n, 0, NULL, &e);
        else
            rc = tlf_pq_bss_decode(src, len, w, o, n, 0, &e);
        check_err(rc, &e, 0);
        free(o);
        break;
    }
    case 6: {
        uint8_t *o = xmalloc(n);
        rc = tlf_pq_plain_bool(src, len, o, n, 0, NULL, &e);
        check_err(rc, &e, 0);
        free(o);
        break;
    }
    case 7: case 10: {
        uint32_t *offs = xmalloc((n + 1) * 4);
        uint8_t *d = xmalloc(len);
        size_t used;
        if (mode == 7)
            rc = tlf_pq_plain_byte_array(src, len, offs, 0, d, len, n, 0, &used, &e);
        else
            rc = tlf_pq_delta_length_decode(src, len, offs, 0, d, len, n, 0, &used, &e);
        check_err(rc, &e, 0);
        if (rc == TL_OK) {
            CHECK(used <= len);
            for (size_t i = 0; i < n; i++)
                CHECK(offs[i] <= offs[i + 1]);
            CHECK(offs[n] <= len);
        }
        free(d);
        free(offs);
        break;
    }
    case 8: case 9: {
        uint64_t *o = xmalloc(n * 8);
        size_t used;
        if (mode == 8)
            rc = tlf_pq_delta_decode32(src, len, (int32_t *)o, n, 0, &used, &e);
        else
            rc = tlf_pq_delta_decode64(src, len, (int64_t *)o, n, 0, &used, &e);
        check_err(rc, &e, 0);
        if (rc == TL_OK)
            CHECK(used <= len);
        uint64_t total;
        rc = tlf_pq_delta_count(src, len, &total, 0, &e);
        check_err(rc, &e, 0);
        free(o);
        break;
    }
    case 11: {
        uint64_t need;
        rc = tlf_pq_delta_byte_array_size(src, len, n, &need, 0, &e);
        check_err(rc, &e, 0);
        if (rc == TL_OK && need <= (1u << 22)) {
            uint32_t *offs = xmalloc((n + 1) * 4);
            uint8_t *d = xmalloc((size_t)need);
            size_t used;
            rc = tlf_pq_delta_byte_array_decode(src, len, offs, 0, d, (size_t)need, n, 0, &used, &e);
            CHECK(rc == TL_OK);
            CHECK(offs[n] == need && used <= len);
            free(d);
            free(offs);
        }
        break;
    }
    case 13: {
        size_t want = raw_n;
        uint8_t *o = xmalloc(want);
        rc = tlf_pq_decompress(NULL, (int)(par % 8), src, len, o, want, &e);
        check_err(rc, &e, 1);
        free(o);
        break;
    }
    case 14: {
        int codec = (int)(par % 8);
        size_t cap = tlf_pq_codec_bound(codec, len);
        if (cap == 0)
            break;
        uint8_t *c = xmalloc(cap);
        size_t cl;
        rc = tlf_pq_compress(NULL, codec, 1, src, len, c, cap, &cl, &e);
        CHECK(rc == TL_OK && cl <= cap);
        uint8_t *o = xmalloc(len);
        rc = tlf_pq_decompress(NULL, codec, c, cl, o, len, &e);
        CHECK(rc == TL_OK);
        CHECK(len == 0 || memcmp(o, src, len) == 0);
        free(o);
        free(c);
        break;
    }
    default: {
        unsigned bw = par % 33;
        size_t cnt = len / 4;
        uint32_t *v = xmalloc(cnt * 4);
        for (size_t i = 0; i < cnt; i++) {
            memcpy(&v[i], src + 4 * i, 4);
            if (bw < 32)
                v[i] &= (1u << bw) - 1;
        }
        hybrid_back(v, cnt, bw);
        free(v);
        break;
    }
    }
    free(src);
    return 0;
}
