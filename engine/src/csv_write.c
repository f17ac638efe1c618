/*
 * csv_write.c - tl_batch_write_csv: any tl_batch as CSV text.
 *
 * Output rules (also in ticklake.h): one line per row ending in \n, fields
 * separated by commas, a null as an empty field. Integers in decimal; bool
 * true/false; timestamps as integer nanoseconds; timestamp_us values as
 * YYYY-MM-DD HH:MM:SS[.ffffff] (UTC, the corpus/DuckDB form, far years
 * included); dates YYYY-MM-DD and floats as the shortest decimal that
 * parses back to the same value, all three as
 * text_int.h writes them (its comment gives the rules and why the float
 * search is correct); strings raw unless they hold a comma, quote, CR or LF
 * (then quoted, quotes doubled) or are empty (then "").
 *
 * Invariants: text is assembled in a per-thread 64 KiB buffer and handed to
 * fwrite in large pieces; every call ends with fflush so that a write error
 * (ENOSPC...) is reported by the call that caused it, as TL_EIO with errno.
 */
#include "ticklake.h"
#include "text_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define BUF_BYTES (1u << 16)

static _Thread_local char csv_buf[BUF_BYTES];

typedef struct csvw {
    FILE *f;
    char *buf;
    size_t len;
    uint64_t written;  /* bytes handed to f by this call */
    uint64_t row;      /* row being written, for messages */
} csvw;

TL_WUR static int flush(csvw *w, tl_error *err)
{
    if (w->len == 0)
        return TL_OK;
    errno = 0;
    size_t n = fwrite(w->buf, 1, w->len, w->f);
    w->written += n;
    if (n != w->len) {
        int e = errno ? errno : EIO;
        return tl_error_sys(err, e, "csv: write failed at row %" PRIu64 " after %" PRIu64 " bytes",
                            w->row, w->written);
    }
    w->len = 0;
    return TL_OK;
}

TL_WUR static inline int reserve(csvw *w, size_t n, tl_error *err)
{
    return w->len + n <= BUF_BYTES ? TL_OK : flush(w, err);
}

TL_WUR static int put_bytes(csvw *w, const void *src, size_t n, tl_error *err)
{
    const uint8_t *p = src;
    while (n > 0) {
        if (w->len == BUF_BYTES) {
            int rc = flush(w, err);
            if (rc != TL_OK)
                return rc;
        }
        size_t k = BUF_BYTES - w->len < n ? BUF_BYTES - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
    }
    return TL_OK;
}

TL_WUR static int put_string(csvw *w, const uint8_t *s, size_t n, tl_error *err)
{
    int quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return put_bytes(w, s, n, err);
    int rc = put_bytes(w, "\"", 1, err);
    size_t from = 0;
    for (size_t i = 0; i < n && rc == TL_OK; i++)
        if (s[i] == '"') { /* emit up to and including the quote, then one more */
            rc = put_bytes(w, s + from, i + 1 - from, err);
            if (rc == TL_OK)
                rc = put_bytes(w, "\"", 1, err);
            from = i + 1;
        }
    if (rc == TL_OK)
        rc = put_bytes(w, s + from, n - from, err);
    if (rc == TL_OK)
        rc = put_bytes(w, "\"", 1, err);
    return rc;
}

size_t tl_timestamp_us_text(int64_t us, char *out)
{
    char b[TL_FMT_MAX + 1];
    size_t n = tl_fmt_timestamp_us(b, us); /* at most 29 bytes */
    memcpy(out, b, n);
    out[n] = '\0';
    return n;
}

/* One non-null fixed-width value into the buffer (room for TL_FMT_MAX). */
static size_t fmt_value(char *out, tl_type t, const void *values, uint32_t i)
{
    switch (t) {
    case TL_BOOL:
        if (((const uint8_t *)values)[i]) {
            memcpy(out, "true", 4);
            return 4;
        }
        memcpy(out, "false", 5);
        return 5;
    case TL_INT8: return tl_fmt_i64(out, ((const int8_t *)values)[i]);
    case TL_INT16: return tl_fmt_i64(out, ((const int16_t *)values)[i]);
    case TL_INT32: return tl_fmt_i64(out, ((const int32_t *)values)[i]);
    case TL_INT64:
    case TL_TIMESTAMP: return tl_fmt_i64(out, ((const int64_t *)values)[i]);
    case TL_UINT8: return tl_fmt_u64(out, ((const uint8_t *)values)[i]);
    case TL_UINT16: return tl_fmt_u64(out, ((const uint16_t *)values)[i]);
    case TL_UINT32: return tl_fmt_u64(out, ((const uint32_t *)values)[i]);
    case TL_UINT64: return tl_fmt_u64(out, ((const uint64_t *)values)[i]);
    case TL_FLOAT32: return tl_fmt_f32(out, ((const float *)values)[i]);
    case TL_FLOAT64: return tl_fmt_f64(out, ((const double *)values)[i]);
    case TL_DATE: return tl_fmt_date(out, ((const int32_t *)values)[i]);
    case TL_TIMESTAMP_US: return tl_fmt_timestamp_us(out, ((const int64_t *)values)[i]);
    default: return 0;
    }
}

