/*
 * resample.c - ticks to OHLCV bars, or to one tightest-spread quote per
 * interval, per contract or per symbol (spec/QUALITY.md, rules QUAL-Rn),
 * written into another table partitioned like the source, as one commit;
 * and the column builder of resample_int.h.
 *
 * Invariants: the source is read by one ordered scan (a unit = a
 * (symbol, day) partition, its rows in sort-key order: contract, then
 * time), so a contract's bars are finished in time order as its rows
 * stream by, and per-symbol intervals are indexed within the unit's day
 * (intervals divide a day, so no interval crosses a partition). Intervals
 * start at multiples of the interval since the epoch (UTC). Each unit's
 * output rows go to the one append under a mutex at the unit's end; the
 * append sorts by the destination's sort key, so the table is the same for
 * any thread count.
 */
#include "resample_int.h"

#include "civil_int.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- column builder ------------------------------------------------------------ */

void tl_cb_init(tl_colbuild *c, tl_type type)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->width = tl_type_width(type);
}

void tl_cb_free(tl_colbuild *c)
{
    free(c->vals);
    free(c->valid);
    free(c->offs);
    free(c->data);
    tl_cb_init(c, c->type);
}

void tl_cb_clear(tl_colbuild *c)
{
    c->n = 0;
    c->n_data = 0;
    if (c->valid) {
        free(c->valid);
        c->valid = NULL;
    }
}

static int cb_room(tl_colbuild *c, tl_error *err)
{
    if (c->n == UINT32_MAX - 1)
        return tl_error_set(err, TL_EINVAL, "column builder: more than 2^32 - 2 rows");
    if ((size_t)c->n + 1 <= c->cap_rows)
        return 0;
    size_t nc = c->cap_rows ? c->cap_rows * 2 : 1024;
    if (c->width) {
        uint8_t *v = realloc(c->vals, nc * c->width);
        if (!v)
            return tl_error_set(err, TL_ENOMEM, "column builder: out of memory");
        c->vals = v;
    } else {
        uint32_t *o = realloc(c->offs, (nc + 1) * sizeof *o);
        if (!o)
            return tl_error_set(err, TL_ENOMEM, "column builder: out of memory");
        c->offs = o;
    }
    if (c->valid) {
        uint8_t *v = realloc(c->valid, (nc + 7) / 8);
        if (!v)
            return tl_error_set(err, TL_ENOMEM, "column builder: out of memory");
        memset(v + (c->cap_rows + 7) / 8, 0, (nc + 7) / 8 - (c->cap_rows + 7) / 8);
        c->valid = v;
    }
    c->cap_rows = nc;
    return 0;
}

static int cb_null(tl_colbuild *c, tl_error *err)
{
    if (!c->valid) {
        c->valid = malloc((c->cap_rows + 7) / 8 + 1);
        if (!c->valid)
            return tl_error_set(err, TL_ENOMEM, "column builder: out of memory");
        memset(c->valid, 0xff, (c->cap_rows + 7) / 8 + 1);
    }
    tl_bit_set(c->valid, c->n, 0);
    return 0;
}

int tl_cb_push(tl_colbuild *c, const void *v, tl_error *err)
{
    int rc = cb_room(c, err);
    if (rc)
        return rc;
    if (!v) {
        if ((rc = cb_null(c, err)))
            return rc;
        memset(c->vals + (size_t)c->n * c->width, 0, c->width);
    } else {
        memcpy(c->vals + (size_t)c->n * c->width, v, c->width);
        if (c->valid)
            tl_bit_set(c->valid, c->n, 1);
    }
    c->n++;
    return 0;
}

int tl_cb_push_str(tl_colbuild *c, const char *s, size_t len, tl_error *err)
{
    int rc = cb_room(c, err);
    if (rc)
        return rc;
    if (c->n == 0)
        c->offs[0] = 0;
    if (!s) {
        if ((rc = cb_null(c, err)))
            return rc;
        len = 0;
    } else if (c->valid) {
        tl_bit_set(c->valid, c->n, 1);
    }
    if (c->n_data + len > UINT32_MAX)
        return tl_error_set(err, TL_EINVAL, "column builder: more than 4 GiB of strings");
    if (c->n_data + len > c->cap_data) {
        size_t nc = c->cap_data ? c->cap_data : 4096;
        while (nc < c->n_data + len)
            nc *= 2;
        uint8_t *d = realloc(c->data, nc);
        if (!d)
            return tl_error_set(err, TL_ENOMEM, "column builder: out of memory");
        c->data = d;
        c->cap_data = nc;
    }
    if (len)
        memcpy(c->data + c->n_data, s, len);
    c->n_data += len;
    c->n++;
    c->offs[c->n] = (uint32_t)c->n_data;
    return 0;
}

