/*
 * xxh_test.c - the segment checksum (format/src/xxh.c, compiled with the
 * project's flags) equals libxxhash's XXH3_64bits on every length class
 * the XXH3 code paths distinguish (0, 1-3, 4-8, 9-16, 17-128, 129-240,
 * long with and without a partial stripe), aligned and not.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <xxhash.h>

#include "xxh_int.h"

Test(xxh, matches_libxxhash_every_length_to_4k_and_long_inputs)
{
    size_t cap = (1u << 20) + 64;
    unsigned char *b = malloc(cap);
    cr_assert(b);
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < cap; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        b[i] = (unsigned char)s;
    }
    for (size_t n = 0; n <= 4096; n++)
        for (size_t off = 0; off < 3; off++)
            cr_assert_eq(tlf_xxh3(b + off, n), XXH3_64bits(b + off, n), "length %zu offset %zu",
                         n, off);
    static const size_t big[] = {16383, 16384, 16385, 65536 + 7, 131072, (1u << 20) - 1, 1u << 20};
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++)
        for (size_t off = 0; off < 64; off += 13)
            cr_assert_eq(tlf_xxh3(b + off, big[k]), XXH3_64bits(b + off, big[k]),
                         "length %zu offset %zu", big[k], off);
    free(b);
}
