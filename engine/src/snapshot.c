/*
 * snapshot.c - the public view of a table version: tl_snapshot (time travel
 * by version or timestamp, LOG.md 9.2/9.4), its files and partitions in a
 * stable order, a simple row reader over its data files, and history.
 *
 * Invariants: a tl_snapshot owns its tl_log_snapshot; every pointer handed
 * out (names, symbols, paths) points into it and lives until close. Files
 * are ordered by (symbol: null first, then bytewise; day: null first, then
 * ascending; path). The reader opens data files beneath the table root only
 * (tl_io_open_beneath: no "..", no symlink out), checks each against its
 * add action (size, rows: LOG-R58) and verifies every block it decodes.
 */
#include "table_int.h"
#include "snapshot_int.h"

#include "tl_format.h"
#include "util_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_snapshot {
    tl_table *t;
    tl_log_snapshot ls;
    tl_field *fields;
    const tl_log_add **adds; /* n_files, in file order */
    size_t n_files;
    tl_partition_info *parts;
    size_t n_parts;
    uint64_t n_rows, bytes;
    int64_t cfg[3];
};

int tl_snapshot_cmp_add(const void *x, const void *y)
{
    const tl_log_add *a = *(const tl_log_add *const *)x, *b = *(const tl_log_add *const *)y;
    if (a->part.has_symbol) {
        if (a->part.symbol_null != b->part.symbol_null)
            return a->part.symbol_null ? -1 : 1;
        if (!a->part.symbol_null) {
            int c = strcmp(a->part.symbol, b->part.symbol);
            if (c)
                return c;
        }
    }
    if (a->part.has_date) {
        if (a->part.date_null != b->part.date_null)
            return a->part.date_null ? -1 : 1;
        if (!a->part.date_null && a->part.date != b->part.date)
            return a->part.date < b->part.date ? -1 : 1;
    }
    return strcmp(a->path, b->path);
}

static int same_part(const tl_log_add *a, const tl_log_add *b)
{
    if (a->part.symbol_null != b->part.symbol_null || a->part.date_null != b->part.date_null)
        return 0;
    if (a->part.has_symbol && !a->part.symbol_null && strcmp(a->part.symbol, b->part.symbol))
        return 0;
    if (a->part.has_date && !a->part.date_null && a->part.date != b->part.date)
        return 0;
    return 1;
}

/* The three settings of tl_snapshot_info from a Delta table's configuration
 * (LOG-D11): delta.checkpointInterval (default 10), and the hours of
 * delta.logRetentionDuration (default 30 days) and
 * delta.deletedFileRetentionDuration (default 1 week), written
 * "interval <n> <unit>". Nonzero when a value is not understood. */
static int delta_config(const tl_log_metadata *m, int which, int64_t *out)
{
    static const char *const keys[3] = {"delta.checkpointInterval", "delta.logRetentionDuration",
                                        "delta.deletedFileRetentionDuration"};
    static const int64_t dflt[3] = {10, 720, 168};
    const char *v = NULL;
    for (uint32_t i = 0; i < m->config.n; i++)
        if (strcmp(m->config.kv[i].key, keys[which]) == 0)
            v = m->config.kv[i].val;
    *out = dflt[which];
    if (!v)
        return 0;
    char unit[16] = "";
    long long n = 0;
    int used = 0;
    if (which == 0)
        return sscanf(v, "%lld%n", &n, &used) == 1 && !v[used] && n > 0 ? (*out = n, 0) : 1;
    if (sscanf(v, "interval %lld %15s%n", &n, unit, &used) != 2 || v[used] || n < 0 ||
        n > 1000000000)
        return 1;
    size_t ul = strlen(unit);
    if (ul > 1 && unit[ul - 1] == 's')
        unit[ul - 1] = 0; /* "days" -> "day" */
    static const struct {
        const char *u;
        int64_t num, den; /* hours = n * num / den */
    } units[] = {{"week", 168, 1}, {"day", 24, 1}, {"hour", 1, 1}, {"minute", 1, 60},
                 {"second", 1, 3600}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].u) == 0) {
            *out = (int64_t)n * units[i].num / units[i].den;
            return 0;
        }
    return 1;
}

