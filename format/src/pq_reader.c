/*
 * pq_reader.c - the reader half of tl_parquet.h: opens a flat Parquet file
 * (by path with pread, or in memory), validates its footer against the
 * file, maps every leaf column to one tl_type, and decodes column chunks
 * (dictionary + data pages v1/v2) into reusable tl_pq_colbuf buffers.
 *
 * File layout (parquet-format):
 *   offset 0          "PAR1" (4 bytes; another value is tolerated: readers
 *                     in the wild never check it, spec/PARQUET.md PQ-R3)
 *   4 ..              column chunks: per chunk [dictionary page] data pages;
 *                     a page = Thrift PageHeader + compressed_page_size bytes
 *   size-8-L .. size-8  FileMetaData (Thrift compact, L bytes)
 *   size-8            L, u32 little-endian
 *   size-4            "PAR1" ("PARE" = encrypted footer: refused)
 *
 * DATA_PAGE (v1) body, all of it compressed: [rep levels: absent for flat
 * columns] [def levels when OPTIONAL: u32 length + RLE/bit-packed hybrid,
 * or deprecated BIT_PACKED] values. DATA_PAGE_V2 body: rep levels, def
 * levels (uncompressed, lengths in the header), then values (compressed
 * only when is_compressed).
 *
 * Invariants:
 *   - every offset, size and count read from the file is checked against
 *     the file size, the chunk, the page, or a hard limit before it is used
 *     or sizes an allocation; output buffers grow with the values actually
 *     decoded (bounded by the row group's row count, <= PQR_MAX_RG_ROWS);
 *   - tl_pq_read_chunk only reads the tl_pq_file (pread is positional):
 *     all mutable state lives in the colbuf's priv, so distinct colbufs may
 *     decode chunks of one file from several threads at once;
 *   - dictionaries are converted once to the output type, data pages then
 *     gather from them; values of a page are decoded densely and spread
 *     over their slots (backwards, in place) when the page holds nulls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pq_meta.h"
#include "pq_page.h"
#include "tl_parquet.h"

#define PQR_MAX_PAGE_BYTES ((size_t)1 << 30)  /* decompressed page */
#define PQR_MAX_RG_ROWS ((uint64_t)INT32_MAX) /* rows of one row group */
#define PQR_MAX_FLBA_LEN (1 << 20)            /* FIXED_LEN_BYTE_ARRAY width */
#define PQR_MAX_DEC_PRECISION 1000
#define PQR_MAX_DEC_BYTES 512 /* a BYTE_ARRAY decimal value */
#define PQR_JD_EPOCH 2440588  /* Julian day of 1970-01-01 */

#define PQR_TRY(expr)                                                          \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != TL_OK)                                                      \
            return rc_;                                                        \
    } while (0)

/* How physical values become output values. */
enum {
    CV_COPY,    /* same bytes: BOOLEAN (1 byte), INT32, INT64, FLOAT, DOUBLE */
    CV_BIN,     /* BYTE_ARRAY -> TL_STRING */
    CV_FLBA,    /* FIXED_LEN_BYTE_ARRAY -> TL_STRING */
    CV_I8,      /* INT32 -> int8 (range checked) */
    CV_I16,     /* INT32 -> int16 */
    CV_U8,      /* INT32 -> uint8 */
    CV_U16,     /* INT32 -> uint16 */
    CV_INT96,   /* INT96 -> timestamp ns (or µs) */
    CV_F16,     /* FLBA(2) FLOAT16 -> float */
    CV_DEC_DBL, /* DECIMAL -> double */
    CV_DEC_TXT, /* DECIMAL -> exact text */
};

typedef struct pqr_col {
    tl_pq_colinfo info;
    char desc[128];
    int conv;
    size_t pw;      /* physical width of fixed types (BOOLEAN: 1), 0 for BYTE_ARRAY */
    size_t ow;      /* output width, 0 for TL_STRING */
} pqr_col;

struct tl_pq_file {
    char *name;
    int fd;               /* -1: in memory */
    const uint8_t *mem;
    uint64_t size;
    tlf_pqm_file meta;
    uint32_t n_cols;
    pqr_col *cols;
    uint64_t n_rows;
    uint64_t data_end;    /* first byte of the footer */
    tl_pq_kv *kv;
    uint32_t n_kv;
};

/* Per colbuf storage (tl_pq_colbuf.priv). */
typedef struct pqr_scratch {
    uint8_t *raw;   size_t raw_cap;   /* chunk bytes (files read by pread) */
    uint8_t *page;  size_t page_cap;  /* decompressed page */
    uint8_t *vals;  size_t vals_cap;  /* output values */
    uint8_t *valid; size_t valid_cap;
    uint32_t *offs; size_t offs_cap;  /* output offsets (entries) */
    uint8_t *data;  size_t data_cap;  /* output string bytes */
    uint8_t *phys;  size_t phys_cap;  /* physical values before conversion */
    uint32_t *poffs; size_t poffs_cap;
    uint8_t *pdata; size_t pdata_cap;
    uint32_t *idx;  size_t idx_cap;   /* dictionary indices (entries) */
    uint8_t *dvals; size_t dvals_cap; /* dictionary, output typed */
    uint32_t *doffs; size_t doffs_cap;
    uint8_t *ddata; size_t ddata_cap;
    tlf_pq_codec_ctx *codec;
} pqr_scratch;

/* One tl_pq_read_chunk call. */
typedef struct pqr_ctx {
    const tl_pq_file *f;
    const pqr_col *col;
    pqr_scratch *s;
    uint32_t rg, ci;
    uint32_t page;       /* index of the current page in the chunk */
    uint64_t page_off;   /* file offset of its header */
    uint64_t rows;       /* rows of the row group */
    uint64_t vd;         /* values (slots) decoded so far */
    uint64_t cap_rows;   /* output capacity in values */
    uint64_t data_used;  /* output string bytes */
    int ts_unit;         /* TIMESTAMP output unit (INT96 may switch to µs) */
    uint64_t sub_us_dropped; /* INT96 values floored to µs with ns lost */
    int any_null;
    int lenient_idx;     /* the strict hybrid decoder refused this chunk's */
    int lenient_def;     /* indices / levels once: go tolerant directly */
    int have_dict;
    uint32_t dict_n;
    uint64_t dict_used;  /* dictionary string bytes */
} pqr_ctx;

/* ---- small helpers ---------------------------------------------------------- */

static int pqr_grow(void *pp, size_t *cap, size_t need, tl_error *err)
{
    void **p = (void **)pp;
    if (need <= *cap && *p)
        return TL_OK;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    void *q = realloc(*p, n);
    if (!q)
        return tl_error_set(err, TL_ENOMEM, "out of memory (%zu bytes)", n);
    *p = q;
    *cap = n;
    return TL_OK;
}

static uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static const char *pqr_phys_name(int t)
{
    return tlf_pqm_type_name(t);
}

/* Sets err to "<file>: row group R, column 'c'[, page P at byte B]: <msg>". */
static int pqr_fail(const pqr_ctx *x, tl_error *err, int code, int with_page,
                    const char *fmt, ...) TL_PRINTF(5, 6);
