/*
 * export_test.c - tl_export_parquet (export.c) and the Delta log of
 * --delta (delta_export.c), spec/PARQUET.md "Export and Delta" (PQ-E and
 * DX rules): exported files read back with tl_pq_open / tl_pq_read_chunk
 * and printed as CSV equal tl_scan_print of the same snapshot, options and
 * projection, value for value (every type, nulls, NaN, extremes); layout
 * (Hive directories, escaping, one row group per partition in a single
 * file, partitions without rows skipped); sorting columns and key-value
 * metadata; Spark-compatible microseconds; errors (dest exists, bad
 * options); a failed I/O call at every step leaves nothing at dest; the
 * Delta log passes tl_delta_check, and each DX rule rejects a log that
 * breaks it.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "civil_int.h"
#include "export_int.h"
#include "io_int.h"
#include "log_int.h"
#include "pq_meta.h"
#include "table_int.h"
#include "tl_parquet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], tpath[300], dest[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_exp.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
    snprintf(dest, sizeof dest, "%s/exported", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(export, .init = setup, .fini = teardown);
TestSuite(delta, .init = setup, .fini = teardown);

/* ---- fixtures ------------------------------------------------------------------ */

/* The ticks table: 2 symbols x days, two appends (several files per
 * partition, so the export reads merged units). */
static tl_table *make_ticks(uint64_t rows_per_day, uint32_t days, const tl_io *io)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    for (int rep = 0; rep < 2; rep++) {
        tl_gen_opts o;
        tl_gen_opts_default(&o);
        o.seed = 11 + (uint64_t)rep;
        o.days = days;
        o.rows_per_day = rows_per_day;
        tl_append_opts ao = {.segment_rows = 3000, .threads = 2};
        tl_append *a = NULL;
        cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
        tl_gen *g = NULL;
        cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
        for (;;) {
            tl_batch b;
            int done = 0;
            cr_assert_eq(tl_gen_next(g, 4000, &b, &done, &err), TL_OK, "%s", err.msg);
            if (done)
                break;
            cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
        }
        tl_gen_close(g);
        cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    }
    if (io) {
        tl_table_close(t);
        cr_assert_eq(tl_table_open_io(tpath, io, NULL, NULL, &t, &err), TL_OK, "%s", err.msg);
    }
    return t;
}

/* A table of every type: partitioned by sym and day(ts), sorted by (k, ts);
 * nulls, NaN, infinities, -0, extremes, odd symbols. */
#define NT 15
static const tl_field all_fields[NT] = {
    {"ts", TL_TIMESTAMP, 0}, {"sym", TL_STRING, 0}, {"k", TL_INT32, 0},
    {"b", TL_BOOL, 1},       {"i8", TL_INT8, 1},    {"i16", TL_INT16, 1},
    {"i64", TL_INT64, 1},    {"u8", TL_UINT8, 1},   {"u16", TL_UINT16, 1},
    {"u32", TL_UINT32, 1},   {"u64", TL_UINT64, 1}, {"f32", TL_FLOAT32, 1},
    {"f64", TL_FLOAT64, 1},  {"d", TL_DATE, 1},     {"s", TL_STRING, 1},
};

static tl_table *make_all_types(const char *const *syms, int n_syms, int rows_per_sym)
{
    const char *sk[2] = {"k", "ts"};
    tl_table_spec spec = {.fields = all_fields, .n_fields = NT, .symbol_column = "sym",
                          .day_column = "ts", .sort_key = sk, .n_sort_key = 2};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    size_t n = (size_t)n_syms * (size_t)rows_per_sym;
    int64_t *ts = calloc(n, 8), *i64 = calloc(n, 8);
    int32_t *k = calloc(n, 4), *d = calloc(n, 4);
    uint8_t *b = calloc(n, 1), *u8 = calloc(n, 1);
    int8_t *i8 = calloc(n, 1);
    int16_t *i16 = calloc(n, 2);
    uint16_t *u16 = calloc(n, 2);
    uint32_t *u32 = calloc(n, 4), *soff = calloc(n + 1, 4), *ssoff = calloc(n + 1, 4);
    uint64_t *u64 = calloc(n, 8);
    float *f32 = calloc(n, 4);
    double *f64 = calloc(n, 8);
    uint8_t *valid = calloc(n / 8 + 1, 1);
    char *sdata = calloc(n * 40 + 1, 1), *ssdata = calloc(n * 40 + 1, 1);
    uint32_t sl = 0, ssl = 0;
    for (size_t r = 0; r < n; r++) {
        int s = (int)(r / (size_t)rows_per_sym), j = (int)(r % (size_t)rows_per_sym);
        int64_t day = 20000 + (j % 3); /* three days per symbol */
        ts[r] = day * 86400000000000LL + (int64_t)j * 1000003LL + 123; /* sub-µs digits */
        k[r] = (j * 7919) % 50 - 25;
        tl_bit_set(valid, r, j % 9 != 4);
        b[r] = (uint8_t)(j & 1);
        static const int64_t e64[] = {INT64_MIN, INT64_MAX, 0, -1};
        static const uint64_t eu64[] = {0, UINT64_MAX, (uint64_t)INT64_MAX + 1, 42};
        i8[r] = (int8_t)(j % 4 == 0 ? -128 : j % 4 == 1 ? 127 : j);
        i16[r] = (int16_t)(j % 4 == 0 ? -32768 : j % 4 == 1 ? 32767 : -j);
        i64[r] = j < 4 ? e64[j] : (int64_t)j * -1000000007LL;
        u8[r] = (uint8_t)(j % 3 == 0 ? 255 : j);
        u16[r] = (uint16_t)(j % 3 == 0 ? 65535 : j * 3);
        u32[r] = j % 3 == 0 ? UINT32_MAX : (uint32_t)j * 100000u;
        u64[r] = j < 4 ? eu64[j] : (uint64_t)j * 1000000000000ULL;
        static const float ef[] = {NAN, INFINITY, -0.0f, 1.17549435e-38f, 3.4028235e38f, 0.1f};
        static const double ed[] = {NAN, -INFINITY, -0.0, 5e-324, 1.7976931348623157e308, 0.05};
        f32[r] = j < 6 ? ef[j] : (float)j / 3.0f;
        f64[r] = j < 6 ? ed[j] : (double)j / 7.0;
        d[r] = j % 5 == 0 ? -719162 + j : 19000 + j; /* year 0001 .. */
        const char *sv = syms[s];
        size_t svl = strlen(sv);
        memcpy(sdata + sl, sv, svl);
        sl += (uint32_t)svl;
        soff[r + 1] = sl;
        char tmp[40];
        int tl = j % 4 == 0 ? 0 : j % 4 == 1 ? snprintf(tmp, sizeof tmp, "é,\"q\"\n%d", j)
                                             : snprintf(tmp, sizeof tmp, "v%05d", j % 11);
        memcpy(ssdata + ssl, tmp, (size_t)tl);
        ssl += (uint32_t)tl;
        ssoff[r + 1] = ssl;
    }
    tl_coldef defs[NT];
    for (int i = 0; i < NT; i++)
        defs[i] = (tl_coldef){all_fields[i].name, all_fields[i].type};
    tl_colvec cols[NT] = {
        {ts, NULL, NULL, NULL},  {NULL, NULL, soff, (uint8_t *)sdata}, {k, NULL, NULL, NULL},
        {b, valid, NULL, NULL},  {i8, valid, NULL, NULL},   {i16, valid, NULL, NULL},
        {i64, valid, NULL, NULL}, {u8, valid, NULL, NULL},  {u16, valid, NULL, NULL},
        {u32, valid, NULL, NULL}, {u64, valid, NULL, NULL}, {f32, valid, NULL, NULL},
        {f64, valid, NULL, NULL}, {d, valid, NULL, NULL},
        {NULL, valid, ssoff, (uint8_t *)ssdata},
    };
    tl_batch bt = {(uint32_t)n, NT, defs, cols};
    tl_append *a = NULL;
    tl_append_opts ao = {.segment_rows = 50, .threads = 2};
    cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    free(ts), free(i64), free(k), free(d), free(b), free(u8), free(i8), free(i16), free(u16);
    free(u32), free(soff), free(ssoff), free(u64), free(f32), free(f64), free(valid);
    free(sdata), free(ssdata);
    return t;
}

