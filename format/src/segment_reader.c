/*
 * segment_reader.c - opens segment files and decodes their blocks (byte
 * layout: segment_int.h, which this file follows field by field).
 *
 * Open order: size, magic at both ends (TL_ECORRUPT "not a ticklake
 * segment"), major version (TL_EVERSION), trailer fields, footer checksum
 * (TL_ECHECKSUM), then every footer field against the bytes present
 * (TL_ECORRUPT). Nothing is allocated before the count it is sized by has
 * been checked against the footer bytes that must hold it, so allocation
 * is bounded by a small multiple of footer_len.
 *
 * Invariants after a successful open (decode relies on them):
 *  - every block lies inside [64, footer_offset), 64-aligned, in write
 *    order, its length equals align8(payload_len) + validity bytes (a
 *    bitmap or null positions, FMT-R24; validity is 0 or 1, 0 without
 *    nulls);
 *  - row counts, decoded_bytes, encoded_len are consistent with the type
 *    and encoding (PLAIN exactly, others within tlf_encoded_bound);
 *  - dictionaries have valid, non-decreasing offsets inside the footer;
 *  - zone maps and the metadata section are well formed.
 * Unknown encodings and compressions pass open and fail at decode with
 * TL_EUNSUPPORTED (a newer minor version may add them).
 *
 * Null slots: blocks other than PLAIN may store anything valid in a null
 * row's slot (FMT-R23); decode sets those slots to 0 / the empty string
 * (FMT-R5), walking the validity bitmap a word at a time.
 *
 * Validity: decode always hands out a bitmap. A stored bitmap is checked
 * (zero bits = null_count, none past n_rows) and used in place under zero
 * copy; null positions are checked (strictly increasing, < n_rows) while
 * they are expanded into the caller's valid_buf.
 *
 * Decoding zstd blocks uses a per-thread scratch buffer and ZSTD_DCtx,
 * kept between calls (no malloc on the hot path once warm) and freed at
 * thread exit by a pthread key destructor. The scratch grows to the
 * largest encoded payload seen by that thread and is not shrunk. The same
 * per-thread state keeps one spare block index array between opens.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_decompressBound (exported since 1.4) */
#include "segment_int.h"
#include "enc.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* XXH3 compiled here, inline, for this machine's vectors (AVX-512 with
 * -march=native): the shared library's generic build runs SSE2 */
#define XXH_INLINE_ALL
#include "xxh_int.h"
#include <zstd.h>

typedef struct rcol {
    tlf_col_info info;
    const uint8_t *dict; /* dictionary (its count field), or NULL */
    uint32_t dict_n;
    uint32_t dict_maxlen;
    uint32_t dict_bytes; /* total entry bytes (offsets[count]) */
} rcol;

struct tlf_seg {
    char *name;
    const uint8_t *base;   /* open_mem: the whole file; else NULL */
    uint64_t file_size;
    uint8_t *footer_copy;  /* open_footer: owned copy */
    const uint8_t *footer;
    uint64_t footer_off, footer_len;
    uint64_t n_rows;
    uint32_t n_cols, n_blocks, block_rows;
    uint32_t vminor;
    rcol *cols;
    tlf_block_info *blocks; /* [col * n_blocks + blk] */
    size_t blocks_n;        /* entries blocks holds room for */
    char *names;
    const uint8_t *meta;   /* metadata section */
    uint64_t meta_len;
};

const char *tlf_encoding_name(int enc)
{
    switch (enc) {
    case TLF_ENC_PLAIN: return "plain";
    case TLF_ENC_RLE: return "rle";
    case TLF_ENC_DICT: return "dict";
    case TLF_ENC_FOR: return "for";
    case TLF_ENC_DELTA: return "delta";
    case TLF_ENC_SCALED: return "scaled";
    case TLF_ENC_AUTO: return "auto";
    default: return "?";
    }
}

const char *tlf_compression_name(int comp)
{
    switch (comp) {
    case TLF_COMP_NONE: return "none";
    case TLF_COMP_ZSTD: return "zstd";
    case TLF_COMP_AUTO: return "auto";
    default: return "?";
    }
}

/* ---- errors ----------------------------------------------------------- */

/* "<where>: <message>" into err (NULL-safe); returns code */
static int vfail(tl_error *err, int code, const char *where, const char *fmt, va_list ap)
    TL_PRINTF(4, 0);
static int vfail(tl_error *err, int code, const char *where, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    char buf[TL_ERROR_MSG_LEN];
    vsnprintf(buf, sizeof buf, fmt, ap);
    return tl_error_set(err, code, "%s: %s", where, buf);
}

static int seg_fail(const char *name, tl_error *err, int code, const char *fmt, ...)
    TL_PRINTF(4, 5);
static int seg_fail(const char *name, tl_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(err, code, name, fmt, ap);
    va_end(ap);
    return rc;
}

/* "column 'x' (i), block b, byte offset o" context for block errors */
static int blk_fail(const tlf_seg *s, uint32_t col, uint32_t blk, uint64_t off,
                    tl_error *err, int code, const char *fmt, ...) TL_PRINTF(7, 8);
static int blk_fail(const tlf_seg *s, uint32_t col, uint32_t blk, uint64_t off,
                    tl_error *err, int code, const char *fmt, ...)
{
    char where[TL_ERROR_MSG_LEN] = "";
    if (err)
        snprintf(where, sizeof where, "%s: column '%s' (%u), block %u, byte offset %llu",
                 s->name, s->cols[col].info.name, col, blk, (unsigned long long)off);
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(err, code, where, fmt, ap);
    va_end(ap);
    return rc;
}

static void hex8(const uint8_t *p, char *out)
{
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* ---- trailer ---------------------------------------------------------- */

#define MIN_FILE_SIZE (TLF_HEADER_SIZE + TLF_FH_SIZE + TLF_TRAILER_SIZE)

static int check_magic(const uint8_t *p, uint64_t off, const char *name, tl_error *err)
{
    if (memcmp(p, TLF_MAGIC, TLF_MAGIC_LEN) == 0)
        return TL_OK;
    char found[17];
    hex8(p, found);
    return seg_fail(name, err, TL_ECORRUPT,
                    "not a ticklake segment: bad magic at byte offset %llu: expected "
                    "89544c5345470d0a, found %s",
                    (unsigned long long)off, found);
}

static int check_version(const uint8_t *p, uint64_t off, const char *name, tl_error *err)
{
    uint16_t maj = tlf_ld16(p), min = tlf_ld16(p + 2);
    if (maj != TLF_VERSION_MAJOR)
        return seg_fail(name, err, TL_EVERSION,
                        "format version %u.%u at byte offset %llu: this reader supports "
                        "major version %u only",
                        maj, min, (unsigned long long)off, (unsigned)TLF_VERSION_MAJOR);
    return TL_OK;
}

int tlf_seg_parse_trailer(const uint8_t *tail, uint64_t file_size, const char *name,
                          uint64_t *footer_offset, uint64_t *footer_len, tl_error *err)
{
    if (!name)
        name = "<segment>";
    if (!tail || !footer_offset || !footer_len)
        return seg_fail(name, err, TL_EINVAL, "parse_trailer: NULL argument");
    if (file_size < MIN_FILE_SIZE)
        return seg_fail(name, err, TL_ECORRUPT,
                        "not a ticklake segment: file of %llu bytes at byte offset 0 is "
                        "shorter than the minimum %u",
                        (unsigned long long)file_size, (unsigned)MIN_FILE_SIZE);
    uint64_t t = file_size - TLF_TRAILER_SIZE;
    int rc = check_magic(tail + TLF_TRL_MAGIC, t + TLF_TRL_MAGIC, name, err);
    if (rc == TL_OK)
        rc = check_version(tail + TLF_TRL_VMAJOR, t + TLF_TRL_VMAJOR, name, err);
    if (rc != TL_OK)
        return rc;
    uint32_t res = tlf_ld32(tail + TLF_TRL_RESERVED);
    if (res != 0)
        return seg_fail(name, err, TL_ECORRUPT,
                        "trailer reserved field at byte offset %llu: expected 0, found %u",
                        (unsigned long long)(t + TLF_TRL_RESERVED), res);
    uint64_t fo = tlf_ld64(tail + TLF_TRL_FOOTER_OFF), fl = tlf_ld64(tail + TLF_TRL_FOOTER_LEN);
    if (fo < TLF_HEADER_SIZE || fo % 8 != 0 || fo > t || fl != t - fo || fl < TLF_FH_SIZE)
        return seg_fail(name, err, TL_ECORRUPT,
                        "trailer at byte offset %llu: footer offset %llu, length %llu: "
                        "expected an 8-aligned offset >= %u and a length >= %u ending at "
                        "the trailer (byte offset %llu)",
                        (unsigned long long)t, (unsigned long long)fo,
                        (unsigned long long)fl, (unsigned)TLF_HEADER_SIZE,
                        (unsigned)TLF_FH_SIZE, (unsigned long long)t);
    *footer_offset = fo;
    *footer_len = fl;
    return TL_OK;
}

/* ---- footer parsing --------------------------------------------------- */

/* Per-thread state, freed at thread exit by a pthread key destructor:
 * - the zstd context and scratch (grows to the largest encoded payload seen
 *   by the thread, never shrunk);
 * - one spare block index array: a closed segment leaves its array here and
 *   the thread's next open takes it, so a scan opening file after file
 *   reuses warm memory (a fresh array is first-touched page by page, ~13 us
 *   per 4 KiB page on these machines: ~5 % of a backtest). */
typedef struct zscratch {
    ZSTD_DCtx *dctx; /* created on the first zstd block */
    uint8_t *buf;
    size_t cap;
    tlf_block_info *spare;
    size_t spare_n;
} zscratch;

static pthread_key_t zkey;
static pthread_once_t zonce = PTHREAD_ONCE_INIT;
static int zkey_ok;
static _Thread_local zscratch *tls_z;

static void zscratch_free(void *p)
{
    zscratch *z = p;
    ZSTD_freeDCtx(z->dctx);
    free(z->buf);
    free(z->spare);
    free(z);
}

static void zkey_init(void) { zkey_ok = pthread_key_create(&zkey, zscratch_free) == 0; }

static zscratch *zscratch_get(void)
{
    if (tls_z)
        return tls_z;
    pthread_once(&zonce, zkey_init);
    zscratch *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    if (zkey_ok)
        pthread_setspecific(zkey, z);
    tls_z = z;
    return z;
}

/* An array of at least n block entries (*cap: how many): the thread's
 * spare when it is large enough, else fresh. NULL when out of memory. */
static tlf_block_info *blocks_take(size_t n, size_t *cap)
{
    zscratch *z = tls_z;
    if (z && z->spare && z->spare_n >= n) {
        tlf_block_info *b = z->spare;
        *cap = z->spare_n;
        z->spare = NULL;
        z->spare_n = 0;
        return b;
    }
    *cap = n;
    return malloc(n * sizeof(tlf_block_info));
}

/* Give b (n entries, may be NULL) back: kept as the thread's spare when
 * larger than the one it has, else freed. */
static void blocks_give(tlf_block_info *b, size_t n)
{
    if (!b)
        return;
    zscratch *z = zscratch_get();
    if (z && (!z->spare || z->spare_n < n)) {
        free(z->spare);
        z->spare = b;
        z->spare_n = n;
        return;
    }
    free(b);
}


static void seg_free(tlf_seg *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->footer_copy);
    free(s->cols);
    blocks_give(s->blocks, s->blocks_n);
    free(s->names);
    free(s);
}

