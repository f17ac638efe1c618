/*
 * agg_test.c - aggregates over a scan (engine/src/agg.c): the aggregate
 * list parser, and tl_scan_aggregate on a generated ticks table (several
 * files per partition, nulls in the book columns) against a brute force
 * over tl_reader_open / tl_reader_next: ungrouped and grouped by symbol,
 * day and both, with and without a where clause, 1 and 2 threads giving
 * bit-identical results. Float sums are compared exactly: the brute force
 * adds in the documented order (a block's rows in order, blocks in file
 * order, files in order: spec/SCAN.md 5). Error paths: unknown columns,
 * sums of strings, grouping a table lacks, int64 overflow of a sum.
 */
#include <criterion/criterion.h>

#include "civil_int.h"
#include "ticklake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], tpath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/agg_test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(agg, .init = setup, .fini = teardown);

/* ---- parser ----------------------------------------------------------------- */

Test(agg, parse_list_of_aggregates)
{
    tl_agg_spec *sp = NULL;
    uint32_t n = 0;
    tl_error err = {0};
    cr_assert_eq(tl_agg_parse(" count, SUM(volume),min( price ) ,max(\"we\"\"ird\"), avg(price),"
                              "count(*), count(bp0)",
                              &sp, &n, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(n, 7);
    cr_assert_eq(sp[0].fn, TL_AGG_COUNT);
    cr_assert_null(sp[0].column);
    cr_assert_eq(sp[1].fn, TL_AGG_SUM);
    cr_assert_str_eq(sp[1].column, "volume");
    cr_assert_eq(sp[2].fn, TL_AGG_MIN);
    cr_assert_str_eq(sp[2].column, "price");
    cr_assert_eq(sp[3].fn, TL_AGG_MAX);
    cr_assert_str_eq(sp[3].column, "we\"ird");
    cr_assert_eq(sp[4].fn, TL_AGG_AVG);
    cr_assert_eq(sp[5].fn, TL_AGG_COUNT);
    cr_assert_null(sp[5].column);
    cr_assert_str_eq(sp[6].column, "bp0");
    tl_agg_specs_free(sp, n);
}

Test(agg, parse_errors_name_the_position)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"", "at 0 (`end of text`): expected count, sum"},
        {"count,", "at 6 (`end of text`): expected count"},
        {"median(price)", "at 0 (`median(price)`): expected count, sum"},
        {"sum", "at 3 (`end of text`): expected '(' and a column"},
        {"sum(*)", "at 4 (`*)`): only count takes *"},
        {"sum(price", "at 9 (`end of text`): expected ')'"},
        {"sum(1x)", "at 4 (`1x)`): expected a column name or *"},
        {"count sum(x)", "at 6 (`sum(x)`): expected ',' or the end"},
        {"max(\"abc)", "at 4 (`\"abc)`): unterminated quoted column name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_agg_spec *sp = (tl_agg_spec *)1;
        uint32_t n = 7;
        tl_error err = {0};
        cr_assert_eq(tl_agg_parse(cases[i].text, &sp, &n, &err), TL_EINVAL, "%s", cases[i].text);
        cr_assert_null(sp);
        cr_assert_eq(n, 0);
        cr_assert_not_null(strstr(err.msg, cases[i].want), "`%s`: %s", cases[i].text, err.msg);
        cr_assert(strncmp(err.msg, "aggregates: ", 12) == 0);
    }
}

/* ---- a generated table ------------------------------------------------------- */

static tl_table *make_ticks(uint64_t rows_per_day, uint32_t days)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    /* two appends (several files per partition), small files */
    for (int rep = 0; rep < 2; rep++) {
        tl_gen_opts o;
        tl_gen_opts_default(&o);
        o.seed = 7 + (uint64_t)rep;
        o.days = days;
        o.rows_per_day = rows_per_day;
        tl_append_opts ao = {.segment_rows = 9000, .threads = 2};
        tl_append *a = NULL;
        cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
        tl_gen *g = NULL;
        cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
        for (;;) {
            tl_batch b;
            int done = 0;
            cr_assert_eq(tl_gen_next(g, 5000, &b, &done, &err), TL_OK, "%s", err.msg);
            if (done)
                break;
            cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
        }
        tl_gen_close(g);
        cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    }
    return t;
}

