/*
 * enc_test.c - the per-block value encodings of enc.h: round trips of every
 * encoding x width x signedness x size x value pattern, exact size
 * functions, tlf_scaled_find, and the decoders' rejection of malformed
 * payloads (code and message). Payloads are decoded from exact-size heap
 * copies and into exact-size heap outputs so ASan catches any access
 * outside them.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "enc.h"
#include "enc_priv.h"
#include "tl_format.h"

static const uint32_t NS[] = {0, 1, 2, 255, 256, 257, 1000, 65536};
#define N_NS (sizeof NS / sizeof NS[0])
static const unsigned WS[] = {1, 2, 4, 8};

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* extended min / max of a w-byte type */
static uint64_t tmin(unsigned w, int s)
{
    return s ? (uint64_t)(-(int64_t)((w == 8 ? (uint64_t)INT64_MAX : (1ull << (8 * w - 1)) - 1)) - 1) : 0;
}
static uint64_t tmax(unsigned w, int s)
{
    if (w == 8)
        return s ? (uint64_t)INT64_MAX : UINT64_MAX;
    return s ? (1ull << (8 * w - 1)) - 1 : (1ull << (8 * w)) - 1;
}

static void store(void *dst, size_t i, unsigned w, uint64_t v)
{
    memcpy((uint8_t *)dst + i * w, &v, w); /* little-endian truncation */
}

#define N_PAT 10
static const char *PAT_NAMES[N_PAT] = {
    "constant", "ascending", "descending", "random_full", "random_small",
    "extremes", "alternating_extremes", "sorted_small_gaps", "runs",
    "constant_max"};

/* n values of pattern pat as w-byte values (truncated) */
static void gen(void *dst, uint32_t n, unsigned w, int s, int pat)
{
    uint64_t lo = tmin(w, s), hi = tmax(w, s), x = rnd();
    uint64_t run_v = rnd();
    uint32_t run_left = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v;
        switch (pat) {
        case 0: v = 42; break;
        case 1: v = lo + i; break;
        case 2: v = hi - i; break;
        case 3: v = rnd(); break;
        case 4: v = x + rnd() % 16; break;
        case 5: {
            uint64_t c[6] = {lo, hi, lo + 1, hi - 1, 0, (uint64_t)-1};
            v = c[rnd() % 6];
            break;
        }
        case 6: v = (i & 1) ? hi : lo; break;
        case 7: x += rnd() % 1000; v = x; break;
        case 8:
            if (run_left == 0) {
                run_v = rnd() % 5;
                run_left = 1 + (uint32_t)(rnd() % 300);
            }
            run_left--;
            v = run_v;
            break;
        default: v = hi; break;
        }
        store(dst, i, w, v);
    }
}

/* exact-size heap copy of bytes (malloc(0) avoided) */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
    uint8_t *q = malloc(len ? len : 1);
    cr_assert(q);
    if (len)
        memcpy(q, p, len);
    return q;
}

/* decode output with a canary tail: check exactly n*w bytes written */
#define CANARY 64
static void *out_alloc(size_t bytes)
{
    uint8_t *p = malloc(bytes + CANARY);
    cr_assert(p);
    memset(p, 0xA5, bytes + CANARY);
    return p;
}
static void out_check_canary(const void *out, size_t bytes)
{
    const uint8_t *p = out;
    for (size_t i = 0; i < CANARY; i++)
        cr_assert_eq(p[bytes + i], 0xA5, "decoder wrote past n*w bytes (at +%zu)", i);
}

#define ASSERT_CORRUPT(rc, err, sub) do { \
        int rc_ = (rc); \
        cr_assert_eq(rc_, TL_ECORRUPT, "rc %d, msg %s", rc_, (err).msg); \
        cr_assert_eq((err).code, TL_ECORRUPT); \
        cr_assert(strstr((err).msg, (sub)), "message \"%s\" lacks \"%s\"", (err).msg, (sub)); \
    } while (0)

/* ---- tlf_buf ----------------------------------------------------------- */

Test(enc_buf, append_pad_reserve_reuse)
{
    tlf_buf b = {0};
    tl_error err;
    cr_assert_eq(tlf_buf_append(&b, "abc", 3, &err), TL_OK);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(tlf_buf_pad(&b, 8, &err), TL_OK);
    cr_assert_eq(b.len, 8);
    for (int i = 3; i < 8; i++)
        cr_assert_eq(b.p[i], 0);
    cr_assert_eq(tlf_buf_pad(&b, 8, &err), TL_OK);
    cr_assert_eq(b.len, 8);
    uint8_t big[10000];
    memset(big, 7, sizeof big);
    cr_assert_eq(tlf_buf_append(&b, big, sizeof big, &err), TL_OK);
    cr_assert_eq(b.len, 10008);
    cr_assert(b.cap >= b.len);
    cr_assert_eq(memcmp(b.p, "abc", 3), 0);
    size_t cap = b.cap;
    b.len = 0;
    cr_assert_eq(tlf_buf_append(&b, big, 100, &err), TL_OK);
    cr_assert_eq(b.cap, cap, "reuse keeps capacity");
    cr_assert_eq(tlf_buf_reserve(&b, SIZE_MAX, &err), TL_ENOMEM);
    cr_assert_eq(err.code, TL_ENOMEM);
    cr_assert_eq(tlf_buf_append(&b, NULL, 0, NULL), TL_OK);
    tlf_buf_free(&b);
    cr_assert_null(b.p);
    cr_assert_eq(b.len, 0);
    tlf_buf_free(&b);
}

/* ---- bit packing ------------------------------------------------------- */

Test(bitpack, bit_width)
{
    cr_assert_eq(tlf_bit_width(0), 0);
    cr_assert_eq(tlf_bit_width(1), 1);
    cr_assert_eq(tlf_bit_width(2), 2);
    cr_assert_eq(tlf_bit_width(255), 8);
    cr_assert_eq(tlf_bit_width(256), 9);
    cr_assert_eq(tlf_bit_width(UINT64_MAX), 64);
    for (unsigned w = 1; w < 64; w++) {
        cr_assert_eq(tlf_bit_width(1ull << w), w + 1);
        cr_assert_eq(tlf_bit_width((1ull << w) - 1), w);
    }
}

Test(bitpack, round_trip_every_width)
{
    rng_state = 1;
    const uint32_t ns[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1000, 4099};
    for (unsigned w = 0; w <= 64; w++) {
        for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
            uint32_t n = ns[t];
            uint64_t *v = malloc((n + 1) * 8), *back = malloc((n + 1) * 8);
            uint64_t mask = w == 64 ? UINT64_MAX : (1ull << w) - 1;
            for (uint32_t i = 0; i < n; i++)
                v[i] = (i % 3 == 0 ? UINT64_MAX : rnd()) & mask;
            size_t nb = tlf_bitpack_bytes(n, w);
            cr_assert_eq(nb, ((uint64_t)n * w + 7) / 8);
            uint8_t *packed = malloc(nb + 16);
            memset(packed, 0xEE, nb + 16);
            tlf_bitpack64(v, n, w, packed);
            for (int i = 0; i < 16; i++)
                cr_assert_eq(packed[nb + i], 0xEE, "w=%u n=%u: pack wrote past %zu bytes", w, n, nb);
            /* unused high bits of the last byte are zero */
            if (nb && (n * (uint64_t)w) % 8)
                cr_assert_eq(packed[nb - 1] >> ((n * (uint64_t)w) % 8), 0);
            uint8_t *exact = dup_exact(packed, nb);
            tlf_bitunpack64(exact, n, w, back);
            for (uint32_t i = 0; i < n; i++)
                cr_assert_eq(back[i], v[i], "w=%u n=%u i=%u", w, n, i);
            /* LSB-first: value i starts at bit i*w */
            for (uint32_t i = 0; i < n && i < 40; i++)
                for (unsigned b = 0; b < w; b++) {
                    uint64_t bit = (uint64_t)i * w + b;
                    cr_assert_eq((exact[bit / 8] >> (bit % 8)) & 1, (v[i] >> b) & 1);
                }
            free(v), free(back), free(packed), free(exact);
        }
    }
}

/* ---- FOR and DELTA round trips ---------------------------------------- */

typedef size_t (*size_fn)(const void *, uint32_t, unsigned, int);
typedef int (*enc_fn)(const void *, uint32_t, unsigned, int, tlf_buf *, tl_error *);
typedef int (*dec_fn)(const uint8_t *, size_t, uint32_t, unsigned, int, void *, tl_error *);

static void int_round_trips(const char *name, size_fn sz, enc_fn enc, dec_fn dec)
{
    tlf_buf b = {0};
    tl_error err;
    rng_state = 7;
    for (int simd = 0; simd < 2; simd++)
    for (size_t wi = 0; wi < 4; wi++)
        for (int s = 0; s <= 1; s++)
            for (size_t ni = 0; ni < N_NS; ni++)
                for (int pat = 0; pat < N_PAT; pat++) {
                    unsigned w = WS[wi];
                    uint32_t n = NS[ni];
                    void *v = malloc((size_t)n * w + 1);
                    tlf_enc_no_simd = !simd;
                    gen(v, n, w, s, pat);
                    b.len = 0; /* encoders append after existing bytes */
                    cr_assert_eq(tlf_buf_append(&b, "12345", 5, &err), TL_OK);
                    int rc = enc(v, n, w, s, &b, &err);
                    cr_assert_eq(rc, TL_OK, "%s w=%u s=%d n=%u %s: %s", name, w, s, n, PAT_NAMES[pat], err.msg);
                    size_t len = b.len - 5;
                    cr_assert_eq(sz(v, n, w, s), len, "%s size w=%u s=%d n=%u %s", name, w, s, n, PAT_NAMES[pat]);
                    uint8_t *pl = dup_exact(b.p + 5, len);
                    void *out = out_alloc((size_t)n * w);
                    rc = dec(pl, len, n, w, s, out, &err);
                    cr_assert_eq(rc, TL_OK, "%s w=%u s=%d n=%u %s: %s", name, w, s, n, PAT_NAMES[pat], err.msg);
                    cr_assert_eq(memcmp(out, v, (size_t)n * w), 0, "%s w=%u s=%d n=%u %s", name, w, s, n, PAT_NAMES[pat]);
                    out_check_canary(out, (size_t)n * w);
                    free(v), free(pl), free(out);
                }
    tlf_buf_free(&b);
}

/* FMT-R12, FMT-R21 */
Test(for_enc, round_trip_all_widths_sizes_patterns)
{
    int_round_trips("for", tlf_for_size, tlf_for_encode, tlf_for_decode);
}

Test(delta_enc, round_trip_all_widths_sizes_patterns)
{
    int_round_trips("delta", tlf_delta_size, tlf_delta_encode, tlf_delta_decode);
}

/* A plan measures once: its size is the encoders' size, and encoding with
 * it writes exactly what the unplanned encoders write (FOR with and
 * without byte-aligned widths, DELTA, SCALED over both). */
Test(for_enc, plans_encode_like_the_encoders)
{
    tlf_buf a = {0}, b = {0};
    tl_error err;
    rng_state = 11;
    int64_t mins[300];
    uint32_t fac[300];
    uint8_t wid[300];
    for (size_t wi = 0; wi < 4; wi++)
        for (int s = 0; s <= 1; s++)
            for (size_t ni = 0; ni < N_NS; ni++)
                for (int pat = 0; pat < N_PAT; pat++) {
                    unsigned w = WS[wi];
                    uint32_t n = NS[ni];
                    void *v = malloc((size_t)n * w + 1);
                    gen(v, n, w, s, pat);
                    for (unsigned flags = 0; flags <= TLF_OPT_BYTE_ALIGN; flags++) {
                        tlf_for_plan fp;
                        tlf_for_plan_make(v, n, w, s, 0, &fp);
                        a.len = b.len = 0;
                        cr_assert_eq(tlf_for_encode_opt(v, n, w, s, flags, &a, &err), TL_OK);
                        cr_assert_eq(tlf_for_encode_plan(v, n, w, s, &fp, flags, &b, &err), TL_OK);
                        cr_assert_eq(tlf_for_plan_size(&fp, n, flags), a.len);
                        cr_assert(a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
                                  "for w=%u s=%d n=%u %s flags %u", w, s, n, PAT_NAMES[pat], flags);
                    }
                    tlf_delta_plan dp = {.mins = mins, .factor = fac, .width = wid};
                    size_t ds = tlf_delta_plan_make(v, n, w, s, 0, &dp);
                    a.len = b.len = 0;
                    cr_assert_eq(tlf_delta_encode(v, n, w, s, &a, &err), TL_OK);
                    cr_assert_eq(tlf_delta_encode_plan(v, n, w, s, &dp, &b, &err), TL_OK);
                    cr_assert_eq(ds, a.len);
                    cr_assert(a.len == b.len && memcmp(a.p, b.p, a.len) == 0,
                              "delta w=%u s=%d n=%u %s", w, s, n, PAT_NAMES[pat]);
                    free(v);
                }
    /* SCALED: prices on 0.05 with inner FOR and DELTA planned */
    static double d[3000];
    static int64_t k[3000];
    double x = 900.0;
    for (int i = 0; i < 3000; i++) {
        x += (double)((int)(rnd() % 7) - 3) * 0.05;
        d[i] = round(x * 20) / 20;
    }
    uint64_t div;
    cr_assert(tlf_scaled_find(d, 3000, 8, k, &div));
    tlf_for_plan fp;
    tlf_for_plan_make(k, 3000, 8, 1, 0, &fp);
    tlf_delta_plan dp = {.mins = mins, .factor = fac, .width = wid};
    tlf_delta_plan_make(k, 3000, 8, 1, 0, &dp);
    static const int inners[] = {TLF_ENC_FOR, TLF_ENC_DELTA};
    for (int i = 0; i < 2; i++)
        for (unsigned flags = 0; flags <= TLF_OPT_BYTE_ALIGN; flags++) {
            a.len = b.len = 0;
            cr_assert_eq(tlf_scaled_encode_opt(k, 3000, div, inners[i], flags, &a, &err), TL_OK);
            cr_assert_eq(tlf_scaled_encode_plan(k, 3000, div, inners[i], &fp, &dp, flags, &b, &err),
                         TL_OK);
            cr_assert(a.len == b.len && memcmp(a.p, b.p, a.len) == 0, "scaled inner %d", inners[i]);
        }
    tlf_buf_free(&a);
    tlf_buf_free(&b);
}

