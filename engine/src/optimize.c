/*
 * optimize.c - compaction of a partition's small data files (spec/MAINT.md,
 * MAINT-O1..O10), and the machinery it shares with repartition.c
 * (optimize_int.h): column buffers, the maintenance writer and the stable
 * k-way merge of sorted segment files.
 *
 * Optimize plans on the latest snapshot: per partition (in snapshot file
 * order) the live files with fewer rows than the target are its inputs when
 * there are at least two. Each partition's inputs are merged by the table's
 * sort key - a k-way merge of their sorted runs, never a re-sort; equal keys
 * keep file order and each file its stored order (the order of an ordered
 * scan) - and streamed block by block into new files of target rows, which
 * are durable before the commit (LOG-R41). The commit removes the inputs and
 * adds the outputs, all dataChange = false (LOG-R49 allows it), operation
 * "OPTIMIZE". Conflicts (MAINT-O7/O8): a concurrent commit that only adds
 * files (appends, anywhere) is retried onto by tl_log_write (LOG-R51); one
 * that removed an input is TL_ECONFLICT there, after which the partitions
 * whose inputs are no longer all live are re-planned on the new snapshot and
 * redone (their outputs unlinked), the others kept; a metaData change fails.
 *
 * Invariants: an output file holds rows of one partition, sorted; the rows of
 * a partition's outputs are exactly its inputs' rows (the merge copies rows,
 * it never drops or repeats one); nothing is visible unless the commit
 * succeeds; on failure the outputs are unlinked unless the outcome of the
 * commit is unknown (TL_EIO: orphans for vacuum, LOG-C6).
 *
 * Merge memory: one decoded block (all columns) per input plus one output
 * block. The decoded size of the first input's largest block estimates the
 * cost of an input; when the inputs' cost exceeds max_memory, consecutive
 * groups are merged into temporary runs under _tmp/ first (stable, since
 * groups keep input order and ties go to the earlier group).
 */
#include "optimize_int.h"

#include "delta_read_int.h"
#include "snapshot_int.h"
#include "sortkey_int.h"
#include "util_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_MEMORY ((size_t)256 << 20)
#define MAX_TARGET_ROWS ((uint64_t)1 << 31)
#define MS_PER_HOUR INT64_C(3600000)
#define MAX_REDO_ROUNDS 3

double tl_maint_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- column buffers ---------------------------------------------------------------- */

int tl_cbuf_init(tl_cbuf *b, const tl_coldef *defs, uint32_t nf, tl_error *err)
{
    memset(b, 0, sizeof *b);
    b->nf = nf;
    b->defs = defs;
    b->c = calloc(nf ? nf : 1, sizeof *b->c);
    b->view = calloc(nf ? nf : 1, sizeof *b->view);
    if (!b->c || !b->view) {
        tl_cbuf_free(b);
        return tl_error_set(err, TL_ENOMEM, "out of memory (column buffers)");
    }
    return TL_OK;
}

void tl_cbuf_free(tl_cbuf *b)
{
    if (!b)
        return;
    if (b->c)
        for (uint32_t i = 0; i < b->nf; i++) {
            free(b->c[i].vals);
            free(b->c[i].data);
            free(b->c[i].valid);
        }
    free(b->c);
    free(b->view);
    memset(b, 0, sizeof *b);
}

void tl_cbuf_reset(tl_cbuf *b)
{
    for (uint32_t i = 0; i < b->nf; i++) {
        b->c[i].dlen = 0;
        if (b->c[i].valid)
            memset(b->c[i].valid, 0xFF, b->c[i].vcap);
    }
    b->n = 0;
}

size_t tl_cbuf_mem(const tl_cbuf *b)
{
    size_t m = 0;
    for (uint32_t i = 0; i < b->nf; i++)
        m += b->c[i].cap + b->c[i].dcap + b->c[i].vcap;
    return m;
}

/* Room for add more rows in every column (values, offsets, bitmaps). */
static int cbuf_reserve(tl_cbuf *b, uint32_t add, tl_error *err)
{
    uint64_t need = (uint64_t)b->n + add;
    if (need >= UINT32_MAX)
        return tl_error_set(err, TL_EINVAL, "column buffer above 2^32 rows");
    for (uint32_t i = 0; i < b->nf; i++) {
        tl_cbcol *c = &b->c[i];
        size_t w = tl_type_width(b->defs[i].type);
        size_t bytes = w ? (size_t)need * w : ((size_t)need + 1) * 4;
        size_t old = c->cap;
        if (tl_grow((void **)&c->vals, &c->cap, bytes ? bytes : 1))
            return tl_error_set(err, TL_ENOMEM, "out of memory (%zu bytes of column buffer)", bytes);
        if (!w && old == 0)
            ((uint32_t *)c->vals)[0] = 0;
        if (c->valid) {
            size_t vold = c->vcap;
            if (tl_grow((void **)&c->valid, &c->vcap, ((size_t)need + 7) / 8))
                return tl_error_set(err, TL_ENOMEM, "out of memory (validity)");
            memset(c->valid + vold, 0xFF, c->vcap - vold);
        }
    }
    return TL_OK;
}

/* Column i gets a bitmap: every row so far present. */
static int cbuf_valid(tl_cbuf *b, uint32_t i, uint32_t rows_ahead, tl_error *err)
{
    tl_cbcol *c = &b->c[i];
    if (c->valid)
        return TL_OK;
    size_t vb = ((size_t)b->n + rows_ahead + 7) / 8;
    if (tl_grow((void **)&c->valid, &c->vcap, vb ? vb : 1))
        return tl_error_set(err, TL_ENOMEM, "out of memory (validity)");
    memset(c->valid, 0xFF, c->vcap);
    return TL_OK;
}

static int any_null(const uint8_t *valid, uint32_t from, uint32_t len)
{
    if (!valid)
        return 0;
    uint32_t i = from, end = from + len;
    while (i < end && (i & 7))
        if (!tl_bit_get(valid, i++))
            return 1;
    while (i + 8 <= end) {
        if (valid[i >> 3] != 0xFF)
            return 1;
        i += 8;
    }
    while (i < end)
        if (!tl_bit_get(valid, i++))
            return 1;
    return 0;
}

/* Clear the bits of dst from at on where src (from `from` on, len bits) has
 * zeros. The buffers keep every bit at or past their row count set (reset,
 * growth and new bitmaps fill 0xFF), so a row is present unless cleared. */
static void clear_nulls(uint8_t *dst, uint64_t at, const uint8_t *src, uint32_t from,
                        uint32_t len)
{
    uint32_t r = 0;
    while (r < len) {
        uint32_t s = from + r;
        if ((s & 7) == 0 && r + 8 <= len && src[s >> 3] == 0xFF) {
            r += 8;
            continue;
        }
        if (!tl_bit_get(src, s))
            dst[(at + r) >> 3] &= (uint8_t) ~(1u << ((at + r) & 7));
        r++;
    }
}

int tl_cbuf_append_range(tl_cbuf *b, const tl_colvec *src, uint32_t from, uint32_t len,
                         tl_error *err)
{
    if (len == 0)
        return TL_OK;
    int rc = cbuf_reserve(b, len, err);
    if (rc)
        return rc;
    uint32_t n = b->n;
    for (uint32_t i = 0; i < b->nf; i++) {
        tl_cbcol *c = &b->c[i];
        const tl_colvec *v = &src[i];
        size_t w = tl_type_width(b->defs[i].type);
        if (w) {
            memcpy(c->vals + (size_t)n * w, (const uint8_t *)v->values + (size_t)from * w,
                   (size_t)len * w);
        } else {
            const uint32_t *so = v->offsets;
            uint32_t base = so[from];
            size_t bytes = so[from + len] - base;
            if (c->dlen + bytes > UINT32_MAX)
                return tl_error_set(err, TL_EINVAL,
                                    "column '%s': more than 4 GiB of strings in one buffer",
                                    b->defs[i].name);
            if (bytes) {
                if (tl_grow((void **)&c->data, &c->dcap, c->dlen + bytes))
                    return tl_error_set(err, TL_ENOMEM, "out of memory (strings)");
                memcpy(c->data + c->dlen, v->data + base, bytes);
            }
            uint32_t *oo = (uint32_t *)c->vals;
            uint32_t d0 = (uint32_t)c->dlen;
            for (uint32_t r = 0; r < len; r++)
                oo[n + 1 + r] = d0 + (so[from + 1 + r] - base);
            c->dlen += bytes;
        }
        if (!c->valid && any_null(v->validity, from, len)) {
            rc = cbuf_valid(b, i, len, err);
            if (rc)
                return rc;
        }
        if (c->valid && v->validity)
            clear_nulls(c->valid, n, v->validity, from, len);
    }
    b->n += len;
    return TL_OK;
}