/* The brute force: aggregates of the ticks table (specs fixed below) per
 * group, summing floats in the documented order. */
#define MAXG 64
typedef struct bgroup {
    char sym[40];
    int32_t day;
    uint64_t count, cnt_bp0, n_price, n_bp0, n_qty;
    __int128 sum_volume, sum_qty;
    double sum_bp0, sum_price;         /* totals */
    double u_bp0, u_price;             /* current file */
    double b_bp0, b_price;             /* current block */
    double min_price, max_price;
    float max_strike;
    int64_t max_ts;
    int32_t min_expiry;
    char min_opt[8];
} bgroup;

typedef struct brute {
    bgroup g[MAXG];
    int n;
} brute;

static const char *const AGGS =
    "count, count(bp0), sum(volume), sum(qty), min(price), max(price), avg(price), sum(bp0), "
    "avg(qty), min(opt_type), max(strike), max(timestamp), min(expiry), sum(price)";

static int col_of(const tl_batch *b, const char *name)
{
    for (uint32_t i = 0; i < b->n_cols; i++)
        if (strcmp(b->defs[i].name, name) == 0)
            return (int)i;
    cr_assert_fail("no column %s", name);
    return -1;
}

static int find_bg(brute *B, const char *sym, int32_t day)
{
    for (int i = 0; i < B->n; i++)
        if (strcmp(B->g[i].sym, sym) == 0 && B->g[i].day == day)
            return i;
    cr_assert_lt(B->n, MAXG);
    bgroup *g = &B->g[B->n];
    memset(g, 0, sizeof *g);
    snprintf(g->sym, sizeof g->sym, "%s", sym);
    g->day = day;
    g->min_price = INFINITY;
    g->max_price = -INFINITY;
    g->max_strike = -INFINITY;
    g->max_ts = INT64_MIN;
    g->min_expiry = INT32_MAX;
    g->min_opt[0] = 0x7f;
    return B->n++;
}

