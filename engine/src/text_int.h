/*
 * text_int.h - values as text: the one implementation behind the CSV
 * writer (csv_write.c) and the zone-map text of tl_segment_col_stats_get
 * (segment_api.c), so a value reads the same in `dump` and `inspect`.
 * Static inline: the CSV writer calls these once per field.
 *
 * Every tl_fmt_* writes at most TL_FMT_MAX bytes to out and returns the
 * length written, without a terminating NUL (a caller that wants a C string
 * stores it at out[length]; the float formatters may leave one there).
 *
 * Rules: integers in decimal; dates YYYY-MM-DD (proleptic Gregorian, year 0
 * = 1 BC, negative years with a leading '-', at least 4 year digits);
 * timestamps (ISO form) YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ in UTC; timestamp_us
 * values YYYY-MM-DD HH:MM:SS[.ffffff] in UTC (tl_fmt_timestamp_us); floats as
 * the shortest decimal that parses back to the same value, in %g style
 * (nan, inf, -inf; -0 kept).
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
 * would. Assumes the "C" numeric locale.
 */
#ifndef TL_TEXT_INT_H
#define TL_TEXT_INT_H

#include "civil_int.h"
#include "util_int.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TL_FMT_MAX 64 /* longest text of one value, with room to spare */

static const char tl_digits2[201] = "00010203040506070809101112131415161718192021222324"
                                    "25262728293031323334353637383940414243444546474849"
                                    "50515253545556575859606162636465666768697071727374"
                                    "75767778798081828384858687888990919293949596979899";

static inline size_t tl_fmt_u64(char *out, uint64_t v)
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
        memcpy(p, tl_digits2 + 2 * r, 2);
    }
    if (v >= 10)
        memcpy(p - 2, tl_digits2 + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return n;
}

static inline size_t tl_fmt_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + tl_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return tl_fmt_u64(out, (uint64_t)v);
}

/* c / 100 in %g style with trailing zeros dropped */
static inline size_t tl_fmt_cents(char *out, int64_t c)
{
    size_t n = 0;
    uint64_t u = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
    if (c < 0)
        out[n++] = '-';
    n += tl_fmt_u64(out + n, u / 100);
    unsigned fp = (unsigned)(u % 100);
    if (fp) {
        out[n++] = '.';
        out[n++] = (char)('0' + fp / 10);
        if (fp % 10)
            out[n++] = (char)('0' + fp % 10);
    }
    return n;
}

/* nan, inf or -inf */
static inline size_t tl_fmt_nonfinite(char *out, double v)
{
    const char *s = v != v ? "nan" : v > 0 ? "inf" : "-inf";
    size_t n = strlen(s);
    memcpy(out, s, n);
    return n;
}

