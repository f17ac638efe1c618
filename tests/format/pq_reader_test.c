/*
 * pq_reader_test.c - the Parquet reader (tl_parquet.h, format/src/
 * pq_reader.c): the ../shared/parquet-testing corpus at format level (every
 * good/ file decodes equal to its expected CSV, via tl_pq_open and
 * tl_pq_open_mem; lenient/ files decode equal or fail with a specific
 * message; bad/ files fail cleanly), plus small files built by hand here
 * (type mapping, nulls, encodings, error messages naming file, row group,
 * column, page and byte offset).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pq_csv.h"
#include "tl_parquet.h"

#define CORPUS TL_SOURCE_DIR "/../shared/parquet-testing"

/* ---- helpers ------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *b = malloc(n + 1);
    cr_assert_not_null(b);
    size_t got = fread(b, 1, n, fp);
    fclose(fp);
    cr_assert_eq(got, n, "%s: short read", path);
    b[n] = 0;
    *len = n;
    return b;
}

static int corpus_present(void)
{
    struct stat st;
    return stat(CORPUS "/MANIFEST.tsv", &st) == 0;
}

/* Sorted names of dir matching *.parquet. */
static int list_parquet(const char *dir, char names[][256], int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        size_t l = strlen(e->d_name);
        if (l > 8 && strcmp(e->d_name + l - 8, ".parquet") == 0 && l < 256)
            snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Compares CSV text line by line; on a difference writes "line N: got
 * '...' expected '...'" to why and returns 0. */
static int csv_equal(const char *got, size_t got_len, const char *exp, size_t exp_len,
                     char *why, size_t why_cap)
{
    size_t a = 0, b = 0;
    int line = 1;
    while (a < got_len || b < exp_len) {
        size_t ea = a, eb = b;
        while (ea < got_len && got[ea] != '\n')
            ea++;
        while (eb < exp_len && exp[eb] != '\n')
            eb++;
        if (ea - a != eb - b || memcmp(got + a, exp + b, ea - a) != 0) {
            snprintf(why, why_cap, "line %d: got '%.*s' expected '%.*s'", line,
                     (int)(ea - a > 200 ? 200 : ea - a), got + a,
                     (int)(eb - b > 200 ? 200 : eb - b), exp + b);
            return 0;
        }
        a = ea + 1;
        b = eb + 1;
        line++;
    }
    return 1;
}

/* Decodes path (by path, or from memory) into CSV text. Returns the reader
 * status; *csv owns the text on success. */
static int decode_csv(const char *path, int from_mem, pqcsv_buf *csv, tl_error *err)
{
    tl_pq_file *f = NULL;
    char *mem = NULL;
    int rc;
    if (from_mem) {
        size_t len;
        mem = slurp(path, &len);
        cr_assert_not_null(mem, "%s: cannot read", path);
        rc = tl_pq_open_mem(mem, len, path, &f, err);
    } else {
        rc = tl_pq_open(path, &f, err);
    }
    if (rc == TL_OK) {
        rc = pqcsv_file(f, csv, err);
        tl_pq_close(f);
    }
    free(mem);
    return rc;
}

/* ---- corpus ------------------------------------------------------------------- */

static char names[128][256];

Test(pq_reader_corpus, good_files_equal_expected_csv)
{
    if (!corpus_present())
        cr_skip_test("%s not present", CORPUS);
    int n = list_parquet(CORPUS "/good", names, 128);
    cr_assert_gt(n, 0);
    char failures[8192] = "";
    int n_fail = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/good/%.512s", CORPUS, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/good/%.*s.expected.csv", CORPUS,
                 (int)(strlen(names[i]) - 8), names[i]);
        size_t exp_len;
        char *exp = slurp(exp_path, &exp_len);
        cr_assert_not_null(exp, "%s missing", exp_path);
        for (int mem = 0; mem < 2; mem++) {
            pqcsv_buf csv = {0};
            tl_error err = {0};
            char why[1024] = "";
            int rc = decode_csv(path, mem, &csv, &err);
            int ok = rc == TL_OK && csv_equal(csv.p, csv.len, exp, exp_len, why, sizeof why);
            if (rc != TL_OK)
                snprintf(why, sizeof why, "error %d: %s", rc, err.msg);
            if (!ok) {
                n_fail++;
                size_t l = strlen(failures);
                snprintf(failures + l, sizeof failures - l, "\n  %s (%s): %s", names[i],
                         mem ? "mem" : "file", why);
            }
            pqcsv_free(&csv);
            if (!ok)
                break; /* one report per file */
        }
        free(exp);
    }
    cr_assert_eq(n_fail, 0, "%d of %d good files differ:%s", n_fail, n, failures);
}

/* What a lenient file may fail with, when it fails. */
static const struct {
    const char *file;
    int code;
    const char *needle;
} lenient_errors[] = {
    {"hadoop_lz4_compressed.parquet", TL_EUNSUPPORTED, "lz4"},
    {"non_hadoop_lz4_compressed.parquet", TL_EUNSUPPORTED, "lz4"},
    {"datapage_v1-corrupt-checksum.parquet", TL_ECHECKSUM, "CRC mismatch"},
    {"nested_lists.snappy.parquet", TL_EUNSUPPORTED, "nested schema not supported"},
    {"nulls.snappy.parquet", TL_EUNSUPPORTED, "nested schema not supported"},
};

Test(pq_reader_corpus, lenient_files_equal_or_fail_specifically)
{
    if (!corpus_present())
        cr_skip_test("%s not present", CORPUS);
    int n = list_parquet(CORPUS "/lenient", names, 128);
    cr_assert_gt(n, 0);
    char failures[8192] = "";
    int n_fail = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/lenient/%.512s", CORPUS, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/lenient/%.*s.expected.csv", CORPUS,
                 (int)(strlen(names[i]) - 8), names[i]);
        size_t exp_len;
        char *exp = slurp(exp_path, &exp_len);
        cr_assert_not_null(exp, "%s missing", exp_path);
        pqcsv_buf csv = {0};
        tl_error err = {0};
        char why[1024] = "";
        int rc = decode_csv(path, 0, &csv, &err);
        int ok;
        if (rc == TL_OK) {
            ok = csv_equal(csv.p, csv.len, exp, exp_len, why, sizeof why);
            cr_log_info("lenient %s: data equal to the expected CSV: %s", names[i],
                        ok ? "yes" : why);
        } else {
            ok = strstr(err.msg, path) != NULL; /* names the file */
            int known = 0;
            for (size_t k = 0; k < sizeof lenient_errors / sizeof *lenient_errors; k++)
                if (strcmp(lenient_errors[k].file, names[i]) == 0) {
                    known = 1;
                    ok = ok && rc == lenient_errors[k].code &&
                         strcasestr(err.msg, lenient_errors[k].needle) != NULL;
                }
            ok = ok && known; /* other lenient files must decode */
            snprintf(why, sizeof why, "error %d: %s", rc, err.msg);
            cr_log_info("lenient %s: refused: %s", names[i], err.msg);
        }
        if (!ok) {
            n_fail++;
            size_t l = strlen(failures);
            snprintf(failures + l, sizeof failures - l, "\n  %s: %s", names[i], why);
        }
        pqcsv_free(&csv);
        free(exp);
    }
    cr_assert_eq(n_fail, 0, "%d of %d lenient files:%s", n_fail, n, failures);
}

/* Expected failure of each bad file: code and a word of the message. */
static const struct {
    const char *file;
    int code;
    const char *needle;
} bad_errors[] = {
    {"PARQUET-1481.parquet", TL_ECORRUPT, "physical type -7"},
    {"ARROW-GH-47662.parquet", TL_ECORRUPT, "page"},
    {"ARROW-GH-41317.parquet", TL_ECORRUPT, "encodings"},
    {"ARROW-GH-45185.parquet", TL_EUNSUPPORTED, "nested schema not supported"},
    {"uniform_encryption.parquet", TL_EUNSUPPORTED, "encrypted"},
    {"encrypt_columns_plaintext_footer.parquet", TL_EUNSUPPORTED, "encrypt"},
    {"mut_empty_file.parquet", TL_ECORRUPT, "too small"},
    {"mut_not_parquet.parquet", TL_ECORRUPT, "PAR1"},
    {"mut_truncated_tail.parquet", TL_ECORRUPT, "PAR1"},
    {"mut_footer_len_overflow.parquet", TL_ECORRUPT, "footer length"},
    {"mut_codec_lzo.parquet", TL_EUNSUPPORTED, "lzo"},
    {"mut_data_page_offset_oob.parquet", TL_ECORRUPT, "past"},
    {"mut_page_header_garbage.parquet", TL_ECORRUPT, "PageHeader"},
};

Test(pq_reader_corpus, bad_files_fail_cleanly)
{
    if (!corpus_present())
        cr_skip_test("%s not present", CORPUS);
    int n = list_parquet(CORPUS "/bad", names, 128);
    cr_assert_gt(n, 0);
    char failures[8192] = "";
    int n_fail = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/bad/%.512s", CORPUS, names[i]);
        for (int mem = 0; mem < 2; mem++) {
            pqcsv_buf csv = {0};
            tl_error err = {0};
            int rc = decode_csv(path, mem, &csv, &err);
            pqcsv_free(&csv);
            int ok = rc != TL_OK && err.code == rc && err.msg[0] && strstr(err.msg, path);
            int known = 0;
            for (size_t k = 0; k < sizeof bad_errors / sizeof *bad_errors; k++)
                if (strcmp(bad_errors[k].file, names[i]) == 0) {
                    known = 1;
                    ok = ok && rc == bad_errors[k].code &&
                         strcasestr(err.msg, bad_errors[k].needle) != NULL;
                }
            if (!mem)
                cr_log_info("bad %s: %d %s", names[i], rc, err.msg);
            if (!ok || !known) {
                n_fail++;
                size_t l = strlen(failures);
                snprintf(failures + l, sizeof failures - l, "\n  %.200s (%s): %s%d %s", names[i],
                         mem ? "mem" : "file", known ? "" : "(not in the table) ", rc, err.msg);
                break;
            }
        }
    }
    cr_assert_eq(n_fail, 0, "%d of %d bad files:%s", n_fail, n, failures);
}

/* ---- files written by tl_pq_writer ------------------------------------------ */

#include "enc.h"
#include "pq_meta.h"

static int mem_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    return tlf_buf_append((tlf_buf *)ctx, buf, len, err);
}

/* Column data of the round-trip table: every writable type. */
enum { RT_COLS = 14 };
static const tl_coldef rt_cols[RT_COLS] = {
    {"b", TL_BOOL},     {"i8", TL_INT8},     {"i16", TL_INT16},   {"i32", TL_INT32},
    {"i64", TL_INT64},  {"u8", TL_UINT8},    {"u16", TL_UINT16},  {"u32", TL_UINT32},
    {"u64", TL_UINT64}, {"f32", TL_FLOAT32}, {"f64", TL_FLOAT64}, {"ts", TL_TIMESTAMP},
    {"d", TL_DATE},     {"s", TL_STRING},
};

typedef struct rt_table {
    uint64_t n;
    void *vals[RT_COLS];
    uint8_t *valid;    /* shared by every column: row i null when i % 7 == 3 */
    uint32_t *offs;
    uint8_t *data;
    tl_colvec vec[RT_COLS];
} rt_table;

