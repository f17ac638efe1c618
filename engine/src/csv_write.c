/*
 * csv_write.c - tl_batch_write_csv: any tl_batch as CSV text.
 *
 * Output rules (also in ticklake.h): one line per row ending in \n, fields
 * separated by commas, a null as an empty field. Integers in decimal; bool
 * true/false; timestamps as integer nanoseconds; dates YYYY-MM-DD
 * (proleptic Gregorian, year 0 = 1 BC, negative years with a leading '-',
 * at least 4 year digits); floats as the shortest decimal that parses back
 * to the same value, in %g style; strings raw unless they hold a comma,
 * quote, CR or LF (then quoted, quotes doubled) or are empty (then "").
 *
 * Shortest floats: if some decimal with <= 15 significant digits parses to
 * the double v, it is unique (two such decimals are >= 1e-15 relative apart,
 * while every decimal that parses to v is within half an ulp, <= 1.2e-16
 * relative) and "%.15g" prints it (rounding v to 15 digits cannot miss a
 * grid point that close); otherwise "%.16g", else "%.17g", checked with
 * strtod. Same for float32 with "%.6g".."%.9g" and strtof. Subnormals
 * (and zero) have less precision, so there the search starts at 1 digit.
 * Fast paths skip stdio for values that are exactly (double)c / 100.0 with
 * |c| < 2^31 (prices; c / 100 is then that unique shortest decimal) and
 * for whole float32 values below 1e6: they print exactly what the %g path
 * would.
 *
 * Invariants: text is assembled in a per-thread 64 KiB buffer and handed to
 * fwrite in large pieces; every call ends with fflush so that a write error
 * (ENOSPC...) is reported by the call that caused it, as TL_EIO with errno.
 */
#include "ticklake.h"
#include "civil_int.h"
#include "util_int.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES (1u << 16)
#define FIELD_MAX 64 /* longest non-string field */

static _Thread_local char csv_buf[BUF_BYTES];

typedef struct csvw {
    FILE *f;
    char *buf;
    size_t len;
    uint64_t written;  /* bytes handed to f by this call */
    uint64_t row;      /* row being written, for messages */
} csvw;

TL_WUR static int flush(csvw *w, tl_error *err)
{
    if (w->len == 0)
        return TL_OK;
    errno = 0;
    size_t n = fwrite(w->buf, 1, w->len, w->f);
    w->written += n;
    if (n != w->len) {
        int e = errno ? errno : EIO;
        return tl_error_sys(err, e, "csv: write failed at row %" PRIu64 " after %" PRIu64 " bytes",
                            w->row, w->written);
    }
    w->len = 0;
    return TL_OK;
}

TL_WUR static inline int reserve(csvw *w, size_t n, tl_error *err)
{
    return w->len + n <= BUF_BYTES ? TL_OK : flush(w, err);
}

TL_WUR static int put_bytes(csvw *w, const void *src, size_t n, tl_error *err)
{
    const uint8_t *p = src;
    while (n > 0) {
        if (w->len == BUF_BYTES) {
            int rc = flush(w, err);
            if (rc != TL_OK)
                return rc;
        }
        size_t k = BUF_BYTES - w->len < n ? BUF_BYTES - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
    }
    return TL_OK;
}

/* ---- field formatting: each writes at most FIELD_MAX bytes to out ---------- */

static const char digits2[201] = "00010203040506070809101112131415161718192021222324"
                                 "25262728293031323334353637383940414243444546474849"
                                 "50515253545556575859606162636465666768697071727374"
                                 "75767778798081828384858687888990919293949596979899";

