/*
 * fuzz_where.c - libFuzzer target for the --where parser and evaluator
 * (engine/src/pred.c) over the built-in ticks schema (tl_ticks_table_spec).
 *
 * Input: the bytes of a where clause (anything; a NUL ends the text, as it
 * would for a C string). Properties checked:
 *   - a failure is TL_EINVAL (or TL_ENOMEM) with a message starting
 *     "where: " that names a position, and no predicate;
 *   - on success, evaluation over a fixed set of 67 rows (every column with
 *     nulls where nullable, NaN, -0, infinities, extreme integers, empty
 *     strings) returns the number of bits it set, leaves the trailing bits
 *     clear, and with an input selection selects a subset of both;
 *   - tl_pred_may_match never prunes the exact zone of those rows (nor a
 *     loosened one) when some row matched;
 *   - the terms as written (tl_pred_term_text without the folding notes),
 *     joined by AND, parse again and select the same rows;
 *   - tl_pred_describe and tl_pred_columns stay within their buffers.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/pred_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define NROWS 67u
#define MAXF 64u

static const tl_field *F;
static uint32_t NF;
static tl_colvec cols[MAXF];
static uint8_t valid[MAXF][(NROWS + 7) / 8];
static int64_t v64[MAXF][NROWS];
static int32_t v32[MAXF][NROWS];
static int16_t v16[MAXF][NROWS];
static int8_t v8[MAXF][NROWS];
static double vf64[MAXF][NROWS];
static float vf32[MAXF][NROWS];
static uint32_t soff[MAXF][NROWS + 1];
static uint8_t sdata[MAXF][NROWS * 12];
static tl_pred_zone zones[MAXF];

static const char *const strs[] = {"", "CE", "PE", "NIFTY", "BANKNIFTY", "a'b", "\xff", "CEX"};

static uint64_t lcg = 12345;
static uint64_t next(void)
{
    lcg = lcg * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return lcg >> 17;
}

static int64_t int_val(uint32_t i, int64_t lo, int64_t hi)
{
    switch (i % 7) {
    case 0: return lo;
    case 1: return hi;
    case 2: return 0;
    default: return (int64_t)(next() % 2001) - 1000;
    }
}

static double f_val(uint32_t i)
{
    switch (i % 9) {
    case 0: return NAN;
    case 1: return -0.0;
    case 2: return INFINITY;
    case 3: return -INFINITY;
    case 4: return 0.1;
    case 5: return 50000;
    default: return (double)(int64_t)(next() % 200000) / 4.0 - 100;
    }
}

static void setup(void)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    F = spec.fields;
    NF = spec.n_fields < MAXF ? spec.n_fields : MAXF;
    for (uint32_t c = 0; c < NF; c++) {
        tl_pred_zone *z = &zones[c];
        memset(z, 0, sizeof *z);
        z->known = 1;
        z->n_rows = NROWS;
        z->has_null_count = 1;
        int first = 1;
        for (uint32_t i = 0; i < NROWS; i++) {
            int isnull = F[c].nullable && (i % 5 == 3);
            if (!isnull)
                valid[c][i / 8] |= (uint8_t)(1u << (i % 8));
            else
                z->null_count++;
            switch (F[c].type) {
            case TL_STRING: {
                const char *s = isnull ? "" : strs[(i + c) % 8];
                size_t l = strlen(s);
                soff[c][i + 1] = soff[c][i] + (uint32_t)l;
                memcpy(sdata[c] + soff[c][i], s, l);
                break;
            }
            case TL_FLOAT32: case TL_FLOAT64: {
                double v = isnull ? 0 : f_val(i + c);
                if (F[c].type == TL_FLOAT32)
                    v = (double)(vf32[c][i] = (float)v);
                vf64[c][i] = v;
                if (isnull)
                    break;
                if (v != v) {
                    z->has_nan = 1;
                    break;
                }
                if (first || v < z->min.f) z->min.f = v;
                if (first || v > z->max.f) z->max.f = v;
                first = 0;
                break;
            }
            default: {
                int64_t lo = INT64_MIN, hi = INT64_MAX;
                if (F[c].type == TL_INT8) lo = INT8_MIN, hi = INT8_MAX;
                if (F[c].type == TL_INT16) lo = INT16_MIN, hi = INT16_MAX;
                if (F[c].type == TL_INT32 || F[c].type == TL_DATE) lo = INT32_MIN, hi = INT32_MAX;
                int64_t v = isnull ? 0 : int_val(i, lo, hi);
                if (F[c].type == TL_TIMESTAMP && i % 7 > 2)
                    v = INT64_C(1763350000000000000) + (int64_t)(next() % 100000) * 1000000;
                if (F[c].type == TL_DATE && i % 7 > 2)
                    v = 20400 + (int64_t)(next() % 30);
                v64[c][i] = v;
                v32[c][i] = (int32_t)v;
                v16[c][i] = (int16_t)v;
                v8[c][i] = (int8_t)v;
                if (isnull)
                    break;
                if (first || v < z->min.i) z->min.i = v;
                if (first || v > z->max.i) z->max.i = v;
                first = 0;
            }
            }
        }
        z->has_minmax = !first;
        /* only signed, float and string types occur in the ticks schema;
         * others would need their own value arrays */
        switch (F[c].type) {
        case TL_STRING: {
            cols[c].offsets = soff[c];
            cols[c].data = sdata[c];
            /* string bounds: "" .. "\xff" over strs (all present) */
            z->has_minmax = 1;
            z->smin = (const uint8_t *)"";
            z->smin_len = 0;
            z->smax = (const uint8_t *)"\xff";
            z->smax_len = 1;
            break;
        }
        case TL_FLOAT32: cols[c].values = vf32[c]; break;
        case TL_FLOAT64: cols[c].values = vf64[c]; break;
        case TL_INT8: cols[c].values = v8[c]; break;
        case TL_INT16: cols[c].values = v16[c]; break;
        case TL_INT32: case TL_DATE: cols[c].values = v32[c]; break;
        default: cols[c].values = v64[c]; break;
        }
        cols[c].validity = F[c].nullable ? valid[c] : NULL;
    }
}

