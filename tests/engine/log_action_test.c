/*
 * log_action_test.c - the log's action model and its JSON form
 * (engine/src/log_action.c, spec/LOG.md): round trips of every action with
 * edge values, the canonical line order, and each reader rule with the
 * error code and the place the message names (commit, line, byte offset,
 * field). Test comments cite the LOG-Rn rule they check.
 */
#include <criterion/criterion.h>

#include "log_int.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

static void assert_msg_has(const tl_error *err, const char *s)
{
    cr_assert(strstr(err->msg, s) != NULL, "message \"%s\" lacks \"%s\"", err->msg, s);
}

/* Parse text (NUL-terminated) with opts (NULL = defaults, version -1). */
static int parse(const char *text, const tl_log_parse_opts *opts, tl_log_commit *c,
                 tl_error *err)
{
    return tl_log_commit_parse(text, strlen(text), opts, c, err);
}

static void parse_ok(const char *text, int64_t version, tl_log_commit *c)
{
    tl_log_parse_opts o;
    tl_log_parse_opts_default(&o);
    o.version = version;
    tl_error err = {0};
    int rc = parse(text, &o, c, &err);
    cr_assert_eq(rc, TL_OK, "parse failed: %s\n--- text:\n%s", err.msg, text);
}

/* Parse must fail with code and a message holding every given substring
 * (NULL-terminated list). */
static void reject_v(const char *text, int64_t version, int strict, int code, va_list ap)
{
    tl_log_parse_opts o;
    tl_log_parse_opts_default(&o);
    o.version = version;
    o.strict = strict;
    tl_log_commit c;
    tl_error err = {0};
    int rc = parse(text, &o, &c, &err);
    cr_assert_eq(rc, code, "expected code %d, got %d (%s)\n--- text:\n%s", code, rc, err.msg,
                 text);
    cr_assert_eq(err.code, code);
    cr_assert_eq(c.n_actions, 0);
    cr_assert_null(c.actions);
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL)
        assert_msg_has(&err, s);
}

static void reject_f(const char *text, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    reject_v(text, -1, 0, code, ap);
    va_end(ap);
}

static void reject_ver_f(const char *text, int64_t version, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    reject_v(text, version, 0, code, ap);
    va_end(ap);
}

static void reject_strict_f(const char *text, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    reject_v(text, -1, 1, code, ap);
    va_end(ap);
}

/* The expected substrings end the argument list (a NULL is appended). */
#define reject(text, ...) reject_f(text, __VA_ARGS__, NULL)
#define reject_ver(text, ...) reject_ver_f(text, __VA_ARGS__, NULL)
#define reject_strict(text, ...) reject_strict_f(text, __VA_ARGS__, NULL)

