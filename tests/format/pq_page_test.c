/*
 * pq_page_test.c - Parquet page encodings and codecs (pq_page.h): the
 * Encodings.md examples byte for byte, round trips of the hybrid encoder
 * at every bit width, DELTA_BINARY_PACKED at every bit width 0..64 from a
 * tiny test-local encoder, the byte-array encodings, BYTE_STREAM_SPLIT,
 * every codec, and the rejection of truncated / corrupt input (code and a
 * message naming the byte offset). Inputs are exact-size heap copies so
 * ASan sees any read past them.
 */
#include <criterion/criterion.h>
#include <lz4.h>
#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_page.h"

static uint64_t rng_state = 1;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    cr_assert(p);
    return p;
}
static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *q = xmalloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
}

#define ASSERT_CORRUPT_AT(rc, e)                                               \
    do {                                                                       \
        cr_assert_eq((rc), TL_ECORRUPT, "rc %d msg %s", (rc), (e).msg);        \
        cr_assert(strstr((e).msg, "byte offset"), "msg: %s", (e).msg);         \
    } while (0)

/* ---- test-local encoders -------------------------------------------------- */

static size_t t_uleb(uint8_t *d, uint64_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        d[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    d[k++] = (uint8_t)v;
    return k;
}
static uint64_t t_zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

/* cnt values of width w LSB-first at bit offset 0 of d (bit by bit) */
static void t_pack(uint8_t *d, const uint64_t *v, size_t cnt, unsigned w)
{
    memset(d, 0, (cnt * w + 7) / 8);
    for (size_t i = 0; i < cnt; i++)
        for (unsigned b = 0; b < w; b++)
            if ((v[i] >> b) & 1)
                d[(i * w + b) / 8] |= (uint8_t)(1u << ((i * w + b) % 8));
}

static unsigned t_width(uint64_t x) { return x ? 64 - (unsigned)__builtin_clzll(x) : 0; }

/* DELTA_BINARY_PACKED of n values (is32: INT32 semantics, v as int32 in the
 * low bits). junk_widths: unused miniblocks get width 0xAA. */
static size_t t_delta(const int64_t *v, size_t n, int is32, unsigned block,
                      unsigned nmini, int junk_widths, uint8_t *out)
{
    size_t k = 0;
    unsigned vpm = block / nmini;
    k += t_uleb(out + k, block);
    k += t_uleb(out + k, nmini);
    k += t_uleb(out + k, n);
    k += t_uleb(out + k, t_zz(n ? (is32 ? (int64_t)(int32_t)v[0] : v[0]) : 0));
    uint64_t *d = xmalloc(block * 8);
    size_t i = 1;
    while (i < n) {
        size_t cnt = n - i < block ? n - i : block;
        int64_t mn = INT64_MAX;
        for (size_t j = 0; j < cnt; j++) {
            int64_t dd;
            if (is32)
                dd = (int32_t)((uint32_t)v[i + j] - (uint32_t)v[i + j - 1]);
            else
                dd = (int64_t)((uint64_t)v[i + j] - (uint64_t)v[i + j - 1]);
            d[j] = (uint64_t)dd;
            if (dd < mn)
                mn = dd;
        }
        k += t_uleb(out + k, t_zz(mn));
        for (size_t j = 0; j < cnt; j++)
            d[j] = is32 ? (uint32_t)((uint32_t)d[j] - (uint32_t)mn)
                        : d[j] - (uint64_t)mn;
        size_t wpos = k;
        k += nmini;
        for (unsigned m = 0; m < nmini; m++) {
            if ((size_t)m * vpm >= cnt) {
                out[wpos + m] = junk_widths ? 0xAA : 0;
                continue;
            }
            uint64_t mx = 0;
            uint64_t tmp[4096];
            for (unsigned j = 0; j < vpm; j++) {
                size_t at = (size_t)m * vpm + j;
                tmp[j] = at < cnt ? d[at] : 0;
                if (tmp[j] > mx)
                    mx = tmp[j];
            }
            unsigned w = t_width(mx);
            out[wpos + m] = (uint8_t)w;
            t_pack(out + k, tmp, vpm, w);
            k += (size_t)vpm * w / 8;
        }
        i += cnt;
    }
    free(d);
    return k;
}

/* ---- RLE / bit-packed hybrid ---------------------------------------------- */

/* PQ-D3 */
Test(pq_hybrid, spec_bitpacking_example)
{
    /* Encodings.md: 0..7 at bit width 3 -> 10001000 11000110 11111010 */
    const uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t packed[3];
    tlf_pq_bitpack32(v, 8, 3, packed);
    cr_assert_eq(packed[0], 0x88);
    cr_assert_eq(packed[1], 0xC6);
    cr_assert_eq(packed[2], 0xFA);
    uint8_t stream[] = {0x03, 0x88, 0xC6, 0xFA}; /* 1 group, bit-packed */
    uint8_t *s = dup_bytes(stream, sizeof stream);
    uint32_t out[8];
    size_t used = 0;
    tl_error e;
    cr_assert_eq(tlf_pq_hybrid_decode32(s, 4, 3, out, 8, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, 4);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(out[i], (uint32_t)i);
    uint32_t back[8];
    tlf_pq_bitunpack32(packed, 8, 3, back);
    cr_assert_arr_eq(back, v, sizeof v);
    free(s);
}

/* PQ-D3 */
Test(pq_hybrid, rle_run_and_bitpacked_mix)
{
    /* RLE run of 5 x 300 at width 9 (2 value bytes), then one packed group */
    uint8_t st[32];
    size_t k = 0;
    st[k++] = 5 << 1;
    st[k++] = 300 & 0xff;
    st[k++] = 300 >> 8;
    st[k++] = 0x03;
    uint64_t g[8] = {1, 2, 3, 4, 5, 6, 7, 511};
    t_pack(st + k, g, 8, 9);
    k += 9;
    uint8_t *s = dup_bytes(st, k);
    uint32_t out[13];
    tl_error e;
    size_t used;
    cr_assert_eq(tlf_pq_hybrid_decode32(s, k, 9, out, 13, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, k);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(out[i], 300);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(out[5 + i], g[i]);
    /* the packed group padded: 10 values from the same stream */
    cr_assert_eq(tlf_pq_hybrid_decode32(s, k, 9, out, 10, 0, &used, &e), TL_OK, "%s", e.msg);
    free(s);
}

/* values of a pattern below 2^bw */
static void gen_vals(uint32_t *v, size_t n, unsigned bw, int pat)
{
    uint64_t mask = bw >= 32 ? 0xffffffffull : ((1ull << bw) - 1);
    for (size_t i = 0; i < n;) {
        switch (pat) {
        case 0: v[i++] = (uint32_t)(rnd() & mask); break;
        case 1: { /* runs of random length */
            uint32_t x = (uint32_t)(rnd() & mask);
            size_t r = 1 + rnd() % 40;
            for (size_t j = 0; j < r && i < n; j++)
                v[i++] = x;
            break;
        }
        case 2: /* mostly runs with noise */
            v[i] = (rnd() % 10 == 0) ? (uint32_t)(rnd() & mask) : (uint32_t)((i / 17) & mask);
            i++;
            break;
        default: v[i++] = (uint32_t)mask; break;
        }
    }
}

static void hybrid_roundtrip(const uint32_t *v, size_t n, unsigned bw)
{
    size_t cap = tlf_pq_hybrid_bound(n, bw);
    uint8_t *buf = xmalloc(cap);
    size_t len = tlf_pq_hybrid_encode32(v, n, bw, buf);
    cr_assert_leq(len, cap, "bw %u n %zu", bw, n);
    uint8_t *s = dup_bytes(buf, len);
    uint32_t *out = xmalloc(n * 4);
    tl_error e;
    size_t used;
    int rc = tlf_pq_hybrid_decode32(s, len, bw, out, n, 0, &used, &e);
    cr_assert_eq(rc, TL_OK, "bw %u n %zu: %s", bw, n, e.msg);
    if (bw)
        cr_assert_eq(used, len, "bw %u n %zu", bw, n);
    cr_assert(n == 0 || memcmp(out, v, n * 4) == 0, "bw %u n %zu", bw, n);
    if (bw <= 8) {
        uint8_t *v8 = xmalloc(n), *o8 = xmalloc(n);
        for (size_t i = 0; i < n; i++)
            v8[i] = (uint8_t)v[i];
        size_t len8 = tlf_pq_hybrid_encode8(v8, n, bw, buf);
        cr_assert_leq(len8, cap);
        uint8_t *s8 = dup_bytes(buf, len8);
        rc = tlf_pq_hybrid_decode8(s8, len8, bw, o8, n, 0, NULL, &e);
        cr_assert_eq(rc, TL_OK, "bw %u n %zu: %s", bw, n, e.msg);
        cr_assert(n == 0 || memcmp(o8, v8, n) == 0);
        /* the u32 decoder reads the u8 encoder's stream the same */
        rc = tlf_pq_hybrid_decode32(s8, len8, bw, out, n, 0, NULL, &e);
        cr_assert_eq(rc, TL_OK, "%s", e.msg);
        cr_assert(n == 0 || memcmp(out, v, n * 4) == 0);
        free(s8);
        free(v8);
        free(o8);
    }
    free(out);
    free(s);
    free(buf);
}

/* PQ-D3, PQ-D6 */
Test(pq_hybrid, roundtrip_every_width_and_length)
{
    uint32_t *v = xmalloc(1001 * 4);
    for (unsigned bw = 0; bw <= 32; bw++) {
        for (size_t n = 0; n <= 1000; n += (n < 40 ? 1 : 97)) {
            for (int pat = 0; pat < 4; pat++) {
                gen_vals(v, n, bw, pat);
                hybrid_roundtrip(v, n, bw);
            }
        }
    }
    free(v);
}

/* PQ-D6 */
Test(pq_hybrid, roundtrip_large)
{
    size_t n = 200000;
    uint32_t *v = xmalloc(n * 4);
    for (unsigned bw = 1; bw <= 32; bw += 5)
        for (int pat = 0; pat < 3; pat++) {
            gen_vals(v, n, bw, pat);
            hybrid_roundtrip(v, n, bw);
        }
    free(v);
}

/* PQ-D1, PQ-D3 */
Test(pq_hybrid, truncated_at_every_length)
{
    uint32_t v[300];
    uint8_t buf[2048];
    for (unsigned bw = 1; bw <= 32; bw += 3) {
        for (int pat = 0; pat < 3; pat++) {
            gen_vals(v, 300, bw, pat);
            size_t len = tlf_pq_hybrid_encode32(v, 300, bw, buf);
            for (size_t cut = 0; cut < len; cut++) {
                uint8_t *s = dup_bytes(buf, cut);
                uint32_t out[300];
                tl_error e;
                int rc = tlf_pq_hybrid_decode32(s, cut, bw, out, 300, 100, NULL, &e);
                if (rc == TL_OK) /* only padding may be missing */
                    cr_assert_arr_eq(out, v, sizeof v);
                else
                    ASSERT_CORRUPT_AT(rc, e);
                free(s);
            }
        }
    }
}

/* PQ-D1 */
Test(pq_hybrid, offsets_in_messages)
{
    /* stream ends: offset = off0 + length */
    uint8_t st[] = {4 << 1, 1};
    uint8_t *s = dup_bytes(st, 2);
    uint32_t out[10];
    tl_error e;
    int rc = tlf_pq_hybrid_decode32(s, 2, 1, out, 10, 1000, NULL, &e);
    ASSERT_CORRUPT_AT(rc, e);
    cr_assert(strstr(e.msg, "byte offset 1002"), "%s", e.msg);
    cr_assert(strstr(e.msg, "4 of 10"), "%s", e.msg);
    free(s);
}

/* PQ-D3 */
Test(pq_hybrid, overshoot_rules)
{
    tl_error e;
    uint32_t out[16];
    /* RLE run longer than the values wanted */
    uint8_t r1[] = {10 << 1, 1};
    uint8_t *s = dup_bytes(r1, 2);
    ASSERT_CORRUPT_AT(tlf_pq_hybrid_decode32(s, 2, 1, out, 5, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "overshoot"), "%s", e.msg);
    free(s);
    /* two groups for 5 values: more than padding */
    uint8_t r2[] = {(2 << 1) | 1, 0xff, 0xff};
    s = dup_bytes(r2, 3);
    ASSERT_CORRUPT_AT(tlf_pq_hybrid_decode32(s, 3, 1, out, 5, 0, NULL, &e), e);
    free(s);
    /* one group for 5 values: padding, fine; and its byte may hold 5 bits */
    s = dup_bytes(r2, 2);
    r2[0] = 0x03;
    memcpy(s, r2, 2);
    cr_assert_eq(tlf_pq_hybrid_decode32(s, 2, 1, out, 5, 0, NULL, &e), TL_OK, "%s", e.msg);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(out[i], 1);
    free(s);
    /* width 12, 3 values in a group whose 12 bytes are cut to the 5 needed */
    uint8_t r3[6] = {0x03, 0x01, 0x20, 0x00, 0x03, 0x00};
    s = dup_bytes(r3, 6);
    cr_assert_eq(tlf_pq_hybrid_decode32(s, 6, 12, out, 3, 0, NULL, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(out[0], 1);
    cr_assert_eq(out[1], 2);
    cr_assert_eq(out[2], 3);
    ASSERT_CORRUPT_AT(tlf_pq_hybrid_decode32(s, 5, 12, out, 3, 0, NULL, &e), e);
    free(s);
}

/* PQ-D1, PQ-D3 */
Test(pq_hybrid, bad_varint_and_width)
{
    uint8_t st[12];
    memset(st, 0xff, sizeof st);
    uint8_t *s = dup_bytes(st, sizeof st);
    uint32_t out[4];
    tl_error e;
    ASSERT_CORRUPT_AT(tlf_pq_hybrid_decode32(s, sizeof st, 3, out, 4, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "varint"), "%s", e.msg);
    cr_assert_eq(tlf_pq_hybrid_decode32(s, sizeof st, 33, out, 4, 0, NULL, &e), TL_EINVAL);
    uint8_t o8[4];
    cr_assert_eq(tlf_pq_hybrid_decode8(s, sizeof st, 9, o8, 4, 0, NULL, &e), TL_EINVAL);
    /* bit width 0: all zeros, no bytes needed */
    cr_assert_eq(tlf_pq_hybrid_decode32(s, 0, 0, out, 4, 0, NULL, &e), TL_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(out[i], 0);
    free(s);
}

static void bits_roundtrip(const uint8_t *bm, uint64_t bit0, size_t n)
{
    uint8_t *buf = xmalloc(tlf_pq_hybrid_bound(n, 1));
    size_t len = tlf_pq_hybrid_encode_bits(bm, bit0, n, buf);
    cr_assert_leq(len, tlf_pq_hybrid_bound(n, 1));
    uint8_t *s = dup_bytes(buf, len);
    /* decode into a bitmap prefilled with a pattern at another offset */
    uint64_t b1 = (bit0 * 3 + 5) % 11;
    size_t nb = (b1 + n + 7) / 8 + 1;
    uint8_t *dst = xmalloc(nb), *ref = xmalloc(nb);
    memset(dst, 0xA5, nb);
    memset(ref, 0xA5, nb);
    uint64_t expect_set = 0;
    for (size_t i = 0; i < n; i++) {
        int b = bm ? tl_bit_get(bm, bit0 + i) : 1;
        tl_bit_set(ref, b1 + i, b);
        expect_set += (uint64_t)b;
    }
    tl_error e;
    uint64_t n_set = 0;
    size_t used;
    int rc = tlf_pq_hybrid_decode_bits(s, len, dst, b1, n, &n_set, 0, &used, &e);
    cr_assert_eq(rc, TL_OK, "n %zu bit0 %llu: %s", n, (unsigned long long)bit0, e.msg);
    cr_assert_eq(used, len);
    cr_assert_eq(n_set, expect_set);
    cr_assert(memcmp(dst, ref, nb) == 0, "n %zu bit0 %llu", n, (unsigned long long)bit0);
    /* the u8 decoder agrees */
    uint8_t *o8 = xmalloc(n);
    rc = tlf_pq_hybrid_decode8(s, len, 1, o8, n, 0, NULL, &e);
    cr_assert_eq(rc, TL_OK, "%s", e.msg);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(o8[i], bm ? tl_bit_get(bm, bit0 + i) : 1);
    free(o8);
    free(dst);
    free(ref);
    free(s);
    free(buf);
}

/* PQ-D5, PQ-D6 */
Test(pq_hybrid, bitmap_levels_roundtrip)
{
    uint8_t bm[300];
    for (int pat = 0; pat < 4; pat++) {
        for (size_t i = 0; i < sizeof bm; i++) {
            switch (pat) {
            case 0: bm[i] = (uint8_t)rnd(); break;
            case 1: bm[i] = (i / 20) % 2 ? 0xff : 0x00; break;
            case 2: bm[i] = rnd() % 8 ? 0xff : (uint8_t)rnd(); break;
            default: bm[i] = rnd() % 5 ? 0x00 : 0x10; break;
            }
        }
        for (uint64_t bit0 = 0; bit0 < 10; bit0++)
            for (size_t n = 0; n < 2300; n += (n < 70 ? 1 : 211))
                bits_roundtrip(bm, bit0, n);
    }
    bits_roundtrip(NULL, 0, 5000);
}

/* PQ-D3 */
Test(pq_hybrid, bits_rejects_level_above_one)
{
    uint8_t st[] = {8 << 1, 2};
    uint8_t *s = dup_bytes(st, 2);
    uint8_t bm[2];
    tl_error e;
    ASSERT_CORRUPT_AT(tlf_pq_hybrid_decode_bits(s, 2, bm, 0, 8, NULL, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "value 2 does not fit bit width 1"), "%s", e.msg);
    /* the same for any width: an RLE value must fit */
    uint32_t o[8];
    uint8_t st2[] = {8 << 1, 0x00, 0x10}; /* 4096 at width 12 */
    uint8_t *s2 = dup_bytes(st2, 3);
    ASSERT_CORRUPT_AT(tlf_pq_hybrid_decode32(s2, 3, 12, o, 8, 0, NULL, &e), e);
    s2[2] = 0x0f;
    cr_assert_eq(tlf_pq_hybrid_decode32(s2, 3, 12, o, 8, 0, NULL, &e), TL_OK);
    cr_assert_eq(o[7], 0xf00);
    free(s2);
    free(s);
}

/* PQ-D4 */
Test(pq_levels, v1_prefix_and_v2)
{
    uint8_t lv[100];
    for (int i = 0; i < 100; i++)
        lv[i] = (uint8_t)(rnd() % 4);
    uint8_t enc[200];
    size_t L = tlf_pq_hybrid_encode8(lv, 100, 2, enc + 4);
    enc[0] = (uint8_t)L;
    enc[1] = enc[2] = enc[3] = 0;
    enc[4 + L] = 0xEE; /* value bytes follow */
    uint8_t *s = dup_bytes(enc, 5 + L);
    uint8_t out[100];
    size_t used;
    tl_error e;
    cr_assert_eq(tlf_pq_levels_v1(s, 5 + L, 2, out, 100, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, 4 + L);
    cr_assert_arr_eq(out, lv, 100);
    cr_assert_eq(tlf_pq_levels_v2(s + 4, L, 2, out, 100, 4, &e), TL_OK, "%s", e.msg);
    cr_assert_arr_eq(out, lv, 100);
    /* prefix claims more than there is */
    s[0] = (uint8_t)(L + 2);
    ASSERT_CORRUPT_AT(tlf_pq_levels_v1(s, 5 + L, 2, out, 100, 0, &used, &e), e);
    cr_assert(strstr(e.msg, "length prefix"), "%s", e.msg);
    /* levels cut short inside the prefix's range */
    s[0] = (uint8_t)(L - 1);
    int rc = tlf_pq_levels_v1(s, 5 + L, 2, out, 100, 0, &used, &e);
    if (rc != TL_OK)
        ASSERT_CORRUPT_AT(rc, e);
    for (size_t cut = 0; cut < 4; cut++)
        ASSERT_CORRUPT_AT(tlf_pq_levels_v1(s, cut, 2, out, 100, 0, &used, &e), e);
    free(s);
}

/* PQ-D4, PQ-D5 */
Test(pq_levels, v1_bits)
{
    uint8_t bm[13];
    for (int i = 0; i < 13; i++)
        bm[i] = (uint8_t)rnd();
    uint8_t enc[64];
    size_t L = tlf_pq_hybrid_encode_bits(bm, 3, 97, enc + 4);
    enc[0] = (uint8_t)L;
    enc[1] = enc[2] = enc[3] = 0;
    uint8_t *s = dup_bytes(enc, 4 + L);
    uint8_t out[13] = {0};
    uint64_t n_set;
    size_t used;
    tl_error e;
    cr_assert_eq(tlf_pq_levels_v1_bits(s, 4 + L, out, 0, 97, &n_set, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, 4 + L);
    for (int i = 0; i < 97; i++)
        cr_assert_eq(tl_bit_get(out, (uint64_t)i), tl_bit_get(bm, (uint64_t)i + 3));
    memset(out, 0, sizeof out);
    cr_assert_eq(tlf_pq_levels_v2_bits(s + 4, L, out, 0, 97, &n_set, 0, &e), TL_OK, "%s", e.msg);
    for (int i = 0; i < 97; i++)
        cr_assert_eq(tl_bit_get(out, (uint64_t)i), tl_bit_get(bm, (uint64_t)i + 3));
    free(s);
}

/* PQ-D4 */
Test(pq_dict, indices_checked)
{
    uint32_t idx[500];
    for (int i = 0; i < 500; i++)
        idx[i] = (uint32_t)(rnd() % 37);
    uint8_t enc[1024];
    enc[0] = 6;
    size_t L = 1 + tlf_pq_hybrid_encode32(idx, 500, 6, enc + 1);
    uint8_t *s = dup_bytes(enc, L);
    uint32_t out[500];
    tl_error e;
    cr_assert_eq(tlf_pq_dict_indices(s, L, out, 500, 37, 0, &e), TL_OK, "%s", e.msg);
    cr_assert_arr_eq(out, idx, sizeof idx);
    idx[321] = 40;
    L = 1 + tlf_pq_hybrid_encode32(idx, 500, 6, enc + 1);
    free(s);
    s = dup_bytes(enc, L);
    ASSERT_CORRUPT_AT(tlf_pq_dict_indices(s, L, out, 500, 37, 10, &e), e);
    cr_assert(strstr(e.msg, "index 40 of value 321"), "%s", e.msg);
    cr_assert(strstr(e.msg, "37 entries"), "%s", e.msg);
    s[0] = 33;
    ASSERT_CORRUPT_AT(tlf_pq_dict_indices(s, L, out, 500, 64, 0, &e), e);
    cr_assert(strstr(e.msg, "bit width 33"), "%s", e.msg);
    ASSERT_CORRUPT_AT(tlf_pq_dict_indices(s, 0, out, 500, 64, 0, &e), e);
    s[0] = 6;
    ASSERT_CORRUPT_AT(tlf_pq_dict_indices(s, L, out, 500, 0, 0, &e), e);
    cr_assert_eq(tlf_pq_dict_indices(s, 0, out, 0, 0, 0, &e), TL_OK);
    /* bit width 0: every index is 0 */
    uint8_t z[] = {0};
    free(s);
    s = dup_bytes(z, 1);
    cr_assert_eq(tlf_pq_dict_indices(s, 1, out, 500, 1, 0, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(out[499], 0);
    free(s);
}

Test(pq_hybrid, bit_width)
{
    cr_assert_eq(tlf_pq_bit_width(0), 0);
    cr_assert_eq(tlf_pq_bit_width(1), 1);
    cr_assert_eq(tlf_pq_bit_width(2), 2);
    cr_assert_eq(tlf_pq_bit_width(255), 8);
    cr_assert_eq(tlf_pq_bit_width(256), 9);
    cr_assert_eq(tlf_pq_bit_width(UINT64_MAX), 64);
}

Test(pq_hybrid, bitpack_roundtrip)
{
    uint32_t v[77], o[77];
    uint8_t buf[77 * 4 + 8];
    for (unsigned bw = 1; bw <= 32; bw++) {
        gen_vals(v, 77, bw, 0);
        for (size_t n = 0; n <= 77; n++) {
            tlf_pq_bitpack32(v, n, bw, buf);
            uint8_t *s = dup_bytes(buf, (n * bw + 7) / 8);
            tlf_pq_bitunpack32(s, n, bw, o);
            cr_assert(n == 0 || memcmp(o, v, n * 4) == 0, "bw %u n %zu", bw, n);
            free(s);
        }
    }
}

/* ---- PLAIN ---------------------------------------------------------------- */

/* PQ-D7 */
Test(pq_plain, fixed_widths)
{
    uint8_t src[12 * 9];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)i;
    const size_t ws[] = {4, 8, 12, 1, 5, 16};
    for (size_t w = 0; w < 6; w++) {
        size_t n = sizeof src / ws[w];
        uint8_t *s = dup_bytes(src, n * ws[w]);
        uint8_t *out = xmalloc(n * ws[w]);
        size_t used;
        tl_error e;
        cr_assert_eq(tlf_pq_plain_fixed(s, n * ws[w], ws[w], out, n, 0, &used, &e), TL_OK);
        cr_assert_eq(used, n * ws[w]);
        cr_assert(memcmp(out, src, n * ws[w]) == 0);
        for (size_t cut = 0; cut < n * ws[w]; cut++)
            ASSERT_CORRUPT_AT(tlf_pq_plain_fixed(s, cut, ws[w], out, n, 0, &used, &e), e);
        free(s);
        free(out);
    }
    tl_error e;
    cr_assert_eq(tlf_pq_plain_fixed(src, 8, 0, src, 1, 0, NULL, &e), TL_EINVAL);
}

/* PQ-D7 */
Test(pq_plain, booleans)
{
    uint8_t v[83];
    for (int i = 0; i < 83; i++)
        v[i] = (uint8_t)(rnd() & 1);
    uint8_t enc[11];
    cr_assert_eq(tlf_pq_plain_bool_encode(v, 83, enc), 11);
    uint8_t *s = dup_bytes(enc, 11);
    uint8_t out[83];
    size_t used;
    tl_error e;
    cr_assert_eq(tlf_pq_plain_bool(s, 11, out, 83, 0, &used, &e), TL_OK);
    cr_assert_eq(used, 11);
    cr_assert_arr_eq(out, v, 83);
    ASSERT_CORRUPT_AT(tlf_pq_plain_bool(s, 10, out, 83, 0, &used, &e), e);
    uint8_t b = 0x05; /* 1, 0, 1, 0, ... LSB first */
    cr_assert_eq(tlf_pq_plain_bool(&b, 1, out, 8, 0, NULL, &e), TL_OK);
    cr_assert_eq(out[0], 1);
    cr_assert_eq(out[1], 0);
    cr_assert_eq(out[2], 1);
    cr_assert_eq(out[3], 0);
    free(s);
}

/* PQ-D2, PQ-D7 */
Test(pq_plain, byte_arrays)
{
    const char *vals[] = {"Hello", "", "World", "Foobar", "ABCDEF"};
    uint32_t offs_in[6] = {0};
    uint8_t data_in[64];
    for (int i = 0; i < 5; i++) {
        size_t l = strlen(vals[i]);
        memcpy(data_in + offs_in[i], vals[i], l);
        offs_in[i + 1] = offs_in[i] + (uint32_t)l;
    }
    uint8_t enc[128];
    size_t len = tlf_pq_plain_byte_array_encode(offs_in, data_in, 5, enc);
    cr_assert_eq(len, 5 * 4 + 22);
    cr_assert_eq(enc[0], 5);
    cr_assert_eq(memcmp(enc + 4, "Hello", 5), 0);
    uint8_t *s = dup_bytes(enc, len);
    uint32_t offs[6];
    uint8_t data[10 + 22];
    size_t used;
    tl_error e;
    /* appended after 10 bytes already in the buffer */
    cr_assert_eq(tlf_pq_plain_byte_array(s, len, offs, 10, data, sizeof data, 5, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, len);
    cr_assert_eq(offs[0], 10);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(offs[i + 1] - offs[i], strlen(vals[i]));
        cr_assert_eq(memcmp(data + offs[i], vals[i], strlen(vals[i])), 0);
    }
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = dup_bytes(enc, cut);
        ASSERT_CORRUPT_AT(tlf_pq_plain_byte_array(t, cut, offs, 0, data, sizeof data, 5, 0, &used, &e), e);
        free(t);
    }
    cr_assert_eq(tlf_pq_plain_byte_array(s, len, offs, 11, data, sizeof data, 5, 0, &used, &e), TL_EINVAL);
    /* a length past the end */
    s[0] = 200;
    ASSERT_CORRUPT_AT(tlf_pq_plain_byte_array(s, len, offs, 0, data, sizeof data, 5, 7, &used, &e), e);
    cr_assert(strstr(e.msg, "byte offset 7"), "%s", e.msg);
    cr_assert(strstr(e.msg, "length 200"), "%s", e.msg);
    free(s);
}

/* ---- DELTA_BINARY_PACKED -------------------------------------------------- */

static void delta_check(const int64_t *v, size_t n, int is32, unsigned block,
                        unsigned nmini, int junk)
{
    size_t cap = 64 + n * 9 + (size_t)block * 9;
    uint8_t *buf = xmalloc(cap);
    size_t len = t_delta(v, n, is32, block, nmini, junk, buf);
    cr_assert_leq(len, cap);
    /* trailing bytes must not be consumed */
    buf[len] = 0x77;
    uint8_t *s = dup_bytes(buf, len + 1);
    tl_error e;
    size_t used;
    int rc;
    if (is32) {
        int32_t *o = xmalloc(n * 4);
        rc = tlf_pq_delta_decode32(s, len + 1, o, n, 0, &used, &e);
        cr_assert_eq(rc, TL_OK, "n %zu: %s", n, e.msg);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(o[i], (int32_t)v[i], "i %zu", i);
        free(o);
    } else {
        int64_t *o = xmalloc(n * 8);
        rc = tlf_pq_delta_decode64(s, len + 1, o, n, 0, &used, &e);
        cr_assert_eq(rc, TL_OK, "n %zu: %s", n, e.msg);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(o[i], v[i], "i %zu", i);
        free(o);
    }
    cr_assert_eq(used, len, "n %zu: used %zu of %zu", n, used, len);
    uint64_t total;
    cr_assert_eq(tlf_pq_delta_count(s, len, &total, 0, &e), TL_OK);
    cr_assert_eq(total, n);
    free(s);
    free(buf);
}

/* PQ-D8: INT32 columns whose deltas were computed in 64 bits (DuckDB 1.x
 * writes them: INT32_MIN next to INT32_MAX gives 33-bit miniblocks) decode
 * with the deltas taken mod 2^32 */
Test(pq_delta, int32_with_64bit_deltas_from_duckdb)
{
    int64_t v[] = {INT32_MIN, INT32_MAX, INT32_MIN, 0, -1, INT32_MAX, 5, INT32_MIN, 1, 2, 3};
    size_t n = sizeof v / sizeof v[0];
    uint8_t buf[4096];
    size_t len = t_delta(v, n, 0, 128, 4, 0, buf); /* 64-bit deltas */
    int32_t o[16];
    size_t used;
    tl_error e;
    cr_assert_eq(tlf_pq_delta_decode32(buf, len, o, n, 0, &used, &e), TL_OK, "%s", e.msg);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(o[i], (int32_t)v[i], "i %zu", i);
    cr_assert_eq(used, len);
}

/* PQ-D8 */
Test(pq_delta, spec_examples)
{
    /* Example 1 (1..5) and 2 (7 5 3 1 2 3 4 5) with a valid block size */
    int64_t a[] = {1, 2, 3, 4, 5}, b[] = {7, 5, 3, 1, 2, 3, 4, 5};
    delta_check(a, 5, 0, 128, 4, 0);
    delta_check(b, 8, 1, 128, 4, 1);
    uint8_t buf[64];
    size_t len = t_delta(a, 5, 0, 128, 1, 0, buf);
    /* header 128 1 5 zz(1)=2, block: zz(1)=2, width 0 */
    const uint8_t want[] = {0x80, 0x01, 0x01, 0x05, 0x02, 0x02, 0x00};
    cr_assert_eq(len, sizeof want);
    cr_assert_arr_eq(buf, want, sizeof want);
}

/* PQ-D8 */
Test(pq_delta, every_bit_width_int64)
{
    size_t n = 700;
    int64_t *v = xmalloc(n * 8);
    for (unsigned w = 0; w <= 64; w++) {
        uint64_t span = w == 64 ? UINT64_MAX : ((1ull << w) - 1);
        for (int mode = 0; mode < 2; mode++) {
            uint64_t x = rnd();
            for (size_t i = 0; i < n; i++) {
                v[i] = (int64_t)x;
                uint64_t d = mode ? (w ? rnd() & span : 0) : ((i & 1) ? span : 0);
                x += d - (uint64_t)12345; /* min delta != 0 */
            }
            delta_check(v, n, 0, 128, 4, mode);
            delta_check(v, n, 0, 256, 8, 0);
        }
    }
    free(v);
}

/* PQ-D8 */
Test(pq_delta, every_bit_width_int32)
{
    size_t n = 515;
    int64_t *v = xmalloc(n * 8);
    for (unsigned w = 0; w <= 32; w++) {
        uint32_t span = w == 32 ? UINT32_MAX : (uint32_t)((1ull << w) - 1);
        for (int mode = 0; mode < 2; mode++) {
            uint32_t x = (uint32_t)rnd();
            for (size_t i = 0; i < n; i++) {
                v[i] = (int32_t)x;
                uint32_t d = mode ? (uint32_t)(rnd() & span) : ((i & 1) ? span : 0);
                x += d - 77u;
            }
            delta_check(v, n, 1, 128, 4, mode);
        }
    }
    free(v);
}

/* PQ-D8 */
Test(pq_delta, wrapping_extremes)
{
    int64_t a[] = {INT64_MIN, INT64_MAX, INT64_MIN, 0, -1, INT64_MAX, INT64_MAX, INT64_MIN, 1};
    delta_check(a, 9, 0, 128, 4, 0);
    int64_t b[] = {INT32_MIN, INT32_MAX, INT32_MIN, 0, -1, INT32_MAX, INT32_MAX, INT32_MIN, 1};
    delta_check(b, 9, 1, 128, 4, 0);
    delta_check(b, 1, 1, 128, 4, 0);
    delta_check(a, 0, 0, 128, 4, 0);
    for (size_t n = 0; n < 300; n++) {
        int64_t v[300] = {0};
        for (size_t i = 0; i < n; i++)
            v[i] = (int64_t)rnd() >> (rnd() % 64);
        delta_check(v, n, 0, 128, 4, 1);
    }
}

/* PQ-D8 */
Test(pq_delta, last_miniblock_without_padding)
{
    int64_t v[40];
    for (int i = 0; i < 40; i++)
        v[i] = i * 1000 + (int64_t)(rnd() % 500);
    uint8_t buf[512];
    size_t len = t_delta(v, 40, 0, 128, 4, 0, buf);
    /* 39 deltas: miniblock 0 full, miniblock 1 holds 7 values + padding */
    tl_error e;
    int64_t o[40];
    size_t used;
    for (size_t cut = len; cut > 0; cut--) {
        uint8_t *s = dup_bytes(buf, cut);
        int rc = tlf_pq_delta_decode64(s, cut, o, 40, 0, &used, &e);
        if (rc == TL_OK) {
            cr_assert_arr_eq(o, v, sizeof v);
            cr_assert_eq(used, cut);
        } else {
            ASSERT_CORRUPT_AT(rc, e);
        }
        free(s);
    }
    /* some cut below len must still succeed (only padding missing) */
    uint8_t *s = dup_bytes(buf, len - 1);
    cr_assert_eq(tlf_pq_delta_decode64(s, len - 1, o, 40, 0, &used, &e), TL_OK, "%s", e.msg);
    free(s);
}

/* PQ-D1 */
Test(pq_delta, truncated_at_every_length)
{
    int64_t v[600];
    for (int i = 0; i < 600; i++)
        v[i] = (int64_t)(rnd() % 100000);
    uint8_t buf[8192];
    size_t len = t_delta(v, 600, 0, 128, 4, 0, buf);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *s = dup_bytes(buf, cut);
        int64_t o[600];
        tl_error e;
        int rc = tlf_pq_delta_decode64(s, cut, o, 600, 0, NULL, &e);
        if (rc == TL_OK)
            cr_assert_arr_eq(o, v, sizeof v);
        else
            ASSERT_CORRUPT_AT(rc, e);
        free(s);
    }
}

/* PQ-D1, PQ-D8 */
Test(pq_delta, corrupt_headers)
{
    tl_error e;
    int64_t o[200];
    int32_t o32[200];
    uint8_t b[64];
    size_t k;
#define HDR(bs, nm, tot, first)                                                \
    do {                                                                       \
        k = 0;                                                                 \
        k += t_uleb(b + k, bs);                                                \
        k += t_uleb(b + k, nm);                                                \
        k += t_uleb(b + k, tot);                                               \
        k += t_uleb(b + k, first);                                             \
    } while (0)
    HDR(100, 4, 5, 0);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "block size 100"), "%s", e.msg);
    HDR(128, 0, 5, 0);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    HDR(128, 3, 5, 0);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    HDR(128, 8, 5, 0); /* 16 values per miniblock */
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    HDR(0, 1, 5, 0);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    HDR((uint64_t)1 << 40, 1, 5, 0);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    /* count mismatch */
    HDR(128, 4, 6, 0);
    b[k++] = 0;
    b[k++] = 0; b[k++] = 0; b[k++] = 0; b[k++] = 0;
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k, o, 5, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "declares 6 values"), "%s", e.msg);
    /* bit width 65 for INT64 and INT32 (33 is valid for INT32: the deltas
     * of a writer that subtracts in 64 bits, taken mod 2^32) */
    HDR(128, 4, 5, 0);
    b[k++] = 0;
    b[k++] = 65; b[k++] = 0; b[k++] = 0; b[k++] = 0;
    memset(b + k, 0, 20);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, k + 20, o, 5, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "bit width 65"), "%s", e.msg);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode32(b, k + 20, o32, 5, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "bit width 65"), "%s", e.msg);
    b[k - 4] = 33;
    cr_assert_eq(tlf_pq_delta_decode32(b, k + 20, o32, 5, 0, NULL, &e), TL_OK, "%s", e.msg);
    b[k - 4] = 32;
    cr_assert_eq(tlf_pq_delta_decode32(b, k + 20, o32, 5, 0, NULL, &e), TL_OK, "%s", e.msg);
    /* an overlong varint */
    memset(b, 0xff, 12);
    ASSERT_CORRUPT_AT(tlf_pq_delta_decode64(b, 12, o, 5, 0, NULL, &e), e);
    cr_assert(strstr(e.msg, "varint"), "%s", e.msg);
#undef HDR
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---------------------------- */

static size_t t_dlba(const char **vals, size_t n, uint8_t *out)
{
    int64_t lens[64];
    for (size_t i = 0; i < n; i++)
        lens[i] = (int64_t)strlen(vals[i]);
    size_t k = t_delta(lens, n, 1, 128, 4, 0, out);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + k, vals[i], strlen(vals[i]));
        k += strlen(vals[i]);
    }
    return k;
}