static void rt_make(rt_table *t, uint64_t n, int distinct_strings)
{
    memset(t, 0, sizeof *t);
    t->n = n;
    t->valid = calloc((n + 7) / 8 + 1, 1);
    for (uint64_t i = 0; i < n; i++)
        tl_bit_set(t->valid, i, i % 7 != 3);
    for (int c = 0; c < RT_COLS - 1; c++)
        t->vals[c] = calloc(n + 1, tl_type_width(rt_cols[c].type));
    t->offs = calloc(n + 1, sizeof(uint32_t));
    t->data = malloc(n * 24 + 1);
    uint32_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        int null = i % 7 == 3;
        int64_t k = (int64_t)i;
        ((uint8_t *)t->vals[0])[i] = null ? 0 : (uint8_t)(i % 3 == 0);
        ((int8_t *)t->vals[1])[i] = null ? 0 : (int8_t)(k % 256 - 128);
        ((int16_t *)t->vals[2])[i] = null ? 0 : (int16_t)(k * 977 % 65536 - 32768);
        ((int32_t *)t->vals[3])[i] = null ? 0 : (int32_t)(k * 2654435761u) ^ (i == 5 ? INT32_MIN : 0);
        ((int64_t *)t->vals[4])[i] = null ? 0 : i == 1 ? INT64_MIN : i == 2 ? INT64_MAX : k * 1000003 - 77;
        ((uint8_t *)t->vals[5])[i] = null ? 0 : (uint8_t)(i * 7);
        ((uint16_t *)t->vals[6])[i] = null ? 0 : (uint16_t)(i * 4099);
        ((uint32_t *)t->vals[7])[i] = null ? 0 : (uint32_t)(i * 2246822519u);
        ((uint64_t *)t->vals[8])[i] = null ? 0 : i == 4 ? UINT64_MAX : i * 0x9E3779B97F4A7C15ull;
        ((float *)t->vals[9])[i] = null ? 0 : i == 6 ? -0.0f : (float)k / 3.0f;
        ((double *)t->vals[10])[i] = null ? 0 : i == 8 ? NAN : i == 9 ? -INFINITY : (double)k * 0.1;
        ((int64_t *)t->vals[11])[i] = null ? 0 : 1710253800000000000ll + k * 1234567891ll - 5000000000000ll;
        ((int32_t *)t->vals[12])[i] = null ? 0 : (int32_t)(19000 + k % 400 - 200);
        if (!null) {
            int l = distinct_strings ? snprintf((char *)t->data + pos, 24, "v%llu-%llx",
                                                (unsigned long long)i, (unsigned long long)(i * 31))
                                     : snprintf((char *)t->data + pos, 24, "%s",
                                                (const char *[]){"AAPL", "", "MSFT", "a,b\"c"}[i % 4]);
            pos += (uint32_t)l;
        }
        t->offs[i + 1] = pos;
    }
    for (int c = 0; c < RT_COLS; c++) {
        t->vec[c].validity = t->valid;
        t->vec[c].values = c < RT_COLS - 1 ? t->vals[c] : NULL;
    }
    t->vec[RT_COLS - 1].offsets = t->offs;
    t->vec[RT_COLS - 1].data = t->data;
}

static void rt_free(rt_table *t)
{
    for (int c = 0; c < RT_COLS; c++)
        free(t->vals[c]);
    free(t->valid);
    free(t->offs);
    free(t->data);
}

static void write_pq(const tl_coldef *cols, uint32_t nc, const uint8_t *optional,
                     const tl_pq_write_opts *o, const tl_colvec *vec, uint64_t n, tlf_buf *out)
{
    tl_error err = {0};
    tl_pq_writer *w = NULL;
    tlf_sink sink = {mem_write, out};
    cr_assert_eq(tl_pq_writer_open(cols, nc, optional, o, sink, &w, &err), TL_OK, "%s", err.msg);
    /* in two calls, so pages and row groups cross call boundaries */
    uint64_t half = n / 2;
    cr_assert_eq(tl_pq_writer_write(w, vec, half, &err), TL_OK, "%s", err.msg);
    tl_colvec rest[RT_COLS];
    for (uint32_t c = 0; c < nc; c++) {
        rest[c] = vec[c];
        size_t wd = tl_type_width(cols[c].type);
        if (wd)
            rest[c].values = (const uint8_t *)vec[c].values + half * wd;
        else
            rest[c].offsets = vec[c].offsets + half;
        rest[c].validity = NULL;
        if (vec[c].validity) {
            static uint8_t vb[1 << 16];
            memset(vb, 0, sizeof vb);
            for (uint64_t i = half; i < n; i++)
                tl_bit_set(vb, i - half, tl_bit_get(vec[c].validity, i));
            rest[c].validity = vb;
            /* every column shares the same validity, so one copy will do */
            for (uint32_t k = 0; k < nc; k++)
                if (vec[k].validity == vec[c].validity)
                    rest[k].validity = vb;
        }
    }
    cr_assert_eq(tl_pq_writer_write(w, rest, n - half, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &err), TL_OK, "%s", err.msg);
    tl_pq_writer_free(w);
}

/* Reads every chunk of f and compares with t (ts_div: timestamps written
 * floored to this many ns). */
static void rt_check(tl_pq_file *f, const rt_table *t, const uint8_t *optional, int ts_unit,
                     int64_t ts_div)
{
    cr_assert_eq(tl_pq_n_rows(f), t->n);
    cr_assert_eq(tl_pq_n_cols(f), RT_COLS);
    tl_pq_colbuf buf = {0}; /* one buffer for every chunk: reuse across types */
    for (int c = 0; c < RT_COLS; c++) {
        const tl_pq_colinfo *ci = tl_pq_col(f, (uint32_t)c);
        cr_assert_str_eq(ci->name, rt_cols[c].name);
        cr_assert_eq(ci->type, rt_cols[c].type, "column %s: type %d, desc %s", ci->name,
                     ci->type, ci->desc);
        int opt = optional ? optional[c] : 1;
        cr_assert_eq(ci->optional, opt);
        uint64_t row = 0;
        for (uint32_t rg = 0; rg < tl_pq_n_row_groups(f); rg++) {
            tl_error err = {0};
            cr_assert_eq(tl_pq_read_chunk(f, rg, (uint32_t)c, &buf, &err), TL_OK, "%s", err.msg);
            cr_assert_eq(buf.n, tl_pq_row_group_rows(f, rg));
            if (!opt)
                cr_assert_null(buf.vec.validity, "column %s", ci->name);
            for (uint64_t i = 0; i < buf.n; i++, row++) {
                int present = !opt || row % 7 != 3;
                cr_assert_eq(tl_bit_get(buf.vec.validity, i), present, "column %s row %llu",
                             ci->name, (unsigned long long)row);
                if (ci->type == TL_STRING) {
                    uint32_t a = buf.vec.offsets[i], b = buf.vec.offsets[i + 1];
                    uint32_t ea = t->offs[row], eb = t->offs[row + 1];
                    cr_assert_eq(b - a, present ? eb - ea : 0, "column s row %llu",
                                 (unsigned long long)row);
                    cr_assert(memcmp(buf.vec.data + a, t->data + ea, b - a) == 0);
                    continue;
                }
                size_t w = tl_type_width(ci->type);
                const uint8_t *got = (const uint8_t *)buf.vec.values + i * w;
                uint8_t exp[8] = {0};
                if (present)
                    memcpy(exp, (const uint8_t *)t->vals[c] + row * w, w);
                if (ci->type == TL_TIMESTAMP) {
                    cr_assert_eq(buf.ts_unit, ts_unit);
                    int64_t e;
                    memcpy(&e, exp, 8);
                    e = e / ts_div - (e % ts_div < 0);
                    memcpy(exp, &e, 8);
                }
                cr_assert(memcmp(got, exp, w) == 0, "column %s row %llu differs", ci->name,
                          (unsigned long long)row);
            }
        }
        cr_assert_eq(row, t->n);
    }
    tl_pq_colbuf_free(&buf);
}

static void roundtrip(const tl_pq_write_opts *o, uint64_t n, int distinct, const uint8_t *optional)
{
    rt_table t;
    rt_make(&t, n, distinct);
    for (int c = 0; optional && c < RT_COLS; c++)
        if (!optional[c])
            t.vec[c].validity = NULL; /* null slots hold 0 / "": written as values */
    tlf_buf out = {0};
    write_pq(rt_cols, RT_COLS, optional, o, t.vec, n, &out);
    tl_pq_file *f = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open_mem(out.p, out.len, "rt.parquet", &f, &err), TL_OK, "%s", err.msg);
    rt_check(f, &t, optional, o->timestamp_micros ? TL_PQ_MICROS : TL_PQ_NANOS,
             o->timestamp_micros ? 1000 : 1);
    tl_pq_close(f);
    tlf_buf_free(&out);
    rt_free(&t);
}

Test(pq_reader, roundtrip_every_type_v1_zstd)
{
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    roundtrip(&o, 3000, 0, NULL);
}

Test(pq_reader, roundtrip_v2_pages_small_pages_many_row_groups)
{
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.data_page_v2 = 1;
    o.page_rows = 97;
    o.row_group_rows = 1000;
    o.codec = TL_PQ_SNAPPY;
    roundtrip(&o, 4321, 1, NULL);
}

Test(pq_reader, roundtrip_uncompressed_plain_fallback_required_columns)
{
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.codec = TL_PQ_UNCOMPRESSED;
    o.dict_max_bytes = 256; /* strings fall back to PLAIN after a few pages */
    o.page_rows = 500;
    uint8_t optional[RT_COLS];
    for (int c = 0; c < RT_COLS; c++)
        optional[c] = c % 2;
    roundtrip(&o, 2500, 1, optional);
}

Test(pq_reader, timestamp_micros_floor_and_unit)
{
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.timestamp_micros = 1;
    roundtrip(&o, 777, 0, NULL);
}

Test(pq_reader, required_columns_have_no_validity)
{
    static const tl_coldef cols[2] = {{"x", TL_INT64}, {"s", TL_STRING}};
    int64_t xs[5] = {1, -2, 3, INT64_MIN, INT64_MAX};
    uint32_t offs[6] = {0, 1, 1, 3, 6, 6};
    tl_colvec vec[2] = {{.values = xs}, {.offsets = offs, .data = (const uint8_t *)"abcdef"}};
    uint8_t optional[2] = {0, 0};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    tlf_buf out = {0};
    write_pq(cols, 2, optional, &o, vec, 5, &out);
    tl_pq_file *f = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open_mem(out.p, out.len, "req.parquet", &f, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->optional, 0);
    cr_assert_str_eq(tl_pq_col(f, 0)->desc, "INT64/INTEGER(64,signed)");
    cr_assert_str_eq(tl_pq_col(f, 1)->desc, "BYTE_ARRAY/STRING");
    cr_assert_eq(tl_pq_col(f, 1)->is_blob, 0);
    cr_assert(strncmp(tl_pq_created_by(f), "ticklake version", 16) == 0, "%s",
              tl_pq_created_by(f));
    tl_pq_colbuf b = {0};
    cr_assert_eq(tl_pq_read_chunk(f, 0, 0, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_null(b.vec.validity);
    cr_assert(memcmp(b.vec.values, xs, sizeof xs) == 0);
    cr_assert_eq(tl_pq_read_chunk(f, 0, 1, &b, &err), TL_OK, "%s", err.msg);
    cr_assert(memcmp(b.vec.offsets, offs, sizeof offs) == 0);
    cr_assert(memcmp(b.vec.data, "abcdef", 6) == 0);
    /* out-of-range arguments */
    cr_assert_eq(tl_pq_read_chunk(f, 1, 0, &b, &err), TL_EINVAL);
    cr_assert_eq(tl_pq_read_chunk(f, 0, 2, &b, &err), TL_EINVAL);
    cr_assert_null(tl_pq_col(f, 2));
    tl_pq_colbuf_free(&b);
    tl_pq_close(f);
    tlf_buf_free(&out);
}

/* A page byte flipped: the CRC check names file, row group, column, page
 * and byte offset. */
Test(pq_reader, page_crc_mismatch_names_the_page)
{
    static const tl_coldef cols[1] = {{"px", TL_FLOAT64}};
    double v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = i * 0.25;
    tl_colvec vec[1] = {{.values = v}};
    tl_pq_write_opts o;
    tl_pq_write_opts_default(&o);
    o.codec = TL_PQ_UNCOMPRESSED;
    o.page_rows = 100;
    tlf_buf out = {0};
    write_pq(cols, 1, NULL, &o, vec, 1000, &out);
    /* find the bytes of value 500 (0.25 * 500 = 125.0) and change them */
    double needle = 125.0;
    uint8_t *hit = memmem(out.p, out.len, &needle, 8);
    cr_assert_not_null(hit);
    hit[0] ^= 1;
    tl_pq_file *f = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open_mem(out.p, out.len, "crc.parquet", &f, &err), TL_OK, "%s", err.msg);
    tl_pq_colbuf b = {0};
    cr_assert_eq(tl_pq_read_chunk(f, 0, 0, &b, &err), TL_ECHECKSUM);
    cr_assert(strstr(err.msg, "crc.parquet: row group 0, column 'px', page ") != NULL, "%s",
              err.msg);
    cr_assert(strstr(err.msg, " at byte ") && strstr(err.msg, "CRC mismatch"), "%s", err.msg);
    tl_pq_colbuf_free(&b);
    tl_pq_close(f);
    tlf_buf_free(&out);
}

Test(pq_reader, open_errors)
{
    tl_error err = {0};
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open("/nonexistent/x.parquet", &f, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "/nonexistent/x.parquet"));
    cr_assert_null(f);
    cr_assert_eq(tl_pq_open_mem("PAR1PAR1", 8, "short.parquet", &f, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "short.parquet: 8 bytes is too small"), "%s", err.msg);
    static const uint8_t enc[16] = "PAR1\0\0\0\0\4\0\0\0PARE";
    cr_assert_eq(tl_pq_open_mem(enc, 16, "e.parquet", &f, &err), TL_EUNSUPPORTED);
    cr_assert(strstr(err.msg, "encrypted"), "%s", err.msg);
    static const uint8_t big[16] = "PAR1\0\0\0\0\5\0\0\0PAR1";
    cr_assert_eq(tl_pq_open_mem(big, 16, "b.parquet", &f, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "footer length 5"), "%s", err.msg);
    static const uint8_t junk[16] = "PAR1\xff\xff\xff\xff\4\0\0\0PAR1";
    cr_assert_eq(tl_pq_open_mem(junk, 16, "j.parquet", &f, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "j.parquet: footer: FileMetaData"), "%s", err.msg);
}

