/*
 * segment_api.c - the public "segment files" API of ticklake.h over the
 * format library (tl_format.h): a writer that owns one file descriptor and
 * makes the file durable, and a reader that maps a whole file.
 *
 * Invariants:
 * - Every file operation of the writer goes through tl_io (io_int.h), so the
 *   fault injector reaches it (tl_segment_writer_open_io); the public calls
 *   use tl_io_default(). Failures keep the public codes: TL_EIO with
 *   sys_errno (EEXIST for a taken name, ENOENT for a missing directory).
 * - The writer creates its file with O_EXCL, so it never overwrites; a
 *   writer that has failed, been aborted or finished without success
 *   leaves no file behind (close + unlink). finish() fsyncs the file, then
 *   the directory entry; a failed fsync is reported once, never retried.
 * - Every error message names the file path (the format library gets the
 *   path as the segment name; messages that lack it are prefixed with it).
 * - tl_segment keeps the mapping for its lifetime; decoded blocks may point
 *   into it (zero copy), and print_csv always verifies block checksums.
 */
#include "ticklake.h"
#include "io_int.h"
#include "table_int.h"
#include "text_int.h"
#include "tl_format.h"
#include "util_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Make sure err's message names path: prefix "path: " unless present. */
static int name_path(tl_error *err, int rc, const char *path)
{
    if (err && rc != TL_OK && path && !strstr(err->msg, path))
        tl_error_prefix(err, "%s: ", path);
    return rc;
}

/* ---- writer --------------------------------------------------------------- */

struct tl_segment_writer {
    const tl_io *io;
    tl_io_file f;
    int failed;
    char *path;
    tl_coldef *defs; /* names point into names */
    char *names;
    uint32_t n_cols;
    tlf_seg_writer *w;
};

static void writer_free(tl_segment_writer *w)
{
    tlf_seg_writer_free(w->w);
    free(w->defs);
    free(w->names);
    free(w->path);
    free(w);
}

/* Close the file (if open), unlink it, free. */
static void writer_discard(tl_segment_writer *w)
{
    int opened = w->f.fd >= 0;
    (void)tl_io_close(&w->f, NULL);
    if (opened && tl_io_unlink(w->io, NULL, w->path, NULL)) { /* best effort */
    }
    writer_free(w);
}

/* The file is closed already: unlink it, free. */
static void writer_discard_closed(tl_segment_writer *w)
{
    if (tl_io_unlink(w->io, NULL, w->path, NULL)) { /* best effort */
    }
    writer_free(w);
}

/* Public codes: every failure of a system call is TL_EIO (sys_errno says
 * which), as before the writer went through tl_io. */
static int as_eio(tl_error *err, int rc)
{
    if (rc != TL_OK && rc != TL_ENOMEM && err && err->sys_errno) {
        err->code = TL_EIO;
        return TL_EIO;
    }
    return rc;
}

static int fsync_parent_dir(const tl_io *io, const char *path, tl_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
    int rc = tl_io_fsync_dir(io, NULL, dir, err);
    if (rc != TL_OK)
        tl_error_prefix(err, "%s: making its directory entry durable failed: ", path);
    free(dir);
    return as_eio(err, rc);
}

int tl_segment_writer_open(const char *path, const tl_coldef *defs,
                           uint32_t n_cols, const tl_segment_write_opts *opts,
                           tl_segment_writer **out, tl_error *err)
{
    return tl_segment_writer_open_io(path, defs, n_cols, opts, NULL, out, err);
}

