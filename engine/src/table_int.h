/*
 * table_int.h - internals of tables shared by table.c (create, open,
 * append), snapshot.c (snapshots, files, rows, history) and the tests:
 * the tl_table handle and opening a table through a chosen tl_io (fault
 * injection) with a chosen clock.
 */
#ifndef TL_TABLE_INT_H
#define TL_TABLE_INT_H

#include "ticklake.h"
#include "io_int.h"
#include "log_int.h"

/* Configuration key (LOG.md 5.3): comma-separated columns the writer keeps
 * fast to decode (tlf_col_opts.hot). Not a protocol setting: readers need
 * not know it. */
#define TL_CONF_HOT_COLUMNS "ticklake.hotColumns"

struct tl_table {
    char *path;
    const tl_io *io; /* &guard.io: every file operation of the handle */
    tl_io_guard guard; /* a failed fsync stops the handle's writes (LOG-C10) */
    tl_io_file root;
    int64_t (*now_ms)(void *arg); /* NULL: CLOCK_REALTIME */
    void *now_arg;
    int delta; /* 1: a Delta Lake table (LOG-D1): read-only; snapshots and
                  history read its log in the Delta dialect; every write
                  returns TL_EUNSUPPORTED */
};

/* tl_table_open with an I/O layer and a clock (both may be NULL). */
TL_WUR int tl_table_open_io(const char *path, const tl_io *io, int64_t (*now_ms)(void *),
                            void *now_arg, tl_table **out, tl_error *err);

/* tl_table_create through io / clock. */
TL_WUR int tl_table_create_io(const char *path, const tl_table_spec *spec, const tl_io *io,
                              int64_t (*now_ms)(void *), void *now_arg, tl_error *err);

int64_t tl_table_now_ms(const tl_table *t);

/* LOG-R83: the age (ms) past which a writer's unpublished data files may
 * have been taken for orphans by vacuum, for table configuration m: the
 * deleted-file retention minus an hour; half the retention when it is below
 * two hours; -1 (no limit) when it is 0 (only a forced vacuum runs then, and
 * nothing protects a writer). */
int64_t tl_table_orphan_age_ms(const tl_log_metadata *m);

/* TL_OK while the handle may write; TL_EIO once an fsync through it failed
 * (LOG-C10): "table PATH: writes through this handle stopped after a failed
 * fsync (fsync(...): ...)". Every write entry point calls it first. */
TL_WUR int tl_table_writable(tl_table *t, tl_error *err);

/* tl_segment_writer_open (segment_api.c) through io (NULL: tl_io_default()):
 * every open, write, fsync, close and unlink of the standalone segment
 * writer goes through it, so the fault injector reaches them. */
TL_WUR int tl_segment_writer_open_io(const char *path, const tl_coldef *defs, uint32_t n_cols,
                                     const tl_segment_write_opts *opts, const tl_io *io,
                                     tl_segment_writer **out, tl_error *err);

/* ---- shared by the data file writers: append (table.c), optimize
 * (optimize.c) and repartition (repartition.c) ---- */

#include "tl_format.h"

/* Index of column name in m's schema, or -1. */
int tl_table_meta_col(const tl_log_metadata *m, const char *name);

/* The segment writer's columns for m (m->n_fields entries each): names and
 * types, and the options: hot (never zstd, fast encodings) for the columns
 * of ticklake.hotColumns and the sort key, AUTO otherwise. */
void tl_table_writer_cols(const tl_log_metadata *m, tl_coldef *defs, tlf_col_opts *col_opts);

/* The partition directory of partition values pv under m's spec (LOG.md
 * 2.1, PP-5 for nulls); "" for an unpartitioned table. cap >=
 * TL_TABLE_PART_DIR_MAX. Errors: TL_EINVAL (a symbol with NUL; cap). */
#define TL_TABLE_PART_DIR_MAX 600
TL_WUR int tl_table_part_dir(const tl_log_metadata *m, const tl_log_pvals *pv, char *dir,
                             size_t cap, tl_error *err);

/* The add statistics of a data file (LOG.md 6), from its footer. */
typedef struct tl_dfstats {
    tl_log_colstats *cs; /* one per column, schema order */
    uint8_t *sbytes;     /* storage of the string bounds */
    int has_time_range;
    int64_t first_ts, last_ts;
} tl_dfstats;

void tl_dfstats_free(tl_dfstats *st); /* NULL-safe; zeroes it */

/* Read back the footer of the data file just written through fd (size bytes,
 * rows rows, nf columns defs) and fill st: per-file aggregates of the block
 * zone maps, and the time range of column day_col (-1: none). foot/cap_foot:
 * a reusable buffer. Errors: TL_EIO, TL_ECORRUPT (the footer disagrees with
 * what was written), TL_ENOMEM. */
TL_WUR int tl_datafile_read_back(const tl_coldef *defs, uint32_t nf, int day_col, tl_io_file *fd,
                                 const char *path, int64_t size, int64_t rows, uint8_t **foot,
                                 size_t *cap_foot, tl_dfstats *st, tl_error *err);

#endif /* TL_TABLE_INT_H */
