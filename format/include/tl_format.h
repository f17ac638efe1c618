/*
 * tl_format.h - the segment file format: writer and reader (spec/FORMAT.md).
 *
 * A segment file holds rows of one batch column by column. It is written in
 * one forward pass: header, then row blocks (every column's block for rows
 * [k*block_rows, (k+1)*block_rows)), then the footer (schema, per-column
 * string dictionaries, block index with zone maps and checksums, key/value
 * metadata), then a fixed-size trailer. It is never modified.
 *
 * This library knows bytes only. It reads from memory regions handed to it
 * (a mapping, or buffers the caller filled with pread/io_uring) and writes
 * to a caller-supplied sink. Which I/O path and how many threads is the
 * engine's business.
 *
 * Thread safety: a tlf_seg is immutable after open; any number of threads
 * may decode blocks from it at once, each with its own output buffers.
 */
#ifndef TL_FORMAT_H
#define TL_FORMAT_H

#include <stdint.h>
#include <stddef.h>

#include "tl_error.h"
#include "tl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants (spec/FORMAT.md is normative) ---------------------------- */

#define TLF_MAGIC "\x89TLSEG\r\n" /* 8 bytes, at both ends of the file */
#define TLF_MAGIC_LEN 8
#define TLF_VERSION_MAJOR 1
#define TLF_VERSION_MINOR 1 /* the newest minor this library reads and writes (1.1: timestamp_us) */
#define TLF_HEADER_SIZE 64
#define TLF_TRAILER_SIZE 40
#define TLF_BLOCK_ALIGN 64            /* every block starts 64-byte aligned */
#define TLF_DEFAULT_BLOCK_ROWS 16384
#define TLF_MAX_BLOCK_ROWS (1u << 20) /* a reader rejects larger blocks */
#define TLF_MAX_COLUMNS 4096
#define TLF_MAX_NAME_LEN 1024
#define TLF_ZONE_STR_MAX 64           /* string zone maps keep <= 64 bytes */

typedef enum tlf_encoding {
    TLF_ENC_PLAIN = 0,  /* fixed width in place; strings: offsets + bytes */
    TLF_ENC_RLE = 1,    /* runs of equal values, with cumulative run ends */
    TLF_ENC_DICT = 2,   /* codes (RLE or FOR) into a dictionary: strings the
                           column's, other types but bool the block's */
    TLF_ENC_FOR = 3,    /* integers: frame of reference + bit packing */
    TLF_ENC_DELTA = 4,  /* integers: deltas, FOR bit-packed per miniblock */
    TLF_ENC_SCALED = 5, /* floats: exact integers k with v = k / divisor */
    TLF_ENC_AUTO = 255, /* writer option only: choose by size and speed */
} tlf_encoding;

typedef enum tlf_compression {
    TLF_COMP_NONE = 0,
    TLF_COMP_ZSTD = 1,
    TLF_COMP_AUTO = 255, /* writer option only: zstd when it pays */
} tlf_compression;

/* Zone map flags (tlf_block_info.zone_flags). */
#define TLF_ZONE_HAS_MINMAX 0x01  /* min/max valid (some non-null non-NaN value) */
#define TLF_ZONE_HAS_NAN 0x02     /* float block contains at least one NaN */
#define TLF_ZONE_MIN_INEXACT 0x04 /* string min truncated (still a lower bound) */
#define TLF_ZONE_MAX_INEXACT 0x08 /* string max truncated+incremented (upper bound) */
#define TLF_ZONE_MAX_UNBOUNDED 0x10 /* string max could not be bounded in 64 bytes */

/* How a block with nulls stores its validity (tlf_block_info.validity;
 * spec FMT-R24). Decoding always yields a bitmap. */
#define TLF_VALID_BITMAP 0    /* (n_rows+7)/8 bytes, LSB-first, 1 = present */
#define TLF_VALID_POSITIONS 1 /* the null rows' indices (u16, or u32 when
                                 n_rows > 65536), strictly increasing */

const char *tlf_encoding_name(int enc);    /* "plain", "rle", ...; "?" if unknown */
const char *tlf_compression_name(int comp); /* "none", "zstd"; "?" */

/* ---- writing -------------------------------------------------------------- */

/* Where the writer's bytes go. write() must write all len bytes or fail,
 * filling err. The writer never seeks. */
typedef struct tlf_sink {
    int (*write)(void *ctx, const void *buf, size_t len, tl_error *err);
    void *ctx;
} tlf_sink;

typedef struct tlf_col_opts {
    uint8_t encoding;    /* TLF_ENC_* or TLF_ENC_AUTO (default) */
    uint8_t compression; /* TLF_COMP_* or TLF_COMP_AUTO (default) */
    uint8_t hot;         /* 1: scan-kernel column, keep it fast to decode
                            (AUTO never picks zstd, prefers in-place PLAIN or
                            multi-GB/s encodings) */
} tlf_col_opts;

