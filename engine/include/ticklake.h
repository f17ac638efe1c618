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

typedef struct tl_gen_opts {
    uint64_t seed;
    uint32_t days;               /* trading days (weekdays) to generate */
    int32_t start_day;           /* days since 1970-01-01; must be set */
    const char *const *symbols;  /* underlyings, e.g. {"BANKNIFTY","NIFTY"} */
    uint32_t n_symbols;
    uint64_t rows_per_day;       /* ticks per symbol per day */
} tl_gen_opts;

/* Defaults: seed 1, 1 day from 2025-11-17, BANKNIFTY and NIFTY,
 * 1,000,000 rows per symbol-day. */
void tl_gen_opts_default(tl_gen_opts *o);

typedef struct tl_gen tl_gen;

/* The generator's schema (the built-in "ticks" schema): n columns. The
 * array is static. */
const tl_coldef *tl_ticks_schema(uint32_t *n_cols);

/* Start generating. Errors: TL_EINVAL (no symbols, days == 0, rows == 0,
 * start_day unset), TL_ENOMEM. */
TL_WUR int tl_gen_open(const tl_gen_opts *o, tl_gen **out, tl_error *err);

/* Next batch of at most max_rows rows, in arrival order (timestamp-major,
 * contracts and symbols interleaved). A batch never spans two days.
 * *done = 1 and batch->n_rows = 0 at the end. The batch's memory belongs to
 * the generator and is valid until the next call or close. */
TL_WUR int tl_gen_next(tl_gen *g, uint32_t max_rows, tl_batch *batch,
                       int *done, tl_error *err);

/* Total rows the generator will emit. */
uint64_t tl_gen_total_rows(const tl_gen *g);

void tl_gen_close(tl_gen *g);

/* Write a batch as CSV rows (header once when header != 0). Floats are
 * printed shortest round-trip; timestamps as integer nanoseconds; dates as
 * YYYY-MM-DD; nulls as empty fields. */
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