int tl_cbuf_append_runs(tl_cbuf *b, const tl_crun *runs, uint32_t n_runs, tl_error *err)
{
    uint64_t total = 0;
    for (uint32_t k = 0; k < n_runs; k++)
        total += runs[k].len;
    if (total == 0)
        return TL_OK;
    if (total >= UINT32_MAX)
        return tl_error_set(err, TL_EINVAL, "column buffer above 2^32 rows");
    int rc = cbuf_reserve(b, (uint32_t)total, err);
    if (rc)
        return rc;
    uint32_t n = b->n;
    for (uint32_t i = 0; i < b->nf; i++) {
        tl_cbcol *c = &b->c[i];
        size_t w = tl_type_width(b->defs[i].type);
        uint32_t at = n;
        if (w == 8) {
            uint8_t *d = c->vals;
            for (uint32_t k = 0; k < n_runs; k++) {
                const uint8_t *src = (const uint8_t *)runs[k].v[i].values + (size_t)runs[k].from * 8;
                uint32_t len = runs[k].len;
                if (len > 8) {
                    memcpy(d + (size_t)at * 8, src, (size_t)len * 8);
                } else {
                    for (uint32_t r = 0; r < len; r++) {
                        uint64_t x;
                        memcpy(&x, src + (size_t)r * 8, 8);
                        memcpy(d + ((size_t)at + r) * 8, &x, 8);
                    }
                }
                at += len;
            }
        } else if (w == 4) {
            uint8_t *d = c->vals;
            for (uint32_t k = 0; k < n_runs; k++) {
                const uint8_t *src = (const uint8_t *)runs[k].v[i].values + (size_t)runs[k].from * 4;
                uint32_t len = runs[k].len;
                if (len > 16) {
                    memcpy(d + (size_t)at * 4, src, (size_t)len * 4);
                } else {
                    for (uint32_t r = 0; r < len; r++) {
                        uint32_t x;
                        memcpy(&x, src + (size_t)r * 4, 4);
                        memcpy(d + ((size_t)at + r) * 4, &x, 4);
                    }
                }
                at += len;
            }
        } else if (w) {
            for (uint32_t k = 0; k < n_runs; k++) {
                memcpy(c->vals + (size_t)at * w,
                       (const uint8_t *)runs[k].v[i].values + (size_t)runs[k].from * w,
                       (size_t)runs[k].len * w);
                at += runs[k].len;
            }
        } else {
            size_t bytes = 0;
            for (uint32_t k = 0; k < n_runs; k++) {
                const uint32_t *so = runs[k].v[i].offsets;
                bytes += so[runs[k].from + runs[k].len] - so[runs[k].from];
            }
            if (c->dlen + bytes > UINT32_MAX)
                return tl_error_set(err, TL_EINVAL,
                                    "column '%s': more than 4 GiB of strings in one buffer",
                                    b->defs[i].name);
            if (tl_grow((void **)&c->data, &c->dcap, c->dlen + bytes + 1))
                return tl_error_set(err, TL_ENOMEM, "out of memory (strings)");
            uint32_t *oo = (uint32_t *)c->vals;
            for (uint32_t k = 0; k < n_runs; k++) {
                const tl_colvec *v = &runs[k].v[i];
                const uint32_t *so = v->offsets;
                uint32_t from = runs[k].from, len = runs[k].len;
                uint32_t base = so[from];
                size_t rb = so[from + len] - base;
                if (rb)
                    memcpy(c->data + c->dlen, v->data + base, rb);
                uint32_t d0 = (uint32_t)c->dlen;
                for (uint32_t r = 0; r < len; r++)
                    oo[at + 1 + r] = d0 + (so[from + 1 + r] - base);
                c->dlen += rb;
                at += len;
            }
        }
        /* validity */
        if (!c->valid) {
            int nul = 0;
            for (uint32_t k = 0; k < n_runs && !nul; k++)
                nul = any_null(runs[k].v[i].validity, runs[k].from, runs[k].len);
            if (nul && (rc = cbuf_valid(b, i, (uint32_t)total, err)) != TL_OK)
                return rc;
        }
        if (c->valid) {
            at = n;
            for (uint32_t k = 0; k < n_runs; k++) {
                if (runs[k].v[i].validity)
                    clear_nulls(c->valid, at, runs[k].v[i].validity, runs[k].from, runs[k].len);
                at += runs[k].len;
            }
        }
    }
    b->n += (uint32_t)total;
    return TL_OK;
}

int tl_cbuf_append_idx(tl_cbuf *b, const tl_colvec *src, const uint32_t *idx, uint32_t m,
                       tl_error *err)
{
    if (m == 0)
        return TL_OK;
    int rc = cbuf_reserve(b, m, err);
    if (rc)
        return rc;
    uint32_t n = b->n;
    for (uint32_t i = 0; i < b->nf; i++) {
        tl_cbcol *c = &b->c[i];
        const tl_colvec *v = &src[i];
        size_t w = tl_type_width(b->defs[i].type);
        if (w) {
            uint8_t *o = c->vals + (size_t)n * w;
            const uint8_t *s = v->values;
            switch (w) {
            case 1:
                for (uint32_t r = 0; r < m; r++)
                    o[r] = s[idx[r]];
                break;
            case 2:
                for (uint32_t r = 0; r < m; r++)
                    memcpy(o + (size_t)r * 2, s + (size_t)idx[r] * 2, 2);
                break;
            case 4:
                for (uint32_t r = 0; r < m; r++)
                    memcpy(o + (size_t)r * 4, s + (size_t)idx[r] * 4, 4);
                break;
            default:
                for (uint32_t r = 0; r < m; r++)
                    memcpy(o + (size_t)r * 8, s + (size_t)idx[r] * 8, 8);
                break;
            }
        } else {
            const uint32_t *so = v->offsets;
            size_t bytes = 0;
            for (uint32_t r = 0; r < m; r++)
                bytes += so[idx[r] + 1] - so[idx[r]];
            if (c->dlen + bytes > UINT32_MAX)
                return tl_error_set(err, TL_EINVAL,
                                    "column '%s': more than 4 GiB of strings in one buffer",
                                    b->defs[i].name);
            if (tl_grow((void **)&c->data, &c->dcap, c->dlen + bytes + 1))
                return tl_error_set(err, TL_ENOMEM, "out of memory (strings)");
            uint32_t *oo = (uint32_t *)c->vals;
            for (uint32_t r = 0; r < m; r++) {
                uint32_t lo = so[idx[r]], len = so[idx[r] + 1] - lo;
                if (len)
                    memcpy(c->data + c->dlen, v->data + lo, len);
                c->dlen += len;
                oo[n + 1 + r] = (uint32_t)c->dlen;
            }
        }
        if (v->validity && !c->valid) {
            int nul = 0;
            for (uint32_t r = 0; r < m && !nul; r++)
                nul = !tl_bit_get(v->validity, idx[r]);
            if (nul && (rc = cbuf_valid(b, i, m, err)) != TL_OK)
                return rc;
        }
        if (c->valid && v->validity)
            for (uint32_t r = 0; r < m; r++)
                if (!tl_bit_get(v->validity, idx[r]))
                    c->valid[(n + r) >> 3] &= (uint8_t) ~(1u << ((n + r) & 7));
    }
    b->n += m;
    return TL_OK;
}

const tl_colvec *tl_cbuf_cols(tl_cbuf *b)
{
    for (uint32_t i = 0; i < b->nf; i++) {
        tl_cbcol *c = &b->c[i];
        tl_colvec *v = &b->view[i];
        memset(v, 0, sizeof *v);
        if (tl_type_width(b->defs[i].type)) {
            v->values = c->vals;
        } else {
            v->offsets = (const uint32_t *)c->vals;
            v->data = c->data;
        }
        v->validity = c->valid;
    }
    return b->view;
}

/* ---- the maintenance writer ------------------------------------------------------------ */

int tl_mw_init(tl_mw *mw, tl_table *t, const tl_coldef *defs, const tlf_col_opts *col_opts,
               uint32_t nf, int day_col, int temp, uint64_t target_rows, tl_error *err)
{
    memset(mw, 0, sizeof *mw);
    mw->t = t;
    mw->defs = defs;
    mw->col_opts = col_opts;
    mw->nf = nf;
    mw->day_col = day_col;
    mw->temp = temp;
    mw->target_rows = target_rows ? target_rows : TL_OPTIMIZE_DEFAULT_TARGET_ROWS;
    mw->fd = (tl_io_file)TL_IO_FILE_INIT;
    mw->first_ms = INT64_MAX;
    return tl_cbuf_init(&mw->slice, defs, nf, err);
}

static void mw_abort_file(tl_mw *mw)
{
    if (!mw->open)
        return;
    tlf_seg_writer_free(mw->w);
    mw->w = NULL;
    tl_io_close(&mw->fd, NULL);
    if (tl_io_unlink(mw->t->io, &mw->t->root, mw->cur_path, NULL)) { /* an orphan */
    }
    free(mw->cur_path);
    mw->cur_path = NULL;
    mw->open = 0;
}

void tl_mw_free(tl_mw *mw)
{
    if (!mw)
        return;
    mw_abort_file(mw);
    for (size_t i = 0; i < mw->n_files; i++) {
        free(mw->files[i].path);
        free(mw->files[i].sym);
        tl_dfstats_free(&mw->files[i].st);
    }
    free(mw->files);
    for (size_t i = 0; i < mw->n_dirs; i++)
        free(mw->dirs[i]);
    free(mw->dirs);
    free(mw->sym);
    free(mw->wbuf);
    free(mw->foot);
    tl_cbuf_free(&mw->slice);
    memset(mw, 0, sizeof *mw);
}

void tl_mw_drop_files(tl_mw *mw, size_t from)
{
    for (size_t i = from; i < mw->n_files; i++) {
        if (tl_io_unlink(mw->t->io, &mw->t->root, mw->files[i].path, NULL)) { /* orphan */
        }
        mw->rows -= (uint64_t)mw->files[i].rows;
        mw->bytes -= (uint64_t)mw->files[i].size;
        free(mw->files[i].path);
        free(mw->files[i].sym);
        tl_dfstats_free(&mw->files[i].st);
    }
    if (from < mw->n_files)
        mw->n_files = from;
}

int tl_mw_set_part(tl_mw *mw, const char *dir, const tl_log_pvals *pv, tl_error *err)
{
    int rc = tl_mw_finish_file(mw, err);
    if (rc)
        return rc;
    size_t dl = strlen(dir);
    if (dl >= sizeof mw->dir)
        return tl_error_set(err, TL_EINVAL, "partition directory too long: %.100s", dir);
    memcpy(mw->dir, dir, dl + 1);
    if ((rc = tl_log_uuid4(mw->base, err)) != TL_OK)
        return rc;
    mw->seq = 0;
    free(mw->sym);
    mw->sym = NULL;
    mw->pv = pv ? *pv : (tl_log_pvals){0};
    if (pv && pv->has_symbol && !pv->symbol_null) {
        if (!(mw->sym = strdup(pv->symbol)))
            return tl_error_set(err, TL_ENOMEM, "out of memory");
        mw->pv.symbol = mw->sym;
    } else {
        mw->pv.symbol = NULL;
    }
    if (dl) {
        for (size_t i = 0; i < mw->n_dirs; i++)
            if (strcmp(mw->dirs[i], dir) == 0)
                return TL_OK;
        rc = tl_io_mkdir_p(mw->t->io, &mw->t->root, dir, 0777, err);
        if (rc)
            return tl_error_prefix(err, "table %s: ", mw->t->path), rc;
    }
    if (!mw->temp) {
        size_t cap = mw->cap_dirs;
        if (mw->n_dirs == cap &&
            tl_grow((void **)&mw->dirs, &mw->cap_dirs, (mw->n_dirs + 1) * sizeof *mw->dirs))
            return tl_error_set(err, TL_ENOMEM, "out of memory");
        for (size_t i = 0; i < mw->n_dirs; i++)
            if (strcmp(mw->dirs[i], dir) == 0)
                return TL_OK;
        if (!(mw->dirs[mw->n_dirs] = strdup(dir)))
            return tl_error_set(err, TL_ENOMEM, "out of memory");
        mw->n_dirs++;
    }
    return TL_OK;
}

