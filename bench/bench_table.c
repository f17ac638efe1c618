/*
 * bench_table.c - table write figures (issue 3): append throughput of
 * generated ticks (rows/s, MB/s of data files), in arrival order and
 * partition-sorted order, and the commit latency of a small append
 * (fsync-bound: data file + its directory + commit + _delta_log/).
 *
 * usage: bench_table [--dir DIR] [--days D] [--rows-per-day R]
 *                    [--small-appends K] [--small-rows N] [--runs N]
 * DIR (default $TMPDIR or /tmp) gets a fresh table per run, removed after.
 * Prints one line per figure: median of --runs runs, and the generator's
 * own time for the same rows (measured separately, so the append figure
 * can be read net of it).
 */
#include "ticklake.h"
#include "bench_common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const tl_error *e)
{
    fprintf(stderr, "bench_table: %s: %s\n", what, e->msg);
    exit(1);
}

static void rm_rf(const char *p)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_table: could not remove %s\n", p);
}

/* Generate go's rows and (when t) append them as one commit. Returns the
 * seconds taken; *res the append's result. */
static double run_gen(const tl_gen_opts *go, tl_table *t, tl_append_result *res)
{
    tl_error err;
    tl_gen *g;
    if (tl_gen_open(go, &g, &err))
        die("gen", &err);
    tl_append *a = NULL;
    double t0 = bench_now_s();
    if (t && tl_append_begin(t, NULL, &a, &err))
        die("append begin", &err);
    for (;;) {
        tl_batch b;
        int done;
        if (tl_gen_next(g, 65536, &b, &done, &err))
            die("gen next", &err);
        if (done)
            break;
        if (a && tl_append_batch(a, &b, &err))
            die("append", &err);
    }
    if (a && tl_append_commit(a, res, &err))
        die("commit", &err);
    double dt = bench_now_s() - t0;
    tl_gen_close(g);
    return dt;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    uint32_t days = 2, runs = 3, small_k = 200, small_rows = 100;
    uint64_t rpd = 1000000;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: bench_table [--dir DIR] [--days D] [--rows-per-day R] "
                            "[--small-appends K] [--small-rows N] [--runs N]\n");
            return 2;
        }
        if (!strcmp(k, "--dir"))
            dir = v;
        else if (!strcmp(k, "--days"))
            days = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(k, "--rows-per-day"))
            rpd = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--small-appends"))
            small_k = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(k, "--small-rows"))
            small_rows = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(k, "--runs"))
            runs = (uint32_t)strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "bench_table: unknown option %s\n", k);
            return 2;
        }
        i++;
    }
    if (runs < 1 || runs > 50 || days < 1 || rpd < 1 || small_k < 1 || small_rows < 1) {
        fprintf(stderr, "bench_table: bad arguments\n");
        return 2;
    }
    char tpath[1024];
    snprintf(tpath, sizeof tpath, "%s/bench_table.%d", dir, (int)getpid());
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err;
    printf("bench_table: %u days x 2 symbols x %" PRIu64 " rows, %u runs (median), table in %s\n",
           days, rpd, runs, dir);

    for (int sorted = 0; sorted <= 1; sorted++) {
        double *ta = calloc(runs, sizeof *ta), *tg = calloc(runs, sizeof *tg);
        tl_append_result res = {0};
        for (uint32_t r = 0; r < runs; r++) {
            tl_gen_opts go;
            tl_gen_opts_default(&go);
            go.seed = 42 + r;
            go.days = days;
            go.rows_per_day = rpd;
            go.sorted = sorted;
            tg[r] = run_gen(&go, NULL, NULL);
            rm_rf(tpath);
            if (tl_table_create(tpath, &spec, &err))
                die("create", &err);
            tl_table *t;
            if (tl_table_open(tpath, &t, &err))
                die("open", &err);
            ta[r] = run_gen(&go, t, &res);
            tl_table_close(t);
        }
        qsort(ta, runs, sizeof *ta, bench_cmp_double);
        qsort(tg, runs, sizeof *tg, bench_cmp_double);
        double a = ta[runs / 2], g = tg[runs / 2];
        printf("append %-8s %" PRIu64 " rows -> %" PRIu64 " files, %.1f MB (%.1f B/row): "
               "%.2f s incl. generator = %.2f M rows/s, %.1f MB/s written; generator alone "
               "%.2f s; net of it %.2f M rows/s\n",
               sorted ? "sorted" : "arrival", res.n_rows, res.n_files, (double)res.bytes / 1e6,
               (double)res.bytes / (double)res.n_rows, a, (double)res.n_rows / a / 1e6,
               (double)res.bytes / a / 1e6, g,
               a > g ? (double)res.n_rows / (a - g) / 1e6 : 0.0);
        free(ta);
        free(tg);
    }

    /* commit latency of small appends */
    rm_rf(tpath);
    if (tl_table_create(tpath, &spec, &err))
        die("create", &err);
    tl_table *t;
    if (tl_table_open(tpath, &t, &err))
        die("open", &err);
    double *lat = calloc(small_k, sizeof *lat);
    for (uint32_t k = 0; k < small_k; k++) {
        tl_gen_opts go;
        tl_gen_opts_default(&go);
        go.seed = 1000 + k;
        go.rows_per_day = small_rows;
        static const char *one[] = {"NIFTY"};
        go.symbols = one;
        go.n_symbols = 1;
        tl_append_result res;
        lat[k] = run_gen(&go, t, &res);
    }
    tl_table_close(t);
    qsort(lat, small_k, sizeof *lat, bench_cmp_double);
    printf("small append (%u rows, 1 partition, 1 commit): median %.2f ms, p90 %.2f ms, p99 %.2f "
           "ms over %u appends (incl. snapshot load of the growing log, auto checkpoint every "
           "100)\n",
           small_rows, lat[small_k / 2] * 1e3, lat[small_k * 9 / 10] * 1e3,
           lat[small_k * 99 / 100] * 1e3, small_k);
    free(lat);
    rm_rf(tpath);
    return 0;
}
