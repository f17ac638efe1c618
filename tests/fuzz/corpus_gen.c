/*
 * corpus_gen.c - writes and checks the seed corpora of the fuzz targets.
 *
 *   corpus_gen --write DIR   write DIR/fuzz_enc/seed_* and DIR/fuzz_segment/seed_*
 *   corpus_gen --check DIR   every seed_* must be a valid input of the current
 *                            layout: fuzz_enc payloads decode (TL_OK) in their
 *                            mode, fuzz_segment files open with every block
 *                            checksum verified and every block decodes
 *
 * The seeds are made with the library's own encoders and writer, so after a
 * layout change `--write tests/fuzz/corpus` regenerates them; ctest runs
 * `--check` so stale seeds (which would only exercise the rejection paths)
 * fail CI. fuzz_enc input: byte 0 mode (FOR, DELTA, RLE, SCALED, DICT, BITS,
 * FIND, FDICT), byte 1 bits 0-1 width index (1, 2, 4, 8) and bit 2 signed,
 * bytes 2-3 u16 n, bytes 4-7 u32 n_dict; then the payload (fuzz_enc.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enc.h"
#include "tl_format.h"

enum { M_FOR, M_DELTA, M_RLE, M_SCALED, M_DICT, M_BITS, M_FIND, M_FDICT, M_COUNT };

static uint64_t rs = 20261121;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void die(const char *what, const tl_error *err)
{
    fprintf(stderr, "corpus_gen: %s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

static void put_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0)
        die(path, NULL);
}

/* ---- fuzz_enc seeds ------------------------------------------------------- */

static int n_enc;
static const char *enc_dir;

/* byte1: bits 0-1 width index (1, 2, 4, 8), bit 2 signed; BITS: the width */
static void enc_seed(int mode, unsigned byte1, uint32_t n, uint32_t nd, const tlf_buf *pl)
{
    uint8_t *f = malloc(8 + pl->len);
    if (!f)
        die("out of memory", NULL);
    f[0] = (uint8_t)mode;
    f[1] = (uint8_t)byte1;
    f[2] = (uint8_t)n;
    f[3] = (uint8_t)(n >> 8);
    memcpy(f + 4, &nd, 4);
    if (pl->len)
        memcpy(f + 8, pl->p, pl->len);
    char name[32];
    snprintf(name, sizeof name, "seed_%02d", n_enc++);
    put_file(enc_dir, name, f, 8 + pl->len);
    free(f);
}

