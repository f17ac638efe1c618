/*
 * segment_testlib.h - helpers shared by the segment tests (header-only,
 * included by tests/format/segment_*_test.c): a growable in-memory sink,
 * test columns with generated data, a writer driver, and a checker that
 * decodes every block and compares values, validity and zone maps with
 * values computed independently here (brute force).
 */
#ifndef SEGMENT_TESTLIB_H
#define SEGMENT_TESTLIB_H

#include <criterion/criterion.h>
#include <math.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment_int.h"
#include "tl_format.h"

/* ---- in-memory sink ------------------------------------------------------ */

typedef struct membuf {
    uint8_t *p;
    size_t len, cap;
    size_t fail_after; /* fail a write that would pass this many bytes (0: never) */
} membuf;

static inline int membuf_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    membuf *m = ctx;
    if (m->fail_after && m->len + len > m->fail_after)
        return tl_error_set(err, TL_EIO, "membuf: injected failure at %zu bytes", m->len);
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap *= 2;
        m->p = realloc(m->p, cap);
        cr_assert(m->p);
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return TL_OK;
}

/* 64-byte aligned copy (as a mapping would be) */
static inline uint8_t *aligned_copy(const uint8_t *p, size_t len)
{
    uint8_t *q = aligned_alloc(64, (len + 63) / 64 * 64 + 64);
    cr_assert(q);
    memcpy(q, p, len);
    return q;
}

/* ---- random ---------------------------------------------------------------- */

static inline uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- test columns ------------------------------------------------------------ */

typedef enum { D_EDGE, D_GRID, D_SORTED, D_RUNS, D_RANDOM, D_SMALL, D_LOWCARD, D_UNIQUE,
               D_BIG, D_LOTS, D_TRADES } tdata;
typedef enum { N_NONE, N_ALL, N_ALT, N_RAND5 } tnulls;

typedef struct tcol {
    char name[64];
    tl_type type;
    tlf_col_opts opts;
    uint64_t n;
    uint8_t *vals;     /* fixed width */
    uint32_t *offs;    /* strings: n + 1 */
    uint8_t *data;
    uint8_t *valid;    /* NULL: no nulls */
} tcol;

static inline void tcol_free(tcol *c)
{
    free(c->vals);
    free(c->offs);
    free(c->data);
    free(c->valid);
    memset(c, 0, sizeof *c);
}

static inline int t_present(const tcol *c, uint64_t i) { return tl_bit_get(c->valid, i); }

/* per-type edge values (as raw 8 bytes, the low `w` used) */
static inline uint64_t edge_value(tl_type t, uint64_t k)
{
    switch (t) {
    case TL_BOOL: return k & 1;
    case TL_INT8: { static const int8_t e[] = {INT8_MIN, INT8_MAX, 0, -1, 1}; return (uint64_t)(int64_t)e[k % 5]; }
    case TL_INT16: { static const int16_t e[] = {INT16_MIN, INT16_MAX, 0, -1, 1}; return (uint64_t)(int64_t)e[k % 5]; }
    case TL_INT32: case TL_DATE: { static const int32_t e[] = {INT32_MIN, INT32_MAX, 0, -1, 1}; return (uint64_t)(int64_t)e[k % 5]; }
    case TL_INT64: case TL_TIMESTAMP: case TL_TIMESTAMP_US: { static const int64_t e[] = {INT64_MIN, INT64_MAX, 0, -1, 1}; return (uint64_t)e[k % 5]; }
    case TL_UINT8: { static const uint8_t e[] = {0, UINT8_MAX, 1, UINT8_MAX - 1}; return e[k % 4]; }
    case TL_UINT16: { static const uint16_t e[] = {0, UINT16_MAX, 1, UINT16_MAX - 1}; return e[k % 4]; }
    case TL_UINT32: { static const uint32_t e[] = {0, UINT32_MAX, 1, UINT32_MAX - 1}; return e[k % 4]; }
    case TL_UINT64: { static const uint64_t e[] = {0, UINT64_MAX, 1, UINT64_MAX - 1}; return e[k % 4]; }
    case TL_FLOAT32: {
        static const float e[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, FLT_MAX, -FLT_MAX,
                                  FLT_TRUE_MIN, 1.5f};
        uint32_t b;
        memcpy(&b, &e[k % 9], 4);
        return b;
    }
    case TL_FLOAT64: {
        static const double e[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, DBL_MAX, -DBL_MAX,
                                   DBL_TRUE_MIN, 1.5};
        uint64_t b;
        memcpy(&b, &e[k % 9], 8);
        return b;
    }
    default: return 0;
    }
}

