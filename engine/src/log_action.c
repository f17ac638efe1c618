/*
 * log_action.c - the transaction log's actions and their JSON form
 * (spec/LOG.md sections 3-8; types in log_int.h).
 *
 * A commit file, as this file reads and writes it:
 *
 *   file   = line+                 at most max_file_bytes (LOG-R7)
 *   line   = object LF             one action; at most max_line_bytes before
 *                                  the LF; no empty line; the last byte of
 *                                  the file is the last line's LF (LOG-R4)
 *   object = {"<kind>": {fields}}  exactly one key (LOG-R5); nesting of [ and
 *                                  { at most max_depth; no duplicate keys
 *   kinds, in this order (LOG-R6):  commitInfo (exactly one, first line),
 *                                  protocol (<= 1), metaData (<= 1), txn,
 *                                  remove, add
 *
 * Unknown action kinds are skipped (rejected when strict); unknown fields of
 * known actions are ignored (rejected when strict) (LOG-R8).
 *
 * Invariants: reading is in two steps that share nothing but the model.
 * parse_* only checks JSON types and copies values into the arena; the
 * validate_* functions check every constraint on the model, and run both
 * after parsing (code TL_ECORRUPT) and before serialising (TL_EINVAL), so
 * the writer never writes what the reader would reject, and a parsed
 * commit always re-serialises. Before jansson sees a line, its length,
 * depth and bytes are bounded by a pre-scan, so jansson's allocations stay
 * proportional to a line of at most max_line_bytes. Writing does not use
 * jansson: a direct emitter produces the canonical text (keys in the
 * spec's order, shortest round-trip floats), which jansson must parse back
 * to equal actions (checked by the tests and fuzz_log_action).
 *
 * Path safety (LOG-R11) is partpath.c's tl_partpath_check, the one path
 * checker of the engine; check_path adds only the UTF-8 rule of LOG-R1.
 */
#include "log_int.h"

#include "civil_int.h"
#include "partpath_int.h"
#include "text_int.h"
#include "util_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- arena: all memory of a parsed commit ------------------------------- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

struct tl_log_arena {
    arena_chunk *head;
};

#define ARENA_FIRST_CHUNK ((size_t)64 << 10)
#define ARENA_MAX_CHUNK ((size_t)1 << 20)

tl_log_arena *tl_log_arena_new(void)
{
    return calloc(1, sizeof(tl_log_arena));
}

void *tl_log_arena_alloc(tl_log_arena *a, size_t n)
{
    n = n ? (n + 15) & ~(size_t)15 : 16;
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : ARENA_FIRST_CHUNK;
        if (cap > ARENA_MAX_CHUNK)
            cap = ARENA_MAX_CHUNK;
        if (cap < n)
            cap = n;
        arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        nc->next = c;
        a->head = c = nc;
    }
    void *p = (unsigned char *)c->data + c->used;
    c->used += n;
    return p;
}

void tl_log_arena_free(tl_log_arena *a)
{
    if (!a)
        return;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

/* ---- names -------------------------------------------------------------- */

static const char *const kind_names[] = {
    [TL_LOG_COMMIT_INFO] = "commitInfo", [TL_LOG_PROTOCOL] = "protocol",
    [TL_LOG_METADATA] = "metaData",      [TL_LOG_TXN] = "txn",
    [TL_LOG_REMOVE] = "remove",          [TL_LOG_ADD] = "add",
};

const char *tl_log_kind_name(int kind)
{
    return (kind >= TL_LOG_COMMIT_INFO && kind <= TL_LOG_ADD) ? kind_names[kind] : "?";
}

static int kind_of(const char *key)
{
    for (int k = TL_LOG_COMMIT_INFO; k <= TL_LOG_ADD; k++)
        if (strcmp(key, kind_names[k]) == 0)
            return k;
    return 0;
}

void tl_log_commit_name(int64_t version, char out[TL_LOG_NAME_LEN + 1])
{
    snprintf(out, TL_LOG_NAME_LEN + 1, "%020" PRId64 ".json", version < 0 ? 0 : version);
}

int tl_log_commit_version(const char *name, int64_t *version)
{
    if (!name || strlen(name) != TL_LOG_NAME_LEN ||
        strcmp(name + TL_LOG_VERSION_DIGITS, ".json") != 0)
        return TL_EINVAL;
    uint64_t v = 0;
    for (int i = 0; i < TL_LOG_VERSION_DIGITS; i++) {
        unsigned d = (unsigned char)name[i] - '0';
        if (d > 9 || v > (UINT64_C(9223372036854775807) - d) / 10)
            return TL_EINVAL;
        v = v * 10 + d;
    }
    *version = (int64_t)v;
    return TL_OK;
}

/* ---- text helpers -------------------------------------------------------- */

/* tl_utf8_bad (util_int.h). */
size_t tl_utf8_bad(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return i;
        if (n - i <= k)
            return i;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t j = 2; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return i;
        i += k + 1;
    }
    return n;
}

/* A short printable excerpt of bytes, quoted: at most 40 bytes, control
 * bytes, quote and backslash escaped, cut on a UTF-8 boundary. */
