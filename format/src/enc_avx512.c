/*
 * enc_avx512.c - AVX-512 (F, BW, DQ, VL, VBMI) decode kernels for the
 * bit-packed encodings (FOR, DELTA, DICT) and SCALED, fused with the
 * validity checks and the narrowing/conversion to the output type, so each
 * value is touched once. Without AVX-512 VBMI every kernel returns 0 and
 * the scalar paths in enc_int.c, enc_dict.c and enc_scaled.c do the work.
 *
 * FOR values are base + factor * packed: a vpmullq per 8 values, left out
 * (a separate instantiation) when the factor is 1; DELTA multiplies a
 * miniblock's deltas by its factor the same way.
 *
 * Unpacking 8 values of width W <= 56 (one group = W bytes): lane j needs
 * the 8 bytes starting at byte (j*W)/8 of the group, shifted right by
 * (j*W)%8 and masked; one vpermb gathers them, one vpsrlvq shifts. Loads
 * are plain 64-byte loads while they stay inside the packed stream and
 * masked loads (which never touch masked-out bytes) after that, so nothing
 * outside [data, data + nbytes) is read. Stores of the last partial group
 * are masked, so exactly n*w bytes are written.
 *
 * DICT of fixed-width values (kinds G1..G8) looks each checked code up in
 * the block dictionary: with permutes of up to 8 registers for <= 64
 * entries, with masked gathers (only lanes holding a valid code) above.
 *
 * SCALED values are integers below 2^53 divided by an integer divisor:
 * the quotient is x * RN(1/d) corrected by one fused multiply-add of the
 * exact residual (Markstein), the correctly rounded quotient, as the
 * scalar division gives (checked against it on 4.2e9 values of 31
 * divisors), at a fraction of vdivpd's cost.
 *
 * A kernel returns 0 as soon as it cannot vouch for its output (a value out
 * of range); the caller then re-decodes with the scalar code, which names
 * the offending value. Results are bit-identical to the scalar paths: the
 * same integer arithmetic mod 2^64 and the same IEEE conversions/division.
 */
#include "enc_priv.h"

int tlf_enc_no_simd = 0;

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VBMI__)
#include <immintrin.h>

typedef struct upk {
    __m512i idx, shift, mask;
    unsigned W;
} upk;

static inline void upk_init(upk *u, unsigned W)
{
    __m512i j = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    __m512i jw = _mm512_mullo_epi64(j, _mm512_set1_epi64(W));
    __m512i o = _mm512_srli_epi64(jw, 3);
    u->idx = _mm512_add_epi64(_mm512_mullo_epi64(o, _mm512_set1_epi64(0x0101010101010101ll)),
                              _mm512_set1_epi64(0x0706050403020100ll));
    u->shift = _mm512_and_si512(jw, _mm512_set1_epi64(7));
    u->mask = _mm512_set1_epi64((long long)(W >= 64 ? ~0ull : (1ull << W) - 1));
    u->W = W;
}

static TLF_ALWAYS_INLINE __m512i upk_bytes(const upk *u, __m512i raw)
{
    __m512i x = _mm512_permutexvar_epi8(u->idx, raw);
    return _mm512_and_si512(_mm512_srlv_epi64(x, u->shift), u->mask);
}
/* group at p with at least 64 readable bytes */
static TLF_ALWAYS_INLINE __m512i upk_full(const upk *u, const uint8_t *p)
{
    return upk_bytes(u, _mm512_loadu_si512(p));
}
/* group at p with avail readable bytes (any number) */
static TLF_ALWAYS_INLINE __m512i upk_part(const upk *u, const uint8_t *p, size_t avail)
{
    __mmask64 m = avail >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << avail) - 1);
    return upk_bytes(u, _mm512_maskz_loadu_epi8(m, p));
}

typedef struct sinkp {
    __m512d dv, rcp;
    int pow2;
    __m512i ndict;
    const void *dict;
    int small;      /* DICT of <= 64 entries: lookups are permutes of tab */
    __m512i tab[8]; /* the entries zero-extended to 64 bits */
} sinkp;

