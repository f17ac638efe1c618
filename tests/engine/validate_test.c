/*
 * validate_test.c - tl_table_validate (engine/src/validate.c,
 * spec/QUALITY.md): a small options table (2 symbols x 5 weekdays, two
 * contracts ticking every 10 s through the session, prices on a gentle
 * walk) is clean; the same table with one defect of each kind (a missing
 * day, a 610 s gap, bid > ask, a negative ask, a negative volume, a price
 * spike, a duplicate key in a later commit, nulls, a tick after the
 * session, a Saturday) has each found with the right count and example; a
 * holiday calendar changes what is expected; incremental runs check only
 * partitions with new files (state file and --since-version); 1 and 2
 * threads give the same report; the findings table; error paths.
 */
#include <criterion/criterion.h>

#include <errno.h>

#include "civil_int.h"
#include "io_int.h"
#include "table_int.h"
#include "ticklake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], tpath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/validate_test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(validate, .init = setup, .fini = teardown);

/* ---- the test table ------------------------------------------------------------ */

static const tl_field fields[] = {
    {"timestamp", TL_TIMESTAMP, 0}, {"symbol", TL_STRING, 0}, {"expiry", TL_DATE, 0},
    {"opt_type", TL_STRING, 0},     {"strike", TL_FLOAT32, 0}, {"price", TL_FLOAT64, 1},
    {"volume", TL_INT64, 0},        {"bp0", TL_FLOAT64, 1},    {"sp0", TL_FLOAT64, 1}};
#define NF 9

typedef struct row {
    int64_t ts;
    const char *sym;
    int32_t expiry;
    const char *type;
    float strike;
    double price; /* NAN = null */
    int64_t vol;
    double bid, ask; /* NAN = null */
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

#define D_MON ((int32_t)tl_days_from_civil(2025, 11, 17))
#define SESSION_OPEN (INT64_C(13500) * TL_NS_PER_S)  /* 03:45 */
#define SESSION_CLOSE (INT64_C(36000) * TL_NS_PER_S) /* 10:00 */
#define STEP (INT64_C(10) * TL_NS_PER_S)
#define TICKS_PER_DAY 2250 /* (10:00 - 03:45) / 10 s */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* Every tick of symbol sym on day (both contracts), prices on a walk of
 * 0 / +-0.05 / +-0.10 steps. */
static void day_rows(rows *rs, const char *sym, int32_t day, uint64_t seed)
{
    static const char *const types[2] = {"CE", "PE"};
    for (int c = 0; c < 2; c++) {
        uint64_t s = seed * 31 + (uint64_t)day * 7 + (uint64_t)c;
        double price = 100.0 + c;
        for (int k = 0; k < TICKS_PER_DAY; k++) {
            int64_t ts = (int64_t)day * TL_NS_PER_DAY + SESSION_OPEN + k * STEP;
            int step = (int)(lcg(&s) % 5) - 2;
            price = round((price + step * 0.05) * 100) / 100;
            row r = {ts, sym, day + 3, types[c], 100.0f, price, 1000 + k, price - 0.05,
                     price + 0.05};
            push(rs, r);
        }
    }
}

static void append_rows(const rows *rs)
{
    uint32_t n = (uint32_t)rs->n;
    int64_t *ts = calloc(n + 1, 8), *vol = calloc(n + 1, 8);
    int32_t *exp = calloc(n + 1, 4);
    float *strike = calloc(n + 1, 4);
    double *price = calloc(n + 1, 8), *bid = calloc(n + 1, 8), *ask = calloc(n + 1, 8);
    uint32_t *so = calloc(n + 1, 4), *to = calloc(n + 1, 4);
    char *sd = calloc((size_t)n * 16 + 1, 1), *td = calloc((size_t)n * 2 + 1, 1);
    uint8_t *pv = calloc(n / 8 + 1, 1), *bv = calloc(n / 8 + 1, 1), *av = calloc(n / 8 + 1, 1);
    size_t sl = 0;
    for (uint32_t i = 0; i < n; i++) {
        const row *r = &rs->r[i];
        ts[i] = r->ts;
        vol[i] = r->vol;
        exp[i] = r->expiry;
        strike[i] = r->strike;
        size_t l = strlen(r->sym);
        memcpy(sd + sl, r->sym, l);
        sl += l;
        so[i + 1] = (uint32_t)sl;
        memcpy(td + 2 * i, r->type, 2);
        to[i + 1] = 2 * (i + 1);
        price[i] = isnan(r->price) ? 0 : r->price;
        bid[i] = isnan(r->bid) ? 0 : r->bid;
        ask[i] = isnan(r->ask) ? 0 : r->ask;
        tl_bit_set(pv, i, !isnan(r->price));
        tl_bit_set(bv, i, !isnan(r->bid));
        tl_bit_set(av, i, !isnan(r->ask));
    }
    tl_coldef defs[NF];
    for (int i = 0; i < NF; i++)
        defs[i] = (tl_coldef){fields[i].name, fields[i].type};
    tl_colvec cols[NF] = {{ts, NULL, NULL, NULL},     {NULL, NULL, so, (uint8_t *)sd},
                          {exp, NULL, NULL, NULL},    {NULL, NULL, to, (uint8_t *)td},
                          {strike, NULL, NULL, NULL}, {price, pv, NULL, NULL},
                          {vol, NULL, NULL, NULL},    {bid, bv, NULL, NULL},
                          {ask, av, NULL, NULL}};
    tl_batch b = {n, NF, defs, cols};
    tl_table *t = NULL;
    tl_append *a = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    free(ts), free(vol), free(exp), free(strike), free(price), free(bid), free(ask);
    free(so), free(to), free(sd), free(td), free(pv), free(bv), free(av);
}

static void create_table(void)
{
    static const char *const sk[] = {"expiry", "opt_type", "strike", "timestamp"};
    tl_table_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.fields = fields;
    spec.n_fields = NF;
    spec.symbol_column = "symbol";
    spec.day_column = "timestamp";
    spec.sort_key = sk;
    spec.n_sort_key = 4;
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
}

/* Clean rows: A and B, Monday .. Friday. */
static void clean_rows(rows *rs)
{
    for (int d = 0; d < 5; d++) {
        day_rows(rs, "A", D_MON + d, 1);
        day_rows(rs, "B", D_MON + d, 2);
    }
}

static row *find_row(rows *rs, const char *sym, int32_t day, const char *type, int k)
{
    int64_t ts = (int64_t)day * TL_NS_PER_DAY + SESSION_OPEN + k * STEP;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->r[i].ts == ts && strcmp(rs->r[i].sym, sym) == 0 &&
            strcmp(rs->r[i].type, type) == 0)
            return &rs->r[i];
    cr_assert_fail("no row %s %d %s %d", sym, day, type, k);
    return NULL;
}

