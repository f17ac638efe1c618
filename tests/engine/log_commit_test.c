/*
 * log_commit_test.c - the commit protocol of log.c (spec/LOG.md 9.1, 9.3,
 * 9.4, 9.6): creating a table (LOG-R27, R43-R45), put-if-absent publication
 * under races of threads and of processes with a negative control that uses
 * plain rename (LOG-R44, LOG-C4), in-commit timestamps with a clock that
 * steps back (LOG-R55), fsync/rename failures (LOG-R46, R47), power loss at
 * every I/O call of a commit (LOG-C1, C3), the conflict table (LOG-R50-R52)
 * and idempotent txns (LOG-R60, R61). Each test gets a fresh temp directory
 * holding the table root "t".
 */
#include <criterion/criterion.h>

#include "io_int.h"
#include "log_int.h"
#include "log_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void setup(void)
{
    testlib_setup("tl_logc");
}

static void teardown(void)
{
    testlib_teardown();
}

static void reset_root(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s'", root, root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(log_commit, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------------- */


static int create_table(const tl_io *io, tl_error *err)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_action a[2];
    meta_actions(a, "ticks");
    tl_log_write_result res;
    int rc = tl_log_write(&r, -1, a, 2, &(tl_log_write_opts){.io = io}, &res, err);
    tl_io_close(&r, NULL);
    return rc;
}

static void add_action(tl_log_action *a, const char *path, int64_t rows)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_ADD;
    a->u.add = (tl_log_add){.path = path, .size_bytes = 100, .n_rows = rows, .mtime_ms = 1,
                            .data_change = 1};
}

static void txn_action(tl_log_action *a, const char *app, int64_t version)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_TXN;
    a->u.txn = (tl_log_txn){app, version, 0, 0};
}

static void remove_action(tl_log_action *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_REMOVE;
    a->u.rm = (tl_log_remove){.path = path, .data_change = 1, .has_size = 1, .size_bytes = 100,
                              .has_n_rows = 1, .n_rows = 1};
}

/* Commit one add at read version rv; returns the code. */
static int append_one(const tl_io *io, int64_t rv, const char *path, const tl_log_write_opts *o,
                      tl_log_write_result *res, tl_error *err)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_action a;
    add_action(&a, path, 1);
    tl_log_write_opts opts = o ? *o : (tl_log_write_opts){0};
    opts.io = io;
    int rc = tl_log_write(&r, rv, &a, 1, &opts, res, err);
    tl_io_close(&r, NULL);
    return rc;
}

