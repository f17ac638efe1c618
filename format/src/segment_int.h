/*
 * segment_int.h - internal: the byte layout of a segment file, shared by the
 * writer (segment_writer.c), the reader (segment_reader.c) and the tests.
 * spec/FORMAT.md is written from this table; keep them in step.
 *
 * Loads, stores and alignment helpers come from le_int.h (shared with the
 * encodings); below the layout are the helpers both sides of it need
 * (validity words, null slots, string order, sizes and bounds).
 *
 * Conventions: all integers little-endian; offsets are absolute file offsets
 * unless said "footer-relative" or "section-relative"; lengths in bytes.
 * Checksums are XXH3_64bits with seed 0 (libxxhash).
 *
 * File:  header | blocks (64-aligned, zero padding between) | zero pad to 8
 *        | footer | trailer
 *
 * HEADER (64 bytes at offset 0)
 *   off size type  field
 *   0   8    bytes magic "\x89TLSEG\r\n" (high-bit first byte catches 7-bit
 *                  channels; CR LF catches line-ending conversion)
 *   8   2    u16   version_major = 1 (reader rejects other majors)
 *   10  2    u16   version_minor = 0, or 1 when a column has type
 *                  timestamp_us (FMT-R25; newer minors are readable)
 *   12  4    u32   flags = 0 (reserved; reader rejects nonzero)
 *   16  4    u32   n_cols (must equal the footer's)
 *   20  4    u32   block_rows (must equal the footer's)
 *   24  40   -     reserved, zero (reader rejects nonzero)
 *
 * ROW BLOCKS: for k = 0 .. n_blocks-1, for each column c in schema order,
 * the block of column c holding rows [k*block_rows, min(n_rows,
 * (k+1)*block_rows)). Every block starts at a file offset that is a
 * multiple of 64; the bytes between blocks are zero. Blocks appear in that
 * (k, c) order at strictly increasing offsets, the first at offset >= 64,
 * the last ending at or before footer_offset.
 *
 * BLOCK (at offset O, 64-aligned; length L from the block index)
 *   0        payload_len       payload: the encoded payload (enc.h) of
 *                              encoded_len bytes, or, compression = zstd,
 *                              exactly one zstd frame (with content size =
 *                              encoded_len) of payload_len bytes
 *   P        A - payload_len   zero padding, A = align8(payload_len)
 *   A        V                 validity, present only when null_count > 0,
 *                              in the form the index entry's `validity`
 *                              names (FMT-R24):
 *                              0 bitmap: (n_rows+7)/8 bytes, LSB-first, 1 =
 *                                present; bits >= n_rows zero; exactly
 *                                null_count zero bits
 *                              1 null positions: null_count row indices,
 *                                each pw bytes (pw = 2 when n_rows <= 65536,
 *                                else 4), strictly increasing, < n_rows
 *   L = A + V, V = 0 (no nulls), (n_rows+7)/8 (bitmap) or null_count*pw
 *   checksum = XXH3_64bits(file[O, O+L))
 *   The writer stores positions when they are smaller than the bitmap
 *   (null_count*pw < (n_rows+7)/8), else the bitmap.
 *   Null slots (FMT-R23): PLAIN stores 0 (strings: the empty string); other
 *   encodings store any valid value (the writer repeats the previous
 *   non-null value; DICT strings repeat its code). Decoding sets null
 *   slots to 0 / the empty string (FMT-R5).
 *
 * FOOTER (footer_len bytes at footer_offset; footer_offset is 8-aligned,
 * >= 64, >= end of the last block; footer_offset + footer_len = file size
 * - 40). All section offsets are footer-relative.
 *
 *   Footer header (TLF_FH_SIZE = 112 bytes at footer offset 0):
 *   off size type field
 *   0   4    u32  fh_len: size of this header (112; a reader requires a
 *                 multiple of 8 >= 112 and ignores bytes 112 .. fh_len)
 *   4   4    u32  n_cols (1 .. TLF_MAX_COLUMNS)
 *   8   8    u64  n_rows
 *   16  4    u32  n_blocks (= ceil(n_rows / block_rows))
 *   20  4    u32  block_rows (1 .. TLF_MAX_BLOCK_ROWS)
 *   24  4    u32  entry_size: stride of the block index (72; a reader
 *                 requires a multiple of 8 in 72 .. 4096 and reads the
 *                 first 72 bytes of each entry)
 *   28  4    u32  reserved, 0
 *   32  16   u64,u64 schema section: offset, length
 *   48  16   u64,u64 dictionary section: offset, length
 *   64  16   u64,u64 block index section: offset, length
 *   80  16   u64,u64 string bound pool: offset, length
 *   96  16   u64,u64 metadata section: offset, length
 *   Each section offset is a multiple of 8, >= fh_len; the sections lie in
 *   the order above without overlapping, inside [0, footer_len). Zero bytes
 *   pad between sections.
 *
 *   Schema section: n_cols column records, back to back, each a multiple of
 *   8 bytes; its length is the sum of the record lengths.
 *   0   1    u8   type (tl_type, 1 .. 14)
 *   1   1    u8   flags: bit 0 TLF_COLF_DICT = column has a dictionary
 *                 (only strings; dict_len > 0 exactly when set); other bits
 *                 reserved, 0
 *   2   2    u16  name_len (1 .. TLF_MAX_NAME_LEN; no NUL bytes)
 *   4   4    u32  reserved, 0
 *   8   8    u64  dict_off: dictionary-section-relative offset (8-aligned;
 *                 0 when there is no dictionary)
 *   16  8    u64  dict_len (0 when there is no dictionary)
 *   24  n    name bytes, then zero padding to a multiple of 8
 *
 *   Dictionary (dict_len bytes at dict_off in the dictionary section):
 *   0   4         u32 count (>= 1)
 *   4   4*(c+1)   u32 offsets[count+1]: offsets[0] = 0, non-decreasing
 *   8+4c  offsets[count]  entry bytes; entry i = bytes[offsets[i],
 *                 offsets[i+1]). dict_len = 8 + 4*count + offsets[count].
 *   Entries are in first-seen order; DICT codes index them.
 *
 *   Every dictionary of the section starts 8-aligned (zero padding between).
 *
 *   Block index section: n_cols * n_blocks entries of entry_size bytes; the
 *   entry of (column c, block k) is number c * n_blocks + k. Section length
 *   = n_cols * n_blocks * entry_size.
 *   0   8    u64  offset (absolute, multiple of 64)
 *   8   8    u64  length (see BLOCK)
 *   16  4    u32  n_rows (block_rows, the last block: the remainder)
 *   20  4    u32  null_count (<= n_rows)
 *   24  4    u32  payload_len
 *   28  4    u32  encoded_len (= payload_len when not compressed)
 *   32  8    u64  decoded_bytes: fixed width n_rows*width; strings the
 *                 total bytes of the block's values (< 2^32)
 *   40  8    u64  checksum (XXH3_64bits of the block bytes)
 *   48  1    u8   encoding (TLF_ENC_*; unknown values fail at decode)
 *   49  1    u8   compression (TLF_COMP_*; unknown values fail at decode)
 *   50  1    u8   zone_flags (TLF_ZONE_*; bits >= 0x20 reserved, 0)
 *   51  1    u8   inner: SCALED: the inner encoding of its payload; else 0
 *   52  1    u8   validity: TLF_VALID_BITMAP (0) or TLF_VALID_POSITIONS
 *                 (1); 0 when null_count = 0; other values are rejected
 *   53  3    -    reserved, 0
 *   56  8         min: i64 (signed ints, timestamp, date), u64 (unsigned
 *                 ints, bool), f64 bits (floats; float32 widened), or for
 *                 strings u32 pool offset, u32 length (<= TLF_ZONE_STR_MAX)
 *   64  8         max: likewise
 *   min and max are zero unless HAS_MINMAX; a string max is zero when
 *   MAX_UNBOUNDED. HAS_NAN only on floats; the three string flags only on
 *   strings; MAX_INEXACT and MAX_UNBOUNDED never together. min <= max.
 *
 *   String bound pool: the bytes string zone bounds point into.
 *
 *   Metadata section: u32 count; then count times { u32 klen, key bytes,
 *   u32 vlen, value bytes }, packed, filling the section exactly.
 *
 * TRAILER (40 bytes at file_size - 40)
 *   0   8    u64  footer_offset
 *   8   8    u64  footer_len (>= 112)
 *   16  8    u64  footer_checksum: XXH3_64bits of the footer bytes
 *   24  2    u16  version_major (= header's)
 *   26  2    u16  version_minor (= header's)
 *   28  4    u32  reserved, 0
 *   32  8    bytes magic (as in the header)
 */
