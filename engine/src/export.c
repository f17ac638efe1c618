/*
 * export.c - tl_export_parquet: a snapshot (filtered, projected) as Parquet
 * files (spec/PARQUET.md, "Export and Delta").
 *
 * The snapshot is read with tl_scan_run in ordered mode: one work unit per
 * partition, its rows in sort-key order across its files, a unit's blocks
 * delivered by one worker between unit_begin and unit_end. So:
 * - PARTITIONED: each worker owns at most one open Parquet writer at a time,
 *   for the unit (partition) it is on; the file is opened on the first
 *   selected row (a partition the predicate empties writes nothing) and
 *   finished, fsynced and its directory fsynced at unit_end. Partitions are
 *   written in parallel, one per scan worker.
 * - SINGLE: one writer, one scan worker (units in partition order), a row
 *   group ended at every unit_end (so each row group holds one partition).
 *
 * Everything is written under a staging name beside dest
 * (dest ".tmp-<16 hex>"), every file and directory fsynced, then the
 * staging name is moved to dest with tl_io_rename_noreplace (dest existing
 * -> TL_ECONFLICT) and dest's directory fsynced. On any error the staging
 * tree (or dest, if the failure came after the move) is removed: nothing is
 * left at dest. All file I/O goes through the layer under the table
 * handle's write guard (fault injection in tests).
 *
 * Selected rows are gathered into per-worker buffers reused across blocks;
 * blocks without a selection bitmap are handed to the writer in place.
 */
#include "export_int.h"

#include "civil_int.h"
#include "io_int.h"
#include "log_int.h"
#include "snapshot_int.h"
#include "util_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- names ----------------------------------------------------------------- */

size_t tl_export_hive_escape(const char *value, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len == 0) {
        size_t n = sizeof TL_EXPORT_HIVE_NULL - 1;
        if (cap <= n)
            return SIZE_MAX;
        memcpy(out, TL_EXPORT_HIVE_NULL, n + 1);
        return n;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)value[i];
        if (c == 0)
            return SIZE_MAX;
        int esc = c < 0x20 || c == 0x7F || strchr("\"#%'*/:=?\\{[]^", c) != NULL;
        if (o + (esc ? 3 : 1) >= cap)
            return SIZE_MAX;
        if (esc) {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
    return o;
}

char *tl_export_uri_path(const char *rel)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(rel);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)rel[i];
        int keep = c >= 0x80 || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || (c && strchr("-._~/=!$&'()*+,;:@", c) != NULL);
        if (keep) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = 0;
    return out;
}

static void day_text(int32_t day, char out[48])
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    if (y < 0)
        snprintf(out, 48, "-%04" PRId64 "-%02d-%02d", -y, m, d);
    else
        snprintf(out, 48, "%04" PRId64 "-%02d-%02d", y, m, d);
}

/* ---- staging tree removal ----------------------------------------------- */

/* Remove dir/name recursively (best effort: the first error is returned,
 * the walk goes on). Symbolic links are unlinked, never followed. */
static int rm_tree(const tl_io *io, const tl_io_file *dir, const char *name, tl_error *err)
{
    struct stat st;
    int rc = tl_io_stat(io, dir, name, &st, err);
    if (rc)
        return rc == TL_ENOTFOUND ? TL_OK : rc;
    if (!S_ISDIR(st.st_mode))
        return tl_io_unlink(io, dir, name, err);
    tl_io_file d = TL_IO_FILE_INIT;
    rc = tl_io_open(io, dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &d, err);
    if (!rc) {
        tl_io_names names = {0};
        rc = tl_io_list(io, &d, NULL, &names, err);
        for (size_t i = 0; !rc && i < names.n; i++) {
            tl_error e2;
            int r2 = rm_tree(io, &d, names.names[i], &e2);
            if (r2 && !rc) {
                rc = r2;
                if (err)
                    *err = e2;
            }
        }
        tl_io_names_free(&names);
        tl_io_close(&d, NULL);
    }
    int r2 = tl_io_rmdir(io, dir, name, rc ? NULL : err);
    return rc ? rc : r2;
}

/* ---- the export context ---------------------------------------------------- */