static void load(tl_log_snapshot *s, const tl_log_snap_opts *o)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_error err;
    cr_assert_eq(tl_log_snapshot_load(&r, o, s, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
}

static int64_t latest_version(void)
{
    tl_log_snapshot s;
    load(&s, NULL);
    int64_t v = s.version;
    tl_log_snapshot_free(&s);
    return v;
}

/* Names in _delta_log that are neither commit files nor the checkpoints a
 * writer adds by itself every checkpointInterval commits (LOG-R70, R73). */
static size_t stray_files(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    tl_io_names n;
    tl_error err;
    cr_assert_eq(tl_io_list(NULL, NULL, p, &n, &err), TL_OK, "%s", err.msg);
    size_t k = 0;
    for (size_t i = 0; i < n.n; i++) {
        int64_t v;
        const char *nm = n.names[i];
        size_t len = strlen(nm);
        int checkpoint = strcmp(nm, "_last_checkpoint") == 0 ||
                         (len == 20 + strlen(".checkpoint.tlc") &&
                          strspn(nm, "0123456789") == 20 &&
                          strcmp(nm + 20, ".checkpoint.tlc") == 0);
        k += !checkpoint && tl_log_commit_version(nm, &v) != TL_OK;
    }
    tl_io_names_free(&n);
    return k;
}

/* ---- creating a table --------------------------------------------------------- */

/* LOG-R27, R43-R45: version 0 holds protocol + metaData, no tmp file is left,
 * a second create finds the table. */
Test(log_commit, create_writes_version_0_once)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(s.version, 0);
    cr_assert_str_eq(s.meta->name, "ticks");
    cr_assert_eq(s.protocol->min_reader_version, 1);
    cr_assert_eq(s.history[0].has_read_version, 0);
    cr_assert_str_eq(s.history[0].operation, "CREATE TABLE");
    cr_assert_not_null(s.history[0].txn_id);
    tl_log_snapshot_free(&s);
    cr_assert_eq(stray_files(), 0);
    cr_assert_eq(create_table(NULL, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
    cr_assert_eq(stray_files(), 0, "the loser's tmp file is removed");
}

Test(log_commit, create_needs_protocol_and_metadata)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_action a[2];
    meta_actions(a, "x");
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(tl_log_write(&r, -1, a + 1, 1, NULL, &res, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "LOG-R27"), "%s", err.msg);
    tl_log_action ci = {.kind = TL_LOG_COMMIT_INFO};
    cr_assert_eq(tl_log_write(&r, 0, &ci, 1, NULL, &res, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "commitInfo"), "%s", err.msg);
    tl_io_close(&r, NULL);
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    struct stat st;
    cr_assert_neq(stat(p, &st), 0, "nothing written");
}

/* LOG-R42: readVersion, counts and txnId in the commitInfo; the caller's
 * unsafe path is refused (LOG-R11) with nothing written. */
Test(log_commit, commit_info_is_filled_in)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_write_result res;
    cr_assert_eq(append_one(NULL, 0, "d/a.tls", NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 1);
    cr_assert_eq(res.attempts, 1);
    cr_assert_eq(res.noop, 0);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(s.version, 1);
    cr_assert_str_eq(s.history[1].operation, "APPEND");
    cr_assert_eq(s.history[1].read_version, 0);
    cr_assert_eq(s.history[1].n_added_files, 1);
    cr_assert_str_eq(s.history[1].txn_id, res.txn_id);
    cr_assert_not_null(tl_log_snapshot_live_get(&s, "d/a.tls"));
    tl_log_snapshot_free(&s);
    cr_assert_eq(append_one(NULL, 1, "../evil", NULL, &res, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "LOG-R11"), "%s", err.msg);
    cr_assert_eq(latest_version(), 1);
    cr_assert_eq(stray_files(), 0);
}

/* ---- in-commit timestamps (LOG-R55) ---------------------------------------- */

Test(log_commit, timestamps_increase_when_the_clock_steps_back)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    /* B is far after the wall clock that timed version 0 */
    const int64_t B = 4000000000000;
    int64_t clock[] = {B, B, B - 1000, B + 4000, 100, B + 4001};
    int64_t expect[] = {B, B + 1, B + 2, B + 4000, B + 4001, B + 4002};
    char path[64];
    for (int i = 0; i < 6; i++) {
        tl_log_write_opts o = {.now_ms = fixed_clock, .now_arg = &clock[i]};
        snprintf(path, sizeof path, "d/%d.tls", i);
        tl_log_write_result res;
        cr_assert_eq(append_one(NULL, i, path, &o, &res, &err), TL_OK, "%s", err.msg);
    }
    tl_log_snapshot s;
    load(&s, NULL);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(s.history[i + 1].ict_ms, expect[i], "version %d: %lld", i + 1,
                     (long long)s.history[i + 1].ict_ms);
    tl_log_snapshot_free(&s);
}

/* ---- races (LOG-R44, LOG-C4) ------------------------------------------------ */

typedef struct racer {
    const tl_io *io; /* NULL: the real system calls */
    int id, m, plain;
    int ok;        /* commits acknowledged */
    char msg[512]; /* first error */
} racer;

static void race_loop(racer *r)
{
    char path[64];
    for (int j = 0; j < r->m; j++) {
        tl_io_file root_f;
        open_root_io(NULL, &root_f);
        tl_log_snapshot s;
        tl_error err;
        tl_log_snap_opts so = {.io = r->io};
        int rc = tl_log_snapshot_load(&root_f, &so, &s, &err);
        if (rc == TL_OK) {
            snprintf(path, sizeof path, "w%d/%d.tls", r->id, j);
            tl_log_action a;
            add_action(&a, path, 1);
            tl_log_write_opts o = {.io = r->io, .max_attempts = 100000, .snap = &s,
                                   .unsafe_plain_rename = r->plain};
            tl_log_write_result res;
            rc = tl_log_write(&root_f, s.version, &a, 1, &o, &res, &err);
            tl_log_snapshot_free(&s);
        }
        tl_io_close(&root_f, NULL);
        if (rc != TL_OK) {
            if (!r->msg[0])
                snprintf(r->msg, sizeof r->msg, "%s", err.msg);
            continue;
        }
        r->ok++;
    }
}

