/*
 * pq_writer_test.c - the Parquet writer (format/src/pq_writer.c, spec/PARQUET.md
 * "Writer", rules PQ-W*). Files are written to memory and decoded twice:
 * by an independent walk in this file (pq_meta decoders + pq_page decoders:
 * every page header, CRC, size, offset and encoding is checked), and
 * through the reader (tl_pq_open_mem / tl_pq_read_chunk).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enc.h"
#include "pq_meta.h"
#include "pq_page.h"
#include "ticklake.h"
#include "tl_parquet.h"

/* ---- memory sink -------------------------------------------------------------- */

typedef struct msink {
    uint8_t *p;
    size_t len, cap;
    size_t fail_at; /* nonzero: fail a write that would pass this many bytes */
    unsigned writes;
} msink;

static int msink_write(void *ctx, const void *b, size_t n, tl_error *err)
{
    msink *s = ctx;
    s->writes++;
    if (s->fail_at && s->len + n > s->fail_at)
        return tl_error_set(err, TL_EIO, "mem sink: injected failure at byte %zu",
                            s->len);
    if (s->len + n > s->cap) {
        size_t c = s->cap ? s->cap : 4096;
        while (c < s->len + n)
            c *= 2;
        s->p = realloc(s->p, c);
        cr_assert(s->p);
        s->cap = c;
    }
    memcpy(s->p + s->len, b, n);
    s->len += n;
    return TL_OK;
}

static tlf_sink sink_of(msink *s)
{
    tlf_sink k = {msink_write, s};
    return k;
}

/* ---- test data ------------------------------------------------------------------- */

typedef struct tcol {
    tl_type type;
    uint64_t n;
    uint8_t *values;  /* n * 8 bytes room */
    uint8_t *validity;
    uint32_t *offs;
    uint8_t *data;
} tcol;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* n values of type; distinct = 0: mostly distinct values (fallback to
 * PLAIN), else that many distinct values (dictionary); null_mod > 0: row i
 * is null when i % null_mod == 1 (validity bitmap given either way when
 * with_validity). Extremes of each type appear. */
static void tcol_make(tcol *c, tl_type type, uint64_t n, uint64_t seed,
                      uint32_t distinct, uint32_t null_mod, int with_validity)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->n = n;
    c->values = calloc(n + 1, 8);
    if (with_validity) {
        c->validity = calloc((n + 8) / 8, 1);
        for (uint64_t i = 0; i < n; i++)
            if (!(null_mod && i % null_mod == 1))
                tl_bit_set(c->validity, i, 1);
    }
    uint64_t s = seed;
    if (type == TL_STRING) {
        c->offs = calloc(n + 1, 4);
        c->data = malloc(n * 80 + 1);
        uint32_t pos = 0;
        for (uint64_t i = 0; i < n; i++) {
            c->offs[i] = pos;
            if (c->validity && !tl_bit_get(c->validity, i))
                continue;
            uint64_t k = distinct ? rng_next(&s) % distinct : rng_next(&s);
            uint32_t len = (uint32_t)(k % 23);
            if (i % 97 == 5)
                len = 0; /* empty strings */
            if (i % 211 == 7)
                len = 75; /* longer than the statistics limit */
            for (uint32_t j = 0; j < len; j++)
                c->data[pos + j] = (uint8_t)('a' + (k >> (j % 8 * 5)) % 26);
            if (len && i % 13 == 3)
                c->data[pos] = 0xE2; /* bytes >= 0x80 compare unsigned */
            pos += len;
        }
        c->offs[n] = pos;
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = distinct ? rng_next(&s) % distinct * 0x9E3779B1ull
                              : rng_next(&s);
        if (c->validity && !tl_bit_get(c->validity, i))
            r = 0;
        else if (i % 101 == 1)
            r = 0x8000000000000000ull; /* signed minimum of every width */
        else if (i % 103 == 2)
            r = ~0ull; /* -1 / unsigned maximum */
        uint8_t *v = c->values;
        switch (type) {
        case TL_BOOL: v[i] = (uint8_t)(r & 1); break;
        case TL_INT8: case TL_UINT8: v[i] = (uint8_t)(r >> 56); break;
        case TL_INT16: case TL_UINT16: {
            uint16_t x = (uint16_t)(r >> 48);
            memcpy(v + 2 * i, &x, 2);
            break;
        }
        case TL_INT32: case TL_UINT32: case TL_DATE: {
            uint32_t x = (uint32_t)(r >> 32);
            memcpy(v + 4 * i, &x, 4);
            break;
        }
        case TL_FLOAT32: {
            float f = (float)((int64_t)r >> 40) / 8.0f;
            if (i % 89 == 3)
                f = NAN;
            if (i % 83 == 4)
                f = -0.0f;
            memcpy(v + 4 * i, &f, 4);
            break;
        }
        case TL_FLOAT64: {
            double d = (double)((int64_t)r >> 20) / 64.0;
            if (i % 89 == 3)
                d = NAN;
            if (i % 83 == 4)
                d = -0.0;
            if (i % 79 == 5)
                d = -INFINITY;
            memcpy(v + 8 * i, &d, 8);
            break;
        }
        default: /* INT64, UINT64, TIMESTAMP */
            memcpy(v + 8 * i, &r, 8);
            break;
        }
    }
}

static void tcol_free(tcol *c)
{
    free(c->values);
    free(c->validity);
    free(c->offs);
    free(c->data);
}

static tl_colvec tcol_vec(const tcol *c, uint64_t off)
{
    tl_colvec v;
    memset(&v, 0, sizeof v);
    if (c->type == TL_STRING) {
        v.offsets = c->offs + off;
        v.data = c->data;
    } else {
        v.values = c->values + off * tl_type_width(c->type);
    }
    /* validity of a slice must start at a byte: tests slice at multiples of 8 */
    v.validity = c->validity ? c->validity + off / 8 : NULL;
    return v;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* The physical value the writer must store for row i (INT32/FLOAT in the
 * low 32 bits). */
static uint64_t expect_phys(const tcol *c, uint64_t i, int micros)
{
    const uint8_t *v = c->values;
    switch (c->type) {
    case TL_BOOL: return v[i] != 0;
    case TL_INT8: return (uint32_t)(int32_t)(int8_t)v[i];
    case TL_UINT8: return v[i];
    case TL_INT16: { int16_t x; memcpy(&x, v + 2 * i, 2); return (uint32_t)(int32_t)x; }
    case TL_UINT16: { uint16_t x; memcpy(&x, v + 2 * i, 2); return x; }
    case TL_INT32: case TL_UINT32: case TL_DATE: case TL_FLOAT32: {
        uint32_t x;
        memcpy(&x, v + 4 * i, 4);
        return x;
    }
    case TL_TIMESTAMP: {
        int64_t x;
        memcpy(&x, v + 8 * i, 8);
        return micros ? (uint64_t)floor_div(x, 1000) : (uint64_t)x;
    }
    default: {
        uint64_t x;
        memcpy(&x, v + 8 * i, 8);
        return x;
    }
    }
}

static int is_null(const tcol *c, uint64_t i)
{
    return c->validity && !tl_bit_get(c->validity, i);
}

/* ---- independent decoding ---------------------------------------------------------- */

typedef struct dcol {      /* one decoded column over the whole file */
    uint64_t n;
    uint8_t *valid;        /* one byte per row */
    uint64_t *v;           /* fixed: physical bits */
    uint64_t *soff;        /* strings: (offset << 32 | len) into sdata */
    uint8_t *sdata;
    size_t slen, scap;
} dcol;

typedef struct pinfo {     /* what the walk saw of one chunk */
    uint32_t n_data_pages;
    uint64_t page_off[4096];
    uint32_t page_size[4096];
    uint64_t page_first_row[4096];
    uint32_t page_nulls[4096];
    int32_t page_enc[4096];
    int has_dict_page;
    uint32_t dict_n;
} pinfo;

static void dcol_init(dcol *d, uint64_t n)
{
    memset(d, 0, sizeof *d);
    d->valid = calloc(n + 1, 1);
    d->v = calloc(n + 1, 8);
    d->soff = calloc(n + 1, 8);
}

static void dcol_free(dcol *d)
{
    free(d->valid);
    free(d->v);
    free(d->soff);
    free(d->sdata);
}

static void sdata_add(dcol *d, const uint8_t *p, uint32_t len, uint64_t row)
{
    if (d->slen + len > d->scap) {
        d->scap = (d->slen + len) * 2 + 64;
        d->sdata = realloc(d->sdata, d->scap);
    }
    if (len)
        memcpy(d->sdata + d->slen, p, len);
    d->soff[row] = (uint64_t)d->slen << 32 | len;
    d->slen += len;
}

/* Decode n PLAIN values of the physical type into vals (fixed) or
 * string refs; returns bytes consumed. */
static size_t plain_vals(int phys, const uint8_t *src, size_t len, size_t n,
                         uint64_t *vals, uint8_t **sp, uint32_t *sl)
{
    tl_error e = {0};
    size_t used = 0;
    if (phys == TLF_PQM_BOOLEAN) {
        uint8_t *b = malloc(n + 1);
        cr_assert_eq(tlf_pq_plain_bool(src, len, b, n, 0, &used, &e), TL_OK, "%s", e.msg);
        for (size_t i = 0; i < n; i++)
            vals[i] = b[i];
        free(b);
    } else if (phys == TLF_PQM_BYTE_ARRAY) {
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            cr_assert(pos + 4 <= len);
            uint32_t l;
            memcpy(&l, src + pos, 4);
            cr_assert(pos + 4 + l <= len);
            sp[i] = (uint8_t *)src + pos + 4;
            sl[i] = l;
            pos += 4 + (size_t)l;
        }
        used = pos;
    } else {
        size_t w = (phys == TLF_PQM_INT32 || phys == TLF_PQM_FLOAT) ? 4 : 8;
        uint8_t *tmp = malloc(n * w + 1);
        cr_assert_eq(tlf_pq_plain_fixed(src, len, w, tmp, n, 0, &used, &e), TL_OK, "%s", e.msg);
        for (size_t i = 0; i < n; i++) {
            uint64_t x = 0;
            memcpy(&x, tmp + i * w, w);
            vals[i] = x;
        }
        free(tmp);
    }
    return used;
}

