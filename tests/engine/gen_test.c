/*
 * gen_test.c - the sample data generator (tl_gen_*) and the CSV writer
 * (tl_batch_write_csv): determinism, ordering, the data's invariants, CSV
 * formatting of edge values, and the error paths.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "civil_int.h"
#include "gen_int.h"
#include "ticklake.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_DAY (INT64_C(86400) * 1000000000)
#define SESSION_OPEN_NS (INT64_C(13500) * 1000000000)
#define SESSION_CLOSE_NS (INT64_C(36000) * 1000000000)

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_gen_test_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

/* ---- helpers --------------------------------------------------------------- */

static int col_index(const char *name)
{
    uint32_t n;
    const tl_coldef *d = tl_ticks_schema(&n);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(d[i].name, name) == 0)
            return (int)i;
    cr_assert_fail("no column %s", name);
    return -1;
}

static const void *vals(const tl_batch *b, const char *name)
{
    return b->cols[col_index(name)].values;
}

static const uint8_t *validity(const tl_batch *b, const char *name)
{
    return b->cols[col_index(name)].validity;
}

static void str_at(const tl_batch *b, int c, uint32_t r, const char **p, uint32_t *len)
{
    const tl_colvec *v = &b->cols[c];
    *p = (const char *)v->data + v->offsets[r];
    *len = v->offsets[r + 1] - v->offsets[r];
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * UINT64_C(0x100000001B3);
    return h;
}

/* Hash of every column of row r, validity included. */
static uint64_t row_hash(const tl_batch *b, uint32_t r)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (uint32_t c = 0; c < b->n_cols; c++) {
        const tl_colvec *v = &b->cols[c];
        uint8_t ok = (uint8_t)tl_bit_get(v->validity, r);
        h = fnv(h, &ok, 1);
        if (b->defs[c].type == TL_STRING) {
            const char *p;
            uint32_t len;
            str_at(b, (int)c, r, &p, &len);
            h = fnv(h, &len, sizeof len);
            h = fnv(h, p, len);
        } else {
            size_t w = tl_type_width(b->defs[c].type);
            h = fnv(h, (const uint8_t *)v->values + (size_t)r * w, w);
        }
    }
    return h;
}

static tl_gen *open_ok(const tl_gen_opts *o)
{
    tl_gen *g = NULL;
    tl_error err = {0};
    int rc = tl_gen_open(o, &g, &err);
    cr_assert_eq(rc, TL_OK, "tl_gen_open: %s", err.msg);
    return g;
}

static int next_ok(tl_gen *g, uint32_t max_rows, tl_batch *b)
{
    int done = 0;
    tl_error err = {0};
    int rc = tl_gen_next(g, max_rows, b, &done, &err);
    cr_assert_eq(rc, TL_OK, "tl_gen_next: %s", err.msg);
    if (done)
        cr_assert_eq(b->n_rows, 0);
    return done;
}

/* Generate o into a CSV file; returns the rows written. */
static uint64_t gen_csv(const tl_gen_opts *o, uint32_t batch_rows, const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    tl_gen *g = open_ok(o);
    tl_batch b;
    uint64_t rows = 0;
    int header = 1;
    while (!next_ok(g, batch_rows, &b)) {
        tl_error err = {0};
        cr_assert_eq(tl_batch_write_csv(&b, f, header, &err), TL_OK, "%s", err.msg);
        header = 0;
        rows += b.n_rows;
    }
    tl_gen_close(g);
    cr_assert_eq(fclose(f), 0);
    return rows;
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static const char *const three_syms[] = {"BANKNIFTY", "NIFTY", "FIN,\"X\""};

static void small_opts(tl_gen_opts *o)
{
    tl_gen_opts_default(o);
    o->seed = 42;
    o->days = 2;
    o->start_day = (int32_t)tl_days_from_civil(2025, 11, 20); /* Thu, then Fri */
    o->rows_per_day = 20000;
}

/* ---- generator: options, schema ---------------------------------------------- */

TestSuite(gen, .init = setup, .fini = teardown);

Test(gen, defaults_and_schema)
{
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    cr_assert_eq(o.seed, 1);
    cr_assert_eq(o.days, 1);
    cr_assert_eq(o.start_day, tl_days_from_civil(2025, 11, 17));
    cr_assert_eq(o.n_symbols, 2);
    cr_assert_str_eq(o.symbols[0], "BANKNIFTY");
    cr_assert_str_eq(o.symbols[1], "NIFTY");
    cr_assert_eq(o.rows_per_day, 1000000);
    cr_assert_eq(o.sorted, 0);

    uint32_t n = 0;
    const tl_coldef *d = tl_ticks_schema(&n);
    cr_assert_eq(n, 35);
    cr_assert_eq(tl_ticks_schema(NULL), d);
    static const struct {
        const char *name;
        tl_type type;
    } want[] = {
        {"timestamp", TL_TIMESTAMP}, {"symbol", TL_STRING},   {"expiry", TL_DATE},
        {"opt_type", TL_STRING},     {"strike", TL_FLOAT32},  {"price", TL_FLOAT64},
        {"avg_price", TL_FLOAT64},   {"volume", TL_INT64},    {"qty", TL_INT32},
        {"oi", TL_INT64},            {"open", TL_FLOAT64},    {"high", TL_FLOAT64},
        {"low", TL_FLOAT64},         {"close", TL_FLOAT64},   {"changeper", TL_FLOAT64},
        {"bp0", TL_FLOAT64},         {"bp1", TL_FLOAT64},     {"bp2", TL_FLOAT64},
        {"bp3", TL_FLOAT64},         {"bp4", TL_FLOAT64},     {"sp0", TL_FLOAT64},
        {"sp1", TL_FLOAT64},         {"sp2", TL_FLOAT64},     {"sp3", TL_FLOAT64},
        {"sp4", TL_FLOAT64},         {"bq0", TL_INT32},       {"bq1", TL_INT32},
        {"bq2", TL_INT32},           {"bq3", TL_INT32},       {"bq4", TL_INT32},
        {"sq0", TL_INT32},           {"sq1", TL_INT32},       {"sq2", TL_INT32},
        {"sq3", TL_INT32},           {"sq4", TL_INT32},
    };
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_str_eq(d[i].name, want[i].name);
        cr_assert_eq(d[i].type, want[i].type, "column %s", d[i].name);
    }

    tl_gen *g = open_ok(&o);
    cr_assert_eq(tl_gen_total_rows(g), 2000000);
    tl_gen_close(g);
    tl_gen_close(NULL);
    cr_assert_eq(tl_gen_total_rows(NULL), 0);
}

/* ---- determinism ------------------------------------------------------------ */