/* ---- files built by hand (pq_meta encoders) ----------------------------------- */

typedef struct hb {
    tlf_buf out;
    tlf_pqm_schema_elem schema[8];
    uint32_t n_schema;
    tlf_pqm_col_chunk cc[8];
    tlf_pqm_str paths[8];
    uint32_t n_cc;
    int64_t rows;
    uint64_t chunk_start;
    int codec;
} hb;

static const int32_t hb_encs[1] = {0};

static void hb_put(hb *h, const void *p, size_t n)
{
    tl_error err = {0};
    cr_assert_eq(tlf_buf_append(&h->out, p, n, &err), TL_OK);
}

static void hb_init(hb *h, int64_t rows)
{
    memset(h, 0, sizeof *h);
    h->rows = rows;
    hb_put(h, "PAR1", 4);
    h->schema[0].name = (tlf_pqm_str){"schema", 6};
    h->schema[0].has_num_children = 1;
    h->n_schema = 1;
}

static tlf_pqm_schema_elem *hb_leaf(hb *h, const char *name, int phys, int rep)
{
    tlf_pqm_schema_elem *e = &h->schema[h->n_schema++];
    e->name = (tlf_pqm_str){name, (uint32_t)strlen(name)};
    e->has_type = 1;
    e->type = phys;
    e->has_repetition = 1;
    e->repetition = rep;
    h->schema[0].num_children++;
    return e;
}

static void hb_page(hb *h, tlf_pqm_page_header ph, const void *body, size_t len)
{
    if (!ph.compressed_page_size)
        ph.compressed_page_size = (int32_t)len;
    if (!ph.uncompressed_page_size)
        ph.uncompressed_page_size = (int32_t)len;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_encode_page_header(&ph, &h->out, &err), TL_OK, "%s", err.msg);
    hb_put(h, body, len);
}

static void hb_chunk_begin(hb *h)
{
    h->chunk_start = h->out.len;
}

static void hb_chunk_end(hb *h, int phys, const char *name, int64_t num_values)
{
    tlf_pqm_col_chunk *c = &h->cc[h->n_cc];
    memset(c, 0, sizeof *c);
    c->has_meta_data = 1;
    c->file_offset = (int64_t)h->chunk_start;
    tlf_pqm_col_meta *m = &c->meta_data;
    m->type = phys;
    m->n_encodings = 1;
    m->encodings = hb_encs;
    h->paths[h->n_cc] = (tlf_pqm_str){name, (uint32_t)strlen(name)};
    m->n_path = 1;
    m->path_in_schema = &h->paths[h->n_cc];
    m->codec = h->codec;
    m->num_values = num_values;
    m->total_compressed_size = m->total_uncompressed_size =
        (int64_t)(h->out.len - h->chunk_start);
    m->data_page_offset = (int64_t)h->chunk_start;
    h->n_cc++;
}

typedef void (*hb_mut)(hb *h, tlf_pqm_file *fm, tlf_pqm_row_group *rg);

static void hb_finish_mut(hb *h, hb_mut mut);

static void hb_finish(hb *h)
{
    hb_finish_mut(h, NULL);
}

static void hb_finish_mut(hb *h, hb_mut mut)
{
    tlf_pqm_row_group rg = {0};
    rg.n_columns = h->n_cc;
    rg.columns = h->cc;
    rg.num_rows = h->rows;
    tlf_pqm_file fm = {0};
    fm.version = 1;
    fm.n_schema = h->n_schema;
    fm.schema = h->schema;
    fm.num_rows = h->rows;
    fm.n_row_groups = 1;
    fm.row_groups = &rg;
    if (mut)
        mut(h, &fm, &rg);
    size_t at = h->out.len;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_encode_file(&fm, &h->out, &err), TL_OK, "%s", err.msg);
    uint32_t flen = (uint32_t)(h->out.len - at);
    hb_put(h, &flen, 4);
    hb_put(h, "PAR1", 4);
}

/* One-column file: leaf (phys, rep) holding the given pages. */
static tlf_pqm_page_header ph_v1(int32_t n, int32_t enc)
{
    tlf_pqm_page_header ph = {0};
    ph.type = TLF_PQM_PAGE_DATA;
    ph.has_data_page = 1;
    ph.data_page.num_values = n;
    ph.data_page.encoding = enc;
    ph.data_page.definition_level_encoding = TLF_PQM_ENC_RLE;
    ph.data_page.repetition_level_encoding = TLF_PQM_ENC_RLE;
    return ph;
}

static tlf_pqm_page_header ph_dict(int32_t n)
{
    tlf_pqm_page_header ph = {0};
    ph.type = TLF_PQM_PAGE_DICTIONARY;
    ph.has_dict_page = 1;
    ph.dict_page.num_values = n;
    ph.dict_page.encoding = TLF_PQM_ENC_PLAIN;
    return ph;
}

static int hb_read(hb *h, tl_pq_file **f, tl_pq_colbuf *b, tl_error *err)
{
    int rc = tl_pq_open_mem(h->out.p, h->out.len, "hand.parquet", f, err);
    if (rc)
        return rc;
    return tl_pq_read_chunk(*f, 0, 0, b, err);
}

static void hb_done(hb *h, tl_pq_file *f, tl_pq_colbuf *b)
{
    tl_pq_colbuf_free(b);
    tl_pq_close(f);
    tlf_buf_free(&h->out);
}

static void int96(uint8_t *p, int64_t nanos, int32_t jd)
{
    memcpy(p, &nanos, 8);
    memcpy(p + 8, &jd, 4);
}

Test(pq_reader_hand, int96_nanos_when_every_value_fits)
{
    hb h;
    hb_init(&h, 2);
    hb_leaf(&h, "t", TL_PQ_INT96, TLF_PQM_REQUIRED);
    uint8_t v[24];
    int96(v, 1, 2440588);
    int96(v + 12, 86399999999999, 2440587);
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, 24);
    hb_chunk_end(&h, TL_PQ_INT96, "t", 2);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_TIMESTAMP);
    cr_assert_str_eq(tl_pq_col(f, 0)->desc, "INT96");
    cr_assert_eq(b.ts_unit, TL_PQ_NANOS);
    cr_assert_eq(b.ts_sub_us_dropped, 0);
    int64_t lo, hi;
    cr_assert_eq(tl_pq_chunk_i64_bounds(f, 0, 0, &lo, &hi), 0, "INT96 has no usable bounds");
    const int64_t *t = b.vec.values;
    cr_assert_eq(t[0], 1);
    cr_assert_eq(t[1], -1);
    hb_done(&h, f, &b);
}

/* A later page holds year 9999 (beyond int64 ns): the whole chunk comes
 * back in µs, earlier values floored, and the two whose nanoseconds the
 * floor dropped are counted (an exact consumer refuses the chunk). */
Test(pq_reader_hand, int96_micros_when_a_value_overflows_ns)
{
    hb h;
    hb_init(&h, 3);
    hb_leaf(&h, "t", TL_PQ_INT96, TLF_PQM_REQUIRED);
    uint8_t v[24];
    int96(v, 1, 2440588);
    int96(v + 12, 86399999999999, 2440587);
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, 24);
    int96(v, 0, 5373484); /* 9999-12-31 */
    hb_page(&h, ph_v1(1, TLF_PQM_ENC_PLAIN), v, 12);
    hb_chunk_end(&h, TL_PQ_INT96, "t", 3);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(b.ts_unit, TL_PQ_MICROS);
    cr_assert_eq(b.ts_sub_us_dropped, 2);
    const int64_t *t = b.vec.values;
    cr_assert_eq(t[0], 0);
    cr_assert_eq(t[1], -1);
    cr_assert_eq(t[2], 253402214400000000ll);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, int96_dictionary_overflow_switches_before_gather)
{
    hb h;
    hb_init(&h, 3);
    hb_leaf(&h, "t", TL_PQ_INT96, TLF_PQM_OPTIONAL);
    uint8_t v[24];
    int96(v, 1000, 2440588);
    int96(v + 12, 0, 5373484);
    hb_chunk_begin(&h);
    hb_page(&h, ph_dict(2), v, 24);
    /* def levels: u32 length 2, RLE run of 3 ones; indices: bit width 1,
     * one bit-packed group holding 1, 0, 0 */
    uint8_t page[] = {2, 0, 0, 0, 3 << 1, 1, 1, 3, 0x01};
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_RLE_DICTIONARY), page, sizeof page);
    hb_chunk_end(&h, TL_PQ_INT96, "t", 3);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(b.ts_unit, TL_PQ_MICROS);
    cr_assert_eq(b.ts_sub_us_dropped, 0, "1000 ns and 0 ns are whole microseconds");
    const int64_t *t = b.vec.values;
    cr_assert_eq(t[0], 253402214400000000ll);
    cr_assert_eq(t[1], 1);
    cr_assert_eq(t[2], 1);
    cr_assert_null(b.vec.validity);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, float16_to_float32_exactly)
{
    hb h;
    hb_init(&h, 8);
    tlf_pqm_schema_elem *e = hb_leaf(&h, "h", TL_PQ_FIXED_LEN_BYTE_ARRAY, TLF_PQM_REQUIRED);
    e->has_type_length = 1;
    e->type_length = 2;
    e->has_logical = 1;
    e->logical.id = TLF_PQM_LT_FLOAT16;
    e->logical.known = 1;
    static const uint16_t hv[8] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x7e00, 0x8000, 0x03ff};
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(8, TLF_PQM_ENC_PLAIN), hv, sizeof hv);
    hb_chunk_end(&h, TL_PQ_FIXED_LEN_BYTE_ARRAY, "h", 8);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    const tl_pq_colinfo *ci = tl_pq_col(f, 0);
    cr_assert_eq(ci->type, TL_FLOAT32);
    cr_assert_eq(ci->is_float16, 1);
    cr_assert_str_eq(ci->desc, "FIXED_LEN_BYTE_ARRAY(2)/FLOAT16");
    const float *x = b.vec.values;
    cr_assert_eq(x[0], 1.0f);
    cr_assert_eq(x[1], -2.0f);
    cr_assert_eq(x[2], ldexpf(1, -24));
    cr_assert_eq(x[3], 65504.0f);
    cr_assert(isinf(x[4]) && x[4] > 0);
    cr_assert(isnan(x[5]));
    cr_assert(x[6] == 0 && signbit(x[6]));
    cr_assert_eq(x[7], ldexpf(1023, -24));
    hb_done(&h, f, &b);
}

