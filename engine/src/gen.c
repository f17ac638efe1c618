/*
 * gen.c - the deterministic synthetic tick generator (tl_gen_*, see the
 * "sample data generator" section of ticklake.h for the data it produces).
 *
 * Model, per (symbol, day) partition:
 * - The arrival process decides, for row i of the partition's N rows, its
 *   timestamp and its contract, as a pure function of (partition key, i):
 *   a U-shaped intraday intensity is turned into knots T[0..K] (T[k] is when
 *   the fraction k/K of the day's rows has arrived); B(i) interpolates them
 *   linearly at i/N, and row i gets ts = open + B(i) + jitter with jitter in
 *   [0, B(i+1) - B(i)) from a hash of i. So timestamps never decrease and
 *   stay in [open, open + span). The contract is the at-the-money strike of
 *   that second's spot plus a skewed offset, an expiry and a type, looked up
 *   from the same hash.
 * - Every contract draws its values from its own splitmix64 stream, three
 *   draws per tick, in its own tick order. A row's values therefore depend
 *   only on (contract, its k-th tick, that tick's timestamp), which makes
 *   the sorted order an exact permutation of the arrival order, and the
 *   rows independent of batch sizes.
 * - Arrival order merges the symbols' arrival records by timestamp (ties:
 *   lower symbol index). Sorted order first buckets the partition's
 *   timestamps by contract (chains of BLK-timestamp blocks; contracts are
 *   numbered in (expiry, opt_type, strike) order), then walks the buckets.
 *
 * Speed (the hot path is gen_row, fill_book, flush_chunk):
 * - Prices are integer ticks of 0.05 (5 cents). Rows are made CHUNK at a
 *   time into an L1-sized scratch (floats as int32 cents), the book is
 *   filled by a vectorised pass, then each column is written out whole;
 *   cents become (double)cents / 100.0 by an exact FMA-corrected reciprocal
 *   product (a division per value would cost more than the rest of a row).
 *   Writing ~35 far-apart columns row by row instead thrashes caches and
 *   prefetchers; batches of STREAM_MIN_ROWS or more are written with
 *   non-temporal stores.
 * - A contract's state is one cache line; random branches are avoided
 *   (merge, rounding); no allocation after the first batch.
 *
 * Determinism: floating point used to set a partition up (Black-Scholes
 * theo prices, the intensity curve, the spot walk) uses only + - * / and
 * sqrt with no contraction, and exp/log/normal-CDF written here, so the
 * output does not depend on the libm; per-row arithmetic is integer, and
 * the cents conversion is exact either way (FMA or division).
 *
 * Memory: per symbol one part (~200 KB; one shared in sorted mode); batch
 * columns, sized once for the largest batch asked (~270 bytes per row of
 * capacity, at most TL_GEN_BATCH_MAX rows; mmap + MAP_POPULATE, since first
 * touch of fresh pages is slow here); sorted mode adds the timestamp pool
 * for one partition: 8 bytes per row + one spare 8 KB block per contract
 * (4.4 MB), allocated at the first partition and reused.
 */
#include "ticklake.h"
#include "civil_int.h"
#include "gen_int.h"
#include "util_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* ---- fixed model parameters ------------------------------------------------ */

#define SESSION_OPEN_S 13500   /* 03:45:00 UTC */
#define SESSION_SPAN_S 22500   /* to 10:00:00 UTC */
#define SESSION_SPAN_NS ((int64_t)SESSION_SPAN_S * TL_NS_PER_S)

#define N_EXP 3
#define N_CONTRACTS 538        /* 2 * (90 + 90 + 89) */
#define MAX_OFF 45             /* strikes either side of the opening ATM */
#define CHOICE_BITS 12
#define CHOICE_N (1u << CHOICE_BITS)
#define KNOTS 256              /* segments of the intraday time warp */
#define CURVE_RES 8            /* price curve points per strike step */
#define CURVE_HALF (2 * MAX_OFF * CURVE_RES) /* spot - strike up to 90 steps */
#define CURVE_N (2 * CURVE_HALF + 2)
#define CELLS 1024             /* cells of the intensity curve */
#define ARR_CHUNK 512          /* arrival records made at a time */
#define CHUNK 128              /* rows made in L1 before copying out */
#define STAGGER 576            /* bytes added between column buffers, so that
                                  equal rows of different columns do not all
                                  map to the same cache set */
#define STREAM_MIN_ROWS 16384  /* batches this large (~4 MB) bypass the caches */
#define PREFETCH_AHEAD 6       /* arrival records whose contract to prefetch */
#define BLK 1024               /* timestamps per sorted-mode pool block */
#define NONE UINT32_MAX

static const int exp_strikes[N_EXP] = {90, 90, 89};
static const int exp_base[N_EXP] = {0, 180, 360};

/* Column numbers of the ticks schema. */
enum {
    C_TS, C_SYM, C_EXP, C_TYPE, C_STRIKE, C_PRICE, C_AVG, C_VOL, C_QTY, C_OI,
    C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_CHG, C_BP0, C_SP0 = C_BP0 + 5,
    C_BQ0 = C_SP0 + 5, C_SQ0 = C_BQ0 + 5, N_COLS = C_SQ0 + 5
};

/* The float64 columns, in the order of chunk.f[] and outp.f64. */
enum { F_PRICE, F_AVG, F_OPEN, F_HIGH, F_LOW, F_CLOSE, F_CHG, F_BP0,
       F_SP0 = F_BP0 + 5, N_F64 = F_SP0 + 5 };
static const int f64_col[N_F64] = {
    C_PRICE, C_AVG, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_CHG,
    C_BP0, C_BP0 + 1, C_BP0 + 2, C_BP0 + 3, C_BP0 + 4,
    C_SP0, C_SP0 + 1, C_SP0 + 2, C_SP0 + 3, C_SP0 + 4};

static const tl_coldef ticks_schema[N_COLS] = {
    {"timestamp", TL_TIMESTAMP}, {"symbol", TL_STRING}, {"expiry", TL_DATE},
    {"opt_type", TL_STRING},     {"strike", TL_FLOAT32}, {"price", TL_FLOAT64},
    {"avg_price", TL_FLOAT64},   {"volume", TL_INT64},  {"qty", TL_INT32},
    {"oi", TL_INT64},            {"open", TL_FLOAT64},  {"high", TL_FLOAT64},
    {"low", TL_FLOAT64},         {"close", TL_FLOAT64}, {"changeper", TL_FLOAT64},
    {"bp0", TL_FLOAT64}, {"bp1", TL_FLOAT64}, {"bp2", TL_FLOAT64},
    {"bp3", TL_FLOAT64}, {"bp4", TL_FLOAT64},
    {"sp0", TL_FLOAT64}, {"sp1", TL_FLOAT64}, {"sp2", TL_FLOAT64},
    {"sp3", TL_FLOAT64}, {"sp4", TL_FLOAT64},
    {"bq0", TL_INT32}, {"bq1", TL_INT32}, {"bq2", TL_INT32},
    {"bq3", TL_INT32}, {"bq4", TL_INT32},
    {"sq0", TL_INT32}, {"sq1", TL_INT32}, {"sq2", TL_INT32},
    {"sq3", TL_INT32}, {"sq4", TL_INT32},
};

/* Trade size in lots: mostly 1-5. */
static const uint8_t qmul_trade[64] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50};
/* Per-tick walk of a contract's own price component, in units of its scale. */
static const int8_t walk_step[16] = {-2, -1, -1, -1, -1, 0, 0, 0,
                                     0,  0,  0,  1,  1,  1, 1, 2};
