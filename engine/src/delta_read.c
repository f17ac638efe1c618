/*
 * delta_read.c - the Delta Lake dialect of the log reader (spec/LOG.md
 * section 10, LOG-D1 .. LOG-D12): detection of a Delta log, and the parser
 * of one Delta JSON commit into the action structures of log_int.h, which
 * log.c then replays like a ticklake commit (read-only).
 *
 * A Delta commit file (_delta_log/<20 digits>.json) is newline-delimited
 * JSON, one action per line, {"<action>":{...}}, in any order:
 *   protocol   minReaderVersion, minWriterVersion, readerFeatures (reader 3),
 *              writerFeatures (writer 7)
 *   metaData   id, name, format{provider,options}, schemaString (a Spark
 *              StructType as JSON text), partitionColumns, configuration,
 *              createdTime
 *   add        path (URI-encoded, relative), partitionValues (strings or
 *              null), size, modificationTime, dataChange, stats (JSON text:
 *              numRecords, minValues, maxValues, nullCount), deletionVector
 *   remove     path, deletionTimestamp, dataChange, partitionValues, size,
 *              stats, deletionVector
 *   txn        appId, version, lastUpdated
 *   commitInfo free-form provenance: timestamp, inCommitTimestamp,
 *              operation, readVersion, txnId
 * Other action names are skipped (cdc, domainMetadata, ...).
 *
 * Passes over one commit: (0) split lines and read each line's action name
 * literally (no JSON parse); (1) parse the protocol line, then the metaData
 * line, so that features are checked before anything else is interpreted
 * and file actions see the commit's own metaData wherever it stands; (2)
 * parse every other line in file order. Every line is checked against the
 * limits (bytes, count, nesting depth) before jansson builds a tree of it;
 * every field's JSON type is checked before use; strings are copied into a
 * snapshot-wide arena. Invariant: an error leaves *out empty.
 */
#include "delta_read_int.h"

#include "civil_int.h"
#include "partpath_int.h"
#include "util_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- strings (in the snapshot's tl_log_arena) ---------------------------- */

static char *astrn(tl_log_arena *a, const char *s, size_t n)
{
    char *p = tl_log_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* ---- lines ------------------------------------------------------------------- */

enum { K_BLANK = -1, K_OTHER = 0 }; /* else TL_LOG_* kinds */

typedef struct dline {
    size_t off, len;
    uint32_t no;
    int kind;
} dline;

static int is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The action name of a line read literally: K_BLANK for whitespace only,
 * the kind of `{ "name"` when name is one of the six, else K_OTHER. */
static int line_kind(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_ws(p[i]))
        i++;
    if (i == n)
        return K_BLANK;
    if (p[i++] != '{')
        return K_OTHER;
    while (i < n && is_ws(p[i]))
        i++;
    if (i >= n || p[i++] != '"')
        return K_OTHER;
    size_t s = i;
    while (i < n && p[i] != '"' && p[i] != '\\')
        i++;
    if (i >= n || p[i] != '"')
        return K_OTHER;
    size_t kl = i - s;
    static const struct {
        const char *name;
        int kind;
    } names[] = {{"commitInfo", TL_LOG_COMMIT_INFO}, {"protocol", TL_LOG_PROTOCOL},
                 {"metaData", TL_LOG_METADATA},      {"txn", TL_LOG_TXN},
                 {"remove", TL_LOG_REMOVE},          {"add", TL_LOG_ADD}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k].name) == kl && memcmp(names[k].name, p + s, kl) == 0)
            return names[k].kind;
    return K_OTHER;
}

/* Nesting depth of [ and { outside strings. */
static uint32_t json_depth(const char *p, size_t n)
{
    uint32_t d = 0, max = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (in) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in = 0;
        } else if (ch == '"') {
            in = 1;
        } else if (ch == '{' || ch == '[') {
            if (++d > max)
                max = d;
        } else if ((ch == '}' || ch == ']') && d) {
            d--;
        }
    }
    return max;
}

/* Split buf into lines (the last may lack its LF), checking the limits. */
static int split_lines(const char *buf, size_t len, const char *file, size_t max_line,
                       uint32_t max_lines, dline **out, uint32_t *n_out, tl_error *err)
{
    *out = NULL;
    *n_out = 0;
    dline *ls = NULL;
    size_t cap = 0;
    uint32_t n = 0, no = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
        no++;
        if (l > max_line) {
            free(ls);
            return tl_error_set(err, TL_EUNSUPPORTED,
                                "%s: line %u: %zu bytes, above this reader's limit of %zu "
                                "(LOG-D3)",
                                file, no, l, max_line);
        }
        int k = line_kind(buf + off, l);
        if (k != K_BLANK) {
            if (n >= max_lines) {
                free(ls);
                return tl_error_set(err, TL_EUNSUPPORTED,
                                    "%s: more than %u actions, above this reader's limit "
                                    "(LOG-D3)",
                                    file, max_lines);
            }
            if (tl_grow((void **)&ls, &cap, (n + 1) * sizeof *ls)) {
                free(ls);
                return tl_error_set(err, TL_ENOMEM, "%s: out of memory", file);
            }
            ls[n++] = (dline){off, l, no, k};
        }
        off += l + 1;
    }
    *out = ls;
    *n_out = n;
    return TL_OK;
}

/* ---- parse context and messages ---------------------------------------------- */

typedef struct fref {
    const char *name;
    const tl_log_field *f;
} fref;

typedef struct dctx {
    const tl_delta_parse_in *in;
    const char *buf;
    tl_log_arena *ar;
    tl_error *err;
    uint32_t line;               /* current line for messages; 0 = none */
    const tl_log_metadata *meta; /* in force for this commit's file actions */
    fref *byname;                /* meta's fields sorted by name */
    uint32_t n_byname;
} dctx;

TL_PRINTF(3, 4)
static int dfail(dctx *c, int code, const char *fmt, ...)
{
    char m[440];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (c->line)
        return tl_error_set(c->err, code, "%s: line %u: %s", c->in->file, c->line, m);
    return tl_error_set(c->err, code, "%s: %s", c->in->file, m);
}

static int dnomem(dctx *c)
{
    return tl_error_set(c->err, TL_ENOMEM, "%s: out of memory", c->in->file);
}

