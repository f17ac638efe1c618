/*
 * enc.h - internal: per-block value encodings of the segment format.
 *
 * These functions know only values and bytes: no files, columns or blocks.
 * Decoders take the encoded payload (already decompressed) with its exact
 * length and the number of values the block index promises, validate every
 * length, count and bit width against len before touching memory, and
 * report TL_ECORRUPT with a message giving the payload-relative byte offset,
 * what was expected and what was found ("rle: run ends at payload offset
 * 12 not increasing: 100 after 200"). The segment layer prefixes file,
 * column and block. Decoders write exactly n*width bytes to dst, never
 * more. Encoders append to a growable tlf_buf.
 *
 * Payload layouts (normative copy in spec/FORMAT.md; all little-endian):
 *
 * PLAIN, fixed width w:  n*w bytes of values.
 * PLAIN, strings:        u32 offsets[n+1] (offsets[0]=0, non-decreasing),
 *                        then offsets[n] bytes.
 * RLE (fixed width w):   u32 n_runs; u32 reserved(0);
 *                        values: n_runs*w bytes, then zero padding to 8;
 *                        u32 ends[n_runs]: cumulative exclusive end row of
 *                        each run, strictly increasing, ends[n_runs-1] = n.
 * FOR (integer width w): u64 base (the minimum, as the w-byte value sign- or
 *                        zero-extended to 64 bits); u8 bit_width (0..8w);
 *                        7 zero bytes; u64 factor (>= 1); then n packed
 *                        values bit-packed LSB-first, ceil(n*bit_width/8)
 *                        bytes, plus zero padding to a multiple of 8 bytes.
 *                        Value i = base + factor * packed_i (mod 2^64).
 * DELTA (integer w):     u64 first value (extended as for FOR); u32
 *                        n_mini = ceil((n-1)/256); u32 flags (bit 0
 *                        FACTORS, others 0); i64 min_delta[n_mini]; u8
 *                        width[n_mini] padded with zeros to a multiple of
 *                        8; only with FACTORS: u32 factor[n_mini] (each
 *                        >= 1, else all are 1) padded with zeros to a
 *                        multiple of 8; then per miniblock its packed
 *                        deltas, bit-packed
 *                        LSB-first with its width: 32*width bytes for a
 *                        full miniblock of 256 deltas, the last one
 *                        ceil(cnt*width/8) bytes padded to 8. Delta
 *                        d_j = v[j]-v[j-1] = min_delta + factor * packed_j
 *                        (mod 2^64). n = 0: the payload is empty; n = 1:
 *                        only the 16-byte header.
 * SCALED (float w=4,8):  u64 divisor (1 .. 2^53); u8 inner encoding
 *                        (PLAIN, RLE, FOR or DELTA); 7 zero bytes; then
 *                        the inner payload of int64 values k. Value i is
 *                        (double)k_i / (double)divisor (IEEE division,
 *                        round to nearest even), narrowed to float for
 *                        w = 4. |k| <= 2^53. The writer uses it only when
 *                        it reproduces every value bit for bit.
 * DICT (strings):        the codes section: u8 codes_encoding (RLE = 1
 *                        or FOR = 3); 7 zero bytes; then the n codes as
 *                        a payload of that encoding with w = 4, unsigned
 *                        (layouts above); every decoded code < the
 *                        column dictionary's entry count. The writer
 *                        keeps the smaller of the two (FOR on a tie).
 * DICT (fixed width w,   u32 n_dict (1 .. n; 0 iff n = 0); u32 reserved(0);
 *  not bool):            the n_dict entries, n_dict*w bytes (the writer
 *                        stores distinct bit patterns in first-seen order),
 *                        zero padding to 8; then the codes section as for
 *                        strings, every code < n_dict. Value i is entry
 *                        code_i, bit for bit (NaN payloads and -0.0 kept).
 */
#ifndef TL_ENC_H
#define TL_ENC_H

#include <stdint.h>
#include <stddef.h>

#include "tl_error.h"

