/*
 * segment_writer.c - writes one segment file in a single forward pass:
 * header, row blocks, footer, trailer (byte layout: segment_int.h).
 *
 * Owns: buffering appended rows per column (one block's worth, allocated
 * once and reused), zone maps, the per-block encoding choice, zstd, string
 * dictionaries, the block index, metadata, and the footer bytes.
 *
 * Invariants:
 *  - file_off is the number of bytes handed to the sink; every block starts
 *    at a multiple of 64, preceded by zero bytes.
 *  - Null slots are canonicalised (0 / empty string) when rows are copied
 *    in, so encoders and zone maps never see caller garbage. Before a
 *    fixed-width block is encoded they take the previous non-null value
 *    (leading ones the first), back to 0 if the block ends up PLAIN; DICT
 *    codes of null strings repeat the previous code (FMT-R23). Zone maps
 *    are taken after that, over every slot (each then holds a present
 *    value), so their loops need no validity.
 *  - A fixed-width block that one append brings whole and without nulls
 *    is encoded from the caller's array (bv), never written to; every
 *    other block from the column's own copy (vals).
 *  - A string column's dictionary only holds entries used by blocks that
 *    were written DICT: entries added while trying a block that ends up
 *    PLAIN are rolled back (linear-probing deletes in reverse insertion
 *    order restore the exact earlier table).
 *  - After any failure `failed` is set and only tlf_seg_writer_free works.
 *
 * Encoding choice (TLF_ENC_AUTO, per block; spec/FORMAT.md 6.7): candidates
 * by type - integers, bool, timestamp, date: PLAIN, RLE, FOR, DELTA;
 * floats: PLAIN, RLE, SCALED (inner: the smallest of FOR, DELTA, RLE);
 * every fixed-width type but bool also DICT with a block dictionary, built
 * only up to DICT_MAX_ENTRIES entries and while it can still beat the best
 * so far; strings: DICT (while the column dictionary is enabled), PLAIN.
 * Sizes come from the exact tlf_*_size / *_plan functions (a FOR or DELTA
 * plan is reused to encode). PLAIN is kept unless the
 * smallest candidate saves at least 1/8 of the PLAIN size; then, among
 * candidates within 1/32 (~3%) of the smallest, the first in the order RLE,
 * FOR, DELTA, SCALED, DICT wins (faster decoders first). A string
 * dictionary is disabled for the rest of the segment once it would exceed
 * dict_max_entries / dict_max_bytes or once DICT (codes plus the block's
 * new dictionary bytes) loses to PLAIN. Two shortcuts trade a little size
 * for speed: a block dictionary that overflowed is not tried for the next
 * DICT_REST blocks, DELTA that lost by more than 1/8 not for DELTA_REST.
 * Compression: ZSTD always; AUTO only for columns that are not hot and when
 * the zstd frame saves at least 10% of the encoded payload; NONE never.
 * A payload with a FOR part also has a byte-aligned twin (FOR widths
 * rounded up to 8, 16, 32, 64 bits), which zstd usually compresses better;
 * the smaller frame is kept. Under AUTO the decision is remembered per
 * column and encoding and re-evaluated periodically (encode_block), and
 * evaluations of large payloads compress quarter samples first.
 * Validity (FMT-R24): null positions when they are smaller than the
 * bitmap (null_count * pw < (n+7)/8), else the bitmap.
 */
#include "segment_int.h"
#include "enc.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "xxh_int.h"
#include <zstd.h>

#define DEF_DICT_ENTRIES 65536u
#define DEF_DICT_BYTES (1u << 20)
#define DEF_ZSTD_LEVEL 3
/* Under the default level, byte-aligned twins whose values take one byte
 * (order-book sizes, small dictionaries) are compressed at level 1: on
 * such literal-heavy bytes it is about three times as fast as level 3 and
 * its frames are about 1% smaller (wider twins, such as SCALED prices,
 * compress better at level 3: level 1 loses 10% there). */
#define DEF_BYTE_LEVEL 1
/* AUTO tries a block dictionary of fixed-width values up to this size */
#define DICT_MAX_ENTRIES 4096u
/* blocks of a column that skip the block dictionary after one overflowed
 * (had more distinct values than could beat the other candidates) */
#define DICT_REST 7u
/* blocks of a column that do not size DELTA after it lost by more than
 * 1/8 to the winner */
#define DELTA_REST 3u
/* most string bytes one block may hold: its PLAIN payload must fit a u32 */
#define MAX_BLOCK_STR_BYTES(block_rows) \
    ((uint64_t)UINT32_MAX - 4 * ((uint64_t)(block_rows) + 1) - 64)

/* (encoding, inner) pairs with a zstd memo: encodings 0..5 x inner 0..5 */
#define ZKEYS ((TLF_ENC_SCALED + 1) * (TLF_ENC_SCALED + 1))

typedef struct wcol {
    char *name;
    size_t name_len;
    tl_type type;
    unsigned w;        /* bytes per value; 0 for strings */
    int is_signed;     /* signed ints, timestamp, date */
    uint8_t enc_opt;   /* TLF_ENC_* or AUTO */
    uint8_t comp_opt;  /* TLF_COMP_* or AUTO */
    uint8_t hot;
    /* the block being filled */
    uint8_t *vals;     /* fixed: block_rows*w; strings: u32 offsets[block_rows+1] */
    const uint8_t *bv; /* fixed: the block's values - vals, or the caller's
                          array when one append brought the whole block
                          without nulls (read only, valid during the append) */
    tlf_buf sdata;     /* strings: value bytes of the block */
    uint8_t *valid;    /* (block_rows+7)/8 */
    uint32_t nulls;
    /* string dictionary */
    int dict_on;       /* DICT still possible for this column */
    tlf_buf dict_offs; /* u32 offsets[dict_n + 1] */
    tlf_buf dict_bytes;
    uint32_t dict_n;
    uint32_t *ht;      /* slot: entry index + 1, 0 = empty */
    uint32_t ht_cap;   /* power of two */
    /* block index entries of this column, TLF_ENTRY_SIZE bytes each */
    tlf_buf index;
    /* zstd under AUTO, per (encoding, SCALED inner encoding): the outcome
     * of the last full evaluation (see compress_block), trusted for `left`
     * more blocks of that encoding */
    struct zmemo {
        uint8_t mode; /* Z_EVAL, Z_SKIP, Z_PLAIN, Z_ALIGNED */
        uint8_t left;
    } z[ZKEYS];
    /* DICT under AUTO: blocks left in which no block dictionary is tried,
     * after one had more distinct values than could pay */
    uint32_t dict_rest;
    /* DELTA under AUTO (of the values, or of SCALED's k): blocks left that
     * do not size it, after it lost clearly */
    uint32_t delta_rest;
} wcol;

typedef struct meta_kv {
    char *key;
    uint8_t *val;
    uint32_t klen, vlen;
} meta_kv;

struct tlf_seg_writer {
    wcol *cols;
    uint32_t n_cols;
    uint32_t block_rows;
    uint16_t vminor; /* 1 with a timestamp_us column, else 0 (FMT-R25) */
    int zstd_level;
    uint32_t dict_max_entries, dict_max_bytes;
    tlf_sink sink;
    uint64_t file_off;
    uint32_t cur;      /* rows in the current block */
    uint64_t n_rows;   /* rows appended so far */
    uint32_t n_blocks; /* row blocks written */
    int failed;
    int finished;
    tlf_seg_write_stats stats;
    /* scratch, reused across blocks */
    tlf_buf enc;       /* encoded payload, then padding and validity */
    tlf_buf zbuf;      /* zstd frame, then padding and validity */
    tlf_buf enc2, zbuf2; /* the same with byte-aligned FOR widths */
    int64_t *kbuf;     /* SCALED: block_rows integers */
    int64_t *dmins;    /* DELTA plans: per miniblock of a block */
    uint32_t *dfactor;
    uint8_t *dwidth;
    uint32_t *codes;   /* DICT: block_rows codes */
    tlf_fdict fd;      /* DICT of fixed-width values: the block's dictionary */
    ZSTD_CCtx *cctx;   /* frames at zstd_level */
    ZSTD_CCtx *bctx;   /* byte-aligned twins of one byte a value */
    tlf_buf pool;      /* string zone bounds */
    tlf_buf foot;      /* footer */
    meta_kv *meta;
    uint32_t n_meta, meta_cap;
};

static const uint8_t zeros64[64];

/* ---- helpers --------------------------------------------------------- */

static int fail(tlf_seg_writer *w, int rc)
{
    if (rc != TL_OK)
        w->failed = rc;
    return rc;
}

static int check_usable(tlf_seg_writer *w, const char *what, tl_error *err)
{
    if (!w)
        return tl_error_set(err, TL_EINVAL, "segment writer: %s on a NULL writer", what);
    if (w->failed)
        return tl_error_set(err, TL_EINVAL,
                            "segment writer: %s after an earlier failure (%s); "
                            "only tlf_seg_writer_free is allowed",
                            what, tl_strerror(w->failed));
    if (w->finished)
        return tl_error_set(err, TL_EINVAL,
                            "segment writer: %s after tlf_seg_writer_finish", what);
    return TL_OK;
}

static int sink_write(tlf_seg_writer *w, const void *p, size_t len, tl_error *err)
{
    if (len == 0)
        return TL_OK;
    int rc = w->sink.write(w->sink.ctx, p, len, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "segment writer: writing %zu bytes at file offset %llu: ",
                        len, (unsigned long long)w->file_off);
        return fail(w, rc);
    }
    w->file_off += len;
    return TL_OK;
}

static int pad_file(tlf_seg_writer *w, uint64_t align, tl_error *err)
{
    uint64_t pad = tlf_align_up(w->file_off, align) - w->file_off;
    return sink_write(w, zeros64, (size_t)pad, err);
}

