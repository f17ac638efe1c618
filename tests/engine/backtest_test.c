/*
 * backtest_test.c - the EMA-crossover backtest (engine/src/backtest.c,
 * spec/BACKTEST.md): the kernel against the scalar reference bt_ref.h on
 * random, adversarial and generated data split into blocks every which way
 * (same trades, bit-identical PnL, same trade log), sweeps against single
 * pairs, the no-FMA check (BT-R10), error paths; and tl_backtest_run on
 * tables built in different ways, threads, time travel and CSV outputs.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "backtest_int.h"
#include "bt_ref.h"
#include "ticklake.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_bt.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(backtest, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static uint32_t rndn(uint32_t n) { return (uint32_t)(rnd() % n); }

/* Bit-identical, except that any NaN equals any NaN: IEEE 754 fixes neither
 * the sign nor the payload of a NaN result (x86 returns the first operand's
 * NaN, and a compiler may swap the operands of +), see BT-R9. */
static int same_bits(double x, double y)
{
    return memcmp(&x, &y, sizeof x) == 0 || (isnan(x) && isnan(y));
}

/* How the kernel test feeds columns. */
typedef struct feed {
    uint32_t max_block;  /* blocks of 1..max_block rows (random) */
    int price_f32;       /* price as float32 (values must be floats) */
    int vol_type;        /* TL_FLOAT64, TL_INT64, TL_INT32, TL_UINT16 */
    int bidask_f32;
    int use_sel;         /* add a selection bitmap keeping every row */
    int want_series, want_trades;
    uint32_t window;     /* kernel window rows; 0 = default */
    const unsigned char *drop; /* per row: 1 = not selected (sel bit 0) */
    uint64_t narrow_da, narrow_db; /* != 0: ask and bid handed over narrowed,
                                      as int32 k with value = k / d (every
                                      value must be one); an INT64 volume as
                                      int32 (scale 1) */
} feed;

/* k with (double)k / d == x, bit for bit (the test's rows are built so). */
static int32_t narrow_k(double x, uint64_t d)
{
    double k = nearbyint(x * (double)d);
    cr_assert(fabs(k) < 2147483648.0, "%.17g * %llu out of int32", x, (unsigned long long)d);
    cr_assert_eq(k / (double)d, x, "%.17g is not k / %llu", x, (unsigned long long)d);
    return (int32_t)k;
}