/* Gather buffers of one output column. */
typedef struct ex_gbuf {
    void *vals;
    size_t vals_cap;
    uint8_t *valid;
    size_t valid_cap;
    uint8_t *data;
    size_t data_cap;
} ex_gbuf;

typedef struct ex_worker {
    tl_pq_writer *w;
    tl_io_file f;
    tl_io_bufsink sink;
    size_t unit, partition;
    tl_export_file *cur;  /* the file being written (PARTITIONED) */
    ex_gbuf *g;           /* n_out */
    tl_colvec *vec;       /* n_out */
    uint8_t *has_nan;     /* n_out (delta) */
} ex_worker;

typedef struct ex_ctx {
    const tl_snapshot *s;
    const tl_export_opts *o;
    const tl_io *io;
    tl_io_file *stage;     /* PARTITIONED: the staging directory */
    int single;
    int delta;
    /* output columns: projection index of each, defs, optional flags */
    uint32_t n_proj, n_out;
    uint32_t *out_proj;
    tl_coldef *out_defs;
    uint8_t *out_opt;
    tl_pq_write_opts wo;
    tl_pq_sorting_col *sorting;
    tl_pq_kv kv[4];
    char version_text[24];
    /* workers and files (indexed by unit) */
    ex_worker *ws;
    uint32_t n_workers;
    tl_export_file *files;
    size_t n_units;
    pthread_mutex_t mu;   /* mkdir of partition directories */
    tl_io_file single_f;  /* SINGLE: the staging file */
    tl_pq_writer *single_w; /* SINGLE: until handed to worker 0 */
    tl_io_bufsink single_sink;
    uint64_t rows;
} ex_ctx;

static int ex_start(void *ctx, size_t n_units, uint32_t n_workers, tl_error *err)
{
    ex_ctx *c = ctx;
    c->n_units = n_units;
    c->n_workers = n_workers;
    c->files = calloc(n_units ? n_units : 1, sizeof *c->files);
    c->ws = calloc(n_workers ? n_workers : 1, sizeof *c->ws);
    if (!c->files || !c->ws)
        return tl_error_set(err, TL_ENOMEM, "export: out of memory");
    for (uint32_t i = 0; i < n_workers; i++) {
        ex_worker *w = &c->ws[i];
        w->f = (tl_io_file)TL_IO_FILE_INIT;
        w->g = calloc(c->n_out ? c->n_out : 1, sizeof *w->g);
        w->vec = calloc(c->n_out ? c->n_out : 1, sizeof *w->vec);
        w->has_nan = calloc(c->n_out ? c->n_out : 1, 1);
        w->sink.buf = c->single ? NULL : malloc(TL_IO_CHUNK);
        if (!w->g || !w->vec || !w->has_nan || (!c->single && !w->sink.buf))
            return tl_error_set(err, TL_ENOMEM, "export: out of memory");
    }
    if (c->single) { /* one worker (threads = 1): it owns the one writer */
        c->ws[0].w = c->single_w;
        c->single_w = NULL;
    }
    return TL_OK;
}

static int ex_unit_begin(void *ctx, uint32_t worker, size_t unit, size_t partition,
                         tl_error *err)
{
    (void)err;
    ex_ctx *c = ctx;
    ex_worker *w = &c->ws[worker];
    w->unit = unit;
    w->partition = partition;
    w->cur = NULL;
    memset(w->has_nan, 0, c->n_out ? c->n_out : 1);
    return TL_OK;
}

