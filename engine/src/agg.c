/*
 * agg.c - aggregates over a scan: tl_agg_parse (the "count, sum(volume),
 * min(price)" list), tl_scan_aggregate and its result.
 *
 * tl_scan_aggregate runs tl_scan_run with a projection of the aggregated
 * and grouping columns. Each work unit gets its own state (allocated in
 * unit_begin, touched only by the worker running the unit: no locks): a
 * list of groups, each with one accumulator per spec. Units are combined
 * into the total in unit order, so results do not depend on the thread
 * count or on which worker ran which unit: at each unit_end (under a
 * mutex) every finished unit that continues the folded prefix is combined
 * and freed, and after the scan whatever is left, still in unit order.
 * Memory: the states of the units finished out of order (about the
 * workers' count), not one per unit of the table.
 *
 * Summation order (documented in spec/SCAN.md section 5): a float sum adds
 * a group's selected non-null values of one block in row order starting
 * from +0.0; block partial sums are added to the unit's group total in
 * block order; unit totals are added in unit order, starting from +0.0.
 * Integer sums are exact (__int128); a final sum outside int64 is TL_EINVAL
 * naming the column. avg = sum / count in double (integer sums converted
 * once). min/max of floats ignore NaN (NaN when every non-null value is
 * NaN); strings compare bytewise (memcmp, then shorter first).
 *
 * Invariants: a group exists only if at least one selected row has its key;
 * groups are reported in (symbol, day) order, nulls first; count(*) counts
 * selected rows, count(col) selected rows where col is not null.
 */
#include "snapshot_int.h"
#include "ticklake.h"

#include "util_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AGG_MAX_SPECS 256u

typedef __int128 i128;

/* ---- parsing ------------------------------------------------------------------ */