int tl_segment_writer_open_io(const char *path, const tl_coldef *defs, uint32_t n_cols,
                              const tl_segment_write_opts *opts, const tl_io *io,
                              tl_segment_writer **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "tl_segment_writer_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return tl_error_set(err, TL_EINVAL, "tl_segment_writer_open: empty path");
    if (!defs || n_cols == 0)
        return tl_error_set(err, TL_EINVAL, "%s: a segment needs at least one column, got %" PRIu32,
                            path, n_cols);
    for (uint32_t i = 0; i < n_cols; i++)
        if (!defs[i].name)
            return tl_error_set(err, TL_EINVAL, "%s: column %" PRIu32 " has no name", path, i);

    tl_segment_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
    w->io = io ? io : tl_io_default();
    w->f = (tl_io_file)TL_IO_FILE_INIT;
    w->n_cols = n_cols;
    size_t names_len = 0;
    for (uint32_t i = 0; i < n_cols; i++)
        names_len += strlen(defs[i].name) + 1;
    w->path = strdup(path);
    w->defs = calloc(n_cols, sizeof *w->defs);
    w->names = malloc(names_len);
    tlf_col_opts *co = calloc(n_cols, sizeof *co);
    if (!w->path || !w->defs || !w->names || !co) {
        free(co);
        writer_free(w);
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
    }
    char *p = w->names;
    for (uint32_t i = 0; i < n_cols; i++) {
        size_t l = strlen(defs[i].name) + 1;
        memcpy(p, defs[i].name, l);
        w->defs[i].name = p;
        w->defs[i].type = defs[i].type;
        p += l;
        co[i].encoding = TLF_ENC_AUTO;
        co[i].compression = TLF_COMP_AUTO;
    }
    tlf_writer_opts fo = {0};
    if (opts) {
        fo.block_rows = opts->block_rows;
        fo.zstd_level = opts->zstd_level;
        if (opts->n_hot && !opts->hot_columns) {
            free(co);
            writer_free(w);
            return tl_error_set(err, TL_EINVAL, "%s: n_hot is %" PRIu32 " but hot_columns is NULL",
                                path, opts->n_hot);
        }
        for (uint32_t h = 0; h < opts->n_hot; h++) {
            const char *name = opts->hot_columns[h];
            uint32_t i = 0;
            while (i < n_cols && !(name && strcmp(name, defs[i].name) == 0))
                i++;
            if (i == n_cols) {
                tl_error_set(err, TL_EINVAL, "%s: hot column '%s' is not a column of the segment",
                             path, name ? name : "(null)");
                free(co);
                writer_free(w);
                return TL_EINVAL;
            }
            co[i].hot = 1;
        }
    }
    fo.col_opts = co;

    int orc = tl_io_open(w->io, NULL, path, O_CREAT | O_EXCL | O_WRONLY, 0644, &w->f, err);
    if (orc != TL_OK) {
        free(co);
        writer_free(w);
        tl_error_prefix(err, "cannot create segment file: ");
        return as_eio(err, orc);
    }
    tlf_sink sink = {.write = tl_io_sink_write, .ctx = &w->f};
    int rc = tlf_seg_writer_open(w->defs, n_cols, &fo, sink, &w->w, err);
    free(co);
    if (rc != TL_OK) {
        w->w = NULL;
        writer_discard(w);
        return name_path(err, rc, path);
    }
    *out = w;
    return TL_OK;
}

int tl_segment_writer_append(tl_segment_writer *w, const tl_batch *b, tl_error *err)
{
    if (!w || !b)
        return tl_error_set(err, TL_EINVAL, "tl_segment_writer_append: NULL argument");
    if (w->failed)
        return tl_error_set(err, TL_EINVAL, "%s: the writer failed earlier; abort it", w->path);
    if (b->n_cols != w->n_cols)
        return tl_error_set(err, TL_EINVAL,
                            "%s: batch has %" PRIu32 " columns, expected the segment's %" PRIu32,
                            w->path, b->n_cols, w->n_cols);
    if (b->n_rows == 0)
        return TL_OK;
    if (!b->defs || !b->cols)
        return tl_error_set(err, TL_EINVAL, "%s: batch of %" PRIu32 " rows has no columns",
                            w->path, b->n_rows);
    for (uint32_t i = 0; i < w->n_cols; i++) {
        const tl_coldef *d = &b->defs[i], *e = &w->defs[i];
        if (!d->name || strcmp(d->name, e->name) != 0 || d->type != e->type) {
            const char *tn = tl_type_name((int)d->type);
            return tl_error_set(err, TL_EINVAL,
                                "%s: batch column %" PRIu32 " is '%s' (%s), expected '%s' (%s)",
                                w->path, i, d->name ? d->name : "(null)", tn ? tn : "?",
                                e->name, tl_type_name((int)e->type));
        }
    }
    int rc = tlf_seg_writer_append(w->w, b->cols, b->n_rows, err);
    if (rc != TL_OK) {
        w->failed = 1;
        return name_path(err, rc, w->path);
    }
    return TL_OK;
}

