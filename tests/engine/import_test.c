/*
 * import_test.c - tl_import_parquet (engine/src/import.c; spec/PARQUET.md,
 * section "Import", PQ-I*): the ../shared/parquet-testing corpus through
 * import (good/ equal to the expected CSVs, lenient/ equal or a clean error,
 * bad/ a clean error with nothing committed), --create inference of the
 * schema and partition spec, --map, exact conversions and the errors of
 * inexact ones (naming file, row group, column, row), Hive directory
 * columns, idempotent imports, many small files in one commit, and
 * table -> tl_export_parquet -> import round trips.
 *
 * Expected CSVs are compared field by field after parsing: numbers to bits,
 * timestamps to nanoseconds, dates to days, DECIMAL text normalised; blobs
 * (BYTE_ARRAY without a text annotation) escaped as DuckDB prints them.
 * Rows are compared in order when the table has neither partitions nor a
 * sort key, else as sorted multisets.
 */
#include <criterion/criterion.h>

#include "import_int.h"
#include "pq_meta.h"
#include "ticklake.h"
#include "tl_format.h"
#include "tl_parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORPUS TL_SOURCE_DIR "/../shared/parquet-testing"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_import.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(import, .init = setup, .fini = teardown);

/* ---- small helpers ------------------------------------------------------------------- */

static char *pathf(const char *fmt, ...) TL_PRINTF(1, 2);
static char *pathf(const char *fmt, ...)
{
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 1024, fmt, ap);
    va_end(ap);
    return b;
}

static void mkdir_p(const char *p)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", p);
    for (char *s = tmp + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(tmp, 0777);
            *s = '/';
        }
    mkdir(tmp, 0777);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Rows per row group of write_pq's files (0 = the writer's default); set by
 * a test before writing (each test runs in its own process). */
static uint64_t write_rg_rows;

/* Write a Parquet file with the project's writer. */
static void write_pq(const char *path, const tl_coldef *defs, uint32_t nc, const uint8_t *optional,
                     const tl_colvec *cols, uint64_t n, int micros)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    tl_pq_write_opts wo;
    tl_pq_write_opts_default(&wo);
    wo.timestamp_micros = (uint8_t)micros;
    wo.row_group_rows = write_rg_rows;
    tlf_sink sink = {tlf_sink_fd_write, &fd};
    tl_pq_writer *w = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_writer_open(defs, nc, optional, &wo, sink, &w, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(tl_pq_writer_write(w, cols, n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_pq_writer_close(w, NULL, &err), TL_OK, "%s", err.msg);
    tl_pq_writer_free(w);
    close(fd);
}

static int64_t table_version(const char *tpath)
{
    tl_table *t;
    tl_error err = {0};
    if (tl_table_open(tpath, &t, &err) != TL_OK)
        return -1;
    int64_t latest = -1;
    cr_assert_eq(tl_table_versions(t, NULL, &latest, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    return latest;
}

/* ---- canonical values ---------------------------------------------------------------- */

typedef struct rowset {
    char **rows;
    size_t n, cap;
} rowset;

static void rowset_add(rowset *s, char *row)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->rows = realloc(s->rows, s->cap * sizeof *s->rows);
        cr_assert_not_null(s->rows);
    }
    s->rows[s->n++] = row;
}

static void rowset_free(rowset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i]);
    free(s->rows);
    memset(s, 0, sizeof *s);
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const void *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* DuckDB's BLOB text: printable ASCII as is, other bytes \xHH. */
static void blob_text(sbuf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7F) {
            sb_put(b, &p[i], 1);
        } else {
            char h[8];
            snprintf(h, sizeof h, "\\x%02X", p[i]);
            sb_str(b, h);
        }
    }
}