/* FMT-R12: byte layout (factor 1 and a common factor) */
Test(for_enc, layout_of_small_payload)
{
    int16_t v[4] = {-3, 0, 5, -3};
    tlf_buf b = {0};
    cr_assert_eq(tlf_for_encode(v, 4, 2, 1, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 32);
    int64_t base;
    memcpy(&base, b.p, 8);
    cr_assert_eq(base, -3);
    cr_assert_eq(b.p[8], 4); /* 8 - (-3) = 8 needs 4 bits */
    for (int i = 9; i < 16; i++)
        cr_assert_eq(b.p[i], 0);
    cr_assert_eq(tlf_ld64(b.p + 16), 1); /* gcd(3, 8) = 1 */
    /* deltas 0, 3, 8, 0 -> nibbles 0x30, 0x08 */
    cr_assert_eq(b.p[24], 0x30);
    cr_assert_eq(b.p[25], 0x08);
    for (int i = 26; i < 32; i++)
        cr_assert_eq(b.p[i], 0);
    /* multiples of 6 above the base: factor 6, values 0, 1, 2, 0 in 2 bits */
    int16_t f6[4] = {-3, 3, 9, -3};
    b.len = 0;
    cr_assert_eq(tlf_for_encode(f6, 4, 2, 1, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 32);
    cr_assert_eq(b.p[8], 2);
    cr_assert_eq(tlf_ld64(b.p + 16), 6);
    cr_assert_eq(b.p[24], 0x24);
    int16_t back[4];
    cr_assert_eq(tlf_for_decode(b.p, b.len, 4, 2, 1, back, NULL), TL_OK);
    cr_assert_eq(memcmp(back, f6, 8), 0);
    /* TLF_OPT_NO_FACTOR keeps factor 1 and 4 bits */
    b.len = 0;
    cr_assert_eq(tlf_for_encode_opt(f6, 4, 2, 1, TLF_OPT_NO_FACTOR, &b, NULL), TL_OK);
    cr_assert_eq(b.p[8], 4);
    cr_assert_eq(tlf_ld64(b.p + 16), 1);
    /* n = 0 keeps the 24-byte header */
    b.len = 0;
    cr_assert_eq(tlf_for_encode(v, 0, 2, 1, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 24);
    cr_assert_eq(tlf_for_size(v, 0, 2, 1), 24);
    cr_assert_eq(tlf_ld64(b.p + 16), 1);
    cr_assert_eq(tlf_for_decode(b.p, 24, 0, 2, 1, v, NULL), TL_OK);
    tlf_buf_free(&b);
}

/* FMT-R21: factor edge cases - a gcd of 2^63, of 2^64 - 1, equal values */
Test(for_enc, factor_edge_cases)
{
    tlf_buf b = {0};
    int64_t out[8];
    struct { int64_t v[4]; uint32_t n; uint64_t factor; unsigned bw; } cases[] = {
        {{INT64_MIN, 0, INT64_MIN, 0}, 4, 1ull << 63, 1},
        {{INT64_MIN, INT64_MAX, INT64_MAX, INT64_MIN}, 4, UINT64_MAX, 1},
        {{INT64_MIN, INT64_MIN + 3, INT64_MAX - 2, 0}, 4, 1, 64},
        {{7, 7, 7, 7}, 4, 1, 0},
        {{5}, 1, 1, 0},
        {{-10, 20, 50, 80}, 4, 30, 2},
    };
    for (int simd = 0; simd < 2; simd++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            tlf_enc_no_simd = !simd;
            b.len = 0;
            cr_assert_eq(tlf_for_encode(cases[i].v, cases[i].n, 8, 1, &b, NULL), TL_OK);
            cr_assert_eq(b.len, tlf_for_size(cases[i].v, cases[i].n, 8, 1));
            cr_assert_eq(tlf_ld64(b.p + 16), cases[i].factor, "case %zu: factor %llu", i,
                         (unsigned long long)tlf_ld64(b.p + 16));
            cr_assert_eq(b.p[8], cases[i].bw, "case %zu: width %u", i, b.p[8]);
            uint8_t *pl = dup_exact(b.p, b.len);
            cr_assert_eq(tlf_for_decode(pl, b.len, cases[i].n, 8, 1, out, NULL), TL_OK);
            cr_assert_eq(memcmp(out, cases[i].v, 8 * cases[i].n), 0, "case %zu", i);
            free(pl);
        }
    /* unsigned: 0 and UINT64_MAX: factor 2^64 - 1, one bit */
    uint64_t u[3] = {UINT64_MAX, 0, UINT64_MAX};
    b.len = 0;
    cr_assert_eq(tlf_for_encode(u, 3, 8, 0, &b, NULL), TL_OK);
    cr_assert_eq(tlf_ld64(b.p + 16), UINT64_MAX);
    uint64_t uo[3];
    cr_assert_eq(tlf_for_decode(b.p, b.len, 3, 8, 0, uo, NULL), TL_OK);
    cr_assert_eq(memcmp(uo, u, sizeof u), 0);
    /* the writer's factor is the gcd: lot sizes */
    int32_t lots[1000];
    for (int i = 0; i < 1000; i++)
        lots[i] = 25 * (1 + (int32_t)(rnd() % 62));
    lots[3] = 25;
    lots[4] = 25 * 62;
    b.len = 0;
    cr_assert_eq(tlf_for_encode(lots, 1000, 4, 1, &b, NULL), TL_OK);
    cr_assert_eq(tlf_ld64(b.p + 16), 25);
    cr_assert_eq(b.p[8], 6); /* 0 .. 61 */
    tlf_enc_no_simd = 0;
    tlf_buf_free(&b);
}

/* FMT-R13, FMT-R22: byte layout */
Test(delta_enc, layout_of_small_payload)
{
    int64_t v[4] = {100, 90, 95, 96};
    tlf_buf b = {0};
    cr_assert_eq(tlf_delta_encode(v, 4, 8, 1, &b, NULL), TL_OK);
    /* 16 header + 8 min + 8 widths + 8 data; every factor 1: no array */
    cr_assert_eq(b.len, 40);
    int64_t first, mn;
    uint32_t nm;
    memcpy(&first, b.p, 8);
    memcpy(&nm, b.p + 8, 4);
    memcpy(&mn, b.p + 16, 8);
    cr_assert_eq(first, 100);
    cr_assert_eq(nm, 1);
    cr_assert_eq(tlf_ld32(b.p + 12), 0); /* flags: no factors */
    cr_assert_eq(mn, -10);
    cr_assert_eq(b.p[24], 4); /* deltas -10, 5, 1 minus -10: 0, 15, 11 */
    for (int i = 25; i < 32; i++)
        cr_assert_eq(b.p[i], 0);
    cr_assert_eq(b.p[32], 0xF0);
    cr_assert_eq(b.p[33], 0x0B);
    /* deltas -10, 5: minus -10 0, 15: factor 15, one bit; the factor
     * array (8 bytes) follows the widths */
    b.len = 0;
    cr_assert_eq(tlf_delta_encode(v, 3, 8, 1, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 48);
    cr_assert_eq(tlf_ld32(b.p + 12), 1); /* flags: FACTORS */
    cr_assert_eq(b.p[24], 1);
    cr_assert_eq(tlf_ld32(b.p + 32), 15);
    cr_assert_eq(tlf_ld32(b.p + 36), 0);
    cr_assert_eq(b.p[40], 0x02);
    int64_t back[4];
    cr_assert_eq(tlf_delta_decode(b.p, b.len, 3, 8, 1, back, NULL), TL_OK);
    cr_assert_eq(memcmp(back, v, 24), 0);
    /* n = 0: empty; n = 1: 16 bytes */
    b.len = 0;
    cr_assert_eq(tlf_delta_encode(v, 0, 8, 1, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(tlf_delta_decode(b.p, 0, 0, 8, 1, v, NULL), TL_OK);
    cr_assert_eq(tlf_delta_encode(v, 1, 8, 1, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 16);
    cr_assert_eq(tlf_delta_size(v, 1, 8, 1), 16);
    tlf_buf_free(&b);
}

Test(delta_enc, alternating_extremes_need_few_bits)
{
    int64_t v[600];
    for (int i = 0; i < 600; i++)
        v[i] = (i & 1) ? INT64_MAX : INT64_MIN;
    /* deltas alternate -1 and +1 mod 2^64: minus -1 they are 0 and 2,
     * factor 2, one bit */
    size_t sz = tlf_delta_size(v, 600, 8, 1);
    /* 599 deltas in 3 miniblocks (256, 256, 87) of width 1: header 16,
     * mins 24, widths 8, factors 16, data 32 + 32 + pad8(11) */
    cr_assert_eq(sz, 16 + 24 + 8 + 16 + 32 + 32 + 16, "size %zu", sz);
    /* without the factor: width 2 */
    sz = tlf_delta_size_opt(v, 600, 8, 1, TLF_OPT_NO_FACTOR);
    cr_assert_eq(sz, 16 + 24 + 8 + 64 + 64 + 24, "size %zu (no factor array)", sz);
}

/* The AVX-512 DELTA decoder takes miniblocks whose values, deltas and
 * partial sums fit int32 16 at a time in 32-bit lanes (SCALED prices,
 * volumes); the others 8 at a time in 64-bit lanes. Both must give the
 * scalar decoder's values: every width 0..26, factors 1/5/25, values up
 * to the int32 edge and just past it (falls back), int64 and SCALED
 * (double) outputs, lengths that end inside a 16-value group. */
Test(delta_enc, simd_32bit_lanes_match_scalar)
{
    tlf_buf b = {0};
    enum { N = 1500 };
    int64_t *v = malloc(N * sizeof *v), *o1 = malloc(N * sizeof *o1), *o2 = malloc(N * sizeof *o2);
    double *d1 = malloc(N * sizeof *d1), *d2 = malloc(N * sizeof *d2);
    rng_state = 99;
    static const uint32_t lens[] = {1, 2, 17, 257, 271, 512, 513, N};
    static const int64_t bases[] = {0, 45356, -1000000, 2147483000, INT32_MAX, -2147483000,
                                    (int64_t)1 << 40};
    for (unsigned w = 0; w <= 26; w++)
        for (int fi = 0; fi < 3; fi++)
            for (size_t bi = 0; bi < sizeof bases / sizeof bases[0]; bi++) {
                int64_t f = fi == 0 ? 1 : fi == 1 ? 5 : 25;
                uint32_t n = lens[(w + (unsigned)fi + (unsigned)bi) % (sizeof lens / sizeof lens[0])];
                int64_t x = bases[bi];
                for (uint32_t i = 0; i < n; i++) {
                    v[i] = x;
                    uint64_t u = w ? rnd() & ((1ull << w) - 1) : 0;
                    x += f * ((int64_t)u - (w ? (int64_t)1 << (w - 1) : 0));
                }
                b.len = 0;
                cr_assert_eq(tlf_delta_encode(v, n, 8, 1, &b, NULL), TL_OK);
                uint8_t *pl = dup_exact(b.p, b.len);
                tlf_enc_no_simd = 1;
                cr_assert_eq(tlf_delta_decode(pl, b.len, n, 8, 1, o1, NULL), TL_OK);
                tlf_enc_no_simd = 0;
                cr_assert_eq(tlf_delta_decode(pl, b.len, n, 8, 1, o2, NULL), TL_OK);
                cr_assert_eq(memcmp(o1, v, (size_t)n * 8), 0, "w=%u f=%lld base=%lld n=%u scalar",
                             w, (long long)f, (long long)bases[bi], n);
                cr_assert_eq(memcmp(o2, v, (size_t)n * 8), 0, "w=%u f=%lld base=%lld n=%u simd",
                             w, (long long)f, (long long)bases[bi], n);
                free(pl);
                /* SCALED: the same integers over a divisor, as doubles */
                int ok = 1;
                for (uint32_t i = 0; i < n; i++)
                    ok &= v[i] > -((int64_t)1 << 52) && v[i] < ((int64_t)1 << 52);
                if (!ok)
                    continue;
                uint64_t div = fi == 2 ? 64 : 20;
                b.len = 0;
                cr_assert_eq(tlf_scaled_encode(v, n, div, TLF_ENC_DELTA, &b, NULL), TL_OK);
                pl = dup_exact(b.p, b.len);
                tlf_enc_no_simd = 1;
                cr_assert_eq(tlf_scaled_decode(pl, b.len, n, 8, d1, NULL, NULL), TL_OK);
                tlf_enc_no_simd = 0;
                cr_assert_eq(tlf_scaled_decode(pl, b.len, n, 8, d2, NULL, NULL), TL_OK);
                for (uint32_t i = 0; i < n; i++) {
                    double want = (double)v[i] / (double)div;
                    cr_assert(memcmp(&d1[i], &want, 8) == 0 && memcmp(&d2[i], &want, 8) == 0,
                              "scaled w=%u f=%lld base=%lld i=%u: %.17g %.17g want %.17g", w,
                              (long long)f, (long long)bases[bi], i, d1[i], d2[i], want);
                }
                free(pl);
            }
    free(v), free(o1), free(o2), free(d1), free(d2);
    tlf_buf_free(&b);
}

/* FMT-R22: delta factor edge cases: a gcd of 2^63 (INT64_MIN deltas) does
 * not fit a u32 factor: 2^31 is used; a gcd of 2^32 - 1 fits */
Test(delta_enc, factor_edge_cases)
{
    tlf_buf b = {0};
    int64_t v[600], out[600];
    for (int simd = 0; simd < 2; simd++) {
        tlf_enc_no_simd = !simd;
        /* every delta INT64_MIN: all equal to the min, width 0 */
        for (int i = 0; i < 300; i++)
            v[i] = (i & 1) ? INT64_MIN : 0;
        b.len = 0;
        cr_assert_eq(tlf_delta_encode(v, 300, 8, 1, &b, NULL), TL_OK);
        cr_assert_eq(tlf_ld64(b.p + 16), (uint64_t)INT64_MIN);
        cr_assert_eq(b.p[16 + 16], 0);
        cr_assert_eq(tlf_ld32(b.p + 12), 0); /* every factor 1: no array */
        cr_assert_eq(b.len, 16 + 16 + 8);
        cr_assert_eq(tlf_delta_decode(b.p, b.len, 300, 8, 1, out, NULL), TL_OK);
        cr_assert_eq(memcmp(out, v, 300 * 8), 0);
        /* deltas 0 and INT64_MIN: d - min is 0 or 2^63, gcd 2^63: factor 2^31 */
        for (int i = 0; i < 300; i++)
            v[i] = (i / 2) & 1 ? INT64_MIN : 0;
        b.len = 0;
        cr_assert_eq(tlf_delta_encode(v, 300, 8, 1, &b, NULL), TL_OK);
        cr_assert_eq(b.len, tlf_delta_size(v, 300, 8, 1));
        size_t fo = 16 + 16 + 8; /* 2 miniblocks */
        cr_assert_eq(tlf_ld32(b.p + fo), 1u << 31);
        cr_assert_eq(b.p[16 + 16], 33); /* 2^63 / 2^31 = 2^32 */
        cr_assert_eq(tlf_delta_decode(b.p, b.len, 300, 8, 1, out, NULL), TL_OK);
        cr_assert_eq(memcmp(out, v, 300 * 8), 0);
        /* a gcd of 3 * 2^40: 2^31 again */
        for (int i = 0; i < 300; i++)
            v[i] = (int64_t)((uint64_t)(i % 7) * (3ull << 40));
        b.len = 0;
        cr_assert_eq(tlf_delta_encode(v, 300, 8, 1, &b, NULL), TL_OK);
        cr_assert_eq(tlf_ld32(b.p + fo), 1u << 31);
        cr_assert_eq(tlf_delta_decode(b.p, b.len, 300, 8, 1, out, NULL), TL_OK);
        cr_assert_eq(memcmp(out, v, 300 * 8), 0);
        /* a gcd of 2^32 - 1 fits the u32 */
        for (int i = 0; i < 300; i++)
            v[i] = (int64_t)(i * (i % 3) * 4294967295ll);
        b.len = 0;
        cr_assert_eq(tlf_delta_encode(v, 300, 8, 1, &b, NULL), TL_OK);
        cr_assert_eq(tlf_ld32(b.p + fo), UINT32_MAX);
        cr_assert_eq(tlf_delta_decode(b.p, b.len, 300, 8, 1, out, NULL), TL_OK);
        cr_assert_eq(memcmp(out, v, 300 * 8), 0);
        /* cumulative volume in lots of 25 with a reset: factor 25 where it
         * holds, 1 in the miniblock with the reset */
        int64_t vol = 0;
        for (int i = 0; i < 600; i++) {
            vol = i == 400 ? 0 : vol + 25 * (1 + (int64_t)(rnd() % 5));
            v[i] = vol + (i >= 400 ? 7 : 0);
        }
        b.len = 0;
        cr_assert_eq(tlf_delta_encode(v, 600, 8, 1, &b, NULL), TL_OK);
        size_t fo3 = 16 + 24 + 8;
        cr_assert_eq(tlf_ld32(b.p + fo3), 25);
        cr_assert_eq(tlf_ld32(b.p + fo3 + 4), 1);
        cr_assert_eq(tlf_ld32(b.p + fo3 + 8), 25);
        cr_assert_eq(tlf_delta_decode(b.p, b.len, 600, 8, 1, out, NULL), TL_OK);
        cr_assert_eq(memcmp(out, v, 600 * 8), 0);
        /* narrow types too */
        int16_t s16[300], o16[300];
        for (int i = 0; i < 300; i++)
            s16[i] = (int16_t)((i % 11) * 3000 - 16000);
        b.len = 0;
        cr_assert_eq(tlf_delta_encode(s16, 300, 2, 1, &b, NULL), TL_OK);
        cr_assert_eq(tlf_ld32(b.p + fo), 33000); /* deltas 3000 and -30000 */
        cr_assert_eq(tlf_delta_decode(b.p, b.len, 300, 2, 1, o16, NULL), TL_OK);
        cr_assert_eq(memcmp(o16, s16, sizeof s16), 0);
    }
    tlf_enc_no_simd = 0;
    tlf_buf_free(&b);
}

/* ---- RLE --------------------------------------------------------------- */

/* FMT-R11 */
Test(rle, round_trip_all_widths_sizes_patterns)
{
    tlf_buf b = {0};
    tl_error err;
    rng_state = 11;
    for (size_t wi = 0; wi < 4; wi++)
        for (size_t ni = 0; ni < N_NS; ni++)
            for (int pat = 0; pat < N_PAT; pat++) {
                unsigned w = WS[wi];
                uint32_t n = NS[ni];
                void *v = malloc((size_t)n * w + 1);
                gen(v, n, w, pat & 1, pat);
                uint32_t runs = tlf_rle_count_runs(v, n, w);
                b.len = 0;
                cr_assert_eq(tlf_rle_encode(v, n, w, &b, &err), TL_OK, "%s", err.msg);
                cr_assert_eq(tlf_rle_size(runs, w), b.len, "size w=%u n=%u %s", w, n, PAT_NAMES[pat]);
                uint8_t *pl = dup_exact(b.p, b.len);
                void *out = out_alloc((size_t)n * w);
                cr_assert_eq(tlf_rle_decode(pl, b.len, n, w, out, &err), TL_OK, "w=%u n=%u %s: %s", w, n, PAT_NAMES[pat], err.msg);
                cr_assert_eq(memcmp(out, v, (size_t)n * w), 0);
                out_check_canary(out, (size_t)n * w);
                uint32_t nr;
                const void *vals;
                const uint32_t *ends;
                cr_assert_eq(tlf_rle_view(pl, b.len, n, w, &nr, &vals, &ends, &err), TL_OK, "%s", err.msg);
                cr_assert_eq(nr, runs);
                uint32_t start = 0;
                for (uint32_t r = 0; r < nr; r++) {
                    cr_assert_gt(ends[r], start);
                    for (uint32_t i = start; i < ends[r]; i++)
                        cr_assert_eq(memcmp((const uint8_t *)vals + (size_t)r * w, (uint8_t *)v + (size_t)i * w, w), 0);
                    if (r > 0)
                        cr_assert_neq(memcmp((const uint8_t *)vals + (size_t)r * w, (const uint8_t *)vals + (size_t)(r - 1) * w, w), 0, "adjacent runs merged");
                    start = ends[r];
                }
                cr_assert_eq(start, n);
                free(v), free(pl), free(out);
            }
    tlf_buf_free(&b);
}

/* FMT-R11 */
Test(rle, bit_patterns_not_float_equality)
{
    double v[4] = {0.0, -0.0, NAN, NAN};
    cr_assert_eq(tlf_rle_count_runs(v, 4, 8), 3);
    cr_assert_eq(tlf_rle_count_runs(v, 0, 8), 0);
    tlf_buf b = {0};
    cr_assert_eq(tlf_rle_encode(v, 4, 8, &b, NULL), TL_OK);
    double out[4];
    cr_assert_eq(tlf_rle_decode(b.p, b.len, 4, 8, out, NULL), TL_OK);
    cr_assert_eq(memcmp(out, v, sizeof v), 0);
    b.len = 0;
    cr_assert_eq(tlf_rle_encode(v, 0, 8, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 8);
    cr_assert_eq(tlf_rle_decode(b.p, b.len, 0, 8, out, NULL), TL_OK);
    tlf_buf_free(&b);
}

/* FMT-R11 */
Test(rle, layout_of_small_payload)
{
    uint16_t v[5] = {7, 7, 9, 9, 9};
    tlf_buf b = {0};
    cr_assert_eq(tlf_rle_encode(v, 5, 2, &b, NULL), TL_OK);
    const uint8_t want[] = {2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 9, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0};
    cr_assert_eq(b.len, sizeof want);
    cr_assert_eq(memcmp(b.p, want, sizeof want), 0);
    tlf_buf_free(&b);
}

Test(rle, view_rejects_misaligned_payload)
{
    _Alignas(8) uint8_t buf[40] = {0};
    uint32_t v[1] = {5};
    tlf_buf b = {0};
    cr_assert_eq(tlf_rle_encode(v, 1, 4, &b, NULL), TL_OK);
    memcpy(buf + 1, b.p, b.len);
    uint32_t nr;
    const void *vals;
    const uint32_t *ends;
    tl_error err;
    cr_assert_eq(tlf_rle_view(buf + 1, b.len, 1, 4, &nr, &vals, &ends, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "aligned"), "%s", err.msg);
    tlf_buf_free(&b);
}

/* ---- DICT -------------------------------------------------------------- */

static const unsigned CODE_FLAGS[] = {0, TLF_OPT_CODES_FOR, TLF_OPT_CODES_RLE,
                                       TLF_OPT_BYTE_ALIGN, TLF_OPT_BYTE_ALIGN | TLF_OPT_CODES_FOR};

/* FMT-R15: codes section round trips, every codes encoding and option */
Test(dict, round_trip_sizes_and_dictionaries)
{
    const uint32_t dicts[] = {1, 2, 3, 17, 256, 257, 4096, 65536, 1u << 31, UINT32_MAX};
    tlf_buf b = {0};
    tl_error err;
    rng_state = 3;
    for (int simd = 0; simd < 2; simd++)
    for (size_t fi = 0; fi < sizeof CODE_FLAGS / sizeof CODE_FLAGS[0]; fi++)
    for (size_t di = 0; di < sizeof dicts / sizeof dicts[0]; di++)
        for (size_t ni = 0; ni < N_NS; ni++)
            for (int runs = 0; runs < 2; runs++) {
                uint32_t nd = dicts[di], n = NS[ni];
                unsigned fl = CODE_FLAGS[fi];
                tlf_enc_no_simd = !simd;
                uint32_t *c = malloc((size_t)n * 4 + 4);
                for (uint32_t i = 0; i < n; i++)
                    c[i] = runs ? (uint32_t)((i / 300 * 7) % nd)
                                : i % 5 == 0 ? nd - 1 : (uint32_t)(rnd() % nd);
                b.len = 0;
                cr_assert_eq(tlf_buf_append(&b, "xyz", 3, &err), TL_OK);
                cr_assert_eq(tlf_dict_encode_opt(c, n, nd, fl, &b, &err), TL_OK, "%s", err.msg);
                size_t len = b.len - 3;
                cr_assert_eq(tlf_dict_codes_size(c, n, fl), len, "size nd=%u n=%u flags %u", nd, n, fl);
                uint8_t *pl = dup_exact(b.p + 3, len);
                if (fl & TLF_OPT_CODES_FOR)
                    cr_assert_eq(pl[0], TLF_ENC_FOR);
                if (fl & TLF_OPT_CODES_RLE)
                    cr_assert_eq(pl[0], TLF_ENC_RLE);
                if ((fl & TLF_OPT_BYTE_ALIGN) && pl[0] == TLF_ENC_FOR)
                    cr_assert(pl[16] % 8 == 0 && pl[16] <= 32, "rounded width %u", pl[16]);
                uint32_t *out = out_alloc((size_t)n * 4);
                cr_assert_eq(tlf_dict_decode_codes(pl, len, n, nd, out, &err), TL_OK, "nd=%u n=%u: %s", nd, n, err.msg);
                cr_assert_eq(memcmp(out, c, (size_t)n * 4), 0);
                out_check_canary(out, (size_t)n * 4);
                free(c), free(pl), free(out);
            }
    /* n = 0 with an empty dictionary: RLE with no runs (16 bytes) */
    b.len = 0;
    cr_assert_eq(tlf_dict_encode(NULL, 0, 0, &b, &err), TL_OK);
    cr_assert_eq(b.len, 16);
    cr_assert_eq(b.p[0], TLF_ENC_RLE);
    cr_assert_eq(tlf_dict_decode_codes(b.p, b.len, 0, 0, NULL, &err), TL_OK);
    tlf_enc_no_simd = 0;
    tlf_buf_free(&b);
}

/* the writer keeps the smaller codes encoding; FOR on a tie */
Test(dict, picks_the_smaller_codes_encoding)
{
    uint32_t c[1000];
    for (int i = 0; i < 1000; i++)
        c[i] = i < 600 ? 1 : 0; /* two runs */
    cr_assert_lt(tlf_dict_codes_size(c, 1000, TLF_OPT_CODES_RLE),
                 tlf_dict_codes_size(c, 1000, TLF_OPT_CODES_FOR));
    cr_assert_eq(tlf_dict_codes_size(c, 1000, 0), tlf_dict_codes_size(c, 1000, TLF_OPT_CODES_RLE));
    for (int i = 0; i < 1000; i++)
        c[i] = (uint32_t)(i * 7 % 13);
    cr_assert_eq(tlf_dict_codes_size(c, 1000, 0), tlf_dict_codes_size(c, 1000, TLF_OPT_CODES_FOR));
    /* one value: RLE of one run (8 + 20) beats FOR of width 0 (8 + 24) */
    tlf_buf b = {0};
    cr_assert_eq(tlf_dict_codes_size(c, 1, TLF_OPT_CODES_FOR), 32);
    cr_assert_eq(tlf_dict_codes_size(c, 1, TLF_OPT_CODES_RLE), 28);
    cr_assert_eq(tlf_dict_encode(c, 1, 13, &b, NULL), TL_OK);
    cr_assert_eq(b.p[0], TLF_ENC_RLE);
    /* a tie (48 bytes each: 4 runs; 32 codes of 4 bits) goes to FOR */
    uint32_t t[32];
    const uint32_t rv[4] = {0, 5, 9, 3};
    for (int i = 0; i < 32; i++)
        t[i] = rv[i / 8];
    cr_assert_eq(tlf_dict_codes_size(t, 32, TLF_OPT_CODES_FOR), 48);
    cr_assert_eq(tlf_dict_codes_size(t, 32, TLF_OPT_CODES_RLE), 48);
    b.len = 0;
    cr_assert_eq(tlf_dict_encode(t, 32, 10, &b, NULL), TL_OK);
    cr_assert_eq(b.p[0], TLF_ENC_FOR);
    cr_assert_eq(tlf_dict_encode_opt(c, 1, 13, TLF_OPT_CODES_FOR | TLF_OPT_CODES_RLE, &b, NULL),
                 TL_EINVAL);
    tlf_buf_free(&b);
}

/* FMT-R15, FMT-R19: byte layout of both codes encodings */
Test(dict, layout_of_small_payloads)
{
    uint32_t c[6] = {2, 2, 2, 2, 0, 0};
    tlf_buf b = {0};
    cr_assert_eq(tlf_dict_encode_opt(c, 6, 3, TLF_OPT_CODES_FOR, &b, NULL), TL_OK);
    const uint8_t want_for[] = {3, 0, 0, 0, 0, 0, 0, 0,        /* codes encoding FOR */
                                0, 0, 0, 0, 0, 0, 0, 0,        /* base 0 */
                                1, 0, 0, 0, 0, 0, 0, 0,        /* bit width 1 */
                                2, 0, 0, 0, 0, 0, 0, 0,        /* factor 2 */
                                0x0F, 0, 0, 0, 0, 0, 0, 0};    /* 1,1,1,1,0,0 */
    cr_assert_eq(b.len, sizeof want_for);
    cr_assert_eq(memcmp(b.p, want_for, sizeof want_for), 0);
    /* the smaller: RLE (32 bytes) */
    b.len = 0;
    cr_assert_eq(tlf_dict_encode(c, 6, 3, &b, NULL), TL_OK);
    const uint8_t want_rle[] = {1, 0, 0, 0, 0, 0, 0, 0,   /* codes encoding RLE */
                                2, 0, 0, 0, 0, 0, 0, 0,   /* 2 runs, reserved */
                                2, 0, 0, 0, 0, 0, 0, 0,   /* run values 2, 0 */
                                4, 0, 0, 0, 6, 0, 0, 0};  /* ends 4, 6 */
    cr_assert_eq(b.len, sizeof want_rle);
    cr_assert_eq(memcmp(b.p, want_rle, sizeof want_rle), 0);
    b.len = 0;
    cr_assert_eq(tlf_dict_encode_opt(c, 6, 3, TLF_OPT_CODES_FOR | TLF_OPT_BYTE_ALIGN, &b, NULL),
                 TL_OK);
    cr_assert_eq(b.len, 40);
    cr_assert_eq(b.p[16], 8);
    cr_assert_eq(memcmp(b.p + 32, (const uint8_t[]){1, 1, 1, 1, 0, 0, 0, 0}, 8), 0);
    tlf_buf_free(&b);
}

/* RLE codes seen in place: codes and ends point into the payload; FOR
 * codes and misaligned payloads are refused */
/* FMT-R19 */
Test(dict, runs_view_of_rle_codes)
{
    uint32_t c[6] = {2, 2, 2, 2, 0, 0};
    tlf_buf b = {0};
    cr_assert_eq(tlf_dict_encode_opt(c, 6, 3, TLF_OPT_CODES_RLE, &b, NULL), TL_OK);
    uint32_t nr;
    const uint32_t *codes, *ends;
    tl_error err;
    cr_assert_eq(tlf_dict_runs_view(b.p, b.len, 6, 3, 0, &nr, &codes, &ends, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(nr, 2);
    cr_assert_eq((const uint8_t *)codes, b.p + 16);
    cr_assert_eq((const uint8_t *)ends, b.p + 24);
    cr_assert(codes[0] == 2 && codes[1] == 0 && ends[0] == 4 && ends[1] == 6);
    /* a dictionary of 2 entries cannot hold code 2; offsets from off0 */
    cr_assert_eq(tlf_dict_runs_view(b.p, b.len, 6, 2, 40, &nr, &codes, &ends, &err),
                 TL_ECORRUPT);
    cr_assert(strstr(err.msg, "code 2 of value 0 (at payload offset 56)"), "%s", err.msg);
    _Alignas(8) uint8_t mis[64];
    memcpy(mis + 2, b.p, b.len);
    cr_assert_eq(tlf_dict_runs_view(mis + 2, b.len, 6, 3, 0, &nr, &codes, &ends, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "4-byte aligned"), "%s", err.msg);
    b.len = 0;
    cr_assert_eq(tlf_dict_encode_opt(c, 6, 3, TLF_OPT_CODES_FOR, &b, NULL), TL_OK);
    cr_assert_eq(tlf_dict_runs_view(b.p, b.len, 6, 3, 16, &nr, &codes, &ends, &err),
                 TL_EUNSUPPORTED);
    cr_assert(strstr(err.msg, "codes at payload offset 16 are bit-packed"), "%s", err.msg);
    tlf_buf_free(&b);
}

Test(dict, encode_rejects_code_out_of_range)
{
    uint32_t c[3] = {0, 4, 1};
    tlf_buf b = {0};
    tl_error err;
    cr_assert_eq(tlf_dict_encode(c, 3, 4, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "code 4 of value 1"), "%s", err.msg);
    tlf_buf_free(&b);
}

/* ---- DICT of fixed-width values ------------------------------------------ */

/* n values of width w drawn from nd distinct bit patterns (nd <= n) */
static void gen_lowcard(void *dst, uint32_t n, unsigned w, uint32_t nd, int runs)
{
    uint64_t pool[4096];
    for (uint32_t k = 0; k < nd && k < 4096; k++) {
        uint64_t x;
        int again;
        do { /* distinct patterns of w bytes */
            x = w == 8 ? rnd() : rnd() & ((1ull << (8 * w)) - 1);
            if (w == 1)
                x = k; /* at most 256 */
            again = 0;
            for (uint32_t j = 0; j < k && !again; j++)
                again = pool[j] == x;
        } while (again);
        pool[k] = x;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = i < nd ? i : runs ? (i / 97) % nd : (uint32_t)(rnd() % nd);
        store(dst, i, w, pool[k]);
    }
}

/* FMT-R20: round trips of every width, size, option, with 1 and 4096
 * entries */
Test(fdict, round_trip_widths_sizes_entries)
{
    tlf_fdict d = {0};
    tlf_buf b = {0};
    tl_error err;
    uint32_t *codes = malloc(65536 * 4);
    rng_state = 41;
    const uint32_t nds[] = {1, 2, 39, 255, 256, 4096};
    for (int simd = 0; simd < 2; simd++)
        for (size_t wi = 0; wi < 4; wi++)
            for (size_t ni = 0; ni < N_NS; ni++)
                for (size_t di = 0; di < sizeof nds / sizeof nds[0]; di++)
                    for (size_t fi = 0; fi < sizeof CODE_FLAGS / sizeof CODE_FLAGS[0]; fi++) {
                        unsigned w = WS[wi];
                        uint32_t n = NS[ni], nd = nds[di];
                        if (nd > n || (w == 1 && nd > 256) || (fi && n > 1000))
                            continue;
                        tlf_enc_no_simd = !simd;
                        void *v = malloc((size_t)n * w + 1);
                        gen_lowcard(v, n, w, nd, (int)(fi & 1));
                        int fits = -1;
                        cr_assert_eq(tlf_fdict_build(&d, v, n, w, 4096, codes, &fits, &err), TL_OK);
                        cr_assert_eq(fits, 1);
                        cr_assert_eq(d.n_dict, n ? nd : 0, "w=%u n=%u: %u entries, want %u", w, n, d.n_dict, nd);
                        /* first-seen order: codes 0..nd-1 appear first at rows 0..nd-1 */
                        for (uint32_t i = 0; i < nd && i < n; i++)
                            cr_assert_eq(codes[i], i);
                        b.len = 0;
                        cr_assert_eq(tlf_fdict_encode(d.vals, d.n_dict, w, codes, n, CODE_FLAGS[fi], &b, &err), TL_OK, "%s", err.msg);
                        cr_assert_eq(b.len, tlf_fdict_size(d.n_dict, w, tlf_dict_codes_size(codes, n, CODE_FLAGS[fi])));
                        uint8_t *pl = dup_exact(b.p, b.len);
                        void *out = out_alloc((size_t)n * w);
                        cr_assert_eq(tlf_fdict_decode(pl, b.len, n, w, out, &err), TL_OK, "w=%u n=%u nd=%u: %s", w, n, nd, err.msg);
                        cr_assert_eq(memcmp(out, v, (size_t)n * w), 0, "w=%u n=%u nd=%u flags %u", w, n, nd, CODE_FLAGS[fi]);
                        out_check_canary(out, (size_t)n * w);
                        free(v), free(pl), free(out);
                    }
    tlf_enc_no_simd = 0;
    tlf_fdict_free(&d);
    tlf_buf_free(&b);
    free(codes);
}

/* the entry limit: exactly max_entries fits, one more does not; the
 * builder is reusable after either outcome */
Test(fdict, entry_limit_and_reuse)
{
    tlf_fdict d = {0};
    tl_error err;
    static int32_t v[10000];
    static uint32_t codes[10000];
    for (int i = 0; i < 10000; i++)
        v[i] = (i * 37) % 4096 * 25; /* 4096 distinct */
    int fits;
    cr_assert_eq(tlf_fdict_build(&d, v, 10000, 4, 4096, codes, &fits, &err), TL_OK);
    cr_assert_eq(fits, 1);
    cr_assert_eq(d.n_dict, 4096);
    cr_assert_eq(tlf_fdict_build(&d, v, 10000, 4, 4095, codes, &fits, &err), TL_OK);
    cr_assert_eq(fits, 0);
    v[9999] = -1; /* the 4097th value comes last */
    cr_assert_eq(tlf_fdict_build(&d, v, 10000, 4, 4096, codes, &fits, &err), TL_OK);
    cr_assert_eq(fits, 0);
    /* a smaller table afterwards, same builder: the table was left empty */
    int32_t small[5] = {7, 7, 3, 7, 3};
    cr_assert_eq(tlf_fdict_build(&d, small, 5, 4, 4096, codes, &fits, &err), TL_OK);
    cr_assert_eq(fits, 1);
    cr_assert_eq(d.n_dict, 2);
    cr_assert_eq(memcmp(codes, (uint32_t[]){0, 0, 1, 0, 1}, 20), 0);
    cr_assert_eq(tlf_fdict_build(&d, small, 5, 4, 0, codes, &fits, &err), TL_OK);
    cr_assert_eq(fits, 0);
    cr_assert_eq(tlf_fdict_build(&d, small, 0, 4, 0, codes, &fits, &err), TL_OK);
    cr_assert_eq(fits, 1);
    cr_assert_eq(d.n_dict, 0);
    cr_assert_eq(tlf_fdict_build(&d, small, 5, 3, 10, codes, &fits, &err), TL_EINVAL);
    tlf_fdict_free(&d);
}

/* FMT-R20: floats by bit pattern: -0.0 != +0.0, NaN payloads differ */
Test(fdict, floats_compare_by_bit_pattern)
{
    double v[8] = {0.0, -0.0, NAN, -NAN, 1.5, 0.0, -0.0, 1.5};
    uint64_t nan2 = 0x7ff8000000000123ull;
    memcpy(&v[7], &nan2, 8);
    tlf_fdict d = {0};
    uint32_t codes[8];
    int fits;
    cr_assert_eq(tlf_fdict_build(&d, v, 8, 8, 100, codes, &fits, NULL), TL_OK);
    cr_assert_eq(d.n_dict, 6);
    cr_assert_eq(memcmp(codes, (uint32_t[]){0, 1, 2, 3, 4, 0, 1, 5}, 32), 0);
    tlf_buf b = {0};
    cr_assert_eq(tlf_fdict_encode(d.vals, d.n_dict, 8, codes, 8, 0, &b, NULL), TL_OK);
    double out[8];
    cr_assert_eq(tlf_fdict_decode(b.p, b.len, 8, 8, out, NULL), TL_OK);
    cr_assert_eq(memcmp(out, v, sizeof v), 0);
    tlf_fdict_free(&d);
    tlf_buf_free(&b);
}

/* FMT-R20: byte layout */
Test(fdict, layout_of_small_payload)
{
    int16_t v[6] = {-5, 300, -5, -5, 300, 7};
    tlf_fdict d = {0};
    uint32_t codes[6];
    int fits;
    cr_assert_eq(tlf_fdict_build(&d, v, 6, 2, 100, codes, &fits, NULL), TL_OK);
    tlf_buf b = {0};
    cr_assert_eq(tlf_fdict_encode(d.vals, d.n_dict, 2, codes, 6, TLF_OPT_CODES_FOR, &b, NULL), TL_OK);
    const uint8_t want[] = {3, 0, 0, 0, 0, 0, 0, 0,               /* n_dict 3, reserved */
                            0xFB, 0xFF, 0x2C, 0x01, 7, 0, 0, 0,   /* -5, 300, 7, pad */
                            3, 0, 0, 0, 0, 0, 0, 0,               /* codes: FOR */
                            0, 0, 0, 0, 0, 0, 0, 0,               /* base 0 */
                            2, 0, 0, 0, 0, 0, 0, 0,               /* bit width 2 */
                            1, 0, 0, 0, 0, 0, 0, 0,               /* factor 1 */
                            0x04, 0x09, 0, 0, 0, 0, 0, 0};        /* 0,1,0,0,1,2 */
    cr_assert_eq(b.len, sizeof want);
    cr_assert_eq(memcmp(b.p, want, sizeof want), 0);
    /* n = 0: no entries, an empty codes section */
    b.len = 0;
    cr_assert_eq(tlf_fdict_encode(d.vals, 0, 2, codes, 0, 0, &b, NULL), TL_OK);
    cr_assert_eq(b.len, 8 + 16); /* RLE codes, no runs */
    cr_assert_eq(tlf_fdict_decode(b.p, b.len, 0, 2, v, NULL), TL_OK);
    tlf_fdict_free(&d);
    tlf_buf_free(&b);
}

Test(fdict, encode_rejects_bad_arguments)
{
    uint32_t codes[3] = {0, 1, 2};
    int32_t dict[3] = {1, 2, 3};
    tlf_buf b = {0};
    tl_error err;
    cr_assert_eq(tlf_fdict_encode(dict, 0, 4, codes, 3, 0, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "0 dictionary entries for 3 values"), "%s", err.msg);
    cr_assert_eq(tlf_fdict_encode(dict, 4, 4, codes, 3, 0, &b, &err), TL_EINVAL);
    cr_assert_eq(tlf_fdict_encode(dict, 1, 4, codes, 0, 0, &b, &err), TL_EINVAL);
    b.len = 0;
    cr_assert_eq(tlf_fdict_encode(dict, 2, 4, codes, 3, 0, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "code 2 of value 2"), "%s", err.msg);
    cr_assert_eq(tlf_fdict_encode(dict, 2, 3, codes, 3, 0, &b, &err), TL_EINVAL);
    tlf_buf_free(&b);
}

/* FMT-R20: every field checked, with the place */
Test(enc_errors, fdict_corruption)
{
    uint32_t v[100], out[100];
    for (int i = 0; i < 100; i++)
        v[i] = (uint32_t)(i % 3) * 1000;
    tlf_fdict d = {0};
    uint32_t codes[100];
    int fits;
    tl_error err;
    cr_assert_eq(tlf_fdict_build(&d, v, 100, 4, 100, codes, &fits, NULL), TL_OK);
    tlf_buf b = {0};
    cr_assert_eq(tlf_fdict_encode(d.vals, d.n_dict, 4, codes, 100, TLF_OPT_CODES_FOR, &b, NULL), TL_OK);
    /* 8 header, 12 entries + 4 pad, codes at 24: 8 + FOR 24 + 25 packed -> 32 */
    cr_assert_eq(b.len, 8 + 16 + 8 + 24 + 32);
    uint8_t p[1024];
    memcpy(p, b.p, b.len);
    tlf_st32(p, 0);
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: entry count at payload offset 0 is 0, expected 1 .. 100 for 100 values");
    tlf_st32(p, 101);
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "is 101, expected 1 .. 100");
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 0, 4, out, &err), err, "is 101, expected 0 for 0 values");
    tlf_st32(p, UINT32_MAX);
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: entry count");
    memcpy(p, b.p, b.len);
    tlf_st32(p, 50); /* fits the count rule, not the bytes present */
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: payload is 88 bytes, expected at least 8 + 200 for 50 entries of 4 bytes");
    memcpy(p, b.p, b.len);
    p[5] = 1;
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: reserved field at payload offset 4 is 0x00000100, expected 0");
    memcpy(p, b.p, b.len);
    p[21] = 9;
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: padding byte at payload offset 21 is 0x09, expected 0");
    memcpy(p, b.p, b.len);
    p[24] = 2;
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: codes encoding at payload offset 24 is 2, expected rle (1) or for (3)");
    memcpy(p, b.p, b.len);
    p[27] = 2;
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: reserved byte at payload offset 27 is 0x02");
    /* a code >= n_dict: base 1 makes code 2 into 3 */
    memcpy(p, b.p, b.len);
    tlf_st64(p + 32, 1);
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: code 3 of value 2 (at payload offset 56) is not below the dictionary size 3");
    /* the codes' factor: 0 is corrupt, 2 makes code 2 into 4 */
    memcpy(p, b.p, b.len);
    tlf_st64(p + 48, 0);
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: codes for: factor at payload offset 48 is 0, expected >= 1");
    tlf_st64(p + 48, 2);
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: code 4 of value 2 (at payload offset 56) is not below the dictionary size 3");
    memcpy(p, b.p, b.len);
    p[40] = 33;
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: codes for: bit width at payload offset 40 is 33, expected at most 32");
    /* the same with the SIMD path off: same message */
    memcpy(p, b.p, b.len);
    tlf_st64(p + 32, 1);
    tlf_enc_no_simd = 1;
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: code 3 of value 2 (at payload offset 56)");
    tlf_enc_no_simd = 0;
    /* RLE codes: the run value and ends, at their offsets */
    b.len = 0;
    cr_assert_eq(tlf_fdict_encode(d.vals, d.n_dict, 4, codes, 100, TLF_OPT_CODES_RLE, &b, NULL), TL_OK);
    cr_assert_leq(b.len, sizeof p);
    memcpy(p, b.p, b.len);
    tlf_st32(p + 24 + 16 + 4, 3); /* second run's code */
    ASSERT_CORRUPT(tlf_fdict_decode(p, b.len, 100, 4, out, &err), err, "dict: code 3 of value 1 (at payload offset 44) is not below the dictionary size 3");
    ASSERT_CORRUPT(tlf_fdict_decode(b.p, b.len, 99, 4, out, &err), err, "dict: codes rle: run count at payload offset 32 is 100, expected 1 .. 99");
    /* truncated at every length */
    for (size_t l = 0; l < b.len; l++) {
        uint8_t *q = dup_exact(b.p, l);
        ASSERT_CORRUPT(tlf_fdict_decode(q, l, 100, 4, out, &err), err, "dict: ");
        cr_assert(strstr(err.msg, "payload"), "%s", err.msg);
        free(q);
    }
    cr_assert_eq(tlf_fdict_decode(b.p, b.len, 100, 3, out, &err), TL_EINVAL);
    tlf_fdict_free(&d);
    tlf_buf_free(&b);
}

/* ---- SCALED ------------------------------------------------------------ */

static const int INNERS[] = {TLF_ENC_PLAIN, TLF_ENC_RLE, TLF_ENC_FOR, TLF_ENC_DELTA};

/* find, encode with every inner encoding, decode, compare bit for bit */
static void scaled_round_trip(const void *v, uint32_t n, unsigned w, uint64_t want_div)
{
    int64_t *k = malloc((size_t)n * 8 + 8);
    uint64_t div = 0;
    cr_assert_eq(tlf_scaled_find(v, n, w, k, &div), 1, "n=%u w=%u should qualify", n, w);
    if (want_div)
        cr_assert_eq(div, want_div, "divisor %llu, want %llu", (unsigned long long)div, (unsigned long long)want_div);
    tlf_buf b = {0};
    tl_error err;
    for (int ii = 0; ii < 8; ii++) {
        tlf_enc_no_simd = ii >= 4;
        b.len = 0;
        cr_assert_eq(tlf_scaled_encode(k, n, div, INNERS[ii % 4], &b, &err), TL_OK, "%s", err.msg);
        uint8_t *pl = dup_exact(b.p, b.len);
        void *out = out_alloc((size_t)n * w);
        int inner = -1;
        cr_assert_eq(tlf_scaled_decode(pl, b.len, n, w, out, &inner, &err), TL_OK, "inner %d: %s", INNERS[ii % 4], err.msg);
        cr_assert_eq(inner, INNERS[ii % 4]);
        cr_assert_eq(memcmp(out, v, (size_t)n * w), 0, "inner %d n=%u w=%u simd=%d", INNERS[ii % 4], n, w, ii < 4);
        out_check_canary(out, (size_t)n * w);
        free(pl), free(out);
    }
    tlf_buf_free(&b);
    free(k);
}

/* FMT-R14 */
Test(scaled, prices_on_005_grid_round_trip)
{
    rng_state = 5;
    for (size_t ni = 0; ni < N_NS; ni++) {
        uint32_t n = NS[ni];
        double *v = malloc((size_t)n * 8 + 8);
        int64_t t = 200000; /* 10000.00 */
        for (uint32_t i = 0; i < n; i++) {
            t += (int64_t)(rnd() % 7) - 3;
            v[i] = (double)(t | (i == 0)) / 20.0; /* an odd k: divisor stays 20 */
        }
        scaled_round_trip(v, n, 8, n ? 20 : 1);
        free(v);
    }
}

/* FMT-R14 */
Test(scaled, cents_and_integers_and_float32)
{
    rng_state = 9;
    uint32_t n = 1000;
    double d[1000];
    float f[1000];
    for (uint32_t i = 0; i < n; i++)
        d[i] = (double)((int64_t)(rnd() % 2000001) - 1000000) / 100.0;
    d[0] = 0.01;
    scaled_round_trip(d, n, 8, 100);
    for (uint32_t i = 0; i < n; i++)
        d[i] = (double)((int64_t)(rnd() % 2000001) - 1000000) * 2;
    d[1] = 3;
    scaled_round_trip(d, n, 8, 1);
    for (uint32_t i = 0; i < n; i++)
        d[i] = 0.0;
    scaled_round_trip(d, n, 8, 1);
    /* integers up to 2^53 */
    d[0] = 9007199254740992.0;
    d[1] = -9007199254740992.0;
    scaled_round_trip(d, 2, 8, 1);
    /* float32 strikes and prices */
    for (uint32_t i = 0; i < n; i++)
        f[i] = (float)(40000 + 100 * (int)(rnd() % 50));
    f[3] = 40050;
    scaled_round_trip(f, n, 4, 1);
    for (uint32_t i = 0; i < n; i++)
        f[i] = (float)((double)(rnd() % 200000) / 20.0);
    f[0] = 0.05f;
    scaled_round_trip(f, n, 4, 20);
    /* 0.5 steps reduce to divisor 2, 0.25 to 4 */
    for (uint32_t i = 0; i < n; i++)
        d[i] = (double)(rnd() % 1000) / 4.0;
    d[0] = 0.25;
    scaled_round_trip(d, n, 8, 4);
    /* nine decimals */
    for (uint32_t i = 0; i < n; i++)
        d[i] = (double)(rnd() % 1000000) / 1e9;
    d[0] = 1e-9;
    scaled_round_trip(d, n, 8, 1000000000);
}

Test(scaled, gcd_reduction_every_divisor)
{
    /* values k/D with D = 2^a * 5^b and gcd(k..., D) = 1 come back with
     * divisor D and the same k */
    rng_state = 31;
    double v[300];
    int64_t k[300], got[300];
    for (int simd = 0; simd < 2; simd++)
        for (unsigned a = 0; a <= 9; a++)
            for (unsigned b = 0; b <= 9; b++) {
                tlf_enc_no_simd = !simd;
                uint64_t D = 1;
                for (unsigned i = 0; i < a; i++)
                    D *= 2;
                for (unsigned i = 0; i < b; i++)
                    D *= 5;
                for (int i = 0; i < 300; i++) {
                    k[i] = (int64_t)(rnd() % 2000001) - 1000000;
                    if (i == 17)
                        k[i] = -1;
                    v[i] = (double)k[i] / (double)D;
                }
                uint64_t div = 0;
                cr_assert_eq(tlf_scaled_find(v, 300, 8, got, &div), 1, "D=%llu", (unsigned long long)D);
                cr_assert_eq(div, D, "divisor %llu for D=%llu", (unsigned long long)div, (unsigned long long)D);
                cr_assert_eq(memcmp(got, k, sizeof k), 0, "D=%llu", (unsigned long long)D);
            }
}

/* FMT-R14 */
Test(scaled, values_that_do_not_qualify)
{
    int64_t k[4];
    uint64_t div;
    const double bad[] = {0.1 + 0.2, -0.0, NAN, INFINITY, -INFINITY, 1e300, 1e-10, 9007199254740994.0, 1.0 / 3.0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v[3] = {1.5, bad[i], 2.0};
        cr_assert_eq(tlf_scaled_find(v, 3, 8, k, &div), 0, "value %zu (%g) should not qualify", i, bad[i]);
        cr_assert_eq(tlf_scaled_find(&bad[i], 1, 8, k, &div), 0, "value %zu alone", i);
    }
    /* float32 has so few digits that most floats >= 1e-1 are k/10^9 after
     * narrowing (1.0f/3 is 333333343/10^9); these are not */
    const float fbad[] = {-0.0f, NAN, INFINITY, -INFINITY, 1e-10f, 1e30f};
    for (size_t i = 0; i < sizeof fbad / sizeof fbad[0]; i++)
        cr_assert_eq(tlf_scaled_find(&fbad[i], 1, 4, k, &div), 0, "float %zu (%g)", i, (double)fbad[i]);
    /* 0.1f is k/10 after narrowing to float */
    float f01 = 0.1f;
    cr_assert_eq(tlf_scaled_find(&f01, 1, 4, k, &div), 1);
    cr_assert_eq(k[0], 1);
    cr_assert_eq(div, 10);
    /* n = 0 qualifies with divisor 1 */
    cr_assert_eq(tlf_scaled_find(bad, 0, 8, k, &div), 1);
    cr_assert_eq(div, 1);
    cr_assert_eq(tlf_scaled_find(bad, 1, 2, k, &div), 0, "width 2 is not a float");
}

Test(scaled, encode_rejects_bad_arguments)
{
    int64_t k[2] = {1, (1ll << 53) + 1};
    tlf_buf b = {0};
    tl_error err;
    cr_assert_eq(tlf_scaled_encode(k, 1, 0, TLF_ENC_PLAIN, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "divisor"), "%s", err.msg);
    cr_assert_eq(tlf_scaled_encode(k, 1, (1ull << 53) + 1, TLF_ENC_PLAIN, &b, &err), TL_EINVAL);
    cr_assert_eq(tlf_scaled_encode(k, 1, 10, TLF_ENC_DICT, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "inner"), "%s", err.msg);
    cr_assert_eq(tlf_scaled_encode(k, 2, 10, TLF_ENC_FOR, &b, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "k[1]"), "%s", err.msg);
    tlf_buf_free(&b);
}

/* ---- decoder rejections ------------------------------------------------ */

/* every shorter length (exact heap copies) must fail cleanly */
static void truncations(const uint8_t *p, size_t len, uint32_t n, unsigned w, int s,
                        int which, const char *prefix)
{
    tl_error err;
    void *out = out_alloc((size_t)n * w + 8);
    for (size_t l = 0; l < len; l++) {
        uint8_t *q = dup_exact(p, l);
        int rc;
        switch (which) {
        case 0: rc = tlf_for_decode(q, l, n, w, s, out, &err); break;
        case 1: rc = tlf_delta_decode(q, l, n, w, s, out, &err); break;
        case 2: rc = tlf_rle_decode(q, l, n, w, out, &err); break;
        case 3: rc = tlf_scaled_decode(q, l, n, w, out, NULL, &err); break;
        default: rc = tlf_dict_decode_codes(q, l, n, 1000, out, &err); break;
        }
        ASSERT_CORRUPT(rc, err, prefix);
        cr_assert(strstr(err.msg, "payload"), "%s", err.msg);
        free(q);
    }
    free(out);
}

Test(enc_errors, truncated_payloads_at_every_length)
{
    rng_state = 13;
    uint32_t n = 1000;
    int64_t v[1000];
    for (uint32_t i = 0; i < n; i++)
        v[i] = (int64_t)(rnd() % 100000) + (i % 7 == 0 ? 5 : 0);
    tlf_buf b = {0};
    cr_assert_eq(tlf_for_encode(v, n, 8, 1, &b, NULL), TL_OK);
    truncations(b.p, b.len, n, 8, 1, 0, "for: ");
    b.len = 0;
    cr_assert_eq(tlf_delta_encode(v, n, 8, 1, &b, NULL), TL_OK);
    truncations(b.p, b.len, n, 8, 1, 1, "delta: ");
    for (uint32_t i = 0; i < n; i++)
        v[i] = i / 10;
    b.len = 0;
    cr_assert_eq(tlf_rle_encode(v, n, 8, &b, NULL), TL_OK);
    truncations(b.p, b.len, n, 8, 1, 2, "rle: ");
    for (int ii = 0; ii < 4; ii++) {
        b.len = 0;
        cr_assert_eq(tlf_scaled_encode(v, n, 20, INNERS[ii], &b, NULL), TL_OK);
        truncations(b.p, b.len, n, 8, 1, 3, "scaled: ");
    }
    uint32_t c[1000];
    for (uint32_t i = 0; i < n; i++)
        c[i] = i;
    b.len = 0;
    cr_assert_eq(tlf_dict_encode(c, n, 1000, &b, NULL), TL_OK);
    truncations(b.p, b.len, n, 4, 0, 4, "dict: ");
    tlf_buf_free(&b);
}

Test(enc_errors, wrong_value_count)
{
    int32_t v[300];
    for (int i = 0; i < 300; i++)
        v[i] = i * 3 + (int32_t)(((uint32_t)i * 2654435761u) >> 27); /* no common factor */
    int32_t out[400];
    tl_error err;
    tlf_buf b = {0};
    cr_assert_eq(tlf_for_encode(v, 300, 4, 1, &b, NULL), TL_OK);
    ASSERT_CORRUPT(tlf_for_decode(b.p, b.len, 301, 4, 1, out, &err), err, "for: payload is 400 bytes, expected 24 + 384 = 408 for 301 values of bit width 10");
    ASSERT_CORRUPT(tlf_for_decode(b.p, b.len, 250, 4, 1, out, &err), err, "expected 24 + 320 = 344");
    b.len = 0;
    cr_assert_eq(tlf_delta_encode(v, 300, 4, 1, &b, NULL), TL_OK);
    ASSERT_CORRUPT(tlf_delta_decode(b.p, b.len, 257, 4, 1, out, &err), err, "delta: miniblock count at payload offset 8 is 2, expected 1 for 257 values");
    ASSERT_CORRUPT(tlf_delta_decode(b.p, b.len, 258, 4, 1, out, &err), err, "delta: payload is");
    ASSERT_CORRUPT(tlf_delta_decode(b.p, b.len, 299, 4, 1, out, &err), err, "delta: payload is");
    ASSERT_CORRUPT(tlf_delta_decode(b.p, b.len, 0, 4, 1, out, &err), err, "expected 0 for 0 values");
    b.len = 0;
    cr_assert_eq(tlf_rle_encode(v, 300, 4, &b, NULL), TL_OK);
    ASSERT_CORRUPT(tlf_rle_decode(b.p, b.len, 299, 4, out, &err), err, "rle: run count at payload offset 0 is 300, expected 1 .. 299");
    ASSERT_CORRUPT(tlf_rle_decode(b.p, b.len, 301, 4, out, &err), err, "rle: last run end at payload offset");
    ASSERT_CORRUPT(tlf_rle_decode(b.p, b.len, 0, 4, out, &err), err, "expected 0 for 0 values");
    b.len = 0;
    uint32_t c[3] = {1, 2, 0};
    cr_assert_eq(tlf_dict_encode(c, 3, 3, &b, NULL), TL_OK);
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 40, 3, (uint32_t *)out, &err), err, "dict: codes for: payload is 32 bytes, expected 24 + 16 = 40 for 40 values of bit width 2");
    b.len = 0;
    cr_assert_eq(tlf_dict_encode_opt(c, 3, 3, TLF_OPT_CODES_RLE, &b, NULL), TL_OK);
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 2, 3, (uint32_t *)out, &err), err, "dict: codes rle: run count at payload offset 8 is 3, expected 1 .. 2");
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 4, 3, (uint32_t *)out, &err), err, "dict: codes rle: last run end at payload offset 40 is 3, expected 4");
    tlf_buf_free(&b);
}

/* FMT-R12, FMT-R13 */
Test(enc_errors, bad_bit_widths)
{
    uint16_t v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint64_t out[16];
    tl_error err;
    tlf_buf b = {0};
    cr_assert_eq(tlf_for_encode(v, 10, 2, 0, &b, NULL), TL_OK);
    uint8_t p[256] = {0};
    memcpy(p, b.p, b.len);
    p[8] = 17; /* > 16 for 2-byte values */
    ASSERT_CORRUPT(tlf_for_decode(p, 16 + 24, 10, 2, 0, out, &err), err, "for: bit width at payload offset 8 is 17, expected at most 16");
    p[8] = 65;
    ASSERT_CORRUPT(tlf_for_decode(p, 16 + 88, 10, 8, 0, out, &err), err, "is 65, expected at most 64");
    b.len = 0;
    cr_assert_eq(tlf_delta_encode(v, 10, 2, 0, &b, NULL), TL_OK);
    memcpy(p, b.p, b.len);
    p[24] = 18; /* > 17 for 2-byte values */
    ASSERT_CORRUPT(tlf_delta_decode(p, b.len, 10, 2, 0, out, &err), err, "delta: bit width of miniblock 0 at payload offset 24 is 18, expected at most 17");
    p[24] = 200;
    ASSERT_CORRUPT(tlf_delta_decode(p, b.len, 10, 8, 0, out, &err), err, "is 200, expected at most 64");
    b.len = 0;
    uint32_t c[4] = {0, 1, 2, 3};
    cr_assert_eq(tlf_dict_encode_opt(c, 4, 4, TLF_OPT_CODES_FOR, &b, NULL), TL_OK);
    memcpy(p, b.p, b.len);
    p[16] = 33;
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 4, UINT32_MAX, (uint32_t *)out, &err), err, "dict: codes for: bit width at payload offset 16 is 33, expected at most 32");
    /* a wider width than needed is fine as long as the length matches
     * and every code is in range */
    p[16] = 3;
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 4, 4, (uint32_t *)out, &err), err, "dict: code 4 of value 0 (at payload offset 32)");
    /* the codes' factor must be >= 1; with 3 the codes leave the dictionary */
    memcpy(p, b.p, b.len);
    tlf_st64(p + 24, 0);
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 4, 4, (uint32_t *)out, &err), err, "dict: codes for: factor at payload offset 24 is 0, expected >= 1");
    tlf_st64(p + 24, 3);
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 4, 4, (uint32_t *)out, &err), err, "dict: code 6 of value 2 (at payload offset 32)");
    tlf_buf_free(&b);
}

