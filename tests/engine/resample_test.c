/*
 * resample_test.c - tl_table_resample (engine/src/resample.c,
 * spec/QUALITY.md): bars and quotes at 1s, 1m and 1d, per contract and per
 * symbol, equal to a naive reference computed here over the same rows
 * (sorted copies, grouped by key and interval), from a source whose
 * partitions hold two files each (an ordered merge); null prices skipped;
 * the quote rule with ties (earliest; at the same instant the contract
 * first in sort order); the destination partitioned like the source;
 * idempotent appends; error paths (unknown column, bad interval, a
 * destination with another schema, a source without the sort key needed).
 */
#include <criterion/criterion.h>

#include "civil_int.h"
#include "ticklake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], tpath[300], dpath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/resample_test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
    snprintf(dpath, sizeof dpath, "%s/d", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(resample, .init = setup, .fini = teardown);

static const tl_field fields[] = {
    {"timestamp", TL_TIMESTAMP, 0}, {"symbol", TL_STRING, 0}, {"expiry", TL_DATE, 0},
    {"opt_type", TL_STRING, 0},     {"strike", TL_FLOAT32, 0}, {"price", TL_FLOAT64, 1},
    {"volume", TL_INT64, 0},        {"bp0", TL_FLOAT64, 1},    {"sp0", TL_FLOAT64, 1},
    {"bq0", TL_INT32, 1},           {"sq0", TL_INT32, 1}};
#define NF 11

typedef struct row {
    int64_t ts;
    const char *sym;
    int32_t expiry;
    const char *type;
    float strike;
    double price, bid, ask; /* NAN = null */
    int64_t vol;
    int32_t bq, sq; /* < 0 = null */
} row;

typedef struct rows {
    row *r;
    size_t n, cap;
} rows;

static void push(rows *rs, row r)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 4096;
        rs->r = realloc(rs->r, rs->cap * sizeof *rs->r);
        cr_assert_not_null(rs->r);
    }
    rs->r[rs->n++] = r;
}

#define D0 ((int32_t)tl_days_from_civil(2025, 11, 17))
#define OPEN_NS (INT64_C(13500) * TL_NS_PER_S)

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void create_src(int with_sort_key)
{
    static const char *const sk[] = {"expiry", "opt_type", "strike", "timestamp"};
    tl_table_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.fields = fields;
    spec.n_fields = NF;
    spec.symbol_column = "symbol";
    spec.day_column = "timestamp";
    spec.sort_key = sk;
    spec.n_sort_key = with_sort_key ? 4 : 0;
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
}

