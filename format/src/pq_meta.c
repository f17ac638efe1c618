/*
 * pq_meta.c - Parquet metadata (parquet.thrift) decoded from and encoded to
 * the Thrift compact protocol (pq_thrift.c). Field ids and types:
 *
 *   FileMetaData   1 version i32 R, 2 schema list<SchemaElement> R,
 *                  3 num_rows i64 R, 4 row_groups list<RowGroup> R,
 *                  5 key_value_metadata list<KeyValue>, 6 created_by string,
 *                  7 column_orders list<ColumnOrder>, 8 encryption_algorithm
 *                  union, 9 footer_signing_key_metadata binary
 *   SchemaElement  1 type i32, 2 type_length i32, 3 repetition_type i32,
 *                  4 name string R, 5 num_children i32, 6 converted_type i32,
 *                  7 scale i32, 8 precision i32, 9 field_id i32,
 *                  10 logicalType union
 *   LogicalType    union: 1 STRING 2 MAP 3 LIST 4 ENUM 5 DECIMAL{1 scale i32
 *                  R, 2 precision i32 R} 6 DATE 7 TIME{1 isAdjustedToUTC
 *                  bool R, 2 unit TimeUnit R} 8 TIMESTAMP{same} 10 INTEGER{1
 *                  bitWidth i8 R, 2 isSigned bool R} 11 UNKNOWN 12 JSON
 *                  13 BSON 14 UUID 15 FLOAT16 16 VARIANT{1 version i8}
 *                  17 GEOMETRY{1 crs string} 18 GEOGRAPHY{1 crs string,
 *                  2 algorithm i32} 19 VECTOR; TimeUnit union: 1 MILLIS
 *                  2 MICROS 3 NANOS (empty structs)
 *   RowGroup       1 columns list<ColumnChunk> R, 2 total_byte_size i64 R,
 *                  3 num_rows i64 R, 4 sorting_columns list<SortingColumn>,
 *                  5 file_offset i64, 6 total_compressed_size i64,
 *                  7 ordinal i16
 *   ColumnChunk    1 file_path string, 2 file_offset i64 R, 3 meta_data
 *                  ColumnMetaData, 4 offset_index_offset i64,
 *                  5 offset_index_length i32, 6 column_index_offset i64,
 *                  7 column_index_length i32, 8 crypto_metadata union,
 *                  9 encrypted_column_metadata binary
 *   ColumnMetaData 1 type i32 R, 2 encodings list<i32> R, 3 path_in_schema
 *                  list<string> R, 4 codec i32 R, 5 num_values i64 R,
 *                  6 total_uncompressed_size i64 R, 7 total_compressed_size
 *                  i64 R, 8 key_value_metadata list<KeyValue>,
 *                  9 data_page_offset i64 R, 10 index_page_offset i64,
 *                  11 dictionary_page_offset i64, 12 statistics,
 *                  13 encoding_stats list<PageEncodingStats{1 page_type i32
 *                  R, 2 encoding i32 R, 3 count i32 R}>, 14 bloom_filter_
 *                  offset i64, 15 bloom_filter_length i32, 16 size_statistics,
 *                  17 geospatial_statistics
 *   Statistics     1 max, 2 min, 5 max_value, 6 min_value binary; 3
 *                  null_count, 4 distinct_count, 9 nan_count i64; 7
 *                  is_max_value_exact, 8 is_min_value_exact bool
 *   KeyValue       1 key string R, 2 value string
 *   SortingColumn  1 column_idx i32 R, 2 descending bool R, 3 nulls_first
 *                  bool R
 *   ColumnOrder    union: 1 TYPE_ORDER 2 IEEE_754_TOTAL_ORDER
 *                  3 INT96_TIMESTAMP_ORDER (empty structs)
 *   PageHeader     1 type i32 R, 2 uncompressed_page_size i32 R,
 *                  3 compressed_page_size i32 R, 4 crc i32, 5 data_page_header,
 *                  6 index_page_header, 7 dictionary_page_header,
 *                  8 data_page_header_v2
 *   DataPageHeader 1 num_values i32 R, 2 encoding R, 3 definition_level_
 *                  encoding R, 4 repetition_level_encoding R (i32),
 *                  5 statistics
 *   DictionaryPageHeader 1 num_values i32 R, 2 encoding i32 R, 3 is_sorted
 *   DataPageHeaderV2 1 num_values, 2 num_nulls, 3 num_rows, 4 encoding,
 *                  5 definition_levels_byte_length, 6 repetition_levels_
 *                  byte_length (i32 R), 7 is_compressed bool (default true),
 *                  8 statistics
 *   ColumnIndex    1 null_pages list<bool> R, 2 min_values list<binary> R,
 *                  3 max_values list<binary> R, 4 boundary_order i32 R,
 *                  5 null_counts list<i64>, 8 nan_counts list<i64>
 *   OffsetIndex    1 page_locations list<PageLocation{1 offset i64 R,
 *                  2 compressed_page_size i32 R, 3 first_row_index i64 R}> R,
 *                  2 unencoded_byte_array_data_bytes list<i64>
 *
 * Decoder invariants: a field of an unexpected wire type (or a list of an
 * unexpected element type) is skipped as if unknown; required fields are
 * tracked in a bit mask checked at STOP; the current path is kept on a
 * frame stack and written in front of the first error message; list
 * elements are decoded into a heap vector that grows with the elements
 * actually present (never sized by the declared count alone) and then
 * copied into the arena.
 */
#include "pq_meta.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_thrift.h"

/* ---- arena ----------------------------------------------------------------- */

struct tlf_pqm_arena {
    struct tlf_pqm_arena *next; /* older blocks */
    size_t used, cap;
    uint8_t *mem;
};

#define ARENA_BLOCK (64u * 1024u)

static void arena_free(tlf_pqm_arena *a)
{
    while (a) {
        tlf_pqm_arena *n = a->next;
        free(a);
        a = n;
    }
}

/* Zeroed, 8-byte aligned memory; *a may be NULL (no block yet). A request
 * larger than a quarter block gets its own block, linked behind the head
 * so the head keeps serving small requests. */
static void *arena_alloc(tlf_pqm_arena **a, size_t n)
{
    n = n ? (n + 7) & ~(size_t)7 : 8;
    tlf_pqm_arena *h = *a;
    if (h && h->cap - h->used >= n) {
        void *p = h->mem + h->used;
        h->used += n;
        memset(p, 0, n);
        return p;
    }
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    if (n > ARENA_BLOCK / 4 && h)
        cap = n;
    if (cap > SIZE_MAX - sizeof(tlf_pqm_arena) - 8)
        return NULL;
    tlf_pqm_arena *b = malloc(sizeof *b + cap + 8);
    if (!b)
        return NULL;
    b->mem = (uint8_t *)(((uintptr_t)(b + 1) + 7) & ~(uintptr_t)7);
    b->cap = cap;
    b->used = n;
    if (cap == n && h) {
        b->next = h->next;
        h->next = b;
    } else {
        b->next = h;
        *a = b;
    }
    memset(b->mem, 0, n);
    return b->mem;
}

/* ---- decoding context -------------------------------------------------------- */

typedef struct frame {
    const char *name; /* NULL: unknown field */
    int16_t fid;      /* 0: a root */
    int64_t idx;      /* list index or -1 */
} frame;

#define MAX_FRAMES 48

typedef struct dctx {
    tlf_thr_reader r;
    tl_error *err;
    tlf_pqm_arena *arena;
    int copy;        /* 1: binaries/strings copied into the arena */
    int prefixed;    /* the path is already in err */
    size_t vstart;   /* position of the value being decoded */
    int nf;
    frame f[MAX_FRAMES];
} dctx;

static void path_str(const dctx *c, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < c->nf && n < cap; i++) {
        const frame *f = &c->f[i];
        int k;
        if (i == 0)
            k = snprintf(buf + n, cap - n, "%s", f->name);
        else if (f->name)
            k = snprintf(buf + n, cap - n, ".%s", f->name);
        else
            k = snprintf(buf + n, cap - n, ".<field %d>", f->fid);
        if (k < 0)
            return;
        n += (size_t)k;
        if (n < cap && f->idx >= 0) {
            k = snprintf(buf + n, cap - n, "[%lld]", (long long)f->idx);
            if (k < 0)
                return;
            n += (size_t)k;
        }
    }
    if (c->nf > 1 && n < cap) {
        const frame *f = &c->f[c->nf - 1];
        if (f->fid != 0 && f->name && f->idx < 0)
            snprintf(buf + n, cap - n, " (field %d)", f->fid);
    }
}