/* Exact decimal text with trailing fraction zeros (and "-0") removed. */
static void decimal_norm(sbuf *b, const char *s, size_t n)
{
    char tmp[256];
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (strchr(tmp, '.')) {
        while (n && tmp[n - 1] == '0')
            tmp[--n] = '\0';
        if (n && tmp[n - 1] == '.')
            tmp[--n] = '\0';
    }
    if (!strcmp(tmp, "-0") || n == 0)
        strcpy(tmp, "0");
    sb_str(b, tmp);
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = m > 2 ? m - 3 : m + 9;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD[ (BC)]" at s: day number; *end after it. */
static int parse_csv_date(const char *s, const char **end, int64_t *day)
{
    char *e;
    long long y = strtoll(s, &e, 10);
    if (*e != '-')
        return 0;
    long m = strtol(e + 1, &e, 10);
    if (*e != '-')
        return 0;
    long d = strtol(e + 1, &e, 10);
    if (!strncmp(e, " (BC)", 5)) {
        y = 1 - y;
        e += 5;
    }
    *day = days_from_civil(y, (int)m, (int)d);
    *end = e;
    return 1;
}

/* "YYYY-MM-DD[ (BC)] HH:MM:SS[.f][+00]" -> ns (0 when out of range). */
static int parse_csv_ts(const char *s, int64_t *ns)
{
    const char *e;
    int64_t day;
    if (!parse_csv_date(s, &e, &day))
        return 0;
    int hh = 0, mm = 0, ss = 0;
    int64_t frac = 0;
    if (*e == ' ' || *e == 'T') {
        char *x;
        hh = (int)strtol(e + 1, &x, 10);
        mm = (int)strtol(x + 1, &x, 10);
        ss = (int)strtol(x + 1, &x, 10);
        if (*x == '.') {
            int k = 0;
            x++;
            while (*x >= '0' && *x <= '9') {
                if (k < 9)
                    frac = frac * 10 + (*x - '0');
                x++, k++;
            }
            for (; k < 9; k++)
                frac *= 10;
        }
        e = x;
    }
    int64_t v;
    if (__builtin_mul_overflow(day, INT64_C(86400000000000), &v) ||
        __builtin_add_overflow(v, ((int64_t)hh * 3600 + mm * 60 + ss) * INT64_C(1000000000) + frac,
                               &v))
        return 0;
    *ns = v;
    return 1;
}

/* The same text -> µs (timestamp_us columns); 0 when out of range or
 * not a whole microsecond. */
static int parse_csv_ts_us(const char *s, int64_t *us)
{
    const char *e;
    int64_t day;
    if (!parse_csv_date(s, &e, &day))
        return 0;
    int hh = 0, mm = 0, ss = 0;
    int64_t frac = 0;
    if (*e == ' ' || *e == 'T') {
        char *x;
        hh = (int)strtol(e + 1, &x, 10);
        mm = (int)strtol(x + 1, &x, 10);
        ss = (int)strtol(x + 1, &x, 10);
        if (*x == '.') {
            int k = 0;
            x++;
            while (*x >= '0' && *x <= '9') {
                if (k < 9)
                    frac = frac * 10 + (*x - '0');
                x++, k++;
            }
            for (; k < 9; k++)
                frac *= 10;
        }
        e = x;
    }
    if (frac % 1000)
        return 0;
    int64_t v;
    if (__builtin_mul_overflow(day, INT64_C(86400000000), &v) ||
        __builtin_add_overflow(v, ((int64_t)hh * 3600 + mm * 60 + ss) * INT64_C(1000000) +
                                      frac / 1000, &v))
        return 0;
    *us = v;
    return 1;
}

/* What the test knows of a column beyond the table's type. */
typedef struct colmeta {
    int is_blob, is_decimal_text;
} colmeta;

/* The canonical text of a table value (row r of v, type t). */
static void canon_value(sbuf *b, tl_type t, const colmeta *cm, const tl_colvec *v, uint32_t r)
{
    char tmp[64];
    if (!tl_bit_get(v->validity, r)) {
        sb_str(b, "\\N");
        return;
    }
    const void *p = v->values;
    switch (t) {
    case TL_BOOL:
        sb_str(b, ((const uint8_t *)p)[r] ? "true" : "false");
        return;
    case TL_INT8:
        snprintf(tmp, sizeof tmp, "%d", ((const int8_t *)p)[r]);
        break;
    case TL_INT16:
        snprintf(tmp, sizeof tmp, "%d", ((const int16_t *)p)[r]);
        break;
    case TL_INT32:
    case TL_DATE:
        snprintf(tmp, sizeof tmp, "%" PRId32, ((const int32_t *)p)[r]);
        break;
    case TL_INT64:
    case TL_TIMESTAMP:
    case TL_TIMESTAMP_US:
        snprintf(tmp, sizeof tmp, "%" PRId64, ((const int64_t *)p)[r]);
        break;
    case TL_UINT8:
        snprintf(tmp, sizeof tmp, "%u", ((const uint8_t *)p)[r]);
        break;
    case TL_UINT16:
        snprintf(tmp, sizeof tmp, "%u", ((const uint16_t *)p)[r]);
        break;
    case TL_UINT32:
        snprintf(tmp, sizeof tmp, "%" PRIu32, ((const uint32_t *)p)[r]);
        break;
    case TL_UINT64:
        snprintf(tmp, sizeof tmp, "%" PRIu64, ((const uint64_t *)p)[r]);
        break;
    case TL_FLOAT32: {
        float f = ((const float *)p)[r];
        uint32_t u;
        memcpy(&u, &f, 4);
        if (isnan(f))
            snprintf(tmp, sizeof tmp, "nan");
        else
            snprintf(tmp, sizeof tmp, "f%08" PRIx32, u);
        break;
    }
    case TL_FLOAT64: {
        double f = ((const double *)p)[r];
        uint64_t u;
        memcpy(&u, &f, 8);
        if (isnan(f))
            snprintf(tmp, sizeof tmp, "nan");
        else
            snprintf(tmp, sizeof tmp, "d%016" PRIx64, u);
        break;
    }
    case TL_STRING: {
        const uint8_t *s = v->data + v->offsets[r];
        size_t n = v->offsets[r + 1] - v->offsets[r];
        sb_str(b, "s:");
        if (cm && cm->is_blob)
            blob_text(b, s, n);
        else if (cm && cm->is_decimal_text)
            decimal_norm(b, (const char *)s, n);
        else
            sb_put(b, s, n);
        return;
    }
    default:
        cr_assert_fail("unknown type %d", (int)t);
    }
    sb_str(b, tmp);
}

/* The canonical text of an expected CSV field for a column of type t. */
static void canon_text(sbuf *b, tl_type t, const colmeta *cm, const char *s, int quoted,
                       const char *where)
{
    char tmp[64];
    if (!quoted && !*s) {
        sb_str(b, "\\N");
        return;
    }
    switch (t) {
    case TL_BOOL:
        sb_str(b, s);
        return;
    case TL_INT8:
    case TL_INT16:
    case TL_INT32:
    case TL_INT64:
        snprintf(tmp, sizeof tmp, "%lld", strtoll(s, NULL, 10));
        break;
    case TL_UINT8:
    case TL_UINT16:
    case TL_UINT32:
    case TL_UINT64:
        snprintf(tmp, sizeof tmp, "%llu", strtoull(s, NULL, 10));
        break;
    case TL_FLOAT32: {
        float f = strtof(s, NULL);
        uint32_t u;
        memcpy(&u, &f, 4);
        if (isnan(f))
            snprintf(tmp, sizeof tmp, "nan");
        else
            snprintf(tmp, sizeof tmp, "f%08" PRIx32, u);
        break;
    }
    case TL_FLOAT64: {
        double f = strtod(s, NULL);
        uint64_t u;
        memcpy(&u, &f, 8);
        if (isnan(f))
            snprintf(tmp, sizeof tmp, "nan");
        else
            snprintf(tmp, sizeof tmp, "d%016" PRIx64, u);
        break;
    }
    case TL_DATE: {
        const char *e;
        int64_t d = 0;
        cr_assert(parse_csv_date(s, &e, &d), "%s: bad date '%s'", where, s);
        snprintf(tmp, sizeof tmp, "%" PRId64, d);
        break;
    }
    case TL_TIMESTAMP: {
        int64_t ns = 0;
        cr_assert(parse_csv_ts(s, &ns), "%s: timestamp '%s' not in the nanosecond range", where,
                  s);
        snprintf(tmp, sizeof tmp, "%" PRId64, ns);
        break;
    }
    case TL_TIMESTAMP_US: {
        int64_t us = 0;
        cr_assert(parse_csv_ts_us(s, &us), "%s: timestamp '%s' not a microsecond in range",
                  where, s);
        snprintf(tmp, sizeof tmp, "%" PRId64, us);
        break;
    }
    case TL_STRING:
        sb_str(b, "s:");
        if (cm && cm->is_decimal_text)
            decimal_norm(b, s, strlen(s));
        else
            sb_str(b, s);
        return;
    default:
        cr_assert_fail("unknown type %d", (int)t);
    }
    sb_str(b, tmp);
}

/* ---- CSV ----------------------------------------------------------------------------- */

typedef struct csv_field {
    char *s;
    int quoted;
} csv_field;

typedef struct csv {
    csv_field **rows; /* rows[0] = header */
    uint32_t *n_fields;
    size_t n;
    char *buf;
} csv;

static void csv_load(const char *path, csv *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *in = malloc((size_t)len + 1);
    cr_assert_eq(fread(in, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    in[len] = '\0';
    c->buf = malloc((size_t)len + 1);
    char *out = c->buf;
    size_t cap = 0;
    long i = 0;
    while (i < len) {
        if (c->n == cap) {
            cap = cap ? cap * 2 : 1024;
            c->rows = realloc(c->rows, cap * sizeof *c->rows);
            c->n_fields = realloc(c->n_fields, cap * sizeof *c->n_fields);
        }
        csv_field *fl = NULL;
        uint32_t nf = 0, fcap = 0;
        for (;;) {
            if (nf == fcap) {
                fcap = fcap ? fcap * 2 : 16;
                fl = realloc(fl, fcap * sizeof *fl);
            }
            char *start = out;
            int quoted = 0;
            if (in[i] == '"') {
                quoted = 1;
                i++;
                while (i < len) {
                    if (in[i] == '"' && in[i + 1] == '"') {
                        *out++ = '"';
                        i += 2;
                    } else if (in[i] == '"') {
                        i++;
                        break;
                    } else {
                        *out++ = in[i++];
                    }
                }
            }
            while (i < len && in[i] != ',' && in[i] != '\n')
                *out++ = in[i++];
            *out++ = '\0';
            fl[nf++] = (csv_field){start, quoted};
            if (i >= len || in[i] == '\n') {
                i++;
                break;
            }
            i++; /* ',' */
        }
        c->rows[c->n] = fl;
        c->n_fields[c->n] = nf;
        c->n++;
    }
    free(in);
}

static void csv_free(csv *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->rows[i]);
    free(c->rows);
    free(c->n_fields);
    free(c->buf);
}

/* ---- reading a table back ------------------------------------------------------------------ */

typedef struct tinfo {
    tl_field *fields;
    uint32_t nf;
    int partitioned, sorted;
    int64_t version;
    uint64_t n_rows;
    uint64_t n_files, n_partitions;
    char *symbol_column, *day_column;
    char sort_key[256];
} tinfo;

static void tinfo_free(tinfo *ti)
{
    for (uint32_t i = 0; i < ti->nf; i++)
        free((char *)ti->fields[i].name);
    free(ti->fields);
    free(ti->symbol_column);
    free(ti->day_column);
    memset(ti, 0, sizeof *ti);
}

/* Every row of the table, canonical, columns in the order of names (NULL =
 * schema order); cms (may be NULL) per name. */
static void read_table(const char *tpath, const char *const *names, const colmeta *cms,
                       uint32_t n_names, rowset *out, tinfo *ti)
{
    tl_error err = {0};
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    if (ti) {
        memset(ti, 0, sizeof *ti);
        ti->nf = info.n_fields;
        ti->fields = calloc(info.n_fields, sizeof *ti->fields);
        for (uint32_t i = 0; i < info.n_fields; i++) {
            ti->fields[i] = info.fields[i];
            ti->fields[i].name = strdup(info.fields[i].name);
        }
        ti->partitioned = info.symbol_column || info.day_column;
        ti->sorted = info.n_sort_key > 0;
        ti->version = info.version;
        ti->n_rows = info.n_rows;
        ti->n_files = info.n_files;
        ti->n_partitions = info.n_partitions;
        ti->symbol_column = info.symbol_column ? strdup(info.symbol_column) : NULL;
        ti->day_column = info.day_column ? strdup(info.day_column) : NULL;
        for (uint32_t i = 0; i < info.n_sort_key; i++)
            snprintf(ti->sort_key + strlen(ti->sort_key), sizeof ti->sort_key - strlen(ti->sort_key),
                     "%s%s", i ? "," : "", info.sort_key[i]);
    }
    tl_reader *r;
    cr_assert_eq(tl_reader_open(s, NULL, names, names ? n_names : 0, &r, &err), TL_OK, "%s",
                 err.msg);
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        for (uint32_t row = 0; row < b.n_rows; row++) {
            sbuf sb = {0};
            sb_str(&sb, "");
            for (uint32_t c = 0; c < b.n_cols; c++) {
                if (c)
                    sb_str(&sb, "\x1f");
                canon_value(&sb, b.defs[c].type, cms ? &cms[c] : NULL, &b.cols[c], row);
            }
            rowset_add(out, sb.p);
        }
    }
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Equal rowsets (in order, or sorted first). Returns a message or NULL. */
static char *rowset_diff(rowset *got, rowset *want, int ordered)
{
    static char msg[2048];
    if (!ordered && got->n && want->n) {
        qsort(got->rows, got->n, sizeof *got->rows, cmp_str);
        qsort(want->rows, want->n, sizeof *want->rows, cmp_str);
    }
    if (got->n != want->n) {
        snprintf(msg, sizeof msg, "%zu rows read, %zu expected", got->n, want->n);
        return msg;
    }
    for (size_t i = 0; i < got->n; i++)
        if (strcmp(got->rows[i], want->rows[i]) != 0) {
            snprintf(msg, sizeof msg, "row %zu%s differs:\n got  %.900s\n want %.900s", i,
                     ordered ? "" : " (sorted)", got->rows[i], want->rows[i]);
            for (char *p = msg; *p; p++)
                if (*p == '\x1f')
                    *p = '|';
            return msg;
        }
    return NULL;
}

/* ---- the corpus ------------------------------------------------------------------------- */

static int have_corpus(void)
{
    return exists(CORPUS "/MANIFEST.tsv");
}

/* Import FILE (relative to the corpus) with --create into a fresh table. */
static int corpus_import(const char *rel, const char *tpath, tl_import_result *res, tl_error *err)
{
    const char *in[1] = {pathf("%s/%s", CORPUS, rel)};
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    return tl_import_parquet(tpath, in, 1, &o, res, err);
}

/* Compare the table at tpath with the expected CSV of rel. */
static void corpus_compare(const char *rel, const char *tpath)
{
    char stem[512];
    snprintf(stem, sizeof stem, "%s/%s", CORPUS, rel);
    *strstr(stem, ".parquet") = '\0';
    csv c;
    csv_load(pathf("%s.expected.csv", stem), &c);
    cr_assert_geq(c.n, 1, "%s: empty expected CSV", rel);
    /* column metadata from the file itself */
    tl_pq_file *f;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open(pathf("%s/%s", CORPUS, rel), &f, &err), TL_OK, "%s", err.msg);
    uint32_t nc = c.n_fields[0];
    const char **names = calloc(nc, sizeof *names);
    colmeta *cms = calloc(nc, sizeof *cms);
    tl_type *types = calloc(nc, sizeof *types);
    tinfo ti;
    rowset got = {0}, want = {0};
    /* the table's types by name */
    {
        rowset none = {0};
        read_table(tpath, NULL, NULL, 0, &none, &ti);
        rowset_free(&none);
    }
    for (uint32_t j = 0; j < nc; j++) {
        names[j] = c.rows[0][j].s;
        uint32_t k = 0;
        while (k < ti.nf && strcmp(ti.fields[k].name, names[j]) != 0)
            k++;
        cr_assert_lt(k, ti.nf, "%s: expected column '%s' not in the table", rel, names[j]);
        types[j] = ti.fields[k].type;
        for (uint32_t i = 0; i < tl_pq_n_cols(f); i++) {
            const tl_pq_colinfo *ci = tl_pq_col(f, i);
            if (strcmp(ci->name, names[j]) == 0) {
                cms[j].is_blob = ci->is_blob && !ci->is_decimal;
                cms[j].is_decimal_text = ci->is_decimal && ci->type == TL_STRING;
            }
        }
    }
    tl_pq_close(f);
    read_table(tpath, names, cms, nc, &got, NULL);
    for (size_t r = 1; r < c.n; r++) {
        cr_assert_eq(c.n_fields[r], nc, "%s: CSV line %zu has %u fields", rel, r + 1,
                     c.n_fields[r]);
        sbuf sb = {0};
        sb_str(&sb, "");
        for (uint32_t j = 0; j < nc; j++) {
            if (j)
                sb_str(&sb, "\x1f");
            canon_text(&sb, types[j], &cms[j], c.rows[r][j].s, c.rows[r][j].quoted,
                       pathf("%s line %zu column %s", rel, r + 1, names[j]));
        }
        rowset_add(&want, sb.p);
    }
    char *d = rowset_diff(&got, &want, !ti.partitioned && !ti.sorted);
    cr_assert_null(d, "%s: %s", rel, d);
    rowset_free(&got);
    rowset_free(&want);
    tinfo_free(&ti);
    free(names);
    free(cms);
    free(types);
    csv_free(&c);
}

static void good_file(const char *stem)
{
    if (!have_corpus())
        cr_skip_test("no %s", CORPUS);
    const char *rel = pathf("good/%s.parquet", stem);
    const char *tpath = pathf("%s/t", dir);
    tl_import_result res;
    tl_error err = {0};
    int rc = corpus_import(rel, tpath, &res, &err);
    cr_assert_eq(rc, TL_OK, "%s: %s", rel, err.msg);
    cr_assert_eq(res.created, 1);
    cr_assert_eq(res.files, 1);
    corpus_compare(rel, tpath);
}

#define GOOD(id, stem)                                                                         \
    Test(import, good_##id) { good_file(stem); }

GOOD(gen_tick_duckdb_v1_snappy, "gen_tick_duckdb_v1_snappy")
GOOD(gen_tick_duckdb_v2_zstd, "gen_tick_duckdb_v2_zstd")
GOOD(gen_tick_duckdb_v1_brotli, "gen_tick_duckdb_v1_brotli")
GOOD(gen_tick_polars_lz4raw, "gen_tick_polars_lz4raw")
GOOD(gen_tick_arrowrs_v2_gzip, "gen_tick_arrowrs_v2_gzip")
GOOD(gen_tick_arrowrs_v2_uncompressed_delta, "gen_tick_arrowrs_v2_uncompressed_delta")
GOOD(gen_tick_duckdb_empty, "gen_tick_duckdb_empty")
GOOD(alltypes_plain, "alltypes_plain")
GOOD(alltypes_tiny_pages_plain, "alltypes_tiny_pages_plain")
GOOD(binary_truncated_min_max, "binary_truncated_min_max")
GOOD(byte_array_decimal, "byte_array_decimal")
GOOD(int32_decimal, "int32_decimal")
GOOD(fixed_length_decimal, "fixed_length_decimal")
GOOD(column_chunk_key_value_metadata, "column_chunk_key_value_metadata")
GOOD(concatenated_gzip_members, "concatenated_gzip_members")
GOOD(data_index_bloom_encoding_stats, "data_index_bloom_encoding_stats")
GOOD(datapage_v1_uncompressed_checksum, "datapage_v1-uncompressed-checksum")
GOOD(datapage_v2_empty_datapage, "datapage_v2_empty_datapage.snappy")
GOOD(delta_binary_packed, "delta_binary_packed")
GOOD(delta_encoding_optional_column, "delta_encoding_optional_column")
GOOD(delta_length_byte_array, "delta_length_byte_array")
GOOD(dict_page_offset_zero, "dict-page-offset-zero")
GOOD(float16_nonzeros_and_nans, "float16_nonzeros_and_nans")
GOOD(int32_with_null_pages, "int32_with_null_pages")
GOOD(lz4_raw_compressed, "lz4_raw_compressed")
GOOD(nan_in_stats, "nan_in_stats")
GOOD(rle_dict_snappy_checksum, "rle-dict-snappy-checksum")
GOOD(rle_boolean_encoding, "rle_boolean_encoding")
GOOD(sort_columns, "sort_columns")
GOOD(unknown_logical_type, "unknown-logical-type")

/* PQ-I16: int96_from_spark holds years 9999 and 290000, beyond int64
 * nanoseconds: --create makes its column timestamp_us, and the table then
 * equals the expected CSV. */
Test(import, good_int96_from_spark)
{
    good_file("int96_from_spark");
    tinfo ti;
    rowset none = {0};
    read_table(pathf("%s/t", dir), NULL, NULL, 0, &none, &ti);
    rowset_free(&none);
    cr_assert_eq(ti.nf, 1);
    cr_assert_eq(ti.fields[0].type, TL_TIMESTAMP_US, "column a is %s",
                 tl_type_name(ti.fields[0].type));
    cr_assert_null(ti.day_column);
    tinfo_free(&ti);
}

/* PQ-I12: into an existing table whose column is timestamp (ns) the same
 * file fails naming file, column, row and value; nothing is committed. */
Test(import, int96_from_spark_into_ns_column_is_clean_error)
{
    if (!have_corpus())
        cr_skip_test("no %s", CORPUS);
    const char *tpath = pathf("%s/t", dir);
    tl_field fl[1] = {{"a", TL_TIMESTAMP, 1}};
    tl_table_spec spec = {.fields = fl, .n_fields = 1};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    int64_t v0 = table_version(tpath);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {pathf("%s/good/int96_from_spark.parquet", CORPUS)};
    int rc = tl_import_parquet(tpath, in, 1, &o, NULL, &err);
    cr_assert_eq(rc, TL_EINVAL, "%d %s", rc, err.msg);
    cr_assert(strstr(err.msg, "int96_from_spark.parquet"), "%s", err.msg);
    cr_assert(strstr(err.msg, "column 'a'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "outside the nanosecond range"), "%s", err.msg);
    cr_assert_eq(table_version(tpath), v0);
}

/* PQ-I15: the same file into an existing timestamp_us column. */
Test(import, int96_from_spark_into_us_column)
{
    if (!have_corpus())
        cr_skip_test("no %s", CORPUS);
    const char *tpath = pathf("%s/t", dir);
    tl_field fl[1] = {{"a", TL_TIMESTAMP_US, 1}};
    tl_table_spec spec = {.fields = fl, .n_fields = 1};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {pathf("%s/good/int96_from_spark.parquet", CORPUS)};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_OK, "%s", err.msg);
    corpus_compare("good/int96_from_spark.parquet", tpath);
}

static int clean_code(int rc)
{
    return rc == TL_ECORRUPT || rc == TL_ECHECKSUM || rc == TL_EUNSUPPORTED || rc == TL_EINVAL ||
           rc == TL_EIO;
}

static void lenient_file(const char *stem)
{
    if (!have_corpus())
        cr_skip_test("no %s", CORPUS);
    const char *rel = pathf("lenient/%s.parquet", stem);
    const char *tpath = pathf("%s/t", dir);
    tl_error err = {0};
    int rc = corpus_import(rel, tpath, NULL, &err);
    if (rc == TL_OK) {
        corpus_compare(rel, tpath);
        cr_log_info("%s: imported, equal to the expected CSV", rel);
        return;
    }
    cr_assert(clean_code(rc), "%s: code %d: %s", rel, rc, err.msg);
    cr_assert(strstr(err.msg, stem), "%s: the message names the file: %s", rel, err.msg);
    cr_assert_not(exists(tpath), "%s: a failed --create leaves no table", rel);
    cr_log_info("%s: clean error: %s", rel, err.msg);
}

#define LENIENT(id, stem)                                                                      \
    Test(import, lenient_##id) { lenient_file(stem); }

LENIENT(byte_stream_split_extended, "byte_stream_split_extended.gzip")
LENIENT(hadoop_lz4_compressed, "hadoop_lz4_compressed")
LENIENT(non_hadoop_lz4_compressed, "non_hadoop_lz4_compressed")
LENIENT(datapage_v1_corrupt_checksum, "datapage_v1-corrupt-checksum")
LENIENT(nation_dict_malformed, "nation.dict-malformed")
LENIENT(nested_lists, "nested_lists.snappy")
LENIENT(nulls, "nulls.snappy")
LENIENT(mut_bad_head_magic, "mut_bad_head_magic")

/* bad/: a clean error naming the file; with --create no table is left;
 * into an existing table its version does not move. */
static void bad_file(const char *stem)
{
    if (!have_corpus())
        cr_skip_test("no %s", CORPUS);
    const char *rel = pathf("bad/%s.parquet", stem);
    const char *tpath = pathf("%s/t", dir);
    tl_error err = {0};
    int rc = corpus_import(rel, tpath, NULL, &err);
    cr_assert_neq(rc, TL_OK, "%s imported", rel);
    cr_assert(clean_code(rc), "%s: code %d: %s", rel, rc, err.msg);
    cr_assert(strstr(err.msg, stem), "%s: the message names the file: %s", rel, err.msg);
    cr_assert_not(exists(tpath), "%s: a failed --create leaves no table", rel);

    /* an existing table: with the file's own columns when its footer
     * opens (so the data itself must fail), else a column x */
    const char *t2 = pathf("%s/t2", dir);
    tl_field fl[256] = {{"x", TL_INT64, 1}};
    tl_table_spec spec = {.fields = fl, .n_fields = 1};
    tl_pq_file *f = NULL;
    tl_error e2 = {0};
    if (tl_pq_open(pathf("%s/%s", CORPUS, rel), &f, &e2) == TL_OK) {
        uint32_t nc = tl_pq_n_cols(f);
        cr_assert_leq(nc, 256);
        for (uint32_t i = 0; i < nc; i++)
            fl[i] = (tl_field){tl_pq_col(f, i)->name, tl_pq_col(f, i)->type, 1};
        spec.n_fields = nc;
    }
    cr_assert_eq(tl_table_create(t2, &spec, &err), TL_OK, "%s", err.msg);
    tl_pq_close(f);
    int64_t v0 = table_version(t2);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {pathf("%s/%s", CORPUS, rel)};
    rc = tl_import_parquet(t2, in, 1, &o, NULL, &err);
    cr_assert_neq(rc, TL_OK);
    cr_assert(strstr(err.msg, stem), "%s: %s", rel, err.msg);
    cr_assert_eq(table_version(t2), v0);
    cr_log_info("%s: %s", rel, err.msg);
}

#define BAD(id, stem)                                                                          \
    Test(import, bad_##id) { bad_file(stem); }

BAD(parquet_1481, "PARQUET-1481")
BAD(arrow_gh_47662, "ARROW-GH-47662")
BAD(arrow_gh_41317, "ARROW-GH-41317")
BAD(arrow_gh_45185, "ARROW-GH-45185")
BAD(uniform_encryption, "uniform_encryption")
BAD(encrypt_columns_plaintext_footer, "encrypt_columns_plaintext_footer")
BAD(mut_empty_file, "mut_empty_file")
BAD(mut_not_parquet, "mut_not_parquet")
BAD(mut_truncated_tail, "mut_truncated_tail")
BAD(mut_footer_len_overflow, "mut_footer_len_overflow")
BAD(mut_codec_lzo, "mut_codec_lzo")
BAD(mut_data_page_offset_oob, "mut_data_page_offset_oob")
BAD(mut_page_header_garbage, "mut_page_header_garbage")

/* ---- unit pieces ------------------------------------------------------------------------ */

Test(import, hive_unescape)
{
    char out[64];
    cr_assert_eq(tl_import_unescape("A%2FB%20c", 9, out, sizeof out), 5);
    cr_assert_str_eq(out, "A/B c");
    cr_assert_eq(tl_import_unescape("%2f%zz%4", 8, out, sizeof out), 6);
    cr_assert_str_eq(out, "/%zz%4");
    cr_assert_eq(tl_import_unescape("", 0, out, sizeof out), 0);
    cr_assert_str_eq(out, "");
}

Test(import, hive_infer_types)
{
    const char *d[] = {"2024-01-02", NULL, "1999-12-31"};
    cr_assert_eq(tl_import_hive_infer(d, 3), TL_DATE);
    const char *i[] = {"12", "-3", NULL};
    cr_assert_eq(tl_import_hive_infer(i, 3), TL_INT64);
    const char *s[] = {"12", "x"};
    cr_assert_eq(tl_import_hive_infer(s, 2), TL_STRING);
    const char *bad_date[] = {"2024-02-30"};
    cr_assert_eq(tl_import_hive_infer(bad_date, 1), TL_STRING);
    const char *big[] = {"99999999999999999999"};
    cr_assert_eq(tl_import_hive_infer(big, 1), TL_STRING);
}

Test(import, hive_parse_values)
{
    tl_import_const k;
    tl_error err = {0};
    cr_assert_eq(tl_import_parse_value("-128", TL_INT8, &k, &err), TL_OK);
    cr_assert_eq((int8_t)k.bytes[0], -128);
    cr_assert_eq(tl_import_parse_value("128", TL_INT8, &k, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "found '128'"), "%s", err.msg);
    cr_assert_eq(tl_import_parse_value("-1", TL_UINT16, &k, &err), TL_EINVAL);
    cr_assert_eq(tl_import_parse_value("2024-03-01", TL_DATE, &k, &err), TL_OK);
    int32_t day;
    memcpy(&day, k.bytes, 4);
    cr_assert_eq(day, 19783);
    cr_assert_eq(tl_import_parse_value("2024-03-01T01:02:03.5Z", TL_TIMESTAMP, &k, &err), TL_OK);
    int64_t ns;
    memcpy(&ns, k.bytes, 8);
    cr_assert_eq(ns, INT64_C(19783) * 86400000000000 + INT64_C(3723500000000));
    cr_assert_eq(tl_import_parse_value("12345", TL_TIMESTAMP, &k, &err), TL_OK);
    memcpy(&ns, k.bytes, 8);
    cr_assert_eq(ns, 12345);
    cr_assert_eq(tl_import_parse_value("yes", TL_BOOL, &k, &err), TL_EINVAL);
    cr_assert_eq(tl_import_parse_value("1.5", TL_FLOAT64, &k, &err), TL_OK);
    double f;
    memcpy(&f, k.bytes, 8);
    cr_assert_eq(f, 1.5);
    cr_assert_eq(tl_import_parse_value("a b", TL_STRING, &k, &err), TL_OK);
    cr_assert_eq(k.str_len, 3);
}

Test(import, conversion_rules)
{
    tl_pq_colinfo c;
    memset(&c, 0, sizeof c);
    c.name = "x";
    c.desc = "INT32";
    tl_error err = {0};
    struct { tl_type s, d; int ok; } cases[] = {
        {TL_INT8, TL_INT64, 1},     {TL_INT32, TL_INT64, 1},   {TL_INT64, TL_INT32, 0},
        {TL_UINT8, TL_INT16, 1},    {TL_UINT32, TL_INT64, 1},  {TL_UINT32, TL_INT32, 0},
        {TL_UINT16, TL_UINT64, 1},  {TL_INT16, TL_UINT32, 0},  {TL_INT32, TL_UINT32, 0},
        {TL_UINT64, TL_INT64, 0},   {TL_FLOAT32, TL_FLOAT64, 1}, {TL_FLOAT64, TL_FLOAT32, 0},
        {TL_INT32, TL_FLOAT64, 0},  {TL_BOOL, TL_UINT8, 0},    {TL_UINT8, TL_BOOL, 0},
        {TL_DATE, TL_TIMESTAMP, 0}, {TL_TIMESTAMP, TL_TIMESTAMP, 1}, {TL_DATE, TL_DATE, 1},
        {TL_STRING, TL_STRING, 1},  {TL_INT64, TL_TIMESTAMP, 0}, {TL_TIMESTAMP, TL_INT64, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c.type = cases[i].s;
        int rc = tl_import_convertible(&c, "y", cases[i].d, &err);
        cr_assert_eq(rc, cases[i].ok ? TL_OK : TL_EINVAL, "%s -> %s", tl_type_name(cases[i].s),
                     tl_type_name(cases[i].d));
        if (!cases[i].ok) {
            cr_assert(strstr(err.msg, "column 'x'") && strstr(err.msg, "column 'y'"), "%s",
                      err.msg);
        }
    }
    c.is_decimal = 1;
    c.type = TL_FLOAT64;
    cr_assert_eq(tl_import_convertible(&c, "y", TL_FLOAT64, &err), TL_OK);
    cr_assert_eq(tl_import_convertible(&c, "y", TL_FLOAT32, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "DECIMAL"), "%s", err.msg);
}

Test(import, list_inputs_sorted_hidden_skipped)
{
    /* empty files named *.parquet are enough for listing */
    const char *files[] = {"b/sym=A%2FB/n=2/z.parquet", "b/sym=A%2FB/n=2/a.parquet",
                           "b/sym=C/n=__HIVE_DEFAULT_PARTITION__/x.parquet",
                           "b/_delta_log/y.parquet",     "b/.hidden/y.parquet",
                           "b/sym=C/.y.parquet",         "b/sym=C/_y.parquet",
                           "b/sym=C/notes.txt",          "a.parquet"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = pathf("%s/%s", dir, files[i]);
        char d2[1024];
        snprintf(d2, sizeof d2, "%s", p);
        *strrchr(d2, '/') = '\0';
        mkdir_p(d2);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f);
        fclose(f);
    }
    const char *in[2] = {pathf("%s/b", dir), pathf("%s/a.parquet", dir)};
    tl_import_list l;
    tl_error err = {0};
    cr_assert_eq(tl_import_list_inputs(in, 2, &l, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(l.n, 4);
    cr_assert(strstr(l.files[0].path, "sym=A%2FB/n=2/a.parquet"), "%s", l.files[0].path);
    cr_assert(strstr(l.files[1].path, "sym=A%2FB/n=2/z.parquet"), "%s", l.files[1].path);
    cr_assert(strstr(l.files[2].path, "n=__HIVE_DEFAULT_PARTITION__/x.parquet"));
    cr_assert(strstr(l.files[3].path, "/a.parquet"));
    cr_assert_eq(l.files[0].n_hive, 2);
    cr_assert_str_eq(l.files[0].hive[0].key, "sym");
    cr_assert_str_eq(l.files[0].hive[0].value, "A/B");
    cr_assert_str_eq(l.files[0].hive[1].value, "2");
    cr_assert_null(l.files[2].hive[1].value);
    cr_assert_eq(l.files[3].n_hive, 0);
    tl_import_list_free(&l);

    const char *missing[1] = {pathf("%s/nope", dir)};
    cr_assert_eq(tl_import_list_inputs(missing, 1, &l, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "nope"), "%s", err.msg);
    mkdir_p(pathf("%s/empty", dir));
    const char *empty[1] = {pathf("%s/empty", dir)};
    cr_assert_eq(tl_import_list_inputs(empty, 1, &l, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "no *.parquet"), "%s", err.msg);
}

/* ---- generated inputs ------------------------------------------------------------------- */

/* A tick-like file: n rows of one symbol starting at timestamp t0. */
static void write_ticks(const char *path, const char *sym, int64_t t0, uint32_t n, int salt)
{
    tl_coldef defs[6] = {{"timestamp", TL_TIMESTAMP}, {"symbol", TL_STRING},
                         {"expiry", TL_DATE},         {"opt_type", TL_STRING},
                         {"strike", TL_FLOAT32},      {"price", TL_FLOAT64}};
    int64_t *ts = malloc(n * sizeof *ts);
    uint32_t *so = malloc((n + 1) * sizeof *so), *oo = malloc((n + 1) * sizeof *oo);
    size_t sl = strlen(sym);
    uint8_t *sd = malloc(n * sl + 1), *od = malloc(n * 2 + 1);
    int32_t *ex = malloc(n * sizeof *ex);
    float *st = malloc(n * sizeof *st);
    double *px = malloc(n * sizeof *px);
    uint8_t *pv = calloc((n + 7) / 8 + 1, 1);
    so[0] = oo[0] = 0;
    for (uint32_t r = 0; r < n; r++) {
        /* descending timestamps, so the import must sort */
        ts[r] = t0 + (int64_t)(n - r) * 1000000 + salt;
        memcpy(sd + r * sl, sym, sl);
        so[r + 1] = (uint32_t)((r + 1) * sl);
        memcpy(od + r * 2, (r + salt) % 2 ? "CE" : "PE", 2);
        oo[r + 1] = (r + 1) * 2;
        ex[r] = 20000 + (int32_t)((r + (uint32_t)salt) % 3);
        st[r] = (float)(100 * ((r * 7 + (uint32_t)salt) % 5));
        px[r] = (double)r / 4.0;
        if (r % 5 != 3)
            pv[r / 8] |= (uint8_t)(1u << (r % 8));
    }
    tl_colvec cols[6] = {{.values = ts},
                         {.offsets = so, .data = sd},
                         {.values = ex},
                         {.offsets = oo, .data = od},
                         {.values = st},
                         {.values = px, .validity = pv}};
    uint8_t opt[6] = {0, 0, 0, 0, 0, 1};
    write_pq(path, defs, 6, opt, cols, n, 0);
    free(ts), free(so), free(oo), free(sd), free(od), free(ex), free(st), free(px), free(pv);
}

Test(import, create_infers_tick_partition_spec)
{
    const char *f = pathf("%s/a.parquet", dir);
    write_ticks(f, "NIFTY", INT64_C(1700000000000000000), 1000, 0);
    const char *tpath = pathf("%s/t", dir);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    tl_import_result res;
    tl_error err = {0};
    const char *in[1] = {f};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.created, 1);
    cr_assert_eq(res.rows, 1000);
    cr_assert_eq(res.append.n_rows, 1000);
    cr_assert_eq(res.append.version, 1);
    rowset rs = {0};
    tinfo ti;
    read_table(tpath, NULL, NULL, 0, &rs, &ti);
    cr_assert_str_eq(ti.symbol_column, "symbol");
    cr_assert_str_eq(ti.day_column, "timestamp");
    cr_assert_str_eq(ti.sort_key, "expiry,opt_type,strike,timestamp");
    cr_assert_eq(ti.nf, 6);
    cr_assert_eq(ti.fields[0].type, TL_TIMESTAMP);
    cr_assert_eq(ti.fields[4].type, TL_FLOAT32);
    cr_assert_eq(ti.fields[0].nullable, 0);
    cr_assert_eq(ti.fields[5].nullable, 1);
    cr_assert_eq(rs.n, 1000);
    /* sorted by the key within the partition */
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    tl_reader *r;
    const char *cols[2] = {"expiry", "timestamp"};
    cr_assert_eq(tl_reader_open(s, NULL, cols, 2, &r, &err), TL_OK);
    int32_t pe = INT32_MIN;
    tl_batch b;
    while (tl_reader_next(r, &b, &err) == TL_OK && b.n_rows)
        for (uint32_t i = 0; i < b.n_rows; i++) {
            int32_t e = ((const int32_t *)b.cols[0].values)[i];
            cr_assert_geq(e, pe);
            pe = e;
        }
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
    rowset_free(&rs);
    tinfo_free(&ti);
}

Test(import, create_infers_day_only_and_none)
{
    tl_coldef defs[2] = {{"ts", TL_TIMESTAMP}, {"v", TL_INT32}};
    int64_t ts[3] = {INT64_C(86400000000000) * 2 + 5, 7, INT64_C(86400000000000) + 1};
    int32_t v[3] = {1, 2, 3};
    tl_colvec cols[2] = {{.values = ts}, {.values = v}};
    const char *f = pathf("%s/a.parquet", dir);
    write_pq(f, defs, 2, NULL, cols, 3, 0);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    tl_error err = {0};
    const char *in[1] = {f};
    tl_import_result res;
    cr_assert_eq(tl_import_parquet(pathf("%s/t1", dir), in, 1, &o, &res, &err), TL_OK, "%s",
                 err.msg);
    rowset rs = {0};
    tinfo ti;
    read_table(pathf("%s/t1", dir), NULL, NULL, 0, &rs, &ti);
    cr_assert_null(ti.symbol_column);
    cr_assert_str_eq(ti.day_column, "ts");
    cr_assert_str_eq(ti.sort_key, "ts");
    cr_assert_eq(ti.n_partitions, 3);
    cr_assert_eq(ti.fields[0].nullable, 1, "optional columns are nullable");
    rowset_free(&rs);
    tinfo_free(&ti);

    /* renamed away from the candidate names: no partitions, no sort key */
    tl_import_map m[1] = {{"ts", "when"}};
    o.map = m;
    o.n_map = 1;
    cr_assert_eq(tl_import_parquet(pathf("%s/t2", dir), in, 1, &o, &res, &err), TL_OK, "%s",
                 err.msg);
    read_table(pathf("%s/t2", dir), NULL, NULL, 0, &rs, &ti);
    cr_assert_null(ti.day_column);
    cr_assert_str_eq(ti.sort_key, "");
    cr_assert_str_eq(ti.fields[0].name, "when");
    /* unpartitioned, unsorted: file order kept */
    cr_assert_eq(rs.n, 3);
    cr_assert(strstr(rs.rows[0], "172800000000005"), "%s", rs.rows[0]);
    rowset_free(&rs);
    tinfo_free(&ti);

    /* explicit options */
    o.map = NULL;
    o.n_map = 0;
    const char *sk[2] = {"v", "ts"};
    o.sort_key = sk;
    o.n_sort_key = 2;
    o.day_column = "ts";
    cr_assert_eq(tl_import_parquet(pathf("%s/t3", dir), in, 1, &o, &res, &err), TL_OK, "%s",
                 err.msg);
    read_table(pathf("%s/t3", dir), NULL, NULL, 0, &rs, &ti);
    cr_assert_str_eq(ti.sort_key, "v,ts");
    rowset_free(&rs);
    tinfo_free(&ti);

    /* a symbol column that is not a string: create fails, nothing left */
    o.symbol_column = "v";
    cr_assert_eq(tl_import_parquet(pathf("%s/t4", dir), in, 1, &o, &res, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'v'"), "%s", err.msg);
    cr_assert_not(exists(pathf("%s/t4", dir)));
}

/* A table with columns x int64, s string nullable, f float64 nullable. */
static void make_table(const char *tpath, int x_nullable)
{
    tl_field fl[3] = {{"x", TL_INT64, x_nullable}, {"s", TL_STRING, 1}, {"f", TL_FLOAT64, 1}};
    tl_table_spec spec = {.fields = fl, .n_fields = 3};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
}

Test(import, map_renames_and_drops)
{
    const char *tpath = pathf("%s/t", dir);
    make_table(tpath, 0);
    tl_coldef defs[3] = {{"a", TL_INT32}, {"junk", TL_INT8}, {"f", TL_FLOAT32}};
    int32_t a[4] = {1, -2, 3, INT32_MIN};
    int8_t j[4] = {0};
    float f[4] = {0.5f, -0.0f, NAN, INFINITY};
    tl_colvec cols[3] = {{.values = a}, {.values = j}, {.values = f}};
    const char *file = pathf("%s/a.parquet", dir);
    write_pq(file, defs, 3, (uint8_t[]){0, 0, 0}, cols, 4, 0);
    tl_import_map m[2] = {{"a", "x"}, {"junk", ""}};
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.map = m;
    o.n_map = 2;
    tl_error err = {0};
    tl_import_result res;
    const char *in[1] = {file};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.rows, 4);
    rowset rs = {0};
    read_table(tpath, NULL, NULL, 0, &rs, NULL);
    cr_assert_eq(rs.n, 4);
    /* int32 -> int64, float32 -> float64 exactly, s all null */
    cr_assert_str_eq(rs.rows[0], "1\x1f\\N\x1f" "d3fe0000000000000");
    cr_assert_str_eq(rs.rows[1], "-2\x1f\\N\x1f" "d8000000000000000");
    cr_assert_str_eq(rs.rows[2], "3\x1f\\N\x1fnan");
    cr_assert_str_eq(rs.rows[3], "-2147483648\x1f\\N\x1f" "d7ff0000000000000");
    rowset_free(&rs);

    /* a map whose source is in no file */
    tl_import_map m2[3] = {{"a", "x"}, {"junk", NULL}, {"nothere", "s"}};
    o.map = m2;
    o.n_map = 3;
    int64_t v0 = table_version(tpath);
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "nothere"), "%s", err.msg);
    cr_assert_eq(table_version(tpath), v0);
}

Test(import, unknown_column_and_narrowing_are_errors)
{
    const char *tpath = pathf("%s/t", dir);
    make_table(tpath, 1);
    int64_t v0 = table_version(tpath);
    tl_coldef d1[2] = {{"x", TL_INT64}, {"extra", TL_INT32}};
    int64_t x[2] = {1, 2};
    int32_t e[2] = {3, 4};
    tl_colvec c1[2] = {{.values = x}, {.values = e}};
    const char *f1 = pathf("%s/extra.parquet", dir);
    write_pq(f1, d1, 2, NULL, c1, 2, 0);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    tl_error err = {0};
    const char *in1[1] = {f1};
    cr_assert_eq(tl_import_parquet(tpath, in1, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "extra.parquet") && strstr(err.msg, "column 'extra'"), "%s",
              err.msg);
    cr_assert(strstr(err.msg, "--map extra="), "%s", err.msg);

    /* float64 -> x int64: no exact conversion; named file and columns */
    tl_coldef d2[1] = {{"x", TL_FLOAT64}};
    double xf[1] = {1.0};
    tl_colvec c2[1] = {{.values = xf}};
    const char *f2 = pathf("%s/narrow.parquet", dir);
    write_pq(f2, d2, 1, NULL, c2, 1, 0);
    const char *in2[2] = {pathf("%s/a_ok.parquet", dir), f2};
    tl_coldef d3[1] = {{"x", TL_INT16}};
    int16_t x16[1] = {7};
    tl_colvec c3[1] = {{.values = x16}};
    write_pq(in2[0], d3, 1, NULL, c3, 1, 0);
    cr_assert_eq(tl_import_parquet(tpath, in2, 2, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "narrow.parquet") && strstr(err.msg, "column 'x'") &&
                  strstr(err.msg, "float64") && strstr(err.msg, "int64"),
              "%s", err.msg);
    cr_assert_eq(table_version(tpath), v0, "nothing committed");

    /* the table missing without --create */
    cr_assert_eq(tl_import_parquet(pathf("%s/none", dir), in1, 1, &o, NULL, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "--create"), "%s", err.msg);
}

Test(import, null_into_non_nullable_names_row)
{
    const char *tpath = pathf("%s/t", dir);
    make_table(tpath, 0);
    int64_t v0 = table_version(tpath);
    tl_coldef d[1] = {{"x", TL_INT64}};
    enum { N = 70000 }; /* crosses a 65536-row slice */
    int64_t *x = calloc(N, sizeof *x);
    uint8_t *valid = malloc(N / 8 + 1);
    memset(valid, 0xFF, N / 8 + 1);
    valid[66000 / 8] &= (uint8_t)~(1u << (66000 % 8));
    tl_colvec c[1] = {{.values = x, .validity = valid}};
    const char *f = pathf("%s/nulls.parquet", dir);
    write_pq(f, d, 1, (uint8_t[]){1}, c, N, 0);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    tl_error err = {0};
    const char *in[1] = {f};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "nulls.parquet") && strstr(err.msg, "row group 0") &&
                  strstr(err.msg, "column 'x'") && strstr(err.msg, "row 66000"),
              "%s", err.msg);
    cr_assert_eq(table_version(tpath), v0);
    /* the file lacks a non-nullable column: caught before reading data */
    tl_coldef d2[1] = {{"s", TL_STRING}};
    uint32_t so[2] = {0, 1};
    tl_colvec c2[1] = {{.offsets = so, .data = (const uint8_t *)"a"}};
    const char *f2 = pathf("%s/nox.parquet", dir);
    write_pq(f2, d2, 1, NULL, c2, 1, 0);
    const char *in2[1] = {f2};
    cr_assert_eq(tl_import_parquet(tpath, in2, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "nox.parquet") && strstr(err.msg, "'x'") &&
                  strstr(err.msg, "missing"),
              "%s", err.msg);
    free(x);
    free(valid);
}

Test(import, missing_nullable_column_is_null_and_timestamps_convert)
{
    const char *tpath = pathf("%s/t", dir);
    tl_field fl[3] = {{"ts", TL_TIMESTAMP, 0}, {"n", TL_INT32, 1}, {"u", TL_UINT64, 1}};
    tl_table_spec spec = {.fields = fl, .n_fields = 3};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    /* microsecond file (the writer floors ns to us) + uint8 -> uint64 */
    tl_coldef d[2] = {{"ts", TL_TIMESTAMP}, {"u", TL_UINT8}};
    int64_t ts[2] = {INT64_C(1700000000123456789), INT64_C(-1500)};
    uint8_t u[2] = {255, 0};
    tl_colvec c[2] = {{.values = ts}, {.values = u}};
    const char *f = pathf("%s/us.parquet", dir);
    write_pq(f, d, 2, (uint8_t[]){0, 0}, c, 2, 1);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {f};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_OK, "%s", err.msg);
    rowset rs = {0};
    read_table(tpath, NULL, NULL, 0, &rs, NULL);
    cr_assert_eq(rs.n, 2);
    cr_assert_str_eq(rs.rows[0], "1700000000123456000\x1f\\N\x1f" "255");
    cr_assert_str_eq(rs.rows[1], "-2000\x1f\\N\x1f" "0");
    rowset_free(&rs);
}

/* PQ-I15: into a timestamp_us column MICROS values go as they are, NANOS
 * ones when they are whole microseconds, else the import fails naming
 * file, row group, column, row and value, and commits nothing. */
Test(import, timestamp_us_column_takes_micros_and_whole_nanos)
{
    const char *tpath = pathf("%s/t", dir);
    tl_field fl[1] = {{"ts", TL_TIMESTAMP_US, 1}};
    tl_table_spec spec = {.fields = fl, .n_fields = 1};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_coldef d[1] = {{"ts", TL_TIMESTAMP}};
    int64_t ts[3] = {INT64_C(1700000000123456000), INT64_C(-1000), INT64_C(7)};
    uint8_t valid = 0x05; /* row 1 null */
    tl_colvec c[1] = {{.values = ts, .validity = &valid}};
    const char *fn = pathf("%s/ns.parquet", dir), *fu = pathf("%s/us.parquet", dir);
    write_pq(fn, d, 1, (uint8_t[]){1}, c, 2, 0); /* NANOS, rows 0-1 */
    ts[2] = INT64_C(-1500);
    write_pq(fu, d, 1, (uint8_t[]){1}, c, 3, 1); /* MICROS (floored): 3 rows */
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[2] = {fn, fu};
    cr_assert_eq(tl_import_parquet(tpath, in, 2, &o, NULL, &err), TL_OK, "%s", err.msg);
    rowset rs = {0};
    read_table(tpath, NULL, NULL, 0, &rs, NULL);
    cr_assert_eq(rs.n, 5);
    cr_assert_str_eq(rs.rows[0], "1700000000123456");
    cr_assert_str_eq(rs.rows[1], "\\N");
    cr_assert_str_eq(rs.rows[2], "1700000000123456");
    cr_assert_str_eq(rs.rows[3], "\\N");
    cr_assert_str_eq(rs.rows[4], "-2");
    rowset_free(&rs);
    /* a NANOS value below the microsecond */
    int64_t v0 = table_version(tpath);
    ts[1] = INT64_C(1700000000123456789);
    valid = 0x07;
    write_pq(fn, d, 1, (uint8_t[]){1}, c, 3, 0);
    const char *in1[1] = {fn};
    cr_assert_eq(tl_import_parquet(tpath, in1, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "ns.parquet"), "%s", err.msg);
    cr_assert(strstr(err.msg, "row group 0, column 'ts'"), "%s", err.msg);
    cr_assert(strstr(err.msg, "row 1: timestamp 1700000000123456789 ns has nanoseconds below "
                              "the microsecond"), "%s", err.msg);
    cr_assert_eq(table_version(tpath), v0);
    /* other types still do not go into it */
    tl_coldef di[1] = {{"ts", TL_INT64}};
    write_pq(fn, di, 1, (uint8_t[]){1}, c, 3, 0);
    cr_assert_eq(tl_import_parquet(tpath, in1, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "cannot be stored in column 'ts' (timestamp_us)"), "%s", err.msg);
}

/* A timestamp_us sort key orders rows as int64 (sortkey.c), nulls first. */
Test(import, timestamp_us_sort_key)
{
    const char *tpath = pathf("%s/t", dir);
    tl_field fl[1] = {{"ts", TL_TIMESTAMP_US, 1}};
    const char *sk[1] = {"ts"};
    tl_table_spec spec = {.fields = fl, .n_fields = 1, .sort_key = sk, .n_sort_key = 1};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_coldef d[1] = {{"ts", TL_TIMESTAMP_US}};
    int64_t v[6] = {5, -3, INT64_MAX, INT64_MIN, 0, 7};
    uint8_t valid = 0x2f; /* row 4 null */
    tl_colvec c[1] = {{.values = v, .validity = &valid}};
    const char *f = pathf("%s/a.parquet", dir);
    write_pq(f, d, 1, (uint8_t[]){1}, c, 6, 0);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {f};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_OK, "%s", err.msg);
    rowset rs = {0};
    read_table(tpath, NULL, NULL, 0, &rs, NULL);
    static const char *const want[6] = {"\\N", "-9223372036854775808", "-3", "5", "7",
                                        "9223372036854775807"};
    cr_assert_eq(rs.n, 6);
    for (int i = 0; i < 6; i++)
        cr_assert_str_eq(rs.rows[i], want[i], "row %d", i);
    rowset_free(&rs);
}

/* PQ-I16: --create keeps timestamp (ns) for MICROS values that fit, and
 * gives timestamp_us when one does not (statistics or values). */
Test(import, create_infers_timestamp_us_only_beyond_ns)
{
    tl_coldef d[1] = {{"t", TL_TIMESTAMP_US}};
    int64_t v[2] = {INT64_C(1700000000123456), INT64_C(-5)};
    tl_colvec c[1] = {{.values = v}};
    const char *f = pathf("%s/a.parquet", dir);
    write_pq(f, d, 1, (uint8_t[]){0}, c, 2, 0);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    const char *in[1] = {f};
    tl_error err = {0};
    cr_assert_eq(tl_import_parquet(pathf("%s/t1", dir), in, 1, &o, NULL, &err), TL_OK, "%s",
                 err.msg);
    tinfo ti;
    rowset rs = {0};
    read_table(pathf("%s/t1", dir), NULL, NULL, 0, &rs, &ti);
    cr_assert_eq(ti.fields[0].type, TL_TIMESTAMP);
    cr_assert_str_eq(rs.rows[0], "1700000000123456000");
    rowset_free(&rs);
    tinfo_free(&ti);
    v[1] = INT64_C(-9000000000000000000); /* about year -283000: beyond ns */
    write_pq(f, d, 1, (uint8_t[]){0}, c, 2, 0);
    cr_assert_eq(tl_import_parquet(pathf("%s/t2", dir), in, 1, &o, NULL, &err), TL_OK, "%s",
                 err.msg);
    read_table(pathf("%s/t2", dir), NULL, NULL, 0, &rs, &ti);
    cr_assert_eq(ti.fields[0].type, TL_TIMESTAMP_US);
    cr_assert_null(ti.day_column);
    cr_assert_str_eq(rs.rows[0], "1700000000123456");
    cr_assert_str_eq(rs.rows[1], "-9000000000000000000");
    rowset_free(&rs);
    tinfo_free(&ti);
}

/* The generated corpus files' MILLIS and MICROS columns into timestamp_us
 * columns equal the expected CSV (MILLIS x 1000 exactly). */
Test(import, gen_tick_into_timestamp_us_columns)
{
    if (!have_corpus())
        cr_skip_test("no %s", CORPUS);
    const char *rel = "good/gen_tick_duckdb_v1_snappy.parquet";
    tl_pq_file *f = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_pq_open(pathf("%s/%s", CORPUS, rel), &f, &err), TL_OK, "%s", err.msg);
    tl_field fl[64];
    uint32_t nc = tl_pq_n_cols(f), n_us = 0;
    cr_assert_leq(nc, 64);
    for (uint32_t i = 0; i < nc; i++) {
        const tl_pq_colinfo *ci = tl_pq_col(f, i);
        tl_type t = ci->type;
        if (t == TL_TIMESTAMP && ci->ts_unit != TL_PQ_NANOS)
            t = TL_TIMESTAMP_US, n_us++;
        fl[i] = (tl_field){ci->name, t, 1};
    }
    cr_assert_eq(n_us, 2, "ts_utc (MICROS) and ts_ms (MILLIS)");
    tl_table_spec spec = {.fields = fl, .n_fields = nc};
    const char *tpath = pathf("%s/t", dir);
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_pq_close(f);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    const char *in[1] = {pathf("%s/%s", CORPUS, rel)};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_OK, "%s", err.msg);
    corpus_compare(rel, tpath);
}

