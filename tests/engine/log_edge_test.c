/*
 * log_edge_test.c - the edges of log.c that the main log tests leave out
 * (issue 7, branch coverage of the commit area), each checked for its
 * outcome: the return code, a message naming the place (table, commit file,
 * version, field) and the table unchanged or consistent afterwards.
 *
 * - tl_log_write: argument guards, a protocol this build cannot write (with
 *   and without an error struct: the code must not depend on it), the
 *   writer's snapshot (unloaded, unwritable protocol, partition values
 *   against its metaData), two txns, a clock before the epoch (LOG-R55),
 *   no_checkpoint and the automatic checkpoint without a snapshot (LOG-R70).
 * - the conflict table (LOG-R50): read partitions, winners with txns of
 *   other apps or lower versions, removes of other paths, a protocol-only
 *   winner; an unknown publication outcome read back (LOG-R47).
 * - reading: bad first lines of commits for history and time travel
 *   (LOG-R6, R56), gaps a racing listing hides (fill_gaps), checkpoints
 *   that are empty, oversized, inconsistent or unreadable (LOG-R72, R81),
 *   versions below the oldest reachable one (LOG-R57), the Delta dialect's
 *   load path (LOG-D3, D4, D8, D12), a root handle without a display path.
 * - log cleanup (LOG-R80): guards, stray checkpoints, concurrent unlinks,
 *   a failed unlink, a second cleanup with nothing to do.
 * - out-of-memory sweeps over a load from a checkpoint, a delta load,
 *   history and a commit whose automatic checkpoint extends the writer's
 *   snapshot.
 */
#include <criterion/criterion.h>

#include "checkpoint_int.h"
#include "delta_read_int.h"
#include "io_int.h"
#include "log_int.h"
#include "log_testlib.h"
#include "../support/oom.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void setup(void)
{
    testlib_setup("tl_loge");
}

static void teardown(void)
{
    tl_oom_off();
    testlib_teardown();
}

TestSuite(log_edge, .init = setup, .fini = teardown);

static const int64_t B = 4000000000000; /* a clock base after the wall clock */

/* ---- helpers ------------------------------------------------------------------- */

static char *logp(const char *name)
{
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/_delta_log/%s", root, name);
    return p[k];
}

static char *cname(int64_t v)
{
    static char n[4][TL_LOG_NAME_LEN + 1];
    static int k;
    k = (k + 1) % 4;
    tl_log_commit_name(v, n[k]);
    return n[k];
}

static char *ckname(int64_t v)
{
    static char n[4][TL_CKPT_NAME_LEN + 1];
    static int k;
    k = (k + 1) % 4;
    tl_log_ckpt_name(v, n[k]);
    return n[k];
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void put_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

static void msg_has(const tl_error *e, const char *want)
{
    cr_assert_not_null(strstr(e->msg, want), "expected \"%s\" in: %s", want, e->msg);
}

/* Table configuration: checkpoint interval and partitioning of meta(). */
static char interval_s[16] = "100";
static tl_log_kv conf[1];
static const tl_log_field pschema[] = {{"timestamp", TL_TIMESTAMP, 0},
                                       {"symbol", TL_STRING, 0},
                                       {"price", TL_FLOAT64, 1}};

/* protocol + metaData; every: checkpoint interval; part: partition by symbol
 * and day. */
static void meta(tl_log_action a[2], int every, int part)
{
    meta_actions(a, "edge");
    snprintf(interval_s, sizeof interval_s, "%d", every);
    conf[0] = (tl_log_kv){TL_LOG_CONF_CHECKPOINT_INTERVAL, interval_s};
    a[1].u.meta.config = (tl_log_map){conf, 1};
    if (part) {
        a[1].u.meta.fields = pschema;
        a[1].u.meta.n_fields = 3;
        a[1].u.meta.part_symbol_col = "symbol";
        a[1].u.meta.part_day_col = "timestamp";
    }
}

static void add_action(tl_log_action *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_ADD;
    a->u.add = (tl_log_add){.path = path, .size_bytes = 100, .n_rows = 1, .mtime_ms = 1,
                            .data_change = 1};
}

static void padd_action(tl_log_action *a, const char *path, const char *sym, int32_t day)
{
    add_action(a, path);
    a->u.add.part = (tl_log_pvals){.has_symbol = 1, .symbol = sym, .has_date = 1, .date = day};
}

static void remove_action(tl_log_action *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_REMOVE;
    a->u.rm = (tl_log_remove){.path = path, .data_change = 1};
}

static void txn_action(tl_log_action *a, const char *app, int64_t version)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_TXN;
    a->u.txn = (tl_log_txn){app, version, 0, 0};
}

/* The table root, or (holding) one opened before an out-of-memory sweep,
 * so that the sweep counts only the operation's allocations. */
static tl_io_file held = TL_IO_FILE_INIT;
static int holding;

static void get_root(tl_io_file *r)
{
    if (holding)
        *r = held;
    else
        open_root_io(NULL, r);
}

static void put_root(tl_io_file *r)
{
    if (!holding)
        tl_io_close(r, NULL);
}

static void hold_root(int on)
{
    if (on)
        open_root_io(NULL, &held);
    else
        tl_io_close(&held, NULL);
    holding = on;
}

/* tl_log_write at read version rv with the clock at now; the code. */
static int write_o(int64_t rv, const tl_log_action *acts, uint32_t n, int64_t now,
                   const tl_log_write_opts *extra, tl_log_write_result *res, tl_error *err)
{
    tl_io_file r;
    get_root(&r);
    tl_log_write_opts o = extra ? *extra : (tl_log_write_opts){0};
    o.now_ms = fixed_clock;
    o.now_arg = &now;
    int rc = tl_log_write(&r, rv, acts, n, &o, res, err);
    put_root(&r);
    return rc;
}

/* A commit that must succeed; returns its version. */
static int64_t commit(int64_t rv, const tl_log_action *acts, uint32_t n, int64_t now)
{
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(write_o(rv, acts, n, now, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.noop, 0);
    cr_assert_eq(res.checkpoint_rc, TL_OK, "%s", res.checkpoint_error);
    return res.version;
}

static void create(int every, int part)
{
    tl_log_action a[2];
    meta(a, every, part);
    cr_assert_eq(commit(-1, a, 2, B), 0);
}

/* Versions 1 .. last, version v adding "f<v>" at B + 1000 v. */
static void appends(int64_t last)
{
    for (int64_t v = 1; v <= last; v++) {
        static char p[64][24];
        cr_assert_lt(v, 64);
        snprintf(p[v], sizeof p[v], "f%" PRId64, v);
        tl_log_action a;
        add_action(&a, p[v]);
        cr_assert_eq(commit(v - 1, &a, 1, B + 1000 * v), v);
    }
}

static int load_io(const tl_io *io, const tl_log_snap_opts *o, tl_log_snapshot *s,
                   tl_error *err)
{
    tl_io_file r;
    get_root(&r);
    tl_log_snap_opts oo = o ? *o : (tl_log_snap_opts){0};
    oo.io = io;
    int rc = tl_log_snapshot_load(&r, &oo, s, err);
    put_root(&r);
    return rc;
}

static int load_rc(const tl_log_snap_opts *o, tl_log_snapshot *s, tl_error *err)
{
    return load_io(o ? o->io : NULL, o, s, err);
}

static int64_t latest(void)
{
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    int64_t v = s.version;
    tl_log_snapshot_free(&s);
    return v;
}

static tl_io_fault *injector(void)
{
    tl_io_fault *fi;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(NULL, &fi, &err), TL_OK, "%s", err.msg);
    return fi;
}

static void rule(tl_io_fault *fi, int op, uint64_t nth, int action, int err_no,
                 const char *path)
{
    tl_io_fault_rule r = {.op = op, .nth = nth, .action = action, .err_no = err_no,
                          .path_contains = path};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
}

/* The root directory as a handle without a display path (a caller that
 * built its own handle): messages then say "table". */
static tl_io_file bare_root(void)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    return (tl_io_file){tl_io_default(), fd, NULL};
}

/* ---- tl_log_write: guards and the writer's snapshot --------------------------- */

/* Bad arguments and a protocol this build cannot write are refused before
 * anything is written, and the code is the same without an error struct. */
Test(log_edge, write_refuses_bad_arguments_and_unwritable_protocols)
{
    tl_log_action a[2];
    meta(a, 100, 0);
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(tl_log_write(NULL, -1, a, 2, NULL, &res, &err), TL_EINVAL);
    msg_has(&err, "tl_log_write: bad arguments");
    cr_assert_eq(res.version, -1);
    tl_io_file r;
    open_root_io(NULL, &r);
    cr_assert_eq(tl_log_write(&r, -2, a, 2, NULL, &res, &err), TL_EINVAL);
    cr_assert_eq(tl_log_write(&r, -1, NULL, 2, NULL, &res, &err), TL_EINVAL);
    cr_assert_eq(tl_log_write(&r, -1, a, UINT32_MAX, NULL, &res, &err), TL_EINVAL);
    msg_has(&err, "bad arguments");

    a[0].u.proto.min_writer_version = 2; /* LOG-R32: above this build's */
    cr_assert_eq(tl_log_write(&r, -1, a, 2, NULL, &res, &err), TL_EVERSION);
    msg_has(&err, "minWriterVersion <= 1");
    msg_has(&err, "found 2");
    /* regression: without an error struct this was TL_EUNSUPPORTED */
    cr_assert_eq(tl_log_write(&r, -1, a, 2, NULL, &res, NULL), TL_EVERSION);
    tl_io_close(&r, NULL);
    cr_assert_not(exists(logp("")), "nothing may be written");
}

