/*
 * backtest.c - the EMA-crossover backtest (spec/BACKTEST.md): the kernel
 * over column blocks (backtest_int.h) and tl_backtest_run, which drives it
 * from an ordered scan (one unit per partition, runs = contract series).
 *
 * Exactness: every value the rule defines is computed with the IEEE-754
 * double operations it writes, in its order, each rounded (the build uses
 * -ffp-contract=off; no fma intrinsics here). Vectorising does not change a
 * result: the spread test and the crossover comparisons are elementwise,
 * and the EMA recurrences stay serial per series (several series and
 * spans are stepped side by side, never one series reassociated).
 *
 * Kernel pipeline (scratch reused, nothing allocated per block once warm):
 *   1. per block: rows with null price (or not selected) are dropped
 *      (compaction; skipped when there are none); bid/ask/volume nulls
 *      read as 0; the elig bitmap (spread_ok and volume >= V, vectorised)
 *      and the prices are appended to a window;
 *   2. per window (about 128K rows, or the unit's end): one EMA chain per
 *      distinct fast span and per distinct slow span, two chains per lane
 *      and 6 runs side by side (planes_step), longest runs first;
 *   3. up = fast > slow and down = slow >= fast bitmaps of every pair in one
 *      pass (cross_all), then per pair the entry/exit state machine by
 *      scanning bits (entry: next up & elig while flat; exit: next down
 *      while open).
 * A series' last row is known only when the next window does not continue
 * it (or at the unit end): an open position is then closed at the
 * series' last price, adding p[m-1] - entry (BT-R7), which is what the
 * rule's "or j == m-1" exit adds, in the same place of the sum.
 *
 * Invariants: per pair one running pnl per unit, additions in series
 * order then row order; trades are counted at entry.
 */
#include "backtest_int.h"

#include "snapshot_int.h"
#include "text_int.h"
#include "ticklake.h"
#include "util_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#define BT_MAX_SPANS 16u
#define BT_MAX_PAIRS (BT_MAX_SPANS * BT_MAX_SPANS)

__attribute__((noinline)) double tl_bt_probe_muladd(double a, double b, double c)
{
    return a * b + c;
}

/* ---- the kernel ----------------------------------------------------------- */

typedef struct bt_pair_state {
    int open;
    double entry;
    int64_t entry_ts;
    uint64_t entry_row;
} bt_pair_state;

struct tl_bt_kernel {
    uint32_t n_fast, n_slow, n_pairs;
    double fast[BT_MAX_SPANS], slow[BT_MAX_SPANS];
    double max_spread, min_volume;
    /* distinct spans: chain i < nf is fast span i, chain nf + j slow j */
    uint32_t nf, ns;
    double ca[2 * BT_MAX_SPANS], cc[2 * BT_MAX_SPANS]; /* a, 1 - a */
    uint8_t pair_f[BT_MAX_PAIRS], pair_s[BT_MAX_PAIRS]; /* chain indices */
    int want_series, want_trades;

    /* scratch (reused) */
    double *P, *B, *A, *V;
    size_t capP, capB, capA, capV;
    int64_t *T;
    size_t capT;
    uint32_t *idx, *runs;
    size_t cap_idx, cap_runs;
    uint64_t *elig, *up, *dn;
    size_t cap_elig, cap_up, cap_dn;
    double *chain;
    size_t cap_chain;
    /* per run of the current window: series-level facts */
    double *run_plast;
    int64_t *run_tlast;
    size_t cap_rp, cap_rt;
    void *tasks;
    size_t cap_tasks;

    /* the window: blocks staged until it holds window_rows rows (or the
     * unit ends), so that the EMA lanes see many series at once. P, T
     * (want_trades) and elig hold the window's kept rows, wruns its run
     * ends (a block continuing the window's last run extends it). */
    uint32_t window_rows;
    uint32_t wn, wnr;     /* rows and runs staged */
    int win_cont;         /* the window's first run continues the open series */
    uint32_t *wruns;
    size_t cap_wruns;
    uint64_t *etmp;       /* one block's elig bits */
    size_t cap_etmp;

    /* unit state */
    tl_bt_unit_out u;
    size_t cap_series, cap_trades;
    int have_series;      /* a series is open (the last one seen) */
    uint64_t cur_series;  /* its ordinal */
    uint64_t cur_m;       /* its rows so far */
    double cur_plast;
    int64_t cur_tlast;
    double carry[2 * BT_MAX_SPANS]; /* chain values at its last row */
    uint64_t row_ord;     /* non-null-price rows of the unit so far */
    bt_pair_state st[BT_MAX_PAIRS];
};

uint32_t tl_bt_kernel_n_pairs(const tl_bt_kernel *k) { return k->n_pairs; }

int tl_bt_kernel_open(const tl_bt_params *p, int want_series, int want_trades,
                      tl_bt_kernel **out, tl_error *err)
{
    if (!p || !out)
        return tl_error_set(err, TL_EINVAL, "backtest: NULL parameters");
    *out = NULL;
    if (p->n_fast < 1 || p->n_fast > BT_MAX_SPANS || p->n_slow < 1 ||
        p->n_slow > BT_MAX_SPANS || !p->fast || !p->slow)
        return tl_error_set(err, TL_EINVAL,
                            "backtest: expected 1..%u fast and 1..%u slow spans, found %u and %u",
                            BT_MAX_SPANS, BT_MAX_SPANS, p->n_fast, p->n_slow);
    for (uint32_t i = 0; i < p->n_fast + p->n_slow; i++) {
        double s = i < p->n_fast ? p->fast[i] : p->slow[i - p->n_fast];
        if (!(s > 0) || !isfinite(s))
            return tl_error_set(err, TL_EINVAL,
                                "backtest: %s span %u: expected a finite number > 0, found %.17g",
                                i < p->n_fast ? "fast" : "slow",
                                i < p->n_fast ? i + 1 : i - p->n_fast + 1, s);
    }
    if (isnan(p->max_spread) || isnan(p->min_volume))
        return tl_error_set(err, TL_EINVAL, "backtest: max spread and min volume must not be NaN");
    tl_bt_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for the kernel");
    k->n_fast = p->n_fast;
    k->n_slow = p->n_slow;
    k->n_pairs = p->n_fast * p->n_slow;
    memcpy(k->fast, p->fast, p->n_fast * sizeof(double));
    memcpy(k->slow, p->slow, p->n_slow * sizeof(double));
    k->max_spread = p->max_spread;
    k->min_volume = p->min_volume;
    k->want_series = want_series;
    k->want_trades = want_trades;
    /* one pair: no chain arrays (fused), the window's prices take 4 MiB;
     * sweeps: the chains take nch * rows * 8 bytes, at most 4 MiB (the
     * many chains of one run already fill the lanes) */
    uint32_t nch = k->nf + k->ns;
    k->window_rows = nch <= 2 ? TL_BT_WINDOW_ROWS : (1u << 19) / nch;
    if (k->window_rows < 8192)
        k->window_rows = 8192;
    uint8_t fi[BT_MAX_SPANS], si[BT_MAX_SPANS];
    double fspan[BT_MAX_SPANS], sspan[BT_MAX_SPANS];
    for (uint32_t i = 0; i < p->n_fast; i++) {
        uint32_t j = 0;
        while (j < k->nf && fspan[j] != p->fast[i])
            j++;
        if (j == k->nf)
            fspan[k->nf++] = p->fast[i];
        fi[i] = (uint8_t)j;
    }
    for (uint32_t i = 0; i < p->n_slow; i++) {
        uint32_t j = 0;
        while (j < k->ns && sspan[j] != p->slow[i])
            j++;
        if (j == k->ns)
            sspan[k->ns++] = p->slow[i];
        si[i] = (uint8_t)j;
    }
    /* aF = 2/(F+1) and (1 - aF), each computed once (BT-R3) */
    for (uint32_t i = 0; i < k->nf; i++) {
        k->ca[i] = 2.0 / (fspan[i] + 1.0);
        k->cc[i] = 1.0 - k->ca[i];
    }
    for (uint32_t i = 0; i < k->ns; i++) {
        k->ca[k->nf + i] = 2.0 / (sspan[i] + 1.0);
        k->cc[k->nf + i] = 1.0 - k->ca[k->nf + i];
    }
    for (uint32_t i = 0; i < k->n_pairs; i++) {
        k->pair_f[i] = fi[i / p->n_slow];
        k->pair_s[i] = (uint8_t)(k->nf + si[i % p->n_slow]);
    }
    *out = k;
    return TL_OK;
}

void tl_bt_unit_out_free(tl_bt_unit_out *o)
{
    if (!o)
        return;
    free(o->trades);
    free(o->pnl);
    free(o->series_rows);
    free(o->series_trades);
    free(o->series_pnl);
    free(o->trade_log);
    memset(o, 0, sizeof *o);
}

void tl_bt_kernel_close(tl_bt_kernel *k)
{
    if (!k)
        return;
    free(k->P); free(k->B); free(k->A); free(k->V); free(k->T);
    free(k->idx); free(k->runs);
    free(k->elig); free(k->up); free(k->dn);
    free(k->chain);
    free(k->run_plast); free(k->run_tlast);
    free(k->tasks);
    free(k->wruns); free(k->etmp);
    tl_bt_unit_out_free(&k->u);
    free(k);
}

void tl_bt_kernel_unit_begin(tl_bt_kernel *k)
{
    tl_bt_unit_out_free(&k->u);
    k->cap_series = k->cap_trades = 0;
    k->have_series = 0;
    k->cur_series = 0;
    k->cur_m = 0;
    k->row_ord = 0;
    k->wn = k->wnr = 0;
    k->win_cont = 0;
    memset(k->st, 0, sizeof k->st);
}

void tl_bt_kernel_set_window(tl_bt_kernel *k, uint32_t rows)
{
    k->window_rows = rows ? rows : 1;
}

/* Scratch of 2 MiB and more (the window's prices, timestamps, chains) is
 * allocated 2 MiB-aligned and advised MADV_HUGEPAGE before anything touches
 * it (a realloc would copy into 4 KiB pages first): its first touch then
 * faults once per 2 MiB instead of 512 times (first touches cost ~13 us per
 * 4 KiB page on these machines: 4 MiB of prices were ~4 % of a backtest).
 * Advice only: without THP nothing changes. Smaller scratch grows by
 * tl_grow (realloc, doubling). */
#define HUGE_SZ ((size_t)2 << 20)

static int grow(tl_error *err, void **p, size_t *cap, size_t need, const char *what)
{
    if (need <= *cap)
        return TL_OK;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n = n > SIZE_MAX / 4 ? need : n * 2;
    if (n < HUGE_SZ) {
        if (tl_grow(p, cap, need) != TL_OK)
            return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for %s (%zu bytes)",
                                what, need);
        return TL_OK;
    }
    n = (n + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
    void *q = NULL;
    if (posix_memalign(&q, HUGE_SZ, n) != 0)
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for %s (%zu bytes)", what,
                            need);
#ifdef MADV_HUGEPAGE
    (void)madvise(q, n, MADV_HUGEPAGE);
#endif
    if (*p)
        memcpy(q, *p, *cap);
    free(*p);
    *p = q;
    *cap = n;
    return TL_OK;
}

#define GROW(ptr, cap, n, what)                                                          \
    do {                                                                                 \
        int rc_ = grow(err, (void **)&(ptr), &(cap), (n) * sizeof *(ptr), what);         \
        if (rc_)                                                                         \
            return rc_;                                                                  \
    } while (0)

static int numeric_type(tl_type t)
{
    return tl_type_is_float(t) || (t >= TL_INT8 && t <= TL_UINT64);
}

/* Value i of a numeric column as double (C conversion: exact for float32
 * and integers up to 2^53, else rounded to nearest). */
static inline double num_at(tl_type t, const void *v, size_t i)
{
    switch (t) {
    case TL_FLOAT64: return ((const double *)v)[i];
    case TL_FLOAT32: return (double)((const float *)v)[i];
    case TL_INT8: return (double)((const int8_t *)v)[i];
    case TL_INT16: return (double)((const int16_t *)v)[i];
    case TL_INT32: return (double)((const int32_t *)v)[i];
    case TL_INT64: return (double)((const int64_t *)v)[i];
    case TL_UINT8: return (double)((const uint8_t *)v)[i];
    case TL_UINT16: return (double)((const uint16_t *)v)[i];
    case TL_UINT32: return (double)((const uint32_t *)v)[i];
    case TL_UINT64: return (double)((const uint64_t *)v)[i];
    default: return 0;
    }
}

