/*
 * bench_parquet.c - Parquet export and import throughput (issue 5): rows/s
 * and MB/s of tl_export_parquet (partitioned and single-file; zstd and
 * snappy; nanosecond and --spark-compatible microsecond timestamps) and of
 * tl_import_parquet (any Parquet files, e.g. DuckDB's, into a fresh table
 * each pass), 1 and 2 threads, plus output bytes per row.
 *
 * The table is made once (if --table names no table yet), exactly as
 * bench_backtest makes its table: the generator's ticks (all 35 columns of
 * the tick schema) in sorted mode, one append per weekday; default
 * 20,000,000 rows (BANKNIFTY and NIFTY, 2,500,000 rows per symbol-day, 4
 * days). Later runs reuse it.
 *
 * Timing: every configuration gets one untimed warm-up pass, then --runs
 * timed passes; the median is reported (min and max beside it). A pass is
 * the whole library call: export = scan + encode + compress + write + fsync
 * of every file and directory + rename into place; import = list + footer
 * checks + decode + convert + append (repack into partitions and sort
 * order, segment writing) + commit, into a table created by the call. The
 * previous pass's output is removed before the clock starts. MB/s is of
 * Parquet bytes: written (export) or read (import).
 *
 * The last pass of each export configuration is kept as
 * WORK/ours_<layout>_<codec>_<unit>[.parquet] (--keep), so the DuckDB peer
 * can load the same rows and the sizes can be compared.
 *
 * Output: one line per configuration, then a JSON summary line (--json).
 */
#include "bench_common.h"

#include <ftw.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "bench_parquet: %s\n", msg);
    fprintf(stderr,
            "usage: bench_parquet --table DIR --work DIR [--rows N] [--rows-per-day R]\n"
            "                     [--symbols A,B] [--seed S] [--start YYYY-MM-DD]\n"
            "                     [--threads 1,2] [--runs K] [--layouts partitioned,single]\n"
            "                     [--codecs zstd,snappy] [--units ns,us] [--import FILE]...\n"
            "                     [--no-export] [--json]\n");
    exit(msg ? 2 : 0);
}

static void die(const char *what, const tl_error *err)
{
    fprintf(stderr, "bench_parquet: %s: %s\n", what,
            err->msg[0] ? err->msg : tl_strerror(err->code));
    exit(1);
}

/* ---- files ------------------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p) != 0 ? -1 : 0;
}

/* Remove path (file or tree) if it exists. */
static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0) {
        perror(path);
        exit(1);
    }
}

static uint64_t du_acc; /* parquet_bytes' running total (nftw has no context) */

static int du_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)f;
    size_t n = strlen(p);
    if (flag == FTW_F && n >= 8 && strcmp(p + n - 8, ".parquet") == 0)
        du_acc += (uint64_t)st->st_size;
    return 0;
}

/* Bytes of the regular files under path (or path itself) whose names end
 * in ".parquet". */
static uint64_t parquet_bytes(const char *path)
{
    du_acc = 0;
    if (nftw(path, du_one, 32, FTW_PHYS) != 0) {
        perror(path);
        exit(1);
    }
    return du_acc;
}

/* ---- table ------------------------------------------------------------------------ */

/* ---- lists ------------------------------------------------------------------------ */

typedef struct strlist {
    char *buf;
    const char *v[16];
    uint32_t n;
} strlist;

static void split(const char *s, strlist *l)
{
    l->buf = strdup(s);
    l->n = 0;
    for (char *t = strtok(l->buf, ","); t && l->n < 16; t = strtok(NULL, ","))
        l->v[l->n++] = t;
}

/* ---- reporting -------------------------------------------------------------------- */

typedef struct result {
    double med_s, min_s, max_s, cpu_s;
    uint64_t rows, bytes;
} result;

static int first_json = 1;
static char *json_buf;
static size_t json_len, json_cap;

static void json_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void json_add(const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(json_buf ? json_buf + json_len : NULL, json_buf ? json_cap - json_len : 0,
                          fmt, ap);
        va_end(ap);
        if (json_buf && (size_t)n < json_cap - json_len) {
            json_len += (size_t)n;
            return;
        }
        json_cap = (json_cap + (size_t)n + 1) * 2;
        json_buf = realloc(json_buf, json_cap);
        if (!json_buf) {
            fputs("bench_parquet: out of memory\n", stderr);
            exit(1);
        }
    }
}

