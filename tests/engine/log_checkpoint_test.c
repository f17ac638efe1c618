/*
 * log_checkpoint_test.c - checkpoints, time travel and log cleanup
 * (spec/LOG.md 9.4, 9.7, 9.8): checkpoint equivalence at every version for
 * several intervals (LOG-R70, R72), corrupt / truncated / missing /
 * mismatching checkpoints and bogus hints (LOG-R72, R73, LOG-C7), the
 * decoder's messages, binary-search time travel against a linear scan
 * (LOG-R56), cleanup and the oldest reachable version (LOG-R80, R81, R57),
 * history, and fault injection / power loss at every I/O call of writing a
 * checkpoint (LOG-R71, LOG-C7). Each test gets a fresh temp directory
 * holding the table root "t".
 *
 * Setting TL_CKPT_CORPUS_DIR makes write_fuzz_seeds write the seed corpus of
 * tests/fuzz/fuzz_checkpoint.c there.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "checkpoint_int.h"
#include "io_int.h"
#include "log_int.h"
#include "log_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static void setup(void)
{
    testlib_setup("tl_ckpt");
}

static void teardown(void)
{
    testlib_teardown();
}

TestSuite(log_checkpoint, .init = setup, .fini = teardown);

/* ---- a partitioned table with statistics of every kind ------------------------- */

static const int64_t B = 4000000000000; /* a clock base after the wall clock */

static const tl_log_field cschema[] = {
    {"timestamp", TL_TIMESTAMP, 0}, {"symbol", TL_STRING, 0}, {"price", TL_FLOAT64, 1},
    {"qty", TL_INT32, 0},           {"u", TL_UINT64, 0},      {"flag", TL_BOOL, 1},
};
static const char *const csort[] = {"symbol", "timestamp"};
static char interval_s[16], keep_s[16];
static tl_log_kv cconf[3];

/* protocol + metaData with checkpoint interval `every` and tombstone
 * retention `keep_h` hours (-1: default). */
static void cmeta(tl_log_action a[2], const char *name, int every, int keep_h)
{
    memset(a, 0, 2 * sizeof a[0]);
    a[0].kind = TL_LOG_PROTOCOL;
    a[0].u.proto = (tl_log_protocol){1, 1, {no_strs, 0}, {no_strs, 0}};
    snprintf(interval_s, sizeof interval_s, "%d", every);
    snprintf(keep_s, sizeof keep_s, "%d", keep_h < 0 ? 168 : keep_h);
    cconf[0] = (tl_log_kv){TL_LOG_CONF_CHECKPOINT_INTERVAL, interval_s};
    cconf[1] = (tl_log_kv){TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, keep_s};
    cconf[2] = (tl_log_kv){"user.key", "v"};
    a[1].kind = TL_LOG_METADATA;
    a[1].u.meta = (tl_log_metadata){.id = "0f1e2d3c-4b5a-4697-8877-665544332211",
                                    .name = name, .created_ms = 1000, .fields = cschema,
                                    .n_fields = 6, .part_symbol_col = "symbol",
                                    .part_day_col = "timestamp", .sort_key = {csort, 2},
                                    .config = {cconf, 3}};
}

