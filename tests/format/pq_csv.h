/*
 * pq_csv.h - test helper: formats values decoded by the Parquet reader
 * (tl_parquet.h) exactly as the expected CSVs of ../shared/parquet-testing
 * (written by DuckDB's COPY ... TO csv with TimeZone=UTC), so a test can
 * compare a decoded file line by line with <stem>.expected.csv.
 *
 * Rules (from the corpus README, checked against its CSVs):
 *   - comma separated, "\n" line ends, header row of column names;
 *   - NULL = empty field; a field holding ',', '"', '\n' or '\r', and the
 *     empty string, is quoted ("") with quotes doubled;
 *   - BOOLEAN true/false; integers in decimal;
 *   - DATE YYYY-MM-DD; TIMESTAMP "YYYY-MM-DD HH:MM:SS[.frac]" with the
 *     fraction (up to 3/6/9 digits for ms/µs/ns) trimmed of trailing zeros
 *     and left out when zero, "+00" appended for UTC-adjusted columns;
 *     years below 1000 are zero padded to 4 digits, years <= 0 are printed
 *     as (1 - year) with " (BC)" after the date;
 *   - FLOAT/DOUBLE (and FLOAT16, decoded to float32): the shortest text
 *     that round-trips in the value's own precision, in positional
 *     notation with at least one fraction digit ("42.0") when the decimal
 *     exponent is in [-4, 16), else d[.ddd]e+XX ("1e+20", "1e-06");
 *     "nan", "inf", "-inf", "-0.0";
 *   - DECIMAL decoded to float64: exactly <scale> fraction digits (the
 *     double is the nearest of a <= 15 digit decimal, so "%.*f" recovers
 *     it); decoded to TL_STRING: the reader's exact text as is;
 *   - BLOB (colinfo.is_blob): bytes 0x20..0x7E except '"' and '\'' as is,
 *     every other byte as \xHH (upper-case hex), as DuckDB casts BLOB to
 *     VARCHAR.
 * Header-only (static functions) so that several tests may include it.
 */
#ifndef TL_TEST_PQ_CSV_H
#define TL_TEST_PQ_CSV_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_parquet.h"

/* A growable text buffer (aborts on allocation failure: test code). */
typedef struct pqcsv_buf {
    char *p;
    size_t len, cap;
} pqcsv_buf;

static inline void pqcsv_reserve(pqcsv_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = (char *)realloc(b->p, cap);
    if (!p)
        abort();
    b->p = p;
    b->cap = cap;
}

static inline void pqcsv_put(pqcsv_buf *b, const char *s, size_t n)
{
    pqcsv_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static inline void pqcsv_puts(pqcsv_buf *b, const char *s) { pqcsv_put(b, s, strlen(s)); }

static inline void pqcsv_putc(pqcsv_buf *b, char c) { pqcsv_put(b, &c, 1); }

static inline void pqcsv_reset(pqcsv_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
}

static inline void pqcsv_free(pqcsv_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Appends s[0..n) as one CSV field, quoted when needed. */
static inline void pqcsv_field(pqcsv_buf *b, const char *s, size_t n)
{
    int quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        pqcsv_put(b, s, n);
        return;
    }
    pqcsv_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            pqcsv_putc(b, '"');
        pqcsv_putc(b, s[i]);
    }
    pqcsv_putc(b, '"');
}