void tlf_seg_close(tlf_seg *s) { seg_free(s); }

/* footer-relative byte offset -> absolute, for messages */
#define FABS(s, rel) ((unsigned long long)((s)->footer_off + (rel)))

static int parse_schema(tlf_seg *s, uint64_t so, uint64_t sl, uint64_t dso, uint64_t dsl,
                        tl_error *err)
{
    const uint8_t *f = s->footer;
    /* every record takes at least TLF_COL_REC_FIXED + 8 bytes */
    if ((uint64_t)s->n_cols * (TLF_COL_REC_FIXED + 8) > sl)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "schema section at byte offset %llu: %llu bytes cannot hold %u "
                        "columns (at least %u bytes each)",
                        FABS(s, so), (unsigned long long)sl, s->n_cols,
                        (unsigned)(TLF_COL_REC_FIXED + 8));
    s->cols = calloc(s->n_cols, sizeof *s->cols);
    s->names = malloc(sl + s->n_cols); /* names are shorter than their records */
    if (!s->cols || !s->names)
        return seg_fail(s->name, err, TL_ENOMEM, "out of memory (%u columns)", s->n_cols);
    uint64_t pos = 0;
    size_t npos = 0;
    for (uint32_t c = 0; c < s->n_cols; c++) {
        uint64_t at = so + pos;
        if (sl - pos < TLF_COL_REC_FIXED)
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "schema record of column %u at byte offset %llu: expected %u "
                            "bytes, found %llu left in the section",
                            c, FABS(s, at), (unsigned)TLF_COL_REC_FIXED,
                            (unsigned long long)(sl - pos));
        const uint8_t *r = f + at;
        uint8_t type = r[0], flags = r[1];
        uint16_t nl = tlf_ld16(r + 2);
        uint32_t res = tlf_ld32(r + 4);
        uint64_t doff = tlf_ld64(r + 8), dlen = tlf_ld64(r + 16);
        uint64_t rec = tlf_align_up((uint64_t)TLF_COL_REC_FIXED + nl, 8);
        if (nl == 0 || nl > TLF_MAX_NAME_LEN || rec > sl - pos)
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "schema record of column %u at byte offset %llu: name length "
                            "%u: expected 1..%u fitting the %llu bytes left",
                            c, FABS(s, at), nl, (unsigned)TLF_MAX_NAME_LEN,
                            (unsigned long long)(sl - pos - TLF_COL_REC_FIXED));
        if (memchr(r + TLF_COL_REC_FIXED, 0, nl))
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "schema record of column %u at byte offset %llu: name contains "
                            "a NUL byte",
                            c, FABS(s, at));
        rcol *rc = &s->cols[c];
        rc->info.name = s->names + npos;
        memcpy(s->names + npos, r + TLF_COL_REC_FIXED, nl);
        s->names[npos + nl] = '\0';
        npos += (size_t)nl + 1;
        if (tl_type_name(type) == NULL)
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "column '%s' (%u), schema record at byte offset %llu: unknown "
                            "type %u (expected 1..%u)",
                            rc->info.name, c, FABS(s, at), type, (unsigned)TL_TYPE_MAX);
        if (type == TL_TIMESTAMP_US && s->vminor < TLF_VMINOR_TIMESTAMP_US)
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "column '%s' (%u), schema record at byte offset %llu: type "
                            "timestamp_us (15) in a file of version 1.%u (expected version "
                            "1.%u or later, FMT-R25)",
                            rc->info.name, c, FABS(s, at), s->vminor,
                            (unsigned)TLF_VMINOR_TIMESTAMP_US);
        rc->info.type = (tl_type)type;
        if ((flags & ~TLF_COLF_DICT) || res != 0)
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "column '%s' (%u), schema record at byte offset %llu: reserved "
                            "bits set: flags 0x%02x, reserved %u (expected flags <= 0x01, 0)",
                            rc->info.name, c, FABS(s, at), flags, res);
        int has = (flags & TLF_COLF_DICT) != 0;
        if ((has && (type != TL_STRING || dlen == 0)) || (!has && (dlen || doff)))
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "column '%s' (%u), schema record at byte offset %llu: dictionary "
                            "flag %d with type %s, offset %llu, length %llu",
                            rc->info.name, c, FABS(s, at), has, tl_type_name(type),
                            (unsigned long long)doff, (unsigned long long)dlen);
        for (uint64_t i = TLF_COL_REC_FIXED + nl; i < rec; i++)
            if (r[i])
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "column '%s' (%u): padding byte at byte offset %llu: expected "
                                "0, found %u",
                                rc->info.name, c, FABS(s, at + i), r[i]);
        if (has) {
            /* dictionary: count, offsets[count+1], bytes */
            if (doff % 8 || doff > dsl || dlen > dsl - doff || dlen < 12)
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "column '%s' (%u): dictionary at section offset %llu, length "
                                "%llu: expected an 8-aligned range of >= 12 bytes inside the "
                                "%llu-byte dictionary section at byte offset %llu",
                                rc->info.name, c, (unsigned long long)doff,
                                (unsigned long long)dlen, (unsigned long long)dsl, FABS(s, dso));
            const uint8_t *d = f + dso + doff;
            uint64_t dabs = dso + doff;
            uint32_t cnt = tlf_ld32(d);
            if (cnt == 0 || 8 + 4 * (uint64_t)cnt > dlen)
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "column '%s' (%u): dictionary at byte offset %llu: %u entries "
                                "do not fit its %llu bytes",
                                rc->info.name, c, FABS(s, dabs), cnt, (unsigned long long)dlen);
            uint32_t prev = tlf_ld32(d + 4), maxlen = 0;
            if (prev != 0)
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "column '%s' (%u): dictionary offsets[0] at byte offset %llu: "
                                "expected 0, found %u",
                                rc->info.name, c, FABS(s, dabs + 4), prev);
            for (uint32_t i = 1; i <= cnt; i++) {
                uint32_t o = tlf_ld32(d + 4 + 4 * (uint64_t)i);
                if (o < prev)
                    return seg_fail(s->name, err, TL_ECORRUPT,
                                    "column '%s' (%u): dictionary offsets[%u] at byte offset "
                                    "%llu: %u is less than the previous %u",
                                    rc->info.name, c, i, FABS(s, dabs + 4 + 4 * (uint64_t)i), o,
                                    prev);
                if (o - prev > maxlen)
                    maxlen = o - prev;
                prev = o;
            }
            if (8 + 4 * (uint64_t)cnt + prev != dlen)
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "column '%s' (%u): dictionary at byte offset %llu: length %llu, "
                                "expected %llu from %u entries of %u bytes",
                                rc->info.name, c, FABS(s, dabs), (unsigned long long)dlen,
                                (unsigned long long)(8 + 4 * (uint64_t)cnt + prev), cnt, prev);
            rc->dict = d;
            rc->dict_n = cnt;
            rc->dict_maxlen = maxlen;
            rc->dict_bytes = prev;
            rc->info.dict_entries = cnt;
        }
        pos += rec;
    }
    if (pos != sl)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "schema section at byte offset %llu: %u columns take %llu bytes, "
                        "section length is %llu",
                        FABS(s, so), s->n_cols, (unsigned long long)pos, (unsigned long long)sl);
    return TL_OK;
}