static inline void put_val(uint8_t *p, unsigned w, uint64_t v) { memcpy(p, &v, w); }

static inline void put_float(uint8_t *p, tl_type t, double d)
{
    if (t == TL_FLOAT32) {
        float f = (float)d;
        memcpy(p, &f, 4);
    } else {
        memcpy(p, &d, 8);
    }
}

/* Fill a column of n rows with data of kind `kind`, nulls of pattern nl.
 * Null slots get random garbage (the writer must canonicalise them). */
static inline void tcol_fill(tcol *c, const char *name, tl_type t, uint8_t enc, uint8_t comp,
                      tdata kind, tnulls nl, uint64_t n, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->type = t;
    c->opts.encoding = enc;
    c->opts.compression = comp;
    c->n = n;
    uint64_t s = seed * 7919 + 17;
    if (nl != N_NONE) {
        c->valid = calloc((n + 7) / 8 + 1, 1);
        cr_assert(c->valid);
        for (uint64_t i = 0; i < n; i++) {
            int present = nl == N_ALL ? 0 : nl == N_ALT ? (i & 1) : (rnd(&s) % 100 >= 5);
            tl_bit_set(c->valid, i, present);
        }
    }
    if (t == TL_STRING) {
        c->offs = malloc((n + 1) * 4);
        size_t cap = 1024, len = 0;
        c->data = malloc(cap);
        cr_assert(c->offs && c->data);
        c->offs[0] = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint8_t tmp[128];
            const uint8_t *src = tmp;
            size_t l = 0;
            int big = 0;
            switch (kind) {
            case D_LOWCARD:
                l = (size_t)snprintf((char *)tmp, sizeof tmp, "SYM%02u", (unsigned)(rnd(&s) % 10));
                break;
            case D_UNIQUE:
                l = (size_t)snprintf((char *)tmp, sizeof tmp, "id-%llu-%llx",
                                     (unsigned long long)i, (unsigned long long)rnd(&s));
                break;
            case D_BIG:
                if (i % 9973 == 5)
                    big = 1;
                /* fallthrough */
            default: {
                uint64_t r = rnd(&s) % 8;
                if (r == 0) {
                    l = 0;
                } else if (r == 1) { /* long, binary: 70 bytes incl. 0x00/0xFF */
                    l = 70;
                    for (size_t j = 0; j < l; j++)
                        tmp[j] = (uint8_t)(j % 3 == 0 ? 0xFF : j % 3 == 1 ? 0x00 : rnd(&s));
                } else if (r == 2) { /* 80 bytes of 0xFF */
                    l = 80;
                    memset(tmp, 0xFF, l);
                } else {
                    l = 1 + rnd(&s) % 12;
                    for (size_t j = 0; j < l; j++)
                        tmp[j] = (uint8_t)('a' + rnd(&s) % 26);
                }
            }
            }
            uint8_t *bigbuf = NULL;
            if (big) {
                l = 100 * 1024;
                bigbuf = malloc(l);
                for (size_t j = 0; j < l; j++)
                    bigbuf[j] = (uint8_t)(j * 31 + i);
                src = bigbuf;
            }
            if (len + l > cap) {
                while (len + l > cap)
                    cap *= 2;
                c->data = realloc(c->data, cap);
                cr_assert(c->data);
            }
            memcpy(c->data + len, src, l);
            free(bigbuf);
            len += l;
            c->offs[i + 1] = (uint32_t)len;
        }
        return;
    }
    unsigned w = (unsigned)tl_type_width(t);
    c->vals = malloc(n * w + 8);
    cr_assert(c->vals);
    int is_f = tl_type_is_float(t);
    uint64_t prev = 0;
    double price = 100.0;
    int64_t ts = 1700000000000000000ll;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *p = c->vals + i * w;
        uint64_t r = rnd(&s);
        switch (kind) {
        case D_EDGE:
            /* runs of repeated values; edge values, near values, random */
            if (i > 0 && r % 4 == 0) {
                put_val(p, w, prev);
                break;
            }
            if (r % 5 == 1)
                prev = edge_value(t, r >> 8);
            else if (is_f)
                prev = r >> 8, put_float((uint8_t *)&prev, t, (double)(int64_t)(r >> 40) / 8.0);
            else
                prev = r % 3 ? (r >> 20) % 100 : rnd(&s);
            if (t == TL_BOOL)
                prev &= 1;
            put_val(p, w, prev);
            break;
        case D_GRID: /* prices on a 0.05 grid, random walk with repeats */
            if (r % 3 == 0)
                price += ((int)(r >> 8) % 7 - 3) * 0.05;
            put_float(p, t, round(price * 20) / 20);
            break;
        case D_SORTED:
            ts += (int64_t)(r % 1000000);
            put_val(p, w, (uint64_t)ts);
            break;
        case D_RUNS:
            if (i == 0 || r % 200 == 0)
                prev = is_f ? 0 : rnd(&s) % 50;
            if (is_f)
                put_float(p, t, (double)(i / 300));
            else
                put_val(p, w, t == TL_BOOL ? prev & 1 : prev);
            break;
        case D_SMALL:
            put_val(p, w, t == TL_BOOL ? r & 1 : r % 1000);
            break;
        case D_TRADES: { /* trade sizes: a lot size times one of 16 counts, mostly 1-3 */
            static const uint8_t q[32] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
                                          2, 2, 3, 3, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 50};
            uint64_t lots = q[r % 32];
            if (is_f)
                put_float(p, t, (double)lots / 3.0);
            else
                put_val(p, w, t == TL_BOOL ? lots & 1 : lots * (w == 1 ? 2 : 25));
            break;
        }
        case D_LOTS: { /* order-book sizes: a lot size times 1..62, 39 distinct */
            uint64_t x = r % 64;
            uint64_t lots = 1 + ((x * x * x) >> 12);
            if (is_f)
                put_float(p, t, (double)lots / 3.0); /* off any decimal grid */
            else
                put_val(p, w, t == TL_BOOL ? lots & 1 : lots * (w == 1 ? 2 : 25));
            break;
        }
        default: /* D_RANDOM */
            if (is_f)
                put_float(p, t, (double)(int64_t)r / 3.0);
            else
                put_val(p, w, t == TL_BOOL ? r & 1 : r);
        }
    }
}

