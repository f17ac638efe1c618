/*
 * segment_corrupt_test.c - bad segment files: every single-byte change of
 * a small segment (and a few bit patterns) gives an error or the original
 * data when verification is on, never different data; every truncation is
 * an error; with verification off corrupt blocks never crash (run under
 * ASan). Then each rejection rule on its own, with the footer checksum
 * re-fixed so the rule under test is what fires, and the messages name the
 * file, the place (column, block, byte offset) and expected vs found.
 */
#include <criterion/criterion.h>
#include <xxhash.h>

#include "segment_testlib.h"

/* The small segment: 5 columns, 120 rows in blocks of 50 (3 row blocks),
 * with a DICT string, a PLAIN string with nulls, a zstd block, RLE. */
static tcol cols[6];
static membuf seg;
static uint8_t *ref;   /* canonical decode of the original */
static size_t ref_len;

static void serialize_all(const tlf_seg *s, const uint8_t *file, uint32_t flags, membuf *out,
                          int *rc_out)
{
    tscratch t = {0};
    tl_error err;
    *rc_out = TL_OK;
    for (uint32_t c = 0; c < tlf_seg_n_cols(s); c++) {
        for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
            const tlf_block_info *bi = tlf_seg_block(s, c, b);
            size_t nb, nd, nv;
            tlf_seg_decode_needs(s, c, b, &nb, &nd, &nv);
            if (nb > (1 << 24) || nd > (1 << 24)) {
                *rc_out = TL_ENOMEM;
                goto out;
            }
            tscratch_fit(&t, nb + 8, nd + 8, nv + 8);
            tlf_vec v = {.buf = t.buf, .buf_cap = nb, .data_buf = t.data, .data_cap = nd,
                         .valid_buf = t.valid, .valid_cap = nv};
            int rc = tlf_seg_decode(s, c, b, file + bi->offset, bi->length, flags, &v, &err);
            if (rc != TL_OK) {
                *rc_out = rc;
                cr_assert(strstr(err.msg, "t.seg"), "message without the file: %s", err.msg);
                goto out;
            }
            if ((bi->encoding == TLF_ENC_RLE || bi->encoding == TLF_ENC_DICT) &&
                bi->compression == TLF_COMP_NONE) {
                uint32_t nr;
                const void *rv;
                const uint32_t *re;
                int rr = tlf_seg_rle_runs(s, c, b, file + bi->offset, bi->length, &nr, &rv,
                                          &re, &err);
                if (rr == TL_OK && nr) /* touch the runs: they must be in bounds */
                    cr_assert(re[nr - 1] == bi->n_rows && rv);
            }
            if (!out)
                continue;
            membuf_write(out, &v.n, 4, NULL);
            for (uint32_t i = 0; i < v.n; i++) {
                uint8_t p = (uint8_t)tl_bit_get(v.validity, i);
                membuf_write(out, &p, 1, NULL);
                if (v.type == TL_STRING) {
                    uint32_t l = v.offsets[i + 1] - v.offsets[i];
                    membuf_write(out, &l, 4, NULL);
                    membuf_write(out, v.data + v.offsets[i], l, NULL);
                } else {
                    size_t w = tl_type_width(v.type);
                    membuf_write(out, (const uint8_t *)v.values + i * w, w, NULL);
                }
            }
        }
    }
out:
    tscratch_free(&t);
}

static void setup(void)
{
    uint64_t n = 120;
    tcol_fill(&cols[0], "ts", TL_TIMESTAMP, TLF_ENC_DELTA, TLF_COMP_NONE, D_SORTED, N_NONE, n, 1);
    tcol_fill(&cols[1], "price", TL_FLOAT64, TLF_ENC_SCALED, TLF_COMP_ZSTD, D_GRID, N_NONE, n, 2);
    tcol_fill(&cols[2], "sym", TL_STRING, TLF_ENC_DICT, TLF_COMP_NONE, D_LOWCARD, N_NONE, n, 3);
    tcol_fill(&cols[3], "note", TL_STRING, TLF_ENC_PLAIN, TLF_COMP_NONE, D_EDGE, N_RAND5, n, 4);
    tcol_fill(&cols[4], "qty", TL_INT32, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_ALT, n, 5);
    tcol_fill(&cols[5], "lvl", TL_INT32, TLF_ENC_DICT, TLF_COMP_NONE, D_LOTS, N_NONE, n, 6);
    const char *kv[] = {"k", "v", NULL};
    seg = write_cols(cols, 6, 50, 0, kv, NULL);
    uint8_t *f = aligned_copy(seg.p, seg.len);
    free(seg.p);
    seg.p = f;
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(seg.p, seg.len, "t.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_block(s, 1, 0)->compression, TLF_COMP_ZSTD);
    cr_assert_eq(tlf_seg_block(s, 2, 0)->encoding, TLF_ENC_DICT);
    cr_assert_eq(tlf_seg_n_blocks(s), 3);
    membuf out = {0};
    int rc;
    serialize_all(s, seg.p, TLF_DECODE_VERIFY, &out, &rc);
    cr_assert_eq(rc, TL_OK);
    ref = out.p;
    ref_len = out.len;
    tlf_seg_close(s);
}

static void teardown(void)
{
    for (int i = 0; i < 6; i++)
        tcol_free(&cols[i]);
    free(seg.p);
    free(ref);
}

TestSuite(corrupt, .init = setup, .fini = teardown);

/* Open and decode a candidate file every way; with verification the data
 * must be the original whenever everything succeeds. */
static int try_file(const uint8_t *f, size_t len)
{
    tl_error err;
    tlf_seg *s = NULL;
    int rc = tlf_seg_open_mem(f, len, "t.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err);
    int verdict = rc;
    if (rc == TL_OK) {
        membuf out = {0};
        serialize_all(s, f, TLF_DECODE_VERIFY, &out, &rc);
        if (rc == TL_OK)
            cr_assert(out.len == ref_len && memcmp(out.p, ref, ref_len) == 0,
                      "verified decode returned different data");
        free(out.p);
        verdict = rc;
        tlf_seg_close(s);
    } else {
        cr_assert(strstr(err.msg, "t.seg"), "message without the file: %s", err.msg);
    }
    /* two-step open, blocks verified at decode */
    uint64_t fo, fl;
    if (len >= TLF_TRAILER_SIZE &&
        tlf_seg_parse_trailer(f + len - TLF_TRAILER_SIZE, len, "t.seg", &fo, &fl, &err) ==
            TL_OK &&
        tlf_seg_open_footer(f + fo, fl, f + len - TLF_TRAILER_SIZE, len, "t.seg", &s, &err) ==
            TL_OK) {
        membuf out = {0};
        serialize_all(s, f, TLF_DECODE_VERIFY | TLF_DECODE_ZERO_COPY, &out, &rc);
        if (rc == TL_OK)
            cr_assert(out.len == ref_len && memcmp(out.p, ref, ref_len) == 0,
                      "verified decode (footer path) returned different data");
        free(out.p);
        tlf_seg_close(s);
    }
    /* no verification: anything but a crash */
    if (tlf_seg_open_mem(f, len, "t.seg", 0, &s, &err) == TL_OK) {
        serialize_all(s, f, 0, NULL, &rc);
        serialize_all(s, f, TLF_DECODE_ZERO_COPY, NULL, &rc);
        tlf_seg_close(s);
    }
    return verdict;
}

/* FMT-R4, FMT-R10 */
Test(corrupt, every_byte_flipped)
{
    uint8_t *f = aligned_copy(seg.p, seg.len);
    /* bytes covered by the header, a block, the footer or the trailer */
    uint8_t *covered = calloc(seg.len, 1);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(f, seg.len, "t.seg", 0, &s, &err), TL_OK);
    memset(covered, 1, TLF_HEADER_SIZE);
    uint64_t fo = tlf_ld64(f + seg.len - 40);
    memset(covered + fo, 1, seg.len - fo);
    for (uint32_t c = 0; c < 6; c++)
        for (uint32_t b = 0; b < 3; b++)
            memset(covered + tlf_seg_block(s, c, b)->offset, 1, tlf_seg_block(s, c, b)->length);
    tlf_seg_close(s);
    static const uint8_t pats[] = {0xFF, 0x01, 0x80};
    size_t errors = 0, same = 0;
    for (size_t i = 0; i < seg.len; i++) {
        for (size_t k = 0; k < sizeof pats; k++) {
            f[i] ^= pats[k];
            if (try_file(f, seg.len) == TL_OK) {
                same++;
                /* only padding between blocks is not covered by a check */
                cr_assert(!covered[i], "change at byte %zu went unnoticed", i);
            } else {
                errors++;
            }
            f[i] ^= pats[k];
        }
    }
    free(covered);
    cr_assert(errors > 0);
    cr_log_info("%zu byte changes: %zu errors, %zu decoded the original data", 3 * seg.len,
                errors, same);
    free(f);
}

/* FMT-R10 */
Test(corrupt, block_bytes_unverified_never_crash)
{
    /* random garbage over whole blocks, decoded without verification */
    uint8_t *f = aligned_copy(seg.p, seg.len);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(seg.p, seg.len, "t.seg", 0, &s, &err), TL_OK);
    uint64_t rs = 99;
    for (int round = 0; round < 300; round++) {
        memcpy(f, seg.p, seg.len);
        for (uint32_t c = 0; c < 6; c++)
            for (uint32_t b = 0; b < 3; b++) {
                const tlf_block_info *bi = tlf_seg_block(s, c, b);
                uint64_t nflip = 1 + rnd(&rs) % 8;
                for (uint64_t k = 0; k < nflip; k++)
                    f[bi->offset + rnd(&rs) % bi->length] = (uint8_t)rnd(&rs);
            }
        int rc;
        serialize_all(s, f, 0, NULL, &rc);
        serialize_all(s, f, TLF_DECODE_ZERO_COPY, NULL, &rc);
    }
    tlf_seg_close(s);
    free(f);
}