static void set_bit(uint8_t *bm, size_t i, int v)
{
    if (v)
        bm[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        bm[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* Run the kernel over rows (one partition) cut into random blocks. */
static void kernel_run(const bt_ref_row *rows, size_t n, const tl_bt_params *pr, const feed *fd,
                       tl_bt_unit_out *out)
{
    tl_error err = {0};
    tl_bt_kernel *k = NULL;
    cr_assert_eq(tl_bt_kernel_open(pr, fd->want_series, fd->want_trades, &k, &err), TL_OK, "%s",
                 err.msg);
    if (fd->window)
        tl_bt_kernel_set_window(k, fd->window);
    tl_bt_kernel_unit_begin(k);
    uint32_t maxb = fd->max_block ? fd->max_block : 1000;
    double *p = malloc((maxb + 1) * 8), *b = malloc((maxb + 1) * 8), *a = malloc((maxb + 1) * 8);
    float *pf = malloc((maxb + 1) * 4), *bf = malloc((maxb + 1) * 4), *af = malloc((maxb + 1) * 4);
    uint64_t *v = malloc((maxb + 1) * 8);
    int32_t *ka = malloc((maxb + 1) * 4), *kb = malloc((maxb + 1) * 4), *kv = malloc((maxb + 1) * 4);
    int64_t *ts = malloc((maxb + 1) * 8);
    uint32_t *ends = malloc((maxb + 1) * 4);
    size_t vb = maxb / 8 + 2;
    uint8_t *pv = calloc(vb, 1), *bv = calloc(vb, 1), *av = calloc(vb, 1), *vv = calloc(vb, 1),
            *sel = calloc(vb, 1);
    size_t pos = 0;
    while (pos < n) {
        uint32_t bs = 1 + rndn(maxb);
        if (bs > n - pos)
            bs = (uint32_t)(n - pos);
        int pn = 0, bn = 0, an = 0, vn = 0;
        uint32_t nr = 0;
        for (uint32_t i = 0; i < bs; i++) {
            const bt_ref_row *r = &rows[pos + i];
            p[i] = r->p_null ? 0 : r->p;
            pf[i] = (float)p[i];
            b[i] = r->b_null ? 0 : r->b;
            bf[i] = (float)b[i];
            a[i] = r->a_null ? 0 : r->a;
            af[i] = (float)a[i];
            double vd = r->v_null ? 0 : r->v;
            switch (fd->vol_type) {
            case TL_INT64: ((int64_t *)v)[i] = (int64_t)vd; break;
            case TL_INT32: ((int32_t *)v)[i] = (int32_t)vd; break;
            case TL_UINT16: ((uint16_t *)v)[i] = (uint16_t)vd; break;
            default: ((double *)v)[i] = vd; break;
            }
            if (fd->narrow_da) {
                ka[i] = narrow_k(a[i], fd->narrow_da);
                kb[i] = narrow_k(b[i], fd->narrow_db);
                kv[i] = (int32_t)vd;
            }
            ts[i] = r->ts;
            set_bit(pv, i, !r->p_null);
            set_bit(bv, i, !r->b_null);
            set_bit(av, i, !r->a_null);
            set_bit(vv, i, !r->v_null);
            set_bit(sel, i, !(fd->drop && fd->drop[pos + i]));
            pn |= r->p_null;
            bn |= r->b_null;
            an |= r->a_null;
            vn |= r->v_null;
            if (i > 0 && r->key != rows[pos + i - 1].key)
                ends[nr++] = i;
        }
        ends[nr++] = bs;
        tl_colvec cp = {fd->price_f32 ? (void *)pf : (void *)p, pn ? pv : NULL, NULL, NULL};
        tl_colvec cb = {fd->bidask_f32 ? (void *)bf : (void *)b, bn ? bv : NULL, NULL, NULL};
        tl_colvec ca = {fd->bidask_f32 ? (void *)af : (void *)a, an ? av : NULL, NULL, NULL};
        tl_colvec cv = {v, vn ? vv : NULL, NULL, NULL};
        tl_bt_input in = {
            .n_rows = bs,
            .price_type = fd->price_f32 ? TL_FLOAT32 : TL_FLOAT64,
            .bid_type = fd->bidask_f32 ? TL_FLOAT32 : TL_FLOAT64,
            .ask_type = fd->bidask_f32 ? TL_FLOAT32 : TL_FLOAT64,
            .volume_type = fd->vol_type ? (tl_type)fd->vol_type : TL_FLOAT64,
            .price = &cp, .bid = &cb, .ask = &ca, .volume = &cv,
            .ts = ts,
            .sel = fd->use_sel || fd->drop ? sel : NULL,
            .n_runs = nr,
            .run_ends = ends,
            .continues = pos > 0 && rows[pos].key == rows[pos - 1].key,
        };
        if (nr == 1 && rndn(4) == 0)
            in.n_runs = 0; /* "the whole block is one run" */
        tl_colvec nka = {ka, an ? av : NULL, NULL, NULL}, nkb = {kb, bn ? bv : NULL, NULL, NULL};
        tl_colvec nkv = {kv, vn ? vv : NULL, NULL, NULL};
        if (fd->narrow_da) {
            in.ask = &nka;
            in.bid = &nkb;
            in.ask_scale = fd->narrow_da;
            in.bid_scale = fd->narrow_db;
            if (fd->vol_type == TL_INT64) {
                in.volume = &nkv;
                in.volume_scale = 1;
            }
        }
        cr_assert_eq(tl_bt_kernel_block(k, &in, &err), TL_OK, "%s", err.msg);
        pos += bs;
    }
    cr_assert_eq(tl_bt_kernel_unit_end(k, out, &err), TL_OK, "%s", err.msg);
    tl_bt_kernel_close(k);
    free(p); free(b); free(a); free(pf); free(bf); free(af); free(v); free(ts); free(ends);
    free(ka); free(kb); free(kv);
    free(pv); free(bv); free(av); free(vv); free(sel);
}

/* Kernel result == reference result: counts, trades, PnL bits, trade log. */
static void check_same(const bt_ref_row *rows, size_t n, const tl_bt_params *pr, const feed *fd,
                       const char *what)
{
    bt_ref_out ref;
    memset(&ref, 0, sizeof ref);
    bt_ref_partition(rows, n, pr->fast, pr->n_fast, pr->slow, pr->n_slow, pr->max_spread,
                     pr->min_volume, 1, &ref);
    tl_bt_unit_out got = {0};
    kernel_run(rows, n, pr, fd, &got);
    cr_assert_eq(got.rows, ref.rows, "%s: rows", what);
    cr_assert_eq(got.rows_null_price, ref.rows_null_price, "%s: null prices", what);
    cr_assert_eq(got.contracts, ref.contracts, "%s: contracts %llu vs %llu", what,
                 (unsigned long long)got.contracts, (unsigned long long)ref.contracts);
    uint32_t np = pr->n_fast * pr->n_slow;
    if (fd->want_trades) {
        cr_assert_eq(got.n_trades, ref.n_log, "%s: trade log %zu vs ref %zu", what,
                     got.n_trades, ref.n_log);
        for (size_t i = 0; i < ref.n_log; i++) {
            const tl_bt_trade *g = &got.trade_log[i];
            const bt_ref_trade *r = &ref.log[i];
            cr_assert(g->series == r->series && g->pair == r->pair &&
                          g->entry_ts == r->entry_ts && g->exit_ts == r->exit_ts &&
                          same_bits(g->entry_price, r->entry_price) &&
                          same_bits(g->exit_price, r->exit_price) && same_bits(g->pnl, r->pnl),
                      "%s: trade %zu differs (series %llu/%zu pair %u/%zu entry %lld/%lld exit "
                      "%lld/%lld) prices %.17g/%.17g -> %.17g/%.17g",
                      what, i, (unsigned long long)g->series, r->series, g->pair, r->pair,
                      (long long)g->entry_ts, (long long)r->entry_ts, (long long)g->exit_ts,
                      (long long)r->exit_ts, g->entry_price, r->entry_price,
                      g->exit_price, r->exit_price);
        }
    }
    for (uint32_t k = 0; k < np; k++) {
        cr_assert_eq(got.trades[k], ref.trades[k], "%s: pair %u trades %llu vs ref %llu", what, k,
                     (unsigned long long)got.trades[k], (unsigned long long)ref.trades[k]);
        cr_assert(same_bits(got.pnl[k], ref.pnl[k]), "%s: pair %u pnl %.17g vs ref %.17g", what,
                  k, got.pnl[k], ref.pnl[k]);
    }
    if (fd->want_series) {
        /* per-series sums over pairs equal the reference log's per series */
        uint64_t groups = 0;
        for (size_t i = 0; i < n; i++)
            groups += i == 0 || rows[i].key != rows[i - 1].key;
        cr_assert_eq(got.n_series, groups, "%s: series", what);
        uint64_t tot_rows = 0;
        for (uint64_t s = 0; s < got.n_series; s++) {
            tot_rows += got.series_rows[s];
            for (uint32_t k = 0; k < np; k++) {
                uint64_t t = 0;
                double pnl = 0;
                for (size_t i = 0; i < ref.n_log; i++)
                    if (ref.log[i].series == s && ref.log[i].pair == k) {
                        t++;
                        pnl += ref.log[i].pnl;
                    }
                cr_assert_eq(got.series_trades[s * np + k], t, "%s: series %llu pair %u", what,
                             (unsigned long long)s, k);
                cr_assert(same_bits(got.series_pnl[s * np + k], pnl), "%s: series pnl", what);
            }
        }
        cr_assert_eq(tot_rows, ref.rows - ref.rows_null_price);
    }
    tl_bt_unit_out_free(&got);
    free(ref.log);
}

/* Realistic-ish rows: contracts of random lengths (1, 2, ... long), prices
 * on a 0.05 grid walking, bid/ask around them, volumes; nulls sprinkled. */
static bt_ref_row *make_rows(size_t n, double null_rate, int short_series)
{
    bt_ref_row *r = calloc(n, sizeof *r);
    size_t i = 0;
    uint64_t key = 0;
    while (i < n) {
        size_t len = short_series ? 1 + rndn(4) : (rndn(5) == 0 ? 1 + rndn(3) : 1 + rndn(3000));
        key += 1 + rndn(3);
        double cents = 500 + rndn(20000);
        int64_t ts = 1000;
        for (size_t j = 0; j < len && i < n; j++, i++) {
            int step = (int)rndn(7) - 3;
            cents += 5 * step;
            if (cents < 5)
                cents = 5;
            r[i].key = key;
            r[i].ts = ts;
            ts += rndn(3); /* equal timestamps happen */
            r[i].p = cents / 100.0;
            r[i].b = (cents - 5.0 * rndn(3)) / 100.0;
            r[i].a = (cents + 5.0 * rndn(3)) / 100.0;
            r[i].v = rndn(4);
            double u = (double)rndn(1000000) / 1e6;
            r[i].p_null = u < null_rate;
            r[i].b_null = rndn(1000000) < null_rate * 1e6;
            r[i].a_null = rndn(1000000) < null_rate * 1e6;
            r[i].v_null = rndn(1000000) < null_rate * 1e6;
        }
    }
    return r;
}

static const double X_LOOSE = 0.01;

/* ---- the FMA probe and the flags (BT-R10) ------------------------------------------ */

/* BT-R10 */
Test(backtest, probe_muladd_is_not_fused)
{
    /* a*b = 1 - 2^-60 exactly, which rounds to 1: unfused a*b + c = 0, fused
     * gives -2^-60 */
    double a = 1.0 + ldexp(1.0, -30), b = 1.0 - ldexp(1.0, -30), c = -1.0;
    volatile double prod = a * b;
    volatile double sum = prod + c;
    cr_assert_eq(sum, 0.0);
    cr_assert_eq(fma(a, b, c), -ldexp(1.0, -60), "libm fma is a real fused op");
    double got = tl_bt_probe_muladd(a, b, c);
    cr_assert(same_bits(got, sum), "the engine is built with fused multiply-add: a*b+c = %a, "
                                   "expected %a (build with -ffp-contract=off)",
              got, (double)sum);
}

/* The reference with one fused evaluation of the recurrences: what a build
 * with contraction could compute. */
static void fused_series(const double *p, const double *b, const double *a, const double *v,
                         size_t m, double F, double S, double X, double V, double *pnl,
                         uint64_t *trades)
{
    if (m == 0)
        return;
    double aF = 2.0 / (F + 1.0), aS = 2.0 / (S + 1.0), cF = 1.0 - aF, cS = 1.0 - aS;
    double fast = p[0], slow = p[0], entry = 0;
    int flat = 1;
    for (size_t j = 1; j < m; j++) {
        fast = fma(p[j], aF, fast * cF);
        slow = fma(p[j], aS, slow * cS);
        double mid = 0.5 * (a[j] + b[j]);
        int ok = a[j] > 0 && b[j] > 0 && mid > 0 && (a[j] - b[j]) / mid <= X;
        if (flat) {
            if (fast > slow && ok && v[j] >= V) {
                flat = 0;
                entry = p[j];
                *trades += 1;
                if (j == m - 1) {
                    *pnl += p[j] - entry;
                    flat = 1;
                }
            }
        } else if (slow >= fast || j == m - 1) {
            *pnl += p[j] - entry;
            flat = 1;
        }
    }
}

/* Rows of the generator's first partition (sorted mode). */
static bt_ref_row *gen_rows(uint64_t rows_per_day, uint64_t seed, size_t *n_out)
{
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    static const char *const sym[] = {"NIFTY"};
    o.symbols = sym;
    o.n_symbols = 1;
    o.rows_per_day = rows_per_day;
    o.seed = seed;
    o.sorted = 1;
    tl_gen *g = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
    bt_ref_row *rows = calloc(rows_per_day, sizeof *rows);
    size_t n = 0;
    for (;;) {
        tl_batch b;
        int done = 0;
        cr_assert_eq(tl_gen_next(g, 65536, &b, &done, &err), TL_OK, "%s", err.msg);
        if (done)
            break;
        int ci[8];
        const char *names[8] = {"timestamp", "expiry", "opt_type", "strike",
                                "price",     "bp0",    "sp0",      "volume"};
        for (int c = 0; c < 8; c++) {
            ci[c] = -1;
            for (uint32_t j = 0; j < b.n_cols; j++)
                if (strcmp(b.defs[j].name, names[c]) == 0)
                    ci[c] = (int)j;
            cr_assert_geq(ci[c], 0);
        }
        for (uint32_t i = 0; i < b.n_rows; i++, n++) {
            bt_ref_row *r = &rows[n];
            r->ts = ((const int64_t *)b.cols[ci[0]].values)[i];
            int32_t exp = ((const int32_t *)b.cols[ci[1]].values)[i];
            const tl_colvec *ot = &b.cols[ci[2]];
            uint8_t ch = ot->data[ot->offsets[i]];
            float strike = ((const float *)b.cols[ci[3]].values)[i];
            r->key = ((uint64_t)(uint32_t)exp << 40) ^ ((uint64_t)ch << 32) ^ (uint32_t)strike;
            r->p = ((const double *)b.cols[ci[4]].values)[i];
            r->b = ((const double *)b.cols[ci[5]].values)[i];
            r->b_null = !tl_bit_get(b.cols[ci[5]].validity, i);
            r->a = ((const double *)b.cols[ci[6]].values)[i];
            r->a_null = !tl_bit_get(b.cols[ci[6]].validity, i);
            r->v = (double)((const int64_t *)b.cols[ci[7]].values)[i];
        }
    }
    tl_gen_close(g);
    *n_out = n;
    return rows;
}

/* On generated ticks a fused evaluation changes trades or PnL (so the
 * bit-exact comparison below can fail), and the kernel matches the
 * unfused reference. */
Test(backtest, fused_evaluation_differs_and_kernel_matches_unfused, .timeout = 120)
{
    size_t n = 0;
    bt_ref_row *rows = gen_rows(200000, 7, &n);
    double F[] = {5, 8}, S[] = {21, 34};
    double X = 0.01;
    int differs = 0;
    double *p = malloc(n * 8), *b = malloc(n * 8), *a = malloc(n * 8), *v = malloc(n * 8);
    for (size_t f = 0; f < 2; f++)
        for (size_t s = 0; s < 2; s++) {
            double pnl_u = 0, pnl_f = 0;
            uint64_t tr_u = 0, tr_f = 0;
            for (size_t i = 0; i < n;) {
                size_t e = i, m = 0;
                while (e < n && rows[e].key == rows[i].key) {
                    p[m] = rows[e].p;
                    b[m] = rows[e].b_null ? 0 : rows[e].b;
                    a[m] = rows[e].a_null ? 0 : rows[e].a;
                    v[m] = rows[e].v;
                    m++, e++;
                }
                fused_series(p, b, a, v, m, F[f], S[s], X, 1, &pnl_f, &tr_f);
                int64_t *ts = calloc(m + 1, 8);
                bt_ref_series(p, b, a, v, ts, m, F[f], S[s], X, 1, &pnl_u, &tr_u, NULL, 0, 0);
                free(ts);
                i = e;
            }
            if (tr_u != tr_f || !same_bits(pnl_u, pnl_f))
                differs = 1;
        }
    cr_assert(differs, "a fused evaluation gave the same trades and PnL: this data cannot "
                       "detect contraction");
    tl_bt_params pr = {F, 2, S, 2, X, 1};
    feed fd = {.max_block = 16384, .vol_type = TL_INT64, .want_trades = 1, .want_series = 1};
    rng_state = 99;
    check_same(rows, n, &pr, &fd, "generated");
    free(p); free(b); free(a); free(v);
    free(rows);
}

/* ---- kernel vs reference --------------------------------------------------------- */

/* BT-R1, BT-R5, BT-R6, BT-R8: blocks, windows and selections of every size */
Test(backtest, kernel_matches_reference_random_blocks)
{
    double F[] = {5}, S[] = {21};
    for (int it = 0; it < 30; it++) {
        rng_state = 1000 + (uint64_t)it;
        size_t n = 1 + rndn(20000);
        bt_ref_row *rows = make_rows(n, it % 3 == 0 ? 0.0 : 0.02, it % 5 == 4);
        tl_bt_params pr = {F, 1, S, 1, it % 2 ? X_LOOSE : 0.0005, 1};
        feed fd = {.max_block = it % 4 == 0 ? 7 : it % 4 == 1 ? 64 : 5000,
                   .vol_type = it % 3 == 0 ? TL_INT64 : TL_FLOAT64,
                   .use_sel = it % 7 == 3,
                   .want_trades = 1,
                   .want_series = it % 2,
                   .window = it % 5 == 0 ? 1 : it % 5 == 1 ? 100 : it % 5 == 2 ? 4096 : 0};
        char what[64];
        snprintf(what, sizeof what, "iteration %d", it);
        check_same(rows, n, &pr, &fd, what);
        free(rows);
    }
}

/* (double)(float)x through a volatile: GCC 12 with -march=native (SLP
 * vectorizer) was seen to drop the narrowing of some elements when this
 * loop was written as x = (float)x over an array of structs. */
static double round_f32(double x)
{
    volatile float f = (float)x;
    return f;
}

/* BT-R4 */
Test(backtest, kernel_converts_float32_and_integer_columns)
{
    double F[] = {3}, S[] = {9};
    rng_state = 4242;
    size_t n = 8000;
    bt_ref_row *rows = make_rows(n, 0.01, 0);
    for (size_t i = 0; i < n; i++) { /* values exact in float32 and uint16 */
        rows[i].p = round_f32(rows[i].p);
        rows[i].b = round_f32(rows[i].b);
        rows[i].a = round_f32(rows[i].a);
    }
    tl_bt_params pr = {F, 1, S, 1, X_LOOSE, 1};
    int vt[] = {TL_INT32, TL_UINT16, TL_INT64, TL_FLOAT64};
    for (int i = 0; i < 4; i++) {
        feed fd = {.max_block = 300, .price_f32 = 1, .bidask_f32 = 1, .vol_type = vt[i],
                   .want_trades = 1};
        check_same(rows, n, &pr, &fd, "float32 prices");
    }
    free(rows);
}

/* NaN, infinities, zero and negative bids/asks, huge values, subnormals. */
/* BT-R1 (conventions), BT-R6, BT-R9 */
Test(backtest, kernel_matches_reference_adversarial_values)
{
    static const double pool[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, -1.0, 1.0, 1e308,
                                  -1e308, 5e-324, DBL_MIN, 100.0, 100.05, 99.95, 1e-3, 2.0};
    size_t np = sizeof pool / sizeof pool[0];
    double F[] = {2, 5}, S[] = {3, 21};
    for (int it = 0; it < 40; it++) {
        rng_state = 77 + (uint64_t)it;
        size_t n = 1 + rndn(3000);
        bt_ref_row *rows = make_rows(n, 0.05, it % 2);
        for (size_t i = 0; i < n; i++) {
            if (rndn(3) == 0)
                rows[i].p = pool[rndn((uint32_t)np)];
            if (rndn(3) == 0)
                rows[i].b = pool[rndn((uint32_t)np)];
            if (rndn(3) == 0)
                rows[i].a = pool[rndn((uint32_t)np)];
            if (rndn(3) == 0)
                rows[i].v = pool[rndn((uint32_t)np)];
        }
        tl_bt_params pr = {F, 2, S, 2, it % 3 ? INFINITY : X_LOOSE, it % 4 ? 1.0 : -INFINITY};
        feed fd = {.max_block = 1 + rndn(200), .want_trades = 1, .want_series = 1,
                   .window = it % 3 ? 1 + rndn(500) : 0};
        check_same(rows, n, &pr, &fd, "adversarial");
        free(rows);
    }
}

/* BT-R4: the spread test at its limit. The kernel decides d / mid <= X
 * without dividing where the answer is clear and divides near X; here X
 * is set to the exact quotient of rows of the data (and to its neighbours
 * one ulp away), and bid/ask pairs are drawn so that many rows sit on or
 * next to the limit, including tiny and huge mids. */
Test(backtest, kernel_spread_limit_exactly_at_quotients)
{
    double F[] = {2, 5}, S[] = {3, 21};
    for (int it = 0; it < 24; it++) {
        rng_state = 4242 + (uint64_t)it;
        size_t n = 200 + rndn(3000);
        bt_ref_row *rows = make_rows(n, 0.01, it % 2);
        /* half the rows share a few (bid, ask) shapes scaled by powers of
         * two (same quotient) or by neighbouring prices (quotients one or
         * two ulps apart) */
        static const double shape_b[] = {100.0, 99.95, 1.0, 0.05, 2267.6};
        static const double shape_a[] = {100.05, 100.0, 1.0005, 0.05005, 2268.2};
        for (size_t i = 0; i < n; i++) {
            if (rndn(2))
                continue;
            uint32_t sh = rndn(5);
            int e = (int)rndn(9) - 4;
            if (it % 6 == 5)
                e = rndn(2) ? 990 + (int)rndn(30) : -990 - (int)rndn(30); /* near the edges */
            rows[i].b = ldexp(shape_b[sh], e);
            rows[i].a = ldexp(shape_a[sh], e);
            if (rndn(4) == 0)
                rows[i].a = nextafter(rows[i].a, rndn(2) ? INFINITY : 0);
        }
        size_t pick = rndn((uint32_t)n);
        double q = (rows[pick].a - rows[pick].b) / (0.5 * (rows[pick].a + rows[pick].b));
        double X = it % 3 == 0 ? q : it % 3 == 1 ? nextafter(q, INFINITY) : nextafter(q, -INFINITY);
        if (!(X > 0) || !isfinite(X))
            X = (100.05 - 100.0) / (0.5 * (100.05 + 100.0));
        tl_bt_params pr = {F, 2, S, 2, X, 1};
        feed fd = {.max_block = 1 + rndn(300), .want_trades = 1, .want_series = 1,
                   .window = it % 2 ? 1 + rndn(700) : 0};
        char what[96];
        snprintf(what, sizeof what, "iteration %d, X = %.17g", it, X);
        check_same(rows, n, &pr, &fd, what);
        free(rows);
    }
}

/* BT-R4 with bid and ask narrowed (int32 k and a divisor, as a scan hands
 * SCALED columns to the kernel): decided in integers away from X, by the
 * IEEE expression near it. Prices on the divisors' grids, X set to the
 * exact quotient of a row and its neighbours, divisors equal and not,
 * nulls, volume as int32. */
Test(backtest, kernel_narrowed_bid_ask_match_reference)
{
    static const uint64_t divs[][2] = {{20, 20}, {100, 20}, {1, 1000}, {2097152, 3}, {7, 100}};
    double F[] = {2, 5}, S[] = {3, 21};
    for (int it = 0; it < 30; it++) {
        rng_state = 9191 + (uint64_t)it;
        uint64_t da = divs[it % 5][0], db = divs[it % 5][1];
        size_t n = 100 + rndn(4000);
        bt_ref_row *rows = make_rows(n, 0.02, it % 2);
        for (size_t i = 0; i < n; i++) { /* quotes on the grids, some crossed, some 0 */
            int64_t kb = 1000 + (int64_t)rndn(200000) - (rndn(40) == 0 ? 300000 : 0);
            int64_t ka = (int64_t)((double)kb / (double)db * (double)da) + (int64_t)rndn(60) - 5;
            if (rndn(3) == 0) /* spreads exactly at a few shapes */
                ka = (int64_t)(((double)kb / (double)db) * (double)da * 1.0005);
            if (ka > 2000000000 || ka < -2000000000)
                ka = 1;
            if (!rows[i].b_null)
                rows[i].b = (double)kb / (double)db;
            if (!rows[i].a_null)
                rows[i].a = (double)ka / (double)da;
            rows[i].v = (double)((int64_t)rndn(5) - 1);
        }
        size_t pick = rndn((uint32_t)n);
        double q = (rows[pick].a - rows[pick].b) / (0.5 * (rows[pick].a + rows[pick].b));
        double X = it % 3 == 0 ? q : it % 3 == 1 ? nextafter(q, INFINITY) : nextafter(q, -INFINITY);
        if (!isfinite(X))
            X = 0.0005;
        tl_bt_params pr = {F, 2, S, 2, X, it % 4 ? 1.0 : 0.5};
        feed fd = {.max_block = 1 + rndn(600), .want_trades = 1, .want_series = 1,
                   .vol_type = it % 2 ? TL_INT64 : TL_FLOAT64, .narrow_da = da,
                   .narrow_db = db};
        char what[128];
        snprintf(what, sizeof what, "iteration %d, da %llu, db %llu, X = %.17g", it,
                 (unsigned long long)da, (unsigned long long)db, X);
        check_same(rows, n, &pr, &fd, what);
        free(rows);
    }
}

/* Series of length 1 and 2, entry on the last row, a position open across
 * many blocks of one row. */
/* BT-R7 */
Test(backtest, kernel_short_series_and_last_row_entry)
{
    /* one series: flat prices then a rise on the last row -> entry on the
     * last row, closed there (adds p - p = +0) */
    bt_ref_row r[6];
    memset(r, 0, sizeof r);
    double px[6] = {10, 10, 10, 10, 10, 11};
    for (int i = 0; i < 6; i++) {
        r[i].key = 1;
        r[i].ts = i;
        r[i].p = px[i];
        r[i].b = px[i] - 0.01;
        r[i].a = px[i] + 0.01;
        r[i].v = 5;
    }
    double F[] = {2}, S[] = {5};
    tl_bt_params pr = {F, 1, S, 1, 0.01, 1};
    for (uint32_t mb = 1; mb <= 6; mb++)
        for (uint32_t win = 0; win <= 6; win++) {
            feed fd = {.max_block = mb, .want_trades = 1, .want_series = 1, .window = win};
            check_same(r, 6, &pr, &fd, "last-row entry");
        }
    bt_ref_out ref;
    memset(&ref, 0, sizeof ref);
    bt_ref_partition(r, 6, F, 1, S, 1, 0.01, 1, 1, &ref);
    cr_assert_eq(ref.trades[0], 1);
    cr_assert_eq(ref.n_log, 1);
    cr_assert_eq(ref.log[0].entry_ts, 5);
    cr_assert_eq(ref.log[0].exit_ts, 5);
    cr_assert(same_bits(ref.pnl[0], 0.0));
    free(ref.log);

    /* lengths 1 and 2 alternating, and single rows with null prices */
    rng_state = 5;
    bt_ref_row *rows = make_rows(5000, 0.1, 1);
    for (uint32_t mb = 1; mb <= 9; mb += 4) {
        feed fd = {.max_block = mb, .want_trades = 1, .want_series = 1, .vol_type = TL_INT64,
                   .window = mb == 5 ? 7 : 0};
        check_same(rows, 5000, &pr, &fd, "short series");
    }
    free(rows);
}

/* The single-pair path runs 16 series side by side, 8 rows at a time:
 * many concurrent series of 8..40 rows (tails of 0..7 rows), a few long
 * ones, NaN and infinite prices inside series, windows that cut series. */
Test(backtest, kernel_single_pair_lanes_match_reference)
{
    double F[] = {3}, S[] = {7};
    for (int it = 0; it < 12; it++) {
        rng_state = 7000 + (uint64_t)it;
        size_t n = 4000 + rndn(6000);
        bt_ref_row *rows = make_rows(n, 0.0, 0);
        size_t i = 0;
        uint64_t key = 1u << 20;
        while (i < n) { /* re-cut into series of 8..40 rows, every 9th long */
            size_t len = rndn(9) == 0 ? 200 + rndn(900) : 8 + rndn(33);
            key++;
            for (size_t j = 0; j < len && i < n; j++, i++)
                rows[i].key = key;
        }
        for (int q = 0; q < 6; q++) {
            size_t at = rndn((uint32_t)n);
            rows[at].p = q % 3 == 0 ? NAN : q % 3 == 1 ? INFINITY : -INFINITY;
        }
        tl_bt_params pr = {F, 1, S, 1, X_LOOSE, 1};
        feed fd = {.max_block = it % 3 == 0 ? 61 : 5000, .want_trades = 1, .want_series = 1,
                   .window = it % 4 == 0 ? 512 : it % 4 == 1 ? 8193 : 0};
        char what[64];
        snprintf(what, sizeof what, "lanes iteration %d", it);
        check_same(rows, n, &pr, &fd, what);
        free(rows);
    }
}

/* Every pair of a sweep equals a run of that pair alone. */
/* BT-R11 */
Test(backtest, sweep_pairs_equal_single_runs)
{
    double F[] = {5, 8, 13, 5}, S[] = {21, 34, 8};
    rng_state = 31337;
    size_t n = 30000;
    bt_ref_row *rows = make_rows(n, 0.01, 0);
    tl_bt_params pr = {F, 4, S, 3, X_LOOSE, 1};
    feed fd = {.max_block = 4096, .vol_type = TL_INT64, .want_trades = 1, .want_series = 1};
    tl_bt_unit_out all = {0};
    rng_state = 1;
    kernel_run(rows, n, &pr, &fd, &all);
    check_same(rows, n, &pr, &fd, "sweep");
    for (uint32_t f = 0; f < 4; f++)
        for (uint32_t s = 0; s < 3; s++) {
            tl_bt_params one = {&F[f], 1, &S[s], 1, X_LOOSE, 1};
            tl_bt_unit_out o = {0};
            rng_state = 2 + f * 3 + s;
            kernel_run(rows, n, &one, &fd, &o);
            cr_assert_eq(o.trades[0], all.trades[f * 3 + s]);
            cr_assert(same_bits(o.pnl[0], all.pnl[f * 3 + s]), "pair (%g, %g)", F[f], S[s]);
            tl_bt_unit_out_free(&o);
        }
    tl_bt_unit_out_free(&all);
    free(rows);
}

/* Rows a selection bitmap drops are as if absent. */
Test(backtest, kernel_drops_unselected_rows)
{
    double F[] = {5, 9}, S[] = {21};
    rng_state = 8080;
    size_t n = 20000;
    bt_ref_row *rows = make_rows(n, 0.01, 0);
    unsigned char *drop = calloc(n, 1);
    bt_ref_row *kept = calloc(n, sizeof *kept);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        drop[i] = rndn(10) == 0 || (rows[i].key % 7 == 0); /* whole series too */
        if (!drop[i])
            kept[m++] = rows[i];
    }
    tl_bt_params pr = {F, 2, S, 1, X_LOOSE, 1};
    bt_ref_out ref;
    memset(&ref, 0, sizeof ref);
    bt_ref_partition(kept, m, F, 2, S, 1, X_LOOSE, 1, 0, &ref);
    feed fd = {.max_block = 700, .drop = drop, .window = 3000};
    tl_bt_unit_out got = {0};
    kernel_run(rows, n, &pr, &fd, &got);
    cr_assert_eq(got.rows, ref.rows);
    cr_assert_eq(got.rows_null_price, ref.rows_null_price);
    cr_assert_eq(got.contracts, ref.contracts);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(got.trades[k], ref.trades[k]);
        cr_assert(same_bits(got.pnl[k], ref.pnl[k]), "pair %d: %.17g vs %.17g", k, got.pnl[k],
                  ref.pnl[k]);
    }
    cr_assert_gt(ref.trades[0], 0);
    tl_bt_unit_out_free(&got);
    free(ref.log);
    free(drop);
    free(kept);
    free(rows);
}

/* ---- kernel errors --------------------------------------------------------------- */

/* BT-R3 */
Test(backtest, kernel_rejects_bad_parameters)
{
    tl_error err = {0};
    tl_bt_kernel *k = NULL;
    double F[] = {5}, S[] = {21}, bad[] = {0};
    tl_bt_params pr = {F, 1, S, 1, 0.0005, 1};
    pr.fast = bad;
    cr_assert_eq(tl_bt_kernel_open(&pr, 0, 0, &k, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "fast span 1"), "%s", err.msg);
    pr.fast = F;
    double nanv[] = {NAN};
    pr.slow = nanv;
    cr_assert_eq(tl_bt_kernel_open(&pr, 0, 0, &k, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "slow span 1"), "%s", err.msg);
    pr.slow = S;
    pr.n_fast = 17;
    cr_assert_eq(tl_bt_kernel_open(&pr, 0, 0, &k, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "found 17"), "%s", err.msg);
    pr.n_fast = 1;
    pr.max_spread = NAN;
    cr_assert_eq(tl_bt_kernel_open(&pr, 0, 0, &k, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "NaN"), "%s", err.msg);
    cr_assert_null(k);
}

Test(backtest, kernel_rejects_bad_blocks)
{
    tl_error err = {0};
    tl_bt_kernel *k = NULL;
    double F[] = {5}, S[] = {21};
    tl_bt_params pr = {F, 1, S, 1, 0.0005, 1};
    cr_assert_eq(tl_bt_kernel_open(&pr, 0, 0, &k, &err), TL_OK);
    tl_bt_kernel_unit_begin(k);
    double p[4] = {1, 2, 3, 4};
    char s[4] = "abc";
    tl_colvec c = {p, NULL, NULL, NULL}, cs = {s, NULL, NULL, NULL};
    uint32_t ends[2] = {3, 3};
    tl_bt_input in = {.n_rows = 4, .price_type = TL_FLOAT64, .bid_type = TL_FLOAT64,
                      .ask_type = TL_FLOAT64, .volume_type = TL_FLOAT64, .price = &c,
                      .bid = &c, .ask = &c, .volume = &c, .n_runs = 2, .run_ends = ends};
    cr_assert_eq(tl_bt_kernel_block(k, &in, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "run 1 of a block of 4 rows"), "%s", err.msg);
    ends[1] = 4;
    in.volume_type = TL_BOOL;
    in.volume = &cs;
    cr_assert_eq(tl_bt_kernel_block(k, &in, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "volume column") && strstr(err.msg, "bool"), "%s", err.msg);
    in.volume_type = TL_FLOAT64;
    in.volume = &c;
    cr_assert_eq(tl_bt_kernel_block(k, &in, &err), TL_OK, "%s", err.msg);
    tl_bt_unit_out o = {0};
    cr_assert_eq(tl_bt_kernel_unit_end(k, &o, &err), TL_OK);
    cr_assert_eq(o.rows, 4);
    cr_assert_eq(o.contracts, 2);
    tl_bt_unit_out_free(&o);
    tl_bt_kernel_close(k);
}

/* ---- through tables ------------------------------------------------------------- */

/* A deep copy of a batch (the generator's memory is reused). */
typedef struct own_batch {
    tl_batch b;
    tl_colvec *cols;
} own_batch;

static own_batch copy_batch(const tl_batch *b)
{
    own_batch o;
    o.cols = calloc(b->n_cols, sizeof *o.cols);
    for (uint32_t c = 0; c < b->n_cols; c++) {
        const tl_colvec *s = &b->cols[c];
        tl_colvec *d = &o.cols[c];
        size_t w = tl_type_width(b->defs[c].type);
        if (w) {
            void *v = malloc((size_t)b->n_rows * w + 1);
            memcpy(v, s->values, (size_t)b->n_rows * w);
            d->values = v;
        } else {
            uint32_t *off = malloc(((size_t)b->n_rows + 1) * 4);
            memcpy(off, s->offsets, ((size_t)b->n_rows + 1) * 4);
            uint8_t *data = malloc(off[b->n_rows] + 1);
            memcpy(data, s->data, off[b->n_rows]);
            d->offsets = off;
            d->data = data;
        }
        if (s->validity) {
            uint8_t *v = malloc(((size_t)b->n_rows + 7) / 8);
            memcpy(v, s->validity, ((size_t)b->n_rows + 7) / 8);
            d->validity = v;
        }
    }
    o.b = *b;
    o.b.cols = o.cols;
    return o;
}

static void free_batch(own_batch *o)
{
    for (uint32_t c = 0; c < o->b.n_cols; c++) {
        free((void *)o->cols[c].values);
        free((void *)o->cols[c].offsets);
        free((void *)o->cols[c].data);
        free((void *)o->cols[c].validity);
    }
    free(o->cols);
}

/* Generated ticks in arrival order, cut into batches of at most rows_per_batch. */
static own_batch *gen_batches(uint32_t days, uint64_t rows_per_day, uint32_t rows_per_batch,
                              size_t *n_out)
{
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.days = days;
    o.rows_per_day = rows_per_day;
    o.seed = 11;
    tl_gen *g = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
    size_t n = 0, cap = 16;
    own_batch *v = malloc(cap * sizeof *v);
    for (;;) {
        tl_batch b;
        int done = 0;
        cr_assert_eq(tl_gen_next(g, rows_per_batch, &b, &done, &err), TL_OK, "%s", err.msg);
        if (done)
            break;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = copy_batch(&b);
    }
    tl_gen_close(g);
    *n_out = n;
    return v;
}

static void table_make(const char *path)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(path, &spec, &err), TL_OK, "%s", err.msg);
}