/* Open-interest change in lots when it changes (1 tick in 8). */
static const int8_t oi_step[16] = {-4, -3, -2, -1, -1, -1, 0, 1,
                                   1,  1,  1,  2,  2,  3,  3, 4};

/* ---- deterministic math (IEEE basic operations only) ------------------------ */

static double pow2i(int k) /* 2^k, k in [-1022, 1023] */
{
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static double det_exp(double x)
{
    if (x < -700.0)
        return 0.0;
    if (x > 700.0)
        x = 700.0;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    double kd = x * 1.4426950408889634;
    int k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
    double r = (x - k * ln2_hi) - k * ln2_lo; /* |r| <= 0.35 */
    double s = 1.0;
    for (int n = 14; n >= 1; n--)
        s = 1.0 + s * r / n;
    return s * pow2i(k);
}

static double det_log(double x) /* x > 0, normal */
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1023) << 52);
    double m;
    memcpy(&m, &bits, sizeof m); /* [1, 2) */
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, t = 0.0;
    for (int n = 23; n >= 3; n -= 2)
        t = (t + 1.0 / n) * s2;
    return e * 0.6931471805599453 + 2.0 * s * (1.0 + t);
}

/* Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
static double norm_cdf(double x)
{
    double ax = x < 0 ? -x : x;
    double t = 1.0 / (1.0 + 0.2316419 * ax);
    double poly = t * (0.319381530 +
                       t * (-0.356563782 +
                            t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
    double tail = 0.3989422804014327 * det_exp(-0.5 * ax * ax) * poly;
    return x < 0 ? tail : 1.0 - tail;
}

/* Black-Scholes with zero rates; *delta gets dPrice/dSpot. */
static double bs_price(double s, double k, double t, double vol, int put, double *delta)
{
    double sd = vol * sqrt(t);
    double d1 = (det_log(s / k) + 0.5 * sd * sd) / sd, d2 = d1 - sd;
    if (put) {
        *delta = norm_cdf(d1) - 1.0;
        return k * norm_cdf(-d2) - s * norm_cdf(-d1);
    }
    *delta = norm_cdf(d1);
    return s * norm_cdf(d1) - k * norm_cdf(d2);
}

/* splitmix64 stream */
static inline uint64_t sm_next(uint64_t *s)
{
    *s += UINT64_C(0x9E3779B97F4A7C15);
    return tl_mix64(*s);
}
static inline double sm_unit(uint64_t *s) /* [0, 1) */
{
    return (double)(sm_next(s) >> 11) * 0x1p-53;
}
static inline double hash_unit(uint64_t h) /* [-1, 1) */
{
    return (double)(h >> 11) * 0x1p-52 - 1.0;
}

static int32_t round_i32(double x)
{
    return (int32_t)(x < 0 ? x - 0.5 : x + 0.5);
}

/* ---- state ----------------------------------------------------------------- */

typedef struct symcfg {
    const char *name;
    uint32_t len;
    uint8_t name32[TL_GEN_MAX_SYMBOL_LEN]; /* zero padded, copied whole */
    uint64_t key;      /* mix of seed and name */
    int32_t lot;
    int32_t step;      /* strike step, rupees */
    double center, amp; /* opening spot range: center +- amp, rupees */
    double vol;        /* annualised volatility */
} symcfg;

/* The state a tick of a contract updates: one cache line. */
typedef struct contract {
    _Alignas(64) uint64_t rng;
    int64_t volume;
    double cp_mul;           /* 10000 / close_t: changeper in 1/100 % */
    int32_t oi_lots;         /* open interest / lot */
    int32_t walk;            /* own price component, ticks */
    int32_t open_t;          /* 0 until the first tick */
    int32_t high_t, low_t, avg_t, close_t;
} contract;

/* What a tick of a contract only reads. */
typedef struct cinfo {
    int32_t expiry;
    float strike;
    int32_t xoff_c;          /* CURVE_HALF steps - strike, cents */
    char type2[2];           /* "CE" / "PE" */
    uint8_t scale;           /* ticks per walk step and per book gap */
    uint8_t curve;           /* expiry * 2 + put */
} cinfo;

typedef struct part {
    const symcfg *sym;
    int64_t open_ns;         /* session open of this day */
    int32_t spot_c[SESSION_SPAN_S];   /* spot at each second, cents */
    /* theoretical price (ticks) by spot - strike, per expiry and type, at
     * CURVE_RES points per strike step from -CURVE_HALF steps */
    int32_t curve[N_EXP * 2][CURVE_N];
    int64_t curve_mult;      /* 2^32 * CURVE_RES / step in cents */
    int8_t atm_shift[SESSION_SPAN_S]; /* ATM strike index - opening ATM */
    contract ct[N_CONTRACTS];
    cinfo ci[N_CONTRACTS];
    /* arrival process */
    uint64_t akey, n, i;
    uint64_t x;              /* (i+1)*KNOTS - seg*n, for B(i+1) */
    uint32_t seg;
    int64_t b_cur;           /* B(i) */
    int64_t knot[KNOTS + 1];
    double slope[KNOTS];
    /* records made ahead: rts[rpos..rlen) */
    uint32_t rpos, rlen;
    int64_t rts[ARR_CHUNK];
    uint16_t rct[ARR_CHUNK];
    int32_t rth[ARR_CHUNK];  /* theoretical price then */
} part;

/* Where rows go. The emit loops work on a local copy, so that stores into
 * the (char) string buffers do not force reloads of these pointers. */
typedef struct outp {
    int64_t *ts, *volume, *oi;
    uint32_t *sym_off;
    uint8_t *sym_data, *type_data;
    int32_t *expiry, *qty;
    float *strike;
    double *f64;             /* N_F64 columns, fstride apart, see F_* */
    int32_t *bq, *sq;        /* 5 columns each, istride apart */
    size_t fstride, istride;
    int stream;              /* whole chunks go out with non-temporal stores */
    uint32_t *bid_null, *ask_null; /* rows with a missing side */
    uint32_t n_bid_null, n_ask_null, sym_pos;
} outp;

/* Numeric values of up to CHUNK rows, column by column: rows are made here
 * (in L1) and then written to the batch one column at a time, since writing
 * ~35 far-apart columns row by row thrashes the caches and the prefetchers.
 * Floats are held as cents (changeper as 1/100 %) until then. The book is
 * filled by a second, vectorisable pass from px, scale, lot and the two
 * random words r2 (quantities) and r3 (shape), kept as 32-bit halves. */
typedef struct chunk {
    int64_t ts[CHUNK], volume[CHUNK], oi[CHUNK];
    int32_t expiry[CHUNK], qty[CHUNK];
    float strike[CHUNK];
    int32_t f[N_F64][CHUNK];
    int32_t bq[5][CHUNK], sq[5][CHUNK];
    int32_t px[CHUNK], scale[CHUNK], lot[CHUNK];
    uint32_t r2lo[CHUNK], r2hi[CHUNK], r3lo[CHUNK], r3hi[CHUNK];
    double dbl[CHUNK];       /* a float column on its way out (streaming) */
} chunk;

struct tl_gen {
    uint64_t seed, n_rows, total;
    uint32_t days, n_sym;
    int sorted;
    int32_t first_day;       /* first trading day (a weekday) */
    symcfg sym[TL_GEN_MAX_SYMBOLS];
    part *parts[TL_GEN_MAX_SYMBOLS];
    uint16_t choice[CHOICE_N];