/* FMT-R11, FMT-R12, FMT-R14, FMT-R19 */
Test(enc_errors, nonzero_reserved_bytes)
{
    int64_t v[5] = {1, 2, 3, 4, 5};
    uint64_t out[8];
    tl_error err;
    tlf_buf b = {0};
    uint8_t p[512];
    cr_assert_eq(tlf_for_encode(v, 5, 8, 1, &b, NULL), TL_OK);
    for (int i = 9; i < 16; i++) {
        memcpy(p, b.p, b.len);
        p[i] = 1;
        ASSERT_CORRUPT(tlf_for_decode(p, b.len, 5, 8, 1, out, &err), err, "for: reserved byte at payload offset");
    }
    b.len = 0;
    cr_assert_eq(tlf_delta_encode(v, 5, 8, 1, &b, NULL), TL_OK);
    memcpy(p, b.p, b.len);
    p[13] = 1;
    ASSERT_CORRUPT(tlf_delta_decode(p, b.len, 5, 8, 1, out, &err), err, "delta: flags at payload offset 12 are 0x00000100, expected 0 or 1 (bit 0: factors present)");
    /* FACTORS set without the array: the lengths no longer add up */
    memcpy(p, b.p, b.len);
    cr_assert_eq(tlf_ld32(p + 12), 0);
    p[12] = 1;
    ASSERT_CORRUPT(tlf_delta_decode(p, b.len, 5, 8, 1, out, &err), err, "delta: ");
    memcpy(p, b.p, b.len);
    p[25] = 1; /* width padding */
    ASSERT_CORRUPT(tlf_delta_decode(p, b.len, 5, 8, 1, out, &err), err, "delta: padding byte at payload offset 25");
    b.len = 0;
    cr_assert_eq(tlf_rle_encode(v, 5, 4, &b, NULL), TL_OK); /* 20 value bytes, 4 padding */
    memcpy(p, b.p, b.len);
    p[5] = 1;
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 5, 4, out, &err), err, "rle: reserved field at payload offset 4");
    memcpy(p, b.p, b.len);
    p[29] = 1;
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 5, 4, out, &err), err, "rle: padding byte at payload offset 29");
    b.len = 0;
    cr_assert_eq(tlf_scaled_encode(v, 5, 100, TLF_ENC_FOR, &b, NULL), TL_OK);
    for (int i = 9; i < 16; i++) {
        memcpy(p, b.p, b.len);
        p[i] = 0x80;
        ASSERT_CORRUPT(tlf_scaled_decode(p, b.len, 5, 8, out, NULL, &err), err, "scaled: reserved byte at payload offset");
    }
    memcpy(p, b.p, b.len);
    p[16 + 10] = 2; /* inner FOR reserved: offsets relative to the SCALED payload */
    ASSERT_CORRUPT(tlf_scaled_decode(p, b.len, 5, 8, out, NULL, &err), err, "scaled: inner for: reserved byte at payload offset 26");
    b.len = 0;
    uint32_t c[2] = {0, 1};
    cr_assert_eq(tlf_dict_encode(c, 2, 2, &b, NULL), TL_OK);
    memcpy(p, b.p, b.len);
    p[7] = 9;
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 2, 2, (uint32_t *)out, &err), err, "dict: reserved byte at payload offset 7 is 0x09");
    tlf_buf_free(&b);
}