static const char *jt(const json_t *v)
{
    if (!v)
        return "nothing";
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

/* Integer field: required or optional (absent/null -> *has 0). */
static int get_int(dctx *c, json_t *o, const char *act, const char *k, int required,
                   int64_t min, int64_t *out, int *has)
{
    json_t *v = json_object_get(o, k);
    if (has)
        *has = 0;
    if (!v || (!required && json_is_null(v))) {
        if (required)
            return dfail(c, TL_ECORRUPT, "%s.%s: expected an integer, found nothing", act, k);
        return TL_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return dfail(c, TL_ECORRUPT, "%s.%s: expected an integer >= %" PRId64 ", found %s%s",
                     act, k, min, jt(v),
                     json_is_integer(v) ? " below it" : "");
    *out = (int64_t)json_integer_value(v);
    if (has)
        *has = 1;
    return TL_OK;
}

static int get_bool(dctx *c, json_t *o, const char *act, const char *k, int *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_boolean(v))
        return dfail(c, TL_ECORRUPT, "%s.%s: expected a boolean, found %s", act, k, jt(v));
    *out = json_is_true(v);
    return TL_OK;
}

/* A name: 1..max bytes without control characters. */
static int name_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* String field copied to the arena; absent/null -> NULL when optional. */
static int get_str(dctx *c, json_t *o, const char *act, const char *k, int required,
                   size_t max, int is_name, const char **out)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v || (!required && json_is_null(v))) {
        if (required)
            return dfail(c, TL_ECORRUPT, "%s.%s: expected a string, found nothing", act, k);
        return TL_OK;
    }
    if (!json_is_string(v))
        return dfail(c, TL_ECORRUPT, "%s.%s: expected a string, found %s", act, k, jt(v));
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (is_name ? !name_ok(s, n, max) : n > max)
        return dfail(c, TL_ECORRUPT, "%s.%s: expected %s of 1 .. %zu bytes%s, found %zu bytes",
                     act, k, is_name ? "a name" : "text", max,
                     is_name ? " without control characters" : "", n);
    if (memchr(s, 0, n))
        return dfail(c, TL_ECORRUPT, "%s.%s: a NUL character", act, k);
    if (!(*out = astrn(c->ar, s, n)))
        return dnomem(c);
    return TL_OK;
}

/* Parse a line (or JSON text held in a string field) with the depth limit
 * checked first. what names it in messages. */
static json_t *load_json(dctx *c, const char *p, size_t n, const char *what, int *rc)
{
    *rc = TL_OK;
    uint32_t d = json_depth(p, n);
    if (d > TL_DELTA_MAX_DEPTH) {
        *rc = dfail(c, TL_EUNSUPPORTED, "%s: JSON nested %u deep, above this reader's limit of "
                    "%u (LOG-D3)", what, d, TL_DELTA_MAX_DEPTH);
        return NULL;
    }
    if (memchr(p, 0, n)) {
        *rc = dfail(c, TL_ECORRUPT, "%s: a NUL byte", what);
        return NULL;
    }
    json_error_t je;
    int oom = 0;
    json_t *j = tl_json_loadb(p, n, JSON_REJECT_DUPLICATES, &je, &oom);
    if (!j && oom) /* jansson ran out of memory: not bad text */
        *rc = dfail(c, TL_ENOMEM, "%s: out of memory parsing the JSON", what);
    else if (!j)
        *rc = dfail(c, TL_ECORRUPT, "%s: invalid JSON at byte %d: %s", what, je.position,
                    je.text);
    return j;
}

/* ---- protocol (LOG-D5) --------------------------------------------------------- */

/* Reader features this reader implements: they change nothing it reads. */
static const char *const reader_features_ok[] = {"timestampNtz", "vacuumProtocolCheck",
                                                 "v2Checkpoint"};

static int get_features(dctx *c, json_t *p, const char *k, int want, tl_log_strs *out,
                        char *bad, size_t bad_cap)
{
    json_t *a = json_object_get(p, k);
    *out = (tl_log_strs){NULL, 0};
    if (!want) {
        if (a)
            return dfail(c, TL_ECORRUPT, "protocol.%s: present, but Delta allows it only with "
                         "%s", k, k[0] == 'r' ? "minReaderVersion 3" : "minWriterVersion 7");
        return TL_OK;
    }
    if (!json_is_array(a))
        return dfail(c, TL_ECORRUPT, "protocol.%s: expected an array of strings, found %s", k,
                     jt(a));
    size_t n = json_array_size(a);
    if (n > TL_LOG_MAX_FEATURES)
        return dfail(c, TL_EUNSUPPORTED, "protocol.%s: %zu features, above this reader's limit "
                     "of %d", k, n, TL_LOG_MAX_FEATURES);
    const char **s = tl_log_arena_alloc(c->ar, (n ? n : 1) * sizeof *s);
    if (!s)
        return dnomem(c);
    size_t bl = bad ? strlen(bad) : 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || !name_ok(json_string_value(v), json_string_length(v),
                                           TL_LOG_MAX_FEATURE))
            return dfail(c, TL_ECORRUPT, "protocol.%s[%zu]: expected a feature name, found %s",
                         k, i, jt(v));
        if (!(s[i] = astrn(c->ar, json_string_value(v), json_string_length(v))))
            return dnomem(c);
        if (!bad)
            continue;
        int ok = 0;
        for (size_t f = 0; f < sizeof reader_features_ok / sizeof *reader_features_ok; f++)
            ok |= strcmp(s[i], reader_features_ok[f]) == 0;
        if (!ok) {
            int w = snprintf(bad + bl, bad_cap - bl, "%s%s", bl ? ", " : "", s[i]);
            if (w > 0)
                bl = (size_t)w + bl < bad_cap ? bl + (size_t)w : bad_cap - 1;
        }
    }
    *out = (tl_log_strs){s, (uint32_t)n};
    return TL_OK;
}

static int parse_protocol(dctx *c, json_t *p, tl_log_protocol *out)
{
    int64_t r = 0, w = 0;
    int rc = get_int(c, p, "protocol", "minReaderVersion", 1, 1, &r, NULL);
    if (!rc)
        rc = get_int(c, p, "protocol", "minWriterVersion", 1, 1, &w, NULL);
    if (rc)
        return rc;
    if (r > 3)
        return dfail(c, TL_EVERSION, "protocol.minReaderVersion: this reader implements Delta "
                     "reader versions 1 .. 3, found %" PRId64 " (LOG-D5)", r);
    if (w > INT32_MAX)
        return dfail(c, TL_ECORRUPT, "protocol.minWriterVersion: %" PRId64 " out of range", w);
    char bad[300] = "";
    rc = get_features(c, p, "readerFeatures", r == 3, &out->reader_features, bad, sizeof bad);
    if (!rc)
        rc = get_features(c, p, "writerFeatures", w == 7, &out->writer_features, NULL, 0);
    if (rc)
        return rc;
    if (bad[0])
        return dfail(c, TL_EUNSUPPORTED, "protocol.readerFeatures: this reader does not "
                     "implement %s (it implements timestampNtz, vacuumProtocolCheck, "
                     "v2Checkpoint; LOG-D5)", bad);
    out->min_reader_version = r;
    out->min_writer_version = w;
    return TL_OK;
}