/* with_where: opt_type = 'CE' AND bp0 > 100 AND strike BETWEEN 45000 AND 60000 */
static void brute_force(tl_table *t, int group, int with_where, brute *B)
{
    memset(B, 0, sizeof *B);
    tl_error err = {0};
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    size_t nf = tl_snapshot_n_files(s);
    tl_reader *r = NULL;
    cr_assert_eq(tl_reader_open(s, NULL, NULL, 0, &r, &err), TL_OK, "%s", err.msg);
    size_t file = 0;
    uint64_t left_in_file = 0;
    int touched[MAXG];
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        if (left_in_file == 0) { /* a new file (unit) starts */
            for (int i = 0; i < B->n; i++) {
                B->g[i].sum_bp0 += B->g[i].u_bp0;
                B->g[i].sum_price += B->g[i].u_price;
                B->g[i].u_bp0 = B->g[i].u_price = 0.0;
            }
            cr_assert_lt(file, nf);
            tl_file_info fi;
            tl_snapshot_file(s, file++, &fi);
            left_in_file = fi.n_rows;
        }
        cr_assert_leq(b.n_rows, left_in_file, "a batch spans two files");
        left_in_file -= b.n_rows;
        const tl_colvec *c = b.cols;
        int ts = col_of(&b, "timestamp"), sy = col_of(&b, "symbol"), ex = col_of(&b, "expiry"),
            ot = col_of(&b, "opt_type"), st = col_of(&b, "strike"), pr = col_of(&b, "price"),
            vo = col_of(&b, "volume"), qt = col_of(&b, "qty"), bp = col_of(&b, "bp0");
        memset(touched, 0, sizeof touched);
        for (int i = 0; i < B->n; i++)
            B->g[i].b_bp0 = B->g[i].b_price = 0.0;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            const char *sym = (const char *)c[sy].data + c[sy].offsets[i];
            uint32_t sl = c[sy].offsets[i + 1] - c[sy].offsets[i];
            const char *opt = (const char *)c[ot].data + c[ot].offsets[i];
            uint32_t ol = c[ot].offsets[i + 1] - c[ot].offsets[i];
            float strike = ((const float *)c[st].values)[i];
            int bp_valid = tl_bit_get(c[bp].validity, i);
            double bp0 = ((const double *)c[bp].values)[i];
            if (with_where && !(ol == 2 && memcmp(opt, "CE", 2) == 0 && bp_valid && bp0 > 100 &&
                                (double)strike >= 45000 && (double)strike <= 60000))
                continue;
            int64_t tsv = ((const int64_t *)c[ts].values)[i], tod;
            char key[40] = "";
            if (group & TL_GROUP_SYMBOL)
                snprintf(key, sizeof key, "%.*s", (int)sl, sym);
            int32_t day = (group & TL_GROUP_DAY) ? (int32_t)tl_day_of_ns(tsv, &tod) : 0;
            int gi = find_bg(B, key, day);
            bgroup *g = &B->g[gi];
            touched[gi] = 1;
            double price = ((const double *)c[pr].values)[i];
            g->count++;
            g->n_price++;
            g->b_price += price;
            if (price < g->min_price) g->min_price = price;
            if (price > g->max_price) g->max_price = price;
            g->sum_volume += ((const int64_t *)c[vo].values)[i];
            g->sum_qty += ((const int32_t *)c[qt].values)[i];
            g->n_qty++;
            if (bp_valid) {
                g->cnt_bp0++;
                g->n_bp0++;
                g->b_bp0 += bp0;
            }
            char o3[8];
            snprintf(o3, sizeof o3, "%.*s", (int)ol, opt);
            if (strcmp(o3, g->min_opt) < 0) snprintf(g->min_opt, sizeof g->min_opt, "%s", o3);
            if (strike > g->max_strike) g->max_strike = strike;
            if (tsv > g->max_ts) g->max_ts = tsv;
            int32_t e = ((const int32_t *)c[ex].values)[i];
            if (e < g->min_expiry) g->min_expiry = e;
        }
        for (int i = 0; i < B->n; i++) {
            B->g[i].u_bp0 += B->g[i].b_bp0;
            B->g[i].u_price += B->g[i].b_price;
        }
    }
    for (int i = 0; i < B->n; i++) {
        B->g[i].sum_bp0 += B->g[i].u_bp0;
        B->g[i].sum_price += B->g[i].u_price;
    }
    cr_assert_eq(left_in_file, 0);
    tl_reader_close(r);
    tl_snapshot_close(s);
}

static int cmp_bg(const void *a, const void *b)
{
    const bgroup *x = a, *y = b;
    int c = strcmp(x->sym, y->sym);
    return c ? c : (x->day > y->day) - (x->day < y->day);
}

