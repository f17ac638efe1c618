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
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
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
    case TL_TIMESTAMP_US: return "timestamp"; /* Spark's timestamp is µs */
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

/* v in units of 1/per_ms ms (ns: 1000000, µs: 1000) ->
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", ms floored (up = 0) or raised (up = 1).
 * Returns 0 (and writes nothing useful) when the year is outside
 * 0001..9999, which Delta's timestamp bounds cannot spell. */
static int ts_text(int64_t v, int64_t per_ms, int up, char out[80])
{
    int64_t ms = tl_floor_div(v, per_ms);
    if (up && ms * per_ms != v)
        ms++;
    if (ms < INT64_C(-62135596800000) || ms > INT64_C(253402300799999))
        return 0;
    int64_t msd = ms - tl_floor_div(ms, 86400000) * 86400000;
    int64_t day = tl_floor_div(ms, 86400000);
    char d[48];
    date_text(day, d);
    unsigned h = (unsigned)(msd / 3600000) % 24u, mi = (unsigned)(msd / 60000 % 60),
             se = (unsigned)(msd / 1000 % 60), mls = (unsigned)(msd % 1000);
    snprintf(out, 80, "%sT%02u:%02u:%02u.%03uZ", d, h, mi, se, mls);
    return 1;
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
        return ts_text(v->i, 1000000, up, b) ? json_string(b) : NULL;
    case TL_TIMESTAMP_US:
        return ts_text(v->i, 1000, up, b) ? json_string(b) : NULL;
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

/* ---- the checker (DX-1 .. DX-12) ------------------------------------------ */

typedef struct dx_ctx {
    const char *dir;
    const char *log;       /* "<dir>/_delta_log/000...0.json" for messages */
    tl_error *err;
    json_t *schema_fields; /* the parsed schemaString's fields */
    json_t *pcols;         /* metaData.partitionColumns */
    char **paths;          /* decoded add paths */
    size_t n_paths, cap_paths;
} dx_ctx;

#define DX_FAIL(x, rule, line, ...)                                                    \
    dx_fail((x), (rule), (line), __VA_ARGS__)

TL_PRINTF(4, 5)
static int dx_fail(dx_ctx *x, int rule, uint32_t line, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (line)
        return tl_error_set(x->err, TL_ECORRUPT, "delta check DX-%d: %s line %u: %s", rule,
                            x->log, line, m);
    return tl_error_set(x->err, TL_ECORRUPT, "delta check DX-%d: %s: %s", rule, x->dir, m);
}

/* JSON through the engine's checked parse (log_int.h tl_json_loadb): a
 * parse during which jansson lost an allocation is TL_ENOMEM (*rc), never
 * taken as the text's meaning. */
static json_t *dx_parse(dx_ctx *x, const char *s, size_t n, json_error_t *je, int *rc)
{
    int oom = 0;
    json_t *o = tl_json_loadb(s, n, JSON_REJECT_DUPLICATES, je, &oom);
    *rc = !o && oom ? tl_error_set(x->err, TL_ENOMEM, "delta check: %s: out of memory parsing "
                                                      "JSON", x->log)
                    : TL_OK;
    return o;
}

static const char *jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* A strict YYYY-MM-DD real date (4-digit year); *day set. */
static int parse_date(const char *s, int64_t *day)
{
    int y, m, d;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    int64_t z = tl_days_from_civil(y, m, d);
    int64_t yy;
    int mm, dd;
    tl_civil_from_days(z, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d)
        return 0;
    *day = z;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ */
static int parse_ts(const char *s)
{
    int64_t day;
    char d[11];
    if (strlen(s) != 24 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
        s[23] != 'Z')
        return 0;
    memcpy(d, s, 10);
    d[10] = 0;
    if (!parse_date(d, &day))
        return 0;
    static const int dig[] = {11, 12, 14, 15, 17, 18, 20, 21, 22};
    for (size_t i = 0; i < sizeof dig / sizeof dig[0]; i++)
        if (s[dig[i]] < '0' || s[dig[i]] > '9')
            return 0;
    return atoi(s + 11) < 24 && atoi(s + 14) < 60 && atoi(s + 17) < 60;
}

static int valid_type(const char *t)
{
    static const char *const prim[] = {"boolean", "byte", "short", "integer", "long", "float",
                                       "double", "string", "binary", "date", "timestamp",
                                       "timestamp_ntz"};
    for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++)
        if (strcmp(t, prim[i]) == 0)
            return 1;
    int p, s, n = 0;
    if (sscanf(t, "decimal(%d,%d)%n", &p, &s, &n) == 2 && t[n] == 0)
        return p >= 1 && p <= 38 && s >= 0 && s <= p;
    return 0;
}

static json_t *schema_field(const dx_ctx *x, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(x->schema_fields, i, f) {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    }
    return NULL;
}

static int is_pcol(const dx_ctx *x, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(x->pcols, i, p) {
        if (strcmp(json_string_value(p), name) == 0)
            return 1;
    }
    return 0;
}

static int dx_protocol(dx_ctx *x, uint32_t ln, json_t *p)
{
    json_t *r = json_object_get(p, "minReaderVersion"), *w = json_object_get(p, "minWriterVersion");
    if (!json_is_integer(r) || json_integer_value(r) != 1)
        return DX_FAIL(x, 5, ln, "protocol.minReaderVersion: expected the integer 1, found %s",
                       r ? jtype(r) : "nothing");
    if (!json_is_integer(w) || json_integer_value(w) != 2)
        return DX_FAIL(x, 5, ln, "protocol.minWriterVersion: expected the integer 2, found %s",
                       w ? jtype(w) : "nothing");
    if (json_object_get(p, "readerFeatures") || json_object_get(p, "writerFeatures"))
        return DX_FAIL(x, 5, ln, "protocol: readerFeatures/writerFeatures exist only with "
                       "reader version 3 / writer version 7");
    return TL_OK;
}

static int dx_metadata(dx_ctx *x, uint32_t ln, json_t *m)
{
    json_t *id = json_object_get(m, "id"), *fmt = json_object_get(m, "format");
    json_t *ss = json_object_get(m, "schemaString"), *pc = json_object_get(m, "partitionColumns");
    json_t *conf = json_object_get(m, "configuration"), *ct = json_object_get(m, "createdTime");
    const char *ids = json_string_value(id);
    int uuid_ok = ids && strlen(ids) == 36 && ids[14] == '4';
    for (int i = 0; uuid_ok && i < 36; i++)
        uuid_ok = (i == 8 || i == 13 || i == 18 || i == 23)
                      ? ids[i] == '-'
                      : ((ids[i] >= '0' && ids[i] <= '9') || (ids[i] >= 'a' && ids[i] <= 'f'));
    if (!uuid_ok)
        return DX_FAIL(x, 6, ln, "metaData.id: expected a version-4 UUID string, found %s",
                       ids ? ids : id ? jtype(id) : "nothing");
    json_t *prov = json_object_get(fmt, "provider");
    if (!json_is_object(fmt) || !json_is_string(prov) ||
        strcmp(json_string_value(prov), "parquet") != 0 ||
        !json_is_object(json_object_get(fmt, "options")))
        return DX_FAIL(x, 6, ln, "metaData.format: expected {\"provider\":\"parquet\","
                       "\"options\":{...}}");
    if (!json_is_integer(ct) || json_integer_value(ct) < 0)
        return DX_FAIL(x, 6, ln, "metaData.createdTime: expected an integer >= 0, found %s",
                       ct ? jtype(ct) : "nothing");
    if (!json_is_object(conf))
        return DX_FAIL(x, 6, ln, "metaData.configuration: expected an object, found %s",
                       conf ? jtype(conf) : "nothing");
    const char *k;
    json_t *v;
    json_object_foreach(conf, k, v) {
        if (!json_is_string(v))
            return DX_FAIL(x, 6, ln, "metaData.configuration.%s: expected a string, found %s",
                           k, jtype(v));
    }
    if (!json_is_string(ss))
        return DX_FAIL(x, 6, ln, "metaData.schemaString: expected a string, found %s",
                       ss ? jtype(ss) : "nothing");
    /* DX-7 */
    json_error_t je;
    int prc;
    const char *sstr = json_string_value(ss);
    json_t *sch = dx_parse(x, sstr, strlen(sstr), &je, &prc);
    if (prc)
        return prc;
    json_t *fields = json_object_get(sch, "fields");
    json_t *ty = json_object_get(sch, "type");
    if (!json_is_object(sch) || !json_is_string(ty) ||
        strcmp(json_string_value(ty), "struct") != 0 || !json_is_array(fields) ||
        json_array_size(fields) == 0) {
        json_decref(sch);
        return DX_FAIL(x, 7, ln, "metaData.schemaString: expected a JSON struct type "
                       "{\"type\":\"struct\",\"fields\":[...]} with fields%s%s",
                       sch ? "" : ": ", sch ? "" : je.text);
    }
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        json_t *n = json_object_get(f, "name"), *t = json_object_get(f, "type");
        json_t *nl = json_object_get(f, "nullable"), *md = json_object_get(f, "metadata");
        const char *ns = json_string_value(n), *ts = json_string_value(t);
        int bad = !json_is_object(f) || !ns || !*ns || !ts || !valid_type(ts) ||
                  !json_is_boolean(nl) || !json_is_object(md);
        for (size_t j = 0; !bad && j < i; j++)
            bad = strcasecmp(json_string_value(json_object_get(json_array_get(fields, j), "name")),
                             ns) == 0;
        if (bad) {
            int rc = DX_FAIL(x, 7, ln, "schemaString field %zu (%s): expected a distinct "
                             "(case-insensitive) non-empty name, a primitive Spark type, a "
                             "boolean nullable and a metadata object", i, ns ? ns : "?");
            json_decref(sch);
            return rc;
        }
    }
    x->schema_fields = json_incref(fields);
    json_decref(sch);
    /* DX-8 */
    if (!json_is_array(pc))
        return DX_FAIL(x, 8, ln, "metaData.partitionColumns: expected an array, found %s",
                       pc ? jtype(pc) : "nothing");
    json_array_foreach(pc, i, v) {
        const char *s = json_string_value(v);
        json_t *sf = s ? schema_field(x, s) : NULL;
        if (!sf)
            return DX_FAIL(x, 8, ln, "metaData.partitionColumns[%zu]: expected the name of a "
                           "schema field, found %s", i, s ? s : jtype(v));
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(pc, j)), s) == 0)
                return DX_FAIL(x, 8, ln, "metaData.partitionColumns: '%s' twice", s);
        const char *t = json_string_value(json_object_get(sf, "type"));
        if (strcmp(t, "string") != 0 && strcmp(t, "date") != 0)
            return DX_FAIL(x, 8, ln, "partition column '%s': expected type string or date, "
                           "found %s", s, t);
    }
    x->pcols = json_incref(pc);
    return TL_OK;
}