static void *race_thread(void *arg)
{
    race_loop(arg);
    return NULL;
}

/* Checks the table after p writers x m commits; returns the number of adds
 * missing (lost commits). Versions must be contiguous in every case. */
static int count_lost(int p, int m, int expect_all)
{
    tl_log_snapshot s;
    load(&s, NULL);
    int lost = 0;
    char path[64];
    for (int i = 0; i < p; i++)
        for (int j = 0; j < m; j++) {
            snprintf(path, sizeof path, "w%d/%d.tls", i, j);
            if (!tl_log_snapshot_live_get(&s, path)) {
                lost++;
                if (expect_all)
                    cr_assert_fail("%s is missing", path);
            }
        }
    if (expect_all) {
        cr_assert_eq(s.version, (int64_t)p * m, "exactly P*M new versions: %lld",
                     (long long)s.version);
        cr_assert_eq(tl_log_snapshot_n_live(&s), (size_t)p * m, "every add once");
    }
    tl_log_snapshot_free(&s);
    return lost;
}

Test(log_commit, threads_racing_get_contiguous_versions)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    enum { P = 4, M = 15 };
    racer r[P];
    pthread_t th[P];
    for (int i = 0; i < P; i++) {
        r[i] = (racer){.id = i, .m = M};
        cr_assert_eq(pthread_create(&th[i], NULL, race_thread, &r[i]), 0);
    }
    for (int i = 0; i < P; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(r[i].ok, M, "writer %d: %s", i, r[i].msg);
    }
    count_lost(P, M, 1);
    cr_assert_eq(stray_files(), 0);
}

static size_t commit_files(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log", root);
    tl_io_names n;
    tl_error err;
    cr_assert_eq(tl_io_list(NULL, NULL, p, &n, &err), TL_OK, "%s", err.msg);
    size_t k = 0;
    for (size_t i = 0; i < n.n; i++) {
        int64_t v;
        k += tl_log_commit_version(n.names[i], &v) == TL_OK;
    }
    tl_io_names_free(&n);
    return k;
}

/* P processes x M commits. Put-if-absent: every commit is acknowledged and
 * present. Plain rename: returns the number of acknowledged commits that
 * are not in the log (each child reports its acknowledged count). */
static tl_io_fault *injector(const char *r);

/* link_fallback: each writer publishes through an injector that refuses
 * RENAME_NOREPLACE, so put-if-absent is link() + unlink() (LOG-R44). */
static int process_race_io(int p, int m, int plain, int link_fallback)
{
    pid_t pid[16];
    for (int i = 0; i < p; i++) {
        pid[i] = fork();
        cr_assert_geq(pid[i], 0);
        if (pid[i] == 0) {
            racer r = {.id = i, .m = m, .plain = plain};
            tl_io_fault *fi = NULL;
            if (link_fallback) {
                fi = injector(NULL);
                tl_io_fault_set_flags(fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
                r.io = tl_io_fault_io(fi);
            }
            race_loop(&r);
            tl_io_fault_close(fi);
            if (!plain && r.ok != m)
                fprintf(stderr, "writer %d: %d of %d: %s\n", i, r.ok, m, r.msg);
            _exit(plain ? r.ok : r.ok == m ? 0 : 1);
        }
    }
    int acked = 0;
    for (int i = 0; i < p; i++) {
        int st;
        cr_assert_eq(waitpid(pid[i], &st, 0), pid[i]);
        cr_assert(WIFEXITED(st), "writer %d crashed", i);
        if (!plain)
            cr_assert_eq(WEXITSTATUS(st), 0, "writer %d failed", i);
        acked += WEXITSTATUS(st);
    }
    if (!plain)
        return count_lost(p, m, 1);
    return acked - (int)(commit_files() - 1);
}

static int process_race(int p, int m, int plain)
{
    return process_race_io(p, m, plain, 0);
}

Test(log_commit, processes_racing_get_contiguous_versions)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(process_race(4, 25, 0), 0);
    cr_assert_eq(stray_files(), 0);
}