/* Range of a width-w value: signed or unsigned. */
static int int_fits(uint64_t raw, unsigned w, int is_signed)
{
    if (w == 8)
        return 1;
    if (is_signed) {
        int64_t v = (int64_t)raw, lim = (int64_t)1 << (8 * w - 1);
        return v >= -lim && v < lim;
    }
    return raw < ((uint64_t)1 << (8 * w));
}

static int parse_zone(tlf_seg *s, uint32_t c, uint32_t b, const uint8_t *e, uint64_t eabs,
                      uint64_t pool_off, uint64_t pool_len, tlf_block_info *bi, tl_error *err)
{
    int type = s->cols[c].info.type;
    uint8_t zf = bi->zone_flags;
    uint64_t rmin = tlf_ld64(e + TLF_BI_MIN), rmax = tlf_ld64(e + TLF_BI_MAX);
    const uint8_t strf = TLF_ZONE_MIN_INEXACT | TLF_ZONE_MAX_INEXACT | TLF_ZONE_MAX_UNBOUNDED;
    const char *why = NULL;
    if (zf & ~TLF_ZONE_KNOWN_FLAGS)
        why = "reserved zone flag bits set";
    else if ((zf & TLF_ZONE_HAS_NAN) && !tl_type_is_float(type))
        why = "HAS_NAN on a non-float column";
    else if ((zf & strf) && type != TL_STRING)
        why = "string zone flags on a non-string column";
    else if ((zf & strf) && !(zf & TLF_ZONE_HAS_MINMAX))
        why = "string bound flags without HAS_MINMAX";
    else if ((zf & TLF_ZONE_MAX_INEXACT) && (zf & TLF_ZONE_MAX_UNBOUNDED))
        why = "MAX_INEXACT together with MAX_UNBOUNDED";
    else if (!(zf & TLF_ZONE_HAS_MINMAX) && (rmin || rmax))
        why = "min/max not zero without HAS_MINMAX";
    if (why)
        return blk_fail(s, c, b, eabs + TLF_BI_ZONE_FLAGS, err, TL_ECORRUPT,
                        "block index entry: zone flags 0x%02x, min 0x%llx, max 0x%llx: %s",
                        zf, (unsigned long long)rmin, (unsigned long long)rmax, why);
    if (!(zf & TLF_ZONE_HAS_MINMAX))
        return TL_OK;
    unsigned w = (unsigned)tl_type_width(type);
    if (type == TL_STRING) {
        uint32_t mo = (uint32_t)rmin, ml = (uint32_t)(rmin >> 32);
        uint32_t xo = (uint32_t)rmax, xl = (uint32_t)(rmax >> 32);
        int unb = (zf & TLF_ZONE_MAX_UNBOUNDED) != 0;
        if (ml > TLF_ZONE_STR_MAX || mo > pool_len || ml > pool_len - mo ||
            (unb && rmax) ||
            (!unb && (xl > TLF_ZONE_STR_MAX || xo > pool_len || xl > pool_len - xo)))
            return blk_fail(s, c, b, eabs + TLF_BI_MIN, err, TL_ECORRUPT,
                            "block index entry: string bounds (offset %u, length %u) and "
                            "(offset %u, length %u): expected lengths <= %u inside the "
                            "%llu-byte bound pool",
                            mo, ml, xo, xl, (unsigned)TLF_ZONE_STR_MAX,
                            (unsigned long long)pool_len);
        bi->smin = s->footer + pool_off + mo;
        bi->smin_len = ml;
        if (!unb) {
            bi->smax = s->footer + pool_off + xo;
            bi->smax_len = xl;
            if (tlf_str_cmp(bi->smin, ml, bi->smax, xl) > 0)
                return blk_fail(s, c, b, eabs + TLF_BI_MIN, err, TL_ECORRUPT,
                                "block index entry: string zone min is greater than max");
        }
        return TL_OK;
    }
    int bad = 0;
    if (tl_type_is_float(type)) {
        double mn, mx;
        memcpy(&mn, &rmin, 8);
        memcpy(&mx, &rmax, 8);
        bad = isnan(mn) || isnan(mx) || mn > mx ||
              (mn == mx && signbit(mn) < signbit(mx)) ||
              (w == 4 && ((double)(float)mn != mn || (double)(float)mx != mx));
        bi->min.f = mn;
        bi->max.f = mx;
    } else if (tl_type_is_signed_int(type)) {
        bad = !int_fits(rmin, w, 1) || !int_fits(rmax, w, 1) || (int64_t)rmin > (int64_t)rmax;
        bi->min.i = (int64_t)rmin;
        bi->max.i = (int64_t)rmax;
    } else {
        bad = !int_fits(rmin, w, 0) || !int_fits(rmax, w, 0) || rmin > rmax;
        bi->min.u = rmin;
        bi->max.u = rmax;
    }
    if (bad)
        return blk_fail(s, c, b, eabs + TLF_BI_MIN, err, TL_ECORRUPT,
                        "block index entry: zone min 0x%llx / max 0x%llx: expected ordered "
                        "values of type %s",
                        (unsigned long long)rmin, (unsigned long long)rmax,
                        tl_type_name(type));
    return TL_OK;
}

static int parse_entry(tlf_seg *s, uint32_t c, uint32_t b, const uint8_t *e, uint64_t eabs,
                       uint64_t pool_off, uint64_t pool_len, tl_error *err)
{
    rcol *col = &s->cols[c];
    int type = col->info.type;
    tlf_block_info *bi = &s->blocks[(uint64_t)c * s->n_blocks + b];
    memset(bi, 0, sizeof *bi);
    bi->offset = tlf_ld64(e + TLF_BI_OFFSET);
    bi->length = tlf_ld64(e + TLF_BI_LENGTH);
    bi->first_row = (uint64_t)b * s->block_rows;
    bi->n_rows = tlf_ld32(e + TLF_BI_NROWS);
    bi->null_count = tlf_ld32(e + TLF_BI_NULLS);
    bi->payload_len = tlf_ld32(e + TLF_BI_PAYLOAD_LEN);
    bi->encoded_len = tlf_ld32(e + TLF_BI_ENCODED_LEN);
    bi->decoded_bytes = tlf_ld64(e + TLF_BI_DECODED);
    bi->checksum = tlf_ld64(e + TLF_BI_CHECKSUM);
    bi->encoding = e[TLF_BI_ENCODING];
    bi->compression = e[TLF_BI_COMPRESSION];
    bi->zone_flags = e[TLF_BI_ZONE_FLAGS];
    bi->inner = e[TLF_BI_INNER];
    bi->validity = e[TLF_BI_VALIDITY];
    uint32_t res = 0;
    memcpy(&res, e + TLF_BI_RESERVED, TLF_BI_RESERVED_LEN);

    uint64_t left = s->n_rows - bi->first_row;
    uint32_t want = left < s->block_rows ? (uint32_t)left : s->block_rows;
    if (bi->n_rows != want)
        return blk_fail(s, c, b, eabs + TLF_BI_NROWS, err, TL_ECORRUPT,
                        "block index entry: n_rows: expected %u (block_rows %u, segment "
                        "rows %llu), found %u",
                        want, s->block_rows, (unsigned long long)s->n_rows, bi->n_rows);
    if (bi->null_count > bi->n_rows)
        return blk_fail(s, c, b, eabs + TLF_BI_NULLS, err, TL_ECORRUPT,
                        "block index entry: null_count %u exceeds n_rows %u",
                        bi->null_count, bi->n_rows);
    if (res)
        return blk_fail(s, c, b, eabs + TLF_BI_RESERVED, err, TL_ECORRUPT,
                        "block index entry: reserved field: expected 0, found 0x%06x", res);
    if (bi->validity > TLF_VALID_POSITIONS || (bi->validity && !bi->null_count))
        return blk_fail(s, c, b, eabs + TLF_BI_VALIDITY, err, TL_ECORRUPT,
                        "block index entry: validity %u with %u nulls: expected 0 (bitmap), "
                        "or 1 (null positions) when there are nulls",
                        bi->validity, bi->null_count);
    uint64_t want_len =
        tlf_block_length(bi->payload_len, bi->n_rows, bi->null_count, bi->validity);
    if (bi->length != want_len)
        return blk_fail(s, c, b, eabs + TLF_BI_LENGTH, err, TL_ECORRUPT,
                        "block index entry: length: expected %llu (payload %u bytes, %u "
                        "rows, %u nulls as %s), found %llu",
                        (unsigned long long)want_len, bi->payload_len, bi->n_rows,
                        bi->null_count,
                        bi->validity == TLF_VALID_POSITIONS ? "positions" : "a bitmap",
                        (unsigned long long)bi->length);
    if (bi->offset % TLF_BLOCK_ALIGN || bi->offset < TLF_HEADER_SIZE ||
        bi->offset > s->footer_off || bi->length > s->footer_off - bi->offset)
        return blk_fail(s, c, b, eabs + TLF_BI_OFFSET, err, TL_ECORRUPT,
                        "block index entry: block at byte offset %llu, length %llu: "
                        "expected a 64-aligned range inside [%u, %llu) (between header "
                        "and footer)",
                        (unsigned long long)bi->offset, (unsigned long long)bi->length,
                        (unsigned)TLF_HEADER_SIZE, (unsigned long long)s->footer_off);

    uint64_t w = tl_type_width(type);
    if (type == TL_STRING) {
        if (bi->decoded_bytes > UINT32_MAX)
            return blk_fail(s, c, b, eabs + TLF_BI_DECODED, err, TL_ECORRUPT,
                            "block index entry: decoded_bytes %llu exceeds 4 GiB - 1",
                            (unsigned long long)bi->decoded_bytes);
    } else if (bi->decoded_bytes != bi->n_rows * w) {
        return blk_fail(s, c, b, eabs + TLF_BI_DECODED, err, TL_ECORRUPT,
                        "block index entry: decoded_bytes: expected %llu (%u rows of %s), "
                        "found %llu",
                        (unsigned long long)(bi->n_rows * w), bi->n_rows, tl_type_name(type),
                        (unsigned long long)bi->decoded_bytes);
    }
    if (bi->compression == TLF_COMP_NONE && bi->encoded_len != bi->payload_len)
        return blk_fail(s, c, b, eabs + TLF_BI_ENCODED_LEN, err, TL_ECORRUPT,
                        "block index entry: uncompressed block: encoded_len %u, expected "
                        "payload_len %u",
                        bi->encoded_len, bi->payload_len);
    if (bi->compression == TLF_COMP_ZSTD && bi->payload_len == 0)
        return blk_fail(s, c, b, eabs + TLF_BI_PAYLOAD_LEN, err, TL_ECORRUPT,
                        "block index entry: zstd block with an empty payload");
    if (bi->encoding != TLF_ENC_SCALED && bi->inner != 0)
        return blk_fail(s, c, b, eabs + TLF_BI_INNER, err, TL_ECORRUPT,
                        "block index entry: inner encoding %u on a %s block: expected 0",
                        bi->inner, tlf_encoding_name(bi->encoding));
    if (tlf_enc_known(bi->encoding)) {
        if (!tlf_enc_applies(type, bi->encoding))
            return blk_fail(s, c, b, eabs + TLF_BI_ENCODING, err, TL_ECORRUPT,
                            "block index entry: encoding %s does not apply to type %s",
                            tlf_encoding_name(bi->encoding), tl_type_name(type));
        uint64_t bound = tlf_encoded_bound(type, bi->encoding, bi->n_rows, bi->decoded_bytes);
        int is_plain = bi->encoding == TLF_ENC_PLAIN;
        if (is_plain ? bi->encoded_len != bound : bi->encoded_len > bound)
            return blk_fail(s, c, b, eabs + TLF_BI_ENCODED_LEN, err, TL_ECORRUPT,
                            "block index entry: encoded_len %u: expected %s %llu for %u "
                            "rows of %s in %s",
                            bi->encoded_len, is_plain ? "exactly" : "at most",
                            (unsigned long long)bound, bi->n_rows, tl_type_name(type),
                            tlf_encoding_name(bi->encoding));
        if (bi->encoding == TLF_ENC_DICT && type == TL_STRING) {
            if (!col->dict)
                return blk_fail(s, c, b, eabs + TLF_BI_ENCODING, err, TL_ECORRUPT,
                                "block index entry: DICT block but the column has no "
                                "dictionary");
            if (bi->decoded_bytes > (uint64_t)bi->n_rows * col->dict_maxlen)
                return blk_fail(s, c, b, eabs + TLF_BI_DECODED, err, TL_ECORRUPT,
                                "block index entry: decoded_bytes %llu exceeds %u rows times "
                                "the longest dictionary entry (%u bytes)",
                                (unsigned long long)bi->decoded_bytes, bi->n_rows,
                                col->dict_maxlen);
        }
    }
    int rc = parse_zone(s, c, b, e, eabs, pool_off, pool_len, bi, err);
    if (rc != TL_OK)
        return rc;
    col->info.null_count += bi->null_count;
    col->info.stored_bytes += bi->length;
    col->info.decoded_bytes += bi->decoded_bytes;
    return TL_OK;
}