static int is_id0(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_id(int c) { return is_id0(c) || (c >= '0' && c <= '9'); }
static void skip_ws(const char *s, size_t *i)
{
    while (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r')
        (*i)++;
}

void tl_agg_specs_free(tl_agg_spec *specs, uint32_t n)
{
    if (!specs)
        return;
    for (uint32_t i = 0; i < n; i++)
        free((char *)specs[i].column);
    free(specs);
}

static int agg_perr(tl_error *err, const char *text, size_t at, const char *what)
{
    char snip[32];
    size_t k = 0;
    for (size_t i = at; text[i] && k < 24; i++) {
        unsigned char c = (unsigned char)text[i];
        snip[k++] = (c >= 0x20 && c < 0x7f && c != '`') ? (char)c : '?';
    }
    snip[k] = 0;
    return tl_error_set(err, TL_EINVAL, "aggregates: at %zu (`%s`): %s", at,
                        k ? snip : "end of text", what);
}

int tl_agg_parse(const char *text, tl_agg_spec **specs, uint32_t *n, tl_error *err)
{
    if (!specs || !n)
        return tl_error_set(err, TL_EINVAL, "aggregates: NULL output pointer");
    *specs = NULL;
    *n = 0;
    if (!text)
        return tl_error_set(err, TL_EINVAL, "aggregates: no text");
    static const struct {
        const char *name;
        int fn;
    } fns[] = {{"count", TL_AGG_COUNT}, {"sum", TL_AGG_SUM}, {"min", TL_AGG_MIN},
               {"max", TL_AGG_MAX},     {"avg", TL_AGG_AVG}};
    tl_agg_spec *out = NULL;
    uint32_t cnt = 0, cap = 0;
    size_t i = 0;
    int rc;
    for (;;) {
        skip_ws(text, &i);
        size_t at = i;
        size_t j = i;
        while (is_id(text[j]))
            j++;
        int fn = -1;
        for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
            if (strlen(fns[k].name) == j - i && strncasecmp(text + i, fns[k].name, j - i) == 0)
                fn = fns[k].fn;
        if (fn < 0) {
            rc = agg_perr(err, text, at, "expected count, sum, min, max or avg");
            goto fail;
        }
        i = j;
        skip_ws(text, &i);
        char *col = NULL;
        if (text[i] == '(') {
            i++;
            skip_ws(text, &i);
            size_t cat = i;
            if (text[i] == '*') {
                if (fn != TL_AGG_COUNT) {
                    rc = agg_perr(err, text, cat, "only count takes *");
                    goto fail;
                }
                i++;
            } else if (text[i] == '"') {
                size_t k = i + 1, len = 0;
                for (;; k++) {
                    if (!text[k]) {
                        rc = agg_perr(err, text, cat, "unterminated quoted column name");
                        goto fail;
                    }
                    if (text[k] == '"') {
                        if (text[k + 1] != '"')
                            break;
                        k++;
                    }
                    len++;
                }
                col = malloc(len + 1);
                if (!col) {
                    rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
                    goto fail;
                }
                size_t w = 0;
                for (size_t q = i + 1; q < k; q++) {
                    col[w++] = text[q];
                    if (text[q] == '"')
                        q++;
                }
                col[w] = 0;
                i = k + 1;
            } else if (is_id0((unsigned char)text[i])) {
                size_t k = i;
                while (is_id((unsigned char)text[k]))
                    k++;
                col = strndup(text + i, k - i);
                if (!col) {
                    rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
                    goto fail;
                }
                i = k;
            } else {
                rc = agg_perr(err, text, cat, "expected a column name or *");
                goto fail;
            }
            skip_ws(text, &i);
            if (text[i] != ')') {
                free(col);
                rc = agg_perr(err, text, i, "expected ')'");
                goto fail;
            }
            i++;
        } else if (fn != TL_AGG_COUNT) {
            rc = agg_perr(err, text, i, "expected '(' and a column");
            goto fail;
        }
        if (cnt == AGG_MAX_SPECS) {
            free(col);
            rc = agg_perr(err, text, at, "more than 256 aggregates");
            goto fail;
        }
        if (cnt == cap) {
            uint32_t nc = cap ? cap * 2 : 8;
            tl_agg_spec *q = realloc(out, nc * sizeof *q);
            if (!q) {
                free(col);
                rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
                goto fail;
            }
            out = q;
            cap = nc;
        }
        out[cnt].fn = fn;
        out[cnt].column = col;
        cnt++;
        skip_ws(text, &i);
        if (text[i] == ',') {
            i++;
            continue;
        }
        if (text[i] == 0)
            break;
        rc = agg_perr(err, text, i, "expected ',' or the end of the list");
        goto fail;
    }
    *specs = out;
    *n = cnt;
    return TL_OK;
fail:
    tl_agg_specs_free(out, cnt);
    return rc;
}

/* ---- accumulation ------------------------------------------------------------- */

enum { K_SIGNED = 1, K_UNSIGNED, K_FLOAT, K_STRING };

typedef struct acc {
    uint64_t n;    /* inputs counted (rows for count(*), non-null otherwise) */
    i128 isum;
    double fsum, bsum; /* total, and the current block's partial */
    int has;       /* min/max: a value seen (floats: a non-NaN value) */
    int64_t imin, imax;
    uint64_t umin, umax;
    double fmin, fmax;
    uint8_t *smin, *smax;
    uint32_t sminl, smaxl;
    size_t sminc, smaxc;
} acc;

typedef struct group {
    int sym_null;
    uint8_t *sym;
    uint32_t sym_len;
    int day_null;
    int32_t day;
    uint64_t hash;
    int touched; /* in the current block (float partial sums) */
    acc *a;      /* n_specs */
} group;

typedef struct unit_state {
    group *g;
    size_t n, cap;
    uint32_t *ht; /* open addressing: gid + 1, 0 = empty */
    size_t ht_cap;
    uint32_t *gid; /* per row of the current block */
    size_t gid_cap;
    uint32_t *touched;
    size_t n_touched, touched_cap;
} unit_state;

typedef struct spec_b { /* a spec bound to the projection */
    int fn;
    int slot;  /* projection slot; -1 for count(*) */
    int kind;  /* K_* of the column */
    tl_type type;
    const char *name;
} spec_b;

typedef struct agg_ctx {
    const spec_b *sp;
    uint32_t n_specs;
    const tl_snapshot *snap;
    int sym_part, day_part; /* grouped by a partition column: key per block */
    int sym_slot;           /* grouped by a symbol column read per row; else -1 */
    const char *const *proj;
    uint32_t n_proj;
    size_t n_units;
    unit_state **units;
    /* folding (mu): units [0, next_fold) are combined into tot and freed;
     * done[u]: unit u ended */
    pthread_mutex_t mu;
    unit_state *tot;
    uint8_t *done;
    size_t next_fold;
} agg_ctx;

static int kind_of(tl_type t)
{
    if (t == TL_STRING)
        return K_STRING;
    if (tl_type_is_float(t))
        return K_FLOAT;
    if (tl_type_is_unsigned_int(t))
        return K_UNSIGNED;
    return K_SIGNED;
}

static int scmp(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    uint32_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static uint64_t key_hash(int sym_null, const uint8_t *s, uint32_t l, int day_null, int32_t day)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (uint32_t i = 0; i < l; i++)
        h = (h ^ s[i]) * UINT64_C(1099511628211);
    h ^= (uint64_t)(uint32_t)day * UINT64_C(0x9E3779B97F4A7C15);
    h ^= (uint64_t)(sym_null * 2 + day_null) << 61;
    return h ^ (h >> 29);
}

static void unit_free(unit_state *u, uint32_t n_specs)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        for (uint32_t k = 0; k < n_specs; k++) {
            free(u->g[i].a[k].smin);
            free(u->g[i].a[k].smax);
        }
        free(u->g[i].a);
        free(u->g[i].sym);
    }
    free(u->g);
    free(u->ht);
    free(u->gid);
    free(u->touched);
    free(u);
}

static int ht_rebuild(unit_state *u)
{
    size_t cap = u->ht_cap ? u->ht_cap * 2 : 16;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return TL_ENOMEM;
    for (size_t i = 0; i < u->n; i++) {
        size_t h = (size_t)u->g[i].hash & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = (uint32_t)i + 1;
    }
    free(u->ht);
    u->ht = t;
    u->ht_cap = cap;
    return TL_OK;
}