/* Walk one column chunk page by page. */
static void walk_chunk(const uint8_t *file, size_t flen, const tlf_pqm_col_chunk *cc,
                       const tlf_pqm_schema_elem *se, int64_t rg_rows,
                       uint64_t row0, dcol *out, pinfo *pi)
{
    const tlf_pqm_col_meta *m = &cc->meta_data;
    tl_error e = {0};
    int phys = se->type;
    int optional = se->repetition == TLF_PQM_OPTIONAL;
    int64_t start = m->has_dictionary_page_offset ? m->dictionary_page_offset
                                                  : m->data_page_offset;
    cr_assert(start >= 4 && start + m->total_compressed_size <= (int64_t)flen);
    if (m->has_dictionary_page_offset)
        cr_assert_lt(m->dictionary_page_offset, m->data_page_offset);
    memset(pi, 0, sizeof *pi);
    uint64_t *dict = NULL;
    uint8_t **dsp = NULL;
    uint32_t *dsl = NULL;
    uint32_t dn = 0;
    uint8_t *dbuf = NULL;
    size_t pos = (size_t)start, end = (size_t)(start + m->total_compressed_size);
    int64_t unc_total = 0;
    uint64_t row = 0;
    tlf_pq_codec_ctx *cx = tlf_pq_codec_ctx_new();
    while (pos < end) {
        tlf_pqm_page_header ph;
        size_t hl = 0;
        cr_assert_eq(tlf_pqm_decode_page_header(file + pos, end - pos, pos, &ph, &hl, &e),
                     TL_OK, "%s", e.msg);
        const uint8_t *body = file + pos + hl;
        size_t clen = (size_t)ph.compressed_page_size;
        cr_assert(pos + hl + clen <= end, "page at %zu overruns the chunk", pos);
        cr_assert(ph.has_crc, "page at %zu has no crc", pos);
        cr_assert_eq(ph.crc, tlf_pq_crc32(0, body, clen), "crc of page at %zu", pos);
        unc_total += (int64_t)hl + ph.uncompressed_page_size;
        size_t ulen = (size_t)ph.uncompressed_page_size;
        uint8_t *u = malloc(ulen + 1);
        if (ph.type == TLF_PQM_PAGE_DICTIONARY) {
            cr_assert_eq(pos, (size_t)start, "dictionary page not first");
            cr_assert(ph.has_dict_page);
            cr_assert_eq(ph.dict_page.encoding, TLF_PQM_ENC_PLAIN);
            cr_assert_eq(tlf_pq_decompress(cx, m->codec, body, clen, u, ulen, &e), TL_OK, "%s", e.msg);
            dn = (uint32_t)ph.dict_page.num_values;
            dict = calloc(dn + 1, 8);
            dsp = calloc(dn + 1, sizeof *dsp);
            dsl = calloc(dn + 1, 4);
            size_t used = plain_vals(phys, u, ulen, dn, dict, dsp, dsl);
            cr_assert_eq(used, ulen, "dictionary page: %zu of %zu bytes used", used, ulen);
            dbuf = u;
            u = NULL;
            pi->has_dict_page = 1;
            pi->dict_n = dn;
        } else {
            cr_assert(ph.type == TLF_PQM_PAGE_DATA || ph.type == TLF_PQM_PAGE_DATA_V2);
            cr_assert_lt(pi->n_data_pages, 4096);
            uint32_t k = pi->n_data_pages++;
            if (k == 0)
                cr_assert_eq((int64_t)pos, m->data_page_offset);
            pi->page_off[k] = pos;
            pi->page_size[k] = (uint32_t)(hl + clen);
            pi->page_first_row[k] = row;
            size_t nrows, lev_len = 0;
            int enc;
            const uint8_t *vals;
            size_t vlen;
            uint8_t *lev = NULL;
            if (ph.type == TLF_PQM_PAGE_DATA) {
                cr_assert(ph.has_data_page);
                nrows = (size_t)ph.data_page.num_values;
                enc = ph.data_page.encoding;
                cr_assert_eq(tlf_pq_decompress(cx, m->codec, body, clen, u, ulen, &e), TL_OK, "%s", e.msg);
                vals = u;
                vlen = ulen;
                lev = malloc(nrows + 1);
                if (optional) {
                    size_t used = 0;
                    cr_assert_eq(tlf_pq_levels_v1(u, ulen, 1, lev, nrows, 0, &used, &e), TL_OK, "%s", e.msg);
                    vals += used;
                    vlen -= used;
                } else {
                    memset(lev, 1, nrows);
                }
            } else {
                cr_assert(ph.has_data_page_v2);
                const tlf_pqm_data_page_v2 *v2 = &ph.data_page_v2;
                nrows = (size_t)v2->num_rows;
                cr_assert_eq(v2->num_values, v2->num_rows);
                cr_assert_eq(v2->repetition_levels_byte_length, 0);
                enc = v2->encoding;
                lev_len = (size_t)v2->definition_levels_byte_length;
                lev = malloc(nrows + 1);
                if (optional)
                    cr_assert_eq(tlf_pq_levels_v2(body, lev_len, 1, lev, nrows, 0, &e), TL_OK, "%s", e.msg);
                else {
                    cr_assert_eq(lev_len, 0);
                    memset(lev, 1, nrows);
                }
                if (!v2->is_compressed || m->codec == TL_PQ_UNCOMPRESSED) {
                    cr_assert_eq(clen, ulen);
                    memcpy(u, body, ulen);
                } else {
                    memcpy(u, body, lev_len);
                    cr_assert_eq(tlf_pq_decompress(cx, m->codec, body + lev_len, clen - lev_len,
                                                   u + lev_len, ulen - lev_len, &e),
                                 TL_OK, "%s", e.msg);
                }
                vals = u + lev_len;
                vlen = ulen - lev_len;
            }
            size_t nv = 0;
            for (size_t i = 0; i < nrows; i++)
                nv += lev[i];
            if (ph.type == TLF_PQM_PAGE_DATA_V2)
                cr_assert_eq((size_t)ph.data_page_v2.num_nulls, nrows - nv);
            pi->page_nulls[k] = (uint32_t)(nrows - nv);
            pi->page_enc[k] = enc;
            uint64_t *pv = calloc(nv + 1, 8);
            uint8_t **sp = calloc(nv + 1, sizeof *sp);
            uint32_t *sl = calloc(nv + 1, 4);
            if (enc == TLF_PQM_ENC_RLE_DICTIONARY) {
                cr_assert(dict, "dictionary-encoded page without a dictionary page");
                uint32_t *idx = calloc(nv + 1, 4);
                cr_assert_eq(tlf_pq_dict_indices(vals, vlen, idx, nv, dn, 0, &e), TL_OK, "%s", e.msg);
                for (size_t i = 0; i < nv; i++) {
                    pv[i] = dict[idx[i]];
                    sp[i] = dsp[idx[i]];
                    sl[i] = dsl[idx[i]];
                }
                free(idx);
            } else {
                cr_assert_eq(enc, TLF_PQM_ENC_PLAIN);
                size_t used = plain_vals(phys, vals, vlen, nv, pv, sp, sl);
                cr_assert_eq(used, vlen, "page at %zu: %zu of %zu value bytes used", pos, used, vlen);
            }
            size_t j = 0;
            for (size_t i = 0; i < nrows; i++) {
                uint64_t r = row0 + row + i;
                out->valid[r] = lev[i];
                if (!lev[i])
                    continue;
                if (phys == TLF_PQM_BYTE_ARRAY)
                    sdata_add(out, sp[j], sl[j], r);
                else
                    out->v[r] = pv[j];
                j++;
            }
            row += nrows;
            free(pv);
            free(sp);
            free(sl);
            free(lev);
        }
        free(u);
        pos += hl + clen;
    }
    cr_assert_eq(pos, end);
    cr_assert_eq((int64_t)row, rg_rows);
    cr_assert_eq(m->num_values, rg_rows);
    cr_assert_eq(m->total_uncompressed_size, unc_total);
    free(dict);
    free(dsp);
    free(dsl);
    free(dbuf);
    tlf_pq_codec_ctx_free(cx);
}

/* Check one chunk's page indexes against the walk. */
static void check_page_index(const uint8_t *file, size_t flen, const tlf_pqm_col_chunk *cc,
                             const pinfo *pi, int want_ci)
{
    tl_error e = {0};
    cr_assert(cc->has_offset_index_offset && cc->has_offset_index_length);
    cr_assert(cc->offset_index_offset + cc->offset_index_length <= (int64_t)flen);
    tlf_pqm_offset_index oi;
    cr_assert_eq(tlf_pqm_decode_offset_index(file + cc->offset_index_offset,
                                             (size_t)cc->offset_index_length, 0, &oi, &e),
                 TL_OK, "%s", e.msg);
    cr_assert_eq(oi.n_pages, pi->n_data_pages);
    for (uint32_t i = 0; i < oi.n_pages; i++) {
        cr_assert_eq((uint64_t)oi.page_locations[i].offset, pi->page_off[i], "page %u offset", i);
        cr_assert_eq((uint32_t)oi.page_locations[i].compressed_page_size, pi->page_size[i]);
        cr_assert_eq((uint64_t)oi.page_locations[i].first_row_index, pi->page_first_row[i]);
        if (i)
            cr_assert_gt(oi.page_locations[i].first_row_index,
                         oi.page_locations[i - 1].first_row_index);
    }
    tlf_pqm_offset_index_free(&oi);
    if (!want_ci) {
        cr_assert(!cc->has_column_index_offset);
        return;
    }
    cr_assert(cc->has_column_index_offset && cc->has_column_index_length);
    /* the page indexes follow the last row group's data */
    cr_assert_lt(cc->column_index_offset, cc->offset_index_offset);
    tlf_pqm_column_index ci;
    cr_assert_eq(tlf_pqm_decode_column_index(file + cc->column_index_offset,
                                             (size_t)cc->column_index_length, 0, &ci, &e),
                 TL_OK, "%s", e.msg);
    cr_assert_eq(ci.n_pages, pi->n_data_pages);
    cr_assert(ci.has_null_counts);
    for (uint32_t i = 0; i < ci.n_pages; i++) {
        cr_assert_eq((uint32_t)ci.null_counts[i], pi->page_nulls[i]);
        if (ci.null_pages[i])
            cr_assert_eq(ci.min_values[i].len, 0);
    }
    tlf_pqm_column_index_free(&ci);
}