static int pqr_fail(const pqr_ctx *x, tl_error *err, int code, int with_page,
                    const char *fmt, ...)
{
    char m[TL_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (with_page)
        return tl_error_set(err, code, "%s: row group %u, column '%s', page %u at byte %llu: %s",
                            x->f->name, x->rg, x->col->info.name, x->page,
                            (unsigned long long)x->page_off, m);
    return tl_error_set(err, code, "%s: row group %u, column '%s': %s", x->f->name, x->rg,
                        x->col->info.name, m);
}

/* Prefixes an error set by a lower layer (pq_meta, pq_page). */
static int pqr_prefix(const pqr_ctx *x, tl_error *err, int rc)
{
    tl_error_prefix(err, "%s: row group %u, column '%s', page %u at byte %llu: ", x->f->name,
                    x->rg, x->col->info.name, x->page, (unsigned long long)x->page_off);
    return rc;
}

/* ---- I/O ---------------------------------------------------------------------- */

static int pqr_pread(const tl_pq_file *f, void *dst, size_t len, uint64_t off, tl_error *err)
{
    if (off > f->size || len > f->size - off)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: read of %zu bytes at byte %llu past the end of the file "
                            "(%llu bytes)",
                            f->name, len, (unsigned long long)off, (unsigned long long)f->size);
    if (f->fd < 0) {
        memcpy(dst, f->mem + off, len);
        return TL_OK;
    }
    uint8_t *p = (uint8_t *)dst;
    while (len) {
        ssize_t k = pread(f->fd, p, len, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return tl_error_sys(err, errno, "%s: pread of %zu bytes at byte %llu", f->name, len,
                                (unsigned long long)off);
        }
        if (k == 0)
            return tl_error_set(err, TL_EIO, "%s: file shrank while reading (byte %llu)",
                                f->name, (unsigned long long)off);
        p += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return TL_OK;
}

/* ---- schema -> column info ------------------------------------------------------ */

static int pqr_fail_col(const tl_pq_file *f, tl_error *err, int code, const char *col,
                        const char *fmt, ...) TL_PRINTF(5, 6);
static int pqr_fail_col(const tl_pq_file *f, tl_error *err, int code, const char *col,
                        const char *fmt, ...)
{
    char m[TL_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return tl_error_set(err, code, "%s: column '%s': %s", f->name, col, m);
}

/* Most decimal digits a two's complement value of nbytes can hold. */
static int pqr_dec_max_digits(size_t nbytes)
{
    /* floor(log10(2^(8n-1))) = floor((8n-1) * 0.30103) */
    return (int)(((double)nbytes * 8.0 - 1.0) * 0.30102999566398120);
}

static int pqr_map_column(tl_pq_file *f, const tlf_pqm_schema_elem *e, pqr_col *c,
                          tl_error *err)
{
    tl_pq_colinfo *ci = &c->info;
    ci->name = e->name.s;
    ci->physical = e->type;
    ci->type_length = e->type == TL_PQ_FIXED_LEN_BYTE_ARRAY ? e->type_length : 0;
    ci->optional = e->repetition == TLF_PQM_OPTIONAL;
    const tlf_pqm_logical *lt = e->has_logical && e->logical.known ? &e->logical : NULL;
    int ct = e->has_converted_type ? e->converted_type : -1;
    int lid = lt ? lt->id : 0;
    char ldesc[80] = "";
    if (e->has_logical)
        tlf_pqm_logical_desc(&e->logical, ldesc, sizeof ldesc);
    else if (ct >= 0)
        snprintf(ldesc, sizeof ldesc, "%s", tlf_pqm_converted_type_name(ct));

    int is_dec = lid == TLF_PQM_LT_DECIMAL || (!lt && ct == TLF_PQM_CT_DECIMAL);
    int prec = 0, scale = 0;
    if (is_dec) {
        if (lt) {
            prec = lt->dec_precision;
            scale = lt->dec_scale;
        } else {
            if (!e->has_precision)
                return pqr_fail_col(f, err, TL_ECORRUPT, ci->name,
                                    "DECIMAL without a precision");
            prec = e->precision;
            scale = e->has_scale ? e->scale : 0;
        }
        if (prec < 1 || scale < 0 || scale > prec)
            return pqr_fail_col(f, err, TL_ECORRUPT, ci->name,
                                "invalid DECIMAL(%d,%d): expected 0 <= scale <= precision, "
                                "precision >= 1",
                                prec, scale);
        if (prec > PQR_MAX_DEC_PRECISION)
            return pqr_fail_col(f, err, TL_EUNSUPPORTED, ci->name,
                                "DECIMAL precision %d is above the supported %d", prec,
                                PQR_MAX_DEC_PRECISION);
        if (e->type != TL_PQ_INT32 && e->type != TL_PQ_INT64 && e->type != TL_PQ_BYTE_ARRAY &&
            e->type != TL_PQ_FIXED_LEN_BYTE_ARRAY)
            is_dec = 0; /* not a valid annotation: fall back to the physical type */
    }

    switch (e->type) {
    case TL_PQ_BOOLEAN:
        ci->type = TL_BOOL;
        c->conv = CV_COPY;
        c->pw = 1;
        break;
    case TL_PQ_INT32:
        c->pw = 4;
        c->conv = CV_COPY;
        ci->type = TL_INT32;
        if (is_dec) {
            break;
        } else if (lid == TLF_PQM_LT_DATE || (!lt && ct == TLF_PQM_CT_DATE)) {
            ci->type = TL_DATE;
        } else if (lid == TLF_PQM_LT_INTEGER || (!lt && ct >= TLF_PQM_CT_UINT_8 &&
                                                  ct <= TLF_PQM_CT_INT_32)) {
            int bw, sgn;
            if (lt) {
                bw = lt->bit_width;
                sgn = lt->is_signed;
            } else {
                static const int bws[] = {8, 16, 32, 64, 8, 16, 32};
                bw = bws[ct - TLF_PQM_CT_UINT_8];
                sgn = ct >= TLF_PQM_CT_INT_8;
            }
            if (bw == 8) {
                ci->type = sgn ? TL_INT8 : TL_UINT8;
                c->conv = sgn ? CV_I8 : CV_U8;
            } else if (bw == 16) {
                ci->type = sgn ? TL_INT16 : TL_UINT16;
                c->conv = sgn ? CV_I16 : CV_U16;
            } else if (bw == 32) {
                ci->type = sgn ? TL_INT32 : TL_UINT32;
            }
        }
        break;
    case TL_PQ_INT64:
        c->pw = 8;
        c->conv = CV_COPY;
        ci->type = TL_INT64;
        if (is_dec) {
            break;
        } else if (lid == TLF_PQM_LT_TIMESTAMP && lt->unit >= TLF_PQM_UNIT_MILLIS &&
                   lt->unit <= TLF_PQM_UNIT_NANOS) {
            ci->type = TL_TIMESTAMP;
            ci->ts_unit = lt->unit == TLF_PQM_UNIT_MILLIS   ? TL_PQ_MILLIS
                          : lt->unit == TLF_PQM_UNIT_MICROS ? TL_PQ_MICROS
                                                            : TL_PQ_NANOS;
            ci->ts_utc = lt->is_adjusted_to_utc;
        } else if (!lt && (ct == TLF_PQM_CT_TIMESTAMP_MILLIS ||
                           ct == TLF_PQM_CT_TIMESTAMP_MICROS)) {
            ci->type = TL_TIMESTAMP;
            ci->ts_unit = ct == TLF_PQM_CT_TIMESTAMP_MILLIS ? TL_PQ_MILLIS : TL_PQ_MICROS;
            ci->ts_utc = 1; /* the legacy types are UTC-normalised */
        } else if ((lid == TLF_PQM_LT_INTEGER && lt->bit_width == 64 && !lt->is_signed) ||
                   (!lt && ct == TLF_PQM_CT_UINT_64)) {
            ci->type = TL_UINT64;
        }
        break;
    case TL_PQ_INT96:
        c->pw = 12;
        c->conv = CV_INT96;
        ci->type = TL_TIMESTAMP;
        ci->ts_unit = TL_PQ_NANOS;
        ci->ts_utc = 0;
        break;
    case TL_PQ_FLOAT:
        c->pw = 4;
        c->conv = CV_COPY;
        ci->type = TL_FLOAT32;
        break;
    case TL_PQ_DOUBLE:
        c->pw = 8;
        c->conv = CV_COPY;
        ci->type = TL_FLOAT64;
        break;
    case TL_PQ_BYTE_ARRAY:
        c->pw = 0;
        c->conv = CV_BIN;
        ci->type = TL_STRING;
        ci->is_blob = !(lid == TLF_PQM_LT_STRING || lid == TLF_PQM_LT_ENUM ||
                        lid == TLF_PQM_LT_JSON ||
                        (!lt && (ct == TLF_PQM_CT_UTF8 || ct == TLF_PQM_CT_ENUM ||
                                 ct == TLF_PQM_CT_JSON)));
        break;
    case TL_PQ_FIXED_LEN_BYTE_ARRAY:
        if (!e->has_type_length || e->type_length <= 0)
            return pqr_fail_col(f, err, TL_ECORRUPT, ci->name,
                                "FIXED_LEN_BYTE_ARRAY without a positive type_length");
        if (e->type_length > PQR_MAX_FLBA_LEN)
            return pqr_fail_col(f, err, TL_EUNSUPPORTED, ci->name,
                                "FIXED_LEN_BYTE_ARRAY(%d) is wider than the supported %d",
                                e->type_length, PQR_MAX_FLBA_LEN);
        c->pw = (size_t)e->type_length;
        c->conv = CV_FLBA;
        ci->type = TL_STRING;
        ci->is_blob = 1;
        if (!is_dec && lid == TLF_PQM_LT_FLOAT16 && e->type_length == 2) {
            c->conv = CV_F16;
            ci->type = TL_FLOAT32;
            ci->is_blob = 0;
            ci->is_float16 = 1;
        } else if (!is_dec && lid == TLF_PQM_LT_STRING) {
            ci->is_blob = 0;
        }
        break;
    default:
        return pqr_fail_col(f, err, TL_ECORRUPT, ci->name, "invalid physical type %d",
                            (int)e->type);
    }
    if (is_dec) {
        size_t nbytes = e->type == TL_PQ_INT32 ? 4 : e->type == TL_PQ_INT64 ? 8 : c->pw;
        if (nbytes && prec > pqr_dec_max_digits(nbytes))
            return pqr_fail_col(f, err, TL_ECORRUPT, ci->name,
                                "DECIMAL(%d,%d) does not fit %s (at most %d digits)", prec,
                                scale, pqr_phys_name(e->type), pqr_dec_max_digits(nbytes));
        ci->is_decimal = 1;
        ci->is_blob = 0;
        ci->decimal_precision = prec;
        ci->decimal_scale = scale;
        if (prec <= 15) {
            ci->type = TL_FLOAT64;
            c->conv = CV_DEC_DBL;
        } else {
            ci->type = TL_STRING;
            c->conv = CV_DEC_TXT;
        }
    }
    c->ow = tl_type_width(ci->type);
    if (e->type == TL_PQ_FIXED_LEN_BYTE_ARRAY)
        snprintf(c->desc, sizeof c->desc, "FIXED_LEN_BYTE_ARRAY(%d)%s%s", e->type_length,
                 ldesc[0] ? "/" : "", ldesc);
    else
        snprintf(c->desc, sizeof c->desc, "%s%s%s", pqr_phys_name(e->type), ldesc[0] ? "/" : "",
                 ldesc);
    ci->desc = c->desc;
    return TL_OK;
}

/* ---- open ----------------------------------------------------------------------- */

static int pqr_validate(tl_pq_file *f, uint64_t data_end, tl_error *err)
{
    const tlf_pqm_file *m = &f->meta;
    if (m->has_encryption_algorithm || m->has_footer_signing_key_metadata)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s: encrypted file (FileMetaData.encryption_algorithm is set): "
                            "Parquet encryption is not supported",
                            f->name);
    for (uint32_t r = 0; r < m->n_row_groups; r++)
        for (uint32_t k = 0; k < m->row_groups[r].n_columns; k++) {
            const tlf_pqm_col_chunk *cc = &m->row_groups[r].columns[k];
            if (cc->has_crypto_metadata || cc->has_encrypted_column_metadata)
                return tl_error_set(err, TL_EUNSUPPORTED,
                                    "%s: row group %u, column %u is encrypted: Parquet "
                                    "encryption is not supported",
                                    f->name, r, k);
        }
    if (m->n_schema < 1)
        return tl_error_set(err, TL_ECORRUPT, "%s: footer: empty schema", f->name);
    const tlf_pqm_schema_elem *root = &m->schema[0];
    /* Flat: every element after the root is a primitive, non-repeated leaf. */
    for (uint32_t i = 1; i < m->n_schema; i++) {
        const tlf_pqm_schema_elem *e = &m->schema[i];
        int group = (e->has_num_children && e->num_children > 0) || !e->has_type;
        if (group || (e->has_repetition && e->repetition == TLF_PQM_REPEATED)) {
            char path[256];
            if (group && i + 1 < m->n_schema)
                snprintf(path, sizeof path, "%s.%s", e->name.s, m->schema[i + 1].name.s);
            else
                snprintf(path, sizeof path, "%s", e->name.s);
            return tl_error_set(err, TL_EUNSUPPORTED,
                                "%s: nested schema not supported (column %s%s)", f->name, path,
                                group ? "" : ": REPEATED field");
        }
        if (!e->has_repetition)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: schema element %u ('%s') has no repetition type", f->name,
                                i, e->name.s);
        if (e->repetition != TLF_PQM_REQUIRED && e->repetition != TLF_PQM_OPTIONAL)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: schema element %u ('%s'): invalid repetition type %d",
                                f->name, i, e->name.s, (int)e->repetition);
    }
    if (!root->has_num_children || (uint32_t)root->num_children != m->n_schema - 1)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: schema root '%s' declares %d children, the schema has %u "
                            "leaves",
                            f->name, root->name.s, root->has_num_children ? root->num_children : 0,
                            m->n_schema - 1);
    f->n_cols = m->n_schema - 1;
    f->cols = calloc(f->n_cols ? f->n_cols : 1, sizeof *f->cols);
    if (!f->cols)
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory for %u columns", f->name,
                            f->n_cols);
    for (uint32_t i = 0; i < f->n_cols; i++)
        PQR_TRY(pqr_map_column(f, &m->schema[i + 1], &f->cols[i], err));

    uint64_t total = 0;
    for (uint32_t r = 0; r < m->n_row_groups; r++) {
        const tlf_pqm_row_group *rg = &m->row_groups[r];
        if (rg->n_columns != f->n_cols)
            return tl_error_set(err, TL_ECORRUPT,
                                "%s: row group %u has %u column chunks, the schema has %u "
                                "columns",
                                f->name, r, rg->n_columns, f->n_cols);
        if (rg->num_rows < 0)
            return tl_error_set(err, TL_ECORRUPT, "%s: row group %u: negative num_rows %lld",
                                f->name, r, (long long)rg->num_rows);
        if ((uint64_t)rg->num_rows > PQR_MAX_RG_ROWS)
            return tl_error_set(err, TL_EUNSUPPORTED,
                                "%s: row group %u has %lld rows (limit %llu)", f->name, r,
                                (long long)rg->num_rows, (unsigned long long)PQR_MAX_RG_ROWS);
        total += (uint64_t)rg->num_rows;
        for (uint32_t k = 0; k < rg->n_columns; k++) {
            const tlf_pqm_col_chunk *cc = &rg->columns[k];
            const pqr_col *c = &f->cols[k];
            const char *cn = c->info.name;
            if (cc->has_file_path && cc->file_path.len)
                return tl_error_set(err, TL_EUNSUPPORTED,
                                    "%s: row group %u, column '%s': column chunk stored in "
                                    "another file ('%s') is not supported",
                                    f->name, r, cn, cc->file_path.s);
            if (!cc->has_meta_data)
                return tl_error_set(err, TL_ECORRUPT,
                                    "%s: row group %u, column '%s': column chunk without "
                                    "metadata",
                                    f->name, r, cn);
            const tlf_pqm_col_meta *md = &cc->meta_data;
            if (md->n_path != 1 || strcmp(md->path_in_schema[0].s, cn) != 0)
                return tl_error_set(err, TL_ECORRUPT,
                                    "%s: row group %u, column %u: path_in_schema '%s%s' does "
                                    "not match schema column '%s'",
                                    f->name, r, k, md->n_path ? md->path_in_schema[0].s : "",
                                    md->n_path > 1 ? ".." : "", cn);
            if (md->type != c->info.physical)
                return tl_error_set(err, TL_ECORRUPT,
                                    "%s: row group %u, column '%s': chunk type %s, schema type "
                                    "%s",
                                    f->name, r, cn, pqr_phys_name(md->type),
                                    pqr_phys_name(c->info.physical));
            if (md->num_values != rg->num_rows)
                return tl_error_set(err, TL_ECORRUPT,
                                    "%s: row group %u, column '%s': %lld values in the column "
                                    "chunk, the row group has %lld rows",
                                    f->name, r, cn, (long long)md->num_values,
                                    (long long)rg->num_rows);
            int64_t start = md->data_page_offset;
            if (md->has_dictionary_page_offset && md->dictionary_page_offset > 0 &&
                md->dictionary_page_offset < start)
                start = md->dictionary_page_offset;
            if (start < 0 || md->total_compressed_size < 0 || (uint64_t)start > data_end ||
                (uint64_t)md->total_compressed_size > data_end - (uint64_t)start)
                return tl_error_set(err, TL_ECORRUPT,
                                    "%s: row group %u, column '%s': column chunk bytes [%lld, "
                                    "+%lld) extend past the data section (ends at byte %llu)",
                                    f->name, r, cn, (long long)start,
                                    (long long)md->total_compressed_size,
                                    (unsigned long long)data_end);
        }
    }
    if (m->num_rows < 0 || (uint64_t)m->num_rows != total)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: footer num_rows %lld, the row groups hold %llu rows", f->name,
                            (long long)m->num_rows, (unsigned long long)total);
    f->n_rows = total;
    f->data_end = data_end;
    f->n_kv = m->n_kv;
    if (m->n_kv) {
        f->kv = calloc(m->n_kv, sizeof *f->kv);
        if (!f->kv)
            return tl_error_set(err, TL_ENOMEM, "%s: out of memory for %u key/value pairs",
                                f->name, m->n_kv);
        for (uint32_t i = 0; i < m->n_kv; i++) {
            f->kv[i].key = m->kv[i].key.s;
            f->kv[i].value = m->kv[i].has_value ? m->kv[i].value.s : "";
        }
    }
    return TL_OK;
}

