/*
 * bench_gen.c - throughput of the sample data generator.
 *
 * Usage: bench_gen [rows_per_symbol_day [batch_rows [csv_rows_per_symbol]]]
 *   defaults 10000000, 65536, 100000.
 * Measures tl_gen_next into columnar batches (all 35 columns), 2 symbols x
 * 1 day, in arrival order and in sorted (table) order, with batches of
 * batch_rows (large batches are written with non-temporal stores) and of
 * 8192 rows (~2 MB, cache-sized): one untimed warm-up run, then the median
 * of 3 runs (each run opens and closes its own generator, so it includes
 * set-up, buffer mapping and, sorted, bucketing the partition). Then
 * generator + tl_batch_write_csv of a smaller count to /dev/null. Prints
 * one line per measurement.
 */
#include "ticklake.h"
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* One full run; returns wall seconds (and CPU seconds in *cpu), or -1 on
 * error. csv: write to f. */
static double run(const tl_gen_opts *o, uint32_t batch_rows, FILE *csv, uint64_t *rows,
                  double *cpu)
{
    tl_error err = {0};
    tl_gen *g = NULL;
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    if (tl_gen_open(o, &g, &err) != TL_OK) {
        fprintf(stderr, "bench_gen: %s\n", err.msg);
        return -1;
    }
    uint64_t n = 0;
    int done = 0, header = 1;
    while (!done) {
        tl_batch b;
        if (tl_gen_next(g, batch_rows, &b, &done, &err) != TL_OK) {
            fprintf(stderr, "bench_gen: %s\n", err.msg);
            tl_gen_close(g);
            return -1;
        }
        if (csv && (b.n_rows || header)) {
            if (tl_batch_write_csv(&b, csv, header, &err) != TL_OK) {
                fprintf(stderr, "bench_gen: %s\n", err.msg);
                tl_gen_close(g);
                return -1;
            }
            header = 0;
        }
        n += b.n_rows;
    }
    tl_gen_close(g);
    *rows = n;
    *cpu = bench_cpu_s() - c0;
    return bench_now_s() - t0;
}

static int measure(const char *what, const tl_gen_opts *o, uint32_t batch_rows, FILE *csv)
{
    uint64_t rows = 0;
    double t[3], c[3];
    if (run(o, batch_rows, csv, &rows, &c[0]) < 0) /* warm-up */
        return 1;
    for (int i = 0; i < 3; i++)
        if ((t[i] = run(o, batch_rows, csv, &rows, &c[i])) < 0)
            return 1;
    qsort(t, 3, sizeof t[0], bench_cmp_double);
    qsort(c, 3, sizeof c[0], bench_cmp_double);
    printf("%-24s rows=%-9llu batch=%-6u median %.3f s %6.2f M rows/s (runs %.3f %.3f %.3f;"
           " CPU median %.3f s = %.2f M rows/s)\n",
           what, (unsigned long long)rows, batch_rows, t[1], (double)rows / t[1] / 1e6, t[0],
           t[1], t[2], c[1], (double)rows / c[1] / 1e6);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    uint32_t batch = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 65536;
    uint64_t csv_rows = argc > 3 ? strtoull(argv[3], NULL, 10) : 100000;

    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.rows_per_day = rows;
    printf("bench_gen: %s, 2 symbols (BANKNIFTY, NIFTY) x 1 day, seed 1\n", tl_version());
    const uint32_t batches[2] = {batch, 8192};
    for (int i = 0; i < 2; i++) {
        if (i == 1 && batch == 8192)
            break;
        o.sorted = 0;
        if (measure("gen arrival order", &o, batches[i], NULL))
            return 1;
        o.sorted = 1;
        if (measure("gen sorted order", &o, batches[i], NULL))
            return 1;
    }

    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) {
        perror("bench_gen: /dev/null");
        return 1;
    }
    o.rows_per_day = csv_rows;
    o.sorted = 0;
    int rc = measure("gen + csv to /dev/null", &o, batch, devnull);
    fclose(devnull);
    return rc;
}
