/*
 * pq_thrift.c - the Thrift COMPACT protocol: a bounded reader over a byte
 * buffer and an appending writer (layout restated in pq_thrift.h).
 *
 * Reader invariants: pos <= len always; nothing is read before checking
 * the bytes left; depth (open structs + containers) <= TLF_THR_MAX_DEPTH,
 * so skip() recursion is bounded; a container size is checked against the
 * bytes left (>= 1 byte per element, 8 per double, 2 per map entry), so a
 * caller sizing an array by it allocates at most O(len) elements.
 * Writer invariants: field ids per open struct in last_fid[]; the first
 * error is sticky.
 */
#include "pq_thrift.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tlf_thr_reader_init(tlf_thr_reader *r, const void *buf, size_t len,
                         uint64_t base)
{
    memset(r, 0, sizeof *r);
    r->p = buf;
    r->len = buf ? len : 0;
    r->base = base;
}

int tlf_thr_fail(const tlf_thr_reader *r, tl_error *err, const char *fmt, ...)
{
    char msg[TL_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tl_error_set(err, TL_ECORRUPT, "%s at byte %llu", msg,
                        (unsigned long long)tlf_thr_offset(r));
}

static int need(const tlf_thr_reader *r, size_t n, const char *what,
                tl_error *err)
{
    if (r->len - r->pos < n)
        return tlf_thr_fail(r, err, "%s: need %zu bytes, %zu left (truncated)",
                            what, n, r->len - r->pos);
    return TL_OK;
}

static int enter(tlf_thr_reader *r, tl_error *err)
{
    if (r->depth >= TLF_THR_MAX_DEPTH)
        return tlf_thr_fail(r, err, "nesting deeper than %d", TLF_THR_MAX_DEPTH);
    r->depth++;
    return TL_OK;
}

int tlf_thr_struct_begin(tlf_thr_reader *r, tl_error *err)
{
    int rc = enter(r, err);
    if (rc)
        return rc;
    r->last_fid[r->n_fid++] = 0;
    return TL_OK;
}

void tlf_thr_struct_end(tlf_thr_reader *r)
{
    if (r->n_fid > 0)
        r->n_fid--;
    if (r->depth > 0)
        r->depth--;
}

int tlf_thr_read_varint(tlf_thr_reader *r, unsigned max_bytes, uint64_t *v,
                        tl_error *err)
{
    uint64_t x = 0;
    size_t start = r->pos;
    for (unsigned i = 0;; i++) {
        if (i == max_bytes) {
            tlf_thr_reader at = *r;
            at.pos = start;
            return tlf_thr_fail(&at, err, "varint longer than %u bytes",
                                max_bytes);
        }
        if (r->pos >= r->len) {
            tlf_thr_reader at = *r;
            at.pos = start;
            return tlf_thr_fail(&at, err, "varint truncated after %u bytes", i);
        }
        uint8_t b = r->p[r->pos++];
        if ((b & 0x80) && i + 1 == max_bytes) {
            tlf_thr_reader at = *r;
            at.pos = start;
            return tlf_thr_fail(&at, err, "varint longer than %u bytes",
                                max_bytes);
        }
        /* the 10th byte of a 64-bit varint holds only bit 63 */
        if (i == 9 && b > 1) {
            tlf_thr_reader at = *r;
            at.pos = start;
            return tlf_thr_fail(&at, err, "varint overflows 64 bits");
        }
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *v = x;
    return TL_OK;
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

int tlf_thr_read_byte(tlf_thr_reader *r, int8_t *v, tl_error *err)
{
    int rc = need(r, 1, "byte", err);
    if (rc)
        return rc;
    *v = (int8_t)r->p[r->pos++];
    return TL_OK;
}

/* zigzag varint of at most max_bytes that must fit [lo, hi] */
static int read_zz(tlf_thr_reader *r, unsigned max_bytes, int64_t lo,
                   int64_t hi, const char *what, int64_t *v, tl_error *err)
{
    size_t start = r->pos;
    uint64_t u;
    int rc = tlf_thr_read_varint(r, max_bytes, &u, err);
    if (rc)
        return rc;
    int64_t x = unzigzag(u);
    if (x < lo || x > hi) {
        tlf_thr_reader at = *r;
        at.pos = start;
        return tlf_thr_fail(&at, err, "%s value %lld out of range", what,
                            (long long)x);
    }
    *v = x;
    return TL_OK;
}

int tlf_thr_read_i16(tlf_thr_reader *r, int16_t *v, tl_error *err)
{
    int64_t x = 0;
    int rc = read_zz(r, 5, INT16_MIN, INT16_MAX, "i16", &x, err);
    if (rc)
        return rc;
    *v = (int16_t)x;
    return TL_OK;
}

int tlf_thr_read_i32(tlf_thr_reader *r, int32_t *v, tl_error *err)
{
    int64_t x = 0;
    int rc = read_zz(r, 5, INT32_MIN, INT32_MAX, "i32", &x, err);
    if (rc)
        return rc;
    *v = (int32_t)x;
    return TL_OK;
}

int tlf_thr_read_i64(tlf_thr_reader *r, int64_t *v, tl_error *err)
{
    return read_zz(r, 10, INT64_MIN, INT64_MAX, "i64", v, err);
}

int tlf_thr_read_double(tlf_thr_reader *r, double *v, tl_error *err)
{
    int rc = need(r, 8, "double", err);
    if (rc)
        return rc;
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | r->p[r->pos + (size_t)i];
    memcpy(v, &u, 8);
    r->pos += 8;
    return TL_OK;
}

int tlf_thr_read_binary(tlf_thr_reader *r, const uint8_t **p, uint32_t *len,
                        tl_error *err)
{
    size_t start = r->pos;
    uint64_t n;
    int rc = tlf_thr_read_varint(r, 5, &n, err);
    if (rc)
        return rc;
    if (n > UINT32_MAX || n > r->len - r->pos) {
        tlf_thr_reader at = *r;
        at.pos = start;
        return tlf_thr_fail(&at, err,
                            "binary length %llu exceeds the %zu bytes left",
                            (unsigned long long)n, r->len - r->pos);
    }
    *p = r->p + r->pos;
    *len = (uint32_t)n;
    r->pos += (size_t)n;
    return TL_OK;
}

int tlf_thr_read_bool_elem(tlf_thr_reader *r, uint8_t *v, tl_error *err)
{
    int rc = need(r, 1, "bool", err);
    if (rc)
        return rc;
    uint8_t b = r->p[r->pos];
    if (b > 2)
        return tlf_thr_fail(r, err, "bool element %u (expected 0, 1 or 2)", b);
    r->pos++;
    *v = b == 1;
    return TL_OK;
}

static int valid_type(int t)
{
    return t >= TLF_THR_TRUE && t <= TLF_THR_UUID;
}

int tlf_thr_field(tlf_thr_reader *r, int *type, int16_t *fid, tl_error *err)
{
    int rc = need(r, 1, "field header", err);
    if (rc)
        return rc;
    size_t start = r->pos;
    uint8_t b = r->p[r->pos++];
    if (b == 0) {
        *type = TLF_THR_STOP;
        *fid = 0;
        return TL_OK;
    }
    int t = b & 0x0f, delta = b >> 4;
    if (!valid_type(t)) {
        tlf_thr_reader at = *r;
        at.pos = start;
        return tlf_thr_fail(&at, err, "field header 0x%02x: invalid wire type %d",
                            b, t);
    }
    int16_t *last = r->n_fid > 0 ? &r->last_fid[r->n_fid - 1] : NULL;
    int16_t id;
    if (delta) {
        int32_t x = (last ? *last : 0) + delta;
        if (x > INT16_MAX) {
            tlf_thr_reader at = *r;
            at.pos = start;
            return tlf_thr_fail(&at, err, "field id %d beyond i16", (int)x);
        }
        id = (int16_t)x;
    } else {
        rc = tlf_thr_read_i16(r, &id, err);
        if (rc)
            return rc;
    }
    if (last)
        *last = id;
    *type = t;
    *fid = id;
    return TL_OK;
}

int tlf_thr_list_begin(tlf_thr_reader *r, int *elem_type, uint32_t *n,
                       tl_error *err)
{
    size_t start = r->pos;
    int rc = need(r, 1, "list header", err);
    if (rc)
        return rc;
    uint8_t b = r->p[r->pos++];
    int t = b & 0x0f;
    uint64_t cnt = b >> 4;
    if (cnt == 15) {
        rc = tlf_thr_read_varint(r, 5, &cnt, err);
        if (rc)
            return rc;
    }
    if (t == TLF_THR_FALSE)
        t = TLF_THR_TRUE;
    if (!valid_type(t)) {
        tlf_thr_reader at = *r;
        at.pos = start;
        return tlf_thr_fail(&at, err, "list header 0x%02x: invalid element type %d",
                            b, t);
    }
    uint64_t per = t == TLF_THR_DOUBLE ? 8 : t == TLF_THR_UUID ? 16 : 1;
    uint64_t left = r->len - r->pos;
    if (cnt > UINT32_MAX || cnt > left / per) {
        tlf_thr_reader at = *r;
        at.pos = start;
        return tlf_thr_fail(&at, err,
                            "list of %llu elements cannot fit in the %llu bytes left",
                            (unsigned long long)cnt, (unsigned long long)left);
    }
    rc = enter(r, err);
    if (rc)
        return rc;
    *elem_type = t;
    *n = (uint32_t)cnt;
    return TL_OK;
}

void tlf_thr_list_end(tlf_thr_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

int tlf_thr_map_begin(tlf_thr_reader *r, int *key_type, int *val_type,
                      uint32_t *n, tl_error *err)
{
    size_t start = r->pos;
    uint64_t cnt;
    int rc = tlf_thr_read_varint(r, 5, &cnt, err);
    if (rc)
        return rc;
    int kt = 0, vt = 0;
    if (cnt > 0) {
        rc = need(r, 1, "map types", err);
        if (rc)
            return rc;
        uint8_t b = r->p[r->pos++];
        kt = b >> 4;
        vt = b & 0x0f;
        if (kt == TLF_THR_FALSE)
            kt = TLF_THR_TRUE;
        if (vt == TLF_THR_FALSE)
            vt = TLF_THR_TRUE;
        if (!valid_type(kt) || !valid_type(vt)) {
            tlf_thr_reader at = *r;
            at.pos = start;
            return tlf_thr_fail(&at, err, "map types 0x%02x invalid", b);
        }
    }
    uint64_t left = r->len - r->pos;
    if (cnt > UINT32_MAX || cnt > left / 2) {
        tlf_thr_reader at = *r;
        at.pos = start;
        return tlf_thr_fail(&at, err,
                            "map of %llu entries cannot fit in the %llu bytes left",
                            (unsigned long long)cnt, (unsigned long long)left);
    }
    rc = enter(r, err);
    if (rc)
        return rc;
    *key_type = kt;
    *val_type = vt;
    *n = (uint32_t)cnt;
    return TL_OK;
}

void tlf_thr_map_end(tlf_thr_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

int tlf_thr_skip(tlf_thr_reader *r, int type, int in_container, tl_error *err)
{
    int rc;
    uint64_t u;
    switch (type) {
    case TLF_THR_TRUE:
    case TLF_THR_FALSE:
        if (!in_container)
            return TL_OK;
        {
            uint8_t b;
            return tlf_thr_read_bool_elem(r, &b, err);
        }
    case TLF_THR_BYTE:
        if ((rc = need(r, 1, "byte", err)))
            return rc;
        r->pos++;
        return TL_OK;
    case TLF_THR_I16:
    case TLF_THR_I32:
        return tlf_thr_read_varint(r, 5, &u, err);
    case TLF_THR_I64:
        return tlf_thr_read_varint(r, 10, &u, err);
    case TLF_THR_DOUBLE:
        if ((rc = need(r, 8, "double", err)))
            return rc;
        r->pos += 8;
        return TL_OK;
    case TLF_THR_UUID:
        if ((rc = need(r, 16, "uuid", err)))
            return rc;
        r->pos += 16;
        return TL_OK;
    case TLF_THR_BINARY: {
        const uint8_t *p;
        uint32_t n;
        return tlf_thr_read_binary(r, &p, &n, err);
    }
    case TLF_THR_LIST:
    case TLF_THR_SET: {
        int et;
        uint32_t n;
        if ((rc = tlf_thr_list_begin(r, &et, &n, err)))
            return rc;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = tlf_thr_skip(r, et, 1, err)))
                return rc;
        tlf_thr_list_end(r);
        return TL_OK;
    }
    case TLF_THR_MAP: {
        int kt, vt;
        uint32_t n;
        if ((rc = tlf_thr_map_begin(r, &kt, &vt, &n, err)))
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            if ((rc = tlf_thr_skip(r, kt, 1, err)))
                return rc;
            if ((rc = tlf_thr_skip(r, vt, 1, err)))
                return rc;
        }
        tlf_thr_map_end(r);
        return TL_OK;
    }
    case TLF_THR_STRUCT: {
        if ((rc = tlf_thr_struct_begin(r, err)))
            return rc;
        for (;;) {
            int ft;
            int16_t fid;
            if ((rc = tlf_thr_field(r, &ft, &fid, err)))
                return rc;
            if (ft == TLF_THR_STOP)
                break;
            if ((rc = tlf_thr_skip(r, ft, 0, err)))
                return rc;
        }
        tlf_thr_struct_end(r);
        return TL_OK;
    }
    default:
        return tlf_thr_fail(r, err, "cannot skip a value of wire type %d", type);
    }
}

/* ---- writer ---------------------------------------------------------------- */

void tlf_thr_writer_init(tlf_thr_writer *w, tlf_buf *out, tl_error *err)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->err = err;
}

static int wput(tlf_thr_writer *w, const void *p, size_t n)
{
    if (w->rc)
        return w->rc;
    int rc = tlf_buf_append(w->out, p, n, w->err);
    if (rc)
        w->rc = rc;
    return w->rc;
}

static int wfail(tlf_thr_writer *w, int code, const char *what)
{
    if (!w->rc)
        w->rc = tl_error_set(w->err, code, "thrift writer: %s", what);
    return w->rc;
}

int tlf_thr_w_varint(tlf_thr_writer *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return wput(w, b, n);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

int tlf_thr_w_byte(tlf_thr_writer *w, int8_t v)
{
    uint8_t b = (uint8_t)v;
    return wput(w, &b, 1);
}

int tlf_thr_w_i16(tlf_thr_writer *w, int16_t v)
{
    return tlf_thr_w_varint(w, zigzag(v));
}

int tlf_thr_w_i32(tlf_thr_writer *w, int32_t v)
{
    return tlf_thr_w_varint(w, zigzag(v));
}

int tlf_thr_w_i64(tlf_thr_writer *w, int64_t v)
{
    return tlf_thr_w_varint(w, zigzag(v));
}

int tlf_thr_w_double(tlf_thr_writer *w, double v)
{
    uint64_t u;
    uint8_t b[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    return wput(w, b, 8);
}

int tlf_thr_w_binary(tlf_thr_writer *w, const void *p, uint32_t len)
{
    if (len > 0 && !p)
        return wfail(w, TL_EINVAL, "NULL binary with nonzero length");
    tlf_thr_w_varint(w, len);
    return len ? wput(w, p, len) : w->rc;
}

int tlf_thr_w_bool_elem(tlf_thr_writer *w, int v)
{
    uint8_t b = v ? TLF_THR_TRUE : TLF_THR_FALSE;
    return wput(w, &b, 1);
}

int tlf_thr_w_struct_begin(tlf_thr_writer *w)
{
    if (w->n_fid >= TLF_THR_MAX_DEPTH)
        return wfail(w, TL_EINVAL, "structs nested deeper than 64");
    w->last_fid[w->n_fid++] = 0;
    return w->rc;
}

int tlf_thr_w_struct_end(tlf_thr_writer *w)
{
    if (w->n_fid > 0)
        w->n_fid--;
    uint8_t b = TLF_THR_STOP;
    return wput(w, &b, 1);
}

int tlf_thr_w_field(tlf_thr_writer *w, int16_t fid, int type)
{
    if (w->n_fid == 0)
        return wfail(w, TL_EINVAL, "field outside a struct");
    int16_t *last = &w->last_fid[w->n_fid - 1];
    int32_t delta = (int32_t)fid - *last;
    *last = fid;
    if (delta >= 1 && delta <= 15) {
        uint8_t b = (uint8_t)((delta << 4) | type);
        return wput(w, &b, 1);
    }
    uint8_t b = (uint8_t)type;
    wput(w, &b, 1);
    return tlf_thr_w_i16(w, fid);
}

int tlf_thr_w_field_bool(tlf_thr_writer *w, int16_t fid, int v)
{
    return tlf_thr_w_field(w, fid, v ? TLF_THR_TRUE : TLF_THR_FALSE);
}

int tlf_thr_w_field_byte(tlf_thr_writer *w, int16_t fid, int8_t v)
{
    tlf_thr_w_field(w, fid, TLF_THR_BYTE);
    return tlf_thr_w_byte(w, v);
}

int tlf_thr_w_field_i16(tlf_thr_writer *w, int16_t fid, int16_t v)
{
    tlf_thr_w_field(w, fid, TLF_THR_I16);
    return tlf_thr_w_i16(w, v);
}

int tlf_thr_w_field_i32(tlf_thr_writer *w, int16_t fid, int32_t v)
{
    tlf_thr_w_field(w, fid, TLF_THR_I32);
    return tlf_thr_w_i32(w, v);
}

int tlf_thr_w_field_i64(tlf_thr_writer *w, int16_t fid, int64_t v)
{
    tlf_thr_w_field(w, fid, TLF_THR_I64);
    return tlf_thr_w_i64(w, v);
}

int tlf_thr_w_field_double(tlf_thr_writer *w, int16_t fid, double v)
{
    tlf_thr_w_field(w, fid, TLF_THR_DOUBLE);
    return tlf_thr_w_double(w, v);
}

int tlf_thr_w_field_binary(tlf_thr_writer *w, int16_t fid, const void *p,
                           uint32_t len)
{
    tlf_thr_w_field(w, fid, TLF_THR_BINARY);
    return tlf_thr_w_binary(w, p, len);
}

int tlf_thr_w_list_begin(tlf_thr_writer *w, int elem_type, uint32_t n)
{
    if (n < 15) {
        uint8_t b = (uint8_t)((n << 4) | (unsigned)elem_type);
        return wput(w, &b, 1);
    }
    uint8_t b = (uint8_t)(0xf0 | (unsigned)elem_type);
    wput(w, &b, 1);
    return tlf_thr_w_varint(w, n);
}
