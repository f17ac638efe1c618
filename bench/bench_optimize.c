/*
 * bench_optimize.c - optimize (spec/MAINT.md) on a table built from many
 * small appends: the optimize throughput (rows/s of the merge, write and
 * commit) and the effect on the backtest (tl_backtest_run, 1 thread, warm
 * page cache: an untimed warm-up pass, then the median of --runs passes),
 * before and after the optimize.
 *
 * The table is made fresh in --dir (which must not exist; it is left there
 * for inspection unless --clean; --build-only stops after making it, and
 * --reuse takes an existing table, e.g. a copy of one made with
 * --build-only, to profile optimize alone): the generator's ticks in arrival order
 * (--rows in total, default 20,000,000; BANKNIFTY and NIFTY over --days
 * days), cut into --appends commits of equal size (default 1,000), as an
 * intraday feed would write them: each append touches the partitions its
 * slice of time covers, so every partition collects many small files.
 *
 * Output: one line per figure, then a JSON summary line (--json).
 */
#include "bench_common.h"

#include <sys/stat.h>
#include <unistd.h>

static void usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "bench_optimize: %s\n", msg);
    fprintf(stderr,
            "usage: bench_optimize --dir DIR [--rows N] [--appends K] [--days D]\n"
            "                      [--symbols A,B] [--seed S] [--start YYYY-MM-DD]\n"
            "                      [--target-rows N] [--max-memory BYTES] [--runs R]\n"
            "                      [--clean] [--build-only] [--reuse] [--json]\n");
    exit(msg ? 2 : 0);
}

static void die(const char *what, const tl_error *err)
{
    fprintf(stderr, "bench_optimize: %s: %s\n", what,
            err->msg[0] ? err->msg : tl_strerror(err->code));
    exit(1);
}

