/*
 * fileio.c - generating sample ticks into files: one CSV file, or one
 * segment file per (symbol, day) partition. What `ticklake gen` runs.
 *
 * Invariants:
 * - Output is a pure function of the generator options: the generator is
 *   deterministic and rows keep its order (within each partition file).
 * - A partition file is created with O_EXCL and finished (fsynced) once no
 *   later batch can hold its rows: a batch never spans two days, so when a
 *   batch holds no row of a partition and none of that partition's day, the
 *   partition is complete. Rows of a finished partition arriving later are
 *   an error, never a second file.
 * - Buffers (partition ids, gather scratch) are reused across batches.
 * - Progress is reported at most every 100 ms, and once at the end.
 * - Every mkdir, fsync and unlink goes through tl_io (io_int.h; the segment
 *   writer too): the output directory is created with its entry made
 *   durable, the CSV file is fsynced and then its directory.
 */
#include "ticklake.h"
#include "civil_int.h"
#include "io_int.h"
#include "text_int.h"
#include "util_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GEN_BATCH_ROWS 65536u

static const char *const hot_cols[] = {"timestamp", "expiry", "opt_type", "strike",
                                       "price",     "bp0",    "sp0",      "volume"};

const char *const *tl_ticks_hot_columns(uint32_t *n)
{
    if (n)
        *n = (uint32_t)(sizeof hot_cols / sizeof hot_cols[0]);
    return hot_cols;
}

void tl_gen_report_free(tl_gen_report *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n_files; i++)
        free(r->paths[i]);
    free(r->paths);
    memset(r, 0, sizeof *r);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct progress {
    tl_progress_fn fn;
    void *ctx;
    uint64_t last_ns;
    uint64_t total;
} progress;

static void progress_tick(progress *p, uint64_t done, int final)
{
    if (!p->fn)
        return;
    uint64_t t = now_ns();
    if (final || t - p->last_ns >= 100000000u) {
        p->last_ns = t;
        p->fn(p->ctx, done, p->total);
    }
}

static int report_add(tl_gen_report *r, const char *path, tl_error *err)
{
    char **np = realloc(r->paths, ((size_t)r->n_files + 1) * sizeof *np);
    if (!np)
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
    r->paths = np;
    if (!(np[r->n_files] = strdup(path)))
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
    r->n_files++;
    return TL_OK;
}

/* Public codes: a failed system call is TL_EIO (sys_errno says which). */
static int as_eio(tl_error *err, int rc)
{
    if (rc != TL_OK && rc != TL_ENOMEM && rc != TL_EINVAL && err && err->sys_errno) {
        err->code = TL_EIO;
        return TL_EIO;
    }
    return rc;
}

/* ---- CSV ------------------------------------------------------------------ */