static const char *excerpt(const void *bytes, size_t n, char *out, size_t cap)
{
    const uint8_t *p = bytes;
    size_t lim = n > 40 ? 40 : n;
    while (lim < n && lim > 0 && (p[lim] & 0xC0) == 0x80)
        lim--;
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < lim && o + 8 < cap; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else
            out[o++] = (char)c;
    }
    if (lim < n && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

static const char *jdesc(const json_t *j, char *out, size_t cap)
{
    char b[200];
    switch (json_typeof(j)) {
    case JSON_OBJECT: snprintf(out, cap, "an object"); break;
    case JSON_ARRAY: snprintf(out, cap, "an array"); break;
    case JSON_STRING:
        snprintf(out, cap, "the string %s",
                 excerpt(json_string_value(j), json_string_length(j), b, sizeof b));
        break;
    case JSON_INTEGER:
        snprintf(out, cap, "the integer %" JSON_INTEGER_FORMAT, json_integer_value(j));
        break;
    case JSON_REAL: snprintf(out, cap, "the number %.17g", json_real_value(j)); break;
    case JSON_TRUE: snprintf(out, cap, "true"); break;
    case JSON_FALSE: snprintf(out, cap, "false"); break;
    default: snprintf(out, cap, "null"); break;
    }
    return out;
}

/* ---- error context ------------------------------------------------------- */

typedef struct vctx {
    tl_error *err;
    int code;                   /* TL_ECORRUPT (reading) or TL_EINVAL (writing) */
    const char *commit;         /* name used in messages */
    const tl_log_action *base;  /* actions array, for indexes in messages */
    uint32_t line;              /* parsing: current line, else 0 */
    uint64_t offset;            /* parsing: its byte offset */
    const tl_log_action *act;   /* validating: the action */
} vctx;

static void act_loc(const vctx *v, const tl_log_action *a, char *b, size_t cap)
{
    if (a && a->line)
        snprintf(b, cap, "line %" PRIu32 " (byte offset %" PRIu64 ")", a->line, a->offset);
    else if (a && v->base)
        snprintf(b, cap, "action %td (%s)", a - v->base, tl_log_kind_name(a->kind));
    else if (v->line)
        snprintf(b, cap, "line %" PRIu32 " (byte offset %" PRIu64 ")", v->line, v->offset);
    else
        snprintf(b, cap, "whole commit");
}

/* Fail with "<commit>: <where>: <field>: <message>". */
static int failv(const vctx *v, const char *field, const char *fmt, va_list ap)
{
    char msg[TL_ERROR_MSG_LEN], loc[80];
    vsnprintf(msg, sizeof msg, fmt, ap);
    act_loc(v, v->act, loc, sizeof loc);
    if (field && field[0])
        return tl_error_set(v->err, v->code, "%s: %s: %s: %s", v->commit, loc, field, msg);
    return tl_error_set(v->err, v->code, "%s: %s: %s", v->commit, loc, msg);
}

TL_PRINTF(3, 4) static int fail(const vctx *v, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(v, field, fmt, ap);
    va_end(ap);
    return rc;
}

/* The name of a statistics field, "add.stats.columns[<col>]<leaf>", built
 * only when a message needs it (the checks run for every column of every
 * add). */
static const char *colfield(char *b, size_t cap, const char *col, const char *leaf)
{
    snprintf(b, cap, "add.stats.columns[%.40s]%s", col, leaf);
    return b;
}

/* fail() for a statistics field. */
TL_PRINTF(4, 5) static int cfail(const vctx *v, const char *col, const char *leaf,
                                 const char *fmt, ...)
{
    char f[120];
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(v, colfield(f, sizeof f, col, leaf), fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(const vctx *v)
{
    return tl_error_set(v->err, TL_ENOMEM, "%s: out of memory", v->commit);
}

/* ---- validation of the model (LOG-R9 .. LOG-R28) ------------------------- */

enum { TXT_NAME = 1 /* no control characters */ };

/* A text field: present, min_len..max_len bytes, UTF-8, and for names no
 * control characters (U+0000..U+001F, U+007F). */
static int check_text(const vctx *v, const char *field, const char *s, size_t min_len,
                      size_t max_len, int flags)
{
    if (!s)
        return fail(v, field, "missing (expected a string)");
    size_t n = strlen(s);
    char b[100];
    if (n < min_len || n > max_len)
        return fail(v, field, "expected %zu to %zu bytes, found %zu bytes (%s)", min_len,
                    max_len, n, excerpt(s, n, b, sizeof b));
    size_t bad = tl_utf8_bad((const uint8_t *)s, n);
    if (bad < n)
        return fail(v, field, "expected UTF-8, found the byte 0x%02x at byte %zu of %s",
                    (unsigned char)s[bad], bad, excerpt(s, n, b, sizeof b));
    if (flags & TXT_NAME)
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
                return fail(v, field,
                            "expected no control characters, found 0x%02x at byte %zu of %s",
                            (unsigned char)s[i], i, excerpt(s, n, b, sizeof b));
    return TL_OK;
}

static int check_nonneg(const vctx *v, const char *field, int64_t x)
{
    if (x < 0)
        return fail(v, field, "expected an integer in [0, 2^63), found %" PRId64, x);
    return TL_OK;
}

/* LOG-R11: a data file path relative to the table root (tl_partpath_check),
 * and UTF-8 like every log string (LOG-R1). */
static int check_path(const vctx *v, const char *field, const char *p)
{
    if (!p)
        return fail(v, field, "missing (expected a relative path)");
    size_t n = strlen(p);
    char b[100];
    if (tl_utf8_bad((const uint8_t *)p, n) < n)
        return fail(v, field,
                    "expected a relative path inside the table (LOG-R11), found %s: "
                    "it is not UTF-8",
                    excerpt(p, n, b, sizeof b));
    tl_error pe;
    if (tl_partpath_check(p, n, &pe) != TL_OK)
        return fail(v, field, "expected a relative path inside the table (LOG-R11), found %s",
                    pe.msg);
    return TL_OK;
}

static int is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

static int check_uuid(const vctx *v, const char *field, const char *s)
{
    char b[100];
    if (!s)
        return fail(v, field, "missing (expected a UUID)");
    if (!is_uuid(s))
        return fail(v, field,
                    "expected a UUID of 36 lowercase characters (8-4-4-4-12 hex digits), "
                    "found %s",
                    excerpt(s, strlen(s), b, sizeof b));
    return TL_OK;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort n strings (pointers copied) and report the first duplicate. */
static int check_distinct(const vctx *v, const char *field, const char *const *s, uint32_t n,
                          const char *what)
{
    if (n < 2)
        return TL_OK;
    const char **t = malloc(n * sizeof *t);
    if (!t)
        return oom(v);
    memcpy(t, s, n * sizeof *t);
    qsort(t, n, sizeof *t, cmp_str_ptr);
    int rc = TL_OK;
    char b[100];
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(t[i - 1], t[i]) == 0) {
            rc = fail(v, field, "expected distinct %s, found %s twice", what,
                      excerpt(t[i], strlen(t[i]), b, sizeof b));
            break;
        }
    free(t);
    return rc;
}

static int check_map(const vctx *v, const char *field, const tl_log_map *m)
{
    char f[96];
    if (m->n && !m->kv)
        return fail(v, field, "missing entries");
    const char **keys = m->n ? malloc(m->n * sizeof *keys) : NULL;
    if (m->n && !keys)
        return oom(v);
    int rc = TL_OK;
    for (uint32_t i = 0; i < m->n && rc == TL_OK; i++) {
        snprintf(f, sizeof f, "%s key %" PRIu32, field, i);
        rc = check_text(v, f, m->kv[i].key, 1, TL_LOG_MAX_NAME, TXT_NAME);
        if (rc == TL_OK) {
            snprintf(f, sizeof f, "%s[%.40s]", field, m->kv[i].key);
            rc = check_text(v, f, m->kv[i].val, 0, TL_LOG_MAX_TEXT, 0);
        }
        keys[i] = m->kv[i].key;
    }
    if (rc == TL_OK)
        rc = check_distinct(v, field, keys, m->n, "keys");
    free(keys);
    return rc;
}

/* LOG-R12 */
static int validate_ci(const vctx *v, const tl_log_commit_info *c)
{
    int rc;
    if ((rc = check_nonneg(v, "commitInfo.inCommitTimestamp", c->ict_ms)) ||
        (rc = check_text(v, "commitInfo.operation", c->operation, 1, TL_LOG_MAX_SHORT,
                         TXT_NAME)) ||
        (rc = check_map(v, "commitInfo.operationParameters", &c->op_params)) ||
        (c->has_read_version &&
         (rc = check_nonneg(v, "commitInfo.readVersion", c->read_version))) ||
        (c->txn_id && (rc = check_uuid(v, "commitInfo.txnId", c->txn_id))) ||
        (rc = check_text(v, "commitInfo.engineInfo", c->engine_info, 1, TL_LOG_MAX_SHORT,
                         TXT_NAME)) ||
        (rc = check_nonneg(v, "commitInfo.numAddedFiles", c->n_added_files)) ||
        (rc = check_nonneg(v, "commitInfo.numAddedRows", c->n_added_rows)) ||
        (rc = check_nonneg(v, "commitInfo.numRemovedFiles", c->n_removed_files)) ||
        (rc = check_nonneg(v, "commitInfo.numRemovedRows", c->n_removed_rows)))
        return rc;
    return TL_OK;
}

static int check_features(const vctx *v, const char *field, const tl_log_strs *f)
{
    char fn[64], b[100];
    if (f->n > TL_LOG_MAX_FEATURES)
        return fail(v, field, "expected at most %d features, found %" PRIu32,
                    TL_LOG_MAX_FEATURES, f->n);
    if (f->n && !f->s)
        return fail(v, field, "missing entries");
    for (uint32_t i = 0; i < f->n; i++) {
        snprintf(fn, sizeof fn, "%s[%" PRIu32 "]", field, i);
        int rc = check_text(v, fn, f->s[i], 1, TL_LOG_MAX_FEATURE, TXT_NAME);
        if (rc)
            return rc;
        for (const char *c = f->s[i]; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
                return fail(v, fn, "expected a feature name of [A-Za-z0-9_.-], found %s",
                            excerpt(f->s[i], strlen(f->s[i]), b, sizeof b));
    }
    return check_distinct(v, field, f->s, f->n, "features");
}

/* LOG-R13 */
static int validate_proto(const vctx *v, const tl_log_protocol *p)
{
    if (p->min_reader_version < 1 || p->min_reader_version > INT32_MAX)
        return fail(v, "protocol.minReaderVersion",
                    "expected an integer in [1, 2^31), found %" PRId64, p->min_reader_version);
    if (p->min_writer_version < 1 || p->min_writer_version > INT32_MAX)
        return fail(v, "protocol.minWriterVersion",
                    "expected an integer in [1, 2^31), found %" PRId64, p->min_writer_version);
    int rc = check_features(v, "protocol.readerFeatures", &p->reader_features);
    if (rc == TL_OK)
        rc = check_features(v, "protocol.writerFeatures", &p->writer_features);
    return rc;
}

static const struct {
    const char *key;
    int64_t def, min, max;
} conf_keys[] = {
    {TL_LOG_CONF_CHECKPOINT_INTERVAL, TL_LOG_DEFAULT_CHECKPOINT_INTERVAL, 1, 1000000},
    {TL_LOG_CONF_LOG_RETENTION_HOURS, TL_LOG_DEFAULT_LOG_RETENTION_HOURS, 0, 1000000},
    {TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, TL_LOG_DEFAULT_DELETED_FILE_RETENTION_HOURS,
     0, 1000000},
    /* spec/MAINT.md MAINT-O11 */
    {TL_LOG_CONF_AUTO_OPTIMIZE_MIN_FILES, TL_LOG_DEFAULT_AUTO_OPTIMIZE_MIN_FILES, 0, 1000000},
    {TL_LOG_CONF_AUTO_OPTIMIZE_TARGET_ROWS, TL_LOG_DEFAULT_AUTO_OPTIMIZE_TARGET_ROWS, 1,
     INT64_C(2147483648)},
};

/* Decimal without sign or leading zeros, at most 18 digits; -1 if not. */
static int64_t parse_decimal(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
        return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    return x;
}

/* LOG-R17: known ticklake.* keys hold decimals within their range. */
static int check_config(const vctx *v, const tl_log_map *m)
{
    int rc = check_map(v, "metaData.configuration", m);
    if (rc)
        return rc;
    char f[96], b[100];
    for (uint32_t i = 0; i < m->n; i++)
        for (size_t k = 0; k < sizeof conf_keys / sizeof conf_keys[0]; k++)
            if (strcmp(m->kv[i].key, conf_keys[k].key) == 0) {
                int64_t x = parse_decimal(m->kv[i].val);
                if (x < conf_keys[k].min || x > conf_keys[k].max) {
                    snprintf(f, sizeof f, "metaData.configuration[%s]", conf_keys[k].key);
                    return fail(v, f,
                                "expected a decimal integer in [%" PRId64 ", %" PRId64
                                "] without sign or leading zeros, found %s",
                                conf_keys[k].min, conf_keys[k].max,
                                excerpt(m->kv[i].val, strlen(m->kv[i].val), b, sizeof b));
                }
            }
    return TL_OK;
}

static int cmp_field_ptr(const void *a, const void *b)
{
    return strcmp((*(const tl_log_field *const *)a)->name, (*(const tl_log_field *const *)b)->name);
}

/* The schema's fields sorted by name, for O(log n) lookups. */
typedef struct field_index {
    const tl_log_field **f;
    uint32_t n;
} field_index;

static const tl_log_field *index_find(const field_index *ix, const char *name)
{
    tl_log_field key = {.name = name};
    const tl_log_field *kp = &key;
    const tl_log_field *const *r = bsearch(&kp, ix->f, ix->n, sizeof *ix->f, cmp_field_ptr);
    return r ? *r : NULL;
}

/* Build ix over m's fields (free ix->f). TL_OK or TL_ENOMEM. */
static int index_build(const vctx *v, const tl_log_metadata *m, field_index *ix)
{
    ix->n = m->n_fields;
    ix->f = malloc((m->n_fields ? m->n_fields : 1) * sizeof *ix->f);
    if (!ix->f)
        return oom(v);
    for (uint32_t i = 0; i < m->n_fields; i++)
        ix->f[i] = &m->fields[i];
    if (ix->n > 1)
        qsort(ix->f, ix->n, sizeof *ix->f, cmp_field_ptr);
    return TL_OK;
}

/* LOG-R15, LOG-R16: columns named by the partition spec and sort key. */
static int validate_meta_cols(const vctx *v, const tl_log_metadata *m, const field_index *ix)
{
    char f[64], b[100];
    if (m->part_symbol_col) {
        const tl_log_field *c = index_find(ix, m->part_symbol_col);
        if (!c || c->type != TL_STRING)
            return fail(v, "metaData.partitionSpec.symbolColumn",
                        "expected the name of a string column, found %s (%s)",
                        excerpt(m->part_symbol_col, strlen(m->part_symbol_col), b, sizeof b),
                        c ? tl_type_name(c->type) : "no such column");
    }
    if (m->part_day_col) {
        const tl_log_field *c = index_find(ix, m->part_day_col);
        if (!c || c->type != TL_TIMESTAMP)
            return fail(v, "metaData.partitionSpec.dayColumn",
                        "expected the name of a timestamp column, found %s (%s)",
                        excerpt(m->part_day_col, strlen(m->part_day_col), b, sizeof b),
                        c ? tl_type_name(c->type) : "no such column");
    }
    /* LOG-R16 */
    if (m->sort_key.n > m->n_fields || (m->sort_key.n && !m->sort_key.s))
        return fail(v, "metaData.sortKey", "expected at most %" PRIu32 " columns, found %" PRIu32,
                    m->n_fields, m->sort_key.n);
    for (uint32_t i = 0; i < m->sort_key.n; i++) {
        const char *k = m->sort_key.s[i];
        snprintf(f, sizeof f, "metaData.sortKey[%" PRIu32 "]", i);
        if (!k || !index_find(ix, k))
            return fail(v, f, "expected the name of a column, found %s",
                        k ? excerpt(k, strlen(k), b, sizeof b) : "nothing");
    }
    return check_distinct(v, "metaData.sortKey", m->sort_key.s, m->sort_key.n, "columns");
}

/* LOG-R14 .. LOG-R17 */
static int validate_meta(const vctx *v, const tl_log_metadata *m)
{
    int rc;
    char f[64], b[100];
    if ((rc = check_uuid(v, "metaData.id", m->id)) ||
        (m->name && (rc = check_text(v, "metaData.name", m->name, 1, TL_LOG_MAX_NAME,
                                     TXT_NAME))) ||
        (rc = check_nonneg(v, "metaData.createdTime", m->created_ms)))
        return rc;
    if (m->n_fields < 1 || m->n_fields > TL_LOG_MAX_COLUMNS || !m->fields)
        return fail(v, "metaData.schema", "expected 1 to %d columns, found %" PRIu32,
                    TL_LOG_MAX_COLUMNS, m->fields ? m->n_fields : 0);
    for (uint32_t i = 0; i < m->n_fields; i++) {
        snprintf(f, sizeof f, "metaData.schema[%" PRIu32 "].name", i);
        if ((rc = check_text(v, f, m->fields[i].name, 1, TL_LOG_MAX_NAME, TXT_NAME)))
            return rc;
        if (!tl_type_name(m->fields[i].type)) {
            snprintf(f, sizeof f, "metaData.schema[%" PRIu32 "].type", i);
            return fail(v, f, "expected a type id 1..%d, found %d", TL_TYPE_MAX,
                        (int)m->fields[i].type);
        }
    }
    field_index ix;
    if ((rc = index_build(v, m, &ix)))
        return rc;
    for (uint32_t i = 1; i < ix.n && rc == TL_OK; i++)
        if (strcmp(ix.f[i - 1]->name, ix.f[i]->name) == 0)
            rc = fail(v, "metaData.schema", "expected distinct column names, found %s twice",
                      excerpt(ix.f[i]->name, strlen(ix.f[i]->name), b, sizeof b));
    if (rc == TL_OK)
        rc = validate_meta_cols(v, m, &ix);
    free(ix.f);
    if (rc)
        return rc;
    return check_config(v, &m->config);
}

/* LOG-R18 */
static int validate_pvals(const vctx *v, const char *field, const tl_log_pvals *p)
{
    char f[96];
    if (p->has_symbol && !p->symbol_null) {
        size_t n = p->symbol ? strlen(p->symbol) : 0;
        if (!p->symbol || n > TL_LOG_MAX_SYMBOL || tl_utf8_bad((const uint8_t *)p->symbol, n) < n) {
            snprintf(f, sizeof f, "%s.symbol", field);
            return check_text(v, f, p->symbol, 0, TL_LOG_MAX_SYMBOL, 0);
        }
    }
    if (p->has_date && !p->date_null && (p->date < TL_LOG_DAY_MIN || p->date > TL_LOG_DAY_MAX)) {
        snprintf(f, sizeof f, "%s.date", field);
        return fail(v, f,
                    "expected a day in [%d, %d] (1677-09-21 .. 2262-04-11), found day %" PRId32,
                    TL_LOG_DAY_MIN, TL_LOG_DAY_MAX, p->date);
    }
    return TL_OK;
}

/* Total order of bounds: floats by value with -0.0 < +0.0. -1, 0, 1. */
static int value_cmp(tl_type t, const tl_log_value *a, const tl_log_value *b)
{
    if (tl_type_is_signed_int(t))
        return (a->i > b->i) - (a->i < b->i);
    if (tl_type_is_unsigned_int(t))
        return (a->u > b->u) - (a->u < b->u);
    if (tl_type_is_float(t)) {
        if (a->f != b->f)
            return a->f < b->f ? -1 : 1;
        return (signbit(b->f) != 0) - (signbit(a->f) != 0);
    }
    uint32_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
    int c = n ? memcmp(a->s.p, b->s.p, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (a->s.len > b->s.len) - (a->s.len < b->s.len);
}

/* LOG-R23: a bound fits its type. */
static int check_value(const vctx *v, const char *col, const char *leaf, tl_type t,
                       const tl_log_value *x)
{
    int64_t lo = 0, hi = 0;
    uint64_t uhi = 0;
    switch (t) {
    case TL_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
    case TL_INT16: lo = INT16_MIN, hi = INT16_MAX; break;
    case TL_INT32: case TL_DATE: lo = INT32_MIN, hi = INT32_MAX; break;
    case TL_INT64: case TL_TIMESTAMP: case TL_TIMESTAMP_US:
        lo = INT64_MIN, hi = INT64_MAX; break;
    case TL_BOOL: uhi = 1; break;
    case TL_UINT8: uhi = UINT8_MAX; break;
    case TL_UINT16: uhi = UINT16_MAX; break;
    case TL_UINT32: uhi = UINT32_MAX; break;
    case TL_UINT64: uhi = UINT64_MAX; break;
    case TL_FLOAT32:
    case TL_FLOAT64:
        if (isnan(x->f))
            return cfail(v, col, leaf, "expected a number or +-Infinity, found NaN (NaN is "
                                       "never a bound; hasNaN records it, LOG-R23)");
        if (t == TL_FLOAT32 && !isinf(x->f) && (double)(float)x->f != x->f)
            return cfail(v, col, leaf, "expected a float32 value, found %.17g (not a binary32 "
                                       "number)", x->f);
        return TL_OK;
    case TL_STRING:
        if (x->s.len > TL_LOG_STATS_STR_MAX)
            return cfail(v, col, leaf, "expected at most %d bytes, found %" PRIu32 " bytes",
                        TL_LOG_STATS_STR_MAX, x->s.len);
        if (x->s.len && !x->s.p)
            return cfail(v, col, leaf, "missing bytes");
        return TL_OK;
    default:
        return cfail(v, col, leaf, "unknown type %d", (int)t);
    }
    if (tl_type_is_signed_int(t)) {
        if (x->i < lo || x->i > hi)
            return cfail(v, col, leaf,
                         "expected a %s in [%" PRId64 ", %" PRId64 "], found %" PRId64,
                         tl_type_name(t), lo, hi, x->i);
    } else if (x->u > uhi)
        return cfail(v, col, leaf, "expected a %s in [0, %" PRIu64 "], found %" PRIu64,
                     tl_type_name(t), uhi, x->u);
    return TL_OK;
}

/* check_distinct without a heap copy for the usual few names. */
static int check_distinct_small(const vctx *v, const char *field, const char *const *s,
                                uint32_t n, const char *what)
{
    if (n > 64)
        return check_distinct(v, field, s, n, what);
    const char *t[64];
    if (n)
        memcpy(t, s, n * sizeof *t);
    if (n > 1)
        qsort(t, n, sizeof *t, cmp_str_ptr);
    char b[100];
    for (uint32_t i = 1; i < n; i++)
        if (strcmp(t[i - 1], t[i]) == 0)
            return fail(v, field, "expected distinct %s, found %s twice", what,
                        excerpt(t[i], strlen(t[i]), b, sizeof b));
    return TL_OK;
}

/* LOG-R22 .. LOG-R24 (field names built only on failure: this runs for
 * every column of every add) */
static int validate_stats(const vctx *v, const tl_log_stats *s, int64_t n_rows)
{
    int rc;
    if (s->has_time_range && s->first_ts_ns > s->last_ts_ns)
        return fail(v, "add.stats.firstTimestamp",
                    "expected at most lastTimestamp %" PRId64 ", found %" PRId64, s->last_ts_ns,
                    s->first_ts_ns);
    if (s->n_cols > TL_LOG_MAX_COLUMNS)
        return fail(v, "add.stats.columns", "expected at most %d columns, found %" PRIu32,
                    TL_LOG_MAX_COLUMNS, s->n_cols);
    if (s->n_cols && !s->cols)
        return fail(v, "add.stats.columns", "missing entries (%" PRIu32 " columns, no array)",
                    s->n_cols);
    const char *small[64];
    const char **names = s->n_cols <= 64 ? small : malloc(s->n_cols * sizeof *names);
    if (!names)
        return oom(v);
    rc = TL_OK;
    for (uint32_t i = 0; i < s->n_cols && rc == TL_OK; i++) {
        const tl_log_colstats *c = &s->cols[i];
        const char *cn = c->name;
        if ((rc = check_text(v, "add.stats.columns (a name)", cn, 1, TL_LOG_MAX_NAME, TXT_NAME)))
            break;
        names[i] = cn;
        int t = c->type;
        if (!tl_type_name(t))
            rc = cfail(v, cn, ".type", "expected a type id 1..%d, found %d", TL_TYPE_MAX, t);
        else if (c->null_count < 0 || c->null_count > n_rows)
            rc = cfail(v, cn, ".nullCount",
                       "expected an integer in [0, numRecords = %" PRId64 "], found %" PRId64,
                       n_rows, c->null_count);
        else if (c->null_count == n_rows && (c->has_min || c->has_max || c->has_nan))
            rc = cfail(v, cn, "", "expected no min, max or hasNaN: every value is null "
                                  "(nullCount = numRecords = %" PRId64 ")", n_rows);
        else if (c->has_max && !c->has_min)
            rc = cfail(v, cn, "", "expected min with max, found max alone");
        else if (t != TL_STRING && c->has_min && !c->has_max)
            rc = cfail(v, cn, "", "expected max with min (only a string max may be absent)");
        else if (c->has_nan && !tl_type_is_float(t))
            rc = cfail(v, cn, "", "expected hasNaN only on float columns, found it on %s",
                       tl_type_name(t));
        else if ((c->min_truncated || c->max_truncated) && t != TL_STRING)
            rc = cfail(v, cn, "", "expected minTruncated/maxTruncated only on string columns, "
                                  "found them on %s", tl_type_name(t));
        else if ((c->min_truncated && !c->has_min) || (c->max_truncated && !c->has_max))
            rc = cfail(v, cn, "", "expected a truncated bound to be present");
        else if (c->has_min && (rc = check_value(v, cn, ".min", (tl_type)t, &c->min)))
            ;
        else if (c->has_max && (rc = check_value(v, cn, ".max", (tl_type)t, &c->max)))
            ;
        else if (c->has_max && value_cmp((tl_type)t, &c->min, &c->max) > 0)
            rc = cfail(v, cn, "", "expected min <= max, found min > max");
    }
    if (rc == TL_OK)
        rc = check_distinct_small(v, "add.stats.columns", names, s->n_cols, "column names");
    if (names != small)
        free(names);
    return rc;
}

/* LOG-R19 */
static int validate_add(const vctx *v, const tl_log_add *a)
{
    int rc;
    if ((rc = check_path(v, "add.path", a->path)) ||
        (rc = validate_pvals(v, "add.partitionValues", &a->part)) ||
        (rc = check_nonneg(v, "add.size", a->size_bytes)) ||
        (rc = check_nonneg(v, "add.numRecords", a->n_rows)) ||
        (rc = check_nonneg(v, "add.modificationTime", a->mtime_ms)))
        return rc;
    if (a->has_stats)
        return validate_stats(v, &a->stats, a->n_rows);
    return TL_OK;
}

/* LOG-R20 */
static int validate_rm(const vctx *v, const tl_log_remove *r)
{
    int rc;
    if ((rc = check_path(v, "remove.path", r->path)) ||
        (rc = check_nonneg(v, "remove.deletionTimestamp", r->deletion_ms)) ||
        (r->has_part && (rc = validate_pvals(v, "remove.partitionValues", &r->part))) ||
        (r->has_size && (rc = check_nonneg(v, "remove.size", r->size_bytes))) ||
        (r->has_n_rows && (rc = check_nonneg(v, "remove.numRecords", r->n_rows))))
        return rc;
    return TL_OK;
}

/* LOG-R21 */
static int validate_txn(const vctx *v, const tl_log_txn *t)
{
    int rc;
    if ((rc = check_text(v, "txn.appId", t->app_id, 1, TL_LOG_MAX_NAME, TXT_NAME)) ||
        (rc = check_nonneg(v, "txn.version", t->version)) ||
        (t->has_last_updated && (rc = check_nonneg(v, "txn.lastUpdated", t->last_updated_ms))))
        return rc;
    return TL_OK;
}

static int validate_action(vctx *v, const tl_log_action *a)
{
    v->act = a;
    switch (a->kind) {
    case TL_LOG_COMMIT_INFO: return validate_ci(v, &a->u.ci);
    case TL_LOG_PROTOCOL: return validate_proto(v, &a->u.proto);
    case TL_LOG_METADATA: return validate_meta(v, &a->u.meta);
    case TL_LOG_TXN: return validate_txn(v, &a->u.txn);
    case TL_LOG_REMOVE: return validate_rm(v, &a->u.rm);
    case TL_LOG_ADD: return validate_add(v, &a->u.add);
    }
    return fail(v, NULL, "unknown action kind %d", (int)a->kind);
}

/* Sorting (string, action) pairs to find duplicates in O(n log n). */
typedef struct keyed {
    const char *key;
    const tl_log_action *act;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return (x->act > y->act) - (x->act < y->act);
}

static int dup_fail(vctx *v, const char *field, const keyed *first, const keyed *second,
                    const char *what)
{
    char other[80], b[100];
    act_loc(v, first->act, other, sizeof other);
    v->act = second->act;
    return fail(v, field, "%s %s (also at %s)", what,
                excerpt(second->key, strlen(second->key), b, sizeof b), other);
}

/* LOG-R28: the adds and removes of a commit that changes the metaData
 * follow its partition spec and schema (ix: its fields by name). */
static int check_against_meta(vctx *v, const tl_log_metadata *m, const field_index *ix,
                              const tl_log_action *a)
{
    const tl_log_pvals *p = a->kind == TL_LOG_ADD ? &a->u.add.part
                            : a->u.rm.has_part   ? &a->u.rm.part
                                                 : NULL;
    const char *kn = tl_log_kind_name(a->kind);
    char f[96], b[100];
    v->act = a;
    if (p) {
        snprintf(f, sizeof f, "%s.partitionValues", kn);
        if (!p->has_symbol != !m->part_symbol_col || !p->has_date != !m->part_day_col)
            return fail(v, f, "expected the fields of the partition spec (%s%s%s), found (%s%s%s)",
                        m->part_symbol_col ? "symbol" : "",
                        m->part_symbol_col && m->part_day_col ? ", " : "",
                        m->part_day_col ? "date" : "", p->has_symbol ? "symbol" : "",
                        p->has_symbol && p->has_date ? ", " : "", p->has_date ? "date" : "");
        if (p->has_symbol && p->symbol_null && !index_find(ix, m->part_symbol_col)->nullable)
            return fail(v, f, "expected a symbol, found null (column %s is not nullable)",
                        excerpt(m->part_symbol_col, strlen(m->part_symbol_col), b, sizeof b));
        if (p->has_date && p->date_null && !index_find(ix, m->part_day_col)->nullable)
            return fail(v, f, "expected a date, found null (column %s is not nullable)",
                        excerpt(m->part_day_col, strlen(m->part_day_col), b, sizeof b));
    }
    if (a->kind == TL_LOG_ADD && a->u.add.has_stats) {
        if (a->u.add.stats.has_time_range && !m->part_day_col)
            return fail(v, "add.stats.firstTimestamp",
                        "expected no time range: the table has no day partition column");
        for (uint32_t i = 0; i < a->u.add.stats.n_cols; i++) {
            const tl_log_colstats *c = &a->u.add.stats.cols[i];
            const tl_log_field *fd = index_find(ix, c->name);
            snprintf(f, sizeof f, "add.stats.columns[%.40s]", c->name);
            if (!fd)
                return fail(v, f, "expected a column of the schema, found none of that name");
            if (fd->type != c->type)
                return fail(v, f, "expected type %s (the schema's), found %s",
                            tl_type_name(fd->type), tl_type_name(c->type));
        }
    }
    return TL_OK;
}

/* LOG-R6, LOG-R10, LOG-R25 .. LOG-R28 over a whole commit. acts holds the
 * actions in the order they are (or will be) in the file. */
static int validate_commit(vctx *v, const tl_log_action *const *acts, uint32_t n,
                           int64_t version)
{
    v->act = NULL;
    if (n == 0)
        return fail(v, NULL, "expected at least one action (commitInfo), found none");
    const tl_log_action *ci = NULL, *proto = NULL, *meta = NULL;
    uint32_t n_add = 0, n_rm = 0, n_txn = 0;
    int prev = 0, rc;
    for (uint32_t i = 0; i < n; i++) {
        const tl_log_action *a = acts[i];
        v->act = a;
        if (i == 0 && a->kind != TL_LOG_COMMIT_INFO)
            return fail(v, NULL, "expected commitInfo as the first action (LOG-R6), found %s",
                        tl_log_kind_name(a->kind));
        if (i == 0 && a->line > 1)
            return fail(v, NULL, "expected commitInfo on line 1 (LOG-R6), found it on line %" PRIu32
                                 " after skipped lines", a->line);
        if ((int)a->kind < prev)
            return fail(v, NULL,
                        "expected the canonical order commitInfo, protocol, metaData, txn, "
                        "remove, add (LOG-R6), found %s after %s",
                        tl_log_kind_name(a->kind), tl_log_kind_name(prev));
        prev = a->kind;
        const tl_log_action **one = a->kind == TL_LOG_COMMIT_INFO ? &ci
                                    : a->kind == TL_LOG_PROTOCOL  ? &proto
                                    : a->kind == TL_LOG_METADATA  ? &meta
                                                                  : NULL;
        if (one) {
            if (*one) {
                char other[80];
                act_loc(v, *one, other, sizeof other);
                return fail(v, NULL, "expected at most one %s action (LOG-R10), found another "
                                     "(first at %s)", tl_log_kind_name(a->kind), other);
            }
            *one = a;
        }
        n_add += a->kind == TL_LOG_ADD;
        n_rm += a->kind == TL_LOG_REMOVE;
        n_txn += a->kind == TL_LOG_TXN;
        if ((rc = validate_action(v, a)))
            return rc;
    }

    /* LOG-R25: distinct appIds, distinct paths. */
    uint32_t nk = n_txn > n_add + n_rm ? n_txn : n_add + n_rm;
    keyed *k = nk ? malloc(nk * sizeof *k) : NULL;
    if (nk && !k)
        return oom(v);
    rc = TL_OK;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (acts[i]->kind == TL_LOG_TXN)
            k[m++] = (keyed){acts[i]->u.txn.app_id, acts[i]};
    if (m > 1)
        qsort(k, m, sizeof *k, cmp_keyed);
    for (uint32_t i = 1; i < m && rc == TL_OK; i++)
        if (strcmp(k[i - 1].key, k[i].key) == 0)
            rc = dup_fail(v, "txn.appId", &k[i - 1], &k[i],
                          "expected one txn per appId (LOG-R25), found a second for");
    for (int kind = TL_LOG_REMOVE; kind <= TL_LOG_ADD && rc == TL_OK; kind++) {
        m = 0;
        for (uint32_t i = 0; i < n; i++)
            if ((int)acts[i]->kind == kind)
                k[m++] = (keyed){kind == TL_LOG_ADD ? acts[i]->u.add.path : acts[i]->u.rm.path,
                                 acts[i]};
        if (m > 1)
            qsort(k, m, sizeof *k, cmp_keyed);
        for (uint32_t i = 1; i < m && rc == TL_OK; i++)
            if (strcmp(k[i - 1].key, k[i].key) == 0)
                rc = dup_fail(v, kind == TL_LOG_ADD ? "add.path" : "remove.path", &k[i - 1],
                              &k[i], "expected distinct paths (LOG-R25), found a second");
    }
    if (rc == TL_OK && n_add && n_rm) {
        m = 0;
        for (uint32_t i = 0; i < n; i++)
            if (acts[i]->kind == TL_LOG_ADD || acts[i]->kind == TL_LOG_REMOVE)
                k[m++] = (keyed){acts[i]->kind == TL_LOG_ADD ? acts[i]->u.add.path
                                                             : acts[i]->u.rm.path,
                                 acts[i]};
        if (m > 1)
            qsort(k, m, sizeof *k, cmp_keyed);
        for (uint32_t i = 1; i < m && rc == TL_OK; i++)
            if (strcmp(k[i - 1].key, k[i].key) == 0)
                rc = dup_fail(v, "add.path", &k[i - 1], &k[i],
                              "expected a path added or removed, not both (LOG-R25), found");
    }
    free(k);
    if (rc)
        return rc;

    /* LOG-R26: commitInfo's counts are those of the actions. */
    const tl_log_commit_info *c = &ci->u.ci;
    int64_t rows_add = 0, rows_rm = 0;
    int rm_rows_known = 1;
    for (uint32_t i = 0; i < n; i++) {
        const tl_log_action *a = acts[i];
        if (a->kind == TL_LOG_ADD && __builtin_add_overflow(rows_add, a->u.add.n_rows, &rows_add))
            rows_add = -1;
        if (a->kind == TL_LOG_REMOVE) {
            if (!a->u.rm.has_n_rows)
                rm_rows_known = 0;
            else if (__builtin_add_overflow(rows_rm, a->u.rm.n_rows, &rows_rm))
                rows_rm = -1;
        }
        if (rows_add < 0 || rows_rm < 0) {
            v->act = a;
            return fail(v, NULL, "expected the sum of numRecords to stay below 2^63 (LOG-R26)");
        }
    }
    v->act = ci;
    if (c->n_added_files != n_add)
        return fail(v, "commitInfo.numAddedFiles",
                    "expected %" PRIu32 " (the add actions, LOG-R26), found %" PRId64, n_add,
                    c->n_added_files);
    if (c->n_removed_files != n_rm)
        return fail(v, "commitInfo.numRemovedFiles",
                    "expected %" PRIu32 " (the remove actions, LOG-R26), found %" PRId64, n_rm,
                    c->n_removed_files);
    if (c->n_added_rows != rows_add)
        return fail(v, "commitInfo.numAddedRows",
                    "expected %" PRId64 " (the adds' numRecords, LOG-R26), found %" PRId64,
                    rows_add, c->n_added_rows);
    if (rm_rows_known && c->n_removed_rows != rows_rm)
        return fail(v, "commitInfo.numRemovedRows",
                    "expected %" PRId64 " (the removes' numRecords, LOG-R26), found %" PRId64,
                    rows_rm, c->n_removed_rows);

    /* LOG-R27 */
    if (version == 0) {
        if (!proto || !meta)
            return fail(v, NULL, "expected protocol and metaData in version 0 (LOG-R27), "
                                 "found %s", !proto && !meta ? "neither" : !proto ? "no protocol"
                                                                                  : "no metaData");
        if (c->has_read_version)
            return fail(v, "commitInfo.readVersion",
                        "expected none in version 0 (LOG-R27), found %" PRId64, c->read_version);
    } else if (version > 0) {
        if (!c->has_read_version)
            return fail(v, "commitInfo.readVersion",
                        "missing (expected in every version after 0, LOG-R27)");
        if (c->read_version >= version)
            return fail(v, "commitInfo.readVersion",
                        "expected a version below %" PRId64 " (LOG-R27), found %" PRId64, version,
                        c->read_version);
    }

    /* LOG-R28 */
    if (meta && (n_add || n_rm)) {
        const tl_log_metadata *md = &meta->u.meta;
        field_index ix;
        if ((rc = index_build(v, md, &ix)))
            return rc;
        for (uint32_t i = 0; i < n && rc == TL_OK; i++)
            if (acts[i]->kind == TL_LOG_ADD || acts[i]->kind == TL_LOG_REMOVE)
                rc = check_against_meta(v, md, &ix, acts[i]);
        free(ix.f);
        if (rc)
            return rc;
    }
    v->act = NULL;
    return TL_OK;
}

int tl_log_actions_check_meta(const tl_log_action *acts, uint32_t n,
                              const tl_log_metadata *m, const char *commit, int code,
                              tl_error *err)
{
    vctx v = {.err = err, .code = code, .commit = commit ? commit : "commit", .base = acts};
    field_index ix;
    int rc = index_build(&v, m, &ix);
    for (uint32_t i = 0; i < n && rc == TL_OK; i++)
        if (acts[i].kind == TL_LOG_ADD || acts[i].kind == TL_LOG_REMOVE)
            rc = check_against_meta(&v, m, &ix, &acts[i]);
    free(ix.f);
    return rc;
}

/* ---- protocol support (LOG-R30 .. LOG-R32) ------------------------------- */

/* Features this build implements. None yet: any listed feature is unknown. */
static const char *const known_reader_features[] = {NULL};
static const char *const known_writer_features[] = {NULL};

static const char *unknown_feature(const tl_log_strs *f, const char *const *known)
{
    for (uint32_t i = 0; i < f->n; i++) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= strcmp(*k, f->s[i]) == 0;
        if (!ok)
            return f->s[i];
    }
    return NULL;
}

int tl_log_protocol_check_read(const tl_log_protocol *p, tl_error *err)
{
    if (p->min_reader_version > TL_LOG_READER_VERSION)
        return tl_error_set(err, TL_EVERSION,
                            "protocol: expected minReaderVersion <= %d (this build's), "
                            "found %" PRId64
                            ": a newer ticklake is needed to read this table",
                            TL_LOG_READER_VERSION, p->min_reader_version);
    const char *u = unknown_feature(&p->reader_features, known_reader_features);
    char b[160];
    if (u)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "protocol: readerFeatures lists %s, which this build does not "
                            "implement: a newer ticklake is needed to read this table",
                            excerpt(u, strlen(u), b, sizeof b));
    return TL_OK;
}

int tl_log_protocol_check_write(const tl_log_protocol *p, tl_error *err)
{
    int rc = tl_log_protocol_check_read(p, err);
    if (rc)
        return rc;
    if (p->min_writer_version > TL_LOG_WRITER_VERSION)
        return tl_error_set(err, TL_EVERSION,
                            "protocol: expected minWriterVersion <= %d (this build's), "
                            "found %" PRId64
                            ": a newer ticklake is needed to write this table",
                            TL_LOG_WRITER_VERSION, p->min_writer_version);
    const char *u = unknown_feature(&p->writer_features, known_writer_features);
    char b[160];
    if (u)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "protocol: writerFeatures lists %s, which this build does not "
                            "implement: a newer ticklake is needed to write this table",
                            excerpt(u, strlen(u), b, sizeof b));
    return TL_OK;
}

int tl_log_config_int(const tl_log_metadata *m, const char *key, int64_t *out, tl_error *err)
{
    for (size_t k = 0; k < sizeof conf_keys / sizeof conf_keys[0]; k++) {
        if (strcmp(key, conf_keys[k].key) != 0)
            continue;
        for (uint32_t i = 0; i < m->config.n; i++)
            if (strcmp(m->config.kv[i].key, key) == 0) {
                int64_t x = parse_decimal(m->config.kv[i].val);
                if (x < conf_keys[k].min || x > conf_keys[k].max)
                    return tl_error_set(err, TL_ECORRUPT,
                                        "metaData.configuration[%s]: expected a decimal in "
                                        "[%" PRId64 ", %" PRId64 "]",
                                        key, conf_keys[k].min, conf_keys[k].max);
                *out = x;
                return TL_OK;
            }
        *out = conf_keys[k].def;
        return TL_OK;
    }
    return tl_error_set(err, TL_EINVAL, "unknown table configuration key \"%.100s\"", key);
}

int tl_log_uuid4(char out[37], tl_error *err)
{
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return tl_error_sys(err, errno, "getrandom (a table or transaction id)");
        }
        got += (size_t)r;
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return TL_OK;
}

/* ---- parsing: JSON -> model (types only; validate_* checks values) ------- */

typedef struct pctx {
    vctx v;
    tl_log_arena *arena;
    int strict;
} pctx;

static int jfail(pctx *p, const char *field, const char *expected, const json_t *found)
{
    char d[200];
    return fail(&p->v, field, "expected %s, found %s", expected, jdesc(found, d, sizeof d));
}

static int get(pctx *p, json_t *obj, const char *key, const char *field, json_t **out,
               int required)
{
    *out = json_object_get(obj, key);
    if (!*out && required)
        return fail(&p->v, field, "missing required field");
    return TL_OK;
}

static int as_int(pctx *p, const char *field, const json_t *j, int64_t *out)
{
    if (!json_is_integer(j))
        return jfail(p, field, "an integer", j);
    *out = json_integer_value(j);
    return TL_OK;
}

static int as_bool(pctx *p, const char *field, const json_t *j, int *out)
{
    if (!json_is_boolean(j))
        return jfail(p, field, "true or false", j);
    *out = json_is_true(j);
    return TL_OK;
}

static char *copy_bytes(pctx *p, const char *s, size_t n)
{
    char *c = tl_log_arena_alloc(p->arena, n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static int as_str(pctx *p, const char *field, const json_t *j, const char **out)
{
    if (!json_is_string(j))
        return jfail(p, field, "a string", j);
    /* jansson rejects \u0000 (no JSON_ALLOW_NUL): the text has no NUL. */
    char *c = copy_bytes(p, json_string_value(j), json_string_length(j));
    if (!c)
        return oom(&p->v);
    *out = c;
    return TL_OK;
}

static int as_map(pctx *p, const char *field, const json_t *j, tl_log_map *out)
{
    if (!json_is_object(j))
        return jfail(p, field, "an object of strings", j);
    size_t n = json_object_size(j);
    tl_log_kv *kv = n ? tl_log_arena_alloc(p->arena, n * sizeof *kv) : NULL;
    if (n && !kv)
        return oom(&p->v);
    size_t i = 0;
    const char *key;
    json_t *val;
    char f[96];
    json_object_foreach((json_t *)j, key, val) {
        snprintf(f, sizeof f, "%s[%.40s]", field, key);
        if (!(kv[i].key = copy_bytes(p, key, strlen(key))))
            return oom(&p->v);
        int rc = as_str(p, f, val, &kv[i].val);
        if (rc)
            return rc;
        i++;
    }
    out->kv = kv;
    out->n = (uint32_t)n;
    return TL_OK;
}

static int as_strs(pctx *p, const char *field, const json_t *j, tl_log_strs *out)
{
    if (!json_is_array(j))
        return jfail(p, field, "an array of strings", j);
    size_t n = json_array_size(j);
    const char **s = n ? tl_log_arena_alloc(p->arena, n * sizeof *s) : NULL;
    if (n && !s)
        return oom(&p->v);
    char f[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        int rc = as_str(p, f, json_array_get(j, i), &s[i]);
        if (rc)
            return rc;
    }
    out->s = s;
    out->n = (uint32_t)n;
    return TL_OK;
}

/* Strict mode: every key of obj is one of known (NULL-terminated). */
static int only_known(pctx *p, const char *field, json_t *obj, const char *const *known)
{
    if (!p->strict)
        return TL_OK;
    const char *key;
    json_t *val;
    char b[100];
    json_object_foreach(obj, key, val) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= strcmp(*k, key) == 0;
        if (!ok)
            return fail(&p->v, field, "unknown field %s (strict mode, LOG-R8)",
                        excerpt(key, strlen(key), b, sizeof b));
    }
    (void)val;
    return TL_OK;
}

/* An optional integer field: absent leaves *has 0. */
static int opt_int(pctx *p, json_t *o, const char *key, const char *field, int *has,
                   int64_t *out)
{
    json_t *j = json_object_get(o, key);
    *has = j != NULL;
    return j ? as_int(p, field, j, out) : TL_OK;
}

#define REQ(p, o, key, field, fn, out)                                                      \
    do {                                                                                    \
        json_t *j_;                                                                         \
        int rc_ = get(p, o, key, field, &j_, 1);                                            \
        if (rc_ == TL_OK)                                                                   \
            rc_ = fn(p, field, j_, out);                                                    \
        if (rc_)                                                                            \
            return rc_;                                                                     \
    } while (0)

static int parse_ci(pctx *p, json_t *o, tl_log_commit_info *c)
{
    static const char *const known[] = {
        "inCommitTimestamp", "operation",     "operationParameters", "readVersion",
        "txnId",             "engineInfo",    "numAddedFiles",       "numAddedRows",
        "numRemovedFiles",   "numRemovedRows", NULL};
    REQ(p, o, "inCommitTimestamp", "commitInfo.inCommitTimestamp", as_int, &c->ict_ms);
    REQ(p, o, "operation", "commitInfo.operation", as_str, &c->operation);
    REQ(p, o, "operationParameters", "commitInfo.operationParameters", as_map, &c->op_params);
    int rc = opt_int(p, o, "readVersion", "commitInfo.readVersion", &c->has_read_version,
                     &c->read_version);
    if (rc)
        return rc;
    json_t *j = json_object_get(o, "txnId");
    if (j && (rc = as_str(p, "commitInfo.txnId", j, &c->txn_id)))
        return rc;
    REQ(p, o, "engineInfo", "commitInfo.engineInfo", as_str, &c->engine_info);
    REQ(p, o, "numAddedFiles", "commitInfo.numAddedFiles", as_int, &c->n_added_files);
    REQ(p, o, "numAddedRows", "commitInfo.numAddedRows", as_int, &c->n_added_rows);
    REQ(p, o, "numRemovedFiles", "commitInfo.numRemovedFiles", as_int, &c->n_removed_files);
    REQ(p, o, "numRemovedRows", "commitInfo.numRemovedRows", as_int, &c->n_removed_rows);
    return only_known(p, "commitInfo", o, known);
}

static int parse_proto(pctx *p, json_t *o, tl_log_protocol *c)
{
    static const char *const known[] = {"minReaderVersion", "minWriterVersion",
                                        "readerFeatures", "writerFeatures", NULL};
    REQ(p, o, "minReaderVersion", "protocol.minReaderVersion", as_int, &c->min_reader_version);
    REQ(p, o, "minWriterVersion", "protocol.minWriterVersion", as_int, &c->min_writer_version);
    REQ(p, o, "readerFeatures", "protocol.readerFeatures", as_strs, &c->reader_features);
    REQ(p, o, "writerFeatures", "protocol.writerFeatures", as_strs, &c->writer_features);
    return only_known(p, "protocol", o, known);
}

static int as_type(pctx *p, const char *field, const json_t *j, tl_type *out)
{
    if (!json_is_string(j) || tl_type_from_name(json_string_value(j), out) != TL_OK)
        return jfail(p, field,
                     "a type name (bool, int8, int16, int32, int64, uint8, uint16, uint32, "
                     "uint64, float32, float64, timestamp, date, string, timestamp_us)",
                     j);
    return TL_OK;
}

static int parse_field(pctx *p, const char *field, json_t *o, tl_log_field *c)
{
    static const char *const known[] = {"name", "type", "nullable", NULL};
    char f[96];
    if (!json_is_object(o))
        return jfail(p, field, "an object {name, type, nullable}", o);
    snprintf(f, sizeof f, "%s.name", field);
    REQ(p, o, "name", f, as_str, &c->name);
    snprintf(f, sizeof f, "%s.type", field);
    REQ(p, o, "type", f, as_type, &c->type);
    snprintf(f, sizeof f, "%s.nullable", field);
    REQ(p, o, "nullable", f, as_bool, &c->nullable);
    return only_known(p, field, o, known);
}

static int parse_meta(pctx *p, json_t *o, tl_log_metadata *m)
{
    static const char *const known[] = {"id",       "name",    "createdTime",   "schema",
                                        "partitionSpec", "sortKey", "configuration", NULL};
    static const char *const known_spec[] = {"symbolColumn", "dayColumn", NULL};
    REQ(p, o, "id", "metaData.id", as_str, &m->id);
    json_t *j = json_object_get(o, "name");
    int rc;
    if (j && (rc = as_str(p, "metaData.name", j, &m->name)))
        return rc;
    REQ(p, o, "createdTime", "metaData.createdTime", as_int, &m->created_ms);
    if ((rc = get(p, o, "schema", "metaData.schema", &j, 1)))
        return rc;
    if (!json_is_array(j))
        return jfail(p, "metaData.schema", "an array of columns", j);
    size_t n = json_array_size(j);
    if (n > TL_LOG_MAX_COLUMNS)
        return fail(&p->v, "metaData.schema", "expected 1 to %d columns, found %zu",
                    TL_LOG_MAX_COLUMNS, n);
    tl_log_field *fs = n ? tl_log_arena_alloc(p->arena, n * sizeof *fs) : NULL;
    if (n && !fs)
        return oom(&p->v);
    char f[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof f, "metaData.schema[%zu]", i);
        if ((rc = parse_field(p, f, json_array_get(j, i), &fs[i])))
            return rc;
    }
    m->fields = fs;
    m->n_fields = (uint32_t)n;
    if ((rc = get(p, o, "partitionSpec", "metaData.partitionSpec", &j, 1)))
        return rc;
    if (!json_is_object(j))
        return jfail(p, "metaData.partitionSpec", "an object", j);
    json_t *c = json_object_get(j, "symbolColumn");
    if (c && (rc = as_str(p, "metaData.partitionSpec.symbolColumn", c, &m->part_symbol_col)))
        return rc;
    c = json_object_get(j, "dayColumn");
    if (c && (rc = as_str(p, "metaData.partitionSpec.dayColumn", c, &m->part_day_col)))
        return rc;
    if ((rc = only_known(p, "metaData.partitionSpec", j, known_spec)))
        return rc;
    REQ(p, o, "sortKey", "metaData.sortKey", as_strs, &m->sort_key);
    REQ(p, o, "configuration", "metaData.configuration", as_map, &m->config);
    return only_known(p, "metaData", o, known);
}

/* "YYYY-MM-DD", a real calendar date with a 4-digit year. */
static int parse_date(const char *s, size_t n, int32_t *day)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int d[8], k = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d[k++] = s[i] - '0';
    }
    int y = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
    int mo = d[4] * 10 + d[5], dd = d[6] * 10 + d[7];
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1])
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && dd == 29 && !leap)
        return -1;
    int64_t z = tl_days_from_civil(y, mo, dd);
    if (z < INT32_MIN || z > INT32_MAX)
        return -1;
    *day = (int32_t)z;
    return 0;
}

