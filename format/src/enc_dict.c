/*
 * enc_dict.c - DICT: values as codes into a dictionary (strings: the
 * column dictionary in the footer; other fixed-width types but bool: a
 * block dictionary in front of the codes).
 *
 * Codes section (the whole payload for strings):
 *   off 0   u8   codes_encoding: RLE (1) or FOR (3)
 *   off 1   7    reserved, zero
 *   off 8        the n codes as a payload of that encoding with w = 4,
 *                unsigned (enc_rle.c, enc_int.c); offsets in messages are
 *                relative to the DICT payload
 * Exactly 8 + the inner payload's length. Every decoded code < n_dict.
 * The writer encodes both ways and keeps the smaller (FOR on a tie: its
 * decoder is the fused AVX-512 unpack).
 *
 * Fixed width w (block dictionary):
 *   off 0   u32  n_dict: 1 .. n (0 iff n = 0)
 *   off 4   u32  reserved, zero
 *   off 8        n_dict entries of w bytes (distinct bit patterns in
 *                first-seen order when written here; not relied upon),
 *                zero padding to a multiple of 8 (E = 8 + pad8(n_dict*w))
 *   off E        codes section as above, codes < n_dict
 * Value i is entry codes[i], copied bit for bit. The decoder fuses unpack,
 * check and lookup (AVX-512: permutes for <= 64 entries, gathers above);
 * the codes header after the entries keeps its 4-byte gathers of 1- and
 * 2-byte entries inside the payload.
 */
#include <stdlib.h>
#include <string.h>

#include "enc_priv.h"
#include "tl_format.h"

static int codes_in_range(const uint32_t *codes, uint32_t n, uint32_t n_dict,
                          tl_error *err)
{
    uint32_t mx = 0;
    for (uint32_t i = 0; i < n; i++)
        mx = codes[i] > mx ? codes[i] : mx;
    if (n > 0 && mx >= n_dict) {
        for (uint32_t i = 0; i < n; i++)
            if (codes[i] >= n_dict)
                return tl_error_set(err, TL_EINVAL,
                                    "dict: code %u of value %u is not below the dictionary size %u",
                                    codes[i], i, n_dict);
    }
    return TL_OK;
}

/* codes encoding the writer picks, with its inner payload size */
static int codes_pick(const uint32_t *codes, uint32_t n, unsigned flags,
                      size_t *inner)
{
    size_t sf = SIZE_MAX, sr = SIZE_MAX;
    if (!(flags & TLF_OPT_CODES_RLE))
        sf = tlf_for_size_opt(codes, n, 4, 0, flags);
    if (!(flags & TLF_OPT_CODES_FOR))
        sr = tlf_rle_size(tlf_rle_count_runs(codes, n, 4), 4);
    if (sr < sf) {
        *inner = sr;
        return TLF_ENC_RLE;
    }
    *inner = sf;
    return TLF_ENC_FOR;
}

size_t tlf_dict_codes_size(const uint32_t *codes, uint32_t n, unsigned flags)
{
    size_t inner;
    codes_pick(codes, n, flags, &inner);
    return 8 + inner;
}

int tlf_dict_encode_opt(const uint32_t *codes, uint32_t n, uint32_t n_dict,
                        unsigned flags, tlf_buf *out, tl_error *err)
{
    if ((flags & TLF_OPT_CODES_FOR) && (flags & TLF_OPT_CODES_RLE))
        return tl_error_set(err, TL_EINVAL, "dict: codes forced to both for and rle");
    int rc = codes_in_range(codes, n, n_dict, err);
    if (rc)
        return rc;
    size_t inner;
    int enc = codes_pick(codes, n, flags, &inner);
    uint8_t hdr[8] = {(uint8_t)enc};
    rc = tlf_buf_append(out, hdr, 8, err);
    if (rc)
        return rc;
    if (enc == TLF_ENC_RLE)
        return tlf_rle_encode(codes, n, 4, out, err);
    return tlf_for_encode_opt(codes, n, 4, 0, flags, out, err);
}

