/*
 * text_test.c - the value-to-text formatters of text_int.h shared by the
 * CSV writer and the segment zone-map text: ISO timestamps over the whole
 * int64 range, dates before year 1 and beyond 9999, integer extremes and
 * float notation. (The CSV output built on them is tested in gen_test.c.)
 */
#include <criterion/criterion.h>

#include "text_int.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* tb as a C string after a formatter wrote n bytes to it: z(tl_fmt_x(tb, v)). */
static char tb[TL_FMT_MAX + 1];

static const char *z(size_t n)
{
    cr_assert_leq(n, TL_FMT_MAX);
    tb[n] = '\0';
    return tb;
}

Test(text, timestamp_iso_around_the_epoch)
{
    char out[TL_FMT_MAX + 1];
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000000Z"},
        {1, "1970-01-01T00:00:00.000000001Z"},
        {-1, "1969-12-31T23:59:59.999999999Z"},
        {-INT64_C(1000000000), "1969-12-31T23:59:59.000000000Z"},
        {-INT64_C(86400000000000), "1969-12-31T00:00:00.000000000Z"},
        {-INT64_C(86400000000001), "1969-12-30T23:59:59.999999999Z"},
        {INT64_C(951782400000000000), "2000-02-29T00:00:00.000000000Z"},
        {INT64_C(1763351100699000000), "2025-11-17T03:45:00.699000000Z"},
        {INT64_C(-2208988800000000000), "1900-01-01T00:00:00.000000000Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = tl_fmt_timestamp_iso(out, cases[i].ns);
        cr_assert_eq(n, 30, "ns %" PRId64, cases[i].ns);
        out[n] = '\0';
        cr_assert_str_eq(out, cases[i].text, "ns %" PRId64, cases[i].ns);
    }
}

Test(text, timestamp_iso_at_the_int64_extremes)
{
    /* The far past and future an int64 of nanoseconds reaches. */
    cr_assert_str_eq(z(tl_fmt_timestamp_iso(tb, INT64_MIN)),
                     "1677-09-21T00:12:43.145224192Z");
    cr_assert_str_eq(z(tl_fmt_timestamp_iso(tb, INT64_MIN + 1)),
                     "1677-09-21T00:12:43.145224193Z");
    cr_assert_str_eq(z(tl_fmt_timestamp_iso(tb, INT64_MAX)),
                     "2262-04-11T23:47:16.854775807Z");
}

/* timestamp_us text: the corpus/DuckDB form, fraction trimmed, far years
 * and years <= 0 (ISO: year 0 = 1 BC), at the int64 extremes. */