/* Serialise, asserting success; returns a malloc'd NUL-terminated text. */
static char *ser(const tl_log_action *a, uint32_t n, int64_t version, size_t *len_out)
{
    char *buf = NULL;
    size_t cap = 0, len = 0;
    tl_error err = {0};
    int rc = tl_log_commit_serialize(a, n, version, &buf, &cap, &len, &err);
    cr_assert_eq(rc, TL_OK, "serialise failed: %s", err.msg);
    cr_assert_geq(cap, len + 1);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

static int ser_err(const tl_log_action *a, uint32_t n, int64_t version, tl_error *err)
{
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int rc = tl_log_commit_serialize(a, n, version, &buf, &cap, &len, err);
    free(buf);
    return rc;
}

/* Round trip: serialise, parse, compare each action, re-serialise the
 * parsed commit and compare the bytes. */
static void round_trip(const tl_log_action *a, uint32_t n, int64_t version)
{
    size_t len;
    char *text = ser(a, n, version, &len);
    tl_log_commit c;
    parse_ok(text, version, &c);
    cr_assert_eq(c.n_actions, n);
    cr_assert_eq(c.n_skipped, 0);
    for (uint32_t i = 0; i < n; i++) {
        cr_assert_eq(c.actions[i].line, i + 1);
        cr_assert(tl_log_action_equal(&c.actions[i], &a[i]), "action %u (%s) differs\n%s", i,
                  tl_log_kind_name(a[i].kind), text);
    }
    size_t len2;
    char *text2 = ser(c.actions, c.n_actions, version, &len2);
    cr_assert_eq(len2, len);
    cr_assert_str_eq(text2, text);
    free(text2);
    tl_log_commit_free(&c);
    free(text);
}

/* ---- a full commit of every action type ---------------------------------- */

static const tl_log_field schema[] = {
    {"timestamp", TL_TIMESTAMP, 0}, {"symbol", TL_STRING, 0},  {"expiry", TL_DATE, 0},
    {"opt_type", TL_STRING, 1},     {"strike", TL_FLOAT32, 0}, {"price", TL_FLOAT64, 1},
    {"volume", TL_INT64, 1},        {"flag", TL_BOOL, 1},      {"big", TL_UINT64, 1},
    {"tiny", TL_INT8, 1},           {"u16", TL_UINT16, 1},
};
static const char *const sort_key[] = {"expiry", "opt_type", "strike", "timestamp"};
static const tl_log_kv config[] = {
    {"ticklake.checkpointInterval", "100"},
    {"ticklake.logRetentionHours", "720"},
    {"user.note", "caf\xc3\xa9 \"quoted\" \\ \n\ttab \xf0\x9f\x98\x80"},
};
static const tl_log_kv op_params[] = {{"mode", "append"}, {"source", "ticks.csv"}};
static const char *const no_features[] = {NULL};

static tl_log_colstats full_stats[11];

#define TABLE_ID "0f1e2d3c-4b5a-4697-8877-665544332211"
#define DAY_2025_11_18 20410

static void build_full(tl_log_action a[6])
{
    memset(a, 0, 6 * sizeof a[0]);
    a[0].kind = TL_LOG_COMMIT_INFO;
    a[0].u.ci = (tl_log_commit_info){
        .ict_ms = 1763351100000, .operation = "APPEND",
        .op_params = {op_params, 2}, .has_read_version = 1, .read_version = 4,
        .txn_id = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", .engine_info = "ticklake/0.1.0",
        .n_added_files = 1, .n_added_rows = 1000, .n_removed_files = 1, .n_removed_rows = 500};
    a[1].kind = TL_LOG_PROTOCOL;
    a[1].u.proto = (tl_log_protocol){1, 1, {no_features, 0}, {no_features, 0}};
    a[2].kind = TL_LOG_METADATA;
    a[2].u.meta = (tl_log_metadata){
        .id = TABLE_ID, .name = "ticks", .created_ms = 1763351000000, .fields = schema,
        .n_fields = sizeof schema / sizeof schema[0], .part_symbol_col = "symbol",
        .part_day_col = "timestamp", .sort_key = {sort_key, 4}, .config = {config, 3}};
    a[3].kind = TL_LOG_TXN;
    a[3].u.txn = (tl_log_txn){"nse-daily", 20251118, 1, 1763351100000};
    a[4].kind = TL_LOG_REMOVE;
    a[4].u.rm = (tl_log_remove){.path = "symbol=NIFTY/date=2025-11-17/old.tls",
                                .deletion_ms = 1763351100000, .data_change = 1, .has_part = 1,
                                .has_size = 1, .has_n_rows = 1,
                                .part = {1, 0, "NIFTY", 1, 0, DAY_2025_11_18 - 1},
                                .size_bytes = 4096, .n_rows = 500};
    tl_log_colstats *s = full_stats;
    memset(full_stats, 0, sizeof full_stats);
    s[0] = (tl_log_colstats){.name = "timestamp", .type = TL_TIMESTAMP, .has_min = 1,
                             .has_max = 1, .min.i = 1763437500000000000,
                             .max.i = 1763460000000000000};
    s[1] = (tl_log_colstats){.name = "symbol", .type = TL_STRING, .has_min = 1, .has_max = 1,
                             .min.s = {(const uint8_t *)"NIFTY", 5},
                             .max.s = {(const uint8_t *)"NIFTY", 5}};
    s[2] = (tl_log_colstats){.name = "expiry", .type = TL_DATE, .has_min = 1, .has_max = 1,
                             .min.i = INT32_MIN, .max.i = INT32_MAX};
    s[3] = (tl_log_colstats){.name = "opt_type", .type = TL_STRING, .null_count = 10,
                             .has_min = 1, .has_max = 0, .min_truncated = 1,
                             .min.s = {(const uint8_t *)"\xff\x00\x01", 3}};
    s[4] = (tl_log_colstats){.name = "strike", .type = TL_FLOAT32, .has_min = 1, .has_max = 1,
                             .min.f = -0.0, .max.f = (double)0.1f};
    s[5] = (tl_log_colstats){.name = "price", .type = TL_FLOAT64, .null_count = 2,
                             .has_min = 1, .has_max = 1, .has_nan = 1, .min.f = -INFINITY,
                             .max.f = INFINITY};
    s[6] = (tl_log_colstats){.name = "volume", .type = TL_INT64, .has_min = 1, .has_max = 1,
                             .min.i = INT64_MIN, .max.i = INT64_MAX};
    s[7] = (tl_log_colstats){.name = "flag", .type = TL_BOOL, .has_min = 1, .has_max = 1,
                             .min.u = 0, .max.u = 1};
    s[8] = (tl_log_colstats){.name = "big", .type = TL_UINT64, .has_min = 1, .has_max = 1,
                             .min.u = (uint64_t)INT64_MAX, .max.u = UINT64_MAX};
    s[9] = (tl_log_colstats){.name = "tiny", .type = TL_INT8, .null_count = 1000};
    s[10] = (tl_log_colstats){.name = "u16", .type = TL_UINT16, .has_min = 1, .has_max = 1,
                              .min.u = 0, .max.u = 65535};
    a[5].kind = TL_LOG_ADD;
    a[5].u.add = (tl_log_add){.path = "symbol=NIFTY/date=2025-11-18/6f1c2b.tls",
                              .part = {1, 0, "NIFTY", 1, 0, DAY_2025_11_18},
                              .size_bytes = 123456, .n_rows = 1000,
                              .mtime_ms = 1763351099000, .data_change = 1, .has_stats = 1,
                              .stats = {1, 1763437500000000000, 1763460000000000000, s, 11}};
}

/* ---- round trips --------------------------------------------------------- */

Test(log_action, round_trip_every_action_type)
{
    tl_log_action a[6];
    build_full(a);
    round_trip(a, 6, 5);
}

Test(log_action, round_trip_edge_values)
{
    /* No metaData in this commit, so partition values are free of the spec
     * (LOG-R28 applies only with a metaData in the same commit). */
    static const tl_log_kv empty_map[1];
    static tl_log_colstats s[3];
    static const uint8_t b64[64] = {0xFF};
    tl_log_action a[5];
    memset(a, 0, sizeof a);
    a[0].kind = TL_LOG_COMMIT_INFO;
    a[0].u.ci = (tl_log_commit_info){.ict_ms = INT64_MAX, .operation = "W\xc3\xa9ird \"op\" \\",
                                     .op_params = {empty_map, 0}, .has_read_version = 1,
                                     .read_version = 0, .engine_info = "e",
                                     .n_added_files = 2, .n_added_rows = INT64_MAX,
                                     .n_removed_files = 1, .n_removed_rows = 0};
    a[1].kind = TL_LOG_TXN;
    a[1].u.txn = (tl_log_txn){"\xe2\x82\xac/app \"x\"", INT64_MAX, 0, 0};
    a[2].kind = TL_LOG_REMOVE;
    a[2].u.rm = (tl_log_remove){.path = "x", .deletion_ms = 0, .data_change = 0};
    s[0] = (tl_log_colstats){.name = "s", .type = TL_STRING, .has_min = 1, .has_max = 1,
                             .min.s = {(const uint8_t *)"", 0}, .max.s = {b64, 64},
                             .max_truncated = 1};
    s[1] = (tl_log_colstats){.name = "f", .type = TL_FLOAT64, .has_min = 1, .has_max = 1,
                             .min.f = -DBL_MAX, .max.f = 4.9406564584124654e-324};
    s[2] = (tl_log_colstats){.name = "\xe6\x97\xa5\xe6\x9c\xac \"col\"", .type = TL_FLOAT32,
                             .has_min = 1, .has_max = 1, .min.f = 0.0, .max.f = (double)FLT_MAX};
    a[3].kind = TL_LOG_ADD;
    a[3].u.add = (tl_log_add){.path = "symbol=%2E%2E/date=2262-04-11/\xc3\xa9.tls",
                              .part = {1, 0, "", 1, 0, TL_LOG_DAY_MAX}, .size_bytes = INT64_MAX,
                              .n_rows = INT64_MAX, .mtime_ms = INT64_MAX, .data_change = 0,
                              .has_stats = 1, .stats = {1, INT64_MIN, INT64_MAX, s, 3}};
    a[4].kind = TL_LOG_ADD;
    a[4].u.add = (tl_log_add){.path = "a/b", .part = {1, 1, NULL, 1, 1, 0}, .n_rows = 0,
                              .has_stats = 1, .stats = {0, 0, 0, NULL, 0}};
    round_trip(a, 5, -1);

    /* And the date partition's lower limit. */
    a[4].u.add.part = (tl_log_pvals){0, 0, NULL, 1, 0, TL_LOG_DAY_MIN};
    round_trip(a, 5, -1);
}

/* LOG-R23: the JSON form of bounds that JSON numbers cannot carry. */
Test(log_action, special_bound_values_have_a_defined_json_form)
{
    tl_log_action a[6];
    build_full(a);
    char *t = ser(a, 6, 5, NULL);
    cr_assert(strstr(t, "\"min\":\"-Infinity\",\"max\":\"Infinity\",\"hasNaN\":true"), "%s", t);
    cr_assert(strstr(t, "\"strike\":{\"type\":\"float32\",\"nullCount\":0,\"min\":-0.0,"), "%s", t);
    cr_assert(strstr(t, "\"min\":{\"hex\":\"ff0001\"},\"minTruncated\":true"), "%s", t);
    cr_assert(strstr(t, "\"min\":9223372036854775807,\"max\":\"18446744073709551615\""), "%s", t);
    cr_assert(strstr(t, "\"min\":-9223372036854775808,\"max\":9223372036854775807"), "%s", t);
    cr_assert(strstr(t, "\"flag\":{\"type\":\"bool\",\"nullCount\":0,\"min\":false,\"max\":true}"),
              "%s", t);
    cr_assert(strstr(t, "\"tiny\":{\"type\":\"int8\",\"nullCount\":1000}"), "%s", t);
    cr_assert(strstr(t, "\"date\":\"2025-11-18\""), "%s", t);
    /* Non-ASCII text is written as UTF-8, not \u escapes. */
    cr_assert(strstr(t, "caf\xc3\xa9 \\\"quoted\\\" \\\\ \\n\\ttab \xf0\x9f\x98\x80"), "%s", t);
    free(t);

    /* -0.0 keeps its sign through a parse. */
    tl_log_commit c;
    t = ser(a, 6, 5, NULL);
    parse_ok(t, 5, &c);
    const tl_log_colstats *st = &c.actions[5].u.add.stats.cols[4];
    cr_assert_str_eq(st->name, "strike");
    cr_assert(st->min.f == 0.0 && signbit(st->min.f));
    tl_log_commit_free(&c);
    free(t);
}

/* LOG-R23: floats are written as the shortest decimal that parses back to
 * the same binary64, and come back bit for bit. */
Test(log_action, floats_are_written_shortest_and_exact)
{
    static const struct {
        double min, max;
        tl_type t;
        const char *text;
    } cases[] = {
        {0.05, 3012.45, TL_FLOAT64, "\"min\":0.05,\"max\":3012.45}"},
        {-0.0, 0.0, TL_FLOAT64, "\"min\":-0.0,\"max\":0.0}"},
        {5e-324, 1e300, TL_FLOAT64, "\"min\":5e-324,\"max\":1e+300}"},
        {0.1, 0.30000000000000004, TL_FLOAT64, "\"min\":0.1,\"max\":0.30000000000000004}"},
        {-2.5e-7, 123456789.125, TL_FLOAT64, "\"min\":-2.5e-07,\"max\":123456789.125}"},
        {(double)0.1f, (double)FLT_MAX, TL_FLOAT32,
         "\"min\":0.10000000149011612,\"max\":3.4028234663852886e+38}"},
        {-1.0, 16777216.0, TL_FLOAT32, "\"min\":-1.0,\"max\":16777216.0}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_log_colstats cs = {.name = "x", .type = cases[i].t, .has_min = 1, .has_max = 1,
                              .min.f = cases[i].min, .max.f = cases[i].max};
        tl_log_action a[2];
        memset(a, 0, sizeof a);
        a[0].kind = TL_LOG_COMMIT_INFO;
        a[0].u.ci = (tl_log_commit_info){.ict_ms = 1, .operation = "A", .engine_info = "e",
                                         .n_added_files = 1, .n_added_rows = 1};
        a[1].kind = TL_LOG_ADD;
        a[1].u.add = (tl_log_add){.path = "f", .n_rows = 1, .has_stats = 1,
                                  .stats = {0, 0, 0, &cs, 1}};
        char *t = ser(a, 2, -1, NULL);
        cr_assert(strstr(t, cases[i].text), "case %zu: %s", i, t);
        free(t);
        round_trip(a, 2, -1);
    }
}

/* ---- canonical order (LOG-R6) ------------------------------------------- */

Test(log_action, serialise_writes_canonical_order)
{
    tl_log_action a[6], r[6];
    build_full(a);
    for (int i = 0; i < 6; i++)
        r[i] = a[5 - i];
    /* a second add, given first, stays before the other add (stable) */
    tl_log_action b[7];
    memcpy(b, r, sizeof r);
    b[6] = a[5];
    b[6].u.add.path = "symbol=NIFTY/date=2025-11-18/zz.tls";
    tl_log_action tmp = b[0];
    b[0] = b[6];
    b[6] = tmp;
    b[0].u.add.has_stats = 0;
    for (int i = 0; i < 7; i++)
        if (b[i].kind == TL_LOG_COMMIT_INFO) {
            b[i].u.ci.n_added_files = 2;
            b[i].u.ci.n_added_rows = 2000;
        }
    char *t = ser(b, 7, 5, NULL);
    static const char *const order[] = {"{\"commitInfo\":", "{\"protocol\":", "{\"metaData\":",
                                        "{\"txn\":", "{\"remove\":", "{\"add\":", "{\"add\":"};
    const char *p = t;
    for (int i = 0; i < 7; i++) {
        cr_assert(strncmp(p, order[i], strlen(order[i])) == 0, "line %d: %.40s", i + 1, p);
        if (i == 5)
            cr_assert(strstr(p, "zz.tls") != NULL && strstr(p, "zz.tls") < strchr(p, '\n'));
        p = strchr(p, '\n') + 1;
    }
    cr_assert_eq(*p, '\0');
    free(t);
}

#define CI(nf, nr, rf, rr)                                                                    \
    "{\"commitInfo\":{\"inCommitTimestamp\":1763351100000,\"operation\":\"APPEND\","          \
    "\"operationParameters\":{},\"engineInfo\":\"ticklake/0.1.0\",\"numAddedFiles\":" #nf      \
    ",\"numAddedRows\":" #nr ",\"numRemovedFiles\":" #rf ",\"numRemovedRows\":" #rr "}}\n"
#define CI0 CI(0, 0, 0, 0)
#define TXN(id) "{\"txn\":{\"appId\":\"" id "\",\"version\":1}}\n"
#define RM(path)                                                                              \
    "{\"remove\":{\"path\":\"" path "\",\"deletionTimestamp\":1,\"dataChange\":true}}\n"
#define ADD(path)                                                                             \
    "{\"add\":{\"path\":\"" path "\",\"partitionValues\":{},\"size\":100,\"numRecords\":10,"  \
    "\"modificationTime\":1,\"dataChange\":true}}\n"

Test(log_action, parse_rejects_lines_out_of_canonical_order)
{
    /* LOG-R6 */
    reject(CI(1, 10, 1, 0) ADD("a") RM("b"), TL_ECORRUPT, "line 3 (byte offset",
           "found remove after add", "canonical order");
    reject(CI(0, 0, 1, 0) RM("b") TXN("x"), TL_ECORRUPT, "line 3", "found txn after remove");
    reject(TXN("x") CI0, TL_ECORRUPT, "line 1 (byte offset 0)",
           "expected commitInfo as the first action", "found txn");
    /* An unknown (skipped) line before commitInfo still breaks "first line". */
    reject("{\"cdc\":{}}\n" CI0, TL_ECORRUPT, "line 2", "expected commitInfo on line 1");
    /* The same lines in order pass. */
    tl_log_commit c;
    parse_ok(CI(1, 10, 1, 0) TXN("x") RM("b") ADD("a"), -1, &c);
    cr_assert_eq(c.n_actions, 4);
    tl_log_commit_free(&c);
}

/* ---- line structure (LOG-R4, LOG-R5) ------------------------------------ */

Test(log_action, rejects_invalid_json_naming_line_and_byte_offset)
{
    const char *text = CI0 "{\"txn\":{\"appId\":\"x\",\"version\":1,}}\n";
    size_t line2 = strlen(CI0);
    char want[64];
    snprintf(want, sizeof want, "line 2 (byte offset %zu)", line2);
    reject(text, TL_ECORRUPT, want, "invalid JSON near byte offset");
    /* the JSON error's offset is inside line 2 */
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(parse(text, NULL, &c, &err), TL_ECORRUPT);
    const char *p = strstr(err.msg, "near byte offset ");
    cr_assert_not_null(p);
    unsigned long off = strtoul(p + 17, NULL, 10);
    cr_assert(off > line2 && off < strlen(text), "offset %lu: %s", off, err.msg);
    /* a commit name given by version */
    reject_ver(CI0 "{\n", 3, TL_ECORRUPT, "00000000000000000003.json: line 2");
}

Test(log_action, rejects_truncated_last_line)
{
    /* LOG-R4: a torn write leaves a last line without its LF. */
    char text[1024];
    snprintf(text, sizeof text, "%s%s", CI0, "{\"txn\":{\"appId\":\"x\",\"version\":1}}");
    reject(text, TL_ECORRUPT, "line 2 (byte offset", "truncated",
           "expected the line to end with a newline");
    /* even when the unterminated part is complete JSON of a valid commit */
    const char *only = "{\"commitInfo\":{\"inCommitTimestamp\":1,\"operation\":\"A\","
                       "\"operationParameters\":{},\"engineInfo\":\"e\",\"numAddedFiles\":0,"
                       "\"numAddedRows\":0,\"numRemovedFiles\":0,\"numRemovedRows\":0}}";
    reject(only, TL_ECORRUPT, "line 1 (byte offset 0)", "truncated");
}

Test(log_action, rejects_empty_file_and_empty_lines)
{
    /* LOG-R4 */
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(tl_log_commit_parse("", 0, NULL, &c, &err), TL_ECORRUPT);
    assert_msg_has(&err, "empty file");
    reject(CI0 "\n", TL_ECORRUPT, "line 2", "found an empty line");
    reject("\n" CI0, TL_ECORRUPT, "line 1", "found an empty line");
    /* whitespace only is not an action either */
    reject(CI0 "   \n", TL_ECORRUPT, "line 2", "invalid JSON");
}

Test(log_action, rejects_duplicate_keys)
{
    /* LOG-R5: duplicate keys, at any depth, before anything is interpreted */
    reject("{\"commitInfo\":{\"inCommitTimestamp\":1,\"inCommitTimestamp\":2}}\n", TL_ECORRUPT,
           "line 1 (byte offset 0)", "duplicate object key");
    reject(CI0 "{\"txn\":{\"appId\":\"x\",\"version\":1}, \"txn\":{}}\n", TL_ECORRUPT,
           "line 2", "duplicate object key");
    reject(CI(1, 10, 0, 0) "{\"add\":{\"path\":\"a\",\"partitionValues\":{\"date\":null,"
           "\"date\":null},\"size\":1,\"numRecords\":10,\"modificationTime\":1,"
           "\"dataChange\":true}}\n",
           TL_ECORRUPT, "line 2", "duplicate object key");
}

Test(log_action, rejects_other_than_one_action_object_per_line)
{
    /* LOG-R5 */
    reject(CI0 "{\"txn\":{\"appId\":\"x\",\"version\":1},\"remove\":{}}\n", TL_ECORRUPT,
           "line 2", "expected exactly one action key", "found 2", "\"txn\", \"remove\"");
    reject(CI0 "{}\n", TL_ECORRUPT, "line 2", "found 0");
    reject(CI0 "[{\"txn\":{}}]\n", TL_ECORRUPT, "line 2", "expected a JSON object",
           "found an array");
    reject(CI0 "{\"txn\":[1]}\n", TL_ECORRUPT, "line 2", "txn: expected an object",
           "found an array");
    reject(CI0 "{\"cdc\":\"x\"}\n", TL_ECORRUPT, "line 2", "cdc: expected an object");
    reject(CI0 "{\"txn\":{\"appId\":\"x\",\"version\":1}} {}\n", TL_ECORRUPT, "line 2",
           "invalid JSON");
}

Test(log_action, rejects_nul_bytes)
{
    /* LOG-R5: raw NUL and the \u0000 escape */
    char text[512];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", CI0);
    memcpy(text + n, "{\"txn\":{\"appId\":\"a\0b\",\"version\":1}}\n", 37);
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(tl_log_commit_parse(text, n + 37, NULL, &c, &err), TL_ECORRUPT);
    assert_msg_has(&err, "line 2");
    assert_msg_has(&err, "NUL byte");
    char want[40];
    snprintf(want, sizeof want, "byte offset %zu", n + 18);
    assert_msg_has(&err, want);
    reject(CI0 "{\"txn\":{\"appId\":\"a\\u0000b\",\"version\":1}}\n", TL_ECORRUPT, "line 2",
           "\\u0000 is not allowed");
}

/* ---- reader limits (LOG-R7) ---------------------------------------------- */

Test(log_action, rejects_over_long_line_and_accepts_the_limit)
{
    char text[4096];
    snprintf(text, sizeof text, "%s{\"txn\":{\"appId\":\"%0200d\",\"version\":1}}\n", CI0, 7);
    size_t l2 = strlen(text) - strlen(CI0) - 1; /* line 2 without its LF */
    tl_log_parse_opts o;
    tl_log_parse_opts_default(&o);
    o.max_line_bytes = l2 - 1;
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(parse(text, &o, &c, &err), TL_EUNSUPPORTED);
    assert_msg_has(&err, "line 2 (byte offset");
    assert_msg_has(&err, "bytes per line");
    o.max_line_bytes = l2;
    cr_assert_eq(parse(text, &o, &c, &err), TL_OK, "%s", err.msg);
    tl_log_commit_free(&c);
    /* an over-long last line without LF is over-long, not truncated */
    text[strlen(text) - 1] = '\0';
    o.max_line_bytes = l2 - 1;
    cr_assert_eq(parse(text, &o, &c, &err), TL_EUNSUPPORTED);
}

Test(log_action, rejects_too_deep_nesting_before_jansson)
{
    /* An unknown action is skipped, but still bounded in depth. */
    char text[512];
    snprintf(text, sizeof text, "%s{\"cdc\":{\"a\":[[[[[[[[[[1]]]]]]]]]]}}\n", CI0);
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(parse(text, NULL, &c, &err), TL_EUNSUPPORTED);
    assert_msg_has(&err, "line 2");
    assert_msg_has(&err, "nesting of at most 10 levels");
    /* "{" at 0 and 7, the k-th "[" at 11 + k is level k + 2: level 11 at 20 */
    char want[40];
    snprintf(want, sizeof want, "at byte offset %zu", strlen(CI0) + 20);
    assert_msg_has(&err, want);
    /* Brackets inside strings do not count. */
    snprintf(text, sizeof text, "%s{\"cdc\":{\"a\":\"[[[[[[[[[[[[[[[[{{{{{{{{{{\\\"[[[[[[\"}}\n",
             CI0);
    cr_assert_eq(parse(text, NULL, &c, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(c.n_skipped, 1);
    tl_log_commit_free(&c);
    /* A hostile line of a million '[' is refused without recursion. */
    size_t n = 1000000, base = strlen(CI0);
    char *big = malloc(base + n + 2);
    memcpy(big, CI0, base);
    memset(big + base, '[', n);
    big[base + n] = '\n';
    cr_assert_eq(tl_log_commit_parse(big, base + n + 1, NULL, &c, &err), TL_EUNSUPPORTED);
    free(big);
}

Test(log_action, rejects_file_over_cap_and_too_many_actions)
{
    tl_log_parse_opts o;
    tl_log_parse_opts_default(&o);
    const char *text = CI0 TXN("a") TXN("b") TXN("c");
    o.max_file_bytes = strlen(text) - 1;
    o.name = "00000000000000000009.json";
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(parse(text, &o, &c, &err), TL_EUNSUPPORTED);
    assert_msg_has(&err, "00000000000000000009.json");
    assert_msg_has(&err, "limit for one commit file");
    o.max_file_bytes = strlen(text);
    cr_assert_eq(parse(text, &o, &c, &err), TL_OK, "%s", err.msg);
    tl_log_commit_free(&c);
    o.max_actions = 3;
    cr_assert_eq(parse(text, &o, &c, &err), TL_EUNSUPPORTED);
    assert_msg_has(&err, "line 4");
    assert_msg_has(&err, "at most 3 actions");
    o.max_actions = 4;
    cr_assert_eq(parse(text, &o, &c, &err), TL_OK, "%s", err.msg);
    tl_log_commit_free(&c);
}

Test(log_action, serialise_stays_within_the_reader_limits)
{
    /* LOG-R7: a line over 16 MiB is refused by the writer, not written */
    enum { N = 300, VLEN = 60000 };
    tl_log_kv *kv = malloc(N * sizeof *kv);
    char *val = malloc(VLEN + 1), *keys = malloc(N * 8);
    memset(val, 'v', VLEN);
    val[VLEN] = '\0';
    for (int i = 0; i < N; i++) {
        snprintf(keys + 8 * i, 8, "k%d", i);
        kv[i] = (tl_log_kv){keys + 8 * i, val};
    }
    tl_log_action a[6];
    build_full(a);
    a[0].u.ci.op_params = (tl_log_map){kv, N}; /* 18 MB */
    tl_error err;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "action 0 (commitInfo): expected at most 16777216 bytes per line");
    a[0].u.ci.op_params.n = N / 2; /* 9 MB: fine, and parses */
    size_t len;
    char *t = ser(a, 6, 5, &len);
    tl_log_commit c;
    parse_ok(t, 5, &c);
    cr_assert_eq(c.actions[0].u.ci.op_params.n, N / 2);
    tl_log_commit_free(&c);
    free(t);
    free(kv);
    free(val);
    free(keys);
}

/* ---- unknown actions and fields (LOG-R8) --------------------------------- */

Test(log_action, unknown_action_types_are_skipped_or_rejected_when_strict)
{
    const char *text = CI0 "{\"domainMetadata\":{\"domain\":\"x\",\"n\":[1,{\"y\":null}]}}\n"
                           TXN("a") "{\"sidecar\":{}}\n";
    tl_log_commit c;
    parse_ok(text, -1, &c);
    cr_assert_eq(c.n_actions, 2);
    cr_assert_eq(c.n_skipped, 2);
    cr_assert_eq(c.actions[1].kind, TL_LOG_TXN);
    cr_assert_eq(c.actions[1].line, 3);
    /* the skipped lines do not survive a re-serialisation */
    char *t = ser(c.actions, c.n_actions, -1, NULL);
    cr_assert_null(strstr(t, "domainMetadata"));
    free(t);
    tl_log_commit_free(&c);
    reject_strict(text, TL_ECORRUPT, "line 2", "unknown action type \"domainMetadata\"",
                  "strict");
    /* An action name differing only in case is unknown too. */
    reject_strict(CI0 "{\"TXN\":{}}\n", TL_ECORRUPT, "unknown action type \"TXN\"");
}

Test(log_action, unknown_fields_are_ignored_or_rejected_when_strict)
{
    const char *text = CI0 "{\"txn\":{\"appId\":\"a\",\"version\":1,\"future\":{\"x\":[1]}}}\n";
    tl_log_commit c;
    parse_ok(text, -1, &c);
    cr_assert_eq(c.n_actions, 2);
    tl_log_commit_free(&c);
    reject_strict(text, TL_ECORRUPT, "line 2", "txn: unknown field \"future\"");
    /* inside nested objects too */
    reject_strict(CI(1, 10, 0, 0)
                  "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"numRecords\":10,"
                  "\"modificationTime\":1,\"dataChange\":true,\"stats\":{\"columns\":{\"c\":"
                  "{\"type\":\"int8\",\"nullCount\":0,\"mean\":3}}}}}\n",
                  TL_ECORRUPT, "add.stats.columns[c]: unknown field \"mean\"");
    /* partition fields are a closed set even when not strict (LOG-R18) */
    reject(CI(1, 10, 0, 0) "{\"add\":{\"path\":\"a\",\"partitionValues\":{\"hour\":\"1\"},"
           "\"size\":1,\"numRecords\":10,\"modificationTime\":1,\"dataChange\":true}}\n",
           TL_ECORRUPT, "add.partitionValues", "\"symbol\" and \"date\"", "found \"hour\"");
}

/* ---- fields: required, typed, ranged (LOG-R9 .. LOG-R21) ---------------- */

static const char *const add_fields[] = {
    "\"path\":\"p/a.tls\"", "\"partitionValues\":{}", "\"size\":100", "\"numRecords\":10",
    "\"modificationTime\":1", "\"dataChange\":true"};
static const char *const add_names[] = {"path",       "partitionValues",  "size",
                                        "numRecords", "modificationTime", "dataChange"};

/* An add line with field `skip` left out, or replaced by `repl`. */
static void add_line(char *out, size_t cap, int skip, const char *repl)
{
    size_t o = (size_t)snprintf(out, cap, "%s{\"add\":{", CI(1, 10, 0, 0));
    int first = 1;
    for (int i = 0; i < 6; i++) {
        const char *f = i == skip ? repl : add_fields[i];
        if (!f)
            continue;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", first ? "" : ",", f);
        first = 0;
    }
    snprintf(out + o, cap - o, "}}\n");
}

Test(log_action, rejects_missing_required_fields)
{
    char text[1024], want[64];
    for (int i = 0; i < 6; i++) {
        add_line(text, sizeof text, i, NULL);
        snprintf(want, sizeof want, "add.%s: missing required field", add_names[i]);
        reject(text, TL_ECORRUPT, "line 2 (byte offset", want);
    }
    add_line(text, sizeof text, -1, NULL);
    tl_log_commit c;
    parse_ok(text, -1, &c);
    tl_log_commit_free(&c);
    /* commitInfo, txn, remove, protocol, metaData */
    reject("{\"commitInfo\":{\"operation\":\"A\"}}\n", TL_ECORRUPT,
           "commitInfo.inCommitTimestamp: missing required field");
    reject(CI0 "{\"txn\":{\"version\":1}}\n", TL_ECORRUPT, "txn.appId: missing");
    reject(CI0 "{\"remove\":{\"path\":\"a\",\"dataChange\":true}}\n", TL_ECORRUPT,
           "remove.deletionTimestamp: missing");
    reject(CI0 "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":1,"
           "\"readerFeatures\":[]}}\n",
           TL_ECORRUPT, "protocol.writerFeatures: missing");
    reject(CI0 "{\"metaData\":{\"id\":\"" TABLE_ID "\",\"createdTime\":1,\"schema\":[],"
           "\"partitionSpec\":{},\"sortKey\":[]}}\n",
           TL_ECORRUPT, "metaData.configuration: missing");
}

Test(log_action, rejects_wrong_json_types)
{
    char text[1024];
    static const struct {
        int field;
        const char *repl, *want;
    } cases[] = {
        {0, "\"path\":7", "add.path: expected a string, found the integer 7"},
        {1, "\"partitionValues\":[]", "add.partitionValues: expected an object"},
        {2, "\"size\":\"100\"", "add.size: expected an integer, found the string \"100\""},
        {2, "\"size\":100.0", "add.size: expected an integer, found the number 100"},
        {2, "\"size\":1e2", "add.size: expected an integer"},
        {3, "\"numRecords\":null", "add.numRecords: expected an integer, found null"},
        {5, "\"dataChange\":1", "add.dataChange: expected true or false, found the integer 1"},
        {5, "\"dataChange\":\"true\"", "add.dataChange: expected true or false"},
        {1, "\"partitionValues\":{\"date\":20410}", "add.partitionValues.date: expected null or "
                                                    "a date \"YYYY-MM-DD\""},
        {1, "\"partitionValues\":{\"symbol\":1}",
         "add.partitionValues.symbol: expected null or a string"},
        {2, "\"size\":99999999999999999999", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        add_line(text, sizeof text, cases[i].field, cases[i].repl);
        reject(text, TL_ECORRUPT, "line 2", cases[i].want);
    }
    reject(CI0 "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":1,"
           "\"readerFeatures\":[1],\"writerFeatures\":[]}}\n",
           TL_ECORRUPT, "protocol.readerFeatures[0]: expected a string");
    reject(CI0 "{\"txn\":{\"appId\":\"a\",\"version\":1,\"lastUpdated\":true}}\n", TL_ECORRUPT,
           "txn.lastUpdated: expected an integer, found true");
}

Test(log_action, rejects_negative_sizes_counts_and_times)
{
    /* LOG-R9 */
    char text[1024];
    add_line(text, sizeof text, 2, "\"size\":-1");
    reject(text, TL_ECORRUPT, "line 2", "add.size: expected an integer in [0, 2^63), found -1");
    add_line(text, sizeof text, 3, "\"numRecords\":-9223372036854775808");
    reject(text, TL_ECORRUPT, "add.numRecords", "found -9223372036854775808");
    add_line(text, sizeof text, 4, "\"modificationTime\":-5");
    reject(text, TL_ECORRUPT, "add.modificationTime", "found -5");
    reject(CI0 "{\"txn\":{\"appId\":\"a\",\"version\":-1}}\n", TL_ECORRUPT,
           "txn.version: expected an integer in [0, 2^63)");
    reject(CI0 "{\"remove\":{\"path\":\"a\",\"deletionTimestamp\":1,\"dataChange\":true,"
           "\"size\":-2}}\n",
           TL_ECORRUPT, "remove.size", "found -2");
    /* the largest value is fine */
    add_line(text, sizeof text, 2, "\"size\":9223372036854775807");
    tl_log_commit c;
    parse_ok(text, -1, &c);
    cr_assert_eq(c.actions[1].u.add.size_bytes, INT64_MAX);
    tl_log_commit_free(&c);
}

/* LOG-R11 */
static const char *const unsafe_paths[] = {
    "/abs",    "/",        "a/../b",      "..",     "./x",         "a/./b",
    "a//b",    "a/",       "a\\\\b",      "",       ".hidden",     "x/.tmp-1.tls",
    "_delta_log/00000000000000000001.json", "a\\u0001b", "a\\u007fb",
};
static const char *const unsafe_why[] = {
    "absolute",   "absolute",    "\"..\" component", "\"..\" component", "\".\" component",
    "\".\" component", "empty comp", "empty comp",  "backslash", "empty",
    "starting with '.'", "starting with '.'", "starting with '_'", "control character 0x01",
    "control character 0x7F",
};

Test(log_action, rejects_unsafe_paths)
{
    char text[1024], repl[400];
    for (size_t i = 0; i < sizeof unsafe_paths / sizeof unsafe_paths[0]; i++) {
        snprintf(repl, sizeof repl, "\"path\":\"%s\"", unsafe_paths[i]);
        add_line(text, sizeof text, 0, repl);
        reject(text, TL_ECORRUPT, "line 2", "add.path: expected a relative path inside the table",
               "LOG-R11", unsafe_why[i]);
        snprintf(text, sizeof text,
                 CI(0, 0, 1, 0) "{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":1,"
                                "\"dataChange\":true}}\n",
                 unsafe_paths[i]);
        reject(text, TL_ECORRUPT, "remove.path", unsafe_why[i]);
    }
    /* a component of 256 bytes, a path of 4096 bytes */
    char longc[300];
    memset(longc, 'c', 256);
    longc[256] = '\0';
    snprintf(repl, sizeof repl, "\"path\":\"d/%.256s\"", longc);
    add_line(text, sizeof text, 0, repl);
    reject(text, TL_ECORRUPT, "component of 256 bytes");
    longc[255] = '\0';
    snprintf(repl, sizeof repl, "\"path\":\"d/%.255s\"", longc);
    add_line(text, sizeof text, 0, repl);
    tl_log_commit c;
    parse_ok(text, -1, &c);
    tl_log_commit_free(&c);
    /* 4095 bytes pass, 4096 do not */
    char *big = malloc(8192), *lp = malloc(4200);
    for (size_t len = 4095; len <= 4096; len++) {
        for (size_t i = 0; i < len; i++)
            lp[i] = i % 200 == 199 ? '/' : 'a';
        lp[len] = '\0';
        snprintf(big, 8192, CI(1, 10, 0, 0) "{\"add\":{\"path\":\"%s\",\"partitionValues\":{},"
                                            "\"size\":1,\"numRecords\":10,\"modificationTime\":1,"
                                            "\"dataChange\":true}}\n", lp);
        if (len == 4095) {
            parse_ok(big, -1, &c);
            tl_log_commit_free(&c);
        } else
            reject(big, TL_ECORRUPT, "longer than 4095 bytes");
    }
    free(big);
    free(lp);
}

Test(log_action, serialise_refuses_unsafe_paths)
{
    static const char *const raw[] = {"/abs", "a/../b", "./x", "a//b", "a\\b", "", "a\x01"};
    tl_log_action a[6];
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        build_full(a);
        a[5].u.add.path = raw[i];
        tl_error err;
        cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL, "%s", raw[i]);
        assert_msg_has(&err, "00000000000000000005.json: action 5 (add): add.path");
        assert_msg_has(&err, "LOG-R11");
    }
    build_full(a);
    a[5].u.add.path = NULL;
    tl_error err;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "add.path: missing");
}