/* growable byte buffer; reuse across blocks (reset len, keep capacity) */
typedef struct tlf_buf {
    uint8_t *p;
    size_t len, cap;
} tlf_buf;

int tlf_buf_reserve(tlf_buf *b, size_t extra, tl_error *err); /* TL_ENOMEM */
int tlf_buf_append(tlf_buf *b, const void *src, size_t len, tl_error *err);
int tlf_buf_pad(tlf_buf *b, size_t align, tl_error *err); /* zero-fill to align */
void tlf_buf_free(tlf_buf *b);

/* ---- bit packing: values < 2^w, LSB-first contiguous bitstream --------- */
/* bytes needed for n values of width w (not padded) */
static inline size_t tlf_bitpack_bytes(uint64_t n, unsigned w)
{
    return (size_t)((n * w + 7) / 8);
}
/* dst must have tlf_bitpack_bytes(n,w) bytes; bits above w in v must be 0 */
void tlf_bitpack64(const uint64_t *v, uint32_t n, unsigned w, uint8_t *dst);
/* src must have tlf_bitpack_bytes(n,w) readable bytes */
void tlf_bitunpack64(const uint8_t *src, uint32_t n, unsigned w, uint64_t *dst);
/* smallest w with v < 2^w (0 for v == 0) */
unsigned tlf_bit_width(uint64_t v);

/* ---- encoder options (flags of the *_opt functions) -------------------- */
#define TLF_OPT_BYTE_ALIGN 0x1u /* FOR (also FOR codes, SCALED inner FOR): bit
                                   width rounded up to 8, 16, 32 or 64 (zstd
                                   finds byte-aligned values) */
#define TLF_OPT_CODES_FOR 0x2u  /* DICT: codes as FOR (tests; default: smaller) */
#define TLF_OPT_CODES_RLE 0x4u  /* DICT: codes as RLE */
#define TLF_OPT_NO_FACTOR 0x8u  /* FOR, DELTA: factor 1 (tests, measurements) */

/* ---- integer encodings ------------------------------------------------ *
 * Values are integers of width w in {1,2,4,8}; is_signed selects sign vs
 * zero extension to 64 bits. Encoded sizes are exact (for choosing). */
/* Minimum and maximum of n >= 1 values in signed or unsigned order,
 * extended to 64 bits as FOR stores them (zone maps use them too). */
void tlf_minmax(const void *v, uint32_t n, unsigned w, int is_signed, uint64_t *mn,
                uint64_t *mx);
size_t tlf_for_size(const void *v, uint32_t n, unsigned w, int is_signed);
/* The FOR parameters of n values (base = minimum, factor = gcd of the
 * v - base, bw = exact bit width; flags: TLF_OPT_NO_FACTOR), computed once
 * and reused for the size and for encodings with and without
 * TLF_OPT_BYTE_ALIGN (which rounds bw up when sizing or encoding). */
typedef struct tlf_for_plan {
    uint64_t base, factor;
    unsigned bw;
} tlf_for_plan;
void tlf_for_plan_make(const void *v, uint32_t n, unsigned w, int is_signed,
                       unsigned flags, tlf_for_plan *p);
size_t tlf_for_plan_size(const tlf_for_plan *p, uint32_t n, unsigned flags);
/* Encode v with the plan tlf_for_plan_make gave for these same values. */
int tlf_for_encode_plan(const void *v, uint32_t n, unsigned w, int is_signed,
                        const tlf_for_plan *plan, unsigned flags, tlf_buf *out,
                        tl_error *err);
int tlf_for_encode(const void *v, uint32_t n, unsigned w, int is_signed,
                   tlf_buf *out, tl_error *err);
size_t tlf_for_size_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                        unsigned flags);
int tlf_for_encode_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                       unsigned flags, tlf_buf *out, tl_error *err);
int tlf_for_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                   int is_signed, void *dst, tl_error *err);

