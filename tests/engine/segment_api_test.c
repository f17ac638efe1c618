/*
 * segment_api_test.c - the public segment-file API of ticklake.h: writer
 * (O_EXCL create, batch checks, finish with fsync, abort), reader (open,
 * accessors, column stats as text, verify, CSV dump of row ranges), and the
 * gen-into-files drivers. Uses ticklake.h only. Each test gets a fresh
 * temp directory.
 */
#include <criterion/criterion.h>

#include "ticklake.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_segapi.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(segment_api, .init = setup, .fini = teardown);

static char *pathf(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- a small deterministic batch ---------------------------------------- */

#define NCOL 6
static const tl_coldef defs[NCOL] = {
    {"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64},
    {"qty", TL_INT32},    {"day", TL_DATE},   {"f", TL_FLOAT32},
};

typedef struct test_batch {
    int64_t *ts;
    uint32_t *off;
    char *data;
    double *px;
    int32_t *qty;
    uint8_t *qty_valid;
    int32_t *day;
    float *f;
    tl_colvec cols[NCOL];
    tl_batch b;
} test_batch;

/* Rows first..first+n-1: qty is null on every 7th row. */
static void make_batch(test_batch *t, uint32_t first, uint32_t n)
{
    t->ts = calloc(n + 1, 8);
    t->off = calloc(n + 1, 4);
    t->data = calloc(n + 1, 16);
    t->px = calloc(n + 1, 8);
    t->qty = calloc(n + 1, 4);
    t->qty_valid = calloc(n / 8 + 1, 1);
    t->day = calloc(n + 1, 4);
    t->f = calloc(n + 1, 4);
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = first + i;
        /* 2025-11-17T03:45:00Z + r ms */
        t->ts[i] = INT64_C(1763351100000000000) + (int64_t)r * 1000000;
        const char *s = (r % 3 == 0) ? "BANKNIFTY" : (r % 3 == 1) ? "NIFTY" : "";
        size_t l = strlen(s);
        memcpy(t->data + o, s, l);
        o += (uint32_t)l;
        t->off[i + 1] = o;
        t->px[i] = 100.0 + 0.05 * (double)(r % 200);
        int valid = r % 7 != 3;
        t->qty[i] = valid ? (int32_t)(r * 25) - 1000 : 0;
        tl_bit_set(t->qty_valid, i, valid);
        t->day[i] = 20409 + (int32_t)(r % 3); /* 2025-11-17.. */
        t->f[i] = (float)r * 0.5f;
    }
    t->cols[0] = (tl_colvec){.values = t->ts};
    t->cols[1] = (tl_colvec){.offsets = t->off, .data = (const uint8_t *)t->data};
    t->cols[2] = (tl_colvec){.values = t->px};
    t->cols[3] = (tl_colvec){.values = t->qty, .validity = t->qty_valid};
    t->cols[4] = (tl_colvec){.values = t->day};
    t->cols[5] = (tl_colvec){.values = t->f};
    t->b = (tl_batch){.n_rows = n, .n_cols = NCOL, .defs = defs, .cols = t->cols};
}

static void free_batch(test_batch *t)
{
    free(t->ts);
    free(t->off);
    free(t->data);
    free(t->px);
    free(t->qty);
    free(t->qty_valid);
    free(t->day);
    free(t->f);
}

/* Write rows [0, n) in batches of `chunk` into path. */
static void write_segment(const char *path, uint32_t n, uint32_t chunk,
                          const tl_segment_write_opts *wo)
{
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    cr_assert_eq(tl_segment_writer_open(path, defs, NCOL, wo, &w, &err), TL_OK, "%s", err.msg);
    for (uint32_t r = 0; r < n; r += chunk) {
        test_batch t;
        make_batch(&t, r, n - r < chunk ? n - r : chunk);
        cr_assert_eq(tl_segment_writer_append(w, &t.b, &err), TL_OK, "%s", err.msg);
        free_batch(&t);
    }
    uint64_t rows = 0, bytes = 0;
    cr_assert_eq(tl_segment_writer_finish(w, &rows, &bytes, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, n);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, bytes);
}

/* CSV of a batch via tl_batch_write_csv, into a malloc'd string. */
static char *batch_csv(const tl_batch *b, int header)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tl_error err = {0};
    cr_assert_eq(tl_batch_write_csv(b, f, header, &err), TL_OK, "%s", err.msg);
    fclose(f);
    return buf;
}

