/*
 * golden_test.c - the committed golden segment tests/golden/tiny_v1_0.tls
 * (spec/FORMAT.md, "Example: a tiny file").
 *
 * The file holds 7 rows in row blocks of 4 (two row blocks), every column
 * with a forced encoding and no compression, so the writer's AUTO
 * heuristics do not matter:
 *   ts     timestamp  DELTA
 *   sym    string     DICT (column dictionary)
 *   strike float32    RLE
 *   px     float64    SCALED (divisor 20, inner FOR)
 *   qty    int32      FOR, one null (bitmap validity)
 * and one metadata entry "source" = "golden".
 *
 * Two promises are checked (STYLE: a file written by any released version
 * must still open and return the same rows):
 *  - the committed file opens, verifies, and decodes to the constants below
 *    (values, nulls, encodings, zone maps, dictionary, metadata);
 *  - writing the same input today reproduces the file byte for byte. If a
 *    layout change breaks this, the format version must be bumped, a new
 *    golden file added (keep the old one and its test), and the spec's hex
 *    dump updated.
 * Regenerate (only together with a version bump): run this test with
 * TL_GOLDEN_WRITE=1 in the environment; it rewrites the file and fails.
 *
 * tests/golden/tiny_v1_1.tls (version 1.1, FMT-R25): 5 rows in row blocks
 * of 4, a timestamp_us column "t" (DELTA; years 2024, 9999, a null, 290000
 * and 2 BC) and an int32 "q" (PLAIN); checked the same two ways.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment_int.h"
#include "tl_format.h"

#define GOLDEN_PATH TL_SOURCE_DIR "/tests/golden/tiny_v1_0.tls"
#define N_ROWS 7
#define N_COLS 5
#define BLOCK_ROWS 4
#define GOLDEN_SIZE 1784 /* bytes of the committed file */

/* ---- the input ------------------------------------------------------------ */

#define T0 1700000000000000000ll
static const int64_t k_ts[N_ROWS] = {T0,        T0 + 1000, T0 + 3000, T0 + 4000,
                                     T0 + 9000, T0 + 9500, T0 + 10000};
static const char *const k_sym[N_ROWS] = {"NIFTY", "NIFTY", "BANK", "NIFTY",
                                          "BANK",  "BANK",  "NIFTY"};
static const float k_strike[N_ROWS] = {100.0f, 100.0f, 100.0f, 105.5f, 105.5f, 105.5f, 105.5f};
static const double k_px[N_ROWS] = {10.05, 10.10, 10.25, 10.15, 10.20, 10.30, 10.05};
static const int32_t k_qty[N_ROWS] = {25, 50, 0, 75, 100, 25, 50}; /* row 2 null */
#define QTY_NULL_ROW 2

static const tl_coldef k_cols[N_COLS] = {
    {"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"strike", TL_FLOAT32},
    {"px", TL_FLOAT64},   {"qty", TL_INT32},
};
static const uint8_t k_enc[N_COLS] = {TLF_ENC_DELTA, TLF_ENC_DICT, TLF_ENC_RLE,
                                      TLF_ENC_SCALED, TLF_ENC_FOR};

typedef struct gbuf {
    uint8_t *p;
    size_t len, cap;
} gbuf;

static int gbuf_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    (void)err;
    gbuf *g = ctx;
    if (g->len + len > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < g->len + len)
            cap *= 2;
        g->p = realloc(g->p, cap);
        cr_assert(g->p);
        g->cap = cap;
    }
    memcpy(g->p + g->len, buf, len);
    g->len += len;
    return TL_OK;
}

