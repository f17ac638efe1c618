/*
 * pq_meta_test.c - the Thrift compact codec (pq_thrift.c) and the Parquet
 * metadata structs (pq_meta.c): round trips of every struct with optional
 * fields set and unset, byte-exact encodings checked by hand against the
 * compact protocol, truncation at every length, depth/length bounds,
 * skipping of unknown and mistyped fields, error paths with struct path and
 * byte offset, and the real footers of ../shared/parquet-testing.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_meta.h"
#include "pq_thrift.h"

#define PQT_DIR TL_SOURCE_DIR "/../shared/parquet-testing"

/* ---- helpers ---------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    cr_assert(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Footer of a Parquet file in memory: [buf+*off, +*flen). */
static int footer_of(const uint8_t *b, size_t n, size_t *off, size_t *flen)
{
    if (n < 12 || memcmp(b + n - 4, "PAR1", 4) != 0)
        return -1;
    uint32_t fl = (uint32_t)b[n - 8] | (uint32_t)b[n - 7] << 8 |
                  (uint32_t)b[n - 6] << 16 | (uint32_t)b[n - 5] << 24;
    if (fl > n - 12)
        return -1;
    *off = n - 8 - fl;
    *flen = fl;
    return 0;
}

static int bufeq(const tlf_buf *a, const tlf_buf *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static int streq(tlf_pqm_str s, const char *z)
{
    return s.len == strlen(z) && memcmp(s.s, z, s.len) == 0;
}

static int bineq(tlf_pqm_bin b, const char *z)
{
    return b.len == strlen(z) && memcmp(b.p, z, b.len) == 0;
}

#define S(z) ((tlf_pqm_str){(z), (uint32_t)sizeof(z) - 1})
#define B(z) ((tlf_pqm_bin){(const uint8_t *)(z), (uint32_t)sizeof(z) - 1})

static tlf_pqm_stats full_stats(void)
{
    tlf_pqm_stats s = {0};
    s.has_max = s.has_min = s.has_null_count = s.has_distinct_count = 1;
    s.has_max_value = s.has_min_value = 1;
    s.has_is_max_value_exact = s.has_is_min_value_exact = s.has_nan_count = 1;
    s.max = B("\x7f\x00\x00\x01");
    s.min = B("\x80");
    s.null_count = 3;
    s.distinct_count = 12345678901LL;
    s.max_value = B("zz");
    s.min_value = B("");
    s.is_max_value_exact = 1;
    s.is_min_value_exact = 0;
    s.nan_count = 0;
    return s;
}

/* A FileMetaData with every optional field set (full) or none (minimal). */
typedef struct fixture {
    tlf_pqm_file fm;
    tlf_pqm_schema_elem schema[4];
    tlf_pqm_row_group rg[2];
    tlf_pqm_col_chunk cc[3];
    tlf_pqm_kv kv[2];
    tlf_pqm_column_order co[3];
    tlf_pqm_sorting_col sc[2];
    tlf_pqm_page_enc_stats es[2];
    int32_t enc[3];
    tlf_pqm_str path[2];
} fixture;

static void make_fixture(fixture *x, int full)
{
    memset(x, 0, sizeof *x);
    tlf_pqm_file *fm = &x->fm;
    fm->version = 2;
    fm->num_rows = 1000000007LL;
    x->schema[0].name = S("schema");
    x->schema[0].has_num_children = 1;
    x->schema[0].num_children = 3;
    for (int i = 1; i < 4; i++) {
        tlf_pqm_schema_elem *e = &x->schema[i];
        e->has_type = 1;
        e->type = i == 1 ? TLF_PQM_INT64 : i == 2 ? TLF_PQM_FIXED_LEN_BYTE_ARRAY
                                                  : TLF_PQM_BYTE_ARRAY;
        e->has_repetition = 1;
        e->repetition = i == 1 ? TLF_PQM_REQUIRED : TLF_PQM_OPTIONAL;
        e->name = i == 1 ? S("ts") : i == 2 ? S("px") : S("sym");
    }
    if (full) {
        tlf_pqm_schema_elem *e = &x->schema[1];
        e->has_converted_type = 1;
        e->converted_type = TLF_PQM_CT_TIMESTAMP_MICROS;
        e->has_field_id = 1;
        e->field_id = -5;
        e->has_logical = 1;
        e->logical.id = TLF_PQM_LT_TIMESTAMP;
        e->logical.known = 1;
        e->logical.is_adjusted_to_utc = 1;
        e->logical.unit = TLF_PQM_UNIT_NANOS;
        e = &x->schema[2];
        e->has_type_length = 1;
        e->type_length = 16;
        e->has_scale = e->has_precision = 1;
        e->scale = 4;
        e->precision = 38;
        e->has_logical = 1;
        e->logical.id = TLF_PQM_LT_DECIMAL;
        e->logical.known = 1;
        e->logical.dec_scale = 4;
        e->logical.dec_precision = 38;
        e = &x->schema[3];
        e->has_logical = 1;
        e->logical.id = TLF_PQM_LT_GEOGRAPHY;
        e->logical.known = 1;
        e->logical.has_crs = 1;
        e->logical.crs = S("OGC:CRS84");
        e->logical.has_algorithm = 1;
        e->logical.algorithm = 4;
    }
    fm->n_schema = 4;
    fm->schema = x->schema;

    x->enc[0] = TLF_PQM_ENC_PLAIN;
    x->enc[1] = TLF_PQM_ENC_RLE;
    x->enc[2] = TLF_PQM_ENC_RLE_DICTIONARY;
    x->path[0] = S("a");
    x->path[1] = S("b\0c"); /* embedded NUL survives */
    x->kv[0].key = S("k1");
    x->kv[0].has_value = 1;
    x->kv[0].value = S("v1");
    x->kv[1].key = S("only-key");
    x->es[0] = (tlf_pqm_page_enc_stats){TLF_PQM_PAGE_DICTIONARY, 0, 1};
    x->es[1] = (tlf_pqm_page_enc_stats){TLF_PQM_PAGE_DATA, 8, 17};
    for (int i = 0; i < 3; i++) {
        tlf_pqm_col_chunk *k = &x->cc[i];
        k->file_offset = 4 + i;
        k->has_meta_data = 1;
        tlf_pqm_col_meta *m = &k->meta_data;
        m->type = x->schema[1 + i].type;
        m->n_encodings = 3;
        m->encodings = x->enc;
        m->n_path = i == 2 ? 2 : 1;
        m->path_in_schema = x->path;
        m->codec = 6;
        m->num_values = 100 + i;
        m->total_uncompressed_size = 5000;
        m->total_compressed_size = 4000;
        m->data_page_offset = 1LL << 40;
        if (full) {
            m->has_kv = 1;
            m->n_kv = 2;
            m->kv = x->kv;
            m->has_index_page_offset = 1;
            m->index_page_offset = 77;
            m->has_dictionary_page_offset = 1;
            m->dictionary_page_offset = 0;
            m->has_statistics = 1;
            m->statistics = full_stats();
            m->has_encoding_stats = 1;
            m->n_encoding_stats = 2;
            m->encoding_stats = x->es;
            m->has_bloom_filter_offset = 1;
            m->bloom_filter_offset = 999;
            m->has_bloom_filter_length = 1;
            m->bloom_filter_length = 64;
            k->has_file_path = 1;
            k->file_path = S("part-0.parquet");
            k->has_offset_index_offset = k->has_offset_index_length = 1;
            k->offset_index_offset = 123456789012LL;
            k->offset_index_length = 33;
            k->has_column_index_offset = k->has_column_index_length = 1;
            k->column_index_offset = 42;
            k->column_index_length = 0;
        }
    }
    x->sc[0] = (tlf_pqm_sorting_col){0, 0, 1};
    x->sc[1] = (tlf_pqm_sorting_col){2, 1, 0};
    for (int g = 0; g < 2; g++) {
        tlf_pqm_row_group *rg = &x->rg[g];
        rg->n_columns = g == 0 ? 3 : 1;
        rg->columns = x->cc;
        rg->total_byte_size = 5000;
        rg->num_rows = g == 0 ? 100 : 0;
        if (full) {
            rg->has_sorting_columns = 1;
            rg->n_sorting_columns = 2;
            rg->sorting_columns = x->sc;
            rg->has_file_offset = 1;
            rg->file_offset = 4;
            rg->has_total_compressed_size = 1;
            rg->total_compressed_size = 4000;
            rg->has_ordinal = 1;
            rg->ordinal = (int16_t)(g == 0 ? 0 : 32767);
        }
    }
    fm->n_row_groups = 2;
    fm->row_groups = x->rg;
    if (full) {
        fm->has_kv = 1;
        fm->n_kv = 2;
        fm->kv = x->kv;
        fm->has_created_by = 1;
        fm->created_by = S("ticklake version 0.1.0 (build test)");
        x->co[0].id = TLF_PQM_ORDER_TYPE_DEFINED;
        x->co[1].id = TLF_PQM_ORDER_IEEE_754_TOTAL;
        x->co[2].id = 77; /* unknown member: kept by id */
        fm->has_column_orders = 1;
        fm->n_column_orders = 3;
        fm->column_orders = x->co;
    }
}

static void encode_file(const tlf_pqm_file *fm, tlf_buf *out)
{
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_encode_file(fm, out, &err), TL_OK, "%s", err.msg);
}