static int mw_open_file(tl_mw *mw, tl_error *err)
{
    int rc;
    if (!mw->base[0] && (rc = tl_log_uuid4(mw->base, err)) != TL_OK)
        return rc;
    size_t plen = strlen(mw->dir) + 1 + 36 + 1 + 10 + 5;
    char *path = malloc(plen);
    if (!path)
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    snprintf(path, plen, "%s%s%s-%05" PRIu32 ".tls", mw->dir, mw->dir[0] ? "/" : "", mw->base,
             mw->seq++);
    if (!mw->wbuf && !(mw->wbuf = malloc(TL_IO_CHUNK))) {
        free(path);
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    }
    rc = tl_io_open(mw->t->io, &mw->t->root, path, O_RDWR | O_CREAT | O_EXCL, 0644, &mw->fd, err);
    if (rc) {
        free(path);
        return tl_error_prefix(err, "table %s: ", mw->t->path), rc;
    }
    mw->cur_path = path;
    mw->open = 1;
    mw->cur_rows = 0;
    mw->cur_mtime = tl_table_now_ms(mw->t);
    if (mw->cur_mtime < mw->first_ms)
        mw->first_ms = mw->cur_mtime;
    mw->sink = (tl_io_bufsink){.f = &mw->fd, .buf = mw->wbuf};
    tlf_writer_opts wo = {.col_opts = mw->col_opts};
    rc = tlf_seg_writer_open(mw->defs, mw->nf, &wo,
                             (tlf_sink){tl_io_bufsink_write, &mw->sink}, &mw->w, err);
    if (rc) {
        tl_error_prefix(err, "table %s: data file %s: ", mw->t->path, path);
        mw_abort_file(mw);
    }
    return rc;
}

int tl_mw_finish_file(tl_mw *mw, tl_error *err)
{
    if (!mw->open)
        return TL_OK;
    tl_mw_file f = {0};
    tlf_seg_write_stats st = {0};
    int rc = tlf_seg_writer_finish(mw->w, &st, err);
    if (!rc)
        rc = tl_io_bufsink_flush(&mw->sink, err);
    tlf_seg_writer_free(mw->w);
    mw->w = NULL;
    f.path = mw->cur_path;
    f.size = (int64_t)st.file_bytes;
    f.rows = (int64_t)mw->cur_rows;
    f.mtime = mw->cur_mtime;
    if (!rc && !mw->temp) {
        rc = tl_io_fsync(&mw->fd, err); /* LOG-R41, LOG-R46: never retried */
        if (!rc)
            rc = tl_datafile_read_back(mw->defs, mw->nf, mw->day_col, &mw->fd, f.path, f.size,
                                       f.rows, &mw->foot, &mw->cap_foot, &f.st, err);
    }
    if (!rc)
        rc = tl_io_close(&mw->fd, err);
    if (!rc && tl_grow((void **)&mw->files, &mw->cap_files, (mw->n_files + 1) * sizeof *mw->files))
        rc = tl_error_set(err, TL_ENOMEM, "out of memory");
    if (!rc && mw->sym && !(f.sym = strdup(mw->sym)))
        rc = tl_error_set(err, TL_ENOMEM, "out of memory");
    if (rc) {
        tl_error_prefix(err, "table %s: data file %s: ", mw->t->path, mw->cur_path);
        tl_dfstats_free(&f.st);
        free(f.sym);
        mw->w = NULL;
        mw_abort_file(mw);
        return rc;
    }
    f.pv = mw->pv;
    f.pv.symbol = f.sym;
    mw->files[mw->n_files++] = f;
    mw->rows += (uint64_t)f.rows;
    mw->bytes += (uint64_t)f.size;
    mw->cur_path = NULL;
    mw->open = 0;
    return TL_OK;
}

int tl_mw_write(tl_mw *mw, const tl_colvec *cols, uint32_t n, tl_error *err)
{
    uint32_t off = 0;
    int rc = TL_OK;
    while (off < n) {
        if (!mw->open && (rc = mw_open_file(mw, err)) != TL_OK)
            return rc;
        uint64_t room = mw->target_rows - mw->cur_rows;
        uint32_t k = (uint64_t)(n - off) < room ? n - off : (uint32_t)room;
        const tl_colvec *v = cols;
        if (off != 0 || k != n) {
            tl_cbuf_reset(&mw->slice);
            rc = tl_cbuf_append_range(&mw->slice, cols, off, k, err);
            if (rc)
                return rc;
            v = tl_cbuf_cols(&mw->slice);
        }
        rc = tlf_seg_writer_append(mw->w, v, k, err);
        if (rc) {
            tl_error_prefix(err, "table %s: data file %s: ", mw->t->path, mw->cur_path);
            mw_abort_file(mw);
            return rc;
        }
        mw->cur_rows += k;
        off += k;
        if (mw->cur_rows >= mw->target_rows && (rc = tl_mw_finish_file(mw, err)) != TL_OK)
            return rc;
    }
    return TL_OK;
}

int tl_mw_sync_dirs(tl_mw *mw, tl_error *err)
{
    for (size_t i = 0; i < mw->n_dirs; i++) {
        int rc = tl_io_fsync_dir(mw->t->io, &mw->t->root, mw->dirs[i][0] ? mw->dirs[i] : NULL,
                                 err);
        if (rc)
            return rc;
    }
    return TL_OK;
}

/* ---- scratch directory ------------------------------------------------------------------ */

int tl_maint_tmp_create(tl_table *t, char **out, tl_error *err)
{
    *out = NULL;
    char id[37];
    int rc = tl_log_uuid4(id, err);
    if (rc)
        return rc;
    size_t len = sizeof TL_MAINT_TMP_DIR + 1 + 36 + 1;
    char *dir = malloc(len);
    if (!dir)
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    snprintf(dir, len, "%s/%s", TL_MAINT_TMP_DIR, id);
    rc = tl_io_mkdir_p(t->io, &t->root, dir, 0777, err);
    if (rc) {
        free(dir);
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    }
    *out = dir;
    return TL_OK;
}

void tl_maint_tmp_remove(tl_table *t, const char *dir)
{
    if (!dir)
        return;
    tl_io_names nm = {0};
    if (tl_io_list(t->io, &t->root, dir, &nm, NULL) == TL_OK) {
        for (size_t i = 0; i < nm.n; i++) {
            char p[600];
            snprintf(p, sizeof p, "%s/%s", dir, nm.names[i]);
            if (tl_io_unlink(t->io, &t->root, p, NULL)) { /* best effort */
            }
        }
        tl_io_names_free(&nm);
    }
    if (tl_io_rmdir(t->io, &t->root, dir, NULL)) { /* best effort */
    }
    /* _tmp itself goes when empty (another run may be using it) */
    if (tl_io_rmdir(t->io, &t->root, TL_MAINT_TMP_DIR, NULL)) {
    }
}

/* ---- the merge ---------------------------------------------------------------------------- */

typedef struct mcol {
    int scol;
    tl_blockbuf bb;
} mcol;

typedef struct mcur {
    const tl_msrc *src;
    uint32_t order;
    tl_io_file fd;
    tl_io_map map;
    tlf_seg *seg;
    mcol *cols;
    tl_colvec *vec;
    uint32_t blk, n_blk;
    uint32_t n, pos; /* rows of the decoded block, next row */
} mcur;

typedef struct mstate {
    const tl_merge_spec *ms;
    mcur *c;
    size_t n_c;
    mcur **ord; /* active cursors by head (ties: order) */
    size_t n_ord;
    tl_cbuf out;
    tl_crun *pend; /* runs chosen but not yet copied into out */
    uint32_t n_pend, pend_rows;
} mstate;

static void cur_close_file(mcur *c)
{
    tlf_seg_close(c->seg);
    c->seg = NULL;
    tl_io_unmap(&c->map, NULL);
    tl_io_close(&c->fd, NULL);
}

static void cur_free(mcur *c, uint32_t nf)
{
    cur_close_file(c);
    if (c->cols)
        for (uint32_t i = 0; i < nf; i++) {
            tl_blockbuf_free(&c->cols[i].bb);
        }
    free(c->cols);
    free(c->vec);
}

static int cur_open(const tl_merge_spec *ms, mcur *c, tl_error *err)
{
    tl_table *t = ms->t;
    const tl_msrc *s = c->src;
    c->fd = (tl_io_file)TL_IO_FILE_INIT;
    c->cols = calloc(ms->nf ? ms->nf : 1, sizeof *c->cols);
    c->vec = calloc(ms->nf ? ms->nf : 1, sizeof *c->vec);
    if (!c->cols || !c->vec)
        return tl_error_set(err, TL_ENOMEM, "out of memory (merge)");
    int rc = tl_io_open_beneath(t->io, &t->root, s->path, O_RDONLY, 0, &c->fd, err);
    if (!rc)
        rc = tl_io_map_file(&c->fd, &c->map, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    if (s->size >= 0 && (int64_t)c->map.len != s->size)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s/%s: %zu bytes, but the log says %" PRId64 " (LOG-R58)", t->path,
                            s->path, c->map.len, s->size);
    rc = tlf_seg_open_mem(c->map.addr, c->map.len, s->path, 0, &c->seg, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    if (s->rows >= 0 && (int64_t)tlf_seg_n_rows(c->seg) != s->rows)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s/%s: %" PRIu64 " rows, but the log says %" PRId64 " (LOG-R58)",
                            t->path, s->path, tlf_seg_n_rows(c->seg), s->rows);
    for (uint32_t i = 0; i < ms->nf; i++) {
        int sc = tlf_seg_find_col(c->seg, ms->defs[i].name);
        if (sc < 0 || tlf_seg_col(c->seg, (uint32_t)sc)->type != ms->defs[i].type)
            return tl_error_set(err, TL_ECORRUPT, "%s/%s: no column '%s' of type %s", t->path,
                                s->path, ms->defs[i].name, tl_type_name(ms->defs[i].type));
        c->cols[i].scol = sc;
    }
    c->blk = 0;
    c->n_blk = tlf_seg_n_blocks(c->seg);
    c->n = c->pos = 0;
    return TL_OK;
}

/* Decode the next block; c->n = 0 at the end of the file. */
static int cur_load(const tl_merge_spec *ms, mcur *c, tl_error *err)
{
    c->n = c->pos = 0;
    while (c->blk < c->n_blk) {
        uint32_t blk = c->blk++;
        const uint8_t *base = c->map.addr;
        uint32_t rows = 0;
        for (uint32_t i = 0; i < ms->nf; i++) {
            mcol *m = &c->cols[i];
            uint32_t sc = (uint32_t)m->scol;
            int rc = tl_blockbuf_decode(&m->bb, c->seg, sc, blk, base, ms->t->path, &c->vec[i],
                                        &rows, err);
            if (rc)
                return rc;
        }
        if (rows) {
            c->n = rows;
            return TL_OK;
        }
    }
    return TL_OK;
}

/* Decoded bytes of the largest block of c's file (all columns), for the
 * fan-in estimate. */
static size_t cur_block_bytes(const tl_merge_spec *ms, const mcur *c)
{
    size_t best = 0;
    for (uint32_t b = 0; b < c->n_blk; b++) {
        size_t sum = 0;
        for (uint32_t i = 0; i < ms->nf; i++) {
            size_t nb, nd, nv;
            tlf_seg_decode_needs(c->seg, (uint32_t)c->cols[i].scol, b, &nb, &nd, &nv);
            sum += nb + nd + nv;
        }
        if (sum > best)
            best = sum;
    }
    return best;
}