/* ---- metaData and the schema (LOG-D6, LOG-D7) ----------------------------------- */

static int spark_type(const char *t, tl_type *out)
{
    static const struct {
        const char *name;
        tl_type type;
    } m[] = {{"long", TL_INT64},        {"integer", TL_INT32},  {"short", TL_INT16},
             {"byte", TL_INT8},         {"double", TL_FLOAT64}, {"float", TL_FLOAT32},
             {"boolean", TL_BOOL},      {"string", TL_STRING},  {"date", TL_DATE},
             {"timestamp", TL_TIMESTAMP}, {"timestamp_ntz", TL_TIMESTAMP}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcmp(t, m[i].name) == 0) {
            *out = m[i].type;
            return 1;
        }
    return 0;
}

static int cmp_icase(const void *x, const void *y)
{
    return strcasecmp(((const fref *)x)->name, ((const fref *)y)->name);
}

static int cmp_name(const void *x, const void *y)
{
    return strcmp(((const fref *)x)->name, ((const fref *)y)->name);
}

static int parse_schema(dctx *c, json_t *ss, tl_log_metadata *m)
{
    int rc;
    json_t *sch = load_json(c, json_string_value(ss), json_string_length(ss),
                            "metaData.schemaString", &rc);
    if (!sch)
        return rc;
    json_t *ty = json_object_get(sch, "type"), *fields = json_object_get(sch, "fields");
    if (!json_is_object(sch) || !json_is_string(ty) ||
        strcmp(json_string_value(ty), "struct") != 0 || !json_is_array(fields) ||
        json_array_size(fields) == 0) {
        json_decref(sch);
        return dfail(c, TL_ECORRUPT, "metaData.schemaString: expected {\"type\":\"struct\","
                     "\"fields\":[...]} with at least one field");
    }
    size_t n = json_array_size(fields);
    if (n > TL_LOG_MAX_COLUMNS) {
        json_decref(sch);
        return dfail(c, TL_EUNSUPPORTED, "metaData.schemaString: %zu fields, above the limit "
                     "of %d", n, TL_LOG_MAX_COLUMNS);
    }
    tl_log_field *fs = tl_log_arena_alloc(c->ar, n * sizeof *fs);
    fref *ix = malloc(n * sizeof *ix);
    if (!fs || !ix) {
        free(ix);
        json_decref(sch);
        return dnomem(c);
    }
    rc = TL_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *f = json_array_get(fields, i);
        json_t *fn = json_object_get(f, "name"), *ft = json_object_get(f, "type");
        json_t *nl = json_object_get(f, "nullable"), *md = json_object_get(f, "metadata");
        const char *name = json_string_value(fn);
        if (!json_is_object(f) || !name || !name_ok(name, json_string_length(fn),
                                                    TL_LOG_MAX_NAME) ||
            memchr(name, 0, json_string_length(fn))) {
            rc = dfail(c, TL_ECORRUPT, "metaData.schemaString: field %zu: expected an object "
                       "with a name of 1 .. %d bytes without control characters, found %s",
                       i, TL_LOG_MAX_NAME, json_is_object(f) ? jt(fn) : jt(f));
            break;
        }
        if (!json_is_boolean(nl) || (md && !json_is_object(md))) {
            rc = dfail(c, TL_ECORRUPT, "metaData.schemaString: field '%.200s': expected a "
                       "boolean nullable and an object metadata, found %s and %s", name,
                       jt(nl), md ? jt(md) : "no metadata");
            break;
        }
        tl_type t;
        if (json_is_object(ft)) {
            const char *k = json_string_value(json_object_get(ft, "type"));
            rc = dfail(c, TL_EUNSUPPORTED, "metaData.schemaString: field '%.200s': nested type "
                       "%.40s: ticklake columns are flat (LOG-D6)", name, k ? k : "(unknown)");
            break;
        }
        if (!json_is_string(ft)) {
            rc = dfail(c, TL_ECORRUPT, "metaData.schemaString: field '%.200s': type: expected "
                       "a string or an object, found %s", name, jt(ft));
            break;
        }
        if (!spark_type(json_string_value(ft), &t)) {
            rc = dfail(c, TL_EUNSUPPORTED, "metaData.schemaString: field '%.200s': Delta type "
                       "'%.60s' has no ticklake type (LOG-D6)", name, json_string_value(ft));
            break;
        }
        const char *cp = astrn(c->ar, name, json_string_length(fn));
        if (!cp) {
            rc = dnomem(c);
            break;
        }
        fs[i] = (tl_log_field){cp, t, json_is_true(nl)};
        ix[i] = (fref){cp, &fs[i]};
    }
    json_decref(sch);
    if (!rc) {
        /* Delta column names are case-insensitive: no two may differ only in case */
        qsort(ix, n, sizeof *ix, cmp_icase);
        for (size_t i = 1; !rc && i < n; i++)
            if (strcasecmp(ix[i - 1].name, ix[i].name) == 0)
                rc = dfail(c, TL_ECORRUPT, "metaData.schemaString: fields '%.200s' and "
                           "'%.200s' differ only in case (Delta names are case-insensitive)",
                           ix[i - 1].name, ix[i].name);
    }
    free(ix);
    if (!rc) {
        m->fields = fs;
        m->n_fields = (uint32_t)n;
    }
    return rc;
}

static const tl_log_field *meta_field(const tl_log_metadata *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return &m->fields[i];
    return NULL;
}