static int nomem(tlf_seg_writer *w, tl_error *err, const char *what)
{
    tl_error_set(err, TL_ENOMEM, "segment writer: out of memory (%s)", what);
    if (w)
        w->failed = TL_ENOMEM;
    return TL_ENOMEM;
}

/* ---- open ------------------------------------------------------------ */

static int opts_check(const tl_coldef *cols, uint32_t n_cols,
                      const tlf_writer_opts *o, tl_error *err)
{
    if (!cols || n_cols == 0)
        return tl_error_set(err, TL_EINVAL, "segment writer: no columns");
    if (n_cols > TLF_MAX_COLUMNS)
        return tl_error_set(err, TL_EINVAL,
                            "segment writer: %u columns, at most %u allowed",
                            n_cols, (unsigned)TLF_MAX_COLUMNS);
    if (o) {
        if (o->block_rows > TLF_MAX_BLOCK_ROWS)
            return tl_error_set(err, TL_EINVAL,
                                "segment writer: block_rows %u exceeds the maximum %u",
                                o->block_rows, (unsigned)TLF_MAX_BLOCK_ROWS);
        if (o->zstd_level != 0 &&
            (o->zstd_level < ZSTD_minCLevel() || o->zstd_level > ZSTD_maxCLevel()))
            return tl_error_set(err, TL_EINVAL,
                                "segment writer: zstd_level %d outside %d..%d",
                                o->zstd_level, ZSTD_minCLevel(), ZSTD_maxCLevel());
    }
    for (uint32_t i = 0; i < n_cols; i++) {
        const char *nm = cols[i].name;
        if (!nm || !nm[0])
            return tl_error_set(err, TL_EINVAL, "segment writer: column %u has an empty name", i);
        size_t len = strlen(nm);
        if (len > TLF_MAX_NAME_LEN)
            return tl_error_set(err, TL_EINVAL,
                                "segment writer: column %u name is %zu bytes, at most %u allowed",
                                i, len, (unsigned)TLF_MAX_NAME_LEN);
        if (tl_type_name((int)cols[i].type) == NULL)
            return tl_error_set(err, TL_EINVAL,
                                "segment writer: column '%s' (%u): unknown type %d",
                                nm, i, (int)cols[i].type);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, nm) == 0)
                return tl_error_set(err, TL_EINVAL,
                                    "segment writer: duplicate column name '%s' (columns %u and %u)",
                                    nm, j, i);
        if (o && o->col_opts) {
            const tlf_col_opts *co = &o->col_opts[i];
            if (co->encoding != TLF_ENC_AUTO && !tlf_enc_applies((int)cols[i].type, co->encoding))
                return tl_error_set(err, TL_EINVAL,
                                    "segment writer: column '%s' (%u): encoding %u (%s) does not apply to type %s",
                                    nm, i, co->encoding, tlf_encoding_name(co->encoding),
                                    tl_type_name((int)cols[i].type));
            if (co->compression != TLF_COMP_AUTO && co->compression != TLF_COMP_NONE &&
                co->compression != TLF_COMP_ZSTD)
                return tl_error_set(err, TL_EINVAL,
                                    "segment writer: column '%s' (%u): unknown compression %u",
                                    nm, i, co->compression);
        }
    }
    return TL_OK;
}

int tlf_seg_writer_open(const tl_coldef *cols, uint32_t n_cols,
                        const tlf_writer_opts *opts, tlf_sink sink,
                        tlf_seg_writer **out, tl_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !sink.write)
        return tl_error_set(err, TL_EINVAL, "segment writer: NULL output or sink");
    int rc = opts_check(cols, n_cols, opts, err);
    if (rc != TL_OK)
        return rc;
    tlf_seg_writer *w = calloc(1, sizeof *w);
    if (!w)
        return nomem(NULL, err, "writer");
    w->n_cols = n_cols;
    w->vminor = TLF_VMINOR_BASE;
    w->block_rows = (opts && opts->block_rows) ? opts->block_rows : TLF_DEFAULT_BLOCK_ROWS;
    w->zstd_level = (opts && opts->zstd_level) ? opts->zstd_level : DEF_ZSTD_LEVEL;
    w->dict_max_entries = (opts && opts->dict_max_entries) ? opts->dict_max_entries : DEF_DICT_ENTRIES;
    w->dict_max_bytes = (opts && opts->dict_max_bytes) ? opts->dict_max_bytes : DEF_DICT_BYTES;
    w->sink = sink;
    w->cols = calloc(n_cols, sizeof *w->cols);
    if (!w->cols)
        goto oom;
    int any_dict = 0, any_float = 0;
    size_t br = w->block_rows;
    for (uint32_t i = 0; i < n_cols; i++) {
        wcol *c = &w->cols[i];
        c->name_len = strlen(cols[i].name);
        c->name = malloc(c->name_len + 1);
        if (!c->name)
            goto oom;
        memcpy(c->name, cols[i].name, c->name_len + 1);
        c->type = cols[i].type;
        if (c->type == TL_TIMESTAMP_US)
            w->vminor = TLF_VMINOR_TIMESTAMP_US;
        c->w = (unsigned)tl_type_width((int)c->type);
        c->is_signed = tl_type_is_signed_int((int)c->type);
        const tlf_col_opts *co = (opts && opts->col_opts) ? &opts->col_opts[i] : NULL;
        c->enc_opt = co ? co->encoding : TLF_ENC_AUTO;
        c->comp_opt = co ? co->compression : TLF_COMP_AUTO;
        c->hot = co ? (co->hot != 0) : 0;
        if (c->type != TL_BOOL)
            any_dict = 1; /* strings and fixed-width DICT need codes */
        if (c->type == TL_STRING) {
            c->vals = malloc((br + 1) * 4);
            c->dict_on = (c->enc_opt == TLF_ENC_AUTO || c->enc_opt == TLF_ENC_DICT);
            if (c->dict_on && tlf_buf_append(&c->dict_offs, zeros64, 4, NULL) != TL_OK)
                goto oom;
        } else {
            if (tl_type_is_float((int)c->type))
                any_float = 1;
            c->vals = malloc(br * c->w);
            c->bv = c->vals;
        }
        c->valid = malloc((br + 7) / 8);
        if (!c->vals || !c->valid)
            goto oom;
        if (c->type == TL_STRING)
            memset(c->vals, 0, 4); /* offsets[0] */
    }
    if (any_float && !(w->kbuf = malloc(br * sizeof *w->kbuf)))
        goto oom;
    size_t n_mini = br / 256 + 1;
    w->dmins = malloc(n_mini * sizeof *w->dmins);
    w->dfactor = malloc(n_mini * sizeof *w->dfactor);
    w->dwidth = malloc(n_mini);
    if (!w->dmins || !w->dfactor || !w->dwidth)
        goto oom;
    if (any_dict && !(w->codes = malloc(br * sizeof *w->codes)))
        goto oom;
    w->cctx = ZSTD_createCCtx();
    w->bctx = ZSTD_createCCtx();
    if (!w->cctx || !w->bctx)
        goto oom;
    /* parameters set once (levels were range-checked by opts_check) */
    int byte_level = (opts && opts->zstd_level) ? w->zstd_level : DEF_BYTE_LEVEL;
    size_t zr = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->zstd_level);
    if (!ZSTD_isError(zr))
        zr = ZSTD_CCtx_setParameter(w->bctx, ZSTD_c_compressionLevel, byte_level);
    if (ZSTD_isError(zr)) {
        tlf_seg_writer_free(w);
        return tl_error_set(err, TL_EINVAL, "segment writer: zstd level %d: %s",
                            opts ? opts->zstd_level : 0, ZSTD_getErrorName(zr));
    }

    uint8_t hdr[TLF_HEADER_SIZE] = {0};
    memcpy(hdr + TLF_HDR_MAGIC, TLF_MAGIC, TLF_MAGIC_LEN);
    tlf_st16(hdr + TLF_HDR_VMAJOR, TLF_VERSION_MAJOR);
    tlf_st16(hdr + TLF_HDR_VMINOR, w->vminor);
    tlf_st32(hdr + TLF_HDR_FLAGS, 0);
    tlf_st32(hdr + TLF_HDR_NCOLS, n_cols);
    tlf_st32(hdr + TLF_HDR_BLOCK_ROWS, w->block_rows);
    rc = sink_write(w, hdr, sizeof hdr, err);
    if (rc != TL_OK) {
        tlf_seg_writer_free(w);
        return rc;
    }
    *out = w;
    return TL_OK;
oom:
    tlf_seg_writer_free(w);
    return nomem(NULL, err, "opening");
}

void tlf_seg_writer_free(tlf_seg_writer *w)
{
    if (!w)
        return;
    if (w->cols) {
        for (uint32_t i = 0; i < w->n_cols; i++) {
            wcol *c = &w->cols[i];
            free(c->name);
            free(c->vals);
            free(c->valid);
            free(c->ht);
            tlf_buf_free(&c->sdata);
            tlf_buf_free(&c->dict_offs);
            tlf_buf_free(&c->dict_bytes);
            tlf_buf_free(&c->index);
        }
        free(w->cols);
    }
    for (uint32_t i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].val);
    }
    free(w->meta);
    free(w->kbuf);
    free(w->dmins);
    free(w->dfactor);
    free(w->dwidth);
    free(w->codes);
    ZSTD_freeCCtx(w->cctx);
    ZSTD_freeCCtx(w->bctx);
    tlf_buf_free(&w->enc);
    tlf_buf_free(&w->zbuf);
    tlf_buf_free(&w->enc2);
    tlf_buf_free(&w->zbuf2);
    tlf_fdict_free(&w->fd);
    tlf_buf_free(&w->pool);
    tlf_buf_free(&w->foot);
    free(w);
}

