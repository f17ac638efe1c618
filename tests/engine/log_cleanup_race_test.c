/*
 * log_cleanup_race_test.c - log cleanup racing writers and readers
 * (spec/LOG.md LOG-R84), with deterministic interleavings: the table handle
 * under test runs on an I/O layer whose openat, the first time it opens a
 * chosen kind of file, first lets other handles commit, checkpoint and
 * clean the log up (their clock two hours ahead, so the checkpoint is old
 * enough for the one-hour minimum retention).
 *
 * - A writer that read version R, while cleanup removed R and R + 1 (the
 *   latter committed by another writer), must not publish R + 1 again:
 *   such a commit would sit below the checkpoint, acknowledged and never
 *   read. It fails with TL_ECONFLICT naming LOG-R84; nothing is left in the
 *   log below the checkpoint; a retry commits on top.
 * - A reader whose listing names commits that cleanup then removes loads
 *   again from a fresh listing: the latest snapshot opens; a version that
 *   went below the oldest reachable one is TL_ENOTFOUND naming it, never
 *   corruption.
 * - Cleanup never uses less than the one-hour minimum, whatever the
 *   configured logRetentionHours (here 0).
 */
#include "io_int.h"
#include "log_int.h"
#include "table_int.h"
#include "ticklake.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOUR_MS 3600000LL

static char g_dir[64];
static char g_table[96];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tl_lcr_XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_table, sizeof g_table, "%s/t", g_dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(log_cleanup_race, .init = setup, .fini = teardown);

static int64_t wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ahead_2h(void *arg)
{
    (void)arg;
    return wall() + 2 * HOUR_MS;
}

static int64_t ahead_59m(void *arg)
{
    (void)arg;
    return wall() + 59 * 60000LL;
}

static const tl_field FIELDS[] = {{"ts", TL_TIMESTAMP, 0}, {"v", TL_INT64, 0}};
static const tl_coldef DEFS[] = {{"ts", TL_TIMESTAMP}, {"v", TL_INT64}};

static void create(int64_t log_retention_hours)
{
    static const char *const sort[] = {"ts"};
    tl_table_spec spec = {.fields = FIELDS, .n_fields = 2, .sort_key = sort, .n_sort_key = 1,
                          .log_retention_hours = log_retention_hours};
    tl_error err = {0};
    cr_assert_eq(tl_table_create(g_table, &spec, &err), TL_OK, "%s", err.msg);
}

/* Append rows v = base .. base + n - 1 as one commit; returns the rc. */
static int append_rows(tl_table *t, int64_t base, uint32_t n, tl_append_result *res,
                       tl_error *err)
{
    int64_t ts[16], v[16];
    cr_assert_leq(n, 16);
    for (uint32_t i = 0; i < n; i++) {
        ts[i] = 1763337600000000000LL + (base + (int64_t)i) * 1000;
        v[i] = base + (int64_t)i;
    }
    tl_colvec cols[2] = {{ts, NULL, NULL, NULL}, {v, NULL, NULL, NULL}};
    tl_batch b = {n, 2, DEFS, cols};
    tl_append_opts o = {.threads = 1};
    tl_append *a;
    int rc = tl_append_begin(t, &o, &a, err);
    if (rc)
        return rc;
    if ((rc = tl_append_batch(a, &b, err)) != TL_OK) {
        tl_append_abort(a);
        return rc;
    }
    return tl_append_commit(a, res, err);
}

