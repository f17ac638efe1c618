/*
 * backtest_int.h - the EMA-crossover kernel of engine/src/backtest.c, callable
 * on in-memory column arrays (tests, benchmarks). tl_backtest_run drives it
 * from an ordered scan; the rule, null handling and summation order are
 * spec/BACKTEST.md.
 *
 * Usage: one tl_bt_kernel per thread. For each partition (work unit):
 * tl_bt_kernel_unit_begin, then its blocks in row order
 * (tl_bt_kernel_block), then tl_bt_kernel_unit_end, which hands back the
 * partition's results. Runs inside a block are contract series; a block's
 * first run continues the previous block's last series when `continues`.
 */
#ifndef TL_BACKTEST_INT_H
#define TL_BACKTEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tl_error.h"
#include "tl_types.h"

/* Parameters. Spans are finite and > 0; n_fast, n_slow in 1..16
 * (TL_BT_MAX_SPANS); max_spread and min_volume not NaN. Pairs are
 * fast-major: pair k = (fast[k / n_slow], slow[k % n_slow]). */
typedef struct tl_bt_params {
    const double *fast;
    uint32_t n_fast;
    const double *slow;
    uint32_t n_slow;
    double max_spread, min_volume;
} tl_bt_params;

/* One block of a partition's row stream. Numeric columns of any integer
 * or float type (bool, timestamp, date and string rejected: TL_EINVAL);
 * values converted to double (float32 exactly, integers rounded to
 * nearest). price nulls: the row is skipped; bid/ask/volume nulls count
 * as 0. ts (int64 ns, or NULL) is only needed for trade records. sel
 * (bitmap, NULL = all) drops unselected rows as if absent. n_runs == 0:
 * the whole block is one run. */
typedef struct tl_bt_input {
    uint32_t n_rows;
    tl_type price_type, bid_type, ask_type, volume_type;
    const tl_colvec *price, *bid, *ask, *volume;
    uint64_t bid_scale, ask_scale, volume_scale; /* 0, or the column holds
                                  int32 values (tl_scan_block.scale) */
    const int64_t *ts;
    const uint8_t *sel;
    uint32_t n_runs;
    const uint32_t *run_ends;
    int continues;
} tl_bt_input;

/* A closed trade. series: the ordinal of its series in the partition
 * (every run that does not continue the previous one starts a series,
 * also one whose rows all have null price). entry_row / exit_row: ordinals
 * of the rows among the partition's non-null-price rows. */
typedef struct tl_bt_trade {
    uint64_t series;
    uint32_t pair;
    uint64_t entry_row, exit_row;
    int64_t entry_ts, exit_ts; /* 0 when no ts was given */
    double entry_price, exit_price, pnl;
} tl_bt_trade;

/* A partition's results. Arrays are malloc'd and owned by the receiver
 * (tl_bt_unit_out_free). */
typedef struct tl_bt_unit_out {
    uint64_t rows;            /* rows given (selected) */
    uint64_t rows_null_price; /* of which skipped */
    uint64_t n_series;        /* series started */
    uint64_t contracts;       /* series with at least one row */
    uint64_t *trades;         /* n_pairs: trades opened */
    double *pnl;              /* n_pairs: the partition's running sum */
    /* want_series: per series s: series_rows[s], and per (s, pair k)
     * series_trades[s * n_pairs + k], series_pnl[...] (the series' own
     * running sum, same order). */
    uint64_t *series_rows, *series_trades;
    double *series_pnl;
    /* want_trades: in (series, pair, entry) order */
    tl_bt_trade *trade_log;
    size_t n_trades;
} tl_bt_unit_out;

typedef struct tl_bt_kernel tl_bt_kernel;

/* Errors: TL_EINVAL (parameters), TL_ENOMEM. */
TL_WUR int tl_bt_kernel_open(const tl_bt_params *p, int want_series,
                             int want_trades, tl_bt_kernel **out,
                             tl_error *err);
void tl_bt_kernel_close(tl_bt_kernel *k); /* NULL-safe */
uint32_t tl_bt_kernel_n_pairs(const tl_bt_kernel *k);

/* Blocks are staged into a window of about this many rows before the EMA
 * chains run over it (many series side by side); results do not depend on
 * it. 512 Ki rows (4 MiB of prices): the generated tables' windows then hold
 * enough series to keep 16 lanes 93 % busy (58 % at 128 Ki rows, where a few
 * long at-the-money series were left running alone; bench/RESULTS.md).
 * tl_bt_kernel_set_window changes it (tests: tiny windows; 0 = 1). */
#define TL_BT_WINDOW_ROWS (1u << 19)
void tl_bt_kernel_set_window(tl_bt_kernel *k, uint32_t rows);

void tl_bt_kernel_unit_begin(tl_bt_kernel *k);
/* Errors: TL_EINVAL (column types, run ends not increasing to n_rows),
 * TL_ENOMEM. After an error the unit is void: begin a new one. */
TL_WUR int tl_bt_kernel_block(tl_bt_kernel *k, const tl_bt_input *in,
                              tl_error *err);
/* Closes the open series and moves the unit's results to *out. */
TL_WUR int tl_bt_kernel_unit_end(tl_bt_kernel *k, tl_bt_unit_out *out,
                                 tl_error *err);
void tl_bt_unit_out_free(tl_bt_unit_out *o); /* NULL-safe; zeroes it */

/* a * b + c, compiled in backtest.c with the engine's flags and never
 * inlined: a test checks that it is not fused (-ffp-contract=off). */
double tl_bt_probe_muladd(double a, double b, double c);

#endif /* TL_BACKTEST_INT_H */