/* PQ-D2, PQ-D9 */
Test(pq_dlba, spec_example_and_truncation)
{
    const char *vals[] = {"Hello", "World", "Foobar", "ABCDEF"};
    uint8_t buf[256];
    size_t len = t_dlba(vals, 4, buf);
    buf[len] = 'Z'; /* not consumed */
    uint8_t *s = dup_bytes(buf, len + 1);
    uint32_t offs[5];
    uint8_t data[3 + 22];
    size_t used;
    tl_error e;
    cr_assert_eq(tlf_pq_delta_length_decode(s, len + 1, offs, 3, data, sizeof data, 4, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, len);
    cr_assert_eq(offs[0], 3);
    cr_assert_eq(offs[4], 25);
    cr_assert_eq(memcmp(data + 3, "HelloWorldFoobarABCDEF", 22), 0);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = dup_bytes(buf, cut);
        int rc = tlf_pq_delta_length_decode(t, cut, offs, 0, data, sizeof data, 4, 0, &used, &e);
        ASSERT_CORRUPT_AT(rc, e);
        free(t);
    }
    cr_assert_eq(tlf_pq_delta_length_decode(s, len, offs, 4, data, sizeof data, 4, 0, &used, &e), TL_EINVAL);
    /* negative length */
    int64_t neg[] = {3, -1};
    size_t k = t_delta(neg, 2, 1, 128, 4, 0, buf);
    memcpy(buf + k, "abcdef", 6);
    free(s);
    s = dup_bytes(buf, k + 6);
    ASSERT_CORRUPT_AT(tlf_pq_delta_length_decode(s, k + 6, offs, 0, data, sizeof data, 2, 0, &used, &e), e);
    cr_assert(strstr(e.msg, "negative"), "%s", e.msg);
    free(s);
}

