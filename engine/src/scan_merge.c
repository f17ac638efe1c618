/*
 * scan_merge.c - ordered scans of a partition with several kept data files:
 * a streaming k-way merge by the table's full sort key (spec/SCAN.md 4),
 * or, when the files' key ranges follow one another (first and last kept
 * key of each file, read first: SCAN-S23), the files streamed one after
 * another through the single-file path - the same output without a merge.
 *
 * Order: nulls first; signed and unsigned integers, dates and timestamps
 * numerically; floats numerically (-0.0 equals +0.0) with NaN last;
 * strings bytewise (memcmp, a proper prefix first) - the files have
 * different dictionaries, so bytes are compared, never codes. Ties go to
 * the earlier file in snapshot order, and each file is read in its stored
 * order, so the output is exactly a stable sort of the concatenation of the
 * partition's files in file order.
 *
 * Memory is bounded: one decoded row block per input file (its cursor) plus
 * one output block of at most TL_SCAN_MERGE_ROWS rows per column. Rows are
 * copied in bulk: the active cursors are kept sorted by their heads (a
 * cursor whose head moved is re-inserted by bisection); while one cursor is
 * the smallest, a galloping search finds how many of its rows come before
 * the next cursor's head, and those rows are
 * copied at once.
 *
 * Row blocks whose zone maps prove no row matches are dropped from the
 * inputs before merging (the selected rows and their order are the same;
 * merged row numbers count only the rows delivered). Inputs are decoded
 * zero copy only with MMAP (the mapping outlives the block); with URING and
 * PREAD each input block is read, decoded into the cursor's buffers and its
 * batch released, so at most one batch is outstanding.
 */
#include "scan_int.h"
#include "sortkey_int.h"

#include "util_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A copy of one row's sort-key values, as one-row vectors (key slots
 * only), so rows of different files compare with cmp_vecs. */
typedef struct ktup {
    tl_colvec *vec;      /* n_slots */
    tl_scan_runval *val; /* n_slots: the bytes */
    uint8_t *valid;      /* n_slots: bit 0 */
    uint32_t *offs;      /* 2 per slot: {0, len} */
} ktup;

typedef struct mcur {
    tl_scan_file f;
    tl_scan_buf *bufs; /* n_slots */
    tl_colvec *vec;    /* n_slots */
    uint32_t bi;       /* index into f.blocks */
    uint32_t n, pos;   /* rows of the decoded block, next row */
    uint32_t order;    /* file order within the unit */
    int active;
    uint32_t *rends;   /* run ends of the decoded block (last = n) */
    size_t rends_cap;
    uint32_t n_rends;
    uint32_t ri;       /* first run end > pos */
    ktup first, last;  /* sort-key tuples of the first and last kept rows */
} mcur;

typedef struct mstate {
    mcur *c;
    size_t cap_c;     /* cursors allocated */
    tl_scan_buf *out; /* n_slots */
    uint8_t *has_null;
    size_t *data_len;
    uint32_t out_n;
    mcur **ord;       /* active cursors by head */
    tl_scan_runval *lastv; /* n_run: run values of the last row delivered */
    int have_lastv;
    int out_continues; /* "continues" of the output block being built */
    uint32_t *ends;   /* run ends of the output block so far (starts > 0) */
    size_t ends_cap;
    uint32_t n_ends;
    size_t *seq;      /* files that follow one another, in order */
    size_t seq_cap;
} mstate;

static void cur_free(mcur *c, uint32_t n_slots)
{
    tl_scan_file_free(&c->f);
    if (c->bufs)
        for (uint32_t k = 0; k < n_slots; k++) {
            free(c->bufs[k].buf);
            free(c->bufs[k].data);
            free(c->bufs[k].valid);
        }
    free(c->bufs);
    free(c->vec);
    free(c->rends);
    ktup *t[2] = {&c->first, &c->last};
    for (int j = 0; j < 2; j++) {
        for (uint32_t k = 0; t[j]->val && k < n_slots; k++)
            free(t[j]->val[k].s);
        free(t[j]->vec);
        free(t[j]->val);
        free(t[j]->valid);
        free(t[j]->offs);
    }
}