/* dst[j] = column value of row idx[j] (idx NULL: row j), null -> 0. */
static void to_double(double *dst, tl_type t, const tl_colvec *c, const uint32_t *idx,
                      uint32_t n);

/* Column c as doubles into dst (rows idx[j], or 0..n-1), nulls 0; scale !=
 * 0: c holds int32 values (a narrowed float64: v / scale, the same
 * correctly rounded quotient as the full decode; a narrowed int64: v) */
static void col_double(double *dst, tl_type t, const tl_colvec *c, uint64_t scale,
                       const uint32_t *idx, uint32_t n)
{
    if (!scale) {
        to_double(dst, t, c, idx, n);
        return;
    }
    const int32_t *v = c->values;
    double d = (double)scale;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = idx ? idx[j] : j;
        double x = (double)v[i]; /* null slots hold 0 */
        dst[j] = t == TL_FLOAT64 ? x / d : x;
    }
}

static void to_double(double *dst, tl_type t, const tl_colvec *c, const uint32_t *idx,
                      uint32_t n)
{
    if (!idx && !c->validity) {
        if (t == TL_FLOAT32) {
            const float *s = c->values;
            for (uint32_t j = 0; j < n; j++)
                dst[j] = (double)s[j];
        } else if (t == TL_INT64) {
            const int64_t *s = c->values;
            for (uint32_t j = 0; j < n; j++)
                dst[j] = (double)s[j];
        } else {
            for (uint32_t j = 0; j < n; j++)
                dst[j] = num_at(t, c->values, j);
        }
        return;
    }
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = idx ? idx[j] : j;
        dst[j] = tl_bit_get(c->validity, i) ? num_at(t, c->values, i) : 0.0;
    }
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
/* BT-R4 on 8 rows: a > 0, b > 0, mid = 0.5 * (a + b) > 0, (a - b) / mid
 * <= X and v >= V, as IEEE operations in that form */
static inline __attribute__((always_inline)) __mmask8 elig8(__m512d A, __m512d B, __m512d Vv,
                                                            double X, double V)
{
    const __m512d zero = _mm512_setzero_pd();
    __m512d d = _mm512_sub_pd(A, B);
    __m512d mid = _mm512_mul_pd(_mm512_set1_pd(0.5), _mm512_add_pd(A, B));
    __mmask8 m = _mm512_cmp_pd_mask(A, zero, _CMP_GT_OQ);
    m = _mm512_mask_cmp_pd_mask(m, B, zero, _CMP_GT_OQ);
    m = _mm512_mask_cmp_pd_mask(m, mid, zero, _CMP_GT_OQ);
    m = _mm512_mask_cmp_pd_mask(m, Vv, _mm512_set1_pd(V), _CMP_GE_OQ);
    return _mm512_mask_cmp_pd_mask(m, _mm512_div_pd(d, mid), _mm512_set1_pd(X), _CMP_LE_OQ);
}

/* elig_pass over rows [0, n) (n a multiple of 16): 16 rows a step, the same
 * operations as the tail loop below. av/bv/vv: validity bitmaps or NULL;
 * a null loads as 0 (masked load), as BT-R4 reads it. has_nulls = 0 when
 * all three are NULL (no mask work at all). */
static inline __attribute__((always_inline)) uint32_t
elig_full(uint8_t *o8, uint32_t n, const double *a, const uint8_t *av, const double *b,
          const uint8_t *bv, const void *vol, const uint8_t *vv, const int has_nulls,
          const int vol_i64, double X, double V, const double *psrc, double *pdst)
{
    for (uint32_t j = 0; j < n; j += 16) {
        uint16_t ma = 0xFFFF, mb = 0xFFFF, mv = 0xFFFF;
        if (has_nulls) {
            if (av)
                memcpy(&ma, av + j / 8, 2);
            if (bv)
                memcpy(&mb, bv + j / 8, 2);
            if (vv)
                memcpy(&mv, vv + j / 8, 2);
        }
        __mmask8 r[2];
        for (int h = 0; h < 2; h++) {
            uint32_t i = j + 8 * (uint32_t)h;
            if (psrc)
                _mm512_storeu_pd(pdst + i, _mm512_loadu_pd(psrc + i));
            __m512d A, B, Vv;
            if (has_nulls) {
                A = _mm512_maskz_loadu_pd((__mmask8)(ma >> (8 * h)), a + i);
                B = _mm512_maskz_loadu_pd((__mmask8)(mb >> (8 * h)), b + i);
                __mmask8 m = (__mmask8)(mv >> (8 * h));
                Vv = vol_i64 ? _mm512_cvtepi64_pd(
                                   _mm512_maskz_loadu_epi64(m, (const int64_t *)vol + i))
                             : _mm512_maskz_loadu_pd(m, (const double *)vol + i);
            } else {
                A = _mm512_loadu_pd(a + i);
                B = _mm512_loadu_pd(b + i);
                Vv = vol_i64 ? _mm512_cvtepi64_pd(_mm512_loadu_si512((const int64_t *)vol + i))
                             : _mm512_loadu_pd((const double *)vol + i);
            }
            r[h] = elig8(A, B, Vv, X, V);
        }
        uint16_t w = (uint16_t)(r[0] | (unsigned)r[1] << 8);
        memcpy(o8 + j / 8, &w, 2);
    }
    return n;
}
#endif

/* elig bit j = spread_ok(a[j], b[j]) and v[j] >= V, exactly as BT-R4
 * writes it: d = a - b, mid = 0.5 * (a + b), d / mid <= X. av/bv/vv:
 * validity bitmaps (NULL = none; a null reads as 0). vol_i64: the volume
 * values are int64 (converted here) instead of double. */
__attribute__((noinline)) static void elig_pass(uint64_t *out, uint32_t n, const double *a,
                                                const uint8_t *av, const double *b,
                                                const uint8_t *bv, const void *vol,
                                                const uint8_t *vv, int vol_i64, double X,
                                                double V, const double *psrc, double *pdst)
{
    /* psrc (may be NULL): prices copied to pdst on the way (one pass over
     * the block instead of two) */
    uint32_t nw = (n + 63) / 64;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
    uint8_t *o8 = (uint8_t *)out; /* little-endian: byte j/8 holds rows j..j+7 */
    out[nw - 1] = 0;
    uint32_t j0 = 0;
    {
        /* full groups of 16 rows; instantiated per (nulls, volume type,
         * price copy) so the loop carries no tests */
        uint32_t nf = n & ~15u;
        int nulls = av || bv || vv;
#define EF(NU, VI, PS) elig_full(o8, nf, a, av, b, bv, vol, vv, NU, VI, X, V, PS, pdst)
        if (nulls)
            j0 = vol_i64 ? (psrc ? EF(1, 1, psrc) : EF(1, 1, NULL))
                         : (psrc ? EF(1, 0, psrc) : EF(1, 0, NULL));
        else
            j0 = vol_i64 ? (psrc ? EF(0, 1, psrc) : EF(0, 1, NULL))
                         : (psrc ? EF(0, 0, psrc) : EF(0, 0, NULL));
#undef EF
    }
    for (uint32_t j = j0; j < n; j += 8) {
        __mmask8 lm = n - j >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - j)) - 1);
        __mmask8 ma = av ? (__mmask8)(lm & av[j >> 3]) : lm;
        __mmask8 mb = bv ? (__mmask8)(lm & bv[j >> 3]) : lm;
        __mmask8 mv = vv ? (__mmask8)(lm & vv[j >> 3]) : lm;
        if (psrc)
            _mm512_storeu_pd(pdst + j, _mm512_maskz_loadu_pd(lm, psrc + j)); /* 8 spare */
        __m512d A = _mm512_maskz_loadu_pd(ma, a + j);
        __m512d B = _mm512_maskz_loadu_pd(mb, b + j);
        __m512d Vv =
            vol_i64 ? _mm512_cvtepi64_pd(_mm512_maskz_loadu_epi64(mv, (const int64_t *)vol + j))
                    : _mm512_maskz_loadu_pd(mv, (const double *)vol + j);
        __mmask8 m = elig8(A, B, Vv, X, V);
        o8[j >> 3] = (uint8_t)(m & lm);
    }
#else
    if (psrc)
        memcpy(pdst, psrc, (size_t)n * sizeof(double));
    for (uint32_t w = 0; w < nw; w++) {
        uint64_t word = 0;
        uint32_t e = n - w * 64 < 64 ? n - w * 64 : 64;
        for (uint32_t t = 0; t < e; t++) {
            uint32_t j = w * 64 + t;
            double A = tl_bit_get(av, j) ? a[j] : 0.0;
            double B = tl_bit_get(bv, j) ? b[j] : 0.0;
            double Vv = !tl_bit_get(vv, j) ? 0.0
                        : vol_i64          ? (double)((const int64_t *)vol)[j]
                                           : ((const double *)vol)[j];
            double d = A - B;
            double mid = 0.5 * (A + B);
            double q = d / mid;
            int ok = (A > 0) & (B > 0) & (mid > 0) & (q <= X) & (Vv >= V);
            word |= (uint64_t)ok << t;
        }
        out[w] = word;
    }
#endif
}

/* ---- eligibility from narrowed (int32) bid, ask and volume ---------------- */

/* With bid and ask handed out as int32 k (value = k / d, correctly
 * rounded), BT-R4's spread test is decided in exact integers where it is
 * clear: with A' = ka*db and B' = kb*da (exact in double for |k| < 2^31,
 * d <= 2^21), num = 2(A' - B') and den = A' + B' are exact, and the rational
 * spread r = num / den is (a - b) / (0.5 (a + b)) of the exact quotients.
 * The IEEE expression q = (A - B) / (0.5 (A + B)) of the rounded values is
 * within 2^-50 (1 + |r|) of r (bid, ask > 0; five roundings), so q <= X is
 * r <= X whenever t = num - X den lies outside +-M, M = 2^-40 (|num| + den +
 * |X| den) (which also covers the two roundings of t). Rows inside the band
 * (a spread equal or within 1e-12 of X) are decided by the IEEE expression
 * itself, scalar. Volume: v >= V as doubles, or for int32 v against ceil(V).
 * No division, no conversion to the values: the same bits as elig_pass. */
enum { VOL_F64 = 0, VOL_I64 = 1, VOL_I32 = 2 };

#define NARROW_MAX_DIV ((uint64_t)1 << 21)

static int narrow_elig_ok(uint64_t da, uint64_t db, double X)
{
    return da <= NARROW_MAX_DIV && db <= NARROW_MAX_DIV && X - X == 0; /* X finite */
}

/* Row j by BT-R4 as written, from the narrowed values (the exact path). */
static int elig_row_narrow(const int32_t *ka, uint64_t da, const int32_t *kb, uint64_t db,
                           const void *vol, const uint8_t *vv, int vk, double X, double V,
                           uint32_t j)
{
    double A = (double)ka[j] / (double)da, B = (double)kb[j] / (double)db;
    double Vv = !tl_bit_get(vv, j) ? 0.0
                : vk == VOL_I32    ? (double)((const int32_t *)vol)[j]
                : vk == VOL_I64    ? (double)((const int64_t *)vol)[j]
                                   : ((const double *)vol)[j];
    double d = A - B;
    double mid = 0.5 * (A + B);
    double q = d / mid;
    return (A > 0) & (B > 0) & (mid > 0) & (q <= X) & (Vv >= V);
}