static size_t t_dba(const char **vals, size_t n, uint8_t *out)
{
    int64_t pre[64], suf[64];
    size_t prevlen = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(vals[i]), p = 0;
        while (i && p < l && p < prevlen && vals[i][p] == vals[i - 1][p])
            p++;
        pre[i] = (int64_t)p;
        suf[i] = (int64_t)(l - p);
        prevlen = l;
    }
    size_t k = t_delta(pre, n, 1, 128, 4, 0, out);
    k += t_delta(suf, n, 1, 128, 4, 0, out + k);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + k, vals[i] + pre[i], (size_t)suf[i]);
        k += (size_t)suf[i];
    }
    return k;
}

/* PQ-D10 */
Test(pq_dba, spec_example)
{
    const char *vals[] = {"axis", "axle", "babble", "babyhood", "", "b", "bb"};
    uint8_t buf[512];
    size_t len = t_dba(vals, 7, buf);
    buf[len] = 'Q';
    uint8_t *s = dup_bytes(buf, len + 1);
    uint64_t need;
    tl_error e;
    cr_assert_eq(tlf_pq_delta_byte_array_size(s, len + 1, 7, &need, 0, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(need, 4 + 4 + 6 + 8 + 0 + 1 + 2);
    uint32_t offs[8];
    uint8_t *data = xmalloc(5 + need);
    size_t used;
    cr_assert_eq(tlf_pq_delta_byte_array_decode(s, len + 1, offs, 5, data, 5 + need, 7, 0, &used, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(used, len);
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(offs[i + 1] - offs[i], strlen(vals[i]));
        cr_assert_eq(memcmp(data + offs[i], vals[i], strlen(vals[i])), 0);
    }
    cr_assert_eq(tlf_pq_delta_byte_array_decode(s, len, offs, 6, data, 5 + need, 7, 0, &used, &e), TL_EINVAL);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = dup_bytes(buf, cut);
        ASSERT_CORRUPT_AT(tlf_pq_delta_byte_array_decode(t, cut, offs, 0, data, 5 + need, 7, 0, &used, &e), e);
        ASSERT_CORRUPT_AT(tlf_pq_delta_byte_array_size(t, cut, 7, &need, 0, &e), e);
        free(t);
    }
    free(data);
    free(s);
}

/* PQ-D10 */
Test(pq_dba, prefix_longer_than_previous)
{
    int64_t pre[] = {0, 5}, suf[] = {3, 1};
    uint8_t buf[128];
    size_t k = t_delta(pre, 2, 1, 128, 4, 0, buf);
    k += t_delta(suf, 2, 1, 128, 4, 0, buf + k);
    memcpy(buf + k, "abcd", 4);
    k += 4;
    uint8_t *s = dup_bytes(buf, k);
    uint64_t need;
    tl_error e;
    ASSERT_CORRUPT_AT(tlf_pq_delta_byte_array_size(s, k, 2, &need, 0, &e), e);
    cr_assert(strstr(e.msg, "prefix length 5 exceeds"), "%s", e.msg);
    /* first value with a prefix */
    int64_t pre2[] = {1, 0};
    k = t_delta(pre2, 2, 1, 128, 4, 0, buf);
    k += t_delta(suf, 2, 1, 128, 4, 0, buf + k);
    memcpy(buf + k, "abcd", 4);
    k += 4;
    free(s);
    s = dup_bytes(buf, k);
    ASSERT_CORRUPT_AT(tlf_pq_delta_byte_array_size(s, k, 2, &need, 0, &e), e);
    free(s);
}

/* ---- BYTE_STREAM_SPLIT ---------------------------------------------------- */

/* PQ-D11 */
Test(pq_bss, spec_example)
{
    const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4,
                           0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
    const uint8_t want[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11,
                            0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
    uint8_t *s = dup_bytes(enc, 12);
    uint8_t out[12];
    tl_error e;
    cr_assert_eq(tlf_pq_bss_decode(s, 12, 4, out, 3, 0, &e), TL_OK);
    cr_assert_arr_eq(out, want, 12);
    free(s);
}

/* PQ-D11 */
Test(pq_bss, every_width_and_errors)
{
    for (size_t k = 1; k <= 16; k++) {
        for (size_t n = 0; n < 50; n += 7) {
            uint8_t *vals = xmalloc(n * k), *enc = xmalloc(n * k), *out = xmalloc(n * k);
            for (size_t i = 0; i < n * k; i++)
                vals[i] = (uint8_t)rnd();
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < k; j++)
                    enc[j * n + i] = vals[i * k + j];
            tl_error e;
            cr_assert_eq(tlf_pq_bss_decode(enc, n * k, k, out, n, 0, &e), TL_OK, "%s", e.msg);
            cr_assert(n == 0 || memcmp(out, vals, n * k) == 0, "k %zu n %zu", k, n);
            if (n && k > 1)
                ASSERT_CORRUPT_AT(tlf_pq_bss_decode(enc, n * k - 1, k, out, n, 0, &e), e);
            if (n)
                ASSERT_CORRUPT_AT(tlf_pq_bss_decode(enc, (n - 1) * k, k, out, n, 0, &e), e);
            free(vals);
            free(enc);
            free(out);
        }
    }
}

/* ---- codecs --------------------------------------------------------------- */

static const int CODECS[] = {TL_PQ_UNCOMPRESSED, TL_PQ_SNAPPY, TL_PQ_GZIP,
                             TL_PQ_BROTLI, TL_PQ_ZSTD, TL_PQ_LZ4_RAW};

static uint8_t *sample(size_t n, int kind)
{
    uint8_t *p = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = kind ? (uint8_t)rnd() : (uint8_t)("tick data "[i % 10] + (i / 1000));
    return p;
}

/* PQ-D12 */
Test(pq_codec, roundtrip_every_codec)
{
    tlf_pq_codec_ctx *ctx = tlf_pq_codec_ctx_new();
    cr_assert(ctx);
    const size_t sizes[] = {0, 1, 100, 4096, 300000};
    for (size_t c = 0; c < sizeof CODECS / sizeof *CODECS; c++) {
        for (size_t si = 0; si < 5; si++) {
            for (int kind = 0; kind < 2; kind++) {
                for (int use_ctx = 0; use_ctx < 2; use_ctx++) {
                    size_t n = sizes[si];
                    uint8_t *src = sample(n, kind);
                    size_t cap = tlf_pq_codec_bound(CODECS[c], n);
                    cr_assert(cap >= n || CODECS[c] != TL_PQ_UNCOMPRESSED);
                    uint8_t *cmp = xmalloc(cap);
                    size_t clen;
                    tl_error e;
                    int rc = tlf_pq_compress(use_ctx ? ctx : NULL, CODECS[c], 0, src, n, cmp, cap, &clen, &e);
                    cr_assert_eq(rc, TL_OK, "%s n %zu: %s", tl_pq_codec_name(CODECS[c]), n, e.msg);
                    uint8_t *cs = dup_bytes(cmp, clen);
                    uint8_t *out = xmalloc(n);
                    rc = tlf_pq_decompress(use_ctx ? ctx : NULL, CODECS[c], cs, clen, out, n, &e);
                    cr_assert_eq(rc, TL_OK, "%s n %zu: %s", tl_pq_codec_name(CODECS[c]), n, e.msg);
                    cr_assert(n == 0 || memcmp(out, src, n) == 0);
                    if (n) {
                        /* expecting one byte less or more is an error */
                        rc = tlf_pq_decompress(ctx, CODECS[c], cs, clen, out, n - 1, &e);
                        cr_assert_eq(rc, TL_ECORRUPT, "%s n %zu short", tl_pq_codec_name(CODECS[c]), n);
                        uint8_t *big = xmalloc(n + 1);
                        rc = tlf_pq_decompress(ctx, CODECS[c], cs, clen, big, n + 1, &e);
                        cr_assert_eq(rc, TL_ECORRUPT, "%s n %zu long", tl_pq_codec_name(CODECS[c]), n);
                        free(big);
                    }
                    free(out);
                    free(cs);
                    free(cmp);
                    free(src);
                }
            }
        }
    }
    tlf_pq_codec_ctx_free(ctx);
}

/* PQ-D12 */
Test(pq_codec, truncated_and_garbage_input)
{
    tlf_pq_codec_ctx *ctx = tlf_pq_codec_ctx_new();
    size_t n = 5000;
    uint8_t *src = sample(n, 0);
    for (size_t c = 1; c < sizeof CODECS / sizeof *CODECS; c++) {
        size_t cap = tlf_pq_codec_bound(CODECS[c], n);
        uint8_t *cmp = xmalloc(cap);
        size_t clen;
        tl_error e;
        cr_assert_eq(tlf_pq_compress(ctx, CODECS[c], 0, src, n, cmp, cap, &clen, &e), TL_OK);
        uint8_t *out = xmalloc(n);
        for (size_t cut = 0; cut < clen; cut += (cut < 64 ? 1 : 13)) {
            uint8_t *t = dup_bytes(cmp, cut);
            int rc = tlf_pq_decompress(ctx, CODECS[c], t, cut, out, n, &e);
            cr_assert_eq(rc, TL_ECORRUPT, "%s cut %zu: %d %s", tl_pq_codec_name(CODECS[c]), cut, rc, e.msg);
            cr_assert(strstr(e.msg, tl_pq_codec_name(CODECS[c])), "%s", e.msg);
            free(t);
        }
        /* flipped bytes: an error or (rarely) other bytes, never a crash */
        for (int trial = 0; trial < 200; trial++) {
            uint8_t *t = dup_bytes(cmp, clen);
            t[rnd() % clen] ^= (uint8_t)(1 + rnd() % 255);
            int rc = tlf_pq_decompress(ctx, CODECS[c], t, clen, out, n, &e);
            cr_assert(rc == TL_OK || rc == TL_ECORRUPT, "%s: %d", tl_pq_codec_name(CODECS[c]), rc);
            free(t);
        }
        free(out);
        free(cmp);
    }
    free(src);
    tlf_pq_codec_ctx_free(ctx);
}

/* PQ-D12 */
Test(pq_codec, gzip_concatenated_members)
{
    tlf_pq_codec_ctx *ctx = tlf_pq_codec_ctx_new();
    uint8_t *a = sample(3000, 0), *b = sample(2000, 1);
    size_t cap = tlf_pq_codec_bound(TL_PQ_GZIP, 3000) * 2;
    uint8_t *cmp = xmalloc(cap);
    size_t la, lb;
    tl_error e;
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_GZIP, 0, a, 3000, cmp, cap, &la, &e), TL_OK);
    cr_assert_eq(cmp[0], 0x1f);
    cr_assert_eq(cmp[1], 0x8b);
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_GZIP, 9, b, 2000, cmp + la, cap - la, &lb, &e), TL_OK);
    uint8_t *cs = dup_bytes(cmp, la + lb), *out = xmalloc(5000);
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(tlf_pq_decompress(round ? ctx : NULL, TL_PQ_GZIP, cs, la + lb, out, 5000, &e), TL_OK, "%s", e.msg);
        cr_assert_eq(memcmp(out, a, 3000), 0);
        cr_assert_eq(memcmp(out + 3000, b, 2000), 0);
    }
    /* second member truncated / missing */
    cr_assert_eq(tlf_pq_decompress(ctx, TL_PQ_GZIP, cs, la + lb - 3, out, 5000, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "member 2"), "%s", e.msg);
    cr_assert_eq(tlf_pq_decompress(ctx, TL_PQ_GZIP, cs, la, out, 5000, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "3000 bytes"), "%s", e.msg);
    /* two members but the header declares only the first */
    cr_assert_eq(tlf_pq_decompress(ctx, TL_PQ_GZIP, cs, la + lb, out, 3000, &e), TL_ECORRUPT);
    free(cs);
    free(out);
    free(cmp);
    free(a);
    free(b);
    tlf_pq_codec_ctx_free(ctx);
}