typedef struct wcase {
    int codec, v2, micros, no_pi;
    uint32_t page_rows, page_bytes, dict_max;
    uint64_t rg_rows;
} wcase;

static void opts_of(const wcase *k, tl_pq_write_opts *o)
{
    tl_pq_write_opts_default(o);
    o->codec = k->codec;
    o->data_page_v2 = (uint8_t)k->v2;
    o->timestamp_micros = (uint8_t)k->micros;
    o->no_page_index = (uint8_t)k->no_pi;
    o->page_rows = k->page_rows;
    o->page_bytes = k->page_bytes;
    o->dict_max_bytes = k->dict_max;
    o->row_group_rows = k->rg_rows;
}

/* Write cols (batches of `batch` rows, a multiple of 8) to s. */
static void write_cols(const tcol *cols, uint32_t n_cols, const uint8_t *optional,
                       const tl_pq_write_opts *o, msink *s, uint64_t batch,
                       tl_pq_write_stats *st, tl_pq_writer **keep)
{
    tl_coldef defs[64];
    char names[64][16];
    for (uint32_t i = 0; i < n_cols; i++) {
        snprintf(names[i], sizeof names[i], "c%u", i);
        defs[i].name = names[i];
        defs[i].type = cols[i].type;
    }
    tl_pq_writer *w = NULL;
    tl_error e = {0};
    cr_assert_eq(tl_pq_writer_open(defs, n_cols, optional, o, sink_of(s), &w, &e), TL_OK, "%s", e.msg);
    uint64_t n = cols[0].n;
    for (uint64_t off = 0; off < n; off += batch) {
        uint64_t k = n - off < batch ? n - off : batch;
        tl_colvec v[64];
        for (uint32_t i = 0; i < n_cols; i++)
            v[i] = tcol_vec(&cols[i], off);
        cr_assert_eq(tl_pq_writer_write(w, v, k, &e), TL_OK, "%s", e.msg);
    }
    cr_assert_eq(tl_pq_writer_close(w, st, &e), TL_OK, "%s", e.msg);
    if (keep)
        *keep = w;
    else
        tl_pq_writer_free(w);
}