/* Append batches [from, to) (step +1 or -1) in one commit. */
static int64_t append_range(const char *path, own_batch *v, long from, long to, long step,
                            uint64_t segment_rows)
{
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_append_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.segment_rows = segment_rows;
    ao.threads = 1;
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
    for (long i = from; i != to; i += step)
        cr_assert_eq(tl_append_batch(a, &v[i].b, &err), TL_OK, "%s", err.msg);
    tl_append_result res;
    cr_assert_eq(tl_append_commit(a, &res, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    return res.version;
}

typedef struct bt_run {
    tl_backtest_result r;
} bt_run;

static tl_backtest_result run_bt(const char *path, int64_t version, const tl_backtest_opts *o)
{
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    tl_at at = {version < 0 ? TL_AT_LATEST : TL_AT_VERSION, version, 0};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    tl_backtest_result r;
    cr_assert_eq(tl_backtest_run(s, o, &r, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
    return r;
}

/* A row read back for the reference, with its sort key. */
typedef struct tab_row {
    size_t part;     /* partition ordinal in reader order */
    size_t seq;      /* reader order (for stability) */
    int32_t expiry;
    char opt[4];
    float strike;
    bt_ref_row r;
} tab_row;

static int tab_cmp(const void *x, const void *y)
{
    const tab_row *a = x, *b = y;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    if (a->expiry != b->expiry)
        return a->expiry < b->expiry ? -1 : 1;
    int c = strcmp(a->opt, b->opt);
    if (c)
        return c;
    if (a->strike != b->strike)
        return a->strike < b->strike ? -1 : 1;
    if (a->r.ts != b->r.ts)
        return a->r.ts < b->r.ts ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The reference over a table version: rows read with tl_reader, each
 * partition stably sorted by (expiry, opt_type, strike, timestamp), the
 * rule per partition, partition totals summed in (symbol, day) order. */
static void table_reference(const char *path, int64_t version, const tl_rows_filter *flt,
                            const double *F, size_t nf,
                            const double *S, size_t ns, double X, double V, uint64_t *trades,
                            double *pnl, uint64_t *rows, uint64_t *contracts,
                            bt_ref_out **parts_out, size_t *n_parts_out)
{
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    tl_at at = {version < 0 ? TL_AT_LATEST : TL_AT_VERSION, version, 0};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    static const char *const cols[] = {"symbol", "timestamp", "expiry", "opt_type",
                                       "strike", "price",     "bp0",    "sp0",
                                       "volume"};
    tl_reader *rd = NULL;
    cr_assert_eq(tl_reader_open(s, flt, cols, 9, &rd, &err), TL_OK, "%s", err.msg);
    size_t n = 0, cap = 1024, part = 0;
    tab_row *v = malloc(cap * sizeof *v);
    char last_sym[64] = "";
    int64_t last_day = INT64_MIN;
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(rd, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            if (n == cap)
                v = realloc(v, (cap *= 2) * sizeof *v);
            tab_row *r = &v[n];
            memset(r, 0, sizeof *r);
            const tl_colvec *sy = &b.cols[0];
            char sym[64];
            uint32_t sl = sy->offsets[i + 1] - sy->offsets[i];
            memcpy(sym, sy->data + sy->offsets[i], sl);
            sym[sl] = 0;
            int64_t ts = ((const int64_t *)b.cols[1].values)[i];
            int64_t day = ts >= 0 ? ts / (INT64_C(86400) * 1000000000) : -1;
            if (n == 0 || strcmp(sym, last_sym) != 0 || day != last_day) {
                if (n > 0)
                    part++;
                strcpy(last_sym, sym);
                last_day = day;
            }
            r->part = part;
            r->seq = n;
            r->expiry = ((const int32_t *)b.cols[2].values)[i];
            const tl_colvec *ot = &b.cols[3];
            uint32_t ol = ot->offsets[i + 1] - ot->offsets[i];
            memcpy(r->opt, ot->data + ot->offsets[i], ol < 3 ? ol : 3);
            r->strike = ((const float *)b.cols[4].values)[i];
            r->r.ts = ts;
            uint32_t sb;
            memcpy(&sb, &r->strike, 4);
            r->r.key = ((uint64_t)(uint32_t)r->expiry << 40) ^
                       ((uint64_t)(uint8_t)r->opt[0] << 32) ^ sb;
            r->r.p = ((const double *)b.cols[5].values)[i];
            r->r.p_null = !tl_bit_get(b.cols[5].validity, i);
            r->r.b = ((const double *)b.cols[6].values)[i];
            r->r.b_null = !tl_bit_get(b.cols[6].validity, i);
            r->r.a = ((const double *)b.cols[7].values)[i];
            r->r.a_null = !tl_bit_get(b.cols[7].validity, i);
            r->r.v = (double)((const int64_t *)b.cols[8].values)[i];
            r->r.v_null = !tl_bit_get(b.cols[8].validity, i);
            n++;
        }
    }
    tl_reader_close(rd);
    tl_snapshot_close(s);
    tl_table_close(t);
    qsort(v, n, sizeof *v, tab_cmp);
    size_t np = nf * ns;
    for (size_t k = 0; k < np; k++) {
        trades[k] = 0;
        pnl[k] = 0.0;
    }
    *rows = 0;
    *contracts = 0;
    bt_ref_row *rr = malloc((n + 1) * sizeof *rr);
    size_t n_parts = n ? part + 1 : 0;
    bt_ref_out *parts = calloc(n_parts + 1, sizeof *parts);
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && v[e].part == v[i].part)
            e++;
        for (size_t j = i; j < e; j++)
            rr[j - i] = v[j].r;
        bt_ref_out *o = &parts[v[i].part];
        bt_ref_partition(rr, e - i, F, nf, S, ns, X, V, 1, o);
        for (size_t k = 0; k < np; k++) {
            trades[k] += o->trades[k];
            pnl[k] += o->pnl[k];
        }
        *rows += o->rows;
        *contracts += o->contracts;
        i = e;
    }
    free(rr);
    free(v);
    if (parts_out) {
        *parts_out = parts;
        *n_parts_out = n_parts;
    } else {
        for (size_t i = 0; i < n_parts; i++)
            free(parts[i].log);
        free(parts);
    }
}

static void check_table_f(const char *path, int64_t version, const tl_rows_filter *flt,
                          const tl_backtest_opts *o, const tl_backtest_result *r,
                          const char *what)
{
    uint64_t trades[256], rows, contracts;
    double pnl[256];
    size_t nf = o->n_fast ? o->n_fast : 1, ns = o->n_slow ? o->n_slow : 1;
    static const double f5 = 5, s21 = 21;
    table_reference(path, version, flt, o->n_fast ? o->fast : &f5, nf,
                    o->n_slow ? o->slow : &s21, ns,
                    o->max_spread, o->min_volume, trades, pnl, &rows, &contracts, NULL, NULL);
    cr_assert_eq(r->rows, rows, "%s: rows %llu vs %llu", what, (unsigned long long)r->rows,
                 (unsigned long long)rows);
    cr_assert_eq(r->contracts, contracts, "%s: contracts", what);
    cr_assert_eq(r->n_pairs, nf * ns);
    uint64_t any = 0;
    for (size_t k = 0; k < nf * ns; k++) {
        cr_assert_eq(r->pairs[k].trades, trades[k], "%s: pair %zu trades %llu vs ref %llu", what,
                     k, (unsigned long long)r->pairs[k].trades, (unsigned long long)trades[k]);
        cr_assert(same_bits(r->pairs[k].pnl, pnl[k]), "%s: pair %zu pnl %.17g vs ref %.17g",
                  what, k, r->pairs[k].pnl, pnl[k]);
        any += trades[k];
    }
    cr_assert_gt(any, 0, "%s: no trades at all: the data tests nothing", what);
}

static void check_table(const char *path, int64_t version, const tl_backtest_opts *o,
                        const tl_backtest_result *r, const char *what)
{
    check_table_f(path, version, NULL, o, r, what);
}

static void same_result(const tl_backtest_result *a, const tl_backtest_result *b, const char *what)
{
    cr_assert_eq(a->rows, b->rows, "%s: rows", what);
    cr_assert_eq(a->contracts, b->contracts, "%s: contracts", what);
    cr_assert_eq(a->partitions, b->partitions, "%s: partitions", what);
    cr_assert_eq(a->n_pairs, b->n_pairs);
    for (uint32_t k = 0; k < a->n_pairs; k++) {
        cr_assert_eq(a->pairs[k].trades, b->pairs[k].trades, "%s: pair %u trades", what, k);
        cr_assert(same_bits(a->pairs[k].pnl, b->pairs[k].pnl), "%s: pair %u pnl %.17g vs %.17g",
                  what, k, a->pairs[k].pnl, b->pairs[k].pnl);
    }
}

/* The same rows appended (a) at once, (b) in many small appends, (c) out of
 * time order, (d) as several segments per partition: identical results,
 * equal to the reference; threads 1 and 2 agree. */
/* BT-R1, BT-R8 */
Test(backtest, table_histories_give_identical_results, .timeout = 300)
{
    size_t nb = 0;
    own_batch *v = gen_batches(2, 20000, 4000, &nb);
    double F[] = {5, 8}, S[] = {21, 34};
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.fast = F;
    o.n_fast = 2;
    o.slow = S;
    o.n_slow = 2;
    o.max_spread = 0.01;
    o.threads = 1;
    char pa[400], pb[400], pc[400], pd[400];
    snprintf(pa, sizeof pa, "%s/a", dir);
    snprintf(pb, sizeof pb, "%s/b", dir);
    snprintf(pc, sizeof pc, "%s/c", dir);
    snprintf(pd, sizeof pd, "%s/d", dir);
    table_make(pa);
    append_range(pa, v, 0, (long)nb, 1, 0);
    table_make(pb);
    for (size_t i = 0; i < nb; i++)
        append_range(pb, v, (long)i, (long)i + 1, 1, 0);
    table_make(pc);
    append_range(pc, v, (long)nb - 1, (long)nb / 2 - 1, -1, 0);
    append_range(pc, v, (long)nb / 2 - 1, -1, -1, 0);
    table_make(pd);
    append_range(pd, v, 0, (long)nb, 1, 1500);

    tl_backtest_result ra = run_bt(pa, -1, &o);
    check_table(pa, -1, &o, &ra, "one import");
    cr_assert_eq(ra.partitions, 4);
    cr_assert_eq(ra.rows, 80000);
    const char *names[3] = {"small appends", "out of time order", "small segments"};
    const char *paths[3] = {pb, pc, pd};
    for (int i = 0; i < 3; i++) {
        tl_backtest_result r = run_bt(paths[i], -1, &o);
        check_table(paths[i], -1, &o, &r, names[i]);
        same_result(&ra, &r, names[i]);
        tl_backtest_result_free(&r);
        o.threads = 2;
        r = run_bt(paths[i], -1, &o);
        same_result(&ra, &r, "two threads");
        tl_backtest_result_free(&r);
        o.threads = 1;
    }
    /* the default parameters too */
    tl_backtest_opts d;
    tl_backtest_opts_default(&d);
    tl_backtest_result r1 = run_bt(pd, -1, &d);
    tl_backtest_result r2 = run_bt(pa, -1, &d);
    same_result(&r1, &r2, "defaults");
    cr_assert_eq(r1.n_pairs, 1);
    cr_assert_eq(r1.pairs[0].fast, 5);
    cr_assert_eq(r1.pairs[0].slow, 21);
    tl_backtest_result_free(&r1);
    tl_backtest_result_free(&r2);
    tl_backtest_result_free(&ra);
    for (size_t i = 0; i < nb; i++)
        free_batch(&v[i]);
    free(v);
}

/* A result at version N equals the reference on version N's rows. */
Test(backtest, time_travel_runs_on_that_versions_rows, .timeout = 120)
{
    size_t nb = 0;
    own_batch *v = gen_batches(1, 30000, 5000, &nb);
    char p[400];
    snprintf(p, sizeof p, "%s/t", dir);
    table_make(p);
    int64_t v1 = append_range(p, v, 0, (long)nb / 2, 1, 0);
    int64_t v2 = append_range(p, v, (long)nb / 2, (long)nb, 1, 0);
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.max_spread = 0.01;
    tl_backtest_result r1 = run_bt(p, v1, &o), r2 = run_bt(p, v2, &o);
    cr_assert_eq(r1.version, v1);
    cr_assert_eq(r2.version, v2);
    cr_assert_lt(r1.rows, r2.rows);
    check_table(p, v1, &o, &r1, "version 1");
    check_table(p, v2, &o, &r2, "version 2");
    cr_assert_str_eq(r1.table, p);
    cr_assert_gt(r1.timestamp_ms, 0);
    tl_backtest_result_free(&r1);
    tl_backtest_result_free(&r2);
    for (size_t i = 0; i < nb; i++)
        free_batch(&v[i]);
    free(v);
}

static tl_snapshot *open_latest(const char *path, tl_table **t)
{
    tl_error err = {0};
    cr_assert_eq(tl_table_open(path, t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    tl_at at = {TL_AT_LATEST, 0, 0};
    cr_assert_eq(tl_snapshot_open(*t, &at, &s, &err), TL_OK, "%s", err.msg);
    return s;
}

/* BT-R2 */
Test(backtest, table_sort_key_must_be_contract_then_time)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    static const char *const key[] = {"expiry", "strike", "timestamp"};
    spec.sort_key = key;
    spec.n_sort_key = 3;
    char p[400];
    snprintf(p, sizeof p, "%s/k", dir);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    tl_snapshot *s = open_latest(p, &t);
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    tl_backtest_result r;
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "sort key is (expiry, strike, timestamp)") &&
                  strstr(err.msg, "opt_type"),
              "%s", err.msg);
    /* contract columns that match this key are fine (no rows: zero result) */
    static const char *const cc[] = {"symbol", "strike", "expiry"};
    o.contract_cols = cc;
    o.n_contract_cols = 3;
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.rows, 0);
    cr_assert_eq(r.pairs[0].trades, 0);
    tl_backtest_result_free(&r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* BT-R3, BT-R4 */
Test(backtest, run_rejects_bad_columns_and_options)
{
    char p[400];
    snprintf(p, sizeof p, "%s/e", dir);
    table_make(p);
    tl_table *t;
    tl_snapshot *s = open_latest(p, &t);
    tl_error err = {0};
    tl_backtest_result r;
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.price_col = "nope";
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "price column 'nope' not found"), "%s", err.msg);
    o.price_col = "opt_type";
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'opt_type'") && strstr(err.msg, "string"), "%s", err.msg);
    o.price_col = NULL;
    static const char *const cc[] = {"symbol", "expiry", "nope"};
    o.contract_cols = cc;
    o.n_contract_cols = 3;
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "contract column 'nope'"), "%s", err.msg);
    o.contract_cols = NULL;
    o.n_contract_cols = 0;
    double bad = -1;
    o.slow = &bad;
    o.n_slow = 1;
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "slow span 1"), "%s", err.msg);
    o.slow = NULL;
    o.n_slow = 0;
    o.trades_path = "/nonexistent-dir/trades.csv";
    cr_assert_eq(tl_backtest_run(s, &o, &r, &err), TL_EIO);
    cr_assert(strstr(err.msg, "/nonexistent-dir/trades.csv"), "%s", err.msg);
    cr_assert_eq(tl_backtest_run(NULL, &o, &r, &err), TL_EINVAL);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* The trade log and per-contract CSVs: one line per closed trade in
 * (partition, contract, pair, time) order matching the reference's trades,
 * one line per (contract, pair) whose rows add up. */