static void opts_default(tl_validate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->has_session = 1;
    o->session_open_ns = SESSION_OPEN;
    o->session_close_ns = SESSION_CLOSE;
    o->gap_ns = 60 * TL_NS_PER_S;
    o->threads = 2;
}

static void run_validate(const tl_validate_opts *o, tl_validate_report *rep)
{
    tl_table *t = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    int rc = tl_table_validate(t, NULL, o, rep, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    tl_table_close(t);
}

static int validate_err(const tl_validate_opts *o, tl_error *err)
{
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, err), TL_OK, "%s", err->msg);
    tl_validate_report rep;
    int rc = tl_table_validate(t, NULL, o, &rep, err);
    tl_table_close(t);
    return rc;
}

/* ---- clean data ---------------------------------------------------------------- */

Test(validate, clean_table_has_no_findings)
{
    create_table();
    rows rs = {0};
    clean_rows(&rs);
    append_rows(&rs);
    tl_validate_opts o;
    opts_default(&o);
    tl_validate_report rep;
    run_validate(&o, &rep);
    cr_assert_eq(rep.rows_checked, rs.n);
    cr_assert_eq(rep.partitions_checked, 10);
    for (int k = 0; k < TL_VCHK_COUNT; k++) {
        cr_assert(rep.checks[k].enabled, "%s: %s", rep.checks[k].name, rep.checks[k].note);
        cr_assert_eq(rep.checks[k].count, 0, "%s: %lu", rep.checks[k].name,
                     (unsigned long)rep.checks[k].count);
    }
    cr_assert_eq(rep.findings, 0);
    cr_assert_eq(rep.n_coverage, 2);
    cr_assert_str_eq(rep.coverage[0].symbol, "A");
    cr_assert_eq(rep.coverage[0].days_expected, 5);
    cr_assert_eq(rep.coverage[0].days_present, 5);
    for (size_t i = 0; i < rep.n_nulls; i++)
        cr_assert_eq(rep.nulls[i].nulls, 0);
    cr_assert_eq(rep.nulls[0].rows, rs.n);
    tl_validate_report_free(&rep);
    free(rs.r);
}

/* ---- defects --------------------------------------------------------------------- */