/* Decode the whole file independently and compare with cols. */
static void verify_walk(const msink *s, const tcol *cols, uint32_t n_cols,
                        const uint8_t *optional, const wcase *k)
{
    tl_error e = {0};
    cr_assert(s->len >= 12);
    cr_assert_eq(memcmp(s->p, "PAR1", 4), 0);
    cr_assert_eq(memcmp(s->p + s->len - 4, "PAR1", 4), 0);
    uint32_t flen;
    memcpy(&flen, s->p + s->len - 8, 4);
    cr_assert(flen + 12 <= s->len);
    tlf_pqm_file fm;
    cr_assert_eq(tlf_pqm_decode_file(s->p + s->len - 8 - flen, flen, 0, &fm, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(fm.n_schema, n_cols + 1);
    cr_assert_eq((uint64_t)fm.num_rows, cols[0].n);
    uint64_t n = cols[0].n;
    for (uint32_t c = 0; c < n_cols; c++) {
        const tlf_pqm_schema_elem *se = &fm.schema[c + 1];
        int opt = optional ? optional[c] : 1;
        cr_assert_eq(se->repetition, opt ? TLF_PQM_OPTIONAL : TLF_PQM_REQUIRED);
        dcol d;
        dcol_init(&d, n);
        uint64_t row0 = 0;
        for (uint32_t r = 0; r < fm.n_row_groups; r++) {
            const tlf_pqm_row_group *rg = &fm.row_groups[r];
            pinfo *pi = calloc(1, sizeof *pi);
            walk_chunk(s->p, s->len, &rg->columns[c], se, rg->num_rows, row0, &d, pi);
            const tlf_pqm_col_meta *m = &rg->columns[c].meta_data;
            int any_dict = 0, any_plain = 0;
            for (uint32_t p = 0; p < pi->n_data_pages; p++) {
                any_dict |= pi->page_enc[p] == TLF_PQM_ENC_RLE_DICTIONARY;
                any_plain |= pi->page_enc[p] == TLF_PQM_ENC_PLAIN;
                if (k->page_rows && p + 1 < pi->n_data_pages)
                    cr_assert_leq(pi->page_first_row[p + 1] - pi->page_first_row[p], k->page_rows);
            }
            cr_assert_eq(any_dict, pi->has_dict_page);
            cr_assert_eq(m->has_dictionary_page_offset, (uint8_t)pi->has_dict_page);
            int has_rle = 0, has_dict = 0, has_plain = 0;
            for (uint32_t x = 0; x < m->n_encodings; x++) {
                has_rle |= m->encodings[x] == TLF_PQM_ENC_RLE;
                has_dict |= m->encodings[x] == TLF_PQM_ENC_RLE_DICTIONARY;
                has_plain |= m->encodings[x] == TLF_PQM_ENC_PLAIN;
            }
            cr_assert_eq(has_dict, any_dict);
            cr_assert_eq(has_plain, any_plain || any_dict);
            cr_assert_eq(has_rle, opt);
            if (!k->no_pi) {
                int want_ci = 1;
                if (cols[c].type == TL_FLOAT32 || cols[c].type == TL_FLOAT64) {
                    /* a page whose values are all NaN has no bounds */
                    want_ci = rg->columns[c].has_column_index_offset;
                }
                check_page_index(s->p, s->len, &rg->columns[c], pi, want_ci);
            } else {
                cr_assert(!rg->columns[c].has_offset_index_offset);
                cr_assert(!rg->columns[c].has_column_index_offset);
            }
            row0 += (uint64_t)rg->num_rows;
            free(pi);
        }
        cr_assert_eq(row0, n);
        for (uint64_t i = 0; i < n; i++) {
            int nul = is_null(&cols[c], i) && opt;
            cr_assert_eq(d.valid[i], !nul, "column %u row %llu validity", c, (unsigned long long)i);
            if (nul)
                continue;
            if (cols[c].type == TL_STRING) {
                uint32_t l = cols[c].offs[i + 1] - cols[c].offs[i];
                cr_assert_eq((uint32_t)d.soff[i], l, "column %u row %llu length", c, (unsigned long long)i);
                cr_assert_eq(memcmp(d.sdata + (d.soff[i] >> 32), cols[c].data + cols[c].offs[i], l), 0);
            } else {
                uint64_t want = expect_phys(&cols[c], i, k->micros);
                cr_assert_eq(d.v[i], want, "column %u (%s) row %llu: %llx want %llx", c,
                             tl_type_name(cols[c].type), (unsigned long long)i,
                             (unsigned long long)d.v[i], (unsigned long long)want);
            }
        }
        dcol_free(&d);
    }
    tlf_pqm_file_free(&fm);
}

/* Read the file back through the reader and compare with cols. */
static void verify_reader(const msink *s, const tcol *cols, uint32_t n_cols,
                          const uint8_t *optional, int micros)
{
    tl_error e = {0};
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open_mem(s->p, s->len, "mem.parquet", &f, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_n_cols(f), n_cols);
    cr_assert_eq(tl_pq_n_rows(f), cols[0].n);
    tl_pq_colbuf cb;
    memset(&cb, 0, sizeof cb);
    for (uint32_t c = 0; c < n_cols; c++) {
        const tl_pq_colinfo *ci = tl_pq_col(f, c);
        cr_assert_eq(ci->type, cols[c].type, "column %u type %d", c, ci->type);
        int opt = optional ? optional[c] : 1;
        cr_assert_eq(ci->optional, opt);
        uint64_t row0 = 0;
        for (uint32_t r = 0; r < tl_pq_n_row_groups(f); r++) {
            cr_assert_eq(tl_pq_read_chunk(f, r, c, &cb, &e), TL_OK, "%s", e.msg);
            cr_assert_eq(cb.n, tl_pq_row_group_rows(f, r));
            if (cols[c].type == TL_TIMESTAMP)
                cr_assert_eq(cb.ts_unit, micros ? TL_PQ_MICROS : TL_PQ_NANOS);
            for (uint64_t i = 0; i < cb.n; i++) {
                uint64_t row = row0 + i;
                int nul = is_null(&cols[c], row) && opt;
                cr_assert_eq(tl_bit_get(cb.vec.validity, i), !nul, "column %u row %llu", c,
                             (unsigned long long)row);
                if (nul)
                    continue;
                if (cols[c].type == TL_STRING) {
                    uint32_t l = cols[c].offs[row + 1] - cols[c].offs[row];
                    cr_assert_eq(cb.vec.offsets[i + 1] - cb.vec.offsets[i], l);
                    cr_assert_eq(memcmp(cb.vec.data + cb.vec.offsets[i],
                                        cols[c].data + cols[c].offs[row], l), 0);
                } else {
                    size_t w = tl_type_width(cols[c].type);
                    const uint8_t *got = (const uint8_t *)cb.vec.values + i * w;
                    if (cols[c].type == TL_TIMESTAMP && micros) {
                        int64_t g;
                        memcpy(&g, got, 8);
                        cr_assert_eq((uint64_t)g, expect_phys(&cols[c], row, 1));
                    } else if (cols[c].type == TL_BOOL) {
                        cr_assert_eq(got[0], cols[c].values[row] != 0);
                    } else {
                        cr_assert_eq(memcmp(got, cols[c].values + row * w, w), 0,
                                     "column %u (%s) row %llu", c, tl_type_name(cols[c].type),
                                     (unsigned long long)row);
                    }
                }
            }
            row0 += cb.n;
        }
    }
    tl_pq_colbuf_free(&cb);
    tl_pq_close(f);
}

/* ---- the matrix ------------------------------------------------------------------ */

static const tl_type all_types[] = {TL_BOOL,   TL_INT8,    TL_INT16,   TL_INT32,  TL_INT64,
                                    TL_UINT8,  TL_UINT16,  TL_UINT32,  TL_UINT64, TL_FLOAT32,
                                    TL_FLOAT64, TL_TIMESTAMP, TL_DATE, TL_STRING};
#define N_TYPES 14

/* PQ-W1..W5: every type as REQUIRED, OPTIONAL without nulls and OPTIONAL with nulls,
 * dictionary-friendly and high-cardinality variants, in one file per
 * (codec, page version, timestamp unit) with small pages and row groups. */
static void matrix_case(const wcase *k, uint64_t n, uint64_t batch)
{
    tcol cols[N_TYPES * 4];
    uint8_t opt[N_TYPES * 4];
    uint32_t nc = 0;
    for (uint32_t t = 0; t < N_TYPES; t++) {
        /* REQUIRED, low cardinality */
        tcol_make(&cols[nc], all_types[t], n, 11 + t, 40, 0, 0);
        opt[nc++] = 0;
        /* OPTIONAL, nulls, high cardinality */
        tcol_make(&cols[nc], all_types[t], n, 23 + t, 0, 7, 1);
        opt[nc++] = 1;
        /* OPTIONAL, no nulls (validity given), low cardinality */
        tcol_make(&cols[nc], all_types[t], n, 37 + t, 300, 0, 1);
        opt[nc++] = 1;
        /* OPTIONAL, every other row null, 5 distinct values */
        tcol_make(&cols[nc], all_types[t], n, 41 + t, 5, 2, 1);
        opt[nc++] = 1;
    }
    msink s = {0};
    tl_pq_write_opts o;
    opts_of(k, &o);
    tl_pq_write_stats st;
    write_cols(cols, nc, opt, &o, &s, batch, &st, NULL);
    cr_assert_eq(st.rows, n);
    cr_assert_eq(st.file_bytes, s.len);
    verify_walk(&s, cols, nc, opt, k);
    verify_reader(&s, cols, nc, opt, k->micros);
    for (uint32_t i = 0; i < nc; i++)
        tcol_free(&cols[i]);
    free(s.p);
}

Test(pq_writer, every_type_round_trips_uncompressed_v1)
{
    wcase k = {TL_PQ_UNCOMPRESSED, 0, 0, 0, 700, 0, 0, 3000};
    matrix_case(&k, 7000, 2048);
}

Test(pq_writer, every_type_round_trips_zstd_v2)
{
    wcase k = {TL_PQ_ZSTD, 1, 0, 0, 500, 0, 0, 2500};
    matrix_case(&k, 6000, 1000);
}

Test(pq_writer, every_type_round_trips_snappy_v1_micros)
{
    wcase k = {TL_PQ_SNAPPY, 0, 1, 0, 1000, 0, 0, 4000};
    matrix_case(&k, 5000, 4096);
}

Test(pq_writer, every_type_round_trips_snappy_v2_no_page_index)
{
    wcase k = {TL_PQ_SNAPPY, 1, 1, 1, 0, 0, 0, 0};
    matrix_case(&k, 5000, 800);
}

Test(pq_writer, every_type_round_trips_gzip_small_pages_by_bytes)
{
    /* pages split by bytes (and a dictionary limit forcing fallback) */
    wcase k = {TL_PQ_GZIP, 0, 0, 0, 0, 600, 256, 2000};
    matrix_case(&k, 4000, 2000);
}

Test(pq_writer, every_type_round_trips_one_row_batches)
{
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 3, 0, 0, 10};
    matrix_case(&k, 37, 8);
}

/* ---- statistics -------------------------------------------------------------------- */

typedef struct fstats {
    tlf_pqm_file fm;
} fstats;

static void decode_footer(const msink *s, tlf_pqm_file *fm)
{
    tl_error e = {0};
    uint32_t flen;
    memcpy(&flen, s->p + s->len - 8, 4);
    cr_assert_eq(tlf_pqm_decode_file(s->p + s->len - 8 - flen, flen, 0, fm, &e), TL_OK, "%s", e.msg);
}

static void write_one(tl_type type, const void *values, const uint8_t *validity,
                      const uint32_t *offs, const uint8_t *data, uint64_t n,
                      const tl_pq_write_opts *o, msink *s)
{
    tl_coldef def = {"x", type};
    tl_colvec v = {values, validity, offs, data};
    tl_pq_writer *w;
    tl_error e = {0};
    cr_assert_eq(tl_pq_writer_open(&def, 1, NULL, o, sink_of(s), &w, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_writer_write(w, &v, n, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_OK, "%s", e.msg);
    tl_pq_writer_free(w);
}

static double bin_f64(tlf_pqm_bin b)
{
    double d;
    cr_assert_eq(b.len, 8);
    memcpy(&d, b.p, 8);
    return d;
}

static float bin_f32(tlf_pqm_bin b)
{
    float f;
    cr_assert_eq(b.len, 4);
    memcpy(&f, b.p, 4);
    return f;
}

Test(pq_writer, float_stats_skip_nan_and_sign_zeros)
{
    /* PQ-W8: NaN never in the bounds; a zero min is -0.0, a zero max +0.0 */
    double v[6] = {NAN, 0.0, 3.5, NAN, 1.0, -0.0};
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_FLOAT64, v, NULL, NULL, NULL, 6, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_stats *st = &fm.row_groups[0].columns[0].meta_data.statistics;
    cr_assert(st->has_min_value && st->has_max_value && st->has_min && st->has_max);
    double mn = bin_f64(st->min_value), mx = bin_f64(st->max_value);
    cr_assert(mn == 0.0 && signbit(mn), "min is -0.0");
    cr_assert_eq(mx, 3.5);
    cr_assert(st->is_min_value_exact && st->is_max_value_exact);
    tlf_pqm_file_free(&fm);
    free(s.p);

    /* all zeros: min -0.0, max +0.0 */
    float z[3] = {0.0f, -0.0f, 0.0f};
    memset(&s, 0, sizeof s);
    write_one(TL_FLOAT32, z, NULL, NULL, NULL, 3, &o, &s);
    decode_footer(&s, &fm);
    st = &fm.row_groups[0].columns[0].meta_data.statistics;
    float fmn = bin_f32(st->min_value), fmx = bin_f32(st->max_value);
    cr_assert(fmn == 0.0f && signbit(fmn));
    cr_assert(fmx == 0.0f && !signbit(fmx));
    tlf_pqm_file_free(&fm);
    free(s.p);
}

Test(pq_writer, all_nan_and_all_null_have_no_bounds)
{
    double v[4] = {NAN, NAN, NAN, NAN};
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.page_rows = 2;
    write_one(TL_FLOAT64, v, NULL, NULL, NULL, 4, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_col_chunk *cc = &fm.row_groups[0].columns[0];
    const tlf_pqm_stats *st = &cc->meta_data.statistics;
    cr_assert(!st->has_min_value && !st->has_max_value && !st->has_min && !st->has_max);
    cr_assert(st->has_null_count && st->null_count == 0);
    /* no valid page bounds: no ColumnIndex; the OffsetIndex stays */
    cr_assert(!cc->has_column_index_offset);
    cr_assert(cc->has_offset_index_offset);
    tlf_pqm_file_free(&fm);
    free(s.p);

    int64_t iv[5] = {0};
    uint8_t none = 0;
    memset(&s, 0, sizeof s);
    write_one(TL_INT64, iv, &none, NULL, NULL, 5, &o, &s);
    decode_footer(&s, &fm);
    cc = &fm.row_groups[0].columns[0];
    st = &cc->meta_data.statistics;
    cr_assert(!st->has_min_value && !st->has_max_value);
    cr_assert_eq(st->null_count, 5);
    cr_assert(!cc->meta_data.has_dictionary_page_offset);
    tl_error e = {0};
    tlf_pqm_column_index ci;
    cr_assert(cc->has_column_index_offset);
    cr_assert_eq(tlf_pqm_decode_column_index(s.p + cc->column_index_offset,
                                             (size_t)cc->column_index_length, 0, &ci, &e), TL_OK);
    cr_assert_eq(ci.n_pages, 3);
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_eq(ci.null_pages[i], 1);
        cr_assert_eq(ci.min_values[i].len, 0);
    }
    cr_assert_eq(ci.null_counts[0], 2);
    cr_assert_eq(ci.null_counts[2], 1);
    tlf_pqm_column_index_free(&ci);
    tlf_pqm_file_free(&fm);
    free(s.p);
}

Test(pq_writer, string_stats_truncate_long_values)
{
    /* PQ-W9: > 64 bytes: min = prefix, max = prefix with its last byte
     * < 0xFF incremented, both inexact; unsigned byte order */
    uint8_t data[400];
    uint32_t offs[4];
    memset(data, 'a', 100);          /* "aaaa..." 100 bytes */
    memset(data + 100, 'z', 70);     /* "zzz...z" 70 bytes */
    data[100 + 63] = 0xFF;           /* byte 63 of the max is 0xFF */
    memcpy(data + 170, "\xC3\xA9t\xC3\xA9", 5); /* > "zzz" bytewise unsigned */
    offs[0] = 0;
    offs[1] = 100;
    offs[2] = 170;
    offs[3] = 175;
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_STRING, NULL, NULL, offs, data, 2, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_stats *st = &fm.row_groups[0].columns[0].meta_data.statistics;
    cr_assert(st->has_min_value && st->has_max_value);
    cr_assert(!st->has_min && !st->has_max, "no legacy min/max for strings");
    cr_assert_eq(st->min_value.len, 64);
    cr_assert_eq(memcmp(st->min_value.p, data, 64), 0);
    cr_assert(!st->is_min_value_exact);
    /* max "zzz...(63 z) 0xFF z.." -> first 63 bytes with the last z -> '{' */
    cr_assert_eq(st->max_value.len, 63);
    cr_assert_eq(memcmp(st->max_value.p, data + 100, 62), 0);
    cr_assert_eq(st->max_value.p[62], 'z' + 1);
    cr_assert(!st->is_max_value_exact);
    tlf_pqm_file_free(&fm);
    free(s.p);

    /* three values: the é value is the max (0xC3 > 'z'), exact */
    memset(&s, 0, sizeof s);
    write_one(TL_STRING, NULL, NULL, offs, data, 3, &o, &s);
    decode_footer(&s, &fm);
    st = &fm.row_groups[0].columns[0].meta_data.statistics;
    cr_assert_eq(st->max_value.len, 5);
    cr_assert_eq(memcmp(st->max_value.p, data + 170, 5), 0);
    cr_assert(st->is_max_value_exact);
    tlf_pqm_file_free(&fm);
    free(s.p);
}

Test(pq_writer, legacy_stats_only_for_signed_order_types)
{
    /* PQ-W7: unsigned ints get min_value/max_value in unsigned order and no
     * legacy min/max; signed ints get both */
    uint32_t u[3] = {5, 0x90000000u, 7};
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_UINT32, u, NULL, NULL, NULL, 3, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_stats *st = &fm.row_groups[0].columns[0].meta_data.statistics;
    cr_assert(!st->has_min && !st->has_max);
    uint32_t a, b;
    memcpy(&a, st->min_value.p, 4);
    memcpy(&b, st->max_value.p, 4);
    cr_assert_eq(a, 5);
    cr_assert_eq(b, 0x90000000u);
    tlf_pqm_file_free(&fm);
    free(s.p);

    int16_t i16[3] = {-300, 200, -5};
    memset(&s, 0, sizeof s);
    write_one(TL_INT16, i16, NULL, NULL, NULL, 3, &o, &s);
    decode_footer(&s, &fm);
    st = &fm.row_groups[0].columns[0].meta_data.statistics;
    cr_assert(st->has_min && st->has_max);
    int32_t x, y;
    memcpy(&x, st->min.p, 4);
    memcpy(&y, st->max.p, 4);
    cr_assert_eq(x, -300);
    cr_assert_eq(y, 200);
    cr_assert_eq(memcmp(st->min.p, st->min_value.p, 4), 0);
    tlf_pqm_file_free(&fm);
    free(s.p);

    uint8_t bo[2] = {1, 1};
    memset(&s, 0, sizeof s);
    write_one(TL_BOOL, bo, NULL, NULL, NULL, 2, &o, &s);
    decode_footer(&s, &fm);
    st = &fm.row_groups[0].columns[0].meta_data.statistics;
    cr_assert(st->has_min && st->min_value.len == 1 && st->min_value.p[0] == 1);
    tlf_pqm_file_free(&fm);
    free(s.p);
}

Test(pq_writer, timestamp_micros_floors_negative_values)
{
    /* PQ-W6 */
    int64_t ts[4] = {-1, -1000, -1001, 1999};
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.timestamp_micros = 1;
    write_one(TL_TIMESTAMP, ts, NULL, NULL, NULL, 4, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_schema_elem *se = &fm.schema[1];
    cr_assert(se->has_logical && se->logical.id == TLF_PQM_LT_TIMESTAMP);
    cr_assert_eq(se->logical.unit, TLF_PQM_UNIT_MICROS);
    cr_assert(se->logical.is_adjusted_to_utc);
    cr_assert(se->has_converted_type && se->converted_type == TLF_PQM_CT_TIMESTAMP_MICROS);
    const tlf_pqm_stats *st = &fm.row_groups[0].columns[0].meta_data.statistics;
    int64_t mn, mx;
    memcpy(&mn, st->min_value.p, 8);
    memcpy(&mx, st->max_value.p, 8);
    cr_assert_eq(mn, -2);
    cr_assert_eq(mx, 1);
    tlf_pqm_file_free(&fm);
    tcol c = {TL_TIMESTAMP, 4, (uint8_t *)ts, NULL, NULL, NULL};
    verify_reader(&s, &c, 1, NULL, 1);
    free(s.p);
}

/* ---- page index ------------------------------------------------------------------- */

static int32_t boundary_of(tl_type type, const void *v, uint64_t n, uint32_t page_rows)
{
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.page_rows = page_rows;
    write_one(type, v, NULL, NULL, NULL, n, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_col_chunk *cc = &fm.row_groups[0].columns[0];
    tlf_pqm_column_index ci;
    tl_error e = {0};
    cr_assert_eq(tlf_pqm_decode_column_index(s.p + cc->column_index_offset,
                                             (size_t)cc->column_index_length, 0, &ci, &e), TL_OK);
    int32_t b = ci.boundary_order;
    tlf_pqm_column_index_free(&ci);
    tlf_pqm_file_free(&fm);
    free(s.p);
    return b;
}

Test(pq_writer, boundary_order_is_computed)
{
    /* PQ-W10 */
    int64_t v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = i * 3 - 1000;
    cr_assert_eq(boundary_of(TL_INT64, v, 1000, 100), TLF_PQM_ASCENDING);
    for (int i = 0; i < 1000; i++)
        v[i] = 5000 - i;
    cr_assert_eq(boundary_of(TL_INT64, v, 1000, 100), TLF_PQM_DESCENDING);
    for (int i = 0; i < 1000; i++)
        v[i] = (i * 7919) % 1000;
    cr_assert_eq(boundary_of(TL_INT64, v, 1000, 100), TLF_PQM_UNORDERED);
    /* unsigned order: 0x8000... after 0x7fff... */
    uint64_t u[400];
    for (int i = 0; i < 400; i++)
        u[i] = 0x7FFFFFFFFFFFFF00ull + (uint64_t)i;
    cr_assert_eq(boundary_of(TL_UINT64, u, 400, 50), TLF_PQM_ASCENDING);
    double d[300];
    for (int i = 0; i < 300; i++)
        d[i] = -1.5 + i * 0.25;
    cr_assert_eq(boundary_of(TL_FLOAT64, d, 300, 30), TLF_PQM_ASCENDING);
}

Test(pq_writer, offset_index_points_at_page_headers)
{
    /* PQ-W10, PQ-W11: several row groups: offsets are absolute, first rows
     * restart at 0 */
    tcol c;
    tcol_make(&c, TL_INT32, 10000, 3, 0, 5, 1);
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.page_rows = 999;
    o.row_group_rows = 4000;
    write_cols(&c, 1, NULL, &o, &s, 10000, NULL, NULL);
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 999, 0, 0, 4000};
    verify_walk(&s, &c, 1, NULL, &k);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    cr_assert_eq(fm.n_row_groups, 3);
    int64_t prev_end = 4;
    for (uint32_t r = 0; r < 3; r++) {
        const tlf_pqm_row_group *rg = &fm.row_groups[r];
        cr_assert(rg->has_ordinal && rg->ordinal == (int16_t)r);
        cr_assert(rg->has_file_offset);
        const tlf_pqm_col_meta *m = &rg->columns[0].meta_data;
        int64_t start = m->has_dictionary_page_offset ? m->dictionary_page_offset
                                                      : m->data_page_offset;
        cr_assert_eq(rg->file_offset, start);
        cr_assert_eq(start, prev_end, "chunks are contiguous");
        cr_assert_eq(rg->total_compressed_size, m->total_compressed_size);
        cr_assert_eq(rg->total_byte_size, m->total_uncompressed_size);
        prev_end = start + m->total_compressed_size;
    }
    /* the ColumnIndexes start right after the last chunk */
    cr_assert_eq(fm.row_groups[0].columns[0].column_index_offset, prev_end);
    tlf_pqm_file_free(&fm);
    tcol_free(&c);
    free(s.p);
}

/* ---- dictionary ------------------------------------------------------------------- */

Test(pq_writer, dictionary_falls_back_to_plain_mid_chunk)
{
    /* strings: few distinct values first (dictionary pays), then distinct
     * values until the dictionary passes dict_max_bytes */
    uint64_t n = 20000;
    uint32_t *offs = calloc(n + 1, 4);
    uint8_t *data = malloc(n * 16);
    uint32_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        offs[i] = pos;
        int l = i < 8000 ? snprintf((char *)data + pos, 16, "s%llu", (unsigned long long)(i % 10))
                         : snprintf((char *)data + pos, 16, "v%llu", (unsigned long long)i);
        pos += (uint32_t)l;
    }
    offs[n] = pos;
    tcol c = {TL_STRING, n, NULL, NULL, offs, data};
    c.values = calloc(1, 8);
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.page_rows = 1000;
    o.dict_max_bytes = 4096;
    write_cols(&c, 1, NULL, &o, &s, 3000, NULL, NULL);
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 1000, 0, 4096, 0};
    verify_walk(&s, &c, 1, NULL, &k);
    verify_reader(&s, &c, 1, NULL, 0);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_col_meta *m = &fm.row_groups[0].columns[0].meta_data;
    cr_assert(m->has_dictionary_page_offset);
    int plain = 0, dict = 0;
    for (uint32_t i = 0; i < m->n_encodings; i++) {
        plain |= m->encodings[i] == TLF_PQM_ENC_PLAIN;
        dict |= m->encodings[i] == TLF_PQM_ENC_RLE_DICTIONARY;
    }
    cr_assert(plain && dict);
    tlf_pqm_file_free(&fm);
    tcol_free(&c);
    free(s.p);
}

Test(pq_writer, distinct_numbers_are_written_plain_without_dictionary)
{
    /* PQ-W4: the probe finds that a dictionary does not pay; no dictionary
     * page is written for the chunk */
    int64_t *v = malloc(50000 * 8);
    for (int i = 0; i < 50000; i++)
        v[i] = 1700000000000000000ll + (int64_t)i * 1234567;
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_TIMESTAMP, v, NULL, NULL, NULL, 50000, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    const tlf_pqm_col_meta *m = &fm.row_groups[0].columns[0].meta_data;
    cr_assert(!m->has_dictionary_page_offset);
    /* OPTIONAL (levels: RLE) + PLAIN values */
    cr_assert_eq(m->n_encodings, 2);
    for (uint32_t i = 0; i < m->n_encodings; i++)
        cr_assert(m->encodings[i] == TLF_PQM_ENC_PLAIN || m->encodings[i] == TLF_PQM_ENC_RLE);
    tlf_pqm_file_free(&fm);
    tcol c = {TL_TIMESTAMP, 50000, (uint8_t *)v, NULL, NULL, NULL};
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 20000, 0, 0, 0};
    verify_walk(&s, &c, 1, NULL, &k);
    free(v);
    free(s.p);
}

/* Data page encodings of chunk (rg, col), in order, from the page headers;
 * returns the number of data pages; *dict_page = whether a dictionary page
 * leads the chunk. */
static uint32_t chunk_page_encs(const msink *s, const tlf_pqm_file *fm, uint32_t rg,
                                uint32_t col, int32_t *encs, uint32_t max, int *dict_page)
{
    const tlf_pqm_col_meta *m = &fm->row_groups[rg].columns[col].meta_data;
    int64_t start = m->has_dictionary_page_offset ? m->dictionary_page_offset
                                                  : m->data_page_offset;
    size_t pos = (size_t)start, end = (size_t)(start + m->total_compressed_size);
    uint32_t n = 0;
    *dict_page = 0;
    cr_assert_leq(end, s->len);
    while (pos < end) {
        tlf_pqm_page_header ph;
        size_t hl = 0;
        tl_error e = {0};
        cr_assert_eq(tlf_pqm_decode_page_header(s->p + pos, end - pos, pos, &ph, &hl, &e),
                     TL_OK, "%s", e.msg);
        if (ph.type == TLF_PQM_PAGE_DICTIONARY) {
            cr_assert_eq(pos, (size_t)start, "dictionary page not first");
            *dict_page = 1;
        } else {
            cr_assert_lt(n, max);
            encs[n++] = ph.has_data_page_v2 ? ph.data_page_v2.encoding
                                            : ph.data_page.encoding;
        }
        pos += hl + (size_t)ph.compressed_page_size;
    }
    cr_assert_eq(pos, end);
    return n;
}

/* Doubles whose prefix is 7/8 distinct (every 8th value repeats the one
 * before), cycling through `period` values: a dictionary looks costly on
 * the first pages and pays once the cycle repeats. */
static double *cycling_prices(uint64_t n, uint64_t period)
{
    double *v = malloc(n * 8);
    cr_assert(v);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = i % period;
        v[i] = 100.0 + 0.05 * (double)(j - j / 8);
    }
    return v;
}