    /* position */
    uint32_t d;              /* trading day index */
    uint32_t s;              /* sorted mode: symbol index */
    int unit_ready;          /* the current day / partition is set up */
    int finished;
    uint64_t left;           /* rows left in the current unit */
    int64_t head_ts[TL_GEN_MAX_SYMBOLS]; /* arrival mode merge heads */

    /* batch buffers */
    uint32_t cap;
    void *mem;
    size_t mem_bytes;
    outp out;
    uint32_t *type_off;
    uint8_t *bid_valid, *ask_valid;
    tl_colvec cols[N_COLS];
    _Alignas(64) chunk ck;

    /* sorted mode: per contract a chain of timestamp blocks */
    int64_t *pool;
    uint32_t *blk_next;
    size_t pool_bytes;
    uint32_t pool_blocks, pool_used;
    uint32_t head[N_CONTRACTS], tail[N_CONTRACTS], tail_len[N_CONTRACTS];
    uint32_t cur_c, cur_blk, cur_pos, cur_len;
};

/* ---- options --------------------------------------------------------------- */

static const char *const default_symbols[] = {"BANKNIFTY", "NIFTY"};

void tl_gen_opts_default(tl_gen_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->days = 1;
    o->start_day = (int32_t)tl_days_from_civil(2025, 11, 17);
    o->symbols = default_symbols;
    o->n_symbols = 2;
    o->rows_per_day = 1000000;
    o->sorted = 0;
}

const tl_coldef *tl_ticks_schema(uint32_t *n_cols)
{
    if (n_cols)
        *n_cols = N_COLS;
    return ticks_schema;
}

/* First weekday on or after day. */
static int64_t first_weekday(int64_t day)
{
    int wd = tl_weekday(day);
    return wd >= 5 ? day + (7 - wd) : day;
}

/* The n-th trading day counting from the weekday first. */
static int64_t trading_day(int64_t first, uint64_t n)
{
    int wd = tl_weekday(first);
    int64_t rem = (int64_t)(n % 5);
    return first + (int64_t)(n / 5) * 7 + rem + (wd + rem >= 5 ? 2 : 0);
}

static uint64_t name_hash(const char *s, uint32_t len)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325); /* FNV-1a, then mixed */
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * UINT64_C(0x100000001B3);
    return tl_mix64(h ^ len);
}

static void symcfg_init(symcfg *c, const char *name, uint32_t len, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->len = len;
    memcpy(c->name32, name, len);
    uint64_t nh = name_hash(name, len);
    c->key = tl_mix64(tl_mix64(seed ^ UINT64_C(0x7469636B6C616B65)) ^ nh);
    if (len == 9 && memcmp(name, "BANKNIFTY", 9) == 0) {
        c->center = 50000, c->amp = 2000, c->step = 100, c->lot = 15, c->vol = 0.14;
    } else if (len == 5 && memcmp(name, "NIFTY", 5) == 0) {
        c->center = 24500, c->amp = 1500, c->step = 50, c->lot = 25, c->vol = 0.12;
    } else {
        /* spot 1,000..60,000; strike step the 1-2-5 value nearest spot/500 */
        static const int32_t lots[6] = {15, 25, 30, 40, 50, 75};
        c->center = 1000.0 + (double)(nh % 59000);
        c->amp = c->center * 0.04;
        double want = c->center / 500.0;
        int32_t best = 1;
        for (int32_t p = 1; p <= 1000; p *= 10) {
            const int32_t m[3] = {1, 2, 5};
            for (int j = 0; j < 3; j++) {
                double d0 = want - best, d1 = want - m[j] * p;
                if ((d1 < 0 ? -d1 : d1) < (d0 < 0 ? -d0 : d0))
                    best = m[j] * p;
            }
        }
        c->step = best;
        c->lot = lots[(nh >> 20) % 6];
        c->vol = 0.16 + (double)((nh >> 40) % 8) * 0.01;
    }
}

/* Opening spot of day: slow value noise (knots every 16 days) plus a daily
 * jitter, within center +- amp; rounded to 0.05. In ticks. */
static int64_t spot_open_ticks(const symcfg *c, int64_t day)
{
    int64_t kd = tl_floor_div(day, 16);
    double frac = (double)(day - kd * 16) / 16.0;
    double u0 = hash_unit(tl_mix64(c->key ^ tl_mix64((uint64_t)kd * 2 + 1)));
    double u1 = hash_unit(tl_mix64(c->key ^ tl_mix64((uint64_t)(kd + 1) * 2 + 1)));
    double w = hash_unit(tl_mix64(c->key ^ tl_mix64((uint64_t)day * 2)));
    double v = u0 * (1.0 - frac) + u1 * frac;
    double spot = c->center + c->amp * (0.85 * v + 0.15 * w);
    return (int64_t)(spot * 20.0 + 0.5);
}

/* Last Thursday of the month holding day. */
static int64_t last_thursday(int64_t day)
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    int64_t next1 = m == 12 ? tl_days_from_civil(y + 1, 1, 1) : tl_days_from_civil(y, m + 1, 1);
    int64_t last = next1 - 1;
    return last - ((tl_weekday(last) - 3 + 7) % 7);
}

static void expiries(int64_t day, int64_t out[N_EXP])
{
    int ahead = (3 - tl_weekday(day) + 7) % 7;
    out[0] = day + (ahead == 0 ? 7 : ahead);
    out[1] = out[0] + 7;
    int64_t mth = last_thursday(day);
    if (mth <= out[1])
        mth = last_thursday(mth + 7); /* a day of next month */
    out[2] = mth;
}

/* ---- partition set-up ------------------------------------------------------ */