static void defect_table(rows *rs)
{
    create_table();
    for (int d = 0; d < 5; d++) {
        if (d != 2) /* QUAL-V1: A misses Wednesday */
            day_rows(rs, "A", D_MON + d, 1);
        day_rows(rs, "B", D_MON + d, 2);
    }
    /* a 610 s gap: B Tuesday, no tick from 05:00:00 to 05:10:00 (exclusive) */
    rows keep = {0};
    int64_t g0 = (int64_t)(D_MON + 1) * TL_NS_PER_DAY + 5 * 3600 * TL_NS_PER_S;
    for (size_t i = 0; i < rs->n; i++) {
        row r = rs->r[i];
        if (strcmp(r.sym, "B") == 0 && r.ts >= g0 && r.ts < g0 + 600 * TL_NS_PER_S)
            continue;
        push(&keep, r);
    }
    free(rs->r);
    *rs = keep;
    row *r = find_row(rs, "B", D_MON, "CE", 100); /* bid > ask */
    r->bid = r->price + 1;
    r = find_row(rs, "B", D_MON, "PE", 200); /* negative ask */
    r->ask = -1;
    r = find_row(rs, "A", D_MON + 1, "CE", 300); /* negative volume */
    r->vol = -5;
    r = find_row(rs, "A", D_MON, "PE", 500); /* a spike: two jumps */
    r->price += 50;
    r->bid += 50;
    r->ask += 50;
    for (int k = 0; k < 3; k++) { /* nulls */
        r = find_row(rs, "A", D_MON + 4, "CE", 10 + k);
        r->price = NAN;
    }
    for (int k = 0; k < 4; k++) {
        r = find_row(rs, "B", D_MON + 4, "PE", 20 + k);
        r->bid = NAN;
    }
    /* a tick after the session, at 10:30, price unchanged */
    row late = *find_row(rs, "A", D_MON + 1, "CE", TICKS_PER_DAY - 1);
    late.ts = (int64_t)(D_MON + 1) * TL_NS_PER_DAY + 37800 * TL_NS_PER_S;
    push(rs, late);
    /* a Saturday */
    day_rows(rs, "B", D_MON + 5, 3);
    append_rows(rs);
    /* a duplicate key in a second commit: B Thursday CE tick 400 again */
    rows dup = {0};
    push(&dup, *find_row(rs, "B", D_MON + 3, "CE", 400));
    append_rows(&dup);
    free(dup.r);
}

