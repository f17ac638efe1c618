/*
 * sortkey.c - tl_sort_perm: the stable order of rows by a table's sort key
 * (see sortkey_int.h for the order and the method).
 *
 * Invariants: codes preserve the type order exactly (a < b iff code(a) <
 * code(b); equal values, and only they, get equal codes, with -0.0 and +0.0
 * distinct and every NaN one code above +inf); the packed key of a row is
 * the concatenation of (null flag, code - min) per column, so comparing
 * packed keys as unsigned integers compares rows column by column; the
 * radix sort is LSD over records that carry the row index, hence stable.
 */
#include "sortkey_int.h"

#include "util_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define RADIX_BITS 11
#define RADIX (1u << RADIX_BITS)

typedef struct rec1 {
    uint64_t k;
    uint32_t idx, pad;
} rec1;

typedef struct rec2 {
    uint64_t hi, lo;
    uint32_t idx, pad;
} rec2;

void tl_sort_scratch_free(tl_sort_scratch *s)
{
    if (!s)
        return;
    free(s->a);
    free(s->b);
    free(s->codes);
    free(s->nulls);
    free(s->ranks);
    memset(s, 0, sizeof *s);
}

static int grow(void **p, size_t *cap, size_t need, tl_error *err)
{
    if (tl_grow(p, cap, need))
        return tl_error_set(err, TL_ENOMEM, "sort: out of memory (%zu bytes of scratch)", need);
    return TL_OK;
}

/* ---- codes ------------------------------------------------------------------ */

static inline uint64_t code_f64(double d)
{
    uint64_t b;
    if (d != d)
        b = UINT64_C(0x7FF8000000000000);
    else
        memcpy(&b, &d, 8);
    return (b >> 63) ? ~b : b | (UINT64_C(1) << 63);
}

static inline uint64_t code_f32(float f)
{
    uint32_t b;
    if (f != f)
        b = 0x7FC00000u;
    else
        memcpy(&b, &f, 4);
    return (b >> 31) ? (uint32_t)~b : b | 0x80000000u;
}

static int str_less(const tl_colvec *v, uint32_t a, uint32_t b)
{
    uint32_t la = v->offsets[a + 1] - v->offsets[a], lb = v->offsets[b + 1] - v->offsets[b];
    /* data may be NULL when every string is empty (memcmp(NULL, .., 0) is UB) */
    int c = la && lb ? memcmp(v->data + v->offsets[a], v->data + v->offsets[b], la < lb ? la : lb)
                     : 0;
    return c < 0 || (c == 0 && la < lb);
}

static int str_eq(const tl_colvec *v, uint32_t a, uint32_t b)
{
    uint32_t la = v->offsets[a + 1] - v->offsets[a], lb = v->offsets[b + 1] - v->offsets[b];
    return la == lb && (la == 0 || memcmp(v->data + v->offsets[a], v->data + v->offsets[b], la) == 0);
}

/* qsort over distinct representatives (row numbers) needs the column. */
static _Thread_local const tl_colvec *rank_col;

static int cmp_rep(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (str_less(rank_col, a, b))
        return -1;
    return str_less(rank_col, b, a) ? 1 : 0;
}

