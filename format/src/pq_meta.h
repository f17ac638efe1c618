/*
 * pq_meta.h - internal: Parquet metadata structs (parquet-format's
 * parquet.thrift: FileMetaData, SchemaElement, LogicalType, RowGroup,
 * ColumnChunk, ColumnMetaData, Statistics, PageHeader and its v1/v2/dict
 * headers, ColumnIndex, OffsetIndex, SortingColumn, KeyValue, ColumnOrder),
 * decoded from and encoded to the Thrift compact protocol (pq_thrift.h).
 *
 * Conventions:
 * - Optional fields have a has_<name> flag; a field whose flag is 0 keeps a
 *   zero value (is_compressed: 1, its default). Required fields have none.
 * - Enum fields (encodings, codec, repetition, converted type, page type,
 *   boundary order, column order) are kept as read: validate before use.
 *   Exception: the physical Type (SchemaElement.type, ColumnMetaData.type)
 *   outside 0..7 is rejected here (TL_ECORRUPT, "invalid physical type -7").
 * - Decoding: unknown field ids are skipped; a known field id with an
 *   unexpected wire type is skipped too (as generated Thrift readers do);
 *   a missing required field, a negative count/size/offset, or lists whose
 *   lengths must agree but do not are TL_ECORRUPT. An unknown LogicalType
 *   or TimeUnit or ColumnOrder union member is kept by id (known = 0).
 * - Errors name the path and byte offset: "FileMetaData.row_groups[3]
 *   .columns[2].meta_data.total_compressed_size (field 7): varint longer
 *   than 10 bytes at byte 1234" (byte = base + offset in buf).
 * - Memory: tlf_pqm_file, tlf_pqm_column_index and tlf_pqm_offset_index own
 *   one arena each (freed by their _free); all their arrays, strings and
 *   binaries are copies in that arena (strings also NUL-terminated), so the
 *   input buffer may be released after decoding. tlf_pqm_page_header
 *   allocates nothing: its statistics binaries point into the input buffer.
 * - Encoding reads the same structs (the caller's memory; strings need not
 *   be NUL-terminated) and appends the compact encoding to a tlf_buf.
 */
#ifndef TL_PQ_META_H
#define TL_PQ_META_H

#include <stddef.h>
#include <stdint.h>

#include "enc.h"
#include "tl_error.h"

/* ---- enums (values are parquet.thrift's) ----------------------------------- */
/* Physical types: TL_PQ_BOOLEAN .. TL_PQ_FIXED_LEN_BYTE_ARRAY (tl_parquet.h),
 * repeated here so this header stands alone. */
enum {
    TLF_PQM_BOOLEAN = 0,
    TLF_PQM_INT32 = 1,
    TLF_PQM_INT64 = 2,
    TLF_PQM_INT96 = 3,
    TLF_PQM_FLOAT = 4,
    TLF_PQM_DOUBLE = 5,
    TLF_PQM_BYTE_ARRAY = 6,
    TLF_PQM_FIXED_LEN_BYTE_ARRAY = 7,
};

enum { /* FieldRepetitionType */
    TLF_PQM_REQUIRED = 0,
    TLF_PQM_OPTIONAL = 1,
    TLF_PQM_REPEATED = 2,
};

enum { /* ConvertedType */
    TLF_PQM_CT_UTF8 = 0,
    TLF_PQM_CT_MAP = 1,
    TLF_PQM_CT_MAP_KEY_VALUE = 2,
    TLF_PQM_CT_LIST = 3,
    TLF_PQM_CT_ENUM = 4,
    TLF_PQM_CT_DECIMAL = 5,
    TLF_PQM_CT_DATE = 6,
    TLF_PQM_CT_TIME_MILLIS = 7,
    TLF_PQM_CT_TIME_MICROS = 8,
    TLF_PQM_CT_TIMESTAMP_MILLIS = 9,
    TLF_PQM_CT_TIMESTAMP_MICROS = 10,
    TLF_PQM_CT_UINT_8 = 11,
    TLF_PQM_CT_UINT_16 = 12,
    TLF_PQM_CT_UINT_32 = 13,
    TLF_PQM_CT_UINT_64 = 14,
    TLF_PQM_CT_INT_8 = 15,
    TLF_PQM_CT_INT_16 = 16,
    TLF_PQM_CT_INT_32 = 17,
    TLF_PQM_CT_INT_64 = 18,
    TLF_PQM_CT_JSON = 19,
    TLF_PQM_CT_BSON = 20,
    TLF_PQM_CT_INTERVAL = 21,
};