void tl_scan_merge_free(tl_scan_worker *w)
{
    mstate *m = w->merge;
    if (!m)
        return;
    uint32_t ns = w->p->n_slots;
    for (size_t i = 0; i < m->cap_c; i++)
        cur_free(&m->c[i], ns);
    free(m->c);
    free(m->ord);
    if (m->lastv)
        for (uint32_t r = 0; r < w->p->n_run; r++)
            free(m->lastv[r].s);
    free(m->lastv);
    if (m->out)
        for (uint32_t k = 0; k < ns; k++) {
            free(m->out[k].buf);
            free(m->out[k].data);
            free(m->out[k].valid);
        }
    free(m->out);
    free(m->has_null);
    free(m->data_len);
    free(m->ends);
    free(m->seq);
    free(m);
    w->merge = NULL;
}

static int merge_init(tl_scan_worker *w, size_t n_files, tl_error *err)
{
    uint32_t ns = w->p->n_slots ? w->p->n_slots : 1;
    mstate *m = w->merge;
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m)
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge)");
        w->merge = m;
        m->out = calloc(ns, sizeof *m->out);
        m->has_null = calloc(ns, 1);
        m->data_len = calloc(ns, sizeof *m->data_len);
        m->lastv = calloc(w->p->n_run ? w->p->n_run : 1, sizeof *m->lastv);
        if (!m->out || !m->has_null || !m->data_len || !m->lastv)
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge)");
    }
    if (n_files > m->cap_c) {
        mcur *c = realloc(m->c, n_files * sizeof *c);
        if (!c)
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge)");
        memset(c + m->cap_c, 0, (n_files - m->cap_c) * sizeof *c);
        m->c = c;
        mcur **ord = realloc(m->ord, n_files * sizeof *ord);
        if (!ord)
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge)");
        m->ord = ord;
        for (size_t i = m->cap_c; i < n_files; i++) {
            c[i].bufs = calloc(ns, sizeof *c[i].bufs);
            c[i].vec = calloc(ns, sizeof *c[i].vec);
            int ok = c[i].bufs && c[i].vec;
            ktup *t[2] = {&c[i].first, &c[i].last};
            for (int j = 0; j < 2; j++) {
                t[j]->vec = calloc(ns, sizeof *t[j]->vec);
                t[j]->val = calloc(ns, sizeof *t[j]->val);
                t[j]->valid = calloc(ns, 1);
                t[j]->offs = calloc(2 * (size_t)ns, sizeof *t[j]->offs);
                ok = ok && t[j]->vec && t[j]->val && t[j]->valid && t[j]->offs;
            }
            if (!ok) {
                m->cap_c = i + 1;
                return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge)");
            }
        }
        m->cap_c = n_files;
    }
    return TL_OK;
}

/* Read and decode the cursor's current row block (every slot). */
static int cur_load(tl_scan_worker *w, mcur *c, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    uint32_t blk = c->f.blocks[c->bi];
    uint32_t ns = p->n_slots;
    if (tl_grow((void **)&w->ranges[0], &w->ranges_cap[0], (ns ? ns : 1) * sizeof(tl_bio_range)))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory (ranges)");
    for (uint32_t k = 0; k < ns; k++) {
        const tlf_block_info *bi = tl_scan_blockinfo(&c->f, k, blk);
        w->ranges[0][k] = (tl_bio_range){bi->offset, bi->length, NULL};
    }
    tl_bio_batch *bt = NULL;
    int rc = TL_OK;
    if (ns) {
        rc = tl_bio_submit(w->bio, c->f.bf, w->ranges[0], ns, &bt, err);
        if (!rc)
            rc = tl_bio_wait(bt, err);
        if (rc)
            tl_error_prefix(err, "table %s: ", p->t->path);
    }
    int zero_copy = tl_bio_mode(w->bio) == TL_IO_MMAP;
    for (uint32_t k = 0; k < ns && !rc; k++)
        rc = tl_scan_decode(w, &c->f, k, blk, w->ranges[0][k].data, zero_copy, &c->bufs[k],
                            &c->vec[k], err);
    c->n = tlf_seg_block(c->f.seg, 0, blk)->n_rows;
    c->pos = 0;
    c->ri = 0;
    /* the block's own runs, once (stored runs where possible) */
    const uint32_t *ends = NULL;
    uint32_t nr = 0;
    if (!rc)
        rc = tl_scan_runs_of(w, &c->f, blk, c->vec, w->ranges[0], c->n, &ends, &nr, err);
    if (!rc && tl_grow((void **)&c->rends, &c->rends_cap, ((size_t)nr + 1) * sizeof *c->rends))
        rc = tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge runs)");
    if (!rc) {
        if (nr)
            memcpy(c->rends, ends, (size_t)nr * sizeof *ends);
        c->n_rends = nr;
    }
    tl_bio_release(bt);
    return rc;
}