/* The sort-key order (LOG-R16, sortkey_int.h): nulls first; integers
 * numerically; floats with -0.0 < +0.0 and NaN (any) after +inf; strings
 * bytewise, a proper prefix first. */
static int cmp_vrows(const tl_coldef *defs, const uint32_t *key, uint32_t n_key,
                     const tl_colvec *av, uint32_t ra, const tl_colvec *bv, uint32_t rb)
{
    for (uint32_t k = 0; k < n_key; k++) {
        uint32_t col = key[k];
        const tl_colvec *va = &av[col], *vb = &bv[col];
        int na = va->validity && !tl_bit_get(va->validity, ra);
        int nb = vb->validity && !tl_bit_get(vb->validity, rb);
        if (na || nb) {
            if (na && nb)
                continue;
            return na ? -1 : 1;
        }
        int c = tl_sortkey_cmp_value(defs[col].type, va, ra, vb, rb);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_rows(const tl_merge_spec *ms, const mcur *a, uint32_t ra, const mcur *b,
                    uint32_t rb)
{
    return cmp_vrows(ms->defs, ms->key, ms->n_key, a->vec, ra, b->vec, rb);
}

/* Row r of a comes before the head of b in the merged order. */
static int before(const tl_merge_spec *ms, const mcur *a, uint32_t r, const mcur *b)
{
    int c = cmp_rows(ms, a, r, b, b->pos);
    return c < 0 || (c == 0 && a->order < b->order);
}

/* Insert c into ord[0..n) by its head (bisection). */
static void ord_insert(const tl_merge_spec *ms, mcur **ord, size_t n, mcur *c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (before(ms, ord[mid], ord[mid]->pos, c))
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(ord + lo + 1, ord + lo, (n - lo) * sizeof *ord);
    ord[lo] = c;
}

typedef int (*out_fn)(void *ctx, const tl_colvec *cols, uint32_t n, tl_error *err);

/* Copy the pending runs into the output block (column by column). */
static int materialize(mstate *m, tl_error *err)
{
    if (m->n_pend == 0)
        return TL_OK;
    int rc = tl_cbuf_append_runs(&m->out, m->pend, m->n_pend, err);
    m->n_pend = 0;
    m->pend_rows = 0;
    return rc;
}

static int flush_out(mstate *m, out_fn out, void *ctx, tl_error *err)
{
    int rc = materialize(m, err);
    if (rc || m->out.n == 0)
        return rc;
    rc = out(ctx, tl_cbuf_cols(&m->out), m->out.n, err);
    if (rc)
        return rc;
    if (m->ms->rows_done)
        m->ms->rows_done(m->ms->rows_ctx, m->out.n);
    tl_cbuf_reset(&m->out);
    return TL_OK;
}

/* One merge of n inputs (all open) into out. */
static int merge_once(mstate *m, out_fn out, void *ctx, tl_error *err)
{
    const tl_merge_spec *ms = m->ms;
    int rc;
    m->n_ord = 0;
    m->n_pend = m->pend_rows = 0;
    for (size_t i = 0; i < m->n_c; i++) {
        mcur *c = &m->c[i];
        if ((rc = cur_load(ms, c, err)) != TL_OK)
            return rc;
        if (c->n)
            ord_insert(ms, m->ord, m->n_ord++, c);
    }
    tl_cbuf_reset(&m->out);
    while (m->n_ord) {
        mcur *c = m->ord[0];
        uint32_t len;
        if (m->n_ord == 1) {
            len = c->n - c->pos;
        } else {
            mcur *nx = m->ord[1];
            if (before(ms, c, c->n - 1, nx)) {
                len = c->n - c->pos;
            } else {
                /* gallop, then bisect: the first row not before nx's head */
                uint32_t lo = c->pos + 1, step = 1, hi;
                while (lo + step < c->n && before(ms, c, lo + step - 1, nx)) {
                    lo += step;
                    step *= 2;
                }
                hi = lo + step < c->n ? lo + step : c->n - 1;
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (before(ms, c, mid, nx))
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                len = lo - c->pos;
            }
        }
        while (len) {
            uint32_t room = TL_MERGE_OUT_ROWS - m->out.n - m->pend_rows;
            uint32_t k = len < room ? len : room;
            m->pend[m->n_pend++] = (tl_crun){c->vec, c->pos, k};
            m->pend_rows += k;
            c->pos += k;
            len -= k;
            if (m->out.n + m->pend_rows == TL_MERGE_OUT_ROWS &&
                (rc = flush_out(m, out, ctx, err)) != TL_OK)
                return rc;
        }
        memmove(m->ord, m->ord + 1, (m->n_ord - 1) * sizeof *m->ord);
        m->n_ord--;
        if (c->pos == c->n) {
            /* its block is about to be replaced: copy what points into it */
            if ((rc = materialize(m, err)) != TL_OK)
                return rc;
            if ((rc = cur_load(ms, c, err)) != TL_OK)
                return rc;
            if (c->n == 0) {
                cur_close_file(c);
                continue;
            }
        }
        ord_insert(ms, m->ord, m->n_ord++, c);
    }
    return flush_out(m, out, ctx, err);
}

static void mstate_close(mstate *m)
{
    for (size_t i = 0; i < m->n_c; i++)
        cur_free(&m->c[i], m->ms->nf);
    m->n_c = 0;
}

/* Open inputs src[0..n) as m's cursors. */
static int mstate_open(mstate *m, const tl_msrc *src, size_t n, tl_error *err)
{
    memset(m->c, 0, n * sizeof *m->c);
    for (size_t i = 0; i < n; i++) {
        m->c[i].src = &src[i];
        m->c[i].order = (uint32_t)i;
        m->n_c = i + 1;
        int rc = cur_open(m->ms, &m->c[i], err);
        if (rc)
            return rc;
    }
    return TL_OK;
}

static int tmp_out(void *ctx, const tl_colvec *cols, uint32_t n, tl_error *err)
{
    return tl_mw_write(ctx, cols, n, err);
}

int tl_merge_run(const tl_merge_spec *ms, const tl_msrc *src, size_t n, out_fn out,
                 void *out_ctx, int *passes, tl_error *err)
{
    if (passes)
        *passes = 0;
    if (n == 0)
        return TL_OK;
    mstate m = {.ms = ms};
    int rc = tl_cbuf_init(&m.out, ms->defs, ms->nf, err);
    m.c = calloc(n, sizeof *m.c);
    m.ord = calloc(n, sizeof *m.ord);
    m.pend = calloc(TL_MERGE_OUT_ROWS, sizeof *m.pend);
    if (!rc && (!m.c || !m.ord || !m.pend))
        rc = tl_error_set(err, TL_ENOMEM, "out of memory (merge of %zu files)", n);
    /* fan-in from the first input's largest block */
    size_t fan = n;
    if (!rc) {
        rc = mstate_open(&m, src, 1, err);
        if (!rc) {
            size_t per = cur_block_bytes(ms, &m.c[0]) + 4096;
            size_t budget = ms->max_memory ? ms->max_memory : DEFAULT_MAX_MEMORY;
            fan = budget / per;
            if (fan < 2)
                fan = 2;
            if (fan > 4096)
                fan = 4096;
        }
        mstate_close(&m);
    }
    tl_msrc *runs = NULL; /* temporary runs of the current pass */
    size_t n_runs = 0;
    const tl_msrc *cur = src;
    size_t n_cur = n;
    tl_mw tw;
    int tw_init = 0;
    int npass = 0;
    while (!rc && n_cur > fan) {
        /* merge consecutive groups of fan inputs into temporary runs */
        if (!ms->tmp_dir) {
            rc = tl_error_set(err, TL_EINVAL, "merge of %zu files needs a scratch directory",
                              n_cur);
            break;
        }
        rc = tl_mw_init(&tw, ms->t, ms->defs, ms->col_opts, ms->nf, -1, 1, UINT64_MAX, err);
        if (rc)
            break;
        tw_init = 1;
        rc = tl_mw_set_part(&tw, ms->tmp_dir, NULL, err);
        size_t groups = (n_cur + fan - 1) / fan;
        for (size_t g = 0; !rc && g < groups; g++) {
            size_t lo = g * fan, k = n_cur - lo < fan ? n_cur - lo : fan;
            rc = mstate_open(&m, cur + lo, k, err);
            if (!rc) {
                const tl_merge_spec sub = {ms->t, ms->defs, ms->nf, ms->key, ms->n_key,
                                           ms->col_opts, ms->max_memory, ms->tmp_dir,
                                           NULL, NULL};
                m.ms = &sub;
                rc = merge_once(&m, tmp_out, &tw, err);
                m.ms = ms;
            }
            mstate_close(&m);
            if (!rc)
                rc = tl_mw_finish_file(&tw, err);
        }
        npass++;
        /* the previous pass's runs are no longer needed */
        if (runs) {
            for (size_t i = 0; i < n_runs; i++) {
                if (tl_io_unlink(ms->t->io, &ms->t->root, runs[i].path, NULL)) {
                }
                free((char *)runs[i].path);
            }
            free(runs);
            runs = NULL;
            n_runs = 0;
        }
        if (!rc) {
            runs = calloc(tw.n_files ? tw.n_files : 1, sizeof *runs);
            if (!runs) {
                rc = tl_error_set(err, TL_ENOMEM, "out of memory");
            } else {
                for (size_t i = 0; i < tw.n_files; i++) {
                    runs[i] = (tl_msrc){tw.files[i].path, -1, tw.files[i].rows};
                    tw.files[i].path = NULL; /* moved */
                }
                n_runs = tw.n_files;
                tw.n_files = 0;
                cur = runs;
                n_cur = n_runs;
            }
        } else {
            tl_mw_drop_files(&tw, 0);
        }
        tl_mw_free(&tw);
        tw_init = 0;
    }
    (void)tw_init;
    if (!rc) {
        rc = mstate_open(&m, cur, n_cur, err);
        if (!rc)
            rc = merge_once(&m, out, out_ctx, err);
        mstate_close(&m);
        npass++;
    }
    if (runs) {
        for (size_t i = 0; i < n_runs; i++) {
            if (tl_io_unlink(ms->t->io, &ms->t->root, runs[i].path, NULL)) {
            }
            free((char *)runs[i].path);
        }
        free(runs);
    }
    mstate_close(&m);
    free(m.c);
    free(m.ord);
    free(m.pend);
    tl_cbuf_free(&m.out);
    if (passes)
        *passes = npass;
    return rc;
}

/* ---- sequential reader ------------------------------------------------------------------- */

struct tl_mreader {
    const tl_merge_spec *ms;
    mcur c;
};

int tl_mreader_open(const tl_merge_spec *ms, const tl_msrc *src, tl_mreader **out, tl_error *err)
{
    *out = NULL;
    tl_mreader *r = calloc(1, sizeof *r);
    if (!r)
        return tl_error_set(err, TL_ENOMEM, "out of memory (reader)");
    r->ms = ms;
    r->c.src = src;
    int rc = cur_open(ms, &r->c, err);
    if (rc) {
        tl_mreader_close(r);
        return rc;
    }
    *out = r;
    return TL_OK;
}

int tl_mreader_next(tl_mreader *r, const tl_colvec **cols, uint32_t *n, tl_error *err)
{
    int rc = cur_load(r->ms, &r->c, err);
    *cols = r->c.vec;
    *n = rc ? 0 : r->c.n;
    return rc;
}

void tl_mreader_close(tl_mreader *r)
{
    if (!r)
        return;
    cur_free(&r->c, r->ms->nf);
    free(r);
}

/* ---- optimize: planning ------------------------------------------------------------------ */

typedef struct opart {
    const tl_log_add *first; /* partition values */
    const tl_log_add **in;   /* inputs, file order */
    uint32_t n_in;
    uint64_t rows, bytes_in;
    size_t out_lo, out_hi;   /* its outputs in the writer's files */
    int done;
} opart;

typedef struct oplan {
    opart *parts;
    size_t n_parts;
    const tl_log_add **adds; /* live adds in file order */
    size_t n_adds;
    uint64_t seen;
} oplan;

static void oplan_free(oplan *p)
{
    for (size_t i = 0; i < p->n_parts; i++)
        free(p->parts[i].in);
    free(p->parts);
    free(p->adds);
    memset(p, 0, sizeof *p);
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

static int same_pv(const tl_log_pvals *a, const tl_log_pvals *b)
{
    if (a->symbol_null != b->symbol_null || a->date_null != b->date_null)
        return 0;
    if (a->has_symbol && !a->symbol_null &&
        (!a->symbol || !b->symbol || strcmp(a->symbol, b->symbol)))
        return 0;
    if (a->has_date && !a->date_null && a->date != b->date)
        return 0;
    return 1;
}

static int part_selected(const tl_optimize_opts *o, const tl_log_add *a)
{
    if (o->symbols) {
        if (!a->part.has_symbol || a->part.symbol_null)
            return 0;
        int hit = 0;
        for (uint32_t i = 0; i < o->n_symbols && !hit; i++)
            hit = o->symbols[i] && strcmp(o->symbols[i], a->part.symbol) == 0;
        if (!hit)
            return 0;
    }
    if (o->has_days && (!a->part.has_date || a->part.date_null || a->part.date < o->day_from ||
                        a->part.date > o->day_to))
        return 0;
    return 1;
}

/* Plan on snapshot s: the partitions (passing o's filters) with at least
 * min_in (>= 2) files below the target (MAINT-O2). only: when non-NULL, plan
 * only partitions whose values equal one of only[0..n_only) (a redo, an
 * automatic optimize). */
static int plan(const tl_log_snapshot *s, const tl_optimize_opts *o, uint64_t target,
                uint32_t min_in, const tl_log_pvals *const *only, size_t n_only, oplan *p,
                tl_error *err)
{
    memset(p, 0, sizeof *p);
    size_t n = tl_log_snapshot_n_live(s);
    p->adds = malloc((n ? n : 1) * sizeof *p->adds);
    p->parts = calloc(n ? n : 1, sizeof *p->parts);
    if (!p->adds || !p->parts)
        return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
    size_t cur = 0, k = 0;
    const tl_log_add *a;
    while ((a = tl_log_snapshot_live_next(s, &cur)) != NULL)
        p->adds[k++] = a;
    p->n_adds = k;
    qsort(p->adds, k, sizeof *p->adds, tl_snapshot_cmp_add);
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && same_part(p->adds[i], p->adds[j]))
            j++;
        int want = part_selected(o, p->adds[i]);
        if (want && only) {
            want = 0;
            for (size_t q = 0; q < n_only && !want; q++)
                want = same_pv(only[q], &p->adds[i]->part);
        }
        if (want) {
            p->seen++;
            uint32_t small = 0;
            for (size_t q = i; q < j; q++)
                small += (uint64_t)p->adds[q]->n_rows < target;
            if (small >= (min_in > 2 ? min_in : 2)) {
                opart *op = &p->parts[p->n_parts];
                op->in = malloc(small * sizeof *op->in);
                if (!op->in)
                    return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
                op->first = p->adds[i];
                for (size_t q = i; q < j; q++)
                    if ((uint64_t)p->adds[q]->n_rows < target) {
                        op->in[op->n_in++] = p->adds[q];
                        op->rows += (uint64_t)p->adds[q]->n_rows;
                        op->bytes_in += (uint64_t)p->adds[q]->size_bytes;
                    }
                p->n_parts++;
            }
        }
        i = j;
    }
    return TL_OK;
}

/* ---- optimize: result ----------------------------------------------------------------------- */

typedef struct rpriv {
    char **strs;
    size_t n, cap;
} rpriv;

static const char *keep_str(tl_optimize_result *r, const char *s)
{
    rpriv *p = r->priv;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p)
            return NULL;
        r->priv = p;
    }
    if (tl_grow((void **)&p->strs, &p->cap, (p->n + 1) * sizeof *p->strs))
        return NULL;
    char *d = strdup(s);
    if (!d)
        return NULL;
    p->strs[p->n++] = d;
    return d;
}

