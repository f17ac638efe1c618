/*
 * delta_export.c - the Delta Lake log of `ticklake export --delta`
 * (spec/PARQUET.md, "Export and Delta"), and the checker of the rules DX-n
 * that log must pass.
 *
 * The export writes one commit, _delta_log/00000000000000000000.json,
 * newline-delimited JSON in this order: commitInfo, protocol
 * {minReaderVersion 1, minWriterVersion 2} (no table features are used),
 * metaData (id, format parquet, schemaString: the Spark StructType of the
 * data columns then the partition columns symbol:string and date:date,
 * partitionColumns, configuration {}, createdTime), then one add per data
 * file (path URI-encoded, partitionValues, size, modificationTime,
 * dataChange true, stats as a JSON *string*). jansson builds and parses
 * every line, so escaping and UTF-8 are its business; values it cannot
 * hold exactly (uint64 bounds above 2^63-1) are left out of the stats.
 *
 * The checker (tl_delta_check) reads a Delta table directory back with
 * jansson and tl_pq_open and enforces DX-1 .. DX-12; it trusts nothing it
 * reads (every field's type is checked before use).
 */
#include "export_int.h"

#include "civil_int.h"
#include "io_int.h"
#include "log_int.h"
#include "ticklake.h"
#include "util_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELTA_STR_STATS_MAX 256 /* bytes of a string bound we write */

const char *tl_delta_type_name(tl_type t)
{
    switch (t) {
    case TL_BOOL: return "boolean";
    case TL_INT8: return "byte";
    case TL_INT16: return "short";
    case TL_INT32: return "integer";
    case TL_INT64: return "long";
    case TL_UINT8: return "short";
    case TL_UINT16: return "integer";
    case TL_UINT32: return "long";
    case TL_UINT64: return "decimal(20,0)";
    case TL_FLOAT32: return "float";
    case TL_FLOAT64: return "double";
    case TL_TIMESTAMP: return "timestamp";
    case TL_DATE: return "date";
    case TL_STRING: return "string";
    default: return NULL;
    }
}

static void date_text(int64_t day, char out[48])
{
    int64_t y;
    int m, d;
    tl_civil_from_days(day, &y, &m, &d);
    if (y < 0)
        snprintf(out, 48, "-%04" PRId64 "-%02d-%02d", -y, m, d);
    else
        snprintf(out, 48, "%04" PRId64 "-%02d-%02d", y, m, d);
}

/* ns -> "YYYY-MM-DDTHH:MM:SS.mmmZ", ms floored (up = 0) or raised (up = 1). */
static void ts_text(int64_t ns, int up, char out[80])
{
    int64_t ms = tl_floor_div(ns, 1000000);
    if (up && ms * 1000000 != ns)
        ms++;
    int64_t msd = ms - tl_floor_div(ms, 86400000) * 86400000;
    int64_t day = tl_floor_div(ms, 86400000);
    char d[48];
    date_text(day, d);
    unsigned h = (unsigned)(msd / 3600000) % 24u, mi = (unsigned)(msd / 60000 % 60),
             se = (unsigned)(msd / 1000 % 60), mls = (unsigned)(msd % 1000);
    snprintf(out, 80, "%sT%02u:%02u:%02u.%03uZ", d, h, mi, se, mls);
}

/* Bound of column type t as JSON, or NULL when it is left out. */
static json_t *bound(tl_type t, const tlf_zval *v, const uint8_t *s, uint32_t slen, int up)
{
    char b[80];
    switch (t) {
    case TL_INT8:
    case TL_INT16:
    case TL_INT32:
    case TL_INT64: return json_integer(v->i);
    case TL_UINT8:
    case TL_UINT16:
    case TL_UINT32: return json_integer((json_int_t)v->u);
    case TL_UINT64: return v->u <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v->u) : NULL;
    case TL_FLOAT32:
    case TL_FLOAT64: return isfinite(v->f) ? json_real(v->f) : NULL;
    case TL_DATE:
        date_text(v->i, b);
        return json_string(b);
    case TL_TIMESTAMP:
        ts_text(v->i, up, b);
        return json_string(b);
    case TL_STRING:
        if (!s || slen > DELTA_STR_STATS_MAX || tl_utf8_bad(s, slen) != slen ||
            memchr(s, 0, slen))
            return NULL;
        return json_stringn((const char *)s, slen);
    default: return NULL; /* bool: Delta keeps no bounds */
    }
}

