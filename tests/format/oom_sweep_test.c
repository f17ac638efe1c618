/*
 * oom_sweep_test.c - allocation-failure sweeps over the format decoders
 * (issue 7; figures in tests/reliability/DECODERS.md).
 *
 * Each sweep runs one decoder entry point from start to end (open, decode
 * everything, close) over one input, first only counting allocations (the
 * baseline: TL_OK and an FNV-1a digest of every decoded byte), then for
 * k = 1, 2, ... with the k-th allocation failing (tests/support/oom.h),
 * once and sticky, until the operation no longer reaches k. Every case must
 * end either in TL_ENOMEM with a message (never TL_ECORRUPT or another code:
 * an out-of-memory is not bad data), or in TL_OK with the baseline digest
 * (a failure the code recovered from); after disarming, the same input must
 * decode to the same digest. Leaks: the ASan build (LeakSanitizer at the
 * worker's exit fails the test through ctest's FAIL_REGULAR_EXPRESSION).
 *
 * Entry points: tl_pq_open_mem / tl_pq_open + tl_pq_read_chunk of every row
 * group and column (Parquet files of ../shared/parquet-testing/good: skipped
 * when absent, and files written here by tl_pq_writer with every codec and
 * page version), the Parquet writer itself (tlf_pq_compress), and the
 * segment reader (tlf_seg_open_mem with block verification, the two-step
 * tlf_seg_parse_trailer + tlf_seg_open_footer, tlf_seg_decode of every block
 * of every column, tlf_seg_rle_runs / tlf_seg_validity).
 *
 * Cost: every k of every sweep by default for the files below; with
 * TL_DEC_OOM_FULL=1 every file of the corpus's good/ directory.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixture.h"
#include "enc.h"
#include "oom_sweep.h"
#include "segment_testlib.h"
#include "tl_parquet.h"

#define CORPUS TL_SOURCE_DIR "/../shared/parquet-testing"

/* ---- Parquet reading --------------------------------------------------------- */

typedef struct pq_in {
    const uint8_t *buf;
    size_t len;
    const char *name; /* memory name, or the path with by_path */
    int by_path;
} pq_in;

static uint64_t digest_chunk(uint64_t h, const tl_pq_file *f, uint32_t c, const tl_pq_colbuf *b)
{
    const tl_pq_colinfo *ci = tl_pq_col(f, c);
    h = fnv(h, &b->n, sizeof b->n);
    h = fnv(h, &b->ts_unit, sizeof b->ts_unit);
    if (ci->type == TL_STRING) {
        h = fnv(h, b->vec.offsets, (b->n + 1) * sizeof(uint32_t));
        h = fnv(h, b->vec.data, b->vec.offsets[b->n]);
    } else {
        h = fnv(h, b->vec.values, b->n * tl_type_width(ci->type));
    }
    for (uint64_t i = 0; i < b->n; i++) {
        uint8_t v = (uint8_t)tl_bit_get(b->vec.validity, i);
        h = fnv(h, &v, 1);
    }
    return h;
}

static int pq_read_all(void *ctx, uint64_t *digest, tl_error *err)
{
    const pq_in *in = ctx;
    tl_pq_file *f = NULL;
    int rc = in->by_path ? tl_pq_open(in->name, &f, err)
                         : tl_pq_open_mem(in->buf, in->len, in->name, &f, err);
    if (rc)
        return rc;
    tl_pq_colbuf b = {0};
    uint64_t h = *digest;
    for (uint32_t rg = 0; rg < tl_pq_n_row_groups(f) && !rc; rg++)
        for (uint32_t c = 0; c < tl_pq_n_cols(f) && !rc; c++) {
            rc = tl_pq_read_chunk(f, rg, c, &b, err);
            if (!rc)
                h = digest_chunk(h, f, c, &b);
        }
    tl_pq_colbuf_free(&b);
    tl_pq_close(f);
    *digest = h;
    return rc;
}

