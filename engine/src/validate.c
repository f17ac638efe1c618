/*
 * validate.c - data-quality checks of a table (spec/QUALITY.md, rules
 * QUAL-Vn): coverage (trading days present per symbol against weekdays
 * minus a holiday list, taken from the partition list of the whole
 * snapshot), per-row checks by one ordered scan of the partitions selected
 * (gaps, bid > ask, negative prices and volumes, price jumps, timestamps
 * outside the session, duplicate sort keys), null rates from the data
 * files' footers, the remembered state (_ticklake/validate.json) and the
 * findings table.
 *
 * Invariants: the scan is ordered (one unit per partition, its rows in
 * sort-key order), so a contract's rows are consecutive and in time order
 * and a duplicate key is the row right after its twin. Each unit collects
 * its own counts and examples; they are merged in unit order, so the
 * report is the same for any thread count. Checks of single rows run
 * column by column over a block; price changes and duplicate keys along
 * each contract run; gaps from the first and last tick of each second
 * (threshold >= 1 s) or from all timestamps sorted. Nothing of the table is
 * written except the state file (temp + fsync + rename + fsync of the
 * directory).
 */
#include "ticklake.h"

#include "civil_int.h"
#include "io_int.h"
#include "log_int.h"
#include "resample_int.h"
#include "table_int.h"
#include "tl_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VAL_DEF_GAP_NS (INT64_C(60) * TL_NS_PER_S)
#define VAL_DEF_SIGMA 10.0
#define VAL_DEF_MIN_CHANGES 20u
#define VAL_DEF_EXAMPLES 10u
#define VAL_MAX_EXAMPLES 100000u
#define VAL_MAX_RANGE_DAYS 1000000
#define VAL_SCAN_SYMS 4096 /* symbols an incremental scan is narrowed to (an IN list) */
#define VAL_MAX_BUCKETS (UINT64_C(4) << 20) /* seconds of a partition's range */
#define VAL_STATE_DIR "_ticklake"
#define VAL_STATE_FILE "_ticklake/validate.json"

static const char *const chk_names[TL_VCHK_COUNT] = {
    "missing_day", "extra_day",      "gap",        "bid_gt_ask",    "negative_price",
    "negative_volume", "price_jump", "outside_session", "duplicate_key"};

const char *tl_validate_check_name(int check)
{
    return check >= 0 && check < TL_VCHK_COUNT ? chk_names[check] : NULL;
}

/* ---- strings owned by a report --------------------------------------------------- */

typedef struct vstr {
    struct vstr *next;
    char s[];
} vstr;

static const char *rep_dup(tl_validate_report *rep, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    vstr *v = malloc(sizeof *v + n + 1);
    if (!v)
        return NULL;
    memcpy(v->s, s, n + 1);
    v->next = rep->priv;
    rep->priv = v;
    return v->s;
}

void tl_validate_report_free(tl_validate_report *rep)
{
    if (!rep)
        return;
    free(rep->table);
    for (size_t i = 0; i < rep->n_coverage; i++) {
        free(rep->coverage[i].missing);
        free(rep->coverage[i].extra);
    }
    free(rep->coverage);
    free(rep->nulls);
    for (int c = 0; c < TL_VCHK_COUNT; c++)
        free(rep->checks[c].examples);
    vstr *v = rep->priv;
    while (v) {
        vstr *nx = v->next;
        free(v);
        v = nx;
    }
    memset(rep, 0, sizeof *rep);
}

/* ---- values as text ------------------------------------------------------------- */

static size_t val_text(const tl_colvec *v, tl_type t, uint32_t i, char *out, size_t cap)
{
    if (!tl_bit_get(v->validity, i))
        return (size_t)snprintf(out, cap, "null");
    switch (t) {
    case TL_STRING: {
        size_t n = v->offsets[i + 1] - v->offsets[i];
        if (n >= cap)
            n = cap - 1;
        memcpy(out, v->data + v->offsets[i], n);
        out[n] = 0;
        return n;
    }
    case TL_DATE: {
        int64_t y;
        int m, d;
        tl_civil_from_days(((const int32_t *)v->values)[i], &y, &m, &d);
        return (size_t)snprintf(out, cap, "%04" PRId64 "-%02d-%02d", y, m, d);
    }
    case TL_FLOAT32:
        return (size_t)snprintf(out, cap, "%.9g", (double)((const float *)v->values)[i]);
    case TL_FLOAT64: {
        double x = ((const double *)v->values)[i];
        int n = snprintf(out, cap, "%.15g", x);
        if (strtod(out, NULL) != x)
            n = snprintf(out, cap, "%.17g", x);
        return (size_t)n;
    }
    case TL_BOOL:
    case TL_UINT8:
    case TL_UINT16:
    case TL_UINT32:
    case TL_UINT64: {
        uint64_t u = 0;
        size_t w = tl_type_width(t);
        const uint8_t *p = (const uint8_t *)v->values + (size_t)i * w;
        if (w == 1)
            u = *p;
        else if (w == 2)
            u = ((const uint16_t *)v->values)[i];
        else if (w == 4)
            u = ((const uint32_t *)v->values)[i];
        else
            u = ((const uint64_t *)v->values)[i];
        return (size_t)snprintf(out, cap, "%" PRIu64, u);
    }
    default: {
        int64_t s = 0;
        size_t w = tl_type_width(t);
        if (w == 1)
            s = ((const int8_t *)v->values)[i];
        else if (w == 2)
            s = ((const int16_t *)v->values)[i];
        else if (w == 4)
            s = ((const int32_t *)v->values)[i];
        else
            s = ((const int64_t *)v->values)[i];
        return (size_t)snprintf(out, cap, "%" PRId64, s);
    }
    }
}

/* ---- per-unit results and per-worker scratch ------------------------------------- */

typedef struct ures {
    uint64_t count[TL_VCHK_COUNT];
    tl_validate_example *ex[TL_VCHK_COUNT]; /* contract strings malloc'd */
    uint32_t n_ex[TL_VCHK_COUNT];
    uint64_t rows;
    int checked;
} ures;

typedef struct jchg { /* where a price change happened (its value: jd) */
    int64_t ts;
    uint64_t row;
    size_t file;
    int has_ts;
} jchg;

typedef struct vworker {
    int64_t *ts; /* timestamps to sort (all, or those outside the buckets) */
    size_t n_ts, cap_ts;
    int64_t *bmin, *bmax; /* per second of the partition's range (gaps >= 1 s) */
    size_t nb, cap_b;
    int64_t bbase;        /* second of bucket 0 */
    int use_b;
    uint64_t *tmp;
    size_t cap_tmp;
    uint32_t *cnt; /* 65536 radix counters */
    jchg *jb;
    double *jd; /* the changes */
    size_t n_jb, cap_jb;
    double *sel_buf;
    size_t cap_sel;
    double *conv[4]; /* bid, ask, volume, price as doubles (non-float64 columns) */
    size_t cap_conv[4];
    const double *px; /* the block's prices as doubles */
    char contract[256];
    char ex_contract[256];
    int have_prev_price;
    double prev_price;
    int have_prev_key, prev_key_null;
    uint64_t prev_key_bits;
    char *prev_key_str;
    size_t prev_key_len, prev_key_cap;
    ures *ur;
    int skip;
    const char *symbol;
    int has_day;
    int32_t day;
} vworker;

typedef struct vctx {
    const tl_snapshot *s;
    int64_t gap_ns;
    double sigma;
    uint32_t min_changes, k_ex;
    int has_session;
    int64_t s_open, s_close;
    int on[TL_VCHK_COUNT];
    /* projection indices (-1 = absent) */
    int ix_ts, ix_price, ix_vol, ix_bid, ix_ask, ix_key;
    tl_type t_price, t_vol, t_bid, t_ask, t_key;
    int ix_contract[16];
    uint32_t n_contract;
    const char *col_price, *col_bid, *col_ask, *col_vol;
    const uint8_t *wanted;
    ures *units;
    size_t n_units;
    vworker *w;
    uint32_t n_w;
} vctx;