int tl_delta_stats_json(const tl_coldef *cols, uint32_t n_cols, const tl_pq_write_stats *st,
                        const uint8_t *has_nan, char **out, tl_error *err)
{
    *out = NULL;
    json_t *o = json_object(), *mn = json_object(), *mx = json_object(), *nc = json_object();
    int oom = !o || !mn || !mx || !nc;
    if (!oom)
        oom = json_object_set_new(o, "numRecords", json_integer((json_int_t)st->rows)) != 0;
    for (uint32_t i = 0; !oom && i < n_cols; i++) {
        const tl_pq_col_stats *cs = &st->cols[i];
        const char *name = cols[i].name;
        oom = json_object_set_new(nc, name, json_integer((json_int_t)cs->null_count)) != 0;
        if (oom || !cs->has_minmax || (has_nan && has_nan[i]))
            continue;
        json_t *a = bound(cols[i].type, &cs->min, cs->smin, cs->smin_len, 0);
        json_t *b = bound(cols[i].type, &cs->max, cs->smax, cs->smax_len, 1);
        if (a && b) {
            oom = json_object_set_new(mn, name, a) || json_object_set_new(mx, name, b);
        } else {
            json_decref(a);
            json_decref(b);
        }
    }
    if (!oom) {
        oom = json_object_set_new(o, "minValues", mn) || json_object_set_new(o, "maxValues", mx) ||
              json_object_set_new(o, "nullCount", nc);
        mn = mx = nc = NULL;
    }
    if (!oom)
        *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    json_decref(mn);
    json_decref(mx);
    json_decref(nc);
    if (!*out)
        return tl_error_set(err, TL_ENOMEM, "export: Delta stats: out of memory");
    return TL_OK;
}

/* ---- the commit --------------------------------------------------------- */

static json_t *field(const char *name, const char *type, int nullable)
{
    json_t *f = json_object();
    if (!f)
        return NULL;
    json_t *n = json_string(name);
    if (!n || json_object_set_new(f, "name", n) ||
        json_object_set_new(f, "type", json_string(type)) ||
        json_object_set_new(f, "nullable", json_boolean(nullable)) ||
        json_object_set_new(f, "metadata", json_object())) {
        json_decref(f);
        return NULL;
    }
    return f;
}

/* Append one action line {"name": body} to the text; body is consumed. */
static int add_line(char **buf, size_t *len, size_t *cap, const char *name, json_t *body)
{
    json_t *line = json_object();
    if (!line || !body || json_object_set_new(line, name, body)) {
        json_decref(line);
        if (!line)
            json_decref(body);
        return -1;
    }
    char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!s)
        return -1;
    size_t n = strlen(s);
    if (tl_grow((void **)buf, cap, *len + n + 2)) {
        free(s);
        return -1;
    }
    memcpy(*buf + *len, s, n);
    (*buf)[*len + n] = '\n';
    *len += n + 1;
    (*buf)[*len] = 0;
    free(s);
    return 0;
}

