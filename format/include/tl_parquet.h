/*
 * tl_parquet.h - Parquet files, hand-written from the parquet-format
 * specification (parquet.thrift, Encodings.md, LogicalTypes.md,
 * Compression.md, PageIndex.md): a streaming writer and a bounded reader
 * of flat files. Knows bytes only (no tables, no logs).
 *
 * Type mapping (spec/PARQUET.md is normative):
 *   write  TL_BOOL -> BOOLEAN; TL_INT8/16/32 -> INT32 + INTEGER(8/16/32,signed);
 *          TL_INT64 -> INT64 + INTEGER(64,signed); TL_UINT8/16/32 -> INT32 +
 *          INTEGER(w,unsigned); TL_UINT64 -> INT64 + INTEGER(64,unsigned);
 *          TL_FLOAT32 -> FLOAT; TL_FLOAT64 -> DOUBLE; TL_DATE -> INT32 + DATE;
 *          TL_TIMESTAMP -> INT64 + TIMESTAMP(isAdjustedToUTC=true, NANOS), or
 *          MICROS when opts.timestamp_micros (values floored to whole µs);
 *          TL_TIMESTAMP_US -> INT64 + TIMESTAMP(isAdjustedToUTC=true,
 *          MICROS) in both modes (values as they are);
 *          TL_STRING -> BYTE_ARRAY + STRING. Legacy converted_type is written
 *          alongside wherever one exists (INT_8.., UINT_8.., DATE, UTF8,
 *          TIMESTAMP_MICROS).
 *   read   every flat column decodes to one tl_type (tl_pq_colinfo.type):
 *          BOOLEAN -> TL_BOOL; INT32 -> TL_INT32 (or INT8/16, UINT8/16/32 per
 *          the INTEGER logical / converted type); INT64 -> TL_INT64 / TL_UINT64;
 *          DATE -> TL_DATE; INT64 TIMESTAMP(ms/us/ns) and INT96 -> TL_TIMESTAMP
 *          as int64 in the unit reported by the column buffer (ts_unit: the
 *          stored unit; INT96 -> ns, or µs for a chunk whose values do not fit
 *          int64 nanoseconds; ts_sub_us_dropped counts the values whose
 *          sub-µs nanoseconds that floor dropped); the importer maps TIMESTAMP
 *          columns onto TL_TIMESTAMP or TL_TIMESTAMP_US table columns (see
 *          spec/PARQUET.md PQ-I rules); FLOAT -> TL_FLOAT32; FLOAT16 -> TL_FLOAT32;
 *          DOUBLE -> TL_FLOAT64; DECIMAL with precision <= 15 -> TL_FLOAT64
 *          (nearest double of the exact decimal), larger precision ->
 *          TL_STRING holding the exact decimal text; BYTE_ARRAY (STRING/UTF8/
 *          ENUM/JSON or none) and FIXED_LEN_BYTE_ARRAY without a logical type ->
 *          TL_STRING (raw bytes; colinfo.is_blob says whether text was
 *          declared); unknown logical types fall back to the physical type.
 *          Nested schemas, encryption and LZO are refused with
 *          TL_EUNSUPPORTED.
 * Every length, count, offset and size taken from the file is checked
 * against the file's size and hard limits before it is used; errors name the
 * file, row group, column, page and byte offset.
 */
#ifndef TL_PARQUET_H
#define TL_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "tl_error.h"
#include "tl_format.h"
#include "tl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Codec ids are Parquet's CompressionCodec values. */
typedef enum tl_pq_codec {
    TL_PQ_UNCOMPRESSED = 0,
    TL_PQ_SNAPPY = 1,
    TL_PQ_GZIP = 2,
    TL_PQ_LZO = 3,
    TL_PQ_BROTLI = 4,
    TL_PQ_LZ4 = 5, /* deprecated: read (Hadoop framing, LZ4 frame or one
                      raw block, tried in that order), never written */
    TL_PQ_ZSTD = 6,
    TL_PQ_LZ4_RAW = 7,
} tl_pq_codec;

/* "uncompressed", "snappy", "gzip", "lzo", "brotli", "lz4", "zstd",
 * "lz4_raw"; "?" if unknown. */
const char *tl_pq_codec_name(int codec);
/* Parse one of the names above (also "none" = uncompressed). TL_EINVAL if
 * unknown. */
int tl_pq_codec_parse(const char *name, int *out, tl_error *err);

/* ---- writing -------------------------------------------------------------- */

typedef struct tl_pq_sorting_col {
    uint32_t col; /* index into the writer's columns */
    uint8_t descending;
    uint8_t nulls_first;
} tl_pq_sorting_col;