/* The group of a key in u (created if new): *gid. */
static int find_group(unit_state *u, uint32_t n_specs, int sym_null, const uint8_t *s, uint32_t l,
                      int day_null, int32_t day, uint32_t *gid, tl_error *err)
{
    uint64_t h = key_hash(sym_null, s, l, day_null, day);
    if (u->ht_cap) {
        size_t p = (size_t)h & (u->ht_cap - 1);
        while (u->ht[p]) {
            group *g = &u->g[u->ht[p] - 1];
            if (g->hash == h && g->sym_null == sym_null && g->day_null == day_null &&
                g->day == day && g->sym_len == l && (l == 0 || memcmp(g->sym, s, l) == 0)) {
                *gid = u->ht[p] - 1;
                return TL_OK;
            }
            p = (p + 1) & (u->ht_cap - 1);
        }
    }
    if (u->n == u->cap) {
        size_t nc = u->cap ? u->cap * 2 : 4;
        group *q = realloc(u->g, nc * sizeof *q);
        if (!q)
            return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory (groups)");
        u->g = q;
        u->cap = nc;
    }
    group *g = &u->g[u->n];
    memset(g, 0, sizeof *g);
    g->a = calloc(n_specs ? n_specs : 1, sizeof(acc));
    g->sym = malloc(l ? l : 1);
    if (!g->a || !g->sym) {
        free(g->a);
        free(g->sym);
        return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory (groups)");
    }
    if (l)
        memcpy(g->sym, s, l);
    g->sym_len = l;
    g->sym_null = sym_null;
    g->day_null = day_null;
    g->day = day;
    g->hash = h;
    *gid = (uint32_t)u->n;
    u->n++;
    if (u->n * 2 > u->ht_cap) { /* grow: re-inserts every group, this one too */
        if (ht_rebuild(u))
            return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory (group table)");
    } else {
        size_t p = (size_t)h & (u->ht_cap - 1);
        while (u->ht[p])
            p = (p + 1) & (u->ht_cap - 1);
        u->ht[p] = *gid + 1;
    }
    return TL_OK;
}

static int set_str(uint8_t **p, uint32_t *l, size_t *cap, const uint8_t *s, uint32_t n)
{
    if (tl_grow((void **)p, cap, n ? n : 1))
        return TL_ENOMEM;
    if (n)
        memcpy(*p, s, n);
    *l = n;
    return TL_OK;
}

static inline int selected(const uint8_t *sel, uint32_t i)
{
    return sel == NULL || ((sel[i >> 3] >> (i & 7)) & 1);
}

/* Fold value i of column c (kind, type) into a. Floats go to a->bsum. */
static inline int fold_value(acc *a, int fn, int kind, tl_type type, const tl_colvec *c, uint32_t i)
{
    if (!tl_bit_get(c->validity, i))
        return TL_OK;
    a->n++;
    if (fn == TL_AGG_COUNT)
        return TL_OK;
    switch (kind) {
    case K_SIGNED: {
        int64_t v;
        switch (type) {
        case TL_INT8: v = ((const int8_t *)c->values)[i]; break;
        case TL_INT16: v = ((const int16_t *)c->values)[i]; break;
        case TL_INT32: case TL_DATE: v = ((const int32_t *)c->values)[i]; break;
        default: v = ((const int64_t *)c->values)[i]; break;
        }
        a->isum += v;
        if (!a->has || v < a->imin) a->imin = v;
        if (!a->has || v > a->imax) a->imax = v;
        a->has = 1;
        break;
    }
    case K_UNSIGNED: {
        uint64_t v;
        switch (type) {
        case TL_UINT8: case TL_BOOL: v = ((const uint8_t *)c->values)[i]; break;
        case TL_UINT16: v = ((const uint16_t *)c->values)[i]; break;
        case TL_UINT32: v = ((const uint32_t *)c->values)[i]; break;
        default: v = ((const uint64_t *)c->values)[i]; break;
        }
        a->isum += v;
        if (!a->has || v < a->umin) a->umin = v;
        if (!a->has || v > a->umax) a->umax = v;
        a->has = 1;
        break;
    }
    case K_FLOAT: {
        double v = type == TL_FLOAT32 ? (double)((const float *)c->values)[i]
                                      : ((const double *)c->values)[i];
        a->bsum += v;
        if (v == v) {
            if (!a->has || v < a->fmin) a->fmin = v;
            if (!a->has || v > a->fmax) a->fmax = v;
            a->has = 1;
        }
        break;
    }
    case K_STRING: {
        const uint8_t *s = c->data + c->offsets[i];
        uint32_t l = c->offsets[i + 1] - c->offsets[i];
        if (fn == TL_AGG_MIN && (!a->has || scmp(s, l, a->smin, a->sminl) < 0))
            if (set_str(&a->smin, &a->sminl, &a->sminc, s, l))
                return TL_ENOMEM;
        if (fn == TL_AGG_MAX && (!a->has || scmp(s, l, a->smax, a->smaxl) > 0))
            if (set_str(&a->smax, &a->smaxl, &a->smaxc, s, l))
                return TL_ENOMEM;
        a->has = 1;
        break;
    }
    }
    return TL_OK;
}

/* Bits [64*w, 64*w + 64) of bm (all set when bm is NULL), rows >= n clear. */
static inline uint64_t word_at(const uint8_t *bm, uint32_t w, uint32_t n)
{
    uint32_t first = w * 64, left = n - first;
    uint64_t x = ~UINT64_C(0);
    if (bm) {
        uint32_t nb = left >= 64 ? 8 : (left + 7) / 8;
        x = 0;
        for (uint32_t k = 0; k < nb; k++)
            x |= (uint64_t)bm[first / 8 + k] << (8 * k);
    }
    if (left < 64)
        x &= (UINT64_C(1) << left) - 1;
    return x;
}