/* ---- thrift primitives --------------------------------------------------------- */

Test(pq_thrift, varint_zigzag_roundtrip_and_exact_bytes)
{
    tlf_buf b = {0};
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, &b, NULL);
    tlf_thr_w_i32(&w, 0);
    tlf_thr_w_i32(&w, -1);
    tlf_thr_w_i32(&w, 1);
    tlf_thr_w_i32(&w, -7);
    tlf_thr_w_i32(&w, 64);
    tlf_thr_w_i64(&w, INT64_MIN);
    tlf_thr_w_i32(&w, INT32_MAX);
    cr_assert_eq(tlf_thr_writer_status(&w), TL_OK);
    static const uint8_t want[] = {0x00, 0x01, 0x02, 0x0d, 0x80, 0x01,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0x01, 0xfe, 0xff, 0xff, 0xff,
                                   0x0f};
    cr_assert_eq(b.len, sizeof want);
    cr_assert(memcmp(b.p, want, sizeof want) == 0);
    tlf_thr_reader r;
    tlf_thr_reader_init(&r, b.p, b.len, 0);
    int32_t v;
    int64_t v64;
    int32_t exp[] = {0, -1, 1, -7, 64};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(tlf_thr_read_i32(&r, &v, NULL), TL_OK);
        cr_assert_eq(v, exp[i]);
    }
    cr_assert_eq(tlf_thr_read_i64(&r, &v64, NULL), TL_OK);
    cr_assert_eq(v64, INT64_MIN);
    cr_assert_eq(tlf_thr_read_i32(&r, &v, NULL), TL_OK);
    cr_assert_eq(v, INT32_MAX);
    cr_assert_eq(r.pos, b.len);
    tlf_buf_free(&b);
}

/* PQ-T1 */
Test(pq_thrift, varint_too_long_is_corrupt)
{
    static const uint8_t eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x01};
    tlf_thr_reader r;
    tl_error err = {0};
    int64_t v;
    tlf_thr_reader_init(&r, eleven, sizeof eleven, 1000);
    cr_assert_eq(tlf_thr_read_i64(&r, &v, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "varint longer than 10 bytes at byte 1000"), "%s",
              err.msg);
    /* i32: at most 5 bytes */
    int32_t v32;
    tlf_thr_reader_init(&r, eleven, sizeof eleven, 0);
    cr_assert_eq(tlf_thr_read_i32(&r, &v32, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "longer than 5 bytes"), "%s", err.msg);
    /* 5 bytes but beyond 32 bits */
    static const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    tlf_thr_reader_init(&r, big, sizeof big, 0);
    cr_assert_eq(tlf_thr_read_i32(&r, &v32, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "out of range"), "%s", err.msg);
    /* 10th byte with more than bit 63 */
    static const uint8_t ovf[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0x02};
    tlf_thr_reader_init(&r, ovf, sizeof ovf, 0);
    cr_assert_eq(tlf_thr_read_i64(&r, &v, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "overflows"), "%s", err.msg);
    /* truncated */
    tlf_thr_reader_init(&r, eleven, 3, 0);
    cr_assert_eq(tlf_thr_read_i64(&r, &v, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
}

Test(pq_thrift, field_header_short_and_long_form)
{
    tlf_buf b = {0};
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, &b, NULL);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_i32(&w, 1, 5);     /* delta 1: 0x15 */
    tlf_thr_w_field_i32(&w, 16, 5);    /* delta 15: 0xf5 */
    tlf_thr_w_field_i32(&w, 40, 5);    /* delta 24: long form 0x05, zz(40) */
    tlf_thr_w_field_bool(&w, 41, 1);   /* 0x11 */
    tlf_thr_w_field_bool(&w, 42, 0);   /* 0x12 */
    tlf_thr_w_field_i32(&w, 3, 5);     /* going back: long form */
    tlf_thr_w_field_i64(&w, -2, -1);   /* negative id: long form */
    tlf_thr_w_struct_end(&w);
    cr_assert_eq(tlf_thr_writer_status(&w), TL_OK);
    static const uint8_t want[] = {0x15, 0x0a, 0xf5, 0x0a, 0x05, 0x50, 0x0a,
                                   0x11, 0x12, 0x05, 0x06, 0x0a, 0x06, 0x03,
                                   0x01, 0x00};
    cr_assert_eq(b.len, sizeof want, "len %zu", b.len);
    cr_assert(memcmp(b.p, want, sizeof want) == 0);

    tlf_thr_reader r;
    tlf_thr_reader_init(&r, b.p, b.len, 0);
    cr_assert_eq(tlf_thr_struct_begin(&r, NULL), TL_OK);
    int t;
    int16_t fid;
    int16_t want_id[] = {1, 16, 40, 41, 42, 3, -2};
    int want_t[] = {TLF_THR_I32, TLF_THR_I32, TLF_THR_I32, TLF_THR_TRUE,
                    TLF_THR_FALSE, TLF_THR_I32, TLF_THR_I64};
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(tlf_thr_field(&r, &t, &fid, NULL), TL_OK);
        cr_assert_eq(fid, want_id[i]);
        cr_assert_eq(t, want_t[i]);
        cr_assert_eq(tlf_thr_skip(&r, t, 0, NULL), TL_OK);
    }
    cr_assert_eq(tlf_thr_field(&r, &t, &fid, NULL), TL_OK);
    cr_assert_eq(t, TLF_THR_STOP);
    tlf_thr_struct_end(&r);
    cr_assert_eq(r.pos, b.len);
    tlf_buf_free(&b);
}

