/*
 * log_snapshot_test.c - snapshot replay of log.c (spec/LOG.md 9.2, 9.4):
 * commit/replay round trips with the snapshot at every version checked
 * against a model (LOG-R48), time travel by version and by in-commit
 * timestamp (LOG-R56, R57), contiguity and ignored names (LOG-R3), and the
 * replay checks of LOG-R49 on hand-written commits. Each test gets a fresh
 * temp directory holding the table root "t".
 */
#include <criterion/criterion.h>

#include "io_int.h"
#include "log_int.h"
#include "log_testlib.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void setup(void)
{
    testlib_setup("tl_logs");
}

static void teardown(void)
{
    testlib_teardown();
}

TestSuite(log_snapshot, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------------- */

static const int64_t B = 4000000000000; /* a clock base after the wall clock */

/* Commit acts at read version rv with the clock at now; returns the version. */
static int64_t commit(int64_t rv, const tl_log_action *acts, uint32_t n, int64_t now)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_write_opts o = {.now_ms = fixed_clock, .now_arg = &now};
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(tl_log_write(&r, rv, acts, n, &o, &res, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    cr_assert_eq(res.noop, 0);
    return res.version;
}

static void create(int64_t now)
{
    tl_log_action a[2];
    meta_actions(a, "v0");
    cr_assert_eq(commit(-1, a, 2, now), 0);
}

static void add_action(tl_log_action *a, const char *path, int64_t rows)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_ADD;
    a->u.add = (tl_log_add){.path = path, .size_bytes = 100, .n_rows = rows, .mtime_ms = 1,
                            .data_change = 1};
}

static void remove_action(tl_log_action *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_REMOVE;
    a->u.rm = (tl_log_remove){.path = path, .data_change = 1};
}

static int load_rc(const tl_log_snap_opts *o, tl_log_snapshot *s, tl_error *err)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    int rc = tl_log_snapshot_load(&r, o, s, err);
    tl_io_close(&r, NULL);
    return rc;
}

static void load(const tl_log_snap_opts *o, tl_log_snapshot *s)
{
    tl_error err;
    cr_assert_eq(load_rc(o, s, &err), TL_OK, "%s", err.msg);
}

static void load_at(int64_t v, tl_log_snapshot *s)
{
    tl_log_snap_opts o = {.at = TL_LOG_AT_VERSION, .version = v};
    load(&o, s);
    cr_assert_eq(s->version, v);
}

static char *logp(const char *name)
{
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/_delta_log/%s", root, name);
    return p[k];
}

/* Write commit v by hand: a commitInfo (ict, readVersion v-1, counts) then
 * acts, serialised, straight into _delta_log/ (no checks of the log). */