/* FMT-R11 */
Test(enc_errors, rle_ends_not_increasing_or_wrong_total)
{
    uint8_t v[6] = {1, 1, 2, 2, 3, 3};
    uint8_t out[8];
    tl_error err;
    tlf_buf b = {0};
    cr_assert_eq(tlf_rle_encode(v, 6, 1, &b, NULL), TL_OK);
    /* header 8, values 3 -> 8, ends at 16: 2, 4, 6 */
    uint8_t p[64];
    uint32_t e;
    memcpy(p, b.p, b.len);
    e = 1;
    memcpy(p + 20, &e, 4); /* 2, 1, 6 */
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 6, 1, out, &err), err, "rle: run end at payload offset 20 not increasing: 1 after 2");
    e = 2;
    memcpy(p + 20, &e, 4); /* 2, 2, 6 */
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 6, 1, out, &err), err, "not increasing: 2 after 2");
    memcpy(p, b.p, b.len);
    e = 0;
    memcpy(p + 16, &e, 4);
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 6, 1, out, &err), err, "offset 16 not increasing: 0 after 0");
    memcpy(p, b.p, b.len);
    e = 7;
    memcpy(p + 24, &e, 4);
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 6, 1, out, &err), err, "rle: run end at payload offset 24 is 7, beyond the 6 values");
    e = 5;
    memcpy(p + 24, &e, 4);
    ASSERT_CORRUPT(tlf_rle_decode(p, b.len, 6, 1, out, &err), err, "rle: last run end at payload offset 24 is 5, expected 6");
    _Alignas(8) uint8_t al[64];
    memcpy(al, p, b.len);
    uint32_t nr;
    const void *vals;
    const uint32_t *ends;
    ASSERT_CORRUPT(tlf_rle_view(al, b.len, 6, 1, &nr, &vals, &ends, &err), err, "is 5, expected 6");
    /* zero runs for nonzero n */
    memset(p, 0, 8);
    ASSERT_CORRUPT(tlf_rle_decode(p, 8, 6, 1, out, &err), err, "run count at payload offset 0 is 0, expected 1 .. 6");
    /* inner RLE of SCALED */
    int64_t k[6] = {1, 1, 2, 2, 3, 3};
    b.len = 0;
    cr_assert_eq(tlf_scaled_encode(k, 6, 1, TLF_ENC_RLE, &b, NULL), TL_OK);
    uint8_t q[128];
    memcpy(q, b.p, b.len);
    e = 1;
    memcpy(q + 16 + 8 + 24 + 4, &e, 4);
    double d[6];
    ASSERT_CORRUPT(tlf_scaled_decode(q, b.len, 6, 8, d, NULL, &err), err, "scaled: inner rle: run end at payload offset 52 not increasing: 1 after 2");
    tlf_buf_free(&b);
}