Test(pq_writer, dictionary_kept_when_the_prefix_is_mostly_distinct)
{
    /* PQ-W4: at 4,096 values 7/8 are distinct (not hopeless); the size test
     * waits for 131,072 values, when the repeats have made it pay */
    uint64_t n = 300000;
    double *v = cycling_prices(n, 30000);
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_FLOAT64, v, NULL, NULL, NULL, n, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    cr_assert_eq(fm.n_row_groups, 1);
    int32_t encs[64];
    int dp = 0;
    uint32_t np = chunk_page_encs(&s, &fm, 0, 0, encs, 64, &dp);
    cr_assert(dp, "no dictionary page");
    cr_assert_eq(np, 15); /* 20,000-row pages */
    for (uint32_t i = 0; i < np; i++)
        cr_assert_eq(encs[i], TLF_PQM_ENC_RLE_DICTIONARY, "page %u", i);
    tlf_pqm_file_free(&fm);
    tcol c = {TL_FLOAT64, n, (uint8_t *)v, NULL, NULL, NULL};
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 20000, 0, 0, 0};
    verify_walk(&s, &c, 1, NULL, &k);
    verify_reader(&s, &c, 1, NULL, 0);
    free(v);
    free(s.p);
}

Test(pq_writer, dictionary_dropped_at_chunk_end_when_it_does_not_pay)
{
    /* PQ-W4: a chunk that ends inside its first page gets the size test at
     * its end; 6,000 values, 7/8 distinct: PLAIN, no dictionary page */
    uint64_t n = 6000;
    double *v = cycling_prices(n, n);
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_FLOAT64, v, NULL, NULL, NULL, n, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    int32_t encs[4];
    int dp = 1;
    cr_assert_eq(chunk_page_encs(&s, &fm, 0, 0, encs, 4, &dp), 1);
    cr_assert(!dp);
    cr_assert_eq(encs[0], TLF_PQM_ENC_PLAIN);
    cr_assert(!fm.row_groups[0].columns[0].meta_data.has_dictionary_page_offset);
    tlf_pqm_file_free(&fm);
    tcol c = {TL_FLOAT64, n, (uint8_t *)v, NULL, NULL, NULL};
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 20000, 0, 0, 0};
    verify_walk(&s, &c, 1, NULL, &k);
    verify_reader(&s, &c, 1, NULL, 0);
    free(v);
    free(s.p);
}