/* ---- reading back --------------------------------------------------------------- */

typedef struct membuf {
    char *p;
    size_t n;
    FILE *f;
} membuf;

static void mb_open(membuf *m)
{
    m->p = NULL;
    m->n = 0;
    m->f = open_memstream(&m->p, &m->n);
    cr_assert_not_null(m->f);
}

static void mb_close(membuf *m)
{
    fclose(m->f);
    m->f = NULL;
}

/* Append the rows of a Parquet file as CSV (no header) to m; returns rows.
 * Timestamps in µs are scaled to ns (exact: the exporter floored them). */
static uint64_t pq_csv(const char *path, membuf *m, uint32_t *n_cols, uint32_t *n_rg)
{
    tl_pq_file *f = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open(path, &f, &err), TL_OK, "%s", err.msg);
    uint32_t nc = tl_pq_n_cols(f);
    if (n_cols)
        *n_cols = nc;
    if (n_rg)
        *n_rg = tl_pq_n_row_groups(f);
    tl_pq_colbuf *cb = calloc(nc, sizeof *cb);
    tl_coldef *defs = calloc(nc, sizeof *defs);
    tl_colvec *vecs = calloc(nc, sizeof *vecs);
    uint64_t rows = 0;
    for (uint32_t rg = 0; rg < tl_pq_n_row_groups(f); rg++) {
        uint64_t n = tl_pq_row_group_rows(f, rg);
        for (uint32_t c = 0; c < nc; c++) {
            cr_assert_eq(tl_pq_read_chunk(f, rg, c, &cb[c], &err), TL_OK, "%s", err.msg);
            cr_assert_eq(cb[c].n, n);
            defs[c] = (tl_coldef){tl_pq_col(f, c)->name, tl_pq_col(f, c)->type};
            vecs[c] = cb[c].vec;
            if (defs[c].type == TL_TIMESTAMP && cb[c].ts_unit != TL_PQ_NANOS) {
                int64_t mul = cb[c].ts_unit == TL_PQ_MICROS ? 1000 : 1000000;
                int64_t *v = (int64_t *)(uintptr_t)cb[c].vec.values;
                for (uint64_t i = 0; i < n; i++)
                    v[i] *= mul;
            }
        }
        tl_batch b = {(uint32_t)n, nc, defs, vecs};
        cr_assert_eq(tl_batch_write_csv(&b, m->f, 0, &err), TL_OK, "%s", err.msg);
        rows += n;
    }
    for (uint32_t c = 0; c < nc; c++)
        tl_pq_colbuf_free(&cb[c]);
    free(cb);
    free(defs);
    free(vecs);
    tl_pq_close(f);
    return rows;
}

/* tl_scan_print CSV without its header line (ordered, one thread). */
static char *scan_csv(const tl_snapshot *s, const tl_scan_opts *base)
{
    tl_scan_opts o = *base;
    o.ordered = 1;
    o.threads = 1;
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s/scan.csv", dir);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    tl_error err = {0};
    cr_assert_eq(tl_scan_print(s, &o, TL_SCAN_CSV, 0, fd, NULL, &err), TL_OK, "%s", err.msg);
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = calloc((size_t)len + 1, 1);
    cr_assert_eq(pread(fd, buf, (size_t)len, 0), len);
    close(fd);
    unlink(tmp);
    char *nl = strchr(buf, '\n');
    cr_assert_not_null(nl);
    memmove(buf, nl + 1, strlen(nl + 1) + 1);
    return buf;
}

static void assert_same_text(const char *got, const char *want)
{
    size_t i = 0, line = 1;
    while (got[i] && got[i] == want[i]) {
        if (got[i] == '\n')
            line++;
        i++;
    }
    if (got[i] != want[i]) {
        const char *g = got + i, *w = want + i;
        while (g > got && g[-1] != '\n')
            g--;
        while (w > want && w[-1] != '\n')
            w--;
        cr_assert_fail("CSV differs at line %zu:\n got:  %.200s\n want: %.200s", line, g, w);
    }
}

static tl_snapshot *snap(tl_table *t, int64_t version)
{
    tl_snapshot *s = NULL;
    tl_error err = {0};
    tl_at at = {version < 0 ? TL_AT_LATEST : TL_AT_VERSION, version, 0};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    return s;
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* No "<name>.tmp-*" left in dir. */
static int staging_left(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "exported.tmp-", 13) == 0)
            n++;
    closedir(d);
    return n;
}