static int64_t commit_o(int64_t rv, const tl_log_action *acts, uint32_t n, int64_t now,
                        const tl_log_write_opts *extra, tl_log_write_result *res)
{
    tl_io_file r;
    open_root_io(extra ? extra->io : NULL, &r);
    tl_log_write_opts o = {0};
    if (extra)
        o = *extra;
    o.now_ms = fixed_clock;
    o.now_arg = &now;
    tl_error err;
    cr_assert_eq(tl_log_write(&r, rv, acts, n, &o, res, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    cr_assert_eq(res->noop, 0);
    return res->version;
}

static int64_t commit(int64_t rv, const tl_log_action *acts, uint32_t n, int64_t now)
{
    tl_log_write_result res;
    int64_t v = commit_o(rv, acts, n, now, NULL, &res);
    cr_assert_eq(res.checkpoint_rc, TL_OK, "%s", res.checkpoint_error);
    return v;
}

static void create(int every, int keep_h, int64_t now)
{
    tl_log_action a[2];
    cmeta(a, "v0", every, keep_h);
    cr_assert_eq(commit(-1, a, 2, now), 0);
}

#define MAXF 400
static char paths[MAXF][48];
static tl_log_colstats cstats[MAXF][6];
static int nfiles;

/* add of file f (its statistics vary with f) */
static void add_file(tl_log_action *a, int f)
{
    memset(a, 0, sizeof *a);
    static const char *const syms[] = {"NIFTY", "BANKNIFTY", "", "a/b..%"};
    const char *sym = syms[f % 4];
    int32_t day = 20000 + f % 3;
    snprintf(paths[f], sizeof paths[f], "symbol=S%d/date=d%d/f%d.tls", f % 4, day, f);
    int64_t ts0 = (int64_t)day * 86400000000000 + f;
    tl_log_colstats *c = cstats[f];
    int64_t rows = 10 + f % 7;
    c[0] = (tl_log_colstats){.name = "timestamp", .type = TL_TIMESTAMP, .has_min = 1,
                             .has_max = 1, .min.i = ts0, .max.i = ts0 + 5};
    c[1] = (tl_log_colstats){.name = "symbol", .type = TL_STRING, .has_min = 1,
                             .has_max = f % 2, .max_truncated = f % 2 && f % 3 == 0};
    c[1].min.s.p = (const uint8_t *)sym;
    c[1].min.s.len = (uint32_t)strlen(sym);
    c[1].max.s.p = (const uint8_t *)"zz";
    c[1].max.s.len = 2;
    c[2] = (tl_log_colstats){.name = "price", .type = TL_FLOAT64, .null_count = f % 2,
                             .has_min = 1, .has_max = 1, .has_nan = f % 5 == 0,
                             .min.f = -0.0, .max.f = 12.5 + f};
    c[3] = (tl_log_colstats){.name = "qty", .type = TL_INT32, .has_min = 1, .has_max = 1,
                             .min.i = -5, .max.i = 100 + f};
    c[4] = (tl_log_colstats){.name = "u", .type = TL_UINT64, .has_min = 1, .has_max = 1,
                             .min.u = 1, .max.u = UINT64_MAX - (uint64_t)f};
    c[5] = (tl_log_colstats){.name = "flag", .type = TL_BOOL, .null_count = rows};
    a->kind = TL_LOG_ADD;
    a->u.add = (tl_log_add){.path = paths[f],
                            .part = {.has_symbol = 1, .symbol = sym, .has_date = 1,
                                     .date_null = 0, .date = day},
                            .size_bytes = 1000 + f, .n_rows = rows, .mtime_ms = 7 + f,
                            .data_change = 1, .has_stats = f % 6 != 5,
                            .stats = {.has_time_range = f % 4 != 1, .first_ts_ns = ts0,
                                      .last_ts_ns = ts0 + 5, .cols = c,
                                      .n_cols = 3 + (uint32_t)(f % 4)}};
}

static void remove_file(tl_log_action *a, const tl_log_add *d)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_REMOVE;
    a->u.rm = (tl_log_remove){.path = d->path, .data_change = 1, .has_part = 1, .part = d->part,
                              .has_size = 1, .size_bytes = d->size_bytes, .has_n_rows = 1,
                              .n_rows = d->n_rows};
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static signed char live[MAXF];
static tl_log_add addcopy[MAXF];

/* nv random commits after version 0: adds, removes, txns, metaData changes
 * (which keep the interval), re-adds without dataChange. Clock steps vary
 * (some back). Returns the latest version. */
static int64_t clock0 = B; /* the clock at version 0 */

static int64_t build_history(int nv, int every, int keep_h)
{
    nfiles = 0;
    memset(live, 0, sizeof live);
    create(every, keep_h, clock0);
    int64_t now = clock0;
    static char app[4][16];
    for (int v = 1; v <= nv; v++) {
        tl_log_action a[12], pm[2];
        uint32_t n = 0;
        if (v % 11 == 0) {
            cmeta(pm, v % 22 ? "renamed" : "v0", every, keep_h);
            a[n++] = pm[1];
        }
        if (v % 4 == 0) {
            int k = (int)(next() % 4);
            snprintf(app[k], sizeof app[k], "app%d", k);
            memset(&a[n], 0, sizeof a[n]);
            a[n].kind = TL_LOG_TXN;
            a[n++].u.txn = (tl_log_txn){app[k], v * 3, 0, 0};
        }
        int nrm = (int)(next() % 3);
        for (int k = 0; k < nrm && nfiles; k++) {
            int f = (int)(next() % (uint64_t)nfiles);
            if (live[f] == 1) {
                remove_file(&a[n++], &addcopy[f]);
                live[f] = 2;
            }
        }
        if (v % 7 == 3 && nfiles && live[0] == 1) { /* re-add without dataChange */
            int ok = 1;
            for (uint32_t i = 0; i < n; i++)
                ok &= !(a[i].kind == TL_LOG_REMOVE && strcmp(a[i].u.rm.path, paths[0]) == 0);
            if (ok) {
                add_file(&a[n], 0);
                a[n].u.add.data_change = 0;
                a[n].u.add.n_rows = 10 + v % 7;
                n++;
            }
        }
        int nadd = (int)(next() % 4);
        for (int k = 0; k < nadd && nfiles < MAXF; k++) {
            add_file(&a[n], nfiles);
            addcopy[nfiles] = a[n].u.add;
            live[nfiles++] = 1;
            n++;
        }
        now += (int64_t)(next() % 5) - 1; /* steps back now and then */
        cr_assert_eq(commit(v - 1, a, n, now), v);
    }
    return nv;
}

static void open_root(tl_io_file *r)
{
    open_root_io(NULL, r);
}

static int load_rc(const tl_log_snap_opts *o, tl_log_snapshot *s, tl_error *err)
{
    tl_io_file r;
    open_root(&r);
    int rc = tl_log_snapshot_load(&r, o, s, err);
    tl_io_close(&r, NULL);
    return rc;
}

static void load_v(int64_t v, int no_ckpt, tl_log_snapshot *s)
{
    tl_log_snap_opts o = {.at = v < 0 ? TL_LOG_AT_LATEST : TL_LOG_AT_VERSION, .version = v,
                          .no_checkpoint = no_ckpt};
    tl_error err;
    cr_assert_eq(load_rc(&o, s, &err), TL_OK, "version %" PRId64 ": %s", v, err.msg);
}

static char *logp(const char *name)
{
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/_delta_log/%s", root, name);
    return p[k];
}

static char *ckp(int64_t v)
{
    char name[TL_CKPT_NAME_LEN + 1];
    tl_log_ckpt_name(v, name);
    return logp(name);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- snapshot equality ---------------------------------------------------------- */

static int add_eq(const tl_log_add *x, const tl_log_add *y)
{
    tl_log_action a = {.kind = TL_LOG_ADD}, b = {.kind = TL_LOG_ADD};
    a.u.add = *x;
    b.u.add = *y;
    return tl_log_action_equal(&a, &b);
}

static int rm_eq(const tl_log_remove *x, const tl_log_remove *y)
{
    tl_log_action a = {.kind = TL_LOG_REMOVE}, b = {.kind = TL_LOG_REMOVE};
    a.u.rm = *x;
    b.u.rm = *y;
    return tl_log_action_equal(&a, &b);
}

/* Tombstones that have not expired at the snapshot's version (LOG-R70). */
static size_t unexpired(const tl_log_snapshot *s, const tl_log_snapshot *ref, int64_t horizon)
{
    size_t cur = 0, k = 0;
    for (const tl_log_remove *r; (r = tl_log_snapshot_tombstone_next(s, &cur));) {
        if (r->deletion_ms < horizon)
            continue;
        k++;
        const tl_log_remove *o = tl_log_snapshot_tombstone_get(ref, r->path);
        cr_assert(o && rm_eq(r, o), "tombstone %s differs", r->path);
    }
    return k;
}

/* a and b hold the same table state (LOG-R48): version, protocol, metaData,
 * live files with all fields, txns with their table versions, and the
 * tombstones not expired at the version (a checkpoint drops the others). */
static void snap_equal(const tl_log_snapshot *a, const tl_log_snapshot *b)
{
    cr_assert_eq(a->version, b->version);
    int64_t v = a->version;
    cr_assert_eq(a->history[v].ict_ms, b->history[v].ict_ms, "v %" PRId64, v);
    tl_log_action x = {.kind = TL_LOG_PROTOCOL}, y = {.kind = TL_LOG_PROTOCOL};
    x.u.proto = *a->protocol;
    y.u.proto = *b->protocol;
    cr_assert(tl_log_action_equal(&x, &y), "v %" PRId64 ": protocol", v);
    x.kind = y.kind = TL_LOG_METADATA;
    x.u.meta = *a->meta;
    y.u.meta = *b->meta;
    cr_assert(tl_log_action_equal(&x, &y), "v %" PRId64 ": metaData", v);
    cr_assert_eq(tl_log_snapshot_n_live(a), tl_log_snapshot_n_live(b), "v %" PRId64, v);
    size_t cur = 0;
    for (const tl_log_add *d; (d = tl_log_snapshot_live_next(a, &cur));) {
        const tl_log_add *e = tl_log_snapshot_live_get(b, d->path);
        cr_assert(e && add_eq(d, e), "v %" PRId64 ": live %s differs", v, d->path);
    }
    cr_assert_eq(a->n_txn_entries, b->n_txn_entries, "v %" PRId64, v);
    for (size_t i = 0; i < a->n_txn_entries; i++) {
        const tl_log_txn_entry *e = tl_log_snapshot_txn(b, a->txn_entries[i].txn->app_id);
        cr_assert_not_null(e);
        cr_assert_eq(e->table_version, a->txn_entries[i].table_version);
        tl_log_action t1 = {.kind = TL_LOG_TXN}, t2 = {.kind = TL_LOG_TXN};
        t1.u.txn = *a->txn_entries[i].txn;
        t2.u.txn = *e->txn;
        cr_assert(tl_log_action_equal(&t1, &t2));
    }
    int64_t keep_h;
    tl_error err;
    cr_assert_eq(tl_log_config_int(a->meta, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, &keep_h,
                                   &err),
                 TL_OK);
    int64_t horizon = a->history[v].ict_ms - keep_h * 3600000;
    cr_assert_eq(unexpired(a, b, horizon), unexpired(b, a, horizon), "v %" PRId64, v);
}

/* Snapshot at every version with checkpoints equals replay from 0. */
static void check_every_version(int64_t latest)
{
    for (int64_t v = 0; v <= latest; v++) {
        tl_log_snapshot c, r;
        load_v(v, 0, &c);
        load_v(v, 1, &r);
        cr_assert_eq(r.checkpoint_version, -1);
        snap_equal(&c, &r);
        tl_log_snapshot_free(&c);
        tl_log_snapshot_free(&r);
    }
}

/* ---- equivalence (LOG-R70, R72) -------------------------------------------------- */

Test(log_checkpoint, snapshots_equal_replay_at_every_version_for_several_intervals)
{
    static const int intervals[] = {1, 3, 7, 1000};
    for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++) {
        teardown();
        setup();
        int every = intervals[i];
        int64_t latest = build_history(40, every, -1);
        for (int64_t v = 1; v <= latest; v++)
            cr_assert_eq(exists(ckp(v)), v % every == 0, "interval %d: checkpoint %" PRId64,
                         every, v);
        check_every_version(latest);
        tl_log_snapshot s;
        load_v(-1, 0, &s);
        int64_t c = every <= latest ? latest / every * every : -1;
        cr_assert_eq(s.checkpoint_version, c, "interval %d", every);
        cr_assert_eq(s.first_history_version, c + 1);
        for (int64_t v = c + 1; v <= latest; v++)
            cr_assert_eq(s.history[v].version, v);
        tl_log_snapshot_free(&s);
    }
}

/* LOG-R73: the hint names the newest checkpoint. */
Test(log_checkpoint, last_checkpoint_hint_names_the_newest)
{
    build_history(10, 4, -1);
    FILE *fp = fopen(logp(TL_CKPT_LAST), "rb");
    cr_assert_not_null(fp);
    char buf[128] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    cr_assert_gt(n, 0);
    cr_assert(strncmp(buf, "{\"version\":8,\"size\":", 20) == 0 && buf[n - 1] == '\n', "%s", buf);
    /* an older checkpoint written on request leaves the hint alone */
    tl_log_snapshot s;
    load_v(6, 1, &s);
    tl_io_file r;
    open_root(&r);
    tl_error err;
    cr_assert_eq(tl_log_checkpoint_write(&r, &s, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    tl_log_snapshot_free(&s);
    cr_assert(exists(ckp(6)));
    fp = fopen(logp(TL_CKPT_LAST), "rb");
    cr_assert_not_null(fp);
    memset(buf, 0, sizeof buf);
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    cr_assert(strncmp(buf, "{\"version\":8,", 12) == 0, "%s", buf);
}

/* An explicit checkpoint of an older version, and of one already written
 * (EEXIST is fine, LOG-R71). */
Test(log_checkpoint, explicit_checkpoint_and_rewrite_are_fine)
{
    int64_t latest = build_history(12, 1000, -1);
    for (int64_t v = 5; v <= 6; v++) {
        tl_log_snapshot s;
        load_v(v, 1, &s);
        tl_io_file r;
        open_root(&r);
        tl_log_checkpoint_info info;
        tl_error err;
        cr_assert_eq(tl_log_checkpoint_write(&r, &s, NULL, &info, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(info.existed, 0);
        cr_assert_eq(info.n_add, tl_log_snapshot_n_live(&s));
        cr_assert_eq(tl_log_checkpoint_write(&r, &s, NULL, &info, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(info.existed, 1);
        tl_io_close(&r, NULL);
        tl_log_snapshot_free(&s);
    }
    check_every_version(latest);
    tl_log_snapshot s;
    load_v(-1, 0, &s);
    cr_assert_eq(s.checkpoint_version, 6);
    tl_log_snapshot_free(&s);
}

/* Tombstones expired at the checkpoint's version are left out (LOG-R70);
 * younger ones are kept. */
Test(log_checkpoint, expired_tombstones_are_left_out)
{
    create(1000, 1, B);
    tl_log_action a[2];
    add_file(&a[0], 0);
    add_file(&a[1], 1);
    addcopy[0] = a[0].u.add;
    addcopy[1] = a[1].u.add;
    commit(0, a, 2, B + 1);
    remove_file(&a[0], &addcopy[0]);
    commit(1, a, 1, B + 2);             /* removed at B + 2 */
    remove_file(&a[0], &addcopy[1]);
    commit(2, a, 1, B + 3600000 + 10); /* removed one hour later */
    tl_log_snapshot s;
    load_v(-1, 1, &s);
    cr_assert_eq(tl_log_snapshot_n_tombstones(&s), 2);
    tl_io_file r;
    open_root(&r);
    tl_error err;
    cr_assert_eq(tl_log_checkpoint_write(&r, &s, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    tl_log_snapshot c;
    load_v(-1, 0, &c);
    cr_assert_eq(c.checkpoint_version, 3);
    cr_assert_eq(tl_log_snapshot_n_tombstones(&c), 1);
    cr_assert_not_null(tl_log_snapshot_tombstone_get(&c, addcopy[1].path));
    snap_equal(&c, &s);
    tl_log_snapshot_free(&c);
    tl_log_snapshot_free(&s);
}

/* ---- corrupt, missing, mismatching checkpoints (LOG-R72, LOG-C7) ------------------ */

/* Latest snapshot equals the reference replay. */
static void latest_equals(const tl_log_snapshot *ref, int64_t want_ckpt)
{
    tl_log_snapshot s;
    load_v(-1, 0, &s);
    snap_equal(&s, ref);
    if (want_ckpt >= -1)
        cr_assert_eq(s.checkpoint_version, want_ckpt, "checkpoint %" PRId64 ", expected %" PRId64,
                     s.checkpoint_version, want_ckpt);
    tl_log_snapshot_free(&s);
}

Test(log_checkpoint, every_byte_flip_and_truncation_changes_nothing)
{
    /* a small checkpoint: version 2 with two files and a txn */
    create(2, -1, B);
    tl_log_action a[2];
    add_file(&a[0], 0);
    memset(&a[1], 0, sizeof a[1]);
    a[1].kind = TL_LOG_TXN;
    a[1].u.txn = (tl_log_txn){"app", 1, 0, 0};
    commit(0, a, 2, B + 1);
    add_file(&a[0], 1);
    commit(1, a, 1, B + 2);
    add_file(&a[0], 2);
    commit(2, a, 1, B + 3); /* version 3, after the checkpoint */
    tl_log_snapshot ref;
    load_v(-1, 1, &ref);
    size_t len;
    char *good = tlt_slurp(ckp(2), &len);
    cr_assert_lt(len, 4096);
    latest_equals(&ref, 2);
    char *buf = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(buf, good, len);
            buf[i] ^= (char)(1 << bit);
            tlt_spit(ckp(2), buf, len);
            latest_equals(&ref, -1); /* replayed from 0 */
        }
    }
    for (size_t n = 0; n < len; n++) {
        tlt_spit(ckp(2), good, n);
        latest_equals(&ref, -1);
    }
    /* extended by a byte */
    memcpy(buf, good, len);
    char *ext = malloc(len + 1);
    memcpy(ext, good, len);
    ext[len] = 0;
    tlt_spit(ckp(2), ext, len + 1);
    latest_equals(&ref, -1);
    /* missing */
    unlink(ckp(2));
    latest_equals(&ref, -1);
    tlt_spit(ckp(2), good, len);
    latest_equals(&ref, 2);
    free(ext);
    free(buf);
    free(good);
    tl_log_snapshot_free(&ref);
}

/* A checkpoint under another version's name, or from another table's
 * history (same version, other timestamps), is ignored; so is a stale or
 * bogus _last_checkpoint (LOG-R72, R73). */
Test(log_checkpoint, mismatching_checkpoints_and_bogus_hints_change_nothing)
{
    int64_t latest = build_history(9, 4, -1); /* checkpoints 4, 8 */
    tl_log_snapshot ref;
    load_v(-1, 1, &ref);
    size_t len;
    char *c8 = tlt_slurp(ckp(8), &len);
    /* checkpoint 4's bytes under 8's name: the header says 4 */
    size_t l4;
    char *c4 = tlt_slurp(ckp(4), &l4);
    tlt_spit(ckp(8), c4, l4);
    latest_equals(&ref, 4);
    /* another history: version 8 of a table with other timestamps, copied
     * in under the same name, mismatches commit 8 (LOG-R72) */
    tlt_spit(ckp(8), c8, len);
    latest_equals(&ref, 8);
    teardown();
    setup();
    clock0 = B + 777;
    cr_assert_eq(build_history(9, 4, -1), latest);
    clock0 = B;
    tl_log_snapshot ref2;
    load_v(-1, 1, &ref2);
    size_t own_len;
    char *own8 = tlt_slurp(ckp(8), &own_len);
    tlt_spit(ckp(8), c8, len);
    latest_equals(&ref2, 4);
    tl_log_snapshot s, r8;
    load_v(8, 0, &s);
    load_v(8, 1, &r8);
    cr_assert_eq(s.checkpoint_version, 4);
    snap_equal(&s, &r8);
    tl_log_snapshot_free(&s);
    tl_log_snapshot_free(&r8);
    tlt_spit(ckp(8), own8, own_len);
    free(own8);
    tl_error err;
    /* bogus and stale hints */
    static const char *const hints[] = {"", "garbage", "{\"version\":99,\"size\":1}\n",
                                        "{\"version\":4,\"size\":1}\n", "{\"version\":-1}\n"};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        tlt_spit(logp(TL_CKPT_LAST), hints[i], strlen(hints[i]));
        latest_equals(&ref2, 8);
        int64_t lo, hi;
        tl_io_file r;
        open_root(&r);
        cr_assert_eq(tl_log_version_range(&r, NULL, &lo, &hi, &err), TL_OK, "%s", err.msg);
        tl_io_close(&r, NULL);
        cr_assert_eq(hi, latest);
        cr_assert_eq(lo, 0);
    }
    unlink(logp(TL_CKPT_LAST));
    latest_equals(&ref2, 8);
    free(c4);
    free(c8);
    tl_log_snapshot_free(&ref);
    tl_log_snapshot_free(&ref2);
}

/* ---- the decoder's errors name file, byte offset and field ------------------------- */

static void put64(char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* A new valid trailer (XXH3-64 of everything before it). */
static void reseal(char *b, size_t len)
{
    put64(b + len - 8, XXH3_64bits(b, len - 8));
}

static int decode_rc(char *b, size_t len, tl_error *err)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    tl_log_ckpt ck;
    int rc = tl_log_ckpt_decode("x.checkpoint.tlc", 2, copy, len, &ck, err);
    if (rc == TL_OK)
        tl_log_ckpt_free(&ck);
    return rc;
}

Test(log_checkpoint, decoder_errors_name_file_offset_and_field)
{
    create(2, -1, B);
    tl_log_action a[1];
    add_file(&a[0], 0);
    commit(0, a, 1, B + 1);
    add_file(&a[0], 1);
    commit(1, a, 1, B + 2);
    size_t len;
    char *good = tlt_slurp(ckp(2), &len);
    tl_error err;
    cr_assert_eq(decode_rc(good, len, &err), TL_OK, "%s", err.msg);
    char *b = malloc(len + 16);
    /* checksum */
    memcpy(b, good, len);
    b[100] ^= 1;
    cr_assert_eq(decode_rc(b, len, &err), TL_ECHECKSUM);
    cr_assert(strstr(err.msg, "x.checkpoint.tlc") && strstr(err.msg, "checksum"), "%s", err.msg);
    /* magic, format version, file size, version */
    memcpy(b, good, len);
    b[0] = 'X';
    cr_assert_eq(decode_rc(b, len, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "byte offset 0: magic"), "%s", err.msg);
    memcpy(b, good, len);
    b[8] = 2;
    reseal(b, len);
    cr_assert_eq(decode_rc(b, len, &err), TL_EVERSION);
    cr_assert(strstr(err.msg, "byte offset 8: format version"), "%s", err.msg);
    cr_assert_eq(decode_rc(good, len - 1, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "byte offset 32: file bytes"), "%s", err.msg);
    memcpy(b, good, len);
    b[16] = 3;
    reseal(b, len);
    cr_assert_eq(decode_rc(b, len, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "byte offset 16: version") && strstr(err.msg, "expected 2"), "%s",
              err.msg);
    /* a huge count is refused before any allocation */
    static const struct {
        unsigned off;
        const char *field;
    } counts[] = {{40, "n_txn"}, {48, "n_add"}, {56, "n_remove"}, {64, "n_colstats"}};
    for (size_t i = 0; i < 4; i++) {
        memcpy(b, good, len);
        put64(b + counts[i].off, UINT64_MAX / 2);
        reseal(b, len);
        cr_assert_eq(decode_rc(b, len, &err), TL_ECORRUPT);
        char want[64];
        snprintf(want, sizeof want, "byte offset %u: %s", counts[i].off, counts[i].field);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
    }
    /* an unsafe path (LOG-R11) with a valid checksum */
    memcpy(b, good, len);
    char *p = memmem(b, len, "symbol=S0/", 10);
    cr_assert_not_null(p);
    memcpy(p, "../../x/", 8);
    reseal(b, len);
    cr_assert_eq(decode_rc(b, len, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "add.path") && strstr(err.msg, "LOG-R11"), "%s", err.msg);
    free(b);
    free(good);
}

/* ---- time travel by timestamp (LOG-R56) --------------------------------------------- */

Test(log_checkpoint, binary_search_equals_linear_scan_for_every_timestamp)
{
    int64_t latest = build_history(30, 4, -1);
    tl_log_snapshot ref;
    load_v(-1, 1, &ref);
    int64_t first = ref.history[0].ict_ms, last = ref.history[latest].ict_ms;
    for (int64_t t = first - 2; t <= last + 2; t++) {
        int64_t want = -1;
        for (int64_t v = 0; v <= latest; v++)
            if (ref.history[v].ict_ms <= t)
                want = v;
        tl_log_snapshot s;
        tl_error err;
        tl_log_snap_opts o = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = t};
        int rc = load_rc(&o, &s, &err);
        if (want < 0) {
            cr_assert_eq(rc, TL_ENOTFOUND, "T %" PRId64, t);
            cr_assert(strstr(err.msg, "version 0") && strstr(err.msg, "LOG-R56"), "%s", err.msg);
            continue;
        }
        cr_assert_eq(rc, TL_OK, "T %" PRId64 ": %s", t, err.msg);
        cr_assert_eq(s.version, want, "T %" PRId64, t);
        tl_log_snapshot_free(&s);
    }
    tl_log_snapshot_free(&ref);
}

/* ---- cleanup, oldest reachable version (LOG-R80, R81, R57) ----------------------------- */

static size_t count_names(int (*pred)(const char *))
{
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    tl_io_names n;
    tl_error err;
    cr_assert_eq(tl_io_list(NULL, NULL, p, &n, &err), TL_OK, "%s", err.msg);
    size_t k = 0;
    for (size_t i = 0; i < n.n; i++)
        k += pred(n.names[i]);
    tl_io_names_free(&n);
    return k;
}

static int is_commit(const char *s)
{
    int64_t v;
    return tl_log_commit_version(s, &v) == TL_OK;
}

static int is_ckpt(const char *s)
{
    int64_t v;
    return tl_log_ckpt_version(s, &v) == TL_OK;
}

static int cleanup(int64_t now, int64_t retention, tl_log_cleanup_report *rep)
{
    tl_io_file r;
    open_root(&r);
    tl_error err;
    int rc = tl_log_cleanup(&r, NULL, now, retention, rep, &err);
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    return rc;
}

Test(log_checkpoint, cleanup_deletes_only_covered_commits)
{
    int64_t latest = build_history(23, 5, -1); /* checkpoints 5, 10, 15, 20 */
    tl_log_snapshot ref[24];
    for (int64_t v = 0; v <= latest; v++)
        load_v(v, 1, &ref[v]);
    tl_log_cleanup_report rep;
    /* retention keeps everything: no checkpoint is old enough */
    cleanup(ref[5].history[5].ict_ms - 1, 0, &rep);
    cr_assert_eq(rep.checkpoint_version, -1);
    cr_assert_eq(rep.n_commits_deleted, 0);
    cr_assert_eq(count_names(is_commit), 24);
    /* only checkpoint 10 is old enough: commits 0..9 and checkpoint 5 go */
    cleanup(ref[10].history[10].ict_ms + 1000, 1000, &rep);
    cr_assert_eq(rep.checkpoint_version, 10);
    cr_assert_eq(rep.n_commits_deleted, 10);
    cr_assert_eq(rep.n_checkpoints_deleted, 1);
    cr_assert_eq(rep.oldest_reachable, 10);
    cr_assert_eq(count_names(is_commit), 14);
    cr_assert_eq(count_names(is_ckpt), 3);
    cr_assert(exists(logp("00000000000000000010.json")), "commit c itself is kept");
    for (int64_t v = 10; v <= latest; v++) {
        tl_log_snapshot s;
        load_v(v, 0, &s);
        snap_equal(&s, &ref[v]);
        tl_log_snapshot_free(&s);
    }
    /* below the oldest reachable version: TL_ENOTFOUND naming it (LOG-R57) */
    for (int64_t v = 0; v < 10; v++) {
        tl_log_snapshot s;
        tl_error err;
        tl_log_snap_opts o = {.at = TL_LOG_AT_VERSION, .version = v};
        cr_assert_eq(load_rc(&o, &s, &err), TL_ENOTFOUND, "v %" PRId64, v);
        cr_assert(strstr(err.msg, "oldest reachable version is 10") && strstr(err.msg, "LOG-R57"),
                  "%s", err.msg);
    }
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts o = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = ref[10].history[10].ict_ms - 1};
    cr_assert_eq(load_rc(&o, &s, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "version 10, the oldest reachable") && strstr(err.msg, "LOG-R56"),
              "%s", err.msg);
    o.ts_ms = ref[10].history[10].ict_ms;
    cr_assert_eq(load_rc(&o, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 10);
    tl_log_snapshot_free(&s);
    /* history starts at the oldest reachable version */
    tl_io_file r;
    open_root(&r);
    tl_log_hist h;
    cr_assert_eq(tl_log_history(&r, NULL, &h, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(h.oldest, 10);
    cr_assert_eq(h.latest, latest);
    cr_assert_eq(h.n, (size_t)(latest - 10 + 1));
    for (size_t i = 0; i < h.n; i++) {
        int64_t v = 10 + (int64_t)i;
        cr_assert_eq(h.entries[i].version, v);
        cr_assert_eq(h.entries[i].ict_ms, ref[latest].history[v].ict_ms);
        cr_assert_eq(h.entries[i].n_added_files, ref[latest].history[v].n_added_files);
        cr_assert_str_eq(h.entries[i].txn_id, ref[latest].history[v].txn_id);
    }
    tl_log_hist_free(&h);
    int64_t lo, hi;
    cr_assert_eq(tl_log_version_range(&r, NULL, &lo, &hi, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(lo, 10);
    cr_assert_eq(hi, latest);
    tl_io_close(&r, NULL);
    /* with the newest checkpoint gone (corrupt), a cleanup covers up to 15 */
    tlt_spit(ckp(20), "junk", 4);
    cleanup(INT64_MAX / 2, 0, &rep);
    cr_assert_eq(rep.checkpoint_version, 15);
    cr_assert_eq(count_names(is_commit), (size_t)(latest - 15 + 1));
    for (int64_t v = 15; v <= latest; v++) {
        load_v(v, 0, &s);
        snap_equal(&s, &ref[v]);
        tl_log_snapshot_free(&s);
    }
    for (int64_t v = 0; v <= latest; v++)
        tl_log_snapshot_free(&ref[v]);
}

/* A gap that no checkpoint covers stays TL_ECORRUPT naming the missing
 * version; cleanup never deletes a commit no checkpoint covers. */
Test(log_checkpoint, uncovered_commits_are_never_deleted)
{
    int64_t latest = build_history(8, 1000, -1); /* no checkpoints */
    tl_log_cleanup_report rep;
    cleanup(INT64_MAX / 2, 0, &rep);
    cr_assert_eq(rep.checkpoint_version, -1);
    cr_assert_eq(count_names(is_commit), (size_t)latest + 1);
    cr_assert_eq(rep.oldest_reachable, 0);
    unlink(logp("00000000000000000003.json"));
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "version 3 (00000000000000000003.json) is missing"), "%s", err.msg);
}

/* ---- history -------------------------------------------------------------------------- */

Test(log_checkpoint, history_reads_line_one_of_every_commit)
{
    int64_t latest = build_history(12, 5, -1);
    tl_log_snapshot ref;
    load_v(-1, 1, &ref);
    tl_io_file r;
    open_root(&r);
    tl_log_hist h;
    tl_error err;
    cr_assert_eq(tl_log_history(&r, NULL, &h, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    cr_assert_eq(h.n, (size_t)latest + 1);
    for (size_t v = 0; v < h.n; v++) {
        const tl_log_version_info *x = &h.entries[v], *y = &ref.history[v];
        cr_assert_eq(x->version, (int64_t)v);
        cr_assert_eq(x->ict_ms, y->ict_ms);
        cr_assert_str_eq(x->operation, y->operation);
        cr_assert_str_eq(x->txn_id, y->txn_id);
        cr_assert_eq(x->has_read_version, y->has_read_version);
        cr_assert_eq(x->read_version, y->read_version);
        cr_assert_eq(x->n_added_files, y->n_added_files);
        cr_assert_eq(x->n_added_rows, y->n_added_rows);
        cr_assert_eq(x->n_removed_files, y->n_removed_files);
        cr_assert_eq(x->n_removed_rows, y->n_removed_rows);
        cr_assert_eq(x->op_params.n, y->op_params.n);
    }
    tl_log_hist_free(&h);
    tl_log_hist_free(&h);
    /* a broken first line is named */
    tlt_spit(logp("00000000000000000004.json"), "{\"commitInfo\":{}}\n", 18);
    open_root(&r);
    cr_assert_eq(tl_log_history(&r, NULL, &h, &err), TL_ECORRUPT);
    tl_io_close(&r, NULL);
    cr_assert(strstr(err.msg, "00000000000000000004.json") &&
                  strstr(err.msg, "commitInfo.inCommitTimestamp"),
              "%s", err.msg);
    tl_log_snapshot_free(&ref);
}

/* ---- faults while writing a checkpoint (LOG-R71, LOG-C7) ------------------------------- */

static tl_io_fault *injector(const char *r)
{
    tl_io_fault *fi;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(r, &fi, &err), TL_OK, "%s", err.msg);
    return fi;
}

static int write_ckpt_io(const tl_io *io, int64_t v, tl_error *err)
{
    tl_log_snapshot s;
    load_v(v, 1, &s);
    tl_io_file r;
    int rc = tl_io_open(io, NULL, root, O_RDONLY | O_DIRECTORY, 0, &r, err);
    if (rc == TL_OK)
        rc = tl_log_checkpoint_write(&r, &s, io, NULL, err);
    tl_io_close(&r, NULL);
    tl_log_snapshot_free(&s);
    return rc;
}

/* Fail each I/O call k of writing a checkpoint in turn, and cut the power
 * before each call k (dropping or tearing unsynced data): the table opens
 * with the same snapshot at every version. */
Test(log_checkpoint, failure_or_power_loss_at_every_call_changes_nothing)
{
    int64_t latest = build_history(6, 1000, -1);
    tl_log_snapshot ref[7];
    for (int64_t v = 0; v <= latest; v++)
        load_v(v, 1, &ref[v]);
    uint64_t total = 0;
    {
        tl_io_fault *fi = injector(NULL);
        tl_error err;
        cr_assert_eq(write_ckpt_io(tl_io_fault_io(fi), 4, &err), TL_OK, "%s", err.msg);
        total = tl_io_fault_count(fi, TL_IO_OP_ANY);
        tl_io_fault_close(fi);
        cr_assert_geq(total, 8);
    }
    int seen_ok = 0, seen_fail = 0;
    for (int mode = 0; mode < 3; mode++) {
        for (uint64_t k = 1; k <= total + 1; k++) {
            teardown();
            setup();
            rng = 88172645463325252ull;
            build_history(6, 1000, -1);
            tl_io_fault *fi = injector(mode ? root : NULL);
            if (mode == 1 || mode == 2)
                tl_io_fault_set_flags(fi, 0);
            tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k,
                                     .action = mode ? TL_IO_FAULT_CUT : TL_IO_FAULT_FAIL,
                                     .err_no = EIO};
            tl_error err;
            cr_assert_eq(tl_io_fault_add(fi, &rule, &err), TL_OK);
            int rc = write_ckpt_io(tl_io_fault_io(fi), 4, &err);
            if (rc == TL_OK)
                seen_ok++;
            else
                seen_fail++;
            if (mode) {
                tl_io_crash_opts o = {.tear = mode == 2, .seed = k};
                cr_assert_eq(tl_io_fault_crash(fi, &o, &err), TL_OK, "%s", err.msg);
            }
            tl_io_fault_close(fi);
            for (int64_t v = 0; v <= latest; v++) {
                tl_log_snapshot s;
                load_v(v, 0, &s);
                snap_equal(&s, &ref[v]);
                tl_log_snapshot_free(&s);
            }
        }
    }
    cr_assert(seen_ok > 0 && seen_fail > 0);
    for (int64_t v = 0; v <= latest; v++)
        tl_log_snapshot_free(&ref[v]);
}

/* A failing automatic checkpoint never fails the commit (LOG-R70). */
Test(log_checkpoint, failed_automatic_checkpoint_keeps_the_commit)
{
    create(2, -1, B);
    tl_log_action a;
    add_file(&a, 0);
    commit(0, &a, 1, B + 1);
    tl_io_fault *fi = injector(NULL);
    tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = 1, .action = TL_IO_FAULT_FAIL_FROM,
                             .err_no = ENOSPC, .path_contains = "checkpoint"};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &rule, &err), TL_OK);
    add_file(&a, 1);
    tl_log_write_opts o = {.io = tl_io_fault_io(fi)};
    tl_log_write_result res;
    cr_assert_eq(commit_o(1, &a, 1, B + 2, &o, &res), 2);
    cr_assert_eq(res.checkpoint_written, 0);
    cr_assert_eq(res.checkpoint_rc, TL_EIO);
    cr_assert(strstr(res.checkpoint_error, "automatic checkpoint of version 2") &&
                  strstr(res.checkpoint_error, "commit stands"),
              "%s", res.checkpoint_error);
    tl_io_fault_close(fi);
    tl_log_snapshot s;
    load_v(-1, 0, &s);
    cr_assert_eq(s.version, 2);
    cr_assert_eq(s.checkpoint_version, -1);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 2);
    tl_log_snapshot_free(&s);
    /* with the writer's snapshot passed, the checkpoint is built from it */
    load_v(-1, 0, &s);
    add_file(&a, 2);
    commit(2, &a, 1, B + 3);
    tl_log_snapshot s3;
    load_v(-1, 0, &s3);
    add_file(&a, 3);
    o = (tl_log_write_opts){.snap = &s3};
    cr_assert_eq(commit_o(3, &a, 1, B + 4, &o, &res), 4);
    cr_assert_eq(res.checkpoint_written, 1, "%s", res.checkpoint_error);
    tl_log_snapshot_free(&s3);
    tl_log_snapshot_free(&s);
    check_every_version(4);
}

/* ---- fuzz seeds ---------------------------------------------------------------------- */

/* Checkpoints of a few shapes; with TL_CKPT_CORPUS_DIR set they are written
 * there as the seed corpus of fuzz_checkpoint. Every committed seed must
 * decode (a stale corpus would only exercise the rejection paths). */
Test(log_checkpoint, fuzz_seeds_decode)
{
    const char *out = getenv("TL_CKPT_CORPUS_DIR");
    build_history(8, 2, -1);
    for (int64_t v = 2; v <= 8; v += 2) {
        size_t len;
        char *b = tlt_slurp(ckp(v), &len);
        tl_error err;
        cr_assert_eq(decode_rc(b, len, &err) == TL_OK || v != 2, 1, "%s", err.msg);
        if (out && (v == 2 || v == 8)) {
            char p[600];
            snprintf(p, sizeof p, "%s/seed_v%" PRId64, out, v);
            tlt_spit(p, b, len);
        }
        free(b);
    }
    char d[600];
    snprintf(d, sizeof d, "%s/tests/fuzz/corpus/fuzz_checkpoint", TL_SOURCE_DIR);
    tl_io_names n;
    tl_error err;
    if (tl_io_list(NULL, NULL, d, &n, &err) != TL_OK)
        return;
    for (size_t i = 0; i < n.n; i++) {
        if (strncmp(n.names[i], "seed_", 5) != 0)
            continue;
        char p[900];
        snprintf(p, sizeof p, "%s/%s", d, n.names[i]);
        size_t len;
        char *b = tlt_slurp(p, &len);
        char *copy = malloc(len);
        memcpy(copy, b, len);
        tl_log_ckpt ck;
        cr_assert_eq(tl_log_ckpt_decode(n.names[i], -1, copy, len, &ck, &err), TL_OK, "%s: %s",
                     n.names[i], err.msg);
        tl_log_ckpt_free(&ck);
        free(b);
    }
    tl_io_names_free(&n);
}

/* The chunk index and the two-thread decode (LOG.md 9.7): tiny chunks and
 * parallel decoding of every checkpoint give the same snapshots; every
 * byte of a chunked checkpoint flipped behind a valid checksum is decoded
 * or rejected, never read out of bounds (ASan builds check that). */
Test(log_checkpoint, chunked_two_thread_decode_equals_replay)
{
    tl_log_ckpt_chunk_adds = 3;
    tl_log_ckpt_par_min = 1;
    int64_t latest = build_history(30, 7, -1);
    check_every_version(latest);
    size_t len;
    char *good = tlt_slurp(ckp(28), &len);
    if (getenv("TL_CKPT_CORPUS_DIR")) { /* a seed with several chunks */
        char p[600];
        snprintf(p, sizeof p, "%s/seed_chunked", getenv("TL_CKPT_CORPUS_DIR"));
        tlt_spit(p, good, len);
    }
    char *b = malloc(len);
    int ok = 0, bad = 0;
    for (size_t i = 0; i + 8 < len; i++) {
        memcpy(b, good, len);
        b[i] ^= (char)0x41;
        reseal(b, len);
        char *copy = malloc(len);
        memcpy(copy, b, len);
        tl_log_ckpt ck;
        tl_error err;
        if (tl_log_ckpt_decode("x.checkpoint.tlc", -1, copy, len, &ck, &err) == TL_OK) {
            ok++;
            tl_log_ckpt_free(&ck);
        } else {
            bad++;
            cr_assert(strstr(err.msg, "x.checkpoint.tlc"), "%s", err.msg);
        }
    }
    cr_assert_gt(bad, 0);
    (void)ok;
    free(b);
    free(good);
    tl_log_ckpt_chunk_adds = 4096;
    tl_log_ckpt_par_min = 16384;
}

/* LOG-C8: power loss before every I/O call of a cleanup (dropping or
 * tearing what was not made durable): every version from the oldest
 * reachable one on still loads, equal to its replay before the cleanup. */
Test(log_checkpoint, power_loss_during_cleanup_keeps_reachable_versions)
{
    int64_t latest = build_history(9, 3, -1); /* checkpoints 3, 6, 9 */
    tl_log_snapshot ref[10];
    for (int64_t v = 0; v <= latest; v++)
        load_v(v, 1, &ref[v]);
    int64_t now = ref[latest].history[latest].ict_ms + 1;
    uint64_t total = 0;
    int seen_partial = 0;
    for (int tear = 0; tear < 2; tear++) {
        for (uint64_t k = 0; k <= total + 1; k++) {
            teardown();
            setup();
            rng = 88172645463325252ull;
            cr_assert_eq(build_history(9, 3, -1), latest);
            tl_io_fault *fi = injector(root);
            tl_error err;
            if (k) {
                tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k,
                                         .action = TL_IO_FAULT_CUT};
                cr_assert_eq(tl_io_fault_add(fi, &rule, &err), TL_OK);
            }
            tl_io_file r;
            int rc = tl_io_open(tl_io_fault_io(fi), NULL, root, O_RDONLY | O_DIRECTORY, 0, &r,
                                &err);
            tl_log_cleanup_report rep;
            if (rc == TL_OK)
                rc = tl_log_cleanup(&r, tl_io_fault_io(fi), now, 0, &rep, &err);
            tl_io_close(&r, NULL);
            if (!k) {
                cr_assert_eq(rc, TL_OK, "%s", err.msg);
                cr_assert_eq(rep.checkpoint_version, 9);
                total = tl_io_fault_count(fi, TL_IO_OP_ANY);
                tl_io_fault_close(fi);
                continue;
            }
            tl_io_crash_opts o = {.tear = tear, .seed = k};
            cr_assert_eq(tl_io_fault_crash(fi, &o, &err), TL_OK, "%s", err.msg);
            tl_io_fault_close(fi);
            int64_t lo, hi;
            open_root(&r);
            cr_assert_eq(tl_log_version_range(&r, NULL, &lo, &hi, &err), TL_OK, "k %llu: %s",
                         (unsigned long long)k, err.msg);
            tl_io_close(&r, NULL);
            cr_assert_eq(hi, latest);
            /* 0 (nothing deleted durably), 9 (all), or a checkpoint between
             * when a torn directory kept some of the deletions (oldest first) */
            cr_assert(lo == 0 || lo == 3 || lo == 6 || lo == 9, "k %llu: oldest %lld",
                      (unsigned long long)k, (long long)lo);
            seen_partial += lo == 3 || lo == 6;
            for (int64_t v = lo; v <= latest; v++) {
                tl_log_snapshot s;
                load_v(v, 0, &s);
                snap_equal(&s, &ref[v]);
                tl_log_snapshot_free(&s);
            }
        }
    }
    cr_assert_gt(seen_partial, 0, "a torn cleanup that kept some deletions was exercised");
    for (int64_t v = 0; v <= latest; v++)
        tl_log_snapshot_free(&ref[v]);
}