/* Write the golden input with today's writer into g. */
static void make_tiny(gbuf *g)
{
    uint32_t offs[N_ROWS + 1] = {0};
    char data[64];
    for (int i = 0; i < N_ROWS; i++) {
        size_t l = strlen(k_sym[i]);
        memcpy(data + offs[i], k_sym[i], l);
        offs[i + 1] = offs[i] + (uint32_t)l;
    }
    uint8_t qty_valid = 0x7f & (uint8_t)~(1u << QTY_NULL_ROW);
    tl_colvec v[N_COLS] = {
        {.values = k_ts},
        {.offsets = offs, .data = (const uint8_t *)data},
        {.values = k_strike},
        {.values = k_px},
        {.values = k_qty, .validity = &qty_valid},
    };
    tlf_col_opts co[N_COLS];
    for (int c = 0; c < N_COLS; c++)
        co[c] = (tlf_col_opts){.encoding = k_enc[c], .compression = TLF_COMP_NONE};
    tlf_writer_opts o = {.block_rows = BLOCK_ROWS, .col_opts = co};
    tlf_seg_writer *w = NULL;
    tl_error err = {0};
    cr_assert_eq(tlf_seg_writer_open(k_cols, N_COLS, &o, (tlf_sink){gbuf_write, g}, &w, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_append(w, v, N_ROWS, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_set_meta(w, "source", "golden", 6, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
}

static uint8_t *read_golden(size_t *len)
{
    FILE *f = fopen(GOLDEN_PATH, "rb");
    cr_assert(f, "cannot open %s", GOLDEN_PATH);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    cr_assert(sz > 0);
    rewind(f);
    /* 64-aligned, as a mapping would be (PLAIN zero copy, in-place runs) */
    uint8_t *p = aligned_alloc(64, ((size_t)sz + 63) / 64 * 64);
    cr_assert(p);
    cr_assert_eq(fread(p, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *len = (size_t)sz;
    return p;
}

/* ---- tests ------------------------------------------------------------------ */

/* FMT-R6, FMT-R8: magic, version and footer checksum of a released file. */
Test(golden, tiny_v1_0_header_and_trailer)
{
    size_t len;
    uint8_t *p = read_golden(&len);
    cr_assert_eq(len, GOLDEN_SIZE);
    cr_assert_eq(memcmp(p, TLF_MAGIC, 8), 0);
    cr_assert_eq(memcmp(p + len - 8, TLF_MAGIC, 8), 0);
    cr_assert_eq(tlf_ld16(p + TLF_HDR_VMAJOR), 1);
    cr_assert_eq(tlf_ld16(p + TLF_HDR_VMINOR), 0);
    cr_assert_eq(tlf_ld32(p + TLF_HDR_NCOLS), N_COLS);
    cr_assert_eq(tlf_ld32(p + TLF_HDR_BLOCK_ROWS), BLOCK_ROWS);
    free(p);
}

/* FMT-R3 (block offsets), FMT-R5 and FMT-R23 (the null slot decodes as 0),
 * FMT-R9 (block length with a bitmap), FMT-R10 (verified), FMT-R14 (SCALED),
 * FMT-R15 (dictionary order), FMT-R16 (zone maps), FMT-R18, FMT-R24. */
Test(golden, tiny_v1_0_opens_and_decodes_same_rows)
{
    size_t len;
    uint8_t *p = read_golden(&len);
    tlf_seg *s = NULL;
    tl_error err = {0};
    cr_assert_eq(tlf_seg_open_mem(p, len, "tiny_v1_0.tls", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_n_rows(s), N_ROWS);
    cr_assert_eq(tlf_seg_n_cols(s), N_COLS);
    cr_assert_eq(tlf_seg_n_blocks(s), 2);
    cr_assert_eq(tlf_seg_block_rows(s), BLOCK_ROWS);
    cr_assert_eq(tlf_seg_version_minor(s), 0);

    /* metadata */
    const uint8_t *mv;
    uint32_t ml;
    cr_assert_eq(tlf_seg_meta(s, "source", &mv, &ml), TL_OK);
    cr_assert_eq(ml, 6);
    cr_assert_eq(memcmp(mv, "golden", 6), 0);
    cr_assert_eq(tlf_seg_meta(s, "absent", &mv, &ml), TL_ENOTFOUND);

    /* schema and the column dictionary (first-seen order, FMT-R15) */
    for (int c = 0; c < N_COLS; c++) {
        cr_assert_str_eq(tlf_seg_col(s, (uint32_t)c)->name, k_cols[c].name);
        cr_assert_eq(tlf_seg_col(s, (uint32_t)c)->type, k_cols[c].type);
    }
    cr_assert_eq(tlf_seg_col(s, 1)->dict_entries, 2);
    const uint8_t *db;
    uint32_t dl;
    tlf_seg_dict_entry(s, 1, 0, &db, &dl);
    cr_assert(dl == 5 && memcmp(db, "NIFTY", 5) == 0);
    tlf_seg_dict_entry(s, 1, 1, &db, &dl);
    cr_assert(dl == 4 && memcmp(db, "BANK", 4) == 0);
    cr_assert_eq(tlf_seg_col(s, 4)->null_count, 1);

    /* block index: encodings, inner, validity form, row and null counts */
    static const uint64_t k_blk_off[N_COLS][2] = {
        {64, 384}, {128, 448}, {192, 512}, {256, 576}, {320, 640}};
    for (int c = 0; c < N_COLS; c++)
        for (uint32_t b = 0; b < 2; b++) {
            const tlf_block_info *bi = tlf_seg_block(s, (uint32_t)c, b);
            cr_assert_eq(bi->offset, k_blk_off[c][b], "col %d blk %u", c, b);
            cr_assert_eq(bi->first_row, b * BLOCK_ROWS);
            cr_assert_eq(bi->n_rows, b ? 3u : 4u);
            cr_assert_eq(bi->encoding, k_enc[c], "col %d blk %u", c, b);
            cr_assert_eq(bi->compression, TLF_COMP_NONE);
            cr_assert_eq(bi->inner, c == 3 ? TLF_ENC_FOR : 0, "col %d blk %u", c, b);
            cr_assert_eq(bi->null_count, (c == 4 && b == 0) ? 1u : 0u);
            cr_assert_eq(bi->validity, TLF_VALID_BITMAP);
            cr_assert_eq(bi->encoded_len, bi->payload_len);
        }

    /* zone maps (section 7) */
    const tlf_block_info *bi;
    bi = tlf_seg_block(s, 0, 0);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.i == T0 && bi->max.i == T0 + 4000);
    bi = tlf_seg_block(s, 0, 1);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.i == T0 + 9000 &&
              bi->max.i == T0 + 10000);
    bi = tlf_seg_block(s, 1, 0); /* both blocks: BANK .. NIFTY */
    for (uint32_t b = 0; b < 2; b++) {
        bi = tlf_seg_block(s, 1, b);
        cr_assert_eq(bi->zone_flags, TLF_ZONE_HAS_MINMAX);
        cr_assert(bi->smin_len == 4 && memcmp(bi->smin, "BANK", 4) == 0);
        cr_assert(bi->smax_len == 5 && memcmp(bi->smax, "NIFTY", 5) == 0);
    }
    bi = tlf_seg_block(s, 2, 0);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.f == 100.0 && bi->max.f == 105.5);
    bi = tlf_seg_block(s, 2, 1);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.f == 105.5 && bi->max.f == 105.5);
    bi = tlf_seg_block(s, 3, 0);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.f == 10.05 && bi->max.f == 10.25);
    bi = tlf_seg_block(s, 3, 1);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.f == 10.05 && bi->max.f == 10.30);
    bi = tlf_seg_block(s, 4, 0); /* the null is not part of min/max */
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.i == 25 && bi->max.i == 75);
    bi = tlf_seg_block(s, 4, 1);
    cr_assert(bi->zone_flags == TLF_ZONE_HAS_MINMAX && bi->min.i == 25 && bi->max.i == 100);

    /* values */
    uint8_t buf[64], data[64], valid[8];
    for (int c = 0; c < N_COLS; c++)
        for (uint32_t b = 0; b < 2; b++) {
            bi = tlf_seg_block(s, (uint32_t)c, b);
            size_t nb, nd, nv;
            tlf_seg_decode_needs(s, (uint32_t)c, b, &nb, &nd, &nv);
            cr_assert(nb <= sizeof buf && nd <= sizeof data && nv <= sizeof valid);
            tlf_vec v = {.buf = buf, .buf_cap = sizeof buf, .data_buf = data,
                         .data_cap = sizeof data, .valid_buf = valid, .valid_cap = sizeof valid};
            cr_assert_eq(tlf_seg_decode(s, (uint32_t)c, b, p + bi->offset, bi->length,
                                        TLF_DECODE_VERIFY, &v, &err),
                         TL_OK, "col %d blk %u: %s", c, b, err.msg);
            cr_assert_eq(v.n, bi->n_rows);
            for (uint32_t i = 0; i < v.n; i++) {
                uint32_t r = b * BLOCK_ROWS + i;
                switch (c) {
                case 0: cr_assert_eq(((const int64_t *)v.values)[i], k_ts[r]); break;
                case 1: {
                    uint32_t l = v.offsets[i + 1] - v.offsets[i];
                    cr_assert(l == strlen(k_sym[r]) &&
                              memcmp(v.data + v.offsets[i], k_sym[r], l) == 0, "row %u", r);
                    break;
                }
                case 2: cr_assert_eq(((const float *)v.values)[i], k_strike[r]); break;
                case 3: cr_assert_eq(((const double *)v.values)[i], k_px[r], "row %u", r); break;
                case 4:
                    cr_assert_eq(((const int32_t *)v.values)[i], k_qty[r], "row %u", r);
                    cr_assert_eq(tl_bit_get(v.validity, i), r != QTY_NULL_ROW, "row %u", r);
                    break;
                }
            }
            if (c != 4 || b != 0)
                cr_assert_null(v.validity);
        }
    tlf_seg_close(s);
    free(p);
}