static void sinkp_init(sinkp *s, const tlf_fast_prm *prm, int kind)
{
    uint64_t d = prm && prm->divisor ? prm->divisor : 1;
    s->dv = _mm512_set1_pd((double)d);
    s->pow2 = (d & (d - 1)) == 0; /* exact reciprocal: same result */
    s->rcp = _mm512_set1_pd(1.0 / (double)d);
    s->ndict = _mm512_set1_epi64((long long)(prm ? prm->n_dict : 0));
    s->dict = prm ? prm->dict : NULL;
    s->small = 0;
    if (kind >= TLF_K_G1 && prm->n_dict <= 64) {
        unsigned w = kind == TLF_K_G1 ? 1 : kind == TLF_K_G2 ? 2 : kind == TLF_K_G4 ? 4 : 8;
        uint64_t t[64] = {0};
        for (uint64_t i = 0; i < prm->n_dict; i++)
            memcpy(&t[i], prm->dict + i * w, w);
        for (int k = 0; k < 8; k++)
            s->tab[k] = _mm512_loadu_si512(t + 8 * k);
        s->small = prm->n_dict <= 16 ? 1 : prm->n_dict <= 32 ? 2 : 3;
    }
}

/* dict[v] as 64-bit lanes for the lanes of ok (codes below n_dict); the
 * others are zero or garbage, never read from memory */
static TLF_ALWAYS_INLINE __m512i lookup(const sinkp *s, __m512i v, __mmask8 ok, int scale)
{
    if (s->small) {
        /* permutex2var picks among 16 entries by bits 0-3; bits 4, 5 blend */
        __m512i r = _mm512_permutex2var_epi64(s->tab[0], v, s->tab[1]);
        if (s->small == 1)
            return r;
        __mmask8 b4 = _mm512_test_epi64_mask(v, _mm512_set1_epi64(16));
        r = _mm512_mask_blend_epi64(b4, r, _mm512_permutex2var_epi64(s->tab[2], v, s->tab[3]));
        if (s->small == 2)
            return r;
        __m512i h = _mm512_permutex2var_epi64(s->tab[4], v, s->tab[5]);
        h = _mm512_mask_blend_epi64(b4, h, _mm512_permutex2var_epi64(s->tab[6], v, s->tab[7]));
        return _mm512_mask_blend_epi64(_mm512_test_epi64_mask(v, _mm512_set1_epi64(32)), r, h);
    }
    if (scale == 8)
        return _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), ok, v, s->dict, 8);
    /* 1, 2, 4 bytes: 32-bit gathers at dict + v * scale */
    __m512i off = scale == 2 ? _mm512_slli_epi64(v, 1) : scale == 4 ? _mm512_slli_epi64(v, 2) : v;
    return _mm512_cvtepu32_epi64(
        _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), ok, off, s->dict, 1));
}

/* low (64 - sh) bits sign-extended back */
#define SEXT(v, sh) _mm512_srai_epi64(_mm512_slli_epi64((v), (sh)), (sh))

static TLF_ALWAYS_INLINE __mmask8 narrow_bad(int kind, __m512i v, __mmask8 km)
{
    switch (kind) {
    case TLF_K_U8: return _mm512_mask_test_epi64_mask(km, v, _mm512_set1_epi64(~0xFFll));
    case TLF_K_I8: return _mm512_mask_cmpneq_epi64_mask(km, SEXT(v, 56), v);
    case TLF_K_U16: return _mm512_mask_test_epi64_mask(km, v, _mm512_set1_epi64(~0xFFFFll));
    case TLF_K_I16: return _mm512_mask_cmpneq_epi64_mask(km, SEXT(v, 48), v);
    case TLF_K_U32: return _mm512_mask_test_epi64_mask(km, v, _mm512_set1_epi64(~0xFFFFFFFFll));
    case TLF_K_I32: return _mm512_mask_cmpneq_epi64_mask(km, SEXT(v, 32), v);
    default: return 0;
    }
}

/* store lanes km of v as output values i .. i+7; returns lanes that are
 * not valid values */
