/*
 * fuzz_thrift.c - libFuzzer target for the raw Thrift COMPACT protocol
 * reader and writer of format/src/pq_thrift.c, below the Parquet structs
 * (fuzz_pq_meta covers those; this one reaches every wire type, including
 * maps, sets, UUIDs, long-form field ids and bool list elements, which the
 * Parquet metadata hardly uses).
 *
 * Input: any bytes, read three ways from an exact-size heap copy (ASan sees
 * any overread): as a struct, as a list and as a map. Each way:
 *   - a typed walk (tlf_thr_field / list / map begin and the typed value
 *     readers) hashes every type, field id and value, and re-encodes what it
 *     read through the writer (tlf_thr_w_*);
 *   - tlf_thr_skip reads the same value; whenever the walk succeeds the skip
 *     succeeds and ends at the same byte (the typed readers are stricter:
 *     an i16 out of range fails the walk, not the skip);
 *   - every failure is TL_ECORRUPT with "at byte N", N within the input;
 *   - on success the re-encoding walks again to the same hash, consuming
 *     all of it, and re-encoding that gives the same bytes (the writer's
 *     output is a fixed point).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_thrift.h"

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                              \
        }                                                                         \
    } while (0)

typedef struct walk {
    tlf_thr_reader r;
    tlf_thr_writer w;
    uint64_t h;
} walk;

static void mix(walk *k, uint64_t v)
{
    k->h = (k->h ^ v) * 0x100000001b3ULL;
    k->h ^= k->h >> 29;
}

static int value(walk *k, int type, int in_container, tl_error *err);

static int walk_struct(walk *k, tl_error *err)
{
    int rc = tlf_thr_struct_begin(&k->r, err);
    if (rc)
        return rc;
    tlf_thr_w_struct_begin(&k->w);
    mix(k, 0x5354);
    for (;;) {
        int ft;
        int16_t fid;
        if ((rc = tlf_thr_field(&k->r, &ft, &fid, err)))
            return rc;
        if (ft == TLF_THR_STOP)
            break;
        mix(k, (uint64_t)ft << 16 | (uint16_t)fid);
        tlf_thr_w_field(&k->w, fid, ft);
        if ((rc = value(k, ft, 0, err)))
            return rc;
    }
    tlf_thr_struct_end(&k->r);
    tlf_thr_w_struct_end(&k->w);
    return TL_OK;
}

static int value(walk *k, int type, int in_container, tl_error *err)
{
    int rc;
    switch (type) {
    case TLF_THR_TRUE:
    case TLF_THR_FALSE:
        if (in_container) {
            uint8_t b;
            if ((rc = tlf_thr_read_bool_elem(&k->r, &b, err)))
                return rc;
            mix(k, b);
            return tlf_thr_w_bool_elem(&k->w, b), TL_OK;
        }
        return TL_OK; /* a bool field's value is its type (hashed) */
    case TLF_THR_BYTE: {
        int8_t v;
        if ((rc = tlf_thr_read_byte(&k->r, &v, err)))
            return rc;
        mix(k, (uint8_t)v);
        tlf_thr_w_byte(&k->w, v);
        return TL_OK;
    }
    case TLF_THR_I16: {
        int16_t v;
        if ((rc = tlf_thr_read_i16(&k->r, &v, err)))
            return rc;
        mix(k, (uint16_t)v);
        tlf_thr_w_i16(&k->w, v);
        return TL_OK;
    }
    case TLF_THR_I32: {
        int32_t v;
        if ((rc = tlf_thr_read_i32(&k->r, &v, err)))
            return rc;
        mix(k, (uint32_t)v);
        tlf_thr_w_i32(&k->w, v);
        return TL_OK;
    }
    case TLF_THR_I64: {
        int64_t v;
        if ((rc = tlf_thr_read_i64(&k->r, &v, err)))
            return rc;
        mix(k, (uint64_t)v);
        tlf_thr_w_i64(&k->w, v);
        return TL_OK;
    }
    case TLF_THR_DOUBLE: {
        double v;
        uint64_t u;
        if ((rc = tlf_thr_read_double(&k->r, &v, err)))
            return rc;
        memcpy(&u, &v, 8); /* bits, so NaN payloads round-trip too */
        mix(k, u);
        tlf_thr_w_double(&k->w, v);
        return TL_OK;
    }
    case TLF_THR_UUID: {
        size_t at = k->r.pos;
        if ((rc = tlf_thr_skip(&k->r, TLF_THR_UUID, in_container, err)))
            return rc;
        CHECK(k->r.pos == at + 16);
        for (int i = 0; i < 16; i++)
            mix(k, k->r.p[at + (size_t)i]);
        if (!k->w.rc)
            k->w.rc = tlf_buf_append(k->w.out, k->r.p + at, 16, k->w.err);
        return TL_OK;
    }
    case TLF_THR_BINARY: {
        const uint8_t *p;
        uint32_t n;
        if ((rc = tlf_thr_read_binary(&k->r, &p, &n, err)))
            return rc;
        CHECK(p >= k->r.p && p + n <= k->r.p + k->r.len);
        mix(k, n);
        for (uint32_t i = 0; i < n; i++)
            mix(k, p[i]);
        tlf_thr_w_binary(&k->w, p, n);
        return TL_OK;
    }
    case TLF_THR_LIST:
    case TLF_THR_SET: {
        int et;
        uint32_t n;
        if ((rc = tlf_thr_list_begin(&k->r, &et, &n, err)))
            return rc;
        CHECK(n <= k->r.len - k->r.pos); /* sizes are checked against the bytes left */
        mix(k, (uint64_t)et << 32 | n);
        tlf_thr_w_list_begin(&k->w, et, n);
        for (uint32_t i = 0; i < n; i++)
            if ((rc = value(k, et, 1, err)))
                return rc;
        tlf_thr_list_end(&k->r);
        return TL_OK;
    }
    case TLF_THR_MAP: {
        int kt, vt;
        uint32_t n;
        if ((rc = tlf_thr_map_begin(&k->r, &kt, &vt, &n, err)))
            return rc;
        CHECK(n <= (k->r.len - k->r.pos) / 2);
        CHECK(n > 0 || (kt == 0 && vt == 0));
        mix(k, (uint64_t)kt << 40 | (uint64_t)vt << 32 | n);
        tlf_thr_w_varint(&k->w, n); /* the writer has no map helper: header by hand */
        if (n)
            tlf_thr_w_byte(&k->w, (int8_t)(kt << 4 | vt));
        for (uint32_t i = 0; i < n; i++) {
            if ((rc = value(k, kt, 1, err)))
                return rc;
            if ((rc = value(k, vt, 1, err)))
                return rc;
        }
        tlf_thr_map_end(&k->r);
        return TL_OK;
    }
    case TLF_THR_STRUCT:
        return walk_struct(k, err);
    default:
        return tlf_thr_fail(&k->r, err, "no value of wire type %d", type);
    }
}