int tl_snapshot_open(tl_table *t, const tl_at *at, tl_snapshot **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "snapshot: no output handle");
    *out = NULL;
    if (!t)
        return tl_error_set(err, TL_EINVAL, "snapshot: no table");
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST, .delta = t->delta};
    if (at && at->kind == TL_AT_VERSION) {
        if (at->version < 0)
            return tl_error_set(err, TL_EINVAL, "table %s: version %" PRId64 " is negative",
                                t->path, at->version);
        so.at = TL_LOG_AT_VERSION;
        so.version = at->version;
    } else if (at && at->kind == TL_AT_TIMESTAMP) {
        so.at = TL_LOG_AT_TIMESTAMP;
        so.ts_ms = at->ts_ms;
    } else if (at && at->kind != TL_AT_LATEST) {
        return tl_error_set(err, TL_EINVAL, "snapshot: unknown kind %d", at->kind);
    }
    tl_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return tl_error_set(err, TL_ENOMEM, "table %s: snapshot: out of memory", t->path);
    s->t = t;
    int rc = tl_log_snapshot_load(&t->root, &so, &s->ls, err);
    if (rc) {
        tl_error_prefix(err, "table %s: ", t->path);
        free(s);
        return rc;
    }
    const tl_log_metadata *m = s->ls.meta;
    s->fields = calloc(m->n_fields ? m->n_fields : 1, sizeof *s->fields);
    size_t n = tl_log_snapshot_n_live(&s->ls);
    s->adds = malloc((n ? n : 1) * sizeof *s->adds);
    s->parts = malloc((n ? n : 1) * sizeof *s->parts);
    if (!s->fields || !s->adds || !s->parts) {
        int64_t v = s->ls.version;
        tl_snapshot_close(s);
        return tl_error_set(err, TL_ENOMEM,
                            "table %s: snapshot of version %" PRId64 ": out of memory for %zu files",
                            t->path, v, n);
    }
    for (uint32_t i = 0; i < m->n_fields; i++)
        s->fields[i] = (tl_field){m->fields[i].name, m->fields[i].type, m->fields[i].nullable};
    size_t cur = 0;
    const tl_log_add *ad;
    while ((ad = tl_log_snapshot_live_next(&s->ls, &cur)) && s->n_files < n)
        s->adds[s->n_files++] = ad;
    qsort(s->adds, s->n_files, sizeof *s->adds, tl_snapshot_cmp_add);
    for (size_t i = 0; i < s->n_files; i++) {
        ad = s->adds[i];
        s->n_rows += (uint64_t)ad->n_rows;
        s->bytes += (uint64_t)ad->size_bytes;
        tl_partition_info *p = &s->parts[s->n_parts ? s->n_parts - 1 : 0];
        if (!s->n_parts || !same_part(s->adds[p->first_file], ad)) {
            p = &s->parts[s->n_parts++];
            memset(p, 0, sizeof *p);
            p->has_symbol = ad->part.has_symbol;
            p->symbol_null = ad->part.symbol_null;
            p->symbol = ad->part.has_symbol && !ad->part.symbol_null ? ad->part.symbol : NULL;
            p->has_day = ad->part.has_date;
            p->day_null = ad->part.date_null;
            p->day = ad->part.date;
            p->first_file = i;
        }
        p->n_files++;
        p->n_rows += (uint64_t)ad->n_rows;
        p->bytes += (uint64_t)ad->size_bytes;
        if (ad->has_stats && ad->stats.has_time_range) {
            if (!p->has_time_range || ad->stats.first_ts_ns < p->first_ts_ns)
                p->first_ts_ns = ad->stats.first_ts_ns;
            if (!p->has_time_range || ad->stats.last_ts_ns > p->last_ts_ns)
                p->last_ts_ns = ad->stats.last_ts_ns;
            p->has_time_range = 1;
        }
    }
    static const char *const keys[3] = {TL_LOG_CONF_CHECKPOINT_INTERVAL,
                                        TL_LOG_CONF_LOG_RETENTION_HOURS,
                                        TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS};
    for (int i = 0; i < 3; i++)
        if (s->ls.delta ? delta_config(m, i, &s->cfg[i])
                        : tl_log_config_int(m, keys[i], &s->cfg[i], NULL))
            s->cfg[i] = -1;
    *out = s;
    return TL_OK;
}

