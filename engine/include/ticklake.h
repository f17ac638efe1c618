/*
 * ticklake.h - the public C API of ticklake.
 *
 * Conventions (see tl_error.h): every fallible call returns TL_OK (0) or a
 * negative TL_E* code and takes `tl_error *err` last (NULL allowed); the
 * message names the place (file, column, block, byte offset, version),
 * what was expected and what was found. Handles are opaque; each _open has
 * a _close that accepts NULL. Counts come back through out-parameters.
 */
#ifndef TICKLAKE_H
#define TICKLAKE_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "tl_error.h"
#include "tl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_VERSION_MAJOR 0
#define TL_VERSION_MINOR 1
#define TL_VERSION_PATCH 0
#define TL_VERSION_STRING "0.1.0"

/* "0.1.0" */
const char *tl_version(void);
/* Segment format version written by this build ("1.0"). */
const char *tl_format_version(void);

/* ---- batches ------------------------------------------------------------- */

/* n_rows rows of n_cols columns; cols[i] holds column defs[i]. Memory is
 * owned by whoever produced the batch (see each producer). */
typedef struct tl_batch {
    uint32_t n_rows;
    uint32_t n_cols;
    const tl_coldef *defs;
    const tl_colvec *cols;
} tl_batch;

/* ---- sample data generator (synthetic NSE-style options ticks) ----------- */

/* Synthetic, deterministic NSE-style index-option ticks (engine/src/gen.c).
 *
 * Per trading day (weekdays from start_day; Saturdays and Sundays skipped)
 * and underlying: a spot random walk through the session 03:45:00-10:00:00
 * UTC, and 538 contracts: 90 + 90 + 89 strikes around the day's opening
 * spot (BANKNIFTY: ~48000-52000, 100-point steps, lot 15; NIFTY:
 * ~23000-26000, 50-point steps, lot 25; any other name gets a spot, step
 * and lot derived from a hash of the name) x CE/PE x 3 expiries (the next
 * two Thursdays strictly after the day, and the month's last Thursday, or
 * next month's when that is not later than the second weekly). rows_per_day
 * ticks per symbol-day; near-the-money contracts tick far more often.
 *
 * Schema (tl_ticks_schema, 35 columns, in this order):
 *   timestamp timestamp   ns UTC, in [day 03:45:00, day 10:00:00)
 *   symbol    string      the underlying
 *   expiry    date
 *   opt_type  string      "CE" or "PE"
 *   strike    float32     whole numbers
 *   price     float64     last trade price, > 0
 *   avg_price float64     running VWAP-like average, > 0
 *   volume    int64       cumulative per contract; resets to 0 now and then
 *   qty       int32       last trade size, a multiple of the lot
 *   oi        int64       open interest, >= 0
 *   open, high, low float64   the contract's day so far (first trade's price
 *                         for open)
 *   close     float64     previous day's close
 *   changeper float64     100 * (price - close) / close, 2 decimals
 *   bp0..bp4  float64     bid prices, descending, below price
 *   sp0..sp4  float64     ask prices, ascending, above price
 *   bq0..bq4, sq0..sq4 int32  bid/ask quantities (multiples of the lot)
 * Every price value (price, avg_price, open, high, low, close, bp*, sp*) is
 * exactly (double)cents / 100.0 with cents a multiple of 5 (the 0.05 tick),
 * i.e. what a decimal parser returns for a 2-decimal text, and changeper is
 * (double)c / 100.0 for an integer c. A book level may be empty: price 0
 * and quantity 0, and then so are the deeper ones (asks: ~0.2% of rows at
 * level 0, ~2% at level 4; bids also wherever the level would fall to 0 or
 * below, i.e. options priced near 0.05: ~2.5% at level 0, ~5% at level 4
 * with the default symbols). Prices follow a Black-Scholes curve of the
 * spot minus the strike plus a mean-reverting walk per contract. A side of
 * the book may be missing: all five prices and quantities of that side
 * null (~0.4% of rows per side); null slots hold 0. Only bp*, sp*, bq*, sq*
 * are ever null.
 *
 * Determinism: the rows are a pure function of the options (not of the
 * batch sizes asked for, nor of the machine or build: only IEEE-754 basic
 * operations, no libm; native, portable and sanitizer builds give the same
 * bytes). Each (symbol, day) draws from its own streams seeded from (seed,
 * symbol name, day), one per contract plus one for arrivals.
 *
 * Memory: ~200 KB per symbol, plus the batch buffers (~270 bytes per row
 * of the largest max_rows asked, at most TL_GEN_BATCH_MAX rows), plus in
 * sorted mode the partition's timestamps: 8 bytes per row of rows_per_day
 * (+ 4.4 MB), e.g. 84 MB for 10 M rows per day. Batches of 16384 rows or
 * more are written with non-temporal stores (they exceed the caches
 * anyway); smaller ones stay in cache for the consumer. */

/* Largest batch tl_gen_next returns, whatever max_rows asks. */
#define TL_GEN_BATCH_MAX 131072u
/* start_day value meaning "not set" (rejected by tl_gen_open). */
#define TL_GEN_DAY_UNSET INT32_MIN
/* Accepted range of trading days (start_day and the last generated day):
 * 1696-03-17 .. 2243-10-17, so that timestamps fit int64 nanoseconds. */
#define TL_GEN_DAY_MIN (-100000)
#define TL_GEN_DAY_MAX 100000
/* Limits checked by tl_gen_open. */
#define TL_GEN_MAX_SYMBOLS 64u
#define TL_GEN_MAX_SYMBOL_LEN 32u
#define TL_GEN_MAX_ROWS_PER_DAY 4000000000u

typedef struct tl_gen_opts {
    uint64_t seed;
    uint32_t days;               /* trading days (weekdays) to generate */
    int32_t start_day;           /* days since 1970-01-01; must be set (see
                                    TL_GEN_DAY_UNSET); a weekend start
                                    begins on the following Monday */
    const char *const *symbols;  /* underlyings, e.g. {"BANKNIFTY","NIFTY"}:
                                    1..TL_GEN_MAX_SYMBOL_LEN bytes, no NUL,
                                    distinct; the strings must outlive the
                                    generator */
    uint32_t n_symbols;          /* 1..TL_GEN_MAX_SYMBOLS */
    uint64_t rows_per_day;       /* ticks per symbol per day,
                                    1..TL_GEN_MAX_ROWS_PER_DAY */
    int sorted;                  /* 0 (default): arrival order, see
                                    tl_gen_next. 1: table order: for each
                                    day, for each symbol in the order given,
                                    that (symbol, day) partition's rows
                                    sorted by (expiry, opt_type, strike,
                                    timestamp), stable; the same rows as in
                                    arrival order, permuted. */
} tl_gen_opts;

/* Defaults: seed 1, 1 day from 2025-11-17, BANKNIFTY and NIFTY,
 * 1,000,000 rows per symbol-day, arrival order (sorted = 0). */
void tl_gen_opts_default(tl_gen_opts *o);

typedef struct tl_gen tl_gen;

/* The generator's schema (the built-in "ticks" schema, listed above):
 * *n_cols (may be NULL) = 35 columns. The array is static. */
const tl_coldef *tl_ticks_schema(uint32_t *n_cols);

/* Start generating; copies the options (not the symbol strings). Errors:
 * TL_EINVAL (o or out NULL, no symbols or too many, a symbol NULL, empty,
 * too long or repeated, days == 0, rows_per_day == 0 or too large,
 * start_day unset or out of range, sorted not 0/1, total rows beyond
 * 2^63), TL_ENOMEM (out of memory, or sorted mode would need more than half
 * of the machine's memory for a partition). */
TL_WUR int tl_gen_open(const tl_gen_opts *o, tl_gen **out, tl_error *err);

/* Next batch of at most min(max_rows, TL_GEN_BATCH_MAX) rows.
 * Arrival order (sorted = 0): timestamp-major; within a day the rows of all
 * symbols merged by timestamp (ties: lower symbol index first, then
 * generation order), contracts interleaved. A batch never spans two days.
 * Sorted (sorted = 1): see tl_gen_opts.sorted; a batch never spans two
 * (symbol, day) partitions.
 * *done = 1 and batch->n_rows = 0 at the end (and on every later call).
 * The batch's memory belongs to the generator and is valid until the next
 * call or close. Errors: TL_EINVAL (NULL argument, max_rows == 0),
 * TL_ENOMEM (batch buffers, sorted-mode partition buffer). */
TL_WUR int tl_gen_next(tl_gen *g, uint32_t max_rows, tl_batch *batch,
                       int *done, tl_error *err);

/* Total rows the generator will emit (days * n_symbols * rows_per_day). */
uint64_t tl_gen_total_rows(const tl_gen *g);