int tl_gen_write_csv(const tl_gen_opts *o, const char *path, tl_progress_fn fn,
                     void *ctx, tl_gen_report *rep, tl_error *err)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    if (!o || !path || !*path)
        return tl_error_set(err, TL_EINVAL, "tl_gen_write_csv: missing options or path");
    uint64_t t0 = now_ns();
    tl_gen *g = NULL;
    int rc = tl_gen_open(o, &g, err);
    if (rc != TL_OK)
        return rc;
    progress pr = {.fn = fn, .ctx = ctx, .last_ns = t0, .total = tl_gen_total_rows(g)};
    tl_io_file cfile;
    rc = tl_io_open(NULL, NULL, path, O_WRONLY | O_CREAT | O_TRUNC, 0644, &cfile, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "cannot create CSV file: ");
        tl_gen_close(g);
        return as_eio(err, rc);
    }
    FILE *f = fdopen(cfile.fd, "w");
    if (!f) {
        rc = tl_error_sys(err, errno, "%s: cannot create CSV file", path);
        (void)tl_io_close(&cfile, NULL);
        tl_gen_close(g);
        return rc;
    }
    cfile.fd = -1; /* f owns it now */
    (void)tl_io_close(&cfile, NULL);
    setvbuf(f, NULL, _IOFBF, 1u << 20);
    uint64_t rows = 0;
    int header = 1, done = 0;
    while (!done) {
        tl_batch b;
        rc = tl_gen_next(g, GEN_BATCH_ROWS, &b, &done, err);
        if (rc != TL_OK)
            break;
        if (b.n_rows == 0 && !header)
            continue;
        rc = tl_batch_write_csv(&b, f, header, err);
        if (rc != TL_OK) {
            tl_error_prefix(err, "%s: ", path);
            break;
        }
        header = 0;
        rows += b.n_rows;
        progress_tick(&pr, rows, 0);
    }
    off_t bytes = ftello(f);
    if (rc == TL_OK && (fflush(f) != 0 || ferror(f)))
        rc = tl_error_sys(err, errno, "%s: write failed", path);
    if (rc == TL_OK) {
        /* borrowed descriptor: fsync through tl_io, fclose closes it */
        tl_io_file cf = {tl_io_default(), fileno(f), (char *)(uintptr_t)path};
        rc = tl_io_fsync(&cf, err);
    }
    if (fclose(f) != 0 && rc == TL_OK)
        rc = tl_error_sys(err, errno, "%s: close failed", path);
    if (rc == TL_OK) {
        const char *slash = strrchr(path, '/');
        char *pd = !slash ? strdup(".") : slash == path ? strdup("/")
                                                         : strndup(path, (size_t)(slash - path));
        rc = pd ? tl_io_fsync_dir(NULL, NULL, pd, err)
                : tl_error_set(err, TL_ENOMEM, "%s: out of memory", path);
        free(pd);
    }
    tl_gen_close(g);
    if (rc != TL_OK) {
        if (tl_io_unlink(NULL, NULL, path, NULL)) { /* best effort */
        }
        return as_eio(err, rc);
    }
    progress_tick(&pr, rows, 1);
    if (rep) {
        rep->n_rows = rows;
        rep->bytes = bytes > 0 ? (uint64_t)bytes : 0;
        rc = report_add(rep, path, err);
        rep->elapsed_s = (double)(now_ns() - t0) / 1e9;
        if (rc != TL_OK)
            tl_gen_report_free(rep);
    }
    return rc;
}

/* ---- segment files, one per (symbol, day) ---------------------------------- */

typedef struct part {
    char *sym;
    uint32_t sym_len;
    int32_t day;
    int touched; /* got rows in the current batch */
    uint32_t count, start; /* rows in the current batch; start in order[] */
    tl_segment_writer *w;
    char *path;
} part;

typedef struct col_buf {
    void *values;
    size_t values_cap;
    uint8_t *valid;
    size_t valid_cap;
    uint32_t *offsets;
    size_t offsets_cap;
    uint8_t *data;
    size_t data_cap;
} col_buf;

typedef struct seg_job {
    const char *dir;
    tl_segment_write_opts wo;
    const tl_coldef *schema;
    uint32_t n_cols;
    int sym_col, ts_col;
    part *parts;          /* open partitions */
    uint32_t n_parts, cap_parts;
    uint32_t *row_part;   /* partition of each row of the batch */
    uint32_t *order;      /* row indexes grouped by partition */
    size_t row_part_cap, order_cap; /* bytes */
    col_buf *bufs;        /* gather scratch, one per column */
    tl_colvec *gathered;
    tl_gen_report *rep;   /* finished files */
    uint64_t bytes;
} seg_job;

/* dir/SYMBOL_YYYY-MM-DD.tls with bytes outside [A-Za-z0-9-] as %XX. */
static char *part_path(const char *dir, const char *sym, uint32_t len, int32_t day)
{
    size_t dl = strlen(dir);
    char *p = malloc(dl + 1 + 3 * (size_t)len + TL_FMT_MAX + 8);
    if (!p)
        return NULL;
    size_t o = 0;
    memcpy(p, dir, dl);
    o = dl;
    if (dl == 0 || dir[dl - 1] != '/')
        p[o++] = '/';
    static const char hex[] = "0123456789ABCDEF";
    for (uint32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)sym[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-') {
            p[o++] = (char)c;
        } else {
            p[o++] = '%';
            p[o++] = hex[c >> 4];
            p[o++] = hex[c & 15];
        }
    }
    p[o++] = '_';
    o += tl_fmt_date(p + o, day);
    memcpy(p + o, ".tls", sizeof ".tls");
    return p;
}