/* Partition i's file path under dest. */
static void part_path(const tl_snapshot *s, size_t i, char *out, size_t cap)
{
    tl_partition_info pi;
    tl_snapshot_partition(s, i, &pi);
    char esc[300], day[40];
    cr_assert_neq(tl_export_hive_escape(pi.symbol, strlen(pi.symbol), esc, sizeof esc), SIZE_MAX);
    int64_t y;
    int m, d;
    tl_civil_from_days(pi.day, &y, &m, &d);
    snprintf(day, sizeof day, "%04d-%02d-%02d", (int)y, m, d);
    snprintf(out, cap, "%s/symbol=%s/date=%s/part-00000.parquet", dest, esc, day);
}

/* ---- tests ---------------------------------------------------------------------- */

Test(export, hive_escape_and_uri_path)
{
    char out[64];
    cr_assert_eq(tl_export_hive_escape("NIFTY", 5, out, sizeof out), 5);
    cr_assert_str_eq(out, "NIFTY");
    cr_assert_neq(tl_export_hive_escape("a/b=c%d:e", 9, out, sizeof out), SIZE_MAX);
    cr_assert_str_eq(out, "a%2Fb%3Dc%25d%3Ae");
    cr_assert_neq(tl_export_hive_escape("x y.é#", 7, out, sizeof out), SIZE_MAX);
    cr_assert_str_eq(out, "x y.é%23");
    cr_assert_neq(tl_export_hive_escape("\x01^[]{}", 6, out, sizeof out), SIZE_MAX);
    cr_assert_str_eq(out, "%01%5E%5B%5D%7B}"); /* Hive leaves } */
    cr_assert_eq(tl_export_hive_escape("", 0, out, sizeof out), 26);
    cr_assert_str_eq(out, TL_EXPORT_HIVE_NULL);
    cr_assert_eq(tl_export_hive_escape("abcdef", 6, out, 6), SIZE_MAX); /* no room */
    cr_assert_eq(tl_export_hive_escape("a\0b", 3, out, sizeof out), SIZE_MAX);
    char *u = tl_export_uri_path("symbol=a%2Fb c/date=2025-01-02/part-00000.parquet");
    cr_assert_str_eq(u, "symbol=a%252Fb%20c/date=2025-01-02/part-00000.parquet");
    free(u);
}

/* PQ-E1, PQ-E4: one file, every column, partitions in order, one row group
 * per partition; equal to the ordered scan value for value. */
Test(export, single_file_equals_ordered_scan)
{
    tl_table *t = make_ticks(1500, 2, NULL);
    tl_snapshot *s = snap(t, -1);
    tl_export_opts o = {.layout = TL_EXPORT_SINGLE, .threads = 2};
    tl_export_result r;
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.files, 1);
    cr_assert_eq(r.rows, 2 * 2 * 2 * 1500);
    cr_assert_str_eq(r.dest, dest);
    struct stat st;
    cr_assert_eq(stat(dest, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq((uint64_t)st.st_size, r.bytes);
    membuf m;
    mb_open(&m);
    uint32_t nc = 0, nrg = 0;
    cr_assert_eq(pq_csv(dest, &m, &nc, &nrg), r.rows);
    mb_close(&m);
    cr_assert_eq(nc, 35);
    cr_assert_eq(nrg, tl_snapshot_n_partitions(s));
    tl_scan_opts so = {0};
    char *want = scan_csv(s, &so);
    assert_same_text(m.p, want);
    /* metadata naming the source (PQ-E6) */
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open(dest, &f, &err), TL_OK, "%s", err.msg);
    cr_assert(strncmp(tl_pq_created_by(f), "ticklake version ", 17) == 0, "%s",
              tl_pq_created_by(f));
    int seen = 0;
    for (uint32_t i = 0; i < tl_pq_n_kv(f); i++) {
        const tl_pq_kv *kv = tl_pq_kv_at(f, i);
        if (!strcmp(kv->key, "ticklake.table")) {
            seen |= 1;
            cr_assert_str_eq(kv->value, tpath);
        }
        if (!strcmp(kv->key, "ticklake.version")) {
            seen |= 2;
            cr_assert_str_eq(kv->value, "2");
        }
        if (!strcmp(kv->key, "ticklake.table_id")) {
            seen |= 4;
            cr_assert_eq(strlen(kv->value), 36);
        }
    }
    cr_assert_eq(seen, 7);
    for (uint32_t rg = 0; rg < nrg; rg++)
        cr_assert_eq(tl_pq_row_group_rows(f, rg), 3000);
    tl_pq_close(f);
    free(want);
    free(m.p);
    tl_export_result_free(&r);
    tl_export_result_free(&r); /* idempotent */
    tl_export_result_free(NULL);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* PQ-E2, PQ-E3: Hive directories, the symbol column left out of the files,
 * each file equal to its partition's ordered scan. */
Test(export, partitioned_files_equal_their_partitions)
{
    tl_table *t = make_ticks(1200, 3, NULL);
    tl_snapshot *s = snap(t, -1);
    tl_export_opts o = {.threads = 2, .row_group_rows = 1000};
    tl_export_result r;
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, &r, &err), TL_OK, "%s", err.msg);
    size_t np = tl_snapshot_n_partitions(s);
    cr_assert_eq(r.files, np);
    cr_assert_eq(r.rows, 2 * 3 * 2 * 1200);
    uint64_t bytes = 0;
    for (size_t i = 0; i < np; i++) {
        char p[700];
        part_path(s, i, p, sizeof p);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0, "%s missing", p);
        bytes += (uint64_t)st.st_size;
        membuf m;
        mb_open(&m);
        uint32_t nc = 0, nrg = 0;
        pq_csv(p, &m, &nc, &nrg);
        mb_close(&m);
        cr_assert_eq(nc, 34, "the symbol column is in the path, not the file");
        cr_assert_eq(nrg, 3); /* 2400 rows by 1000 */
        tl_partition_info pi;
        tl_snapshot_partition(s, i, &pi);
        const char *syms[1] = {pi.symbol};
        uint32_t n_all;
        const tl_coldef *all = tl_ticks_schema(&n_all);
        const char *cols[40];
        uint32_t nn = 0;
        for (uint32_t c = 0; c < n_all; c++)
            if (strcmp(all[c].name, "symbol"))
                cols[nn++] = all[c].name;
        tl_scan_opts so = {.symbols = syms, .n_symbols = 1, .has_days = 1, .day_from = pi.day,
                           .day_to = pi.day, .columns = cols, .n_columns = nn};
        char *want = scan_csv(s, &so);
        assert_same_text(m.p, want);
        free(want);
        free(m.p);
    }
    cr_assert_eq(bytes, r.bytes);
    cr_assert_eq(staging_left(), 0);
    tl_export_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* The footer's FileMetaData, decoded with pq_meta. */