void tl_snapshot_close(tl_snapshot *s)
{
    if (!s)
        return;
    tl_log_snapshot_free(&s->ls);
    free(s->fields);
    free(s->adds);
    free(s->parts);
    free(s);
}

void tl_snapshot_get_info(const tl_snapshot *s, tl_snapshot_info *o)
{
    memset(o, 0, sizeof *o);
    if (!s)
        return;
    const tl_log_metadata *m = s->ls.meta;
    o->version = s->ls.version;
    o->timestamp_ms = s->ls.history[s->ls.version].ict_ms;
    o->table_id = m->id;
    o->name = m->name;
    o->created_ms = m->created_ms;
    o->n_rows = s->n_rows;
    o->n_files = s->n_files;
    o->bytes = s->bytes;
    o->n_partitions = s->n_parts;
    o->fields = s->fields;
    o->n_fields = m->n_fields;
    o->symbol_column = m->part_symbol_col;
    o->day_column = m->part_day_col;
    o->sort_key = m->sort_key.s;
    o->n_sort_key = m->sort_key.n;
    o->checkpoint_interval = s->cfg[0];
    o->log_retention_hours = s->cfg[1];
    o->deleted_file_retention_hours = s->cfg[2];
}

size_t tl_snapshot_n_files(const tl_snapshot *s)
{
    return s ? s->n_files : 0;
}

void tl_snapshot_file(const tl_snapshot *s, size_t i, tl_file_info *o)
{
    memset(o, 0, sizeof *o);
    if (!s || i >= s->n_files)
        return;
    const tl_log_add *ad = s->adds[i];
    o->path = ad->path;
    o->has_symbol = ad->part.has_symbol;
    o->symbol_null = ad->part.symbol_null;
    o->symbol = ad->part.has_symbol && !ad->part.symbol_null ? ad->part.symbol : NULL;
    o->has_day = ad->part.has_date;
    o->day_null = ad->part.date_null;
    o->day = ad->part.date;
    o->n_rows = (uint64_t)ad->n_rows;
    o->bytes = (uint64_t)ad->size_bytes;
    if (ad->has_stats && ad->stats.has_time_range) {
        o->has_time_range = 1;
        o->first_ts_ns = ad->stats.first_ts_ns;
        o->last_ts_ns = ad->stats.last_ts_ns;
    }
}

size_t tl_snapshot_n_partitions(const tl_snapshot *s)
{
    return s ? s->n_parts : 0;
}

void tl_snapshot_partition(const tl_snapshot *s, size_t i, tl_partition_info *o)
{
    memset(o, 0, sizeof *o);
    if (s && i < s->n_parts)
        *o = s->parts[i];
}

/* ---- the row reader --------------------------------------------------------- */

typedef struct rcol {
    int tcol;   /* table column */
    int scol;   /* column in the current segment */
    tl_blockbuf bb;
} rcol;

struct tl_reader {
    const tl_snapshot *s;
    char *symbol;
    int has_days;
    int32_t day_from, day_to;
    uint32_t n;
    rcol *cols;
    tl_coldef *defs;
    tl_colvec *vecs;
    size_t next_file;
    /* current file */
    tl_io_file fd;
    tl_io_map map;
    tlf_seg *seg;
    const char *path;
    uint32_t blk, n_blk;
};