static char *segment_csv(const tl_segment *s, uint64_t first, uint64_t limit, int *rc,
                         tl_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *rc = tl_segment_print_csv(s, first, limit, f, err);
    fclose(f);
    return buf;
}

/* ---- writer and reader ---------------------------------------------------- */

Test(segment_api, write_then_read_round_trip)
{
    const char *p = pathf("a.tls");
    write_segment(p, 1000, 300, NULL);
    tl_error err = {0};
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_segment_n_rows(s), 1000);
    cr_assert_eq(tl_segment_n_cols(s), NCOL);
    cr_assert_geq(tl_segment_n_blocks(s), 1);
    struct stat st;
    stat(p, &st);
    cr_assert_eq(tl_segment_file_bytes(s), (uint64_t)st.st_size);
    cr_assert_eq(tl_segment_verify(s, &err), TL_OK, "%s", err.msg);

    /* every row, printed, equals the source batch printed */
    test_batch t;
    make_batch(&t, 0, 1000);
    char *want = batch_csv(&t.b, 1);
    int rc;
    char *got = segment_csv(s, 0, UINT64_MAX, &rc, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_str_eq(got, want);
    free(got);
    free(want);
    free_batch(&t);
    tl_segment_close(s);
}

Test(segment_api, print_csv_row_ranges_cross_blocks)
{
    const char *p = pathf("b.tls");
    tl_segment_write_opts wo = {.block_rows = 64};
    write_segment(p, 1000, 1000, &wo);
    tl_error err = {0};
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_geq(tl_segment_n_blocks(s), 1000 / 64);
    /* ranges starting off byte boundaries of the validity bitmap and
     * crossing block boundaries */
    const uint64_t ranges[][2] = {{0, 1}, {3, 70}, {63, 2}, {64, 64}, {100, 333},
                                  {995, 100}, {999, 1}, {1000, 5}, {5000, 1}, {0, 0}};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        uint64_t first = ranges[i][0], lim = ranges[i][1];
        uint64_t n = first >= 1000 ? 0 : (lim > 1000 - first ? 1000 - first : lim);
        test_batch t;
        make_batch(&t, (uint32_t)(first < 1000 ? first : 0), (uint32_t)n);
        char *want = batch_csv(&t.b, 1);
        int rc;
        char *got = segment_csv(s, first, lim, &rc, &err);
        cr_assert_eq(rc, TL_OK, "%s", err.msg);
        cr_assert_str_eq(got, want, "rows [%lu, +%lu)", (unsigned long)first, (unsigned long)lim);
        free(got);
        free(want);
        free_batch(&t);
    }
    tl_segment_close(s);
}

