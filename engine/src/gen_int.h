/*
 * gen_int.h - internal helpers of the sample data generator (gen.c) that
 * its tests use too: a 64-bit mixing function. Calendar arithmetic lives
 * in civil_int.h.
 */
#ifndef TL_GEN_INT_H
#define TL_GEN_INT_H

#include <stdint.h>

/* splitmix64's output function: a bijective, well-mixed 64-bit hash. */
static inline uint64_t tl_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

#endif /* TL_GEN_INT_H */
