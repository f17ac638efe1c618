/*
 * csv_read_test.c - the streaming CSV reader (csv_int.h): round trips of
 * tl_batch_write_csv output (generated ticks with records split across
 * reads, every type at its edges, random float bit patterns), human input
 * (ISO timestamps, dates, bools, CRLF, BOM, blank lines, column order,
 * absent columns, quoting), batching and progress, stdin, and every error
 * path with the file, line, column and text its message must name.
 */
#include <criterion/criterion.h>

#include "csv_int.h"
#include "ticklake.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_csv_read_test_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(csv_read, .init = setup, .fini = teardown);

/* ---- helpers --------------------------------------------------------------- */

static const char *tmp_path(const char *name)
{
    static char p[2][400];
    static int k;
    k ^= 1;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* A small schema with one column of each kind used by most tests. */
static const tl_coldef small_defs[] = {
    {"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64}, {"q", TL_INT32},
};
static const uint8_t small_nullable[] = {0, 1, 1, 1};

static tl_csv_reader *open_text(const char *text, const tl_coldef *defs, uint32_t n,
                                const uint8_t *nullable, uint32_t chunk)
{
    tl_csv_opts o = {.nullable = nullable, .chunk_bytes = chunk};
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    int rc = tl_csv_open_mem(text, strlen(text), "t.csv", defs, n, &o, &r, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_not_null(r);
    return r;
}

static tl_csv_reader *open_small(const char *text)
{
    return open_text(text, small_defs, 4, small_nullable, 0);
}

/* The next batch, of `rows` rows. */
static void one_batch(tl_csv_reader *r, tl_batch *b, uint32_t rows)
{
    tl_error err = {0};
    cr_assert_eq(tl_csv_next(r, b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(b->n_rows, rows);
}

/* Asserts the input is exhausted (which invalidates the last batch), then
 * closes. */
static void close_at_end(tl_csv_reader *r)
{
    tl_error err = {0};
    tl_batch e;
    cr_assert_eq(tl_csv_next(r, &e, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(e.n_rows, 0);
    tl_csv_close(r);
}

/* Opening text must fail with code and a message containing want. */
static void open_fails(const char *text, const tl_coldef *defs, uint32_t n,
                       const uint8_t *nullable, int code, const char *want)
{
    tl_csv_opts o = {.nullable = nullable};
    tl_csv_reader *r = (tl_csv_reader *)1;
    tl_error err = {0};
    int rc = tl_csv_open_mem(text, strlen(text), "t.csv", defs, n, &o, &r, &err);
    cr_assert_eq(rc, code, "rc %d: %s", rc, err.msg);
    cr_assert_eq(err.code, code);
    cr_assert_null(r);
    cr_assert_not_null(strstr(err.msg, want), "message '%s' lacks '%s'", err.msg, want);
}

/* Reading text (header fine) must fail with TL_EINVAL and want in the
 * message, at every chunk size tried; the error is sticky. */
static void read_fails_n(const char *text, size_t len, const tl_coldef *defs, uint32_t n,
                         const uint8_t *nullable, const char *want)
{
    static const uint32_t chunks[] = {0, 1, 2, 3, 5, 16};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        tl_csv_opts o = {.nullable = nullable, .chunk_bytes = chunks[k], .batch_rows = 2};
        tl_csv_reader *r = NULL;
        tl_error err = {0};
        cr_assert_eq(tl_csv_open_mem(text, len, "t.csv", defs, n, &o, &r, &err), TL_OK, "%s",
                     err.msg);
        tl_batch b;
        int rc;
        while ((rc = tl_csv_next(r, &b, &err)) == TL_OK && b.n_rows > 0)
            ;
        cr_assert_eq(rc, TL_EINVAL, "chunk %u: expected an error for '%s'", chunks[k], want);
        cr_assert_eq(err.code, TL_EINVAL);
        cr_assert_not_null(strstr(err.msg, want), "chunk %u: message '%s' lacks '%s'",
                           chunks[k], err.msg, want);
        tl_error again = {0};
        cr_assert_eq(tl_csv_next(r, &b, &again), TL_EINVAL);
        cr_assert_str_eq(again.msg, err.msg);
        cr_assert_eq(b.n_rows, 0);
        tl_csv_close(r);
    }
}

static void read_fails(const char *text, const char *want)
{
    read_fails_n(text, strlen(text), small_defs, 4, small_nullable, want);
}

static int cell_valid(const tl_batch *b, uint32_t c, uint32_t r)
{
    return tl_bit_get(b->cols[c].validity, r);
}

/* Column c row i of a equals column c row j of b, bit for bit (NaNs: both
 * NaN, since the writer prints every NaN as "nan"). */
static void assert_cell_eq(const tl_batch *a, uint32_t i, const tl_batch *b, uint32_t j,
                           uint32_t c, uint64_t where)
{
    tl_type t = a->defs[c].type;
    const char *name = a->defs[c].name;
    cr_assert_eq(cell_valid(a, c, i), cell_valid(b, c, j), "row %" PRIu64 " col %s validity",
                 where, name);
    if (!cell_valid(a, c, i)) { /* b (the reader's) holds 0 / "" in a null slot */
        if (t == TL_STRING)
            cr_assert_eq(b->cols[c].offsets[j + 1], b->cols[c].offsets[j]);
        else {
            static const uint8_t zero[8];
            cr_assert_eq(memcmp((const uint8_t *)b->cols[c].values + j * tl_type_width(t), zero,
                                tl_type_width(t)),
                         0, "row %" PRIu64 " col %s null slot", where, name);
        }
        return;
    }
    if (t == TL_STRING) {
        uint32_t la = a->cols[c].offsets[i + 1] - a->cols[c].offsets[i];
        uint32_t lb = b->cols[c].offsets[j + 1] - b->cols[c].offsets[j];
        cr_assert_eq(la, lb, "row %" PRIu64 " col %s length", where, name);
        cr_assert_eq(memcmp(a->cols[c].data + a->cols[c].offsets[i],
                            b->cols[c].data + b->cols[c].offsets[j], la),
                     0, "row %" PRIu64 " col %s bytes", where, name);
        return;
    }
    size_t w = tl_type_width(t);
    const uint8_t *pa = (const uint8_t *)a->cols[c].values + i * w;
    const uint8_t *pb = (const uint8_t *)b->cols[c].values + j * w;
    if (t == TL_FLOAT64) {
        double x, y;
        memcpy(&x, pa, 8);
        memcpy(&y, pb, 8);
        if (isnan(x) && isnan(y))
            return;
    } else if (t == TL_FLOAT32) {
        float x, y;
        memcpy(&x, pa, 4);
        memcpy(&y, pb, 4);
        if (isnan(x) && isnan(y))
            return;
    }
    cr_assert_eq(memcmp(pa, pb, w), 0, "row %" PRIu64 " col %s value", where, name);
}

/* ---- round trips ------------------------------------------------------------- */

static void gen_opts(tl_gen_opts *o, uint64_t seed, uint64_t rows)
{
    tl_gen_opts_default(o);
    o->seed = seed;
    o->rows_per_day = rows;
}

/* Generated ticks -> CSV file -> reader: the same columns row for row. */
static void ticks_round_trip(uint64_t seed, uint64_t rows_per_day, uint32_t batch_rows,
                             uint32_t chunk)
{
    uint32_t n;
    const tl_coldef *defs = tl_ticks_schema(&n);
    const char *path = tmp_path("ticks.csv");
    tl_gen_opts o;
    gen_opts(&o, seed, rows_per_day);
    tl_error err = {0};
    cr_assert_eq(tl_gen_write_csv(&o, path, NULL, NULL, NULL, &err), TL_OK, "%s", err.msg);

    tl_gen *g = NULL;
    cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
    tl_csv_opts co = {.batch_rows = batch_rows, .chunk_bytes = chunk};
    tl_csv_reader *r = NULL;
    cr_assert_eq(tl_csv_open(path, defs, n, &co, &r, &err), TL_OK, "%s", err.msg);

    tl_batch gb = {0}, rb = {0};
    uint32_t gi = 0, ri = 0;
    uint64_t row = 0;
    int done = 0;
    for (;;) {
        if (gi == gb.n_rows && !done) {
            cr_assert_eq(tl_gen_next(g, 1000, &gb, &done, &err), TL_OK, "%s", err.msg);
            gi = 0;
        }
        if (ri == rb.n_rows) {
            cr_assert_eq(tl_csv_next(r, &rb, &err), TL_OK, "%s", err.msg);
            cr_assert_leq(rb.n_rows, batch_rows ? batch_rows : 65536);
            ri = 0;
        }
        if (gb.n_rows == 0 || rb.n_rows == 0) {
            cr_assert_eq(gb.n_rows, rb.n_rows, "row %" PRIu64 ": one side ended early", row);
            break;
        }
        cr_assert_eq(rb.n_cols, n);
        for (uint32_t c = 0; c < n; c++)
            assert_cell_eq(&gb, gi, &rb, ri, c, row);
        gi++, ri++, row++;
    }
    cr_assert_eq(row, tl_gen_total_rows(g));
    cr_assert_gt(tl_csv_file_size(r), 0);
    cr_assert_eq(tl_csv_bytes_read(r), tl_csv_file_size(r));
    tl_csv_close(r);
    tl_gen_close(g);
}

Test(csv_read, round_trips_generated_ticks)
{
    ticks_round_trip(1, 3000, 0, 0);
    ticks_round_trip(7, 2000, 1000, 0);
}

Test(csv_read, round_trips_with_records_split_across_reads)
{
    /* chunk sizes below, near and above one record (~300 bytes), batch
     * sizes that do not divide the row count */
    ticks_round_trip(2, 400, 7, 1);
    ticks_round_trip(3, 500, 333, 97);
    ticks_round_trip(4, 700, 64, 301);
    ticks_round_trip(5, 900, 1000, 4093);
}

/* A batch of every type, rows of edge values, built by hand. */
#define EDGE_ROWS 12
static const tl_coldef edge_defs[] = {
    {"b", TL_BOOL},    {"i8", TL_INT8},     {"i16", TL_INT16},  {"i32", TL_INT32},
    {"i64", TL_INT64}, {"u8", TL_UINT8},    {"u16", TL_UINT16}, {"u32", TL_UINT32},
    {"u64", TL_UINT64}, {"f32", TL_FLOAT32}, {"f64", TL_FLOAT64}, {"ts", TL_TIMESTAMP},
    {"d", TL_DATE},    {"tu", TL_TIMESTAMP_US}, {"s", TL_STRING},
};
#define EDGE_COLS (sizeof edge_defs / sizeof edge_defs[0])

static uint8_t e_b[EDGE_ROWS] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
static int8_t e_i8[EDGE_ROWS] = {INT8_MIN, INT8_MAX, 0, -1, 1, 0, 0, 0, 0, 0, 0, 0};
static int16_t e_i16[EDGE_ROWS] = {INT16_MIN, INT16_MAX, 0, -1, 1};
static int32_t e_i32[EDGE_ROWS] = {INT32_MIN, INT32_MAX, 0, -1, 1};
static int64_t e_i64[EDGE_ROWS] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN + 1};
static uint8_t e_u8[EDGE_ROWS] = {0, UINT8_MAX, 1};
static uint16_t e_u16[EDGE_ROWS] = {0, UINT16_MAX, 1};
static uint32_t e_u32[EDGE_ROWS] = {0, UINT32_MAX, 1};
static uint64_t e_u64[EDGE_ROWS] = {0, UINT64_MAX, 1, UINT64_MAX - 1};
static float e_f32[EDGE_ROWS];
static double e_f64[EDGE_ROWS];
static int64_t e_ts[EDGE_ROWS] = {INT64_MIN, INT64_MAX, 0, -1, INT64_C(1763351100699000000)};
static int32_t e_d[EDGE_ROWS] = {INT32_MIN, INT32_MAX, 0, -1, 20409, -719528, -719529, 2932896};
static int64_t e_tu[EDGE_ROWS] = {INT64_MIN, INT64_MAX, 0, -1, INT64_C(1704141296123456),
                                  INT64_C(9089380393200000000), INT64_C(-62198755200000000),
                                  INT64_C(-62135596800000000), 1, 10, 100000, 999999};
static const char *e_s[EDGE_ROWS] = {"plain",      "a,b",     "say \"hi\"", "cr\rhere",
                                     "lf\nhere",   "crlf\r\n", "",         "\"",
                                     ",",          "x",        "\xc3\xa9t\xc3\xa9", "last"};
static uint32_t e_off[EDGE_ROWS + 1];
static char e_data[256];
static uint8_t e_valid_most[2] = {0xff, 0xf7}; /* row 11 null */
static uint8_t e_valid_s[2] = {0xff, 0x07};    /* row 11 null */

static void edge_batch(tl_batch *b, tl_colvec *v)
{
    e_f32[0] = FLT_MAX, e_f32[1] = -FLT_MAX, e_f32[2] = FLT_MIN, e_f32[3] = FLT_TRUE_MIN;
    e_f32[4] = -0.0f, e_f32[5] = INFINITY, e_f32[6] = -INFINITY, e_f32[7] = NAN;
    e_f32[8] = 0.1f, e_f32[9] = 16777217.0f, e_f32[10] = 3.4028234e38f, e_f32[11] = 1e-40f;
    e_f64[0] = DBL_MAX, e_f64[1] = -DBL_MAX, e_f64[2] = DBL_MIN, e_f64[3] = DBL_TRUE_MIN;
    e_f64[4] = -0.0, e_f64[5] = INFINITY, e_f64[6] = -INFINITY, e_f64[7] = NAN;
    e_f64[8] = 0.1, e_f64[9] = 9007199254740993.0, e_f64[10] = 5e-324 * 3, e_f64[11] = 1e23;
    uint32_t o = 0;
    for (int i = 0; i < EDGE_ROWS; i++) {
        e_off[i] = o;
        size_t n = strlen(e_s[i]);
        memcpy(e_data + o, e_s[i], n);
        o += (uint32_t)n;
    }
    e_off[EDGE_ROWS] = o;
    const void *vals[EDGE_COLS] = {e_b,   e_i8,  e_i16, e_i32, e_i64, e_u8, e_u16,
                                   e_u32, e_u64, e_f32, e_f64, e_ts,  e_d,  e_tu, NULL};
    for (size_t c = 0; c < EDGE_COLS; c++) {
        v[c] = (tl_colvec){.values = vals[c], .validity = c % 2 ? e_valid_most : NULL};
    }
    v[EDGE_COLS - 1] = (tl_colvec){.offsets = e_off, .data = (const uint8_t *)e_data,
                                   .validity = e_valid_s};
    *b = (tl_batch){.n_rows = EDGE_ROWS, .n_cols = EDGE_COLS, .defs = edge_defs, .cols = v};
}

/* Write b as CSV into a heap buffer. */
static char *batch_csv(const tl_batch *b, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    cr_assert_not_null(f);
    tl_error err = {0};
    cr_assert_eq(tl_batch_write_csv(b, f, 1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(fclose(f), 0);
    return text;
}

Test(csv_read, round_trips_every_type_at_its_edges)
{
    tl_batch b;
    tl_colvec v[EDGE_COLS];
    edge_batch(&b, v);
    size_t len;
    char *text = batch_csv(&b, &len);
    static const uint32_t chunks[] = {0, 1, 2, 3, 7, 31, 64};
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
        for (uint32_t batch_rows = 1; batch_rows <= EDGE_ROWS + 1; batch_rows += 5) {
            tl_csv_opts o = {.batch_rows = batch_rows, .chunk_bytes = chunks[k]};
            tl_csv_reader *r = NULL;
            tl_error err = {0};
            cr_assert_eq(tl_csv_open_mem(text, len, "edge.csv", edge_defs, EDGE_COLS, &o, &r,
                                         &err),
                         TL_OK, "%s", err.msg);
            uint32_t row = 0;
            tl_batch rb;
            while (tl_csv_next(r, &rb, &err) == TL_OK && rb.n_rows > 0)
                for (uint32_t i = 0; i < rb.n_rows; i++, row++)
                    for (uint32_t c = 0; c < EDGE_COLS; c++)
                        assert_cell_eq(&b, row, &rb, i, c, row);
            cr_assert_eq(err.code, TL_OK, "%s", err.msg);
            cr_assert_eq(row, EDGE_ROWS, "chunk %u batch %u", chunks[k], batch_rows);
            tl_csv_close(r);
        }
    free(text);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

Test(csv_read, round_trips_random_float_bit_patterns)
{
    enum { N = 50000 };
    static const tl_coldef defs[] = {{"f", TL_FLOAT32}, {"d", TL_FLOAT64}};
    float *f = malloc(N * sizeof *f);
    double *d = malloc(N * sizeof *d);
    cr_assert(f && d);
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        uint64_t x = rng_next(&s);
        uint32_t fx = (uint32_t)x;
        if (i % 4 == 1) /* short decimals: the fast path */
            d[i] = (double)(int64_t)(x % 20000000) / 100.0, f[i] = (float)(x % 100000) / 1000.0f;
        else if (i % 4 == 2) /* subnormals */
            x &= UINT64_C(0x800FFFFFFFFFFFFF), fx &= 0x807FFFFFu;
        if (i % 4 != 1) {
            memcpy(&d[i], &x, 8);
            memcpy(&f[i], &fx, 4);
        }
    }
    tl_colvec v[2] = {{.values = f}, {.values = d}};
    tl_batch b = {.n_rows = N, .n_cols = 2, .defs = defs, .cols = v};
    size_t len;
    char *text = batch_csv(&b, &len);
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    tl_csv_opts o = {.batch_rows = N};
    cr_assert_eq(tl_csv_open_mem(text, len, "f.csv", defs, 2, &o, &r, &err), TL_OK, "%s",
                 err.msg);
    tl_batch rb;
    one_batch(r, &rb, N);
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t c = 0; c < 2; c++)
            assert_cell_eq(&b, i, &rb, i, c, i);
    close_at_end(r);
    free(text);
    free(f);
    free(d);
}

Test(csv_read, floats_are_correctly_rounded_like_strtod)
{
    /* decimals that are not the shortest form of anything: the reader must
     * round exactly as strtod/strtof do (glibc's are correctly rounded) */
    static const tl_coldef defs[] = {{"f", TL_FLOAT32}, {"d", TL_FLOAT64}};
    enum { N = 20000 };
    size_t cap = N * 64, n = 0;
    char *text = malloc(cap);
    char (*vals)[48] = malloc(N * sizeof *vals);
    cr_assert(text && vals);
    n += (size_t)sprintf(text, "f,d\n");
    uint64_t s = 7;
    for (int i = 0; i < N; i++) {
        uint64_t x = rng_next(&s);
        int e = (int)(x >> 40) % 60 - 30;
        switch (i % 5) {
        case 0: snprintf(vals[i], 48, "%" PRIu64 ".%02u", (x >> 20) % 10000000, (unsigned)(x % 100)); break;
        case 1: snprintf(vals[i], 48, "%" PRIu64 "e%d", x >> 11, e); break;
        case 2: snprintf(vals[i], 48, "-0.%019" PRIu64, x % UINT64_C(10000000000000000000)); break;
        case 3: snprintf(vals[i], 48, "%u.%ue%d", (unsigned)(x % 1000), (unsigned)(x >> 50), e * 10); break;
        default: snprintf(vals[i], 48, "%" PRIu64 "%" PRIu64, x, x >> 3); break;
        }
        n += (size_t)sprintf(text + n, "%s,%s\n", vals[i], vals[i]);
    }
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    tl_csv_opts o = {.batch_rows = N};
    cr_assert_eq(tl_csv_open_mem(text, n, "f.csv", defs, 2, &o, &r, &err), TL_OK, "%s", err.msg);
    tl_batch rb;
    one_batch(r, &rb, N);
    const float *rf = rb.cols[0].values;
    const double *rd = rb.cols[1].values;
    for (int i = 0; i < N; i++) {
        float wf = strtof(vals[i], NULL);
        double wd = strtod(vals[i], NULL);
        cr_assert_eq(memcmp(&rf[i], &wf, 4), 0, "float32 '%s': %a vs %a", vals[i], rf[i], wf);
        cr_assert_eq(memcmp(&rd[i], &wd, 8), 0, "float64 '%s': %a vs %a", vals[i], rd[i], wd);
    }
    close_at_end(r);
    free(text);
    free(vals);
}

Test(csv_read, number_forms_read_the_same_on_every_path)
{
    /* the fast path (plain decimals) and the general one (exponent, '+',
     * quotes, long digit strings) agree */
    static const tl_coldef defs[] = {{"d", TL_FLOAT64}, {"f", TL_FLOAT32}, {"i", TL_INT64},
                                     {"u", TL_UINT16}};
    tl_csv_reader *r = open_text("d,f,i,u\n"
                                 "1.5,1.5,7,7\n"
                                 "+1.5,+1.5,+7,+7\n"
                                 "15e-1,15E-1,007,007\n"
                                 "\".15e1\",\"0.15e+1\",\"7\",\"7\"\n"
                                 "1.50000000000000000000000,1.500000000000000000000,"
                                 "0000000000000000000007,0000000000000000000007\n",
                                 defs, 4, NULL, 3);
    tl_batch b;
    one_batch(r, &b, 5);
    for (uint32_t i = 0; i < 5; i++) {
        cr_assert_eq(((const double *)b.cols[0].values)[i], 1.5, "row %u", i);
        cr_assert_eq(((const float *)b.cols[1].values)[i], 1.5f, "row %u", i);
        cr_assert_eq(((const int64_t *)b.cols[2].values)[i], 7, "row %u", i);
        cr_assert_eq(((const uint16_t *)b.cols[3].values)[i], 7, "row %u", i);
    }
    close_at_end(r);
}

Test(csv_read, float32_rounds_to_nearest)
{
    static const tl_coldef defs[] = {{"f", TL_FLOAT32}};
    tl_csv_reader *r = open_text("f\n0.1\n16777217\n16777219\n3.4028235e38\n1e39\n1e-46\n"
                                 "-0\n-nan\n1.00000005960464477539062500001\n",
                                 defs, 1, NULL, 0);
    tl_batch b;
    one_batch(r, &b, 9);
    const float *f = b.cols[0].values;
    cr_assert_eq(f[0], 0.1f);
    cr_assert_eq(f[1], 16777216.0f, "a tie goes to even");
    cr_assert_eq(f[2], 16777220.0f);
    cr_assert_eq(f[3], FLT_MAX);
    cr_assert(isinf(f[4]) && f[4] > 0, "beyond FLT_MAX + half an ulp: inf");
    cr_assert(f[5] == 0 && !signbit(f[5]));
    cr_assert(f[6] == 0 && signbit(f[6]));
    cr_assert(isnan(f[7]));
    cr_assert_eq(f[8], nextafterf(1.0f, 2.0f), "just above the tie rounds up");
    close_at_end(r);
}

Test(csv_read, one_column_blank_lines_are_nulls)
{
    /* with a single column, the writer prints a null as an empty line */
    static const tl_coldef defs[] = {{"s", TL_STRING}};
    tl_csv_reader *r = open_text("s\n\n\"\"\nx\n\n", defs, 1, NULL, 0);
    tl_batch b;
    one_batch(r, &b, 4);
    cr_assert_eq(tl_bit_get(b.cols[0].validity, 0), 0);
    cr_assert_eq(tl_bit_get(b.cols[0].validity, 1), 1);
    cr_assert_eq(b.cols[0].offsets[2], 0); /* "" present and empty */
    cr_assert_eq(tl_bit_get(b.cols[0].validity, 2), 1);
    cr_assert_eq(tl_bit_get(b.cols[0].validity, 3), 0);
    close_at_end(r);
}

/* ---- human input ------------------------------------------------------------ */

Test(csv_read, accepts_iso_timestamps)
{
    static const struct {
        const char *text;
        int64_t ns;
    } cases[] = {
        {"0", 0},
        {"-1", -1},
        {"+5", 5},
        {"1970-01-01", 0},
        {"2025-11-17T03:45:00Z", INT64_C(1763351100000000000)},
        {"2025-11-17 03:45:00", INT64_C(1763351100000000000)},
        {"2025-11-17t03:45:00z", INT64_C(1763351100000000000)},
        {"2025-11-17T03:45:00.699Z", INT64_C(1763351100699000000)},
        {"\"2025-11-17T03:45:00,5\"", INT64_C(1763351100500000000)},
        {"2025-11-17T03:45:00.000000001", INT64_C(1763351100000000001)},
        {"2025-11-17T09:15:00+05:30", INT64_C(1763351100000000000)},
        {"2025-11-17T09:15:00+0530", INT64_C(1763351100000000000)},
        {"2025-11-16T22:45:00-05", INT64_C(1763351100000000000)},
        {"1969-12-31T23:59:59.999999999Z", -1},
        {"2000-02-29T00:00:00Z", INT64_C(951782400000000000)},
        {"1677-09-21T00:12:43.145224192Z", INT64_MIN},
        {"2262-04-11T23:47:16.854775807Z", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
    };
    static const tl_coldef defs[] = {{"t", TL_TIMESTAMP}};
    char text[2048] = "t\n";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        strcat(strcat(text, cases[i].text), "\n");
    tl_csv_reader *r = open_text(text, defs, 1, NULL, 0);
    tl_batch b;
    one_batch(r, &b, sizeof cases / sizeof cases[0]);
    cr_assert_null(b.cols[0].validity);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(((const int64_t *)b.cols[0].values)[i], cases[i].ns, "%s: %" PRId64,
                     cases[i].text, ((const int64_t *)b.cols[0].values)[i]);
    close_at_end(r);
}

/* timestamp_us: what tl_batch_write_csv prints (far years, '-' years,
 * trimmed fractions), ISO with offsets, integer µs; sub-µs digits must be
 * zeros. */
Test(csv_read, accepts_timestamp_us_text)
{
    static const struct {
        const char *text;
        int64_t us;
    } cases[] = {
        {"0", 0},
        {"-1", -1},
        {"1970-01-01", 0},
        {"2024-01-01 20:34:56.123456", INT64_C(1704141296123456)},
        {"2024-01-01T20:34:56.123456Z", INT64_C(1704141296123456)},
        {"2024-01-01 21:34:56.123456+01:00", INT64_C(1704141296123456)},
        {"2024-01-01 20:34:56.123456000", INT64_C(1704141296123456)},
        {"2024-01-01 20:34:56.1", INT64_C(1704141296100000)},
        {"9999-12-31 03:00:00", INT64_C(253402225200000000)},
        {"290000-12-30 23:00:00", INT64_C(9089380393200000000)},
        {"-0001-01-01 00:00:00", INT64_C(-62198755200000000)},
        {"0000-12-31 23:59:59.999999", INT64_C(-62135596800000001)},
        {"-290308-12-21 19:59:05.224192", INT64_MIN},
        {"294247-01-10 04:00:54.775807", INT64_MAX},
    };
    static const tl_coldef defs[] = {{"t", TL_TIMESTAMP_US}};
    char text[2048] = "t\n";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        strcat(strcat(text, cases[i].text), "\n");
    tl_csv_reader *r = open_text(text, defs, 1, NULL, 0);
    tl_batch b;
    one_batch(r, &b, sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(((const int64_t *)b.cols[0].values)[i], cases[i].us, "%s: %" PRId64,
                     cases[i].text, ((const int64_t *)b.cols[0].values)[i]);
    close_at_end(r);
    static const uint8_t nl[1] = {1};
#define US_FAILS(text, want) read_fails_n(text, strlen(text), defs, 1, nl, want)
    US_FAILS("t\n2024-01-01 20:34:56.1234567\n",
             "line 2: column 't' (timestamp_us): expected a whole microsecond");
    US_FAILS("t\n294247-01-10 04:00:54.775808\n",
             "294247-01-10 04:00:54.775807 (int64 microseconds)");
    US_FAILS("t\n2024-02-30 00:00:00\n", "expected a valid date");
    US_FAILS("t\n2024-01-01 00:00\n", "expected integer microseconds");
#undef US_FAILS
}

Test(csv_read, accepts_dates_bools_and_integer_signs)
{
    static const tl_coldef defs[] = {
        {"d", TL_DATE}, {"b", TL_BOOL}, {"u", TL_UINT8}, {"i", TL_INT16}};
    tl_csv_reader *r = open_text("d,b,u,i\n"
                                 "1970-01-01,true,+7,-0\n"
                                 "2024-02-29,FALSE,-0,+32767\n"
                                 "-0001-12-31,1,255,-32768\n"
                                 "10000-01-01,0,0,0\n"
                                 "0000-03-01,True,1,1\n",
                                 defs, 4, NULL, 0);
    tl_batch b;
    one_batch(r, &b, 5);
    const int32_t *d = b.cols[0].values;
    const uint8_t *bo = b.cols[1].values, *u = b.cols[2].values;
    const int16_t *i = b.cols[3].values;
    cr_assert_eq(d[0], 0);
    cr_assert_eq(d[1], 19782);
    cr_assert_eq(d[2], -719529);
    cr_assert_eq(d[3], 2932897);
    cr_assert_eq(d[4], -719468);
    cr_assert_eq(bo[0], 1);
    cr_assert_eq(bo[1], 0);
    cr_assert_eq(bo[2], 1);
    cr_assert_eq(bo[3], 0);
    cr_assert_eq(bo[4], 1);
    cr_assert_eq(u[0], 7);
    cr_assert_eq(u[1], 0);
    cr_assert_eq(u[2], 255);
    cr_assert_eq(i[0], 0);
    cr_assert_eq(i[1], 32767);
    cr_assert_eq(i[2], -32768);
    close_at_end(r);
}

Test(csv_read, accepts_bom_crlf_no_trailing_newline_and_blank_lines)
{
    static const char *texts[] = {
        "\xEF\xBB\xBFts,sym,px,q\r\n1,A,1.5,2\r\n\r\n2,\"B\r\nC\",-0,\r\n3,,inf,-4",
        "ts,sym,px,q\n\n1,A,1.5,2\n2,\"B\r\nC\",-0.0,\n\n3,,INF,-4\n\n",
    };
    for (size_t k = 0; k < 2; k++)
        for (uint32_t chunk = 1; chunk <= 9; chunk += 4) {
            tl_csv_reader *r = open_text(texts[k], small_defs, 4, small_nullable, chunk);
            tl_batch b;
            one_batch(r, &b, 3);
            const int64_t *ts = b.cols[0].values;
            const double *px = b.cols[2].values;
            const int32_t *q = b.cols[3].values;
            cr_assert_eq(ts[0], 1);
            cr_assert_eq(ts[2], 3);
            cr_assert_eq(b.cols[1].offsets[1], 1);
            cr_assert_eq(memcmp(b.cols[1].data + 1, "B\r\nC", 4), 0);
            cr_assert_eq(b.cols[1].offsets[2], 5);
            cr_assert_eq(b.cols[1].offsets[3], 5);
            cr_assert_eq(tl_bit_get(b.cols[1].validity, 2), 0);
            cr_assert_eq(px[0], 1.5);
            cr_assert(signbit(px[1]) && px[1] == 0);
            cr_assert(isinf(px[2]) && px[2] > 0);
            cr_assert_eq(q[0], 2);
            cr_assert_eq(tl_bit_get(b.cols[3].validity, 1), 0);
            cr_assert_eq(q[1], 0, "a null slot holds 0");
            cr_assert_eq(q[2], -4);
            cr_assert_null(b.cols[0].validity);
            cr_assert_null(b.cols[2].validity);
            close_at_end(r);
        }
}

Test(csv_read, header_order_is_free_and_absent_nullable_columns_are_null)
{
    tl_csv_reader *r = open_small("q,ts\n5,10\n6,11\n");
    tl_batch b;
    one_batch(r, &b, 2);
    cr_assert_eq(b.n_cols, 4);
    cr_assert_str_eq(b.defs[0].name, "ts");
    cr_assert_str_eq(b.defs[3].name, "q");
    cr_assert_eq(((const int64_t *)b.cols[0].values)[1], 11);
    cr_assert_eq(((const int32_t *)b.cols[3].values)[1], 6);
    for (uint32_t i = 0; i < 2; i++) {
        cr_assert_eq(tl_bit_get(b.cols[1].validity, i), 0);
        cr_assert_eq(tl_bit_get(b.cols[2].validity, i), 0);
        cr_assert_eq(((const double *)b.cols[2].values)[i], 0.0);
        cr_assert_eq(b.cols[1].offsets[i + 1], 0);
    }
    cr_assert_not_null(b.cols[1].data);
    close_at_end(r);
}

Test(csv_read, quoted_values_and_quoted_header_names)
{
    tl_csv_reader *r = open_small("\"ts\",\"sym\",px,\"q\"\n\"7\",\"a\"\"b,c\",\"2.5\",\"\"\n");
    tl_batch b;
    one_batch(r, &b, 1);
    cr_assert_eq(((const int64_t *)b.cols[0].values)[0], 7);
    cr_assert_eq(b.cols[1].offsets[1], 5);
    cr_assert_eq(memcmp(b.cols[1].data, "a\"b,c", 5), 0);
    cr_assert_eq(((const double *)b.cols[2].values)[0], 2.5);
    cr_assert_eq(tl_bit_get(b.cols[3].validity, 0), 0, "\"\" is a null for numbers");
    close_at_end(r);
}

Test(csv_read, header_only_gives_no_rows)
{
    static const char *texts[] = {"ts,sym,px,q\n", "ts,sym,px,q", "\xEF\xBB\xBFts,sym,px,q\r\n"};
    for (size_t k = 0; k < 3; k++) {
        tl_csv_reader *r = open_small(texts[k]);
        tl_batch b;
        tl_error err = {0};
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(tl_csv_next(r, &b, &err), TL_OK, "%s", err.msg);
            cr_assert_eq(b.n_rows, 0);
        }
        cr_assert_eq(tl_csv_bytes_read(r), strlen(texts[k]));
        tl_csv_close(r);
    }
}

Test(csv_read, batches_split_rows_and_reuse_buffers)
{
    char text[4096] = "ts,sym,px,q\n";
    for (int i = 0; i < 10; i++)
        sprintf(text + strlen(text), "%d,s%d,%d.25,%s\n", i, i, i, i == 4 ? "" : "9");
    tl_csv_opts o = {.batch_rows = 3, .nullable = small_nullable};
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_csv_open_mem(text, strlen(text), "t.csv", small_defs, 4, &o, &r, &err),
                 TL_OK, "%s", err.msg);
    static const uint32_t want[] = {3, 3, 3, 1, 0, 0};
    int64_t next = 0;
    uint64_t last_bytes = tl_csv_bytes_read(r);
    cr_assert_eq(last_bytes, strlen("ts,sym,px,q\n"));
    for (size_t k = 0; k < 6; k++) {
        tl_batch b;
        cr_assert_eq(tl_csv_next(r, &b, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(b.n_rows, want[k]);
        for (uint32_t i = 0; i < b.n_rows; i++, next++) {
            cr_assert_eq(((const int64_t *)b.cols[0].values)[i], next);
            char s[8];
            int n = sprintf(s, "s%d", (int)next);
            cr_assert_eq(b.cols[1].offsets[i + 1] - b.cols[1].offsets[i], (uint32_t)n);
            cr_assert_eq(memcmp(b.cols[1].data + b.cols[1].offsets[i], s, (size_t)n), 0);
            cr_assert_eq(tl_bit_get(b.cols[3].validity, i), next != 4);
        }
        /* only the batch holding row 4 has a validity bitmap for q */
        cr_assert_eq(b.cols[3].validity != NULL, k == 1);
        cr_assert_geq(tl_csv_bytes_read(r), last_bytes);
        last_bytes = tl_csv_bytes_read(r);
    }
    cr_assert_eq(last_bytes, strlen(text));
    tl_csv_close(r);
}

Test(csv_read, record_longer_than_the_read_buffer)
{
    static const tl_coldef defs[] = {{"s", TL_STRING}, {"n", TL_INT64}};
    size_t big = 100000;
    char *text = malloc(big + 64);
    cr_assert_not_null(text);
    strcpy(text, "s,n\n\"");
    size_t n = strlen(text);
    for (size_t i = 0; i < big; i++)
        text[n++] = i % 1000 == 999 ? '\n' : (char)('a' + i % 26);
    strcpy(text + n, "\",42\nshort,43\n");
    tl_csv_reader *r = open_text(text, defs, 2, NULL, 64);
    tl_batch b;
    one_batch(r, &b, 2);
    cr_assert_eq(b.cols[0].offsets[1], big);
    cr_assert_eq(((const int64_t *)b.cols[1].values)[0], 42);
    cr_assert_eq(((const int64_t *)b.cols[1].values)[1], 43);
    close_at_end(r);
    free(text);
}

Test(csv_read, reads_a_file_and_reports_its_size)
{
    const char *path = tmp_path("f.csv");
    const char *text = "sym,ts\nA,1\nB,2\n";
    write_file(path, text, strlen(text));
    tl_csv_opts o = {.nullable = small_nullable};
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_csv_open(path, small_defs, 4, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_csv_file_size(r), strlen(text));
    tl_batch b;
    one_batch(r, &b, 2);
    cr_assert_eq(tl_csv_bytes_read(r), strlen(text));
    close_at_end(r);
}

Test(csv_read, reads_stdin_from_a_pipe)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    const char *text = "ts,q\n1,2\n3,4\n";
    cr_assert_eq(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
    cr_assert_eq(close(fds[1]), 0);
    int saved = dup(STDIN_FILENO);
    cr_assert_geq(saved, 0);
    cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    tl_csv_opts o = {.nullable = small_nullable};
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    int rc = tl_csv_open("-", small_defs, 4, &o, &r, &err);
    tl_batch b = {0};
    int rc2 = rc == TL_OK ? tl_csv_next(r, &b, &err) : rc;
    uint64_t size = tl_csv_file_size(r);
    tl_csv_close(r);
    cr_assert_eq(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_eq(rc2, TL_OK, "%s", err.msg);
    cr_assert_eq(b.n_rows, 2);
    cr_assert_eq(size, 0, "a pipe has no size");
}

/* ---- errors ---------------------------------------------------------------- */

Test(csv_read, header_errors)
{
    open_fails("ts,x,q\n", small_defs, 4, small_nullable, TL_EINVAL,
               "t.csv: line 1: unknown column 'x' (the table has: ts, sym, px, q)");
    open_fails("ts,q,ts\n", small_defs, 4, small_nullable, TL_EINVAL,
               "t.csv: line 1: expected each column once, found 'ts' twice (header fields 1 "
               "and 3)");
    open_fails("sym,q\n1,2\n", small_defs, 4, small_nullable, TL_EINVAL,
               "t.csv: line 1: missing non-nullable column 'ts'");
    open_fails("", small_defs, 4, small_nullable, TL_EINVAL,
               "t.csv: line 1: expected a header line naming the columns, found an empty file");
    open_fails("\xEF\xBB\xBF", small_defs, 4, small_nullable, TL_EINVAL, "found an empty file");
    open_fails("ts,\"sym\n", small_defs, 4, small_nullable, TL_EINVAL,
               "t.csv: line 1: header: expected a closing quote before the end of the input");
    open_fails("ts,TS\n", small_defs, 4, small_nullable, TL_EINVAL, "unknown column 'TS'");
    open_fails("ts, sym\n", small_defs, 4, small_nullable, TL_EINVAL, "unknown column ' sym'");
}

Test(csv_read, argument_errors)
{
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_csv_open(NULL, small_defs, 4, NULL, &r, &err), TL_EINVAL);
    cr_assert_eq(tl_csv_open("x", small_defs, 0, NULL, &r, &err), TL_EINVAL);
    cr_assert_eq(tl_csv_open("x", small_defs, 4, NULL, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_csv_open(tmp_path("nope.csv"), small_defs, 4, NULL, &r, &err),
                 TL_ENOTFOUND);
    cr_assert_not_null(strstr(err.msg, "nope.csv"), "%s", err.msg);
    cr_assert_null(r);
    static const tl_coldef dup[] = {{"a", TL_INT8}, {"a", TL_INT16}};
    open_fails("a\n", dup, 2, NULL, TL_EINVAL, "schema names column 'a' twice");
    static const tl_coldef badt[] = {{"a", (tl_type)99}};
    open_fails("a\n", badt, 1, NULL, TL_EINVAL, "schema column 'a': expected a type 1..15");
    tl_csv_opts o = {.batch_rows = (1u << 20) + 1};
    cr_assert_eq(tl_csv_open_mem("ts\n", 3, "t.csv", small_defs, 4, &o, &r, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "batch_rows"), "%s", err.msg);
    tl_batch b;
    cr_assert_eq(tl_csv_next(NULL, &b, &err), TL_EINVAL);
    tl_csv_close(NULL);
    cr_assert_eq(tl_csv_bytes_read(NULL), 0);
    cr_assert_eq(tl_csv_file_size(NULL), 0);
}

Test(csv_read, integer_errors_name_file_line_column_and_text)
{
    static const tl_coldef defs[] = {{"i8", TL_INT8}, {"u", TL_UINT32}, {"i64", TL_INT64},
                                     {"u64", TL_UINT64}};
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"i8\n1\n300\n",
         "t.csv: line 3: column 'i8' (int8): expected an integer in -128..127, found '300'"},
        {"i8\n-129\n", "line 2: column 'i8' (int8): expected an integer in -128..127"},
        {"u\n-1\n", "t.csv: line 2: column 'u' (uint32): expected an integer in 0..4294967295, "
                    "found '-1'"},
        {"u\n12x\n", "t.csv: line 2: column 'u' (uint32): expected an integer, found '12x'"},
        {"u\n+\n", "expected an integer, found '+'"},
        {"u\n1.0\n", "expected an integer, found '1.0'"},
        {"u\n 1\n", "expected an integer, found ' 1'"},
        {"i64\n9223372036854775808\n", "expected an integer in -9223372036854775808.."
                                       "9223372036854775807, found '9223372036854775808'"},
        {"u64\n18446744073709551616\n", "found '18446744073709551616'"},
        {"u64\n99999999999999999999999\n", "expected an integer in 0..18446744073709551615"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        read_fails_n(cases[k].text, strlen(cases[k].text), defs, 4, NULL, cases[k].want);
}

Test(csv_read, value_errors_for_every_type)
{
    static const tl_coldef defs[] = {{"b", TL_BOOL}, {"f", TL_FLOAT32}, {"d", TL_FLOAT64},
                                     {"t", TL_TIMESTAMP}, {"day", TL_DATE}};
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"b\nyes\n", "line 2: column 'b' (bool): expected true, false, 1 or 0, found 'yes'"},
        {"f\n1.2.3\n", "line 2: column 'f' (float32): expected a decimal number"},
        {"d\n0x10\n", "column 'd' (float64): expected a decimal number (digits, optional "
                      "fraction and exponent), inf or nan, found '0x10'"},
        {"d\n1e\n", "found '1e'"},
        {"d\n.\n", "found '.'"},
        {"d\n-\n", "found '-'"},
        {"d\ninfinit\n", "found 'infinit'"},
        {"d\n1 \n", "found '1 '"},
        {"t\n2025-13-01T00:00:00Z\n",
         "column 't' (timestamp): expected a valid date and time, found '2025-13-01T00:00:00Z'"},
        {"t\n2025-11-17T24:00:00\n", "expected a valid date and time"},
        {"t\n2025-11-17T03:45\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00.1234567890\n", "expected integer nanoseconds"},
        {"t\n2025-11-17T03:45:00+5\n", "expected integer nanoseconds"},
        {"t\n2300-01-01T00:00:00Z\n", "expected a time in 1677-09-21T00:12:43.145224192Z.."},
        {"t\n99999999999999999999\n", "expected a time in"},
        {"day\n2025-02-29\n", "column 'day' (date): expected a valid date, found '2025-02-29'"},
        {"day\n2025-1-01\n", "expected a date YYYY-MM-DD, found '2025-1-01'"},
        {"day\n25-01-01\n", "expected a date YYYY-MM-DD"},
        {"day\n9999999-01-01\n", "expected a date within int32 days of 1970-01-01"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        read_fails_n(cases[k].text, strlen(cases[k].text), defs, 5, NULL, cases[k].want);
}

Test(csv_read, syntax_errors_name_file_line_and_column)
{
    read_fails("ts,sym,px,q\n1,a,2,3\n4,b,5\n",
               "t.csv: line 3: expected 4 fields (as in the header), found 3");
    read_fails("ts,sym,px,q\n1,a,2,3,4\n",
               "t.csv: line 2: expected 4 fields (as in the header), found more");
    read_fails("ts,sym,px,q\n1,\"ab\n\ncd,2,3\n",
               "t.csv: line 2: column 'sym' (string): expected a closing quote before the end "
               "of the input (quote opened on line 2), found 'ab\\n\\ncd,2,3\\n'");
    read_fails("ts,sym,px,q\n,a,1,2\n",
               "t.csv: line 2: column 'ts' (timestamp): expected a value (the column is not "
               "nullable), found ''");
    read_fails("ts,sym,px,q\n1,a\"b,1,2\n",
               "t.csv: line 2: column 'sym' (string): expected no quote inside an unquoted "
               "field");
    read_fails("ts,sym,px,q\n1,\"ab\"c,1,2\n",
               "line 2: column 'sym' (string): expected a comma or the end of the line after "
               "the closing quote, found 'c'");
    read_fails("ts,sym,px,q\n1,a\rb,1,2\n", "line 2: column 'sym' (string): expected LF after CR");
    read_fails("ts,sym,px,q\n1,a,1,2\r", "line 2: column 'q' (int32): expected LF after CR");
    /* lines count the newlines inside quoted fields */
    read_fails("ts,sym,px,q\n1,\"a\nb\nc\",1,2\n2,x,1,zz\n",
               "t.csv: line 5: column 'q' (int32): expected an integer, found 'zz'");
    read_fails("ts,sym,px,q\n1,\"a\nb\",1x,2\n", "t.csv: line 3: column 'px' (float64)");
}

Test(csv_read, nul_bytes_are_errors)
{
    static const char a[] = "ts,sym,px,q\n1,a\0b,1,2\n";
    read_fails_n(a, sizeof a - 1, small_defs, 4, small_nullable,
                 "t.csv: line 2: column 'sym' (string): expected text without NUL bytes, found "
                 "'a\\x00'");
    static const char b[] = "ts,sym,px,q\n1,\"a\0b\",1,2\n";
    read_fails_n(b, sizeof b - 1, small_defs, 4, small_nullable,
                 "line 2: column 'sym' (string): expected text without NUL bytes, found "
                 "'a\\x00'");
    static const char c[] = "ts,sym,px,q\n1,a,1,\0";
    read_fails_n(c, sizeof c - 1, small_defs, 4, small_nullable, "column 'q' (int32)");
    static const char h[] = "ts,s\0ym\n";
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_csv_open_mem(h, sizeof h - 1, "t.csv", small_defs, 4, NULL, &r, &err),
                 TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "t.csv: line 1: header: expected text without NUL "
                                          "bytes, found 's\\x00'"),
                       "%s", err.msg);
}

Test(csv_read, long_offending_text_is_cut)
{
    char text[512] = "ts,sym,px,q\n1,a,";
    for (int i = 0; i < 100; i++)
        strcat(text, "9");
    strcat(text, "x,2\n");
    read_fails(text, "found '9999999999999999999999999999999999999999...'");
}

Test(csv_read, stdin_name_in_messages)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    const char *text = "ts,bogus\n";
    cr_assert_eq(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
    cr_assert_eq(close(fds[1]), 0);
    int saved = dup(STDIN_FILENO);
    cr_assert_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    int rc = tl_csv_open("-", small_defs, 4, NULL, &r, &err);
    cr_assert_eq(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    cr_assert_eq(rc, TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "stdin: line 1: unknown column 'bogus'"), "%s", err.msg);
}

/* Timestamp forms the parser must refuse (sign before a date, separators,
 * non-digits, empty fraction, offsets cut short or out of range, trailing
 * bytes), each naming what was expected. */
Test(csv_read, timestamp_syntax_errors)
{
    static const tl_coldef defs[] = {{"t", TL_TIMESTAMP}};
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"t\n+2025-11-17T00:00:00\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n-2025-11-17T00:00:00\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17X03:45:00\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T0a:45:00\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03-45-00\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00.\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00+\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00+0x\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00+05:3\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00Q\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00Zx\n", "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS"},
        {"t\n2025-11-17T03:45:00+24:00\n", "expected a valid date and time"},
        {"t\n2025-11-17T03:45:00+05:60\n", "expected a valid date and time"},
        {"t\n2025-11-17T03:60:00\n", "expected a valid date and time"},
        {"t\n2025-11-17T03:45:60\n", "expected a valid date and time"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        read_fails_n(cases[k].text, strlen(cases[k].text), defs, 1, NULL, cases[k].want);
}

/* Zeros keep their sign in both float widths, whatever the spelling. */
Test(csv_read, signed_zeros_keep_their_sign)
{
    static const tl_coldef defs[] = {{"d", TL_FLOAT64}, {"f", TL_FLOAT32}};
    static const char *const text = "d,f\n-0,-0\n-0.0,-0.000\n0e7,0E-3\n-0e-3,-0.0e+5\n+0,+0.0\n";
    static const int neg[] = {1, 1, 0, 1, 0};
    tl_csv_reader *r = open_text(text, defs, 2, NULL, 0);
    tl_batch b;
    one_batch(r, &b, 5);
    for (uint32_t i = 0; i < 5; i++) {
        double d = ((const double *)b.cols[0].values)[i];
        float f = ((const float *)b.cols[1].values)[i];
        cr_assert(d == 0.0 && f == 0.0f, "row %u: %g %g", i, d, (double)f);
        cr_assert_eq(signbit(d) != 0, neg[i], "row %u: double sign", i);
        cr_assert_eq(signbit(f) != 0, neg[i], "row %u: float sign", i);
    }
    close_at_end(r);
}

/* ---- allocation-failure sweep (tests/format/oom_sweep.h; DECODERS.md) ---------- */

#include "../format/oom_sweep.h"

static const tl_coldef sw_defs[] = {
    {"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64}, {"q", TL_INT32},
    {"d", TL_DATE},       {"f", TL_FLOAT32},  {"b", TL_BOOL},     {"u", TL_UINT64},
    {"tu", TL_TIMESTAMP_US},
};
enum { SW_N = sizeof sw_defs / sizeof *sw_defs };

typedef struct sw_in {
    const char *text;
    size_t len;
    const char *path; /* NULL: from memory */
    uint32_t chunk, batch;
} sw_in;

static int sw_op(void *ctx, uint64_t *digest, tl_error *err)
{
    const sw_in *in = ctx;
    tl_csv_opts o = {.batch_rows = in->batch, .chunk_bytes = in->chunk};
    tl_csv_reader *r = NULL;
    int rc = in->path ? tl_csv_open(in->path, sw_defs, SW_N, &o, &r, err)
                      : tl_csv_open_mem(in->text, in->len, "sweep.csv", sw_defs, SW_N, &o, &r,
                                        err);
    if (rc)
        return rc;
    uint64_t h = *digest;
    for (;;) {
        tl_batch b;
        rc = tl_csv_next(r, &b, err);
        if (rc || b.n_rows == 0)
            break;
        h = fnv(h, &b.n_rows, sizeof b.n_rows);
        for (uint32_t c = 0; c < b.n_cols; c++) {
            const tl_colvec *v = &b.cols[c];
            size_t w = tl_type_width(b.defs[c].type);
            if (w)
                h = fnv(h, v->values, (size_t)b.n_rows * w);
            else
                h = fnv(h, v->data, v->offsets[b.n_rows]);
            for (uint32_t i = 0; i < b.n_rows; i++) {
                uint8_t bit = (uint8_t)tl_bit_get(v->validity, i);
                h = fnv(h, &bit, 1);
            }
        }
    }
    tl_csv_close(r);
    *digest = h;
    return rc;
}

Test(csv_read, allocation_failure_sweep)
{
    size_t cap = 1 << 16, len = 0;
    char *t = malloc(cap);
    cr_assert_not_null(t);
    len += (size_t)snprintf(t, cap, "\xEF\xBB\xBFts,sym,px,q,d,f,b,u,tu\r\n");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "%lld,%s,%s,%d,2025-11-%02d,%g,%s,%llu,2025-11-18T09:15:%02d.%06dZ\n",
                                1763351100000000000ll + i * 1000003ll,
                                i % 5 == 0 ? "\"a,\"\"quoted\"\"\nsym\"" : i % 5 == 1 ? "" : "NIFTY",
                                i % 7 == 3 ? "" : i % 7 == 4 ? "nan" : "48123.45",
                                i - 150, 1 + i % 28, i * 0.5, i % 2 ? "true" : "0",
                                18446744073709551615ull - (unsigned long long)i, i % 60,
                                i * 37 % 1000000);
    char *path = strdup(tmp_path("sweep.csv"));
    write_file(path, t, len);
    sweep_stats st = {0};
    sw_in mem = {t, len, NULL, 0, 0};
    sweep("csv from memory", sw_op, &mem, "sweep.csv", &st);
    sw_in small = {t, len, NULL, 97, 64};
    sweep("csv from memory, 97-byte reads, 64-row batches", sw_op, &small, "sweep.csv", &st);
    sw_in file = {t, len, path, 257, 100};
    sweep("csv from a file, 257-byte reads", sw_op, &file, "sweep.csv", &st);
    report("csv_read (300 rows x 9 types, 3 read/batch sizes)", &st);
    free(path);
    free(t);
}

/* Every integer width at its limits (accepted, exact) and one past them
 * (refused naming line and column); a long bad field is shown cut. */
Test(csv_read, integer_widths_at_and_past_their_limits)
{
    static const tl_coldef defs[] = {
        {"i8", TL_INT8},   {"i16", TL_INT16},   {"i32", TL_INT32},   {"i64", TL_INT64},
        {"u8", TL_UINT8},  {"u16", TL_UINT16},  {"u32", TL_UINT32},  {"u64", TL_UINT64},
    };
    static const struct {
        int col;
        const char *ok_lo, *ok_hi, *bad;
    } t[] = {
        {0, "-128", "127", "128"},
        {0, "-128", "127", "-129"},
        {1, "-32768", "32767", "32768"},
        {1, "-32768", "32767", "-32769"},
        {2, "-2147483648", "2147483647", "2147483648"},
        {2, "-2147483648", "2147483647", "-2147483649"},
        {3, "-9223372036854775808", "9223372036854775807", "9223372036854775808"},
        {3, "-9223372036854775808", "9223372036854775807", "-9223372036854775809"},
        {4, "0", "255", "256"},
        {4, "0", "255", "-1"},
        {5, "0", "65535", "65536"},
        {6, "0", "4294967295", "4294967296"},
        {7, "0", "18446744073709551615", "18446744073709551616"},
        {7, "-0", "18446744073709551615", "-5"},
        {3, "+5", "0005", "123456789012345678901234567890"},
    };
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        char text[512];
        int n = snprintf(text, sizeof text, "i8,i16,i32,i64,u8,u16,u32,u64\n");
        const char *vals[3] = {t[k].ok_lo, t[k].ok_hi, t[k].bad};
        for (int row = 0; row < 3; row++)
            for (int c = 0; c < 8; c++)
                n += snprintf(text + n, sizeof text - (size_t)n, "%s%s", c == t[k].col ? vals[row] : "0",
                              c == 7 ? "\n" : ",");
        tl_csv_opts o = {.batch_rows = 2};
        tl_csv_reader *r = NULL;
        tl_error err = {0};
        cr_assert_eq(tl_csv_open_mem(text, strlen(text), "w.csv", defs, 8, &o, &r, &err), TL_OK,
                     "%s", err.msg);
        tl_batch b;
        cr_assert_eq(tl_csv_next(r, &b, &err), TL_OK, "case %zu: %s", k, err.msg);
        cr_assert_eq(b.n_rows, 2);
        for (int row = 0; row < 2; row++) {
            /* the value read back, printed as the column's type */
            char got[32];
            const void *p = (const uint8_t *)b.cols[t[k].col].values +
                            (size_t)row * tl_type_width(defs[t[k].col].type);
            switch (defs[t[k].col].type) {
            case TL_INT8: snprintf(got, sizeof got, "%d", *(const int8_t *)p); break;
            case TL_INT16: snprintf(got, sizeof got, "%d", *(const int16_t *)p); break;
            case TL_INT32: snprintf(got, sizeof got, "%d", *(const int32_t *)p); break;
            case TL_INT64: snprintf(got, sizeof got, "%" PRId64, *(const int64_t *)p); break;
            case TL_UINT8: snprintf(got, sizeof got, "%u", *(const uint8_t *)p); break;
            case TL_UINT16: snprintf(got, sizeof got, "%u", *(const uint16_t *)p); break;
            case TL_UINT32: snprintf(got, sizeof got, "%u", *(const uint32_t *)p); break;
            default: snprintf(got, sizeof got, "%" PRIu64, *(const uint64_t *)p); break;
            }
            const char *want = vals[row];
            if (!strcmp(want, "-0"))
                want = "0";
            else if (!strcmp(want, "+5"))
                want = "5";
            else if (!strcmp(want, "0005"))
                want = "5";
            cr_assert_str_eq(got, want, "case %zu row %d", k, row);
        }
        int rc = tl_csv_next(r, &b, &err);
        cr_assert_eq(rc, TL_EINVAL, "case %zu: %s accepted", k, t[k].bad);
        char col[40];
        snprintf(col, sizeof col, "line 4: column '%s'", defs[t[k].col].name);
        cr_assert(strstr(err.msg, "w.csv: ") && strstr(err.msg, col), "case %zu: %s", k, err.msg);
        tl_csv_close(r);
    }
}

Test(csv_read, open_argument_errors)
{
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_csv_open_mem("a\n1\n", 4, "m", small_defs, 4, NULL, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "out is NULL"), "%s", err.msg);
    cr_assert_eq(tl_csv_open_mem("a\n1\n", 4, "m", NULL, 4, NULL, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "no columns"), "%s", err.msg);
    cr_assert_eq(tl_csv_open_mem(NULL, 4, "m", small_defs, 4, NULL, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "data is NULL"), "%s", err.msg);
    cr_assert_eq(tl_csv_open(NULL, small_defs, 4, NULL, &r, &err), TL_EINVAL);
    cr_assert_eq(tl_csv_open("x.csv", small_defs, 0, NULL, &r, &err), TL_EINVAL);
    cr_assert_eq(tl_csv_open(tmp_path("absent.csv"), small_defs, 4, NULL, &r, &err),
                 TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "absent.csv"), "%s", err.msg);
    static const tl_coldef bad_type[] = {{"a", (tl_type)99}};
    cr_assert_eq(tl_csv_open_mem("a\n1\n", 4, "m", bad_type, 1, NULL, &r, &err), TL_EINVAL);
    static const tl_coldef no_name[] = {{NULL, TL_INT32}};
    cr_assert_eq(tl_csv_open_mem("a\n1\n", 4, "m", no_name, 1, NULL, &r, &err), TL_EINVAL);
    tl_csv_opts o = {.batch_rows = 0xFFFFFFFFu};
    cr_assert_eq(tl_csv_open_mem("a\n1\n", 4, "m", small_defs, 4, &o, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "batch_rows"), "%s", err.msg);
    tl_batch b;
    cr_assert_eq(tl_csv_next(NULL, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "reader is NULL"), "%s", err.msg);
    tl_csv_close(NULL);
}
