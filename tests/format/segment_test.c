/*
 * segment_test.c - segment writer and reader: round trips of every type x
 * encoding (forced and AUTO) x null pattern x block size x compression,
 * the encoding choice, zero copy, both open paths, metadata, big and empty
 * segments, writer and decode API errors.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include "enc.h"
#include "segment_testlib.h"

extern int tlf_enc_no_simd; /* enc_priv.h: 1 forces the scalar decoders */

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tl_segment_test_XXXXXX");
    cr_assert(mkdtemp(tmpdir));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void teardown(void) { nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

TestSuite(segment, .init = setup, .fini = teardown);

/* ---- the round-trip matrix ----------------------------------------------- */

static const tl_type all_types[] = {TL_BOOL,   TL_INT8,    TL_INT16,   TL_INT32,  TL_INT64,
                                    TL_UINT8,  TL_UINT16,  TL_UINT32,  TL_UINT64, TL_FLOAT32,
                                    TL_FLOAT64, TL_TIMESTAMP, TL_DATE, TL_STRING,
                                    TL_TIMESTAMP_US};

/* Build one column per (type, encoding, data kind). */
static uint32_t matrix_cols(tcol *cols, uint64_t n, tnulls nl, uint8_t comp)
{
    uint32_t k = 0;
    char name[64];
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++) {
        tl_type t = all_types[ti];
        const char *tn = tl_type_name(t);
        if (t == TL_STRING) {
            static const struct { uint8_t enc; tdata d; const char *dn; } sc[] = {
                {TLF_ENC_PLAIN, D_BIG, "big"},      {TLF_ENC_DICT, D_BIG, "big"},
                {TLF_ENC_DICT, D_LOWCARD, "low"},   {TLF_ENC_AUTO, D_LOWCARD, "low"},
                {TLF_ENC_AUTO, D_UNIQUE, "uniq"},   {TLF_ENC_AUTO, D_BIG, "big"},
            };
            for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
                snprintf(name, sizeof name, "%s_%s_%s", tn, tlf_encoding_name(sc[i].enc), sc[i].dn);
                tcol_fill(&cols[k], name, t, sc[i].enc, comp, sc[i].d, nl, n, k);
                k++;
            }
            continue;
        }
        static const uint8_t int_encs[] = {TLF_ENC_PLAIN, TLF_ENC_RLE, TLF_ENC_FOR,
                                           TLF_ENC_DELTA, TLF_ENC_AUTO, TLF_ENC_DICT};
        static const uint8_t flt_encs[] = {TLF_ENC_PLAIN, TLF_ENC_RLE, TLF_ENC_SCALED,
                                           TLF_ENC_AUTO, TLF_ENC_DICT};
        int is_f = tl_type_is_float(t);
        const uint8_t *encs = is_f ? flt_encs : int_encs;
        /* DICT applies to every fixed width type but bool */
        size_t ne = (is_f ? sizeof flt_encs : sizeof int_encs) - (t == TL_BOOL);
        for (size_t e = 0; e < ne; e++) {
            snprintf(name, sizeof name, "%s_%s_edge", tn, tlf_encoding_name(encs[e]));
            tcol_fill(&cols[k], name, t, encs[e], comp, D_EDGE, nl, n, k);
            k++;
        }
        /* data the specialised encodings are made for */
        tdata extra[4];
        int nx = 0;
        if (is_f) {
            extra[nx++] = D_GRID;
            extra[nx++] = D_RUNS;
        } else {
            extra[nx++] = D_SMALL;
            extra[nx++] = D_RUNS;
            if (tl_type_width(t) == 8)
                extra[nx++] = D_SORTED;
        }
        extra[nx++] = D_LOTS;
        for (int x = 0; x < nx; x++) {
            uint8_t enc = is_f && extra[x] == D_GRID ? TLF_ENC_SCALED : TLF_ENC_AUTO;
            snprintf(name, sizeof name, "%s_%s_x%d", tn, tlf_encoding_name(enc), x);
            tcol_fill(&cols[k], name, t, enc, comp, extra[x], nl, n, k);
            k++;
            snprintf(name, sizeof name, "%s_auto_x%d_b", tn, x);
            tcol_fill(&cols[k], name, t, TLF_ENC_AUTO, comp, extra[x], nl, n, k + 1000);
            k++;
        }
    }
    cr_assert(k <= 224);
    return k;
}

static void run_matrix(uint32_t block_rows, uint64_t n, uint32_t chunk)
{
    static const tnulls nls[] = {N_NONE, N_ALL, N_ALT, N_RAND5};
    static const uint8_t comps[] = {TLF_COMP_NONE, TLF_COMP_AUTO, TLF_COMP_ZSTD};
    for (size_t ni = 0; ni < 4; ni++) {
        for (size_t ci = 0; ci < 3; ci++) {
            tcol *cols = calloc(224, sizeof *cols);
            uint32_t k = matrix_cols(cols, n, nls[ni], comps[ci]);
            membuf m = write_cols(cols, k, block_rows, chunk, NULL, NULL);
            uint8_t *file = aligned_copy(m.p, m.len);
            check_file(file, m.len, cols, k);
            free(file);
            free(m.p);
            for (uint32_t i = 0; i < k; i++)
                tcol_free(&cols[i]);
            free(cols);
        }
    }
}

Test(segment, roundtrip_block_rows_1) { run_matrix(1, 40, 0); }
Test(segment, roundtrip_block_rows_7) { run_matrix(7, 100, 16); }
Test(segment, roundtrip_block_rows_16384) { run_matrix(16384, 2 * 16384 + 100, 5000); }
Test(segment, roundtrip_default_block_rows) { run_matrix(0, 16384 + 1, 0); }

/* ---- sizes and edge cases ------------------------------------------------- */

static void small_schema(tcol *c, uint64_t n, tnulls nl)
{
    tcol_fill(&c[0], "ts", TL_TIMESTAMP, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SORTED,
              nl == N_ALL ? N_NONE : nl, n, 1);
    tcol_fill(&c[1], "price", TL_FLOAT64, TLF_ENC_AUTO, TLF_COMP_AUTO, D_GRID, nl, n, 2);
    tcol_fill(&c[2], "sym", TL_STRING, TLF_ENC_AUTO, TLF_COMP_AUTO, D_LOWCARD, nl, n, 3);
    tcol_fill(&c[3], "qty", TL_INT32, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SMALL, nl, n, 4);
}

Test(segment, zero_rows)
{
    tcol c[4];
    small_schema(c, 0, N_NONE);
    tlf_seg_write_stats st;
    membuf m = write_cols(c, 4, 0, 0, NULL, &st);
    cr_assert_eq(st.n_blocks, 0);
    cr_assert_eq(st.n_rows, 0);
    cr_assert_eq(m.len, TLF_HEADER_SIZE + st.footer_bytes + TLF_TRAILER_SIZE);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "zero.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_n_blocks(s), 0);
    cr_assert_eq(tlf_seg_n_rows(s), 0);
    cr_assert_eq(tlf_seg_n_cols(s), 4);
    cr_assert_eq(tlf_seg_col(s, 2)->dict_entries, 0);
    tlf_seg_close(s);
    check_file(m.p, m.len, c, 4);
    free(m.p);
    for (int i = 0; i < 4; i++)
        tcol_free(&c[i]);
}

Test(segment, one_row)
{
    for (int nl = N_NONE; nl <= N_ALL; nl++) {
        tcol c[4];
        small_schema(c, 1, (tnulls)nl);
        membuf m = write_cols(c, 4, 0, 0, NULL, NULL);
        uint8_t *f = aligned_copy(m.p, m.len);
        check_file(f, m.len, c, 4);
        free(f);
        free(m.p);
        for (int i = 0; i < 4; i++)
            tcol_free(&c[i]);
    }
}