static void dec_leaf(tlf_pqm_schema_elem *e, int prec, int scale, int use_logical)
{
    if (use_logical) {
        e->has_logical = 1;
        e->logical.id = TLF_PQM_LT_DECIMAL;
        e->logical.known = 1;
        e->logical.dec_precision = prec;
        e->logical.dec_scale = scale;
    } else {
        e->has_converted_type = 1;
        e->converted_type = TLF_PQM_CT_DECIMAL;
        e->has_precision = e->has_scale = 1;
        e->precision = prec;
        e->scale = scale;
    }
}

Test(pq_reader_hand, decimal_int32_to_nearest_double)
{
    hb h;
    hb_init(&h, 3);
    dec_leaf(hb_leaf(&h, "p", TL_PQ_INT32, TLF_PQM_REQUIRED), 9, 2, 1);
    int32_t v[3] = {-12345, 1, 999999999};
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_PLAIN), v, sizeof v);
    hb_chunk_end(&h, TL_PQ_INT32, "p", 3);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    const tl_pq_colinfo *ci = tl_pq_col(f, 0);
    cr_assert_eq(ci->type, TL_FLOAT64);
    cr_assert(ci->is_decimal && ci->decimal_precision == 9 && ci->decimal_scale == 2);
    cr_assert_str_eq(ci->desc, "INT32/DECIMAL(9,2)");
    const double *x = b.vec.values;
    cr_assert_eq(x[0], -123.45);
    cr_assert_eq(x[1], 0.01);
    cr_assert_eq(x[2], 9999999.99);
    hb_done(&h, f, &b);
}

static void expect_strings(const tl_pq_colbuf *b, const char *const *s, size_t n)
{
    cr_assert_eq(b->n, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = b->vec.offsets[i], e = b->vec.offsets[i + 1];
        cr_assert(e - a == strlen(s[i]) && memcmp(b->vec.data + a, s[i], e - a) == 0,
                  "value %zu: '%.*s', expected '%s'", i, (int)(e - a), b->vec.data + a, s[i]);
    }
}

Test(pq_reader_hand, decimal_int64_precision_18_exact_text)
{
    hb h;
    hb_init(&h, 4);
    dec_leaf(hb_leaf(&h, "n", TL_PQ_INT64, TLF_PQM_REQUIRED), 18, 4, 0);
    int64_t v[4] = {-5, 123456789012345678ll, 0, -100000};
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(4, TLF_PQM_ENC_PLAIN), v, sizeof v);
    hb_chunk_end(&h, TL_PQ_INT64, "n", 4);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_STRING);
    cr_assert_str_eq(tl_pq_col(f, 0)->desc, "INT64/DECIMAL");
    expect_strings(&b, (const char *[]){"-0.0005", "12345678901234.5678", "0.0000", "-10.0000"}, 4);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, decimal_flba16_bignum_text)
{
    hb h;
    hb_init(&h, 3);
    tlf_pqm_schema_elem *e = hb_leaf(&h, "d", TL_PQ_FIXED_LEN_BYTE_ARRAY, TLF_PQM_OPTIONAL);
    e->has_type_length = 1;
    e->type_length = 16;
    dec_leaf(e, 38, 10, 1);
    uint8_t v[48];
    memset(v, 0xff, 16); /* -1 */
    /* 10^37 = 0x0785EE10D5DA46D900F436A000000000 */
    static const uint8_t p37[16] = {0x07, 0x85, 0xEE, 0x10, 0xD5, 0xDA, 0x46, 0xD9,
                                    0x00, 0xF4, 0x36, 0xA0, 0x00, 0x00, 0x00, 0x00};
    memcpy(v + 16, p37, 16);
    /* -(2^127) */
    memset(v + 32, 0, 16);
    v[32] = 0x80;
    /* def levels 1 1 1 as a bit-packed group: len 2, header 3, byte 0x07 */
    uint8_t page[6 + 48] = {2, 0, 0, 0, 3, 0x07};
    memcpy(page + 6, v, 48);
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_PLAIN), page, sizeof page);
    hb_chunk_end(&h, TL_PQ_FIXED_LEN_BYTE_ARRAY, "d", 3);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_STRING);
    cr_assert_eq(tl_pq_col(f, 0)->is_blob, 0);
    expect_strings(&b,
                   (const char *[]){"-0.0000000001", "1000000000000000000000000000.0000000000",
                                    "-17014118346046923173168730371.5884105728"},
                   3);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, decimal_byte_array_converted_type_with_nulls)
{
    hb h;
    hb_init(&h, 4);
    dec_leaf(hb_leaf(&h, "d", TL_PQ_BYTE_ARRAY, TLF_PQM_OPTIONAL), 5, 2, 0);
    /* levels 1 0 1 1 (bit-packed), values 12345, -1, 0 (empty) */
    uint8_t page[] = {2, 0, 0, 0, 3, 0x0d, 2, 0, 0, 0, 0x30, 0x39, 1, 0, 0, 0, 0xff, 0, 0, 0, 0};
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(4, TLF_PQM_ENC_PLAIN), page, sizeof page);
    hb_chunk_end(&h, TL_PQ_BYTE_ARRAY, "d", 4);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_FLOAT64);
    const double *x = b.vec.values;
    cr_assert_not_null(b.vec.validity);
    cr_assert(tl_bit_get(b.vec.validity, 0) && !tl_bit_get(b.vec.validity, 1));
    cr_assert_eq(x[0], 123.45);
    cr_assert_eq(x[1], 0.0);
    cr_assert_eq(x[2], -0.01);
    cr_assert_eq(x[3], 0.0);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, int8_out_of_range_names_page)
{
    hb h;
    hb_init(&h, 2);
    tlf_pqm_schema_elem *e = hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_REQUIRED);
    e->has_logical = 1;
    e->logical.id = TLF_PQM_LT_INTEGER;
    e->logical.known = 1;
    e->logical.bit_width = 8;
    e->logical.is_signed = 1;
    int32_t v[2] = {-128, 300};
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, sizeof v);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 2);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_ECORRUPT);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_INT8);
    cr_assert(strstr(err.msg, "hand.parquet: row group 0, column 'x', page 0 at byte 4: "),
              "%s", err.msg);
    cr_assert(strstr(err.msg, "300 out of range"), "%s", err.msg);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, uint_converted_types)
{
    hb h;
    hb_init(&h, 2);
    tlf_pqm_schema_elem *e = hb_leaf(&h, "u", TL_PQ_INT32, TLF_PQM_REQUIRED);
    e->has_converted_type = 1;
    e->converted_type = TLF_PQM_CT_UINT_16;
    int32_t v[2] = {65535, 7};
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, sizeof v);
    hb_chunk_end(&h, TL_PQ_INT32, "u", 2);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_UINT16);
    cr_assert_eq(((const uint16_t *)b.vec.values)[0], 65535);
    cr_assert_eq(((const uint16_t *)b.vec.values)[1], 7);
    hb_done(&h, f, &b);
}

Test(pq_reader_hand, deprecated_bit_packed_definition_levels)
{
    hb h;
    hb_init(&h, 10);
    hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_OPTIONAL);
    /* levels 1011001110, MSB first: 0b10110011 0b10xxxxxx */
    uint8_t page[2 + 6 * 4] = {0xb3, 0x80};
    for (int32_t i = 0; i < 6; i++)
        memcpy(page + 2 + 4 * i, &(int32_t){i + 1}, 4);
    tlf_pqm_page_header ph = ph_v1(10, TLF_PQM_ENC_PLAIN);
    ph.data_page.definition_level_encoding = TLF_PQM_ENC_BIT_PACKED;
    hb_chunk_begin(&h);
    hb_page(&h, ph, page, sizeof page);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 10);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    static const int32_t exp[10] = {1, 0, 2, 3, 0, 0, 4, 5, 6, 0};
    static const char pres[] = "1011001110";
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(tl_bit_get(b.vec.validity, (uint64_t)i), pres[i] == '1', "slot %d", i);
        cr_assert_eq(((const int32_t *)b.vec.values)[i], exp[i], "slot %d", i);
    }
    hb_done(&h, f, &b);
}

/* DATA_PAGE_V2 of nulls only: the empty values body never reaches the codec. */
Test(pq_reader_hand, v2_all_null_page_empty_body)
{
    hb h;
    hb_init(&h, 3);
    h.codec = TL_PQ_SNAPPY;
    hb_leaf(&h, "s", TL_PQ_BYTE_ARRAY, TLF_PQM_OPTIONAL);
    uint8_t levels[2] = {3 << 1, 0};
    tlf_pqm_page_header ph = {0};
    ph.type = TLF_PQM_PAGE_DATA_V2;
    ph.has_data_page_v2 = 1;
    ph.data_page_v2.num_values = 3;
    ph.data_page_v2.num_rows = 3;
    ph.data_page_v2.num_nulls = 3;
    ph.data_page_v2.encoding = TLF_PQM_ENC_PLAIN;
    ph.data_page_v2.definition_levels_byte_length = 2;
    ph.data_page_v2.is_compressed = 1;
    hb_chunk_begin(&h);
    tlf_pqm_page_header ix = {0};
    ix.type = TLF_PQM_PAGE_INDEX; /* skipped */
    hb_page(&h, ix, "zz", 2);
    hb_page(&h, ph, levels, 2);
    hb_chunk_end(&h, TL_PQ_BYTE_ARRAY, "s", 3);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->is_blob, 1);
    cr_assert_not_null(b.vec.validity);
    for (int i = 0; i < 3; i++) {
        cr_assert(!tl_bit_get(b.vec.validity, (uint64_t)i));
        cr_assert_eq(b.vec.offsets[i + 1], 0);
    }
    hb_done(&h, f, &b);
}

/* Malformed one-column files: code and the words the message must hold. */
enum { BAD_TYPE, BAD_COUNT, BAD_SHORT, BAD_OVER, BAD_NODICT, BAD_LATEDICT, BAD_ENC, BAD_PTYPE,
       BAD_NESTED, BAD_N };

static void bad_file(int kind, hb *h)
{
    hb_init(h, 4);
    if (kind == BAD_NESTED) {
        tlf_pqm_schema_elem *g = &h->schema[h->n_schema++];
        g->name = (tlf_pqm_str){"g", 1};
        g->has_num_children = 1;
        g->num_children = 1;
        g->has_repetition = 1;
        h->schema[0].num_children = 1;
        hb_leaf(h, "x", TL_PQ_INT32, TLF_PQM_REQUIRED);
        h->schema[0].num_children = 1;
    } else {
        hb_leaf(h, "x", TL_PQ_INT32, TLF_PQM_REQUIRED);
    }
    int32_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    hb_chunk_begin(h);
    switch (kind) {
    case BAD_SHORT:
        hb_page(h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, 8);
        break;
    case BAD_OVER:
        hb_page(h, ph_v1(8, TLF_PQM_ENC_PLAIN), v, 32);
        break;
    case BAD_NODICT:
        hb_page(h, ph_v1(4, TLF_PQM_ENC_RLE_DICTIONARY), "\0\x08\0", 3);
        break;
    case BAD_LATEDICT:
        hb_page(h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, 8);
        hb_page(h, ph_dict(1), v, 4);
        break;
    case BAD_ENC:
        hb_page(h, ph_v1(4, TLF_PQM_ENC_DELTA_LENGTH_BYTE_ARRAY), v, 16);
        break;
    case BAD_PTYPE: {
        tlf_pqm_page_header ph = ph_v1(4, TLF_PQM_ENC_PLAIN);
        ph.type = 7;
        hb_page(h, ph, v, 16);
        break;
    }
    default:
        hb_page(h, ph_v1(4, TLF_PQM_ENC_PLAIN), v, 16);
        break;
    }
    hb_chunk_end(h, kind == BAD_TYPE ? TL_PQ_INT64 : TL_PQ_INT32, "x", kind == BAD_COUNT ? 3 : 4);
    hb_finish(h);
}