static void footer(const char *path, tlf_pqm_file *fm)
{
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    uint8_t *b = malloc(len);
    fseek(f, 0, SEEK_SET);
    cr_assert_eq(fread(b, 1, len, f), len);
    fclose(f);
    cr_assert(len >= 12 && memcmp(b + len - 4, "PAR1", 4) == 0);
    uint32_t fl = (uint32_t)b[len - 8] | (uint32_t)b[len - 7] << 8 | (uint32_t)b[len - 6] << 16 |
                  (uint32_t)b[len - 5] << 24;
    tl_error err = {0};
    cr_assert_eq(tlf_pqm_decode_file(b + len - 8 - fl, fl, len - 8 - fl, fm, &err), TL_OK, "%s",
                 err.msg);
    free(b);
}

/* PQ-E5: every row group's sorting_columns = the sort key's prefix present
 * in the file, ascending, nulls first. */
Test(export, sorting_columns_are_the_sort_key_prefix)
{
    tl_table *t = make_ticks(300, 1, NULL);
    tl_snapshot *s = snap(t, -1);
    const char *cols[] = {"timestamp", "expiry", "opt_type", "price"};
    tl_export_opts o = {.layout = TL_EXPORT_SINGLE, .columns = cols, .n_columns = 4};
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_OK, "%s", err.msg);
    tlf_pqm_file fm;
    footer(dest, &fm);
    cr_assert_eq(fm.n_row_groups, 2);
    for (uint32_t rg = 0; rg < fm.n_row_groups; rg++) {
        const tlf_pqm_row_group *g = &fm.row_groups[rg];
        cr_assert(g->has_sorting_columns);
        cr_assert_eq(g->n_sorting_columns, 2); /* expiry, opt_type; strike not exported */
        cr_assert_eq(g->sorting_columns[0].column_idx, 1);
        cr_assert_eq(g->sorting_columns[1].column_idx, 2);
        cr_assert(!g->sorting_columns[0].descending && g->sorting_columns[0].nulls_first);
    }
    tlf_pqm_file_free(&fm);
    /* partitioned, all columns: expiry opt_type strike timestamp without symbol */
    char d2[400];
    snprintf(d2, sizeof d2, "%s/p", dir);
    o = (tl_export_opts){0};
    cr_assert_eq(tl_export_parquet(s, d2, &o, NULL, &err), TL_OK, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/symbol=NIFTY/date=2025-11-17/part-00000.parquet", d2);
    footer(p, &fm);
    const tlf_pqm_row_group *g = &fm.row_groups[0];
    cr_assert_eq(g->n_sorting_columns, 4);
    static const int want[4] = {1, 2, 3, 0}; /* timestamp 0, expiry 1, ... (symbol gone) */
    for (int i = 0; i < 4; i++)
        cr_assert_eq(g->sorting_columns[i].column_idx, want[i]);
    tlf_pqm_file_free(&fm);
    membuf m;
    mb_open(&m);
    pq_csv(dest, &m, NULL, NULL);
    mb_close(&m);
    tl_scan_opts so = {.columns = cols, .n_columns = 4};
    char *wantcsv = scan_csv(s, &so);
    assert_same_text(m.p, wantcsv);
    free(wantcsv);
    free(m.p);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* where, columns, symbols, days and version are honoured. */
Test(export, where_columns_and_version)
{
    tl_table *t = make_ticks(1000, 2, NULL);
    tl_snapshot *s1 = snap(t, 1); /* the first append only */
    const char *cols[] = {"timestamp", "symbol", "strike", "price", "bq0"};
    const char *syms[] = {"NIFTY"};
    tl_export_opts o = {.layout = TL_EXPORT_SINGLE, .columns = cols, .n_columns = 5,
                        .where = "price > 100 AND opt_type = 'CE'", .symbols = syms,
                        .n_symbols = 1};
    tl_export_result r;
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s1, dest, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.version, 1);
    cr_assert_gt(r.rows, 0);
    cr_assert_lt(r.rows, 2000);
    membuf m;
    mb_open(&m);
    uint32_t nc = 0;
    cr_assert_eq(pq_csv(dest, &m, &nc, NULL), r.rows);
    mb_close(&m);
    cr_assert_eq(nc, 5);
    tl_scan_opts so = {.columns = cols, .n_columns = 5, .where = o.where, .symbols = syms,
                       .n_symbols = 1};
    char *want = scan_csv(s1, &so);
    assert_same_text(m.p, want);
    free(want);
    free(m.p);
    tl_export_result_free(&r);
    tl_snapshot_close(s1);
    tl_table_close(t);
}

/* PQ-E3: a partition the predicate empties gets no file; nothing selected
 * at all gives an empty directory (partitioned) or a file of 0 rows. */