static int find_or_open_part(seg_job *j, const char *sym, uint32_t len, int32_t day,
                             uint32_t *out, tl_error *err)
{
    for (uint32_t i = 0; i < j->n_parts; i++) {
        part *p = &j->parts[i];
        if (p->day == day && p->sym_len == len && memcmp(p->sym, sym, len) == 0) {
            *out = i;
            return TL_OK;
        }
    }
    char *path = part_path(j->dir, sym, len, day);
    if (!path)
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
    for (uint32_t i = 0; i < j->rep->n_files; i++) {
        if (strcmp(j->rep->paths[i], path) == 0) {
            tl_error_set(err, TL_EINVAL,
                         "%s: the generator emitted rows of this partition after its file "
                         "was finished (rows are not grouped by day)", path);
            free(path);
            return TL_EINVAL;
        }
    }
    if (j->n_parts == j->cap_parts) {
        uint32_t nc = j->cap_parts ? 2 * j->cap_parts : 8;
        part *np = realloc(j->parts, nc * sizeof *np);
        if (!np) {
            free(path);
            return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
        }
        j->parts = np;
        j->cap_parts = nc;
    }
    part *p = &j->parts[j->n_parts];
    memset(p, 0, sizeof *p);
    p->sym = malloc(len + 1u);
    if (!p->sym) {
        free(path);
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
    }
    memcpy(p->sym, sym, len);
    p->sym[len] = '\0';
    p->sym_len = len;
    p->day = day;
    p->path = path;
    int rc = tl_segment_writer_open(path, j->schema, j->n_cols, &j->wo, &p->w, err);
    if (rc != TL_OK) {
        free(p->sym);
        free(path);
        return rc;
    }
    *out = j->n_parts++;
    return TL_OK;
}

static void part_drop(seg_job *j, uint32_t i)
{
    part *p = &j->parts[i];
    free(p->sym);
    free(p->path);
    j->parts[i] = j->parts[--j->n_parts];
}

static int part_finish(seg_job *j, uint32_t i, tl_error *err)
{
    part *p = &j->parts[i];
    uint64_t bytes = 0;
    int rc = tl_segment_writer_finish(p->w, NULL, &bytes, err);
    p->w = NULL;
    if (rc == TL_OK) {
        j->bytes += bytes;
        rc = report_add(j->rep, p->path, err);
    }
    part_drop(j, i);
    return rc;
}

/* Copy rows order[0..k) of column c of b into the job's scratch. */
static int gather(seg_job *j, const tl_batch *b, uint32_t c, const uint32_t *idx,
                  uint32_t k, tl_error *err)
{
    const tl_colvec *src = &b->cols[c];
    col_buf *x = &j->bufs[c];
    tl_colvec *dst = &j->gathered[c];
    memset(dst, 0, sizeof *dst);
    if (b->defs[c].type == TL_STRING) {
        size_t total = 0;
        for (uint32_t i = 0; i < k; i++)
            total += src->offsets[idx[i] + 1] - src->offsets[idx[i]];
        if (tl_grow((void **)&x->offsets, &x->offsets_cap, ((size_t)k + 1) * 4) ||
            tl_grow((void **)&x->data, &x->data_cap, total + 1))
            return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
        uint32_t o = 0;
        x->offsets[0] = 0;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t s0 = src->offsets[idx[i]], l = src->offsets[idx[i] + 1] - s0;
            memcpy(x->data + o, src->data + s0, l);
            o += l;
            x->offsets[i + 1] = o;
        }
        dst->offsets = x->offsets;
        dst->data = x->data;
    } else {
        size_t w = tl_type_width((int)b->defs[c].type);
        if (tl_grow(&x->values, &x->values_cap, (size_t)k * w + 1))
            return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
        switch (w) {
        case 1: {
            const uint8_t *s = src->values;
            uint8_t *d = x->values;
            for (uint32_t i = 0; i < k; i++)
                d[i] = s[idx[i]];
            break;
        }
        case 2: {
            const uint16_t *s = src->values;
            uint16_t *d = x->values;
            for (uint32_t i = 0; i < k; i++)
                d[i] = s[idx[i]];
            break;
        }
        case 4: {
            const uint32_t *s = src->values;
            uint32_t *d = x->values;
            for (uint32_t i = 0; i < k; i++)
                d[i] = s[idx[i]];
            break;
        }
        default: {
            const uint64_t *s = src->values;
            uint64_t *d = x->values;
            for (uint32_t i = 0; i < k; i++)
                d[i] = s[idx[i]];
            break;
        }
        }
        dst->values = x->values;
    }
    if (src->validity) {
        size_t nb = ((size_t)k + 7) / 8;
        if (tl_grow((void **)&x->valid, &x->valid_cap, nb + 1))
            return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
        memset(x->valid, 0, nb);
        for (uint32_t i = 0; i < k; i++)
            if (tl_bit_get(src->validity, idx[i]))
                tl_bit_set(x->valid, i, 1);
        dst->validity = x->valid;
    }
    return TL_OK;
}