static int parse_meta(tlf_seg *s, uint64_t mo, uint64_t ml, tl_error *err)
{
    const uint8_t *m = s->footer + mo;
    if (ml < 4)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "metadata section at byte offset %llu: length %llu, expected >= 4",
                        FABS(s, mo), (unsigned long long)ml);
    uint32_t cnt = tlf_ld32(m);
    uint64_t pos = 4;
    for (uint32_t i = 0; i < cnt; i++) {
        for (int part = 0; part < 2; part++) {
            if (ml - pos < 4)
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "metadata pair %u at byte offset %llu: expected a 4-byte "
                                "length, found %llu bytes left",
                                i, FABS(s, mo + pos), (unsigned long long)(ml - pos));
            uint32_t l = tlf_ld32(m + pos);
            if (l > ml - pos - 4)
                return seg_fail(s->name, err, TL_ECORRUPT,
                                "metadata pair %u at byte offset %llu: %s length %u exceeds "
                                "the %llu bytes left",
                                i, FABS(s, mo + pos), part ? "value" : "key", l,
                                (unsigned long long)(ml - pos - 4));
            pos += 4 + (uint64_t)l;
        }
    }
    if (pos != ml)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "metadata section at byte offset %llu: %u pairs take %llu bytes, "
                        "section length is %llu",
                        FABS(s, mo), cnt, (unsigned long long)pos, (unsigned long long)ml);
    s->meta = m;
    s->meta_len = ml;
    return TL_OK;
}

/* Parse the footer (s->footer, s->footer_len at s->footer_off). */
static int parse_footer(tlf_seg *s, tl_error *err)
{
    const uint8_t *f = s->footer;
    uint64_t fl = s->footer_len;
    uint32_t fh_len = tlf_ld32(f + TLF_FH_LEN);
    uint32_t n_cols = tlf_ld32(f + TLF_FH_NCOLS);
    uint64_t n_rows = tlf_ld64(f + TLF_FH_NROWS);
    uint32_t n_blocks = tlf_ld32(f + TLF_FH_NBLOCKS);
    uint32_t br = tlf_ld32(f + TLF_FH_BLOCK_ROWS);
    uint32_t es = tlf_ld32(f + TLF_FH_ENTRY_SIZE);
    uint32_t res = tlf_ld32(f + TLF_FH_RESERVED);
    if (fh_len < TLF_FH_SIZE || fh_len > fl || fh_len % 8)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "footer header at byte offset %llu: length %u: expected a multiple "
                        "of 8 in %u..%llu",
                        FABS(s, TLF_FH_LEN), fh_len, (unsigned)TLF_FH_SIZE,
                        (unsigned long long)fl);
    if (n_cols == 0 || n_cols > TLF_MAX_COLUMNS)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "footer at byte offset %llu: n_cols: expected 1..%u, found %u",
                        FABS(s, TLF_FH_NCOLS), (unsigned)TLF_MAX_COLUMNS, n_cols);
    if (br == 0 || br > TLF_MAX_BLOCK_ROWS)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "footer at byte offset %llu: block_rows: expected 1..%u, found %u",
                        FABS(s, TLF_FH_BLOCK_ROWS), (unsigned)TLF_MAX_BLOCK_ROWS, br);
    uint64_t want_blocks = n_rows / br + (n_rows % br != 0);
    if (want_blocks != n_blocks)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "footer at byte offset %llu: n_blocks: expected %llu (%llu rows in "
                        "blocks of %u), found %u",
                        FABS(s, TLF_FH_NBLOCKS), (unsigned long long)want_blocks,
                        (unsigned long long)n_rows, br, n_blocks);
    if (es < TLF_ENTRY_SIZE || es > TLF_MAX_ENTRY_SIZE || es % 8)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "footer at byte offset %llu: entry_size: expected a multiple of 8 in "
                        "%u..%u, found %u",
                        FABS(s, TLF_FH_ENTRY_SIZE), (unsigned)TLF_ENTRY_SIZE,
                        (unsigned)TLF_MAX_ENTRY_SIZE, es);
    if (res)
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "footer at byte offset %llu: reserved field: expected 0, found %u",
                        FABS(s, TLF_FH_RESERVED), res);
    static const char *const sec_name[TLF_N_SECTIONS] = {"schema", "dictionary",
                                                         "block index", "bound pool",
                                                         "metadata"};
    uint64_t so[TLF_N_SECTIONS], sl[TLF_N_SECTIONS], end = fh_len;
    for (int i = 0; i < TLF_N_SECTIONS; i++) {
        so[i] = tlf_ld64(f + TLF_FH_SECTIONS + 16 * i);
        sl[i] = tlf_ld64(f + TLF_FH_SECTIONS + 16 * i + 8);
        if (so[i] % 8 || so[i] < end || so[i] > fl || sl[i] > fl - so[i])
            return seg_fail(s->name, err, TL_ECORRUPT,
                            "footer at byte offset %llu: %s section at footer offset %llu, "
                            "length %llu: expected an 8-aligned range in [%llu, %llu)",
                            FABS(s, TLF_FH_SECTIONS + 16 * i), sec_name[i],
                            (unsigned long long)so[i], (unsigned long long)sl[i],
                            (unsigned long long)end, (unsigned long long)fl);
        end = so[i] + sl[i];
    }
    s->n_cols = n_cols;
    s->n_rows = n_rows;
    s->n_blocks = n_blocks;
    s->block_rows = br;
    uint64_t n_ent = (uint64_t)n_cols * n_blocks;
    if (n_ent * es != sl[TLF_SEC_INDEX])
        return seg_fail(s->name, err, TL_ECORRUPT,
                        "block index section at byte offset %llu: length: expected %llu "
                        "(%u columns x %u blocks x %u bytes), found %llu",
                        FABS(s, so[TLF_SEC_INDEX]), (unsigned long long)(n_ent * es), n_cols,
                        n_blocks, es, (unsigned long long)sl[TLF_SEC_INDEX]);
    int rc = parse_schema(s, so[TLF_SEC_SCHEMA], sl[TLF_SEC_SCHEMA], so[TLF_SEC_DICT],
                          sl[TLF_SEC_DICT], err);
    if (rc != TL_OK)
        return rc;
    /* n_ent * es bytes are present, es >= 72: this allocation is bounded */
    s->blocks = blocks_take(n_ent ? n_ent : 1, &s->blocks_n);
    if (!s->blocks)
        return seg_fail(s->name, err, TL_ENOMEM, "out of memory (%llu block entries)",
                        (unsigned long long)n_ent);
    uint64_t prev_end = TLF_HEADER_SIZE;
    for (uint32_t b = 0; b < n_blocks; b++) {
        for (uint32_t c = 0; c < n_cols; c++) {
            uint64_t rel = so[TLF_SEC_INDEX] + ((uint64_t)c * n_blocks + b) * es;
            rc = parse_entry(s, c, b, f + rel, s->footer_off + rel, so[TLF_SEC_POOL],
                             sl[TLF_SEC_POOL], err);
            if (rc != TL_OK)
                return rc;
            const tlf_block_info *bi = &s->blocks[(uint64_t)c * n_blocks + b];
            if (bi->offset < prev_end)
                return blk_fail(s, c, b, s->footer_off + rel, err, TL_ECORRUPT,
                                "block index entry: block at byte offset %llu overlaps the "
                                "previous block or header ending at %llu",
                                (unsigned long long)bi->offset, (unsigned long long)prev_end);
            prev_end = bi->offset + bi->length;
        }
    }
    return parse_meta(s, so[TLF_SEC_META], sl[TLF_SEC_META], err);
}

