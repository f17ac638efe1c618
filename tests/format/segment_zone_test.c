/*
 * segment_zone_test.c - zone maps (min, max, flags per block) against
 * brute force: signed vs unsigned order, NaN excluded and flagged, -0.0
 * below +0.0, float32 widened, nulls ignored, string memcmp order and the
 * 64-byte truncation rules (MIN_INEXACT, MAX_INEXACT, MAX_UNBOUNDED).
 */
#include <criterion/criterion.h>

#include "segment_testlib.h"

/* Write one fixed-width column of n values (raw bytes) with an optional
 * validity bitmap; return its open segment and the file. */
static tlf_seg *write_one(tl_type t, const void *vals, const uint8_t *valid, uint32_t n,
                          uint32_t block_rows, membuf *m)
{
    tl_coldef d = {"z", t};
    tlf_writer_opts o = {.block_rows = block_rows};
    tlf_seg_writer *w;
    tl_error err;
    *m = (membuf){0};
    cr_assert_eq(tlf_seg_writer_open(&d, 1, &o, (tlf_sink){membuf_write, m}, &w, &err), TL_OK);
    tl_colvec v = {.values = vals, .validity = valid};
    cr_assert_eq(tlf_seg_writer_append(w, &v, n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m->p, m->len, "zone.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_OK, "%s", err.msg);
    return s;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, 8) == 0; }

Test(zone, negative_zero_orders_below_positive_zero)
{
    double v[4] = {0.0, -0.0, 0.0, -0.0};
    membuf m;
    tlf_seg *s = write_one(TL_FLOAT64, v, NULL, 4, 0, &m);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX);
    cr_assert(same_bits(bi->min.f, -0.0) && same_bits(bi->max.f, 0.0));
    tlf_seg_close(s);
    free(m.p);
    double only_neg[2] = {-0.0, -0.0};
    s = write_one(TL_FLOAT64, only_neg, NULL, 2, 0, &m);
    bi = tlf_seg_block(s, 0, 0);
    cr_assert(same_bits(bi->min.f, -0.0) && same_bits(bi->max.f, -0.0));
    tlf_seg_close(s);
    free(m.p);
}

/* FMT-R16 */
Test(zone, nan_is_excluded_and_flagged)
{
    double v[5] = {NAN, 3.5, -INFINITY, NAN, 2.0};
    membuf m;
    tlf_seg *s = write_one(TL_FLOAT64, v, NULL, 5, 0, &m);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX | TLF_ZONE_HAS_NAN);
    cr_assert(same_bits(bi->min.f, -INFINITY) && same_bits(bi->max.f, 3.5));
    tlf_seg_close(s);
    free(m.p);

    double all_nan[3] = {NAN, -NAN, NAN};
    s = write_one(TL_FLOAT64, all_nan, NULL, 3, 0, &m);
    bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_NAN); /* no min/max at all */
    cr_assert_eq(bi->min.u, 0);
    cr_assert_eq(bi->max.u, 0);
    tlf_seg_close(s);
    free(m.p);
}

Test(zone, float32_widened_exactly)
{
    float v[4] = {0.1f, -3.3f, FLT_MAX, INFINITY};
    membuf m;
    tlf_seg *s = write_one(TL_FLOAT32, v, NULL, 4, 0, &m);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert(same_bits(bi->min.f, (double)-3.3f));
    cr_assert(same_bits(bi->max.f, (double)INFINITY));
    tlf_seg_close(s);
    free(m.p);
    float w[2] = {0.1f, FLT_MAX};
    s = write_one(TL_FLOAT32, w, NULL, 2, 0, &m);
    bi = tlf_seg_block(s, 0, 0);
    cr_assert(same_bits(bi->min.f, (double)0.1f) && same_bits(bi->max.f, (double)FLT_MAX));
    tlf_seg_close(s);
    free(m.p);
}

Test(zone, nulls_are_ignored)
{
    double v[4] = {NAN, 7.0, -100.0, 5.0};
    uint8_t valid[1] = {0x0a}; /* rows 1 and 3 present */
    membuf m;
    tlf_seg *s = write_one(TL_FLOAT64, v, valid, 4, 0, &m);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX); /* the NaN was in a null slot */
    cr_assert(same_bits(bi->min.f, 5.0) && same_bits(bi->max.f, 7.0));
    cr_assert_eq(bi->null_count, 2);
    tlf_seg_close(s);
    free(m.p);
    uint8_t none[1] = {0};
    s = write_one(TL_FLOAT64, v, none, 4, 0, &m);
    bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, 0);
    cr_assert_eq(bi->null_count, 4);
    tlf_seg_close(s);
    free(m.p);
}

Test(zone, signed_and_unsigned_order)
{
    int8_t i8[3] = {-128, 127, 0};
    uint8_t u8[3] = {255, 0, 128};
    int64_t i64[3] = {INT64_MAX, INT64_MIN, -1};
    uint64_t u64[3] = {UINT64_MAX, 0, 1ull << 63};
    int32_t dt[3] = {-719162, 2932896, 20000};
    uint8_t bl[3] = {1, 0, 1};
    membuf m;
    tlf_seg *s = write_one(TL_INT8, i8, NULL, 3, 0, &m);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->min.i, -128);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->max.i, 127);
    tlf_seg_close(s);
    free(m.p);
    s = write_one(TL_UINT8, u8, NULL, 3, 0, &m);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->min.u, 0);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->max.u, 255);
    tlf_seg_close(s);
    free(m.p);
    s = write_one(TL_TIMESTAMP, i64, NULL, 3, 0, &m);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->min.i, INT64_MIN);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->max.i, INT64_MAX);
    tlf_seg_close(s);
    free(m.p);
    s = write_one(TL_UINT64, u64, NULL, 3, 0, &m);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->min.u, 0);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->max.u, UINT64_MAX);
    tlf_seg_close(s);
    free(m.p);
    s = write_one(TL_DATE, dt, NULL, 3, 0, &m);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->min.i, -719162);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->max.i, 2932896);
    tlf_seg_close(s);
    free(m.p);
    s = write_one(TL_BOOL, bl, NULL, 3, 0, &m);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->min.u, 0);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->max.u, 1);
    tlf_seg_close(s);
    free(m.p);
}