Test(backtest, csv_outputs_match_reference, .timeout = 120)
{
    size_t nb = 0;
    own_batch *v = gen_batches(1, 20000, 5000, &nb);
    char p[400], tp[450], cp[450];
    snprintf(p, sizeof p, "%s/csv", dir);
    snprintf(tp, sizeof tp, "%s/trades.csv", dir);
    snprintf(cp, sizeof cp, "%s/contracts.csv", dir);
    table_make(p);
    append_range(p, v, 0, (long)nb, 1, 3000);
    double F[] = {5, 8}, S[] = {21};
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.fast = F;
    o.n_fast = 2;
    o.slow = S;
    o.n_slow = 1;
    o.max_spread = 0.01;
    o.trades_path = tp;
    o.contracts_path = cp;
    tl_backtest_result r = run_bt(p, -1, &o);
    check_table(p, -1, &o, &r, "with CSVs");

    bt_ref_out *parts = NULL;
    size_t n_parts = 0;
    uint64_t trades[4], rows, contracts;
    double pnl[4];
    table_reference(p, -1, NULL, F, 2, S, 1, 0.01, 1, trades, pnl, &rows, &contracts, &parts,
                    &n_parts);
    cr_assert_eq(n_parts, 2);

    size_t len;
    char *txt = tlt_slurp(tp, &len);
    char *save = NULL, *line = strtok_r(txt, "\n", &save);
    cr_assert_str_eq(line, "symbol,day,expiry,opt_type,strike,fast,slow,entry_ts,entry_price,"
                           "exit_ts,exit_price,pnl");
    size_t pi = 0, ti = 0, n_lines = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        while (pi < n_parts && ti == parts[pi].n_log) {
            pi++;
            ti = 0;
        }
        cr_assert_lt(pi, n_parts, "more trade lines than reference trades");
        const bt_ref_trade *x = &parts[pi].log[ti++];
        /* fields: symbol day expiry opt strike fast slow ets ep xts xp pnl */
        char *f[12], *sv = NULL;
        int nf = 0;
        for (char *tok = strtok_r(line, ",", &sv); tok && nf < 12; tok = strtok_r(NULL, ",", &sv))
            f[nf++] = tok;
        cr_assert_eq(nf, 12);
        cr_assert_str_eq(f[0], pi == 0 ? "BANKNIFTY" : "NIFTY");
        cr_assert_str_eq(f[1], "2025-11-17");
        cr_assert_eq(strtod(f[5], NULL), F[x->pair]);
        cr_assert_eq(strlen(f[7]), 30, "%s", f[7]);
        cr_assert(same_bits(strtod(f[8], NULL), x->entry_price), "%s", f[8]);
        cr_assert(same_bits(strtod(f[10], NULL), x->exit_price), "%s", f[10]);
        cr_assert(same_bits(strtod(f[11], NULL), x->pnl), "%s", f[11]);
        n_lines++;
    }
    uint64_t tot = 0;
    for (size_t k = 0; k < 2; k++)
        tot += trades[k];
    cr_assert_eq(n_lines, tot);
    free(txt);

    txt = tlt_slurp(cp, &len);
    save = NULL;
    line = strtok_r(txt, "\n", &save);
    cr_assert_str_eq(line, "symbol,day,expiry,opt_type,strike,fast,slow,rows,trades,pnl");
    uint64_t sum_rows = 0, sum_trades = 0, n_c = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[10], *sv = NULL;
        int nf = 0;
        for (char *tok = strtok_r(line, ",", &sv); tok && nf < 10; tok = strtok_r(NULL, ",", &sv))
            f[nf++] = tok;
        cr_assert_eq(nf, 10);
        if (strtod(f[5], NULL) == 5) {
            sum_rows += strtoull(f[7], NULL, 10);
            n_c++;
        }
        sum_trades += strtoull(f[8], NULL, 10);
    }
    cr_assert_eq(sum_rows, r.rows - r.rows_null_price);
    cr_assert_eq(n_c, r.contracts);
    cr_assert_eq(sum_trades, tot);
    free(txt);
    for (size_t i = 0; i < n_parts; i++)
        free(parts[i].log);
    free(parts);
    tl_backtest_result_free(&r);
    for (size_t i = 0; i < nb; i++)
        free_batch(&v[i]);
    free(v);
}