/* ---- writing --------------------------------------------------------------- */

/* Write the columns (all c->n rows) appending in chunks of `chunk` rows
 * (slicing validity into fresh bitmaps). Returns the file bytes. */
static inline membuf write_cols(tcol *cols, uint32_t n_cols, uint32_t block_rows, uint32_t chunk,
                         const char *const *meta_kv, tlf_seg_write_stats *st)
{
    tl_coldef defs[256];
    tlf_col_opts co[256];
    cr_assert(n_cols <= 256);
    for (uint32_t i = 0; i < n_cols; i++) {
        defs[i].name = cols[i].name;
        defs[i].type = cols[i].type;
        co[i] = cols[i].opts;
    }
    membuf m = {0};
    tlf_writer_opts o = {.block_rows = block_rows, .col_opts = co};
    tlf_seg_writer *w = NULL;
    tl_error err = {0};
    int rc = tlf_seg_writer_open(defs, n_cols, &o, (tlf_sink){membuf_write, &m}, &w, &err);
    cr_assert_eq(rc, TL_OK, "open: %s", err.msg);
    uint64_t n = n_cols ? cols[0].n : 0;
    if (!chunk)
        chunk = n ? (uint32_t)n : 1;
    tl_colvec vec[256];
    uint8_t *vb[256] = {0};
    for (uint64_t start = 0; start < n; start += chunk) {
        uint32_t take = (uint32_t)(n - start < chunk ? n - start : chunk);
        for (uint32_t i = 0; i < n_cols; i++) {
            tcol *c = &cols[i];
            memset(&vec[i], 0, sizeof vec[i]);
            if (c->type == TL_STRING) {
                vec[i].offsets = c->offs + start;
                vec[i].data = c->data;
            } else {
                vec[i].values = c->vals + start * tl_type_width(c->type);
            }
            if (c->valid) {
                free(vb[i]);
                vb[i] = calloc((take + 7) / 8, 1);
                for (uint32_t j = 0; j < take; j++)
                    tl_bit_set(vb[i], j, tl_bit_get(c->valid, start + j));
                vec[i].validity = vb[i];
            }
        }
        rc = tlf_seg_writer_append(w, vec, take, &err);
        cr_assert_eq(rc, TL_OK, "append: %s", err.msg);
    }
    for (uint32_t i = 0; i < n_cols; i++)
        free(vb[i]);
    for (int i = 0; meta_kv && meta_kv[i]; i += 2) {
        rc = tlf_seg_writer_set_meta(w, meta_kv[i], meta_kv[i + 1],
                                     (uint32_t)strlen(meta_kv[i + 1]), &err);
        cr_assert_eq(rc, TL_OK, "set_meta: %s", err.msg);
    }
    tlf_seg_write_stats stats;
    rc = tlf_seg_writer_finish(w, &stats, &err);
    cr_assert_eq(rc, TL_OK, "finish: %s", err.msg);
    tlf_seg_writer_free(w);
    cr_assert_eq(stats.file_bytes, m.len);
    cr_assert_eq(stats.n_rows, n);
    if (st)
        *st = stats;
    return m;
}

