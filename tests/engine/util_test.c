/*
 * util_test.c - the small shared helpers of util_int.h: growing a scratch
 * buffer (keeps contents, doubles, fails cleanly) and the exact cents to
 * double conversion.
 */
#include <criterion/criterion.h>

#include "util_int.h"

#include <stdint.h>
#include <string.h>

/* Let an impossible allocation fail with NULL under ASan instead of
 * aborting, so the TL_ENOMEM path can be tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

Test(util, grow_keeps_contents_and_doubles)
{
    uint8_t *p = NULL;
    size_t cap = 0;
    cr_assert_eq(tl_grow((void **)&p, &cap, 10), TL_OK);
    cr_assert_not_null(p);
    cr_assert_eq(cap, 4096);
    memset(p, 0xAB, 10);
    cr_assert_eq(tl_grow((void **)&p, &cap, 4096), TL_OK);
    cr_assert_eq(cap, 4096, "no growth when it fits");
    cr_assert_eq(tl_grow((void **)&p, &cap, 4097), TL_OK);
    cr_assert_eq(cap, 8192);
    cr_assert_eq(tl_grow((void **)&p, &cap, 100000), TL_OK);
    cr_assert_eq(cap, 131072);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(p[i], 0xAB, "byte %d kept", i);
    free(p);
}

Test(util, grow_failure_is_enomem_and_leaves_the_buffer)
{
    uint8_t *p = NULL;
    size_t cap = 0;
    cr_assert_eq(tl_grow((void **)&p, &cap, 100), TL_OK);
    uint8_t *before = p;
    p[0] = 7;
    /* doubling would overflow size_t: asks for exactly need, which fails
     * (volatile: the compiler would reject the constant size) */
    volatile size_t huge = SIZE_MAX - 4096;
    cr_assert_eq(tl_grow((void **)&p, &cap, huge), TL_ENOMEM);
    cr_assert_eq(p, before);
    cr_assert_eq(cap, 4096);
    cr_assert_eq(p[0], 7);
    free(p);
}

Test(util, cents_to_f64_equals_the_division)
{
    static const int32_t fixed[] = {0, 1, -1, 5, 995, 10995, -705, INT32_MAX, INT32_MIN + 1,
                                    INT32_MIN};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        cr_assert_eq(tl_cents_to_f64((double)fixed[i]), (double)fixed[i] / 100.0, "%d",
                     fixed[i]);
    uint64_t s = 11;
    for (int i = 0; i < 1000000; i++) {
        s = s * UINT64_C(6364136223846793005) + 1442695040888963407u;
        double x = (double)(int32_t)(uint32_t)(s >> 32);
        cr_assert_eq(tl_cents_to_f64(x), x / 100.0, "%.0f", x);
    }
}
