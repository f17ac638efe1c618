/*
 * delta_read_test.c - the Delta Lake dialect of the log reader
 * (engine/src/delta_read.c, log.c; spec/LOG.md section 10, LOG-D1..D12):
 * a table exported with --delta opens through tl_table_open /
 * tl_snapshot_open (version 0, the files, partition values, rows, sizes and
 * schema the export wrote, one history entry) and is read-only; hand-written
 * multi-commit logs replay to the right file sets by version and by
 * timestamp; malformed logs fail with messages naming file, line and field.
 */
#include <criterion/criterion.h>

#include "civil_int.h"
#include "delta_read_int.h"
#include "log_int.h"
#include "snapshot_int.h"
#include "table_int.h"
#include "ticklake.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static char dir[256], tpath[300], dpath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_dread.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
    snprintf(dpath, sizeof dpath, "%s/d", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(delta_read, .init = setup, .fini = teardown);

/* ---- fixtures ------------------------------------------------------------------ */

/* A generated ticks table (symbol and day partitions), exported with --delta
 * to dpath. */
static tl_table *export_ticks(tl_export_result *r)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.seed = 5;
    o.days = 2;
    o.rows_per_day = 700;
    tl_append_opts ao = {.threads = 2};
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK, "%s", err.msg);
    tl_gen *g = NULL;
    cr_assert_eq(tl_gen_open(&o, &g, &err), TL_OK, "%s", err.msg);
    for (;;) {
        tl_batch b;
        int done = 0;
        cr_assert_eq(tl_gen_next(g, 4000, &b, &done, &err), TL_OK, "%s", err.msg);
        if (done)
            break;
        cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    }
    tl_gen_close(g);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_export_opts eo = {.delta = 1, .threads = 2};
    cr_assert_eq(tl_export_parquet(s, dpath, &eo, r, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    return t;
}

static void put_file(const char *rel, const char *text)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dpath, rel);
    mkdir(dpath, 0755);
    for (char *q = p + strlen(dpath) + 1; (q = strchr(q, '/')); q++) {
        *q = 0;
        mkdir(p, 0755);
        *q = '/';
    }
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    fputs(text, f);
    fclose(f);
}

/* Write commit v of the Delta log under dpath. */
static void put_commit(int64_t v, const char *text)
{
    char rel[100];
    snprintf(rel, sizeof rel, "_delta_log/%020" PRId64 ".json", v);
    put_file(rel, text);
}