int tl_segment_writer_finish(tl_segment_writer *w, uint64_t *n_rows,
                             uint64_t *file_bytes, tl_error *err)
{
    if (!w)
        return tl_error_set(err, TL_EINVAL, "tl_segment_writer_finish: NULL writer");
    if (w->failed) {
        int rc = tl_error_set(err, TL_EINVAL, "%s: the writer failed earlier; file removed",
                              w->path);
        writer_discard(w);
        return rc;
    }
    tlf_seg_write_stats st = {0};
    int rc = tlf_seg_writer_finish(w->w, &st, err);
    if (rc != TL_OK) {
        name_path(err, rc, w->path);
        writer_discard(w);
        return rc;
    }
    rc = tl_io_fsync(&w->f, err);
    if (rc != TL_OK) {
        /* Never retried: after a failed fsync the page cache may have
         * dropped the dirty pages, so a second fsync can lie. */
        tl_error_prefix(err, "file removed: ");
        writer_discard(w);
        return as_eio(err, rc);
    }
    rc = tl_io_close(&w->f, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "file removed: ");
        w->f.fd = -1;
        writer_discard_closed(w);
        return as_eio(err, rc);
    }
    rc = fsync_parent_dir(w->io, w->path, err);
    if (rc != TL_OK) {
        writer_discard_closed(w);
        return rc;
    }
    if (n_rows)
        *n_rows = st.n_rows;
    if (file_bytes)
        *file_bytes = st.file_bytes;
    writer_free(w);
    return TL_OK;
}

void tl_segment_writer_abort(tl_segment_writer *w)
{
    if (w)
        writer_discard(w);
}

/* ---- reader --------------------------------------------------------------- */

struct tl_segment {
    tlf_seg *seg;
    const uint8_t *base;
    uint64_t size;
    char *path;
};

int tl_segment_open(const char *path, tl_segment **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "tl_segment_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return tl_error_set(err, TL_EINVAL, "tl_segment_open: empty path");
    tl_segment *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
    }
    int rc = tlf_map_file(path, &s->base, &s->size, err);
    if (rc != TL_OK) {
        free(s->path);
        free(s);
        return name_path(err, rc, path);
    }
    if (s->size < TLF_HEADER_SIZE + TLF_TRAILER_SIZE) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "%s: not a segment file: %" PRIu64 " bytes, expected at least %d "
                          "(header and trailer)",
                          path, s->size, TLF_HEADER_SIZE + TLF_TRAILER_SIZE);
        tl_segment_close(s);
        return rc;
    }
    rc = tlf_seg_open_mem(s->base, s->size, path, 0, &s->seg, err);
    if (rc != TL_OK) {
        s->seg = NULL;
        tl_segment_close(s);
        return name_path(err, rc, path);
    }
    *out = s;
    return TL_OK;
}

void tl_segment_close(tl_segment *s)
{
    if (!s)
        return;
    tlf_seg_close(s->seg);
    if (s->base)
        tlf_unmap_file(s->base, s->size);
    free(s->path);
    free(s);
}

uint64_t tl_segment_n_rows(const tl_segment *s) { return tlf_seg_n_rows(s->seg); }
uint32_t tl_segment_n_cols(const tl_segment *s) { return tlf_seg_n_cols(s->seg); }
uint32_t tl_segment_n_blocks(const tl_segment *s) { return tlf_seg_n_blocks(s->seg); }
uint64_t tl_segment_file_bytes(const tl_segment *s) { return s->size; }