static void report(const char *op, const char *layout, const char *codec, const char *unit,
                   uint32_t threads, const char *input, const result *r)
{
    double rps = (double)r->rows / r->med_s;
    double mbs = (double)r->bytes / r->med_s / 1e6;
    printf("%s %s codec=%s unit=%s threads=%u: median %6.2f M rows/s (min %.2f, max %.2f), "
           "%6.1f MB/s, %" PRIu64 " rows, %" PRIu64 " bytes = %.3f B/row, cpu %.1f s/run%s%s\n",
           op, layout, codec, unit, threads, rps / 1e6, (double)r->rows / r->max_s / 1e6,
           (double)r->rows / r->min_s / 1e6, mbs, r->rows, r->bytes,
           (double)r->bytes / (double)r->rows, r->cpu_s, input ? ", input " : "",
           input ? input : "");
    fflush(stdout);
    json_add("%s{\"op\":\"%s\",\"layout\":\"%s\",\"codec\":\"%s\",\"unit\":\"%s\","
             "\"threads\":%u,\"median_rows_per_s\":%.0f,\"median_mb_per_s\":%.1f,"
             "\"median_s\":%.3f,\"rows\":%" PRIu64 ",\"bytes\":%" PRIu64
             ",\"bytes_per_row\":%.4f%s%s%s}",
             first_json ? "" : ",", op, layout, codec, unit, threads, rps, mbs, r->med_s, r->rows,
             r->bytes, (double)r->bytes / (double)r->rows, input ? ",\"input\":\"" : "",
             input ? input : "", input ? "\"" : "");
    first_json = 0;
}

static void finish(double *secs, uint64_t runs, double cpu, result *r)
{
    qsort(secs, runs, sizeof *secs, bench_cmp_double);
    r->med_s = secs[runs / 2];
    r->min_s = secs[0];
    r->max_s = secs[runs - 1];
    r->cpu_s = cpu / (double)runs;
}

/* ---- export ----------------------------------------------------------------------- */

static void bench_export(tl_snapshot *s, const char *work, int layout, const char *codec,
                         int micros, uint32_t threads, uint64_t runs)
{
    const char *lname = layout == TL_EXPORT_SINGLE ? "single" : "partitioned";
    const char *unit = micros ? "us" : "ns";
    char dest[4096], keep[4096];
    snprintf(dest, sizeof dest, "%s/export_out%s", work,
             layout == TL_EXPORT_SINGLE ? ".parquet" : "");
    snprintf(keep, sizeof keep, "%s/ours_%s_%s_%s%s", work, lname, codec, unit,
             layout == TL_EXPORT_SINGLE ? ".parquet" : "");
    tl_export_opts eo = {0};
    eo.compression = codec;
    eo.layout = layout;
    eo.spark_compatible = micros;
    eo.threads = threads;
    double *secs = calloc(runs, sizeof *secs);
    double cpu = 0;
    result r = {0};
    tl_error err = {0};
    for (uint64_t k = 0; k <= runs; k++) { /* pass 0: warm-up */
        rm_rf(dest);
        tl_export_result er;
        memset(&er, 0, sizeof er);
        double c0 = bench_cpu_s(), t0 = bench_now_s();
        if (tl_export_parquet(s, dest, &eo, &er, &err) != TL_OK)
            die("export", &err);
        double dt = bench_now_s() - t0;
        if (k > 0) {
            secs[k - 1] = dt;
            cpu += bench_cpu_s() - c0;
        }
        r.rows = er.rows;
        tl_export_result_free(&er);
    }
    r.bytes = parquet_bytes(dest);
    finish(secs, runs, cpu, &r);
    rm_rf(keep);
    if (rename(dest, keep) != 0) {
        perror(keep);
        exit(1);
    }
    report("export", lname, codec, unit, threads, NULL, &r);
    free(secs);
}

/* ---- import ----------------------------------------------------------------------- */

static void bench_import(const char *work, const char *input, uint32_t threads, uint64_t runs)
{
    char dest[4096];
    snprintf(dest, sizeof dest, "%s/import_table", work);
    tl_import_opts io = {0};
    io.create = 1;
    io.append.threads = threads;
    const char *inputs[1] = {input};
    double *secs = calloc(runs, sizeof *secs);
    double cpu = 0;
    result r = {0};
    tl_error err = {0};
    for (uint64_t k = 0; k <= runs; k++) { /* pass 0: warm-up */
        rm_rf(dest);
        tl_import_result ir;
        memset(&ir, 0, sizeof ir);
        double c0 = bench_cpu_s(), t0 = bench_now_s();
        if (tl_import_parquet(dest, inputs, 1, &io, &ir, &err) != TL_OK)
            die("import", &err);
        double dt = bench_now_s() - t0;
        if (k > 0) {
            secs[k - 1] = dt;
            cpu += bench_cpu_s() - c0;
        }
        r.rows = ir.rows;
        r.bytes = ir.bytes;
        if (k == runs)
            fprintf(stderr, "import %s: %u files, %" PRIu64 " rows -> %" PRIu64
                            " table files, %" PRIu64 " bytes, %u partitions\n",
                    input, ir.files, ir.rows, ir.append.n_files, ir.append.bytes,
                    ir.append.n_partitions);
    }
    rm_rf(dest);
    finish(secs, runs, cpu, &r);
    const char *base = strrchr(input, '/');
    report("import", "-", "-", "-", threads, base ? base + 1 : input, &r);
    free(secs);
}