Test(pq_writer, dictionary_size_test_after_half_a_small_row_group)
{
    /* PQ-W4: with 10,000-row row groups the size test starts at 5,000
     * values; a 7/8-distinct column that never repeats then stops paying:
     * the pages before are dictionary-encoded, the rest of the chunk PLAIN */
    uint64_t n = 20000;
    double *v = cycling_prices(n, n);
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.page_rows = 1000;
    o.row_group_rows = 10000;
    write_one(TL_FLOAT64, v, NULL, NULL, NULL, n, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    cr_assert_eq(fm.n_row_groups, 2);
    for (uint32_t rg = 0; rg < 2; rg++) {
        int32_t encs[16];
        int dp = 0;
        uint32_t np = chunk_page_encs(&s, &fm, rg, 0, encs, 16, &dp);
        cr_assert_eq(np, 10);
        cr_assert(dp, "row group %u: no dictionary page", rg);
        for (uint32_t i = 0; i < np; i++)
            cr_assert_eq(encs[i], i < 5 ? TLF_PQM_ENC_RLE_DICTIONARY : TLF_PQM_ENC_PLAIN,
                         "row group %u page %u", rg, i);
    }
    tlf_pqm_file_free(&fm);
    tcol c = {TL_FLOAT64, n, (uint8_t *)v, NULL, NULL, NULL};
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 1000, 0, 0, 10000};
    verify_walk(&s, &c, 1, NULL, &k);
    verify_reader(&s, &c, 1, NULL, 0);
    free(v);
    free(s.p);
}