/* ---- zone maps -------------------------------------------------------- */

/* float keys: b for b >= 0, b ^ 0x7f..f for b < 0 (an involution) */
#define FKEY(T, U, b) ((T)((b) ^ ((U)((T)(b) >> (8 * sizeof(U) - 1)) >> 1)))

/* min and max float keys of x[0..n) leaving NaNs out (lo > hi when all
 * are NaN) and whether there is a NaN. Keys of NaNs lie outside those of
 * -inf .. +inf, so one plain (vectorised) pass decides whether the slower
 * NaN-skipping pass is needed. */
#define FLOAT_KEYS(T, U, NEG_INF, POS_INF)                                    \
    do {                                                                      \
        const U *x = (const U *)(const void *)v;                              \
        T lo0 = FKEY(T, U, x[0]), hi0 = lo0;                                  \
        for (uint32_t i = 1; i < n; i++) {                                    \
            T k = FKEY(T, U, x[i]);                                           \
            lo0 = k < lo0 ? k : lo0;                                          \
            hi0 = k > hi0 ? k : hi0;                                          \
        }                                                                     \
        if (lo0 >= (T)(NEG_INF) && hi0 <= (T)(POS_INF)) {                    \
            lo = lo0;                                                         \
            hi = hi0;                                                         \
            break;                                                            \
        }                                                                     \
        nan = 1;                                                              \
        for (uint32_t i = 0; i < n; i++) {                                    \
            T k = FKEY(T, U, x[i]);                                           \
            if (k < (T)(NEG_INF) || k > (T)(POS_INF))                         \
                continue;                                                     \
            lo = k < lo ? k : lo;                                             \
            hi = k > hi ? k : hi;                                             \
        }                                                                     \
    } while (0)

/* Zone map of a fixed-width block. Every slot holds a present value here
 * (fill_nulls gave null slots a neighbour's), so the loops need no
 * validity and vectorise; an all-null block is handled by the caller.
 * Floats are ordered by a total-order key (sign-magnitude flipped to two's
 * complement: -0.0 below +0.0), NaNs left out and flagged. */
static void zone_fixed(const wcol *c, uint32_t n, uint8_t *e)
{
    const uint8_t *v = c->bv;
    uint8_t flags = TLF_ZONE_HAS_MINMAX;
    int nan = 0;
    if (c->type == TL_FLOAT64) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        FLOAT_KEYS(int64_t, uint64_t, 0x800fffffffffffffull, 0x7ff0000000000000ull);
        flags = nan ? TLF_ZONE_HAS_NAN : 0;
        if (lo <= hi) {
            flags |= TLF_ZONE_HAS_MINMAX;
            tlf_st64(e + TLF_BI_MIN, (uint64_t)FKEY(int64_t, uint64_t, (uint64_t)lo));
            tlf_st64(e + TLF_BI_MAX, (uint64_t)FKEY(int64_t, uint64_t, (uint64_t)hi));
        }
    } else if (c->type == TL_FLOAT32) {
        int32_t lo = INT32_MAX, hi = INT32_MIN;
        FLOAT_KEYS(int32_t, uint32_t, 0x807fffffu, 0x7f800000u);
        flags = nan ? TLF_ZONE_HAS_NAN : 0;
        if (lo <= hi) {
            uint32_t bl = (uint32_t)FKEY(int32_t, uint32_t, (uint32_t)lo);
            uint32_t bh = (uint32_t)FKEY(int32_t, uint32_t, (uint32_t)hi);
            float fl, fh;
            memcpy(&fl, &bl, 4);
            memcpy(&fh, &bh, 4);
            double dl = fl, dh = fh;
            flags |= TLF_ZONE_HAS_MINMAX;
            memcpy(e + TLF_BI_MIN, &dl, 8);
            memcpy(e + TLF_BI_MAX, &dh, 8);
        }
    } else {
        uint64_t lo, hi; /* signed ints: sign-extended, as the entry stores them */
        tlf_minmax(v, n, c->w, c->is_signed, &lo, &hi);
        tlf_st64(e + TLF_BI_MIN, lo);
        tlf_st64(e + TLF_BI_MAX, hi);
    }
    e[TLF_BI_ZONE_FLAGS] = flags;
}
#undef FLOAT_KEYS
#undef FKEY

static int pool_add(tlf_seg_writer *w, const uint8_t *p, uint32_t len,
                    uint8_t *dst, tl_error *err)
{
    if (w->pool.len + len > UINT32_MAX)
        return tl_error_set(err, TL_EINVAL,
                            "segment writer: string zone bound pool exceeds 4 GiB");
    tlf_st32(dst, (uint32_t)w->pool.len);
    tlf_st32(dst + 4, len);
    return len ? tlf_buf_append(&w->pool, p, len, err) : TL_OK;
}

/* Zone map of a string block. codes: the block's dictionary codes when it
 * is written DICT (else NULL); a row with the code of the row compared
 * last holds the same string and is not compared again. */
static int zone_string(tlf_seg_writer *w, const wcol *c, uint32_t n, const uint32_t *codes,
                       uint8_t *e, tl_error *err)
{
    const uint32_t *off = (const uint32_t *)c->vals;
    const uint8_t *d = c->sdata.p ? c->sdata.p : zeros64;
    const uint8_t *vb = c->nulls ? c->valid : NULL;
    const uint8_t *mn = NULL, *mx = NULL;
    uint32_t mnl = 0, mxl = 0, last = UINT32_MAX;
    int have = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!tl_bit_get(vb, i))
            continue;
        if (codes) {
            if (codes[i] == last)
                continue;
            last = codes[i];
        }
        const uint8_t *p = d + off[i];
        uint32_t l = off[i + 1] - off[i];
        if (!have) {
            mn = mx = p;
            mnl = mxl = l;
            have = 1;
        } else {
            if (tlf_str_cmp(p, l, mn, mnl) < 0) {
                mn = p;
                mnl = l;
            }
            if (tlf_str_cmp(p, l, mx, mxl) > 0) {
                mx = p;
                mxl = l;
            }
        }
    }
    uint8_t flags = 0;
    if (have) {
        flags |= TLF_ZONE_HAS_MINMAX;
        if (mnl > TLF_ZONE_STR_MAX) {
            mnl = TLF_ZONE_STR_MAX;
            flags |= TLF_ZONE_MIN_INEXACT;
        }
        int rc = pool_add(w, mn, mnl, e + TLF_BI_MIN, err);
        if (rc != TL_OK)
            return rc;
        if (mxl > TLF_ZONE_STR_MAX) {
            /* Upper bound: the prefix with its last non-0xFF byte
             * incremented, cut after that byte. */
            uint8_t b[TLF_ZONE_STR_MAX];
            memcpy(b, mx, TLF_ZONE_STR_MAX);
            int k = TLF_ZONE_STR_MAX - 1;
            while (k >= 0 && b[k] == 0xFF)
                k--;
            if (k < 0) {
                flags |= TLF_ZONE_MAX_UNBOUNDED;
            } else {
                b[k]++;
                flags |= TLF_ZONE_MAX_INEXACT;
                rc = pool_add(w, b, (uint32_t)k + 1, e + TLF_BI_MAX, err);
            }
        } else {
            rc = pool_add(w, mx, mxl, e + TLF_BI_MAX, err);
        }
        if (rc != TL_OK)
            return rc;
    }
    e[TLF_BI_ZONE_FLAGS] = flags;
    return TL_OK;
}

/* ---- encoding choice -------------------------------------------------- */

/* ---- null slots (FMT-R23) --------------------------------------------- */

/* Give every null slot the previous non-null value (leading nulls: the
 * first non-null value), so runs, deltas and grids are not broken by the
 * zeros the rows were copied in with. An all-null block stays zero
 * (returns 0; else 1). */
static int fill_nulls(wcol *c, uint32_t n)
{
    unsigned w = c->w;
    uint8_t *v = c->vals;
    uint32_t nw = (n + 63) / 64, first = n;
    for (uint32_t k = 0; k < nw && first == n; k++) {
        uint64_t x = tlf_valid_word(c->valid, n, k) & (k + 1 < nw || n % 64 == 0
                                                       ? ~(uint64_t)0
                                                       : ((uint64_t)1 << (n % 64)) - 1);
        if (x)
            first = 64 * k + (uint32_t)__builtin_ctzll(x);
    }
    if (first == n)
        return 0;
    for (uint32_t i = 0; i < first; i++)
        memcpy(v + (size_t)i * w, v + (size_t)first * w, w);
    for (uint32_t k = first / 64; k < nw; k++) {
        uint64_t nulls = ~tlf_valid_word(c->valid, n, k);
        if (k == first / 64)
            nulls &= ~(uint64_t)0 << (first % 64); /* rows before first are done */
        while (nulls) {
            size_t i = 64 * (size_t)k + (size_t)__builtin_ctzll(nulls);
            memcpy(v + i * w, v + (i - 1) * w, w); /* row i-1 is final */
            nulls &= nulls - 1;
        }
    }
    return 1;
}

/* The encoding chosen for a block, with what emitting it needs (the SCALED
 * integers stay in w->kbuf, DICT entries in w->fd and codes in w->codes). */
typedef struct choice {
    int enc;
    int inner;        /* SCALED */
    uint64_t divisor; /* SCALED */
    tlf_for_plan fp;  /* FOR (of the values), SCALED inner FOR (of k) */
    tlf_delta_plan dp; /* DELTA, SCALED inner DELTA (arrays: the writer's) */
    size_t size;      /* exact payload bytes when known (AUTO), else 0 */
} choice;