Test(enc_errors, dict_code_out_of_range)
{
    uint32_t c[100], out[100];
    for (int i = 0; i < 100; i++)
        c[i] = i % 7;
    tl_error err;
    tlf_buf b = {0};
    cr_assert_eq(tlf_dict_encode(c, 100, 7, &b, NULL), TL_OK);
    /* decoding with a smaller dictionary: code 6 (value 6) out of range */
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 100, 6, out, &err), err, "dict: code 6 of value 6");
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 100, 6, out, &err), err, "not below the dictionary size 6");
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 100, 0, out, &err), err, "dict: code 0 of value 0 (at payload offset 32) is not below the dictionary size 0");
    /* the FOR base decides: base 7 makes the first code 7 */
    uint8_t p[512];
    memcpy(p, b.p, b.len);
    cr_assert_eq(p[0], TLF_ENC_FOR);
    tlf_st64(p + 8, 7);
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 100, 7, out, &err), err, "dict: code 7 of value 0 (at payload offset 32)");
    tlf_st64(p + 8, 1ull << 40); /* codes must also fit 32 bits */
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 100, UINT32_MAX, out, &err), err, "dict: code 1099511627776 of value 0");
    /* RLE codes: a run value out of range, at its payload offset */
    b.len = 0;
    for (int i = 0; i < 100; i++)
        c[i] = (uint32_t)(i / 40);
    cr_assert_eq(tlf_dict_encode(c, 100, 3, &b, NULL), TL_OK);
    cr_assert_eq(b.p[0], TLF_ENC_RLE);
    ASSERT_CORRUPT(tlf_dict_decode_codes(b.p, b.len, 100, 2, out, &err), err, "dict: code 2 of value 80 (at payload offset 24) is not below the dictionary size 2");
    /* and the ends */
    memcpy(p, b.p, b.len);
    tlf_st32(p + 8 + 8 + 16 + 4, 30);
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 100, 3, out, &err), err, "dict: codes rle: run end at payload offset 36 not increasing: 30 after 40");
    memcpy(p, b.p, b.len);
    tlf_st32(p + 8 + 8 + 16 + 8, 101);
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 100, 3, out, &err), err, "dict: codes rle: run end at payload offset 40 is 101, beyond the 100 values");
    tlf_buf_free(&b);
}