Test(pq_reader_hand, malformed_files_fail_with_placed_messages)
{
    static const struct {
        int code;
        int at_open;
        const char *needle;
    } want[BAD_N] = {
        [BAD_TYPE] = {TL_ECORRUPT, 1, "row group 0, column 'x': chunk type INT64, schema type INT32"},
        [BAD_COUNT] = {TL_ECORRUPT, 1, "3 values in the column chunk, the row group has 4 rows"},
        [BAD_SHORT] = {TL_ECORRUPT, 0, "page 1 at byte 29: column chunk (25 bytes) ends after 2 of 4 values"},
        [BAD_OVER] = {TL_ECORRUPT, 0, "page holds 8 values, only 4 of the row group's 4 rows remain"},
        [BAD_NODICT] = {TL_ECORRUPT, 0, "no dictionary page"},
        [BAD_LATEDICT] = {TL_ECORRUPT, 0, "dictionary page after data pages"},
        [BAD_ENC] = {TL_EUNSUPPORTED, 0, "encoding DELTA_LENGTH_BYTE_ARRAY (6) is not supported for INT32"},
        [BAD_PTYPE] = {TL_ECORRUPT, 0, "page 0 at byte 4: unknown page type 7"},
        [BAD_NESTED] = {TL_EUNSUPPORTED, 1, "nested schema not supported (column g.x)"},
    };
    for (int k = 0; k < BAD_N; k++) {
        hb h;
        bad_file(k, &h);
        tl_pq_file *f = NULL;
        tl_pq_colbuf b = {0};
        tl_error err = {0};
        int rc = tl_pq_open_mem(h.out.p, h.out.len, "hand.parquet", &f, &err);
        if (!want[k].at_open) {
            cr_assert_eq(rc, TL_OK, "case %d: %s", k, err.msg);
            rc = tl_pq_read_chunk(f, 0, 0, &b, &err);
        }
        cr_assert_eq(rc, want[k].code, "case %d: %d %s", k, rc, err.msg);
        cr_assert(strncmp(err.msg, "hand.parquet: ", 14) == 0, "case %d: %s", k, err.msg);
        cr_assert(strstr(err.msg, want[k].needle), "case %d: %s", k, err.msg);
        hb_done(&h, f, &b);
    }
}

/* DuckDB 1.x ends a page's hybrid data with a bit-packed run header of 32
 * groups whatever the count left, and only the bytes of the values needed:
 * accepted for dictionary indices and definition levels (PQ-R12). */
Test(pq_reader_hand, overlong_last_bit_packed_run_is_accepted)
{
    hb h;
    hb_init(&h, 3);
    hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_OPTIONAL);
    int32_t dict[2] = {10, 20};
    /* levels: len 2, run header 32 groups (0x41), bits 1 0 1; indices: bit
     * width 1, run header 32 groups, bits 1 0 (slots 0 and 2) */
    uint8_t page[] = {2, 0, 0, 0, 0x41, 0x05, 1, 0x41, 0x01};
    hb_chunk_begin(&h);
    hb_page(&h, ph_dict(2), dict, sizeof dict);
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_RLE_DICTIONARY), page, sizeof page);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 3);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    const int32_t *v = b.vec.values;
    cr_assert(tl_bit_get(b.vec.validity, 0) && !tl_bit_get(b.vec.validity, 1) &&
              tl_bit_get(b.vec.validity, 2));
    cr_assert_eq(v[0], 20);
    cr_assert_eq(v[1], 0);
    cr_assert_eq(v[2], 10);
    hb_done(&h, f, &b);
}

/* ...but an index past the dictionary is still refused, naming the page. */
Test(pq_reader_hand, dictionary_index_out_of_range)
{
    hb h;
    hb_init(&h, 2);
    hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_REQUIRED);
    int32_t dict[2] = {10, 20};
    uint8_t page[] = {2, 0x03, 0x09}; /* bit width 2, one group: 1, 2 */
    hb_chunk_begin(&h);
    hb_page(&h, ph_dict(2), dict, sizeof dict);
    hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN_DICTIONARY), page, sizeof page);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 2);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "hand.parquet: row group 0, column 'x', page 1 at byte "), "%s",
              err.msg);
    hb_done(&h, f, &b);
}

/* The tolerant path writes levels at an unaligned bit position (second
 * page) and counts the nulls right. */
Test(pq_reader_hand, overlong_run_levels_at_unaligned_bit)
{
    hb h;
    hb_init(&h, 13);
    hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_OPTIONAL);
    uint8_t p1[4 + 2 + 12] = {2, 0, 0, 0, 3 << 1, 1};
    for (int32_t i = 0; i < 3; i++)
        memcpy(p1 + 6 + 4 * i, &(int32_t){100 + i}, 4);
    /* levels of slots 3..12: bits 1011001101 (slot order), 32-group header */
    uint8_t p2[4 + 3 + 24] = {3, 0, 0, 0, 0x41, 0xcd, 0x02};
    for (int32_t i = 0; i < 6; i++)
        memcpy(p2 + 7 + 4 * i, &(int32_t){i + 1}, 4);
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_PLAIN), p1, sizeof p1);
    hb_page(&h, ph_v1(10, TLF_PQM_ENC_PLAIN), p2, sizeof p2);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 13);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    static const char pres[] = "1111011001101";
    static const int32_t exp[13] = {100, 101, 102, 1, 0, 2, 3, 0, 0, 4, 5, 0, 6};
    for (int i = 0; i < 13; i++) {
        cr_assert_eq(tl_bit_get(b.vec.validity, (uint64_t)i), pres[i] == '1', "slot %d", i);
        cr_assert_eq(((const int32_t *)b.vec.values)[i], exp[i], "slot %d", i);
    }
    hb_done(&h, f, &b);
}

/* ---- footer refusals (pqr_validate, pqr_map_column) --------------------------- */

enum {
    FR_EMPTY_SCHEMA, FR_REPEATED, FR_UNTYPED_LEAF, FR_GROUP_MID, FR_NO_REP, FR_BAD_REP,
    FR_ROOT_COUNT, FR_ROOT_NO_COUNT, FR_RG_NO_COLS, FR_RG_NEG_ROWS, FR_RG_HUGE, FR_FILE_PATH,
    FR_NO_META, FR_PATH_TWO, FR_PATH_OTHER, FR_OFFSET_PAST, FR_NEG_SIZE, FR_NUM_ROWS,
    FR_DEC_NO_PREC, FR_DEC_ZERO, FR_DEC_SCALE, FR_DEC_HUGE, FR_DEC_FIT, FR_FLBA_NO_LEN,
    FR_FLBA_WIDE, FR_ENCRYPTED, FR_N
};

static int fr_case;

static void fr_mut(hb *h, tlf_pqm_file *fm, tlf_pqm_row_group *rg)
{
    static tlf_pqm_str two[2] = {{"x", 1}, {"y", 1}};
    static tlf_pqm_str other = {"y", 1};
    tlf_pqm_schema_elem *e = &h->schema[1];
    tlf_pqm_col_chunk *cc = &h->cc[0];
    switch (fr_case) {
    case FR_EMPTY_SCHEMA: fm->n_schema = 0; break;
    case FR_REPEATED: e->repetition = TLF_PQM_REPEATED; break;
    case FR_UNTYPED_LEAF: e->has_type = 0; break;
    case FR_GROUP_MID:
        /* a group "g" with one child before the leaf: g.x */
        h->schema[2] = h->schema[1];
        e->has_type = 0;
        e->name = (tlf_pqm_str){"g", 1};
        e->has_num_children = 1;
        e->num_children = 1;
        fm->n_schema = 3;
        break;
    case FR_NO_REP: e->has_repetition = 0; break;
    case FR_BAD_REP: e->repetition = 7; break;
    case FR_ROOT_COUNT: h->schema[0].num_children = 2; break;
    case FR_ROOT_NO_COUNT: h->schema[0].has_num_children = 0; break;
    case FR_RG_NO_COLS: rg->n_columns = 0; break;
    case FR_RG_NEG_ROWS: rg->num_rows = -1; break;
    case FR_RG_HUGE: rg->num_rows = (int64_t)INT32_MAX + 1; break;
    case FR_FILE_PATH:
        cc->has_file_path = 1;
        cc->file_path = (tlf_pqm_str){"other.parquet", 13};
        break;
    case FR_NO_META: cc->has_meta_data = 0; break;
    case FR_PATH_TWO:
        cc->meta_data.n_path = 2;
        cc->meta_data.path_in_schema = two;
        break;
    case FR_PATH_OTHER: cc->meta_data.path_in_schema = &other; break;
    case FR_OFFSET_PAST: cc->meta_data.data_page_offset = 1 << 20; break;
    case FR_NEG_SIZE: cc->meta_data.total_compressed_size = -1; break;
    case FR_NUM_ROWS: fm->num_rows = 5; break;
    case FR_DEC_NO_PREC:
        e->has_converted_type = 1;
        e->converted_type = TLF_PQM_CT_DECIMAL;
        break;
    case FR_DEC_ZERO:
    case FR_DEC_SCALE:
    case FR_DEC_HUGE:
    case FR_DEC_FIT:
        e->has_logical = 1;
        e->logical.known = 1;
        e->logical.id = TLF_PQM_LT_DECIMAL;
        e->logical.dec_precision = fr_case == FR_DEC_ZERO ? 0 : fr_case == FR_DEC_SCALE ? 3
                                   : fr_case == FR_DEC_HUGE ? 1001 : 10;
        e->logical.dec_scale = fr_case == FR_DEC_SCALE ? 4 : 2;
        break;
    case FR_FLBA_NO_LEN:
    case FR_FLBA_WIDE:
        e->type = TL_PQ_FIXED_LEN_BYTE_ARRAY;
        cc->meta_data.type = TL_PQ_FIXED_LEN_BYTE_ARRAY;
        e->has_type_length = fr_case == FR_FLBA_WIDE;
        e->type_length = (1 << 20) + 1;
        break;
    default:
        break;
    }
}

/* FileMetaData field 8 (encryption_algorithm) as an empty struct, added
 * before the footer's stop byte (the writer never writes it). */
static void fr_add_encryption(hb *h)
{
    uint32_t flen;
    memcpy(&flen, h->out.p + h->out.len - 8, 4);
    size_t stop = h->out.len - 9;
    cr_assert_eq(h->out.p[stop], 0);
    h->out.len = stop;
    static const uint8_t add[] = {0x0C, 0x10, 0x00, 0x00}; /* field 8 struct, long form */
    hb_put(h, add, sizeof add);
    flen += 3;
    hb_put(h, &flen, 4);
    hb_put(h, "PAR1", 4);
}