static int pqr_open(tl_pq_file *f, tl_error *err)
{
    if (f->size < 12)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: %llu bytes is too small for a Parquet file (at least 12: "
                            "magic, footer length, magic)",
                            f->name, (unsigned long long)f->size);
    uint8_t tail[8];
    int rc = pqr_pread(f, tail, 8, f->size - 8, err);
    if (rc)
        return rc;
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s: encrypted footer (trailing magic \"PARE\"): Parquet encryption "
                            "is not supported",
                            f->name);
    if (memcmp(tail + 4, "PAR1", 4) != 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: not a Parquet file: expected magic \"PAR1\" at byte %llu, found "
                            "%02x %02x %02x %02x",
                            f->name, (unsigned long long)(f->size - 4), tail[4], tail[5], tail[6],
                            tail[7]);
    uint32_t flen = ld32(tail);
    if ((uint64_t)flen > f->size - 12)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: footer length %u at byte %llu exceeds the file (%llu bytes; at "
                            "most %llu)",
                            f->name, flen, (unsigned long long)(f->size - 8),
                            (unsigned long long)f->size, (unsigned long long)(f->size - 12));
    uint64_t foff = f->size - 8 - flen;
    const uint8_t *fbuf;
    uint8_t *owned = NULL;
    if (f->fd < 0) {
        fbuf = f->mem + foff;
    } else {
        owned = malloc(flen ? flen : 1);
        if (!owned)
            return tl_error_set(err, TL_ENOMEM, "%s: out of memory for a %u-byte footer",
                                f->name, flen);
        rc = pqr_pread(f, owned, flen, foff, err);
        if (rc) {
            free(owned);
            return rc;
        }
        fbuf = owned;
    }
    rc = tlf_pqm_decode_file(fbuf, flen, foff, &f->meta, err);
    free(owned);
    if (rc) {
        tl_error_prefix(err, "%s: footer: ", f->name);
        return rc;
    }
    return pqr_validate(f, foff, err);
}

static int pqr_new(const char *name, tl_pq_file **out, tl_error *err)
{
    *out = NULL;
    tl_pq_file *f = calloc(1, sizeof *f);
    if (f)
        f->name = strdup(name ? name : "(memory)");
    if (!f || !f->name) {
        free(f);
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", name ? name : "(memory)");
    }
    f->fd = -1;
    *out = f;
    return TL_OK;
}

int tl_pq_open(const char *path, tl_pq_file **out, tl_error *err)
{
    if (!path || !out)
        return tl_error_set(err, TL_EINVAL, "tl_pq_open: NULL argument");
    tl_pq_file *f;
    int rc = pqr_new(path, &f, err);
    if (rc)
        return rc;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        int e = errno;
        rc = e == ENOENT ? tl_error_set(err, TL_ENOTFOUND, "%s: no such file", path)
                         : tl_error_sys(err, e, "%s: open", path);
        tl_pq_close(f);
        return rc;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        rc = tl_error_sys(err, errno, "%s: fstat", path);
        tl_pq_close(f);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        tl_pq_close(f);
        return tl_error_set(err, TL_EINVAL, "%s: not a regular file", path);
    }
    f->size = (uint64_t)st.st_size;
    rc = pqr_open(f, err);
    if (rc) {
        tl_pq_close(f);
        return rc;
    }
    *out = f;
    return TL_OK;
}

int tl_pq_open_mem(const void *buf, size_t len, const char *name, tl_pq_file **out,
                   tl_error *err)
{
    if ((!buf && len) || !out)
        return tl_error_set(err, TL_EINVAL, "tl_pq_open_mem: NULL argument");
    tl_pq_file *f;
    int rc = pqr_new(name, &f, err);
    if (rc)
        return rc;
    static const uint8_t empty[1];
    f->mem = buf ? (const uint8_t *)buf : empty;
    f->size = len;
    rc = pqr_open(f, err);
    if (rc) {
        tl_pq_close(f);
        return rc;
    }
    *out = f;
    return TL_OK;
}

void tl_pq_close(tl_pq_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    tlf_pqm_file_free(&f->meta);
    free(f->cols);
    free(f->kv);
    free(f->name);
    free(f);
}

uint32_t tl_pq_n_cols(const tl_pq_file *f) { return f->n_cols; }

const tl_pq_colinfo *tl_pq_col(const tl_pq_file *f, uint32_t i)
{
    return i < f->n_cols ? &f->cols[i].info : NULL;
}

uint64_t tl_pq_n_rows(const tl_pq_file *f) { return f->n_rows; }

uint32_t tl_pq_n_row_groups(const tl_pq_file *f) { return f->meta.n_row_groups; }

uint64_t tl_pq_row_group_rows(const tl_pq_file *f, uint32_t rg)
{
    return rg < f->meta.n_row_groups ? (uint64_t)f->meta.row_groups[rg].num_rows : 0;
}

int tl_pq_chunk_i64_bounds(const tl_pq_file *f, uint32_t rg, uint32_t col, int64_t *min,
                           int64_t *max)
{
    if (rg >= f->meta.n_row_groups || col >= f->n_cols || f->cols[col].info.physical != TL_PQ_INT64)
        return 0;
    const tlf_pqm_col_chunk *cc = &f->meta.row_groups[rg].columns[col];
    if (!cc->has_meta_data || !cc->meta_data.has_statistics)
        return 0;
    const tlf_pqm_stats *st = &cc->meta_data.statistics;
    const tlf_pqm_bin *lo = NULL, *hi = NULL;
    if (st->has_min_value && st->has_max_value) {
        lo = &st->min_value;
        hi = &st->max_value;
    } else if (st->has_min && st->has_max) { /* legacy: signed order, right for INT64 */
        lo = &st->min;
        hi = &st->max;
    }
    if (!lo || lo->len != 8 || hi->len != 8 || !lo->p || !hi->p)
        return 0;
    *min = (int64_t)ld64(lo->p);
    *max = (int64_t)ld64(hi->p);
    return *min <= *max;
}

const char *tl_pq_created_by(const tl_pq_file *f)
{
    return f->meta.has_created_by && f->meta.created_by.s ? f->meta.created_by.s : "";
}

uint32_t tl_pq_n_kv(const tl_pq_file *f) { return f->n_kv; }

const tl_pq_kv *tl_pq_kv_at(const tl_pq_file *f, uint32_t i)
{
    return i < f->n_kv ? &f->kv[i] : NULL;
}

/* ---- conversions ---------------------------------------------------------------- */

/* Where decoded values go: fixed-width values, or strings (offs[0] is the
 * base, already set; *data grows as needed). */
typedef struct pqr_dst {
    uint8_t *fixed;
    uint32_t *offs;
    uint8_t **data;
    size_t *data_cap;
} pqr_dst;

static int pqr_data_reserve(const pqr_ctx *x, const pqr_dst *d, uint64_t base, uint64_t extra,
                            tl_error *err)
{
    if (base + extra > UINT32_MAX)
        return pqr_fail(x, err, TL_EUNSUPPORTED, 1,
                        "string data of the column chunk exceeds 4 GiB (%llu bytes)",
                        (unsigned long long)(base + extra));
    return pqr_grow(d->data, d->data_cap, (size_t)(base + extra), err);
}

