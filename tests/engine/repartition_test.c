/*
 * repartition_test.c - tl_table_repartition (engine/src/repartition.c;
 * spec/MAINT.md MAINT-P1..P9): same rows under a new partition spec and sort
 * key, each new file sorted by the new key (a stable sort of the old file
 * order), the commit's actions (metaData with the same id, removes without
 * partition values when the spec changes, dataChange false), time travel
 * to older versions with their own spec, an external sort under a small
 * memory budget (runs spilled, _tmp/ removed), unchanged spec, dry run,
 * errors (unknown column, wrong type, repeated sort column), a concurrent
 * commit (conflict, nothing visible), and a failed I/O call at every point.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "io_int.h"
#include "log_int.h"
#include "table_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256], tpath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_repart.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(repartition, .init = setup, .fini = teardown);

static tl_table *create_ticks(void)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    return t;
}

static int64_t append_gen(tl_table *t, uint64_t seed, uint32_t days, uint64_t rows)
{
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.seed = seed;
    go.days = days;
    go.rows_per_day = rows;
    return tlt_append_gen(t, &go, &(tl_append_opts){.threads = 1}, 4096, NULL);
}

static int64_t latest(tl_table *t)
{
    int64_t lo, hi;
    tl_error err;
    cr_assert_eq(tl_table_versions(t, &lo, &hi, &err), TL_OK, "%s", err.msg);
    return hi;
}

/* Lines of a scan of version v (unordered, file order) sorted: the row
 * multiset as text. */
static char *rows_text(tl_table *t, int64_t v, int ordered, size_t *len)
{
    tl_error err;
    tl_snapshot *s;
    tl_at at = {.kind = v < 0 ? TL_AT_LATEST : TL_AT_VERSION, .version = v};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    char path[700];
    snprintf(path, sizeof path, "%s/scan.csv", dir);
    FILE *f = fopen(path, "w+");
    cr_assert_not_null(f);
    tl_scan_opts so = {.threads = 1, .ordered = ordered};
    cr_assert_eq(tl_scan_print(s, &so, TL_SCAN_CSV, 0, fileno(f), NULL, &err), TL_OK, "%s",
                 err.msg);
    fclose(f);
    tl_snapshot_close(s);
    char cmd[1600];
    if (!ordered) {
        snprintf(cmd, sizeof cmd, "LC_ALL=C sort -o '%s' '%s'", path, path);
        cr_assert_eq(system(cmd), 0);
    }
    f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void read_commit(int64_t v, tl_log_commit *c)
{
    char name[TL_LOG_NAME_LEN + 1], p[600];
    tl_log_commit_name(v, name);
    snprintf(p, sizeof p, "%s/_delta_log/%s", tpath, name);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    tl_error err;
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.version = v;
    cr_assert_eq(tl_log_commit_parse(buf, n, &po, c, &err), TL_OK, "%s", err.msg);
}

static int path_exists(const char *rel)
{
    char p[700];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tpath, rel);
    return stat(p, &st) == 0;
}

/* Each file of the latest snapshot is sorted by (symbol, timestamp) and
 * every row's symbol equals... (no symbol partition here): checks the key
 * order by reading symbol and timestamp. */