Test(validate, each_defect_is_found_with_its_count)
{
    rows rs = {0};
    defect_table(&rs);
    tl_validate_opts o;
    opts_default(&o);
    tl_validate_report rep;
    run_validate(&o, &rep);
    const tl_validate_check *ck = rep.checks;
    cr_assert_eq(rep.rows_checked, rs.n + 1);
    /* coverage: QUAL-V1, QUAL-V2 */
    cr_assert_eq(ck[TL_VCHK_MISSING_DAY].count, 1);
    cr_assert_str_eq(ck[TL_VCHK_MISSING_DAY].examples[0].symbol, "A");
    cr_assert_eq(ck[TL_VCHK_MISSING_DAY].examples[0].day, D_MON + 2);
    cr_assert_eq(rep.coverage[0].n_missing, 1);
    cr_assert_eq(rep.coverage[0].missing[0], D_MON + 2);
    cr_assert_eq(rep.coverage[0].days_expected, 5);
    cr_assert_eq(rep.coverage[0].days_present, 4);
    cr_assert_eq(ck[TL_VCHK_EXTRA_DAY].count, 1);
    cr_assert_str_eq(ck[TL_VCHK_EXTRA_DAY].examples[0].symbol, "B");
    cr_assert_eq(ck[TL_VCHK_EXTRA_DAY].examples[0].day, D_MON + 5);
    cr_assert_eq(rep.coverage[1].n_extra, 1);
    /* gap: QUAL-V3 */
    cr_assert_eq(ck[TL_VCHK_GAP].count, 1);
    const tl_validate_example *e = &ck[TL_VCHK_GAP].examples[0];
    cr_assert_str_eq(e->symbol, "B");
    cr_assert_eq(e->day, D_MON + 1);
    cr_assert_eq(e->ts_ns, (int64_t)(D_MON + 1) * TL_NS_PER_DAY + (5 * 3600 - 10) * TL_NS_PER_S);
    cr_assert_eq(e->end_ts_ns, (int64_t)(D_MON + 1) * TL_NS_PER_DAY + (5 * 3600 + 600) * TL_NS_PER_S);
    cr_assert_float_eq(e->value, 610.0, 1e-9);
    /* bid > ask, negative ask, negative volume: QUAL-V5..V7 */
    cr_assert_eq(ck[TL_VCHK_BID_GT_ASK].count, 1);
    e = &ck[TL_VCHK_BID_GT_ASK].examples[0];
    cr_assert_str_eq(e->symbol, "B");
    cr_assert_str_eq(e->contract, "2025-11-20 CE 100");
    cr_assert_eq(e->ts_ns, (int64_t)D_MON * TL_NS_PER_DAY + SESSION_OPEN + 100 * STEP);
    cr_assert_not_null(e->file);
    cr_assert_eq(e->row, 100); /* CE rows come first in the file: tick 100 */
    cr_assert_eq(ck[TL_VCHK_NEG_PRICE].count, 1);
    cr_assert_str_eq(ck[TL_VCHK_NEG_PRICE].examples[0].column, "sp0");
    cr_assert_eq(ck[TL_VCHK_NEG_PRICE].examples[0].value, -1.0);
    cr_assert_eq(ck[TL_VCHK_NEG_VOLUME].count, 1);
    cr_assert_eq(ck[TL_VCHK_NEG_VOLUME].examples[0].value, -5.0);
    cr_assert_str_eq(ck[TL_VCHK_NEG_VOLUME].examples[0].symbol, "A");
    /* the spike: up and back down, QUAL-V8, V9 */
    cr_assert_eq(ck[TL_VCHK_PRICE_JUMP].count, 2);
    e = ck[TL_VCHK_PRICE_JUMP].examples;
    cr_assert_str_eq(e[0].contract, "2025-11-20 PE 100");
    cr_assert_eq(e[0].ts_ns, (int64_t)D_MON * TL_NS_PER_DAY + SESSION_OPEN + 500 * STEP);
    cr_assert(e[0].value > 49.8 && e[0].value < 50.2, "%g", e[0].value);
    cr_assert(e[1].value < -49.8 && e[1].value > -50.2, "%g", e[1].value);
    cr_assert(e[0].value2 > 10);
    /* session: QUAL-V10 */
    cr_assert_eq(ck[TL_VCHK_OUTSIDE_SESSION].count, 1);
    cr_assert_float_eq(ck[TL_VCHK_OUTSIDE_SESSION].examples[0].value, 37800.0, 1e-9);
    /* duplicate key across two commits: a merged partition, QUAL-V11 */
    cr_assert_eq(ck[TL_VCHK_DUP_KEY].count, 1);
    e = &ck[TL_VCHK_DUP_KEY].examples[0];
    cr_assert_str_eq(e->symbol, "B");
    cr_assert_eq(e->day, D_MON + 3);
    cr_assert_str_eq(e->contract, "2025-11-23 CE 100");
    cr_assert_null(e->file);
    cr_assert_eq(e->row, 401); /* partition order: the twin follows tick 400 */
    /* nulls from the footers: QUAL-V12 */
    for (size_t i = 0; i < rep.n_nulls; i++) {
        uint64_t want = strcmp(rep.nulls[i].column, "price") == 0 ? 3
                        : strcmp(rep.nulls[i].column, "bp0") == 0 ? 4 : 0;
        cr_assert_eq(rep.nulls[i].nulls, want, "%s", rep.nulls[i].column);
        cr_assert_eq(rep.nulls[i].rows, rs.n + 1);
    }
    cr_assert_eq(rep.findings, 1 + 1 + 1 + 1 + 1 + 1 + 2 + 1 + 1);
    /* text and JSON print */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tl_error err = {0};
    cr_assert_eq(tl_validate_report_print(&rep, f, 1, &err), TL_OK);
    cr_assert_eq(tl_validate_report_print(&rep, f, 0, &err), TL_OK);
    fclose(f);
    cr_assert_not_null(strstr(buf, "\"duplicate_key\":{\"enabled\":true,\"count\":1"));
    cr_assert_not_null(strstr(buf, "\"missing\":[\"2025-11-19\"]"));
    cr_assert_not_null(strstr(buf, "bid_gt_ask       1"));
    free(buf);
    tl_validate_report_free(&rep);
    free(rs.r);
}

Test(validate, same_report_for_one_and_two_threads)
{
    rows rs = {0};
    defect_table(&rs);
    tl_validate_opts o;
    opts_default(&o);
    tl_validate_report r1, r2;
    o.threads = 1;
    run_validate(&o, &r1);
    o.threads = 2;
    run_validate(&o, &r2);
    char *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    FILE *f1 = open_memstream(&b1, &l1), *f2 = open_memstream(&b2, &l2);
    tl_error err = {0};
    cr_assert_eq(tl_validate_report_print(&r1, f1, 0, &err), TL_OK);
    cr_assert_eq(tl_validate_report_print(&r2, f2, 0, &err), TL_OK);
    fclose(f1);
    fclose(f2);
    cr_assert_str_eq(b1, b2);
    free(b1);
    free(b2);
    tl_validate_report_free(&r1);
    tl_validate_report_free(&r2);
    free(rs.r);
}