static int parse_pvals(pctx *p, const char *field, const json_t *o, tl_log_pvals *pv)
{
    char f[96], b[100];
    if (!json_is_object(o))
        return jfail(p, field, "an object {symbol, date}", o);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        if (strcmp(key, TL_LOG_PART_SYMBOL) == 0) {
            pv->has_symbol = 1;
            pv->symbol_null = json_is_null(val);
            if (!pv->symbol_null) {
                if (!json_is_string(val)) {
                    snprintf(f, sizeof f, "%s.%s", field, key);
                    return jfail(p, f, "null or a string", val);
                }
                int rc = as_str(p, NULL, val, &pv->symbol);
                if (rc)
                    return rc;
            }
        } else if (strcmp(key, TL_LOG_PART_DATE) == 0) {
            pv->has_date = 1;
            pv->date_null = json_is_null(val);
            if (!pv->date_null &&
                (!json_is_string(val) ||
                 parse_date(json_string_value(val), json_string_length(val), &pv->date))) {
                snprintf(f, sizeof f, "%s.%s", field, key);
                return jfail(p, f, "null or a date \"YYYY-MM-DD\"", val);
            }
        } else
            return fail(&p->v, field,
                        "expected only the partition fields \"symbol\" and \"date\" (LOG-R18), "
                        "found %s", excerpt(key, strlen(key), b, sizeof b));
    }
    return TL_OK;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A bound of type t (LOG-R23). */