static void check_sorted_by_symbol_ts(tl_table *t)
{
    tl_error err;
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        tl_rows_filter f = {.has_days = fi.has_day && !fi.day_null, .day_from = fi.day,
                            .day_to = fi.day};
        (void)f;
    }
    tl_reader *r;
    const char *cols[2] = {"symbol", "timestamp"};
    cr_assert_eq(tl_reader_open(s, NULL, cols, 2, &r, &err), TL_OK, "%s", err.msg);
    char prev_sym[64] = "";
    int64_t prev_ts = INT64_MIN;
    uint64_t rows = 0;
    size_t file_rows_left = 0, fidx = 0;
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (!b.n_rows)
            break;
        for (uint32_t k = 0; k < b.n_rows; k++) {
            if (file_rows_left == 0) { /* a new file starts */
                tl_file_info fi;
                tl_snapshot_file(s, fidx++, &fi);
                file_rows_left = fi.n_rows;
                prev_sym[0] = '\0';
                prev_ts = INT64_MIN;
            }
            const tl_colvec *sv = &b.cols[0];
            uint32_t len = sv->offsets[k + 1] - sv->offsets[k];
            char sym[64];
            cr_assert_lt(len, sizeof sym);
            memcpy(sym, sv->data + sv->offsets[k], len);
            sym[len] = '\0';
            int64_t ts = ((const int64_t *)b.cols[1].values)[k];
            int c = strcmp(prev_sym, sym);
            cr_assert(c < 0 || (c == 0 && prev_ts <= ts), "row %" PRIu64 " out of (symbol, ts) order",
                      rows);
            memcpy(prev_sym, sym, len + 1);
            prev_ts = ts;
            file_rows_left--;
            rows++;
        }
    }
    tl_reader_close(r);
    tl_snapshot_close(s);
}

Test(repartition, new_spec_and_sort_key_keep_rows_and_history)
{
    tl_table *t = create_ticks();
    for (uint64_t i = 1; i <= 3; i++)
        append_gen(t, i, 2, 1500);
    int64_t v0 = latest(t);
    size_t l0, o0;
    char *rows0 = rows_text(t, -1, 0, &l0);
    char *ord0 = rows_text(t, -1, 1, &o0);

    tl_error err;
    const char *key[2] = {"symbol", "timestamp"};
    tl_repartition_result r;
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1, .set_sort_key = 1,
                                                                .sort_key = key, .n_sort_key = 2},
                                      &r, &err),
                 TL_OK, "%s", err.msg);
    cr_assert(r.committed);
    cr_assert_eq(r.version, v0 + 1);
    cr_assert_eq(r.rows, 3 * 2 * 2 * 1500);
    cr_assert_eq(r.files_removed, 12);
    cr_assert_eq(r.partitions_before, 4);
    cr_assert_eq(r.partitions_after, 2); /* two days */
    cr_assert_eq(r.files_added, 2);
    cr_assert(!path_exists("_tmp"));

    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    cr_assert_null(in.symbol_column);
    cr_assert_str_eq(in.day_column, "timestamp");
    cr_assert_eq(in.n_sort_key, 2);
    cr_assert_str_eq(in.sort_key[0], "symbol");
    cr_assert_eq(in.n_partitions, 2);
    char id[64];
    snprintf(id, sizeof id, "%s", in.table_id);
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        cr_assert_eq(fi.has_symbol, 0);
        cr_assert_eq(strncmp(fi.path, "date=", 5), 0, "%s", fi.path);
    }
    tl_snapshot_close(s);
    size_t l1;
    char *rows1 = rows_text(t, -1, 0, &l1);
    cr_assert_eq(l1, l0);
    cr_assert_eq(memcmp(rows0, rows1, l0), 0, "same rows (MAINT-P2)");
    check_sorted_by_symbol_ts(t);

    /* time travel: the old version reads with its own spec and sort key */
    tl_at at = {.kind = TL_AT_VERSION, .version = v0};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_get_info(s, &in);
    cr_assert_str_eq(in.symbol_column, "symbol");
    cr_assert_str_eq(in.sort_key[0], "expiry");
    cr_assert_eq(in.n_partitions, 4);
    cr_assert_str_eq(in.table_id, id);
    tl_snapshot_close(s);
    size_t o2;
    char *ord2 = rows_text(t, v0, 1, &o2);
    cr_assert_eq(o2, o0);
    cr_assert_eq(memcmp(ord0, ord2, o0), 0, "old version's ordered scan unchanged");

    /* the commit: metaData (same id), removes without partition values,
     * dataChange false everywhere (MAINT-P4) */
    tl_log_commit c;
    read_commit(v0 + 1, &c);
    cr_assert_str_eq(c.actions[0].u.ci.operation, "REPARTITION");
    int meta = 0, rm = 0, add = 0;
    for (uint32_t i = 1; i < c.n_actions; i++) {
        const tl_log_action *a = &c.actions[i];
        if (a->kind == TL_LOG_METADATA) {
            meta++;
            cr_assert_str_eq(a->u.meta.id, id);
            cr_assert_null(a->u.meta.part_symbol_col);
        } else if (a->kind == TL_LOG_REMOVE) {
            rm++;
            cr_assert_eq(a->u.rm.data_change, 0);
            cr_assert_eq(a->u.rm.has_part, 0);
            cr_assert(a->u.rm.has_n_rows && a->u.rm.has_size);
        } else if (a->kind == TL_LOG_ADD) {
            add++;
            cr_assert_eq(a->u.add.data_change, 0);
            cr_assert_eq(a->u.add.part.has_symbol, 0);
        }
    }
    cr_assert_eq(meta, 1);
    cr_assert_eq(rm, 12);
    cr_assert_eq(add, 2);
    tl_log_commit_free(&c);

    /* back to symbol partitions and the ticks key: same rows, and the
     * ordered scan equals the original (same spec, key and per-partition
     * stable order of rows) */
    const char *tkey[4] = {"expiry", "opt_type", "strike", "timestamp"};
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.symbol_column = "symbol",
                                                                .set_sort_key = 1,
                                                                .sort_key = tkey, .n_sort_key = 4},
                                      &r, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(r.partitions_after, 4);
    size_t l3;
    char *rows3 = rows_text(t, -1, 0, &l3);
    cr_assert_eq(l3, l0);
    cr_assert_eq(memcmp(rows0, rows3, l0), 0);
    free(rows0);
    free(rows1);
    free(rows3);
    free(ord0);
    free(ord2);
    tl_table_close(t);
}