static int cur_advance(tl_scan_worker *w, mcur *c, tl_error *err)
{
    while (++c->bi < c->f.n_blocks) {
        int rc = cur_load(w, c, err);
        if (rc || c->n)
            return rc;
    }
    c->active = 0;
    return TL_OK;
}

/* Compare row ra of the slot vectors a with row rb of b by the sort key. */
static int cmp_vecs(const tl_scan_plan *p, const tl_colvec *a, uint32_t ra, const tl_colvec *b,
                    uint32_t rb)
{
    for (uint32_t i = 0; i < p->n_key; i++) {
        uint32_t k = p->key_slot[i];
        const tl_colvec *va = &a[k], *vb = &b[k];
        int na = !tl_bit_get(va->validity, ra), nb = !tl_bit_get(vb->validity, rb);
        if (na || nb) {
            if (na && nb)
                continue;
            return na ? -1 : 1;
        }
        int c = tl_sortkey_cmp_value(p->slots[k].type, va, ra, vb, rb);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_rows(const tl_scan_plan *p, const mcur *a, uint32_t ra, const mcur *b,
                    uint32_t rb)
{
    return cmp_vecs(p, a->vec, ra, b->vec, rb);
}

/* Row r of a comes before the head of b in the merged order. */
static int before(const tl_scan_plan *p, const mcur *a, uint32_t r, const mcur *b)
{
    int c = cmp_rows(p, a, r, b, b->pos);
    return c < 0 || (c == 0 && a->order < b->order);
}

/* Insert c into ord[0..n) (sorted by head) by bisection; returns n + 1. */
static size_t ord_insert(const tl_scan_plan *p, mcur **ord, size_t n, mcur *c)
{
    size_t lo = 0, hi = n; /* c goes before ord[hi], after ord[lo-1] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (before(p, c, c->pos, ord[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    memmove(ord + lo + 1, ord + lo, (n - lo) * sizeof *ord);
    ord[lo] = c;
    return n + 1;
}

/* A column the output block needs: projection and predicate columns. Run
 * and sort-key columns are compared in the inputs (the merge keeps the run
 * values of the last delivered row itself) and never copied. */
static int delivered(const tl_scan_plan *p, uint32_t k)
{
    return p->slots[k].decode;
}

/* Run column r's value at cursor row `row`. */
static void cur_runval(const tl_scan_plan *p, const mcur *c, uint32_t r, uint32_t row,
                       int *is_null, const uint8_t **ptr, size_t *len)
{
    uint32_t k = p->run_slot[r];
    const tl_colvec *v = &c->vec[k];
    *is_null = !tl_bit_get(v->validity, row);
    if (*is_null) {
        *ptr = NULL;
        *len = 0;
    } else if (p->slots[k].type == TL_STRING) {
        *ptr = v->data + v->offsets[row];
        *len = v->offsets[row + 1] - v->offsets[row];
    } else {
        *len = tl_type_width(p->slots[k].type);
        *ptr = (const uint8_t *)v->values + (size_t)row * *len;
    }
}

/* Cursor row `row` has the run values of the last row delivered. */
static int same_as_last(const tl_scan_plan *p, const mstate *m, const mcur *c, uint32_t row)
{
    if (!m->have_lastv)
        return 0;
    for (uint32_t r = 0; r < p->n_run; r++) {
        int isn;
        const uint8_t *ptr;
        size_t len;
        cur_runval(p, c, r, row, &isn, &ptr, &len);
        const tl_scan_runval *lv = &m->lastv[r];
        if (isn != lv->is_null || (!isn && (len != lv->s_len || memcmp(ptr, lv->s, len) != 0)))
            return 0;
    }
    return 1;
}

static int save_lastv(const tl_scan_plan *p, mstate *m, const mcur *c, uint32_t row,
                      tl_error *err)
{
    for (uint32_t r = 0; r < p->n_run; r++) {
        int isn;
        const uint8_t *ptr;
        size_t len;
        cur_runval(p, c, r, row, &isn, &ptr, &len);
        tl_scan_runval *lv = &m->lastv[r];
        if (tl_grow((void **)&lv->s, &lv->s_cap, len ? len : 1))
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge runs)");
        lv->is_null = isn;
        if (len)
            memcpy(lv->s, ptr, len);
        lv->s_len = len;
    }
    m->have_lastv = 1;
    return TL_OK;
}

static int out_reserve(tl_scan_worker *w, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    mstate *m = w->merge;
    if (tl_grow((void **)&m->ends, &m->ends_cap, (TL_SCAN_MERGE_ROWS + 1) * sizeof *m->ends))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge output)");
    for (uint32_t k = 0; k < p->n_slots; k++) {
        size_t wd = tl_type_width(p->slots[k].type);
        size_t need = p->slots[k].type == TL_STRING ? (TL_SCAN_MERGE_ROWS + 1) * 4
                                                     : TL_SCAN_MERGE_ROWS * wd;
        if (!delivered(p, k))
            continue;
        if (tl_grow(&m->out[k].buf, &m->out[k].buf_cap, need) ||
            tl_grow((void **)&m->out[k].valid, &m->out[k].valid_cap,
                    TL_SCAN_MERGE_ROWS / 8 + 8))
            return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge output)");
        if (p->slots[k].type == TL_STRING)
            ((uint32_t *)m->out[k].buf)[0] = 0;
    }
    return TL_OK;
}

