/*
 * optimize_test.c - tl_table_optimize (engine/src/optimize.c; spec/MAINT.md
 * MAINT-O1..O10): rows and ordered-scan order kept, time travel to the old
 * files, the commit's actions (dataChange false, OPTIMIZE), nothing to do,
 * dry run, target rows and files kept at the target, filters, a stable merge
 * of a key with nulls, -0.0/+0.0, NaN and ties, a multi-pass merge under a
 * small memory budget, concurrent commits between plan and commit (appends
 * to another and the same partition, a concurrent optimize removing the
 * inputs), errors, and a failed I/O call at every point.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "io_int.h"
#include "log_int.h"
#include "table_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256], tpath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_opt.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(optimize, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------------------- */

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

/* One append of generated ticks (arrival order): seed, days, rows per day. */
static int64_t append_gen(tl_table *t, uint64_t seed, uint32_t days, uint64_t rows,
                          const char *only_symbol)
{
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.seed = seed;
    go.days = days;
    go.rows_per_day = rows;
    const char *one[1] = {only_symbol};
    if (only_symbol) {
        go.symbols = one;
        go.n_symbols = 1;
    }
    return tlt_append_gen(t, &go, &(tl_append_opts){.threads = 1}, 4096, NULL);
}

/* The ordered scan of version v (-1 = latest) as CSV text (malloc'd). */
static char *scan_text(tl_table *t, int64_t v, size_t *len)
{
    tl_error err;
    tl_snapshot *s;
    tl_at at = {.kind = v < 0 ? TL_AT_LATEST : TL_AT_VERSION, .version = v};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    tl_scan_opts so = {.threads = 1, .ordered = 1};
    cr_assert_eq(tl_scan_print(s, &so, TL_SCAN_CSV, 0, fileno(f), NULL, &err), TL_OK, "%s",
                 err.msg);
    tl_snapshot_close(s);
    long n = lseek(fileno(f), 0, SEEK_END);
    cr_assert_geq(n, 0);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(pread(fileno(f), buf, (size_t)n, 0), n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static tl_snapshot_info info_at(tl_table *t, int64_t v, tl_snapshot **keep)
{
    tl_error err;
    tl_snapshot *s;
    tl_at at = {.kind = v < 0 ? TL_AT_LATEST : TL_AT_VERSION, .version = v};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_info in;
    tl_snapshot_get_info(s, &in);
    *keep = s;
    return in;
}

static int64_t latest(tl_table *t)
{
    int64_t lo, hi;
    tl_error err;
    cr_assert_eq(tl_table_versions(t, &lo, &hi, &err), TL_OK, "%s", err.msg);
    return hi;
}

/* Parse commit v of the table. */
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

static int count_tls(const char *sub)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "find '%s/%s' -name '*.tls' 2>/dev/null | wc -l", tpath, sub);
    FILE *p = popen(cmd, "r");
    int n = -1;
    cr_assert_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static int path_exists(const char *rel)
{
    char p[700];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", tpath, rel);
    return stat(p, &st) == 0;
}

/* ---- compaction ----------------------------------------------------------------------- */

Test(optimize, merges_small_files_keeping_rows_order_and_history)
{
    tl_table *t = create_ticks();
    for (uint64_t i = 1; i <= 5; i++)
        append_gen(t, i, 2, 2000, NULL); /* 2 symbols x 2 days: 4 partitions */
    int64_t v0 = latest(t);
    tl_snapshot *s;
    tl_snapshot_info before = info_at(t, -1, &s);
    tl_snapshot_close(s);
    cr_assert_eq(before.n_files, 20);
    size_t l0;
    char *txt0 = scan_text(t, -1, &l0);

    tl_error err;
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, NULL, &r, &err), TL_OK, "%s", err.msg);
    cr_assert(r.committed);
    cr_assert_eq(r.version, v0 + 1);
    cr_assert_eq(r.read_version, v0);
    cr_assert_eq(r.partitions, 4);
    cr_assert_eq(r.files_removed, 20);
    cr_assert_eq(r.files_added, 4);
    cr_assert_eq(r.rows, before.n_rows);
    cr_assert_eq(r.merge_passes, 1);
    cr_assert_eq(r.parts[0].files_in, 5);
    cr_assert_eq(r.parts[0].files_out, 1);
    cr_assert_str_eq(r.parts[0].symbol, "BANKNIFTY");
    tl_optimize_result_free(&r);

    tl_snapshot_info after = info_at(t, -1, &s);
    tl_snapshot_close(s);
    cr_assert_eq(after.n_rows, before.n_rows);
    cr_assert_eq(after.n_files, 4);
    cr_assert_eq(after.n_partitions, 4);
    size_t l1;
    char *txt1 = scan_text(t, -1, &l1);
    cr_assert_eq(l1, l0);
    cr_assert_eq(memcmp(txt0, txt1, l0), 0, "ordered scan differs after optimize (MAINT-O3)");
    /* time travel: the old version still reads its 20 files */
    size_t l2;
    char *txt2 = scan_text(t, v0, &l2);
    cr_assert_eq(l2, l0);
    cr_assert_eq(memcmp(txt0, txt2, l0), 0);
    tl_snapshot_info old = info_at(t, v0, &s);
    tl_snapshot_close(s);
    cr_assert_eq(old.n_files, 20);
    free(txt0);
    free(txt1);
    free(txt2);

    /* the commit: OPTIMIZE, removes and adds with dataChange false (MAINT-O5) */
    tl_log_commit c;
    read_commit(v0 + 1, &c);
    cr_assert_str_eq(c.actions[0].u.ci.operation, "OPTIMIZE");
    cr_assert_eq(c.actions[0].u.ci.n_removed_files, 20);
    cr_assert_eq(c.actions[0].u.ci.n_added_files, 4);
    cr_assert_eq(c.actions[0].u.ci.n_added_rows, (int64_t)before.n_rows);
    cr_assert_eq(c.actions[0].u.ci.n_removed_rows, (int64_t)before.n_rows);
    int nrm = 0, nadd = 0, found_target = 0;
    for (uint32_t i = 0; i < c.actions[0].u.ci.op_params.n; i++)
        found_target |= strcmp(c.actions[0].u.ci.op_params.kv[i].key, "targetRows") == 0;
    cr_assert(found_target);
    for (uint32_t i = 1; i < c.n_actions; i++) {
        const tl_log_action *a = &c.actions[i];
        if (a->kind == TL_LOG_REMOVE) {
            nrm++;
            cr_assert_eq(a->u.rm.data_change, 0);
            cr_assert(a->u.rm.has_part && a->u.rm.has_size && a->u.rm.has_n_rows);
        } else if (a->kind == TL_LOG_ADD) {
            nadd++;
            cr_assert_eq(a->u.add.data_change, 0);
            cr_assert(a->u.add.has_stats && a->u.add.stats.has_time_range);
        }
    }
    cr_assert_eq(nrm, 20);
    cr_assert_eq(nadd, 4);
    tl_log_commit_free(&c);
    /* the old files are still on disk (vacuum deletes them later) */
    cr_assert_eq(count_tls("."), 24);
    cr_assert(!path_exists("_tmp"));

    /* history */
    tl_history_entry *h;
    size_t nh;
    cr_assert_eq(tl_table_history(t, &h, &nh, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(h[nh - 1].operation, "OPTIMIZE");
    free(h);

    /* again: nothing to do, no commit (MAINT-O6) */
    cr_assert_eq(tl_table_optimize(t, NULL, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.committed, 0);
    cr_assert_eq(r.version, -1);
    cr_assert_eq(r.partitions, 0);
    cr_assert_eq(r.partitions_seen, 4);
    cr_assert_eq(latest(t), v0 + 1);
    tl_optimize_result_free(&r);
    tl_table_close(t);
}

Test(optimize, dry_run_lists_and_changes_nothing)
{
    tl_table *t = create_ticks();
    for (uint64_t i = 1; i <= 3; i++)
        append_gen(t, i, 1, 1000, NULL);
    int64_t v0 = latest(t);
    tl_error err;
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.dry_run = 1}, &r, &err), TL_OK, "%s",
                 err.msg);
    cr_assert(r.dry_run);
    cr_assert_eq(r.committed, 0);
    cr_assert_eq(r.version, -1);
    cr_assert_eq(r.partitions, 2);
    cr_assert_eq(r.files_removed, 6);
    cr_assert_eq(r.files_added, 0);
    cr_assert_eq(r.parts[1].files_in, 3);
    cr_assert_str_eq(r.parts[1].symbol, "NIFTY");
    for (uint32_t k = 0; k < 3; k++) {
        cr_assert(path_exists(r.parts[1].paths_in[k]), "%s", r.parts[1].paths_in[k]);
        cr_assert_eq(strncmp(r.parts[1].paths_in[k], "symbol=NIFTY/", 13), 0);
        if (k)
            cr_assert_lt(strcmp(r.parts[1].paths_in[k - 1], r.parts[1].paths_in[k]), 0,
                         "file order");
    }
    tl_optimize_result_free(&r);
    cr_assert_eq(latest(t), v0);
    cr_assert_eq(count_tls("."), 6);
    tl_table_close(t);
}