__attribute__((noinline)) static void elig_narrow(uint64_t *out, uint32_t n, const int32_t *ka,
                                                  uint64_t da, const int32_t *kb, uint64_t db,
                                                  const void *vol, const uint8_t *vv, int vk,
                                                  double X, double V, const double *psrc,
                                                  double *pdst)
{
    uint32_t nw = (n + 63) / 64;
    uint8_t *o8 = (uint8_t *)out; /* little-endian: byte j/8 holds rows j..j+7 */
    out[nw - 1] = 0;
    uint32_t j0 = 0;
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__)
    /* int32 volume: v >= V <=> v >= ceil(V) (V not NaN) */
    int vnone = V != V, vall = 0;
    int32_t vthr = 0;
    if (!vnone) {
        double c = ceil(V);
        if (c > 2147483647.0)
            vnone = 1;
        else if (c <= -2147483648.0)
            vall = 1;
        else
            vthr = (int32_t)c;
    }
    const __m512d dA = _mm512_set1_pd((double)db), dB = _mm512_set1_pd((double)da);
    const __m512d vX = _mm512_set1_pd(X), aX = _mm512_set1_pd(fabs(X));
    const __m512d two = _mm512_set1_pd(2.0), eps = _mm512_set1_pd(0x1p-40);
    const __m512d vV = _mm512_set1_pd(V);
    const __m512i zero = _mm512_setzero_si512(), thr = _mm512_set1_epi32(vthr);
    const uint32_t nf = n & ~15u;
    for (uint32_t j = 0; j < nf; j += 16) {
        if (psrc) {
            _mm512_storeu_pd(pdst + j, _mm512_loadu_pd(psrc + j));
            _mm512_storeu_pd(pdst + j + 8, _mm512_loadu_pd(psrc + j + 8));
        }
        __m512i KA = _mm512_loadu_si512(ka + j), KB = _mm512_loadu_si512(kb + j);
        __mmask16 m = _mm512_cmpgt_epi32_mask(KA, zero) & _mm512_cmpgt_epi32_mask(KB, zero);
        uint16_t vm = 0xFFFF;
        if (vv)
            memcpy(&vm, vv + j / 8, 2);
        if (vk == VOL_I32) {
            __mmask16 ok = vnone ? 0 : vall ? 0xFFFF
                                            : _mm512_cmpge_epi32_mask(
                                                  _mm512_loadu_si512((const int32_t *)vol + j), thr);
            /* a null reads as 0 (its slot holds 0): same test */
            m &= ok;
        } else {
            for (int h = 0; h < 2; h++) {
                __mmask8 hm = (__mmask8)(vm >> (8 * h));
                __m512d Vd = vk == VOL_I64
                                 ? _mm512_cvtepi64_pd(_mm512_maskz_loadu_epi64(
                                       hm, (const int64_t *)vol + j + 8 * h))
                                 : _mm512_maskz_loadu_pd(hm, (const double *)vol + j + 8 * h);
                __mmask8 ok = _mm512_cmp_pd_mask(Vd, vV, _CMP_GE_OQ);
                m &= (__mmask16)~((unsigned)(~ok & 0xFF) << (8 * h));
            }
        }
        __mmask8 r[2], amb[2];
        for (int h = 0; h < 2; h++) {
            __m256i ha = h ? _mm512_extracti64x4_epi64(KA, 1) : _mm512_castsi512_si256(KA);
            __m256i hb = h ? _mm512_extracti64x4_epi64(KB, 1) : _mm512_castsi512_si256(KB);
            __m512d a = _mm512_mul_pd(_mm512_cvtepi32_pd(ha), dA); /* ka * db, exact */
            __m512d b = _mm512_mul_pd(_mm512_cvtepi32_pd(hb), dB); /* kb * da, exact */
            __m512d num = _mm512_mul_pd(two, _mm512_sub_pd(a, b)); /* exact */
            __m512d den = _mm512_add_pd(a, b);                      /* exact */
            __m512d t = _mm512_sub_pd(num, _mm512_mul_pd(vX, den));
            __m512d M = _mm512_mul_pd(
                eps, _mm512_add_pd(_mm512_add_pd(_mm512_abs_pd(num), den), _mm512_mul_pd(aX, den)));
            __mmask8 hm = (__mmask8)(m >> (8 * h));
            __mmask8 lo = _mm512_mask_cmp_pd_mask(hm, t, _mm512_sub_pd(_mm512_setzero_pd(), M),
                                                  _CMP_LT_OQ);
            __mmask8 hi = _mm512_mask_cmp_pd_mask(hm, t, M, _CMP_GT_OQ);
            r[h] = lo;
            amb[h] = (__mmask8)(hm & ~lo & ~hi);
        }
        uint16_t w = (uint16_t)(r[0] | (unsigned)r[1] << 8);
        uint16_t am = (uint16_t)(amb[0] | (unsigned)amb[1] << 8);
        while (am) { /* within the band: BT-R4 as written */
            unsigned b = (unsigned)__builtin_ctz(am);
            am &= (uint16_t)(am - 1);
            if (elig_row_narrow(ka, da, kb, db, vol, vv, vk, X, V, j + b))
                w |= (uint16_t)(1u << b);
        }
        memcpy(o8 + j / 8, &w, 2);
    }
    j0 = nf;
#endif
    if (psrc && j0 < n)
        memcpy(pdst + j0, psrc + j0, (size_t)(n - j0) * sizeof(double));
    for (uint32_t j = j0; j < n; j += 8) {
        uint8_t byte = 0;
        for (uint32_t t = 0; t < 8 && j + t < n; t++)
            byte |= (uint8_t)(elig_row_narrow(ka, da, kb, db, vol, vv, vk, X, V, j + t) << t);
        o8[j >> 3] = byte;
    }
}

/* For every pair k: up bit j = fast[j] > slow[j], down bit j = slow[j] >=
 * fast[j] (two separate IEEE comparisons: with NaN both are false), into
 * up/dn + k * nwp. Chains are stored two by two, interleaved (chain c at
 * chain[(c / 2) * 2n + 2j + c % 2]); each row block of the chains is read
 * once for all pairs. */
static void cross_all(tl_bt_kernel *k, uint32_t n, size_t nwp)
{
    const uint32_t np = k->n_pairs;
    const double *G = k->chain;
    const size_t gs = 2 * (size_t)n; /* doubles per group */
    for (uint32_t pi = 0; pi < np; pi++)
        k->up[pi * nwp + nwp - 2] = k->dn[pi * nwp + nwp - 2] = 0;
#if defined(__AVX512F__)
    const uint32_t ng = (k->nf + k->ns + 1) / 2;
    const __m512i ix0 = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i ix1 = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    __m512d ch[2 * BT_MAX_SPANS];
    uint8_t *u8[BT_MAX_PAIRS], *d8[BT_MAX_PAIRS];
    for (uint32_t pi = 0; pi < np; pi++) {
        u8[pi] = (uint8_t *)(k->up + pi * nwp);
        d8[pi] = (uint8_t *)(k->dn + pi * nwp);
    }
    for (uint32_t j = 0; j < n; j += 8) {
        uint32_t e = n - j >= 8 ? 16 : 2 * (n - j); /* doubles of rows j.. */
        __mmask8 lm = n - j >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - j)) - 1);
        __mmask8 m0 = e >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << e) - 1);
        __mmask8 m1 = e >= 16 ? (__mmask8)0xFF : e > 8 ? (__mmask8)((1u << (e - 8)) - 1) : 0;
        for (uint32_t g = 0; g < ng; g++) {
            const double *gp = G + g * gs + 2 * (size_t)j;
            __m512d lo = _mm512_maskz_loadu_pd(m0, gp), hi = _mm512_maskz_loadu_pd(m1, gp + 8);
            ch[2 * g] = _mm512_permutex2var_pd(lo, ix0, hi);
            ch[2 * g + 1] = _mm512_permutex2var_pd(lo, ix1, hi);
        }
        for (uint32_t pi = 0; pi < np; pi++) {
            __m512d F = ch[k->pair_f[pi]], S = ch[k->pair_s[pi]];
            u8[pi][j >> 3] = (uint8_t)_mm512_mask_cmp_pd_mask(lm, F, S, _CMP_GT_OQ);
            d8[pi][j >> 3] = (uint8_t)_mm512_mask_cmp_pd_mask(lm, S, F, _CMP_GE_OQ);
        }
    }
#else
    uint32_t nw = (n + 63) / 64;
    for (uint32_t pi = 0; pi < np; pi++) {
        uint32_t cf = k->pair_f[pi], cs = k->pair_s[pi];
        const double *fg = G + (cf / 2) * gs + cf % 2, *sg = G + (cs / 2) * gs + cs % 2;
        for (uint32_t w = 0; w < nw; w++) {
            uint64_t wu = 0, wd = 0;
            uint32_t e = n - w * 64 < 64 ? n - w * 64 : 64;
            for (uint32_t t = 0; t < e; t++) {
                size_t j = (size_t)w * 64 + t;
                double f = fg[2 * j], s = sg[2 * j];
                wu |= (uint64_t)(f > s) << t;
                wd |= (uint64_t)(s >= f) << t;
            }
            k->up[pi * nwp + w] = wu;
            k->dn[pi * nwp + w] = wd;
        }
    }
#endif
}

/* ---- EMA chains ------------------------------------------------------------- */

/* Two chains (a pair's fast and slow, or any two spans of a sweep): a task
 * is a run, both chains stepped together from one load of p; 6 runs side by
 * side (12 chains) hide the 6-cycle latency of a step (mul, then add).
 * Lanes hold row indices into the window's arrays (P, fast chain F, slow
 * chain S), so the loop needs few registers. */
typedef struct bt_plane {
    uint32_t j;    /* next row */
    uint32_t left; /* rows still to step */
    double f, s;   /* chain values at row j - 1 */
} bt_plane;

typedef struct bt_coef {
    double af, cf, as, cs;
    const double *P;
    double *G; /* the two chains interleaved: row j at G[2j] and G[2j + 1] */
} bt_coef;

/* G[0] = f, G[1] = s as one 16-byte store (the step is store-bound: 12
 * stores per 6 rows would fill both store ports) */
#if defined(__SSE2__)
#define BT_STORE2(g, f, s) _mm_storeu_pd((g), _mm_unpacklo_pd(_mm_set_sd(f), _mm_set_sd(s)))
#else
#define BT_STORE2(g, f, s) ((g)[0] = (f), (g)[1] = (s))
#endif