static void set_mtime(int64_t v, int64_t ms)
{
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log/%020" PRId64 ".json", dpath, v);
    struct timeval tv[2] = {{(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000},
                            {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000}};
    cr_assert_eq(utimes(p, tv), 0);
}

#define PROTO "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
#define SCHEMA2                                                                             \
    "{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":["                                          \
    "{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":false,"              \
    "\\\"metadata\\\":{}},"                                                                  \
    "{\\\"name\\\":\\\"sym\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,"           \
    "\\\"metadata\\\":{}}]}"
#define META2                                                                               \
    "{\"metaData\":{\"id\":\"1c3a8b9e-2f4d-4a5b-9c6d-7e8f9a0b1c2d\",\"format\":{\"provider\":" \
    "\"parquet\",\"options\":{}},\"schemaString\":\"" SCHEMA2 "\",\"partitionColumns\":"     \
    "[\"sym\"],\"configuration\":{},\"createdTime\":1000}}\n"
#define ADD(path, sym, rows)                                                                \
    "{\"add\":{\"path\":\"" path "\",\"partitionValues\":{\"sym\":" sym "},\"size\":10,"     \
    "\"modificationTime\":5,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":" #rows       \
    ",\\\"minValues\\\":{\\\"id\\\":1},\\\"maxValues\\\":{\\\"id\\\":9},"                      \
    "\\\"nullCount\\\":{\\\"id\\\":0}}\"}}\n"
#define CI(ts, op) "{\"commitInfo\":{\"timestamp\":" #ts ",\"operation\":\"" op "\"}}\n"

static tl_table *open_delta(void)
{
    tl_table *t = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(dpath, &t, &err), TL_OK, "%s", err.msg);
    return t;
}

static tl_snapshot *snap_at(tl_table *t, int kind, int64_t v)
{
    tl_at at = {kind, v, v};
    tl_snapshot *s = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    return s;
}

/* The snapshot's file paths joined by ',' in file order. */
static void files_of(const tl_snapshot *s, char *out, size_t cap)
{
    out[0] = 0;
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", i ? "," : "", fi.path);
    }
}

/* ---- an exported table ------------------------------------------------------------ */

/* LOG-D1, D6, D7, D9, D11: the export's log opens at version 0 with the
 * files, partitions, rows, sizes and schema the export wrote. */
Test(delta_read, exported_table_opens_with_its_files_and_schema)
{
    tl_export_result r;
    tl_table *src = export_ticks(&r);
    tl_snapshot *ss = snap_at(src, TL_AT_LATEST, 0);
    tl_snapshot_info si;
    tl_snapshot_get_info(ss, &si);

    tl_table *t = open_delta();
    cr_assert(t->delta);
    tl_snapshot *s = snap_at(t, TL_AT_LATEST, 0);
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    cr_assert_eq(in.version, 0);
    cr_assert_eq(in.n_files, r.files);
    cr_assert_eq(in.n_rows, r.rows);
    cr_assert_eq(in.bytes, r.bytes);
    cr_assert_eq(in.n_rows, si.n_rows);
    cr_assert_eq(in.n_partitions, si.n_partitions);
    /* schema: the data columns (symbol is a partition directory), Spark-typed,
     * then the partition columns symbol:string and date:date */
    uint32_t k = 0;
    for (uint32_t i = 0; i < si.n_fields; i++) {
        if (strcmp(si.fields[i].name, si.symbol_column) == 0)
            continue;
        cr_assert_str_eq(in.fields[k].name, si.fields[i].name);
        cr_assert_eq(in.fields[k].type, si.fields[i].type, "%s", si.fields[i].name);
        cr_assert_eq(in.fields[k].nullable, si.fields[i].nullable, "%s", si.fields[i].name);
        k++;
    }
    cr_assert_eq(in.n_fields, k + 2);
    cr_assert_str_eq(in.fields[k].name, "symbol");
    cr_assert_eq(in.fields[k].type, TL_STRING);
    cr_assert_str_eq(in.fields[k + 1].name, "date");
    cr_assert_eq(in.fields[k + 1].type, TL_DATE);
    cr_assert_str_eq(in.symbol_column, "symbol");
    cr_assert_str_eq(in.day_column, "date");
    cr_assert_eq(in.n_sort_key, 0);
    cr_assert_eq(in.checkpoint_interval, 10); /* Delta's defaults */
    cr_assert_eq(in.log_retention_hours, 720);
    cr_assert_eq(in.deleted_file_retention_hours, 168);
    /* files: one per source partition, same values and rows; sizes on disk */
    for (size_t i = 0; i < in.n_files; i++) {
        tl_file_info fi;
        tl_partition_info pi;
        tl_snapshot_file(s, i, &fi);
        tl_snapshot_partition(ss, i, &pi);
        cr_assert(fi.has_symbol && fi.has_day && !fi.symbol_null && !fi.day_null);
        cr_assert_str_eq(fi.symbol, pi.symbol);
        cr_assert_eq(fi.day, pi.day);
        cr_assert_eq(fi.n_rows, pi.n_rows);
        int64_t y;
        int mo, d;
        tl_civil_from_days(fi.day, &y, &mo, &d);
        char want[300], full[700];
        snprintf(want, sizeof want, "symbol=%s/date=%04d-%02d-%02d/part-00000.parquet",
                 pi.symbol, (int)y, mo, d);
        cr_assert_str_eq(fi.path, want);
        snprintf(full, sizeof full, "%s/%s", dpath, fi.path);
        struct stat st;
        cr_assert_eq(stat(full, &st), 0);
        cr_assert_eq(fi.bytes, (uint64_t)st.st_size);
    }
    /* history: one entry */
    tl_history_entry *h = NULL;
    size_t nh = 0;
    tl_error err = {0};
    cr_assert_eq(tl_table_history(t, &h, &nh, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(nh, 1);
    cr_assert_eq(h[0].version, 0);
    cr_assert_str_eq(h[0].operation, "WRITE");
    cr_assert_eq((uint64_t)h[0].added_files, r.files);
    cr_assert_eq((uint64_t)h[0].added_rows, r.rows);
    cr_assert_eq(h[0].timestamp_ms, in.timestamp_ms);
    free(h);
    int64_t oldest = -1, latest = -1;
    cr_assert_eq(tl_table_versions(t, &oldest, &latest, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(oldest, 0);
    cr_assert_eq(latest, 0);
    tl_snapshot_close(s);
    tl_table_close(t);
    tl_snapshot_close(ss);
    tl_table_close(src);
    tl_export_result_free(&r);
}

/* LOG-D1: every write returns TL_EUNSUPPORTED naming the table; rows are
 * refused (Parquet) with a hint at import; nothing is touched. */
Test(delta_read, a_delta_table_is_read_only)
{
    tl_export_result r;
    tl_table *src = export_ticks(&r);
    tl_table *t = open_delta();
    tl_error err = {0};
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "is a Delta Lake table (read-only in ticklake)"), "%s",
                       err.msg);
    cr_assert_not_null(strstr(err.msg, dpath), "%s", err.msg);
    tl_checkpoint_result cr;
    cr_assert_eq(tl_table_checkpoint(t, &cr, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "read-only in ticklake"), "%s", err.msg);
    tl_table_vacuum_report vr;
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
    cr_assert_eq(tl_table_vacuum(t, &vo, &vr, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "read-only in ticklake"), "%s", err.msg);
    /* the writer's own snapshot load refuses too (LOG-D1) */
    tl_log_snapshot ls;
    cr_assert_eq(tl_log_snapshot_load(&t->root, NULL, &ls, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "read-only in ticklake"), "%s", err.msg);
    tl_snapshot *s = snap_at(t, TL_AT_LATEST, 0);
    tl_reader *rd = NULL;
    cr_assert_eq(tl_reader_open(s, NULL, NULL, 0, &rd, &err), TL_EUNSUPPORTED);
    cr_assert_null(rd);
    cr_assert_not_null(strstr(err.msg, "Parquet"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "ticklake import"), "%s", err.msg);
    cr_assert_eq(tl_snapshot_check_rows(s, &err), TL_EUNSUPPORTED);
    tl_snapshot_close(s);
    /* still exactly the export: one commit, every file there */
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000001.json", dpath);
    struct stat st;
    cr_assert_neq(stat(p, &st), 0);
    s = snap_at(t, TL_AT_LATEST, 0);
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        snprintf(p, sizeof p, "%s/%s", dpath, fi.path);
        cr_assert_eq(stat(p, &st), 0, "%s", p);
    }
    tl_snapshot_close(s);
    tl_table_close(t);
    tl_table_close(src);
    tl_export_result_free(&r);
}

/* ---- hand-written logs ---------------------------------------------------------------- */

/* LOG-D8, D10, D11: add, remove, txn, a metaData change, commitInfo
 * timestamps (one going backwards, one absent: the file's mtime) -> the
 * right file sets by version and by timestamp; history. */
Test(delta_read, multi_commit_log_time_travels_by_version_and_timestamp)
{
    put_commit(0, CI(1000, "CREATE TABLE") PROTO META2 ADD("sym=A/a.parquet", "\"A\"", 10)
                      ADD("sym=B/b.parquet", "\"B\"", 20));
    /* v1: remove a, add c, a txn; actions in Delta's free order */
    put_commit(1, ADD("sym=A/c%20x.parquet", "\"A\"", 30)
                  "{\"txn\":{\"appId\":\"ingest\",\"version\":7,\"lastUpdated\":2000}}\n"
                  "{\"remove\":{\"path\":\"sym=A/a.parquet\",\"deletionTimestamp\":2000,"
                  "\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":10}\"}}\n" CI(2000, "WRITE"));
    /* v2: a new column, a null partition, a timestamp before v1's */
    put_commit(2, CI(1500, "ADD COLUMNS")
                  "{\"metaData\":{\"id\":\"1c3a8b9e-2f4d-4a5b-9c6d-7e8f9a0b1c2d\",\"format\":"
                  "{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":"
                  "\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long"
                  "\\\",\\\"nullable\\\":false,\\\"metadata\\\":{}},{\\\"name\\\":\\\"px\\\","
                  "\\\"type\\\":\\\"double\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},"
                  "{\\\"name\\\":\\\"sym\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,"
                  "\\\"metadata\\\":{}}]}\",\"partitionColumns\":[\"sym\"],\"configuration\":"
                  "{\"delta.checkpointInterval\":\"20\",\"delta.logRetentionDuration\":"
                  "\"interval 2 days\"}}}\n" ADD("sym=__HIVE_DEFAULT_PARTITION__/d.parquet",
                                                "null", 40)
                  "{\"cdc\":{\"path\":\"_change_data/x.parquet\"}}\n");
    /* v3: no commitInfo: the file's modification time */
    put_commit(3, "{\"remove\":{\"path\":\"sym=B/b.parquet\",\"dataChange\":true}}\n");
    set_mtime(3, 9000);
    tl_table *t = open_delta();
    char got[400];

    tl_snapshot *s = snap_at(t, TL_AT_VERSION, 0);
    files_of(s, got, sizeof got);
    cr_assert_str_eq(got, "sym=A/a.parquet,sym=B/b.parquet");
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    cr_assert_eq(in.n_fields, 2);
    cr_assert_eq(in.n_rows, 30);
    cr_assert_eq(in.timestamp_ms, 1000);
    cr_assert_eq(in.created_ms, 1000);
    tl_snapshot_close(s);

    s = snap_at(t, TL_AT_VERSION, 1);
    files_of(s, got, sizeof got);
    cr_assert_str_eq(got, "sym=A/c x.parquet,sym=B/b.parquet"); /* %20 decoded */
    cr_assert_not_null(tl_log_snapshot_tombstone_get(tl_snapshot_log(s), "sym=A/a.parquet"));
    const tl_log_txn_entry *te = tl_log_snapshot_txn(tl_snapshot_log(s), "ingest");
    cr_assert_not_null(te);
    cr_assert_eq(te->txn->version, 7);
    cr_assert_eq(te->table_version, 1);
    tl_snapshot_close(s);

    s = snap_at(t, TL_AT_VERSION, 2);
    files_of(s, got, sizeof got);
    cr_assert_str_eq(got, "sym=__HIVE_DEFAULT_PARTITION__/d.parquet,sym=A/c x.parquet,"
                          "sym=B/b.parquet"); /* null partition first */
    tl_snapshot_get_info(s, &in);
    cr_assert_eq(in.n_fields, 3);
    cr_assert_str_eq(in.fields[1].name, "px");
    cr_assert_eq(in.fields[1].type, TL_FLOAT64);
    cr_assert_eq(in.timestamp_ms, 2001); /* 1500 raised above v1's 2000 */
    cr_assert_eq(in.checkpoint_interval, 20);
    cr_assert_eq(in.log_retention_hours, 48);
    tl_file_info fi;
    tl_snapshot_file(s, 0, &fi);
    cr_assert(fi.has_symbol && fi.symbol_null);
    cr_assert_eq(fi.n_rows, 40);
    tl_snapshot_close(s);

    s = snap_at(t, TL_AT_LATEST, 0);
    files_of(s, got, sizeof got);
    cr_assert_str_eq(got, "sym=__HIVE_DEFAULT_PARTITION__/d.parquet,sym=A/c x.parquet");
    tl_snapshot_get_info(s, &in);
    cr_assert_eq(in.version, 3);
    cr_assert_eq(in.timestamp_ms, 9000);
    tl_snapshot_close(s);

    /* by timestamp: the last version at or before T */
    static const struct {
        int64_t ts, version;
    } at[] = {{1000, 0}, {1999, 0}, {2000, 1}, {2001, 2}, {8999, 2}, {9000, 3}, {INT64_MAX, 3}};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        s = snap_at(t, TL_AT_TIMESTAMP, at[i].ts);
        tl_snapshot_get_info(s, &in);
        cr_assert_eq(in.version, at[i].version, "ts %" PRId64, at[i].ts);
        tl_snapshot_close(s);
    }
    tl_error err = {0};
    tl_at before = {TL_AT_TIMESTAMP, 0, 999};
    cr_assert_eq(tl_snapshot_open(t, &before, &s, &err), TL_ENOTFOUND);
    cr_assert_not_null(strstr(err.msg, "timestamp 999"), "%s", err.msg);
    tl_at above = {TL_AT_VERSION, 4, 0};
    cr_assert_eq(tl_snapshot_open(t, &above, &s, &err), TL_ENOTFOUND);
    cr_assert_not_null(strstr(err.msg, "latest version is 3"), "%s", err.msg);

    tl_history_entry *h = NULL;
    size_t nh = 0;
    cr_assert_eq(tl_table_history(t, &h, &nh, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(nh, 4);
    static const char *const ops[4] = {"CREATE TABLE", "WRITE", "ADD COLUMNS", "(none)"};
    static const int64_t tss[4] = {1000, 2000, 2001, 9000};
    static const int64_t af[4] = {2, 1, 1, 0}, ar[4] = {30, 30, 40, 0}, rf[4] = {0, 1, 0, 1},
                         rr[4] = {0, 10, 0, 0};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(h[i].version, (int64_t)i);
        cr_assert_str_eq(h[i].operation, ops[i]);
        cr_assert_eq(h[i].timestamp_ms, tss[i], "v%zu", i);
        cr_assert_eq(h[i].added_files, af[i], "v%zu", i);
        cr_assert_eq(h[i].added_rows, ar[i], "v%zu", i);
        cr_assert_eq(h[i].removed_files, rf[i], "v%zu", i);
        cr_assert_eq(h[i].removed_rows, rr[i], "v%zu", i);
    }
    free(h);
    tl_table_close(t);
}

/* ---- malformed logs --------------------------------------------------------------- */

typedef struct bad_case {
    const char *what;
    const char *v0, *v1; /* v1 NULL: none */
    int code;
    const char *want[3]; /* substrings of the message */
} bad_case;

#define V0 CI(1000, "CREATE TABLE") PROTO META2
#define ADD_OBJ_STATS                                                                       \
    "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"sym\":\"A\"},\"size\":1,"  \
    "\"modificationTime\":1,\"dataChange\":true,\"stats\":{\"numRecords\":1}}}\n"
#define F0 "00000000000000000000.json"
#define F1 "00000000000000000001.json"
#define SCHEMA_WITH(field)                                                                  \
    "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"   \
    "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"sym\\\",\\\"type\\\":"  \
    "\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}," field "]}\","               \
    "\"partitionColumns\":[],\"configuration\":{}}}\n"

static const bad_case bad_cases[] = {
    {"bad JSON", V0 "{\"add\":{\"path\":\"x\",}}\n", NULL, TL_ECORRUPT,
     {F0 ": line 4", "invalid JSON"}},
    {"stats not a string", V0, ADD_OBJ_STATS, TL_ECORRUPT,
     {F1 ": line 1", "add.stats: expected a string"}},
    {"unknown reader features", CI(1, "X")
         "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
         "[\"timestampNtz\",\"deletionVectors\",\"fancyNew\"],\"writerFeatures\":[]}}\n" META2,
     NULL, TL_EUNSUPPORTED, {F0 ": line 2", "deletionVectors, fancyNew"}},
    {"readerFeatures below reader 3",
     CI(1, "X") "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2,"
                "\"readerFeatures\":[]}}\n" META2,
     NULL, TL_ECORRUPT, {F0 ": line 2", "protocol.readerFeatures"}},
    {"reader version 4", CI(1, "X") "{\"protocol\":{\"minReaderVersion\":4,"
                                    "\"minWriterVersion\":7}}\n" META2,
     NULL, TL_EVERSION, {F0 ": line 2", "minReaderVersion"}},
    {"missing protocol", CI(1, "X") META2, NULL, TL_ECORRUPT, {F0, "no protocol action"}},
    {"bad %XX", V0, ADD("sym=A/a%2.parquet", "\"A\"", 1), TL_ECORRUPT,
     {F1 ": line 1", "add.path", "%XX"}},
    {"escaped NUL", V0, ADD("sym=A/a%00.parquet", "\"A\"", 1), TL_ECORRUPT,
     {F1 ": line 1", "add.path"}},
    {"absolute URI", V0, ADD("s3://bucket/a.parquet", "\"A\"", 1), TL_EUNSUPPORTED,
     {F1 ": line 1", "absolute URI"}},
    {"escape out of the table", V0, ADD("sym=A/%2E%2E/%2E%2E/x.parquet", "\"A\"", 1),
     TL_ECORRUPT, {F1 ": line 1", "add.path"}},
    {"decimal column", CI(1, "X") PROTO SCHEMA_WITH(
         "{\\\"name\\\":\\\"amt\\\",\\\"type\\\":\\\"decimal(10,2)\\\",\\\"nullable\\\":true,"
         "\\\"metadata\\\":{}}"),
     NULL, TL_EUNSUPPORTED, {F0 ": line 3", "field 'amt'", "decimal(10,2)"}},
    {"struct column", CI(1, "X") PROTO SCHEMA_WITH(
         "{\\\"name\\\":\\\"s\\\",\\\"type\\\":{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]},"
         "\\\"nullable\\\":true,\\\"metadata\\\":{}}"),
     NULL, TL_EUNSUPPORTED, {F0 ": line 3", "field 's'", "nested type struct"}},
    {"binary column", CI(1, "X") PROTO SCHEMA_WITH(
         "{\\\"name\\\":\\\"b\\\",\\\"type\\\":\\\"binary\\\",\\\"nullable\\\":true,"
         "\\\"metadata\\\":{}}"),
     NULL, TL_EUNSUPPORTED, {F0 ": line 3", "field 'b'", "binary"}},
    {"names differing in case", CI(1, "X") PROTO SCHEMA_WITH(
         "{\\\"name\\\":\\\"SYM\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,"
         "\\\"metadata\\\":{}}"),
     NULL, TL_ECORRUPT, {F0 ": line 3", "differ only in case"}},
    {"column mapping", CI(1, "X") PROTO
         "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":\""
         SCHEMA2 "\",\"partitionColumns\":[],\"configuration\":{\"delta.columnMapping.mode\":"
         "\"name\"}}}\n",
     NULL, TL_EUNSUPPORTED, {F0 ": line 3", "columnMapping"}},
    {"orc files", CI(1, "X") PROTO
         "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"orc\"},\"schemaString\":\""
         SCHEMA2 "\",\"partitionColumns\":[]}}\n",
     NULL, TL_EUNSUPPORTED, {F0 ": line 3", "metaData.format.provider"}},
    {"partition column of another type", CI(1, "X") PROTO
         "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":\""
         SCHEMA2 "\",\"partitionColumns\":[\"id\"]}}\n",
     NULL, TL_EUNSUPPORTED, {F0 ": line 3", "'id' (int64)"}},
    {"partition column not in the schema", CI(1, "X") PROTO
         "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":\""
         SCHEMA2 "\",\"partitionColumns\":[\"nope\"]}}\n",
     NULL, TL_ECORRUPT, {F0 ": line 3", "partitionColumns[0]", "'nope'"}},
    {"deletion vector", V0,
     "{\"add\":{\"path\":\"sym=A/a.parquet\",\"partitionValues\":{\"sym\":\"A\"},\"size\":1,"
     "\"modificationTime\":1,\"dataChange\":true,\"deletionVector\":{\"storageType\":\"i\"}}}\n",
     TL_EUNSUPPORTED, {F1 ": line 1", "deletionVectors"}},
    {"unknown partition key", V0, ADD("sym=A/a.parquet", "\"A\",\"x\":\"1\"", 1), TL_ECORRUPT,
     {F1 ": line 1", "add.partitionValues.x"}},
    {"missing partition value", V0,
     "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{},\"size\":1,"
     "\"modificationTime\":1,\"dataChange\":true}}\n",
     TL_ECORRUPT, {F1 ": line 1", "no value for partition column 'sym'"}},
    {"negative numRecords", V0,
     "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"sym\":\"A\"},\"size\":1,"
     "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":-1}\"}}\n",
     TL_ECORRUPT, {F1 ": line 1", "add.stats.numRecords"}},
    {"nullCount above numRecords", V0,
     "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"sym\":\"A\"},\"size\":1,"
     "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":2,"
     "\\\"nullCount\\\":{\\\"id\\\":3}}\"}}\n",
     TL_ECORRUPT, {F1 ": line 1", "add.stats.nullCount.id"}},
    {"bound of the wrong type", V0,
     "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"sym\":\"A\"},\"size\":1,"
     "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":2,"
     "\\\"minValues\\\":{\\\"id\\\":\\\"one\\\"}}\"}}\n",
     TL_ECORRUPT, {F1 ": line 1", "add.stats.minValues.id"}},
    {"stats text not JSON", V0,
     "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"sym\":\"A\"},\"size\":1,"
     "\"modificationTime\":1,\"dataChange\":true,\"stats\":\"{numRecords:2}\"}}\n",
     TL_ECORRUPT, {F1 ": line 1", "add.stats: invalid JSON"}},
    {"size missing", V0,
     "{\"add\":{\"path\":\"a.parquet\",\"partitionValues\":{\"sym\":\"A\"},"
     "\"modificationTime\":1,\"dataChange\":true}}\n",
     TL_ECORRUPT, {F1 ": line 1", "add.size"}},
    {"remove without dataChange", V0, "{\"remove\":{\"path\":\"a.parquet\"}}\n", TL_ECORRUPT,
     {F1 ": line 1", "remove.dataChange"}},
    {"path added twice", V0,
     ADD("sym=A/a.parquet", "\"A\"", 1) ADD("sym=A/b.parquet", "\"A\"", 1)
         ADD("sym=A/a.parquet", "\"A\"", 1),
     TL_ECORRUPT, {F1 ": line 3", "also on line 1"}},
    {"two metaData", V0, META2 META2, TL_ECORRUPT, {F1 ": line 2", "second metaData"}},
    {"a line that is not one action", V0, "{\"add\":{},\"remove\":{}}\n", TL_ECORRUPT,
     {F1 ": line 1", "exactly one key"}},
    {"an action that is not an object", V0, "{\"txn\":[1]}\n", TL_ECORRUPT,
     {F1 ": line 1", "txn: expected an object"}},
    {"empty commit", V0, "\n\n", TL_ECORRUPT, {F1, "empty commit"}},
    {"duplicate key", V0, "{\"txn\":{\"appId\":\"a\",\"appId\":\"b\",\"version\":1}}\n",
     TL_ECORRUPT, {F1 ": line 1", "invalid JSON"}},
    {"nesting too deep", V0,
     "{\"zz\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n",
     TL_EUNSUPPORTED, {F1 ": line 1", "nested"}},
    {"commitInfo timestamp not an integer", V0, "{\"commitInfo\":{\"timestamp\":\"now\"}}\n",
     TL_ECORRUPT, {F1 ": line 1", "commitInfo.timestamp"}},
};