#ifndef TL_SEGMENT_INT_H
#define TL_SEGMENT_INT_H

#include <stdint.h>
#include <string.h>

#include "le_int.h"
#include "tl_format.h"
#include "tl_types.h"

/* The minor version that introduced type timestamp_us (15): a file with
 * such a column is written as 1.1 (a 1.0 reader rejects the unknown type
 * id at open, FMT-R25), every other file as 1.0 (TLF_VMINOR_BASE), so files
 * without it stay byte-identical to 1.0 ones. The writer uses these, not
 * tl_format.h's TLF_VERSION_MINOR (the version this library implements). */
#define TLF_VMINOR_BASE 0
#define TLF_VMINOR_TIMESTAMP_US 1

/* header field offsets */
#define TLF_HDR_MAGIC 0
#define TLF_HDR_VMAJOR 8
#define TLF_HDR_VMINOR 10
#define TLF_HDR_FLAGS 12
#define TLF_HDR_NCOLS 16
#define TLF_HDR_BLOCK_ROWS 20
#define TLF_HDR_RESERVED 24

/* trailer field offsets (relative to the trailer start) */
#define TLF_TRL_FOOTER_OFF 0
#define TLF_TRL_FOOTER_LEN 8
#define TLF_TRL_FOOTER_SUM 16
#define TLF_TRL_VMAJOR 24
#define TLF_TRL_VMINOR 26
#define TLF_TRL_RESERVED 28
#define TLF_TRL_MAGIC 32