static void part_init(const tl_gen *g, part *p, const symcfg *sc, int64_t day)
{
    p->sym = sc;
    p->open_ns = day * TL_NS_PER_DAY + (int64_t)SESSION_OPEN_S * TL_NS_PER_S;
    uint64_t pk = tl_mix64(sc->key ^ tl_mix64((uint64_t)day ^ UINT64_C(0x5EED5EED5EED5EED)));
    uint64_t st = pk ^ 1; /* set-up stream */

    /* spot: opening level, previous close, walk through the session */
    double s0 = (double)spot_open_ticks(sc, day) * 0.05;
    double s_prev = s0 * (1.0 + 0.006 * (2.0 * sm_unit(&st) - 1.0));
    double atm0 = (double)(int64_t)(s0 / sc->step + 0.5) * sc->step;
    double sig = s0 * sc->vol / sqrt(252.0 * SESSION_SPAN_S);
    double s = s0;
    for (int t = 0; t < SESSION_SPAN_S; t++) {
        if (t > 0) {
            uint64_t r = sm_next(&st);
            double u = (double)(r & 0xFFFF) + (double)((r >> 16) & 0xFFFF) +
                       (double)((r >> 32) & 0xFFFF) + (double)(r >> 48);
            s += (u / 65536.0 - 2.0) * 1.7320508075688772 * sig; /* ~N(0,1) */
        }
        p->spot_c[t] = round_i32(s * 100.0);
        int32_t sh = round_i32((s - atm0) / sc->step);
        p->atm_shift[t] = (int8_t)(sh < -MAX_OFF ? -MAX_OFF : sh > MAX_OFF ? MAX_OFF : sh);
    }

    /* intraday intensity -> knots of the time warp */
    double w[CELLS], cum[CELLS + 1];
    cum[0] = 0;
    for (int j = 0; j < CELLS; j++) {
        double x = (j + 0.5) / CELLS;
        double lam = 1.0 + 2.5 * det_exp(-x / 0.03) + 1.5 * det_exp(-(1.0 - x) / 0.05);
        w[j] = lam * (0.7 + 0.6 * sm_unit(&st));
        cum[j + 1] = cum[j] + w[j];
    }
    p->knot[0] = 0;
    p->knot[KNOTS] = SESSION_SPAN_NS;
    int j = 0;
    for (int k = 1; k < KNOTS; k++) {
        double target = cum[CELLS] * k / KNOTS;
        while (j < CELLS - 1 && cum[j + 1] <= target)
            j++;
        double t = (j + (target - cum[j]) / w[j]) / CELLS * (double)SESSION_SPAN_NS;
        int64_t ti = (int64_t)t;
        if (ti < p->knot[k - 1])
            ti = p->knot[k - 1];
        if (ti > SESSION_SPAN_NS)
            ti = SESSION_SPAN_NS;
        p->knot[k] = ti;
    }
    for (int k = 0; k < KNOTS; k++)
        p->slope[k] = (double)(p->knot[k + 1] - p->knot[k]) / (double)g->n_rows;
    p->akey = tl_mix64(pk ^ 2);
    p->n = g->n_rows;
    p->i = 0;
    p->x = KNOTS;
    p->seg = 0;
    p->b_cur = 0;
    p->rpos = p->rlen = 0;

    /* price curves: Black-Scholes (zero rates, a mild smile) by moneyness,
     * so that prices follow the spot through the day, gamma included */
    int64_t ex[N_EXP];
    expiries(day, ex);
    int64_t step_c = (int64_t)sc->step * 100;
    p->curve_mult = (int64_t)((double)CURVE_RES * 4294967296.0 / (double)step_c + 0.5);
    for (int e = 0; e < N_EXP; e++) {
        double t_years = (double)(ex[e] - day) / 365.0;
        for (int put = 0; put < 2; put++) {
            for (int j = 0; j < CURVE_N; j++) {
                double x = (double)(j - CURVE_HALF) * sc->step / CURVE_RES; /* spot - strike */
                double strike = s0 - x;
                if (strike < 0.05 * sc->step)
                    strike = 0.05 * sc->step;
                double m = det_log(strike / s0), delta;
                double theo = bs_price(s0, strike, t_years, sc->vol * (1.0 + 3.0 * m * m), put,
                                       &delta);
                int32_t t = round_i32(theo * 20.0);
                p->curve[e * 2 + put][j] = t < 1 ? 1 : t;
            }
        }
    }

    /* contracts, ordered by (expiry, type, strike) */
    for (int e = 0; e < N_EXP; e++) {
        double t_years = (double)(ex[e] - day) / 365.0;
        int mid = exp_strikes[e] / 2;
        for (int put = 0; put < 2; put++) {
            for (int k = 0; k < exp_strikes[e]; k++) {
                int idx = exp_base[e] + put * exp_strikes[e] + k;
                contract *c = &p->ct[idx];
                cinfo *ci = &p->ci[idx];
                memset(c, 0, sizeof *c);
                memset(ci, 0, sizeof *ci);
                double strike = atm0 + (double)(k - mid) * sc->step;
                double m = det_log(strike / s0);
                double vol = sc->vol * (1.0 + 3.0 * m * m);
                double dprev;
                double prev = bs_price(s_prev, strike, t_years + 1.0 / 365.0, vol, put, &dprev);
                c->close_t = round_i32(prev * 20.0);
                if (c->close_t < 1)
                    c->close_t = 1;
                c->cp_mul = 10000.0 / c->close_t;
                double theo = p->curve[e * 2 + put][CURVE_HALF + (mid - k) * CURVE_RES] * 0.05;
                int32_t sc_t = 1 + (int32_t)(theo / 150.0);
                ci->scale = (uint8_t)(sc_t > 4 ? 4 : sc_t);
                int dist = k - mid < 0 ? mid - k : k - mid;
                c->oi_lots = (int32_t)(50.0 + 4000.0 * sm_unit(&st) / (1.0 + dist / 6.0));
                c->rng = tl_mix64(pk + (uint64_t)(idx + 1) * UINT64_C(0xD1B54A32D192ED03));
                ci->expiry = (int32_t)ex[e];
                ci->strike = (float)strike;
                ci->xoff_c = (int32_t)(CURVE_HALF / CURVE_RES * step_c - round_i32(strike * 100.0));
                ci->curve = (uint8_t)(e * 2 + put);
                ci->type2[0] = put ? 'P' : 'C';
                ci->type2[1] = 'E';
            }
        }
    }
}

/* Theoretical price (ticks) of contract ci at second sec of the session:
 * its curve at spot - strike, linear between curve points. */
static inline int32_t theo_at(const part *p, const cinfo *ci, uint32_t sec)
{
    int64_t pos = (int64_t)(p->spot_c[sec] + ci->xoff_c) * p->curve_mult;
    const int64_t pos_max = ((int64_t)(CURVE_N - 1) << 32) - 1;
    pos = pos < 0 ? 0 : pos > pos_max ? pos_max : pos;
    const int32_t *cv = p->curve[ci->curve] + (pos >> 32);
    return cv[0] + (int32_t)(((int64_t)(cv[1] - cv[0]) * ((pos >> 16) & 0xFFFF)) >> 16);
}

/* Next up to ARR_CHUNK arrival records of p into rts/rct/rth. */
static void arr_refill(const tl_gen *g, part *p)
{
    uint64_t left = p->n - p->i;
    uint32_t m = left < ARR_CHUNK ? (uint32_t)left : ARR_CHUNK;
    uint64_t n = p->n, x = p->x, i = p->i;
    uint32_t seg = p->seg;
    int64_t b_cur = p->b_cur;
    for (uint32_t j = 0; j < m; j++, i++) {
        /* B(i+1): x = (i+1)*KNOTS - seg*n */
        while (x >= n) {
            x -= n;
            seg++;
        }
        int64_t b_next = seg >= KNOTS ? p->knot[KNOTS]
                                      : p->knot[seg] + (int64_t)((double)x * p->slope[seg]);
        x += KNOTS;
        uint64_t h = tl_mix64(p->akey + i * UINT64_C(0x9E3779B97F4A7C15));
        uint64_t gap = (uint64_t)(b_next - b_cur);
        int64_t t = b_cur + (int64_t)(((unsigned __int128)h * gap) >> 64);
        b_cur = b_next;
        uint32_t sec = (uint32_t)(t / TL_NS_PER_S);
        uint32_t ch = g->choice[h & (CHOICE_N - 1)];
        int e = (int)(ch & 3), put = (int)((ch >> 2) & 1);
        int k = exp_strikes[e] / 2 + p->atm_shift[sec] + (int)(ch >> 3) - 64;
        k = k < 0 ? 0 : k >= exp_strikes[e] ? exp_strikes[e] - 1 : k;
        uint32_t idx = (uint32_t)(exp_base[e] + put * exp_strikes[e] + k);
        p->rts[j] = p->open_ns + t;
        p->rct[j] = (uint16_t)idx;
        p->rth[j] = theo_at(p, &p->ci[idx], sec);
    }
    p->x = x;
    p->i = i;
    p->seg = seg;
    p->b_cur = b_cur;
    p->rpos = 0;
    p->rlen = m;
}

/* ---- rows ------------------------------------------------------------------ */

/* Row r of the batch (q of the chunk): contract idx of p ticks at ts, when
 * its theoretical price is theo (theo_at). Draws three numbers from the contract's
 * stream: r1 for the trade, r2 for book quantities, r3 for the book shape.
 * Bits of r3: 0-1 first bid gap, 2-9 further bid gaps, 10-11 first ask gap,
 * 12-19 further ask gaps, 20-28 bid depth, 32-40 ask depth, 41-48 bid side
 * missing when all 0, 49-56 ask side missing when all 0. */