static int parse_value(pctx *p, const char *col, const char *leaf, tl_type t, const json_t *j,
                       tl_log_value *x)
{
    char field[120]; /* filled only on failure: FIELD */
#define FIELD colfield(field, sizeof field, col, leaf)
    switch (t) {
    case TL_BOOL:
        if (!json_is_boolean(j))
            return jfail(p, FIELD, "true or false (a bool bound)", j);
        x->u = json_is_true(j);
        return TL_OK;
    case TL_UINT8: case TL_UINT16: case TL_UINT32: case TL_UINT64:
        if (json_is_integer(j) && json_integer_value(j) >= 0) {
            x->u = (uint64_t)json_integer_value(j);
            return TL_OK;
        }
        if (t == TL_UINT64 && json_is_string(j)) {
            /* values >= 2^63 (above jansson's and many readers' integers) */
            const char *s = json_string_value(j);
            size_t n = json_string_length(j);
            uint64_t u = 0;
            int ok = n == 19 || n == 20;
            for (size_t i = 0; ok && i < n; i++) {
                unsigned d = (unsigned char)s[i] - '0';
                ok = d <= 9 && u <= (UINT64_MAX - d) / 10;
                u = u * 10 + d;
            }
            if (ok && u > (uint64_t)INT64_MAX) {
                x->u = u;
                return TL_OK;
            }
        }
        return jfail(p, FIELD,
                     t == TL_UINT64 ? "an integer >= 0, or a decimal string for values >= 2^63"
                                    : "an integer >= 0",
                     j);
    case TL_FLOAT32: case TL_FLOAT64:
        if (json_is_real(j)) {
            x->f = json_real_value(j);
            return TL_OK;
        }
        if (json_is_integer(j)) {
            json_int_t i = json_integer_value(j);
            if (i >= -(INT64_C(1) << 53) && i <= (INT64_C(1) << 53)) {
                x->f = (double)i;
                return TL_OK;
            }
        }
        if (json_is_string(j)) {
            if (strcmp(json_string_value(j), "Infinity") == 0) {
                x->f = INFINITY;
                return TL_OK;
            }
            if (strcmp(json_string_value(j), "-Infinity") == 0) {
                x->f = -INFINITY;
                return TL_OK;
            }
        }
        return jfail(p, FIELD,
                     "a number (integers only within +-2^53), \"Infinity\" or \"-Infinity\" "
                     "(NaN is never a bound)",
                     j);
    case TL_STRING:
        if (json_is_string(j)) {
            size_t n = json_string_length(j);
            if (n > TL_LOG_STATS_STR_MAX)
                return jfail(p, FIELD, "at most 64 bytes", j);
            x->s.p = (const uint8_t *)copy_bytes(p, json_string_value(j), n);
            if (!x->s.p)
                return oom(&p->v);
            x->s.len = (uint32_t)n;
            return TL_OK;
        }
        if (json_is_object(j) && json_object_size(j) == 1) {
            json_t *h = json_object_get(j, "hex");
            if (json_is_string(h)) {
                const char *s = json_string_value(h);
                size_t n = json_string_length(h);
                if (n % 2 == 0 && n / 2 <= TL_LOG_STATS_STR_MAX) {
                    uint8_t *b = tl_log_arena_alloc(p->arena, n / 2 + 1);
                    if (!b)
                        return oom(&p->v);
                    size_t i;
                    for (i = 0; i < n; i += 2) {
                        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
                        if (hi < 0 || lo < 0)
                            break;
                        b[i / 2] = (uint8_t)(hi << 4 | lo);
                    }
                    if (i == n) {
                        x->s.p = b;
                        x->s.len = (uint32_t)(n / 2);
                        return TL_OK;
                    }
                }
            }
        }
        return jfail(p, FIELD,
                     "a string of at most 64 bytes, or {\"hex\": lowercase hex of at most 64 "
                     "bytes}",
                     j);
    default:
        if (!json_is_integer(j))
            return jfail(p, FIELD, "an integer", j);
        x->i = json_integer_value(j);
        return TL_OK;
    }
#undef FIELD
}

