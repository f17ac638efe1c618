/*
 * optimize_int.h - the machinery optimize (optimize.c) and repartition
 * (repartition.c) share, implemented by optimize.c (spec/MAINT.md):
 *
 *   tl_cbuf   a growable set of columns (the table's schema) that rows are
 *             appended to, by range or by index; its view is a tl_colvec
 *             array the segment writer and the sort take.
 *   tl_mw     the maintenance writer: streams blocks of rows into data
 *             files of one partition at a time, rolling over at the target
 *             row count; data files are written as the append writes them
 *             (fresh UUID name, O_EXCL, fsync, footer read back for the add
 *             statistics, directories made durably; LOG-R41); temporary
 *             runs (temp = 1) go to a scratch directory, unsynced, without
 *             statistics.
 *   tl_merge  the stable k-way merge of sorted segment files by a sort key
 *             (MAINT-O3): ties go to the earlier input; bounded memory (one
 *             decoded block per input, at most max_memory of them at once:
 *             with more inputs, consecutive groups are merged into
 *             temporary runs first, which keeps the merge stable).
 */
#ifndef TL_OPTIMIZE_INT_H
#define TL_OPTIMIZE_INT_H

#include "table_int.h"

#include <stddef.h>
#include <stdint.h>

/* rows per merged output block */
#define TL_MERGE_OUT_ROWS 16384u
/* directory (beneath the table root) of temporary runs: LOG-R11 reserves
 * names starting with '_', so no log path and no vacuum walk ever enters it */
#define TL_MAINT_TMP_DIR "_tmp"

/* ---- column buffers ---- */

typedef struct tl_cbcol {
    uint8_t *vals;  /* fixed: values; string: n + 1 uint32 offsets */
    size_t cap;
    uint8_t *data;  /* string bytes */
    size_t dlen, dcap;
    uint8_t *valid; /* bitmap; NULL until the first null */
    size_t vcap;
} tl_cbcol;

typedef struct tl_cbuf {
    uint32_t nf;
    const tl_coldef *defs; /* not owned */
    tl_cbcol *c;
    tl_colvec *view;       /* nf */
    uint32_t n;            /* rows */
} tl_cbuf;

TL_WUR int tl_cbuf_init(tl_cbuf *b, const tl_coldef *defs, uint32_t nf, tl_error *err);
void tl_cbuf_free(tl_cbuf *b); /* NULL-safe */
void tl_cbuf_reset(tl_cbuf *b); /* 0 rows, memory kept */
size_t tl_cbuf_mem(const tl_cbuf *b);
/* Append rows [from, from + len) of src (nf columns, the buffer's types). */
TL_WUR int tl_cbuf_append_range(tl_cbuf *b, const tl_colvec *src, uint32_t from, uint32_t len,
                                tl_error *err);
/* Append rows idx[0..m) of src. */
TL_WUR int tl_cbuf_append_idx(tl_cbuf *b, const tl_colvec *src, const uint32_t *idx, uint32_t m,
                              tl_error *err);
/* A run of rows [from, from + len) of the nf vectors v. */
typedef struct tl_crun {
    const tl_colvec *v;
    uint32_t from, len;
} tl_crun;
/* Append the rows of runs[0..n_runs) in order, column by column (many
 * short runs: the merge's output). */
TL_WUR int tl_cbuf_append_runs(tl_cbuf *b, const tl_crun *runs, uint32_t n_runs,
                               tl_error *err);
/* The buffer's rows as nf vectors (validity NULL for a column without nulls);
 * valid until the next change. */
const tl_colvec *tl_cbuf_cols(tl_cbuf *b);

/* ---- the maintenance writer ---- */

typedef struct tl_mw_file {
    char *path;       /* relative to the table root */
    tl_log_pvals pv;  /* pv.symbol points to sym */
    char *sym;
    int64_t size, rows, mtime;
    tl_dfstats st;    /* final files only */
} tl_mw_file;

