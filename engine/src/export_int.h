/*
 * export_int.h - internals of the Parquet export (export.c) shared with the
 * Delta log writer and checker (delta_export.c) and the tests: Hive path
 * escaping, the description of each file written, the Delta add statistics
 * of one file, the version-0 commit of the Delta log, and the checker of
 * the Delta rules DX-n (spec/PARQUET.md, "Export and Delta").
 */
#ifndef TL_EXPORT_INT_H
#define TL_EXPORT_INT_H

#include "tl_error.h"
#include "tl_parquet.h"
#include "tl_types.h"

#include <stddef.h>
#include <stdint.h>

/* Hive partition directory keys (the table's partition *fields*, LOG.md
 * section 2, whatever the columns are called) and the null directory. */
#define TL_EXPORT_KEY_SYMBOL "symbol"
#define TL_EXPORT_KEY_DATE "date"
#define TL_EXPORT_HIVE_NULL "__HIVE_DEFAULT_PARTITION__"
#define TL_EXPORT_FILE_NAME "part-00000.parquet"
#define TL_EXPORT_DELTA_COMMIT "_delta_log/00000000000000000000.json"

/* Hive escaping of a partition value into one directory name part (the
 * rule of Hive's FileUtils.escapePathName, which Spark, DuckDB and Polars
 * undo): bytes 0x01-0x1F, 0x7F and " # % ' * / : = ? \ { [ ] ^ become %XX
 * (upper-case hex); everything else, non-ASCII bytes included, stays. The
 * empty value is written TL_EXPORT_HIVE_NULL (Hive and Delta read an empty
 * partition value as null). Writes at most cap-1 bytes plus NUL; returns
 * the length, or SIZE_MAX when it does not fit (or value holds a NUL). */
size_t tl_export_hive_escape(const char *value, size_t len, char *out, size_t cap);

/* A Delta add path: the relative path percent-encoded as a URI path (Delta
 * stores add.path as a URI): bytes outside A-Z a-z 0-9 - . _ ~ / = ! $ & '
 * ( ) * + , ; : @ and below 0x80 become %XX; non-ASCII bytes stay. malloc'd;
 * NULL on out of memory. */
char *tl_export_uri_path(const char *rel);

/* One data file of an export (PARTITIONED layout). */
typedef struct tl_export_file {
    char *rel;              /* relative to dest: "symbol=S/date=D/part-00000.parquet" */
    size_t partition;       /* tl_snapshot_partition index */
    int has_symbol, symbol_null;
    char *symbol;           /* NUL-terminated copy (symbols hold no NUL) */
    int has_day, day_null;
    int32_t day;
    uint64_t rows, bytes;
    int64_t mtime_ms;       /* the file's modification time */
    char *delta_stats;      /* Delta add.stats JSON text, or NULL */
} tl_export_file;

/* Delta add.stats of one file: {"numRecords":N,"minValues":{...},
 * "maxValues":{...},"nullCount":{...}} for the columns cols (the file's).
 * Bounds: integers as JSON integers; floats as JSON numbers, left out when
 * the file holds NaN (has_nan[i]) or an infinite bound; timestamps
 * (nanoseconds in st) as ISO-8601 UTC text with milliseconds, the minimum
 * floored and the maximum raised to a whole millisecond so both stay
 * bounds; dates as YYYY-MM-DD; strings as JSON strings when valid UTF-8
 * and at most 256 bytes, else left out; bool columns get no bounds (Delta
 * skips them). *out is malloc'd. Errors: TL_ENOMEM. */
TL_WUR int tl_delta_stats_json(const tl_coldef *cols, uint32_t n_cols,
                               const tl_pq_write_stats *st, const uint8_t *has_nan,
                               char **out, tl_error *err);

/* The Spark SQL type name Delta's schemaString uses for a column type
 * (unsigned types as Spark infers them from Parquet INTEGER(unsigned):
 * uint8 -> short, uint16 -> integer, uint32 -> long, uint64 ->
 * decimal(20,0)); NULL for an unknown type. */
const char *tl_delta_type_name(tl_type t);

/* What the version-0 commit of the Delta log describes. */
typedef struct tl_delta_log_in {
    const tl_coldef *cols;       /* data columns, as in the files */
    const uint8_t *nullable;     /* per column */
    uint32_t n_cols;
    int part_symbol, part_date;  /* partition columns symbol (string) and
                                    date (date), in that order */
    const tl_export_file *files; /* files[i].rel relative to the table */
    size_t n_files;
    const char *table_path;      /* source, for commitInfo */
    const char *table_id;
    int64_t version;
    const char *where;           /* NULL or the export's predicate */
    int64_t now_ms;
} tl_delta_log_in;

/* The commit text: commitInfo, protocol {1, 2}, metaData, one add per file,
 * newline-delimited. *out malloc'd, *len bytes. Errors: TL_EINVAL (a
 * column name or symbol that is not valid UTF-8), TL_ENOMEM. */
TL_WUR int tl_delta_log_build(const tl_delta_log_in *in, char **out, size_t *len,
                              tl_error *err);

/* What tl_delta_check found. */
typedef struct tl_delta_check_result {
    uint64_t n_add;     /* add actions */
    uint64_t rows;      /* sum of their stats' numRecords */
    uint64_t bytes;     /* sum of their sizes */
} tl_delta_check_result;

/* Check the Delta table under dir against every rule DX-1 .. DX-n of
 * spec/PARQUET.md ("Export and Delta"), reading the data files' Parquet
 * footers with tl_pq_open. Errors: TL_ECORRUPT naming the rule, the line
 * and the field (or the file); TL_EIO; TL_ENOMEM. res may be NULL. */
TL_WUR int tl_delta_check(const char *dir, tl_delta_check_result *res, tl_error *err);

#endif /* TL_EXPORT_INT_H */