const char *tl_encoding_name(int enc)
{
    return tlf_encoding_name(enc);
}

/* ---- zone-map values as text ---------------------------------------------- */

/* Length of a valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    else if ((c & 0xE0) == 0xC0)
        len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* String bound as text: control bytes and invalid UTF-8 become '?', and
 * "…" marks a bound that is not the exact value. out has 80 bytes. */
static void fmt_string(char *out, size_t cap, const uint8_t *p, uint32_t n, int inexact)
{
    size_t o = 0, room = cap - 1 - (sizeof "…" - 1);
    for (size_t i = 0; i < n && o < room;) {
        size_t l = utf8_seq(p + i, n - i);
        if (l == 0 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7F))) {
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + l > room) {
            inexact = 1;
            break;
        }
        memcpy(out + o, p + i, l);
        o += l;
        i += l;
    }
    out[o] = '\0';
    if (inexact)
        memcpy(out + o, "…", sizeof "…");
}

/* A fixed-width zone value as text, as the CSV writer prints it (dates and
 * timestamps in ISO form), NUL-terminated; out has TL_FMT_MAX + 1 bytes. */
static void fmt_zval(char *out, tl_type type, tlf_zval v)
{
    size_t n = 0;
    switch (type) {
    case TL_BOOL:
        n = v.u ? 4 : 5;
        memcpy(out, v.u ? "true" : "false", n);
        break;
    case TL_UINT8: case TL_UINT16: case TL_UINT32: case TL_UINT64:
        n = tl_fmt_u64(out, v.u);
        break;
    case TL_INT8: case TL_INT16: case TL_INT32: case TL_INT64:
        n = tl_fmt_i64(out, v.i);
        break;
    case TL_DATE: n = tl_fmt_date(out, (int32_t)v.i); break; /* the reader checked the range */
    case TL_TIMESTAMP: n = tl_fmt_timestamp_iso(out, v.i); break;
    case TL_TIMESTAMP_US: n = tl_fmt_timestamp_us(out, v.i); break;
    case TL_FLOAT32: n = tl_fmt_f32(out, (float)v.f); break; /* widened exactly */
    case TL_FLOAT64: n = tl_fmt_f64(out, v.f); break;
    default: break;
    }
    out[n] = '\0';
}

/* -1, 0, 1 comparing zone values of one type. */
static int zcmp(tl_type type, tlf_zval a, tlf_zval b)
{
    if (tl_type_is_float((int)type))
        return a.f < b.f ? -1 : a.f > b.f;
    if (tl_type_is_signed_int((int)type))
        return a.i < b.i ? -1 : a.i > b.i;
    return a.u < b.u ? -1 : a.u > b.u;
}