typedef struct tl_mw {
    tl_table *t;
    uint32_t nf;
    const tl_coldef *defs;        /* not owned */
    const tlf_col_opts *col_opts; /* not owned */
    int day_col;                  /* for the files' time range; -1 none */
    int temp;                     /* 1: temporary runs */
    uint64_t target_rows;         /* rows per file (roll over) */
    /* the partition being written */
    char dir[TL_TABLE_PART_DIR_MAX];
    tl_log_pvals pv;
    char *sym;
    char base[37];    /* UUID of the partition's files: <base>-<seq>.tls, so
                         one partition's outputs sort in output order */
    uint32_t seq;
    /* the file being written */
    int open;
    tl_io_file fd;
    tlf_seg_writer *w;
    tl_io_bufsink sink;
    char *cur_path;
    uint64_t cur_rows;
    int64_t cur_mtime;
    /* scratch */
    uint8_t *wbuf;
    uint8_t *foot;
    size_t cap_foot;
    tl_cbuf slice;
    /* results */
    tl_mw_file *files;
    size_t n_files, cap_files;
    char **dirs;      /* partition directories that got files (fsync) */
    size_t n_dirs, cap_dirs;
    int64_t first_ms; /* when the first file was created */
    uint64_t rows, bytes;
} tl_mw;

TL_WUR int tl_mw_init(tl_mw *mw, tl_table *t, const tl_coldef *defs, const tlf_col_opts *col_opts,
                      uint32_t nf, int day_col, int temp, uint64_t target_rows, tl_error *err);
/* Finish the current file and direct the next rows to dir (made durably
 * if missing; "" = the table root) with partition values pv (copied). */
TL_WUR int tl_mw_set_part(tl_mw *mw, const char *dir, const tl_log_pvals *pv, tl_error *err);
/* Write n rows (nf columns); opens a file as needed, rolls over at
 * target_rows. */
TL_WUR int tl_mw_write(tl_mw *mw, const tl_colvec *cols, uint32_t n, tl_error *err);
/* Finish the current file (if any): footer, fsync, statistics. */
TL_WUR int tl_mw_finish_file(tl_mw *mw, tl_error *err);
/* fsync every directory that got a file (LOG-R41). */
TL_WUR int tl_mw_sync_dirs(tl_mw *mw, tl_error *err);
/* Unlink the files [from, n_files) (best effort) and forget them. */
void tl_mw_drop_files(tl_mw *mw, size_t from);
void tl_mw_free(tl_mw *mw); /* aborts an open file (unlinked); keeps finished ones */

/* ---- the merge ---- */

typedef struct tl_msrc {
    const char *path; /* beneath the table root */
    int64_t size;     /* expected bytes and rows (LOG-R58); -1: unchecked */
    int64_t rows;
} tl_msrc;

typedef struct tl_merge_spec {
    tl_table *t;
    const tl_coldef *defs;   /* the table's columns (nf) */
    uint32_t nf;
    const uint32_t *key;     /* sort key: column indexes, most significant first */
    uint32_t n_key;
    const tlf_col_opts *col_opts; /* for temporary runs */
    size_t max_memory;       /* budget of the inputs' decoded blocks */
    const char *tmp_dir;     /* beneath the root, existing: temporary runs */
    /* progress: rows delivered to out at the last pass */
    void (*rows_done)(void *ctx, uint64_t rows);
    void *rows_ctx;
} tl_merge_spec;

/* Merge the n sorted inputs into one sorted stream handed to out in blocks
 * of at most TL_MERGE_OUT_ROWS rows (stable: equal keys keep input order,
 * each input its stored order). *passes (may be NULL) = merge passes
 * (1 without temporary runs). Errors: the inputs' (TL_ECORRUPT,
 * TL_ECHECKSUM naming file, column, block), TL_EIO, TL_ENOMEM, out's. */
TL_WUR int tl_merge_run(const tl_merge_spec *ms, const tl_msrc *src, size_t n,
                        int (*out)(void *ctx, const tl_colvec *cols, uint32_t n, tl_error *err),
                        void *out_ctx, int *passes, tl_error *err);