Test(repartition, external_sort_spills_runs_and_cleans_up)
{
    tl_table *t = create_ticks();
    for (uint64_t i = 1; i <= 4; i++)
        append_gen(t, i, 1, 3000);
    size_t l0;
    char *rows0 = rows_text(t, -1, 0, &l0);
    tl_error err;
    const char *key[2] = {"symbol", "timestamp"};
    tl_repartition_result r;
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1, .set_sort_key = 1,
                                                                .sort_key = key, .n_sort_key = 2,
                                                                .max_memory = 1 << 20,
                                                                .target_rows = 5000},
                                      &r, &err),
                 TL_OK, "%s", err.msg);
    cr_assert(r.committed);
    cr_assert_gt(r.runs_spilled, 2);
    cr_assert_eq(r.files_added, 5); /* 24000 rows, 5000 per file */
    cr_assert(!path_exists("_tmp"), "scratch runs removed (MAINT-P6)");
    size_t l1;
    char *rows1 = rows_text(t, -1, 0, &l1);
    cr_assert_eq(l1, l0);
    cr_assert_eq(memcmp(rows0, rows1, l0), 0);
    check_sorted_by_symbol_ts(t);
    free(rows0);
    free(rows1);
    tl_table_close(t);
}

Test(repartition, unchanged_and_dry_run_commit_nothing)
{
    tl_table *t = create_ticks();
    append_gen(t, 1, 1, 500);
    int64_t v0 = latest(t);
    tl_error err;
    tl_repartition_result r;
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.symbol_column = "symbol"}, &r,
                                      &err),
                 TL_OK, "%s", err.msg);
    cr_assert(r.unchanged);
    cr_assert_eq(r.committed, 0);
    cr_assert_eq(r.version, -1);
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.no_day = 1, .dry_run = 1}, &r,
                                      &err),
                 TL_OK, "%s", err.msg);
    cr_assert(r.dry_run);
    cr_assert_eq(r.committed, 0);
    cr_assert_eq(r.files_removed, 2);
    cr_assert_eq(r.rows, 1000);
    cr_assert_eq(r.partitions_before, 2);
    cr_assert_eq(latest(t), v0);
    cr_assert(!path_exists("_tmp"));
    tl_table_close(t);
}