enum { /* Encoding */
    TLF_PQM_ENC_PLAIN = 0,
    TLF_PQM_ENC_PLAIN_DICTIONARY = 2,
    TLF_PQM_ENC_RLE = 3,
    TLF_PQM_ENC_BIT_PACKED = 4,
    TLF_PQM_ENC_DELTA_BINARY_PACKED = 5,
    TLF_PQM_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    TLF_PQM_ENC_DELTA_BYTE_ARRAY = 7,
    TLF_PQM_ENC_RLE_DICTIONARY = 8,
    TLF_PQM_ENC_BYTE_STREAM_SPLIT = 9,
};

enum { /* PageType */
    TLF_PQM_PAGE_DATA = 0,
    TLF_PQM_PAGE_INDEX = 1,
    TLF_PQM_PAGE_DICTIONARY = 2,
    TLF_PQM_PAGE_DATA_V2 = 3,
};

enum { /* BoundaryOrder */
    TLF_PQM_UNORDERED = 0,
    TLF_PQM_ASCENDING = 1,
    TLF_PQM_DESCENDING = 2,
};

enum { /* LogicalType union member ids (9 is reserved: INTERVAL) */
    TLF_PQM_LT_STRING = 1,
    TLF_PQM_LT_MAP = 2,
    TLF_PQM_LT_LIST = 3,
    TLF_PQM_LT_ENUM = 4,
    TLF_PQM_LT_DECIMAL = 5,
    TLF_PQM_LT_DATE = 6,
    TLF_PQM_LT_TIME = 7,
    TLF_PQM_LT_TIMESTAMP = 8,
    TLF_PQM_LT_INTEGER = 10,
    TLF_PQM_LT_UNKNOWN = 11, /* parquet's NullType ("always null") */
    TLF_PQM_LT_JSON = 12,
    TLF_PQM_LT_BSON = 13,
    TLF_PQM_LT_UUID = 14,
    TLF_PQM_LT_FLOAT16 = 15,
    TLF_PQM_LT_VARIANT = 16,
    TLF_PQM_LT_GEOMETRY = 17,
    TLF_PQM_LT_GEOGRAPHY = 18,
    TLF_PQM_LT_VECTOR = 19,
};

enum { /* TimeUnit union member ids */
    TLF_PQM_UNIT_MILLIS = 1,
    TLF_PQM_UNIT_MICROS = 2,
    TLF_PQM_UNIT_NANOS = 3,
};

enum { /* ColumnOrder union member ids */
    TLF_PQM_ORDER_TYPE_DEFINED = 1,
    TLF_PQM_ORDER_IEEE_754_TOTAL = 2,
    TLF_PQM_ORDER_INT96_TIMESTAMP = 3,
};

/* Names for messages: "INT64", "RLE_DICTIONARY", "DATA_PAGE_V2",
 * "TIMESTAMP_MICROS"; "?" for values outside the enum. */
const char *tlf_pqm_type_name(int32_t physical);
const char *tlf_pqm_encoding_name(int32_t encoding);
const char *tlf_pqm_page_type_name(int32_t page_type);
const char *tlf_pqm_converted_type_name(int32_t converted_type);

/* ---- structs --------------------------------------------------------------- */

typedef struct tlf_pqm_str { /* thrift string */
    const char *s;
    uint32_t len;
} tlf_pqm_str;

typedef struct tlf_pqm_bin { /* thrift binary */
    const uint8_t *p;
    uint32_t len;
} tlf_pqm_bin;

typedef struct tlf_pqm_kv { /* KeyValue */
    tlf_pqm_str key;
    uint8_t has_value;
    tlf_pqm_str value;
} tlf_pqm_kv;

typedef struct tlf_pqm_stats { /* Statistics (all optional) */
    uint8_t has_max, has_min;             /* 1, 2: legacy, signed order */
    uint8_t has_null_count;               /* 3 */
    uint8_t has_distinct_count;           /* 4 */
    uint8_t has_max_value, has_min_value; /* 5, 6 */
    uint8_t has_is_max_value_exact;       /* 7 */
    uint8_t has_is_min_value_exact;       /* 8 */
    uint8_t has_nan_count;                /* 9 */
    uint8_t is_max_value_exact, is_min_value_exact;
    tlf_pqm_bin max, min, max_value, min_value;
    int64_t null_count, distinct_count, nan_count; /* each >= 0 */
} tlf_pqm_stats;

