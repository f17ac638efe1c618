/*
 * repartition.c - rewriting a table under a new partition spec and/or sort
 * key as one commit (spec/MAINT.md, MAINT-P1..P9).
 *
 * The latest snapshot's live files are read in snapshot file order, block
 * by block; each row goes to the buffer of its partition under the new spec
 * (the new symbol column's value, the UTC day of the new day column).
 * When the buffers pass max_memory, the largest is sorted by the new sort
 * key (stable, sortkey.c) and spilled as a temporary run to
 * <table>/_tmp/<uuid>/ (unsynced: never referenced by the log). At the end
 * each partition's runs, in spill order, plus its remaining rows are merged
 * (optimize.c's stable k-way merge) into data files of target rows; a
 * partition that never spilled is sorted and written directly. So the new
 * files hold, per partition, a stable sort of the partition's rows taken in
 * the old snapshot's file order (MAINT-P3).
 *
 * The commit: the new metaData (same id, schema, name and configuration; a
 * new createdTime), a remove of every live file and an add of every new one,
 * all dataChange = false, operation "REPARTITION". The removes carry their
 * old partition values only when the partition spec is unchanged (LOG-R28
 * checks a commit's removes against its own metaData). A metaData change
 * conflicts with every concurrent commit (LOG-R50): TL_ECONFLICT, nothing
 * visible. The scratch directory is removed on success and on failure;
 * final files are unlinked on failure unless the commit's outcome is
 * unknown (TL_EIO: orphans for vacuum, LOG-C6).
 */
#include "optimize_int.h"

#include "delta_read_int.h"
#include "sortkey_int.h"
#include "util_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define DEFAULT_MAX_MEMORY ((size_t)256 << 20)
#define MAX_TARGET_ROWS ((uint64_t)1 << 31)
#define NS_PER_DAY INT64_C(86400000000000)
#define SPILL_ROWS_MAX ((uint32_t)1 << 30)

typedef struct run {
    char *path;
    int64_t rows;
} run;

typedef struct rpart {
    uint64_t hash;
    tl_log_pvals pv;
    char *sym;
    tl_cbuf buf;
    int buf_init;
    run *runs;
    size_t n_runs, cap_runs;
} rpart;

typedef struct rctx {
    tl_table *t;
    const tl_repartition_opts *o;
    tl_log_metadata nm; /* the new metaData */
    uint32_t nf;
    tl_coldef *defs;
    tlf_col_opts *col_opts;
    uint32_t *key;
    uint32_t n_key;
    int sym_col, day_col;
    char *tmp_dir;
    rpart **parts;
    size_t n_parts, cap_parts;
    size_t *slots;
    size_t cap_slots;
    size_t budget;
    /* scratch */
    uint32_t *pid;
    size_t cap_pid;
    uint32_t *idx, *cnt;
    size_t cap_idx, cap_cnt;
    uint32_t *perm;
    size_t cap_perm;
    tl_sort_scratch sort;
    tl_sortcol *keys;
    tl_cbuf chunk;
    tl_mw tmp, out;
    int tmp_init, out_init;
    uint64_t total, done;
    double last_progress;
    uint64_t runs_spilled;
} rctx;

static int64_t floor_day(int64_t ns)
{
    int64_t d = ns / NS_PER_DAY;
    return (ns % NS_PER_DAY < 0) ? d - 1 : d;
}

static void progress(rctx *c, uint64_t add)
{
    c->done += add;
    if (!c->o->progress)
        return;
    double now = tl_maint_now_s();
    if (now - c->last_progress >= 0.1) {
        c->last_progress = now;
        c->o->progress(c->o->progress_ctx, c->done, c->total);
    }
}

static void rpart_free(rpart *p)
{
    if (!p)
        return;
    free(p->sym);
    tl_cbuf_free(&p->buf);
    for (size_t i = 0; i < p->n_runs; i++)
        free(p->runs[i].path);
    free(p->runs);
    free(p);
}