int tl_delta_log_build(const tl_delta_log_in *in, char **out, size_t *out_len, tl_error *err)
{
    *out = NULL;
    *out_len = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char uuid[37], txn[37];
    int rc = tl_log_uuid4(uuid, err);
    if (!rc)
        rc = tl_log_uuid4(txn, err);
    if (rc)
        return rc;
    /* schema (checked first: names that are not UTF-8 are the caller's) */
    json_t *fields = json_array();
    if (!fields)
        return tl_error_set(err, TL_ENOMEM, "export: Delta log: out of memory");
    for (uint32_t i = 0; i < in->n_cols; i++) {
        const char *ty = tl_delta_type_name(in->cols[i].type);
        json_t *f = ty ? field(in->cols[i].name, ty, in->nullable[i]) : NULL;
        if (!f || json_array_append_new(fields, f)) {
            json_decref(fields);
            return tl_error_set(err, TL_EINVAL, "export: Delta log: column '%s' (%s): not "
                                "a UTF-8 name or a type Delta has", in->cols[i].name,
                                tl_type_name(in->cols[i].type) ? tl_type_name(in->cols[i].type)
                                                               : "?");
        }
    }
    json_t *pcols = json_array();
    if (in->part_symbol) {
        json_array_append_new(fields, field(TL_EXPORT_KEY_SYMBOL, "string", 1));
        json_array_append_new(pcols, json_string(TL_EXPORT_KEY_SYMBOL));
    }
    if (in->part_date) {
        json_array_append_new(fields, field(TL_EXPORT_KEY_DATE, "date", 1));
        json_array_append_new(pcols, json_string(TL_EXPORT_KEY_DATE));
    }
    json_t *schema = json_object();
    json_object_set_new(schema, "type", json_string("struct"));
    json_object_set_new(schema, "fields", fields);
    char *schema_str = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(schema);
    char *pby = json_dumps(pcols, JSON_COMPACT);
    int oom = !schema_str || !pby || !pcols;

    uint64_t rows = 0, bytes = 0;
    for (size_t i = 0; i < in->n_files; i++) {
        rows += in->files[i].rows;
        bytes += in->files[i].bytes;
    }
    char num[3][24];
    snprintf(num[0], 24, "%zu", in->n_files);
    snprintf(num[1], 24, "%" PRIu64, rows);
    snprintf(num[2], 24, "%" PRIu64, bytes);
    char note[64];
    snprintf(note, sizeof note, "%" PRId64, in->version);
    if (!oom) {
        json_t *ci = json_object(), *params = json_object(), *metrics = json_object();
        json_object_set_new(ci, "timestamp", json_integer(in->now_ms));
        json_object_set_new(ci, "operation", json_string("WRITE"));
        json_object_set_new(params, "mode", json_string("ErrorIfExists"));
        json_object_set_new(params, "partitionBy", json_string(pby));
        json_object_set_new(ci, "operationParameters", params);
        json_object_set_new(ci, "isolationLevel", json_string("Serializable"));
        json_object_set_new(ci, "isBlindAppend", json_true());
        json_object_set_new(metrics, "numFiles", json_string(num[0]));
        json_object_set_new(metrics, "numOutputRows", json_string(num[1]));
        json_object_set_new(metrics, "numOutputBytes", json_string(num[2]));
        json_object_set_new(ci, "operationMetrics", metrics);
        json_object_set_new(ci, "engineInfo", json_string("ticklake/" TL_VERSION_STRING));
        json_object_set_new(ci, "txnId", json_string(txn));
        /* provenance; Delta readers ignore fields they do not know */
        json_t *src = json_object();
        json_object_set_new(src, "table", json_string(in->table_path));
        json_object_set_new(src, "tableId", json_string(in->table_id));
        json_object_set_new(src, "version", json_string(note));
        if (in->where && *in->where)
            json_object_set_new(src, "where", json_string(in->where));
        json_object_set_new(ci, "ticklakeSource", src);
        oom = add_line(&buf, &len, &cap, "commitInfo", ci);
    }
    if (!oom) {
        json_t *p = json_object();
        json_object_set_new(p, "minReaderVersion", json_integer(1));
        json_object_set_new(p, "minWriterVersion", json_integer(2));
        oom = add_line(&buf, &len, &cap, "protocol", p);
    }
    if (!oom) {
        json_t *m = json_object(), *fmt = json_object();
        json_object_set_new(m, "id", json_string(uuid));
        json_object_set_new(fmt, "provider", json_string("parquet"));
        json_object_set_new(fmt, "options", json_object());
        json_object_set_new(m, "format", fmt);
        json_object_set_new(m, "schemaString", json_string(schema_str));
        json_object_set_new(m, "partitionColumns", json_incref(pcols));
        json_object_set_new(m, "configuration", json_object());
        json_object_set_new(m, "createdTime", json_integer(in->now_ms));
        oom = add_line(&buf, &len, &cap, "metaData", m);
    }
    for (size_t i = 0; !rc && !oom && i < in->n_files; i++) {
        const tl_export_file *f = &in->files[i];
        char *uri = tl_export_uri_path(f->rel);
        json_t *a = json_object(), *pv = json_object();
        oom = !uri || !a || !pv;
        if (!oom && in->part_symbol) {
            json_t *sv = f->symbol_null || !f->symbol || !*f->symbol ? json_null()
                                                                      : json_string(f->symbol);
            if (!sv)
                rc = tl_error_set(err, TL_EINVAL, "export: Delta log: the symbol of %s is "
                                  "not UTF-8 (JSON cannot hold it)", f->rel);
            json_object_set_new(pv, TL_EXPORT_KEY_SYMBOL, sv);
        }
        if (!oom && in->part_date) {
            char d[48];
            date_text(f->day, d);
            json_object_set_new(pv, TL_EXPORT_KEY_DATE, f->day_null ? json_null() : json_string(d));
        }
        if (!oom && !rc) {
            json_object_set_new(a, "path", json_string(uri));
            json_object_set_new(a, "partitionValues", pv);
            pv = NULL;
            json_object_set_new(a, "size", json_integer((json_int_t)f->bytes));
            json_object_set_new(a, "modificationTime", json_integer(f->mtime_ms));
            json_object_set_new(a, "dataChange", json_true());
            if (f->delta_stats)
                json_object_set_new(a, "stats", json_string(f->delta_stats));
            oom = add_line(&buf, &len, &cap, "add", a);
            a = NULL;
        }
        json_decref(a);
        json_decref(pv);
        free(uri);
    }
    json_decref(pcols);
    free(schema_str);
    free(pby);
    if (!rc && oom)
        rc = tl_error_set(err, TL_ENOMEM, "export: Delta log: out of memory");
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return TL_OK;
}