/* Put the path in front of the first error and forward rc. */
static int fail(dctx *c, int rc)
{
    if (!c->prefixed) {
        char path[256];
        path_str(c, path, sizeof path);
        tl_error_prefix(c->err, "%s: ", path);
        c->prefixed = 1;
    }
    return rc;
}

/* A semantic error about the value starting at c->vstart. */
static int bad(dctx *c, int code, const char *fmt, ...) TL_PRINTF(3, 4);
static int bad(dctx *c, int code, const char *fmt, ...)
{
    char msg[TL_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tl_error_set(c->err, code, "%s at byte %llu", msg,
                 (unsigned long long)(c->r.base + c->vstart));
    return fail(c, code);
}

static int push(dctx *c, const char *name, int16_t fid)
{
    if (c->nf >= MAX_FRAMES) {
        c->vstart = c->r.pos;
        return bad(c, TL_ECORRUPT, "metadata nested too deeply");
    }
    c->f[c->nf].name = name;
    c->f[c->nf].fid = fid;
    c->f[c->nf].idx = -1;
    c->nf++;
    return TL_OK;
}

static void pop(dctx *c)
{
    c->nf--;
}

#define TRY(expr)                                                              \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_)                                                               \
            return fail(c, rc_);                                               \
    } while (0)

/* ---- field helpers: > 0 decoded, 0 wire type mismatch (skip), < 0 error --- */

static int rd_str_into(dctx *c, tlf_pqm_str *out)
{
    const uint8_t *p;
    uint32_t n;
    TRY(tlf_thr_read_binary(&c->r, &p, &n, c->err));
    if (c->copy) {
        char *s = arena_alloc(&c->arena, (size_t)n + 1);
        if (!s)
            return bad(c, TL_ENOMEM, "out of memory for a %u-byte string", n);
        memcpy(s, p, n);
        s[n] = 0;
        out->s = s;
    } else {
        out->s = (const char *)p;
    }
    out->len = n;
    return TL_OK;
}

static int rd_bin_into(dctx *c, tlf_pqm_bin *out)
{
    tlf_pqm_str s = {0};
    int rc = rd_str_into(c, &s);
    if (rc)
        return rc;
    out->p = (const uint8_t *)s.s;
    out->len = s.len;
    return TL_OK;
}