int tl_cb_push_from(tl_colbuild *c, const tl_colvec *v, uint32_t i, tl_error *err)
{
    if (!tl_bit_get(v->validity, i))
        return c->width ? tl_cb_push(c, NULL, err) : tl_cb_push_str(c, NULL, 0, err);
    if (c->width)
        return tl_cb_push(c, (const uint8_t *)v->values + (size_t)i * c->width, err);
    return tl_cb_push_str(c, (const char *)v->data + v->offsets[i],
                          v->offsets[i + 1] - v->offsets[i], err);
}

void tl_cb_view(const tl_colbuild *c, tl_colvec *out)
{
    static const uint32_t zero_off[1] = {0};
    memset(out, 0, sizeof *out);
    out->validity = c->valid;
    if (c->width) {
        out->values = c->vals;
    } else {
        out->offsets = c->n ? c->offs : zero_off;
        out->data = c->data;
    }
}

double tl_val_num(const tl_colvec *v, tl_type t, uint32_t i)
{
    switch (t) {
    case TL_FLOAT64:
        return ((const double *)v->values)[i];
    case TL_FLOAT32:
        return (double)((const float *)v->values)[i];
    case TL_INT8:
        return ((const int8_t *)v->values)[i];
    case TL_INT16:
        return ((const int16_t *)v->values)[i];
    case TL_INT32:
    case TL_DATE:
        return ((const int32_t *)v->values)[i];
    case TL_INT64:
    case TL_TIMESTAMP:
    case TL_TIMESTAMP_US:
        return (double)((const int64_t *)v->values)[i];
    case TL_BOOL:
    case TL_UINT8:
        return ((const uint8_t *)v->values)[i];
    case TL_UINT16:
        return ((const uint16_t *)v->values)[i];
    case TL_UINT32:
        return ((const uint32_t *)v->values)[i];
    case TL_UINT64:
        return (double)((const uint64_t *)v->values)[i];
    default:
        return 0;
    }
}

static int64_t val_i64(const tl_colvec *v, tl_type t, uint32_t i)
{
    switch (t) {
    case TL_INT8:
        return ((const int8_t *)v->values)[i];
    case TL_INT16:
        return ((const int16_t *)v->values)[i];
    case TL_INT32:
        return ((const int32_t *)v->values)[i];
    case TL_INT64:
        return ((const int64_t *)v->values)[i];
    case TL_BOOL:
    case TL_UINT8:
        return ((const uint8_t *)v->values)[i];
    case TL_UINT16:
        return ((const uint16_t *)v->values)[i];
    case TL_UINT32:
        return ((const uint32_t *)v->values)[i];
    case TL_UINT64:
        return (int64_t)((const uint64_t *)v->values)[i];
    default:
        return 0;
    }
}

/* ---- interval text --------------------------------------------------------------- */

int tl_resample_parse_interval(const char *text, int64_t *ns, tl_error *err)
{
    if (!text || !ns)
        return tl_error_set(err, TL_EINVAL, "interval: NULL argument");
    const char *p = text;
    uint64_t n = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 12) {
        n = n * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    int64_t unit = 0;
    if (strcmp(p, "ms") == 0)
        unit = 1000000;
    else if (strcmp(p, "s") == 0)
        unit = TL_NS_PER_S;
    else if (strcmp(p, "m") == 0)
        unit = 60 * TL_NS_PER_S;
    else if (strcmp(p, "h") == 0)
        unit = 3600 * TL_NS_PER_S;
    else if (strcmp(p, "d") == 0)
        unit = TL_NS_PER_DAY;
    if (digits == 0 || unit == 0 || n == 0 || n > (uint64_t)(TL_NS_PER_DAY / unit) ||
        TL_NS_PER_DAY % ((int64_t)n * unit) != 0)
        return tl_error_set(err, TL_EINVAL,
                            "interval '%s': expected a positive whole number of ms, s, m, h or d "
                            "that divides a day (e.g. 1s, 1m, 5m, 1h, 1d)",
                            text);
    *ns = (int64_t)n * unit;
    return 0;
}

/* ---- the resampler --------------------------------------------------------------- */

#define RS_MAX_CONTRACT 16
#define RS_MAX_SLOTS (1u << 20) /* per-symbol intervals in one partition */

typedef struct kval { /* one contract column's value, kept across blocks */
    int null;
    uint64_t bits;
    char *s;
    size_t len, cap;
} kval;

typedef struct bacc { /* an interval being built */
    int used;
    int64_t bar;
    double open, high, low, close;
    int64_t open_ts, close_ts, first_ts, last_ts;
    int64_t vol_i;
    double vol_f;
    int vol_any;
    int64_t ticks;
    /* quotes */
    double spread, bid, ask;
    int64_t q_ts;
    int bs_null, as_null;
    int64_t bs_i, as_i;
    double bs_f, as_f;
} bacc;