static tlf_seg *seg_new(const char *name)
{
    tlf_seg *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = strdup(name ? name : "<segment>");
    if (!s->name) {
        free(s);
        return NULL;
    }
    return s;
}

static int check_footer_sum(const tlf_seg *s, const uint8_t *tail, tl_error *err)
{
    uint64_t want = tlf_ld64(tail + TLF_TRL_FOOTER_SUM);
    uint64_t got = tlf_xxh3(s->footer, (size_t)s->footer_len);
    if (want != got)
        return seg_fail(s->name, err, TL_ECHECKSUM,
                        "footer at byte offset %llu (%llu bytes): checksum mismatch: "
                        "expected 0x%016llx (trailer), found 0x%016llx",
                        (unsigned long long)s->footer_off, (unsigned long long)s->footer_len,
                        (unsigned long long)want, (unsigned long long)got);
    return TL_OK;
}

int tlf_seg_open_mem(const uint8_t *base, uint64_t size, const char *name, uint32_t flags,
                     tlf_seg **out, tl_error *err)
{
    if (!name)
        name = "<segment>";
    if (!out)
        return seg_fail(name, err, TL_EINVAL, "open: NULL output");
    *out = NULL;
    if (!base && size)
        return seg_fail(name, err, TL_EINVAL, "open: NULL base with %llu bytes",
                        (unsigned long long)size);
    if (size < MIN_FILE_SIZE)
        return seg_fail(name, err, TL_ECORRUPT,
                        "not a ticklake segment: file of %llu bytes at byte offset 0 is "
                        "shorter than the minimum %u",
                        (unsigned long long)size, (unsigned)MIN_FILE_SIZE);
    const uint8_t *tail = base + size - TLF_TRAILER_SIZE;
    int rc = check_magic(base, 0, name, err);
    if (rc == TL_OK)
        rc = check_magic(tail + TLF_TRL_MAGIC, size - TLF_TRAILER_SIZE + TLF_TRL_MAGIC, name,
                         err);
    if (rc == TL_OK)
        rc = check_version(base + TLF_HDR_VMAJOR, TLF_HDR_VMAJOR, name, err);
    uint64_t fo = 0, fl = 0;
    if (rc == TL_OK)
        rc = tlf_seg_parse_trailer(tail, size, name, &fo, &fl, err);
    if (rc != TL_OK)
        return rc;
    uint16_t hmin = tlf_ld16(base + TLF_HDR_VMINOR), tmin = tlf_ld16(tail + TLF_TRL_VMINOR);
    if (hmin != tmin)
        return seg_fail(name, err, TL_ECORRUPT,
                        "minor version at byte offset %u (header) is %u, at byte offset "
                        "%llu (trailer) %u: expected equal",
                        (unsigned)TLF_HDR_VMINOR, hmin,
                        (unsigned long long)(size - TLF_TRAILER_SIZE + TLF_TRL_VMINOR), tmin);
    uint32_t hflags = tlf_ld32(base + TLF_HDR_FLAGS);
    if (hflags)
        return seg_fail(name, err, TL_ECORRUPT,
                        "header flags at byte offset %u: expected 0, found 0x%x",
                        (unsigned)TLF_HDR_FLAGS, hflags);
    for (unsigned i = TLF_HDR_RESERVED; i < TLF_HEADER_SIZE; i++)
        if (base[i])
            return seg_fail(name, err, TL_ECORRUPT,
                            "header reserved byte at byte offset %u: expected 0, found %u", i,
                            base[i]);
    tlf_seg *s = seg_new(name);
    if (!s)
        return seg_fail(name, err, TL_ENOMEM, "out of memory");
    s->base = base;
    s->file_size = size;
    s->footer = base + fo;
    s->footer_off = fo;
    s->footer_len = fl;
    s->vminor = tmin;
    rc = check_footer_sum(s, tail, err);
    if (rc == TL_OK)
        rc = parse_footer(s, err);
    if (rc == TL_OK) {
        uint32_t hc = tlf_ld32(base + TLF_HDR_NCOLS), hb = tlf_ld32(base + TLF_HDR_BLOCK_ROWS);
        if (hc != s->n_cols || hb != s->block_rows)
            rc = seg_fail(name, err, TL_ECORRUPT,
                          "header at byte offset %u: n_cols %u, block_rows %u: expected the "
                          "footer's %u, %u",
                          (unsigned)TLF_HDR_NCOLS, hc, hb, s->n_cols, s->block_rows);
    }
    if (rc == TL_OK && (flags & TLF_OPEN_VERIFY_BLOCKS))
        rc = tlf_seg_verify_all(s, err);
    if (rc != TL_OK) {
        seg_free(s);
        return rc;
    }
    *out = s;
    return TL_OK;
}

int tlf_seg_open_footer(const uint8_t *footer, uint64_t footer_len, const uint8_t *tail,
                        uint64_t file_size, const char *name, tlf_seg **out, tl_error *err)
{
    if (!name)
        name = "<segment>";
    if (!out)
        return seg_fail(name, err, TL_EINVAL, "open_footer: NULL output");
    *out = NULL;
    uint64_t fo, fl;
    int rc = tlf_seg_parse_trailer(tail, file_size, name, &fo, &fl, err);
    if (rc != TL_OK)
        return rc;
    if (!footer || footer_len != fl)
        return seg_fail(name, err, TL_EINVAL,
                        "open_footer: footer of %llu bytes given, the trailer at byte "
                        "offset %llu says %llu",
                        (unsigned long long)footer_len,
                        (unsigned long long)(file_size - TLF_TRAILER_SIZE),
                        (unsigned long long)fl);
    tlf_seg *s = seg_new(name);
    if (!s)
        return seg_fail(name, err, TL_ENOMEM, "out of memory");
    s->file_size = file_size;
    s->footer_off = fo;
    s->footer_len = fl;
    s->vminor = tlf_ld16(tail + TLF_TRL_VMINOR);
    s->footer = footer;
    rc = check_footer_sum(s, tail, err);
    if (rc == TL_OK) {
        s->footer_copy = malloc((size_t)fl);
        if (!s->footer_copy) {
            rc = seg_fail(name, err, TL_ENOMEM, "out of memory (footer of %llu bytes)",
                          (unsigned long long)fl);
        } else {
            memcpy(s->footer_copy, footer, (size_t)fl);
            s->footer = s->footer_copy;
            rc = parse_footer(s, err);
        }
    }
    if (rc != TL_OK) {
        seg_free(s);
        return rc;
    }
    *out = s;
    return TL_OK;
}

/* ---- accessors -------------------------------------------------------- */

const char *tlf_seg_name(const tlf_seg *s) { return s->name; }
uint64_t tlf_seg_n_rows(const tlf_seg *s) { return s->n_rows; }
uint32_t tlf_seg_n_cols(const tlf_seg *s) { return s->n_cols; }
uint32_t tlf_seg_n_blocks(const tlf_seg *s) { return s->n_blocks; }
uint32_t tlf_seg_block_rows(const tlf_seg *s) { return s->block_rows; }
uint64_t tlf_seg_file_size(const tlf_seg *s) { return s->file_size; }
uint32_t tlf_seg_version_minor(const tlf_seg *s) { return s->vminor; }

int tlf_seg_find_col(const tlf_seg *s, const char *name)
{
    for (uint32_t c = 0; c < s->n_cols; c++)
        if (strcmp(s->cols[c].info.name, name) == 0)
            return (int)c;
    return -1;
}

const tlf_col_info *tlf_seg_col(const tlf_seg *s, uint32_t col)
{
    assert(col < s->n_cols);
    return &s->cols[col].info;
}

