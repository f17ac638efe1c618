/*
 * vacuum_test.c - vacuum (engine/src/vacuum.c; spec/LOG.md 9.8 LOG-R82,
 * crash invariants LOG-C5, LOG-C6, LOG-C9): expired and unexpired
 * tombstones, young and old orphans, temporary files of _delta_log/, files
 * vacuum must leave alone (outside partition directories, hidden, symlinks
 * pointing outside the table), dry run = real run, the versions that
 * become unreadable, empty partition directories, the retention safety
 * check, and injected unlink / fsync failures. Tables are built with
 * tl_log_write on a fixed clock; data files are small dummy files (vacuum
 * never reads them) whose mtimes the tests set.
 */
#include <criterion/criterion.h>

#include "io_int.h"
#include "log_int.h"
#include "log_testlib.h"
#include "vacuum_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void setup(void)
{
    testlib_setup("tl_vac");
}

static void teardown(void)
{
    testlib_teardown();
}

TestSuite(vacuum, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------- */

#define H INT64_C(3600000) /* one hour in ms */
static const int64_t T = 4000000000000; /* clock base, after the wall clock */

static const tl_log_field pschema[] = {
    {"symbol", TL_STRING, 0}, {"timestamp", TL_TIMESTAMP, 0}, {"price", TL_FLOAT64, 1}};

/* Version 0 of a table partitioned by symbol and day(timestamp), with
 * deletedFileRetentionHours = conf (NULL: absent). */
static void create_table(int64_t now, const char *conf)
{
    tl_log_action a[2];
    meta_actions(a, "vac");
    static tl_log_kv kv[1];
    kv[0] = (tl_log_kv){TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, conf};
    a[1].u.meta.fields = pschema;
    a[1].u.meta.n_fields = 3;
    a[1].u.meta.part_symbol_col = "symbol";
    a[1].u.meta.part_day_col = "timestamp";
    a[1].u.meta.config = (tl_log_map){kv, conf ? 1u : 0u};
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_write_opts o = {.now_ms = fixed_clock, .now_arg = &now};
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(tl_log_write(&r, -1, a, 2, &o, &res, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
}

static tl_log_pvals pv(const char *sym)
{
    return (tl_log_pvals){.has_symbol = 1, .symbol = sym, .has_date = 1, .date = 20000};
}

static void add_a(tl_log_action *a, const char *path, const char *sym)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_ADD;
    a->u.add = (tl_log_add){.path = path, .part = pv(sym), .size_bytes = 10, .n_rows = 1,
                            .mtime_ms = 1, .data_change = 1};
}

static void rm_a(tl_log_action *a, const char *path, const char *sym)
{
    memset(a, 0, sizeof *a);
    a->kind = TL_LOG_REMOVE;
    a->u.rm = (tl_log_remove){.path = path, .data_change = 1, .has_part = 1, .part = pv(sym),
                              .has_size = 1, .size_bytes = 10, .has_n_rows = 1, .n_rows = 1};
}

/* Commit acts as the next version with the clock at now. */
static int64_t commit(const tl_log_action *acts, uint32_t n, int64_t now)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(tl_log_snapshot_load(&r, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_log_write_opts o = {.now_ms = fixed_clock, .now_arg = &now, .snap = &s};
    tl_log_write_result res;
    cr_assert_eq(tl_log_write(&r, s.version, acts, n, &o, &res, &err), TL_OK, "%s", err.msg);
    tl_log_snapshot_free(&s);
    tl_io_close(&r, NULL);
    return res.version;
}

static int64_t commit_add(const char *path, const char *sym, int64_t now)
{
    tl_log_action a;
    add_a(&a, path, sym);
    return commit(&a, 1, now);
}

static int64_t commit_rm(const char *path, const char *sym, int64_t now)
{
    tl_log_action a;
    rm_a(&a, path, sym);
    return commit(&a, 1, now);
}

static char *abs_path(const char *rel)
{
    static char p[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", root, rel);
    return p[k];
}

static void mkdirs(const char *absdir)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", absdir);
    cr_assert_eq(system(cmd), 0);
}

static void set_mtime(const char *abs, int64_t ms)
{
    struct timespec ts[2] = {{ms / 1000, (ms % 1000) * 1000000}, {ms / 1000, (ms % 1000) * 1000000}};
    cr_assert_eq(utimensat(AT_FDCWD, abs, ts, AT_SYMLINK_NOFOLLOW), 0, "%s", abs);
}

/* A 10-byte file at an absolute path (parents created) with mtime ms. */
static void put_abs(const char *abs, int64_t ms)
{
    char d[700];
    snprintf(d, sizeof d, "%s", abs);
    *strrchr(d, '/') = 0;
    mkdirs(d);
    FILE *fp = fopen(abs, "wb");
    cr_assert_not_null(fp, "%s", abs);
    cr_assert_eq(fwrite("0123456789", 1, 10, fp), 10);
    cr_assert_eq(fclose(fp), 0);
    set_mtime(abs, ms);
}

static void put(const char *rel, int64_t ms)
{
    put_abs(abs_path(rel), ms);
}

static int exists(const char *rel)
{
    struct stat st;
    return lstat(abs_path(rel), &st) == 0;
}

static int vac_io(const tl_io *io, const tl_vacuum_opts *o, tl_vacuum_report *rep, tl_error *err)
{
    tl_io_file r;
    open_root_io(NULL, &r);
    int rc = tl_vacuum(&r, o, rep, err);
    (void)io;
    tl_io_close(&r, NULL);
    return rc;
}

static void vac(const tl_vacuum_opts *o, tl_vacuum_report *rep)
{
    tl_error err;
    cr_assert_eq(vac_io(NULL, o, rep, &err), TL_OK, "%s", err.msg);
}

static const tl_vacuum_file *find_file(const tl_vacuum_report *rep, const char *rel)
{
    for (size_t i = 0; i < rep->n_files; i++)
        if (strcmp(rep->files[i].path, rel) == 0)
            return &rep->files[i];
    return NULL;
}

static int unreadable(const tl_vacuum_report *rep, int64_t v)
{
    for (size_t i = 0; i < rep->n_unreadable; i++)
        if (v >= rep->unreadable[i][0] && v <= rep->unreadable[i][1])
            return 1;
    return 0;
}

/* LOG-R82 / LOG-C9: every version vacuum did not list as unreadable still
 * loads, and every file its snapshot holds live exists. */
static void check_versions(const tl_vacuum_report *rep)
{
    tl_io_file r0;
    open_root_io(NULL, &r0);
    int64_t oldest, latest;
    tl_error err0;
    cr_assert_eq(tl_log_version_range(&r0, NULL, &oldest, &latest, &err0), TL_OK, "%s",
                 err0.msg);
    tl_io_close(&r0, NULL);
    cr_assert_eq(latest, rep->latest_version);
    for (int64_t v = oldest; v <= rep->latest_version; v++) {
        tl_io_file r;
        open_root_io(NULL, &r);
        tl_log_snap_opts so = {.at = TL_LOG_AT_VERSION, .version = v};
        tl_log_snapshot s;
        tl_error err;
        cr_assert_eq(tl_log_snapshot_load(&r, &so, &s, &err), TL_OK, "v%" PRId64 ": %s", v,
                     err.msg);
        size_t cur = 0;
        const tl_log_add *a;
        int all = 1;
        while ((a = tl_log_snapshot_live_next(&s, &cur)))
            all &= exists(a->path);
        if (!unreadable(rep, v))
            cr_assert(all, "version %" PRId64 " lost a live file but was not reported", v);
        else
            cr_assert(!all, "version %" PRId64 " reported unreadable but has every file", v);
        tl_log_snapshot_free(&s);
        tl_io_close(&r, NULL);
    }
}

/* The tree under path as text (path, type, size, mtime), for "touches
 * nothing" checks. */
static char *tree_buf;
static size_t tree_len, tree_cap;
static int tree_cb(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)type;
    (void)ftw;
    char line[1200];
    int n = snprintf(line, sizeof line, "%s %o %lld %lld.%09ld\n", p, (unsigned)st->st_mode,
                     (long long)st->st_size, (long long)st->st_mtim.tv_sec,
                     (long)st->st_mtim.tv_nsec);
    if (S_ISDIR(st->st_mode))
        n = snprintf(line, sizeof line, "%s dir\n", p); /* listing touches atime only */
    if (tree_len + (size_t)n + 1 > tree_cap) {
        tree_cap = (tree_len + (size_t)n + 1) * 2;
        tree_buf = realloc(tree_buf, tree_cap);
    }
    memcpy(tree_buf + tree_len, line, (size_t)n + 1);
    tree_len += (size_t)n;
    return 0;
}
static char *tree(const char *path)
{
    tree_buf = NULL;
    tree_len = tree_cap = 0;
    cr_assert_eq(nftw(path, tree_cb, 16, FTW_PHYS), 0);
    return tree_buf;
}

#define P_A "symbol=A/date=2024-10-04/a.tls"
#define P_B "symbol=A/date=2024-10-04/b.tls"
#define P_C "symbol=B/date=2024-10-04/c.tls"
#define P_D "symbol=C/date=2024-10-04/d.tls"

/* A table with: a removed at T+2h (expired at now = T+50h, retention 24h),
 * b removed at T+40h (not expired), c live, d removed at T+3h (expired, the
 * only file of symbol=C/...). Versions: 1 add a,b,c  2 add d  3 rm a
 * 4 rm d  5 rm b. */
static void build_mixed(void)
{
    create_table(T, NULL);
    tl_log_action a[3];
    add_a(&a[0], P_A, "A");
    add_a(&a[1], P_B, "A");
    add_a(&a[2], P_C, "B");
    put(P_A, T);
    put(P_B, T);
    put(P_C, T);
    put(P_D, T);
    cr_assert_eq(commit(a, 3, T + H), 1);
    cr_assert_eq(commit_add(P_D, "C", T + H + 1), 2);
    cr_assert_eq(commit_rm(P_A, "A", T + 2 * H), 3);
    cr_assert_eq(commit_rm(P_D, "C", T + 3 * H), 4);
    cr_assert_eq(commit_rm(P_B, "A", T + 40 * H), 5);
}

static const tl_vacuum_opts OPTS = {.now_ms = T + 50 * H, .retain_hours = 24};

/* ---- tombstones -------------------------------------------------------------------- */

Test(vacuum, expired_tombstones_go_unexpired_and_live_stay)
{
    /* LOG-R82, LOG-C9 */
    build_mixed();
    tl_vacuum_report rep;
    vac(&OPTS, &rep);
    cr_assert_eq(rep.n_files, 2);
    const tl_vacuum_file *fa = find_file(&rep, P_A), *fd = find_file(&rep, P_D);
    cr_assert(fa && fd);
    cr_assert_eq(fa->reason, TL_VACUUM_TOMBSTONE);
    cr_assert_eq(fa->removed_in_version, 3);
    cr_assert_eq(fa->bytes, 10);
    cr_assert_eq(fd->removed_in_version, 4);
    cr_assert_eq(rep.bytes, 20);
    cr_assert_eq(rep.latest_version, 5);
    cr_assert_eq(rep.retain_hours, 24);
    cr_assert_eq(rep.cutoff_ms, T + 26 * H);
    cr_assert_eq(rep.dry_run, 0);
    /* a live at 1..2, d live at 2..3 */
    cr_assert_eq(rep.n_unreadable, 1);
    cr_assert_eq(rep.unreadable[0][0], 1);
    cr_assert_eq(rep.unreadable[0][1], 3);
    cr_assert(!exists(P_A));
    cr_assert(!exists(P_D));
    cr_assert(exists(P_B), "unexpired tombstone kept");
    cr_assert(exists(P_C), "live file kept (LOG-C9)");
    /* symbol=C/date=... emptied: both levels removed (parent fsynced) */
    cr_assert(!exists("symbol=C"));
    cr_assert_eq(rep.n_dirs_removed, 2);
    cr_assert(exists("symbol=A/date=2024-10-04"));
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
    tl_vacuum_report_free(&rep); /* idempotent */

    /* a second run finds nothing */
    vac(&OPTS, &rep);
    cr_assert_eq(rep.n_files, 0);
    cr_assert_eq(rep.n_unreadable, 0);
    tl_vacuum_report_free(&rep);
}

Test(vacuum, tombstone_expires_exactly_at_cutoff)
{
    /* LOG-R82: deletionTimestamp <= now - retention */
    build_mixed();
    tl_vacuum_opts o = OPTS;
    o.now_ms = T + 2 * H + 24 * H - 1; /* a expires 1 ms later */
    o.dry_run = 1;
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 0);
    tl_vacuum_report_free(&rep);
    o.now_ms++;
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 1);
    cr_assert_str_eq(rep.files[0].path, P_A);
    tl_vacuum_report_free(&rep);
}