/* LOG-D2 .. D10: each malformed or unsupported log fails with its code and a
 * message naming the commit file, the line and the action / field. */
Test(delta_read, malformed_logs_fail_naming_file_line_and_field)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dpath);
        cr_assert_eq(system(cmd), 0);
        put_commit(0, bc->v0);
        if (bc->v1)
            put_commit(1, bc->v1);
        tl_table *t = open_delta();
        cr_assert(t->delta, "%s: not detected as Delta", bc->what);
        tl_snapshot *s = NULL;
        tl_error err = {0};
        int rc = tl_snapshot_open(t, NULL, &s, &err);
        cr_assert_eq(rc, bc->code, "%s: code %d, message: %s", bc->what, rc, err.msg);
        cr_assert_null(s);
        for (int k = 0; k < 3 && bc->want[k]; k++)
            cr_assert_not_null(strstr(err.msg, bc->want[k]), "%s: '%s' not in: %s", bc->what,
                               bc->want[k], err.msg);
        /* history reads the same log and fails the same way */
        tl_history_entry *h = NULL;
        size_t nh = 0;
        cr_assert_eq(tl_table_history(t, &h, &nh, &err), bc->code, "%s", bc->what);
        cr_assert_null(h);
        tl_table_close(t);
    }
}

/* LOG-D4: a gap in the versions names the missing commit. */
Test(delta_read, version_gap_names_the_missing_commit)
{
    put_commit(0, V0);
    put_commit(2, CI(3000, "WRITE"));
    tl_table *t = open_delta();
    tl_snapshot *s = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_ECORRUPT);
    cr_assert_not_null(strstr(err.msg, "version 1 (" F1 ") is missing but version 2 exists"),
                       "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "_delta_log"), "%s", err.msg);
    tl_table_close(t);
}