Test(corrupt, every_truncation_is_an_error)
{
    for (size_t len = 0; len < seg.len; len++) {
        uint8_t *f = malloc(len ? len : 1);
        memcpy(f, seg.p, len);
        tlf_seg *s = NULL;
        tl_error err;
        int rc = tlf_seg_open_mem(len ? f : NULL, len, "t.seg", 0, &s, &err);
        cr_assert_neq(rc, TL_OK, "truncated to %zu bytes opened", len);
        cr_assert(strstr(err.msg, "t.seg") && strstr(err.msg, "offset"), "%s", err.msg);
        if (len >= TLF_TRAILER_SIZE) {
            uint64_t fo, fl;
            rc = tlf_seg_parse_trailer(f + len - TLF_TRAILER_SIZE, len, "t.seg", &fo, &fl, &err);
            cr_assert_neq(rc, TL_OK, "truncated to %zu bytes: trailer parsed", len);
        }
        free(f);
    }
}

/* ---- single rules, with the footer checksum re-fixed ---------------------- */

static uint64_t F_OFF, F_LEN; /* of the original */

static uint8_t *copy_seg(void)
{
    uint8_t *f = aligned_copy(seg.p, seg.len);
    F_OFF = tlf_ld64(f + seg.len - 40);
    F_LEN = tlf_ld64(f + seg.len - 32);
    return f;
}

static void refix(uint8_t *f, size_t len)
{
    uint64_t fo = tlf_ld64(f + len - 40), fl = tlf_ld64(f + len - 32);
    tlf_st64(f + len - 24, XXH3_64bits(f + fo, fl));
}

static uint8_t *entry(uint8_t *f, uint32_t c, uint32_t b)
{
    uint64_t io = tlf_ld64(f + F_OFF + TLF_FH_SECTIONS + 16 * TLF_SEC_INDEX);
    return f + F_OFF + io + ((uint64_t)c * 3 + b) * TLF_ENTRY_SIZE;
}

/* after changing block bytes: store the new block checksum, refix footer */
static void refix_block(uint8_t *f, uint32_t c, uint32_t b)
{
    uint8_t *e = entry(f, c, b);
    tlf_st64(e + TLF_BI_CHECKSUM,
             XXH3_64bits(f + tlf_ld64(e + TLF_BI_OFFSET), tlf_ld64(e + TLF_BI_LENGTH)));
    refix(f, seg.len);
}

static int open_msg(const uint8_t *f, size_t len, tl_error *err)
{
    tlf_seg *s = NULL;
    int rc = tlf_seg_open_mem(f, len, "t.seg", 0, &s, err);
    tlf_seg_close(s);
    if (rc != TL_OK) {
        cr_assert(strstr(err->msg, "t.seg: "), "%s", err->msg);
        cr_assert(strstr(err->msg, "offset"), "no offset: %s", err->msg);
    }
    return rc;
}

static int decode_one(const uint8_t *f, uint32_t c, uint32_t b, uint32_t flags, tl_error *err)
{
    tlf_seg *s;
    int rc = tlf_seg_open_mem(f, seg.len, "t.seg", 0, &s, err);
    cr_assert_eq(rc, TL_OK, "%s", err->msg);
    const tlf_block_info *bi = tlf_seg_block(s, c, b);
    tscratch t = {0};
    size_t nb, nd, nv;
    tlf_seg_decode_needs(s, c, b, &nb, &nd, &nv);
    tscratch_fit(&t, nb, nd, nv);
    tlf_vec v = {.buf = t.buf, .buf_cap = nb, .data_buf = t.data, .data_cap = nd,
                 .valid_buf = t.valid, .valid_cap = nv};
    rc = tlf_seg_decode(s, c, b, f + bi->offset, bi->length, flags, &v, err);
    tscratch_free(&t);
    tlf_seg_close(s);
    return rc;
}

