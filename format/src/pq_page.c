/*
 * pq_page.c - the value and level encodings of Parquet data pages
 * (parquet-format Encodings.md), bounded decoders and the writer's encoders.
 * API and conventions: pq_page.h. Every decoder reads only src[0 .. len),
 * writes only the n values / data_cap bytes the caller gave, allocates
 * nothing, and reports the byte offset (off0 + position) of a problem.
 *
 * Layouts (all integers little-endian; ULEB = unsigned LEB128; zigzag ULEB
 * = (v << 1) ^ (v >> 63) as ULEB):
 *   RLE/bit-packed hybrid, bit width bw (0..32):
 *     run*, run = ULEB h, then
 *       h & 1 == 0: RLE run, h >> 1 values, one value in ceil(bw/8) bytes
 *       h & 1 == 1: (h >> 1) groups of 8 values, bw bytes per group, value
 *                   i at bits [i*bw, (i+1)*bw) LSB first
 *     v1 levels / RLE booleans: u32 byte length L, then L bytes of runs.
 *     dictionary indices: u8 bit width, then runs.
 *   PLAIN: BOOLEAN bits LSB first; INT32 4, INT64 8, INT96 12, FLOAT 4,
 *     DOUBLE 8, FIXED_LEN_BYTE_ARRAY k bytes per value; BYTE_ARRAY u32
 *     length + bytes per value.
 *   DELTA_BINARY_PACKED: ULEB block size (multiple of 128), ULEB miniblocks
 *     per block (values per miniblock a multiple of 32), ULEB total count,
 *     zigzag ULEB first value; then per block: zigzag ULEB min delta, one
 *     u8 bit width per miniblock, miniblocks of (values per miniblock * bw
 *     / 8) bytes. The last block's unneeded miniblocks have no bytes (their
 *     widths are ignored); value = previous + min delta + packed (wrapping).
 *   DELTA_LENGTH_BYTE_ARRAY: DELTA_BINARY_PACKED lengths, then the bytes.
 *   DELTA_BYTE_ARRAY: DELTA_BINARY_PACKED prefix lengths, then
 *     DELTA_LENGTH_BYTE_ARRAY suffixes.
 *   BYTE_STREAM_SPLIT: k streams of S = len / k bytes; byte j of value i at
 *     j * S + i.
 * Leniency (what real writers do): the last bit-packed group of a hybrid
 * stream may miss its padding bytes; the last delta miniblock likewise.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "enc_priv.h"
#include "le_int.h"
#include "pq_page.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

#define EACH_BW_1_32(X)                                                        \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)       \
    X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25)    \
    X(26) X(27) X(28) X(29) X(30) X(31) X(32)
#define EACH_BW_1_8(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)

static int corrupt(tl_error *err, const char *what, size_t off,
                   const char *detail)
{
    return tl_error_set(err, TL_ECORRUPT, "%s: byte offset %zu: %s", what, off,
                        detail);
}

/* ULEB128 at src[*pos]; at most 10 bytes, the value must fit 64 bits. */
static int read_uleb(const uint8_t *src, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    size_t p = *pos;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= len)
            return -1;
        uint8_t b = src[p++];
        if (shift == 63 && (b & 0x7e))
            return -2;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pos = p;
            *v = r;
            return 0;
        }
    }
    return -2;
}

static int uleb_err(int rc, tl_error *err, const char *what, const char *field,
                    size_t off)
{
    return tl_error_set(err, TL_ECORRUPT, "%s: byte offset %zu: %s: %s", what,
                        off, field,
                        rc == -1 ? "varint runs past the end of the data"
                                 : "varint longer than 64 bits");
}

unsigned tlf_pq_bit_width(uint64_t max_value)
{
    return max_value ? 64u - (unsigned)__builtin_clzll(max_value) : 0u;
}

/* ---- bit unpacking of groups of 8 ------------------------------------------
 * Group g of width W is W bytes; value j at bit j*W. Fast path: unaligned
 * 8-byte loads, valid while 8 bytes remain after each load's start, i.e.
 * for every group but those in the last 8 bytes of the data, which go
 * through a zero-padded stack copy. */

static ALWAYS_INLINE void unpack8_u32(const uint8_t *p, unsigned W, uint32_t *o)
{
    const uint64_t mask = (uint64_t)0xffffffffu >> (32 - W); /* 1 <= W <= 32 */
#pragma GCC unroll 8
    for (unsigned j = 0; j < 8; j++)
        o[j] = (uint32_t)((tlf_ld64(p + (j * W) / 8) >> ((j * W) % 8)) & mask);
}

static ALWAYS_INLINE void unpack8_u8(const uint8_t *p, unsigned W, uint8_t *o)
{
    uint64_t g = tlf_ld64(p);
    const uint64_t mask = (1ull << W) - 1;
#pragma GCC unroll 8
    for (unsigned j = 0; j < 8; j++)
        o[j] = (uint8_t)((g >> (j * W)) & mask);
}

/* groups*8 values from p, where p[0 .. avail) may be read, avail >=
 * groups*W (the last group may be short: values past it read as 0). */
static ALWAYS_INLINE void unpack_groups_u32(const uint8_t *p, size_t avail,
                                            size_t groups, unsigned W,
                                            uint32_t *o)
{
    size_t g = 0;
    /* group g's last load starts at g*W + (7*W)/8 and reads 8 bytes */
    while (g < groups && g * W + (7 * W) / 8 + 8 <= avail) {
        unpack8_u32(p + g * W, W, o + g * 8);
        g++;
    }
    for (; g < groups; g++) {
        uint8_t tmp[48] = {0};
        size_t have = avail - g * W;
        memcpy(tmp, p + g * W, have < W ? have : W);
        unpack8_u32(tmp, W, o + g * 8);
    }
}

static ALWAYS_INLINE void unpack_groups_u8(const uint8_t *p, size_t avail,
                                           size_t groups, unsigned W,
                                           uint8_t *o)
{
    size_t g = 0;
    while (g < groups && g * W + 8 <= avail) {
        unpack8_u8(p + g * W, W, o + g * 8);
        g++;
    }
    for (; g < groups; g++) {
        uint8_t tmp[8] = {0};
        size_t have = avail - g * W;
        memcpy(tmp, p + g * W, have < W ? have : W);
        unpack8_u8(tmp, W, o + g * 8);
    }
}

static void unpack_u32(const uint8_t *p, size_t avail, size_t groups,
                       unsigned bw, uint32_t *o)
{
    switch (bw) {
#define C(W) case W: unpack_groups_u32(p, avail, groups, W, o); break;
        EACH_BW_1_32(C)
#undef C
    default: memset(o, 0, groups * 8 * sizeof *o); break;
    }
}

static void unpack_u8(const uint8_t *p, size_t avail, size_t groups,
                      unsigned bw, uint8_t *o)
{
    switch (bw) {
#define C(W) case W: unpack_groups_u8(p, avail, groups, W, o); break;
        EACH_BW_1_8(C)
#undef C
    default: memset(o, 0, groups * 8); break;
    }
}

void tlf_pq_bitunpack32(const uint8_t *src, size_t n, unsigned bw,
                        uint32_t *out)
{
    if (n == 0)
        return;
    size_t nbytes = (n * bw + 7) / 8;
    size_t full = n / 8;
    unpack_u32(src, nbytes, full, bw, out);
    if (full * 8 < n) {
        uint32_t tmp[8];
        size_t off = full * bw;
        unpack_u32(src + off, nbytes - off, 1, bw, tmp);
        memcpy(out + full * 8, tmp, (n - full * 8) * sizeof *tmp);
    }
}