/* Percent-decode a URI path; 0 on a malformed escape or an encoded NUL. */
static int uri_decode(const char *s, char *out)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int v = 0;
        for (int k = 1; k <= 2; k++) {
            char c = s[i + (size_t)k];
            int h = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (h < 0)
                return 0;
            v = v * 16 + h;
        }
        if (v == 0)
            return 0;
        out[o++] = (char)v;
        i += 2;
    }
    out[o] = 0;
    return 1;
}

static int cmp_bound(const char *t, json_t *a, json_t *b)
{
    if (json_is_string(a) && json_is_string(b))
        return strcmp(json_string_value(a), json_string_value(b));
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    (void)t;
    double x = json_number_value(a), y = json_number_value(b);
    return x < y ? -1 : x > y;
}

/* A bound's JSON form fits its column's Delta type. */
static int bound_ok(const char *t, json_t *v)
{
    if (!strcmp(t, "string"))
        return json_is_string(v);
    if (!strcmp(t, "date")) {
        int64_t d;
        return json_is_string(v) && parse_date(json_string_value(v), &d);
    }
    if (!strcmp(t, "timestamp"))
        return json_is_string(v) && parse_ts(json_string_value(v));
    if (!strcmp(t, "float") || !strcmp(t, "double"))
        return json_is_number(v);
    if (!strcmp(t, "boolean"))
        return 0; /* we write none */
    if (!json_is_integer(v))
        return 0;
    json_int_t x = json_integer_value(v);
    if (!strcmp(t, "byte"))
        return x >= -128 && x <= 127;
    if (!strcmp(t, "short"))
        return x >= -32768 && x <= 32767;
    if (!strcmp(t, "integer"))
        return x >= INT32_MIN && x <= INT32_MAX;
    if (!strcmp(t, "decimal(20,0)"))
        return x >= 0;
    return !strcmp(t, "long");
}