static TLF_ALWAYS_INLINE __mmask8 sink(int kind, __m512i v, __mmask8 km,
                                       uint8_t *dst, size_t i, const sinkp *s)
{
    __mmask8 bad = 0;
    switch (kind) {
    case TLF_K_64:
        _mm512_mask_storeu_epi64(dst + 8 * i, km, v);
        return 0;
    case TLF_K_U32:
    case TLF_K_I32:
        bad = narrow_bad(kind, v, km);
        _mm256_mask_storeu_epi32(dst + 4 * i, km, _mm512_cvtepi64_epi32(v));
        return bad;
    case TLF_K_CODE:
        bad = _mm512_mask_cmpge_epu64_mask(km, v, s->ndict);
        _mm256_mask_storeu_epi32(dst + 4 * i, km, _mm512_cvtepi64_epi32(v));
        return bad;
    case TLF_K_G8:
    case TLF_K_G4:
    case TLF_K_G2:
    case TLF_K_G1: {
        bad = _mm512_mask_cmpge_epu64_mask(km, v, s->ndict);
        int sc = kind == TLF_K_G8 ? 8 : kind == TLF_K_G4 ? 4 : kind == TLF_K_G2 ? 2 : 1;
        __m512i g = lookup(s, v, km & ~bad, sc);
        if (sc == 8)
            _mm512_mask_storeu_epi64(dst + 8 * i, km, g);
        else if (sc == 4)
            _mm256_mask_storeu_epi32(dst + 4 * i, km, _mm512_cvtepi64_epi32(g));
        else if (sc == 2)
            _mm_mask_storeu_epi16(dst + 2 * i, km, _mm512_cvtepi64_epi16(g));
        else
            _mm_mask_storeu_epi8(dst + i, km, _mm512_cvtepi64_epi8(g));
        return bad;
    }
    case TLF_K_U16:
    case TLF_K_I16:
        bad = narrow_bad(kind, v, km);
        _mm_mask_storeu_epi16(dst + 2 * i, km, _mm512_cvtepi64_epi16(v));
        return bad;
    case TLF_K_U8:
    case TLF_K_I8:
        bad = narrow_bad(kind, v, km);
        _mm_mask_storeu_epi8(dst + i, km, _mm512_cvtepi64_epi8(v));
        return bad;
    default: {
        const __m512i lim = _mm512_set1_epi64(1ll << 53);
        bad = _mm512_mask_cmpgt_epu64_mask(km, _mm512_add_epi64(v, lim),
                                           _mm512_add_epi64(lim, lim));
        __m512d d = _mm512_cvtepi64_pd(v);
        if (s->pow2) {
            d = _mm512_mul_pd(d, s->rcp);
        } else {
            /* the quotient without vdivpd (the slowest instruction here):
             * q = x * RN(1/d) is within an ulp of x/d, the residual
             * x - q*d is exact in a fused multiply-add, and q + r * RN(1/d)
             * rounded once is the correctly rounded x/d (Markstein), so
             * bit-identical to the scalar division */
            __m512d q = _mm512_mul_pd(d, s->rcp);
            __m512d r = _mm512_fnmadd_pd(q, s->dv, d);
            d = _mm512_fmadd_pd(r, s->rcp, q);
        }
        if (kind == TLF_K_F64)
            _mm512_mask_storeu_pd(dst + 8 * i, km, d);
        else
            _mm256_mask_storeu_ps(dst + 4 * i, km, _mm512_cvtpd_ps(d));
        return bad;
    }
    }
}

static inline __mmask8 lanes_mask(uint32_t lanes)
{
    return (__mmask8)(lanes >= 8 ? 0xFF : (1u << lanes) - 1);
}

/* mul: 0 for factor 1 (no multiply), 1 for base + factor * packed */
static TLF_ALWAYS_INLINE int for_k(int kind, const uint8_t *data, size_t nbytes,
                                   unsigned W, uint64_t base, uint64_t factor,
                                   int mul, uint32_t n, uint8_t *dst, const sinkp *s)
{
    __m512i vb = _mm512_set1_epi64((long long)base);
    __m512i vf = _mm512_set1_epi64((long long)factor);
#define FV(x) _mm512_add_epi64(mul ? _mm512_mullo_epi64((x), vf) : (x), vb)
    __mmask8 bad = 0;
    uint32_t ng = n / 8, g = 0;
    if (W == 0) {
        for (; g < ng; g++)
            bad |= sink(kind, vb, 0xFF, dst, (size_t)g * 8, s);
        if (g * 8 < n)
            bad |= sink(kind, vb, lanes_mask(n - g * 8), dst, (size_t)g * 8, s);
        return bad == 0;
    }
    upk u;
    upk_init(&u, W);
    uint32_t safe = nbytes >= 64 ? (uint32_t)((nbytes - 64) / W + 1) : 0;
    if (safe > ng)
        safe = ng;
    for (; g < safe; g++)
        bad |= sink(kind, FV(upk_full(&u, data + (size_t)g * W)), 0xFF, dst, (size_t)g * 8, s);
    for (; g * 8 < n; g++) {
        size_t off = (size_t)g * W;
        __m512i v = FV(upk_part(&u, data + off, nbytes - off));
        bad |= sink(kind, v, lanes_mask(n - g * 8), dst, (size_t)g * 8, s);
    }
#undef FV
    return bad == 0;
}