static void append_rows(const row *r0, size_t n)
{
    int64_t *ts = calloc(n + 1, 8), *vol = calloc(n + 1, 8);
    int32_t *exp = calloc(n + 1, 4), *bq = calloc(n + 1, 4), *sq = calloc(n + 1, 4);
    float *strike = calloc(n + 1, 4);
    double *price = calloc(n + 1, 8), *bid = calloc(n + 1, 8), *ask = calloc(n + 1, 8);
    uint32_t *so = calloc(n + 1, 4), *to = calloc(n + 1, 4);
    char *sd = calloc(n * 16 + 1, 1), *td = calloc(n * 2 + 1, 1);
    uint8_t *v[5];
    for (int k = 0; k < 5; k++)
        v[k] = calloc(n / 8 + 1, 1);
    size_t sl = 0;
    for (size_t i = 0; i < n; i++) {
        const row *r = &r0[i];
        ts[i] = r->ts;
        vol[i] = r->vol;
        exp[i] = r->expiry;
        strike[i] = r->strike;
        size_t l = strlen(r->sym);
        memcpy(sd + sl, r->sym, l);
        sl += l;
        so[i + 1] = (uint32_t)sl;
        memcpy(td + 2 * i, r->type, 2);
        to[i + 1] = (uint32_t)(2 * (i + 1));
        price[i] = isnan(r->price) ? 0 : r->price;
        bid[i] = isnan(r->bid) ? 0 : r->bid;
        ask[i] = isnan(r->ask) ? 0 : r->ask;
        bq[i] = r->bq < 0 ? 0 : r->bq;
        sq[i] = r->sq < 0 ? 0 : r->sq;
        tl_bit_set(v[0], i, !isnan(r->price));
        tl_bit_set(v[1], i, !isnan(r->bid));
        tl_bit_set(v[2], i, !isnan(r->ask));
        tl_bit_set(v[3], i, r->bq >= 0);
        tl_bit_set(v[4], i, r->sq >= 0);
    }
    tl_coldef defs[NF];
    for (int i = 0; i < NF; i++)
        defs[i] = (tl_coldef){fields[i].name, fields[i].type};
    tl_colvec cols[NF] = {{ts, NULL, NULL, NULL},     {NULL, NULL, so, (uint8_t *)sd},
                          {exp, NULL, NULL, NULL},    {NULL, NULL, to, (uint8_t *)td},
                          {strike, NULL, NULL, NULL}, {price, v[0], NULL, NULL},
                          {vol, NULL, NULL, NULL},    {bid, v[1], NULL, NULL},
                          {ask, v[2], NULL, NULL},    {bq, v[3], NULL, NULL},
                          {sq, v[4], NULL, NULL}};
    tl_batch b = {(uint32_t)n, NF, defs, cols};
    tl_table *t = NULL;
    tl_append *a = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    free(ts), free(vol), free(exp), free(bq), free(sq), free(strike), free(price);
    free(bid), free(ask), free(so), free(to), free(sd), free(td);
    for (int k = 0; k < 5; k++)
        free(v[k]);
}

/* 2 symbols x 2 days x 3000 ticks over three contracts, distinct times per
 * symbol-day, ~3% null prices, bids/asks with nulls and empty (0) levels;
 * appended in two commits (even and odd rows). */
static void make_src(rows *rs)
{
    static const char *const syms[2] = {"AA", "BB"};
    static const char *const types[3] = {"CE", "PE", "CE"};
    static const float strikes[3] = {100, 100, 110};
    uint64_t s = 42;
    for (int sy = 0; sy < 2; sy++)
        for (int d = 0; d < 2; d++) {
            double px[3] = {10, 20, 5};
            for (int k = 0; k < 3000; k++) {
                int c = (int)(lcg(&s) % 3);
                int64_t ts = (int64_t)(D0 + d) * TL_NS_PER_DAY + OPEN_NS +
                             (int64_t)k * 7 * TL_NS_PER_S + (int64_t)(lcg(&s) % 6999999999u);
                px[c] = round((px[c] + ((int)(lcg(&s) % 5) - 2) * 0.05) * 100) / 100;
                if (px[c] < 0.05)
                    px[c] = 0.05;
                row r = {ts, syms[sy], D0 + d + 3, types[c], strikes[c], px[c], 0, 0,
                         (int64_t)(lcg(&s) % 100) + 1, (int32_t)(lcg(&s) % 50), (int32_t)(lcg(&s) % 50)};
                double sp = 0.05 * (double)(1 + lcg(&s) % 3);
                r.bid = px[c] - sp / 2;
                r.ask = px[c] + sp / 2;
                uint64_t u = lcg(&s) % 100;
                if (u < 3)
                    r.price = NAN;
                else if (u < 5)
                    r.bid = NAN;
                else if (u < 7)
                    r.ask = 0; /* empty level */
                else if (u < 9)
                    r.bq = -1;
                push(rs, r);
            }
        }
    rows even = {0}, odd = {0};
    for (size_t i = 0; i < rs->n; i++)
        push(i % 2 ? &odd : &even, rs->r[i]);
    append_rows(even.r, even.n);
    append_rows(odd.r, odd.n);
    free(even.r);
    free(odd.r);
}

/* ---- reference ------------------------------------------------------------------- */

