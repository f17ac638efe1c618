/*
 * scan.c - the scan engine (spec/SCAN.md sections 1, 3, 4): planning and
 * pruning at three levels (partition values, log statistics, footer zone
 * maps), the worker pool over work units, single-file units read in
 * double-buffered batches of exact block byte ranges through tl_bio,
 * decoding (zero copy where the bytes allow), predicate evaluation, runs
 * of the run columns, tl_scan_explain and tl_scan_print.
 *
 * Invariants:
 * - The user's where, the symbol list, the day range and the time range
 *   are one bound predicate (the filters are composed as predicate text and
 *   ANDed), so every level prunes and filters rows by the same rules.
 * - Work units are handed out in order by an atomic counter; a unit's
 *   blocks are delivered by one worker, in order. Nothing a callback sees
 *   depends on the thread count or the I/O path except tl_scan_block.worker.
 * - Per-worker scratch (decode buffers, ranges, selection, runs) grows and
 *   is reused: no allocation per block once warm.
 * - Progress is called from one thread only (the calling thread).
 * - The first error stops every worker and is the scan's.
 */
#include "scan_int.h"

#include "civil_int.h"
#include "text_int.h"
#include "util_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
/* XXH3 compiled here, inline, for this machine's vectors (AVX-512 with
 * -march=native): the shared library's generic build runs SSE2 */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* Batches: at most this many row blocks, and about this many bytes. */
#define BATCH_BLOCKS 8u
#define BATCH_BYTES (16u << 20)

/* ---- I/O mode names ------------------------------------------------------- */

const char *tl_io_mode_name(int mode)
{
    switch (mode) {
    case TL_IO_AUTO: return "auto";
    case TL_IO_MMAP: return "mmap";
    case TL_IO_URING: return "uring";
    case TL_IO_PREAD: return "pread";
    default: return "?";
    }
}

int tl_io_mode_parse(const char *s, int *mode, tl_error *err)
{
    static const char *const names[] = {"auto", "mmap", "uring", "pread"};
    if (!mode)
        return tl_error_set(err, TL_EINVAL, "io mode: no output");
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *mode = i;
            return TL_OK;
        }
    return tl_error_set(err, TL_EINVAL, "io mode: expected auto, mmap, uring or pread, found '%s'",
                        s ? s : "(null)");
}

/* ---- plan ------------------------------------------------------------------ */

/* A caller's callback returned rc: the error is theirs (SCAN-S9). */
static int cb_failed(tl_scan_worker *w, int rc);

