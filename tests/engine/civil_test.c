/*
 * civil_test.c - the calendar helpers of civil_int.h that gen_test.c does
 * not already sweep: splitting timestamps into day and time of day over the
 * whole int64 range, and floor division on negatives.
 */
#include <criterion/criterion.h>

#include "civil_int.h"

#include <inttypes.h>
#include <stdint.h>

Test(civil, floor_div_rounds_down_for_negatives)
{
    cr_assert_eq(tl_floor_div(7, 2), 3);
    cr_assert_eq(tl_floor_div(-7, 2), -4);
    cr_assert_eq(tl_floor_div(-8, 2), -4);
    cr_assert_eq(tl_floor_div(0, 5), 0);
    cr_assert_eq(tl_floor_div(-1, TL_NS_PER_DAY), -1);
    cr_assert_eq(tl_floor_div(INT64_MIN, TL_NS_PER_DAY), -106752);
    cr_assert_eq(tl_floor_div(INT64_MAX, TL_NS_PER_DAY), 106751);
}

Test(civil, day_of_ns_splits_any_int64)
{
    static const struct {
        int64_t ns, day, tod;
    } cases[] = {
        {0, 0, 0},
        {-1, -1, INT64_C(86399999999999)},
        {INT64_C(86400000000000), 1, 0},
        {-INT64_C(86400000000000), -1, 0},
        {INT64_MIN, -106752, INT64_C(763145224192)},
        {INT64_MAX, 106751, INT64_C(85636854775807)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t tod = -1;
        cr_assert_eq(tl_day_of_ns(cases[i].ns, &tod), cases[i].day, "ns %" PRId64, cases[i].ns);
        cr_assert_eq(tod, cases[i].tod, "ns %" PRId64, cases[i].ns);
    }
    uint64_t s = 3;
    for (int i = 0; i < 100000; i++) {
        s = s * UINT64_C(6364136223846793005) + 1442695040888963407u;
        int64_t ns = (int64_t)s, tod;
        int64_t day = tl_day_of_ns(ns, &tod);
        cr_assert(tod >= 0 && tod < TL_NS_PER_DAY);
        cr_assert_eq(day, tl_floor_div(ns, TL_NS_PER_DAY));
        /* day * TL_NS_PER_DAY + tod == ns, without overflowing on the way */
        cr_assert_eq((uint64_t)day * (uint64_t)TL_NS_PER_DAY + (uint64_t)tod, (uint64_t)ns);
    }
}

Test(civil, weekday_of_known_days)
{
    cr_assert_eq(tl_weekday(0), 3);                               /* 1970-01-01 Thursday */
    cr_assert_eq(tl_weekday(-1), 2);                              /* Wednesday */
    cr_assert_eq(tl_weekday(tl_days_from_civil(2025, 11, 17)), 0); /* Monday */
    cr_assert_eq(tl_weekday(tl_days_from_civil(0, 1, 1)), 5);      /* Saturday */
}