__attribute__((always_inline)) static inline void
gen_row(outp *restrict o, chunk *restrict ck, const part *p, uint32_t idx, int64_t ts,
        int32_t theo, uint32_t r, uint32_t q)
{
    const symcfg *sc = p->sym;
    contract *c = (contract *)&p->ct[idx];
    const cinfo *ci = &p->ci[idx];
    uint64_t r1 = sm_next(&c->rng), r2 = sm_next(&c->rng), r3 = sm_next(&c->rng);
    int32_t lot = sc->lot, scale = ci->scale;

    int32_t walk = c->walk + walk_step[r1 & 15] * scale;
    walk -= (walk + 128) >> 8; /* pull back toward 0 */
    c->walk = walk;
    int32_t px = theo + walk;
    px = px < 1 ? 1 : px;
    int32_t qty = lot * qmul_trade[(r1 >> 4) & 63];
    int64_t vol = c->volume + qty;
    vol = ((r1 >> 10) & 0xFFFF) == 0 ? 0 : vol; /* feed reset */
    c->volume = vol;
    int32_t oi = c->oi_lots + (((r1 >> 26) & 7) == 0 ? oi_step[(r1 >> 29) & 15] : 0);
    oi = oi < 0 ? 0 : oi;
    c->oi_lots = oi;
    int32_t open = c->open_t, high, low, avg;
    if (open == 0) {
        open = high = low = avg = px;
        c->open_t = open;
    } else {
        high = px > c->high_t ? px : c->high_t;
        low = px < c->low_t ? px : c->low_t;
        avg = c->avg_t + ((px - c->avg_t + 4) >> 3);
    }
    c->high_t = high;
    c->low_t = low;
    c->avg_t = avg;
    int32_t close = c->close_t;
    double cpd = (double)(px - close) * c->cp_mul;

    ck->ts[q] = ts;
    ck->expiry[q] = ci->expiry;
    ck->strike[q] = ci->strike;
    ck->volume[q] = vol;
    ck->qty[q] = qty;
    ck->oi[q] = (int64_t)oi * lot;
    ck->f[F_PRICE][q] = px * 5;
    ck->f[F_AVG][q] = avg * 5;
    ck->f[F_OPEN][q] = open * 5;
    ck->f[F_HIGH][q] = high * 5;
    ck->f[F_LOW][q] = low * 5;
    ck->f[F_CLOSE][q] = close * 5;
    ck->f[F_CHG][q] = (int32_t)(cpd + copysign(0.5, cpd)); /* half away from 0 */
    ck->px[q] = px;
    ck->scale[q] = scale;
    ck->lot[q] = lot;
    ck->r2lo[q] = (uint32_t)r2;
    ck->r2hi[q] = (uint32_t)(r2 >> 32);
    ck->r3lo[q] = (uint32_t)r3;
    ck->r3hi[q] = (uint32_t)(r3 >> 32);
    if (((r3 >> 41) & 0xFF) == 0)
        o->bid_null[o->n_bid_null++] = r;
    if (((r3 >> 49) & 0xFF) == 0)
        o->ask_null[o->n_ask_null++] = r;
    /* char stores last */
    memcpy(o->sym_data + o->sym_pos, sc->name32, TL_GEN_MAX_SYMBOL_LEN);
    o->sym_pos += sc->len;
    o->sym_off[r + 1] = o->sym_pos;
    memcpy(o->type_data + 2 * (size_t)r, ci->type2, 2);
}

/* Extra ticks between book levels from 2 random bits: 0, 0, 1, 2. */
static inline int32_t level_gap(int32_t x)
{
    int32_t y = x - 1;
    return y < 0 ? 0 : y;
}

/* Levels of a side that exist, from 9 random bits: 0 with probability
 * 1/512, 1: 2/512, 2: 2/512, 3: 2/512, 4: 3/512, else 5. */
static inline int32_t book_depth(int32_t x)
{
    return (x >= 1) + (x >= 3) + (x >= 5) + (x >= 7) + (x >= 10);
}

/* Resting size at a level in lots, from 6 random bits: 1..62, median 9. */
static inline int32_t book_lots(int32_t x)
{
    return 1 + ((x * x * x) >> 12);
}

/* The book of the chunk's m rows: level prices step away from px by scale
 * ticks times (1 + gap); an empty level (price 0, qty 0) empties the deeper
 * ones, as does a bid reaching 0; a missing side is all 0 (and null).
 * Plain int32 arithmetic only, so that it vectorises. */
static void fill_book(chunk *restrict ck, uint32_t m)
{
    for (uint32_t q = 0; q < m; q++) {
        int32_t lo = (int32_t)ck->r3lo[q], hi = (int32_t)ck->r3hi[q];
        int32_t qlo = (int32_t)ck->r2lo[q], qhi = (int32_t)ck->r2hi[q];
        int32_t px = ck->px[q], sc = ck->scale[q], lot = ck->lot[q];
        int32_t zb = book_depth((lo >> 20) & 511), za = book_depth(hi & 511);
        zb = ((hi >> 9) & 0xFF) == 0 ? 0 : zb;
        za = ((hi >> 17) & 0xFF) == 0 ? 0 : za;
        int32_t b = px - sc * (1 + level_gap(lo & 3));
        int32_t a = px + sc * (1 + level_gap((lo >> 10) & 3));
        for (int k = 0; k < 5; k++) {
            int32_t bm = -((k < zb) & (b > 0)), am = -(k < za);
            ck->f[F_BP0 + k][q] = (b * 5) & bm;
            ck->f[F_SP0 + k][q] = (a * 5) & am;
            ck->bq[k][q] = lot * book_lots((qlo >> (6 * k)) & 63) & bm;
            ck->sq[k][q] = lot * book_lots((qhi >> (6 * k)) & 63) & am;
            b -= sc * (1 + level_gap((lo >> (2 + 2 * k)) & 3));
            a += sc * (1 + level_gap((lo >> (12 + 2 * k)) & 3));
        }
    }
}

/* dst[i] = (double)src[i] / 100.0 exactly (tl_cents_to_f64; gen_test
 * re-checks a sample). */
static void cents_to_double(double *restrict dst, const int32_t *restrict src, uint32_t m)
{
    for (uint32_t i = 0; i < m; i++)
        dst[i] = tl_cents_to_f64((double)src[i]);
}

/* Copy a whole chunk column (a multiple of 64 bytes, both ends 64-byte
 * aligned) to the batch with non-temporal stores: for batches larger than
 * the caches this skips reading the destination lines first (~15% of the
 * time of a row). */
static void stream_copy(void *dst, const void *src, size_t bytes)
{
#if defined(__AVX512F__)
    for (size_t i = 0; i < bytes; i += 64)
        _mm512_stream_si512((void *)((char *)dst + i),
                            _mm512_load_si512((const void *)((const char *)src + i)));
#elif defined(__SSE2__)
    for (size_t i = 0; i < bytes; i += 16)
        _mm_stream_si128((__m128i *)(void *)((char *)dst + i),
                         _mm_load_si128((const __m128i *)(const void *)((const char *)src + i)));
#else
    memcpy(dst, src, bytes);
#endif
}

static inline void put_col(void *dst, const void *src, size_t bytes, int stream)
{
    if (stream)
        stream_copy(dst, src, bytes);
    else
        memcpy(dst, src, bytes);
}

