/*
 * bench_backtest.c - the EMA-crossover backtest end to end from a table on
 * disk: rows/s with 1 and 2 threads, warm page cache (each I/O path, after
 * an untimed warm-up pass) and cold (the table's files dropped from the page
 * cache with posix_fadvise(DONTNEED) before every pass; O_DIRECT as an
 * option), plus the bytes per row the kernel reads.
 *
 * The table is made once (if --table names no table yet): the generator's
 * ticks in sorted mode, one append per day, default 100,000,000 rows
 * (BANKNIFTY and NIFTY, 2,500,000 rows per symbol-day, 20 days). Later runs
 * reuse it, so rerunning is cheap.
 *
 * --npy DIR also writes the kernel's inputs for the Numba peer
 * (bench/backtest_numba.py): price.npy, bid.npy, ask.npy (float64),
 * volume.npy (int64), and series.npy / parts.npy (int64 start rows of every
 * contract series and of every partition, plus the end), rows in the
 * backtest's order.
 *
 * Output: one line per configuration, then a JSON summary line (--json).
 */
#include "bench_common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "bench_backtest: %s\n", msg);
    fprintf(stderr,
            "usage: bench_backtest --table DIR [--rows N] [--rows-per-day R] [--symbols A,B]\n"
            "                      [--seed S] [--start YYYY-MM-DD] [--threads 1,2]\n"
            "                      [--io mmap,uring,pread] [--runs K] [--cold] [--direct]\n"
            "                      [--no-verify] [--npy DIR] [--fast F,..] [--slow S,..] [--json]\n");
    exit(msg ? 2 : 0);
}

static void die(const char *what, const tl_error *err)
{
    fprintf(stderr, "bench_backtest: %s: %s\n", what, err->msg[0] ? err->msg : tl_strerror(err->code));
    exit(1);
}

/* ---- cache control -------------------------------------------------------------- */

static void drop_cache(tl_snapshot *s, const char *table)
{
    size_t n = tl_snapshot_n_files(s);
    for (size_t i = 0; i < n; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", table, fi.path);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror(p);
            exit(1);
        }
        if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
            fprintf(stderr, "bench_backtest: posix_fadvise %s failed\n", p);
            exit(1);
        }
        close(fd);
    }
}

/* ---- npy export for the Numba peer ---------------------------------------------- */

typedef struct npy_out {
    FILE *f[4];
    uint64_t rows;
    int64_t *series, *parts;
    size_t n_series, cap_series, n_parts, cap_parts;
    int have_last; /* a series is open */
} npy_out;

static void npy_header(FILE *f, const char *descr, uint64_t n)
{
    char h[128];
    int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64 ",), }",
                       descr, n);
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    uint16_t hl = (uint16_t)(len + pad + 1);
    fwrite(&hl, 2, 1, f);
    fwrite(h, 1, (size_t)len, f);
    for (int i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
}

static void push(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v) {
            fputs("bench_backtest: out of memory\n", stderr);
            exit(1);
        }
    }
    (*v)[(*n)++] = x;
}

static int npy_unit_begin(void *ctx, uint32_t w, size_t unit, size_t part, tl_error *err)
{
    (void)w, (void)unit, (void)part, (void)err;
    npy_out *o = ctx;
    push(&o->parts, &o->n_parts, &o->cap_parts, (int64_t)o->rows);
    o->have_last = 0;
    return 0;
}

static int npy_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    npy_out *o = ctx;
    /* columns: price, bp0, sp0, volume (no nulls expected in the price;
       null bid/ask are written as 0, as the backtest counts them) */
    for (int c = 0; c < 4; c++) {
        const tl_colvec *v = &b->cols[c];
        if (c == 0 && v->validity)
            return tl_error_set(err, TL_EUNSUPPORTED, "npy export: null prices");
        if (v->validity) {
            const double *x = v->values;
            for (uint32_t i = 0; i < b->n_rows; i++) {
                double d = tl_bit_get(v->validity, i) ? x[i] : 0.0;
                fwrite(&d, 8, 1, o->f[c]);
            }
        } else {
            fwrite(v->values, 8, b->n_rows, o->f[c]);
        }
    }
    uint32_t start = 0;
    for (uint32_t r = 0; r < b->n_runs; r++) {
        if (!(r == 0 && b->continues && o->have_last))
            push(&o->series, &o->n_series, &o->cap_series, (int64_t)(o->rows + start));
        start = b->run_ends[r];
    }
    o->have_last = 1;
    o->rows += b->n_rows;
    return 0;
}

