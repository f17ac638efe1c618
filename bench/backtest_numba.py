#!/usr/bin/python3
"""The EMA-crossover rule (spec/BACKTEST.md) compiled with Numba over
in-memory numpy arrays: the peer the backtest benchmark compares with.

Input: the directory bench_backtest --npy DIR writes (price, bid, ask,
volume, series starts, partition starts; rows in the backtest's order).
Run with Debian's interpreter (/usr/bin/python3; python3-numba, python3-numpy).

Prints rows/s on 1 and 2 threads (median of --runs passes after a compiling
warm-up), and trades and PnL, summed exactly as ticklake sums them (one
running sum per partition in row order, partition totals in order), so the
two can be compared bit for bit.
"""
import argparse
import os
import sys
import time

import numpy as np
import numba
from numba import njit, prange


@njit(cache=False, fastmath=False)
def run_partition(p, b, a, v, series, s_lo, s_hi, aF, aS, X, V):
    cF = 1.0 - aF
    cS = 1.0 - aS
    pnl = 0.0
    trades = 0
    for k in range(s_lo, s_hi):
        s = series[k]
        e = series[k + 1]
        m = e - s
        if m <= 0:
            continue
        fast = p[s]
        slow = p[s]
        flat = True
        entry = 0.0
        for j in range(1, m):
            r = s + j
            pj = p[r]
            fast = pj * aF + fast * cF
            slow = pj * aS + slow * cS
            if flat:
                aj = a[r]
                bj = b[r]
                ok = False
                if aj > 0.0 and bj > 0.0:
                    mid = 0.5 * (aj + bj)
                    if mid > 0.0 and (aj - bj) / mid <= X:
                        ok = True
                if fast > slow and ok and v[r] >= V:
                    flat = False
                    entry = pj
                    trades += 1
            else:
                if slow >= fast or j == m - 1:
                    pnl += pj - entry
                    flat = True
        if not flat:
            # a position opened on the last row closes there
            pnl += p[e - 1] - entry
    return trades, pnl


@njit(parallel=True, fastmath=False)
def run_all(p, b, a, v, series, part_series, aF, aS, X, V):
    n_parts = part_series.shape[0] - 1
    tr = np.zeros(n_parts, np.int64)
    pn = np.zeros(n_parts, np.float64)
    for i in prange(n_parts):
        t, q = run_partition(p, b, a, v, series, part_series[i], part_series[i + 1], aF, aS, X, V)
        tr[i] = t
        pn[i] = q
    total = 0.0
    trades = 0
    for i in range(n_parts):  # partition totals in (symbol, day) order
        total += pn[i]
        trades += tr[i]
    return trades, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--fast", type=float, default=5.0)
    ap.add_argument("--slow", type=float, default=21.0)
    ap.add_argument("--max-spread", type=float, default=0.0005)
    ap.add_argument("--min-volume", type=float, default=1.0)
    o = ap.parse_args()
    ld = lambda n: np.load(os.path.join(o.dir, n + ".npy"))
    p, b, a, v = ld("price"), ld("bid"), ld("ask"), ld("volume")
    series, parts = ld("series"), ld("parts")
    # partition k's series: those starting in [parts[k], parts[k+1])
    part_series = np.searchsorted(series[:-1], parts, side="left").astype(np.int64)
    part_series[-1] = series.shape[0] - 1
    n = p.shape[0]
    aF = 2.0 / (o.fast + 1.0)
    aS = 2.0 / (o.slow + 1.0)
    X, V = o.max_spread, o.min_volume
    print(f"# numba {numba.__version__}, numpy {np.__version__}: {n} rows, "
          f"{series.shape[0] - 1} series, {parts.shape[0] - 1} partitions")
    for th in [int(x) for x in o.threads.split(",")]:
        numba.set_num_threads(th)
        trades, pnl = run_all(p, b, a, v, series, part_series, aF, aS, X, V)  # compile + warm
        ts = []
        for _ in range(o.runs):
            t0 = time.perf_counter()
            trades, pnl = run_all(p, b, a, v, series, part_series, aF, aS, X, V)
            ts.append(time.perf_counter() - t0)
        ts.sort()
        med = ts[len(ts) // 2]
        print(f"numba threads={th}: median {n / med / 1e6:.1f} M rows/s "
              f"(min {n / ts[-1] / 1e6:.1f}, max {n / ts[0] / 1e6:.1f}), "
              f"trades {trades}, pnl {pnl!r}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