Test(vacuum, live_file_never_deleted_however_old)
{
    /* LOG-C9: a live file is kept even with an ancient mtime */
    create_table(T, NULL);
    put(P_C, 1000);
    commit_add(P_C, "B", T + H);
    tl_vacuum_opts o = {.now_ms = T + 100000 * H, .retain_hours = 1};
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 0);
    cr_assert(exists(P_C));
    tl_vacuum_report_free(&rep);
}

/* ---- orphans ------------------------------------------------------------------------ */

Test(vacuum, orphans_old_go_young_stay)
{
    /* LOG-C6, LOG-R82 */
    create_table(T, NULL);
    put(P_C, T);
    commit_add(P_C, "B", T + H);
    int64_t now = T + 100 * H;
    put("symbol=A/date=2024-10-04/old.tls", now - 25 * H);       /* orphan, old */
    put("symbol=A/date=2024-10-04/young.tls", now - 23 * H);     /* orphan, young */
    put("date=2024-10-05/old.tls", now - 48 * H);                /* day-only layout */
    put("symbol=A/date=2024-10-04/notes.txt", now - 48 * H);     /* not a data file */
    put("stray.tls", now - 48 * H);                              /* outside partitions */
    put("backup/x.tls", now - 48 * H);                           /* not a partition dir */
    put("symbol=A/junk/x.tls", now - 48 * H);                    /* not a partition dir */
    put("symbol=A/date=2024-10-04/.hidden.tls", now - 48 * H);   /* hidden */
    put(".hidden/x.tls", now - 48 * H);
    put("_reserved/x.tls", now - 48 * H);
    tl_vacuum_opts o = {.now_ms = now, .retain_hours = 24};
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 2, "%zu files", rep.n_files);
    cr_assert_str_eq(rep.files[0].path, "date=2024-10-05/old.tls");
    cr_assert_str_eq(rep.files[1].path, "symbol=A/date=2024-10-04/old.tls");
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(rep.files[i].reason, TL_VACUUM_ORPHAN);
        cr_assert_eq(rep.files[i].removed_in_version, -1);
    }
    cr_assert_eq(rep.n_unreadable, 0, "orphans make no version unreadable");
    cr_assert_eq(rep.n_dirs_removed, 1); /* date=2024-10-05 */
    cr_assert(!exists("date=2024-10-05"));
    cr_assert(!exists("symbol=A/date=2024-10-04/old.tls"));
    const char *kept[] = {"symbol=A/date=2024-10-04/young.tls",
                          "symbol=A/date=2024-10-04/notes.txt",
                          "stray.tls",
                          "backup/x.tls",
                          "symbol=A/junk/x.tls",
                          "symbol=A/date=2024-10-04/.hidden.tls",
                          ".hidden/x.tls",
                          "_reserved/x.tls",
                          P_C};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        cr_assert(exists(kept[i]), "%s must stay", kept[i]);
    tl_vacuum_report_free(&rep);
}