Test(optimize, target_rows_split_outputs_and_keep_full_files)
{
    tl_table *t = create_ticks();
    for (uint64_t i = 1; i <= 3; i++)
        append_gen(t, i, 1, 5000, "NIFTY"); /* 3 files of 5000 rows */
    size_t l0;
    char *txt0 = scan_text(t, -1, &l0);
    tl_error err;
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.target_rows = 4000}, &r, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(r.committed, 0);
    /* files of 5000 rows are at or above 4000: kept; nothing to do */
    cr_assert_eq(r.partitions, 0);
    tl_optimize_result_free(&r);
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.target_rows = 6000}, &r, &err), TL_OK,
                 "%s", err.msg);
    cr_assert(r.committed);
    cr_assert_eq(r.files_removed, 3);
    cr_assert_eq(r.files_added, 3); /* 6000 + 6000 + 3000 */
    tl_optimize_result_free(&r);
    tl_snapshot *s;
    tl_snapshot_info in = info_at(t, -1, &s);
    cr_assert_eq(in.n_files, 3);
    uint64_t rows[3];
    for (size_t i = 0; i < 3; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        rows[i] = fi.n_rows;
    }
    tl_snapshot_close(s);
    /* file order (by path) is output order: <uuid>-00000, -00001, -00002 */
    cr_assert_eq(rows[0], 6000);
    cr_assert_eq(rows[1], 6000);
    cr_assert_eq(rows[2], 3000);
    /* the order across the split files is the ordered scan's: the names of
     * one merge sort in output order (MAINT-O4) */
    size_t l1;
    char *txt1 = scan_text(t, -1, &l1);
    cr_assert_eq(l1, l0);
    cr_assert_eq(memcmp(txt0, txt1, l0), 0);
    free(txt0);
    free(txt1);
    /* 2 files at the target + 1 small: nothing to do at 6000 */
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.target_rows = 6000}, &r, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(r.committed, 0);
    tl_optimize_result_free(&r);
    tl_table_close(t);
}