static void gen_enc(void)
{
    tlf_buf b = {0};
    tl_error err;
    static int64_t v[4096];
    static uint32_t codes[4096];
    static double d[4096];
    /* FOR: int64 random small range; uint16; n = 0 */
    for (uint32_t i = 0; i < 300; i++)
        v[i] = -5000 + (int64_t)(rnd() % 100000);
    b.len = 0;
    if (tlf_for_encode(v, 300, 8, 1, &b, &err))
        die("for", &err);
    enc_seed(M_FOR, 3 | 4, 300, 0, &b);
    uint16_t u16[64];
    for (uint32_t i = 0; i < 40; i++)
        u16[i] = (uint16_t)(60000 + rnd() % 5000);
    b.len = 0;
    if (tlf_for_encode(u16, 40, 2, 0, &b, &err))
        die("for", &err);
    enc_seed(M_FOR, 1, 40, 0, &b);
    b.len = 0;
    if (tlf_for_encode_opt(u16, 40, 2, 0, TLF_OPT_BYTE_ALIGN, &b, &err))
        die("for", &err);
    enc_seed(M_FOR, 1, 40, 0, &b);
    b.len = 0;
    if (tlf_for_encode(v, 0, 4, 0, &b, &err))
        die("for", &err);
    enc_seed(M_FOR, 2, 0, 0, &b);
    /* FOR with a common factor: multiples of a lot size */
    for (uint32_t i = 0; i < 200; i++)
        v[i] = 25 * (int64_t)(1 + rnd() % 62);
    b.len = 0;
    if (tlf_for_encode(v, 200, 8, 1, &b, &err))
        die("for", &err);
    enc_seed(M_FOR, 3 | 4, 200, 0, &b);
    /* DELTA with per-miniblock factors: cumulative volume, a reset */
    int64_t vol = 0;
    for (uint32_t i = 0; i < 700; i++) {
        vol = i == 500 ? 0 : vol + 25 * (int64_t)(1 + rnd() % 5);
        v[i] = vol;
    }
    b.len = 0;
    if (tlf_delta_encode(v, 700, 8, 1, &b, &err))
        die("delta", &err);
    enc_seed(M_DELTA, 3 | 4, 700, 0, &b);
    /* DELTA: sorted int64 with a jump; int16; one value */
    int64_t x = 1700000000000000000ll;
    for (uint32_t i = 0; i < 600; i++) {
        x += (int64_t)(rnd() % 5000) + (i == 400 ? 1ll << 40 : 0);
        v[i] = x;
    }
    b.len = 0;
    if (tlf_delta_encode(v, 600, 8, 1, &b, &err))
        die("delta", &err);
    enc_seed(M_DELTA, 3 | 4, 600, 0, &b);
    int16_t i16[64];
    for (uint32_t i = 0; i < 40; i++)
        i16[i] = (int16_t)(i * 100 - 2000);
    b.len = 0;
    if (tlf_delta_encode(i16, 40, 2, 1, &b, &err))
        die("delta", &err);
    enc_seed(M_DELTA, 1 | 4, 40, 0, &b);
    b.len = 0;
    if (tlf_delta_encode(v, 1, 8, 1, &b, &err))
        die("delta", &err);
    enc_seed(M_DELTA, 3 | 4, 1, 0, &b);
    /* RLE: uint32 runs; int16 */
    uint32_t u32[128];
    for (uint32_t i = 0; i < 100; i++)
        u32[i] = i / 30;
    b.len = 0;
    if (tlf_rle_encode(u32, 100, 4, &b, &err))
        die("rle", &err);
    enc_seed(M_RLE, 2, 100, 0, &b);
    b.len = 0;
    if (tlf_rle_encode(i16, 40, 2, &b, &err))
        die("rle", &err);
    enc_seed(M_RLE, 1, 40, 0, &b);
    /* SCALED: prices on 0.05 with every inner; float32 strikes */
    int64_t k = 900000;
    for (uint32_t i = 0; i < 300; i++) {
        k += (int64_t)(rnd() % 7) - 3;
        d[i] = (double)k / 20.0;
    }
    static const int inners[] = {TLF_ENC_PLAIN, TLF_ENC_RLE, TLF_ENC_FOR, TLF_ENC_DELTA};
    static int64_t kk[4096];
    uint64_t div;
    if (!tlf_scaled_find(d, 300, 8, kk, &div))
        die("scaled_find", NULL);
    for (int ii = 0; ii < 4; ii++) {
        b.len = 0;
        if (tlf_scaled_encode(kk, 300, div, inners[ii], &b, &err))
            die("scaled", &err);
        enc_seed(M_SCALED, 1 | 4, 300, 0, &b);
    }
    float fs[64];
    for (uint32_t i = 0; i < 50; i++)
        fs[i] = (float)(40000 + 100 * (i / 10));
    if (!tlf_scaled_find(fs, 50, 4, kk, &div))
        die("scaled_find", NULL);
    b.len = 0;
    if (tlf_scaled_encode(kk, 50, div, TLF_ENC_FOR, &b, &err))
        die("scaled", &err);
    enc_seed(M_SCALED, 0 | 4, 50, 0, &b);
    /* DICT codes: FOR (random) and RLE (sorted) */
    for (uint32_t i = 0; i < 200; i++)
        codes[i] = (uint32_t)(rnd() % 37);
    b.len = 0;
    if (tlf_dict_encode(codes, 200, 37, &b, &err))
        die("dict", &err);
    enc_seed(M_DICT, 0, 200, 37, &b);
    for (uint32_t i = 0; i < 200; i++)
        codes[i] = i < 120 ? 0 : 1;
    b.len = 0;
    if (tlf_dict_encode(codes, 200, 2, &b, &err))
        die("dict", &err);
    enc_seed(M_DICT, 0, 200, 2, &b);
    /* DICT of fixed-width values: int32 lots (FOR codes), int8 runs (RLE
     * codes), float64 with NaN and -0.0, uint16 with byte-aligned codes */
    tlf_fdict fd = {0};
    int fits;
    static int32_t i32[4096];
    for (uint32_t i = 0; i < 300; i++) {
        uint64_t q = rnd() % 64;
        i32[i] = 25 * (int32_t)(1 + ((q * q * q) >> 12));
    }
    if (tlf_fdict_build(&fd, i32, 300, 4, 300, codes, &fits, &err) ||
        tlf_fdict_encode(fd.vals, fd.n_dict, 4, codes, 300, 0, (b.len = 0, &b), &err))
        die("fdict", &err);
    enc_seed(M_FDICT, 2 | 4, 300, 0, &b);
    int8_t i8[128];
    for (uint32_t i = 0; i < 100; i++)
        i8[i] = (int8_t)(i < 50 ? -3 : i < 90 ? 100 : -128);
    if (tlf_fdict_build(&fd, i8, 100, 1, 100, codes, &fits, &err) ||
        tlf_fdict_encode(fd.vals, fd.n_dict, 1, codes, 100, 0, (b.len = 0, &b), &err))
        die("fdict", &err);
    enc_seed(M_FDICT, 0 | 4, 100, 0, &b);
    double fv[64];
    const uint64_t pats[4] = {0x7ff8000000000000ull, 0x8000000000000000ull, 0,
                              0x4059000000000000ull};
    for (uint32_t i = 0; i < 64; i++)
        memcpy(&fv[i], &pats[(i * 5) % 4], 8);
    if (tlf_fdict_build(&fd, fv, 64, 8, 64, codes, &fits, &err) ||
        tlf_fdict_encode(fd.vals, fd.n_dict, 8, codes, 64, 0, (b.len = 0, &b), &err))
        die("fdict", &err);
    enc_seed(M_FDICT, 3, 64, 0, &b);
    for (uint32_t i = 0; i < 40; i++)
        u16[i] = (uint16_t)(1000 * (rnd() % 9));
    if (tlf_fdict_build(&fd, u16, 40, 2, 40, codes, &fits, &err) ||
        tlf_fdict_encode(fd.vals, fd.n_dict, 2, codes, 40, TLF_OPT_BYTE_ALIGN, (b.len = 0, &b),
                         &err))
        die("fdict", &err);
    enc_seed(M_FDICT, 1, 40, 0, &b);
    tlf_fdict_free(&fd);
    /* raw bit unpacking (width in byte 1), scaled_find on raw floats */
    uint8_t raw[64];
    for (int i = 0; i < 64; i++)
        raw[i] = (uint8_t)rnd();
    b.len = 0;
    if (tlf_buf_append(&b, raw, 64, &err))
        die("raw", &err);
    enc_seed(M_BITS, 13, 30, 0, &b); /* bit width 13 */
    b.len = 0;
    if (tlf_buf_append(&b, d, 100 * 8, &err))
        die("raw", &err);
    enc_seed(M_FIND, 1, 0, 0, &b);
    b.len = 0;
    if (tlf_buf_append(&b, fs, 50 * 4, &err))
        die("raw", &err);
    enc_seed(M_FIND, 0, 0, 0, &b);
    tlf_buf_free(&b);
}

