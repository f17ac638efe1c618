/*
 * xxh.c - XXH3-64 (seed 0), the segment checksum (spec/FORMAT.md FMT-R4),
 * compiled from libxxhash's own header with XXH_INLINE_ALL: the packaged
 * library is built for baseline x86-64 (SSE2), while this file gets the
 * project's flags, so with -march=native the header picks its AVX2 or
 * AVX-512 accumulation loop (about 3x faster here: 11 -> 30+ GB/s on 40 KB
 * blocks). XXH3 is defined by its output, so the values are the library's
 * on every path (test segment/checksum_matches_libxxhash).
 */
#include "xxh_int.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t tlf_xxh3(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}