/* dst bits [d, d+n) = src bits [s, s+n) (src NULL: all set). Byte at a
 * time once dst is byte aligned. */
static void copy_bits(uint8_t *dst, uint32_t d, const uint8_t *src, uint32_t s, uint32_t n)
{
    while (n && (d & 7)) {
        tl_bit_set(dst, d++, tl_bit_get(src, s++));
        n--;
    }
    if (!src) {
        memset(dst + (d >> 3), 0xff, n >> 3);
    } else if ((s & 7) == 0) {
        memcpy(dst + (d >> 3), src + (s >> 3), n >> 3);
    } else {
        uint32_t sh = s & 7, nb = n >> 3;
        const uint8_t *sp = src + (s >> 3);
        uint8_t *dp = dst + (d >> 3);
        /* byte j takes bits from sp[j] and sp[j+1]; sp[nb] exists since
         * s + n ends past bit 8*nb + sh */
        for (uint32_t j = 0; j < nb; j++)
            dp[j] = (uint8_t)((sp[j] >> sh) | (sp[j + 1] << (8 - sh)));
    }
    uint32_t full = n & ~7u;
    d += full;
    s += full;
    n -= full;
    while (n--) {
        tl_bit_set(dst, d++, tl_bit_get(src, s++));
    }
}

/* Append rows [c->pos, c->pos + n) of cursor c to the output block, and
 * the run boundaries they bring: the cursor block's own inside the chunk,
 * and one comparison where the chunk joins the previous output row. */