typedef struct tl_pq_kv {
    const char *key;
    const char *value;
} tl_pq_kv;

typedef struct tl_pq_write_opts {
    int codec;                 /* UNCOMPRESSED, SNAPPY or ZSTD (default) */
    int zstd_level;            /* 0 = default (3) */
    uint64_t row_group_rows;   /* 0 = default 1,048,576 */
    uint32_t page_rows;        /* max rows per data page; 0 = default 20,000 */
    uint32_t page_bytes;       /* target uncompressed page size; 0 = 1 MiB */
    uint32_t dict_max_bytes;   /* string dictionary limit per chunk before
                                  falling back to PLAIN; 0 = 1 MiB */
    uint8_t timestamp_micros;  /* 1: TIMESTAMP(MICROS) (Spark); 0: NANOS */
    uint8_t data_page_v2;      /* 1: DATA_PAGE_V2; 0: v1 (default) */
    uint8_t no_page_index;     /* 1: omit ColumnIndex/OffsetIndex */
    const tl_pq_sorting_col *sorting; /* written as each row group's
                                         sorting_columns; the caller
                                         guarantees the order */
    uint32_t n_sorting;
    const tl_pq_kv *kv;        /* FileMetaData.key_value_metadata (copied) */
    uint32_t n_kv;
    const char *created_by;    /* NULL = "ticklake version X.Y.Z (build B)" */
} tl_pq_write_opts;

void tl_pq_write_opts_default(tl_pq_write_opts *opts);

typedef struct tl_pq_writer tl_pq_writer;

/* Start a file: writes "PAR1" to sink. cols/optional are copied.
 * optional[i] = 1 writes column i OPTIONAL (definition levels), 0 REQUIRED
 * (then a null in column i is TL_EINVAL); optional NULL = all OPTIONAL.
 * Errors: TL_EINVAL (no columns, bad type, empty/duplicate name, bad option),
 * TL_EUNSUPPORTED (codec not supported for writing), TL_ENOMEM, sink errors. */
TL_WUR int tl_pq_writer_open(const tl_coldef *cols, uint32_t n_cols,
                             const uint8_t *optional,
                             const tl_pq_write_opts *opts, tlf_sink sink,
                             tl_pq_writer **out, tl_error *err);

/* Append n rows given column by column (tl_types.h layout). Values are
 * encoded as they arrive (memory stays bounded by one row group's encoded
 * bytes); a row group is written each time row_group_rows rows are
 * buffered. Errors: TL_EINVAL, TL_ENOMEM, codec and sink errors; after any
 * error the writer only accepts free(). */
TL_WUR int tl_pq_writer_write(tl_pq_writer *w, const tl_colvec *cols,
                              uint64_t n, tl_error *err);

/* End the current row group now (no-op when it is empty), e.g. at a
 * partition boundary. */
TL_WUR int tl_pq_writer_end_row_group(tl_pq_writer *w, tl_error *err);

/* Per-column statistics over the whole file (for Delta add stats). For
 * strings min/max point into writer-owned copies valid until free(); floats
 * exclude NaN (has_minmax = 0 when every value is null or NaN). */
typedef struct tl_pq_col_stats {
    uint8_t has_minmax;
    tlf_zval min, max;        /* ints/timestamps/dates as i64 or u64, floats
                                 as f64, bool as u64 */
    const uint8_t *smin, *smax; /* TL_STRING */
    uint32_t smin_len, smax_len;
    uint64_t null_count;
} tl_pq_col_stats;

typedef struct tl_pq_write_stats {
    uint64_t rows;
    uint32_t row_groups;
    uint64_t file_bytes;
    const tl_pq_col_stats *cols; /* n_cols entries, owned by the writer */
} tl_pq_write_stats;

/* Write the last row group, the page indexes, the footer and the trailer.
 * stats may be NULL. The caller fsyncs/renames the file. */
TL_WUR int tl_pq_writer_close(tl_pq_writer *w, tl_pq_write_stats *stats,
                              tl_error *err);

/* NULL-safe; frees everything including the stats of close(). */
void tl_pq_writer_free(tl_pq_writer *w);

/* ---- reading -------------------------------------------------------------- */

/* Parquet physical types. */
enum {
    TL_PQ_BOOLEAN = 0,
    TL_PQ_INT32 = 1,
    TL_PQ_INT64 = 2,
    TL_PQ_INT96 = 3,
    TL_PQ_FLOAT = 4,
    TL_PQ_DOUBLE = 5,
    TL_PQ_BYTE_ARRAY = 6,
    TL_PQ_FIXED_LEN_BYTE_ARRAY = 7,
};