/* Finish the chunk's m rows and write them to batch rows r0.. (r0 is a
 * multiple of CHUNK). */
static void flush_chunk(const outp *o, chunk *ck, uint32_t r0, uint32_t m)
{
    fill_book(ck, m);
    int st = o->stream && m == CHUNK;
    put_col(o->ts + r0, ck->ts, m * sizeof(int64_t), st);
    put_col(o->volume + r0, ck->volume, m * sizeof(int64_t), st);
    put_col(o->oi + r0, ck->oi, m * sizeof(int64_t), st);
    put_col(o->expiry + r0, ck->expiry, m * sizeof(int32_t), st);
    put_col(o->qty + r0, ck->qty, m * sizeof(int32_t), st);
    put_col(o->strike + r0, ck->strike, m * sizeof(float), st);
    for (int k = 0; k < N_F64; k++) {
        if (st) {
            cents_to_double(ck->dbl, ck->f[k], m);
            stream_copy(o->f64 + k * o->fstride + r0, ck->dbl, m * sizeof(double));
        } else {
            cents_to_double(o->f64 + k * o->fstride + r0, ck->f[k], m);
        }
    }
    for (int k = 0; k < 5; k++) {
        put_col(o->bq + k * o->istride + r0, ck->bq[k], m * sizeof(int32_t), st);
        put_col(o->sq + k * o->istride + r0, ck->sq[k], m * sizeof(int32_t), st);
    }
}

static void emit_arrival(tl_gen *g, uint32_t n)
{
    uint32_t ns = g->n_sym;
    outp o = g->out;
    chunk *ck = &g->ck;
    for (uint32_t r0 = 0; r0 < n; r0 += CHUNK) {
        uint32_t m = n - r0 < CHUNK ? n - r0 : CHUNK;
        for (uint32_t q = 0; q < m; q++) {
            /* earliest head, lowest index on ties; branch-free since the
             * winner is close to random */
            uint32_t s = 0;
            int64_t best = g->head_ts[0];
            for (uint32_t j = 1; j < ns; j++) {
                int64_t t = g->head_ts[j];
                int lt = t < best;
                best = lt ? t : best;
                s = lt ? j : s;
            }
            part *p = g->parts[s];
            uint32_t pos = p->rpos;
            if (pos + PREFETCH_AHEAD < p->rlen)
                __builtin_prefetch(&p->ct[p->rct[pos + PREFETCH_AHEAD]], 1);
            gen_row(&o, ck, p, p->rct[pos], p->rts[pos], p->rth[pos], r0 + q, q);
            if (++p->rpos == p->rlen && p->i < p->n)
                arr_refill(g, p);
            g->head_ts[s] = p->rpos < p->rlen ? p->rts[p->rpos] : INT64_MAX;
        }
        flush_chunk(&o, ck, r0, m);
    }
    g->out = o;
}

static void emit_sorted(tl_gen *g, uint32_t n)
{
    part *p = g->parts[g->s];
    outp o = g->out;
    chunk *ck = &g->ck;
    for (uint32_t r0 = 0; r0 < n; r0 += CHUNK) {
        uint32_t m = n - r0 < CHUNK ? n - r0 : CHUNK;
        for (uint32_t q = 0; q < m; q++) {
            while (g->cur_pos == g->cur_len) {
                /* next block of this contract, else the next non-empty one */
                uint32_t nb = g->cur_blk == NONE ? NONE : g->blk_next[g->cur_blk];
                while (nb == NONE) {
                    g->cur_c++;
                    nb = g->head[g->cur_c];
                }
                g->cur_blk = nb;
                g->cur_pos = 0;
                g->cur_len = g->blk_next[nb] == NONE ? g->tail_len[g->cur_c] : BLK;
            }
            int64_t ts = g->pool[(size_t)g->cur_blk * BLK + g->cur_pos++];
            uint32_t sec = (uint32_t)((ts - p->open_ns) / TL_NS_PER_S);
            gen_row(&o, ck, p, g->cur_c, ts, theo_at(p, &p->ci[g->cur_c], sec), r0 + q, q);
        }
        flush_chunk(&o, ck, r0, m);
    }
    g->out = o;
}

/* ---- buffers --------------------------------------------------------------- */