Test(pq_reader_hand, footer_refusals_name_the_field)
{
    static const struct {
        int code;
        const char *needle;
    } want[FR_N] = {
        [FR_EMPTY_SCHEMA] = {TL_ECORRUPT, "hand.parquet: footer: empty schema"},
        [FR_REPEATED] = {TL_EUNSUPPORTED, "nested schema not supported (column x: REPEATED field)"},
        [FR_UNTYPED_LEAF] = {TL_EUNSUPPORTED, "nested schema not supported (column x)"},
        [FR_GROUP_MID] = {TL_EUNSUPPORTED, "nested schema not supported (column g.x)"},
        [FR_NO_REP] = {TL_ECORRUPT, "schema element 1 ('x') has no repetition type"},
        [FR_BAD_REP] = {TL_ECORRUPT, "schema element 1 ('x'): invalid repetition type 7"},
        [FR_ROOT_COUNT] = {TL_ECORRUPT, "schema root 'schema' declares 2 children, the schema has 1 leaves"},
        [FR_ROOT_NO_COUNT] = {TL_ECORRUPT, "schema root 'schema' declares 0 children"},
        [FR_RG_NO_COLS] = {TL_ECORRUPT, "row group 0 has 0 column chunks, the schema has 1 columns"},
        /* negative counts and sizes: the footer decoder refuses them first */
        [FR_RG_NEG_ROWS] = {TL_ECORRUPT, "footer: FileMetaData.row_groups[0].num_rows (field 3): negative value -1 at byte"},
        [FR_RG_HUGE] = {TL_EUNSUPPORTED, "row group 0 has 2147483648 rows (limit 2147483647)"},
        [FR_FILE_PATH] = {TL_EUNSUPPORTED, "column 'x': column chunk stored in another file ('other.parquet')"},
        [FR_NO_META] = {TL_ECORRUPT, "column 'x': column chunk without metadata"},
        [FR_PATH_TWO] = {TL_ECORRUPT, "column 0: path_in_schema 'x..' does not match schema column 'x'"},
        [FR_PATH_OTHER] = {TL_ECORRUPT, "column 0: path_in_schema 'y' does not match schema column 'x'"},
        [FR_OFFSET_PAST] = {TL_ECORRUPT, "column chunk bytes [1048576, +"},
        [FR_NEG_SIZE] = {TL_ECORRUPT, "meta_data.total_compressed_size (field 7): negative value -1 at byte"},
        [FR_NUM_ROWS] = {TL_ECORRUPT, "footer num_rows 5, the row groups hold 4 rows"},
        [FR_DEC_NO_PREC] = {TL_ECORRUPT, "column 'x': DECIMAL without a precision"},
        [FR_DEC_ZERO] = {TL_ECORRUPT, "invalid DECIMAL(0,2)"},
        [FR_DEC_SCALE] = {TL_ECORRUPT, "invalid DECIMAL(3,4)"},
        [FR_DEC_HUGE] = {TL_EUNSUPPORTED, "DECIMAL precision 1001 is above the supported 1000"},
        [FR_DEC_FIT] = {TL_ECORRUPT, "DECIMAL(10,2) does not fit INT32 (at most 9 digits)"},
        [FR_FLBA_NO_LEN] = {TL_ECORRUPT, "FIXED_LEN_BYTE_ARRAY without a positive type_length"},
        [FR_FLBA_WIDE] = {TL_EUNSUPPORTED, "FIXED_LEN_BYTE_ARRAY(1048577) is wider than the supported 1048576"},
        [FR_ENCRYPTED] = {TL_EUNSUPPORTED, "hand.parquet: encrypted file (FileMetaData.encryption_algorithm is set)"},
    };
    for (int k = 0; k < FR_N; k++) {
        hb h;
        hb_init(&h, 4);
        hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_REQUIRED);
        int32_t v[4] = {1, 2, 3, 4};
        hb_chunk_begin(&h);
        hb_page(&h, ph_v1(4, TLF_PQM_ENC_PLAIN), v, sizeof v);
        hb_chunk_end(&h, TL_PQ_INT32, "x", 4);
        fr_case = k;
        hb_finish_mut(&h, fr_mut);
        if (k == FR_ENCRYPTED)
            fr_add_encryption(&h);
        tl_pq_file *f = NULL;
        tl_error err = {0};
        int rc = tl_pq_open_mem(h.out.p, h.out.len, "hand.parquet", &f, &err);
        cr_assert_eq(rc, want[k].code, "case %d: rc %d: %s", k, rc, err.msg);
        cr_assert_null(f, "case %d", k);
        cr_assert(strncmp(err.msg, "hand.parquet: ", 14) == 0, "case %d: %s", k, err.msg);
        cr_assert(strstr(err.msg, want[k].needle), "case %d: %s", k, err.msg);
        tlf_buf_free(&h.out);
    }
}

/* ---- type mappings the corpus lacks (pqr_map_column), checked at open ---------- */

typedef struct map_case {
    int phys, type_length;
    int ct;               /* converted type, -1: none */
    int lid;              /* logical type id, 0: none */
    int bw, sgn, unit, utc, prec, scale, has_prec;
    tl_type want;
    int blob, dec, f16, ts_unit, ts_utc;
    const char *desc;
} map_case;

Test(pq_reader_hand, type_mappings_at_open)
{
    static const map_case mc[] = {
        {TL_PQ_INT64, 0, TLF_PQM_CT_TIMESTAMP_MILLIS, 0, 0, 0, 0, 0, 0, 0, 0, TL_TIMESTAMP, 0, 0, 0, TL_PQ_MILLIS, 1, "INT64/TIMESTAMP_MILLIS"},
        {TL_PQ_INT64, 0, TLF_PQM_CT_TIMESTAMP_MICROS, 0, 0, 0, 0, 0, 0, 0, 0, TL_TIMESTAMP, 0, 0, 0, TL_PQ_MICROS, 1, NULL},
        {TL_PQ_INT64, 0, TLF_PQM_CT_UINT_64, 0, 0, 0, 0, 0, 0, 0, 0, TL_UINT64, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT64, 0, -1, TLF_PQM_LT_INTEGER, 64, 0, 0, 0, 0, 0, 0, TL_UINT64, 0, 0, 0, 0, 0, "INT64/INTEGER(64,unsigned)"},
        {TL_PQ_INT64, 0, -1, TLF_PQM_LT_INTEGER, 64, 1, 0, 0, 0, 0, 0, TL_INT64, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT64, 0, -1, TLF_PQM_LT_TIMESTAMP, 0, 0, TLF_PQM_UNIT_NANOS, 0, 0, 0, 0, TL_TIMESTAMP, 0, 0, 0, TL_PQ_NANOS, 0, NULL},
        {TL_PQ_INT64, 0, -1, TLF_PQM_LT_TIMESTAMP, 0, 0, TLF_PQM_UNIT_MILLIS, 1, 0, 0, 0, TL_TIMESTAMP, 0, 0, 0, TL_PQ_MILLIS, 1, NULL},
        {TL_PQ_INT64, 0, TLF_PQM_CT_INT_64, 0, 0, 0, 0, 0, 0, 0, 0, TL_INT64, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, -1, TLF_PQM_LT_INTEGER, 32, 0, 0, 0, 0, 0, 0, TL_UINT32, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, -1, TLF_PQM_LT_INTEGER, 32, 1, 0, 0, 0, 0, 0, TL_INT32, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, -1, TLF_PQM_LT_INTEGER, 8, 1, 0, 0, 0, 0, 0, TL_INT8, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, -1, TLF_PQM_LT_INTEGER, 16, 0, 0, 0, 0, 0, 0, TL_UINT16, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, TLF_PQM_CT_INT_16, 0, 0, 0, 0, 0, 0, 0, 0, TL_INT16, 0, 0, 0, 0, 0, "INT32/INT_16"},
        {TL_PQ_INT32, 0, TLF_PQM_CT_UINT_64, 0, 0, 0, 0, 0, 0, 0, 0, TL_INT32, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, TLF_PQM_CT_DATE, 0, 0, 0, 0, 0, 0, 0, 0, TL_DATE, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT32, 0, -1, TLF_PQM_LT_DATE, 0, 0, 0, 0, 0, 0, 0, TL_DATE, 0, 0, 0, 0, 0, "INT32/DATE"},
        {TL_PQ_BYTE_ARRAY, 0, TLF_PQM_CT_ENUM, 0, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_BYTE_ARRAY, 0, TLF_PQM_CT_JSON, 0, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_BYTE_ARRAY, 0, TLF_PQM_CT_BSON, 0, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 1, 0, 0, 0, 0, NULL},
        {TL_PQ_BYTE_ARRAY, 0, -1, TLF_PQM_LT_JSON, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_BYTE_ARRAY, 0, -1, TLF_PQM_LT_ENUM, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_BYTE_ARRAY, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 1, 0, 0, 0, 0, "BYTE_ARRAY"},
        {TL_PQ_FIXED_LEN_BYTE_ARRAY, 4, -1, TLF_PQM_LT_STRING, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 0, 0, 0, 0, 0, "FIXED_LEN_BYTE_ARRAY(4)/STRING"},
        {TL_PQ_FIXED_LEN_BYTE_ARRAY, 3, -1, TLF_PQM_LT_FLOAT16, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 1, 0, 0, 0, 0, NULL},
        {TL_PQ_FIXED_LEN_BYTE_ARRAY, 2, -1, TLF_PQM_LT_FLOAT16, 0, 0, 0, 0, 0, 0, 0, TL_FLOAT32, 0, 0, 1, 0, 0, NULL},
        {TL_PQ_FIXED_LEN_BYTE_ARRAY, 16, -1, TLF_PQM_LT_UUID, 0, 0, 0, 0, 0, 0, 0, TL_STRING, 1, 0, 0, 0, 0, NULL},
        /* DECIMAL on DOUBLE is no valid annotation: the physical type */
        {TL_PQ_DOUBLE, 0, TLF_PQM_CT_DECIMAL, 0, 0, 0, 0, 0, 5, 2, 1, TL_FLOAT64, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT64, 0, -1, TLF_PQM_LT_DECIMAL, 0, 0, 0, 0, 18, 2, 0, TL_STRING, 0, 1, 0, 0, 0, NULL},
        {TL_PQ_INT64, 0, -1, TLF_PQM_LT_DECIMAL, 0, 0, 0, 0, 10, 2, 0, TL_FLOAT64, 0, 1, 0, 0, 0, NULL},
        /* converted DECIMAL without a scale: scale 0 */
        {TL_PQ_BYTE_ARRAY, 0, TLF_PQM_CT_DECIMAL, 0, 0, 0, 0, 0, 30, -1, 1, TL_STRING, 0, 1, 0, 0, 0, NULL},
        {TL_PQ_FIXED_LEN_BYTE_ARRAY, 8, -1, TLF_PQM_LT_DECIMAL, 0, 0, 0, 0, 12, 3, 0, TL_FLOAT64, 0, 1, 0, 0, 0, NULL},
        {TL_PQ_BOOLEAN, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, TL_BOOL, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_FLOAT, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, TL_FLOAT32, 0, 0, 0, 0, 0, NULL},
        {TL_PQ_INT96, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, TL_TIMESTAMP, 0, 0, 0, TL_PQ_NANOS, 0, NULL},
    };
    for (size_t k = 0; k < sizeof mc / sizeof *mc; k++) {
        const map_case *c = &mc[k];
        hb h;
        hb_init(&h, 0);
        tlf_pqm_schema_elem *e = hb_leaf(&h, "c", c->phys, TLF_PQM_OPTIONAL);
        if (c->type_length) {
            e->has_type_length = 1;
            e->type_length = c->type_length;
        }
        if (c->ct >= 0) {
            e->has_converted_type = 1;
            e->converted_type = c->ct;
        }
        if (c->has_prec) {
            e->has_precision = 1;
            e->precision = c->prec;
            if (c->scale >= 0) {
                e->has_scale = 1;
                e->scale = c->scale;
            }
        }
        if (c->lid) {
            e->has_logical = 1;
            e->logical.known = 1;
            e->logical.id = c->lid;
            e->logical.bit_width = (int8_t)c->bw;
            e->logical.is_signed = (uint8_t)c->sgn;
            e->logical.unit = c->unit;
            e->logical.is_adjusted_to_utc = (uint8_t)c->utc;
            e->logical.dec_precision = c->prec;
            e->logical.dec_scale = c->scale;
        }
        hb_chunk_begin(&h);
        hb_chunk_end(&h, c->phys, "c", 0);
        hb_finish(&h);
        tl_pq_file *f = NULL;
        tl_error err = {0};
        cr_assert_eq(tl_pq_open_mem(h.out.p, h.out.len, "map.parquet", &f, &err), TL_OK,
                     "case %zu: %s", k, err.msg);
        const tl_pq_colinfo *ci = tl_pq_col(f, 0);
        cr_assert_eq(ci->type, c->want, "case %zu (%s): type %d, expected %d", k, ci->desc,
                     ci->type, c->want);
        cr_assert_eq(ci->is_blob, c->blob, "case %zu (%s): is_blob", k, ci->desc);
        cr_assert_eq(ci->is_decimal, c->dec, "case %zu (%s): is_decimal", k, ci->desc);
        cr_assert_eq(ci->is_float16, c->f16, "case %zu (%s)", k, ci->desc);
        if (c->want == TL_TIMESTAMP) {
            cr_assert_eq(ci->ts_unit, c->ts_unit, "case %zu (%s): unit", k, ci->desc);
            cr_assert_eq(ci->ts_utc, c->ts_utc, "case %zu (%s): utc", k, ci->desc);
        }
        if (c->dec) {
            cr_assert_eq(ci->decimal_precision, c->prec, "case %zu", k);
            cr_assert_eq(ci->decimal_scale, c->scale < 0 ? 0 : c->scale, "case %zu", k);
        }
        if (c->desc)
            cr_assert_str_eq(ci->desc, c->desc, "case %zu", k);
        /* a zero-row chunk reads as zero values */
        tl_pq_colbuf b = {0};
        cr_assert_eq(tl_pq_read_chunk(f, 0, 0, &b, &err), TL_OK, "case %zu: %s", k, err.msg);
        cr_assert_eq(b.n, 0);
        tl_pq_colbuf_free(&b);
        tl_pq_close(f);
        tlf_buf_free(&h.out);
    }
}