int tlf_dict_encode(const uint32_t *codes, uint32_t n, uint32_t n_dict,
                    tlf_buf *out, tl_error *err)
{
    return tlf_dict_encode_opt(codes, n, n_dict, 0, out, err);
}

static int bad_code(uint64_t code, uint64_t i, uint64_t off, uint32_t n_dict,
                    tl_error *err)
{
    return tl_error_set(err, TL_ECORRUPT,
                        "dict: code %llu of value %llu (at payload offset %llu) is not below the dictionary size %u",
                        (unsigned long long)code, (unsigned long long)i,
                        (unsigned long long)off, n_dict);
}

int tlf_dict_parse(const uint8_t *src, size_t len, uint32_t n, size_t off0,
                   tlf_codes_hdr *h, tl_error *err)
{
    if (len < 8)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: payload is %zu bytes, expected at least the 8-byte codes header at payload offset %zu",
                            len + off0, off0);
    h->enc = src[0];
    for (size_t i = 1; i < 8; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "dict: reserved byte at payload offset %zu is 0x%02x, expected 0",
                                off0 + i, src[i]);
    if (h->enc == TLF_ENC_FOR)
        return tlf_for_parse(src + 8, len - 8, n, 32, "dict: codes for", off0 + 8,
                             &h->f, err);
    if (h->enc == TLF_ENC_RLE)
        return tlf_rle_parse(src + 8, len - 8, n, 4, "dict: codes rle", off0 + 8,
                             &h->r, err);
    return tl_error_set(err, TL_ECORRUPT,
                        "dict: codes encoding at payload offset %zu is %u, expected rle (1) or for (3)",
                        off0, h->enc);
}

int tlf_dict_codes_chunk(const tlf_codes_hdr *h, uint32_t n_dict, uint32_t start,
                         uint32_t cnt, uint32_t *codes, tl_error *err)
{
    uint64_t tmp[TLF_CHUNK];
    tlf_for_chunk(&h->f, start, cnt, tmp);
    uint64_t mx = 0;
    for (uint32_t i = 0; i < cnt; i++) {
        codes[i] = (uint32_t)tmp[i];
        mx = tmp[i] > mx ? tmp[i] : mx;
    }
    if (mx >= n_dict) {
        for (uint32_t i = 0; i < cnt; i++)
            if (tmp[i] >= n_dict)
                return bad_code(tmp[i], start + i,
                                h->f.data_off + ((uint64_t)start + i) * h->f.bw / 8,
                                n_dict, err);
    }
    return TL_OK;
}

/* Run r of an RLE codes section: its code (validated) and end (validated
 * against the previous end *prev, which it advances). */
int tlf_dict_run(const tlf_codes_hdr *h, uint32_t n, uint32_t n_dict, uint32_t r,
                 uint32_t *prev, uint32_t *code, tl_error *err)
{
    uint32_t e = tlf_ld32(h->r.ends + 4 * (size_t)r);
    size_t off = h->r.ends_off + 4 * (size_t)r;
    if (e <= *prev)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: codes rle: run end at payload offset %zu not increasing: %u after %u",
                            off, e, *prev);
    if (e > n)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: codes rle: run end at payload offset %zu is %u, beyond the %u values",
                            off, e, n);
    if (r + 1 == h->r.n_runs && e != n)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: codes rle: last run end at payload offset %zu is %u, expected %u",
                            off, e, n);
    uint32_t c = tlf_ld32(h->r.values + 4 * (size_t)r);
    if (c >= n_dict)
        return bad_code(c, *prev, h->r.values_off + 4 * (uint64_t)r, n_dict, err);
    *code = c;
    *prev = e;
    return TL_OK;
}