/* Pick among candidate sizes (SIZE_MAX = not a candidate), indexed by
 * encoding; pref lists the non-PLAIN encodings in preference order. */
static int pick(const size_t *size, size_t plain, const int *pref, int n_pref)
{
    size_t best = SIZE_MAX;
    for (int i = 0; i < n_pref; i++)
        if (size[pref[i]] < best)
            best = size[pref[i]];
    if (best == SIZE_MAX || best > plain - plain / 8)
        return TLF_ENC_PLAIN;
    size_t near = best + best / 32;
    for (int i = 0; i < n_pref; i++)
        if (size[pref[i]] <= near)
            return pref[i];
    return TLF_ENC_PLAIN; /* not reached */
}

/* SCALED size for the block (whose values form `runs` runs), choosing its
 * inner encoding (ch->inner, with ch->divisor and the inner FOR and DELTA
 * plans); SIZE_MAX when the values are not on a decimal grid. Leaves k in
 * w->kbuf. */
static size_t scaled_size(tlf_seg_writer *w, wcol *c, uint32_t n, uint32_t runs, choice *ch)
{
    uint64_t *divisor = &ch->divisor;
    int *inner = &ch->inner;
    if (!tlf_scaled_find(c->bv, n, c->w, w->kbuf, divisor))
        return SIZE_MAX;
    size_t s[TLF_ENC_SCALED + 1];
    for (int i = 0; i <= TLF_ENC_SCALED; i++)
        s[i] = SIZE_MAX;
    /* k and the values have the same runs: equal values, equal k */
    s[TLF_ENC_RLE] = tlf_rle_size(runs, 8);
    tlf_for_plan_make(w->kbuf, n, 8, 1, 0, &ch->fp);
    s[TLF_ENC_FOR] = tlf_for_plan_size(&ch->fp, n, 0);
    int try_delta = c->enc_opt != TLF_ENC_AUTO || c->delta_rest == 0;
    if (try_delta)
        s[TLF_ENC_DELTA] = tlf_delta_plan_make(w->kbuf, n, 8, 1, 0, &ch->dp);
    else
        c->delta_rest--;
    static const int pref[] = {TLF_ENC_RLE, TLF_ENC_FOR, TLF_ENC_DELTA};
    /* never PLAIN inside: compare against an unreachable plain size */
    size_t best = SIZE_MAX;
    for (int i = 0; i < 3; i++)
        best = s[pref[i]] < best ? s[pref[i]] : best;
    size_t near = best + best / 32;
    *inner = TLF_ENC_FOR;
    for (int i = 0; i < 3; i++)
        if (s[pref[i]] <= near) {
            *inner = pref[i];
            break;
        }
    if (try_delta && s[TLF_ENC_DELTA] > s[*inner] + s[*inner] / 8)
        c->delta_rest = DELTA_REST;
    return 16 + s[*inner];
}

/* DICT size for the block with at most max_entries distinct values,
 * SIZE_MAX when there are more. Leaves the dictionary in w->fd and the
 * codes in w->codes. */
static int fdict_size(tlf_seg_writer *w, const wcol *c, uint32_t n, uint32_t max_entries,
                      size_t *size, tl_error *err)
{
    int fits;
    int rc = tlf_fdict_build(&w->fd, c->bv, n, c->w, max_entries, w->codes, &fits, err);
    if (rc != TL_OK)
        return rc;
    *size = fits ? tlf_fdict_size(w->fd.n_dict, c->w, tlf_dict_codes_size(w->codes, n, 0))
                 : SIZE_MAX;
    return TL_OK;
}

/* The most entries a block dictionary may have and still be smaller than
 * `best` bytes: 8 + m*w for its header and entries, 8 for the codes
 * header, and a lower bound of the codes payload - FOR of the width m
 * codes need (first-seen codes are 0 .. m-1, so no base or factor helps),
 * or RLE of the block's value runs (at least 8 + 8 bytes a run). 0: no
 * dictionary can win, so none is built (this keeps the hashing off most
 * float and wide columns). */
static uint32_t dict_max_entries(size_t best, uint32_t n, unsigned w, uint32_t runs)
{
    uint64_t rle_lb = 8 + 8 * (uint64_t)runs, max_e = 0;
    for (unsigned bw = 0; bw <= 12; bw++) {
        uint64_t lo = bw == 0 ? 1 : ((uint64_t)1 << (bw - 1)) + 1, hi = (uint64_t)1 << bw;
        uint64_t for_lb = 24 + ((uint64_t)n * bw + 7) / 8;
        uint64_t fixed = 16 + (for_lb < rle_lb ? for_lb : rle_lb); /* headers + codes */
        if (fixed + lo * w >= best)
            break;
        uint64_t m = (best - fixed - 1) / w;
        max_e = m < hi ? m : hi;
    }
    return max_e < DICT_MAX_ENTRIES ? (uint32_t)max_e : DICT_MAX_ENTRIES;
}

static int choose_fixed(tlf_seg_writer *w, wcol *c, uint32_t n, choice *ch, tl_error *err)
{
    size_t plain = (size_t)n * c->w;
    int enc = c->enc_opt;
    int is_f = tl_type_is_float((int)c->type);
    *ch = (choice){.dp = {.mins = w->dmins, .factor = w->dfactor, .width = w->dwidth}};
    if (enc == TLF_ENC_AUTO) {
        size_t s[TLF_ENC_SCALED + 1];
        for (int i = 0; i <= TLF_ENC_SCALED; i++)
            s[i] = SIZE_MAX;
        uint32_t runs = tlf_rle_count_runs(c->bv, n, c->w);
        s[TLF_ENC_RLE] = tlf_rle_size(runs, c->w);
        if (is_f) {
            s[TLF_ENC_SCALED] = scaled_size(w, c, n, runs, ch);
        } else {
            tlf_for_plan_make(c->bv, n, c->w, c->is_signed, 0, &ch->fp);
            s[TLF_ENC_FOR] = tlf_for_plan_size(&ch->fp, n, 0);
            if (c->delta_rest == 0)
                s[TLF_ENC_DELTA] = tlf_delta_plan_make(c->bv, n, c->w, c->is_signed, 0, &ch->dp);
            else
                c->delta_rest--;
        }
        if (c->type != TL_BOOL) {
            size_t best = plain;
            for (int i = 0; i <= TLF_ENC_SCALED; i++)
                best = s[i] < best ? s[i] : best;
            uint32_t max_e = dict_max_entries(best, n, c->w, runs);
            if (max_e && c->dict_rest) {
                c->dict_rest--;
            } else if (max_e) {
                int rc = fdict_size(w, c, n, max_e, &s[TLF_ENC_DICT], err);
                if (rc != TL_OK)
                    return rc;
                if (s[TLF_ENC_DICT] == SIZE_MAX)
                    c->dict_rest = DICT_REST;
            }
        }
        static const int pref[] = {TLF_ENC_RLE, TLF_ENC_FOR, TLF_ENC_DELTA,
                                   TLF_ENC_SCALED, TLF_ENC_DICT};
        enc = pick(s, plain, pref, 5);
        ch->size = enc == TLF_ENC_PLAIN ? plain : s[enc];
        if (!is_f && s[TLF_ENC_DELTA] != SIZE_MAX && enc != TLF_ENC_DELTA &&
            s[TLF_ENC_DELTA] > ch->size + ch->size / 8)
            c->delta_rest = DELTA_REST;
    } else if (enc == TLF_ENC_SCALED) {
        if (scaled_size(w, c, n, tlf_rle_count_runs(c->bv, n, c->w), ch) == SIZE_MAX)
            enc = TLF_ENC_PLAIN; /* not on a grid: cannot be SCALED */
    } else if (enc == TLF_ENC_DICT) {
        size_t sz;
        int rc = fdict_size(w, c, n, n, &sz, err); /* any number of entries */
        if (rc != TL_OK)
            return rc;
    }
    ch->enc = enc;
    if (enc != TLF_ENC_SCALED)
        ch->inner = 0;
    return TL_OK;
}

/* Encode the block as chosen into out (flags: TLF_OPT_*). */
static int emit_fixed(tlf_seg_writer *w, const wcol *c, uint32_t n, const choice *ch,
                      unsigned flags, tlf_buf *out, tl_error *err)
{
    out->len = 0;
    switch (ch->enc) {
    case TLF_ENC_RLE: return tlf_rle_encode(c->bv, n, c->w, out, err);
    case TLF_ENC_FOR:
        if (c->enc_opt != TLF_ENC_AUTO) /* forced: not planned by choose_fixed */
            return tlf_for_encode_opt(c->bv, n, c->w, c->is_signed, flags, out, err);
        return tlf_for_encode_plan(c->bv, n, c->w, c->is_signed, &ch->fp, flags, out, err);
    case TLF_ENC_DELTA:
        if (c->enc_opt != TLF_ENC_AUTO) /* forced: not planned by choose_fixed */
            return tlf_delta_encode(c->bv, n, c->w, c->is_signed, out, err);
        return tlf_delta_encode_plan(c->bv, n, c->w, c->is_signed, &ch->dp, out, err);
    case TLF_ENC_SCALED:
        return tlf_scaled_encode_plan(w->kbuf, n, ch->divisor, ch->inner, &ch->fp, &ch->dp,
                                      flags, out, err);
    case TLF_ENC_DICT:
        return tlf_fdict_encode(w->fd.vals, w->fd.n_dict, c->w, w->codes, n, flags, out, err);
    default: return tlf_buf_append(out, c->bv, (size_t)n * c->w, err);
    }
}

/* a[0..l) == b[0..l), inline for the short values of key columns (a libc
 * call per row costs more than the compare) */