static int corpus_present(void)
{
    struct stat st;
    return stat(CORPUS "/MANIFEST.tsv", &st) == 0;
}

/* The default selection: every codec (snappy, gzip incl. concatenated
 * members, brotli, zstd, lz4_raw), v1 and v2 pages, dictionaries, DELTA_*
 * encodings, INT96, decimals, FLOAT16, null pages, page CRCs. */
static const char *const pq_default[] = {
    "alltypes_plain.parquet",
    "concatenated_gzip_members.parquet",
    "datapage_v2_empty_datapage.snappy.parquet",
    "delta_encoding_optional_column.parquet",
    "delta_length_byte_array.parquet",
    "dict-page-offset-zero.parquet",
    "fixed_length_decimal.parquet",
    "float16_nonzeros_and_nans.parquet",
    "int32_with_null_pages.parquet",
    "int96_from_spark.parquet",
    "lz4_raw_compressed.parquet",
    "rle-dict-snappy-checksum.parquet",
    "rle_boolean_encoding.parquet",
    "byte_array_decimal.parquet",
    "column_chunk_key_value_metadata.parquet",
    "gen_tick_duckdb_empty.parquet",
};

static int full_mode(void)
{
    const char *e = getenv("TL_DEC_OOM_FULL");
    return e && *e && strcmp(e, "0") != 0;
}

Test(oom_sweep, parquet_corpus_files)
{
    if (!corpus_present())
        cr_skip_test("../shared/parquet-testing is absent");
    static char names[128][256];
    int n = 0;
    if (full_mode()) {
        DIR *d = opendir(CORPUS "/good");
        cr_assert_not_null(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL && n < 128) {
            size_t l = strlen(de->d_name);
            if (l > 8 && strcmp(de->d_name + l - 8, ".parquet") == 0 && l < 256)
                snprintf(names[n++], 256, "%s", de->d_name);
        }
        closedir(d);
    } else {
        for (size_t i = 0; i < sizeof pq_default / sizeof *pq_default; i++)
            snprintf(names[n++], 256, "%s", pq_default[i]);
    }
    sweep_stats st = {0};
    for (int i = 0; i < n; i++) {
        char path[sizeof CORPUS + 300];
        snprintf(path, sizeof path, "%s/good/%.255s", CORPUS, names[i]);
        size_t len;
        uint8_t *buf = tlt_slurp(path, &len);
        pq_in in = {buf, len, names[i], 0};
        sweep_stats one = {0};
        sweep(names[i], pq_read_all, &in, names[i], &one);
        fprintf(stderr, "oom_sweep: parquet %s: points %llu cases %llu enomem %llu\n", names[i],
                (unsigned long long)one.points, (unsigned long long)one.cases,
                (unsigned long long)one.enomem);
        st.points += one.points;
        st.cases += one.cases;
        st.enomem += one.enomem;
        st.recovered += one.recovered;
        free(buf);
    }
    char label[64];
    snprintf(label, sizeof label, "parquet corpus (%d files%s)", n, full_mode() ? ", full" : "");
    report(label, &st);
}

Test(oom_sweep, parquet_open_by_path)
{
    if (!corpus_present())
        cr_skip_test("../shared/parquet-testing is absent");
    pq_in in = {NULL, 0, CORPUS "/good/alltypes_plain.parquet", 1};
    sweep_stats st = {0};
    sweep("tl_pq_open alltypes_plain", pq_read_all, &in, "alltypes_plain.parquet", &st);
    report("parquet by path", &st);
}

/* ---- Parquet files written here (no corpus needed) -------------------------- */

static int mem_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    return tlf_buf_append((tlf_buf *)ctx, buf, len, err);
}