/* one million rows through a file: fd sink, tlf_map_file, open_mem */
Test(segment, million_rows_file)
{
    uint64_t n = 1000000;
    tcol c[4];
    small_schema(c, n, N_RAND5);
    membuf m = write_cols(c, 4, 0, 65536, NULL, NULL);
    /* write again through the fd sink to a real file */
    char path[512];
    snprintf(path, sizeof path, "%s/million.seg", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    tl_error err;
    cr_assert_eq(tlf_sink_fd_write(&fd, m.p, m.len, &err), TL_OK, "%s", err.msg);
    close(fd);
    const uint8_t *base;
    uint64_t size;
    cr_assert_eq(tlf_map_file(path, &base, &size, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(size, m.len);
    cr_assert(memcmp(base, m.p, m.len) == 0);
    check_file(base, size, c, 4);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(base, size, path, 0, &s, &err), TL_OK);
    cr_assert_eq(tlf_seg_n_blocks(s), (n + 16383) / 16384);
    /* the kernel columns end up compact: DELTA ts, SCALED price, DICT sym */
    cr_assert_eq(tlf_seg_block(s, 0, 0)->encoding, TLF_ENC_DELTA);
    cr_assert_eq(tlf_seg_block(s, 1, 0)->encoding, TLF_ENC_SCALED);
    cr_assert_eq(tlf_seg_block(s, 2, 0)->encoding, TLF_ENC_DICT);
    /* FMT-R23: null rows repeat a code, "" is no entry */
    cr_assert_eq(tlf_seg_col(s, 2)->dict_entries, 10);
    tlf_seg_close(s);
    tlf_unmap_file(base, size);
    free(m.p);
    for (int i = 0; i < 4; i++)
        tcol_free(&c[i]);
}

Test(segment, write_to_file_with_fd_sink)
{
    tcol c[4];
    small_schema(c, 5000, N_ALT);
    tl_coldef defs[4];
    for (int i = 0; i < 4; i++)
        defs[i] = (tl_coldef){c[i].name, c[i].type};
    char path[512];
    snprintf(path, sizeof path, "%s/fd.seg", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0);
    tlf_seg_writer *w;
    tl_error err;
    tlf_writer_opts o = {.block_rows = 1000};
    cr_assert_eq(tlf_seg_writer_open(defs, 4, &o, (tlf_sink){tlf_sink_fd_write, &fd}, &w, &err),
                 TL_OK, "%s", err.msg);
    tl_colvec v[4] = {{.values = c[0].vals, .validity = c[0].valid},
                      {.values = c[1].vals, .validity = c[1].valid},
                      {.offsets = c[2].offs, .data = c[2].data, .validity = c[2].valid},
                      {.values = c[3].vals, .validity = c[3].valid}};
    cr_assert_eq(tlf_seg_writer_append(w, v, 5000, &err), TL_OK, "%s", err.msg);
    tlf_seg_write_stats st;
    cr_assert_eq(tlf_seg_writer_finish(w, &st, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    close(fd);
    cr_assert_eq(st.n_blocks, 5);
    const uint8_t *base;
    uint64_t size;
    cr_assert_eq(tlf_map_file(path, &base, &size, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(size, st.file_bytes);
    check_file(base, size, c, 4);
    tlf_unmap_file(base, size);
    for (int i = 0; i < 4; i++)
        tcol_free(&c[i]);
}

Test(segment, map_file_errors)
{
    tl_error err;
    const uint8_t *base;
    uint64_t size;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.seg", tmpdir);
    cr_assert_eq(tlf_map_file(path, &base, &size, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "missing.seg"), "%s", err.msg);
    snprintf(path, sizeof path, "%s/empty.seg", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    cr_assert_eq(tlf_map_file(path, &base, &size, &err), TL_OK);
    cr_assert_null(base);
    cr_assert_eq(size, 0);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(base, size, path, 0, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "empty.seg") && strstr(err.msg, "not a ticklake segment"), "%s",
              err.msg);
    cr_assert_eq(tlf_map_file(tmpdir, &base, &size, &err), TL_EIO);
}

Test(segment, fd_sink_error)
{
    int fd = -1;
    tl_error err;
    cr_assert_eq(tlf_sink_fd_write(&fd, "x", 1, &err), TL_EIO);
    cr_assert_eq(err.sys_errno, EBADF);
}

/* ---- encoding choice ------------------------------------------------------ */

static const tlf_block_info *first_block(membuf *m, tlf_seg **s)
{
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(m->p, m->len, "c.seg", 0, s, &err), TL_OK, "%s", err.msg);
    return tlf_seg_block(*s, 0, 0);
}

static void expect_auto(tl_type t, tdata d, uint8_t want_enc, int want_comp, uint8_t hot)
{
    tcol c;
    tcol_fill(&c, "x", t, TLF_ENC_AUTO, TLF_COMP_AUTO, d, N_NONE, 16384, 42);
    c.opts.hot = hot;
    membuf m = write_cols(&c, 1, 0, 0, NULL, NULL);
    tlf_seg *s;
    const tlf_block_info *bi = first_block(&m, &s);
    cr_assert_eq(bi->encoding, want_enc, "%s data %d: encoding %s, expected %s",
                 tl_type_name(t), d, tlf_encoding_name(bi->encoding),
                 tlf_encoding_name(want_enc));
    if (want_comp >= 0)
        cr_assert_eq(bi->compression, want_comp, "%s data %d: compression %s",
                     tl_type_name(t), d, tlf_compression_name(bi->compression));
    if (bi->encoding == TLF_ENC_SCALED)
        cr_assert(bi->inner == TLF_ENC_FOR || bi->inner == TLF_ENC_DELTA ||
                  bi->inner == TLF_ENC_RLE);
    check_file(m.p, m.len, &c, 1);
    tlf_seg_close(s);
    free(m.p);
    tcol_free(&c);
}

Test(segment, auto_picks_by_size)
{
    expect_auto(TL_TIMESTAMP, D_SORTED, TLF_ENC_DELTA, -1, 1);
    expect_auto(TL_INT32, D_SMALL, TLF_ENC_FOR, -1, 1);
    expect_auto(TL_INT64, D_RUNS, TLF_ENC_RLE, -1, 1);
    expect_auto(TL_DATE, D_RUNS, TLF_ENC_RLE, -1, 1);
    expect_auto(TL_INT64, D_RANDOM, TLF_ENC_PLAIN, TLF_COMP_NONE, 0);
    expect_auto(TL_FLOAT64, D_GRID, TLF_ENC_SCALED, -1, 1);
    expect_auto(TL_FLOAT32, D_GRID, TLF_ENC_SCALED, -1, 1);
    expect_auto(TL_FLOAT64, D_RANDOM, TLF_ENC_PLAIN, -1, 1);
    expect_auto(TL_FLOAT64, D_RUNS, TLF_ENC_RLE, -1, 1);
    expect_auto(TL_STRING, D_LOWCARD, TLF_ENC_DICT, -1, 1);
    expect_auto(TL_STRING, D_UNIQUE, TLF_ENC_PLAIN, -1, 1);
    /* few distinct values: a block dictionary */
    expect_auto(TL_INT32, D_TRADES, TLF_ENC_DICT, TLF_COMP_NONE, 1);
    expect_auto(TL_INT64, D_TRADES, TLF_ENC_DICT, TLF_COMP_NONE, 1);
    expect_auto(TL_UINT16, D_TRADES, TLF_ENC_DICT, TLF_COMP_NONE, 1);
    expect_auto(TL_FLOAT64, D_TRADES, TLF_ENC_DICT, TLF_COMP_NONE, 1);
    expect_auto(TL_FLOAT64, D_LOTS, TLF_ENC_DICT, TLF_COMP_NONE, 1);
    expect_auto(TL_INT8, D_TRADES, TLF_ENC_DICT, -1, 1);
    expect_auto(TL_INT32, D_TRADES, TLF_ENC_DICT, TLF_COMP_ZSTD, 0);
    /* multiples of a lot size with 39 counts: FOR with the lot as factor
     * (6 bits) beats a 39-entry dictionary (6-bit codes plus entries) */
    expect_auto(TL_INT32, D_LOTS, TLF_ENC_FOR, TLF_COMP_NONE, 1);
    expect_auto(TL_INT64, D_LOTS, TLF_ENC_FOR, TLF_COMP_NONE, 1);
}

/* AUTO builds block dictionaries of up to 4096 entries: exactly 4096
 * distinct random int64 values become DICT (12-bit codes), 4097 do not */
Test(segment, auto_dict_entry_limit)
{
    for (int extra = 0; extra < 2; extra++) {
        tcol c;
        tcol_fill(&c, "x", TL_INT64, TLF_ENC_AUTO, TLF_COMP_NONE, D_RANDOM, N_NONE, 16384, 11);
        int64_t *v = (int64_t *)(void *)c.vals;
        for (int i = 4096; i < 16384; i++)
            v[i] = v[(i * 7) % 4096];
        if (extra)
            v[16383] = v[0] ^ 1; /* the 4097th distinct value, last */
        membuf m = write_cols(&c, 1, 0, 0, NULL, NULL);
        tlf_seg *s;
        const tlf_block_info *bi = first_block(&m, &s);
        if (extra) {
            cr_assert_neq(bi->encoding, TLF_ENC_DICT);
        } else {
            cr_assert_eq(bi->encoding, TLF_ENC_DICT);
            cr_assert_eq(tlf_ld32(m.p + bi->offset), 4096);
        }
        check_file(m.p, m.len, &c, 1);
        tlf_seg_close(s);
        free(m.p);
        tcol_free(&c);
    }
}

/* FMT-R20: distinct bit patterns - NaN payloads, -0.0 and +0.0 are
 * separate entries and come back bit for bit */
Test(segment, dict_of_floats_by_bit_pattern)
{
    const uint64_t pats[] = {0x7ff8000000000000ull, 0x7ff8000000000001ull, 0xfff8000000000000ull,
                             0x8000000000000000ull, 0, 0x7ff0000000000000ull,
                             0x3ff8000000000000ull};
    tcol c[2];
    memset(c, 0, sizeof c);
    snprintf(c[0].name, sizeof c[0].name, "d");
    snprintf(c[1].name, sizeof c[1].name, "f");
    c[0].type = TL_FLOAT64;
    c[1].type = TL_FLOAT32;
    c[0].n = c[1].n = 3000;
    c[0].vals = malloc(3000 * 8);
    c[1].vals = malloc(3000 * 4);
    for (int i = 0; i < 3000; i++) {
        uint64_t b = pats[(i * 7 + i / 5) % 7];
        memcpy(c[0].vals + 8 * i, &b, 8);
        uint32_t fb = (uint32_t)(b >> 32) | (uint32_t)(b & 1); /* float bits, payload kept */
        memcpy(c[1].vals + 4 * i, &fb, 4);
    }
    for (int k = 0; k < 2; k++)
        c[k].opts = (tlf_col_opts){.encoding = TLF_ENC_AUTO, .compression = TLF_COMP_NONE};
    membuf m = write_cols(c, 2, 0, 0, NULL, NULL);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "f.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    for (uint32_t k = 0; k < 2; k++) {
        const tlf_block_info *bi = tlf_seg_block(s, k, 0);
        cr_assert_eq(bi->encoding, TLF_ENC_DICT, "col %u: %s", k, tlf_encoding_name(bi->encoding));
        cr_assert_eq(tlf_ld32(m.p + bi->offset), 7, "seven distinct bit patterns");
    }
    tlf_seg_close(s);
    check_file(m.p, m.len, c, 2); /* memcmp of every value */
    free(m.p);
    tcol_free(&c[0]);
    tcol_free(&c[1]);
}

/* Byte-aligned widths for zstd: a non-hot column's FOR values and DICT
 * codes are rounded to 8 bits before compression (smaller frames); a hot
 * column keeps the minimal width. */
Test(segment, zstd_gets_byte_aligned_widths)
{
    for (int kind = 0; kind < 2; kind++)
        for (int hot = 0; hot < 2; hot++) {
            tcol c;
            tcol_fill(&c, "q", kind ? TL_FLOAT64 : TL_INT32, TLF_ENC_AUTO, TLF_COMP_AUTO,
                      D_LOTS, N_NONE, 16384, 9);
            c.opts.hot = (uint8_t)hot;
            membuf m = write_cols(&c, 1, 0, 0, NULL, NULL);
            tlf_seg *s;
            const tlf_block_info *bi = first_block(&m, &s);
            /* int32: FOR, factor 25, 6 bits; float64 (off any decimal grid):
             * DICT of 39 entries, 6-bit codes */
            size_t head = kind ? 8 + 8 * 39 + 8 + 24 : 24;
            unsigned bw = 6;
            cr_assert_eq(bi->encoding, kind ? TLF_ENC_DICT : TLF_ENC_FOR);
            if (hot) {
                cr_assert_eq(bi->compression, TLF_COMP_NONE);
                cr_assert_eq(bi->encoded_len, head + 16384 * bw / 8, "%u-bit: %u", bw,
                             bi->encoded_len);
                cr_assert_eq(m.p[bi->offset + head - 16], bw);
                cr_assert_eq(tlf_ld64(m.p + bi->offset + head - 8), kind ? 1 : 25);
            } else {
                cr_assert_eq(bi->compression, TLF_COMP_ZSTD);
                cr_assert_eq(bi->encoded_len, head + 16384, "8 bits: %u", bi->encoded_len);
                cr_assert_lt(bi->payload_len, 16384 * bw / 8, "smaller than the packed values");
            }
            check_file(m.p, m.len, &c, 1);
            tlf_seg_close(s);
            free(m.p);
            tcol_free(&c);
        }
}

/* zstd under AUTO is decided by an evaluation that later blocks of the
 * same encoding trust: a column whose data turns incompressible must still
 * store every such block uncompressed (the trusted guess is checked, and
 * a block that misses the 10% bar falls back to its plain payload, which
 * the writer then encodes), and every block decodes. */
Test(segment, zstd_decisions_follow_the_data)
{
    enum { BR = 16384, NB = 20 };
    tcol c;
    tcol_fill(&c, "v", TL_INT64, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SMALL, N_NONE, BR * NB, 1);
    uint64_t seed = 77;
    int64_t pat[1024];
    for (int i = 0; i < 1024; i++)
        pat[i] = (int64_t)(rnd(&seed) % (1u << 20));
    int64_t *v = (int64_t *)(void *)c.vals;
    /* first half: a pattern of 1001 values repeated with a step every 4096
     * rows (4004 distinct values a block: too many for DICT to win; the
     * bit-packed FOR payload repeats at no byte boundary, its 32-bit twin
     * every 4004 bytes, so zstd pays on the twin); second half: noise */
    for (uint64_t i = 0; i < (uint64_t)BR * NB; i++)
        v[i] = i < (uint64_t)BR * NB / 2 ? pat[i % 1001] + 1024 * (int64_t)(i / 4096)
                                          : (int64_t)(rnd(&seed) % (1u << 20));
    membuf m = write_cols(&c, 1, BR, 3 * BR / 2, NULL, NULL);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "z.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    for (uint32_t b = 0; b < NB; b++) {
        const tlf_block_info *bi = tlf_seg_block(s, 0, b);
        cr_assert_eq(bi->encoding, TLF_ENC_FOR, "block %u", b);
        cr_assert_eq(bi->compression, b < NB / 2 ? TLF_COMP_ZSTD : TLF_COMP_NONE,
                     "block %u: %s", b, tlf_compression_name(bi->compression));
        if (bi->compression == TLF_COMP_NONE) /* the plain FOR payload: 20 bits */
            cr_assert_eq(bi->payload_len, 24 + BR * 20 / 8, "block %u", b);
    }
    tlf_seg_close(s);
    uint8_t *f = aligned_copy(m.p, m.len);
    check_file(f, m.len, &c, 1);
    free(f);
    free(m.p);
    tcol_free(&c);
}

/* A block that one append brings whole, without nulls, is encoded from the
 * caller's array without a copy: the file is byte for byte the one written
 * from copies (appends that never cover a block), and the caller's arrays
 * are left untouched. */
Test(segment, whole_blocks_encoded_in_place)
{
    enum { BR = 1000, N = 3 * BR };
    tcol c[4];
    tcol_fill(&c[0], "a", TL_INT64, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SORTED, N_NONE, N, 1);
    tcol_fill(&c[1], "b", TL_FLOAT64, TLF_ENC_AUTO, TLF_COMP_AUTO, D_GRID, N_NONE, N, 2);
    tcol_fill(&c[2], "c", TL_INT32, TLF_ENC_AUTO, TLF_COMP_AUTO, D_LOTS, N_NONE, N, 3);
    tcol_fill(&c[3], "d", TL_INT16, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SMALL, N_NONE, N, 4);
    /* b: a validity bitmap without nulls; c: nulls in block 1 only */
    c[1].valid = malloc(N / 8 + 1);
    memset(c[1].valid, 0xFF, N / 8 + 1);
    c[2].valid = malloc(N / 8 + 1);
    memset(c[2].valid, 0xFF, N / 8 + 1);
    tl_bit_set(c[2].valid, BR + 17, 0);
    uint8_t *before[4];
    for (int i = 0; i < 4; i++) {
        size_t bytes = (size_t)N * tl_type_width(c[i].type);
        before[i] = malloc(bytes);
        memcpy(before[i], c[i].vals, bytes);
    }
    membuf whole = write_cols(c, 4, BR, N, NULL, NULL);    /* one append */
    membuf pieces = write_cols(c, 4, BR, 999, NULL, NULL); /* never whole */
    cr_assert_eq(whole.len, pieces.len);
    cr_assert_eq(memcmp(whole.p, pieces.p, whole.len), 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(memcmp(before[i], c[i].vals, (size_t)N * tl_type_width(c[i].type)), 0,
                     "column %d modified", i);
        free(before[i]);
    }
    uint8_t *f = aligned_copy(whole.p, whole.len);
    check_file(f, whole.len, c, 4);
    free(f);
    free(whole.p);
    free(pieces.p);
    for (int i = 0; i < 4; i++)
        tcol_free(&c[i]);
}

Test(segment, hot_columns_never_zstd_under_auto)
{
    /* unique strings compress well with zstd (shared prefixes) */
    expect_auto(TL_STRING, D_UNIQUE, TLF_ENC_PLAIN, TLF_COMP_ZSTD, 0);
    expect_auto(TL_STRING, D_UNIQUE, TLF_ENC_PLAIN, TLF_COMP_NONE, 1);
}

Test(segment, zstd_forced_and_none)
{
    tcol c[2];
    tcol_fill(&c[0], "z", TL_INT64, TLF_ENC_PLAIN, TLF_COMP_ZSTD, D_RANDOM, N_NONE, 3000, 1);
    tcol_fill(&c[1], "n", TL_STRING, TLF_ENC_PLAIN, TLF_COMP_NONE, D_UNIQUE, N_NONE, 3000, 2);
    c[0].opts.hot = 1; /* explicit ZSTD wins over hot */
    membuf m = write_cols(c, 2, 1000, 0, NULL, NULL);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "z.seg", 0, &s, &err), TL_OK);
    for (uint32_t b = 0; b < 3; b++) {
        const tlf_block_info *bi = tlf_seg_block(s, 0, b);
        cr_assert_eq(bi->compression, TLF_COMP_ZSTD);
        cr_assert_eq(bi->encoded_len, 8000);
        cr_assert_eq(tlf_seg_block(s, 1, b)->compression, TLF_COMP_NONE);
        /* runs need an uncompressed rle block */
        cr_assert_eq(tlf_seg_rle_runs(s, 0, b, m.p + bi->offset, bi->length,
                                      &(uint32_t){0}, &(const void *){NULL},
                                      &(const uint32_t *){NULL}, &err),
                     TL_EUNSUPPORTED);
        cr_assert(strstr(err.msg, "z.seg") && strstr(err.msg, "column 'z'"), "%s", err.msg);
    }
    tlf_seg_close(s);
    check_file(m.p, m.len, c, 2);
    free(m.p);
    tcol_free(&c[0]);
    tcol_free(&c[1]);
}

/* A dictionary that outgrows its limits: DICT blocks first, PLAIN after. */
Test(segment, dict_limit_switches_to_plain)
{
    tcol c;
    tcol_fill(&c, "s", TL_STRING, TLF_ENC_DICT, TLF_COMP_NONE, D_UNIQUE, N_NONE, 1000, 5);
    tl_coldef def = {"s", TL_STRING};
    tlf_col_opts co = c.opts;
    membuf m = {0};
    tlf_writer_opts o = {.block_rows = 100, .col_opts = &co, .dict_max_entries = 250};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v = {.offsets = c.offs, .data = c.data};
    cr_assert_eq(tlf_seg_writer_append(w, &v, 1000, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "d.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_block(s, 0, 0)->encoding, TLF_ENC_DICT);
    cr_assert_eq(tlf_seg_block(s, 0, 1)->encoding, TLF_ENC_DICT);
    for (uint32_t b = 2; b < 10; b++)
        cr_assert_eq(tlf_seg_block(s, 0, b)->encoding, TLF_ENC_PLAIN, "block %u", b);
    cr_assert_eq(tlf_seg_col(s, 0)->dict_entries, 200); /* block 2's entries rolled back */
    const uint8_t *e;
    uint32_t el;
    tlf_seg_dict_entry(s, 0, 199, &e, &el);
    cr_assert_eq(el, c.offs[200] - c.offs[199]);
    cr_assert(memcmp(e, c.data + c.offs[199], el) == 0);
    tlf_seg_close(s);
    check_file(m.p, m.len, &c, 1);
    free(m.p);
    tcol_free(&c);
}

/* AUTO dictionary: values seen in earlier blocks are reused; the
 * dictionary is in first-seen order. */
Test(segment, dict_first_seen_order_across_blocks)
{
    const char *vals[] = {"b", "a", "b", "c", "a", "", "c", "d"};
    uint32_t offs[9] = {0};
    char data[16];
    size_t len = 0;
    for (int i = 0; i < 8; i++) {
        size_t l = strlen(vals[i]);
        memcpy(data + len, vals[i], l);
        len += l;
        offs[i + 1] = (uint32_t)len;
    }
    tl_coldef def = {"s", TL_STRING};
    tlf_col_opts co = {.encoding = TLF_ENC_DICT, .compression = TLF_COMP_NONE};
    membuf m = {0};
    tlf_writer_opts o = {.block_rows = 3, .col_opts = &co};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v = {.offsets = offs, .data = (const uint8_t *)data};
    cr_assert_eq(tlf_seg_writer_append(w, &v, 8, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK);
    tlf_seg_writer_free(w);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "d.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    const char *want[] = {"b", "a", "c", "", "d"};
    cr_assert_eq(tlf_seg_col(s, 0)->dict_entries, 5);
    for (uint32_t i = 0; i < 5; i++) {
        const uint8_t *e;
        uint32_t el;
        tlf_seg_dict_entry(s, 0, i, &e, &el);
        cr_assert_eq(el, strlen(want[i]));
        cr_assert(el == 0 || memcmp(e, want[i], el) == 0);
    }
    tlf_seg_close(s);
    free(m.p);
}

/* ---- null slots (FMT-R5, FMT-R23) ------------------------------------------ */

/* decode the raw payload of block 0 of column col with the value decoders
 * (no segment-level null zeroing) into out */
static void raw_values(const uint8_t *file, const tlf_block_info *bi, tl_type t, void *out)
{
    tl_error err;
    unsigned w = (unsigned)tl_type_width(t);
    const uint8_t *p = file + bi->offset;
    int s = tl_type_is_signed_int(t), rc;
    cr_assert_eq(bi->compression, TLF_COMP_NONE);
    switch (bi->encoding) {
    case TLF_ENC_FOR: rc = tlf_for_decode(p, bi->payload_len, bi->n_rows, w, s, out, &err); break;
    case TLF_ENC_DELTA: rc = tlf_delta_decode(p, bi->payload_len, bi->n_rows, w, s, out, &err); break;
    case TLF_ENC_RLE: rc = tlf_rle_decode(p, bi->payload_len, bi->n_rows, w, out, &err); break;
    case TLF_ENC_DICT: rc = tlf_fdict_decode(p, bi->payload_len, bi->n_rows, w, out, &err); break;
    case TLF_ENC_SCALED:
        rc = tlf_scaled_decode(p, bi->payload_len, bi->n_rows, w, out, NULL, &err);
        break;
    default: memcpy(out, p, (size_t)bi->n_rows * w); rc = TL_OK; break;
    }
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
}

/* Non-PLAIN blocks store the previous non-null value in a null slot
 * (leading nulls: the first non-null value); PLAIN blocks store 0; every
 * decode returns 0 there. */
/* FMT-R5, FMT-R23 */
Test(segment, null_slots_hold_the_previous_value)
{
    static const uint8_t encs[] = {TLF_ENC_FOR, TLF_ENC_DELTA, TLF_ENC_RLE, TLF_ENC_DICT,
                                   TLF_ENC_PLAIN};
    for (size_t ei = 0; ei < sizeof encs; ei++) {
        tcol c;
        tcol_fill(&c, "x", TL_INT32, encs[ei], TLF_COMP_NONE, D_SMALL, N_NONE, 1000, 3);
        c.valid = calloc(126, 1);
        for (int i = 0; i < 1000; i++)
            tl_bit_set(c.valid, i, i >= 5 && i % 7 != 3 && (i < 600 || i > 640));
        for (int i = 0; i < 1000; i++) /* garbage in null slots: ignored */
            if (!tl_bit_get(c.valid, i))
                ((int32_t *)(void *)c.vals)[i] = 0x5A5A5A5A;
        membuf m = write_cols(&c, 1, 0, 0, NULL, NULL);
        uint8_t *f = aligned_copy(m.p, m.len);
        tlf_seg *s;
        const tlf_block_info *bi;
        tl_error err;
        cr_assert_eq(tlf_seg_open_mem(f, m.len, "n.seg", 0, &s, &err), TL_OK, "%s", err.msg);
        bi = tlf_seg_block(s, 0, 0);
        cr_assert_eq(bi->encoding, encs[ei]);
        int32_t raw[1000];
        raw_values(f, bi, TL_INT32, raw);
        const int32_t *in = (const int32_t *)(const void *)c.vals;
        int32_t prev = in[5];
        for (int i = 0; i < 1000; i++) {
            int present = tl_bit_get(c.valid, i);
            if (present)
                prev = in[i];
            int32_t want = present ? in[i] : encs[ei] == TLF_ENC_PLAIN ? 0 : prev;
            cr_assert_eq(raw[i], want, "%s row %d: stored %d, expected %d",
                         tlf_encoding_name(encs[ei]), i, raw[i], want);
        }
        check_file(f, m.len, &c, 1); /* decoded null slots are 0, zero copy too */
        tlf_seg_close(s);
        free(f);
        free(m.p);
        tcol_free(&c);
    }
}

/* A null here and there does not spoil a grid, a delta or a run: prices
 * with 0.5% nulls cost what prices without nulls cost (plus the bitmap). */
/* FMT-R23 */
Test(segment, nulls_keep_encodings_compact)
{
    for (int t = 0; t < 3; t++) {
        tcol c[2];
        tl_type ty = t == 0 ? TL_FLOAT64 : t == 1 ? TL_TIMESTAMP : TL_INT64;
        tdata d = t == 0 ? D_GRID : t == 1 ? D_SORTED : D_RUNS;
        tcol_fill(&c[0], "a", ty, TLF_ENC_AUTO, TLF_COMP_NONE, d, N_NONE, 16384, 7);
        tcol_fill(&c[1], "b", ty, TLF_ENC_AUTO, TLF_COMP_NONE, d, N_NONE, 16384, 7);
        c[1].valid = malloc(16384 / 8);
        for (int i = 0; i < 16384; i++)
            tl_bit_set(c[1].valid, i, i % 200 != 17);
        membuf m = write_cols(c, 2, 0, 0, NULL, NULL);
        tlf_seg *s;
        tl_error err;
        cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "k.seg", 0, &s, &err), TL_OK, "%s", err.msg);
        const tlf_block_info *a = tlf_seg_block(s, 0, 0), *b = tlf_seg_block(s, 1, 0);
        cr_assert_eq(b->encoding, a->encoding);
        cr_assert_eq(b->null_count, 82);
        /* a repeated value is a zero delta and then a double one: a few
         * miniblocks get a bit wider (zeros would need the full width) */
        cr_assert_leq(b->payload_len, a->payload_len + a->payload_len / 16 + 64,
                      "%s: %u bytes with nulls, %u without", tl_type_name(ty), b->payload_len,
                      a->payload_len);
        tlf_seg_close(s);
        check_file(m.p, m.len, c, 2);
        free(m.p);
        tcol_free(&c[0]);
        tcol_free(&c[1]);
    }
}

/* Strings: a null row repeats the previous code (leading nulls the first
 * one); only an all-null block puts the empty string in the dictionary */
/* FMT-R23 */
Test(segment, null_strings_repeat_codes)
{
    const char *vals[8] = {"", "", "CE", "", "CE", "PE", "", ""};
    const int present[8] = {0, 0, 1, 0, 1, 1, 0, 0};
    uint32_t offs[17];
    char data[64];
    size_t len = 0;
    uint8_t valid[2] = {0, 0};
    offs[0] = 0;
    for (int i = 0; i < 16; i++) { /* block 0: rows 0-7; block 1: all null */
        const char *v = i < 8 ? vals[i] : "x";
        size_t l = strlen(v);
        memcpy(data + len, v, l);
        len += l;
        offs[i + 1] = (uint32_t)len;
        if (i < 8 && present[i])
            tl_bit_set(valid, i, 1);
    }
    tl_coldef def = {"s", TL_STRING};
    tlf_col_opts co = {.encoding = TLF_ENC_DICT, .compression = TLF_COMP_NONE};
    membuf m = {0};
    tlf_writer_opts o = {.block_rows = 8, .col_opts = &co};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v = {.offsets = offs, .data = (const uint8_t *)data, .validity = valid};
    cr_assert_eq(tlf_seg_writer_append(w, &v, 16, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "s.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    /* block 0 adds CE, PE; block 1 (all null) adds "" */
    cr_assert_eq(tlf_seg_col(s, 0)->dict_entries, 3);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    uint32_t codes[8];
    cr_assert_eq(tlf_dict_decode_codes(f + bi->offset, bi->payload_len, 8, 3, codes, &err), TL_OK,
                 "%s", err.msg);
    const uint32_t want[8] = {0, 0, 0, 0, 0, 1, 1, 1};
    cr_assert_eq(memcmp(codes, want, sizeof want), 0);
    cr_assert_eq(f[bi->offset], TLF_ENC_RLE); /* two runs */
    bi = tlf_seg_block(s, 0, 1);
    cr_assert_eq(bi->null_count, 8);
    cr_assert_eq(bi->decoded_bytes, 0);
    uint32_t ob[9];
    tlf_vec out = {.buf = ob, .buf_cap = sizeof ob, .valid_buf = (uint8_t[1]){0}, .valid_cap = 1};
    cr_assert_eq(tlf_seg_decode(s, 0, 1, f + bi->offset, bi->length, 0, &out, &err), TL_OK, "%s",
                 err.msg);
    for (int i = 0; i <= 8; i++)
        cr_assert_eq(out.offsets[i], 0);
    bi = tlf_seg_block(s, 0, 0);
    uint8_t db[8];
    out = (tlf_vec){.buf = ob, .buf_cap = sizeof ob, .data_buf = db, .data_cap = sizeof db,
                    .valid_buf = (uint8_t[1]){0}, .valid_cap = 1};
    cr_assert_eq(bi->decoded_bytes, 6);
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length, 0, &out, &err), TL_OK, "%s",
                 err.msg);
    const uint32_t wo[9] = {0, 0, 0, 2, 2, 4, 6, 6, 6};
    cr_assert_eq(memcmp(out.offsets, wo, sizeof wo), 0);
    cr_assert_eq(memcmp(out.data, "CECEPE", 6), 0);
    tlf_seg_close(s);
    free(f);
    free(m.p);
}

/* Sorted string columns decode run by run (offsets stepped, bytes copied
 * once and doubled): runs of every length, empty and long values, with and
 * without nulls, come back exactly */
Test(segment, dict_string_runs_round_trip)
{
    for (int nl = 0; nl < 2; nl++) {
        tcol c;
        memset(&c, 0, sizeof c);
        snprintf(c.name, sizeof c.name, "s");
        c.type = TL_STRING;
        c.opts = (tlf_col_opts){.encoding = TLF_ENC_DICT, .compression = TLF_COMP_NONE};
        c.n = 20000;
        c.offs = malloc((c.n + 1) * 4);
        c.data = malloc(c.n * 100);
        if (nl) {
            c.valid = malloc(c.n / 8 + 1);
            for (uint64_t i = 0; i < c.n; i++)
                tl_bit_set(c.valid, i, i % 97 != 5);
        }
        static const char *vals[] = {"CE", "", "PE", "x", "a-much-longer-value-of-forty-bytes-ok!!", ""};
        char big[101];
        memset(big, 'B', 100);
        big[100] = 0;
        uint64_t s = 5, len = 0, i = 0;
        c.offs[0] = 0;
        while (i < c.n) {
            uint64_t run = 1 + rnd(&s) % (i % 3 ? 5 : 3000), k = rnd(&s) % 7;
            const char *v = k < 6 ? vals[k] : big;
            size_t l = strlen(v);
            for (uint64_t r = 0; r < run && i < c.n; r++, i++) {
                memcpy(c.data + len, v, l);
                len += l;
                c.offs[i + 1] = (uint32_t)len;
            }
        }
        membuf m = write_cols(&c, 1, 0, 0, NULL, NULL);
        check_file(m.p, m.len, &c, 1);
        free(m.p);
        tcol_free(&c);
    }
}

/* ---- zero copy ------------------------------------------------------------- */

Test(segment, zero_copy_points_into_the_file)
{
    tcol c[3];
    /* half the rows null: the validity is a stored bitmap, used in place */
    tcol_fill(&c[0], "p", TL_FLOAT64, TLF_ENC_PLAIN, TLF_COMP_NONE, D_RANDOM, N_ALT, 5000, 1);
    tcol_fill(&c[1], "s", TL_STRING, TLF_ENC_PLAIN, TLF_COMP_NONE, D_UNIQUE, N_NONE, 5000, 2);
    tcol_fill(&c[2], "i", TL_INT16, TLF_ENC_PLAIN, TLF_COMP_NONE, D_RANDOM, N_NONE, 5000, 3);
    membuf m = write_cols(c, 3, 2048, 0, NULL, NULL);
    uint8_t *f = aligned_copy(m.p, m.len);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "zc.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
        for (uint32_t ci = 0; ci < 3; ci++) {
            const tlf_block_info *bi = tlf_seg_block(s, ci, b);
            const uint8_t *bytes = f + bi->offset;
            tlf_vec v = {0}; /* no scratch at all: zero copy needs none */
            cr_assert_eq(tlf_seg_decode(s, ci, b, bytes, bi->length,
                                        TLF_DECODE_ZERO_COPY | TLF_DECODE_VERIFY, &v, &err),
                         TL_OK, "%s", err.msg);
            if (ci == 1) {
                cr_assert_eq((const uint8_t *)v.offsets, bytes);
                cr_assert_eq(v.data, bytes + 4 * ((size_t)bi->n_rows + 1));
            } else {
                cr_assert_eq(v.values, bytes);
                cr_assert_eq((uintptr_t)v.values % 64, 0);
            }
            if (bi->null_count) {
                cr_assert_eq(bi->validity, TLF_VALID_BITMAP);
                cr_assert_eq(v.validity, bytes + (bi->payload_len + 7) / 8 * 8);
            } else
                cr_assert_null(v.validity);
            check_vec(&c[ci], bi->first_row, &v, ci, b);
            /* without the flag: copies, and scratch is required */
            cr_assert_eq(tlf_seg_decode(s, ci, b, bytes, bi->length, 0, &v, &err), TL_EINVAL);
            cr_assert(strstr(err.msg, "zc.seg") && strstr(err.msg, "scratch"), "%s", err.msg);
            /* misaligned bytes (as from a caller buffer): falls back to a copy */
            uint8_t *mis = malloc(bi->length + 1);
            memcpy(mis + 1, bytes, bi->length);
            size_t nb, nd, nv;
            tlf_seg_decode_needs(s, ci, b, &nb, &nd, &nv);
            tscratch t = {0};
            tscratch_fit(&t, nb, nd, nv + 1);
            tlf_vec v2 = {.buf = t.buf, .buf_cap = nb, .data_buf = t.data, .data_cap = nd,
                          .valid_buf = t.valid, .valid_cap = nv};
            cr_assert_eq(tlf_seg_decode(s, ci, b, mis + 1, bi->length, TLF_DECODE_ZERO_COPY,
                                        &v2, &err),
                         TL_OK, "%s", err.msg);
            if (ci == 1)
                cr_assert_eq(v2.offsets, t.buf);
            else if (ci == 0)
                cr_assert_eq(v2.values, t.buf);
            check_vec(&c[ci], bi->first_row, &v2, ci, b);
            tscratch_free(&t);
            free(mis);
        }
    }
    tlf_seg_close(s);
    free(f);
    free(m.p);
    for (int i = 0; i < 3; i++)
        tcol_free(&c[i]);
}

/* ---- validity forms (FMT-R24) ---------------------------------------------- */

/* nulls at rows i with i % every == phase */
static void sparse_nulls(tcol *c, uint64_t every, uint64_t phase)
{
    free(c->valid);
    c->valid = malloc((c->n + 7) / 8 + 1);
    cr_assert(c->valid);
    for (uint64_t i = 0; i < c->n; i++)
        tl_bit_set(c->valid, i, i % every != phase);
}

/* the validity section of a block, as stored */
static const uint8_t *stored_validity(const uint8_t *file, const tlf_block_info *bi)
{
    return file + bi->offset + (bi->payload_len + 7) / 8 * 8;
}

/* A block with few nulls stores their row numbers (u16 up to 65536 rows)
 * instead of the bitmap, in increasing order; the length formula (FMT-R9)
 * counts them; decoding hands out the bitmap all the same. */
/* FMT-R24 */
Test(segment, sparse_nulls_stored_as_positions)
{
    tcol c[3];
    uint64_t n = 16384 + 200;
    tcol_fill(&c[0], "bid", TL_FLOAT64, TLF_ENC_AUTO, TLF_COMP_NONE, D_GRID, N_NONE, n, 1);
    tcol_fill(&c[1], "bq", TL_INT32, TLF_ENC_AUTO, TLF_COMP_AUTO, D_LOTS, N_NONE, n, 2);
    tcol_fill(&c[2], "s", TL_STRING, TLF_ENC_AUTO, TLF_COMP_NONE, D_LOWCARD, N_NONE, n, 3);
    for (int i = 0; i < 3; i++)
        sparse_nulls(&c[i], 250, 3);
    membuf m = write_cols(c, 3, 0, 0, NULL, NULL);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "v.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    for (uint32_t ci = 0; ci < 3; ci++) {
        for (uint32_t b = 0; b < 2; b++) {
            const tlf_block_info *bi = tlf_seg_block(s, ci, b);
            uint32_t want_nulls = b == 0 ? 66 : 1; /* rows 3, 253, ... */
            cr_assert_eq(bi->null_count, want_nulls);
            cr_assert_eq(bi->validity, TLF_VALID_POSITIONS, "col %u blk %u", ci, b);
            cr_assert_eq(bi->length, (bi->payload_len + 7) / 8 * 8 + 2 * (uint64_t)want_nulls);
            const uint8_t *p = stored_validity(f, bi);
            for (uint32_t k = 0; k < want_nulls; k++) {
                uint64_t row = bi->first_row + tlf_ld16(p + 2 * k);
                cr_assert_eq(row % 250, 3, "col %u blk %u null %u: row %llu", ci, b, k,
                             (unsigned long long)row);
                if (k)
                    cr_assert_gt(tlf_ld16(p + 2 * k), tlf_ld16(p + 2 * k - 2));
            }
        }
    }
    tlf_seg_close(s);
    check_file(f, m.len, c, 3); /* bitmaps out, every open path, zero copy */
    free(f);
    free(m.p);
    for (int i = 0; i < 3; i++)
        tcol_free(&c[i]);
}

