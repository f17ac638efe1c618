/*
 * pq_page.h - internal to format/: the byte-level parts of Parquet pages
 * (parquet-format Encodings.md and Compression.md). Owned by pq_page.c
 * (encodings) and pq_codec.c (compression codecs, CRC-32, codec names).
 *
 * Conventions shared by every decoder below:
 *   - src[0 .. len) is the only memory read; outputs are written only up to
 *     the capacity the caller states (n values, data_cap bytes); nothing is
 *     allocated (no count read from the bytes sizes any allocation).
 *   - off0 is the offset of src[0] inside the page (or wherever the caller
 *     measures from); messages report "byte offset <off0 + k>". Callers
 *     prefix file / row group / column / page with tl_error_prefix().
 *   - Malformed or short input (including a bit width read from the data
 *     beyond what the spec allows) -> TL_ECORRUPT; caller mistakes (a bit
 *     width argument out of range, value width 0, NULL output, data_cap
 *     below what the contract says is needed) -> TL_EINVAL.
 *   - *consumed (may be NULL) receives how many bytes of src the encoded
 *     values occupied.
 * Byte arrays are produced as tl_types.h TL_STRING: uint32 offsets and a
 * byte buffer. The offsets are written as offs[0] = base, offs[i + 1] =
 * offs[i] + len(value i), and value bytes go to data[offs[i] ..
 * offs[i + 1]), so consecutive pages append into one chunk buffer
 * (base = bytes already used; data_cap = total capacity of data, counted
 * from data[0]). A total past UINT32_MAX is TL_EUNSUPPORTED.
 */
#ifndef TL_PQ_PAGE_H
#define TL_PQ_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tl_error.h"
#include "tl_parquet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RLE / bit-packed hybrid (Encodings.md "RLE") -------------------------
 * Runs: ULEB128 header h; h & 1 = 0: RLE run of h >> 1 copies of a value
 * stored in ceil(bw / 8) little-endian bytes; h & 1 = 1: (h >> 1) groups of
 * 8 values bit-packed LSB first, bw bits each. Exactly n values are
 * decoded; the last bit-packed group may hold padding values past n (and
 * its trailing bytes may be absent when they only hold padding); any other
 * shortfall is TL_ECORRUPT, as is an RLE value >= 2^bw (so every decoded
 * value is < 2^bw). bw is 0..32 (0: every value is 0, no bytes need
 * follow). */

/* n values of width bw (0..32) into out[0..n). */
TL_WUR int tlf_pq_hybrid_decode32(const uint8_t *src, size_t len, unsigned bw,
                                  uint32_t *out, size_t n, size_t off0,
                                  size_t *consumed, tl_error *err);
/* The same with bw 0..8 and one byte per value (levels, RLE booleans). */
TL_WUR int tlf_pq_hybrid_decode8(const uint8_t *src, size_t len, unsigned bw,
                                 uint8_t *out, size_t n, size_t off0,
                                 size_t *consumed, tl_error *err);
/* bw = 1 straight into a bitmap: bit (bit0 + i) of bm (LSB first) := value
 * i, for i < n; other bits of bm are left alone. *n_set (may be NULL)
 * receives how many of the n values are 1. For flat OPTIONAL columns the
 * definition levels are exactly the validity bitmap. */
TL_WUR int tlf_pq_hybrid_decode_bits(const uint8_t *src, size_t len,
                                     uint8_t *bm, uint64_t bit0, size_t n,
                                     uint64_t *n_set, size_t off0,
                                     size_t *consumed, tl_error *err);

/* Levels of a DATA_PAGE (v1) and RLE-encoded BOOLEAN values: a 4-byte
 * little-endian length L, then L bytes of hybrid data. *consumed = 4 + L.
 * bw 0..8 (a level bit width; 1 for booleans). */
TL_WUR int tlf_pq_levels_v1(const uint8_t *src, size_t len, unsigned bw,
                            uint8_t *out, size_t n, size_t off0,
                            size_t *consumed, tl_error *err);
/* Levels of a DATA_PAGE_V2: no prefix, len is the level byte length from
 * the page header (the bytes need not all be used). */
TL_WUR int tlf_pq_levels_v2(const uint8_t *src, size_t len, unsigned bw,
                            uint8_t *out, size_t n, size_t off0,
                            tl_error *err);
/* Bitmap forms of the two above for bw = 1 (see tlf_pq_hybrid_decode_bits). */
TL_WUR int tlf_pq_levels_v1_bits(const uint8_t *src, size_t len, uint8_t *bm,
                                 uint64_t bit0, size_t n, uint64_t *n_set,
                                 size_t off0, size_t *consumed,
                                 tl_error *err);
TL_WUR int tlf_pq_levels_v2_bits(const uint8_t *src, size_t len, uint8_t *bm,
                                 uint64_t bit0, size_t n, uint64_t *n_set,
                                 size_t off0, tl_error *err);

