/*
 * resample_int.h - a growable column builder shared by resample.c (bars,
 * quotes) and validate.c (the findings table): values of one column are
 * pushed row by row, then viewed as a tl_colvec for tl_append_batch.
 *
 * Invariants: n rows pushed; vals holds n * width bytes (the slot of a null
 * is zeroed), valid (allocated at the first null) has a bit per row, a
 * string column keeps offs[0..n] with offs[0] = 0 and data[offs[i]..
 * offs[i+1]) its bytes. tl_cb_clear keeps the buffers for reuse.
 */
#ifndef TL_RESAMPLE_INT_H
#define TL_RESAMPLE_INT_H

#include "ticklake.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tl_colbuild {
    tl_type type;
    size_t width;       /* bytes per value; 0 for strings */
    uint32_t n;         /* rows pushed */
    uint8_t *vals;
    size_t cap_rows;    /* rows vals (and valid, offs) can hold */
    uint8_t *valid;     /* NULL until a null is pushed */
    uint32_t *offs;
    uint8_t *data;
    size_t n_data, cap_data;
} tl_colbuild;

void tl_cb_init(tl_colbuild *c, tl_type type);
void tl_cb_free(tl_colbuild *c);
void tl_cb_clear(tl_colbuild *c);
/* Push a fixed-width value (width bytes at v) or a null (v NULL). */
TL_WUR int tl_cb_push(tl_colbuild *c, const void *v, tl_error *err);
/* Push a string (s, len) or a null (s NULL). */
TL_WUR int tl_cb_push_str(tl_colbuild *c, const char *s, size_t len, tl_error *err);
/* Push row i of a decoded column vector of the same type. */
TL_WUR int tl_cb_push_from(tl_colbuild *c, const tl_colvec *v, uint32_t i, tl_error *err);
/* View the rows pushed (valid until the next push or clear). */
void tl_cb_view(const tl_colbuild *c, tl_colvec *out);

/* Value i of a numeric column as a double (ints converted, floats widened). */
double tl_val_num(const tl_colvec *v, tl_type t, uint32_t i);

#endif /* TL_RESAMPLE_INT_H */