static uint64_t phash(int snull, const char *s, uint32_t len, int dnull, int32_t day)
{
    uint64_t h = snull ? UINT64_C(0x9E3779B97F4A7C15) : XXH3_64bits(s, len);
    return h ^ ((uint64_t)(uint32_t)day * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ (uint64_t)dnull;
}

static int slots_rebuild(rctx *c, size_t cap, tl_error *err)
{
    size_t *s = calloc(cap, sizeof *s);
    if (!s)
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
    for (size_t i = 0; i < c->n_parts; i++) {
        size_t h = (size_t)c->parts[i]->hash & (cap - 1);
        while (s[h])
            h = (h + 1) & (cap - 1);
        s[h] = i + 1;
    }
    free(c->slots);
    c->slots = s;
    c->cap_slots = cap;
    return TL_OK;
}

/* The partition of (symbol, day) under the new spec, created on first use. */
static int part_get(rctx *c, int snull, const char *sym, uint32_t len, int dnull, int32_t day,
                    uint32_t *out, tl_error *err)
{
    int has_s = c->sym_col >= 0, has_d = c->day_col >= 0;
    if (!has_s)
        snull = 0, len = 0, sym = "";
    if (!has_d)
        dnull = 0, day = 0;
    uint64_t h = phash(snull, sym, len, dnull, day);
    if (c->cap_slots) {
        size_t i = (size_t)h & (c->cap_slots - 1);
        while (c->slots[i]) {
            rpart *p = c->parts[c->slots[i] - 1];
            if (p->hash == h && p->pv.symbol_null == snull && p->pv.date_null == dnull &&
                (!has_d || dnull || p->pv.date == day) &&
                (!has_s || snull || (strlen(p->sym) == len && memcmp(p->sym, sym, len) == 0))) {
                *out = (uint32_t)(c->slots[i] - 1);
                return TL_OK;
            }
            i = (i + 1) & (c->cap_slots - 1);
        }
    }
    if (tl_grow((void **)&c->parts, &c->cap_parts, (c->n_parts + 1) * sizeof *c->parts))
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
    rpart *p = calloc(1, sizeof *p);
    if (!p || !(p->sym = malloc((size_t)len + 1))) {
        free(p);
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
    }
    memcpy(p->sym, sym, len);
    p->sym[len] = '\0';
    p->hash = h;
    p->pv = (tl_log_pvals){.has_symbol = has_s, .symbol_null = snull,
                           .symbol = has_s && !snull ? p->sym : NULL, .has_date = has_d,
                           .date_null = dnull, .date = day};
    int rc = tl_cbuf_init(&p->buf, c->defs, c->nf, err);
    if (rc) {
        rpart_free(p);
        return rc;
    }
    p->buf_init = 1;
    c->parts[c->n_parts++] = p;
    if (c->n_parts * 2 > c->cap_slots) {
        rc = slots_rebuild(c, c->cap_slots ? c->cap_slots * 2 : 64, err);
        if (rc)
            return rc;
    } else {
        size_t i = (size_t)h & (c->cap_slots - 1);
        while (c->slots[i])
            i = (i + 1) & (c->cap_slots - 1);
        c->slots[i] = c->n_parts;
    }
    *out = (uint32_t)(c->n_parts - 1);
    return TL_OK;
}

/* Sort p's buffered rows by the new key and write them through mw. */
static int write_sorted(rctx *c, rpart *p, tl_mw *mw, tl_error *err)
{
    uint32_t n = p->buf.n;
    if (n == 0)
        return TL_OK;
    const tl_colvec *v = tl_cbuf_cols(&p->buf);
    if (tl_grow((void **)&c->perm, &c->cap_perm, (size_t)n * sizeof *c->perm))
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory (%u rows to sort)", n);
    for (uint32_t k = 0; k < c->n_key; k++)
        c->keys[k] = (tl_sortcol){c->defs[c->key[k]].type, v[c->key[k]]};
    int ident = 0;
    int rc = tl_sort_perm(c->keys, c->n_key, n, c->perm, &ident, &c->sort, err);
    if (rc)
        return rc;
    for (uint32_t off = 0; off < n; off += TL_MERGE_OUT_ROWS) {
        uint32_t k = n - off < TL_MERGE_OUT_ROWS ? n - off : TL_MERGE_OUT_ROWS;
        const tl_colvec *w;
        if (ident) {
            tl_cbuf_reset(&c->chunk);
            rc = tl_cbuf_append_range(&c->chunk, v, off, k, err);
        } else {
            tl_cbuf_reset(&c->chunk);
            rc = tl_cbuf_append_idx(&c->chunk, v, c->perm + off, k, err);
        }
        if (rc)
            return rc;
        w = tl_cbuf_cols(&c->chunk);
        rc = tl_mw_write(mw, w, k, err);
        if (rc)
            return rc;
        if (mw == &c->out)
            progress(c, k);
    }
    return TL_OK;
}

/* Spill p's rows as a sorted run; frees its buffers. */
static int spill(rctx *c, rpart *p, tl_error *err)
{
    if (p->buf.n == 0)
        return TL_OK;
    size_t before = c->tmp.n_files;
    int rc = write_sorted(c, p, &c->tmp, err);
    if (!rc)
        rc = tl_mw_finish_file(&c->tmp, err);
    if (rc)
        return rc;
    if (c->tmp.n_files != before + 1)
        return tl_error_set(err, TL_EINVAL, "repartition: a run split into several files");
    if (tl_grow((void **)&p->runs, &p->cap_runs, (p->n_runs + 1) * sizeof *p->runs))
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
    tl_mw_file *f = &c->tmp.files[before];
    p->runs[p->n_runs++] = (run){f->path, f->rows};
    f->path = NULL;
    free(f->sym);
    c->tmp.n_files = before;
    c->runs_spilled++;
    tl_cbuf_free(&p->buf);
    return tl_cbuf_init(&p->buf, c->defs, c->nf, err);
}

static size_t mem_total(const rctx *c)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n_parts; i++)
        m += tl_cbuf_mem(&c->parts[i]->buf);
    return m;
}