static int f_i64(dctx *c, int t, int16_t fid, const char *name, int64_t *v,
                 uint8_t *has, int nonneg)
{
    if (t != TLF_THR_I64)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(tlf_thr_read_i64(&c->r, v, c->err));
    if (nonneg && *v < 0)
        return bad(c, TL_ECORRUPT, "negative value %lld", (long long)*v);
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

static int f_i32(dctx *c, int t, int16_t fid, const char *name, int32_t *v,
                 uint8_t *has, int nonneg)
{
    if (t != TLF_THR_I32)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(tlf_thr_read_i32(&c->r, v, c->err));
    if (nonneg && *v < 0)
        return bad(c, TL_ECORRUPT, "negative value %d", (int)*v);
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

static int check_physical(dctx *c, int32_t v)
{
    if (v < TLF_PQM_BOOLEAN || v > TLF_PQM_FIXED_LEN_BYTE_ARRAY)
        return bad(c, TL_ECORRUPT,
                   "invalid physical type %d (expected 0..7, BOOLEAN.."
                   "FIXED_LEN_BYTE_ARRAY)",
                   (int)v);
    return TL_OK;
}

static int f_type(dctx *c, int t, int16_t fid, const char *name, int32_t *v,
                  uint8_t *has)
{
    if (t != TLF_THR_I32)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(tlf_thr_read_i32(&c->r, v, c->err));
    TRY(check_physical(c, *v));
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

static int f_i16(dctx *c, int t, int16_t fid, const char *name, int16_t *v,
                 uint8_t *has)
{
    if (t != TLF_THR_I16)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(tlf_thr_read_i16(&c->r, v, c->err));
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

static int f_i8(dctx *c, int t, int16_t fid, const char *name, int8_t *v,
                uint8_t *has)
{
    if (t != TLF_THR_BYTE)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(tlf_thr_read_byte(&c->r, v, c->err));
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

static int f_bool(int t, uint8_t *v, uint8_t *has)
{
    if (t != TLF_THR_TRUE && t != TLF_THR_FALSE)
        return 0;
    *v = t == TLF_THR_TRUE;
    if (has)
        *has = 1;
    return 1;
}

static int f_str(dctx *c, int t, int16_t fid, const char *name,
                 tlf_pqm_str *v, uint8_t *has)
{
    if (t != TLF_THR_BINARY)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(rd_str_into(c, v));
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

static int f_bin(dctx *c, int t, int16_t fid, const char *name,
                 tlf_pqm_bin *v, uint8_t *has)
{
    if (t != TLF_THR_BINARY)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    TRY(rd_bin_into(c, v));
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

typedef int (*dec_fn)(dctx *c, void *elem);

/* A struct-valued field: > 0 decoded, 0 mismatch, < 0 error. */
static int f_struct(dctx *c, int t, int16_t fid, const char *name, dec_fn fn,
                    void *v, uint8_t *has)
{
    if (t != TLF_THR_STRUCT)
        return 0;
    TRY(push(c, name, fid));
    int rc = fn(c, v);
    if (rc)
        return fail(c, rc);
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

/* A list field of elements of wire type et, each decoded by fn into
 * elem_size bytes; the array ends up in the arena (or, without one, the
 * heap vector is handed over: only page headers decode without an arena
 * and they have no lists). */
static int f_list(dctx *c, int t, int16_t fid, const char *name, int want_et,
                  size_t elem_size, dec_fn fn, const void **out, uint32_t *n_out,
                  uint8_t *has)
{
    if (t != TLF_THR_LIST && t != TLF_THR_SET)
        return 0;
    TRY(push(c, name, fid));
    c->vstart = c->r.pos;
    int et;
    uint32_t n;
    TRY(tlf_thr_list_begin(&c->r, &et, &n, c->err));
    if (et != want_et) {
        /* mistyped: skip the elements, treat the field as absent */
        for (uint32_t i = 0; i < n; i++) {
            c->f[c->nf - 1].idx = i;
            TRY(tlf_thr_skip(&c->r, et, 1, c->err));
        }
        tlf_thr_list_end(&c->r);
        pop(c);
        return 2; /* consumed, not decoded */
    }
    uint8_t *vec = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < n; i++) {
        c->f[c->nf - 1].idx = i;
        if (i == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            if (ncap > n)
                ncap = n;
            uint8_t *nv = realloc(vec, ncap * elem_size);
            if (!nv) {
                free(vec);
                return bad(c, TL_ENOMEM, "out of memory for %u list elements", n);
            }
            vec = nv;
            cap = ncap;
        }
        uint8_t *e = vec + (size_t)i * elem_size;
        memset(e, 0, elem_size);
        int rc = fn(c, e);
        if (rc) {
            free(vec);
            return fail(c, rc);
        }
    }
    c->f[c->nf - 1].idx = -1;
    tlf_thr_list_end(&c->r);
    void *dst = NULL;
    if (n > 0) {
        dst = arena_alloc(&c->arena, (size_t)n * elem_size);
        if (!dst) {
            free(vec);
            return bad(c, TL_ENOMEM, "out of memory for %u list elements", n);
        }
        memcpy(dst, vec, (size_t)n * elem_size);
    }
    free(vec);
    *out = dst;
    *n_out = n;
    pop(c);
    if (has)
        *has = 1;
    return 1;
}

/* Primitive list elements. */
static int el_i32(dctx *c, void *e)
{
    c->vstart = c->r.pos;
    return tlf_thr_read_i32(&c->r, e, c->err);
}

static int el_i64_nonneg(dctx *c, void *e)
{
    c->vstart = c->r.pos;
    int rc = tlf_thr_read_i64(&c->r, e, c->err);
    if (rc)
        return rc;
    if (*(int64_t *)e < 0)
        return bad(c, TL_ECORRUPT, "negative value %lld",
                   (long long)*(int64_t *)e);
    return TL_OK;
}

static int el_i64(dctx *c, void *e)
{
    c->vstart = c->r.pos;
    return tlf_thr_read_i64(&c->r, e, c->err);
}

static int el_str(dctx *c, void *e)
{
    c->vstart = c->r.pos;
    return rd_str_into(c, e);
}

static int el_bin(dctx *c, void *e)
{
    c->vstart = c->r.pos;
    return rd_bin_into(c, e);
}

static int el_bool(dctx *c, void *e)
{
    c->vstart = c->r.pos;
    return tlf_thr_read_bool_elem(&c->r, e, c->err);
}

/* Skip the value of a field not decoded (unknown id or mistyped). */
static int skip_field(dctx *c, int t, int16_t fid)
{
    TRY(push(c, NULL, fid));
    TRY(tlf_thr_skip(&c->r, t, 0, c->err));
    pop(c);
    return TL_OK;
}

/* Field loop scaffolding: the body sets `got` (> 0 decoded or consumed) */
#define FIELDS_BEGIN                                                           \
    TRY(tlf_thr_struct_begin(&c->r, c->err));                                  \
    for (;;) {                                                                 \
        int t;                                                                 \
        int16_t fid;                                                           \
        c->vstart = c->r.pos;                                                  \
        TRY(tlf_thr_field(&c->r, &t, &fid, c->err));                           \
        if (t == TLF_THR_STOP)                                                 \
            break;                                                             \
        int got = 0;                                                           \
        switch (fid) {

#define FIELDS_END                                                             \
        }                                                                      \
        if (got < 0)                                                           \
            return got;                                                        \
        if (got == 1)                                                          \
            seen |= 1ull << (fid & 63);                                        \
        else if (got == 0)                                                     \
            TRY(skip_field(c, t, fid));                                        \
    }                                                                          \
    tlf_thr_struct_end(&c->r);

/* Missing required fields: names[i] for field id ids[i]. */
static int require(dctx *c, uint64_t seen, const int *ids,
                   const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!(seen & (1ull << ids[i]))) {
            c->vstart = c->r.pos - 1; /* the STOP byte */
            return bad(c, TL_ECORRUPT, "missing required field %s (field %d)",
                       names[i], ids[i]);
        }
    return TL_OK;
}

#define REQUIRE(...)                                                           \
    do {                                                                       \
        static const struct {                                                  \
            int id;                                                            \
            const char *name;                                                  \
        } req_[] = {__VA_ARGS__};                                              \
        int ids_[sizeof req_ / sizeof req_[0]];                                \
        const char *names_[sizeof req_ / sizeof req_[0]];                      \
        for (size_t i_ = 0; i_ < sizeof req_ / sizeof req_[0]; i_++) {         \
            ids_[i_] = req_[i_].id;                                            \
            names_[i_] = req_[i_].name;                                        \
        }                                                                      \
        TRY(require(c, seen, ids_, names_, (int)(sizeof req_ / sizeof req_[0]))); \
    } while (0)

/* ---- struct decoders ----------------------------------------------------------- */

/* structs without required fields: the mask is not checked */
static void no_required(uint64_t seen)
{
    (void)seen;
}

static int dec_empty(dctx *c, void *unused)
{
    (void)unused;
    uint64_t seen = 0;
    FIELDS_BEGIN
    FIELDS_END
    no_required(seen);
    return TL_OK;
}

static int dec_stats(dctx *c, void *v)
{
    tlf_pqm_stats *s = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_bin(c, t, fid, "max", &s->max, &s->has_max); break;
    case 2: got = f_bin(c, t, fid, "min", &s->min, &s->has_min); break;
    case 3:
        got = f_i64(c, t, fid, "null_count", &s->null_count, &s->has_null_count, 1);
        break;
    case 4:
        got = f_i64(c, t, fid, "distinct_count", &s->distinct_count,
                    &s->has_distinct_count, 1);
        break;
    case 5:
        got = f_bin(c, t, fid, "max_value", &s->max_value, &s->has_max_value);
        break;
    case 6:
        got = f_bin(c, t, fid, "min_value", &s->min_value, &s->has_min_value);
        break;
    case 7:
        got = f_bool(t, &s->is_max_value_exact, &s->has_is_max_value_exact);
        break;
    case 8:
        got = f_bool(t, &s->is_min_value_exact, &s->has_is_min_value_exact);
        break;
    case 9:
        got = f_i64(c, t, fid, "nan_count", &s->nan_count, &s->has_nan_count, 1);
        break;
    FIELDS_END
    no_required(seen);
    return TL_OK;
}

static int dec_kv(dctx *c, void *v)
{
    tlf_pqm_kv *kv = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_str(c, t, fid, "key", &kv->key, NULL); break;
    case 2: got = f_str(c, t, fid, "value", &kv->value, &kv->has_value); break;
    FIELDS_END
    REQUIRE({1, "key"});
    return TL_OK;
}

/* A union: the first member with a struct value; members of another wire
 * type are skipped. *id = 0 if none. */
static int dec_time_unit(dctx *c, void *v)
{
    int32_t *unit = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    default:
        if (t == TLF_THR_STRUCT && *unit == 0) {
            *unit = fid;
            TRY(push(c, fid == 1 ? "MILLIS" : fid == 2 ? "MICROS"
                      : fid == 3 ? "NANOS" : NULL, fid));
            TRY(dec_empty(c, NULL));
            pop(c);
            got = 2;
        }
        break;
    FIELDS_END
    no_required(seen);
    if (*unit == 0) {
        c->vstart = c->r.pos - 1;
        return bad(c, TL_ECORRUPT, "TimeUnit union has no member");
    }
    return TL_OK;
}

static int dec_time(dctx *c, void *v) /* TimeType and TimestampType */
{
    tlf_pqm_logical *lt = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_bool(t, &lt->is_adjusted_to_utc, NULL); break;
    case 2: got = f_struct(c, t, fid, "unit", dec_time_unit, &lt->unit, NULL); break;
    FIELDS_END
    REQUIRE({1, "isAdjustedToUTC"}, {2, "unit"});
    return TL_OK;
}

static int dec_decimal(dctx *c, void *v)
{
    tlf_pqm_logical *lt = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "scale", &lt->dec_scale, NULL, 0); break;
    case 2: got = f_i32(c, t, fid, "precision", &lt->dec_precision, NULL, 0); break;
    FIELDS_END
    REQUIRE({1, "scale"}, {2, "precision"});
    return TL_OK;
}

static int dec_int(dctx *c, void *v)
{
    tlf_pqm_logical *lt = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i8(c, t, fid, "bitWidth", &lt->bit_width, NULL); break;
    case 2: got = f_bool(t, &lt->is_signed, NULL); break;
    FIELDS_END
    REQUIRE({1, "bitWidth"}, {2, "isSigned"});
    return TL_OK;
}

static int dec_variant(dctx *c, void *v)
{
    tlf_pqm_logical *lt = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1:
        got = f_i8(c, t, fid, "specification_version", &lt->spec_version,
                   &lt->has_spec_version);
        break;
    FIELDS_END
    no_required(seen);
    return TL_OK;
}

static int dec_geo(dctx *c, void *v)
{
    tlf_pqm_logical *lt = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_str(c, t, fid, "crs", &lt->crs, &lt->has_crs); break;
    case 2:
        if (lt->id == TLF_PQM_LT_GEOGRAPHY)
            got = f_i32(c, t, fid, "algorithm", &lt->algorithm,
                        &lt->has_algorithm, 0);
        break;
    FIELDS_END
    no_required(seen);
    return TL_OK;
}

static const char *lt_member_name(int id)
{
    static const char *const names[] = {
        NULL,      "STRING",  "MAP",     "LIST",    "ENUM",      "DECIMAL",
        "DATE",    "TIME",    "TIMESTAMP", NULL,    "INTEGER",   "UNKNOWN",
        "JSON",    "BSON",    "UUID",    "FLOAT16", "VARIANT",   "GEOMETRY",
        "GEOGRAPHY", "VECTOR"};
    return id > 0 && id < (int)(sizeof names / sizeof names[0]) ? names[id] : NULL;
}

static int dec_logical(dctx *c, void *v)
{
    tlf_pqm_logical *lt = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    default:
        if (t != TLF_THR_STRUCT || lt->id != 0)
            break;
        {
            lt->id = fid;
            const char *nm = lt_member_name(fid);
            lt->known = nm != NULL;
            dec_fn fn = dec_empty;
            switch (fid) {
            case TLF_PQM_LT_DECIMAL: fn = dec_decimal; break;
            case TLF_PQM_LT_TIME:
            case TLF_PQM_LT_TIMESTAMP: fn = dec_time; break;
            case TLF_PQM_LT_INTEGER: fn = dec_int; break;
            case TLF_PQM_LT_VARIANT: fn = dec_variant; break;
            case TLF_PQM_LT_GEOMETRY:
            case TLF_PQM_LT_GEOGRAPHY: fn = dec_geo; break;
            default: break;
            }
            if (!nm) {
                TRY(skip_field(c, t, fid));
            } else {
                TRY(push(c, nm, fid));
                TRY(fn(c, lt));
                pop(c);
            }
            got = 2;
        }
        break;
    FIELDS_END
    no_required(seen);
    if (lt->id == 0) {
        c->vstart = c->r.pos - 1;
        return bad(c, TL_ECORRUPT, "LogicalType union has no member");
    }
    return TL_OK;
}

static int dec_schema_elem(dctx *c, void *v)
{
    tlf_pqm_schema_elem *e = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_type(c, t, fid, "type", &e->type, &e->has_type); break;
    case 2:
        got = f_i32(c, t, fid, "type_length", &e->type_length,
                    &e->has_type_length, 0);
        break;
    case 3:
        got = f_i32(c, t, fid, "repetition_type", &e->repetition,
                    &e->has_repetition, 0);
        break;
    case 4: got = f_str(c, t, fid, "name", &e->name, NULL); break;
    case 5:
        got = f_i32(c, t, fid, "num_children", &e->num_children,
                    &e->has_num_children, 1);
        break;
    case 6:
        got = f_i32(c, t, fid, "converted_type", &e->converted_type,
                    &e->has_converted_type, 0);
        break;
    case 7: got = f_i32(c, t, fid, "scale", &e->scale, &e->has_scale, 0); break;
    case 8:
        got = f_i32(c, t, fid, "precision", &e->precision, &e->has_precision, 0);
        break;
    case 9:
        got = f_i32(c, t, fid, "field_id", &e->field_id, &e->has_field_id, 0);
        break;
    case 10:
        got = f_struct(c, t, fid, "logicalType", dec_logical, &e->logical,
                       &e->has_logical);
        break;
    FIELDS_END
    REQUIRE({4, "name"});
    return TL_OK;
}

static int dec_enc_stats(dctx *c, void *v)
{
    tlf_pqm_page_enc_stats *s = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "page_type", &s->page_type, NULL, 0); break;
    case 2: got = f_i32(c, t, fid, "encoding", &s->encoding, NULL, 0); break;
    case 3: got = f_i32(c, t, fid, "count", &s->count, NULL, 1); break;
    FIELDS_END
    REQUIRE({1, "page_type"}, {2, "encoding"}, {3, "count"});
    return TL_OK;
}

static int dec_col_meta(dctx *c, void *v)
{
    tlf_pqm_col_meta *m = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_type(c, t, fid, "type", &m->type, NULL); break;
    case 2:
        got = f_list(c, t, fid, "encodings", TLF_THR_I32, sizeof(int32_t), el_i32,
                     (const void **)&m->encodings, &m->n_encodings, NULL);
        break;
    case 3:
        got = f_list(c, t, fid, "path_in_schema", TLF_THR_BINARY,
                     sizeof(tlf_pqm_str), el_str,
                     (const void **)&m->path_in_schema, &m->n_path, NULL);
        break;
    case 4: got = f_i32(c, t, fid, "codec", &m->codec, NULL, 0); break;
    case 5: got = f_i64(c, t, fid, "num_values", &m->num_values, NULL, 1); break;
    case 6:
        got = f_i64(c, t, fid, "total_uncompressed_size",
                    &m->total_uncompressed_size, NULL, 1);
        break;
    case 7:
        got = f_i64(c, t, fid, "total_compressed_size",
                    &m->total_compressed_size, NULL, 1);
        break;
    case 8:
        got = f_list(c, t, fid, "key_value_metadata", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_kv), dec_kv, (const void **)&m->kv, &m->n_kv,
                     &m->has_kv);
        break;
    case 9:
        got = f_i64(c, t, fid, "data_page_offset", &m->data_page_offset, NULL, 1);
        break;
    case 10:
        got = f_i64(c, t, fid, "index_page_offset", &m->index_page_offset,
                    &m->has_index_page_offset, 1);
        break;
    case 11:
        got = f_i64(c, t, fid, "dictionary_page_offset",
                    &m->dictionary_page_offset, &m->has_dictionary_page_offset, 1);
        break;
    case 12:
        got = f_struct(c, t, fid, "statistics", dec_stats, &m->statistics,
                       &m->has_statistics);
        break;
    case 13:
        got = f_list(c, t, fid, "encoding_stats", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_page_enc_stats), dec_enc_stats,
                     (const void **)&m->encoding_stats, &m->n_encoding_stats,
                     &m->has_encoding_stats);
        break;
    case 14:
        got = f_i64(c, t, fid, "bloom_filter_offset", &m->bloom_filter_offset,
                    &m->has_bloom_filter_offset, 1);
        break;
    case 15:
        got = f_i32(c, t, fid, "bloom_filter_length", &m->bloom_filter_length,
                    &m->has_bloom_filter_length, 1);
        break;
    case 16:
        if (t == TLF_THR_STRUCT)
            m->has_size_statistics = 1;
        break;
    case 17:
        if (t == TLF_THR_STRUCT)
            m->has_geospatial_statistics = 1;
        break;
    FIELDS_END
    REQUIRE({1, "type"}, {2, "encodings"}, {3, "path_in_schema"}, {4, "codec"},
            {5, "num_values"}, {6, "total_uncompressed_size"},
            {7, "total_compressed_size"}, {9, "data_page_offset"});
    return TL_OK;
}

static int dec_col_chunk(dctx *c, void *v)
{
    tlf_pqm_col_chunk *k = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1:
        got = f_str(c, t, fid, "file_path", &k->file_path, &k->has_file_path);
        break;
    case 2: got = f_i64(c, t, fid, "file_offset", &k->file_offset, NULL, 1); break;
    case 3:
        got = f_struct(c, t, fid, "meta_data", dec_col_meta, &k->meta_data,
                       &k->has_meta_data);
        break;
    case 4:
        got = f_i64(c, t, fid, "offset_index_offset", &k->offset_index_offset,
                    &k->has_offset_index_offset, 1);
        break;
    case 5:
        got = f_i32(c, t, fid, "offset_index_length", &k->offset_index_length,
                    &k->has_offset_index_length, 1);
        break;
    case 6:
        got = f_i64(c, t, fid, "column_index_offset", &k->column_index_offset,
                    &k->has_column_index_offset, 1);
        break;
    case 7:
        got = f_i32(c, t, fid, "column_index_length", &k->column_index_length,
                    &k->has_column_index_length, 1);
        break;
    case 8:
        if (t == TLF_THR_STRUCT)
            k->has_crypto_metadata = 1;
        break;
    case 9:
        if (t == TLF_THR_BINARY)
            k->has_encrypted_column_metadata = 1;
        break;
    FIELDS_END
    REQUIRE({2, "file_offset"});
    return TL_OK;
}

static int dec_sorting_col(dctx *c, void *v)
{
    tlf_pqm_sorting_col *s = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "column_idx", &s->column_idx, NULL, 1); break;
    case 2: got = f_bool(t, &s->descending, NULL); break;
    case 3: got = f_bool(t, &s->nulls_first, NULL); break;
    FIELDS_END
    REQUIRE({1, "column_idx"}, {2, "descending"}, {3, "nulls_first"});
    return TL_OK;
}

static int dec_row_group(dctx *c, void *v)
{
    tlf_pqm_row_group *g = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1:
        got = f_list(c, t, fid, "columns", TLF_THR_STRUCT, sizeof(tlf_pqm_col_chunk),
                     dec_col_chunk, (const void **)&g->columns, &g->n_columns,
                     NULL);
        break;
    case 2:
        got = f_i64(c, t, fid, "total_byte_size", &g->total_byte_size, NULL, 1);
        break;
    case 3: got = f_i64(c, t, fid, "num_rows", &g->num_rows, NULL, 1); break;
    case 4:
        got = f_list(c, t, fid, "sorting_columns", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_sorting_col), dec_sorting_col,
                     (const void **)&g->sorting_columns, &g->n_sorting_columns,
                     &g->has_sorting_columns);
        break;
    case 5:
        got = f_i64(c, t, fid, "file_offset", &g->file_offset, &g->has_file_offset,
                    1);
        break;
    case 6:
        got = f_i64(c, t, fid, "total_compressed_size", &g->total_compressed_size,
                    &g->has_total_compressed_size, 1);
        break;
    case 7: got = f_i16(c, t, fid, "ordinal", &g->ordinal, &g->has_ordinal); break;
    FIELDS_END
    REQUIRE({1, "columns"}, {2, "total_byte_size"}, {3, "num_rows"});
    return TL_OK;
}