size_t tlf_delta_size(const void *v, uint32_t n, unsigned w, int is_signed);
int tlf_delta_encode(const void *v, uint32_t n, unsigned w, int is_signed,
                     tlf_buf *out, tl_error *err);
size_t tlf_delta_size_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                          unsigned flags);
int tlf_delta_encode_opt(const void *v, uint32_t n, unsigned w, int is_signed,
                         unsigned flags, tlf_buf *out, tl_error *err);
int tlf_delta_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                     int is_signed, void *dst, tl_error *err);
/* TLF_DECODE_NARROW of an int64 (signed) DELTA payload: the values as int32
 * into dst. 1 when done (every value fits, AVX-512 kernels present), 0
 * otherwise (tlf_delta_decode then decodes normally and names any fault). */
int tlf_delta_decode_i32(const uint8_t *src, size_t len, uint32_t n, int32_t *dst);
/* The DELTA parameters of n values per miniblock (min delta, factor, bit
 * width; flags: TLF_OPT_NO_FACTOR) into caller arrays of ceil((n-1)/256)
 * entries, and the exact payload size (returned, also in size), reused to
 * encode the same values without measuring them again. */
typedef struct tlf_delta_plan {
    int64_t *mins;   /* in: arrays of at least n_mini entries */
    uint32_t *factor;
    uint8_t *width;
    uint32_t n_mini; /* out */
    int factors;     /* some factor is not 1 (the factor array is written) */
    size_t size;     /* payload bytes */
} tlf_delta_plan;
size_t tlf_delta_plan_make(const void *v, uint32_t n, unsigned w, int is_signed,
                           unsigned flags, tlf_delta_plan *p);
int tlf_delta_encode_plan(const void *v, uint32_t n, unsigned w, int is_signed,
                          const tlf_delta_plan *p, tlf_buf *out, tl_error *err);

/* RLE works for any fixed width (bit patterns compared, so -0.0 != 0.0 and
 * NaNs with equal payloads are equal). */
uint32_t tlf_rle_count_runs(const void *v, uint32_t n, unsigned w);
size_t tlf_rle_size(uint32_t n_runs, unsigned w);
int tlf_rle_encode(const void *v, uint32_t n, unsigned w, tlf_buf *out,
                   tl_error *err);
int tlf_rle_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                   void *dst, tl_error *err);
/* Validate and expose the runs in place (src must be 4-byte aligned). */
int tlf_rle_view(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                 uint32_t *n_runs, const void **values, const uint32_t **ends,
                 tl_error *err);

/* ---- floats on a decimal grid ------------------------------------------ *
 * tlf_scaled_find: if every value is exactly k/divisor for some divisor in
 * {1, 2, 4, 5, 10, 20, 25, 50, 100, ..., 10^9 and their gcd reductions},
 * with |k| <= 2^53, fill k[] (n int64) and *divisor and return 1; else 0.
 * -0.0, NaN and infinities never qualify. */
int tlf_scaled_find(const void *v, uint32_t n, unsigned w, int64_t *k,
                    uint64_t *divisor);
/* Encode with the given inner integer encoding of the k values. */
int tlf_scaled_encode(const int64_t *k, uint32_t n, uint64_t divisor,
                      int inner, tlf_buf *out, tl_error *err);
int tlf_scaled_encode_opt(const int64_t *k, uint32_t n, uint64_t divisor,
                          int inner, unsigned flags, tlf_buf *out, tl_error *err);
/* The same with inner FOR or DELTA planned by tlf_for_plan_make /
 * tlf_delta_plan_make(k, n, 8, 1, ...) (NULL: planned here). */
int tlf_scaled_encode_plan(const int64_t *k, uint32_t n, uint64_t divisor,
                           int inner, const tlf_for_plan *for_plan,
                           const tlf_delta_plan *delta_plan, unsigned flags,
                           tlf_buf *out, tl_error *err);