Test(log_action, rejects_bad_text_fields)
{
    /* LOG-R9 */
    reject(CI0 "{\"txn\":{\"appId\":\"\",\"version\":1}}\n", TL_ECORRUPT,
           "txn.appId: expected 1 to 1024 bytes, found 0 bytes");
    reject(CI0 "{\"txn\":{\"appId\":\"a\\nb\",\"version\":1}}\n", TL_ECORRUPT,
           "txn.appId: expected no control characters, found 0x0a at byte 1");
    reject(CI0 "{\"txn\":{\"appId\":\"a\xff\",\"version\":1}}\n", TL_ECORRUPT, "invalid JSON",
           "unable to decode byte 0xff");
    reject("{\"commitInfo\":{\"inCommitTimestamp\":1,\"operation\":\"A\","
           "\"operationParameters\":{\"k\":1},\"engineInfo\":\"e\",\"numAddedFiles\":0,"
           "\"numAddedRows\":0,\"numRemovedFiles\":0,\"numRemovedRows\":0}}\n",
           TL_ECORRUPT, "commitInfo.operationParameters[k]: expected a string");
    reject("{\"commitInfo\":{\"inCommitTimestamp\":1,\"operation\":\"A\","
           "\"operationParameters\":{},\"txnId\":\"ABC\",\"engineInfo\":\"e\","
           "\"numAddedFiles\":0,\"numAddedRows\":0,\"numRemovedFiles\":0,"
           "\"numRemovedRows\":0}}\n",
           TL_ECORRUPT, "commitInfo.txnId: expected a UUID");
    /* serialising invalid UTF-8 is refused, with the action index */
    tl_log_action a[6];
    build_full(a);
    a[3].u.txn.app_id = "bad\xc3";
    tl_error err;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err,
                   "action 3 (txn): txn.appId: expected UTF-8, found the byte 0xc3 at byte 3");
}