/* LOG-D12: Delta checkpoints are not read: a log whose version 0 is gone
 * fails to open, naming the checkpoint; one with a gap after version 0 and a
 * checkpoint fails to load. */
Test(delta_read, checkpoint_only_logs_are_unsupported)
{
    put_file("_delta_log/00000000000000000010.checkpoint.parquet", "PAR1");
    put_commit(11, CI(3000, "WRITE"));
    tl_table *t = NULL;
    tl_error err = {0};
    cr_assert_eq(tl_table_open(dpath, &t, &err), TL_EUNSUPPORTED);
    cr_assert_null(t);
    cr_assert_not_null(strstr(err.msg, "Delta checkpoint"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, dpath), "%s", err.msg);
    put_commit(0, V0);
    t = open_delta();
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "00000000000000000010.checkpoint.parquet"), "%s",
                       err.msg);
    cr_assert_not_null(strstr(err.msg, "version 1 (" F1 ")"), "%s", err.msg);
    tl_table_close(t);
}

/* LOG-D1: a ticklake table is not taken for a Delta one. */
Test(delta_read, ticklake_tables_are_not_delta)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_not(t->delta);
    int kind = -1;
    cr_assert_eq(tl_delta_detect(NULL, &t->root, &kind, &err), TL_OK);
    cr_assert_eq(kind, TL_DELTA_NO);
    tl_table_close(t);
    mkdir(dpath, 0755);
    cr_assert_eq(tl_table_open(dpath, &t, &err), TL_ENOTFOUND);
}