typedef struct bar {
    char sym[8];
    int32_t expiry;
    char type[3];
    float strike;
    int64_t bar;
    double o, h, l, c;
    int64_t vol, ticks, first, last;
    /* quotes */
    int64_t q_ts;
    double bid, ask, spread;
    int bq_null, sq_null;
    int64_t bq, sq;
} bar;

static int per_symbol_g;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->sym, y->sym);
    if (c)
        return c;
    int64_t dx = tl_floor_div(x->ts, TL_NS_PER_DAY), dy = tl_floor_div(y->ts, TL_NS_PER_DAY);
    if (dx != dy)
        return dx < dy ? -1 : 1;
    if (!per_symbol_g) {
        if (x->expiry != y->expiry)
            return x->expiry < y->expiry ? -1 : 1;
        if ((c = strcmp(x->type, y->type)))
            return c;
        if (x->strike != y->strike)
            return x->strike < y->strike ? -1 : 1;
    }
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int eligible(const row *r)
{
    return !isnan(r->bid) && !isnan(r->ask) && r->bid > 0 && r->ask > 0 && r->ask >= r->bid;
}

/* Naive reference: sort, then one group per (symbol, [contract,] interval). */
static bar *reference(const rows *rs, int64_t iv, int per_symbol, int quotes, size_t *n_out)
{
    row *r = malloc(rs->n * sizeof *r);
    memcpy(r, rs->r, rs->n * sizeof *r);
    per_symbol_g = per_symbol;
    qsort(r, rs->n, sizeof *r, cmp_row);
    bar *out = calloc(rs->n + 1, sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < rs->n;) {
        size_t j = i;
        int64_t b0 = tl_floor_div(r[i].ts, iv) * iv;
        while (j < rs->n && strcmp(r[j].sym, r[i].sym) == 0 &&
               tl_floor_div(r[j].ts, iv) * iv == b0 &&
               (per_symbol || (r[j].expiry == r[i].expiry && strcmp(r[j].type, r[i].type) == 0 &&
                               r[j].strike == r[i].strike)))
            j++;
        bar b;
        memset(&b, 0, sizeof b);
        snprintf(b.sym, sizeof b.sym, "%s", r[i].sym);
        b.expiry = r[i].expiry;
        snprintf(b.type, sizeof b.type, "%s", r[i].type);
        b.strike = r[i].strike;
        b.bar = b0;
        int any = 0;
        for (size_t k = i; k < j; k++) {
            if (quotes) {
                if (!eligible(&r[k]))
                    continue;
                double sp = r[k].ask - r[k].bid;
                if (!any || sp < b.spread) { /* rows in time order: ties keep the earliest */
                    b.spread = sp;
                    b.bid = r[k].bid;
                    b.ask = r[k].ask;
                    b.q_ts = r[k].ts;
                    b.bq_null = r[k].bq < 0;
                    b.sq_null = r[k].sq < 0;
                    b.bq = r[k].bq;
                    b.sq = r[k].sq;
                }
                any = 1;
                b.ticks++;
                continue;
            }
            if (isnan(r[k].price))
                continue;
            if (!any) {
                b.o = b.h = b.l = b.c = r[k].price;
                b.first = b.last = r[k].ts;
            }
            any = 1;
            b.h = fmax(b.h, r[k].price);
            b.l = fmin(b.l, r[k].price);
            b.c = r[k].price;
            b.last = r[k].ts;
            b.vol += r[k].vol;
            b.ticks++;
        }
        if (any)
            out[n++] = b;
        i = j;
    }
    free(r);
    *n_out = n;
    return out;
}

static void run(const tl_resample_opts *o, tl_resample_result *res)
{
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_open(t, &(tl_at){TL_AT_LATEST, 0, 0}, &s, &err), TL_OK);
    int rc = tl_table_resample(s, dpath, o, res, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
}

static int run_err(const tl_resample_opts *o, tl_error *err)
{
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, err), TL_OK, "%s", err->msg);
    cr_assert_eq(tl_snapshot_open(t, &(tl_at){TL_AT_LATEST, 0, 0}, &s, err), TL_OK);
    tl_resample_result res;
    int rc = tl_table_resample(s, dpath, o, &res, err);
    tl_snapshot_close(s);
    tl_table_close(t);
    return rc;
}

