/*
 * le_int.h - internal to format/: little-endian loads and stores of 2, 4
 * and 8 bytes at any alignment (memcpy, which compilers turn into single
 * moves), and alignment arithmetic. Shared by the encodings (enc_priv.h)
 * and the segment layout (segment_int.h), so that there is one copy.
 *
 * The formats are little-endian (FMT-R1); this code assumes a
 * little-endian host and refuses to build on any other.
 */
#ifndef TL_LE_INT_H
#define TL_LE_INT_H

#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "format/ assumes a little-endian host"
#endif

static inline uint16_t tlf_ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline uint32_t tlf_ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t tlf_ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void tlf_st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void tlf_st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void tlf_st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* v rounded up to a multiple of a (a power of two) */
static inline uint64_t tlf_align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* x rounded up to a multiple of 8 (payload padding) */
static inline uint64_t tlf_pad8(uint64_t x) { return tlf_align_up(x, 8); }

#endif /* TL_LE_INT_H */