/* PARTITIONED: create the partition's directory and file, open a writer. */
static int open_part_file(ex_ctx *c, ex_worker *w, tl_error *err)
{
    tl_partition_info pi;
    tl_snapshot_partition(c->s, w->partition, &pi);
    tl_export_file *fe = &c->files[w->unit];
    fe->partition = w->partition;
    fe->has_symbol = pi.has_symbol;
    fe->symbol_null = pi.symbol_null;
    fe->has_day = pi.has_day;
    fe->day_null = pi.day_null;
    fe->day = pi.day;
    char dir[2 * 300] = "";
    size_t dl = 0;
    if (pi.has_symbol) {
        const char *sym = pi.symbol_null ? "" : pi.symbol;
        if (!pi.symbol_null && !(fe->symbol = strdup(sym)))
            return tl_error_set(err, TL_ENOMEM, "export: out of memory");
        char esc[256];
        size_t el = tl_export_hive_escape(sym, strlen(sym), esc,
                                          256 - sizeof TL_EXPORT_KEY_SYMBOL);
        if (el == SIZE_MAX)
            return tl_error_set(err, TL_EINVAL,
                                "export: partition %zu: symbol '%.64s...' does not fit a "
                                "directory name of 255 bytes once escaped",
                                w->partition, sym);
        dl += (size_t)snprintf(dir + dl, sizeof dir - dl, "%s=%s", TL_EXPORT_KEY_SYMBOL, esc);
    }
    if (pi.has_day) {
        char dt[48];
        if (pi.day_null)
            snprintf(dt, sizeof dt, "%s", TL_EXPORT_HIVE_NULL);
        else
            day_text(pi.day, dt);
        dl += (size_t)snprintf(dir + dl, sizeof dir - dl, "%s%s=%s", dl ? "/" : "",
                               TL_EXPORT_KEY_DATE, dt);
    }
    size_t rl = dl + 1 + sizeof TL_EXPORT_FILE_NAME;
    if (!(fe->rel = malloc(rl)))
        return tl_error_set(err, TL_ENOMEM, "export: out of memory");
    snprintf(fe->rel, rl, "%s%s%s", dir, dl ? "/" : "", TL_EXPORT_FILE_NAME);
    int rc = TL_OK;
    if (dl) {
        pthread_mutex_lock(&c->mu);
        rc = tl_io_mkdir_p(c->io, c->stage, dir, 0755, err);
        pthread_mutex_unlock(&c->mu);
        if (rc)
            return rc;
    }
    rc = tl_io_open(c->io, c->stage, fe->rel, O_WRONLY | O_CREAT | O_EXCL, 0644, &w->f, err);
    if (rc)
        return rc;
    w->sink.f = &w->f;
    w->sink.n = 0;
    w->sink.total = 0;
    w->cur = fe;
    return tl_pq_writer_open(c->out_defs, c->n_out, c->out_opt, &c->wo,
                             (tlf_sink){tl_io_bufsink_write, &w->sink}, &w->w, err);
}

static int gather(ex_ctx *c, ex_worker *w, const tl_scan_block *b, tl_error *err)
{
    uint32_t n = b->n_sel;
    for (uint32_t k = 0; k < c->n_out; k++) {
        const tl_colvec *v = &b->cols[c->out_proj[k]];
        tl_type t = c->out_defs[k].type;
        ex_gbuf *g = &w->g[k];
        size_t wd = tl_type_width(t);
        int str = t == TL_STRING;
        size_t nbytes = str ? v->offsets[b->n_rows] : 0;
        if (tl_grow(&g->vals, &g->vals_cap, str ? ((size_t)n + 1) * 4 : (size_t)n * wd + 8) ||
            tl_grow((void **)&g->valid, &g->valid_cap, (size_t)n / 8 + 1) ||
            tl_grow((void **)&g->data, &g->data_cap, nbytes + 1))
            return tl_error_set(err, TL_ENOMEM, "export: out of memory (gathering %u rows)", n);
        if (v->validity)
            memset(g->valid, 0, (size_t)n / 8 + 1);
        uint32_t j = 0, dlen = 0;
        uint32_t *offs = g->vals;
        if (str)
            offs[0] = 0;
        for (uint32_t i = 0; i < b->n_rows; i++) {
            if (!((b->sel[i >> 3] >> (i & 7)) & 1))
                continue;
            if (v->validity && tl_bit_get(v->validity, i))
                g->valid[j >> 3] |= (uint8_t)(1u << (j & 7));
            if (str) {
                uint32_t l = v->offsets[i + 1] - v->offsets[i];
                memcpy(g->data + dlen, v->data + v->offsets[i], l);
                dlen += l;
                offs[j + 1] = dlen;
            } else {
                memcpy((uint8_t *)g->vals + (size_t)j * wd,
                       (const uint8_t *)v->values + (size_t)i * wd, wd);
            }
            j++;
        }
        w->vec[k] = (tl_colvec){str ? NULL : g->vals, v->validity ? g->valid : NULL,
                                str ? g->vals : NULL, str ? g->data : NULL};
    }
    return TL_OK;
}