Test(pq_thrift, list_headers_short_long_and_bool_elements)
{
    tlf_buf b = {0};
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, &b, NULL);
    tlf_thr_w_list_begin(&w, TLF_THR_I32, 14);
    for (int i = 0; i < 14; i++)
        tlf_thr_w_i32(&w, i);
    tlf_thr_w_list_begin(&w, TLF_THR_TRUE, 15);
    for (int i = 0; i < 15; i++)
        tlf_thr_w_bool_elem(&w, i & 1);
    cr_assert_eq(b.p[0], 0xe5);
    cr_assert_eq(b.p[15], 0xf1); /* long form */
    cr_assert_eq(b.p[16], 15);
    cr_assert_eq(b.p[17], 2); /* false = 2 */
    cr_assert_eq(b.p[18], 1);
    tlf_thr_reader r;
    tlf_thr_reader_init(&r, b.p, b.len, 0);
    int et;
    uint32_t n;
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, NULL), TL_OK);
    cr_assert_eq(et, TLF_THR_I32);
    cr_assert_eq(n, 14);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(tlf_thr_skip(&r, et, 1, NULL), TL_OK);
    tlf_thr_list_end(&r);
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, NULL), TL_OK);
    cr_assert_eq(et, TLF_THR_TRUE);
    cr_assert_eq(n, 15);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t v;
        cr_assert_eq(tlf_thr_read_bool_elem(&r, &v, NULL), TL_OK);
        cr_assert_eq(v, i & 1);
    }
    tlf_thr_list_end(&r);
    cr_assert_eq(r.pos, b.len);
    cr_assert_eq(r.depth, 0);
    tlf_buf_free(&b);
}

/* PQ-T1 */
Test(pq_thrift, lengths_and_counts_bounded_by_bytes_left)
{
    tl_error err = {0};
    tlf_thr_reader r;
    const uint8_t *p;
    uint32_t n;
    int et, kt, vt;
    /* binary of length 5 with 2 bytes */
    static const uint8_t bin[] = {0x05, 'a', 'b'};
    tlf_thr_reader_init(&r, bin, sizeof bin, 10);
    cr_assert_eq(tlf_thr_read_binary(&r, &p, &n, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "binary length 5 exceeds the 2 bytes left at byte 10"),
              "%s", err.msg);
    /* list of 2^32-1 i64: long-form size, 3 bytes left */
    static const uint8_t lst[] = {0xf6, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
    tlf_thr_reader_init(&r, lst, sizeof lst, 0);
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "list of 4294967295 elements"), "%s", err.msg);
    /* bool list: 3 elements need 3 bytes */
    static const uint8_t bl[] = {0x31, 1, 2};
    tlf_thr_reader_init(&r, bl, sizeof bl, 0);
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, &err), TL_ECORRUPT);
    static const uint8_t bl3[] = {0x31, 1, 2, 1};
    tlf_thr_reader_init(&r, bl3, sizeof bl3, 0);
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, &err), TL_OK);
    /* doubles take 8 bytes each */
    static const uint8_t dl[] = {0x27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    tlf_thr_reader_init(&r, dl, sizeof dl, 0);
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, &err), TL_ECORRUPT);
    /* map entries take >= 2 bytes */
    static const uint8_t mp[] = {0x03, 0x55, 1, 2, 3, 4, 5};
    tlf_thr_reader_init(&r, mp, sizeof mp, 0);
    cr_assert_eq(tlf_thr_map_begin(&r, &kt, &vt, &n, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "map of 3 entries"), "%s", err.msg);
    /* invalid wire types */
    static const uint8_t badt[] = {0x1e};
    int t;
    int16_t fid;
    tlf_thr_reader_init(&r, badt, sizeof badt, 0);
    cr_assert_eq(tlf_thr_struct_begin(&r, NULL), TL_OK);
    cr_assert_eq(tlf_thr_field(&r, &t, &fid, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "invalid wire type 14"), "%s", err.msg);
    static const uint8_t bad_bool[] = {0x11, 0x07};
    tlf_thr_reader_init(&r, bad_bool, sizeof bad_bool, 0);
    cr_assert_eq(tlf_thr_list_begin(&r, &et, &n, NULL), TL_OK);
    uint8_t bv;
    cr_assert_eq(tlf_thr_read_bool_elem(&r, &bv, &err), TL_ECORRUPT);
}

/* PQ-T1 */
Test(pq_thrift, nesting_depth_is_bounded)
{
    /* field 1 struct, nested 100 times, inside a struct */
    uint8_t buf[256];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        buf[n++] = 0x1c;
    for (int i = 0; i < 101; i++)
        buf[n++] = 0x00;
    tlf_thr_reader r;
    tl_error err = {0};
    tlf_thr_reader_init(&r, buf, n, 0);
    cr_assert_eq(tlf_thr_skip(&r, TLF_THR_STRUCT, 0, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "nesting deeper than 64"), "%s", err.msg);
    /* nested lists too: list<list<list<...>>> */
    n = 0;
    for (int i = 0; i < 100; i++)
        buf[n++] = 0x19;
    buf[n++] = 0x05;
    buf[n++] = 0x00;
    tlf_thr_reader_init(&r, buf, n, 0);
    cr_assert_eq(tlf_thr_skip(&r, TLF_THR_LIST, 0, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "nesting deeper than 64"), "%s", err.msg);
    /* 63 levels are fine */
    n = 0;
    for (int i = 0; i < 63; i++)
        buf[n++] = 0x1c;
    for (int i = 0; i < 64; i++)
        buf[n++] = 0x00;
    tlf_thr_reader_init(&r, buf, n, 0);
    cr_assert_eq(tlf_thr_skip(&r, TLF_THR_STRUCT, 0, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.pos, n);
    cr_assert_eq(r.depth, 0);
}

Test(pq_thrift, skip_every_wire_type)
{
    tlf_buf b = {0};
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, &b, NULL);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_byte(&w, 1, -3);
    tlf_thr_w_field_i16(&w, 2, -300);
    tlf_thr_w_field_double(&w, 3, 1.5);
    tlf_thr_w_field_binary(&w, 4, "xyz", 3);
    tlf_thr_w_field(&w, 5, TLF_THR_SET);
    tlf_thr_w_list_begin(&w, TLF_THR_DOUBLE, 2);
    tlf_thr_w_double(&w, 1);
    tlf_thr_w_double(&w, 2);
    tlf_thr_w_field(&w, 6, TLF_THR_MAP);
    tlf_thr_w_varint(&w, 2);
    tlf_thr_w_byte(&w, (int8_t)((TLF_THR_BINARY << 4) | TLF_THR_TRUE));
    tlf_thr_w_binary(&w, "k", 1);
    tlf_thr_w_bool_elem(&w, 1);
    tlf_thr_w_binary(&w, "", 0);
    tlf_thr_w_bool_elem(&w, 0);
    tlf_thr_w_field(&w, 7, TLF_THR_MAP);
    tlf_thr_w_varint(&w, 0); /* empty map: no type byte */
    tlf_thr_w_field(&w, 8, TLF_THR_UUID);
    for (int i = 0; i < 16; i++)
        tlf_thr_w_byte(&w, (int8_t)i);
    tlf_thr_w_struct_end(&w);
    cr_assert_eq(tlf_thr_writer_status(&w), TL_OK);
    tlf_thr_reader r;
    tlf_thr_reader_init(&r, b.p, b.len, 0);
    cr_assert_eq(tlf_thr_skip(&r, TLF_THR_STRUCT, 0, NULL), TL_OK);
    cr_assert_eq(r.pos, b.len);
    /* and every truncation fails cleanly */
    for (size_t k = 0; k < b.len; k++) {
        tlf_thr_reader_init(&r, b.p, k, 0);
        cr_assert_eq(tlf_thr_skip(&r, TLF_THR_STRUCT, 0, NULL), TL_ECORRUPT);
    }
    tlf_buf_free(&b);
}