static int copy_rows(tl_scan_worker *w, mcur *c, uint32_t n, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    mstate *m = w->merge;
    uint32_t at = m->out_n, from = c->pos;
    int same = same_as_last(p, m, c, from);
    if (at == 0)
        m->out_continues = same;
    if (p->n_run) {
        if (at > 0 && !same)
            m->ends[m->n_ends++] = at;
        while (c->ri < c->n_rends && c->rends[c->ri] <= from)
            c->ri++;
        for (uint32_t j = c->ri; j < c->n_rends && c->rends[j] < from + n; j++)
            m->ends[m->n_ends++] = at + (c->rends[j] - from);
    }
    for (uint32_t k = 0; k < p->n_slots; k++) {
        const tl_colvec *v = &c->vec[k];
        tl_scan_buf *o = &m->out[k];
        if (!delivered(p, k))
            continue;
        if (p->slots[k].type == TL_STRING) {
            const uint32_t *so = v->offsets;
            uint32_t *oo = o->buf;
            size_t nbytes = so[from + n] - so[from];
            if (m->data_len[k] + nbytes > UINT32_MAX)
                return tl_error_set(err, TL_EINVAL, "scan: merged block of column '%s' exceeds "
                                    "4 GiB of string bytes",
                                    p->info.fields[p->slots[k].field].name);
            if (tl_grow((void **)&o->data, &o->data_cap, m->data_len[k] + nbytes + 1))
                return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge output)");
            if (nbytes)
                memcpy(o->data + m->data_len[k], v->data + so[from], nbytes);
            uint32_t base = (uint32_t)m->data_len[k] - so[from];
            for (uint32_t i = 0; i < n; i++)
                oo[at + i + 1] = so[from + i + 1] + base;
            m->data_len[k] += nbytes;
        } else {
            size_t wd = tl_type_width(p->slots[k].type);
            memcpy((uint8_t *)o->buf + (size_t)at * wd, (const uint8_t *)v->values + (size_t)from * wd,
                   (size_t)n * wd);
        }
        if (v->validity && !m->has_null[k]) {
            memset(o->valid, 0xff, TL_SCAN_MERGE_ROWS / 8 + 8);
            m->has_null[k] = 1;
        }
        if (m->has_null[k])
            copy_bits(o->valid, at, v->validity, from, n);
    }
    m->out_n += n;
    return save_lastv(p, m, c, from + n - 1, err);
}

static int flush_out(tl_scan_worker *w, size_t unit, uint64_t *merged_row, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    mstate *m = w->merge;
    if (m->out_n == 0)
        return TL_OK;
    for (uint32_t k = 0; k < p->n_slots; k++) {
        tl_scan_buf *o = &m->out[k];
        if (!delivered(p, k))
            w->vec[k] = (tl_colvec){NULL, NULL, NULL, NULL};
        else if (p->slots[k].type == TL_STRING)
            w->vec[k] = (tl_colvec){NULL, m->has_null[k] ? o->valid : NULL, o->buf,
                                    o->data ? o->data : (const uint8_t *)""};
        else
            w->vec[k] = (tl_colvec){o->buf, m->has_null[k] ? o->valid : NULL, NULL, NULL};
    }
    m->ends[m->n_ends++] = m->out_n;
    w->preset_ends = m->ends;
    w->preset_n = m->n_ends;
    w->preset_continues = m->out_continues;
    memset(w->vscale, 0, p->n_slots * sizeof *w->vscale); /* merged rows: never narrowed */
    int rc = tl_scan_emit(w, unit, p->units[unit].partition, SIZE_MAX, *merged_row, m->out_n,
                          err);
    w->preset_ends = NULL;
    w->preset_continues = -1;
    *merged_row += m->out_n;
    m->out_n = 0;
    m->n_ends = 0;
    memset(m->has_null, 0, p->n_slots ? p->n_slots : 1);
    memset(m->data_len, 0, (p->n_slots ? p->n_slots : 1) * sizeof *m->data_len);
    for (uint32_t k = 0; k < p->n_slots; k++)
        if (delivered(p, k) && p->slots[k].type == TL_STRING)
            ((uint32_t *)m->out[k].buf)[0] = 0;
    return rc;
}

/* Deliver rows [c->pos, c->pos + n) of cursor c as a block without
 * copying values: fixed-width vectors point into the cursor's block;
 * validity bits and string offsets are rebased into the output buffers
 * (n/8 and 4n bytes) so that they start at row 0 and offset 0. */