/* inclusive prefix sum of the 8 lanes */
static TLF_ALWAYS_INLINE __m512i scan8(__m512i d)
{
    const __m512i z = _mm512_setzero_si512();
    d = _mm512_add_epi64(d, _mm512_alignr_epi64(d, z, 7));
    d = _mm512_add_epi64(d, _mm512_alignr_epi64(d, z, 6));
    d = _mm512_add_epi64(d, _mm512_alignr_epi64(d, z, 4));
    return d;
}

/* inclusive prefix sum of 16 int32 lanes */
static TLF_ALWAYS_INLINE __m512i scan16(__m512i d)
{
    const __m512i z = _mm512_setzero_si512();
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, z, 15));
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, z, 14));
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, z, 12));
    d = _mm512_add_epi32(d, _mm512_alignr_epi32(d, z, 8));
    return d;
}

/* 16 int32 lanes of v to output values i .. i + 15 (lanes km) as int32,
 * int64 or as the double quotient by the divisor (the F64 sink's
 * arithmetic) */
static TLF_ALWAYS_INLINE void sink16(int kind, __m512i v, __mmask16 km, uint8_t *dst, size_t i,
                                     const sinkp *s)
{
    if (kind == TLF_K_I32) {
        _mm512_mask_storeu_epi32(dst + 4 * i, km, v);
        return;
    }
    __m256i h[2] = {_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)};
    for (int k = 0; k < 2; k++) {
        __mmask8 m = (__mmask8)(km >> (8 * k));
        if (!m)
            break;
        if (kind == TLF_K_64) {
            _mm512_mask_storeu_epi64(dst + 8 * (i + 8 * (size_t)k), m, _mm512_cvtepi32_epi64(h[k]));
            continue;
        }
        __m512d d = _mm512_cvtepi32_pd(h[k]);
        if (s->pow2) {
            d = _mm512_mul_pd(d, s->rcp);
        } else {
            __m512d q = _mm512_mul_pd(d, s->rcp);
            __m512d r = _mm512_fnmadd_pd(q, s->dv, d);
            d = _mm512_fmadd_pd(r, s->rcp, q);
        }
        _mm512_mask_storeu_pd(dst + 8 * (i + 8 * (size_t)k), m, d);
    }
}

/* One DELTA miniblock whose values, deltas and partial sums all fit int32
 * (checked by the caller), 16 values a step in 32-bit lanes: half the
 * unpack and prefix-sum work of the 64-bit path, same results (no
 * wrap-around happens in either). Returns the miniblock's last value. */