/* LOG-D3: bad input never crashes: every prefix and many one-byte edits of a
 * valid multi-action commit parse to TL_OK or a clean error (ASan checks the
 * bounds). */
Test(delta_read, truncated_and_mutated_commits_fail_cleanly)
{
    static const char text[] = V0 ADD("sym=A/a%20b.parquet", "\"A\"", 10)
        "{\"remove\":{\"path\":\"sym=A/z.parquet\",\"dataChange\":false,\"size\":3}}\n"
        "{\"txn\":{\"appId\":\"x\",\"version\":1}}\n";
    size_t n = strlen(text);
    char *buf = malloc(n + 1);
    static const char subst[] = {'"', '{', '}', '[', ']', ':', ',', '%', '\\', '0', 'x', '\n'};
    int ok = 0, bad = 0;
    for (size_t len = 0; len <= n; len++) {
        for (size_t m = 0; m <= sizeof subst; m++) {
            if (m > 0 && len != n)
                break;
            for (size_t at = 0; at < (m ? n : 1); at += m ? 3 : 1) {
                memcpy(buf, text, n);
                if (m)
                    buf[at] = subst[m - 1];
                tl_log_arena *ar = tl_log_arena_new();
                tl_delta_parse_in in = {.file = "c.json", .version = 0};
                tl_log_commit c;
                tl_error err = {0};
                int rc = tl_delta_commit_parse(buf, len, &in, ar, &c, &err);
                if (rc == TL_OK) {
                    ok++;
                    cr_assert_gt(c.n_actions, 0);
                } else {
                    bad++;
                    cr_assert(rc == TL_ECORRUPT || rc == TL_EUNSUPPORTED || rc == TL_EVERSION,
                              "rc %d: %s", rc, err.msg);
                    cr_assert_not_null(strstr(err.msg, "c.json"), "%s", err.msg);
                    cr_assert_null(c.actions);
                }
                tl_log_commit_free(&c);
                tl_log_arena_free(ar);
                int64_t ms;
                rc = tl_delta_commit_time(buf, len, "c.json", &ms, &err);
                cr_assert(rc == TL_OK || rc == TL_ECORRUPT || rc == TL_EUNSUPPORTED);
            }
        }
    }
    cr_assert_gt(ok, 0);
    cr_assert_gt(bad, 0);
    free(buf);
}