int tlf_dict_decode_codes(const uint8_t *src, size_t len, uint32_t n,
                          uint32_t n_dict, uint32_t *codes, tl_error *err)
{
    tlf_codes_hdr h;
    int rc = tlf_dict_parse(src, len, n, 0, &h, err);
    if (rc)
        return rc;
    if (h.enc == TLF_ENC_RLE) {
        uint32_t prev = 0;
        for (uint32_t r = 0; r < h.r.n_runs; r++) {
            uint32_t start = prev, code;
            rc = tlf_dict_run(&h, n, n_dict, r, &prev, &code, err);
            if (rc)
                return rc;
            for (uint32_t i = start; i < prev; i++)
                codes[i] = code;
        }
        return TL_OK;
    }
    tlf_fast_prm prm = {.n_dict = n_dict};
    if (tlf_fast_for(h.f.data, h.f.nbytes, h.f.bw, h.f.base, h.f.factor, n, TLF_K_CODE, &prm, codes))
        return TL_OK;
    for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        rc = tlf_dict_codes_chunk(&h, n_dict, s, cnt, codes + s, err);
        if (rc)
            return rc;
    }
    return TL_OK;
}

int tlf_dict_runs_view(const uint8_t *src, size_t len, uint32_t n, uint32_t n_dict,
                       size_t off0, uint32_t *n_runs, const uint32_t **codes,
                       const uint32_t **ends, tl_error *err)
{
    if ((uintptr_t)src % 4)
        return tl_error_set(err, TL_EINVAL, "dict: codes section at %p is not 4-byte aligned",
                            (const void *)src);
    tlf_codes_hdr h;
    int rc = tlf_dict_parse(src, len, n, off0, &h, err);
    if (rc)
        return rc;
    if (h.enc != TLF_ENC_RLE)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "dict: codes at payload offset %zu are bit-packed (for), runs need "
                            "rle codes",
                            off0);
    uint32_t prev = 0, code;
    for (uint32_t r = 0; r < h.r.n_runs; r++) {
        rc = tlf_dict_run(&h, n, n_dict, r, &prev, &code, err);
        if (rc)
            return rc;
    }
    *n_runs = h.r.n_runs;
    *codes = (const uint32_t *)(const void *)h.r.values;
    *ends = (const uint32_t *)(const void *)h.r.ends;
    return TL_OK;
}

/* ---- DICT of fixed-width values ----------------------------------------- */

static uint64_t ld_bits(const uint8_t *p, unsigned w)
{
    switch (w) {
    case 1: return p[0];
    case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
    case 4: return tlf_ld32(p);
    default: return tlf_ld64(p);
    }
}

static uint32_t slot_of(uint64_t x, unsigned shift)
{
    return (uint32_t)((x * 0x9E3779B97F4A7C15ull) >> shift);
}

/* Zero the slots of entries [0, n_dict): the table is all zero again. */
static void fdict_clear(tlf_fdict *d)
{
    uint32_t mask = d->ht_cap - 1;
    unsigned shift = 64 - (unsigned)__builtin_ctz(d->ht_cap);
    for (uint32_t e = 0; e < d->n_dict; e++) {
        uint32_t s = slot_of(ld_bits(d->vals + (size_t)e * d->w, d->w), shift) & mask;
        while (d->ht[s] != e + 1)
            s = (s + 1) & mask;
        d->ht[s] = 0;
    }
}