/* ---- hybrid decoder --------------------------------------------------------
 * One walker for the three output forms (u32, u8, bitmap); the per-form
 * work is a fill (RLE run) and an unpack (bit-packed run). */

enum { OUT_U32, OUT_U8, OUT_BITS };

typedef struct hyb_out {
    int kind;
    uint32_t *u32;
    uint8_t *u8;
    uint8_t *bm;
    uint64_t bit0;
    uint64_t n_set;
} hyb_out;

/* bits [pos, pos + cnt) of bm := v (0/1) */
static void bits_fill(uint8_t *bm, uint64_t pos, uint64_t cnt, int v)
{
    while (cnt && (pos & 7)) {
        tl_bit_set(bm, pos++, v);
        cnt--;
    }
    if (cnt >= 8) {
        memset(bm + (pos >> 3), v ? 0xff : 0, cnt >> 3);
        pos += cnt & ~(uint64_t)7;
        cnt &= 7;
    }
    while (cnt--)
        tl_bit_set(bm, pos++, v);
}

/* bits [pos, pos + cnt) of bm := bits [0, cnt) of src (LSB first) */
static void bits_copy(uint8_t *bm, uint64_t pos, const uint8_t *src,
                      uint64_t cnt)
{
    unsigned sh = (unsigned)(pos & 7);
    uint8_t *d = bm + (pos >> 3);
    uint64_t whole = cnt >> 3;
    if (sh == 0) {
        memcpy(d, src, whole);
    } else {
        uint8_t keep = (uint8_t)((1u << sh) - 1);
        for (uint64_t i = 0; i < whole; i++) {
            d[i] = (uint8_t)((d[i] & keep) | (uint8_t)(src[i] << sh));
            d[i + 1] = (uint8_t)((d[i + 1] & ~keep) | (src[i] >> (8 - sh)));
        }
    }
    for (uint64_t b = whole * 8; b < cnt; b++)
        tl_bit_set(bm, pos + b, (src[b >> 3] >> (b & 7)) & 1);
}

static uint64_t popcount_bytes(const uint8_t *p, uint64_t nbits)
{
    uint64_t c = 0, i = 0, whole = nbits >> 3;
    for (; i + 8 <= whole; i += 8)
        c += (uint64_t)__builtin_popcountll(tlf_ld64(p + i));
    for (; i < whole; i++)
        c += (uint64_t)__builtin_popcount(p[i]);
    if (nbits & 7)
        c += (uint64_t)__builtin_popcount(p[whole] & ((1u << (nbits & 7)) - 1));
    return c;
}

static const char HYB[] = "RLE/bit-packed hybrid";

static int hybrid_walk(const uint8_t *src, size_t len, unsigned bw,
                       hyb_out *o, size_t n, size_t off0, size_t *consumed,
                       tl_error *err)
{
    size_t pos = 0, done = 0;
    const size_t vbytes = (bw + 7) / 8;
    char buf[200];
    while (done < n) {
        size_t hpos = pos;
        uint64_t h;
        int rc = read_uleb(src, len, &pos, &h);
        if (rc) {
            if (rc == -1 && hpos >= len) {
                snprintf(buf, sizeof buf,
                         "data ends after %zu of %zu values (bit width %u)",
                         done, n, bw);
                return corrupt(err, HYB, off0 + hpos, buf);
            }
            return uleb_err(rc, err, HYB, "run header", off0 + hpos);
        }
        uint64_t cnt = h >> 1;
        size_t left = n - done;
        if (!(h & 1)) {
            /* RLE run */
            if (cnt > left) {
                snprintf(buf, sizeof buf,
                         "RLE run of %llu values overshoots the %zu values "
                         "left (of %zu)",
                         (unsigned long long)cnt, left, n);
                return corrupt(err, HYB, off0 + hpos, buf);
            }
            if (len - pos < vbytes) {
                snprintf(buf, sizeof buf,
                         "RLE run value needs %zu bytes, %zu remain", vbytes,
                         len - pos);
                return corrupt(err, HYB, off0 + pos, buf);
            }
            uint32_t v = 0;
            for (size_t b = 0; b < vbytes; b++)
                v |= (uint32_t)src[pos + b] << (8 * b);
            if (bw < 32 && (v >> bw)) {
                snprintf(buf, sizeof buf,
                         "RLE run value %u does not fit bit width %u", v, bw);
                return corrupt(err, HYB, off0 + pos, buf);
            }
            pos += vbytes;
            switch (o->kind) {
            case OUT_U32:
                for (size_t i = 0; i < cnt; i++)
                    o->u32[done + i] = v;
                break;
            case OUT_U8:
                memset(o->u8 + done, (int)v, cnt);
                break;
            default:
                bits_fill(o->bm, o->bit0 + done, cnt, (int)v);
                if (v)
                    o->n_set += cnt;
                break;
            }
            done += cnt;
        } else {
            /* bit-packed groups; only the group holding value n - 1 may
             * hold padding */
            uint64_t groups = cnt;
            size_t take;
            if (groups <= left / 8) {
                take = (size_t)groups * 8;
            } else if (groups == (left + 7) / 8) {
                take = left;
            } else {
                snprintf(buf, sizeof buf,
                         "bit-packed run of %llu groups overshoots the %zu "
                         "values left (of %zu) by more than one group",
                         (unsigned long long)groups, left, n);
                return corrupt(err, HYB, off0 + hpos, buf);
            }
            size_t need = (take * bw + 7) / 8;
            if (len - pos < need) {
                snprintf(buf, sizeof buf,
                         "bit-packed run of %zu values at bit width %u needs "
                         "%zu bytes, %zu remain",
                         take, bw, need, len - pos);
                return corrupt(err, HYB, off0 + pos, buf);
            }
            size_t avail = len - pos; /* may hold less than groups * bw */
            size_t full = take / 8, rest = take % 8;
            switch (o->kind) {
            case OUT_U32:
                unpack_u32(src + pos, avail, full, bw, o->u32 + done);
                if (rest) {
                    uint32_t tmp[8];
                    unpack_u32(src + pos + full * bw, avail - full * bw, 1, bw,
                               tmp);
                    memcpy(o->u32 + done + full * 8, tmp, rest * sizeof *tmp);
                }
                break;
            case OUT_U8:
                unpack_u8(src + pos, avail, full, bw, o->u8 + done);
                if (rest) {
                    uint8_t tmp[8];
                    unpack_u8(src + pos + full * bw, avail - full * bw, 1, bw,
                              tmp);
                    memcpy(o->u8 + done + full * 8, tmp, rest);
                }
                break;
            default:
                bits_copy(o->bm, o->bit0 + done, src + pos, take);
                o->n_set += popcount_bytes(src + pos, take);
                break;
            }
            uint64_t run_bytes = groups * bw;
            pos += run_bytes < avail ? (size_t)run_bytes : avail;
            done += take;
        }
    }
    if (consumed)
        *consumed = pos;
    return TL_OK;
}