enum { WT_COLS = 6, WT_ROWS = 3000 };
static const tl_coldef wt_cols[WT_COLS] = {
    {"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64},
    {"qty", TL_INT32},    {"flag", TL_BOOL},  {"note", TL_STRING},
};
static const uint8_t wt_optional[WT_COLS] = {0, 0, 1, 1, 0, 1};

typedef struct wt_data {
    int64_t ts[WT_ROWS];
    double px[WT_ROWS];
    int32_t qty[WT_ROWS];
    uint8_t flag[WT_ROWS];
    uint32_t soff[WT_ROWS + 1], noff[WT_ROWS + 1];
    char sdata[WT_ROWS * 8], ndata[WT_ROWS * 24];
    uint8_t valid[(WT_ROWS + 7) / 8];
    tl_colvec vec[WT_COLS];
} wt_data;

static wt_data wt;

static void wt_fill(void)
{
    static const char *const syms[] = {"AAPL", "MSFT", "GOOG", "X"};
    uint32_t sp = 0, np = 0;
    for (uint32_t i = 0; i < WT_ROWS; i++) {
        wt.ts[i] = 1700000000000000000ll + (int64_t)i * 1000003;
        wt.px[i] = 100.0 + (double)(i % 97) * 0.25;
        wt.qty[i] = (int32_t)(i * 37 % 1000);
        wt.flag[i] = (uint8_t)(i % 3 == 0);
        tl_bit_set(wt.valid, i, i % 5 != 2);
        int l = snprintf(wt.sdata + sp, 8, "%s", syms[i % 4]);
        sp += (uint32_t)l;
        wt.soff[i + 1] = sp;
        if (i % 5 != 2) {
            l = snprintf(wt.ndata + np, 24, "n%u-%x", i, i * 2654435761u);
            np += (uint32_t)l;
        }
        wt.noff[i + 1] = np;
    }
    wt.vec[0].values = wt.ts;
    wt.vec[1].offsets = wt.soff;
    wt.vec[1].data = (const uint8_t *)wt.sdata;
    wt.vec[2].values = wt.px;
    wt.vec[2].validity = wt.valid;
    wt.vec[3].values = wt.qty;
    wt.vec[3].validity = wt.valid;
    wt.vec[4].values = wt.flag;
    wt.vec[5].offsets = wt.noff;
    wt.vec[5].data = (const uint8_t *)wt.ndata;
    wt.vec[5].validity = wt.valid;
}

typedef struct wt_ctx {
    tl_pq_write_opts o;
    tlf_buf out;
} wt_ctx;

/* Writes the table (two write calls, small pages and row groups). */
static int pq_write_op(void *ctx, uint64_t *digest, tl_error *err)
{
    wt_ctx *w = ctx;
    w->out.len = 0;
    tl_pq_writer *pw = NULL;
    int rc = tl_pq_writer_open(wt_cols, WT_COLS, wt_optional, &w->o,
                               (tlf_sink){mem_write, &w->out}, &pw, err);
    if (rc)
        return rc;
    rc = tl_pq_writer_write(pw, wt.vec, 1000, err);
    if (!rc) {
        tl_colvec rest[WT_COLS];
        for (int c = 0; c < WT_COLS; c++) {
            rest[c] = wt.vec[c];
            size_t wd = tl_type_width(wt_cols[c].type);
            if (wd)
                rest[c].values = (const uint8_t *)wt.vec[c].values + 1000 * wd;
            else
                rest[c].offsets = wt.vec[c].offsets + 1000;
            /* 1000 is a multiple of 8: the validity slices at a byte */
            if (rest[c].validity)
                rest[c].validity = wt.valid + 1000 / 8;
        }
        rc = tl_pq_writer_write(pw, rest, WT_ROWS - 1000, err);
    }
    if (!rc)
        rc = tl_pq_writer_close(pw, NULL, err);
    tl_pq_writer_free(pw);
    if (!rc)
        *digest = fnv(*digest, w->out.p, w->out.len);
    return rc;
}

static const struct {
    int codec, v2;
} wt_variants[] = {
    {TL_PQ_UNCOMPRESSED, 0}, {TL_PQ_SNAPPY, 0}, {TL_PQ_ZSTD, 1}, {TL_PQ_SNAPPY, 1},
};

static void wt_opts(tl_pq_write_opts *o, int v)
{
    tl_pq_write_opts_default(o);
    o->codec = wt_variants[v].codec;
    o->data_page_v2 = (uint8_t)wt_variants[v].v2;
    o->row_group_rows = 1200;
    o->page_rows = 500;
    o->created_by = "oom_sweep_test";
    o->timestamp_micros = v == 1;
}

Test(oom_sweep, parquet_writer_and_reader_every_codec)
{
    wt_fill();
    sweep_stats wst = {0}, rst = {0};
    for (size_t v = 0; v < sizeof wt_variants / sizeof *wt_variants; v++) {
        wt_ctx w = {0};
        wt_opts(&w.o, (int)v);
        char what[64];
        snprintf(what, sizeof what, "writer %s v%d", tl_pq_codec_name(wt_variants[v].codec),
                 wt_variants[v].v2 ? 2 : 1);
        sweep(what, pq_write_op, &w, NULL, &wst);
        /* read back the file just written */
        uint64_t d = FNV0;
        tl_error err = {0};
        cr_assert_eq(pq_write_op(&w, &d, &err), TL_OK, "%s", err.msg);
        pq_in in = {w.out.p, w.out.len, "written.parquet", 0};
        snprintf(what, sizeof what, "reader %s v%d", tl_pq_codec_name(wt_variants[v].codec),
                 wt_variants[v].v2 ? 2 : 1);
        sweep(what, pq_read_all, &in, "written.parquet", &rst);
        tlf_buf_free(&w.out);
    }
    report("parquet writer (4 codec/page variants)", &wst);
    report("parquet reader of written files (4 variants)", &rst);
}

/* ---- segments --------------------------------------------------------------- */

typedef struct seg_ctx {
    const uint8_t *file;
    uint64_t size;
    int two_step;
    uint8_t *buf, *data, *valid;
    size_t buf_cap, data_cap, valid_cap;
} seg_ctx;

static int seg_decode_all(const tlf_seg *s, seg_ctx *x, uint64_t *digest, tl_error *err)
{
    uint64_t h = *digest;
    for (uint32_t c = 0; c < tlf_seg_n_cols(s); c++) {
        const tlf_col_info *ci = tlf_seg_col(s, c);
        h = fnv(h, ci->name, strlen(ci->name));
        for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
            const tlf_block_info *bi = tlf_seg_block(s, c, b);
            const uint8_t *bytes = x->file + bi->offset;
            tlf_vec v = {.buf = x->buf, .buf_cap = x->buf_cap, .data_buf = x->data,
                         .data_cap = x->data_cap, .valid_buf = x->valid, .valid_cap = x->valid_cap};
            int rc = tlf_seg_decode(s, c, b, bytes, bi->length, TLF_DECODE_VERIFY, &v, err);
            if (rc)
                return rc;
            h = fnv(h, &v.n, sizeof v.n);
            if (ci->type == TL_STRING) {
                h = fnv(h, v.offsets, (v.n + 1) * sizeof(uint32_t));
                h = fnv(h, v.data, v.offsets[v.n]);
            } else {
                h = fnv(h, v.values, (size_t)v.n * tl_type_width(ci->type));
            }
            if (v.validity)
                h = fnv(h, v.validity, (v.n + 7) / 8);
            /* the narrow form too */
            tlf_vec nv = v;
            rc = tlf_seg_decode(s, c, b, bytes, bi->length, TLF_DECODE_NARROW, &nv, err);
            if (rc)
                return rc;
            h = fnv(h, &nv.scale, sizeof nv.scale);
            const uint8_t *vb = NULL;
            rc = tlf_seg_validity(s, c, b, bytes, bi->length, x->valid, x->valid_cap, &vb, err);
            if (rc)
                return rc;
        }
    }
    *digest = h;
    return TL_OK;
}