static int parse_meta(dctx *c, json_t *o, tl_log_metadata *m)
{
    memset(m, 0, sizeof *m);
    const char *provider = NULL;
    int64_t ct = 0;
    int has_ct = 0;
    int rc = get_str(c, o, "metaData", "id", 1, TL_DELTA_MAX_ID, 1, &m->id);
    if (!rc)
        rc = get_str(c, o, "metaData", "name", 0, TL_LOG_MAX_NAME, 0, &m->name);
    if (!rc)
        rc = get_int(c, o, "metaData", "createdTime", 0, 0, &ct, &has_ct);
    if (rc)
        return rc;
    m->created_ms = has_ct ? ct : 0;
    json_t *fmt = json_object_get(o, "format");
    if (!json_is_object(fmt))
        return dfail(c, TL_ECORRUPT, "metaData.format: expected an object, found %s", jt(fmt));
    if ((rc = get_str(c, fmt, "metaData.format", "provider", 1, TL_LOG_MAX_SHORT, 1,
                      &provider)))
        return rc;
    if (strcmp(provider, "parquet") != 0)
        return dfail(c, TL_EUNSUPPORTED, "metaData.format.provider: '%.100s': a Delta table's "
                     "data files are Parquet (LOG-D7)", provider);
    /* configuration */
    json_t *conf = json_object_get(o, "configuration");
    if (conf && !json_is_null(conf)) {
        if (!json_is_object(conf))
            return dfail(c, TL_ECORRUPT, "metaData.configuration: expected an object of "
                         "strings, found %s", jt(conf));
        size_t n = json_object_size(conf);
        tl_log_kv *kv = tl_log_arena_alloc(c->ar, (n ? n : 1) * sizeof *kv);
        if (!kv)
            return dnomem(c);
        const char *k;
        json_t *v;
        uint32_t i = 0;
        json_object_foreach(conf, k, v) {
            if (!json_is_string(v) || memchr(json_string_value(v), 0, json_string_length(v)))
                return dfail(c, TL_ECORRUPT, "metaData.configuration.%.200s: expected a string, "
                             "found %s", k, jt(v));
            if (!name_ok(k, strlen(k), TL_LOG_MAX_NAME) ||
                json_string_length(v) > TL_LOG_MAX_TEXT)
                return dfail(c, TL_ECORRUPT, "metaData.configuration: key '%.200s' or its value "
                             "is empty, too long or holds control characters", k);
            kv[i].key = astrn(c->ar, k, strlen(k));
            kv[i].val = astrn(c->ar, json_string_value(v), json_string_length(v));
            if (!kv[i].key || !kv[i].val)
                return dnomem(c);
            if (strcmp(k, "delta.columnMapping.mode") == 0 && strcmp(kv[i].val, "none") != 0)
                return dfail(c, TL_EUNSUPPORTED, "metaData.configuration: "
                             "delta.columnMapping.mode is '%.60s': this reader does not "
                             "implement columnMapping (LOG-D5)", kv[i].val);
            i++;
        }
        m->config = (tl_log_map){kv, i};
    }
    json_t *ss = json_object_get(o, "schemaString");
    if (!json_is_string(ss))
        return dfail(c, TL_ECORRUPT, "metaData.schemaString: expected a string (the schema as "
                     "JSON text), found %s", jt(ss));
    if ((rc = parse_schema(c, ss, m)))
        return rc;
    json_t *pc = json_object_get(o, "partitionColumns");
    if (!json_is_array(pc))
        return dfail(c, TL_ECORRUPT, "metaData.partitionColumns: expected an array of strings, "
                     "found %s", jt(pc));
    for (size_t i = 0; i < json_array_size(pc); i++) {
        json_t *v = json_array_get(pc, i);
        const char *name = json_string_value(v);
        const tl_log_field *f = name ? meta_field(m, name) : NULL;
        if (!f)
            return dfail(c, TL_ECORRUPT, "metaData.partitionColumns[%zu]: expected a column of "
                         "schemaString, found %s%.200s%s", i, name ? "'" : jt(v),
                         name ? name : "", name ? "'" : "");
        const char **slot = f->type == TL_STRING ? &m->part_symbol_col
                             : f->type == TL_DATE ? &m->part_day_col
                                                  : NULL;
        if (slot && *slot && strcmp(*slot, f->name) == 0)
            return dfail(c, TL_ECORRUPT, "metaData.partitionColumns: '%.200s' twice", f->name);
        if (!slot || *slot) {
            return dfail(c, TL_EUNSUPPORTED, "metaData.partitionColumns: '%.200s' (%s): "
                         "ticklake maps at most one string partition column (its symbol) and "
                         "one date partition column (its date) (LOG-D7)", f->name,
                         tl_type_name(f->type));
        }
        *slot = f->name;
    }
    return TL_OK;
}

