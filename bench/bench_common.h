/*
 * bench_common.h - the command-line parts the generator-driven benchmarks
 * share (bench_decode, bench_size): integer and date flags, the generator
 * flags (--seed, --days, --rows-per-day, --symbols, --start) and splitting
 * the symbol list; and the timing helpers every benchmark uses (wall and
 * CPU seconds, a qsort comparator for medians); making the tick table the
 * backtest and Parquet benchmarks share. Header-only (static
 * inline), so bench/CMakeLists.txt needs nothing.
 *
 * Errors go through the program's own usage function, which prints the
 * message (prefixed with the program name) and the usage text and exits;
 * it never returns.
 */
#ifndef TL_BENCH_COMMON_H
#define TL_BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ticklake.h"

/* Monotonic wall clock, seconds. */
static inline double bench_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* User + system CPU seconds of this process. */
static inline double bench_cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec * 1e-6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec * 1e-6;
}

/* qsort comparator of doubles (for medians). */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*bench_usage_fn)(const char *msg); /* prints, exits */

static inline uint64_t bench_parse_u64(bench_usage_fn usage, const char *flag, const char *s,
                                       uint64_t max)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        char m[256];
        snprintf(m, sizeof m, "%s: expected an integer 0..%" PRIu64 ", found '%s'", flag, max,
                 s);
        usage(m);
    }
    return (uint64_t)v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static inline int32_t bench_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

/* The value of flag argv[*i] (advancing *i past it). --help / -h print the
 * usage; a flag without a value is an error. */
static inline const char *bench_flag_value(bench_usage_fn usage, int argc, char **argv, int *i)
{
    const char *k = argv[*i];
    if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0)
        usage(NULL);
    if (*i + 1 >= argc) {
        char m[256];
        snprintf(m, sizeof m,
                 "%s: expected a value, found the end of the arguments (or an unknown flag)", k);
        usage(m);
    }
    return argv[++*i];
}

/* Apply flag k = v if it is one of the generator flags: --seed, --days
 * (at most 100000), --rows-per-day (at most max_rows_per_day), --start
 * YYYY-MM-DD, --symbols A,B (only stored in *symbols; see
 * bench_split_symbols). Returns 1 if it was, 0 if not. */
static inline int bench_gen_flag(bench_usage_fn usage, const char *k, const char *v,
                                 uint64_t max_rows_per_day, tl_gen_opts *gen,
                                 const char **symbols)
{
    if (strcmp(k, "--seed") == 0) {
        gen->seed = bench_parse_u64(usage, k, v, UINT64_MAX);
    } else if (strcmp(k, "--days") == 0) {
        gen->days = (uint32_t)bench_parse_u64(usage, k, v, 100000);
    } else if (strcmp(k, "--rows-per-day") == 0) {
        gen->rows_per_day = bench_parse_u64(usage, k, v, max_rows_per_day);
    } else if (strcmp(k, "--symbols") == 0) {
        *symbols = v;
    } else if (strcmp(k, "--start") == 0) {
        int y, m, d;
        char tail;
        if (sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
            d > 31) {
            char msg[256];
            snprintf(msg, sizeof msg, "--start: expected YYYY-MM-DD, found '%s'", v);
            usage(msg);
        }
        gen->start_day = bench_days_from_civil(y, m, d);
    } else {
        return 0;
    }
    return 1;
}

/* Split the comma list symbols into an owned copy *buf, with *names
 * pointing into it, and set gen->symbols / n_symbols. Returns 0, or -1
 * when out of memory (the caller reports it its own way). */
static inline int bench_split_symbols(const char *symbols, char **buf, const char ***names,
                                      tl_gen_opts *gen)
{
    size_t len = strlen(symbols);
    *buf = malloc(len + 1);
    *names = malloc((len / 2 + 2) * sizeof **names);
    if (*buf == NULL || *names == NULL)
        return -1;
    memcpy(*buf, symbols, len + 1);
    uint32_t n = 0;
    for (char *tok = strtok(*buf, ","); tok != NULL; tok = strtok(NULL, ","))
        (*names)[n++] = tok;
    gen->symbols = *names;
    gen->n_symbols = n;
    return 0;
}

/* Make the benchmarks' tick table at path (must not exist): created with
 * the built-in ticks spec, then go.days weekdays from go.start_day, one
 * generator and one append (commit) per weekday, as a day-by-day ingest
 * would. Progress on stderr. Returns TL_OK or the failing call's code with
 * err naming it. */
static inline int bench_make_ticks_table(const char *path, tl_gen_opts go, tl_error *err)
{
    fprintf(stderr, "making %s: %u days x %u symbols x %" PRIu64 " rows\n", path, go.days,
            go.n_symbols, go.rows_per_day);
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_table *t = NULL;
    int rc = tl_table_create(path, &spec, err);
    if (!rc)
        rc = tl_table_open(path, &t, err);
    double t0 = bench_now_s();
    uint64_t total = 0;
    int32_t day = go.start_day;
    for (uint32_t d = 0; !rc && d < go.days; d++) {
        while (((day % 7) + 7 + 3) % 7 >= 5) /* 1970-01-01 was a Thursday: 0 = Monday */
            day++;
        tl_gen_opts o = go;
        o.days = 1;
        o.start_day = day++;
        tl_gen *g = NULL;
        tl_append *a = NULL;
        tl_append_opts ao = {0};
        if ((rc = tl_gen_open(&o, &g, err)) || (rc = tl_append_begin(t, &ao, &a, err))) {
            tl_gen_close(g);
            break;
        }
        for (;;) {
            tl_batch b;
            int done = 0;
            if ((rc = tl_gen_next(g, 1 << 16, &b, &done, err)) || done)
                break;
            if ((rc = tl_append_batch(a, &b, err)))
                break;
            total += b.n_rows;
        }
        tl_gen_close(g);
        if (rc) {
            tl_append_abort(a);
            break;
        }
        rc = tl_append_commit(a, NULL, err);
        fprintf(stderr, "\rday %u/%u appended: %" PRIu64 " rows, %.0f s", d + 1, go.days, total,
                bench_now_s() - t0);
    }
    fprintf(stderr, "\n");
    tl_table_close(t);
    return rc;
}

#endif