/* FMT-R15: codes encoding must be RLE or FOR; header bytes zero */
Test(enc_errors, dict_codes_header)
{
    uint32_t c[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, out[10];
    tlf_buf b = {0};
    tl_error err;
    cr_assert_eq(tlf_dict_encode(c, 10, 10, &b, NULL), TL_OK);
    uint8_t p[256];
    const uint8_t bad[] = {0, 2, 4, 5, 255};
    for (size_t i = 0; i < sizeof bad; i++) {
        memcpy(p, b.p, b.len);
        p[0] = bad[i];
        char want[128];
        snprintf(want, sizeof want, "dict: codes encoding at payload offset 0 is %u, expected rle (1) or for (3)", bad[i]);
        ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 10, 10, out, &err), err, want);
    }
    for (int i = 1; i < 8; i++) {
        memcpy(p, b.p, b.len);
        p[i] = 0x40;
        ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 10, 10, out, &err), err, "dict: reserved byte at payload offset");
    }
    /* inner FOR reserved bytes, offsets counted from the DICT payload */
    memcpy(p, b.p, b.len);
    p[8 + 12] = 1;
    ASSERT_CORRUPT(tlf_dict_decode_codes(p, b.len, 10, 10, out, &err), err, "dict: codes for: reserved byte at payload offset 20");
    tlf_buf_free(&b);
}