Test(vacuum, orphans_at_root_of_unpartitioned_table)
{
    /* LOG-R82: "or the table directory of an unpartitioned table" */
    tl_log_action a[2];
    meta_actions(a, "flat");
    tl_io_file r;
    open_root_io(NULL, &r);
    int64_t now = T;
    tl_log_write_opts wo = {.now_ms = fixed_clock, .now_arg = &now};
    tl_log_write_result res;
    tl_error err;
    cr_assert_eq(tl_log_write(&r, -1, a, 2, &wo, &res, &err), TL_OK, "%s", err.msg);
    tl_io_close(&r, NULL);
    put("live.tls", T);
    tl_log_action ad;
    memset(&ad, 0, sizeof ad);
    ad.kind = TL_LOG_ADD;
    ad.u.add = (tl_log_add){.path = "live.tls", .size_bytes = 10, .n_rows = 1, .data_change = 1};
    commit(&ad, 1, T + H);
    put("orphan.tls", T);
    put("sub/x.tls", T);
    tl_vacuum_opts o = {.now_ms = T + 100 * H, .retain_hours = 24};
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 1);
    cr_assert_str_eq(rep.files[0].path, "orphan.tls");
    cr_assert(exists("live.tls"));
    cr_assert(exists("sub/x.tls"));
    tl_vacuum_report_free(&rep);
}