/* Positions are used only when strictly smaller than the bitmap: a block
 * of 64 rows has an 8-byte bitmap, so 3 nulls (6 bytes) are positions and
 * 4 nulls (8 bytes) a bitmap. */
/* FMT-R24 */
Test(segment, positions_only_when_smaller)
{
    for (int nulls = 0; nulls <= 5; nulls++) {
        tcol c;
        tcol_fill(&c, "x", TL_INT16, TLF_ENC_PLAIN, TLF_COMP_NONE, D_SMALL, N_NONE, 64, 4);
        if (nulls) {
            c.valid = malloc(8);
            memset(c.valid, 0xFF, 8);
            for (int k = 0; k < nulls; k++)
                tl_bit_set(c.valid, (uint64_t)(63 - 13 * k), 0);
        }
        membuf m = write_cols(&c, 1, 64, 0, NULL, NULL);
        tlf_seg *s;
        tl_error err;
        cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "t.seg", 0, &s, &err), TL_OK, "%s", err.msg);
        const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
        int want = nulls == 0   ? TLF_VALID_BITMAP /* 0: no section at all */
                   : nulls <= 3 ? TLF_VALID_POSITIONS
                                : TLF_VALID_BITMAP;
        cr_assert_eq(bi->validity, want, "%d nulls: validity %u", nulls, bi->validity);
        cr_assert_eq(bi->length, 128 + (nulls == 0 ? 0 : nulls <= 3 ? 2 * nulls : 8));
        tlf_seg_close(s);
        check_file(m.p, m.len, &c, 1);
        free(m.p);
        tcol_free(&c);
    }
}