#define EXPECT_MSG(err, ...)                                                        \
    do {                                                                            \
        const char *subs_[] = {__VA_ARGS__};                                        \
        for (size_t i_ = 0; i_ < sizeof subs_ / sizeof subs_[0]; i_++)              \
            cr_assert(strstr((err).msg, subs_[i_]), "'%s' not in: %s", subs_[i_],   \
                      (err).msg);                                                   \
    } while (0)

/* FMT-R6 */
Test(corrupt, magic_at_either_end)
{
    uint8_t *f = copy_seg();
    tl_error err;
    f[0] = 0x89 & 0x7F; /* a 7-bit channel */
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "not a ticklake segment", "byte offset 0", "expected 89544c5345470d0a",
               "found 09544c");
    f[0] = 0x89;
    f[seg.len - 2] = '\n'; /* CR LF -> LF LF */
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "not a ticklake segment");
    char off[64];
    snprintf(off, sizeof off, "byte offset %zu", seg.len - 8);
    EXPECT_MSG(err, off);
    /* bad magic wins over a bad version */
    tlf_st16(f + 8, 9);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    free(f);
}

/* FMT-R6, FMT-R8 */
Test(corrupt, version_rules)
{
    uint8_t *f = copy_seg();
    tl_error err;
    tlf_st16(f + TLF_HDR_VMAJOR, 2);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_EVERSION);
    EXPECT_MSG(err, "format version 2.0", "byte offset 8", "major version 1");
    tlf_st16(f + TLF_HDR_VMAJOR, 1);
    tlf_st16(f + seg.len - 40 + TLF_TRL_VMAJOR, 0);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_EVERSION);
    uint64_t fo, fl;
    cr_assert_eq(tlf_seg_parse_trailer(f + seg.len - 40, seg.len, "t.seg", &fo, &fl, &err),
                 TL_EVERSION);
    tlf_st16(f + seg.len - 40 + TLF_TRL_VMAJOR, 1);
    /* version checked before the footer checksum */
    tlf_st16(f + TLF_HDR_VMAJOR, 3);
    f[F_OFF + 5] ^= 1;
    cr_assert_eq(open_msg(f, seg.len, &err), TL_EVERSION);
    f[F_OFF + 5] ^= 1;
    tlf_st16(f + TLF_HDR_VMAJOR, 1);
    /* a newer minor version is readable */
    tlf_st16(f + TLF_HDR_VMINOR, 7);
    tlf_st16(f + seg.len - 40 + TLF_TRL_VMINOR, 7);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, seg.len, "t.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(tlf_seg_version_minor(s), 7);
    tlf_seg_close(s);
    /* but header and trailer must agree */
    tlf_st16(f + seg.len - 40 + TLF_TRL_VMINOR, 6);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "minor version", "header", "trailer");
    free(f);
}

/* FMT-R7 */
Test(corrupt, header_fields)
{
    uint8_t *f = copy_seg();
    tl_error err;
    f[TLF_HDR_FLAGS] = 1;
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "header flags", "byte offset 12", "expected 0");
    f[TLF_HDR_FLAGS] = 0;
    f[63] = 1;
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "reserved", "byte offset 63");
    f[63] = 0;
    tlf_st32(f + TLF_HDR_NCOLS, 4);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "n_cols 4", "expected the footer's 6");
    tlf_st32(f + TLF_HDR_NCOLS, 6);
    tlf_st32(f + TLF_HDR_BLOCK_ROWS, 51);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    free(f);
}

/* FMT-R4, FMT-R8 */
Test(corrupt, trailer_fields)
{
    uint8_t *f = copy_seg();
    tl_error err;
    uint8_t *t = f + seg.len - 40;
    t[TLF_TRL_RESERVED] = 1;
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "trailer reserved", "expected 0, found 1");
    t[TLF_TRL_RESERVED] = 0;
    tlf_st64(t, F_OFF + 8); /* footer offset moved: length no longer reaches */
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "footer offset");
    tlf_st64(t, F_OFF + 1); /* unaligned */
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    tlf_st64(t, UINT64_MAX - 3);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    tlf_st64(t, F_OFF);
    tlf_st64(t + 8, F_LEN + 1);
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECORRUPT);
    tlf_st64(t + 8, F_LEN);
    t[TLF_TRL_FOOTER_SUM] ^= 1;
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECHECKSUM);
    EXPECT_MSG(err, "footer", "checksum mismatch", "expected 0x", "found 0x");
    free(f);
}

/* FMT-R4, FMT-R8 */
Test(corrupt, footer_checksum_mismatch)
{
    uint8_t *f = copy_seg();
    tl_error err;
    f[F_OFF + 40] ^= 0x10;
    cr_assert_eq(open_msg(f, seg.len, &err), TL_ECHECKSUM);
    char off[64];
    snprintf(off, sizeof off, "footer at byte offset %llu", (unsigned long long)F_OFF);
    EXPECT_MSG(err, off);
    /* the two-step open checks it too */
    uint8_t *foot = malloc(F_LEN);
    memcpy(foot, f + F_OFF, F_LEN);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_footer(foot, F_LEN, f + seg.len - 40, seg.len, "t.seg", &s, &err),
                 TL_ECHECKSUM);
    free(foot);
    free(f);
}

/* change a footer u32/u64 field, refix, expect code and message parts */
static void footer_field(size_t rel, int width, uint64_t val, int code, const char *sub)
{
    uint8_t *f = copy_seg();
    tl_error err;
    if (width == 4)
        tlf_st32(f + F_OFF + rel, (uint32_t)val);
    else if (width == 8)
        tlf_st64(f + F_OFF + rel, val);
    else
        f[F_OFF + rel] = (uint8_t)val;
    refix(f, seg.len);
    cr_assert_eq(open_msg(f, seg.len, &err), code, "footer +%zu = %llu: %s", rel,
                 (unsigned long long)val, err.msg);
    if (sub)
        EXPECT_MSG(err, sub);
    /* the two-step open agrees */
    tlf_seg *s = NULL;
    int rc = tlf_seg_open_footer(f + F_OFF, F_LEN, f + seg.len - 40, seg.len, "t.seg", &s, &err);
    cr_assert_eq(rc, code);
    tlf_seg_close(s);
    free(f);
}