static inline size_t tl_fmt_f64(char *out, double v)
{
    if (v != v || v == INFINITY || v == -INFINITY)
        return tl_fmt_nonfinite(out, v);
    if (v > -2e7 && v < 2e7) { /* |cents| < 2^31 */
        double s = v * 100.0;
        int64_t c = (int64_t)(s + copysign(0.5, s));
        if (tl_cents_to_f64((double)c) == v && (c != 0 || !signbit(v)))
            return tl_fmt_cents(out, c);
    }
    int n = 0;
    /* subnormals have fewer digits of precision: search from 1 */
    for (int p = (v > -DBL_MIN && v < DBL_MIN) ? 1 : 15; p <= 17; p++) {
        n = snprintf(out, TL_FMT_MAX, "%.*g", p, v);
        if (p == 17 || strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}

static inline size_t tl_fmt_f32(char *out, float v)
{
    if (v != v || v == INFINITY || v == -INFINITY)
        return tl_fmt_nonfinite(out, v);
    if (v > -1e6f && v < 1e6f && v == (float)(int32_t)v && (v != 0 || !signbit(v)))
        return tl_fmt_i64(out, (int32_t)v);
    int n = 0;
    for (int p = (v > -FLT_MIN && v < FLT_MIN) ? 1 : 6; p <= 9; p++) {
        n = snprintf(out, TL_FMT_MAX, "%.*g", p, (double)v);
        if (p == 9 || strtof(out, NULL) == v)
            break;
    }
    return (size_t)n;
}

/* YYYY-MM-DD of day number day (at most 14 bytes: -5877641-06-23). */
static inline size_t tl_fmt_date(char *out, int32_t day)
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    size_t n = 0;
    if (y < 0)
        out[n++] = '-';
    uint64_t uy = y < 0 ? (uint64_t)(-y) : (uint64_t)y;
    char tmp[24];
    size_t k = tl_fmt_u64(tmp, uy);
    for (; k < 4; k++) /* pad to 4 digits */
        out[n++] = '0';
    k = tl_fmt_u64(out + n, uy);
    n += k;
    out[n++] = '-';
    out[n++] = (char)('0' + m / 10);
    out[n++] = (char)('0' + m % 10);
    out[n++] = '-';
    out[n++] = (char)('0' + d / 10);
    out[n++] = (char)('0' + d % 10);
    return n;
}

/* YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ of ns since the epoch, UTC; any int64
 * (1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z), so
 * always 30 bytes. */
static inline size_t tl_fmt_timestamp_iso(char *out, int64_t ns)
{
    int64_t tod;
    int64_t day = tl_day_of_ns(ns, &tod);
    size_t n = tl_fmt_date(out, (int32_t)day);
    uint32_t secs = (uint32_t)(tod / TL_NS_PER_S), frac = (uint32_t)(tod % TL_NS_PER_S);
    out[n++] = 'T';
    memcpy(out + n, tl_digits2 + 2 * (secs / 3600), 2);
    out[n + 2] = ':';
    memcpy(out + n + 3, tl_digits2 + 2 * (secs / 60 % 60), 2);
    out[n + 5] = ':';
    memcpy(out + n + 6, tl_digits2 + 2 * (secs % 60), 2);
    out[n + 8] = '.';
    n += 9;
    for (int i = 8; i >= 0; i--, frac /= 10) /* nine digits, zero padded */
        out[n + (size_t)i] = (char)('0' + frac % 10);
    n += 9;
    out[n++] = 'Z';
    return n;
}

/* Microseconds since the epoch (timestamp_us), UTC, in the form DuckDB
 * prints TIMESTAMP values and the parquet-testing corpus stores them:
 * YYYY-MM-DD HH:MM:SS[.ffffff], the fraction left out when zero and
 * trimmed of trailing zeros; the date as tl_fmt_date's (at least 4 year
 * digits, '-' before years <= 0 as in ISO 8601, where year 0 is 1 BC), so
 * every int64 (-290308-12-21 19:59:05.224192 .. 294247-01-10
 * 04:00:54.775807) fits in 30 bytes. The CSV reader and the --where
 * literals of timestamp_us columns parse it back. */
static inline size_t tl_fmt_timestamp_us(char *out, int64_t us)
{
    const int64_t per_day = INT64_C(86400000000);
    int64_t day = us / per_day, tod = us % per_day;
    if (tod < 0) {
        tod += per_day;
        day -= 1;
    }
    size_t n = tl_fmt_date(out, (int32_t)day);
    uint32_t secs = (uint32_t)(tod / 1000000), frac = (uint32_t)(tod % 1000000);
    out[n++] = ' ';
    memcpy(out + n, tl_digits2 + 2 * (secs / 3600), 2);
    out[n + 2] = ':';
    memcpy(out + n + 3, tl_digits2 + 2 * (secs / 60 % 60), 2);
    out[n + 5] = ':';
    memcpy(out + n + 6, tl_digits2 + 2 * (secs % 60), 2);
    n += 8;
    if (frac) {
        int nd = 6;
        while (frac % 10 == 0) {
            frac /= 10;
            nd--;
        }
        out[n++] = '.';
        for (int i = nd - 1; i >= 0; i--, frac /= 10)
            out[n + (size_t)i] = (char)('0' + frac % 10);
        n += (size_t)nd;
    }
    return n;
}

#endif /* TL_TEXT_INT_H */