typedef struct rworker {
    tl_colbuild *out;       /* n_out builders */
    kval key[RS_MAX_CONTRACT];
    bacc cur;               /* per contract */
    bacc *slots;            /* per symbol: one per interval of the unit's */
    size_t n_slots, cap_slots; /* time range, from interval slot0 on */
    int64_t slot0;
    const char *symbol;
    int32_t day;
} rworker;

typedef struct rctx {
    const tl_resample_opts *o;
    int64_t iv;
    int kind, per;
    /* projection indices */
    int ix_ts, ix_price, ix_vol, ix_bid, ix_ask, ix_bs, ix_as;
    tl_type t_price, t_vol, t_bid, t_ask, t_bs, t_as;
    int vol_float, bs_float, as_float;
    int ix_contract[RS_MAX_CONTRACT];
    tl_type t_contract[RS_MAX_CONTRACT];
    uint32_t n_contract;
    int has_sym_col;
    const tl_snapshot *s;
    /* output */
    tl_field out_fields[RS_MAX_CONTRACT + 16];
    uint32_t n_out;
    rworker *w;
    uint32_t n_w;
    tl_append *app;
    pthread_mutex_t mu;
    uint64_t rows_out;
} rctx;

static const char *day_str(int32_t day, char *buf)
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 40, "%04" PRId64 "-%02d-%02d", y, m, d);
    return buf;
}

static int r_oom(tl_error *err)
{
    return tl_error_set(err, TL_ENOMEM, "resample: out of memory");
}

static int rs_start(void *ctx, size_t n_units, uint32_t n_workers, tl_error *err)
{
    (void)n_units;
    rctx *c = ctx;
    c->w = calloc(n_workers ? n_workers : 1, sizeof *c->w);
    if (!c->w)
        return r_oom(err);
    c->n_w = n_workers;
    for (uint32_t i = 0; i < n_workers; i++) {
        c->w[i].out = calloc(c->n_out, sizeof(tl_colbuild));
        if (!c->w[i].out)
            return r_oom(err);
        for (uint32_t k = 0; k < c->n_out; k++)
            tl_cb_init(&c->w[i].out[k], c->out_fields[k].type);
    }
    return 0;
}

static int rs_unit_begin(void *ctx, uint32_t worker, size_t unit, size_t partition,
                         tl_error *err)
{
    (void)unit;
    rctx *c = ctx;
    rworker *w = &c->w[worker];
    tl_partition_info pi;
    tl_snapshot_partition(c->s, partition, &pi);
    w->symbol = pi.has_symbol && !pi.symbol_null ? pi.symbol : NULL;
    w->day = pi.day;
    w->cur.used = 0;
    if (c->per == TL_RESAMPLE_PER_SYMBOL) {
        /* one slot per interval of the partition's time range (its day) */
        int64_t lo, hi;
        if (pi.has_time_range && pi.first_ts_ns <= pi.last_ts_ns) {
            lo = tl_floor_div(pi.first_ts_ns, c->iv);
            hi = tl_floor_div(pi.last_ts_ns, c->iv);
        } else {
            lo = tl_floor_div((int64_t)pi.day * TL_NS_PER_DAY, c->iv);
            hi = lo + TL_NS_PER_DAY / c->iv - 1;
        }
        uint64_t n = (uint64_t)(hi - lo) + 1;
        char dbuf[40];
        if (n > RS_MAX_SLOTS)
            return tl_error_set(err, TL_EUNSUPPORTED,
                                "resample: partition %s %s: %" PRIu64
                                " intervals of %" PRId64 " ns per symbol (at most %u): use a "
                                "longer interval",
                                w->symbol ? w->symbol : "null", day_str(pi.day, dbuf), n, c->iv,
                                (unsigned)RS_MAX_SLOTS);
        if (n > w->cap_slots) {
            bacc *q = realloc(w->slots, (size_t)n * sizeof *q);
            if (!q)
                return r_oom(err);
            w->slots = q;
            w->cap_slots = (size_t)n;
        }
        for (size_t i = 0; i < n; i++)
            w->slots[i].used = 0;
        w->n_slots = (size_t)n;
        w->slot0 = lo;
    }
    return 0;
}

static int save_key(rctx *c, rworker *w, const tl_scan_block *b, uint32_t i, tl_error *err)
{
    for (uint32_t k = 0; k < c->n_contract; k++) {
        const tl_colvec *v = &b->cols[c->ix_contract[k]];
        kval *kv = &w->key[k];
        kv->null = !tl_bit_get(v->validity, i);
        if (kv->null)
            continue;
        if (c->t_contract[k] == TL_STRING) {
            size_t n = v->offsets[i + 1] - v->offsets[i];
            if (n + 1 > kv->cap) {
                char *p = realloc(kv->s, n + 1);
                if (!p)
                    return r_oom(err);
                kv->s = p;
                kv->cap = n + 1;
            }
            memcpy(kv->s, v->data + v->offsets[i], n);
            kv->len = n;
        } else {
            size_t wd = tl_type_width(c->t_contract[k]);
            kv->bits = 0;
            memcpy(&kv->bits, (const uint8_t *)v->values + (size_t)i * wd, wd);
        }
    }
    return 0;
}