/* ---- per-commit rules (LOG-R10, LOG-R25 .. LOG-R27) ----------------------- */

Test(log_action, rejects_repeated_singleton_actions)
{
    /* LOG-R10 */
    reject(CI0 CI0, TL_ECORRUPT, "line 2", "at most one commitInfo", "first at line 1");
    tl_log_action a[7];
    build_full(a);
    a[6] = a[2];
    tl_error err;
    cr_assert_eq(ser_err(a, 7, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "action 6 (metaData): expected at most one metaData action");
    assert_msg_has(&err, "first at action 2");
}

Test(log_action, rejects_duplicate_paths_and_app_ids)
{
    /* LOG-R25 */
    reject(CI(2, 20, 0, 0) ADD("p/a") ADD("p/a"), TL_ECORRUPT, "line 3", "add.path",
           "expected distinct paths", "\"p/a\" (also at line 2 (byte offset");
    reject(CI(0, 0, 2, 0) RM("p/a") RM("p/a"), TL_ECORRUPT, "line 3", "remove.path");
    reject(CI(1, 10, 1, 0) RM("p/a") ADD("p/a"), TL_ECORRUPT, "line 3",
           "added or removed, not both");
    reject(CI0 TXN("x") TXN("y") TXN("x"), TL_ECORRUPT, "line 4", "txn.appId",
           "one txn per appId", "\"x\" (also at line 2 (byte offset");
}

Test(log_action, rejects_commit_info_counts_that_disagree)
{
    /* LOG-R26 */
    reject(CI(2, 10, 0, 0) ADD("a"), TL_ECORRUPT, "line 1", "commitInfo.numAddedFiles",
           "expected 1", "found 2");
    reject(CI(1, 11, 0, 0) ADD("a"), TL_ECORRUPT, "commitInfo.numAddedRows", "expected 10",
           "found 11");
    reject(CI(0, 0, 0, 0) RM("a"), TL_ECORRUPT, "commitInfo.numRemovedFiles");
    /* removed rows are checked when every remove carries numRecords */
    reject(CI(0, 0, 1, 0) "{\"remove\":{\"path\":\"a\",\"deletionTimestamp\":1,"
           "\"dataChange\":true,\"numRecords\":5}}\n",
           TL_ECORRUPT, "commitInfo.numRemovedRows", "expected 5");
    tl_log_commit c;
    parse_ok(CI(0, 0, 1, 7) RM("a"), -1, &c);
    tl_log_commit_free(&c);
    /* the sum of numRecords must fit */
    reject(CI(2, 0, 0, 0)
           "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"numRecords\":"
           "9223372036854775807,\"modificationTime\":1,\"dataChange\":true}}\n"
           "{\"add\":{\"path\":\"b\",\"partitionValues\":{},\"size\":1,\"numRecords\":1,"
           "\"modificationTime\":1,\"dataChange\":true}}\n",
           TL_ECORRUPT, "line 3", "below 2^63");
}

Test(log_action, version_rules)
{
    /* LOG-R27 */
    reject_ver(CI0, 0, TL_ECORRUPT, "00000000000000000000.json",
               "expected protocol and metaData in version 0", "found neither");
    tl_log_action a[6];
    build_full(a);
    tl_error err;
    cr_assert_eq(ser_err(a, 6, 0, &err), TL_EINVAL);
    assert_msg_has(&err, "commitInfo.readVersion: expected none in version 0");
    a[0].u.ci.has_read_version = 0;
    cr_assert_eq(ser_err(a, 6, 0, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ser_err(a, 6, 3, &err), TL_EINVAL);
    assert_msg_has(&err, "commitInfo.readVersion: missing");
    a[0].u.ci.has_read_version = 1;
    a[0].u.ci.read_version = 3;
    cr_assert_eq(ser_err(a, 6, 3, &err), TL_EINVAL);
    assert_msg_has(&err, "expected a version below 3");
    cr_assert_eq(ser_err(a, 6, 4, &err), TL_OK, "%s", err.msg);
    /* unknown version (-1): not checked */
    cr_assert_eq(ser_err(a, 6, -1, &err), TL_OK, "%s", err.msg);
    a[1] = a[0];
    cr_assert_eq(ser_err(a + 1, 5, 0, &err), TL_EINVAL);
    assert_msg_has(&err, "found no protocol");
}

/* ---- metaData (LOG-R14 .. LOG-R17) --------------------------------------- */

Test(log_action, rejects_bad_metadata)
{
    tl_log_action a[6];
    tl_error err;
    build_full(a);
    a[2].u.meta.id = "0F1E2D3C-4B5A-4697-8877-665544332211";
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "action 2 (metaData): metaData.id: expected a UUID");

    static tl_log_field dup[3] = {{"a", TL_INT8, 0}, {"b", TL_INT8, 0}, {"a", TL_INT16, 0}};
    build_full(a);
    a[2].u.meta.fields = dup;
    a[2].u.meta.n_fields = 3;
    a[2].u.meta.part_symbol_col = a[2].u.meta.part_day_col = NULL;
    a[2].u.meta.sort_key.n = 0;
    a[5].u.add.part = (tl_log_pvals){0};
    a[5].u.add.has_stats = 0;
    a[4].u.rm.has_part = 0;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "metaData.schema: expected distinct column names, found \"a\" twice");
    dup[2].name = "c";
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_OK, "%s", err.msg);
    a[2].u.meta.n_fields = 0;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "metaData.schema: expected 1 to 4096 columns, found 0");

    build_full(a);
    a[2].u.meta.part_symbol_col = "expiry";
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "metaData.partitionSpec.symbolColumn: expected the name of a string "
                         "column, found \"expiry\" (date)");
    build_full(a);
    a[2].u.meta.part_day_col = "nope";
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "dayColumn: expected the name of a timestamp column, found \"nope\" "
                         "(no such column)");
    build_full(a);
    static const char *const bad_key[] = {"expiry", "strike", "expiry"};
    a[2].u.meta.sort_key = (tl_log_strs){bad_key, 3};
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "metaData.sortKey: expected distinct columns, found \"expiry\" twice");
    static const char *const bad_key2[] = {"Expiry"};
    a[2].u.meta.sort_key = (tl_log_strs){bad_key2, 1};
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "metaData.sortKey[0]: expected the name of a column, found \"Expiry\"");

    /* the same rules when reading */
    reject(CI0 "{\"metaData\":{\"id\":\"" TABLE_ID "\",\"createdTime\":1,\"schema\":"
           "[{\"name\":\"t\",\"type\":\"timestamp_ns\",\"nullable\":false}],"
           "\"partitionSpec\":{},\"sortKey\":[],\"configuration\":{}}}\n",
           TL_ECORRUPT, "line 2", "metaData.schema[0].type: expected a type name",
           "found the string \"timestamp_ns\"");
    reject(CI0 "{\"metaData\":{\"id\":\"" TABLE_ID "\",\"createdTime\":1,\"schema\":"
           "[{\"name\":\"t\",\"type\":\"timestamp\",\"nullable\":0}],"
           "\"partitionSpec\":{},\"sortKey\":[],\"configuration\":{}}}\n",
           TL_ECORRUPT, "metaData.schema[0].nullable: expected true or false");
}