Test(repartition, bad_specs_are_refused)
{
    tl_table *t = create_ticks();
    append_gen(t, 1, 1, 100);
    int64_t v0 = latest(t);
    tl_error err;
    tl_repartition_result r;
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.symbol_column = "nope"}, &r,
                                      &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "'nope'") && strstr(err.msg, "not in the schema"), "%s", err.msg);
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.symbol_column = "price"}, &r,
                                      &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "'price' is float64, expected string"), "%s", err.msg);
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.day_column = "symbol"}, &r,
                                      &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "expected timestamp"), "%s", err.msg);
    const char *k2[2] = {"price", "price"};
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.set_sort_key = 1, .sort_key = k2,
                                                                .n_sort_key = 2},
                                      &r, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
    const char *k1[1] = {"zzz"};
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.set_sort_key = 1, .sort_key = k1,
                                                                .n_sort_key = 1},
                                      &r, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "'zzz'"), "%s", err.msg);
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1,
                                                                .symbol_column = "symbol"},
                                      &r, &err),
                 TL_EINVAL);
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.target_rows = (uint64_t)1 << 40},
                                      &r, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "target rows"), "%s", err.msg);
    cr_assert_eq(latest(t), v0);
    tl_table_close(t);
}

/* a commit lands between the plan and the commit: the repartition conflicts */
static int hook_calls;
static int64_t hook_clock(void *arg)
{
    (void)arg;
    if (++hook_calls == 1) {
        tl_table *t2;
        tl_error err;
        cr_assert_eq(tl_table_open(tpath, &t2, &err), TL_OK, "%s", err.msg);
        append_gen(t2, 99, 1, 100);
        tl_table_close(t2);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(repartition, concurrent_commit_conflicts_and_nothing_is_visible)
{
    tl_table *t0 = create_ticks();
    append_gen(t0, 1, 1, 500);
    int64_t v0 = latest(t0);
    tl_table_close(t0);
    hook_calls = 0;
    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open_io(tpath, NULL, hook_clock, NULL, &t, &err), TL_OK, "%s", err.msg);
    tl_repartition_result r;
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1}, &r, &err),
                 TL_ECONFLICT);
    cr_assert(strstr(err.msg, "conflict") && strstr(err.msg, tpath), "%s", err.msg);
    cr_assert_eq(latest(t), v0 + 1); /* the append only */
    cr_assert(!path_exists("_tmp"));
    char cmd[800];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -path '*date=*' -name '*.tls' ! -path "
             "'*symbol=*')\"", tpath);
    cr_assert_eq(system(cmd), 0, "no output of the repartition left");
    tl_table_close(t);
}

Test(repartition, failed_io_call_at_every_point_leaves_old_or_new_version, .timeout = 300)
{
    tl_table *t0 = create_ticks();
    for (uint64_t i = 1; i <= 2; i++)
        append_gen(t0, i, 1, 600);
    int64_t v0 = latest(t0);
    size_t l0;
    char *rows0 = rows_text(t0, -1, 0, &l0);
    tl_table_close(t0);
    char keep[700], cmd[1600];
    snprintf(keep, sizeof keep, "%s/orig", dir);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", tpath, keep);
    cr_assert_eq(system(cmd), 0);
    int outcomes[2] = {0, 0};
    for (uint64_t k = 1; k < 2000; k++) {
        tl_error err;
        tl_io_fault *f;
        cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK, "%s", err.msg);
        tl_table *t;
        cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK, "%s",
                     err.msg);
        tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k, .action = TL_IO_FAULT_FAIL,
                                 .err_no = EIO};
        cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
        tl_repartition_result r;
        int rc = tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1,
                                                                .max_memory = 1 << 18},
                                      &r, &err);
        if (rc)
            cr_assert(err.msg[0], "k=%" PRIu64 ": an error without a message", k);
        int fired = tl_io_fault_count(f, TL_IO_OP_ANY) >= k;
        tl_table_close(t);
        tl_io_fault_close(f);
        cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "k=%" PRIu64 ": %s", k, err.msg);
        int64_t v = latest(t);
        cr_assert(v == v0 || v == v0 + 1, "k=%" PRIu64 ": version %" PRId64, k, v);
        if (rc == TL_OK)
            cr_assert_eq(v, v0 + 1, "k=%" PRIu64, k);
        size_t l1;
        char *rows1 = rows_text(t, -1, 0, &l1);
        cr_assert_eq(l1, l0, "k=%" PRIu64, k);
        cr_assert_eq(memcmp(rows0, rows1, l0), 0, "k=%" PRIu64 ": rows differ", k);
        free(rows1);
        outcomes[v - v0]++;
        tl_table_close(t);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", tpath, keep, tpath);
        cr_assert_eq(system(cmd), 0);
        if (!fired)
            break;
    }
    fprintf(stderr, "repartition fault sweep: %d x old version, %d x new version\n", outcomes[0],
            outcomes[1]);
    cr_assert_gt(outcomes[0], 10);
    cr_assert_gt(outcomes[1], 0);
    free(rows0);
}