static int emit(rctx *c, rworker *w, const bacc *a, int with_key, tl_error *err)
{
    tl_colbuild *o = w->out;
    uint32_t k = 0;
    int rc = 0;
    if (c->has_sym_col)
        rc = tl_cb_push_str(&o[k++], w->symbol, w->symbol ? strlen(w->symbol) : 0, err);
    for (uint32_t j = 0; j < c->n_contract && !rc && with_key; j++, k++) {
        const kval *kv = &w->key[j];
        if (c->t_contract[j] == TL_STRING)
            rc = tl_cb_push_str(&o[k], kv->null ? NULL : kv->s, kv->len, err);
        else
            rc = tl_cb_push(&o[k], kv->null ? NULL : &kv->bits, err);
    }
    if (rc)
        return rc;
    if ((rc = tl_cb_push(&o[k++], &a->bar, err)))
        return rc;
    if (c->kind == TL_RESAMPLE_BARS) {
        if ((rc = tl_cb_push(&o[k++], &a->open, err)) || (rc = tl_cb_push(&o[k++], &a->high, err)) ||
            (rc = tl_cb_push(&o[k++], &a->low, err)) || (rc = tl_cb_push(&o[k++], &a->close, err)))
            return rc;
        const void *vp = NULL;
        if (a->vol_any)
            vp = c->vol_float ? (const void *)&a->vol_f : (const void *)&a->vol_i;
        if ((rc = tl_cb_push(&o[k++], vp, err)) || (rc = tl_cb_push(&o[k++], &a->ticks, err)) ||
            (rc = tl_cb_push(&o[k++], &a->first_ts, err)) ||
            (rc = tl_cb_push(&o[k++], &a->last_ts, err)))
            return rc;
    } else {
        const void *bs = a->bs_null ? NULL : c->bs_float ? (const void *)&a->bs_f : (const void *)&a->bs_i;
        const void *as = a->as_null ? NULL : c->as_float ? (const void *)&a->as_f : (const void *)&a->as_i;
        if ((rc = tl_cb_push(&o[k++], &a->q_ts, err)) || (rc = tl_cb_push(&o[k++], &a->bid, err)) ||
            (rc = tl_cb_push(&o[k++], &a->ask, err)) || (rc = tl_cb_push(&o[k++], bs, err)) ||
            (rc = tl_cb_push(&o[k++], as, err)) || (rc = tl_cb_push(&o[k++], &a->spread, err)) ||
            (rc = tl_cb_push(&o[k++], &a->ticks, err)))
            return rc;
    }
    return 0;
}

/* Fold row i (time ts, already known in-interval bar) into a. Returns 1 when
 * the row counts (bars: a price; quotes: an eligible quote). */
static int fold(rctx *c, bacc *a, const tl_scan_block *b, uint32_t i, int64_t ts, int64_t bar)
{
    if (c->kind == TL_RESAMPLE_BARS) {
        const tl_colvec *pv = &b->cols[c->ix_price];
        if (!tl_bit_get(pv->validity, i))
            return 0;
        double p = tl_val_num(pv, c->t_price, i);
        if (p != p)
            return 0;
        if (!a->used) {
            memset(a, 0, sizeof *a);
            a->used = 1;
            a->bar = bar;
            a->open = a->high = a->low = a->close = p;
            a->open_ts = a->close_ts = a->first_ts = a->last_ts = ts;
        } else {
            if (ts < a->open_ts) {
                a->open_ts = ts;
                a->open = p;
            }
            if (ts >= a->close_ts) {
                a->close_ts = ts;
                a->close = p;
            }
            a->high = p > a->high ? p : a->high;
            a->low = p < a->low ? p : a->low;
            a->first_ts = ts < a->first_ts ? ts : a->first_ts;
            a->last_ts = ts > a->last_ts ? ts : a->last_ts;
        }
        a->ticks++;
        if (c->ix_vol >= 0 && tl_bit_get(b->cols[c->ix_vol].validity, i)) {
            a->vol_any = 1;
            if (c->vol_float)
                a->vol_f += tl_val_num(&b->cols[c->ix_vol], c->t_vol, i);
            else
                a->vol_i = (int64_t)((uint64_t)a->vol_i +
                                     (uint64_t)val_i64(&b->cols[c->ix_vol], c->t_vol, i));
        }
        return 1;
    }
    const tl_colvec *bv = &b->cols[c->ix_bid], *av = &b->cols[c->ix_ask];
    if (!tl_bit_get(bv->validity, i) || !tl_bit_get(av->validity, i))
        return 0;
    double bid = tl_val_num(bv, c->t_bid, i), ask = tl_val_num(av, c->t_ask, i);
    if (!(bid > 0) || !(ask > 0) || !(ask >= bid) || !isfinite(bid) || !isfinite(ask))
        return 0;
    double sp = ask - bid;
    int better = !a->used || sp < a->spread || (sp == a->spread && ts < a->q_ts);
    if (!a->used) {
        memset(a, 0, sizeof *a);
        a->used = 1;
        a->bar = bar;
    }
    a->ticks++;
    if (better) {
        a->spread = sp;
        a->bid = bid;
        a->ask = ask;
        a->q_ts = ts;
        a->bs_null = c->ix_bs < 0 || !tl_bit_get(b->cols[c->ix_bs].validity, i);
        a->as_null = c->ix_as < 0 || !tl_bit_get(b->cols[c->ix_as].validity, i);
        if (!a->bs_null) {
            a->bs_f = tl_val_num(&b->cols[c->ix_bs], c->t_bs, i);
            a->bs_i = val_i64(&b->cols[c->ix_bs], c->t_bs, i);
        }
        if (!a->as_null) {
            a->as_f = tl_val_num(&b->cols[c->ix_as], c->t_as, i);
            a->as_i = val_i64(&b->cols[c->ix_as], c->t_as, i);
        }
    }
    return 1;
}