static int dx_stats(dx_ctx *x, uint32_t ln, json_t *st, int64_t *n_rec)
{
    const char *s = json_string_value(st);
    if (!s)
        return DX_FAIL(x, 10, ln, "add.stats: expected a string (JSON text), found %s",
                       st ? jtype(st) : "nothing");
    json_error_t je;
    int rc = TL_OK;
    json_t *o = dx_parse(x, s, strlen(s), &je, &rc);
    if (rc)
        return rc;
    json_t *nr = json_object_get(o, "numRecords");
    if (!json_is_object(o) || !json_is_integer(nr) || json_integer_value(nr) < 0) {
        rc = DX_FAIL(x, 10, ln, "add.stats: expected a JSON object with an integer "
                     "numRecords >= 0%s%s", o ? "" : ": ", o ? "" : je.text);
        json_decref(o);
        return rc;
    }
    *n_rec = json_integer_value(nr);
    static const char *const parts[3] = {"minValues", "maxValues", "nullCount"};
    for (int p = 0; !rc && p < 3; p++) {
        json_t *m = json_object_get(o, parts[p]);
        if (!m)
            continue;
        if (!json_is_object(m)) {
            rc = DX_FAIL(x, 10, ln, "add.stats.%s: expected an object, found %s", parts[p],
                         jtype(m));
            break;
        }
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v) {
            json_t *f = schema_field(x, k);
            if (!f || is_pcol(x, k)) {
                rc = DX_FAIL(x, 10, ln, "add.stats.%s.%s: expected a data column of the "
                             "schema", parts[p], k);
                break;
            }
            const char *t = json_string_value(json_object_get(f, "type"));
            if (p == 2) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    json_integer_value(v) > *n_rec) {
                    rc = DX_FAIL(x, 10, ln, "add.stats.nullCount.%s: expected an integer in "
                                 "0..%" PRId64 ", found %s", k, *n_rec, jtype(v));
                    break;
                }
            } else if (!bound_ok(t, v)) {
                rc = DX_FAIL(x, 10, ln, "add.stats.%s.%s: %s is not a bound of type %s",
                             parts[p], k, jtype(v), t);
                break;
            } else if (p == 1) {
                json_t *mn = json_object_get(json_object_get(o, "minValues"), k);
                if (!mn) {
                    rc = DX_FAIL(x, 10, ln, "add.stats.maxValues.%s without a minValues "
                                 "entry", k);
                    break;
                }
                if (cmp_bound(t, mn, v) > 0) {
                    rc = DX_FAIL(x, 10, ln, "add.stats: %s: minValues above maxValues", k);
                    break;
                }
            }
        }
    }
    json_decref(o);
    return rc;
}