static void put_commit(int64_t v, int64_t ict, const tl_log_action *acts, uint32_t n)
{
    tl_log_action all[8];
    cr_assert_leq(n, 7);
    memset(all, 0, sizeof all);
    all[0].kind = TL_LOG_COMMIT_INFO;
    tl_log_commit_info *ci = &all[0].u.ci;
    *ci = (tl_log_commit_info){.ict_ms = ict, .operation = "TEST", .has_read_version = 1,
                               .read_version = v - 1, .engine_info = "test/1"};
    for (uint32_t i = 0; i < n; i++) {
        all[i + 1] = acts[i];
        if (acts[i].kind == TL_LOG_ADD) {
            ci->n_added_files++;
            ci->n_added_rows += acts[i].u.add.n_rows;
        } else if (acts[i].kind == TL_LOG_REMOVE) {
            ci->n_removed_files++;
        }
    }
    char *buf = NULL;
    size_t cap = 0, len = 0;
    tl_error err;
    cr_assert_eq(tl_log_commit_serialize(all, n + 1, v, &buf, &cap, &len, &err), TL_OK, "%s",
                 err.msg);
    char name[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(v, name);
    FILE *fp = fopen(logp(name), "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(buf, 1, len, fp), len);
    cr_assert_eq(fclose(fp), 0);
    free(buf);
}

/* ---- round trip (LOG-R48) ----------------------------------------------------- */

#define NV 60
#define NF 200

/* The model: per version, which files are live / removed, the table name,
 * the txn of appId "app". */
typedef struct model {
    signed char state[NV + 1][NF]; /* 0 never added, 1 live, 2 removed */
    int rows[NF];
    const char *name[NV + 1];
    int64_t txn[NV + 1]; /* -1 none */
} model;

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(log_snapshot, every_version_replays_to_its_state)
{
    static model m;
    static char paths[NF][32];
    create(B);
    memset(m.state[0], 0, sizeof m.state[0]);
    m.name[0] = "v0";
    m.txn[0] = -1;
    int nf = 0;
    for (int v = 1; v <= NV; v++) {
        memcpy(m.state[v], m.state[v - 1], NF);
        m.name[v] = m.name[v - 1];
        m.txn[v] = m.txn[v - 1];
        tl_log_action a[8];
        uint32_t n = 0;
        if (v % 17 == 0) { /* a metaData change */
            tl_log_action pm[2];
            meta_actions(pm, v == 17 ? "v17" : "v34");
            a[n++] = pm[1];
            m.name[v] = a[0].u.meta.name;
        }
        if (v % 5 == 0) {
            memset(&a[n], 0, sizeof a[n]);
            a[n].kind = TL_LOG_TXN;
            a[n++].u.txn = (tl_log_txn){"app", v * 10, 0, 0};
            m.txn[v] = v * 10;
        }
        int nrm = (int)(next() % 3);
        for (int k = 0; k < nrm; k++) { /* remove a random live file */
            int f = (int)(next() % (uint64_t)(nf ? nf : 1));
            if (nf && m.state[v][f] == 1) {
                remove_action(&a[n++], paths[f]);
                m.state[v][f] = 2;
            }
        }
        int nadd = 1 + (int)(next() % 3);
        for (int k = 0; k < nadd && nf < NF; k++) {
            snprintf(paths[nf], sizeof paths[nf], "p%d/f%d.tls", nf % 4, nf);
            m.rows[nf] = (int)(next() % 1000);
            add_action(&a[n++], paths[nf], m.rows[nf]);
            m.state[v][nf++] = 1;
        }
        cr_assert_eq(commit(v - 1, a, n, B + v * 10), v);
    }
    for (int v = 0; v <= NV; v++) {
        tl_log_snapshot s;
        load_at(v, &s);
        size_t live = 0, dead = 0;
        for (int f = 0; f < nf; f++) {
            const tl_log_add *d = tl_log_snapshot_live_get(&s, paths[f]);
            const tl_log_remove *r = tl_log_snapshot_tombstone_get(&s, paths[f]);
            cr_assert_eq(d != NULL, m.state[v][f] == 1, "v %d file %d", v, f);
            cr_assert_eq(r != NULL, m.state[v][f] == 2, "v %d file %d", v, f);
            if (d)
                cr_assert_eq(d->n_rows, m.rows[f]);
            live += m.state[v][f] == 1;
            dead += m.state[v][f] == 2;
        }
        cr_assert_eq(tl_log_snapshot_n_live(&s), live, "v %d", v);
        cr_assert_eq(tl_log_snapshot_n_tombstones(&s), dead, "v %d", v);
        size_t cur = 0, it = 0;
        while (tl_log_snapshot_live_next(&s, &cur))
            it++;
        cr_assert_eq(it, live);
        cr_assert_str_eq(s.meta->name, m.name[v], "v %d", v);
        const tl_log_txn_entry *e = tl_log_snapshot_txn(&s, "app");
        cr_assert_eq(e ? e->txn->version : -1, m.txn[v], "v %d", v);
        for (int u = 0; u <= v; u++)
            cr_assert_eq(s.history[u].ict_ms, B + u * 10);
        tl_log_snapshot_free(&s);
    }
}

/* Many files in few commits: the live map grows and shrinks (removals in
 * the middle of probe clusters). */
Test(log_snapshot, thousands_of_adds_and_removes)
{
    enum { N = 3000 };
    static char paths[N][24];
    static tl_log_action a[N];
    create(B);
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "d/%d.tls", i);
        add_action(&a[i], paths[i], i);
    }
    cr_assert_eq(commit(0, a, N, B + 1), 1);
    uint32_t n = 0;
    for (int i = 0; i < N; i++)
        if (i % 3)
            remove_action(&a[n++], paths[i]);
    cr_assert_eq(commit(1, a, n, B + 2), 2);
    tl_log_snapshot s;
    load(NULL, &s);
    cr_assert_eq(s.version, 2);
    cr_assert_eq(tl_log_snapshot_n_live(&s), N / 3);
    cr_assert_eq(tl_log_snapshot_n_tombstones(&s), N - N / 3);
    for (int i = 0; i < N; i++) {
        const tl_log_add *d = tl_log_snapshot_live_get(&s, paths[i]);
        cr_assert_eq(d != NULL, i % 3 == 0, "%d", i);
        if (d)
            cr_assert_eq(d->n_rows, i);
    }
    tl_log_snapshot_free(&s);
}

/* ---- time travel (LOG-R56, R57) ------------------------------------------------- */