static int find_field(const tl_snapshot_info *in, const char *name)
{
    for (uint32_t i = 0; name && i < in->n_fields; i++)
        if (strcmp(in->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Growable text for the composed predicate. */
typedef struct text {
    char *p;
    size_t len, cap;
    int oom;
} text;

static void text_add(text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (tl_grow((void **)&t->p, &t->cap, t->len + n + 1)) {
        t->oom = 1;
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}
static void text_str(text *t, const char *s) { text_add(t, s, strlen(s)); }
static void text_quoted(text *t, const char *s, char q)
{
    text_add(t, &q, 1);
    for (const char *c = s; *c; c++) {
        text_add(t, c, 1);
        if (*c == q)
            text_add(t, c, 1);
    }
    text_add(t, &q, 1);
}
static void text_and(text *t)
{
    if (t->len)
        text_str(t, " AND ");
}
static void text_cmp_i64(text *t, const char *col, const char *op, int64_t v)
{
    char num[32];
    text_and(t);
    text_quoted(t, col, '"');
    snprintf(num, sizeof num, " %s %" PRId64, op, v);
    text_str(t, num);
}

/* Zone of the partition columns of a partition (or a file's partition
 * values). */
typedef struct part_zone {
    const tl_scan_plan *p;
    int sym_field, day_field;
    int has_symbol, symbol_null;
    const char *symbol;
    int has_day, day_null;
    int32_t day;
    uint64_t n_rows;
    const tl_log_add *add; /* files: the log stats */
} part_zone;

static int part_zone_fill(const part_zone *c, uint32_t field, tl_pred_zone *z)
{
    if ((int)field == c->sym_field && c->has_symbol) {
        z->known = 1;
        z->n_rows = c->n_rows;
        z->has_null_count = 1;
        z->null_count = c->symbol_null ? c->n_rows : 0;
        if (!c->symbol_null) {
            z->has_minmax = 1;
            z->smin = z->smax = (const uint8_t *)c->symbol;
            z->smin_len = z->smax_len = (uint32_t)strlen(c->symbol);
        }
        return 1;
    }
    if ((int)field == c->day_field && c->has_day) {
        z->known = 1;
        z->n_rows = c->n_rows;
        z->has_null_count = 1;
        z->null_count = c->day_null ? c->n_rows : 0;
        if (!c->day_null) {
            z->has_minmax = 1;
            z->min.i = (int64_t)c->day * TL_NS_PER_DAY;
            z->max.i = z->min.i + (TL_NS_PER_DAY - 1);
        }
        return 1;
    }
    return 0;
}

static int partition_zone(void *ctx, uint32_t field, tl_pred_zone *z)
{
    memset(z, 0, sizeof *z);
    part_zone_fill(ctx, field, z);
    return 0;
}

static void zval_from_log(tl_type type, const tl_log_value *v, tlf_zval *out)
{
    if (tl_type_is_float(type))
        out->f = v->f;
    else if (tl_type_is_unsigned_int(type))
        out->u = v->u;
    else
        out->i = v->i;
}

static int file_zone(void *ctx, uint32_t field, tl_pred_zone *z)
{
    const part_zone *c = ctx;
    memset(z, 0, sizeof *z);
    int exact = part_zone_fill(c, field, z);
    if (exact && (int)field == c->sym_field)
        return 0; /* the partition value is exact */
    const tl_field *fd = &c->p->info.fields[field];
    const tl_log_add *a = c->add;
    const tl_log_colstats *cs = NULL;
    if (a->has_stats)
        for (uint32_t i = 0; i < a->stats.n_cols; i++)
            if (a->stats.cols[i].type == fd->type && strcmp(a->stats.cols[i].name, fd->name) == 0) {
                cs = &a->stats.cols[i];
                break;
            }
    if (cs) {
        z->known = 1;
        z->n_rows = (uint64_t)a->n_rows;
        z->has_null_count = 1;
        z->null_count = (uint64_t)cs->null_count;
        if (fd->type == TL_STRING) {
            if (cs->has_min) {
                z->has_minmax = 1;
                z->smin = cs->min.s.p;
                z->smin_len = cs->min.s.len;
                z->smin_inexact = cs->min_truncated;
                if (cs->has_max) {
                    z->smax = cs->max.s.p;
                    z->smax_len = cs->max.s.len;
                    z->smax_inexact = cs->max_truncated;
                } else {
                    z->smax_unbounded = 1;
                }
            }
        } else if (cs->has_min && cs->has_max) {
            tlf_zval lo, hi;
            zval_from_log(fd->type, &cs->min, &lo);
            zval_from_log(fd->type, &cs->max, &hi);
            if (z->has_minmax && !tl_type_is_float(fd->type) &&
                !tl_type_is_unsigned_int(fd->type)) {
                if (lo.i > z->min.i)
                    z->min.i = lo.i;
                if (hi.i < z->max.i)
                    z->max.i = hi.i;
            } else {
                z->min = lo;
                z->max = hi;
            }
            z->has_minmax = 1;
        }
        if (tl_type_is_float(fd->type))
            z->has_nan = cs->has_nan;
    } else if (!exact) {
        z->known = 0;
        z->has_nan = 1;
    }
    if ((int)field == c->day_field && a->has_stats && a->stats.has_time_range && z->known) {
        if (z->has_minmax) {
            if (a->stats.first_ts_ns > z->min.i)
                z->min.i = a->stats.first_ts_ns;
            if (a->stats.last_ts_ns < z->max.i)
                z->max.i = a->stats.last_ts_ns;
        } else if (z->null_count < z->n_rows || !z->has_null_count) {
            z->has_minmax = 1;
            z->min.i = a->stats.first_ts_ns;
            z->max.i = a->stats.last_ts_ns;
        }
    }
    return 0;
}

typedef struct block_zone_ctx {
    const tl_scan_plan *p;
    const tl_scan_file *f;
    uint32_t blk;
} block_zone_ctx;

static int block_zone(void *ctx, uint32_t field, tl_pred_zone *z)
{
    const block_zone_ctx *c = ctx;
    memset(z, 0, sizeof *z);
    int slot = field < c->p->info.n_fields ? c->p->slot_of_field[field] : -1;
    if (slot < 0)
        return 0;
    const tlf_block_info *bi = tlf_seg_block(c->f->seg, c->f->scol[slot], c->blk);
    z->known = 1;
    z->n_rows = bi->n_rows;
    z->has_null_count = 1;
    z->null_count = bi->null_count;
    z->has_minmax = (bi->zone_flags & TLF_ZONE_HAS_MINMAX) != 0;
    z->min = bi->min;
    z->max = bi->max;
    z->smin = bi->smin;
    z->smax = bi->smax;
    z->smin_len = bi->smin_len;
    z->smax_len = bi->smax_len;
    z->smin_inexact = (bi->zone_flags & TLF_ZONE_MIN_INEXACT) != 0;
    z->smax_inexact = (bi->zone_flags & TLF_ZONE_MAX_INEXACT) != 0;
    z->smax_unbounded = (bi->zone_flags & TLF_ZONE_MAX_UNBOUNDED) != 0;
    z->has_nan = (bi->zone_flags & TLF_ZONE_HAS_NAN) != 0;
    return 0;
}

static void plan_free(tl_scan_plan *p)
{
    tl_pred_free(p->pred);
    tl_pred_free(p->row_pred);
    free(p->slots);
    free(p->slot_of_field);
    free(p->proj_slot);
    free(p->proj_defs);
    free(p->run_slot);
    free(p->key_slot);
    free(p->files);
    free(p->units);
    memset(p, 0, sizeof *p);
}

static int add_slot(tl_scan_plan *p, uint32_t field, int decode)
{
    int k = p->slot_of_field[field];
    if (k < 0) {
        k = (int)p->n_slots++;
        p->slot_of_field[field] = k;
        p->slots[k] = (tl_scan_slot){field, p->info.fields[field].type, 0, -1, 0};
    }
    if (decode)
        p->slots[k].decode = 1;
    return k;
}

/* rows_only: leave out the filter terms that partition pruning decides
 * exactly (every row of a kept partition passes them). */
static int compose_where(const tl_scan_plan *p, const tl_scan_opts *o, int rows_only, text *t,
                         tl_error *err)
{
    const tl_snapshot_info *in = &p->info;
    if (o->where && *o->where) {
        text_str(t, "(");
        text_str(t, o->where);
        text_str(t, ")");
    }
    if (o->symbols && o->n_symbols && !(rows_only && in->symbol_column)) {
        const char *col = in->symbol_column;
        if (!col) {
            int k = find_field(in, "symbol");
            if (k < 0 || in->fields[k].type != TL_STRING)
                return tl_error_set(err, TL_EINVAL,
                                    "scan: symbols given, but table %s has no symbol column",
                                    p->t->path);
            col = in->fields[k].name;
        }
        text_and(t);
        text_quoted(t, col, '"');
        text_str(t, " IN (");
        for (uint32_t i = 0; i < o->n_symbols; i++) {
            if (!o->symbols[i])
                return tl_error_set(err, TL_EINVAL, "scan: symbol %u is NULL", i);
            if (i)
                text_str(t, ", ");
            text_quoted(t, o->symbols[i], '\'');
        }
        text_str(t, ")");
    }
    if (o->has_days || o->has_time) {
        const char *col = in->day_column;
        if (!col)
            return tl_error_set(err, TL_EINVAL,
                                "scan: a %s range given, but table %s has no day column",
                                o->has_days ? "day" : "time", p->t->path);
        if (o->has_days && !rows_only) {
            const int64_t lim = INT64_MAX / TL_NS_PER_DAY;
            int64_t lo = o->day_from, hi = (int64_t)o->day_to + 1;
            if (lo > -lim)
                text_cmp_i64(t, col, ">=", lo > lim ? INT64_MAX : lo * TL_NS_PER_DAY);
            if (hi <= lim)
                text_cmp_i64(t, col, "<", hi < -lim ? INT64_MIN + 1 : hi * TL_NS_PER_DAY);
        }
        if (o->has_time) {
            text_cmp_i64(t, col, ">=", o->ts_from_ns);
            text_cmp_i64(t, col, "<", o->ts_to_ns);
        }
    }
    return t->oom ? tl_error_set(err, TL_ENOMEM, "scan: out of memory") : TL_OK;
}

static int plan_build(const tl_snapshot *s, const tl_scan_opts *o, int explain, tl_scan_plan *p,
                      uint64_t term_counts[2][TL_PRED_MAX_TERMS + 1], tl_error *err)
{
    memset(p, 0, sizeof *p);
    if (!s || !o)
        return tl_error_set(err, TL_EINVAL, "scan: no %s", s ? "options" : "snapshot");
    p->s = s;
    p->o = o;
    p->t = tl_snapshot_table(s);
    /* a Delta Lake table opens read-only, but its data files are Parquet
     * (spec/LOG.md LOG-D1): say so before any file is read */
    int rc_rows = tl_snapshot_check_rows(s, err);
    if (rc_rows)
        return rc_rows;
    p->explain = explain;
    /* diagnostics and tests: every ordered multi-file unit is merged */
    p->merge_always = getenv("TICKLAKE_SCAN_MERGE") != NULL;
    tl_snapshot_get_info(s, &p->info);
    const tl_snapshot_info *in = &p->info;
    uint32_t nf = in->n_fields;
    if (o->io < TL_IO_AUTO || o->io > TL_IO_PREAD)
        return tl_error_set(err, TL_EINVAL, "scan: unknown io mode %d", o->io);
    p->io_mode = o->io == TL_IO_AUTO ? TL_IO_MMAP : o->io;
    if (o->ordered != 0 && o->ordered != 1)
        return tl_error_set(err, TL_EINVAL, "scan: ordered must be 0 or 1, found %d", o->ordered);
    if (o->columns == NULL && o->n_columns != 0)
        return tl_error_set(err, TL_EINVAL, "scan: n_columns %u without columns", o->n_columns);

    /* the user's where alone first, so its errors point into its text */
    if (o->where && *o->where) {
        tl_pred *tmp = NULL;
        int rc = tl_pred_parse(o->where, in->fields, nf, &tmp, err);
        tl_pred_free(tmp);
        if (rc)
            return rc;
    }
    text t = {0}, tr = {0};
    int rc = compose_where(p, o, 0, &t, err);
    if (!rc)
        rc = tl_pred_parse(t.p ? t.p : "", in->fields, nf, &p->pred, err);
    if (!rc)
        rc = compose_where(p, o, 1, &tr, err);
    if (!rc)
        rc = tl_pred_parse(tr.p ? tr.p : "", in->fields, nf, &p->row_pred, err);
    free(t.p);
    free(tr.p);
    if (rc)
        return rc;
    p->pred_true = tl_pred_is_true(p->pred);
    p->row_true = tl_pred_is_true(p->row_pred);

    uint32_t n_proj = o->columns ? o->n_columns : nf;
    uint32_t n_run = 0;
    const char *const *run_names = o->run_columns;
    if (run_names) {
        n_run = o->n_run_columns;
    } else {
        run_names = in->sort_key;
        n_run = in->n_sort_key ? in->n_sort_key - 1 : 0;
    }
    size_t n_slots_max = (size_t)nf + 1;
    p->slots = calloc(n_slots_max, sizeof *p->slots);
    p->slot_of_field = malloc((nf ? nf : 1) * sizeof *p->slot_of_field);
    p->proj_slot = calloc(n_proj ? n_proj : 1, sizeof *p->proj_slot);
    p->proj_defs = calloc(n_proj ? n_proj : 1, sizeof *p->proj_defs);
    p->run_slot = calloc(n_run ? n_run : 1, sizeof *p->run_slot);
    p->key_slot = calloc(in->n_sort_key ? in->n_sort_key : 1, sizeof *p->key_slot);
    uint32_t *pcols = calloc(nf ? nf : 1, sizeof *pcols);
    if (!p->slots || !p->slot_of_field || !p->proj_slot || !p->proj_defs || !p->run_slot ||
        !p->key_slot || !pcols) {
        free(pcols);
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    }
    for (uint32_t i = 0; i < nf; i++)
        p->slot_of_field[i] = -1;
    for (uint32_t i = 0; i < n_proj; i++) {
        int k = o->columns ? find_field(in, o->columns[i]) : (int)i;
        if (k < 0) {
            free(pcols);
            return tl_error_set(err, TL_EINVAL, "scan: table %s at version %" PRId64
                                " has no column '%s'", p->t->path, in->version,
                                o->columns[i] ? o->columns[i] : "(null)");
        }
        p->proj_slot[i] = (uint32_t)add_slot(p, (uint32_t)k, 1);
        p->proj_defs[i] = (tl_coldef){in->fields[k].name, in->fields[k].type};
    }
    p->n_proj = n_proj;
    uint32_t npc = 0;
    tl_pred_columns(p->pred, pcols, &npc);
    for (uint32_t i = 0; i < npc; i++)
        add_slot(p, pcols[i], 1);
    /* narrowed columns: projected float64/int64 ones the predicate does not
     * read (it needs the column's type); run columns are dropped below */
    for (uint32_t i = 0; i < o->n_narrow_columns && o->narrow_columns; i++) {
        int k = find_field(in, o->narrow_columns[i]);
        if (k < 0 || p->slot_of_field[k] < 0)
            continue;
        tl_scan_slot *sl = &p->slots[p->slot_of_field[k]];
        int in_pred = 0;
        for (uint32_t j = 0; j < npc; j++)
            in_pred |= pcols[j] == (uint32_t)k;
        sl->narrow = !in_pred && (sl->type == TL_FLOAT64 || sl->type == TL_INT64);
    }
    free(pcols);
    for (uint32_t i = 0; i < n_run; i++) {
        int k = find_field(in, run_names[i]);
        if (k < 0)
            return tl_error_set(err, TL_EINVAL, "scan: run column '%s': table %s has no such "
                                "column", run_names[i] ? run_names[i] : "(null)", p->t->path);
        int sl = add_slot(p, (uint32_t)k, 0);
        p->run_slot[i] = (uint32_t)sl;
        if (p->slots[sl].run < 0)
            p->slots[sl].run = (int)i;
    }
    p->n_run = n_run;
    p->n_need = p->n_slots;
    for (uint32_t k = 0; k < p->n_slots; k++)
        if (p->slots[k].run >= 0)
            p->slots[k].narrow = 0; /* runs compare the column's values */
    for (uint32_t i = 0; i < in->n_sort_key; i++) {
        int k = find_field(in, in->sort_key[i]);
        if (k < 0)
            return tl_error_set(err, TL_ECORRUPT, "scan: table %s: sort key column '%s' is not in "
                                "the schema", p->t->path, in->sort_key[i]);
        if (o->ordered) {
            p->key_slot[p->n_key] = (uint32_t)add_slot(p, (uint32_t)k, 0);
            p->slots[p->key_slot[p->n_key++]].narrow = 0; /* keys are compared */
        }
    }

    /* partitions and files */
    size_t n_parts = tl_snapshot_n_partitions(s), n_files = tl_snapshot_n_files(s);
    p->files = malloc((n_files ? n_files : 1) * sizeof *p->files);
    p->units = malloc((n_files ? n_files : 1) * sizeof *p->units);
    if (!p->files || !p->units)
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    int sym_field = find_field(in, in->symbol_column), day_field = find_field(in, in->day_column);
    for (size_t i = 0; i < n_parts; i++) {
        tl_partition_info pi;
        tl_snapshot_partition(s, i, &pi);
        part_zone z = {p, sym_field, day_field, pi.has_symbol, pi.symbol_null, pi.symbol,
                       pi.has_day, pi.day_null, pi.day, pi.n_rows, NULL};
        int term = -1;
        if (!p->pred_true && !tl_pred_may_match(p->pred, partition_zone, &z, &term)) {
            term_counts[0][term >= 0 && term < TL_PRED_MAX_TERMS ? term : TL_PRED_MAX_TERMS]++;
            continue;
        }
        p->n_parts_kept++;
        size_t first = p->n_files;
        for (size_t f = pi.first_file; f < pi.first_file + pi.n_files; f++) {
            const tl_log_add *a = tl_snapshot_add(s, f);
            part_zone fz = z;
            fz.add = a;
            fz.n_rows = (uint64_t)a->n_rows;
            if (!p->pred_true && !tl_pred_may_match(p->pred, file_zone, &fz, &term)) {
                term_counts[1][term >= 0 && term < TL_PRED_MAX_TERMS ? term : TL_PRED_MAX_TERMS]++;
                continue;
            }
            p->files[p->n_files++] = f;
            p->total_rows += (uint64_t)a->n_rows;
            if (!o->ordered)
                p->units[p->n_units++] = (tl_scan_unit){i, p->n_files - 1, 1};
        }
        if (o->ordered && p->n_files > first)
            p->units[p->n_units++] = (tl_scan_unit){i, first, p->n_files - first};
    }
    return TL_OK;
}

/* ---- files ------------------------------------------------------------------ */

const tlf_block_info *tl_scan_blockinfo(const tl_scan_file *f, uint32_t slot, uint32_t blk)
{
    return tlf_seg_block(f->seg, f->scol[slot], blk);
}

void tl_scan_file_close(tl_scan_file *f)
{
    tlf_seg_close(f->seg);
    f->seg = NULL;
    tl_bio_file_close(f->bf);
    f->bf = NULL;
    f->n_blocks = 0;
}

void tl_scan_file_free(tl_scan_file *f)
{
    tl_scan_file_close(f);
    free(f->scol);
    free(f->blocks);
    memset(f, 0, sizeof *f);
}

int tl_scan_file_open(tl_scan_worker *w, size_t file_index, tl_scan_file *f, int merge,
                      tl_error *err)
{
    const tl_scan_plan *p = w->p;
    const tl_table *t = p->t;
    const tl_log_add *a = tl_snapshot_add(p->s, file_index);
    f->index = file_index;
    f->add = a;
    f->n_blocks = 0;
    if (!f->scol && !(f->scol = calloc(p->n_slots ? p->n_slots : 1, sizeof *f->scol)))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    int rc = tl_bio_file_open(w->bio, &t->root, a->path, (uint64_t)a->size_bytes, &f->bf, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    uint64_t size = tl_bio_file_size(f->bf);
    const uint8_t *map = tl_bio_file_map(f->bf);
    if (map) {
        rc = tlf_seg_open_mem(map, size, a->path, 0, &f->seg, err);
    } else if (size < TLF_TRAILER_SIZE) {
        rc = tl_error_set(err, TL_ECORRUPT, "%s: %" PRIu64 " bytes, shorter than a trailer (%d)",
                          a->path, size, TLF_TRAILER_SIZE);
    } else {
        uint8_t tail[TLF_TRAILER_SIZE];
        uint64_t foff = 0, flen = 0;
        rc = tl_bio_file_pread(f->bf, tail, sizeof tail, size - TLF_TRAILER_SIZE, err);
        if (!rc)
            rc = tlf_seg_parse_trailer(tail, size, a->path, &foff, &flen, err);
        if (!rc && flen > size)
            rc = tl_error_set(err, TL_ECORRUPT, "%s: footer of %" PRIu64 " bytes in a file of %"
                              PRIu64, a->path, flen, size);
        if (!rc && tl_grow((void **)&w->tail, &w->tail_cap, flen ? flen : 1))
            rc = tl_error_set(err, TL_ENOMEM, "scan: out of memory (footer of %s)", a->path);
        if (!rc)
            rc = tl_bio_file_pread(f->bf, w->tail, flen, foff, err);
        if (!rc)
            rc = tlf_seg_open_footer(w->tail, flen, tail, size, a->path, &f->seg, err);
    }
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    if ((int64_t)tlf_seg_n_rows(f->seg) != a->n_rows)
        return tl_error_set(err, TL_ECORRUPT,
                            "table %s: %s: %" PRIu64 " rows, but the log says %" PRId64
                            " (LOG-R58)", t->path, a->path, tlf_seg_n_rows(f->seg), a->n_rows);
    for (uint32_t k = 0; k < p->n_slots; k++) {
        const tl_field *fd = &p->info.fields[p->slots[k].field];
        int sc = tlf_seg_find_col(f->seg, fd->name);
        if (sc < 0 || tlf_seg_col(f->seg, (uint32_t)sc)->type != fd->type)
            return tl_error_set(err, TL_ECORRUPT, "table %s: %s: no column '%s' of type %s "
                                "(LOG-R58)", t->path, a->path, fd->name, tl_type_name(fd->type));
        f->scol[k] = (uint32_t)sc;
    }
    uint32_t nb = tlf_seg_n_blocks(f->seg);
    if (tl_grow((void **)&f->blocks, &f->cap_blocks, (size_t)(nb ? nb : 1) * sizeof *f->blocks))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    uint64_t pruned_rows = 0;
    for (uint32_t b = 0; b < nb; b++) {
        int term = -1;
        w->blocks_total++;
        if (!p->pred_true) {
            block_zone_ctx c = {p, f, b};
            if (!tl_pred_may_match(p->pred, block_zone, &c, &term)) {
                w->term_blocks[term >= 0 && term < TL_PRED_MAX_TERMS ? term : TL_PRED_MAX_TERMS]++;
                pruned_rows += tlf_seg_block(f->seg, 0, b)->n_rows;
                continue;
            }
        }
        f->blocks[f->n_blocks++] = b;
        w->blocks_kept++;
        w->rows_scanned += tlf_seg_block(f->seg, 0, b)->n_rows;
        for (uint32_t k = 0; k < (merge ? p->n_slots : p->n_need); k++)
            w->bytes_read += tl_scan_blockinfo(f, k, b)->length;
    }
    if (pruned_rows)
        atomic_fetch_add(w->rows_done, pruned_rows);
    return TL_OK;
}

/* ---- decoding ----------------------------------------------------------------- */

static int decode_slot(tl_scan_worker *w, const tl_scan_file *f, uint32_t slot, uint32_t blk,
                       const uint8_t *bytes, int zero_copy, int narrow, tl_scan_buf *b,
                       tl_colvec *out, uint64_t *scale, tl_error *err);

int tl_scan_decode(tl_scan_worker *w, const tl_scan_file *f, uint32_t slot, uint32_t blk,
                   const uint8_t *bytes, int zero_copy, tl_scan_buf *b, tl_colvec *out,
                   tl_error *err)
{
    uint64_t scale;
    return decode_slot(w, f, slot, blk, bytes, zero_copy, 0, b, out, &scale, err);
}

/* narrow: TLF_DECODE_NARROW; *scale = its tlf_vec.scale (0 when not narrowed) */
static int decode_slot(tl_scan_worker *w, const tl_scan_file *f, uint32_t slot, uint32_t blk,
                       const uint8_t *bytes, int zero_copy, int narrow, tl_scan_buf *b,
                       tl_colvec *out, uint64_t *scale, tl_error *err)
{
    uint32_t col = f->scol[slot];
    const tlf_block_info *bi = tlf_seg_block(f->seg, col, blk);
    size_t nb, nd, nv;
    tlf_seg_decode_needs(f->seg, col, blk, &nb, &nd, &nv);
    if (tl_grow(&b->buf, &b->buf_cap, nb ? nb : 1) ||
        tl_grow((void **)&b->data, &b->data_cap, nd ? nd : 1) ||
        tl_grow((void **)&b->valid, &b->valid_cap, nv ? nv : 1))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory decoding %s column '%s' block %u",
                            f->add->path, tlf_seg_col(f->seg, col)->name, blk);
    tlf_vec v = {.buf = b->buf, .buf_cap = b->buf_cap, .data_buf = b->data,
                 .data_cap = b->data_cap, .valid_buf = b->valid, .valid_cap = b->valid_cap};
    uint32_t flags = (w->p->o->no_verify ? 0u : TLF_DECODE_VERIFY) |
                     (zero_copy ? TLF_DECODE_ZERO_COPY : 0u) | (narrow ? TLF_DECODE_NARROW : 0u);
    int rc = tlf_seg_decode(f->seg, col, blk, bytes, bi->length, flags, &v, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", w->p->t->path), rc;
    *out = (tl_colvec){v.values, v.validity, v.offsets, v.data};
    *scale = v.scale;
    return TL_OK;
}

/* ---- runs ---------------------------------------------------------------------- */

/* Value of run column r at row `row` (decoded) or at its run `run` (rle;
 * UINT32_MAX = the last run). */
static void run_value(const tl_scan_worker *w, uint32_t r, uint32_t row, uint32_t run,
                      int *is_null, const uint8_t **ptr, size_t *len)
{
    const tl_scan_plan *p = w->p;
    uint32_t slot = p->run_slot[r];
    tl_type type = p->slots[slot].type;
    const tl_scan_rle *ri = &w->rle[r];
    *is_null = 0;
    if (ri->kind == TL_SCAN_RLE_NONE) {
        const tl_colvec *v = &w->vec[slot];
        if (!tl_bit_get(v->validity, row)) {
            *is_null = 1;
            *ptr = NULL;
            *len = 0;
        } else if (type == TL_STRING) {
            *ptr = v->data + v->offsets[row];
            *len = v->offsets[row + 1] - v->offsets[row];
        } else {
            size_t wd = tl_type_width(type);
            *ptr = (const uint8_t *)v->values + (size_t)row * wd;
            *len = wd;
        }
        return;
    }
    if (run == UINT32_MAX)
        run = ri->n - 1; /* the block's last row */
    if (ri->kind == TL_SCAN_RLE_FIXED) {
        *ptr = (const uint8_t *)ri->values + (size_t)run * ri->width;
        *len = ri->width;
        return;
    }
    uint32_t code;
    memcpy(&code, (const uint8_t *)ri->values + (size_t)run * 4, 4);
    if (ri->kind == TL_SCAN_RLE_DICT_STR) {
        uint32_t l;
        tlf_seg_dict_entry(ri->seg, ri->col, code, ptr, &l);
        *len = l;
    } else {
        *ptr = (const uint8_t *)ri->dict + (size_t)code * ri->width;
        *len = ri->width;
    }
}

static int same_val(int n1, const uint8_t *p1, size_t l1, int n2, const uint8_t *p2, size_t l2)
{
    if (n1 || n2)
        return n1 == n2;
    return l1 == l2 && (l1 == 0 || memcmp(p1, p2, l1) == 0);
}

/* Ends of the runs of one column (decoded vector): every row whose value
 * (or validity) differs from the previous row's starts a run. */
static uint32_t runs_decoded(const tl_colvec *v, tl_type type, uint32_t n, uint32_t *out)
{
    uint32_t k = 0;
    if (n == 0)
        return 0;
    if (type == TL_STRING) {
        const uint32_t *o = v->offsets;
        for (uint32_t i = 1; i < n; i++) {
            uint32_t l0 = o[i] - o[i - 1], l1 = o[i + 1] - o[i];
            if (l0 != l1 || memcmp(v->data + o[i - 1], v->data + o[i], l1) != 0 ||
                tl_bit_get(v->validity, i) != tl_bit_get(v->validity, i - 1))
                out[k++] = i;
        }
    } else {
        size_t wd = tl_type_width(type);
        const uint8_t *b = v->values;
        const uint8_t *vb = v->validity;
        /* one pass: a row starts a run when its value or its validity
         * differs from the previous row's (null slots hold 0, so a null next
         * to a 0 differs only in validity). At most n - 1 ends: out holds n + 1
         * (appending validity transitions after the value ones, as before,
         * could take 2n - 2 for a nullable column alternating value/null) */
        switch (wd) {
#define RUNS_W(W, T)                                                                      \
    case W: {                                                                             \
        T prev;                                                                           \
        memcpy(&prev, b, W);                                                              \
        if (vb) {                                                                         \
            for (uint32_t i = 1; i < n; i++) {                                            \
                T x;                                                                      \
                memcpy(&x, b + (size_t)i * W, W);                                         \
                if (x != prev || tl_bit_get(vb, i) != tl_bit_get(vb, i - 1))              \
                    out[k++] = i;                                                         \
                prev = x;                                                                 \
            }                                                                             \
        } else {                                                                          \
            for (uint32_t i = 1; i < n; i++) {                                            \
                T x;                                                                      \
                memcpy(&x, b + (size_t)i * W, W);                                         \
                if (x != prev)                                                            \
                    out[k++] = i;                                                         \
                prev = x;                                                                 \
            }                                                                             \
        }                                                                                 \
        break;                                                                            \
    }
            RUNS_W(1, uint8_t)
            RUNS_W(2, uint16_t)
            RUNS_W(4, uint32_t)
            RUNS_W(8, uint64_t)
#undef RUNS_W
        default: break;
        }
    }
    out[k++] = n;
    return k;
}

/* Ends of the runs of one rle column: the stored runs, adjacent runs with
 * equal values merged. */
static uint32_t runs_rle(const tl_scan_worker *w, uint32_t r, uint32_t *out)
{
    const tl_scan_rle *ri = &w->rle[r];
    uint32_t k = 0;
    for (uint32_t i = 0; i < ri->n; i++) {
        if (i + 1 < ri->n) {
            if (ri->kind != TL_SCAN_RLE_FIXED) {
                uint32_t c0, c1;
                memcpy(&c0, (const uint8_t *)ri->values + (size_t)i * 4, 4);
                memcpy(&c1, (const uint8_t *)ri->values + (size_t)(i + 1) * 4, 4);
                if (c0 == c1)
                    continue;
            }
            int n0, n1;
            const uint8_t *p0, *p1;
            size_t l0, l1;
            run_value(w, r, 0, i, &n0, &p0, &l0);
            run_value(w, r, 0, i + 1, &n1, &p1, &l1);
            if (same_val(n0, p0, l0, n1, p1, l1))
                continue;
        }
        out[k++] = ri->ends[i];
    }
    return k;
}

static uint32_t merge_ends(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb,
                           uint32_t *c)
{
    uint32_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        uint32_t x;
        if (j >= nb || (i < na && a[i] <= b[j]))
            x = a[i++];
        else
            x = b[j++];
        if (k == 0 || c[k - 1] != x)
            c[k++] = x;
    }
    return k;
}

static int compute_runs(tl_scan_worker *w, uint32_t n, const uint32_t **ends, uint32_t *n_runs,
                        tl_error *err)
{
    const tl_scan_plan *p = w->p;
    if (tl_grow((void **)&w->ends[0], &w->ends_cap[0], ((size_t)n + 1) * 4) ||
        tl_grow((void **)&w->ends[1], &w->ends_cap[1], ((size_t)n + 1) * 4) ||
        tl_grow((void **)&w->ends[2], &w->ends_cap[2], ((size_t)n + 1) * 4))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory (runs)");
    if (p->n_run == 0 || n == 0) {
        w->ends[0][0] = n;
        *ends = w->ends[0];
        *n_runs = n ? 1 : 0;
        return TL_OK;
    }
    int res = 0; /* buffer holding the union so far */
    uint32_t nres = 0;
    for (uint32_t r = 0; r < p->n_run; r++) {
        int col = (res + 1) % 3, tmp = (res + 2) % 3;
        uint32_t nc;
        if (w->rle[r].kind == TL_SCAN_RLE_NONE) {
            uint32_t slot = p->run_slot[r];
            nc = runs_decoded(&w->vec[slot], p->slots[slot].type, n, w->ends[col]);
        } else {
            nc = runs_rle(w, r, w->ends[col]);
            if (nc == 0 || w->ends[col][nc - 1] != n)
                return tl_error_set(err, TL_ECORRUPT, "scan: table %s: run ends of column '%s' "
                                    "end at %u, expected %u", p->t->path,
                                    p->info.fields[p->slots[p->run_slot[r]].field].name,
                                    nc ? w->ends[col][nc - 1] : 0, n);
        }
        if (r == 0) {
            res = col;
            nres = nc;
        } else {
            nres = merge_ends(w->ends[res], nres, w->ends[col], nc, w->ends[tmp]);
            res = tmp;
        }
    }
    *ends = w->ends[res];
    *n_runs = nres;
    return TL_OK;
}

static int save_last(tl_scan_worker *w, uint32_t n, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    for (uint32_t r = 0; r < p->n_run; r++) {
        int isn;
        const uint8_t *ptr;
        size_t len;
        run_value(w, r, n - 1, UINT32_MAX, &isn, &ptr, &len);
        tl_scan_runval *lv = &w->last[r];
        lv->is_null = isn;
        if (tl_grow((void **)&lv->s, &lv->s_cap, len ? len : 1))
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
        if (len)
            memcpy(lv->s, ptr, len);
        lv->s_len = len;
    }
    w->have_last = 1;
    return TL_OK;
}

static int first_continues(const tl_scan_worker *w)
{
    const tl_scan_plan *p = w->p;
    if (!w->have_last)
        return 0;
    for (uint32_t r = 0; r < p->n_run; r++) {
        int isn;
        const uint8_t *ptr;
        size_t len;
        run_value(w, r, 0, 0, &isn, &ptr, &len);
        const tl_scan_runval *lv = &w->last[r];
        if (!same_val(isn, ptr, len, lv->is_null, lv->s, lv->s_len))
            return 0;
    }
    return 1;
}

/* ---- emitting a block ---------------------------------------------------------- */

static int try_rle(tl_scan_worker *w, const tl_scan_file *f, uint32_t k, uint32_t blk,
                   const uint8_t *bytes, int verify, tl_error *err);

int tl_scan_runs_of(tl_scan_worker *w, const tl_scan_file *f, uint32_t blk, tl_colvec *vec,
                    const tl_bio_range *r, uint32_t n, const uint32_t **ends, uint32_t *n_runs,
                    tl_error *err)
{
    const tl_scan_plan *p = w->p;
    tl_colvec *save = w->vec;
    int rc = TL_OK;
    w->vec = vec;
    for (uint32_t i = 0; i < p->n_run && !rc; i++) {
        int x = try_rle(w, f, p->run_slot[i], blk, r[p->run_slot[i]].data, 0, err);
        if (x < 0)
            rc = x;
    }
    if (!rc)
        rc = compute_runs(w, n, ends, n_runs, err);
    for (uint32_t i = 0; i < p->n_run; i++)
        w->rle[i].kind = TL_SCAN_RLE_NONE;
    w->vec = save;
    return rc;
}

static void maybe_progress(tl_scan_worker *w);

int tl_scan_emit(tl_scan_worker *w, size_t unit, size_t partition, size_t file,
                 uint64_t first_row, uint32_t n, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    tl_scan_block b = {.worker = w->id, .unit = unit, .partition = partition, .file = file,
                       .first_row = first_row, .n_rows = n, .n_cols = p->n_proj,
                       .defs = p->proj_defs, .cols = w->pcols};
    if (p->row_true) {
        b.sel = NULL;
        b.n_sel = n;
    } else {
        for (uint32_t k = 0; k < p->n_slots; k++)
            if (p->slots[k].decode)
                w->fcols[p->slots[k].field] = w->vec[k];
        size_t need = ((size_t)n + 7) / 8 + 8;
        if (tl_grow((void **)&w->sel, &w->sel_cap, need))
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (selection)");
        b.n_sel = tl_pred_eval(p->row_pred, w->fcols, n, NULL, w->sel);
        b.sel = w->sel;
    }
    int narrowed = 0;
    for (uint32_t i = 0; i < p->n_proj; i++) {
        w->pcols[i] = w->vec[p->proj_slot[i]];
        w->pscale[i] = w->vscale[p->proj_slot[i]];
        narrowed |= w->pscale[i] != 0;
    }
    b.scale = narrowed ? w->pscale : NULL;
    int rc = TL_OK;
    if (w->preset_ends) {
        b.run_ends = w->preset_ends;
        b.n_runs = w->preset_n;
    } else if ((rc = compute_runs(w, n, &b.run_ends, &b.n_runs, err))) {
        return rc;
    }
    if (w->preset_continues >= 0)
        b.continues = w->preset_continues;
    else
        b.continues = n ? first_continues(w) : 0;
    w->rows_selected += b.n_sel;
    if (w->cb && w->cb->block) {
        rc = w->cb->block(w->cb->ctx, &b, err);
        if (rc)
            return cb_failed(w, rc);
    }
    if (n && p->n_run && w->preset_continues < 0 && (rc = save_last(w, n, err)))
        return rc;
    if (n && p->n_run == 0)
        w->have_last = 1;
    atomic_fetch_add(w->rows_done, n);
    maybe_progress(w);
    return TL_OK;
}

/* ---- single-file units ---------------------------------------------------------- */

static uint32_t batch_end(const tl_scan_worker *w, const tl_scan_file *f, uint32_t start)
{
    size_t cap = tl_bio_batch_bytes(w->bio), bytes = 0;
    if (cap > BATCH_BYTES)
        cap = BATCH_BYTES;
    uint32_t e = start;
    while (e < f->n_blocks && e - start < BATCH_BLOCKS) {
        size_t b = 0;
        for (uint32_t k = 0; k < w->p->n_need; k++) {
            const tlf_block_info *bi = tl_scan_blockinfo(f, k, f->blocks[e]);
            b += tl_bio_range_bytes(w->bio, bi->offset, bi->length);
        }
        if (e > start && bytes + b > cap)
            break;
        bytes += b;
        e++;
    }
    return e;
}

static int submit_batch(tl_scan_worker *w, tl_scan_file *f, int which, uint32_t s, uint32_t e,
                        tl_bio_batch **out, tl_error *err)
{
    uint32_t nn = w->p->n_need;
    size_t n = (size_t)(e - s) * nn;
    if (tl_grow((void **)&w->ranges[which], &w->ranges_cap[which],
                (n ? n : 1) * sizeof(tl_bio_range)))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory (ranges)");
    tl_bio_range *r = w->ranges[which];
    for (uint32_t j = s; j < e; j++)
        for (uint32_t k = 0; k < nn; k++) {
            const tlf_block_info *bi = tl_scan_blockinfo(f, k, f->blocks[j]);
            *r++ = (tl_bio_range){bi->offset, bi->length, NULL};
        }
    int rc = tl_bio_submit(w->bio, f->bf, w->ranges[which], n, out, err);
    if (rc)
        tl_error_prefix(err, "table %s: ", w->p->t->path);
    return rc;
}

/* Try the runs of run-only (or any run) slot k from the stored runs. */
static int try_rle(tl_scan_worker *w, const tl_scan_file *f, uint32_t k, uint32_t blk,
                   const uint8_t *bytes, int verify, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    int r = p->slots[k].run;
    tl_scan_rle *ri = &w->rle[r];
    ri->kind = TL_SCAN_RLE_NONE;
    uint32_t col = f->scol[k];
    const tlf_block_info *bi = tlf_seg_block(f->seg, col, blk);
    tl_type type = p->slots[k].type;
    if (bi->null_count || bi->compression != TLF_COMP_NONE ||
        !((bi->encoding == TLF_ENC_RLE && type != TL_STRING) || bi->encoding == TLF_ENC_DICT))
        return 0;
    if (verify && XXH3_64bits(bytes, bi->length) != bi->checksum)
        return tl_error_set(err, TL_ECHECKSUM, "table %s: %s: column '%s' block %u at offset %"
                            PRIu64 ": checksum mismatch (expected %016" PRIx64 ", found %016"
                            PRIx64 ")", p->t->path, f->add->path, tlf_seg_col(f->seg, col)->name,
                            blk, bi->offset, bi->checksum, (uint64_t)XXH3_64bits(bytes, bi->length));
    tl_error e2;
    uint32_t n;
    const void *vals;
    const uint32_t *ends;
    int rc = tlf_seg_rle_runs(f->seg, col, blk, bytes, bi->length, &n, &vals, &ends, &e2);
    if (rc == TL_EUNSUPPORTED)
        return 0;
    if (rc) {
        *err = e2;
        tl_error_prefix(err, "table %s: ", p->t->path);
        return rc;
    }
    ri->n = n;
    ri->values = vals;
    ri->ends = ends;
    ri->seg = f->seg;
    ri->col = col;
    ri->width = (uint32_t)tl_type_width(type);
    if (bi->encoding == TLF_ENC_RLE) {
        ri->kind = TL_SCAN_RLE_FIXED;
    } else if (type == TL_STRING) {
        ri->kind = TL_SCAN_RLE_DICT_STR;
    } else {
        uint32_t ne;
        const void *dict;
        rc = tlf_seg_block_dict(f->seg, col, blk, bytes, bi->length, &ne, &dict, &e2);
        if (rc == TL_EUNSUPPORTED)
            return 0;
        if (rc) {
            *err = e2;
            tl_error_prefix(err, "table %s: ", p->t->path);
            return rc;
        }
        ri->dict = dict;
        ri->kind = TL_SCAN_RLE_DICT_FIXED;
    }
    return 1;
}

static int stopped(const tl_scan_worker *w) { return atomic_load(w->stop) != 0; }

/* Software prefetch of a block range the worker decodes next (SCAN-S22):
 * the ranges of one row block are a few separate ~20 KB stretches of the
 * file, too short for the hardware stream prefetchers to ramp up on, so the
 * checksum pass that first touches them would wait on memory. One column
 * of the next block is requested while this block's same column decodes. */
static inline void prefetch_range(const uint8_t *d, uint64_t len)
{
    if (!d)
        return;
    for (uint64_t o = 0; o < len; o += 64)
        __builtin_prefetch(d + o, 0, 2);
}

int tl_scan_stream_file(tl_scan_worker *w, size_t unit, tl_scan_file *f, uint64_t *merged_row,
                        tl_error *err)
{
    const tl_scan_plan *p = w->p;
    size_t partition = p->units[unit].partition;
    int rc = TL_OK;
    int verify = !p->o->no_verify;
    tl_bio_batch *cur = NULL, *nxt = NULL;
    uint32_t s = 0, e = batch_end(w, f, 0), which = 0;
    if (e > s)
        rc = submit_batch(w, f, 0, s, e, &cur, err);
    while (!rc && cur) {
        uint32_t s2 = e, e2 = batch_end(w, f, e);
        if (e2 > s2 && (rc = submit_batch(w, f, which ^ 1, s2, e2, &nxt, err)))
            break;
        if ((rc = tl_bio_wait(cur, err))) {
            tl_error_prefix(err, "table %s: ", p->t->path);
            break;
        }
        const tl_bio_range *r = w->ranges[which];
        for (uint32_t j = s; j < e && !rc; j++, r += p->n_need) {
            if (stopped(w)) {
                rc = TL_SCAN_STOPPED;
                break;
            }
            uint32_t blk = f->blocks[j];
            for (uint32_t k = 0; k < p->n_need && !rc; k++) {
                if (j + 1 < e) /* the next block's column: in cache when needed */
                    prefetch_range(r[p->n_need + k].data, r[p->n_need + k].len);
                int fast = 0;
                if (p->slots[k].run >= 0) {
                    fast = try_rle(w, f, k, blk, r[k].data, verify && !p->slots[k].decode, err);
                    if (fast < 0) {
                        rc = fast;
                        break;
                    }
                }
                if (p->slots[k].decode || !fast)
                    rc = decode_slot(w, f, k, blk, r[k].data, 1, p->slots[k].narrow, &w->bufs[k],
                                     &w->vec[k], &w->vscale[k], err);
            }
            if (rc)
                break;
            const tlf_block_info *bi = tlf_seg_block(f->seg, 0, blk);
            if (!merged_row) {
                rc = tl_scan_emit(w, unit, partition, f->index, bi->first_row, bi->n_rows, err);
            } else if (bi->n_rows) { /* as the merge: empty blocks are not delivered */
                rc = tl_scan_emit(w, unit, partition, SIZE_MAX, *merged_row, bi->n_rows, err);
                *merged_row += bi->n_rows;
            }
        }
        tl_bio_release(cur);
        cur = nxt;
        nxt = NULL;
        s = s2;
        e = e2;
        which ^= 1;
    }
    tl_bio_release(cur);
    tl_bio_release(nxt);
    for (uint32_t r = 0; r < p->n_run; r++)
        w->rle[r].kind = TL_SCAN_RLE_NONE;
    return rc;
}

static int unit_file(tl_scan_worker *w, size_t unit, size_t fidx, tl_error *err)
{
    tl_scan_file *f = &w->file;
    int rc = tl_scan_file_open(w, fidx, f, 0, err);
    if (!rc && !w->p->explain)
        rc = tl_scan_stream_file(w, unit, f, NULL, err);
    tl_scan_file_close(f);
    return rc;
}

/* ---- the worker pool ------------------------------------------------------------ */

typedef struct scan_ctl {
    const tl_scan_plan *p;
    const tl_scan_cb *cb;
    _Atomic size_t next_unit;
    _Atomic uint64_t rows_done;
    _Atomic int stop;
    _Atomic int cb_failed; /* the error is a caller's callback's (SCAN-S9: kept as is) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t running;
    int rc;
    tl_error err;
    struct timespec last;
    int inline_progress;
} scan_ctl;

static int cb_failed(tl_scan_worker *w, int rc)
{
    if (w->ctl)
        atomic_store(&((scan_ctl *)w->ctl)->cb_failed, 1);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void maybe_progress(tl_scan_worker *w)
{
    scan_ctl *c = w->ctl;
    if (!c->inline_progress)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ms = (ts.tv_sec - c->last.tv_sec) * 1000 + (ts.tv_nsec - c->last.tv_nsec) / 1000000;
    if (ms >= 100) {
        c->last = ts;
        c->p->o->progress(c->p->o->progress_ctx, atomic_load(&c->rows_done), c->p->total_rows);
    }
}

static void set_error(scan_ctl *c, int rc, const tl_error *e)
{
    pthread_mutex_lock(&c->mu);
    if (!c->rc && rc != TL_SCAN_STOPPED) {
        c->rc = rc;
        if (e)
            c->err = *e;
    } else if (!c->rc && rc == TL_SCAN_STOPPED) {
        c->rc = TL_SCAN_STOPPED;
    }
    pthread_mutex_unlock(&c->mu);
    atomic_store(&c->stop, 1);
}

static int do_unit(tl_scan_worker *w, size_t u, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    const tl_scan_unit *un = &p->units[u];
    const tl_scan_cb *cb = w->cb;
    int rc = TL_OK;
    w->have_last = 0;
    if (cb && cb->unit_begin && (rc = cb->unit_begin(cb->ctx, w->id, u, un->partition, err)))
        return cb_failed(w, rc);
    if (un->n == 1)
        rc = unit_file(w, u, p->files[un->first], err);
    else
        rc = tl_scan_merge_unit(w, u, err);
    if (!rc && cb && cb->unit_end && (rc = cb->unit_end(cb->ctx, w->id, u, err)))
        return cb_failed(w, rc);
    return rc;
}

static void worker_loop(tl_scan_worker *w)
{
    scan_ctl *c = w->ctl;
    while (!atomic_load(&c->stop)) {
        size_t u = atomic_fetch_add(&c->next_unit, 1);
        if (u >= c->p->n_units)
            break;
        tl_error e = {0};
        int rc = do_unit(w, u, &e);
        if (rc) {
            set_error(c, rc, &e);
            break;
        }
    }
}

static void *worker_main(void *arg)
{
    tl_scan_worker *w = arg;
    scan_ctl *c = w->ctl;
    worker_loop(w);
    pthread_mutex_lock(&c->mu);
    c->running--;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void worker_free(tl_scan_worker *w)
{
    const tl_scan_plan *p = w->p;
    if (!p)
        return;
    tl_scan_merge_free(w);
    tl_scan_file_free(&w->file);
    if (w->bufs)
        for (uint32_t k = 0; k < p->n_slots; k++) {
            free(w->bufs[k].buf);
            free(w->bufs[k].data);
            free(w->bufs[k].valid);
        }
    free(w->bufs);
    free(w->vec);
    free(w->fcols);
    free(w->pcols);
    free(w->vscale);
    free(w->pscale);
    free(w->sel);
    for (int i = 0; i < 3; i++)
        free(w->ends[i]);
    if (w->last)
        for (uint32_t r = 0; r < p->n_run; r++)
            free(w->last[r].s);
    free(w->last);
    free(w->rle);
    free(w->ranges[0]);
    free(w->ranges[1]);
    free(w->tail);
    free(w->term_blocks);
    tl_bio_close(w->bio);
    memset(w, 0, sizeof *w);
}

static int worker_init(tl_scan_worker *w, const tl_scan_plan *p, uint32_t id, scan_ctl *c,
                       tl_error *err)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->id = id;
    w->ctl = c;
    w->cb = c->cb;
    w->rows_done = &c->rows_done;
    w->preset_continues = -1;
    w->stop = &c->stop;
    size_t ns = p->n_slots ? p->n_slots : 1, nr = p->n_run ? p->n_run : 1;
    w->bufs = calloc(ns, sizeof *w->bufs);
    w->vec = calloc(ns, sizeof *w->vec);
    w->fcols = calloc(p->info.n_fields ? p->info.n_fields : 1, sizeof *w->fcols);
    w->pcols = calloc(p->n_proj ? p->n_proj : 1, sizeof *w->pcols);
    w->vscale = calloc(ns, sizeof *w->vscale);
    w->pscale = calloc(p->n_proj ? p->n_proj : 1, sizeof *w->pscale);
    w->last = calloc(nr, sizeof *w->last);
    w->rle = calloc(nr, sizeof *w->rle);
    w->term_blocks = calloc(TL_PRED_MAX_TERMS + 1, sizeof *w->term_blocks);
    if (!w->bufs || !w->vec || !w->fcols || !w->pcols || !w->vscale || !w->pscale || !w->last || !w->rle || !w->term_blocks)
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    const tl_scan_opts *o = p->o;
    tl_bio_opts bo = {.mode = p->io_mode, .io = p->t->io, .queue_depth = o->queue_depth,
                      .direct = o->direct, .register_buffers = o->register_buffers};
    return tl_bio_open(&bo, &w->bio, err);
}

static void plan_text(const tl_scan_plan *p, const uint64_t tc[2][TL_PRED_MAX_TERMS + 1],
                      const uint64_t *tb, const tl_scan_stats *st, char *out, size_t cap)
{
    char desc[256];
    size_t len = 0;
    if (p->pred_true)
        snprintf(desc, sizeof desc, "true");
    else
        tl_pred_describe(p->pred, desc, sizeof desc);
    len += (size_t)snprintf(out + len, cap - len, "where %s", desc);
    static const char *const lvl[3] = {"partitions", "files", "blocks"};
    uint64_t kept[3] = {st->partitions_kept, st->files_kept, st->blocks_kept};
    uint64_t tot[3] = {st->partitions_total, st->files_total, st->blocks_total};
    for (int l = 0; l < 3 && len < cap; l++) {
        len += (size_t)snprintf(out + len, cap - len, "; %s %" PRIu64 "/%" PRIu64 " kept", lvl[l],
                                kept[l], tot[l]);
        const uint64_t *c = l < 2 ? tc[l] : tb;
        int first = 1;
        for (int t = 0; t <= TL_PRED_MAX_TERMS && len < cap; t++)
            if (c[t]) {
                const char *tt = t < (int)tl_pred_n_terms(p->pred)
                                     ? tl_pred_term_text(p->pred, (uint32_t)t) : NULL;
                len += (size_t)snprintf(out + len, cap - len, "%s %s: %" PRIu64,
                                        first ? ", pruned by" : ",", tt ? tt : "?", c[t]);
                first = 0;
            }
    }
}

static int scan_exec(const tl_snapshot *s, const tl_scan_opts *o, const tl_scan_cb *cb,
                     tl_scan_stats *st_out, int explain, tl_error *err)
{
    double t0 = now_s();
    tl_scan_stats st;
    memset(&st, 0, sizeof st);
    tl_scan_plan p;
    uint64_t(*tc)[TL_PRED_MAX_TERMS + 1] = calloc(2, sizeof *tc);
    if (!tc)
        return tl_snapshot_name_error(s, tl_error_set(err, TL_ENOMEM, "scan: out of memory"),
                                      err);
    int rc = plan_build(s, o, explain, &p, tc, err);
    if (rc) {
        plan_free(&p);
        free(tc);
        return tl_snapshot_name_error(s, rc, err);
    }
    uint32_t threads = o->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (uint32_t)n : 1;
    }
    if (threads > 1024)
        threads = 1024;
    uint32_t nw = threads;
    if (nw > p.n_units)
        nw = p.n_units ? (uint32_t)p.n_units : 1;
    scan_ctl c;
    memset(&c, 0, sizeof c);
    c.p = &p;
    c.cb = cb;
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    tl_scan_worker *ws = calloc(nw, sizeof *ws);
    uint32_t n_init = 0;
    if (!ws)
        rc = tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    for (uint32_t i = 0; !rc && i < nw; i++, n_init++)
        rc = worker_init(&ws[i], &p, i, &c, err);
    if (!rc && cb && cb->start && (rc = cb->start(cb->ctx, p.n_units, nw, err)))
        atomic_store(&c.cb_failed, 1);
    if (!rc) {
        clock_gettime(CLOCK_MONOTONIC, &c.last);
        if (nw == 1) {
            c.inline_progress = o->progress != NULL;
            worker_loop(&ws[0]);
        } else {
            pthread_t *th = calloc(nw, sizeof *th);
            uint32_t started = 0;
            if (!th) {
                set_error(&c, TL_ENOMEM, NULL);
                tl_error_set(&c.err, TL_ENOMEM, "scan: out of memory");
            }
            for (uint32_t i = 0; th && i < nw; i++) {
                pthread_mutex_lock(&c.mu);
                c.running++;
                pthread_mutex_unlock(&c.mu);
                int e = pthread_create(&th[i], NULL, worker_main, &ws[i]);
                if (e) {
                    pthread_mutex_lock(&c.mu);
                    c.running--;
                    pthread_mutex_unlock(&c.mu);
                    tl_error te;
                    tl_error_sys(&te, e, "scan: starting worker %u", i);
                    set_error(&c, TL_ENOMEM, &te);
                    break;
                }
                started++;
            }
            pthread_mutex_lock(&c.mu);
            while (c.running > 0) {
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_nsec += 100 * 1000000L;
                if (dl.tv_nsec >= 1000000000L) {
                    dl.tv_sec++;
                    dl.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&c.cv, &c.mu, &dl);
                if (o->progress && c.running > 0) {
                    pthread_mutex_unlock(&c.mu);
                    o->progress(o->progress_ctx, atomic_load(&c.rows_done), p.total_rows);
                    pthread_mutex_lock(&c.mu);
                }
            }
            pthread_mutex_unlock(&c.mu);
            for (uint32_t i = 0; i < started; i++)
                pthread_join(th[i], NULL);
            free(th);
        }
        if (c.rc && c.rc != TL_SCAN_STOPPED) {
            rc = c.rc;
            if (err)
                *err = c.err;
        } else if (c.rc == TL_SCAN_STOPPED) {
            rc = TL_SCAN_STOPPED;
        }
        if ((!rc || rc == TL_SCAN_STOPPED) && o->progress)
            o->progress(o->progress_ctx, rc ? atomic_load(&c.rows_done) : p.total_rows,
                        p.total_rows);
    }
    /* statistics */
    st.partitions_total = tl_snapshot_n_partitions(s);
    st.partitions_kept = p.n_parts_kept;
    st.files_total = tl_snapshot_n_files(s);
    st.files_kept = p.n_files;
    st.rows_total = p.info.n_rows;
    st.n_units = p.n_units;
    st.threads = nw;
    uint64_t *tb = calloc(TL_PRED_MAX_TERMS + 1, sizeof *tb);
    for (uint32_t i = 0; i < n_init; i++) {
        tl_scan_worker *w = &ws[i];
        st.blocks_total += w->blocks_total;
        st.blocks_kept += w->blocks_kept;
        st.rows_scanned += w->rows_scanned;
        st.rows_selected += w->rows_selected;
        st.bytes_read += w->bytes_read;
        if (w->bio) {
            tl_bio_stats bs;
            tl_bio_get_stats(w->bio, &bs);
            st.io_requests += bs.requests;
        }
        if (tb && w->term_blocks)
            for (int t = 0; t <= TL_PRED_MAX_TERMS; t++)
                tb[t] += w->term_blocks[t];
    }
    if (explain)
        st.rows_selected = 0;
    st.io_used = p.io_mode;
    if (n_init && ws[0].bio) {
        st.io_used = tl_bio_mode(ws[0].bio);
        st.io_fallback = p.io_mode == TL_IO_URING && st.io_used != TL_IO_URING;
        snprintf(st.io_note, sizeof st.io_note, "%s", tl_bio_note(ws[0].bio));
    }
    if (tb && p.pred)
        plan_text(&p, (const uint64_t(*)[TL_PRED_MAX_TERMS + 1])tc, tb, &st, st.plan,
                  sizeof st.plan);
    free(tb);
    for (uint32_t i = 0; i < n_init; i++)
        worker_free(&ws[i]);
    free(ws);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
    plan_free(&p);
    free(tc);
    st.elapsed_s = now_s() - t0;
    if (st_out)
        *st_out = st;
    /* the scan's own errors name the table; the callbacks' stay theirs */
    if (rc && rc != TL_SCAN_STOPPED && !atomic_load(&c.cb_failed))
        tl_snapshot_name_error(s, rc, err);
    return rc;
}

int tl_scan_run(const tl_snapshot *s, const tl_scan_opts *o, const tl_scan_cb *cb,
                tl_scan_stats *st, tl_error *err)
{
    int rc = scan_exec(s, o, cb, st, 0, err);
    return rc == TL_SCAN_STOPPED ? TL_OK : rc;
}

int tl_scan_explain(const tl_snapshot *s, const tl_scan_opts *o, tl_scan_stats *st,
                    tl_error *err)
{
    int rc = scan_exec(s, o, NULL, st, 1, err);
    return rc == TL_SCAN_STOPPED ? TL_OK : rc;
}

/* ---- printing --------------------------------------------------------------------- */

typedef struct print_unit {
    char *buf;
    size_t len;
    uint64_t rows;
    size_t *row_end; /* with a limit: byte end of each row */
    int done;
} print_unit;

typedef struct print_worker {
    FILE *f;         /* the unit being formatted */
    char *buf;
    size_t len;
    print_unit cur;
    size_t cap_ends;
    uint8_t *vbits;  /* n_proj one-byte validity of a one-row batch */
    tl_colvec *row;  /* n_proj */
    tl_scan_buf *g;  /* n_proj: the selected rows of a block, gathered */
} print_worker;

typedef struct print_ctx {
    int format;
    uint64_t limit;
    int fd;
    const tl_scan_plan *p; /* for column names (set at start) */
    uint32_t n_proj;
    const tl_coldef *defs;
    print_unit *units;
    size_t n_units;
    print_worker *pw;
    uint32_t n_workers;
    pthread_mutex_t mu;
    size_t next_write;
    uint64_t written;
    _Atomic int full;
} print_ctx;

static int write_all(int fd, const char *b, size_t n, tl_error *err)
{
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return tl_error_sys(err, errno, "scan: writing the output failed");
        }
        b += k;
        n -= (size_t)k;
    }
    return TL_OK;
}

static int pr_start(void *ctx, size_t n_units, uint32_t n_workers, tl_error *err)
{
    print_ctx *c = ctx;
    c->units = calloc(n_units ? n_units : 1, sizeof *c->units);
    c->pw = calloc(n_workers, sizeof *c->pw);
    c->n_units = n_units;
    c->n_workers = n_workers;
    if (!c->units || !c->pw)
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    for (uint32_t i = 0; i < n_workers; i++) {
        c->pw[i].vbits = calloc(c->n_proj ? c->n_proj : 1, 1);
        c->pw[i].row = calloc(c->n_proj ? c->n_proj : 1, sizeof(tl_colvec));
        c->pw[i].g = calloc(c->n_proj ? c->n_proj : 1, sizeof(tl_scan_buf));
        if (!c->pw[i].vbits || !c->pw[i].row || !c->pw[i].g)
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    }
    return TL_OK;
}

static int pr_unit_begin(void *ctx, uint32_t worker, size_t unit, size_t partition,
                         tl_error *err)
{
    (void)unit;
    (void)partition;
    print_ctx *c = ctx;
    print_worker *pw = &c->pw[worker];
    if (atomic_load(&c->full))
        return TL_SCAN_STOPPED;
    memset(&pw->cur, 0, sizeof pw->cur);
    pw->cap_ends = 0;
    pw->buf = NULL;
    pw->len = 0;
    pw->f = open_memstream(&pw->buf, &pw->len);
    if (!pw->f)
        return tl_error_sys(err, errno, "scan: open_memstream");
    return TL_OK;
}

static void json_str(FILE *f, const uint8_t *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_float(FILE *f, double x, int is32)
{
    if (x != x) {
        fputs("\"nan\"", f);
        return;
    }
    if (x > 1.7976931348623157e308 || x < -1.7976931348623157e308) {
        fputs(x > 0 ? "\"inf\"" : "\"-inf\"", f);
        return;
    }
    char b[40];
    for (int prec = is32 ? 6 : 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, x);
        if (is32 ? strtof(b, NULL) == (float)x : strtod(b, NULL) == x)
            break;
    }
    fputs(b, f);
}

static void json_row(FILE *f, const tl_coldef *defs, const tl_colvec *cols, uint32_t n_cols,
                     uint32_t i)
{
    fputc('{', f);
    for (uint32_t c = 0; c < n_cols; c++) {
        const tl_colvec *v = &cols[c];
        if (c)
            fputc(',', f);
        json_str(f, (const uint8_t *)defs[c].name, strlen(defs[c].name));
        fputc(':', f);
        if (!tl_bit_get(v->validity, i)) {
            fputs("null", f);
            continue;
        }
        const uint8_t *vb = v->values;
        switch (defs[c].type) {
        case TL_BOOL: fputs(vb[i] ? "true" : "false", f); break;
        case TL_INT8: fprintf(f, "%d", (int)((const int8_t *)vb)[i]); break;
        case TL_INT16: fprintf(f, "%d", (int)((const int16_t *)(const void *)vb)[i]); break;
        case TL_INT32: fprintf(f, "%" PRId32, ((const int32_t *)(const void *)vb)[i]); break;
        case TL_INT64:
        case TL_TIMESTAMP: fprintf(f, "%" PRId64, ((const int64_t *)(const void *)vb)[i]); break;
        case TL_UINT8: fprintf(f, "%u", (unsigned)vb[i]); break;
        case TL_UINT16: fprintf(f, "%u", (unsigned)((const uint16_t *)(const void *)vb)[i]); break;
        case TL_UINT32: fprintf(f, "%" PRIu32, ((const uint32_t *)(const void *)vb)[i]); break;
        case TL_UINT64: fprintf(f, "%" PRIu64, ((const uint64_t *)(const void *)vb)[i]); break;
        case TL_FLOAT32: json_float(f, ((const float *)(const void *)vb)[i], 1); break;
        case TL_FLOAT64: json_float(f, ((const double *)(const void *)vb)[i], 0); break;
        case TL_DATE: {
            int64_t y;
            int m, d;
            tl_civil_from_days(((const int32_t *)(const void *)vb)[i], &y, &m, &d);
            if (y < 0)
                fprintf(f, "\"-%04" PRId64 "-%02d-%02d\"", -y, m, d);
            else
                fprintf(f, "\"%04" PRId64 "-%02d-%02d\"", y, m, d);
            break;
        }
        case TL_STRING:
            json_str(f, v->data + v->offsets[i], v->offsets[i + 1] - v->offsets[i]);
            break;
        case TL_TIMESTAMP_US: { /* "YYYY-MM-DD HH:MM:SS[.ffffff]", as the CSV */
            char t[TL_FMT_MAX + 1];
            size_t n = tl_fmt_timestamp_us(t, ((const int64_t *)(const void *)vb)[i]);
            fprintf(f, "\"%.*s\"", (int)n, t);
            break;
        }
        default: fputs("null", f); break;
        }
    }
    fputs("}\n", f);
}

static int pr_row(print_ctx *c, print_worker *pw, const tl_scan_block *b, uint32_t i,
                  tl_error *err)
{
    if (c->format == TL_SCAN_JSON) {
        json_row(pw->f, b->defs, b->cols, b->n_cols, i);
    } else {
        for (uint32_t k = 0; k < b->n_cols; k++) {
            const tl_colvec *v = &b->cols[k];
            tl_colvec *o = &pw->row[k];
            pw->vbits[k] = (uint8_t)tl_bit_get(v->validity, i);
            o->validity = &pw->vbits[k];
            if (b->defs[k].type == TL_STRING) {
                o->offsets = v->offsets + i;
                o->data = v->data;
                o->values = NULL;
            } else {
                o->values = (const uint8_t *)v->values + (size_t)i * tl_type_width(b->defs[k].type);
                o->offsets = NULL;
                o->data = NULL;
            }
        }
        tl_batch one = {1, b->n_cols, b->defs, pw->row};
        int rc = tl_batch_write_csv(&one, pw->f, 0, err);
        if (rc)
            return rc;
    }
    pw->cur.rows++;
    if (c->limit) {
        if (tl_grow((void **)&pw->cur.row_end, &pw->cap_ends, pw->cur.rows * sizeof(size_t)))
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
        fflush(pw->f);
        pw->cur.row_end[pw->cur.rows - 1] = (size_t)ftell(pw->f);
    }
    return TL_OK;
}

static int pr_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    print_ctx *c = ctx;
    print_worker *pw = &c->pw[b->worker];
    if (atomic_load(&c->full))
        return TL_SCAN_STOPPED;
    if (!b->sel && !c->limit && c->format == TL_SCAN_CSV) {
        tl_batch all = {b->n_rows, b->n_cols, b->defs, b->cols};
        pw->cur.rows += b->n_rows;
        return tl_batch_write_csv(&all, pw->f, 0, err);
    }
    if (!c->limit && c->format == TL_SCAN_CSV) {
        /* gather the selected rows, then one write */
        for (uint32_t k = 0; k < b->n_cols; k++) {
            const tl_colvec *v = &b->cols[k];
            tl_scan_buf *g = &pw->g[k];
            tl_colvec *o = &pw->row[k];
            size_t wd = tl_type_width(b->defs[k].type);
            int str = b->defs[k].type == TL_STRING;
            size_t nbytes = str ? v->offsets[b->n_rows] - v->offsets[0] : 0;
            if (tl_grow(&g->buf, &g->buf_cap, str ? ((size_t)b->n_sel + 1) * 4 : (size_t)b->n_sel * wd + 1) ||
                tl_grow((void **)&g->data, &g->data_cap, nbytes + 1) ||
                tl_grow((void **)&g->valid, &g->valid_cap, (size_t)b->n_sel / 8 + 1))
                return tl_error_set(err, TL_ENOMEM, "scan: out of memory (print)");
            uint32_t j = 0, dl = 0;
            if (str)
                ((uint32_t *)g->buf)[0] = 0;
            for (uint32_t i = 0; i < b->n_rows; i++) {
                if (!((b->sel[i >> 3] >> (i & 7)) & 1))
                    continue;
                if (v->validity)
                    tl_bit_set(g->valid, j, tl_bit_get(v->validity, i));
                if (str) {
                    uint32_t l = v->offsets[i + 1] - v->offsets[i];
                    memcpy(g->data + dl, v->data + v->offsets[i], l);
                    dl += l;
                    ((uint32_t *)g->buf)[j + 1] = dl;
                } else {
                    memcpy((uint8_t *)g->buf + (size_t)j * wd,
                           (const uint8_t *)v->values + (size_t)i * wd, wd);
                }
                j++;
            }
            *o = (tl_colvec){str ? NULL : g->buf, v->validity ? g->valid : NULL,
                             str ? g->buf : NULL, str ? g->data : NULL};
        }
        tl_batch sel = {b->n_sel, b->n_cols, b->defs, pw->row};
        pw->cur.rows += b->n_sel;
        return tl_batch_write_csv(&sel, pw->f, 0, err);
    }
    for (uint32_t i = 0; i < b->n_rows; i++) {
        if (b->sel && !((b->sel[i >> 3] >> (i & 7)) & 1))
            continue;
        if (c->limit && pw->cur.rows >= c->limit)
            break;
        int rc = pr_row(c, pw, b, i, err);
        if (rc)
            return rc;
    }
    return TL_OK;
}

static int pr_flush(print_ctx *c, tl_error *err)
{
    /* mutex held */
    while (c->next_write < c->n_units && c->units[c->next_write].done) {
        print_unit *u = &c->units[c->next_write];
        if (!atomic_load(&c->full)) {
            size_t len = u->len;
            uint64_t rows = u->rows;
            if (c->limit && c->written + rows >= c->limit) {
                rows = c->limit - c->written;
                len = rows ? u->row_end[rows - 1] : 0;
                atomic_store(&c->full, 1);
            }
            int rc = write_all(c->fd, u->buf, len, err);
            if (rc)
                return rc;
            c->written += rows;
        }
        free(u->buf);
        free(u->row_end);
        u->buf = NULL;
        u->row_end = NULL;
        c->next_write++;
    }
    return TL_OK;
}

static int pr_unit_end(void *ctx, uint32_t worker, size_t unit, tl_error *err)
{
    print_ctx *c = ctx;
    print_worker *pw = &c->pw[worker];
    if (fclose(pw->f) != 0) {
        pw->f = NULL;
        return tl_error_sys(err, errno, "scan: formatting output");
    }
    pw->f = NULL;
    pthread_mutex_lock(&c->mu);
    print_unit *u = &c->units[unit];
    *u = pw->cur;
    u->buf = pw->buf;
    u->len = pw->len;
    u->done = 1;
    pw->buf = NULL;
    memset(&pw->cur, 0, sizeof pw->cur);
    int rc = pr_flush(c, err);
    int full = atomic_load(&c->full);
    pthread_mutex_unlock(&c->mu);
    if (rc)
        return rc;
    return full ? TL_SCAN_STOPPED : TL_OK;
}

int tl_scan_print(const tl_snapshot *s, const tl_scan_opts *o, int format, uint64_t limit,
                  int out_fd, tl_scan_stats *st, tl_error *err)
{
    if (format != TL_SCAN_CSV && format != TL_SCAN_JSON)
        return tl_error_set(err, TL_EINVAL, "scan: unknown output format %d", format);
    if (!s || !o)
        return tl_error_set(err, TL_EINVAL, "scan: no %s", s ? "options" : "snapshot");
    /* header: the projection's names */
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    uint32_t n_proj = o->columns ? o->n_columns : in.n_fields;
    tl_coldef *defs = calloc(n_proj ? n_proj : 1, sizeof *defs);
    if (!defs)
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory");
    for (uint32_t i = 0; i < n_proj; i++) {
        int k = o->columns ? find_field(&in, o->columns[i]) : (int)i;
        if (k < 0) {
            free(defs);
            return tl_error_set(err, TL_EINVAL, "scan: table %s at version %" PRId64
                                " has no column '%s'", tl_snapshot_table(s)->path, in.version,
                                o->columns[i] ? o->columns[i] : "(null)");
        }
        defs[i] = (tl_coldef){in.fields[k].name, in.fields[k].type};
    }
    print_ctx c;
    memset(&c, 0, sizeof c);
    c.format = format;
    c.limit = limit;
    c.fd = out_fd;
    c.n_proj = n_proj;
    c.defs = defs;
    pthread_mutex_init(&c.mu, NULL);
    int rc = TL_OK;
    if (format == TL_SCAN_CSV) {
        char *hb = NULL;
        size_t hl = 0;
        FILE *hf = open_memstream(&hb, &hl);
        if (!hf) {
            rc = tl_error_sys(err, errno, "scan: open_memstream");
        } else {
            tl_batch hdr = {0, n_proj, defs, NULL};
            if (n_proj) {
                /* tl_batch_write_csv checks pointers even for 0 rows */
                tl_colvec *cv = calloc(n_proj, sizeof *cv);
                static const uint32_t zero_off[1] = {0};
                static const uint8_t zero_data[8] = {0};
                for (uint32_t i = 0; cv && i < n_proj; i++)
                    cv[i] = (tl_colvec){zero_data, NULL, zero_off, zero_data};
                hdr.cols = cv;
                rc = cv ? tl_batch_write_csv(&hdr, hf, 1, err)
                        : tl_error_set(err, TL_ENOMEM, "scan: out of memory");
                free(cv);
            } else {
                fputc('\n', hf);
            }
            fclose(hf);
            if (!rc)
                rc = write_all(out_fd, hb, hl, err);
            free(hb);
        }
    }
    tl_scan_cb cb = {pr_start, pr_unit_begin, pr_block, pr_unit_end, &c};
    if (!rc) {
        rc = scan_exec(s, o, &cb, st, 0, err);
        if (rc == TL_SCAN_STOPPED)
            rc = TL_OK;
    }
    for (size_t i = 0; c.units && i < c.n_units; i++) {
        free(c.units[i].buf);
        free(c.units[i].row_end);
    }
    for (uint32_t i = 0; c.pw && i < c.n_workers; i++) {
        if (c.pw[i].f)
            fclose(c.pw[i].f);
        free(c.pw[i].buf);
        free(c.pw[i].cur.row_end);
        free(c.pw[i].vbits);
        free(c.pw[i].row);
        for (uint32_t k = 0; c.pw[i].g && k < c.n_proj; k++) {
            free(c.pw[i].g[k].buf);
            free(c.pw[i].g[k].data);
            free(c.pw[i].g[k].valid);
        }
        free(c.pw[i].g);
    }
    free(c.units);
    free(c.pw);
    free(defs);
    pthread_mutex_destroy(&c.mu);
    return tl_snapshot_name_error(s, rc, err);
}