/* strings: values given as C strings with explicit lengths */
static tlf_seg *write_strings(const char *const *v, const size_t *len, uint32_t n, membuf *m)
{
    uint32_t *offs = malloc((n + 1) * 4);
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += len[i];
    uint8_t *data = malloc(total + 1);
    offs[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(data + offs[i], v[i], len[i]);
        offs[i + 1] = offs[i] + (uint32_t)len[i];
    }
    tl_coldef d = {"s", TL_STRING};
    tlf_seg_writer *w;
    tl_error err;
    *m = (membuf){0};
    cr_assert_eq(tlf_seg_writer_open(&d, 1, NULL, (tlf_sink){membuf_write, m}, &w, &err), TL_OK);
    tl_colvec cv = {.offsets = offs, .data = data};
    cr_assert_eq(tlf_seg_writer_append(w, &cv, n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    free(offs);
    free(data);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m->p, m->len, "zone.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_OK, "%s", err.msg);
    return s;
}

Test(zone, strings_shorter_prefix_first)
{
    const char *v[] = {"abc", "ab", "b", "abd", ""};
    size_t l[] = {3, 2, 1, 3, 0};
    membuf m;
    tlf_seg *s = write_strings(v + 0, l + 0, 4, &m);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX);
    cr_assert_eq(bi->smin_len, 2);
    cr_assert(memcmp(bi->smin, "ab", 2) == 0);
    cr_assert_eq(bi->smax_len, 1);
    cr_assert(memcmp(bi->smax, "b", 1) == 0);
    tlf_seg_close(s);
    free(m.p);
    s = write_strings(v, l, 5, &m); /* with the empty string: min is "" */
    bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX);
    cr_assert_eq(bi->smin_len, 0);
    tlf_seg_close(s);
    free(m.p);
}

/* FMT-R16 */
Test(zone, strings_truncated_to_64_bytes)
{
    char a[100], b[100], c[64], ff[70];
    memset(a, 'a', 100);       /* min, 100 bytes: 64-byte prefix, inexact */
    memset(b, 'z', 100);       /* max, 100 bytes */
    b[63] = (char)0xFF;        /* prefix ends in 0xFF: increment byte 62, cut */
    b[62] = (char)0xFF;
    memset(c, 'm', 64);
    memset(ff, 0xFF, 70);
    const char *v[] = {a, b, c};
    size_t l[] = {100, 100, 64};
    membuf m;
    tlf_seg *s = write_strings(v, l, 3, &m);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags,
                 TLF_ZONE_HAS_MINMAX | TLF_ZONE_MIN_INEXACT | TLF_ZONE_MAX_INEXACT);
    cr_assert_eq(bi->smin_len, 64);
    cr_assert(memcmp(bi->smin, a, 64) == 0);
    cr_assert_eq(bi->smax_len, 62);
    cr_assert(memcmp(bi->smax, b, 61) == 0);
    cr_assert_eq(bi->smax[61], 'z' + 1);
    tlf_seg_close(s);
    free(m.p);

    /* exactly 64 bytes is exact */
    const char *v2[] = {c};
    size_t l2[] = {64};
    s = write_strings(v2, l2, 1, &m);
    bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX);
    cr_assert_eq(bi->smin_len, 64);
    cr_assert_eq(bi->smax_len, 64);
    tlf_seg_close(s);
    free(m.p);

    /* all 0xFF beyond 64 bytes: no upper bound */
    const char *v3[] = {c, ff};
    size_t l3[] = {64, 70};
    s = write_strings(v3, l3, 2, &m);
    bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX | TLF_ZONE_MAX_UNBOUNDED);
    cr_assert_eq(bi->smax_len, 0);
    cr_assert_eq(bi->smin_len, 64);
    tlf_seg_close(s);
    free(m.p);
}

/* Random blocks of every type against the brute force of the test library. */
Test(zone, brute_force_random_blocks)
{
    static const tl_type types[] = {TL_BOOL,   TL_INT8,    TL_INT16,  TL_INT32,   TL_INT64,
                                    TL_UINT8,  TL_UINT16,  TL_UINT32, TL_UINT64,  TL_FLOAT32,
                                    TL_FLOAT64, TL_TIMESTAMP, TL_DATE, TL_STRING};
    for (int nl = N_NONE; nl <= N_RAND5; nl++) {
        tcol c[14];
        for (int i = 0; i < 14; i++) {
            char name[16];
            snprintf(name, sizeof name, "c%d", i);
            tcol_fill(&c[i], name, types[i], TLF_ENC_AUTO, TLF_COMP_AUTO,
                      D_EDGE, (tnulls)nl, 2000, 100 + i);
        }
        membuf m = write_cols(c, 14, 13, 0, NULL, NULL);
        check_file(m.p, m.len, c, 14); /* checks every block's zone map */
        free(m.p);
        for (int i = 0; i < 14; i++)
            tcol_free(&c[i]);
    }
}