/* PQ-D12 */
Test(pq_codec, lz4_legacy_framings)
{
    size_t n = 7000;
    uint8_t *src = sample(n, 0);
    size_t cap = (size_t)LZ4_compressBound((int)n) + 64;
    uint8_t *blk = xmalloc(cap), *fr = xmalloc(cap + 16), *out = xmalloc(n);
    int bl = LZ4_compress_default((const char *)src, (char *)blk, (int)n, (int)cap);
    cr_assert_gt(bl, 0);
    tl_error e;
    /* raw block */
    uint8_t *s = dup_bytes(blk, (size_t)bl);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, (size_t)bl, out, n, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(memcmp(out, src, n), 0);
    free(s);
    /* Hadoop: BE u32 uncompressed, BE u32 compressed, block */
    fr[0] = (uint8_t)(n >> 24); fr[1] = (uint8_t)(n >> 16); fr[2] = (uint8_t)(n >> 8); fr[3] = (uint8_t)n;
    fr[4] = (uint8_t)(bl >> 24); fr[5] = (uint8_t)(bl >> 16); fr[6] = (uint8_t)(bl >> 8); fr[7] = (uint8_t)bl;
    memcpy(fr + 8, blk, (size_t)bl);
    s = dup_bytes(fr, (size_t)bl + 8);
    memset(out, 0, n);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, (size_t)bl + 8, out, n, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(memcmp(out, src, n), 0);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, (size_t)bl + 7, out, n, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "lz4"), "%s", e.msg);
    free(s);
    /* LZ4 frame */
    size_t fcap = LZ4F_compressFrameBound(n, NULL);
    uint8_t *f = xmalloc(fcap);
    size_t fl = LZ4F_compressFrame(f, fcap, src, n, NULL);
    cr_assert(!LZ4F_isError(fl));
    s = dup_bytes(f, fl);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, fl, out, n, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(memcmp(out, src, n), 0);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, fl, out, n - 1, &e), TL_ECORRUPT);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, fl - 5, out, n, &e), TL_ECORRUPT);
    free(s);
    free(f);
    free(blk);
    free(fr);
    free(out);
    free(src);
}