Test(log_action, configuration_values_and_defaults)
{
    /* LOG-R17 */
    tl_log_action a[6];
    build_full(a);
    int64_t x = 0;
    tl_error err;
    cr_assert_eq(tl_log_config_int(&a[2].u.meta, TL_LOG_CONF_CHECKPOINT_INTERVAL, &x, &err), TL_OK);
    cr_assert_eq(x, 100);
    cr_assert_eq(tl_log_config_int(&a[2].u.meta, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, &x,
                                   &err), TL_OK);
    cr_assert_eq(x, TL_LOG_DEFAULT_DELETED_FILE_RETENTION_HOURS);
    cr_assert_eq(tl_log_config_int(&a[2].u.meta, "user.note", &x, &err), TL_EINVAL);
    assert_msg_has(&err, "unknown table configuration key \"user.note\"");

    static const char *const bad[] = {"0", "0100", "-1", "1000001", "", "1e3", " 5", "12x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tl_log_kv kv[1] = {{TL_LOG_CONF_CHECKPOINT_INTERVAL, bad[i]}};
        build_full(a);
        a[2].u.meta.config = (tl_log_map){kv, 1};
        cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL, "%s", bad[i]);
        assert_msg_has(&err, "metaData.configuration[ticklake.checkpointInterval]: expected a "
                             "decimal integer in [1, 1000000]");
    }
    tl_log_kv kv[2] = {{TL_LOG_CONF_LOG_RETENTION_HOURS, "0"}, {"x", "y"}};
    build_full(a);
    a[2].u.meta.config = (tl_log_map){kv, 2};
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_log_config_int(&a[2].u.meta, TL_LOG_CONF_LOG_RETENTION_HOURS, &x, &err), TL_OK);
    cr_assert_eq(x, 0);
    kv[1].key = TL_LOG_CONF_LOG_RETENTION_HOURS;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "metaData.configuration: expected distinct keys");
}

/* ---- partition values (LOG-R18, LOG-R28) ----------------------------------- */

Test(log_action, rejects_bad_partition_values)
{
    char text[1024];
    static const char *const bad_dates[] = {"2025-02-29", "2024-02-30", "2025-13-01",
                                            "2025-1-01",  "20251118",   "2025-11-18T00:00",
                                            "+025-11-18", "2025-00-10", "2025-11-00"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
        char repl[96];
        snprintf(repl, sizeof repl, "\"partitionValues\":{\"date\":\"%s\"}", bad_dates[i]);
        add_line(text, sizeof text, 1, repl);
        reject(text, TL_ECORRUPT, "add.partitionValues.date: expected null or a date");
    }
    /* leap day, and the limits of int64 nanoseconds */
    add_line(text, sizeof text, 1, "\"partitionValues\":{\"date\":\"2024-02-29\"}");
    tl_log_commit c;
    parse_ok(text, -1, &c);
    tl_log_commit_free(&c);
    add_line(text, sizeof text, 1, "\"partitionValues\":{\"date\":\"1677-09-20\"}");
    reject(text, TL_ECORRUPT, "add.partitionValues.date: expected a day in [-106752, 106751]");
    add_line(text, sizeof text, 1, "\"partitionValues\":{\"date\":\"2262-04-12\"}");
    reject(text, TL_ECORRUPT, "found day 106752");
    add_line(text, sizeof text, 1, "\"partitionValues\":{\"symbol\":null,\"date\":null}");
    parse_ok(text, -1, &c);
    cr_assert(c.actions[1].u.add.part.symbol_null && c.actions[1].u.add.part.date_null);
    tl_log_commit_free(&c);

    /* against the metaData of the same commit */
    tl_log_action a[6];
    tl_error err;
    build_full(a);
    a[5].u.add.part.has_date = 0;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "action 5 (add): add.partitionValues: expected the fields of the "
                         "partition spec (symbol, date), found (symbol)");
    build_full(a);
    a[5].u.add.part.symbol_null = 1;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "expected a symbol, found null (column \"symbol\" is not nullable)");
    build_full(a);
    a[4].u.rm.part.has_symbol = 0;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "action 4 (remove): remove.partitionValues");
    build_full(a);
    char sym[TL_LOG_MAX_SYMBOL + 2];
    memset(sym, 'S', sizeof sym - 1);
    sym[sizeof sym - 1] = '\0';
    a[5].u.add.part.symbol = sym;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "add.partitionValues.symbol: expected 0 to 1024 bytes, found 1025");
    sym[TL_LOG_MAX_SYMBOL] = '\0';
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_OK, "%s", err.msg);
}

/* ---- stats (LOG-R22 .. LOG-R24) ------------------------------------------ */

#define STATS_ADD(cols)                                                                       \
    CI(1, 10, 0, 0) "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,"            \
                    "\"numRecords\":10,\"modificationTime\":1,\"dataChange\":true,"          \
                    "\"stats\":{\"columns\":{" cols "}}}}\n"