static float pqr_half(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        float v = ldexpf((float)m, -24); /* zero or subnormal: exact */
        return sign ? -v : v;
    }
    if (e == 31)
        bits = sign | 0x7f800000u | (m << 13);
    else
        bits = sign | ((e - 15 + 127) << 23) | (m << 13);
    float v;
    memcpy(&v, &bits, 4);
    return v;
}

/* Big-endian two's complement -> int64; 0 when it does not fit. */
static int pqr_be_i64(const uint8_t *p, size_t n, int64_t *out)
{
    if (n == 0) {
        *out = 0;
        return 1;
    }
    uint8_t ext = (p[0] & 0x80) ? 0xff : 0;
    while (n > 8) {
        if (p[0] != ext)
            return 0;
        p++;
        n--;
    }
    if (((p[0] & 0x80) ? 0xff : 0) != ext)
        return 0;
    uint64_t u = ext ? UINT64_MAX : 0;
    for (size_t i = 0; i < n; i++)
        u = (u << 8) | p[i];
    *out = (int64_t)u;
    return 1;
}

/* Decimal text of digits ds[0..nd) scaled by 10^-scale into out; returns
 * the length. out holds max(nd, scale + 1) + 2 bytes. */
static size_t pqr_dec_format(int neg, const char *ds, size_t nd, int scale, char *out)
{
    char *o = out;
    if (neg)
        *o++ = '-';
    size_t sc = (size_t)scale;
    if (nd <= sc) {
        *o++ = '0';
        if (sc) {
            *o++ = '.';
            for (size_t i = nd; i < sc; i++)
                *o++ = '0';
            memcpy(o, ds, nd);
            o += nd;
        }
    } else {
        memcpy(o, ds, nd - sc);
        o += nd - sc;
        if (sc) {
            *o++ = '.';
            memcpy(o, ds + nd - sc, sc);
            o += sc;
        }
    }
    return (size_t)(o - out);
}

/* Decimal digits of the unsigned big-endian magnitude mag[0..n) (modified)
 * into ds (room for 3 * n + 1 digits); returns the digit count (>= 1). */