Test(validate, gaps_by_seconds_equal_gaps_by_sorting)
{
    /* a threshold of 1 s finds gaps from per-second first/last ticks, one
     * below 1 s by sorting every timestamp (QUAL-V3): with ticks 10 s apart
     * both report every step */
    rows rs = {0};
    defect_table(&rs);
    tl_validate_opts o;
    opts_default(&o);
    o.max_examples = 50;
    tl_validate_report r1, r2;
    o.gap_ns = TL_NS_PER_S;
    run_validate(&o, &r1);
    o.gap_ns = TL_NS_PER_S - 1;
    run_validate(&o, &r2);
    const tl_validate_check *g1 = &r1.checks[TL_VCHK_GAP], *g2 = &r2.checks[TL_VCHK_GAP];
    cr_assert_gt(g1->count, 20000);
    cr_assert_eq(g1->count, g2->count);
    cr_assert_eq(g1->n_examples, g2->n_examples);
    for (uint32_t i = 0; i < g1->n_examples; i++) {
        cr_assert_eq(g1->examples[i].ts_ns, g2->examples[i].ts_ns);
        cr_assert_eq(g1->examples[i].end_ts_ns, g2->examples[i].end_ts_ns);
    }
    cr_assert_float_eq(g1->examples[0].value, 610.0, 1e-9); /* the longest first */
    tl_validate_report_free(&r1);
    tl_validate_report_free(&r2);
    free(rs.r);
}

Test(validate, options_narrow_and_turn_off_checks)
{
    rows rs = {0};
    defect_table(&rs);
    tl_validate_opts o;
    opts_default(&o);
    o.has_session = 0;      /* no session: outside_session off, gaps only between ticks */
    o.jump_sigma = -1;      /* off */
    o.gap_ns = 700 * TL_NS_PER_S; /* the 610 s gap is below */
    static const char *const syms[] = {"B"};
    o.symbols = syms;
    o.n_symbols = 1;
    o.has_days = 1;
    o.day_from = D_MON;
    o.day_to = D_MON + 1;
    tl_validate_report rep;
    run_validate(&o, &rep);
    cr_assert_eq(rep.partitions_checked, 2);
    cr_assert_not(rep.checks[TL_VCHK_OUTSIDE_SESSION].enabled);
    cr_assert_not(rep.checks[TL_VCHK_PRICE_JUMP].enabled);
    cr_assert_eq(rep.checks[TL_VCHK_GAP].count, 0);
    cr_assert_eq(rep.checks[TL_VCHK_BID_GT_ASK].count, 1);
    cr_assert_eq(rep.checks[TL_VCHK_NEG_VOLUME].count, 0); /* that one is A's */
    cr_assert_eq(rep.n_coverage, 1);
    cr_assert_eq(rep.coverage[0].days_expected, 2);
    cr_assert_eq(rep.checks[TL_VCHK_MISSING_DAY].count, 0);
    tl_validate_report_free(&rep);
    free(rs.r);
}

Test(validate, holiday_calendar_changes_the_expected_days)
{
    create_table();
    rows rs = {0};
    clean_rows(&rs);
    append_rows(&rs);
    int32_t hol[] = {D_MON + 3, D_MON + 10}; /* Thursday, and one outside the range */
    tl_validate_opts o;
    opts_default(&o);
    o.holidays = hol;
    o.n_holidays = 2;
    tl_validate_report rep;
    run_validate(&o, &rep);
    cr_assert_eq(rep.coverage[0].days_expected, 4);
    cr_assert_eq(rep.coverage[0].days_present, 5);
    cr_assert_eq(rep.coverage[0].n_extra, 1);
    cr_assert_eq(rep.coverage[0].extra[0], D_MON + 3);
    cr_assert_eq(rep.checks[TL_VCHK_EXTRA_DAY].count, 2); /* A and B */
    cr_assert_eq(rep.checks[TL_VCHK_MISSING_DAY].count, 0);
    tl_validate_report_free(&rep);
    /* a range wider than the data: the following Monday is missing */
    o.has_days = 1;
    o.day_from = D_MON;
    o.day_to = D_MON + 7;
    run_validate(&o, &rep);
    cr_assert_eq(rep.coverage[0].days_expected, 5);
    cr_assert_eq(rep.coverage[0].n_missing, 1);
    cr_assert_eq(rep.coverage[0].missing[0], D_MON + 7);
    cr_assert_eq(rep.checks[TL_VCHK_MISSING_DAY].count, 2);
    tl_validate_report_free(&rep);
    free(rs.r);
}