/* ---- DELTA_BYTE_ARRAY into FIXED_LEN_BYTE_ARRAY (pqr_dba_flba) ---------------- */

/* DELTA_BINARY_PACKED of 3 values: block 128, 4 miniblocks, first value,
 * one block with min delta md and miniblock 0 of width bw holding the
 * adjusted deltas packed (the first byte given, the rest zero). */
static size_t dbp3(uint8_t *o, uint8_t first_zz, uint8_t md_zz, uint8_t bw, uint8_t packed0)
{
    size_t n = 0;
    o[n++] = 0x80;
    o[n++] = 0x01; /* block size 128 */
    o[n++] = 4;    /* miniblocks */
    o[n++] = 3;    /* values */
    o[n++] = first_zz;
    o[n++] = md_zz;
    o[n++] = bw;
    o[n++] = 0;
    o[n++] = 0;
    o[n++] = 0;
    memset(o + n, 0, (size_t)32 * bw / 8);
    o[n] = packed0;
    return n + (size_t)32 * bw / 8;
}

static int dba_flba_file(hb *h, int width, int uneven, tl_pq_file **f, tl_pq_colbuf *b,
                         tl_error *err)
{
    hb_init(h, 3);
    tlf_pqm_schema_elem *e = hb_leaf(h, "k", TL_PQ_FIXED_LEN_BYTE_ARRAY, TLF_PQM_REQUIRED);
    e->has_type_length = 1;
    e->type_length = width;
    uint8_t page[128];
    size_t n = 0;
    /* prefix lengths 0, 2, 0: first 0, deltas +2 -2 (min -2: adjusted 4, 0) */
    n += dbp3(page + n, 0, 3, 3, 0x04);
    if (!uneven) {
        /* suffix lengths 3, 1, 3: "abc", "ab"+"d", "xyz" */
        n += dbp3(page + n, 6, 3, 3, 0x20);
        memcpy(page + n, "abcdxyz", 7);
        n += 7;
    } else {
        /* suffix lengths 2, 2, 3: "ab", "ab"+"cd", "xyz" (9 bytes, uneven) */
        n += dbp3(page + n, 4, 0, 1, 0x02);
        memcpy(page + n, "abcdxyz", 7);
        n += 7;
    }
    hb_chunk_begin(h);
    hb_page(h, ph_v1(3, TLF_PQM_ENC_DELTA_BYTE_ARRAY), page, n);
    hb_chunk_end(h, TL_PQ_FIXED_LEN_BYTE_ARRAY, "k", 3);
    hb_finish(h);
    return hb_read(h, f, b, err);
}

Test(pq_reader_hand, delta_byte_array_into_fixed_len_byte_array)
{
    hb h;
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(dba_flba_file(&h, 3, 0, &f, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->type, TL_STRING);
    static const char *const want[3] = {"abc", "abd", "xyz"};
    expect_strings(&b, want, 3);
    hb_done(&h, f, &b);

    /* the same page in a FIXED_LEN_BYTE_ARRAY(4) column: 9 bytes for 3 x 4 */
    f = NULL;
    memset(&err, 0, sizeof err);
    cr_assert_eq(dba_flba_file(&h, 4, 0, &f, &b, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "hand.parquet: row group 0, column 'k', page 0 at byte 4: "
                              "DELTA_BYTE_ARRAY values hold 9 bytes, expected 3 values of 4"),
              "%s", err.msg);
    hb_done(&h, f, &b);

    /* 9 bytes for 3 x 3, but as 2 + 4 + 3 */
    f = NULL;
    memset(&err, 0, sizeof err);
    cr_assert_eq(dba_flba_file(&h, 3, 1, &f, &b, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "hand.parquet: row group 0, column 'k', page 0 at byte 4: "
                              "DELTA_BYTE_ARRAY value 0 has 2 bytes, FIXED_LEN_BYTE_ARRAY(3)"),
              "%s", err.msg);
    hb_done(&h, f, &b);
}

/* ---- malformed pages (pqr_data_page_v1/v2, pqr_dict_page, pqr_inflate) ------- */

enum { PG_NO_DPH, PG_NO_DPH2, PG_DEF_ENC, PG_BITPACKED_SHORT, PG_V2_LEVELS, PG_DICT_TWICE,
       PG_DICT_NO_HDR, PG_DICT_ENC, PG_DICT_SHORT, PG_UNCOMP_SIZES, PG_HUGE, PG_V2_NO_NULLS,
       PG_N };

/* One OPTIONAL INT32 column 'x' of 4 rows, all present. */
static void page_case(int kind, hb *h)
{
    hb_init(h, 4);
    hb_leaf(h, "x", TL_PQ_INT32, TLF_PQM_OPTIONAL);
    uint8_t body[64] = {2, 0, 0, 0, 8, 1}; /* def levels: length 2, RLE run of 4 ones */
    for (int32_t i = 0; i < 4; i++)
        memcpy(body + 6 + 4 * i, &(int32_t){10 + i}, 4);
    int32_t dict[4] = {7, 8, 9, 10};
    tlf_pqm_page_header ph = ph_v1(4, TLF_PQM_ENC_PLAIN);
    hb_chunk_begin(h);
    switch (kind) {
    case PG_NO_DPH:
        ph.has_data_page = 0;
        hb_page(h, ph, body, 22);
        break;
    case PG_NO_DPH2:
        ph.type = TLF_PQM_PAGE_DATA_V2;
        ph.has_data_page = 0;
        hb_page(h, ph, body, 22);
        break;
    case PG_DEF_ENC:
        ph.data_page.definition_level_encoding = TLF_PQM_ENC_PLAIN;
        hb_page(h, ph, body, 22);
        break;
    case PG_BITPACKED_SHORT:
        ph.data_page.definition_level_encoding = TLF_PQM_ENC_BIT_PACKED;
        hb_page(h, ph, body, 0);
        break;
    case PG_V2_LEVELS:
    case PG_V2_NO_NULLS: {
        tlf_pqm_page_header v2 = {0};
        v2.type = TLF_PQM_PAGE_DATA_V2;
        v2.has_data_page_v2 = 1;
        v2.data_page_v2.num_values = 4;
        v2.data_page_v2.num_rows = 4;
        v2.data_page_v2.encoding = TLF_PQM_ENC_PLAIN;
        v2.data_page_v2.definition_levels_byte_length = kind == PG_V2_LEVELS ? 100 : 0;
        hb_page(h, v2, body + 6, 16);
        break;
    }
    case PG_DICT_TWICE:
        hb_page(h, ph_dict(4), dict, 16);
        hb_page(h, ph_dict(4), dict, 16);
        break;
    case PG_DICT_NO_HDR: {
        tlf_pqm_page_header d = ph_dict(4);
        d.has_dict_page = 0;
        hb_page(h, d, dict, 16);
        break;
    }
    case PG_DICT_ENC: {
        tlf_pqm_page_header d = ph_dict(4);
        d.dict_page.encoding = TLF_PQM_ENC_RLE;
        hb_page(h, d, dict, 16);
        break;
    }
    case PG_DICT_SHORT:
        hb_page(h, ph_dict(4), dict, 8);
        break;
    case PG_UNCOMP_SIZES:
        ph.uncompressed_page_size = 30;
        hb_page(h, ph, body, 22);
        break;
    case PG_HUGE:
        h->codec = TL_PQ_SNAPPY;
        ph.uncompressed_page_size = (1 << 30) + 1;
        hb_page(h, ph, body, 22);
        break;
    }
    hb_chunk_end(h, TL_PQ_INT32, "x", 4);
    hb_finish(h);
}

Test(pq_reader_hand, malformed_pages_name_page_and_byte)
{
    static const struct {
        int code;
        const char *needle;
    } want[PG_N] = {
        [PG_NO_DPH] = {TL_ECORRUPT, "page 0 at byte 4: DATA_PAGE without a DataPageHeader"},
        [PG_NO_DPH2] = {TL_ECORRUPT, "page 0 at byte 4: DATA_PAGE_V2 without a DataPageHeaderV2"},
        [PG_DEF_ENC] = {TL_EUNSUPPORTED, "page 0 at byte 4: definition level encoding PLAIN (0)"},
        [PG_BITPACKED_SHORT] = {TL_ECORRUPT, "BIT_PACKED definition levels need 1 bytes, the page holds 0"},
        [PG_V2_LEVELS] = {TL_ECORRUPT, "level bytes (0 repetition + 100 definition) exceed the page (16 compressed, 16 uncompressed bytes)"},
        [PG_DICT_TWICE] = {TL_ECORRUPT, "page 1 at byte "},
        [PG_DICT_NO_HDR] = {TL_ECORRUPT, "DICTIONARY_PAGE without a DictionaryPageHeader"},
        [PG_DICT_ENC] = {TL_EUNSUPPORTED, "dictionary page encoding RLE (3)"},
        [PG_DICT_SHORT] = {TL_ECORRUPT, "dictionary of 4 INT32 values needs at least 16 bytes, the page holds 8"},
        [PG_UNCOMP_SIZES] = {TL_ECORRUPT, "uncompressed page: compressed size 22 != uncompressed size 30"},
        [PG_HUGE] = {TL_ECORRUPT, "page declares 1073741825 uncompressed bytes (limit 1073741824)"},
        [PG_V2_NO_NULLS] = {TL_OK, NULL},
    };
    for (int k = 0; k < PG_N; k++) {
        hb h;
        page_case(k, &h);
        tl_pq_file *f = NULL;
        tl_pq_colbuf b = {0};
        tl_error err = {0};
        int rc = hb_read(&h, &f, &b, &err);
        cr_assert_eq(rc, want[k].code, "case %d: rc %d: %s", k, rc, err.msg);
        if (rc) {
            cr_assert(strncmp(err.msg, "hand.parquet: row group 0, column 'x', page ", 44) == 0,
                      "case %d: %s", k, err.msg);
            cr_assert(strstr(err.msg, want[k].needle), "case %d: %s", k, err.msg);
        } else {
            cr_assert_null(b.vec.validity, "case %d: no nulls, no validity", k);
            for (int i = 0; i < 4; i++)
                cr_assert_eq(((const int32_t *)b.vec.values)[i], 10 + i);
        }
        if (k == PG_DICT_TWICE)
            cr_assert(strstr(err.msg, "a second dictionary page in the column chunk"), "%s",
                      err.msg);
        hb_done(&h, f, &b);
    }
}

/* tl_pq_chunk_i64_bounds: min_value/max_value, the legacy min/max, and the
 * cases that give no bounds. */
static tlf_pqm_bin i64bin(const int64_t *v)
{
    return (tlf_pqm_bin){(const uint8_t *)v, 8};
}

Test(pq_reader_hand, chunk_int64_bounds_from_statistics)
{
    static const int64_t lo = -5, hi = 1234567890123ll;
    static const int32_t small = 1;
    for (int k = 0; k < 6; k++) {
        hb h;
        hb_init(&h, 2);
        hb_leaf(&h, "t", TL_PQ_INT64, TLF_PQM_REQUIRED);
        hb_leaf(&h, "i", TL_PQ_INT32, TLF_PQM_REQUIRED);
        int64_t v[2] = {lo, hi};
        int32_t w[2] = {1, 2};
        hb_chunk_begin(&h);
        hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), v, 16);
        hb_chunk_end(&h, TL_PQ_INT64, "t", 2);
        hb_chunk_begin(&h);
        hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), w, 8);
        hb_chunk_end(&h, TL_PQ_INT32, "i", 2);
        tlf_pqm_col_meta *m = &h.cc[0].meta_data;
        tlf_pqm_stats *st = &m->statistics;
        m->has_statistics = k != 0;
        if (k == 1 || k == 3 || k == 4) {
            st->has_min_value = st->has_max_value = 1;
            st->min_value = i64bin(k == 4 ? &hi : &lo);
            st->max_value = i64bin(k == 4 ? &lo : &hi);
            if (k == 3)
                st->min_value = (tlf_pqm_bin){(const uint8_t *)&small, 4};
        } else if (k == 2) {
            st->has_min = st->has_max = 1;
            st->min = i64bin(&lo);
            st->max = i64bin(&hi);
        } else if (k == 5) {
            st->has_min_value = 1; /* only one of the pair */
            st->min_value = i64bin(&lo);
        }
        hb_finish(&h);
        tl_pq_file *f = NULL;
        tl_error err = {0};
        cr_assert_eq(tl_pq_open_mem(h.out.p, h.out.len, "s.parquet", &f, &err), TL_OK, "%s",
                     err.msg);
        int64_t mn = 0, mx = 0;
        int got = tl_pq_chunk_i64_bounds(f, 0, 0, &mn, &mx);
        cr_assert_eq(got, k == 1 || k == 2, "case %d: %d", k, got);
        if (got) {
            cr_assert_eq(mn, lo);
            cr_assert_eq(mx, hi);
        }
        cr_assert_eq(tl_pq_chunk_i64_bounds(f, 0, 1, &mn, &mx), 0); /* INT32 */
        cr_assert_eq(tl_pq_chunk_i64_bounds(f, 1, 0, &mn, &mx), 0); /* no row group 1 */
        cr_assert_eq(tl_pq_chunk_i64_bounds(f, 0, 2, &mn, &mx), 0);
        tl_pq_close(f);
        tlf_buf_free(&h.out);
    }
}