__attribute__((noinline)) static void planes_step(bt_plane *L, uint32_t K, const bt_coef *cf)
{
    const double af = cf->af, cF = cf->cf, as = cf->as, cS = cf->cs;
    const double *P = cf->P;
    double *G = cf->G;
#define BT_PLD(i)                                                                        \
    size_t j##i = L[i].j;                                                                \
    double f##i = L[i].f, s##i = L[i].s;
#define BT_PST(i)                                                                        \
    L[i].j = (uint32_t)j##i;                                                             \
    L[i].f = f##i;                                                                       \
    L[i].s = s##i;                                                                       \
    L[i].left -= K;
#define BT_PSTEP(i)                                                                      \
    {                                                                                    \
        double x = P[j##i];                                                              \
        f##i = x * af + f##i * cF;                                                       \
        s##i = x * as + s##i * cS;                                                       \
        BT_STORE2(G + 2 * j##i, f##i, s##i);                                             \
        j##i++;                                                                          \
    }
    BT_PLD(0) BT_PLD(1) BT_PLD(2) BT_PLD(3) BT_PLD(4) BT_PLD(5)
    for (uint32_t t = 0; t < K; t++) {
        BT_PSTEP(0) BT_PSTEP(1) BT_PSTEP(2) BT_PSTEP(3) BT_PSTEP(4) BT_PSTEP(5)
    }
    BT_PST(0) BT_PST(1) BT_PST(2) BT_PST(3) BT_PST(4) BT_PST(5)
#undef BT_PLD
#undef BT_PST
#undef BT_PSTEP
}

static void plane_run1(bt_plane *l, const bt_coef *cf)
{
    const double af = cf->af, cF = cf->cf, as = cf->as, cS = cf->cs;
    double f = l->f, s = l->s;
    size_t j = l->j, e = j + l->left;
    for (; j < e; j++) {
        double x = cf->P[j];
        f = x * af + f * cF;
        s = x * as + s * cS;
        cf->G[2 * j] = f;
        cf->G[2 * j + 1] = s;
    }
    l->left = 0;
}

#define BT_PLANES 6
static void planes_run(bt_plane *tasks, size_t nt, const bt_coef *cf)
{
    bt_plane L[BT_PLANES];
    int real[BT_PLANES] = {0};
    size_t next = 0;
    for (;;) {
        int n_real = 0, first = -1;
        for (int i = 0; i < BT_PLANES; i++) {
            if (!real[i]) {
                while (next < nt && tasks[next].left == 0)
                    next++;
                if (next < nt) {
                    L[i] = tasks[next++];
                    real[i] = 1;
                }
            }
            n_real += real[i];
            if (real[i] && first < 0)
                first = i;
        }
        if (n_real == 0)
            return;
        if (n_real == 1) {
            plane_run1(&L[first], cf);
            real[first] = 0;
            continue;
        }
        uint32_t K = UINT32_MAX;
        for (int i = 0; i < BT_PLANES; i++)
            if (real[i] && L[i].left < K)
                K = L[i].left;
        for (int i = 0; i < BT_PLANES; i++)
            if (!real[i])
                L[i] = L[first];
        planes_step(L, K, cf);
        for (int i = 0; i < BT_PLANES; i++)
            if (real[i] && L[i].left == 0)
                real[i] = 0;
    }
}

/* ---- one pair: chains and crossover bits fused ------------------------------ */

/* With one pair (the usual run), the two chains need not be stored: 16
 * runs side by side, one per lane of two 8-lane vectors, step 8 rows at a
 * time (each lane's 8 prices loaded and transposed), and the comparisons'
 * mask bits (8 steps x 8 lanes) are transposed into each lane's 8 row bits.
 * A lane starts its vector steps at a row that is a multiple of 8, so each
 * step fills whole bytes of the up/dn bitmaps that belong to its run alone
 * (plain byte stores); the rows before that and a run's last < 8 rows go
 * through scalar code with the same operations, so results are the same bit
 * for bit. Idle lanes repeat lane 0 (same values to the same bytes). */
typedef struct bt_fused {
    const double *P;
    uint8_t *up, *dn; /* the window's bitmaps (zeroed), as bytes (little-endian words) */
    double af, cf, as, cs;
} bt_fused;

/* cnt rows of l in scalar code, OR-ing the bits (shared bytes at the ends) */
static void fused_scalar(const bt_fused *c, bt_plane *l, uint32_t cnt)
{
    const double af = c->af, cF = c->cf, as = c->as, cS = c->cs;
    double f = l->f, s = l->s;
    uint32_t j = l->j, e = j + cnt;
    for (; j < e; j++) {
        double x = c->P[j];
        f = x * af + f * cF;
        s = x * as + s * cS;
        c->up[j >> 3] = (uint8_t)(c->up[j >> 3] | ((f > s) << (j & 7)));
        c->dn[j >> 3] = (uint8_t)(c->dn[j >> 3] | ((s >= f) << (j & 7)));
    }
    l->f = f, l->s = s, l->j = e, l->left -= cnt;
}

#if defined(__AVX512F__)
/* bit 8t + i -> bit 8i + t (an 8 x 8 bit matrix transposed) */
static inline uint64_t bits_t8(uint64_t x)
{
    uint64_t t;
    t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
    x = x ^ t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
    x = x ^ t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
    x = x ^ t ^ (t << 28);
    return x;
}

/* x[t] lane i = src[i][t]: 8 rows of 8 doubles transposed */
static inline __attribute__((always_inline)) void tr8(const double *const *src, __m512d *x)
{
    const __m512i i0 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i i2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    __m512d a[8], b[8];
    for (int r = 0; r < 8; r += 2) {
        __m512d r0 = _mm512_loadu_pd(src[r]), r1 = _mm512_loadu_pd(src[r + 1]);
        a[r] = _mm512_unpacklo_pd(r0, r1);     /* cols 0 2 4 6 of rows r, r+1 */
        a[r + 1] = _mm512_unpackhi_pd(r0, r1); /* cols 1 3 5 7 */
    }
    for (int h = 0; h < 8; h += 4) { /* rows h..h+3 */
        b[h] = _mm512_permutex2var_pd(a[h], i0, a[h + 2]);         /* cols 0, 4 */
        b[h + 2] = _mm512_permutex2var_pd(a[h], i2, a[h + 2]);     /* cols 2, 6 */
        b[h + 1] = _mm512_permutex2var_pd(a[h + 1], i0, a[h + 3]); /* cols 1, 5 */
        b[h + 3] = _mm512_permutex2var_pd(a[h + 1], i2, a[h + 3]); /* cols 3, 7 */
    }
    for (int t = 0; t < 4; t++) {
        x[t] = _mm512_shuffle_f64x2(b[t], b[4 + t], 0x44);
        x[t + 4] = _mm512_shuffle_f64x2(b[t], b[4 + t], 0xEE);
    }
}

/* K steps of 8 rows for lanes 0 .. 8 nv - 1: lane i reads prices from
 * src[i] and writes bitmap bytes ub[i][q], db[i][q] (q = 0 .. K-1); the nv
 * vectors' chains interleaved step by step */
static inline __attribute__((always_inline)) void
fused_chunks(const double *const *src, uint8_t *const *ub, uint8_t *const *db, uint32_t K,
             const int nv, __m512d *F, __m512d *S, __m512d af, __m512d cf, __m512d as,
             __m512d cs)
{
    for (uint32_t q = 0; q < K; q++) {
        __m512d x[2][8];
        for (int v = 0; v < nv; v++) {
            const double *sp[8];
            for (int i = 0; i < 8; i++)
                sp[i] = src[8 * v + i] + 8 * (size_t)q;
            tr8(sp, x[v]);
        }
        uint64_t U[2] = {0, 0}, D[2] = {0, 0};
        for (int t = 0; t < 8; t++)
            for (int v = 0; v < nv; v++) {
                F[v] = _mm512_add_pd(_mm512_mul_pd(x[v][t], af), _mm512_mul_pd(F[v], cf));
                S[v] = _mm512_add_pd(_mm512_mul_pd(x[v][t], as), _mm512_mul_pd(S[v], cs));
                U[v] |= (uint64_t)_mm512_cmp_pd_mask(F[v], S[v], _CMP_GT_OQ) << (8 * t);
                D[v] |= (uint64_t)_mm512_cmp_pd_mask(S[v], F[v], _CMP_GE_OQ) << (8 * t);
            }
        for (int v = 0; v < nv; v++) {
            uint64_t u = bits_t8(U[v]), d = bits_t8(D[v]);
            for (int i = 0; i < 8; i++) {
                ub[8 * v + i][q] = (uint8_t)(u >> (8 * i));
                db[8 * v + i][q] = (uint8_t)(d >> (8 * i));
            }
        }
    }
}
#endif

#define BT_FLANES 16
static void fused_run(bt_plane *tasks, size_t nt, const bt_fused *c)
{
    size_t next = 0;
#if defined(__AVX512F__)
    bt_plane *lane[BT_FLANES] = {0};
    const __m512d af = _mm512_set1_pd(c->af), cf = _mm512_set1_pd(c->cf);
    const __m512d as = _mm512_set1_pd(c->as), cs = _mm512_set1_pd(c->cs);
    for (;;) {
        /* fill the lanes with runs at a row multiple of 8 with >= 8 rows
         * left; rows before that, short runs and tails run scalar */
        int active = 0;
        for (int i = 0; i < BT_FLANES; i++) {
            for (;;) {
                bt_plane *l = lane[i];
                if (l && l->left >= 8 && (l->j & 7) == 0)
                    break;
                if (l) {
                    uint32_t pre = (8 - (l->j & 7)) & 7;
                    if (l->left >= pre + 8 && pre) {
                        fused_scalar(c, l, pre);
                        break;
                    }
                    fused_scalar(c, l, l->left);
                    lane[i] = NULL;
                }
                if (next == nt)
                    break;
                lane[i] = &tasks[next++];
            }
            active += lane[i] != NULL;
        }
        if (active == 0)
            return;
        for (int i = 0, w = 0; i < BT_FLANES; i++) /* the active lanes first */
            if (lane[i]) {
                bt_plane *t = lane[i];
                lane[i] = NULL;
                lane[w++] = t;
            }
        int nv = active > 8 ? 2 : 1;
        uint32_t K = UINT32_MAX;
        for (int i = 0; i < active; i++)
            if (lane[i]->left / 8 < K)
                K = lane[i]->left / 8;
        const double *src[BT_FLANES];
        uint8_t *ub[BT_FLANES], *db[BT_FLANES];
        double fv[BT_FLANES], sv[BT_FLANES];
        for (int i = 0; i < 8 * nv; i++) {
            const bt_plane *l = lane[i < active ? i : 0];
            src[i] = c->P + l->j;
            ub[i] = c->up + l->j / 8;
            db[i] = c->dn + l->j / 8;
            fv[i] = l->f;
            sv[i] = l->s;
        }
        __m512d F[2], S[2];
        for (int v = 0; v < nv; v++) {
            F[v] = _mm512_loadu_pd(fv + 8 * v);
            S[v] = _mm512_loadu_pd(sv + 8 * v);
        }
        if (nv == 2)
            fused_chunks(src, ub, db, K, 2, F, S, af, cf, as, cs);
        else
            fused_chunks(src, ub, db, K, 1, F, S, af, cf, as, cs);
        for (int v = 0; v < nv; v++) {
            _mm512_storeu_pd(fv + 8 * v, F[v]);
            _mm512_storeu_pd(sv + 8 * v, S[v]);
        }
        for (int i = 0; i < active; i++) {
            lane[i]->f = fv[i];
            lane[i]->s = sv[i];
            lane[i]->j += 8 * K;
            lane[i]->left -= 8 * K;
        }
    }
#else
    for (; next < nt; next++)
        fused_scalar(c, &tasks[next], tasks[next].left);
#endif
}

static int plane_cmp(const void *x, const void *y)
{
    const bt_plane *a = x, *b = y;
    return a->left > b->left ? -1 : a->left < b->left;
}

/* ---- decisions ------------------------------------------------------------ */

/* First j in [from, end) with bit j of x (& y when y) set, else end. */
static inline uint32_t next_bit(const uint64_t *x, const uint64_t *y, uint32_t from,
                                uint32_t end)
{
    if (from >= end)
        return end;
    uint32_t i = from >> 6;
    uint64_t w = (y ? x[i] & y[i] : x[i]) & (~UINT64_C(0) << (from & 63));
    while (!w) {
        i++;
        if ((uint64_t)i << 6 >= end)
            return end;
        w = y ? x[i] & y[i] : x[i];
    }
    uint32_t r = (i << 6) + (uint32_t)__builtin_ctzll(w);
    return r < end ? r : end;
}

static int log_trade(tl_bt_kernel *k, tl_error *err, uint64_t series, uint32_t pair,
                     const bt_pair_state *s, uint64_t exit_row, int64_t exit_ts,
                     double exit_price, double diff)
{
    GROW(k->u.trade_log, k->cap_trades, k->u.n_trades + 1, "the trade log");
    tl_bt_trade *t = &k->u.trade_log[k->u.n_trades++];
    t->series = series;
    t->pair = pair;
    t->entry_row = s->entry_row;
    t->exit_row = exit_row;
    t->entry_ts = s->entry_ts;
    t->exit_ts = exit_ts;
    t->entry_price = s->entry;
    t->exit_price = exit_price;
    t->pnl = diff;
    return TL_OK;
}

/* Close pair k's open position of `series` at its last row (BT-R7). */
static int close_at_end(tl_bt_kernel *k, tl_error *err, uint32_t pair, uint64_t series,
                        double plast, int64_t tlast, uint64_t last_row)
{
    bt_pair_state *s = &k->st[pair];
    if (!s->open)
        return TL_OK;
    double diff = plast - s->entry;
    k->u.pnl[pair] += diff;
    if (k->want_series)
        k->u.series_pnl[series * k->n_pairs + pair] += diff;
    s->open = 0;
    if (k->want_trades)
        return log_trade(k, err, series, pair, s, last_row, tlast, plast, diff);
    return TL_OK;
}

/* Make room for series [0, n) in the unit's per-series arrays (zeroed). */
static int series_room(tl_bt_kernel *k, tl_error *err, uint64_t n)
{
    if (!k->want_series || n <= k->cap_series)
        return TL_OK;
    size_t cap = k->cap_series ? k->cap_series : 64;
    while (cap < n)
        cap *= 2;
    uint64_t *r = realloc(k->u.series_rows, cap * sizeof *r);
    if (r)
        k->u.series_rows = r;
    uint64_t *t = realloc(k->u.series_trades, cap * k->n_pairs * sizeof *t);
    if (t)
        k->u.series_trades = t;
    double *p = realloc(k->u.series_pnl, cap * k->n_pairs * sizeof *p);
    if (p)
        k->u.series_pnl = p;
    if (!r || !t || !p)
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for %zu series", cap);
    size_t old = k->cap_series;
    memset(r + old, 0, (cap - old) * sizeof *r);
    memset(t + old * k->n_pairs, 0, (cap - old) * k->n_pairs * sizeof *t);
    memset(p + old * k->n_pairs, 0, (cap - old) * k->n_pairs * sizeof *p);
    k->cap_series = cap;
    return TL_OK;
}

static int ensure_unit_arrays(tl_bt_kernel *k, tl_error *err)
{
    if (k->u.trades)
        return TL_OK;
    k->u.trades = calloc(k->n_pairs, sizeof *k->u.trades);
    k->u.pnl = calloc(k->n_pairs, sizeof *k->u.pnl);
    if (!k->u.trades || !k->u.pnl)
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for the unit's results");
    return TL_OK;
}

/* Append n bits of src (bits beyond n zero) at bit offset off of dst, whose
 * bits from off on are zero; keeps that invariant. */
static void bits_append(uint64_t *dst, uint32_t off, const uint64_t *src, uint32_t n)
{
    size_t w0 = off >> 6, nw = ((size_t)n + 63) / 64;
    unsigned sh = off & 63;
    if (sh == 0) {
        memcpy(dst + w0, src, nw * sizeof *src);
        dst[w0 + nw] = 0;
        return;
    }
    for (size_t i = 0; i < nw; i++) {
        dst[w0 + i] |= src[i] << sh;
        dst[w0 + i + 1] = src[i] >> (64 - sh);
    }
}

static int flush_window(tl_bt_kernel *k, tl_error *err);

/* Order tasks so that the long ones (at least n/256 rows of the window)
 * come first, longest first; the short rest follows in any order. O(nt)
 * plus a sort of at most 256 tasks, so windows of many tiny series cost no
 * sort. */
static void long_first(bt_plane *t, size_t nt, uint32_t n)
{
    uint32_t thr = n / 256 > 64 ? n / 256 : 64;
    size_t nl = 0;
    for (size_t i = 0; i < nt; i++)
        if (t[i].left >= thr) {
            bt_plane x = t[nl];
            t[nl++] = t[i];
            t[i] = x;
        }
    qsort(t, nl, sizeof *t, plane_cmp);
}

/* The eligibility bits of a block's n kept rows (idx, or all) into k->etmp
 * from bid, ask and volume as doubles: float64 and int64 columns in place,
 * others (and narrowed ones, and kept-row subsets) converted first. psrc:
 * prices copied to pdst on the way (elig_pass). */
static int elig_doubles(tl_bt_kernel *k, const tl_bt_input *in, const tl_type tt[4],
                        const uint32_t *idx, uint32_t n, const double *psrc, double *pdst,
                        tl_error *err)
{
    const double *A = in->ask->values, *B = in->bid->values;
    const uint8_t *Av = in->ask->validity, *Bv = in->bid->validity;
    const void *V = in->volume->values;
    const uint8_t *Vv = in->volume->validity;
    int v_i64 = tt[3] == TL_INT64 && !in->volume_scale;
    if (idx || tt[2] != TL_FLOAT64 || in->ask_scale) {
        GROW(k->A, k->capA, (size_t)n + 8, "asks");
        col_double(k->A, tt[2], in->ask, in->ask_scale, idx, n);
        A = k->A;
        Av = NULL;
    }
    if (idx || tt[1] != TL_FLOAT64 || in->bid_scale) {
        GROW(k->B, k->capB, (size_t)n + 8, "bids");
        col_double(k->B, tt[1], in->bid, in->bid_scale, idx, n);
        B = k->B;
        Bv = NULL;
    }
    if (idx || (tt[3] != TL_FLOAT64 && tt[3] != TL_INT64) || in->volume_scale) {
        GROW(k->V, k->capV, (size_t)n + 8, "volumes");
        col_double(k->V, tt[3], in->volume, in->volume_scale, idx, n);
        V = k->V;
        Vv = NULL;
        v_i64 = 0;
    }
    elig_pass(k->etmp, n, A, Av, B, Bv, V, Vv, v_i64, k->max_spread, k->min_volume, psrc, pdst);
    return TL_OK;
}

int tl_bt_kernel_block(tl_bt_kernel *k, const tl_bt_input *in, tl_error *err)
{
    int rc = ensure_unit_arrays(k, err);
    if (rc)
        return rc;
    const uint32_t n0 = in->n_rows;
    if (n0 == 0)
        return TL_OK;
    const tl_type tt[4] = {in->price_type, in->bid_type, in->ask_type, in->volume_type};
    const tl_colvec *cv[4] = {in->price, in->bid, in->ask, in->volume};
    static const char *const what[4] = {"price", "bid", "ask", "volume"};
    for (int i = 0; i < 4; i++) {
        if (!cv[i] || !cv[i]->values)
            return tl_error_set(err, TL_EINVAL, "backtest: %s column: no values", what[i]);
        if (!numeric_type(tt[i]))
            return tl_error_set(err, TL_EINVAL,
                                "backtest: %s column: expected an integer or float type, found %s",
                                what[i], tl_type_name(tt[i]) ? tl_type_name(tt[i]) : "?");
    }
    uint32_t one_run = n0;
    uint32_t nr0 = in->n_runs ? in->n_runs : 1;
    const uint32_t *re0 = in->n_runs ? in->run_ends : &one_run;
    if (in->n_runs && !in->run_ends)
        return tl_error_set(err, TL_EINVAL, "backtest: %u runs but no run ends", in->n_runs);
    for (uint32_t r = 0; r < nr0; r++)
        if (re0[r] <= (r ? re0[r - 1] : 0) || re0[r] > n0 || (r == nr0 - 1 && re0[r] != n0))
            return tl_error_set(err, TL_EINVAL,
                                "backtest: run %u of a block of %u rows: expected an end "
                                "above the previous one (the last = %u), found %u",
                                r, n0, n0, re0[r]);

    /* 1. rows kept: selected and non-null price */
    uint64_t n_sel = n0;
    uint32_t n = n0;
    const uint32_t *idx = NULL;
    const uint8_t *pv = in->price->validity;
    if (in->sel || pv) {
        GROW(k->idx, k->cap_idx, n0, "row indices");
        uint32_t m = 0;
        n_sel = 0;
        for (uint32_t i = 0; i < n0; i++) {
            int s = tl_bit_get(in->sel, i);
            n_sel += (uint64_t)s;
            k->idx[m] = i;
            m += (uint32_t)(s & tl_bit_get(pv, i));
        }
        k->u.rows_null_price += n_sel - m;
        if (m != n0) {
            n = m;
            idx = k->idx;
        }
    }
    k->u.rows += n_sel;

    /* runs over the kept rows */
    const uint32_t *re = re0;
    uint32_t nr = nr0;
    if (idx) {
        GROW(k->runs, k->cap_runs, nr0, "run ends");
        uint32_t j = 0;
        for (uint32_t r = 0; r < nr0; r++) {
            while (j < n && idx[j] < re0[r])
                j++;
            k->runs[r] = j;
        }
        re = k->runs;
    }

    /* stage: prices and timestamps appended to the window */
    uint32_t wn = k->wn;
    GROW(k->P, k->capP, (size_t)wn + n + 8, "prices");
    const double *psrc = NULL; /* copied by the elig pass */
    if (!idx && tt[0] == TL_FLOAT64)
        psrc = in->price->values;
    else
        to_double(k->P + wn, tt[0], in->price, idx, n);
    if (k->want_trades) {
        GROW(k->T, k->capT, (size_t)wn + n + 1, "timestamps");
        for (uint32_t j = 0; j < n; j++)
            k->T[wn + j] = in->ts ? in->ts[idx ? idx[j] : j] : 0;
    }

    /* eligibility of the block's kept rows, appended to the window's bits */
    GROW(k->elig, k->cap_elig, ((size_t)wn + n) / 64 + 3, "bitmaps");
    if (n > 0) {
        GROW(k->etmp, k->cap_etmp, (size_t)n / 64 + 2, "bitmaps");
        if (!idx && in->ask_scale && in->bid_scale &&
            narrow_elig_ok(in->ask_scale, in->bid_scale, k->max_spread) &&
            (in->volume_scale || tt[3] == TL_INT64 || tt[3] == TL_FLOAT64)) {
            int vk = in->volume_scale ? VOL_I32 : tt[3] == TL_INT64 ? VOL_I64 : VOL_F64;
            elig_narrow(k->etmp, n, in->ask->values, in->ask_scale, in->bid->values,
                        in->bid_scale, in->volume->values, in->volume->validity, vk,
                        k->max_spread, k->min_volume, psrc, k->P + wn);
        } else if ((rc = elig_doubles(k, in, tt, idx, n, psrc, k->P + wn, err))) {
            return rc;
        }
        bits_append(k->elig, wn, k->etmp, n);
    }

    /* runs: the block's first run extends the window's last one when it
     * continues it */
    GROW(k->wruns, k->cap_wruns, (size_t)k->wnr + nr, "run ends");
    uint32_t r0 = 0;
    if (k->wnr == 0) {
        k->win_cont = in->continues;
    } else if (in->continues) {
        k->wruns[k->wnr - 1] = wn + re[0];
        r0 = 1;
    }
    for (uint32_t r = r0; r < nr; r++)
        k->wruns[k->wnr++] = wn + re[r];
    k->wn = wn + n;
    if (k->wn >= k->window_rows)
        return flush_window(k, err);
    return TL_OK;
}

/* Chains, decisions and series bookkeeping over the staged window. */
static int flush_window(tl_bt_kernel *k, tl_error *err)
{
    int rc;
    if (k->wnr == 0)
        return TL_OK;
    const uint32_t n = k->wn, nr = k->wnr;
    const uint32_t *re = k->wruns;
    const double *P = k->P;
    const int64_t *T = k->want_trades ? k->T : NULL;
    k->wn = k->wnr = 0;

    /* series of each run: run 0 continues the open series or starts one */
    int cont = k->win_cont && k->have_series;
    uint64_t s0 = cont ? k->cur_series : (k->have_series ? k->cur_series + 1 : 0);
    int cont_rows = cont && k->cur_m > 0; /* run 0's chains carry in */
    rc = series_room(k, err, s0 + nr);
    if (rc)
        return rc;
    GROW(k->run_plast, k->cap_rp, nr, "run state");
    GROW(k->run_tlast, k->cap_rt, nr, "run state");
    for (uint32_t r = 0; r < nr; r++) {
        uint32_t s = r ? re[r - 1] : 0, e = re[r];
        uint64_t before = (r == 0 && cont) ? k->cur_m : 0;
        if (e > s) {
            k->run_plast[r] = P[e - 1];
            k->run_tlast[r] = T ? T[e - 1] : 0;
            if (before == 0)
                k->u.contracts++;
        } else {
            k->run_plast[r] = (r == 0 && cont) ? k->cur_plast : 0;
            k->run_tlast[r] = (r == 0 && cont) ? k->cur_tlast : 0;
        }
        if (k->want_series)
            k->u.series_rows[s0 + r] += e - s;
    }

    /* one pair: chains and crossover bits in one fused pass (no chain
     * arrays); sweeps: chains stored, then cross_all */
    const int fused = k->n_pairs == 1 && k->nf + k->ns == 2 && k->pair_f[0] == 0 &&
                      k->pair_s[0] == 1;
    double fused_carry[2] = {0, 0};
    if (n > 0 && fused) {
        size_t nw = (n + 63) / 64 + 1;
        GROW(k->up, k->cap_up, nw, "bitmaps");
        GROW(k->dn, k->cap_dn, nw, "bitmaps");
        memset(k->up, 0, nw * sizeof(uint64_t));
        memset(k->dn, 0, nw * sizeof(uint64_t));
        rc = grow(err, &k->tasks, &k->cap_tasks, (size_t)nr * sizeof(bt_plane), "EMA tasks");
        if (rc)
            return rc;
        bt_plane *pt = k->tasks;
        uint8_t *dn8 = (uint8_t *)k->dn;
        size_t nt = 0;
        for (uint32_t r = 0; r < nr; r++) {
            uint32_t s = r ? re[r - 1] : 0, e = re[r];
            if (e == s)
                continue;
            bt_plane *l = &pt[nt++];
            l->j = s;
            l->left = e - s;
            if (r == 0 && cont_rows) {
                l->f = k->carry[0];
                l->s = k->carry[1];
            } else { /* a series' first row: fast = slow = p[0]; up = 0 */
                l->f = l->s = P[s];
                dn8[s >> 3] = (uint8_t)(dn8[s >> 3] | ((P[s] >= P[s]) << (s & 7)));
                l->j++;
                l->left--;
            }
        }
        /* the last run's chains at its last row carry into the next window */
        uint32_t le = re[nr - 1];
        fused_carry[0] = fused_carry[1] = P[le - 1];
        bt_fused fc = {P, (uint8_t *)k->up, dn8, k->ca[0], k->cc[0], k->ca[1], k->cc[1]};
        long_first(pt, nt, n);
        fused_run(pt, nt, &fc);
        for (size_t t = 0; t < nt; t++)
            if (pt[t].j == le) {
                fused_carry[0] = pt[t].f;
                fused_carry[1] = pt[t].s;
            }
    } else if (n > 0) {
        size_t nw = (n + 63) / 64 + 1;
        GROW(k->up, k->cap_up, nw * k->n_pairs, "bitmaps");
        GROW(k->dn, k->cap_dn, nw * k->n_pairs, "bitmaps");

        /* 3. chains, two at a time (fast and slow of one pair, or any two
         * of a sweep; an odd last one is paired with itself, writing the
         * same values twice): a task is a run */
        uint32_t nch = k->nf + k->ns;
        GROW(k->chain, k->cap_chain, (size_t)(nch + 1) / 2 * 2 * n + 16, "EMA chains");
        rc = grow(err, &k->tasks, &k->cap_tasks, (size_t)nr * sizeof(bt_plane), "EMA tasks");
        if (rc)
            return rc;
        bt_plane *pt = k->tasks;
        for (uint32_t c1 = 0; c1 < nch; c1 += 2) {
            uint32_t c2 = c1 + 1 < nch ? c1 + 1 : c1;
            double *g = k->chain + (size_t)c1 * n; /* group c1 / 2: 2n doubles */
            size_t nt = 0;
            for (uint32_t r = 0; r < nr; r++) {
                uint32_t s = r ? re[r - 1] : 0, e = re[r];
                if (e == s)
                    continue;
                bt_plane *l = &pt[nt++];
                if (r == 0 && cont_rows) {
                    l->f = k->carry[c1];
                    l->s = k->carry[c2];
                    l->j = s;
                    l->left = e - s;
                } else { /* a series' first row: fast = slow = p[0] */
                    g[2 * (size_t)s] = g[2 * (size_t)s + 1] = P[s];
                    l->f = l->s = P[s];
                    l->j = s + 1;
                    l->left = e - s - 1;
                    if (l->left == 0)
                        nt--;
                }
            }
            bt_coef cf = {k->ca[c1], k->cc[c1], k->ca[c2], k->cc[c2], P, g};
            long_first(pt, nt, n);
            planes_run(pt, nt, &cf);
        }
    }

    /* 4. crossover bitmaps of every pair in one pass, then decisions, pair
     * by pair, runs in order */
    const size_t nwp = ((size_t)n + 63) / 64 + 1; /* words per pair */
    if (n > 0 && !fused)
        cross_all(k, n, nwp);
    for (uint32_t pi = 0; pi < k->n_pairs; pi++) {
        const uint64_t *up = k->up + pi * nwp, *dn = k->dn + pi * nwp;
        bt_pair_state *st = &k->st[pi];
        uint64_t *ptr = &k->u.trades[pi];
        for (uint32_t r = 0; r < nr; r++) {
            uint64_t series = s0 + r;
            if (r == 0 && !cont && k->have_series) {
                rc = close_at_end(k, err, pi, k->cur_series, k->cur_plast, k->cur_tlast,
                                  k->row_ord - 1);
                if (rc)
                    return rc;
            } else if (r > 0) {
                uint32_t pe = re[r - 1];
                rc = close_at_end(k, err, pi, series - 1, k->run_plast[r - 1],
                                  k->run_tlast[r - 1], k->row_ord + pe - 1);
                if (rc)
                    return rc;
            }
            uint32_t pos = r ? re[r - 1] : 0, e = re[r];
            while (pos < e) {
                if (!st->open) {
                    uint32_t j = next_bit(up, k->elig, pos, e);
                    if (j == e)
                        break;
                    st->open = 1;
                    st->entry = P[j];
                    st->entry_ts = T ? T[j] : 0;
                    st->entry_row = k->row_ord + j;
                    (*ptr)++;
                    if (k->want_series)
                        k->u.series_trades[series * k->n_pairs + pi]++;
                    pos = j + 1;
                } else {
                    uint32_t j = next_bit(dn, NULL, pos, e);
                    if (j == e)
                        break;
                    double diff = P[j] - st->entry;
                    k->u.pnl[pi] += diff;
                    if (k->want_series)
                        k->u.series_pnl[series * k->n_pairs + pi] += diff;
                    st->open = 0;
                    if (k->want_trades) {
                        rc = log_trade(k, err, series, pi, st, k->row_ord + j, T ? T[j] : 0,
                                       P[j], diff);
                        if (rc)
                            return rc;
                    }
                    pos = j + 1;
                }
            }
        }
    }

    /* the last run stays open */
    uint32_t ls = nr > 1 ? re[nr - 2] : 0, le = re[nr - 1];
    uint64_t last_before = (nr == 1 && cont) ? k->cur_m : 0;
    if (le > ls) {
        if (fused) {
            k->carry[0] = fused_carry[0];
            k->carry[1] = fused_carry[1];
        } else {
            for (uint32_t c = 0; c < k->nf + k->ns; c++)
                k->carry[c] = k->chain[(size_t)(c / 2) * 2 * n + 2 * ((size_t)le - 1) + c % 2];
        }
        k->cur_plast = P[le - 1];
        k->cur_tlast = T ? T[le - 1] : 0;
    } else if (!(nr == 1 && cont)) {
        k->cur_plast = 0;
        k->cur_tlast = 0;
    }
    k->cur_m = last_before + (le - ls);
    k->cur_series = s0 + nr - 1;
    k->have_series = 1;
    k->row_ord += n;
    k->u.n_series = s0 + nr;
    return TL_OK;
}

static int trade_cmp(const void *x, const void *y)
{
    const tl_bt_trade *a = x, *b = y;
    if (a->series != b->series)
        return a->series < b->series ? -1 : 1;
    if (a->pair != b->pair)
        return a->pair < b->pair ? -1 : 1;
    return a->entry_row < b->entry_row ? -1 : a->entry_row > b->entry_row;
}

int tl_bt_kernel_unit_end(tl_bt_kernel *k, tl_bt_unit_out *out, tl_error *err)
{
    int rc = ensure_unit_arrays(k, err);
    if (!rc)
        rc = flush_window(k, err);
    if (rc)
        return rc;
    if (k->have_series)
        for (uint32_t pi = 0; pi < k->n_pairs; pi++) {
            rc = close_at_end(k, err, pi, k->cur_series, k->cur_plast, k->cur_tlast,
                              k->row_ord - 1);
            if (rc)
                return rc;
        }
    if (k->u.n_trades > 1)
        qsort(k->u.trade_log, k->u.n_trades, sizeof *k->u.trade_log, trade_cmp);
    *out = k->u;
    memset(&k->u, 0, sizeof k->u);
    k->cap_series = k->cap_trades = 0;
    k->have_series = 0;
    return TL_OK;
}

/* ---- tl_backtest_run: the kernel over an ordered scan ----------------------- */

void tl_backtest_opts_default(tl_backtest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_spread = 0.0005;
    o->min_volume = 1;
}

void tl_backtest_result_free(tl_backtest_result *res)
{
    if (!res)
        return;
    free(res->table);
    free(res->pairs);
    memset(res, 0, sizeof *res);
}

/* Per unit (partition): the kernel's results, and for the CSVs the text of
 * each series' contract values (non-partition contract columns, CSV
 * fields joined by commas). */
typedef struct bt_unit {
    size_t partition;
    tl_bt_unit_out out;
    char *text;
    size_t text_len, text_cap;
    size_t *text_off; /* series s: text[text_off[s] .. text_off[s+1]) */
    size_t n_text, cap_off;
} bt_unit;

typedef struct bt_worker {
    tl_bt_kernel *k;
    size_t unit;
    int first_block;
    uint64_t n_series; /* series started in the unit (as the kernel counts) */
} bt_worker;

typedef struct bt_ctx {
    const tl_snapshot *s;
    tl_bt_params pr;
    int want_series, want_trades, want_text;
    int proj_p, proj_b, proj_a, proj_v, proj_t; /* projection indices */
    int proj_c[64];                             /* non-partition contract cols */
    uint32_t n_np;
    bt_unit *units;
    size_t n_units;
    bt_worker *workers;
    uint32_t n_workers;
} bt_ctx;

static int bt_start(void *ctx, size_t n_units, uint32_t n_workers, tl_error *err)
{
    bt_ctx *c = ctx;
    c->units = calloc(n_units ? n_units : 1, sizeof *c->units);
    c->workers = calloc(n_workers ? n_workers : 1, sizeof *c->workers);
    if (!c->units || !c->workers)
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for %zu units", n_units);
    c->n_units = n_units;
    c->n_workers = n_workers;
    for (uint32_t w = 0; w < n_workers; w++) {
        int rc = tl_bt_kernel_open(&c->pr, c->want_series, c->want_trades, &c->workers[w].k, err);
        if (rc)
            return rc;
    }
    return TL_OK;
}

static int bt_unit_begin(void *ctx, uint32_t worker, size_t unit, size_t partition,
                         tl_error *err)
{
    bt_ctx *c = ctx;
    if (worker >= c->n_workers || unit >= c->n_units)
        return tl_error_set(err, TL_EINVAL, "backtest: unit %zu / worker %u out of range", unit,
                            worker);
    bt_worker *w = &c->workers[worker];
    tl_bt_kernel_unit_begin(w->k);
    w->unit = unit;
    w->first_block = 1;
    w->n_series = 0;
    c->units[unit].partition = partition;
    return TL_OK;
}

/* CSV text of value i of a column (null: empty). */
static size_t fmt_field(char *out, tl_type t, const tl_colvec *v, uint32_t i, char **big,
                        size_t *big_len)
{
    *big = NULL;
    if (!tl_bit_get(v->validity, i))
        return 0;
    switch (t) {
    case TL_BOOL: {
        int b = ((const uint8_t *)v->values)[i] != 0;
        memcpy(out, b ? "true" : "false", b ? 4 : 5);
        return b ? 4 : 5;
    }
    case TL_INT8: return tl_fmt_i64(out, ((const int8_t *)v->values)[i]);
    case TL_INT16: return tl_fmt_i64(out, ((const int16_t *)v->values)[i]);
    case TL_INT32: return tl_fmt_i64(out, ((const int32_t *)v->values)[i]);
    case TL_INT64: return tl_fmt_i64(out, ((const int64_t *)v->values)[i]);
    case TL_UINT8: return tl_fmt_u64(out, ((const uint8_t *)v->values)[i]);
    case TL_UINT16: return tl_fmt_u64(out, ((const uint16_t *)v->values)[i]);
    case TL_UINT32: return tl_fmt_u64(out, ((const uint32_t *)v->values)[i]);
    case TL_UINT64: return tl_fmt_u64(out, ((const uint64_t *)v->values)[i]);
    case TL_FLOAT32: return tl_fmt_f32(out, ((const float *)v->values)[i]);
    case TL_FLOAT64: return tl_fmt_f64(out, ((const double *)v->values)[i]);
    case TL_TIMESTAMP: return tl_fmt_timestamp_iso(out, ((const int64_t *)v->values)[i]);
    case TL_TIMESTAMP_US: return tl_fmt_timestamp_us(out, ((const int64_t *)v->values)[i]);
    case TL_DATE: return tl_fmt_date(out, ((const int32_t *)v->values)[i]);
    case TL_STRING: {
        const uint8_t *p = v->data + v->offsets[i];
        size_t n = v->offsets[i + 1] - v->offsets[i];
        *big = (char *)p;
        *big_len = n;
        return 0;
    }
    default: return 0;
    }
}

static int text_put(bt_unit *u, const char *p, size_t n, tl_error *err)
{
    if (tl_grow((void **)&u->text, &u->text_cap, u->text_len + n + 1))
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for contract values");
    memcpy(u->text + u->text_len, p, n);
    u->text_len += n;
    return TL_OK;
}

/* A string as one CSV field: quoted when it holds a comma, quote, CR or LF
 * (quotes doubled), "" when empty. */
static int text_put_csv_str(bt_unit *u, const char *p, size_t n, tl_error *err)
{
    int q = n == 0;
    for (size_t i = 0; i < n && !q; i++)
        q = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
    if (!q)
        return text_put(u, p, n, err);
    int rc = text_put(u, "\"", 1, err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = text_put(u, p + i, 1 + (p[i] == '"'), err); /* '"' twice */
    if (!rc)
        rc = text_put(u, "\"", 1, err);
    return rc;
}

/* Record the contract values of the series starting at raw row i. */
static int note_series(bt_ctx *c, bt_unit *u, const tl_scan_block *b, uint32_t i,
                       tl_error *err)
{
    if (u->n_text + 2 > u->cap_off) {
        size_t cap = u->cap_off ? 2 * u->cap_off : 64;
        size_t *o = realloc(u->text_off, cap * sizeof *o);
        if (!o)
            return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for contract values");
        u->text_off = o;
        u->cap_off = cap;
    }
    u->text_off[u->n_text] = u->text_len;
    for (uint32_t j = 0; j < c->n_np; j++) {
        int col = c->proj_c[j];
        char buf[TL_FMT_MAX + 8], *big;
        size_t big_len = 0;
        size_t n = fmt_field(buf, b->defs[col].type, &b->cols[col], i, &big, &big_len);
        int rc = j ? text_put(u, ",", 1, err) : TL_OK;
        if (!rc)
            rc = big ? text_put_csv_str(u, big, big_len, err) : text_put(u, buf, n, err);
        if (rc)
            return rc;
    }
    u->n_text++;
    u->text_off[u->n_text] = u->text_len;
    return TL_OK;
}

static int bt_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    bt_ctx *c = ctx;
    if (b->worker >= c->n_workers)
        return tl_error_set(err, TL_EINVAL, "backtest: worker %u out of range", b->worker);
    bt_worker *w = &c->workers[b->worker];
    if (b->n_rows == 0)
        return TL_OK;
    bt_unit *u = &c->units[w->unit];
    tl_bt_input in = {
        .n_rows = b->n_rows,
        .price_type = b->defs[c->proj_p].type,
        .bid_type = b->defs[c->proj_b].type,
        .ask_type = b->defs[c->proj_a].type,
        .volume_type = b->defs[c->proj_v].type,
        .price = &b->cols[c->proj_p],
        .bid = &b->cols[c->proj_b],
        .ask = &b->cols[c->proj_a],
        .volume = &b->cols[c->proj_v],
        .bid_scale = b->scale ? b->scale[c->proj_b] : 0,
        .ask_scale = b->scale ? b->scale[c->proj_a] : 0,
        .volume_scale = b->scale ? b->scale[c->proj_v] : 0,
        .ts = c->proj_t >= 0 ? b->cols[c->proj_t].values : NULL,
        .sel = b->n_sel == b->n_rows ? NULL : b->sel, /* all selected: no compaction */
        .n_runs = c->n_np ? b->n_runs : 0,
        .run_ends = b->run_ends,
        .continues = c->n_np ? b->continues : !w->first_block,
    };
    if (w->first_block)
        in.continues = 0;
    if (c->want_text) {
        uint32_t nr = in.n_runs ? in.n_runs : 1;
        for (uint32_t r = 0; r < nr; r++) {
            if (r == 0 && in.continues)
                continue;
            int rc = note_series(c, u, b, r ? in.run_ends[r - 1] : 0, err);
            if (rc)
                return rc;
        }
    }
    w->first_block = 0;
    int rc = tl_bt_kernel_block(w->k, &in, err);
    if (rc)
        tl_error_prefix(err, "partition %zu, row %llu: ", b->partition,
                        (unsigned long long)b->first_row);
    return rc;
}

static int bt_unit_end(void *ctx, uint32_t worker, size_t unit, tl_error *err)
{
    bt_ctx *c = ctx;
    if (worker >= c->n_workers || unit >= c->n_units)
        return tl_error_set(err, TL_EINVAL, "backtest: unit %zu / worker %u out of range", unit,
                            worker);
    return tl_bt_kernel_unit_end(c->workers[worker].k, &c->units[unit].out, err);
}

static int find_col(const tl_snapshot_info *in, const char *name)
{
    for (uint32_t i = 0; i < in->n_fields; i++)
        if (strcmp(in->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- CSV outputs ----
 * Each output is written to <path>.tmp.<pid>.<seq> (O_EXCL) through a
 * FILE over a descriptor opened by tl_io, then flushed, fsynced, closed,
 * renamed over <path> (plain rename: an output replaces an older one) and
 * its directory fsynced, so a crash leaves the old file or the whole new
 * one, never a torn one under the final name. Every open, fsync, rename and
 * unlink goes through tl_io (io_int.h). A failed step removes the tmp file. */

typedef struct bt_out {
    FILE *f;
    const char *path;
    tl_io_file file; /* the tmp file; f owns the descriptor once opened */
    char tmp[4200];
} bt_out;

static int out_open(bt_out *o, const char *path, tl_error *err)
{
    o->path = path;
    o->file = (tl_io_file)TL_IO_FILE_INIT;
    static _Atomic unsigned seq; /* two runs of one process never share a name */
    int n = snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld.%u", path, (long)getpid(), seq++);
    if (n < 0 || (size_t)n >= sizeof o->tmp)
        return tl_error_set(err, TL_EINVAL, "backtest: output path too long: %s", path);
    int rc = tl_io_open(NULL, NULL, o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, &o->file, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "backtest: cannot create the output: ");
        if (rc != TL_ENOMEM && err)
            err->code = TL_EIO; /* as before: a failed system call */
        return rc == TL_ENOMEM ? rc : TL_EIO;
    }
    o->f = fdopen(o->file.fd, "w");
    if (!o->f) {
        int e = errno;
        (void)tl_io_close(&o->file, NULL);
        if (tl_io_unlink(NULL, NULL, o->tmp, NULL)) { /* best effort */
        }
        return tl_error_sys(err, e, "backtest: cannot open %s", o->tmp);
    }
    return TL_OK;
}

static int out_close(bt_out *o, int ok, tl_error *err)
{
    if (!o->f)
        return TL_OK;
    int rc = TL_OK;
    if (ok && (fflush(o->f) != 0 || ferror(o->f)))
        rc = tl_error_sys(err, errno, "backtest: writing %s failed", o->tmp);
    if (ok && rc == TL_OK)
        rc = tl_io_fsync(&o->file, err); /* before the rename: never a torn output */
    int e = errno;
    if (fclose(o->f) != 0 && ok && rc == TL_OK)
        rc = tl_error_sys(err, e = errno, "backtest: closing %s failed", o->tmp);
    o->f = NULL;
    o->file.fd = -1; /* closed by fclose */
    (void)tl_io_close(&o->file, NULL);
    if (ok && rc == TL_OK) {
        rc = tl_io_rename(NULL, NULL, o->tmp, NULL, o->path, err);
        if (rc == TL_OK) {
            const char *slash = strrchr(o->path, '/');
            char dir[4200];
            if (!slash)
                snprintf(dir, sizeof dir, ".");
            else if (slash == o->path)
                snprintf(dir, sizeof dir, "/");
            else
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - o->path), o->path);
            rc = tl_io_fsync_dir(NULL, NULL, dir, err);
            if (rc != TL_OK)
                tl_error_prefix(err, "backtest: %s written but not durable: ", o->path);
            return rc;
        }
    }
    if (tl_io_unlink(NULL, NULL, o->tmp, NULL)) { /* best effort */
    }
    if (rc != TL_OK && err) {
        tl_error_prefix(err, "backtest: output %s: ", o->path);
        err->code = TL_EIO; /* as before: a failed system call */
        rc = TL_EIO;
    }
    return rc;
}

/* The partition columns of a line: symbol (CSV field) and day. */
static void put_partition(FILE *f, const tl_snapshot *s, size_t partition, int has_sym,
                          int has_day)
{
    tl_partition_info pi;
    tl_snapshot_partition(s, partition, &pi);
    if (has_sym) {
        if (pi.has_symbol && !pi.symbol_null) {
            const char *p = pi.symbol;
            int q = *p == 0 || strpbrk(p, ",\"\r\n") != NULL;
            if (q) {
                fputc('"', f);
                for (; *p; p++) {
                    if (*p == '"')
                        fputc('"', f);
                    fputc(*p, f);
                }
                fputc('"', f);
            } else {
                fputs(p, f);
            }
        }
        fputc(',', f);
    }
    if (has_day) {
        if (pi.has_day && !pi.day_null) {
            char buf[TL_FMT_MAX];
            fwrite(buf, 1, tl_fmt_date(buf, pi.day), f);
        }
        fputc(',', f);
    }
}

static void put_f64(FILE *f, double v)
{
    char buf[TL_FMT_MAX + 1];
    fwrite(buf, 1, tl_fmt_f64(buf, v), f);
}

static void put_ts(FILE *f, int64_t ns, int is_timestamp)
{
    char buf[TL_FMT_MAX + 1];
    fwrite(buf, 1, is_timestamp ? tl_fmt_timestamp_iso(buf, ns) : tl_fmt_i64(buf, ns), f);
}

static void put_header(FILE *f, const tl_snapshot_info *in, const char *const *np, uint32_t n_np)
{
    if (in->symbol_column)
        fprintf(f, "%s,", in->symbol_column);
    if (in->day_column)
        fputs("day,", f);
    for (uint32_t j = 0; j < n_np; j++)
        fprintf(f, "%s,", np[j]);
}

static int write_csvs(const bt_ctx *c, const tl_backtest_opts *o, const tl_snapshot_info *in,
                      const char *const *np, uint32_t n_np, int ts_is_timestamp,
                      tl_error *err)
{
    uint32_t n_pairs = c->pr.n_fast * c->pr.n_slow;
    int has_sym = in->symbol_column != NULL, has_day = in->day_column != NULL;
    bt_out tr = {0}, co = {0};
    int rc = TL_OK;
    if (o->trades_path) {
        rc = out_open(&tr, o->trades_path, err);
        if (rc)
            return rc;
        put_header(tr.f, in, np, n_np);
        fputs("fast,slow,entry_ts,entry_price,exit_ts,exit_price,pnl\n", tr.f);
    }
    if (!rc && o->contracts_path) {
        rc = out_open(&co, o->contracts_path, err);
        if (!rc) {
            put_header(co.f, in, np, n_np);
            fputs("fast,slow,rows,trades,pnl\n", co.f);
        }
    }
    for (size_t ui = 0; !rc && ui < c->n_units; ui++) {
        const bt_unit *u = &c->units[ui];
        const tl_bt_unit_out *uo = &u->out;
        if (u->n_text < uo->n_series) {
            rc = tl_error_set(err, TL_EINVAL,
                              "backtest: partition %zu: %zu contract values for %llu series",
                              u->partition, u->n_text, (unsigned long long)uo->n_series);
            break;
        }
        for (size_t t = 0; tr.f && t < uo->n_trades; t++) {
            const tl_bt_trade *x = &uo->trade_log[t];
            put_partition(tr.f, c->s, u->partition, has_sym, has_day);
            const char *cv = u->text + u->text_off[x->series];
            size_t cl = u->text_off[x->series + 1] - u->text_off[x->series];
            fwrite(cv, 1, cl, tr.f);
            if (n_np)
                fputc(',', tr.f);
            put_f64(tr.f, c->pr.fast[x->pair / c->pr.n_slow]);
            fputc(',', tr.f);
            put_f64(tr.f, c->pr.slow[x->pair % c->pr.n_slow]);
            fputc(',', tr.f);
            put_ts(tr.f, x->entry_ts, ts_is_timestamp);
            fputc(',', tr.f);
            put_f64(tr.f, x->entry_price);
            fputc(',', tr.f);
            put_ts(tr.f, x->exit_ts, ts_is_timestamp);
            fputc(',', tr.f);
            put_f64(tr.f, x->exit_price);
            fputc(',', tr.f);
            put_f64(tr.f, x->pnl);
            fputc('\n', tr.f);
        }
        for (uint64_t sr = 0; co.f && sr < uo->n_series; sr++) {
            if (uo->series_rows[sr] == 0)
                continue;
            for (uint32_t k = 0; k < n_pairs; k++) {
                put_partition(co.f, c->s, u->partition, has_sym, has_day);
                fwrite(u->text + u->text_off[sr], 1, u->text_off[sr + 1] - u->text_off[sr],
                       co.f);
                if (n_np)
                    fputc(',', co.f);
                put_f64(co.f, c->pr.fast[k / c->pr.n_slow]);
                fputc(',', co.f);
                put_f64(co.f, c->pr.slow[k % c->pr.n_slow]);
                fprintf(co.f, ",%llu,%llu,", (unsigned long long)uo->series_rows[sr],
                        (unsigned long long)uo->series_trades[sr * n_pairs + k]);
                put_f64(co.f, uo->series_pnl[sr * n_pairs + k]);
                fputc('\n', co.f);
            }
        }
    }
    int rc1 = out_close(&tr, rc == TL_OK, rc ? NULL : err);
    if (!rc)
        rc = rc1;
    int rc2 = out_close(&co, rc == TL_OK, rc ? NULL : err);
    if (!rc)
        rc = rc2;
    return rc;
}

static void ctx_free(bt_ctx *c)
{
    for (size_t i = 0; c->units && i < c->n_units; i++) {
        tl_bt_unit_out_free(&c->units[i].out);
        free(c->units[i].text);
        free(c->units[i].text_off);
    }
    free(c->units);
    for (uint32_t w = 0; c->workers && w < c->n_workers; w++)
        tl_bt_kernel_close(c->workers[w].k);
    free(c->workers);
}

static int is_partition_col(const tl_snapshot_info *in, const char *name)
{
    return (in->symbol_column && strcmp(in->symbol_column, name) == 0) ||
           (in->day_column && strcmp(in->day_column, name) == 0);
}

static int backtest_run(const tl_snapshot *s, const tl_backtest_opts *o,
                        tl_backtest_result *res, tl_error *err)
{
    if (!s || !o || !res)
        return tl_error_set(err, TL_EINVAL, "backtest: NULL snapshot, options or result");
    memset(res, 0, sizeof *res);
    double t0 = now_s();
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);

    static const double def_fast = 5, def_slow = 21;
    bt_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.pr.fast = o->fast && o->n_fast ? o->fast : &def_fast;
    c.pr.n_fast = o->fast && o->n_fast ? o->n_fast : 1;
    c.pr.slow = o->slow && o->n_slow ? o->slow : &def_slow;
    c.pr.n_slow = o->slow && o->n_slow ? o->n_slow : 1;
    c.pr.max_spread = o->max_spread;
    c.pr.min_volume = o->min_volume;
    {
        tl_bt_kernel *probe = NULL; /* validates the parameters */
        int rc = tl_bt_kernel_open(&c.pr, 0, 0, &probe, err);
        tl_bt_kernel_close(probe);
        if (rc)
            return rc;
    }

    /* columns */
    const char *names[5] = {o->price_col ? o->price_col : "price",
                            o->bid_col ? o->bid_col : "bp0", o->ask_col ? o->ask_col : "sp0",
                            o->volume_col ? o->volume_col : "volume",
                            o->time_col ? o->time_col : in.day_column};
    static const char *const roles[5] = {"price", "bid", "ask", "volume", "time"};
    if (!names[4])
        return tl_error_set(err, TL_EINVAL,
                            "backtest: the table has no day column: name the time column");
    for (int i = 0; i < 5; i++) {
        int f = find_col(&in, names[i]);
        if (f < 0)
            return tl_error_set(err, TL_EINVAL,
                                "backtest: %s column '%s' not found in the table", roles[i],
                                names[i]);
        tl_type t = in.fields[f].type;
        if (i < 4 && !numeric_type(t))
            return tl_error_set(err, TL_EINVAL,
                                "backtest: %s column '%s': expected an integer or float type, "
                                "found %s",
                                roles[i], names[i], tl_type_name(t));
        if (i == 4 && t != TL_TIMESTAMP && t != TL_INT64)
            return tl_error_set(err, TL_EINVAL,
                                "backtest: time column '%s': expected timestamp or int64, found %s",
                                names[i], tl_type_name(t));
    }
    int ts_is_timestamp = in.fields[find_col(&in, names[4])].type == TL_TIMESTAMP;

    static const char *const def_contract[] = {"symbol", "expiry", "opt_type", "strike"};
    const char *const *cc = o->contract_cols && o->n_contract_cols ? o->contract_cols
                                                                  : def_contract;
    uint32_t n_cc = o->contract_cols && o->n_contract_cols ? o->n_contract_cols : 4;
    if (n_cc > 64)
        return tl_error_set(err, TL_EINVAL, "backtest: at most 64 contract columns, found %u",
                            n_cc);
    const char *np[64];
    uint32_t n_np = 0;
    for (uint32_t i = 0; i < n_cc; i++) {
        if (!cc[i] || find_col(&in, cc[i]) < 0)
            return tl_error_set(err, TL_EINVAL,
                                "backtest: contract column '%s' not found in the table",
                                cc[i] ? cc[i] : "(null)");
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(cc[i], cc[j]) == 0)
                return tl_error_set(err, TL_EINVAL, "backtest: contract column '%s' given twice",
                                    cc[i]);
        if (!is_partition_col(&in, cc[i]))
            np[n_np++] = cc[i];
    }
    /* sort key = the non-partition contract columns (any order), then time */
    {
        int ok = in.n_sort_key == n_np + 1 && strcmp(in.sort_key[n_np], names[4]) == 0;
        for (uint32_t i = 0; ok && i < n_np; i++) {
            int found = 0;
            for (uint32_t j = 0; j < n_np; j++)
                found |= strcmp(in.sort_key[i], np[j]) == 0;
            ok = found;
        }
        if (!ok) {
            char key[300] = "", want[300] = "";
            size_t kl = 0, wl = 0;
            for (uint32_t i = 0; i < in.n_sort_key && kl < sizeof key; i++)
                kl += (size_t)snprintf(key + kl, sizeof key - kl, "%s%s", i ? ", " : "",
                                       in.sort_key[i]);
            for (uint32_t i = 0; i < n_np && wl < sizeof want; i++)
                wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s, ", np[i]);
            return tl_error_set(err, TL_EINVAL,
                                "backtest: the table's sort key is (%s); expected the contract "
                                "columns that are not partition columns, in any order, then the "
                                "time column: (%s%s)",
                                in.n_sort_key ? key : "none", want, names[4]);
        }
    }

    /* projection: price, bid, ask, volume (+ time, contract columns) */
    int want_csv = o->trades_path || o->contracts_path;
    c.want_trades = o->trades_path != NULL;
    c.want_series = o->contracts_path != NULL;
    c.want_text = want_csv;
    const char *proj[5 + 64];
    uint32_t n_proj = 0;
    int *slot[5] = {&c.proj_p, &c.proj_b, &c.proj_a, &c.proj_v, &c.proj_t};
    c.proj_t = -1;
    for (int i = 0; i < 5 + (int)n_np; i++) {
        const char *nm = i < 5 ? names[i] : np[i - 5];
        if (i == 4 && !c.want_trades)
            continue;
        if (i >= 5 && !want_csv)
            break;
        uint32_t j = 0;
        while (j < n_proj && strcmp(proj[j], nm) != 0)
            j++;
        if (j == n_proj)
            proj[n_proj++] = nm;
        if (i < 5)
            *slot[i] = (int)j;
        else
            c.proj_c[i - 5] = (int)j;
    }
    c.n_np = n_np;

    tl_scan_opts so;
    memset(&so, 0, sizeof so);
    so.columns = proj;
    so.n_columns = n_proj;
    /* bid, ask and volume may come as int32 (elig_narrow); not a column
     * that is also the price, the time or a contract column */
    const char *narrow[3];
    uint32_t n_narrow = 0;
    for (int i = 1; i <= 3; i++) {
        int shared = strcmp(names[i], names[0]) == 0 || strcmp(names[i], names[4]) == 0;
        for (uint32_t j = 0; j < n_cc; j++)
            shared |= strcmp(names[i], cc[j]) == 0;
        if (!shared)
            narrow[n_narrow++] = names[i];
    }
    so.narrow_columns = narrow;
    so.n_narrow_columns = n_narrow;
    so.symbols = o->symbols;
    so.n_symbols = o->n_symbols;
    so.has_days = o->has_days;
    so.day_from = o->day_from;
    so.day_to = o->day_to;
    so.threads = o->threads;
    so.io = o->io;
    so.direct = o->direct;
    so.no_verify = o->no_verify;
    so.ordered = 1;
    so.run_columns = np;
    so.n_run_columns = n_np;
    so.progress = o->progress;
    so.progress_ctx = o->progress_ctx;
    tl_scan_cb cb = {bt_start, bt_unit_begin, bt_block, bt_unit_end, &c};
    int rc = tl_scan_run(s, &so, &cb, &res->scan, err);
    if (rc) {
        ctx_free(&c);
        return rc;
    }

    /* totals: partitions in unit order, each partition's running sum */
    uint32_t n_pairs = c.pr.n_fast * c.pr.n_slow;
    res->pairs = calloc(n_pairs, sizeof *res->pairs);
    res->table = strdup(tl_table_path(tl_snapshot_table(s)));
    if (!res->pairs || !res->table) {
        ctx_free(&c);
        tl_backtest_result_free(res);
        return tl_error_set(err, TL_ENOMEM, "backtest: out of memory for the result");
    }
    res->n_pairs = n_pairs;
    for (uint32_t k = 0; k < n_pairs; k++) {
        res->pairs[k].fast = c.pr.fast[k / c.pr.n_slow];
        res->pairs[k].slow = c.pr.slow[k % c.pr.n_slow];
        res->pairs[k].pnl = 0.0;
    }
    for (size_t ui = 0; ui < c.n_units; ui++) {
        const tl_bt_unit_out *u = &c.units[ui].out;
        res->rows += u->rows;
        res->rows_null_price += u->rows_null_price;
        res->contracts += u->contracts;
        for (uint32_t k = 0; u->trades && k < n_pairs; k++) {
            res->pairs[k].trades += u->trades[k];
            res->pairs[k].pnl += u->pnl[k];
        }
    }
    res->partitions = c.n_units;
    if (want_csv) {
        rc = write_csvs(&c, o, &in, np, n_np, ts_is_timestamp, err);
        if (rc) {
            ctx_free(&c);
            tl_backtest_result_free(res);
            return rc;
        }
    }
    ctx_free(&c);
    res->version = in.version;
    res->timestamp_ms = in.timestamp_ms;
    res->max_spread = o->max_spread;
    res->min_volume = o->min_volume;
    res->bytes_read = res->scan.bytes_read;
    res->elapsed_s = now_s() - t0;
    res->rows_per_s = res->elapsed_s > 0 ? (double)res->rows / res->elapsed_s : 0;
    return TL_OK;
}

int tl_backtest_run(const tl_snapshot *s, const tl_backtest_opts *o, tl_backtest_result *res,
                    tl_error *err)
{
    /* every failure names the table (an inner layer's out-of-memory too) */
    return tl_snapshot_name_error(s, backtest_run(s, o, res, err), err);
}
