/*
 * enc_bitpack.c - LSB-first bit packing and the widen/narrow helpers the
 * integer encodings share.
 *
 * Bitstream: value i of width w occupies bits [i*w, (i+1)*w) of the stream,
 * bit b being bit (b % 8) of byte b / 8; the stream is ceil(n*w/8) bytes,
 * unused high bits of the last byte are written as zero and ignored when
 * read. Unpacking is specialised per width (1..64) and reads with
 * unaligned 8-byte loads; the loads of the last values, which could reach
 * past the stream, are served from a zero-padded stack copy instead, so no
 * byte outside [src, src + nbytes) is ever read.
 */
#include <string.h>

#include "enc_priv.h"

/* X(W) for every bit width 1 .. 63: the switches that specialise packing
 * and unpacking per constant width (64 is a plain copy) */
#define EACH_WIDTH_1_63(X)                                                     \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)       \
    X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25)    \
    X(26) X(27) X(28) X(29) X(30) X(31) X(32) X(33) X(34) X(35) X(36) X(37)    \
    X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47) X(48) X(49)    \
    X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58) X(59) X(60) X(61)    \
    X(62) X(63)
/* widths whose values always fit one 8-byte load at their bit offset s
 * (s = i*W mod 8, s + W <= 64): 1..57, and 58 and 60 (even: s <= 6 and
 * s in {0, 4}) */
#define EACH_WIDTH_ONE_LOAD(X)                                                 \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)       \
    X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25)    \
    X(26) X(27) X(28) X(29) X(30) X(31) X(32) X(33) X(34) X(35) X(36) X(37)    \
    X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47) X(48) X(49)    \
    X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58) X(60)
/* the others, which sometimes reach into a ninth byte */
#define EACH_WIDTH_NINE_BYTES(X) X(59) X(61) X(62) X(63)