/* footer header */
#define TLF_FH_SIZE 112
#define TLF_FH_LEN 0
#define TLF_FH_NCOLS 4
#define TLF_FH_NROWS 8
#define TLF_FH_NBLOCKS 16
#define TLF_FH_BLOCK_ROWS 20
#define TLF_FH_ENTRY_SIZE 24
#define TLF_FH_RESERVED 28
#define TLF_FH_SECTIONS 32 /* 5 x (u64 off, u64 len) */
enum { TLF_SEC_SCHEMA, TLF_SEC_DICT, TLF_SEC_INDEX, TLF_SEC_POOL, TLF_SEC_META,
       TLF_N_SECTIONS };
#define TLF_MAX_ENTRY_SIZE 4096

/* schema record */
#define TLF_COL_REC_FIXED 24
#define TLF_COLF_DICT 0x01

/* block index entry */
#define TLF_ENTRY_SIZE 72
#define TLF_BI_OFFSET 0
#define TLF_BI_LENGTH 8
#define TLF_BI_NROWS 16
#define TLF_BI_NULLS 20
#define TLF_BI_PAYLOAD_LEN 24
#define TLF_BI_ENCODED_LEN 28
#define TLF_BI_DECODED 32
#define TLF_BI_CHECKSUM 40
#define TLF_BI_ENCODING 48
#define TLF_BI_COMPRESSION 49
#define TLF_BI_ZONE_FLAGS 50
#define TLF_BI_INNER 51
#define TLF_BI_VALIDITY 52
#define TLF_BI_RESERVED 53 /* 3 bytes */
#define TLF_BI_RESERVED_LEN 3
#define TLF_BI_MIN 56
#define TLF_BI_MAX 64

#define TLF_ZONE_KNOWN_FLAGS 0x1f

/* Word k of the validity bitmap vb of n rows (rows 64k .. 64k+63), 1 =
 * present; bits past n read as 1, and no byte past (n+7)/8 is read. */
static inline uint64_t tlf_valid_word(const uint8_t *vb, uint32_t n, uint32_t k)
{
    uint32_t left = n - 64 * k;
    if (left >= 64)
        return tlf_ld64(vb + 8 * (size_t)k);
    uint64_t x = 0;
    memcpy(&x, vb + 8 * (size_t)k, (left + 7) / 8);
    return x | (~(uint64_t)0 << left);
}

/* Zero the w-byte slots (w in 1, 2, 4, 8) of the null rows of n values
 * (FMT-R5, FMT-R23), a bitmap word at a time: only null bits cost
 * anything. */