/* ---- round trips ----------------------------------------------------------------- */

static void check_file_roundtrip(int full)
{
    fixture x;
    make_fixture(&x, full);
    tlf_buf b1 = {0}, b2 = {0};
    encode_file(&x.fm, &b1);
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(b1.p, b1.len, 0, &d, &err), TL_OK, "%s",
                 err.msg);
    encode_file(&d, &b2);
    cr_assert(bufeq(&b1, &b2), "re-encoding differs (full=%d)", full);

    cr_assert_eq(d.version, 2);
    cr_assert_eq(d.num_rows, 1000000007LL);
    cr_assert_eq(d.n_schema, 4);
    cr_assert(streq(d.schema[0].name, "schema"));
    cr_assert_eq(d.schema[0].name.s[d.schema[0].name.len], 0);
    cr_assert(d.schema[0].has_num_children && d.schema[0].num_children == 3);
    cr_assert(!d.schema[0].has_type);
    cr_assert_eq(d.schema[2].type, TLF_PQM_FIXED_LEN_BYTE_ARRAY);
    cr_assert_eq(d.schema[2].repetition, TLF_PQM_OPTIONAL);
    cr_assert_eq(d.n_row_groups, 2);
    cr_assert_eq(d.row_groups[0].n_columns, 3);
    cr_assert_eq(d.row_groups[1].num_rows, 0);
    const tlf_pqm_col_meta *m = &d.row_groups[0].columns[2].meta_data;
    cr_assert(d.row_groups[0].columns[2].has_meta_data);
    cr_assert_eq(d.row_groups[0].columns[2].file_offset, 6);
    cr_assert_eq(m->n_encodings, 3);
    cr_assert_eq(m->encodings[2], TLF_PQM_ENC_RLE_DICTIONARY);
    cr_assert_eq(m->n_path, 2);
    cr_assert_eq(m->path_in_schema[1].len, 3);
    cr_assert(memcmp(m->path_in_schema[1].s, "b\0c", 3) == 0);
    cr_assert_eq(m->data_page_offset, 1LL << 40);
    cr_assert_eq(m->num_values, 102);
    if (full) {
        const tlf_pqm_schema_elem *e = &d.schema[1];
        cr_assert(e->has_logical && e->logical.known);
        cr_assert_eq(e->logical.id, TLF_PQM_LT_TIMESTAMP);
        cr_assert_eq(e->logical.unit, TLF_PQM_UNIT_NANOS);
        cr_assert(e->logical.is_adjusted_to_utc);
        cr_assert(e->has_field_id && e->field_id == -5);
        char desc[64];
        tlf_pqm_logical_desc(&e->logical, desc, sizeof desc);
        cr_assert_str_eq(desc, "TIMESTAMP(UTC,NANOS)");
        tlf_pqm_logical_desc(&d.schema[2].logical, desc, sizeof desc);
        cr_assert_str_eq(desc, "DECIMAL(38,4)");
        cr_assert(d.schema[2].has_type_length && d.schema[2].type_length == 16);
        cr_assert(d.schema[3].logical.has_crs && streq(d.schema[3].logical.crs, "OGC:CRS84"));
        cr_assert(d.schema[3].logical.has_algorithm && d.schema[3].logical.algorithm == 4);
        cr_assert(m->has_statistics);
        const tlf_pqm_stats *s = &m->statistics;
        cr_assert(s->has_max && s->max.len == 4 && memcmp(s->max.p, "\x7f\0\0\x01", 4) == 0);
        cr_assert(bineq(s->min, "\x80"));
        cr_assert(s->has_min_value && s->min_value.len == 0);
        cr_assert(bineq(s->max_value, "zz"));
        cr_assert(s->has_null_count && s->null_count == 3);
        cr_assert_eq(s->distinct_count, 12345678901LL);
        cr_assert(s->has_is_max_value_exact && s->is_max_value_exact);
        cr_assert(s->has_is_min_value_exact && !s->is_min_value_exact);
        cr_assert(s->has_nan_count && s->nan_count == 0);
        cr_assert(m->has_dictionary_page_offset && m->dictionary_page_offset == 0);
        cr_assert(m->has_index_page_offset && m->index_page_offset == 77);
        cr_assert(m->has_kv && m->n_kv == 2 && !m->kv[1].has_value);
        cr_assert(m->has_encoding_stats && m->encoding_stats[1].count == 17);
        cr_assert(m->has_bloom_filter_offset && m->bloom_filter_offset == 999);
        cr_assert(m->has_bloom_filter_length && m->bloom_filter_length == 64);
        const tlf_pqm_col_chunk *k = &d.row_groups[0].columns[1];
        cr_assert(k->has_file_path && streq(k->file_path, "part-0.parquet"));
        cr_assert(k->has_offset_index_offset && k->offset_index_offset == 123456789012LL);
        cr_assert(k->has_column_index_length && k->column_index_length == 0);
        const tlf_pqm_row_group *g = &d.row_groups[1];
        cr_assert(g->has_sorting_columns && g->n_sorting_columns == 2);
        cr_assert(g->sorting_columns[1].descending && !g->sorting_columns[1].nulls_first);
        cr_assert(g->has_ordinal && g->ordinal == 32767);
        cr_assert(g->has_file_offset && g->has_total_compressed_size);
        cr_assert(d.has_created_by && streq(d.created_by, "ticklake version 0.1.0 (build test)"));
        cr_assert(d.has_kv && streq(d.kv[0].value, "v1"));
        cr_assert(d.has_column_orders && d.n_column_orders == 3);
        cr_assert_eq(d.column_orders[2].id, 77);
    } else {
        cr_assert(!d.schema[1].has_logical && !d.schema[1].has_converted_type);
        cr_assert(!m->has_statistics && !m->has_kv && !m->has_dictionary_page_offset);
        cr_assert(!m->has_encoding_stats && !m->has_bloom_filter_offset);
        cr_assert(!d.row_groups[0].has_sorting_columns && !d.row_groups[0].has_ordinal);
        cr_assert(!d.row_groups[0].columns[0].has_file_path);
        cr_assert(!d.has_created_by && !d.has_kv && !d.has_column_orders);
    }
    tlf_pqm_file_free(&d);
    tlf_pqm_file_free(&d); /* idempotent */
    tlf_buf_free(&b1);
    tlf_buf_free(&b2);
}

/* PQ-T6, PQ-T8, PQ-T9 */
Test(pq_meta, file_roundtrip_all_optional_fields_set)
{
    check_file_roundtrip(1);
}

Test(pq_meta, file_roundtrip_no_optional_fields)
{
    check_file_roundtrip(0);
}