Test(log_snapshot, version_beyond_the_latest_names_the_latest)
{
    create(B);
    tl_log_action a;
    add_action(&a, "d/a.tls", 1);
    commit(0, &a, 1, B + 1);
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts o = {.at = TL_LOG_AT_VERSION, .version = 2};
    cr_assert_eq(load_rc(&o, &s, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "version 2 does not exist") && strstr(err.msg, "latest version is 1")
                  && strstr(err.msg, "LOG-R57"),
              "%s", err.msg);
    o.version = -1;
    cr_assert_eq(load_rc(&o, &s, &err), TL_EINVAL);
    load_at(0, &s);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 0);
    tl_log_snapshot_free(&s);
}

/* Version by timestamp uses in-commit timestamps, which keep increasing
 * when the clock steps back (LOG-R55, R56). */
Test(log_snapshot, timestamp_travel_with_a_clock_that_steps_back)
{
    create(B);                                  /* v0: B */
    int64_t clock[] = {B + 100, B + 50, B + 50, B + 300}; /* v1..v4 */
    int64_t ict[] = {B, B + 100, B + 101, B + 102, B + 300};
    char path[4][16];
    for (int i = 0; i < 4; i++) {
        tl_log_action a;
        snprintf(path[i], sizeof path[i], "d/%d.tls", i);
        add_action(&a, path[i], 1);
        cr_assert_eq(commit(i, &a, 1, clock[i]), i + 1);
    }
    static const struct {
        int64_t t, v;
    } q[] = {{B, 0},       {B + 99, 0},  {B + 100, 1}, {B + 101, 2}, {B + 102, 3},
             {B + 299, 3}, {B + 300, 4}, {INT64_MAX, 4}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        tl_log_snapshot s;
        tl_log_snap_opts o = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = q[i].t};
        load(&o, &s);
        cr_assert_eq(s.version, q[i].v, "T %" PRId64 ": %" PRId64, q[i].t, s.version);
        cr_assert_eq(s.history[s.version].ict_ms, ict[s.version]);
        cr_assert_eq(tl_log_snapshot_n_live(&s), (size_t)q[i].v);
        tl_log_snapshot_free(&s);
    }
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts o = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B - 1};
    cr_assert_eq(load_rc(&o, &s, &err), TL_ENOTFOUND);
    char want[64];
    snprintf(want, sizeof want, "inCommitTimestamp %" PRId64 " ms", B);
    cr_assert(strstr(err.msg, "version 0") && strstr(err.msg, want) && strstr(err.msg, "LOG-R56"),
              "%s", err.msg);
}

/* ---- listing (LOG-R3) -------------------------------------------------------------- */

static void touch(const char *path)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "%s", path);
    fputs("junk", fp);
    cr_assert_eq(fclose(fp), 0);
}

Test(log_snapshot, other_names_in_the_log_are_ignored)
{
    create(B);
    touch(logp(".0f1e2d3c-4b5a-4697-8877-665544332211.json.tmp"));
    touch(logp("_last_checkpoint"));
    touch(logp("0000000000000000001.json"));   /* 19 digits */
    touch(logp("00000000000000000001.json.x"));
    touch(logp("99999999999999999999.json"));  /* above INT64_MAX */
    tl_log_snapshot s;
    load(NULL, &s);
    cr_assert_eq(s.version, 0);
    tl_log_snapshot_free(&s);
}

Test(log_snapshot, a_gap_names_the_missing_version)
{
    create(B);
    for (int i = 0; i < 3; i++) {
        tl_log_action a;
        char p[16];
        snprintf(p, sizeof p, "d/%d.tls", i);
        add_action(&a, p, 1);
        commit(i, &a, 1, B + 1 + i);
    }
    cr_assert_eq(unlink(logp("00000000000000000002.json")), 0);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "version 2 (00000000000000000002.json) is missing") &&
                  strstr(err.msg, "version 3 exists"),
              "%s", err.msg);
    /* the commit of version 0 gone: not a table */
    cr_assert_eq(unlink(logp("00000000000000000000.json")), 0);
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "not a table") && strstr(err.msg, "version 0"), "%s", err.msg);
}

Test(log_snapshot, not_a_table)
{
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "not a table") && strstr(err.msg, "_delta_log"), "%s", err.msg);
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "no version 0"), "%s", err.msg);
}

Test(log_snapshot, a_torn_commit_is_corrupt_and_named)
{
    create(B);
    tl_log_action a;
    add_action(&a, "d/a.tls", 1);
    commit(0, &a, 1, B + 1);
    const char *p = logp("00000000000000000001.json");
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(truncate(p, st.st_size - 1), 0);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "00000000000000000001.json"), "%s", err.msg);
    load_at(0, &s); /* the versions before it still open */
    tl_log_snapshot_free(&s);
}