static int dec_column_order(dctx *c, void *v)
{
    tlf_pqm_column_order *o = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    default:
        if (t == TLF_THR_STRUCT && o->id == 0) {
            o->id = fid;
            TRY(skip_field(c, t, fid));
            got = 2;
        }
        break;
    FIELDS_END
    no_required(seen);
    if (o->id == 0) {
        c->vstart = c->r.pos - 1;
        return bad(c, TL_ECORRUPT, "ColumnOrder union has no member");
    }
    return TL_OK;
}

static int dec_file(dctx *c, void *v)
{
    tlf_pqm_file *m = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "version", &m->version, NULL, 0); break;
    case 2:
        got = f_list(c, t, fid, "schema", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_schema_elem), dec_schema_elem,
                     (const void **)&m->schema, &m->n_schema, NULL);
        break;
    case 3: got = f_i64(c, t, fid, "num_rows", &m->num_rows, NULL, 1); break;
    case 4:
        got = f_list(c, t, fid, "row_groups", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_row_group), dec_row_group,
                     (const void **)&m->row_groups, &m->n_row_groups, NULL);
        break;
    case 5:
        got = f_list(c, t, fid, "key_value_metadata", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_kv), dec_kv, (const void **)&m->kv, &m->n_kv,
                     &m->has_kv);
        break;
    case 6:
        got = f_str(c, t, fid, "created_by", &m->created_by, &m->has_created_by);
        break;
    case 7:
        got = f_list(c, t, fid, "column_orders", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_column_order), dec_column_order,
                     (const void **)&m->column_orders, &m->n_column_orders,
                     &m->has_column_orders);
        break;
    case 8:
        if (t == TLF_THR_STRUCT)
            m->has_encryption_algorithm = 1;
        break;
    case 9:
        if (t == TLF_THR_BINARY)
            m->has_footer_signing_key_metadata = 1;
        break;
    FIELDS_END
    REQUIRE({1, "version"}, {2, "schema"}, {3, "num_rows"}, {4, "row_groups"});
    return TL_OK;
}

