/*
 * bench_csv.c - throughput of the streaming CSV reader (engine/src/csv_read.c),
 * the input side of `ticklake append TABLE FILE.csv`.
 *
 * Usage: bench_csv [--rows N] [--batch-rows N] [--runs N] [--file PATH]
 *                  [generator flags: --seed --days --rows-per-day --symbols --start]
 *   --rows N: total rows to generate (default 2000000; sets --rows-per-day
 *   to N / symbols); --file: where the CSV goes (default a temp file in
 *   $TMPDIR or /tmp, removed at the end; an existing --file is reused as is).
 * Writes the generator's ticks (tl_ticks_schema, 35 columns) as CSV, then
 * reads it back with tl_csv_next (batch_rows rows per batch, default 65536):
 * one untimed warm-up run (page cache), then the median of --runs (default
 * 3) runs, each opening and closing its own reader. Prints rows/s and MB/s
 * of CSV text, wall and CPU time.
 */
#include "../engine/src/csv_int.h"
#include "bench_common.h"
#include "ticklake.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "bench_csv: %s\n", msg);
    fprintf(stderr, "usage: bench_csv [--rows N] [--batch-rows N] [--runs N] [--file PATH]\n"
                    "                 [--seed N] [--days N] [--rows-per-day N] [--symbols A,B]"
                    " [--start YYYY-MM-DD]\n");
    exit(msg ? 2 : 0);
}

/* One read of path; returns wall seconds (CPU in *cpu), or -1 on error. */
static double run(const char *path, uint32_t batch_rows, uint64_t *rows, double *cpu)
{
    uint32_t n_cols;
    const tl_coldef *defs = tl_ticks_schema(&n_cols);
    tl_csv_opts o = {.batch_rows = batch_rows};
    tl_csv_reader *r = NULL;
    tl_error err = {0};
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    if (tl_csv_open(path, defs, n_cols, &o, &r, &err) != TL_OK) {
        fprintf(stderr, "bench_csv: %s\n", err.msg);
        return -1;
    }
    uint64_t n = 0;
    for (;;) {
        tl_batch b;
        if (tl_csv_next(r, &b, &err) != TL_OK) {
            fprintf(stderr, "bench_csv: %s\n", err.msg);
            tl_csv_close(r);
            return -1;
        }
        if (b.n_rows == 0)
            break;
        n += b.n_rows;
    }
    tl_csv_close(r);
    *rows = n;
    *cpu = bench_cpu_s() - c0;
    return bench_now_s() - t0;
}

int main(int argc, char **argv)
{
    tl_gen_opts gen;
    tl_gen_opts_default(&gen);
    const char *symbols = NULL, *file = NULL;
    uint64_t total = 2000000;
    uint32_t batch_rows = 65536, runs = 3;
    int rows_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = bench_flag_value(usage, argc, argv, &i);
        if (strcmp(k, "--rows") == 0)
            total = bench_parse_u64(usage, k, v, UINT64_C(1) << 40), rows_set = 1;
        else if (strcmp(k, "--batch-rows") == 0)
            batch_rows = (uint32_t)bench_parse_u64(usage, k, v, 1u << 20);
        else if (strcmp(k, "--runs") == 0)
            runs = (uint32_t)bench_parse_u64(usage, k, v, 1000);
        else if (strcmp(k, "--file") == 0)
            file = v;
        else if (!bench_gen_flag(usage, k, v, TL_GEN_MAX_ROWS_PER_DAY, &gen, &symbols))
            usage("unknown flag");
    }
    char *sym_buf = NULL;
    const char **sym_names = NULL;
    if (symbols && bench_split_symbols(symbols, &sym_buf, &sym_names, &gen) != 0)
        usage("out of memory");
    if (rows_set || gen.rows_per_day == 1000000)
        gen.rows_per_day = total / gen.n_symbols / (gen.days ? gen.days : 1);
    if (runs == 0 || gen.rows_per_day == 0)
        usage("--runs and the rows per symbol-day must be > 0");

    char tmp[512];
    int own = 0;
    struct stat st;
    if (!file) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(tmp, sizeof tmp, "%s/bench_csv_XXXXXX", dir);
        int fd = mkstemp(tmp);
        if (fd < 0) {
            perror("bench_csv: mkstemp");
            return 1;
        }
        close(fd);
        file = tmp;
        own = 1;
    }
    if (own || stat(file, &st) != 0) {
        tl_gen_report rep = {0};
        tl_error err = {0};
        double t0 = bench_now_s();
        if (tl_gen_write_csv(&gen, file, NULL, NULL, &rep, &err) != TL_OK) {
            fprintf(stderr, "bench_csv: %s\n", err.msg);
            return 1;
        }
        printf("wrote %" PRIu64 " rows, %.1f MB of CSV in %.2f s\n", rep.n_rows,
               (double)rep.bytes / 1e6, bench_now_s() - t0);
        tl_gen_report_free(&rep);
    }
    if (stat(file, &st) != 0) {
        perror(file);
        return 1;
    }
    double mb = (double)st.st_size / 1e6;
    uint64_t rows = 0;
    double cpu = 0, *wall = calloc(runs, sizeof *wall), *cpus = calloc(runs, sizeof *cpus);
    if (!wall || !cpus || run(file, batch_rows, &rows, &cpu) < 0) /* warm-up */
        return 1;
    for (uint32_t i = 0; i < runs; i++)
        if ((wall[i] = run(file, batch_rows, &rows, &cpus[i])) < 0)
            return 1;
    qsort(wall, runs, sizeof *wall, bench_cmp_double);
    qsort(cpus, runs, sizeof *cpus, bench_cmp_double);
    double w = wall[runs / 2];
    printf("csv read (35-column ticks, batch %u): %" PRIu64 " rows, %.1f MB: median of %u: "
           "%.3f s wall (%.3f s CPU), %.2f M rows/s, %.0f MB/s\n",
           batch_rows, rows, mb, runs, w, cpus[runs / 2], (double)rows / w / 1e6, mb / w);
    if (own)
        unlink(file);
    free(wall);
    free(cpus);
    free(sym_buf);
    free(sym_names);
    return 0;
}