/* PQ-D12 */
Test(pq_codec, unsupported_codecs)
{
    uint8_t in[4] = {1, 2, 3, 4}, out[16];
    tl_error e;
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZO, in, 4, out, 16, &e), TL_EUNSUPPORTED);
    cr_assert(strstr(e.msg, "LZO"), "%s", e.msg);
    cr_assert_eq(tlf_pq_decompress(NULL, 99, in, 4, out, 16, &e), TL_EUNSUPPORTED);
    cr_assert(strstr(e.msg, "99"), "%s", e.msg);
    size_t ol;
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_LZO, 0, in, 4, out, 16, &ol, &e), TL_EUNSUPPORTED);
    cr_assert_eq(tlf_pq_codec_bound(TL_PQ_LZO, 4), 0);
    /* zero bytes for a non-empty page */
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_SNAPPY, in, 0, out, 16, &e), TL_ECORRUPT);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_SNAPPY, in, 0, out, 0, &e), TL_OK);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_UNCOMPRESSED, in, 4, out, 3, &e), TL_ECORRUPT);
    /* output buffer below the bound */
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_ZSTD, 0, in, 4, out, 2, &ol, &e), TL_EINVAL);
}

/* PQ-D12 */
Test(pq_codec, zstd_frame_size_checked_first)
{
    uint8_t *src = sample(1000, 0);
    uint8_t cmp[2048], out[1000];
    size_t cl;
    tl_error e;
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_ZSTD, 19, src, 1000, cmp, sizeof cmp, &cl, &e), TL_OK);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_ZSTD, cmp, cl, out, 999, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "frame declares 1000"), "%s", e.msg);
    /* two frames */
    uint8_t two[4096];
    size_t c2;
    memcpy(two, cmp, cl);
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_ZSTD, 1, src, 500, two + cl, sizeof two - cl, &c2, &e), TL_OK);
    uint8_t o2[1500];
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_ZSTD, two, cl + c2, o2, 1500, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(memcmp(o2 + 1000, src, 500), 0);
    free(src);
}