/* Route the n rows of a block to their partitions. */
static int route(rctx *c, const char *file, const tl_colvec *v, uint32_t n, tl_error *err)
{
    if (tl_grow((void **)&c->pid, &c->cap_pid, (size_t)n * sizeof *c->pid))
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
    const tl_colvec *sv = c->sym_col >= 0 ? &v[c->sym_col] : NULL;
    const tl_colvec *dv = c->day_col >= 0 ? &v[c->day_col] : NULL;
    int last_ok = 0, l_sn = 0, l_dn = 0;
    const char *l_s = NULL;
    uint32_t l_len = 0, l_pid = 0;
    int32_t l_day = 0;
    int single = 1;
    for (uint32_t r = 0; r < n; r++) {
        int sn = sv && sv->validity && !tl_bit_get(sv->validity, r);
        const char *s = "";
        uint32_t len = 0;
        if (sv && !sn) {
            s = (const char *)sv->data + sv->offsets[r];
            len = sv->offsets[r + 1] - sv->offsets[r];
        }
        int dn = dv && dv->validity && !tl_bit_get(dv->validity, r);
        int32_t day = 0;
        if (dv && !dn)
            day = (int32_t)floor_day(((const int64_t *)dv->values)[r]);
        if (last_ok && sn == l_sn && dn == l_dn && day == l_day && len == l_len &&
            (len == 0 || memcmp(s, l_s, len) == 0)) {
            c->pid[r] = l_pid;
            continue;
        }
        if (sv && !sn && (len > TL_LOG_MAX_SYMBOL || memchr(s, 0, len) ||
                          tl_utf8_bad((const uint8_t *)s, len) < len))
            return tl_error_set(err, TL_EINVAL,
                                "repartition %s: %s: column '%s', row %u of a block: a symbol "
                                "partition value must be valid UTF-8 without NUL, at most %d "
                                "bytes (got %u bytes)",
                                c->t->path, file, c->defs[c->sym_col].name, r, TL_LOG_MAX_SYMBOL,
                                len);
        if (dv && !dn && (day < TL_LOG_DAY_MIN || day > TL_LOG_DAY_MAX))
            return tl_error_set(err, TL_EINVAL, "repartition %s: %s: day %d out of range",
                                c->t->path, file, (int)day);
        int rc = part_get(c, sn, s, len, dn, day, &c->pid[r], err);
        if (rc)
            return rc;
        if (r && c->pid[r] != c->pid[0])
            single = 0;
        last_ok = 1, l_sn = sn, l_dn = dn, l_day = day, l_s = s, l_len = len, l_pid = c->pid[r];
    }
    for (uint32_t r = 1; single && r < n; r++)
        single = c->pid[r] == c->pid[0];
    if (single)
        return tl_cbuf_append_range(&c->parts[c->pid[0]]->buf, v, 0, n, err);
    /* counting sort of the rows by partition, keeping row order */
    size_t np = c->n_parts;
    if (tl_grow((void **)&c->cnt, &c->cap_cnt, (np + 1) * sizeof *c->cnt) ||
        tl_grow((void **)&c->idx, &c->cap_idx, (size_t)n * sizeof *c->idx))
        return tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
    memset(c->cnt, 0, (np + 1) * sizeof *c->cnt);
    for (uint32_t r = 0; r < n; r++)
        c->cnt[c->pid[r] + 1]++;
    for (size_t q = 0; q < np; q++)
        c->cnt[q + 1] += c->cnt[q];
    for (uint32_t r = 0; r < n; r++)
        c->idx[c->cnt[c->pid[r]]++] = r;
    uint32_t lo = 0;
    for (size_t q = 0; q < np; q++) {
        uint32_t hi = c->cnt[q];
        if (hi > lo) {
            int rc = tl_cbuf_append_idx(&c->parts[q]->buf, v, c->idx + lo, hi - lo, err);
            if (rc)
                return rc;
        }
        lo = hi;
    }
    return TL_OK;
}