unsigned tlf_bit_width(uint64_t v)
{
    return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* 8 values of constant width W into exactly W bytes at o */
static TLF_ALWAYS_INLINE void pack_group(const uint64_t *s, unsigned W, uint8_t *o)
{
    uint64_t acc = 0;
    unsigned fill = 0;
    size_t off = 0;
#pragma GCC unroll 8
    for (unsigned j = 0; j < 8; j++) {
        acc |= s[j] << fill;
        fill += W;
        if (fill >= 64) {
            tlf_st64(o + off, acc);
            off += 8;
            fill -= 64;
            /* the bits of s[j] that did not fit, none when fill is 0 (as
             * a mask, not a test: fill is a constant of each width's copy) */
            acc = (s[j] >> (W - fill)) & (0 - (uint64_t)(fill != 0));
        }
    }
    memcpy(o + off, &acc, fill / 8); /* 8*W bits end on a byte boundary */
}

static void pack_generic(const uint64_t *v, uint32_t n, unsigned w, uint8_t *dst);

static TLF_ALWAYS_INLINE void pack_w(const uint64_t *v, uint32_t n, unsigned W,
                                     uint8_t *dst)
{
    uint32_t ng = n / 8;
    for (uint32_t g = 0; g < ng; g++)
        pack_group(v + (size_t)g * 8, W, dst + (size_t)g * W);
    if (ng * 8 < n)
        pack_generic(v + (size_t)ng * 8, n - ng * 8, W, dst + (size_t)ng * W);
}

void tlf_bitpack64(const uint64_t *v, uint32_t n, unsigned w, uint8_t *dst)
{
    if (w == 0 || n == 0)
        return;
    switch (w) {
#define P(W) case W: pack_w(v, n, W, dst); break;
        EACH_WIDTH_1_63(P)
#undef P
    default:
        memcpy(dst, v, (size_t)n * 8); /* 64: little-endian words */
        break;
    }
}

/* any width, any count: the reference packer */
static void pack_generic(const uint64_t *v, uint32_t n, unsigned w, uint8_t *dst)
{
    size_t nb = tlf_bitpack_bytes(n, w), o = 0;
    uint64_t acc = 0;
    unsigned fill = 0; /* bits held in acc, always < 64 between values */
    for (uint32_t i = 0; i < n; i++) {
        acc |= v[i] << fill;
        fill += w;
        if (fill >= 64) {
            tlf_st64(dst + o, acc);
            o += 8;
            fill -= 64;
            acc = fill ? v[i] >> (w - fill) : 0;
        }
    }
    for (; o < nb; o++, acc >>= 8)
        dst[o] = (uint8_t)acc;
}

/* Value of constant width W at bit `bit` of p, for the widths whose values
 * one 8-byte load always holds (EACH_WIDTH_ONE_LOAD: s + W <= 64). */
static TLF_ALWAYS_INLINE uint64_t get_bits(const uint8_t *p, uint64_t bit, unsigned W)
{
    const uint8_t *q = p + (bit >> 3);
    unsigned s = (unsigned)(bit & 7);
    return (tlf_ld64(q) >> s) & (((uint64_t)1 << W) - 1);
}

/* The same for W = 59, 61, 62, 63: the value may reach into a ninth byte.
 * (Two functions rather than one test of W, so that each width's copy
 * holds only the branches its data can take.) */
static TLF_ALWAYS_INLINE uint64_t get_bits_wide(const uint8_t *p, uint64_t bit, unsigned W)
{
    const uint8_t *q = p + (bit >> 3);
    unsigned s = (unsigned)(bit & 7);
    uint64_t v = tlf_ld64(q) >> s;
    if (s + W > 64)
        v |= (uint64_t)q[8] << (64 - s);
    return v & (((uint64_t)1 << W) - 1);
}

/* cnt values of width W from p, where avail bytes are readable, read with
 * GET (get_bits or get_bits_wide). */
#define UNPACK_W_BODY(GET)                                                             \
    uint32_t ng = cnt / 8, g = 0;                                                      \
    /* group g (8 values, W bytes) reads at most bytes [gW, gW + W + 8) */           \
    if (avail < (size_t)W + 8)                                                         \
        ng = 0;                                                                        \
    else if ((avail - W - 8) / W + 1 < ng)                                             \
        ng = (uint32_t)((avail - W - 8) / W + 1);                                      \
    for (; g < ng; g++) {                                                              \
        const uint8_t *q = p + (size_t)g * W;                                          \
        uint64_t *o = out + (size_t)g * 8;                                             \
        for (unsigned j = 0; j < 8; j++)                                               \
            o[j] = GET(q, (uint64_t)j * W, W);                                         \
    }                                                                                  \
    uint32_t done = g * 8;                                                             \
    if (done < cnt) {                                                                  \
        /* at most 72 bytes remain (see above); loads read 9 past them */             \
        uint8_t tmp[128];                                                              \
        size_t off = (size_t)g * W;                                                    \
        size_t need = (size_t)(((uint64_t)(cnt - done) * W + 7) / 8);                  \
        if (need > avail - off)                                                        \
            need = avail - off;                                                        \
        memset(tmp, 0, sizeof tmp);                                                    \
        memcpy(tmp, p + off, need);                                                    \
        for (uint32_t i = 0; done + i < cnt; i++)                                      \
            out[done + i] = GET(tmp, (uint64_t)i * W, W);                              \
    }

static TLF_ALWAYS_INLINE void unpack_w(const uint8_t *p, size_t avail, uint32_t cnt,
                                       unsigned W, uint64_t *out)
{
    UNPACK_W_BODY(get_bits)
}

static TLF_ALWAYS_INLINE void unpack_w_wide(const uint8_t *p, size_t avail, uint32_t cnt,
                                            unsigned W, uint64_t *out)
{
    UNPACK_W_BODY(get_bits_wide)
}
#undef UNPACK_W_BODY

void tlf_unpack_at(const uint8_t *src, size_t nbytes, uint64_t bit0,
                   uint32_t cnt, unsigned bw, uint64_t *out)
{
    if (cnt == 0)
        return;
    if (bw == 0) {
        memset(out, 0, (size_t)cnt * 8);
        return;
    }
    const uint8_t *p = src + (bit0 >> 3);
    size_t avail = nbytes - (size_t)(bit0 >> 3);
    switch (bw) {
#define U(W) case W: unpack_w(p, avail, cnt, W, out); break;
        EACH_WIDTH_ONE_LOAD(U)
#undef U
#define U(W) case W: unpack_w_wide(p, avail, cnt, W, out); break;
        EACH_WIDTH_NINE_BYTES(U)
#undef U
    default:
        memcpy(out, p, (size_t)cnt * 8); /* 64: little-endian words */
        break;
    }
}

void tlf_bitunpack64(const uint8_t *src, uint32_t n, unsigned w, uint64_t *dst)
{
    tlf_unpack_at(src, tlf_bitpack_bytes(n, w), 0, n, w, dst);
}

void tlf_widen(const void *v, size_t start, size_t cnt, unsigned w,
               int is_signed, uint64_t *out)
{
#define W(T) do { const T *s = (const T *)v + start; \
        for (size_t i = 0; i < cnt; i++) out[i] = (uint64_t)s[i]; } while (0)
    switch (w * 2 + (is_signed != 0)) {
    case 2: W(uint8_t); break;
    case 3: W(int8_t); break;
    case 4: W(uint16_t); break;
    case 5: W(int16_t); break;
    case 8: W(uint32_t); break;
    case 9: W(int32_t); break;
    default: memcpy(out, (const uint64_t *)v + start, cnt * 8); break;
    }
#undef W
}

size_t tlf_narrow(const uint64_t *in, size_t cnt, unsigned w, int is_signed,
                  void *dst, size_t start)
{
    uint64_t bad = 0;
#define N(T, E) do { T *d = (T *)dst + start; \
        for (size_t i = 0; i < cnt; i++) { \
            d[i] = (T)in[i]; bad |= (uint64_t)(E)(T)in[i] ^ in[i]; } } while (0)
    switch (w * 2 + (is_signed != 0)) {
    case 2: N(uint8_t, uint64_t); break;
    case 3: N(int8_t, int64_t); break;
    case 4: N(uint16_t, uint64_t); break;
    case 5: N(int16_t, int64_t); break;
    case 8: N(uint32_t, uint64_t); break;
    case 9: N(int32_t, int64_t); break;
    default: memcpy((uint64_t *)dst + start, in, cnt * 8); break;
    }
#undef N
    if (!bad)
        return cnt;
    for (size_t i = 0; i < cnt; i++)
        if (!tlf_fits(in[i], w, is_signed))
            return i;
    return cnt;
}