static inline int bytes_eq(const uint8_t *a, const uint8_t *b, uint32_t l)
{
    for (; l >= 8; a += 8, b += 8, l -= 8)
        if (tlf_ld64(a) != tlf_ld64(b))
            return 0;
    if (l >= 4) {
        if (tlf_ld32(a) != tlf_ld32(b) || tlf_ld32(a + l - 4) != tlf_ld32(b + l - 4))
            return 0;
        return 1;
    }
    for (; l; a++, b++, l--)
        if (*a != *b)
            return 0;
    return 1;
}

/* ---- string dictionary ------------------------------------------------ */

static uint32_t dict_len_of(const wcol *c, uint32_t idx, const uint8_t **p)
{
    const uint32_t *o = (const uint32_t *)c->dict_offs.p;
    *p = c->dict_bytes.p ? c->dict_bytes.p + o[idx] : zeros64;
    return o[idx + 1] - o[idx];
}

static int ht_grow(wcol *c, tl_error *err)
{
    uint32_t cap = c->ht_cap ? c->ht_cap * 2 : 1024;
    uint32_t *ht = calloc(cap, sizeof *ht);
    if (!ht)
        return tl_error_set(err, TL_ENOMEM, "segment writer: out of memory (dictionary of '%s')",
                            c->name);
    /* reinsert in index order: the table is then as if built by inserts */
    for (uint32_t idx = 0; idx < c->dict_n; idx++) {
        const uint8_t *p;
        uint32_t l = dict_len_of(c, idx, &p);
        uint32_t s = (uint32_t)tlf_xxh3(p, l) & (cap - 1);
        while (ht[s])
            s = (s + 1) & (cap - 1);
        ht[s] = idx + 1;
    }
    free(c->ht);
    c->ht = ht;
    c->ht_cap = cap;
    return TL_OK;
}

/* Remove entries >= keep (newest first), restoring the earlier table. */
static void dict_rollback(wcol *c, uint32_t keep)
{
    for (uint32_t idx = c->dict_n; idx-- > keep;) {
        const uint8_t *p;
        uint32_t l = dict_len_of(c, idx, &p);
        uint32_t s = (uint32_t)tlf_xxh3(p, l) & (c->ht_cap - 1);
        while (c->ht[s] != idx + 1)
            s = (s + 1) & (c->ht_cap - 1);
        c->ht[s] = 0;
    }
    const uint32_t *o = (const uint32_t *)c->dict_offs.p;
    c->dict_bytes.len = o[keep];
    c->dict_offs.len = ((size_t)keep + 1) * 4;
    c->dict_n = keep;
}

static void dict_disable(wcol *c)
{
    c->dict_on = 0;
    free(c->ht);
    c->ht = NULL;
    c->ht_cap = 0;
}

/* Code of the string p[0..l) in the column dictionary, inserted if new.
 * Returns 1, 0 when the limits would be exceeded (entries added since
 * `keep` are then rolled back), or a negative error code. */
static int dict_code_of(tlf_seg_writer *w, wcol *c, const uint8_t *p, uint32_t l,
                        uint32_t keep, uint32_t *code_out, tl_error *err)
{
    if ((uint64_t)(c->dict_n + 1) * 2 > c->ht_cap) {
        int rc = ht_grow(c, err);
        if (rc != TL_OK)
            return rc;
    }
    uint32_t s = (uint32_t)tlf_xxh3(p, l) & (c->ht_cap - 1);
    while (c->ht[s]) {
        const uint8_t *q;
        uint32_t ql = dict_len_of(c, c->ht[s] - 1, &q);
        if (ql == l && bytes_eq(p, q, l)) {
            *code_out = c->ht[s] - 1;
            return 1;
        }
        s = (s + 1) & (c->ht_cap - 1);
    }
    if (c->dict_n + 1 > w->dict_max_entries || c->dict_bytes.len + l > w->dict_max_bytes) {
        dict_rollback(c, keep);
        return 0;
    }
    uint32_t end = (uint32_t)(c->dict_bytes.len + l);
    int rc = l ? tlf_buf_append(&c->dict_bytes, p, l, err) : TL_OK;
    if (rc == TL_OK)
        rc = tlf_buf_append(&c->dict_offs, &end, 4, err);
    if (rc != TL_OK)
        return rc;
    *code_out = c->dict_n++;
    c->ht[s] = *code_out + 1;
    return 1;
}

/* Look up or insert every non-null value of the block into the dictionary,
 * filling w->codes; a null row repeats the code of the previous non-null
 * row (leading nulls: of the first one), so runs stay unbroken (FMT-R23);
 * only an all-null block stores the empty string. Returns 1 if done, 0 if
 * the limits were exceeded (entries added by this block are then rolled
 * back), or a negative error code. */
static int dict_codes(tlf_seg_writer *w, wcol *c, uint32_t n, tl_error *err)
{
    const uint32_t *off = (const uint32_t *)c->vals;
    const uint8_t *d = c->sdata.p ? c->sdata.p : zeros64;
    const uint8_t *vb = c->nulls ? c->valid : NULL;
    uint32_t keep = c->dict_n, lead = 0, code = 0, pl = 0;
    const uint8_t *pp = NULL; /* previous non-null value */
    for (uint32_t i = 0; i < n; i++) {
        if (vb && !tl_bit_get(vb, i)) {
            if (pp)
                w->codes[i] = code;
            else
                lead++;
            continue;
        }
        const uint8_t *p = d + off[i];
        uint32_t l = off[i + 1] - off[i];
        if (!pp || l != pl || !bytes_eq(p, pp, l)) { /* runs: no hashing */
            int r = dict_code_of(w, c, p, l, keep, &code, err);
            if (r <= 0)
                return r;
        }
        if (!pp)
            for (uint32_t j = 0; j < lead; j++)
                w->codes[j] = code;
        pp = p;
        pl = l;
        w->codes[i] = code;
    }
    if (!pp && n > 0) { /* every row null */
        int r = dict_code_of(w, c, zeros64, 0, keep, &code, err);
        if (r <= 0)
            return r;
        for (uint32_t j = 0; j < n; j++)
            w->codes[j] = code;
    }
    return 1;
}

static int choose_string(tlf_seg_writer *w, wcol *c, uint32_t n, choice *ch, tl_error *err)
{
    size_t plain = 4 * ((size_t)n + 1) + c->sdata.len;
    *ch = (choice){.enc = TLF_ENC_PLAIN};
    if (!c->dict_on)
        return TL_OK;
    uint32_t keep = c->dict_n;
    size_t keep_bytes = c->dict_bytes.len;
    int r = dict_codes(w, c, n, err);
    if (r < 0)
        return r;
    if (r == 0) {
        dict_disable(c); /* over the limits: PLAIN from now on */
        return TL_OK;
    }
    size_t codes = tlf_dict_codes_size(w->codes, n, 0);
    size_t added = (c->dict_bytes.len - keep_bytes) + 4 * (size_t)(c->dict_n - keep);
    if (c->enc_opt == TLF_ENC_DICT || codes + added <= plain - plain / 8) {
        ch->enc = TLF_ENC_DICT;
        ch->size = codes;
    } else {
        dict_rollback(c, keep);
        dict_disable(c);
    }
    return TL_OK;
}

static int emit_string(tlf_seg_writer *w, const wcol *c, uint32_t n, const choice *ch,
                       unsigned flags, tlf_buf *out, tl_error *err)
{
    out->len = 0;
    if (ch->enc == TLF_ENC_DICT)
        return tlf_dict_encode_opt(w->codes, n, c->dict_n, flags, out, err);
    int rc = tlf_buf_append(out, c->vals, 4 * ((size_t)n + 1), err);
    if (rc == TL_OK && c->sdata.len)
        rc = tlf_buf_append(out, c->sdata.p, c->sdata.len, err);
    return rc;
}

static int emit(tlf_seg_writer *w, const wcol *c, uint32_t n, const choice *ch,
                unsigned flags, tlf_buf *out, tl_error *err)
{
    return c->type == TL_STRING ? emit_string(w, c, n, ch, flags, out, err)
                                : emit_fixed(w, c, n, ch, flags, out, err);
}

/* ---- block flush ------------------------------------------------------ */

/* zstd frame of src[0..len) into z (reserving room for padding and
 * validity) */
static int zcompress(tlf_seg_writer *w, const wcol *c, uint32_t ci, const uint8_t *src,
                     size_t len, uint32_t n, tlf_buf *z, ZSTD_CCtx *cx, tl_error *err)
{
    size_t bound = ZSTD_compressBound(len);
    z->len = 0;
    int rc = tlf_buf_reserve(z, bound + 8 + (n + 7) / 8, err);
    if (rc != TL_OK)
        return rc;
    size_t zs = ZSTD_compress2(cx, z->p, bound, src, len);
    if (ZSTD_isError(zs))
        return tl_error_set(err, TL_ENOMEM,
                            "segment writer: column '%s' (%u), block %u: zstd: %s",
                            c->name, ci, w->n_blocks, ZSTD_getErrorName(zs));
    z->len = zs;
    return TL_OK;
}

/* Append the null rows' indices (FMT-R24: u16, or u32 past 65536 rows),
 * ascending, read from the block's bitmap. */
static int put_positions(tlf_buf *b, const uint8_t *valid, uint32_t n, uint32_t nulls,
                         tl_error *err)
{
    unsigned pw = tlf_valid_pos_width(n);
    int rc = tlf_buf_reserve(b, (size_t)nulls * pw, err);
    if (rc != TL_OK)
        return rc;
    uint8_t *p = b->p + b->len;
    for (uint32_t k = 0; k < (n + 63) / 64; k++) {
        uint64_t x = ~tlf_valid_word(valid, n, k);
        while (x) {
            uint32_t i = 64 * k + (uint32_t)__builtin_ctzll(x);
            if (pw == 2)
                tlf_st16(p, (uint16_t)i);
            else
                tlf_st32(p, i);
            p += pw;
            x &= x - 1;
        }
    }
    assert((size_t)(p - (b->p + b->len)) == (size_t)nulls * pw);
    b->len += (size_t)nulls * pw;
    return TL_OK;
}