/* Dense ranks of a string column's values: codes[i] = rank of row i. */
static int string_codes(const tl_colvec *v, uint32_t n, uint64_t *codes, tl_sort_scratch *s,
                        tl_error *err)
{
    /* hash table of distinct values: slot -> representative row + 1 */
    size_t cap = 64;
    while (cap < (size_t)n * 2 && cap < ((size_t)1 << 32))
        cap *= 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    uint32_t *id_of_slot = malloc(cap * sizeof *id_of_slot);
    if (!slots || !id_of_slot) {
        free(slots);
        free(id_of_slot);
        return tl_error_set(err, TL_ENOMEM, "sort: out of memory (string ranks)");
    }
    int rc = grow((void **)&s->ranks, &s->cap_ranks, ((size_t)n + 1) * sizeof(uint32_t), err);
    if (rc) {
        free(slots);
        free(id_of_slot);
        return rc;
    }
    uint32_t *reps = s->ranks; /* reps[id] = representative row */
    uint32_t n_ids = 0, last_row = UINT32_MAX, last_id = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!tl_bit_get(v->validity, i)) {
            codes[i] = 0;
            continue;
        }
        if (last_row != UINT32_MAX && str_eq(v, i, last_row)) {
            codes[i] = last_id;
            continue;
        }
        uint32_t len = v->offsets[i + 1] - v->offsets[i];
        size_t h = (size_t)XXH3_64bits(v->data + v->offsets[i], len) & (cap - 1);
        for (;;) {
            if (slots[h] == 0) {
                slots[h] = i + 1;
                id_of_slot[h] = n_ids;
                reps[n_ids] = i;
                codes[i] = n_ids++;
                break;
            }
            if (str_eq(v, i, slots[h] - 1)) {
                codes[i] = id_of_slot[h];
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        last_row = i;
        last_id = (uint32_t)codes[i];
    }
    free(slots);
    /* rank the distinct values; id_of_slot is reused as rank_of_id */
    uint32_t *order = malloc(((size_t)n_ids + 1) * sizeof *order);
    if (!order) {
        free(id_of_slot);
        return tl_error_set(err, TL_ENOMEM, "sort: out of memory (string ranks)");
    }
    memcpy(order, reps, (size_t)n_ids * sizeof *order);
    rank_col = v;
    qsort(order, n_ids, sizeof *order, cmp_rep);
    /* order[r] = representative row of rank r; map rep row -> id via codes */
    uint32_t *rank_of_id = id_of_slot;
    for (uint32_t r = 0; r < n_ids; r++)
        rank_of_id[codes[order[r]]] = r;
    for (uint32_t i = 0; i < n; i++)
        if (tl_bit_get(v->validity, i))
            codes[i] = rank_of_id[codes[i]];
    free(order);
    free(id_of_slot);
    return TL_OK;
}

static int column_codes(const tl_sortcol *c, uint32_t n, uint64_t *codes, tl_sort_scratch *s,
                        tl_error *err)
{
    const void *p = c->v.values;
    switch (c->type) {
    case TL_BOOL:
    case TL_UINT8:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = ((const uint8_t *)p)[i];
        break;
    case TL_UINT16:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = ((const uint16_t *)p)[i];
        break;
    case TL_UINT32:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = ((const uint32_t *)p)[i];
        break;
    case TL_UINT64:
        memcpy(codes, p, (size_t)n * 8);
        break;
    case TL_INT8:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = (uint64_t)(int64_t)((const int8_t *)p)[i] ^ (UINT64_C(1) << 63);
        break;
    case TL_INT16:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = (uint64_t)(int64_t)((const int16_t *)p)[i] ^ (UINT64_C(1) << 63);
        break;
    case TL_INT32:
    case TL_DATE:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = (uint64_t)(int64_t)((const int32_t *)p)[i] ^ (UINT64_C(1) << 63);
        break;
    case TL_INT64:
    case TL_TIMESTAMP:
    case TL_TIMESTAMP_US:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = (uint64_t)((const int64_t *)p)[i] ^ (UINT64_C(1) << 63);
        break;
    case TL_FLOAT32:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = code_f32(((const float *)p)[i]);
        break;
    case TL_FLOAT64:
        for (uint32_t i = 0; i < n; i++)
            codes[i] = code_f64(((const double *)p)[i]);
        break;
    case TL_STRING:
        return string_codes(&c->v, n, codes, s, err);
    default:
        return tl_error_set(err, TL_EINVAL, "sort: key column has unknown type %d", (int)c->type);
    }
    if (c->v.validity)
        for (uint32_t i = 0; i < n; i++)
            if (!tl_bit_get(c->v.validity, i))
                codes[i] = 0;
    return TL_OK;
}

/* ---- packing and radix sort ---------------------------------------------------- */

typedef struct field {
    const uint64_t *codes;
    const uint8_t *validity; /* only when the column holds a null */
    uint64_t base;
    unsigned bits;   /* of code - base */
    unsigned nbit;   /* 1 if a null flag is packed */
} field;