/* Median backtest seconds over runs (after one untimed warm-up). */
static double backtest_median(tl_table *t, int runs, uint64_t *rows, size_t *files)
{
    tl_error err;
    tl_snapshot *s;
    if (tl_snapshot_open(t, NULL, &s, &err) != TL_OK)
        die("snapshot", &err);
    *files = tl_snapshot_n_files(s);
    tl_backtest_opts bo;
    tl_backtest_opts_default(&bo);
    bo.threads = 1;
    tl_backtest_result r;
    if (tl_backtest_run(s, &bo, &r, &err) != TL_OK)
        die("backtest (warm-up)", &err);
    tl_backtest_result_free(&r);
    double *el = calloc((size_t)runs, sizeof *el);
    for (int i = 0; i < runs; i++) {
        double t0 = bench_now_s();
        if (tl_backtest_run(s, &bo, &r, &err) != TL_OK)
            die("backtest", &err);
        el[i] = bench_now_s() - t0;
        *rows = r.rows;
        tl_backtest_result_free(&r);
    }
    qsort(el, (size_t)runs, sizeof *el, bench_cmp_double);
    double med = el[runs / 2];
    free(el);
    tl_snapshot_close(s);
    return med;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *symbols = NULL;
    uint64_t rows = 20000000, appends = 1000, target = 0, max_memory = 0;
    int runs = 3, json = 0, clean = 0, build_only = 0, reuse = 0;
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.days = 5;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "--json") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(k, "--clean") == 0) {
            clean = 1;
            continue;
        }
        if (strcmp(k, "--build-only") == 0) {
            build_only = 1;
            continue;
        }
        if (strcmp(k, "--reuse") == 0) {
            reuse = 1;
            continue;
        }
        const char *v = bench_flag_value(usage, argc, argv, &i);
        if (bench_gen_flag(usage, k, v, 4000000000u, &go, &symbols))
            continue;
        if (strcmp(k, "--dir") == 0)
            dir = v;
        else if (strcmp(k, "--rows") == 0)
            rows = bench_parse_u64(usage, k, v, UINT64_C(1) << 40);
        else if (strcmp(k, "--appends") == 0)
            appends = bench_parse_u64(usage, k, v, 1000000);
        else if (strcmp(k, "--target-rows") == 0)
            target = bench_parse_u64(usage, k, v, UINT64_C(1) << 31);
        else if (strcmp(k, "--max-memory") == 0)
            max_memory = bench_parse_u64(usage, k, v, UINT64_C(1) << 40);
        else if (strcmp(k, "--runs") == 0)
            runs = (int)bench_parse_u64(usage, k, v, 1000);
        else {
            char m[256];
            snprintf(m, sizeof m, "unknown flag '%s'", k);
            usage(m);
        }
    }
    if (!dir)
        usage("--dir is required");
    if (appends == 0 || rows < appends || runs < 1 || go.days == 0)
        usage("--rows must be at least --appends (>= 1); --runs and --days at least 1");
    char *symbuf = NULL;
    const char **symnames = NULL;
    if (symbols && bench_split_symbols(symbols, &symbuf, &symnames, &go) != 0)
        usage("out of memory");
    go.rows_per_day = rows / ((uint64_t)go.days * go.n_symbols);
    if (go.rows_per_day == 0)
        usage("--rows too small for the days and symbols");
    uint64_t total_rows = go.rows_per_day * go.days * go.n_symbols;
    uint64_t per_append = (total_rows + appends - 1) / appends;

    /* the table: K appends of equal slices of the arrival-order stream */
    struct stat st;
    tl_error err;
    tl_table *t;
    double build_s = 0;
    uint64_t n_commits = 0;
    if (reuse) {
        if (tl_table_open(dir, &t, &err) != TL_OK)
            die("open", &err);
    } else {
        if (stat(dir, &st) == 0) {
            fprintf(stderr, "bench_optimize: %s exists; give a fresh --dir (or --reuse)\n", dir);
            return 2;
        }
        tl_table_spec spec;
        tl_ticks_table_spec(&spec);
        if (tl_table_create(dir, &spec, &err) != TL_OK)
            die("create", &err);
        if (tl_table_open(dir, &t, &err) != TL_OK)
            die("open", &err);
        tl_gen *g;
        if (tl_gen_open(&go, &g, &err) != TL_OK)
            die("generator", &err);
        fprintf(stderr, "making %s: %" PRIu64 " rows in %" PRIu64 " appends of %" PRIu64 "\n",
                dir, total_rows, appends, per_append);
        double t0 = bench_now_s();
        uint64_t done_rows = 0;
        int gen_done = 0;
        while (!gen_done) {
            tl_append *a;
            tl_append_opts ao = {.threads = 1};
            if (tl_append_begin(t, &ao, &a, &err) != TL_OK)
                die("append", &err);
            uint64_t in_this = 0;
            while (in_this < per_append) {
                tl_batch b;
                uint64_t want = per_append - in_this;
                if (tl_gen_next(g, want > 65536 ? 65536 : (uint32_t)want, &b, &gen_done, &err) !=
                    TL_OK)
                    die("generator", &err);
                if (gen_done)
                    break;
                if (tl_append_batch(a, &b, &err) != TL_OK)
                    die("append batch", &err);
                in_this += b.n_rows;
            }
            if (tl_append_commit(a, NULL, &err) != TL_OK)
                die("commit", &err);
            done_rows += in_this;
            if (in_this)
                n_commits++;
            if (n_commits % 50 == 0)
                fprintf(stderr, "\r%" PRIu64 " appends, %" PRIu64 " rows, %.0f s", n_commits,
                        done_rows, bench_now_s() - t0);
        }
        tl_gen_close(g);
        build_s = bench_now_s() - t0;
        fprintf(stderr, "\r%" PRIu64 " appends, %" PRIu64 " rows, %.1f s\n", n_commits, done_rows,
                build_s);
        if (build_only) {
            tl_table_close(t);
            free(symbuf);
            free(symnames);
            return 0;
        }
    }

    uint64_t bt_rows = 0;
    size_t files_before = 0, files_after = 0;
    double bt_before = backtest_median(t, runs, &bt_rows, &files_before);
    printf("backtest before optimize: %zu files, %.3f s (median of %d, 1 thread, warm), %.1f M "
           "rows/s\n",
           files_before, bt_before, runs, (double)bt_rows / bt_before / 1e6);
    fflush(stdout);

    tl_optimize_opts oo = {.target_rows = target, .max_memory = (size_t)max_memory};
    tl_optimize_result orr;
    double o0 = bench_now_s();
    double c0 = bench_cpu_s();
    if (tl_table_optimize(t, &oo, &orr, &err) != TL_OK)
        die("optimize", &err);
    double opt_s = bench_now_s() - o0, opt_cpu = bench_cpu_s() - c0;
    printf("optimize: %" PRIu64 " partitions, %" PRIu64 " files -> %" PRIu64 ", %" PRIu64
           " rows in %.2f s (CPU %.2f s): %.2f M rows/s, %d merge pass(es), %.1f MB -> %.1f MB\n",
           orr.partitions, orr.files_removed, orr.files_added, orr.rows, opt_s, opt_cpu,
           (double)orr.rows / opt_s / 1e6, orr.merge_passes, (double)orr.bytes_removed / 1e6,
           (double)orr.bytes_added / 1e6);
    fflush(stdout);

    uint64_t bt_rows2 = 0;
    double bt_after = backtest_median(t, runs, &bt_rows2, &files_after);
    printf("backtest after optimize:  %zu files, %.3f s (median of %d, 1 thread, warm), %.1f M "
           "rows/s (%.2fx)\n",
           files_after, bt_after, runs, (double)bt_rows2 / bt_after / 1e6, bt_before / bt_after);
    if (bt_rows2 != bt_rows)
        fprintf(stderr, "bench_optimize: backtest rows differ: %" PRIu64 " vs %" PRIu64 "\n",
                bt_rows, bt_rows2);
    if (json)
        printf("{\"rows\":%" PRIu64 ",\"appends\":%" PRIu64 ",\"build_s\":%.3f,"
               "\"files_before\":%zu,\"files_after\":%zu,\"optimize_s\":%.3f,"
               "\"optimize_cpu_s\":%.3f,\"optimize_rows_per_s\":%.0f,\"merge_passes\":%d,"
               "\"bytes_before\":%" PRIu64 ",\"bytes_after\":%" PRIu64 ","
               "\"backtest_before_s\":%.4f,\"backtest_after_s\":%.4f,"
               "\"backtest_rows\":%" PRIu64 "}\n",
               total_rows, n_commits, build_s, files_before, files_after, opt_s, opt_cpu,
               (double)orr.rows / opt_s, orr.merge_passes, orr.bytes_removed, orr.bytes_added,
               bt_before, bt_after, bt_rows);
    tl_optimize_result_free(&orr);
    tl_table_close(t);
    if (clean) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_optimize: could not remove %s\n", dir);
    }
    free(symbuf);
    free(symnames);
    return bt_rows2 == bt_rows ? 0 : 1;
}
