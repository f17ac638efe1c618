/*
 * fuzz_segment.c - libFuzzer target for the segment reader.
 *
 * Input: a whole segment file. It is opened with tlf_seg_open_mem (and
 * via parse_trailer + open_footer); every block of every column is then
 * decoded with and without checksum verification and zero copy, and
 * tlf_seg_validity, tlf_seg_block_dict and tlf_seg_rle_runs are called
 * on it (DICT runs: every code below the dictionary size). Because a
 * mutated file rarely keeps a valid footer checksum, the input is also
 * tried with the trailer's footer checksum recomputed, so the footer
 * parser itself gets fuzzed. Every buffer is an exact-size heap copy, so
 * ASan sees any overread. Errors are fine; crashes, overreads and error
 * codes without a message are not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "tl_format.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_SCRATCH (64u << 20) /* skip blocks claiming more (footer-checked anyway) */

static volatile uint64_t sink; /* keeps the reads of outputs alive */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void decode_all(const tlf_seg *s, const uint8_t *file, uint64_t size)
{
    tl_error err;
    for (uint32_t c = 0; c < tlf_seg_n_cols(s); c++) {
        const tlf_col_info *ci = tlf_seg_col(s, c);
        CHECK(ci->name && ci->name[0]);
        for (uint32_t i = 0; i < ci->dict_entries && i < 64; i++) {
            const uint8_t *e;
            uint32_t el;
            tlf_seg_dict_entry(s, c, i, &e, &el);
            if (el)
                sink += e[0] + e[el - 1];
        }
        for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
            const tlf_block_info *bi = tlf_seg_block(s, c, b);
            CHECK(bi->offset + bi->length <= size);
            size_t nb, nd, nv;
            tlf_seg_decode_needs(s, c, b, &nb, &nd, &nv);
            if (nb > MAX_SCRATCH || nd > MAX_SCRATCH)
                continue;
            /* exact-size copy of the block bytes (8-aligned from malloc) */
            uint8_t *bytes = xmalloc((size_t)bi->length);
            memcpy(bytes, file + bi->offset, (size_t)bi->length);
            void *buf = xmalloc(nb);
            uint8_t *data = xmalloc(nd), *valid = xmalloc(nv);
            static const uint32_t modes[] = {0, TLF_DECODE_VERIFY, TLF_DECODE_ZERO_COPY,
                                             TLF_DECODE_VERIFY | TLF_DECODE_ZERO_COPY,
                                             TLF_DECODE_NARROW,
                                             TLF_DECODE_ZERO_COPY | TLF_DECODE_NARROW};
            for (int m = 0; m < 6; m++) {
                tlf_vec v = {.buf = buf, .buf_cap = nb, .data_buf = data, .data_cap = nd,
                             .valid_buf = valid, .valid_cap = nv};
                int rc = tlf_seg_decode(s, c, b, bytes, bi->length, modes[m], &v, &err);
                if (rc != TL_OK) {
                    CHECK(err.code == rc && err.msg[0]);
                    continue;
                }
                CHECK(v.n == bi->n_rows);
                CHECK(v.scale == 0 || (modes[m] & TLF_DECODE_NARROW));
                /* touch every output byte */
                uint64_t acc = 0;
                if (v.type == TL_STRING) {
                    CHECK(v.offsets[0] == 0 && v.offsets[v.n] == bi->decoded_bytes);
                    for (uint32_t i = 0; i < v.n; i++) {
                        CHECK(v.offsets[i] <= v.offsets[i + 1]);
                        if (v.offsets[i + 1] > v.offsets[i])
                            acc += v.data[v.offsets[i + 1] - 1];
                    }
                } else {
                    const uint8_t *p = v.values;
                    for (size_t i = 0; i < nb; i++)
                        acc += p[i];
                }
                if (v.validity)
                    for (uint32_t i = 0; i < (v.n + 7) / 8; i++)
                        acc += v.validity[i];
                sink += acc;
            }
            const uint8_t *vv;
            if (tlf_seg_validity(s, c, b, bytes, bi->length, valid, nv, &vv, &err) == TL_OK) {
                CHECK((vv == NULL) == (bi->null_count == 0));
                if (vv)
                    sink += vv[0] + vv[(bi->n_rows + 7) / 8 - 1];
            } else {
                CHECK(err.msg[0]);
            }
            uint32_t nr;
            const void *rv;
            const uint32_t *re;
            uint32_t n_ent = 0;
            const void *dv = NULL;
            int drc = tlf_seg_block_dict(s, c, b, bytes, bi->length, &n_ent, &dv, &err);
            if (drc == TL_OK && n_ent)
                sink += ((const uint8_t *)dv)[(size_t)n_ent * tl_type_width(ci->type) - 1];
            else if (drc != TL_OK)
                CHECK(err.msg[0]);
            if (tlf_seg_rle_runs(s, c, b, bytes, bi->length, &nr, &rv, &re, &err) == TL_OK) {
                CHECK(nr == 0 || re[nr - 1] == bi->n_rows);
                CHECK(nr == 0 || rv != NULL);
                /* DICT runs: codes below the dictionary size */
                if (bi->encoding == TLF_ENC_DICT) {
                    CHECK(ci->type == TL_STRING || drc == TL_OK);
                    uint32_t lim = ci->type == TL_STRING ? ci->dict_entries : n_ent;
                    for (uint32_t r = 0; r < nr; r++)
                        CHECK(((const uint32_t *)rv)[r] < lim);
                }
            } else {
                CHECK(err.msg[0]);
            }
            free(bytes);
            free(buf);
            free(data);
            free(valid);
        }
    }
    const uint8_t *mv;
    uint32_t ml;
    if (tlf_seg_meta(s, "k", &mv, &ml) == TL_OK && ml)
        sink += mv[ml - 1];
}