static TLF_ALWAYS_INLINE int32_t delta32_mini(int kind, const uint8_t *data, size_t avail,
                                              unsigned W, int32_t mn, uint32_t f, uint32_t cnt,
                                              int32_t c0, uint8_t *dst, size_t at,
                                              const sinkp *s)
{
    __m512i j = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i jw = _mm512_mullo_epi32(j, _mm512_set1_epi32((int)W));
    __m512i o = _mm512_srli_epi32(jw, 3);
    __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(o, _mm512_set1_epi32(0x01010101)),
                                   _mm512_set1_epi32(0x03020100));
    __m512i sh = _mm512_and_si512(jw, _mm512_set1_epi32(7));
    __m512i mask = _mm512_set1_epi32((int)((1u << W) - 1));
    __m512i vm = _mm512_set1_epi32(mn), vf = _mm512_set1_epi32((int)f);
    __m512i carry = _mm512_set1_epi32(c0);
    const __m512i last = _mm512_set1_epi32(15);
    uint32_t ng = cnt / 16, g = 0;
    size_t gb = 2 * (size_t)W; /* bytes per 16 values */
    uint32_t safe = W == 0 ? ng : avail >= 64 ? (uint32_t)((avail - 64) / gb + 1) : 0;
    if (safe > ng)
        safe = ng;
    for (; g < safe; g++) {
        __m512i d = _mm512_setzero_si512();
        if (W) {
            __m512i x = _mm512_permutexvar_epi8(idx, _mm512_loadu_si512(data + g * gb));
            d = _mm512_and_si512(_mm512_srlv_epi32(x, sh), mask);
            if (f != 1)
                d = _mm512_mullo_epi32(d, vf);
        }
        __m512i sc = scan16(_mm512_add_epi32(d, vm));
        __m512i v = _mm512_add_epi32(sc, carry);
        carry = _mm512_add_epi32(carry, _mm512_permutexvar_epi32(last, sc));
        sink16(kind, v, 0xFFFF, dst, at + (size_t)g * 16, s);
    }
    for (; g * 16 < cnt; g++) {
        uint32_t lanes = cnt - g * 16 < 16 ? cnt - g * 16 : 16;
        __m512i d = _mm512_setzero_si512();
        if (W) {
            size_t off = g * gb, av = avail - off;
            __mmask64 m = av >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << av) - 1);
            __m512i x = _mm512_permutexvar_epi8(idx, _mm512_maskz_loadu_epi8(m, data + off));
            d = _mm512_and_si512(_mm512_srlv_epi32(x, sh), mask);
            if (f != 1)
                d = _mm512_mullo_epi32(d, vf);
        }
        __m512i sc = scan16(_mm512_add_epi32(d, vm));
        __m512i v = _mm512_add_epi32(sc, carry);
        carry = _mm512_add_epi32(carry,
                                 _mm512_permutexvar_epi32(_mm512_set1_epi32((int)lanes - 1), sc));
        sink16(kind, v, (__mmask16)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1), dst,
               at + (size_t)g * 16, s);
    }
    return _mm_cvtsi128_si32(_mm512_castsi512_si128(carry));
}

/* 1 when every value, delta and partial sum of the miniblock fits int32 */
static inline int delta_fits32(int64_t c0, int64_t mn, unsigned W, uint32_t f, uint32_t cnt)
{
    if (W > 25)
        return 0;
    __int128 top = (__int128)mn + (__int128)f * (((__int128)1 << W) - 1);
    __int128 amn = mn < 0 ? -(__int128)mn : (__int128)mn;
    __int128 atop = top < 0 ? -top : top;
    __int128 mx = amn > atop ? amn : atop;
    __int128 ac0 = c0 < 0 ? -(__int128)c0 : (__int128)c0;
    __int128 lim = ((__int128)1 << 31) - 1;
    return (__int128)f * (((__int128)1 << W) - 1) <= lim && ac0 + (__int128)cnt * mx <= lim;
}