const tlf_block_info *tlf_seg_block(const tlf_seg *s, uint32_t col, uint32_t blk)
{
    assert(col < s->n_cols && blk < s->n_blocks);
    return &s->blocks[(uint64_t)col * s->n_blocks + blk];
}

void tlf_seg_dict_entry(const tlf_seg *s, uint32_t col, uint32_t idx, const uint8_t **bytes,
                        uint32_t *len)
{
    const rcol *c = &s->cols[col];
    assert(col < s->n_cols && idx < c->dict_n);
    uint32_t a = tlf_ld32(c->dict + 4 + 4 * (uint64_t)idx);
    uint32_t b = tlf_ld32(c->dict + 8 + 4 * (uint64_t)idx);
    *bytes = c->dict + 8 + 4 * (uint64_t)c->dict_n + a;
    *len = b - a;
}

int tlf_seg_meta(const tlf_seg *s, const char *key, const uint8_t **value,
                 uint32_t *value_len)
{
    size_t klen = strlen(key);
    const uint8_t *m = s->meta;
    uint32_t cnt = tlf_ld32(m);
    uint64_t pos = 4; /* the layout was validated at open */
    for (uint32_t i = 0; i < cnt; i++) {
        uint32_t kl = tlf_ld32(m + pos);
        const uint8_t *k = m + pos + 4;
        pos += 4 + (uint64_t)kl;
        uint32_t vl = tlf_ld32(m + pos);
        const uint8_t *v = m + pos + 4;
        pos += 4 + (uint64_t)vl;
        if (kl == klen && memcmp(k, key, klen) == 0) {
            *value = v;
            *value_len = vl;
            return TL_OK;
        }
    }
    return TL_ENOTFOUND;
}

/* ---- decoding --------------------------------------------------------- */

static int decompress(const tlf_seg *s, uint32_t col, uint32_t blk, const tlf_block_info *bi,
                      const uint8_t *src, const uint8_t **dst, tl_error *err)
{
    size_t plen = bi->payload_len, want = bi->encoded_len;
    unsigned long long fcs = ZSTD_getFrameContentSize(src, plen);
    if (fcs != want)
        return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT,
                        "zstd frame content size: expected %zu (encoded_len), found %s%llu",
                        want,
                        fcs == ZSTD_CONTENTSIZE_ERROR     ? "a bad frame header "
                        : fcs == ZSTD_CONTENTSIZE_UNKNOWN ? "unknown "
                                                          : "",
                        fcs >= ZSTD_CONTENTSIZE_ERROR ? 0ull : fcs);
    size_t csize = ZSTD_findFrameCompressedSize(src, plen);
    if (ZSTD_isError(csize) || csize != plen)
        return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT,
                        "zstd payload: expected exactly one frame of %zu bytes, found %s",
                        plen, ZSTD_isError(csize) ? ZSTD_getErrorName(csize) : "a shorter one");
    /* bound by the frame's real block structure before allocating */
    unsigned long long bound = ZSTD_decompressBound(src, plen);
    if (bound == ZSTD_CONTENTSIZE_ERROR || bound < want)
        return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT,
                        "zstd frame can produce at most %llu bytes, expected %zu",
                        bound == ZSTD_CONTENTSIZE_ERROR ? 0ull : bound, want);
    zscratch *z = zscratch_get();
    if (z && !z->dctx)
        z->dctx = ZSTD_createDCtx();
    if (!z || !z->dctx)
        return blk_fail(s, col, blk, bi->offset, err, TL_ENOMEM, "out of memory (zstd context)");
    if (z->cap < want || !z->buf) {
        size_t cap = want > 4096 ? want : 4096;
        uint8_t *nb = malloc(cap);
        if (!nb)
            return blk_fail(s, col, blk, bi->offset, err, TL_ENOMEM,
                            "out of memory (%zu bytes of zstd scratch)", cap);
        free(z->buf);
        z->buf = nb;
        z->cap = cap;
    }
    size_t r = ZSTD_decompressDCtx(z->dctx, z->buf, want, src, plen);
    if (ZSTD_isError(r) || r != want)
        return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT,
                        "zstd: expected %zu bytes, found %s", want,
                        ZSTD_isError(r) ? ZSTD_getErrorName(r) : "fewer");
    *dst = z->buf;
    return TL_OK;
}

static int check_validity(const tlf_seg *s, uint32_t col, uint32_t blk,
                          const tlf_block_info *bi, const uint8_t *vb, tl_error *err)
{
    uint32_t n = bi->n_rows, full = n / 8, i = 0;
    uint64_t present = 0;
    for (; i + 8 <= full; i += 8)
        present += (unsigned)__builtin_popcountll(tlf_ld64(vb + i));
    for (; i < full; i++)
        present += (unsigned)__builtin_popcount(vb[i]);
    if (n & 7) {
        uint8_t last = vb[full];
        if (last >> (n & 7))
            return blk_fail(s, col, blk, bi->offset + tlf_align_up(bi->payload_len, 8) + full,
                            err, TL_ECORRUPT,
                            "validity bitmap: bits beyond row %u must be 0, found byte 0x%02x",
                            n, last);
        present += (unsigned)__builtin_popcount(last);
    }
    if (n - present != bi->null_count)
        return blk_fail(s, col, blk, bi->offset + tlf_align_up(bi->payload_len, 8), err,
                        TL_ECORRUPT, "validity bitmap: expected %u nulls, found %llu",
                        bi->null_count, (unsigned long long)(n - present));
    return TL_OK;
}

/* FMT-R24: expand null positions into a bitmap (buf, (n+7)/8 bytes),
 * checking that they increase strictly and stay below n. */
static int expand_positions(const tlf_seg *s, uint32_t col, uint32_t blk,
                            const tlf_block_info *bi, const uint8_t *pos, uint8_t *buf,
                            tl_error *err)
{
    uint32_t n = bi->n_rows, nn = bi->null_count;
    unsigned pw = tlf_valid_pos_width(n);
    memset(buf, 0xFF, n / 8);
    if (n & 7)
        buf[n / 8] = (uint8_t)((1u << (n & 7)) - 1);
    int64_t prev = -1;
    for (uint32_t i = 0; i < nn; i++) {
        uint32_t p = pw == 2 ? tlf_ld16(pos + 2 * (size_t)i) : tlf_ld32(pos + 4 * (size_t)i);
        if ((int64_t)p <= prev || p >= n)
            return blk_fail(s, col, blk,
                            bi->offset + tlf_align_up(bi->payload_len, 8) + (uint64_t)i * pw,
                            err, TL_ECORRUPT,
                            "validity positions: null %u is row %u: expected a row above "
                            "%lld and below %u",
                            i, p, (long long)prev, n);
        buf[p >> 3] &= (uint8_t)~(1u << (p & 7));
        prev = p;
    }
    return TL_OK;
}

static int need_cap(const tlf_seg *s, uint32_t col, uint32_t blk, const char *what,
                    const void *p, size_t cap, size_t need, size_t align, tl_error *err)
{
    if (need == 0)
        return TL_OK;
    if (!p || cap < need)
        return blk_fail(s, col, blk, s->blocks[(uint64_t)col * s->n_blocks + blk].offset, err,
                        TL_EINVAL, "decode: %s scratch of %zu bytes, %zu needed", what,
                        p ? cap : 0, need);
    if ((uintptr_t)p % align)
        return blk_fail(s, col, blk, s->blocks[(uint64_t)col * s->n_blocks + blk].offset, err,
                        TL_EINVAL, "decode: %s scratch not %zu-byte aligned", what, align);
    return TL_OK;
}

/* The validity bitmap of a block with nulls: a stored bitmap is checked
 * and returned in place (in_place) or copied into buf; positions are
 * checked and expanded into buf. */
static int load_validity(const tlf_seg *s, uint32_t col, uint32_t blk,
                         const tlf_block_info *bi, const uint8_t *bytes, int in_place,
                         uint8_t *buf, size_t cap, const uint8_t **validity, tl_error *err)
{
    const uint8_t *vb = bytes + tlf_align_up(bi->payload_len, 8);
    size_t vl = ((size_t)bi->n_rows + 7) / 8;
    int rc;
    if (bi->validity == TLF_VALID_BITMAP) {
        rc = check_validity(s, col, blk, bi, vb, err);
        if (rc != TL_OK)
            return rc;
        if (in_place) {
            *validity = vb;
            return TL_OK;
        }
    }
    rc = need_cap(s, col, blk, "validity", buf, cap, vl, 1, err);
    if (rc != TL_OK)
        return rc;
    if (bi->validity == TLF_VALID_BITMAP)
        memcpy(buf, vb, vl);
    else if ((rc = expand_positions(s, col, blk, bi, vb, buf, err)) != TL_OK)
        return rc;
    *validity = buf;
    return TL_OK;
}

/* the caller's scratch for ob bytes of string offsets and db of data */
static int string_scratch(const tlf_seg *s, uint32_t col, uint32_t blk, const tlf_vec *out,
                          size_t ob, size_t db, tl_error *err)
{
    int rc = need_cap(s, col, blk, "offsets", out->buf, out->buf_cap, ob, 4, err);
    if (rc == TL_OK)
        rc = need_cap(s, col, blk, "string data", out->data_buf, out->data_cap, db, 1, err);
    return rc;
}