Test(corrupt, absurd_footer_counts)
{
    footer_field(TLF_FH_NCOLS, 4, TLF_MAX_COLUMNS + 1, TL_ECORRUPT, "n_cols: expected 1..4096");
    footer_field(TLF_FH_NCOLS, 4, 0, TL_ECORRUPT, "n_cols");
    footer_field(TLF_FH_NCOLS, 4, 7, TL_ECORRUPT, NULL);
    footer_field(TLF_FH_BLOCK_ROWS, 4, 0, TL_ECORRUPT, "block_rows: expected 1..");
    footer_field(TLF_FH_BLOCK_ROWS, 4, TLF_MAX_BLOCK_ROWS + 1, TL_ECORRUPT, "block_rows");
    footer_field(TLF_FH_BLOCK_ROWS, 4, 60, TL_ECORRUPT, "n_blocks: expected 2");
    footer_field(TLF_FH_NBLOCKS, 4, 4, TL_ECORRUPT, "n_blocks: expected 3");
    footer_field(TLF_FH_NBLOCKS, 4, UINT32_MAX, TL_ECORRUPT, "n_blocks");
    footer_field(TLF_FH_NROWS, 8, 1ull << 40, TL_ECORRUPT, "n_blocks");
    footer_field(TLF_FH_NROWS, 8, 119, TL_ECORRUPT, "n_rows: expected 19");
    footer_field(TLF_FH_NROWS, 8, 101, TL_ECORRUPT, "n_rows: expected 1 ");
    footer_field(TLF_FH_ENTRY_SIZE, 4, 71, TL_ECORRUPT, "entry_size");
    footer_field(TLF_FH_ENTRY_SIZE, 4, 80, TL_ECORRUPT, "block index section");
    footer_field(TLF_FH_LEN, 4, 104, TL_ECORRUPT, "footer header");
    footer_field(TLF_FH_LEN, 4, 0xFFFFFFF8u, TL_ECORRUPT, "footer header");
    footer_field(TLF_FH_RESERVED, 4, 1, TL_ECORRUPT, "reserved");
}

/* FMT-R17 */
Test(corrupt, section_ranges)
{
    for (int sec = 0; sec < TLF_N_SECTIONS; sec++) {
        size_t at = TLF_FH_SECTIONS + 16 * sec;
        footer_field(at, 8, F_LEN + 8, TL_ECORRUPT, "section");
        footer_field(at, 8, 4, TL_ECORRUPT, "section");        /* unaligned, in the header */
        footer_field(at + 8, 8, UINT64_MAX, TL_ECORRUPT, NULL); /* length overflow */
    }
}

/* schema, dictionary, metadata fields */
Test(corrupt, schema_and_dictionary)
{
    uint8_t *f = copy_seg();
    uint64_t so = tlf_ld64(f + F_OFF + TLF_FH_SECTIONS);
    free(f);
    /* column 0 record: type, flags, name_len */
    footer_field(so + 0, 1, 0, TL_ECORRUPT, "unknown type 0");
    footer_field(so + 0, 1, 16, TL_ECORRUPT, "unknown type 16");
    /* FMT-R25: timestamp_us (15) only in files of version >= 1.1 */
    footer_field(so + 0, 1, TL_TIMESTAMP_US, TL_ECORRUPT,
                 "type timestamp_us (15) in a file of version 1.0 (expected version 1.1");
    footer_field(so + 0, 1, TL_INT32, TL_ECORRUPT, "decoded_bytes"); /* width mismatch */
    footer_field(so + 1, 1, 0x02, TL_ECORRUPT, "reserved bits");
    footer_field(so + 1, 1, 0x01, TL_ECORRUPT, "dictionary flag"); /* dict on int */
    footer_field(so + 2, 1, 0, TL_ECORRUPT, "name length");
    footer_field(so + 2, 1, 200, TL_ECORRUPT, NULL);
    footer_field(so + 4, 4, 1, TL_ECORRUPT, "reserved");
    footer_field(so + TLF_COL_REC_FIXED, 1, 0, TL_ECORRUPT, "NUL");
    /* sym (column 2) dictionary: find its record */
    f = copy_seg();
    uint64_t pos = so;
    for (int c = 0; c < 2; c++)
        pos += tlf_align_up(TLF_COL_REC_FIXED + tlf_ld16(f + F_OFF + pos + 2), 8);
    cr_assert_eq(f[F_OFF + pos + 1], TLF_COLF_DICT);
    uint64_t dso = tlf_ld64(f + F_OFF + TLF_FH_SECTIONS + 16 * TLF_SEC_DICT);
    uint64_t doff = tlf_ld64(f + F_OFF + pos + 8);
    free(f);
    footer_field(pos + 1, 1, 0, TL_ECORRUPT, "dictionary flag");
    footer_field(pos + 8, 8, 4, TL_ECORRUPT, "dictionary at section offset 4");
    footer_field(pos + 16, 8, 1ull << 40, TL_ECORRUPT, "dictionary");
    footer_field(dso + doff, 4, 0, TL_ECORRUPT, "entries");       /* count 0 */
    footer_field(dso + doff, 4, 1u << 30, TL_ECORRUPT, "entries"); /* count too big */
    footer_field(dso + doff, 4, 9, TL_ECORRUPT, "length");         /* count 9 of 10 */
    footer_field(dso + doff + 4, 4, 1, TL_ECORRUPT, "offsets[0]");
    footer_field(dso + doff + 12, 4, 0, TL_ECORRUPT, "less than the previous");
}

Test(corrupt, metadata_section)
{
    uint8_t *f = copy_seg();
    uint64_t mo = tlf_ld64(f + F_OFF + TLF_FH_SECTIONS + 16 * TLF_SEC_META);
    free(f);
    footer_field(mo, 4, UINT32_MAX, TL_ECORRUPT, "metadata pair 1"); /* count: no allocation */
    footer_field(mo, 4, 0, TL_ECORRUPT, "metadata section");
    footer_field(mo + 4, 4, 1000, TL_ECORRUPT, "key length 1000");
    footer_field(mo + 9, 4, 2, TL_ECORRUPT, "value length 2 exceeds");
    footer_field(mo + 9, 4, 0, TL_ECORRUPT, "section length"); /* a byte left over */
}

/* block index entries */
static void entry_field(uint32_t c, uint32_t b, size_t rel, int width, uint64_t val, int code,
                        const char *sub)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, c, b);
    if (width == 8)
        tlf_st64(e + rel, val);
    else if (width == 4)
        tlf_st32(e + rel, (uint32_t)val);
    else
        e[rel] = (uint8_t)val;
    refix(f, seg.len);
    tl_error err;
    cr_assert_eq(open_msg(f, seg.len, &err), code, "entry %u/%u +%zu = %llu: %s", c, b, rel,
                 (unsigned long long)val, err.msg);
    if (code != TL_OK) {
        char where[160];
        snprintf(where, sizeof where, "column '%s' (%u), block %u", cols[c].name, c, b);
        EXPECT_MSG(err, where);
        if (sub)
            EXPECT_MSG(err, sub);
    }
    free(f);
}