static void append_ok(tl_table *t, int64_t base, uint32_t n, int64_t want_version)
{
    tl_error err = {0};
    tl_append_result res;
    cr_assert_eq(append_rows(t, base, n, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, want_version);
}

/* The sum of column v over the latest snapshot of a fresh handle, and its
 * version. */
static int64_t sum_latest(int64_t *version)
{
    tl_error err = {0};
    tl_table *t;
    cr_assert_eq(tl_table_open(g_table, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    *version = info.version;
    static const char *const cols[] = {"v"};
    tl_reader *r;
    cr_assert_eq(tl_reader_open(s, NULL, cols, 1, &r, &err), TL_OK, "%s", err.msg);
    int64_t sum = 0;
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        const int64_t *v = b.cols[0].values;
        for (uint32_t i = 0; i < b.n_rows; i++)
            sum += v[i];
    }
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
    return sum;
}

static int count_commits_below(int64_t c)
{
    char p[160];
    snprintf(p, sizeof p, "%s/_delta_log", g_table);
    DIR *d = opendir(p);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strlen(e->d_name) == TL_LOG_NAME_LEN && strcmp(e->d_name + 20, ".json") == 0 &&
            strtoll(e->d_name, NULL, 10) < c)
            n++;
    closedir(d);
    return n;
}

static int commit_exists(int64_t v)
{
    char p[200];
    snprintf(p, sizeof p, "%s/_delta_log/%020lld.json", g_table, (long long)v);
    return access(p, F_OK) == 0;
}

/* ---- the interfering I/O layer ------------------------------------------------ */

typedef enum { HOOK_OFF, HOOK_COMMIT_TMP, HOOK_COMMIT_READ } hook_kind;

static hook_kind g_hook;
static int64_t g_hook_version; /* HOOK_COMMIT_READ: the commit whose open triggers */
static void (*g_interfere)(void);
static tl_io_ops g_ops;
static tl_io g_io;

static int hook_openat(void *ctx, int dirfd, const char *path, int flags, unsigned mode,
                       unsigned resolve)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int hit = 0;
    if (g_hook == HOOK_COMMIT_TMP) {
        size_t n = strlen(base);
        hit = n > 9 && strcmp(base + n - 9, ".json.tmp") == 0;
    } else if (g_hook == HOOK_COMMIT_READ) {
        char name[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(g_hook_version, name);
        hit = strcmp(base, name) == 0;
    }
    if (hit) {
        g_hook = HOOK_OFF; /* once; the interference uses the default layer */
        g_interfere();
    }
    return tl_io_default()->ops->openat(ctx, dirfd, path, flags, mode, resolve);
}

static const tl_io *hook_io(void)
{
    g_ops = *tl_io_default()->ops;
    g_ops.openat = hook_openat;
    g_io = (tl_io){&g_ops, tl_io_default()->ctx};
    return &g_io;
}

static int64_t g_other_base;   /* the other writer's first value */
static int64_t g_ckpt_version; /* the checkpoint the cleanup kept */

/* Another writer commits twice (versions 3 and 4 here). */
static void other_writer_only(void)
{
    tl_error err = {0};
    tl_table *b;
    cr_assert_eq(tl_table_open(g_table, &b, &err), TL_OK, "%s", err.msg);
    tl_append_result res;
    cr_assert_eq(append_rows(b, g_other_base, 3, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(append_rows(b, g_other_base + 3, 3, &res, &err), TL_OK, "%s", err.msg);
    tl_table_close(b);
}

/* Two hours later by its clock, a checkpoint of the latest version and a
 * log cleanup remove every commit below it. */
static void cleanup_only(void)
{
    tl_error err = {0};
    tl_table *c;
    cr_assert_eq(tl_table_open_io(g_table, NULL, ahead_2h, NULL, &c, &err), TL_OK, "%s",
                 err.msg);
    tl_checkpoint_result cr;
    cr_assert_eq(tl_table_checkpoint(c, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_gt(cr.commits_deleted, 0, "the cleanup deleted nothing");
    g_ckpt_version = cr.version;
    tl_table_close(c);
}

static void other_writer_then_cleanup(void)
{
    other_writer_only();
    cleanup_only();
}

static void other_writer_then_arm_cleanup_at_the_winner(void)
{
    other_writer_only();
    /* the losing writer will read the winner of version 3 next */
    g_interfere = cleanup_only;
    g_hook_version = 3;
    g_hook = HOOK_COMMIT_READ;
}

/* ---- tests ----------------------------------------------------------------------- */

Test(log_cleanup_race, a_stale_writer_does_not_recreate_a_cleaned_up_version)
{
    create(1);
    tl_error err = {0};
    tl_table *a;
    cr_assert_eq(tl_table_open_io(g_table, hook_io(), NULL, NULL, &a, &err), TL_OK, "%s",
                 err.msg);
    append_ok(a, 0, 2, 1);
    append_ok(a, 2, 2, 2); /* v = 0 .. 3: sum 6 */
    /* A reads version 2; before it publishes version 3, B commits 3 and 4
     * and cleanup removes 0 .. 3 below the checkpoint at 4 */
    g_other_base = 100; /* v = 100 .. 105: sum 615 */
    g_interfere = other_writer_then_cleanup;
    g_hook = HOOK_COMMIT_TMP;
    tl_append_result res;
    int rc = append_rows(a, 1000, 4, &res, &err); /* v = 1000 .. 1003 */
    cr_assert_eq(g_hook, HOOK_OFF, "the interference did not run");
    cr_assert_eq(g_ckpt_version, 4);
    cr_assert_eq(rc, TL_ECONFLICT, "rc %d (version %lld): %s", rc, (long long)res.version,
                 err.msg);
    cr_assert(strstr(err.msg, "LOG-R84") && strstr(err.msg, "removed by log cleanup"), "%s",
              err.msg);
    /* nothing re-created below the checkpoint; the table is B's */
    cr_assert_eq(count_commits_below(g_ckpt_version), 0);
    cr_assert(!commit_exists(3));
    int64_t v;
    cr_assert_eq(sum_latest(&v), 6 + 615);
    cr_assert_eq(v, 4);
    /* the writer re-reads and commits on top */
    append_ok(a, 1000, 4, 5);
    cr_assert_eq(sum_latest(&v), 6 + 615 + 4006);
    cr_assert_eq(v, 5);
    tl_table_close(a);
}

Test(log_cleanup_race, a_winner_cleaned_up_before_it_is_read_is_a_conflict)
{
    create(1);
    tl_error err = {0};
    tl_table *a;
    cr_assert_eq(tl_table_open_io(g_table, hook_io(), NULL, NULL, &a, &err), TL_OK, "%s",
                 err.msg);
    append_ok(a, 0, 2, 1);
    append_ok(a, 2, 2, 2);
    /* A reads version 2; B takes 3 and 4 before A publishes; A loses the
     * race for 3 and, as it opens 3 to check it for conflicts, the cleanup
     * removes 0 .. 3 */
    g_other_base = 100;
    g_interfere = other_writer_then_arm_cleanup_at_the_winner;
    g_hook = HOOK_COMMIT_TMP;
    tl_append_result res;
    int rc = append_rows(a, 1000, 4, &res, &err);
    cr_assert_eq(g_hook, HOOK_OFF, "the interference did not run");
    cr_assert_eq(g_ckpt_version, 4);
    cr_assert_eq(rc, TL_ECONFLICT, "rc %d: %s", rc, err.msg);
    cr_assert(strstr(err.msg, "LOG-R84") && strstr(err.msg, "version 3"), "%s", err.msg);
    cr_assert_eq(count_commits_below(g_ckpt_version), 0);
    int64_t v;
    cr_assert_eq(sum_latest(&v), 6 + 615);
    cr_assert_eq(v, 4);
    append_ok(a, 1000, 4, 5);
    tl_table_close(a);
}

Test(log_cleanup_race, a_reader_whose_listed_commit_is_cleaned_up_loads_again)
{
    create(1);
    tl_error err = {0};
    tl_table *a;
    cr_assert_eq(tl_table_open_io(g_table, hook_io(), NULL, NULL, &a, &err), TL_OK, "%s",
                 err.msg);
    append_ok(a, 0, 2, 1);
    append_ok(a, 2, 2, 2);
    /* the latest: A lists 0 .. 2, then opening commit 1 lets B commit 3, 4
     * and the cleanup remove 0 .. 3 */
    g_other_base = 100;
    g_interfere = other_writer_then_cleanup;
    g_hook = HOOK_COMMIT_READ;
    g_hook_version = 1;
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(a, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(g_hook, HOOK_OFF, "the interference did not run");
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    cr_assert_eq(info.version, 4);
    cr_assert_eq(info.n_rows, 4 + 6);
    tl_snapshot_close(s);
    tl_table_close(a);
}

Test(log_cleanup_race, time_travel_below_a_concurrent_cleanup_is_not_found_not_corrupt)
{
    create(1);
    tl_error err = {0};
    tl_table *a;
    cr_assert_eq(tl_table_open_io(g_table, hook_io(), NULL, NULL, &a, &err), TL_OK, "%s",
                 err.msg);
    append_ok(a, 0, 2, 1);
    append_ok(a, 2, 2, 2);
    g_other_base = 100;
    g_interfere = other_writer_then_cleanup;
    g_hook = HOOK_COMMIT_READ;
    g_hook_version = 2;
    tl_at at = {.kind = TL_AT_VERSION, .version = 2};
    tl_snapshot *s = NULL;
    int rc = tl_snapshot_open(a, &at, &s, &err);
    cr_assert_eq(g_hook, HOOK_OFF, "the interference did not run");
    cr_assert_eq(rc, TL_ENOTFOUND, "rc %d: %s", rc, err.msg);
    cr_assert(strstr(err.msg, "4"), "the message names the oldest reachable version: %s",
              err.msg);
    cr_assert_null(s);
    tl_table_close(a);
}

Test(log_cleanup_race, cleanup_keeps_at_least_one_hour_whatever_the_configuration)
{
    create(0); /* 0 = the default in the spec struct: set 0 explicitly */
    tl_error err = {0};
    tl_table *a;
    cr_assert_eq(tl_table_open(g_table, &a, &err), TL_OK, "%s", err.msg);
    int64_t v = -1;
    cr_assert_eq(tl_table_set_config(a, "ticklake.logRetentionHours", "0", &v, &err), TL_OK,
                 "%s", err.msg);
    append_ok(a, 0, 2, 2);
    append_ok(a, 2, 2, 3);
    tl_checkpoint_result cr;
    cr_assert_eq(tl_table_checkpoint(a, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.version, 3);
    cr_assert_eq(cr.commits_deleted, 0, "a checkpoint seconds old was used for cleanup");
    tl_table_close(a);
    /* 59 minutes later: still kept; 2 hours later: cleaned up */
    tl_table *c;
    cr_assert_eq(tl_table_open_io(g_table, NULL, ahead_59m, NULL, &c, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(tl_table_checkpoint(c, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.commits_deleted, 0, "%lld", (long long)cr.commits_deleted);
    tl_table_close(c);
    cr_assert_eq(tl_table_open_io(g_table, NULL, ahead_2h, NULL, &c, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(tl_table_checkpoint(c, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.commits_deleted, 3, "%lld", (long long)cr.commits_deleted);
    tl_table_close(c);
    cr_assert_eq(count_commits_below(3), 0);
}