static void run_agg(tl_table *t, int group, const char *where, uint32_t threads, tl_agg_result *res)
{
    tl_error err = {0};
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_agg_spec *sp = NULL;
    uint32_t n = 0;
    cr_assert_eq(tl_agg_parse(AGGS, &sp, &n, &err), TL_OK, "%s", err.msg);
    tl_scan_opts o = {.where = where, .threads = threads};
    cr_assert_eq(tl_scan_aggregate(s, &o, sp, n, group, res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res->n_specs, n);
    tl_agg_specs_free(sp, n);
    tl_snapshot_close(s);
}

static void same_bits(double a, double b, const char *what, size_t row)
{
    cr_assert(memcmp(&a, &b, sizeof a) == 0, "%s row %zu: %.17g vs %.17g", what, row, a, b);
}

static void check_against_brute(const tl_agg_result *res, brute *B, int group)
{
    qsort(B->g, (size_t)B->n, sizeof(bgroup), cmp_bg);
    if (group == 0 && B->n == 0) { /* one row without keys, count 0 */
        cr_assert_eq(res->n_rows, 1);
        cr_assert_eq(res->rows[0].values[0].i, 0);
        cr_assert(res->rows[0].values[2].is_null);
        return;
    }
    cr_assert_eq(res->n_rows, (size_t)B->n, "groups: %zu vs %d", res->n_rows, B->n);
    for (size_t i = 0; i < res->n_rows; i++) {
        const tl_agg_row *r = &res->rows[i];
        const bgroup *g = &B->g[i];
        cr_assert_eq(r->has_symbol, !!(group & TL_GROUP_SYMBOL));
        cr_assert_eq(r->has_day, !!(group & TL_GROUP_DAY));
        if (r->has_symbol) {
            cr_assert_not(r->symbol_null);
            cr_assert_str_eq(r->symbol, g->sym);
        }
        if (r->has_day)
            cr_assert_eq(r->day, g->day);
        const tl_agg_value *v = r->values;
        cr_assert_eq(v[0].type, TL_INT64);
        cr_assert_eq(v[0].i, (int64_t)g->count, "row %zu count", i);
        cr_assert_eq(v[1].i, (int64_t)g->cnt_bp0);
        cr_assert_eq(v[2].type, TL_INT64);
        cr_assert_eq(v[2].i, (int64_t)g->sum_volume);
        cr_assert_eq(v[3].i, (int64_t)g->sum_qty);
        cr_assert_eq(v[4].type, TL_FLOAT64);
        same_bits(v[4].f, g->min_price, "min(price)", i);
        same_bits(v[5].f, g->max_price, "max(price)", i);
        cr_assert_eq(v[6].type, TL_FLOAT64);
        same_bits(v[6].f, g->sum_price / (double)g->n_price, "avg(price)", i);
        same_bits(v[7].f, g->sum_bp0, "sum(bp0)", i);
        same_bits(v[8].f, (double)g->sum_qty / (double)g->n_qty, "avg(qty)", i);
        cr_assert_eq(v[9].type, TL_STRING);
        cr_assert_str_eq(v[9].s, g->min_opt);
        cr_assert_eq(v[10].type, TL_FLOAT32);
        same_bits(v[10].f, (double)g->max_strike, "max(strike)", i);
        cr_assert_eq(v[11].type, TL_TIMESTAMP);
        cr_assert_eq(v[11].i, g->max_ts);
        cr_assert_eq(v[12].type, TL_DATE);
        cr_assert_eq(v[12].i, g->min_expiry);
        same_bits(v[13].f, g->sum_price, "sum(price)", i);
        for (int k = 0; k < 14; k++)
            cr_assert_not(v[k].is_null);
    }
}

static void same_results(const tl_agg_result *a, const tl_agg_result *b)
{
    cr_assert_eq(a->n_rows, b->n_rows);
    for (size_t i = 0; i < a->n_rows; i++) {
        const tl_agg_row *x = &a->rows[i], *y = &b->rows[i];
        cr_assert_eq(x->day, y->day);
        cr_assert_eq(x->symbol_null, y->symbol_null);
        if (x->symbol || y->symbol)
            cr_assert_str_eq(x->symbol, y->symbol);
        for (uint32_t k = 0; k < a->n_specs; k++) {
            const tl_agg_value *p = &x->values[k], *q = &y->values[k];
            cr_assert_eq(p->is_null, q->is_null);
            cr_assert_eq(p->type, q->type);
            cr_assert_eq(p->i, q->i);
            cr_assert_eq(p->u, q->u);
            same_bits(p->f, q->f, "value", i);
            if (p->s || q->s)
                cr_assert_str_eq(p->s, q->s);
        }
    }
}

/* SCAN-A1 .. SCAN-A5, SCAN-A8, SCAN-A9 */
Test(agg, matches_brute_force_grouped_and_not_threads_1_and_2, .timeout = 120)
{
    tl_table *t = make_ticks(20000, 2);
    static const char *const W = "opt_type = 'CE' AND bp0 > 100 AND strike BETWEEN 45000 AND 60000";
    for (int group = 0; group <= 3; group++) {
        for (int w = 0; w < 2; w++) {
            brute *B = malloc(sizeof *B);
            cr_assert_not_null(B);
            brute_force(t, group, w, B);
            tl_agg_result r1, r2;
            run_agg(t, group, w ? W : NULL, 1, &r1);
            run_agg(t, group, w ? W : NULL, 2, &r2);
            check_against_brute(&r1, B, group);
            same_results(&r1, &r2);
            if (w == 0)
                cr_assert_eq(r1.scan.rows_selected, r1.scan.rows_total);
            tl_agg_result_free(&r1);
            tl_agg_result_free(&r2);
            free(B);
        }
    }
    tl_table_close(t);
}

/* SCAN-A1, SCAN-A2, SCAN-A8 */
Test(agg, count_only_and_empty_selection)
{
    tl_table *t = make_ticks(3000, 1);
    tl_error err = {0};
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_agg_spec count = {TL_AGG_COUNT, NULL};
    tl_scan_opts o = {.threads = 2};
    tl_agg_result r;
    cr_assert_eq(tl_scan_aggregate(s, &o, &count, 1, 0, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_rows, 1);
    cr_assert_eq(r.rows[0].values[0].i, 12000); /* 2 appends x 2 symbols x 3000 */
    cr_assert_not(r.rows[0].has_symbol);
    tl_agg_result_free(&r);
    /* a where clause that selects nothing: one row, count 0, the rest null */
    tl_agg_spec sp[3] = {{TL_AGG_COUNT, NULL}, {TL_AGG_SUM, "volume"}, {TL_AGG_MIN, "symbol"}};
    o.where = "price < 0";
    cr_assert_eq(tl_scan_aggregate(s, &o, sp, 3, 0, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_rows, 1);
    cr_assert_eq(r.rows[0].values[0].i, 0);
    cr_assert(r.rows[0].values[1].is_null);
    cr_assert(r.rows[0].values[2].is_null);
    cr_assert_null(r.rows[0].values[2].s);
    tl_agg_result_free(&r);
    /* grouped: no groups at all */
    cr_assert_eq(tl_scan_aggregate(s, &o, sp, 3, TL_GROUP_SYMBOL, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_rows, 0);
    tl_agg_result_free(&r);
    tl_agg_result_free(NULL);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* SCAN-A6 */
Test(agg, errors_name_the_column)
{
    tl_table *t = make_ticks(1000, 1);
    tl_error err = {0};
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_scan_opts o = {0};
    tl_agg_result r;
    static const struct {
        tl_agg_spec sp;
        const char *want;
    } cases[] = {
        {{TL_AGG_SUM, "symbol"}, "sum(symbol): symbol is string, not a number"},
        {{TL_AGG_AVG, "timestamp"}, "avg(timestamp): timestamp is timestamp, not a number"},
        {{TL_AGG_MIN, "nope"}, "no column named `nope`"},
        {{TL_AGG_SUM, NULL}, "aggregate 0 needs a column"},
        {{99, "price"}, "unknown function 99"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(tl_scan_aggregate(s, &o, &cases[i].sp, 1, 0, &r, &err), TL_EINVAL);
        cr_assert_not_null(strstr(err.msg, cases[i].want), "%s", err.msg);
        cr_assert_eq(r.n_rows, 0);
    }
    tl_agg_spec c = {TL_AGG_COUNT, NULL};
    cr_assert_eq(tl_scan_aggregate(s, &o, &c, 1, 4, &r, &err), TL_EINVAL);
    o.where = "price >";
    cr_assert_eq(tl_scan_aggregate(s, &o, &c, 1, 0, &r, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "expected a literal"), "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* SCAN-A3, SCAN-A7 */
Test(agg, int64_overflow_and_missing_grouping_columns)
{
    static const tl_field f[] = {{"k", TL_INT64, 0}, {"x", TL_UINT64, 1}, {"ts", TL_TIMESTAMP, 0}};
    tl_table_spec spec = {.fields = f, .n_fields = 3};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    int64_t k[3] = {INT64_MAX, INT64_MAX, -INT64_MAX};
    uint64_t x[3] = {UINT64_MAX, 5, 7};
    int64_t ts[3] = {0, 1, 2};
    uint8_t xv = 0x3; /* row 2 null */
    tl_coldef defs[3] = {{"k", TL_INT64}, {"x", TL_UINT64}, {"ts", TL_TIMESTAMP}};
    tl_colvec cols[3] = {{.values = k}, {.values = x, .validity = &xv}, {.values = ts}};
    tl_batch b = {.n_rows = 3, .n_cols = 3, .defs = defs, .cols = cols};
    tl_append *a = NULL;
    tl_append_opts ao = {0};
    cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_scan_opts o = {0};
    tl_agg_result r;
    /* INT64_MAX + INT64_MAX - INT64_MAX fits in the end: exact */
    tl_agg_spec sk[4] = {{TL_AGG_SUM, "k"}, {TL_AGG_AVG, "k"}, {TL_AGG_MAX, "x"}, {TL_AGG_COUNT, "x"}};
    cr_assert_eq(tl_scan_aggregate(s, &o, sk, 4, 0, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.rows[0].values[0].i, INT64_MAX);
    cr_assert_eq(r.rows[0].values[1].f, (double)INT64_MAX / 3.0);
    cr_assert_eq(r.rows[0].values[2].type, TL_UINT64);
    cr_assert_eq(r.rows[0].values[2].u, UINT64_MAX);
    cr_assert_eq(r.rows[0].values[3].i, 2); /* count(x): non-null */
    tl_agg_result_free(&r);
    o.where = "k > 0";
    cr_assert_eq(tl_scan_aggregate(s, &o, sk, 1, 0, &r, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "sum(k)"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "does not fit int64"), "%s", err.msg);
    tl_agg_spec sx = {TL_AGG_SUM, "x"};
    o.where = NULL;
    cr_assert_eq(tl_scan_aggregate(s, &o, &sx, 1, 0, &r, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "sum(x)"), "%s", err.msg);
    /* the table has neither a symbol column nor a day column */
    cr_assert_eq(tl_scan_aggregate(s, &o, sk, 1, TL_GROUP_SYMBOL, &r, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "no column named `symbol`"), "%s", err.msg);
    cr_assert_eq(tl_scan_aggregate(s, &o, sk, 1, TL_GROUP_DAY, &r, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "no day column"), "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* A table partitioned by day only, with a nullable string column named
 * symbol: grouping by symbol reads it per row (null group first), grouping
 * by day takes the partition's day. */
/* SCAN-A7, SCAN-A8 */
Test(agg, groups_by_a_symbol_column_and_the_day_partition)
{
    static const tl_field f[] = {{"symbol", TL_STRING, 1}, {"ts", TL_TIMESTAMP, 0}, {"x", TL_FLOAT64, 1}};
    tl_table_spec spec = {.fields = f, .n_fields = 3, .day_column = "ts"};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    const int64_t D0 = INT64_C(20409) * 86400 * 1000000000, D1 = D0 + INT64_C(86400) * 1000000000;
    /* symbols B A - A B B - A B A (- null) */
    const char *syms = "BAABBAB" "A";
    uint32_t off[11] = {0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8};
    uint8_t sv[2] = {0xBB, 0x03}; /* rows 2 and 6 null */
    int64_t ts[10] = {D0, D0 + 5, D0 + 9, D1, D1 + 1, D0 + 7, D1 + 2, D0 + 1, D1 + 3, D1 + 4};
    double x[10] = {1.0, 2.0, 3.0, 0, 0.5, -1.0, 4.0, 8.0, 16.0, 32.0};
    uint8_t xv[2] = {0xF7, 0x03}; /* row 3 null */
    tl_coldef defs[3] = {{"symbol", TL_STRING}, {"ts", TL_TIMESTAMP}, {"x", TL_FLOAT64}};
    tl_colvec cols[3] = {{.offsets = off, .data = (const uint8_t *)syms, .validity = sv},
                         {.values = ts},
                         {.values = x, .validity = xv}};
    tl_batch b = {.n_rows = 10, .n_cols = 3, .defs = defs, .cols = cols};
    tl_append_opts ao = {0};
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_agg_spec sp[5] = {{TL_AGG_COUNT, NULL}, {TL_AGG_SUM, "x"}, {TL_AGG_MIN, "x"},
                         {TL_AGG_COUNT, "x"}, {TL_AGG_MAX, "symbol"}};
    static const struct {
        int group;
        size_t n;
        struct {
            const char *sym; /* NULL: the null group */
            int32_t day;
            int64_t count, count_x;
            double sum, min;
        } rows[6];
    } cases[] = {
        {TL_GROUP_SYMBOL, 3, {{NULL, 0, 2, 2, 7, 3}, {"A", 0, 4, 3, 42, 2}, {"B", 0, 4, 4, 16.5, -1}}},
        {TL_GROUP_DAY, 2, {{"", 20409, 5, 5, 13, -1}, {"", 20410, 5, 4, 52.5, 0.5}}},
        {TL_GROUP_SYMBOL | TL_GROUP_DAY, 6,
         {{NULL, 20409, 1, 1, 3, 3}, {NULL, 20410, 1, 1, 4, 4}, {"A", 20409, 2, 2, 10, 2},
          {"A", 20410, 2, 1, 32, 32}, {"B", 20409, 2, 2, 0, -1}, {"B", 20410, 2, 2, 16.5, 0.5}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (uint32_t th = 1; th <= 2; th++) {
            tl_scan_opts o = {.threads = th};
            tl_agg_result r;
            cr_assert_eq(tl_scan_aggregate(s, &o, sp, 5, cases[c].group, &r, &err), TL_OK, "%s",
                         err.msg);
            cr_assert_eq(r.n_rows, cases[c].n, "case %zu: %zu rows", c, r.n_rows);
            for (size_t i = 0; i < r.n_rows; i++) {
                const tl_agg_row *row = &r.rows[i];
                if (cases[c].group & TL_GROUP_SYMBOL) {
                    cr_assert(row->has_symbol);
                    cr_assert_eq(row->symbol_null, cases[c].rows[i].sym == NULL, "case %zu row %zu", c, i);
                    if (cases[c].rows[i].sym)
                        cr_assert_str_eq(row->symbol, cases[c].rows[i].sym);
                    else
                        cr_assert_null(row->symbol);
                }
                if (cases[c].group & TL_GROUP_DAY) {
                    cr_assert(row->has_day);
                    cr_assert_not(row->day_null);
                    cr_assert_eq(row->day, cases[c].rows[i].day);
                }
                cr_assert_eq(row->values[0].i, cases[c].rows[i].count, "case %zu row %zu", c, i);
                cr_assert_eq(row->values[1].f, cases[c].rows[i].sum, "case %zu row %zu", c, i);
                cr_assert_eq(row->values[2].f, cases[c].rows[i].min, "case %zu row %zu", c, i);
                cr_assert_eq(row->values[3].i, cases[c].rows[i].count_x, "case %zu row %zu", c, i);
                if (cases[c].rows[i].sym && cases[c].rows[i].sym[0])
                    cr_assert_str_eq(row->values[4].s, cases[c].rows[i].sym);
                if (cases[c].rows[i].sym == NULL && (cases[c].group & TL_GROUP_SYMBOL))
                    cr_assert(row->values[4].is_null); /* max of nulls only */
            }
            tl_agg_result_free(&r);
        }
    }
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* SCAN-A9: an ordered scan (one unit per partition, merged) gives the same
 * counts and integer sums, and bit-identical results for 1 and 2 threads. */
Test(agg, ordered_scan_same_exact_values_any_thread_count)
{
    tl_table *t = make_ticks(4000, 2);
    tl_error err = {0};
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_agg_spec *sp = NULL;
    uint32_t n = 0;
    cr_assert_eq(tl_agg_parse(AGGS, &sp, &n, &err), TL_OK, "%s", err.msg);
    tl_agg_result r[3];
    for (int k = 0; k < 3; k++) {
        tl_scan_opts o = {.threads = k == 2 ? 2 : 1, .ordered = k > 0,
                          .where = "strike >= 45000 AND sp0 IS NOT NULL"};
        cr_assert_eq(tl_scan_aggregate(s, &o, sp, n, TL_GROUP_SYMBOL | TL_GROUP_DAY, &r[k], &err),
                     TL_OK, "%s", err.msg);
    }
    same_results(&r[1], &r[2]);
    cr_assert_eq(r[0].n_rows, r[1].n_rows);
    for (size_t i = 0; i < r[0].n_rows; i++)
        for (uint32_t k = 0; k < n; k++)
            if (r[0].rows[i].values[k].type != TL_FLOAT64) { /* exact aggregates */
                const tl_agg_value *a = &r[0].rows[i].values[k], *b = &r[1].rows[i].values[k];
                cr_assert_eq(a->i, b->i);
                cr_assert_eq(a->u, b->u);
                same_bits(a->f, b->f, "exact value", i);
                if (a->s || b->s)
                    cr_assert_str_eq(a->s, b->s);
            }
    for (int k = 0; k < 3; k++)
        tl_agg_result_free(&r[k]);
    tl_agg_specs_free(sp, n);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* timestamp_us: count, min and max (in µs, type timestamp_us, far years
 * included, with and without --where on it); sum and avg are refused. A
 * timestamp_us column cannot be the day partition column. */
Test(agg, timestamp_us_min_max_count)
{
    static const tl_field f[] = {{"tu", TL_TIMESTAMP_US, 1}};
    tl_table_spec spec = {.fields = f, .n_fields = 1};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    int64_t tu[4] = {INT64_C(1704141296123456), INT64_C(9089380393200000000), 0,
                     INT64_C(-62198755200000000)};
    uint8_t valid = 0x0b; /* row 2 null */
    tl_coldef defs[1] = {{"tu", TL_TIMESTAMP_US}};
    tl_colvec cols[1] = {{.values = tu, .validity = &valid}};
    tl_batch b = {.n_rows = 4, .n_cols = 1, .defs = defs, .cols = cols};
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_scan_opts o = {0};
    tl_agg_result r;
    tl_agg_spec sp[3] = {{TL_AGG_COUNT, "tu"}, {TL_AGG_MIN, "tu"}, {TL_AGG_MAX, "tu"}};
    cr_assert_eq(tl_scan_aggregate(s, &o, sp, 3, 0, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.rows[0].values[0].i, 3);
    cr_assert_eq(r.rows[0].values[1].type, TL_TIMESTAMP_US);
    cr_assert_eq(r.rows[0].values[1].i, tu[3]);
    cr_assert_eq(r.rows[0].values[2].i, tu[1]);
    tl_agg_result_free(&r);
    o.where = "tu > '2024-01-01' AND tu < '10000-01-01'";
    cr_assert_eq(tl_scan_aggregate(s, &o, sp, 3, 0, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.rows[0].values[0].i, 1);
    cr_assert_eq(r.rows[0].values[1].i, tu[0]);
    cr_assert_eq(r.rows[0].values[2].i, tu[0]);
    tl_agg_result_free(&r);
    o.where = NULL;
    tl_agg_spec bad[2] = {{TL_AGG_SUM, "tu"}, {TL_AGG_AVG, "tu"}};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(tl_scan_aggregate(s, &o, &bad[i], 1, 0, &r, &err), TL_EINVAL);
        cr_assert_not_null(strstr(err.msg, "tu is timestamp_us, not a number"), "%s", err.msg);
    }
    tl_snapshot_close(s);
    tl_table_close(t);
    /* not a day partition column */
    char p2[400];
    snprintf(p2, sizeof p2, "%s2", tpath);
    static const tl_field f2[] = {{"tu", TL_TIMESTAMP_US, 0}};
    tl_table_spec s2 = {.fields = f2, .n_fields = 1, .day_column = "tu"};
    cr_assert_eq(tl_table_create(p2, &s2, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "day partition column 'tu' is timestamp_us, expected "
                                       "timestamp"), "%s", err.msg);
}