static int decode_strings(const tlf_seg *s, uint32_t col, uint32_t blk,
                          const tlf_block_info *bi, const uint8_t *p, int in_place,
                          tlf_vec *out, tl_error *err)
{
    uint32_t n = bi->n_rows;
    size_t ob = 4 * ((size_t)n + 1), db = (size_t)bi->decoded_bytes;
    uint64_t poff = bi->offset;
    const rcol *c = &s->cols[col];
    if (bi->encoding == TLF_ENC_PLAIN) {
        /* encoded_len == ob + db was checked at open */
        const uint8_t *offs = p, *data = p + ob;
        uint32_t prev = tlf_ld32(offs);
        if (prev != 0)
            return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                            "plain strings: offsets[0]: expected 0, found %u", prev);
        for (uint32_t i = 1; i <= n; i++) {
            uint32_t o = tlf_ld32(offs + 4 * (size_t)i);
            if (o < prev)
                return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                                "plain strings: offsets[%u] at payload offset %zu: %u is less "
                                "than the previous %u",
                                i, 4 * (size_t)i, o, prev);
            prev = o;
        }
        if (prev != db)
            return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                            "plain strings: offsets[%u]: expected %zu (decoded_bytes), found %u",
                            n, db, prev);
        if (in_place && (uintptr_t)offs % 4 == 0) {
            out->offsets = (const uint32_t *)(const void *)offs;
            out->data = data;
            return TL_OK;
        }
        int rc = string_scratch(s, col, blk, out, ob, db, err);
        if (rc != TL_OK)
            return rc;
        memcpy(out->buf, offs, ob);
        if (db)
            memcpy(out->data_buf, data, db);
        out->offsets = out->buf;
        out->data = out->data_buf ? out->data_buf : (const uint8_t *)out->buf;
        return TL_OK;
    }
    /* DICT: codes go to offsets[1..n], then are replaced in place by the
     * offsets (offsets[i] is written after codes[i] was read). */
    int rc = string_scratch(s, col, blk, out, ob, db, err);
    if (rc != TL_OK)
        return rc;
    uint32_t *o = out->buf;
    rc = tlf_dict_decode_codes(p, bi->encoded_len, n, c->dict_n, o + 1, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "%s: column '%s' (%u), block %u, byte offset %llu: ", s->name,
                        c->info.name, col, blk, (unsigned long long)poff);
        return rc;
    }
    const uint8_t *doffs = c->dict + 4, *dbytes = c->dict + 8 + 4 * (size_t)c->dict_n;
    uint8_t *dst = out->data_buf;
    size_t cap = out->data_cap;
    uint64_t pos = 0;
    const uint8_t *vb = bi->null_count ? out->validity : NULL;
    for (uint32_t i = 0; i < n;) {
        uint32_t code = o[i + 1];
        if (code >= c->dict_n)
            return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                            "dict: code %u of row %u: expected < %u", code, i, c->dict_n);
        uint32_t a = tlf_ld32(doffs + 4 * (size_t)code);
        uint32_t l = tlf_ld32(doffs + 4 * (size_t)code + 4) - a;
        if (!vb && i + 1 < n && o[i + 2] == code) {
            /* a run of one value (sorted columns, RLE codes): offsets step
             * by l, the bytes are copied once and then doubled */
            uint32_t j = i + 2;
            while (j < n && o[j + 1] == code)
                j++;
            uint64_t total = (uint64_t)(j - i) * l;
            if (total > db - pos)
                return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                                "dict: values exceed decoded_bytes %zu at row %u", db, i);
            for (uint32_t r = i; r < j; r++) /* o[r] held row r-1's code, consumed */
                o[r] = (uint32_t)(pos + (uint64_t)(r - i) * l);
            if (l) {
                memcpy(dst + pos, dbytes + a, l);
                for (uint64_t done = l; done < total;) {
                    uint64_t k = done < total - done ? done : total - done;
                    memcpy(dst + pos + done, dst + pos, (size_t)k);
                    done += k;
                }
            }
            pos += total;
            i = j;
            continue;
        }
        o[i] = (uint32_t)pos;
        if (vb && !tl_bit_get(vb, i)) {
            i++;
            continue; /* FMT-R23: a null row decodes as the empty string */
        }
        if (l > db - pos)
            return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                            "dict: values exceed decoded_bytes %zu at row %u", db, i);
        /* short values: one fixed 16-byte copy when source and destination
         * have the room (the bytes past l are overwritten by the next) */
        if (l <= 16 && (uint64_t)a + 16 <= c->dict_bytes && pos + 16 <= cap)
            memcpy(dst + pos, dbytes + a, 16);
        else if (l)
            memcpy(dst + pos, dbytes + a, l);
        pos += l;
        i++;
    }
    o[n] = (uint32_t)pos;
    if (pos != db)
        return blk_fail(s, col, blk, poff, err, TL_ECORRUPT,
                        "dict: values take %llu bytes, expected decoded_bytes %zu",
                        (unsigned long long)pos, db);
    out->offsets = o;
    out->data = out->data_buf ? out->data_buf : (const uint8_t *)out->buf;
    return TL_OK;
}

/* The block of (col, blk) with `bytes` of length len: range and length
 * checks for the API entry points (`what` names the call in messages). */
static int locate_block(const tlf_seg *s, uint32_t col, uint32_t blk, const uint8_t *bytes,
                        uint64_t len, const char *what, const tlf_block_info **out,
                        tl_error *err)
{
    if (col >= s->n_cols || blk >= s->n_blocks)
        return seg_fail(s->name, err, TL_EINVAL,
                        "%s: column %u / block %u out of range (%u columns, %u blocks)", what,
                        col, blk, s->n_cols, s->n_blocks);
    const tlf_block_info *bi = &s->blocks[(uint64_t)col * s->n_blocks + blk];
    if (len != bi->length || (!bytes && len))
        return blk_fail(s, col, blk, bi->offset, err, TL_EINVAL,
                        "%s: %llu bytes given%s, the block is %llu bytes", what,
                        (unsigned long long)len, bytes ? "" : " (NULL)",
                        (unsigned long long)bi->length);
    *out = bi;
    return TL_OK;
}

/* locate_block for a no-decode view: the block must be uncompressed
 * (TL_EUNSUPPORTED otherwise). */
static int view_block(const tlf_seg *s, uint32_t col, uint32_t blk, const uint8_t *bytes,
                      uint64_t len, const char *what, const tlf_block_info **out,
                      tl_error *err)
{
    const tlf_block_info *bi = NULL;
    int rc = locate_block(s, col, blk, bytes, len, what, &bi, err);
    if (rc != TL_OK)
        return rc;
    if (bi->compression != TLF_COMP_NONE)
        return blk_fail(s, col, blk, bi->offset, err, TL_EUNSUPPORTED,
                        "%s: block is %s/%s, the view needs an uncompressed block", what,
                        tlf_encoding_name(bi->encoding), tlf_compression_name(bi->compression));
    *out = bi;
    return TL_OK;
}