/* Read DST (file order: partitions, then the sort key) into bars. */
static bar *read_dst(int per_symbol, int quotes, size_t *n_out)
{
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(dpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_open(t, &(tl_at){TL_AT_LATEST, 0, 0}, &s, &err), TL_OK);
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    cr_assert_str_eq(si.symbol_column, "symbol");
    cr_assert_str_eq(si.day_column, "bar_time");
    cr_assert_str_eq(si.sort_key[si.n_sort_key - 1], "bar_time");
    cr_assert_eq(si.n_sort_key, per_symbol ? 1 : 4);
    bar *out = calloc(si.n_rows + 1, sizeof *out);
    size_t n = 0;
    tl_reader *rd = NULL;
    cr_assert_eq(tl_reader_open(s, NULL, NULL, 0, &rd, &err), TL_OK, "%s", err.msg);
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(rd, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            bar *x = &out[n++];
            for (uint32_t c = 0; c < b.n_cols; c++) {
                const char *nm = b.defs[c].name;
                const tl_colvec *v = &b.cols[c];
                const int64_t *i64 = v->values;
                const double *f64 = v->values;
                if (strcmp(nm, "symbol") == 0)
                    snprintf(x->sym, sizeof x->sym, "%.*s",
                             (int)(v->offsets[i + 1] - v->offsets[i]), v->data + v->offsets[i]);
                else if (strcmp(nm, "opt_type") == 0)
                    snprintf(x->type, sizeof x->type, "%.*s",
                             (int)(v->offsets[i + 1] - v->offsets[i]), v->data + v->offsets[i]);
                else if (strcmp(nm, "expiry") == 0)
                    x->expiry = ((const int32_t *)v->values)[i];
                else if (strcmp(nm, "strike") == 0)
                    x->strike = ((const float *)v->values)[i];
                else if (strcmp(nm, "bar_time") == 0)
                    x->bar = i64[i];
                else if (strcmp(nm, "open") == 0)
                    x->o = f64[i];
                else if (strcmp(nm, "high") == 0)
                    x->h = f64[i];
                else if (strcmp(nm, "low") == 0)
                    x->l = f64[i];
                else if (strcmp(nm, "close") == 0)
                    x->c = f64[i];
                else if (strcmp(nm, "volume") == 0)
                    x->vol = i64[i];
                else if (strcmp(nm, "ticks") == 0 || strcmp(nm, "quotes") == 0)
                    x->ticks = i64[i];
                else if (strcmp(nm, "first_ts") == 0)
                    x->first = i64[i];
                else if (strcmp(nm, "last_ts") == 0)
                    x->last = i64[i];
                else if (strcmp(nm, "quote_ts") == 0)
                    x->q_ts = i64[i];
                else if (strcmp(nm, "bid") == 0)
                    x->bid = f64[i];
                else if (strcmp(nm, "ask") == 0)
                    x->ask = f64[i];
                else if (strcmp(nm, "spread") == 0)
                    x->spread = f64[i];
                else if (strcmp(nm, "bid_size") == 0) {
                    x->bq_null = !tl_bit_get(v->validity, i);
                    x->bq = i64[i];
                } else if (strcmp(nm, "ask_size") == 0) {
                    x->sq_null = !tl_bit_get(v->validity, i);
                    x->sq = i64[i];
                } else
                    cr_assert_fail("unexpected column %s", nm);
            }
        }
    }
    tl_reader_close(rd);
    tl_snapshot_close(s);
    tl_table_close(t);
    (void)quotes;
    *n_out = n;
    return out;
}