static void note_nan(ex_ctx *c, ex_worker *w, uint32_t n)
{
    for (uint32_t k = 0; k < c->n_out; k++) {
        tl_type t = c->out_defs[k].type;
        if (w->has_nan[k] || (t != TL_FLOAT32 && t != TL_FLOAT64))
            continue;
        const tl_colvec *v = &w->vec[k];
        for (uint32_t i = 0; i < n; i++) {
            double x = t == TL_FLOAT32 ? ((const float *)v->values)[i]
                                       : ((const double *)v->values)[i];
            if (x != x && tl_bit_get(v->validity, i)) {
                w->has_nan[k] = 1;
                break;
            }
        }
    }
}

static int ex_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    ex_ctx *c = ctx;
    ex_worker *w = &c->ws[b->worker];
    uint32_t n = b->sel ? b->n_sel : b->n_rows;
    if (n == 0)
        return TL_OK;
    int rc;
    if (!c->single && !w->w && (rc = open_part_file(c, w, err)))
        return rc;
    if (b->sel) {
        if ((rc = gather(c, w, b, err)))
            return rc;
    } else {
        for (uint32_t k = 0; k < c->n_out; k++)
            w->vec[k] = b->cols[c->out_proj[k]];
    }
    if (c->delta)
        note_nan(c, w, n);
    if ((rc = tl_pq_writer_write(w->w, w->vec, n, err)))
        return rc;
    if (w->cur)
        w->cur->rows += n;
    __atomic_fetch_add(&c->rows, n, __ATOMIC_RELAXED);
    return TL_OK;
}

static int64_t file_mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* PARTITIONED: finish the worker's file: footer, flush, fsync, close, fsync
 * its directory; the Delta stats are taken before the writer is freed. */
static int finish_part_file(ex_ctx *c, ex_worker *w, tl_error *err)
{
    tl_pq_write_stats st;
    tl_export_file *fe = w->cur;
    int rc = tl_pq_writer_close(w->w, &st, err);
    if (!rc && c->delta)
        rc = tl_delta_stats_json(c->out_defs, c->n_out, &st, w->has_nan, &fe->delta_stats, err);
    if (!rc && st.rows != fe->rows)
        rc = tl_error_set(err, TL_EIO, "export: %s: the writer reports %" PRIu64
                          " rows, %" PRIu64 " were written", w->f.path, st.rows, fe->rows);
    tl_pq_writer_free(w->w);
    w->w = NULL;
    if (!rc)
        rc = tl_io_bufsink_flush(&w->sink, err);
    if (!rc)
        rc = tl_io_fsync(&w->f, err);
    struct stat fs;
    if (!rc && !(rc = tl_io_fstat(&w->f, &fs, err))) {
        fe->bytes = (uint64_t)fs.st_size;
        fe->mtime_ms = file_mtime_ms(&fs);
        if (fe->bytes != w->sink.total)
            rc = tl_error_set(err, TL_EIO, "export: %s: %" PRIu64 " bytes on disk, %" PRIu64
                              " written", w->f.path, fe->bytes, w->sink.total);
    }
    int rc2 = tl_io_close(&w->f, rc ? NULL : err);
    if (!rc)
        rc = rc2;
    if (!rc) {
        const char *slash = strrchr(fe->rel, '/');
        if (slash) {
            char dir[600];
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - fe->rel), fe->rel);
            rc = tl_io_fsync_dir(c->io, c->stage, dir, err);
        }
    }
    w->cur = NULL;
    return rc;
}

static int ex_unit_end(void *ctx, uint32_t worker, size_t unit, tl_error *err)
{
    (void)unit;
    ex_ctx *c = ctx;
    ex_worker *w = &c->ws[worker];
    if (c->single)
        return tl_pq_writer_end_row_group(w->w, err);
    if (!w->w)
        return TL_OK;
    return finish_part_file(c, w, err);
}

/* ---- setup ----------------------------------------------------------------- */