/* One column's statistics; field names are built only on failure (this
 * runs for every column of every add). */
static int parse_colstats(pctx *p, const char *name, json_t *o, tl_log_colstats *c)
{
    static const char *const known[] = {"type",  "nullCount", "min",          "max",
                                        "hasNaN", "minTruncated", "maxTruncated", NULL};
    char f[120];
    if (!json_is_object(o))
        return jfail(p, colfield(f, sizeof f, name, ""),
                     "an object {type, nullCount, min, max, ...}", o);
    if (!(c->name = copy_bytes(p, name, strlen(name))))
        return oom(&p->v);
    json_t *j = json_object_get(o, "type");
    if (!j)
        return fail(&p->v, colfield(f, sizeof f, name, ".type"), "missing required field");
    if (!json_is_string(j) || tl_type_from_name(json_string_value(j), &c->type) != TL_OK)
        return as_type(p, colfield(f, sizeof f, name, ".type"), j, &c->type);
    j = json_object_get(o, "nullCount");
    if (!j)
        return fail(&p->v, colfield(f, sizeof f, name, ".nullCount"), "missing required field");
    if (!json_is_integer(j))
        return jfail(p, colfield(f, sizeof f, name, ".nullCount"), "an integer", j);
    c->null_count = json_integer_value(j);
    int rc;
    j = json_object_get(o, "min");
    c->has_min = j != NULL;
    if (j && (rc = parse_value(p, name, ".min", c->type, j, &c->min)))
        return rc;
    j = json_object_get(o, "max");
    c->has_max = j != NULL;
    if (j && (rc = parse_value(p, name, ".max", c->type, j, &c->max)))
        return rc;
    static const char *const flags[] = {"hasNaN", "minTruncated", "maxTruncated"};
    int *out[] = {&c->has_nan, &c->min_truncated, &c->max_truncated};
    for (int k = 0; k < 3; k++) {
        j = json_object_get(o, flags[k]);
        *out[k] = 0;
        if (j && !json_is_boolean(j)) {
            char leaf[24];
            snprintf(leaf, sizeof leaf, ".%s", flags[k]);
            return jfail(p, colfield(f, sizeof f, name, leaf), "true or false", j);
        }
        *out[k] = j && json_is_true(j);
    }
    return p->strict ? only_known(p, colfield(f, sizeof f, name, ""), o, known) : TL_OK;
}