static TLF_ALWAYS_INLINE int delta_k(int kind, const tlf_delta_hdr *h,
                                     uint8_t *dst, const sinkp *s)
{
    for (uint32_t m = 0; m < h->n_mini; m++)
        if (h->widths[m] > 56)
            return 0;
    const __m512i last = _mm512_set1_epi64(7);
    __m512i carry = _mm512_set1_epi64((long long)h->first);
    __mmask8 bad = 0;
    size_t pos = 0;
    for (uint32_t m = 0; m < h->n_mini; m++) {
        uint32_t cnt = m + 1 < h->n_mini ? TLF_MINI : h->n - 1 - m * TLF_MINI;
        unsigned W = h->widths[m];
        int64_t mn;
        memcpy(&mn, h->mins + 8 * (size_t)m, 8);
        __m512i vm = _mm512_set1_epi64(mn);
        uint32_t f = 1;
        if (h->factors)
            memcpy(&f, h->factors + 4 * (size_t)m, 4);
        __m512i vf = _mm512_set1_epi64(f);
        const uint8_t *data = h->data + pos;
        size_t avail = h->data_len - pos;
        size_t at = 1 + (size_t)m * TLF_MINI;
        if (kind == TLF_K_F64 || kind == TLF_K_64 || kind == TLF_K_I32) {
            int64_t c0 = _mm_cvtsi128_si64(_mm512_castsi512_si128(carry));
            if (delta_fits32(c0, mn, W, f, cnt)) {
                int32_t e = delta32_mini(kind, data, avail, W, (int32_t)mn, f, cnt, (int32_t)c0,
                                         dst, at, s);
                carry = _mm512_set1_epi64(e);
                pos += (size_t)tlf_pad8(tlf_bitpack_bytes(cnt, W));
                continue;
            }
        }
        upk u;
        upk_init(&u, W);
        uint32_t ng = cnt / 8, g = 0;
        uint32_t safe = W == 0 ? ng : avail >= 64 ? (uint32_t)((avail - 64) / W + 1) : 0;
        if (safe > ng)
            safe = ng;
        for (; g < safe; g++) {
            __m512i d = W ? upk_full(&u, data + (size_t)g * W) : _mm512_setzero_si512();
            if (f != 1)
                d = _mm512_mullo_epi64(d, vf);
            /* the carry chain is one add per group: the broadcast of the
             * group's total does not depend on it */
            __m512i sc = scan8(_mm512_add_epi64(d, vm));
            __m512i v = _mm512_add_epi64(sc, carry);
            carry = _mm512_add_epi64(carry, _mm512_permutexvar_epi64(last, sc));
            bad |= sink(kind, v, 0xFF, dst, at + (size_t)g * 8, s);
        }
        for (; g * 8 < cnt; g++) {
            size_t off = (size_t)g * W;
            uint32_t lanes = cnt - g * 8 < 8 ? cnt - g * 8 : 8;
            __m512i d = W ? upk_part(&u, data + off, avail - off) : _mm512_setzero_si512();
            if (f != 1)
                d = _mm512_mullo_epi64(d, vf);
            __m512i sc = scan8(_mm512_add_epi64(d, vm));
            __m512i v = _mm512_add_epi64(sc, carry);
            carry = _mm512_add_epi64(carry, _mm512_permutexvar_epi64(_mm512_set1_epi64(lanes - 1), sc));
            bad |= sink(kind, v, lanes_mask(lanes), dst, at + (size_t)g * 8, s);
        }
        pos += (size_t)tlf_pad8(tlf_bitpack_bytes(cnt, W));
    }
    return bad == 0;
}

static TLF_ALWAYS_INLINE int plain64_k(int kind, const uint8_t *src, uint32_t n,
                                       uint8_t *dst, const sinkp *s)
{
    __mmask8 bad = 0;
    uint32_t g = 0;
    for (; g + 8 <= n; g += 8)
        bad |= sink(kind, _mm512_loadu_si512(src + 8 * (size_t)g), 0xFF, dst, g, s);
    if (g < n) {
        __mmask8 km = lanes_mask(n - g);
        bad |= sink(kind, _mm512_maskz_loadu_epi64(km, src + 8 * (size_t)g), km, dst, g, s);
    }
    return bad == 0;
}

#define DISPATCH(call_k) \
    switch (kind) { \
    case TLF_K_U8: return call_k(TLF_K_U8); \
    case TLF_K_I8: return call_k(TLF_K_I8); \
    case TLF_K_U16: return call_k(TLF_K_U16); \
    case TLF_K_I16: return call_k(TLF_K_I16); \
    case TLF_K_U32: return call_k(TLF_K_U32); \
    case TLF_K_I32: return call_k(TLF_K_I32); \
    case TLF_K_64: return call_k(TLF_K_64); \
    case TLF_K_F32: return call_k(TLF_K_F32); \
    case TLF_K_F64: return call_k(TLF_K_F64); \
    case TLF_K_CODE: return call_k(TLF_K_CODE); \
    case TLF_K_G1: return call_k(TLF_K_G1); \
    case TLF_K_G2: return call_k(TLF_K_G2); \
    case TLF_K_G4: return call_k(TLF_K_G4); \
    case TLF_K_G8: return call_k(TLF_K_G8); \
    default: return 0; \
    }

int tlf_fast_for(const uint8_t *data, size_t nbytes, unsigned bw, uint64_t base,
                 uint64_t factor, uint32_t n, int kind, const tlf_fast_prm *prm,
                 void *dst)
{
    if (bw > 56 || tlf_enc_no_simd)
        return 0;
    sinkp s;
    sinkp_init(&s, prm, kind);
    if (factor == 1) {
#define CALL(k) for_k(k, data, nbytes, bw, base, 1, 0, n, dst, &s)
        DISPATCH(CALL)
#undef CALL
    }
#define CALL(k) for_k(k, data, nbytes, bw, base, factor, 1, n, dst, &s)
    DISPATCH(CALL)
#undef CALL
}