static int dec_data_page(dctx *c, void *v)
{
    tlf_pqm_data_page *d = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "num_values", &d->num_values, NULL, 1); break;
    case 2: got = f_i32(c, t, fid, "encoding", &d->encoding, NULL, 0); break;
    case 3:
        got = f_i32(c, t, fid, "definition_level_encoding",
                    &d->definition_level_encoding, NULL, 0);
        break;
    case 4:
        got = f_i32(c, t, fid, "repetition_level_encoding",
                    &d->repetition_level_encoding, NULL, 0);
        break;
    case 5:
        got = f_struct(c, t, fid, "statistics", dec_stats, &d->statistics,
                       &d->has_statistics);
        break;
    FIELDS_END
    REQUIRE({1, "num_values"}, {2, "encoding"}, {3, "definition_level_encoding"},
            {4, "repetition_level_encoding"});
    return TL_OK;
}

static int dec_dict_page(dctx *c, void *v)
{
    tlf_pqm_dict_page *d = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "num_values", &d->num_values, NULL, 1); break;
    case 2: got = f_i32(c, t, fid, "encoding", &d->encoding, NULL, 0); break;
    case 3: got = f_bool(t, &d->is_sorted, &d->has_is_sorted); break;
    FIELDS_END
    REQUIRE({1, "num_values"}, {2, "encoding"});
    return TL_OK;
}

static int dec_data_page_v2(dctx *c, void *v)
{
    tlf_pqm_data_page_v2 *d = v;
    uint64_t seen = 0;
    d->is_compressed = 1;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "num_values", &d->num_values, NULL, 1); break;
    case 2: got = f_i32(c, t, fid, "num_nulls", &d->num_nulls, NULL, 1); break;
    case 3: got = f_i32(c, t, fid, "num_rows", &d->num_rows, NULL, 1); break;
    case 4: got = f_i32(c, t, fid, "encoding", &d->encoding, NULL, 0); break;
    case 5:
        got = f_i32(c, t, fid, "definition_levels_byte_length",
                    &d->definition_levels_byte_length, NULL, 1);
        break;
    case 6:
        got = f_i32(c, t, fid, "repetition_levels_byte_length",
                    &d->repetition_levels_byte_length, NULL, 1);
        break;
    case 7: got = f_bool(t, &d->is_compressed, &d->has_is_compressed); break;
    case 8:
        got = f_struct(c, t, fid, "statistics", dec_stats, &d->statistics,
                       &d->has_statistics);
        break;
    FIELDS_END
    REQUIRE({1, "num_values"}, {2, "num_nulls"}, {3, "num_rows"}, {4, "encoding"},
            {5, "definition_levels_byte_length"},
            {6, "repetition_levels_byte_length"});
    return TL_OK;
}

static int dec_page_header(dctx *c, void *v)
{
    tlf_pqm_page_header *h = v;
    uint64_t seen = 0;
    h->data_page_v2.is_compressed = 1;
    FIELDS_BEGIN
    case 1: got = f_i32(c, t, fid, "type", &h->type, NULL, 0); break;
    case 2:
        got = f_i32(c, t, fid, "uncompressed_page_size", &h->uncompressed_page_size,
                    NULL, 1);
        break;
    case 3:
        got = f_i32(c, t, fid, "compressed_page_size", &h->compressed_page_size,
                    NULL, 1);
        break;
    case 4: {
        int32_t crc = 0;
        got = f_i32(c, t, fid, "crc", &crc, &h->has_crc, 0);
        h->crc = (uint32_t)crc;
        break;
    }
    case 5:
        got = f_struct(c, t, fid, "data_page_header", dec_data_page, &h->data_page,
                       &h->has_data_page);
        break;
    case 6:
        if (t == TLF_THR_STRUCT)
            h->has_index_page = 1;
        break;
    case 7:
        got = f_struct(c, t, fid, "dictionary_page_header", dec_dict_page,
                       &h->dict_page, &h->has_dict_page);
        break;
    case 8:
        got = f_struct(c, t, fid, "data_page_header_v2", dec_data_page_v2,
                       &h->data_page_v2, &h->has_data_page_v2);
        break;
    FIELDS_END
    REQUIRE({1, "type"}, {2, "uncompressed_page_size"},
            {3, "compressed_page_size"});
    return TL_OK;
}

static int dec_column_index(dctx *c, void *v)
{
    tlf_pqm_column_index *ci = v;
    uint64_t seen = 0;
    uint32_t n_null = 0, n_min = 0, n_max = 0, n_nc = 0, n_nan = 0;
    FIELDS_BEGIN
    case 1:
        got = f_list(c, t, fid, "null_pages", TLF_THR_TRUE, 1, el_bool,
                     (const void **)&ci->null_pages, &n_null, NULL);
        break;
    case 2:
        got = f_list(c, t, fid, "min_values", TLF_THR_BINARY, sizeof(tlf_pqm_bin),
                     el_bin, (const void **)&ci->min_values, &n_min, NULL);
        break;
    case 3:
        got = f_list(c, t, fid, "max_values", TLF_THR_BINARY, sizeof(tlf_pqm_bin),
                     el_bin, (const void **)&ci->max_values, &n_max, NULL);
        break;
    case 4:
        got = f_i32(c, t, fid, "boundary_order", &ci->boundary_order, NULL, 0);
        break;
    case 5:
        got = f_list(c, t, fid, "null_counts", TLF_THR_I64, sizeof(int64_t),
                     el_i64, (const void **)&ci->null_counts, &n_nc,
                     &ci->has_null_counts);
        break;
    case 8:
        got = f_list(c, t, fid, "nan_counts", TLF_THR_I64, sizeof(int64_t),
                     el_i64, (const void **)&ci->nan_counts, &n_nan,
                     &ci->has_nan_counts);
        break;
    FIELDS_END
    REQUIRE({1, "null_pages"}, {2, "min_values"}, {3, "max_values"},
            {4, "boundary_order"});
    c->vstart = c->r.pos - 1;
    if (n_min != n_null || n_max != n_null ||
        (ci->has_null_counts && n_nc != n_null) ||
        (ci->has_nan_counts && n_nan != n_null))
        return bad(c, TL_ECORRUPT,
                   "list lengths disagree: null_pages %u, min_values %u, "
                   "max_values %u, null_counts %u, nan_counts %u",
                   n_null, n_min, n_max, n_nc, n_nan);
    ci->n_pages = n_null;
    return TL_OK;
}

static int dec_page_location(dctx *c, void *v)
{
    tlf_pqm_page_location *l = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1: got = f_i64(c, t, fid, "offset", &l->offset, NULL, 1); break;
    case 2:
        got = f_i32(c, t, fid, "compressed_page_size", &l->compressed_page_size,
                    NULL, 1);
        break;
    case 3:
        got = f_i64(c, t, fid, "first_row_index", &l->first_row_index, NULL, 1);
        break;
    FIELDS_END
    REQUIRE({1, "offset"}, {2, "compressed_page_size"}, {3, "first_row_index"});
    return TL_OK;
}