static int find_field(const tl_snapshot_info *in, const char *name)
{
    for (uint32_t i = 0; name && i < in->n_fields; i++)
        if (strcmp(in->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Output columns, writer options, sorting columns, key-value metadata. */
static int plan(ex_ctx *c, const tl_snapshot_info *in, const char *table_path, tl_error *err)
{
    const tl_export_opts *o = c->o;
    uint32_t np = o->columns ? o->n_columns : in->n_fields;
    if (o->columns && np == 0)
        return tl_error_set(err, TL_EINVAL, "export: an empty column list");
    c->n_proj = np;
    c->out_proj = calloc(np ? np : 1, sizeof *c->out_proj);
    c->out_defs = calloc(np ? np : 1, sizeof *c->out_defs);
    c->out_opt = calloc(np ? np : 1, 1);
    c->sorting = calloc(in->n_sort_key ? in->n_sort_key : 1, sizeof *c->sorting);
    if (!c->out_proj || !c->out_defs || !c->out_opt || !c->sorting)
        return tl_error_set(err, TL_ENOMEM, "export: out of memory");
    int drop_sym = !c->single && in->symbol_column != NULL;
    for (uint32_t i = 0; i < np; i++) {
        int k = o->columns ? find_field(in, o->columns[i]) : (int)i;
        if (k < 0)
            return tl_error_set(err, TL_EINVAL, "export: table %s at version %" PRId64
                                " has no column '%s'", table_path, in->version,
                                o->columns[i] ? o->columns[i] : "(null)");
        for (uint32_t j = 0; j < i; j++)
            if (o->columns && strcmp(o->columns[j], o->columns[i]) == 0)
                return tl_error_set(err, TL_EINVAL, "export: column '%s' is listed twice",
                                    o->columns[i]);
        const tl_field *f = &in->fields[k];
        if (drop_sym && strcmp(f->name, in->symbol_column) == 0)
            continue; /* Hive: the partition column lives in the path */
        if (!c->single && ((in->symbol_column && strcmp(f->name, TL_EXPORT_KEY_SYMBOL) == 0) ||
                           (in->day_column && strcmp(f->name, TL_EXPORT_KEY_DATE) == 0)))
            return tl_error_set(err, TL_EINVAL,
                                "export: column '%s' has the name of a Hive partition "
                                "directory key of the partitioned layout; leave it out "
                                "(--columns) or export a single file", f->name);
        c->out_proj[c->n_out] = i;
        c->out_defs[c->n_out] = (tl_coldef){f->name, f->type};
        c->out_opt[c->n_out] = (uint8_t)(f->nullable != 0);
        c->n_out++;
    }
    if (c->n_out == 0)
        return tl_error_set(err, TL_EINVAL,
                            "export: no data column left to write (the partition column "
                            "'%s' is stored in the directory names)",
                            in->symbol_column ? in->symbol_column : "?");
    tl_pq_write_opts_default(&c->wo);
    if (o->compression) {
        int codec;
        int rc = tl_pq_codec_parse(o->compression, &codec, err);
        if (rc)
            return tl_error_set(err, TL_EINVAL, "export: compression '%s': expected zstd, "
                                "snappy or none", o->compression);
        if (codec != TL_PQ_ZSTD && codec != TL_PQ_SNAPPY && codec != TL_PQ_UNCOMPRESSED)
            return tl_error_set(err, TL_EINVAL, "export: compression '%s': expected zstd, "
                                "snappy or none", o->compression);
        c->wo.codec = codec;
    }
    c->wo.row_group_rows = o->row_group_rows;
    c->wo.timestamp_micros = (uint8_t)(o->spark_compatible || o->delta);
    uint32_t ns = 0;
    for (uint32_t i = 0; i < in->n_sort_key; i++) {
        uint32_t k = 0;
        while (k < c->n_out && strcmp(c->out_defs[k].name, in->sort_key[i]) != 0)
            k++;
        if (k == c->n_out)
            break; /* prefix only */
        c->sorting[ns++] = (tl_pq_sorting_col){k, 0, 1};
    }
    c->wo.sorting = c->sorting;
    c->wo.n_sorting = ns;
    snprintf(c->version_text, sizeof c->version_text, "%" PRId64, in->version);
    uint32_t nkv = 0;
    c->kv[nkv++] = (tl_pq_kv){"ticklake.table", table_path};
    c->kv[nkv++] = (tl_pq_kv){"ticklake.table_id", in->table_id};
    c->kv[nkv++] = (tl_pq_kv){"ticklake.version", c->version_text};
    if (o->where && *o->where)
        c->kv[nkv++] = (tl_pq_kv){"ticklake.where", o->where};
    c->wo.kv = c->kv;
    c->wo.n_kv = nkv;
    return TL_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ctx_free(ex_ctx *c)
{
    for (uint32_t i = 0; c->ws && i < c->n_workers; i++) {
        ex_worker *w = &c->ws[i];
        tl_pq_writer_free(w->w);
        tl_io_close(&w->f, NULL);
        for (uint32_t k = 0; w->g && k < c->n_out; k++) {
            free(w->g[k].vals);
            free(w->g[k].valid);
            free(w->g[k].data);
        }
        free(w->g);
        free(w->vec);
        free(w->has_nan);
        free(w->sink.buf);
    }
    free(c->ws);
    for (size_t i = 0; c->files && i < c->n_units; i++) {
        free(c->files[i].rel);
        free(c->files[i].symbol);
        free(c->files[i].delta_stats);
    }
    free(c->files);
    free(c->out_proj);
    free(c->out_defs);
    free(c->out_opt);
    free(c->sorting);
    tl_pq_writer_free(c->single_w);
    free(c->single_sink.buf);
    tl_io_close(&c->single_f, NULL);
}

/* Split dest into its directory (opened) and last component. */
static int open_parent(const tl_io *io, const char *dest, tl_io_file *dir, char **base,
                       tl_error *err)
{
    size_t n = strlen(dest);
    while (n > 1 && dest[n - 1] == '/')
        n--;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (dest[i] == '/')
            slash = dest + i;
    char *parent = slash ? strndup(dest, slash == dest ? 1 : (size_t)(slash - dest))
                         : strdup(".");
    *base = slash ? strndup(slash + 1, n - (size_t)(slash + 1 - dest)) : strndup(dest, n);
    if (!parent || !*base) {
        free(parent);
        return tl_error_set(err, TL_ENOMEM, "export: out of memory");
    }
    if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0) {
        free(parent);
        return tl_error_set(err, TL_EINVAL, "export: destination '%s' does not name a new "
                            "file or directory", dest);
    }
    int rc = tl_io_open(io, NULL, parent, O_RDONLY | O_DIRECTORY, 0, dir, err);
    if (rc)
        tl_error_prefix(err, "export: destination's directory: ");
    free(parent);
    return rc;
}

static int write_delta_log(ex_ctx *c, const tl_snapshot_info *in, const char *table_path,
                           tl_error *err)
{
    /* files in unit (= partition) order, only partitions that got rows */
    size_t nf = 0;
    for (size_t i = 0; i < c->n_units; i++)
        if (c->files[i].rel)
            c->files[nf++] = c->files[i];
    for (size_t i = nf; i < c->n_units; i++)
        memset(&c->files[i], 0, sizeof c->files[i]);
    tl_delta_log_in li = {
        .cols = c->out_defs, .nullable = c->out_opt, .n_cols = c->n_out,
        .part_symbol = in->symbol_column != NULL, .part_date = in->day_column != NULL,
        .files = c->files, .n_files = nf, .table_path = table_path,
        .table_id = in->table_id, .version = in->version, .where = c->o->where,
        .now_ms = now_ms()};
    char *text = NULL;
    size_t len = 0;
    int rc = tl_delta_log_build(&li, &text, &len, err);
    if (!rc)
        rc = tl_io_mkdir(c->io, c->stage, "_delta_log", 0755, err);
    if (!rc)
        rc = tl_io_fsync_dir(c->io, c->stage, NULL, err);
    if (!rc) {
        tl_io_file f = TL_IO_FILE_INIT;
        rc = tl_io_open(c->io, c->stage, TL_EXPORT_DELTA_COMMIT, O_WRONLY | O_CREAT | O_EXCL,
                        0644, &f, err);
        if (!rc)
            rc = tl_io_write_all(&f, text, len, err);
        if (!rc)
            rc = tl_io_fsync(&f, err);
        int rc2 = tl_io_close(&f, rc ? NULL : err);
        if (!rc)
            rc = rc2;
    }
    if (!rc)
        rc = tl_io_fsync_dir(c->io, c->stage, "_delta_log", err);
    free(text);
    return rc;
}

/* SINGLE: finish the file after the scan. */
static int finish_single(ex_ctx *c, tl_export_file *fe, tl_error *err)
{
    tl_pq_writer *w = c->ws ? c->ws[0].w : c->single_w;
    tl_pq_write_stats st;
    int rc = tl_pq_writer_close(w, &st, err);
    if (!rc)
        rc = tl_io_bufsink_flush(&c->single_sink, err);
    if (!rc)
        rc = tl_io_fsync(&c->single_f, err);
    struct stat fs;
    if (!rc && !(rc = tl_io_fstat(&c->single_f, &fs, err))) {
        fe->bytes = (uint64_t)fs.st_size;
        fe->rows = st.rows;
        if (fe->bytes != c->single_sink.total)
            rc = tl_error_set(err, TL_EIO, "export: %s: %" PRIu64 " bytes on disk, %" PRIu64
                              " written", c->single_f.path, fe->bytes, c->single_sink.total);
    }
    int rc2 = tl_io_close(&c->single_f, rc ? NULL : err);
    return rc ? rc : rc2;
}

int tl_export_parquet(const tl_snapshot *s, const char *dest, const tl_export_opts *o,
                      tl_export_result *res, tl_error *err)
{
    double t0 = now_s();
    if (res)
        memset(res, 0, sizeof *res);
    if (!s || !dest || !*dest || !o)
        return tl_error_set(err, TL_EINVAL, "export: no %s",
                            !s ? "snapshot" : !o ? "options" : "destination");
    if (o->layout != TL_EXPORT_AUTO && o->layout != TL_EXPORT_PARTITIONED &&
        o->layout != TL_EXPORT_SINGLE)
        return tl_error_set(err, TL_EINVAL, "export: layout %d: expected auto (0), "
                            "partitioned (1) or single (2)", o->layout);
    tl_table *t = tl_snapshot_table(s);
    /* The export writes outside the table: through the layer under the
     * handle's write guard (the guard stops writes to the table after a
     * failed fsync, LOG-C10; an export's own failed fsync fails the export,
     * and its staging tree must still be removed). Fault injection reaches
     * it all the same (the guard's inner layer is the injector). */
    const tl_io *io = t->guard.inner ? t->guard.inner : tl_io_default();
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    int partitioned = o->layout == TL_EXPORT_PARTITIONED ||
                      (o->layout == TL_EXPORT_AUTO && (in.symbol_column || in.day_column));
    if (o->delta && !partitioned)
        return tl_error_set(err, TL_EINVAL, "export: --delta writes a directory (a Delta "
                            "table); it cannot be combined with a single-file export");
    ex_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.o = o;
    c.io = io;
    c.single = !partitioned;
    c.delta = o->delta != 0;
    c.single_f = (tl_io_file)TL_IO_FILE_INIT;
    pthread_mutex_init(&c.mu, NULL);
    tl_io_file parent = TL_IO_FILE_INIT, stage = TL_IO_FILE_INIT;
    char *base = NULL, *stage_name = NULL;
    int staged = 0, moved = 0;
    tl_export_file single_fe;
    memset(&single_fe, 0, sizeof single_fe);
    int rc = plan(&c, &in, t->path, err);
    if (!rc)
        rc = open_parent(io, dest, &parent, &base, err);
    if (!rc) {
        struct stat st;
        tl_error e2;
        int r = tl_io_stat(io, &parent, base, &st, &e2);
        if (r == TL_OK)
            rc = tl_error_set(err, TL_ECONFLICT, "export: %s exists already", dest);
        else if (r != TL_ENOTFOUND)
            rc = tl_error_set(err, r, "%s", e2.msg);
    }
    if (!rc) {
        char uuid[37];
        rc = tl_log_uuid4(uuid, err);
        size_t n = strlen(base) + 32;
        if (!rc && !(stage_name = malloc(n)))
            rc = tl_error_set(err, TL_ENOMEM, "export: out of memory");
        if (!rc)
            snprintf(stage_name, n, "%s.tmp-%.8s%.4s%.4s", base, uuid, uuid + 9, uuid + 14);
    }
    if (!rc && partitioned) {
        rc = tl_io_mkdir(io, &parent, stage_name, 0755, err);
        staged = !rc;
        if (!rc)
            rc = tl_io_open(io, &parent, stage_name, O_RDONLY | O_DIRECTORY, 0, &stage, err);
        c.stage = &stage;
    } else if (!rc) {
        rc = tl_io_open(io, &parent, stage_name, O_WRONLY | O_CREAT | O_EXCL, 0644,
                        &c.single_f, err);
        staged = !rc;
        c.single_sink.f = &c.single_f;
        if (!rc && !(c.single_sink.buf = malloc(TL_IO_CHUNK)))
            rc = tl_error_set(err, TL_ENOMEM, "export: out of memory");
        if (!rc)
            rc = tl_pq_writer_open(c.out_defs, c.n_out, c.out_opt, &c.wo,
                                   (tlf_sink){tl_io_bufsink_write, &c.single_sink}, &c.single_w, err);
    }
    if (!rc) {
        tl_scan_opts so;
        memset(&so, 0, sizeof so);
        so.columns = o->columns;
        so.n_columns = o->columns ? o->n_columns : 0;
        so.where = o->where;
        so.symbols = o->symbols;
        so.n_symbols = o->symbols ? o->n_symbols : 0;
        so.has_days = o->has_days;
        so.day_from = o->day_from;
        so.day_to = o->day_to;
        so.threads = c.single ? 1 : o->threads;
        so.ordered = 1;
        static const char *const no_runs[1] = {""};
        so.run_columns = no_runs; /* with n_run_columns 0: no runs */
        so.n_run_columns = 0;
        so.progress = o->progress;
        so.progress_ctx = o->progress_ctx;
        tl_scan_cb cb = {ex_start, ex_unit_begin, ex_block, ex_unit_end, &c};
        rc = tl_scan_run(s, &so, &cb, NULL, err);
    }
    if (!rc && c.single)
        rc = finish_single(&c, &single_fe, err);
    if (!rc && c.delta)
        rc = write_delta_log(&c, &in, t->path, err);
    if (!rc && partitioned)
        rc = tl_io_fsync_dir(io, &stage, NULL, err);
    tl_io_close(&stage, NULL);
    if (!rc) {
        rc = tl_io_rename_noreplace(io, &parent, stage_name, &parent, base, err);
        if (rc == TL_ECONFLICT)
            tl_error_set(err, TL_ECONFLICT, "export: %s exists already (created while "
                         "exporting)", dest);
        moved = !rc;
    }
    if (!rc)
        rc = tl_io_fsync_dir(io, &parent, NULL, err);
    uint64_t files = 0, bytes = 0, rows = 0;
    if (!rc && c.single) {
        files = 1;
        bytes = single_fe.bytes;
        rows = single_fe.rows;
    }
    for (size_t i = 0; !rc && !c.single && i < c.n_units; i++)
        if (c.files[i].rel) {
            files++;
            bytes += c.files[i].bytes;
            rows += c.files[i].rows;
        }
    if (!rc && res && !(res->dest = strdup(dest)))
        rc = tl_error_set(err, TL_ENOMEM, "export: out of memory");
    if (rc && (staged || moved)) {
        tl_io_close(&c.single_f, NULL);
        for (uint32_t i = 0; c.ws && i < c.n_workers; i++) {
            tl_pq_writer_free(c.ws[i].w);
            c.ws[i].w = NULL;
            tl_io_close(&c.ws[i].f, NULL);
        }
        /* after a failed move the staging name is still there; after a
         * failure that followed the move, dest is ours to remove */
        if (rm_tree(io, &parent, moved ? base : stage_name, NULL) == TL_OK &&
            tl_io_fsync_dir(io, &parent, NULL, NULL) != TL_OK) {
            /* best effort: the entry is gone for every reader already */
        }
    }
    if (!rc) {
        if (o->progress)
            o->progress(o->progress_ctx, rows, rows);
        if (res) {
            res->version = in.version;
            res->rows = rows;
            res->files = files;
            res->bytes = bytes;
            res->elapsed_s = now_s() - t0;
            res->rows_per_s = res->elapsed_s > 0 ? (double)rows / res->elapsed_s : 0;
        }
    }
    ctx_free(&c);
    pthread_mutex_destroy(&c.mu);
    tl_io_close(&parent, NULL);
    free(base);
    free(stage_name);
    return rc;
}

void tl_export_result_free(tl_export_result *res)
{
    if (!res)
        return;
    free(res->dest);
    memset(res, 0, sizeof *res);
}