Test(import, idempotent_with_app_id)
{
    const char *f = pathf("%s/a.parquet", dir);
    write_ticks(f, "BANK", INT64_C(1700000000000000000), 500, 1);
    const char *tpath = pathf("%s/t", dir);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    o.append.app_id = "loader";
    o.append.app_version = 7;
    tl_import_result res;
    tl_error err = {0};
    const char *in[1] = {f};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.append.noop, 0);
    cr_assert_eq(res.append.version, 1);
    cr_assert_eq(res.append.n_rows, 500);
    /* the same (app_id, version) again, and an older one: no-ops */
    for (int64_t v = 7; v >= 6; v--) {
        o.append.app_version = v;
        cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(res.append.noop, 1);
        cr_assert_eq(res.append.version, 1);
        cr_assert_eq(res.append.n_rows, 0);
        cr_assert_eq(res.created, 0);
    }
    cr_assert_eq(table_version(tpath), 1);
    o.append.app_version = 8;
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.append.noop, 0);
    cr_assert_eq(res.append.version, 2);
    rowset rs = {0};
    read_table(tpath, NULL, NULL, 0, &rs, NULL);
    cr_assert_eq(rs.n, 1000);
    rowset_free(&rs);
}

typedef struct prog {
    uint64_t last_done, total, calls;
    int monotonic;
} prog;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    prog *p = ctx;
    if (done < p->last_done)
        p->monotonic = 0;
    p->last_done = done;
    p->total = total;
    p->calls++;
}