Test(optimize, filters_select_partitions)
{
    tl_table *t = create_ticks();
    for (uint64_t i = 1; i <= 2; i++)
        append_gen(t, i, 2, 1000, NULL);
    tl_error err;
    tl_optimize_result r;
    const char *nifty[1] = {"NIFTY"};
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.symbols = nifty, .n_symbols = 1}, &r,
                                   &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(r.partitions, 2);
    cr_assert_eq(r.partitions_seen, 2);
    for (uint64_t i = 0; i < r.partitions; i++)
        cr_assert_str_eq(r.parts[i].symbol, "NIFTY");
    tl_optimize_result_free(&r);
    /* 2025-11-17 is day 20409; BANKNIFTY's first day only */
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.has_days = 1, .day_from = 20409,
                                                          .day_to = 20409},
                                   &r, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(r.partitions, 1);
    cr_assert_str_eq(r.parts[0].symbol, "BANKNIFTY");
    cr_assert_eq(r.parts[0].day, 20409);
    tl_optimize_result_free(&r);
    cr_assert_eq(tl_table_optimize(t, NULL, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.partitions, 1);
    tl_optimize_result_free(&r);
    tl_table_close(t);
}

Test(optimize, bad_options_are_refused)
{
    tl_table *t = create_ticks();
    append_gen(t, 1, 1, 100, NULL);
    tl_error err;
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.target_rows = ((uint64_t)1 << 31) + 1},
                                   &r, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "target rows") && strstr(err.msg, tpath), "%s", err.msg);
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.has_days = 1, .day_from = 5,
                                                          .day_to = 4},
                                   &r, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "day range"), "%s", err.msg);
    cr_assert_eq(tl_table_optimize(NULL, NULL, &r, &err), TL_EINVAL);
    tl_table_close(t);

    /* --symbols on a table without symbol partitions */
    char p2[400];
    snprintf(p2, sizeof p2, "%s/u", dir);
    tl_field f[2] = {{"ts", TL_TIMESTAMP, 0}, {"x", TL_INT64, 0}};
    tl_table_spec spec = {.fields = f, .n_fields = 2, .day_column = "ts"};
    cr_assert_eq(tl_table_create(p2, &spec, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_open(p2, &t, &err), TL_OK, "%s", err.msg);
    const char *s1[1] = {"A"};
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.symbols = s1, .n_symbols = 1}, &r,
                                   &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "partitioned by symbol"), "%s", err.msg);
    tl_table_close(t);
}

/* ---- the merge order: nulls, -0.0/+0.0, NaN, ties -------------------------------------- */

typedef struct krow {
    int k_null;
    int32_t k;
    double f;
    int64_t seq;
} krow;

static int krow_cmp(const krow *a, const krow *b)
{
    if (a->k_null != b->k_null)
        return a->k_null ? -1 : 1;
    if (!a->k_null && a->k != b->k)
        return a->k < b->k ? -1 : 1;
    int na = isnan(a->f), nb = isnan(b->f);
    if (na != nb)
        return na ? 1 : -1;
    if (!na && a->f != b->f)
        return a->f < b->f ? -1 : 1;
    if (!na && a->f == 0 && signbit(a->f) != signbit(b->f))
        return signbit(a->f) ? -1 : 1;
    return 0;
}

/* stable insertion sort */
static void krow_sort(krow *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        krow x = r[i];
        size_t j = i;
        while (j > 0 && krow_cmp(&r[j - 1], &x) > 0) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

static size_t read_krows(tl_table *t, int64_t v, krow *out, size_t cap)
{
    tl_error err;
    tl_snapshot *s;
    tl_at at = {.kind = v < 0 ? TL_AT_LATEST : TL_AT_VERSION, .version = v};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    tl_reader *r;
    const char *cols[3] = {"k", "f", "seq"};
    cr_assert_eq(tl_reader_open(s, NULL, cols, 3, &r, &err), TL_OK, "%s", err.msg);
    size_t n = 0;
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (!b.n_rows)
            break;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            cr_assert_lt(n, cap);
            out[n].k_null = !tl_bit_get(b.cols[0].validity, i);
            out[n].k = ((const int32_t *)b.cols[0].values)[i];
            out[n].f = ((const double *)b.cols[1].values)[i];
            out[n].seq = ((const int64_t *)b.cols[2].values)[i];
            n++;
        }
    }
    tl_reader_close(r);
    tl_snapshot_close(s);
    return n;
}