static int hybrid_args(unsigned bw, unsigned max_bw, const void *out, size_t n,
                       tl_error *err)
{
    if (bw > max_bw)
        return tl_error_set(err, TL_EINVAL,
                            "%s: bit width %u out of range 0..%u", HYB, bw,
                            max_bw);
    if (n && !out)
        return tl_error_set(err, TL_EINVAL, "%s: no output buffer", HYB);
    return TL_OK;
}

int tlf_pq_hybrid_decode32(const uint8_t *src, size_t len, unsigned bw,
                           uint32_t *out, size_t n, size_t off0,
                           size_t *consumed, tl_error *err)
{
    int rc = hybrid_args(bw, 32, out, n, err);
    if (rc)
        return rc;
    if (bw == 0) {
        if (n)
            memset(out, 0, n * sizeof *out);
        if (consumed)
            *consumed = 0;
        return TL_OK;
    }
    hyb_out o = {.kind = OUT_U32, .u32 = out};
    return hybrid_walk(src, len, bw, &o, n, off0, consumed, err);
}

int tlf_pq_hybrid_decode8(const uint8_t *src, size_t len, unsigned bw,
                          uint8_t *out, size_t n, size_t off0,
                          size_t *consumed, tl_error *err)
{
    int rc = hybrid_args(bw, 8, out, n, err);
    if (rc)
        return rc;
    if (bw == 0) {
        if (n)
            memset(out, 0, n);
        if (consumed)
            *consumed = 0;
        return TL_OK;
    }
    hyb_out o = {.kind = OUT_U8, .u8 = out};
    return hybrid_walk(src, len, bw, &o, n, off0, consumed, err);
}

int tlf_pq_hybrid_decode_bits(const uint8_t *src, size_t len, uint8_t *bm,
                              uint64_t bit0, size_t n, uint64_t *n_set,
                              size_t off0, size_t *consumed, tl_error *err)
{
    int rc = hybrid_args(1, 1, bm, n, err);
    if (rc)
        return rc;
    hyb_out o = {.kind = OUT_BITS, .bm = bm, .bit0 = bit0};
    rc = hybrid_walk(src, len, 1, &o, n, off0, consumed, err);
    if (rc == TL_OK && n_set)
        *n_set = o.n_set;
    return rc;
}

static const char LV1[] = "levels (v1)";

static int v1_prefix(const uint8_t *src, size_t len, size_t off0, size_t *L,
                     tl_error *err)
{
    if (len < 4) {
        char buf[96];
        snprintf(buf, sizeof buf,
                 "4-byte length prefix expected, %zu bytes remain", len);
        return corrupt(err, LV1, off0, buf);
    }
    uint32_t l = tlf_ld32(src);
    if (l > len - 4) {
        char buf[128];
        snprintf(buf, sizeof buf,
                 "length prefix says %u bytes, only %zu follow", l, len - 4);
        return corrupt(err, LV1, off0, buf);
    }
    *L = l;
    return TL_OK;
}

int tlf_pq_levels_v1(const uint8_t *src, size_t len, unsigned bw,
                     uint8_t *out, size_t n, size_t off0, size_t *consumed,
                     tl_error *err)
{
    size_t L;
    int rc = v1_prefix(src, len, off0, &L, err);
    if (rc)
        return rc;
    rc = tlf_pq_hybrid_decode8(src + 4, L, bw, out, n, off0 + 4, NULL, err);
    if (rc == TL_OK && consumed)
        *consumed = 4 + L;
    return rc;
}

int tlf_pq_levels_v2(const uint8_t *src, size_t len, unsigned bw,
                     uint8_t *out, size_t n, size_t off0, tl_error *err)
{
    return tlf_pq_hybrid_decode8(src, len, bw, out, n, off0, NULL, err);
}

int tlf_pq_levels_v1_bits(const uint8_t *src, size_t len, uint8_t *bm,
                          uint64_t bit0, size_t n, uint64_t *n_set,
                          size_t off0, size_t *consumed, tl_error *err)
{
    size_t L;
    int rc = v1_prefix(src, len, off0, &L, err);
    if (rc)
        return rc;
    rc = tlf_pq_hybrid_decode_bits(src + 4, L, bm, bit0, n, n_set, off0 + 4,
                                   NULL, err);
    if (rc == TL_OK && consumed)
        *consumed = 4 + L;
    return rc;
}

int tlf_pq_levels_v2_bits(const uint8_t *src, size_t len, uint8_t *bm,
                          uint64_t bit0, size_t n, uint64_t *n_set,
                          size_t off0, tl_error *err)
{
    return tlf_pq_hybrid_decode_bits(src, len, bm, bit0, n, n_set, off0, NULL,
                                     err);
}

static const char DICT[] = "dictionary indices";

int tlf_pq_dict_indices(const uint8_t *src, size_t len, uint32_t *out,
                        size_t n, uint32_t dict_size, size_t off0,
                        tl_error *err)
{
    if (n == 0)
        return TL_OK; /* an empty page may omit even the bit width */
    if (len < 1)
        return corrupt(err, DICT, off0,
                       "bit width byte expected, no bytes remain");
    unsigned bw = src[0];
    if (bw > 32) {
        char buf[64];
        snprintf(buf, sizeof buf, "bit width %u exceeds 32", bw);
        return corrupt(err, DICT, off0, buf);
    }
    if (dict_size == 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: byte offset %zu: %zu indices into an empty "
                            "(or missing) dictionary",
                            DICT, off0, n);
    int rc = tlf_pq_hybrid_decode32(src + 1, len - 1, bw, out, n, off0 + 1,
                                    NULL, err);
    if (rc)
        return rc;
    /* validate after decoding: a branch-free max, then find the culprit */
    uint32_t mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = out[i] > mx ? out[i] : mx;
    if (mx < dict_size)
        return TL_OK;
    size_t i = 0;
    while (out[i] < dict_size)
        i++;
    return tl_error_set(err, TL_ECORRUPT,
                        "%s: byte offset %zu: index %u of value %zu is out of "
                        "range (dictionary has %u entries)",
                        DICT, off0, out[i], i, dict_size);
}

/* ---- bit packing and the hybrid encoder ----------------------------------- */

static ALWAYS_INLINE void pack8_u32(const uint32_t *v, unsigned W, uint8_t *o)
{
    /* 8 values of W bits = W bytes, built in a 64-bit accumulator that is
     * flushed 4 bytes at a time */
    const uint64_t mask = (uint64_t)0xffffffffu >> (32 - W); /* 1 <= W <= 32 */
    uint64_t acc = 0;
    unsigned fill = 0, off = 0;
#pragma GCC unroll 8
    for (unsigned j = 0; j < 8; j++) {
        acc |= ((uint64_t)v[j] & mask) << fill;
        fill += W;
        if (fill >= 32) {
            tlf_st32(o + off, (uint32_t)acc);
            off += 4;
            acc >>= 32;
            fill -= 32;
        }
    }
    for (unsigned b = 0; b < fill / 8; b++)
        o[off + b] = (uint8_t)(acc >> (8 * b));
}

static ALWAYS_INLINE void pack_groups_u32(const uint32_t *v, size_t groups,
                                          unsigned W, uint8_t *o)
{
    for (size_t g = 0; g < groups; g++)
        pack8_u32(v + g * 8, W, o + g * W);
}

static void pack_u32(const uint32_t *v, size_t groups, unsigned bw, uint8_t *o)
{
    switch (bw) {
#define C(W) case W: pack_groups_u32(v, groups, W, o); break;
        EACH_BW_1_32(C)
#undef C
    default: break;
    }
}