static int emit_view(tl_scan_worker *w, size_t unit, mcur *c, uint32_t n, uint64_t *merged_row,
                     tl_error *err)
{
    const tl_scan_plan *p = w->p;
    mstate *m = w->merge;
    uint32_t from = c->pos;
    if (tl_grow((void **)&m->ends, &m->ends_cap, ((size_t)n + 1) * sizeof *m->ends))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge runs)");
    for (uint32_t k = 0; k < p->n_slots; k++) {
        const tl_colvec *v = &c->vec[k];
        tl_scan_buf *o = &m->out[k];
        tl_colvec out = {NULL, NULL, NULL, NULL};
        if (!delivered(p, k)) {
            w->vec[k] = out;
            continue;
        }
        if (v->validity && from == 0) {
            out.validity = v->validity;
        } else if (v->validity) {
            if (tl_grow((void **)&o->valid, &o->valid_cap, (size_t)n / 8 + 8))
                return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge output)");
            copy_bits(o->valid, 0, v->validity, from, n);
            out.validity = o->valid;
        }
        if (p->slots[k].type == TL_STRING) {
            if (from == 0 && v->offsets[0] == 0) {
                out.offsets = v->offsets;
            } else {
                if (tl_grow(&o->buf, &o->buf_cap, ((size_t)n + 1) * 4))
                    return tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge output)");
                uint32_t *oo = o->buf, base = v->offsets[from];
                for (uint32_t i = 0; i <= n; i++)
                    oo[i] = v->offsets[from + i] - base;
                out.offsets = oo;
            }
            out.data = v->data + v->offsets[from];
        } else {
            out.values = (const uint8_t *)v->values +
                         (size_t)from * tl_type_width(p->slots[k].type);
        }
        w->vec[k] = out;
    }
    uint32_t ne = 0;
    while (c->ri < c->n_rends && c->rends[c->ri] <= from)
        c->ri++;
    for (uint32_t j = c->ri; j < c->n_rends && c->rends[j] < from + n; j++)
        m->ends[ne++] = c->rends[j] - from;
    m->ends[ne++] = n;
    w->preset_ends = m->ends;
    w->preset_n = ne;
    w->preset_continues = same_as_last(p, m, c, from);
    memset(w->vscale, 0, p->n_slots * sizeof *w->vscale); /* merged rows: never narrowed */
    int rc = tl_scan_emit(w, unit, p->units[unit].partition, SIZE_MAX, *merged_row, n, err);
    w->preset_ends = NULL;
    w->preset_continues = -1;
    *merged_row += n;
    if (!rc)
        rc = save_lastv(p, m, c, from + n - 1, err);
    /* the output buffers were lent to the view: restore their invariants */
    for (uint32_t k = 0; k < p->n_slots; k++)
        if (p->slots[k].type == TL_STRING && m->out[k].buf)
            ((uint32_t *)m->out[k].buf)[0] = 0;
    return rc;
}

/* ---- files that follow one another: no merge ------------------------------------ */

/* Copy row `row` of the sort-key slots of c's block blk into t: read and
 * decode (verified) the key columns of that block. */
