/*
 * enc_dict.c - DICT: string values as codes into the column dictionary.
 *
 * Payload:
 *   off 0   u8   bit_width (0..32; the writer uses the width of the
 *                largest code, so never more than needed for n_dict - 1)
 *   off 1   7    reserved, zero
 *   off 8        n codes bit-packed LSB-first, zero padding to 8 bytes
 * Exactly 8 + pad8(ceil(n*bit_width/8)) bytes. Every code < n_dict.
 */
#include <string.h>

#include "enc_priv.h"

int tlf_dict_encode(const uint32_t *codes, uint32_t n, uint32_t n_dict,
                    tlf_buf *out, tl_error *err)
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
    unsigned bw = tlf_bit_width(mx);
    size_t nb = tlf_bitpack_bytes(n, bw), total = 8 + (size_t)tlf_pad8(nb);
    int rc = tlf_buf_reserve(out, total, err);
    if (rc)
        return rc;
    uint8_t *p = out->p + out->len;
    memset(p, 0, 8);
    p[0] = (uint8_t)bw;
    uint64_t tmp[TLF_CHUNK];
    for (uint32_t s = 0; s < n && bw > 0; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        for (uint32_t i = 0; i < cnt; i++)
            tmp[i] = codes[s + i];
        tlf_bitpack64(tmp, cnt, bw, p + 8 + (size_t)s / 8 * bw);
    }
    memset(p + 8 + nb, 0, total - 8 - nb);
    out->len += total;
    return TL_OK;
}

int tlf_dict_decode_codes(const uint8_t *src, size_t len, uint32_t n,
                          uint32_t n_dict, uint32_t *codes, tl_error *err)
{
    if (len < 8)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: payload is %zu bytes, expected at least the 8-byte header",
                            len);
    unsigned bw = src[0];
    unsigned max_bw = n_dict ? tlf_bit_width(n_dict - 1) : 0;
    if (bw > max_bw)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: bit width at payload offset 0 is %u, expected at most %u for a %u-entry dictionary",
                            bw, max_bw, n_dict);
    for (size_t i = 1; i < 8; i++)
        if (src[i])
            return tl_error_set(err, TL_ECORRUPT,
                                "dict: reserved byte at payload offset %zu is 0x%02x, expected 0",
                                i, src[i]);
    size_t nb = tlf_bitpack_bytes(n, bw);
    uint64_t exp = 8 + tlf_pad8(nb);
    if (len != exp)
        return tl_error_set(err, TL_ECORRUPT,
                            "dict: payload is %zu bytes, expected 8 + %llu = %llu for %u codes of bit width %u",
                            len, (unsigned long long)(exp - 8),
                            (unsigned long long)exp, n, bw);
    tlf_fast_prm prm = {.n_dict = n_dict};
    if (tlf_fast_for(src + 8, nb, bw, 0, n, TLF_K_CODE, &prm, codes))
        return TL_OK;
    uint64_t tmp[TLF_CHUNK];
    for (uint32_t s = 0; s < n; s += TLF_CHUNK) {
        uint32_t cnt = n - s < TLF_CHUNK ? n - s : TLF_CHUNK;
        tlf_unpack_at(src + 8, nb, (uint64_t)s * bw, cnt, bw, tmp);
        uint64_t mx = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            codes[s + i] = (uint32_t)tmp[i];
            mx = tmp[i] > mx ? tmp[i] : mx;
        }
        if (mx >= n_dict) {
            for (uint32_t i = 0; i < cnt; i++)
                if (tmp[i] >= n_dict)
                    return tl_error_set(err, TL_ECORRUPT,
                                        "dict: code %llu of value %u (packed at payload offset %llu) is not below the dictionary size %u",
                                        (unsigned long long)tmp[i], s + i,
                                        (unsigned long long)(8 + (uint64_t)(s + i) * bw / 8),
                                        n_dict);
        }
    }
    return TL_OK;
}