/* FMT-R9, FMT-R16, FMT-R18, FMT-R24 */
Test(corrupt, block_index_entries)
{
    uint8_t *f = copy_seg();
    uint64_t off0 = tlf_ld64(entry(f, 0, 1) + TLF_BI_OFFSET);
    uint64_t len0 = tlf_ld64(entry(f, 0, 1) + TLF_BI_LENGTH);
    free(f);
    entry_field(0, 1, TLF_BI_OFFSET, 8, off0 + 8, TL_ECORRUPT, "64-aligned");
    entry_field(0, 1, TLF_BI_OFFSET, 8, 0, TL_ECORRUPT, "between header");
    entry_field(0, 1, TLF_BI_OFFSET, 8, seg.len + 64 * 10, TL_ECORRUPT, "64-aligned range");
    entry_field(0, 1, TLF_BI_OFFSET, 8, F_OFF / 64 * 64, TL_ECORRUPT, NULL); /* into the footer */
    entry_field(0, 1, TLF_BI_OFFSET, 8, UINT64_MAX - 63, TL_ECORRUPT, NULL);
    entry_field(0, 1, TLF_BI_OFFSET, 8, 64, TL_ECORRUPT, "overlaps");
    entry_field(0, 1, TLF_BI_LENGTH, 8, len0 + 1, TL_ECORRUPT, "length: expected");
    entry_field(0, 1, TLF_BI_NROWS, 4, 49, TL_ECORRUPT, "n_rows: expected 50");
    entry_field(0, 2, TLF_BI_NROWS, 4, 50, TL_ECORRUPT, "n_rows: expected 20");
    entry_field(0, 1, TLF_BI_NULLS, 4, 51, TL_ECORRUPT, "null_count 51 exceeds");
    entry_field(0, 1, TLF_BI_DECODED, 8, 401, TL_ECORRUPT, "decoded_bytes: expected 400");
    entry_field(3, 1, TLF_BI_DECODED, 8, 1ull << 33, TL_ECORRUPT, "decoded_bytes");
    entry_field(3, 1, TLF_BI_DECODED, 8, 3, TL_ECORRUPT, "encoded_len"); /* plain strings */
    entry_field(2, 1, TLF_BI_DECODED, 8, 50 * 5 + 1, TL_ECORRUPT, "longest dictionary entry");
    entry_field(0, 1, TLF_BI_ENCODED_LEN, 4, UINT32_MAX, TL_ECORRUPT, "encoded_len");
    entry_field(1, 1, TLF_BI_ENCODED_LEN, 4, 1u << 30, TL_ECORRUPT, "at most");
    entry_field(0, 1, TLF_BI_ENCODING, 1, TLF_ENC_SCALED, TL_ECORRUPT, "does not apply");
    entry_field(2, 1, TLF_BI_ENCODING, 1, TLF_ENC_FOR, TL_ECORRUPT, "does not apply");
    entry_field(0, 1, TLF_BI_INNER, 1, 1, TL_ECORRUPT, "inner encoding");
    entry_field(0, 1, TLF_BI_RESERVED, 1, 1, TL_ECORRUPT, "reserved field");
    entry_field(0, 1, TLF_BI_RESERVED + 2, 1, 0x80, TL_ECORRUPT, "found 0x800000");
    /* FMT-R24: validity 0 or 1, and 1 only with nulls; its form sets the length */
    entry_field(0, 1, TLF_BI_VALIDITY, 1, 1, TL_ECORRUPT, "validity 1 with 0 nulls");
    entry_field(4, 1, TLF_BI_VALIDITY, 1, 2, TL_ECORRUPT, "validity 2 with 25 nulls");
    entry_field(4, 1, TLF_BI_VALIDITY, 1, 1, TL_ECORRUPT, "25 nulls as positions");
    entry_field(0, 1, TLF_BI_ZONE_FLAGS, 1, 0x21, TL_ECORRUPT, "reserved zone flag bits");
    entry_field(0, 1, TLF_BI_ZONE_FLAGS, 1, 0x03, TL_ECORRUPT, "HAS_NAN");
    entry_field(0, 1, TLF_BI_ZONE_FLAGS, 1, 0x05, TL_ECORRUPT, "string zone flags");
    entry_field(0, 1, TLF_BI_ZONE_FLAGS, 1, 0x00, TL_ECORRUPT, "without HAS_MINMAX");
    entry_field(0, 1, TLF_BI_MIN, 8, (uint64_t)INT64_MAX, TL_ECORRUPT, "zone min");
    entry_field(1, 1, TLF_BI_MIN, 8, 0x7ff8000000000000ull, TL_ECORRUPT, "zone min");
    entry_field(4, 1, TLF_BI_MAX, 8, 1ull << 40, TL_ECORRUPT, "zone min"); /* not an int32 */
    entry_field(2, 1, TLF_BI_ZONE_FLAGS, 1, 0x19, TL_ECORRUPT, "MAX_INEXACT together");
    entry_field(2, 1, TLF_BI_ZONE_FLAGS, 1, 0x03, TL_ECORRUPT, "HAS_NAN");
    entry_field(2, 1, TLF_BI_MIN + 4, 4, 65, TL_ECORRUPT, "bound pool");
    entry_field(2, 1, TLF_BI_MAX, 4, 1u << 20, TL_ECORRUPT, "bound pool");
    entry_field(1, 1, TLF_BI_COMPRESSION, 1, TLF_COMP_NONE, TL_ECORRUPT, "uncompressed block");
    /* unknown values are accepted at open ... */
    entry_field(0, 1, TLF_BI_ENCODING, 1, 9, TL_OK, NULL);
    entry_field(0, 1, TLF_BI_COMPRESSION, 1, 2, TL_OK, NULL);
    entry_field(1, 1, TLF_BI_INNER, 1, 9, TL_OK, NULL);
}

Test(corrupt, unknown_encoding_fails_at_decode)
{
    for (int which = 0; which < 3; which++) {
        uint8_t *f = copy_seg();
        uint8_t *e = entry(f, which == 2 ? 1 : 0, 1);
        if (which == 0)
            e[TLF_BI_ENCODING] = 9;
        else if (which == 1)
            e[TLF_BI_COMPRESSION] = 2;
        else
            e[TLF_BI_INNER] = 9;
        refix(f, seg.len);
        tl_error err;
        int rc = decode_one(f, which == 2 ? 1 : 0, 1, TLF_DECODE_VERIFY, &err);
        if (which < 2) {
            cr_assert_eq(rc, TL_EUNSUPPORTED, "%s", err.msg);
            EXPECT_MSG(err, "t.seg: column 'ts' (0), block 1, byte offset",
                       which ? "unknown compression 2" : "unknown encoding 9");
        } else {
            cr_assert_eq(rc, TL_ECORRUPT, "%s", err.msg); /* payload says otherwise */
            EXPECT_MSG(err, "column 'price'", "inner encoding");
        }
        free(f);
    }
}