static size_t pqr_big_digits(uint8_t *mag, size_t n, char *ds)
{
    char rev[3 * PQR_MAX_DEC_BYTES + 16];
    size_t nr = 0, lo = 0;
    while (lo < n && mag[lo] == 0)
        lo++;
    while (lo < n) {
        /* mag /= 1e9, remainder -> 9 digits */
        uint64_t rem = 0;
        for (size_t i = lo; i < n; i++) {
            uint64_t cur = (rem << 8) | mag[i];
            mag[i] = (uint8_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (lo < n && mag[lo] == 0)
            lo++;
        for (int k = 0; k < 9 && (lo < n || rem); k++) {
            rev[nr++] = (char)('0' + rem % 10);
            rem /= 10;
        }
    }
    if (nr == 0)
        rev[nr++] = '0';
    for (size_t i = 0; i < nr; i++)
        ds[i] = rev[nr - 1 - i];
    return nr;
}

/* Exact decimal text of value i (INT32/INT64 little-endian or BYTE_ARRAY /
 * FLBA big-endian bytes p[0..n)) into out (room for 3 * n + scale + 24). */
static size_t pqr_dec_text(const uint8_t *p, size_t n, int be, int scale, char *out)
{
    char ds[3 * PQR_MAX_DEC_BYTES + 16];
    int64_t v;
    int fits = 1;
    if (!be)
        v = n == 4 ? (int64_t)(int32_t)ld32(p) : (int64_t)ld64(p);
    else
        fits = pqr_be_i64(p, n, &v);
    if (fits) {
        int neg = v < 0;
        uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        char rev[24];
        size_t nd = 0;
        do {
            rev[nd++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        for (size_t i = 0; i < nd; i++)
            ds[i] = rev[nd - 1 - i];
        return pqr_dec_format(neg, ds, nd, scale, out);
    }
    uint8_t mag[PQR_MAX_DEC_BYTES];
    int neg = (p[0] & 0x80) != 0;
    memcpy(mag, p, n);
    if (neg) { /* two's complement negation */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned t = (unsigned)(uint8_t)~mag[i] + (unsigned)carry;
            mag[i] = (uint8_t)t;
            carry = t >> 8;
        }
    }
    size_t nd = pqr_big_digits(mag, n, ds);
    return pqr_dec_format(neg, ds, nd, scale, out);
}

/* Rescales the INT96 timestamps decoded so far (output and dictionary) from
 * ns to µs, flooring: the chunk holds a value beyond int64 nanoseconds. */
static void pqr_int96_to_micros(pqr_ctx *x, int dst_is_dict)
{
    int64_t *o = (int64_t *)x->s->vals;
    for (uint64_t i = 0; o && i < x->vd; i++) {
        x->sub_us_dropped += o[i] % 1000 != 0;
        o[i] = o[i] / 1000 - (o[i] % 1000 < 0);
    }
    if (!dst_is_dict && x->have_dict) {
        int64_t *d = (int64_t *)x->s->dvals;
        for (uint32_t i = 0; i < x->dict_n; i++) {
            x->sub_us_dropped += d[i] % 1000 != 0;
            d[i] = d[i] / 1000 - (d[i] % 1000 < 0);
        }
    }
    x->ts_unit = TL_PQ_MICROS;
}

static int pqr_int96_one(const uint8_t *p, int unit, int64_t *out)
{
    int64_t nanos = (int64_t)ld64(p);
    int64_t days = (int64_t)(int32_t)ld32(p + 8) - PQR_JD_EPOCH;
    int64_t t, r;
    if (unit == TL_PQ_NANOS)
        return !__builtin_mul_overflow(days, (int64_t)86400000000000, &t) &&
               !__builtin_add_overflow(t, nanos, out);
    /* µs modulo 2^64, as Spark computes: its writer wraps for instants
     * within a Julian-epoch offset of int64 µs (years beyond ~290,000), and
     * the wrapped value read back the same way is the instant written. */
    (void)t;
    r = nanos / 1000 - (nanos % 1000 < 0);
    *out = (int64_t)((uint64_t)days * 86400000000u + (uint64_t)r);
    return 1;
}

/* Converts m physical values (fixed: pv, pw bytes each; BYTE_ARRAY: poffs
 * from 0 into pdata) to output values at dst. */
static int pqr_convert(pqr_ctx *x, const uint8_t *pv, const uint32_t *poffs,
                       const uint8_t *pdata, size_t m, const pqr_dst *dst, int dst_is_dict,
                       tl_error *err)
{
    const pqr_col *c = x->col;
    size_t pw = c->pw;
    switch (c->conv) {
    case CV_I8:
    case CV_I16:
    case CV_U8:
    case CV_U16: {
        int64_t lo = c->conv == CV_I8 ? -128 : c->conv == CV_I16 ? -32768 : 0;
        int64_t hi = c->conv == CV_I8 ? 127 : c->conv == CV_I16 ? 32767 : c->conv == CV_U8 ? 255
                                                                                          : 65535;
        int bad = 0;
        for (size_t i = 0; i < m; i++) {
            int32_t v = (int32_t)ld32(pv + 4 * i);
            int64_t w = c->conv == CV_U8 || c->conv == CV_U16 ? (int64_t)(uint32_t)v : v;
            bad |= w < lo || w > hi;
            if (c->ow == 1)
                dst->fixed[i] = (uint8_t)v;
            else {
                uint16_t h = (uint16_t)v;
                memcpy(dst->fixed + 2 * i, &h, 2);
            }
        }
        if (bad)
            for (size_t i = 0; i < m; i++) {
                int32_t v = (int32_t)ld32(pv + 4 * i);
                int64_t w = c->conv == CV_U8 || c->conv == CV_U16 ? (int64_t)(uint32_t)v : v;
                if (w < lo || w > hi)
                    return pqr_fail(x, err, TL_ECORRUPT, 1,
                                    "%s value %lld out of range [%lld, %lld] (value %zu of the "
                                    "%s)",
                                    c->desc, (long long)w, (long long)lo, (long long)hi, i,
                                    dst_is_dict ? "dictionary" : "page");
            }
        return TL_OK;
    }
    case CV_INT96: {
        int64_t *o = (int64_t *)(void *)dst->fixed;
        if (x->ts_unit == TL_PQ_NANOS) {
            size_t i = 0;
            while (i < m && pqr_int96_one(pv + 12 * i, TL_PQ_NANOS, &o[i]))
                i++;
            if (i == m)
                return TL_OK;
            pqr_int96_to_micros(x, dst_is_dict);
        }
        for (size_t i = 0; i < m; i++) {
            (void)pqr_int96_one(pv + 12 * i, TL_PQ_MICROS, &o[i]);
            x->sub_us_dropped += (int64_t)ld64(pv + 12 * i) % 1000 != 0;
        }
        return TL_OK;
    }
    case CV_F16: {
        float *o = (float *)(void *)dst->fixed;
        for (size_t i = 0; i < m; i++)
            o[i] = pqr_half((uint16_t)(pv[2 * i] | (pv[2 * i + 1] << 8)));
        return TL_OK;
    }
    case CV_FLBA: {
        uint64_t base = dst->offs[0];
        PQR_TRY(pqr_data_reserve(x, dst, base, (uint64_t)m * pw, err));
        memcpy(*dst->data + base, pv, m * pw);
        for (size_t i = 0; i < m; i++)
            dst->offs[i + 1] = (uint32_t)(base + (i + 1) * pw);
        return TL_OK;
    }
    case CV_DEC_DBL: {
        static const double p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        double *o = (double *)(void *)dst->fixed;
        double div = p10[c->info.decimal_scale];
        if (c->info.physical == TL_PQ_INT32) {
            for (size_t i = 0; i < m; i++)
                o[i] = (double)(int32_t)ld32(pv + 4 * i) / div;
        } else if (c->info.physical == TL_PQ_INT64) {
            for (size_t i = 0; i < m; i++)
                o[i] = (double)(int64_t)ld64(pv + 8 * i) / div;
        } else {
            for (size_t i = 0; i < m; i++) {
                const uint8_t *p = pv ? pv + i * pw : pdata + poffs[i];
                size_t n = pv ? pw : poffs[i + 1] - poffs[i];
                int64_t v;
                if (!pqr_be_i64(p, n, &v))
                    return pqr_fail(x, err, TL_ECORRUPT, 1,
                                    "%s value %zu of the %s has %zu bytes, more than the "
                                    "precision allows",
                                    c->desc, i, dst_is_dict ? "dictionary" : "page", n);
                o[i] = (double)v / div;
            }
        }
        return TL_OK;
    }
    case CV_DEC_TXT: {
        uint64_t base = dst->offs[0];
        int scale = c->info.decimal_scale;
        int be = c->info.physical != TL_PQ_INT32 && c->info.physical != TL_PQ_INT64;
        for (size_t i = 0; i < m; i++) {
            const uint8_t *p = pv ? pv + i * pw : pdata + poffs[i];
            size_t n = pv ? pw : poffs[i + 1] - poffs[i];
            if (n > PQR_MAX_DEC_BYTES)
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "%s value %zu of the %s has %zu bytes (at most %d)", c->desc, i,
                                dst_is_dict ? "dictionary" : "page", n, PQR_MAX_DEC_BYTES);
            PQR_TRY(pqr_data_reserve(x, dst, base, 3 * n + (size_t)scale + 24, err));
            base += pqr_dec_text(p, n, be, scale, (char *)*dst->data + base);
            dst->offs[i + 1] = (uint32_t)base;
        }
        return TL_OK;
    }
    default:
        return pqr_fail(x, err, TL_EINVAL, 1, "internal: conversion %d", c->conv);
    }
}

/* ---- physical decoding ------------------------------------------------------------ */

static int pqr_unsupported_enc(const pqr_ctx *x, int enc, tl_error *err)
{
    return pqr_fail(x, err, TL_EUNSUPPORTED, 1, "encoding %s (%d) is not supported for %s",
                    tlf_pqm_encoding_name(enc), enc, pqr_phys_name(x->col->info.physical));
}

/* Strings of a DELTA_BYTE_ARRAY page of FIXED_LEN_BYTE_ARRAY -> fixed. */
static int pqr_dba_flba(pqr_ctx *x, const uint8_t *src, size_t len, size_t m, size_t off0,
                        uint8_t *out, tl_error *err)
{
    pqr_scratch *s = x->s;
    uint64_t need;
    int rc = tlf_pq_delta_byte_array_size(src, len, m, &need, off0, err);
    if (rc)
        return pqr_prefix(x, err, rc);
    if (need != (uint64_t)m * x->col->pw)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "DELTA_BYTE_ARRAY values hold %llu bytes, expected %zu values of %zu",
                        (unsigned long long)need, m, x->col->pw);
    PQR_TRY(pqr_grow(&s->poffs, &s->poffs_cap, (m + 1) * sizeof(uint32_t), err));
    PQR_TRY(pqr_grow(&s->pdata, &s->pdata_cap, (size_t)need + 1, err));
    rc = tlf_pq_delta_byte_array_decode(src, len, s->poffs, 0, s->pdata, s->pdata_cap, m, off0,
                                        NULL, err);
    if (rc)
        return pqr_prefix(x, err, rc);
    for (size_t i = 0; i < m; i++)
        if (s->poffs[i + 1] - s->poffs[i] != x->col->pw)
            return pqr_fail(x, err, TL_ECORRUPT, 1,
                            "DELTA_BYTE_ARRAY value %zu has %u bytes, FIXED_LEN_BYTE_ARRAY(%zu)",
                            i, s->poffs[i + 1] - s->poffs[i], x->col->pw);
    memcpy(out, s->pdata, (size_t)need);
    return TL_OK;
}

/* Decodes m values with encoding enc (not a dictionary encoding) into dst
 * in physical form (fixed pw bytes each, or strings). */
static int pqr_decode_phys(pqr_ctx *x, int enc, const uint8_t *src, size_t len, size_t m,
                           size_t off0, const pqr_dst *dst, tl_error *err)
{
    int pt = x->col->info.physical;
    size_t pw = x->col->pw;
    int rc;
    switch (enc) {
    case TLF_PQM_ENC_PLAIN:
        if (pt == TL_PQ_BOOLEAN) {
            rc = tlf_pq_plain_bool(src, len, dst->fixed, m, off0, NULL, err);
        } else if (pt == TL_PQ_BYTE_ARRAY) {
            uint64_t base = dst->offs[0];
            uint64_t need = len > 4 * (uint64_t)m ? len - 4 * (uint64_t)m : 0;
            PQR_TRY(pqr_data_reserve(x, dst, base, need + 1, err));
            rc = tlf_pq_plain_byte_array(src, len, dst->offs, (uint32_t)base, *dst->data,
                                         *dst->data_cap, m, off0, NULL, err);
        } else {
            rc = tlf_pq_plain_fixed(src, len, pw, dst->fixed, m, off0, NULL, err);
        }
        break;
    case TLF_PQM_ENC_RLE:
        if (pt != TL_PQ_BOOLEAN)
            return pqr_unsupported_enc(x, enc, err);
        rc = tlf_pq_levels_v1(src, len, 1, dst->fixed, m, off0, NULL, err);
        break;
    case TLF_PQM_ENC_DELTA_BINARY_PACKED:
        if (pt == TL_PQ_INT32)
            rc = tlf_pq_delta_decode32(src, len, (int32_t *)(void *)dst->fixed, m, off0, NULL,
                                       err);
        else if (pt == TL_PQ_INT64)
            rc = tlf_pq_delta_decode64(src, len, (int64_t *)(void *)dst->fixed, m, off0, NULL,
                                       err);
        else
            return pqr_unsupported_enc(x, enc, err);
        break;
    case TLF_PQM_ENC_DELTA_LENGTH_BYTE_ARRAY: {
        if (pt != TL_PQ_BYTE_ARRAY)
            return pqr_unsupported_enc(x, enc, err);
        uint64_t base = dst->offs[0];
        PQR_TRY(pqr_data_reserve(x, dst, base, (uint64_t)len + 1, err));
        rc = tlf_pq_delta_length_decode(src, len, dst->offs, (uint32_t)base, *dst->data,
                                        *dst->data_cap, m, off0, NULL, err);
        break;
    }
    case TLF_PQM_ENC_DELTA_BYTE_ARRAY: {
        if (pt == TL_PQ_FIXED_LEN_BYTE_ARRAY)
            return pqr_dba_flba(x, src, len, m, off0, dst->fixed, err);
        if (pt != TL_PQ_BYTE_ARRAY)
            return pqr_unsupported_enc(x, enc, err);
        uint64_t base = dst->offs[0], need;
        rc = tlf_pq_delta_byte_array_size(src, len, m, &need, off0, err);
        if (rc)
            return pqr_prefix(x, err, rc);
        PQR_TRY(pqr_data_reserve(x, dst, base, need + 1, err));
        rc = tlf_pq_delta_byte_array_decode(src, len, dst->offs, (uint32_t)base, *dst->data,
                                            *dst->data_cap, m, off0, NULL, err);
        break;
    }
    case TLF_PQM_ENC_BYTE_STREAM_SPLIT:
        if (pt == TL_PQ_BOOLEAN || pt == TL_PQ_BYTE_ARRAY || pt == TL_PQ_INT96)
            return pqr_unsupported_enc(x, enc, err);
        rc = tlf_pq_bss_decode(src, len, pw, dst->fixed, m, off0, err);
        break;
    default:
        return pqr_unsupported_enc(x, enc, err);
    }
    return rc ? pqr_prefix(x, err, rc) : TL_OK;
}

/* Decodes m values into dst in output form: straight when the physical
 * form is the output form, else through the physical scratch. */
static int pqr_decode_to(pqr_ctx *x, int enc, const uint8_t *src, size_t len, size_t m,
                         size_t off0, const pqr_dst *dst, int dst_is_dict, tl_error *err)
{
    const pqr_col *c = x->col;
    if (c->conv == CV_COPY || c->conv == CV_BIN)
        return pqr_decode_phys(x, enc, src, len, m, off0, dst, err);
    pqr_scratch *s = x->s;
    pqr_dst ph = {0};
    if (c->info.physical == TL_PQ_BYTE_ARRAY) {
        PQR_TRY(pqr_grow(&s->poffs, &s->poffs_cap, (m + 1) * sizeof(uint32_t), err));
        s->poffs[0] = 0;
        ph.offs = s->poffs;
        ph.data = &s->pdata;
        ph.data_cap = &s->pdata_cap;
    } else {
        /* Bound the scratch by the bytes the encoding can expand to. */
        uint64_t need = (uint64_t)m * c->pw;
        if (enc == TLF_PQM_ENC_DELTA_BYTE_ARRAY) {
            uint64_t dba;
            int rc = tlf_pq_delta_byte_array_size(src, len, m, &dba, off0, err);
            if (rc)
                return pqr_prefix(x, err, rc);
            if (dba != need)
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "DELTA_BYTE_ARRAY values hold %llu bytes, expected %zu values "
                                "of %zu",
                                (unsigned long long)dba, m, c->pw);
        } else if (enc != TLF_PQM_ENC_DELTA_BINARY_PACKED && need > len) {
            return pqr_fail(x, err, TL_ECORRUPT, 1,
                            "%s %s: %zu values need %llu bytes, the page holds %zu",
                            tlf_pqm_encoding_name(enc), pqr_phys_name(c->info.physical), m,
                            (unsigned long long)need, len);
        }
        PQR_TRY(pqr_grow(&s->phys, &s->phys_cap, m * c->pw + 1, err));
        ph.fixed = s->phys;
    }
    PQR_TRY(pqr_decode_phys(x, enc, src, len, m, off0, &ph, err));
    return pqr_convert(x, ph.fixed, ph.offs, ph.data ? *ph.data : NULL, m, dst, dst_is_dict,
                       err);
}

/* ---- pages -------------------------------------------------------------------------- */

static int pqr_reserve_out(pqr_ctx *x, uint64_t need, tl_error *err)
{
    pqr_scratch *s = x->s;
    if (need <= x->cap_rows)
        return TL_OK;
    uint64_t cap = x->cap_rows ? x->cap_rows : 1024;
    while (cap < need)
        cap *= 2;
    if (cap > x->rows)
        cap = x->rows;
    if (x->col->ow)
        PQR_TRY(pqr_grow(&s->vals, &s->vals_cap, (size_t)cap * x->col->ow, err));
    else
        PQR_TRY(pqr_grow(&s->offs, &s->offs_cap, ((size_t)cap + 1) * sizeof(uint32_t), err));
    if (x->col->info.optional)
        PQR_TRY(pqr_grow(&s->valid, &s->valid_cap, ((size_t)cap + 7) / 8, err));
    x->cap_rows = cap;
    return TL_OK;
}

static pqr_dst pqr_out_dst(pqr_ctx *x, uint64_t vd)
{
    pqr_dst d = {0};
    pqr_scratch *s = x->s;
    if (x->col->ow) {
        d.fixed = s->vals + vd * x->col->ow;
    } else {
        d.offs = s->offs + vd;
        d.data = &s->data;
        d.data_cap = &s->data_cap;
    }
    return d;
}