void tlf_pq_bitpack32(const uint32_t *v, size_t n, unsigned bw, uint8_t *dst)
{
    if (bw == 0 || n == 0)
        return;
    size_t full = n / 8;
    pack_u32(v, full, bw, dst);
    if (full * 8 < n) {
        uint32_t tmp[8] = {0};
        uint8_t ob[32];
        memcpy(tmp, v + full * 8, (n - full * 8) * sizeof *tmp);
        pack_u32(tmp, 1, bw, ob);
        memcpy(dst + full * bw, ob, ((n - full * 8) * bw + 7) / 8);
    }
}

size_t tlf_pq_hybrid_bound(size_t n, unsigned bw)
{
    /* every run covers >= 8 values except the last of each kind; a run
     * costs <= 5 header bytes + max(4 value bytes, its groups * bw) */
    return (n / 8 + 2) * (size_t)(bw + 9) + 16;
}

static size_t put_uleb(uint8_t *dst, uint64_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        dst[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[k++] = (uint8_t)v;
    return k;
}

#define MAX_RUN ((size_t)1 << 30) /* spec: runs < 2^31 values */

static size_t put_rle(uint8_t *dst, uint32_t v, size_t cnt, unsigned bw)
{
    size_t k = 0, vb = (bw + 7) / 8;
    while (cnt) {
        size_t c = cnt < MAX_RUN ? cnt : MAX_RUN;
        k += put_uleb(dst + k, (uint64_t)c << 1);
        for (size_t b = 0; b < vb; b++)
            dst[k++] = (uint8_t)(v >> (8 * b));
        cnt -= c;
    }
    return k;
}

/* bit-packed run(s) of v[0 .. cnt), the last group padded with zeros */
static size_t put_packed_u32(uint8_t *dst, const uint32_t *v, size_t cnt,
                             unsigned bw)
{
    size_t k = 0;
    while (cnt) {
        size_t c = cnt < MAX_RUN ? cnt : MAX_RUN;
        size_t groups = (c + 7) / 8;
        k += put_uleb(dst + k, ((uint64_t)groups << 1) | 1);
        size_t full = c / 8;
        pack_u32(v, full, bw, dst + k);
        if (full < groups) {
            uint32_t tmp[8] = {0};
            memcpy(tmp, v + full * 8, (c - full * 8) * sizeof *tmp);
            pack_u32(tmp, 1, bw, dst + k + full * bw);
        }
        k += groups * bw;
        v += c;
        cnt -= c;
    }
    return k;
}

/* The encoder looks at the values 8 at a time, from the start of the
 * current bit-packed stretch (so the stretch stays whole groups): 8 equal
 * values start an RLE run, extended as far as the value repeats; anything
 * else joins the stretch as one group. A run of >= 8 is thus taken as RLE
 * from the first group boundary of the stretch at which 8 repeats remain. */
static ALWAYS_INLINE size_t hyb_encode(const void *vv, int is8, size_t n,
                                       unsigned bw, uint8_t *dst)
{
    const uint32_t *v32 = vv;
    const uint8_t *v8 = vv;
#define VAL(i) (is8 ? (uint32_t)v8[i] : v32[i])
    const uint32_t mask = bw >= 32 ? 0xffffffffu : ((1u << bw) - 1);
    size_t k = 0, i = 0, bp_start = 0, bp_cnt = 0;
    uint32_t tmp[512];
    while (i < n) {
        if (n - i >= 8) {
            uint32_t x = VAL(i);
            int same = 1;
            for (unsigned j = 1; j < 8; j++)
                same &= VAL(i + j) == x;
            if (same) {
                size_t r = 8;
                while (i + r < n && VAL(i + r) == x)
                    r++;
                if (bp_cnt) {
                    if (is8) {
                        for (size_t s_ = bp_start; s_ < bp_start + bp_cnt;) {
                            size_t t_ = bp_start + bp_cnt - s_;
                            t_ = t_ < 512 ? t_ : 512;
                            for (size_t j = 0; j < t_; j++)
                                tmp[j] = v8[s_ + j];
                            k += put_packed_u32(dst + k, tmp, t_, bw);
                            s_ += t_;
                        }
                    } else {
                        k += put_packed_u32(dst + k, v32 + bp_start, bp_cnt,
                                            bw);
                    }
                }
                k += put_rle(dst + k, x & mask, r, bw);
                i += r;
                bp_cnt = 0;
                continue;
            }
        }
        if (!bp_cnt)
            bp_start = i;
        size_t t = n - i < 8 ? n - i : 8;
        bp_cnt += t;
        i += t;
    }
    if (bp_cnt) {
        if (is8) {
            for (size_t s_ = bp_start; s_ < bp_start + bp_cnt;) {
                size_t t_ = bp_start + bp_cnt - s_;
                t_ = t_ < 512 ? t_ : 512;
                for (size_t j = 0; j < t_; j++)
                    tmp[j] = v8[s_ + j];
                k += put_packed_u32(dst + k, tmp, t_, bw);
                s_ += t_;
            }
        } else {
            k += put_packed_u32(dst + k, v32 + bp_start, bp_cnt, bw);
        }
    }
#undef VAL
    return k;
}

size_t tlf_pq_hybrid_encode32(const uint32_t *v, size_t n, unsigned bw,
                              uint8_t *dst)
{
    return hyb_encode(v, 0, n, bw, dst);
}

size_t tlf_pq_hybrid_encode8(const uint8_t *v, size_t n, unsigned bw,
                             uint8_t *dst)
{
    return hyb_encode(v, 1, n, bw, dst);
}

/* byte b (8 values) of the bitmap starting at bit bit0 */
static ALWAYS_INLINE uint8_t bm_byte(const uint8_t *bm, uint64_t bit0,
                                     uint64_t b, uint64_t nbits)
{
    uint64_t p = bit0 + b * 8;
    unsigned sh = (unsigned)(p & 7);
    const uint8_t *s = bm + (p >> 3);
    unsigned v = s[0] >> sh;
    if (sh && (b * 8 + (8 - sh)) < nbits)
        v |= (unsigned)s[1] << (8 - sh);
    return (uint8_t)v;
}

size_t tlf_pq_hybrid_encode_bits(const uint8_t *bm, uint64_t bit0, size_t n,
                                 uint8_t *dst)
{
    /* Works on whole bytes (8 values): runs of 0x00 / 0xff bytes become RLE
     * runs, other bytes bit-packed groups; stretches of packed groups are
     * capped at 63 so their header is one byte, reserved up front. The
     * final partial byte joins the RLE run it continues, else is packed. */
    size_t k = 0;
    if (n == 0)
        return 0;
    if (!bm)
        return put_rle(dst, 1, n, 1);
    size_t whole = n / 8, rem = n % 8;
    size_t hdr = 0, groups = 0; /* open packed stretch: header at dst[hdr] */
    int rle_v = -1;
    size_t rle_cnt = 0;
#define CLOSE_PACKED()                                                         \
    do {                                                                       \
        if (groups) {                                                          \
            dst[hdr] = (uint8_t)((groups << 1) | 1);                           \
            groups = 0;                                                        \
        }                                                                      \
    } while (0)
#define CLOSE_RLE()                                                            \
    do {                                                                       \
        if (rle_cnt) {                                                         \
            k += put_rle(dst + k, (uint32_t)rle_v, rle_cnt, 1);                \
            rle_cnt = 0;                                                       \
            rle_v = -1;                                                        \
        }                                                                      \
    } while (0)
    for (size_t b = 0; b < whole; b++) {
        uint8_t x = bm_byte(bm, bit0, b, n);
        /* a uniform byte starts/extends a run only if the next byte (or the
         * run so far) repeats it: lone uniform bytes stay packed */
        int uni = x == 0 || x == 0xff;
        int v = x ? 1 : 0;
        if (uni && rle_cnt && rle_v == v) {
            rle_cnt += 8;
            continue;
        }
        if (uni && b + 1 < whole && bm_byte(bm, bit0, b + 1, n) == x) {
            CLOSE_PACKED();
            CLOSE_RLE();
            rle_v = v;
            rle_cnt = 8;
            continue;
        }
        CLOSE_RLE();
        if (groups == 63)
            CLOSE_PACKED();
        if (!groups)
            hdr = k++;
        dst[k++] = x;
        groups++;
    }
    if (rem) {
        uint8_t x = bm_byte(bm, bit0, whole, n) & (uint8_t)((1u << rem) - 1);
        uint8_t ones = (uint8_t)((1u << rem) - 1);
        int v = x == ones ? 1 : x == 0 ? 0 : -1;
        if (rle_cnt && v == rle_v) {
            rle_cnt += rem;
        } else {
            CLOSE_RLE();
            if (groups == 63)
                CLOSE_PACKED();
            if (!groups)
                hdr = k++;
            dst[k++] = x;
            groups++;
        }
    }
    CLOSE_PACKED();
    CLOSE_RLE();
#undef CLOSE_PACKED
#undef CLOSE_RLE
    return k;
}

/* ---- PLAIN ---------------------------------------------------------------- */

static const char PLAIN[] = "PLAIN";

int tlf_pq_plain_fixed(const uint8_t *src, size_t len, size_t width,
                       void *out, size_t n, size_t off0, size_t *consumed,
                       tl_error *err)
{
    if (width == 0 || (n && !out))
        return tl_error_set(err, TL_EINVAL,
                            "%s: bad arguments (width %zu)", PLAIN, width);
    if (n > len / width) {
        char buf[128];
        snprintf(buf, sizeof buf,
                 "%zu values of %zu bytes need %llu bytes, %zu remain", n,
                 width, (unsigned long long)n * width, len);
        return corrupt(err, PLAIN, off0, buf);
    }
    if (n)
        memcpy(out, src, n * width);
    if (consumed)
        *consumed = n * width;
    return TL_OK;
}

int tlf_pq_plain_bool(const uint8_t *src, size_t len, uint8_t *out, size_t n,
                      size_t off0, size_t *consumed, tl_error *err)
{
    size_t need = n / 8 + (n % 8 != 0);
    if (need > len) {
        char buf[128];
        snprintf(buf, sizeof buf,
                 "%zu BOOLEAN values need %zu bytes, %zu remain", n, need, len);
        return corrupt(err, PLAIN, off0, buf);
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint8_t b = src[i / 8];
        /* spread 8 bits to 8 bytes with one multiply-free table-less step */
        uint64_t x = (uint64_t)b;
        x = (x | (x << 28)) & 0x0000000f0000000fULL;
        x = (x | (x << 14)) & 0x0003000300030003ULL;
        x = (x | (x << 7)) & 0x0101010101010101ULL;
        tlf_st64(out + i, x);
    }
    for (; i < n; i++)
        out[i] = (src[i / 8] >> (i % 8)) & 1;
    if (consumed)
        *consumed = need;
    return TL_OK;
}

static int ba_overflow(tl_error *err, const char *what, size_t off)
{
    return tl_error_set(err, TL_EUNSUPPORTED,
                        "%s: byte offset %zu: byte array data exceeds 4 GiB "
                        "in one column buffer",
                        what, off);
}

static int ba_cap(tl_error *err, const char *what, size_t need, size_t cap)
{
    return tl_error_set(err, TL_EINVAL,
                        "%s: output buffer of %zu bytes, %zu needed", what,
                        cap, need);
}

int tlf_pq_plain_byte_array(const uint8_t *src, size_t len, uint32_t *offs,
                            uint32_t base, uint8_t *data, size_t data_cap,
                            size_t n, size_t off0, size_t *consumed,
                            tl_error *err)
{
    size_t pos = 0;
    uint64_t cur = base;
    offs[0] = base;
    for (size_t i = 0; i < n; i++) {
        if (len - pos < 4) {
            char buf[128];
            snprintf(buf, sizeof buf,
                     "BYTE_ARRAY value %zu of %zu: 4-byte length expected, "
                     "%zu bytes remain",
                     i, n, len - pos);
            return corrupt(err, PLAIN, off0 + pos, buf);
        }
        uint32_t l = tlf_ld32(src + pos);
        if (l > len - pos - 4) {
            char buf[160];
            snprintf(buf, sizeof buf,
                     "BYTE_ARRAY value %zu of %zu: length %u, only %zu bytes "
                     "remain",
                     i, n, l, len - pos - 4);
            return corrupt(err, PLAIN, off0 + pos, buf);
        }
        if (cur + l > UINT32_MAX)
            return ba_overflow(err, PLAIN, off0 + pos);
        if (cur + l > data_cap)
            return ba_cap(err, PLAIN, (size_t)(cur + l), data_cap);
        memcpy(data + cur, src + pos + 4, l);
        cur += l;
        offs[i + 1] = (uint32_t)cur;
        pos += 4 + (size_t)l;
    }
    if (consumed)
        *consumed = pos;
    return TL_OK;
}

size_t tlf_pq_plain_byte_array_encode(const uint32_t *offs,
                                      const uint8_t *data, size_t n,
                                      uint8_t *dst)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t l = offs[i + 1] - offs[i];
        tlf_st32(dst + k, l);
        memcpy(dst + k + 4, data + offs[i], l);
        k += 4 + (size_t)l;
    }
    return k;
}