static void same_csv_any_batch(int sorted)
{
    tl_gen_opts o;
    small_opts(&o);
    o.symbols = three_syms;
    o.n_symbols = 3;
    o.sorted = sorted;
    char a[300], b[300], c[300];
    path_in_tmp(a, sizeof a, "a.csv");
    path_in_tmp(b, sizeof b, "b.csv");
    path_in_tmp(c, sizeof c, "c.csv");
    uint64_t ra = gen_csv(&o, 1000, a);
    uint64_t rb = gen_csv(&o, 4093, b);
    uint64_t rc = gen_csv(&o, 1u << 30, c);
    cr_assert_eq(ra, 2 * 3 * 20000);
    cr_assert_eq(rb, ra);
    cr_assert_eq(rc, ra);
    size_t la, lb, lc;
    char *pa = tlt_slurp(a, &la), *pb = tlt_slurp(b, &lb), *pc = tlt_slurp(c, &lc);
    cr_assert_gt(la, 1000);
    cr_assert_eq(la, lb);
    cr_assert_eq(la, lc);
    cr_assert(memcmp(pa, pb, la) == 0, "1000-row and 4093-row batches differ");
    cr_assert(memcmp(pa, pc, la) == 0, "1000-row and maximal batches differ");
    /* the odd symbol is quoted, its quote doubled */
    cr_assert_not_null(strstr(pa, ",\"FIN,\"\"X\"\"\","));
    free(pa);
    free(pb);
    free(pc);
}

Test(gen, same_options_same_csv_whatever_batch_size_arrival)
{
    same_csv_any_batch(0);
}

Test(gen, same_options_same_csv_whatever_batch_size_sorted)
{
    same_csv_any_batch(1);
}

Test(gen, different_seed_different_rows)
{
    tl_gen_opts o;
    small_opts(&o);
    o.days = 1;
    char a[300], b[300];
    path_in_tmp(a, sizeof a, "a.csv");
    path_in_tmp(b, sizeof b, "b.csv");
    gen_csv(&o, 8192, a);
    o.seed = 43;
    gen_csv(&o, 8192, b);
    size_t la, lb;
    char *pa = tlt_slurp(a, &la), *pb = tlt_slurp(b, &lb);
    cr_assert(la != lb || memcmp(pa, pb, la) != 0, "seeds 42 and 43 gave the same file");
    /* not merely a few rows: the first data lines differ */
    const char *la1 = strchr(pa, '\n'), *lb1 = strchr(pb, '\n');
    cr_assert(strncmp(la1, lb1, 60) != 0);
    free(pa);
    free(pb);
}

/* Pins the generated data: a change of this hash means every benchmark
 * figure and stored sample changes too. Update it only on purpose. */
Test(gen, golden_hash_of_a_small_run)
{
    tl_gen_opts o;
    small_opts(&o);
    o.rows_per_day = 5000;
    char a[300];
    path_in_tmp(a, sizeof a, "a.csv");
    gen_csv(&o, 777, a);
    size_t la;
    char *pa = tlt_slurp(a, &la);
    uint64_t h = fnv(UINT64_C(0xCBF29CE484222325), pa, la);
    free(pa);
    cr_log_info("golden hash %016llx, %zu bytes", (unsigned long long)h, la);
    cr_assert_eq(h, UINT64_C(0xa83d22eee913c678), "golden hash changed: %016llx (%zu bytes)",
                 (unsigned long long)h, la);
}

/* ---- order and batches -------------------------------------------------------- */

Test(gen, rows_total_batches_bounded_and_never_span_days)
{
    tl_gen_opts o;
    small_opts(&o);
    o.days = 3;
    for (int sorted = 0; sorted <= 1; sorted++) {
        o.sorted = sorted;
        tl_gen *g = open_ok(&o);
        uint64_t total = tl_gen_total_rows(g), rows = 0;
        cr_assert_eq(total, 3 * 2 * 20000);
        tl_batch b;
        int sym = col_index("symbol");
        while (!next_ok(g, 7000, &b)) {
            cr_assert_gt(b.n_rows, 0);
            cr_assert_leq(b.n_rows, 7000);
            cr_assert_eq(b.n_cols, 35);
            const int64_t *ts = vals(&b, "timestamp");
            int64_t day0 = tl_floor_div(ts[0], NS_DAY);
            const char *s0;
            uint32_t l0;
            str_at(&b, sym, 0, &s0, &l0);
            for (uint32_t r = 0; r < b.n_rows; r++) {
                cr_assert_eq(tl_floor_div(ts[r], NS_DAY), day0, "batch spans two days");
                if (sorted) {
                    const char *s;
                    uint32_t l;
                    str_at(&b, sym, r, &s, &l);
                    cr_assert(l == l0 && memcmp(s, s0, l) == 0, "sorted batch spans symbols");
                }
            }
            rows += b.n_rows;
        }
        cr_assert_eq(rows, total);
        /* done stays done */
        cr_assert(next_ok(g, 100, &b));
        cr_assert(next_ok(g, 100, &b));
        tl_gen_close(g);
    }
}

Test(gen, arrival_timestamps_non_decreasing_and_in_session)
{
    tl_gen_opts o;
    small_opts(&o);
    o.days = 2;
    o.rows_per_day = 50000;
    tl_gen *g = open_ok(&o);
    tl_batch b;
    int64_t prev = INT64_MIN;
    uint64_t ties = 0, rows = 0;
    while (!next_ok(g, 3000, &b)) {
        const int64_t *ts = vals(&b, "timestamp");
        for (uint32_t r = 0; r < b.n_rows; r++) {
            int64_t day = tl_floor_div(ts[r], NS_DAY), tod = ts[r] - day * NS_DAY;
            cr_assert_geq(tod, SESSION_OPEN_NS);
            cr_assert_lt(tod, SESSION_CLOSE_NS);
            if (prev != INT64_MIN && tl_floor_div(prev, NS_DAY) == day)
                cr_assert_geq(ts[r], prev, "row %llu goes back in time",
                              (unsigned long long)rows);
            ties += ts[r] == prev;
            prev = ts[r];
            rows++;
        }
    }
    cr_assert_lt(ties, rows / 100);
    tl_gen_close(g);
}

/* Collects, per (symbol, day), the hashes of its rows. */
typedef struct part_rows {
    char sym[40];
    int64_t day;
    uint64_t *h;
    size_t n, cap;
} part_rows;

typedef struct parts {
    part_rows p[16];
    int n;
} parts;

static part_rows *part_of(parts *ps, const char *s, uint32_t len, int64_t day)
{
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].day == day && strlen(ps->p[i].sym) == len && memcmp(ps->p[i].sym, s, len) == 0)
            return &ps->p[i];
    cr_assert_lt(ps->n, 16);
    part_rows *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    memcpy(p->sym, s, len);
    p->day = day;
    return p;
}