/* Spreads m dense values at vd over the n slots [vd, vd + n) by validity. */
static void pqr_expand(pqr_ctx *x, uint64_t vd, size_t n, size_t m)
{
    pqr_scratch *s = x->s;
    const uint8_t *bm = s->valid;
    size_t j = m;
    if (!x->col->ow) {
        uint32_t *o = s->offs + vd; /* o[0] base, o[1..] ends */
        for (size_t i = n; i-- > 0;) {
            uint64_t b = vd + i;
            if ((bm[b >> 3] >> (b & 7)) & 1)
                o[i + 1] = o[j--];
            else
                o[i + 1] = j ? o[j] : o[0];
        }
        return;
    }
    size_t w = x->col->ow;
    uint8_t *v = s->vals + vd * w;
    size_t i = n; /* slots [0, i) left; dense values [0, j) left */
    while (i > 0 && j < i) {
        uint64_t b = vd + i - 1;
        if ((b & 7) == 7 && i >= 8 && (bm[b >> 3] == 0xff || bm[b >> 3] == 0)) {
            /* a whole bitmap byte: 8 slots present (one move) or null */
            i -= 8;
            if (bm[b >> 3]) {
                j -= 8;
                memmove(v + i * w, v + j * w, 8 * w);
            } else {
                memset(v + i * w, 0, 8 * w);
            }
            continue;
        }
        i--;
        if ((bm[b >> 3] >> (b & 7)) & 1) {
            j--;
            memcpy(v + i * w, v + j * w, w);
        } else {
            memset(v + i * w, 0, w);
        }
    }
    /* once j == i the remaining slots are all present and in place */
}

/* Gathers m dictionary entries by index into the output at vd. */
#define PQR_GATHER(T)                                                          \
    static void pqr_gather_##T(T *restrict o, const T *restrict d,             \
                               const uint32_t *restrict idx, size_t m)         \
    {                                                                          \
        for (size_t i = 0; i < m; i++)                                         \
            o[i] = d[idx[i]];                                                  \
    }
PQR_GATHER(uint8_t)
PQR_GATHER(uint16_t)
PQR_GATHER(uint32_t)
PQR_GATHER(uint64_t)
#undef PQR_GATHER

static int pqr_gather(pqr_ctx *x, const uint32_t *idx, size_t m, uint64_t vd, tl_error *err)
{
    pqr_scratch *s = x->s;
    size_t w = x->col->ow;
    if (w) {
        void *o = s->vals + vd * w;
        const void *d = s->dvals;
        switch (w) {
        case 1:
            pqr_gather_uint8_t(o, d, idx, m);
            break;
        case 2:
            pqr_gather_uint16_t(o, d, idx, m);
            break;
        case 4:
            pqr_gather_uint32_t(o, d, idx, m);
            break;
        default:
            pqr_gather_uint64_t(o, d, idx, m);
            break;
        }
        return TL_OK;
    }
    const uint32_t *doffs = s->doffs;
    uint64_t total = 0;
    for (size_t i = 0; i < m; i++)
        total += doffs[idx[i] + 1] - doffs[idx[i]];
    pqr_dst d = pqr_out_dst(x, vd);
    uint64_t base = d.offs[0];
    PQR_TRY(pqr_data_reserve(x, &d, base, total + 16, err));
    uint8_t *data = s->data;
    const uint8_t *dd = s->ddata;
    uint32_t *o = d.offs;
    uint32_t pos = (uint32_t)base;
    /* Short entries (the usual symbols, venues, ids) are moved as one
     * 16-byte copy: both buffers keep 16 bytes of slack past their end. */
    for (size_t i = 0; i < m; i++) {
        uint32_t a = doffs[idx[i]], l = doffs[idx[i] + 1] - a;
        if (l <= 16)
            memcpy(data + pos, dd + a, 16);
        else
            memcpy(data + pos, dd + a, l);
        pos += l;
        o[i + 1] = pos;
    }
    return TL_OK;
}

/* Sets bits [at, at + n) of bm to v. */
static void pqr_bits_fill(uint8_t *bm, uint64_t at, size_t n, int v)
{
    while (n && (at & 7)) {
        tl_bit_set(bm, at++, v);
        n--;
    }
    memset(bm + (at >> 3), v ? 0xff : 0, n >> 3);
    at += n & ~(size_t)7;
    for (size_t k = 0; k < (n & 7); k++)
        tl_bit_set(bm, at + k, v);
}

/* Copies n bits of src (LSB first) to bits [at, at + n) of bm, leaving the
 * bits below at alone (bits of the last byte above at + n may change);
 * returns how many are set. */
static uint64_t pqr_bits_copy(uint8_t *bm, uint64_t at, const uint8_t *src, size_t n)
{
    uint64_t ones = 0;
    unsigned sh = (unsigned)(at & 7);
    size_t nb = n >> 3;
    uint8_t *d = bm + (at >> 3);
    if (sh == 0) {
        memcpy(d, src, nb);
    } else {
        for (size_t k = 0; k < nb; k++) {
            d[k] = (uint8_t)((d[k] & ((1u << sh) - 1)) | (unsigned)(src[k] << sh));
            d[k + 1] = (uint8_t)(src[k] >> (8 - sh));
        }
    }
    for (size_t k = 0; k < nb; k++)
        ones += (uint64_t)__builtin_popcount(src[k]);
    for (size_t k = nb * 8; k < n; k++) {
        int b = (src[k >> 3] >> (k & 7)) & 1;
        tl_bit_set(bm, at + k, b);
        ones += (uint64_t)b;
    }
    return ones;
}

/* RLE/bit-packed hybrid, tolerant of a last run that claims more values
 * than are left (DuckDB 1.x ends pages with a full 32-group bit-packed run
 * header whatever the count left; arrow and DuckDB read such pages): used
 * when the strict decoders of pq_page.c refuse the bytes. Bytes that would
 * only hold values past n need not be present. Output: out32 (values, each
 * checked < limit) or, when out32 is NULL, bits bit0.. of bm (bw 1) with
 * *n_set = the count of ones. *consumed = bytes of src used. */
static int pqr_hybrid_lenient(const pqr_ctx *x, const uint8_t *src, size_t len, unsigned bw,
                              size_t n, uint32_t *out32, uint32_t limit, uint8_t *bm,
                              uint64_t bit0, uint64_t *n_set, size_t off0, size_t *consumed,
                              tl_error *err)
{
    const char *what = out32 ? "dictionary indices" : "definition levels";
    size_t pos = 0, done = 0;
    uint64_t ones = 0;
    uint64_t mask = bw == 32 ? 0xffffffffu : (((uint64_t)1 << bw) - 1);
    if (!out32 && bw != 1)
        return pqr_fail(x, err, TL_EINVAL, 1, "internal: bitmap levels of width %u", bw);
    while (done < n) {
        uint64_t h = 0;
        int shift = 0;
        for (;;) {
            if (pos >= len)
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "%s end after %zu of %zu values (byte offset %zu)", what, done,
                                n, off0 + pos);
            uint8_t b = src[pos++];
            if (shift > 56)
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "%s: run header too long at byte offset %zu", what, off0 + pos);
            h |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80))
                break;
        }
        uint64_t cnt = h >> 1;
        size_t left = n - done;
        if (cnt == 0)
            return pqr_fail(x, err, TL_ECORRUPT, 1, "%s: empty run at byte offset %zu", what,
                            off0 + pos);
        if (!(h & 1)) {
            size_t vb = (bw + 7) / 8;
            if (vb > len - pos)
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "%s: RLE run value cut at byte offset %zu", what, off0 + pos);
            uint32_t v = 0;
            for (size_t k = 0; k < vb; k++)
                v |= (uint32_t)src[pos + k] << (8 * k);
            pos += vb;
            size_t take = cnt < left ? (size_t)cnt : left;
            if (v > mask || (out32 && v >= limit) || (!out32 && v > 1))
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "%s: run value %u out of range at byte offset %zu", what, v,
                                off0 + pos - vb);
            if (out32) {
                for (size_t k = 0; k < take; k++)
                    out32[done + k] = v;
            } else {
                pqr_bits_fill(bm, bit0 + done, take, (int)v);
                ones += v ? take : 0;
            }
            done += take;
        } else {
            size_t take = cnt * 8 < left ? (size_t)cnt * 8 : left;
            size_t need = (take * bw + 7) / 8;
            if (need > len - pos)
                return pqr_fail(x, err, TL_ECORRUPT, 1,
                                "%s: bit-packed run needs %zu bytes at byte offset %zu, %zu "
                                "left",
                                what, need, off0 + pos, len - pos);
            if (out32) {
                tlf_pq_bitunpack32(src + pos, take, bw, out32 + done);
                uint32_t mx = 0;
                for (size_t k = 0; k < take; k++)
                    mx = out32[done + k] > mx ? out32[done + k] : mx;
                if (take && mx >= limit)
                    return pqr_fail(x, err, TL_ECORRUPT, 1,
                                    "%s: index %u out of range (dictionary of %u) in the "
                                    "bit-packed run at byte offset %zu",
                                    what, mx, limit, off0 + pos);
            } else {
                ones += pqr_bits_copy(bm, bit0 + done, src + pos, take);
            }
            done += take;
            uint64_t run = cnt * bw;
            pos += run < (uint64_t)(len - pos) ? (size_t)run : len - pos;
        }
    }
    if (n_set)
        *n_set = ones;
    if (consumed)
        *consumed = pos;
    return TL_OK;
}

/* Dictionary indices: a bit width byte, then hybrid data. */
static int pqr_dict_indices(pqr_ctx *x, const uint8_t *src, size_t len, size_t m, size_t off0,
                            tl_error *err)
{
    pqr_scratch *s = x->s;
    if (x->lenient_idx && len >= 1 && src[0] <= 32)
        return pqr_hybrid_lenient(x, src + 1, len - 1, src[0], m, s->idx, x->dict_n, NULL, 0,
                                  NULL, off0 + 1, NULL, err);
    int rc = tlf_pq_dict_indices(src, len, s->idx, m, x->dict_n, off0, err);
    if (rc != TL_ECORRUPT)
        return rc ? pqr_prefix(x, err, rc) : TL_OK;
    if (len < 1 || src[0] > 32)
        return pqr_prefix(x, err, rc); /* the strict decoder's message */
    tl_error e2 = {0};
    int rc2 = pqr_hybrid_lenient(x, src + 1, len - 1, src[0], m, s->idx, x->dict_n, NULL, 0,
                                 NULL, off0 + 1, NULL, &e2);
    if (rc2 == TL_OK) {
        tl_error_clear(err);
        x->lenient_idx = 1;
        return TL_OK;
    }
    return pqr_prefix(x, err, rc);
}

/* Definition levels (bit width 1) into the validity bitmap: v1 = u32
 * length prefix + hybrid, v2 = hybrid of the given length. */