/* ---- fuzz_segment seeds ----------------------------------------------------- */

typedef struct mem {
    uint8_t *p;
    size_t len, cap;
} mem;

static int mem_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    mem *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap *= 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p)
            return tl_error_set(err, TL_ENOMEM, "mem: out of memory");
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return TL_OK;
}

typedef struct scol {
    const char *name;
    tl_type type;
    uint8_t enc, comp;
    int kind; /* 0 random small, 1 sorted, 2 runs, 3 grid, 4 lowcard strings, 5 text,
                 6 constant */
    int nulls; /* null every k-th row (0: none) */
} scol;

static void seg_seed(const char *dir, const char *name, const scol *sc, uint32_t n_cols,
                     uint32_t n, uint32_t block_rows)
{
    tl_coldef defs[32];
    tlf_col_opts co[32];
    tl_colvec vec[32];
    void *bufs[32][3];
    memset(vec, 0, sizeof vec);
    memset(bufs, 0, sizeof bufs);
    for (uint32_t c = 0; c < n_cols; c++) {
        defs[c] = (tl_coldef){sc[c].name, sc[c].type};
        co[c] = (tlf_col_opts){.encoding = sc[c].enc, .compression = sc[c].comp};
        if (sc[c].nulls) {
            uint8_t *vb = calloc((n + 7) / 8 + 1, 1);
            for (uint32_t i = 0; i < n; i++)
                tl_bit_set(vb, i, i % (uint32_t)sc[c].nulls != 1);
            vec[c].validity = vb;
            bufs[c][2] = vb;
        }
        if (sc[c].type == TL_STRING) {
            uint32_t *off = malloc(((size_t)n + 1) * 4);
            char *data = malloc((size_t)n * 12 + 1);
            off[0] = 0;
            for (uint32_t i = 0; i < n; i++) {
                int l;
                if (sc[c].kind == 4)
                    l = snprintf(data + off[i], 12, "%s", i * 3 < n ? "CE" : "PE");
                else
                    l = snprintf(data + off[i], 12, "s%u", (unsigned)(rnd() % 1000));
                off[i + 1] = off[i] + (uint32_t)l;
            }
            vec[c].offsets = off;
            vec[c].data = (const uint8_t *)data;
            bufs[c][0] = off;
            bufs[c][1] = data;
            continue;
        }
        size_t w = tl_type_width(sc[c].type);
        uint8_t *vals = malloc((size_t)n * w + 8);
        int64_t acc = 1700000000000000000ll, price = 900000;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t r = rnd(), val;
            switch (sc[c].kind) {
            case 1: acc += (int64_t)(r % 1000); val = (uint64_t)acc; break;
            case 2: val = i / 7; break;
            case 6: val = 3; break;
            case 3: {
                price += (int64_t)(r % 7) - 3;
                double dv = (double)price / 20.0;
                float fv = (float)dv;
                if (sc[c].type == TL_FLOAT32)
                    memcpy(&val, &fv, 4);
                else
                    memcpy(&val, &dv, 8);
                break;
            }
            default: val = sc[c].type == TL_BOOL ? r & 1 : (r % 200) * 25;
            }
            memcpy(vals + (size_t)i * w, &val, w);
        }
        vec[c].values = vals;
        bufs[c][0] = vals;
    }
    mem m = {0};
    tlf_writer_opts o = {.block_rows = block_rows, .col_opts = co};
    tlf_seg_writer *wr;
    tl_error err;
    if (tlf_seg_writer_open(defs, n_cols, &o, (tlf_sink){mem_write, &m}, &wr, &err) ||
        tlf_seg_writer_append(wr, vec, n, &err) ||
        tlf_seg_writer_set_meta(wr, "k", "v", 1, &err) ||
        tlf_seg_writer_finish(wr, NULL, &err))
        die(name, &err);
    tlf_seg_writer_free(wr);
    put_file(dir, name, m.p, m.len);
    free(m.p);
    for (uint32_t c = 0; c < n_cols; c++)
        for (int j = 0; j < 3; j++)
            free(bufs[c][j]);
}

