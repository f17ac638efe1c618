/*
 * civil_int.h - the engine's one implementation of calendar arithmetic:
 * proleptic Gregorian dates as day numbers, and timestamps (int64 ns since
 * the epoch, UTC) split into day and time of day. Used by the generator,
 * the CSV and zone-map text (text_int.h) and segment file naming.
 *
 * Day 0 is 1970-01-01 (a Thursday). The conversions use 64-bit
 * intermediates and floor division, so they are exact for every int32 day
 * (years about -5.9 million .. +5.9 million), negatives included; year 0 is
 * 1 BC, as in ISO 8601. Nothing here depends on time_t, gmtime or the TZ.
 */
#ifndef TL_CIVIL_INT_H
#define TL_CIVIL_INT_H

#include <stdint.h>

#define TL_NS_PER_S INT64_C(1000000000)
#define TL_NS_PER_DAY (INT64_C(86400) * TL_NS_PER_S)

/* floor(a / b) for b > 0 */
static inline int64_t tl_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Day number of (y, m, d); m in 1..12, d in 1..31. The year starts in March
 * inside the computation, so the leap day is the last day of its year. */
static inline int64_t tl_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = tl_floor_div(y, 400);
    int64_t yoe = y - era * 400;                       /* 0..399 */
    int64_t mp = m > 2 ? m - 3 : m + 9;                /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;          /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * 146097 + doe - 719468;
}

/* Inverse of tl_days_from_civil. */
static inline void tl_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;                                       /* from 0000-03-01 */
    int64_t era = tl_floor_div(z, 146097);
    int64_t doe = z - era * 146097;                    /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;                  /* March = 0 */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Day of the week, Monday = 0 .. Sunday = 6. */
static inline int tl_weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 3) % 7);
}

/* Day of timestamp ns (floor), and the nanoseconds since that day's
 * midnight in *ns_of_day (0 .. TL_NS_PER_DAY - 1). Any int64 ns: the day
 * fits in int32 (about +-106752) and nothing overflows, INT64_MIN included. */
static inline int64_t tl_day_of_ns(int64_t ns, int64_t *ns_of_day)
{
    int64_t day = ns / TL_NS_PER_DAY, rem = ns % TL_NS_PER_DAY;
    if (rem < 0) {
        rem += TL_NS_PER_DAY;
        day -= 1;
    }
    *ns_of_day = rem;
    return day;
}

#endif /* TL_CIVIL_INT_H */