Test(validate, table_partitioned_by_day_only)
{
    static const char *const sk[] = {"symbol", "expiry", "opt_type", "strike", "timestamp"};
    tl_table_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.fields = fields;
    spec.n_fields = NF;
    spec.day_column = "timestamp";
    spec.sort_key = sk;
    spec.n_sort_key = 5;
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    rows rs = {0};
    clean_rows(&rs);
    find_row(&rs, "B", D_MON, "CE", 9)->vol = -3;
    append_rows(&rs);
    tl_validate_opts o;
    opts_default(&o);
    static const char *const syms[] = {"B"};
    o.symbols = syms;
    o.n_symbols = 1;
    tl_validate_report rep;
    run_validate(&o, &rep);
    /* no symbol partition: one coverage series; rows of B only (the scan's
     * selection), the symbol a contract column */
    cr_assert_eq(rep.n_coverage, 1);
    cr_assert_null(rep.coverage[0].symbol);
    cr_assert_eq(rep.coverage[0].days_present, 5);
    cr_assert_eq(rep.rows_checked, rs.n / 2);
    cr_assert_eq(rep.checks[TL_VCHK_NEG_VOLUME].count, 1);
    cr_assert_str_eq(rep.checks[TL_VCHK_NEG_VOLUME].examples[0].contract, "B 2025-11-20 CE 100");
    cr_assert_null(rep.checks[TL_VCHK_NEG_VOLUME].examples[0].symbol);
    cr_assert_eq(rep.checks[TL_VCHK_GAP].count, 0);
    cr_assert_eq(rep.checks[TL_VCHK_DUP_KEY].count, 0);
    cr_assert_eq(rep.checks[TL_VCHK_PRICE_JUMP].count, 0);
    tl_validate_report_free(&rep);
    free(rs.r);
}

/* ---- incremental ----------------------------------------------------------------- */

/* The state file goes through the table's I/O layer: a failed fsync of it is
 * an error naming the file, the old state stays, and nothing is left behind
 * but the recorded version of the earlier run. */