size_t tlf_pq_plain_bool_encode(const uint8_t *v, size_t n, uint8_t *dst)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint8_t b = 0;
        for (unsigned j = 0; j < 8; j++)
            b |= (uint8_t)((v[i + j] != 0) << j);
        dst[i / 8] = b;
    }
    if (i < n) {
        uint8_t b = 0;
        for (unsigned j = 0; i + j < n; j++)
            b |= (uint8_t)((v[i + j] != 0) << j);
        dst[i / 8] = b;
    }
    return n / 8 + (n % 8 != 0);
}

/* ---- DELTA_BINARY_PACKED --------------------------------------------------
 * A streaming decoder: dbp_open parses the header, dbp_next yields values
 * in order through a 32-value window (one window = 32 values of one
 * miniblock; miniblocks hold a multiple of 32). */

static const char DBP[] = "DELTA_BINARY_PACKED";

#define DBP_MAX_BLOCK (1u << 20) /* values per block accepted */

typedef struct dbp {
    const uint8_t *src;
    size_t len, pos, off0;
    unsigned max_bw;       /* 32 or 64 */
    uint64_t block_size, n_mini, vpm, total;
    uint64_t emitted;      /* values handed out */
    uint64_t decoded;      /* values decoded into win (incl. the first) */
    uint64_t prev;
    uint64_t min_delta;
    const uint8_t *widths; /* of the current block */
    uint64_t mini;         /* current miniblock index in the block */
    uint64_t mini_left;    /* values of it not yet decoded */
    size_t mini_pos;       /* bytes of the current miniblock start here */
    size_t mini_bytes;     /* full size of the current miniblock */
    size_t mini_used;      /* of its bytes consumed by decoded windows */
    size_t end;            /* end of the encoding so far */
    uint64_t win[32];
    unsigned win_n, win_at;
} dbp;