/* Past 65536 rows a position takes 4 bytes; at exactly 65536 rows the last
 * row (65535) still fits 2. */
/* FMT-R24 */
Test(segment, positions_widen_past_65536_rows)
{
    static const uint32_t rows[] = {65536, 65537, 100000};
    for (int r = 0; r < 3; r++) {
        tcol c;
        uint32_t n = rows[r];
        tcol_fill(&c, "x", TL_INT32, TLF_ENC_AUTO, TLF_COMP_NONE, D_RUNS, N_NONE, n, 5);
        c.valid = malloc((n + 7) / 8);
        memset(c.valid, 0xFF, (n + 7) / 8);
        uint32_t nulls[] = {0, 1, 40000, n - 2, n - 1};
        for (int k = 0; k < 5; k++)
            tl_bit_set(c.valid, nulls[k], 0);
        membuf m = write_cols(&c, 1, n, 0, NULL, NULL);
        uint8_t *f = aligned_copy(m.p, m.len);
        tlf_seg *s;
        tl_error err;
        cr_assert_eq(tlf_seg_open_mem(f, m.len, "w.seg", 0, &s, &err), TL_OK, "%s", err.msg);
        const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
        unsigned pw = n <= 65536 ? 2 : 4;
        cr_assert_eq(bi->validity, TLF_VALID_POSITIONS);
        cr_assert_eq(bi->length, (bi->payload_len + 7) / 8 * 8 + 5 * pw);
        const uint8_t *p = stored_validity(f, bi);
        for (int k = 0; k < 5; k++)
            cr_assert_eq(pw == 2 ? tlf_ld16(p + 2 * k) : tlf_ld32(p + 4 * k), nulls[k]);
        tlf_seg_close(s);
        check_file(f, m.len, &c, 1);
        free(f);
        free(m.p);
        tcol_free(&c);
    }
}