/* ---- symlinks ------------------------------------------------------------------------ */

Test(vacuum, symlinks_are_never_followed_or_removed)
{
    /* LOG-R82 / LOG-R11: nothing outside the table is reached */
    create_table(T, NULL);
    char out[600], victim[700], lnk[700];
    snprintf(out, sizeof out, "%s/outside/date=2024-10-04", dir);
    snprintf(victim, sizeof victim, "%s/f.tls", out);
    put_abs(victim, T);
    char outv[700];
    snprintf(outv, sizeof outv, "%s/v.tls", dir);
    put_abs(outv, T);
    /* a partition directory that is a symlink to outside, holding "f.tls" */
    snprintf(lnk, sizeof lnk, "%s/outside", dir);
    cr_assert_eq(symlink(lnk, abs_path("symbol=L")), 0);
    /* a log path through it: added then removed long ago (expired tombstone) */
    put("symbol=A/date=2024-10-04/real.tls", T);
    commit_add("symbol=A/date=2024-10-04/real.tls", "A", T + H);
    commit_add("symbol=L/date=2024-10-04/f.tls", "L", T + 2 * H);
    commit_rm("symbol=L/date=2024-10-04/f.tls", "L", T + 3 * H);
    /* a file symlink (as an orphan and as a tombstone name) to outside */
    cr_assert_eq(symlink(outv, abs_path("symbol=A/date=2024-10-04/link.tls")), 0);
    set_mtime(abs_path("symbol=A/date=2024-10-04/link.tls"), T);
    commit_add("symbol=A/date=2024-10-04/gone.tls", "A", T + 4 * H);
    commit_rm("symbol=A/date=2024-10-04/gone.tls", "A", T + 5 * H);
    cr_assert_eq(symlink(outv, abs_path("symbol=A/date=2024-10-04/gone.tls")), 0);
    char *before = tree(dir);

    tl_vacuum_opts o = {.now_ms = T + 1000 * H, .retain_hours = 24};
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 0, "first: %s", rep.n_files ? rep.files[0].path : "");
    char *after = tree(dir);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    tl_vacuum_report_free(&rep);
}

/* ---- _delta_log temporary files ------------------------------------------------------- */

Test(vacuum, old_tmp_files_in_log_go)
{
    /* LOG-C5 */
    build_mixed();
    int64_t now = OPTS.now_ms;
    put("_delta_log/.0f1e2d3c-4b5a-4697-8877-665544332211.json.tmp", now - 25 * H);
    put("_delta_log/.young.json.tmp", now - 23 * H);
    put("_delta_log/_last_checkpoint.tmp.1234.7", now - 25 * H);
    put("_delta_log/notes", now - 25 * H);                 /* unknown name: ignored */
    put("_delta_log/x.tmp.12.a", now - 25 * H);            /* not the tmp pattern */
    set_mtime(abs_path("_delta_log/00000000000000000001.json"), now - 1000 * H);
    tl_vacuum_report rep;
    vac(&OPTS, &rep);
    const tl_vacuum_file *t1 =
        find_file(&rep, "_delta_log/.0f1e2d3c-4b5a-4697-8877-665544332211.json.tmp");
    const tl_vacuum_file *t2 = find_file(&rep, "_delta_log/_last_checkpoint.tmp.1234.7");
    cr_assert(t1 && t2);
    cr_assert_eq(t1->reason, TL_VACUUM_TMP);
    cr_assert_eq(t2->reason, TL_VACUUM_TMP);
    cr_assert_eq(rep.n_files, 4); /* + a, d */
    cr_assert(!exists("_delta_log/.0f1e2d3c-4b5a-4697-8877-665544332211.json.tmp"));
    cr_assert(!exists("_delta_log/_last_checkpoint.tmp.1234.7"));
    cr_assert(exists("_delta_log/.young.json.tmp"));
    cr_assert(exists("_delta_log/notes"));
    cr_assert(exists("_delta_log/x.tmp.12.a"));
    cr_assert(exists("_delta_log/00000000000000000001.json"), "commits are never vacuum's");
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
}