/* PQ-D13, PQ-D14 */
Test(pq_codec, names_and_crc)
{
    cr_assert_str_eq(tl_pq_codec_name(TL_PQ_ZSTD), "zstd");
    cr_assert_str_eq(tl_pq_codec_name(TL_PQ_LZ4_RAW), "lz4_raw");
    cr_assert_str_eq(tl_pq_codec_name(42), "?");
    cr_assert_str_eq(tl_pq_codec_name(-1), "?");
    int c;
    tl_error e;
    for (int i = 0; i <= 7; i++) {
        cr_assert_eq(tl_pq_codec_parse(tl_pq_codec_name(i), &c, &e), TL_OK);
        cr_assert_eq(c, i);
    }
    cr_assert_eq(tl_pq_codec_parse("none", &c, &e), TL_OK);
    cr_assert_eq(c, TL_PQ_UNCOMPRESSED);
    cr_assert_eq(tl_pq_codec_parse("zip", &c, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "zip"), "%s", e.msg);
    cr_assert_eq(tl_pq_codec_parse(NULL, &c, &e), TL_EINVAL);
    /* CRC-32 check value */
    cr_assert_eq(tlf_pq_crc32(0, "123456789", 9), 0xCBF43926u);
    uint32_t part = tlf_pq_crc32(0, "1234", 4);
    cr_assert_eq(tlf_pq_crc32(part, "56789", 5), 0xCBF43926u);
}