static void collect(const tl_gen_opts *o, uint32_t batch, parts *ps)
{
    memset(ps, 0, sizeof *ps);
    tl_gen *g = open_ok(o);
    tl_batch b;
    int sym = col_index("symbol");
    while (!next_ok(g, batch, &b)) {
        const int64_t *ts = vals(&b, "timestamp");
        for (uint32_t r = 0; r < b.n_rows; r++) {
            const char *s;
            uint32_t l;
            str_at(&b, sym, r, &s, &l);
            part_rows *p = part_of(ps, s, l, tl_floor_div(ts[r], NS_DAY));
            if (p->n == p->cap) {
                p->cap = p->cap ? 2 * p->cap : 4096;
                p->h = realloc(p->h, p->cap * sizeof *p->h);
                cr_assert_not_null(p->h);
            }
            p->h[p->n++] = row_hash(&b, r);
        }
    }
    tl_gen_close(g);
}

Test(gen, sorted_order_is_sorted_and_a_permutation_of_arrival)
{
    tl_gen_opts o;
    small_opts(&o);
    o.rows_per_day = 30000;
    o.symbols = three_syms;
    o.n_symbols = 3;

    /* sorted by (expiry, opt_type, strike, timestamp) within each partition,
     * partitions in (day, symbol) order */
    o.sorted = 1;
    tl_gen *g = open_ok(&o);
    tl_batch b;
    int sym = col_index("symbol"), typ = col_index("opt_type");
    int have = 0, part_no = 0;
    int32_t pe = 0;
    float pk = 0;
    int64_t pt = 0, pday = 0;
    char ptype[3] = "", psym[40] = "";
    while (!next_ok(g, 5000, &b)) {
        const int64_t *ts = vals(&b, "timestamp");
        const int32_t *ex = vals(&b, "expiry");
        const float *k = vals(&b, "strike");
        for (uint32_t r = 0; r < b.n_rows; r++) {
            const char *s, *t;
            uint32_t sl, tlen;
            str_at(&b, sym, r, &s, &sl);
            str_at(&b, typ, r, &t, &tlen);
            cr_assert_eq(tlen, 2);
            int64_t day = tl_floor_div(ts[r], NS_DAY);
            int same = have && day == pday && strlen(psym) == sl && memcmp(psym, s, sl) == 0;
            if (!same) {
                /* a new partition: the next symbol of the day, or day 2 */
                const char *want = three_syms[part_no % 3];
                cr_assert(strlen(want) == sl && memcmp(want, s, sl) == 0,
                          "partition %d is not %s", part_no, want);
                part_no++;
            } else {
                int c = ex[r] != pe ? (ex[r] > pe ? 1 : -1)
                        : memcmp(t, ptype, 2) != 0 ? memcmp(t, ptype, 2)
                        : k[r] != pk ? (k[r] > pk ? 1 : -1)
                        : ts[r] != pt ? (ts[r] > pt ? 1 : -1) : 0;
                cr_assert_geq(c, 0, "sorted rows out of order");
            }
            have = 1;
            pday = day;
            memcpy(psym, s, sl);
            psym[sl] = '\0';
            pe = ex[r];
            memcpy(ptype, t, 2);
            pk = k[r];
            pt = ts[r];
        }
    }
    tl_gen_close(g);
    cr_assert_eq(part_no, 6);

    parts *arr = malloc(sizeof *arr), *srt = malloc(sizeof *srt);
    cr_assert(arr && srt);
    o.sorted = 0;
    collect(&o, 4096, arr);
    o.sorted = 1;
    collect(&o, 3333, srt);
    cr_assert_eq(arr->n, 6);
    cr_assert_eq(srt->n, 6);
    for (int i = 0; i < 6; i++) {
        part_rows *a = &arr->p[i];
        part_rows *s = part_of(srt, a->sym, (uint32_t)strlen(a->sym), a->day);
        cr_assert_eq(a->n, 30000, "%s day %lld", a->sym, (long long)a->day);
        cr_assert_eq(s->n, a->n);
        qsort(a->h, a->n, sizeof *a->h, tlt_cmp_u64);
        qsort(s->h, s->n, sizeof *s->h, tlt_cmp_u64);
        cr_assert(memcmp(a->h, s->h, a->n * sizeof *a->h) == 0,
                  "%s day %lld: sorted rows are not the arrival rows", a->sym,
                  (long long)a->day);
    }
    for (int i = 0; i < 6; i++) {
        free(arr->p[i].h);
        free(srt->p[i].h);
    }
    free(arr);
    free(srt);
}

/* ---- the data ------------------------------------------------------------------ */

typedef struct contract_key {
    char sym[16];
    int32_t expiry;
    char type[2];
    float strike;
    int64_t last_vol;
} contract_key;

Test(gen, contracts_per_symbol_day_expiries_and_strikes)
{
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.seed = 9;
    o.rows_per_day = 300000;
    int64_t day = o.start_day; /* Monday 2025-11-17 */
    tl_gen *g = open_ok(&o);
    tl_batch b;
    static contract_key seen[2000];
    int n_seen = 0;
    int sym = col_index("symbol"), typ = col_index("opt_type");
    while (!next_ok(g, 65536, &b)) {
        const int32_t *ex = vals(&b, "expiry");
        const float *k = vals(&b, "strike");
        for (uint32_t r = 0; r < b.n_rows; r++) {
            const char *s, *t;
            uint32_t sl, tlen;
            str_at(&b, sym, r, &s, &sl);
            str_at(&b, typ, r, &t, &tlen);
            cr_assert(tlen == 2 && (memcmp(t, "CE", 2) == 0 || memcmp(t, "PE", 2) == 0));
            int nifty = sl == 5;
            float step = nifty ? 50.0f : 100.0f;
            cr_assert_eq(fmodf(k[r], step), 0.0f, "strike %g", (double)k[r]);
            cr_assert_gt(k[r], nifty ? 20000.0f : 42000.0f);
            cr_assert_lt(k[r], nifty ? 29000.0f : 58000.0f);
            cr_assert_gt(ex[r], day);
            cr_assert_eq(tl_weekday(ex[r]), 3, "expiry is not a Thursday");
            int i;
            for (i = 0; i < n_seen; i++)
                if (seen[i].expiry == ex[r] && seen[i].strike == k[r] &&
                    memcmp(seen[i].type, t, 2) == 0 && strncmp(seen[i].sym, s, sl) == 0 &&
                    seen[i].sym[sl] == '\0')
                    break;
            if (i == n_seen) {
                cr_assert_lt(n_seen, 2000);
                memcpy(seen[n_seen].sym, s, sl);
                seen[n_seen].sym[sl] = '\0';
                seen[n_seen].expiry = ex[r];
                memcpy(seen[n_seen].type, t, 2);
                seen[n_seen].strike = k[r];
                n_seen++;
            }
        }
    }
    tl_gen_close(g);
    int per_sym[2] = {0, 0};
    int32_t exps[2][4];
    int n_exp[2] = {0, 0};
    for (int i = 0; i < n_seen; i++) {
        int s = strcmp(seen[i].sym, "NIFTY") == 0;
        per_sym[s]++;
        int j;
        for (j = 0; j < n_exp[s]; j++)
            if (exps[s][j] == seen[i].expiry)
                break;
        if (j == n_exp[s]) {
            cr_assert_lt(n_exp[s], 3, "more than 3 expiries");
            exps[s][n_exp[s]++] = seen[i].expiry;
        }
    }
    for (int s = 0; s < 2; s++) {
        cr_assert_leq(per_sym[s], 538);
        cr_assert_geq(per_sym[s], 480, "only %d contracts ticked", per_sym[s]);
        cr_assert_eq(n_exp[s], 3);
        /* 2025-11-20, 2025-11-27 (also November's last Thursday), 2025-12-25 */
        for (int j = 0; j < 3; j++) {
            int32_t e = exps[s][j];
            cr_assert(e == tl_days_from_civil(2025, 11, 20) || e == tl_days_from_civil(2025, 11, 27) ||
                          e == tl_days_from_civil(2025, 12, 25),
                      "unexpected expiry day %d", e);
        }
    }
}