static int rs_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    rctx *c = ctx;
    rworker *w = &c->w[b->worker];
    const tl_colvec *tv = &b->cols[c->ix_ts];
    const int64_t *tsv = tv->values;
    int rc;
    uint32_t start = 0;
    for (uint32_t r = 0; r < b->n_runs; r++) {
        uint32_t end = b->run_ends[r];
        if (c->per == TL_RESAMPLE_PER_CONTRACT && (r > 0 || !b->continues)) {
            if (w->cur.used && (rc = emit(c, w, &w->cur, 1, err)))
                return rc;
            w->cur.used = 0;
            if (start < end && (rc = save_key(c, w, b, start, err)))
                return rc;
        }
        for (uint32_t i = start; i < end; i++) {
            if ((b->sel && !tl_bit_get(b->sel, i)) || !tl_bit_get(tv->validity, i))
                continue;
            int64_t ts = tsv[i];
            int64_t bar = tl_floor_div(ts, c->iv) * c->iv;
            if (c->per == TL_RESAMPLE_PER_CONTRACT) {
                if (w->cur.used && bar != w->cur.bar) {
                    bacc probe = w->cur;
                    probe.used = 0;
                    if (fold(c, &probe, b, i, ts, bar)) {
                        if ((rc = emit(c, w, &w->cur, 1, err)))
                            return rc;
                        w->cur = probe;
                    }
                } else {
                    (void)fold(c, &w->cur, b, i, ts, bar);
                }
            } else {
                uint64_t slot = (uint64_t)(bar / c->iv - w->slot0);
                char dbuf[40];
                if (slot >= w->n_slots)
                    return tl_error_set(err, TL_ECORRUPT,
                                        "resample: partition %s %s: timestamp %" PRId64
                                        " lies outside the partition's time range (its log "
                                        "statistics)",
                                        w->symbol ? w->symbol : "null", day_str(w->day, dbuf), ts);
                (void)fold(c, &w->slots[slot], b, i, ts, bar);
            }
        }
        start = end;
    }
    return 0;
}

static int rs_unit_end(void *ctx, uint32_t worker, size_t unit, tl_error *err)
{
    (void)unit;
    rctx *c = ctx;
    rworker *w = &c->w[worker];
    int rc = 0;
    if (c->per == TL_RESAMPLE_PER_CONTRACT) {
        if (w->cur.used)
            rc = emit(c, w, &w->cur, 1, err);
        w->cur.used = 0;
    } else {
        for (size_t i = 0; i < w->n_slots && !rc; i++)
            if (w->slots[i].used)
                rc = emit(c, w, &w->slots[i], 0, err);
    }
    if (rc || w->out[0].n == 0)
        return rc;
    tl_coldef defs[RS_MAX_CONTRACT + 16];
    tl_colvec cols[RS_MAX_CONTRACT + 16];
    for (uint32_t k = 0; k < c->n_out; k++) {
        defs[k].name = c->out_fields[k].name;
        defs[k].type = c->out_fields[k].type;
        tl_cb_view(&w->out[k], &cols[k]);
    }
    tl_batch bt = {w->out[0].n, c->n_out, defs, cols};
    pthread_mutex_lock(&c->mu);
    rc = tl_append_batch(c->app, &bt, err);
    c->rows_out += bt.n_rows;
    pthread_mutex_unlock(&c->mu);
    for (uint32_t k = 0; k < c->n_out; k++)
        tl_cb_clear(&w->out[k]);
    return rc;
}