void tl_optimize_result_free(tl_optimize_result *res)
{
    if (!res)
        return;
    for (uint64_t i = 0; res->parts && i < res->partitions; i++)
        free((void *)res->parts[i].paths_in);
    free(res->parts);
    rpriv *p = res->priv;
    if (p) {
        for (size_t i = 0; i < p->n; i++)
            free(p->strs[i]);
        free(p->strs);
        free(p);
    }
    memset(res, 0, sizeof *res);
    res->version = -1;
}

static int fill_result(tl_optimize_result *r, const oplan *p, const tl_mw *mw, tl_error *err)
{
    r->partitions = p->n_parts;
    r->parts = calloc(p->n_parts ? p->n_parts : 1, sizeof *r->parts);
    if (!r->parts)
        return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
    for (size_t i = 0; i < p->n_parts; i++) {
        const opart *op = &p->parts[i];
        tl_optimize_part *rp = &r->parts[i];
        const tl_log_pvals *pv = &op->first->part;
        rp->has_symbol = pv->has_symbol;
        rp->symbol_null = pv->symbol_null;
        rp->symbol = pv->has_symbol && !pv->symbol_null ? keep_str(r, pv->symbol) : NULL;
        rp->has_day = pv->has_date;
        rp->day_null = pv->date_null;
        rp->day = pv->date;
        rp->files_in = op->n_in;
        rp->rows = op->rows;
        rp->bytes_in = op->bytes_in;
        const char **paths = calloc(op->n_in ? op->n_in : 1, sizeof *paths);
        if (!paths || (pv->has_symbol && !pv->symbol_null && !rp->symbol)) {
            free(paths);
            r->partitions = i;
            return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
        }
        for (uint32_t q = 0; q < op->n_in; q++)
            if (!(paths[q] = keep_str(r, op->in[q]->path))) {
                free(paths);
                r->partitions = i;
                return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
            }
        rp->paths_in = paths;
        if (mw) {
            rp->files_out = (uint32_t)(op->out_hi - op->out_lo);
            for (size_t f = op->out_lo; f < op->out_hi; f++)
                rp->bytes_out += (uint64_t)mw->files[f].size;
        }
        r->files_removed += op->n_in;
        r->rows += op->rows;
        r->bytes_removed += op->bytes_in;
        r->files_added += rp->files_out;
        r->bytes_added += rp->bytes_out;
    }
    return TL_OK;
}

/* ---- optimize: run -------------------------------------------------------------------------- */

typedef struct octx {
    tl_table *t;
    const tl_optimize_opts *o;
    uint64_t target;
    const tl_log_metadata *m;
    uint32_t nf;
    tl_coldef *defs;
    tlf_col_opts *col_opts;
    uint32_t *key;
    uint32_t n_key;
    int day_col;
    char *tmp_dir;
    tl_mw mw;
    uint64_t total, done;
    double last_progress;
    int passes;
} octx;

static void rows_done(void *ctx, uint64_t rows)
{
    octx *c = ctx;
    c->done += rows;
    if (c->o->progress) {
        double now = tl_maint_now_s();
        if (now - c->last_progress >= 0.1) {
            c->last_progress = now;
            c->o->progress(c->o->progress_ctx, c->done, c->total);
        }
    }
}

static int mw_out(void *ctx, const tl_colvec *cols, uint32_t n, tl_error *err)
{
    return tl_mw_write(ctx, cols, n, err);
}

/* Merge partition op's inputs into new files (appended to c->mw). */
static int run_part(octx *c, opart *op, tl_error *err)
{
    char dir[TL_TABLE_PART_DIR_MAX];
    int rc = tl_table_part_dir(c->m, &op->first->part, dir, sizeof dir, err);
    if (rc)
        return rc;
    /* the directory holds the inputs; reuse it exactly (LOG.md 2.1) */
    const char *slash = strrchr(op->in[0]->path, '/');
    if (slash && (size_t)(slash - op->in[0]->path) < sizeof dir) {
        memcpy(dir, op->in[0]->path, (size_t)(slash - op->in[0]->path));
        dir[slash - op->in[0]->path] = '\0';
    } else if (!slash) {
        dir[0] = '\0';
    }
    if ((rc = tl_mw_set_part(&c->mw, dir, &op->first->part, err)) != TL_OK)
        return rc;
    tl_msrc *src = calloc(op->n_in, sizeof *src);
    if (!src)
        return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
    for (uint32_t i = 0; i < op->n_in; i++)
        src[i] = (tl_msrc){op->in[i]->path, op->in[i]->size_bytes, op->in[i]->n_rows};
    tl_merge_spec ms = {c->t, c->defs, c->nf, c->key, c->n_key, c->col_opts,
                        c->o->max_memory, NULL, rows_done, c};
    op->out_lo = c->mw.n_files;
    int passes = 0;
    rc = TL_OK;
    if (op->n_in > 2 && !c->tmp_dir)
        rc = tl_maint_tmp_create(c->t, &c->tmp_dir, err);
    ms.tmp_dir = c->tmp_dir;
    if (!rc)
        rc = tl_merge_run(&ms, src, op->n_in, mw_out, &c->mw, &passes, err);
    if (!rc)
        rc = tl_mw_finish_file(&c->mw, err);
    free(src);
    op->out_hi = c->mw.n_files;
    if (passes > c->passes)
        c->passes = passes;
    op->done = !rc;
    return rc;
}