typedef struct tlf_pqm_logical { /* LogicalType union */
    int32_t id;     /* TLF_PQM_LT_* member id, or any other id as read */
    uint8_t known;  /* 0: an id this code does not know; its struct was
                       skipped ("unknown logical type id N") */
    /* DECIMAL */
    int32_t dec_scale, dec_precision;
    /* TIME, TIMESTAMP */
    uint8_t is_adjusted_to_utc;
    int32_t unit;   /* TLF_PQM_UNIT_* or an unknown member id as read */
    /* INTEGER */
    int8_t bit_width;
    uint8_t is_signed;
    /* VARIANT */
    uint8_t has_spec_version;
    int8_t spec_version;
    /* GEOMETRY, GEOGRAPHY */
    uint8_t has_crs;
    tlf_pqm_str crs;
    uint8_t has_algorithm; /* GEOGRAPHY */
    int32_t algorithm;
} tlf_pqm_logical;

/* "STRING", "DECIMAL(10,2)", "TIMESTAMP(UTC,NANOS)", "TIMESTAMP(local,
 * MICROS)", "INTEGER(16,unsigned)", "unknown logical type id 2555". */
void tlf_pqm_logical_desc(const tlf_pqm_logical *lt, char *buf, size_t cap);

typedef struct tlf_pqm_schema_elem { /* SchemaElement */
    uint8_t has_type, has_type_length, has_repetition, has_num_children;
    uint8_t has_converted_type, has_scale, has_precision, has_field_id;
    uint8_t has_logical;
    int32_t type;           /* 1: 0..7 (checked) */
    int32_t type_length;    /* 2 */
    int32_t repetition;     /* 3: as read */
    tlf_pqm_str name;       /* 4: required */
    int32_t num_children;   /* 5: >= 0 */
    int32_t converted_type; /* 6: as read */
    int32_t scale;          /* 7 */
    int32_t precision;      /* 8 */
    int32_t field_id;       /* 9 */
    tlf_pqm_logical logical; /* 10 */
} tlf_pqm_schema_elem;

typedef struct tlf_pqm_page_enc_stats { /* PageEncodingStats */
    int32_t page_type, encoding, count;
} tlf_pqm_page_enc_stats;

typedef struct tlf_pqm_col_meta { /* ColumnMetaData */
    int32_t type;                     /* 1: 0..7 (checked) */
    uint32_t n_encodings;             /* 2 */
    const int32_t *encodings;
    uint32_t n_path;                  /* 3 */
    const tlf_pqm_str *path_in_schema;
    int32_t codec;                    /* 4: as read */
    int64_t num_values;               /* 5: >= 0 */
    int64_t total_uncompressed_size;  /* 6: >= 0 */
    int64_t total_compressed_size;    /* 7: >= 0 */
    uint8_t has_kv;                   /* 8 */
    uint32_t n_kv;
    const tlf_pqm_kv *kv;
    int64_t data_page_offset;         /* 9: >= 0 */
    uint8_t has_index_page_offset;    /* 10 */
    int64_t index_page_offset;
    uint8_t has_dictionary_page_offset; /* 11 (0 is kept: some writers
                                            write 0 meaning "none") */
    int64_t dictionary_page_offset;
    uint8_t has_statistics;           /* 12 */
    tlf_pqm_stats statistics;
    uint8_t has_encoding_stats;       /* 13 */
    uint32_t n_encoding_stats;
    const tlf_pqm_page_enc_stats *encoding_stats;
    uint8_t has_bloom_filter_offset;  /* 14 */
    int64_t bloom_filter_offset;
    uint8_t has_bloom_filter_length;  /* 15 */
    int32_t bloom_filter_length;
    uint8_t has_size_statistics;      /* 16: presence only (skipped) */
    uint8_t has_geospatial_statistics; /* 17: presence only (skipped) */
} tlf_pqm_col_meta;