static int dbp_open(dbp *d, const uint8_t *src, size_t len, unsigned max_bw,
                    size_t off0, tl_error *err)
{
    memset(d, 0, sizeof *d);
    d->src = src;
    d->len = len;
    d->off0 = off0;
    d->max_bw = max_bw;
    uint64_t first;
    int rc;
    size_t at = 0;
    if ((rc = read_uleb(src, len, &d->pos, &d->block_size)))
        return uleb_err(rc, err, DBP, "block size", off0 + at);
    at = d->pos;
    if ((rc = read_uleb(src, len, &d->pos, &d->n_mini)))
        return uleb_err(rc, err, DBP, "miniblocks per block", off0 + at);
    at = d->pos;
    if ((rc = read_uleb(src, len, &d->pos, &d->total)))
        return uleb_err(rc, err, DBP, "total value count", off0 + at);
    at = d->pos;
    if ((rc = read_uleb(src, len, &d->pos, &first)))
        return uleb_err(rc, err, DBP, "first value", off0 + at);
    char buf[192];
    if (d->block_size == 0 || d->block_size % 128 ||
        d->block_size > DBP_MAX_BLOCK) {
        snprintf(buf, sizeof buf,
                 "block size %llu is not a positive multiple of 128 (at most "
                 "%u)",
                 (unsigned long long)d->block_size, DBP_MAX_BLOCK);
        return corrupt(err, DBP, off0, buf);
    }
    if (d->n_mini == 0 || d->block_size % d->n_mini ||
        (d->block_size / d->n_mini) % 32) {
        snprintf(buf, sizeof buf,
                 "%llu miniblocks per block of %llu values: values per "
                 "miniblock must be a multiple of 32",
                 (unsigned long long)d->n_mini,
                 (unsigned long long)d->block_size);
        return corrupt(err, DBP, off0, buf);
    }
    d->vpm = d->block_size / d->n_mini;
    d->prev = (first >> 1) ^ (0 - (first & 1));
    if (max_bw == 32)
        d->prev = (uint64_t)(int64_t)(int32_t)(uint32_t)d->prev;
    d->end = d->pos;
    return TL_OK;
}

/* The next miniblock (reading a block header when one is due). */
static int dbp_next_mini(dbp *d, tl_error *err)
{
    char buf[192];
    if (d->widths == NULL || d->mini + 1 >= d->n_mini) {
        size_t at = d->pos;
        uint64_t md;
        int rc = read_uleb(d->src, d->len, &d->pos, &md);
        if (rc) {
            if (rc == -1 && at >= d->len) {
                snprintf(buf, sizeof buf,
                         "data ends after %llu of %llu values (block header "
                         "expected)",
                         (unsigned long long)d->decoded,
                         (unsigned long long)d->total);
                return corrupt(err, DBP, d->off0 + at, buf);
            }
            return uleb_err(rc, err, DBP, "min delta", d->off0 + at);
        }
        d->min_delta = (md >> 1) ^ (0 - (md & 1));
        if (d->len - d->pos < d->n_mini) {
            snprintf(buf, sizeof buf,
                     "%llu miniblock bit widths expected, %zu bytes remain",
                     (unsigned long long)d->n_mini, d->len - d->pos);
            return corrupt(err, DBP, d->off0 + d->pos, buf);
        }
        d->widths = d->src + d->pos;
        d->pos += (size_t)d->n_mini;
        d->mini = 0;
    } else {
        d->mini++;
    }
    unsigned bw = d->widths[d->mini];
    if (bw > d->max_bw) {
        snprintf(buf, sizeof buf,
                 "miniblock %llu bit width %u exceeds %u",
                 (unsigned long long)d->mini, bw, d->max_bw);
        return corrupt(err, DBP,
                       d->off0 + (size_t)(d->widths - d->src) + d->mini, buf);
    }
    uint64_t left = d->total - d->decoded;
    d->mini_left = left < d->vpm ? left : d->vpm;
    d->mini_pos = d->pos;
    d->mini_bytes = (size_t)(d->vpm * bw / 8);
    d->mini_used = 0;
    /* the values needed must be present; only the last miniblock may lack
     * its padding */
    size_t need = (size_t)((d->mini_left * bw + 7) / 8);
    if (d->len - d->pos < need) {
        snprintf(buf, sizeof buf,
                 "miniblock of %llu values at bit width %u needs %zu bytes, "
                 "%zu remain",
                 (unsigned long long)d->mini_left, bw, need, d->len - d->pos);
        return corrupt(err, DBP, d->off0 + d->pos, buf);
    }
    size_t avail = d->len - d->pos;
    size_t adv = d->mini_bytes < avail ? d->mini_bytes : avail;
    if (adv < d->mini_bytes && d->mini_left == d->vpm &&
        d->decoded + d->mini_left < d->total) {
        snprintf(buf, sizeof buf,
                 "miniblock needs %zu bytes, %zu remain", d->mini_bytes, avail);
        return corrupt(err, DBP, d->off0 + d->pos, buf);
    }
    d->pos += adv;
    d->end = d->pos;
    return TL_OK;
}

/* Refill the window with the next <= 32 values. */
static int dbp_refill(dbp *d, tl_error *err)
{
    d->win_at = 0;
    if (d->decoded == 0) {
        d->win[0] = d->prev;
        d->win_n = 1;
        d->decoded = 1;
        return TL_OK;
    }
    if (d->mini_left == 0) {
        int rc = dbp_next_mini(d, err);
        if (rc)
            return rc;
    }
    unsigned bw = d->widths[d->mini];
    unsigned cnt = d->mini_left < 32 ? (unsigned)d->mini_left : 32;
    size_t wbytes = (size_t)4 * bw; /* 32 values */
    size_t have = d->len - d->mini_pos - d->mini_used;
    tlf_unpack_at(d->src + d->mini_pos + d->mini_used,
                  have < wbytes ? have : wbytes, 0, cnt, bw, d->win);
    d->mini_used += wbytes;
    uint64_t p = d->prev, md = d->min_delta;
    if (d->max_bw == 32) {
        uint32_t q = (uint32_t)p, m = (uint32_t)md;
        for (unsigned i = 0; i < cnt; i++) {
            q = q + m + (uint32_t)d->win[i];
            d->win[i] = (uint64_t)(int64_t)(int32_t)q;
        }
        p = (uint64_t)(int64_t)(int32_t)q;
    } else {
        for (unsigned i = 0; i < cnt; i++) {
            p = p + md + d->win[i];
            d->win[i] = p;
        }
    }
    d->prev = p;
    d->win_n = cnt;
    d->mini_left -= cnt;
    d->decoded += cnt;
    return TL_OK;
}