/* Symbol and day filters: the result is the reference over the partitions
 * they keep. */
Test(backtest, symbol_and_day_filters_keep_their_partitions, .timeout = 120)
{
    size_t nb = 0;
    own_batch *v = gen_batches(3, 8000, 4000, &nb);
    char p[400];
    snprintf(p, sizeof p, "%s/f", dir);
    table_make(p);
    append_range(p, v, 0, (long)nb, 1, 0);
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.max_spread = 0.01;
    static const char *const nifty[] = {"NIFTY"};
    o.symbols = nifty;
    o.n_symbols = 1;
    tl_backtest_result r = run_bt(p, -1, &o);
    tl_rows_filter f = {"NIFTY", 0, 0, 0};
    check_table_f(p, -1, &f, &o, &r, "NIFTY only");
    cr_assert_eq(r.partitions, 3);
    cr_assert_eq(r.rows, 3 * 8000);
    tl_backtest_result_free(&r);

    int32_t d0 = 20409; /* 2025-11-17 (Monday) */
    o.symbols = NULL;
    o.n_symbols = 0;
    o.has_days = 1;
    o.day_from = d0 + 1;
    o.day_to = d0 + 2;
    r = run_bt(p, -1, &o);
    tl_rows_filter g = {NULL, 1, d0 + 1, d0 + 2};
    check_table_f(p, -1, &g, &o, &r, "days 2..3");
    cr_assert_eq(r.partitions, 4);
    cr_assert_eq(r.rows, 4 * 8000);
    tl_backtest_result_free(&r);
    for (size_t i = 0; i < nb; i++)
        free_batch(&v[i]);
    free(v);
}