typedef struct tlf_pqm_col_chunk { /* ColumnChunk */
    uint8_t has_file_path;            /* 1 */
    tlf_pqm_str file_path;
    int64_t file_offset;              /* 2: required, >= 0 */
    uint8_t has_meta_data;            /* 3 */
    tlf_pqm_col_meta meta_data;
    uint8_t has_offset_index_offset;  /* 4 */
    int64_t offset_index_offset;
    uint8_t has_offset_index_length;  /* 5 */
    int32_t offset_index_length;
    uint8_t has_column_index_offset;  /* 6 */
    int64_t column_index_offset;
    uint8_t has_column_index_length;  /* 7 */
    int32_t column_index_length;
    uint8_t has_crypto_metadata;      /* 8: presence only */
    uint8_t has_encrypted_column_metadata; /* 9: presence only */
} tlf_pqm_col_chunk;

typedef struct tlf_pqm_sorting_col { /* SortingColumn */
    int32_t column_idx; /* >= 0 */
    uint8_t descending, nulls_first;
} tlf_pqm_sorting_col;

typedef struct tlf_pqm_row_group { /* RowGroup */
    uint32_t n_columns;               /* 1 */
    const tlf_pqm_col_chunk *columns;
    int64_t total_byte_size;          /* 2: >= 0 */
    int64_t num_rows;                 /* 3: >= 0 */
    uint8_t has_sorting_columns;      /* 4 */
    uint32_t n_sorting_columns;
    const tlf_pqm_sorting_col *sorting_columns;
    uint8_t has_file_offset;          /* 5 */
    int64_t file_offset;
    uint8_t has_total_compressed_size; /* 6 */
    int64_t total_compressed_size;
    uint8_t has_ordinal;              /* 7 */
    int16_t ordinal;
} tlf_pqm_row_group;

typedef struct tlf_pqm_column_order { /* ColumnOrder union */
    int32_t id; /* TLF_PQM_ORDER_* or another member id as read */
} tlf_pqm_column_order;

typedef struct tlf_pqm_arena tlf_pqm_arena;

typedef struct tlf_pqm_file { /* FileMetaData */
    int32_t version;                  /* 1 */
    uint32_t n_schema;                /* 2 */
    const tlf_pqm_schema_elem *schema;
    int64_t num_rows;                 /* 3: >= 0 */
    uint32_t n_row_groups;            /* 4 */
    const tlf_pqm_row_group *row_groups;
    uint8_t has_kv;                   /* 5 */
    uint32_t n_kv;
    const tlf_pqm_kv *kv;
    uint8_t has_created_by;           /* 6 */
    tlf_pqm_str created_by;
    uint8_t has_column_orders;        /* 7 */
    uint32_t n_column_orders;
    const tlf_pqm_column_order *column_orders;
    uint8_t has_encryption_algorithm; /* 8: presence only */
    uint8_t has_footer_signing_key_metadata; /* 9: presence only */
    tlf_pqm_arena *arena;             /* decoded: owner of all the above */
} tlf_pqm_file;

typedef struct tlf_pqm_data_page { /* DataPageHeader */
    int32_t num_values;                /* 1: >= 0 */
    int32_t encoding;                  /* 2 */
    int32_t definition_level_encoding; /* 3 */
    int32_t repetition_level_encoding; /* 4 */
    uint8_t has_statistics;            /* 5 */
    tlf_pqm_stats statistics;
} tlf_pqm_data_page;

typedef struct tlf_pqm_dict_page { /* DictionaryPageHeader */
    int32_t num_values; /* 1: >= 0 */
    int32_t encoding;   /* 2 */
    uint8_t has_is_sorted; /* 3 */
    uint8_t is_sorted;
} tlf_pqm_dict_page;

typedef struct tlf_pqm_data_page_v2 { /* DataPageHeaderV2 */
    int32_t num_values;                    /* 1: >= 0 */
    int32_t num_nulls;                     /* 2: >= 0 */
    int32_t num_rows;                      /* 3: >= 0 */
    int32_t encoding;                      /* 4 */
    int32_t definition_levels_byte_length; /* 5: >= 0 */
    int32_t repetition_levels_byte_length; /* 6: >= 0 */
    uint8_t has_is_compressed;             /* 7 */
    uint8_t is_compressed;                 /* default 1 when absent */
    uint8_t has_statistics;                /* 8 */
    tlf_pqm_stats statistics;
} tlf_pqm_data_page_v2;