Test(segment_api, column_stats_as_text)
{
    const char *p = pathf("c.tls");
    write_segment(p, 700, 700, NULL);
    tl_error err = {0};
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_OK, "%s", err.msg);
    tl_segment_col_stats cs;

    cr_assert_eq(tl_segment_col_stats_get(s, 0, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(cs.name, "ts");
    cr_assert_eq(cs.type, TL_TIMESTAMP);
    cr_assert_str_eq(cs.min_text, "2025-11-17T03:45:00.000000000Z");
    cr_assert_str_eq(cs.max_text, "2025-11-17T03:45:00.699000000Z");
    cr_assert_eq(cs.null_count, 0);
    cr_assert_eq(cs.decoded_bytes, 700 * 8);
    cr_assert_gt(cs.stored_bytes, 0);
    uint32_t nb = 0;
    for (int e = 0; e < 8; e++)
        nb += cs.blocks_by_encoding[e];
    cr_assert_eq(nb, tl_segment_n_blocks(s));

    cr_assert_eq(tl_segment_col_stats_get(s, 1, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(cs.min_text, "");      /* the empty string */
    cr_assert_str_eq(cs.max_text, "NIFTY");

    cr_assert_eq(tl_segment_col_stats_get(s, 2, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(cs.min_text, "100");
    cr_assert_str_eq(cs.max_text, "109.95"); /* shortest round trip */

    cr_assert_eq(tl_segment_col_stats_get(s, 3, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cs.null_count, 100);        /* r % 7 == 3 for r < 700 */
    cr_assert_str_eq(cs.min_text, "-1000");
    cr_assert_str_eq(cs.max_text, "16475");  /* r = 699 */

    cr_assert_eq(tl_segment_col_stats_get(s, 4, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(cs.min_text, "2025-11-17");
    cr_assert_str_eq(cs.max_text, "2025-11-19");

    cr_assert_eq(tl_segment_col_stats_get(s, 5, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(cs.min_text, "0");
    cr_assert_str_eq(cs.max_text, "349.5");

    cr_assert_eq(tl_segment_col_stats_get(s, NCOL, &cs, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
    tl_segment_close(s);
}

Test(segment_api, column_stats_text_at_extremes_reads_like_the_csv)
{
    /* Zone-map text uses the CSV writer's formatters: dates and floats read
     * the same in `inspect` as in `dump`, at any value. */
    enum { NX = 9 };
    static const tl_coldef xd[NX] = {
        {"d", TL_DATE},     {"d_bc", TL_DATE}, {"ts", TL_TIMESTAMP}, {"f64", TL_FLOAT64},
        {"f32", TL_FLOAT32}, {"i64", TL_INT64}, {"u64", TL_UINT64},   {"b", TL_BOOL},
        {"tu", TL_TIMESTAMP_US},
    };
    int32_t d[2] = {INT32_MAX, INT32_MIN}, d_bc[2] = {-719529, -1084366};
    int64_t ts[2] = {INT64_MAX, INT64_MIN}, i64[2] = {INT64_MIN, INT64_MAX};
    double f64[2] = {1e15, -1.5e16};
    float f32[2] = {1e7f, -2.5e6f};
    uint64_t u64[2] = {UINT64_MAX, 0};
    uint8_t b[2] = {1, 0};
    int64_t tu[2] = {INT64_MAX, INT64_MIN};
    const void *vals[NX] = {d, d_bc, ts, f64, f32, i64, u64, b, tu};
    tl_colvec cols[NX];
    memset(cols, 0, sizeof cols);
    for (int c = 0; c < NX; c++)
        cols[c].values = vals[c];
    tl_batch batch = {.n_rows = 2, .n_cols = NX, .defs = xd, .cols = cols};

    const char *p = pathf("x.tls");
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    cr_assert_eq(tl_segment_writer_open(p, xd, NX, NULL, &w, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_segment_writer_append(w, &batch, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_segment_writer_finish(w, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_OK, "%s", err.msg);

    static const char *const want[NX][2] = { /* min, max */
        {"-5877641-06-23", "5881580-07-11"},
        {"-0999-02-09", "-0001-12-31"},
        {"1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z"},
        {"-1.5e+16", "1e+15"},
        {"-2.5e+06", "1e+07"},
        {"-9223372036854775808", "9223372036854775807"},
        {"0", "18446744073709551615"},
        {"false", "true"},
        {"-290308-12-21 19:59:05.224192", "294247-01-10 04:00:54.775807"},
    };
    /* CSV rows: row 0 holds the max of columns 0..4 and 6..8, row 1 the min */
    char *csv = batch_csv(&batch, 0);
    char *row1 = strchr(csv, '\n') + 1;
    for (uint32_t c = 0; c < NX; c++) {
        tl_segment_col_stats cs;
        cr_assert_eq(tl_segment_col_stats_get(s, c, &cs, &err), TL_OK, "%s", err.msg);
        cr_assert_str_eq(cs.min_text, want[c][0], "column %s min", xd[c].name);
        cr_assert_str_eq(cs.max_text, want[c][1], "column %s max", xd[c].name);
        if (c == 2) /* CSV prints timestamps as integer nanoseconds */
            continue;
        char field[2][96];
        const char *rows[2] = {csv, row1};
        for (int r = 0; r < 2; r++) {
            const char *f = rows[r];
            for (uint32_t k = 0; k < c; k++)
                f = strchr(f, ',') + 1;
            size_t n = strcspn(f, ",\n");
            memcpy(field[r], f, n);
            field[r][n] = '\0';
        }
        int max_row = c == 5 ? 1 : 0;
        cr_assert_str_eq(cs.max_text, field[max_row], "column %s max vs CSV", xd[c].name);
        cr_assert_str_eq(cs.min_text, field[1 - max_row], "column %s min vs CSV", xd[c].name);
    }
    free(csv);
    tl_segment_close(s);
}

Test(segment_api, empty_segment)
{
    const char *p = pathf("empty.tls");
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    cr_assert_eq(tl_segment_writer_open(p, defs, NCOL, NULL, &w, &err), TL_OK, "%s", err.msg);
    uint64_t rows = 7, bytes = 0;
    cr_assert_eq(tl_segment_writer_finish(w, &rows, &bytes, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, 0);
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_segment_n_rows(s), 0);
    tl_segment_col_stats cs;
    cr_assert_eq(tl_segment_col_stats_get(s, 2, &cs, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(cs.min_text, "");
    int rc;
    char *got = segment_csv(s, 0, 10, &rc, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_str_eq(got, "ts,sym,px,qty,day,f\n");
    free(got);
    tl_segment_close(s);
}

Test(segment_api, hot_columns_accepted)
{
    const char *hot[] = {"ts", "px"};
    tl_segment_write_opts wo = {.hot_columns = hot, .n_hot = 2, .zstd_level = 5};
    write_segment(pathf("hot.tls"), 500, 500, &wo);
    tl_error err = {0};
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(pathf("hot.tls"), &s, &err), TL_OK, "%s", err.msg);
    tl_segment_col_stats cs;
    cr_assert_eq(tl_segment_col_stats_get(s, 0, &cs, &err), TL_OK);
    cr_assert_eq(cs.blocks_zstd, 0, "a hot column is never zstd-compressed");
    tl_segment_close(s);
}

Test(segment_api, encoding_names)
{
    cr_assert_str_eq(tl_encoding_name(0), "plain");
    cr_assert_str_eq(tl_encoding_name(1), "rle");
    cr_assert_str_eq(tl_encoding_name(2), "dict");
    cr_assert_str_eq(tl_encoding_name(3), "for");
    cr_assert_str_eq(tl_encoding_name(4), "delta");
    cr_assert_str_eq(tl_encoding_name(5), "scaled");
    cr_assert_not_null(tl_encoding_name(77));
}

/* ---- writer errors -------------------------------------------------------- */

Test(segment_api, writer_refuses_existing_file)
{
    const char *p = pathf("exists.tls");
    FILE *f = fopen(p, "w");
    fputs("precious", f);
    fclose(f);
    tl_error err = {0};
    tl_segment_writer *w = (tl_segment_writer *)1;
    cr_assert_eq(tl_segment_writer_open(p, defs, NCOL, NULL, &w, &err), TL_EIO);
    cr_assert_null(w);
    cr_assert_eq(err.sys_errno, EEXIST);
    cr_assert(strstr(err.msg, p), "message names the path: %s", err.msg);
    f = fopen(p, "r");
    char buf[16] = {0};
    cr_assert_eq(fread(buf, 1, sizeof buf, f), 8);
    fclose(f);
    cr_assert_str_eq(buf, "precious", "existing file untouched");
}

Test(segment_api, writer_missing_directory)
{
    const char *p = pathf("no/such/dir/x.tls");
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    cr_assert_eq(tl_segment_writer_open(p, defs, NCOL, NULL, &w, &err), TL_EIO);
    cr_assert_eq(err.sys_errno, ENOENT);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
}

Test(segment_api, writer_bad_arguments)
{
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    const char *p = pathf("bad.tls");
    cr_assert_eq(tl_segment_writer_open(p, defs, 0, NULL, &w, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
    const char *hot[] = {"nope"};
    tl_segment_write_opts wo = {.hot_columns = hot, .n_hot = 1};
    cr_assert_eq(tl_segment_writer_open(p, defs, NCOL, &wo, &w, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'nope'"), "%s", err.msg);
    const tl_coldef dup[2] = {{"a", TL_INT32}, {"a", TL_INT64}};
    cr_assert_neq(tl_segment_writer_open(p, dup, 2, NULL, &w, &err), TL_OK);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
    cr_assert_not(exists(p), "no file left behind by a failed open");
}

Test(segment_api, append_rejects_mismatched_batch)
{
    const char *p = pathf("mismatch.tls");
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    cr_assert_eq(tl_segment_writer_open(p, defs, NCOL, NULL, &w, &err), TL_OK, "%s", err.msg);
    test_batch t;
    make_batch(&t, 0, 10);

    tl_coldef other[NCOL];
    memcpy(other, defs, sizeof other);
    other[2].name = "price";
    t.b.defs = other;
    cr_assert_eq(tl_segment_writer_append(w, &t.b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'price'") && strstr(err.msg, "'px'") && strstr(err.msg, p),
              "names both columns and the file: %s", err.msg);

    memcpy(other, defs, sizeof other);
    other[3].type = TL_INT64;
    cr_assert_eq(tl_segment_writer_append(w, &t.b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'qty'") && strstr(err.msg, "int64") && strstr(err.msg, "int32"),
              "names the column and both types: %s", err.msg);

    t.b.defs = defs;
    t.b.n_cols = NCOL - 1;
    cr_assert_eq(tl_segment_writer_append(w, &t.b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "5 columns"), "%s", err.msg);

    /* a rejected batch leaves the writer usable */
    t.b.n_cols = NCOL;
    cr_assert_eq(tl_segment_writer_append(w, &t.b, &err), TL_OK, "%s", err.msg);
    uint64_t rows = 0;
    cr_assert_eq(tl_segment_writer_finish(w, &rows, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, 10);
    free_batch(&t);
}

Test(segment_api, abort_removes_the_file)
{
    const char *p = pathf("aborted.tls");
    tl_error err = {0};
    tl_segment_writer *w = NULL;
    cr_assert_eq(tl_segment_writer_open(p, defs, NCOL, NULL, &w, &err), TL_OK, "%s", err.msg);
    test_batch t;
    make_batch(&t, 0, 100);
    cr_assert_eq(tl_segment_writer_append(w, &t.b, &err), TL_OK, "%s", err.msg);
    free_batch(&t);
    cr_assert(exists(p));
    tl_segment_writer_abort(w);
    cr_assert_not(exists(p));
    tl_segment_writer_abort(NULL);
}

/* ---- reader errors -------------------------------------------------------- */

static void write_bytes(const char *p, const void *b, size_t n)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

Test(segment_api, open_missing_file)
{
    const char *p = pathf("missing.tls");
    tl_error err = {0};
    tl_segment *s = (tl_segment *)1;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_ENOTFOUND, "%s", err.msg);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
}

Test(segment_api, open_non_segment_names_the_path)
{
    const char *p = pathf("notes.txt");
    char text[4096];
    memset(text, 'x', sizeof text);
    write_bytes(p, text, sizeof text);
    tl_error err = {0};
    tl_segment *s = NULL;
    int rc = tl_segment_open(p, &s, &err);
    cr_assert(rc == TL_ECORRUPT || rc == TL_EVERSION, "rc %d: %s", rc, err.msg);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, p), "%s", err.msg);

    const char *e = pathf("empty.tls");
    write_bytes(e, "", 0);
    cr_assert_eq(tl_segment_open(e, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, e), "%s", err.msg);

    cr_assert_neq(tl_segment_open(dir, &s, &err), TL_OK, "a directory is not a segment");
    cr_assert(strstr(err.msg, dir), "%s", err.msg);
}

static uint8_t *read_all(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

Test(segment_api, truncated_file_is_rejected)
{
    const char *p = pathf("full.tls");
    write_segment(p, 300, 300, NULL);
    size_t n;
    uint8_t *b = read_all(p, &n);
    const char *q = pathf("trunc.tls");
    for (size_t len = 0; len < n; len += (len < 200 ? 1 : 97)) {
        unlink(q);
        write_bytes(q, b, len);
        tl_error err = {0};
        tl_segment *s = NULL;
        int rc = tl_segment_open(q, &s, &err);
        cr_assert_neq(rc, TL_OK, "truncated to %zu of %zu bytes opened", len, n);
        cr_assert(strstr(err.msg, q), "len %zu: %s", len, err.msg);
    }
    free(b);
}

Test(segment_api, verify_and_dump_detect_a_flipped_block_byte)
{
    const char *p = pathf("flip.tls");
    write_segment(p, 2000, 2000, NULL);
    size_t n;
    uint8_t *b = read_all(p, &n);
    b[100] ^= 0x5A; /* inside the first block (the header is 64 bytes) */
    unlink(p);
    write_bytes(p, b, n);
    free(b);
    tl_error err = {0};
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(p, &s, &err), TL_OK, "footer intact: %s", err.msg);
    cr_assert_eq(tl_segment_verify(s, &err), TL_ECHECKSUM, "%s", err.msg);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
    cr_assert(strstr(err.msg, "block"), "%s", err.msg);
    int rc;
    char *got = segment_csv(s, 0, 5, &rc, &err);
    free(got);
    cr_assert_eq(rc, TL_ECHECKSUM, "%s", err.msg);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
    tl_segment_close(s);
}

/* ---- generating into files ------------------------------------------------ */

static tl_gen_opts small_gen(void)
{
    static const char *syms[] = {"BANKNIFTY", "NIFTY"};
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.seed = 5;
    o.days = 2;
    o.symbols = syms;
    o.n_symbols = 2;
    o.rows_per_day = 2000;
    return o;
}

typedef struct prog {
    uint64_t last, total;
    int calls;
} prog;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    prog *p = ctx;
    cr_assert_geq(done, p->last, "progress never goes back");
    p->last = done;
    p->total = total;
    p->calls++;
}

Test(segment_api, gen_write_segments_one_file_per_symbol_day)
{
    tl_gen_opts o = small_gen();
    const char *d = pathf("segs");
    tl_gen_report rep;
    prog pr = {0};
    tl_error err = {0};
    cr_assert_eq(tl_gen_write_segments(&o, d, NULL, on_progress, &pr, &rep, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(rep.n_rows, 4 * 2000);
    cr_assert_eq(rep.n_files, 4);
    cr_assert_geq(pr.calls, 1);
    cr_assert_eq(pr.last, 4 * 2000, "final progress call reports every row");
    cr_assert_eq(pr.total, 4 * 2000);
    const char *names[] = {"BANKNIFTY_2025-11-17.tls", "BANKNIFTY_2025-11-18.tls",
                           "NIFTY_2025-11-17.tls", "NIFTY_2025-11-18.tls"};
    uint64_t rows = 0, bytes = 0;
    for (uint32_t i = 0; i < 4; i++) {
        char want[600];
        snprintf(want, sizeof want, "%s/%s", d, names[i]);
        cr_assert_str_eq(rep.paths[i], want);
        tl_segment *s = NULL;
        cr_assert_eq(tl_segment_open(rep.paths[i], &s, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_segment_verify(s, &err), TL_OK, "%s", err.msg);
        rows += tl_segment_n_rows(s);
        bytes += tl_segment_file_bytes(s);
        /* every row of the file has the file's symbol */
        uint32_t nc = tl_segment_n_cols(s);
        int seen = 0;
        for (uint32_t c = 0; c < nc; c++) {
            tl_segment_col_stats cs;
            cr_assert_eq(tl_segment_col_stats_get(s, c, &cs, &err), TL_OK, "%s", err.msg);
            if (strcmp(cs.name, "symbol") == 0) {
                const char *sym = i < 2 ? "BANKNIFTY" : "NIFTY";
                cr_assert_str_eq(cs.min_text, sym);
                cr_assert_str_eq(cs.max_text, sym);
                seen = 1;
            }
            if (strcmp(cs.name, "timestamp") == 0)
                cr_assert(strncmp(cs.min_text, names[i] + strlen(names[i]) - 14, 10) == 0,
                          "timestamps of %s start on its day: %s", names[i], cs.min_text);
        }
        cr_assert(seen, "schema has a symbol column");
        tl_segment_close(s);
    }
    cr_assert_eq(rows, rep.n_rows);
    cr_assert_eq(bytes, rep.bytes);
    tl_gen_report_free(&rep);
    cr_assert_eq(rep.n_files, 0);
    tl_gen_report_free(NULL);
}

Test(segment_api, gen_write_segments_is_deterministic_and_refuses_overwrite)
{
    tl_gen_opts o = small_gen();
    o.days = 1;
    tl_error err = {0};
    tl_gen_report a, b;
    cr_assert_eq(tl_gen_write_segments(&o, pathf("x"), NULL, NULL, NULL, &a, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(tl_gen_write_segments(&o, pathf("y"), NULL, NULL, NULL, &b, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(a.n_files, b.n_files);
    for (uint32_t i = 0; i < a.n_files; i++) {
        size_t na, nb;
        uint8_t *ba = read_all(a.paths[i], &na), *bb = read_all(b.paths[i], &nb);
        cr_assert_eq(na, nb);
        cr_assert_eq(memcmp(ba, bb, na), 0, "%s and %s differ", a.paths[i], b.paths[i]);
        free(ba);
        free(bb);
    }
    tl_gen_report c;
    cr_assert_eq(tl_gen_write_segments(&o, pathf("x"), NULL, NULL, NULL, &c, &err), TL_EIO);
    cr_assert(strstr(err.msg, pathf("x/")), "names the existing file: %s", err.msg);
    cr_assert_eq(c.n_files, 0);
    tl_gen_report_free(&a);
    tl_gen_report_free(&b);
}

Test(segment_api, gen_write_segments_escapes_symbols)
{
    static const char *syms[] = {"A/B c"};
    tl_gen_opts o = small_gen();
    o.days = 1;
    o.symbols = syms;
    o.n_symbols = 1;
    o.rows_per_day = 100;
    tl_error err = {0};
    tl_gen_report rep;
    cr_assert_eq(tl_gen_write_segments(&o, pathf("esc"), NULL, NULL, NULL, &rep, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(rep.n_files, 1);
    cr_assert_str_eq(rep.paths[0], pathf("esc/A%2FB%20c_2025-11-17.tls"));
    tl_gen_report_free(&rep);
}

Test(segment_api, gen_write_csv_matches_segment_dump)
{
    static const char *syms[] = {"NIFTY"};
    tl_gen_opts o = small_gen();
    o.days = 1;
    o.symbols = syms;
    o.n_symbols = 1;
    tl_error err = {0};
    tl_gen_report rc1, rs;
    const char *csv = pathf("t.csv");
    cr_assert_eq(tl_gen_write_csv(&o, csv, NULL, NULL, &rc1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rc1.n_files, 1);
    cr_assert_eq(rc1.n_rows, 2000);
    cr_assert_eq(tl_gen_write_segments(&o, pathf("t"), NULL, NULL, NULL, &rs, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(rs.n_files, 1);
    size_t n;
    uint8_t *want = read_all(csv, &n);
    cr_assert_eq(rc1.bytes, n);
    tl_segment *s = NULL;
    cr_assert_eq(tl_segment_open(rs.paths[0], &s, &err), TL_OK, "%s", err.msg);
    int rc;
    char *got = segment_csv(s, 0, UINT64_MAX, &rc, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_eq(strlen(got), n);
    cr_assert_eq(memcmp(got, want, n), 0, "segment dump equals the generated CSV");
    free(got);
    free(want);
    tl_segment_close(s);
    tl_gen_report_free(&rc1);
    tl_gen_report_free(&rs);
}

Test(segment_api, gen_errors)
{
    tl_gen_opts o = small_gen();
    tl_error err = {0};
    tl_gen_report rep;
    o.days = 0;
    cr_assert_eq(tl_gen_write_segments(&o, pathf("e"), NULL, NULL, NULL, &rep, &err), TL_EINVAL);
    cr_assert_eq(tl_gen_write_csv(&o, pathf("e.csv"), NULL, NULL, &rep, &err), TL_EINVAL);
    cr_assert_not(exists(pathf("e.csv")));
    o = small_gen();
    const char *f = pathf("plainfile");
    write_bytes(f, "x", 1);
    cr_assert_eq(tl_gen_write_segments(&o, f, NULL, NULL, NULL, &rep, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, f), "%s", err.msg);
    cr_assert_eq(tl_gen_write_csv(&o, pathf("no/dir/x.csv"), NULL, NULL, &rep, &err), TL_EIO);
    cr_assert(strstr(err.msg, pathf("no/dir/x.csv")), "%s", err.msg);
}