static int on_grid(double v)
{
    double c = (double)llround(v * 100);
    return v == c / 100.0 && llround(v * 100) % 5 == 0;
}

static int two_decimals(double v)
{
    return v == (double)llround(v * 100) / 100.0;
}

Test(gen, values_on_the_tick_grid_and_book_consistent)
{
    static const char *const pcols[] = {"price", "avg_price", "open", "high", "low", "close"};
    tl_gen_opts o;
    small_opts(&o);
    o.rows_per_day = 200000;
    tl_gen *g = open_ok(&o);
    tl_batch b;
    uint64_t rows = 0, bid_null = 0, ask_null = 0, zero_bid[5] = {0}, zero_ask[5] = {0};
    while (!next_ok(g, 65536, &b)) {
        const double *pc[6];
        for (int i = 0; i < 6; i++)
            pc[i] = vals(&b, pcols[i]);
        const double *chg = vals(&b, "changeper");
        const int32_t *qty = vals(&b, "qty");
        const int64_t *oi = vals(&b, "oi"), *vol = vals(&b, "volume");
        const double *bp[5], *sp[5];
        const int32_t *bq[5], *sq[5];
        const uint8_t *vb[5], *va[5];
        for (int k = 0; k < 5; k++) {
            char n[8];
            snprintf(n, sizeof n, "bp%d", k);
            bp[k] = vals(&b, n);
            vb[k] = validity(&b, n);
            snprintf(n, sizeof n, "sp%d", k);
            sp[k] = vals(&b, n);
            va[k] = validity(&b, n);
            snprintf(n, sizeof n, "bq%d", k);
            bq[k] = vals(&b, n);
            cr_assert_eq(validity(&b, n), vb[k], "bq%d and bp%d validity differ", k, k);
            snprintf(n, sizeof n, "sq%d", k);
            sq[k] = vals(&b, n);
            cr_assert_eq(validity(&b, n), va[k]);
        }
        static const char *const never_null[] = {"timestamp", "symbol", "expiry", "opt_type",
                                                 "strike", "price", "volume", "qty", "oi",
                                                 "changeper", "close"};
        for (size_t i = 0; i < sizeof never_null / sizeof never_null[0]; i++)
            cr_assert_null(validity(&b, never_null[i]), "%s has nulls", never_null[i]);
        for (uint32_t r = 0; r < b.n_rows; r++, rows++) {
            for (int i = 0; i < 6; i++) {
                cr_assert(on_grid(pc[i][r]), "%s = %.17g off the 0.05 grid", pcols[i], pc[i][r]);
                cr_assert_gt(pc[i][r], 0, "%s = %g", pcols[i], pc[i][r]);
            }
            double price = pc[0][r], high = pc[3][r], low = pc[4][r], open = pc[2][r];
            cr_assert(low <= price && price <= high && low <= open && open <= high);
            cr_assert(two_decimals(chg[r]), "changeper %.17g", chg[r]);
            double want = 100.0 * (price - pc[5][r]) / pc[5][r];
            cr_assert(fabs(chg[r] - want) <= 0.0051 + 1e-9 * fabs(want), "changeper %g vs %g",
                      chg[r], want);
            int lot = qty[r] % 15 == 0 ? 15 : 25;
            cr_assert(qty[r] > 0 && qty[r] % lot == 0, "qty %d", qty[r]);
            cr_assert_geq(oi[r], 0);
            cr_assert_geq(vol[r], 0);
            int bn = !tl_bit_get(vb[0], r), an = !tl_bit_get(va[0], r);
            bid_null += bn;
            ask_null += an;
            int bz = 0, az = 0;
            for (int k = 0; k < 5; k++) {
                /* a side is null as a whole, and null slots hold 0 */
                cr_assert_eq(!tl_bit_get(vb[k], r), bn);
                cr_assert_eq(!tl_bit_get(va[k], r), an);
                if (bn)
                    cr_assert(bp[k][r] == 0 && bq[k][r] == 0);
                if (an)
                    cr_assert(sp[k][r] == 0 && sq[k][r] == 0);
                cr_assert(on_grid(bp[k][r]) && on_grid(sp[k][r]), "book price off grid");
                cr_assert_geq(bp[k][r], 0);
                cr_assert_geq(sp[k][r], 0);
                if (!bn) {
                    int zero = bp[k][r] == 0;
                    cr_assert_eq(zero, bq[k][r] == 0, "bid level %d: price and qty", k);
                    if (bz)
                        cr_assert(zero, "bid level %d present below an empty one", k);
                    else if (zero)
                        bz = 1;
                    zero_bid[k] += zero;
                    if (!zero) {
                        cr_assert_lt(bp[k][r], price);
                        cr_assert_eq(bq[k][r] % 5, 0);
                        if (k > 0)
                            cr_assert_lt(bp[k][r], bp[k - 1][r]);
                    }
                }
                if (!an) {
                    int zero = sp[k][r] == 0;
                    cr_assert_eq(zero, sq[k][r] == 0, "ask level %d: price and qty", k);
                    if (az)
                        cr_assert(zero, "ask level %d present above an empty one", k);
                    else if (zero)
                        az = 1;
                    zero_ask[k] += zero;
                    if (!zero) {
                        cr_assert_gt(sp[k][r], price);
                        if (k > 0)
                            cr_assert_gt(sp[k][r], sp[k - 1][r]);
                    }
                }
            }
            if (!bn && !an && bp[0][r] != 0 && sp[0][r] != 0)
                cr_assert_lt(bp[0][r], sp[0][r]);
        }
    }
    tl_gen_close(g);
    cr_assert_eq(rows, 2 * 2 * 200000);
    /* missing sides ~0.4 % each; empty levels rarer at level 0 than at 4 */
    cr_assert(bid_null > rows / 1000 && bid_null < rows / 100, "bid null %llu",
              (unsigned long long)bid_null);
    cr_assert(ask_null > rows / 1000 && ask_null < rows / 100);
    cr_assert(zero_ask[0] > 0 && zero_ask[0] < rows / 200, "empty ask level 0: %llu",
              (unsigned long long)zero_ask[0]);
    cr_assert(zero_ask[4] > rows / 100 && zero_ask[4] < rows / 25, "empty ask level 4: %llu",
              (unsigned long long)zero_ask[4]);
    cr_assert(zero_bid[0] < zero_bid[4]);
}