typedef struct tlf_pqm_page_header { /* PageHeader */
    int32_t type;                   /* 1: as read */
    int32_t uncompressed_page_size; /* 2: >= 0 */
    int32_t compressed_page_size;   /* 3: >= 0 */
    uint8_t has_crc;                /* 4 */
    uint32_t crc;                   /* the i32 as its bit pattern */
    uint8_t has_data_page;          /* 5 */
    tlf_pqm_data_page data_page;
    uint8_t has_index_page;         /* 6: presence only */
    uint8_t has_dict_page;          /* 7 */
    tlf_pqm_dict_page dict_page;
    uint8_t has_data_page_v2;       /* 8 */
    tlf_pqm_data_page_v2 data_page_v2;
} tlf_pqm_page_header;

typedef struct tlf_pqm_column_index { /* ColumnIndex */
    uint32_t n_pages;              /* length of every list below */
    const uint8_t *null_pages;     /* 1: 0/1 */
    const tlf_pqm_bin *min_values; /* 2 */
    const tlf_pqm_bin *max_values; /* 3 */
    int32_t boundary_order;        /* 4: as read */
    uint8_t has_null_counts;       /* 5: as read (parquet-mr 1.13 writes -1
                                      for "unknown"; negative = unknown) */
    const int64_t *null_counts;
    uint8_t has_nan_counts;        /* 8 */
    const int64_t *nan_counts;
    tlf_pqm_arena *arena;
} tlf_pqm_column_index;

typedef struct tlf_pqm_page_location { /* PageLocation */
    int64_t offset;               /* >= 0 */
    int32_t compressed_page_size; /* >= 0, includes the header */
    int64_t first_row_index;      /* >= 0 */
} tlf_pqm_page_location;

typedef struct tlf_pqm_offset_index { /* OffsetIndex */
    uint32_t n_pages;                       /* 1 */
    const tlf_pqm_page_location *page_locations;
    uint8_t has_unencoded_byte_array_data_bytes; /* 2 */
    uint32_t n_unencoded;
    const int64_t *unencoded_byte_array_data_bytes;
    tlf_pqm_arena *arena;
} tlf_pqm_offset_index;

/* ---- decoding -------------------------------------------------------------- *
 * base: the file offset of buf[0], added to byte offsets in messages (0 for
 * buffer-relative). Messages start with the struct path ("FileMetaData.",
 * "PageHeader.", "ColumnIndex.", "OffsetIndex."); callers prefix the file.
 * On failure *out is left empty (nothing to free). Errors: TL_ECORRUPT,
 * TL_ENOMEM. */

/* The whole buffer is the FileMetaData (trailing bytes are tolerated). */
TL_WUR int tlf_pqm_decode_file(const void *buf, size_t len, uint64_t base,
                               tlf_pqm_file *out, tl_error *err);
void tlf_pqm_file_free(tlf_pqm_file *fm); /* NULL-safe; zeroes *fm */

/* A PageHeader at the start of buf (len = bytes available); *consumed =
 * its encoded size. No allocation: statistics point into buf. */
TL_WUR int tlf_pqm_decode_page_header(const void *buf, size_t len,
                                      uint64_t base, tlf_pqm_page_header *out,
                                      size_t *consumed, tl_error *err);

TL_WUR int tlf_pqm_decode_column_index(const void *buf, size_t len,
                                       uint64_t base,
                                       tlf_pqm_column_index *out,
                                       tl_error *err);
void tlf_pqm_column_index_free(tlf_pqm_column_index *ci);

TL_WUR int tlf_pqm_decode_offset_index(const void *buf, size_t len,
                                       uint64_t base,
                                       tlf_pqm_offset_index *out,
                                       tl_error *err);
void tlf_pqm_offset_index_free(tlf_pqm_offset_index *oi);

/* ---- encoding -------------------------------------------------------------- *
 * Append the compact encoding of the struct to out (fields in id order;
 * optional fields only when their has_ flag is set; presence-only fields
 * are not written). Errors: TL_ENOMEM, TL_EINVAL (a count that does not
 * fit, e.g. a NULL array with n > 0). */
TL_WUR int tlf_pqm_encode_file(const tlf_pqm_file *fm, tlf_buf *out,
                               tl_error *err);
TL_WUR int tlf_pqm_encode_page_header(const tlf_pqm_page_header *ph,
                                      tlf_buf *out, tl_error *err);
TL_WUR int tlf_pqm_encode_column_index(const tlf_pqm_column_index *ci,
                                       tlf_buf *out, tl_error *err);
TL_WUR int tlf_pqm_encode_offset_index(const tlf_pqm_offset_index *oi,
                                       tlf_buf *out, tl_error *err);

#endif /* TL_PQ_META_H */