/* Dictionary indices (RLE_DICTIONARY / PLAIN_DICTIONARY data pages): one
 * byte bit width (0..32), then hybrid data for n indices; every index must
 * be < dict_size (checked after decoding with a max reduction; the message
 * names the first bad value's position). */
TL_WUR int tlf_pq_dict_indices(const uint8_t *src, size_t len, uint32_t *out,
                               size_t n, uint32_t dict_size, size_t off0,
                               tl_error *err);

/* Bit width needed for values 0..max_value (0 for max_value 0). */
unsigned tlf_pq_bit_width(uint64_t max_value);

/* ---- hybrid encoder (writer) ----------------------------------------------
 * Repeats of >= 8 equal values become RLE runs, everything else bit-packed
 * groups of 8 (the last group padded with zeros). Never fails given a dst
 * of tlf_pq_hybrid_bound(n, bw) bytes; returns the bytes written. */
size_t tlf_pq_hybrid_bound(size_t n, unsigned bw);
size_t tlf_pq_hybrid_encode32(const uint32_t *v, size_t n, unsigned bw,
                              uint8_t *dst);
size_t tlf_pq_hybrid_encode8(const uint8_t *v, size_t n, unsigned bw,
                             uint8_t *dst);
/* bw = 1 from a bitmap: value i = bit (bit0 + i) of bm (definition levels
 * of a flat OPTIONAL column from its validity; bm NULL = all ones). */
size_t tlf_pq_hybrid_encode_bits(const uint8_t *bm, uint64_t bit0, size_t n,
                                 uint8_t *dst);

/* Bit-packing, LSB first (the bit-packed runs and BOOLEAN PLAIN): n values
 * of width bw (0..32) into ceil(n * bw / 8) bytes; unpack the reverse. The
 * caller guarantees the sizes (these do not check). */
void tlf_pq_bitpack32(const uint32_t *v, size_t n, unsigned bw, uint8_t *dst);
void tlf_pq_bitunpack32(const uint8_t *src, size_t n, unsigned bw,
                        uint32_t *out);

/* ---- PLAIN ---------------------------------------------------------------- */

/* Fixed-width PLAIN (INT32 4, INT64 8, INT96 12, FLOAT 4, DOUBLE 8,
 * FIXED_LEN_BYTE_ARRAY k): n * width bytes copied to out. */
TL_WUR int tlf_pq_plain_fixed(const uint8_t *src, size_t len, size_t width,
                              void *out, size_t n, size_t off0,
                              size_t *consumed, tl_error *err);
/* BOOLEAN PLAIN: n bits LSB first -> one byte 0/1 per value. */
TL_WUR int tlf_pq_plain_bool(const uint8_t *src, size_t len, uint8_t *out,
                             size_t n, size_t off0, size_t *consumed,
                             tl_error *err);
/* BYTE_ARRAY PLAIN: per value a 4-byte little-endian length then the
 * bytes. offs has n + 1 entries (see the header comment); the data bytes
 * needed are at most len - 4 * n. */
TL_WUR int tlf_pq_plain_byte_array(const uint8_t *src, size_t len,
                                   uint32_t *offs, uint32_t base,
                                   uint8_t *data, size_t data_cap, size_t n,
                                   size_t off0, size_t *consumed,
                                   tl_error *err);
/* Writer helpers: PLAIN BYTE_ARRAY of values offs[i]..offs[i+1] of data
 * (4 * n + offs[n] - offs[0] bytes; returns the bytes written), and
 * BOOLEAN PLAIN of one byte per value (ceil(n / 8) bytes). */
size_t tlf_pq_plain_byte_array_encode(const uint32_t *offs,
                                      const uint8_t *data, size_t n,
                                      uint8_t *dst);
size_t tlf_pq_plain_bool_encode(const uint8_t *v, size_t n, uint8_t *dst);

/* ---- DELTA_BINARY_PACKED -------------------------------------------------
 * Header: ULEB128 block size (multiple of 128), miniblocks per block
 * (block size / miniblocks a multiple of 32), total value count, zigzag
 * ULEB128 first value; then blocks: zigzag ULEB128 min delta, one bit
 * width byte per miniblock, the miniblocks. Arithmetic wraps (INT32 modulo
 * 2^32). The header's total count must equal n. *consumed covers the whole
 * encoding (to the end of the last miniblock holding a value). */
TL_WUR int tlf_pq_delta_decode32(const uint8_t *src, size_t len, int32_t *out,
                                 size_t n, size_t off0, size_t *consumed,
                                 tl_error *err);
TL_WUR int tlf_pq_delta_decode64(const uint8_t *src, size_t len, int64_t *out,
                                 size_t n, size_t off0, size_t *consumed,
                                 tl_error *err);