Test(optimize, merge_is_a_stable_sort_of_the_files_in_file_order)
{
    tl_field f[3] = {{"k", TL_INT32, 1}, {"f", TL_FLOAT64, 0}, {"seq", TL_INT64, 0}};
    const char *key[2] = {"k", "f"};
    tl_table_spec spec = {.fields = f, .n_fields = 3, .sort_key = key, .n_sort_key = 2};
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    const double fv[6] = {0.0, -0.0, NAN, 1.5, -2.0, INFINITY};
    enum { NF = 7, NR = 300 };
    for (int file = 0; file < NF; file++) {
        int32_t k[NR];
        double fl[NR];
        int64_t seq[NR];
        uint8_t valid[(NR + 7) / 8];
        memset(valid, 0xFF, sizeof valid);
        for (int i = 0; i < NR; i++) {
            k[i] = (int32_t)((i * 7 + file * 3) % 5);
            fl[i] = fv[(i + file) % 6];
            seq[i] = file * 1000 + i;
            if ((i + file) % 11 == 0)
                valid[i / 8] &= (uint8_t) ~(1u << (i % 8));
        }
        tl_coldef d[3] = {{"k", TL_INT32}, {"f", TL_FLOAT64}, {"seq", TL_INT64}};
        tl_colvec v[3] = {{k, valid, NULL, NULL}, {fl, NULL, NULL, NULL}, {seq, NULL, NULL, NULL}};
        tl_batch b = {NR, 3, d, v};
        tl_append *a;
        cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    }
    static krow want[NF * NR], got[NF * NR];
    size_t n = read_krows(t, -1, want, NF * NR); /* file order, each file sorted */
    cr_assert_eq(n, NF * NR);
    krow_sort(want, n);
    /* a small budget forces temporary runs (fan-in 2): still the same order */
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, &(tl_optimize_opts){.max_memory = 1}, &r, &err), TL_OK,
                 "%s", err.msg);
    cr_assert(r.committed);
    cr_assert_gt(r.merge_passes, 1);
    cr_assert_eq(r.files_added, 1);
    tl_optimize_result_free(&r);
    cr_assert(!path_exists("_tmp"), "scratch runs removed");
    cr_assert_eq(read_krows(t, -1, got, NF * NR), n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i].seq, want[i].seq, "row %zu: seq %" PRId64 ", want %" PRId64, i,
                     got[i].seq, want[i].seq);
    tl_table_close(t);
}

/* ---- concurrency: a commit between plan and commit -------------------------------------- */

typedef struct hook {
    int calls, fire_at;
    int kind; /* 1 append other partition, 2 append same partition, 3 optimize,
                 4 metaData change */
    int64_t version;
} hook;

static int64_t hook_clock(void *arg)
{
    hook *h = arg;
    if (++h->calls == h->fire_at) {
        tl_table *t2;
        tl_error err;
        cr_assert_eq(tl_table_open(tpath, &t2, &err), TL_OK, "%s", err.msg);
        if (h->kind == 1)
            h->version = append_gen(t2, 77, 1, 500, "BANKNIFTY");
        else if (h->kind == 2)
            h->version = append_gen(t2, 77, 1, 500, "NIFTY");
        else if (h->kind == 4) {
            /* a metaData change: the sort key becomes (timestamp) */
            tl_log_snapshot ls = {0};
            tl_log_snap_opts so = {.at = TL_LOG_AT_LATEST};
            cr_assert_eq(tl_log_snapshot_load(&t2->root, &so, &ls, &err), TL_OK, "%s", err.msg);
            static const char *const key[1] = {"timestamp"};
            tl_log_action act = {.kind = TL_LOG_METADATA};
            act.u.meta = *ls.meta;
            act.u.meta.sort_key = (tl_log_strs){key, 1};
            tl_log_write_result wr;
            cr_assert_eq(tl_log_write(&t2->root, ls.version, &act, 1, NULL, &wr, &err), TL_OK,
                         "%s", err.msg);
            h->version = wr.version;
            tl_log_snapshot_free(&ls);
        } else {
            tl_optimize_result r;
            cr_assert_eq(tl_table_optimize(t2, NULL, &r, &err), TL_OK, "%s", err.msg);
            h->version = r.version;
            tl_optimize_result_free(&r);
        }
        tl_table_close(t2);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void concurrent(int kind)
{
    tl_table *t0 = create_ticks();
    for (uint64_t i = 1; i <= 3; i++)
        append_gen(t0, i, 1, 1000, "NIFTY");
    int64_t v0 = latest(t0);
    tl_table_close(t0);
    hook h = {.fire_at = 1, .kind = kind};
    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open_io(tpath, NULL, hook_clock, &h, &t, &err), TL_OK, "%s", err.msg);
    tl_optimize_result r;
    int rc = tl_table_optimize(t, NULL, &r, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_eq(h.version, v0 + 1, "the concurrent commit landed first");
    if (kind == 3) {
        /* MAINT-O8: the winner removed our inputs; the partition was redone
         * on the new snapshot, where it has one file: nothing left to do */
        cr_assert_eq(r.redone, 1);
        cr_assert_eq(r.committed, 0);
        cr_assert_eq(latest(t), v0 + 1);
    } else {
        /* MAINT-O7: appends never conflict; the commit retried onto v0 + 2 */
        cr_assert(r.committed);
        cr_assert_eq(r.version, v0 + 2);
        cr_assert_eq(r.attempts, 2);
        cr_assert_eq(r.redone, 0);
        cr_assert_eq(r.files_removed, 3);
    }
    tl_optimize_result_free(&r);
    tl_snapshot *s;
    tl_snapshot_info in = info_at(t, -1, &s);
    tl_snapshot_close(s);
    cr_assert_eq(in.n_rows, 3000 + (kind == 3 ? 0 : 500));
    if (kind == 1)
        cr_assert_eq(in.n_files, 2); /* NIFTY compacted + the BANKNIFTY append */
    if (kind == 2)
        cr_assert_eq(in.n_files, 2); /* compacted + the concurrent NIFTY file */
    if (kind == 3)
        cr_assert_eq(in.n_files, 1);
    /* no outputs of ours are left behind when nothing of ours committed */
    if (kind == 3)
        cr_assert_eq(count_tls("."), 4);
    tl_table_close(t);
}

Test(optimize, concurrent_append_to_another_partition_does_not_conflict)
{
    concurrent(1);
}

Test(optimize, concurrent_append_to_the_same_partition_retries_onto_it)
{
    concurrent(2);
}

Test(optimize, concurrent_removal_of_inputs_redoes_the_partition)
{
    concurrent(3);
}

Test(optimize, concurrent_metadata_change_conflicts)
{
    tl_table *t0 = create_ticks();
    for (uint64_t i = 1; i <= 2; i++)
        append_gen(t0, i, 1, 500, "NIFTY");
    int64_t v0 = latest(t0);
    tl_table_close(t0);
    hook h = {.fire_at = 1, .kind = 4}; /* a metaData change lands first */
    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open_io(tpath, NULL, hook_clock, &h, &t, &err), TL_OK, "%s", err.msg);
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, NULL, &r, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "metaData") && strstr(err.msg, tpath), "%s", err.msg);
    cr_assert_eq(latest(t), v0 + 1);
    /* our output is gone: only the two appended files are left */
    cr_assert_eq(count_tls("."), 2);
    cr_assert(!path_exists("_tmp"));
    tl_table_close(t);
}