/* LOG-C11: scratch directories of crashed optimize / repartition runs */
Test(vacuum, stale_scratch_directories_go_live_ones_stay)
{
    build_mixed();
    int64_t now = OPTS.now_ms;
    const char *u1 = "_tmp/11111111-1111-4111-8111-111111111111";
    const char *u2 = "_tmp/22222222-2222-4222-8222-222222222222";
    const char *u3 = "_tmp/33333333-3333-4333-8333-333333333333";
    const char *u4 = "_tmp/44444444-4444-4444-8444-444444444444";
    char p[300];
    /* u1: stale (dir and both runs older than the retention) */
    snprintf(p, sizeof p, "%s/run-00000.tls", u1);
    put(p, now - 30 * H);
    snprintf(p, sizeof p, "%s/run-00001.tls", u1);
    put(p, now - 30 * H);
    set_mtime(abs_path(u1), now - 30 * H);
    /* u2: one young run: a run that may be alive */
    snprintf(p, sizeof p, "%s/run-00000.tls", u2);
    put(p, now - 30 * H);
    snprintf(p, sizeof p, "%s/run-00001.tls", u2);
    put(p, now - 1 * H);
    set_mtime(abs_path(u2), now - 30 * H);
    /* u3: empty and stale */
    mkdirs(abs_path(u3));
    set_mtime(abs_path(u3), now - 30 * H);
    /* u4: stale, but holds a symbolic link: the run goes, link and dir stay */
    snprintf(p, sizeof p, "%s/run-00000.tls", u4);
    put(p, now - 30 * H);
    snprintf(p, sizeof p, "%s/link", abs_path(u4));
    cr_assert_eq(symlink("/etc/passwd", p), 0);
    set_mtime(p, now - 30 * H);
    set_mtime(abs_path(u4), now - 30 * H);
    set_mtime(abs_path("_tmp"), now - 30 * H);

    tl_vacuum_report rep;
    tl_vacuum_opts dry = OPTS;
    dry.dry_run = 1;
    vac(&dry, &rep);
    size_t n_dry = rep.n_files;
    snprintf(p, sizeof p, "%s/run-00000.tls", u1);
    cr_assert(find_file(&rep, p) && find_file(&rep, p)->reason == TL_VACUUM_TMP);
    cr_assert(exists(p), "a dry run touches nothing");
    tl_vacuum_report_free(&rep);

    vac(&OPTS, &rep);
    cr_assert_eq(rep.n_files, n_dry, "the dry run listed the same");
    snprintf(p, sizeof p, "%s/run-00001.tls", u1);
    cr_assert(find_file(&rep, p));
    cr_assert(!exists(u1), "a stale scratch directory goes with its runs");
    cr_assert(!exists(u3), "an empty stale one goes");
    snprintf(p, sizeof p, "%s/run-00000.tls", u2);
    cr_assert(exists(p) && !find_file(&rep, p), "nothing of a live scratch directory goes");
    snprintf(p, sizeof p, "%s/run-00000.tls", u4);
    cr_assert(!exists(p));
    snprintf(p, sizeof p, "%s/link", u4);
    cr_assert(exists(p), "symbolic links are never removed");
    cr_assert(exists("_tmp"), "_tmp itself stays");
    cr_assert(access("/etc/passwd", F_OK) == 0);
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
}

/* LOG-C11 with the default retention: a young scratch directory stays */
Test(vacuum, young_scratch_directory_stays)
{
    build_mixed();
    int64_t now = OPTS.now_ms;
    put("_tmp/55555555-5555-4555-8555-555555555555/run-00000.tls", now - 23 * H);
    set_mtime(abs_path("_tmp/55555555-5555-4555-8555-555555555555"), now - 23 * H);
    tl_vacuum_report rep;
    vac(&OPTS, &rep);
    cr_assert(exists("_tmp/55555555-5555-4555-8555-555555555555/run-00000.tls"));
    tl_vacuum_report_free(&rep);
}

/* ---- dry run ---------------------------------------------------------------------------- */