Test(import, many_small_files_one_commit)
{
    /* 200 per-contract files under Hive directories symbol=S/ */
    const char *syms[4] = {"AAA", "BBB", "C/D", "EEE"};
    uint64_t total_rows = 0;
    for (int i = 0; i < 200; i++) {
        const char *sym = syms[i % 4];
        const char *d = pathf("%s/in/symbol=%s", dir, i % 4 == 2 ? "C%2FD" : sym);
        mkdir_p(d);
        uint32_t n = 20 + (uint32_t)(i % 7);
        /* two days per symbol */
        write_ticks(pathf("%s/c%03d.parquet", d, i), sym,
                    INT64_C(1700000000000000000) + ((i / 4) % 2) * INT64_C(86400000000000), n,
                    i);
        total_rows += n;
    }
    const char *tpath = pathf("%s/t", dir);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    o.append.max_memory = 64 << 10; /* spills along the way */
    prog p = {.monotonic = 1};
    o.append.progress = on_progress;
    o.append.progress_ctx = &p;
    tl_import_result res;
    tl_error err = {0};
    const char *in[1] = {pathf("%s/in", dir)};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.files, 200);
    cr_assert_eq(res.rows, total_rows);
    cr_assert_eq(res.append.version, 1, "one commit");
    cr_assert_eq(table_version(tpath), 1);
    cr_assert_eq(res.append.n_partitions, 8);
    cr_assert(p.monotonic);
    cr_assert_eq(p.last_done, p.total);
    cr_assert_eq(p.total, res.bytes);
    rowset rs = {0};
    tinfo ti;
    read_table(tpath, NULL, NULL, 0, &rs, &ti);
    cr_assert_eq(rs.n, total_rows);
    cr_assert_eq(ti.n_partitions, 8);
    cr_assert_str_eq(ti.symbol_column, "symbol");
    rowset_free(&rs);
    tinfo_free(&ti);
    /* a symbol from the Hive directory matches the file's own column */
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    int found = 0;
    for (size_t i = 0; i < tl_snapshot_n_partitions(s); i++) {
        tl_partition_info pi;
        tl_snapshot_partition(s, i, &pi);
        found += pi.has_symbol && strcmp(pi.symbol, "C/D") == 0;
    }
    cr_assert_eq(found, 2);
    tl_snapshot_close(s);
    tl_table_close(t);
}