/* Block contents that pass the checksum (re-fixed) but break a rule. */
Test(corrupt, dictionary_code_out_of_range)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 2, 0);
    uint64_t off = tlf_ld64(e + TLF_BI_OFFSET);
    cr_assert_eq(f[off], TLF_ENC_FOR); /* random symbols: FOR codes */
    cr_assert_eq(tlf_ld64(f + off + 8), 0);
    tlf_st64(f + off + 8, 10); /* FOR base 10: every code >= the 10 entries */
    refix_block(f, 2, 0);
    tl_error err;
    cr_assert_eq(decode_one(f, 2, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "t.seg: column 'sym' (2), block 0, byte offset", "dict: code 1",
               "not below the dictionary size 10");
    memcpy(f, seg.p, seg.len);
    f[off] = 2; /* codes encoding: neither RLE nor FOR */
    refix_block(f, 2, 0);
    cr_assert_eq(decode_one(f, 2, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'sym' (2), block 0",
               "codes encoding at payload offset 0 is 2, expected rle (1) or for (3)");
    free(f);
}

/* FMT-R20: a block dictionary of fixed-width values; its fields broken
 * one at a time are reported with the place */
Test(corrupt, fixed_width_dictionary)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 5, 1);
    cr_assert_eq(e[TLF_BI_ENCODING], TLF_ENC_DICT);
    uint64_t off = tlf_ld64(e + TLF_BI_OFFSET);
    uint32_t nd = tlf_ld32(f + off);
    cr_assert(nd >= 1 && nd <= 39, "%u entries", nd);
    tl_error err;
    struct { size_t at; uint32_t val; const char *msg; } cases[] = {
        {0, 0, "dict: entry count at payload offset 0 is 0, expected 1 .. 50 for 50 values"},
        {0, 51, "is 51, expected 1 .. 50"},
        {4, 1, "dict: reserved field at payload offset 4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(f, seg.p, seg.len);
        tlf_st32(f + off + cases[i].at, cases[i].val);
        refix_block(f, 5, 1);
        cr_assert_eq(decode_one(f, 5, 1, TLF_DECODE_VERIFY, &err), TL_ECORRUPT, "case %zu", i);
        char where[128];
        snprintf(where, sizeof where, "t.seg: column 'lvl' (5), block 1, byte offset %llu",
                 (unsigned long long)off);
        EXPECT_MSG(err, where, cases[i].msg);
    }
    /* the codes: encoding byte, then a FOR base past the entries */
    size_t co = 8 + tlf_align_up(4 * (uint64_t)nd, 8);
    memcpy(f, seg.p, seg.len);
    f[off + co] = 0;
    refix_block(f, 5, 1);
    cr_assert_eq(decode_one(f, 5, 1, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    char want[128];
    snprintf(want, sizeof want, "codes encoding at payload offset %zu is 0", co);
    EXPECT_MSG(err, "column 'lvl' (5), block 1", want);
    memcpy(f, seg.p, seg.len);
    cr_assert_eq(f[off + co], TLF_ENC_FOR);
    tlf_st64(f + off + co + 8, nd);
    refix_block(f, 5, 1);
    cr_assert_eq(decode_one(f, 5, 1, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    snprintf(want, sizeof want, "not below the dictionary size %u", nd);
    EXPECT_MSG(err, "column 'lvl' (5), block 1", "dict: code", want);
    free(f);
}

/* The runs view of DICT codes checks what decoding checks: run ends
 * (FMT-R11) and every code against the dictionary (FMT-R15, FMT-R20); the
 * block dictionary accessor checks its header (FMT-R20). */
Test(corrupt, dict_runs_view)
{
    int32_t lvl[64];
    uint32_t offs[65];
    char data[64];
    for (int i = 0; i < 64; i++) {
        lvl[i] = i < 40 ? 25 : 50;
        data[i] = i < 20 ? 'C' : 'P';
        offs[i + 1] = (uint32_t)i + 1;
    }
    offs[0] = 0;
    tl_coldef defs[2] = {{"lvl", TL_INT32}, {"opt", TL_STRING}};
    tlf_col_opts co[2] = {{TLF_ENC_DICT, TLF_COMP_NONE, 0}, {TLF_ENC_DICT, TLF_COMP_NONE, 0}};
    membuf m = {0};
    tlf_writer_opts o = {.col_opts = co};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(defs, 2, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v[2] = {{.values = lvl}, {.offsets = offs, .data = (const uint8_t *)data}};
    cr_assert_eq(tlf_seg_writer_append(w, v, 64, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "r.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    uint32_t nr, nd;
    const void *rv, *dict;
    const uint32_t *re;
    /* int32: 2 entries (8 bytes), codes section at payload offset 16, RLE
     * of 2 runs: header 8, codes 8, ends at payload offset 16 + 8 + 16 */
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    uint8_t *p = f + bi->offset;
    cr_assert_eq(tlf_ld32(p), 2);
    cr_assert_eq(p[16], TLF_ENC_RLE);
    cr_assert_eq(tlf_ld32(p + 24), 2);
    cr_assert_eq(tlf_ld32(p + 32 + 4), 1); /* run 1's code */
    tlf_st32(p + 32 + 4, 2);               /* past the 2 entries */
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, p, bi->length, &nr, &rv, &re, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "r.seg: column 'lvl' (0), block 0, byte offset", "rle_runs:",
               "code 2 of value 40 (at payload offset 36) is not below the dictionary size 2");
    tlf_st32(p + 32 + 4, 1);
    tlf_st32(p + 40, 64); /* first run end = last: not increasing */
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, p, bi->length, &nr, &rv, &re, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'lvl' (0)", "run end at payload offset 44 not increasing");
    tlf_st32(p + 40, 40);
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, p, bi->length, &nr, &rv, &re, &err), TL_OK, "%s",
                 err.msg);
    tlf_st32(p, 65); /* entry count above the 64 rows */
    cr_assert_eq(tlf_seg_block_dict(s, 0, 0, p, bi->length, &nd, &dict, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "r.seg: column 'lvl' (0), block 0, byte offset",
               "block_dict: dict: entry count at payload offset 0 is 65, expected 1 .. 64");
    tlf_st32(p, 60); /* the entries would run past the payload */
    cr_assert_eq(tlf_seg_block_dict(s, 0, 0, p, bi->length, &nd, &dict, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "expected at least 8 + 240 for 60 entries");
    cr_assert_eq(tlf_seg_rle_runs(s, 0, 0, p, bi->length, &nr, &rv, &re, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'lvl' (0)", "rle_runs: dict:");
    tlf_st32(p, 2);
    tlf_st32(p + 4, 7); /* reserved */
    cr_assert_eq(tlf_seg_block_dict(s, 0, 0, p, bi->length, &nd, &dict, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "dict: reserved field at payload offset 4");
    /* strings: codes against the column dictionary's 2 entries */
    bi = tlf_seg_block(s, 1, 0);
    p = f + bi->offset;
    cr_assert_eq(p[0], TLF_ENC_RLE);
    tlf_st32(p + 16, 5);
    cr_assert_eq(tlf_seg_rle_runs(s, 1, 0, p, bi->length, &nr, &rv, &re, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'opt' (1)", "code 5 of value 0", "dictionary size 2");
    tlf_seg_close(s);
    free(f);
    free(m.p);
}

/* FMT-R22: DELTA flags and a miniblock factor of 0 are reported with the
 * place */
Test(corrupt, delta_flags_and_factor)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 0, 0);
    cr_assert_eq(e[TLF_BI_ENCODING], TLF_ENC_DELTA);
    uint64_t off = tlf_ld64(e + TLF_BI_OFFSET);
    cr_assert_eq(tlf_ld32(f + off + 8), 1);  /* 50 values: one miniblock */
    cr_assert_eq(tlf_ld32(f + off + 12), 0); /* random steps: no factors */
    tlf_st32(f + off + 12, 2);
    refix_block(f, 0, 0);
    tl_error err;
    cr_assert_eq(decode_one(f, 0, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    char want[128];
    snprintf(want, sizeof want, "t.seg: column 'ts' (0), block 0, byte offset %llu",
             (unsigned long long)off);
    EXPECT_MSG(err, want, "delta: flags at payload offset 12 are 0x00000002");
    tlf_st32(f + off + 12, 1); /* factors announced, not there */
    refix_block(f, 0, 0);
    cr_assert_eq(decode_one(f, 0, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, want, "delta: ");
    free(f);

    /* a cumulative volume in lots: factor 25 in its one miniblock */
    int64_t vol[100];
    int64_t x = 0;
    for (int i = 0; i < 100; i++)
        vol[i] = x += 25 * (1 + i % 4);
    tl_coldef def = {"vol", TL_INT64};
    tlf_col_opts co = {.encoding = TLF_ENC_DELTA, .compression = TLF_COMP_NONE};
    membuf m = {0};
    tlf_writer_opts o = {.col_opts = &co};
    tlf_seg_writer *w;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v = {.values = vol};
    cr_assert_eq(tlf_seg_writer_append(w, &v, 100, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    uint8_t *g = aligned_copy(m.p, m.len);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(g, m.len, "v.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(tlf_ld32(g + bi->offset + 12), 1);
    cr_assert_eq(tlf_ld32(g + bi->offset + 32), 25);
    tlf_st32(g + bi->offset + 32, 0);
    int64_t out[100];
    tlf_vec vec = {.buf = out, .buf_cap = sizeof out};
    cr_assert_eq(tlf_seg_decode(s, 0, 0, g + bi->offset, bi->length, 0, &vec, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "v.seg: column 'vol' (0), block 0, byte offset",
               "delta: factor of miniblock 0 at payload offset 32 is 0, expected >= 1");
    tlf_st32(g + bi->offset + 32, 25);
    cr_assert_eq(tlf_seg_decode(s, 0, 0, g + bi->offset, bi->length, 0, &vec, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(memcmp(vec.values, vol, sizeof vol), 0);
    tlf_seg_close(s);
    free(g);
    free(m.p);
}

/* FMT-R23: the code of a null row is still checked against the
 * dictionary, though it decodes as the empty string */
Test(corrupt, dictionary_code_of_a_null_row)
{
    const char *abc[3] = {"A", "B", "C"};
    uint32_t offs[65];
    char data[64];
    uint8_t valid[8];
    memset(valid, 0xFF, sizeof valid);
    tl_bit_set(valid, 5, 0);
    offs[0] = 0;
    for (int i = 0; i < 64; i++) {
        data[i] = abc[(i * 7) % 3][0];
        offs[i + 1] = (uint32_t)i + 1;
    }
    tl_coldef def = {"s", TL_STRING};
    tlf_col_opts co = {.encoding = TLF_ENC_DICT, .compression = TLF_COMP_NONE};
    membuf m = {0};
    tlf_writer_opts o = {.col_opts = &co};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v = {.offsets = offs, .data = (const uint8_t *)data, .validity = valid};
    cr_assert_eq(tlf_seg_writer_append(w, &v, 64, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "z.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    uint64_t off = bi->offset;
    cr_assert_eq(f[off], TLF_ENC_FOR);
    cr_assert_eq(f[off + 16], 2); /* 3 entries: 2-bit codes, base 0 */
    cr_assert_eq(tlf_ld64(f + off + 8), 0);
    f[off + 32 + 1] |= 0x0C; /* row 5: bits 10-11 -> code 3 */
    uint32_t ob[65];
    uint8_t db[64], vb[8];
    tlf_vec out = {.buf = ob, .buf_cap = sizeof ob, .data_buf = db, .data_cap = sizeof db,
                   .valid_buf = vb, .valid_cap = sizeof vb};
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + off, bi->length, 0, &out, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "z.seg: column 's' (0), block 0, byte offset",
               "dict: code 3 of value 5", "not below the dictionary size 3");
    f[off + 32 + 1] &= (uint8_t)~0x0C; /* code 0 at the null row: fine, decodes as "" */
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + off, bi->length, 0, &out, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(out.offsets[6] - out.offsets[5], 0);
    tlf_seg_close(s);
    free(f);
    free(m.p);
}

/* FMT-R15: a sorted string column gets RLE codes; a corrupt run value is
 * reported with its place */
/* FMT-R19 */
Test(corrupt, dictionary_rle_codes)
{
    const char *vals[2] = {"CE", "PE"};
    uint32_t offs[1001];
    char data[2000];
    offs[0] = 0;
    for (int i = 0; i < 1000; i++) {
        memcpy(data + 2 * i, vals[i >= 600], 2);
        offs[i + 1] = (uint32_t)(2 * i + 2);
    }
    tl_coldef def = {"opt", TL_STRING};
    tlf_col_opts co = {.encoding = TLF_ENC_AUTO, .compression = TLF_COMP_NONE};
    membuf m = {0};
    tlf_writer_opts o = {.col_opts = &co};
    tlf_seg_writer *w;
    tl_error err;
    cr_assert_eq(tlf_seg_writer_open(&def, 1, &o, (tlf_sink){membuf_write, &m}, &w, &err), TL_OK);
    tl_colvec v = {.offsets = offs, .data = (const uint8_t *)data};
    cr_assert_eq(tlf_seg_writer_append(w, &v, 1000, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tlf_seg_writer_finish(w, NULL, &err), TL_OK, "%s", err.msg);
    tlf_seg_writer_free(w);
    uint8_t *f = aligned_copy(m.p, m.len);
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, m.len, "r.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    const tlf_block_info *bi = tlf_seg_block(s, 0, 0);
    cr_assert_eq(bi->encoding, TLF_ENC_DICT);
    cr_assert_eq(f[bi->offset], TLF_ENC_RLE);
    cr_assert_eq(bi->payload_len, 8 + 8 + 8 + 8); /* 2 runs: 2 codes, 2 ends */
    uint64_t off = bi->offset;
    tlf_st32(f + off + 16 + 4, 2); /* second run's code */
    tlf_vec out = {.buf = malloc(4004), .buf_cap = 4004, .data_buf = malloc(2000),
                   .data_cap = 2000};
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + off, bi->length, 0, &out, &err), TL_ECORRUPT);
    char want[128];
    snprintf(want, sizeof want, "r.seg: column 'opt' (0), block 0, byte offset %llu",
             (unsigned long long)off);
    EXPECT_MSG(err, want, "dict: code 2 of value 600 (at payload offset 20) is not below the "
                          "dictionary size 2");
    tlf_st32(f + off + 16 + 4, 1);
    tlf_st32(f + off + 24, 1000); /* first run end = the second's */
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + off, bi->length, 0, &out, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'opt' (0)", "dict: codes rle: run end at payload offset 28 not "
                                        "increasing: 1000 after 1000");
    tlf_st32(f + off + 24, 600);
    cr_assert_eq(tlf_seg_decode(s, 0, 0, f + off, bi->length, 0, &out, &err), TL_OK, "%s",
                 err.msg);
    cr_assert(memcmp(out.data + out.offsets[599], "CEPE", 4) == 0);
    free(out.buf);
    free(out.data_buf);
    tlf_seg_close(s);
    free(f);
    free(m.p);
}

Test(corrupt, validity_bitmap_disagrees_with_null_count)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 4, 0);
    uint64_t off = tlf_ld64(e + TLF_BI_OFFSET);
    uint32_t pl = tlf_ld32(e + TLF_BI_PAYLOAD_LEN);
    f[off + tlf_align_up(pl, 8)] ^= 0x02; /* row 1 becomes null */
    refix_block(f, 4, 0);
    tl_error err;
    cr_assert_eq(decode_one(f, 4, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'qty' (4), block 0", "validity bitmap", "expected 25 nulls",
               "found 26");
    /* bits beyond the last row */
    memcpy(f, seg.p, seg.len);
    e = entry(f, 4, 2);
    off = tlf_ld64(e + TLF_BI_OFFSET);
    pl = tlf_ld32(e + TLF_BI_PAYLOAD_LEN);
    f[off + tlf_align_up(pl, 8) + 2] |= 0x80; /* row 23 of 20 */
    refix_block(f, 4, 2);
    cr_assert_eq(decode_one(f, 4, 2, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "beyond row 20");
    free(f);
}

/* FMT-R24: null positions increase strictly and stay below n_rows; the
 * reader names the position's byte offset */
Test(corrupt, validity_positions_out_of_order_or_range)
{
    uint8_t *f = copy_seg();
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(f, seg.len, "t.seg", 0, &s, &err), TL_OK, "%s", err.msg);
    uint32_t b = 0;
    while (b < 3 && !(tlf_seg_block(s, 3, b)->validity == TLF_VALID_POSITIONS &&
                      tlf_seg_block(s, 3, b)->null_count >= 2))
        b++;
    cr_assert_lt(b, 3, "no block of 'note' stores two or more null positions");
    const tlf_block_info bi = *tlf_seg_block(s, 3, b);
    uint64_t at = bi.offset + (bi.payload_len + 7) / 8 * 8;
    uint32_t n = bi.n_rows;
    tlf_seg_close(s);
    for (int which = 0; which < 3; which++) {
        memcpy(f, seg.p, seg.len);
        uint16_t p0 = tlf_ld16(f + at), p1 = tlf_ld16(f + at + 2);
        uint64_t bad_off = at + 2;
        if (which == 0) { /* out of order */
            tlf_st16(f + at, p1);
            tlf_st16(f + at + 2, p0);
        } else if (which == 1) { /* repeated */
            tlf_st16(f + at + 2, p0);
        } else { /* past the last row */
            tlf_st16(f + at, (uint16_t)n);
            bad_off = at;
        }
        refix_block(f, 3, b);
        for (int api = 0; api < 2; api++) {
            if (api == 0) {
                cr_assert_eq(decode_one(f, 3, b, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
            } else {
                cr_assert_eq(tlf_seg_open_mem(f, seg.len, "t.seg", 0, &s, &err), TL_OK);
                uint8_t vb[8];
                const uint8_t *v;
                cr_assert_eq(tlf_seg_validity(s, 3, b, f + bi.offset, bi.length, vb,
                                              sizeof vb, &v, &err),
                             TL_ECORRUPT);
                tlf_seg_close(s);
            }
            char where[128];
            snprintf(where, sizeof where, "t.seg: column 'note' (3), block %u, byte offset %llu",
                     b, (unsigned long long)bad_off);
            EXPECT_MSG(err, where, "validity positions",
                       which == 2 ? "below 50" : "expected a row above");
        }
    }
    free(f);
}

Test(corrupt, zstd_frame_checks)
{
    /* encoded_len off by 8 (within its bound): frame content size differs */
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 1, 0);
    tlf_st32(e + TLF_BI_ENCODED_LEN, tlf_ld32(e + TLF_BI_ENCODED_LEN) + 8);
    refix(f, seg.len);
    tl_error err;
    cr_assert_eq(decode_one(f, 1, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'price' (1), block 0", "frame content size");
    /* garbage frame */
    memcpy(f, seg.p, seg.len);
    e = entry(f, 1, 0);
    memset(f + tlf_ld64(e + TLF_BI_OFFSET) + 4, 0xAB, 8);
    refix_block(f, 1, 0);
    cr_assert_eq(decode_one(f, 1, 0, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'price' (1), block 0");
    free(f);
}

Test(corrupt, plain_string_offsets)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 3, 1);
    uint64_t off = tlf_ld64(e + TLF_BI_OFFSET);
    tlf_st32(f + off + 4 * 10, tlf_ld32(f + off + 4 * 9) - 1 + 0 * 0); /* decreasing */
    if (tlf_ld32(f + off + 4 * 9) == 0)
        tlf_st32(f + off + 4 * 10, UINT32_MAX);
    refix_block(f, 3, 1);
    tl_error err;
    cr_assert_eq(decode_one(f, 3, 1, TLF_DECODE_VERIFY, &err), TL_ECORRUPT);
    EXPECT_MSG(err, "column 'note' (3), block 1", "plain strings");
    free(f);
}

/* FMT-R4, FMT-R10 */
Test(corrupt, block_checksum_message)
{
    uint8_t *f = copy_seg();
    uint8_t *e = entry(f, 0, 2);
    uint64_t off = tlf_ld64(e + TLF_BI_OFFSET);
    f[off + 3] ^= 1;
    tl_error err;
    cr_assert_eq(decode_one(f, 0, 2, TLF_DECODE_VERIFY, &err), TL_ECHECKSUM);
    char want[128];
    snprintf(want, sizeof want, "t.seg: column 'ts' (0), block 2, byte offset %llu",
             (unsigned long long)off);
    EXPECT_MSG(err, want, "checksum mismatch", "expected 0x", "found 0x");
    tlf_seg *s;
    cr_assert_eq(tlf_seg_open_mem(f, seg.len, "t.seg", TLF_OPEN_VERIFY_BLOCKS, &s, &err),
                 TL_ECHECKSUM);
    EXPECT_MSG(err, want);
    cr_assert_eq(tlf_seg_open_mem(f, seg.len, "t.seg", 0, &s, &err), TL_OK);
    cr_assert_eq(tlf_seg_verify_all(s, &err), TL_ECHECKSUM);
    EXPECT_MSG(err, want);
    tlf_seg_close(s);
    free(f);
}