/* Delta type of a data column vs the Parquet column's decoded type. */
static int pq_type_ok(const char *t, const tl_pq_colinfo *ci)
{
    switch (ci->type) {
    case TL_BOOL: return !strcmp(t, "boolean");
    case TL_INT8: return !strcmp(t, "byte");
    case TL_INT16:
    case TL_UINT8: return !strcmp(t, "short");
    case TL_INT32:
    case TL_UINT16: return !strcmp(t, "integer");
    case TL_INT64:
    case TL_UINT32: return !strcmp(t, "long");
    case TL_UINT64: return !strcmp(t, "decimal(20,0)");
    case TL_FLOAT32: return !strcmp(t, "float");
    case TL_FLOAT64: return !strcmp(t, "double");
    case TL_DATE: return !strcmp(t, "date");
    case TL_STRING: return !strcmp(t, "string");
    case TL_TIMESTAMP: return !strcmp(t, "timestamp") && ci->ts_utc && ci->ts_unit != TL_PQ_NANOS;
    default: return 0;
    }
}

static int dx_parquet(dx_ctx *x, uint32_t ln, const char *full, int64_t n_rec)
{
    tl_pq_file *f = NULL;
    tl_error e;
    int rc = tl_pq_open(full, &f, &e);
    if (rc)
        return DX_FAIL(x, 11, ln, "%s is not a Parquet file we can read: %s", full, e.msg);
    if ((int64_t)tl_pq_n_rows(f) != n_rec)
        rc = DX_FAIL(x, 11, ln, "%s: %" PRIu64 " rows, stats.numRecords says %" PRId64, full,
                     tl_pq_n_rows(f), n_rec);
    size_t nd = 0, i;
    json_t *sf;
    json_array_foreach(x->schema_fields, i, sf) {
        const char *name = json_string_value(json_object_get(sf, "name"));
        if (rc || is_pcol(x, name))
            continue;
        const tl_pq_colinfo *ci = nd < tl_pq_n_cols(f) ? tl_pq_col(f, (uint32_t)nd) : NULL;
        const char *t = json_string_value(json_object_get(sf, "type"));
        if (!ci || strcmp(ci->name, name) != 0)
            rc = DX_FAIL(x, 11, ln, "%s: column %zu: expected '%s' (the schema's data columns "
                         "in order), found %s", full, nd, name, ci ? ci->name : "no column");
        else if (!pq_type_ok(t, ci))
            rc = DX_FAIL(x, 11, ln, "%s: column '%s': Parquet %s does not read as Delta type "
                         "%s", full, name, ci->desc ? ci->desc : "?", t);
        nd++;
    }
    if (!rc && nd != tl_pq_n_cols(f))
        rc = DX_FAIL(x, 11, ln, "%s: %u columns, the schema has %zu data columns (partition "
                     "columns are not stored in the files)", full, tl_pq_n_cols(f), nd);
    tl_pq_close(f);
    return rc;
}