static int parse_stats(pctx *p, const json_t *o, tl_log_stats *s)
{
    static const char *const known[] = {"firstTimestamp", "lastTimestamp", "columns", NULL};
    if (!json_is_object(o))
        return jfail(p, "add.stats", "an object", o);
    json_t *so = (json_t *)o;
    int has_first, has_last, rc;
    if ((rc = opt_int(p, so, "firstTimestamp", "add.stats.firstTimestamp", &has_first,
                      &s->first_ts_ns)) ||
        (rc = opt_int(p, so, "lastTimestamp", "add.stats.lastTimestamp", &has_last,
                      &s->last_ts_ns)))
        return rc;
    if (has_first != has_last)
        return fail(&p->v, has_first ? "add.stats.lastTimestamp" : "add.stats.firstTimestamp",
                    "missing (firstTimestamp and lastTimestamp come together)");
    s->has_time_range = has_first;
    json_t *cols;
    if ((rc = get(p, so, "columns", "add.stats.columns", &cols, 1)))
        return rc;
    if (!json_is_object(cols))
        return jfail(p, "add.stats.columns", "an object", cols);
    size_t n = json_object_size(cols);
    if (n > TL_LOG_MAX_COLUMNS)
        return fail(&p->v, "add.stats.columns", "expected at most %d columns, found %zu",
                    TL_LOG_MAX_COLUMNS, n);
    tl_log_colstats *cs = n ? tl_log_arena_alloc(p->arena, n * sizeof *cs) : NULL;
    if (n && !cs)
        return oom(&p->v);
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach(cols, key, val) {
        memset(&cs[i], 0, sizeof cs[i]);
        if ((rc = parse_colstats(p, key, val, &cs[i])))
            return rc;
        i++;
    }
    s->cols = cs;
    s->n_cols = (uint32_t)n;
    return only_known(p, "add.stats", so, known);
}

static int parse_add(pctx *p, json_t *o, tl_log_add *a)
{
    static const char *const known[] = {"path",       "partitionValues", "size", "numRecords",
                                        "modificationTime", "dataChange", "stats", NULL};
    REQ(p, o, "path", "add.path", as_str, &a->path);
    REQ(p, o, "partitionValues", "add.partitionValues", parse_pvals, &a->part);
    REQ(p, o, "size", "add.size", as_int, &a->size_bytes);
    REQ(p, o, "numRecords", "add.numRecords", as_int, &a->n_rows);
    REQ(p, o, "modificationTime", "add.modificationTime", as_int, &a->mtime_ms);
    REQ(p, o, "dataChange", "add.dataChange", as_bool, &a->data_change);
    json_t *j = json_object_get(o, "stats");
    a->has_stats = j != NULL;
    int rc;
    if (j && (rc = parse_stats(p, j, &a->stats)))
        return rc;
    return only_known(p, "add", o, known);
}

static int parse_rm(pctx *p, json_t *o, tl_log_remove *r)
{
    static const char *const known[] = {"path", "deletionTimestamp", "dataChange",
                                        "partitionValues", "size", "numRecords", NULL};
    REQ(p, o, "path", "remove.path", as_str, &r->path);
    REQ(p, o, "deletionTimestamp", "remove.deletionTimestamp", as_int, &r->deletion_ms);
    REQ(p, o, "dataChange", "remove.dataChange", as_bool, &r->data_change);
    json_t *j = json_object_get(o, "partitionValues");
    r->has_part = j != NULL;
    int rc;
    if (j && (rc = parse_pvals(p, "remove.partitionValues", j, &r->part)))
        return rc;
    if ((rc = opt_int(p, o, "size", "remove.size", &r->has_size, &r->size_bytes)) ||
        (rc = opt_int(p, o, "numRecords", "remove.numRecords", &r->has_n_rows, &r->n_rows)))
        return rc;
    return only_known(p, "remove", o, known);
}

static int parse_txn(pctx *p, json_t *o, tl_log_txn *t)
{
    static const char *const known[] = {"appId", "version", "lastUpdated", NULL};
    REQ(p, o, "appId", "txn.appId", as_str, &t->app_id);
    REQ(p, o, "version", "txn.version", as_int, &t->version);
    int rc = opt_int(p, o, "lastUpdated", "txn.lastUpdated", &t->has_last_updated,
                     &t->last_updated_ms);
    if (rc)
        return rc;
    return only_known(p, "txn", o, known);
}

/* Pre-scan of one line before jansson: no NUL byte, nesting of [ and {
 * outside strings at most max_depth. Returns the offending offset or -1. */
static ptrdiff_t prescan(const char *s, size_t n, uint32_t max_depth, int *nul)
{
    uint32_t depth = 0;
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0') {
            *nul = 1;
            return (ptrdiff_t)i;
        }
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                *nul = 0;
                return (ptrdiff_t)i;
            }
        } else if ((c == '}' || c == ']') && depth > 0)
            depth--;
    }
    return -1;
}

void tl_log_parse_opts_default(tl_log_parse_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = -1;
}

void tl_log_commit_free(tl_log_commit *c)
{
    if (!c)
        return;
    free(c->actions);
    tl_log_arena_free(c->arena);
    memset(c, 0, sizeof *c);
}

static int parse_line(pctx *p, json_t *o, tl_log_action *a)
{
    switch (a->kind) {
    case TL_LOG_COMMIT_INFO: return parse_ci(p, o, &a->u.ci);
    case TL_LOG_PROTOCOL: return parse_proto(p, o, &a->u.proto);
    case TL_LOG_METADATA: return parse_meta(p, o, &a->u.meta);
    case TL_LOG_TXN: return parse_txn(p, o, &a->u.txn);
    case TL_LOG_REMOVE: return parse_rm(p, o, &a->u.rm);
    case TL_LOG_ADD: return parse_add(p, o, &a->u.add);
    }
    return TL_OK;
}