static void check_fail(int rc, const tl_error *err, size_t len)
{
    CHECK(rc == TL_ECORRUPT && err->code == rc);
    const char *at = strstr(err->msg, " at byte ");
    CHECK(at);
    unsigned long long off = strtoull(at + 9, NULL, 10);
    CHECK(off <= len);
}

/* Walk buf as one value of `type`; on success *out holds the re-encoding. */
static int run(const uint8_t *buf, size_t len, int type, uint64_t *hash, size_t *used,
               tlf_buf *out)
{
    walk k;
    tl_error err = {0}, werr = {0};
    memset(&k, 0, sizeof k);
    k.h = 0xcbf29ce484222325ULL;
    tlf_thr_reader_init(&k.r, buf, len, 0);
    tlf_thr_writer_init(&k.w, out, &werr);
    int rc = value(&k, type, 0, &err);
    CHECK(k.r.pos <= len);
    if (rc) {
        check_fail(rc, &err, len);
        return rc;
    }
    CHECK(k.r.depth == 0 && k.r.n_fid == 0);
    CHECK(tlf_thr_writer_status(&k.w) == TL_OK);
    *hash = k.h;
    *used = k.r.pos;
    return TL_OK;
}

static void one(const uint8_t *in, size_t len, int type)
{
    uint64_t h1 = 0, h2 = 0;
    size_t used = 0, used2 = 0;
    tlf_buf e1 = {0}, e2 = {0};
    int rc = run(in, len, type, &h1, &used, &e1);

    tlf_thr_reader s;
    tl_error serr = {0};
    tlf_thr_reader_init(&s, in, len, 0);
    int src = tlf_thr_skip(&s, type, 0, &serr);
    CHECK(s.pos <= len);
    if (src)
        check_fail(src, &serr, len);
    if (rc == TL_OK) {
        CHECK(src == TL_OK && s.pos == used);
        CHECK(run(e1.p, e1.len, type, &h2, &used2, &e2) == TL_OK);
        CHECK(h2 == h1 && used2 == e1.len);
        CHECK(e2.len == e1.len && memcmp(e1.p, e2.p, e1.len) == 0);
    }
    tlf_buf_free(&e1);
    tlf_buf_free(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    one(p, size, TLF_THR_STRUCT);
    one(p, size, TLF_THR_LIST);
    one(p, size, TLF_THR_MAP);
    free(p);
    return 0;
}