static int seg_op(void *ctx, uint64_t *digest, tl_error *err)
{
    seg_ctx *x = ctx;
    tlf_seg *s = NULL;
    int rc;
    if (x->two_step) {
        uint64_t foff, flen;
        const uint8_t *tail = x->file + x->size - TLF_TRAILER_SIZE;
        rc = tlf_seg_parse_trailer(tail, x->size, "sweep.tls", &foff, &flen, err);
        if (rc)
            return rc;
        rc = tlf_seg_open_footer(x->file + foff, flen, tail, x->size, "sweep.tls", &s, err);
    } else {
        rc = tlf_seg_open_mem(x->file, x->size, "sweep.tls", TLF_OPEN_VERIFY_BLOCKS, &s, err);
    }
    if (rc)
        return rc;
    rc = seg_decode_all(s, x, digest, err);
    tlf_seg_close(s);
    return rc;
}

Test(oom_sweep, segment_open_and_decode_every_block)
{
    enum { NC = 9, N = 5000 };
    tcol cols[NC];
    tcol_fill(&cols[0], "ts", TL_TIMESTAMP, TLF_ENC_DELTA, TLF_COMP_NONE, D_SORTED, N_NONE, N, 1);
    tcol_fill(&cols[1], "sym", TL_STRING, TLF_ENC_DICT, TLF_COMP_NONE, D_LOWCARD, N_NONE, N, 2);
    tcol_fill(&cols[2], "px", TL_FLOAT64, TLF_ENC_SCALED, TLF_COMP_NONE, D_GRID, N_RAND5, N, 3);
    tcol_fill(&cols[3], "qty", TL_INT32, TLF_ENC_FOR, TLF_COMP_ZSTD, D_TRADES, N_ALT, N, 4);
    tcol_fill(&cols[4], "run", TL_INT64, TLF_ENC_RLE, TLF_COMP_NONE, D_RUNS, N_NONE, N, 5);
    tcol_fill(&cols[5], "note", TL_STRING, TLF_ENC_PLAIN, TLF_COMP_ZSTD, D_RANDOM, N_RAND5, N, 6);
    tcol_fill(&cols[6], "lots", TL_INT16, TLF_ENC_DICT, TLF_COMP_NONE, D_LOTS, N_NONE, N, 7);
    tcol_fill(&cols[7], "f32", TL_FLOAT32, TLF_ENC_PLAIN, TLF_COMP_ZSTD, D_EDGE, N_ALL, N, 8);
    tcol_fill(&cols[8], "id", TL_STRING, TLF_ENC_DICT, TLF_COMP_ZSTD, D_UNIQUE, N_NONE, N, 9);
    const char *const meta[] = {"k", "v", NULL};
    membuf m = write_cols(cols, NC, 1024, 1700, meta, NULL);
    uint8_t *file = aligned_copy(m.p, m.len);
    seg_ctx x = {.file = file, .size = m.len};
    x.buf_cap = (size_t)1024 * 8 + 64;
    x.data_cap = (size_t)1024 * 160 + 64;
    x.valid_cap = 1024 / 8 + 8;
    x.buf = aligned_alloc(64, x.buf_cap + 64);
    x.data = malloc(x.data_cap);
    x.valid = malloc(x.valid_cap);
    cr_assert(x.buf && x.data && x.valid);
    sweep_stats st = {0};
    sweep("segment open_mem+decode", seg_op, &x, "sweep.tls", &st);
    x.two_step = 1;
    sweep("segment two-step open+decode", seg_op, &x, "sweep.tls", &st);
    report("segment reader (9 columns, 5 blocks each)", &st);
    free(x.buf);
    free(x.data);
    free(x.valid);
    free(file);
    free(m.p);
    for (int i = 0; i < NC; i++)
        tcol_free(&cols[i]);
}