static int route_batch(seg_job *j, const tl_batch *b, tl_error *err)
{
    uint32_t n = b->n_rows;
    if (n == 0)
        return TL_OK;
    if (tl_grow((void **)&j->row_part, &j->row_part_cap, (size_t)n * 4) ||
        tl_grow((void **)&j->order, &j->order_cap, (size_t)n * 4))
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", j->dir);
    const tl_colvec *sc = &b->cols[j->sym_col], *tc = &b->cols[j->ts_col];
    const int64_t *ts = tc->values;
    for (uint32_t i = 0; i < j->n_parts; i++)
        j->parts[i].touched = 0, j->parts[i].count = 0;
    uint32_t cur = UINT32_MAX;
    for (uint32_t r = 0; r < n; r++) {
        const char *sym = (const char *)sc->data + sc->offsets[r];
        uint32_t len = sc->offsets[r + 1] - sc->offsets[r];
        int32_t day = (int32_t)tl_floor_div(ts[r], TL_NS_PER_DAY);
        if (cur == UINT32_MAX || j->parts[cur].day != day || j->parts[cur].sym_len != len ||
            memcmp(j->parts[cur].sym, sym, len) != 0) {
            int rc = find_or_open_part(j, sym, len, day, &cur, err);
            if (rc != TL_OK)
                return rc;
        }
        j->row_part[r] = cur;
        j->parts[cur].count++;
        j->parts[cur].touched = 1;
    }
    uint32_t n_touched = 0, only = 0;
    for (uint32_t i = 0; i < j->n_parts; i++)
        if (j->parts[i].touched)
            n_touched++, only = i;
    int rc = TL_OK;
    if (n_touched == 1) {
        rc = tl_segment_writer_append(j->parts[only].w, b, err);
    } else {
        uint32_t s = 0;
        for (uint32_t i = 0; i < j->n_parts; i++) {
            j->parts[i].start = s;
            s += j->parts[i].count;
            j->parts[i].count = 0;
        }
        for (uint32_t r = 0; r < n; r++) {
            part *p = &j->parts[j->row_part[r]];
            j->order[p->start + p->count++] = r;
        }
        for (uint32_t i = 0; i < j->n_parts && rc == TL_OK; i++) {
            part *p = &j->parts[i];
            if (!p->touched)
                continue;
            for (uint32_t c = 0; c < j->n_cols && rc == TL_OK; c++)
                rc = gather(j, b, c, j->order + p->start, p->count, err);
            if (rc != TL_OK)
                break;
            tl_batch gb = {.n_rows = p->count, .n_cols = j->n_cols, .defs = b->defs,
                           .cols = j->gathered};
            rc = tl_segment_writer_append(p->w, &gb, err);
        }
    }
    if (rc != TL_OK)
        return rc;
    /* Partitions untouched by this batch whose day the batch does not hold
     * are complete. */
    for (uint32_t i = 0; i < j->n_parts;) {
        part *p = &j->parts[i];
        int live = p->touched;
        for (uint32_t k = 0; k < j->n_parts && !live; k++)
            live = j->parts[k].touched && j->parts[k].day == p->day;
        if (live) {
            i++;
            continue;
        }
        rc = part_finish(j, i, err); /* moves the last partition to i */
        if (rc != TL_OK)
            return rc;
    }
    return TL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tl_gen_write_segments(const tl_gen_opts *o, const char *dir,
                          const tl_segment_write_opts *wo, tl_progress_fn fn,
                          void *ctx, tl_gen_report *rep, tl_error *err)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    if (!o || !dir || !*dir)
        return tl_error_set(err, TL_EINVAL, "tl_gen_write_segments: missing options or directory");
    uint64_t t0 = now_ns();
    /* the directory itself (not its parents), its entry made durable; an
     * existing directory is fine, an existing non-directory TL_EINVAL */
    int mrc = tl_io_mkdir(NULL, NULL, dir, 0755, err);
    if (mrc == TL_OK) {
        const char *slash = strrchr(dir, '/');
        char *pd = !slash ? strdup(".") : slash == dir ? strdup("/")
                                                       : strndup(dir, (size_t)(slash - dir));
        mrc = pd ? tl_io_fsync_dir(NULL, NULL, pd, err)
                 : tl_error_set(err, TL_ENOMEM, "%s: out of memory", dir);
        free(pd);
        if (mrc != TL_OK)
            return as_eio(err, mrc);
    } else if (mrc == TL_ECONFLICT) {
        struct stat st;
        if (tl_io_stat(NULL, NULL, dir, &st, err) != TL_OK)
            return as_eio(err, TL_EIO);
        if (!S_ISDIR(st.st_mode))
            return tl_error_set(err, TL_EINVAL, "%s: exists and is not a directory", dir);
    } else {
        tl_error_prefix(err, "cannot create directory: ");
        return as_eio(err, mrc);
    }

    seg_job j = {.dir = dir, .sym_col = -1, .ts_col = -1};
    tl_gen_report files = {0};
    j.rep = &files;
    if (wo)
        j.wo = *wo;
    if (!j.wo.hot_columns)
        j.wo.hot_columns = tl_ticks_hot_columns(&j.wo.n_hot);
    j.schema = tl_ticks_schema(&j.n_cols);
    for (uint32_t c = 0; c < j.n_cols; c++) {
        if (strcmp(j.schema[c].name, "symbol") == 0 && j.schema[c].type == TL_STRING)
            j.sym_col = (int)c;
        if (strcmp(j.schema[c].name, "timestamp") == 0 && j.schema[c].type == TL_TIMESTAMP)
            j.ts_col = (int)c;
    }
    if (j.sym_col < 0 || j.ts_col < 0)
        return tl_error_set(err, TL_EINVAL, "ticks schema lacks a string 'symbol' or a "
                            "timestamp 'timestamp' column");
    j.bufs = calloc(j.n_cols, sizeof *j.bufs);
    j.gathered = calloc(j.n_cols, sizeof *j.gathered);
    tl_gen *g = NULL;
    int rc = TL_OK;
    if (!j.bufs || !j.gathered)
        rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory", dir);
    if (rc == TL_OK)
        rc = tl_gen_open(o, &g, err);
    progress pr = {.fn = fn, .ctx = ctx, .last_ns = t0,
                   .total = g ? tl_gen_total_rows(g) : 0};
    uint64_t rows = 0;
    int done = 0;
    while (rc == TL_OK && !done) {
        tl_batch b;
        rc = tl_gen_next(g, GEN_BATCH_ROWS, &b, &done, err);
        if (rc != TL_OK)
            break;
        rc = route_batch(&j, &b, err);
        rows += b.n_rows;
        progress_tick(&pr, rows, 0);
    }
    while (rc == TL_OK && j.n_parts > 0)
        rc = part_finish(&j, j.n_parts - 1, err);
    /* On error: abandon what is open; finished files stay. */
    while (j.n_parts > 0) {
        tl_segment_writer_abort(j.parts[j.n_parts - 1].w);
        part_drop(&j, j.n_parts - 1);
    }
    tl_gen_close(g);
    for (uint32_t c = 0; j.bufs && c < j.n_cols; c++) {
        free(j.bufs[c].values);
        free(j.bufs[c].valid);
        free(j.bufs[c].offsets);
        free(j.bufs[c].data);
    }
    free(j.bufs);
    free(j.gathered);
    free(j.parts);
    free(j.row_part);
    free(j.order);
    if (rc != TL_OK) {
        tl_gen_report_free(&files);
        return rc;
    }
    progress_tick(&pr, rows, 1);
    if (files.n_files > 1)
        qsort(files.paths, files.n_files, sizeof *files.paths, cmp_str);
    files.n_rows = rows;
    files.bytes = j.bytes;
    files.elapsed_s = (double)(now_ns() - t0) / 1e9;
    if (rep)
        *rep = files;
    else
        tl_gen_report_free(&files);
    return TL_OK;
}