/* ---- faults ------------------------------------------------------------------------------- */

static void optimize_sweep(int power_cut)
{
    tl_table *t0 = create_ticks();
    for (uint64_t i = 1; i <= 3; i++)
        append_gen(t0, i, 1, 600, NULL);
    int64_t v0 = latest(t0);
    size_t l0;
    char *txt0 = scan_text(t0, -1, &l0);
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
        tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k,
                                 .action = power_cut ? TL_IO_FAULT_CUT : TL_IO_FAULT_FAIL,
                                 .err_no = EIO};
        cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
        tl_optimize_result r;
        int rc = tl_table_optimize(t, NULL, &r, &err);
        if (rc == TL_OK)
            tl_optimize_result_free(&r);
        else
            cr_assert(err.msg[0], "k=%" PRIu64 ": an error without a message", k);
        int fired = tl_io_fault_count(f, TL_IO_OP_ANY) >= k;
        tl_table_close(t);
        if (power_cut)
            cr_assert_eq(tl_io_fault_crash(f, NULL, &err), TL_OK, "%s", err.msg);
        tl_io_fault_close(f);
        cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "k=%" PRIu64 ": %s", k, err.msg);
        int64_t v = latest(t);
        cr_assert(v == v0 || v == v0 + 1, "k=%" PRIu64 ": version %" PRId64, k, v);
        if (rc == TL_OK && !power_cut)
            cr_assert_eq(v, v0 + 1, "k=%" PRIu64 ": acknowledged optimize visible", k);
        size_t l1;
        char *txt1 = scan_text(t, -1, &l1);
        cr_assert_eq(l1, l0, "k=%" PRIu64, k);
        cr_assert_eq(memcmp(txt0, txt1, l0), 0, "k=%" PRIu64 ": rows differ", k);
        free(txt1);
        if (v == v0 && rc != TL_EIO && !power_cut)
            cr_assert_eq(count_tls("."), 6, "k=%" PRIu64 ": outputs removed (rc %d: %s)", k, rc,
                         err.msg);
        outcomes[v - v0]++;
        tl_table_close(t);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", tpath, keep, tpath);
        cr_assert_eq(system(cmd), 0);
        if (!fired)
            break;
    }
    fprintf(stderr, "optimize fault sweep (%s): %d x old version, %d x new version\n",
            power_cut ? "power cut" : "failed call", outcomes[0], outcomes[1]);
    cr_assert_gt(outcomes[0], 10);
    cr_assert_gt(outcomes[1], 0);
    free(txt0);
}

Test(optimize, failed_io_call_at_every_point_leaves_old_or_new_version, .timeout = 300)
{
    optimize_sweep(0);
}

/* LOG-C1/C2: a power cut at every I/O call: the old version or the new one,
 * never a commit whose files did not survive */
Test(optimize, power_cut_at_every_point_leaves_old_or_new_version, .timeout = 300)
{
    optimize_sweep(1);
}

/* ---- automatic optimize after appends (MAINT-O11) ------------------------------------- */