static void check_equal(const bar *got, size_t ng, const bar *want, size_t nw, int per_symbol,
                        int quotes)
{
    cr_assert_eq(ng, nw, "rows: got %zu, want %zu", ng, nw);
    for (size_t i = 0; i < nw; i++) {
        const bar *g = &got[i], *w = &want[i];
        cr_assert_str_eq(g->sym, w->sym, "row %zu", i);
        cr_assert_eq(g->bar, w->bar, "row %zu", i);
        if (!per_symbol) {
            cr_assert_eq(g->expiry, w->expiry, "row %zu", i);
            cr_assert_str_eq(g->type, w->type, "row %zu", i);
            cr_assert_eq(g->strike, w->strike, "row %zu", i);
        }
        cr_assert_eq(g->ticks, w->ticks, "row %zu", i);
        if (quotes) {
            cr_assert_eq(g->q_ts, w->q_ts, "row %zu", i);
            cr_assert_eq(g->bid, w->bid, "row %zu", i);
            cr_assert_eq(g->ask, w->ask, "row %zu", i);
            cr_assert_eq(g->spread, w->spread, "row %zu", i);
            cr_assert_eq(g->bq_null, w->bq_null, "row %zu", i);
            if (!w->bq_null)
                cr_assert_eq(g->bq, w->bq, "row %zu", i);
            cr_assert_eq(g->sq, w->sq, "row %zu", i);
        } else {
            cr_assert_eq(g->o, w->o, "row %zu: open %g vs %g", i, g->o, w->o);
            cr_assert_eq(g->h, w->h, "row %zu", i);
            cr_assert_eq(g->l, w->l, "row %zu", i);
            cr_assert_eq(g->c, w->c, "row %zu", i);
            cr_assert_eq(g->vol, w->vol, "row %zu", i);
            cr_assert_eq(g->first, w->first, "row %zu", i);
            cr_assert_eq(g->last, w->last, "row %zu", i);
        }
    }
}

static void compare_case(const char *interval, int per_symbol, int quotes, uint32_t threads)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dpath);
    cr_assert_eq(system(cmd), 0);
    rows rs = {0};
    if (access(tpath, F_OK) != 0) {
        create_src(1);
        make_src(&rs);
    } else {
        cr_assert_fail("source exists");
    }
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    tl_error err = {0};
    cr_assert_eq(tl_resample_parse_interval(interval, &o.interval_ns, &err), TL_OK, "%s", err.msg);
    o.per = per_symbol ? TL_RESAMPLE_PER_SYMBOL : TL_RESAMPLE_PER_CONTRACT;
    o.kind = quotes ? TL_RESAMPLE_QUOTES : TL_RESAMPLE_BARS;
    o.threads = threads;
    tl_resample_result res;
    run(&o, &res);
    cr_assert_eq(res.created, 1);
    cr_assert_eq(res.rows_in, rs.n);
    size_t nw, ng;
    bar *want = reference(&rs, o.interval_ns, per_symbol, quotes, &nw);
    bar *got = read_dst(per_symbol, quotes, &ng);
    cr_assert(nw >= 4, "reference has %zu rows", nw);
    cr_assert_eq(res.rows_out, nw);
    check_equal(got, ng, want, nw, per_symbol, quotes);
    free(want);
    free(got);
    free(rs.r);
}

Test(resample, bars_1s_per_contract_equal_reference) { compare_case("1s", 0, 0, 2); }
Test(resample, bars_1m_per_contract_equal_reference) { compare_case("1m", 0, 0, 1); }
Test(resample, bars_1d_per_contract_equal_reference) { compare_case("1d", 0, 0, 2); }
Test(resample, bars_1s_per_symbol_equal_reference) { compare_case("1s", 1, 0, 2); }
Test(resample, bars_1m_per_symbol_equal_reference) { compare_case("1m", 1, 0, 2); }
Test(resample, bars_1d_per_symbol_equal_reference) { compare_case("1d", 1, 0, 1); }
Test(resample, quotes_1m_per_contract_equal_reference) { compare_case("1m", 0, 1, 2); }
Test(resample, quotes_5m_per_symbol_equal_reference) { compare_case("5m", 1, 1, 2); }