Test(vacuum, dry_run_lists_the_same_and_touches_nothing)
{
    /* LOG-R82: the dry run lists the files and the unreadable versions */
    build_mixed();
    put("symbol=A/date=2024-10-04/orphan.tls", T);
    put("date=2024-10-09/orphan.tls", T);
    put("_delta_log/.x.json.tmp", T);
    mkdirs(abs_path("symbol=Z/date=2024-10-04")); /* old empty partition dirs */
    set_mtime(abs_path("symbol=Z/date=2024-10-04"), T);
    set_mtime(abs_path("symbol=Z"), T);
    mkdirs(abs_path("symbol=Y")); /* young empty: a writer may be about to use it */
    set_mtime(abs_path("symbol=Y"), OPTS.now_ms);
    char *before = tree(dir);
    tl_vacuum_opts o = OPTS;
    o.dry_run = 1;
    tl_vacuum_report d;
    vac(&o, &d);
    char *after = tree(dir);
    cr_assert_str_eq(before, after, "a dry run changes nothing");
    cr_assert_eq(d.dry_run, 1);

    tl_vacuum_report r;
    vac(&OPTS, &r);
    cr_assert_eq(d.n_files, 5);
    cr_assert_eq(r.n_files, d.n_files);
    for (size_t i = 0; i < r.n_files; i++) {
        cr_assert_str_eq(r.files[i].path, d.files[i].path);
        cr_assert_eq(r.files[i].reason, d.files[i].reason);
        cr_assert_eq(r.files[i].bytes, d.files[i].bytes);
        cr_assert_eq(r.files[i].removed_in_version, d.files[i].removed_in_version);
        cr_assert(!exists(r.files[i].path));
    }
    cr_assert_eq(r.bytes, d.bytes);
    cr_assert_eq(r.n_unreadable, d.n_unreadable);
    for (size_t i = 0; i < r.n_unreadable; i++) {
        cr_assert_eq(r.unreadable[i][0], d.unreadable[i][0]);
        cr_assert_eq(r.unreadable[i][1], d.unreadable[i][1]);
    }
    /* symbol=C/date (emptied), date=2024-10-09 (emptied), symbol=Z/date (old) */
    cr_assert_eq(d.n_dirs_removed, 5);
    cr_assert_eq(r.n_dirs_removed, d.n_dirs_removed);
    cr_assert(!exists("symbol=Z"));
    cr_assert(exists("symbol=Y"));
    free(before);
    free(after);
    tl_vacuum_report_free(&d);
    tl_vacuum_report_free(&r);
}

/* ---- unreadable versions ---------------------------------------------------------------- */

Test(vacuum, unreadable_versions_are_the_live_ranges_of_deleted_files)
{
    /* LOG-R82: f1 live 1..2, f2 live 2..3 (merged: 1..3), f3 live 6..6,
     * f4 live 5..8 but not expired; so 4, 5, 7, 8, 9 stay readable. */
    create_table(T, NULL);
    const char *f[4] = {"symbol=A/date=2024-10-04/f1.tls", "symbol=A/date=2024-10-04/f2.tls",
                        "symbol=A/date=2024-10-04/f3.tls", "symbol=A/date=2024-10-04/f4.tls"};
    for (int i = 0; i < 4; i++)
        put(f[i], T);
    cr_assert_eq(commit_add(f[0], "A", T + 1), 1);
    cr_assert_eq(commit_add(f[1], "A", T + 2), 2);
    cr_assert_eq(commit_rm(f[0], "A", T + 3), 3);
    cr_assert_eq(commit_rm(f[1], "A", T + 4), 4);
    cr_assert_eq(commit_add(f[3], "A", T + 5), 5);
    cr_assert_eq(commit_add(f[2], "A", T + 6), 6);
    cr_assert_eq(commit_rm(f[2], "A", T + 7), 7);
    cr_assert_eq(commit_add("symbol=A/date=2024-10-04/f5.tls", "A", T + 8), 8);
    cr_assert_eq(commit_rm(f[3], "A", T + 30 * H), 9);
    put("symbol=A/date=2024-10-04/f5.tls", T);
    tl_vacuum_report rep;
    vac(&OPTS, &rep);
    cr_assert_eq(rep.n_files, 3);
    cr_assert_eq(rep.n_unreadable, 2);
    cr_assert_eq(rep.unreadable[0][0], 1);
    cr_assert_eq(rep.unreadable[0][1], 3);
    cr_assert_eq(rep.unreadable[1][0], 6);
    cr_assert_eq(rep.unreadable[1][1], 6);
    cr_assert_eq(find_file(&rep, f[2])->removed_in_version, 7);
    cr_assert(exists(f[3]));
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
}

/* ---- retention -------------------------------------------------------------------------- */

Test(vacuum, retention_below_one_hour_is_refused_unless_forced)
{
    build_mixed();
    tl_vacuum_opts o = {.now_ms = T + 40 * H, .retain_hours = 0};
    tl_vacuum_report rep;
    tl_error err;
    cr_assert_eq(vac_io(NULL, &o, &rep, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "safety minimum"), "%s", err.msg);
    cr_assert(strstr(err.msg, root), "%s", err.msg);
    cr_assert(strstr(err.msg, "force"), "%s", err.msg);
    cr_assert_eq(rep.n_files, 0);
    cr_assert(exists(P_B));
    o.force = 1; /* b was removed exactly at now */
    vac(&o, &rep);
    cr_assert_eq(rep.n_files, 3);
    cr_assert(!exists(P_B));
    cr_assert(exists(P_C));
    tl_vacuum_report_free(&rep);
}

