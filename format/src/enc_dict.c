/*
 * enc_dict.c - DICT: values as codes into a dictionary (strings: the
 * column dictionary in the footer).
 *
 * Payload (the "codes section"):
 *   off 0   u8   codes_encoding: RLE (1) or FOR (3)
 *   off 1   7    reserved, zero
 *   off 8        the n codes as a payload of that encoding with w = 4,
 *                unsigned (enc_rle.c, enc_int.c); offsets in messages are
 *                relative to the DICT payload
 * Exactly 8 + the inner payload's length. Every decoded code < n_dict.
 * The writer encodes both ways and keeps the smaller (FOR on a tie: its
 * decoder is the fused AVX-512 unpack).
 */
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
    if (tlf_fast_for(h.f.data, h.f.nbytes, h.f.bw, h.f.base, n, TLF_K_CODE, &prm, codes))
        return TL_OK;
    for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        rc = tlf_dict_codes_chunk(&h, n_dict, s, cnt, codes + s, err);
        if (rc)
            return rc;
    }
    return TL_OK;
}