static inline void tlf_zero_nulls(uint8_t *v, size_t w, const uint8_t *vb, uint32_t n)
{
    for (uint32_t k = 0; k < (n + 63) / 64; k++) {
        uint64_t nulls = ~tlf_valid_word(vb, n, k);
        while (nulls) {
            size_t i = 64 * (size_t)k + (size_t)__builtin_ctzll(nulls);
            switch (w) { /* constant sizes: plain stores */
            case 1: v[i] = 0; break;
            case 2: memset(v + 2 * i, 0, 2); break;
            case 4: memset(v + 4 * i, 0, 4); break;
            default: memset(v + 8 * i, 0, 8); break;
            }
            nulls &= nulls - 1;
        }
    }
}

/* Bytewise order of byte strings (memcmp; a proper prefix sorts first):
 * string zone maps, written and checked with the same comparison. */
static inline int tlf_str_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t m = alen < blen ? alen : blen;
    int r = m ? memcmp(a, b, m) : 0;
    if (r)
        return r;
    return alen < blen ? -1 : alen > blen;
}

/* Does encoding enc apply to type? (known encodings only) */
static inline int tlf_enc_applies(int type, int enc)
{
    switch (enc) {
    case TLF_ENC_PLAIN: return 1;
    case TLF_ENC_RLE: return type != TL_STRING;
    case TLF_ENC_DICT: return type != TL_BOOL; /* strings: column dictionary */
    case TLF_ENC_FOR:
    case TLF_ENC_DELTA:
        return tl_type_is_signed_int(type) || tl_type_is_unsigned_int(type);
    case TLF_ENC_SCALED: return tl_type_is_float(type);
    default: return 0;
    }
}

static inline int tlf_enc_known(int enc)
{
    return enc >= TLF_ENC_PLAIN && enc <= TLF_ENC_SCALED;
}

/* Bytes per null position in a block of n_rows rows (FMT-R24). */
static inline unsigned tlf_valid_pos_width(uint32_t n_rows)
{
    return n_rows <= 65536 ? 2 : 4;
}

/* Bytes of a block's validity section (0 without nulls; validity must be
 * a known TLF_VALID_* value). */
static inline uint64_t tlf_validity_bytes(uint32_t n_rows, uint32_t null_count,
                                          int validity)
{
    if (null_count == 0)
        return 0;
    if (validity == TLF_VALID_POSITIONS)
        return (uint64_t)null_count * tlf_valid_pos_width(n_rows);
    return ((uint64_t)n_rows + 7) / 8;
}

/* The validity form the writer picks: positions when strictly smaller. */
static inline int tlf_validity_choose(uint32_t n_rows, uint32_t null_count)
{
    return null_count &&
                   (uint64_t)null_count * tlf_valid_pos_width(n_rows) <
                       ((uint64_t)n_rows + 7) / 8
               ? TLF_VALID_POSITIONS
               : TLF_VALID_BITMAP;
}

/* Bytes a block occupies given its payload length, rows, nulls and
 * validity form (FMT-R9). */
static inline uint64_t tlf_block_length(uint64_t payload_len, uint32_t n_rows,
                                        uint32_t null_count, int validity)
{
    return tlf_align_up(payload_len, 8) +
           tlf_validity_bytes(n_rows, null_count, validity);
}

/* A generous upper bound on the encoded payload length of n values of type
 * `type` in encoding enc (PLAIN: the exact length), used by the reader to
 * reject absurd lengths before allocating. decoded is the block's
 * decoded_bytes (strings). Returns 0 for an unknown encoding. */
static inline uint64_t tlf_encoded_bound(int type, int enc, uint64_t n,
                                         uint64_t decoded)
{
    uint64_t w = tl_type_width(type);
    uint64_t n_mini = n ? (n - 1 + 255) / 256 : 0;
    switch (enc) {
    case TLF_ENC_PLAIN:
        return type == TL_STRING ? 4 * (n + 1) + decoded : n * w;
    case TLF_ENC_DICT: /* [entries +] codes section (RLE or FOR) */
        return type == TL_STRING ? 40 + 8 * n : 56 + n * (w + 8);
    case TLF_ENC_RLE: return 16 + n * w + 4 * n;
    case TLF_ENC_FOR: return 24 + 8 * n; /* exact for bit width 64 */
    case TLF_ENC_DELTA: return 40 + 24 * n_mini + 8 * n;
    case TLF_ENC_SCALED: return 80 + 24 * n_mini + 12 * n;
    default: return 0;
    }
}

#endif /* TL_SEGMENT_INT_H */