static void gen_segments(const char *dir)
{
    const uint8_t A = TLF_ENC_AUTO, CA = TLF_COMP_AUTO, CN = TLF_COMP_NONE, CZ = TLF_COMP_ZSTD;
    scol empty[] = {{"ts", TL_TIMESTAMP, A, CA, 1, 0}, {"s", TL_STRING, A, CA, 4, 0},
                    {"p", TL_FLOAT64, A, CA, 3, 0}};
    seg_seed(dir, "seed_empty", empty, 3, 0, 0);
    scol ints[] = {{"rle", TL_INT32, TLF_ENC_RLE, CN, 2, 0},
                   {"for", TL_INT64, TLF_ENC_FOR, CN, 0, 5},
                   {"delta", TL_TIMESTAMP, TLF_ENC_DELTA, CN, 1, 0},
                   {"z", TL_INT16, TLF_ENC_FOR, CZ, 0, 0},
                   {"dict", TL_INT32, TLF_ENC_DICT, CN, 0, 4},
                   {"dictz", TL_UINT64, TLF_ENC_DICT, CZ, 2, 0},
                   {"dictf", TL_FLOAT32, TLF_ENC_DICT, CN, 3, 0}};
    seg_seed(dir, "seed_int", ints, 7, 30, 12);
    scol mixed[] = {{"ts", TL_TIMESTAMP, A, CN, 1, 0},
                    {"price", TL_FLOAT64, TLF_ENC_SCALED, CN, 3, 0},
                    {"opt", TL_STRING, A, CN, 4, 0},
                    {"note", TL_STRING, TLF_ENC_PLAIN, CN, 5, 4},
                    {"qty", TL_INT32, A, CZ, 0, 3}};
    seg_seed(dir, "seed_mixed", mixed, 5, 40, 16);
    scol types[] = {{"b", TL_BOOL, A, CA, 0, 0},       {"i8", TL_INT8, A, CA, 2, 3},
                    {"i16", TL_INT16, A, CA, 0, 0},    {"i32", TL_INT32, A, CN, 0, 0},
                    {"i64", TL_INT64, A, CN, 1, 0},    {"u8", TL_UINT8, A, CN, 2, 0},
                    {"u16", TL_UINT16, A, CN, 0, 0},   {"u32", TL_UINT32, A, CN, 0, 5},
                    {"u64", TL_UINT64, A, CN, 1, 0},   {"f32", TL_FLOAT32, A, CN, 3, 0},
                    {"f64", TL_FLOAT64, A, CN, 3, 7},  {"t", TL_TIMESTAMP, A, CN, 1, 0},
                    {"d", TL_DATE, A, CN, 2, 0},       {"s", TL_STRING, TLF_ENC_DICT, CN, 5, 0}};
    seg_seed(dir, "seed_types", types, 14, 24, 8);
    scol codes[] = {{"sorted", TL_STRING, TLF_ENC_DICT, CN, 4, 0},
                    {"random", TL_STRING, TLF_ENC_DICT, CN, 5, 0},
                    {"lvl", TL_INT32, TLF_ENC_DICT, CN, 2, 0}}; /* rle codes */
    seg_seed(dir, "seed_dict_codes", codes, 3, 64, 32);
    /* validity as null positions (FMT-R24): u16 in blocks of 200 rows next
     * to a bitmap; u32 in one block of 70000 rows */
    scol sparse[] = {{"q", TL_INT32, A, CN, 0, 50},
                     {"s", TL_STRING, TLF_ENC_DICT, CN, 4, 60},
                     {"p", TL_FLOAT64, A, CN, 3, 3}};
    seg_seed(dir, "seed_positions", sparse, 3, 400, 200);
    scol wide[] = {{"c", TL_INT8, TLF_ENC_RLE, CN, 6, 10000}};
    seg_seed(dir, "seed_positions_u32", wide, 1, 70000, 70000);
    /* a version 1.1 file (FMT-R25): timestamp_us columns */
    scol us[] = {{"tu", TL_TIMESTAMP_US, A, CN, 1, 5},
                 {"tu_delta", TL_TIMESTAMP_US, TLF_ENC_DELTA, CN, 1, 0},
                 {"tu_dict", TL_TIMESTAMP_US, TLF_ENC_DICT, CZ, 2, 0}};
    seg_seed(dir, "seed_timestamp_us", us, 3, 30, 16);
}