typedef struct tlf_writer_opts {
    uint32_t block_rows;           /* rows per row block; 0 = default */
    int zstd_level;                /* 0 = default: 3, except level 1 for the
                                      byte-aligned copies of bit-packed
                                      payloads with one byte a value (about
                                      twice as fast there, frames ~1%
                                      smaller); else this level throughout */
    const tlf_col_opts *col_opts;  /* n_cols entries, or NULL = all AUTO */
    uint32_t dict_max_entries;     /* per string column; 0 = default 65536 */
    uint32_t dict_max_bytes;       /* per string column; 0 = default 1 MiB */
} tlf_writer_opts;

typedef struct tlf_seg_writer tlf_seg_writer;

/* Start a segment. cols are copied. Writes the header to sink.
 * Errors: TL_EINVAL (no columns, too many, bad type, duplicate or empty or
 * over-long name, bad option), TL_ENOMEM, sink errors. */
TL_WUR int tlf_seg_writer_open(const tl_coldef *cols, uint32_t n_cols,
                               const tlf_writer_opts *opts, tlf_sink sink,
                               tlf_seg_writer **out, tl_error *err);

/* Append n_rows rows given column by column (cols[i] for column i, as in
 * tl_types.h). Values are copied; full row blocks are encoded and written.
 * Values in null slots are ignored (decoded as 0 / empty string).
 * Errors: TL_EINVAL (string offsets not monotonic, > 4 GiB per block),
 * TL_ENOMEM, sink errors. After any error the writer only accepts free(). */
TL_WUR int tlf_seg_writer_append(tlf_seg_writer *w, const tl_colvec *cols,
                                 uint32_t n_rows, tl_error *err);

/* Add a key/value pair to the footer metadata (both copied, any bytes). */
TL_WUR int tlf_seg_writer_set_meta(tlf_seg_writer *w, const char *key,
                                   const void *value, uint32_t value_len,
                                   tl_error *err);

typedef struct tlf_seg_write_stats {
    uint64_t n_rows;
    uint32_t n_blocks;       /* row blocks */
    uint64_t file_bytes;     /* total bytes written to the sink */
    uint64_t footer_bytes;
} tlf_seg_write_stats;

/* Flush the last partial block, write footer and trailer. stats may be NULL. */
TL_WUR int tlf_seg_writer_finish(tlf_seg_writer *w, tlf_seg_write_stats *stats,
                                 tl_error *err);

/* Free (after finish, or to abandon a segment). NULL-safe. */
void tlf_seg_writer_free(tlf_seg_writer *w);

/* Sink writing to a file descriptor (handles short writes and EINTR).
 * ctx must point to an int fd that outlives the writer. */
int tlf_sink_fd_write(void *ctx, const void *buf, size_t len, tl_error *err);

/* ---- reading -------------------------------------------------------------- */

typedef struct tlf_seg tlf_seg;

typedef union tlf_zval {
    int64_t i;  /* signed ints, timestamp, date */
    uint64_t u; /* unsigned ints, bool */
    double f;   /* float32 (widened exactly), float64 */
} tlf_zval;

typedef struct tlf_block_info {
    uint64_t offset;       /* byte offset of the block in the file */
    uint64_t length;       /* bytes: payload, padding, validity */
    uint64_t first_row;    /* row number of the block's first row */
    uint32_t n_rows;
    uint32_t null_count;
    uint32_t payload_len;  /* stored payload bytes (after compression) */
    uint32_t encoded_len;  /* payload bytes before compression */
    uint64_t decoded_bytes;/* fixed: n_rows*width; string: total bytes */
    uint64_t checksum;     /* XXH3-64 (seed 0) of bytes [offset, offset+length) */
    uint8_t encoding;      /* TLF_ENC_* */
    uint8_t compression;   /* TLF_COMP_* */
    uint8_t zone_flags;    /* TLF_ZONE_* */
    uint8_t inner;         /* SCALED: inner integer encoding; else 0 */
    uint8_t validity;      /* TLF_VALID_*: how the nulls are stored (0 when
                              null_count = 0) */
    tlf_zval min, max;     /* fixed-width types, when HAS_MINMAX */
    const uint8_t *smin, *smax; /* strings: zone bounds (point into footer) */
    uint32_t smin_len, smax_len;
} tlf_block_info;

typedef struct tlf_col_info {
    const char *name;       /* NUL-terminated, owned by the tlf_seg */
    tl_type type;
    uint32_t dict_entries;  /* string columns with a dictionary, else 0 */
    uint64_t null_count;    /* over the whole segment */
    uint64_t stored_bytes;  /* sum of block lengths */
    uint64_t decoded_bytes; /* sum of decoded bytes */
} tlf_col_info;

