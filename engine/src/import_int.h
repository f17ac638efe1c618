/*
 * import_int.h - pieces of the Parquet import (import.c) that tests check
 * on their own: Hive directory values, the conversion rules from a decoded
 * Parquet column to a table column (spec/PARQUET.md, section "Import"),
 * and listing the input files.
 */
#ifndef TL_IMPORT_INT_H
#define TL_IMPORT_INT_H

#include "ticklake.h"
#include "tl_parquet.h"

#include <stdint.h>

/* A Hive value that means null (Hive, Spark, DuckDB). */
#define TL_IMPORT_HIVE_NULL "__HIVE_DEFAULT_PARTITION__"

/* Decode %XX escapes (either case) of a Hive directory value s[0..len) into
 * out (NUL-terminated; out_cap >= len + 1). A '%' not followed by two hex
 * digits is kept as is. Returns the decoded length. */
size_t tl_import_unescape(const char *s, size_t len, char *out, size_t out_cap);

/* Type a --create table gives a Hive key from its (non-null) values:
 * TL_DATE when every value is YYYY-MM-DD, TL_INT64 when every value is a
 * decimal integer that fits int64, else TL_STRING. */
tl_type tl_import_hive_infer(const char *const *values, uint32_t n);

/* A typed constant parsed from a Hive value for a column of type t. */
typedef struct tl_import_const {
    uint8_t bytes[8];  /* the value in tl_types.h layout (fixed-width t) */
    const char *str;   /* TL_STRING: the text itself (not copied) */
    uint32_t str_len;
} tl_import_const;

/* Parse value (NUL-terminated, already unescaped) as type t: bool
 * true/false/1/0, integers in range, floats (strtod/strtof), dates
 * YYYY-MM-DD, timestamps YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,9}]]][Z] (UTC) or
 * integer nanoseconds, strings as is. Errors: TL_EINVAL saying what was
 * expected and what was found (the caller prefixes file and key). */
TL_WUR int tl_import_parse_value(const char *value, tl_type t, tl_import_const *out,
                                 tl_error *err);

/* How a decoded Parquet column c can feed a table column of type dst:
 * TL_OK when the conversion is exact (same type; signed -> wider signed;
 * unsigned -> wider unsigned or signed; float32/FLOAT16 -> float64;
 * timestamp -> timestamp in any unit, checked per value; DECIMAL only as the
 * type the reader decodes it to), else TL_EINVAL with a message "column 'x'
 * (DESC, type) cannot be stored in column 'y' (type): why". */
TL_WUR int tl_import_convertible(const tl_pq_colinfo *c, const char *dst_name, tl_type dst,
                                 tl_error *err);

/* The Parquet files of the inputs, in import order: a file input is taken
 * as is; a directory is searched recursively, entries sorted bytewise by
 * name, for regular files named *.parquet, skipping entries whose name
 * starts with '.' or '_' (hidden files, _delta_log, _SUCCESS) and not
 * following symbolic links to directories. For each file, the Hive
 * components "k=v" of its directories below the input directory. */
typedef struct tl_import_hive {
    char *key;
    char *value;  /* unescaped; NULL = null (TL_IMPORT_HIVE_NULL) */
} tl_import_hive;

typedef struct tl_import_file {
    char *path;
    uint64_t bytes;
    tl_import_hive *hive;
    uint32_t n_hive;
} tl_import_file;

typedef struct tl_import_list {
    tl_import_file *files;
    uint32_t n;
    uint32_t cap;
    uint64_t bytes;
} tl_import_list;

/* Errors: TL_ENOTFOUND (an input does not exist), TL_EINVAL (an input that
 * is neither file nor directory, no Parquet file at all, more than 2^24
 * files), TL_EIO, TL_ENOMEM. */
TL_WUR int tl_import_list_inputs(const char *const *inputs, uint32_t n_inputs,
                                 tl_import_list *out, tl_error *err);
void tl_import_list_free(tl_import_list *l); /* NULL-safe */

#endif /* TL_IMPORT_INT_H */