int tlf_fdict_build(tlf_fdict *d, const void *v, uint32_t n, unsigned w,
                    uint32_t max_entries, uint32_t *codes, int *fits,
                    tl_error *err)
{
    if (w != 1 && w != 2 && w != 4 && w != 8)
        return tl_error_set(err, TL_EINVAL, "dict: value width %u, expected 1, 2, 4 or 8", w);
    if (d->ht && d->n_dict)
        fdict_clear(d);
    d->n_dict = 0;
    d->w = w;
    *fits = 0;
    if (max_entries > n)
        max_entries = n;
    if (n == 0) {
        *fits = 1;
        return TL_OK;
    }
    if (max_entries == 0)
        return TL_OK;
    /* load factor <= 1/2 */
    uint32_t cap = 64;
    while (cap < 2 * (uint64_t)max_entries)
        cap *= 2;
    if (cap > d->ht_cap) {
        uint32_t *ht = calloc(cap, sizeof *ht);
        if (!ht)
            return tl_error_set(err, TL_ENOMEM, "dict: out of memory (%u hash slots)", cap);
        free(d->ht);
        d->ht = ht;
        d->ht_cap = cap;
    }
    if ((size_t)max_entries * w > d->vals_cap) {
        size_t vc = (size_t)max_entries * w;
        uint8_t *p = realloc(d->vals, vc);
        if (!p)
            return tl_error_set(err, TL_ENOMEM, "dict: out of memory (%zu value bytes)", vc);
        d->vals = p;
        d->vals_cap = vc;
    }
    uint32_t mask = d->ht_cap - 1;
    unsigned shift = 64 - (unsigned)__builtin_ctz(d->ht_cap);
    const uint8_t *src = v;
    uint64_t prev = ld_bits(src, w) + 1; /* differs from value 0 */
    uint32_t prev_code = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = ld_bits(src + (size_t)i * w, w);
        if (x == prev) { /* runs: no hashing */
            codes[i] = prev_code;
            continue;
        }
        uint32_t s = slot_of(x, shift) & mask, code;
        for (;;) {
            uint32_t e = d->ht[s];
            if (e == 0) {
                if (d->n_dict == max_entries)
                    return TL_OK; /* too many distinct values */
                memcpy(d->vals + (size_t)d->n_dict * w, src + (size_t)i * w, w);
                code = d->n_dict++;
                d->ht[s] = code + 1;
                break;
            }
            if (ld_bits(d->vals + (size_t)(e - 1) * w, w) == x) {
                code = e - 1;
                break;
            }
            s = (s + 1) & mask;
        }
        codes[i] = prev_code = code;
        prev = x;
    }
    *fits = 1;
    return TL_OK;
}

void tlf_fdict_free(tlf_fdict *d)
{
    free(d->ht);
    free(d->vals);
    memset(d, 0, sizeof *d);
}

size_t tlf_fdict_size(uint32_t n_dict, unsigned w, size_t codes_size)
{
    return 8 + (size_t)tlf_pad8((uint64_t)n_dict * w) + codes_size;
}

int tlf_fdict_encode(const void *dict, uint32_t n_dict, unsigned w,
                     const uint32_t *codes, uint32_t n, unsigned flags,
                     tlf_buf *out, tl_error *err)
{
    if (w != 1 && w != 2 && w != 4 && w != 8)
        return tl_error_set(err, TL_EINVAL, "dict: value width %u, expected 1, 2, 4 or 8", w);
    if (n > 0 ? (n_dict == 0 || n_dict > n) : n_dict != 0)
        return tl_error_set(err, TL_EINVAL,
                            "dict: %u dictionary entries for %u values, expected 1 .. %u",
                            n_dict, n, n);
    size_t vb = (size_t)n_dict * w, vpad = (size_t)tlf_pad8(vb);
    int rc = tlf_buf_reserve(out, 8 + vpad, err);
    if (rc)
        return rc;
    uint8_t *p = out->p + out->len;
    memset(p, 0, 8 + vpad);
    tlf_st32(p, n_dict);
    if (vb)
        memcpy(p + 8, dict, vb);
    out->len += 8 + vpad;
    return tlf_dict_encode_opt(codes, n, n_dict, flags, out, err);
}

/* out[i] = dict[codes[i]] for i < cnt (byte loads of any alignment; the
 * compiler turns them into plain or gathered loads) */
static void gather(const uint8_t *dict, unsigned w, const uint32_t *codes,
                   uint32_t cnt, uint8_t *out)
{
#define G(T) do { T *o = (T *)(void *)out; \
        for (uint32_t i = 0; i < cnt; i++) { \
            T x; memcpy(&x, dict + (size_t)codes[i] * sizeof(T), sizeof(T)); o[i] = x; } \
    } while (0)
    switch (w) {
    case 1: G(uint8_t); break;
    case 2: G(uint16_t); break;
    case 4: G(uint32_t); break;
    default: G(uint64_t); break;
    }