Test(vacuum, retention_from_table_configuration)
{
    /* LOG-R17: ticklake.deletedFileRetentionHours, default 168 */
    build_mixed();
    tl_vacuum_opts o = {.now_ms = T + 3 * H + 168 * H - 1, .retain_hours = -1, .dry_run = 1};
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(rep.retain_hours, 168);
    cr_assert_eq(rep.n_files, 1); /* a (T+2h) expired, d (T+3h) not yet */
    cr_assert_str_eq(rep.files[0].path, P_A);
    tl_vacuum_report_free(&rep);
    vac(NULL, &rep); /* defaults: the real clock, far before T: nothing */
    cr_assert_eq(rep.n_files, 0);
    tl_vacuum_report_free(&rep);
}

Test(vacuum, zero_retention_in_configuration_is_refused)
{
    create_table(T, "0");
    tl_vacuum_opts o = {.now_ms = T + H, .retain_hours = -1};
    tl_vacuum_report rep;
    tl_error err;
    cr_assert_eq(vac_io(NULL, &o, &rep, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS), "%s", err.msg);
    o.force = 1;
    vac(&o, &rep);
    cr_assert_eq(rep.retain_hours, 0);
    tl_vacuum_report_free(&rep);
}

Test(vacuum, not_a_table)
{
    tl_vacuum_report rep;
    tl_error err;
    cr_assert_eq(vac_io(NULL, &OPTS, &rep, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "vacuum"), "%s", err.msg);
    cr_assert_eq(tl_vacuum(NULL, &OPTS, &rep, &err), TL_EINVAL);
}

/* ---- progress ---------------------------------------------------------------------------- */

static uint64_t prog_calls, prog_done, prog_total;
static void progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    cr_assert_eq(done, prog_done + 1);
    prog_calls++;
    prog_done = done;
    prog_total = total;
}

Test(vacuum, progress_counts_deletions)
{
    build_mixed();
    tl_vacuum_opts o = OPTS;
    o.progress = progress;
    tl_vacuum_report rep;
    vac(&o, &rep);
    cr_assert_eq(prog_calls, 2);
    cr_assert_eq(prog_done, 2);
    cr_assert_eq(prog_total, 2);
    tl_vacuum_report_free(&rep);
}

/* ---- snapshots from a checkpoint ----------------------------------------------------------- */

/* Versions: 1 add f1, f2  2 add f3  3 (checkpoint) add f4  4 rm f1  5 rm f3
 * 6 rm f4; all removes expired at OPTS. f1 live 1..3, f3 2..4, f4 3..5. */