static size_t fmt_u64(char *out, uint64_t v)
{
    static const uint64_t pow10[20] = {
        UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
        UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
        UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
        UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
        UINT64_C(1000000000000000), UINT64_C(10000000000000000),
        UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
        UINT64_C(10000000000000000000)};
    size_t n = 1;
    while (n < 20 && v >= pow10[n])
        n++;
    char *p = out + n;
    while (v >= 100) { /* two digits at a time, from the end */
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digits2 + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(p - 2, digits2 + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return n;
}

static size_t fmt_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return fmt_u64(out, (uint64_t)v);
}

/* c / 100 in %g style with trailing zeros dropped */
static size_t fmt_cents(char *out, int64_t c)
{
    size_t n = 0;
    uint64_t u = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
    if (c < 0)
        out[n++] = '-';
    n += fmt_u64(out + n, u / 100);
    unsigned fp = (unsigned)(u % 100);
    if (fp) {
        out[n++] = '.';
        out[n++] = (char)('0' + fp / 10);
        if (fp % 10)
            out[n++] = (char)('0' + fp % 10);
    }
    return n;
}

static size_t fmt_special(char *out, double v)
{
    const char *s = v != v ? "nan" : v > 0 ? "inf" : "-inf";
    size_t n = strlen(s);
    memcpy(out, s, n);
    return n;
}

static size_t fmt_f64(char *out, double v)
{
    if (v != v || v == INFINITY || v == -INFINITY)
        return fmt_special(out, v);
    if (v > -2e7 && v < 2e7) { /* |cents| < 2^31 */
        double s = v * 100.0;
        int64_t c = (int64_t)(s + copysign(0.5, s));
        if (tl_cents_to_f64((double)c) == v && (c != 0 || !signbit(v)))
            return fmt_cents(out, c);
    }
    int n = 0;
    /* subnormals have fewer digits of precision: search from 1 */
    for (int p = (v > -DBL_MIN && v < DBL_MIN) ? 1 : 15; p <= 17; p++) {
        n = snprintf(out, FIELD_MAX, "%.*g", p, v);
        if (p == 17 || strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}

static size_t fmt_f32(char *out, float v)
{
    if (v != v || v == INFINITY || v == -INFINITY)
        return fmt_special(out, v);
    if (v > -1e6f && v < 1e6f && v == (float)(int32_t)v && (v != 0 || !signbit(v)))
        return fmt_i64(out, (int32_t)v);
    int n = 0;
    for (int p = (v > -FLT_MIN && v < FLT_MIN) ? 1 : 6; p <= 9; p++) {
        n = snprintf(out, FIELD_MAX, "%.*g", p, (double)v);
        if (p == 9 || strtof(out, NULL) == v)
            break;
    }
    return (size_t)n;
}

static size_t fmt_date(char *out, int32_t day)
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    size_t n = 0;
    if (y < 0)
        out[n++] = '-';
    uint64_t uy = y < 0 ? (uint64_t)(-y) : (uint64_t)y;
    char tmp[24];
    size_t k = fmt_u64(tmp, uy);
    for (; k < 4; k++) /* pad to 4 digits */
        out[n++] = '0';
    k = fmt_u64(out + n, uy);
    n += k;
    out[n++] = '-';
    out[n++] = (char)('0' + m / 10);
    out[n++] = (char)('0' + m % 10);
    out[n++] = '-';
    out[n++] = (char)('0' + d / 10);
    out[n++] = (char)('0' + d % 10);
    return n;
}

TL_WUR static int put_string(csvw *w, const uint8_t *s, size_t n, tl_error *err)
{
    int quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return put_bytes(w, s, n, err);
    int rc = put_bytes(w, "\"", 1, err);
    size_t from = 0;
    for (size_t i = 0; i < n && rc == TL_OK; i++)
        if (s[i] == '"') { /* emit up to and including the quote, then one more */
            rc = put_bytes(w, s + from, i + 1 - from, err);
            if (rc == TL_OK)
                rc = put_bytes(w, "\"", 1, err);
            from = i + 1;
        }
    if (rc == TL_OK)
        rc = put_bytes(w, s + from, n - from, err);
    if (rc == TL_OK)
        rc = put_bytes(w, "\"", 1, err);
    return rc;
}

/* One non-null fixed-width value into the buffer (room for FIELD_MAX). */
static size_t fmt_value(char *out, tl_type t, const void *values, uint32_t i)
{
    switch (t) {
    case TL_BOOL:
        if (((const uint8_t *)values)[i]) {
            memcpy(out, "true", 4);
            return 4;
        }
        memcpy(out, "false", 5);
        return 5;
    case TL_INT8: return fmt_i64(out, ((const int8_t *)values)[i]);
    case TL_INT16: return fmt_i64(out, ((const int16_t *)values)[i]);
    case TL_INT32: return fmt_i64(out, ((const int32_t *)values)[i]);
    case TL_INT64:
    case TL_TIMESTAMP: return fmt_i64(out, ((const int64_t *)values)[i]);
    case TL_UINT8: return fmt_u64(out, ((const uint8_t *)values)[i]);
    case TL_UINT16: return fmt_u64(out, ((const uint16_t *)values)[i]);
    case TL_UINT32: return fmt_u64(out, ((const uint32_t *)values)[i]);
    case TL_UINT64: return fmt_u64(out, ((const uint64_t *)values)[i]);
    case TL_FLOAT32: return fmt_f32(out, ((const float *)values)[i]);
    case TL_FLOAT64: return fmt_f64(out, ((const double *)values)[i]);
    case TL_DATE: return fmt_date(out, ((const int32_t *)values)[i]);
    default: return 0;
    }
}

TL_WUR static int check_batch(const tl_batch *b, tl_error *err)
{
    if (b->n_cols > 0 && !b->defs)
        return tl_error_set(err, TL_EINVAL, "csv: batch has %u columns but no defs", b->n_cols);
    for (uint32_t c = 0; c < b->n_cols; c++) {
        const tl_coldef *d = &b->defs[c];
        const char *name = d->name ? d->name : "";
        if (d->type < 1 || d->type > TL_TYPE_MAX)
            return tl_error_set(err, TL_EINVAL,
                                "csv: column %u '%s': expected a type 1..%d, found %d", c, name,
                                TL_TYPE_MAX, (int)d->type);
        if (b->n_rows == 0)
            continue;
        if (!b->cols)
            return tl_error_set(err, TL_EINVAL, "csv: batch has %u rows but no columns",
                                b->n_rows);
        const tl_colvec *v = &b->cols[c];
        if (d->type == TL_STRING ? (!v->offsets || !v->data) : !v->values)
            return tl_error_set(err, TL_EINVAL, "csv: column %u '%s' (%s): %s pointer is NULL", c,
                                name, tl_type_name(d->type),
                                d->type == TL_STRING ? "offsets/data" : "values");
    }
    return TL_OK;
}

int tl_batch_write_csv(const tl_batch *b, FILE *f, int header, tl_error *err)
{
    if (!b || !f)
        return tl_error_set(err, TL_EINVAL, "tl_batch_write_csv: %s is NULL", b ? "file" : "batch");
    int rc = check_batch(b, err);
    if (rc != TL_OK)
        return rc;
    csvw w = {.f = f, .buf = csv_buf};
    if (header) {
        for (uint32_t c = 0; c < b->n_cols && rc == TL_OK; c++) {
            const char *name = b->defs[c].name ? b->defs[c].name : "";
            if (c > 0)
                rc = put_bytes(&w, ",", 1, err);
            if (rc == TL_OK)
                rc = put_string(&w, (const uint8_t *)name, strlen(name), err);
        }
        if (rc == TL_OK)
            rc = put_bytes(&w, "\n", 1, err);
    }
    for (uint32_t r = 0; r < b->n_rows && rc == TL_OK; r++) {
        w.row = r;
        for (uint32_t c = 0; c < b->n_cols; c++) {
            const tl_colvec *v = &b->cols[c];
            tl_type t = b->defs[c].type;
            if ((rc = reserve(&w, FIELD_MAX + 2, err)) != TL_OK)
                break;
            if (c > 0)
                w.buf[w.len++] = ',';
            if (!tl_bit_get(v->validity, r))
                continue;
            if (t == TL_STRING) {
                uint32_t lo = v->offsets[r], hi = v->offsets[r + 1];
                if (hi < lo) {
                    rc = tl_error_set(err, TL_EINVAL,
                                      "csv: column %u '%s' row %u: string offsets decrease "
                                      "(%u then %u)",
                                      c, b->defs[c].name ? b->defs[c].name : "", r, lo, hi);
                    break;
                }
                if ((rc = put_string(&w, v->data + lo, hi - lo, err)) != TL_OK)
                    break;
            } else {
                w.len += fmt_value(w.buf + w.len, t, v->values, r);
            }
        }
        if (rc == TL_OK && (rc = reserve(&w, 1, err)) == TL_OK)
            w.buf[w.len++] = '\n';
    }
    if (rc == TL_OK)
        rc = flush(&w, err);
    if (rc == TL_OK) {
        errno = 0;
        if (fflush(f) != 0 || ferror(f))
            rc = tl_error_sys(err, errno ? errno : EIO,
                              "csv: flushing the stream failed after %" PRIu64 " bytes",
                              w.written);
    }
    return rc;
}