static void *map_populated(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static size_t align64(size_t x)
{
    return (x + 63) & ~(size_t)63;
}

static uint8_t *carve(uint8_t *mem, size_t *off, size_t bytes)
{
    uint8_t *p = mem + *off;
    *off += align64(bytes) + STAGGER;
    return p;
}

/* Batch columns for cap rows, carved from one populated mapping. */
TL_WUR static int buffers_alloc(tl_gen *g, uint32_t cap, tl_error *err)
{
    /* a multiple of CHUNK, so that every column and every chunk of it
     * starts 64-byte aligned */
    size_t n = ((size_t)cap + CHUNK - 1) / CHUNK * CHUNK, bm = align64(n / 8 + 1);
    size_t sizes[] = {
        n * 8,                            /* ts */
        (n + 1) * 4,                      /* sym_off */
        n * TL_GEN_MAX_SYMBOL_LEN + 64,   /* sym_data (whole-name stores) */
        (n + 1) * 4,                      /* type_off */
        n * 2 + 64,                       /* type_data */
        n * 4,                            /* expiry */
        n * 4,                            /* strike */
        (n * 8 + STAGGER) * N_F64,        /* float columns */
        n * 8, n * 8,                     /* volume, oi */
        (n * 4 + STAGGER) * 11,           /* qty, bq, sq */
        bm, bm,                           /* validity */
        n * 4, n * 4,                     /* null row lists */
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += align64(sizes[i]) + STAGGER;
    uint8_t *mem = map_populated(total);
    if (!mem)
        return tl_error_set(err, TL_ENOMEM,
                            "tl_gen_next: cannot map %zu bytes of batch buffers for %u rows", total,
                            cap);
    if (g->mem)
        munmap(g->mem, g->mem_bytes);
    g->mem = mem;
    g->mem_bytes = total;
    g->cap = cap;
    size_t o = 0, i = 0;
#define TAKE(T) ((T)(void *)carve(mem, &o, sizes[i++]))
    outp *u = &g->out;
    u->ts = TAKE(int64_t *);
    u->sym_off = TAKE(uint32_t *);
    u->sym_data = TAKE(uint8_t *);
    g->type_off = TAKE(uint32_t *);
    u->type_data = TAKE(uint8_t *);
    u->expiry = TAKE(int32_t *);
    u->strike = TAKE(float *);
    u->f64 = TAKE(double *);
    u->volume = TAKE(int64_t *);
    u->oi = TAKE(int64_t *);
    u->qty = TAKE(int32_t *);
    g->bid_valid = TAKE(uint8_t *);
    g->ask_valid = TAKE(uint8_t *);
    u->bid_null = TAKE(uint32_t *);
    u->ask_null = TAKE(uint32_t *);
#undef TAKE
    u->fstride = n + STAGGER / 8;
    u->istride = n + STAGGER / 4;
    u->stream = n >= STREAM_MIN_ROWS;
    u->bq = u->qty + u->istride;
    u->sq = u->qty + 6 * u->istride;
    for (size_t r = 0; r <= n; r++)
        g->type_off[r] = (uint32_t)(2 * r);

    memset(g->cols, 0, sizeof g->cols);
    g->cols[C_TS].values = u->ts;
    g->cols[C_SYM].offsets = u->sym_off;
    g->cols[C_SYM].data = u->sym_data;
    g->cols[C_EXP].values = u->expiry;
    g->cols[C_TYPE].offsets = g->type_off;
    g->cols[C_TYPE].data = u->type_data;
    g->cols[C_STRIKE].values = u->strike;
    g->cols[C_VOL].values = u->volume;
    g->cols[C_QTY].values = u->qty;
    g->cols[C_OI].values = u->oi;
    for (int k = 0; k < N_F64; k++)
        g->cols[f64_col[k]].values = u->f64 + (size_t)k * u->fstride;
    for (int k = 0; k < 5; k++) {
        g->cols[C_BQ0 + k].values = u->bq + (size_t)k * u->istride;
        g->cols[C_SQ0 + k].values = u->sq + (size_t)k * u->istride;
    }
    return TL_OK;
}

/* ---- units: a day (arrival order) or a partition (sorted) ------------------- */

static int64_t unit_day(const tl_gen *g)
{
    return trading_day(g->first_day, g->d);
}

static void start_day_arrival(tl_gen *g)
{
    int64_t day = unit_day(g);
    for (uint32_t s = 0; s < g->n_sym; s++) {
        part *p = g->parts[s];
        part_init(g, p, &g->sym[s], day);
        arr_refill(g, p);
        g->head_ts[s] = p->rts[0];
    }
    g->left = g->n_rows * g->n_sym;
}

/* Bytes of the sorted-mode timestamp pool for partitions of n rows. */
static uint64_t pool_bytes_for(uint64_t n, uint64_t *blocks)
{
    *blocks = n / BLK + N_CONTRACTS + 1;
    return *blocks * BLK * 8 + align64((size_t)*blocks * 4);
}

TL_WUR static int start_partition_sorted(tl_gen *g, tl_error *err)
{
    if (!g->pool) {
        uint64_t blocks;
        pool_bytes_for(g->n_rows, &blocks);
        size_t bytes = (size_t)blocks * BLK * 8, nb = align64((size_t)blocks * 4);
        uint8_t *mem = map_populated(bytes + nb);
        if (!mem)
            return tl_error_set(err, TL_ENOMEM,
                                "tl_gen_next: cannot map %zu bytes for a sorted partition of "
                                "%llu rows",
                                bytes + nb, (unsigned long long)g->n_rows);
        g->pool = (int64_t *)(void *)mem;
        g->blk_next = (uint32_t *)(void *)(mem + bytes);
        g->pool_bytes = bytes + nb;
        g->pool_blocks = (uint32_t)blocks;
    }
    part *p = g->parts[g->s];
    part_init(g, p, &g->sym[g->s], unit_day(g));
    for (int c = 0; c < N_CONTRACTS; c++) {
        g->head[c] = g->tail[c] = NONE;
        g->tail_len[c] = 0;
    }
    g->pool_used = 0;
    while (p->i < p->n) {
        arr_refill(g, p);
        for (uint32_t j = 0; j < p->rlen; j++) {
            uint32_t c = p->rct[j];
            if (g->tail[c] == NONE || g->tail_len[c] == BLK) {
                uint32_t b = g->pool_used++;
                g->blk_next[b] = NONE;
                if (g->tail[c] == NONE)
                    g->head[c] = b;
                else
                    g->blk_next[g->tail[c]] = b;
                g->tail[c] = b;
                g->tail_len[c] = 0;
            }
            g->pool[(size_t)g->tail[c] * BLK + g->tail_len[c]++] = p->rts[j];
        }
    }
    g->cur_c = 0;
    g->cur_blk = NONE;
    g->cur_pos = g->cur_len = 0;
    /* the emit loop advances from here: make the first step land on
     * contract 0's chain by starting "before" it */
    if (g->head[0] != NONE) {
        g->cur_blk = g->head[0];
        g->cur_len = g->blk_next[g->cur_blk] == NONE ? g->tail_len[0] : BLK;
    }
    g->left = g->n_rows;
    return TL_OK;
}

/* ---- public API ------------------------------------------------------------ */

int tl_gen_open(const tl_gen_opts *o, tl_gen **out, tl_error *err)
{
    if (out)
        *out = NULL;
    if (!o || !out)
        return tl_error_set(err, TL_EINVAL, "tl_gen_open: %s is NULL", o ? "out" : "options");
    if (o->n_symbols == 0 || !o->symbols)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: opts.symbols: expected 1..%u symbols, found none",
                            TL_GEN_MAX_SYMBOLS);
    if (o->n_symbols > TL_GEN_MAX_SYMBOLS)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: opts.n_symbols: expected 1..%u, found %u",
                            TL_GEN_MAX_SYMBOLS, o->n_symbols);
    for (uint32_t s = 0; s < o->n_symbols; s++) {
        const char *name = o->symbols[s];
        if (!name)
            return tl_error_set(err, TL_EINVAL, "tl_gen_open: opts.symbols[%u] is NULL", s);
        size_t len = strlen(name);
        if (len == 0 || len > TL_GEN_MAX_SYMBOL_LEN)
            return tl_error_set(err, TL_EINVAL,
                                "tl_gen_open: opts.symbols[%u]: expected 1..%u bytes, found %zu",
                                s, TL_GEN_MAX_SYMBOL_LEN, len);
        for (uint32_t t = 0; t < s; t++)
            if (strcmp(o->symbols[t], name) == 0)
                return tl_error_set(err, TL_EINVAL,
                                    "tl_gen_open: opts.symbols[%u] \"%s\" repeats "
                                    "opts.symbols[%u]: expected distinct symbols",
                                    s, name, t);
    }
    if (o->days == 0)
        return tl_error_set(err, TL_EINVAL, "tl_gen_open: opts.days: expected >= 1, found 0");
    if (o->rows_per_day == 0 || o->rows_per_day > TL_GEN_MAX_ROWS_PER_DAY)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: opts.rows_per_day: expected 1..%llu, found %llu",
                            (unsigned long long)TL_GEN_MAX_ROWS_PER_DAY,
                            (unsigned long long)o->rows_per_day);
    if (o->start_day == TL_GEN_DAY_UNSET)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: opts.start_day is unset: expected a day number "
                            "(days since 1970-01-01) in %d..%d",
                            TL_GEN_DAY_MIN, TL_GEN_DAY_MAX);
    if (o->start_day < TL_GEN_DAY_MIN || o->start_day > TL_GEN_DAY_MAX)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: opts.start_day: expected %d..%d, found %d",
                            TL_GEN_DAY_MIN, TL_GEN_DAY_MAX, o->start_day);
    int64_t first = first_weekday(o->start_day);
    int64_t last = trading_day(first, (uint64_t)o->days - 1);
    if (last > TL_GEN_DAY_MAX)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: opts.days: %u trading days from day %d end on day "
                            "%lld, expected at most %d",
                            o->days, o->start_day, (long long)last, TL_GEN_DAY_MAX);
    if (o->sorted != 0 && o->sorted != 1)
        return tl_error_set(err, TL_EINVAL, "tl_gen_open: opts.sorted: expected 0 or 1, found %d",
                            o->sorted);
    if (o->sorted) {
        /* MAP_POPULATE of more than the machine holds would invite the OOM
         * killer rather than fail: refuse up front */
        uint64_t blocks, need = pool_bytes_for(o->rows_per_day, &blocks);
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        uint64_t half = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 2 : UINT64_MAX;
        if (need > half)
            return tl_error_set(err, TL_ENOMEM,
                                "tl_gen_open: sorted mode holds a partition's timestamps: "
                                "%llu bytes for opts.rows_per_day %llu, expected at most half "
                                "of the machine's memory (%llu bytes)",
                                (unsigned long long)need, (unsigned long long)o->rows_per_day,
                                (unsigned long long)half);
    }
    uint64_t per_day = o->rows_per_day * o->n_symbols; /* < 2^32 * 2^6 */
    if (per_day > (UINT64_C(1) << 63) / o->days)
        return tl_error_set(err, TL_EINVAL,
                            "tl_gen_open: %u days x %u symbols x %llu rows: expected at most "
                            "2^63 rows in total",
                            o->days, o->n_symbols, (unsigned long long)o->rows_per_day);

    tl_gen *g = aligned_alloc(64, sizeof *g); /* the chunk is 64-byte aligned */
    if (g)
        memset(g, 0, sizeof *g);
    if (!g)
        return tl_error_set(err, TL_ENOMEM, "tl_gen_open: out of memory");
    g->seed = o->seed;
    g->n_rows = o->rows_per_day;
    g->days = o->days;
    g->n_sym = o->n_symbols;
    g->sorted = o->sorted;
    g->first_day = (int32_t)first;
    g->total = per_day * o->days;
    for (uint32_t s = 0; s < g->n_sym; s++) {
        symcfg_init(&g->sym[s], o->symbols[s], (uint32_t)strlen(o->symbols[s]), o->seed);
        if (s == 0 || !g->sorted) {
            g->parts[s] = aligned_alloc(64, sizeof(part));
            if (!g->parts[s]) {
                tl_gen_close(g);
                return tl_error_set(err, TL_ENOMEM, "tl_gen_open: out of memory");
            }
        } else {
            g->parts[s] = g->parts[0]; /* one partition at a time */
        }
    }

    /* contract choice: expiry weights 55/27/18 %, CE/PE even, strike offset
     * from the ATM ~ exp(-|off|/5); every (expiry, type, offset) at least
     * once; the rest by largest remainder */
    static const double pe[N_EXP] = {0.55, 0.27, 0.18};
    double wt[N_EXP][2][2 * MAX_OFF + 1], wsum = 0;
    for (int e = 0; e < N_EXP; e++)
        for (int t = 0; t < 2; t++)
            for (int off = -MAX_OFF; off <= MAX_OFF; off++) {
                double w = pe[e] * 0.5 * (det_exp(-(off < 0 ? -off : off) / 5.0) + 0.004);
                wt[e][t][off + MAX_OFF] = w;
                wsum += w;
            }
    const int n_combo = N_EXP * 2 * (2 * MAX_OFF + 1);
    const double spare = (double)(CHOICE_N - n_combo);
    uint32_t cnt[N_EXP][2][2 * MAX_OFF + 1], used = 0;
    for (int e = 0; e < N_EXP; e++)
        for (int t = 0; t < 2; t++)
            for (int j = 0; j <= 2 * MAX_OFF; j++) {
                cnt[e][t][j] = 1 + (uint32_t)(wt[e][t][j] / wsum * spare);
                used += cnt[e][t][j];
            }
    while (used < CHOICE_N) { /* leftovers to the largest remainders */
        int be = 0, bt = 0, bj = 0;
        double best = -1;
        for (int e = 0; e < N_EXP; e++)
            for (int t = 0; t < 2; t++)
                for (int j = 0; j <= 2 * MAX_OFF; j++) {
                    double rem = wt[e][t][j] / wsum * spare - (cnt[e][t][j] - 1);
                    if (rem > best) {
                        best = rem;
                        be = e, bt = t, bj = j;
                    }
                }
        cnt[be][bt][bj]++;
        used++;
    }
    uint32_t pos = 0;
    for (int e = 0; e < N_EXP; e++)
        for (int t = 0; t < 2; t++)
            for (int j = 0; j <= 2 * MAX_OFF; j++)
                for (uint32_t c = 0; c < cnt[e][t][j]; c++)
                    g->choice[pos++] = (uint16_t)(e | t << 2 | (j - MAX_OFF + 64) << 3);

    *out = g;
    return TL_OK;
}