/* Writing the same input today gives the committed bytes (a layout change
 * must bump the version and add a new golden file). */
Test(golden, tiny_v1_0_writer_reproduces_bytes)
{
    gbuf g = {0};
    make_tiny(&g);
    const char *regen = getenv("TL_GOLDEN_WRITE");
    if (regen && *regen) {
        FILE *f = fopen(GOLDEN_PATH, "wb");
        cr_assert(f);
        cr_assert_eq(fwrite(g.p, 1, g.len, f), g.len);
        fclose(f);
        free(g.p);
        cr_assert_fail("TL_GOLDEN_WRITE set: rewrote %s (%zu bytes); unset it and rerun",
                GOLDEN_PATH, g.len);
        return;
    }
    size_t len;
    uint8_t *p = read_golden(&len);
    cr_assert_eq(g.len, len, "writer produced %zu bytes, golden file has %zu", g.len, len);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(g.p[i], p[i], "first difference at byte %zu: wrote 0x%02x, golden 0x%02x",
                     i, g.p[i], p[i]);
    free(p);
    free(g.p);
}

/* spec/FORMAT.md section 9 shows this file as xxd lines ("%08x: " then up
 * to 8 groups of 2 bytes); every byte of the file must be shown exactly
 * once and agree with the file, so the spec cannot drift from it. */
