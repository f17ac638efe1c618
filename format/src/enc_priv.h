/*
 * enc_priv.h - internal to the enc_*.c files: helpers shared by the
 * integer decoders (FOR, DELTA) and SCALED, which decodes its inner
 * integer payload chunk by chunk without a scratch allocation. Byte loads
 * and stores come from le_int.h.
 */
#ifndef TL_ENC_PRIV_H
#define TL_ENC_PRIV_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "enc.h"
#include "le_int.h"

#define TLF_ALWAYS_INLINE inline __attribute__((always_inline))

/* Values per decode chunk: a multiple of 256 (DELTA miniblocks) and of 8
 * (so every chunk of a bit-packed stream starts on a byte boundary). */
#define TLF_CHUNK 1024u
#define TLF_MINI 256u

/* The w-byte value extended to 64 bits, as stored in FOR and DELTA. */
static inline uint64_t tlf_extend(uint64_t v, unsigned w, int is_signed)
{
    switch (w) {
    case 1: return is_signed ? (uint64_t)(int64_t)(int8_t)v : (uint8_t)v;
    case 2: return is_signed ? (uint64_t)(int64_t)(int16_t)v : (uint16_t)v;
    case 4: return is_signed ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;
    default: return v;
    }
}
static inline int tlf_fits(uint64_t v, unsigned w, int is_signed)
{
    return tlf_extend(v, w, is_signed) == v;
}

/* v[start .. start+cnt) of width w, extended to 64 bits. */
void tlf_widen(const void *v, size_t start, size_t cnt, unsigned w,
               int is_signed, uint64_t *out);
/* Store cnt 64-bit values narrowed to w bytes at dst[start..]; returns
 * the index (within the chunk) of the first value that is not a valid
 * extension of a w-byte value, or cnt when all fit. */
size_t tlf_narrow(const uint64_t *in, size_t cnt, unsigned w, int is_signed,
                  void *dst, size_t start);

/* Unpack cnt values of width bw starting at bit offset bit0 (a multiple
 * of 8) of the stream src[0..nbytes); never reads past nbytes. */
void tlf_unpack_at(const uint8_t *src, size_t nbytes, uint64_t bit0,
                   uint32_t cnt, unsigned bw, uint64_t *out);

/* ---- FOR ---- */
typedef struct tlf_for_hdr {
    uint64_t base, factor;
    unsigned bw;
    const uint8_t *data; /* packed stream */
    size_t nbytes;       /* unpadded packed bytes */
    size_t data_off;     /* payload offset of data (for messages) */
} tlf_for_hdr;

/* Validate a FOR payload for n values (bit width at most max_bw); `what`
 * names the encoding in messages ("for", "scaled: inner for") and off0 is
 * added to every reported offset. */
int tlf_for_parse(const uint8_t *src, size_t len, uint32_t n, unsigned max_bw,
                  const char *what, size_t off0, tlf_for_hdr *h, tl_error *err);
/* base + factor * packed[start + i] for i < cnt; start a multiple of 8. */
void tlf_for_chunk(const tlf_for_hdr *h, uint32_t start, uint32_t cnt,
                   uint64_t *out);

/* ---- DELTA ---- */
typedef struct tlf_delta_hdr {
    uint64_t first;
    uint32_t n, n_mini;
    const uint8_t *mins;    /* i64[n_mini] */
    const uint8_t *widths;  /* u8[n_mini] */
    const uint8_t *factors; /* u32[n_mini], or NULL: every factor is 1 */
    const uint8_t *data;   /* packed miniblocks */
    size_t data_len;       /* their bytes */
    size_t data_off;       /* payload offset of data */
} tlf_delta_hdr;

int tlf_delta_parse(const uint8_t *src, size_t len, uint32_t n,
                    unsigned max_bw, const char *what, size_t off0,
                    tlf_delta_hdr *h, tl_error *err);
/* Decode miniblock m (values 1+256m ...) given the previous value prev and
 * the byte position *pos of its packed data (advanced). Returns the count
 * written to out (<= 256). */
uint32_t tlf_delta_mini(const tlf_delta_hdr *h, uint32_t m, uint64_t prev,
                        size_t *pos, uint64_t *out);

/* ---- RLE ---- */
typedef struct tlf_rle_hdr {
    uint32_t n_runs;
    const uint8_t *values;
    const uint8_t *ends;
    size_t values_off; /* payload offset of values */
    size_t ends_off;   /* payload offset of ends */
} tlf_rle_hdr;