/* Writing: an output buffer below a codec's bound, bad levels, empty input. */
Test(pq_codec, compress_refusals)
{
    size_t n = 3000, ol = 99;
    uint8_t *src = sample(n, 1);
    uint8_t small[8];
    tl_error e;
    static const int cs[] = {TL_PQ_UNCOMPRESSED, TL_PQ_SNAPPY, TL_PQ_GZIP, TL_PQ_ZSTD,
                             TL_PQ_LZ4_RAW, TL_PQ_BROTLI};
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        memset(&e, 0, sizeof e);
        int rc = tlf_pq_compress(NULL, cs[i], 0, src, n, small, sizeof small, &ol, &e);
        cr_assert_eq(rc, TL_EINVAL, "%s: %d %s", tl_pq_codec_name(cs[i]), rc, e.msg);
        cr_assert(strstr(e.msg, "output buffer of 8 bytes is below the bound for 3000 input bytes"),
                  "%s: %s", tl_pq_codec_name(cs[i]), e.msg);
        /* empty input compresses and decompresses to nothing */
        size_t cap = tlf_pq_codec_bound(cs[i], 0) + 32;
        uint8_t *buf = xmalloc(cap);
        cr_assert_eq(tlf_pq_compress(NULL, cs[i], 0, src, 0, buf, cap, &ol, &e), TL_OK,
                     "%s: %s", tl_pq_codec_name(cs[i]), e.msg);
        free(buf);
    }
    size_t cap = tlf_pq_codec_bound(TL_PQ_GZIP, n);
    uint8_t *buf = xmalloc(cap);
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_GZIP, 42, src, n, buf, cap, &ol, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "gzip: bad level 42"), "%s", e.msg);
    free(buf);
    cap = tlf_pq_codec_bound(TL_PQ_BROTLI, n);
    buf = xmalloc(cap);
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_BROTLI, 12, src, n, buf, cap, &ol, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "brotli: bad quality 12"), "%s", e.msg);
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_BROTLI, -3, src, n, buf, cap, &ol, &e), TL_EINVAL);
    /* brotli at its best quality round-trips */
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_BROTLI, 11, src, n, buf, cap, &ol, &e), TL_OK,
                 "%s", e.msg);
    uint8_t *out = xmalloc(n);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_BROTLI, buf, ol, out, n, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(memcmp(out, src, n), 0);
    /* brotli with bytes after the end of its stream */
    uint8_t *more = xmalloc(ol + 3);
    memcpy(more, buf, ol);
    memcpy(more + ol, "xyz", 3);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_BROTLI, more, ol + 3, out, n, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "brotli: 3 bytes follow the end of the stream"), "%s", e.msg);
    free(more);
    free(out);
    free(buf);
    cr_assert_eq(tlf_pq_compress(NULL, TL_PQ_LZ4, 0, src, n, small, sizeof small, &ol, &e),
                 TL_EUNSUPPORTED);
    cr_assert(strstr(e.msg, "lz4 (5) is not supported for writing"), "%s", e.msg);
    free(src);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Hadoop framing with two chunks of two blocks each; lengths that do not
 * fit make the reader try the other framings and name all three. */