static int scmp(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

int tl_segment_col_stats_get(const tl_segment *s, uint32_t col,
                             tl_segment_col_stats *out, tl_error *err)
{
    if (!s || !out)
        return tl_error_set(err, TL_EINVAL, "tl_segment_col_stats_get: NULL argument");
    uint32_t n_cols = tlf_seg_n_cols(s->seg);
    if (col >= n_cols)
        return tl_error_set(err, TL_EINVAL, "%s: column %" PRIu32 " out of range (%" PRIu32
                            " columns)", s->path, col, n_cols);
    const tlf_col_info *ci = tlf_seg_col(s->seg, col);
    memset(out, 0, sizeof *out);
    out->name = ci->name;
    out->type = ci->type;
    out->null_count = ci->null_count;
    out->stored_bytes = ci->stored_bytes;
    out->decoded_bytes = ci->decoded_bytes;

    int have = 0, min_inexact = 0, max_inexact = 0;
    tlf_zval mn = {0}, mx = {0};
    const uint8_t *smn = NULL, *smx = NULL;
    uint32_t smn_len = 0, smx_len = 0;
    uint32_t n_blocks = tlf_seg_n_blocks(s->seg);
    for (uint32_t b = 0; b < n_blocks; b++) {
        const tlf_block_info *bi = tlf_seg_block(s->seg, col, b);
        if (bi->encoding < sizeof out->blocks_by_encoding / sizeof out->blocks_by_encoding[0])
            out->blocks_by_encoding[bi->encoding]++;
        if (bi->compression == TLF_COMP_ZSTD)
            out->blocks_zstd++;
        if (!(bi->zone_flags & TLF_ZONE_HAS_MINMAX))
            continue;
        if (ci->type == TL_STRING) {
            if (!have || scmp(bi->smin, bi->smin_len, smn, smn_len) < 0) {
                smn = bi->smin, smn_len = bi->smin_len;
                min_inexact = !!(bi->zone_flags & TLF_ZONE_MIN_INEXACT);
            }
            if (!have || scmp(bi->smax, bi->smax_len, smx, smx_len) > 0) {
                smx = bi->smax, smx_len = bi->smax_len;
                max_inexact = !!(bi->zone_flags & TLF_ZONE_MAX_INEXACT);
            }
            if (bi->zone_flags & TLF_ZONE_MAX_UNBOUNDED)
                max_inexact = 2;
        } else {
            if (!have || zcmp(ci->type, bi->min, mn) < 0)
                mn = bi->min;
            if (!have || zcmp(ci->type, bi->max, mx) > 0)
                mx = bi->max;
        }
        have = 1;
    }
    if (!have)
        return TL_OK;
    if (ci->type == TL_STRING) {
        fmt_string(out->min_text, sizeof out->min_text, smn, smn_len, min_inexact);
        fmt_string(out->max_text, sizeof out->max_text, smx, smx_len, max_inexact != 0);
    } else {
        _Static_assert(sizeof out->min_text > TL_FMT_MAX && sizeof out->max_text > TL_FMT_MAX,
                       "zone-map text fields hold any formatted value");
        fmt_zval(out->min_text, ci->type, mn);
        fmt_zval(out->max_text, ci->type, mx);
    }
    return TL_OK;
}

int tl_segment_verify(const tl_segment *s, tl_error *err)
{
    if (!s)
        return tl_error_set(err, TL_EINVAL, "tl_segment_verify: NULL segment");
    return name_path(err, tlf_seg_verify_all(s->seg, err), s->path);
}

/* ---- rows as CSV ---------------------------------------------------------- */

/* Reusable per-column buffers for print_csv. */
typedef struct col_scratch {
    void *buf;
    size_t buf_cap;
    uint8_t *data;
    size_t data_cap;
    uint8_t *valid;
    size_t valid_cap;
    uint8_t *slice_valid; /* validity of the printed slice */
    size_t slice_valid_cap;
    uint32_t *slice_off;  /* rebased string offsets of the slice */
    size_t slice_off_cap;
} col_scratch;

int tl_segment_print_csv(const tl_segment *s, uint64_t first, uint64_t limit,
                         FILE *f, tl_error *err)
{
    if (!s || !f)
        return tl_error_set(err, TL_EINVAL, "tl_segment_print_csv: NULL argument");
    uint32_t n_cols = tlf_seg_n_cols(s->seg), n_blocks = tlf_seg_n_blocks(s->seg);
    uint64_t n_rows = tlf_seg_n_rows(s->seg);
    uint64_t end = first >= n_rows ? first : (limit > n_rows - first ? n_rows : first + limit);

    tl_coldef *defs = calloc(n_cols, sizeof *defs);
    tl_colvec *cols = calloc(n_cols, sizeof *cols);
    col_scratch *cs = calloc(n_cols, sizeof *cs);
    int rc = TL_OK;
    if (!defs || !cols || !cs) {
        rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory", s->path);
        goto out;
    }
    for (uint32_t c = 0; c < n_cols; c++) {
        const tlf_col_info *ci = tlf_seg_col(s->seg, c);
        defs[c].name = ci->name;
        defs[c].type = ci->type;
    }
    int header = 1;
    for (uint32_t b = 0; b < n_blocks && first < end; b++) {
        const tlf_block_info *b0 = tlf_seg_block(s->seg, 0, b);
        uint64_t bfirst = b0->first_row, bend = b0->first_row + b0->n_rows;
        if (bend <= first || bfirst >= end)
            continue;
        uint32_t lo = (uint32_t)((first > bfirst ? first : bfirst) - bfirst);
        uint32_t hi = (uint32_t)((end < bend ? end : bend) - bfirst);
        for (uint32_t c = 0; c < n_cols; c++) {
            const tlf_block_info *bi = tlf_seg_block(s->seg, c, b);
            col_scratch *x = &cs[c];
            size_t nb = 0, nd = 0, nv = 0;
            tlf_seg_decode_needs(s->seg, c, b, &nb, &nd, &nv);
            if (tl_grow(&x->buf, &x->buf_cap, nb ? nb : 1) ||
                tl_grow((void **)&x->data, &x->data_cap, nd ? nd : 1) ||
                tl_grow((void **)&x->valid, &x->valid_cap, nv ? nv : 1)) {
                rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory decoding column '%s' "
                                  "block %" PRIu32, s->path, defs[c].name, b);
                goto out;
            }
            tlf_vec v = {.buf = x->buf, .buf_cap = x->buf_cap, .data_buf = x->data,
                         .data_cap = x->data_cap, .valid_buf = x->valid,
                         .valid_cap = x->valid_cap};
            rc = tlf_seg_decode(s->seg, c, b, s->base + bi->offset, bi->length,
                                TLF_DECODE_VERIFY | TLF_DECODE_ZERO_COPY, &v, err);
            if (rc != TL_OK) {
                name_path(err, rc, s->path);
                goto out;
            }
            if (v.n != b0->n_rows) {
                rc = tl_error_set(err, TL_ECORRUPT,
                                  "%s: column '%s' block %" PRIu32 " decoded %" PRIu32
                                  " rows, expected %" PRIu32, s->path, defs[c].name, b, v.n,
                                  b0->n_rows);
                goto out;
            }
            uint32_t k = hi - lo;
            tl_colvec *cv = &cols[c];
            memset(cv, 0, sizeof *cv);
            if (defs[c].type == TL_STRING) {
                if (tl_grow((void **)&x->slice_off, &x->slice_off_cap, ((size_t)k + 1) * 4)) {
                    rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory", s->path);
                    goto out;
                }
                uint32_t base = v.offsets[lo];
                for (uint32_t i = 0; i <= k; i++)
                    x->slice_off[i] = v.offsets[lo + i] - base;
                cv->offsets = x->slice_off;
                cv->data = v.data + base;
            } else {
                cv->values = (const uint8_t *)v.values + (size_t)lo * tl_type_width((int)defs[c].type);
            }
            if (v.validity) {
                if (tl_grow((void **)&x->slice_valid, &x->slice_valid_cap, ((size_t)k + 7) / 8 + 1)) {
                    rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory", s->path);
                    goto out;
                }
                memset(x->slice_valid, 0, ((size_t)k + 7) / 8);
                for (uint32_t i = 0; i < k; i++)
                    if (tl_bit_get(v.validity, (uint64_t)lo + i))
                        tl_bit_set(x->slice_valid, i, 1);
                cv->validity = x->slice_valid;
            }
        }
        tl_batch batch = {.n_rows = hi - lo, .n_cols = n_cols, .defs = defs, .cols = cols};
        rc = tl_batch_write_csv(&batch, f, header, err);
        if (rc != TL_OK)
            goto out;
        header = 0;
    }
    if (header) {
        tl_batch empty = {.n_rows = 0, .n_cols = n_cols, .defs = defs, .cols = cols};
        rc = tl_batch_write_csv(&empty, f, 1, err);
    }
out:
    if (cs)
        for (uint32_t c = 0; c < n_cols; c++) {
            free(cs[c].buf);
            free(cs[c].data);
            free(cs[c].valid);
            free(cs[c].slice_valid);
            free(cs[c].slice_off);
        }
    free(cs);
    free(cols);
    free(defs);
    return rc;
}
