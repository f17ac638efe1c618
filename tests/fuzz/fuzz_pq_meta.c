/*
 * fuzz_pq_meta.c - libFuzzer target for the Parquet metadata decoders
 * (pq_meta.h) over the Thrift compact reader (pq_thrift.h).
 *
 * The whole input is decoded, from an exact-size heap copy, as a
 * FileMetaData, a PageHeader, a ColumnIndex and an OffsetIndex. Every
 * failure must be TL_ECORRUPT with a message naming the struct and a byte
 * offset. Every success is encoded, decoded again and encoded again: the
 * second decode must succeed and both encodings must be identical (the
 * decoder keeps everything the encoder writes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_meta.h"

static void check_fail(int rc, const tl_error *err, const char *root)
{
    if (rc == TL_OK)
        return;
    if (rc != TL_ECORRUPT || strncmp(err->msg, root, strlen(root)) != 0 ||
        !strstr(err->msg, " at byte ")) {
        fprintf(stderr, "unexpected failure %d: %s\n", rc, err->msg);
        abort();
    }
}

static void same(const tlf_buf *a, const tlf_buf *b, const char *what)
{
    if (a->len != b->len || memcmp(a->p, b->p, a->len) != 0) {
        fprintf(stderr, "%s: re-encoding differs (%zu vs %zu bytes)\n", what,
                a->len, b->len);
        abort();
    }
}

static void must(int rc, const tl_error *err, const char *what)
{
    if (rc != TL_OK) {
        fprintf(stderr, "%s failed: %s\n", what, err->msg);
        abort();
    }
}

static void fuzz_file(const uint8_t *p, size_t n)
{
    tlf_pqm_file fm, fm2;
    tl_error err = {0};
    int rc = tlf_pqm_decode_file(p, n, 0, &fm, &err);
    check_fail(rc, &err, "FileMetaData");
    if (rc)
        return;
    tlf_buf e1 = {0}, e2 = {0};
    must(tlf_pqm_encode_file(&fm, &e1, &err), &err, "encode file");
    must(tlf_pqm_decode_file(e1.p, e1.len, 0, &fm2, &err), &err, "re-decode file");
    must(tlf_pqm_encode_file(&fm2, &e2, &err), &err, "re-encode file");
    same(&e1, &e2, "file");
    for (uint32_t i = 0; i < fm.n_schema; i++) {
        char desc[128];
        if (fm.schema[i].has_logical)
            tlf_pqm_logical_desc(&fm.schema[i].logical, desc, sizeof desc);
    }
    tlf_pqm_file_free(&fm);
    tlf_pqm_file_free(&fm2);
    tlf_buf_free(&e1);
    tlf_buf_free(&e2);
}

static void fuzz_page_header(const uint8_t *p, size_t n)
{
    tlf_pqm_page_header ph, ph2;
    tl_error err = {0};
    size_t used = 0, used2 = 0;
    int rc = tlf_pqm_decode_page_header(p, n, 0, &ph, &used, &err);
    check_fail(rc, &err, "PageHeader");
    if (rc)
        return;
    if (used > n)
        abort();
    tlf_buf e1 = {0}, e2 = {0};
    must(tlf_pqm_encode_page_header(&ph, &e1, &err), &err, "encode page header");
    must(tlf_pqm_decode_page_header(e1.p, e1.len, 0, &ph2, &used2, &err), &err,
         "re-decode page header");
    if (used2 != e1.len)
        abort();
    must(tlf_pqm_encode_page_header(&ph2, &e2, &err), &err, "re-encode page header");
    same(&e1, &e2, "page header");
    tlf_buf_free(&e1);
    tlf_buf_free(&e2);
}

static void fuzz_column_index(const uint8_t *p, size_t n)
{
    tlf_pqm_column_index ci, ci2;
    tl_error err = {0};
    int rc = tlf_pqm_decode_column_index(p, n, 0, &ci, &err);
    check_fail(rc, &err, "ColumnIndex");
    if (rc)
        return;
    tlf_buf e1 = {0}, e2 = {0};
    must(tlf_pqm_encode_column_index(&ci, &e1, &err), &err, "encode column index");
    must(tlf_pqm_decode_column_index(e1.p, e1.len, 0, &ci2, &err), &err,
         "re-decode column index");
    must(tlf_pqm_encode_column_index(&ci2, &e2, &err), &err,
         "re-encode column index");
    same(&e1, &e2, "column index");
    tlf_pqm_column_index_free(&ci);
    tlf_pqm_column_index_free(&ci2);
    tlf_buf_free(&e1);
    tlf_buf_free(&e2);
}

static void fuzz_offset_index(const uint8_t *p, size_t n)
{
    tlf_pqm_offset_index oi, oi2;
    tl_error err = {0};
    int rc = tlf_pqm_decode_offset_index(p, n, 0, &oi, &err);
    check_fail(rc, &err, "OffsetIndex");
    if (rc)
        return;
    tlf_buf e1 = {0}, e2 = {0};
    must(tlf_pqm_encode_offset_index(&oi, &e1, &err), &err, "encode offset index");
    must(tlf_pqm_decode_offset_index(e1.p, e1.len, 0, &oi2, &err), &err,
         "re-decode offset index");
    must(tlf_pqm_encode_offset_index(&oi2, &e2, &err), &err,
         "re-encode offset index");
    same(&e1, &e2, "offset index");
    tlf_pqm_offset_index_free(&oi);
    tlf_pqm_offset_index_free(&oi2);
    tlf_buf_free(&e1);
    tlf_buf_free(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    fuzz_file(p, size);
    fuzz_page_header(p, size);
    fuzz_column_index(p, size);
    fuzz_offset_index(p, size);
    free(p);
    return 0;
}