/* A table of another shape: no symbol partition, an int32 contract column,
 * float32 prices, int32 volumes with nulls; columns named by the options.
 * Equal to the reference over the rows stably sorted by (day, id, ts). */
typedef struct gen_row {
    int64_t ts;
    int32_t id;
    float px;
    double bid, ask;
    int32_t vol;
    int bid_null, ask_null, vol_null;
    size_t seq;
} gen_row;

static int gen_row_cmp(const void *x, const void *y)
{
    const gen_row *a = x, *b = y;
    int64_t da = a->ts / (INT64_C(86400) * 1000000000), db = b->ts / (INT64_C(86400) * 1000000000);
    if (da != db)
        return da < db ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* BT-R2, BT-R4, BT-R5 */
Test(backtest, other_schema_types_and_names, .timeout = 60)
{
    static const tl_field fields[] = {{"ts", TL_TIMESTAMP, 0},  {"id", TL_INT32, 0},
                                      {"px", TL_FLOAT32, 0},    {"b", TL_FLOAT64, 1},
                                      {"a", TL_FLOAT64, 1},     {"vol", TL_INT32, 1}};
    static const char *const key[] = {"id", "ts"};
    tl_table_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.fields = fields;
    spec.n_fields = 6;
    spec.day_column = "ts";
    spec.sort_key = key;
    spec.n_sort_key = 2;
    char p[400], tp[450];
    snprintf(p, sizeof p, "%s/o", dir);
    snprintf(tp, sizeof tp, "%s/o_trades.csv", dir);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_OK, "%s", err.msg);

    size_t n = 6000;
    gen_row *g = calloc(n, sizeof *g);
    rng_state = 555;
    int64_t t0 = INT64_C(1763337600) * 1000000000; /* 2025-11-17 */
    int cents[10];
    for (int i = 0; i < 10; i++)
        cents[i] = 1000 + (int)rndn(5000);
    for (size_t i = 0; i < n; i++) {
        gen_row *r = &g[i];
        r->id = (int32_t)rndn(10);
        r->ts = t0 + (int64_t)rndn(2 * 86400) * 1000000000 + (int64_t)rndn(3);
        cents[r->id] += 5 * ((int)rndn(5) - 2);
        if (cents[r->id] < 5)
            cents[r->id] = 5;
        r->px = (float)cents[r->id] / 4.0f; /* quarters: exact in float32 */
        r->bid = r->px - 0.25 * rndn(2);
        r->ask = r->px + 0.25 * rndn(2);
        r->vol = (int32_t)rndn(3);
        r->bid_null = rndn(50) == 0;
        r->ask_null = rndn(50) == 0;
        r->vol_null = rndn(50) == 0;
        r->seq = i;
    }
    /* one batch, as columns */
    int64_t *ts = malloc(n * 8);
    int32_t *id = malloc(n * 4), *vol = malloc(n * 4);
    float *px = malloc(n * 4);
    double *b = malloc(n * 8), *a = malloc(n * 8);
    uint8_t *bv = calloc(n / 8 + 1, 1), *av = calloc(n / 8 + 1, 1), *vv = calloc(n / 8 + 1, 1);
    for (size_t i = 0; i < n; i++) {
        ts[i] = g[i].ts;
        id[i] = g[i].id;
        px[i] = g[i].px;
        b[i] = g[i].bid_null ? 0 : g[i].bid;
        a[i] = g[i].ask_null ? 0 : g[i].ask;
        vol[i] = g[i].vol_null ? 0 : g[i].vol;
        set_bit(bv, i, !g[i].bid_null);
        set_bit(av, i, !g[i].ask_null);
        set_bit(vv, i, !g[i].vol_null);
    }
    tl_coldef defs[6];
    for (int i = 0; i < 6; i++)
        defs[i] = (tl_coldef){fields[i].name, fields[i].type};
    tl_colvec cols[6] = {{ts, NULL, NULL, NULL}, {id, NULL, NULL, NULL}, {px, NULL, NULL, NULL},
                         {b, bv, NULL, NULL},    {a, av, NULL, NULL},    {vol, vv, NULL, NULL}};
    tl_batch batch = {(uint32_t)n, 6, defs, cols};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(p, &t, &err), TL_OK, "%s", err.msg);
    tl_append_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.segment_rows = 1000;
    tl_append *ap = NULL;
    cr_assert_eq(tl_append_begin(t, &ao, &ap, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(ap, &batch, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(ap, NULL, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);

    /* reference */
    qsort(g, n, sizeof *g, gen_row_cmp);
    double F[] = {3}, S[] = {8};
    uint64_t trades = 0, contracts = 0;
    double pnl = 0;
    bt_ref_row *rr = calloc(n, sizeof *rr);
    size_t n_log = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i;
        int64_t day = g[i].ts / (INT64_C(86400) * 1000000000);
        while (e < n && g[e].ts / (INT64_C(86400) * 1000000000) == day)
            e++;
        for (size_t j = i; j < e; j++) {
            bt_ref_row *r = &rr[j - i];
            r->key = (uint64_t)g[j].id;
            r->ts = g[j].ts;
            r->p = g[j].px;
            r->b = g[j].bid;
            r->a = g[j].ask;
            r->v = g[j].vol;
            r->b_null = (unsigned char)g[j].bid_null;
            r->a_null = (unsigned char)g[j].ask_null;
            r->v_null = (unsigned char)g[j].vol_null;
        }
        bt_ref_out o;
        memset(&o, 0, sizeof o);
        bt_ref_partition(rr, e - i, F, 1, S, 1, 0.002, 1, 1, &o);
        trades += o.trades[0];
        pnl += o.pnl[0];
        contracts += o.contracts;
        n_log += o.n_log;
        free(o.log);
        i = e;
    }

    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.fast = F;
    o.n_fast = 1;
    o.slow = S;
    o.n_slow = 1;
    o.max_spread = 0.002;
    o.price_col = "px";
    o.bid_col = "b";
    o.ask_col = "a";
    o.volume_col = "vol";
    static const char *const cc[] = {"id"};
    o.contract_cols = cc;
    o.n_contract_cols = 1;
    o.trades_path = tp;
    tl_backtest_result r = run_bt(p, -1, &o);
    cr_assert_eq(r.rows, n);
    cr_assert_eq(r.partitions, 2);
    cr_assert_eq(r.contracts, contracts);
    cr_assert_eq(r.pairs[0].trades, trades);
    cr_assert_gt(trades, 0);
    cr_assert(same_bits(r.pairs[0].pnl, pnl), "%.17g vs %.17g", r.pairs[0].pnl, pnl);
    size_t len;
    char *txt = tlt_slurp(tp, &len);
    cr_assert(strncmp(txt, "day,id,fast,slow,entry_ts,", 26) == 0, "%.60s", txt);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += txt[i] == '\n';
    cr_assert_eq(lines, 1 + n_log);
    free(txt);
    tl_backtest_result_free(&r);
    free(rr); free(g); free(ts); free(id); free(vol); free(px); free(b); free(a);
    free(bv); free(av); free(vv);
}

/* BT-R1: rows of one contract with equal timestamps in different files of a
 * partition are taken in file order (the snapshot's, by path), as the
 * reference reads them; same result with one and two threads. */
Test(backtest, equal_timestamps_across_files_in_file_order, .timeout = 120)
{
    size_t nb = 0;
    own_batch *v = gen_batches(1, 10000, 10000, &nb);
    char p[400];
    snprintf(p, sizeof p, "%s/ties", dir);
    table_make(p);
    append_range(p, v, 0, (long)nb, 1, 0);
    /* the same rows again, prices moved: every row ties with one in the
     * first file */
    for (size_t i = 0; i < nb; i++)
        for (uint32_t c = 0; c < v[i].b.n_cols; c++)
            if (strcmp(v[i].b.defs[c].name, "price") == 0) {
                double *px = (double *)v[i].cols[c].values;
                for (uint32_t r = 0; r < v[i].b.n_rows; r++)
                    px[r] = px[r] + (r % 3 == 0 ? 0.05 : -0.05);
            }
    append_range(p, v, 0, (long)nb, 1, 0);
    tl_backtest_opts o;
    tl_backtest_opts_default(&o);
    o.max_spread = 0.01;
    o.threads = 1;
    tl_backtest_result r1 = run_bt(p, -1, &o);
    check_table(p, -1, &o, &r1, "ties");
    o.threads = 2;
    tl_backtest_result r2 = run_bt(p, -1, &o);
    same_result(&r1, &r2, "ties, two threads");
    cr_assert_eq(r1.rows, 2 * 20000);
    tl_backtest_result_free(&r1);
    tl_backtest_result_free(&r2);
    for (size_t i = 0; i < nb; i++)
        free_batch(&v[i]);
    free(v);
}