static void build_checkpointed(void)
{
    create_table(T, NULL);
    const char *f[4] = {"symbol=A/date=2024-10-04/f1.tls", "symbol=A/date=2024-10-04/f2.tls",
                        "symbol=A/date=2024-10-04/f3.tls", "symbol=A/date=2024-10-04/f4.tls"};
    for (int i = 0; i < 4; i++)
        put(f[i], T);
    tl_log_action a[2];
    add_a(&a[0], f[0], "A");
    add_a(&a[1], f[1], "A");
    cr_assert_eq(commit(a, 2, T + 1), 1);
    cr_assert_eq(commit_add(f[2], "A", T + 2), 2);
    cr_assert_eq(commit_add(f[3], "A", T + 3), 3);
    tl_io_file r;
    open_root_io(NULL, &r);
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(tl_log_snapshot_load(&r, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_log_checkpoint_write(&r, &s, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_log_snapshot_free(&s);
    tl_io_close(&r, NULL);
    cr_assert_eq(commit_rm(f[0], "A", T + 4), 4);
    cr_assert_eq(commit_rm(f[2], "A", T + 5), 5);
    cr_assert_eq(commit_rm(f[3], "A", T + 6), 6);
    open_root_io(NULL, &r);
    cr_assert_eq(tl_log_snapshot_load(&r, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(s.checkpoint_version, 3, "the latest snapshot starts from the checkpoint");
    tl_log_snapshot_free(&s);
    tl_io_close(&r, NULL);
}

Test(vacuum, unreadable_versions_below_a_checkpoint_come_from_older_commits)
{
    /* LOG-R82 with a snapshot loaded from a checkpoint (LOG-R72): the add
     * versions are read from the commit files still present */
    build_checkpointed();
    tl_vacuum_report rep;
    vac(&OPTS, &rep);
    cr_assert_eq(rep.n_files, 3);
    cr_assert_eq(rep.n_unreadable, 1);
    cr_assert_eq(rep.unreadable[0][0], 1);
    cr_assert_eq(rep.unreadable[0][1], 5);
    cr_assert_eq(find_file(&rep, "symbol=A/date=2024-10-04/f1.tls")->removed_in_version, 4);
    cr_assert(exists("symbol=A/date=2024-10-04/f2.tls"));
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
}

Test(vacuum, unreadable_versions_start_at_the_oldest_reachable_one)
{
    /* LOG-R81/R82: commits below the checkpoint cleaned up: an add version
     * that is gone is reported as the oldest reachable version */
    build_checkpointed();
    for (int v = 0; v < 3; v++) {
        char name[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(v, name);
        char p[64];
        snprintf(p, sizeof p, "_delta_log/%s", name);
        cr_assert_eq(unlink(abs_path(p)), 0);
    }
    tl_vacuum_report rep;
    vac(&OPTS, &rep);
    cr_assert_eq(rep.n_files, 3);
    cr_assert_eq(rep.n_unreadable, 1);
    cr_assert_eq(rep.unreadable[0][0], 3);
    cr_assert_eq(rep.unreadable[0][1], 5);
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
}

/* ---- a commit while vacuum runs ---------------------------------------------------------- */

static int late_commit(void *arg, int op, const char *path)
{
    (void)arg;
    (void)op;
    (void)path;
    /* a slow writer publishes the old file vacuum took for an orphan */
    commit_add("symbol=A/date=2024-10-04/slow.tls", "A", T + 45 * H);
    return 0;
}

Test(vacuum, file_committed_while_vacuum_runs_is_kept)
{
    /* LOG-C9: vacuum re-reads the latest version before deleting */
    build_mixed();
    put("symbol=A/date=2024-10-04/slow.tls", T);
    tl_io_fault *fi;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(NULL, &fi, &err), TL_OK, "%s", err.msg);
    /* listings of _delta_log/: load, tmp files, reload: act before the third */
    tl_io_fault_rule r = {.op = TL_IO_OP_LIST, .nth = 3, .action = TL_IO_FAULT_CALLBACK,
                          .path_contains = "_delta_log", .cb = late_commit};
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
    tl_vacuum_opts o = OPTS;
    o.io = tl_io_fault_io(fi);
    tl_vacuum_report rep;
    cr_assert_eq(vac_io(NULL, &o, &rep, &err), TL_OK, "%s", err.msg);
    tl_io_fault_close(fi);
    cr_assert_eq(rep.latest_version, 6, "the reloaded version");
    cr_assert_null(find_file(&rep, "symbol=A/date=2024-10-04/slow.tls"));
    cr_assert(exists("symbol=A/date=2024-10-04/slow.tls"));
    cr_assert_eq(rep.n_files, 2);
    check_versions(&rep);
    tl_vacuum_report_free(&rep);
}

/* ---- faults ------------------------------------------------------------------------------ */

/* Fail the k-th call of op for k = 1, 2, ... until vacuum succeeds: each
 * failure is a clean error naming a path in the table, no live or unexpired
 * file is ever deleted, and a rerun without faults finishes the job. */
static void fault_sweep(int op, const char *w1, const char *w2)
{
    for (uint64_t k = 1;; k++) {
        cr_assert_lt(k, 50);
        snprintf(root, sizeof root, "%s/t%d_%" PRIu64, dir, op, k);
        cr_assert_eq(mkdir(root, 0755), 0);
        build_mixed();
        put("symbol=A/date=2024-10-04/orphan.tls", T);
        put("_delta_log/.x.json.tmp", T);
        tl_io_fault *fi;
        tl_error err;
        cr_assert_eq(tl_io_fault_open(NULL, &fi, &err), TL_OK, "%s", err.msg);
        tl_io_fault_rule r = {.op = op, .nth = k, .action = TL_IO_FAULT_FAIL, .err_no = EIO};
        cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
        tl_vacuum_opts o = OPTS;
        o.io = tl_io_fault_io(fi);
        tl_vacuum_report rep;
        int rc = vac_io(NULL, &o, &rep, &err);
        uint64_t calls = tl_io_fault_count(fi, op);
        tl_io_fault_close(fi);
        cr_assert(exists(P_B), "k=%" PRIu64 ": unexpired tombstone deleted", k);
        cr_assert(exists(P_C), "k=%" PRIu64 ": live file deleted (LOG-C9)", k);
        if (calls < k) {
            cr_assert_eq(rc, TL_OK, "k=%" PRIu64 ": %s", k, err.msg);
            cr_assert_eq(rep.n_files, 4); /* a, d, orphan, tmp */
            tl_vacuum_report_free(&rep);
            cr_assert_gt(k, 1, "the sweep hit no %s call", tl_io_op_name(op));
            return;
        }
        cr_assert_eq(rc, TL_EIO, "k=%" PRIu64 ": %d %s", k, rc, err.msg);
        cr_assert_eq(err.sys_errno, EIO);
        cr_assert(strstr(err.msg, root), "k=%" PRIu64 ": names no path: %s", k, err.msg);
        cr_assert(strstr(err.msg, w1) || strstr(err.msg, w2), "k=%" PRIu64 ": %s", k, err.msg);
        cr_assert_eq(rep.n_files, 0);
        /* rerun without faults completes */
        vac(&OPTS, &rep);
        cr_assert(!exists(P_A));
        cr_assert(!exists("symbol=A/date=2024-10-04/orphan.tls"));
        cr_assert(!exists("_delta_log/.x.json.tmp"));
        cr_assert(!exists("symbol=C"));
        tl_vacuum_report_free(&rep);
    }
}

Test(vacuum, failing_unlink_is_a_clean_error_naming_the_path)
{
    fault_sweep(TL_IO_OP_UNLINK, "unlink(", "rmdir(");
}

Test(vacuum, failing_directory_fsync_is_a_clean_error_naming_the_path)
{
    fault_sweep(TL_IO_OP_FSYNC_DIR, "fsync(", "fsync(");
}

Test(vacuum, failing_listing_or_stat_is_a_clean_error)
{
    fault_sweep(TL_IO_OP_LIST, "opendir(", "opendir(");
}