static void write_npy(tl_snapshot *s, const char *dir)
{
    static const char *names[4] = {"price", "bid", "ask", "volume"};
    static const char *descr[4] = {"<f8", "<f8", "<f8", "<i8"};
    npy_out o = {0};
    char p[4096];
    mkdir(dir, 0755);
    for (int c = 0; c < 4; c++) {
        snprintf(p, sizeof p, "%s/%s.npy", dir, names[c]);
        o.f[c] = fopen(p, "wb");
        if (!o.f[c]) {
            perror(p);
            exit(1);
        }
        npy_header(o.f[c], descr[c], 0); /* rewritten at the end */
    }
    const char *cols[] = {"price", "bp0", "sp0", "volume"};
    tl_scan_opts so = {.columns = cols, .n_columns = 4, .threads = 1, .ordered = 1};
    tl_scan_cb cb = {.unit_begin = npy_unit_begin, .block = npy_block, .ctx = &o};
    tl_error err = {0};
    if (tl_scan_run(s, &so, &cb, NULL, &err) != TL_OK)
        die("npy scan", &err);
    push(&o.series, &o.n_series, &o.cap_series, (int64_t)o.rows);
    push(&o.parts, &o.n_parts, &o.cap_parts, (int64_t)o.rows);
    for (int c = 0; c < 4; c++) {
        rewind(o.f[c]);
        npy_header(o.f[c], descr[c], o.rows);
        if (fclose(o.f[c]) != 0) {
            fputs("bench_backtest: writing npy failed\n", stderr);
            exit(1);
        }
    }
    const char *extra[2] = {"series", "parts"};
    int64_t *vals[2] = {o.series, o.parts};
    size_t ns[2] = {o.n_series, o.n_parts};
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s.npy", dir, extra[k]);
        FILE *f = fopen(p, "wb");
        if (!f) {
            perror(p);
            exit(1);
        }
        npy_header(f, "<i8", ns[k]);
        fwrite(vals[k], 8, ns[k], f);
        fclose(f);
    }
    fprintf(stderr, "npy: %" PRIu64 " rows, %zu series, %zu partitions in %s\n", o.rows,
            o.n_series - 1, o.n_parts - 1, dir);
    free(o.series);
    free(o.parts);
}

/* ---- main ------------------------------------------------------------------------ */

static void split_u32(const char *s, uint32_t *out, uint32_t *n, uint32_t max)
{
    *n = 0;
    char *buf = strdup(s);
    for (char *t = strtok(buf, ","); t && *n < max; t = strtok(NULL, ","))
        out[(*n)++] = (uint32_t)bench_parse_u64(usage, "--threads", t, 1024);
    free(buf);
}

static void split_d(const char *s, double *out, uint32_t *n)
{
    *n = 0;
    char *buf = strdup(s);
    for (char *t = strtok(buf, ","); t && *n < TL_BT_MAX_SPANS; t = strtok(NULL, ","))
        out[(*n)++] = strtod(t, NULL);
    free(buf);
}

typedef struct run_cfg {
    int io, direct, cold;
    uint32_t threads;
} run_cfg;

