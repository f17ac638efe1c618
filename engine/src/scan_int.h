/*
 * scan_int.h - what scan.c (plan, pruning, workers, single-file units,
 * runs, printing) and scan_merge.c (ordered k-way merge of a partition's
 * files) share. Internal to the scan engine.
 */
#ifndef TL_SCAN_INT_H
#define TL_SCAN_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "blockio_int.h"
#include "pred_int.h"
#include "snapshot_int.h"
#include "ticklake.h"
#include "tl_format.h"

/* Rows of a merged output block. */
#define TL_SCAN_MERGE_ROWS 16384u
/* A merge delivers a stretch of at least this many rows of one input (or a
 * whole input block) in place, without copying it. */
#define TL_SCAN_VIEW_ROWS 1024u

/* A column the scan reads: a "slot". Slots [0, n_need) are the union of
 * projection, predicate and run columns (what a single-file unit reads);
 * slots [n_need, n_slots) are sort-key columns read only by merges. */
typedef struct tl_scan_slot {
    uint32_t field;   /* index into the schema */
    tl_type type;
    int decode;       /* projection or predicate column: always decoded */
    int run;          /* a run column (index into plan->run_slot) or -1 */
    int narrow;       /* decoded with TLF_DECODE_NARROW (tl_scan_opts.narrow_columns) */
} tl_scan_slot;

typedef struct tl_scan_unit {
    size_t partition;
    size_t first;     /* index into plan->files */
    size_t n;         /* kept files of this unit */
} tl_scan_unit;

typedef struct tl_scan_plan {
    const tl_snapshot *s;
    tl_table *t;
    tl_snapshot_info info;
    const tl_scan_opts *o;
    int explain;
    int merge_always;     /* TICKLAKE_SCAN_MERGE set: no follow-on streaming */
    int io_mode;          /* MMAP/URING/PREAD */
    tl_pred *pred;        /* bound predicate (where + filters): pruning */
    int pred_true;
    tl_pred *row_pred;    /* what rows of kept partitions still need checked:
                             pred without the filter terms partition pruning
                             decides exactly (symbols on the symbol partition
                             column, whole days on the day column) */
    int row_true;
    tl_scan_slot *slots;
    uint32_t n_need, n_slots;
    int32_t *slot_of_field; /* n_fields: slot or -1 */
    uint32_t *proj_slot;  /* n_proj */
    tl_coldef *proj_defs;
    uint32_t n_proj;
    uint32_t *run_slot;   /* n_run */
    uint32_t n_run;
    uint32_t *key_slot;   /* n_key: the sort key (ordered scans) */
    uint32_t n_key;
    size_t *files;        /* kept snapshot file indices, in file order */
    size_t n_files;
    size_t n_parts_kept;
    tl_scan_unit *units;
    size_t n_units;
    uint64_t total_rows;  /* rows of the kept files */
} tl_scan_plan;

/* Per-column scratch (grown, reused). */
typedef struct tl_scan_buf {
    void *buf;
    size_t buf_cap;
    uint8_t *data;
    size_t data_cap;
    uint8_t *valid;
    size_t valid_cap;
} tl_scan_buf;

/* An open data file of a unit. */
typedef struct tl_scan_file {
    size_t index;         /* snapshot file */
    const tl_log_add *add;
    tl_bio_file *bf;
    tlf_seg *seg;
    uint32_t *scol;       /* n_slots: column of the segment */
    uint32_t *blocks;     /* kept row blocks */
    uint32_t n_blocks;
    size_t cap_blocks;
} tl_scan_file;

/* The value of a run column at the end of the previous block. */
typedef struct tl_scan_runval {
    int is_null;
    uint8_t *s;
    size_t s_len, s_cap;
} tl_scan_runval;

/* How a run column's runs are known for the current block. */
enum { TL_SCAN_RLE_NONE = 0,   /* decoded: compare rows */
       TL_SCAN_RLE_FIXED = 1,  /* RLE of a fixed-width column */
       TL_SCAN_RLE_DICT_STR = 2, /* DICT codes into the column dictionary */
       TL_SCAN_RLE_DICT_FIXED = 3 }; /* DICT codes into the block dictionary */

typedef struct tl_scan_rle {
    int kind;
    uint32_t n;
    const void *values;
    const uint32_t *ends;
    const void *dict;
    uint32_t width;
    const tlf_seg *seg;
    uint32_t col;
} tl_scan_rle;

/* A callback or tl_scan_print's limit asked to stop: not an error. */
#define TL_SCAN_STOPPED 0x5ca57095