Test(export, empty_partitions_write_no_file)
{
    tl_table *t = make_ticks(500, 2, NULL);
    tl_snapshot *s = snap(t, -1);
    tl_export_opts o = {.where = "symbol = 'NIFTY'"};
    tl_export_result r;
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.files, 2);
    char p[700];
    snprintf(p, sizeof p, "%s/symbol=BANKNIFTY", dest);
    cr_assert(!exists(p));
    tl_export_result_free(&r);
    cr_assert_eq(system("true"), 0);
    char d2[400];
    snprintf(d2, sizeof d2, "%s/none", dir);
    o.where = "price < 0";
    cr_assert_eq(tl_export_parquet(s, d2, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.files, 0);
    cr_assert_eq(r.rows, 0);
    tl_export_result_free(&r);
    snprintf(d2, sizeof d2, "%s/none.parquet", dir);
    o.layout = TL_EXPORT_SINGLE;
    cr_assert_eq(tl_export_parquet(s, d2, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.files, 1);
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open(d2, &f, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_n_rows(f), 0);
    cr_assert_eq(tl_pq_n_cols(f), 35);
    tl_pq_close(f);
    tl_export_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* Every type, nulls, NaN, infinities, -0, extremes, odd symbols: single and
 * partitioned exports read back equal to the scan. */
Test(export, every_type_round_trips)
{
    static const char *const syms[] = {"A/B=C%", "plain", "sp ace:x"};
    tl_table *t = make_all_types(syms, 3, 40);
    tl_snapshot *s = snap(t, -1);
    tl_error err = {0};
    tl_export_opts o = {.layout = TL_EXPORT_SINGLE};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_OK, "%s", err.msg);
    membuf m;
    mb_open(&m);
    pq_csv(dest, &m, NULL, NULL);
    mb_close(&m);
    tl_scan_opts so = {0};
    char *want = scan_csv(s, &so);
    assert_same_text(m.p, want);
    free(want);
    free(m.p);
    /* optional iff nullable */
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open(dest, &f, &err), TL_OK, "%s", err.msg);
    for (uint32_t i = 0; i < NT; i++)
        cr_assert_eq(tl_pq_col(f, i)->optional, all_fields[i].nullable, "%s",
                     all_fields[i].name);
    cr_assert_eq(tl_pq_col(f, 0)->ts_unit, TL_PQ_NANOS);
    tl_pq_close(f);
    /* partitioned: escaped directory names */
    char d2[400];
    snprintf(d2, sizeof d2, "%s/p", dir);
    o.layout = TL_EXPORT_PARTITIONED;
    cr_assert_eq(tl_export_parquet(s, d2, &o, NULL, &err), TL_OK, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/symbol=A%%2FB%%3DC%%25/date=2024-10-04/part-00000.parquet", d2);
    cr_assert(exists(p), "%s", p);
    snprintf(p, sizeof p, "%s/symbol=sp ace%%3Ax/date=2024-10-06/part-00000.parquet", d2);
    cr_assert(exists(p), "%s", p);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* --spark-compatible: TIMESTAMP(MICROS), values floored to whole µs. */
Test(export, spark_compatible_writes_micros)
{
    static const char *const syms[] = {"X"};
    tl_table *t = make_all_types(syms, 1, 30);
    tl_snapshot *s = snap(t, -1);
    const char *cols[] = {"ts", "k"};
    tl_export_opts o = {.layout = TL_EXPORT_SINGLE, .spark_compatible = 1, .columns = cols,
                        .n_columns = 2};
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_OK, "%s", err.msg);
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open(dest, &f, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->ts_unit, TL_PQ_MICROS);
    membuf m;
    mb_open(&m);
    pq_csv(dest, &m, NULL, NULL);
    mb_close(&m);
    /* every ts of the fixture ends in ...123 ns past a µs multiple + j*3 */
    tl_scan_opts so = {.columns = cols, .n_columns = 2};
    char *want = scan_csv(s, &so);
    /* floor the expected timestamps to µs */
    char *fl = calloc(strlen(want) + 1, 1), *o2 = fl;
    for (char *line = strtok(want, "\n"); line; line = strtok(NULL, "\n")) {
        long long ns;
        int k;
        cr_assert_eq(sscanf(line, "%lld,%d", &ns, &k), 2);
        long long us = ns / 1000 - (ns % 1000 < 0);
        o2 += sprintf(o2, "%lld,%d\n", us * 1000, k);
    }
    assert_same_text(m.p, fl);
    free(fl);
    free(want);
    free(m.p);
    tl_pq_close(f);
    tl_snapshot_close(s);
    tl_table_close(t);
}

Test(export, dest_exists_is_a_conflict)
{
    tl_table *t = make_ticks(100, 1, NULL);
    tl_snapshot *s = snap(t, -1);
    tl_error err = {0};
    tl_export_opts o = {0};
    cr_assert_eq(mkdir(dest, 0755), 0);
    tl_export_result r;
    cr_assert_eq(tl_export_parquet(s, dest, &o, &r, &err), TL_ECONFLICT);
    cr_assert_not_null(strstr(err.msg, dest), "%s", err.msg);
    cr_assert_null(r.dest);
    cr_assert_eq(rmdir(dest), 0);
    int fd = open(dest, O_CREAT | O_WRONLY, 0644);
    close(fd);
    o.layout = TL_EXPORT_SINGLE;
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_ECONFLICT);
    struct stat st;
    cr_assert_eq(stat(dest, &st), 0);
    cr_assert_eq(st.st_size, 0, "the existing file is untouched");
    cr_assert_eq(staging_left(), 0);
    tl_snapshot_close(s);
    tl_table_close(t);
}

Test(export, bad_options_are_einval)
{
    tl_table *t = make_ticks(100, 1, NULL);
    tl_snapshot *s = snap(t, -1);
    tl_error err = {0};
    tl_export_opts o = {.compression = "lzo"};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "lzo"), "%s", err.msg);
    o = (tl_export_opts){.compression = "brotli"};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    const char *cols[] = {"price", "nope"};
    o = (tl_export_opts){.columns = cols, .n_columns = 2};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "'nope'"), "%s", err.msg);
    const char *dup[] = {"price", "price"};
    o = (tl_export_opts){.columns = dup, .n_columns = 2};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    const char *only_sym[] = {"symbol"};
    o = (tl_export_opts){.columns = only_sym, .n_columns = 1};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    o = (tl_export_opts){.layout = TL_EXPORT_SINGLE, .delta = 1};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    o = (tl_export_opts){.layout = 7};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    o = (tl_export_opts){.where = "price >"};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_export_parquet(NULL, dest, &o, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_export_parquet(s, NULL, &o, NULL, &err), TL_EINVAL);
    cr_assert(!exists(dest));
    cr_assert_eq(staging_left(), 0);
    tl_snapshot_close(s);
    tl_table_close(t);
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    uint64_t *last = ctx;
    cr_assert_leq(done, total);
    last[0] = done;
    last[1] = total;
    last[2]++;
}