Test(gen, volume_cumulative_per_contract_with_occasional_resets)
{
    tl_gen_opts o;
    small_opts(&o);
    o.days = 1;
    o.rows_per_day = 400000;
    tl_gen *g = open_ok(&o);
    tl_batch b;
    /* contract -> last volume; key from (symbol length, expiry, type, strike) */
    enum { SLOTS = 1 << 14 };
    static struct {
        uint64_t key;
        int64_t vol;
    } tab[SLOTS];
    memset(tab, 0, sizeof tab);
    uint64_t resets = 0, rows = 0;
    int sym = col_index("symbol"), typ = col_index("opt_type");
    while (!next_ok(g, 10000, &b)) {
        const int32_t *ex = vals(&b, "expiry"), *qty = vals(&b, "qty");
        const float *k = vals(&b, "strike");
        const int64_t *vol = vals(&b, "volume");
        for (uint32_t r = 0; r < b.n_rows; r++, rows++) {
            const char *s, *t;
            uint32_t sl, tlen;
            str_at(&b, sym, r, &s, &sl);
            str_at(&b, typ, r, &t, &tlen);
            uint64_t key = ((uint64_t)sl << 56) ^ ((uint64_t)(uint32_t)ex[r] << 24) ^
                           ((uint64_t)(t[0] == 'P') << 23) ^ (uint64_t)(uint32_t)k[r];
            uint64_t slot = (key * UINT64_C(0x9E3779B97F4A7C15)) >> 50;
            while (tab[slot].key != 0 && tab[slot].key != key + 1)
                slot = (slot + 1) & (SLOTS - 1);
            if (tab[slot].key == 0) {
                tab[slot].key = key + 1;
                cr_assert(vol[r] == qty[r] || vol[r] == 0, "first volume %lld, qty %d",
                          (long long)vol[r], qty[r]);
            } else if (vol[r] == 0) {
                resets++;
            } else {
                cr_assert_eq(vol[r], tab[slot].vol + qty[r], "volume %lld after %lld + qty %d",
                             (long long)vol[r], (long long)tab[slot].vol, qty[r]);
            }
            tab[slot].vol = vol[r];
        }
    }
    tl_gen_close(g);
    cr_assert_gt(resets, 0);
    cr_assert_lt(resets, rows / 5000);
}

Test(gen, weekends_skipped)
{
    tl_gen_opts o;
    small_opts(&o);
    o.rows_per_day = 2000;
    o.days = 3;
    o.start_day = (int32_t)tl_days_from_civil(2025, 11, 21); /* Friday */
    int64_t want[3] = {tl_days_from_civil(2025, 11, 21), tl_days_from_civil(2025, 11, 24),
                       tl_days_from_civil(2025, 11, 25)};
    for (int start_sat = 0; start_sat <= 1; start_sat++) {
        if (start_sat) { /* a Saturday start begins on Monday */
            o.start_day = (int32_t)tl_days_from_civil(2025, 11, 22);
            want[0] = tl_days_from_civil(2025, 11, 24);
            want[1] = tl_days_from_civil(2025, 11, 25);
            want[2] = tl_days_from_civil(2025, 11, 26);
        }
        tl_gen *g = open_ok(&o);
        tl_batch b;
        int64_t days[3];
        int n = 0;
        while (!next_ok(g, 1500, &b)) {
            const int64_t *ts = vals(&b, "timestamp");
            for (uint32_t r = 0; r < b.n_rows; r++) {
                int64_t d = tl_floor_div(ts[r], NS_DAY);
                cr_assert_lt(tl_weekday(d), 5, "a weekend day");
                if (n == 0 || days[n - 1] != d) {
                    cr_assert_lt(n, 3);
                    days[n++] = d;
                }
            }
        }
        tl_gen_close(g);
        cr_assert_eq(n, 3);
        for (int i = 0; i < 3; i++)
            cr_assert_eq(days[i], want[i]);
    }
}