static int oom(tl_error *err, const char *what)
{
    return tl_error_set(err, TL_ENOMEM, "validate: out of memory (%s)", what);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* Record an example of check c in the unit (the first k_ex, or for gaps the
 * k_ex longest). contract is copied. */
static int add_example(vctx *c, vworker *w, int chk, const tl_validate_example *ex,
                       tl_error *err)
{
    ures *u = w->ur;
    u->count[chk]++;
    if (c->k_ex == 0)
        return 0;
    uint32_t slot = u->n_ex[chk];
    if (slot >= c->k_ex) {
        if (chk != TL_VCHK_GAP)
            return 0;
        /* keep the longest: replace the shortest when this one is longer */
        uint32_t mi = 0;
        for (uint32_t i = 1; i < u->n_ex[chk]; i++)
            if (u->ex[chk][i].value < u->ex[chk][mi].value)
                mi = i;
        if (!(ex->value > u->ex[chk][mi].value))
            return 0;
        free((char *)u->ex[chk][mi].contract);
        slot = mi;
    } else {
        if (!u->ex[chk]) {
            u->ex[chk] = calloc(c->k_ex, sizeof *u->ex[chk]);
            if (!u->ex[chk])
                return oom(err, "examples");
        }
        u->n_ex[chk]++;
    }
    tl_validate_example *e = &u->ex[chk][slot];
    *e = *ex;
    e->symbol = w->symbol;
    e->has_day = w->has_day;
    e->day = w->day;
    e->contract = NULL;
    if (ex->contract) {
        e->contract = strdup(ex->contract);
        if (!e->contract)
            return oom(err, "examples");
    }
    return 0;
}

static void row_ref(const tl_snapshot *s, const tl_scan_block *b, uint32_t i,
                    tl_validate_example *e)
{
    e->has_row = 1;
    e->row = b->first_row + i;
    e->file = NULL;
    if (b->file != SIZE_MAX) {
        tl_file_info fi;
        tl_snapshot_file(s, b->file, &fi);
        e->file = fi.path; /* points into the snapshot; copied at merge */
    }
}

/* ---- price jumps: a contract's changes against their trimmed sigma ---------------- */

/* The t-th largest of |d[0..n)| (t <= n), with a min-heap of t values in h. */
static double tth_largest_abs(const double *d, size_t n, size_t t, double *h)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs(d[i]);
        if (k < t) { /* sift up */
            size_t j = k++;
            while (j > 0 && h[(j - 1) / 2] > a) {
                h[j] = h[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            h[j] = a;
        } else if (a > h[0]) { /* replace the root, sift down */
            size_t j = 0;
            for (;;) {
                size_t l = 2 * j + 1, r = l + 1, m = j;
                double v = a;
                if (l < t && h[l] < v)
                    m = l, v = h[l];
                if (r < t && h[r] < v)
                    m = r;
                if (m == j)
                    break;
                h[j] = h[m];
                j = m;
            }
            h[j] = a;
        }
    }
    return h[0];
}

static int finish_contract(vctx *c, vworker *w, tl_error *err)
{
    size_t n = w->n_jb;
    w->n_jb = 0;
    if (!c->on[TL_VCHK_PRICE_JUMP] || n < c->min_changes || n < 3)
        return 0;
    /* set aside the t largest absolute changes (QUAL-V9; ties: the earlier
     * is kept) */
    const double *d = w->jd;
    size_t t = n / 100 > 2 ? n / 100 : 2;
    size_t keep = n - t;
    if (grow((void **)&w->sel_buf, &w->cap_sel, t, sizeof(double)))
        return oom(err, "price changes");
    double thr = tth_largest_abs(d, n, t, w->sel_buf);
    double sum = 0;
    size_t below = 0;
    for (size_t i = 0; i < n; i++) {
        int in = fabs(d[i]) < thr;
        sum += in ? d[i] : 0.0;
        below += (size_t)in;
    }
    size_t eq_keep = keep - below, eq = eq_keep; /* equal to thr, kept */
    for (size_t i = 0; i < n && eq > 0; i++)
        if (fabs(d[i]) == thr) {
            sum += d[i];
            eq--;
        }
    double mean = sum / (double)keep, ss = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = d[i] - mean;
        int in = fabs(d[i]) < thr;
        ss += in ? x * x : 0.0;
        lo = d[i] < lo ? d[i] : lo;
        hi = d[i] > hi ? d[i] : hi;
    }
    eq = eq_keep;
    for (size_t i = 0; i < n && eq > 0; i++)
        if (fabs(d[i]) == thr) {
            ss += (d[i] - mean) * (d[i] - mean);
            eq--;
        }
    double sd = sqrt(ss / (double)(keep - 1));
    if (!(sd > 0))
        return 0;
    double lim = c->sigma * sd;
    if (!(hi - mean > lim) && !(mean - lo > lim))
        return 0;
    for (size_t i = 0; i < n; i++) {
        double z = (d[i] - mean) / sd;
        if (fabs(z) > c->sigma) {
            const jchg *j = &w->jb[i];
            tl_validate_example e = {0};
            e.contract = w->contract;
            e.has_ts = j->has_ts;
            e.ts_ns = j->ts;
            e.column = c->col_price;
            e.value = d[i];
            e.value2 = z;
            e.has_row = 1;
            e.row = j->row;
            if (j->file != SIZE_MAX) {
                tl_file_info fi;
                tl_snapshot_file(c->s, j->file, &fi);
                e.file = fi.path;
            }
            int rc = add_example(c, w, TL_VCHK_PRICE_JUMP, &e, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- gaps: the partition's timestamps sorted ------------------------------------ */

static int sort_ts(vworker *w, tl_error *err)
{
    size_t n = w->n_ts;
    if (n < 2)
        return 0;
    int64_t mn = w->ts[0], mx = w->ts[0];
    for (size_t i = 1; i < n; i++) {
        mn = w->ts[i] < mn ? w->ts[i] : mn;
        mx = w->ts[i] > mx ? w->ts[i] : mx;
    }
    uint64_t range = (uint64_t)mx - (uint64_t)mn;
    if (grow((void **)&w->tmp, &w->cap_tmp, 2 * n, sizeof(uint64_t)))
        return oom(err, "timestamps");
    if (!w->cnt && !(w->cnt = malloc(65536 * sizeof(uint32_t))))
        return oom(err, "radix counters");
    uint64_t *a = w->tmp, *b = w->tmp + n;
    for (size_t i = 0; i < n; i++)
        a[i] = (uint64_t)w->ts[i] - (uint64_t)mn;
    for (int shift = 0; shift < 64 && (range >> shift) != 0; shift += 16) {
        memset(w->cnt, 0, 65536 * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++)
            w->cnt[(a[i] >> shift) & 0xffff]++;
        uint32_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            uint32_t x = w->cnt[d];
            w->cnt[d] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            b[w->cnt[(a[i] >> shift) & 0xffff]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        w->ts[i] = (int64_t)(a[i] + (uint64_t)mn);
    return 0;
}

static int gap(vctx *c, vworker *w, int64_t from, int64_t to, tl_error *err)
{
    if (to - from <= c->gap_ns)
        return 0;
    tl_validate_example e = {0};
    e.has_ts = 1;
    e.ts_ns = from;
    e.end_ts_ns = to;
    e.value = (double)(to - from) / 1e9;
    return add_example(c, w, TL_VCHK_GAP, &e, err);
}

static int find_gaps(vctx *c, vworker *w, tl_error *err)
{
    if (w->use_b) {
        /* each non-empty second contributes its first and last tick: two
         * ticks less than 1 s apart are never a gap (the threshold is at
         * least 1 s), and consecutive ticks in different seconds are the
         * last of one non-empty second and the first of the next */
        for (size_t b = 0; b < w->nb; b++) {
            if (w->bmin[b] == INT64_MAX)
                continue;
            if (grow((void **)&w->ts, &w->cap_ts, w->n_ts + 2, sizeof(int64_t)))
                return oom(err, "timestamps");
            w->ts[w->n_ts++] = w->bmin[b];
            w->ts[w->n_ts++] = w->bmax[b];
        }
    }
    int rc = sort_ts(w, err);
    if (rc)
        return rc;
    int64_t prev = 0, prev_day = 0;
    for (size_t i = 0; i < w->n_ts; i++) {
        int64_t t = w->ts[i], tod;
        int64_t day = tl_day_of_ns(t, &tod);
        if (i > 0 && day == prev_day) {
            rc = gap(c, w, prev, t, err);
        } else {
            if (i > 0 && c->has_session)
                rc = gap(c, w, prev, prev_day * TL_NS_PER_DAY + c->s_close, err);
            if (!rc && c->has_session)
                rc = gap(c, w, day * TL_NS_PER_DAY + c->s_open, t, err);
        }
        if (rc)
            return rc;
        prev = t;
        prev_day = day;
    }
    if (w->n_ts > 0 && c->has_session)
        rc = gap(c, w, prev, prev_day * TL_NS_PER_DAY + c->s_close, err);
    return rc;
}

/* ---- scan callbacks ------------------------------------------------------------- */

static int cb_start(void *ctx, size_t n_units, uint32_t n_workers, tl_error *err)
{
    vctx *c = ctx;
    c->units = calloc(n_units ? n_units : 1, sizeof *c->units);
    c->w = calloc(n_workers ? n_workers : 1, sizeof *c->w);
    if (!c->units || !c->w)
        return oom(err, "scan state");
    c->n_units = n_units;
    c->n_w = n_workers;
    return 0;
}

static int cb_unit_begin(void *ctx, uint32_t worker, size_t unit, size_t partition, tl_error *err)
{
    (void)err;
    vctx *c = ctx;
    vworker *w = &c->w[worker];
    w->ur = &c->units[unit];
    w->skip = !c->wanted[partition];
    tl_partition_info pi;
    tl_snapshot_partition(c->s, partition, &pi);
    w->symbol = pi.has_symbol && !pi.symbol_null ? pi.symbol : NULL;
    w->has_day = pi.has_day && !pi.day_null;
    w->day = pi.day;
    w->n_ts = 0;
    w->n_jb = 0;
    w->have_prev_price = 0;
    w->have_prev_key = 0;
    w->contract[0] = 0;
    w->use_b = 0;
    if (!w->skip)
        w->ur->checked = 1;
    if (!w->skip && c->on[TL_VCHK_GAP] && c->gap_ns >= TL_NS_PER_S && pi.has_time_range &&
        pi.last_ts_ns >= pi.first_ts_ns) {
        int64_t b0 = tl_floor_div(pi.first_ts_ns, TL_NS_PER_S);
        uint64_t nb = (uint64_t)(tl_floor_div(pi.last_ts_ns, TL_NS_PER_S) - b0) + 1;
        if (nb <= VAL_MAX_BUCKETS) {
            if (nb > w->cap_b) {
                int64_t *a = realloc(w->bmin, (size_t)nb * sizeof *a);
                if (!a)
                    return oom(err, "gap buckets");
                w->bmin = a;
                a = realloc(w->bmax, (size_t)nb * sizeof *a);
                if (!a)
                    return oom(err, "gap buckets");
                w->bmax = a;
                w->cap_b = (size_t)nb;
            }
            for (size_t b = 0; b < nb; b++) {
                w->bmin[b] = INT64_MAX;
                w->bmax[b] = INT64_MIN;
            }
            w->nb = (size_t)nb;
            w->bbase = b0;
            w->use_b = 1;
        }
    }
    return 0;
}

static void contract_text(vctx *c, vworker *w, const tl_scan_block *b, uint32_t i)
{
    size_t o = 0;
    w->contract[0] = 0;
    for (uint32_t k = 0; k < c->n_contract && o + 2 < sizeof w->contract; k++) {
        int ix = c->ix_contract[k];
        if (k)
            w->contract[o++] = ' ';
        o += val_text(&b->cols[ix], b->defs[ix].type, i, w->contract + o, sizeof w->contract - o);
        if (o >= sizeof w->contract)
            o = sizeof w->contract - 1;
    }
}

static int key_equal_save(vctx *c, vworker *w, const tl_scan_block *b, uint32_t i, int *dup,
                          tl_error *err)
{
    const tl_colvec *v = &b->cols[c->ix_key];
    int isnull = !tl_bit_get(v->validity, i);
    uint64_t bits = 0;
    const char *sp = NULL;
    size_t sl = 0;
    if (c->t_key == TL_STRING) {
        sp = (const char *)v->data + v->offsets[i];
        sl = v->offsets[i + 1] - v->offsets[i];
    } else if (!isnull) {
        memcpy(&bits, (const uint8_t *)v->values + (size_t)i * tl_type_width(c->t_key),
               tl_type_width(c->t_key));
    }
    *dup = 0;
    if (w->have_prev_key) {
        if (isnull || w->prev_key_null)
            *dup = isnull && w->prev_key_null;
        else if (c->t_key == TL_STRING)
            *dup = sl == w->prev_key_len && memcmp(sp, w->prev_key_str, sl) == 0;
        else
            *dup = bits == w->prev_key_bits;
    }
    w->have_prev_key = 1;
    w->prev_key_null = isnull;
    w->prev_key_bits = bits;
    if (c->t_key == TL_STRING && !isnull) {
        if (grow((void **)&w->prev_key_str, &w->prev_key_cap, sl + 1, 1))
            return oom(err, "sort key");
        memcpy(w->prev_key_str, sp, sl);
        w->prev_key_len = sl;
    }
    return 0;
}

/* Column i of the block as doubles: the values in place for float64, else
 * converted into the worker's scratch slot. NULL when the column is absent. */
static const double *as_f64(vworker *w, int slot, const tl_scan_block *b, int ix, tl_type t,
                            tl_error *err, int *rc)
{
    if (ix < 0)
        return NULL;
    const tl_colvec *v = &b->cols[ix];
    if (t == TL_FLOAT64)
        return v->values;
    if (grow((void **)&w->conv[slot], &w->cap_conv[slot], b->n_rows ? b->n_rows : 1,
             sizeof(double))) {
        *rc = oom(err, "conversion");
        return NULL;
    }
    for (uint32_t i = 0; i < b->n_rows; i++)
        w->conv[slot][i] = tl_val_num(v, t, i);
    return w->conv[slot];
}

/* Record an example at row i of b (contract text of that row). */
static int row_example(vctx *c, vworker *w, const tl_scan_block *b, uint32_t i, int chk,
                       const char *column, double v1, double v2, tl_error *err)
{
    tl_validate_example e = {0};
    if (c->n_contract) {
        char save[sizeof w->contract];
        memcpy(save, w->contract, sizeof save);
        contract_text(c, w, b, i);
        memcpy(w->ex_contract, w->contract, sizeof w->ex_contract);
        memcpy(w->contract, save, sizeof save);
        e.contract = w->ex_contract;
    }
    if (c->ix_ts >= 0 && tl_bit_get(b->cols[c->ix_ts].validity, i)) {
        e.has_ts = 1;
        e.ts_ns = ((const int64_t *)b->cols[c->ix_ts].values)[i];
    }
    e.column = column;
    e.value = v1;
    e.value2 = v2;
    row_ref(c->s, b, i, &e);
    return add_example(c, w, chk, &e, err);
}

#define ROW_SEL(b, i) ((b)->sel == NULL || tl_bit_get((b)->sel, (i)))

/* Checks of single rows, column by column: session and gap timestamps, bid
 * and ask, negative values. */
static int row_checks(vctx *c, vworker *w, const tl_scan_block *b, tl_error *err)
{
    int rc = 0;
    uint32_t n = b->n_rows;
    if (c->ix_ts >= 0 && (c->on[TL_VCHK_GAP] || c->on[TL_VCHK_OUTSIDE_SESSION])) {
        const tl_colvec *tv = &b->cols[c->ix_ts];
        const int64_t *ts = tv->values;
        int64_t day0 = w->has_day ? (int64_t)w->day * TL_NS_PER_DAY : 0;
        int64_t b0 = w->bbase * TL_NS_PER_S;
        for (uint32_t i = 0; i < n; i++) {
            if (!ROW_SEL(b, i) || !tl_bit_get(tv->validity, i))
                continue;
            int64_t t = ts[i];
            if (c->has_session) {
                uint64_t off = (uint64_t)t - (uint64_t)day0;
                int64_t tod = w->has_day && off < (uint64_t)TL_NS_PER_DAY
                                  ? (int64_t)off
                                  : t - tl_floor_div(t, TL_NS_PER_DAY) * TL_NS_PER_DAY;
                if (tod < c->s_open || tod >= c->s_close) {
                    if (c->on[TL_VCHK_OUTSIDE_SESSION] &&
                        (rc = row_example(c, w, b, i, TL_VCHK_OUTSIDE_SESSION, NULL,
                                          (double)tod / 1e9, 0, err)))
                        return rc;
                    continue;
                }
            }
            if (!c->on[TL_VCHK_GAP])
                continue;
            if (w->use_b) {
                /* t >= b0: the second since b0; t < b0 wraps to a huge k */
                uint64_t k = ((uint64_t)t - (uint64_t)b0) / (uint64_t)TL_NS_PER_S;
                if (t >= b0 && k < w->nb) {
                    w->bmin[k] = t < w->bmin[k] ? t : w->bmin[k];
                    w->bmax[k] = t > w->bmax[k] ? t : w->bmax[k];
                    continue;
                }
            }
            if (grow((void **)&w->ts, &w->cap_ts, w->n_ts + 1, sizeof(int64_t)))
                return oom(err, "timestamps");
            w->ts[w->n_ts++] = t;
        }
    }
    const double *bid = as_f64(w, 0, b, c->ix_bid, c->t_bid, err, &rc);
    const double *ask = rc ? NULL : as_f64(w, 1, b, c->ix_ask, c->t_ask, err, &rc);
    int vol_i64 = c->ix_vol >= 0 && c->t_vol == TL_INT64;
    const double *vol =
        rc || vol_i64 ? NULL : as_f64(w, 2, b, c->ix_vol, c->t_vol, err, &rc);
    const double *px = rc ? NULL : as_f64(w, 3, b, c->ix_price, c->t_price, err, &rc);
    if (rc)
        return rc;
    w->px = px;
    const uint8_t *bv = bid ? b->cols[c->ix_bid].validity : NULL;
    const uint8_t *av = ask ? b->cols[c->ix_ask].validity : NULL;
    if (bid && ask && c->on[TL_VCHK_BID_GT_ASK])
        for (uint32_t i = 0; i < n; i++)
            if (bid[i] > ask[i] && ask[i] > 0 && ROW_SEL(b, i) && tl_bit_get(bv, i) &&
                tl_bit_get(av, i) &&
                (rc = row_example(c, w, b, i, TL_VCHK_BID_GT_ASK, c->col_bid, bid[i], ask[i],
                                  err)))
                return rc;
    if (c->on[TL_VCHK_NEG_PRICE]) {
        const double *cols[3] = {px, bid, ask};
        const char *names[3] = {c->col_price, c->col_bid, c->col_ask};
        int ixs[3] = {c->ix_price, c->ix_bid, c->ix_ask};
        for (int k = 0; k < 3; k++) {
            if (!cols[k])
                continue;
            const uint8_t *vv = b->cols[ixs[k]].validity;
            for (uint32_t i = 0; i < n; i++)
                if (cols[k][i] < 0 && ROW_SEL(b, i) && tl_bit_get(vv, i) &&
                    (rc = row_example(c, w, b, i, TL_VCHK_NEG_PRICE, names[k], cols[k][i], 0,
                                      err)))
                    return rc;
        }
    }
    if (vol_i64 && c->on[TL_VCHK_NEG_VOLUME]) {
        const int64_t *vi = b->cols[c->ix_vol].values;
        const uint8_t *vv = b->cols[c->ix_vol].validity;
        for (uint32_t i = 0; i < n; i++)
            if (vi[i] < 0 && ROW_SEL(b, i) && tl_bit_get(vv, i) &&
                (rc = row_example(c, w, b, i, TL_VCHK_NEG_VOLUME, c->col_vol, (double)vi[i], 0,
                                  err)))
                return rc;
    }
    if (vol && c->on[TL_VCHK_NEG_VOLUME]) {
        const uint8_t *vv = b->cols[c->ix_vol].validity;
        for (uint32_t i = 0; i < n; i++)
            if (vol[i] < 0 && ROW_SEL(b, i) && tl_bit_get(vv, i) &&
                (rc = row_example(c, w, b, i, TL_VCHK_NEG_VOLUME, c->col_vol, vol[i], 0, err)))
                return rc;
    }
    return 0;
}

/* Checks along a contract's rows [start, end) of b: price changes and
 * duplicate keys (the rows before carried in the worker). */
static int run_checks(vctx *c, vworker *w, const tl_scan_block *b, uint32_t start, uint32_t end,
                      tl_error *err)
{
    int rc = 0;
    if (c->on[TL_VCHK_PRICE_JUMP]) {
        const double *px = w->px;
        const uint8_t *pv = b->cols[c->ix_price].validity;
        const tl_colvec *tv = c->ix_ts >= 0 ? &b->cols[c->ix_ts] : NULL;
        for (uint32_t i = start; i < end; i++) {
            if (!ROW_SEL(b, i) || !tl_bit_get(pv, i) || !isfinite(px[i]))
                continue;
            double p = px[i];
            if (w->have_prev_price) {
                if (w->n_jb == w->cap_jb) {
                    size_t nc = w->cap_jb ? 2 * w->cap_jb : 4096;
                    jchg *q = realloc(w->jb, nc * sizeof *q);
                    if (!q)
                        return oom(err, "price changes");
                    w->jb = q;
                    double *qd = realloc(w->jd, nc * sizeof *qd);
                    if (!qd)
                        return oom(err, "price changes");
                    w->jd = qd;
                    w->cap_jb = nc;
                }
                w->jd[w->n_jb] = p - w->prev_price;
                jchg *j = &w->jb[w->n_jb++];
                j->has_ts = tv && tl_bit_get(tv->validity, i);
                j->ts = tv ? ((const int64_t *)tv->values)[i] : 0;
                j->row = b->first_row + i;
                j->file = b->file;
            }
            w->have_prev_price = 1;
            w->prev_price = p;
        }
    }
    if (c->ix_key >= 0 && c->on[TL_VCHK_DUP_KEY]) {
        const tl_colvec *kv = &b->cols[c->ix_key];
        if (c->t_key != TL_STRING && tl_type_width(c->t_key) == 8 && !kv->validity) {
            const uint64_t *k = kv->values;
            for (uint32_t i = start; i < end; i++) {
                if (!ROW_SEL(b, i))
                    continue;
                int dup = w->have_prev_key && !w->prev_key_null && k[i] == w->prev_key_bits;
                w->have_prev_key = 1;
                w->prev_key_null = 0;
                w->prev_key_bits = k[i];
                if (dup && (rc = row_example(c, w, b, i, TL_VCHK_DUP_KEY, NULL, 0, 0, err)))
                    return rc;
            }
        } else {
            for (uint32_t i = start; i < end; i++) {
                if (!ROW_SEL(b, i))
                    continue;
                int dup;
                if ((rc = key_equal_save(c, w, b, i, &dup, err)))
                    return rc;
                if (dup && (rc = row_example(c, w, b, i, TL_VCHK_DUP_KEY, NULL, 0, 0, err)))
                    return rc;
            }
        }
    }
    return 0;
}

static int cb_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    vctx *c = ctx;
    vworker *w = &c->w[b->worker];
    if (w->skip)
        return 0;
    int rc;
    w->ur->rows += b->n_sel;
    if ((rc = row_checks(c, w, b, err)))
        return rc;
    uint32_t start = 0;
    for (uint32_t r = 0; r < b->n_runs; r++) {
        uint32_t end = b->run_ends[r];
        if (r > 0 || !b->continues) {
            /* a new contract (or, without contract columns, a new unit) */
            if ((rc = finish_contract(c, w, err)))
                return rc;
            w->have_prev_price = 0;
            w->have_prev_key = 0;
            if (start < end)
                contract_text(c, w, b, start);
        }
        if ((rc = run_checks(c, w, b, start, end, err)))
            return rc;
        start = end;
    }
    return 0;
}

static int cb_unit_end(void *ctx, uint32_t worker, size_t unit, tl_error *err)
{
    (void)unit;
    vctx *c = ctx;
    vworker *w = &c->w[worker];
    if (w->skip)
        return 0;
    int rc = finish_contract(c, w, err);
    if (!rc && c->on[TL_VCHK_GAP])
        rc = find_gaps(c, w, err);
    w->n_ts = 0;
    return rc;
}

/* ---- options, columns ----------------------------------------------------------- */

static int find_field(const tl_snapshot_info *si, const char *name)
{
    for (uint32_t i = 0; i < si->n_fields; i++)
        if (strcmp(si->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Resolve a checked column: given (must exist, numeric) or default (skipped
 * when absent). *name NULL afterwards when skipped. */
static int resolve_col(const tl_snapshot_info *si, const char *given, const char *def,
                       const char *what, const char **name, tl_type *type, char *notes,
                       size_t notes_cap, tl_error *err)
{
    const char *n = given ? given : def;
    int f = find_field(si, n);
    *name = NULL;
    if (f < 0) {
        if (given)
            return tl_error_set(err, TL_EINVAL,
                                "validate: %s column '%s' is not a column of the table", what, n);
        size_t l = strlen(notes);
        snprintf(notes + l, notes_cap - l, "%sno column '%s': %s checks skipped", l ? "; " : "",
                 n, what);
        return 0;
    }
    tl_type t = si->fields[f].type;
    if (!(tl_type_is_float(t) || tl_type_is_signed_int(t) || tl_type_is_unsigned_int(t)) ||
        t == TL_DATE || t == TL_TIMESTAMP || t == TL_TIMESTAMP_US) {
        if (given)
            return tl_error_set(err, TL_EINVAL,
                                "validate: %s column '%s' is %s, expected a number", what, n,
                                tl_type_name(t));
        size_t l = strlen(notes);
        snprintf(notes + l, notes_cap - l, "%scolumn '%s' is not numeric: %s checks skipped",
                 l ? "; " : "", n, what);
        return 0;
    }
    *name = si->fields[f].name;
    *type = t;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int sym_wanted(const tl_validate_opts *o, const char *sym)
{
    if (!o->symbols || o->n_symbols == 0)
        return 1;
    if (!sym)
        return 0;
    for (uint32_t i = 0; i < o->n_symbols; i++)
        if (strcmp(o->symbols[i], sym) == 0)
            return 1;
    return 0;
}

/* Partitions of s to check: filters, and when since >= 0 only those with a
 * file that the snapshot at since lacks. */
static int pick_partitions(tl_table *t, const tl_snapshot *s, const tl_validate_opts *o,
                           int64_t since, uint8_t *wanted, tl_error *err)
{
    size_t np = tl_snapshot_n_partitions(s);
    for (size_t p = 0; p < np; p++) {
        tl_partition_info pi;
        tl_snapshot_partition(s, p, &pi);
        int ok = 1;
        if (pi.has_symbol && !sym_wanted(o, pi.symbol_null ? NULL : pi.symbol))
            ok = 0;
        if (pi.has_day && o->has_days &&
            (pi.day_null || pi.day < o->day_from || pi.day > o->day_to))
            ok = 0;
        wanted[p] = (uint8_t)ok;
    }
    if (since < 0)
        return 0;
    tl_snapshot *old = NULL;
    tl_at at = {TL_AT_VERSION, since, 0};
    int rc = tl_snapshot_open(t, &at, &old, err);
    if (rc) {
        tl_error_prefix(err, "validate: since version %" PRId64 ": ", since);
        return rc;
    }
    size_t no = tl_snapshot_n_files(old);
    const char **paths = malloc((no ? no : 1) * sizeof *paths);
    if (!paths) {
        tl_snapshot_close(old);
        return oom(err, "file list");
    }
    for (size_t i = 0; i < no; i++) {
        tl_file_info fi;
        tl_snapshot_file(old, i, &fi);
        paths[i] = fi.path;
    }
    qsort(paths, no, sizeof *paths, cmp_str);
    for (size_t p = 0; p < np; p++) {
        if (!wanted[p])
            continue;
        tl_partition_info pi;
        tl_snapshot_partition(s, p, &pi);
        int fresh = 0;
        for (size_t f = pi.first_file; f < pi.first_file + pi.n_files && !fresh; f++) {
            tl_file_info fi;
            tl_snapshot_file(s, f, &fi);
            const char *key = fi.path;
            fresh = bsearch(&key, paths, no, sizeof *paths, cmp_str) == NULL;
        }
        wanted[p] = (uint8_t)fresh;
    }
    free(paths);
    tl_snapshot_close(old);
    return 0;
}

/* ---- coverage -------------------------------------------------------------------- */

static int is_trading(const tl_validate_opts *o, int32_t day)
{
    if (tl_weekday(day) >= 5)
        return 0;
    for (uint32_t i = 0; i < o->n_holidays; i++)
        if (o->holidays[i] == day)
            return 0;
    return 1;
}

static int coverage(const tl_snapshot *s, const tl_validate_opts *o, vctx *c,
                    tl_validate_report *rep, tl_error *err)
{
    size_t np = tl_snapshot_n_partitions(s);
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    if (!si.day_column) {
        snprintf(rep->checks[TL_VCHK_MISSING_DAY].note, sizeof rep->checks[0].note,
                 "the table is not partitioned by day");
        snprintf(rep->checks[TL_VCHK_EXTRA_DAY].note, sizeof rep->checks[0].note,
                 "the table is not partitioned by day");
        return 0;
    }
    rep->checks[TL_VCHK_MISSING_DAY].enabled = rep->checks[TL_VCHK_EXTRA_DAY].enabled = 1;
    /* range */
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t p = 0; p < np; p++) {
        tl_partition_info pi;
        tl_snapshot_partition(s, p, &pi);
        if (pi.day_null || pi.n_rows == 0 ||
            (pi.has_symbol && !sym_wanted(o, pi.symbol_null ? NULL : pi.symbol)))
            continue;
        lo = pi.day < lo ? pi.day : lo;
        hi = pi.day > hi ? pi.day : hi;
    }
    if (o->has_days) {
        lo = o->day_from;
        hi = o->day_to;
    }
    if (lo > hi)
        return 0; /* no data, no range */
    if ((int64_t)hi - lo >= VAL_MAX_RANGE_DAYS)
        return tl_error_set(err, TL_EINVAL, "validate: day range of %" PRId64
                            " days is too long (at most %d)", (int64_t)hi - lo + 1,
                            VAL_MAX_RANGE_DAYS);
    rep->has_range = 1;
    rep->day_from = lo;
    rep->day_to = hi;
    /* symbols: given, else the table's (partition order: bytewise) */
    int given = o->symbols && o->n_symbols && si.symbol_column;
    size_t cap = given ? o->n_symbols : np + 1;
    rep->coverage = calloc(cap, sizeof *rep->coverage);
    if (!rep->coverage)
        return oom(err, "coverage");
    size_t ns = 0;
    if (given) {
        for (uint32_t i = 0; i < o->n_symbols; i++)
            rep->coverage[ns++].symbol = rep_dup(rep, o->symbols[i]);
    } else if (si.symbol_column) {
        for (size_t p = 0; p < np; p++) {
            tl_partition_info pi;
            tl_snapshot_partition(s, p, &pi);
            if (pi.symbol_null)
                continue;
            if (ns && strcmp(rep->coverage[ns - 1].symbol, pi.symbol) == 0)
                continue;
            rep->coverage[ns++].symbol = rep_dup(rep, pi.symbol);
        }
    } else {
        ns = 1; /* one series: the whole table */
    }
    rep->n_coverage = ns;
    size_t nd = (size_t)((int64_t)hi - lo + 1);
    uint64_t *rows = malloc(nd * sizeof *rows);
    if (!rows)
        return oom(err, "coverage");
    int rc = 0;
    for (size_t k = 0; k < ns && !rc; k++) {
        tl_validate_coverage *cv = &rep->coverage[k];
        memset(rows, 0, nd * sizeof *rows);
        size_t p = 0;
        if (cv->symbol && si.symbol_column) {
            /* partitions are ordered by symbol (null first): the first of this one */
            size_t a = 0, z = np;
            while (a < z) {
                size_t m = a + (z - a) / 2;
                tl_partition_info pm;
                tl_snapshot_partition(s, m, &pm);
                if (pm.symbol_null || strcmp(pm.symbol, cv->symbol) < 0)
                    a = m + 1;
                else
                    z = m;
            }
            p = a;
        }
        for (; p < np; p++) {
            tl_partition_info pi;
            tl_snapshot_partition(s, p, &pi);
            if (cv->symbol && (pi.symbol_null || strcmp(pi.symbol, cv->symbol) != 0)) {
                if (si.symbol_column)
                    break; /* past this symbol's partitions */
                continue;
            }
            if (pi.day_null || pi.day < lo || pi.day > hi)
                continue;
            rows[pi.day - lo] += pi.n_rows;
        }
        uint32_t nm = 0, nx = 0;
        for (size_t d = 0; d < nd; d++) {
            int32_t day = (int32_t)(lo + (int64_t)d);
            int tr = is_trading(o, day);
            cv->days_expected += (uint32_t)tr;
            cv->days_present += rows[d] > 0;
            nm += tr && rows[d] == 0;
            nx += !tr && rows[d] > 0;
        }
        cv->missing = malloc((nm ? nm : 1) * sizeof(int32_t));
        cv->extra = malloc((nx ? nx : 1) * sizeof(int32_t));
        if (!cv->missing || !cv->extra) {
            rc = oom(err, "coverage");
            break;
        }
        for (size_t d = 0; d < nd; d++) {
            int32_t day = (int32_t)(lo + (int64_t)d);
            int tr = is_trading(o, day);
            int chk = -1;
            if (tr && rows[d] == 0) {
                cv->missing[cv->n_missing++] = day;
                chk = TL_VCHK_MISSING_DAY;
            } else if (!tr && rows[d] > 0) {
                cv->extra[cv->n_extra++] = day;
                chk = TL_VCHK_EXTRA_DAY;
            }
            if (chk < 0)
                continue;
            tl_validate_check *ck = &rep->checks[chk];
            ck->count++;
            if (ck->n_examples < c->k_ex) {
                if (!ck->examples &&
                    !(ck->examples = calloc(c->k_ex, sizeof *ck->examples))) {
                    rc = oom(err, "examples");
                    break;
                }
                tl_validate_example *e = &ck->examples[ck->n_examples++];
                e->symbol = cv->symbol;
                e->has_day = 1;
                e->day = day;
                e->value = (double)rows[d];
            }
        }
    }
    free(rows);
    return rc;
}

/* ---- null rates from footers ----------------------------------------------------- */

/* One data file's footer: null counts per column, rows. The file is opened
 * beneath the table root (never through a symlink out of it, LOG-R11) and
 * must have the size and rows its add says. */
static int footer_nulls(tl_table *t, const tl_snapshot_info *si, const tl_file_info *fi,
                        tl_validate_report *rep, tl_error *err)
{
    tl_io_file fd;
    tl_io_map map = {0};
    tlf_seg *seg = NULL;
    int rc = tl_io_open_beneath(t->io, &t->root, fi->path, O_RDONLY, 0, &fd, err);
    if (rc)
        return rc;
    rc = tl_io_map_file(&fd, &map, err);
    (void)tl_io_close(&fd, NULL);
    if (!rc && (uint64_t)map.len != fi->bytes)
        rc = tl_error_set(err, TL_ECORRUPT, "%s/%s: %zu bytes, but the log says %" PRIu64,
                          t->path, fi->path, map.len, fi->bytes);
    if (!rc)
        rc = tlf_seg_open_mem(map.addr, map.len, fi->path, 0, &seg, err);
    if (!rc && tlf_seg_n_rows(seg) != fi->n_rows)
        rc = tl_error_set(err, TL_ECORRUPT, "%s/%s: %" PRIu64 " rows, but the log says %" PRIu64,
                          t->path, fi->path, tlf_seg_n_rows(seg), fi->n_rows);
    if (!rc) {
        uint32_t nc = tlf_seg_n_cols(seg);
        for (uint32_t k = 0; k < nc; k++) {
            const tlf_col_info *ci = tlf_seg_col(seg, k);
            int f = find_field(si, ci->name);
            if (f >= 0)
                rep->nulls[f].nulls += ci->null_count;
        }
        for (uint32_t f = 0; f < si->n_fields; f++)
            rep->nulls[f].rows += fi->n_rows;
    }
    tlf_seg_close(seg);
    (void)tl_io_unmap(&map, NULL);
    return rc;
}

static int null_rates(tl_table *t, const tl_snapshot *s, const uint8_t *wanted,
                      tl_validate_report *rep, tl_error *err)
{
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    rep->nulls = calloc(si.n_fields ? si.n_fields : 1, sizeof *rep->nulls);
    if (!rep->nulls)
        return oom(err, "null rates");
    rep->n_nulls = si.n_fields;
    for (uint32_t f = 0; f < si.n_fields; f++)
        rep->nulls[f].column = si.fields[f].name;
    size_t np = tl_snapshot_n_partitions(s);
    for (size_t p = 0; p < np; p++) {
        if (!wanted[p])
            continue;
        tl_partition_info pi;
        tl_snapshot_partition(s, p, &pi);
        rep->partitions_checked++;
        for (size_t fi_ = pi.first_file; fi_ < pi.first_file + pi.n_files; fi_++) {
            tl_file_info fi;
            tl_snapshot_file(s, fi_, &fi);
            int rc = footer_nulls(t, &si, &fi, rep, err);
            if (rc) {
                tl_error_prefix(err, "validate: null rates: ");
                return rc;
            }
            rep->files_checked++;
        }
    }
    return 0;
}

/* ---- state file ------------------------------------------------------------------ */

int tl_validate_state_read(tl_table *t, int64_t *version, int *found, tl_error *err)
{
    *found = 0;
    *version = -1;
    /* through the table's I/O layer, beneath its root (a hint file: small) */
    char *buf = NULL;
    size_t len = 0;
    int rc = tl_io_read_file(t->io, &t->root, VAL_STATE_FILE, 1 << 16, &buf, &len, err);
    if (rc == TL_ENOTFOUND)
        return TL_OK;
    if (rc != TL_OK)
        return tl_error_prefix(err, "validate state: "), rc;
    json_error_t je;
    int json_oom = 0;
    json_t *j = tl_json_loadb(buf, len, 0, &je, &json_oom);
    free(buf);
    if (!j) {
        if (json_oom)
            return tl_error_set(err, TL_ENOMEM, "%s/%s: out of memory parsing it",
                                tl_table_path(t), VAL_STATE_FILE);
        return tl_error_set(err, TL_ECORRUPT, "%s/%s: line %d: expected a JSON object: %s",
                            tl_table_path(t), VAL_STATE_FILE, je.line, je.text);
    }
    json_t *v = json_object_get(j, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "%s/%s: expected \"version\": a non-negative integer", tl_table_path(t),
                          VAL_STATE_FILE);
    } else {
        *version = json_integer_value(v);
        *found = 1;
    }
    json_decref(j);
    return rc;
}

/* The state file goes through the table's I/O layer (io_int.h), so fault
 * injection and the power-loss model see it: mkdir -p of _ticklake/ (each
 * new entry's parent fsynced), then tmp + fsync + rename + directory fsync
 * (tl_io_write_file_replace). A reader sees the old or the new file.
 * A handle whose writes stopped (LOG-C10) writes no state; the state file
 * itself is a hint, not table data, so it is written below the handle's
 * guard: its own failed fsync is reported (TL_EIO, nothing retried; the tmp
 * file is removed) without stopping the handle's table writes. */
static int state_write(tl_table *t, int64_t version, tl_error *err)
{
    int rc = tl_io_guard_check(&t->guard, err);
    if (rc)
        return tl_error_prefix(err, "validate: remembering version %" PRId64 ": ", version), rc;
    const tl_io *io = t->guard.inner ? t->guard.inner : tl_io_default();
    char buf[160];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int n = snprintf(buf, sizeof buf, "{\"version\":%" PRId64 ",\"validated_ms\":%" PRId64 "}\n",
                     version, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    rc = tl_io_mkdir_p(io, &t->root, VAL_STATE_DIR, 0755, err);
    if (!rc)
        rc = tl_io_write_file_replace(io, &t->root, VAL_STATE_FILE, buf, (size_t)n, err);
    if (rc)
        tl_error_prefix(err, "validate: remembering version %" PRId64 ": ", version);
    return rc;
}

/* ---- merge units ---------------------------------------------------------------- */

static int cmp_gap(const void *a, const void *b)
{
    const tl_validate_example *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int merge_units(vctx *c, tl_validate_report *rep, tl_error *err)
{
    int rc = 0;
    for (int k = TL_VCHK_GAP; k < TL_VCHK_COUNT; k++) {
        tl_validate_check *ck = &rep->checks[k];
        uint64_t total_ex = 0;
        for (size_t u = 0; u < c->n_units; u++) {
            ck->count += c->units[u].count[k];
            total_ex += c->units[u].n_ex[k];
        }
        if (!total_ex)
            continue;
        tl_validate_example *all = calloc(total_ex, sizeof *all);
        if (!all)
            return oom(err, "examples");
        size_t n = 0;
        for (size_t u = 0; u < c->n_units; u++)
            for (uint32_t i = 0; i < c->units[u].n_ex[k]; i++)
                all[n++] = c->units[u].ex[k][i];
        if (k == TL_VCHK_GAP) { /* longest first, ties in unit order */
            for (size_t i = 0; i < n; i++)
                all[i].row = i; /* gaps have no row: the slot holds the order */
            qsort(all, n, sizeof *all, cmp_gap);
            for (size_t i = 0; i < n; i++)
                all[i].row = 0;
        }
        if (n > c->k_ex)
            n = c->k_ex;
        for (size_t i = 0; i < n; i++) {
            tl_validate_example *e = &all[i];
            const char *con = e->contract;
            e->symbol = rep_dup(rep, e->symbol);
            e->contract = rep_dup(rep, con);
            e->file = rep_dup(rep, e->file);
            e->column = rep_dup(rep, e->column);
            if ((con && !e->contract)) {
                rc = oom(err, "examples");
                break;
            }
        }
        ck->examples = all;
        ck->n_examples = (uint32_t)n;
        if (rc)
            return rc;
    }
    for (size_t u = 0; u < c->n_units; u++)
        rep->rows_checked += c->units[u].rows;
    return 0;
}

static void free_ctx(vctx *c)
{
    for (size_t u = 0; c->units && u < c->n_units; u++)
        for (int k = 0; k < TL_VCHK_COUNT; k++) {
            for (uint32_t i = 0; i < c->units[u].n_ex[k]; i++)
                free((char *)c->units[u].ex[k][i].contract);
            free(c->units[u].ex[k]);
        }
    free(c->units);
    for (uint32_t i = 0; c->w && i < c->n_w; i++) {
        vworker *w = &c->w[i];
        free(w->ts);
        free(w->bmin);
        free(w->bmax);
        free(w->tmp);
        free(w->cnt);
        free(w->jb);
        free(w->jd);
        free(w->sel_buf);
        for (int k = 0; k < 4; k++)
            free(w->conv[k]);
        free(w->prev_key_str);
    }
    free(c->w);
}

/* ---- the entry point ------------------------------------------------------------- */

int tl_table_validate(tl_table *t, const tl_at *at, const tl_validate_opts *o,
                      tl_validate_report *rep, tl_error *err)
{
    if (!t || !o || !rep)
        return tl_error_set(err, TL_EINVAL, "validate: NULL argument");
    memset(rep, 0, sizeof *rep);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (o->has_session &&
        !(o->session_open_ns >= 0 && o->session_open_ns < o->session_close_ns &&
          o->session_close_ns <= TL_NS_PER_DAY))
        return tl_error_set(err, TL_EINVAL,
                            "validate: session: expected 0 <= open < close <= 24:00, got %" PRId64
                            " .. %" PRId64 " ns",
                            o->session_open_ns, o->session_close_ns);
    if (o->has_days && o->day_from > o->day_to)
        return tl_error_set(err, TL_EINVAL, "validate: day range: from %d is after to %d",
                            (int)o->day_from, (int)o->day_to);
    if (o->max_examples > VAL_MAX_EXAMPLES)
        return tl_error_set(err, TL_EINVAL, "validate: max_examples: at most %u, got %u",
                            VAL_MAX_EXAMPLES, o->max_examples);
    if (o->jump_sigma != o->jump_sigma)
        return tl_error_set(err, TL_EINVAL, "validate: jump_sigma is NaN");
    vctx c;
    memset(&c, 0, sizeof c);
    c.gap_ns = o->gap_ns == 0 ? VAL_DEF_GAP_NS : o->gap_ns;
    c.sigma = o->jump_sigma == 0 ? VAL_DEF_SIGMA : o->jump_sigma;
    c.min_changes = o->jump_min_changes ? o->jump_min_changes : VAL_DEF_MIN_CHANGES;
    c.k_ex = o->max_examples ? o->max_examples : VAL_DEF_EXAMPLES;
    c.has_session = o->has_session;
    c.s_open = o->session_open_ns;
    c.s_close = o->session_close_ns;

    tl_snapshot *s = NULL;
    tl_at latest = {TL_AT_LATEST, 0, 0};
    int rc = tl_snapshot_open(t, at ? at : &latest, &s, err);
    if (rc)
        return rc;
    c.s = s;
    uint8_t *wanted = NULL;
    const char **scan_syms = NULL;
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    rep->version = si.version;
    rep->since_version = -1;
    rep->table = strdup(tl_table_path(t));
    if (!rep->table) {
        rc = oom(err, "report");
        goto out;
    }
    for (int k = 0; k < TL_VCHK_COUNT; k++)
        rep->checks[k].name = chk_names[k];

    /* since: given, or remembered */
    int64_t since = -1;
    if (o->has_since) {
        if (o->since_version < 0) {
            rc = tl_error_set(err, TL_EINVAL, "validate: since version %" PRId64 " is negative",
                              o->since_version);
            goto out;
        }
        since = o->since_version;
    } else if (o->incremental) {
        int found = 0;
        int64_t v = -1;
        if ((rc = tl_validate_state_read(t, &v, &found, err)))
            goto out;
        if (found && v <= si.version)
            since = v;
        else if (found) {
            size_t l = strlen(rep->notes);
            snprintf(rep->notes + l, sizeof rep->notes - l,
                     "%sremembered version %" PRId64 " is after the version validated: full check",
                     l ? "; " : "", v);
        }
    }
    if (since > si.version) {
        rc = tl_error_set(err, TL_EINVAL,
                          "validate: since version %" PRId64 " is after the version validated (%"
                          PRId64 ")", since, si.version);
        goto out;
    }
    rep->since_version = since;

    /* columns */
    size_t notes_cap = sizeof rep->notes;
    const char *col_ts = si.day_column;
    if ((rc = resolve_col(&si, o->price_col, "price", "price", &c.col_price, &c.t_price,
                          rep->notes, notes_cap, err)) ||
        (rc = resolve_col(&si, o->volume_col, "volume", "volume", &c.col_vol, &c.t_vol,
                          rep->notes, notes_cap, err)) ||
        (rc = resolve_col(&si, o->bid_col, "bp0", "bid", &c.col_bid, &c.t_bid, rep->notes,
                          notes_cap, err)) ||
        (rc = resolve_col(&si, o->ask_col, "sp0", "ask", &c.col_ask, &c.t_ask, rep->notes,
                          notes_cap, err)))
        goto out;
    /* contract = the sort key without its last column (the scan's runs) */
    const char *proj[24];
    uint32_t np_ = 0;
    c.ix_ts = c.ix_price = c.ix_vol = c.ix_bid = c.ix_ask = c.ix_key = -1;
#define PROJ(name, ix)                                                                             \
    do {                                                                                           \
        int found_ = -1;                                                                           \
        for (uint32_t q = 0; q < np_; q++)                                                         \
            if (strcmp(proj[q], (name)) == 0)                                                      \
                found_ = (int)q;                                                               \
        if (found_ < 0) {                                                                          \
            found_ = (int)np_;                                                                     \
            proj[np_++] = (name);                                                                  \
        }                                                                                          \
        (ix) = found_;                                                                             \
    } while (0)
    if (si.n_sort_key > 17) {
        rc = tl_error_set(err, TL_EUNSUPPORTED,
                          "validate: sort key of %u columns (at most 17 supported)",
                          si.n_sort_key);
        goto out;
    }
    if (col_ts)
        PROJ(col_ts, c.ix_ts);
    if (c.col_price)
        PROJ(c.col_price, c.ix_price);
    if (c.col_vol)
        PROJ(c.col_vol, c.ix_vol);
    if (c.col_bid)
        PROJ(c.col_bid, c.ix_bid);
    if (c.col_ask)
        PROJ(c.col_ask, c.ix_ask);
    if (si.n_sort_key > 0) {
        for (uint32_t k = 0; k + 1 < si.n_sort_key; k++)
            PROJ(si.sort_key[k], c.ix_contract[c.n_contract++]);
        PROJ(si.sort_key[si.n_sort_key - 1], c.ix_key);
        c.t_key = si.fields[find_field(&si, si.sort_key[si.n_sort_key - 1])].type;
    }
#undef PROJ
    for (int k = 0; k < TL_VCHK_COUNT; k++)
        c.on[k] = 1;
    c.on[TL_VCHK_MISSING_DAY] = c.on[TL_VCHK_EXTRA_DAY] = 0; /* set by coverage */
#define OFF(k, ...)                                                                                \
    do {                                                                                           \
        c.on[k] = 0;                                                                               \
        snprintf(rep->checks[k].note, sizeof rep->checks[k].note, __VA_ARGS__);                    \
    } while (0)
    if (!col_ts)
        OFF(TL_VCHK_GAP, "the table has no timestamp (day) column");
    else if (c.gap_ns < 0)
        OFF(TL_VCHK_GAP, "turned off");
    if (!col_ts)
        OFF(TL_VCHK_OUTSIDE_SESSION, "the table has no timestamp (day) column");
    else if (!o->has_session)
        OFF(TL_VCHK_OUTSIDE_SESSION, "no session given");
    if (!c.col_bid || !c.col_ask)
        OFF(TL_VCHK_BID_GT_ASK, "no bid or ask column");
    if (!c.col_price && !c.col_bid && !c.col_ask)
        OFF(TL_VCHK_NEG_PRICE, "no price, bid or ask column");
    if (!c.col_vol)
        OFF(TL_VCHK_NEG_VOLUME, "no volume column");
    if (!c.col_price)
        OFF(TL_VCHK_PRICE_JUMP, "no price column");
    else if (c.sigma < 0)
        OFF(TL_VCHK_PRICE_JUMP, "turned off");
    if (si.n_sort_key == 0)
        OFF(TL_VCHK_DUP_KEY, "the table has no sort key");
#undef OFF
    for (int k = TL_VCHK_GAP; k < TL_VCHK_COUNT; k++)
        rep->checks[k].enabled = c.on[k];

    /* partitions */
    size_t n_parts = tl_snapshot_n_partitions(s);
    wanted = calloc(n_parts ? n_parts : 1, 1);
    if (!wanted) {
        rc = oom(err, "partitions");
        goto out;
    }
    if ((rc = pick_partitions(t, s, o, since, wanted, err)))
        goto out;
    c.wanted = wanted;
    if ((rc = coverage(s, o, &c, rep, err)) || (rc = null_rates(t, s, wanted, rep, err)))
        goto out;

    if (rep->partitions_checked > 0 && np_ > 0) {
        /* narrow the scan to the box of the partitions wanted */
        tl_scan_opts so;
        memset(&so, 0, sizeof so);
        so.columns = proj;
        so.n_columns = np_;
        so.ordered = 1;
        so.threads = o->threads;
        so.io = o->io;
        so.progress = o->progress;
        so.progress_ctx = o->progress_ctx;
        static const char *const no_runs[1] = {NULL};
        if (si.n_sort_key == 0)
            so.run_columns = no_runs; /* n_run_columns 0: no runs */
        int32_t dlo = INT32_MAX, dhi = INT32_MIN;
        int day_ok = si.day_column != NULL;
        for (size_t p = 0; p < n_parts; p++) {
            if (!wanted[p])
                continue;
            tl_partition_info pi;
            tl_snapshot_partition(s, p, &pi);
            if (!pi.has_day || pi.day_null)
                day_ok = 0;
            else {
                dlo = pi.day < dlo ? pi.day : dlo;
                dhi = pi.day > dhi ? pi.day : dhi;
            }
        }
        if (day_ok) {
            so.has_days = 1;
            so.day_from = dlo;
            so.day_to = dhi;
        } else if (o->has_days && si.day_column) {
            so.has_days = 1;
            so.day_from = o->day_from;
            so.day_to = o->day_to;
        }
        if (o->symbols && o->n_symbols) {
            so.symbols = o->symbols;
            so.n_symbols = o->n_symbols;
        }
        if (since >= 0 && si.symbol_column &&
            (scan_syms = malloc(VAL_SCAN_SYMS * sizeof *scan_syms)) != NULL) {
            /* narrow to the symbols of the partitions checked (consecutive:
             * partitions are ordered by symbol) */
            size_t ns = 0;
            int ok = 1;
            for (size_t p = 0; p < n_parts && ok; p++) {
                if (!wanted[p])
                    continue;
                tl_partition_info pi;
                tl_snapshot_partition(s, p, &pi);
                if (pi.symbol_null)
                    ok = 0;
                else if (ns == 0 || strcmp(scan_syms[ns - 1], pi.symbol) != 0) {
                    if (ns == VAL_SCAN_SYMS)
                        ok = 0;
                    else
                        scan_syms[ns++] = pi.symbol;
                }
            }
            if (ok && ns > 0) {
                so.symbols = scan_syms;
                so.n_symbols = (uint32_t)ns;
            }
        }
        tl_scan_cb cb = {cb_start, cb_unit_begin, cb_block, cb_unit_end, &c};
        rc = tl_scan_run(s, &so, &cb, &rep->scan, err);
        if (rc) {
            if (err && strncmp(err->msg, "validate: ", 10) != 0)
                tl_error_prefix(err, "validate: ");
            goto out;
        }
        if ((rc = merge_units(&c, rep, err)))
            goto out;
    } else {
        /* nothing to read row by row (no column a check needs) */
        for (size_t p = 0; p < n_parts; p++)
            if (wanted[p]) {
                tl_partition_info pi;
                tl_snapshot_partition(s, p, &pi);
                rep->rows_checked += pi.n_rows;
            }
    }
    for (int k = 0; k < TL_VCHK_COUNT; k++)
        rep->findings += rep->checks[k].count;
    if (o->save_state) {
        int found = 0;
        int64_t v = -1;
        if ((rc = tl_validate_state_read(t, &v, &found, err)))
            goto out;
        if (!found || v < si.version)
            rc = state_write(t, si.version, err);
    }
out:
    if (rep->nulls) /* column names point into the snapshot: copy them */
        for (size_t i = 0; i < rep->n_nulls; i++)
            rep->nulls[i].column = rep_dup(rep, rep->nulls[i].column);
    free_ctx(&c);
    free(wanted);
    free(scan_syms);
    tl_snapshot_close(s);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (rc)
        tl_validate_report_free(rep);
    return rc;
}

/* ---- printing -------------------------------------------------------------------- */

static void day_text(int32_t day, char *out, size_t cap)
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%04" PRId64 "-%02d-%02d", y, m, d);
}

static void ts_text(int64_t ns, char *out, size_t cap)
{
    int64_t tod;
    int64_t day = tl_day_of_ns(ns, &tod);
    char d[32];
    day_text((int32_t)day, d, sizeof d);
    int64_t s = tod / TL_NS_PER_S, f = tod % TL_NS_PER_S;
    snprintf(out, cap, "%sT%02d:%02d:%02d.%09" PRId64 "Z", d, (int)(s / 3600), (int)(s / 60 % 60),
             (int)(s % 60), f);
}

static void jstr(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void jnum(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char b[40];
    snprintf(b, sizeof b, "%.15g", v);
    if (strtod(b, NULL) != v)
        snprintf(b, sizeof b, "%.17g", v);
    fputs(b, f);
}

static void print_example_json(FILE *f, const tl_validate_example *e, int chk)
{
    char b[64];
    fputs("{\"symbol\":", f);
    jstr(f, e->symbol);
    if (e->has_day) {
        day_text(e->day, b, sizeof b);
        fprintf(f, ",\"day\":\"%s\"", b);
    }
    if (e->contract) {
        fputs(",\"contract\":", f);
        jstr(f, e->contract);
    }
    if (e->has_ts) {
        ts_text(e->ts_ns, b, sizeof b);
        fprintf(f, ",\"timestamp\":\"%s\",\"timestamp_ns\":%" PRId64, b, e->ts_ns);
    }
    if (chk == TL_VCHK_GAP) {
        ts_text(e->end_ts_ns, b, sizeof b);
        fprintf(f, ",\"end\":\"%s\",\"end_ns\":%" PRId64 ",\"seconds\":", b, e->end_ts_ns);
        jnum(f, e->value);
    } else if (chk == TL_VCHK_MISSING_DAY) {
    } else if (chk == TL_VCHK_EXTRA_DAY) {
        fprintf(f, ",\"rows\":%.0f", e->value);
    } else {
        if (e->column) {
            fputs(",\"column\":", f);
            jstr(f, e->column);
        }
        if (chk == TL_VCHK_BID_GT_ASK) {
            fputs(",\"bid\":", f);
            jnum(f, e->value);
            fputs(",\"ask\":", f);
            jnum(f, e->value2);
        } else if (chk == TL_VCHK_PRICE_JUMP) {
            fputs(",\"change\":", f);
            jnum(f, e->value);
            fputs(",\"z\":", f);
            jnum(f, e->value2);
        } else if (chk == TL_VCHK_OUTSIDE_SESSION) {
            fputs(",\"seconds_of_day\":", f);
            jnum(f, e->value);
        } else if (chk != TL_VCHK_DUP_KEY) {
            fputs(",\"value\":", f);
            jnum(f, e->value);
        }
    }
    if (e->has_row) {
        fputs(",\"file\":", f);
        jstr(f, e->file);
        fprintf(f, ",\"row\":%" PRIu64, e->row);
    }
    fputc('}', f);
}

static void print_example_text(FILE *f, const tl_validate_example *e, int chk)
{
    char b[64];
    fputs("    ", f);
    if (e->symbol)
        fprintf(f, "%s ", e->symbol);
    if (e->has_day) {
        day_text(e->day, b, sizeof b);
        fprintf(f, "%s ", b);
    }
    if (e->contract)
        fprintf(f, "[%s] ", e->contract);
    if (e->has_ts) {
        ts_text(e->ts_ns, b, sizeof b);
        fprintf(f, "%s ", b);
    }
    switch (chk) {
    case TL_VCHK_GAP:
        ts_text(e->end_ts_ns, b, sizeof b);
        fprintf(f, "-> %s (%.3f s)", b, e->value);
        break;
    case TL_VCHK_EXTRA_DAY:
        fprintf(f, "(%.0f rows)", e->value);
        break;
    case TL_VCHK_MISSING_DAY:
        break;
    case TL_VCHK_BID_GT_ASK:
        fprintf(f, "bid %.15g > ask %.15g", e->value, e->value2);
        break;
    case TL_VCHK_PRICE_JUMP:
        fprintf(f, "change %.15g (z %.1f)", e->value, e->value2);
        break;
    case TL_VCHK_OUTSIDE_SESSION:
        break;
    case TL_VCHK_DUP_KEY:
        fputs("same key as the row before", f);
        break;
    default:
        fprintf(f, "%s = %.15g", e->column ? e->column : "?", e->value);
    }
    if (e->has_row)
        fprintf(f, "  (%s%s row %" PRIu64 ")", e->file ? "file " : "merged partition",
                e->file ? e->file : "", e->row);
    fputc('\n', f);
}

int tl_validate_report_print(const tl_validate_report *rep, FILE *f, int json, tl_error *err)
{
    if (!rep || !f)
        return tl_error_set(err, TL_EINVAL, "validate: print: NULL argument");
    char b1[32], b2[32];
    if (json) {
        fputs("{\"table\":", f);
        jstr(f, rep->table);
        fprintf(f, ",\"version\":%" PRId64 ",\"since_version\":", rep->version);
        if (rep->since_version >= 0)
            fprintf(f, "%" PRId64, rep->since_version);
        else
            fputs("null", f);
        fprintf(f,
                ",\"rows_checked\":%" PRIu64 ",\"files_checked\":%" PRIu64
                ",\"partitions_checked\":%" PRIu64 ",\"findings\":%" PRIu64,
                rep->rows_checked, rep->files_checked, rep->partitions_checked, rep->findings);
        fputs(",\"elapsed_s\":", f);
        jnum(f, rep->elapsed_s);
        fputs(",\"coverage\":{", f);
        if (rep->has_range) {
            day_text(rep->day_from, b1, sizeof b1);
            day_text(rep->day_to, b2, sizeof b2);
            fprintf(f, "\"from\":\"%s\",\"to\":\"%s\",", b1, b2);
        }
        fputs("\"symbols\":[", f);
        for (size_t i = 0; i < rep->n_coverage; i++) {
            const tl_validate_coverage *cv = &rep->coverage[i];
            fputs(i ? ",{\"symbol\":" : "{\"symbol\":", f);
            jstr(f, cv->symbol);
            fprintf(f, ",\"days_expected\":%u,\"days_present\":%u,\"missing\":[",
                    cv->days_expected, cv->days_present);
            for (uint32_t k = 0; k < cv->n_missing; k++) {
                day_text(cv->missing[k], b1, sizeof b1);
                fprintf(f, "%s\"%s\"", k ? "," : "", b1);
            }
            fputs("],\"extra\":[", f);
            for (uint32_t k = 0; k < cv->n_extra; k++) {
                day_text(cv->extra[k], b1, sizeof b1);
                fprintf(f, "%s\"%s\"", k ? "," : "", b1);
            }
            fputs("]}", f);
        }
        fputs("]},\"null_rates\":{", f);
        for (size_t i = 0; i < rep->n_nulls; i++) {
            if (i)
                fputc(',', f);
            jstr(f, rep->nulls[i].column);
            fprintf(f, ":{\"nulls\":%" PRIu64 ",\"rows\":%" PRIu64 ",\"rate\":",
                    rep->nulls[i].nulls, rep->nulls[i].rows);
            jnum(f, rep->nulls[i].rows ? (double)rep->nulls[i].nulls / (double)rep->nulls[i].rows
                                       : 0.0);
            fputc('}', f);
        }
        fputs("},\"checks\":{", f);
        for (int k = 0; k < TL_VCHK_COUNT; k++) {
            const tl_validate_check *ck = &rep->checks[k];
            fprintf(f, "%s\"%s\":{\"enabled\":%s,\"count\":%" PRIu64, k ? "," : "", ck->name,
                    ck->enabled ? "true" : "false", ck->count);
            if (!ck->enabled) {
                fputs(",\"note\":", f);
                jstr(f, ck->note);
            }
            fputs(",\"examples\":[", f);
            for (uint32_t i = 0; i < ck->n_examples; i++) {
                if (i)
                    fputc(',', f);
                print_example_json(f, &ck->examples[i], k);
            }
            fputs("]}", f);
        }
        fputs("},\"notes\":", f);
        jstr(f, rep->notes);
        fputs("}\n", f);
    } else {
        fprintf(f, "table:       %s, version %" PRId64 "\n", rep->table, rep->version);
        if (rep->since_version >= 0)
            fprintf(f, "checked:     partitions with files added after version %" PRId64 "\n",
                    rep->since_version);
        fprintf(f, "rows:        %" PRIu64 " in %" PRIu64 " files, %" PRIu64 " partitions\n",
                rep->rows_checked, rep->files_checked, rep->partitions_checked);
        if (rep->has_range) {
            day_text(rep->day_from, b1, sizeof b1);
            day_text(rep->day_to, b2, sizeof b2);
            fprintf(f, "coverage:    %s .. %s\n", b1, b2);
            for (size_t i = 0; i < rep->n_coverage; i++) {
                const tl_validate_coverage *cv = &rep->coverage[i];
                fprintf(f, "  %-12s %u of %u trading days", cv->symbol ? cv->symbol : "(all)",
                        cv->days_present, cv->days_expected);
                if (cv->n_missing) {
                    fputs(", missing", f);
                    for (uint32_t k = 0; k < cv->n_missing && k < 20; k++) {
                        day_text(cv->missing[k], b1, sizeof b1);
                        fprintf(f, " %s", b1);
                    }
                    if (cv->n_missing > 20)
                        fprintf(f, " ... (%u)", cv->n_missing);
                }
                if (cv->n_extra)
                    fprintf(f, ", %u non-trading days with data", cv->n_extra);
                fputc('\n', f);
            }
        }
        int any = 0;
        for (size_t i = 0; i < rep->n_nulls; i++)
            if (rep->nulls[i].nulls) {
                if (!any++)
                    fputs("null rates:\n", f);
                fprintf(f, "  %-12s %.4f%% (%" PRIu64 " of %" PRIu64 ")\n", rep->nulls[i].column,
                        100.0 * (double)rep->nulls[i].nulls / (double)rep->nulls[i].rows,
                        rep->nulls[i].nulls, rep->nulls[i].rows);
            }
        fputs("checks:\n", f);
        for (int k = 0; k < TL_VCHK_COUNT; k++) {
            const tl_validate_check *ck = &rep->checks[k];
            if (!ck->enabled) {
                fprintf(f, "  %-16s skipped (%s)\n", ck->name, ck->note);
                continue;
            }
            fprintf(f, "  %-16s %" PRIu64 "\n", ck->name, ck->count);
            for (uint32_t i = 0; i < ck->n_examples; i++)
                print_example_text(f, &ck->examples[i], k);
        }
        if (rep->notes[0])
            fprintf(f, "notes:       %s\n", rep->notes);
        fprintf(f, "findings:    %" PRIu64 "\n", rep->findings);
    }
    if (ferror(f))
        return tl_error_set(err, TL_EIO, "validate: writing the report failed");
    return 0;
}

/* ---- findings table --------------------------------------------------------------- */

enum { FT_TABLE, FT_VERSION, FT_RUN, FT_CHECK, FT_KIND, FT_SYMBOL, FT_DAY, FT_CONTRACT, FT_TS,
       FT_END, FT_COLUMN, FT_VALUE, FT_VALUE2, FT_COUNT, FT_FILE, FT_ROW, FT_N };

static const tl_field ft_fields[FT_N] = {
    {"table", TL_STRING, 0},       {"version", TL_INT64, 0},     {"run_time", TL_TIMESTAMP, 0},
    {"check", TL_STRING, 0},       {"kind", TL_STRING, 0},       {"symbol", TL_STRING, 1},
    {"day", TL_DATE, 1},           {"contract", TL_STRING, 1},   {"timestamp", TL_TIMESTAMP, 1},
    {"end_timestamp", TL_TIMESTAMP, 1}, {"column", TL_STRING, 1}, {"value", TL_FLOAT64, 1},
    {"value2", TL_FLOAT64, 1},     {"count", TL_INT64, 0},       {"file", TL_STRING, 1},
    {"row", TL_INT64, 1}};

typedef struct ftw {
    tl_colbuild cb[FT_N];
    int64_t run_ns;
    const tl_validate_report *rep;
} ftw;

static int pstr(tl_colbuild *c, const char *s, tl_error *err)
{
    return tl_cb_push_str(c, s, s ? strlen(s) : 0, err);
}

static int ft_row(ftw *w, const char *check, const char *kind, const tl_validate_example *e,
                  const char *column, int has_value, double value, uint64_t count, tl_error *err)
{
    int64_t v = w->rep->version, cnt = (int64_t)count, row = e ? (int64_t)e->row : 0;
    int rc;
    if ((rc = pstr(&w->cb[FT_TABLE], w->rep->table, err)) ||
        (rc = tl_cb_push(&w->cb[FT_VERSION], &v, err)) ||
        (rc = tl_cb_push(&w->cb[FT_RUN], &w->run_ns, err)) ||
        (rc = pstr(&w->cb[FT_CHECK], check, err)) || (rc = pstr(&w->cb[FT_KIND], kind, err)) ||
        (rc = pstr(&w->cb[FT_SYMBOL], e ? e->symbol : NULL, err)) ||
        (rc = tl_cb_push(&w->cb[FT_DAY], e && e->has_day ? &e->day : NULL, err)) ||
        (rc = pstr(&w->cb[FT_CONTRACT], e ? e->contract : NULL, err)) ||
        (rc = tl_cb_push(&w->cb[FT_TS], e && e->has_ts ? &e->ts_ns : NULL, err)) ||
        (rc = tl_cb_push(&w->cb[FT_END], e && e->end_ts_ns ? &e->end_ts_ns : NULL, err)) ||
        (rc = pstr(&w->cb[FT_COLUMN], column, err)) ||
        (rc = tl_cb_push(&w->cb[FT_VALUE], has_value ? &value : NULL, err)) ||
        (rc = tl_cb_push(&w->cb[FT_VALUE2], e ? &e->value2 : NULL, err)) ||
        (rc = tl_cb_push(&w->cb[FT_COUNT], &cnt, err)) ||
        (rc = pstr(&w->cb[FT_FILE], e ? e->file : NULL, err)) ||
        (rc = tl_cb_push(&w->cb[FT_ROW], e && e->has_row ? &row : NULL, err)))
        return rc;
    return 0;
}

static int ft_check_schema(tl_table *t, const char *path, tl_error *err)
{
    tl_snapshot *s = NULL;
    tl_at at = {TL_AT_LATEST, 0, 0};
    int rc = tl_snapshot_open(t, &at, &s, err);
    if (rc)
        return rc;
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    for (int i = 0; i < FT_N && !rc; i++) {
        int f = find_field(&si, ft_fields[i].name);
        if (f < 0)
            rc = tl_error_set(err, TL_EINVAL,
                              "validate: findings table %s: column '%s' is missing", path,
                              ft_fields[i].name);
        else if (si.fields[f].type != ft_fields[i].type)
            rc = tl_error_set(err, TL_EINVAL,
                              "validate: findings table %s: column '%s' is %s, expected %s", path,
                              ft_fields[i].name, tl_type_name(si.fields[f].type),
                              tl_type_name(ft_fields[i].type));
    }
    tl_snapshot_close(s);
    return rc;
}

int tl_validate_write_table(const tl_validate_report *rep, const char *path, tl_error *err)
{
    if (!rep || !path)
        return tl_error_set(err, TL_EINVAL, "validate: write table: NULL argument");
    tl_table *t = NULL;
    tl_error e2 = {0};
    int rc = tl_table_open(path, &t, &e2);
    if (rc == TL_ENOTFOUND) {
        tl_table_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.fields = ft_fields;
        spec.n_fields = FT_N;
        spec.name = "validate findings";
        rc = tl_table_create(path, &spec, err);
        if (rc && rc != TL_ECONFLICT)
            return rc;
        rc = tl_table_open(path, &t, err);
    } else if (rc && err) {
        *err = e2;
    }
    if (rc)
        return rc;
    if ((rc = ft_check_schema(t, path, err))) {
        tl_table_close(t);
        return rc;
    }
    ftw w;
    memset(&w, 0, sizeof w);
    w.rep = rep;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    w.run_ns = (int64_t)now.tv_sec * TL_NS_PER_S + now.tv_nsec;
    for (int i = 0; i < FT_N; i++)
        tl_cb_init(&w.cb[i], ft_fields[i].type);
    for (int k = 0; k < TL_VCHK_COUNT && !rc; k++) {
        const tl_validate_check *ck = &rep->checks[k];
        if (!ck->enabled)
            continue;
        rc = ft_row(&w, ck->name, "count", NULL, NULL, 0, 0, ck->count, err);
        for (uint32_t i = 0; i < ck->n_examples && !rc; i++) {
            const tl_validate_example *e = &ck->examples[i];
            rc = ft_row(&w, ck->name, "example", e, e->column, 1, e->value, 1, err);
        }
    }
    for (size_t i = 0; i < rep->n_nulls && !rc; i++)
        if (rep->nulls[i].nulls)
            rc = ft_row(&w, "null_rate", "column", NULL, rep->nulls[i].column, 1,
                        (double)rep->nulls[i].nulls / (double)rep->nulls[i].rows,
                        rep->nulls[i].nulls, err);
    tl_append *a = NULL;
    if (!rc) {
        tl_append_opts ao;
        memset(&ao, 0, sizeof ao);
        ao.operation = "VALIDATE";
        rc = tl_append_begin(t, &ao, &a, err);
    }
    if (!rc) {
        tl_coldef defs[FT_N];
        tl_colvec cols[FT_N];
        for (int i = 0; i < FT_N; i++) {
            defs[i].name = ft_fields[i].name;
            defs[i].type = ft_fields[i].type;
            tl_cb_view(&w.cb[i], &cols[i]);
        }
        tl_batch b = {w.cb[0].n, FT_N, defs, cols};
        rc = tl_append_batch(a, &b, err);
        if (!rc) {
            rc = tl_append_commit(a, NULL, err);
            a = NULL;
        }
    }
    tl_append_abort(a);
    for (int i = 0; i < FT_N; i++)
        tl_cb_free(&w.cb[i]);
    tl_table_close(t);
    return rc;
}