Test(pq_codec, lz4_hadoop_chunks_and_blocks)
{
    size_t n = 8000, q = n / 4;
    uint8_t *src = sample(n, 1);
    uint8_t *fr = xmalloc(2 * n + 256), *out = xmalloc(n);
    size_t at = 0;
    for (int chunk = 0; chunk < 2; chunk++) {
        put_be32(fr + at, (uint32_t)(2 * q));
        at += 4;
        for (int b = 0; b < 2; b++) {
            int bl = LZ4_compress_default((const char *)src + (2 * chunk + b) * q,
                                          (char *)fr + at + 4, (int)q, (int)n);
            cr_assert_gt(bl, 0);
            put_be32(fr + at, (uint32_t)bl);
            at += 4 + (size_t)bl;
        }
    }
    tl_error e;
    uint8_t *s = dup_bytes(fr, at);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, at, out, n, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(memcmp(out, src, n), 0);
    free(s);
    /* cut inside the second block's length or just after it: neither
     * framing fits */
    size_t first_block = 4 + 4 + (size_t)(fr[7] | fr[6] << 8 | fr[5] << 16);
    for (size_t cut = 1; cut <= 6; cut++) {
        size_t len = first_block + cut;
        s = dup_bytes(fr, len);
        int rc = tlf_pq_decompress(NULL, TL_PQ_LZ4, s, len, out, n, &e);
        cr_assert_eq(rc, TL_ECORRUPT, "cut %zu: %s", cut, e.msg);
        cr_assert(strstr(e.msg, "neither Hadoop framing nor an LZ4 frame nor a raw block"),
                  "cut %zu: %s", cut, e.msg);
        free(s);
    }
    /* a block length beyond the input */
    uint8_t *bad = dup_bytes(fr, at);
    put_be32(bad + 8, 0x7fffff00u);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, bad, at, out, n, &e), TL_ECORRUPT);
    /* a block that does not decode */
    memcpy(bad, fr, at);
    memset(bad + 12, 0xff, 8);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, bad, at, out, n, &e), TL_ECORRUPT);
    free(bad);
    free(fr);
    free(out);
    free(src);
}

/* LZ4 frames: two concatenated, a damaged header checksum, one that holds
 * more than the page declares. */
Test(pq_codec, lz4_frames_concatenated_and_damaged)
{
    size_t n = 5000;
    uint8_t *src = sample(n, 1);
    size_t fcap = LZ4F_compressFrameBound(n, NULL);
    uint8_t *two = xmalloc(2 * fcap), *out = xmalloc(2 * n);
    size_t f1 = LZ4F_compressFrame(two, fcap, src, n, NULL);
    cr_assert(!LZ4F_isError(f1));
    size_t f2 = LZ4F_compressFrame(two + f1, fcap, src, n, NULL);
    cr_assert(!LZ4F_isError(f2));
    tl_error e;
    uint8_t *s = dup_bytes(two, f1 + f2);
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, f1 + f2, out, 2 * n, &e), TL_OK, "%s",
                 e.msg);
    cr_assert_eq(memcmp(out + n, src, n), 0);
    /* the page declares one frame's bytes: the second would go past them */
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, f1 + f2, out, n, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "lz4 (frame): decompresses past the 5000 bytes"), "%s", e.msg);
    free(s);
    /* header checksum byte (after magic, FLG, BD) damaged */
    s = dup_bytes(two, f1);
    s[6] ^= 0x55;
    cr_assert_eq(tlf_pq_decompress(NULL, TL_PQ_LZ4, s, f1, out, n, &e), TL_ECORRUPT);
    cr_assert(strstr(e.msg, "lz4 (frame): "), "%s", e.msg);
    free(s);
    free(two);
    free(out);
    free(src);
}