Test(resample, quote_ties_take_the_earliest_then_sort_order)
{
    create_src(1);
    int64_t t0 = (int64_t)D0 * TL_NS_PER_DAY + OPEN_NS;
    /* same spread 0.1 at t0+2s (PE) and t0+1s (PE): the earlier wins; at
     * t0+1s CE 100 and PE 100 both quote 0.1: per symbol the CE (first in
     * sort order) wins */
    row r[] = {
        {t0 + 2 * TL_NS_PER_S, "AA", D0 + 3, "PE", 100, 1, 1.0, 1.1, 1, 7, 8},
        {t0 + 1 * TL_NS_PER_S, "AA", D0 + 3, "PE", 100, 1, 2.0, 2.1, 1, 5, 6},
        {t0 + 1 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, 1, 3.0, 3.1, 1, 3, -1},
        {t0 + 3 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, 1, 3.0, 3.3, 1, 1, 1},
    };
    append_rows(r, 4);
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    o.interval_ns = 60 * TL_NS_PER_S;
    o.kind = TL_RESAMPLE_QUOTES;
    tl_resample_result res;
    run(&o, &res); /* per contract */
    size_t n;
    bar *g = read_dst(0, 1, &n);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(g[0].type, "CE");
    cr_assert_eq(g[0].q_ts, t0 + TL_NS_PER_S);
    cr_assert_eq(g[0].ticks, 2);
    cr_assert_eq(g[0].bq, 3);
    cr_assert(g[0].sq_null);
    cr_assert_str_eq(g[1].type, "PE");
    cr_assert_eq(g[1].q_ts, t0 + TL_NS_PER_S);
    cr_assert_eq(g[1].bid, 2.0);
    free(g);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dpath);
    cr_assert_eq(system(cmd), 0);
    o.per = TL_RESAMPLE_PER_SYMBOL;
    run(&o, &res);
    g = read_dst(1, 1, &n);
    cr_assert_eq(n, 1);
    cr_assert_eq(g[0].q_ts, t0 + TL_NS_PER_S);
    cr_assert_eq(g[0].bid, 3.0); /* CE 100 sorts before PE 100 */
    cr_assert_eq(g[0].ticks, 4);
    free(g);
}

Test(resample, null_prices_are_skipped_and_bars_align_to_the_epoch)
{
    create_src(1);
    int64_t t0 = (int64_t)D0 * TL_NS_PER_DAY + OPEN_NS;
    row r[] = {
        {t0 + 59 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, NAN, 0, 0, 10, 1, 1},
        {t0 + 60 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, 5.0, 0, 0, 20, 1, 1},
        {t0 + 61 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, NAN, 0, 0, 30, 1, 1},
        {t0 + 119 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, 4.0, 0, 0, 40, 1, 1},
    };
    append_rows(r, 4);
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    o.interval_ns = 60 * TL_NS_PER_S;
    tl_resample_result res;
    run(&o, &res);
    size_t n;
    bar *g = read_dst(0, 0, &n);
    cr_assert_eq(n, 1); /* the first minute held only a null price */
    cr_assert_eq(g[0].bar, t0 + 60 * TL_NS_PER_S);
    cr_assert_eq(g[0].o, 5.0);
    cr_assert_eq(g[0].c, 4.0);
    cr_assert_eq(g[0].l, 4.0);
    cr_assert_eq(g[0].ticks, 2);
    cr_assert_eq(g[0].vol, 60); /* volume of rows with a price only */
    free(g);
}

Test(resample, idempotent_with_app_id_and_appends_otherwise)
{
    rows rs = {0};
    create_src(1);
    make_src(&rs);
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    o.interval_ns = TL_NS_PER_DAY;
    o.append.app_id = "bars-job";
    o.append.app_version = 7;
    tl_resample_result res;
    run(&o, &res);
    cr_assert_eq(res.append.noop, 0);
    uint64_t n1 = res.rows_out;
    cr_assert_eq(n1, 2 * 2 * 3); /* symbols x days x contracts */
    run(&o, &res);
    cr_assert_eq(res.append.noop, 1);
    cr_assert_eq(res.rows_out, 0);
    o.append.app_version = 8;
    run(&o, &res);
    cr_assert_eq(res.append.noop, 0);
    cr_assert_eq(res.created, 0);
    size_t n;
    bar *g = read_dst(0, 0, &n);
    cr_assert_eq(n, 2 * n1);
    free(g);
    free(rs.r);
}