int tl_reader_open(const tl_snapshot *s, const tl_rows_filter *f, const char *const *columns,
                   uint32_t n_columns, tl_reader **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "reader: no output handle");
    *out = NULL;
    if (!s)
        return tl_error_set(err, TL_EINVAL, "reader: no snapshot");
    int rc0 = tl_snapshot_check_rows(s, err);
    if (rc0)
        return rc0;
    const tl_log_metadata *m = s->ls.meta;
    uint32_t n = columns ? n_columns : m->n_fields;
    tl_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tl_error_set(err, TL_ENOMEM, "table %s: reader: out of memory", s->t->path);
    r->s = s;
    r->fd = (tl_io_file)TL_IO_FILE_INIT;
    r->n = n;
    r->cols = calloc(n ? n : 1, sizeof *r->cols);
    r->defs = calloc(n ? n : 1, sizeof *r->defs);
    r->vecs = calloc(n ? n : 1, sizeof *r->vecs);
    if (!r->cols || !r->defs || !r->vecs || (f && f->symbol && !(r->symbol = strdup(f->symbol)))) {
        tl_reader_close(r);
        return tl_error_set(err, TL_ENOMEM, "table %s: reader of %" PRIu32 " columns: out of memory",
                            s->t->path, n);
    }
    if (f && f->has_days) {
        r->has_days = 1;
        r->day_from = f->day_from;
        r->day_to = f->day_to;
    }
    for (uint32_t i = 0; i < n; i++) {
        int k = -1;
        if (columns) {
            for (uint32_t j = 0; columns[i] && j < m->n_fields; j++)
                if (strcmp(m->fields[j].name, columns[i]) == 0)
                    k = (int)j;
        } else {
            k = (int)i;
        }
        if (k < 0) {
            tl_error_set(err, TL_EINVAL, "table %s at version %" PRId64 ": no column '%s'",
                         s->t->path, s->ls.version, columns[i] ? columns[i] : "(null)");
            tl_reader_close(r);
            return TL_EINVAL;
        }
        r->cols[i].tcol = k;
        r->defs[i] = (tl_coldef){m->fields[k].name, m->fields[k].type};
    }
    *out = r;
    return TL_OK;
}

static void close_file(tl_reader *r)
{
    tlf_seg_close(r->seg);
    r->seg = NULL;
    tl_io_unmap(&r->map, NULL);
    tl_io_close(&r->fd, NULL);
}

static int file_passes(const tl_reader *r, const tl_log_add *ad)
{
    if (r->symbol && (!ad->part.has_symbol || ad->part.symbol_null ||
                      strcmp(ad->part.symbol, r->symbol) != 0))
        return 0;
    if (r->has_days && (!ad->part.has_date || ad->part.date_null || ad->part.date < r->day_from ||
                        ad->part.date > r->day_to))
        return 0;
    return 1;
}

static int open_file(tl_reader *r, const tl_log_add *ad, tl_error *err)
{
    const tl_table *t = r->s->t;
    r->path = ad->path;
    int rc = tl_io_open_beneath(t->io, &t->root, ad->path, O_RDONLY, 0, &r->fd, err);
    if (!rc)
        rc = tl_io_map_file(&r->fd, &r->map, err);
    if (rc)
        return rc;
    if ((int64_t)r->map.len != ad->size_bytes)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s/%s: %zu bytes, but the log (version %" PRId64
                            " snapshot) says %" PRId64 " (LOG-R58)",
                            t->path, ad->path, r->map.len, r->s->ls.version, ad->size_bytes);
    rc = tlf_seg_open_mem(r->map.addr, r->map.len, ad->path, 0, &r->seg, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    if ((int64_t)tlf_seg_n_rows(r->seg) != ad->n_rows)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s/%s: %" PRIu64 " rows, but the log says %" PRId64 " (LOG-R58)",
                            t->path, ad->path, tlf_seg_n_rows(r->seg), ad->n_rows);
    for (uint32_t i = 0; i < r->n; i++) {
        int sc = tlf_seg_find_col(r->seg, r->defs[i].name);
        if (sc < 0 || tlf_seg_col(r->seg, (uint32_t)sc)->type != r->defs[i].type)
            return tl_error_set(err, TL_ECORRUPT, "%s/%s: no column '%s' of type %s", t->path,
                                ad->path, r->defs[i].name, tl_type_name(r->defs[i].type));
        r->cols[i].scol = sc;
    }
    r->blk = 0;
    r->n_blk = tlf_seg_n_blocks(r->seg);
    return TL_OK;
}