/* A nullable string column as the new symbol column: null values go to the
 * null partition (PP-5); a value that cannot be a partition value (not
 * UTF-8) fails naming the file and row, and nothing is committed. */
static void append_rows(tl_table *t, const char *const *venue, uint32_t n, int64_t ts0)
{
    char data[256];
    uint32_t offs[17];
    uint8_t valid[4] = {0};
    int64_t ts[16], x[16];
    size_t at = 0;
    offs[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (venue[i]) {
            size_t l = strlen(venue[i]);
            memcpy(data + at, venue[i], l);
            at += l;
            valid[i / 8] |= (uint8_t)(1u << (i % 8));
        }
        offs[i + 1] = (uint32_t)at;
        ts[i] = ts0 + (int64_t)i;
        x[i] = (int64_t)i;
    }
    tl_coldef d[3] = {{"ts", TL_TIMESTAMP}, {"venue", TL_STRING}, {"x", TL_INT64}};
    tl_colvec c[3] = {{ts, NULL, NULL, NULL}, {NULL, valid, offs, (const uint8_t *)data},
                      {x, NULL, NULL, NULL}};
    tl_batch b = {n, 3, d, c};
    tl_error err;
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
}

Test(repartition, null_and_bad_symbol_values)
{
    tl_field f[3] = {{"ts", TL_TIMESTAMP, 0}, {"venue", TL_STRING, 1}, {"x", TL_INT64, 0}};
    const char *key[1] = {"ts"};
    tl_table_spec spec = {.fields = f, .n_fields = 3, .day_column = "ts", .sort_key = key,
                          .n_sort_key = 1};
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    const int64_t day = INT64_C(1763337600000000000);
    const char *v1[4] = {"NSE", NULL, "BSE", "NSE"};
    append_rows(t, v1, 4, day);
    tl_repartition_result r;
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.symbol_column = "venue"}, &r,
                                      &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(r.partitions_after, 3);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_n_partitions(s), 3);
    tl_partition_info pi;
    tl_snapshot_partition(s, 0, &pi); /* null first */
    cr_assert(pi.has_symbol && pi.symbol_null);
    cr_assert_eq(pi.n_rows, 1);
    tl_file_info fi;
    tl_snapshot_file(s, pi.first_file, &fi);
    cr_assert_eq(strncmp(fi.path, "symbol=~null/date=2025-11-17/", 29), 0, "%s", fi.path);
    tl_snapshot_partition(s, 2, &pi);
    cr_assert_str_eq(pi.symbol, "NSE");
    cr_assert_eq(pi.n_rows, 2);
    tl_snapshot_close(s);
    int64_t v0 = latest(t);
    /* back to no symbol partition, then a bad value arrives and a new
     * symbol partitioning fails on it */
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1}, &r, &err), TL_OK,
                 "%s", err.msg);
    const char *v2[1] = {"\xff\xfe"};
    append_rows(t, v2, 1, day + 100);
    v0 = latest(t);
    cr_assert_eq(tl_table_repartition(t, &(tl_repartition_opts){.symbol_column = "venue"}, &r,
                                      &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "valid UTF-8") && strstr(err.msg, ".tls") &&
                  strstr(err.msg, "'venue'"),
              "%s", err.msg);
    cr_assert_eq(latest(t), v0);
    cr_assert(!path_exists("_tmp"));
    tl_table_close(t);
}
