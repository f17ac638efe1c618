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

#ifdef __cplusplus
}
#endif
#endif /* TICKLAKE_H */