Test(pq_meta, every_logical_type_roundtrips)
{
    static const int ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16,
                              17, 18, 19};
    fixture x;
    make_fixture(&x, 0);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        tlf_pqm_logical *lt = &x.schema[3].logical;
        memset(lt, 0, sizeof *lt);
        x.schema[3].has_logical = 1;
        lt->id = ids[i];
        lt->known = 1;
        lt->unit = TLF_PQM_UNIT_MILLIS;
        lt->bit_width = 16;
        lt->dec_precision = 9;
        lt->dec_scale = 2;
        if (ids[i] == TLF_PQM_LT_VARIANT) {
            lt->has_spec_version = 1;
            lt->spec_version = 1;
        }
        tlf_buf b1 = {0}, b2 = {0};
        encode_file(&x.fm, &b1);
        tlf_pqm_file d;
        tl_error err = {0};
        cr_assert_eq(tlf_pqm_decode_file(b1.p, b1.len, 0, &d, &err), TL_OK, "%s",
                     err.msg);
        const tlf_pqm_logical *o = &d.schema[3].logical;
        cr_assert(d.schema[3].has_logical);
        cr_assert_eq(o->id, ids[i]);
        cr_assert(o->known);
        char desc[64];
        tlf_pqm_logical_desc(o, desc, sizeof desc);
        if (ids[i] == TLF_PQM_LT_TIME)
            cr_assert_str_eq(desc, "TIME(local,MILLIS)");
        if (ids[i] == TLF_PQM_LT_INTEGER)
            cr_assert_str_eq(desc, "INTEGER(16,unsigned)");
        if (ids[i] == TLF_PQM_LT_VARIANT)
            cr_assert(o->has_spec_version && o->spec_version == 1);
        encode_file(&d, &b2);
        cr_assert(bufeq(&b1, &b2), "logical type %d", ids[i]);
        tlf_pqm_file_free(&d);
        tlf_buf_free(&b1);
        tlf_buf_free(&b2);
    }
}

/* PQ-T5 */
Test(pq_meta, unknown_logical_type_id_is_kept)
{
    fixture x;
    make_fixture(&x, 0);
    x.schema[3].has_logical = 1;
    x.schema[3].logical.id = 2555;
    tlf_buf b = {0};
    encode_file(&x.fm, &b);
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(b.p, b.len, 0, &d, &err), TL_OK, "%s", err.msg);
    cr_assert(d.schema[3].has_logical);
    cr_assert_eq(d.schema[3].logical.id, 2555);
    cr_assert(!d.schema[3].logical.known);
    char desc[64];
    tlf_pqm_logical_desc(&d.schema[3].logical, desc, sizeof desc);
    cr_assert_str_eq(desc, "unknown logical type id 2555");
    tlf_pqm_file_free(&d);
    tlf_buf_free(&b);
}