/* ---- file actions (LOG-D9, LOG-D10) ------------------------------------------------ */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* add/remove.path: a relative URI reference, percent-decoded, then LOG-R11. */
static int parse_path(dctx *c, json_t *o, const char *act, const char **out)
{
    json_t *v = json_object_get(o, "path");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return dfail(c, TL_ECORRUPT, "%s.path: expected a non-empty string, found %s", act,
                     json_is_string(v) ? "an empty string" : jt(v));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    size_t i = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
                                s[i] == '.'))))
        i++;
    if ((i > 0 && i < n && s[i] == ':') || s[0] == '/')
        return dfail(c, TL_EUNSUPPORTED, "%s.path \"%.200s\": an absolute %s; this reader "
                     "reads only paths relative to the table directory (LOG-D9)", act, s,
                     s[0] == '/' ? "path" : "URI");
    char *d = tl_log_arena_alloc(c->ar, n + 1);
    if (!d)
        return dnomem(c);
    size_t k = 0;
    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[k++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return dfail(c, TL_ECORRUPT, "%s.path \"%.200s\": byte %zu: expected a %%XX escape "
                         "of a byte other than NUL (two hex digits), found \"%.3s\"", act, s, i,
                         s + i);
        d[k++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[k] = 0;
    size_t bad = tl_utf8_bad((const uint8_t *)d, k);
    if (bad != k)
        return dfail(c, TL_ECORRUPT, "%s.path \"%.200s\": the decoded path is not UTF-8 (byte "
                     "%zu)", act, s, bad);
    tl_error e;
    if (tl_partpath_check(d, k, &e) != TL_OK)
        return dfail(c, TL_ECORRUPT, "%s.path \"%.200s\": %s (LOG-D9, LOG-R11)", act, s, e.msg);
    *out = d;
    return TL_OK;
}

/* A strict YYYY-MM-DD (4-digit year, a real day). */
static int parse_day(const char *s, size_t n, int32_t *day)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    int v[3] = {0, 0, 0}, part = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            part++;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v[part] = v[part] * 10 + (s[i] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
        return 0;
    int64_t z = tl_days_from_civil(v[0], v[1], v[2]), y;
    int m, d;
    tl_civil_from_days(z, &y, &m, &d);
    if (y != v[0] || m != v[1] || d != v[2])
        return 0;
    *day = (int32_t)z;
    return 1;
}

static int parse_pvals(dctx *c, json_t *pv, const char *act, tl_log_pvals *out)
{
    const tl_log_metadata *m = c->meta;
    memset(out, 0, sizeof *out);
    if (!json_is_object(pv))
        return dfail(c, TL_ECORRUPT, "%s.partitionValues: expected an object, found %s", act,
                     jt(pv));
    out->has_symbol = m->part_symbol_col != NULL;
    out->has_date = m->part_day_col != NULL;
    int seen_s = 0, seen_d = 0;
    const char *k;
    json_t *v;
    json_object_foreach(pv, k, v) {
        int is_s = m->part_symbol_col && strcmp(k, m->part_symbol_col) == 0;
        int is_d = m->part_day_col && strcmp(k, m->part_day_col) == 0;
        if (!is_s && !is_d)
            return dfail(c, TL_ECORRUPT, "%s.partitionValues.%.200s: not a partition column of "
                         "the metaData", act, k);
        if (!json_is_null(v) && !json_is_string(v))
            return dfail(c, TL_ECORRUPT, "%s.partitionValues.%.200s: expected a string or null, "
                         "found %s", act, k, jt(v));
        size_t n = json_is_string(v) ? json_string_length(v) : 0;
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (is_s) {
            seen_s = 1;
            if (!s || n == 0) { /* Delta: an empty partition value is null */
                out->symbol_null = 1;
            } else if (n > TL_LOG_MAX_SYMBOL || memchr(s, 0, n)) {
                return dfail(c, TL_EUNSUPPORTED, "%s.partitionValues.%.200s: %zu bytes%s, above "
                             "the limit of %d bytes without NUL", act, k, n,
                             memchr(s, 0, n) ? " with a NUL" : "", TL_LOG_MAX_SYMBOL);
            } else if (!(out->symbol = astrn(c->ar, s, n))) {
                return dnomem(c);
            }
        } else {
            seen_d = 1;
            if (!s || n == 0)
                out->date_null = 1;
            else if (!parse_day(s, n, &out->date))
                return dfail(c, TL_ECORRUPT, "%s.partitionValues.%.200s: expected a date "
                             "YYYY-MM-DD, found \"%.40s\"", act, k, s);
        }
    }
    if ((m->part_symbol_col && !seen_s) || (m->part_day_col && !seen_d))
        return dfail(c, TL_ECORRUPT, "%s.partitionValues: no value for partition column '%.200s'",
                     act, !seen_s && m->part_symbol_col ? m->part_symbol_col : m->part_day_col);
    return TL_OK;
}

static const tl_log_field *field_by_name(dctx *c, const char *name)
{
    size_t a = 0, b = c->n_byname;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        int k = strcmp(c->byname[mid].name, name);
        if (!k)
            return c->byname[mid].f;
        if (k < 0)
            a = mid + 1;
        else
            b = mid;
    }
    return NULL;
}

/* Does JSON value v have the form of a bound of column type t? */
static int bound_ok(tl_type t, json_t *v)
{
    int32_t day;
    switch (t) {
    case TL_INT8:
    case TL_INT16:
    case TL_INT32:
    case TL_INT64: return json_is_integer(v);
    case TL_FLOAT32:
    case TL_FLOAT64:
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            return !strcmp(s, "NaN") || !strcmp(s, "Infinity") || !strcmp(s, "-Infinity");
        }
        return json_is_number(v);
    case TL_BOOL: return json_is_boolean(v);
    case TL_STRING:
    case TL_TIMESTAMP: return json_is_string(v);
    case TL_DATE: return json_is_string(v) && parse_day(json_string_value(v),
                                                        json_string_length(v), &day);
    default: return 0;
    }
}

/* stats: JSON text with numRecords, minValues, maxValues, nullCount. */
static int parse_stats(dctx *c, json_t *o, const char *act, int64_t *n_rows, int *has_n)
{
    json_t *st = json_object_get(o, "stats");
    *has_n = 0;
    *n_rows = 0;
    if (!st || json_is_null(st))
        return TL_OK;
    if (!json_is_string(st))
        return dfail(c, TL_ECORRUPT, "%s.stats: expected a string (Delta keeps statistics as "
                     "JSON text), found %s", act, jt(st));
    char what[32];
    snprintf(what, sizeof what, "%s.stats", act);
    int rc;
    json_t *j = load_json(c, json_string_value(st), json_string_length(st), what, &rc);
    if (!j)
        return rc;
    if (!json_is_object(j)) {
        rc = dfail(c, TL_ECORRUPT, "%s.stats: expected a JSON object in the text, found %s",
                   act, jt(j));
        json_decref(j);
        return rc;
    }
    rc = get_int(c, j, what, "numRecords", 0, 0, n_rows, has_n);
    static const char *const parts[3] = {"minValues", "maxValues", "nullCount"};
    for (int p = 0; !rc && p < 3; p++) {
        json_t *m = json_object_get(j, parts[p]);
        if (!m || json_is_null(m))
            continue;
        if (!json_is_object(m)) {
            rc = dfail(c, TL_ECORRUPT, "%s.stats.%s: expected an object, found %s", act,
                       parts[p], jt(m));
            break;
        }
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v) {
            const tl_log_field *f = field_by_name(c, k);
            if (!f || json_is_object(v))
                continue; /* other columns (and nested ones) are not ours to check */
            if (p == 2) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    (*has_n && json_integer_value(v) > *n_rows)) {
                    rc = dfail(c, TL_ECORRUPT, "%s.stats.nullCount.%.200s: expected an integer "
                               "in 0 .. numRecords, found %s", act, k, jt(v));
                    break;
                }
            } else if (!json_is_null(v) && !bound_ok(f->type, v)) {
                rc = dfail(c, TL_ECORRUPT, "%s.stats.%s.%.200s: %s is not a bound of a %s "
                           "column", act, parts[p], k, jt(v), tl_type_name(f->type));
                break;
            }
        }
    }
    json_decref(j);
    return rc;
}

static int no_dv(dctx *c, json_t *o, const char *act)
{
    json_t *dv = json_object_get(o, "deletionVector");
    if (dv && !json_is_null(dv))
        return dfail(c, TL_EUNSUPPORTED, "%s.deletionVector: this reader does not implement "
                     "deletionVectors (LOG-D5)", act);
    return TL_OK;
}

static int parse_add(dctx *c, json_t *o, tl_log_add *a)
{
    memset(a, 0, sizeof *a);
    int has_n = 0;
    int rc = no_dv(c, o, "add");
    if (!rc)
        rc = parse_path(c, o, "add", &a->path);
    if (!rc)
        rc = parse_pvals(c, json_object_get(o, "partitionValues"), "add", &a->part);
    if (!rc)
        rc = get_int(c, o, "add", "size", 1, 0, &a->size_bytes, NULL);
    if (!rc)
        rc = get_int(c, o, "add", "modificationTime", 1, 0, &a->mtime_ms, NULL);
    if (!rc)
        rc = get_bool(c, o, "add", "dataChange", &a->data_change);
    if (!rc)
        rc = parse_stats(c, o, "add", &a->n_rows, &has_n);
    return rc;
}

