/*
 * snapshot_int.h - what the scan engine, aggregates and the backtest need
 * of a tl_snapshot beyond the public API (engine/src/snapshot.c).
 */
#ifndef TL_SNAPSHOT_INT_H
#define TL_SNAPSHOT_INT_H

#include <stddef.h>

#include "log_int.h"
#include "table_int.h"
#include "ticklake.h"

/* The table the snapshot was opened on (its path, tl_io and root dir). */
tl_table *tl_snapshot_table(const tl_snapshot *s);
/* The add action of file i (tl_snapshot_file order): path, partition
 * values, size, rows, log stats (has_stats). */
const tl_log_add *tl_snapshot_add(const tl_snapshot *s, size_t i);
/* The log snapshot (version, metadata). */
const tl_log_snapshot *tl_snapshot_log(const tl_snapshot *s);

/* Can rows of s be read? TL_OK for a ticklake table; TL_EUNSUPPORTED for a
 * Delta Lake table (its data files are Parquet: the message suggests
 * `ticklake import`; LOG-D1). Every path that opens s's data files calls it
 * first: tl_reader_open does; the scan planner (scan.c) should. */
TL_WUR int tl_snapshot_check_rows(const tl_snapshot *s, tl_error *err);

/* qsort comparator of `const tl_log_add *` in snapshot file order: partition
 * (symbol bytewise, null first; then day, null first), then path. */
int tl_snapshot_cmp_add(const void *x, const void *y);

/* rc, after prefixing err with "table <path>: " when rc is an error whose
 * message does not name s's table yet (the entry points of the read side -
 * scans, aggregates, the backtest - call it on their way out, so that every
 * message, an out-of-memory one of an inner layer too, says which table). */
int tl_snapshot_name_error(const tl_snapshot *s, int rc, tl_error *err);

/* Growable decode buffers of one column, reused block after block by the
 * row reader (snapshot.c) and optimize's merge inputs (optimize.c). */
typedef struct tl_blockbuf {
    void *buf;
    size_t buf_cap;
    uint8_t *data;
    size_t data_cap;
    uint8_t *valid;
    size_t valid_cap;
} tl_blockbuf;

/* Decode block blk of column col of seg (whose file is mapped at base),
 * checksum verified, into bb's buffers (grown as needed); out receives the
 * vector (pointing into bb), *rows the block's rows. Errors are prefixed
 * with "table <table_path>: ". */
TL_WUR int tl_blockbuf_decode(tl_blockbuf *bb, const tlf_seg *seg, uint32_t col, uint32_t blk,
                              const uint8_t *base, const char *table_path, tl_colvec *out,
                              uint32_t *rows, tl_error *err);
void tl_blockbuf_free(tl_blockbuf *bb); /* NULL-safe; bb is zeroed */

#endif /* TL_SNAPSHOT_INT_H */