/* LOG-D3: the reader's limits are TL_EUNSUPPORTED, checked before parsing. */
Test(delta_read, limits_are_unsupported)
{
    static const char text[] = V0;
    tl_log_arena *ar = tl_log_arena_new();
    tl_log_commit c;
    tl_error err = {0};
    tl_delta_parse_in in = {.file = "c.json", .version = 0, .max_line_bytes = 60};
    cr_assert_eq(tl_delta_commit_parse(text, strlen(text), &in, ar, &c, &err), TL_EUNSUPPORTED);
    cr_assert_not_null(strstr(err.msg, "c.json: line 3"), "%s", err.msg);
    in = (tl_delta_parse_in){.file = "c.json", .version = 0, .max_lines = 2};
    cr_assert_eq(tl_delta_commit_parse(text, strlen(text), &in, ar, &c, &err), TL_EUNSUPPORTED);
    in = (tl_delta_parse_in){.file = "c.json", .version = 0, .max_file_bytes = 10};
    cr_assert_eq(tl_delta_commit_parse(text, strlen(text), &in, ar, &c, &err), TL_EUNSUPPORTED);
    tl_log_arena_free(ar);
}

/* ---- allocation-failure sweeps (tests/format/oom_sweep.h; DECODERS.md) ---------- */

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

typedef struct dr_in {
    const char *buf;
    size_t len;
    int64_t version;
    const tl_log_metadata *meta;
} dr_in;

static uint64_t dr_pvals(uint64_t h, const tl_log_pvals *p)
{
    h = fnv(h, &p->has_symbol, sizeof p->has_symbol);
    h = fnv(h, &p->symbol_null, sizeof p->symbol_null);
    if (p->has_symbol && !p->symbol_null && p->symbol)
        h = fnv(h, p->symbol, strlen(p->symbol) + 1);
    h = fnv(h, &p->has_date, sizeof p->has_date);
    h = fnv(h, &p->date, sizeof p->date);
    return h;
}

/* tl_delta_commit_parse and tl_delta_commit_time of one commit; the digest
 * covers kinds, paths, sizes, rows, partition values, stats presence and
 * the schema's field names and types. */