/* zstd decisions of a column under AUTO (struct zmemo.mode) */
enum { Z_EVAL, Z_SKIP, Z_PLAIN, Z_ALIGNED };
/* blocks an evaluation is trusted for: longest when zstd clearly paid (a
 * wrong guess then shows at once: the frame misses the bar), long when it
 * clearly did not (saving outside Z_NEAR_LO .. Z_NEAR_HI thousandths),
 * short near the 10% bar */
#define Z_TRUST_PAYS 32u
#define Z_TRUST_CLEAR 8u
#define Z_TRUST_NEAR 2u
/* after a sample says no: samples are cheap, so look again soon - at the
 * next block unless nothing compressed at all */
#define Z_TRUST_SKIP0 4u
#define Z_TRUST_SKIP 1u
#define Z_NEAR_LO 30u
#define Z_NEAR_HI 170u
/* payloads of at least 4 * Z_SAMPLE_MIN bytes are evaluated on a quarter
 * from their middle; a variant whose sample saves less than Z_SAMPLE_BAR
 * thousandths is not compressed in full */
#define Z_SAMPLE_MIN 4096u
#define Z_SAMPLE_BAR 70u

/* Does a frame of zlen bytes save the 10% that zstd must save? */
static int z_pays(size_t zlen, size_t enc_len) { return zlen <= enc_len - enc_len / 10; }

/* saving of zlen against len, in thousandths (0 when it grows) */
static uint64_t z_save(uint64_t zlen, uint64_t len)
{
    return len && zlen < len ? 1000 - zlen * 1000 / len : 0;
}

/* Estimated frame bytes of b, compressing its middle quarter. */
static int z_sample(tlf_seg_writer *w, const wcol *c, uint32_t ci, const tlf_buf *b,
                    uint32_t n, ZSTD_CCtx *cx, size_t *est, tl_error *err)
{
    size_t len = b->len / 4 & ~(size_t)7, at = (b->len - len) / 2 & ~(size_t)7;
    int rc = zcompress(w, c, ci, b->p + at, len, n, &w->zbuf, cx, err);
    if (rc == TL_OK)
        *est = (size_t)((uint64_t)w->zbuf.len * b->len / len);
    return rc;
}

/* Does the byte-aligned twin of the choice hold one byte a value? */
static int twin_byte_wide(const tlf_seg_writer *w, const wcol *c, const choice *ch)
{
    switch (ch->enc) {
    case TLF_ENC_FOR:
    case TLF_ENC_SCALED: return ch->fp.bw <= 8; /* SCALED: its inner FOR */
    case TLF_ENC_DICT: return (c->type == TL_STRING ? c->dict_n : w->fd.n_dict) <= 256;
    default: return 0;
    }
}

/* Encode the block (choice ch) and compress it when that pays. On return
 * *enc is the encoded payload (w->enc, or w->enc2 with byte-aligned FOR
 * widths) and *blk the bytes to store (*enc itself or its frame), *comp
 * the compression. Bit-packed FOR widths that are not byte-aligned hide
 * the values from zstd, so the payload's byte-aligned twin is tried too
 * and the smaller frame kept.
 * Under AUTO an evaluation also decides the column's next blocks of the
 * same encoding (memo per encoding and inner encoding): a column where
 * zstd did not pay is not compressed, one where it paid compresses only
 * the variant that won (falling back to no compression, and a new
 * evaluation, when that frame misses the bar); when the twin won, the
 * payload itself is only encoded for that fallback. An evaluation of a
 * large payload compresses a quarter of each variant first and the better
 * one in full only when its sample saves Z_SAMPLE_BAR. */
static int encode_block(tlf_seg_writer *w, wcol *c, uint32_t ci, uint32_t n,
                        const choice *ch, tlf_buf **enc, tlf_buf **blk, int *comp,
                        tl_error *err)
{
    *enc = *blk = &w->enc;
    *comp = TLF_COMP_NONE;
    int forced = c->comp_opt == TLF_COMP_ZSTD;
    int has_for = ch->enc == TLF_ENC_FOR || ch->enc == TLF_ENC_DICT ||
                  (ch->enc == TLF_ENC_SCALED && ch->inner == TLF_ENC_FOR);
    struct zmemo *zm = &c->z[ch->enc * (TLF_ENC_SCALED + 1) + ch->inner];
    int mode = forced ? Z_EVAL : Z_SKIP;
    if (!forced && c->comp_opt == TLF_COMP_AUTO && !c->hot) {
        mode = Z_EVAL;
        if (zm->left > 0) {
            mode = zm->mode;
            zm->left--;
        }
    }
    /* only the twin is wanted: encode the payload itself on fallback */
    int lazy = mode == Z_ALIGNED && has_for && ch->size > 0;
    int rc;
    if (!lazy) {
        rc = emit(w, c, n, ch, 0, &w->enc, err);
        if (rc != TL_OK)
            return rc;
        assert(ch->size == 0 || ch->size == w->enc.len);
    }
    if (mode == Z_SKIP)
        return TL_OK;
    size_t plain_len = lazy ? ch->size : w->enc.len;
    int twin = 0; /* w->enc2 holds the byte-aligned twin (and differs) */
    if (has_for && mode != Z_PLAIN) {
        rc = emit(w, c, n, ch, TLF_OPT_BYTE_ALIGN, &w->enc2, err);
        if (rc != TL_OK)
            return rc;
        twin = lazy || w->enc2.len != w->enc.len ||
               memcmp(w->enc2.p, w->enc.p, w->enc.len) != 0;
    }
    ZSTD_CCtx *twin_cx = twin && twin_byte_wide(w, c, ch) ? w->bctx : w->cctx;
    int sampled = 0;
    if (mode == Z_EVAL && !forced && plain_len >= 4 * Z_SAMPLE_MIN) {
        size_t ep, ea = SIZE_MAX;
        rc = z_sample(w, c, ci, &w->enc, n, w->cctx, &ep, err);
        if (rc == TL_OK && twin)
            rc = z_sample(w, c, ci, &w->enc2, n, twin_cx, &ea, err);
        if (rc != TL_OK)
            return rc;
        uint64_t save = z_save(ea < ep ? ea : ep, plain_len);
        if (save < Z_SAMPLE_BAR) {
            zm->mode = Z_SKIP;
            zm->left = save == 0 ? Z_TRUST_SKIP0 : Z_TRUST_SKIP;
            return TL_OK;
        }
        mode = ea < ep ? Z_ALIGNED : Z_PLAIN;
        sampled = 1;
    }
    /* full frames: of the payload (unless the twin alone is wanted) and of
     * the twin (when it differs and is wanted) */
    tlf_buf *zb = NULL, *src = &w->enc;
    if (mode != Z_ALIGNED || !twin) {
        rc = zcompress(w, c, ci, w->enc.p, w->enc.len, n, &w->zbuf, w->cctx, err);
        if (rc != TL_OK)
            return rc;
        zb = &w->zbuf;
    }
    if (twin && mode != Z_PLAIN) {
        rc = zcompress(w, c, ci, w->enc2.p, w->enc2.len, n, &w->zbuf2, twin_cx, err);
        if (rc != TL_OK)
            return rc;
        if (!zb || w->zbuf2.len < zb->len) {
            zb = &w->zbuf2;
            src = &w->enc2;
        }
    }
    int pays = z_pays(zb->len, plain_len);
    if (forced || pays) {
        *enc = src;
        *blk = zb;
        *comp = TLF_COMP_ZSTD;
    } else if (lazy) {
        rc = emit(w, c, n, ch, 0, &w->enc, err);
        if (rc != TL_OK)
            return rc;
        assert(w->enc.len == ch->size);
    }
    if (forced)
        return TL_OK;
    if (mode != Z_EVAL && !sampled) {
        if (!pays)
            zm->left = 0; /* the prediction failed: evaluate the next block */
        return TL_OK;
    }
    uint64_t save = z_save(zb->len, plain_len);
    zm->mode = !pays ? Z_SKIP : src == &w->enc2 ? Z_ALIGNED : Z_PLAIN;
    zm->left = save > Z_NEAR_HI ? Z_TRUST_PAYS : save < Z_NEAR_LO ? Z_TRUST_CLEAR : Z_TRUST_NEAR;
    return TL_OK;
}