/* tlf_seg_validity: the bitmap without decoding the values */
Test(segment, validity_accessor)
{
    tcol c[3];
    tcol_fill(&c[0], "none", TL_INT64, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_NONE, 1000, 1);
    tcol_fill(&c[1], "dense", TL_INT64, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_ALT, 1000, 2);
    tcol_fill(&c[2], "sparse", TL_INT64, TLF_ENC_RLE, TLF_COMP_ZSTD, D_RUNS, N_NONE, 1000, 3);
    sparse_nulls(&c[2], 100, 7);
    membuf m = write_cols(c, 3, 0, 0, NULL, NULL);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "v.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    uint8_t buf[125];
    const uint8_t *vb = (const uint8_t *)"x";
    for (uint32_t ci = 0; ci < 3; ci++) {
        const tlf_block_info *bi = tlf_seg_block(s, ci, 0);
        const uint8_t *bytes = f + bi->offset;
        memset(buf, 0xAA, sizeof buf);
        cr_assert_eq(tlf_seg_validity(s, ci, 0, bytes, bi->length, buf, sizeof buf, &vb, &err),
                     TL_OK, "%s", err.msg);
        if (ci == 0) {
            cr_assert_null(vb);
            continue;
        }
        cr_assert_eq(bi->validity, ci == 1 ? TLF_VALID_BITMAP : TLF_VALID_POSITIONS);
        cr_assert_eq(vb, ci == 1 ? stored_validity(f, bi) : buf); /* in place / expanded */
        for (uint32_t i = 0; i < 1000; i++)
            cr_assert_eq(tl_bit_get(vb, i), tl_bit_get(c[ci].valid, i), "col %u row %u", ci, i);
        if (ci == 2) {
            /* positions need the scratch */
            cr_assert_eq(tlf_seg_validity(s, ci, 0, bytes, bi->length, buf, 124, &vb, &err),
                         TL_EINVAL);
            cr_assert(strstr(err.msg, "v.seg: column 'sparse' (2), block 0") &&
                          strstr(err.msg, "validity scratch of 124 bytes, 125 needed"),
                      "%s", err.msg);
            cr_assert_null(vb);
            tlf_vec v = {0}; /* zero copy with no validity scratch: refused too */
            cr_assert_eq(tlf_seg_decode(s, ci, 0, bytes, bi->length, TLF_DECODE_ZERO_COPY, &v,
                                        &err),
                         TL_EINVAL);
            cr_assert(strstr(err.msg, "validity scratch"), "%s", err.msg);
        }
        cr_assert_eq(tlf_seg_validity(s, ci, 0, bytes, bi->length - 1, buf, sizeof buf, &vb,
                                      &err),
                     TL_EINVAL);
        cr_assert(strstr(err.msg, "v.seg") && strstr(err.msg, "bytes given"), "%s", err.msg);
    }
    cr_assert_eq(tlf_seg_validity(s, 3, 0, f, 1, buf, sizeof buf, &vb, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "out of range"), "%s", err.msg);
    cr_assert_eq(tlf_seg_validity(s, 0, 0, f, 1, buf, sizeof buf, NULL, &err), TL_EINVAL);
    tlf_seg_close(s);
    free(f);
    free(m.p);
    for (int i = 0; i < 3; i++)
        tcol_free(&c[i]);
}

/* ---- runs of DICT codes ------------------------------------------------------ */

/* Sorted keys written DICT with RLE codes expose their runs without a
 * decode: codes into the column dictionary (strings) or the block
 * dictionary (tlf_seg_block_dict), with nulls repeating a neighbour. */