/* ---- checking --------------------------------------------------------------- */

static int check_enc(const uint8_t *data, size_t size, tl_error *err)
{
    if (size < 8)
        return tl_error_set(err, TL_ECORRUPT, "shorter than the 8-byte header");
    int mode = data[0] % M_COUNT;
    static const unsigned WS[4] = {1, 2, 4, 8};
    unsigned w = WS[data[1] & 3];
    int s = (data[1] >> 2) & 1;
    uint32_t n = (uint32_t)(data[2] | data[3] << 8) % 4097, nd;
    memcpy(&nd, data + 4, 4);
    const uint8_t *pl = data + 8;
    size_t len = size - 8;
    void *out = malloc((size_t)n * 8 + 8);
    int rc = TL_OK;
    switch (mode) {
    case M_FOR: rc = tlf_for_decode(pl, len, n, w, s, out, err); break;
    case M_DELTA: rc = tlf_delta_decode(pl, len, n, w, s, out, err); break;
    case M_RLE: rc = tlf_rle_decode(pl, len, n, w, out, err); break;
    case M_SCALED:
        rc = tlf_scaled_decode(pl, len, n, (data[1] & 1) ? 8 : 4, out, NULL, err);
        break;
    case M_DICT: rc = tlf_dict_decode_codes(pl, len, n, nd, out, err); break;
    case M_FDICT: rc = tlf_fdict_decode(pl, len, n, w, out, err); break;
    default: break; /* raw modes: any bytes */
    }
    free(out);
    return rc;
}