/* Argument errors and accessors of tl_parquet.h's reader. */
Test(pq_reader_hand, reader_arguments_and_accessors)
{
    tl_pq_file *f = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open(NULL, &f, &err), TL_EINVAL);
    cr_assert_eq(tl_pq_open("x", NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_pq_open_mem(NULL, 5, "m", &f, &err), TL_EINVAL);
    cr_assert_eq(tl_pq_open_mem("PAR1", 4, "m", NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_pq_open_mem(NULL, 0, NULL, &f, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "(memory): 0 bytes is too small"), "%s", err.msg);
    cr_assert_eq(tl_pq_open("/nonexistent/dir/x.parquet", &f, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "/nonexistent/dir/x.parquet: no such file"), "%s", err.msg);
    cr_assert_eq(tl_pq_open("/tmp", &f, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "/tmp: not a regular file"), "%s", err.msg);
    cr_assert_eq(tl_pq_read_chunk(NULL, 0, 0, NULL, &err), TL_EINVAL);
    tl_pq_colbuf_free(NULL);
    tl_pq_close(NULL);
    hb h;
    hb_init(&h, 1);
    hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_REQUIRED);
    int32_t v = 42;
    hb_chunk_begin(&h);
    hb_page(&h, ph_v1(1, TLF_PQM_ENC_PLAIN), &v, 4);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 1);
    hb_finish(&h);
    cr_assert_eq(tl_pq_open_mem(h.out.p, h.out.len, "a.parquet", &f, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_str_eq(tl_pq_created_by(f), "");
    cr_assert_eq(tl_pq_n_kv(f), 0);
    cr_assert_null(tl_pq_kv_at(f, 0));
    cr_assert_eq(tl_pq_row_group_rows(f, 0), 1);
    cr_assert_eq(tl_pq_row_group_rows(f, 1), 0);
    cr_assert_null(tl_pq_col(f, 1));
    tl_pq_colbuf b = {0};
    cr_assert_eq(tl_pq_read_chunk(f, 0, 0, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_pq_read_chunk(f, 1, 0, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "a.parquet: row group 1 / column 0 out of range (1 row groups, 1 "
                              "columns)"), "%s", err.msg);
    cr_assert_eq(tl_pq_read_chunk(f, 0, 1, &b, &err), TL_EINVAL);
    tl_pq_colbuf_free(&b);
    tl_pq_close(f);
    tlf_buf_free(&h.out);
}

/* INT_8 / INT_16 / UINT_8 / UINT_16 annotated INT32: values just outside
 * the range refused naming dictionary or page; the limits themselves read
 * back exactly. */
Test(pq_reader_hand, narrow_int_ranges_in_dictionary_and_page)
{
    static const struct {
        int ct;
        int32_t lo, hi, bad;
        tl_type type;
    } t[] = {
        {TLF_PQM_CT_INT_8, -128, 127, 128, TL_INT8},
        {TLF_PQM_CT_INT_16, -32768, 32767, -32769, TL_INT16},
        {TLF_PQM_CT_UINT_8, 0, 255, 256, TL_UINT8},
        {TLF_PQM_CT_UINT_16, 0, 65535, -1, TL_UINT16},
    };
    for (size_t k = 0; k < sizeof t / sizeof *t; k++)
        for (int in_dict = 0; in_dict < 3; in_dict++) { /* 2: no bad value */
            hb h;
            hb_init(&h, 2);
            tlf_pqm_schema_elem *e = hb_leaf(&h, "n", TL_PQ_INT32, TLF_PQM_REQUIRED);
            e->has_converted_type = 1;
            e->converted_type = t[k].ct;
            int32_t vals[2] = {t[k].lo, in_dict == 2 ? t[k].hi : t[k].bad};
            hb_chunk_begin(&h);
            if (in_dict == 1) {
                hb_page(&h, ph_dict(2), vals, 8);
                /* indices 0, 1: bit width 1, one bit-packed group */
                static const uint8_t idx[] = {1, 3, 2};
                hb_page(&h, ph_v1(2, TLF_PQM_ENC_RLE_DICTIONARY), idx, 3);
            } else {
                hb_page(&h, ph_v1(2, TLF_PQM_ENC_PLAIN), vals, 8);
            }
            hb_chunk_end(&h, TL_PQ_INT32, "n", 2);
            hb_finish(&h);
            tl_pq_file *f = NULL;
            tl_pq_colbuf b = {0};
            tl_error err = {0};
            int rc = hb_read(&h, &f, &b, &err);
            if (in_dict == 2) {
                cr_assert_eq(rc, TL_OK, "case %zu: %s", k, err.msg);
                cr_assert_eq(tl_pq_col(f, 0)->type, t[k].type);
                int64_t got[2];
                for (int i = 0; i < 2; i++)
                    got[i] = t[k].type == TL_INT8 ? ((const int8_t *)b.vec.values)[i]
                             : t[k].type == TL_INT16 ? ((const int16_t *)b.vec.values)[i]
                             : t[k].type == TL_UINT8 ? ((const uint8_t *)b.vec.values)[i]
                                                     : ((const uint16_t *)b.vec.values)[i];
                cr_assert_eq(got[0], t[k].lo, "case %zu", k);
                cr_assert_eq(got[1], t[k].hi, "case %zu", k);
            } else {
                cr_assert_eq(rc, TL_ECORRUPT, "case %zu/%d: %s", k, in_dict, err.msg);
                char want[120];
                snprintf(want, sizeof want, "out of range [%d, %d] (value 1 of the %s)",
                         t[k].lo, t[k].hi, in_dict ? "dictionary" : "page");
                cr_assert(strstr(err.msg, want) && strstr(err.msg, "column 'n', page"),
                          "case %zu/%d: %s", k, in_dict, err.msg);
            }
            hb_done(&h, f, &b);
        }
}

/* Once a page needed the tolerant hybrid decoder, the chunk's next pages
 * go to it directly (PQ-R12): the same DuckDB-style page twice, then a
 * regular one and a v2 one, all decoding right. */
Test(pq_reader_hand, tolerant_hybrid_decoding_carries_over_to_later_pages)
{
    hb h;
    hb_init(&h, 11);
    hb_leaf(&h, "x", TL_PQ_INT32, TLF_PQM_OPTIONAL);
    int32_t dict[2] = {10, 20};
    uint8_t odd[] = {2, 0, 0, 0, 0x41, 0x05, 1, 0x41, 0x01};   /* 3 slots: 20, null, 10 */
    uint8_t plain[] = {2, 0, 0, 0, 0x04, 0x01, 1, 0x04, 0x00}; /* 2 slots, RLE: 10, 10 */
    hb_chunk_begin(&h);
    hb_page(&h, ph_dict(2), dict, sizeof dict);
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_RLE_DICTIONARY), odd, sizeof odd);
    hb_page(&h, ph_v1(3, TLF_PQM_ENC_RLE_DICTIONARY), odd, sizeof odd);
    hb_page(&h, ph_v1(2, TLF_PQM_ENC_RLE_DICTIONARY), plain, sizeof plain);
    /* v2: levels without a length prefix, then indices */
    uint8_t v2body[] = {0x41, 0x05, 1, 0x41, 0x01};
    tlf_pqm_page_header ph = {0};
    ph.type = TLF_PQM_PAGE_DATA_V2;
    ph.has_data_page_v2 = 1;
    ph.data_page_v2.num_values = 3;
    ph.data_page_v2.num_rows = 3;
    ph.data_page_v2.num_nulls = 1;
    ph.data_page_v2.encoding = TLF_PQM_ENC_RLE_DICTIONARY;
    ph.data_page_v2.definition_levels_byte_length = 2;
    hb_page(&h, ph, v2body, sizeof v2body);
    hb_chunk_end(&h, TL_PQ_INT32, "x", 11);
    hb_finish(&h);
    tl_pq_file *f = NULL;
    tl_pq_colbuf b = {0};
    tl_error err = {0};
    cr_assert_eq(hb_read(&h, &f, &b, &err), TL_OK, "%s", err.msg);
    static const int32_t want[11] = {20, 0, 10, 20, 0, 10, 10, 10, 20, 0, 10};
    static const char valid[] = "10110111101";
    const int32_t *v = b.vec.values;
    for (int i = 0; i < 11; i++) {
        cr_assert_eq(tl_bit_get(b.vec.validity, (uint64_t)i), valid[i] == '1', "slot %d", i);
        cr_assert_eq(v[i], want[i], "slot %d: %d", i, v[i]);
    }
    hb_done(&h, f, &b);
}