int tl_log_commit_parse(const char *buf, size_t len, const tl_log_parse_opts *opts,
                        tl_log_commit *out, tl_error *err)
{
    tl_log_parse_opts o;
    if (opts)
        o = *opts;
    else
        tl_log_parse_opts_default(&o);
    size_t max_file = o.max_file_bytes ? o.max_file_bytes : TL_LOG_MAX_FILE_BYTES;
    size_t max_line = o.max_line_bytes ? o.max_line_bytes : TL_LOG_MAX_LINE_BYTES;
    uint32_t max_actions = o.max_actions ? o.max_actions : TL_LOG_MAX_ACTIONS;
    uint32_t max_depth = o.max_depth ? o.max_depth : TL_LOG_MAX_DEPTH;
    char name[TL_LOG_NAME_LEN + 1];
    const char *cname = o.name;
    if (!cname && o.version >= 0) {
        tl_log_commit_name(o.version, name);
        cname = name;
    }
    if (!cname)
        cname = "commit";
    if (!out)
        return tl_error_set(err, TL_EINVAL, "%s: no output commit given", cname);
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return tl_error_set(err, TL_EINVAL, "%s: no buffer given", cname);
    if (len > max_file)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s: expected at most %zu bytes (this reader's limit for one commit "
                            "file, LOG-R7), found %zu bytes",
                            cname, max_file, len);
    if (len == 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: empty file: expected at least a commitInfo line (LOG-R4)", cname);

    pctx p = {.v = {.err = err, .code = TL_ECORRUPT, .commit = cname}, .strict = o.strict};
    p.arena = tl_log_arena_new();
    if (!p.arena)
        return oom(&p.v);
    tl_log_action *acts = NULL;
    size_t cap = 0;
    uint32_t n = 0, skipped = 0, line = 0;
    int rc = TL_OK;
    json_t *root = NULL;
    size_t pos = 0;
    while (pos < len && rc == TL_OK) {
        line++;
        p.v.line = line;
        p.v.offset = pos;
        p.v.act = NULL;
        size_t rem = len - pos, scan = rem < max_line + 1 ? rem : max_line + 1;
        const char *nl = memchr(buf + pos, '\n', scan);
        if (!nl) {
            if (rem > max_line)
                rc = tl_error_set(err, TL_EUNSUPPORTED,
                                  "%s: line %" PRIu32 " (byte offset %zu): expected at most %zu "
                                  "bytes per line (this reader's limit, LOG-R7), found more",
                                  cname, line, pos, max_line);
            else
                rc = fail(&p.v, NULL,
                          "truncated: expected the line to end with a newline (LOG-R4), found "
                          "the end of the file after %zu bytes",
                          rem);
            break;
        }
        size_t llen = (size_t)(nl - (buf + pos));
        if (llen == 0) {
            rc = fail(&p.v, NULL, "expected a JSON object, found an empty line (LOG-R4)");
            break;
        }
        if (n + skipped >= max_actions) {
            rc = tl_error_set(err, TL_EUNSUPPORTED,
                              "%s: line %" PRIu32 " (byte offset %zu): expected at most %" PRIu32
                              " actions per commit (this reader's limit, LOG-R7), found more",
                              cname, line, pos, max_actions);
            break;
        }
        int nul = 0;
        ptrdiff_t bad = prescan(buf + pos, llen, max_depth, &nul);
        if (bad >= 0) {
            if (nul)
                rc = fail(&p.v, NULL, "expected JSON text, found a NUL byte at byte offset %zu "
                                      "(LOG-R5)", pos + (size_t)bad);
            else
                rc = tl_error_set(err, TL_EUNSUPPORTED,
                                  "%s: line %" PRIu32 " (byte offset %zu): expected nesting of at "
                                  "most %" PRIu32 " levels (this reader's limit, LOG-R7), found "
                                  "deeper nesting at byte offset %zu",
                                  cname, line, pos, max_depth, pos + (size_t)bad);
            break;
        }
        json_error_t je;
        int json_oom = 0;
        /* tl_json_loadb: never a tree damaged by a failed allocation in
         * jansson's lexer (log.c) */
        root = tl_json_loadb(buf + pos, llen, JSON_REJECT_DUPLICATES, &je, &json_oom);
        if (!root && json_oom) {
            rc = tl_error_set(err, TL_ENOMEM,
                              "%s: line %" PRIu32 " (byte offset %zu): out of memory parsing "
                              "the JSON",
                              cname, line, pos);
            break;
        }
        if (!root) {
            rc = fail(&p.v, NULL, "invalid JSON near byte offset %zu: %s",
                      pos + (size_t)je.position,
                      je.text);
            break;
        }
        if (!json_is_object(root)) {
            rc = jfail(&p, NULL, "a JSON object (LOG-R5)", root);
            break;
        }
        if (json_object_size(root) != 1) {
            char keys[160] = "";
            size_t kl = 0;
            const char *key;
            json_t *val;
            json_object_foreach(root, key, val) {
                if (kl + 50 > sizeof keys)
                    break;
                kl += (size_t)snprintf(keys + kl, sizeof keys - kl, "%s\"%.40s\"", kl ? ", " : "",
                                       key);
            }
            (void)val;
            rc = fail(&p.v, NULL, "expected exactly one action key (LOG-R5), found %zu%s%s%s",
                      json_object_size(root), kl ? " (" : "", keys, kl ? ")" : "");
            break;
        }
        void *it = json_object_iter(root);
        const char *key = json_object_iter_key(it);
        json_t *body = json_object_iter_value(it);
        int kind = kind_of(key);
        char b[100];
        if (!json_is_object(body)) {
            rc = jfail(&p, key, "an object (LOG-R5)", body);
            break;
        }
        if (!kind) {
            if (o.strict) {
                rc = fail(&p.v, NULL, "unknown action type %s (strict mode, LOG-R8)",
                          excerpt(key, strlen(key), b, sizeof b));
                break;
            }
            skipped++;
        } else {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                tl_log_action *na = realloc(acts, nc * sizeof *na);
                if (!na) {
                    rc = oom(&p.v);
                    break;
                }
                acts = na;
                cap = nc;
            }
            tl_log_action *a = &acts[n++];
            memset(a, 0, sizeof *a);
            a->kind = (tl_log_kind)kind;
            a->line = line;
            a->offset = pos;
            if ((rc = parse_line(&p, body, a)))
                break;
            if (kind == TL_LOG_PROTOCOL) {
                /* LOG-R31 as early as possible: later lines may use what
                   the protocol introduces. */
                if ((rc = validate_action(&p.v, a)))
                    break;
                if (!o.no_protocol_check && (rc = tl_log_protocol_check_read(&a->u.proto, err))) {
                    tl_error_prefix(err, "%s: line %" PRIu32 " (byte offset %zu): ", cname, line,
                                    pos);
                    break;
                }
            }
        }
        json_decref(root);
        root = NULL;
        pos = (size_t)(nl - buf) + 1;
    }
    json_decref(root);
    if (rc == TL_OK) {
        const tl_log_action **ptrs = n ? malloc(n * sizeof *ptrs) : NULL;
        if (n && !ptrs)
            rc = oom(&p.v);
        else {
            for (uint32_t i = 0; i < n; i++)
                ptrs[i] = &acts[i];
            p.v.line = 0;
            p.v.base = acts;
            rc = validate_commit(&p.v, ptrs, n, o.version);
            free(ptrs);
        }
    }
    if (rc) {
        free(acts);
        tl_log_arena_free(p.arena);
        return rc;
    }
    out->actions = acts;
    out->n_actions = n;
    out->n_skipped = skipped;
    out->arena = p.arena;
    return TL_OK;
}

/* ---- serialising: model -> JSON lines ------------------------------------ */

/* A direct emitter (jansson is only the parser): keys in the order of the
 * spec's tables, no whitespace, strings escaped minimally (", \ and control
 * characters; UTF-8 kept raw), integers in decimal, floats as the shortest
 * decimal that parses back to the same binary64 (text_int.h), with ".0"
 * added when that decimal has neither '.' nor an exponent, so that -0.0
 * keeps its sign. Validation has passed before anything is emitted. */
typedef struct emit {
    char **buf;
    size_t *cap;
    size_t len;
    int bad; /* out of memory */
} emit;

static void e_raw(emit *e, const char *s, size_t n)
{
    if (e->bad || n == 0)
        return;
    if (*e->cap - e->len < n && tl_grow((void **)e->buf, e->cap, e->len + n) != TL_OK) {
        e->bad = 1;
        return;
    }
    memcpy(*e->buf + e->len, s, n);
    e->len += n;
}

static void e_lit(emit *e, const char *s)
{
    e_raw(e, s, strlen(s));
}

static void e_str(emit *e, const char *s, size_t n)
{
    e_raw(e, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        e_raw(e, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"': e_raw(e, "\\\"", 2); break;
        case '\\': e_raw(e, "\\\\", 2); break;
        case '\n': e_raw(e, "\\n", 2); break;
        case '\r': e_raw(e, "\\r", 2); break;
        case '\t': e_raw(e, "\\t", 2); break;
        case '\b': e_raw(e, "\\b", 2); break;
        case '\f': e_raw(e, "\\f", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            e_raw(e, esc, 6);
        }
    }
    e_raw(e, s + run, n - run);
    e_raw(e, "\"", 1);
}

/* Object members: "," before all but the first, then "key":. */
static void e_key(emit *e, int *first, const char *k)
{
    if (!*first)
        e_raw(e, ",", 1);
    *first = 0;
    e_str(e, k, strlen(k));
    e_raw(e, ":", 1);
}

static void e_i64(emit *e, int64_t v)
{
    char b[24];
    e_raw(e, b, tl_fmt_i64(b, v));
}

static void e_bool(emit *e, int v)
{
    e_lit(e, v ? "true" : "false");
}

static void e_f64(emit *e, double v)
{
    char b[TL_FMT_MAX + 4];
    size_t n = tl_fmt_f64(b, v);
    if (!memchr(b, '.', n) && !memchr(b, 'e', n)) {
        b[n++] = '.';
        b[n++] = '0';
    }
    e_raw(e, b, n);
}

static void e_map(emit *e, const tl_log_map *m)
{
    int first = 1;
    e_raw(e, "{", 1);
    for (uint32_t i = 0; i < m->n; i++) {
        e_key(e, &first, m->kv[i].key);
        e_str(e, m->kv[i].val, strlen(m->kv[i].val));
    }
    e_raw(e, "}", 1);
}

static void e_strs(emit *e, const tl_log_strs *s)
{
    e_raw(e, "[", 1);
    for (uint32_t i = 0; i < s->n; i++) {
        if (i)
            e_raw(e, ",", 1);
        e_str(e, s->s[i], strlen(s->s[i]));
    }
    e_raw(e, "]", 1);
}

static void e_pvals(emit *e, const tl_log_pvals *p)
{
    int first = 1;
    e_raw(e, "{", 1);
    if (p->has_symbol) {
        e_key(e, &first, TL_LOG_PART_SYMBOL);
        if (p->symbol_null)
            e_lit(e, "null");
        else
            e_str(e, p->symbol, strlen(p->symbol));
    }
    if (p->has_date) {
        e_key(e, &first, TL_LOG_PART_DATE);
        if (p->date_null)
            e_lit(e, "null");
        else {
            char t[TL_FMT_MAX];
            size_t n = tl_fmt_date(t, p->date); /* 4-digit years in range */
            e_raw(e, "\"", 1);
            e_raw(e, t, n);
            e_raw(e, "\"", 1);
        }
    }
    e_raw(e, "}", 1);
}