static int meta_same(const tl_log_metadata *a, const tl_log_metadata *b)
{
#define SEQ(x, y) (((x) == NULL && (y) == NULL) || ((x) && (y) && strcmp((x), (y)) == 0))
    if (!SEQ(a->id, b->id) || !SEQ(a->part_symbol_col, b->part_symbol_col) ||
        !SEQ(a->part_day_col, b->part_day_col) || a->n_fields != b->n_fields ||
        a->sort_key.n != b->sort_key.n)
        return 0;
    for (uint32_t i = 0; i < a->n_fields; i++)
        if (!SEQ(a->fields[i].name, b->fields[i].name) || a->fields[i].type != b->fields[i].type)
            return 0;
    for (uint32_t i = 0; i < a->sort_key.n; i++)
        if (!SEQ(a->sort_key.s[i], b->sort_key.s[i]))
            return 0;
    return 1;
#undef SEQ
}

static int build_actions(const octx *c, const oplan *p, tl_log_action **out, uint32_t *n,
                         tl_error *err)
{
    size_t na = 0;
    for (size_t i = 0; i < p->n_parts; i++)
        na += p->parts[i].n_in + (p->parts[i].out_hi - p->parts[i].out_lo);
    tl_log_action *acts = calloc(na ? na : 1, sizeof *acts);
    if (!acts)
        return tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < p->n_parts; i++)
        for (uint32_t q = 0; q < p->parts[i].n_in; q++) {
            const tl_log_add *a = p->parts[i].in[q];
            acts[k].kind = TL_LOG_REMOVE;
            acts[k].u.rm = (tl_log_remove){.path = a->path, .data_change = 0, .has_part = 1,
                                           .has_size = 1, .has_n_rows = 1, .part = a->part,
                                           .size_bytes = a->size_bytes, .n_rows = a->n_rows};
            k++;
        }
    for (size_t i = 0; i < p->n_parts; i++)
        for (size_t f = p->parts[i].out_lo; f < p->parts[i].out_hi; f++) {
            const tl_mw_file *mf = &c->mw.files[f];
            tl_log_add *ad = &acts[k].u.add;
            acts[k].kind = TL_LOG_ADD;
            ad->path = mf->path;
            ad->part = mf->pv;
            ad->size_bytes = mf->size;
            ad->n_rows = mf->rows;
            ad->mtime_ms = mf->mtime;
            ad->data_change = 0;
            ad->has_stats = 1;
            ad->stats.has_time_range = mf->st.has_time_range;
            ad->stats.first_ts_ns = mf->st.first_ts;
            ad->stats.last_ts_ns = mf->st.last_ts;
            ad->stats.cols = mf->st.cs;
            ad->stats.n_cols = c->nf;
            k++;
        }
    *out = acts;
    *n = (uint32_t)k;
    return TL_OK;
}

/* tl_table_optimize, or (only != NULL) the partitions only[0..n_only) with
 * at least min_in inputs (an automatic optimize, MAINT-O11). */
static int optimize_run(tl_table *t, const tl_optimize_opts *o, const tl_log_pvals *const *only,
                        size_t n_only, uint32_t min_in, tl_optimize_result *res, tl_error *err)
{
    tl_optimize_result r0 = {.version = -1, .read_version = -1};
    tl_optimize_result *r = res ? res : &r0;
    memset(r, 0, sizeof *r);
    r->version = r->read_version = -1;
    double t0 = tl_maint_now_s();
    if (!t)
        return tl_error_set(err, TL_EINVAL, "optimize: no table");
    tl_optimize_opts def = {0};
    if (!o)
        o = &def;
    if (t->delta)
        return tl_error_set(err, TL_EUNSUPPORTED, "optimize %s: " TL_DELTA_READ_ONLY_FMT, t->path,
                            t->path);
    if (tl_table_writable(t, err)) /* LOG-C10 */
        return tl_error_prefix(err, "optimize: "), TL_EIO;
    uint64_t target = o->target_rows ? o->target_rows : TL_OPTIMIZE_DEFAULT_TARGET_ROWS;
    if (target > MAX_TARGET_ROWS)
        return tl_error_set(err, TL_EINVAL,
                            "optimize %s: target rows %" PRIu64 " (expected 1 .. 2^31)", t->path,
                            target);
    if (o->has_days && o->day_from > o->day_to)
        return tl_error_set(err, TL_EINVAL, "optimize %s: day range from %d after to %d", t->path,
                            (int)o->day_from, (int)o->day_to);
    if (o->symbols && o->n_symbols == 0)
        return tl_error_set(err, TL_EINVAL, "optimize %s: an empty symbol list", t->path);
    r->dry_run = o->dry_run != 0;

    octx c = {.t = t, .o = o, .target = target, .day_col = -1};
    tl_log_snapshot snap = {0};
    oplan p = {0};
    tl_log_action *acts = NULL;
    int mw_init = 0, rc, keep = 0; /* keep: the commit may be visible (LOG-R46/R47) */
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    rc = tl_log_snapshot_load(&t->root, &so, &snap, err);
    if (rc) {
        tl_error_prefix(err, "optimize %s: ", t->path);
        goto out;
    }
    const tl_log_metadata *m = snap.meta;
    if (o->symbols && !m->part_symbol_col) {
        rc = tl_error_set(err, TL_EINVAL,
                          "optimize %s: --symbols needs a table partitioned by symbol (this one "
                          "is not)",
                          t->path);
        goto out;
    }
    if (o->has_days && !m->part_day_col) {
        rc = tl_error_set(err, TL_EINVAL,
                          "optimize %s: a day range needs a table partitioned by day (this one "
                          "is not)",
                          t->path);
        goto out;
    }
    r->read_version = snap.version;
    rc = plan(&snap, o, target, min_in, only, n_only, &p, err);
    if (rc)
        goto out;
    r->partitions_seen = p.seen;
    if (o->dry_run || p.n_parts == 0) {
        rc = fill_result(r, &p, NULL, err);
        goto out;
    }

    /* writer columns, sort key */
    c.m = m;
    c.nf = m->n_fields;
    c.defs = calloc(c.nf, sizeof *c.defs);
    c.col_opts = calloc(c.nf, sizeof *c.col_opts);
    c.key = calloc(m->sort_key.n + 1, sizeof *c.key);
    if (!c.defs || !c.col_opts || !c.key) {
        rc = tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
        goto out;
    }
    tl_table_writer_cols(m, c.defs, c.col_opts);
    for (uint32_t i = 0; i < m->sort_key.n; i++) {
        int k = tl_table_meta_col(m, m->sort_key.s[i]);
        if (k < 0) {
            rc = tl_error_set(err, TL_ECORRUPT, "table %s: sort key column '%s' not in the schema",
                              t->path, m->sort_key.s[i]);
            goto out;
        }
        c.key[c.n_key++] = (uint32_t)k;
    }
    c.day_col = m->part_day_col ? tl_table_meta_col(m, m->part_day_col) : -1;
    rc = tl_mw_init(&c.mw, t, c.defs, c.col_opts, c.nf, c.day_col, 0, target, err);
    if (rc)
        goto out;
    mw_init = 1;
    for (size_t i = 0; i < p.n_parts; i++)
        c.total += p.parts[i].rows;

    for (int round = 0;; round++) {
        for (size_t i = 0; !rc && i < p.n_parts; i++)
            if (!p.parts[i].done)
                rc = run_part(&c, &p.parts[i], err);
        if (!rc)
            rc = tl_mw_sync_dirs(&c.mw, err); /* LOG-R41 */
        if (rc)
            goto out;
        /* LOG-R83: outputs older than the retention minus a margin */
        int64_t limit = tl_table_orphan_age_ms(c.m);
        if (c.mw.n_files && limit >= 0 && tl_table_now_ms(t) - c.mw.first_ms > limit) {
            rc = tl_error_set(err, TL_EBUSY,
                              "optimize %s: its first data file was written more than %" PRId64
                              " s ago (the vacuum retention minus its margin); nothing was "
                              "committed: run it again (LOG-R83)",
                              t->path, limit / 1000);
            goto out;
        }
        uint32_t na = 0;
        free(acts);
        acts = NULL;
        rc = build_actions(&c, &p, &acts, &na, err);
        if (rc)
            goto out;
        char p_target[24], p_parts[24], p_rows[24], p_in[24], p_out[24];
        uint64_t fin = 0, fout = 0;
        for (size_t i = 0; i < p.n_parts; i++) {
            fin += p.parts[i].n_in;
            fout += p.parts[i].out_hi - p.parts[i].out_lo;
        }
        snprintf(p_target, sizeof p_target, "%" PRIu64, target);
        snprintf(p_parts, sizeof p_parts, "%zu", p.n_parts);
        snprintf(p_rows, sizeof p_rows, "%" PRIu64, c.total);
        snprintf(p_in, sizeof p_in, "%" PRIu64, fin);
        snprintf(p_out, sizeof p_out, "%" PRIu64, fout);
        tl_log_kv kv[5] = {{"targetRows", p_target}, {"partitions", p_parts}, {"rows", p_rows},
                           {"filesRemoved", p_in}, {"filesAdded", p_out}};
        tl_log_write_opts wo = {.io = t->io, .now_ms = t->now_ms, .now_arg = t->now_arg,
                                .operation = "OPTIMIZE", .op_params = {kv, 5}, .snap = &snap};
        tl_log_write_result wr;
        tl_error cerr = {0};
        rc = tl_log_write(&t->root, snap.version, acts, na, &wo, &wr, &cerr);
        r->attempts += wr.attempts;
        if (rc == TL_OK) {
            r->version = wr.version;
            r->committed = 1;
            break;
        }
        if (rc != TL_ECONFLICT || round + 1 >= MAX_REDO_ROUNDS) {
            keep = wr.maybe_visible;
            if (err)
                *err = cerr;
            tl_error_prefix(err, "optimize %s: ", t->path);
            goto out;
        }
        /* MAINT-O8: a winner removed an input. Re-read; redo the partitions
         * whose inputs are not all live any more; a metaData change fails. */
        tl_log_snapshot ns = {0};
        rc = tl_log_snapshot_load(&t->root, &so, &ns, err);
        if (rc) {
            tl_error_prefix(err, "optimize %s: ", t->path);
            goto out;
        }
        if (!meta_same(ns.meta, snap.meta)) {
            tl_log_snapshot_free(&ns);
            if (err)
                *err = cerr;
            rc = TL_ECONFLICT;
            tl_error_prefix(err, "optimize %s: the table's metaData changed concurrently: ",
                            t->path);
            goto out;
        }
        /* partitions to redo */
        const tl_log_pvals **redo = calloc(p.n_parts ? p.n_parts : 1, sizeof *redo);
        size_t n_redo = 0;
        if (!redo) {
            tl_log_snapshot_free(&ns);
            rc = tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
            goto out;
        }
        for (size_t i = 0; i < p.n_parts; i++) {
            int ok = 1;
            for (uint32_t q = 0; q < p.parts[i].n_in && ok; q++)
                ok = tl_log_snapshot_live_get(&ns, p.parts[i].in[q]->path) != NULL;
            if (!ok)
                redo[n_redo++] = &p.parts[i].first->part;
        }
        /* the new plan: kept partitions (same inputs, same outputs) + re-planned ones */
        oplan np = {0};
        rc = plan(&ns, o, target, min_in, redo, n_redo, &np, err);
        free(redo);
        if (rc) {
            oplan_free(&np);
            tl_log_snapshot_free(&ns);
            goto out;
        }
        /* unlink the outputs of redone partitions; map kept ones into ns */
        size_t keep_parts = 0;
        for (size_t i = 0; i < p.n_parts; i++) {
            int ok = 1;
            for (uint32_t q = 0; q < p.parts[i].n_in && ok; q++)
                ok = tl_log_snapshot_live_get(&ns, p.parts[i].in[q]->path) != NULL;
            if (ok)
                keep_parts++;
        }
        opart *merged = calloc(keep_parts + np.n_parts + 1, sizeof *merged);
        tl_mw_file *kept_files = calloc(c.mw.n_files + 1, sizeof *kept_files);
        if (!merged || !kept_files) {
            free(merged);
            free(kept_files);
            oplan_free(&np);
            tl_log_snapshot_free(&ns);
            rc = tl_error_set(err, TL_ENOMEM, "optimize: out of memory");
            goto out;
        }
        size_t nm = 0, nkf = 0;
        for (size_t i = 0; i < p.n_parts; i++) {
            opart *op = &p.parts[i];
            int ok = 1;
            for (uint32_t q = 0; q < op->n_in && ok; q++)
                ok = tl_log_snapshot_live_get(&ns, op->in[q]->path) != NULL;
            if (ok) {
                for (uint32_t q = 0; q < op->n_in; q++)
                    op->in[q] = tl_log_snapshot_live_get(&ns, op->in[q]->path);
                op->first = op->in[0];
                size_t lo = nkf;
                for (size_t f = op->out_lo; f < op->out_hi; f++)
                    kept_files[nkf++] = c.mw.files[f];
                op->out_lo = lo;
                op->out_hi = nkf;
                merged[nm++] = *op;
                op->in = NULL;
            } else {
                c.total -= op->rows;
                r->redone++;
                for (size_t f = op->out_lo; f < op->out_hi; f++) {
                    if (tl_io_unlink(t->io, &t->root, c.mw.files[f].path, NULL)) { /* orphan */
                    }
                    c.mw.rows -= (uint64_t)c.mw.files[f].rows;
                    c.mw.bytes -= (uint64_t)c.mw.files[f].size;
                    free(c.mw.files[f].path);
                    free(c.mw.files[f].sym);
                    tl_dfstats_free(&c.mw.files[f].st);
                }
            }
        }
        for (size_t i = 0; i < np.n_parts; i++) {
            np.parts[i].done = 0;
            c.total += np.parts[i].rows;
            merged[nm++] = np.parts[i];
            np.parts[i].in = NULL;
        }
        memcpy(c.mw.files, kept_files, nkf * sizeof *kept_files);
        c.mw.n_files = nkf;
        free(kept_files);
        oplan_free(&np);
        for (size_t i = 0; i < p.n_parts; i++)
            free(p.parts[i].in);
        free(p.parts);
        p.parts = merged;
        p.n_parts = nm;
        tl_log_snapshot_free(&snap);
        snap = ns;
        c.m = snap.meta;
        r->read_version = snap.version;
        if (p.n_parts == 0) /* everything was compacted by the winner */
            break;
    }
    if (r->committed || p.n_parts == 0)
        rc = fill_result(r, &p, &c.mw, err);
out:
    if (rc && err && !strstr(err->msg, t->path)) /* every error names the table */
        tl_error_prefix(err, "optimize %s: ", t->path);
    if (rc && mw_init && !keep)
        tl_mw_drop_files(&c.mw, 0);
    if (c.o && o->progress && rc == TL_OK && r->committed)
        o->progress(o->progress_ctx, c.total, c.total);
    if (c.tmp_dir)
        tl_maint_tmp_remove(t, c.tmp_dir);
    free(c.tmp_dir);
    free(acts);
    if (mw_init)
        tl_mw_free(&c.mw);
    free(c.defs);
    free(c.col_opts);
    free(c.key);
    oplan_free(&p);
    tl_log_snapshot_free(&snap);
    r->merge_passes = c.passes;
    r->elapsed_s = tl_maint_now_s() - t0;
    r->rows_per_s = r->elapsed_s > 0 && r->committed ? (double)r->rows / r->elapsed_s : 0;
    if (!res)
        tl_optimize_result_free(&r0);
    else if (rc)
        tl_optimize_result_free(res);
    return rc;
}