static int dx_add(dx_ctx *x, uint32_t ln, json_t *a, tl_delta_check_result *r)
{
    json_t *p = json_object_get(a, "path"), *pv = json_object_get(a, "partitionValues");
    json_t *sz = json_object_get(a, "size"), *mt = json_object_get(a, "modificationTime");
    json_t *dc = json_object_get(a, "dataChange");
    const char *ps = json_string_value(p);
    if (!ps || !*ps)
        return DX_FAIL(x, 9, ln, "add.path: expected a non-empty string, found %s",
                       p ? jtype(p) : "nothing");
    size_t pl = strlen(ps);
    char *dec = malloc(pl + 1);
    if (!dec)
        return tl_error_set(x->err, TL_ENOMEM, "delta check: out of memory");
    int rc = TL_OK;
    const char *colon = strchr(ps, ':'), *slash = strchr(ps, '/');
    if (ps[0] == '/' || (colon && (!slash || colon < slash)) || !uri_decode(ps, dec))
        rc = DX_FAIL(x, 9, ln, "add.path '%s': expected a relative URI path (no scheme, no "
                     "leading '/', %%XX escapes well formed)", ps);
    for (const char *c = dec; !rc && *c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.') ||
            (c == dec && (c[0] == '_' || c[0] == '.')))
            rc = DX_FAIL(x, 9, ln, "add.path '%s': an empty, '.', '..' or hidden component",
                         ps);
        c += n + (e ? 1 : 0);
        if (e && !*c && !rc)
            rc = DX_FAIL(x, 9, ln, "add.path '%s': ends with '/'", ps);
    }
    for (size_t i = 0; !rc && i < x->n_paths; i++)
        if (strcmp(x->paths[i], dec) == 0)
            rc = DX_FAIL(x, 9, ln, "add.path '%s': added twice", ps);
    char *full = NULL;
    struct stat st;
    if (!rc) {
        size_t n = strlen(x->dir) + strlen(dec) + 2;
        full = malloc(n);
        if (!full)
            rc = tl_error_set(x->err, TL_ENOMEM, "delta check: out of memory");
        else
            snprintf(full, n, "%s/%s", x->dir, dec);
    }
    if (!rc && (lstat(full, &st) != 0 || !S_ISREG(st.st_mode)))
        rc = DX_FAIL(x, 9, ln, "add.path '%s': %s is not a regular file", ps, full);
    if (!rc && (!json_is_integer(sz) || json_integer_value(sz) != (json_int_t)st.st_size))
        rc = DX_FAIL(x, 9, ln, "add.size: expected %lld (the size of %s), found %s%lld",
                     (long long)st.st_size, full, json_is_integer(sz) ? "" : "not an integer ",
                     (long long)json_integer_value(sz));
    if (!rc && (!json_is_integer(mt) || json_integer_value(mt) < 0))
        rc = DX_FAIL(x, 9, ln, "add.modificationTime: expected an integer >= 0");
    if (!rc && !json_is_boolean(dc))
        rc = DX_FAIL(x, 9, ln, "add.dataChange: expected a boolean, found %s",
                     dc ? jtype(dc) : "nothing");
    if (!rc && !json_is_object(pv))
        rc = DX_FAIL(x, 9, ln, "add.partitionValues: expected an object, found %s",
                     pv ? jtype(pv) : "nothing");
    if (!rc && json_object_size(pv) != json_array_size(x->pcols))
        rc = DX_FAIL(x, 9, ln, "add.partitionValues: %zu keys, partitionColumns has %zu",
                     json_object_size(pv), json_array_size(x->pcols));
    const char *k;
    json_t *v;
    if (!rc)
        json_object_foreach(pv, k, v) {
            json_t *f = is_pcol(x, k) ? schema_field(x, k) : NULL;
            int64_t d;
            if (!f) {
                rc = DX_FAIL(x, 9, ln, "add.partitionValues.%s: not a partition column", k);
                break;
            }
            if (!json_is_null(v) && !json_is_string(v)) {
                rc = DX_FAIL(x, 9, ln, "add.partitionValues.%s: expected a string or null, "
                             "found %s", k, jtype(v));
                break;
            }
            if (json_is_string(v) &&
                !strcmp(json_string_value(json_object_get(f, "type")), "date") &&
                !parse_date(json_string_value(v), &d)) {
                rc = DX_FAIL(x, 9, ln, "add.partitionValues.%s: expected YYYY-MM-DD, found "
                             "'%s'", k, json_string_value(v));
                break;
            }
        }
    int64_t n_rec = 0;
    if (!rc)
        rc = dx_stats(x, ln, json_object_get(a, "stats"), &n_rec);
    if (!rc)
        rc = dx_parquet(x, ln, full, n_rec);
    if (!rc && tl_grow((void **)&x->paths, &x->cap_paths, (x->n_paths + 1) * sizeof(char *)))
        rc = tl_error_set(x->err, TL_ENOMEM, "delta check: out of memory");
    if (!rc) {
        x->paths[x->n_paths++] = dec;
        dec = NULL;
        r->n_add++;
        r->rows += (uint64_t)n_rec;
        r->bytes += (uint64_t)st.st_size;
    }
    free(dec);
    free(full);
    return rc;
}