Test(log_commit, processes_racing_with_the_link_fallback_get_contiguous_versions)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(process_race_io(3, 20, 0, 1), 0);
    cr_assert_eq(stray_files(), 0);
}

/* Negative control: the same race publishing with plain rename(2) loses
 * acknowledged commits (fewer versions than acknowledgements), so the test
 * above can catch a writer that overwrites (LOG-R44). Repeated a few rounds
 * in case one round happens not to collide. */
Test(log_commit, negative_control_plain_rename_loses_commits)
{
    int lost = 0;
    for (int round = 0; round < 10 && lost <= 0; round++) {
        reset_root();
        tl_error err;
        cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
        lost = process_race(4, 25, 1);
    }
    cr_assert_gt(lost, 0, "plain rename must lose acknowledged commits under the race");
}

/* ---- failures (LOG-R46, R47) ------------------------------------------------- */

static tl_io_fault *injector(const char *r)
{
    tl_io_fault *fi;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(r, &fi, &err), TL_OK, "%s", err.msg);
    return fi;
}

static void add_rule(tl_io_fault *fi, int op, uint64_t nth, int action, int err_no)
{
    tl_io_fault_rule r = {.op = op, .nth = nth, .action = action, .err_no = err_no};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
}

/* Fail each fsync, directory fsync, rename and link of a commit in turn:
 * the commit fails with the code, the fsync is not retried, and the table
 * opens at the previous version, except after a failed fsync of
 * _delta_log/ where the (complete) version may be visible but was not
 * acknowledged. */