int tl_reader_next(tl_reader *r, tl_batch *b, tl_error *err)
{
    if (!r || !b)
        return tl_error_set(err, TL_EINVAL, "reader: no %s", r ? "batch" : "reader");
    memset(b, 0, sizeof *b);
    b->defs = r->defs;
    b->cols = r->vecs;
    b->n_cols = r->n;
    for (;;) {
        if (r->seg && r->blk < r->n_blk)
            break;
        close_file(r);
        while (r->next_file < r->s->n_files && !file_passes(r, r->s->adds[r->next_file]))
            r->next_file++;
        if (r->next_file >= r->s->n_files)
            return TL_OK;
        int rc = open_file(r, r->s->adds[r->next_file++], err);
        if (rc) {
            close_file(r);
            return rc;
        }
    }
    uint32_t blk = r->blk++;
    const uint8_t *base = r->map.addr;
    uint32_t rows = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        rcol *c = &r->cols[i];
        uint32_t sc = (uint32_t)c->scol;
        int rc = tl_blockbuf_decode(&c->bb, r->seg, sc, blk, base, r->s->t->path, &r->vecs[i],
                                    &rows, err);
        if (rc)
            return rc;
    }
    if (r->n == 0 && r->seg)
        rows = tlf_seg_block(r->seg, 0, blk)->n_rows;
    b->n_rows = rows;
    return TL_OK;
}