/* FMT-R19 */
Test(segment, runs_of_dict_codes)
{
    enum { N = 3000 };
    tcol c[5];
    /* opt: CE for rows < 1000, PE after, a null at row 1500 */
    memset(&c[0], 0, sizeof c[0]);
    snprintf(c[0].name, sizeof c[0].name, "opt");
    c[0].type = TL_STRING;
    c[0].opts = (tlf_col_opts){TLF_ENC_AUTO, TLF_COMP_NONE, 1};
    c[0].n = N;
    c[0].offs = malloc((N + 1) * 4);
    c[0].data = malloc(2 * N);
    c[0].offs[0] = 0;
    for (uint32_t i = 0; i < N; i++) {
        memcpy(c[0].data + 2 * i, i < 1000 ? "CE" : "PE", 2);
        c[0].offs[i + 1] = 2 * (i + 1);
    }
    sparse_nulls(&c[0], N, 1500);
    tcol_fill(&c[1], "lvl", TL_INT32, TLF_ENC_DICT, TLF_COMP_NONE, D_RUNS, N_NONE, N, 2);
    tcol_fill(&c[2], "rand", TL_STRING, TLF_ENC_DICT, TLF_COMP_NONE, D_LOWCARD, N_NONE, N, 3);
    tcol_fill(&c[3], "z", TL_INT32, TLF_ENC_DICT, TLF_COMP_ZSTD, D_RUNS, N_NONE, N, 4);
    tcol_fill(&c[4], "r", TL_INT64, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_NONE, N, 5);
    membuf m = write_cols(c, 5, 2048, 0, NULL, NULL);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "d.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    uint32_t nr;
    const void *rv;
    const uint32_t *re;
    /* strings: CE, then PE (the null's slot repeats PE), in block 0 */
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->encoding, TLF_ENC_DICT);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, f + bi->offset, bi->length, &nr, &rv, &re, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(nr, 2);
    cr_assert_eq(re[0], 1000);
    cr_assert_eq(re[1], 2048);
    const uint32_t *codes = rv;
    const uint8_t *e;
    uint32_t el;
    tlf_seg_dict_entry(s, 0, codes[0], &e, &el);
    cr_assert(el == 2 && memcmp(e, "CE", 2) == 0);
    tlf_seg_dict_entry(s, 0, codes[1], &e, &el);
    cr_assert(el == 2 && memcmp(e, "PE", 2) == 0);
    /* block 1 holds only PE rows: one run */
    bi = tlf_seg_block(s, 0, 1);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 1, f + bi->offset, bi->length, &nr, &rv, &re, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(nr, 1);
    cr_assert_eq(re[0], N - 2048);
    cr_assert_eq(((const uint32_t *)rv)[0], codes[1]);
    /* fixed width: the codes index the block dictionary */
    bi = tlf_seg_block(s, 1, 0);
    cr_assert_eq(bi->encoding, TLF_ENC_DICT);
    uint32_t nd;
    const void *dict;
    cr_assert_eq(tlf_seg_block_dict(s, 1, 0, f + bi->offset, bi->length, &nd, &dict, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(dict, f + bi->offset + 8);
    cr_assert_eq(tlf_seg_rle_runs(s, 1, 0, f + bi->offset, bi->length, &nr, &rv, &re, &err),
                 TL_OK, "%s", err.msg);
    const int32_t *in = (const int32_t *)(const void *)c[1].vals;
    for (uint32_t r = 0, j = 0; r < nr; r++) {
        uint32_t code = ((const uint32_t *)rv)[r];
        cr_assert_lt(code, nd);
        for (; j < re[r]; j++)
            cr_assert_eq(((const int32_t *)dict)[code], in[j], "row %u", j);
    }
    /* bit-packed codes, compressed blocks and other encodings: no runs view */
    bi = tlf_seg_block(s, 2, 0);
    cr_assert_eq(tlf_seg_rle_runs(s, 2, 0, f + bi->offset, bi->length, &nr, &rv, &re, &err),
                 TL_EUNSUPPORTED);
    cr_assert(strstr(err.msg, "d.seg: column 'rand' (2), block 0, byte offset") &&
                  strstr(err.msg, "rle_runs: dict: codes at payload offset 0 are bit-packed"),
              "%s", err.msg);
    bi = tlf_seg_block(s, 3, 0);
    cr_assert_eq(tlf_seg_rle_runs(s, 3, 0, f + bi->offset, bi->length, &nr, &rv, &re, &err),
                 TL_EUNSUPPORTED);
    cr_assert(strstr(err.msg, "column 'z' (3)") && strstr(err.msg, "dict/zstd"), "%s", err.msg);
    cr_assert_eq(tlf_seg_block_dict(s, 3, 0, f + bi->offset, bi->length, &nd, &dict, &err),
                 TL_EUNSUPPORTED);
    /* block_dict: strings use the column dictionary; RLE has none */
    bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(tlf_seg_block_dict(s, 0, 0, f + bi->offset, bi->length, &nd, &dict, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "column 'opt' (0)") && strstr(err.msg, "tlf_seg_dict_entry"), "%s",
              err.msg);
    bi = tlf_seg_block(s, 4, 0);
    cr_assert_eq(tlf_seg_block_dict(s, 4, 0, f + bi->offset, bi->length, &nd, &dict, &err),
                 TL_EUNSUPPORTED);
    cr_assert(strstr(err.msg, "block is rle, not dict"), "%s", err.msg);
    /* misaligned bytes, wrong length */
    bi = tlf_seg_block(s, 1, 0);
    uint8_t *mis = malloc(bi->length + 2);
    memcpy(mis + 2, f + bi->offset, bi->length);
    cr_assert_eq(tlf_seg_block_dict(s, 1, 0, mis + 2, bi->length, &nd, &dict, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "4-byte aligned"), "%s", err.msg);
    cr_assert_eq(tlf_seg_rle_runs(s, 1, 0, mis + 2, bi->length, &nr, &rv, &re, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "4-byte aligned"), "%s", err.msg);
    free(mis);
    cr_assert_eq(tlf_seg_block_dict(s, 1, 0, f + bi->offset, bi->length - 1, &nd, &dict, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "block_dict:") && strstr(err.msg, "bytes given"), "%s", err.msg);
    cr_assert_eq(tlf_seg_block_dict(s, 1, 9, f, 1, &nd, &dict, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "out of range"), "%s", err.msg);
    cr_assert_eq(tlf_seg_block_dict(s, 1, 0, f, 1, NULL, &dict, &err), TL_EINVAL);
    tlf_seg_close(s);
    check_file(f, m.len, c, 5);
    free(f);
    free(m.p);
    for (int i = 0; i < 5; i++)
        tcol_free(&c[i]);
}

/* ---- metadata --------------------------------------------------------------- */

Test(segment, metadata_round_trip)
{
    tcol c;
    tcol_fill(&c, "a", TL_INT32, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SMALL, N_NONE, 10, 1);
    const char *kv[] = {"table", "ticks", "partition", "2025-11-17/NIFTY", "empty", "",
                        "table", "ticks2", NULL};
    membuf m = write_cols(&c, 1, 0, 0, kv, NULL);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "m.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    const uint8_t *v;
    uint32_t vl;
    cr_assert_eq(tlf_seg_meta(s, "table", &v, &vl), TL_OK);
    cr_assert_eq(vl, 6);
    cr_assert(memcmp(v, "ticks2", 6) == 0); /* set again: last value wins */
    cr_assert_eq(tlf_seg_meta(s, "partition", &v, &vl), TL_OK);
    cr_assert_eq(vl, strlen("2025-11-17/NIFTY"));
    cr_assert_eq(tlf_seg_meta(s, "empty", &v, &vl), TL_OK);
    cr_assert_eq(vl, 0);
    cr_assert_eq(tlf_seg_meta(s, "tabl", &v, &vl), TL_ENOTFOUND);
    cr_assert_eq(tlf_seg_meta(s, "nope", &v, &vl), TL_ENOTFOUND);
    tlf_seg_close(s);
    free(m.p);
    tcol_free(&c);
}

Test(segment, metadata_binary_values)
{
    tl_coldef def = {"a", TL_INT8};
    membuf m = {0};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, NULL, (tlf_sink){membuf_write, &m}, &w, &err),
                 TL_OK);
    uint8_t bin[300];
    for (int i = 0; i < 300; i++)
        bin[i] = (uint8_t)i;
    cr_assert_eq(tlf_seg_writer_set_meta(w, "bin", bin, 300, &err), TL_OK);
    cr_assert_eq(tlf_seg_writer_set_meta(w, "", "x", 1, &err), TL_OK);
    cr_assert_eq(tlf_seg_writer_set_meta(w, NULL, "x", 1, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "m.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    const uint8_t *v;
    uint32_t vl;
    cr_assert_eq(tlf_seg_meta(s, "bin", &v, &vl), TL_OK);
    cr_assert_eq(vl, 300);
    cr_assert(memcmp(v, bin, 300) == 0);
    cr_assert_eq(tlf_seg_meta(s, "", &v, &vl), TL_OK);
    cr_assert_eq(vl, 1);
    tlf_seg_close(s);
    free(m.p);
}

/* ---- writer errors ----------------------------------------------------------- */

static int open_err(const tl_coldef *d, uint32_t n, const tlf_writer_opts *o, tl_error *err)
{
    membuf m = {0};
    tlf_seg_writer *w = (tlf_seg_writer *)&m; /* must be reset to NULL on failure */
    int rc = tlf_seg_writer_open(d, n, o, (tlf_sink){membuf_write, &m}, &w, err);
    if (rc == TL_OK)
        tlf_seg_writer_free(w);
    else
        cr_assert_null(w);
    free(m.p);
    return rc;
}

Test(segment, writer_open_rejects_bad_arguments)
{
    tl_error err;
    tl_coldef ok[2] = {{"a", TL_INT32}, {"b", TL_STRING}};
    cr_assert_eq(open_err(ok, 0, NULL, &err), TL_EINVAL);
    cr_assert_eq(open_err(NULL, 1, NULL, &err), TL_EINVAL);
    tl_coldef dup[2] = {{"a", TL_INT32}, {"a", TL_STRING}};
    cr_assert_eq(open_err(dup, 2, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "duplicate") && strstr(err.msg, "'a'"), "%s", err.msg);
    tl_coldef empty[1] = {{"", TL_INT32}};
    cr_assert_eq(open_err(empty, 1, NULL, &err), TL_EINVAL);
    tl_coldef noname[1] = {{NULL, TL_INT32}};
    cr_assert_eq(open_err(noname, 1, NULL, &err), TL_EINVAL);
    char longname[TLF_MAX_NAME_LEN + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    tl_coldef lng[1] = {{longname, TL_INT32}};
    cr_assert_eq(open_err(lng, 1, NULL, &err), TL_EINVAL);
    longname[TLF_MAX_NAME_LEN] = 0; /* exactly the maximum is fine */
    cr_assert_eq(open_err(lng, 1, NULL, &err), TL_OK, "%s", err.msg);
    tl_coldef badt[1] = {{"a", (tl_type)0}};
    cr_assert_eq(open_err(badt, 1, NULL, &err), TL_EINVAL);
    badt[0].type = (tl_type)16;
    cr_assert_eq(open_err(badt, 1, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "type 16"), "%s", err.msg);
    tl_coldef *many = calloc(TLF_MAX_COLUMNS + 1, sizeof *many);
    cr_assert_eq(open_err(many, TLF_MAX_COLUMNS + 1, NULL, &err), TL_EINVAL);
    free(many);
    tlf_writer_opts o = {.block_rows = TLF_MAX_BLOCK_ROWS + 1};
    cr_assert_eq(open_err(ok, 2, &o, &err), TL_EINVAL);
    o = (tlf_writer_opts){.zstd_level = 1000};
    cr_assert_eq(open_err(ok, 2, &o, &err), TL_EINVAL);
    /* forced encodings that do not apply to the type */
    struct { tl_type t; uint8_t enc; } bad[] = {
        {TL_INT32, TLF_ENC_SCALED},  {TL_FLOAT64, TLF_ENC_FOR}, {TL_FLOAT32, TLF_ENC_DELTA},
        {TL_INT64, TLF_ENC_SCALED},  {TL_STRING, TLF_ENC_RLE},  {TL_STRING, TLF_ENC_FOR},
        {TL_STRING, TLF_ENC_SCALED}, {TL_BOOL, TLF_ENC_DICT},   {TL_INT8, 6},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tl_coldef d = {"col", bad[i].t};
        tlf_col_opts co = {.encoding = bad[i].enc, .compression = TLF_COMP_AUTO};
        o = (tlf_writer_opts){.col_opts = &co};
        cr_assert_eq(open_err(&d, 1, &o, &err), TL_EINVAL, "case %zu", i);
        cr_assert(strstr(err.msg, "'col'"), "%s", err.msg);
    }
    /* DICT applies to every type but bool (strings: column dictionary) */
    const tl_type dict_ok[] = {TL_INT8, TL_UINT16, TL_INT32, TL_UINT64, TL_FLOAT32, TL_FLOAT64,
                               TL_TIMESTAMP, TL_DATE, TL_STRING};
    for (size_t i = 0; i < sizeof dict_ok / sizeof dict_ok[0]; i++) {
        tl_coldef d = {"col", dict_ok[i]};
        tlf_col_opts co = {.encoding = TLF_ENC_DICT, .compression = TLF_COMP_AUTO};
        o = (tlf_writer_opts){.col_opts = &co};
        cr_assert_eq(open_err(&d, 1, &o, &err), TL_OK, "%s: %s", tl_type_name(dict_ok[i]), err.msg);
    }
    tlf_col_opts co2[2] = {{.encoding = TLF_ENC_AUTO, .compression = 7},
                           {.encoding = TLF_ENC_AUTO, .compression = TLF_COMP_AUTO}};
    o = (tlf_writer_opts){.col_opts = co2};
    cr_assert_eq(open_err(ok, 2, &o, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_writer_open(ok, 2, NULL, (tlf_sink){NULL, NULL}, &(tlf_seg_writer *){0},
                                     &err),
                 TL_EINVAL);
}

Test(segment, writer_refuses_calls_after_an_error)
{
    tl_coldef d[2] = {{"a", TL_INT32}, {"s", TL_STRING}};
    membuf m = {0};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(d, 2, NULL, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    int32_t vals[3] = {1, 2, 3};
    uint32_t offs[4] = {0, 5, 3, 6}; /* not monotonic */
    tl_colvec v[2] = {{.values = vals}, {.offsets = offs, .data = (const uint8_t *)"abcdef"}};
    cr_assert_eq(tlf_seg_writer_append(w, v, 3, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'s'") && strstr(err.msg, "monotonic"), "%s", err.msg);
    offs[2] = 5;
    cr_assert_eq(tlf_seg_writer_append(w, v, 3, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "earlier failure"), "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_set_meta(w, "k", "v", 1, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_EINVAL);
    tlf_seg_writer_free(w);
    free(m.p);

    /* NULL values and NULL offsets */
    m = (membuf){0};
    cr_assert_eq(tlf_seg_writer_open(d, 2, NULL, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec nv[2] = {{.values = NULL}, {.offsets = offs, .data = (const uint8_t *)"abcdef"}};
    cr_assert_eq(tlf_seg_writer_append(w, nv, 3, &err), TL_EINVAL);
    tlf_seg_writer_free(w);
    free(m.p);

    /* after finish */
    m = (membuf){0};
    cr_assert_eq(tlf_seg_writer_open(d, 2, NULL, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    cr_assert_eq(tlf_seg_writer_append(w, v, 3, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_append(w, v, 0, &err), TL_OK);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK);
    cr_assert_eq(tlf_seg_writer_append(w, v, 3, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_EINVAL);
    tlf_seg_writer_free(w);
    free(m.p);
    tlf_seg_writer_free(NULL);
}

/* A failing sink at every point of the file: the error comes back, with
 * the sink's message, and the writer refuses further calls. */
Test(segment, sink_errors_propagate)
{
    tcol c[4];
    small_schema(c, 300, N_ALT);
    membuf full = write_cols(c, 4, 100, 0, NULL, NULL);
    tl_coldef defs[4];
    for (int i = 0; i < 4; i++)
        defs[i] = (tl_coldef){c[i].name, c[i].type};
    tl_colvec v[4] = {{.values = c[0].vals, .validity = c[0].valid},
                      {.values = c[1].vals, .validity = c[1].valid},
                      {.offsets = c[2].offs, .data = c[2].data, .validity = c[2].valid},
                      {.values = c[3].vals, .validity = c[3].valid}};
    for (size_t cut = 1; cut < full.len; cut += 7) {
        membuf m = {.fail_after = cut};
        tlf_seg_writer *w = NULL;
        tl_error err = {0};
        tlf_writer_opts o = {.block_rows = 100};
        int rc = tlf_seg_writer_open(defs, 4, &o, (tlf_sink){membuf_write, &m}, &w, &err);
        if (rc == TL_OK) {
            rc = tlf_seg_writer_append(w, v, 300, &err);
            if (rc == TL_OK)
                rc = tlf_seg_writer_finish(w, NULL, &err);
            else
                cr_assert_eq(tlf_seg_writer_finish(w, NULL, &(tl_error){0}), TL_EINVAL);
        }
        cr_assert_eq(rc, TL_EIO, "cut %zu: rc %d", cut, rc);
        cr_assert(strstr(err.msg, "injected failure") && strstr(err.msg, "file offset"), "%s",
                  err.msg);
        tlf_seg_writer_free(w);
        free(m.p);
    }
    free(full.p);
    for (int i = 0; i < 4; i++)
        tcol_free(&c[i]);
}

/* ---- decode API errors ------------------------------------------------------ */

Test(segment, decode_argument_errors)
{
    tcol c[2];
    tcol_fill(&c[0], "r", TL_INT64, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_ALT, 1000, 1);
    tcol_fill(&c[1], "s", TL_STRING, TLF_ENC_DICT, TLF_COMP_NONE, D_LOWCARD, N_NONE, 1000, 2);
    membuf m = write_cols(c, 2, 0, 0, NULL, NULL);
    uint8_t *f = aligned_copy(m.p, m.len);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "a.seg", 0, &s, &err), TL_OK);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    size_t nb, nd, nv;
    tlf_seg_decode_needs(s, 0, 0, &nb, &nd, &nv);
    cr_assert_eq(nb, 8000);
    cr_assert_eq(nd, 0);
    cr_assert_eq(nv, 125);
    tlf_seg_decode_needs(s, 1, 0, &nb, &nd, &nv);
    cr_assert_eq(nb, 4004);
    cr_assert_eq(nd, tlf_seg_block(s, 1, 0)->decoded_bytes);
    cr_assert_eq(nv, 0);
    uint64_t *buf = malloc(8000);
    uint8_t valid[125];
    tlf_vec v = {.buf = buf, .buf_cap = 8000, .valid_buf = valid, .valid_cap = 125};
    /* wrong length */
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length - 1, 0, &v, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "a.seg") && strstr(err.msg, "byte offset"), "%s", err.msg);
    /* out of range */
    cr_assert_eq(tlf_seg_decode(s, 2, 0, f, 1, 0, &v, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_decode(s, 0, 1, f, 1, 0, &v, &err), TL_EINVAL);
    /* scratch too small */
    v.buf_cap = 7999;
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length, 0, &v, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "values scratch of 7999 bytes, 8000 needed"), "%s", err.msg);
    v.buf_cap = 8000;
    v.valid_cap = 124;
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length, 0, &v, &err), TL_EINVAL);
    v.valid_cap = 125;
    /* misaligned scratch */
    v.buf = (uint8_t *)buf + 1;
    v.buf_cap = 7999;
    tlf_vec v2 = v;
    v2.buf_cap = 8000;
    v2.buf = malloc(8001);
    v2.buf = (uint8_t *)v2.buf + 1;
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length, 0, &v2, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "aligned"), "%s", err.msg);
    free((uint8_t *)v2.buf - 1);
    v.buf = buf;
    v.buf_cap = 8000;
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length, TLF_DECODE_VERIFY, &v,
                                &err),
                 TL_OK, "%s", err.msg);
    /* string scratch too small */
    const tlf_block_info *sb = tlf_seg_block(s, 1, 0);
    uint8_t *data = malloc(sb->decoded_bytes);
    tlf_vec vs = {.buf = buf, .buf_cap = 8000, .data_buf = data, .data_cap = sb->decoded_bytes - 1};
    cr_assert_eq(tlf_seg_decode(s, 1, 0, f + sb->offset, sb->length, 0, &vs, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "column 's'"), "%s", err.msg);
    vs.data_cap = sb->decoded_bytes;
    cr_assert_eq(tlf_seg_decode(s, 1, 0, f + sb->offset, sb->length, 0, &vs, &err), TL_OK,
                 "%s", err.msg);
    /* rle_runs */
    uint32_t nr;
    const void *rv;
    const uint32_t *re;
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, f + bi->offset, bi->length, &nr, &rv, &re, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(re[nr - 1], 1000);
    cr_assert_eq(tlf_seg_rle_runs(s, 1, 0, f + sb->offset, sb->length, &nr, &rv, &re, &err),
                 TL_EUNSUPPORTED); /* random symbols: bit-packed codes */
    cr_assert(strstr(err.msg, "bit-packed"), "%s", err.msg);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, f + bi->offset, bi->length + 1, &nr, &rv, &re, &err),
                 TL_EINVAL);
    tlf_seg_close(s);

    /* verify_all needs the whole file */
    uint64_t fo, fl;
    cr_assert_eq(tlf_seg_parse_trailer(f + m.len - 40, m.len, "a.seg", &fo, &fl, &err), TL_OK);
    cr_assert_eq(tlf_seg_open_footer(f + fo, fl, f + m.len - 40, m.len, "a.seg", &s, &err),
                 TL_OK);
    cr_assert_eq(tlf_seg_verify_all(s, &err), TL_EINVAL);
    tlf_seg_close(s);
    cr_assert_eq(tlf_seg_open_footer(f + fo, fl - 1, f + m.len - 40, m.len, "a.seg", &s, &err),
                 TL_EINVAL);
    free(data);
    free(buf);
    free(f);
    free(m.p);
    tcol_free(&c[0]);
    tcol_free(&c[1]);
}

