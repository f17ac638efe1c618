/*
 * tl_types.h - column types and column vectors shared by the format library
 * and the public engine API.
 *
 * Decoded (in-memory) representation of every type, little-endian:
 *   TL_BOOL       1 byte per value, 0 or 1
 *   TL_INT8..64   two's complement, 1/2/4/8 bytes
 *   TL_UINT8..64  unsigned, 1/2/4/8 bytes
 *   TL_FLOAT32/64 IEEE 754 binary32/binary64
 *   TL_TIMESTAMP  int64 nanoseconds since 1970-01-01T00:00:00Z
 *   TL_DATE       int32 days since 1970-01-01
 *   TL_TIMESTAMP_US int64 microseconds since 1970-01-01T00:00:00Z (years
 *                 about -290308 .. 294247, for data such as Spark INT96
 *                 timestamps that do not fit in nanoseconds)
 *   TL_STRING     uint32 offsets[n+1] into a byte array (offsets[0] == 0);
 *                 value i is data[offsets[i] .. offsets[i+1]); bytes are
 *                 opaque (UTF-8 by convention, not validated)
 * Validity: a bitmap, bit i (LSB-first within each byte) set = value i is
 * present; NULL bitmap = no nulls. The value slot of a null holds 0 (or the
 * empty string) so kernels may ignore validity where that is safe.
 */
#ifndef TL_TYPES_H
#define TL_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tl_type {
    TL_BOOL = 1,
    TL_INT8 = 2,
    TL_INT16 = 3,
    TL_INT32 = 4,
    TL_INT64 = 5,
    TL_UINT8 = 6,
    TL_UINT16 = 7,
    TL_UINT32 = 8,
    TL_UINT64 = 9,
    TL_FLOAT32 = 10,
    TL_FLOAT64 = 11,
    TL_TIMESTAMP = 12,
    TL_DATE = 13,
    TL_STRING = 14,
    TL_TIMESTAMP_US = 15,
} tl_type;

#define TL_TYPE_MAX 15

/* "bool", "int8", ..., "timestamp", "date", "string", "timestamp_us";
 * NULL if unknown. */
const char *tl_type_name(int type);
/* Parse a name as printed by tl_type_name. Returns TL_OK or TL_EINVAL. */
int tl_type_from_name(const char *name, tl_type *out);
/* Bytes per value in decoded form: 1, 2, 4 or 8; 0 for strings and for
 * unknown types. */
size_t tl_type_width(int type);
/* 1 for signed integer types, timestamp, timestamp_us and date. */
int tl_type_is_signed_int(int type);
/* 1 for the unsigned integer types and bool. */
int tl_type_is_unsigned_int(int type);
/* 1 for float32/float64. */
int tl_type_is_float(int type);

/* A column definition. */
typedef struct tl_coldef {
    const char *name;
    tl_type type;
} tl_coldef;

/* A read-only view of n values of one column (n is held by the batch). */
typedef struct tl_colvec {
    const void *values;      /* fixed-width types: n values */
    const uint8_t *validity; /* NULL = all present */
    const uint32_t *offsets; /* TL_STRING: n + 1 offsets */
    const uint8_t *data;     /* TL_STRING: bytes */
} tl_colvec;

/* Validity bit helpers. */
static inline int tl_bit_get(const uint8_t *bm, uint64_t i)
{
    return bm == NULL || ((bm[i >> 3] >> (i & 7)) & 1);
}
static inline void tl_bit_set(uint8_t *bm, uint64_t i, int v)
{
    if (v)
        bm[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        bm[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

#ifdef __cplusplus
}
#endif
#endif /* TL_TYPES_H */