/* The total value count of the header at src (to size outputs, after the
 * caller bounds it). */
TL_WUR int tlf_pq_delta_count(const uint8_t *src, size_t len,
                              uint64_t *total, size_t off0, tl_error *err);

/* DELTA_LENGTH_BYTE_ARRAY: DELTA_BINARY_PACKED lengths (count n), then the
 * concatenated bytes. Output as for PLAIN BYTE_ARRAY; the data bytes needed
 * are at most len. */
TL_WUR int tlf_pq_delta_length_decode(const uint8_t *src, size_t len,
                                      uint32_t *offs, uint32_t base,
                                      uint8_t *data, size_t data_cap, size_t n,
                                      size_t off0, size_t *consumed,
                                      tl_error *err);
/* DELTA_BYTE_ARRAY: DELTA_BINARY_PACKED prefix lengths, then the suffixes
 * as DELTA_LENGTH_BYTE_ARRAY; value i = first prefix[i] bytes of value
 * i - 1, then suffix i (a prefix longer than the previous value ->
 * TL_ECORRUPT). The decoded bytes can exceed len: call
 * tlf_pq_delta_byte_array_size first (it validates everything and gives
 * the data bytes needed), bound it, then decode. */
TL_WUR int tlf_pq_delta_byte_array_size(const uint8_t *src, size_t len,
                                        size_t n, uint64_t *data_bytes,
                                        size_t off0, tl_error *err);
TL_WUR int tlf_pq_delta_byte_array_decode(const uint8_t *src, size_t len,
                                          uint32_t *offs, uint32_t base,
                                          uint8_t *data, size_t data_cap,
                                          size_t n, size_t off0,
                                          size_t *consumed, tl_error *err);

/* ---- BYTE_STREAM_SPLIT ---------------------------------------------------
 * width k streams of S = len / k bytes each (len % k must be 0, S >= n);
 * byte j of value i is src[j * S + i]. FLOAT 4, DOUBLE 8, INT32 4, INT64 8,
 * FIXED_LEN_BYTE_ARRAY k (FLOAT16: 2). out gets n * k bytes. */
TL_WUR int tlf_pq_bss_decode(const uint8_t *src, size_t len, size_t width,
                             void *out, size_t n, size_t off0,
                             tl_error *err);

/* ---- codecs (pq_codec.c) -------------------------------------------------
 * A context caches library state (zstd contexts, inflate/deflate streams)
 * between calls; one per thread. Every function accepting a ctx also
 * accepts NULL (then state is made and dropped per call). */
typedef struct tlf_pq_codec_ctx tlf_pq_codec_ctx;
tlf_pq_codec_ctx *tlf_pq_codec_ctx_new(void); /* NULL on ENOMEM */
void tlf_pq_codec_ctx_free(tlf_pq_codec_ctx *ctx); /* NULL-safe */

/* Decompress src[0..src_len) into exactly expected_len bytes of dst.
 * UNCOMPRESSED, SNAPPY, GZIP (one or more concatenated gzip members; a
 * zlib stream is accepted too), BROTLI, ZSTD (one or more frames), LZ4_RAW,
 * and the deprecated LZ4 (5): Hadoop framing, else an LZ4 frame, else a raw
 * LZ4 block (what old writers produced). Output that would be shorter or
 * longer than expected_len -> TL_ECORRUPT; LZO and unknown codecs ->
 * TL_EUNSUPPORTED naming the codec. Empty input for expected_len 0 is OK. */
TL_WUR int tlf_pq_decompress(tlf_pq_codec_ctx *ctx, int codec,
                             const uint8_t *src, size_t src_len, uint8_t *dst,
                             size_t expected_len, tl_error *err);

/* Largest compressed size of src_len bytes with codec (UNCOMPRESSED,
 * SNAPPY, GZIP, ZSTD, LZ4_RAW, BROTLI); 0 for a codec we cannot write. */
size_t tlf_pq_codec_bound(int codec, size_t src_len);
/* Compress into dst[0..dst_cap) (dst_cap >= tlf_pq_codec_bound(...)).
 * level: ZSTD level (0 = 3), GZIP level (0 = 6), BROTLI quality (0 = 5);
 * ignored otherwise. TL_EUNSUPPORTED for LZO/LZ4/unknown codecs. */
TL_WUR int tlf_pq_compress(tlf_pq_codec_ctx *ctx, int codec, int level,
                           const uint8_t *src, size_t src_len, uint8_t *dst,
                           size_t dst_cap, size_t *out_len, tl_error *err);

/* Standard CRC-32 (ISO-HDLC, as zlib crc32) — the page header's crc field
 * covers the page bytes that follow the header (compressed, as stored).
 * Start with crc = 0 and chain. */
uint32_t tlf_pq_crc32(uint32_t crc, const void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* TL_PQ_PAGE_H */