/* NULL-safe. */
void tl_gen_close(tl_gen *g);

/* Write a batch as CSV rows (header once when header != 0: the column
 * names). Any tl_batch (not only the generator's) with n_rows >= 0.
 * Integers as decimal; bool true/false; timestamps as integer nanoseconds;
 * dates as YYYY-MM-DD (proleptic Gregorian, any int32 day: years before 0
 * as -YYYY, beyond 9999 with more digits); floats as the shortest text that
 * strtod/strtof reads back to the same value (%g style with 15..17 (float:
 * 6..9) significant digits, so 50000 not 5e+04; nan, inf, -inf; -0 kept);
 * strings raw, quoted with "" doubled when they contain a comma, quote, CR
 * or LF, and an empty string as "" so that it differs from a null; nulls as
 * empty fields. Lines end with \n. Errors: TL_EINVAL (NULL b or f, an
 * unknown column type, a missing values/offsets/data pointer, decreasing
 * string offsets; rows before it may have been written), TL_EIO (a write
 * failed; sys_errno set). Assumes the "C" numeric locale. */
TL_WUR int tl_batch_write_csv(const tl_batch *b, FILE *f, int header,
                              tl_error *err);

/* ---- segment files ------------------------------------------------------- */

typedef struct tl_segment_writer tl_segment_writer;

typedef struct tl_segment_write_opts {
    uint32_t block_rows;       /* 0 = format default */
    int zstd_level;            /* 0 = default */
    const char *const *hot_columns; /* kept fast to decode; NULL = none */
    uint32_t n_hot;
} tl_segment_write_opts;

/* Create path (must not exist: O_EXCL) and start a segment with the given
 * columns. Errors: TL_EIO, TL_EINVAL, TL_ENOMEM. */
TL_WUR int tl_segment_writer_open(const char *path, const tl_coldef *defs,
                                  uint32_t n_cols,
                                  const tl_segment_write_opts *opts,
                                  tl_segment_writer **out, tl_error *err);
/* Append a batch whose defs match the writer's columns (name and type). */
TL_WUR int tl_segment_writer_append(tl_segment_writer *w, const tl_batch *b,
                                    tl_error *err);
/* Finish: footer, fsync the file, close, fsync its directory. Reports rows
 * and bytes written (either pointer may be NULL). w is freed whatever the
 * outcome. Any failure is TL_EIO (or the writer's own code) naming the
 * path; a failed fsync is never retried, and the file is then unlinked.
 * After a failed append, finish fails with TL_EINVAL: use abort. */
TL_WUR int tl_segment_writer_finish(tl_segment_writer *w, uint64_t *n_rows,
                                    uint64_t *file_bytes, tl_error *err);
/* Abandon: close and unlink the partial file. NULL-safe. */
void tl_segment_writer_abort(tl_segment_writer *w);

typedef struct tl_segment tl_segment;

/* Open a segment file by mmap. The footer checksum is always verified.
 * Errors: TL_ENOTFOUND, TL_EIO, TL_ECORRUPT, TL_ECHECKSUM, TL_EVERSION. */
TL_WUR int tl_segment_open(const char *path, tl_segment **out, tl_error *err);
void tl_segment_close(tl_segment *s);

uint64_t tl_segment_n_rows(const tl_segment *s);
uint32_t tl_segment_n_cols(const tl_segment *s);
uint32_t tl_segment_n_blocks(const tl_segment *s);
uint64_t tl_segment_file_bytes(const tl_segment *s);

typedef struct tl_segment_col_stats {
    const char *name;
    tl_type type;
    uint64_t null_count;
    uint64_t stored_bytes;     /* bytes of its blocks in the file */
    uint64_t decoded_bytes;    /* in-memory size */
    uint32_t blocks_by_encoding[8];  /* index: encoding id (0..5) */
    uint32_t blocks_zstd;      /* blocks compressed with zstd */
    char min_text[80], max_text[80]; /* zone-map extremes as text; "" if none */
} tl_segment_col_stats;

/* Per-column statistics from the footer (no block is read). */
TL_WUR int tl_segment_col_stats_get(const tl_segment *s, uint32_t col,
                                    tl_segment_col_stats *out, tl_error *err);
/* Name of encoding id ("plain", "rle", "dict", "for", "delta", "scaled"). */
const char *tl_encoding_name(int enc);

/* Verify every block checksum. Errors name the damaged block. */
TL_WUR int tl_segment_verify(const tl_segment *s, tl_error *err);

/* Decode rows [first, first+limit) and print them as CSV (with header).
 * Every block touched has its checksum verified. */
TL_WUR int tl_segment_print_csv(const tl_segment *s, uint64_t first,
                                uint64_t limit, FILE *f, tl_error *err);

/* ---- generating into files (what `ticklake gen` runs) -------------------- */

/* Progress of a long job: done out of total rows. Called at most about ten
 * times a second, and once more at the end with done == total. */