int main(int argc, char **argv)
{
    const char *table = NULL, *symbols = "BANKNIFTY,NIFTY", *npy = NULL;
    const char *io_list = "mmap,uring", *thr_list = "1,2";
    uint64_t rows = 100000000ull, runs = 5;
    int cold = 0, direct = 0, no_verify = 0, json = 0;
    double fast[TL_BT_MAX_SPANS], slow[TL_BT_MAX_SPANS];
    uint32_t n_fast = 0, n_slow = 0;
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.rows_per_day = 2500000;
    go.sorted = 1;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "--cold") == 0) {
            cold = 1;
            continue;
        }
        if (strcmp(k, "--direct") == 0) {
            direct = 1;
            continue;
        }
        if (strcmp(k, "--no-verify") == 0) {
            no_verify = 1;
            continue;
        }
        if (strcmp(k, "--json") == 0) {
            json = 1;
            continue;
        }
        const char *v = bench_flag_value(usage, argc, argv, &i);
        if (bench_gen_flag(usage, k, v, 100000000, &go, &symbols))
            continue;
        if (strcmp(k, "--table") == 0)
            table = v;
        else if (strcmp(k, "--rows") == 0)
            rows = bench_parse_u64(usage, k, v, 1ull << 40);
        else if (strcmp(k, "--runs") == 0)
            runs = bench_parse_u64(usage, k, v, 1000);
        else if (strcmp(k, "--threads") == 0)
            thr_list = v;
        else if (strcmp(k, "--io") == 0)
            io_list = v;
        else if (strcmp(k, "--npy") == 0)
            npy = v;
        else if (strcmp(k, "--fast") == 0)
            split_d(v, fast, &n_fast);
        else if (strcmp(k, "--slow") == 0)
            split_d(v, slow, &n_slow);
        else
            usage("unknown flag");
    }
    if (!table || runs == 0)
        usage("--table is required");
    char *symbuf;
    const char **names;
    if (bench_split_symbols(symbols, &symbuf, &names, &go) != 0)
        usage("out of memory");
    uint64_t per_day = go.rows_per_day * go.n_symbols;
    go.days = (uint32_t)((rows + per_day - 1) / per_day);

    tl_error err = {0};
    tl_table *t;
    if (tl_table_open(table, &t, &err) != TL_OK) {
        if (err.code != TL_ENOTFOUND)
            die("open", &err);
        if (bench_make_ticks_table(table, go, &err) != TL_OK)
            die("make table", &err);
        if (tl_table_open(table, &t, &err) != TL_OK)
            die("open", &err);
    }
    tl_snapshot *s;
    if (tl_snapshot_open(t, NULL, &s, &err) != TL_OK)
        die("snapshot", &err);
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    fprintf(stderr, "table %s: version %" PRId64 ", %" PRIu64 " rows, %" PRIu64 " files, %.2f GB\n",
            table, si.version, si.n_rows, si.n_files, (double)si.bytes / 1e9);
    if (npy) {
        write_npy(s, npy);
    }

    uint32_t thr[8], n_thr;
    split_u32(thr_list, thr, &n_thr, 8);
    int ios[4];
    uint32_t n_io = 0;
    {
        char *buf = strdup(io_list);
        for (char *tk = strtok(buf, ","); tk && n_io < 4; tk = strtok(NULL, ",")) {
            if (tl_io_mode_parse(tk, &ios[n_io], &err) != TL_OK)
                usage("--io: expected mmap, uring, pread or auto");
            n_io++;
        }
        free(buf);
    }

    printf("# bench_backtest: %" PRIu64 " rows, version %" PRId64 ", %u pair(s), runs %" PRIu64
           ", verify %s\n",
           si.n_rows, si.version, (n_fast ? n_fast : 1) * (n_slow ? n_slow : 1), runs,
           no_verify ? "off" : "on");
    if (json)
        printf("[");
    int first_json = 1;
    for (int pass_cold = 0; pass_cold <= cold; pass_cold++) {
        for (uint32_t ii = 0; ii < n_io; ii++) {
            int n_dir = pass_cold && direct && ios[ii] != TL_IO_MMAP ? 2 : 1;
            for (uint32_t ti = 0; ti < n_thr * (uint32_t)n_dir; ti++) {
                tl_backtest_opts bo;
                tl_backtest_opts_default(&bo);
                if (n_fast)
                    bo.fast = fast, bo.n_fast = n_fast;
                if (n_slow)
                    bo.slow = slow, bo.n_slow = n_slow;
                bo.threads = thr[ti % n_thr];
                bo.io = ios[ii];
                bo.direct = ti >= n_thr; /* cold only: buffered, then O_DIRECT */
                bo.no_verify = no_verify;
                double *rps = calloc(runs, sizeof *rps);
                tl_backtest_result r;
                memset(&r, 0, sizeof r);
                if (!pass_cold) { /* untimed warm-up */
                    if (tl_backtest_run(s, &bo, &r, &err) != TL_OK)
                        die("backtest", &err);
                    tl_backtest_result_free(&r);
                }
                double cpu = 0;
                for (uint64_t k = 0; k < runs; k++) {
                    if (pass_cold)
                        drop_cache(s, table);
                    double c0 = bench_cpu_s();
                    memset(&r, 0, sizeof r);
                    if (tl_backtest_run(s, &bo, &r, &err) != TL_OK)
                        die("backtest", &err);
                    cpu += bench_cpu_s() - c0;
                    rps[k] = r.rows_per_s;
                    if (k + 1 < runs)
                        tl_backtest_result_free(&r);
                }
                qsort(rps, runs, sizeof *rps, bench_cmp_double);
                double med = rps[runs / 2];
                double bpr = r.rows ? (double)r.bytes_read / (double)r.rows : 0;
                printf("%-4s io=%-5s%s threads=%u: median %7.1f M rows/s (min %.1f, max %.1f), "
                       "%.2f B/row read, %.2f GB/s, trades %" PRIu64 ", pnl %.17g, cpu %.2f s/run\n",
                       pass_cold ? "cold" : "warm", tl_io_mode_name(r.scan.io_used),
                       bo.direct ? "+direct" : "", r.scan.threads, med / 1e6, rps[0] / 1e6,
                       rps[runs - 1] / 1e6, bpr, med * bpr / 1e9,
                       r.n_pairs ? r.pairs[0].trades : 0, r.n_pairs ? r.pairs[0].pnl : 0.0,
                       cpu / (double)runs);
                if (r.scan.io_fallback)
                    printf("  note: %s\n", r.scan.io_note);
                if (json) {
                    printf("%s{\"cache\":\"%s\",\"io\":\"%s\",\"direct\":%s,\"threads\":%u,"
                           "\"median_rows_per_s\":%.0f,\"bytes_per_row\":%.4f,\"rows\":%" PRIu64
                           "}",
                           first_json ? "" : ",", pass_cold ? "cold" : "warm",
                           tl_io_mode_name(r.scan.io_used), bo.direct ? "true" : "false",
                           r.scan.threads, med, bpr, r.rows);
                    first_json = 0;
                }
                fflush(stdout);
                tl_backtest_result_free(&r);
                free(rps);
            }
        }
    }
    if (json)
        printf("]\n");
    tl_snapshot_close(s);
    tl_table_close(t);
    free(symbuf);
    free(names);
    return 0;
}