/* ---- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *table = NULL, *work = NULL, *symbols = "BANKNIFTY,NIFTY";
    const char *thr_list = "1,2", *layouts = "partitioned,single", *codecs = "zstd,snappy";
    const char *units = "ns,us";
    const char *imports[16];
    uint32_t n_imports = 0;
    uint64_t rows = 20000000ull, runs = 3;
    int json = 0, no_export = 0;
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.rows_per_day = 2500000;
    go.sorted = 1;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "--json") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(k, "--no-export") == 0) {
            no_export = 1;
            continue;
        }
        const char *v = bench_flag_value(usage, argc, argv, &i);
        if (bench_gen_flag(usage, k, v, 100000000, &go, &symbols))
            continue;
        if (strcmp(k, "--table") == 0)
            table = v;
        else if (strcmp(k, "--work") == 0)
            work = v;
        else if (strcmp(k, "--rows") == 0)
            rows = bench_parse_u64(usage, k, v, 1ull << 40);
        else if (strcmp(k, "--runs") == 0)
            runs = bench_parse_u64(usage, k, v, 1000);
        else if (strcmp(k, "--threads") == 0)
            thr_list = v;
        else if (strcmp(k, "--layouts") == 0)
            layouts = v;
        else if (strcmp(k, "--codecs") == 0)
            codecs = v;
        else if (strcmp(k, "--units") == 0)
            units = v;
        else if (strcmp(k, "--import") == 0) {
            if (n_imports == 16)
                usage("--import: at most 16");
            imports[n_imports++] = v;
        } else
            usage("unknown flag");
    }
    if (!table || !work)
        usage("--table and --work are required");
    if (runs == 0)
        usage("--runs: expected at least 1");
    char *symbuf;
    const char **names;
    if (bench_split_symbols(symbols, &symbuf, &names, &go) != 0)
        usage("out of memory");
    uint64_t per_day = go.rows_per_day * go.n_symbols;
    go.days = (uint32_t)((rows + per_day - 1) / per_day);
    mkdir(work, 0755);

    tl_error err = {0};
    tl_table *t;
    if (tl_table_open(table, &t, &err) != TL_OK) {
        if (err.code != TL_ENOTFOUND)
            die("open", &err);
        tl_error merr = {0};
        if (bench_make_ticks_table(table, go, &merr) != TL_OK)
            die("make table", &merr);
        if (tl_table_open(table, &t, &err) != TL_OK)
            die("open", &err);
    }
    tl_snapshot *s;
    if (tl_snapshot_open(t, NULL, &s, &err) != TL_OK)
        die("snapshot", &err);
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    fprintf(stderr, "table %s: version %" PRId64 ", %" PRIu64 " rows, %" PRIu64
                    " files, %.2f GB\n",
            table, si.version, si.n_rows, si.n_files, (double)si.bytes / 1e9);

    strlist thr, lay, cod, uni;
    split(thr_list, &thr);
    split(layouts, &lay);
    split(codecs, &cod);
    split(units, &uni);
    printf("# bench_parquet: %" PRIu64 " rows, version %" PRId64 ", %" PRIu64
           " table files, runs %" PRIu64 " (median; after one untimed pass)\n",
           si.n_rows, si.version, si.n_files, runs);
    if (!no_export) {
        for (uint32_t li = 0; li < lay.n; li++) {
            int layout;
            if (strcmp(lay.v[li], "partitioned") == 0)
                layout = TL_EXPORT_PARTITIONED;
            else if (strcmp(lay.v[li], "single") == 0)
                layout = TL_EXPORT_SINGLE;
            else
                usage("--layouts: expected partitioned or single");
            for (uint32_t ci = 0; ci < cod.n; ci++)
                for (uint32_t ui = 0; ui < uni.n; ui++) {
                    int micros = strcmp(uni.v[ui], "us") == 0;
                    if (!micros && strcmp(uni.v[ui], "ns") != 0)
                        usage("--units: expected ns or us");
                    /* a single file is written by one worker whatever the
                       thread count: measured once, at 1 thread */
                    uint32_t n_thr = layout == TL_EXPORT_SINGLE ? 1 : thr.n;
                    for (uint32_t ti = 0; ti < n_thr; ti++) {
                        uint32_t th = layout == TL_EXPORT_SINGLE
                                          ? 1
                                          : (uint32_t)bench_parse_u64(usage, "--threads",
                                                                      thr.v[ti], 1024);
                        bench_export(s, work, layout, cod.v[ci], micros, th, runs);
                    }
                }
        }
    }
    for (uint32_t ii = 0; ii < n_imports; ii++)
        for (uint32_t ti = 0; ti < thr.n; ti++)
            bench_import(work, imports[ii],
                         (uint32_t)bench_parse_u64(usage, "--threads", thr.v[ti], 1024), runs);
    if (json)
        printf("[%s]\n", json_buf ? json_buf : "");
    free(json_buf);
    free(thr.buf);
    free(lay.buf);
    free(cod.buf);
    free(uni.buf);
    tl_snapshot_close(s);
    tl_table_close(t);
    free(symbuf);
    free(names);
    return 0;
}