int tl_blockbuf_decode(tl_blockbuf *bb, const tlf_seg *seg, uint32_t col, uint32_t blk,
                       const uint8_t *base, const char *table_path, tl_colvec *out,
                       uint32_t *rows, tl_error *err)
{
    const tlf_block_info *bi = tlf_seg_block(seg, col, blk);
    size_t nb, nd, nv;
    tlf_seg_decode_needs(seg, col, blk, &nb, &nd, &nv);
    if (tl_grow(&bb->buf, &bb->buf_cap, nb ? nb : 1) ||
        tl_grow((void **)&bb->data, &bb->data_cap, nd ? nd : 1) ||
        tl_grow((void **)&bb->valid, &bb->valid_cap, nv ? nv : 1))
        return tl_error_set(err, TL_ENOMEM, "table %s: out of memory decoding block %" PRIu32
                            " of column %" PRIu32, table_path, blk, col);
    tlf_vec v = {.buf = bb->buf, .buf_cap = bb->buf_cap, .data_buf = bb->data,
                 .data_cap = bb->data_cap, .valid_buf = bb->valid, .valid_cap = bb->valid_cap};
    int rc = tlf_seg_decode(seg, col, blk, base + bi->offset, bi->length, TLF_DECODE_VERIFY, &v,
                            err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", table_path), rc;
    *out = (tl_colvec){v.values, v.validity, v.offsets, v.data};
    *rows = bi->n_rows;
    return TL_OK;
}

void tl_blockbuf_free(tl_blockbuf *bb)
{
    if (!bb)
        return;
    free(bb->buf);
    free(bb->data);
    free(bb->valid);
    memset(bb, 0, sizeof *bb);
}

void tl_reader_close(tl_reader *r)
{
    if (!r)
        return;
    close_file(r);
    if (r->cols)
        for (uint32_t i = 0; i < r->n; i++) {
            tl_blockbuf_free(&r->cols[i].bb);
        }
    free(r->cols);
    free(r->defs);
    free(r->vecs);
    free(r->symbol);
    free(r);
}

/* ---- history ------------------------------------------------------------------ */

static void hist_entry(tl_history_entry *h, const tl_log_version_info *vi)
{
    h->version = vi->version;
    h->timestamp_ms = vi->ict_ms;
    snprintf(h->operation, sizeof h->operation, "%s", vi->operation ? vi->operation : "");
    h->has_read_version = vi->has_read_version;
    h->read_version = vi->read_version;
    h->added_files = vi->n_added_files;
    h->added_rows = vi->n_added_rows;
    h->removed_files = vi->n_removed_files;
    h->removed_rows = vi->n_removed_rows;
}

/* A Delta table's history: its log replayed to the latest version, which
 * fills the per-version summaries of every version (LOG-D11). */
static int delta_history(tl_table *t, tl_history_entry **out, size_t *n, tl_error *err)
{
    tl_log_snapshot ls;
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST, .delta = 1};
    int rc = tl_log_snapshot_load(&t->root, &so, &ls, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    size_t nv = (size_t)ls.version + 1;
    tl_history_entry *h = calloc(nv, sizeof *h);
    if (!h) {
        tl_log_snapshot_free(&ls);
        return tl_error_set(err, TL_ENOMEM, "table %s: history of %zu versions: out of memory",
                            t->path, nv);
    }
    for (size_t i = 0; i < nv; i++)
        hist_entry(&h[i], &ls.history[i]);
    tl_log_snapshot_free(&ls);
    *out = h;
    *n = nv;
    return TL_OK;
}

int tl_table_history(tl_table *t, tl_history_entry **out, size_t *n, tl_error *err)
{
    if (!t || !out || !n)
        return tl_error_set(err, TL_EINVAL, "history: missing argument");
    *out = NULL;
    *n = 0;
    if (t->delta)
        return delta_history(t, out, n, err);
    tl_log_hist lh = {0};
    int rc = tl_log_history(&t->root, t->io, &lh, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    size_t nv = lh.n;
    tl_history_entry *h = calloc(nv ? nv : 1, sizeof *h);
    if (!h) {
        tl_log_hist_free(&lh);
        return tl_error_set(err, TL_ENOMEM, "table %s: history of %zu versions: out of memory",
                            t->path, nv);
    }
    for (size_t i = 0; i < nv; i++)
        hist_entry(&h[i], &lh.entries[i]);
    tl_log_hist_free(&lh);
    *out = h;
    *n = nv;
    return TL_OK;
}

/* ---- internal accessors (snapshot_int.h) ------------------------------------ */

tl_table *tl_snapshot_table(const tl_snapshot *s)
{
    return s->t;
}

const tl_log_add *tl_snapshot_add(const tl_snapshot *s, size_t i)
{
    return i < s->n_files ? s->adds[i] : NULL;
}

const tl_log_snapshot *tl_snapshot_log(const tl_snapshot *s)
{
    return &s->ls;
}

int tl_snapshot_name_error(const tl_snapshot *s, int rc, tl_error *err)
{
    if (rc != TL_OK && err && s && s->t && s->t->path && !strstr(err->msg, s->t->path))
        tl_error_prefix(err, "table %s: ", s->t->path);
    return rc;
}

int tl_snapshot_check_rows(const tl_snapshot *s, tl_error *err)
{
    if (s && s->ls.delta)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s is a Delta Lake table (read-only in ticklake): its data files "
                            "are Parquet, which ticklake does not scan in place; import them "
                            "into a ticklake table: `ticklake import NEW_TABLE %s --create` "
                            "(LOG-D1)",
                            s->t->path, s->t->path);
    return TL_OK;
}