/* A sequential reader of one sorted input, block by block, every column of
 * ms->defs (by name; LOG-R58 checks of size and rows as src states; every
 * block's checksum verified). */
typedef struct tl_mreader tl_mreader;
TL_WUR int tl_mreader_open(const tl_merge_spec *ms, const tl_msrc *src, tl_mreader **out,
                           tl_error *err);
/* Next block: *cols (nf vectors) and *n rows, valid until the next call;
 * *n = 0 at the end. */
TL_WUR int tl_mreader_next(tl_mreader *r, const tl_colvec **cols, uint32_t *n, tl_error *err);
void tl_mreader_close(tl_mreader *r); /* NULL-safe */

/* A fresh scratch directory _tmp/<uuid> beneath the root (created, with
 * _tmp); *out is malloc'd. Remove it with tl_maint_tmp_remove (its files
 * too). */
TL_WUR int tl_maint_tmp_create(tl_table *t, char **out, tl_error *err);
void tl_maint_tmp_remove(tl_table *t, const char *dir);

/* Automatic optimize after an append (MAINT-O11): optimize the partitions
 * parts[0..n) (the append's), each only when it has at least min_files
 * (>= 2) files below target_rows. As tl_table_optimize otherwise. */
TL_WUR int tl_optimize_auto(tl_table *t, const tl_log_pvals *parts, size_t n, uint32_t min_files,
                            uint64_t target_rows, tl_optimize_result *res, tl_error *err);

/* ---- dedup keys (spec/MAINT.md section 4, MAINT-D1..D7) ---- */

#define TL_CONF_DEDUP_KEYS "ticklake.dedupKeys" /* comma-separated columns */
#define TL_CONF_DEDUP_MODE "ticklake.dedupMode" /* "upsert" (default) | "drop" */

typedef struct tl_dedup_cfg {
    int on;        /* ticklake.dedupKeys is set */
    int keep_last; /* upsert: the last row of a key wins; drop: the first */
} tl_dedup_cfg;

/* The dedup configuration of m (MAINT-D1): off without ticklake.dedupKeys;
 * else the keys must name distinct schema columns, include every sort key
 * column (the sort key must not be empty) and add at most the symbol
 * partition column; the mode is upsert or drop. Errors: TL_EINVAL naming
 * the key, the column and what is wrong. */
TL_WUR int tl_dedup_config(const tl_log_metadata *m, tl_dedup_cfg *out, tl_error *err);

/* A data file an append wrote (not committed). */
typedef struct tl_dedup_file {
    const char *path;
    const tl_log_pvals *pv;
    int64_t size, rows;
} tl_dedup_file;

typedef struct tl_dedup_result {
    int64_t version;       /* committed; for a no-op (txn), the txn's version */
    int noop;
    int attempts;          /* publication attempts, all rounds */
    uint64_t rows_dropped; /* rows not kept (MAINT-D2/D3) */
    uint64_t rows_out, files_out, bytes_out, files_removed;
} tl_dedup_result;

/* Commit an append under dedup keys (MAINT-D3..D6): for each partition of
 * files[0..n) (each sorted by meta's sort key, in write order), merge the
 * partition's live files (latest snapshot, file order) then its new files,
 * keep one row per key (cfg), write the result as new data files, and
 * commit removes of the partition's old files and adds of the new ones
 * (dataChange true), with txn (may be NULL), reading the partitions whole
 * (a concurrent add there conflicts: the rewrite is redone, 3 rounds).
 * meta: the metaData the files were written under (a different latest
 * sort key or spec is TL_ECONFLICT). The files themselves are never
 * committed: the caller unlinks them. Errors: the merge's, TL_ECONFLICT,
 * the log's. */
TL_WUR int tl_dedup_commit(tl_table *t, const tl_log_metadata *meta, const tl_dedup_cfg *cfg,
                           const tl_dedup_file *files, size_t n, const tl_log_txn *txn,
                           const char *operation, uint64_t target_rows, tl_dedup_result *res,
                           tl_error *err);

/* Monotonic seconds. */
double tl_maint_now_s(void);

#endif /* TL_OPTIMIZE_INT_H */