int tl_table_optimize(tl_table *t, const tl_optimize_opts *o, tl_optimize_result *res,
                      tl_error *err)
{
    return optimize_run(t, o, NULL, 0, 2, res, err);
}

int tl_optimize_auto(tl_table *t, const tl_log_pvals *parts, size_t n, uint32_t min_files,
                     uint64_t target_rows, tl_optimize_result *res, tl_error *err)
{
    const tl_log_pvals **only = calloc(n ? n : 1, sizeof *only);
    if (!only) {
        if (res) {
            memset(res, 0, sizeof *res);
            res->version = res->read_version = -1;
        }
        return tl_error_set(err, TL_ENOMEM, "automatic optimize: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        only[i] = &parts[i];
    tl_optimize_opts o = {.target_rows = target_rows};
    int rc = optimize_run(t, &o, only, n, min_files, res, err);
    free(only);
    if (rc)
        tl_error_prefix(err, "automatic optimize (ticklake.autoOptimize.minFiles): ");
    return rc;
}

/* ---- dedup keys on append (spec/MAINT.md section 4) ------------------------------------- */

static int list_has(const char *list, const char *name)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == nl && memcmp(p, name, nl) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

int tl_dedup_config(const tl_log_metadata *m, tl_dedup_cfg *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    const char *keys = NULL, *mode = NULL;
    for (uint32_t i = 0; i < m->config.n; i++) {
        if (strcmp(m->config.kv[i].key, TL_CONF_DEDUP_KEYS) == 0)
            keys = m->config.kv[i].val;
        else if (strcmp(m->config.kv[i].key, TL_CONF_DEDUP_MODE) == 0)
            mode = m->config.kv[i].val;
    }
    if (mode && strcmp(mode, "upsert") != 0 && strcmp(mode, "drop") != 0)
        return tl_error_set(err, TL_EINVAL,
                            "%s: expected \"upsert\" or \"drop\", found \"%.100s\" (MAINT-D1)",
                            TL_CONF_DEDUP_MODE, mode);
    if (!keys)
        return TL_OK;
    if (m->sort_key.n == 0)
        return tl_error_set(err, TL_EINVAL,
                            "%s: the table has no sort key; dedup keys need one (MAINT-D1)",
                            TL_CONF_DEDUP_KEYS);
    /* every listed column: in the schema, once, a sort key or the symbol column */
    const char *p = keys;
    uint32_t listed = 0;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[TL_LOG_MAX_NAME + 1];
        if (len == 0 || len > TL_LOG_MAX_NAME)
            return tl_error_set(err, TL_EINVAL, "%s: an empty or too long column name in \"%.100s\"",
                                TL_CONF_DEDUP_KEYS, keys);
        memcpy(name, p, len);
        name[len] = '\0';
        if (tl_table_meta_col(m, name) < 0)
            return tl_error_set(err, TL_EINVAL, "%s: column '%s' is not in the schema",
                                TL_CONF_DEDUP_KEYS, name);
        int in_key = 0;
        for (uint32_t k = 0; k < m->sort_key.n && !in_key; k++)
            in_key = strcmp(m->sort_key.s[k], name) == 0;
        if (!in_key && !(m->part_symbol_col && strcmp(m->part_symbol_col, name) == 0))
            return tl_error_set(err, TL_EINVAL,
                                "%s: column '%s' is neither in the sort key nor the symbol "
                                "partition column (MAINT-D1)",
                                TL_CONF_DEDUP_KEYS, name);
        /* repeated? */
        const char *q = keys;
        uint32_t seen = 0;
        while (q < p + len) {
            const char *qe = strchr(q, ',');
            size_t ql = qe ? (size_t)(qe - q) : strlen(q);
            seen += ql == len && memcmp(q, name, len) == 0;
            if (!qe)
                break;
            q = qe + 1;
        }
        if (seen > 1)
            return tl_error_set(err, TL_EINVAL, "%s: column '%s' listed twice", TL_CONF_DEDUP_KEYS,
                                name);
        listed++;
        if (!e)
            break;
        p = e + 1;
    }
    for (uint32_t k = 0; k < m->sort_key.n; k++)
        if (!list_has(keys, m->sort_key.s[k]))
            return tl_error_set(err, TL_EINVAL,
                                "%s: sort key column '%s' is missing (the keys must hold the "
                                "whole sort key, MAINT-D1)",
                                TL_CONF_DEDUP_KEYS, m->sort_key.s[k]);
    (void)listed;
    out->on = 1;
    out->keep_last = !mode || strcmp(mode, "upsert") == 0;
    return TL_OK;
}

/* The merge output filtered to one row per key (MAINT-D2). */
typedef struct dfilt {
    tl_mw *mw;
    const tl_coldef *defs;
    const uint32_t *key;
    uint32_t n_key;
    int keep_last;
    tl_cbuf held;   /* the previous block's last row */
    int have_held;
    tl_cbuf scratch;
    uint32_t *idx;
    size_t cap_idx;
    uint64_t dropped;
} dfilt;

static int dfilt_out(void *ctx, const tl_colvec *cols, uint32_t n, tl_error *err)
{
    dfilt *f = ctx;
    if (n == 0)
        return TL_OK;
    if (tl_grow((void **)&f->idx, &f->cap_idx, (size_t)n * sizeof *f->idx))
        return tl_error_set(err, TL_ENOMEM, "dedup: out of memory");
    uint32_t m = 0;
    int rc = TL_OK;
    const tl_colvec *hv = f->have_held ? tl_cbuf_cols(&f->held) : NULL;
    if (f->keep_last) {
        /* a row is kept when the next row has another key; the held row
         * (last of the previous block) against this block's first */
        if (hv) {
            if (cmp_vrows(f->defs, f->key, f->n_key, hv, 0, cols, 0) != 0)
                rc = tl_mw_write(f->mw, hv, 1, err);
            else
                f->dropped++;
            if (rc)
                return rc;
        }
        for (uint32_t i = 0; i + 1 < n; i++) {
            if (cmp_vrows(f->defs, f->key, f->n_key, cols, i, cols, i + 1) != 0)
                f->idx[m++] = i;
            else
                f->dropped++;
        }
    } else {
        for (uint32_t i = 0; i < n; i++) {
            int same = i ? cmp_vrows(f->defs, f->key, f->n_key, cols, i - 1, cols, i) == 0
                         : hv && cmp_vrows(f->defs, f->key, f->n_key, hv, 0, cols, 0) == 0;
            if (!same)
                f->idx[m++] = i;
            else
                f->dropped++;
        }
    }
    if (m) {
        tl_cbuf_reset(&f->scratch);
        rc = tl_cbuf_append_idx(&f->scratch, cols, f->idx, m, err);
        if (!rc)
            rc = tl_mw_write(f->mw, tl_cbuf_cols(&f->scratch), m, err);
        if (rc)
            return rc;
    }
    tl_cbuf_reset(&f->held);
    rc = tl_cbuf_append_range(&f->held, cols, n - 1, 1, err);
    f->have_held = !rc;
    return rc;
}

/* keep_last: the held row is the last of its key */
static int dfilt_finish(dfilt *f, tl_error *err)
{
    int rc = TL_OK;
    if (f->keep_last && f->have_held)
        rc = tl_mw_write(f->mw, tl_cbuf_cols(&f->held), 1, err);
    f->have_held = 0;
    tl_cbuf_reset(&f->held);
    return rc;
}

static int cmp_add_ptr(const void *x, const void *y)
{
    return strcmp((*(const tl_log_add *const *)x)->path, (*(const tl_log_add *const *)y)->path);
}

int tl_dedup_commit(tl_table *t, const tl_log_metadata *meta, const tl_dedup_cfg *cfg,
                    const tl_dedup_file *files, size_t n, const tl_log_txn *txn,
                    const char *operation, uint64_t target_rows, tl_dedup_result *res,
                    tl_error *err)
{
    memset(res, 0, sizeof *res);
    res->version = -1;
    uint32_t nf = meta->n_fields;
    tl_coldef *defs = calloc(nf, sizeof *defs);
    tlf_col_opts *col_opts = calloc(nf, sizeof *col_opts);
    uint32_t *key = calloc(meta->sort_key.n + 1, sizeof *key);
    tl_log_pvals *parts = calloc(n + 1, sizeof *parts);
    tl_msrc *src = NULL;
    const tl_log_add **old = NULL;
    tl_log_action *acts = NULL;
    char *tmp_dir = NULL;
    dfilt f = {0};
    int rc = TL_OK, f_init = 0;
    if (!defs || !col_opts || !key || !parts)
        rc = tl_error_set(err, TL_ENOMEM, "dedup: out of memory");
    if (!rc) {
        tl_table_writer_cols(meta, defs, col_opts);
        for (uint32_t k = 0; k < meta->sort_key.n; k++)
            key[k] = (uint32_t)tl_table_meta_col(meta, meta->sort_key.s[k]);
        rc = tl_cbuf_init(&f.held, defs, nf, err);
        if (!rc)
            rc = tl_cbuf_init(&f.scratch, defs, nf, err);
        f_init = 1;
    }
    /* the partitions, first appearance order */
    size_t n_parts = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        size_t q = 0;
        while (q < n_parts && !same_pv(&parts[q], files[i].pv))
            q++;
        if (q == n_parts)
            parts[n_parts++] = *files[i].pv;
    }
    int day_col = meta->part_day_col ? tl_table_meta_col(meta, meta->part_day_col) : -1;
    for (int round = 0; !rc; round++) {
        tl_log_snapshot ls = {0};
        tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
        rc = tl_log_snapshot_load(&t->root, &so, &ls, err);
        if (rc)
            break;
        if (!meta_same(ls.meta, meta)) {
            tl_log_snapshot_free(&ls);
            rc = tl_error_set(err, TL_ECONFLICT,
                              "dedup: the table's metaData changed while appending (LOG-R50)");
            break;
        }
        size_t n_live = tl_log_snapshot_n_live(&ls);
        free(old);
        free(src);
        old = calloc(n_live + 1, sizeof *old);
        src = calloc(n_live + n + 1, sizeof *src);
        tl_mw mw;
        int mw_init = 0, keep = 0; /* keep: the commit may be visible (LOG-R46/R47) */
        if (!old || !src) {
            tl_log_snapshot_free(&ls);
            rc = tl_error_set(err, TL_ENOMEM, "dedup: out of memory");
            break;
        }
        rc = tl_mw_init(&mw, t, defs, col_opts, nf, day_col, 0, target_rows, err);
        mw_init = !rc;
        f.mw = &mw;
        f.defs = defs;
        f.key = key;
        f.n_key = meta->sort_key.n;
        f.keep_last = cfg->keep_last;
        f.dropped = 0;
        size_t n_old_all = 0;
        for (size_t q = 0; !rc && q < n_parts; q++) {
            /* the partition's live files (file order), then the new ones */
            size_t cur = 0, k = 0, ns = 0;
            const tl_log_add *a;
            while ((a = tl_log_snapshot_live_next(&ls, &cur)) != NULL)
                if (same_pv(&a->part, &parts[q]))
                    old[n_old_all + k++] = a;
            qsort(old + n_old_all, k, sizeof *old, cmp_add_ptr);
            for (size_t i = 0; i < k; i++)
                src[ns++] = (tl_msrc){old[n_old_all + i]->path, old[n_old_all + i]->size_bytes,
                                      old[n_old_all + i]->n_rows};
            const char *dirpath = NULL;
            for (size_t i = 0; i < n; i++)
                if (same_pv(files[i].pv, &parts[q])) {
                    src[ns++] = (tl_msrc){files[i].path, files[i].size, files[i].rows};
                    dirpath = files[i].path;
                }
            n_old_all += k;
            char dir[TL_TABLE_PART_DIR_MAX] = "";
            const char *slash = strrchr(dirpath, '/');
            if (slash && (size_t)(slash - dirpath) < sizeof dir) {
                memcpy(dir, dirpath, (size_t)(slash - dirpath));
                dir[slash - dirpath] = '\0';
            }
            rc = tl_mw_set_part(&mw, dir, &parts[q], err);
            if (!rc && ns > 2 && !tmp_dir)
                rc = tl_maint_tmp_create(t, &tmp_dir, err);
            tl_merge_spec ms = {t, defs, nf, key, meta->sort_key.n, col_opts, 0, tmp_dir, NULL,
                                NULL};
            if (!rc)
                rc = tl_merge_run(&ms, src, ns, dfilt_out, &f, NULL, err);
            if (!rc)
                rc = dfilt_finish(&f, err);
            if (!rc)
                rc = tl_mw_finish_file(&mw, err);
        }
        if (!rc)
            rc = tl_mw_sync_dirs(&mw, err); /* LOG-R41 */
        if (!rc) {
            size_t na = (txn ? 1 : 0) + n_old_all + mw.n_files, k = 0;
            free(acts);
            acts = calloc(na + 1, sizeof *acts);
            if (!acts)
                rc = tl_error_set(err, TL_ENOMEM, "dedup: out of memory");
            if (!rc && txn) {
                acts[k].kind = TL_LOG_TXN;
                acts[k].u.txn = *txn;
                k++;
            }
            for (size_t i = 0; !rc && i < n_old_all; i++, k++) {
                acts[k].kind = TL_LOG_REMOVE;
                acts[k].u.rm = (tl_log_remove){.path = old[i]->path, .data_change = 1,
                                               .has_part = 1, .has_size = 1, .has_n_rows = 1,
                                               .part = old[i]->part,
                                               .size_bytes = old[i]->size_bytes,
                                               .n_rows = old[i]->n_rows};
            }
            for (size_t i = 0; !rc && i < mw.n_files; i++, k++) {
                const tl_mw_file *mf = &mw.files[i];
                acts[k].kind = TL_LOG_ADD;
                acts[k].u.add = (tl_log_add){.path = mf->path, .part = mf->pv,
                                             .size_bytes = mf->size, .n_rows = mf->rows,
                                             .mtime_ms = mf->mtime, .data_change = 1,
                                             .has_stats = 1};
                acts[k].u.add.stats = (tl_log_stats){mf->st.has_time_range, mf->st.first_ts,
                                                     mf->st.last_ts, mf->st.cs, nf};
            }
            if (!rc) {
                char p_rows[24], p_drop[24], p_parts[24];
                snprintf(p_rows, sizeof p_rows, "%" PRIu64, mw.rows);
                snprintf(p_drop, sizeof p_drop, "%" PRIu64, f.dropped);
                snprintf(p_parts, sizeof p_parts, "%zu", n_parts);
                tl_log_kv kv[4] = {{"rows", p_rows},
                                   {"dedupRowsDropped", p_drop},
                                   {"partitions", p_parts},
                                   {"dedupMode", cfg->keep_last ? "upsert" : "drop"}};
                tl_log_write_opts wo = {.io = t->io, .now_ms = t->now_ms, .now_arg = t->now_arg,
                                        .operation = operation, .op_params = {kv, 4},
                                        .snap = &ls, .read_parts = parts,
                                        .n_read_parts = (uint32_t)n_parts};
                tl_log_write_result wr;
                tl_error cerr = {0};
                rc = tl_log_write(&t->root, ls.version, acts, (uint32_t)k, &wo, &wr, &cerr);
                res->attempts += wr.attempts;
                if (rc == TL_OK && wr.noop) {
                    res->noop = 1;
                    res->version = wr.version;
                    tl_mw_drop_files(&mw, 0);
                } else if (rc == TL_OK) {
                    res->version = wr.version;
                    res->rows_dropped = f.dropped;
                    res->rows_out = mw.rows;
                    res->files_out = mw.n_files;
                    res->bytes_out = mw.bytes;
                    res->files_removed = n_old_all;
                } else {
                    keep = wr.maybe_visible;
                    if (err)
                        *err = cerr;
                }
            }
        }
        if (rc && mw_init && !keep)
            tl_mw_drop_files(&mw, 0);
        if (mw_init)
            tl_mw_free(&mw);
        tl_log_snapshot_free(&ls);
        if (rc == TL_ECONFLICT && round + 1 < MAX_REDO_ROUNDS) {
            rc = TL_OK; /* MAINT-D5: redo against the new latest version */
            continue;
        }
        break;
    }
    if (rc)
        tl_error_prefix(err, "dedup of %s: ", t->path);
    if (tmp_dir)
        tl_maint_tmp_remove(t, tmp_dir);
    free(tmp_dir);
    if (f_init) {
        tl_cbuf_free(&f.held);
        tl_cbuf_free(&f.scratch);
    }
    free(f.idx);
    free(acts);
    free(src);
    free(old);
    free(parts);
    free(defs);
    free(col_opts);
    free(key);
    return rc;
}