uint64_t tl_gen_total_rows(const tl_gen *g)
{
    return g ? g->total : 0;
}

void tl_gen_close(tl_gen *g)
{
    if (!g)
        return;
    for (uint32_t s = 0; s < g->n_sym; s++)
        if (g->parts[s] && (s == 0 || g->parts[s] != g->parts[0]))
            free(g->parts[s]);
    if (g->mem)
        munmap(g->mem, g->mem_bytes);
    if (g->pool)
        munmap(g->pool, g->pool_bytes);
    free(g);
}

int tl_gen_next(tl_gen *g, uint32_t max_rows, tl_batch *batch, int *done, tl_error *err)
{
    if (!g || !batch || !done)
        return tl_error_set(err, TL_EINVAL, "tl_gen_next: %s is NULL",
                            !g ? "generator" : !batch ? "batch" : "done");
    if (max_rows == 0)
        return tl_error_set(err, TL_EINVAL, "tl_gen_next: max_rows: expected >= 1, found 0");
    memset(batch, 0, sizeof *batch);
    batch->n_cols = N_COLS;
    batch->defs = ticks_schema;
    batch->cols = g->cols;
    *done = 0;
    if (g->finished) {
        *done = 1;
        return TL_OK;
    }
    uint64_t unit_rows = g->sorted ? g->n_rows : g->n_rows * g->n_sym;
    uint64_t want = max_rows;
    if (want > TL_GEN_BATCH_MAX)
        want = TL_GEN_BATCH_MAX;
    if (want > unit_rows)
        want = unit_rows;
    if (g->cap < want) {
        int rc = buffers_alloc(g, (uint32_t)want, err);
        if (rc != TL_OK)
            return rc;
    }
    if (!g->unit_ready) {
        if (g->sorted) {
            int rc = start_partition_sorted(g, err);
            if (rc != TL_OK)
                return rc;
        } else {
            start_day_arrival(g);
        }
        g->unit_ready = 1;
    }
    uint32_t n = (uint32_t)(g->left < want ? g->left : want);
    g->out.n_bid_null = g->out.n_ask_null = 0;
    g->out.sym_pos = 0;
    g->out.sym_off[0] = 0;
    if (g->sorted)
        emit_sorted(g, n);
    else
        emit_arrival(g, n);
#if defined(__SSE2__)
    if (g->out.stream)
        _mm_sfence(); /* order the non-temporal stores before the batch is used */
#endif

    uint8_t *vb = NULL, *va = NULL;
    if (g->out.n_bid_null) {
        vb = g->bid_valid;
        memset(vb, 0xFF, (n + 7) / 8);
        for (uint32_t j = 0; j < g->out.n_bid_null; j++)
            tl_bit_set(vb, g->out.bid_null[j], 0);
    }
    if (g->out.n_ask_null) {
        va = g->ask_valid;
        memset(va, 0xFF, (n + 7) / 8);
        for (uint32_t j = 0; j < g->out.n_ask_null; j++)
            tl_bit_set(va, g->out.ask_null[j], 0);
    }
    for (int k = 0; k < 5; k++) {
        g->cols[C_BP0 + k].validity = vb;
        g->cols[C_BQ0 + k].validity = vb;
        g->cols[C_SP0 + k].validity = va;
        g->cols[C_SQ0 + k].validity = va;
    }
    batch->n_rows = n;

    g->left -= n;
    if (g->left == 0) {
        g->unit_ready = 0;
        if (g->sorted && ++g->s < g->n_sym) {
            /* next symbol, same day */
        } else {
            g->s = 0;
            if (++g->d == g->days)
                g->finished = 1;
        }
    }
    return TL_OK;
}