/* FMT-R12, FMT-R13, FMT-R21, FMT-R22: decoded values must fit the width,
 * factors included */
Test(enc_errors, values_that_do_not_fit_the_width)
{
    tl_error err;
    uint8_t p[64] = {0};
    int16_t out16[8];
    uint8_t out8[8];
    /* FOR, w=2 signed: base 32767, bit width 1, factor 1, values 0, 1 -> 32768 */
    int64_t base = 32767;
    memcpy(p, &base, 8);
    p[8] = 1;
    tlf_st64(p + 16, 1);
    p[24] = 0x2;
    for (int simd = 0; simd < 2; simd++) {
        tlf_enc_no_simd = !simd;
        ASSERT_CORRUPT(tlf_for_decode(p, 32, 2, 2, 1, out16, &err), err, "for: value 1 (packed at payload offset 24) is base + 1 * factor 1 = 0x0000000000008000, not a valid signed 2-byte value");
    }
    /* a factor that leaves the range: base -5, factor 40000, packed 1 */
    base = -5;
    memcpy(p, &base, 8);
    tlf_st64(p + 16, 40000);
    for (int simd = 0; simd < 2; simd++) {
        tlf_enc_no_simd = !simd;
        ASSERT_CORRUPT(tlf_for_decode(p, 32, 2, 2, 1, out16, &err), err, "for: value 1 (packed at payload offset 24) is base + 1 * factor 40000 = 0x0000000000009c3b, not a valid signed 2-byte value");
    }
    tlf_enc_no_simd = 0;
    /* factor 0 */
    tlf_st64(p + 16, 0);
    ASSERT_CORRUPT(tlf_for_decode(p, 32, 2, 2, 1, out16, &err), err, "for: factor at payload offset 16 is 0, expected >= 1");
    tlf_st64(p + 16, 1);
    /* base itself invalid */
    base = 70000;
    memcpy(p, &base, 8);
    p[24] = 0;
    ASSERT_CORRUPT(tlf_for_decode(p, 32, 2, 2, 1, out16, &err), err, "for: base at payload offset 0 is 0x0000000000011170, not a valid signed 2-byte value");
    /* unsigned 1-byte: base 255 + 1 */
    base = 255;
    memcpy(p, &base, 8);
    p[24] = 0x2;
    ASSERT_CORRUPT(tlf_for_decode(p, 32, 2, 1, 0, out8, &err), err, "not a valid unsigned 1-byte value");
    /* DELTA, w=1 unsigned: first 250, min delta 3, width 0, factor 1:
     * 253 then 256 */
    memset(p, 0, sizeof p);
    p[0] = 250;
    p[8] = 1;
    int64_t md = 3;
    memcpy(p + 16, &md, 8);
    tlf_st32(p + 12, 1); /* FACTORS */
    tlf_st32(p + 32, 1);
    for (int simd = 0; simd < 2; simd++) {
        tlf_enc_no_simd = !simd;
        ASSERT_CORRUPT(tlf_delta_decode(p, 40, 3, 1, 0, out8, &err), err, "delta: value 2 (miniblock 0, packed at payload offset 40) decodes to 0x0000000000000100, not a valid unsigned 1-byte value");
    }
    /* min delta 1, width 1, packed 1, 1, factor 200: 250 + 201 > 255 */
    md = 1;
    memcpy(p + 16, &md, 8);
    p[24] = 1;
    tlf_st32(p + 32, 200);
    p[40] = 0x3;
    for (int simd = 0; simd < 2; simd++) {
        tlf_enc_no_simd = !simd;
        ASSERT_CORRUPT(tlf_delta_decode(p, 48, 3, 1, 0, out8, &err), err, "delta: value 1 (miniblock 0, packed at payload offset 40) decodes to 0x00000000000001c3");
    }
    tlf_enc_no_simd = 0;
    /* factor 0 in the miniblock, then padding after the factors */
    tlf_st32(p + 32, 0);
    ASSERT_CORRUPT(tlf_delta_decode(p, 48, 3, 1, 0, out8, &err), err, "delta: factor of miniblock 0 at payload offset 32 is 0, expected >= 1");
    tlf_st32(p + 32, 1);
    p[37] = 4;
    ASSERT_CORRUPT(tlf_delta_decode(p, 48, 3, 1, 0, out8, &err), err, "delta: padding byte at payload offset 37 is 0x04, expected 0");
    p[37] = 0;
    p[0] = 0;
    p[1] = 1; /* first = 256 */
    ASSERT_CORRUPT(tlf_delta_decode(p, 48, 3, 1, 0, out8, &err), err, "delta: first value at payload offset 0 is 0x0000000000000100");
}

/* FMT-R14 */
Test(enc_errors, scaled_header_and_k_range)
{
    tl_error err;
    double out[4];
    uint8_t p[64] = {0};
    /* divisor 0 */
    ASSERT_CORRUPT(tlf_scaled_decode(p, 16, 0, 8, out, NULL, &err), err, "scaled: divisor at payload offset 0 is 0, expected 1 .. 2^53");
    uint64_t d = (1ull << 53) + 1;
    memcpy(p, &d, 8);
    ASSERT_CORRUPT(tlf_scaled_decode(p, 16, 0, 8, out, NULL, &err), err, "expected 1 .. 2^53");
    d = 20;
    memcpy(p, &d, 8);
    p[8] = TLF_ENC_DICT;
    ASSERT_CORRUPT(tlf_scaled_decode(p, 16, 0, 8, out, NULL, &err), err, "scaled: inner encoding at payload offset 8 is 2");
    p[8] = TLF_ENC_SCALED;
    ASSERT_CORRUPT(tlf_scaled_decode(p, 16, 0, 8, out, NULL, &err), err, "is 5");
    /* PLAIN inner with k = 2^53 + 1 */
    p[8] = TLF_ENC_PLAIN;
    int64_t k[2] = {5, (1ll << 53) + 1};
    memcpy(p + 16, k, 16);
    ASSERT_CORRUPT(tlf_scaled_decode(p, 32, 2, 8, out, NULL, &err), err, "scaled: value 1 has k = 9007199254740993, expected |k| <= 2^53");
    ASSERT_CORRUPT(tlf_scaled_decode(p, 32, 3, 8, out, NULL, &err), err, "scaled: inner plain: payload is 16 bytes, expected 24 for 3 values");
    /* FOR inner whose value overflows 2^53: -2^53, 0, 2^53 are base -2^53,
     * factor 2^53, packed 0, 1, 2; a factor of 2^53 + 1 takes value 2 out */
    tlf_buf b = {0};
    int64_t kk[3] = {-(1ll << 53), 0, 1ll << 53};
    cr_assert_eq(tlf_scaled_encode(kk, 3, 1, TLF_ENC_FOR, &b, NULL), TL_OK);
    uint8_t q[64];
    memcpy(q, b.p, b.len);
    cr_assert_eq(tlf_ld64(q + 16 + 16), 1ull << 53);
    tlf_st64(q + 16 + 16, (1ull << 53) + 1);
    for (int simd = 0; simd < 2; simd++) {
        tlf_enc_no_simd = !simd;
        ASSERT_CORRUPT(tlf_scaled_decode(q, b.len, 3, 8, out, NULL, &err), err, "scaled: value 2 has k = 9007199254740994, expected |k| <= 2^53");
    }
    tlf_enc_no_simd = 0;
    tlf_st64(q + 16 + 16, 0);
    ASSERT_CORRUPT(tlf_scaled_decode(q, b.len, 3, 8, out, NULL, &err), err, "scaled: inner for: factor at payload offset 32 is 0, expected >= 1");
    /* and the inner offsets count from the SCALED payload */
    memcpy(q, b.p, b.len);
    q[16 + 8] = 65;
    ASSERT_CORRUPT(tlf_scaled_decode(q, b.len, 3, 8, out, NULL, &err), err, "scaled: inner for: bit width at payload offset 24 is 65");
    b.len = 0;
    cr_assert_eq(tlf_scaled_encode(kk, 2, 1, TLF_ENC_DELTA, &b, NULL), TL_OK);
    memcpy(q, b.p, b.len);
    q[16 + 8] = 2;
    ASSERT_CORRUPT(tlf_scaled_decode(q, b.len, 2, 8, out, NULL, &err), err, "scaled: inner delta: miniblock count at payload offset 24 is 2, expected 1");
    tlf_buf_free(&b);
}