Test(export, progress_ends_at_rows_written)
{
    tl_table *t = make_ticks(400, 1, NULL);
    tl_snapshot *s = snap(t, -1);
    uint64_t last[3] = {0};
    tl_export_opts o = {.progress = progress_cb, .progress_ctx = last, .where = "price > 50"};
    tl_export_result r;
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_geq(last[2], 1);
    cr_assert_eq(last[0], r.rows);
    cr_assert_eq(last[1], r.rows);
    tl_export_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* A failed I/O call at every step of an export (partitioned + Delta, and
 * single) fails it and leaves nothing at dest nor any staging name. */
static void fail_every_step(int layout, int delta)
{
    tl_io_fault *fi = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_io_fault_open(NULL, &fi, &err), TL_OK, "%s", err.msg);
    tl_table *t = make_ticks(200, 2, tl_io_fault_io(fi));
    tl_snapshot *s = snap(t, -1);
    tl_export_opts o = {.layout = layout, .delta = delta, .threads = 2};
    int n;
    for (n = 1; n < 2000; n++) {
        tl_io_fault_clear_rules(fi);
        tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = (uint64_t)n,
                                 .action = TL_IO_FAULT_FAIL, .err_no = EIO,
                                 .path_contains = "exported"};
        cr_assert_eq(tl_io_fault_add(fi, &rule, &err), TL_OK, "%s", err.msg);
        int rc = tl_export_parquet(s, dest, &o, NULL, &err);
        if (rc == TL_OK)
            break;
        cr_assert_neq(err.msg[0], 0);
        cr_assert(!exists(dest), "call %d (%s): dest left behind", n, err.msg);
        cr_assert_eq(staging_left(), 0, "call %d: staging left behind", n);
    }
    cr_assert_gt(n, layout == TL_EXPORT_SINGLE ? 5 : 20, "the export made too few I/O calls to test");
    cr_assert_lt(n, 2000);
    tl_io_fault_clear_rules(fi);
    if (delta)
        cr_assert_eq(tl_delta_check(dest, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
    tl_io_fault_close(fi);
}

Test(export, failed_io_leaves_nothing_partitioned_delta) { fail_every_step(TL_EXPORT_AUTO, 1); }
Test(export, failed_io_leaves_nothing_single) { fail_every_step(TL_EXPORT_SINGLE, 0); }

/* ---- Delta ------------------------------------------------------------------ */

static void spit(const char *p, const char *text)
{
    tlt_spit(p, text, strlen(text));
}

static tl_table *delta_export(tl_export_result *r)
{
    tl_table *t = make_ticks(800, 2, NULL);
    tl_snapshot *s = snap(t, -1);
    tl_export_opts o = {.delta = 1, .threads = 2};
    tl_error err = {0};
    cr_assert_eq(tl_export_parquet(s, dest, &o, r, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    return t;
}

/* DX-1 .. DX-12 hold for an export, and the add actions account for every
 * row and byte written. */
Test(delta, export_passes_every_rule)
{
    tl_export_result r;
    tl_table *t = delta_export(&r);
    tl_delta_check_result cr;
    tl_error err = {0};
    cr_assert_eq(tl_delta_check(dest, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.n_add, r.files);
    cr_assert_eq(cr.rows, r.rows);
    cr_assert_eq(cr.bytes, r.bytes);
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dest, TL_EXPORT_DELTA_COMMIT);
    char *log = tlt_slurp(p, NULL);
    /* the fixed parts */
    cr_assert_not_null(strstr(log, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"));
    cr_assert_not_null(strstr(log, "\"partitionColumns\":[\"symbol\",\"date\"]"));
    cr_assert_not_null(strstr(log, "\\\"name\\\":\\\"timestamp\\\",\\\"type\\\":\\\"timestamp\\\""));
    cr_assert_not_null(strstr(log, "\\\"name\\\":\\\"date\\\",\\\"type\\\":\\\"date\\\""));
    cr_assert_not_null(strstr(log, "\"partitionValues\":{\"symbol\":\"NIFTY\",\"date\":\""));
    cr_assert_not_null(strstr(log, "\\\"minValues\\\":{\\\"timestamp\\\":\\\"20"));
    cr_assert_null(strstr(log, "\\\"symbol\\\":{"), "partition columns have no stats");
    /* --delta implies MICROS */
    size_t np = 0;
    tl_snapshot *s = snap(t, -1);
    np = tl_snapshot_n_partitions(s);
    cr_assert_eq(r.files, np);
    part_path(s, 0, p, sizeof p);
    tl_pq_file *f = NULL;
    cr_assert_eq(tl_pq_open(p, &f, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_col(f, 0)->ts_unit, TL_PQ_MICROS);
    tl_pq_close(f);
    free(log);
    tl_export_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* Our own log reader reads the export's Delta log (spec/LOG.md section 10,
 * LOG-D1 .. D12): tl_table_open detects it, the snapshot is version 0 with
 * every file, row and byte the export wrote, and the table is read-only
 * (the ticklake dialect of tl_log_snapshot_load, which writers use, refuses
 * it). The Delta commit is still no ticklake commit (LOG-R6: its
 * commitInfo lacks inCommitTimestamp). This pins spec/PARQUET.md's
 * paragraph "Our own log reader and a Delta log". */
Test(delta, ticklake_log_reader_reads_a_delta_log)
{
    tl_export_result r;
    tl_table *t = delta_export(&r);
    tl_error err = {0};
    tl_table *dt = NULL;
    cr_assert_eq(tl_table_open(dest, &dt, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = snap(dt, -1);
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    cr_assert_eq(in.version, 0);
    cr_assert_eq(in.n_files, r.files);
    cr_assert_eq(in.n_rows, r.rows);
    cr_assert_eq(in.bytes, r.bytes);
    tl_snapshot_close(s);
    tl_log_snapshot ls;
    cr_assert_eq(tl_log_snapshot_load(&dt->root, NULL, &ls, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "read-only in ticklake"), "%s", err.msg);
    tl_table_close(dt);

    char p[700];
    snprintf(p, sizeof p, "%s/%s", dest, TL_EXPORT_DELTA_COMMIT);
    size_t len = 0;
    char *log = tlt_slurp(p, &len);
    tl_log_commit c = {0};
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.version = 0;
    cr_assert_eq(tl_log_commit_parse(log, len, &po, &c, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "line 1"), "%s", err.msg);
    tl_log_commit_free(&c);
    free(log);
    tl_export_result_free(&r);
    tl_table_close(t);
}

/* Each rule rejects a log that breaks it: the commit is edited (a string
 * replaced) and tl_delta_check must fail naming the rule. */
typedef struct mutation {
    int rule;
    const char *from, *to; /* replace the first occurrence; from NULL: append to */
} mutation;

static void replace_first(char *buf, const char *from, const char *to, char *out)
{
    char *hit = strstr(buf, from);
    cr_assert_not_null(hit, "'%s' not in the log", from);
    size_t pre = (size_t)(hit - buf);
    memcpy(out, buf, pre);
    strcpy(out + pre, to);
    strcat(out, hit + strlen(from));
}

Test(delta, each_rule_rejects_a_broken_log)
{
    tl_export_result r;
    tl_table *t = delta_export(&r);
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dest, TL_EXPORT_DELTA_COMMIT);
    char *orig = tlt_slurp(p, NULL);
    static const mutation ms[] = {
        {2, "}}\n{\"protocol\"", "}}\n\n{\"protocol\""},              /* empty line */
        {2, "{\"protocol\":{", "{\"protocol\":{\"a\":1,\"a\":1,"},   /* duplicate key */
        {2, "{\"protocol\":{", "{\"protocol\":{},\"x\":{"},          /* two keys */
        {3, "{\"protocol\":", "{\"remove\":{}}\n{\"protocol\":"},
        {4, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n", ""},
        {5, "\"minWriterVersion\":2", "\"minWriterVersion\":7"},
        {5, "\"minWriterVersion\":2", "\"minWriterVersion\":2,\"readerFeatures\":[]"},
        {6, "\"provider\":\"parquet\"", "\"provider\":\"orc\""},
        {6, "\"createdTime\":", "\"createdTime\":-"},
        {6, "{\"metaData\":{\"id\":\"", "{\"metaData\":{\"id\":\"x"},
        {7, "\\\"type\\\":\\\"timestamp\\\"", "\\\"type\\\":\\\"timestamp_nanos\\\""},
        {7, "\\\"name\\\":\\\"avg_price\\\"", "\\\"name\\\":\\\"PRICE\\\""},
        {8, "\"partitionColumns\":[\"symbol\"", "\"partitionColumns\":[\"nope\""},
        {8, "\"partitionColumns\":[\"symbol\"", "\"partitionColumns\":[\"price\""},
        {9, "\"size\":", "\"size\":1"},
        {9, "\"path\":\"symbol=", "\"path\":\"/symbol="},
        {9, "\"path\":\"symbol=", "\"path\":\"../symbol="},
        {9, "\"path\":\"symbol=", "\"path\":\"s3:symbol="},
        {9, "{\"symbol\":\"NIFTY\",", "{\"sym\":\"NIFTY\","},
        {9, "{\"symbol\":\"NIFTY\",", "{"},
        {9, "\"date\":\"20", "\"date\":\"x20"},
        {9, "\"dataChange\":true", "\"dataChange\":1"},
        {10, "\"stats\":\"{", "\"stats\":5,\"x\":\"{"},
        {10, "\\\"numRecords\\\":", "\\\"numRecords\\\":-"},
        {10, "\\\"nullCount\\\":{", "\\\"nullCount\\\":{\\\"symbol\\\":0,"},
        {10, "\\\"minValues\\\":{\\\"timestamp\\\":\\\"20", "\\\"minValues\\\":{\\\"timestamp\\\":\\\"30"},
        {10, "\\\"maxValues\\\":{\\\"timestamp\\\":\\\"", "\\\"maxValues\\\":{\\\"timestamp\\\":\\\"x"},
        {10, "\\\"minValues\\\":{\\\"timestamp\\\"", "\\\"minValues\\\":{\\\"expiry\\\":5,\\\"timestamp\\\""},
        {11, "\\\"numRecords\\\":", "\\\"numRecords\\\":1"},
    };
    char *buf = malloc(strlen(orig) + 1000);
    tl_error err = {0};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        replace_first(orig, ms[i].from, ms[i].to, buf);
        spit(p, buf);
        int rc = tl_delta_check(dest, NULL, &err);
        char want[16];
        snprintf(want, sizeof want, "DX-%d:", ms[i].rule);
        cr_assert_eq(rc, TL_ECORRUPT, "mutation %zu (%s -> %s) passed", i, ms[i].from, ms[i].to);
        cr_assert_not_null(strstr(err.msg, want), "mutation %zu: %s", i, err.msg);
    }
    spit(p, orig);
    cr_assert_eq(tl_delta_check(dest, NULL, &err), TL_OK, "%s", err.msg);
    /* DX-2: no LF at the end */
    orig[strlen(orig) - 1] = 0;
    spit(p, orig);
    cr_assert_eq(tl_delta_check(dest, NULL, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "DX-2:"), "%s", err.msg);
    strcat(orig, "\n");
    spit(p, orig);
    /* DX-1: another file in _delta_log */
    char q[800];
    snprintf(q, sizeof q, "%s/_delta_log/00000000000000000001.json", dest);
    spit(q, "{}\n");
    cr_assert_eq(tl_delta_check(dest, NULL, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "DX-1:"), "%s", err.msg);
    unlink(q);
    /* DX-12: a Parquet file no add names */
    snprintf(q, sizeof q, "%s/symbol=NIFTY/extra.parquet", dest);
    spit(q, "PAR1");
    cr_assert_eq(tl_delta_check(dest, NULL, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "DX-12:"), "%s", err.msg);
    unlink(q);
    /* DX-11: a data file that is not Parquet (size kept) */
    tl_snapshot *s = snap(t, -1);
    part_path(s, 0, q, sizeof q);
    size_t flen = 0;
    char *fb = tlt_slurp(q, &flen);
    fb[flen - 1] = 'X';
    FILE *f = fopen(q, "wb");
    fwrite(fb, 1, flen, f);
    fclose(f);
    cr_assert_eq(tl_delta_check(dest, NULL, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "DX-11:"), "%s", err.msg);
    free(fb);
    free(buf);
    free(orig);
    tl_export_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* Delta stats of one file: timestamps as ISO-8601 ms (min floored, max
 * raised), NaN columns without bounds, uint64 above 2^63-1 left out,
 * nullCount for every column. */
Test(delta, stats_json_bounds)
{
    tl_coldef cols[4] = {{"ts", TL_TIMESTAMP}, {"f", TL_FLOAT64}, {"u", TL_UINT64}, {"s", TL_STRING}};
    tl_pq_col_stats cs[4];
    memset(cs, 0, sizeof cs);
    cs[0].has_minmax = 1;
    cs[0].min.i = 1763437500123456789LL; /* 2025-11-18T03:45:00.123456789Z */
    cs[0].max.i = 1763437500999000001LL;
    cs[1].has_minmax = 1;
    cs[1].min.f = 1;
    cs[1].max.f = 2;
    cs[2].has_minmax = 1;
    cs[2].min.u = 1;
    cs[2].max.u = UINT64_MAX;
    cs[3].has_minmax = 1;
    cs[3].smin = (const uint8_t *)"ab";
    cs[3].smin_len = 2;
    cs[3].smax = (const uint8_t *)"z\"";
    cs[3].smax_len = 2;
    cs[3].null_count = 3;
    tl_pq_write_stats st = {.rows = 10, .row_groups = 1, .file_bytes = 100, .cols = cs};
    uint8_t nan[4] = {0, 1, 0, 0};
    char *js = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_delta_stats_json(cols, 4, &st, nan, &js, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(js, "{\"numRecords\":10,\"minValues\":{\"ts\":\"2025-11-18T03:45:00.123Z\","
                         "\"s\":\"ab\"},\"maxValues\":{\"ts\":\"2025-11-18T03:45:01.000Z\","
                         "\"s\":\"z\\\"\"},\"nullCount\":{\"ts\":0,\"f\":0,\"u\":0,\"s\":3}}");
    free(js);
    cr_assert_str_eq(tl_delta_type_name(TL_UINT8), "short");
    cr_assert_str_eq(tl_delta_type_name(TL_UINT32), "long");
    cr_assert_str_eq(tl_delta_type_name(TL_UINT64), "decimal(20,0)");
}

/* timestamp_us columns export as INT64 TIMESTAMP(isAdjustedToUTC=true,
 * MICROS) in the normal and the --spark-compatible mode, values as they are
 * (extremes and nulls included); --delta names them Spark "timestamp" and
 * leaves out bounds Delta cannot spell (years beyond 0001..9999). */
Test(export, timestamp_us_exports_as_micros)
{
    tl_field fl[2] = {{"tu", TL_TIMESTAMP_US, 1}, {"k", TL_INT32, 0}};
    tl_table_spec spec = {.fields = fl, .n_fields = 2};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    int64_t tu[5] = {INT64_MIN, INT64_MAX, 0, 1704141296123456LL, -62198755200000000LL};
    int32_t k[5] = {0, 1, 2, 3, 4};
    uint8_t valid = 0x1b; /* row 2 null */
    tl_coldef defs[2] = {{"tu", TL_TIMESTAMP_US}, {"k", TL_INT32}};
    tl_colvec cols[2] = {{.values = tu, .validity = &valid}, {.values = k}};
    tl_batch bt = {5, 2, defs, cols};
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = snap(t, -1);
    for (int spark = 0; spark < 2; spark++) {
        char out[400];
        snprintf(out, sizeof out, "%s/tu%d.parquet", dir, spark);
        tl_export_opts o = {.layout = TL_EXPORT_SINGLE, .spark_compatible = (uint8_t)spark};
        cr_assert_eq(tl_export_parquet(s, out, &o, NULL, &err), TL_OK, "%s", err.msg);
        tl_pq_file *f = NULL;
        cr_assert_eq(tl_pq_open(out, &f, &err), TL_OK, "%s", err.msg);
        const tl_pq_colinfo *ci = tl_pq_col(f, 0);
        cr_assert_eq(ci->type, TL_TIMESTAMP);
        cr_assert_eq(ci->ts_unit, TL_PQ_MICROS);
        cr_assert_eq(ci->ts_utc, 1);
        cr_assert_str_eq(ci->desc, "INT64/TIMESTAMP(UTC,MICROS)");
        int64_t lo, hi;
        cr_assert_eq(tl_pq_chunk_i64_bounds(f, 0, 0, &lo, &hi), 1);
        cr_assert(lo == INT64_MIN && hi == INT64_MAX);
        tl_pq_colbuf cb = {0};
        cr_assert_eq(tl_pq_read_chunk(f, 0, 0, &cb, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(cb.n, 5);
        cr_assert_eq(cb.ts_unit, TL_PQ_MICROS);
        for (int i = 0; i < 5; i++) {
            cr_assert_eq(tl_bit_get(cb.vec.validity, (uint64_t)i), i != 2, "row %d", i);
            if (i != 2)
                cr_assert_eq(((const int64_t *)cb.vec.values)[i], tu[i], "row %d", i);
        }
        tl_pq_colbuf_free(&cb);
        tl_pq_close(f);
    }
    /* --delta (a directory even without partitions) */
    tl_export_opts o = {.layout = TL_EXPORT_PARTITIONED, .delta = 1};
    cr_assert_eq(tl_export_parquet(s, dest, &o, NULL, &err), TL_OK, "%s", err.msg);
    tl_delta_check_result cr;
    cr_assert_eq(tl_delta_check(dest, &cr, &err), TL_OK, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dest, TL_EXPORT_DELTA_COMMIT);
    char *log = tlt_slurp(p, NULL);
    cr_assert_not_null(strstr(log, "\\\"name\\\":\\\"tu\\\",\\\"type\\\":\\\"timestamp\\\""), "%s",
                       log);
    cr_assert_null(strstr(log, "\\\"minValues\\\":{\\\"tu\\\""), "%s", log);
    free(log);
    tl_snapshot_close(s);
    tl_table_close(t);
    /* bounds in years Delta can spell are written, in ms */
    tl_coldef c1[1] = {{"tu", TL_TIMESTAMP_US}};
    tl_pq_col_stats cs[1];
    memset(cs, 0, sizeof cs);
    cs[0].has_minmax = 1;
    cs[0].min.i = 1704141296123456LL;
    cs[0].max.i = 253402225200000001LL; /* 9999-12-31T03:00:00.000001 */
    tl_pq_write_stats st = {.rows = 2, .row_groups = 1, .file_bytes = 10, .cols = cs};
    char *js = NULL;
    cr_assert_eq(tl_delta_stats_json(c1, 1, &st, NULL, &js, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(js, "{\"numRecords\":2,\"minValues\":{\"tu\":\"2024-01-01T20:34:56.123Z\"},"
                         "\"maxValues\":{\"tu\":\"9999-12-31T03:00:00.001Z\"},"
                         "\"nullCount\":{\"tu\":0}}");
    free(js);
    cs[0].max.i = INT64_MAX;
    cr_assert_eq(tl_delta_stats_json(c1, 1, &st, NULL, &js, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(js, "{\"numRecords\":2,\"minValues\":{},\"maxValues\":{},"
                         "\"nullCount\":{\"tu\":0}}");
    free(js);
    cr_assert_str_eq(tl_delta_type_name(TL_TIMESTAMP_US), "timestamp");
}