typedef void (*tl_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct tl_gen_report {
    uint64_t n_rows;   /* rows written */
    uint64_t bytes;    /* bytes written, all files together */
    double elapsed_s;  /* wall time of generating and writing */
    uint32_t n_files;
    char **paths;      /* n_files paths, sorted by name; owned by the report */
} tl_gen_report;

/* Free the report's paths and zero it. NULL-safe. */
void tl_gen_report_free(tl_gen_report *r);

/* The generator's hot columns (timestamp, expiry, opt_type, strike, price,
 * bp0, sp0, volume): static array of *n names. */
const char *const *tl_ticks_hot_columns(uint32_t *n);

/* Generate o's ticks as CSV (header, then every row) into path, created or
 * truncated; "-" writes to stdout. Same options -> byte-identical file.
 * progress may be NULL. rep (may be NULL) is filled on success; free it
 * with tl_gen_report_free. Errors: the generator's, TL_EIO naming path. */
TL_WUR int tl_gen_write_csv(const tl_gen_opts *o, const char *path,
                            tl_progress_fn progress, void *ctx,
                            tl_gen_report *rep, tl_error *err);

/* Generate o's ticks into one segment file per (symbol, day) in dir
 * (created if missing, parent must exist), named SYMBOL_YYYY-MM-DD.tls;
 * bytes of the symbol outside [A-Za-z0-9-] are written as %XX. Rows keep
 * the generator's order within each file. wo may be NULL (defaults, and
 * hot columns from tl_ticks_hot_columns when wo->hot_columns is NULL).
 * Files are created with O_EXCL: an existing file is an error (TL_EIO
 * naming it). On error, files already finished stay, the one being
 * written is removed. Errors: the generator's and the writer's. */
TL_WUR int tl_gen_write_segments(const tl_gen_opts *o, const char *dir,
                                 const tl_segment_write_opts *wo,
                                 tl_progress_fn progress, void *ctx,
                                 tl_gen_report *rep, tl_error *err);


/* ---- tables (engine/src/table.c; protocol in spec/LOG.md) --------------- */

/* A column of a table: name, type and whether it may hold nulls. */
typedef struct tl_field {
    const char *name;
    tl_type type;
    int nullable;
} tl_field;

/* What a table is created with. Strings are copied. */
typedef struct tl_table_spec {
    const tl_field *fields;
    uint32_t n_fields;
    const char *symbol_column; /* partition by this string column; NULL = no */
    const char *day_column;    /* partition by the UTC day of this timestamp
                                  column (hidden transform); NULL = no */
    const char *const *sort_key; /* columns every data file is sorted by,
                                    most significant first, stable, nulls
                                    first; n_sort_key may be 0 */
    uint32_t n_sort_key;
    const char *name;          /* human name; NULL = none */
    const char *const *hot_columns; /* columns kept fast to decode (the
                                       scan kernels'); NULL = none */
    uint32_t n_hot;
    /* Table configuration (LOG.md 5.3); 0 = default; TL_CONFIG_ZERO = an
     * explicit 0 (the two retentions only). */
    int64_t checkpoint_interval;          /* default 100 commits */
    int64_t log_retention_hours;          /* default 720 */
    int64_t deleted_file_retention_hours; /* default 168 */
} tl_table_spec;

/* An explicit 0 for tl_table_spec's log_retention_hours and
 * deleted_file_retention_hours (0 there means the default): the metaData
 * configuration then says "0". */
#define TL_CONFIG_ZERO (-1)

/* The built-in "ticks" table: tl_ticks_schema's columns (bp*, sp*, bq*, sq*
 * nullable, the rest not), partitioned by symbol and day(timestamp), sorted
 * by expiry, opt_type, strike, timestamp, hot columns tl_ticks_hot_columns.
 * Static storage; other members 0. */
void tl_ticks_table_spec(tl_table_spec *spec);

/* Create a table at path: the directory is created if missing (its parent
 * must exist); it must not already hold a table. Commits version 0
 * (protocol + metaData). Errors: TL_EINVAL (bad spec: names the field),
 * TL_ECONFLICT (a table exists), TL_EIO, TL_ENOMEM. */
TL_WUR int tl_table_create(const char *path, const tl_table_spec *spec,
                           tl_error *err);

typedef struct tl_table tl_table;

/* Open an existing table (checks that version 0 exists). Errors:
 * TL_ENOTFOUND (no directory, or not a table), TL_EIO, TL_ENOMEM. */
TL_WUR int tl_table_open(const char *path, tl_table **out, tl_error *err);
void tl_table_close(tl_table *t); /* NULL-safe */
const char *tl_table_path(const tl_table *t);

/* ---- appending ----------------------------------------------------------- */

typedef struct tl_append_opts {
    const char *app_id;     /* idempotent ingest (LOG-R60): NULL = none */
    int64_t app_version;    /* >= 0, with app_id */
    size_t max_memory;      /* bytes of buffered rows before a partition is
                               written out as a segment; 0 = 256 MiB */
    uint64_t segment_rows;  /* most rows per data file; 0 = 16 Mi */
    uint32_t threads;       /* segment writers at commit; 0 = online CPUs */
    const char *operation;  /* commitInfo.operation; NULL = "APPEND" */
    tl_progress_fn progress; /* rows buffered so far (total 0 = unknown) */
    void *progress_ctx;
} tl_append_opts;

typedef struct tl_append_result {
    int64_t version;      /* the version committed; for a no-op, the
                             version holding the txn that made it one */
    int noop;             /* 1: (app_id, app_version) was already applied */
    uint64_t n_rows;      /* rows committed (0 for a no-op) */
    uint64_t n_files;     /* data files added */
    uint64_t bytes;       /* bytes of those files */
    uint32_t n_partitions;/* partitions touched */
    int attempts;         /* publication attempts (1 without a race) */
    double elapsed_s;     /* from begin to commit */
    /* Automatic optimize (table configuration ticklake.autoOptimize.minFiles,
     * spec/MAINT.md MAINT-O11): the OPTIMIZE version committed right after
     * the append, or -1 when none was (off, nothing to do, or it failed);
     * its outcome (TL_OK or a TL_E* code), which never fails the append. */
    int64_t auto_optimize_version;
    int auto_optimize_rc;
    /* Dedup keys (ticklake.dedupKeys, spec/MAINT.md section 4): rows not
     * kept because another row of the same key won (the append's or the
     * table's); n_files / bytes are then the rewritten partitions' files. */
    uint64_t dedup_rows_dropped;
} tl_append_result;

typedef struct tl_append tl_append;

/* Start an append to t: reads the latest snapshot (its schema is what
 * batches are checked against). One append = one commit, however many
 * batches and partitions. Errors: TL_EINVAL, TL_EIO, TL_ENOMEM, the log's. */
TL_WUR int tl_append_begin(tl_table *t, const tl_append_opts *o,
                           tl_append **out, tl_error *err);
/* Add rows. b's columns are matched to the table's by name, in any order;
 * a nullable column may be missing (all null). An unknown column, a type
 * that differs from the table's, a missing non-nullable column or a null
 * in a non-nullable column -> TL_EINVAL naming the column (and row), and
 * nothing of b is taken. Rows are buffered per partition; when the buffers
 * exceed max_memory the largest partition is sorted and written as a data
 * file (not yet visible). b may be reused after the call. */
TL_WUR int tl_append_batch(tl_append *a, const tl_batch *b, tl_error *err);
/* Write the remaining buffers (sorted by the table's sort key, split by
 * partition), make every file durable, and commit them as one version
 * (retrying against concurrent appends; LOG.md 9.1-9.3). a is freed
 * whatever the outcome; on failure nothing becomes visible (files written
 * become orphans for vacuum, or are removed). res may be NULL. An append
 * without rows and without app_id commits nothing (res->version = the
 * version it read, n_rows 0); with an app_id, its txn alone is committed. */
TL_WUR int tl_append_commit(tl_append *a, tl_append_result *res,
                            tl_error *err);
/* Abandon: remove the files written so far and free a. NULL-safe. */
void tl_append_abort(tl_append *a);

/* Append a CSV file (header line naming columns; "-" = stdin) as one
 * commit: the format tl_batch_write_csv writes, plus ISO 8601 timestamps
 * (UTC unless an offset is given) and bool 1/0. The CSV is streamed (1 MiB
 * reads, batches of 65536 rows). Errors name the file, line and column;
 * nothing is committed then. o->progress, if set, reports bytes of the file
 * read (total = its size; 0 for a pipe). */
TL_WUR int tl_table_append_csv(tl_table *t, const char *csv_path,
                               const tl_append_opts *o, tl_append_result *res,
                               tl_error *err);

/* ---- snapshots, time travel and reading ---------------------------------- */

enum { TL_AT_LATEST = 0, TL_AT_VERSION = 1, TL_AT_TIMESTAMP = 2 };

/* Which version: the latest, version N, or the latest version whose commit
 * timestamp (in-commit, ms since the epoch) is <= ts_ms. (A tag name: see
 * tl_at_parse and tl_snapshot_open_tag under "tags".) */
typedef struct tl_at {
    int kind;
    int64_t version;
    int64_t ts_ms;
} tl_at;

typedef struct tl_snapshot tl_snapshot;

/* Errors: TL_ENOTFOUND (a version above the latest or below the oldest
 * reachable one, a timestamp before it: the message names them),
 * TL_ECORRUPT (names the commit and line), TL_EIO, TL_ENOMEM. */
TL_WUR int tl_snapshot_open(tl_table *t, const tl_at *at, tl_snapshot **out,
                            tl_error *err);
void tl_snapshot_close(tl_snapshot *s); /* NULL-safe */

typedef struct tl_snapshot_info {
    int64_t version;
    int64_t timestamp_ms;     /* its in-commit timestamp */
    const char *table_id;
    const char *name;         /* NULL if none */
    int64_t created_ms;
    uint64_t n_rows, n_files, bytes;
    uint64_t n_partitions;
    const tl_field *fields;
    uint32_t n_fields;
    const char *symbol_column; /* NULL if none */
    const char *day_column;    /* NULL if none */
    const char *const *sort_key;
    uint32_t n_sort_key;
    int64_t checkpoint_interval, log_retention_hours,
        deleted_file_retention_hours;
} tl_snapshot_info;

/* Everything points into s. */
void tl_snapshot_get_info(const tl_snapshot *s, tl_snapshot_info *out);

/* A data file of the snapshot. Files are ordered by partition (symbol
 * bytewise, null first; then day, null first), then by path. */
typedef struct tl_file_info {
    const char *path;         /* relative to the table */
    int has_symbol, symbol_null;
    const char *symbol;       /* NUL-terminated (symbols never hold NUL) */
    int has_day, day_null;
    int32_t day;              /* days since 1970-01-01 */
    uint64_t n_rows, bytes;
    int has_time_range;
    int64_t first_ts_ns, last_ts_ns;
} tl_file_info;

size_t tl_snapshot_n_files(const tl_snapshot *s);
void tl_snapshot_file(const tl_snapshot *s, size_t i, tl_file_info *out);

/* A partition: the files with the same partition values (consecutive in
 * file order). first_file indexes tl_snapshot_file. */
typedef struct tl_partition_info {
    int has_symbol, symbol_null;
    const char *symbol;
    int has_day, day_null;
    int32_t day;
    size_t first_file, n_files;
    uint64_t n_rows, bytes;
    int has_time_range;
    int64_t first_ts_ns, last_ts_ns;
} tl_partition_info;

size_t tl_snapshot_n_partitions(const tl_snapshot *s);
void tl_snapshot_partition(const tl_snapshot *s, size_t i,
                           tl_partition_info *out);

/* Which rows a reader returns: partitions whose symbol equals `symbol`
 * (NULL = any) and whose day lies in [day_from, day_to] (when has_days). */
typedef struct tl_rows_filter {
    const char *symbol;
    int has_days;
    int32_t day_from, day_to;
} tl_rows_filter;

typedef struct tl_reader tl_reader;

/* A simple row reader (the scan engine is separate): the files of s that
 * pass f, in file order, each in its stored (sorted) order, as batches of
 * at most one block. columns: names to read (NULL = all, in schema order).
 * Every block read has its checksum verified; a data file whose size or
 * row count differs from its add action is TL_ECORRUPT naming the file
 * (LOG-R58). The reader keeps s's files open: close it before s. */
TL_WUR int tl_reader_open(const tl_snapshot *s, const tl_rows_filter *f,
                          const char *const *columns, uint32_t n_columns,
                          tl_reader **out, tl_error *err);
/* Next batch; n_rows 0 at the end. The memory is the reader's, valid until
 * the next call. */
TL_WUR int tl_reader_next(tl_reader *r, tl_batch *b, tl_error *err);
void tl_reader_close(tl_reader *r); /* NULL-safe */

/* ---- history -------------------------------------------------------------- */

typedef struct tl_history_entry {
    int64_t version;
    int64_t timestamp_ms;
    char operation[64];
    int has_read_version;
    int64_t read_version;
    int64_t added_files, added_rows, removed_files, removed_rows;
} tl_history_entry;

/* Every reachable version, oldest first: *out (malloc'd, free()) holds *n
 * entries. */
TL_WUR int tl_table_history(tl_table *t, tl_history_entry **out, size_t *n,
                            tl_error *err);


/* The oldest reachable version (older commits were cleaned up, LOG-R81)
 * and the latest, without replaying the log. Either pointer may be NULL. */
TL_WUR int tl_table_versions(tl_table *t, int64_t *oldest, int64_t *latest,
                             tl_error *err);

/* ---- maintenance: checkpoint, log cleanup, vacuum ------------------------ */

typedef struct tl_checkpoint_result {
    int64_t version;         /* the version checkpointed (the latest) */
    int existed;             /* 1: it was there already */
    uint64_t bytes;          /* size of the checkpoint file */
    uint64_t n_add, n_remove, n_txn;
    int64_t commits_deleted; /* by the log cleanup that follows (LOG-R80) */
    int64_t checkpoints_deleted;
    int64_t oldest_version;  /* oldest reachable version afterwards */
} tl_checkpoint_result;

/* Write the checkpoint of the latest version, then clean up the log:
 * commit files older than the table's log retention that a checkpoint
 * covers are deleted (never one no checkpoint covers). With tags, never
 * past the oldest tagged version m (a checkpoint of m is written so that
 * the commits below it can go; LOG-T6). res may be NULL. */
TL_WUR int tl_table_checkpoint(tl_table *t, tl_checkpoint_result *res,
                               tl_error *err);

enum { TL_VACUUM_REASON_TOMBSTONE = 1, TL_VACUUM_REASON_ORPHAN = 2,
       TL_VACUUM_REASON_TMP = 3 };

typedef struct tl_table_vacuum_opts {
    int64_t retain_hours; /* < 0: the table's deletedFileRetentionHours */
    int dry_run;          /* list, delete nothing */
    int force;            /* allow a retention under one hour */
    tl_progress_fn progress;
    void *progress_ctx;
} tl_table_vacuum_opts;

typedef struct tl_vacuum_entry {
    const char *path;           /* relative to the table */
    int64_t bytes;
    int reason;                 /* TL_VACUUM_REASON_* */
    int64_t removed_in_version; /* tombstones: the version that removed it;
                                   -1 if not one or unknown */
} tl_vacuum_entry;

typedef struct tl_table_vacuum_report {
    tl_vacuum_entry *files;
    size_t n_files;
    int64_t bytes;
    int64_t latest_version, retain_hours, cutoff_ms;
    /* versions that can no longer be read: [lo, hi] ranges */
    int64_t (*unreadable)[2];
    size_t n_unreadable;
    size_t n_dirs_removed;
    int dry_run;
    void *priv;
    /* Files vacuum would have deleted but kept because a tagged version
     * needs them (LOG-T5); owned by the report. */
    struct tl_vacuum_kept {
        const char *path;    /* relative to the table */
        int64_t bytes;
        const char *tag;     /* a tag (the first by name) whose version needs it */
        int64_t version;     /* that version */
    } *kept;
    size_t n_kept;
} tl_table_vacuum_report;

/* Delete data files that no version within the retention needs: removed
 * files whose removal is older than the retention, and orphans of crashed
 * writers older than it; never a file the latest version references
 * (LOG-R82), nor one a tagged version references (reported in kept,
 * LOG-T5; a tag that cannot be read fails vacuum before any deletion). A
 * dry run lists the same files and deletes nothing. */
TL_WUR int tl_table_vacuum(tl_table *t, const tl_table_vacuum_opts *o,
                           tl_table_vacuum_report *rep, tl_error *err);
void tl_table_vacuum_report_free(tl_table_vacuum_report *rep);


/* ---- tags: named versions (engine/src/tags.c; spec/LOG.md section 11) ---- */

/* A tag name (LOG-T1): 1 .. TL_TAG_NAME_MAX bytes of A-Z a-z 0-9 . _ -,
 * starting with a letter, a digit or '_', and not only digits (a number is
 * a version). Case matters. */
#define TL_TAG_NAME_MAX 128

typedef struct tl_tag_info {
    char name[TL_TAG_NAME_MAX + 1];
    int64_t version;       /* the version it names */
    int64_t timestamp_ms;  /* that version's in-commit timestamp */
    int64_t created_ms;    /* when the tag was written (table clock) */
    char table_id[40];     /* metaData.id of the table it was made on */
} tl_tag_info;

/* TL_OK if name is a valid tag name, else TL_EINVAL saying why. */
TL_WUR int tl_tag_name_check(const char *name, tl_error *err);

enum { TL_TAG_FORCE = 1 }; /* tl_table_tag flags: move an existing tag */

/* Name a version: at NULL (or TL_AT_LATEST) = the latest; TL_AT_VERSION
 * and TL_AT_TIMESTAMP as for snapshots (another tag's version: resolve it
 * with tl_at_parse first).
 * Writes _delta_log/_tags/NAME.json put-if-absent (fsync of the file and
 * the directory). While the tag exists, vacuum keeps every data file the
 * version needs and log cleanup keeps what is needed to rebuild it
 * (LOG-T5, LOG-T6). out (may be NULL) receives the tag; *replaced (may be
 * NULL) the version the tag named before (TL_TAG_FORCE), else -1. Errors:
 * TL_EINVAL (bad name, bad at), TL_ECONFLICT (the tag exists and
 * TL_TAG_FORCE is not set: names its version), TL_ENOTFOUND (no such
 * version / timestamp / tag, or the version stopped being reachable while
 * tagging: the tag is then removed again), TL_EUNSUPPORTED (a Delta Lake
 * table, read-only), TL_EIO, TL_ENOMEM, the log's. */
TL_WUR int tl_table_tag(tl_table *t, const char *name, const tl_at *at, int flags,
                        tl_tag_info *out, int64_t *replaced, tl_error *err);

/* Delete a tag (unlink + fsync of _delta_log/_tags/); was (may be NULL)
 * receives it as it was. Errors: TL_EINVAL, TL_ENOTFOUND (no such tag),
 * TL_EUNSUPPORTED (Delta table), TL_EIO. The version's files become
 * subject to vacuum and log cleanup again. */
TL_WUR int tl_table_untag(tl_table *t, const char *name, tl_tag_info *was, tl_error *err);

/* One tag. Errors: TL_EINVAL, TL_ENOTFOUND ("no tag"), TL_ECORRUPT (its
 * file does not parse: names it), TL_EIO. */
TL_WUR int tl_table_tag_get(tl_table *t, const char *name, tl_tag_info *out, tl_error *err);

/* Every tag, sorted by name: *out (malloc'd, free()) holds *n. Errors:
 * TL_ECORRUPT (a tag file that does not parse: names it), TL_EIO,
 * TL_ENOMEM. */
TL_WUR int tl_table_tags(tl_table *t, tl_tag_info **out, size_t *n, tl_error *err);

/* A CLI's --version argument: a decimal version number, or the name of a
 * tag of t, resolved to its version (either way at->kind = TL_AT_VERSION;
 * *is_tag (may be NULL) says which). t may be NULL when text is a number.
 * Errors: TL_EINVAL (empty, a number above 2^63-1, neither a number nor a
 * valid tag name, a tag name without t), TL_ENOTFOUND (no such tag),
 * TL_ECORRUPT (its file does not parse), TL_EIO. */
TL_WUR int tl_at_parse(tl_table *t, const char *text, tl_at *at, int *is_tag, tl_error *err);

/* Time travel by tag: the snapshot of the version tag `name` names, after
 * checking that the tag belongs to this table and history (its tableId and
 * timestamp match, LOG-T8: else TL_ECORRUPT). Errors: those of
 * tl_table_tag_get and tl_snapshot_open. */
TL_WUR int tl_snapshot_open_tag(tl_table *t, const char *name, tl_snapshot **out,
                                tl_error *err);

/* ---- verify (fsck): engine/src/fsck.c; spec/LOG.md section 12 ----------- */

enum { TL_VERIFY_SEGMENT = 1, TL_VERIFY_COMMIT = 2, TL_VERIFY_CHECKPOINT = 3,
       TL_VERIFY_LOG = 4, TL_VERIFY_TAG = 5 };

typedef struct tl_verify_opts {
    const tl_at *at;      /* check the data files of this version only;
                             NULL = the latest and every tagged version */
    int all_versions;     /* the data files of every reachable version (a
                             removed file already vacuumed is counted in
                             files_unavailable, not damage, unless a tagged
                             version needs it) */
    int log_only;         /* no data files: log, checkpoints, tags */
    tl_progress_fn progress; /* bytes of data files checked of the total */
    void *progress_ctx;
} tl_verify_opts;

typedef struct tl_verify_damage {
    int kind;          /* TL_VERIFY_* */
    char *path;        /* relative to the table, e.g. "_delta_log/000...07.json",
                          "symbol=NIFTY/date=2025-11-18/<uuid>.tls" */
    int code;          /* TL_ECHECKSUM, TL_ECORRUPT, TL_ENOTFOUND, ... */
    char *msg;         /* what is wrong: block, column and byte offset when
                          the lower layer says */
    int64_t version;   /* the version concerned, -1 if none */
} tl_verify_damage;

typedef struct tl_verify_report {
    int64_t oldest_version, latest_version; /* reachable range (LOG-R81) */
    uint64_t versions_checked;  /* versions whose data files were checked */
    uint64_t commits, checkpoints, tags; /* log files checked */
    uint64_t files, bytes, rows, blocks; /* data files checked */
    uint64_t files_unavailable; /* all_versions: removed files vacuumed */
    tl_verify_damage *damaged;
    size_t n_damaged;
    double elapsed_s;
} tl_verify_report;

/* Check the table (LOG-V1 .. LOG-V6): every commit file present parses
 * and versions are contiguous up to the latest from the oldest reachable
 * one; every checkpoint decodes (checksum, structure) and matches its
 * commit; every tag parses and names a reachable version of this table;
 * and every data file of the chosen versions exists beneath the table with
 * the size and row count its add records, opens (footer checksum) and has
 * every block checksum right. Everything is checked even after damage is
 * found. Returns TL_OK when nothing is damaged; TL_ECORRUPT when something
 * is (rep->damaged names each file; err the count and the first); other
 * codes when the check could not run (TL_EINVAL, TL_ENOTFOUND: not a
 * table, TL_EIO listing _delta_log/, TL_ENOMEM). rep is filled in every
 * case and must be freed with tl_verify_report_free. */
TL_WUR int tl_table_verify(tl_table *t, const tl_verify_opts *o, tl_verify_report *rep,
                           tl_error *err);
void tl_verify_report_free(tl_verify_report *rep); /* NULL-safe */

/* ---- scans (engine/src/scan.c; predicate grammar in spec/SCAN.md) ------- */

/* How a scan reads block bytes. AUTO = the default chosen by measurement
 * (bench/RESULTS.md, "scan I/O paths"). URING falls back to PREAD when
 * io_uring cannot be set up (io_uring_setup fails: EPERM, ENOSYS ...); the
 * scan then says so once (tl_scan_stats.io_note) and carries on. */
typedef enum tl_io_mode {
    TL_IO_AUTO = 0,
    TL_IO_MMAP = 1,  /* map files; PLAIN blocks used in place, no copy */
    TL_IO_URING = 2, /* io_uring: the exact byte ranges of needed blocks */
    TL_IO_PREAD = 3, /* pread() of the same ranges */
} tl_io_mode;

const char *tl_io_mode_name(int mode); /* "auto", "mmap", "uring", "pread" */
/* Parse "auto" | "mmap" | "uring" | "pread": TL_OK or TL_EINVAL. */
TL_WUR int tl_io_mode_parse(const char *s, int *mode, tl_error *err);

typedef struct tl_scan_opts {
    const char *const *columns; /* projection: names; NULL = all, schema order */
    uint32_t n_columns;
    const char *where;          /* predicate text (spec/SCAN.md): conjunction
                                   of comparisons = != < <= > >= IN BETWEEN
                                   on any column; NULL or "" = every row */
    const char *const *symbols; /* rows whose symbol is one of these (the
                                   symbol partition column, else the symbol
                                   column); NULL = any */
    uint32_t n_symbols;
    int has_days;               /* rows whose UTC day (of the day column) is */
    int32_t day_from, day_to;   /* in [day_from, day_to] */
    int has_time;               /* rows whose time (the day column, i.e. the */
    int64_t ts_from_ns, ts_to_ns; /* table's timestamp) is in [from, to) */
    uint32_t threads;           /* workers; 0 = online CPUs */
    int io;                     /* tl_io_mode */
    int direct;                 /* URING/PREAD: O_DIRECT (cold data) */
    int register_buffers;       /* URING: registered (fixed) buffers */
    uint32_t queue_depth;       /* URING: 0 = 64; at least 32 */
    int no_verify;              /* 1: skip block checksums (default: every
                                   block read is verified) */
    int ordered;                /* 1: one work unit per partition, its rows
                                   in sort-key order across all its files
                                   (k-way merge; ties in file order). 0: one
                                   unit per data file, in stored order */
    const char *const *run_columns; /* report runs where any of these
                                       changes; NULL = the sort key without
                                       its last column; n_run_columns 0 and
                                       run_columns non-NULL = no runs */
    uint32_t n_run_columns;
    const char *const *narrow_columns; /* projected float64/int64 columns the
                                          consumer takes as int32 when a block's
                                          values fit (tl_scan_block.scale):
                                          half the bytes for kernels that
                                          convert in registers. Ignored for
                                          predicate and run columns and for
                                          merged rows. NULL = none */
    uint32_t n_narrow_columns;
    tl_progress_fn progress;    /* rows scanned so far of the total to scan */
    void *progress_ctx;
} tl_scan_opts;

/* One block of scan output, handed to tl_scan_cb.block. Memory belongs to
 * the scan and is valid only during the call. */
typedef struct tl_scan_block {
    uint32_t worker;        /* 0 .. threads-1: the worker calling */
    size_t unit;            /* work unit (see tl_scan_cb.start) */
    size_t partition;       /* index for tl_snapshot_partition */
    size_t file;            /* index for tl_snapshot_file; SIZE_MAX when the
                               rows were merged from several files */
    uint64_t first_row;     /* row of the unit's row stream (file row, or
                               merged row) where this block starts */
    uint32_t n_rows;
    uint32_t n_cols;        /* = projection size */
    const tl_coldef *defs;  /* n_cols: projection names and types */
    const tl_colvec *cols;  /* n_cols: the block's values (tl_types.h) */
    const uint8_t *sel;     /* rows matching the predicate (bitmap, LSB
                               first); NULL = every row matches */
    uint32_t n_sel;         /* rows selected */
    uint32_t n_runs;        /* runs of the run columns within the block */
    const uint32_t *run_ends; /* n_runs cumulative exclusive ends (the last
                                 is n_rows) */
    int continues;          /* 1: the block's first run continues the last
                               run of the unit's previous block (same run
                               values); 0 for a unit's first block */
    const uint64_t *scale;  /* NULL: every column holds values of its type.
                               Else n_cols entries: 0 = so does column i;
                               s != 0 = column i (a narrow_columns one) holds
                               int32 v: a float64 value is (double)v / s,
                               correctly rounded (bit for bit the normal
                               decode), an int64 value is v (s = 1). Nulls
                               hold 0 */
} tl_scan_block;

/* Callbacks. A unit's blocks are delivered in order, by one worker, between
 * its unit_begin and unit_end; different units run on different workers at
 * once. A callback returning non-zero stops the scan (its error is the
 * scan's). Any member may be NULL. */
typedef struct tl_scan_cb {
    /* Once, before any unit: how many units and workers there will be. */
    int (*start)(void *ctx, size_t n_units, uint32_t n_workers, tl_error *err);
    int (*unit_begin)(void *ctx, uint32_t worker, size_t unit,
                      size_t partition, tl_error *err);
    int (*block)(void *ctx, const tl_scan_block *b, tl_error *err);
    int (*unit_end)(void *ctx, uint32_t worker, size_t unit, tl_error *err);
    void *ctx;
} tl_scan_cb;

/* What a scan kept and skipped at each level, and what it read (--explain). */
typedef struct tl_scan_stats {
    uint64_t partitions_total, partitions_kept;
    uint64_t files_total, files_kept;   /* kept: after partition + log stats */
    uint64_t blocks_total, blocks_kept; /* row blocks of the kept files */
    uint64_t rows_total;                /* rows of the snapshot */
    uint64_t rows_scanned;              /* rows of the kept blocks */
    uint64_t rows_selected;             /* rows matching the predicate */
    uint64_t bytes_read;                /* block bytes read or touched */
    uint64_t io_requests;               /* read requests (0 for mmap) */
    size_t n_units;
    uint32_t threads;
    int io_used;                        /* tl_io_mode actually used */
    int io_fallback;                    /* 1: io_uring unavailable, pread used */
    char io_note[160];                  /* why, when io_fallback */
    char plan[512];                     /* the predicate as bound, and which
                                           terms pruned at which level */
    double elapsed_s;
} tl_scan_stats;

/* Scan s: prune partitions (partition values), files (log stats) and blocks
 * (zone maps) against the predicate, filters and time range, read and
 * decode the projection (plus predicate and run columns, internally) of the
 * kept blocks, evaluate the predicate, and call cb. Output is identical
 * whatever the thread count and I/O path. st may be NULL. Errors: TL_EINVAL
 * (bad option, unknown column, predicate syntax or type error: the message
 * shows the text and the position), the readers' (naming file, column,
 * block, byte offset), a callback's. */
TL_WUR int tl_scan_run(const tl_snapshot *s, const tl_scan_opts *o,
                       const tl_scan_cb *cb, tl_scan_stats *st, tl_error *err);

/* Pruning only (reads footers, no blocks): fills st as tl_scan_run would,
 * rows_selected = 0. */
TL_WUR int tl_scan_explain(const tl_snapshot *s, const tl_scan_opts *o,
                           tl_scan_stats *st, tl_error *err);

enum { TL_SCAN_CSV = 0, TL_SCAN_JSON = 1 };

/* The selected rows of the projection, in unit order (file order, or
 * partition order when o->ordered), as CSV (header line, the format
 * tl_batch_write_csv writes) or JSON lines (one object per row), at most
 * limit rows (0 = all), to out_fd. st may be NULL. */
TL_WUR int tl_scan_print(const tl_snapshot *s, const tl_scan_opts *o, int format,
                         uint64_t limit, int out_fd, tl_scan_stats *st,
                         tl_error *err);

/* ---- aggregates over a scan (engine/src/agg.c) --------------------------- */

enum { TL_AGG_COUNT = 0, TL_AGG_SUM = 1, TL_AGG_MIN = 2, TL_AGG_MAX = 3,
       TL_AGG_AVG = 4 };
enum { TL_GROUP_SYMBOL = 1, TL_GROUP_DAY = 2 };

typedef struct tl_agg_spec {
    int fn;             /* TL_AGG_* */
    const char *column; /* NULL for count(*) */
} tl_agg_spec;

/* One output value: null when no non-null input (sum of none is null). */
typedef struct tl_agg_value {
    int is_null;
    tl_type type;       /* count: TL_INT64; sum of ints: TL_INT64 (exact,
                           TL_EINVAL on overflow); of floats and avg:
                           TL_FLOAT64; min/max: the column's type */
    int64_t i; uint64_t u; double f;
    char *s;            /* string min/max, NUL-terminated (owned) */
} tl_agg_value;

typedef struct tl_agg_row {
    int has_symbol, symbol_null; char *symbol; /* grouping keys (owned) */
    int has_day, day_null; int32_t day;
    tl_agg_value *values; /* n_specs */
} tl_agg_row;

typedef struct tl_agg_result {
    tl_agg_row *rows;   /* groups in (symbol, day) order, nulls first; one
                           row without keys when not grouped */
    size_t n_rows;
    uint32_t n_specs;
    tl_scan_stats scan;
} tl_agg_result;

/* Parse "count, sum(volume), min(price), avg(price)" (count(*) too):
 * *specs (malloc'd, free with tl_agg_specs_free) holds *n. Errors: TL_EINVAL
 * naming the position. */
TL_WUR int tl_agg_parse(const char *text, tl_agg_spec **specs, uint32_t *n,
                        tl_error *err);
void tl_agg_specs_free(tl_agg_spec *specs, uint32_t n);

/* Aggregate the selected rows of a scan (o's projection is ignored),
 * grouped by group (TL_GROUP_* bits, 0 = one group). Sums are summed in a
 * fixed order (per block, blocks in unit order, units in order), so results
 * do not depend on the thread count. */
TL_WUR int tl_scan_aggregate(const tl_snapshot *s, const tl_scan_opts *o,
                             const tl_agg_spec *specs, uint32_t n_specs,
                             int group, tl_agg_result *res, tl_error *err);
void tl_agg_result_free(tl_agg_result *res); /* NULL-safe */

/* ---- the EMA-crossover backtest (engine/src/backtest.c; spec/BACKTEST.md) */

#define TL_BT_MAX_SPANS 16

typedef struct tl_backtest_opts {
    const double *fast; uint32_t n_fast; /* fast spans; NULL/0 = {5} */
    const double *slow; uint32_t n_slow; /* slow spans; NULL/0 = {21};
                                            every (fast, slow) pair runs */
    double max_spread;   /* X: max (ask-bid)/mid */
    double min_volume;   /* V */
    const char *price_col, *bid_col, *ask_col, *volume_col; /* NULL = price,
                                                 bp0, sp0, volume */
    const char *time_col;    /* NULL = the table's day column */
    const char *const *contract_cols; /* NULL = symbol, expiry, opt_type,
                                         strike */
    uint32_t n_contract_cols;
    const char *const *symbols; uint32_t n_symbols; /* NULL = all */
    int has_days; int32_t day_from, day_to;
    uint32_t threads;    /* 0 = online CPUs */
    int io;              /* tl_io_mode */
    int direct;          /* O_DIRECT reads (URING/PREAD) */
    int no_verify;       /* skip block checksums */
    const char *trades_path;    /* CSV trade log, or NULL */
    const char *contracts_path; /* CSV per-contract results, or NULL */
    tl_progress_fn progress; void *progress_ctx; /* rows */
} tl_backtest_opts;

/* Defaults: F 5, S 21, X 0.0005, V 1, everything else 0/NULL. */
void tl_backtest_opts_default(tl_backtest_opts *o);

typedef struct tl_backtest_pair {
    double fast, slow;
    uint64_t trades;
    double pnl;
} tl_backtest_pair;

typedef struct tl_backtest_result {
    char *table;             /* table path (owned) */
    int64_t version;         /* the snapshot's version */
    int64_t timestamp_ms;    /* its commit timestamp */
    double max_spread, min_volume;
    uint64_t rows;           /* rows read from the table */
    uint64_t rows_null_price;/* of which skipped (null price) */
    uint64_t contracts;      /* (partition, contract) series */
    uint64_t partitions;
    tl_backtest_pair *pairs; /* n_fast * n_slow, fast-major */
    uint32_t n_pairs;
    double elapsed_s, rows_per_s;
    uint64_t bytes_read;
    tl_scan_stats scan;
} tl_backtest_result;

/* Run the backtest on snapshot s (spec/BACKTEST.md). Errors: TL_EINVAL (bad
 * option, missing or non-numeric column, a table whose sort key is not the
 * contract columns then the time column), the scan's, TL_EIO (writing the
 * CSVs, naming the path). */
TL_WUR int tl_backtest_run(const tl_snapshot *s, const tl_backtest_opts *o,
                           tl_backtest_result *res, tl_error *err);
void tl_backtest_result_free(tl_backtest_result *res); /* NULL-safe */

/* ---- Parquet export and import (engine/src/export.c, import.c;
 *      spec/PARQUET.md) ------------------------------------------------------ */

enum { TL_EXPORT_AUTO = 0, TL_EXPORT_PARTITIONED = 1, TL_EXPORT_SINGLE = 2 };

typedef struct tl_export_opts {
    const char *where;          /* as tl_scan_opts (NULL = every row) */
    const char *const *columns; /* projection; NULL = all, schema order */
    uint32_t n_columns;
    const char *const *symbols; /* NULL = any */
    uint32_t n_symbols;
    int has_days;               /* UTC days in [day_from, day_to] */
    int32_t day_from, day_to;
    const char *compression;    /* "zstd" (NULL = default), "snappy", "none" */
    uint64_t row_group_rows;    /* 0 = writer default (1 Mi rows) */
    int layout;                 /* TL_EXPORT_*: AUTO = partitioned when the
                                   table has partition columns */
    int spark_compatible;       /* TIMESTAMP(MICROS) instead of NANOS */
    int delta;                  /* also write _delta_log/000...0.json */
    uint32_t threads;           /* partitions written in parallel; 0 = CPUs */
    tl_progress_fn progress;    /* rows written of rows to write */
    void *progress_ctx;
} tl_export_opts;

typedef struct tl_export_result {
    char *dest;                 /* owned */
    int64_t version;            /* snapshot exported */
    uint64_t rows, files, bytes;
    double elapsed_s, rows_per_s;
} tl_export_result;

/* Export snapshot s as Parquet to dest: a directory tree of Hive-style
 * partitions symbol=S/date=YYYY-MM-DD/part-NNNNN.parquet (PARTITIONED), or
 * the single file dest (SINGLE). Rows keep the table's sort order in every
 * file. dest must not exist (it is built beside, then renamed into place);
 * on error nothing is left at dest. Errors: TL_EINVAL (bad option or
 * predicate), TL_ECONFLICT (dest exists), the scan's, TL_EIO. */
TL_WUR int tl_export_parquet(const tl_snapshot *s, const char *dest,
                             const tl_export_opts *o, tl_export_result *res,
                             tl_error *err);
void tl_export_result_free(tl_export_result *res); /* NULL-safe */

typedef struct tl_import_map {
    const char *src;            /* column name in the Parquet files */
    const char *dst;            /* column name in the table */
} tl_import_map;

typedef struct tl_import_opts {
    int create;                 /* create the table when it does not exist,
                                   schema inferred from the first file */
    const char *symbol_column;  /* --create: partition columns and sort key */
    const char *day_column;     /* (NULL = inferred: a string column named
                                   symbol, a timestamp column named
                                   timestamp/ts/time) */
    const char *const *sort_key;
    uint32_t n_sort_key;
    const tl_import_map *map;   /* renames, applied before matching */
    uint32_t n_map;
    tl_append_opts append;      /* app_id/app_version (idempotent), memory,
                                   threads; progress reports input bytes */
} tl_import_opts;

typedef struct tl_import_result {
    tl_append_result append;    /* the commit */
    uint32_t files;             /* Parquet files read */
    uint64_t rows;              /* rows read */
    uint64_t bytes;             /* bytes of input files */
    int created;                /* 1: the table was created */
} tl_import_result;

/* Import Parquet files into the table at path, as one commit: inputs are
 * files or directories (searched recursively for *.parquet; Hive k=v
 * directory names become columns). Columns map by name (after map); values
 * convert only when exact (spec/PARQUET.md); rows are repacked into the
 * table's partitions and sort order in bounded memory. Errors name the file,
 * row group, column, page and byte offset; nothing is committed then. */
TL_WUR int tl_import_parquet(const char *path, const char *const *inputs,
                             uint32_t n_inputs, const tl_import_opts *o,
                             tl_import_result *res, tl_error *err);

/* ---- optimize and repartition (engine/src/optimize.c, repartition.c;
 *      spec/MAINT.md) ---------------------------------------------------------- */

/* Default rows per data file written by optimize and repartition (the
 * append writer's most rows per file). */
#define TL_OPTIMIZE_DEFAULT_TARGET_ROWS ((uint64_t)16 << 20)

typedef struct tl_optimize_opts {
    const char *const *symbols; /* partitions of these symbols; NULL = all */
    uint32_t n_symbols;
    int has_days;               /* partitions whose day is in */
    int32_t day_from, day_to;   /* [day_from, day_to] */
    uint64_t target_rows;       /* rows per output file, 1 .. 2^31; 0 = default;
                                   files with >= target_rows rows are kept */
    size_t max_memory;          /* decoded input blocks held at once; 0 = 256 MiB */
    int dry_run;                /* plan only: list, write and commit nothing */
    tl_progress_fn progress;    /* rows merged of rows to merge */
    void *progress_ctx;
} tl_optimize_opts;

/* One partition compacted (or that a dry run would compact). */
typedef struct tl_optimize_part {
    int has_symbol, symbol_null;
    const char *symbol;
    int has_day, day_null;
    int32_t day;
    uint32_t files_in, files_out;   /* files_out 0 in a dry run */
    uint64_t rows, bytes_in, bytes_out;
    const char *const *paths_in;    /* files_in paths, in file order */
} tl_optimize_part;

typedef struct tl_optimize_result {
    int64_t read_version;     /* the snapshot planned on */
    int64_t version;          /* the version committed; -1 when nothing was */
    int committed;
    int dry_run;
    uint64_t partitions;      /* partitions compacted (or to compact) */
    uint64_t partitions_seen; /* partitions that passed the filters */
    uint64_t files_removed, files_added, rows, bytes_removed, bytes_added;
    tl_optimize_part *parts;  /* `partitions` entries, partition order */
    int attempts;             /* publication attempts (LOG-R51) */
    int redone;               /* partitions redone after a concurrent
                                 removal of their inputs (MAINT-O8) */
    int merge_passes;         /* most merge passes of a partition */
    double elapsed_s, rows_per_s;
    void *priv;
} tl_optimize_result;

/* Compact each selected partition's small data files (fewer rows than the
 * target; at least two of them) into files of target_rows rows by a stable
 * k-way merge of their sorted runs (no re-sort), as one commit: removes and
 * adds with dataChange = false, operation "OPTIMIZE" (spec/MAINT.md
 * MAINT-O1..O10). Nothing to do -> no commit (committed 0, version -1).
 * Concurrent appends never conflict; a concurrent removal of an input makes
 * its partition be redone (bounded), a concurrent metaData change is
 * TL_ECONFLICT. res may be NULL; free it with tl_optimize_result_free.
 * Errors: TL_EINVAL (options: target, a filter the table cannot apply),
 * TL_EUNSUPPORTED (a Delta table), TL_ECONFLICT, the readers' (naming
 * file, column, block), TL_EIO, TL_ENOMEM. Nothing is visible on failure. */
TL_WUR int tl_table_optimize(tl_table *t, const tl_optimize_opts *o, tl_optimize_result *res,
                             tl_error *err);
void tl_optimize_result_free(tl_optimize_result *res); /* NULL-safe */

/* Set (value non-NULL) or remove (value NULL) a table configuration key as
 * one commit of a metaData action (operation "SET CONFIGURATION"; a
 * metaData change, so a concurrent commit makes it TL_ECONFLICT). Known
 * ticklake.* keys are checked (LOG-R17, spec/MAINT.md section 3:
 * ticklake.autoOptimize.minFiles and .targetRows turn on the optimize of
 * an append's partitions after it commits): TL_EINVAL naming the key and
 * the range. *version (may be NULL) = the version committed. */
TL_WUR int tl_table_set_config(tl_table *t, const char *key, const char *value,
                               int64_t *version, tl_error *err);

typedef struct tl_repartition_opts {
    const char *symbol_column;  /* new symbol partition column; NULL = keep */
    int no_symbol;              /* 1: drop the symbol partitioning */
    const char *day_column;     /* new day partition column; NULL = keep */
    int no_day;                 /* 1: drop the day partitioning */
    int set_sort_key;           /* 1: replace the sort key by sort_key */
    const char *const *sort_key;
    uint32_t n_sort_key;
    uint64_t target_rows;       /* rows per output file; 0 = default */
    size_t max_memory;          /* rows buffered before a sorted run is
                                   spilled; 0 = 256 MiB */
    int dry_run;
    tl_progress_fn progress;    /* rows read of the table's rows, then rows
                                   written */
    void *progress_ctx;
} tl_repartition_opts;

typedef struct tl_repartition_result {
    int64_t read_version;
    int64_t version;            /* -1 when nothing was committed */
    int committed;
    int dry_run;
    int unchanged;              /* 1: the spec and sort key are already so */
    uint64_t rows, files_removed, files_added, bytes_removed, bytes_added;
    uint64_t partitions_before, partitions_after; /* after: 0 in a dry run */
    uint64_t runs_spilled;      /* sorted runs written to _tmp/ */
    double elapsed_s, rows_per_s;
} tl_repartition_result;

/* Rewrite every live file of the table under a new partition spec and/or
 * sort key as one commit: a metaData action (same id, schema, name and
 * configuration), removes of all live files and adds of the new ones, all
 * dataChange = false, operation "REPARTITION" (spec/MAINT.md MAINT-P1..P9).
 * Older versions keep reading with their own spec. Memory is bounded by an
 * external sort (runs in <table>/_tmp/, removed on success and failure).
 * Any concurrent commit is TL_ECONFLICT (LOG-R50). res may be NULL.
 * Errors: TL_EINVAL (unknown column, wrong type, repeated sort column,
 * target), TL_EUNSUPPORTED (Delta), TL_ECONFLICT, the readers', TL_EIO,
 * TL_ENOMEM. */
TL_WUR int tl_table_repartition(tl_table *t, const tl_repartition_opts *o,
                                tl_repartition_result *res, tl_error *err);

/* ---- timestamp_us values as text -------------------------------------------------
 * Columns of type TL_TIMESTAMP_US (int64 microseconds since the epoch, UTC;
 * years -290308 .. 294247) are written by tl_batch_write_csv (and read back
 * by CSV appends) as YYYY-MM-DD HH:MM:SS[.ffffff]: the fraction left out when
 * zero and trimmed of trailing zeros, at least four year digits, a leading
 * '-' for years <= 0 (year 0 = 1 BC), e.g. "290000-12-30 23:00:00".
 * tl_timestamp_us_text writes that text of us to out (at least
 * TL_TIMESTAMP_US_TEXT_MAX bytes), NUL-terminated, and returns its length;
 * for tools printing such values (aggregate min/max, backtest rows). */
#define TL_TIMESTAMP_US_TEXT_MAX 32
size_t tl_timestamp_us_text(int64_t us, char *out);

/* ---- data quality: validate (engine/src/validate.c; spec/QUALITY.md) ---- */

/* The checks, in report order (tl_validate_report.checks[i]). */
enum {
    TL_VCHK_MISSING_DAY = 0,   /* expected trading day without data */
    TL_VCHK_EXTRA_DAY = 1,     /* data on a non-trading day */
    TL_VCHK_GAP = 2,           /* no tick for longer than the gap */
    TL_VCHK_BID_GT_ASK = 3,    /* bid > ask (both > 0) */
    TL_VCHK_NEG_PRICE = 4,     /* price, bid or ask < 0 */
    TL_VCHK_NEG_VOLUME = 5,    /* volume < 0 */
    TL_VCHK_PRICE_JUMP = 6,    /* price change beyond k sigma */
    TL_VCHK_OUTSIDE_SESSION = 7, /* timestamp outside the session */
    TL_VCHK_DUP_KEY = 8,       /* same full sort key as the row before */
    TL_VCHK_COUNT = 9
};
/* "missing_day", "extra_day", "gap", "bid_gt_ask", "negative_price",
 * "negative_volume", "price_jump", "outside_session", "duplicate_key";
 * NULL when out of range. */
const char *tl_validate_check_name(int check);

typedef struct tl_validate_opts {
    const char *const *symbols; uint32_t n_symbols; /* NULL = every symbol */
    int has_days; int32_t day_from, day_to;  /* days checked (inclusive);
                                                coverage range (else the
                                                table's first..last day) */
    const int32_t *holidays; uint32_t n_holidays; /* non-trading weekdays */
    int64_t gap_ns;            /* 0 = 60 s; < 0 = no gap check */
    int has_session;           /* session [open, close) as UTC time of day */
    int64_t session_open_ns, session_close_ns;
    double jump_sigma;         /* k; 0 = 10; < 0 = no jump check */
    uint32_t jump_min_changes; /* changes a contract-day needs; 0 = 20 */
    const char *price_col, *volume_col, *bid_col, *ask_col; /* NULL =
                                 price, volume, bp0, sp0 (a default that is
                                 not in the table skips its checks; a name
                                 given that is not: TL_EINVAL) */
    int has_since;             /* check only partitions that gained data */
    int64_t since_version;     /* files after this version */
    int incremental;           /* since = the remembered version, if any */
    int save_state;            /* remember the version validated */
    uint32_t max_examples;     /* per check; 0 = 10 */
    uint32_t threads; int io;  /* as tl_scan_opts */
    tl_progress_fn progress; void *progress_ctx; /* rows scanned */
} tl_validate_opts;

typedef struct tl_validate_example {
    const char *symbol;        /* NULL: no symbol partition */
    int has_day; int32_t day;
    const char *contract;      /* contract columns as text; NULL if none */
    int has_ts; int64_t ts_ns; /* the row's timestamp (gap: its start) */
    int64_t end_ts_ns;         /* gap: its end */
    const char *column;        /* column checked; NULL if not one */
    double value, value2;      /* per check (spec/QUALITY.md) */
    const char *file;          /* data file; NULL: merged from several */
    int has_row; uint64_t row; /* row in file, else in partition order */
} tl_validate_example;

typedef struct tl_validate_check {
    const char *name;
    int enabled;               /* 0: not run; note says why */
    char note[160];
    uint64_t count;
    tl_validate_example *examples; /* at most max_examples */
    uint32_t n_examples;
} tl_validate_check;

typedef struct tl_validate_coverage {
    const char *symbol;        /* NULL: the table has no symbol partition */
    uint32_t days_expected, days_present;
    int32_t *missing; uint32_t n_missing; /* expected days without data */
    int32_t *extra; uint32_t n_extra;     /* data on non-trading days */
} tl_validate_coverage;

typedef struct tl_validate_nulls {
    const char *column;
    uint64_t nulls, rows;
} tl_validate_nulls;

typedef struct tl_validate_report {
    char *table;
    int64_t version;           /* validated */
    int64_t since_version;     /* -1: everything checked */
    int has_range; int32_t day_from, day_to; /* coverage range */
    uint64_t rows_checked, files_checked, partitions_checked;
    tl_validate_coverage *coverage; size_t n_coverage;
    tl_validate_nulls *nulls; size_t n_nulls; /* every column */
    tl_validate_check checks[TL_VCHK_COUNT];
    uint64_t findings;         /* sum of the checks' counts */
    char notes[512];
    tl_scan_stats scan;
    double elapsed_s;
    void *priv;
} tl_validate_report;

/* Validate the snapshot of t at `at` (NULL = latest): coverage from the
 * partition list, per-row checks by an ordered scan of the partitions
 * selected (all, or with since/incremental those with files added after
 * the version), null rates from the data files' footers. Read-only except
 * the state file _ticklake/validate.json when save_state. Errors:
 * TL_EINVAL (bad option, a column given that is not in the table or is not
 * numeric), TL_ENOTFOUND (since version unreachable), the scan's, TL_EIO. */
TL_WUR int tl_table_validate(tl_table *t, const tl_at *at,
                             const tl_validate_opts *o,
                             tl_validate_report *rep, tl_error *err);
void tl_validate_report_free(tl_validate_report *rep); /* NULL-safe */
/* The report as text, or as one JSON object (json = 1). */
TL_WUR int tl_validate_report_print(const tl_validate_report *rep, FILE *f,
                                    int json, tl_error *err);
/* The remembered version (*found 0 when none). */
TL_WUR int tl_validate_state_read(tl_table *t, int64_t *version, int *found,
                                  tl_error *err);
/* Write findings into the table at path (created if missing: QUALITY.md
 * gives its schema) as one commit: one row per check count, per example
 * and per column with nulls. Errors: TL_EINVAL (a table there with another
 * schema), the append's. */
TL_WUR int tl_validate_write_table(const tl_validate_report *rep,
                                   const char *path, tl_error *err);

/* ---- resample (engine/src/resample.c; spec/QUALITY.md) ------------------ */

enum { TL_RESAMPLE_BARS = 0, TL_RESAMPLE_QUOTES = 1 };
enum { TL_RESAMPLE_PER_CONTRACT = 0, TL_RESAMPLE_PER_SYMBOL = 1 };

typedef struct tl_resample_opts {
    int64_t interval_ns;       /* > 0, divides a day */
    int kind;                  /* TL_RESAMPLE_BARS / _QUOTES */
    int per;                   /* TL_RESAMPLE_PER_CONTRACT / _SYMBOL */
    const char *price_col, *volume_col;   /* NULL = price, volume */
    const char *bid_col, *ask_col;        /* NULL = bp0, sp0 */
    const char *bid_size_col, *ask_size_col; /* NULL = bq0, sq0 */
    const char *const *symbols; uint32_t n_symbols;
    int has_days; int32_t day_from, day_to;
    uint32_t threads; int io;
    tl_append_opts append;     /* app_id/app_version, memory, threads */
    tl_progress_fn progress; void *progress_ctx; /* rows scanned */
} tl_resample_opts;

typedef struct tl_resample_result {
    int64_t src_version;
    uint64_t rows_in;          /* rows scanned */
    uint64_t rows_out;         /* bars or quotes written */
    int created;               /* DST was created */
    tl_append_result append;
    double elapsed_s;
} tl_resample_result;

/* "1s", "30s", "1m", "5m", "1h", "1d", "250ms": *ns. TL_EINVAL naming the
 * text unless it is a positive whole number of a unit dividing a day. */
TL_WUR int tl_resample_parse_interval(const char *text, int64_t *ns,
                                      tl_error *err);
/* Resample snapshot src into the table at dst_path (created if missing,
 * partitioned like src; an existing one must have the same schema) as one
 * commit. Errors: TL_EINVAL (bad option, unknown or non-numeric column, a
 * source without the partitions or sort key needed, DST schema differs:
 * the message names the column), the scan's, the append's. */
TL_WUR int tl_table_resample(const tl_snapshot *src, const char *dst_path,
                             const tl_resample_opts *o,
                             tl_resample_result *res, tl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TICKLAKE_H */