Test(import, hive_columns_typed_and_null)
{
    tl_coldef d[1] = {{"v", TL_INT32}};
    int32_t v[2] = {1, 2};
    tl_colvec c[1] = {{.values = v}};
    const char *dirs[3] = {"in/region=eu%20west/day=2024-01-02/n=5",
                           "in/region=us/day=2024-01-03/n=__HIVE_DEFAULT_PARTITION__",
                           "in/region=us/day=2024-01-04/n=-7"};
    for (int i = 0; i < 3; i++) {
        const char *p = pathf("%s/%s", dir, dirs[i]);
        mkdir_p(p);
        write_pq(pathf("%s/p.parquet", p), d, 1, NULL, c, 2, 0);
    }
    const char *tpath = pathf("%s/t", dir);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    tl_error err = {0};
    const char *in[1] = {pathf("%s/in", dir)};
    cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_OK, "%s", err.msg);
    rowset rs = {0};
    tinfo ti;
    read_table(tpath, NULL, NULL, 0, &rs, &ti);
    cr_assert_eq(ti.nf, 4);
    cr_assert_str_eq(ti.fields[1].name, "region");
    cr_assert_eq(ti.fields[1].type, TL_STRING);
    cr_assert_eq(ti.fields[2].type, TL_DATE);
    cr_assert_eq(ti.fields[3].type, TL_INT64);
    cr_assert_eq(ti.fields[3].nullable, 1);
    cr_assert_eq(ti.fields[1].nullable, 0);
    cr_assert_eq(rs.n, 6);
    cr_assert_str_eq(rs.rows[0], "1\x1fs:eu west\x1f" "19724\x1f" "5");
    cr_assert_str_eq(rs.rows[2], "1\x1fs:us\x1f" "19725\x1f\\N");
    cr_assert_str_eq(rs.rows[5], "2\x1fs:us\x1f" "19726\x1f-7");
    rowset_free(&rs);
    tinfo_free(&ti);

    /* into the existing table: a Hive value that does not parse */
    const char *p = pathf("%s/in2/region=x/day=notadate/n=1", dir);
    mkdir_p(p);
    write_pq(pathf("%s/p.parquet", p), d, 1, NULL, c, 2, 0);
    const char *in2[1] = {pathf("%s/in2", dir)};
    o.create = 0;
    cr_assert_eq(tl_import_parquet(tpath, in2, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "day=notadate") && strstr(err.msg, "p.parquet"), "%s", err.msg);
    cr_assert_eq(table_version(tpath), 1);
    /* an unknown Hive key is an error unless mapped away */
    p = pathf("%s/in3/other=1", dir);
    mkdir_p(p);
    tl_coldef d3[4] = {{"v", TL_INT32}, {"region", TL_STRING}, {"day", TL_DATE}, {"n", TL_INT64}};
    int32_t dd[2] = {1, 2};
    int64_t nn[2] = {1, 2};
    uint32_t ro[3] = {0, 1, 2};
    tl_colvec c3[4] = {{.values = v}, {.offsets = ro, .data = (const uint8_t *)"ab"},
                       {.values = dd}, {.values = nn}};
    write_pq(pathf("%s/p.parquet", p), d3, 4, NULL, c3, 2, 0);
    const char *in3[1] = {pathf("%s/in3", dir)};
    cr_assert_eq(tl_import_parquet(tpath, in3, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'other'") && strstr(err.msg, "--map other="), "%s", err.msg);
    tl_import_map m[1] = {{"other", NULL}};
    o.map = m;
    o.n_map = 1;
    cr_assert_eq(tl_import_parquet(tpath, in3, 1, &o, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(table_version(tpath), 2);
}

Test(import, failed_create_leaves_nothing_and_existing_dir_kept)
{
    /* the second file's timestamps cannot convert: nanosecond file into a
     * table inferred as ... the same; use a type clash instead */
    tl_coldef d1[1] = {{"v", TL_INT32}};
    tl_coldef d2[1] = {{"v", TL_STRING}};
    int32_t v[1] = {1};
    uint32_t so[2] = {0, 1};
    tl_colvec c1[1] = {{.values = v}};
    tl_colvec c2[1] = {{.offsets = so, .data = (const uint8_t *)"x"}};
    mkdir_p(pathf("%s/in", dir));
    write_pq(pathf("%s/in/a.parquet", dir), d1, 1, NULL, c1, 1, 0);
    write_pq(pathf("%s/in/b.parquet", dir), d2, 1, NULL, c2, 1, 0);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    tl_error err = {0};
    const char *in[1] = {pathf("%s/in", dir)};
    cr_assert_eq(tl_import_parquet(pathf("%s/t", dir), in, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "b.parquet") && strstr(err.msg, "column 'v'"), "%s", err.msg);
    cr_assert_not(exists(pathf("%s/t", dir)));
    /* an existing empty directory with a file of the user's stays as it was */
    mkdir_p(pathf("%s/t2", dir));
    FILE *keep = fopen(pathf("%s/t2/README", dir), "w");
    cr_assert_not_null(keep);
    fclose(keep);
    cr_assert_eq(tl_import_parquet(pathf("%s/t2", dir), in, 1, &o, NULL, &err), TL_EINVAL);
    cr_assert(exists(pathf("%s/t2/README", dir)));
    cr_assert_not(exists(pathf("%s/t2/_delta_log", dir)));
}

/* ---- round trip: table -> tl_export_parquet -> import ------------------------------------- */

static const tl_type all_types[] = {TL_BOOL,   TL_INT8,    TL_INT16,   TL_INT32,     TL_INT64,
                                    TL_UINT8,  TL_UINT16,  TL_UINT32,  TL_UINT64,    TL_FLOAT32,
                                    TL_FLOAT64, TL_TIMESTAMP, TL_DATE, TL_STRING,
                                    TL_TIMESTAMP_US};
#define N_TYPES (sizeof all_types / sizeof all_types[0])
#define RT_ROWS 40u

/* A table with one column per type (nullable) plus sym/ts for partitions. */
static void make_all_types_table(const char *tpath, int partitioned)
{
    tl_field fl[N_TYPES + 2];
    char names[N_TYPES][16];
    for (size_t i = 0; i < N_TYPES; i++) {
        snprintf(names[i], sizeof names[i], "c_%s", tl_type_name(all_types[i]));
        fl[i] = (tl_field){names[i], all_types[i], 1};
    }
    fl[N_TYPES] = (tl_field){"symbol", TL_STRING, 0};
    fl[N_TYPES + 1] = (tl_field){"timestamp", TL_TIMESTAMP, 0};
    const char *sk[1] = {"timestamp"};
    tl_table_spec spec = {.fields = fl, .n_fields = N_TYPES + 2,
                          .symbol_column = partitioned ? "symbol" : NULL,
                          .day_column = partitioned ? "timestamp" : NULL,
                          .sort_key = sk, .n_sort_key = 1};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);

    /* values: extremes, NaN, inf, -0, empty string vs null */
    static uint8_t vals[N_TYPES][RT_ROWS * 8];
    static uint8_t valid[N_TYPES][RT_ROWS / 8 + 1];
    static uint32_t soffs[RT_ROWS + 1], symoffs[RT_ROWS + 1];
    static char sdata[RT_ROWS * 8], symdata[RT_ROWS * 4];
    static int64_t tsv[RT_ROWS];
    tl_coldef defs[N_TYPES + 2];
    tl_colvec cols[N_TYPES + 2];
    memset(vals, 0, sizeof vals);
    memset(valid, 0xFF, sizeof valid);
    size_t sl = 0, yl = 0;
    soffs[0] = symoffs[0] = 0;
    for (uint32_t r = 0; r < RT_ROWS; r++) {
        int k = (int)(r % 8);
        for (size_t i = 0; i < N_TYPES; i++) {
            uint8_t *p = vals[i] + r * 8;
            switch (all_types[i]) {
            case TL_BOOL: p[0] = (uint8_t)(r & 1); break;
            case TL_INT8: { int8_t x = k == 0 ? INT8_MIN : k == 1 ? INT8_MAX : (int8_t)r;
                memcpy(vals[i] + r, &x, 1); break; }
            case TL_INT16: { int16_t x = k == 0 ? INT16_MIN : k == 1 ? INT16_MAX : (int16_t)-r;
                memcpy(vals[i] + r * 2, &x, 2); break; }
            case TL_INT32: { int32_t x = k == 0 ? INT32_MIN : k == 1 ? INT32_MAX : (int32_t)r * 1000;
                memcpy(vals[i] + r * 4, &x, 4); break; }
            case TL_INT64: { int64_t x = k == 0 ? INT64_MIN : k == 1 ? INT64_MAX : -(int64_t)r;
                memcpy(vals[i] + r * 8, &x, 8); break; }
            case TL_UINT8: { uint8_t x = k == 1 ? UINT8_MAX : (uint8_t)r;
                memcpy(vals[i] + r, &x, 1); break; }
            case TL_UINT16: { uint16_t x = k == 1 ? UINT16_MAX : (uint16_t)r;
                memcpy(vals[i] + r * 2, &x, 2); break; }
            case TL_UINT32: { uint32_t x = k == 1 ? UINT32_MAX : r;
                memcpy(vals[i] + r * 4, &x, 4); break; }
            case TL_UINT64: { uint64_t x = k == 1 ? UINT64_MAX : k == 2 ? (UINT64_C(1) << 63) : r;
                memcpy(vals[i] + r * 8, &x, 8); break; }
            case TL_FLOAT32: { float x = k == 0 ? NAN : k == 1 ? INFINITY : k == 2 ? -INFINITY
                : k == 3 ? -0.0f : k == 4 ? FLT_MAX : k == 5 ? 1e-45f : (float)r / 3.0f;
                memcpy(vals[i] + r * 4, &x, 4); break; }
            case TL_FLOAT64: { double x = k == 0 ? NAN : k == 1 ? INFINITY : k == 2 ? -INFINITY
                : k == 3 ? -0.0 : k == 4 ? DBL_MAX : k == 5 ? 5e-324 : (double)r / 3.0;
                memcpy(vals[i] + r * 8, &x, 8); break; }
            case TL_TIMESTAMP: { int64_t x = k == 0 ? INT64_MIN + 1 : k == 1 ? INT64_MAX
                : (int64_t)r * 123456789;
                memcpy(vals[i] + r * 8, &x, 8); break; }
            case TL_DATE: { int32_t x = k == 0 ? -719528 : k == 1 ? 2932896 : (int32_t)r;
                memcpy(vals[i] + r * 4, &x, 4); break; }
            case TL_TIMESTAMP_US: { int64_t x = k == 0 ? INT64_MIN : k == 1 ? INT64_MAX
                : k == 2 ? INT64_C(9089380393200000000) : k == 3 ? INT64_C(-62198755200000000)
                : (int64_t)r * 123456789 - 1;
                memcpy(vals[i] + r * 8, &x, 8); break; }
            default: break;
            }
            /* every column has nulls (none in row % 8 == 0..5 pattern) */
            if (k == 6 || (k == 7 && i % 2))
                valid[i][r / 8] &= (uint8_t)~(1u << (r % 8));
        }
        const char *s = k == 0 ? "" : k == 1 ? "a,b\"c" : k == 2 ? "\xc3\xa9t\xc3\xa9" : "zz";
        memcpy(sdata + sl, s, strlen(s));
        sl += strlen(s);
        soffs[r + 1] = (uint32_t)sl;
        const char *sy = r % 3 ? "X" : "Y";
        memcpy(symdata + yl, sy, 1);
        yl += 1;
        symoffs[r + 1] = (uint32_t)yl;
        tsv[r] = INT64_C(1700000000000000000) + (int64_t)(r % 2) * INT64_C(86400000000000) +
                 (int64_t)r;
    }
    for (size_t i = 0; i < N_TYPES; i++) {
        defs[i] = (tl_coldef){fl[i].name, all_types[i]};
        cols[i] = all_types[i] == TL_STRING
                      ? (tl_colvec){.offsets = soffs, .data = (const uint8_t *)sdata,
                                    .validity = valid[i]}
                      : (tl_colvec){.values = vals[i], .validity = valid[i]};
    }
    defs[N_TYPES] = (tl_coldef){"symbol", TL_STRING};
    cols[N_TYPES] = (tl_colvec){.offsets = symoffs, .data = (const uint8_t *)symdata};
    defs[N_TYPES + 1] = (tl_coldef){"timestamp", TL_TIMESTAMP};
    cols[N_TYPES + 1] = (tl_colvec){.values = tsv};
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    tl_batch b = {.n_rows = RT_ROWS, .n_cols = N_TYPES + 2, .defs = defs, .cols = cols};
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
}

static void round_trip(int partitioned, int layout)
{
    const char *src = pathf("%s/src", dir);
    make_all_types_table(src, partitioned);
    tl_table *t;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(src, &t, &err), TL_OK);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    tl_export_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.layout = layout;
    eo.threads = 1;
    const char *dest = pathf("%s/out%s", dir, layout == TL_EXPORT_SINGLE ? ".parquet" : "");
    tl_export_result er;
    memset(&er, 0, sizeof er);
    int rc = tl_export_parquet(s, dest, &eo, &er, &err);
    tl_export_result_free(&er);
    tl_snapshot_close(s);
    tl_table_close(t);
    cr_assert_eq(rc, TL_OK, "export: %s", err.msg);

    const char *dst = pathf("%s/dst", dir);
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    const char *in[1] = {dest};
    tl_import_result res;
    cr_assert_eq(tl_import_parquet(dst, in, 1, &o, &res, &err), TL_OK, "import: %s", err.msg);
    cr_assert_eq(res.rows, RT_ROWS);

    rowset a = {0}, b = {0};
    tinfo ta, tb;
    read_table(src, NULL, NULL, 0, &a, &ta);
    const char *names[N_TYPES + 2];
    for (uint32_t i = 0; i < ta.nf; i++)
        names[i] = ta.fields[i].name;
    read_table(dst, names, NULL, ta.nf, &b, &tb);
    cr_assert_eq(tb.nf, ta.nf, "same columns");
    for (uint32_t i = 0; i < ta.nf; i++) {
        uint32_t k = 0;
        while (k < tb.nf && strcmp(tb.fields[k].name, ta.fields[i].name))
            k++;
        cr_assert_lt(k, tb.nf, "column %s", ta.fields[i].name);
        cr_assert_eq(tb.fields[k].type, ta.fields[i].type, "type of %s", ta.fields[i].name);
    }
    cr_assert_str_eq(tb.symbol_column ? tb.symbol_column : "", "symbol");
    cr_assert_str_eq(tb.day_column ? tb.day_column : "", "timestamp");
    char *d = rowset_diff(&b, &a, 0);
    cr_assert_null(d, "%s", d);
    rowset_free(&a);
    rowset_free(&b);
    tinfo_free(&ta);
    tinfo_free(&tb);
}

Test(import, round_trip_single_file_every_type)
{
    round_trip(0, TL_EXPORT_SINGLE);
}

Test(import, round_trip_partitioned_export_every_type)
{
    round_trip(1, TL_EXPORT_PARTITIONED);
}

/* ---- the decoder thread (PQ-I17) -------------------------------------------------------- */

static void import_ticks_with(const char *tpath, const char *const *in, uint32_t n_in,
                              uint32_t threads, tl_import_result *res)
{
    tl_import_opts o;
    memset(&o, 0, sizeof o);
    o.create = 1;
    o.append.threads = threads;
    tl_error err = {0};
    cr_assert_eq(tl_import_parquet(tpath, in, n_in, &o, res, &err), TL_OK, "%s", err.msg);
}

Test(import, decoder_thread_gives_the_same_table)
{
    /* files of 9 and 1 row groups (and a one-row-group file: no thread);
     * threads 1 decodes on the calling thread, 2 and 0 on a decoder thread */
    write_rg_rows = 700;
    const char *f1 = pathf("%s/a.parquet", dir), *f2 = pathf("%s/b.parquet", dir);
    const char *f3 = pathf("%s/c.parquet", dir);
    write_ticks(f1, "NIFTY", INT64_C(1700000000000000000), 6000, 1);
    write_ticks(f2, "BANKNIFTY", INT64_C(1700000000000000000), 700, 2);
    write_ticks(f3, "NIFTY", INT64_C(1700086400000000000), 1500, 3);
    const char *in[3] = {f1, f2, f3};
    const uint32_t threads[3] = {1, 2, 0};
    rowset rs[3];
    tinfo ti[3];
    for (int k = 0; k < 3; k++) {
        const char *tpath = pathf("%s/t%d", dir, k);
        tl_import_result res;
        import_ticks_with(tpath, in, 3, threads[k], &res);
        cr_assert_eq(res.rows, 8200);
        cr_assert_eq(res.files, 3);
        memset(&rs[k], 0, sizeof rs[k]);
        read_table(tpath, NULL, NULL, 0, &rs[k], &ti[k]);
    }
    for (int k = 1; k < 3; k++) {
        cr_assert_eq(ti[k].n_rows, ti[0].n_rows);
        cr_assert_eq(ti[k].n_partitions, ti[0].n_partitions);
        char *d = rowset_diff(&rs[k], &rs[0], 1);
        cr_assert(d == NULL, "threads %u: %s", threads[k], d);
    }
    for (int k = 0; k < 3; k++) {
        rowset_free(&rs[k]);
        tinfo_free(&ti[k]);
    }
}

/* Flip one byte inside the last data page of row group rg, column col:
 * the page CRC no longer matches. */
static void corrupt_chunk(const char *path, uint32_t rg, uint32_t col)
{
    FILE *fp = fopen(path, "r+b");
    cr_assert(fp);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    uint8_t *b = malloc((size_t)len);
    rewind(fp);
    cr_assert_eq(fread(b, 1, (size_t)len, fp), (size_t)len);
    uint32_t flen;
    memcpy(&flen, b + len - 8, 4);
    tlf_pqm_file fm;
    tl_error e = {0};
    cr_assert_eq(tlf_pqm_decode_file(b + len - 8 - flen, flen, 0, &fm, &e), TL_OK, "%s", e.msg);
    cr_assert_gt(fm.n_row_groups, rg);
    const tlf_pqm_col_meta *m = &fm.row_groups[rg].columns[col].meta_data;
    int64_t start = m->has_dictionary_page_offset ? m->dictionary_page_offset
                                                  : m->data_page_offset;
    long at = (long)(start + m->total_compressed_size) - 2; /* the last data page's body */
    cr_assert_gt(at, (long)m->data_page_offset);
    b[at] ^= 0x5A;
    cr_assert_eq(fseek(fp, at, SEEK_SET), 0);
    cr_assert_eq(fwrite(b + at, 1, 1, fp), 1u);
    fclose(fp);
    tlf_pqm_file_free(&fm);
    free(b);
}

Test(import, decoder_thread_error_in_a_later_row_group)
{
    /* a bad page in row group 6 of 9: the same error with and without the
     * decoder thread, naming file, row group and column; nothing created */
    write_rg_rows = 700;
    const char *f = pathf("%s/bad.parquet", dir);
    write_ticks(f, "NIFTY", INT64_C(1700000000000000000), 6000, 1);
    corrupt_chunk(f, 6, 0);
    const char *in[1] = {f};
    char msgs[2][512];
    int codes[2];
    for (int k = 0; k < 2; k++) {
        const char *tpath = pathf("%s/t%d", dir, k);
        tl_import_opts o;
        memset(&o, 0, sizeof o);
        o.create = 1;
        o.append.threads = k ? 2 : 1;
        tl_error err = {0};
        codes[k] = tl_import_parquet(tpath, in, 1, &o, NULL, &err);
        cr_assert_neq(codes[k], TL_OK);
        cr_assert(strstr(err.msg, "bad.parquet") && strstr(err.msg, "row group 6") &&
                      strstr(err.msg, "'timestamp'"),
                  "%s", err.msg);
        snprintf(msgs[k], sizeof msgs[k], "%s", err.msg);
        cr_assert(!exists(tpath), "%s was left behind", tpath);
    }
    cr_assert_eq(codes[0], codes[1]);
    cr_assert_str_eq(msgs[0], msgs[1]);
}

Test(import, decoder_thread_stops_on_an_append_side_error)
{
    /* a null for a non-nullable column in row group 6 of 7 is found by the
     * appending thread while the decoder runs ahead: same error, the
     * decoder is stopped and joined, nothing committed */
    const char *tpath = pathf("%s/t", dir);
    make_table(tpath, 0);
    int64_t v0 = table_version(tpath);
    write_rg_rows = 10000;
    tl_coldef d[1] = {{"x", TL_INT64}};
    enum { N = 70000 };
    int64_t *x = calloc(N, sizeof *x);
    uint8_t *valid = malloc(N / 8 + 1);
    memset(valid, 0xFF, N / 8 + 1);
    valid[66000 / 8] &= (uint8_t)~(1u << (66000 % 8));
    tl_colvec c[1] = {{.values = x, .validity = valid}};
    const char *f = pathf("%s/nulls.parquet", dir);
    write_pq(f, d, 1, (uint8_t[]){1}, c, N, 0);
    for (uint32_t threads = 1; threads <= 2; threads++) {
        tl_import_opts o;
        memset(&o, 0, sizeof o);
        o.append.threads = threads;
        tl_error err = {0};
        const char *in[1] = {f};
        cr_assert_eq(tl_import_parquet(tpath, in, 1, &o, NULL, &err), TL_EINVAL);
        cr_assert(strstr(err.msg, "nulls.parquet") && strstr(err.msg, "row group 6") &&
                      strstr(err.msg, "column 'x'") && strstr(err.msg, "row 66000"),
                  "threads %u: %s", threads, err.msg);
        cr_assert_eq(table_version(tpath), v0);
    }
    free(x);
    free(valid);
}

/* Every type of tl_import_parse_value (Hive directory values), each with a
 * value that parses (checked bit for bit) and the ones it must refuse, the
 * message naming what was expected and what was found. */
Test(import, hive_parse_values_every_type)
{
    typedef struct {
        const char *text;
        tl_type t;
        int ok;
        uint64_t bits; /* expected bytes (little-endian, zero-extended) when ok */
        const char *want; /* part of the message when refused */
    } pcase;
    static const pcase cases[] = {
        {"true", TL_BOOL, 1, 1, NULL},
        {"1", TL_BOOL, 1, 1, NULL},
        {"false", TL_BOOL, 1, 0, NULL},
        {"0", TL_BOOL, 1, 0, NULL},
        {"TRUE", TL_BOOL, 0, 0, "true, false, 1 or 0"},
        {"-32768", TL_INT16, 1, 0x8000, NULL},
        {"32768", TL_INT16, 0, 0, "range"},
        {"-2147483648", TL_INT32, 1, 0x80000000u, NULL},
        {"2147483648", TL_INT32, 0, 0, "range"},
        {"-9223372036854775808", TL_INT64, 1, UINT64_C(1) << 63, NULL},
        {"9223372036854775808", TL_INT64, 0, 0, "range"},
        {"+7", TL_INT64, 1, 7, NULL},
        {"", TL_INT32, 0, 0, "range"},
        {"12x", TL_INT32, 0, 0, "range"},
        {"x", TL_INT32, 0, 0, "range"},
        {"255", TL_UINT8, 1, 255, NULL},
        {"256", TL_UINT8, 0, 0, "range"},
        {"65535", TL_UINT16, 1, 65535, NULL},
        {"4294967295", TL_UINT32, 1, 0xFFFFFFFFu, NULL},
        {"4294967296", TL_UINT32, 0, 0, "range"},
        {"18446744073709551615", TL_UINT64, 1, UINT64_MAX, NULL},
        {"18446744073709551616", TL_UINT64, 0, 0, "range"},
        {"+1", TL_UINT64, 0, 0, "range"},
        {"", TL_UINT64, 0, 0, "range"},
        {"2.5", TL_FLOAT32, 1, 0x40200000u, NULL},
        {"2.5x", TL_FLOAT32, 0, 0, "a number"},
        {"", TL_FLOAT64, 0, 0, "a number"},
        {"1e400x", TL_FLOAT64, 0, 0, "a number"},
        {"2024-02-29", TL_DATE, 1, 19782, NULL},
        {"2023-02-29", TL_DATE, 0, 0, "a date"},
        {"2024-13-01", TL_DATE, 0, 0, "a date"},
        {"2024-04-31", TL_DATE, 0, 0, "a date"},
        {"2024/01/01", TL_DATE, 0, 0, "a date"},
        {"2024-0a-01", TL_DATE, 0, 0, "a date"},
        {"1970-01-01 00:00", TL_TIMESTAMP, 1, 0, NULL},
        {"1970-01-01T00:00:01.123456789", TL_TIMESTAMP, 1, 1123456789, NULL},
        {"1970-01-01T00:00:01.1234567891", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T00:00:01.", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T24:00", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T00:60", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T00:00:60", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T0:00", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T00:00:5", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01X", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01ZZ", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"2262-04-11T23:47:16.854775807", TL_TIMESTAMP, 1, INT64_MAX, NULL},
        {"2262-04-11T23:47:16.854775808", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"9999-12-31T23:59:59Z", TL_TIMESTAMP, 0, 0, "a timestamp"},
        {"1970-01-01T00:00:00.000001Z", TL_TIMESTAMP_US, 1, 1, NULL},
        {"1970-01-01T00:00:00.0000015Z", TL_TIMESTAMP_US, 0, 0, "a whole microsecond"},
        {"-5", TL_TIMESTAMP_US, 1, (uint64_t)-5, NULL},
        {"soon", TL_TIMESTAMP_US, 0, 0, "integer microseconds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const pcase *c = &cases[i];
        tl_import_const k;
        tl_error err = {0};
        int rc = tl_import_parse_value(c->text, c->t, &k, &err);
        if (!c->ok) {
            cr_assert_eq(rc, TL_EINVAL, "'%s' as %s accepted", c->text, tl_type_name(c->t));
            cr_assert(strstr(err.msg, c->want), "'%s': %s", c->text, err.msg);
            continue;
        }
        cr_assert_eq(rc, TL_OK, "'%s' as %s: %s", c->text, tl_type_name(c->t), err.msg);
        uint64_t got = 0;
        size_t w = tl_type_width(c->t);
        for (size_t b = 0; b < w; b++)
            got |= (uint64_t)k.bytes[b] << (8 * b);
        cr_assert_eq(got, c->bits, "'%s' as %s: %#llx, expected %#llx", c->text,
                     tl_type_name(c->t), (unsigned long long)got, (unsigned long long)c->bits);
    }
    /* a string longer than a Hive value may be */
    size_t big = (size_t)1 << 24;
    char *s = malloc(big + 1);
    cr_assert_not_null(s);
    memset(s, 'a', big);
    s[big] = '\0';
    tl_import_const k;
    tl_error err = {0};
    int rc = tl_import_parse_value(s, TL_STRING, &k, &err);
    free(s);
    if (rc != TL_OK)
        cr_assert(strstr(err.msg, "a shorter string"), "%s", err.msg);
    cr_assert_eq(tl_import_parse_value("1", (tl_type)99, &k, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "unknown column type"), "%s", err.msg);
}

/* The input list: no inputs, an empty name, a device (neither a file nor a
 * directory), a missing path; each refused naming it. */
Test(import, input_list_errors)
{
    tl_import_list l;
    tl_error err = {0};
    cr_assert_eq(tl_import_list_inputs(NULL, 0, &l, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "no input files"), "%s", err.msg);
    const char *empty[2] = {"/dev/null", ""};
    cr_assert_neq(tl_import_list_inputs(empty + 1, 1, &l, &err), TL_OK);
    cr_assert(strstr(err.msg, "empty"), "%s", err.msg);
    cr_assert_neq(tl_import_list_inputs(empty, 1, &l, &err), TL_OK);
    cr_assert(strstr(err.msg, "/dev/null"), "%s", err.msg);
    const char *missing = pathf("%s/nowhere.parquet", dir);
    cr_assert_neq(tl_import_list_inputs(&missing, 1, &l, &err), TL_OK);
    cr_assert(strstr(err.msg, "nowhere.parquet"), "%s", err.msg);
}