static int key_tuple(tl_scan_worker *w, mcur *c, uint32_t blk, int last_row, ktup *t,
                     tl_error *err)
{
    const tl_scan_plan *p = w->p;
    uint32_t nk = p->n_key;
    if (nk == 0)
        return TL_OK;
    if (tl_grow((void **)&w->ranges[0], &w->ranges_cap[0], nk * sizeof(tl_bio_range)))
        return tl_error_set(err, TL_ENOMEM, "scan: out of memory (ranges)");
    for (uint32_t i = 0; i < nk; i++) {
        const tlf_block_info *bi = tl_scan_blockinfo(&c->f, p->key_slot[i], blk);
        w->ranges[0][i] = (tl_bio_range){bi->offset, bi->length, NULL};
    }
    tl_bio_batch *bt = NULL;
    int rc = tl_bio_submit(w->bio, c->f.bf, w->ranges[0], nk, &bt, err);
    if (!rc)
        rc = tl_bio_wait(bt, err);
    if (rc)
        tl_error_prefix(err, "table %s: ", p->t->path);
    int zero_copy = tl_bio_mode(w->bio) == TL_IO_MMAP;
    uint32_t n = tlf_seg_block(c->f.seg, 0, blk)->n_rows, row = last_row ? n - 1 : 0;
    for (uint32_t i = 0; i < nk && !rc; i++) {
        uint32_t k = p->key_slot[i];
        tl_colvec v;
        rc = tl_scan_decode(w, &c->f, k, blk, w->ranges[0][i].data, zero_copy, &c->bufs[k], &v,
                            err);
        if (rc)
            break;
        int isn = !tl_bit_get(v.validity, row);
        const uint8_t *ptr = NULL;
        size_t len = 0;
        if (isn) {
            len = 0;
        } else if (p->slots[k].type == TL_STRING) {
            ptr = v.data + v.offsets[row];
            len = v.offsets[row + 1] - v.offsets[row];
        } else {
            len = tl_type_width(p->slots[k].type);
            ptr = (const uint8_t *)v.values + (size_t)row * len;
        }
        tl_scan_runval *tv = &t->val[k];
        if (tl_grow((void **)&tv->s, &tv->s_cap, len + 8)) {
            rc = tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge keys)");
            break;
        }
        memset(tv->s, 0, len + 8);
        if (len)
            memcpy(tv->s, ptr, len);
        tv->s_len = len;
        t->valid[k] = isn ? 0 : 1;
        t->offs[2 * k] = 0;
        t->offs[2 * k + 1] = (uint32_t)len;
        t->vec[k] = (tl_colvec){tv->s, &t->valid[k], &t->offs[2 * k], tv->s};
    }
    tl_bio_release(bt);
    return rc;
}

/* Whether the unit's open files (cursors 0..nc) follow one another by the
 * sort key, and if so their order in *seq (files with no kept row left
 * out; *n_seq of them). Files are sorted by their first kept row's key
 * (ties: file order); they follow one another when each one's last kept
 * row's key is below the next one's first, or equal to it with the earlier
 * file first in file order. Their concatenation in that order is then a
 * stable sort of the files (each file is sorted). Returns 1, 0, or < 0. */
static int files_follow(tl_scan_worker *w, size_t nc, size_t *seq, size_t *n_seq, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    mstate *m = w->merge;
    size_t k = 0;
    for (size_t i = 0; i < nc; i++) {
        mcur *c = &m->c[i];
        if (c->f.n_blocks == 0)
            continue;
        uint32_t b0 = c->f.blocks[0], b1 = c->f.blocks[c->f.n_blocks - 1];
        if (tlf_seg_block(c->f.seg, 0, b0)->n_rows == 0 ||
            tlf_seg_block(c->f.seg, 0, b1)->n_rows == 0)
            return 0; /* rare: let the merge skip empty blocks */
        int rc = key_tuple(w, c, b0, 0, &c->first, err);
        if (!rc)
            rc = key_tuple(w, c, b1, 1, &c->last, err);
        if (rc)
            return rc;
        /* insertion by first key, ties by file order (i increases) */
        size_t j = k;
        while (j > 0 && cmp_vecs(p, c->first.vec, 0, m->c[seq[j - 1]].first.vec, 0) < 0) {
            seq[j] = seq[j - 1];
            j--;
        }
        seq[j] = i;
        k++;
    }
    for (size_t j = 1; j < k; j++) {
        const mcur *a = &m->c[seq[j - 1]], *b = &m->c[seq[j]];
        int c = cmp_vecs(p, a->last.vec, 0, b->first.vec, 0);
        if (c > 0 || (c == 0 && a->order > b->order))
            return 0;
    }
    *n_seq = k;
    return 1;
}