/* ---- LOG-R49 ------------------------------------------------------------------------ */

static void expect_r49(int64_t bad_version, const char *what)
{
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ECORRUPT, "%s", what);
    char want[32];
    snprintf(want, sizeof want, "version %" PRId64, bad_version);
    cr_assert(strstr(err.msg, want) && strstr(err.msg, what), "\"%s\" lacks \"%s\"", err.msg,
              what);
    load_at(bad_version - 1, &s);
    tl_log_snapshot_free(&s);
}

Test(log_snapshot, timestamps_must_increase)
{
    create(B);
    tl_log_action a;
    add_action(&a, "d/a.tls", 1);
    put_commit(1, B, &a, 1);
    expect_r49(1, "expected an inCommitTimestamp above version 0's");
}

Test(log_snapshot, remove_must_name_a_live_file)
{
    create(B);
    tl_log_action a;
    remove_action(&a, "d/a.tls");
    put_commit(1, B + 1, &a, 1);
    expect_r49(1, "remove.path \"d/a.tls\": expected a live file (LOG-R49), found no such file");
    /* removed twice */
    add_action(&a, "d/a.tls", 1);
    put_commit(1, B + 1, &a, 1);
    remove_action(&a, "d/a.tls");
    put_commit(2, B + 2, &a, 1);
    put_commit(3, B + 3, &a, 1);
    expect_r49(3, "found a removed file");
}

Test(log_snapshot, add_with_data_change_must_be_a_new_path)
{
    create(B);
    tl_log_action a;
    add_action(&a, "d/a.tls", 1);
    put_commit(1, B + 1, &a, 1);
    put_commit(2, B + 2, &a, 1);
    expect_r49(2, "add.path \"d/a.tls\" with dataChange: expected a new path (LOG-R49), "
                  "found a live file");
    /* a re-add without dataChange (compaction rewriting stats) is fine */
    a.u.add.data_change = 0;
    a.u.add.n_rows = 5;
    put_commit(2, B + 2, &a, 1);
    tl_log_snapshot s;
    load(NULL, &s);
    cr_assert_eq(tl_log_snapshot_live_get(&s, "d/a.tls")->n_rows, 5);
    tl_log_snapshot_free(&s);
    /* re-adding a removed path */
    remove_action(&a, "d/a.tls");
    put_commit(3, B + 3, &a, 1);
    add_action(&a, "d/a.tls", 1);
    put_commit(4, B + 4, &a, 1);
    expect_r49(4, "found a removed file");
}

Test(log_snapshot, adds_must_match_the_partition_spec)
{
    create(B); /* unpartitioned */
    tl_log_action a;
    add_action(&a, "symbol=X/a.tls", 1);
    a.u.add.part.has_symbol = 1;
    a.u.add.part.symbol = "X";
    put_commit(1, B + 1, &a, 1);
    expect_r49(1, "add.partitionValues: expected the fields of the partition spec (), "
                  "found (symbol)");
    /* statistics of a column the schema lacks, or of another type */
    static tl_log_colstats cs[1];
    cs[0] = (tl_log_colstats){.name = "volume", .type = TL_INT64};
    add_action(&a, "d/a.tls", 1);
    a.u.add.has_stats = 1;
    a.u.add.stats = (tl_log_stats){0, 0, 0, cs, 1};
    put_commit(1, B + 1, &a, 1);
    expect_r49(1, "add.stats.columns[volume]: expected a column of the schema");
    cs[0] = (tl_log_colstats){.name = "price", .type = TL_FLOAT32};
    put_commit(1, B + 1, &a, 1);
    expect_r49(1, "expected type float64 (the schema's), found float32");
    /* a time range without a day column */
    a.u.add.stats = (tl_log_stats){1, 5, 6, cs, 0};
    put_commit(1, B + 1, &a, 1);
    expect_r49(1, "expected no time range");
    /* the writer refuses the same when it has the snapshot (LOG-R28) */
    unlink(logp("00000000000000000001.json"));
    tl_log_snapshot s;
    load(NULL, &s);
    tl_io_file r;
    open_root_io(NULL, &r);
    cs[0] = (tl_log_colstats){.name = "volume", .type = TL_INT64};
    a.u.add.stats = (tl_log_stats){0, 0, 0, cs, 1};
    tl_log_write_opts o = {.snap = &s};
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(tl_log_write(&r, 0, &a, 1, &o, &res, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "add.stats.columns[volume]"), "%s", err.msg);
    tl_io_close(&r, NULL);
    tl_log_snapshot_free(&s);
    load(NULL, &s);
    cr_assert_eq(s.version, 0, "nothing written");
    tl_log_snapshot_free(&s);
}