static int write_block(tlf_seg_writer *w, uint32_t ci, uint32_t n, tl_error *err)
{
    wcol *c = &w->cols[ci];
    int rc = tlf_buf_reserve(&c->index, TLF_ENTRY_SIZE, err);
    if (rc != TL_OK)
        return rc;
    uint8_t *e = c->index.p + c->index.len;
    memset(e, 0, TLF_ENTRY_SIZE);

    if (c->nulls && (n & 7)) /* bits >= n stay zero */
        c->valid[n / 8] &= (uint8_t)((1u << (n & 7)) - 1);
    choice ch;
    if (c->type == TL_STRING) {
        rc = choose_string(w, c, n, &ch, err);
        if (rc == TL_OK)
            rc = zone_string(w, c, n, ch.enc == TLF_ENC_DICT ? w->codes : NULL, e, err);
    } else {
        /* zone maps after fill_nulls: every slot then holds a present
         * value, unless every row is null */
        if (!c->nulls || fill_nulls(c, n))
            zone_fixed(c, n, e);
        rc = choose_fixed(w, c, n, &ch, err);
        /* PLAIN stores 0 in null slots: zero-copy readers see FMT-R5 */
        if (rc == TL_OK && c->nulls && ch.enc == TLF_ENC_PLAIN)
            tlf_zero_nulls(c->vals, c->w, c->valid, n);
    }
    if (rc != TL_OK)
        return rc;
    tlf_buf *enc, *blk;
    int comp;
    rc = encode_block(w, c, ci, n, &ch, &enc, &blk, &comp, err);
    if (rc != TL_OK)
        return rc;
    size_t encoded_len = enc->len, payload_len = blk->len;
    if (encoded_len > UINT32_MAX || payload_len > UINT32_MAX)
        return tl_error_set(err, TL_EINVAL,
                            "segment writer: column '%s' (%u), block %u: payload of %zu bytes "
                            "exceeds 4 GiB",
                            c->name, ci, w->n_blocks, encoded_len);
    int vform = tlf_validity_choose(n, c->nulls);
    rc = tlf_buf_pad(blk, 8, err);
    if (rc == TL_OK && vform == TLF_VALID_POSITIONS)
        rc = put_positions(blk, c->valid, n, c->nulls, err);
    else if (rc == TL_OK && c->nulls)
        rc = tlf_buf_append(blk, c->valid, (n + 7) / 8, err);
    if (rc != TL_OK)
        return rc;

    rc = pad_file(w, TLF_BLOCK_ALIGN, err);
    if (rc != TL_OK)
        return rc;
    tlf_st64(e + TLF_BI_OFFSET, w->file_off);
    tlf_st64(e + TLF_BI_LENGTH, blk->len);
    tlf_st32(e + TLF_BI_NROWS, n);
    tlf_st32(e + TLF_BI_NULLS, c->nulls);
    tlf_st32(e + TLF_BI_PAYLOAD_LEN, (uint32_t)payload_len);
    tlf_st32(e + TLF_BI_ENCODED_LEN, (uint32_t)encoded_len);
    tlf_st64(e + TLF_BI_DECODED, c->type == TL_STRING ? c->sdata.len : (uint64_t)n * c->w);
    tlf_st64(e + TLF_BI_CHECKSUM, tlf_xxh3(blk->p, blk->len));
    e[TLF_BI_ENCODING] = (uint8_t)ch.enc;
    e[TLF_BI_INNER] = (uint8_t)ch.inner;
    e[TLF_BI_COMPRESSION] = (uint8_t)comp;
    e[TLF_BI_VALIDITY] = (uint8_t)vform;
    c->index.len += TLF_ENTRY_SIZE;
    return sink_write(w, blk->p, blk->len, err);
}

static int flush_block(tlf_seg_writer *w, tl_error *err)
{
    if (w->n_blocks == UINT32_MAX)
        return fail(w, tl_error_set(err, TL_EINVAL, "segment writer: too many row blocks"));
    for (uint32_t ci = 0; ci < w->n_cols; ci++) {
        int rc = write_block(w, ci, w->cur, err);
        if (rc != TL_OK)
            return fail(w, rc);
        wcol *c = &w->cols[ci];
        c->nulls = 0;
        c->sdata.len = 0;
    }
    w->n_blocks++;
    w->cur = 0;
    return TL_OK;
}

/* ---- append ----------------------------------------------------------- */

static void bits_set_range(uint8_t *bm, uint32_t from, uint32_t count)
{
    uint32_t i = from, end = from + count;
    while (i < end && (i & 7)) {
        bm[i >> 3] |= (uint8_t)(1u << (i & 7));
        i++;
    }
    if (end - i >= 8) {
        memset(bm + (i >> 3), 0xFF, (end - i) >> 3);
        i += (end - i) & ~7u;
    }
    while (i < end) {
        bm[i >> 3] |= (uint8_t)(1u << (i & 7));
        i++;
    }
}

static void copy_fixed(wcol *c, uint32_t cur, const tl_colvec *src, uint64_t start,
                       uint32_t take)
{
    unsigned w = c->w;
    uint8_t *dst = c->vals + (size_t)cur * w;
    c->bv = c->vals;
    memcpy(dst, (const uint8_t *)src->values + start * w, (size_t)take * w);
    if (!src->validity) {
        bits_set_range(c->valid, cur, take);
        return;
    }
    if (cur % 8 == 0 && start % 8 == 0) {
        /* byte-aligned (appends in multiples of 8 rows): copy the bitmap
         * bytes, then visit only the null rows */
        const uint8_t *sv = src->validity + start / 8;
        uint8_t *dv = c->valid + cur / 8;
        uint32_t full = take / 8;
        memcpy(dv, sv, full);
        if (take % 8) /* bits past take are left for later appends */
            dv[full] = sv[full] & (uint8_t)((1u << (take % 8)) - 1);
        uint32_t nulls = 0;
        for (uint32_t k = 0; k < (take + 63) / 64; k++)
            nulls += (uint32_t)__builtin_popcountll(~tlf_valid_word(dv, take, k));
        c->nulls += nulls;
        if (nulls)
            tlf_zero_nulls(dst, w, dv, take);
        return;
    }
    for (uint32_t i = 0; i < take; i++) {
        int present = tl_bit_get(src->validity, start + i);
        tl_bit_set(c->valid, cur + i, present);
        if (!present) {
            memset(dst + (size_t)i * w, 0, w);
            c->nulls++;
        }
    }
}

/* Can the block be encoded straight from the caller's array? It must hold
 * the whole block (cur = 0, take = block_rows), have no nulls there (the
 * writer rewrites null slots) and be aligned for its type. */
static int use_in_place(const wcol *c, uint32_t cur, uint32_t take, uint32_t block_rows,
                        const tl_colvec *src, uint64_t start)
{
    const uint8_t *p = (const uint8_t *)src->values + start * c->w;
    if (cur != 0 || take != block_rows || (uintptr_t)p % c->w)
        return 0;
    if (!src->validity)
        return 1;
    if (start % 8)
        return 0;
    const uint8_t *vb = src->validity + start / 8;
    uint32_t full = take / 8, i = 0;
    for (; i + 8 <= full; i += 8)
        if (tlf_ld64(vb + i) != UINT64_MAX)
            return 0;
    for (; i < full; i++)
        if (vb[i] != 0xFF)
            return 0;
    return take % 8 == 0 || (vb[full] | (0xFF << (take % 8))) == 0xFF;
}

static int copy_string(tlf_seg_writer *w, wcol *c, uint32_t cur, const tl_colvec *src,
                       uint64_t start, uint32_t take, tl_error *err)
{
    uint32_t *off = (uint32_t *)c->vals;
    const uint32_t *so = src->offsets + start;
    uint64_t bytes = (uint64_t)so[take] - so[0];
    if (c->sdata.len + bytes > MAX_BLOCK_STR_BYTES(w->block_rows))
        return tl_error_set(err, TL_EINVAL,
                            "segment writer: column '%s': more than 4 GiB of string bytes "
                            "in row block %u",
                            c->name, w->n_blocks);
    if (!src->validity) {
        uint32_t base = (uint32_t)c->sdata.len;
        if (bytes) {
            int rc = tlf_buf_append(&c->sdata, src->data + so[0], (size_t)bytes, err);
            if (rc != TL_OK)
                return rc;
        }
        for (uint32_t i = 0; i < take; i++)
            off[cur + i + 1] = base + (so[i + 1] - so[0]);
        bits_set_range(c->valid, cur, take);
        return TL_OK;
    }
    int rc = tlf_buf_reserve(&c->sdata, (size_t)bytes, err);
    if (rc != TL_OK)
        return rc;
    for (uint32_t i = 0; i < take; i++) {
        int present = tl_bit_get(src->validity, start + i);
        tl_bit_set(c->valid, cur + i, present);
        if (present) {
            uint32_t l = so[i + 1] - so[i];
            if (l)
                memcpy(c->sdata.p + c->sdata.len, src->data + so[i], l);
            c->sdata.len += l;
        } else {
            c->nulls++;
        }
        off[cur + i + 1] = (uint32_t)c->sdata.len;
    }
    return TL_OK;
}

static int check_input(const tlf_seg_writer *w, const tl_colvec *cols, uint32_t n_rows,
                       tl_error *err)
{
    if (!cols)
        return tl_error_set(err, TL_EINVAL, "segment writer: append: NULL columns");
    for (uint32_t ci = 0; ci < w->n_cols; ci++) {
        const wcol *c = &w->cols[ci];
        const tl_colvec *v = &cols[ci];
        if (c->type != TL_STRING) {
            if (!v->values)
                return tl_error_set(err, TL_EINVAL,
                                    "segment writer: append: column '%s' (%u): NULL values",
                                    c->name, ci);
            continue;
        }
        if (!v->offsets)
            return tl_error_set(err, TL_EINVAL,
                                "segment writer: append: column '%s' (%u): NULL offsets",
                                c->name, ci);
        for (uint32_t i = 0; i < n_rows; i++)
            if (v->offsets[i + 1] < v->offsets[i])
                return tl_error_set(err, TL_EINVAL,
                                    "segment writer: append: column '%s' (%u): string offsets "
                                    "not monotonic at row %u: %u after %u",
                                    c->name, ci, i + 1, v->offsets[i + 1], v->offsets[i]);
        if (!v->data && v->offsets[n_rows] != v->offsets[0])
            return tl_error_set(err, TL_EINVAL,
                                "segment writer: append: column '%s' (%u): NULL data with %u bytes",
                                c->name, ci, v->offsets[n_rows] - v->offsets[0]);
    }
    return TL_OK;
}