typedef struct tl_scan_worker {
    const tl_scan_plan *p;
    uint32_t id;
    void *ctl;
    tl_bio *bio;
    const tl_scan_cb *cb;
    tl_scan_file file;    /* single-file units */
    /* decoding */
    tl_scan_buf *bufs;    /* n_slots */
    tl_colvec *vec;       /* n_slots: decoded (or merged) vectors */
    tl_colvec *fcols;     /* n_fields: for tl_pred_eval */
    tl_colvec *pcols;     /* n_proj */
    uint64_t *vscale;     /* n_slots: tlf_vec.scale of vec (0 unless narrowed) */
    uint64_t *pscale;     /* n_proj: tl_scan_block.scale */
    uint8_t *sel;
    size_t sel_cap;
    /* runs */
    tl_scan_rle *rle;     /* n_run */
    uint32_t *ends[3];
    size_t ends_cap[3];
    tl_scan_runval *last; /* n_run */
    const uint32_t *preset_ends; /* runs computed by the caller of emit */
    uint32_t preset_n;
    int preset_continues; /* >= 0: the caller's "continues" (it then keeps
                             the last run values itself); -1: emit's */
    int have_last;
    /* batches */
    tl_bio_range *ranges[2];
    size_t ranges_cap[2];
    uint8_t *tail;        /* footer reads */
    size_t tail_cap;
    /* counts */
    uint64_t blocks_total, blocks_kept, rows_scanned, rows_selected, bytes_read;
    uint64_t *term_blocks; /* TL_PRED_MAX_TERMS + 1 */
    _Atomic uint64_t *rows_done;
    _Atomic int *stop;
    void *merge;          /* scan_merge.c state */
} tl_scan_worker;

/* Open snapshot file file_index for a unit: map or read the footer, check
 * it against its add action (LOG-R58: size, rows, column names and types),
 * prune its row blocks by zone maps (f->blocks) and count them. merge: the
 * sort-key slots are read too. Close with tl_scan_file_close (keeps the
 * buffers for the next file), free with tl_scan_file_free. */
TL_WUR int tl_scan_file_open(tl_scan_worker *w, size_t file_index, tl_scan_file *f, int merge,
                             tl_error *err);
void tl_scan_file_close(tl_scan_file *f);
void tl_scan_file_free(tl_scan_file *f);

/* Block info of slot k's column for row block blk. */
const tlf_block_info *tl_scan_blockinfo(const tl_scan_file *f, uint32_t slot, uint32_t blk);

/* Decode slot k of row block blk from its bytes into b / *out (results may
 * point into bytes when zero_copy). */
TL_WUR int tl_scan_decode(tl_scan_worker *w, const tl_scan_file *f, uint32_t slot, uint32_t blk,
                          const uint8_t *bytes, int zero_copy, tl_scan_buf *b, tl_colvec *out,
                          tl_error *err);

/* Deliver n rows whose vectors are w->vec (every decoded slot; run slots
 * decoded or described by w->rle): evaluates the predicate, computes the
 * runs and "continues" (unless preset: then run-only slots are not read),
 * calls cb->block, counts. */
TL_WUR int tl_scan_emit(tl_scan_worker *w, size_t unit, size_t partition, size_t file,
                        uint64_t first_row, uint32_t n, tl_error *err);

/* Runs of row block blk of f whose slots are decoded in vec (n rows), from
 * the stored runs where the blocks allow (r: the slots' ranges, bytes
 * valid), else by comparing rows. *ends points into w's scratch, valid
 * until the next call or emit. */
TL_WUR int tl_scan_runs_of(tl_scan_worker *w, const tl_scan_file *f, uint32_t blk, tl_colvec *vec,
                           const tl_bio_range *r, uint32_t n, const uint32_t **ends,
                           uint32_t *n_runs, tl_error *err);

/* Stream the kept row blocks of the open file f in stored order as blocks of
 * unit: batches of exact byte ranges, zero copy where possible, runs from
 * the stored runs. merged_row NULL: blocks name the file and their row in
 * it; else they are merged-unit blocks (file SIZE_MAX, first_row
 * *merged_row, advanced; empty blocks skipped). "continues" carries on from
 * the worker's last delivered block (w->have_last). Leaves f open. */
TL_WUR int tl_scan_stream_file(tl_scan_worker *w, size_t unit, tl_scan_file *f,
                               uint64_t *merged_row, tl_error *err);

/* An ordered unit of several files (scan_merge.c): files whose sort-key
 * ranges follow one another are streamed one after another
 * (tl_scan_stream_file), others merged. */
TL_WUR int tl_scan_merge_unit(tl_scan_worker *w, size_t unit, tl_error *err);
void tl_scan_merge_free(tl_scan_worker *w); /* NULL-safe state */

#endif /* TL_SCAN_INT_H */