#undef G
}

static void fill(const uint8_t *val, unsigned w, uint32_t from, uint32_t to, uint8_t *dst)
{
#define F(T) do { T x; memcpy(&x, val, sizeof x); T *o = (T *)(void *)dst; \
        for (uint32_t i = from; i < to; i++) o[i] = x; } while (0)
    switch (w) {
    case 1: memset(dst + from, val[0], to - from); break;
    case 2: F(uint16_t); break;
    case 4: F(uint32_t); break;
    default: F(uint64_t); break;
    }
#undef F
}

int tlf_fdict_parse(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                    uint32_t *n_dict, const uint8_t **entries, size_t *codes_off,
                    tl_error *err)
{
    if (w != 1 && w != 2 && w != 4 && w != 8)
        return tl_error_set(err, TL_EINVAL, "dict: value width %u, expected 1, 2, 4 or 8", w);
    if (len < 8)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: payload is %zu bytes, expected at least the 8-byte header",
                            len);
    uint32_t nd = tlf_ld32(src), res = tlf_ld32(src + 4);
    if (n > 0 ? (nd == 0 || nd > n) : nd != 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: entry count at payload offset 0 is %u, expected %s%u for %u values",
                            nd, n ? "1 .. " : "", n, n);
    if (res)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: reserved field at payload offset 4 is 0x%08x, expected 0",
                            res);
    uint64_t vb = (uint64_t)nd * w, vend = 8 + tlf_pad8(vb);
    if (len < vend)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: payload is %zu bytes, expected at least 8 + %llu for %u entries of %u bytes",
                            len, (unsigned long long)(vend - 8), nd, w);
    for (uint64_t i = 8 + vb; i < vend; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "dict: padding byte at payload offset %llu is 0x%02x, expected 0",
                                (unsigned long long)i, src[i]);
    *n_dict = nd;
    *entries = src + 8;
    *codes_off = (size_t)vend;
    return TL_OK;
}

int tlf_fdict_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                     void *dst, tl_error *err)
{
    uint32_t nd;
    const uint8_t *dv;
    size_t vend;
    int rc = tlf_fdict_parse(src, len, n, w, &nd, &dv, &vend, err);
    if (rc)
        return rc;
    tlf_codes_hdr h;
    rc = tlf_dict_parse(src + vend, len - vend, n, vend, &h, err);
    if (rc)
        return rc;
    uint8_t *out = dst;
    if (h.enc == TLF_ENC_RLE) {
        uint32_t prev = 0;
        for (uint32_t r = 0; r < h.r.n_runs; r++) {
            uint32_t start = prev, code;
            rc = tlf_dict_run(&h, n, nd, r, &prev, &code, err);
            if (rc)
                return rc;
            fill(dv + (size_t)code * w, w, start, prev, out);
        }
        return TL_OK;
    }
    /* fused unpack, check and gather; the codes section header (8 bytes)
     * follows the entries, as the 1- and 2-byte gathers need */
    static const int gk[9] = {0, TLF_K_G1, TLF_K_G2, 0, TLF_K_G4, 0, 0, 0, TLF_K_G8};
    tlf_fast_prm prm = {.n_dict = nd, .dict = dv};
    if (tlf_fast_for(h.f.data, h.f.nbytes, h.f.bw, h.f.base, h.f.factor, n, gk[w], &prm, out))
        return TL_OK;
    uint32_t codes[TLF_CHUNK];
    for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        rc = tlf_dict_codes_chunk(&h, nd, s, cnt, codes, err);
        if (rc)
            return rc;
        gather(dv, w, codes, cnt, out + (size_t)s * w);
    }
    return TL_OK;
}