static int check_seg(const uint8_t *f, size_t size, tl_error *err)
{
    tlf_seg *s;
    int rc = tlf_seg_open_mem(f, size, "seed", TLF_OPEN_VERIFY_BLOCKS, &s, err);
    if (rc)
        return rc;
    for (uint32_t c = 0; c < tlf_seg_n_cols(s) && rc == TL_OK; c++)
        for (uint32_t b = 0; b < tlf_seg_n_blocks(s) && rc == TL_OK; b++) {
            const tlf_block_info *bi = tlf_seg_block(s, c, b);
            size_t nb, nd, nv;
            tlf_seg_decode_needs(s, c, b, &nb, &nd, &nv);
            tlf_vec v = {.buf = malloc(nb + 8), .buf_cap = nb, .data_buf = malloc(nd + 8),
                         .data_cap = nd, .valid_buf = malloc(nv + 8), .valid_cap = nv};
            rc = tlf_seg_decode(s, c, b, f + bi->offset, bi->length, TLF_DECODE_VERIFY, &v, err);
            free(v.buf);
            free(v.data_buf);
            free(v.valid_buf);
        }
    tlf_seg_close(s);
    return rc;
}

static int check_dir(const char *root, const char *sub, int (*fn)(const uint8_t *, size_t,
                                                                  tl_error *))
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    DIR *d = opendir(dir);
    if (!d)
        die(dir, NULL);
    int bad = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        /* only the generated seeds: crash_* / fz_* regression units are
         * invalid on purpose */
        if (strncmp(e->d_name, "seed_", 5) != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            die(path, NULL);
        struct stat st;
        if (fstat(fileno(f), &st) != 0)
            die(path, NULL);
        size_t len = (size_t)st.st_size;
        uint8_t *buf = aligned_alloc(64, (len + 64) / 64 * 64);
        if (!buf || fread(buf, 1, len, f) != len)
            die(path, NULL);
        fclose(f);
        tl_error err = {0};
        if (fn(buf, len, &err) != TL_OK) {
            fprintf(stderr, "corpus_gen: %s: not valid for the current layout: %s\n", path,
                    err.msg);
            bad++;
        }
        free(buf);
        n++;
    }
    closedir(d);
    printf("%s: %d seeds, %d invalid\n", dir, n, bad);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "--write") && strcmp(argv[1], "--check"))) {
        fprintf(stderr, "usage: corpus_gen --write|--check CORPUS_DIR\n");
        return 2;
    }
    char enc[4096], seg[4096];
    snprintf(enc, sizeof enc, "%s/fuzz_enc", argv[2]);
    snprintf(seg, sizeof seg, "%s/fuzz_segment", argv[2]);
    if (strcmp(argv[1], "--write") == 0) {
        mkdir(enc, 0755);
        mkdir(seg, 0755);
        enc_dir = enc;
        gen_enc();
        gen_segments(seg);
        printf("wrote %d fuzz_enc seeds and the fuzz_segment seeds under %s\n", n_enc, argv[2]);
        return 0;
    }
    int bad = check_dir(argv[2], "fuzz_enc", check_enc) +
              check_dir(argv[2], "fuzz_segment", check_seg);
    return bad ? 1 : 0;
}