/* Shortest round-trip text of v (as float32 when is_float). */
static inline void pqcsv_float_text(char *out, size_t cap, double v, int is_float)
{
    if (isnan(v)) {
        snprintf(out, cap, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v < 0 ? "-inf" : "inf");
        return;
    }
    if (v == 0) {
        snprintf(out, cap, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    char e[64];
    int maxp = is_float ? 9 : 17;
    for (int p = 1; p <= maxp; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (is_float ? (strtof(e, NULL) == (float)v) : (strtod(e, NULL) == v))
            break;
    }
    /* e = [-]d[.ddd]e(+|-)XX: collect the digits and the exponent. */
    const char *s = e;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    char dig[32];
    int nd = 0;
    while (*s && *s != 'e') {
        if (*s != '.' && nd < 31)
            dig[nd++] = *s;
        s++;
    }
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = 0;
    int x = *s == 'e' ? atoi(s + 1) : 0;
    char *o = out;
    size_t left = cap;
#define PQCSV_EMIT(...)                                                 \
    do {                                                                \
        int k_ = snprintf(o, left, __VA_ARGS__);                        \
        if (k_ > 0 && (size_t)k_ < left) {                              \
            o += k_;                                                    \
            left -= (size_t)k_;                                         \
        }                                                               \
    } while (0)
    if (neg)
        PQCSV_EMIT("-");
    if (x < -4 || x >= 16) {
        PQCSV_EMIT("%c", dig[0]);
        if (nd > 1)
            PQCSV_EMIT(".%s", dig + 1);
        PQCSV_EMIT("e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    } else if (x >= 0) {
        for (int i = 0; i <= x; i++)
            PQCSV_EMIT("%c", i < nd ? dig[i] : '0');
        if (nd > x + 1)
            PQCSV_EMIT(".%s", dig + x + 1);
        else
            PQCSV_EMIT(".0");
    } else {
        PQCSV_EMIT("0.");
        for (int i = 0; i < -x - 1; i++)
            PQCSV_EMIT("0");
        PQCSV_EMIT("%s", dig);
    }
#undef PQCSV_EMIT
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static inline void pqcsv_civil(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static inline void pqcsv_date_text(pqcsv_buf *b, int64_t days, int *bc)
{
    int64_t y;
    int m, d;
    pqcsv_civil(days, &y, &m, &d);
    char t[64];
    *bc = y <= 0;
    snprintf(t, sizeof t, "%04lld-%02d-%02d", (long long)(y <= 0 ? 1 - y : y), m, d);
    pqcsv_puts(b, t);
}

/* unit: TL_PQ_MILLIS/MICROS/NANOS. */
static inline void pqcsv_ts_text(pqcsv_buf *b, int64_t v, int unit, int utc)
{
    int64_t per_s = unit == TL_PQ_MILLIS ? 1000 : unit == TL_PQ_MICROS ? 1000000 : 1000000000;
    int digits = unit == TL_PQ_MILLIS ? 3 : unit == TL_PQ_MICROS ? 6 : 9;
    int64_t per_day = per_s * 86400;
    int64_t days = v / per_day, rem = v % per_day;
    if (rem < 0) {
        rem += per_day;
        days--;
    }
    int bc;
    pqcsv_date_text(b, days, &bc);
    if (bc)
        pqcsv_puts(b, " (BC)");
    int64_t secs = rem / per_s, frac = rem % per_s;
    char t[64];
    snprintf(t, sizeof t, " %02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
    pqcsv_puts(b, t);
    if (frac) {
        snprintf(t, sizeof t, ".%0*lld", digits, (long long)frac);
        size_t n = strlen(t);
        while (t[n - 1] == '0')
            n--;
        pqcsv_put(b, t, n);
    }
    if (utc)
        pqcsv_puts(b, "+00");
}

/* Appends the field of value i (row i of one decoded chunk) of a column. */
static inline void pqcsv_value(pqcsv_buf *b, const tl_pq_colinfo *ci, const tl_pq_colbuf *cb,
                               uint64_t i)
{
    const tl_colvec *v = &cb->vec;
    if (!tl_bit_get(v->validity, i))
        return;
    char t[128];
    t[0] = 0;
    switch (ci->type) {
    case TL_BOOL:
        pqcsv_puts(b, ((const uint8_t *)v->values)[i] ? "true" : "false");
        return;
    case TL_INT8:
        snprintf(t, sizeof t, "%d", ((const int8_t *)v->values)[i]);
        break;
    case TL_INT16:
        snprintf(t, sizeof t, "%d", ((const int16_t *)v->values)[i]);
        break;
    case TL_INT32:
        snprintf(t, sizeof t, "%d", ((const int32_t *)v->values)[i]);
        break;
    case TL_INT64:
        snprintf(t, sizeof t, "%lld", (long long)((const int64_t *)v->values)[i]);
        break;
    case TL_UINT8:
        snprintf(t, sizeof t, "%u", ((const uint8_t *)v->values)[i]);
        break;
    case TL_UINT16:
        snprintf(t, sizeof t, "%u", ((const uint16_t *)v->values)[i]);
        break;
    case TL_UINT32:
        snprintf(t, sizeof t, "%u", ((const uint32_t *)v->values)[i]);
        break;
    case TL_UINT64:
        snprintf(t, sizeof t, "%llu", (unsigned long long)((const uint64_t *)v->values)[i]);
        break;
    case TL_FLOAT32:
        pqcsv_float_text(t, sizeof t, ((const float *)v->values)[i], 1);
        break;
    case TL_FLOAT64: {
        double d = ((const double *)v->values)[i];
        if (ci->is_decimal && isfinite(d))
            snprintf(t, sizeof t, "%.*f", ci->decimal_scale, d);
        else
            pqcsv_float_text(t, sizeof t, d, 0);
        break;
    }
    case TL_DATE: {
        int bc;
        pqcsv_date_text(b, ((const int32_t *)v->values)[i], &bc);
        if (bc)
            pqcsv_puts(b, " (BC)");
        return;
    }
    case TL_TIMESTAMP:
        pqcsv_ts_text(b, ((const int64_t *)v->values)[i], cb->ts_unit, ci->ts_utc);
        return;
    case TL_STRING: {
        const uint8_t *s = v->data + v->offsets[i];
        size_t n = v->offsets[i + 1] - v->offsets[i];
        if (!ci->is_blob) {
            pqcsv_field(b, (const char *)s, n);
            return;
        }
        pqcsv_buf e = {0};
        pqcsv_reserve(&e, 4 * n);
        for (size_t k = 0; k < n; k++) {
            if (s[k] >= 0x20 && s[k] < 0x7f && s[k] != '"' && s[k] != '\'') {
                pqcsv_putc(&e, (char)s[k]);
            } else {
                char h[8];
                snprintf(h, sizeof h, "\\x%02X", s[k]);
                pqcsv_puts(&e, h);
            }
        }
        pqcsv_field(b, e.p ? e.p : "", e.len);
        pqcsv_free(&e);
        return;
    }
    default:
        snprintf(t, sizeof t, "?type%d", (int)ci->type);
        break;
    }
    pqcsv_field(b, t, strlen(t));
}

/* Appends the header line (column names) of f. */
static inline void pqcsv_header(pqcsv_buf *b, const tl_pq_file *f)
{
    for (uint32_t c = 0; c < tl_pq_n_cols(f); c++) {
        if (c)
            pqcsv_putc(b, ',');
        const char *name = tl_pq_col(f, c)->name;
        pqcsv_field(b, name, strlen(name));
    }
    pqcsv_putc(b, '\n');
}

/* Decodes every chunk of f and appends the whole CSV text (header and one
 * line per row) to out. Returns the first reader error. */
static inline int pqcsv_file(tl_pq_file *f, pqcsv_buf *out, tl_error *err)
{
    uint32_t nc = tl_pq_n_cols(f);
    tl_pq_colbuf *bufs = (tl_pq_colbuf *)calloc(nc ? nc : 1, sizeof *bufs);
    if (!bufs)
        abort();
    int rc = TL_OK;
    pqcsv_header(out, f);
    for (uint32_t rg = 0; rg < tl_pq_n_row_groups(f) && rc == TL_OK; rg++) {
        for (uint32_t c = 0; c < nc && rc == TL_OK; c++)
            rc = tl_pq_read_chunk(f, rg, c, &bufs[c], err);
        if (rc != TL_OK)
            break;
        uint64_t n = tl_pq_row_group_rows(f, rg);
        for (uint64_t r = 0; r < n; r++) {
            for (uint32_t c = 0; c < nc; c++) {
                if (c)
                    pqcsv_putc(out, ',');
                pqcsv_value(out, tl_pq_col(f, c), &bufs[c], r);
            }
            pqcsv_putc(out, '\n');
        }
    }
    for (uint32_t c = 0; c < nc; c++)
        tl_pq_colbuf_free(&bufs[c]);
    free(bufs);
    return rc;
}

#endif /* TL_TEST_PQ_CSV_H */