static int parse_remove(dctx *c, json_t *o, tl_log_remove *r)
{
    memset(r, 0, sizeof *r);
    int has = 0;
    int rc = no_dv(c, o, "remove");
    if (!rc)
        rc = parse_path(c, o, "remove", &r->path);
    if (!rc)
        rc = get_int(c, o, "remove", "deletionTimestamp", 0, 0, &r->deletion_ms, &has);
    if (!rc)
        rc = get_bool(c, o, "remove", "dataChange", &r->data_change);
    json_t *pv = json_object_get(o, "partitionValues");
    if (!rc && pv && !json_is_null(pv)) {
        rc = parse_pvals(c, pv, "remove", &r->part);
        r->has_part = 1;
    }
    if (!rc)
        rc = get_int(c, o, "remove", "size", 0, 0, &r->size_bytes, &r->has_size);
    if (!rc)
        rc = parse_stats(c, o, "remove", &r->n_rows, &r->has_n_rows);
    return rc;
}

static int parse_txn(dctx *c, json_t *o, tl_log_txn *t)
{
    memset(t, 0, sizeof *t);
    int rc = get_str(c, o, "txn", "appId", 1, TL_LOG_MAX_NAME, 1, &t->app_id);
    if (!rc)
        rc = get_int(c, o, "txn", "version", 1, 0, &t->version, NULL);
    if (!rc)
        rc = get_int(c, o, "txn", "lastUpdated", 0, 0, &t->last_updated_ms,
                     &t->has_last_updated);
    return rc;
}

/* commitInfo is free-form provenance: fields of another type are ignored. */
static int parse_ci(dctx *c, json_t *o, tl_log_commit_info *ci)
{
    json_t *op = json_object_get(o, "operation"), *rv = json_object_get(o, "readVersion");
    json_t *tx = json_object_get(o, "txnId");
    if (json_is_string(op) && !memchr(json_string_value(op), 0, json_string_length(op))) {
        size_t n = json_string_length(op);
        if (!(ci->operation = astrn(c->ar, json_string_value(op),
                                    n > TL_LOG_MAX_SHORT ? TL_LOG_MAX_SHORT : n)))
            return dnomem(c);
    }
    if (json_is_integer(rv) && json_integer_value(rv) >= 0) {
        ci->has_read_version = 1;
        ci->read_version = (int64_t)json_integer_value(rv);
    }
    if (json_is_string(tx) && json_string_length(tx) <= TL_LOG_MAX_SHORT &&
        !memchr(json_string_value(tx), 0, json_string_length(tx)) &&
        !(ci->txn_id = astrn(c->ar, json_string_value(tx), json_string_length(tx))))
        return dnomem(c);
    return TL_OK;
}

/* ---- one commit ---------------------------------------------------------------- */

static int cmp_action_path(const void *x, const void *y)
{
    const tl_log_action *a = *(const tl_log_action *const *)x;
    const tl_log_action *b = *(const tl_log_action *const *)y;
    const char *pa = a->kind == TL_LOG_ADD ? a->u.add.path
                     : a->kind == TL_LOG_REMOVE ? a->u.rm.path : a->u.txn.app_id;
    const char *pb = b->kind == TL_LOG_ADD ? b->u.add.path
                     : b->kind == TL_LOG_REMOVE ? b->u.rm.path : b->u.txn.app_id;
    return strcmp(pa, pb);
}

/* LOG-D4: no path added twice, removed twice; no appId twice. */
static int check_distinct(dctx *c, tl_log_action *acts, uint32_t from, uint32_t n,
                          const char *what)
{
    if (n < 2)
        return TL_OK;
    const tl_log_action **p = malloc(n * sizeof *p);
    if (!p)
        return dnomem(c);
    for (uint32_t i = 0; i < n; i++)
        p[i] = &acts[from + i];
    qsort(p, n, sizeof *p, cmp_action_path);
    int rc = TL_OK;
    for (uint32_t i = 1; !rc && i < n; i++)
        if (cmp_action_path(&p[i - 1], &p[i]) == 0) {
            uint32_t l1 = p[i - 1]->line < p[i]->line ? p[i - 1]->line : p[i]->line;
            uint32_t l2 = p[i - 1]->line < p[i]->line ? p[i]->line : p[i - 1]->line;
            const tl_log_action *a = p[i];
            c->line = l2;
            rc = dfail(c, TL_ECORRUPT, "%s \"%.200s\" also on line %u: one commit holds at most "
                       "one such action per %s (LOG-D4)", what,
                       a->kind == TL_LOG_ADD ? a->u.add.path
                       : a->kind == TL_LOG_REMOVE ? a->u.rm.path : a->u.txn.app_id,
                       l1, a->kind == TL_LOG_TXN ? "appId" : "path");
        }
    free(p);
    return rc;
}

static int set_meta_index(dctx *c)
{
    free(c->byname);
    c->byname = NULL;
    c->n_byname = 0;
    if (!c->meta)
        return TL_OK;
    uint32_t n = c->meta->n_fields;
    c->byname = malloc((n ? n : 1) * sizeof *c->byname);
    if (!c->byname)
        return dnomem(c);
    for (uint32_t i = 0; i < n; i++)
        c->byname[i] = (fref){c->meta->fields[i].name, &c->meta->fields[i]};
    qsort(c->byname, n, sizeof *c->byname, cmp_name);
    c->n_byname = n;
    return TL_OK;
}

/* Parse line L (JSON object with one key); *body is its action's value. */
static int load_line(dctx *c, const dline *L, json_t **root, json_t **body, const char **name)
{
    c->line = L->no;
    *body = NULL;
    *name = "";
    int rc;
    *root = load_json(c, c->buf + L->off, L->len, "the line", &rc);
    if (!*root)
        return rc;
    if (!json_is_object(*root) || json_object_size(*root) != 1) {
        rc = dfail(c, TL_ECORRUPT, "expected one JSON object with exactly one key (the action), "
                   "found %s with %zu keys", jt(*root), json_is_object(*root) ?
                   json_object_size(*root) : (size_t)0);
        json_decref(*root);
        *root = NULL;
        return rc;
    }
    void *it = json_object_iter(*root);
    *name = json_object_iter_key(it);
    *body = json_object_iter_value(it);
    if (L->kind != K_OTHER && !json_is_object(*body)) {
        rc = dfail(c, TL_ECORRUPT, "%s: expected an object, found %s", *name, jt(*body));
        json_decref(*root);
        *root = NULL;
        return rc;
    }
    return TL_OK;
}