Test(segment, names)
{
    cr_assert_str_eq(tlf_encoding_name(TLF_ENC_PLAIN), "plain");
    cr_assert_str_eq(tlf_encoding_name(TLF_ENC_RLE), "rle");
    cr_assert_str_eq(tlf_encoding_name(TLF_ENC_DICT), "dict");
    cr_assert_str_eq(tlf_encoding_name(TLF_ENC_FOR), "for");
    cr_assert_str_eq(tlf_encoding_name(TLF_ENC_DELTA), "delta");
    cr_assert_str_eq(tlf_encoding_name(TLF_ENC_SCALED), "scaled");
    cr_assert_str_eq(tlf_encoding_name(77), "?");
    cr_assert_str_eq(tlf_compression_name(TLF_COMP_NONE), "none");
    cr_assert_str_eq(tlf_compression_name(TLF_COMP_ZSTD), "zstd");
    cr_assert_str_eq(tlf_compression_name(9), "?");
}

/* The layout constants the spec is written from. */
/* FMT-R1, FMT-R6, FMT-R8 */
Test(segment, header_and_trailer_bytes)
{
    tcol c;
    tcol_fill(&c, "a", TL_INT32, TLF_ENC_PLAIN, TLF_COMP_NONE, D_SMALL, N_NONE, 100, 1);
    membuf m = write_cols(&c, 1, 64, 0, NULL, NULL);
    cr_assert(memcmp(m.p, "\x89TLSEG\r\n", 8) == 0);
    cr_assert_eq(tlf_ld16(m.p + 8), 1);
    cr_assert_eq(tlf_ld16(m.p + 10), 0);
    cr_assert_eq(tlf_ld32(m.p + 12), 0);
    cr_assert_eq(tlf_ld32(m.p + 16), 1);
    cr_assert_eq(tlf_ld32(m.p + 20), 64);
    const uint8_t *t = m.p + m.len - 40;
    cr_assert(memcmp(t + 32, "\x89TLSEG\r\n", 8) == 0);
    uint64_t fo = tlf_ld64(t), fl = tlf_ld64(t + 8);
    cr_assert_eq(fo + fl, m.len - 40);
    cr_assert_eq(fo % 8, 0);
    /* one block of 64 rows x 4 bytes at 64, then one of 36 rows at 320 */
    cr_assert_eq(fo, tlf_align_up(64 + 256 + 144, 8));
    cr_assert_eq(tlf_ld32(m.p + fo + TLF_FH_LEN), TLF_FH_SIZE);
    cr_assert_eq(tlf_ld32(m.p + fo + TLF_FH_ENTRY_SIZE), TLF_ENTRY_SIZE);
    free(m.p);
    tcol_free(&c);
}