Test(log_action, stats_bounds_are_typed)
{
    tl_log_commit c;
    /* integers accepted for floats within +-2^53, exactly */
    parse_ok(STATS_ADD("\"p\":{\"type\":\"float64\",\"nullCount\":0,\"min\":-9007199254740992,"
                       "\"max\":3}"),
             -1, &c);
    cr_assert(c.actions[1].u.add.stats.cols[0].min.f == -9007199254740992.0);
    tl_log_commit_free(&c);
    reject(STATS_ADD("\"p\":{\"type\":\"float64\",\"nullCount\":0,\"min\":9007199254740993,"
                     "\"max\":9007199254740993}"),
           TL_ECORRUPT, "add.stats.columns[p].min: expected a number (integers only within "
                        "+-2^53)");
    reject(STATS_ADD("\"p\":{\"type\":\"float64\",\"nullCount\":0,\"min\":\"NaN\",\"max\":1.5}"),
           TL_ECORRUPT, "add.stats.columns[p].min", "NaN is never a bound");
    reject(STATS_ADD("\"p\":{\"type\":\"float64\",\"nullCount\":0,\"min\":\"inf\",\"max\":1.5}"),
           TL_ECORRUPT, "found the string \"inf\"");
    reject(STATS_ADD("\"p\":{\"type\":\"float32\",\"nullCount\":0,\"min\":0.1,\"max\":1}"),
           TL_ECORRUPT, "add.stats.columns[p].min: expected a float32 value");
    reject(STATS_ADD("\"i\":{\"type\":\"int8\",\"nullCount\":0,\"min\":-129,\"max\":1}"),
           TL_ECORRUPT, "add.stats.columns[i].min: expected a int8 in [-128, 127], found -129");
    reject(STATS_ADD("\"i\":{\"type\":\"uint32\",\"nullCount\":0,\"min\":0,\"max\":4294967296}"),
           TL_ECORRUPT, "columns[i].max: expected a uint32 in [0, 4294967295]");
    reject(STATS_ADD("\"i\":{\"type\":\"uint8\",\"nullCount\":0,\"min\":-1,\"max\":1}"),
           TL_ECORRUPT, "columns[i].min: expected an integer >= 0, found the integer -1");
    /* uint64: a decimal string only at and above 2^63 */
    parse_ok(STATS_ADD("\"u\":{\"type\":\"uint64\",\"nullCount\":0,\"min\":\"9223372036854775808\","
                       "\"max\":\"18446744073709551615\"}"),
             -1, &c);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].min.u, UINT64_C(9223372036854775808));
    tl_log_commit_free(&c);
    reject(STATS_ADD("\"u\":{\"type\":\"uint64\",\"nullCount\":0,\"min\":\"5\",\"max\":7}"),
           TL_ECORRUPT, "columns[u].min: expected an integer >= 0, or a decimal string");
    reject(STATS_ADD("\"u\":{\"type\":\"uint64\",\"nullCount\":0,\"min\":0,"
                     "\"max\":\"18446744073709551616\"}"),
           TL_ECORRUPT, "columns[u].max");
    reject(STATS_ADD("\"b\":{\"type\":\"bool\",\"nullCount\":0,\"min\":0,\"max\":1}"),
           TL_ECORRUPT, "columns[b].min: expected true or false");
    reject(STATS_ADD("\"d\":{\"type\":\"date\",\"nullCount\":0,\"min\":\"2025-11-18\","
                     "\"max\":1}"),
           TL_ECORRUPT, "columns[d].min: expected an integer");
    /* strings: plain or hex, at most 64 bytes */
    parse_ok(STATS_ADD("\"s\":{\"type\":\"string\",\"nullCount\":0,\"min\":{\"hex\":\"00ff\"},"
                       "\"max\":{\"hex\":\"41\"}}"),
             -1, &c);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].min.s.len, 2);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].min.s.p[1], 0xFF);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].max.s.p[0], 'A');
    tl_log_commit_free(&c);
    reject(STATS_ADD("\"s\":{\"type\":\"string\",\"nullCount\":0,\"min\":{\"hex\":\"0F\"}}"),
           TL_ECORRUPT, "columns[s].min: expected a string of at most 64 bytes, or {\"hex\"");
    reject(STATS_ADD("\"s\":{\"type\":\"string\",\"nullCount\":0,\"min\":{\"hex\":\"abc\"}}"),
           TL_ECORRUPT, "columns[s].min");
    reject(STATS_ADD("\"s\":{\"type\":\"string\",\"nullCount\":0,\"min\":\"0123456789012345678901"
                     "2345678901234567890123456789012345678901234\"}"),
           TL_ECORRUPT, "columns[s].min: expected at most 64 bytes");
    reject(STATS_ADD("\"s\":{\"type\":\"strin\",\"nullCount\":0}"), TL_ECORRUPT,
           "columns[s].type: expected a type name");
}

Test(log_action, stats_must_be_consistent)
{
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":0,\"min\":5,\"max\":4}"),
           TL_ECORRUPT, "add.stats.columns[i]: expected min <= max");
    reject(STATS_ADD("\"f\":{\"type\":\"float64\",\"nullCount\":0,\"min\":0.0,\"max\":-0.0}"),
           TL_ECORRUPT, "columns[f]: expected min <= max");
    reject(STATS_ADD("\"s\":{\"type\":\"string\",\"nullCount\":0,\"min\":\"ab\",\"max\":\"a\"}"),
           TL_ECORRUPT, "columns[s]: expected min <= max");
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":11}"), TL_ECORRUPT,
           "columns[i].nullCount: expected an integer in [0, numRecords = 10], found 11");
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":10,\"min\":1,\"max\":1}"),
           TL_ECORRUPT, "columns[i]: expected no min, max or hasNaN: every value is null");
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":0,\"max\":1}"), TL_ECORRUPT,
           "expected min with max");
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":0,\"min\":1}"), TL_ECORRUPT,
           "expected max with min (only a string max may be absent)");
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":0,\"hasNaN\":true}"), TL_ECORRUPT,
           "expected hasNaN only on float columns, found it on int32");
    reject(STATS_ADD("\"i\":{\"type\":\"int32\",\"nullCount\":0,\"min\":1,\"max\":2,"
                     "\"maxTruncated\":true}"),
           TL_ECORRUPT, "minTruncated/maxTruncated only on string columns");
    reject(STATS_ADD("\"s\":{\"type\":\"string\",\"nullCount\":0,\"maxTruncated\":true}"),
           TL_ECORRUPT, "expected a truncated bound to be present");
    reject(CI(1, 10, 0, 0) "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,"
           "\"numRecords\":10,\"modificationTime\":1,\"dataChange\":true,"
           "\"stats\":{\"firstTimestamp\":5,\"columns\":{}}}}\n",
           TL_ECORRUPT, "add.stats.lastTimestamp: missing");
    reject(CI(1, 10, 0, 0) "{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,"
           "\"numRecords\":10,\"modificationTime\":1,\"dataChange\":true,"
           "\"stats\":{\"firstTimestamp\":5,\"lastTimestamp\":4,\"columns\":{}}}}\n",
           TL_ECORRUPT, "add.stats.firstTimestamp: expected at most lastTimestamp 4, found 5");
    /* a NaN-only float column: no bounds, hasNaN */
    tl_log_commit c;
    parse_ok(STATS_ADD("\"f\":{\"type\":\"float32\",\"nullCount\":3,\"hasNaN\":true}"), -1, &c);
    tl_log_commit_free(&c);

    /* against the schema in the same commit (LOG-R28) */
    tl_log_action a[6];
    tl_error err;
    build_full(a);
    full_stats[6].type = TL_INT32;
    full_stats[6].min.i = 0;
    full_stats[6].max.i = 1;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "add.stats.columns[volume]: expected type int64 (the schema's), found "
                         "int32");
    build_full(a);
    full_stats[3].name = "no_such";
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "add.stats.columns[no_such]: expected a column of the schema");
    build_full(a);
    full_stats[3].name = "symbol";
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "add.stats.columns: expected distinct column names, found \"symbol\"");
    build_full(a);
    a[2].u.meta.part_day_col = NULL;
    a[4].u.rm.part.has_date = 0;
    a[5].u.add.part.has_date = 0;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "expected no time range: the table has no day partition column");
}

/* ---- protocol (LOG-R13, LOG-R30 .. LOG-R32) ------------------------------- */

#define PROTO(r, w, rf, wf)                                                                   \
    "{\"protocol\":{\"minReaderVersion\":" #r ",\"minWriterVersion\":" #w                     \
    ",\"readerFeatures\":[" rf "],\"writerFeatures\":[" wf "]}}\n"

Test(log_action, readers_reject_unsupported_protocols)
{
    reject(CI0 PROTO(2, 2, , ), TL_EVERSION, "line 2 (byte offset",
           "expected minReaderVersion <= 1", "found 2");
    reject(CI0 PROTO(1, 1, "\"deletionVectors\"", ), TL_EUNSUPPORTED, "line 2",
           "readerFeatures lists \"deletionVectors\"");
    /* a protocol error wins over what later lines might not parse */
    reject(CI0 PROTO(3, 7, , ) "{\"add\":{\"futureShape\":1}}\n", TL_EVERSION, "line 2");
    /* writer-only requirements do not stop readers */
    tl_log_commit c;
    parse_ok(CI0 PROTO(1, 9, , "\"identityColumns\""), -1, &c);
    tl_error err;
    cr_assert_eq(tl_log_protocol_check_read(&c.actions[1].u.proto, &err), TL_OK);
    cr_assert_eq(tl_log_protocol_check_write(&c.actions[1].u.proto, &err), TL_EVERSION);
    assert_msg_has(&err, "minWriterVersion <= 1");
    tl_log_commit_free(&c);
    parse_ok(CI0 PROTO(1, 1, , "\"identityColumns\""), -1, &c);
    cr_assert_eq(tl_log_protocol_check_write(&c.actions[1].u.proto, &err), TL_EUNSUPPORTED);
    assert_msg_has(&err, "writerFeatures lists \"identityColumns\"");
    tl_log_commit_free(&c);
    /* tools that only list history can read on */
    tl_log_parse_opts o;
    tl_log_parse_opts_default(&o);
    o.no_protocol_check = 1;
    const char *t = CI0 PROTO(2, 2, "\"x\"", );
    cr_assert_eq(parse(t, &o, &c, &err), TL_OK, "%s", err.msg);
    tl_log_commit_free(&c);
    /* malformed protocol fields are corrupt, not a version problem */
    reject(CI0 PROTO(0, 1, , ), TL_ECORRUPT, "protocol.minReaderVersion: expected an integer in "
                                             "[1, 2^31), found 0");
    reject(CI0 PROTO(1, 1, "\"a b\"", ), TL_ECORRUPT, "protocol.readerFeatures[0]: expected a "
                                                      "feature name");
    reject(CI0 PROTO(1, 1, "\"x\",\"x\"", ), TL_ECORRUPT, "expected distinct features");
}

/* ---- names, ids ------------------------------------------------------------ */