static int pqr_def_levels(pqr_ctx *x, int v2, const uint8_t *src, size_t len, uint64_t vd,
                          size_t n, uint64_t *n_set, size_t off0, size_t *consumed,
                          tl_error *err)
{
    uint8_t *bm = x->s->valid;
    int rc = x->lenient_def ? TL_ECORRUPT
             : v2 ? tlf_pq_levels_v2_bits(src, len, bm, vd, n, n_set, off0, err)
                  : tlf_pq_levels_v1_bits(src, len, bm, vd, n, n_set, off0, consumed, err);
    if (rc != TL_ECORRUPT)
        return rc ? pqr_prefix(x, err, rc) : TL_OK;
    if (x->lenient_def) {
        size_t hl = v2 ? 0 : 4;
        size_t body = v2 ? len : len >= 4 ? ld32(src) : 0;
        if (len >= hl && body <= len - hl) {
            PQR_TRY(pqr_hybrid_lenient(x, src + hl, body, 1, n, NULL, 0, bm, vd, n_set,
                                       off0 + hl, NULL, err));
            if (consumed)
                *consumed = hl + body;
            return TL_OK;
        }
        rc = v2 ? tlf_pq_levels_v2_bits(src, len, bm, vd, n, n_set, off0, err)
                : tlf_pq_levels_v1_bits(src, len, bm, vd, n, n_set, off0, consumed, err);
        return rc ? pqr_prefix(x, err, rc) : TL_OK;
    }
    size_t hl = 0, body = len;
    if (!v2) {
        if (len < 4)
            return pqr_prefix(x, err, rc);
        body = ld32(src);
        hl = 4;
        if (body > len - 4)
            return pqr_prefix(x, err, rc);
    }
    tl_error e2 = {0};
    int rc2 = pqr_hybrid_lenient(x, src + hl, body, 1, n, NULL, 0, bm, vd, n_set, off0 + hl,
                                 NULL, &e2);
    if (rc2 != TL_OK)
        return pqr_prefix(x, err, rc);
    tl_error_clear(err);
    x->lenient_def = 1;
    if (consumed)
        *consumed = hl + body;
    return TL_OK;
}

/* The values part of a data page: n slots at vd, m of them non-null
 * (validity already decoded). */
static int pqr_page_values(pqr_ctx *x, int enc, const uint8_t *src, size_t len, size_t off0,
                           uint64_t vd, size_t n, size_t m, tl_error *err)
{
    pqr_scratch *s = x->s;
    if (enc == TLF_PQM_ENC_PLAIN_DICTIONARY || enc == TLF_PQM_ENC_RLE_DICTIONARY) {
        if (!x->have_dict)
            return pqr_fail(x, err, TL_ECORRUPT, 1,
                            "%s data page but the column chunk has no dictionary page",
                            tlf_pqm_encoding_name(enc));
        if (m) {
            PQR_TRY(pqr_grow(&s->idx, &s->idx_cap, m * sizeof(uint32_t), err));
            PQR_TRY(pqr_dict_indices(x, src, len, m, off0, err));
            PQR_TRY(pqr_gather(x, s->idx, m, vd, err));
        }
    } else if (m) {
        pqr_dst d = pqr_out_dst(x, vd);
        PQR_TRY(pqr_decode_to(x, enc, src, len, m, off0, &d, 0, err));
    }
    if (m < n)
        pqr_expand(x, vd, n, m);
    if (!x->col->ow)
        x->data_used = s->offs[vd + n];
    return TL_OK;
}

static int pqr_decompress_to(pqr_ctx *x, int codec, const uint8_t *src, size_t clen,
                             uint8_t *dst, size_t ulen, tl_error *err)
{
    pqr_scratch *s = x->s;
    if (!s->codec) {
        s->codec = tlf_pq_codec_ctx_new();
        if (!s->codec)
            return tl_error_set(err, TL_ENOMEM, "out of memory (codec context)");
    }
    int rc = tlf_pq_decompress(s->codec, codec, src, clen, dst, ulen, err);
    return rc ? pqr_prefix(x, err, rc) : TL_OK;
}

/* Decompresses src[0..clen) of codec into the page scratch (ulen bytes). */
static int pqr_inflate(pqr_ctx *x, int codec, const uint8_t *src, size_t clen, size_t ulen,
                       const uint8_t **out, tl_error *err)
{
    pqr_scratch *s = x->s;
    if (ulen > PQR_MAX_PAGE_BYTES)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "page declares %zu uncompressed bytes (limit %zu)", ulen,
                        PQR_MAX_PAGE_BYTES);
    if (codec == TL_PQ_UNCOMPRESSED) {
        if (ulen != clen)
            return pqr_fail(x, err, TL_ECORRUPT, 1,
                            "uncompressed page: compressed size %zu != uncompressed size %zu",
                            clen, ulen);
        *out = src;
        return TL_OK;
    }
    PQR_TRY(pqr_grow(&s->page, &s->page_cap, ulen + 1, err));
    PQR_TRY(pqr_decompress_to(x, codec, src, clen, s->page, ulen, err));
    *out = s->page;
    return TL_OK;
}

/* PLAIN values of a fixed-width type whose bytes are the output bytes
 * (INT32, INT64, FLOAT, DOUBLE and their CV_COPY mappings): a compressed
 * body holding exactly m values may be decompressed straight into the
 * output, saving a copy. */
static int pqr_direct_ok(const pqr_ctx *x, int enc, int codec, size_t ulen, uint64_t m)
{
    const pqr_col *c = x->col;
    return enc == TLF_PQM_ENC_PLAIN && c->conv == CV_COPY &&
           c->info.physical != TL_PQ_BOOLEAN && codec != TL_PQ_UNCOMPRESSED && m > 0 &&
           (uint64_t)ulen == m * c->pw;
}

static int pqr_dict_page(pqr_ctx *x, const tlf_pqm_page_header *ph, int codec,
                         const uint8_t *body, tl_error *err)
{
    pqr_scratch *s = x->s;
    const pqr_col *c = x->col;
    if (x->have_dict)
        return pqr_fail(x, err, TL_ECORRUPT, 1, "a second dictionary page in the column chunk");
    if (x->vd)
        return pqr_fail(x, err, TL_ECORRUPT, 1, "dictionary page after data pages");
    if (!ph->has_dict_page)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "DICTIONARY_PAGE without a DictionaryPageHeader");
    int enc = ph->dict_page.encoding;
    if (enc != TLF_PQM_ENC_PLAIN && enc != TLF_PQM_ENC_PLAIN_DICTIONARY)
        return pqr_fail(x, err, TL_EUNSUPPORTED, 1, "dictionary page encoding %s (%d)",
                        tlf_pqm_encoding_name(enc), enc);
    const uint8_t *p;
    size_t len = (size_t)ph->uncompressed_page_size;
    PQR_TRY(pqr_inflate(x, codec, body, (size_t)ph->compressed_page_size, len, &p, err));
    size_t n = (size_t)ph->dict_page.num_values;
    uint64_t min_bytes = c->info.physical == TL_PQ_BOOLEAN      ? ((uint64_t)n + 7) / 8
                         : c->info.physical == TL_PQ_BYTE_ARRAY ? 4 * (uint64_t)n
                                                                : (uint64_t)n * c->pw;
    if (min_bytes > len)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "dictionary of %zu %s values needs at least %llu bytes, the page holds "
                        "%zu",
                        n, pqr_phys_name(c->info.physical), (unsigned long long)min_bytes, len);
    pqr_dst d = {0};
    if (c->ow) {
        PQR_TRY(pqr_grow(&s->dvals, &s->dvals_cap, n * c->ow + 8, err));
        d.fixed = s->dvals;
    } else {
        PQR_TRY(pqr_grow(&s->doffs, &s->doffs_cap, (n + 1) * sizeof(uint32_t), err));
        s->doffs[0] = 0;
        d.offs = s->doffs;
        d.data = &s->ddata;
        d.data_cap = &s->ddata_cap;
    }
    PQR_TRY(pqr_decode_to(x, TLF_PQM_ENC_PLAIN, p, len, n, 0, &d, 1, err));
    if (!c->ow) /* the 16 bytes of slack pqr_gather reads past the last entry */
        PQR_TRY(pqr_grow(&s->ddata, &s->ddata_cap, (size_t)s->doffs[n] + 16, err));
    x->have_dict = 1;
    x->dict_n = (uint32_t)n;
    return TL_OK;
}

/* Definition levels of a deprecated BIT_PACKED v1 page (bit width 1, most
 * significant bit first, no length prefix). */
static int pqr_bitpacked_levels(pqr_ctx *x, const uint8_t *src, size_t len, uint64_t vd,
                                size_t n, uint64_t *n_set, size_t *consumed, tl_error *err)
{
    size_t need = (n + 7) / 8;
    if (need > len)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "BIT_PACKED definition levels need %zu bytes, the page holds %zu",
                        need, len);
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int bit = (src[i >> 3] >> (7 - (i & 7))) & 1;
        tl_bit_set(x->s->valid, vd + i, bit);
        k += (uint64_t)bit;
    }
    *n_set = k;
    *consumed = need;
    return TL_OK;
}

static void pqr_set_valid(pqr_ctx *x, uint64_t vd, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tl_bit_set(x->s->valid, vd + i, 1);
}

static int pqr_check_count(pqr_ctx *x, int64_t n, tl_error *err)
{
    if (n < 0 || (uint64_t)n > x->rows - x->vd)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "page holds %lld values, only %llu of the row group's %llu rows remain",
                        (long long)n, (unsigned long long)(x->rows - x->vd),
                        (unsigned long long)x->rows);
    return TL_OK;
}

static int pqr_data_page_v1(pqr_ctx *x, const tlf_pqm_page_header *ph, int codec,
                            const uint8_t *body, tl_error *err)
{
    if (!ph->has_data_page)
        return pqr_fail(x, err, TL_ECORRUPT, 1, "DATA_PAGE without a DataPageHeader");
    const tlf_pqm_data_page *dp = &ph->data_page;
    PQR_TRY(pqr_check_count(x, dp->num_values, err));
    size_t n = (size_t)dp->num_values;
    const uint8_t *p;
    size_t len = (size_t)ph->uncompressed_page_size;
    uint64_t vd = x->vd;
    PQR_TRY(pqr_reserve_out(x, vd + n, err));
    if (!x->col->info.optional && pqr_direct_ok(x, dp->encoding, codec, len, n)) {
        PQR_TRY(pqr_decompress_to(x, codec, body, (size_t)ph->compressed_page_size,
                                  x->s->vals + vd * x->col->ow, len, err));
        x->vd = vd + n;
        return TL_OK;
    }
    PQR_TRY(pqr_inflate(x, codec, body, (size_t)ph->compressed_page_size, len, &p, err));
    uint64_t m = n;
    size_t used = 0;
    if (x->col->info.optional) {
        int rc;
        if (dp->definition_level_encoding == TLF_PQM_ENC_RLE) {
            rc = pqr_def_levels(x, 0, p, len, vd, n, &m, 0, &used, err);
            if (rc)
                return rc;
        } else if (dp->definition_level_encoding == TLF_PQM_ENC_BIT_PACKED) {
            PQR_TRY(pqr_bitpacked_levels(x, p, len, vd, n, &m, &used, err));
        } else {
            return pqr_fail(x, err, TL_EUNSUPPORTED, 1, "definition level encoding %s (%d)",
                            tlf_pqm_encoding_name(dp->definition_level_encoding),
                            (int)dp->definition_level_encoding);
        }
        if (m < n)
            x->any_null = 1;
    }
    PQR_TRY(pqr_page_values(x, dp->encoding, p + used, len - used, used, vd, n, (size_t)m, err));
    x->vd = vd + n;
    return TL_OK;
}