static int dec_offset_index(dctx *c, void *v)
{
    tlf_pqm_offset_index *oi = v;
    uint64_t seen = 0;
    FIELDS_BEGIN
    case 1:
        got = f_list(c, t, fid, "page_locations", TLF_THR_STRUCT,
                     sizeof(tlf_pqm_page_location), dec_page_location,
                     (const void **)&oi->page_locations, &oi->n_pages, NULL);
        break;
    case 2:
        got = f_list(c, t, fid, "unencoded_byte_array_data_bytes", TLF_THR_I64,
                     sizeof(int64_t), el_i64_nonneg,
                     (const void **)&oi->unencoded_byte_array_data_bytes,
                     &oi->n_unencoded, &oi->has_unencoded_byte_array_data_bytes);
        break;
    FIELDS_END
    REQUIRE({1, "page_locations"});
    return TL_OK;
}

/* ---- public decoders ------------------------------------------------------------ */

static void ctx_init(dctx *c, const void *buf, size_t len, uint64_t base,
                     const char *root, int copy, tl_error *err)
{
    memset(c, 0, sizeof *c);
    tlf_thr_reader_init(&c->r, buf, len, base);
    c->err = err;
    c->copy = copy;
    c->f[0].name = root;
    c->f[0].idx = -1;
    c->nf = 1;
}