static void run(const uint8_t *file, size_t size)
{
    tl_error err;
    tlf_seg *s = NULL;
    int rc = tlf_seg_open_mem(file, size, "fuzz.seg", 0, &s, &err);
    if (rc == TL_OK) {
        decode_all(s, file, size);
        rc = tlf_seg_verify_all(s, &err);
        CHECK(rc == TL_OK || (rc == TL_ECHECKSUM && err.msg[0]));
        tlf_seg_close(s);
    } else {
        CHECK(err.code == rc && err.msg[0]);
    }
    if (size < TLF_TRAILER_SIZE)
        return;
    uint64_t fo, fl;
    const uint8_t *tail = file + size - TLF_TRAILER_SIZE;
    if (tlf_seg_parse_trailer(tail, size, "fuzz.seg", &fo, &fl, &err) != TL_OK)
        return;
    uint8_t *foot = xmalloc((size_t)fl);
    memcpy(foot, file + fo, (size_t)fl);
    rc = tlf_seg_open_footer(foot, fl, tail, size, "fuzz.seg", &s, &err);
    free(foot);
    if (rc == TL_OK) {
        decode_all(s, file, size);
        tlf_seg_close(s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *file = xmalloc(size);
    memcpy(file, data, size);
    run(file, size);
    /* again with the footer checksum made to match */
    if (size >= TLF_TRAILER_SIZE) {
        uint64_t fo, fl;
        memcpy(&fo, file + size - TLF_TRAILER_SIZE, 8);
        memcpy(&fl, file + size - TLF_TRAILER_SIZE + 8, 8);
        if (fo <= size - TLF_TRAILER_SIZE && fl == size - TLF_TRAILER_SIZE - fo) {
            uint64_t h = XXH3_64bits(file + fo, (size_t)fl);
            memcpy(file + size - TLF_TRAILER_SIZE + 16, &h, 8);
            run(file, size);
        }
    }
    free(file);
    return 0;
}