Test(optimize, auto_optimize_after_appends_by_table_configuration)
{
    tl_table *t = create_ticks();
    tl_error err;
    int64_t v;
    /* configuration keys are checked (LOG-R17) */
    cr_assert_eq(tl_table_set_config(t, "ticklake.autoOptimize.minFiles", "x3", &v, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "ticklake.autoOptimize.minFiles"), "%s", err.msg);
    cr_assert_eq(tl_table_set_config(t, "ticklake.autoOptimize.targetRows", "0", &v, &err),
                 TL_EINVAL);
    cr_assert_eq(latest(t), 0);
    cr_assert_eq(tl_table_set_config(t, "ticklake.autoOptimize.minFiles", "3", &v, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(v, 1);
    /* unknown keys are kept as they are */
    cr_assert_eq(tl_table_set_config(t, "my.note", "hello", &v, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(v, 2);
    size_t l_first = 0;
    char *first = NULL;
    for (uint64_t i = 1; i <= 3; i++) {
        tl_gen_opts go;
        tl_gen_opts_default(&go);
        go.seed = i;
        go.rows_per_day = 1000;
        const char *one[1] = {"NIFTY"};
        go.symbols = one;
        go.n_symbols = 1;
        tl_gen *g;
        cr_assert_eq(tl_gen_open(&go, &g, &err), TL_OK, "%s", err.msg);
        tl_append *a;
        cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
        tl_batch b;
        int done;
        while (tl_gen_next(g, 4096, &b, &done, &err) == TL_OK && !done)
            cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
        tl_gen_close(g);
        tl_append_result res;
        cr_assert_eq(tl_append_commit(a, &res, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(res.auto_optimize_rc, TL_OK);
        if (i < 3) {
            cr_assert_eq(res.auto_optimize_version, -1, "append %" PRIu64 ": below minFiles", i);
        } else {
            cr_assert_eq(res.auto_optimize_version, res.version + 1,
                         "the third small file triggers an OPTIMIZE right after the append");
        }
        if (i == 3) {
            tl_at at = {.kind = TL_AT_VERSION, .version = res.version};
            (void)at;
            first = scan_text(t, res.version, &l_first);
        }
    }
    tl_snapshot *s;
    tl_snapshot_info in = info_at(t, -1, &s);
    cr_assert_eq(in.n_files, 1);
    cr_assert_eq(in.n_rows, 3000);
    tl_snapshot_close(s);
    size_t l1;
    char *after = scan_text(t, -1, &l1);
    cr_assert_eq(l1, l_first);
    cr_assert_eq(memcmp(first, after, l1), 0);
    free(first);
    free(after);
    tl_history_entry *h;
    size_t nh;
    cr_assert_eq(tl_table_history(t, &h, &nh, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(h[1].operation, "SET CONFIGURATION");
    cr_assert_str_eq(h[nh - 1].operation, "OPTIMIZE");
    free(h);
    /* off again: removing the key */
    cr_assert_eq(tl_table_set_config(t, "ticklake.autoOptimize.minFiles", NULL, &v, &err), TL_OK,
                 "%s", err.msg);
    tl_log_commit c;
    read_commit(v, &c);
    int has_key = 0, has_note = 0;
    for (uint32_t i = 0; i < c.n_actions; i++)
        if (c.actions[i].kind == TL_LOG_METADATA)
            for (uint32_t k = 0; k < c.actions[i].u.meta.config.n; k++) {
                has_key |= strcmp(c.actions[i].u.meta.config.kv[k].key,
                                  "ticklake.autoOptimize.minFiles") == 0;
                has_note |= strcmp(c.actions[i].u.meta.config.kv[k].key, "my.note") == 0;
            }
    cr_assert_eq(has_key, 0);
    cr_assert_eq(has_note, 1);
    tl_log_commit_free(&c);
    tl_table_close(t);
}

/* ---- dedup keys (spec/MAINT.md section 4) ------------------------------------------------ */

TestSuite(dedup, .init = setup, .fini = teardown);

#define D_DAY INT64_C(1763337600000000000) /* 2025-11-17 00:00 UTC in ns */

static tl_table *create_dedup(const char *mode)
{
    tl_field f[4] = {{"sym", TL_STRING, 0}, {"ts", TL_TIMESTAMP, 0}, {"k", TL_INT32, 0},
                     {"v", TL_INT64, 0}};
    const char *key[2] = {"k", "ts"};
    tl_table_spec spec = {.fields = f, .n_fields = 4, .symbol_column = "sym", .day_column = "ts",
                          .sort_key = key, .n_sort_key = 2};
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupKeys", "sym,k,ts", NULL, &err), TL_OK,
                 "%s", err.msg);
    if (mode)
        cr_assert_eq(tl_table_set_config(t, "ticklake.dedupMode", mode, NULL, &err), TL_OK, "%s",
                     err.msg);
    return t;
}

typedef struct drow {
    const char *sym;
    int64_t ts_s; /* seconds after D_DAY */
    int32_t k;
    int64_t v;
} drow;

static tl_append_result dappend(tl_table *t, const drow *r, uint32_t n, tl_append_opts *ao)
{
    enum { MAXR = 64 };
    cr_assert_leq(n, MAXR);
    char data[MAXR * 16];
    uint32_t offs[MAXR + 1];
    int64_t ts[MAXR], v[MAXR];
    int32_t k[MAXR];
    size_t at = 0;
    offs[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t l = strlen(r[i].sym);
        memcpy(data + at, r[i].sym, l);
        at += l;
        offs[i + 1] = (uint32_t)at;
        ts[i] = D_DAY + r[i].ts_s * INT64_C(1000000000);
        k[i] = r[i].k;
        v[i] = r[i].v;
    }
    tl_coldef d[4] = {{"sym", TL_STRING}, {"ts", TL_TIMESTAMP}, {"k", TL_INT32}, {"v", TL_INT64}};
    tl_colvec c[4] = {{NULL, NULL, offs, (const uint8_t *)data}, {ts, NULL, NULL, NULL},
                      {k, NULL, NULL, NULL}, {v, NULL, NULL, NULL}};
    tl_batch b = {n, 4, d, c};
    tl_error err;
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, ao, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    tl_append_result res;
    cr_assert_eq(tl_append_commit(a, &res, &err), TL_OK, "%s", err.msg);
    return res;
}

/* The table's rows as "sym k ts v" lines in file order, sorted; count. */
static size_t drows(tl_table *t, char out[][48], size_t cap)
{
    tl_error err;
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_reader *r;
    cr_assert_eq(tl_reader_open(s, NULL, NULL, 0, &r, &err), TL_OK, "%s", err.msg);
    size_t n = 0;
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (!b.n_rows)
            break;
        for (uint32_t i = 0; i < b.n_rows; i++) {
            cr_assert_lt(n, cap);
            const tl_colvec *sv = &b.cols[0];
            snprintf(out[n++], 48, "%.*s %d %" PRId64 " %" PRId64,
                     (int)(sv->offsets[i + 1] - sv->offsets[i]), sv->data + sv->offsets[i],
                     ((const int32_t *)b.cols[2].values)[i],
                     (((const int64_t *)b.cols[1].values)[i] - D_DAY) / 1000000000,
                     ((const int64_t *)b.cols[3].values)[i]);
        }
    }
    tl_reader_close(r);
    tl_snapshot_close(s);
    qsort(out, n, 48, (int (*)(const void *, const void *))strcmp);
    return n;
}

static void dexpect(tl_table *t, const char *const *want, size_t n_want)
{
    static char got[256][48];
    size_t n = drows(t, got, 256);
    cr_assert_eq(n, n_want, "rows: %zu, want %zu", n, n_want);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(got[i], want[i]);
}

Test(dedup, upsert_keeps_the_last_row_of_a_key)
{
    tl_table *t = create_dedup(NULL); /* upsert is the default */
    drow a[] = {{"A", 1, 1, 10}, {"A", 1, 2, 20}, {"A", 1, 1, 11}, {"B", 5, 1, 50}};
    tl_append_result r = dappend(t, a, 4, NULL);
    cr_assert_eq(r.dedup_rows_dropped, 1, "the append's own duplicate");
    cr_assert_eq(r.n_rows, 4);
    static const char *const w1[] = {"A 1 1 11", "A 2 1 20", "B 1 5 50"};
    dexpect(t, w1, 3);
    drow b[] = {{"A", 1, 2, 21}, {"A", 1, 3, 30}, {"A", 2, 1, 12}};
    r = dappend(t, b, 3, NULL);
    cr_assert_eq(r.dedup_rows_dropped, 1, "(A, 2, 1s) replaced");
    static const char *const w2[] = {"A 1 1 11", "A 1 2 12", "A 2 1 21", "A 3 1 30", "B 1 5 50"};
    dexpect(t, w2, 5);
    /* the rewrite: one file per touched partition, the old one removed */
    tl_snapshot *s;
    tl_snapshot_info in = info_at(t, -1, &s);
    tl_snapshot_close(s);
    cr_assert_eq(in.n_files, 2);
    tl_log_commit c;
    read_commit(r.version, &c);
    int rm = 0, add = 0;
    for (uint32_t i = 1; i < c.n_actions; i++) {
        if (c.actions[i].kind == TL_LOG_REMOVE) {
            rm++;
            cr_assert_eq(c.actions[i].u.rm.data_change, 1);
        } else if (c.actions[i].kind == TL_LOG_ADD) {
            add++;
            cr_assert_eq(c.actions[i].u.add.data_change, 1);
        }
    }
    cr_assert_eq(rm, 1);
    cr_assert_eq(add, 1);
    cr_assert_str_eq(c.actions[0].u.ci.operation, "APPEND");
    tl_log_commit_free(&c);
    /* no file of the append itself is left behind */
    cr_assert_eq(count_tls("."), 3); /* B's file, A's first rewrite (removed), A's second */
    tl_table_close(t);
}

Test(dedup, drop_keeps_the_first_row_of_a_key)
{
    tl_table *t = create_dedup("drop");
    drow a[] = {{"A", 1, 1, 10}, {"A", 1, 2, 20}, {"A", 1, 1, 11}};
    tl_append_result r = dappend(t, a, 3, NULL);
    cr_assert_eq(r.dedup_rows_dropped, 1);
    drow b[] = {{"A", 1, 2, 21}, {"A", 1, 3, 30}};
    r = dappend(t, b, 2, NULL);
    cr_assert_eq(r.dedup_rows_dropped, 1);
    static const char *const w[] = {"A 1 1 10", "A 2 1 20", "A 3 1 30"};
    dexpect(t, w, 3);
    tl_table_close(t);
}

Test(dedup, idempotent_append_with_dedup_is_a_noop)
{
    tl_table *t = create_dedup(NULL);
    drow a[] = {{"A", 1, 1, 10}};
    tl_append_opts ao = {.app_id = "feed", .app_version = 7};
    tl_append_result r = dappend(t, a, 1, &ao);
    int64_t v = r.version;
    r = dappend(t, a, 1, &ao);
    cr_assert(r.noop);
    cr_assert_eq(r.version, v);
    cr_assert_eq(latest(t), v);
    tl_table_close(t);
}

Test(dedup, bad_dedup_configuration_is_refused)
{
    tl_table *t = create_dedup(NULL);
    tl_error err;
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupKeys", "sym,k", NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "sort key column 'ts' is missing"), "%s", err.msg);
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupKeys", "k,ts,v", NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'v' is neither in the sort key"), "%s", err.msg);
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupKeys", "k,ts,nope", NULL, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "'nope' is not in the schema"), "%s", err.msg);
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupKeys", "k,ts,k", NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupMode", "latest", NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "upsert"), "%s", err.msg);
    tl_table_close(t);
}

static int dd_calls, dd_fire;
static int64_t dedup_clock(void *arg)
{
    (void)arg;
    if (++dd_calls == dd_fire) {
        tl_table *t2;
        tl_error err;
        cr_assert_eq(tl_table_open(tpath, &t2, &err), TL_OK, "%s", err.msg);
        drow c[] = {{"A", 1, 1, 99}, {"A", 1, 9, 90}};
        dappend(t2, c, 2, NULL);
        tl_table_close(t2);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(dedup, concurrent_append_to_a_rewritten_partition_redoes_the_rewrite)
{
    tl_table *t0 = create_dedup(NULL);
    drow a[] = {{"A", 1, 1, 10}, {"A", 1, 2, 20}};
    dappend(t0, a, 2, NULL);
    tl_table_close(t0);
    /* clock call 1: the append writes its file; 2: its LOG-R83 check; 3: the
     * rewrite opens its output, and another writer appends (A, 1, 1s) = 99
     * and (A, 9, 1s) */
    dd_calls = 0;
    dd_fire = 3;
    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open_io(tpath, NULL, dedup_clock, NULL, &t, &err), TL_OK, "%s", err.msg);
    drow b[] = {{"A", 1, 1, 11}, {"A", 1, 3, 30}};
    tl_append_result r = dappend(t, b, 2, NULL);
    cr_assert_geq(r.attempts, 2, "the rewrite was redone against the concurrent append");
    /* ours came last: (A, 1, 1s) = 11 wins over the concurrent 99 */
    static const char *const w[] = {"A 1 1 11", "A 2 1 20", "A 3 1 30", "A 9 1 90"};
    dexpect(t, w, 4);
    tl_table_close(t);
}

/* Two writers append the same key into a partition that does not exist yet:
 * the rewrite read the (empty) partition whole, so the concurrent first
 * append's add in it conflicts (LOG-R50, read partitions) and the rewrite is
 * redone: the key stays unique, ours (last) wins. Tried with the concurrent
 * append landing at every clock call of ours. */
Test(dedup, concurrent_first_appends_into_a_new_partition_keep_keys_unique)
{
    for (int fire = 1; fire <= 4; fire++) {
        tl_table *t0 = create_dedup(NULL);
        drow a[] = {{"B", 1, 1, 5}};
        dappend(t0, a, 1, NULL); /* another partition exists */
        tl_table_close(t0);
        dd_calls = 0;
        dd_fire = fire;
        tl_table *t;
        tl_error err;
        cr_assert_eq(tl_table_open_io(tpath, NULL, dedup_clock, NULL, &t, &err), TL_OK, "%s",
                     err.msg);
        drow b[] = {{"A", 1, 1, 11}, {"A", 1, 3, 30}};
        dappend(t, b, 2, NULL);
        cr_assert_geq(dd_calls, fire, "the concurrent append ran (fire %d)", fire);
        /* (A, 1, 1s) once: 11 (ours, committed last) */
        static const char *const w[] = {"A 1 1 11", "A 3 1 30", "A 9 1 90", "B 1 1 5"};
        dexpect(t, w, 4);
        tl_table_close(t);
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tpath);
        cr_assert_eq(system(cmd), 0);
    }
}

Test(dedup, failed_io_call_at_every_point_leaves_old_or_new_version, .timeout = 300)
{
    tl_table *t0 = create_dedup(NULL);
    drow a[] = {{"A", 1, 1, 10}, {"A", 1, 2, 20}, {"B", 2, 1, 40}};
    dappend(t0, a, 3, NULL);
    int64_t v0 = latest(t0);
    tl_table_close(t0);
    static const char *const w_old[] = {"A 1 1 10", "A 2 1 20", "B 1 2 40"};
    static const char *const w_new[] = {"A 1 1 11", "A 2 1 20", "A 3 1 30", "B 1 2 40"};
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
        /* the append of (A, 1, 1s) = 11 and (A, 3, 1s) = 30, by hand (dappend asserts) */
        char data[2] = {'A', 'A'};
        uint32_t offs[3] = {0, 1, 2};
        int64_t ts[2] = {D_DAY + 1000000000, D_DAY + 1000000000}, v[2] = {11, 30};
        int32_t kk[2] = {1, 3};
        tl_coldef d[4] = {{"sym", TL_STRING}, {"ts", TL_TIMESTAMP}, {"k", TL_INT32},
                          {"v", TL_INT64}};
        tl_colvec c[4] = {{NULL, NULL, offs, (const uint8_t *)data}, {ts, NULL, NULL, NULL},
                          {kk, NULL, NULL, NULL}, {v, NULL, NULL, NULL}};
        tl_batch b = {2, 4, d, c};
        tl_append *ap = NULL;
        int rc = tl_append_begin(t, NULL, &ap, &err);
        if (!rc)
            rc = tl_append_batch(ap, &b, &err);
        if (!rc)
            rc = tl_append_commit(ap, NULL, &err);
        else
            tl_append_abort(ap);
        if (rc)
            cr_assert(err.msg[0], "k=%" PRIu64 ": an error without a message", k);
        int fired = tl_io_fault_count(f, TL_IO_OP_ANY) >= k;
        tl_table_close(t);
        tl_io_fault_close(f);
        cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "k=%" PRIu64 ": %s", k, err.msg);
        int64_t ver = latest(t);
        cr_assert(ver == v0 || ver == v0 + 1, "k=%" PRIu64 ": version %" PRId64, k, ver);
        if (rc == TL_OK)
            cr_assert_eq(ver, v0 + 1, "k=%" PRIu64, k);
        if (ver == v0)
            dexpect(t, w_old, 3);
        else
            dexpect(t, w_new, 4);
        outcomes[ver - v0]++;
        tl_table_close(t);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", tpath, keep, tpath);
        cr_assert_eq(system(cmd), 0);
        if (!fired)
            break;
    }
    fprintf(stderr, "dedup fault sweep: %d x old version, %d x new version\n", outcomes[0],
            outcomes[1]);
    cr_assert_gt(outcomes[0], 10);
    cr_assert_gt(outcomes[1], 0);
}
