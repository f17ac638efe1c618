/*
 * bt_ref.h - the scalar reference of the EMA-crossover backtest
 * (spec/BACKTEST.md, BT-R1..BT-R9): the rule of issue 4 as a plain loop
 * over one partition's rows, nothing clever. The kernel in
 * engine/src/backtest.c must match it exactly: same trades, bit-identical
 * PnL. Compiled with the project's flags (-ffp-contract=off).
 */
#ifndef TL_BT_REF_H
#define TL_BT_REF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* One row of a partition, in the table's order (contract, time). key
 * identifies the contract (equal keys = same contract); *_null: the value
 * is null. */
typedef struct bt_ref_row {
    uint64_t key;
    int64_t ts;
    double p, b, a, v;
    unsigned char p_null, b_null, a_null, v_null;
} bt_ref_row;

typedef struct bt_ref_trade {
    size_t series;           /* ordinal of the series (contract) in the partition */
    size_t pair;
    int64_t entry_ts, exit_ts;
    double entry_price, exit_price, pnl;
} bt_ref_trade;

typedef struct bt_ref_out {
    uint64_t rows, rows_null_price, contracts;
    uint64_t trades[256];
    double pnl[256];         /* the partition's running sum per pair */
    bt_ref_trade *log;       /* malloc'd (free), in (series, pair, time) order */
    size_t n_log, cap_log;
} bt_ref_out;

static void bt_ref_log(bt_ref_out *o, size_t series, size_t pair, int64_t ets, double ep,
                       int64_t xts, double xp, double pnl)
{
    if (o->n_log == o->cap_log) {
        o->cap_log = o->cap_log ? 2 * o->cap_log : 64;
        o->log = realloc(o->log, o->cap_log * sizeof *o->log);
        if (!o->log)
            abort();
    }
    bt_ref_trade t = {series, pair, ets, xts, ep, xp, pnl};
    o->log[o->n_log++] = t;
}

/* The rule for one series (rows with non-null price only): p, b, a, v,
 * ts arrays of m rows. Adds each closed trade's p[exit] - entry to *pnl in
 * order; a position still open at row m-1 (also one opened there) closes
 * at p[m-1] and adds p[m-1] - entry. */
static void bt_ref_series(const double *p, const double *b, const double *a, const double *v,
                          const int64_t *ts, size_t m, double F, double S, double X, double V,
                          double *pnl, uint64_t *trades, bt_ref_out *log, size_t series,
                          size_t pair)
{
    if (m == 0)
        return;
    double aF = 2.0 / (F + 1.0), aS = 2.0 / (S + 1.0);
    double cF = 1.0 - aF, cS = 1.0 - aS;
    double fast = p[0], slow = p[0];
    int flat = 1;
    double entry = 0;
    int64_t entry_ts = 0;
    for (size_t j = 1; j < m; j++) {
        fast = p[j] * aF + fast * cF;
        slow = p[j] * aS + slow * cS;
        double mid = 0.5 * (a[j] + b[j]);
        int spread_ok = a[j] > 0 && b[j] > 0 && mid > 0 && (a[j] - b[j]) / mid <= X;
        if (flat) {
            if (fast > slow && spread_ok && v[j] >= V) {
                flat = 0;
                entry = p[j];
                entry_ts = ts[j];
                *trades += 1;
                if (j == m - 1) { /* opened on the last row: closes there */
                    *pnl += p[j] - entry;
                    flat = 1;
                    if (log)
                        bt_ref_log(log, series, pair, entry_ts, entry, ts[j], p[j], p[j] - entry);
                }
            }
        } else {
            if (slow >= fast || j == m - 1) {
                *pnl += p[j] - entry;
                flat = 1;
                if (log)
                    bt_ref_log(log, series, pair, entry_ts, entry, ts[j], p[j], p[j] - entry);
            }
        }
    }
}

/* One partition: series = maximal stretches of equal key; rows with null
 * price skipped; null bid/ask/volume read as 0. Pairs fast-major. Every
 * key change starts a series (also one whose rows all have null price). */
static void bt_ref_partition(const bt_ref_row *rows, size_t n, const double *fast,
                             size_t n_fast, const double *slow, size_t n_slow, double X,
                             double V, int want_log, bt_ref_out *o)
{
    double *p = malloc((n + 1) * sizeof *p), *b = malloc((n + 1) * sizeof *b);
    double *a = malloc((n + 1) * sizeof *a), *v = malloc((n + 1) * sizeof *v);
    int64_t *ts = malloc((n + 1) * sizeof *ts);
    if (!p || !b || !a || !v || !ts)
        abort();
    size_t series = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i, m = 0;
        while (e < n && rows[e].key == rows[i].key) {
            o->rows++;
            if (rows[e].p_null) {
                o->rows_null_price++;
            } else {
                p[m] = rows[e].p;
                b[m] = rows[e].b_null ? 0.0 : rows[e].b;
                a[m] = rows[e].a_null ? 0.0 : rows[e].a;
                v[m] = rows[e].v_null ? 0.0 : rows[e].v;
                ts[m] = rows[e].ts;
                m++;
            }
            e++;
        }
        if (m > 0)
            o->contracts++;
        for (size_t f = 0; f < n_fast; f++)
            for (size_t s = 0; s < n_slow; s++) {
                size_t k = f * n_slow + s;
                bt_ref_series(p, b, a, v, ts, m, fast[f], slow[s], X, V, &o->pnl[k],
                              &o->trades[k], want_log ? o : NULL, series, k);
            }
        series++;
        i = e;
    }
    free(p); free(b); free(a); free(v); free(ts);
}

#endif /* TL_BT_REF_H */