/* Timestamp units of decoded TL_TIMESTAMP values. */
enum { TL_PQ_MILLIS = 0, TL_PQ_MICROS = 1, TL_PQ_NANOS = 2 };

typedef struct tl_pq_colinfo {
    const char *name;     /* leaf name (flat schema: path of length 1) */
    int physical;         /* TL_PQ_BOOLEAN.. */
    int32_t type_length;  /* FIXED_LEN_BYTE_ARRAY width, else 0 */
    uint8_t optional;     /* OPTIONAL (1) or REQUIRED (0) */
    tl_type type;         /* decoded representation */
    uint8_t is_blob;      /* TL_STRING without STRING/UTF8/ENUM/JSON */
    uint8_t is_decimal;   /* DECIMAL logical/converted type */
    int32_t decimal_precision, decimal_scale;
    uint8_t is_float16;
    int ts_unit;          /* TL_PQ_* stored unit for TIMESTAMP columns */
    uint8_t ts_utc;       /* isAdjustedToUTC (INT96: 0) */
    const char *desc;     /* e.g. "INT64/TIMESTAMP(UTC,MICROS)" for messages */
} tl_pq_colinfo;

typedef struct tl_pq_file tl_pq_file;

/* Open a file and parse its footer (pread; the file is not mapped). path is
 * used in messages. Checks the trailer magic, footer length, schema (flat
 * only), row-group/column-chunk consistency; refuses encryption. */
TL_WUR int tl_pq_open(const char *path, tl_pq_file **out, tl_error *err);
/* The same over bytes in memory (not copied; must outlive the file). name
 * is used in messages. */
TL_WUR int tl_pq_open_mem(const void *buf, size_t len, const char *name,
                          tl_pq_file **out, tl_error *err);
void tl_pq_close(tl_pq_file *f); /* NULL-safe */

uint32_t tl_pq_n_cols(const tl_pq_file *f);
const tl_pq_colinfo *tl_pq_col(const tl_pq_file *f, uint32_t i);
uint64_t tl_pq_n_rows(const tl_pq_file *f);
uint32_t tl_pq_n_row_groups(const tl_pq_file *f);
uint64_t tl_pq_row_group_rows(const tl_pq_file *f, uint32_t rg);
const char *tl_pq_created_by(const tl_pq_file *f); /* "" if absent */
/* The chunk statistics' min and max of an INT64 column (min_value/max_value,
 * else the legacy min/max, which use the signed order INT64 needs), as
 * stored; 1 when both are present, 8 bytes long and min <= max, else 0 (no
 * statistics, or not INT64). Values are those of the writer: a consumer that
 * relies on them must still check what it decodes. */
int tl_pq_chunk_i64_bounds(const tl_pq_file *f, uint32_t rg, uint32_t col, int64_t *min,
                           int64_t *max);
uint32_t tl_pq_n_kv(const tl_pq_file *f);
const tl_pq_kv *tl_pq_kv_at(const tl_pq_file *f, uint32_t i);

/* A reusable decoded column chunk: n values laid out as in tl_types.h for
 * tl_pq_col(f, col)->type; validity NULL when no value is null. Buffers are
 * grown as needed and reused across calls (free with tl_pq_colbuf_free). */
typedef struct tl_pq_colbuf {
    uint64_t n;
    tl_colvec vec;
    int ts_unit;          /* TL_TIMESTAMP columns: unit of these values */
    uint64_t ts_sub_us_dropped; /* INT96 chunks decoded in µs (ts_unit
                                   TL_PQ_MICROS): how many values (dictionary
                                   entries included) had nanoseconds below
                                   the microsecond that flooring dropped; 0
                                   otherwise. An exact consumer refuses the
                                   chunk when nonzero. */
    void *priv;           /* reader-owned storage */
} tl_pq_colbuf;

/* Decode column col of row group rg: every page (dictionary, v1, v2),
 * decompressed, CRC-checked when a CRC is present, levels and values
 * decoded, converted to the mapped type. Errors name file, row group,
 * column, page index and byte offset: TL_ECORRUPT (malformed),
 * TL_ECHECKSUM (page CRC), TL_EUNSUPPORTED (codec/encoding/type), TL_EIO,
 * TL_ENOMEM. */
TL_WUR int tl_pq_read_chunk(tl_pq_file *f, uint32_t rg, uint32_t col,
                            tl_pq_colbuf *buf, tl_error *err);
void tl_pq_colbuf_free(tl_pq_colbuf *buf);

#ifdef __cplusplus
}
#endif
#endif /* TL_PARQUET_H */