/* FMT-R25: a file with a timestamp_us column is version 1.1 (header and
 * trailer), one without stays 1.0; a 1.0 reader, which knows type ids
 * 1..14 only, meets type 15 in the schema record and rejects the file at
 * open (section 8, item 7); this reader rejects type 15 in a file that says
 * 1.0. Values, zone maps and encodings are those of int64. */
Test(segment, timestamp_us_files_are_version_1_1)
{
    tcol c[2];
    tcol_fill(&c[0], "a", TL_INT32, TLF_ENC_AUTO, TLF_COMP_AUTO, D_SMALL, N_NONE, 300, 1);
    tcol_fill(&c[1], "t", TL_TIMESTAMP_US, TLF_ENC_AUTO, TLF_COMP_AUTO, D_EDGE, N_RAND5, 300, 2);
    membuf m = write_cols(c, 2, 64, 0, NULL, NULL);
    cr_assert_eq(tlf_ld16(m.p + 8), 1);
    cr_assert_eq(tlf_ld16(m.p + 10), TLF_VMINOR_TIMESTAMP_US);
    cr_assert_eq(TLF_VMINOR_TIMESTAMP_US, 1);
    const uint8_t *t = m.p + m.len - 40;
    cr_assert_eq(tlf_ld16(t + 24), 1);
    cr_assert_eq(tlf_ld16(t + 26), 1);
    uint8_t *f = aligned_copy(m.p, m.len);
    check_file(f, m.len, c, 2);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "us.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(tlf_seg_version_minor(s), 1);
    cr_assert_eq(tlf_seg_col(s, 1)->type, TL_TIMESTAMP_US);
    tlf_seg_close(s);
    /* the schema record's type byte is 15, above what a 1.0 reader knows */
    uint64_t fo = tlf_ld64(t);
    uint64_t so = tlf_ld64(f + fo + TLF_FH_SECTIONS);
    cr_assert_eq(f[fo + so], TL_INT32);
    cr_assert_gt(TL_TIMESTAMP_US, 14);
    /* the same bytes labelled 1.0 (header and trailer, which no checksum
     * covers) are refused, naming the column, the offset and the rule */
    tlf_st16(f + 10, 0);
    tlf_st16(f + m.len - 40 + 26, 0);
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "us.seg", 0, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "us.seg"), "%s", err.msg);
    cr_assert(strstr(err.msg, "column 't' (1)"), "%s", err.msg);
    cr_assert(strstr(err.msg, "timestamp_us (15) in a file of version 1.0"), "%s", err.msg);
    cr_assert(strstr(err.msg, "FMT-R25"), "%s", err.msg);
    free(f);
    free(m.p);
    /* without a timestamp_us column: 1.0 */
    m = write_cols(c, 1, 64, 0, NULL, NULL);
    cr_assert_eq(tlf_ld16(m.p + 10), 0);
    cr_assert_eq(tlf_ld16(m.p + m.len - 40 + 26), 0);
    free(m.p);
    tcol_free(&c[0]);
    tcol_free(&c[1]);
}

/* ---- TLF_DECODE_NARROW ------------------------------------------------------ */

/* Narrowed int32 values stand for the normal decode exactly: k / scale is
 * the double bit for bit (nulls 0), int64 values equal; blocks whose values
 * do not fit int32, or other encodings, come out normally (scale 0). */
static void narrow_case(tl_type t, uint8_t enc, tdata d, tnulls nl, int expect_narrow)
{
    tcol c;
    tcol_fill(&c, "x", t, enc, TLF_COMP_NONE, d, nl, 3 * 16384 + 77, 5);
    membuf m = write_cols(&c, 1, 0, 0, NULL, NULL);
    tl_error err;
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(m.p, m.len, "n.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    int narrowed = 0;
    for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
        const tlf_block_info *bi = tlf_seg_block(s, 0, b);
        size_t nb, nd, nv;
        tlf_seg_decode_needs(s, 0, b, &nb, &nd, &nv);
        tscratch t1 = {0}, t2 = {0};
        tscratch_fit(&t1, nb, nd, nv);
        tscratch_fit(&t2, nb, nd, nv);
        tlf_vec full = {.buf = t1.buf, .buf_cap = nb, .data_buf = t1.data, .data_cap = nd,
                        .valid_buf = t1.valid, .valid_cap = nv};
        tlf_vec nar = {.buf = t2.buf, .buf_cap = nb, .data_buf = t2.data, .data_cap = nd,
                       .valid_buf = t2.valid, .valid_cap = nv};
        cr_assert_eq(tlf_seg_decode(s, 0, b, m.p + bi->offset, bi->length, TLF_DECODE_VERIFY,
                                    &full, &err),
                     TL_OK, "%s", err.msg);
        cr_assert_eq(full.scale, 0);
        cr_assert_eq(tlf_seg_decode(s, 0, b, m.p + bi->offset, bi->length,
                                    TLF_DECODE_VERIFY | TLF_DECODE_NARROW, &nar, &err),
                     TL_OK, "%s", err.msg);
        if (!nar.scale) {
            check_vec(&c, bi->first_row, &nar, 0, b);
        } else {
            narrowed++;
            cr_assert(bi->encoding == TLF_ENC_DELTA ||
                      (bi->encoding == TLF_ENC_SCALED && bi->inner == TLF_ENC_DELTA));
            cr_assert_eq(!!nar.validity, !!full.validity);
            const int32_t *k = nar.values;
            for (uint32_t i = 0; i < bi->n_rows; i++) {
                if (t == TL_INT64) {
                    cr_assert_eq(nar.scale, 1);
                    cr_assert_eq((int64_t)k[i], ((const int64_t *)full.values)[i], "row %u", i);
                } else {
                    double x = (double)k[i] / (double)nar.scale;
                    double y = ((const double *)full.values)[i];
                    cr_assert_eq(memcmp(&x, &y, 8), 0, "block %u row %u: %d / %llu = %.17g, "
                                 "full decode %.17g", b, i, k[i],
                                 (unsigned long long)nar.scale, x, y);
                }
            }
        }
        tscratch_free(&t1);
        tscratch_free(&t2);
    }
    if (expect_narrow)
        cr_assert_gt(narrowed, 0, "%s: no block narrowed", tl_type_name(t));
    else
        cr_assert_eq(narrowed, 0, "%s: %d blocks narrowed", tl_type_name(t), narrowed);
    tlf_seg_close(s);
    free(m.p);
    tcol_free(&c);
}

Test(segment, narrow_decode_matches_full_decode)
{
    narrow_case(TL_FLOAT64, TLF_ENC_SCALED, D_GRID, N_RAND5, 1); /* prices with nulls */
    narrow_case(TL_FLOAT64, TLF_ENC_SCALED, D_GRID, N_NONE, 1);
    narrow_case(TL_INT64, TLF_ENC_DELTA, D_SMALL, N_RAND5, 1);
    narrow_case(TL_INT64, TLF_ENC_DELTA, D_RANDOM, N_NONE, 0); /* beyond int32 */
    narrow_case(TL_FLOAT64, TLF_ENC_PLAIN, D_GRID, N_NONE, 0);  /* not SCALED */
    narrow_case(TL_INT32, TLF_ENC_DELTA, D_SMALL, N_NONE, 0);  /* not int64 */
    tlf_enc_no_simd = 1; /* no kernels: normal decode */
    narrow_case(TL_FLOAT64, TLF_ENC_SCALED, D_GRID, N_RAND5, 0);
    tlf_enc_no_simd = 0;
}

/* NULL arguments of every reader entry point: TL_EINVAL with a message,
 * never a crash; a NULL name reads "<segment>". */
Test(segment, reader_null_arguments)
{
    tcol c[1];
    tcol_fill(&c[0], "r", TL_INT64, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_ALT, 100, 1);
    membuf m = write_cols(c, 1, 0, 0, NULL, NULL);
    uint8_t *f = aligned_copy(m.p, m.len);
    const uint8_t *tail = f + m.len - TLF_TRAILER_SIZE;
    tl_error err = {0};
    tlf_seg *s = NULL;
    uint64_t fo, fl;
    cr_assert_eq(tlf_seg_parse_trailer(NULL, m.len, NULL, &fo, &fl, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "<segment>") && strstr(err.msg, "parse_trailer: NULL argument"),
              "%s", err.msg);
    cr_assert_eq(tlf_seg_parse_trailer(tail, m.len, "a.seg", NULL, &fl, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_parse_trailer(tail, m.len, "a.seg", &fo, NULL, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_open_mem(f, m.len, NULL, 0, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "open: NULL output"), "%s", err.msg);
    cr_assert_eq(tlf_seg_open_mem(NULL, m.len, "a.seg", 0, &s, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "a.seg") && strstr(err.msg, "NULL base"), "%s", err.msg);
    cr_assert_null(s);
    cr_assert_eq(tlf_seg_open_mem(NULL, 0, NULL, 0, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "<segment>"), "%s", err.msg);
    cr_assert_eq(tlf_seg_parse_trailer(tail, m.len, "a.seg", &fo, &fl, &err), TL_OK);
    cr_assert_eq(tlf_seg_open_footer(f + fo, fl, tail, m.len, NULL, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "open_footer: NULL output"), "%s", err.msg);
    cr_assert_eq(tlf_seg_open_footer(NULL, fl, tail, m.len, "a.seg", &s, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_open_footer(f + fo, fl, NULL, m.len, "a.seg", &s, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_open_mem(f, m.len, NULL, 0, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(tlf_seg_name(s), "<segment>");
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    tlf_vec v = {0};
    cr_assert_eq(tlf_seg_decode(NULL, 0, 0, f + bi->offset, bi->length, 0, &v, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + bi->offset, bi->length, 0, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "decode: NULL segment or output"), "%s", err.msg);
    cr_assert_eq(tlf_seg_decode(s, 0, 0, NULL, bi->length, 0, &v, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "(NULL)"), "%s", err.msg);
    uint32_t nr;
    const void *rv;
    const uint32_t *re;
    cr_assert_eq(tlf_seg_rle_runs(NULL, 0, 0, f, 1, &nr, &rv, &re, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, f, 1, NULL, &rv, &re, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, f, 1, &nr, NULL, &re, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, f, 1, &nr, &rv, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "rle_runs: NULL argument"), "%s", err.msg);
    uint32_t ne;
    const void *ev;
    cr_assert_eq(tlf_seg_block_dict(NULL, 0, 0, f, 1, &ne, &ev, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_block_dict(s, 0, 0, f, 1, NULL, &ev, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_block_dict(s, 0, 0, f, 1, &ne, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "block_dict: NULL argument"), "%s", err.msg);
    const uint8_t *vb;
    cr_assert_eq(tlf_seg_validity(NULL, 0, 0, f, 1, NULL, 0, &vb, &err), TL_EINVAL);
    cr_assert_eq(tlf_seg_validity(s, 0, 0, f, 1, NULL, 0, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "validity: NULL argument"), "%s", err.msg);
    cr_assert_eq(tlf_seg_verify_all(NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "verify_all: NULL segment"), "%s", err.msg);
    /* decode_needs fills only what is asked */
    size_t nb = 7;
    tlf_seg_decode_needs(s, 0, 0, NULL, NULL, NULL);
    tlf_seg_decode_needs(s, 0, 0, &nb, NULL, NULL);
    cr_assert_eq(nb, 800);
    tlf_seg_close(s);
    tlf_seg_close(NULL);
    free(f);
    free(m.p);
    tcol_free(&c[0]);
}