Test(text, timestamp_us_form_and_extremes)
{
    static const struct {
        int64_t us;
        const char *text;
    } cases[] = {
        {0, "1970-01-01 00:00:00"},
        {-1, "1969-12-31 23:59:59.999999"},
        {1, "1970-01-01 00:00:00.000001"},
        {100000, "1970-01-01 00:00:00.1"},
        {120000, "1970-01-01 00:00:00.12"},
        {INT64_C(1704141296123456), "2024-01-01 20:34:56.123456"},
        {INT64_C(253402225200000000), "9999-12-31 03:00:00"},
        {INT64_C(9089380393200000000), "290000-12-30 23:00:00"},
        {INT64_C(-62135596800000000), "0001-01-01 00:00:00"},
        {INT64_C(-62135596800000001), "0000-12-31 23:59:59.999999"},
        {INT64_C(-62198755200000000), "-0001-01-01 00:00:00"},
        {INT64_MIN, "-290308-12-21 19:59:05.224192"},
        {INT64_MAX, "294247-01-10 04:00:54.775807"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = tl_fmt_timestamp_us(tb, cases[i].us);
        cr_assert_leq(n, TL_FMT_MAX);
        cr_assert_str_eq(z(n), cases[i].text, "%" PRId64, cases[i].us);
    }
}

Test(text, timestamp_iso_agrees_with_gmtime)
{
    cr_assert_geq(sizeof(time_t), 8, "needs a 64-bit time_t");
    uint64_t s = 1;
    for (int i = 0; i < 200000; i++) {
        s = s * UINT64_C(6364136223846793005) + 1442695040888963407u;
        int64_t ns = (int64_t)(s ^ (s >> 29));
        int64_t sec = ns / 1000000000, frac = ns % 1000000000;
        if (frac < 0)
            frac += 1000000000, sec--;
        time_t t = (time_t)sec;
        struct tm tm;
        cr_assert_not_null(gmtime_r(&t, &tm));
        char want[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, frac);
        cr_assert_str_eq(z(tl_fmt_timestamp_iso(tb, ns)), want, "ns %" PRId64, ns);
    }
}

Test(text, dates_before_year_one_and_after_9999)
{
    /* Years -999..-1 get 4 digits after the sign (ISO 8601 expanded form);
     * zone-map text printed them with 3 ("-001-12-31") before it shared
     * this formatter with the CSV writer. */
    static const struct {
        int32_t day;
        const char *text;
    } cases[] = {
        {-719528, "0000-01-01"},      {-719529, "-0001-12-31"},
        {-1084366, "-0999-02-09"},    {-1084701, "-1000-03-11"},
        {2932896, "9999-12-31"},      {2932897, "10000-01-01"},
        {INT32_MIN, "-5877641-06-23"}, {INT32_MAX, "5881580-07-11"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(z(tl_fmt_date(tb, cases[i].day)), cases[i].text, "day %" PRId32,
                         cases[i].day);
}

Test(text, dates_agree_with_gmtime_over_the_int32_range)
{
    cr_assert_geq(sizeof(time_t), 8, "needs a 64-bit time_t");
    for (int64_t day = INT32_MIN; day <= INT32_MAX; day += 9973) {
        time_t t = (time_t)day * 86400;
        struct tm tm;
        cr_assert_not_null(gmtime_r(&t, &tm));
        long long y = (long long)tm.tm_year + 1900;
        char want[64];
        snprintf(want, sizeof want, "%s%04lld-%02d-%02d", y < 0 ? "-" : "", y < 0 ? -y : y,
                 tm.tm_mon + 1, tm.tm_mday);
        cr_assert_str_eq(z(tl_fmt_date(tb, (int32_t)day)), want, "day %" PRId64, day);
    }
}

Test(text, integers_at_their_extremes)
{
    cr_assert_str_eq(z(tl_fmt_i64(tb, INT64_MIN)), "-9223372036854775808");
    cr_assert_str_eq(z(tl_fmt_i64(tb, INT64_MAX)), "9223372036854775807");
    cr_assert_str_eq(z(tl_fmt_i64(tb, -1)), "-1");
    cr_assert_str_eq(z(tl_fmt_i64(tb, 0)), "0");
    cr_assert_str_eq(z(tl_fmt_u64(tb, UINT64_MAX)), "18446744073709551615");
    cr_assert_str_eq(z(tl_fmt_u64(tb, 10)), "10");
    cr_assert_str_eq(z(tl_fmt_u64(tb, 99)), "99");
    cr_assert_str_eq(z(tl_fmt_u64(tb, 100)), "100");
}

Test(text, float_notation_is_the_csv_writers)
{
    /* %g style: exponent form once the exponent reaches the digits used
     * (15 for doubles, 6 for floats). Zone-map text printed these plain
     * before it shared this formatter with the CSV writer. */
    cr_assert_str_eq(z(tl_fmt_f64(tb, 1e15)), "1e+15");
    cr_assert_str_eq(z(tl_fmt_f64(tb, 1.5e16)), "1.5e+16");
    cr_assert_str_eq(z(tl_fmt_f64(tb, 123456789012345.0)), "123456789012345");
    cr_assert_str_eq(z(tl_fmt_f64(tb, 9007199254740993.0)), "9007199254740992");
    cr_assert_str_eq(z(tl_fmt_f64(tb, 109.95)), "109.95");
    cr_assert_str_eq(z(tl_fmt_f64(tb, -0.0)), "-0");
    cr_assert_str_eq(z(tl_fmt_f64(tb, 1e-4)), "0.0001");
    cr_assert_str_eq(z(tl_fmt_f64(tb, 1e-5)), "1e-05");
    cr_assert_str_eq(z(tl_fmt_f64(tb, -DBL_MAX)), "-1.7976931348623157e+308");
    cr_assert_str_eq(z(tl_fmt_f64(tb, NAN)), "nan");
    cr_assert_str_eq(z(tl_fmt_f64(tb, -INFINITY)), "-inf");
    cr_assert_str_eq(z(tl_fmt_f32(tb, 999999.0f)), "999999");
    cr_assert_str_eq(z(tl_fmt_f32(tb, 1e7f)), "1e+07");
    cr_assert_str_eq(z(tl_fmt_f32(tb, 16777216.0f)), "16777216");
    cr_assert_str_eq(z(tl_fmt_f32(tb, 349.5f)), "349.5");
    cr_assert_str_eq(z(tl_fmt_f32(tb, -FLT_MAX)), "-3.4028235e+38");
    cr_assert_str_eq(z(tl_fmt_f32(tb, INFINITY)), "inf");
}