Test(golden, spec_hex_dump_matches_file)
{
    size_t len;
    uint8_t *p = read_golden(&len);
    FILE *f = fopen(TL_SOURCE_DIR "/spec/FORMAT.md", "r");
    cr_assert(f, "cannot open spec/FORMAT.md");
    uint8_t *seen = calloc(len, 1);
    cr_assert(seen);
    char line[512];
    int in_example = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "## ", 3) == 0)
            in_example = strncmp(line, "## 9. Example", 13) == 0;
        unsigned off;
        int used = 0;
        if (!in_example || sscanf(line, "%8x: %n", &off, &used) != 1 || used != 10)
            continue;
        const char *q = line + 10;
        for (int g = 0; g < 8; g++) {
            unsigned a, b;
            if (q[0] == ' ' || sscanf(q, "%2x", &a) != 1)
                break;
            cr_assert(off < len, "spec line %d: byte offset 0x%x past the file", lineno, off);
            cr_assert_eq(a, p[off], "spec line %d: byte 0x%x is %02x, the file has %02x", lineno,
                         off, a, p[off]);
            cr_assert_eq(seen[off], 0, "spec line %d: byte 0x%x shown twice", lineno, off);
            seen[off++] = 1;
            if (sscanf(q + 2, "%2x", &b) == 1 && q[2] != ' ') {
                cr_assert(off < len, "spec line %d: byte offset 0x%x past the file", lineno, off);
                cr_assert_eq(b, p[off], "spec line %d: byte 0x%x is %02x, the file has %02x",
                             lineno, off, b, p[off]);
                cr_assert_eq(seen[off], 0, "spec line %d: byte 0x%x shown twice", lineno, off);
                seen[off++] = 1;
            } else {
                break;
            }
            q += 5;
        }
    }
    fclose(f);
    for (size_t i = 0; i < len; i++)
        cr_assert(seen[i], "spec section 9 does not show byte 0x%zx of the golden file", i);
    free(seen);
    free(p);
}

/* ---- tiny_v1_1.tls: version 1.1, a timestamp_us column (FMT-R25) -------------------- */

#define GOLDEN11_PATH TL_SOURCE_DIR "/tests/golden/tiny_v1_1.tls"
#define N11_ROWS 5
/* 2024-01-01 20:34:56.123456, 9999-12-31 03:00, null, 290000-12-30 23:00,
 * -0001-01-01 (2 BC) */