/* For each selected non-null row i (ascending) of the block: BODY with v =
 * the value widened to VT. */
#define EACH_ROW(T, VT, BODY)                                                                      \
    do {                                                                                           \
        const T *x_ = (const T *)c->values;                                                        \
        for (uint32_t w_ = 0; w_ < (n + 63) / 64; w_++) {                                          \
            uint64_t m_ = word_at(sel, w_, n) & word_at(c->validity, w_, n);                       \
            if (m_ == ~UINT64_C(0)) {                                                              \
                for (uint32_t j_ = 0; j_ < 64; j_++) {                                             \
                    VT v = (VT)x_[w_ * 64 + j_];                                                   \
                    BODY;                                                                          \
                }                                                                                  \
            } else {                                                                               \
                while (m_) {                                                                       \
                    uint32_t j_ = (uint32_t)__builtin_ctzll(m_);                                   \
                    m_ &= m_ - 1;                                                                  \
                    VT v = (VT)x_[w_ * 64 + j_];                                                   \
                    BODY;                                                                          \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define ACC_INT(T, VT, MN, MX)                                                                     \
    do {                                                                                           \
        if (fn == TL_AGG_SUM || fn == TL_AGG_AVG) {                                                \
            i128 s_ = 0;                                                                           \
            uint64_t k_ = 0;                                                                       \
            EACH_ROW(T, VT, (s_ += v, k_++));                                                      \
            a->isum += s_;                                                                         \
            a->n += k_;                                                                            \
        } else {                                                                                   \
            uint64_t k_ = 0;                                                                       \
            VT mn_ = a->MN, mx_ = a->MX;                                                           \
            int h_ = a->has;                                                                       \
            EACH_ROW(T, VT, (k_++, mn_ = (!h_ || v < mn_) ? v : mn_,                               \
                             mx_ = (!h_ || v > mx_) ? v : mx_, h_ = 1));                           \
            a->MN = mn_, a->MX = mx_, a->has = h_;                                                 \
            a->n += k_;                                                                            \
        }                                                                                          \
    } while (0)

#define ACC_FLT(T)                                                                                 \
    do {                                                                                           \
        if (fn == TL_AGG_SUM || fn == TL_AGG_AVG) {                                                \
            double s_ = 0.0; /* row order: the documented summation order */                       \
            uint64_t k_ = 0;                                                                       \
            EACH_ROW(T, double, (s_ += v, k_++));                                                  \
            a->bsum = s_;                                                                          \
            a->n += k_;                                                                            \
        } else {                                                                                   \
            uint64_t k_ = 0;                                                                       \
            double mn_ = a->fmin, mx_ = a->fmax;                                                   \
            int h_ = a->has;                                                                       \
            EACH_ROW(T, double, (k_++, (v == v) ? (mn_ = (!h_ || v < mn_) ? v : mn_,               \
                                                   mx_ = (!h_ || v > mx_) ? v : mx_, h_ = 1)      \
                                                : 0));                                             \
            a->fmin = mn_, a->fmax = mx_, a->has = h_;                                             \
            a->n += k_;                                                                            \
        }                                                                                          \
    } while (0)

/* One spec over a block whose selected rows all belong to one group (a).
 * Returns 0 when handled, 1 when the caller must go row by row. */
static int acc_uniform(acc *a, int fn, tl_type type, const tl_colvec *c, const uint8_t *sel,
                       uint32_t n)
{
    if (fn == TL_AGG_COUNT) {
        uint64_t k = 0;
        for (uint32_t w = 0; w < (n + 63) / 64; w++)
            k += (uint64_t)__builtin_popcountll(word_at(sel, w, n) & word_at(c->validity, w, n));
        a->n += k;
        return 0;
    }
    switch (type) {
    case TL_INT8: ACC_INT(int8_t, int64_t, imin, imax); return 0;
    case TL_INT16: ACC_INT(int16_t, int64_t, imin, imax); return 0;
    case TL_INT32: case TL_DATE: ACC_INT(int32_t, int64_t, imin, imax); return 0;
    case TL_INT64: case TL_TIMESTAMP: case TL_TIMESTAMP_US:
        ACC_INT(int64_t, int64_t, imin, imax); return 0;
    case TL_UINT8: case TL_BOOL: ACC_INT(uint8_t, uint64_t, umin, umax); return 0;
    case TL_UINT16: ACC_INT(uint16_t, uint64_t, umin, umax); return 0;
    case TL_UINT32: ACC_INT(uint32_t, uint64_t, umin, umax); return 0;
    case TL_UINT64: ACC_INT(uint64_t, uint64_t, umin, umax); return 0;
    case TL_FLOAT32: ACC_FLT(float); return 0;
    case TL_FLOAT64: ACC_FLT(double); return 0;
    default: return 1;
    }
}

static int cb_start(void *vctx, size_t n_units, uint32_t n_workers, tl_error *err)
{
    agg_ctx *X = vctx;
    (void)n_workers;
    X->units = calloc(n_units ? n_units : 1, sizeof *X->units);
    X->done = calloc(n_units ? n_units : 1, 1);
    if (!X->units || !X->done)
        return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory (%zu units)", n_units);
    X->n_units = n_units;
    return TL_OK;
}

static int cb_unit_begin(void *vctx, uint32_t worker, size_t unit, size_t partition, tl_error *err)
{
    agg_ctx *X = vctx;
    (void)worker;
    (void)partition;
    if (unit >= X->n_units)
        return tl_error_set(err, TL_EINVAL, "aggregates: unit %zu of %zu", unit, X->n_units);
    if (!X->units[unit]) {
        X->units[unit] = calloc(1, sizeof(unit_state));
        if (!X->units[unit])
            return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
    }
    return TL_OK;
}

static int fold_unit(agg_ctx *X, size_t un, tl_error *err);

/* Unit `unit` ended: combine every ended unit that continues the folded
 * prefix, in unit order, and free its state. */
static int cb_unit_end(void *vctx, uint32_t worker, size_t unit, tl_error *err)
{
    agg_ctx *X = vctx;
    (void)worker;
    if (unit >= X->n_units)
        return tl_error_set(err, TL_EINVAL, "aggregates: unit %zu of %zu", unit, X->n_units);
    int rc = TL_OK;
    pthread_mutex_lock(&X->mu);
    X->done[unit] = 1;
    while (rc == TL_OK && X->next_fold < X->n_units && X->done[X->next_fold])
        rc = fold_unit(X, X->next_fold++, err);
    pthread_mutex_unlock(&X->mu);
    return rc;
}

static int cb_block(void *vctx, const tl_scan_block *b, tl_error *err)
{
    agg_ctx *X = vctx;
    if (b->unit >= X->n_units)
        return tl_error_set(err, TL_EINVAL, "aggregates: unit %zu of %zu", b->unit, X->n_units);
    unit_state *u = X->units[b->unit];
    if (!u) {
        u = X->units[b->unit] = calloc(1, sizeof(unit_state));
        if (!u)
            return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
    }
    if (b->n_cols != X->n_proj)
        return tl_error_set(err, TL_EINVAL, "aggregates: a block has %u columns, the projection %u",
                            b->n_cols, X->n_proj);
    if (b->n_sel == 0 && b->sel)
        return TL_OK;
    uint32_t n = b->n_rows;
    const uint8_t *sel = b->sel;
    /* group ids */
    int uniform = 1;
    uint32_t g0 = 0;
    if (X->sym_slot < 0) {
        /* one key for the whole block: none, or the partition's values */
        int sn = 1, dn = 1;
        const uint8_t *ks = NULL;
        uint32_t kl = 0;
        int32_t kd = 0;
        if (X->sym_part || X->day_part) {
            tl_partition_info pi;
            tl_snapshot_partition(X->snap, b->partition, &pi);
            if (X->sym_part && pi.has_symbol && !pi.symbol_null) {
                sn = 0;
                ks = (const uint8_t *)pi.symbol;
                kl = (uint32_t)strlen(pi.symbol);
            }
            if (X->day_part && pi.has_day && !pi.day_null) {
                dn = 0;
                kd = pi.day;
            }
        }
        if (u->n == 1 && u->g[0].sym_null == sn && u->g[0].day_null == dn && u->g[0].day == kd &&
            u->g[0].sym_len == kl && (kl == 0 || memcmp(u->g[0].sym, ks, kl) == 0)) {
            g0 = 0;
        } else {
            int rc = find_group(u, X->n_specs, sn, ks, kl, dn, kd, &g0, err);
            if (rc)
                return rc;
        }
    } else {
        if (tl_grow((void **)&u->gid, &u->gid_cap, (size_t)n * sizeof(uint32_t)))
            return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory (%u group ids)", n);
        const tl_colvec *sc = X->sym_slot >= 0 ? &b->cols[X->sym_slot] : NULL;
        int part_dn = 1;
        int32_t part_d = 0;
        if (X->day_part) {
            tl_partition_info pi;
            tl_snapshot_partition(X->snap, b->partition, &pi);
            if (pi.has_day && !pi.day_null) {
                part_dn = 0;
                part_d = pi.day;
            }
        }
        int have_prev = 0, psn = 0, pdn = 0;
        const uint8_t *ps = NULL;
        uint32_t pl = 0, pg = 0;
        int32_t pd = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (!selected(sel, i))
                continue;
            int sn = 1, dn = part_dn;
            const uint8_t *s = NULL;
            uint32_t l = 0;
            int32_t d = part_d;
            if (sc && tl_bit_get(sc->validity, i)) {
                sn = 0;
                s = sc->data + sc->offsets[i];
                l = sc->offsets[i + 1] - sc->offsets[i];
            }
            uint32_t g;
            if (have_prev && sn == psn && dn == pdn && d == pd && l == pl &&
                (l == 0 || s == ps || memcmp(s, ps, l) == 0)) {
                g = pg;
            } else {
                int rc = find_group(u, X->n_specs, sn, s, l, dn, d, &g, err);
                if (rc)
                    return rc;
                if (have_prev && g != g0)
                    uniform = 0;
                if (!have_prev)
                    g0 = g;
                have_prev = 1;
                psn = sn, pdn = dn, ps = s, pl = l, pd = d, pg = g;
            }
            u->gid[i] = g;
        }
        if (!have_prev)
            return TL_OK; /* nothing selected */
    }
    /* accumulate, per spec */
    u->n_touched = 0;
    for (uint32_t k = 0; k < X->n_specs; k++) {
        const spec_b *sp = &X->sp[k];
        if (sp->slot < 0) { /* count(*) */
            if (uniform) {
                u->g[g0].a[k].n += sel ? b->n_sel : n;
            } else {
                for (uint32_t i = 0; i < n; i++)
                    if (selected(sel, i))
                        u->g[u->gid[i]].a[k].n++;
            }
            continue;
        }
        const tl_colvec *c = &b->cols[sp->slot];
        if (uniform) {
            acc *a = &u->g[g0].a[k];
            a->bsum = 0.0;
            if (sp->fn == TL_AGG_COUNT && !c->validity) {
                a->n += sel ? b->n_sel : n;
                continue;
            }
            if (acc_uniform(a, sp->fn, sp->type, c, sel, n) == 0) {
                a->fsum += a->bsum;
                continue;
            }
            for (uint32_t i = 0; i < n; i++)
                if (selected(sel, i) && fold_value(a, sp->fn, sp->kind, sp->type, c, i))
                    return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
            a->fsum += a->bsum;
        } else {
            for (size_t j = 0; j < u->n; j++)
                u->g[j].a[k].bsum = 0.0;
            for (uint32_t i = 0; i < n; i++)
                if (selected(sel, i) &&
                    fold_value(&u->g[u->gid[i]].a[k], sp->fn, sp->kind, sp->type, c, i))
                    return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
            for (size_t j = 0; j < u->n; j++)
                u->g[j].a[k].fsum += u->g[j].a[k].bsum; /* +0.0 for untouched */
        }
    }
    return TL_OK;
}

/* ---- combining and the result ------------------------------------------------ */

void tl_agg_result_free(tl_agg_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n_rows; i++) {
        tl_agg_row *r = &res->rows[i];
        free(r->symbol);
        if (r->values)
            for (uint32_t k = 0; k < res->n_specs; k++)
                free(r->values[k].s);
        free(r->values);
    }
    free(res->rows);
    memset(res, 0, sizeof *res);
}

static int group_order(const void *pa, const void *pb)
{
    const group *a = pa, *b = pb;
    if (a->sym_null != b->sym_null)
        return a->sym_null ? -1 : 1;
    int c = scmp(a->sym, a->sym_len, b->sym, b->sym_len);
    if (c)
        return c;
    if (a->day_null != b->day_null)
        return a->day_null ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

/* Add unit accumulator s into the total t (unit order). */
static int combine(acc *t, const acc *s, const spec_b *sp)
{
    t->n += s->n;
    t->isum += s->isum;
    t->fsum += s->fsum;
    if (!s->has)
        return TL_OK;
    switch (sp->kind) {
    case K_SIGNED:
        if (!t->has || s->imin < t->imin) t->imin = s->imin;
        if (!t->has || s->imax > t->imax) t->imax = s->imax;
        break;
    case K_UNSIGNED:
        if (!t->has || s->umin < t->umin) t->umin = s->umin;
        if (!t->has || s->umax > t->umax) t->umax = s->umax;
        break;
    case K_FLOAT:
        if (!t->has || s->fmin < t->fmin) t->fmin = s->fmin;
        if (!t->has || s->fmax > t->fmax) t->fmax = s->fmax;
        break;
    case K_STRING:
        if (sp->fn == TL_AGG_MIN && (!t->has || scmp(s->smin, s->sminl, t->smin, t->sminl) < 0))
            if (set_str(&t->smin, &t->sminl, &t->sminc, s->smin, s->sminl))
                return TL_ENOMEM;
        if (sp->fn == TL_AGG_MAX && (!t->has || scmp(s->smax, s->smaxl, t->smax, t->smaxl) > 0))
            if (set_str(&t->smax, &t->smaxl, &t->smaxc, s->smax, s->smaxl))
                return TL_ENOMEM;
        break;
    }
    t->has = 1;
    return TL_OK;
}

/* Combine unit un into X->tot and free its state (caller holds X->mu or
 * runs alone). */
static int fold_unit(agg_ctx *X, size_t un, tl_error *err)
{
    unit_state *u = X->units[un], *tot = X->tot;
    int rc = TL_OK;
    for (size_t j = 0; u && j < u->n && rc == TL_OK; j++) {
        group *g = &u->g[j];
        uint32_t tg;
        rc = find_group(tot, X->n_specs, g->sym_null, g->sym, g->sym_len, g->day_null, g->day,
                        &tg, err);
        for (uint32_t k = 0; k < X->n_specs && rc == TL_OK; k++)
            if (combine(&tot->g[tg].a[k], &g->a[k], &X->sp[k]))
                rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
    }
    unit_free(u, X->n_specs);
    X->units[un] = NULL;
    return rc;
}

static char *dup_bytes(const uint8_t *s, uint32_t l)
{
    char *p = malloc((size_t)l + 1);
    if (p) {
        if (l)
            memcpy(p, s, l);
        p[l] = 0;
    }
    return p;
}

static int find_proj(const char *const *proj, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(proj[i], name) == 0)
            return (int)i;
    return -1;
}

static void describe_group(const group *g, int group_by, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    if (group_by & TL_GROUP_SYMBOL)
        k += (size_t)snprintf(buf, cap, " (symbol %.*s)", g->sym_null ? 4 : (int)g->sym_len,
                              g->sym_null ? "null" : (const char *)g->sym);
    if ((group_by & TL_GROUP_DAY) && k < cap)
        snprintf(buf + k, cap - k, " (day %d%s)", (int)g->day, g->day_null ? ", null" : "");
}

static int aggregate(const tl_snapshot *s, const tl_scan_opts *o, const tl_agg_spec *specs,
                     uint32_t n_specs, int grp, tl_agg_result *res, tl_error *err)
{
    if (!res)
        return tl_error_set(err, TL_EINVAL, "aggregates: NULL result");
    memset(res, 0, sizeof *res);
    if (!s || !o || (n_specs && !specs))
        return tl_error_set(err, TL_EINVAL, "aggregates: NULL argument");
    if (n_specs == 0 || n_specs > AGG_MAX_SPECS)
        return tl_error_set(err, TL_EINVAL, "aggregates: %u aggregates (expected 1..%u)", n_specs,
                            AGG_MAX_SPECS);
    if (grp & ~(TL_GROUP_SYMBOL | TL_GROUP_DAY))
        return tl_error_set(err, TL_EINVAL, "aggregates: unknown grouping bits 0x%x", grp);
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    const char *proj[AGG_MAX_SPECS + 2];
    uint32_t n_proj = 0;
    spec_b *sp = calloc(n_specs, sizeof *sp);
    if (!sp)
        return tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
    agg_ctx X = {.sp = sp, .n_specs = n_specs, .sym_slot = -1};
    pthread_mutex_init(&X.mu, NULL);
    int rc = TL_OK;
    for (uint32_t k = 0; k < n_specs; k++) {
        const tl_agg_spec *a = &specs[k];
        sp[k].fn = a->fn;
        sp[k].slot = -1;
        if (a->fn < TL_AGG_COUNT || a->fn > TL_AGG_AVG) {
            rc = tl_error_set(err, TL_EINVAL, "aggregates: aggregate %u: unknown function %d", k,
                              a->fn);
            goto out;
        }
        if (!a->column) {
            if (a->fn != TL_AGG_COUNT) {
                rc = tl_error_set(err, TL_EINVAL, "aggregates: aggregate %u needs a column", k);
                goto out;
            }
            continue;
        }
        uint32_t f = 0;
        while (f < info.n_fields && strcmp(info.fields[f].name, a->column) != 0)
            f++;
        if (f == info.n_fields) {
            rc = tl_error_set(err, TL_EINVAL, "aggregates: no column named `%s` in the table",
                              a->column);
            goto out;
        }
        sp[k].type = info.fields[f].type;
        sp[k].kind = kind_of(sp[k].type);
        sp[k].name = info.fields[f].name;
        if ((a->fn == TL_AGG_SUM || a->fn == TL_AGG_AVG) &&
            (sp[k].kind == K_STRING || sp[k].type == TL_TIMESTAMP ||
             sp[k].type == TL_TIMESTAMP_US || sp[k].type == TL_DATE)) {
            rc = tl_error_set(err, TL_EINVAL, "aggregates: %s(%s): %s is %s, not a number",
                              a->fn == TL_AGG_SUM ? "sum" : "avg", a->column, a->column,
                              tl_type_name(sp[k].type));
            goto out;
        }
        int slot = find_proj(proj, n_proj, info.fields[f].name);
        if (slot < 0) {
            slot = (int)n_proj;
            proj[n_proj++] = info.fields[f].name;
        }
        sp[k].slot = slot;
    }
    X.snap = s;
    if ((grp & TL_GROUP_SYMBOL) && info.symbol_column) {
        X.sym_part = 1; /* the partition value is the row's value */
    } else if (grp & TL_GROUP_SYMBOL) {
        const char *name = "symbol";
        uint32_t f = 0;
        while (f < info.n_fields && strcmp(info.fields[f].name, name) != 0)
            f++;
        if (f == info.n_fields) {
            rc = tl_error_set(err, TL_EINVAL,
                              "aggregates: grouping by symbol, but the table has no symbol "
                              "partition column and no column named `symbol`");
            goto out;
        }
        if (info.fields[f].type != TL_STRING) {
            rc = tl_error_set(err, TL_EINVAL, "aggregates: grouping by symbol: %s is %s, not string",
                              name, tl_type_name(info.fields[f].type));
            goto out;
        }
        int slot = find_proj(proj, n_proj, info.fields[f].name);
        if (slot < 0) {
            slot = (int)n_proj;
            proj[n_proj++] = info.fields[f].name;
        }
        X.sym_slot = slot;
    }
    if (grp & TL_GROUP_DAY) {
        const char *name = info.day_column;
        uint32_t f = 0;
        X.day_part = 1; /* the partition's day is the day column's UTC day */
        if (!name) {
            rc = tl_error_set(err, TL_EINVAL,
                              "aggregates: grouping by day, but the table has no day column");
            goto out;
        }
        while (f < info.n_fields && strcmp(info.fields[f].name, name) != 0)
            f++;
        if (f == info.n_fields ||
            (info.fields[f].type != TL_TIMESTAMP && info.fields[f].type != TL_DATE)) {
            rc = tl_error_set(err, TL_EINVAL, "aggregates: grouping by day: day column `%s` is "
                              "missing or not a timestamp", name);
            goto out;
        }
    }
    X.proj = proj;
    X.n_proj = n_proj;

    tl_scan_opts so = *o;
    so.columns = proj;
    so.n_columns = n_proj;
    static const char *const no_runs[1] = {NULL};
    so.run_columns = no_runs; /* runs are not needed */
    so.n_run_columns = 0;
    /* the total: units are folded into it in unit order (cb_unit_end,
     * then the rest here) */
    unit_state *tot = X.tot = calloc(1, sizeof *tot);
    if (!tot) {
        rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
        goto out;
    }
    if (grp == 0) {
        uint32_t g;
        rc = find_group(tot, n_specs, 1, NULL, 0, 1, 0, &g, err);
    }
    tl_scan_cb cb = {.start = cb_start, .unit_begin = cb_unit_begin, .block = cb_block,
                     .unit_end = cb_unit_end, .ctx = &X};
    if (rc == TL_OK)
        rc = tl_scan_run(s, &so, &cb, &res->scan, err);
    for (size_t un = X.next_fold; un < X.n_units && rc == TL_OK; un++)
        rc = fold_unit(&X, un, err);
    if (rc == TL_OK && tot->n > 1)
        qsort(tot->g, tot->n, sizeof(group), group_order);
    if (rc == TL_OK) {
        res->rows = calloc(tot->n ? tot->n : 1, sizeof(tl_agg_row));
        if (!res->rows)
            rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
        res->n_specs = n_specs;
    }
    for (size_t j = 0; rc == TL_OK && j < tot->n; j++) {
        group *g = &tot->g[j];
        tl_agg_row *r = &res->rows[j];
        res->n_rows = j + 1;
        r->values = calloc(n_specs, sizeof(tl_agg_value));
        if (!r->values) {
            rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
            break;
        }
        if (grp & TL_GROUP_SYMBOL) {
            r->has_symbol = 1;
            r->symbol_null = g->sym_null;
            if (!g->sym_null && !(r->symbol = dup_bytes(g->sym, g->sym_len))) {
                rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
                break;
            }
        }
        if (grp & TL_GROUP_DAY) {
            r->has_day = 1;
            r->day_null = g->day_null;
            r->day = g->day_null ? 0 : g->day;
        }
        for (uint32_t k = 0; k < n_specs && rc == TL_OK; k++) {
            const acc *a = &g->a[k];
            tl_agg_value *v = &r->values[k];
            switch (sp[k].fn) {
            case TL_AGG_COUNT:
                v->type = TL_INT64;
                v->i = (int64_t)a->n;
                break;
            case TL_AGG_SUM:
            case TL_AGG_AVG:
                v->is_null = a->n == 0;
                if (sp[k].kind == K_FLOAT) {
                    v->type = TL_FLOAT64;
                    v->f = sp[k].fn == TL_AGG_SUM ? a->fsum : a->fsum / (double)a->n;
                } else if (sp[k].fn == TL_AGG_AVG) {
                    v->type = TL_FLOAT64;
                    v->f = (double)a->isum / (double)a->n;
                } else {
                    v->type = TL_INT64;
                    if (a->isum > (i128)INT64_MAX || a->isum < (i128)INT64_MIN) {
                        char gd[96];
                        describe_group(g, grp, gd, sizeof gd);
                        rc = tl_error_set(err, TL_EINVAL,
                                          "aggregates: sum(%s)%s: the sum (about %.6g) does not "
                                          "fit int64", sp[k].name, gd, (double)a->isum);
                        break;
                    }
                    v->i = (int64_t)a->isum;
                }
                if (v->is_null)
                    v->f = 0, v->i = 0;
                break;
            default: { /* min, max */
                int mx = sp[k].fn == TL_AGG_MAX;
                v->type = sp[k].type;
                v->is_null = a->n == 0;
                if (v->is_null)
                    break;
                switch (sp[k].kind) {
                case K_SIGNED: v->i = mx ? a->imax : a->imin; break;
                case K_UNSIGNED: v->u = mx ? a->umax : a->umin; break;
                case K_FLOAT: v->f = a->has ? (mx ? a->fmax : a->fmin) : (double)NAN; break;
                case K_STRING:
                    v->s = mx ? dup_bytes(a->smax, a->smaxl) : dup_bytes(a->smin, a->sminl);
                    if (!v->s)
                        rc = tl_error_set(err, TL_ENOMEM, "aggregates: out of memory");
                    break;
                }
            }
            }
        }
    }
    if (rc) {
        tl_scan_stats keep = res->scan;
        tl_agg_result_free(res);
        res->scan = keep;
    }
out:
    unit_free(X.tot, n_specs);
    if (X.units)
        for (size_t un = 0; un < X.n_units; un++)
            unit_free(X.units[un], n_specs);
    free(X.units);
    free(X.done);
    pthread_mutex_destroy(&X.mu);
    free(sp);
    return rc;
}

int tl_scan_aggregate(const tl_snapshot *s, const tl_scan_opts *o, const tl_agg_spec *specs,
                      uint32_t n_specs, int grp, tl_agg_result *res, tl_error *err)
{
    /* every failure names the table (an inner layer's out-of-memory too) */
    return tl_snapshot_name_error(s, aggregate(s, o, specs, n_specs, grp, res, err), err);
}
