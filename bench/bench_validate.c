/*
 * bench_validate.c - throughput of `validate` (tl_table_validate: coverage,
 * every per-row check with a session, null rates) and of `resample`
 * (tl_table_resample: 1m OHLCV bars per contract, and 1m bars per symbol)
 * on a generated tick table, warm page cache, in rows/s of the source.
 *
 * The table is made once (if --table names no table yet): the generator's
 * ticks in sorted mode, one append per day, default 20,000,000 rows
 * (BANKNIFTY and NIFTY, 1,000,000 rows per symbol-day, 10 days). Later runs
 * reuse it. Each configuration runs once untimed (warm-up), then --runs
 * times; the median is reported. Resample writes a fresh destination
 * (DIR.bars, removed before each run), so its figure includes writing and
 * committing the bars.
 *
 * Output: one line per configuration, then a JSON summary line (--json).
 */
#include "bench_common.h"

#include <unistd.h>

static void usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "bench_validate: %s\n", msg);
    fprintf(stderr,
            "usage: bench_validate --table DIR [--rows N] [--rows-per-day R] [--symbols A,B]\n"
            "                      [--seed S] [--start YYYY-MM-DD] [--threads N] [--runs K]\n"
            "                      [--json]\n");
    exit(msg ? 2 : 0);
}

static void die(const char *what, const tl_error *err)
{
    fprintf(stderr, "bench_validate: %s: %s\n", what,
            err->msg[0] ? err->msg : tl_strerror(err->code));
    exit(1);
}

static void rm_rf(const char *path)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_validate: %s failed\n", cmd);
        exit(1);
    }
}

typedef struct result {
    const char *name;
    double median_s, rows_per_s;
    uint64_t rows, out;
} result;

static double median(double *v, uint64_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    const char *table = NULL, *symbols = "BANKNIFTY,NIFTY";
    uint64_t rows = 20000000ull, runs = 3, threads = 0;
    int json = 0;
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.rows_per_day = 1000000;
    go.sorted = 1;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
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
            threads = bench_parse_u64(usage, k, v, 1024);
        else
            usage("unknown flag");
    }
    if (!table)
        usage("--table is required");
    if (runs == 0)
        usage("--runs: at least 1");
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
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char dst[4096];
    snprintf(dst, sizeof dst, "%s.bars", table);

    result res[3];
    double *times = malloc((runs + 1) * sizeof *times);
    if (!times)
        usage("out of memory");
    for (int cfg = 0; cfg < 3; cfg++) {
        result *r = &res[cfg];
        memset(r, 0, sizeof *r);
        r->name = cfg == 0 ? "validate (all checks, session 03:45-10:00)"
                  : cfg == 1 ? "resample 1m bars per contract"
                             : "resample 1m bars per symbol";
        for (uint64_t k = 0; k <= runs; k++) { /* k = 0: warm-up, untimed */
            double t0 = bench_now_s();
            if (cfg == 0) {
                tl_validate_opts o;
                memset(&o, 0, sizeof o);
                o.has_session = 1;
                o.session_open_ns = INT64_C(13500) * 1000000000;
                o.session_close_ns = INT64_C(36000) * 1000000000;
                o.threads = (uint32_t)threads;
                tl_validate_report rep;
                if (tl_table_validate(t, NULL, &o, &rep, &err) != TL_OK)
                    die("validate", &err);
                r->rows = rep.rows_checked;
                r->out = rep.findings;
                tl_validate_report_free(&rep);
            } else {
                rm_rf(dst);
                t0 = bench_now_s();
                tl_resample_opts o;
                memset(&o, 0, sizeof o);
                o.interval_ns = INT64_C(60) * 1000000000;
                o.per = cfg == 1 ? TL_RESAMPLE_PER_CONTRACT : TL_RESAMPLE_PER_SYMBOL;
                o.threads = (uint32_t)threads;
                tl_resample_result rr;
                if (tl_table_resample(s, dst, &o, &rr, &err) != TL_OK)
                    die("resample", &err);
                r->rows = rr.rows_in;
                r->out = rr.rows_out;
            }
            if (k > 0)
                times[k - 1] = bench_now_s() - t0;
        }
        r->median_s = median(times, runs);
        r->rows_per_s = (double)r->rows / r->median_s;
        printf("%-44s %8.3f s  %7.1f M rows/s  (%" PRIu64 " rows -> %" PRIu64 " %s)\n", r->name,
               r->median_s, r->rows_per_s / 1e6, r->rows, r->out,
               cfg == 0 ? "findings" : "bars");
    }
    rm_rf(dst);
    if (json) {
        printf("{\"bench\":\"validate\",\"rows\":%" PRIu64 ",\"files\":%" PRIu64
               ",\"threads\":%" PRIu64 ",\"cpus\":%ld,\"runs\":%" PRIu64 ",\"results\":[",
               si.n_rows, si.n_files, threads, cpus, runs);
        for (int cfg = 0; cfg < 3; cfg++)
            printf("%s{\"name\":\"%s\",\"median_s\":%.4f,\"rows_per_s\":%.0f,\"out\":%" PRIu64 "}",
                   cfg ? "," : "", res[cfg].name, res[cfg].median_s, res[cfg].rows_per_s,
                   res[cfg].out);
        printf("]}\n");
    }
    free(times);
    tl_snapshot_close(s);
    tl_table_close(t);
    free(symbuf);
    free(names);
    return 0;
}