int tlf_fast_delta(const tlf_delta_hdr *h, int kind, const tlf_fast_prm *prm,
                   void *dst)
{
    if (tlf_enc_no_simd)
        return 0;
    sinkp s;
    sinkp_init(&s, prm, kind);
#define CALL(k) delta_k(k, h, dst, &s)
    DISPATCH(CALL)
#undef CALL
}

int tlf_fast_plain64(const uint8_t *src, uint32_t n, int kind,
                     const tlf_fast_prm *prm, void *dst)
{
    if (tlf_enc_no_simd)
        return 0;
    sinkp s;
    sinkp_init(&s, prm, kind);
#define CALL(k) plain64_k(k, src, n, dst, &s)
    DISPATCH(CALL)
#undef CALL
}

int tlf_fast_find(const void *v, uint32_t cnt, int is_f32, double p, int64_t *k)
{
    if (tlf_enc_no_simd)
        return -1;
    const __m512d vp = _mm512_set1_pd(p), lim = _mm512_set1_pd(0x1p53),
                  half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0);
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ull);
    __mmask8 bad = 0;
    for (uint32_t i = 0; i < cnt; i += 8) {
        __mmask8 km = lanes_mask(cnt - i);
        __m512d x;
        __m256 xf = _mm256_setzero_ps();
        if (is_f32) {
            xf = _mm256_maskz_loadu_ps(km, (const float *)v + i);
            x = _mm512_cvtps_pd(xf);
        } else {
            x = _mm512_maskz_loadu_pd(km, (const double *)v + i);
        }
        __m512d r = _mm512_mul_pd(x, vp);
        __mmask8 in = _mm512_cmp_pd_mask(_mm512_abs_pd(r), lim, _CMP_LE_OQ);
        r = _mm512_maskz_mov_pd(in, r);
        __m512d t = _mm512_roundscale_pd(r, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __mmask8 up = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(r, t)), half, _CMP_GE_OQ);
        __m512d sgn1 = _mm512_castsi512_pd(_mm512_or_si512(
            _mm512_and_si512(_mm512_castpd_si512(r), sign), _mm512_castpd_si512(one)));
        t = _mm512_mask_add_pd(t, up, t, sgn1); /* llround: halves away from 0 */
        __m512i kk = _mm512_cvttpd_epi64(t);
        __m512d q = _mm512_div_pd(_mm512_cvtepi64_pd(kk), vp);
        __mmask8 eq;
        if (is_f32)
            eq = _mm256_cmpeq_epi32_mask(_mm256_castps_si256(_mm512_cvtpd_ps(q)),
                                         _mm256_castps_si256(xf));
        else
            eq = _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(q), _mm512_castpd_si512(x));
        bad |= (__mmask8)(km & ~(eq & in));
        _mm512_mask_storeu_epi64(k + i, km, kk);
    }
    return bad == 0;
}

#else /* no AVX-512 VBMI: the scalar paths do everything */

int tlf_fast_find(const void *v, uint32_t cnt, int is_f32, double p, int64_t *k)
{
    (void)v, (void)cnt, (void)is_f32, (void)p, (void)k;
    return -1;
}

int tlf_fast_for(const uint8_t *data, size_t nbytes, unsigned bw, uint64_t base,
                 uint64_t factor, uint32_t n, int kind, const tlf_fast_prm *prm,
                 void *dst)
{
    (void)data, (void)nbytes, (void)bw, (void)base, (void)factor, (void)n, (void)kind,
        (void)prm, (void)dst;
    return 0;
}
int tlf_fast_delta(const tlf_delta_hdr *h, int kind, const tlf_fast_prm *prm,
                   void *dst)
{
    (void)h, (void)kind, (void)prm, (void)dst;
    return 0;
}
int tlf_fast_plain64(const uint8_t *src, uint32_t n, int kind,
                     const tlf_fast_prm *prm, void *dst)
{
    (void)src, (void)n, (void)kind, (void)prm, (void)dst;
    return 0;
}
#endif