TL_WUR static int check_batch(const tl_batch *b, tl_error *err)
{
    if (b->n_cols > 0 && !b->defs)
        return tl_error_set(err, TL_EINVAL, "csv: batch has %u columns but no defs", b->n_cols);
    for (uint32_t c = 0; c < b->n_cols; c++) {
        const tl_coldef *d = &b->defs[c];
        const char *name = d->name ? d->name : "";
        if (d->type < 1 || d->type > TL_TYPE_MAX)
            return tl_error_set(err, TL_EINVAL,
                                "csv: column %u '%s': expected a type 1..%d, found %d", c, name,
                                TL_TYPE_MAX, (int)d->type);
        if (b->n_rows == 0)
            continue;
        if (!b->cols)
            return tl_error_set(err, TL_EINVAL, "csv: batch has %u rows but no columns",
                                b->n_rows);
        const tl_colvec *v = &b->cols[c];
        if (d->type == TL_STRING ? (!v->offsets || !v->data) : !v->values)
            return tl_error_set(err, TL_EINVAL, "csv: column %u '%s' (%s): %s pointer is NULL", c,
                                name, tl_type_name(d->type),
                                d->type == TL_STRING ? "offsets/data" : "values");
    }
    return TL_OK;
}

int tl_batch_write_csv(const tl_batch *b, FILE *f, int header, tl_error *err)
{
    if (!b || !f)
        return tl_error_set(err, TL_EINVAL, "tl_batch_write_csv: %s is NULL", b ? "file" : "batch");
    int rc = check_batch(b, err);
    if (rc != TL_OK)
        return rc;
    csvw w = {.f = f, .buf = csv_buf};
    if (header) {
        for (uint32_t c = 0; c < b->n_cols && rc == TL_OK; c++) {
            const char *name = b->defs[c].name ? b->defs[c].name : "";
            if (c > 0)
                rc = put_bytes(&w, ",", 1, err);
            if (rc == TL_OK)
                rc = put_string(&w, (const uint8_t *)name, strlen(name), err);
        }
        if (rc == TL_OK)
            rc = put_bytes(&w, "\n", 1, err);
    }
    for (uint32_t r = 0; r < b->n_rows && rc == TL_OK; r++) {
        w.row = r;
        for (uint32_t c = 0; c < b->n_cols; c++) {
            const tl_colvec *v = &b->cols[c];
            tl_type t = b->defs[c].type;
            if ((rc = reserve(&w, TL_FMT_MAX + 2, err)) != TL_OK)
                break;
            if (c > 0)
                w.buf[w.len++] = ',';
            if (!tl_bit_get(v->validity, r))
                continue;
            if (t == TL_STRING) {
                uint32_t lo = v->offsets[r], hi = v->offsets[r + 1];
                if (hi < lo) {
                    rc = tl_error_set(err, TL_EINVAL,
                                      "csv: column %u '%s' row %u: string offsets decrease "
                                      "(%u then %u)",
                                      c, b->defs[c].name ? b->defs[c].name : "", r, lo, hi);
                    break;
                }
                if ((rc = put_string(&w, v->data + lo, hi - lo, err)) != TL_OK)
                    break;
            } else {
                w.len += fmt_value(w.buf + w.len, t, v->values, r);
            }
        }
        if (rc == TL_OK && (rc = reserve(&w, 1, err)) == TL_OK)
            w.buf[w.len++] = '\n';
    }
    if (rc == TL_OK)
        rc = flush(&w, err);
    if (rc == TL_OK) {
        errno = 0;
        if (fflush(f) != 0 || ferror(f))
            rc = tl_error_sys(err, errno ? errno : EIO,
                              "csv: flushing the stream failed after %" PRIu64 " bytes",
                              w.written);
    }
    return rc;
}