int tlf_seg_writer_append(tlf_seg_writer *w, const tl_colvec *cols, uint32_t n_rows,
                          tl_error *err)
{
    int rc = check_usable(w, "append", err);
    if (rc != TL_OK)
        return rc;
    if (n_rows == 0)
        return TL_OK;
    rc = check_input(w, cols, n_rows, err);
    if (rc != TL_OK)
        return fail(w, rc);
    uint64_t done = 0;
    while (done < n_rows) {
        uint32_t take = w->block_rows - w->cur;
        if (take > n_rows - done)
            take = (uint32_t)(n_rows - done);
        for (uint32_t ci = 0; ci < w->n_cols; ci++) {
            wcol *c = &w->cols[ci];
            if (c->type == TL_STRING) {
                rc = copy_string(w, c, w->cur, &cols[ci], done, take, err);
                if (rc != TL_OK)
                    return fail(w, rc);
            } else if (use_in_place(c, w->cur, take, w->block_rows, &cols[ci], done)) {
                c->bv = (const uint8_t *)cols[ci].values + done * c->w; /* no copy */
                bits_set_range(c->valid, 0, take);
            } else {
                copy_fixed(c, w->cur, &cols[ci], done, take);
            }
        }
        w->cur += take;
        w->n_rows += take;
        done += take;
        if (w->cur == w->block_rows) {
            rc = flush_block(w, err);
            if (rc != TL_OK)
                return rc;
        }
    }
    return TL_OK;
}

/* ---- metadata --------------------------------------------------------- */

int tlf_seg_writer_set_meta(tlf_seg_writer *w, const char *key, const void *value,
                            uint32_t value_len, tl_error *err)
{
    int rc = check_usable(w, "set_meta", err);
    if (rc != TL_OK)
        return rc;
    if (!key || (!value && value_len))
        return tl_error_set(err, TL_EINVAL, "segment writer: set_meta: NULL key or value");
    size_t klen = strlen(key);
    if (klen > UINT32_MAX / 2)
        return tl_error_set(err, TL_EINVAL, "segment writer: set_meta: key of %zu bytes", klen);
    uint8_t *val = malloc(value_len ? value_len : 1);
    if (!val)
        return nomem(w, err, "metadata");
    if (value_len)
        memcpy(val, value, value_len);
    for (uint32_t i = 0; i < w->n_meta; i++) {
        if (w->meta[i].klen == klen && memcmp(w->meta[i].key, key, klen) == 0) {
            free(w->meta[i].val); /* a key set again takes the new value */
            w->meta[i].val = val;
            w->meta[i].vlen = value_len;
            return TL_OK;
        }
    }
    if (w->n_meta == w->meta_cap) {
        uint32_t cap = w->meta_cap ? w->meta_cap * 2 : 8;
        meta_kv *m = realloc(w->meta, cap * sizeof *m);
        if (!m) {
            free(val);
            return nomem(w, err, "metadata");
        }
        w->meta = m;
        w->meta_cap = cap;
    }
    char *k = malloc(klen + 1);
    if (!k) {
        free(val);
        return nomem(w, err, "metadata");
    }
    memcpy(k, key, klen + 1);
    w->meta[w->n_meta++] = (meta_kv){k, val, (uint32_t)klen, value_len};
    return TL_OK;
}

/* ---- finish ----------------------------------------------------------- */

static int put32(tlf_buf *b, uint32_t v, tl_error *err) { return tlf_buf_append(b, &v, 4, err); }

static int build_footer(tlf_seg_writer *w, tl_error *err)
{
    tlf_buf *f = &w->foot;
    f->len = 0;
    uint64_t sec[TLF_N_SECTIONS][2];
    int rc = tlf_buf_append(f, zeros64, 64, err);
    if (rc == TL_OK)
        rc = tlf_buf_append(f, zeros64, TLF_FH_SIZE - 64, err);

    /* schema; dictionaries are laid out in column order */
    uint64_t dict_off = 0;
    sec[TLF_SEC_SCHEMA][0] = f->len;
    for (uint32_t ci = 0; ci < w->n_cols && rc == TL_OK; ci++) {
        wcol *c = &w->cols[ci];
        uint8_t rec[TLF_COL_REC_FIXED] = {0};
        rec[0] = (uint8_t)c->type;
        tlf_st16(rec + 2, (uint16_t)c->name_len);
        if (c->dict_n) {
            uint64_t dl = 8 + 4 * (uint64_t)c->dict_n + c->dict_bytes.len;
            rec[1] = TLF_COLF_DICT;
            tlf_st64(rec + 8, dict_off);
            tlf_st64(rec + 16, dl);
            dict_off = tlf_align_up(dict_off + dl, 8);
        }
        rc = tlf_buf_append(f, rec, sizeof rec, err);
        if (rc == TL_OK)
            rc = tlf_buf_append(f, c->name, c->name_len, err);
        if (rc == TL_OK)
            rc = tlf_buf_pad(f, 8, err);
    }
    sec[TLF_SEC_SCHEMA][1] = f->len - sec[TLF_SEC_SCHEMA][0];

    sec[TLF_SEC_DICT][0] = f->len;
    for (uint32_t ci = 0; ci < w->n_cols && rc == TL_OK; ci++) {
        wcol *c = &w->cols[ci];
        if (!c->dict_n)
            continue;
        rc = tlf_buf_pad(f, 8, err);
        if (rc == TL_OK)
            rc = put32(f, c->dict_n, err);
        if (rc == TL_OK)
            rc = tlf_buf_append(f, c->dict_offs.p, 4 * ((size_t)c->dict_n + 1), err);
        if (rc == TL_OK && c->dict_bytes.len)
            rc = tlf_buf_append(f, c->dict_bytes.p, c->dict_bytes.len, err);
    }
    sec[TLF_SEC_DICT][1] = f->len - sec[TLF_SEC_DICT][0];
    if (rc == TL_OK)
        rc = tlf_buf_pad(f, 8, err);

    sec[TLF_SEC_INDEX][0] = f->len;
    for (uint32_t ci = 0; ci < w->n_cols && rc == TL_OK; ci++)
        if (w->cols[ci].index.len)
            rc = tlf_buf_append(f, w->cols[ci].index.p, w->cols[ci].index.len, err);
    sec[TLF_SEC_INDEX][1] = f->len - sec[TLF_SEC_INDEX][0];

    sec[TLF_SEC_POOL][0] = f->len;
    if (rc == TL_OK && w->pool.len)
        rc = tlf_buf_append(f, w->pool.p, w->pool.len, err);
    sec[TLF_SEC_POOL][1] = w->pool.len;
    if (rc == TL_OK)
        rc = tlf_buf_pad(f, 8, err);

    sec[TLF_SEC_META][0] = f->len;
    if (rc == TL_OK)
        rc = put32(f, w->n_meta, err);
    for (uint32_t i = 0; i < w->n_meta && rc == TL_OK; i++) {
        const meta_kv *m = &w->meta[i];
        rc = put32(f, m->klen, err);
        if (rc == TL_OK && m->klen)
            rc = tlf_buf_append(f, m->key, m->klen, err);
        if (rc == TL_OK)
            rc = put32(f, m->vlen, err);
        if (rc == TL_OK && m->vlen)
            rc = tlf_buf_append(f, m->val, m->vlen, err);
    }
    sec[TLF_SEC_META][1] = f->len - sec[TLF_SEC_META][0];
    if (rc != TL_OK)
        return rc;

    uint8_t *h = f->p;
    tlf_st32(h + TLF_FH_LEN, TLF_FH_SIZE);
    tlf_st32(h + TLF_FH_NCOLS, w->n_cols);
    tlf_st64(h + TLF_FH_NROWS, w->n_rows);
    tlf_st32(h + TLF_FH_NBLOCKS, w->n_blocks);
    tlf_st32(h + TLF_FH_BLOCK_ROWS, w->block_rows);
    tlf_st32(h + TLF_FH_ENTRY_SIZE, TLF_ENTRY_SIZE);
    for (int s = 0; s < TLF_N_SECTIONS; s++) {
        tlf_st64(h + TLF_FH_SECTIONS + 16 * s, sec[s][0]);
        tlf_st64(h + TLF_FH_SECTIONS + 16 * s + 8, sec[s][1]);
    }
    return TL_OK;
}

int tlf_seg_writer_finish(tlf_seg_writer *w, tlf_seg_write_stats *stats, tl_error *err)
{
    int rc = check_usable(w, "finish", err);
    if (rc != TL_OK)
        return rc;
    if (w->cur > 0) {
        rc = flush_block(w, err);
        if (rc != TL_OK)
            return rc;
    }
    rc = pad_file(w, 8, err);
    if (rc != TL_OK)
        return rc;
    uint64_t footer_off = w->file_off;
    rc = build_footer(w, err);
    if (rc != TL_OK)
        return fail(w, rc);
    uint8_t trl[TLF_TRAILER_SIZE] = {0};
    tlf_st64(trl + TLF_TRL_FOOTER_OFF, footer_off);
    tlf_st64(trl + TLF_TRL_FOOTER_LEN, w->foot.len);
    tlf_st64(trl + TLF_TRL_FOOTER_SUM, tlf_xxh3(w->foot.p, w->foot.len));
    tlf_st16(trl + TLF_TRL_VMAJOR, TLF_VERSION_MAJOR);
    tlf_st16(trl + TLF_TRL_VMINOR, w->vminor);
    memcpy(trl + TLF_TRL_MAGIC, TLF_MAGIC, TLF_MAGIC_LEN);
    rc = sink_write(w, w->foot.p, w->foot.len, err);
    if (rc == TL_OK)
        rc = sink_write(w, trl, sizeof trl, err);
    if (rc != TL_OK)
        return rc;
    w->finished = 1;
    if (stats) {
        stats->n_rows = w->n_rows;
        stats->n_blocks = w->n_blocks;
        stats->file_bytes = w->file_off;
        stats->footer_bytes = w->foot.len;
    }
    return TL_OK;
}