/* out's statistics point into *keep (freed by the caller) */
static void ph_roundtrip(const tlf_pqm_page_header *ph, tlf_pqm_page_header *out,
                         tlf_buf *keep)
{
    tlf_buf b1 = {0}, b2 = {0};
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_encode_page_header(ph, &b1, &err), TL_OK);
    /* trailing bytes (the page) are not consumed */
    tlf_buf_append(&b1, "PAGEDATA", 8, NULL);
    size_t used = 0;
    cr_assert_eq(tlf_pqm_decode_page_header(b1.p, b1.len, 100, out, &used, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(used, b1.len - 8);
    cr_assert_eq(tlf_pqm_encode_page_header(out, &b2, &err), TL_OK);
    cr_assert_eq(b2.len, used);
    cr_assert(memcmp(b1.p, b2.p, used) == 0);
    /* truncation at every length fails cleanly */
    for (size_t k = 0; k < used; k++) {
        tlf_pqm_page_header t;
        cr_assert_eq(tlf_pqm_decode_page_header(b1.p, k, 0, &t, &used, &err),
                     TL_ECORRUPT, "prefix %zu", k);
    }
    tlf_buf_free(keep);
    *keep = b1;
    tlf_buf_free(&b2);
}

Test(pq_meta, page_header_v1_dict_v2_roundtrip)
{
    tlf_pqm_page_header ph = {0}, o;
    tlf_buf keep = {0};
    ph.type = TLF_PQM_PAGE_DATA;
    ph.uncompressed_page_size = 1 << 20;
    ph.compressed_page_size = 12345;
    ph.has_crc = 1;
    ph.crc = 0xdeadbeefu;
    ph.has_data_page = 1;
    ph.data_page.num_values = 20000;
    ph.data_page.encoding = TLF_PQM_ENC_RLE_DICTIONARY;
    ph.data_page.definition_level_encoding = TLF_PQM_ENC_RLE;
    ph.data_page.repetition_level_encoding = TLF_PQM_ENC_BIT_PACKED;
    ph.data_page.has_statistics = 1;
    ph.data_page.statistics = full_stats();
    ph_roundtrip(&ph, &o, &keep);
    cr_assert(o.has_crc && o.crc == 0xdeadbeefu);
    cr_assert(o.has_data_page && !o.has_dict_page && !o.has_data_page_v2);
    cr_assert_eq(o.data_page.num_values, 20000);
    cr_assert_eq(o.data_page.repetition_level_encoding, TLF_PQM_ENC_BIT_PACKED);
    cr_assert(o.data_page.has_statistics && o.data_page.statistics.null_count == 3);
    cr_assert(bineq(o.data_page.statistics.max_value, "zz"));

    memset(&ph, 0, sizeof ph);
    ph.type = TLF_PQM_PAGE_DICTIONARY;
    ph.has_dict_page = 1;
    ph.dict_page.num_values = 7;
    ph.dict_page.encoding = TLF_PQM_ENC_PLAIN;
    ph_roundtrip(&ph, &o, &keep);
    cr_assert(!o.has_crc && o.has_dict_page && !o.dict_page.has_is_sorted);
    ph.dict_page.has_is_sorted = 1;
    ph.dict_page.is_sorted = 1;
    ph_roundtrip(&ph, &o, &keep);
    cr_assert(o.dict_page.has_is_sorted && o.dict_page.is_sorted);

    memset(&ph, 0, sizeof ph);
    ph.type = TLF_PQM_PAGE_DATA_V2;
    ph.has_data_page_v2 = 1;
    tlf_pqm_data_page_v2 *v2 = &ph.data_page_v2;
    v2->num_values = 10;
    v2->num_nulls = 3;
    v2->num_rows = 10;
    v2->encoding = TLF_PQM_ENC_DELTA_BINARY_PACKED;
    v2->definition_levels_byte_length = 4;
    v2->repetition_levels_byte_length = 0;
    ph_roundtrip(&ph, &o, &keep);
    cr_assert(!o.data_page_v2.has_is_compressed);
    cr_assert_eq(o.data_page_v2.is_compressed, 1); /* default true */
    cr_assert(!o.data_page_v2.has_statistics);
    v2->has_is_compressed = 1;
    v2->is_compressed = 0;
    v2->has_statistics = 1;
    v2->statistics.has_null_count = 1;
    v2->statistics.null_count = 3;
    ph_roundtrip(&ph, &o, &keep);
    cr_assert(o.data_page_v2.has_is_compressed && !o.data_page_v2.is_compressed);
    cr_assert_eq(o.data_page_v2.num_nulls, 3);
    cr_assert_eq(o.data_page_v2.definition_levels_byte_length, 4);

    memset(&ph, 0, sizeof ph);
    ph.type = TLF_PQM_PAGE_INDEX;
    ph.has_index_page = 1;
    ph_roundtrip(&ph, &o, &keep);
    cr_assert(o.has_index_page);
    tlf_buf_free(&keep);
}

/* PQ-T9: the example of spec/PARQUET.md "Thrift and metadata" */
Test(pq_meta, page_header_exact_bytes)
{
    /* DICTIONARY_PAGE, 100/60 bytes, crc -1, dict {7, PLAIN, sorted} */
    tlf_pqm_page_header ph = {0};
    ph.type = TLF_PQM_PAGE_DICTIONARY;
    ph.uncompressed_page_size = 100;
    ph.compressed_page_size = 60;
    ph.has_crc = 1;
    ph.crc = 0xffffffffu;
    ph.has_dict_page = 1;
    ph.dict_page.num_values = 7;
    ph.dict_page.encoding = 0;
    ph.dict_page.has_is_sorted = 1;
    ph.dict_page.is_sorted = 1;
    tlf_buf b = {0};
    cr_assert_eq(tlf_pqm_encode_page_header(&ph, &b, NULL), TL_OK);
    static const uint8_t want[] = {
        0x15, 0x04,       /* 1: i32 2 (zigzag 4) */
        0x15, 0xc8, 0x01, /* 2: i32 100 */
        0x15, 0x78,       /* 3: i32 60 */
        0x15, 0x01,       /* 4: i32 -1 */
        0x3c,             /* 7: struct (delta 3) */
        0x15, 0x0e,       /*   1: i32 7 */
        0x15, 0x00,       /*   2: i32 0 */
        0x11,             /*   3: bool true */
        0x00,             /*   stop */
        0x00};            /* stop */
    cr_assert_eq(b.len, sizeof want, "len %zu", b.len);
    cr_assert(memcmp(b.p, want, sizeof want) == 0);
    tlf_buf_free(&b);
}

Test(pq_meta, column_index_and_offset_index_roundtrip)
{
    uint8_t nullp[16];
    tlf_pqm_bin mins[16], maxs[16];
    int64_t nc[16], nan[16];
    for (int i = 0; i < 16; i++) {
        nullp[i] = i % 3 == 0;
        mins[i] = nullp[i] ? B("") : B("\x01\x02");
        maxs[i] = nullp[i] ? B("") : B("\xff");
        nc[i] = i == 5 ? -1 : i;
        nan[i] = 0;
    }
    for (int full = 0; full < 2; full++) {
        tlf_pqm_column_index ci = {0}, o;
        ci.n_pages = 16; /* long-form list headers */
        ci.null_pages = nullp;
        ci.min_values = mins;
        ci.max_values = maxs;
        ci.boundary_order = TLF_PQM_ASCENDING;
        ci.has_null_counts = (uint8_t)full;
        ci.null_counts = nc;
        ci.has_nan_counts = (uint8_t)full;
        ci.nan_counts = nan;
        tlf_buf b1 = {0}, b2 = {0};
        tl_error err = {0};
        cr_assert_eq(tlf_pqm_encode_column_index(&ci, &b1, &err), TL_OK);
        cr_assert_eq(tlf_pqm_decode_column_index(b1.p, b1.len, 0, &o, &err), TL_OK,
                     "%s", err.msg);
        cr_assert_eq(o.n_pages, 16);
        cr_assert_eq(o.boundary_order, TLF_PQM_ASCENDING);
        for (int i = 0; i < 16; i++) {
            cr_assert_eq(o.null_pages[i], nullp[i]);
            cr_assert_eq(o.min_values[i].len, mins[i].len);
            if (full)
                cr_assert_eq(o.null_counts[i], nc[i]);
        }
        cr_assert_eq(o.has_null_counts, full);
        cr_assert_eq(tlf_pqm_encode_column_index(&o, &b2, &err), TL_OK);
        cr_assert(bufeq(&b1, &b2));
        for (size_t k = 0; k < b1.len; k++) {
            tlf_pqm_column_index t;
            cr_assert_eq(tlf_pqm_decode_column_index(b1.p, k, 0, &t, &err),
                         TL_ECORRUPT);
        }
        tlf_pqm_column_index_free(&o);
        tlf_buf_free(&b1);
        tlf_buf_free(&b2);
    }
    tlf_pqm_page_location locs[20];
    int64_t ub[20];
    for (int i = 0; i < 20; i++) {
        locs[i] = (tlf_pqm_page_location){4 + 1000LL * i, 1000, 20000LL * i};
        ub[i] = i * 7;
    }
    for (int full = 0; full < 2; full++) {
        tlf_pqm_offset_index oi = {0}, o;
        oi.n_pages = 20;
        oi.page_locations = locs;
        oi.has_unencoded_byte_array_data_bytes = (uint8_t)full;
        oi.n_unencoded = 20;
        oi.unencoded_byte_array_data_bytes = ub;
        tlf_buf b1 = {0}, b2 = {0};
        tl_error err = {0};
        cr_assert_eq(tlf_pqm_encode_offset_index(&oi, &b1, &err), TL_OK);
        cr_assert_eq(tlf_pqm_decode_offset_index(b1.p, b1.len, 0, &o, &err), TL_OK,
                     "%s", err.msg);
        cr_assert_eq(o.n_pages, 20);
        cr_assert_eq(o.page_locations[19].first_row_index, 380000);
        cr_assert_eq(o.has_unencoded_byte_array_data_bytes, full);
        cr_assert_eq(tlf_pqm_encode_offset_index(&o, &b2, &err), TL_OK);
        cr_assert(bufeq(&b1, &b2));
        for (size_t k = 0; k < b1.len; k++) {
            tlf_pqm_offset_index t;
            cr_assert_eq(tlf_pqm_decode_offset_index(b1.p, k, 0, &t, &err),
                         TL_ECORRUPT);
        }
        tlf_pqm_offset_index_free(&o);
        tlf_buf_free(&b1);
        tlf_buf_free(&b2);
    }
}

Test(pq_meta, column_index_lists_must_agree)
{
    tlf_buf b2 = {0};
    tlf_pqm_column_index o;
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, &b2, NULL);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field(&w, 1, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_TRUE, 2);
    tlf_thr_w_bool_elem(&w, 0);
    tlf_thr_w_bool_elem(&w, 0);
    tlf_thr_w_field(&w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_BINARY, 1);
    tlf_thr_w_binary(&w, "a", 1);
    tlf_thr_w_field(&w, 3, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_BINARY, 2);
    tlf_thr_w_binary(&w, "a", 1);
    tlf_thr_w_binary(&w, "b", 1);
    tlf_thr_w_field_i32(&w, 4, 0);
    tlf_thr_w_struct_end(&w);
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_column_index(b2.p, b2.len, 0, &o, &err),
                 TL_ECORRUPT);
    cr_assert(strstr(err.msg, "ColumnIndex: list lengths disagree: null_pages 2, "
                              "min_values 1"),
              "%s", err.msg);
    tlf_buf_free(&b2);
}