int tlf_pqm_decode_file(const void *buf, size_t len, uint64_t base,
                        tlf_pqm_file *out, tl_error *err)
{
    dctx c;
    ctx_init(&c, buf, len, base, "FileMetaData", 1, err);
    memset(out, 0, sizeof *out);
    int rc = dec_file(&c, out);
    if (rc) {
        arena_free(c.arena);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->arena = c.arena;
    return TL_OK;
}

void tlf_pqm_file_free(tlf_pqm_file *fm)
{
    if (!fm)
        return;
    arena_free(fm->arena);
    memset(fm, 0, sizeof *fm);
}

int tlf_pqm_decode_page_header(const void *buf, size_t len, uint64_t base,
                               tlf_pqm_page_header *out, size_t *consumed,
                               tl_error *err)
{
    dctx c;
    ctx_init(&c, buf, len, base, "PageHeader", 0, err);
    memset(out, 0, sizeof *out);
    int rc = dec_page_header(&c, out);
    arena_free(c.arena); /* never used without copy, but be safe */
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (consumed)
        *consumed = c.r.pos;
    return TL_OK;
}

int tlf_pqm_decode_column_index(const void *buf, size_t len, uint64_t base,
                                tlf_pqm_column_index *out, tl_error *err)
{
    dctx c;
    ctx_init(&c, buf, len, base, "ColumnIndex", 1, err);
    memset(out, 0, sizeof *out);
    int rc = dec_column_index(&c, out);
    if (rc) {
        arena_free(c.arena);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->arena = c.arena;
    return TL_OK;
}

void tlf_pqm_column_index_free(tlf_pqm_column_index *ci)
{
    if (!ci)
        return;
    arena_free(ci->arena);
    memset(ci, 0, sizeof *ci);
}

int tlf_pqm_decode_offset_index(const void *buf, size_t len, uint64_t base,
                                tlf_pqm_offset_index *out, tl_error *err)
{
    dctx c;
    ctx_init(&c, buf, len, base, "OffsetIndex", 1, err);
    memset(out, 0, sizeof *out);
    int rc = dec_offset_index(&c, out);
    if (rc) {
        arena_free(c.arena);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->arena = c.arena;
    return TL_OK;
}

void tlf_pqm_offset_index_free(tlf_pqm_offset_index *oi)
{
    if (!oi)
        return;
    arena_free(oi->arena);
    memset(oi, 0, sizeof *oi);
}

/* ---- encoders ------------------------------------------------------------------ */

typedef tlf_thr_writer W;

static int enc_check(W *w, const void *p, uint32_t n, const char *what)
{
    if (n > 0 && !p && !w->rc)
        w->rc = tl_error_set(w->err, TL_EINVAL,
                             "parquet metadata encoder: %s: NULL array with %u "
                             "elements",
                             what, n);
    return w->rc;
}

static void w_str(W *w, int16_t fid, tlf_pqm_str s)
{
    tlf_thr_w_field_binary(w, fid, s.s, s.len);
}

static void w_bin(W *w, int16_t fid, tlf_pqm_bin b)
{
    tlf_thr_w_field_binary(w, fid, b.p, b.len);
}

static void enc_empty(W *w, int16_t fid)
{
    tlf_thr_w_field(w, fid, TLF_THR_STRUCT);
    tlf_thr_w_struct_begin(w);
    tlf_thr_w_struct_end(w);
}

static void enc_stats(W *w, int16_t fid, const tlf_pqm_stats *s)
{
    tlf_thr_w_field(w, fid, TLF_THR_STRUCT);
    tlf_thr_w_struct_begin(w);
    if (s->has_max)
        w_bin(w, 1, s->max);
    if (s->has_min)
        w_bin(w, 2, s->min);
    if (s->has_null_count)
        tlf_thr_w_field_i64(w, 3, s->null_count);
    if (s->has_distinct_count)
        tlf_thr_w_field_i64(w, 4, s->distinct_count);
    if (s->has_max_value)
        w_bin(w, 5, s->max_value);
    if (s->has_min_value)
        w_bin(w, 6, s->min_value);
    if (s->has_is_max_value_exact)
        tlf_thr_w_field_bool(w, 7, s->is_max_value_exact);
    if (s->has_is_min_value_exact)
        tlf_thr_w_field_bool(w, 8, s->is_min_value_exact);
    if (s->has_nan_count)
        tlf_thr_w_field_i64(w, 9, s->nan_count);
    tlf_thr_w_struct_end(w);
}

static void enc_kvs(W *w, int16_t fid, const tlf_pqm_kv *kv, uint32_t n)
{
    if (enc_check(w, kv, n, "key_value_metadata"))
        return;
    tlf_thr_w_field(w, fid, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_STRUCT, n);
    for (uint32_t i = 0; i < n; i++) {
        tlf_thr_w_struct_begin(w);
        w_str(w, 1, kv[i].key);
        if (kv[i].has_value)
            w_str(w, 2, kv[i].value);
        tlf_thr_w_struct_end(w);
    }
}

static void enc_logical(W *w, int16_t fid, const tlf_pqm_logical *lt)
{
    tlf_thr_w_field(w, fid, TLF_THR_STRUCT);
    tlf_thr_w_struct_begin(w);
    int16_t id = (int16_t)lt->id;
    tlf_thr_w_field(w, id, TLF_THR_STRUCT);
    tlf_thr_w_struct_begin(w);
    switch (lt->id) {
    case TLF_PQM_LT_DECIMAL:
        tlf_thr_w_field_i32(w, 1, lt->dec_scale);
        tlf_thr_w_field_i32(w, 2, lt->dec_precision);
        break;
    case TLF_PQM_LT_TIME:
    case TLF_PQM_LT_TIMESTAMP:
        tlf_thr_w_field_bool(w, 1, lt->is_adjusted_to_utc);
        tlf_thr_w_field(w, 2, TLF_THR_STRUCT);
        tlf_thr_w_struct_begin(w);
        enc_empty(w, (int16_t)lt->unit);
        tlf_thr_w_struct_end(w);
        break;
    case TLF_PQM_LT_INTEGER:
        tlf_thr_w_field_byte(w, 1, lt->bit_width);
        tlf_thr_w_field_bool(w, 2, lt->is_signed);
        break;
    case TLF_PQM_LT_VARIANT:
        if (lt->has_spec_version)
            tlf_thr_w_field_byte(w, 1, lt->spec_version);
        break;
    case TLF_PQM_LT_GEOMETRY:
    case TLF_PQM_LT_GEOGRAPHY:
        if (lt->has_crs)
            w_str(w, 1, lt->crs);
        if (lt->id == TLF_PQM_LT_GEOGRAPHY && lt->has_algorithm)
            tlf_thr_w_field_i32(w, 2, lt->algorithm);
        break;
    default:
        break;
    }
    tlf_thr_w_struct_end(w);
    tlf_thr_w_struct_end(w);
}

static void enc_schema(W *w, const tlf_pqm_schema_elem *e)
{
    tlf_thr_w_struct_begin(w);
    if (e->has_type)
        tlf_thr_w_field_i32(w, 1, e->type);
    if (e->has_type_length)
        tlf_thr_w_field_i32(w, 2, e->type_length);
    if (e->has_repetition)
        tlf_thr_w_field_i32(w, 3, e->repetition);
    w_str(w, 4, e->name);
    if (e->has_num_children)
        tlf_thr_w_field_i32(w, 5, e->num_children);
    if (e->has_converted_type)
        tlf_thr_w_field_i32(w, 6, e->converted_type);
    if (e->has_scale)
        tlf_thr_w_field_i32(w, 7, e->scale);
    if (e->has_precision)
        tlf_thr_w_field_i32(w, 8, e->precision);
    if (e->has_field_id)
        tlf_thr_w_field_i32(w, 9, e->field_id);
    if (e->has_logical)
        enc_logical(w, 10, &e->logical);
    tlf_thr_w_struct_end(w);
}

static void enc_col_meta(W *w, int16_t fid, const tlf_pqm_col_meta *m)
{
    if (enc_check(w, m->encodings, m->n_encodings, "encodings") ||
        enc_check(w, m->path_in_schema, m->n_path, "path_in_schema") ||
        enc_check(w, m->encoding_stats, m->has_encoding_stats ? m->n_encoding_stats : 0,
                  "encoding_stats"))
        return;
    tlf_thr_w_field(w, fid, TLF_THR_STRUCT);
    tlf_thr_w_struct_begin(w);
    tlf_thr_w_field_i32(w, 1, m->type);
    tlf_thr_w_field(w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_I32, m->n_encodings);
    for (uint32_t i = 0; i < m->n_encodings; i++)
        tlf_thr_w_i32(w, m->encodings[i]);
    tlf_thr_w_field(w, 3, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_BINARY, m->n_path);
    for (uint32_t i = 0; i < m->n_path; i++)
        tlf_thr_w_binary(w, m->path_in_schema[i].s, m->path_in_schema[i].len);
    tlf_thr_w_field_i32(w, 4, m->codec);
    tlf_thr_w_field_i64(w, 5, m->num_values);
    tlf_thr_w_field_i64(w, 6, m->total_uncompressed_size);
    tlf_thr_w_field_i64(w, 7, m->total_compressed_size);
    if (m->has_kv)
        enc_kvs(w, 8, m->kv, m->n_kv);
    tlf_thr_w_field_i64(w, 9, m->data_page_offset);
    if (m->has_index_page_offset)
        tlf_thr_w_field_i64(w, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset)
        tlf_thr_w_field_i64(w, 11, m->dictionary_page_offset);
    if (m->has_statistics)
        enc_stats(w, 12, &m->statistics);
    if (m->has_encoding_stats) {
        tlf_thr_w_field(w, 13, TLF_THR_LIST);
        tlf_thr_w_list_begin(w, TLF_THR_STRUCT, m->n_encoding_stats);
        for (uint32_t i = 0; i < m->n_encoding_stats; i++) {
            tlf_thr_w_struct_begin(w);
            tlf_thr_w_field_i32(w, 1, m->encoding_stats[i].page_type);
            tlf_thr_w_field_i32(w, 2, m->encoding_stats[i].encoding);
            tlf_thr_w_field_i32(w, 3, m->encoding_stats[i].count);
            tlf_thr_w_struct_end(w);
        }
    }
    if (m->has_bloom_filter_offset)
        tlf_thr_w_field_i64(w, 14, m->bloom_filter_offset);
    if (m->has_bloom_filter_length)
        tlf_thr_w_field_i32(w, 15, m->bloom_filter_length);
    tlf_thr_w_struct_end(w);
}

static void enc_col_chunk(W *w, const tlf_pqm_col_chunk *k)
{
    tlf_thr_w_struct_begin(w);
    if (k->has_file_path)
        w_str(w, 1, k->file_path);
    tlf_thr_w_field_i64(w, 2, k->file_offset);
    if (k->has_meta_data)
        enc_col_meta(w, 3, &k->meta_data);
    if (k->has_offset_index_offset)
        tlf_thr_w_field_i64(w, 4, k->offset_index_offset);
    if (k->has_offset_index_length)
        tlf_thr_w_field_i32(w, 5, k->offset_index_length);
    if (k->has_column_index_offset)
        tlf_thr_w_field_i64(w, 6, k->column_index_offset);
    if (k->has_column_index_length)
        tlf_thr_w_field_i32(w, 7, k->column_index_length);
    tlf_thr_w_struct_end(w);
}

static void enc_row_group(W *w, const tlf_pqm_row_group *g)
{
    if (enc_check(w, g->columns, g->n_columns, "columns") ||
        enc_check(w, g->sorting_columns,
                  g->has_sorting_columns ? g->n_sorting_columns : 0,
                  "sorting_columns"))
        return;
    tlf_thr_w_struct_begin(w);
    tlf_thr_w_field(w, 1, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_STRUCT, g->n_columns);
    for (uint32_t i = 0; i < g->n_columns; i++)
        enc_col_chunk(w, &g->columns[i]);
    tlf_thr_w_field_i64(w, 2, g->total_byte_size);
    tlf_thr_w_field_i64(w, 3, g->num_rows);
    if (g->has_sorting_columns) {
        tlf_thr_w_field(w, 4, TLF_THR_LIST);
        tlf_thr_w_list_begin(w, TLF_THR_STRUCT, g->n_sorting_columns);
        for (uint32_t i = 0; i < g->n_sorting_columns; i++) {
            const tlf_pqm_sorting_col *s = &g->sorting_columns[i];
            tlf_thr_w_struct_begin(w);
            tlf_thr_w_field_i32(w, 1, s->column_idx);
            tlf_thr_w_field_bool(w, 2, s->descending);
            tlf_thr_w_field_bool(w, 3, s->nulls_first);
            tlf_thr_w_struct_end(w);
        }
    }
    if (g->has_file_offset)
        tlf_thr_w_field_i64(w, 5, g->file_offset);
    if (g->has_total_compressed_size)
        tlf_thr_w_field_i64(w, 6, g->total_compressed_size);
    if (g->has_ordinal)
        tlf_thr_w_field_i16(w, 7, g->ordinal);
    tlf_thr_w_struct_end(w);
}

int tlf_pqm_encode_file(const tlf_pqm_file *fm, tlf_buf *out, tl_error *err)
{
    W w;
    tlf_thr_writer_init(&w, out, err);
    if (enc_check(&w, fm->schema, fm->n_schema, "schema") ||
        enc_check(&w, fm->row_groups, fm->n_row_groups, "row_groups") ||
        enc_check(&w, fm->column_orders,
                  fm->has_column_orders ? fm->n_column_orders : 0,
                  "column_orders"))
        return w.rc;
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_i32(&w, 1, fm->version);
    tlf_thr_w_field(&w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, fm->n_schema);
    for (uint32_t i = 0; i < fm->n_schema; i++)
        enc_schema(&w, &fm->schema[i]);
    tlf_thr_w_field_i64(&w, 3, fm->num_rows);
    tlf_thr_w_field(&w, 4, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, fm->n_row_groups);
    for (uint32_t i = 0; i < fm->n_row_groups; i++)
        enc_row_group(&w, &fm->row_groups[i]);
    if (fm->has_kv)
        enc_kvs(&w, 5, fm->kv, fm->n_kv);
    if (fm->has_created_by)
        w_str(&w, 6, fm->created_by);
    if (fm->has_column_orders) {
        tlf_thr_w_field(&w, 7, TLF_THR_LIST);
        tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, fm->n_column_orders);
        for (uint32_t i = 0; i < fm->n_column_orders; i++) {
            tlf_thr_w_struct_begin(&w);
            enc_empty(&w, (int16_t)fm->column_orders[i].id);
            tlf_thr_w_struct_end(&w);
        }
    }
    tlf_thr_w_struct_end(&w);
    return tlf_thr_writer_status(&w);
}

int tlf_pqm_encode_page_header(const tlf_pqm_page_header *ph, tlf_buf *out,
                               tl_error *err)
{
    W w;
    tlf_thr_writer_init(&w, out, err);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_i32(&w, 1, ph->type);
    tlf_thr_w_field_i32(&w, 2, ph->uncompressed_page_size);
    tlf_thr_w_field_i32(&w, 3, ph->compressed_page_size);
    if (ph->has_crc)
        tlf_thr_w_field_i32(&w, 4, (int32_t)ph->crc);
    if (ph->has_data_page) {
        const tlf_pqm_data_page *d = &ph->data_page;
        tlf_thr_w_field(&w, 5, TLF_THR_STRUCT);
        tlf_thr_w_struct_begin(&w);
        tlf_thr_w_field_i32(&w, 1, d->num_values);
        tlf_thr_w_field_i32(&w, 2, d->encoding);
        tlf_thr_w_field_i32(&w, 3, d->definition_level_encoding);
        tlf_thr_w_field_i32(&w, 4, d->repetition_level_encoding);
        if (d->has_statistics)
            enc_stats(&w, 5, &d->statistics);
        tlf_thr_w_struct_end(&w);
    }
    if (ph->has_index_page)
        enc_empty(&w, 6);
    if (ph->has_dict_page) {
        const tlf_pqm_dict_page *d = &ph->dict_page;
        tlf_thr_w_field(&w, 7, TLF_THR_STRUCT);
        tlf_thr_w_struct_begin(&w);
        tlf_thr_w_field_i32(&w, 1, d->num_values);
        tlf_thr_w_field_i32(&w, 2, d->encoding);
        if (d->has_is_sorted)
            tlf_thr_w_field_bool(&w, 3, d->is_sorted);
        tlf_thr_w_struct_end(&w);
    }
    if (ph->has_data_page_v2) {
        const tlf_pqm_data_page_v2 *d = &ph->data_page_v2;
        tlf_thr_w_field(&w, 8, TLF_THR_STRUCT);
        tlf_thr_w_struct_begin(&w);
        tlf_thr_w_field_i32(&w, 1, d->num_values);
        tlf_thr_w_field_i32(&w, 2, d->num_nulls);
        tlf_thr_w_field_i32(&w, 3, d->num_rows);
        tlf_thr_w_field_i32(&w, 4, d->encoding);
        tlf_thr_w_field_i32(&w, 5, d->definition_levels_byte_length);
        tlf_thr_w_field_i32(&w, 6, d->repetition_levels_byte_length);
        if (d->has_is_compressed)
            tlf_thr_w_field_bool(&w, 7, d->is_compressed);
        if (d->has_statistics)
            enc_stats(&w, 8, &d->statistics);
        tlf_thr_w_struct_end(&w);
    }
    tlf_thr_w_struct_end(&w);
    return tlf_thr_writer_status(&w);
}

int tlf_pqm_encode_column_index(const tlf_pqm_column_index *ci, tlf_buf *out,
                                tl_error *err)
{
    W w;
    tlf_thr_writer_init(&w, out, err);
    uint32_t n = ci->n_pages;
    if (enc_check(&w, ci->null_pages, n, "null_pages") ||
        enc_check(&w, ci->min_values, n, "min_values") ||
        enc_check(&w, ci->max_values, n, "max_values") ||
        enc_check(&w, ci->null_counts, ci->has_null_counts ? n : 0, "null_counts") ||
        enc_check(&w, ci->nan_counts, ci->has_nan_counts ? n : 0, "nan_counts"))
        return w.rc;
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field(&w, 1, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_TRUE, n);
    for (uint32_t i = 0; i < n; i++)
        tlf_thr_w_bool_elem(&w, ci->null_pages[i]);
    tlf_thr_w_field(&w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_BINARY, n);
    for (uint32_t i = 0; i < n; i++)
        tlf_thr_w_binary(&w, ci->min_values[i].p, ci->min_values[i].len);
    tlf_thr_w_field(&w, 3, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_BINARY, n);
    for (uint32_t i = 0; i < n; i++)
        tlf_thr_w_binary(&w, ci->max_values[i].p, ci->max_values[i].len);
    tlf_thr_w_field_i32(&w, 4, ci->boundary_order);
    if (ci->has_null_counts) {
        tlf_thr_w_field(&w, 5, TLF_THR_LIST);
        tlf_thr_w_list_begin(&w, TLF_THR_I64, n);
        for (uint32_t i = 0; i < n; i++)
            tlf_thr_w_i64(&w, ci->null_counts[i]);
    }
    if (ci->has_nan_counts) {
        tlf_thr_w_field(&w, 8, TLF_THR_LIST);
        tlf_thr_w_list_begin(&w, TLF_THR_I64, n);
        for (uint32_t i = 0; i < n; i++)
            tlf_thr_w_i64(&w, ci->nan_counts[i]);
    }
    tlf_thr_w_struct_end(&w);
    return tlf_thr_writer_status(&w);
}

int tlf_pqm_encode_offset_index(const tlf_pqm_offset_index *oi, tlf_buf *out,
                                tl_error *err)
{
    W w;
    tlf_thr_writer_init(&w, out, err);
    if (enc_check(&w, oi->page_locations, oi->n_pages, "page_locations") ||
        enc_check(&w, oi->unencoded_byte_array_data_bytes,
                  oi->has_unencoded_byte_array_data_bytes ? oi->n_unencoded : 0,
                  "unencoded_byte_array_data_bytes"))
        return w.rc;
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field(&w, 1, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, oi->n_pages);
    for (uint32_t i = 0; i < oi->n_pages; i++) {
        const tlf_pqm_page_location *l = &oi->page_locations[i];
        tlf_thr_w_struct_begin(&w);
        tlf_thr_w_field_i64(&w, 1, l->offset);
        tlf_thr_w_field_i32(&w, 2, l->compressed_page_size);
        tlf_thr_w_field_i64(&w, 3, l->first_row_index);
        tlf_thr_w_struct_end(&w);
    }
    if (oi->has_unencoded_byte_array_data_bytes) {
        tlf_thr_w_field(&w, 2, TLF_THR_LIST);
        tlf_thr_w_list_begin(&w, TLF_THR_I64, oi->n_unencoded);
        for (uint32_t i = 0; i < oi->n_unencoded; i++)
            tlf_thr_w_i64(&w, oi->unencoded_byte_array_data_bytes[i]);
    }
    tlf_thr_w_struct_end(&w);
    return tlf_thr_writer_status(&w);
}

/* ---- names ----------------------------------------------------------------------- */

const char *tlf_pqm_type_name(int32_t t)
{
    static const char *const n[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                    "FLOAT",   "DOUBLE", "BYTE_ARRAY",
                                    "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? n[t] : "?";
}

const char *tlf_pqm_encoding_name(int32_t e)
{
    static const char *const n[] = {"PLAIN",
                                    "GROUP_VAR_INT",
                                    "PLAIN_DICTIONARY",
                                    "RLE",
                                    "BIT_PACKED",
                                    "DELTA_BINARY_PACKED",
                                    "DELTA_LENGTH_BYTE_ARRAY",
                                    "DELTA_BYTE_ARRAY",
                                    "RLE_DICTIONARY",
                                    "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < 10 ? n[e] : "?";
}

const char *tlf_pqm_page_type_name(int32_t t)
{
    static const char *const n[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE",
                                    "DATA_PAGE_V2"};
    return t >= 0 && t < 4 ? n[t] : "?";
}

const char *tlf_pqm_converted_type_name(int32_t t)
{
    static const char *const n[] = {
        "UTF8",        "MAP",         "MAP_KEY_VALUE",    "LIST",
        "ENUM",        "DECIMAL",     "DATE",             "TIME_MILLIS",
        "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8",
        "UINT_16",     "UINT_32",     "UINT_64",          "INT_8",
        "INT_16",      "INT_32",      "INT_64",           "JSON",
        "BSON",        "INTERVAL"};
    return t >= 0 && t < 22 ? n[t] : "?";
}

static const char *unit_name(int32_t u)
{
    return u == TLF_PQM_UNIT_MILLIS   ? "MILLIS"
           : u == TLF_PQM_UNIT_MICROS ? "MICROS"
           : u == TLF_PQM_UNIT_NANOS  ? "NANOS"
                                      : NULL;
}

void tlf_pqm_logical_desc(const tlf_pqm_logical *lt, char *buf, size_t cap)
{
    if (!cap)
        return;
    const char *nm = lt->known ? lt_member_name(lt->id) : NULL;
    if (!nm) {
        snprintf(buf, cap, "unknown logical type id %d", (int)lt->id);
        return;
    }
    switch (lt->id) {
    case TLF_PQM_LT_DECIMAL:
        snprintf(buf, cap, "DECIMAL(%d,%d)", (int)lt->dec_precision,
                 (int)lt->dec_scale);
        break;
    case TLF_PQM_LT_TIME:
    case TLF_PQM_LT_TIMESTAMP: {
        const char *u = unit_name(lt->unit);
        char ubuf[32];
        if (!u) {
            snprintf(ubuf, sizeof ubuf, "unknown unit id %d", (int)lt->unit);
            u = ubuf;
        }
        snprintf(buf, cap, "%s(%s,%s)", nm, lt->is_adjusted_to_utc ? "UTC" : "local",
                 u);
        break;
    }
    case TLF_PQM_LT_INTEGER:
        snprintf(buf, cap, "INTEGER(%d,%s)", (int)lt->bit_width,
                 lt->is_signed ? "signed" : "unsigned");
        break;
    default:
        snprintf(buf, cap, "%s", nm);
        break;
    }
}