int tl_delta_commit_parse(const char *buf, size_t len, const tl_delta_parse_in *in,
                          tl_log_arena *ar, tl_log_commit *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    dctx c = {.in = in, .buf = buf, .ar = ar, .err = err, .meta = in->meta};
    size_t max_file = in->max_file_bytes ? in->max_file_bytes : TL_LOG_MAX_FILE_BYTES;
    if (len > max_file)
        return dfail(&c, TL_EUNSUPPORTED, "%zu bytes, above this reader's limit of %zu (LOG-D3)",
                     len, max_file);
    dline *ls = NULL;
    uint32_t nl = 0;
    int rc = split_lines(buf, len, in->file,
                         in->max_line_bytes ? in->max_line_bytes : TL_LOG_MAX_LINE_BYTES,
                         in->max_lines ? in->max_lines : TL_LOG_MAX_ACTIONS, &ls, &nl, err);
    if (rc)
        return rc;
    if (nl == 0) {
        free(ls);
        return dfail(&c, TL_ECORRUPT, "no action (an empty commit file)");
    }
    /* counts per kind; first/second line of the single ones (LOG-D4) */
    uint32_t cnt[7] = {0}, first[7] = {0};
    for (uint32_t i = 0; i < nl; i++) {
        int k = ls[i].kind;
        if (k <= 0)
            continue;
        if (cnt[k]++ == 0)
            first[k] = ls[i].no;
        else if (k == TL_LOG_COMMIT_INFO || k == TL_LOG_PROTOCOL || k == TL_LOG_METADATA) {
            c.line = ls[i].no;
            free(ls);
            return dfail(&c, TL_ECORRUPT, "a second %s action (the first is on line %u): a "
                         "commit holds at most one (LOG-D4)", tl_log_kind_name(k), first[k]);
        }
    }
    if (in->version == 0 && (!cnt[TL_LOG_PROTOCOL] || !cnt[TL_LOG_METADATA])) {
        free(ls);
        return dfail(&c, TL_ECORRUPT, "version 0 holds no %s action (Delta requires a protocol "
                     "and a metaData in version 0; LOG-D4)",
                     cnt[TL_LOG_PROTOCOL] ? "metaData" : "protocol");
    }
    /* slots in canonical order: commitInfo (always one), protocol, metaData,
     * txn, remove, add */
    uint32_t pos[7];
    pos[TL_LOG_COMMIT_INFO] = 0;
    uint32_t next = 1;
    for (int k = TL_LOG_PROTOCOL; k <= TL_LOG_ADD; k++) {
        pos[k] = next;
        next += cnt[k];
    }
    uint32_t n_act = next, fill[7];
    memcpy(fill, pos, sizeof fill);
    tl_log_action *acts = calloc(n_act, sizeof *acts);
    if (!acts) {
        free(ls);
        return dnomem(&c);
    }
    acts[0].kind = TL_LOG_COMMIT_INFO;
    acts[0].u.ci.operation = "(none)";
    /* pass 1: protocol, then metaData; pass 2: everything else in order */
    static const int order[3] = {TL_LOG_PROTOCOL, TL_LOG_METADATA, 0};
    for (int pass = 0; !rc && pass < 3; pass++) {
        if (pass == 2)
            rc = set_meta_index(&c);
        for (uint32_t i = 0; !rc && i < nl; i++) {
            const dline *L = &ls[i];
            if (pass < 2 ? L->kind != order[pass]
                         : (L->kind == TL_LOG_PROTOCOL || L->kind == TL_LOG_METADATA))
                continue;
            json_t *root = NULL, *body = NULL;
            const char *name = "";
            if ((rc = load_line(&c, L, &root, &body, &name)))
                break;
            tl_log_action *a = L->kind == K_OTHER ? NULL
                               : L->kind == TL_LOG_COMMIT_INFO ? &acts[0]
                                                               : &acts[fill[L->kind]++];
            if (a) {
                a->kind = (tl_log_kind)L->kind;
                a->line = L->no;
                a->offset = L->off;
            }
            switch (L->kind) {
            case TL_LOG_PROTOCOL: rc = parse_protocol(&c, body, &a->u.proto); break;
            case TL_LOG_METADATA:
                rc = parse_meta(&c, body, &a->u.meta);
                if (!rc)
                    c.meta = &a->u.meta; /* the commit's own metaData governs its files */
                break;
            case TL_LOG_COMMIT_INFO: rc = parse_ci(&c, body, &a->u.ci); break;
            case TL_LOG_TXN: rc = parse_txn(&c, body, &a->u.txn); break;
            case TL_LOG_REMOVE:
            case TL_LOG_ADD:
                if (!c.meta) {
                    rc = dfail(&c, TL_ECORRUPT, "%s before any metaData", name);
                    break;
                }
                rc = L->kind == TL_LOG_ADD ? parse_add(&c, body, &a->u.add)
                                           : parse_remove(&c, body, &a->u.rm);
                break;
            default:
                if (!strcmp(name, "commitInfo") || !strcmp(name, "protocol") ||
                    !strcmp(name, "metaData") || !strcmp(name, "txn") ||
                    !strcmp(name, "remove") || !strcmp(name, "add"))
                    rc = dfail(&c, TL_ECORRUPT, "the action name '%s' is written with escapes; "
                               "this reader wants action names written literally (LOG-D2)",
                               name);
                else
                    out->n_skipped++; /* unknown actions are ignored (LOG-D2) */
                break;
            }
            json_decref(root);
        }
    }
    c.line = 0;
    if (!rc)
        rc = check_distinct(&c, acts, pos[TL_LOG_TXN], cnt[TL_LOG_TXN], "txn.appId");
    if (!rc)
        rc = check_distinct(&c, acts, pos[TL_LOG_REMOVE], cnt[TL_LOG_REMOVE], "remove.path");
    if (!rc)
        rc = check_distinct(&c, acts, pos[TL_LOG_ADD], cnt[TL_LOG_ADD], "add.path");
    free(c.byname);
    free(ls);
    if (rc) {
        free(acts);
        out->n_skipped = 0;
        return rc;
    }
    /* the commitInfo's counts are the commit's (history, LOG-D11) */
    tl_log_commit_info *ci = &acts[0].u.ci;
    ci->ict_ms = -1;
    ci->n_added_files = cnt[TL_LOG_ADD];
    ci->n_removed_files = cnt[TL_LOG_REMOVE];
    for (uint32_t i = 0; i < cnt[TL_LOG_ADD]; i++) {
        int64_t r = acts[pos[TL_LOG_ADD] + i].u.add.n_rows;
        ci->n_added_rows = r > INT64_MAX - ci->n_added_rows ? INT64_MAX : ci->n_added_rows + r;
    }
    for (uint32_t i = 0; i < cnt[TL_LOG_REMOVE]; i++) {
        const tl_log_remove *r = &acts[pos[TL_LOG_REMOVE] + i].u.rm;
        if (r->has_n_rows)
            ci->n_removed_rows = r->n_rows > INT64_MAX - ci->n_removed_rows
                                     ? INT64_MAX
                                     : ci->n_removed_rows + r->n_rows;
    }
    out->actions = acts;
    out->n_actions = n_act;
    return TL_OK;
}