/* Validates header, length and padding (not the ends themselves). */
int tlf_rle_parse(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                  const char *what, size_t off0, tlf_rle_hdr *h, tl_error *err);

/* ---- DICT codes section ---- */
typedef struct tlf_codes_hdr {
    int enc;       /* TLF_ENC_FOR or TLF_ENC_RLE */
    tlf_for_hdr f; /* FOR */
    tlf_rle_hdr r; /* RLE (ends not yet validated) */
} tlf_codes_hdr;

/* Validate a codes section (u8 encoding, 7 zero bytes, FOR or RLE payload
 * of n u32 codes) at payload offset off0 of the DICT payload. */
int tlf_dict_parse(const uint8_t *src, size_t len, uint32_t n, size_t off0,
                   tlf_codes_hdr *h, tl_error *err);
/* FOR codes start .. start+cnt (start a multiple of 8, cnt <= TLF_CHUNK),
 * each checked < n_dict. */
int tlf_dict_codes_chunk(const tlf_codes_hdr *h, uint32_t n_dict, uint32_t start,
                         uint32_t cnt, uint32_t *codes, tl_error *err);
/* RLE codes: run r's code (checked < n_dict) and end (checked against
 * *prev, the previous end, which it advances to this run's end). */
int tlf_dict_run(const tlf_codes_hdr *h, uint32_t n, uint32_t n_dict, uint32_t r,
                 uint32_t *prev, uint32_t *code, tl_error *err);

/* ---- fast (AVX-512) decode kernels, enc_avx512.c ---- *
 * Each returns 1 when it decoded every value and all were valid; 0 when it
 * does not apply (no AVX-512 VBMI, bit width > 56) or met an invalid value.
 * On 0 the caller runs its scalar path, which decodes or reports the exact
 * error. Output kinds: */
enum {
    TLF_K_U8, TLF_K_I8, TLF_K_U16, TLF_K_I16, TLF_K_U32, TLF_K_I32,
    TLF_K_64,   /* 8-byte integers, any value valid */
    TLF_K_F32,  /* SCALED: k in +-2^53, (float)((double)k / div) */
    TLF_K_F64,  /* SCALED: (double)k / div */
    TLF_K_CODE, /* DICT: uint32 codes < n_dict */
    TLF_K_G1, TLF_K_G2, TLF_K_G4, TLF_K_G8, /* DICT: entries dict[code], code
                                              < n_dict, of 1, 2, 4, 8 bytes; the
                                              1- and 2-byte gathers read 4 bytes,
                                              so 3 readable bytes must follow
                                              the entries */
};
static inline int tlf_kind_int(unsigned w, int is_signed)
{
    return w == 8 ? TLF_K_64 : w == 4 ? TLF_K_U32 + (is_signed != 0)
           : w == 2 ? TLF_K_U16 + (is_signed != 0) : TLF_K_U8 + (is_signed != 0);
}
typedef struct tlf_fast_prm {
    uint64_t divisor;    /* F32/F64 */
    uint64_t n_dict;     /* CODE, G* */
    const uint8_t *dict; /* G*: the entries */
} tlf_fast_prm;

/* Tests set this to 1 to force the scalar paths. */
extern int tlf_enc_no_simd;

/* tlf_scaled_find for one divisor p = 10^e over cnt values: k = llround(v*p)
 * into k[]; 1 if every (double)k/p (narrowed for f32) equals v bit for
 * bit, 0 if some value fails, -1 without SIMD (k[] then undefined). */
int tlf_fast_find(const void *v, uint32_t cnt, int is_f32, double p, int64_t *k);

/* n values base + factor * packed (FOR, DICT codes) */
int tlf_fast_for(const uint8_t *data, size_t nbytes, unsigned bw, uint64_t base,
                 uint64_t factor, uint32_t n, int kind, const tlf_fast_prm *prm,
                 void *dst);
/* DELTA values 1 .. n-1 (the caller validates and stores value 0) */
int tlf_fast_delta(const tlf_delta_hdr *h, int kind, const tlf_fast_prm *prm,
                   void *dst);
/* n little-endian int64 from src (SCALED over PLAIN) */
int tlf_fast_plain64(const uint8_t *src, uint32_t n, int kind,
                     const tlf_fast_prm *prm, void *dst);

#endif /* TL_ENC_PRIV_H */