int tlf_seg_decode(const tlf_seg *s, uint32_t col, uint32_t blk, const uint8_t *bytes,
                   uint64_t len, uint32_t flags, tlf_vec *out, tl_error *err)
{
    if (!s || !out)
        return tl_error_set(err, TL_EINVAL, "decode: NULL segment or output");
    const tlf_block_info *bi = NULL;
    int rc0 = locate_block(s, col, blk, bytes, len, "decode", &bi, err);
    if (rc0 != TL_OK)
        return rc0;
    if (flags & TLF_DECODE_VERIFY) {
        uint64_t h = tlf_xxh3(bytes, (size_t)len);
        if (h != bi->checksum)
            return blk_fail(s, col, blk, bi->offset, err, TL_ECHECKSUM,
                            "block checksum mismatch: expected 0x%016llx, found 0x%016llx",
                            (unsigned long long)bi->checksum, (unsigned long long)h);
    }
    if (!tlf_enc_known(bi->encoding))
        return blk_fail(s, col, blk, bi->offset, err, TL_EUNSUPPORTED,
                        "unknown encoding %u (this reader knows 0..%u)", bi->encoding,
                        (unsigned)TLF_ENC_SCALED);
    if (bi->compression != TLF_COMP_NONE && bi->compression != TLF_COMP_ZSTD)
        return blk_fail(s, col, blk, bi->offset, err, TL_EUNSUPPORTED,
                        "unknown compression %u (this reader knows 0..1)", bi->compression);
    int type = s->cols[col].info.type;
    uint32_t n = bi->n_rows;
    int zc = (flags & TLF_DECODE_ZERO_COPY) != 0;
    out->type = (tl_type)type;
    out->n = n;
    out->values = NULL;
    out->validity = NULL;
    out->offsets = NULL;
    out->data = NULL;
    out->scale = 0;

    if (bi->null_count) {
        int rc = load_validity(s, col, blk, bi, bytes, zc, out->valid_buf, out->valid_cap,
                               &out->validity, err);
        if (rc != TL_OK)
            return rc;
    }

    const uint8_t *p = bytes;
    int in_place = zc && bi->compression == TLF_COMP_NONE;
    if (bi->compression == TLF_COMP_ZSTD) {
        int rc = decompress(s, col, blk, bi, bytes, &p, err);
        if (rc != TL_OK)
            return rc;
    }
    if (type == TL_STRING)
        return decode_strings(s, col, blk, bi, p, in_place, out, err);

    size_t w = tl_type_width(type), need = (size_t)n * w;
    int is_signed = tl_type_is_signed_int(type);
    if (bi->encoding == TLF_ENC_PLAIN && in_place && (uintptr_t)p % w == 0) {
        out->values = p;
        return TL_OK;
    }
    int rc = need_cap(s, col, blk, "values", out->buf, out->buf_cap, need, w, err);
    if (rc != TL_OK)
        return rc;
    size_t el = bi->encoded_len;
    int inner = 0;
    if ((flags & TLF_DECODE_NARROW) && ((type == TL_FLOAT64 && bi->encoding == TLF_ENC_SCALED) ||
                                        (type == TL_INT64 && bi->encoding == TLF_ENC_DELTA))) {
        /* int32 values when they all fit (buf holds n * 8 >= n * 4 bytes) */
        uint64_t scale = 1;
        int ok = type == TL_INT64
                     ? tlf_delta_decode_i32(p, el, n, out->buf)
                     : tlf_scaled_decode_i32(p, el, n, out->buf, &scale, &inner);
        if (ok && type == TL_FLOAT64 && inner != bi->inner)
            return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT,
                            "scaled: inner encoding %d in the payload, %u in the block index",
                            inner, bi->inner);
        if (ok) {
            if (bi->null_count)
                tlf_zero_nulls(out->buf, 4, out->validity, n); /* FMT-R23 */
            out->values = out->buf;
            out->scale = scale;
            return TL_OK;
        }
    }
    switch (bi->encoding) {
    case TLF_ENC_PLAIN: memcpy(out->buf, p, need); break;
    case TLF_ENC_RLE: rc = tlf_rle_decode(p, el, n, (unsigned)w, out->buf, err); break;
    case TLF_ENC_FOR:
        rc = tlf_for_decode(p, el, n, (unsigned)w, is_signed, out->buf, err);
        break;
    case TLF_ENC_DELTA:
        rc = tlf_delta_decode(p, el, n, (unsigned)w, is_signed, out->buf, err);
        break;
    case TLF_ENC_DICT: rc = tlf_fdict_decode(p, el, n, (unsigned)w, out->buf, err); break;
    case TLF_ENC_SCALED:
        rc = tlf_scaled_decode(p, el, n, (unsigned)w, out->buf, &inner, err);
        if (rc == TL_OK && inner != bi->inner)
            return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT,
                            "scaled: inner encoding %d in the payload, %u in the block index",
                            inner, bi->inner);
        break;
    default: /* not applicable to a fixed-width type: rejected at open */
        return blk_fail(s, col, blk, bi->offset, err, TL_ECORRUPT, "bad encoding %u",
                        bi->encoding);
    }
    if (rc != TL_OK) {
        tl_error_prefix(err, "%s: column '%s' (%u), block %u, byte offset %llu: ", s->name,
                        s->cols[col].info.name, col, blk, (unsigned long long)bi->offset);
        return rc;
    }
    if (bi->null_count)
        tlf_zero_nulls(out->buf, w, out->validity, n); /* FMT-R23 */
    out->values = out->buf;
    return TL_OK;
}

int tlf_seg_rle_runs(const tlf_seg *s, uint32_t col, uint32_t blk, const uint8_t *bytes,
                     uint64_t len, uint32_t *n_runs, const void **values,
                     const uint32_t **ends, tl_error *err)
{
    if (!s || !n_runs || !values || !ends)
        return tl_error_set(err, TL_EINVAL, "rle_runs: NULL argument");
    const tlf_block_info *bi = NULL;
    int rc = view_block(s, col, blk, bytes, len, "rle_runs", &bi, err);
    if (rc != TL_OK)
        return rc;
    if (bi->encoding != TLF_ENC_RLE && bi->encoding != TLF_ENC_DICT)
        return blk_fail(s, col, blk, bi->offset, err, TL_EUNSUPPORTED,
                        "rle_runs: block is %s, runs need rle or dict with rle codes",
                        tlf_encoding_name(bi->encoding));
    if ((uintptr_t)bytes % 4)
        return blk_fail(s, col, blk, bi->offset, err, TL_EINVAL,
                        "rle_runs: block bytes not 4-byte aligned");
    const rcol *c = &s->cols[col];
    unsigned w = (unsigned)tl_type_width(c->info.type);
    if (bi->encoding == TLF_ENC_RLE) {
        rc = tlf_rle_view(bytes, bi->payload_len, bi->n_rows, w, n_runs, values, ends, err);
    } else {
        /* DICT: the runs of the codes, after the block dictionary if any */
        uint32_t n_dict = c->dict_n;
        const uint8_t *entries;
        size_t off = 0;
        if (c->info.type != TL_STRING)
            rc = tlf_fdict_parse(bytes, bi->payload_len, bi->n_rows, w, &n_dict, &entries,
                                 &off, err);
        const uint32_t *codes = NULL;
        if (rc == TL_OK)
            rc = tlf_dict_runs_view(bytes + off, bi->payload_len - off, bi->n_rows, n_dict,
                                    off, n_runs, &codes, ends, err);
        if (rc == TL_OK)
            *values = codes;
    }
    if (rc != TL_OK)
        tl_error_prefix(err, "%s: column '%s' (%u), block %u, byte offset %llu: rle_runs: ",
                        s->name, c->info.name, col, blk, (unsigned long long)bi->offset);
    return rc;
}

int tlf_seg_block_dict(const tlf_seg *s, uint32_t col, uint32_t blk, const uint8_t *bytes,
                       uint64_t len, uint32_t *n_entries, const void **entries,
                       tl_error *err)
{
    if (!s || !n_entries || !entries)
        return tl_error_set(err, TL_EINVAL, "block_dict: NULL argument");
    const tlf_block_info *bi = NULL;
    int rc = view_block(s, col, blk, bytes, len, "block_dict", &bi, err);
    if (rc != TL_OK)
        return rc;
    const rcol *c = &s->cols[col];
    if (c->info.type == TL_STRING)
        return blk_fail(s, col, blk, bi->offset, err, TL_EINVAL,
                        "block_dict: a string column's codes index the column dictionary "
                        "(tlf_seg_dict_entry)");
    if (bi->encoding != TLF_ENC_DICT)
        return blk_fail(s, col, blk, bi->offset, err, TL_EUNSUPPORTED,
                        "block_dict: block is %s, not dict", tlf_encoding_name(bi->encoding));
    unsigned w = (unsigned)tl_type_width(c->info.type);
    if ((uintptr_t)bytes % w)
        return blk_fail(s, col, blk, bi->offset, err, TL_EINVAL,
                        "block_dict: block bytes not %u-byte aligned", w);
    const uint8_t *e;
    size_t off;
    rc = tlf_fdict_parse(bytes, bi->payload_len, bi->n_rows, w, n_entries, &e, &off, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "%s: column '%s' (%u), block %u, byte offset %llu: block_dict: ",
                        s->name, c->info.name, col, blk, (unsigned long long)bi->offset);
        return rc;
    }
    *entries = e;
    return TL_OK;
}

int tlf_seg_validity(const tlf_seg *s, uint32_t col, uint32_t blk, const uint8_t *bytes,
                     uint64_t len, uint8_t *valid_buf, size_t valid_cap,
                     const uint8_t **validity, tl_error *err)
{
    if (!s || !validity)
        return tl_error_set(err, TL_EINVAL, "validity: NULL argument");
    *validity = NULL;
    const tlf_block_info *bi = NULL;
    int rc = locate_block(s, col, blk, bytes, len, "validity", &bi, err);
    if (rc != TL_OK)
        return rc;
    if (!bi->null_count)
        return TL_OK;
    return load_validity(s, col, blk, bi, bytes, 1, valid_buf, valid_cap, validity, err);
}

int tlf_seg_verify_all(const tlf_seg *s, tl_error *err)
{
    if (!s)
        return tl_error_set(err, TL_EINVAL, "verify_all: NULL segment");
    if (!s->base)
        return seg_fail(s->name, err, TL_EINVAL,
                        "verify_all: segment was opened from its footer; verify blocks with "
                        "tlf_seg_decode(TLF_DECODE_VERIFY)");
    for (uint32_t b = 0; b < s->n_blocks; b++) {
        for (uint32_t c = 0; c < s->n_cols; c++) {
            const tlf_block_info *bi = &s->blocks[(uint64_t)c * s->n_blocks + b];
            uint64_t h = tlf_xxh3(s->base + bi->offset, (size_t)bi->length);
            if (h != bi->checksum)
                return blk_fail(s, c, b, bi->offset, err, TL_ECHECKSUM,
                                "block checksum mismatch: expected 0x%016llx, found 0x%016llx",
                                (unsigned long long)bi->checksum, (unsigned long long)h);
        }
    }
    return TL_OK;
}

void tlf_seg_decode_needs(const tlf_seg *s, uint32_t col, uint32_t blk, size_t *buf_bytes,
                          size_t *data_bytes, size_t *valid_bytes)
{
    assert(col < s->n_cols && blk < s->n_blocks);
    const tlf_block_info *bi = &s->blocks[(uint64_t)col * s->n_blocks + blk];
    int type = s->cols[col].info.type;
    size_t n = bi->n_rows;
    if (buf_bytes)
        *buf_bytes = type == TL_STRING ? 4 * (n + 1) : n * tl_type_width(type);
    if (data_bytes)
        *data_bytes = type == TL_STRING ? (size_t)bi->decoded_bytes : 0;
    if (valid_bytes)
        *valid_bytes = bi->null_count ? (n + 7) / 8 : 0;
}