static inline unsigned bitwidth(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* Append `w` bits of v below the current key (hi:lo), i.e. key = key << w | v. */
static inline void push_bits(uint64_t *hi, uint64_t *lo, unsigned w, uint64_t v)
{
    if (w == 0)
        return;
    if (w == 64) {
        *hi = *lo;
        *lo = v;
        return;
    }
    *hi = (*hi << w) | (*lo >> (64 - w));
    *lo = (*lo << w) | v;
}

static inline void pack_row(const field *f, uint32_t nf, uint32_t i, uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    for (uint32_t k = 0; k < nf; k++) {
        int present = f[k].validity ? tl_bit_get(f[k].validity, i) : 1;
        if (f[k].nbit)
            push_bits(&h, &l, 1, (uint64_t)present);
        push_bits(&h, &l, f[k].bits, present ? f[k].codes[i] - f[k].base : 0);
    }
    *hi = h;
    *lo = l;
}

static inline uint32_t digit1(const rec1 *r, unsigned shift)
{
    return (uint32_t)(r->k >> shift) & (RADIX - 1);
}

static inline uint32_t digit2(const rec2 *r, unsigned shift)
{
    uint64_t x;
    if (shift >= 64)
        x = r->hi >> (shift - 64);
    else if (shift == 0)
        x = r->lo;
    else
        x = (r->lo >> shift) | (r->hi << (64 - shift));
    return (uint32_t)x & (RADIX - 1);
}

#define RADIX_SORT(NAME, REC, DIGIT)                                                        \
    static REC *NAME(REC *a, REC *b, uint32_t n, unsigned total_bits)                       \
    {                                                                                       \
        unsigned passes = (total_bits + RADIX_BITS - 1) / RADIX_BITS;                       \
        static _Thread_local uint32_t hist[(128 + RADIX_BITS - 1) / RADIX_BITS][RADIX];     \
        memset(hist, 0, sizeof(uint32_t) * RADIX * passes);                                 \
        for (uint32_t i = 0; i < n; i++)                                                    \
            for (unsigned p = 0; p < passes; p++)                                           \
                hist[p][DIGIT(&a[i], p * RADIX_BITS)]++;                                    \
        for (unsigned p = 0; p < passes; p++) {                                             \
            uint32_t *h = hist[p];                                                          \
            if (h[DIGIT(&a[0], p * RADIX_BITS)] == n)                                       \
                continue; /* every record has the same digit */                             \
            uint32_t sum = 0;                                                               \
            for (uint32_t d = 0; d < RADIX; d++) {                                          \
                uint32_t c = h[d];                                                          \
                h[d] = sum;                                                                 \
                sum += c;                                                                   \
            }                                                                               \
            for (uint32_t i = 0; i < n; i++)                                                \
                b[h[DIGIT(&a[i], p * RADIX_BITS)]++] = a[i];                                \
            REC *t = a;                                                                     \
            a = b;                                                                          \
            b = t;                                                                          \
        }                                                                                   \
        return a;                                                                           \
    }

RADIX_SORT(radix1, rec1, digit1)
RADIX_SORT(radix2, rec2, digit2)

/* ---- fallback: merge sort comparing codes ------------------------------------------ */

static inline int cmp_rows(const field *f, uint32_t nf, uint32_t a, uint32_t b)
{
    for (uint32_t k = 0; k < nf; k++) {
        int pa = f[k].validity ? tl_bit_get(f[k].validity, a) : 1;
        int pb = f[k].validity ? tl_bit_get(f[k].validity, b) : 1;
        if (pa != pb)
            return pa < pb ? -1 : 1;
        if (!pa)
            continue;
        uint64_t x = f[k].codes[a], y = f[k].codes[b];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

static void merge_sort(const field *f, uint32_t nf, uint32_t *perm, uint32_t *tmp, uint32_t n)
{
    uint32_t *src = perm, *dst = tmp;
    for (uint64_t w = 1; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                dst[o++] = cmp_rows(f, nf, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < hi)
                dst[o++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != perm)
        memcpy(perm, src, (size_t)n * sizeof *perm);
}

/* ---- entry point ------------------------------------------------------------------------ */

int tl_sort_perm(const tl_sortcol *keys, uint32_t n_keys, uint32_t n, uint32_t *perm,
                 int *sorted, tl_sort_scratch *s, tl_error *err)
{
    if (sorted)
        *sorted = 1;
    if (n > (UINT32_C(1) << 31))
        return tl_error_set(err, TL_EINVAL, "sort: %u rows (at most 2^31 per sort)", n);
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    if (n_keys == 0 || n < 2)
        return TL_OK;
    if (n_keys > 4096)
        return tl_error_set(err, TL_EINVAL, "sort: %u key columns", n_keys);
    int rc = grow((void **)&s->codes, &s->cap_codes, (size_t)n * n_keys * sizeof(uint64_t), err);
    if (rc)
        return rc;
    field *f = calloc(n_keys, sizeof *f);
    if (!f)
        return tl_error_set(err, TL_ENOMEM, "sort: out of memory");
    unsigned total = 0;
    for (uint32_t k = 0; k < n_keys; k++) {
        uint64_t *codes = s->codes + (size_t)k * n;
        rc = column_codes(&keys[k], n, codes, s, err);
        if (rc)
            goto out;
        const uint8_t *val = keys[k].v.validity;
        uint64_t mn = UINT64_MAX, mx = 0;
        int any_null = 0, any = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (val && !tl_bit_get(val, i)) {
                any_null = 1;
                continue;
            }
            any = 1;
            mn = codes[i] < mn ? codes[i] : mn;
            mx = codes[i] > mx ? codes[i] : mx;
        }
        f[k].codes = codes;
        f[k].validity = any_null ? val : NULL;
        f[k].nbit = (unsigned)any_null;
        f[k].base = any ? mn : 0;
        f[k].bits = any ? bitwidth(mx - mn) : 0;
        total += f[k].nbit + f[k].bits;
    }
    if (total == 0)
        goto out; /* every row has the same key */
    if (total <= 64) {
        rc = grow(&s->a, &s->cap_a, (size_t)n * sizeof(rec1), err);
        if (!rc)
            rc = grow(&s->b, &s->cap_b, (size_t)n * sizeof(rec1), err);
        if (rc)
            goto out;
        rec1 *a = s->a;
        int in_order = 1;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t hi, lo;
            pack_row(f, n_keys, i, &hi, &lo);
            a[i].k = lo;
            a[i].idx = i;
            if (i && lo < a[i - 1].k)
                in_order = 0;
        }
        if (in_order)
            goto out;
        if (sorted)
            *sorted = 0;
        const rec1 *r = radix1(a, s->b, n, total);
        for (uint32_t i = 0; i < n; i++)
            perm[i] = r[i].idx;
    } else if (total <= 128) {
        rc = grow(&s->a, &s->cap_a, (size_t)n * sizeof(rec2), err);
        if (!rc)
            rc = grow(&s->b, &s->cap_b, (size_t)n * sizeof(rec2), err);
        if (rc)
            goto out;
        rec2 *a = s->a;
        int in_order = 1;
        for (uint32_t i = 0; i < n; i++) {
            pack_row(f, n_keys, i, &a[i].hi, &a[i].lo);
            a[i].idx = i;
            if (i && (a[i].hi < a[i - 1].hi || (a[i].hi == a[i - 1].hi && a[i].lo < a[i - 1].lo)))
                in_order = 0;
        }
        if (in_order)
            goto out;
        if (sorted)
            *sorted = 0;
        const rec2 *r = radix2(a, s->b, n, total);
        for (uint32_t i = 0; i < n; i++)
            perm[i] = r[i].idx;
    } else {
        int in_order = 1;
        for (uint32_t i = 1; i < n && in_order; i++)
            if (cmp_rows(f, n_keys, i - 1, i) > 0)
                in_order = 0;
        if (in_order)
            goto out;
        if (sorted)
            *sorted = 0;
        rc = grow(&s->a, &s->cap_a, (size_t)n * sizeof(uint32_t), err);
        if (rc)
            goto out;
        merge_sort(f, n_keys, perm, s->a, n);
    }
out:
    free(f);
    return rc;
}
