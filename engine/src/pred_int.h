/*
 * pred_int.h - scan predicates (engine/src/pred.c): the --where language,
 * binding to a schema, pruning by zone information, and row evaluation.
 *
 * Grammar (spec/SCAN.md is normative; keywords case-insensitive):
 *   where   := term ( AND term )*
 *   term    := col op literal | col [NOT] IN '(' literal (',' literal)* ')'
 *            | col BETWEEN literal AND literal | col IS [NOT] NULL
 *            | '(' where ')'
 *   op      := = | == | != | <> | < | <= | > | >=
 *   col     := identifier [A-Za-z_][A-Za-z0-9_]* | "double-quoted" ("" = ")
 *   literal := number (integer, decimal, exponent, inf, nan) | 'string' (''
 *              = ') | true | false | null is not a literal (use IS NULL)
 * Literals of timestamp columns: 'YYYY-MM-DD[ |T]HH:MM:SS[.f{1,9}][Z|+hh:mm]'
 * or 'YYYY-MM-DD' (midnight UTC) or an integer (ns since the epoch); of
 * timestamp_us columns the same text with an optional '-' and up to 6 year
 * digits (years beyond 9999 and before 1), whose value must be a whole
 * microsecond (else an error, no rounding), or an integer (µs); of
 * date columns: 'YYYY-MM-DD' or an integer (days). Integer columns take
 * integer literals only (a fraction is a type error: no silent rounding;
 * out-of-range literals are folded: x < 300 on int8 is always true); float
 * columns any number (compared as double; a float32 column's value is
 * widened exactly). SQL semantics: a comparison with a null value is not
 * true, so null rows never match except IS NULL; NaN: = and < > are false,
 * != is true (IEEE).
 */
#ifndef TL_PRED_INT_H
#define TL_PRED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ticklake.h"
#include "tl_format.h"

#define TL_PRED_MAX_TERMS 256
#define TL_PRED_MAX_IN 4096 /* values in one IN list */
#define TL_PRED_MAX_TEXT (1u << 20)

typedef struct tl_pred tl_pred;

/* Parse text and bind it to the schema fields[0..n_fields). Empty text or
 * NULL -> a predicate that is always true. Errors: TL_EINVAL with the
 * position: "where: at 14 (`> 'abc'`): strike is float32, 'abc' is not a
 * number" ... Never reads past text's NUL; bounded recursion depth. */
TL_WUR int tl_pred_parse(const char *text, const tl_field *fields, uint32_t n_fields,
                         tl_pred **out, tl_error *err);
void tl_pred_free(tl_pred *p); /* NULL-safe */

int tl_pred_is_true(const tl_pred *p); /* no terms */
/* Terms of the conjunction (parentheses flattened), and term i as written
 * (normalised; "{never}" / "{any non-null}" marks a term the column's type
 * decides, e.g. x < 300 on int8), for --explain with term_hit. */
uint32_t tl_pred_n_terms(const tl_pred *p);
const char *tl_pred_term_text(const tl_pred *p, uint32_t i);
/* Fields the predicate reads, ascending, no repeats: *n entries of cols
 * (caller gives n_fields capacity). */
void tl_pred_columns(const tl_pred *p, uint32_t *cols, uint32_t *n);
/* Human-readable bound form, e.g. "strike > 50000 AND opt_type IN ('CE')". */
void tl_pred_describe(const tl_pred *p, char *buf, size_t cap);

/* What is known about one column over some rows (a partition, a file's log
 * stats, a block's zone map). */
typedef struct tl_pred_zone {
    int known;              /* 0: nothing is known: may match */
    uint64_t n_rows;        /* rows covered */
    int has_null_count;
    uint64_t null_count;
    int has_minmax;         /* min/max over non-null, non-NaN values */
    tlf_zval min, max;      /* fixed width: i (signed, date, timestamp), u
                               (unsigned, bool), f (floats) */
    const uint8_t *smin, *smax; /* strings */
    uint32_t smin_len, smax_len;
    int smin_inexact;       /* smin is a lower bound only */
    int smax_inexact;       /* smax is an upper bound only */
    int smax_unbounded;     /* no upper bound at all */
    int has_nan;            /* floats: some value is NaN (unknown = 1) */
} tl_pred_zone;

/* Fill z for field (an index of the bound schema); return 0. */
typedef int (*tl_pred_zone_fn)(void *ctx, uint32_t field, tl_pred_zone *z);

/* 0: no row of the zone can match (prune); 1: some may. term_hit, when not
 * NULL, receives the index of the first term that proved 0 (for --explain). */
int tl_pred_may_match(const tl_pred *p, tl_pred_zone_fn zone, void *ctx, int *term_hit);

/* Evaluate on n rows: cols[k] is the decoded vector of field k for every k
 * tl_pred_columns lists (others are not read). sel gets (n+7)/8 bytes, bit
 * i set when row i matches; trailing bits 0. Returns the number selected.
 * in_sel, when not NULL, restricts to rows already selected (AND). */
uint32_t tl_pred_eval(const tl_pred *p, const tl_colvec *cols, uint32_t n,
                      const uint8_t *in_sel, uint8_t *sel);

#endif /* TL_PRED_INT_H */