Test(log_action, commit_file_names)
{
    /* LOG-R2 */
    char n[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(0, n);
    cr_assert_str_eq(n, "00000000000000000000.json");
    tl_log_commit_name(INT64_MAX, n);
    cr_assert_str_eq(n, "09223372036854775807.json");
    int64_t v = -1;
    cr_assert_eq(tl_log_commit_version("00000000000000000042.json", &v), TL_OK);
    cr_assert_eq(v, 42);
    cr_assert_eq(tl_log_commit_version("09223372036854775807.json", &v), TL_OK);
    cr_assert_eq(v, INT64_MAX);
    static const char *const bad[] = {
        "09223372036854775808.json", "99999999999999999999.json", "0000000000000000042.json",
        "000000000000000000042.json", "00000000000000000042.JSON", "00000000000000000042.json.tmp",
        "0000000000000000004a.json", "-0000000000000000042.json", "00000000000000000042.checkpoint",
        "_last_checkpoint", "", NULL};
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(tl_log_commit_version(bad[i], &v), TL_EINVAL, "%s", bad[i]);
    cr_assert_eq(tl_log_commit_version(NULL, &v), TL_EINVAL);
}

Test(log_action, uuid4_format)
{
    char a[37], b[37];
    cr_assert_eq(tl_log_uuid4(a, NULL), TL_OK);
    cr_assert_eq(tl_log_uuid4(b, NULL), TL_OK);
    cr_assert_eq(strlen(a), 36);
    cr_assert_str_neq(a, b);
    cr_assert_eq(a[14], '4');
    cr_assert(strchr("89ab", a[19]) != NULL);
    /* usable as a table id */
    tl_log_action x[6];
    build_full(x);
    x[2].u.meta.id = a;
    x[0].u.ci.txn_id = b;
    tl_error err;
    cr_assert_eq(ser_err(x, 6, 5, &err), TL_OK, "%s", err.msg);
}

Test(log_action, kind_names)
{
    cr_assert_str_eq(tl_log_kind_name(TL_LOG_COMMIT_INFO), "commitInfo");
    cr_assert_str_eq(tl_log_kind_name(TL_LOG_METADATA), "metaData");
    cr_assert_str_eq(tl_log_kind_name(TL_LOG_ADD), "add");
    cr_assert_str_eq(tl_log_kind_name(0), "?");
    cr_assert_str_eq(tl_log_kind_name(7), "?");
    tl_log_action a[6];
    build_full(a);
    a[3].kind = (tl_log_kind)9;
    tl_error err;
    cr_assert_eq(ser_err(a, 6, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "action 3 (?): expected an action kind 1..6, found 9");
    cr_assert_eq(ser_err(a, 0, 5, &err), TL_EINVAL);
    assert_msg_has(&err, "expected at least one action");
}

/* ---- the fuzz seeds stay what their names say ---------------------------- */

Test(log_action, fuzz_seed_corpus_parses_as_named)
{
    const char *dir = TL_SOURCE_DIR "/tests/fuzz/corpus/fuzz_log_action";
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s", dir);
    struct dirent *e;
    int n_ok = 0, n_bad = 0;
    while ((e = readdir(d)) != NULL) {
        int ok = strncmp(e->d_name, "ok_", 3) == 0, bad = strncmp(e->d_name, "bad_", 4) == 0;
        if (!ok && !bad)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f);
        static char buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        tl_log_commit c;
        tl_error err = {0};
        int rc = tl_log_commit_parse(buf, len, NULL, &c, &err);
        if (ok) {
            cr_assert_eq(rc, TL_OK, "%s: %s", e->d_name, err.msg);
            n_ok++;
        } else {
            cr_assert_neq(rc, TL_OK, "%s parsed", e->d_name);
            cr_assert_neq(err.msg[0], '\0');
            n_bad++;
        }
        tl_log_commit_free(&c);
    }
    closedir(d);
    cr_assert_geq(n_ok, 4);
    cr_assert_geq(n_bad, 2);
}

/* timestamp_us: a schema type name; its stats bounds are int64
 * microseconds (far years included); it is no day partition column. */
Test(log_action, timestamp_us_schema_and_bounds)
{
    tl_log_commit c;
    parse_ok(CI0 "{\"metaData\":{\"id\":\"" TABLE_ID "\",\"createdTime\":1,\"schema\":"
             "[{\"name\":\"t\",\"type\":\"timestamp_us\",\"nullable\":true}],"
             "\"partitionSpec\":{},\"sortKey\":[\"t\"],\"configuration\":{}}}\n",
             -1, &c);
    cr_assert_eq(c.actions[1].u.meta.fields[0].type, TL_TIMESTAMP_US);
    tl_log_commit_free(&c);
    parse_ok(STATS_ADD("\"t\":{\"type\":\"timestamp_us\",\"nullCount\":1,"
                       "\"min\":-9223372036854775808,\"max\":9089380393200000000}"),
             -1, &c);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].type, TL_TIMESTAMP_US);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].min.i, INT64_MIN);
    cr_assert_eq(c.actions[1].u.add.stats.cols[0].max.i, INT64_C(9089380393200000000));
    tl_log_commit_free(&c);
    reject(STATS_ADD("\"t\":{\"type\":\"timestamp_us\",\"nullCount\":0,\"min\":\"2024-01-01\","
                     "\"max\":1}"),
           TL_ECORRUPT, "columns[t].min: expected an integer");
    reject(CI0 "{\"metaData\":{\"id\":\"" TABLE_ID "\",\"createdTime\":1,\"schema\":"
           "[{\"name\":\"t\",\"type\":\"timestamp_us\",\"nullable\":false}],"
           "\"partitionSpec\":{\"dayColumn\":\"t\"},\"sortKey\":[],\"configuration\":{}}}\n",
           TL_ECORRUPT, "dayColumn: expected the name of a timestamp column, found \"t\" "
                        "(timestamp_us)");
}

/* ---- allocation-failure sweep (tests/format/oom_sweep.h; DECODERS.md) ---------- */

#include "../format/oom_sweep.h"

/* jansson through the engine's counting allocators in every run (once and
 * sticky): since 12df2de they never hand jansson a failure followed by a
 * success (its 2.14 lexer crash, oom_sweep.h); TL_DEC_OOM_JSON_EXEMPT=1
 * keeps jansson on the real malloc in the once runs as before */
static void json_mode(int sticky)
{
    if (!sticky && getenv("TL_DEC_OOM_JSON_EXEMPT"))
        oom_sweep_json_exempt();
    else
        tl_json_alloc_install();
}

typedef struct la_in {
    const char *buf;
    size_t len;
    const char *name;
} la_in;

/* Parse (tl_log_commit_parse itself: its JSON goes through tl_json_loadb) and serialise
 * back: the digest is the canonical text. */
static int la_op(void *ctx, uint64_t *digest, tl_error *err)
{
    const la_in *in = ctx;
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.name = in->name;
    tl_log_commit c;
    int rc = tl_log_commit_parse(in->buf, in->len, &po, &c, err);
    if (rc)
        return rc;
    char *out = NULL;
    size_t cap = 0, len = 0;
    rc = tl_log_commit_serialize(c.actions, c.n_actions, -1, &out, &cap, &len, err);
    if (rc) /* the serialiser writes a new commit: it knows no file name */
        tl_error_prefix(err, "%s: serialise: ", in->name);
    else {
        *digest = fnv(*digest, out, len);
        *digest = fnv(*digest, &c.n_skipped, sizeof c.n_skipped);
    }
    free(out);
    tl_log_commit_free(&c);
    return rc;
}

static char *la_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char tmp[1 << 16];
    *len = fread(tmp, 1, sizeof tmp, f);
    fclose(f);
    char *b = malloc(*len + 1);
    cr_assert_not_null(b);
    memcpy(b, tmp, *len);
    return b;
}

/* A checkpoint-sized line set: protocol, metaData and n adds with stats. */
static char *la_big_commit(int n, size_t *len)
{
    size_t cap = (size_t)n * 1200 + 4096, at = 0;
    char *b = malloc(cap);
    cr_assert_not_null(b);
    at += (size_t)snprintf(b + at, cap - at,
        "{\"commitInfo\":{\"inCommitTimestamp\":1763351000000,\"operation\":\"WRITE\","
        "\"operationParameters\":{\"mode\":\"overwrite\"},\"engineInfo\":\"ticklake/0.1.0\","
        "\"numAddedFiles\":%d,\"numAddedRows\":%d,\"numRemovedFiles\":0,\"numRemovedRows\":0}}\n"
        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":1,\"readerFeatures\":[],"
        "\"writerFeatures\":[]}}\n"
        "{\"metaData\":{\"id\":\"0f1e2d3c-4b5a-4697-8877-665544332211\",\"name\":\"ticks\","
        "\"createdTime\":1763351000000,\"schema\":[{\"name\":\"timestamp\",\"type\":\"timestamp\","
        "\"nullable\":false},{\"name\":\"symbol\",\"type\":\"string\",\"nullable\":false},"
        "{\"name\":\"price\",\"type\":\"float64\",\"nullable\":true},{\"name\":\"qty\","
        "\"type\":\"int32\",\"nullable\":false}],\"partitionSpec\":{\"symbolColumn\":\"symbol\","
        "\"dayColumn\":\"timestamp\"},\"sortKey\":[\"timestamp\"],\"configuration\":"
        "{\"ticklake.checkpointInterval\":\"100\"}}}\n",
        n, n * 1000);
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(b + at, cap - at,
            "{\"add\":{\"path\":\"symbol=S%d/date=2025-11-%02d/%04d-6f1c2b.tls\","
            "\"partitionValues\":{\"symbol\":\"S%d\",\"date\":\"2025-11-%02d\"},\"size\":%d,"
            "\"numRecords\":1000,\"modificationTime\":1763351099000,\"dataChange\":true,"
            "\"stats\":{\"firstTimestamp\":1763437500000000000,\"lastTimestamp\":"
            "1763459999999000000,\"columns\":{\"timestamp\":{\"type\":\"timestamp\","
            "\"nullCount\":0,\"min\":1763437500000000000,\"max\":1763459999999000000},"
            "\"symbol\":{\"type\":\"string\",\"nullCount\":0,\"min\":\"S%d\",\"max\":\"S%d\"},"
            "\"price\":{\"type\":\"float64\",\"nullCount\":%d,\"min\":0.05,\"max\":3012.45},"
            "\"qty\":{\"type\":\"int32\",\"nullCount\":0,\"min\":25,\"max\":1800}}}}}\n",
            i % 7, 1 + i % 28, i, i % 7, 1 + i % 28, 80000 + i, i % 7, i % 7, i % 3);
    *len = at;
    return b;
}

Test(log_action, allocation_failure_sweep)
{
    oom_sweep_after_arm = json_mode;
    sweep_stats st = {0};
    static const char *const files[] = {"ok_append.json", "ok_compact.json", "ok_create.json",
                                        "ok_special.json", "ok_unknown_action.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_log_action/%s", TL_SOURCE_DIR,
                 files[i]);
        la_in in = {0};
        char *buf = la_slurp(path, &in.len);
        in.buf = buf;
        in.name = files[i];
        sweep(files[i], la_op, &in, files[i], &st);
        free(buf);
    }
    la_in in = {0};
    char *big = la_big_commit(getenv("TL_DEC_OOM_FULL") ? 200 : 12, &in.len);
    in.buf = big;
    in.name = "big.json";
    sweep("big commit", la_op, &in, "big.json", &st);
    free(big);
    oom_sweep_after_arm = NULL;
    tl_json_alloc_install();
    report("log_action parse+serialise (5 corpus commits + 1 checkpoint-like)", &st);
}

/* ---- one-field mutations of valid commits (tests/format/json_mut.h) ----------- */

#include "../format/json_mut.h"

typedef struct lm_ctx {
    const char *name;
    long refused, accepted;
} lm_ctx;

/* Every mutated commit parses or is refused with a known code and a
 * message naming the commit and the line; one that parses serialises to a
 * commit that parses to the same actions (the strict parser is checked
 * too: it may only refuse more). */
static void lm_check(const char *buf, size_t len, int line, int target, int variant, void *vctx)
{
    lm_ctx *x = vctx;
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.name = x->name;
    tl_log_commit c;
    tl_error err = {0};
    int rc = tl_log_commit_parse(buf, len, &po, &c, &err);
    po.strict = 1;
    tl_log_commit cs;
    tl_error es = {0};
    int rcs = tl_log_commit_parse(buf, len, &po, &cs, &es);
    tl_log_commit_free(&cs);
    cr_assert(rc == TL_OK || rcs != TL_OK, "%s line %d value %d variant %d: strict accepts what "
              "the default refuses", x->name, line, target, variant);
    if (rc != TL_OK) {
        cr_assert(rc == TL_ECORRUPT || rc == TL_EUNSUPPORTED || rc == TL_EVERSION,
                  "%s line %d value %d variant %d: rc %d: %s", x->name, line, target, variant, rc,
                  err.msg);
        cr_assert(strncmp(err.msg, x->name, strlen(x->name)) == 0 && strstr(err.msg, "line "),
                  "%s line %d value %d variant %d: message does not place it: %s", x->name, line,
                  target, variant, err.msg);
        cr_assert_null(c.actions);
        x->refused++;
        return;
    }
    x->accepted++;
    char *out = NULL;
    size_t cap = 0, olen = 0;
    rc = tl_log_commit_serialize(c.actions, c.n_actions, -1, &out, &cap, &olen, &err);
    if (rc == TL_OK) {
        tl_log_commit c2;
        rc = tl_log_commit_parse(out, olen, NULL, &c2, &err);
        cr_assert_eq(rc, TL_OK, "%s line %d value %d variant %d: the serialised commit does "
                     "not parse: %s", x->name, line, target, variant, err.msg);
        cr_assert_eq(c2.n_actions, c.n_actions);
        for (uint32_t i = 0; i < c.n_actions; i++)
            cr_assert(tl_log_action_equal(&c.actions[i], &c2.actions[i]),
                      "%s line %d value %d variant %d: action %u differs after a round trip",
                      x->name, line, target, variant, i);
        tl_log_commit_free(&c2);
    } else {
        /* the serialiser may refuse what a reader tolerates (e.g. a
         * non-canonical order), never with a crash or without a reason */
        cr_assert(rc == TL_EINVAL && err.msg[0], "rc %d: %s", rc, err.msg);
    }
    free(out);
    tl_log_commit_free(&c);
}