Test(gen, other_symbols_and_pre_1970_days)
{
    static const char *const syms[] = {"X", "RELIANCE", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"};
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.symbols = syms;
    o.n_symbols = 3;
    o.rows_per_day = 3000;
    o.start_day = TL_GEN_DAY_MIN;
    o.days = 2;
    tl_gen *g = open_ok(&o);
    tl_batch b;
    uint64_t rows = 0;
    while (!next_ok(g, 4096, &b)) {
        const int64_t *ts = vals(&b, "timestamp");
        const double *p = vals(&b, "price");
        for (uint32_t r = 0; r < b.n_rows; r++) {
            cr_assert_lt(ts[r], 0);
            cr_assert(on_grid(p[r]) && p[r] > 0);
        }
        rows += b.n_rows;
    }
    tl_gen_close(g);
    cr_assert_eq(rows, 3 * 2 * 3000);
}

/* ---- errors -------------------------------------------------------------------- */

static void open_fails(const tl_gen_opts *o, const char *needle)
{
    tl_gen *g = (tl_gen *)(uintptr_t)1;
    tl_error err = {0};
    int rc = tl_gen_open(o, &g, &err);
    cr_assert_eq(rc, TL_EINVAL, "expected TL_EINVAL for %s, got %d", needle, rc);
    cr_assert_eq(err.code, TL_EINVAL);
    cr_assert_null(g);
    cr_assert_not_null(strstr(err.msg, needle), "message \"%s\" lacks \"%s\"", err.msg, needle);
}

Test(gen, bad_options_are_einval_naming_the_field)
{
    tl_gen_opts o;
    tl_error err = {0};
    cr_assert_eq(tl_gen_open(NULL, NULL, &err), TL_EINVAL);
    tl_gen_opts_default(&o);
    cr_assert_eq(tl_gen_open(&o, NULL, NULL), TL_EINVAL); /* err may be NULL */
    open_fails(NULL, "options");

    static const char *const dup[] = {"NIFTY", "BANKNIFTY", "NIFTY"};
    static const char *const empty[] = {""};
    static const char *const nul[] = {"NIFTY", NULL};
    static const char *const longs[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}; /* 33 */
    tl_gen_opts_default(&o);
    o.n_symbols = 0;
    open_fails(&o, "opts.symbols");
    tl_gen_opts_default(&o);
    o.symbols = NULL;
    open_fails(&o, "opts.symbols");
    tl_gen_opts_default(&o);
    o.n_symbols = TL_GEN_MAX_SYMBOLS + 1;
    open_fails(&o, "opts.n_symbols");
    o.symbols = dup;
    o.n_symbols = 3;
    open_fails(&o, "opts.symbols[2] \"NIFTY\" repeats opts.symbols[0]");
    o.symbols = empty;
    o.n_symbols = 1;
    open_fails(&o, "opts.symbols[0]: expected 1..32 bytes, found 0");
    o.symbols = nul;
    o.n_symbols = 2;
    open_fails(&o, "opts.symbols[1] is NULL");
    o.symbols = longs;
    o.n_symbols = 1;
    open_fails(&o, "found 33");

    tl_gen_opts_default(&o);
    o.days = 0;
    open_fails(&o, "opts.days");
    tl_gen_opts_default(&o);
    o.rows_per_day = 0;
    open_fails(&o, "opts.rows_per_day: expected 1..");
    o.rows_per_day = (uint64_t)TL_GEN_MAX_ROWS_PER_DAY + 1;
    open_fails(&o, "opts.rows_per_day");
    tl_gen_opts_default(&o);
    o.start_day = TL_GEN_DAY_UNSET;
    open_fails(&o, "opts.start_day is unset");
    o.start_day = TL_GEN_DAY_MAX + 1;
    open_fails(&o, "opts.start_day: expected");
    o.start_day = TL_GEN_DAY_MIN - 1;
    open_fails(&o, "opts.start_day: expected");
    o.start_day = TL_GEN_DAY_MAX - 3;
    o.days = 10;
    open_fails(&o, "opts.days: 10 trading days");
    tl_gen_opts_default(&o);
    o.sorted = 2;
    open_fails(&o, "opts.sorted");
    tl_gen_opts_default(&o);
    o.days = UINT32_MAX / 8;
    o.start_day = TL_GEN_DAY_MIN;
    open_fails(&o, "opts.days");
}

Test(gen, sorted_mode_refuses_partitions_beyond_half_the_memory)
{
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.sorted = 1;
    o.rows_per_day = TL_GEN_MAX_ROWS_PER_DAY; /* 32 GB of timestamps */
    uint64_t half = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 2;
    tl_gen *g = NULL;
    tl_error err = {0};
    int rc = tl_gen_open(&o, &g, &err);
    if (half < UINT64_C(32) << 30) {
        cr_assert_eq(rc, TL_ENOMEM);
        cr_assert_null(g);
        cr_assert_not_null(strstr(err.msg, "opts.rows_per_day 4000000000"), "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "half of the machine's memory"), "%s", err.msg);
    } else {
        cr_assert_eq(rc, TL_OK, "%s", err.msg);
    }
    tl_gen_close(g);
    o.sorted = 0; /* arrival order needs no such buffer */
    cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
    tl_gen_close(g);
}

Test(gen, next_rejects_bad_arguments)
{
    tl_gen_opts o;
    small_opts(&o);
    tl_gen *g = open_ok(&o);
    tl_batch b;
    int done = 0;
    tl_error err = {0};
    cr_assert_eq(tl_gen_next(g, 0, &b, &done, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "max_rows"), "%s", err.msg);
    cr_assert_eq(tl_gen_next(NULL, 10, &b, &done, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "generator"));
    cr_assert_eq(tl_gen_next(g, 10, NULL, &done, &err), TL_EINVAL);
    cr_assert_eq(tl_gen_next(g, 10, &b, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_gen_next(g, 10, &b, &done, NULL), TL_OK);
    cr_assert_eq(b.n_rows, 10);
    tl_gen_close(g);
}

/* ---- CSV --------------------------------------------------------------------------- */

TestSuite(csv, .init = setup, .fini = teardown);

/* Write b to a temp file and return the text. */
static char *csv_of(const tl_batch *b, int header)
{
    char path[300];
    path_in_tmp(path, sizeof path, "x.csv");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    tl_error err = {0};
    int rc = tl_batch_write_csv(b, f, header, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    fclose(f);
    size_t n;
    return tlt_slurp(path, &n);
}

/* Significant digits of a number's text: mantissa digits without leading
 * zeros, trailing zeros dropped. */
static int sig_digits(const char *p)
{
    int digits = 0, started = 0, zeros = 0;
    for (const char *q = p; *q && *q != 'e'; q++) {
        if (*q < '0' || *q > '9')
            continue;
        if (*q == '0' && !started)
            continue;
        started = 1;
        if (*q == '0') {
            zeros++;
        } else {
            digits += zeros + 1;
            zeros = 0;
        }
    }
    return digits;
}

static void one_double_col(double *v, uint32_t n, tl_batch *b, tl_coldef *d, tl_colvec *c)
{
    d->name = "x";
    d->type = TL_FLOAT64;
    memset(c, 0, sizeof *c);
    c->values = v;
    b->n_rows = n;
    b->n_cols = 1;
    b->defs = d;
    b->cols = c;
}

Test(csv, every_type_and_edge_values)
{
    enum { N = 4 };
    uint8_t bo[N] = {1, 0, 1, 0};
    int8_t i8[N] = {INT8_MIN, -1, 0, INT8_MAX};
    int16_t i16[N] = {INT16_MIN, -2, 0, INT16_MAX};
    int32_t i32[N] = {INT32_MIN, -3, 0, INT32_MAX};
    int64_t i64[N] = {INT64_MIN, -4, 0, INT64_MAX};
    uint8_t u8[N] = {0, 1, 200, UINT8_MAX};
    uint16_t u16[N] = {0, 1, 60000, UINT16_MAX};
    uint32_t u32[N] = {0, 1, 4000000000u, UINT32_MAX};
    uint64_t u64[N] = {0, 1, UINT64_C(10000000000000000000), UINT64_MAX};
    float f32[N] = {0.1f, 16777216.0f, -0.0f, FLT_MAX};
    double f64[N] = {0.1 + 0.2, NAN, -INFINITY, -0.0};
    int64_t ts[N] = {INT64_C(-1), 0, INT64_C(1763351104148970116), INT64_MIN};
    int32_t dt[N] = {0, -1, -719469, INT32_MIN};
    const char sdata[] = "plaina,b\"q\"x\r\ny";
    uint32_t soff[N + 1] = {0, 5, 8, 11, 15};
    const char sdata2[] = "";
    uint32_t soff2[N + 1] = {0, 0, 0, 0, 0};
    uint8_t valid[1] = {0x0B}; /* row 2 null */
    tl_coldef d[] = {{"b", TL_BOOL},    {"i8", TL_INT8},       {"i16", TL_INT16},
                     {"i32", TL_INT32}, {"i64", TL_INT64},     {"u8", TL_UINT8},
                     {"u16", TL_UINT16}, {"u32", TL_UINT32},   {"u64", TL_UINT64},
                     {"f32", TL_FLOAT32}, {"f64", TL_FLOAT64}, {"ts", TL_TIMESTAMP},
                     {"d", TL_DATE},    {"s", TL_STRING},      {"e,\"mpty\"", TL_STRING}};
    tl_colvec c[15];
    memset(c, 0, sizeof c);
    const void *v[13] = {bo, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, ts, dt};
    for (int i = 0; i < 13; i++)
        c[i].values = v[i];
    c[13].offsets = soff;
    c[13].data = (const uint8_t *)sdata;
    c[14].offsets = soff2;
    c[14].data = (const uint8_t *)sdata2;
    c[14].validity = valid;
    tl_batch b = {.n_rows = N, .n_cols = 15, .defs = d, .cols = c};
    char *txt = csv_of(&b, 1);
    const char *want =
        "b,i8,i16,i32,i64,u8,u16,u32,u64,f32,f64,ts,d,s,\"e,\"\"mpty\"\"\"\n"
        "true,-128,-32768,-2147483648,-9223372036854775808,0,0,0,0,0.1,0.30000000000000004,-1,"
        "1970-01-01,plain,\"\"\n"
        "false,-1,-2,-3,-4,1,1,1,1,16777216,nan,0,1969-12-31,\"a,b\",\"\"\n"
        "true,0,0,0,0,200,60000,4000000000,10000000000000000000,-0,-inf,1763351104148970116,"
        "0000-02-29,\"\"\"q\"\"\",\n"
        "false,127,32767,2147483647,9223372036854775807,255,65535,4294967295,"
        "18446744073709551615,3.4028235e+38,-0,-9223372036854775808,-5877641-06-23,"
        "\"x\r\ny\",\"\"\n";
    cr_assert_str_eq(txt, want);
    free(txt);

    /* no header; an empty batch writes nothing, or just the header */
    b.n_rows = 1;
    txt = csv_of(&b, 0);
    cr_assert_eq(strncmp(txt, "true,-128,", 10), 0);
    free(txt);
    b.n_rows = 0;
    txt = csv_of(&b, 0);
    cr_assert_str_eq(txt, "");
    free(txt);
    b.cols = NULL;
    txt = csv_of(&b, 1);
    cr_assert_eq(strncmp(txt, "b,i8,", 5), 0);
    free(txt);
}

Test(csv, floats_print_shortest_round_trip)
{
    enum { N = 24 };
    double v[N] = {0.0,    123.45,  -7.05, 0.5,      100,      1e13, 1e15, 9007199254740992.0,
                   1e-5,   1e300,   5e-324, DBL_MAX, DBL_MIN,  -2.5e-310, INFINITY, 0.01,
                   1e12 + 0.05, 33.33, 1e-4, 123456789012.34, 0.1 * 3, 1.0 / 3, 2.0 / 3, 1e22};
    const char *want[N] = {"0",     "123.45", "-7.05", "0.5",   "100",   "10000000000000",
                           "1e+15", "9007199254740992", "1e-05", "1e+300", "5e-324",
                           "1.7976931348623157e+308", "2.2250738585072014e-308", "-2.5e-310",
                           "inf",   "0.01",   "1000000000000.05", "33.33", "0.0001",
                           "123456789012.34", "0.30000000000000004", "0.3333333333333333",
                           "0.6666666666666666", "1e+22"};
    tl_batch b;
    tl_coldef d;
    tl_colvec c;
    one_double_col(v, N, &b, &d, &c);
    char *txt = csv_of(&b, 0), *p = txt;
    for (int i = 0; i < N; i++) {
        char *nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        *nl = '\0';
        cr_assert_str_eq(p, want[i], "value %d (%.17g)", i, v[i]);
        p = nl + 1;
    }
    free(txt);

    /* random bit patterns and random cents: parse back exactly, and have no
     * more significant digits than the first %.{1..17}g that round-trips */
    enum { M = 20000 };
    static double rv[M];
    uint64_t s = 12345;
    for (int i = 0; i < M; i++) {
        s = s * UINT64_C(6364136223846793005) + 1442695040888963407u;
        uint64_t x = tl_mix64(s);
        if (i % 2) {
            memcpy(&rv[i], &x, 8);
            if (!isfinite(rv[i]))
                rv[i] = 1.5;
        } else {
            rv[i] = (double)(int64_t)(x % 2000000001 - 1000000000) / 100.0;
        }
    }
    one_double_col(rv, M, &b, &d, &c);
    txt = csv_of(&b, 0);
    p = txt;
    for (int i = 0; i < M; i++) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        cr_assert_eq(strtod(p, NULL), rv[i], "%s does not read back as %.17g", p, rv[i]);
        int ref;
        char buf[40];
        for (ref = 1; ref < 17; ref++) {
            snprintf(buf, sizeof buf, "%.*g", ref, rv[i]);
            if (strtod(buf, NULL) == rv[i])
                break;
        }
        cr_assert_leq(sig_digits(p), ref, "%s has more digits than %.*g", p, ref, rv[i]);
        p = nl + 1;
    }
    free(txt);
}

Test(csv, float32_shortest_round_trip)
{
    enum { N = 8, M = 20000 };
    static float v[M];
    float fixed[N] = {50000.0f, 0.1f, 1e-45f, -3.25f, 123456.0f, 1e6f, 0.3f, 1.17549435e-38f};
    const char *want[N] = {"50000", "0.1", "1e-45", "-3.25", "123456", "1e+06", "0.3",
                           "1.1754944e-38"};
    uint64_t s = 99;
    for (int i = 0; i < M; i++) {
        s = s * UINT64_C(6364136223846793005) + 1442695040888963407u;
        uint32_t x = (uint32_t)(tl_mix64(s) >> 32);
        memcpy(&v[i], &x, 4);
        if (!isfinite(v[i]))
            v[i] = 2.5f;
    }
    memcpy(v, fixed, sizeof fixed);
    tl_coldef d = {"f", TL_FLOAT32};
    tl_colvec c = {.values = v};
    tl_batch b = {.n_rows = M, .n_cols = 1, .defs = &d, .cols = &c};
    char *txt = csv_of(&b, 0), *p = txt;
    for (int i = 0; i < M; i++) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        if (i < N)
            cr_assert_str_eq(p, want[i]);
        cr_assert_eq(strtof(p, NULL), v[i], "%s does not read back as %.9g", p, (double)v[i]);
        char buf[40];
        int ref;
        for (ref = 1; ref < 9; ref++) {
            snprintf(buf, sizeof buf, "%.*g", ref, (double)v[i]);
            if (strtof(buf, NULL) == v[i])
                break;
        }
        cr_assert_leq(sig_digits(p), ref, "%s has more digits than %.*g", p, ref, (double)v[i]);
        p = nl + 1;
    }
    free(txt);
}

Test(csv, dates_for_any_int32_day)
{
    static const struct {
        int32_t day;
        const char *text;
    } cases[] = {
        {0, "1970-01-01"},       {-1, "1969-12-31"},          {11016, "2000-02-29"},
        {-719468, "0000-03-01"}, {-719469, "0000-02-29"},     {-719528, "0000-01-01"},
        {-719529, "-0001-12-31"}, {2932896, "9999-12-31"},    {2932897, "10000-01-01"},
        {INT32_MAX, "5881580-07-11"}, {INT32_MIN, "-5877641-06-23"}, {20409, "2025-11-17"},
        {-100000, "1696-03-17"}, {100000, "2243-10-17"},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    int32_t days[N];
    for (int i = 0; i < N; i++)
        days[i] = cases[i].day;
    tl_coldef d = {"d", TL_DATE};
    tl_colvec c = {.values = days};
    tl_batch b = {.n_rows = N, .n_cols = 1, .defs = &d, .cols = &c};
    char *txt = csv_of(&b, 0), *p = txt;
    for (int i = 0; i < N; i++) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        cr_assert_str_eq(p, cases[i].text, "day %d", cases[i].day);
        p = nl + 1;
    }
    free(txt);

    /* the calendar helpers: inverse of each other, and consecutive days are
     * consecutive dates, on a sample across the whole int32 range */
    uint64_t s = 7;
    for (int i = 0; i < 200000; i++) {
        s = tl_mix64(s + 1);
        int64_t z = (int32_t)(uint32_t)s;
        if (z == INT32_MAX)
            z--;
        int64_t y, y2;
        int m, dd, m2, d2;
        tl_civil_from_days(z, &y, &m, &dd);
        cr_assert(m >= 1 && m <= 12 && dd >= 1 && dd <= 31);
        cr_assert_eq(tl_days_from_civil(y, m, dd), z);
        tl_civil_from_days(z + 1, &y2, &m2, &d2);
        if (d2 != 1)
            cr_assert(y2 == y && m2 == m && d2 == dd + 1);
        else
            cr_assert((m2 == m % 12 + 1) && (y2 == y + (m == 12)));
        cr_assert_eq(tl_weekday(z + 7), tl_weekday(z));
    }
}

Test(csv, long_quoted_string_crosses_the_buffer)
{
    size_t n = 300000;
    char *s = malloc(n);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = i % 97 == 0 ? '"' : (char)('a' + i % 26);
    uint32_t off[2] = {0, (uint32_t)n};
    tl_coldef d[2] = {{"s", TL_STRING}, {"i", TL_INT32}};
    int32_t iv[1] = {7};
    tl_colvec c[2] = {{.offsets = off, .data = (const uint8_t *)s}, {.values = iv}};
    tl_batch b = {.n_rows = 1, .n_cols = 2, .defs = d, .cols = c};
    char *txt = csv_of(&b, 0);
    size_t quotes = (n + 96) / 97;
    cr_assert_eq(strlen(txt), n + quotes + 2 + 3);
    cr_assert_eq(txt[0], '"');
    size_t j = 1;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(txt[j], s[i]);
        j += s[i] == '"' ? 2 : 1;
    }
    cr_assert_str_eq(txt + j, "\",7\n");
    free(txt);
    free(s);
}

Test(csv, write_failure_is_eio_with_errno)
{
    double v[3] = {1, 2, 3};
    tl_batch b;
    tl_coldef d;
    tl_colvec c;
    one_double_col(v, 3, &b, &d, &c);

    FILE *f = fopen("/dev/full", "w");
    if (!f)
        cr_skip_test("no /dev/full");
    tl_error err = {0};
    int rc = tl_batch_write_csv(&b, f, 1, &err);
    fclose(f);
    cr_assert_eq(rc, TL_EIO);
    cr_assert_eq(err.code, TL_EIO);
    cr_assert_eq(err.sys_errno, ENOSPC, "errno %d", err.sys_errno);
    cr_assert_not_null(strstr(err.msg, "csv:"), "%s", err.msg);

    char path[300];
    path_in_tmp(path, sizeof path, "ro.csv");
    f = fopen(path, "w");
    fclose(f);
    f = fopen(path, "r"); /* read-only stream */
    cr_assert_not_null(f);
    memset(&err, 0, sizeof err);
    rc = tl_batch_write_csv(&b, f, 1, &err);
    fclose(f);
    cr_assert_eq(rc, TL_EIO);
    cr_assert_eq(err.sys_errno, EBADF, "errno %d: %s", err.sys_errno, err.msg);
    cr_assert_not_null(strstr(err.msg, "write failed"), "%s", err.msg);
}

Test(csv, bad_batches_are_einval)
{
    double v[2] = {1, 2};
    tl_batch b;
    tl_coldef d;
    tl_colvec c;
    one_double_col(v, 2, &b, &d, &c);
    tl_error err = {0};
    cr_assert_eq(tl_batch_write_csv(NULL, stdout, 1, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "batch is NULL"));
    cr_assert_eq(tl_batch_write_csv(&b, NULL, 1, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "file is NULL"));

    char path[300];
    path_in_tmp(path, sizeof path, "bad.csv");
    FILE *f = fopen(path, "w");
    d.type = (tl_type)99;
    cr_assert_eq(tl_batch_write_csv(&b, f, 1, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "column 0 'x': expected a type 1..15, found 99"), "%s",
                       err.msg);
    d.type = TL_FLOAT64;
    c.values = NULL;
    cr_assert_eq(tl_batch_write_csv(&b, f, 1, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "values pointer is NULL"), "%s", err.msg);

    uint32_t off[3] = {0, 5, 2};
    tl_coldef sd = {"s", TL_STRING};
    tl_colvec sc = {.offsets = off, .data = (const uint8_t *)"hello"};
    tl_batch sb = {.n_rows = 2, .n_cols = 1, .defs = &sd, .cols = &sc};
    cr_assert_eq(tl_batch_write_csv(&sb, f, 0, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "column 0 's' row 1: string offsets decrease"), "%s",
                       err.msg);
    sc.data = NULL;
    cr_assert_eq(tl_batch_write_csv(&sb, f, 0, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "offsets/data pointer is NULL"), "%s", err.msg);
    fclose(f);
}

/* timestamp_us columns print as the corpus/DuckDB text (far years, years
 * <= 0 with '-', trimmed fractions, a null as an empty field), and
 * tl_timestamp_us_text gives the same text. */
Test(csv, timestamp_us_text)
{
    int64_t v[5] = {INT64_C(1704141296123456), INT64_C(9089380393200000000), 0,
                    INT64_C(-62198755200000000), INT64_MIN};
    uint8_t valid = 0x1b; /* row 2 null */
    tl_coldef d = {"t", TL_TIMESTAMP_US};
    tl_colvec c = {.values = v, .validity = &valid};
    tl_batch b = {.n_rows = 5, .n_cols = 1, .defs = &d, .cols = &c};
    char *text = csv_of(&b, 1);
    cr_assert_str_eq(text, "t\n2024-01-01 20:34:56.123456\n290000-12-30 23:00:00\n\n"
                           "-0001-01-01 00:00:00\n-290308-12-21 19:59:05.224192\n");
    free(text);
    char out[TL_TIMESTAMP_US_TEXT_MAX];
    cr_assert_eq(tl_timestamp_us_text(INT64_MAX, out), 28);
    cr_assert_str_eq(out, "294247-01-10 04:00:54.775807");
    cr_assert_eq(tl_timestamp_us_text(INT64_MIN, out), 29);
    cr_assert_eq(tl_timestamp_us_text(100000, out), 21);
    cr_assert_str_eq(out, "1970-01-01 00:00:00.1");
}