static int cmp_part(const void *x, const void *y)
{
    const rpart *a = *(rpart *const *)x, *b = *(rpart *const *)y;
    if (a->pv.has_symbol) {
        if (a->pv.symbol_null != b->pv.symbol_null)
            return a->pv.symbol_null ? -1 : 1;
        if (!a->pv.symbol_null) {
            int c = strcmp(a->sym, b->sym);
            if (c)
                return c;
        }
    }
    if (a->pv.has_date) {
        if (a->pv.date_null != b->pv.date_null)
            return a->pv.date_null ? -1 : 1;
        if (!a->pv.date_null && a->pv.date != b->pv.date)
            return a->pv.date < b->pv.date ? -1 : 1;
    }
    return 0;
}

static int cmp_add(const void *x, const void *y)
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

static int mw_out(void *ctx, const tl_colvec *cols, uint32_t n, tl_error *err)
{
    rctx *c = ctx;
    int rc = tl_mw_write(&c->out, cols, n, err);
    if (!rc)
        progress(c, n);
    return rc;
}

/* The new metaData from o (MAINT-P1), checked like a table spec. */
static int new_meta(const tl_table *t, const tl_log_metadata *m, const tl_repartition_opts *o,
                    tl_log_metadata *nm, tl_error *err)
{
    *nm = *m;
    if ((o->no_symbol && o->symbol_column) || (o->no_day && o->day_column))
        return tl_error_set(err, TL_EINVAL,
                            "repartition %s: both a new %s column and none were asked for",
                            t->path, o->no_symbol && o->symbol_column ? "symbol" : "day");
    if (o->no_symbol)
        nm->part_symbol_col = NULL;
    else if (o->symbol_column)
        nm->part_symbol_col = o->symbol_column;
    if (o->no_day)
        nm->part_day_col = NULL;
    else if (o->day_column)
        nm->part_day_col = o->day_column;
    if (o->set_sort_key) {
        static const char *const none[1] = {NULL};
        nm->sort_key = (tl_log_strs){o->n_sort_key ? o->sort_key : none, o->n_sort_key};
    }
    if (nm->part_symbol_col) {
        int k = tl_table_meta_col(m, nm->part_symbol_col);
        if (k < 0)
            return tl_error_set(err, TL_EINVAL,
                                "repartition %s: symbol partition column '%s' is not in the schema",
                                t->path, nm->part_symbol_col);
        if (m->fields[k].type != TL_STRING)
            return tl_error_set(err, TL_EINVAL,
                                "repartition %s: symbol partition column '%s' is %s, expected "
                                "string",
                                t->path, nm->part_symbol_col, tl_type_name(m->fields[k].type));
    }
    if (nm->part_day_col) {
        int k = tl_table_meta_col(m, nm->part_day_col);
        if (k < 0)
            return tl_error_set(err, TL_EINVAL,
                                "repartition %s: day partition column '%s' is not in the schema",
                                t->path, nm->part_day_col);
        if (m->fields[k].type != TL_TIMESTAMP)
            return tl_error_set(err, TL_EINVAL,
                                "repartition %s: day partition column '%s' is %s, expected "
                                "timestamp",
                                t->path, nm->part_day_col, tl_type_name(m->fields[k].type));
    }
    if (nm->sort_key.n > m->n_fields)
        return tl_error_set(err, TL_EINVAL, "repartition %s: a sort key of %u columns, the table "
                            "has %u",
                            t->path, nm->sort_key.n, m->n_fields);
    for (uint32_t i = 0; i < nm->sort_key.n; i++) {
        const char *s = nm->sort_key.s[i];
        if (!s || tl_table_meta_col(m, s) < 0)
            return tl_error_set(err, TL_EINVAL,
                                "repartition %s: sort key column '%s' is not in the schema",
                                t->path, s ? s : "(null)");
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(s, nm->sort_key.s[j]) == 0)
                return tl_error_set(err, TL_EINVAL, "repartition %s: sort key names '%s' twice",
                                    t->path, s);
    }
    return TL_OK;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int tl_table_repartition(tl_table *t, const tl_repartition_opts *o, tl_repartition_result *res,
                         tl_error *err)
{
    tl_repartition_result r0 = {0};
    tl_repartition_result *r = res ? res : &r0;
    memset(r, 0, sizeof *r);
    r->version = r->read_version = -1;
    double t0 = tl_maint_now_s();
    if (!t)
        return tl_error_set(err, TL_EINVAL, "repartition: no table");
    tl_repartition_opts def = {0};
    if (!o)
        o = &def;
    if (t->delta)
        return tl_error_set(err, TL_EUNSUPPORTED, "repartition %s: " TL_DELTA_READ_ONLY_FMT,
                            t->path, t->path);
    uint64_t target = o->target_rows ? o->target_rows : TL_OPTIMIZE_DEFAULT_TARGET_ROWS;
    if (target > MAX_TARGET_ROWS)
        return tl_error_set(err, TL_EINVAL,
                            "repartition %s: target rows %" PRIu64 " (expected 1 .. 2^31)",
                            t->path, target);
    r->dry_run = o->dry_run != 0;
    rctx c = {.t = t, .o = o, .sym_col = -1, .day_col = -1};
    c.budget = o->max_memory ? o->max_memory : DEFAULT_MAX_MEMORY;
    tl_log_snapshot snap = {0};
    const tl_log_add **adds = NULL;
    tl_log_action *acts = NULL;
    tl_msrc *srcs = NULL;
    int rc, keep = 0; /* keep: the commit may be visible (LOG-R46/R47) */
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    rc = tl_log_snapshot_load(&t->root, &so, &snap, err);
    if (rc) {
        tl_error_prefix(err, "repartition %s: ", t->path);
        goto out;
    }
    const tl_log_metadata *m = snap.meta;
    r->read_version = snap.version;
    rc = new_meta(t, m, o, &c.nm, err);
    if (rc)
        goto out;
    int spec_same = same_str(m->part_symbol_col, c.nm.part_symbol_col) &&
                    same_str(m->part_day_col, c.nm.part_day_col);
    int key_same = m->sort_key.n == c.nm.sort_key.n;
    for (uint32_t i = 0; key_same && i < m->sort_key.n; i++)
        key_same = strcmp(m->sort_key.s[i], c.nm.sort_key.s[i]) == 0;
    /* the old state */
    size_t n_adds = tl_log_snapshot_n_live(&snap), cur = 0, k = 0;
    adds = malloc((n_adds ? n_adds : 1) * sizeof *adds);
    if (!adds) {
        rc = tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
        goto out;
    }
    const tl_log_add *a;
    while ((a = tl_log_snapshot_live_next(&snap, &cur)) != NULL)
        adds[k++] = a;
    qsort(adds, n_adds, sizeof *adds, cmp_add);
    for (size_t i = 0; i < n_adds; i++) {
        r->rows += (uint64_t)adds[i]->n_rows;
        r->bytes_removed += (uint64_t)adds[i]->size_bytes;
        /* partitions: a new one where the partition values change */
        const tl_log_add *p = adds[i], *q = i ? adds[i - 1] : NULL;
        int same = q && q->part.symbol_null == p->part.symbol_null &&
                   q->part.date_null == p->part.date_null &&
                   (!p->part.has_symbol || p->part.symbol_null ||
                    strcmp(q->part.symbol, p->part.symbol) == 0) &&
                   (!p->part.has_date || p->part.date_null || q->part.date == p->part.date);
        r->partitions_before += !same;
    }
    r->files_removed = n_adds;
    if (spec_same && key_same) {
        r->unchanged = 1;
        r->files_removed = r->bytes_removed = 0;
        goto out;
    }
    if (o->dry_run)
        goto out;

    /* columns of the new layout */
    c.nf = m->n_fields;
    c.defs = calloc(c.nf, sizeof *c.defs);
    c.col_opts = calloc(c.nf, sizeof *c.col_opts);
    c.key = calloc(c.nm.sort_key.n + 1, sizeof *c.key);
    c.keys = calloc(c.nm.sort_key.n + 1, sizeof *c.keys);
    srcs = calloc(n_adds ? n_adds : 1, sizeof *srcs);
    if (!c.defs || !c.col_opts || !c.key || !c.keys || !srcs) {
        rc = tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
        goto out;
    }
    tl_table_writer_cols(&c.nm, c.defs, c.col_opts);
    for (uint32_t i = 0; i < c.nm.sort_key.n; i++)
        c.key[c.n_key++] = (uint32_t)tl_table_meta_col(m, c.nm.sort_key.s[i]);
    c.sym_col = c.nm.part_symbol_col ? tl_table_meta_col(m, c.nm.part_symbol_col) : -1;
    c.day_col = c.nm.part_day_col ? tl_table_meta_col(m, c.nm.part_day_col) : -1;
    if ((rc = tl_cbuf_init(&c.chunk, c.defs, c.nf, err)) != TL_OK)
        goto out;
    if ((rc = tl_maint_tmp_create(t, &c.tmp_dir, err)) != TL_OK)
        goto out;
    if ((rc = tl_mw_init(&c.tmp, t, c.defs, c.col_opts, c.nf, -1, 1, UINT64_MAX, err)) != TL_OK)
        goto out;
    c.tmp_init = 1;
    if ((rc = tl_mw_set_part(&c.tmp, c.tmp_dir, NULL, err)) != TL_OK)
        goto out;
    if ((rc = tl_mw_init(&c.out, t, c.defs, c.col_opts, c.nf, c.day_col, 0, target, err)) !=
        TL_OK)
        goto out;
    c.out_init = 1;
    c.total = 2 * r->rows; /* read, then written */

    /* phase 1: route every row; spill sorted runs past the budget */
    tl_merge_spec ms = {t, c.defs, c.nf, c.key, c.n_key, c.col_opts, c.budget, c.tmp_dir,
                        NULL, NULL};
    for (size_t i = 0; i < n_adds && !rc; i++) {
        srcs[i] = (tl_msrc){adds[i]->path, adds[i]->size_bytes, adds[i]->n_rows};
        tl_mreader *rd = NULL;
        rc = tl_mreader_open(&ms, &srcs[i], &rd, err);
        while (!rc) {
            const tl_colvec *v;
            uint32_t n;
            rc = tl_mreader_next(rd, &v, &n, err);
            if (rc || n == 0)
                break;
            rc = route(&c, adds[i]->path, v, n, err);
            if (rc)
                break;
            progress(&c, n);
            while (!rc && mem_total(&c) > c.budget) {
                rpart *big = NULL;
                for (size_t q = 0; q < c.n_parts; q++)
                    if (c.parts[q]->buf.n &&
                        (!big || tl_cbuf_mem(&c.parts[q]->buf) > tl_cbuf_mem(&big->buf)))
                        big = c.parts[q];
                if (!big)
                    break;
                rc = spill(&c, big, err);
            }
            for (size_t q = 0; !rc && q < c.n_parts; q++)
                if (c.parts[q]->buf.n >= SPILL_ROWS_MAX)
                    rc = spill(&c, c.parts[q], err);
        }
        tl_mreader_close(rd);
    }
    if (rc)
        goto out;

    /* phase 2: per new partition, in partition order: sort or merge its runs */
    qsort(c.parts, c.n_parts, sizeof *c.parts, cmp_part);
    free(c.slots); /* indexes are stale after the sort */
    c.slots = NULL;
    c.cap_slots = 0;
    for (size_t q = 0; q < c.n_parts && !rc; q++) {
        rpart *p = c.parts[q];
        char dir[TL_TABLE_PART_DIR_MAX];
        rc = tl_table_part_dir(&c.nm, &p->pv, dir, sizeof dir, err);
        if (!rc)
            rc = tl_mw_set_part(&c.out, dir, &p->pv, err);
        if (rc)
            break;
        if (p->n_runs == 0) {
            rc = write_sorted(&c, p, &c.out, err);
        } else {
            if (p->buf.n)
                rc = spill(&c, p, err);
            tl_msrc *rs = rc ? NULL : calloc(p->n_runs, sizeof *rs);
            if (!rc && !rs)
                rc = tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
            for (size_t i = 0; !rc && i < p->n_runs; i++)
                rs[i] = (tl_msrc){p->runs[i].path, -1, p->runs[i].rows};
            if (!rc)
                rc = tl_merge_run(&ms, rs, p->n_runs, mw_out, &c, NULL, err);
            free(rs);
            for (size_t i = 0; i < p->n_runs; i++)
                if (tl_io_unlink(t->io, &t->root, p->runs[i].path, NULL)) { /* best effort */
                }
        }
        if (!rc)
            rc = tl_mw_finish_file(&c.out, err);
        tl_cbuf_free(&p->buf);
    }
    if (!rc)
        rc = tl_mw_sync_dirs(&c.out, err); /* LOG-R41 */
    if (rc)
        goto out;

    /* the commit */
    size_t na = 1 + n_adds + c.out.n_files;
    acts = calloc(na, sizeof *acts);
    if (!acts) {
        rc = tl_error_set(err, TL_ENOMEM, "repartition: out of memory");
        goto out;
    }
    c.nm.created_ms = tl_table_now_ms(t);
    acts[0].kind = TL_LOG_METADATA;
    acts[0].u.meta = c.nm;
    size_t ka = 1;
    for (size_t i = 0; i < n_adds; i++, ka++) {
        acts[ka].kind = TL_LOG_REMOVE;
        acts[ka].u.rm = (tl_log_remove){.path = adds[i]->path, .data_change = 0,
                                        .has_part = spec_same, .has_size = 1, .has_n_rows = 1,
                                        .part = adds[i]->part, .size_bytes = adds[i]->size_bytes,
                                        .n_rows = adds[i]->n_rows};
    }
    for (size_t f = 0; f < c.out.n_files; f++, ka++) {
        const tl_mw_file *mf = &c.out.files[f];
        tl_log_add *ad = &acts[ka].u.add;
        acts[ka].kind = TL_LOG_ADD;
        *ad = (tl_log_add){.path = mf->path, .part = mf->pv, .size_bytes = mf->size,
                           .n_rows = mf->rows, .mtime_ms = mf->mtime, .data_change = 0,
                           .has_stats = 1};
        ad->stats = (tl_log_stats){mf->st.has_time_range, mf->st.first_ts, mf->st.last_ts,
                                   mf->st.cs, c.nf};
    }
    char p_part[2100], p_sort[8192], p_rows[24];
    int pl = 0;
    if (c.nm.part_symbol_col)
        pl = snprintf(p_part, sizeof p_part, "%.1000s", c.nm.part_symbol_col);
    if (c.nm.part_day_col)
        snprintf(p_part + pl, sizeof p_part - (size_t)pl, "%sday(%.1000s)", pl ? "," : "",
                 c.nm.part_day_col);
    if (!c.nm.part_symbol_col && !c.nm.part_day_col)
        p_part[0] = '\0';
    size_t sl = 0;
    p_sort[0] = '\0';
    for (uint32_t i = 0; i < c.nm.sort_key.n && sl + 2 < sizeof p_sort; i++) {
        int w = snprintf(p_sort + sl, sizeof p_sort - sl, "%s%s", i ? "," : "",
                         c.nm.sort_key.s[i]);
        if (w < 0 || (size_t)w >= sizeof p_sort - sl)
            break;
        sl += (size_t)w;
    }
    snprintf(p_rows, sizeof p_rows, "%" PRIu64, r->rows);
    tl_log_kv kv[3] = {{"partitionBy", p_part}, {"sortBy", p_sort}, {"rows", p_rows}};
    tl_log_write_opts wo = {.io = t->io, .now_ms = t->now_ms, .now_arg = t->now_arg,
                            .operation = "REPARTITION", .op_params = {kv, 3}, .snap = &snap};
    tl_log_write_result wr;
    rc = tl_log_write(&t->root, snap.version, acts, (uint32_t)na, &wo, &wr, err);
    if (rc) {
        keep = wr.maybe_visible; /* LOG-R46/R47: its files stay */
        tl_error_prefix(err, "repartition %s: ", t->path);
        goto out;
    }
    r->version = wr.version;
    r->committed = 1;
    r->files_added = c.out.n_files;
    r->bytes_added = c.out.bytes;
    r->partitions_after = c.n_parts;
    if (o->progress)
        o->progress(o->progress_ctx, c.total, c.total);
out:
    if (rc && err && !strstr(err->msg, t->path)) /* every error names the table */
        tl_error_prefix(err, "repartition %s: ", t->path);
    r->runs_spilled = c.runs_spilled;
    if (rc && c.out_init && !keep)
        tl_mw_drop_files(&c.out, 0);
    if (c.tmp_init) {
        tl_mw_drop_files(&c.tmp, 0);
        tl_mw_free(&c.tmp);
    }
    if (c.out_init)
        tl_mw_free(&c.out);
    for (size_t q = 0; q < c.n_parts; q++) {
        for (size_t i = 0; i < c.parts[q]->n_runs; i++)
            if (tl_io_unlink(t->io, &t->root, c.parts[q]->runs[i].path, NULL)) {
            }
        rpart_free(c.parts[q]);
    }
    free(c.parts);
    free(c.slots);
    if (c.tmp_dir)
        tl_maint_tmp_remove(t, c.tmp_dir);
    free(c.tmp_dir);
    free(c.pid);
    free(c.idx);
    free(c.cnt);
    free(c.perm);
    tl_sort_scratch_free(&c.sort);
    free(c.keys);
    tl_cbuf_free(&c.chunk);
    free(c.defs);
    free(c.col_opts);
    free(c.key);
    free(acts);
    free(srcs);
    free(adds);
    tl_log_snapshot_free(&snap);
    r->elapsed_s = tl_maint_now_s() - t0;
    r->rows_per_s = r->committed && r->elapsed_s > 0 ? (double)r->rows / r->elapsed_s : 0;
    return rc;
}