static const int64_t k11_t[N11_ROWS] = {1704141296123456ll, 253402225200000000ll, 0,
                                        9089380393200000000ll, -62198755200000000ll};
static const int32_t k11_q[N11_ROWS] = {1, 2, 3, 4, 5};
static const tl_coldef k11_cols[2] = {{"t", TL_TIMESTAMP_US}, {"q", TL_INT32}};

static void make_tiny11(gbuf *g)
{
    uint8_t valid = 0x1f & (uint8_t)~(1u << 2);
    tl_colvec v[2] = {{.values = k11_t, .validity = &valid}, {.values = k11_q}};
    tlf_col_opts co[2] = {{.encoding = TLF_ENC_DELTA, .compression = TLF_COMP_NONE},
                          {.encoding = TLF_ENC_PLAIN, .compression = TLF_COMP_NONE}};
    tlf_writer_opts o = {.block_rows = BLOCK_ROWS, .col_opts = co};
    tlf_seg_writer *w = NULL;
    tl_error err = {0};
    cr_assert_eq(tlf_seg_writer_open(k11_cols, 2, &o, (tlf_sink){gbuf_write, g}, &w, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_append(w, v, N11_ROWS, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
}

/* FMT-R25: the released 1.1 file opens, says 1.1, and decodes to the same
 * microseconds (zone maps in µs, the null as 0). */
Test(golden, tiny_v1_1_timestamp_us_opens_and_decodes)
{
    gbuf g = {0};
    make_tiny11(&g);
    const char *regen = getenv("TL_GOLDEN_WRITE"); /* rewrites the file first */
    if (regen && *regen) {
        FILE *o = fopen(GOLDEN11_PATH, "wb");
        cr_assert(o);
        cr_assert_eq(fwrite(g.p, 1, g.len, o), g.len);
        fclose(o);
    }
    FILE *f = fopen(GOLDEN11_PATH, "rb");
    cr_assert(f, "cannot open %s", GOLDEN11_PATH);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    cr_assert(sz > 0);
    rewind(f);
    uint8_t *p = aligned_alloc(64, ((size_t)sz + 63) / 64 * 64);
    cr_assert(p);
    cr_assert_eq(fread(p, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    size_t len = (size_t)sz;
    cr_assert_eq(tlf_ld16(p + TLF_HDR_VMAJOR), 1);
    cr_assert_eq(tlf_ld16(p + TLF_HDR_VMINOR), 1);
    cr_assert_eq(tlf_ld16(p + len - TLF_TRAILER_SIZE + TLF_TRL_VMINOR), 1);
    tlf_seg *s = NULL;
    tl_error err = {0};
    cr_assert_eq(tlf_seg_open_mem(p, len, "tiny_v1_1.tls", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_version_minor(s), 1);
    cr_assert_eq(tlf_seg_col(s, 0)->type, TL_TIMESTAMP_US);
    cr_assert_eq(tlf_seg_col(s, 0)->null_count, 1);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->encoding, TLF_ENC_DELTA);
    cr_assert(bi->min.i == k11_t[0] && bi->max.i == k11_t[3]);
    bi = tlf_seg_block(s, 0, 1);
    cr_assert(bi->min.i == k11_t[4] && bi->max.i == k11_t[4]);
    uint8_t buf[64], valid[8];
    for (uint32_t b = 0; b < 2; b++) {
        bi = tlf_seg_block(s, 0, b);
        tlf_vec v = {.buf = buf, .buf_cap = sizeof buf, .valid_buf = valid,
                     .valid_cap = sizeof valid};
        cr_assert_eq(tlf_seg_decode(s, 0, b, p + bi->offset, bi->length, TLF_DECODE_VERIFY, &v,
                                    &err),
                     TL_OK, "%s", err.msg);
        for (uint32_t i = 0; i < v.n; i++) {
            uint32_t r = b * BLOCK_ROWS + i;
            cr_assert_eq(((const int64_t *)v.values)[i], k11_t[r], "row %u", r);
            cr_assert_eq(tl_bit_get(v.validity, i), r != 2, "row %u", r);
        }
    }
    tlf_seg_close(s);
    /* today's writer reproduces it */
    cr_assert_eq(g.len, len, "writer produced %zu bytes, golden file has %zu", g.len, len);
    cr_assert_eq(memcmp(g.p, p, len), 0, "the writer no longer reproduces %s", GOLDEN11_PATH);
    free(g.p);
    free(p);
}