Test(pq_meta, file_truncated_at_every_length_fails_cleanly)
{
    fixture x;
    make_fixture(&x, 1);
    tlf_buf b = {0};
    encode_file(&x.fm, &b);
    for (size_t k = 0; k < b.len; k++) {
        /* copy so ASan catches any read past the prefix */
        uint8_t *c = malloc(k ? k : 1);
        memcpy(c, b.p, k);
        tlf_pqm_file d;
        tl_error err = {0};
        cr_assert_eq(tlf_pqm_decode_file(c, k, 0, &d, &err), TL_ECORRUPT,
                     "prefix %zu", k);
        cr_assert(strncmp(err.msg, "FileMetaData", 12) == 0, "%s", err.msg);
        cr_assert(strstr(err.msg, " at byte "), "%s", err.msg);
        cr_assert_null(d.schema);
        free(c);
    }
    tlf_buf_free(&b);
}

/* ---- error paths and skipping ---------------------------------------------------- */

/* FileMetaData with one row group of one column chunk whose ColumnMetaData
 * body is written by `cm` (fields 1.. of ColumnMetaData). */
static void build_file_with_cm(tlf_buf *b, void (*cm)(tlf_thr_writer *w))
{
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, b, NULL);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_i32(&w, 1, 1);
    tlf_thr_w_field(&w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, 1);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_binary(&w, 4, "root", 4);
    tlf_thr_w_struct_end(&w);
    tlf_thr_w_field_i64(&w, 3, 5);
    tlf_thr_w_field(&w, 4, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, 1);
    tlf_thr_w_struct_begin(&w);             /* RowGroup */
    tlf_thr_w_field(&w, 1, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, 1);
    tlf_thr_w_struct_begin(&w);             /* ColumnChunk */
    tlf_thr_w_field_i64(&w, 2, 4);
    tlf_thr_w_field(&w, 3, TLF_THR_STRUCT);
    tlf_thr_w_struct_begin(&w);             /* ColumnMetaData */
    cm(&w);
    tlf_thr_w_struct_end(&w);
    tlf_thr_w_struct_end(&w);
    tlf_thr_w_field_i64(&w, 2, 10);
    tlf_thr_w_field_i64(&w, 3, 5);
    tlf_thr_w_struct_end(&w);
    tlf_thr_w_struct_end(&w);
    cr_assert_eq(tlf_thr_writer_status(&w), TL_OK);
}

static void cm_head(tlf_thr_writer *w)
{
    tlf_thr_w_field_i32(w, 1, TLF_PQM_INT64);
    tlf_thr_w_field(w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_I32, 1);
    tlf_thr_w_i32(w, 0);
    tlf_thr_w_field(w, 3, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_BINARY, 1);
    tlf_thr_w_binary(w, "x", 1);
    tlf_thr_w_field_i32(w, 4, 0);
    tlf_thr_w_field_i64(w, 5, 5);
    tlf_thr_w_field_i64(w, 6, 100);
}

static void cm_long_varint(tlf_thr_writer *w)
{
    cm_head(w);
    tlf_thr_w_field(w, 7, TLF_THR_I64);
    for (int i = 0; i < 11; i++)
        tlf_thr_w_byte(w, (int8_t)0xff);
    tlf_thr_w_byte(w, 0);
}

/* PQ-T7 */
Test(pq_meta, error_names_path_field_and_byte)
{
    tlf_buf b = {0};
    build_file_with_cm(&b, cm_long_varint);
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(b.p, b.len, 5000, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "FileMetaData.row_groups[0].columns[0].meta_data."
                              "total_compressed_size (field 7): varint longer "
                              "than 10 bytes at byte 50"),
              "%s", err.msg);
    tlf_buf_free(&b);
}

static void cm_negative(tlf_thr_writer *w)
{
    cm_head(w);
    tlf_thr_w_field_i64(w, 7, -1);
    tlf_thr_w_field_i64(w, 9, 4);
}

static void cm_missing_dpo(tlf_thr_writer *w)
{
    cm_head(w);
    tlf_thr_w_field_i64(w, 7, 100);
}

static void cm_ok_with_junk(tlf_thr_writer *w)
{
    cm_head(w);
    tlf_thr_w_field_i64(w, 7, 100);
    tlf_thr_w_field_i64(w, 9, 4);
    /* field 15 (bloom_filter_length, i32) as list<struct> as in
     * dict-page-offset-zero.parquet: skipped */
    tlf_thr_w_field(w, 15, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_STRUCT, 2);
    for (int i = 0; i < 2; i++) {
        tlf_thr_w_struct_begin(w);
        tlf_thr_w_field_i32(w, 1, 0);
        tlf_thr_w_field(w, 2, TLF_THR_STRUCT);
        tlf_thr_w_struct_begin(w);
        tlf_thr_w_field_binary(w, 1, "nested", 6);
        tlf_thr_w_struct_end(w);
        tlf_thr_w_struct_end(w);
    }
    /* statistics (12) as i64: mistyped, skipped */
    tlf_thr_w_field_i64(w, 12, 7);
    /* unknown fields with nested containers */
    tlf_thr_w_field(w, 200, TLF_THR_MAP);
    tlf_thr_w_varint(w, 1);
    tlf_thr_w_byte(w, (int8_t)((TLF_THR_BINARY << 4) | TLF_THR_LIST));
    tlf_thr_w_binary(w, "k", 1);
    tlf_thr_w_list_begin(w, TLF_THR_STRUCT, 1);
    tlf_thr_w_struct_begin(w);
    tlf_thr_w_field_double(w, 3, 2.5);
    tlf_thr_w_struct_end(w);
    tlf_thr_w_field_bool(w, 201, 1);
    /* encodings again, mistyped element type: skipped (the first stays) */
    tlf_thr_w_field(w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(w, TLF_THR_BINARY, 1);
    tlf_thr_w_binary(w, "zz", 2);
}

/* PQ-T3, PQ-T4 */
Test(pq_meta, negative_size_and_missing_required_are_corrupt)
{
    tlf_buf b = {0};
    tlf_pqm_file d;
    tl_error err = {0};
    build_file_with_cm(&b, cm_negative);
    cr_assert_eq(tlf_pqm_decode_file(b.p, b.len, 0, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "meta_data.total_compressed_size (field 7): "
                              "negative value -1 at byte"),
              "%s", err.msg);
    b.len = 0;
    build_file_with_cm(&b, cm_missing_dpo);
    cr_assert_eq(tlf_pqm_decode_file(b.p, b.len, 0, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "FileMetaData.row_groups[0].columns[0].meta_data "
                              "(field 3): missing required field "
                              "data_page_offset (field 9) at byte"),
              "%s", err.msg);
    tlf_buf_free(&b);
}

/* PQ-T2 */
Test(pq_meta, unknown_and_mistyped_fields_are_skipped)
{
    tlf_buf b = {0};
    build_file_with_cm(&b, cm_ok_with_junk);
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(b.p, b.len, 0, &d, &err), TL_OK, "%s", err.msg);
    const tlf_pqm_col_meta *m = &d.row_groups[0].columns[0].meta_data;
    cr_assert(!m->has_bloom_filter_length);
    cr_assert(!m->has_statistics);
    cr_assert_eq(m->n_encodings, 1);
    cr_assert_eq(m->data_page_offset, 4);
    cr_assert_eq(d.num_rows, 5);
    tlf_pqm_file_free(&d);
    tlf_buf_free(&b);
}

/* PQ-T4 */
Test(pq_meta, invalid_physical_type_rejected_with_value)
{
    fixture x;
    make_fixture(&x, 0);
    x.schema[1].type = -7;
    tlf_buf b = {0};
    encode_file(&x.fm, &b);
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(b.p, b.len, 0, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "FileMetaData.schema[1].type (field 1): invalid "
                              "physical type -7"),
              "%s", err.msg);
    tlf_buf_free(&b);
}