#define TLF_OPEN_VERIFY_BLOCKS 0x1 /* tlf_seg_open_mem: check every block's
                                      checksum at open (costs one pass) */

/* Open a segment whose whole file is in memory (a mapping or a buffer of
 * `size` bytes that outlives the tlf_seg). `name` is used in messages.
 * Checks magic, version, trailer, footer checksum and every footer field
 * against the file size; never reads outside [base, base+size).
 * Errors: TL_ECORRUPT, TL_EVERSION, TL_ECHECKSUM, TL_ENOMEM. */
TL_WUR int tlf_seg_open_mem(const uint8_t *base, uint64_t size, const char *name,
                            uint32_t flags, tlf_seg **out, tl_error *err);

/* Two-step open for explicit reads (pread, io_uring): parse the last
 * TLF_TRAILER_SIZE bytes of a file of file_size bytes to learn where the
 * footer is, read it, then open from the footer alone. The tlf_seg copies
 * the footer. Block bytes are then read by the caller and handed to
 * tlf_seg_decode(). */
TL_WUR int tlf_seg_parse_trailer(const uint8_t *tail, uint64_t file_size,
                                 const char *name, uint64_t *footer_offset,
                                 uint64_t *footer_len, tl_error *err);
TL_WUR int tlf_seg_open_footer(const uint8_t *footer, uint64_t footer_len,
                               const uint8_t *tail, uint64_t file_size,
                               const char *name, tlf_seg **out, tl_error *err);

void tlf_seg_close(tlf_seg *s); /* NULL-safe */

const char *tlf_seg_name(const tlf_seg *s);
uint64_t tlf_seg_n_rows(const tlf_seg *s);
uint32_t tlf_seg_n_cols(const tlf_seg *s);
uint32_t tlf_seg_n_blocks(const tlf_seg *s); /* row blocks */
uint32_t tlf_seg_block_rows(const tlf_seg *s); /* nominal rows per block */
uint64_t tlf_seg_file_size(const tlf_seg *s);
uint32_t tlf_seg_version_minor(const tlf_seg *s);
/* Column index by name, or -1. */
int tlf_seg_find_col(const tlf_seg *s, const char *name);
/* Pointers valid until tlf_seg_close. col/blk must be in range (asserted). */
const tlf_col_info *tlf_seg_col(const tlf_seg *s, uint32_t col);
const tlf_block_info *tlf_seg_block(const tlf_seg *s, uint32_t col, uint32_t blk);
/* String dictionary entry (col must have dict_entries > idx). */
void tlf_seg_dict_entry(const tlf_seg *s, uint32_t col, uint32_t idx,
                        const uint8_t **bytes, uint32_t *len);
/* Footer metadata lookup: TL_OK and value, or TL_ENOTFOUND. */
int tlf_seg_meta(const tlf_seg *s, const char *key, const uint8_t **value,
                 uint32_t *value_len);

/* Output of a block decode. The caller provides scratch buffers; decode
 * fills the result fields, which may point into the caller's buffers or -
 * zero copy - into the block bytes themselves (PLAIN, uncompressed, when
 * TLF_DECODE_ZERO_COPY is given). Required capacities: see tlf_seg_decode.*/
typedef struct tlf_vec {
    /* in: scratch supplied by the caller */
    void *buf;            /* fixed: values; string: offsets (uint32) */
    size_t buf_cap;
    uint8_t *data_buf;    /* string bytes */
    size_t data_cap;
    uint8_t *valid_buf;   /* validity bitmap */
    size_t valid_cap;
    /* out */
    tl_type type;
    uint32_t n;
    const void *values;       /* fixed-width values */
    const uint8_t *validity;  /* NULL when the block has no nulls; with
                                 ZERO_COPY a stored bitmap is used in place,
                                 null positions are expanded into valid_buf */
    const uint32_t *offsets;  /* strings: n + 1 */
    const uint8_t *data;      /* strings */
    uint64_t scale;           /* 0, or (TLF_DECODE_NARROW) the values are
                                 int32: see TLF_DECODE_NARROW */
} tlf_vec;

#define TLF_DECODE_VERIFY 0x1    /* check the block checksum first */
#define TLF_DECODE_ZERO_COPY 0x2 /* allow results pointing into `bytes` */
/* Hand out int32 values when every value of the block fits, instead of the
 * column's type (for kernels that convert in registers: half the bytes):
 * a float64 SCALED block with an inner DELTA as its k (out->scale = the
 * divisor: value = (double)k / scale, correctly rounded, bit for bit the
 * normal decode), an int64 DELTA block as its values (out->scale = 1).
 * Other blocks, or values beyond int32, decode normally (out->scale = 0).
 * Null slots hold 0 either way. */
#define TLF_DECODE_NARROW 0x4