Test(log_action, every_one_field_mutation_is_refused_in_place_or_round_trips)
{
    static const char *const files[] = {"ok_create.json", "ok_append.json", "ok_compact.json",
                                        "ok_special.json", "ok_unknown_action.json"};
    long total = 0, refused = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_log_action/%s", TL_SOURCE_DIR,
                 files[i]);
        size_t len;
        char *buf = la_slurp(path, &len);
        buf[len] = 0;
        lm_ctx x = {files[i], 0, 0};
        total += jm_sweep(buf, lm_check, &x);
        refused += x.refused;
        free(buf);
    }
    fprintf(stderr, "log_action mutations: %ld commits, %ld refused, %ld accepted\n", total,
            refused, total - refused);
    cr_assert_gt(refused, total / 4);
}

/* tl_utf8_bad: the offset of the first byte that does not start a valid
 * UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF), or n. */
#include "util_int.h"

Test(log_action, utf8_validation_edges)
{
    static const struct {
        const char *s;
        size_t n, want;
    } t[] = {
        {"abc", 3, 3},
        {"\xC3\xA9", 2, 2},                 /* U+00E9 */
        {"\xE0\xA0\x80", 3, 3},             /* U+0800, the first 3-byte */
        {"\xEF\xBF\xBF", 3, 3},             /* U+FFFF */
        {"\xED\x9F\xBF", 3, 3},             /* U+D7FF, below the surrogates */
        {"\xF0\x90\x80\x80", 4, 4},         /* U+10000 */
        {"\xF4\x8F\xBF\xBF", 4, 4},         /* U+10FFFF */
        {"\xF2\x80\x80\x80", 4, 4},
        {"a\xC0\xAF", 3, 1},                /* overlong '/' */
        {"\xC1\xBF", 2, 0},                 /* overlong */
        {"\xE0\x9F\xBF", 3, 0},             /* overlong 3-byte */
        {"\xED\xA0\x80", 3, 0},             /* U+D800 surrogate */
        {"\xED\xBF\xBF", 3, 0},             /* U+DFFF */
        {"\xF0\x8F\xBF\xBF", 4, 0},         /* overlong 4-byte */
        {"\xF4\x90\x80\x80", 4, 0},         /* U+110000 */
        {"\xF5\x80\x80\x80", 4, 0},         /* lead above F4 */
        {"\xFF", 1, 0},
        {"ab\x80", 3, 2},                   /* lone continuation */
        {"\xC3", 1, 0},                     /* truncated */
        {"x\xE2\x82", 3, 1},
        {"\xF0\x9F\x98", 3, 0},
        {"\xE2\x28\xA1", 3, 0},             /* bad second byte */
        {"\xE2\x82\x28", 3, 0},             /* bad third byte */
        {"\xF0\x9F\x98\x28", 4, 0},         /* bad fourth byte */
        {"\xC3\xA9\xC3", 3, 2},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        cr_assert_eq(tl_utf8_bad((const uint8_t *)t[i].s, t[i].n), t[i].want,
                     "case %zu: %zu, expected %zu", i,
                     tl_utf8_bad((const uint8_t *)t[i].s, t[i].n), t[i].want);
}

/* ---- the serialiser refuses invalid in-memory actions (LOG-R7 .. R28) --------- */

enum { SR_NO_FIELDS, SR_FIELD_TYPE, SR_FIELD_NAME, SR_SORT_LONG, SR_SORT_UNKNOWN, SR_META_ID,
       SR_FEATURE_CHARS, SR_FEATURES_NULL, SR_ADD_PATH, SR_ADD_SYMBOL, SR_STATS_TYPE,
       SR_STATS_STR, SR_STATS_NAN, SR_STATS_NULLS, SR_TXN_ID, SR_OPERATION, SR_CONFIG,
       SR_READER_VERSION, SR_STATS_COLS_NULL, SR_N };

Test(log_action, serialise_refuses_invalid_actions_naming_the_field)
{
    static const char *const needle[SR_N] = {
        [SR_NO_FIELDS] = "metaData.schema",
        [SR_FIELD_TYPE] = "metaData.schema",
        [SR_FIELD_NAME] = "metaData.schema",
        [SR_SORT_LONG] = "metaData.sortKey",
        [SR_SORT_UNKNOWN] = "expected the name of a column",
        [SR_META_ID] = "metaData.id",
        [SR_FEATURE_CHARS] = "protocol.readerFeatures",
        [SR_FEATURES_NULL] = "protocol.writerFeatures",
        [SR_ADD_PATH] = "add.path",
        [SR_ADD_SYMBOL] = "add.partitionValues",
        [SR_STATS_TYPE] = "add.stats",
        [SR_STATS_STR] = "add.stats",
        [SR_STATS_NAN] = "add.stats",
        [SR_STATS_NULLS] = "add.stats",
        [SR_TXN_ID] = "commitInfo.txnId",
        [SR_OPERATION] = "commitInfo.operation: expected no control characters, found 0x01 at byte 3",
        [SR_CONFIG] = "ticklake.checkpointInterval",
        [SR_READER_VERSION] = "protocol.minReaderVersion",
        [SR_STATS_COLS_NULL] = "add.stats.columns: missing entries (10 columns, no array)",
    };
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_log_action/ok_create.json",
             TL_SOURCE_DIR);
    size_t len;
    char *create = la_slurp(path, &len);
    tl_log_commit cc;
    tl_error err = {0};
    cr_assert_eq(tl_log_commit_parse(create, len, NULL, &cc, &err), TL_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_log_action/ok_append.json",
             TL_SOURCE_DIR);
    char *append = la_slurp(path, &len);
    tl_log_commit ca;
    cr_assert_eq(tl_log_commit_parse(append, len, NULL, &ca, &err), TL_OK, "%s", err.msg);
    /* an append commit that also carries ok_create's protocol and metaData,
     * so add checks see the schema */
    tl_log_action acts[16];
    uint32_t n = 0;
    acts[n++] = ca.actions[0];
    acts[n++] = cc.actions[1];
    acts[n++] = cc.actions[2];
    for (uint32_t i = 1; i < ca.n_actions; i++)
        acts[n++] = ca.actions[i];
    cr_assert_eq(acts[1].kind, TL_LOG_PROTOCOL);
    cr_assert_eq(acts[2].kind, TL_LOG_METADATA);
    uint32_t add_i = 0;
    for (uint32_t i = 0; i < n; i++)
        if (acts[i].kind == TL_LOG_ADD && acts[i].u.add.has_stats && !add_i)
            add_i = i;
    cr_assert_gt(add_i, 0);
    char *out = NULL;
    size_t cap = 0, olen = 0;
    cr_assert_eq(tl_log_commit_serialize(acts, n, -1, &out, &cap, &olen, &err), TL_OK, "%s",
                 err.msg);
    for (int k = 0; k < SR_N; k++) {
        tl_log_action a[16];
        memcpy(a, acts, sizeof a);
        tl_log_metadata *m = &a[2].u.meta;
        tl_log_field fields[32];
        memcpy(fields, m->fields, m->n_fields * sizeof *fields);
        m->fields = fields;
        tl_log_colstats cols[32];
        tl_log_stats *st = &a[add_i].u.add.stats;
        memcpy(cols, st->cols, st->n_cols * sizeof *cols);
        st->cols = cols;
        static const char *const bad_sort[] = {"nope"};
        static const char *const bad_feat[] = {"bad feature!"};
        static const tl_log_kv bad_conf[] = {{"ticklake.checkpointInterval", "0"}};
        uint32_t sc = 0; /* a string stats column */
        while (sc < st->n_cols && cols[sc].type != TL_STRING)
            sc++;
        uint32_t fc = 0; /* a float stats column */
        while (fc < st->n_cols && !tl_type_is_float(cols[fc].type))
            fc++;
        cr_assert(sc < st->n_cols && fc < st->n_cols);
        static uint8_t long_str[4096];
        switch (k) {
        case SR_NO_FIELDS: m->n_fields = 0; break;
        case SR_FIELD_TYPE: fields[1].type = (tl_type)99; break;
        case SR_FIELD_NAME: fields[1].name = ""; break;
        case SR_SORT_LONG: m->sort_key.n = m->n_fields + 1; break;
        case SR_SORT_UNKNOWN: m->sort_key = (tl_log_strs){bad_sort, 1}; break;
        case SR_META_ID: m->id = "not-a-uuid"; break;
        case SR_FEATURE_CHARS:
            a[1].u.proto.min_reader_version = 3;
            a[1].u.proto.min_writer_version = 7;
            a[1].u.proto.reader_features = (tl_log_strs){bad_feat, 1};
            break;
        case SR_FEATURES_NULL:
            a[1].u.proto.min_writer_version = 7;
            a[1].u.proto.writer_features = (tl_log_strs){NULL, 2};
            break;
        case SR_ADD_PATH: a[add_i].u.add.path = NULL; break;
        case SR_ADD_SYMBOL: a[add_i].u.add.part.symbol = NULL; break;
        case SR_STATS_TYPE: cols[0].type = (tl_type)99; break;
        case SR_STATS_STR:
            memset(long_str, 'z', sizeof long_str);
            cols[sc].max.s.p = long_str;
            cols[sc].max.s.len = sizeof long_str;
            break;
        case SR_STATS_NAN:
            cols[fc].has_min = 1;
            cols[fc].min.f = NAN;
            break;
        case SR_STATS_NULLS: cols[0].null_count = a[add_i].u.add.n_rows + 1; break;
        case SR_TXN_ID: a[0].u.ci.txn_id = "3f2a9c1e-7b4d-4e8f-9a6b-1c2d3e4f5a6G"; break;
        case SR_OPERATION: a[0].u.ci.operation = "APP\001END"; break;
        case SR_CONFIG: m->config = (tl_log_map){bad_conf, 1}; break;
        case SR_READER_VERSION: a[1].u.proto.min_reader_version = 0; break;
        case SR_STATS_COLS_NULL: st->cols = NULL; break;
        }
        olen = 99;
        memset(&err, 0, sizeof err);
        int rc = tl_log_commit_serialize(a, n, -1, &out, &cap, &olen, &err);
        cr_assert_eq(rc, TL_EINVAL, "case %d: rc %d: %s", k, rc, err.msg);
        cr_assert_eq(olen, 0, "case %d", k);
        cr_assert(strstr(err.msg, needle[k]), "case %d: %s", k, err.msg);
        if (getenv("TL_SR_TRACE"))
            fprintf(stderr, "case %d: %s\n", k, err.msg);
    }
    free(out);
    tl_log_commit_free(&ca);
    tl_log_commit_free(&cc);
    free(append);
    free(create);
}