/* A bound (LOG-R23). */
static void e_value(emit *e, tl_type t, const tl_log_value *x)
{
    if (t == TL_BOOL)
        e_bool(e, x->u != 0);
    else if (tl_type_is_unsigned_int(t)) {
        char b[24];
        size_t n = tl_fmt_u64(b, x->u);
        if (x->u <= (uint64_t)INT64_MAX)
            e_raw(e, b, n);
        else
            e_str(e, b, n);
    } else if (tl_type_is_float(t)) {
        if (isinf(x->f))
            e_lit(e, x->f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        else
            e_f64(e, x->f);
    } else if (t == TL_STRING) {
        const uint8_t *p = x->s.p;
        size_t n = x->s.len;
        if (tl_utf8_bad(p, n) == n && (n == 0 || !memchr(p, 0, n)))
            e_str(e, (const char *)p, n);
        else {
            static const char hex[] = "0123456789abcdef";
            char h[2 * TL_LOG_STATS_STR_MAX];
            for (size_t i = 0; i < n; i++) {
                h[2 * i] = hex[p[i] >> 4];
                h[2 * i + 1] = hex[p[i] & 15];
            }
            e_lit(e, "{\"hex\":\"");
            e_raw(e, h, 2 * n);
            e_lit(e, "\"}");
        }
    } else
        e_i64(e, x->i);
}

static void e_stats(emit *e, const tl_log_stats *s)
{
    int first = 1;
    e_raw(e, "{", 1);
    if (s->has_time_range) {
        e_key(e, &first, "firstTimestamp");
        e_i64(e, s->first_ts_ns);
        e_key(e, &first, "lastTimestamp");
        e_i64(e, s->last_ts_ns);
    }
    e_key(e, &first, "columns");
    e_raw(e, "{", 1);
    int cfirst = 1;
    for (uint32_t i = 0; i < s->n_cols; i++) {
        const tl_log_colstats *c = &s->cols[i];
        int f = 1;
        e_key(e, &cfirst, c->name);
        e_raw(e, "{", 1);
        e_key(e, &f, "type");
        e_str(e, tl_type_name(c->type), strlen(tl_type_name(c->type)));
        e_key(e, &f, "nullCount");
        e_i64(e, c->null_count);
        if (c->has_min) {
            e_key(e, &f, "min");
            e_value(e, c->type, &c->min);
        }
        if (c->has_max) {
            e_key(e, &f, "max");
            e_value(e, c->type, &c->max);
        }
        if (c->has_nan) {
            e_key(e, &f, "hasNaN");
            e_lit(e, "true");
        }
        if (c->min_truncated) {
            e_key(e, &f, "minTruncated");
            e_lit(e, "true");
        }
        if (c->max_truncated) {
            e_key(e, &f, "maxTruncated");
            e_lit(e, "true");
        }
        e_raw(e, "}", 1);
    }
    e_raw(e, "}}", 2);
}

static void e_text(emit *e, int *first, const char *key, const char *s)
{
    e_key(e, first, key);
    e_str(e, s, strlen(s));
}

static void e_int(emit *e, int *first, const char *key, int64_t v)
{
    e_key(e, first, key);
    e_i64(e, v);
}

/* One line: {"<kind>":{...}}\n */
static void e_action(emit *e, const tl_log_action *a)
{
    int f = 1;
    e_raw(e, "{", 1);
    e_key(e, &f, tl_log_kind_name(a->kind));
    e_raw(e, "{", 1);
    f = 1;
    switch (a->kind) {
    case TL_LOG_COMMIT_INFO: {
        const tl_log_commit_info *c = &a->u.ci;
        e_int(e, &f, "inCommitTimestamp", c->ict_ms);
        e_text(e, &f, "operation", c->operation);
        e_key(e, &f, "operationParameters");
        e_map(e, &c->op_params);
        if (c->has_read_version)
            e_int(e, &f, "readVersion", c->read_version);
        if (c->txn_id)
            e_text(e, &f, "txnId", c->txn_id);
        e_text(e, &f, "engineInfo", c->engine_info);
        e_int(e, &f, "numAddedFiles", c->n_added_files);
        e_int(e, &f, "numAddedRows", c->n_added_rows);
        e_int(e, &f, "numRemovedFiles", c->n_removed_files);
        e_int(e, &f, "numRemovedRows", c->n_removed_rows);
        break;
    }
    case TL_LOG_PROTOCOL:
        e_int(e, &f, "minReaderVersion", a->u.proto.min_reader_version);
        e_int(e, &f, "minWriterVersion", a->u.proto.min_writer_version);
        e_key(e, &f, "readerFeatures");
        e_strs(e, &a->u.proto.reader_features);
        e_key(e, &f, "writerFeatures");
        e_strs(e, &a->u.proto.writer_features);
        break;
    case TL_LOG_METADATA: {
        const tl_log_metadata *m = &a->u.meta;
        e_text(e, &f, "id", m->id);
        if (m->name)
            e_text(e, &f, "name", m->name);
        e_int(e, &f, "createdTime", m->created_ms);
        e_key(e, &f, "schema");
        e_raw(e, "[", 1);
        for (uint32_t i = 0; i < m->n_fields; i++) {
            int g = 1;
            e_raw(e, i ? ",{" : "{", i ? 2 : 1);
            e_text(e, &g, "name", m->fields[i].name);
            e_text(e, &g, "type", tl_type_name(m->fields[i].type));
            e_key(e, &g, "nullable");
            e_bool(e, m->fields[i].nullable != 0);
            e_raw(e, "}", 1);
        }
        e_raw(e, "]", 1);
        e_key(e, &f, "partitionSpec");
        int g = 1;
        e_raw(e, "{", 1);
        if (m->part_symbol_col)
            e_text(e, &g, "symbolColumn", m->part_symbol_col);
        if (m->part_day_col)
            e_text(e, &g, "dayColumn", m->part_day_col);
        e_raw(e, "}", 1);
        e_key(e, &f, "sortKey");
        e_strs(e, &m->sort_key);
        e_key(e, &f, "configuration");
        e_map(e, &m->config);
        break;
    }
    case TL_LOG_TXN:
        e_text(e, &f, "appId", a->u.txn.app_id);
        e_int(e, &f, "version", a->u.txn.version);
        if (a->u.txn.has_last_updated)
            e_int(e, &f, "lastUpdated", a->u.txn.last_updated_ms);
        break;
    case TL_LOG_REMOVE: {
        const tl_log_remove *r = &a->u.rm;
        e_text(e, &f, "path", r->path);
        e_int(e, &f, "deletionTimestamp", r->deletion_ms);
        e_key(e, &f, "dataChange");
        e_bool(e, r->data_change != 0);
        if (r->has_part) {
            e_key(e, &f, "partitionValues");
            e_pvals(e, &r->part);
        }
        if (r->has_size)
            e_int(e, &f, "size", r->size_bytes);
        if (r->has_n_rows)
            e_int(e, &f, "numRecords", r->n_rows);
        break;
    }
    case TL_LOG_ADD: {
        const tl_log_add *d = &a->u.add;
        e_text(e, &f, "path", d->path);
        e_key(e, &f, "partitionValues");
        e_pvals(e, &d->part);
        e_int(e, &f, "size", d->size_bytes);
        e_int(e, &f, "numRecords", d->n_rows);
        e_int(e, &f, "modificationTime", d->mtime_ms);
        e_key(e, &f, "dataChange");
        e_bool(e, d->data_change != 0);
        if (d->has_stats) {
            e_key(e, &f, "stats");
            e_stats(e, &d->stats);
        }
        break;
    }
    }
    e_raw(e, "}}\n", 3);
}

int tl_log_commit_serialize(const tl_log_action *acts, uint32_t n, int64_t version, char **buf,
                            size_t *cap, size_t *len, tl_error *err)
{
    char name[TL_LOG_NAME_LEN + 1];
    const char *cname = "commit";
    if (version >= 0) {
        tl_log_commit_name(version, name);
        cname = name;
    }
    vctx v = {.err = err, .code = TL_EINVAL, .commit = cname, .base = acts};
    if (!buf || !cap || !len || (n && !acts))
        return tl_error_set(err, TL_EINVAL, "%s: missing argument", cname);
    *len = 0;
    for (uint32_t i = 0; i < n; i++)
        if (acts[i].kind < TL_LOG_COMMIT_INFO || acts[i].kind > TL_LOG_ADD) {
            v.act = &acts[i];
            return fail(&v, NULL, "expected an action kind 1..6, found %d", (int)acts[i].kind);
        }
    /* Canonical order: a stable counting sort by kind (LOG-R6). */
    const tl_log_action **ord = n ? malloc(n * sizeof *ord) : NULL;
    if (n && !ord)
        return oom(&v);
    uint32_t m = 0;
    for (int k = TL_LOG_COMMIT_INFO; k <= TL_LOG_ADD; k++)
        for (uint32_t i = 0; i < n; i++)
            if ((int)acts[i].kind == k)
                ord[m++] = &acts[i];
    int rc = validate_commit(&v, ord, n, version);
    if (rc == TL_OK && n > TL_LOG_MAX_ACTIONS)
        rc = fail(&v, NULL, "expected at most %u actions (the readers' default limit, LOG-R7), "
                            "found %" PRIu32 ": split the commit", TL_LOG_MAX_ACTIONS, n);
    if (rc == TL_OK) {
        /* LOG-R7: never write what a default reader refuses */
        emit e = {.buf = buf, .cap = cap};
        for (uint32_t i = 0; i < n && !e.bad && rc == TL_OK; i++) {
            size_t start = e.len;
            e_action(&e, ord[i]);
            v.act = ord[i];
            if (!e.bad && e.len - start - 1 > TL_LOG_MAX_LINE_BYTES)
                rc = fail(&v, NULL, "expected at most %zu bytes per line (the readers' default "
                                    "limit, LOG-R7), found %zu", TL_LOG_MAX_LINE_BYTES,
                          e.len - start - 1);
        }
        if (rc == TL_OK && e.bad)
            rc = oom(&v);
        if (rc == TL_OK && e.len > TL_LOG_MAX_FILE_BYTES) {
            v.act = NULL;
            rc = fail(&v, NULL, "expected at most %zu bytes (the readers' default limit for a "
                                "commit file, LOG-R7), found %zu: split the commit",
                      TL_LOG_MAX_FILE_BYTES, e.len);
        }
        if (rc == TL_OK)
            *len = e.len;
    }
    free(ord);
    return rc;
}

/* ---- equality ------------------------------------------------------------ */

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int map_eq(const tl_log_map *a, const tl_log_map *b)
{
    if (a->n != b->n)
        return 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (!str_eq(a->kv[i].key, b->kv[i].key) || !str_eq(a->kv[i].val, b->kv[i].val))
            return 0;
    return 1;
}

static int strs_eq(const tl_log_strs *a, const tl_log_strs *b)
{
    if (a->n != b->n)
        return 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (!str_eq(a->s[i], b->s[i]))
            return 0;
    return 1;
}

static int pvals_eq(const tl_log_pvals *a, const tl_log_pvals *b)
{
    if (!a->has_symbol != !b->has_symbol || !a->has_date != !b->has_date)
        return 0;
    if (a->has_symbol && (!a->symbol_null != !b->symbol_null ||
                          (!a->symbol_null && !str_eq(a->symbol, b->symbol))))
        return 0;
    if (a->has_date && (!a->date_null != !b->date_null || (!a->date_null && a->date != b->date)))
        return 0;
    return 1;
}

static int value_eq(tl_type t, const tl_log_value *a, const tl_log_value *b)
{
    if (tl_type_is_float(t))
        return memcmp(&a->f, &b->f, sizeof a->f) == 0;
    if (t == TL_STRING)
        return a->s.len == b->s.len && (a->s.len == 0 || memcmp(a->s.p, b->s.p, a->s.len) == 0);
    if (tl_type_is_unsigned_int(t))
        return a->u == b->u;
    return a->i == b->i;
}

static int stats_eq(const tl_log_stats *a, const tl_log_stats *b)
{
    if (!a->has_time_range != !b->has_time_range || a->n_cols != b->n_cols)
        return 0;
    if (a->has_time_range &&
        (a->first_ts_ns != b->first_ts_ns || a->last_ts_ns != b->last_ts_ns))
        return 0;
    for (uint32_t i = 0; i < a->n_cols; i++) {
        const tl_log_colstats *x = &a->cols[i], *y = &b->cols[i];
        if (!str_eq(x->name, y->name) || x->type != y->type || x->null_count != y->null_count ||
            !x->has_min != !y->has_min || !x->has_max != !y->has_max ||
            !x->has_nan != !y->has_nan || !x->min_truncated != !y->min_truncated ||
            !x->max_truncated != !y->max_truncated)
            return 0;
        if ((x->has_min && !value_eq(x->type, &x->min, &y->min)) ||
            (x->has_max && !value_eq(x->type, &x->max, &y->max)))
            return 0;
    }
    return 1;
}

int tl_log_action_equal(const tl_log_action *a, const tl_log_action *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case TL_LOG_COMMIT_INFO: {
        const tl_log_commit_info *x = &a->u.ci, *y = &b->u.ci;
        return x->ict_ms == y->ict_ms && str_eq(x->operation, y->operation) &&
               map_eq(&x->op_params, &y->op_params) &&
               !x->has_read_version == !y->has_read_version &&
               (!x->has_read_version || x->read_version == y->read_version) &&
               str_eq(x->txn_id, y->txn_id) && str_eq(x->engine_info, y->engine_info) &&
               x->n_added_files == y->n_added_files && x->n_added_rows == y->n_added_rows &&
               x->n_removed_files == y->n_removed_files &&
               x->n_removed_rows == y->n_removed_rows;
    }
    case TL_LOG_PROTOCOL:
        return a->u.proto.min_reader_version == b->u.proto.min_reader_version &&
               a->u.proto.min_writer_version == b->u.proto.min_writer_version &&
               strs_eq(&a->u.proto.reader_features, &b->u.proto.reader_features) &&
               strs_eq(&a->u.proto.writer_features, &b->u.proto.writer_features);
    case TL_LOG_METADATA: {
        const tl_log_metadata *x = &a->u.meta, *y = &b->u.meta;
        if (!str_eq(x->id, y->id) || !str_eq(x->name, y->name) || x->created_ms != y->created_ms ||
            x->n_fields != y->n_fields || !str_eq(x->part_symbol_col, y->part_symbol_col) ||
            !str_eq(x->part_day_col, y->part_day_col) || !strs_eq(&x->sort_key, &y->sort_key) ||
            !map_eq(&x->config, &y->config))
            return 0;
        for (uint32_t i = 0; i < x->n_fields; i++)
            if (!str_eq(x->fields[i].name, y->fields[i].name) ||
                x->fields[i].type != y->fields[i].type ||
                !x->fields[i].nullable != !y->fields[i].nullable)
                return 0;
        return 1;
    }
    case TL_LOG_TXN:
        return str_eq(a->u.txn.app_id, b->u.txn.app_id) && a->u.txn.version == b->u.txn.version &&
               !a->u.txn.has_last_updated == !b->u.txn.has_last_updated &&
               (!a->u.txn.has_last_updated ||
                a->u.txn.last_updated_ms == b->u.txn.last_updated_ms);
    case TL_LOG_REMOVE: {
        const tl_log_remove *x = &a->u.rm, *y = &b->u.rm;
        return str_eq(x->path, y->path) && x->deletion_ms == y->deletion_ms &&
               !x->data_change == !y->data_change && !x->has_part == !y->has_part &&
               (!x->has_part || pvals_eq(&x->part, &y->part)) && !x->has_size == !y->has_size &&
               (!x->has_size || x->size_bytes == y->size_bytes) &&
               !x->has_n_rows == !y->has_n_rows && (!x->has_n_rows || x->n_rows == y->n_rows);
    }
    case TL_LOG_ADD: {
        const tl_log_add *x = &a->u.add, *y = &b->u.add;
        return str_eq(x->path, y->path) && pvals_eq(&x->part, &y->part) &&
               x->size_bytes == y->size_bytes && x->n_rows == y->n_rows &&
               x->mtime_ms == y->mtime_ms && !x->data_change == !y->data_change &&
               !x->has_stats == !y->has_stats && (!x->has_stats || stats_eq(&x->stats, &y->stats));
    }
    }
    return 0;
}