/* ---- setup ------------------------------------------------------------------------ */

static int find_f(const tl_snapshot_info *si, const char *name)
{
    for (uint32_t i = 0; i < si->n_fields; i++)
        if (strcmp(si->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int num_type(tl_type t)
{
    return (tl_type_is_float(t) || tl_type_is_signed_int(t) || tl_type_is_unsigned_int(t)) &&
           t != TL_DATE && t != TL_TIMESTAMP && t != TL_TIMESTAMP_US;
}

/* A value column: given (must exist), or the default (required when
 * `need`; else absent = -1). */
static int col_of(const tl_snapshot_info *si, const char *given, const char *def, int need,
                  const char *what, int *f, tl_type *t, tl_error *err)
{
    const char *n = given ? given : def;
    *f = find_f(si, n);
    if (*f < 0) {
        if (given || need)
            return tl_error_set(err, TL_EINVAL,
                                "resample: %s column '%s' is not a column of the source table",
                                what, n);
        return 0;
    }
    *t = si->fields[*f].type;
    if (!num_type(*t))
        return tl_error_set(err, TL_EINVAL, "resample: %s column '%s' is %s, expected a number",
                            what, n, tl_type_name(*t));
    return 0;
}

static int dst_compatible(tl_table *t, const char *path, const tl_table_spec *want,
                          tl_error *err)
{
    tl_snapshot *s = NULL;
    tl_at at = {TL_AT_LATEST, 0, 0};
    int rc = tl_snapshot_open(t, &at, &s, err);
    if (rc)
        return rc;
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    for (uint32_t i = 0; i < want->n_fields && !rc; i++) {
        int f = find_f(&si, want->fields[i].name);
        if (f < 0)
            rc = tl_error_set(err, TL_EINVAL,
                              "resample: destination %s: column '%s' is missing (expected %s)",
                              path, want->fields[i].name, tl_type_name(want->fields[i].type));
        else if (si.fields[f].type != want->fields[i].type)
            rc = tl_error_set(err, TL_EINVAL,
                              "resample: destination %s: column '%s' is %s, expected %s", path,
                              want->fields[i].name, tl_type_name(si.fields[f].type),
                              tl_type_name(want->fields[i].type));
    }
    if (!rc && si.n_fields != want->n_fields)
        rc = tl_error_set(err, TL_EINVAL,
                          "resample: destination %s: %u columns, expected %u (extra columns)",
                          path, si.n_fields, want->n_fields);
    const char *ws = want->symbol_column, *wd = want->day_column;
    if (!rc && ((!ws) != (!si.symbol_column) || (ws && strcmp(ws, si.symbol_column) != 0) ||
                (!wd) != (!si.day_column) || (wd && strcmp(wd, si.day_column) != 0)))
        rc = tl_error_set(err, TL_EINVAL,
                          "resample: destination %s: partitioned by (%s, day(%s)), expected (%s, "
                          "day(%s))",
                          path, si.symbol_column ? si.symbol_column : "-",
                          si.day_column ? si.day_column : "-", ws ? ws : "-", wd ? wd : "-");
    int same = !rc && si.n_sort_key == want->n_sort_key;
    for (uint32_t i = 0; same && i < si.n_sort_key; i++)
        same = strcmp(si.sort_key[i], want->sort_key[i]) == 0;
    if (!rc && !same)
        rc = tl_error_set(err, TL_EINVAL,
                          "resample: destination %s: its sort key differs from the expected one "
                          "(the contract columns, then bar_time)",
                          path);
    tl_snapshot_close(s);
    return rc;
}

int tl_table_resample(const tl_snapshot *src, const char *dst_path, const tl_resample_opts *o,
                      tl_resample_result *res, tl_error *err)
{
    if (!src || !dst_path || !o)
        return tl_error_set(err, TL_EINVAL, "resample: NULL argument");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tl_resample_result rr;
    memset(&rr, 0, sizeof rr);
    if (o->interval_ns <= 0 || TL_NS_PER_DAY % o->interval_ns != 0)
        return tl_error_set(err, TL_EINVAL,
                            "resample: interval of %" PRId64 " ns: expected > 0 and dividing a day",
                            o->interval_ns);
    if (o->kind != TL_RESAMPLE_BARS && o->kind != TL_RESAMPLE_QUOTES)
        return tl_error_set(err, TL_EINVAL, "resample: kind %d: expected bars (0) or quotes (1)",
                            o->kind);
    if (o->per != TL_RESAMPLE_PER_CONTRACT && o->per != TL_RESAMPLE_PER_SYMBOL)
        return tl_error_set(err, TL_EINVAL,
                            "resample: per %d: expected contract (0) or symbol (1)", o->per);
    tl_snapshot_info si;
    tl_snapshot_get_info(src, &si);
    rctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.s = src;
    c.iv = o->interval_ns;
    c.kind = o->kind;
    c.per = o->per;
    c.ix_vol = c.ix_bs = c.ix_as = -1;
    if (!si.day_column)
        return tl_error_set(err, TL_EINVAL,
                            "resample: the source table is not partitioned by the day of a "
                            "timestamp column");
    if (si.n_sort_key == 0 || strcmp(si.sort_key[si.n_sort_key - 1], si.day_column) != 0)
        return tl_error_set(err, TL_EINVAL,
                            "resample: the source table's sort key must end with its timestamp "
                            "column '%s'",
                            si.day_column);
    if (o->per == TL_RESAMPLE_PER_SYMBOL && !si.symbol_column)
        return tl_error_set(err, TL_EINVAL,
                            "resample: per symbol needs a source partitioned by symbol");
    int f_price = -1, f_vol = -1, f_bid = -1, f_ask = -1, f_bs = -1, f_as = -1;
    int rc;
    if (o->kind == TL_RESAMPLE_BARS) {
        if ((rc = col_of(&si, o->price_col, "price", 1, "price", &f_price, &c.t_price, err)) ||
            (rc = col_of(&si, o->volume_col, "volume", 0, "volume", &f_vol, &c.t_vol, err)))
            return rc;
    } else {
        if ((rc = col_of(&si, o->bid_col, "bp0", 1, "bid", &f_bid, &c.t_bid, err)) ||
            (rc = col_of(&si, o->ask_col, "sp0", 1, "ask", &f_ask, &c.t_ask, err)) ||
            (rc = col_of(&si, o->bid_size_col, "bq0", 0, "bid size", &f_bs, &c.t_bs, err)) ||
            (rc = col_of(&si, o->ask_size_col, "sq0", 0, "ask size", &f_as, &c.t_as, err)))
            return rc;
    }
    c.vol_float = f_vol >= 0 && tl_type_is_float(c.t_vol);
    c.bs_float = f_bs >= 0 && tl_type_is_float(c.t_bs);
    c.as_float = f_as >= 0 && tl_type_is_float(c.t_as);

    /* projection: time, values, contract columns */
    const char *proj[RS_MAX_CONTRACT + 8];
    uint32_t np = 0;
    proj[np] = si.day_column;
    c.ix_ts = (int)np++;
#define ADDP(f, ix)                                                                                \
    do {                                                                                           \
        (ix) = -1;                                                                                 \
        if ((f) >= 0) {                                                                            \
            for (uint32_t q = 0; q < np; q++)                                                      \
                if (strcmp(proj[q], si.fields[f].name) == 0)                                       \
                    (ix) = (int)q;                                                                 \
            if ((ix) < 0) {                                                                        \
                (ix) = (int)np;                                                                    \
                proj[np++] = si.fields[f].name;                                                    \
            }                                                                                      \
        }                                                                                          \
    } while (0)
    ADDP(f_price, c.ix_price);
    ADDP(f_vol, c.ix_vol);
    ADDP(f_bid, c.ix_bid);
    ADDP(f_ask, c.ix_ask);
    ADDP(f_bs, c.ix_bs);
    ADDP(f_as, c.ix_as);
    /* output schema */
    uint32_t no = 0;
    c.has_sym_col = si.symbol_column != NULL;
    if (c.has_sym_col)
        c.out_fields[no++] = (tl_field){si.symbol_column, TL_STRING, 0};
    const char *sort_key[RS_MAX_CONTRACT + 1];
    uint32_t nsk = 0;
    if (o->per == TL_RESAMPLE_PER_CONTRACT) {
        if (si.n_sort_key - 1 > RS_MAX_CONTRACT)
            return tl_error_set(err, TL_EUNSUPPORTED,
                                "resample: %u contract columns (at most %d)", si.n_sort_key - 1,
                                RS_MAX_CONTRACT);
        for (uint32_t k = 0; k + 1 < si.n_sort_key; k++) {
            int f = find_f(&si, si.sort_key[k]);
            if (c.has_sym_col && strcmp(si.sort_key[k], si.symbol_column) == 0)
                continue; /* the symbol is the partition's */
            int ix;
            ADDP(f, ix);
            c.ix_contract[c.n_contract] = ix;
            c.t_contract[c.n_contract++] = si.fields[f].type;
            c.out_fields[no++] = si.fields[f];
            sort_key[nsk++] = si.fields[f].name;
        }
    }
#undef ADDP
    static const char *const bar_names[] = {"open", "high", "low", "close"};
    c.out_fields[no++] = (tl_field){"bar_time", TL_TIMESTAMP, 0};
    sort_key[nsk++] = "bar_time";
    if (o->kind == TL_RESAMPLE_BARS) {
        for (int k = 0; k < 4; k++)
            c.out_fields[no++] = (tl_field){bar_names[k], TL_FLOAT64, 0};
        c.out_fields[no++] = (tl_field){"volume", c.vol_float ? TL_FLOAT64 : TL_INT64, 1};
        c.out_fields[no++] = (tl_field){"ticks", TL_INT64, 0};
        c.out_fields[no++] = (tl_field){"first_ts", TL_TIMESTAMP, 0};
        c.out_fields[no++] = (tl_field){"last_ts", TL_TIMESTAMP, 0};
    } else {
        c.out_fields[no++] = (tl_field){"quote_ts", TL_TIMESTAMP, 0};
        c.out_fields[no++] = (tl_field){"bid", TL_FLOAT64, 0};
        c.out_fields[no++] = (tl_field){"ask", TL_FLOAT64, 0};
        c.out_fields[no++] = (tl_field){"bid_size", c.bs_float ? TL_FLOAT64 : TL_INT64, 1};
        c.out_fields[no++] = (tl_field){"ask_size", c.as_float ? TL_FLOAT64 : TL_INT64, 1};
        c.out_fields[no++] = (tl_field){"spread", TL_FLOAT64, 0};
        c.out_fields[no++] = (tl_field){"quotes", TL_INT64, 0};
    }
    c.n_out = no;
    for (uint32_t i = 0; i < no; i++)
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(c.out_fields[i].name, c.out_fields[j].name) == 0)
                return tl_error_set(err, TL_EINVAL,
                                    "resample: source column '%s' has the name of an output "
                                    "column",
                                    c.out_fields[i].name);
    tl_table_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.fields = c.out_fields;
    spec.n_fields = no;
    spec.symbol_column = si.symbol_column;
    spec.day_column = "bar_time";
    spec.sort_key = sort_key;
    spec.n_sort_key = nsk;
    spec.name = o->kind == TL_RESAMPLE_BARS ? "bars" : "quotes";

    /* destination */
    tl_table *dst = NULL;
    tl_error e2 = {0};
    rc = tl_table_open(dst_path, &dst, &e2);
    if (rc == TL_ENOTFOUND) {
        if ((rc = tl_table_create(dst_path, &spec, err)))
            return rc;
        rr.created = 1;
        rc = tl_table_open(dst_path, &dst, err);
    } else if (rc && err) {
        *err = e2;
    }
    if (rc)
        return rc;
    if (!rr.created && (rc = dst_compatible(dst, dst_path, &spec, err))) {
        tl_table_close(dst);
        return rc;
    }
    tl_append_opts ao = o->append;
    if (!ao.operation)
        ao.operation = "RESAMPLE";
    if ((rc = tl_append_begin(dst, &ao, &c.app, err))) {
        tl_table_close(dst);
        return rc;
    }
    pthread_mutex_init(&c.mu, NULL);
    tl_scan_opts so;
    memset(&so, 0, sizeof so);
    so.columns = proj;
    so.n_columns = np;
    so.ordered = 1;
    so.symbols = o->symbols;
    so.n_symbols = o->n_symbols;
    so.has_days = o->has_days;
    so.day_from = o->day_from;
    so.day_to = o->day_to;
    so.threads = o->threads;
    so.io = o->io;
    so.progress = o->progress;
    so.progress_ctx = o->progress_ctx;
    tl_scan_cb cb = {rs_start, rs_unit_begin, rs_block, rs_unit_end, &c};
    tl_scan_stats st;
    memset(&st, 0, sizeof st);
    rc = tl_scan_run(src, &so, &cb, &st, err);
    if (rc) {
        if (err && strncmp(err->msg, "resample: ", 10) != 0)
            tl_error_prefix(err, "resample: ");
        tl_append_abort(c.app);
    } else {
        rc = tl_append_commit(c.app, &rr.append, err);
    }
    pthread_mutex_destroy(&c.mu);
    for (uint32_t i = 0; c.w && i < c.n_w; i++) {
        for (uint32_t k = 0; c.w[i].out && k < c.n_out; k++)
            tl_cb_free(&c.w[i].out[k]);
        free(c.w[i].out);
        free(c.w[i].slots);
        for (int k = 0; k < RS_MAX_CONTRACT; k++)
            free(c.w[i].key[k].s);
    }
    free(c.w);
    tl_table_close(dst);
    if (rc)
        return rc;
    rr.src_version = si.version;
    rr.rows_in = st.rows_selected;
    rr.rows_out = rr.append.noop ? 0 : c.rows_out;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rr.elapsed_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (res)
        *res = rr;
    return 0;
}