static int dr_op(void *ctx, uint64_t *digest, tl_error *err)
{
    const dr_in *in = ctx;
    tl_log_arena *ar = tl_log_arena_new();
    if (!ar)
        return tl_error_set(err, TL_ENOMEM, "00000000000000000007.json: arena");
    tl_delta_parse_in pin = {.file = "00000000000000000007.json", .version = in->version,
                             .meta = in->meta};
    tl_log_commit c;
    int rc = tl_delta_commit_parse(in->buf, in->len, &pin, ar, &c, err);
    uint64_t h = *digest;
    if (!rc) {
        for (uint32_t i = 0; i < c.n_actions; i++) {
            const tl_log_action *a = &c.actions[i];
            h = fnv(h, &a->kind, sizeof a->kind);
            if (a->kind == TL_LOG_ADD) {
                h = fnv(h, a->u.add.path, strlen(a->u.add.path) + 1);
                h = fnv(h, &a->u.add.size_bytes, 8);
                h = fnv(h, &a->u.add.n_rows, 8);
                h = fnv(h, &a->u.add.has_stats, sizeof(int));
                h = dr_pvals(h, &a->u.add.part);
            } else if (a->kind == TL_LOG_REMOVE) {
                h = fnv(h, a->u.rm.path, strlen(a->u.rm.path) + 1);
                h = fnv(h, &a->u.rm.deletion_ms, 8);
            } else if (a->kind == TL_LOG_METADATA) {
                for (uint32_t k = 0; k < a->u.meta.n_fields; k++) {
                    const tl_log_field *fd = &a->u.meta.fields[k];
                    h = fnv(h, fd->name, strlen(fd->name) + 1);
                    h = fnv(h, &fd->type, sizeof fd->type);
                    h = fnv(h, &fd->nullable, sizeof fd->nullable);
                }
            }
        }
        tl_log_commit_free(&c);
        int64_t ms = -2;
        rc = tl_delta_commit_time(in->buf, in->len, "00000000000000000007.json", &ms, err);
        h = fnv(h, &ms, sizeof ms);
    }
    tl_log_arena_free(ar);
    *digest = h;
    return rc;
}

static char *dr_slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_delta_read/%s", TL_SOURCE_DIR, name);
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

Test(delta_read, allocation_failure_sweep_commit_parser)
{
    oom_sweep_after_arm = json_mode;
    sweep_stats st = {0};
    static const char *const v0[] = {"ok_v0", "ok_v0_adds", "ok_reader3", "ok_v0_types"};
    for (size_t i = 0; i < sizeof v0 / sizeof *v0; i++) {
        dr_in in = {0};
        char *b = dr_slurp(v0[i], &in.len);
        in.buf = b;
        sweep(v0[i], dr_op, &in, "00000000000000000007.json", &st);
        free(b);
    }
    /* ok_v1_mixed with ok_v0's metaData in force */
    dr_in in0 = {0};
    char *b0 = dr_slurp("ok_v0", &in0.len);
    tl_log_arena *ar = tl_log_arena_new();
    cr_assert_not_null(ar);
    tl_delta_parse_in pin = {.file = "v0", .version = 0};
    tl_log_commit c0;
    tl_error err = {0};
    cr_assert_eq(tl_delta_commit_parse(b0, in0.len, &pin, ar, &c0, &err), TL_OK, "%s", err.msg);
    const tl_log_metadata *meta = NULL;
    for (uint32_t i = 0; i < c0.n_actions; i++)
        if (c0.actions[i].kind == TL_LOG_METADATA)
            meta = &c0.actions[i].u.meta;
    cr_assert_not_null(meta);
    dr_in in1 = {0};
    char *b1 = dr_slurp("ok_v1_mixed", &in1.len);
    in1.buf = b1;
    in1.version = 1;
    in1.meta = meta;
    sweep("ok_v1_mixed", dr_op, &in1, "00000000000000000007.json", &st);
    free(b1);
    tl_log_commit_free(&c0);
    tl_log_arena_free(ar);
    free(b0);
    oom_sweep_after_arm = NULL;
    tl_json_alloc_install();
    report("delta_read commit parser + commit time (5 commits)", &st);
}

/* The whole Delta log read: table open, snapshots at every version and the
 * latest, each file's partition values, rows and history. */
static int dr_table_op(void *ctx, uint64_t *digest, tl_error *err)
{
    (void)ctx;
    tl_table *t = NULL;
    int rc = tl_table_open(dpath, &t, err);
    if (rc)
        return rc;
    uint64_t h = *digest;
    for (int64_t v = 0; v <= 3 && !rc; v++) {
        tl_at at = {TL_AT_VERSION, v, v};
        tl_snapshot *s = NULL;
        rc = tl_snapshot_open(t, v == 3 ? NULL : &at, &s, err);
        if (rc)
            break;
        tl_snapshot_info in;
        tl_snapshot_get_info(s, &in);
        h = fnv(h, &in.n_fields, sizeof in.n_fields);
        h = fnv(h, &in.n_rows, sizeof in.n_rows);
        h = fnv(h, &in.timestamp_ms, sizeof in.timestamp_ms);
        for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
            tl_file_info fi;
            tl_snapshot_file(s, i, &fi);
            h = fnv(h, fi.path, strlen(fi.path) + 1);
            h = fnv(h, &fi.n_rows, sizeof fi.n_rows);
        }
        tl_snapshot_close(s);
    }
    tl_table_close(t);
    *digest = h;
    return rc;
}

Test(delta_read, allocation_failure_sweep_table_open)
{
    put_commit(0, CI(1000, "CREATE TABLE") PROTO META2 ADD("sym=A/a.parquet", "\"A\"", 10)
                      ADD("sym=B/b.parquet", "\"B\"", 20));
    put_commit(1, ADD("sym=A/c%20x.parquet", "\"A\"", 30)
                  "{\"txn\":{\"appId\":\"ingest\",\"version\":7,\"lastUpdated\":2000}}\n"
                  "{\"remove\":{\"path\":\"sym=A/a.parquet\",\"deletionTimestamp\":2000,"
                  "\"dataChange\":true}}\n" CI(2000, "WRITE"));
    put_commit(2, CI(3000, "WRITE") ADD("sym=__HIVE_DEFAULT_PARTITION__/d.parquet", "null", 40));
    put_commit(3, "{\"remove\":{\"path\":\"sym=B/b.parquet\",\"dataChange\":true}}\n");
    set_mtime(3, 9000);
    oom_sweep_after_arm = json_mode;
    sweep_stats st = {0};
    sweep("delta table open", dr_table_op, NULL, NULL, &st);
    oom_sweep_after_arm = NULL;
    tl_json_alloc_install();
    report("delta table open + 4 snapshots", &st);
}