/* ---- commit time (LOG-D8) ------------------------------------------------------------ */

int tl_delta_commit_time(const char *buf, size_t len, const char *file, int64_t *ms,
                         tl_error *err)
{
    *ms = -1;
    tl_delta_parse_in in = {.file = file};
    dctx c = {.in = &in, .buf = buf, .err = err};
    uint32_t no = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
        no++;
        if (l > TL_LOG_MAX_LINE_BYTES)
            return tl_error_set(err, TL_EUNSUPPORTED, "%s: line %u: %zu bytes, above this "
                                "reader's limit of %zu (LOG-D3)", file, no, l,
                                TL_LOG_MAX_LINE_BYTES);
        if (line_kind(buf + off, l) == TL_LOG_COMMIT_INFO) {
            c.line = no;
            int rc;
            json_t *j = load_json(&c, buf + off, l, "the line", &rc);
            if (!j)
                return rc;
            json_t *ci = json_object_get(j, "commitInfo");
            if (!json_is_object(ci)) {
                rc = dfail(&c, TL_ECORRUPT, "commitInfo: expected an object, found %s", jt(ci));
            } else {
                int64_t t = -1;
                int has = 0;
                rc = get_int(&c, ci, "commitInfo", "inCommitTimestamp", 0, 0, &t, &has);
                if (!rc && !has)
                    rc = get_int(&c, ci, "commitInfo", "timestamp", 0, 0, &t, &has);
                if (!rc && has)
                    *ms = t;
            }
            json_decref(j);
            return rc;
        }
        off += l + 1;
    }
    return TL_OK;
}

/* ---- detection (LOG-D1) -------------------------------------------------------------- */

int tl_delta_checkpoint_name(const char *name)
{
    for (int i = 0; i < TL_LOG_VERSION_DIGITS; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    const char *r = name + TL_LOG_VERSION_DIGITS;
    if (strncmp(r, ".checkpoint.", 12) != 0)
        return 0;
    size_t n = strlen(r);
    return (n >= 8 && strcmp(r + n - 8, ".parquet") == 0) ||
           (n > 12 + 5 && strcmp(r + n - 5, ".json") == 0);
}

/* Version 0's first metaData line: has schemaString (Delta) or not.
 * *found: version 0's commit could be opened. */
static int detect_v0(const tl_io *io, const tl_io_file *logdir, int *kind, int *found,
                     tl_error *err)
{
    char name[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(0, name);
    tl_io_file f;
    tl_error e;
    int rc = tl_io_open(io, logdir, name, O_RDONLY, 0, &f, &e);
    *found = rc == TL_OK;
    if (rc)
        return rc == TL_ENOMEM ? tl_error_set(err, rc, "%s", e.msg) : TL_OK;
    size_t cap = (size_t)64 << 10, len = 0, scanned = 0;
    char *buf = NULL;
    int eof = 0;
    rc = TL_OK;
    while (!rc && !eof && len <= TL_LOG_MAX_FILE_BYTES) {
        char *nb = realloc(buf, cap);
        if (!nb) {
            rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory", name);
            break;
        }
        buf = nb;
        size_t got = 0;
        if (tl_io_pread(&f, buf + len, cap - len, len, &got, &e) != TL_OK)
            break; /* unreadable: not ours to report */
        len += got;
        eof = len < cap;
        /* complete lines from scanned on (the last one too at EOF) */
        while (scanned < len) {
            const char *nl = memchr(buf + scanned, '\n', len - scanned);
            if (!nl && !eof)
                break;
            size_t l = nl ? (size_t)(nl - (buf + scanned)) : len - scanned;
            if (line_kind(buf + scanned, l) == TL_LOG_METADATA) {
                int oom = 0;
                json_t *j = l <= TL_LOG_MAX_LINE_BYTES &&
                                    json_depth(buf + scanned, l) <= TL_DELTA_MAX_DEPTH
                                ? tl_json_loadb(buf + scanned, l, 0, NULL, &oom)
                                : NULL;
                if (oom) { /* undecided: never guess "not Delta" for want of memory */
                    rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory parsing its metaData "
                                      "line", name);
                    break;
                }
                json_t *m = json_object_get(j, "metaData");
                *kind = json_is_object(m) && json_object_get(m, "schemaString") &&
                                !json_object_get(m, "schema")
                            ? TL_DELTA_YES
                            : TL_DELTA_NO;
                json_decref(j);
                eof = 1;
                break;
            }
            scanned += l + 1;
        }
        cap *= 2;
    }
    free(buf);
    (void)tl_io_close(&f, NULL);
    return rc;
}

int tl_delta_detect(const tl_io *io, const tl_io_file *root, int *kind, tl_error *err)
{
    *kind = TL_DELTA_NO;
    tl_io_file logdir;
    tl_error e;
    int rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, &e);
    if (rc)
        return rc == TL_ENOMEM ? tl_error_set(err, rc, "%s", e.msg) : TL_OK;
    int found = 0;
    rc = detect_v0(io, &logdir, kind, &found, err);
    if (rc == TL_OK && !found) { /* no version 0: a Delta checkpoint instead? */
        tl_io_names names = {0};
        if (tl_io_list(io, &logdir, NULL, &names, &e) == TL_OK) {
            for (size_t i = 0; i < names.n; i++)
                if (tl_delta_checkpoint_name(names.names[i]))
                    *kind = TL_DELTA_CKPT_ONLY;
        } else if (e.code == TL_ENOMEM) {
            rc = tl_error_set(err, TL_ENOMEM, "%s", e.msg);
        }
        tl_io_names_free(&names);
    }
    (void)tl_io_close(&logdir, NULL);
    return rc;
}