Test(validate, state_file_write_goes_through_the_io_layer)
{
    create_table();
    rows rs = {0};
    clean_rows(&rs);
    append_rows(&rs); /* version 1 */
    tl_error err = {0};
    tl_io_fault *fi = NULL;
    cr_assert_eq(tl_io_fault_open(tpath, &fi, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(fi), NULL, NULL, &t, &err), TL_OK,
                 "%s", err.msg);
    tl_io_fault_rule r = {.op = TL_IO_OP_FSYNC, .nth = 1, .action = TL_IO_FAULT_FAIL,
                          .err_no = EIO, .path_contains = "validate.json"};
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
    tl_validate_opts o;
    opts_default(&o);
    o.save_state = 1;
    tl_validate_report rep;
    int rc = tl_table_validate(t, NULL, &o, &rep, &err);
    cr_assert_eq(rc, TL_EIO, "%d %s", rc, err.msg);
    cr_assert_not_null(strstr(err.msg, "validate.json"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "fsync"), "%s", err.msg);
    cr_assert_geq(tl_io_fault_count(fi, TL_IO_OP_MKDIR), 1); /* _ticklake/ made through it */
    int64_t v = -1;
    int found = 1;
    cr_assert_eq(tl_validate_state_read(t, &v, &found, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(found, 0);
    /* no temporary file is left in _ticklake/ */
    char sp[400];
    snprintf(sp, sizeof sp, "%s/_ticklake", tpath);
    tl_io_names names = {0};
    cr_assert_eq(tl_io_list(NULL, NULL, sp, &names, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(names.n, 0, "left behind: %s", names.n ? names.names[0] : "");
    tl_io_names_free(&names);
    /* the next run (no fault) records the version */
    tl_io_fault_clear_rules(fi);
    cr_assert_eq(tl_table_validate(t, NULL, &o, &rep, &err), TL_OK, "%s", err.msg);
    tl_validate_report_free(&rep);
    cr_assert_eq(tl_validate_state_read(t, &v, &found, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(found, 1);
    cr_assert_eq(v, 1);
    cr_assert_geq(tl_io_fault_count(fi, TL_IO_OP_RENAME), 1);
    /* a handle whose table writes stopped after a failed fsync (LOG-C10)
     * writes no state either */
    tl_io_fault_rule r2 = {.op = TL_IO_OP_FSYNC, .nth = 1, .action = TL_IO_FAULT_FAIL,
                           .err_no = EIO, .path_contains = "tags"};
    cr_assert_eq(tl_io_fault_add(fi, &r2, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_tag(t, "t1", NULL, 0, NULL, NULL, &err), TL_EIO, "%s", err.msg);
    tl_io_fault_clear_rules(fi);
    rows more = {0};
    day_rows(&more, "A", D_MON + 7, 9);
    append_rows(&more); /* version 2, through another handle */
    tl_io_fault_reset_counts(fi);
    rc = tl_table_validate(t, NULL, &o, &rep, &err);
    cr_assert_eq(rc, TL_EIO, "%d %s", rc, err.msg);
    cr_assert_not_null(strstr(err.msg, "stopped"), "%s", err.msg);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_RENAME), 0);
    tl_table_close(t);
    tl_io_fault_close(fi);
    free(more.r);
    free(rs.r);
}

/* A data file swapped for a symlink to a copy outside the table: validate
 * refuses it (files are opened beneath the table root), naming the file. */
Test(validate, never_follows_a_data_file_symlink_out_of_the_table)
{
    create_table();
    rows rs = {0};
    clean_rows(&rs);
    append_rows(&rs);
    tl_table *t = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_file_info fi;
    tl_snapshot_file(s, 0, &fi);
    char in[600], out[600], cmd[1400], base[300];
    snprintf(in, sizeof in, "%s/%s", tpath, fi.path);
    snprintf(base, sizeof base, "%s", strrchr(fi.path, '/') ? strrchr(fi.path, '/') + 1 : fi.path);
    snprintf(out, sizeof out, "%s/outside.tls", dir);
    tl_snapshot_close(s);
    tl_table_close(t);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", in, out);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(unlink(in), 0);
    cr_assert_eq(symlink(out, in), 0);
    tl_validate_opts o;
    opts_default(&o);
    int rc = validate_err(&o, &err);
    cr_assert_neq(rc, TL_OK);
    cr_assert_not_null(strstr(err.msg, "validate"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, base), "%s", err.msg);
    /* refused by the first pass that opens files (footers), not only later
     * by the scan */
    cr_assert_not_null(strstr(err.msg, "null rates"), "%s", err.msg);
    free(rs.r);
}

Test(validate, incremental_checks_only_partitions_with_new_files)
{
    create_table();
    rows rs = {0};
    clean_rows(&rs);
    find_row(&rs, "A", D_MON, "CE", 5)->vol = -1; /* an old defect */
    append_rows(&rs);                             /* version 1 */
    tl_validate_opts o;
    opts_default(&o);
    o.save_state = 1;
    o.incremental = 1;
    tl_validate_report rep;
    run_validate(&o, &rep); /* no state yet: everything */
    cr_assert_eq(rep.since_version, -1);
    cr_assert_eq(rep.rows_checked, rs.n);
    cr_assert_eq(rep.checks[TL_VCHK_NEG_VOLUME].count, 1);
    tl_validate_report_free(&rep);
    tl_table *t = NULL;
    tl_error err = {0};
    int64_t v = -1;
    int found = 0;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    cr_assert_eq(tl_validate_state_read(t, &v, &found, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(found, 1);
    cr_assert_eq(v, 1);
    tl_table_close(t);

    /* version 2: the next Monday for A, with a new defect */
    rows more = {0};
    day_rows(&more, "A", D_MON + 7, 9);
    more.r[7].vol = -2;
    append_rows(&more);
    run_validate(&o, &rep);
    cr_assert_eq(rep.since_version, 1);
    cr_assert_eq(rep.rows_checked, more.n);
    cr_assert_eq(rep.partitions_checked, 1);
    cr_assert_eq(rep.files_checked, 1);
    cr_assert_eq(rep.scan.partitions_kept, 1); /* the scan was narrowed to it */
    cr_assert_eq(rep.checks[TL_VCHK_NEG_VOLUME].count, 1);
    cr_assert_eq(rep.checks[TL_VCHK_NEG_VOLUME].examples[0].day, D_MON + 7);
    /* coverage still reasons over the whole range: B misses that Monday */
    cr_assert_eq(rep.checks[TL_VCHK_MISSING_DAY].count, 1);
    cr_assert_str_eq(rep.checks[TL_VCHK_MISSING_DAY].examples[0].symbol, "B");
    cr_assert_eq(rep.nulls[0].rows, more.n);
    tl_validate_report_free(&rep);

    /* nothing new: nothing scanned */
    run_validate(&o, &rep);
    cr_assert_eq(rep.since_version, 2);
    cr_assert_eq(rep.rows_checked, 0);
    tl_validate_report_free(&rep);

    /* explicit since version 0: everything again */
    o.incremental = 0;
    o.has_since = 1;
    o.since_version = 0;
    run_validate(&o, &rep);
    cr_assert_eq(rep.rows_checked, rs.n + more.n);
    cr_assert_eq(rep.checks[TL_VCHK_NEG_VOLUME].count, 2);
    tl_validate_report_free(&rep);
    free(rs.r);
    free(more.r);
}

/* ---- findings table ---------------------------------------------------------------- */

Test(validate, findings_go_into_a_table)
{
    rows rs = {0};
    defect_table(&rs);
    tl_validate_opts o;
    opts_default(&o);
    tl_validate_report rep;
    run_validate(&o, &rep);
    char fpath[400];
    snprintf(fpath, sizeof fpath, "%s/findings", dir);
    tl_error err = {0};
    cr_assert_eq(tl_validate_write_table(&rep, fpath, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_validate_write_table(&rep, fpath, &err), TL_OK, "%s", err.msg);
    /* rows: per enabled check one count row and its examples, and null columns */
    uint64_t want = 0;
    for (int k = 0; k < TL_VCHK_COUNT; k++)
        if (rep.checks[k].enabled)
            want += 1 + rep.checks[k].n_examples;
    want += 2; /* price and bp0 have nulls */
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_table_open(fpath, &t, &err), TL_OK);
    cr_assert_eq(tl_snapshot_open(t, &(tl_at){TL_AT_LATEST, 0, 0}, &s, &err), TL_OK);
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    cr_assert_eq(si.version, 2);
    cr_assert_eq(si.n_rows, 2 * want);
    tl_scan_opts so;
    memset(&so, 0, sizeof so);
    so.where = "check = 'gap' AND kind = 'example'";
    tl_agg_spec sp = {TL_AGG_MAX, "value"};
    tl_agg_result ar;
    cr_assert_eq(tl_scan_aggregate(s, &so, &sp, 1, 0, &ar, &err), TL_OK, "%s", err.msg);
    cr_assert_float_eq(ar.rows[0].values[0].f, 610.0, 1e-9);
    tl_agg_result_free(&ar);
    tl_snapshot_close(s);
    /* the findings table itself: no day partition, sort key or checked
     * column; every check off with a note, rows still counted (QUAL-V17) */
    tl_validate_report r2;
    tl_validate_opts o2;
    memset(&o2, 0, sizeof o2);
    cr_assert_eq(tl_table_validate(t, NULL, &o2, &r2, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r2.rows_checked, 2 * want);
    for (int k = 0; k < TL_VCHK_COUNT; k++)
        cr_assert_not(r2.checks[k].enabled, "%s", r2.checks[k].name);
    cr_assert_str_eq(r2.checks[TL_VCHK_DUP_KEY].note, "the table has no sort key");
    cr_assert_not_null(strstr(r2.notes, "no column 'price'"), "%s", r2.notes);
    tl_validate_report_free(&r2);
    tl_table_close(t);
    tl_validate_report_free(&rep);
    free(rs.r);
}

/* ---- errors ---------------------------------------------------------------------- */

Test(validate, errors_name_the_place)
{
    create_table();
    rows rs = {0};
    day_rows(&rs, "A", D_MON, 1);
    append_rows(&rs);
    tl_validate_opts o;
    tl_error err = {0};
    opts_default(&o);
    o.price_col = "nope";
    cr_assert_eq(validate_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "price column 'nope' is not a column"), "%s", err.msg);
    opts_default(&o);
    o.bid_col = "opt_type";
    cr_assert_eq(validate_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "bid column 'opt_type' is string, expected a number"),
                       "%s", err.msg);
    opts_default(&o);
    o.has_since = 1;
    o.since_version = 5;
    cr_assert_eq(validate_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "since version 5 is after the version validated (1)"),
                       "%s", err.msg);
    opts_default(&o);
    o.session_open_ns = SESSION_CLOSE;
    o.session_close_ns = SESSION_OPEN;
    cr_assert_eq(validate_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "session"), "%s", err.msg);
    opts_default(&o);
    o.has_days = 1;
    o.day_from = 5;
    o.day_to = 4;
    cr_assert_eq(validate_err(&o, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "day range"), "%s", err.msg);

    /* a damaged state file */
    char sp[400];
    snprintf(sp, sizeof sp, "%s/_ticklake", tpath);
    cr_assert_eq(mkdir(sp, 0777), 0);
    snprintf(sp, sizeof sp, "%s/_ticklake/validate.json", tpath);
    FILE *f = fopen(sp, "w");
    fputs("{\"version\": \"x\"}", f);
    fclose(f);
    opts_default(&o);
    o.incremental = 1;
    cr_assert_eq(validate_err(&o, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "_ticklake/validate.json"), "%s", err.msg);

    /* a findings table with another schema */
    char fpath[400];
    snprintf(fpath, sizeof fpath, "%s/other", dir);
    tl_table_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.fields = fields;
    spec.n_fields = NF;
    cr_assert_eq(tl_table_create(fpath, &spec, &err), TL_OK);
    opts_default(&o);
    tl_validate_report rep;
    run_validate(&o, &rep);
    cr_assert_eq(tl_validate_write_table(&rep, fpath, &err), TL_EINVAL);
    cr_assert_not_null(strstr(err.msg, "column 'table' is missing"), "%s", err.msg);
    tl_validate_report_free(&rep);
    free(rs.r);
}