/* DX-12: every *.parquet file under dir (outside _delta_log) is added. */
static int dx_orphans(dx_ctx *x, const char *rel)
{
    char path[4200];
    snprintf(path, sizeof path, "%s%s%s", x->dir, *rel ? "/" : "", rel);
    tl_io_names names = {0};
    tl_error e;
    if (tl_io_list(NULL, NULL, path, &names, &e))
        return tl_error_set(x->err, e.code, "delta check: %s", e.msg);
    int rc = TL_OK;
    for (size_t i = 0; !rc && i < names.n; i++) {
        char sub[4200], full[4300];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names.names[i]);
        if (!strcmp(sub, "_delta_log"))
            continue;
        snprintf(full, sizeof full, "%s/%s", x->dir, sub);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = dx_orphans(x, sub);
            continue;
        }
        size_t n = strlen(sub);
        if (n < 8 || strcmp(sub + n - 8, ".parquet") != 0)
            continue;
        size_t k = 0;
        while (k < x->n_paths && strcmp(x->paths[k], sub) != 0)
            k++;
        if (k == x->n_paths)
            rc = DX_FAIL(x, 12, 0, "%s is a Parquet file no add action names", sub);
    }
    tl_io_names_free(&names);
    return rc;
}

int tl_delta_check(const char *dir, tl_delta_check_result *res, tl_error *err)
{
    tl_delta_check_result r = {0};
    if (res)
        memset(res, 0, sizeof *res);
    char log[4200], logdir[4200];
    snprintf(log, sizeof log, "%s/%s", dir, TL_EXPORT_DELTA_COMMIT);
    snprintf(logdir, sizeof logdir, "%s/_delta_log", dir);
    dx_ctx x = {.dir = dir, .log = log, .err = err};
    /* DX-1 */
    tl_io_names names = {0};
    tl_error e;
    if (tl_io_list(NULL, NULL, logdir, &names, &e))
        return tl_error_set(err, TL_ECORRUPT, "delta check DX-1: %s: no _delta_log directory "
                            "(%s)", dir, e.msg);
    int rc = TL_OK;
    if (names.n != 1 || strcmp(names.names[0], "00000000000000000000.json") != 0)
        rc = DX_FAIL(&x, 1, 0, "_delta_log holds %zu entries (first '%s'); expected exactly "
                     "00000000000000000000.json", names.n, names.n ? names.names[0] : "");
    tl_io_names_free(&names);
    if (rc)
        return rc;
    char *buf = NULL;
    size_t len = 0;
    if ((rc = tl_io_read_file(NULL, NULL, log, (size_t)256 << 20, &buf, &len, &e)))
        return tl_error_set(err, rc == TL_ENOMEM ? TL_ENOMEM : TL_ECORRUPT,
                            "delta check DX-1: %s", e.msg);
    /* DX-2 .. DX-4 and the actions */
    if (len == 0 || buf[len - 1] != '\n')
        rc = DX_FAIL(&x, 2, 0, "%s: empty, or the last line does not end with LF", log);
    uint32_t ln = 0, n_ci = 0, n_proto = 0, n_meta = 0;
    json_t **adds = NULL;
    uint32_t *add_lines = NULL;
    size_t n_adds = 0, cap_adds = 0, cap_lines = 0;
    json_t *proto = NULL, *meta = NULL;
    uint32_t proto_ln = 0, meta_ln = 0;
    for (size_t off = 0; !rc && off < len;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = (size_t)(nl - (buf + off));
        ln++;
        if (n == 0) {
            rc = DX_FAIL(&x, 2, ln, "an empty line");
            break;
        }
        if (tl_utf8_bad((const uint8_t *)buf + off, n) != n || memchr(buf + off, 0, n)) {
            rc = DX_FAIL(&x, 2, ln, "not UTF-8 text without NUL");
            break;
        }
        json_error_t je;
        int prc;
        json_t *o = dx_parse(&x, buf + off, n, &je, &prc);
        if (prc) {
            rc = prc;
            break;
        }
        const char *name = NULL;
        json_t *body = NULL;
        if (json_is_object(o) && json_object_size(o) == 1) {
            void *it = json_object_iter(o);
            name = json_object_iter_key(it);
            body = json_object_iter_value(it);
        }
        if (!o || !name || !json_is_object(body)) {
            rc = DX_FAIL(&x, 2, ln, "expected one JSON object with exactly one key whose value "
                         "is an object%s%s", o ? "" : ": ", o ? "" : je.text);
            json_decref(o);
            break;
        }
        if (!strcmp(name, "commitInfo")) {
            n_ci++;
        } else if (!strcmp(name, "protocol")) {
            n_proto++;
            json_decref(proto);
            proto = json_incref(body);
            proto_ln = ln;
        } else if (!strcmp(name, "metaData")) {
            n_meta++;
            json_decref(meta);
            meta = json_incref(body);
            meta_ln = ln;
        } else if (!strcmp(name, "add")) {
            if (tl_grow((void **)&adds, &cap_adds, (n_adds + 1) * sizeof *adds) ||
                tl_grow((void **)&add_lines, &cap_lines, (n_adds + 1) * sizeof *add_lines)) {
                rc = tl_error_set(err, TL_ENOMEM, "delta check: out of memory");
                json_decref(o);
                break;
            }
            add_lines[n_adds] = ln;
            adds[n_adds++] = json_incref(body);
        } else {
            rc = DX_FAIL(&x, 3, ln, "action '%s': expected commitInfo, protocol, metaData or "
                         "add (a version-0 export commit holds nothing else)", name);
        }
        json_decref(o);
        off += n + 1;
    }
    if (!rc && (n_proto != 1 || n_meta != 1 || n_ci > 1))
        rc = DX_FAIL(&x, 4, 0, "%s: %u protocol, %u metaData, %u commitInfo actions; expected "
                     "exactly one protocol and one metaData, at most one commitInfo", log,
                     n_proto, n_meta, n_ci);
    if (!rc)
        rc = dx_protocol(&x, proto_ln, proto);
    if (!rc)
        rc = dx_metadata(&x, meta_ln, meta);
    for (size_t i = 0; !rc && i < n_adds; i++)
        rc = dx_add(&x, add_lines[i], adds[i], &r);
    if (!rc)
        rc = dx_orphans(&x, "");
    for (size_t i = 0; i < n_adds; i++)
        json_decref(adds[i]);
    free(adds);
    free(add_lines);
    json_decref(proto);
    json_decref(meta);
    json_decref(x.schema_fields);
    json_decref(x.pcols);
    for (size_t i = 0; i < x.n_paths; i++)
        free(x.paths[i]);
    free(x.paths);
    free(buf);
    if (!rc && res)
        *res = r;
    return rc;
}