int tl_scan_merge_unit(tl_scan_worker *w, size_t unit, tl_error *err)
{
    const tl_scan_plan *p = w->p;
    const tl_scan_unit *un = &p->units[unit];
    int rc = merge_init(w, un->n, err);
    if (rc)
        return rc;
    mstate *m = w->merge;
    size_t nc = un->n;
    for (size_t i = 0; i < nc; i++)
        m->c[i].active = 0;
    for (size_t i = 0; i < nc && !rc; i++) {
        mcur *c = &m->c[i];
        c->order = (uint32_t)i;
        c->bi = 0;
        rc = tl_scan_file_open(w, p->files[un->first + i], &c->f, 1, err);
    }
    if (!rc && !p->explain && !p->merge_always) {
        /* files that follow one another (e.g. the spill files of a sorted
         * import) are streamed one after another: the merge's output
         * without its work */
        size_t n_seq = 0;
        int follow = tl_grow((void **)&m->seq, &m->seq_cap, nc * sizeof *m->seq)
                         ? tl_error_set(err, TL_ENOMEM, "scan: out of memory (merge)")
                         : files_follow(w, nc, m->seq, &n_seq, err);
        if (follow < 0) {
            rc = follow;
        } else if (follow) {
            uint64_t row = 0;
            for (size_t j = 0; j < n_seq && !rc; j++)
                rc = tl_scan_stream_file(w, unit, &m->c[m->seq[j]].f, &row, err);
            for (size_t i = 0; i < nc; i++)
                tl_scan_file_close(&m->c[i].f);
            return rc;
        }
    }
    for (size_t i = 0; i < nc && !rc && !p->explain; i++) {
        mcur *c = &m->c[i];
        if (c->f.n_blocks) {
            c->bi = (uint32_t)-1;
            c->active = 1;
            rc = cur_advance(w, c, err);
        }
    }
    if (!rc && !p->explain)
        rc = out_reserve(w, err);
    uint64_t merged_row = 0;
    m->out_n = 0;
    m->n_ends = 0;
    m->have_lastv = 0;
    /* active cursors sorted by their heads (ties: file order) */
    mcur **ord = m->ord;
    size_t n_act = 0;
    for (size_t i = 0; i < nc && !rc && !p->explain; i++)
        if (m->c[i].active)
            n_act = ord_insert(p, ord, n_act, &m->c[i]);
    while (!rc && !p->explain && n_act) {
        if (*w->stop) {
            rc = TL_SCAN_STOPPED;
            break;
        }
        mcur *best = ord[0], *sec = n_act > 1 ? ord[1] : NULL;
        uint32_t avail = best->n - best->pos, cnt;
        if (!sec || before(p, best, best->n - 1, sec)) {
            cnt = avail;
        } else {
            /* gallop from pos, then bisect: rows [pos, lo] come before
             * sec's head, row hi does not (row n-1 does not) */
            uint32_t lo = best->pos, hi, step = 1;
            for (;;) {
                hi = lo + step < best->n - 1 ? lo + step : best->n - 1;
                if (hi == best->n - 1 || !before(p, best, hi, sec))
                    break;
                lo = hi;
                step *= 2;
            }
            while (hi - lo > 1) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (before(p, best, mid, sec))
                    lo = mid;
                else
                    hi = mid;
            }
            cnt = lo + 1 - best->pos;
        }
        if (cnt >= TL_SCAN_VIEW_ROWS || (cnt == avail && best->pos == 0)) {
            /* a long stretch of one input: deliver it in place */
            if ((rc = flush_out(w, unit, &merged_row, err)))
                break;
            if ((rc = emit_view(w, unit, best, cnt, &merged_row, err)))
                break;
        } else {
            uint32_t space = TL_SCAN_MERGE_ROWS - m->out_n;
            if (cnt > space)
                cnt = space;
            if ((rc = copy_rows(w, best, cnt, err)))
                break;
        }
        best->pos += cnt;
        if (best->pos == best->n && (rc = cur_advance(w, best, err)))
            break;
        /* the best cursor's new head goes back into the order */
        memmove(ord, ord + 1, (n_act - 1) * sizeof *ord);
        n_act--;
        if (best->active)
            n_act = ord_insert(p, ord, n_act, best);
        if (m->out_n == TL_SCAN_MERGE_ROWS)
            rc = flush_out(w, unit, &merged_row, err);
    }
    if (!rc && !p->explain)
        rc = flush_out(w, unit, &merged_row, err);
    for (size_t i = 0; i < nc; i++)
        tl_scan_file_close(&m->c[i].f);
    return rc;
}