/* ---- brute-force zone maps ------------------------------------------------ */

/* total-order key of a double: -0.0 sorts below +0.0 */
static inline int64_t fkey(double d)
{
    int64_t b;
    memcpy(&b, &d, 8);
    return b < 0 ? (int64_t)(INT64_MIN - b) - 1 : b;
}

static inline double t_float(const tcol *c, uint64_t i)
{
    if (c->type == TL_FLOAT32) {
        float f;
        memcpy(&f, c->vals + i * 4, 4);
        return f;
    }
    double d;
    memcpy(&d, c->vals + i * 8, 8);
    return d;
}

static inline int64_t t_signed(const tcol *c, uint64_t i)
{
    const uint8_t *p = c->vals + i * tl_type_width(c->type);
    switch (tl_type_width(c->type)) {
    case 1: return (int8_t)p[0];
    case 2: { int16_t v; memcpy(&v, p, 2); return v; }
    case 4: { int32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

static inline uint64_t t_unsigned(const tcol *c, uint64_t i)
{
    uint64_t v = 0;
    memcpy(&v, c->vals + i * tl_type_width(c->type), tl_type_width(c->type));
    return v;
}

static inline int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    for (size_t i = 0; i < al && i < bl; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static inline void check_zone(const tcol *c, uint64_t start, uint32_t n, const tlf_block_info *bi,
                       uint32_t col, uint32_t blk)
{
    uint8_t flags = 0;
    int have = 0;
    if (c->type == TL_STRING) {
        uint64_t mi = 0, ma = 0;
        for (uint64_t i = start; i < start + n; i++) {
            if (!t_present(c, i))
                continue;
            const uint8_t *p = c->data + c->offs[i];
            size_t l = c->offs[i + 1] - c->offs[i];
            if (!have) {
                mi = ma = i;
                have = 1;
                continue;
            }
            if (bytes_cmp(p, l, c->data + c->offs[mi], c->offs[mi + 1] - c->offs[mi]) < 0)
                mi = i;
            if (bytes_cmp(p, l, c->data + c->offs[ma], c->offs[ma + 1] - c->offs[ma]) > 0)
                ma = i;
        }
        if (!have) {
            cr_assert_eq(bi->zone_flags, 0, "col %u blk %u: zone flags 0x%x for no values", col,
                         blk, bi->zone_flags);
            return;
        }
        flags = TLF_ZONE_HAS_MINMAX;
        const uint8_t *mp = c->data + c->offs[mi];
        size_t ml = c->offs[mi + 1] - c->offs[mi];
        if (ml > 64) {
            ml = 64;
            flags |= TLF_ZONE_MIN_INEXACT;
        }
        cr_assert_eq(bi->smin_len, ml, "col %u blk %u: smin len", col, blk);
        cr_assert(ml == 0 || memcmp(bi->smin, mp, ml) == 0, "col %u blk %u: smin", col, blk);
        const uint8_t *xp = c->data + c->offs[ma];
        size_t xl = c->offs[ma + 1] - c->offs[ma];
        if (xl > 64) {
            uint8_t b[64];
            memcpy(b, xp, 64);
            size_t keep = 64;
            while (keep > 0 && b[keep - 1] == 0xFF)
                keep--;
            if (keep == 0) {
                flags |= TLF_ZONE_MAX_UNBOUNDED;
            } else {
                b[keep - 1] += 1;
                flags |= TLF_ZONE_MAX_INEXACT;
                cr_assert_eq(bi->smax_len, keep, "col %u blk %u: smax len", col, blk);
                cr_assert(memcmp(bi->smax, b, keep) == 0, "col %u blk %u: smax", col, blk);
                /* it is an upper bound of every value */
                for (uint64_t i = start; i < start + n; i++)
                    if (t_present(c, i))
                        cr_assert(bytes_cmp(c->data + c->offs[i], c->offs[i + 1] - c->offs[i],
                                            bi->smax, bi->smax_len) < 0);
            }
        } else {
            cr_assert_eq(bi->smax_len, xl, "col %u blk %u: smax len", col, blk);
            cr_assert(xl == 0 || memcmp(bi->smax, xp, xl) == 0, "col %u blk %u: smax", col, blk);
        }
        cr_assert_eq(bi->zone_flags, flags, "col %u blk %u: zone flags 0x%x, expected 0x%x",
                     col, blk, bi->zone_flags, flags);
        return;
    }
    if (tl_type_is_float(c->type)) {
        int64_t kmin = INT64_MAX, kmax = INT64_MIN;
        double dmin = 0, dmax = 0;
        for (uint64_t i = start; i < start + n; i++) {
            if (!t_present(c, i))
                continue;
            double d = t_float(c, i);
            if (d != d) {
                flags |= TLF_ZONE_HAS_NAN;
                continue;
            }
            have = 1;
            if (fkey(d) < kmin)
                kmin = fkey(d), dmin = d;
            if (fkey(d) > kmax)
                kmax = fkey(d), dmax = d;
        }
        if (have) {
            flags |= TLF_ZONE_HAS_MINMAX;
            cr_assert(memcmp(&bi->min.f, &dmin, 8) == 0, "col %u blk %u: min %g, expected %g",
                      col, blk, bi->min.f, dmin);
            cr_assert(memcmp(&bi->max.f, &dmax, 8) == 0, "col %u blk %u: max %g, expected %g",
                      col, blk, bi->max.f, dmax);
        }
    } else if (tl_type_is_signed_int(c->type)) {
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (uint64_t i = start; i < start + n; i++) {
            if (!t_present(c, i))
                continue;
            have = 1;
            int64_t v = t_signed(c, i);
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (have) {
            flags |= TLF_ZONE_HAS_MINMAX;
            cr_assert_eq(bi->min.i, mn, "col %u blk %u: min", col, blk);
            cr_assert_eq(bi->max.i, mx, "col %u blk %u: max", col, blk);
        }
    } else {
        uint64_t mn = UINT64_MAX, mx = 0;
        for (uint64_t i = start; i < start + n; i++) {
            if (!t_present(c, i))
                continue;
            have = 1;
            uint64_t v = t_unsigned(c, i);
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (have) {
            flags |= TLF_ZONE_HAS_MINMAX;
            cr_assert_eq(bi->min.u, mn, "col %u blk %u: min", col, blk);
            cr_assert_eq(bi->max.u, mx, "col %u blk %u: max", col, blk);
        }
    }
    cr_assert_eq(bi->zone_flags, flags, "col %u blk %u: zone flags 0x%x, expected 0x%x", col,
                 blk, bi->zone_flags, flags);
}

/* ---- checking ------------------------------------------------------------- */

typedef struct tscratch {
    void *buf;
    uint8_t *data, *valid;
    size_t buf_cap, data_cap, valid_cap;
} tscratch;

static inline void tscratch_fit(tscratch *t, size_t b, size_t d, size_t v)
{
    if (b > t->buf_cap) {
        free(t->buf);
        t->buf = malloc(b);
        t->buf_cap = b;
    }
    if (d > t->data_cap) {
        free(t->data);
        t->data = malloc(d);
        t->data_cap = d;
    }
    if (v > t->valid_cap) {
        free(t->valid);
        t->valid = malloc(v);
        t->valid_cap = v;
    }
}

static inline void tscratch_free(tscratch *t)
{
    free(t->buf);
    free(t->data);
    free(t->valid);
}

/* Compare a decoded block with the expected rows. */
static inline void check_vec(const tcol *c, uint64_t start, const tlf_vec *v, uint32_t col,
                      uint32_t blk)
{
    unsigned w = (unsigned)tl_type_width(c->type);
    static const uint8_t zero8[8];
    for (uint32_t j = 0; j < v->n; j++) {
        uint64_t i = start + j;
        int pres = t_present(c, i);
        cr_assert_eq(tl_bit_get(v->validity, j), pres, "col %s blk %u row %u: validity",
                     c->name, blk, j);
        if (c->type == TL_STRING) {
            uint32_t l = v->offsets[j + 1] - v->offsets[j];
            uint32_t el = pres ? c->offs[i + 1] - c->offs[i] : 0;
            cr_assert_eq(l, el, "col %s (%u) blk %u row %u: string length %u, expected %u",
                         c->name, col, blk, j, l, el);
            cr_assert(l == 0 || memcmp(v->data + v->offsets[j], c->data + c->offs[i], l) == 0,
                      "col %s blk %u row %u: string bytes", c->name, blk, j);
        } else {
            const uint8_t *got = (const uint8_t *)v->values + (size_t)j * w;
            const uint8_t *want = pres ? c->vals + i * w : zero8;
            cr_assert(memcmp(got, want, w) == 0,
                      "col %s (%u) type %s blk %u row %u: value differs", c->name, col,
                      tl_type_name(c->type), blk, j);
        }
    }
}

/* The runs view of an uncompressed RLE or DICT block (8-aligned bytes)
 * against its decoded values v: RLE runs hold values; DICT runs hold codes
 * into the column dictionary (strings) or the block dictionary, and exist
 * exactly when the codes section is RLE. */
static inline void check_runs(const tlf_seg *s, uint32_t ci, uint32_t b, const uint8_t *bytes,
                              const tlf_vec *v)
{
    const tlf_block_info *bi = tlf_seg_block(s, ci, b);
    tl_type type = tlf_seg_col(s, ci)->type;
    unsigned w = (unsigned)tl_type_width(type);
    tl_error err = {0};
    uint32_t nr = 0, n_dict = 0;
    const void *rv = NULL, *dict = NULL;
    const uint32_t *re = NULL;
    int dict_codes_rle = 0;
    if (bi->encoding == TLF_ENC_DICT) {
        size_t codes_at = 0;
        if (type != TL_STRING) {
            cr_assert_eq(tlf_seg_block_dict(s, ci, b, bytes, bi->length, &n_dict, &dict, &err),
                         TL_OK, "block_dict: %s", err.msg);
            cr_assert_eq(dict, bytes + 8);
            codes_at = 8 + ((size_t)n_dict * w + 7) / 8 * 8;
        } else {
            cr_assert_eq(tlf_seg_block_dict(s, ci, b, bytes, bi->length, &n_dict, &dict, &err),
                         TL_EINVAL);
            n_dict = tlf_seg_col(s, ci)->dict_entries;
        }
        dict_codes_rle = bytes[codes_at] == TLF_ENC_RLE;
    }
    int rc = tlf_seg_rle_runs(s, ci, b, bytes, bi->length, &nr, &rv, &re, &err);
    if (bi->encoding == TLF_ENC_DICT && !dict_codes_rle) {
        cr_assert_eq(rc, TL_EUNSUPPORTED, "col %u blk %u: runs of for codes", ci, b);
        cr_assert(strstr(err.msg, "bit-packed"), "%s", err.msg);
        return;
    }
    cr_assert_eq(rc, TL_OK, "rle_runs col %u blk %u: %s", ci, b, err.msg);
    cr_assert_eq(re[nr - 1], v->n);
    uint32_t r = 0;
    for (uint32_t j = 0; j < v->n; j++) {
        while (re[r] <= j)
            r++;
        /* FMT-R23: the runs hold the stored values; a null row's slot may
         * hold a neighbour's value */
        if (!tl_bit_get(v->validity, j))
            continue;
        if (bi->encoding == TLF_ENC_RLE) {
            cr_assert(memcmp((const uint8_t *)rv + (size_t)r * w,
                             (const uint8_t *)v->values + (size_t)j * w, w) == 0);
            continue;
        }
        uint32_t code = ((const uint32_t *)rv)[r];
        cr_assert_lt(code, n_dict);
        if (type == TL_STRING) {
            const uint8_t *e;
            uint32_t el;
            tlf_seg_dict_entry(s, ci, code, &e, &el);
            cr_assert_eq(el, v->offsets[j + 1] - v->offsets[j]);
            cr_assert(el == 0 || memcmp(e, v->data + v->offsets[j], el) == 0);
        } else {
            cr_assert(memcmp((const uint8_t *)dict + (size_t)code * w,
                             (const uint8_t *)v->values + (size_t)j * w, w) == 0);
        }
    }
}

/* Decode every block (bytes from `file`) with `flags` and compare. */
static inline void check_seg(const tlf_seg *s, const uint8_t *file, const tcol *cols, uint32_t n_cols,
                      uint32_t flags)
{
    uint64_t n = n_cols ? cols[0].n : 0;
    cr_assert_eq(tlf_seg_n_rows(s), n);
    cr_assert_eq(tlf_seg_n_cols(s), n_cols);
    tscratch t = {0};
    tl_error err = {0};
    for (uint32_t ci = 0; ci < n_cols; ci++) {
        const tcol *c = &cols[ci];
        const tlf_col_info *info = tlf_seg_col(s, ci);
        cr_assert_str_eq(info->name, c->name);
        cr_assert_eq(info->type, c->type);
        cr_assert_eq(tlf_seg_find_col(s, c->name), (int)ci);
        uint64_t nulls = 0;
        for (uint64_t i = 0; i < n; i++)
            nulls += !t_present(c, i);
        cr_assert_eq(info->null_count, nulls, "col %s: null_count", c->name);
        for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
            const tlf_block_info *bi = tlf_seg_block(s, ci, b);
            cr_assert_eq(bi->offset % 64, 0);
            if (c->opts.encoding != TLF_ENC_AUTO && bi->encoding != c->opts.encoding) {
                /* forced encodings only fall back to PLAIN (SCALED off-grid,
                 * DICT over its limits) */
                cr_assert(bi->encoding == TLF_ENC_PLAIN &&
                              (c->opts.encoding == TLF_ENC_SCALED ||
                               c->opts.encoding == TLF_ENC_DICT),
                          "col %s blk %u: encoding %s, forced %s", c->name, b,
                          tlf_encoding_name(bi->encoding), tlf_encoding_name(c->opts.encoding));
            }
            if (c->opts.compression == TLF_COMP_NONE || c->opts.hot)
                cr_assert_eq(bi->compression, c->opts.compression == TLF_COMP_ZSTD
                                                  ? TLF_COMP_ZSTD : TLF_COMP_NONE);
            if (c->opts.compression == TLF_COMP_ZSTD)
                cr_assert_eq(bi->compression, TLF_COMP_ZSTD);
            size_t nb, nd, nv;
            tlf_seg_decode_needs(s, ci, b, &nb, &nd, &nv);
            tscratch_fit(&t, nb + 8, nd + 8, nv + 8);
            tlf_vec v = {.buf = t.buf, .buf_cap = nb, .data_buf = t.data, .data_cap = nd,
                         .valid_buf = t.valid, .valid_cap = nv};
            const uint8_t *bytes = file + bi->offset;
            int rc = tlf_seg_decode(s, ci, b, bytes, bi->length, flags, &v, &err);
            cr_assert_eq(rc, TL_OK, "decode col %u blk %u: %s", ci, b, err.msg);
            cr_assert_eq(v.n, bi->n_rows);
            cr_assert_eq(v.type, c->type);
            cr_assert_eq(bi->first_row, (uint64_t)b * tlf_seg_block_rows(s));
            check_vec(c, bi->first_row, &v, ci, b);
            check_zone(c, bi->first_row, bi->n_rows, bi, ci, b);
            if ((bi->encoding == TLF_ENC_RLE || bi->encoding == TLF_ENC_DICT) &&
                bi->compression == TLF_COMP_NONE && (uintptr_t)bytes % 8 == 0)
                check_runs(s, ci, b, bytes, &v);
        }
    }
    tscratch_free(&t);
}

/* Open by both paths and check everything. */
static inline void check_file(const uint8_t *file, size_t len, const tcol *cols, uint32_t n_cols)
{
    tl_error err = {0};
    tlf_seg *s = NULL;
    int rc = tlf_seg_open_mem(file, len, "t.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err);
    cr_assert_eq(rc, TL_OK, "open_mem: %s", err.msg);
    check_seg(s, file, cols, n_cols, TLF_DECODE_VERIFY);
    check_seg(s, file, cols, n_cols, TLF_DECODE_ZERO_COPY);
    cr_assert_eq(tlf_seg_verify_all(s, &err), TL_OK, "%s", err.msg);
    tlf_seg_close(s);

    uint64_t fo, fl;
    rc = tlf_seg_parse_trailer(file + len - TLF_TRAILER_SIZE, len, "t.seg", &fo, &fl, &err);
    cr_assert_eq(rc, TL_OK, "parse_trailer: %s", err.msg);
    uint8_t *foot = malloc(fl);
    memcpy(foot, file + fo, fl);
    rc = tlf_seg_open_footer(foot, fl, file + len - TLF_TRAILER_SIZE, len, "t.seg", &s, &err);
    free(foot); /* the segment keeps its own copy */
    cr_assert_eq(rc, TL_OK, "open_footer: %s", err.msg);
    cr_assert_eq(tlf_seg_file_size(s), len);
    check_seg(s, file, cols, n_cols, TLF_DECODE_VERIFY | TLF_DECODE_ZERO_COPY);
    tlf_seg_close(s);
}

#endif /* SEGMENT_TESTLIB_H */