Test(resample, errors_name_the_place)
{
    tl_error err = {0};
    int64_t ns;
    static const char *const bad[] = {"7m", "0s", "1x", "", "m", "25h", "2d", "-1s", "1.5s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(tl_resample_parse_interval(bad[i], &ns, &err), TL_EINVAL, "%s", bad[i]);
        char want[32];
        snprintf(want, sizeof want, "interval '%s'", bad[i]);
        cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
    }
    cr_assert_eq(tl_resample_parse_interval("250ms", &ns, &err), TL_OK);
    cr_assert_eq(ns, 250000000);
    cr_assert_eq(tl_resample_parse_interval("1h", &ns, &err), TL_OK);
    cr_assert_eq(ns, 3600 * TL_NS_PER_S);

    create_src(1);
    row r[] = {{(int64_t)D0 * TL_NS_PER_DAY + OPEN_NS, "AA", D0 + 3, "CE", 100, 1, 1, 1.1, 1, 1, 1}};
    append_rows(r, 1);
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    o.interval_ns = 7 * 60 * TL_NS_PER_S;
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "interval of 420000000000 ns"), "%s", err.msg);
    o.interval_ns = TL_NS_PER_S;
    o.price_col = "nope";
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "price column 'nope' is not a column of the source"),
                       "%s", err.msg);
    o.price_col = "opt_type";
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "price column 'opt_type' is string, expected a number"),
                       "%s", err.msg);
    o.price_col = NULL;
    o.kind = TL_RESAMPLE_QUOTES;
    o.ask_col = "nope2";
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "ask column 'nope2'"), "%s", err.msg);
    /* DST: bars there, quotes asked */
    o.ask_col = NULL;
    o.kind = TL_RESAMPLE_BARS;
    tl_resample_result res;
    run(&o, &res);
    o.kind = TL_RESAMPLE_QUOTES;
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "destination"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "column 'quote_ts' is missing"), "%s", err.msg);
    /* per symbol into a per-contract DST */
    o.kind = TL_RESAMPLE_BARS;
    o.per = TL_RESAMPLE_PER_SYMBOL;
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "destination"), "%s", err.msg);
    /* a source without a sort key ending with the timestamp */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tpath);
    cr_assert_eq(system(cmd), 0);
    create_src(0);
    append_rows(r, 1);
    o.per = TL_RESAMPLE_PER_CONTRACT;
    cr_assert_eq(run_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "sort key must end with its timestamp column 'timestamp'"),
                       "%s", err.msg);
}

Test(resample, per_symbol_interval_count_is_bounded)
{
    create_src(1);
    int64_t t0 = (int64_t)D0 * TL_NS_PER_DAY + OPEN_NS;
    row r[] = {{t0, "AA", D0 + 3, "CE", 100, 1, 1, 1.1, 1, 1, 1},
               {t0 + 3 * 3600 * TL_NS_PER_S, "AA", D0 + 3, "CE", 100, 2, 2, 2.1, 1, 1, 1}};
    append_rows(r, 2);
    tl_resample_opts o;
    memset(&o, 0, sizeof o);
    o.per = TL_RESAMPLE_PER_SYMBOL;
    o.interval_ns = 10 * 1000000; /* 10 ms: 1,080,001 intervals in 3 hours */
    tl_error err = {0};
    cr_assert_eq(run_err(&o, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "resample: partition AA 2025-11-17: 1080001 intervals"),
                       "%s", err.msg);
    o.interval_ns = 20 * 1000000; /* 540,001: fine */
    tl_resample_result res;
    run(&o, &res);
    cr_assert_eq(res.rows_out, 2);
}
