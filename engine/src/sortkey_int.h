/*
 * sortkey_int.h - the stable sort of a table's rows by its sort key
 * (LOG-R16: most significant column first, nulls first, each type in the
 * order of FORMAT.md's zone maps: integers numerically, floats by IEEE
 * total order with -0.0 < +0.0 and NaN after +inf, strings bytewise with a
 * proper prefix first, false < true). Implemented by sortkey.c.
 *
 * Method: every key column is mapped to an order-preserving unsigned code
 * (strings: their dense rank among the column's distinct values), shifted
 * by its minimum, and the codes (plus a null flag per nullable column that
 * holds a null) are packed most significant first into one or two 64-bit
 * words per row. Rows are then ordered by an LSD radix sort of
 * (packed key, row index) records, which is stable. Keys wider than 128
 * bits fall back to a merge sort comparing the codes column by column.
 * Already sorted input is detected in one pass and costs no sort.
 */
#ifndef TL_SORTKEY_INT_H
#define TL_SORTKEY_INT_H

#include "tl_error.h"
#include "tl_types.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One key column over n rows, laid out as tl_colvec (validity NULL = no
 * nulls; strings: offsets + data). */
typedef struct tl_sortcol {
    tl_type type;
    tl_colvec v;
} tl_sortcol;

/* Scratch reused across calls (first touch of fresh memory is slow):
 * zero-initialise, free with tl_sort_scratch_free. */
typedef struct tl_sort_scratch {
    void *a, *b;         /* record arrays */
    size_t cap_a, cap_b; /* bytes */
    uint64_t *codes;     /* n * n_keys codes (fallback and packing) */
    size_t cap_codes;
    uint8_t *nulls;      /* n * n_keys flags */
    size_t cap_nulls;
    uint32_t *ranks;     /* string ranks scratch */
    size_t cap_ranks;
} tl_sort_scratch;

void tl_sort_scratch_free(tl_sort_scratch *s);

/* The stable order of rows 0..n-1 by keys[0..n_keys): perm[i] = the row
 * that goes i-th. *sorted (may be NULL) = 1 when the input was already in
 * order (perm is then the identity). n_keys 0 gives the identity.
 * Errors: TL_EINVAL (n above 2^31, a bad type), TL_ENOMEM. */
TL_WUR int tl_sort_perm(const tl_sortcol *keys, uint32_t n_keys, uint32_t n, uint32_t *perm,
                        int *sorted, tl_sort_scratch *s, tl_error *err);

/* The same order for two present values of one key column, row ra of a
 * against row rb of b, both of type type: -1, 0 or 1 (nulls are the
 * caller's: they come first). The merges that interleave already sorted
 * files (the ordered scan, optimize) compare with it, so merged output is
 * in exactly the order the writer sorts (-0.0 before +0.0, NaN last). */
static inline int tl_sortkey_cmp_value(tl_type type, const tl_colvec *a, uint32_t ra,
                                       const tl_colvec *b, uint32_t rb)
{
    const uint8_t *x = a->values, *y = b->values;
    switch (type) {
#define TL_SK_CMP(T)                                                                     \
    {                                                                                    \
        T u, v;                                                                          \
        memcpy(&u, x + (size_t)ra * sizeof(T), sizeof(T));                               \
        memcpy(&v, y + (size_t)rb * sizeof(T), sizeof(T));                               \
        return (u > v) - (u < v);                                                        \
    }
    case TL_BOOL:
    case TL_UINT8: TL_SK_CMP(uint8_t)
    case TL_UINT16: TL_SK_CMP(uint16_t)
    case TL_UINT32: TL_SK_CMP(uint32_t)
    case TL_UINT64: TL_SK_CMP(uint64_t)
    case TL_INT8: TL_SK_CMP(int8_t)
    case TL_INT16: TL_SK_CMP(int16_t)
    case TL_INT32:
    case TL_DATE: TL_SK_CMP(int32_t)
    case TL_INT64:
    case TL_TIMESTAMP:
    case TL_TIMESTAMP_US: TL_SK_CMP(int64_t)
#undef TL_SK_CMP
    case TL_FLOAT32:
    case TL_FLOAT64: {
        double u, v;
        if (type == TL_FLOAT32) {
            float fu, fv;
            memcpy(&fu, x + (size_t)ra * 4, 4);
            memcpy(&fv, y + (size_t)rb * 4, 4);
            u = fu;
            v = fv;
        } else {
            memcpy(&u, x + (size_t)ra * 8, 8);
            memcpy(&v, y + (size_t)rb * 8, 8);
        }
        int nu = isnan(u) != 0, nv = isnan(v) != 0;
        if (nu || nv)
            return nu - nv; /* NaN (any) after +inf, equal to each other */
        if (u != v)
            return u < v ? -1 : 1;
        return (signbit(v) != 0) - (signbit(u) != 0); /* -0.0 < +0.0 */
    }
    case TL_STRING: {
        uint32_t la = a->offsets[ra + 1] - a->offsets[ra];
        uint32_t lb = b->offsets[rb + 1] - b->offsets[rb];
        const uint8_t *sa = a->data + a->offsets[ra], *sb = b->data + b->offsets[rb];
        uint32_t lm = la < lb ? la : lb;
        if (lm <= 8) { /* short keys (CE/PE, symbols): no call */
            for (uint32_t j = 0; j < lm; j++)
                if (sa[j] != sb[j])
                    return sa[j] < sb[j] ? -1 : 1;
        } else {
            int c = memcmp(sa, sb, lm);
            if (c)
                return c < 0 ? -1 : 1;
        }
        return (la > lb) - (la < lb); /* a proper prefix first */
    }
    default:
        return 0;
    }
}

#endif /* TL_SORTKEY_INT_H */