Test(pq_writer, large_fixed_width_dictionary_round_trips)
{
    /* 75,000 entries (each value twice): the slot table grows past 2 MiB
     * (the huge-page path) and the dictionary still pays and stays */
    uint64_t n = 150000;
    int64_t *v = malloc(n * 8);
    for (uint64_t i = 0; i < n; i++)
        v[i] = (int64_t)(i / 2) * 7919 - 300000000;
    msink s = {0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    write_one(TL_INT64, v, NULL, NULL, NULL, n, &o, &s);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    int32_t encs[16];
    int dp = 0;
    uint32_t np = chunk_page_encs(&s, &fm, 0, 0, encs, 16, &dp);
    cr_assert(dp);
    cr_assert_eq(np, 8);
    for (uint32_t i = 0; i < np; i++)
        cr_assert_eq(encs[i], TLF_PQM_ENC_RLE_DICTIONARY, "page %u", i);
    tlf_pqm_file_free(&fm);
    tcol c = {TL_INT64, n, (uint8_t *)v, NULL, NULL, NULL};
    wcase k = {TL_PQ_ZSTD, 0, 0, 0, 20000, 0, 0, 0};
    verify_walk(&s, &c, 1, NULL, &k);
    verify_reader(&s, &c, 1, NULL, 0);
    free(v);
    free(s.p);
}

/* ---- footer ------------------------------------------------------------------------- */

Test(pq_writer, footer_schema_and_metadata)
{
    /* PQ-W5, PQ-W11, PQ-W12 */
    tl_coldef defs[14];
    char names[14][8];
    for (int i = 0; i < N_TYPES; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        defs[i].name = names[i];
        defs[i].type = all_types[i];
    }
    uint8_t opt[14] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    tl_pq_sorting_col sc[2] = {{13, 0, 1}, {11, 1, 0}};
    tl_pq_kv kv[2] = {{"ticklake.table", "ticks"}, {"ticklake.version", NULL}};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.sorting = sc;
    o.n_sorting = 2;
    o.kv = kv;
    o.n_kv = 2;
    msink s = {0};
    tl_pq_writer *w;
    tl_error e = {0};
    cr_assert_eq(tl_pq_writer_open(defs, 14, opt, &o, sink_of(&s), &w, &e), TL_OK, "%s", e.msg);
    tcol cols[14];
    tl_colvec v[14];
    for (int i = 0; i < N_TYPES; i++) {
        tcol_make(&cols[i], all_types[i], 100, (uint64_t)i, 10, 0, 0);
        v[i] = tcol_vec(&cols[i], 0);
    }
    cr_assert_eq(tl_pq_writer_write(w, v, 100, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_writer_end_row_group(w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_end_row_group(w, &e), TL_OK); /* empty: no-op */
    cr_assert_eq(tl_pq_writer_write(w, v, 50, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_OK, "%s", e.msg);
    tl_pq_writer_free(w);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    cr_assert_eq(fm.version, 1);
    cr_assert_eq(fm.num_rows, 150);
    cr_assert_eq(fm.n_row_groups, 2);
    cr_assert_eq(fm.row_groups[0].num_rows, 100);
    cr_assert_eq(fm.row_groups[1].num_rows, 50);
    /* PQ-W12: "ticklake version <TL_VERSION_STRING> (build <id>)", the id
     * one non-empty word (git describe, or "unknown") */
    cr_assert(fm.has_created_by);
    {
        const char *pre = "ticklake version " TL_VERSION_STRING " (build ";
        size_t pl = strlen(pre), cl = fm.created_by.len;
        const char *cb = fm.created_by.s;
        cr_assert_gt(cl, pl + 1, "created_by '%.*s'", (int)cl, cb);
        cr_assert(memcmp(cb, pre, pl) == 0, "created_by '%.*s'", (int)cl, cb);
        cr_assert_eq(cb[cl - 1], ')', "created_by '%.*s'", (int)cl, cb);
        for (size_t i = pl; i + 1 < cl; i++)
            cr_assert(cb[i] != ' ' && cb[i] != '(' && cb[i] != ')',
                      "created_by '%.*s': build id is not one word", (int)cl, cb);
    }
    cr_assert(fm.has_kv && fm.n_kv == 2);
    cr_assert_eq(strcmp(fm.kv[0].key.s, "ticklake.table"), 0);
    cr_assert(fm.kv[0].has_value && strcmp(fm.kv[0].value.s, "ticks") == 0);
    cr_assert(!fm.kv[1].has_value);
    cr_assert(fm.has_column_orders && fm.n_column_orders == 14);
    for (int i = 0; i < 14; i++)
        cr_assert_eq(fm.column_orders[i].id, TLF_PQM_ORDER_TYPE_DEFINED);
    const tlf_pqm_schema_elem *root = &fm.schema[0];
    cr_assert_eq(strcmp(root->name.s, "schema"), 0);
    cr_assert(root->has_num_children && root->num_children == 14 && !root->has_type);
    struct { int phys, lt, bits, sgn, ct; } want[14] = {
        {TLF_PQM_BOOLEAN, 0, 0, 0, -1},
        {TLF_PQM_INT32, TLF_PQM_LT_INTEGER, 8, 1, TLF_PQM_CT_INT_8},
        {TLF_PQM_INT32, TLF_PQM_LT_INTEGER, 16, 1, TLF_PQM_CT_INT_16},
        {TLF_PQM_INT32, TLF_PQM_LT_INTEGER, 32, 1, TLF_PQM_CT_INT_32},
        {TLF_PQM_INT64, TLF_PQM_LT_INTEGER, 64, 1, TLF_PQM_CT_INT_64},
        {TLF_PQM_INT32, TLF_PQM_LT_INTEGER, 8, 0, TLF_PQM_CT_UINT_8},
        {TLF_PQM_INT32, TLF_PQM_LT_INTEGER, 16, 0, TLF_PQM_CT_UINT_16},
        {TLF_PQM_INT32, TLF_PQM_LT_INTEGER, 32, 0, TLF_PQM_CT_UINT_32},
        {TLF_PQM_INT64, TLF_PQM_LT_INTEGER, 64, 0, TLF_PQM_CT_UINT_64},
        {TLF_PQM_FLOAT, 0, 0, 0, -1},
        {TLF_PQM_DOUBLE, 0, 0, 0, -1},
        {TLF_PQM_INT64, TLF_PQM_LT_TIMESTAMP, 0, 0, -1},
        {TLF_PQM_INT32, TLF_PQM_LT_DATE, 0, 0, TLF_PQM_CT_DATE},
        {TLF_PQM_BYTE_ARRAY, TLF_PQM_LT_STRING, 0, 0, TLF_PQM_CT_UTF8},
    };
    for (int i = 0; i < 14; i++) {
        const tlf_pqm_schema_elem *se = &fm.schema[i + 1];
        cr_assert_eq(strcmp(se->name.s, names[i]), 0);
        cr_assert(se->has_type && se->type == want[i].phys, "column %d type", i);
        cr_assert(se->has_repetition);
        cr_assert_eq(se->repetition, opt[i] ? TLF_PQM_OPTIONAL : TLF_PQM_REQUIRED);
        cr_assert_eq(se->has_logical, want[i].lt != 0, "column %d logical", i);
        if (want[i].lt) {
            cr_assert_eq(se->logical.id, want[i].lt);
            if (want[i].lt == TLF_PQM_LT_INTEGER) {
                cr_assert_eq(se->logical.bit_width, want[i].bits);
                cr_assert_eq(se->logical.is_signed, want[i].sgn);
            }
            if (want[i].lt == TLF_PQM_LT_TIMESTAMP) {
                cr_assert_eq(se->logical.unit, TLF_PQM_UNIT_NANOS);
                cr_assert(se->logical.is_adjusted_to_utc);
            }
        }
        cr_assert_eq(se->has_converted_type, want[i].ct >= 0, "column %d converted", i);
        if (want[i].ct >= 0)
            cr_assert_eq(se->converted_type, want[i].ct);
    }
    for (uint32_t r = 0; r < 2; r++) {
        const tlf_pqm_row_group *rg = &fm.row_groups[r];
        cr_assert(rg->has_sorting_columns && rg->n_sorting_columns == 2);
        cr_assert_eq(rg->sorting_columns[0].column_idx, 13);
        cr_assert_eq(rg->sorting_columns[0].nulls_first, 1);
        cr_assert_eq(rg->sorting_columns[1].column_idx, 11);
        cr_assert_eq(rg->sorting_columns[1].descending, 1);
        for (uint32_t c = 0; c < 14; c++) {
            const tlf_pqm_col_meta *m = &rg->columns[c].meta_data;
            cr_assert_eq(m->n_path, 1);
            cr_assert_eq(strcmp(m->path_in_schema[0].s, names[c]), 0);
            cr_assert_eq(m->codec, TL_PQ_ZSTD);
            cr_assert_eq(m->type, want[c].phys);
        }
    }
    tlf_pqm_file_free(&fm);
    for (int i = 0; i < N_TYPES; i++)
        tcol_free(&cols[i]);
    free(s.p);
}

Test(pq_writer, empty_file_is_valid)
{
    tl_coldef def = {"x", TL_INT64};
    msink s = {0};
    tl_pq_writer *w;
    tl_error e = {0};
    tl_pq_write_stats st;
    cr_assert_eq(tl_pq_writer_open(&def, 1, NULL, NULL, sink_of(&s), &w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_close(w, &st, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(st.rows, 0);
    cr_assert_eq(st.row_groups, 0);
    cr_assert_eq(st.cols[0].has_minmax, 0);
    tl_pq_writer_free(w);
    tlf_pqm_file fm;
    decode_footer(&s, &fm);
    cr_assert_eq(fm.num_rows, 0);
    cr_assert_eq(fm.n_row_groups, 0);
    tlf_pqm_file_free(&fm);
    tl_pq_file *f;
    cr_assert_eq(tl_pq_open_mem(s.p, s.len, "empty", &f, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_n_rows(f), 0);
    tl_pq_close(f);
    free(s.p);
}

Test(pq_writer, file_stats_cover_every_row_group)
{
    /* PQ-W13 */
    tl_coldef defs[3] = {{"d", TL_FLOAT64}, {"s", TL_STRING}, {"t", TL_TIMESTAMP}};
    double d[6] = {2.0, NAN, -7.25, 0.0, 1e300, 3.0};
    uint8_t dv = 0x3F & ~0x20; /* row 5 null */
    uint32_t offs[7] = {0, 1, 3, 6, 6, 8, 9};
    const uint8_t *data = (const uint8_t *)"bccdddeef";
    int64_t t[6] = {-1500, 10, 20, 30, 40, 9999};
    tl_colvec v[3] = {{d, &dv, NULL, NULL}, {NULL, NULL, offs, data}, {t, NULL, NULL, NULL}};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.row_group_rows = 2;
    o.timestamp_micros = 1;
    msink s = {0};
    tl_pq_writer *w;
    tl_error e = {0};
    tl_pq_write_stats st;
    cr_assert_eq(tl_pq_writer_open(defs, 3, NULL, &o, sink_of(&s), &w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_write(w, v, 6, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(tl_pq_writer_close(w, &st, &e), TL_OK, "%s", e.msg);
    cr_assert_eq(st.rows, 6);
    cr_assert_eq(st.row_groups, 3);
    cr_assert_eq(st.file_bytes, s.len);
    cr_assert(st.cols[0].has_minmax);
    cr_assert_eq(st.cols[0].min.f, -7.25);
    cr_assert_eq(st.cols[0].max.f, 1e300);
    cr_assert_eq(st.cols[0].null_count, 1);
    cr_assert(st.cols[1].has_minmax);
    cr_assert_eq(st.cols[1].smin_len, 0); /* the empty string */
    cr_assert_eq(st.cols[1].smax_len, 1);
    cr_assert_eq(st.cols[1].smax[0], 'f');
    /* timestamps: nanoseconds of the (floored) microseconds written */
    cr_assert_eq(st.cols[2].min.i, -2000);
    cr_assert_eq(st.cols[2].max.i, 9000);
    tl_pq_writer_free(w);
    free(s.p);
}

/* ---- errors ------------------------------------------------------------------------- */

Test(pq_writer, null_in_required_column_names_column_and_row)
{
    /* PQ-W14 */
    tl_coldef defs[2] = {{"a", TL_INT32}, {"qty", TL_INT32}};
    uint8_t opt[2] = {0, 0};
    int32_t a[20] = {0}, q[20] = {0};
    uint8_t val[3] = {0xFF, 0xFF, 0xFF};
    tl_colvec v[2] = {{a, NULL, NULL, NULL}, {q, val, NULL, NULL}};
    msink s = {0};
    tl_pq_writer *w;
    tl_error e = {0};
    cr_assert_eq(tl_pq_writer_open(defs, 2, opt, NULL, sink_of(&s), &w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_write(w, v, 20, &e), TL_OK, "%s", e.msg);
    tl_bit_set(val, 13, 0);
    cr_assert_eq(tl_pq_writer_write(w, v, 20, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "'qty'") && strstr(e.msg, "REQUIRED"), "%s", e.msg);
    cr_assert(strstr(e.msg, "row 13 of the batch") && strstr(e.msg, "file row 33"), "%s", e.msg);
    /* the writer refuses everything now */
    tl_error e2 = {0};
    cr_assert_eq(tl_pq_writer_write(w, v, 1, &e2), TL_EINVAL);
    cr_assert(strstr(e2.msg, "earlier call failed"), "%s", e2.msg);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e2), TL_EINVAL);
    cr_assert_eq(tl_pq_writer_end_row_group(w, &e2), TL_EINVAL);
    tl_pq_writer_free(w);
    free(s.p);
}

Test(pq_writer, bad_options_and_columns_are_refused)
{
    /* PQ-W14 */
    tl_coldef defs[2] = {{"a", TL_INT32}, {"b", TL_STRING}};
    msink s = {0};
    tl_pq_writer *w = (tl_pq_writer *)1;
    tl_error e = {0};
    tl_pq_write_opts o;
#define REFUSE(code, what, ...)                                                       \
    do {                                                                              \
        memset(&e, 0, sizeof e);                                                      \
        cr_assert_eq(tl_pq_writer_open(__VA_ARGS__, &w, &e), code, "%s", what);        \
        cr_assert_null(w);                                                            \
        cr_assert(strstr(e.msg, "parquet writer"), "%s", e.msg);                      \
        w = (tl_pq_writer *)1;                                                        \
    } while (0)
    tl_pq_write_opts_default(&o);
    REFUSE(TL_EINVAL, "no columns", defs, 0, NULL, &o, sink_of(&s));
    tl_coldef dup[2] = {{"a", TL_INT32}, {"a", TL_INT64}};
    REFUSE(TL_EINVAL, "duplicate", dup, 2, NULL, &o, sink_of(&s));
    cr_assert(strstr(e.msg, "duplicate column name 'a'"));
    tl_coldef empty[1] = {{"", TL_INT32}};
    REFUSE(TL_EINVAL, "empty name", empty, 1, NULL, &o, sink_of(&s));
    tl_coldef badt[1] = {{"x", (tl_type)99}};
    REFUSE(TL_EINVAL, "bad type", badt, 1, NULL, &o, sink_of(&s));
    cr_assert(strstr(e.msg, "'x'"));
    uint8_t bad_opt[2] = {0, 2};
    REFUSE(TL_EINVAL, "optional flag", defs, 2, bad_opt, &o, sink_of(&s));
    o.codec = TL_PQ_LZO;
    REFUSE(TL_EUNSUPPORTED, "lzo", defs, 2, NULL, &o, sink_of(&s));
    o.codec = TL_PQ_LZ4;
    REFUSE(TL_EUNSUPPORTED, "lz4 hadoop", defs, 2, NULL, &o, sink_of(&s));
    o.codec = 42;
    REFUSE(TL_EINVAL, "unknown codec", defs, 2, NULL, &o, sink_of(&s));
    tl_pq_write_opts_default(&o);
    o.zstd_level = 99;
    REFUSE(TL_EINVAL, "zstd level", defs, 2, NULL, &o, sink_of(&s));
    tl_pq_write_opts_default(&o);
    o.data_page_v2 = 2;
    REFUSE(TL_EINVAL, "v2 flag", defs, 2, NULL, &o, sink_of(&s));
    tl_pq_write_opts_default(&o);
    tl_pq_sorting_col sc = {5, 0, 0};
    o.sorting = &sc;
    o.n_sorting = 1;
    REFUSE(TL_EINVAL, "sorting column", defs, 2, NULL, &o, sink_of(&s));
    cr_assert(strstr(e.msg, "sorting[0].col 5"));
    tl_pq_write_opts_default(&o);
    o.n_kv = 1;
    REFUSE(TL_EINVAL, "kv NULL", defs, 2, NULL, &o, sink_of(&s));
    tl_pq_write_opts_default(&o);
    o.page_rows = 0x80000000u;
    REFUSE(TL_EINVAL, "page rows", defs, 2, NULL, &o, sink_of(&s));
    cr_assert_eq(s.len, 0, "nothing written for refused opens");
    /* decreasing string offsets */
    tl_pq_write_opts_default(&o);
    cr_assert_eq(tl_pq_writer_open(defs, 2, NULL, &o, sink_of(&s), &w, &e), TL_OK);
    int32_t a[3] = {1, 2, 3};
    uint32_t offs[4] = {0, 3, 2, 4};
    tl_colvec v[2] = {{a, NULL, NULL, NULL}, {NULL, NULL, offs, (const uint8_t *)"abcd"}};
    cr_assert_eq(tl_pq_writer_write(w, v, 3, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "'b'") && strstr(e.msg, "offsets decrease at row 1"), "%s", e.msg);
    tl_pq_writer_free(w);
    free(s.p);
#undef REFUSE
}

Test(pq_writer, sink_failure_propagates_and_poisons_the_writer)
{
    /* PQ-W14 */
    tl_coldef def = {"x", TL_INT64};
    int64_t v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = i;
    tl_colvec cv = {v, NULL, NULL, NULL};
    tl_error e = {0};
    tl_pq_writer *w;
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.row_group_rows = 500;

    /* at open: "PAR1" cannot be written */
    msink s = {0};
    s.fail_at = 2;
    cr_assert_eq(tl_pq_writer_open(&def, 1, NULL, &o, sink_of(&s), &w, &e), TL_EIO);
    cr_assert(strstr(e.msg, "injected failure"), "%s", e.msg);

    /* at a row-group flush inside write() */
    memset(&s, 0, sizeof s);
    s.fail_at = 100;
    cr_assert_eq(tl_pq_writer_open(&def, 1, NULL, &o, sink_of(&s), &w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_write(w, &cv, 1000, &e), TL_EIO);
    cr_assert(strstr(e.msg, "injected failure") && strstr(e.msg, "row group 0"), "%s", e.msg);
    cr_assert_eq(tl_pq_writer_write(w, &cv, 10, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "injected failure"), "names the first error: %s", e.msg);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_EINVAL);
    tl_pq_writer_free(w);
    free(s.p);

    /* at close (footer) */
    memset(&s, 0, sizeof s);
    s.fail_at = 0;
    cr_assert_eq(tl_pq_writer_open(&def, 1, NULL, &o, sink_of(&s), &w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_write(w, &cv, 400, &e), TL_OK);
    s.fail_at = s.len + 10;
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_EIO);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_EINVAL);
    tl_pq_writer_free(w);
    free(s.p);

    /* calls after a successful close are refused too */
    memset(&s, 0, sizeof s);
    cr_assert_eq(tl_pq_writer_open(&def, 1, NULL, &o, sink_of(&s), &w, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_OK);
    cr_assert_eq(tl_pq_writer_write(w, &cv, 1, &e), TL_EINVAL);
    cr_assert(strstr(e.msg, "after close"), "%s", e.msg);
    tl_pq_writer_free(w);
    free(s.p);
}

/* ---- throughput (measured, not asserted) ------------------------------------------ */

static int null_sink(void *ctx, const void *b, size_t n, tl_error *err)
{
    (void)b;
    (void)err;
    *(uint64_t *)ctx += n;
    return TL_OK;
}

/* TL_PQW_BENCH_ROWS=N in the environment: write N generated tick rows (35
 * columns, sorted table order) and print rows/s and bytes; default skipped. */
Test(pq_writer, tick_schema_throughput)
{
    const char *env = getenv("TL_PQW_BENCH_ROWS");
    if (!env)
        cr_skip_test("set TL_PQW_BENCH_ROWS to measure");
    uint64_t rows = strtoull(env, NULL, 10);
    const char *codec = getenv("TL_PQW_BENCH_CODEC");
    const char *ncols_env = getenv("TL_PQW_BENCH_COLS");
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.rows_per_day = rows / 2;
    go.sorted = 1;
    tl_gen *g;
    tl_error e = {0};
    cr_assert_eq(tl_gen_open(&go, &g, &e), TL_OK, "%s", e.msg);
    uint32_t nc;
    const tl_coldef *schema = tl_ticks_schema(&nc);
    if (ncols_env)
        nc = (uint32_t)atoi(ncols_env);
    /* pre-generate so that only the writer is timed */
    tl_batch *batches = calloc(4096, sizeof *batches);
    tl_colvec **vecs = calloc(4096, sizeof *vecs);
    uint64_t *ns = calloc(4096, sizeof *ns);
    uint32_t nb = 0;
    int done = 0;
    while (!done) {
        tl_batch b;
        cr_assert_eq(tl_gen_next(g, 65536, &b, &done, &e), TL_OK);
        if (b.n_rows == 0)
            break;
        /* copy the batch (the generator reuses its memory) */
        vecs[nb] = calloc(nc, sizeof(tl_colvec));
        for (uint32_t c = 0; c < nc; c++) {
            const tl_colvec *src = &b.cols[c];
            tl_colvec *d = &vecs[nb][c];
            if (schema[c].type == TL_STRING) {
                uint32_t *o = malloc(((size_t)b.n_rows + 1) * 4);
                memcpy(o, src->offsets, ((size_t)b.n_rows + 1) * 4);
                uint8_t *dd = malloc(o[b.n_rows] + 1);
                memcpy(dd, src->data, o[b.n_rows]);
                d->offsets = o;
                d->data = dd;
            } else {
                size_t w = tl_type_width(schema[c].type) * b.n_rows;
                void *p = malloc(w);
                memcpy(p, src->values, w);
                d->values = p;
            }
        }
        ns[nb++] = b.n_rows;
    }
    tl_gen_close(g);
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    if (codec)
        cr_assert_eq(tl_pq_codec_parse(codec, &o.codec, &e), TL_OK);
    if (getenv("TL_PQW_BENCH_PAGE_ROWS"))
        o.page_rows = (uint32_t)atol(getenv("TL_PQW_BENCH_PAGE_ROWS"));
    if (getenv("TL_PQW_BENCH_PAGE_BYTES"))
        o.page_bytes = (uint32_t)atol(getenv("TL_PQW_BENCH_PAGE_BYTES"));
    if (getenv("TL_PQW_BENCH_LEVEL"))
        o.zstd_level = atoi(getenv("TL_PQW_BENCH_LEVEL"));
    if (getenv("TL_PQW_BENCH_MICROS"))
        o.timestamp_micros = 1;
    if (getenv("TL_PQW_BENCH_RG_ROWS"))
        o.row_group_rows = (uint64_t)atol(getenv("TL_PQW_BENCH_RG_ROWS"));
    uint64_t bytes = 0;
    tlf_sink sk = {null_sink, &bytes};
    /* TL_PQW_BENCH_OUT=path: also keep the file (for DuckDB comparisons) */
    const char *outp = getenv("TL_PQW_BENCH_OUT");
    msink keep = {0};
    if (outp)
        sk = sink_of(&keep);
    tl_pq_writer *w;
    struct timespec t0, t1;
    int repeat = getenv("TL_PQW_BENCH_REPEAT") ? atoi(getenv("TL_PQW_BENCH_REPEAT")) : 1;
    for (int rep = 1; rep < repeat; rep++) { /* warm-up / profiling runs */
        uint64_t junk = 0;
        tlf_sink js = {null_sink, &junk};
        cr_assert_eq(tl_pq_writer_open(schema, nc, NULL, &o, js, &w, &e), TL_OK);
        for (uint32_t i = 0; i < nb; i++)
            cr_assert_eq(tl_pq_writer_write(w, vecs[i], ns[i], &e), TL_OK, "%s", e.msg);
        cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_OK, "%s", e.msg);
        tl_pq_writer_free(w);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(tl_pq_writer_open(schema, nc, NULL, &o, sk, &w, &e), TL_OK);
    uint64_t total = 0;
    for (uint32_t i = 0; i < nb; i++) {
        cr_assert_eq(tl_pq_writer_write(w, vecs[i], ns[i], &e), TL_OK, "%s", e.msg);
        total += ns[i];
    }
    cr_assert_eq(tl_pq_writer_close(w, NULL, &e), TL_OK, "%s", e.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tl_pq_writer_free(w);
    if (outp) {
        bytes = keep.len;
        FILE *fp = fopen(outp, "wb");
        cr_assert(fp && fwrite(keep.p, 1, keep.len, fp) == keep.len);
        fclose(fp);
        free(keep.p);
    }
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "pq_writer: %llu rows x %u cols, codec %s: %.3f s, %.0f rows/s, %llu bytes "
                    "(%.1f bytes/row)\n",
            (unsigned long long)total, nc, tl_pq_codec_name(o.codec), sec, (double)total / sec,
            (unsigned long long)bytes, (double)bytes / (double)total);
    for (uint32_t i = 0; i < nb; i++) {
        for (uint32_t c = 0; c < nc; c++) {
            free((void *)vecs[i][c].values);
            free((void *)vecs[i][c].offsets);
            free((void *)vecs[i][c].data);
        }
        free(vecs[i]);
    }
    free(vecs);
    free(batches);
    free(ns);
}