Test(log_commit, each_failed_fsync_or_publish_fails_the_commit)
{
    static const struct {
        int op, flags, err_no, code, may_be_visible;
    } cases[] = {
        {TL_IO_OP_FSYNC, 0, EIO, TL_EIO, 0},
        {TL_IO_OP_FSYNC, 0, ENOSPC, TL_EIO, 0},
        {TL_IO_OP_FSYNC_DIR, 0, EIO, TL_EIO, 1},
        {TL_IO_OP_RENAME, 0, EIO, TL_EIO, 0},
        {TL_IO_OP_RENAME, TL_IO_FAULT_NO_RENAME_NOREPLACE, EIO, TL_EIO, 0},
        {TL_IO_OP_LINK, TL_IO_FAULT_NO_RENAME_NOREPLACE, EIO, TL_EIO, 0},
        {TL_IO_OP_WRITE, 0, ENOSPC, TL_EIO, 0},
        {TL_IO_OP_OPEN, 0, EACCES, TL_EIO, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        reset_root();
        tl_error err;
        cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
        tl_io_fault *fi = injector(NULL);
        tl_io_fault_set_flags(fi, (unsigned)cases[c].flags);
        add_rule(fi, cases[c].op, 1, TL_IO_FAULT_FAIL_FROM, cases[c].err_no);
        tl_log_write_result res;
        int rc = append_one(tl_io_fault_io(fi), 0, "d/a.tls", NULL, &res, &err);
        cr_assert_eq(rc, cases[c].code, "case %zu: %d %s", c, rc, err.msg);
        cr_assert(strstr(err.msg, tl_io_op_name(cases[c].op)) ||
                      strstr(err.msg, cases[c].op == TL_IO_OP_FSYNC_DIR ? "fsync" : "?") ||
                      strstr(err.msg, "open"),
                  "case %zu: %s", c, err.msg);
        if (cases[c].op == TL_IO_OP_FSYNC || cases[c].op == TL_IO_OP_FSYNC_DIR)
            cr_assert_eq(tl_io_fault_count(fi, cases[c].op), 1, "case %zu: fsync retried", c);
        if (cases[c].may_be_visible)
            cr_assert(strstr(err.msg, "not acknowledged"), "%s", err.msg);
        tl_io_fault_close(fi);
        int64_t v = latest_version();
        cr_assert(v == 0 || (cases[c].may_be_visible && v == 1), "case %zu: version %lld", c,
                  (long long)v);
        if (!cases[c].may_be_visible)
            cr_assert_eq(stray_files(), 0, "case %zu", c);
    }
}

/* LOG-R47: the rename reports an error although it happened (the callback
 * performs it, then fails the call): the writer reads the version back,
 * finds its txnId and reports success. */
/* The injector reports paths relative to the directory handle's path. */
static const char *full_path(const char *path, char *buf, size_t cap)
{
    if (path[0] == '/')
        return path;
    snprintf(buf, cap, "%s/%s", root, path);
    return buf;
}

static int rename_then_fail(void *arg, int op, const char *path)
{
    (void)op;
    (void)arg;
    char fb[700];
    path = full_path(path, fb, sizeof fb);
    char d[400];
    snprintf(d, sizeof d, "%s/_delta_log", root);
    tl_io_names n;
    tl_error err;
    if (tl_io_list(NULL, NULL, d, &n, &err) != TL_OK)
        return EIO;
    for (size_t i = 0; i < n.n; i++) {
        size_t l = strlen(n.names[i]);
        if (l > 9 && strcmp(n.names[i] + l - 9, ".json.tmp") == 0) {
            char from[700];
            snprintf(from, sizeof from, "%s/%s", d, n.names[i]);
            if (rename(from, path) != 0)
                fprintf(stderr, "rename %s %s failed\n", from, path);
            break;
        }
    }
    tl_io_names_free(&n);
    return EIO;
}

Test(log_commit, unknown_publish_outcome_is_read_back)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_io_fault *fi = injector(NULL);
    tl_io_fault_rule r = {.op = TL_IO_OP_RENAME, .nth = 1, .action = TL_IO_FAULT_CALLBACK,
                          .cb = rename_then_fail};
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK);
    tl_log_write_result res;
    cr_assert_eq(append_one(tl_io_fault_io(fi), 0, "d/a.tls", NULL, &res, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(res.version, 1);
    tl_io_fault_close(fi);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(s.version, 1);
    cr_assert_str_eq(s.history[1].txn_id, res.txn_id);
    tl_log_snapshot_free(&s);
}

/* LOG-C1, C3: power loss before every I/O call k of a commit (renameat2 and
 * the link fallback; dropping or tearing unsynced data): the table opens
 * at the old or the new version, never a torn one, and an acknowledged
 * commit survives. */
Test(log_commit, power_loss_at_every_call_leaves_old_or_new)
{
    for (int mode = 0; mode < 4; mode++) {
        int fallback = mode & 1, tear = mode >> 1;
        uint64_t total = 0;
        int seen[2] = {0, 0};
        for (uint64_t k = 1; total == 0 || k <= total + 1; k++) {
            for (uint64_t seed = 1; seed <= (tear ? 4u : 1u); seed++) {
                reset_root();
                tl_error err;
                cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
                tl_io_fault *fi = injector(root);
                if (fallback)
                    tl_io_fault_set_flags(fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
                if (total)
                    add_rule(fi, TL_IO_OP_ANY, k, TL_IO_FAULT_CUT, 0);
                tl_log_write_result res;
                int rc = append_one(tl_io_fault_io(fi), 0, "d/a.tls", NULL, &res, &err);
                if (!total) { /* the first run counts the calls */
                    cr_assert_eq(rc, TL_OK, "%s", err.msg);
                    total = tl_io_fault_count(fi, TL_IO_OP_ANY);
                    cr_assert_geq(total, 8);
                    tl_io_fault_close(fi);
                    k = 0;
                    break;
                }
                /* a cut after the last fsync may still fail the call (close):
                 * not acknowledged, though durable */
                if (k > total)
                    cr_assert_eq(rc, TL_OK, "mode %d k %llu: %s", mode, (unsigned long long)k,
                                 err.msg);
                tl_io_crash_opts o = {.tear = tear, .seed = seed * 1000 + k};
                cr_assert_eq(tl_io_fault_crash(fi, &o, &err), TL_OK, "%s", err.msg);
                tl_io_fault_close(fi);
                tl_log_snapshot s;
                load(&s, NULL); /* never torn: a torn commit would not parse */
                cr_assert(s.version == 0 || s.version == 1, "mode %d k %llu: version %lld",
                          mode, (unsigned long long)k, (long long)s.version);
                if (rc == TL_OK)
                    cr_assert_eq(s.version, 1, "mode %d k %llu: acknowledged commit lost",
                                 mode, (unsigned long long)k);
                if (s.version == 1)
                    cr_assert_not_null(tl_log_snapshot_live_get(&s, "d/a.tls"));
                seen[s.version]++;
                tl_log_snapshot_free(&s);
            }
        }
        cr_assert(seen[0] > 0 && seen[1] > 0, "mode %d: both outcomes occur (%d old, %d new)",
                  mode, seen[0], seen[1]);
    }
}

/* LOG-C1, C3 for creating a table (LOG-R27): power loss at every call
 * leaves no table or a complete version 0. */
Test(log_commit, power_loss_while_creating_leaves_no_table_or_version_0)
{
    uint64_t total = 0;
    int seen[2] = {0, 0}; /* no table, version 0 */
    for (uint64_t k = 0; k <= total + 1; k++) {
        reset_root();
        tl_io_fault *fi = injector(root);
        if (k)
            add_rule(fi, TL_IO_OP_ANY, k, TL_IO_FAULT_CUT, 0);
        tl_error err;
        int rc = create_table(tl_io_fault_io(fi), &err);
        if (!k) {
            cr_assert_eq(rc, TL_OK, "%s", err.msg);
            total = tl_io_fault_count(fi, TL_IO_OP_ANY);
            tl_io_fault_close(fi);
            continue;
        }
        cr_assert_eq(tl_io_fault_crash(fi, NULL, &err), TL_OK, "%s", err.msg);
        tl_io_fault_close(fi);
        tl_io_file r;
        open_root_io(NULL, &r);
        tl_log_snapshot s;
        int lrc = tl_log_snapshot_load(&r, NULL, &s, &err);
        tl_io_close(&r, NULL);
        if (rc == TL_OK || k > total)
            cr_assert_eq(lrc, TL_OK, "k %llu: acknowledged create lost: %s",
                         (unsigned long long)k, err.msg);
        cr_assert(lrc == TL_OK || lrc == TL_ENOTFOUND, "k %llu: %s", (unsigned long long)k,
                  err.msg);
        seen[lrc == TL_OK]++;
        if (lrc == TL_OK) {
            cr_assert_eq(s.version, 0);
            cr_assert_str_eq(s.meta->name, "ticks");
            tl_log_snapshot_free(&s);
        }
    }
    cr_assert(seen[0] > 0 && seen[1] > 0, "both outcomes occur (%d, %d)", seen[0], seen[1]);
}

/* ---- conflicts (LOG-R50 .. R52) ---------------------------------------------- */

/* A blind append that read version 0 while version 1 (another append) was
 * committed retries at version 2 with readVersion 0 (LOG-R51). */
Test(log_commit, appends_never_conflict_with_appends)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_write_result res;
    cr_assert_eq(append_one(NULL, 0, "d/a.tls", NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(append_one(NULL, 0, "d/b.tls", NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 2);
    cr_assert_eq(res.attempts, 2);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(s.history[2].read_version, 0);
    cr_assert_gt(s.history[2].ict_ms, s.history[1].ict_ms);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 2);
    tl_log_snapshot_free(&s);
}

static int write_meta_change(int64_t rv, tl_log_write_result *res, tl_error *err)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_action a[2];
    meta_actions(a, "renamed");
    int rc = tl_log_write(&r, rv, a + 1, 1, NULL, res, err);
    tl_io_close(&r, NULL);
    return rc;
}

Test(log_commit, metadata_change_conflicts_both_ways)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_write_result res;
    /* winner: metaData; loser: a blind append */
    cr_assert_eq(write_meta_change(0, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(res.txn_id, res.txn_id);
    cr_assert_eq(append_one(NULL, 0, "d/a.tls", NULL, &res, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "version 1") && strstr(err.msg, "metaData") &&
                  strstr(err.msg, "LOG-R50"),
              "%s", err.msg);
    /* winner: an append; loser: a metaData change */
    cr_assert_eq(append_one(NULL, 1, "d/b.tls", NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(write_meta_change(1, &res, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "version 2") && strstr(err.msg, "LOG-R50"), "%s", err.msg);
    cr_assert_eq(latest_version(), 2);
    cr_assert_eq(stray_files(), 0);
}

Test(log_commit, removing_the_same_file_conflicts)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_write_result res;
    cr_assert_eq(append_one(NULL, 0, "d/a.tls", NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(append_one(NULL, 1, "d/b.tls", NULL, &res, &err), TL_OK, "%s", err.msg);
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_action a;
    remove_action(&a, "d/a.tls");
    cr_assert_eq(tl_log_write(&r, 2, &a, 1, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 3);
    /* a second writer that also read version 2 removes a.tls too */
    cr_assert_eq(tl_log_write(&r, 2, &a, 1, NULL, &res, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "version 3 removed \"d/a.tls\"") && strstr(err.msg, "LOG-R50"),
              "%s", err.msg);
    /* removing another file does not conflict */
    remove_action(&a, "d/b.tls");
    cr_assert_eq(tl_log_write(&r, 2, &a, 1, NULL, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 4);
    tl_io_close(&r, NULL);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 0);
    cr_assert_eq(tl_log_snapshot_n_tombstones(&s), 2);
    cr_assert_eq(tl_log_snapshot_tombstone_get(&s, "d/a.tls")->deletion_ms, s.history[3].ict_ms);
    tl_log_snapshot_free(&s);
}

/* A rename callback that first publishes a competing commit under the
 * target's name, so every attempt loses (LOG-R52). */
static int steal_version(void *arg, int op, const char *path)
{
    (void)op;
    int *n = arg;
    char fb[700];
    path = full_path(path, fb, sizeof fb);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int64_t v;
    if (tl_log_commit_version(base, &v) != TL_OK)
        return 0;
    char p[64];
    snprintf(p, sizeof p, "x/steal%d.tls", (*n)++);
    tl_log_action a[2];
    memset(a, 0, sizeof a);
    a[0].kind = TL_LOG_COMMIT_INFO;
    a[0].u.ci = (tl_log_commit_info){.ict_ms = 4000000000000 + v, .operation = "APPEND",
                                     .has_read_version = 1, .read_version = v - 1,
                                     .engine_info = "other/1", .n_added_files = 1,
                                     .n_added_rows = 1};
    add_action(&a[1], p, 1);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    tl_error err;
    if (tl_log_commit_serialize(a, 2, v, &buf, &cap, &len, &err) != TL_OK)
        return EIO;
    FILE *fp = fopen(path, "wbx");
    if (fp) {
        fwrite(buf, 1, len, fp);
        fclose(fp);
    }
    free(buf);
    return 0;
}

Test(log_commit, gives_up_with_ebusy_after_max_attempts)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_io_fault *fi = injector(NULL);
    int stolen = 0;
    for (int i = 0; i < TL_IO_FAULT_MAX_RULES; i++) {
        tl_io_fault_rule r = {.op = TL_IO_OP_RENAME, .nth = (uint64_t)i + 1,
                              .action = TL_IO_FAULT_CALLBACK, .cb = steal_version,
                              .cb_arg = &stolen};
        cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK);
    }
    tl_log_write_opts o = {.max_attempts = 5};
    tl_log_write_result res;
    cr_assert_eq(append_one(tl_io_fault_io(fi), 0, "d/a.tls", &o, &res, &err), TL_EBUSY);
    cr_assert(strstr(err.msg, "gave up after 5 attempts") && strstr(err.msg, "versions 1 .. 5") &&
                  strstr(err.msg, "LOG-R52"),
              "%s", err.msg);
    cr_assert_eq(res.attempts, 5);
    tl_io_fault_close(fi);
    cr_assert_eq(latest_version(), 5);
    cr_assert_eq(stray_files(), 0);
}

/* ---- idempotent txn (LOG-R60, R61) ---------------------------------------------- */

static int append_txn(int64_t rv, const char *path, const char *app, int64_t av,
                      tl_log_write_result *res, tl_error *err)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_action a[2];
    txn_action(&a[0], app, av);
    add_action(&a[1], path, 7);
    int rc = tl_log_write(&r, rv, a, 2, NULL, res, err);
    tl_io_close(&r, NULL);
    return rc;
}

Test(log_commit, idempotent_txn_is_a_noop_when_already_applied)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_write_result res;
    cr_assert_eq(append_txn(0, "d/a.tls", "nse", 5, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.noop, 0);
    cr_assert_eq(res.version, 1);
    /* the same batch again, and an older one: no-ops naming version 1 */
    for (int64_t av = 5; av >= 4; av--) {
        cr_assert_eq(append_txn(1, "d/b.tls", "nse", av, &res, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(res.noop, 1);
        cr_assert_eq(res.version, 1);
        cr_assert(strstr(err.msg, "already applied") && strstr(err.msg, "table version 1") &&
                      strstr(err.msg, "LOG-R60"),
                  "%s", err.msg);
    }
    /* another appId and a newer batch commit */
    cr_assert_eq(append_txn(1, "d/c.tls", "other", 5, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.noop, 0);
    cr_assert_eq(append_txn(2, "d/d.tls", "nse", 6, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 3);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(s.version, 3);
    cr_assert_null(tl_log_snapshot_live_get(&s, "d/b.tls"));
    const tl_log_txn_entry *e = tl_log_snapshot_txn(&s, "nse");
    cr_assert_not_null(e);
    cr_assert_eq(e->txn->version, 6);
    cr_assert_eq(e->table_version, 3);
    cr_assert_eq(e->txn->last_updated_ms, s.history[3].ict_ms);
    cr_assert_eq(tl_log_snapshot_txn(&s, "other")->txn->version, 5);
    tl_log_snapshot_free(&s);
}

/* LOG-R61: the loser of a race over the same appId re-checks the winner's
 * txn: no-op if it is >= its own, else a retry. */
Test(log_commit, txn_conflict_rechecks_idempotency)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_write_result res;
    cr_assert_eq(append_txn(0, "d/a.tls", "nse", 5, &res, &err), TL_OK, "%s", err.msg);
    /* read version 0 (before the winner): same batch -> no-op */
    cr_assert_eq(append_txn(0, "d/b.tls", "nse", 5, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.noop, 1);
    cr_assert_eq(res.version, 1);
    cr_assert(strstr(err.msg, "LOG-R61"), "%s", err.msg);
    /* a newer batch retries and commits */
    cr_assert_eq(append_txn(0, "d/c.tls", "nse", 6, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.noop, 0);
    cr_assert_eq(res.version, 2);
    tl_log_snapshot s;
    load(&s, NULL);
    cr_assert_eq(tl_log_snapshot_n_live(&s), 2);
    cr_assert_null(tl_log_snapshot_live_get(&s, "d/b.tls"));
    tl_log_snapshot_free(&s);
}

/* LOG-R40 / R32: a writer refuses a table whose protocol needs a newer
 * writer, before writing anything. */
Test(log_commit, refuses_a_protocol_above_its_writer_version)
{
    tl_error err;
    cr_assert_eq(create_table(NULL, &err), TL_OK, "%s", err.msg);
    tl_log_snapshot s;
    load(&s, NULL);
    tl_log_protocol p = *s.protocol;
    p.min_writer_version = TL_LOG_WRITER_VERSION + 1;
    s.protocol = &p;
    tl_log_write_opts o = {.snap = &s};
    tl_log_write_result res;
    cr_assert_eq(append_one(NULL, 0, "d/a.tls", &o, &res, &err), TL_EVERSION);
    cr_assert(strstr(err.msg, "2"), "%s", err.msg);
    tl_log_snapshot_free(&s);
    cr_assert_eq(latest_version(), 0);
    cr_assert_eq(stray_files(), 0);
}