/* Up to k more values into out (as 64-bit; INT32 sign-extended). */
static int dbp_next(dbp *d, uint64_t *out, size_t k, size_t *got,
                    tl_error *err)
{
    size_t g = 0;
    while (g < k && d->emitted < d->total) {
        if (d->win_at == d->win_n) {
            int rc = dbp_refill(d, err);
            if (rc)
                return rc;
        }
        size_t t = d->win_n - d->win_at;
        if (t > k - g)
            t = k - g;
        memcpy(out + g, d->win + d->win_at, t * 8);
        d->win_at += (unsigned)t;
        g += t;
        d->emitted += t;
    }
    *got = g;
    return TL_OK;
}

/* Walk to the end of the encoding without unpacking (validates the block
 * headers and sizes); *end = bytes used. */
static int dbp_skip(dbp *d, size_t *end, tl_error *err)
{
    if (d->decoded == 0 && d->total)
        d->decoded = 1;
    while (d->decoded < d->total) {
        int rc = dbp_next_mini(d, err);
        if (rc)
            return rc;
        d->decoded += d->mini_left;
        d->mini_left = 0;
    }
    *end = d->end;
    return TL_OK;
}

static int count_mismatch(tl_error *err, size_t off, uint64_t total, size_t n)
{
    return tl_error_set(err, TL_ECORRUPT,
                        "%s: byte offset %zu: header declares %llu values, "
                        "the page holds %zu",
                        DBP, off, (unsigned long long)total, n);
}

int tlf_pq_delta_count(const uint8_t *src, size_t len, uint64_t *total,
                       size_t off0, tl_error *err)
{
    dbp d;
    int rc = dbp_open(&d, src, len, 64, off0, err);
    if (rc == TL_OK)
        *total = d.total;
    return rc;
}

/* Whole-stream decode for the INT32/INT64 outputs: miniblock by
 * miniblock, unpacked straight into the output (INT64) or through a
 * stack chunk (INT32), then prefix-summed in place. */
static int delta_decode(const uint8_t *src, size_t len, void *out, int is32,
                        size_t n, size_t off0, size_t *consumed,
                        tl_error *err)
{
    dbp d;
    int rc = dbp_open(&d, src, len, 64, off0, err);
    if (rc)
        return rc;
    if (d.total != n)
        return count_mismatch(err, off0, d.total, n);
    if (n) {
        if (is32)
            ((int32_t *)out)[0] = (int32_t)(uint32_t)d.prev;
        else
            ((uint64_t *)out)[0] = d.prev;
        d.decoded = 1;
    }
    uint64_t tmp[256];
    uint32_t p32 = (uint32_t)d.prev;
    uint64_t p64 = d.prev;
    while (d.decoded < n) {
        if ((rc = dbp_next_mini(&d, err)))
            return rc;
        unsigned bw = d.widths[d.mini];
        size_t cnt = (size_t)d.mini_left, at = (size_t)d.decoded;
        size_t avail = d.len - d.mini_pos;
        for (size_t c = 0; c < cnt; c += 256) {
            size_t k = cnt - c < 256 ? cnt - c : 256;
            size_t boff = c * bw / 8; /* c is a multiple of 256 */
            if (is32) {
                tlf_unpack_at(d.src + d.mini_pos + boff, avail - boff, 0,
                              (uint32_t)k, bw, tmp);
                uint32_t m = (uint32_t)d.min_delta;
                int32_t *o = (int32_t *)out + at + c;
                for (size_t i = 0; i < k; i++) {
                    p32 = p32 + m + (uint32_t)tmp[i];
                    o[i] = (int32_t)p32;
                }
            } else {
                uint64_t *o = (uint64_t *)out + at + c;
                tlf_unpack_at(d.src + d.mini_pos + boff, avail - boff, 0,
                              (uint32_t)k, bw, o);
                uint64_t m = d.min_delta;
                for (size_t i = 0; i < k; i++) {
                    p64 = p64 + m + o[i];
                    o[i] = p64;
                }
            }
        }
        d.decoded += cnt;
        d.mini_left = 0;
    }
    if (consumed)
        *consumed = d.end;
    return TL_OK;
}

int tlf_pq_delta_decode32(const uint8_t *src, size_t len, int32_t *out,
                          size_t n, size_t off0, size_t *consumed,
                          tl_error *err)
{
    return delta_decode(src, len, out, 1, n, off0, consumed, err);
}

int tlf_pq_delta_decode64(const uint8_t *src, size_t len, int64_t *out,
                          size_t n, size_t off0, size_t *consumed,
                          tl_error *err)
{
    return delta_decode(src, len, out, 0, n, off0, consumed, err);
}

static const char DLBA[] = "DELTA_LENGTH_BYTE_ARRAY";
static const char DBA[] = "DELTA_BYTE_ARRAY";

static int bad_len(tl_error *err, const char *what, size_t off, size_t i,
                   uint64_t l, const char *kind)
{
    return tl_error_set(err, TL_ECORRUPT,
                        "%s: byte offset %zu: %s length %lld of value %zu is "
                        "negative",
                        what, off, kind, (long long)(int64_t)l, i);
}

int tlf_pq_delta_length_decode(const uint8_t *src, size_t len, uint32_t *offs,
                               uint32_t base, uint8_t *data, size_t data_cap,
                               size_t n, size_t off0, size_t *consumed,
                               tl_error *err)
{
    dbp d;
    int rc = dbp_open(&d, src, len, 32, off0, err);
    if (rc)
        return rc;
    if (d.total != n)
        return count_mismatch(err, off0, d.total, n);
    dbp e = d;
    size_t end;
    if ((rc = dbp_skip(&e, &end, err)))
        return rc;
    size_t avail = len - end; /* value bytes start at end */
    uint64_t sum = 0;
    uint64_t tmp[256];
    size_t at = 0;
    offs[0] = base;
    while (at < n) {
        size_t got;
        rc = dbp_next(&d, tmp, n - at < 256 ? n - at : 256, &got, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < got; i++) {
            int64_t l = (int64_t)tmp[i];
            if (l < 0)
                return bad_len(err, DLBA, off0, at + i, tmp[i], "value");
            sum += (uint64_t)l;
            if (sum > avail) {
                char buf[160];
                snprintf(buf, sizeof buf,
                         "lengths up to value %zu sum to %llu bytes, %zu "
                         "bytes of data follow the lengths",
                         at + i, (unsigned long long)sum, avail);
                return corrupt(err, DLBA, off0 + end, buf);
            }
            if (base + sum > UINT32_MAX)
                return ba_overflow(err, DLBA, off0 + end);
            offs[at + i + 1] = (uint32_t)(base + sum);
        }
        at += got;
    }
    if (base + sum > data_cap)
        return ba_cap(err, DLBA, (size_t)(base + sum), data_cap);
    if (sum)
        memcpy(data + base, src + end, (size_t)sum);
    if (consumed)
        *consumed = end + (size_t)sum;
    return TL_OK;
}