/* LOG-R40 / LOG-R28 against the snapshot the writer read: its protocol must
 * be writable and the actions must fit its metaData; the codes do not depend
 * on the error struct, and the table stays at its version. A snapshot that
 * is not loaded (freed: version -1, no protocol, no metaData) is not used. */
Test(log_edge, the_writers_snapshot_decides_protocol_and_partition_checks)
{
    create(100, 0);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    const tl_log_protocol *real = s.protocol;
    tl_log_protocol newer = *real;
    newer.min_writer_version = 7;
    s.protocol = &newer;
    tl_log_action a;
    add_action(&a, "x");
    tl_log_write_result res;
    tl_log_write_opts o = {.snap = &s};
    cr_assert_eq(write_o(0, &a, 1, B + 10, &o, &res, &err), TL_EVERSION);
    msg_has(&err, "found 7");
    cr_assert_eq(write_o(0, &a, 1, B + 10, &o, &res, NULL), TL_EVERSION);
    s.protocol = real;

    /* the table has no partitions: an add with a symbol value is refused */
    padd_action(&a, "y", "A", 1);
    cr_assert_eq(write_o(0, &a, 1, B + 10, &o, &res, &err), TL_EINVAL);
    msg_has(&err, "new commit");
    cr_assert_eq(write_o(0, &a, 1, B + 10, &o, &res, NULL), TL_EINVAL);
    cr_assert_eq(latest(), 0);

    /* a freed snapshot: ignored, the commit reads what it needs itself */
    tl_log_snapshot_free(&s);
    add_action(&a, "z");
    cr_assert_eq(write_o(0, &a, 1, B + 10, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 1);
    tl_log_action t;
    txn_action(&t, "app", 3);
    cr_assert_eq(write_o(1, &t, 1, B + 20, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 2);
    cr_assert_eq(latest(), 2);
}

/* LOG-R60 with the writer's snapshot at the read version and a commit with
 * two txns: both are recorded; repeating either makes the commit a no-op
 * decided by the given snapshot; a read version above the latest is
 * TL_ENOTFOUND naming it, with nothing written. */
Test(log_edge, two_txns_and_idempotency_from_the_given_snapshot)
{
    create(100, 0);
    tl_log_action a[3];
    txn_action(&a[0], "ingest-a", 5);
    txn_action(&a[1], "ingest-b", 9);
    add_action(&a[2], "f1");
    cr_assert_eq(commit(0, a, 3, B + 10), 1);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_log_snapshot_txn(&s, "ingest-a")->txn->version, 5);
    cr_assert_eq(tl_log_snapshot_txn(&s, "ingest-b")->txn->version, 9);

    tl_log_action b[2];
    txn_action(&b[0], "ingest-c", 1);
    txn_action(&b[1], "ingest-b", 9); /* already applied */
    tl_log_write_result res;
    tl_log_write_opts o = {.snap = &s};
    cr_assert_eq(write_o(1, b, 2, B + 20, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.noop, 1);
    cr_assert_eq(res.version, 1);
    msg_has(&err, "already applied: appId \"ingest-b\"");
    cr_assert_eq(latest(), 1);
    tl_log_snapshot_free(&s);

    txn_action(&b[0], "ingest-d", 1);
    cr_assert_eq(write_o(4, b, 1, B + 20, NULL, &res, &err), TL_ENOTFOUND);
    msg_has(&err, "version 4 does not exist");
    msg_has(&err, "latest version is 1");
    cr_assert_eq(latest(), 1);
    cr_assert_not(exists(logp(cname(2))));
}

/* LOG-R55: a clock before the epoch gives inCommitTimestamp 0, and the next
 * commit stays above it. */
Test(log_edge, a_clock_before_the_epoch_gives_timestamp_zero)
{
    tl_log_action a[2];
    meta(a, 100, 0);
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(write_o(-1, a, 2, -5000, NULL, &res, &err), TL_OK, "%s", err.msg);
    tl_log_action f;
    add_action(&f, "f1");
    cr_assert_eq(write_o(0, &f, 1, -1, NULL, &res, &err), TL_OK, "%s", err.msg);
    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.history[0].ict_ms, 0);
    cr_assert_eq(s.history[1].ict_ms, 1);
    tl_log_snapshot_free(&s);
}

/* LOG-R70: no_checkpoint leaves out the automatic checkpoint; without the
 * writer's snapshot the interval is read from the new version's own
 * snapshot (no checkpoint off the interval, one on it). */
Test(log_edge, automatic_checkpoint_without_a_snapshot_and_when_turned_off)
{
    create(2, 0);
    tl_log_action a;
    add_action(&a, "f1");
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(write_o(0, &a, 1, B + 10, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.checkpoint_written, 0);
    cr_assert_not(exists(logp(ckname(1))));
    add_action(&a, "f2");
    tl_log_write_opts off = {.no_checkpoint = 1};
    cr_assert_eq(write_o(1, &a, 1, B + 20, &off, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 2);
    cr_assert_eq(res.checkpoint_written, 0);
    cr_assert_not(exists(logp(ckname(2))));
    add_action(&a, "f3");
    cr_assert_eq(write_o(2, &a, 1, B + 30, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(write_o(3, &(tl_log_action){0}, 0, B + 40, NULL, &res, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(res.version, 4);
    cr_assert_eq(res.checkpoint_written, 1);
    cr_assert_eq(res.checkpoint_rc, TL_OK);
    cr_assert(exists(logp(ckname(4))));
    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.checkpoint_version, 4);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 3);
    tl_log_snapshot_free(&s);
}

/* LOG-R70: a metaData change without the writer's snapshot takes the
 * interval from its own metaData; a failure reading the log for the
 * automatic checkpoint leaves the commit standing and says why. */
Test(log_edge, automatic_checkpoint_of_a_metadata_change_and_a_failed_read)
{
    create(100, 0);
    tl_log_action a[2];
    meta(a, 1, 0); /* every version from now on */
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(write_o(0, &a[1], 1, B + 10, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 1);
    cr_assert_eq(res.checkpoint_written, 1);
    cr_assert(exists(logp(ckname(1))));

    tl_io_fault *fi = injector();
    rule(fi, TL_IO_OP_LIST, 1, TL_IO_FAULT_FAIL, EIO, NULL);
    tl_log_action f;
    add_action(&f, "f2");
    tl_log_write_opts o = {.io = tl_io_fault_io(fi)};
    cr_assert_eq(write_o(1, &f, 1, B + 20, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 2);
    cr_assert_eq(res.checkpoint_written, 0);
    cr_assert_eq(res.checkpoint_rc, TL_EIO);
    cr_assert_not_null(strstr(res.checkpoint_error,
                              "automatic checkpoint of version 2 failed (the commit stands): "),
                       "%s", res.checkpoint_error);
    cr_assert_not_null(strstr(res.checkpoint_error, "_delta_log"), "%s", res.checkpoint_error);
    tl_io_fault_close(fi);
    cr_assert_not(exists(logp(ckname(2))));
    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 2);
    cr_assert_eq(s.checkpoint_version, 1);
    cr_assert_not_null(tl_log_snapshot_live_get(&s, "f2"));
    tl_log_snapshot_free(&s);
}

/* ---- the conflict table (LOG-R50, R51) ------------------------------------------ */

/* LOG-R50 read partitions: a winner's add conflicts only when its partition
 * (symbol and day, nulls included) equals one the writer read whole. */
Test(log_edge, read_partitions_conflict_only_with_the_same_partition)
{
    create(100, 1);
    tl_log_action w;
    padd_action(&w, "symbol=A/d1", "A", 20000);
    cr_assert_eq(commit(0, &w, 1, B + 10), 1); /* the winner */
    const tl_log_pvals other[] = {
        {.has_symbol = 0, .has_date = 0},                                /* unpartitioned */
        {.has_symbol = 1, .symbol = "A", .has_date = 0},                 /* symbol only */
        {.has_symbol = 1, .symbol_null = 1, .has_date = 1, .date = 20000},
        {.has_symbol = 1, .symbol = "B", .has_date = 1, .date = 20000},
        {.has_symbol = 1, .symbol = "A", .has_date = 1, .date_null = 1},
        {.has_symbol = 1, .symbol = "A", .has_date = 1, .date = 20001},
    };
    tl_log_action mine;
    padd_action(&mine, "symbol=A/d2", "A", 20000);
    tl_log_write_result res;
    tl_error err;
    tl_log_write_opts o = {.read_parts = other, .n_read_parts = 6};
    cr_assert_eq(write_o(0, &mine, 1, B + 20, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 2);
    cr_assert_eq(res.attempts, 2);

    const tl_log_pvals same[] = {other[3], {.has_symbol = 1, .symbol = "A", .has_date = 1,
                                            .date = 20000}};
    padd_action(&mine, "symbol=A/d3", "A", 20000);
    o = (tl_log_write_opts){.read_parts = same, .n_read_parts = 2};
    cr_assert_eq(write_o(0, &mine, 1, B + 30, &o, &res, &err), TL_ECONFLICT);
    msg_has(&err, "version 1 added \"symbol=A/d1\"");
    msg_has(&err, "read partitions");
    cr_assert_eq(latest(), 2);
    cr_assert_not(exists(logp(cname(3))));
}

/* LOG-R50/R61: a winner's txn of another app, or of the same app at a lower
 * version, and a winner's remove of a path this commit does not remove are
 * no conflict; a protocol-only winner is one. */
Test(log_edge, winners_txns_removes_and_protocol_changes)
{
    create(100, 0);
    tl_log_action a[2];
    add_action(&a[0], "f1");
    add_action(&a[1], "f2");
    cr_assert_eq(commit(0, a, 2, B + 10), 1);
    txn_action(&a[0], "app-a", 5);
    cr_assert_eq(commit(1, a, 1, B + 20), 2); /* winner: txn app-a 5 */

    tl_log_write_result res;
    tl_error err;
    txn_action(&a[0], "app-b", 1); /* another app */
    cr_assert_eq(write_o(1, a, 1, B + 30, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 3);
    cr_assert_eq(res.noop, 0);
    add_action(&a[0], "b1"); /* a blind append: a winner's txn is no conflict */
    cr_assert_eq(write_o(1, a, 1, B + 35, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 4);
    cr_assert_eq(write_o(9, a, 1, B + 36, NULL, &res, &err), TL_ENOTFOUND);
    msg_has(&err, "the read version 9 does not exist");
    txn_action(&a[0], "app-a", 9); /* the same app, above the winner's 5 */
    cr_assert_eq(write_o(1, a, 1, B + 40, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 5);
    cr_assert_eq(res.noop, 0);

    remove_action(&a[0], "f1");
    cr_assert_eq(commit(5, a, 1, B + 50), 6); /* winner removes f1 */
    remove_action(&a[0], "f2");
    add_action(&a[1], "f3");
    cr_assert_eq(write_o(5, a, 2, B + 60, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 7);

    tl_log_action p;
    memset(&p, 0, sizeof p);
    p.kind = TL_LOG_PROTOCOL;
    p.u.proto = (tl_log_protocol){1, 1, {no_strs, 0}, {no_strs, 0}};
    cr_assert_eq(commit(7, &p, 1, B + 70), 8); /* protocol only */
    add_action(&a[0], "f4");
    cr_assert_eq(write_o(7, a, 1, B + 80, NULL, &res, &err), TL_ECONFLICT);
    msg_has(&err, "version 8 changed the table's protocol");
    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 8);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 2); /* b1, f3 */
    cr_assert_not_null(tl_log_snapshot_live_get(&s, "f3"));
    cr_assert_eq(tl_log_snapshot_txn(&s, "app-a")->txn->version, 9);
    cr_assert_eq(tl_log_snapshot_txn(&s, "app-b")->table_version, 3);
    cr_assert_not_null(tl_log_snapshot_live_get(&s, "b1"));
    tl_log_snapshot_free(&s);
}

/* ---- LOG-R47: a publication whose outcome is unknown ------------------------------ */

typedef struct race_ctx {
    int mode; /* 1: publish ours, then fail; 2/3: another writer takes the
                 name (2: its commit has no txnId, 3: another txnId) */
    int64_t version;
} race_ctx;

static const char *tmp_name(void)
{
    static char n[256];
    n[0] = 0;
    DIR *d = opendir(logp(""));
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".json.tmp"))
            snprintf(n, sizeof n, "%s", e->d_name);
    closedir(d);
    cr_assert(n[0], "no tmp file");
    return n;
}

static void put_foreign(int64_t v, const char *txn_id)
{
    tl_log_action ci;
    memset(&ci, 0, sizeof ci);
    ci.kind = TL_LOG_COMMIT_INFO;
    ci.u.ci = (tl_log_commit_info){.ict_ms = B + 1000 * v, .operation = "OTHER",
                                   .has_read_version = 1, .read_version = v - 1,
                                   .txn_id = txn_id, .engine_info = "other/1"};
    char *buf = NULL;
    size_t cap = 0, len = 0;
    tl_error err;
    cr_assert_eq(tl_log_commit_serialize(&ci, 1, v, &buf, &cap, &len, &err), TL_OK, "%s",
                 err.msg);
    buf[len] = 0;
    put_text(logp(cname(v)), buf);
    free(buf);
}

static int rename_then_fail(void *arg, int op, const char *path)
{
    (void)op;
    (void)path;
    race_ctx *c = arg;
    if (c->mode == 1)
        cr_assert_eq(rename(logp(tmp_name()), logp(cname(c->version))), 0);
    else
        put_foreign(c->version, c->mode == 2 ? NULL : "0f1e2d3c-4b5a-4697-8877-000000000000");
    return EIO;
}

Test(log_edge, an_unknown_publication_outcome_is_read_back)
{
    create(100, 0);
    tl_io_fault *fi = injector();
    race_ctx c = {1, 1};
    tl_io_fault_rule r = {.op = TL_IO_OP_RENAME, .nth = 1, .action = TL_IO_FAULT_CALLBACK,
                          .cb = rename_then_fail, .cb_arg = &c};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
    tl_log_action a;
    add_action(&a, "f1");
    tl_log_write_result res;
    tl_log_write_opts o = {.io = tl_io_fault_io(fi)};
    /* ours is there: success */
    cr_assert_eq(write_o(0, &a, 1, B + 10, &o, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 1);
    cr_assert_eq(res.attempts, 1);

    /* another writer's commit (without, then with another txnId): lost, and
     * the next attempt commits above it */
    for (int mode = 2; mode <= 3; mode++) {
        tl_io_fault_clear_rules(fi);
        c = (race_ctx){mode, latest() + 1};
        cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
        add_action(&a, mode == 2 ? "f2" : "f3");
        cr_assert_eq(write_o(c.version - 1, &a, 1, B + 100 * mode, &o, &res, &err), TL_OK,
                     "%s", err.msg);
        cr_assert_eq(res.version, c.version + 1);
        cr_assert_eq(res.attempts, 2);
    }
    tl_io_fault_clear_rules(fi);

    /* a failed rename that did nothing, and a failed fsync of _delta_log/,
     * without an error struct: the codes, and whether it may be visible */
    rule(fi, TL_IO_OP_RENAME, 1, TL_IO_FAULT_FAIL, EIO, NULL);
    add_action(&a, "f4");
    cr_assert_eq(write_o(5, &a, 1, B + 600, &o, &res, NULL), TL_EIO);
    cr_assert_eq(res.maybe_visible, 0);
    cr_assert_not(exists(logp(cname(6))));
    tl_io_fault_clear_rules(fi);
    rule(fi, TL_IO_OP_FSYNC_DIR, 1, TL_IO_FAULT_FAIL, EIO, NULL);
    cr_assert_eq(write_o(5, &a, 1, B + 600, &o, &res, NULL), TL_EIO);
    cr_assert_eq(res.maybe_visible, 1);
    cr_assert(exists(logp(cname(6)))); /* published, not acknowledged */
    tl_io_fault_close(fi);

    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 6);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 4);
    cr_assert_str_eq(s.history[2].operation, "OTHER");
    cr_assert_null(s.history[2].txn_id);
    tl_log_snapshot_free(&s);
}

/* ---- line 1 of commits: history and time travel (LOG-R6, R56) ------------------- */

static int history(const tl_io *io, tl_log_hist *h, tl_error *err)
{
    tl_io_file r;
    get_root(&r);
    int rc = tl_log_history(&r, io, h, err);
    put_root(&r);
    return rc;
}

Test(log_edge, history_names_the_field_of_a_bad_first_line)
{
    create(100, 0);
    static const struct {
        const char *line, *want;
    } bad[] = {
        {"[1]\n", "expected {\"commitInfo\":{...}}"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5},\"x\":1}\n", "expected {\"commitInfo\""},
        {"{\"commitInfo\":1}\n", "expected {\"commitInfo\""},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":1}}\n",
         "commitInfo.operation: expected a string"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5}}\n", "commitInfo.operation: expected a string"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\",\"operationParameters\":5}}\n",
         "commitInfo.operationParameters: expected an object"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\",\"txnId\":7}}\n",
         "commitInfo.txnId: expected a string"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\"}}\n",
         "commitInfo.operationParameters: expected an object"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\","
         "\"operationParameters\":{\"k\":1}}}\n",
         "commitInfo.operationParameters: expected string values"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\","
         "\"operationParameters\":{},\"readVersion\":-1}}\n",
         "commitInfo.readVersion: expected an integer >= 0"},
        {"{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\","
         "\"operationParameters\":{},\"readVersion\":\"0\"}}\n",
         "commitInfo.readVersion: expected an integer >= 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_text(logp(cname(1)), bad[i].line);
        tl_log_hist h;
        tl_error err;
        cr_assert_eq(history(NULL, &h, &err), TL_ECORRUPT, "case %zu", i);
        msg_has(&err, "_delta_log/00000000000000000001.json: line 1");
        msg_has(&err, bad[i].want);
        cr_assert_eq(h.n, 0);
        cr_assert_null(h.entries);
    }
    /* version 0 is untouched and still loads */
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts at0 = {.at = TL_LOG_AT_VERSION, .version = 0};
    cr_assert_eq(load_rc(&at0, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 0);
    tl_log_snapshot_free(&s);
}

/* LOG-R49 against the snapshot's metaData while replaying: an add with a
 * partition value in an unpartitioned table is corruption naming the
 * version, with or without an error struct. */
Test(log_edge, a_replayed_add_outside_the_partition_spec_is_corrupt)
{
    create(100, 0);
    appends(1);
    tl_log_action all[2];
    memset(all, 0, sizeof all);
    all[0].kind = TL_LOG_COMMIT_INFO;
    all[0].u.ci = (tl_log_commit_info){.ict_ms = B + 5000, .operation = "TEST",
                                       .has_read_version = 1, .read_version = 1,
                                       .engine_info = "test/1", .n_added_files = 1,
                                       .n_added_rows = 1};
    padd_action(&all[1], "symbol=A/x", "A", 20000);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    tl_error err;
    cr_assert_eq(tl_log_commit_serialize(all, 2, 2, &buf, &cap, &len, &err), TL_OK, "%s",
                 err.msg);
    buf[len] = 0;
    put_text(logp(cname(2)), buf);
    free(buf);
    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 2 (LOG-R49)");
    tl_io_file r;
    open_root_io(NULL, &r);
    cr_assert_eq(tl_log_snapshot_load(&r, NULL, &s, NULL), TL_ECORRUPT);
    tl_io_close(&r, NULL);
    tl_log_snap_opts at1 = {.at = TL_LOG_AT_VERSION, .version = 1};
    cr_assert_eq(load_rc(&at1, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 1);
    tl_log_snapshot_free(&s);
}

/* A commit whose file vanishes between the listing and the read is
 * corruption naming the version; a time-travel search that meets a bad
 * first line names that commit. */
Test(log_edge, history_and_time_travel_meet_vanished_and_bad_commits)
{
    create(100, 0);
    appends(4);
    tl_io_fault *fi = injector();
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, ENOENT, cname(2));
    tl_log_hist h;
    tl_error err;
    cr_assert_eq(history(tl_io_fault_io(fi), &h, &err), TL_ECORRUPT);
    msg_has(&err, "version 2 vanished while reading the history");
    cr_assert_eq(h.n, 0);
    tl_io_fault_clear_rules(fi);
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, ENOENT, cname(2));
    cr_assert_eq(history(tl_io_fault_io(fi), &h, NULL), TL_ECORRUPT);
    cr_assert_eq(h.n, 0);

    /* the same while replaying: listed, then gone */
    tl_io_fault_clear_rules(fi);
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, ENOENT, cname(2));
    tl_log_snapshot sr;
    cr_assert_eq(load_io(tl_io_fault_io(fi), NULL, &sr, &err), TL_ECORRUPT);
    msg_has(&err, "version 2 was listed but cannot be read");
    tl_io_fault_clear_rules(fi);
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, ENOENT, cname(2));
    cr_assert_eq(load_io(tl_io_fault_io(fi), NULL, &sr, NULL), TL_ECORRUPT);
    tl_io_fault_clear_rules(fi);
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, ENOENT, cname(2));
    tl_log_snap_opts at25 = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B + 2500};
    tl_log_snapshot s25;
    cr_assert_eq(load_io(tl_io_fault_io(fi), &at25, &s25, &err), TL_ECORRUPT);
    msg_has(&err, cname(2));
    tl_io_fault_close(fi);
    cr_assert_eq(history(NULL, &h, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(h.n, 5);
    cr_assert_eq(h.entries[2].ict_ms, B + 2000);
    tl_log_hist_free(&h);
    tl_log_hist_free(&h); /* idempotent */

    size_t len;
    char *keep = slurp(logp(cname(2)), &len);
    put_text(logp(cname(2)), "{not json\n");
    tl_log_snapshot s;
    tl_log_snap_opts at = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B + 3500};
    cr_assert_eq(load_rc(&at, &s, &err), TL_ECORRUPT);
    msg_has(&err, "00000000000000000002.json: line 1");
    msg_has(&err, "invalid JSON");
    put_text(logp(cname(2)), keep);
    free(keep);
    cr_assert_eq(load_rc(&at, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 3);
    tl_log_snapshot_free(&s);
}

/* ---- checkpoints and the oldest reachable version (LOG-R72, R81, R57) ----------- */

static int range(const tl_io *io, int64_t *oldest, int64_t *lat, tl_error *err)
{
    tl_io_file r;
    get_root(&r);
    int rc = tl_log_version_range(&r, io, oldest, lat, err);
    put_root(&r);
    return rc;
}

static void drop_commits(int64_t lo, int64_t hi)
{
    for (int64_t v = lo; v <= hi; v++)
        cr_assert_eq(unlink(logp(cname(v))), 0);
}

/* An empty checkpoint and one above the size limit are skipped (LOG-R72,
 * R81); an I/O error reading one ends the search (it is not a reason to
 * fall back), for loading, time travel and the version range alike. */
Test(log_edge, empty_oversized_and_unreadable_checkpoints)
{
    create(2, 0);
    appends(6); /* checkpoints 2, 4, 6 */
    drop_commits(0, 1);
    cr_assert_eq(truncate(logp(ckname(2)), 0), 0);
    int64_t oldest = -1, lat = -1;
    tl_error err;
    cr_assert_eq(range(NULL, &oldest, &lat, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(oldest, 4);
    cr_assert_eq(lat, 6);
    tl_log_snapshot s;
    tl_log_snap_opts at = {.at = TL_LOG_AT_VERSION, .version = 3};
    cr_assert_eq(load_rc(&at, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "version 3 is not reachable: the oldest reachable version is 4");

    /* checkpoint 4 above the 4 GiB limit (sparse) */
    size_t len;
    char *keep = slurp(logp(ckname(4)), &len);
    cr_assert_eq(truncate(logp(ckname(4)), (off_t)TL_CKPT_MAX_FILE_BYTES + 1), 0);
    at.version = 5;
    cr_assert_eq(load_rc(&at, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "version 5 is not reachable: the oldest reachable version is 6");
    cr_assert_eq(range(NULL, &oldest, &lat, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(oldest, 6);
    FILE *f = fopen(logp(ckname(4)), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(keep, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    free(keep);

    /* EIO on checkpoint 4: fatal wherever it is read */
    tl_io_fault *fi = injector();
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL_FROM, EIO, ckname(4));
    at.version = 3; /* checkpoint 2 fails to decode; then the oldest reachable */
    cr_assert_eq(load_io(tl_io_fault_io(fi), &at, &s, &err), TL_EIO);
    msg_has(&err, ckname(4));
    tl_log_snap_opts ts = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B + 5500};
    cr_assert_eq(load_io(tl_io_fault_io(fi), &ts, &s, &err), TL_EIO);
    msg_has(&err, ckname(4));
    cr_assert_eq(range(tl_io_fault_io(fi), &oldest, &lat, &err), TL_EIO);
    at.version = 4;
    cr_assert_eq(load_io(tl_io_fault_io(fi), &at, &s, &err), TL_EIO);
    tl_io_fault_close(fi);

    /* without faults everything is as before */
    cr_assert_eq(load_rc(&ts, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 5);
    cr_assert_eq(s.checkpoint_version, 4);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 5);
    tl_log_snapshot_free(&s);
    tl_log_snapshot_free(NULL);
    cr_assert_eq(range(NULL, NULL, &lat, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(lat, 6);
}

/* LOG-R81: when the commit of the oldest checkpoint is gone too, history's
 * first entry holds only the version and the checkpoint's timestamp, time
 * travel below it names that timestamp, and replay without checkpoints is
 * corruption naming version 0. */
Test(log_edge, a_checkpoint_whose_own_commit_is_gone)
{
    create(2, 0);
    appends(4); /* checkpoints 2, 4 */
    drop_commits(0, 2);
    tl_log_hist h;
    tl_error err;
    cr_assert_eq(history(NULL, &h, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(h.oldest, 2);
    cr_assert_eq(h.n, 3);
    cr_assert_eq(h.entries[0].version, 2);
    cr_assert_eq(h.entries[0].ict_ms, B + 2000);
    cr_assert_null(h.entries[0].operation);
    cr_assert_str_eq(h.entries[1].operation, "APPEND");
    tl_log_hist_free(&h);
    tl_log_hist_free(NULL);

    tl_log_snapshot s;
    tl_log_snap_opts ts = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B + 1999};
    cr_assert_eq(load_rc(&ts, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "version 2, the oldest reachable, has inCommitTimestamp 4000000002000");
    ts.ts_ms = B + 2000;
    cr_assert_eq(load_rc(&ts, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 2);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 2);
    tl_log_snapshot_free(&s);

    tl_log_snap_opts nock = {.no_checkpoint = 1};
    cr_assert_eq(load_rc(&nock, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 0 (00000000000000000000.json) is missing but version 3 exists");
}

/* LOG-R72 / R3: a checkpoint whose following commits have a gap is not
 * used; a version below the gap still loads by replay (and the snapshot
 * does not claim an oldest reachable version); a gap with no checkpoint
 * makes the version range, history and time travel corruption naming the
 * missing version. */
Test(log_edge, gaps_after_a_checkpoint_and_above_the_target)
{
    create(2, 0);
    appends(6);
    drop_commits(5, 5);
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts at = {.at = TL_LOG_AT_VERSION, .version = 5};
    cr_assert_eq(load_rc(&at, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "version 5 is not reachable: the oldest reachable version is 6");
    tl_log_snap_opts nock = {.at = TL_LOG_AT_VERSION, .version = 3, .no_checkpoint = 1};
    cr_assert_eq(load_rc(&nock, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 3);
    cr_assert_eq(s.checkpoint_version, -1);
    cr_assert_eq(s.oldest_reachable, -1);
    tl_log_snapshot_free(&s);

    /* without checkpoints the gap is corruption everywhere */
    for (int64_t v = 2; v <= 6; v += 2)
        cr_assert_eq(unlink(logp(ckname(v))), 0);
    int64_t oldest, lat;
    cr_assert_eq(range(NULL, &oldest, &lat, &err), TL_ECORRUPT);
    msg_has(&err, "version 5 (00000000000000000005.json) is missing but version 6 exists");
    tl_log_hist h;
    cr_assert_eq(history(NULL, &h, &err), TL_ECORRUPT);
    msg_has(&err, "version 5 (00000000000000000005.json) is missing");
    tl_log_snap_opts ts = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B + 3000};
    cr_assert_eq(load_rc(&ts, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 5 (00000000000000000005.json) is missing");
    cr_assert_eq(load_rc(&nock, &s, &err), TL_OK, "%s", err.msg); /* below: fine */
    tl_log_snapshot_free(&s);
}

/* LOG-R72 (regression): a checkpoint with a valid checksum whose content is
 * inconsistent (a path both live and removed) is corrupt, so the reader
 * falls back to replay instead of failing the load. */
Test(log_edge, an_inconsistent_checkpoint_is_fallen_back_from)
{
    create(100, 0);
    tl_log_action a;
    add_action(&a, "x");
    cr_assert_eq(commit(0, &a, 1, B + 10), 1);
    remove_action(&a, "x");
    cr_assert_eq(commit(1, &a, 1, B + 20), 2);
    tl_log_snapshot s1, s2;
    tl_error err;
    tl_log_snap_opts at1 = {.at = TL_LOG_AT_VERSION, .version = 1};
    cr_assert_eq(load_rc(&at1, &s1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(load_rc(NULL, &s2, &err), TL_OK, "%s", err.msg);
    /* version 1's state with version 2's tombstone of the live "x" */
    tl_log_strmap keep = s1.tombstones;
    s1.tombstones = s2.tombstones;
    tl_io_file r;
    open_root_io(NULL, &r);
    cr_assert_eq(tl_log_checkpoint_write(&r, &s1, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    s1.tombstones = keep;
    tl_log_snapshot_free(&s1);
    tl_log_snapshot_free(&s2);
    cr_assert(exists(logp(ckname(1))));

    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 2);
    cr_assert_eq(s.checkpoint_version, -1);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 0);
    cr_assert_not_null(tl_log_snapshot_tombstone_get(&s, "x"));
    tl_log_snapshot_free(&s);
    cr_assert_eq(load_rc(&at1, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_not_null(tl_log_snapshot_live_get(&s, "x"));
    tl_log_snapshot_free(&s);

    /* with version 0 gone there is nothing to fall back to: the damage is
     * named (the checkpoint counts as reachable by its checksum, LOG-R81) */
    cr_assert_eq(unlink(logp(cname(0))), 0);
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 0 (00000000000000000000.json) is missing but version 1 exists");
}

/* ---- listings that miss commits (fill_gaps) -------------------------------------- */

static int64_t drop_lo = -1, drop_hi = -2;
static tl_io_ops drop_ops;
static tl_io drop_io;

/* The default listing without the commit names of versions drop_lo ..
 * drop_hi, as a listing racing a publisher can miss entries. */
static int drop_listdir(void *ctx, int dirfd, const char *path, char ***names, size_t *n)
{
    int rc = tl_io_default()->ops->listdir(ctx, dirfd, path, names, n);
    if (rc < 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        int64_t v;
        if (tl_log_commit_version((*names)[i], &v) == TL_OK && v >= drop_lo && v <= drop_hi)
            continue;
        (*names)[k++] = (*names)[i];
    }
    *n = k;
    return rc;
}

static const tl_io *dropping(int64_t lo, int64_t hi)
{
    drop_ops = *tl_io_default()->ops;
    drop_ops.listdir = drop_listdir;
    drop_io = (tl_io){&drop_ops, tl_io_default()->ctx};
    drop_lo = lo;
    drop_hi = hi;
    return &drop_io;
}

/* Versions 0 .. 11 with a checkpoint every 4: version 1 records nine txns,
 * version 5 removes f2, version 9 removes f3. */
static void txn_table(void)
{
    create(4, 0);
    static const char *apps[9] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"};
    tl_log_action a[10];
    for (int i = 0; i < 9; i++)
        txn_action(&a[i], apps[i], i + 1);
    add_action(&a[9], "f1");
    cr_assert_eq(commit(0, a, 10, B + 1000), 1);
    static char p[12][8];
    for (int64_t v = 2; v <= 11; v++) {
        snprintf(p[v], sizeof p[v], "f%d", (int)v);
        add_action(&a[0], p[v]);
        uint32_t n = 1;
        if (v == 5 || v == 9)
            remove_action(&a[n++], v == 5 ? "f2" : "f3");
        cr_assert_eq(commit(v - 1, a, n, B + 1000 * v), v);
    }
}

static void check_txn_table(const tl_log_snapshot *s)
{
    cr_assert_eq(s->version, 11);
    cr_assert_eq(tl_log_snapshot_n_live(s), 9);
    cr_assert_eq(tl_log_snapshot_n_tombstones(s), 2);
    cr_assert_eq(s->n_txn_entries, 9);
    cr_assert_eq(tl_log_snapshot_txn(s, "a8")->txn->version, 9);
    cr_assert_null(tl_log_snapshot_live_get(s, "f3"));
    cr_assert_not_null(tl_log_snapshot_live_get(s, "f11"));
}

Test(log_edge, commits_a_listing_misses_are_found_by_name)
{
    txn_table();
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(load_io(dropping(1, 10), NULL, &s, &err), TL_OK, "%s", err.msg);
    check_txn_table(&s);
    cr_assert_eq(s.checkpoint_version, 8);
    tl_log_snapshot_free(&s);
    tl_log_snap_opts nock = {.no_checkpoint = 1};
    cr_assert_eq(load_io(dropping(1, 10), &nock, &s, &err), TL_OK, "%s", err.msg);
    check_txn_table(&s);
    tl_log_snapshot_free(&s);

    /* a name that is not a regular file is a real gap */
    cr_assert_eq(rename(logp(cname(3)), logp("moved")), 0);
    cr_assert_eq(mkdir(logp(cname(3)), 0755), 0);
    cr_assert_eq(load_io(dropping(3, 3), &nock, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 3 (00000000000000000003.json) is missing but version 4 exists");
    cr_assert_eq(rmdir(logp(cname(3))), 0);
    cr_assert_eq(rename(logp("moved"), logp(cname(3))), 0);
    cr_assert_eq(load_io(dropping(3, 3), &nock, &s, &err), TL_OK, "%s", err.msg);
    check_txn_table(&s);
    tl_log_snapshot_free(&s);
}

/* At most 4096 names are looked up per listing: a listing missing more is
 * reported as the gap that remains, never an unbounded loop of stats. */
Test(log_edge, gap_lookups_are_bounded)
{
    create(100, 0);
    for (int64_t v = 1; v <= 4101; v++) {
        int fd = open(logp(cname(v)), O_WRONLY | O_CREAT | O_EXCL, 0644);
        cr_assert_geq(fd, 0);
        close(fd);
    }
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(unlink(logp(cname(4100))), 0); /* a second gap after the first */
    cr_assert_eq(load_io(dropping(1, 4098), NULL, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 4097 (00000000000000004097.json) is missing but version 4099 exists");
}

/* LOG-R84: a load that failed is retried only when a fresh listing shows
 * that a log cleanup moved the oldest commit; when that listing cannot be
 * taken (the directory cannot be opened or listed) or shows no commits, the
 * load's own error stands. */
static int n_lists;
static int empty_after_first(void *ctx, int dirfd, const char *path, char ***names, size_t *n)
{
    int rc = tl_io_default()->ops->listdir(ctx, dirfd, path, names, n);
    if (rc >= 0 && ++n_lists > 1)
        *n = 0;
    return rc;
}

Test(log_edge, a_failed_load_keeps_its_error_when_the_log_cannot_be_listed_again)
{
    create(100, 0);
    appends(3);
    drop_commits(2, 2);
    tl_log_snapshot s;
    tl_error err;
    for (int op = 0; op < 3; op++) {
        tl_io_fault *fi = injector();
        const tl_io *io = tl_io_fault_io(fi);
        if (op == 0)
            rule(fi, TL_IO_OP_OPEN, 2, TL_IO_FAULT_FAIL, EIO, "_delta_log");
        else if (op == 1)
            rule(fi, TL_IO_OP_LIST, 2, TL_IO_FAULT_FAIL, EIO, NULL);
        else {
            drop_ops = *tl_io_default()->ops;
            drop_ops.listdir = empty_after_first;
            drop_io = (tl_io){&drop_ops, tl_io_default()->ctx};
            n_lists = 0;
            io = &drop_io;
        }
        cr_assert_eq(load_io(io, NULL, &s, &err), TL_ECORRUPT, "case %d", op);
        msg_has(&err, "version 2 (00000000000000000002.json) is missing but version 3 exists");
        if (op < 2)
            cr_assert_eq(tl_io_fault_count(fi, op == 0 ? TL_IO_OP_OPEN : TL_IO_OP_LIST) >= 2, 1);
        else
            cr_assert_eq(n_lists, 2);
        tl_io_fault_close(fi);
    }
    tl_log_snap_opts at = {.at = TL_LOG_AT_VERSION, .version = 1};
    cr_assert_eq(load_rc(&at, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 1);
    tl_log_snapshot_free(&s);
}

/* ---- log cleanup (LOG-R80) ------------------------------------------------------- */

static int cleanup_io(const tl_io *io, int64_t now, int64_t ret, tl_log_cleanup_report *rep,
                      tl_error *err)
{
    tl_io_file r;
    get_root(&r);
    int rc = tl_log_cleanup(&r, io, now, ret, rep, err);
    put_root(&r);
    return rc;
}

/* A concurrent cleanup: the file is gone when this one unlinks it. */
static int gone_first(void *arg, int op, const char *path)
{
    (void)op;
    (void)path;
    cr_assert_eq(unlink(logp(arg)), 0);
    return ENOENT;
}

static void add_gone_rule(tl_io_fault *fi, const char *name)
{
    tl_io_fault_rule r = {.op = TL_IO_OP_UNLINK, .nth = 1, .action = TL_IO_FAULT_CALLBACK,
                          .path_contains = name, .cb = gone_first, .cb_arg = (void *)name};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
}

Test(log_edge, cleanup_guards_strays_concurrent_unlinks_and_failures)
{
    tl_log_cleanup_report rep;
    tl_error err;
    cr_assert_eq(tl_log_cleanup(NULL, NULL, 0, 0, &rep, &err), TL_EINVAL);
    msg_has(&err, "tl_log_cleanup: bad arguments");
    cr_assert_eq(rep.checkpoint_version, -1);
    cr_assert_eq(tl_log_cleanup(NULL, NULL, 0, 0, NULL, NULL), TL_EINVAL);

    create(2, 0);
    appends(6); /* checkpoints 2, 4, 6 */
    /* a stray checkpoint above the latest commit (a copy of 6's) */
    size_t len;
    char *b = slurp(logp(ckname(6)), &len);
    FILE *f = fopen(logp(ckname(9)), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    free(b);

    /* another cleanup removes commit 0 and checkpoint 2 first */
    tl_io_fault *fi = injector();
    static char c0[TL_LOG_NAME_LEN + 1], k2[TL_CKPT_NAME_LEN + 1];
    tl_log_commit_name(0, c0);
    tl_log_ckpt_name(2, k2);
    add_gone_rule(fi, c0);
    add_gone_rule(fi, k2);
    const int64_t H = 3600000;
    cr_assert_eq(cleanup_io(tl_io_fault_io(fi), B + 10 * H, H, &rep, &err), TL_OK, "%s",
                 err.msg);
    tl_io_fault_close(fi);
    cr_assert_eq(rep.checkpoint_version, 6);
    cr_assert_eq(rep.n_commits_deleted, 5); /* 1 .. 5; 0 was the other's */
    cr_assert_eq(rep.n_checkpoints_deleted, 1);
    cr_assert_eq(rep.oldest_reachable, 6);
    for (int64_t v = 0; v < 6; v++)
        cr_assert_not(exists(logp(cname(v))), "version %" PRId64, v);
    cr_assert_not(exists(logp(ckname(2))));
    cr_assert_not(exists(logp(ckname(4))));
    cr_assert(exists(logp(cname(6))));
    cr_assert_eq(unlink(logp(ckname(9))), 0);

    /* nothing old enough: nothing deleted, the oldest reachable is found */
    cr_assert_eq(cleanup_io(NULL, B + 10 * H, 1000 * H, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.checkpoint_version, -1);
    cr_assert_eq(rep.n_commits_deleted, 0);
    cr_assert_eq(rep.oldest_reachable, 6);
    cr_assert_eq(cleanup_io(NULL, B + 10 * H, 1000 * H, NULL, &err), TL_OK, "%s", err.msg);

    tl_log_write_result res_w;
    /* a failed unlink: TL_EIO (also without an error struct); what remains
     * is contiguous and loads; a retry finishes the job */
    tl_log_action a;
    add_action(&a, "g7");
    cr_assert_eq(commit(6, &a, 1, B + 7000), 7);
    add_action(&a, "g8");
    cr_assert_eq(commit(7, &a, 1, B + 8000), 8); /* checkpoint 8 */
    fi = injector();
    rule(fi, TL_IO_OP_UNLINK, 2, TL_IO_FAULT_FAIL, EIO, NULL);
    cr_assert_eq(cleanup_io(tl_io_fault_io(fi), B + 10 * H, H, &rep, NULL), TL_EIO);
    cr_assert_eq(rep.checkpoint_version, 8);
    cr_assert_eq(rep.n_commits_deleted, 1);
    cr_assert_eq(rep.oldest_reachable, -1);
    tl_io_fault_clear_rules(fi);
    rule(fi, TL_IO_OP_UNLINK, 1, TL_IO_FAULT_FAIL, EIO, NULL);
    cr_assert_eq(cleanup_io(tl_io_fault_io(fi), B + 10 * H, H, &rep, &err), TL_EIO);
    msg_has(&err, "log cleanup below checkpoint 8 (LOG-R80)");
    tl_io_fault_close(fi);
    cr_assert_eq(latest(), 8);
    cr_assert_eq(cleanup_io(NULL, B + 10 * H, H, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.oldest_reachable, 8);
    cr_assert_not(exists(logp(cname(7))));
    tl_log_snapshot s;
    cr_assert_eq(load_rc(NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 8);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 8);
    tl_log_snapshot_free(&s);

    /* no checkpoint whose following commits all exist: nothing is deleted */
    for (int64_t v = 9; v <= 12; v++) {
        char p[16];
        snprintf(p, sizeof p, "g%d", (int)v);
        add_action(&a, p);
        tl_log_write_opts noc = {.no_checkpoint = 1};
        cr_assert_eq(write_o(v - 1, &a, 1, B + 1000 * v, v == 12 ? &noc : NULL, &res_w, &err),
                     TL_OK, "%s", err.msg); /* checkpoint 10, none at 12 */
        cr_assert_eq(res_w.version, v);
    }
    drop_commits(11, 11);
    cr_assert_eq(cleanup_io(NULL, B + 10 * H, H, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.checkpoint_version, -1);
    cr_assert_eq(rep.n_commits_deleted, 0);
    cr_assert_eq(rep.n_checkpoints_deleted, 0);
    cr_assert_eq(rep.oldest_reachable, -1);
    cr_assert(exists(logp(cname(8))));
    cr_assert(exists(logp(ckname(8))));
    cr_assert(exists(logp(ckname(10))));
}

/* ---- a root handle without a display path ---------------------------------------- */

Test(log_edge, a_root_handle_without_a_path_is_named_table)
{
    create(100, 0);
    appends(2);
    tl_io_file r = bare_root();
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts at = {.at = TL_LOG_AT_VERSION, .version = 9};
    cr_assert_eq(tl_log_snapshot_load(&r, &at, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "table: version 9 does not exist: the latest version is 2");
    tl_log_snap_opts ts = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = B - 1};
    cr_assert_eq(tl_log_snapshot_load(&r, &ts, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "table: no version as of timestamp");
    tl_log_action a[2];
    meta(a, 100, 0);
    tl_log_write_result res;
    cr_assert_eq(tl_log_write(&r, -1, a, 2, NULL, &res, &err), TL_ECONFLICT);
    msg_has(&err, "table: the table already exists");
    drop_commits(0, 0);
    tl_log_snap_opts one = {.at = TL_LOG_AT_VERSION, .version = 1};
    cr_assert_eq(tl_log_snapshot_load(&r, &one, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "not a table: ");
    msg_has(&err, "version 0 (00000000000000000000.json) is missing but version 1 exists");
    tl_io_close(&r, NULL);

    /* no _delta_log/ at all: the same code with and without an error struct */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/_delta_log'", root);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(load_rc(NULL, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "not a table (no _delta_log/)");
    tl_io_file r2;
    open_root_io(NULL, &r2);
    cr_assert_eq(tl_log_snapshot_load(&r2, NULL, &s, NULL), TL_ENOTFOUND);
    int64_t o, l;
    cr_assert_eq(tl_log_version_range(&r2, NULL, &o, &l, NULL), TL_ENOTFOUND);
    cr_assert_eq(tl_log_version_range(&r2, NULL, &o, &l, &err), TL_ENOTFOUND);
    msg_has(&err, "not a table (no _delta_log/)");
    tl_io_close(&r2, NULL);
}

/* ---- the Delta dialect's load path (LOG.md section 10) --------------------------- */

#define D_SCHEMA                                                                            \
    "{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":"     \
    "\\\"long\\\",\\\"nullable\\\":false,\\\"metadata\\\":{}}]}"
#define D_V0_BODY                                                                           \
    "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"                       \
    "{\"metaData\":{\"id\":\"1c3a8b9e-2f4d-4a5b-9c6d-7e8f9a0b1c2d\",\"format\":{\"provider\":" \
    "\"parquet\",\"options\":{}},\"schemaString\":\"" D_SCHEMA "\",\"partitionColumns\":[],"  \
    "\"configuration\":{},\"createdTime\":1000}}\n"
#define D_CI(ts) "{\"commitInfo\":{\"timestamp\":" #ts ",\"operation\":\"WRITE\"}}\n"
#define D_ADD(p)                                                                            \
    "{\"add\":{\"path\":\"" p "\",\"partitionValues\":{},\"size\":10,"                       \
    "\"modificationTime\":5,\"dataChange\":true}}\n"

static int dload(const tl_io *io, const tl_log_snap_opts *o, tl_log_snapshot *s, tl_error *err)
{
    tl_log_snap_opts oo = o ? *o : (tl_log_snap_opts){0};
    oo.delta = 1;
    return load_io(io, &oo, s, err);
}

/* A Delta log of versions 0 .. 2 (timestamps 1000, 2000, 3000). */
static void delta_log(void)
{
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    mkdir(p, 0755);
    put_text(logp(cname(0)), D_CI(1000) D_V0_BODY D_ADD("a.parquet"));
    put_text(logp(cname(1)), D_CI(2000) D_ADD("b.parquet"));
    put_text(logp(cname(2)), D_CI(3000) D_ADD("c.parquet"));
}

Test(log_edge, delta_logs_missing_versions_and_checkpoints)
{
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "not a table (no _delta_log/)");
    cr_assert_eq(dload(NULL, NULL, &s, NULL), TL_ENOTFOUND);
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "holds no version 0 (00000000000000000000.json)");

    put_text(logp(cname(1)), D_CI(2000) D_ADD("b.parquet"));
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "holds no version 0");
    put_text(logp("00000000000000000010.checkpoint.parquet"), "PAR1");
    put_text(logp("00000000000000000012.checkpoint.parquet"), "PAR1");
    put_text(logp("notes.txt"), "x");
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_EUNSUPPORTED);
    msg_has(&err, "version 0 (00000000000000000000.json) has no JSON commit");
    msg_has(&err, "00000000000000000010.checkpoint.parquet");
    cr_assert_eq(unlink(logp("00000000000000000010.checkpoint.parquet")), 0);
    cr_assert_eq(unlink(logp("00000000000000000012.checkpoint.parquet")), 0);

    put_text(logp(cname(0)), D_CI(1000) D_V0_BODY D_ADD("a.parquet"));
    put_text(logp(cname(3)), D_CI(4000));
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_ECORRUPT);
    msg_has(&err, "version 2 (00000000000000000002.json) is missing but version 3 exists");
    cr_assert_eq(unlink(logp(cname(3))), 0);
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 1);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 2);
    tl_log_snapshot_free(&s);
}

Test(log_edge, delta_time_travel_limits_and_unreadable_commits)
{
    delta_log();
    tl_log_snapshot s;
    tl_error err;
    tl_log_snap_opts o = {.at = TL_LOG_AT_VERSION, .version = -1};
    cr_assert_eq(dload(NULL, &o, &s, &err), TL_EINVAL);
    msg_has(&err, "version -1 does not exist");
    o.version = 3;
    cr_assert_eq(dload(NULL, &o, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "the latest version is 2");
    o = (tl_log_snap_opts){.at = TL_LOG_AT_TIMESTAMP, .ts_ms = 999};
    cr_assert_eq(dload(NULL, &o, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "version 0, the oldest, has timestamp 1000 ms");
    o.ts_ms = INT64_MAX; /* after every version: the latest */
    cr_assert_eq(dload(NULL, &o, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 2);
    cr_assert_eq(s.history[2].ict_ms, 3000);
    tl_log_snapshot_free(&s);

    /* a root handle without a path names "table"; a Delta log read as a
     * ticklake one is refused (LOG-D1) */
    tl_io_file r = bare_root();
    tl_log_snap_opts bad = {.at = TL_LOG_AT_VERSION, .version = 7, .delta = 1};
    cr_assert_eq(tl_log_snapshot_load(&r, &bad, &s, &err), TL_ENOTFOUND);
    msg_has(&err, "table: version 7 does not exist");
    cr_assert_eq(tl_log_snapshot_load(&r, NULL, &s, &err), TL_EUNSUPPORTED);
    msg_has(&err, "the table is a Delta Lake table (read-only in ticklake)");
    tl_io_close(&r, NULL);

    /* a commit that vanishes after the listing */
    tl_io_fault *fi = injector();
    rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, ENOENT, cname(1));
    cr_assert_eq(dload(tl_io_fault_io(fi), NULL, &s, &err), TL_ECORRUPT);
    msg_has(&err, "_delta_log/00000000000000000001.json: listed a moment ago, now gone");
    tl_io_fault_close(fi);

    /* a commit above the reader's size limit (sparse), by version and by
     * timestamp */
    cr_assert_eq(truncate(logp(cname(1)), (off_t)TL_LOG_MAX_FILE_BYTES + 1), 0);
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_EUNSUPPORTED);
    msg_has(&err, "00000000000000000001.json: above this reader's limit");
    msg_has(&err, "LOG-D3");
    o.ts_ms = 2500;
    cr_assert_eq(dload(NULL, &o, &s, &err), TL_EUNSUPPORTED);
    msg_has(&err, "00000000000000000001.json: above this reader's limit");
    o = (tl_log_snap_opts){.at = TL_LOG_AT_VERSION, .version = 0};
    cr_assert_eq(dload(NULL, &o, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.version, 0);
    tl_log_snapshot_free(&s);
}

/* LOG-D8: a commit without a timestamp takes its file's modification time,
 * never below 0; a failed stat of it is TL_EIO. */
Test(log_edge, delta_timestamps_from_file_times)
{
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    put_text(logp(cname(0)), D_V0_BODY D_ADD("a.parquet"));
    struct timeval tv[2] = {{-5, 0}, {-5, 0}}; /* before the epoch */
    cr_assert_eq(utimes(logp(cname(0)), tv), 0);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(dload(NULL, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.history[0].ict_ms, 0);
    tl_log_snapshot_free(&s);
    tl_io_fault *fi = injector();
    rule(fi, TL_IO_OP_STAT, 1, TL_IO_FAULT_FAIL_FROM, EIO, cname(0));
    cr_assert_eq(dload(tl_io_fault_io(fi), NULL, &s, &err), TL_EIO);
    msg_has(&err, "00000000000000000000.json");
    tl_io_fault_close(fi);
}

/* ---- out of memory ------------------------------------------------------------------ */

/* Fail allocation k (once) of op for k = 1, 2, ... until op no longer
 * reaches k: every outcome is success or TL_ENOMEM saying so (in the
 * engine's words or, from the I/O layer, strerror(ENOMEM)'s). */
#define OOM_SWEEP(op_rc, on_ok)                                                             \
    do {                                                                                    \
        uint64_t ok = 0, nomem_ = 0;                                                        \
        for (uint64_t k = 1;; k++) {                                                        \
            tl_error err_ = {0};                                                            \
            tl_error *errp = &err_;                                                         \
            tl_oom_fail_at(k, 0);                                                           \
            int rc_ = (op_rc);                                                              \
            uint64_t failed_ = tl_oom_failures();                                           \
            tl_oom_off();                                                                   \
            if (rc_ == TL_OK) {                                                             \
                ok++;                                                                       \
                on_ok;                                                                      \
            } else {                                                                        \
                nomem_++;                                                                   \
                cr_assert_eq(rc_, TL_ENOMEM, "k=%" PRIu64 ": %s", k, err_.msg);             \
                cr_assert(strstr(err_.msg, "out of memory") ||                              \
                              strstr(err_.msg, "Cannot allocate memory"),                   \
                          "k=%" PRIu64 ": %s", k, err_.msg);                                \
            }                                                                               \
            (void)errp;                                                                     \
            if (!failed_)                                                                   \
                break;                                                                      \
        }                                                                                   \
        cr_assert_gt(nomem_, 10);                                                           \
        cr_assert_gt(ok, 0);                                                                \
    } while (0)

Test(log_edge, out_of_memory_loading_from_a_checkpoint_with_a_racing_listing)
{
    txn_table();
    const tl_io *io = dropping(1, 10);
    tl_log_snapshot s;
    hold_root(1);
    OOM_SWEEP(load_io(io, NULL, &s, errp), {
        check_txn_table(&s);
        tl_log_snapshot_free(&s);
    });
    tl_log_snap_opts nock = {.no_checkpoint = 1}; /* replay: nine txns applied */
    OOM_SWEEP(load_io(io, &nock, &s, errp), {
        check_txn_table(&s);
        tl_log_snapshot_free(&s);
    });
    hold_root(0);
}

Test(log_edge, out_of_memory_loading_a_delta_log)
{
    delta_log();
    tl_log_snapshot s;
    tl_log_snap_opts o = {.at = TL_LOG_AT_TIMESTAMP, .ts_ms = 2500};
    hold_root(1);
    OOM_SWEEP(dload(NULL, &o, &s, errp), {
        cr_assert_eq(s.version, 1);
        cr_assert_eq(tl_log_snapshot_n_live(&s), 2);
        tl_log_snapshot_free(&s);
    });
    hold_root(0);
}

Test(log_edge, out_of_memory_reading_the_history)
{
    create(2, 0);
    appends(5);
    drop_commits(0, 1);
    static const tl_log_kv params[2] = {{"mode", "overwrite"}, {"rows", "12"}};
    tl_log_action a;
    add_action(&a, "p6");
    tl_log_write_opts po = {.operation = "MERGE", .op_params = {params, 2}};
    tl_log_write_result res;
    tl_error e;
    cr_assert_eq(write_o(5, &a, 1, B + 6000, &po, &res, &e), TL_OK, "%s", e.msg);
    tl_log_hist h;
    hold_root(1);
    OOM_SWEEP(history(NULL, &h, errp), {
        cr_assert_eq(h.oldest, 2);
        cr_assert_eq(h.n, 5);
        cr_assert_str_eq(h.entries[3].operation, "APPEND");
        cr_assert_str_eq(h.entries[4].operation, "MERGE");
        cr_assert_eq(h.entries[4].op_params.n, 2);
        cr_assert_str_eq(h.entries[4].op_params.kv[1].val, "12");
        tl_log_hist_free(&h);
    });
    hold_root(0);
}

/* The automatic checkpoint built from the writer's snapshot plus the
 * commits after it (snap_extend): a failed allocation either fails the
 * commit with nothing published, or leaves the commit standing with the
 * checkpoint's failure reported (LOG-R70). */
Test(log_edge, out_of_memory_in_a_commit_and_its_automatic_checkpoint)
{
    txn_table();
    tl_log_snapshot s;
    tl_error e;
    tl_log_snap_opts at = {.at = TL_LOG_AT_VERSION, .version = 10};
    cr_assert_eq(load_rc(&at, &s, &e), TL_OK, "%s", e.msg);
    tl_log_action a;
    add_action(&a, "g12");
    tl_log_write_opts o = {.snap = &s};
    tl_log_write_result res;
    uint64_t ckpt_failed = 0;
    hold_root(1);
    /* read version 10, version 11 is taken: the commit lands at 12, a
     * checkpoint version, built from s plus commits 11 and 12 */
    OOM_SWEEP(write_o(10, &a, 1, B + 20000, &o, &res, errp), {
        cr_assert_eq(res.version, 12);
        cr_assert(exists(logp(cname(12))));
        if (res.checkpoint_rc != TL_OK) {
            ckpt_failed++;
            cr_assert_eq(res.checkpoint_rc, TL_ENOMEM);
            cr_assert_not_null(strstr(res.checkpoint_error,
                                      "automatic checkpoint of version 12 failed (the commit "
                                      "stands)"),
                               "%s", res.checkpoint_error);
            /* it may have been published before the failure (the hint
             * after it failed): then it is a whole, valid one */
            if (exists(logp(ckname(12)))) {
                tl_log_snapshot c;
                cr_assert_eq(load_rc(NULL, &c, &e), TL_OK, "%s", e.msg);
                cr_assert_eq(c.checkpoint_version, 12);
                cr_assert_eq(tl_log_snapshot_n_live(&c), 10);
                tl_log_snapshot_free(&c);
                cr_assert_eq(unlink(logp(ckname(12))), 0);
            }
        } else {
            cr_assert(res.checkpoint_written);
            tl_log_snapshot c;
            cr_assert_eq(load_rc(NULL, &c, &e), TL_OK, "%s", e.msg);
            cr_assert_eq(c.checkpoint_version, 12);
            cr_assert_eq(tl_log_snapshot_n_live(&c), 10);
            tl_log_snapshot_free(&c);
            cr_assert_eq(unlink(logp(ckname(12))), 0);
        }
        cr_assert_eq(unlink(logp(cname(12))), 0);
    });
    hold_root(0);
    cr_assert_gt(ckpt_failed, 0);
    cr_assert_not(exists(logp(cname(12))));
    tl_log_snapshot_free(&s);
    cr_assert_eq(latest(), 11);
}

/* tl_log_commit_parse_checked with memory gone for good: TL_ENOMEM naming
 * the commit (or "commit" without a name), nothing returned. */
Test(log_edge, a_parse_without_memory_is_out_of_memory_not_corrupt)
{
    static const char text[] =
        "{\"commitInfo\":{\"inCommitTimestamp\":5,\"operation\":\"A\",\"operationParameters\":"
        "{},\"numAddedFiles\":0,\"numAddedRows\":0,\"numRemovedFiles\":0,\"numRemovedRows\":0,"
        "\"engineInfo\":\"x\"}}\n";
    tl_log_commit c;
    tl_error err;
    cr_assert_eq(tl_log_commit_parse_checked(text, strlen(text), NULL, &c, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(c.n_actions, 1);
    tl_log_commit_free(&c);
    tl_oom_fail_at(1, 1);
    int rc = tl_log_commit_parse_checked(text, strlen(text), NULL, &c, &err);
    tl_oom_off();
    cr_assert_eq(rc, TL_ENOMEM);
    cr_assert_str_eq(err.msg, "commit: out of memory");
    cr_assert_eq(c.n_actions, 0);
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.name = "00000000000000000042.json";
    tl_oom_fail_at(1, 1);
    rc = tl_log_commit_parse_checked(text, strlen(text), &po, &c, &err);
    tl_oom_off();
    cr_assert_eq(rc, TL_ENOMEM);
    cr_assert_str_eq(err.msg, "00000000000000000042.json: out of memory");

    /* a commit larger than jansson's emergency pool (64 KiB) */
    enum { NA = 800 };
    tl_log_action *acts = calloc(NA + 1, sizeof *acts);
    char(*paths)[32] = calloc(NA, sizeof *paths);
    cr_assert(acts && paths);
    acts[0].kind = TL_LOG_COMMIT_INFO;
    acts[0].u.ci = (tl_log_commit_info){.ict_ms = 5, .operation = "A", .engine_info = "x",
                                        .n_added_files = NA, .n_added_rows = NA};
    for (int i = 0; i < NA; i++) {
        snprintf(paths[i], sizeof paths[i], "part-%05d-a-long-file-name", i);
        add_action(&acts[i + 1], paths[i]);
    }
    char *big = NULL;
    size_t cap = 0, len = 0;
    cr_assert_eq(tl_log_commit_serialize(acts, NA + 1, -1, &big, &cap, &len, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_gt(len, (size_t)64 << 10);
    tl_oom_fail_at(1, 1);
    rc = tl_log_commit_parse_checked(big, len, &po, &c, &err);
    tl_oom_off();
    cr_assert_eq(rc, TL_ENOMEM);
    cr_assert_str_eq(err.msg, "00000000000000000042.json: out of memory");
    cr_assert_eq(tl_log_commit_parse_checked(big, len, &po, &c, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(c.n_actions, NA + 1);
    tl_log_commit_free(&c);
    free(big);
    free(paths);
    free(acts);
}