/* ---- one-field mutations of valid Delta commits (tests/format/json_mut.h) ------ */

#include "../format/json_mut.h"

typedef struct dm_ctx {
    int64_t version;
    const tl_log_metadata *meta;
    long refused;
} dm_ctx;

/* Every mutated commit parses (with the structure fuzz_delta_read checks:
 * commitInfo first, canonical order, paths inside the table) or is refused
 * with a known code, no actions and a message naming the commit. */
static void dm_check(const char *buf, size_t len, int line, int target, int variant, void *vctx)
{
    dm_ctx *x = vctx;
    tl_log_arena *ar = tl_log_arena_new();
    cr_assert_not_null(ar);
    tl_delta_parse_in in = {.file = "00000000000000000009.json", .version = x->version,
                            .meta = x->meta};
    tl_log_commit c;
    tl_error err = {0};
    int rc = tl_delta_commit_parse(buf, len, &in, ar, &c, &err);
    if (rc != TL_OK) {
        cr_assert(rc == TL_ECORRUPT || rc == TL_EUNSUPPORTED || rc == TL_EVERSION,
                  "line %d value %d variant %d: rc %d: %s", line, target, variant, rc, err.msg);
        cr_assert(strstr(err.msg, "00000000000000000009.json"),
                  "line %d value %d variant %d: %s", line, target, variant, err.msg);
        cr_assert_null(c.actions);
        cr_assert_eq(c.n_actions, 0);
        x->refused++;
    } else {
        cr_assert_geq(c.n_actions, 1);
        cr_assert_eq(c.actions[0].kind, TL_LOG_COMMIT_INFO, "line %d value %d variant %d",
                     line, target, variant);
        for (uint32_t i = 0; i < c.n_actions; i++) {
            const tl_log_action *a = &c.actions[i];
            const char *p = a->kind == TL_LOG_ADD ? a->u.add.path
                            : a->kind == TL_LOG_REMOVE ? a->u.rm.path : NULL;
            if (p)
                cr_assert(p[0] != '/' && strncmp(p, "../", 3) != 0 && !strstr(p, "/../"),
                          "line %d value %d variant %d: path %s", line, target, variant, p);
        }
        tl_log_commit_free(&c);
    }
    int64_t ms = -2;
    tl_error et = {0};
    rc = tl_delta_commit_time(buf, len, "00000000000000000009.json", &ms, &et);
    cr_assert(rc == TL_OK ? ms >= -1 : (rc == TL_ECORRUPT || rc == TL_EUNSUPPORTED) &&
                                           strstr(et.msg, "00000000000000000009.json"),
              "commit time: rc %d: %s", rc, et.msg);
    tl_log_arena_free(ar);
}

Test(delta_read, every_one_field_mutation_is_refused_in_place_or_well_formed)
{
    long total = 0, refused = 0;
    static const char *const v0[] = {"ok_v0", "ok_v0_adds", "ok_reader3", "ok_v0_types"};
    for (size_t i = 0; i < sizeof v0 / sizeof *v0; i++) {
        size_t len;
        char *b = dr_slurp(v0[i], &len);
        b[len] = 0;
        dm_ctx x = {0, NULL, 0};
        total += jm_sweep(b, dm_check, &x);
        refused += x.refused;
        free(b);
    }
    /* ok_v1_mixed with ok_v0's metaData in force */
    size_t l0, l1;
    char *b0 = dr_slurp("ok_v0", &l0);
    tl_log_arena *ar = tl_log_arena_new();
    cr_assert_not_null(ar);
    tl_delta_parse_in pin = {.file = "v0", .version = 0};
    tl_log_commit c0;
    tl_error err = {0};
    cr_assert_eq(tl_delta_commit_parse(b0, l0, &pin, ar, &c0, &err), TL_OK, "%s", err.msg);
    dm_ctx x = {1, NULL, 0};
    for (uint32_t i = 0; i < c0.n_actions; i++)
        if (c0.actions[i].kind == TL_LOG_METADATA)
            x.meta = &c0.actions[i].u.meta;
    char *b1 = dr_slurp("ok_v1_mixed", &l1);
    b1[l1] = 0;
    total += jm_sweep(b1, dm_check, &x);
    refused += x.refused;
    free(b1);
    tl_log_commit_free(&c0);
    tl_log_arena_free(ar);
    free(b0);
    fprintf(stderr, "delta_read mutations: %ld commits, %ld refused, %ld accepted\n", total,
            refused, total - refused);
    cr_assert_gt(refused, total / 4);
}

/* Delta checkpoint file names (LOG-D1): classic, multi-part and v2
 * (UUID-named, parquet or json) forms; anything else is not one. */
Test(delta_read, checkpoint_file_names)
{
    static const struct {
        const char *name;
        int want;
    } t[] = {
        {"00000000000000000010.checkpoint.parquet", 1},
        {"00000000000000000010.checkpoint.0000000001.0000000002.parquet", 1},
        {"00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json", 1},
        {"00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.parquet", 1},
        {"00000000000000000010.checkpoint.json", 0},   /* no UUID part */
        {"00000000000000000010.json", 0},
        {"0000000000000000001x.checkpoint.parquet", 0},
        {"00000000000000000010.checkpoint", 0},
        {"00000000000000000010.checkpoint.parquet.tmp", 0},
        {"00000000000000000010.checkpointXparquet", 0},
        {"_last_checkpoint", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        cr_assert_eq(tl_delta_checkpoint_name(t[i].name), t[i].want, "%s", t[i].name);
}
