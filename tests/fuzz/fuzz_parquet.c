/*
 * fuzz_parquet.c - libFuzzer target for the Parquet reader (tl_parquet.h).
 *
 * Input: a whole Parquet file. It is opened with tl_pq_open_mem over an
 * exact-size heap copy (ASan sees any overread), the accessors are called,
 * and every column chunk of every row group is decoded twice into one
 * reused colbuf (the second pass checks reuse gives the same bytes); the
 * decoded vectors are walked (values, validity, string offsets within the
 * data). Row groups claiming more than MAX_ROWS rows are skipped: the
 * reader sizes output by the row count (bounded by its own limit), which a
 * 2 GiB fuzzing RSS budget cannot afford for every mutated footer. Errors
 * are fine; crashes, overreads, leaks, error codes without a message or a
 * message not naming the input are not.
 *
 * Seeds (tests/fuzz/corpus/fuzz_parquet/): small files written by
 * tl_pq_writer (every type, v1/v2 pages, codecs, nulls) and small files of
 * ../shared/parquet-testing (DELTA_*, BYTE_STREAM_SPLIT, INT96, FLOAT16,
 * DECIMAL, CRCs, data page v2, GZIP/LZ4/SNAPPY/ZSTD).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tl_parquet.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_ROWS (1u << 18)

static volatile uint64_t sink; /* keeps the reads of outputs alive */

static void check_err(int rc, const tl_error *err)
{
    CHECK(rc < 0 && err->code == rc);
    CHECK(err->msg[0] != 0);
    CHECK(strstr(err->msg, "fuzz.parquet") != NULL);
}

static uint64_t walk(const tl_pq_colinfo *ci, const tl_pq_colbuf *b)
{
    uint64_t h = b->n;
    if (ci->type == TL_STRING) {
        CHECK(b->vec.offsets && b->vec.data);
        CHECK(b->vec.offsets[0] == 0);
        for (uint64_t i = 0; i < b->n; i++) {
            CHECK(b->vec.offsets[i] <= b->vec.offsets[i + 1]);
            uint32_t a = b->vec.offsets[i], e = b->vec.offsets[i + 1];
            if (e > a)
                h = h * 31 + b->vec.data[a] + b->vec.data[e - 1];
        }
    } else {
        size_t w = tl_type_width(ci->type);
        CHECK(w > 0 && b->vec.values);
        const uint8_t *v = (const uint8_t *)b->vec.values;
        for (uint64_t i = 0; i < b->n * w; i += w)
            h = h * 31 + v[i] + v[i + w - 1];
    }
    if (b->vec.validity) {
        CHECK(ci->optional);
        for (uint64_t i = 0; i < b->n; i++)
            h += (uint64_t)tl_bit_get(b->vec.validity, i);
    }
    if (ci->type == TL_TIMESTAMP)
        CHECK(b->ts_unit >= TL_PQ_MILLIS && b->ts_unit <= TL_PQ_NANOS);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    CHECK(copy);
    if (size)
        memcpy(copy, data, size);
    tl_error err = {0};
    tl_pq_file *f = NULL;
    int rc = tl_pq_open_mem(copy, size, "fuzz.parquet", &f, &err);
    if (rc != TL_OK) {
        check_err(rc, &err);
        CHECK(f == NULL);
        free(copy);
        return 0;
    }
    uint64_t h = tl_pq_n_rows(f) + strlen(tl_pq_created_by(f));
    for (uint32_t i = 0; i < tl_pq_n_kv(f); i++)
        h += strlen(tl_pq_kv_at(f, i)->key) + strlen(tl_pq_kv_at(f, i)->value);
    uint32_t nc = tl_pq_n_cols(f);
    for (uint32_t c = 0; c < nc; c++) {
        const tl_pq_colinfo *ci = tl_pq_col(f, c);
        CHECK(ci && ci->name && ci->desc && ci->desc[0]);
        CHECK(ci->type >= TL_BOOL && ci->type <= TL_STRING);
        h += strlen(ci->name) + strlen(ci->desc);
    }
    tl_pq_colbuf buf = {0};
    for (uint32_t rg = 0; rg < tl_pq_n_row_groups(f); rg++) {
        uint64_t rows = tl_pq_row_group_rows(f, rg);
        if (rows > MAX_ROWS)
            continue;
        for (uint32_t c = 0; c < nc; c++) {
            const tl_pq_colinfo *ci = tl_pq_col(f, c);
            uint64_t h1 = 0;
            for (int pass = 0; pass < 2; pass++) {
                tl_error_clear(&err);
                rc = tl_pq_read_chunk(f, rg, c, &buf, &err);
                if (rc != TL_OK) {
                    check_err(rc, &err);
                    break;
                }
                CHECK(buf.n == rows);
                uint64_t hv = walk(ci, &buf);
                if (pass == 0)
                    h1 = hv;
                else
                    CHECK(hv == h1);
            }
            h += h1;
        }
    }
    tl_pq_colbuf_free(&buf);
    tl_pq_close(f);
    free(copy);
    sink = h;
    return 0;
}