int tlf_scaled_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                      void *dst, int *inner_out, tl_error *err);
/* TLF_DECODE_NARROW of a SCALED payload (w = 8): its k values as int32 into
 * dst (n of them), *div the divisor, *inner_out its inner encoding. 1 when
 * done: inner DELTA, every k fits int32, AVX-512 kernels present; 0
 * otherwise (nothing to report: tlf_scaled_decode then decodes normally and
 * names any fault). */
int tlf_scaled_decode_i32(const uint8_t *src, size_t len, uint32_t n, int32_t *dst,
                          uint64_t *div, int *inner_out);

/* ---- DICT codes ---------------------------------------------------------- */
/* The codes section of n codes each < n_dict (TL_EINVAL otherwise), as RLE
 * or FOR, whichever is smaller; flags TLF_OPT_*. Size: exact bytes. */
size_t tlf_dict_codes_size(const uint32_t *codes, uint32_t n, unsigned flags);
int tlf_dict_encode(const uint32_t *codes, uint32_t n, uint32_t n_dict,
                    tlf_buf *out, tl_error *err);
int tlf_dict_encode_opt(const uint32_t *codes, uint32_t n, uint32_t n_dict,
                        unsigned flags, tlf_buf *out, tl_error *err);
/* Decode the codes section into codes[n], each checked < n_dict. */
int tlf_dict_decode_codes(const uint8_t *src, size_t len, uint32_t n,
                          uint32_t n_dict, uint32_t *codes, tl_error *err);
/* The runs of an RLE codes section src[0..len) (at DICT payload offset
 * off0, for messages) in place: *codes (u32[n_runs]) and *ends, the ends
 * validated as for RLE and every code checked < n_dict. src must be 4-byte
 * aligned (TL_EINVAL); FOR codes give TL_EUNSUPPORTED. */
int tlf_dict_runs_view(const uint8_t *src, size_t len, uint32_t n, uint32_t n_dict,
                       size_t off0, uint32_t *n_runs, const uint32_t **codes,
                       const uint32_t **ends, tl_error *err);

/* ---- DICT of fixed-width values ------------------------------------------- */
/* A dictionary builder, reused across blocks (zero-initialise; the hash
 * table is left all empty after each build, so reuse costs no clearing). */
typedef struct tlf_fdict {
    uint32_t *ht;     /* slot: entry + 1, 0 = empty */
    uint32_t ht_cap;  /* power of two */
    uint8_t *vals;    /* entries, first-seen order, n_dict * w bytes */
    size_t vals_cap;
    uint32_t n_dict;
    unsigned w;
} tlf_fdict;
/* Find the distinct bit patterns of n w-byte values (first-seen order) and
 * each value's code. *fits = 0 (d then unusable) when there are more than
 * max_entries. Errors: TL_EINVAL (w), TL_ENOMEM. */
int tlf_fdict_build(tlf_fdict *d, const void *v, uint32_t n, unsigned w,
                    uint32_t max_entries, uint32_t *codes, int *fits,
                    tl_error *err);
void tlf_fdict_free(tlf_fdict *d);
/* Exact payload bytes for n_dict entries and a codes section of codes_size. */
size_t tlf_fdict_size(uint32_t n_dict, unsigned w, size_t codes_size);
/* The payload for entries dict[n_dict] (n_dict*w bytes) and codes[n]
 * (flags TLF_OPT_*). TL_EINVAL for n_dict outside 1 .. n or a code >= n_dict. */
int tlf_fdict_encode(const void *dict, uint32_t n_dict, unsigned w,
                     const uint32_t *codes, uint32_t n, unsigned flags,
                     tlf_buf *out, tl_error *err);
int tlf_fdict_decode(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                     void *dst, tl_error *err);
/* Validate the header, entries and padding of a fixed-width DICT payload
 * (not its codes): *n_dict entries at *entries (src + 8), the codes
 * section at payload offset *codes_off. */
int tlf_fdict_parse(const uint8_t *src, size_t len, uint32_t n, unsigned w,
                    uint32_t *n_dict, const uint8_t **entries, size_t *codes_off,
                    tl_error *err);

#endif /* TL_ENC_H */