/* Scratch needed to decode a block: values (fixed: n*width; string:
 * (n+1)*4), string data bytes, validity bytes ((n+7)/8, 0 if no nulls;
 * the decoded validity is always a bitmap, whatever the stored form),
 * and internal scratch is allocated per call only when compressed. */
void tlf_seg_decode_needs(const tlf_seg *s, uint32_t col, uint32_t blk,
                          size_t *buf_bytes, size_t *data_bytes,
                          size_t *valid_bytes);

/* Decode block blk of column col from `bytes`, which hold exactly the
 * block's bytes [info.offset, info.offset + info.length) (from a mapping
 * or read by the caller). Never reads outside bytes[0..len). With
 * TLF_DECODE_VERIFY the checksum is checked first; without it a corrupt
 * block still fails cleanly or yields some values, never a crash.
 * Errors name file, column, block and byte offset: TL_ECHECKSUM,
 * TL_ECORRUPT, TL_EUNSUPPORTED (unknown encoding), TL_EINVAL (scratch too
 * small, len != info.length), TL_ENOMEM. */
TL_WUR int tlf_seg_decode(const tlf_seg *s, uint32_t col, uint32_t blk,
                          const uint8_t *bytes, uint64_t len, uint32_t flags,
                          tlf_vec *out, tl_error *err);

/* The runs of a block without decoding it, for kernels that want contract
 * boundaries: RLE blocks, and DICT blocks whose codes are RLE (the writer
 * picks RLE codes when they are smaller, so sorted keys get them).
 * ends: n_runs cumulative exclusive end rows. values: n_runs entries -
 *  - RLE: values of the column's width;
 *  - DICT: uint32 dictionary codes (every one checked < the dictionary
 *    size). For a string column they index the column dictionary
 *    (tlf_seg_dict_entry); for other types the block dictionary
 *    (tlf_seg_block_dict).
 * These are the stored values: the slot of a null row holds a neighbour's
 * value or code (spec FMT-R23), so mask null rows with the validity
 * (tlf_seg_validity). Pointers into `bytes`, which must be 4-byte aligned.
 * Errors: TL_EUNSUPPORTED when the block is compressed, of another
 * encoding, or DICT with bit-packed (FOR) codes; TL_EINVAL (arguments,
 * len != info.length, misaligned bytes); TL_ECORRUPT (bad runs or codes). */
TL_WUR int tlf_seg_rle_runs(const tlf_seg *s, uint32_t col, uint32_t blk,
                            const uint8_t *bytes, uint64_t len,
                            uint32_t *n_runs, const void **values,
                            const uint32_t **ends, tl_error *err);

/* The block dictionary of a DICT block of a fixed-width column, in place:
 * n_entries values of the column's width, pointing into `bytes` (which
 * must be aligned to that width); code c stands for entry c, bit for bit.
 * Errors: TL_EUNSUPPORTED (block not DICT, or compressed), TL_EINVAL
 * (string column - its codes index the column dictionary, see
 * tlf_seg_dict_entry -, arguments, len != info.length, misaligned bytes),
 * TL_ECORRUPT (bad dictionary header or padding). */
TL_WUR int tlf_seg_block_dict(const tlf_seg *s, uint32_t col, uint32_t blk,
                              const uint8_t *bytes, uint64_t len, uint32_t *n_entries,
                              const void **entries, tl_error *err);

/* The validity bitmap of block blk of column col without decoding its
 * values (for kernels working on runs): *validity = NULL when the block
 * has no nulls; a stored bitmap is returned in place (pointing into
 * `bytes`); null positions (TLF_VALID_POSITIONS) are checked and expanded
 * into valid_buf, which needs (n_rows+7)/8 bytes (tlf_seg_decode_needs).
 * Errors: TL_EINVAL (arguments, len != info.length, scratch too small),
 * TL_ECORRUPT (a bitmap whose zero bits differ from null_count, positions
 * not increasing or out of range). */
TL_WUR int tlf_seg_validity(const tlf_seg *s, uint32_t col, uint32_t blk,
                            const uint8_t *bytes, uint64_t len, uint8_t *valid_buf,
                            size_t valid_cap, const uint8_t **validity, tl_error *err);

/* Convenience: verify every block checksum of a segment opened with
 * tlf_seg_open_mem. */
TL_WUR int tlf_seg_verify_all(const tlf_seg *s, tl_error *err);

/* Helper: map a whole file read-only (MAP_PRIVATE) for tlf_seg_open_mem.
 * Errors: TL_EIO, TL_ENOTFOUND. Empty files map to base=NULL, size=0. */
TL_WUR int tlf_map_file(const char *path, const uint8_t **base, uint64_t *size,
                        tl_error *err);
void tlf_unmap_file(const uint8_t *base, uint64_t size);

#ifdef __cplusplus
}
#endif
#endif /* TL_FORMAT_H */