static int loosen;
static int zone_fn(void *ctx, uint32_t field, tl_pred_zone *z)
{
    (void)ctx;
    CHECK(field < NF);
    *z = zones[field];
    if (loosen) { /* weaker knowledge, still true */
        z->has_minmax = field % 2;
        z->has_nan = 1;
        z->smax_unbounded = 1;
        z->smin_inexact = 1;
        z->has_null_count = field % 3 != 0;
    }
    return 0;
}

static uint32_t popcount_bm(const uint8_t *bm, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++)
        c += (bm[i / 8] >> (i % 8)) & 1;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size > 1u << 16)
        return 0;
    char *text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data, size);
    text[size] = 0;
    tl_pred *p = NULL;
    tl_error err = {0};
    int rc = tl_pred_parse(text, F, NF, &p, &err);
    if (rc != TL_OK) {
        CHECK(rc == TL_EINVAL || rc == TL_ENOMEM);
        CHECK(p == NULL);
        CHECK(err.code == rc);
        CHECK(strncmp(err.msg, "where: ", 7) == 0);
        free(text);
        return 0;
    }
    CHECK(p != NULL);
    enum { NB = (NROWS + 7) / 8 };
    uint8_t sel[NB + 1], sel2[NB + 1], in_sel[NB];
    sel[NB] = 0xA5;
    uint32_t n = tl_pred_eval(p, cols, NROWS, NULL, sel);
    CHECK(sel[NB] == 0xA5);
    CHECK(n == popcount_bm(sel, NB * 8));
    CHECK((sel[NB - 1] >> (NROWS % 8)) == 0);
    for (uint32_t i = 0; i < NB; i++)
        in_sel[i] = (uint8_t)(0x5A ^ (i * 37));
    uint32_t n2 = tl_pred_eval(p, cols, NROWS, in_sel, sel2);
    CHECK(n2 == popcount_bm(sel2, NB * 8));
    for (uint32_t i = 0; i < NB; i++)
        CHECK((sel2[i] & ~(sel[i] & in_sel[i])) == 0 && sel2[i] == (sel[i] & in_sel[i]));
    /* pruning */
    for (loosen = 0; loosen < 2; loosen++) {
        int hit = -2;
        int may = tl_pred_may_match(p, zone_fn, NULL, &hit);
        if (n > 0)
            CHECK(may == 1);
        CHECK(may ? hit == -1 : (hit >= 0 && (uint32_t)hit < tl_pred_n_terms(p)));
    }
    CHECK(tl_pred_may_match(p, NULL, NULL, NULL) == 1 || n == 0);
    /* columns and describe */
    uint32_t cl[MAXF], nc = 0;
    tl_pred_columns(p, cl, &nc);
    CHECK(nc <= NF);
    for (uint32_t i = 0; i < nc; i++)
        CHECK(cl[i] < NF && (i == 0 || cl[i - 1] < cl[i]));
    char small[7];
    tl_pred_describe(p, small, sizeof small);
    CHECK(strlen(small) < sizeof small);
    /* the terms as written parse back to the same selection */
    size_t cap = 64, len = 0;
    for (uint32_t i = 0; i < tl_pred_n_terms(p); i++)
        cap += strlen(tl_pred_term_text(p, i)) + 5;
    char *again = malloc(cap);
    CHECK(again);
    again[0] = 0;
    for (uint32_t i = 0; i < tl_pred_n_terms(p); i++) {
        const char *t = tl_pred_term_text(p, i);
        size_t tl = strlen(t);
        static const char *const notes[] = {" {never}", " {any non-null}"};
        for (int k = 0; k < 2; k++) {
            size_t nl = strlen(notes[k]);
            if (tl >= nl && memcmp(t + tl - nl, notes[k], nl) == 0) {
                tl -= nl;
                break;
            }
        }
        if (i) {
            memcpy(again + len, " AND ", 5);
            len += 5;
        }
        memcpy(again + len, t, tl);
        len += tl;
        again[len] = 0;
    }
    tl_pred *q = NULL;
    rc = tl_pred_parse(again, F, NF, &q, &err);
    CHECK(rc == TL_OK);
    CHECK(tl_pred_n_terms(q) == tl_pred_n_terms(p));
    uint32_t n3 = tl_pred_eval(q, cols, NROWS, NULL, sel2);
    CHECK(n3 == n && memcmp(sel, sel2, NB) == 0);
    tl_pred_free(q);
    free(again);
    tl_pred_free(p);
    free(text);
    return 0;
}