static int pqr_data_page_v2(pqr_ctx *x, const tlf_pqm_page_header *ph, int codec,
                            const uint8_t *body, tl_error *err)
{
    if (!ph->has_data_page_v2)
        return pqr_fail(x, err, TL_ECORRUPT, 1, "DATA_PAGE_V2 without a DataPageHeaderV2");
    const tlf_pqm_data_page_v2 *dp = &ph->data_page_v2;
    PQR_TRY(pqr_check_count(x, dp->num_values, err));
    size_t n = (size_t)dp->num_values;
    size_t clen = (size_t)ph->compressed_page_size, ulen = (size_t)ph->uncompressed_page_size;
    size_t rl = (size_t)dp->repetition_levels_byte_length;
    size_t dl = (size_t)dp->definition_levels_byte_length;
    if (rl + dl > clen || rl + dl > ulen)
        return pqr_fail(x, err, TL_ECORRUPT, 1,
                        "level bytes (%zu repetition + %zu definition) exceed the page (%zu "
                        "compressed, %zu uncompressed bytes)",
                        rl, dl, clen, ulen);
    uint64_t vd = x->vd;
    PQR_TRY(pqr_reserve_out(x, vd + n, err));
    uint64_t m = n;
    if (x->col->info.optional) {
        if (dl == 0 && dp->num_nulls == 0) {
            pqr_set_valid(x, vd, n);
        } else {
            PQR_TRY(pqr_def_levels(x, 1, body + rl, dl, vd, n, &m, rl, NULL, err));
        }
        if (m < n)
            x->any_null = 1;
    }
    const uint8_t *vals = body + rl + dl;
    size_t vclen = clen - rl - dl, vulen = ulen - rl - dl;
    const uint8_t *p = vals;
    size_t len = vclen;
    if (vclen == 0) {
        len = 0; /* an empty body is never fed to the codec */
    } else if (dp->is_compressed && pqr_direct_ok(x, dp->encoding, codec, vulen, m)) {
        PQR_TRY(pqr_decompress_to(x, codec, vals, vclen, x->s->vals + vd * x->col->ow, vulen,
                                  err));
        if (m < n)
            pqr_expand(x, vd, n, (size_t)m);
        x->vd = vd + n;
        return TL_OK;
    } else if (dp->is_compressed && codec != TL_PQ_UNCOMPRESSED) {
        PQR_TRY(pqr_inflate(x, codec, vals, vclen, vulen, &p, err));
        len = vulen;
    }
    PQR_TRY(pqr_page_values(x, dp->encoding, p, len, rl + dl, vd, n, (size_t)m, err));
    x->vd = vd + n;
    return TL_OK;
}

/* Widens the chunk window [start, start + *clen) to new_len bytes (the
 * caller keeps start + new_len <= data_end). */
static int pqr_extend(pqr_ctx *x, uint64_t start, size_t *clen, size_t new_len,
                      const uint8_t **chunk, tl_error *err)
{
    const tl_pq_file *f = x->f;
    if (f->fd >= 0) {
        pqr_scratch *s = x->s;
        PQR_TRY(pqr_grow(&s->raw, &s->raw_cap, new_len + 1, err));
        PQR_TRY(pqr_pread(f, s->raw + *clen, new_len - *clen, start + *clen, err));
        *chunk = s->raw;
    }
    *clen = new_len;
    return TL_OK;
}

static pqr_scratch *pqr_scratch_of(tl_pq_colbuf *buf, tl_error *err)
{
    if (!buf->priv) {
        buf->priv = calloc(1, sizeof(pqr_scratch));
        if (!buf->priv)
            tl_error_set(err, TL_ENOMEM, "out of memory");
    }
    return (pqr_scratch *)buf->priv;
}

static int pqr_read_chunk(tl_pq_file *f, uint32_t rg, uint32_t col, tl_pq_colbuf *buf,
                          tl_error *err)
{
    pqr_scratch *s = pqr_scratch_of(buf, err);
    if (!s)
        return TL_ENOMEM;
    const tlf_pqm_col_meta *md = &f->meta.row_groups[rg].columns[col].meta_data;
    pqr_ctx x = {0};
    x.f = f;
    x.col = &f->cols[col];
    x.s = s;
    x.rg = rg;
    x.ci = col;
    x.rows = (uint64_t)f->meta.row_groups[rg].num_rows;
    x.ts_unit = x.col->info.ts_unit;
    buf->n = 0;
    memset(&buf->vec, 0, sizeof buf->vec);

    /* Chunk bytes: from the dictionary page when its offset is usable. */
    uint64_t start = (uint64_t)md->data_page_offset;
    if (md->has_dictionary_page_offset && md->dictionary_page_offset > 0 &&
        (uint64_t)md->dictionary_page_offset < start)
        start = (uint64_t)md->dictionary_page_offset;
    size_t clen = (size_t)md->total_compressed_size; /* inside the file (open checked) */
    const uint8_t *chunk;
    if (x.rows == 0) {
        chunk = NULL;
        clen = 0;
    } else if (f->fd < 0) {
        chunk = f->mem + start;
    } else {
        PQR_TRY(pqr_grow(&s->raw, &s->raw_cap, clen + 1, err));
        int rc = pqr_pread(f, s->raw, clen, start, err);
        if (rc) {
            tl_error_prefix(err, "row group %u, column '%s': ", rg, x.col->info.name);
            return rc;
        }
        chunk = s->raw;
    }
    if (!x.col->ow) {
        PQR_TRY(pqr_grow(&s->offs, &s->offs_cap, sizeof(uint32_t), err));
        s->offs[0] = 0;
    }
    int codec = md->codec;
    size_t pos = 0;
    while (x.vd < x.rows) {
        x.page_off = start + pos;
        if (pos >= clen)
            return pqr_fail(&x, err, TL_ECORRUPT, 1,
                            "column chunk (%zu bytes) ends after %llu of %llu values", clen,
                            (unsigned long long)x.vd, (unsigned long long)x.rows);
        tlf_pqm_page_header ph;
        size_t hl;
        int rc = tlf_pqm_decode_page_header(chunk + pos, clen - pos, x.page_off, &ph, &hl, err);
        if (rc == TL_ECORRUPT && start + clen < f->data_end) {
            /* The chunk's total_compressed_size may be short (some writers
             * leave out a page header): retry with the bytes that follow,
             * up to the footer. */
            uint64_t more = f->data_end - start - clen;
            size_t nl = clen + (size_t)(more < (1u << 20) ? more : (1u << 20));
            PQR_TRY(pqr_extend(&x, start, &clen, nl, &chunk, err));
            rc = tlf_pqm_decode_page_header(chunk + pos, clen - pos, x.page_off, &ph, &hl, err);
        }
        if (rc)
            return pqr_prefix(&x, err, rc);
        size_t comp = (size_t)ph.compressed_page_size;
        if (comp > clen - pos - hl) {
            if ((uint64_t)comp > f->data_end - start - pos - hl)
                return pqr_fail(&x, err, TL_ECORRUPT, 1,
                                "page of %zu bytes after a %zu-byte header extends past the "
                                "column chunk (ends at byte %llu) and the data section (ends at "
                                "byte %llu)",
                                comp, hl, (unsigned long long)(start + clen),
                                (unsigned long long)f->data_end);
            PQR_TRY(pqr_extend(&x, start, &clen, pos + hl + comp, &chunk, err));
        }
        const uint8_t *body = chunk + pos + hl;
        if (ph.has_crc) {
            uint32_t crc = tlf_pq_crc32(0, body, comp);
            if (crc != ph.crc)
                return pqr_fail(&x, err, TL_ECHECKSUM, 1,
                                "page CRC mismatch: header says %08x, the %zu page bytes give "
                                "%08x",
                                ph.crc, comp, crc);
        }
        switch (ph.type) {
        case TLF_PQM_PAGE_DICTIONARY:
            rc = pqr_dict_page(&x, &ph, codec, body, err);
            break;
        case TLF_PQM_PAGE_DATA:
            rc = pqr_data_page_v1(&x, &ph, codec, body, err);
            break;
        case TLF_PQM_PAGE_DATA_V2:
            rc = pqr_data_page_v2(&x, &ph, codec, body, err);
            break;
        case TLF_PQM_PAGE_INDEX:
            rc = TL_OK;
            break;
        default:
            rc = pqr_fail(&x, err, TL_ECORRUPT, 1, "unknown page type %d", (int)ph.type);
            break;
        }
        if (rc)
            return rc;
        pos += hl + comp;
        x.page++;
    }
    buf->n = x.rows;
    buf->ts_unit = x.ts_unit;
    buf->ts_sub_us_dropped = x.sub_us_dropped;
    if (x.col->ow) {
        if (!s->vals)
            PQR_TRY(pqr_grow(&s->vals, &s->vals_cap, 8, err));
        buf->vec.values = s->vals;
    } else {
        if (!s->data)
            PQR_TRY(pqr_grow(&s->data, &s->data_cap, 1, err));
        buf->vec.offsets = s->offs;
        buf->vec.data = s->data;
    }
    if (x.any_null) {
        if (x.rows & 7)
            s->valid[x.rows >> 3] &= (uint8_t)((1u << (x.rows & 7)) - 1);
        buf->vec.validity = s->valid;
    }
    return TL_OK;
}

int tl_pq_read_chunk(tl_pq_file *f, uint32_t rg, uint32_t col, tl_pq_colbuf *buf, tl_error *err)
{
    if (!f || !buf)
        return tl_error_set(err, TL_EINVAL, "tl_pq_read_chunk: NULL argument");
    if (rg >= f->meta.n_row_groups || col >= f->n_cols)
        return tl_error_set(err, TL_EINVAL,
                            "%s: row group %u / column %u out of range (%u row groups, %u "
                            "columns)",
                            f->name, rg, col, f->meta.n_row_groups, f->n_cols);
    int rc = pqr_read_chunk(f, rg, col, buf, err);
    /* Out-of-memory errors of the scratch helpers carry no place yet. */
    if (rc == TL_ENOMEM && err && strncmp(err->msg, f->name, strlen(f->name)) != 0)
        tl_error_prefix(err, "%s: row group %u, column '%s': ", f->name, rg,
                        f->cols[col].info.name);
    return rc;
}

void tl_pq_colbuf_free(tl_pq_colbuf *buf)
{
    if (!buf)
        return;
    pqr_scratch *s = (pqr_scratch *)buf->priv;
    if (s) {
        free(s->raw);
        free(s->page);
        free(s->vals);
        free(s->valid);
        free(s->offs);
        free(s->data);
        free(s->phys);
        free(s->poffs);
        free(s->pdata);
        free(s->idx);
        free(s->dvals);
        free(s->doffs);
        free(s->ddata);
        tlf_pq_codec_ctx_free(s->codec);
        free(s);
    }
    memset(buf, 0, sizeof *buf);
}