Test(pq_meta, deep_unknown_nesting_bounded_in_footer)
{
    /* FileMetaData { 99: struct{1: struct{1: ...}} } 200 levels */
    uint8_t buf[512];
    size_t n = 0;
    buf[n++] = 0x0c; /* long form, struct */
    buf[n++] = 0xc6; /* zigzag(99) = 198 */
    buf[n++] = 0x01;
    for (int i = 0; i < 200; i++)
        buf[n++] = 0x1c;
    for (int i = 0; i < 202; i++)
        buf[n++] = 0x00;
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(buf, n, 0, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "FileMetaData.<field 99>: nesting deeper than 64"),
              "%s", err.msg);
}

/* PQ-T1 */
Test(pq_meta, huge_declared_counts_fail_without_allocating)
{
    /* schema: list<struct> of 2^31 elements in a 10-byte footer */
    static const uint8_t buf[] = {0x15, 0x02, 0x19, 0xfc, 0x80, 0x80,
                                  0x80, 0x80, 0x08, 0x00};
    tlf_pqm_file d;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(buf, sizeof buf, 0, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "FileMetaData.schema (field 2): list of 2147483648 "
                              "elements cannot fit"),
              "%s", err.msg);
    /* a count that fits the bytes but whose elements are not there */
    static const uint8_t buf2[] = {0x15, 0x02, 0x19, 0x2c, 0x48, 0x00, 0x00};
    cr_assert_eq(tlf_pqm_decode_file(buf2, sizeof buf2, 0, &d, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "FileMetaData.schema[1]"), "%s", err.msg);
}

Test(pq_meta, encoder_rejects_null_arrays)
{
    fixture x;
    make_fixture(&x, 0);
    x.fm.schema = NULL;
    tlf_buf b = {0};
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_encode_file(&x.fm, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "schema"), "%s", err.msg);
    tlf_buf_free(&b);
}

/* ---- real files -------------------------------------------------------------------- */

static int decode_footer(const char *path, tlf_pqm_file *fm, tl_error *err)
{
    size_t n, off, fl;
    uint8_t *b = slurp(path, &n);
    cr_assert(b, "cannot read %s", path);
    cr_assert_eq(footer_of(b, n, &off, &fl), 0, "%s: no footer", path);
    int rc = tlf_pqm_decode_file(b + off, fl, off, fm, err);
    if (rc == TL_OK) {
        /* decoded structs do not point into the buffer */
        memset(b, 0xaa, n);
        tlf_buf e1 = {0}, e2 = {0};
        cr_assert_eq(tlf_pqm_encode_file(fm, &e1, err), TL_OK);
        tlf_pqm_file d2;
        cr_assert_eq(tlf_pqm_decode_file(e1.p, e1.len, 0, &d2, err), TL_OK,
                     "%s: re-decode: %s", path, err->msg);
        cr_assert_eq(tlf_pqm_encode_file(&d2, &e2, err), TL_OK);
        cr_assert(bufeq(&e1, &e2), "%s: re-encode differs", path);
        tlf_pqm_file_free(&d2);
        tlf_buf_free(&e1);
        tlf_buf_free(&e2);
    }
    free(b);
    return rc;
}

static void decode_dir(const char *sub, int *count)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", PQT_DIR, sub);
    DIR *d = opendir(dir);
    if (!d)
        cr_skip_test("%s absent", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 8 || strcmp(e->d_name + l - 8, ".parquet") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        tlf_pqm_file fm;
        tl_error err = {0};
        int rc = decode_footer(path, &fm, &err);
        cr_assert_eq(rc, TL_OK, "%s: %s", path, err.msg);
        cr_assert_gt(fm.n_schema, 0, "%s", path);
        int64_t rows = 0;
        for (uint32_t g = 0; g < fm.n_row_groups; g++)
            rows += fm.row_groups[g].num_rows;
        cr_assert_eq(rows, fm.num_rows, "%s: row groups sum to %lld, footer says %lld",
                     path, (long long)rows, (long long)fm.num_rows);
        tlf_pqm_file_free(&fm);
        (*count)++;
    }
    closedir(d);
}

Test(pq_meta_corpus, good_and_lenient_footers_decode)
{
    int n = 0;
    decode_dir("good", &n);
    decode_dir("lenient", &n);
    cr_assert_geq(n, 30, "only %d files", n);
}

static int64_t csv_rows(const char *path)
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    cr_assert(b, "%s", path);
    int64_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += b[i] == '\n';
    free(b);
    return lines - 1; /* header */
}

Test(pq_meta_corpus, num_rows_match_expected_csv)
{
    static const char *const stems[] = {
        "good/alltypes_plain", "good/int32_decimal", "good/gen_tick_duckdb_v1_snappy",
        "good/gen_tick_polars_lz4raw", "good/datapage_v1-uncompressed-checksum",
        "good/gen_tick_duckdb_empty"};
    char path[1024];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", PQT_DIR);
    FILE *f = fopen(path, "r");
    if (!f)
        cr_skip_test("%s absent", path);
    fclose(f);
    for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.parquet", PQT_DIR, stems[i]);
        tlf_pqm_file fm;
        tl_error err = {0};
        cr_assert_eq(decode_footer(path, &fm, &err), TL_OK, "%s", err.msg);
        snprintf(path, sizeof path, "%s/%s.expected.csv", PQT_DIR, stems[i]);
        cr_assert_eq(fm.num_rows, csv_rows(path), "%s", stems[i]);
        tlf_pqm_file_free(&fm);
    }
}

Test(pq_meta_corpus, special_files)
{
    tlf_pqm_file fm;
    tl_error err = {0};
    char path[1024];
    snprintf(path, sizeof path, "%s/good/unknown-logical-type.parquet", PQT_DIR);
    FILE *f = fopen(path, "r");
    if (!f)
        cr_skip_test("%s absent", path);
    fclose(f);
    cr_assert_eq(decode_footer(path, &fm, &err), TL_OK, "%s", err.msg);
    int seen = 0;
    for (uint32_t i = 0; i < fm.n_schema; i++)
        if (fm.schema[i].has_logical && !fm.schema[i].logical.known) {
            char desc[64];
            tlf_pqm_logical_desc(&fm.schema[i].logical, desc, sizeof desc);
            cr_assert_str_eq(desc, "unknown logical type id 2555");
            seen = 1;
        }
    cr_assert(seen);
    tlf_pqm_file_free(&fm);

    snprintf(path, sizeof path, "%s/good/dict-page-offset-zero.parquet", PQT_DIR);
    cr_assert_eq(decode_footer(path, &fm, &err), TL_OK, "%s", err.msg);
    cr_assert(!fm.row_groups[0].columns[0].meta_data.has_bloom_filter_length);
    tlf_pqm_file_free(&fm);

    snprintf(path, sizeof path, "%s/bad/PARQUET-1481.parquet", PQT_DIR);
    cr_assert_eq(decode_footer(path, &fm, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "schema[1].type (field 1): invalid physical type -7"),
              "%s", err.msg);

    snprintf(path, sizeof path, "%s/bad/ARROW-GH-41317.parquet", PQT_DIR);
    cr_assert_eq(decode_footer(path, &fm, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "missing required field encodings"), "%s", err.msg);
}