Test(enc_errors, invalid_width_arguments)
{
    tl_error err;
    tlf_buf b = {0};
    uint8_t v[8] = {0};
    cr_assert_eq(tlf_for_encode(v, 1, 3, 0, &b, &err), TL_EINVAL);
    cr_assert_eq(tlf_delta_encode(v, 1, 16, 0, &b, &err), TL_EINVAL);
    cr_assert_eq(tlf_rle_encode(v, 1, 0, &b, &err), TL_EINVAL);
    cr_assert_eq(tlf_for_decode(v, 8, 1, 5, 0, v, &err), TL_EINVAL);
    cr_assert_eq(tlf_delta_decode(v, 8, 1, 5, 0, v, &err), TL_EINVAL);
    cr_assert_eq(tlf_rle_decode(v, 8, 1, 5, v, &err), TL_EINVAL);
    cr_assert_eq(tlf_scaled_decode(v, 8, 1, 2, v, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "expected 4 or 8"), "%s", err.msg);
    cr_assert_eq(b.len, 0);
    tlf_buf_free(&b);
}

/* ---- no access outside payload and output ------------------------------ */

/* len bytes ending exactly at a PROT_NONE page */
typedef struct guard {
    uint8_t *map;
    size_t maplen;
} guard;

static uint8_t *guard_at_end(guard *g, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), pages = (len + pg - 1) / pg;
    g->maplen = (pages + 1) * pg;
    g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(g->map != MAP_FAILED);
    cr_assert_eq(mprotect(g->map + pages * pg, pg, PROT_NONE), 0);
    return g->map + pages * pg - len;
}
static void guard_free(guard *g) { munmap(g->map, g->maplen); }

enum { G_FOR, G_DELTA, G_DICT, G_SCALED, G_FDICT };

/* payload and output each end at a guard page; decode must succeed */
static void guarded_decode(int which, const tlf_buf *b, uint32_t n, unsigned w, int s,
                           uint32_t nd, const void *want)
{
    guard gp, go;
    uint8_t *pl = guard_at_end(&gp, b->len);
    if (b->len)
        memcpy(pl, b->p, b->len);
    size_t ob = (size_t)n * w;
    uint8_t *out = guard_at_end(&go, ob);
    tl_error err;
    int rc;
    switch (which) {
    case G_FOR: rc = tlf_for_decode(pl, b->len, n, w, s, out, &err); break;
    case G_DELTA: rc = tlf_delta_decode(pl, b->len, n, w, s, out, &err); break;
    case G_DICT: rc = tlf_dict_decode_codes(pl, b->len, n, nd, (uint32_t *)(void *)out, &err); break;
    case G_FDICT: rc = tlf_fdict_decode(pl, b->len, n, w, out, &err); break;
    default: rc = tlf_scaled_decode(pl, b->len, n, w, out, NULL, &err); break;
    }
    cr_assert_eq(rc, TL_OK, "which %d n=%u w=%u: %s", which, n, w, err.msg);
    cr_assert_eq(memcmp(out, want, ob), 0, "which %d n=%u w=%u simd=%d", which, n, w, !tlf_enc_no_simd);
    guard_free(&gp);
    guard_free(&go);
}

static const uint32_t GNS[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 255, 256, 257, 511, 513, 1000, 4097};
#define N_GNS (sizeof GNS / sizeof GNS[0])

Test(enc_guard, for_every_bit_width)
{
    tlf_buf b = {0};
    uint64_t *v = malloc(4097 * 8);
    rng_state = 21;
    for (int simd = 0; simd < 2; simd++)
        for (unsigned bw = 0; bw <= 64; bw++)
            for (size_t ni = 0; ni < N_GNS; ni++) {
                tlf_enc_no_simd = !simd;
                uint32_t n = GNS[ni];
                uint64_t mask = bw == 64 ? UINT64_MAX : (1ull << bw) - 1;
                for (uint32_t i = 0; i < n; i++)
                    v[i] = 1000 + (rnd() & mask);
                b.len = 0;
                cr_assert_eq(tlf_for_encode(v, n, 8, 0, &b, NULL), TL_OK);
                guarded_decode(G_FOR, &b, n, 8, 0, 0, v);
                /* the same values narrowed, where they fit */
                if (bw <= 16) {
                    uint32_t *v32 = malloc(4097 * 4);
                    for (uint32_t i = 0; i < n; i++)
                        v32[i] = (uint32_t)v[i];
                    b.len = 0;
                    cr_assert_eq(tlf_for_encode(v32, n, 4, 1, &b, NULL), TL_OK);
                    guarded_decode(G_FOR, &b, n, 4, 1, 0, v32);
                    free(v32);
                }
            }
    free(v);
    tlf_buf_free(&b);
}

/* FMT-R21, FMT-R22: values with a common factor (so a factor > 1 and the
 * multiplying kernels), every packed width, under guard pages */
Test(enc_guard, factors_every_bit_width)
{
    tlf_buf b = {0};
    uint64_t *v = malloc(4097 * 8);
    int32_t *v32 = malloc(4097 * 4);
    rng_state = 26;
    const uint64_t muls[] = {3, 25, 1ull << 20, 0x100000001ull};
    for (int simd = 0; simd < 2; simd++)
        for (unsigned bw = 1; bw <= 30; bw += 3)
            for (size_t mi = 0; mi < 4; mi++)
                for (size_t ni = 0; ni < N_GNS; ni += 2) {
                    tlf_enc_no_simd = !simd;
                    uint32_t n = GNS[ni];
                    uint64_t mask = (1ull << bw) - 1, x = rnd();
                    for (uint32_t i = 0; i < n; i++) {
                        v[i] = 77 + (rnd() & mask) * muls[mi];
                        x += (rnd() & mask) * muls[mi];
                        v32[i] = (int32_t)(x & 0x7FFFF) * 3 - 100000;
                    }
                    b.len = 0;
                    cr_assert_eq(tlf_for_encode(v, n, 8, 0, &b, NULL), TL_OK);
                    guarded_decode(G_FOR, &b, n, 8, 0, 0, v);
                    b.len = 0;
                    cr_assert_eq(tlf_for_encode(v32, n, 4, 1, &b, NULL), TL_OK);
                    guarded_decode(G_FOR, &b, n, 4, 1, 0, v32);
                    for (uint32_t i = 0; i < n; i++)
                        v[i] = i ? v[i - 1] + (v[i] - 77) : 5; /* cumulative */
                    b.len = 0;
                    cr_assert_eq(tlf_delta_encode(v, n, 8, 1, &b, NULL), TL_OK);
                    guarded_decode(G_DELTA, &b, n, 8, 1, 0, v);
                }
    tlf_enc_no_simd = 0;
    free(v);
    free(v32);
    tlf_buf_free(&b);
}

Test(enc_guard, delta_every_bit_width)
{
    tlf_buf b = {0};
    int64_t *v = malloc(4097 * 8);
    int16_t *v16 = malloc(4097 * 2);
    rng_state = 22;
    for (int simd = 0; simd < 2; simd++)
        for (unsigned bw = 0; bw <= 64; bw++)
            for (size_t ni = 0; ni < N_GNS; ni++) {
                tlf_enc_no_simd = !simd;
                uint32_t n = GNS[ni];
                uint64_t mask = bw == 64 ? UINT64_MAX : (1ull << bw) - 1;
                uint64_t x = rnd();
                for (uint32_t i = 0; i < n; i++) {
                    x += rnd() & mask;
                    v[i] = (int64_t)x;
                    v16[i] = (int16_t)x;
                }
                b.len = 0;
                cr_assert_eq(tlf_delta_encode(v, n, 8, 1, &b, NULL), TL_OK);
                guarded_decode(G_DELTA, &b, n, 8, 1, 0, v);
                b.len = 0;
                cr_assert_eq(tlf_delta_encode(v16, n, 2, 1, &b, NULL), TL_OK);
                guarded_decode(G_DELTA, &b, n, 2, 1, 0, v16);
            }
    free(v);
    free(v16);
    tlf_buf_free(&b);
}

Test(enc_guard, dict_every_bit_width)
{
    tlf_buf b = {0};
    uint32_t *c = malloc(4097 * 4);
    rng_state = 23;
    for (int simd = 0; simd < 2; simd++)
        for (unsigned bw = 0; bw <= 32; bw++)
            for (size_t ni = 0; ni < N_GNS; ni++) {
                tlf_enc_no_simd = !simd;
                uint32_t n = GNS[ni];
                uint32_t nd = bw == 32 ? UINT32_MAX : 1u << bw;
                for (uint32_t i = 0; i < n; i++)
                    c[i] = (uint32_t)(rnd() % nd);
                for (int fi = 0; fi < 2; fi++) {
                    b.len = 0;
                    cr_assert_eq(tlf_dict_encode_opt(c, n, nd, fi ? TLF_OPT_CODES_RLE : TLF_OPT_CODES_FOR,
                                                     &b, NULL), TL_OK);
                    guarded_decode(G_DICT, &b, n, 4, 0, nd, c);
                }
            }
    free(c);
    tlf_buf_free(&b);
}

Test(enc_guard, fdict_every_width_and_codes_width)
{
    tlf_buf b = {0};
    tlf_fdict d = {0};
    uint8_t *v = malloc(4097 * 8);
    uint32_t *codes = malloc(4097 * 4);
    rng_state = 25;
    const uint32_t nds[] = {1, 2, 3, 16, 17, 32, 33, 40, 64, 65, 200, 256, 4096};
    for (int simd = 0; simd < 2; simd++)
        for (size_t wi = 0; wi < 4; wi++)
            for (size_t di = 0; di < sizeof nds / sizeof nds[0]; di++)
                for (size_t ni = 0; ni < N_GNS; ni++) {
                    tlf_enc_no_simd = !simd;
                    unsigned w = WS[wi];
                    uint32_t n = GNS[ni], nd = nds[di];
                    if (nd > n || (w == 1 && nd > 256))
                        continue;
                    gen_lowcard(v, n, w, nd, 0);
                    int fits;
                    cr_assert_eq(tlf_fdict_build(&d, v, n, w, 4096, codes, &fits, NULL), TL_OK);
                    for (int fi = 0; fi < 3; fi++) {
                        static const unsigned fl[] = {TLF_OPT_CODES_FOR, TLF_OPT_CODES_RLE,
                                                      TLF_OPT_CODES_FOR | TLF_OPT_BYTE_ALIGN};
                        b.len = 0;
                        cr_assert_eq(tlf_fdict_encode(d.vals, d.n_dict, w, codes, n, fl[fi], &b, NULL), TL_OK);
                        guarded_decode(G_FDICT, &b, n, w, 0, 0, v);
                    }
                }
    tlf_enc_no_simd = 0;
    tlf_fdict_free(&d);
    free(v);
    free(codes);
    tlf_buf_free(&b);
}

/* FMT-R14 */
Test(enc_guard, scaled_every_inner)
{
    tlf_buf b = {0};
    int64_t *k = malloc(4097 * 8);
    double *d = malloc(4097 * 8);
    float *f = malloc(4097 * 4);
    rng_state = 24;
    const uint64_t divs[] = {1, 20, 64, 1000000000};
    for (int simd = 0; simd < 2; simd++)
        for (int ii = 0; ii < 4; ii++)
            for (size_t di = 0; di < 4; di++)
                for (size_t ni = 0; ni < N_GNS; ni++) {
                    tlf_enc_no_simd = !simd;
                    uint32_t n = GNS[ni];
                    for (uint32_t i = 0; i < n; i++) {
                        k[i] = (int64_t)(rnd() % (1ull << (i % 54))) - (int64_t)(i % 3 ? 0 : 1ll << (i % 53));
                        d[i] = (double)k[i] / (double)divs[di];
                        f[i] = (float)d[i];
                    }
                    b.len = 0;
                    cr_assert_eq(tlf_scaled_encode(k, n, divs[di], INNERS[ii], &b, NULL), TL_OK);
                    guarded_decode(G_SCALED, &b, n, 8, 1, 0, d);
                    guarded_decode(G_SCALED, &b, n, 4, 1, 0, f);
                }
    free(k), free(d), free(f);
    tlf_buf_free(&b);
}

Test(enc_guard, fast_and_scalar_report_the_same_error)
{
    /* an invalid value deep in a long block: the fast kernel bails out
     * and the scalar path names it */
    uint16_t v[5000];
    for (int i = 0; i < 5000; i++)
        v[i] = (uint16_t)(i % 1000);
    tlf_buf b = {0};
    cr_assert_eq(tlf_for_encode(v, 5000, 2, 0, &b, NULL), TL_OK);
    int64_t base = 65535 - 998; /* value 999 -> 65536 */
    memcpy(b.p, &base, 8);
    uint16_t out[5000];
    tl_error e1, e2;
    tlf_enc_no_simd = 0;
    int r1 = tlf_for_decode(b.p, b.len, 5000, 2, 0, out, &e1);
    tlf_enc_no_simd = 1;
    int r2 = tlf_for_decode(b.p, b.len, 5000, 2, 0, out, &e2);
    cr_assert_eq(r1, TL_ECORRUPT);
    cr_assert_eq(r2, TL_ECORRUPT);
    cr_assert_str_eq(e1.msg, e2.msg);
    cr_assert(strstr(e1.msg, "for: value 999 "), "%s", e1.msg);
    tlf_buf_free(&b);
}