/* Shared by size and decode: with data NULL only sizes are computed. */
static int dba_walk(const uint8_t *src, size_t len, uint32_t *offs,
                    uint32_t base, uint8_t *data, size_t data_cap, size_t n,
                    size_t off0, uint64_t *total_out, size_t *consumed,
                    tl_error *err)
{
    dbp p, s;
    int rc = dbp_open(&p, src, len, 32, off0, err);
    if (rc)
        return rc;
    if (p.total != n)
        return count_mismatch(err, off0, p.total, n);
    dbp tmpd = p;
    size_t e1, e2;
    if ((rc = dbp_skip(&tmpd, &e1, err)))
        return rc;
    if ((rc = dbp_open(&s, src + e1, len - e1, 32, off0 + e1, err)))
        return rc;
    if (s.total != n)
        return count_mismatch(err, off0 + e1, s.total, n);
    tmpd = s;
    if ((rc = dbp_skip(&tmpd, &e2, err)))
        return rc;
    e2 += e1;
    size_t sp = e2;            /* next suffix byte */
    uint64_t prev_len = 0, out = base;
    uint64_t pl[128], sl[128];
    size_t at = 0;
    if (offs)
        offs[0] = base;
    while (at < n) {
        size_t want = n - at < 128 ? n - at : 128, g1, g2;
        if ((rc = dbp_next(&p, pl, want, &g1, err)) ||
            (rc = dbp_next(&s, sl, want, &g2, err)))
            return rc;
        for (size_t i = 0; i < want; i++) {
            int64_t pre = (int64_t)pl[i], suf = (int64_t)sl[i];
            if (pre < 0)
                return bad_len(err, DBA, off0, at + i, pl[i], "prefix");
            if (suf < 0)
                return bad_len(err, DBA, off0 + e1, at + i, sl[i], "suffix");
            if ((uint64_t)pre > prev_len)
                return tl_error_set(err, TL_ECORRUPT,
                                    "%s: byte offset %zu: value %zu: prefix "
                                    "length %lld exceeds the previous value's "
                                    "length %llu",
                                    DBA, off0, at + i, (long long)pre,
                                    (unsigned long long)prev_len);
            if ((uint64_t)suf > len - sp) {
                char buf[160];
                snprintf(buf, sizeof buf,
                         "value %zu: suffix of %lld bytes, %zu remain", at + i,
                         (long long)suf, len - sp);
                return corrupt(err, DBA, off0 + sp, buf);
            }
            uint64_t vl = (uint64_t)pre + (uint64_t)suf;
            if (data) {
                if (out + vl > UINT32_MAX)
                    return ba_overflow(err, DBA, off0 + sp);
                if (out + vl > data_cap)
                    return ba_cap(err, DBA, (size_t)(out + vl), data_cap);
                /* the prefix comes from the previous value, just before */
                if (pre)
                    memmove(data + out, data + out - prev_len, (size_t)pre);
                memcpy(data + out + pre, src + sp, (size_t)suf);
                offs[at + i + 1] = (uint32_t)(out + vl);
            }
            out += vl;
            sp += (size_t)suf;
            prev_len = vl;
        }
        at += want;
    }
    if (total_out)
        *total_out = out - base;
    if (consumed)
        *consumed = sp;
    return TL_OK;
}

int tlf_pq_delta_byte_array_size(const uint8_t *src, size_t len, size_t n,
                                 uint64_t *data_bytes, size_t off0,
                                 tl_error *err)
{
    return dba_walk(src, len, NULL, 0, NULL, 0, n, off0, data_bytes, NULL,
                    err);
}

int tlf_pq_delta_byte_array_decode(const uint8_t *src, size_t len,
                                   uint32_t *offs, uint32_t base,
                                   uint8_t *data, size_t data_cap, size_t n,
                                   size_t off0, size_t *consumed,
                                   tl_error *err)
{
    static uint8_t dummy;
    return dba_walk(src, len, offs, base, data ? data : &dummy, data_cap, n,
                    off0, NULL, consumed, err);
}

/* ---- BYTE_STREAM_SPLIT ---------------------------------------------------- */

static ALWAYS_INLINE void bss_k(const uint8_t *src, size_t S, size_t K,
                                uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < K; j++)
            out[i * K + j] = src[j * S + i];
}

#ifdef __SSE2__
#include <emmintrin.h>
/* 8 streams: 16 values per step as an 8 x 16 byte transpose (three rounds
 * of unpacks), the tail byte by byte */
static void bss_8(const uint8_t *src, size_t S, uint8_t *out, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a[8];
        for (int j = 0; j < 8; j++)
            a[j] = _mm_loadu_si128((const __m128i *)(const void *)(src + (size_t)j * S + i));
        __m128i b[8], c[8];
        for (int j = 0; j < 4; j++) {
            b[2 * j] = _mm_unpacklo_epi8(a[2 * j], a[2 * j + 1]);
            b[2 * j + 1] = _mm_unpackhi_epi8(a[2 * j], a[2 * j + 1]);
        }
        /* b[0],b[1]: bytes 0-1 of values 0-7 / 8-15; b[2],b[3]: bytes 2-3 .. */
        for (int h = 0; h < 2; h++) {
            c[4 * h + 0] = _mm_unpacklo_epi16(b[h], b[2 + h]);
            c[4 * h + 1] = _mm_unpackhi_epi16(b[h], b[2 + h]);
            c[4 * h + 2] = _mm_unpacklo_epi16(b[4 + h], b[6 + h]);
            c[4 * h + 3] = _mm_unpackhi_epi16(b[4 + h], b[6 + h]);
        }
        /* c[4h+0]: bytes 0-3 of values 8h+0..3, c[4h+1]: of 8h+4..7,
         * c[4h+2], c[4h+3]: bytes 4-7 of the same */
        uint8_t *o = out + i * 8;
        for (int h = 0; h < 2; h++) {
            for (int q = 0; q < 2; q++) {
                __m128i lo = _mm_unpacklo_epi32(c[4 * h + q], c[4 * h + 2 + q]);
                __m128i hi = _mm_unpackhi_epi32(c[4 * h + q], c[4 * h + 2 + q]);
                size_t v = (size_t)8 * h + (size_t)4 * q;
                _mm_storeu_si128((__m128i *)(void *)(o + v * 8), lo);
                _mm_storeu_si128((__m128i *)(void *)(o + v * 8 + 16), hi);
            }
        }
    }
    for (; i < n; i++)
        for (size_t j = 0; j < 8; j++)
            out[i * 8 + j] = src[j * S + i];
}
#else
static void bss_8(const uint8_t *src, size_t S, uint8_t *out, size_t n)
{
    bss_k(src, S, 8, out, n);
}
#endif

int tlf_pq_bss_decode(const uint8_t *src, size_t len, size_t width, void *out,
                      size_t n, size_t off0, tl_error *err)
{
    static const char BSS[] = "BYTE_STREAM_SPLIT";
    if (width == 0 || (n && !out))
        return tl_error_set(err, TL_EINVAL, "%s: bad arguments (width %zu)",
                            BSS, width);
    char buf[160];
    if (len % width) {
        snprintf(buf, sizeof buf,
                 "%zu bytes is not a whole number of %zu-byte values", len,
                 width);
        return corrupt(err, BSS, off0, buf);
    }
    size_t S = len / width;
    if (S < n) {
        snprintf(buf, sizeof buf,
                 "%zu values of %zu bytes expected, the streams hold %zu", n,
                 width, S);
        return corrupt(err, BSS, off0, buf);
    }
    uint8_t *o = out;
    switch (width) {
    case 2: bss_k(src, S, 2, o, n); break;
    case 4: bss_k(src, S, 4, o, n); break;
    case 8: bss_8(src, S, o, n); break;
    default: bss_k(src, S, width, o, n); break;
    }
    return TL_OK;
}
