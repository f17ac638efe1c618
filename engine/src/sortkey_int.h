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

#include <stddef.h>
#include <stdint.h>

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

#endif /* TL_SORTKEY_INT_H */
