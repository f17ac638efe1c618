/*
 * resource_test.c - no file descriptor and no heap block outlives a failed
 * public call (issue 7, "Resources"; tests/reliability/RESOURCES.md).
 *
 * Each test warms up (one successful call of the same kind, so lazily made
 * process-wide state is not counted), counts the entries of /proc/self/fd,
 * drives many error paths of the public API, and asserts that the count is
 * unchanged afterwards and that no descriptor was left open on a path of
 * the test's temporary directory. Error paths covered: missing and non-table
 * paths, versions that do not exist, corrupt data files (bit flip inside a
 * block, truncation, garbage footer) read by every I/O mode (mmap, pread,
 * io_uring) through scans, ordered scans, aggregates, backtests, exports and
 * the row reader; the ../shared/parquet-testing/bad corpus (skipped when
 * absent) and truncated or bit-flipped copies of a good multi-row-group file
 * (decoder thread on and off) through tl_import_parquet; a failed I/O call
 * at every step (fault injector, engine/src/io_int.h) of an append commit,
 * a checkpoint, an optimize, a vacuum and an export; bad CSV appends; bad
 * predicates, aggregate lists and columns.
 *
 * Heap: in the ASan build (-DTL_SANITIZE=ON) every test ends with
 * __lsan_do_recoverable_leak_check(), which must find nothing. LeakSanitizer
 * also runs when each Criterion worker exits, but Criterion 2.4 reports the
 * test as passed whatever that check finds (the report only goes to
 * stderr), so the check has to happen inside the test.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "io_int.h"
#include "table_int.h"
#include "ticklake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

#define CORPUS_BAD TL_SOURCE_DIR "/../shared/parquet-testing/bad"

static char dir[256];
static char tpath[512];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_resource.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(resource, .init = setup, .fini = teardown);

/* The end of every test: in the ASan build, no heap block the test made is
 * unreachable. Called from the test body: Criterion 2.4 ignores a failed
 * assertion in .fini and LeakSanitizer's exit status after the test
 * reported (tests/reliability/RESOURCES.md). */
static void leak_check(void)
{
#ifdef HAVE_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks (see stderr)");
#endif
}

/* ---- helpers ------------------------------------------------------------------------ */

static char *pathf(const char *fmt, ...) TL_PRINTF(1, 2);
static char *pathf(const char *fmt, ...)
{
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 1024, fmt, ap);
    va_end(ap);
    return b;
}

/* Descriptors of this process the engine could have opened (the listing's
 * own fd not counted). Sockets, pipes, eventfds and epoll instances are not
 * counted: Criterion's worker talks to its runner through them (and may
 * open or close them on its own threads), and neither the engine nor the
 * format library creates any (no socket, pipe, eventfd or epoll call in
 * engine/ or format/). If targets is given, "fd -> target" of each counted
 * descriptor, ';'-separated, cut to cap. */
static int fd_count_list(char *targets, size_t cap)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d, "opendir(/proc/self/fd): %s", strerror(errno));
    int n = 0;
    size_t o = 0;
    if (cap)
        targets[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        char link[PATH_MAX];
        ssize_t k = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
        link[k > 0 ? k : 0] = '\0';
        if (strncmp(link, "socket:", 7) == 0 || strncmp(link, "pipe:", 5) == 0 ||
            strcmp(link, "anon_inode:[eventfd]") == 0 || strcmp(link, "anon_inode:[eventpoll]") == 0)
            continue;
        n++;
        if (cap && o + 1 < cap) {
            int w = snprintf(targets + o, cap - o, "%s%s -> %s", o ? "; " : "", e->d_name, link);
            if (w > 0)
                o = o + (size_t)w < cap ? o + (size_t)w : cap - 1;
        }
    }
    closedir(d);
    return n;
}

static int fd_count(void)
{
    return fd_count_list(NULL, 0);
}

/* Descriptors open on a path under the test directory (0 expected between
 * calls: nothing of ours may stay open). The first such path in *first. */
static int fds_under_dir(char *first, size_t cap)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    size_t dl = strlen(dir);
    if (cap)
        first[0] = '\0';
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char link[PATH_MAX];
        ssize_t k = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
        if (k <= 0)
            continue;
        link[k] = '\0';
        if (strncmp(link, dir, dl) == 0) {
            if (!n && cap) { /* "fd N -> path", cut to cap */
                size_t o = 0;
                for (const char *q = "fd "; *q && o + 1 < cap; q++)
                    first[o++] = *q;
                for (const char *q = e->d_name; *q && o + 1 < cap; q++)
                    first[o++] = *q;
                for (const char *q = " -> "; *q && o + 1 < cap; q++)
                    first[o++] = *q;
                for (const char *q = link; *q && o + 1 < cap; q++)
                    first[o++] = *q;
                first[o] = '\0';
            }
            n++;
        }
    }
    closedir(d);
    return n;
}

/* What is open before the error paths run: all descriptors, and those on
 * paths of the test directory (an open table's root handle). */
typedef struct fd_base {
    int n, under;
} fd_base;

static fd_base fd_base_take(void)
{
    fd_base b = {fd_count(), fds_under_dir(NULL, 0)};
    return b;
}

#define ASSERT_NO_FD_LEAK(base, what)                                                      \
    do {                                                                                   \
        char first_[PATH_MAX + 32];                                                        \
        int under_ = fds_under_dir(first_, sizeof first_);                                 \
        cr_assert_eq(under_, (base).under,                                                 \
                     "%s: %d descriptor(s) open in the test directory, %d before (%s)",    \
                     (what), under_, (base).under, first_);                                \
        char list_[4096];                                                                  \
        int now_ = fd_count_list(list_, sizeof list_);                                     \
        cr_assert_eq(now_, (base).n, "%s: %d descriptors open, %d before (now: %s)", (what), \
                     now_, (base).n, list_);                                               \
    } while (0)

static void append_gen(tl_table *t, uint64_t seed, uint32_t days, uint64_t rows_per_day,
                       uint64_t segment_rows)
{
    tl_gen_opts o;
    tl_gen_opts_default(&o);
    o.seed = seed;
    o.days = days;
    o.rows_per_day = rows_per_day;
    tlt_append_gen(t, &o, &(tl_append_opts){.segment_rows = segment_rows, .threads = 2}, 4000, NULL);
}

/* The ticks table at path with two appends (two files per partition). */
static void make_ticks(const char *path, uint64_t rows_per_day, uint32_t days)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err = {0};
    cr_assert_eq(tl_table_create(path, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    append_gen(t, 7, days, rows_per_day, 0);
    append_gen(t, 8, days, rows_per_day, 0);
    tl_table_close(t);
}

static tl_snapshot *snap_latest(tl_table *t)
{
    tl_error err = {0};
    tl_snapshot *s = NULL;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    return s;
}

static int count_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    (void)err;
    *(uint64_t *)ctx += b->n_sel;
    return 0;
}

/* Export the latest version of table path as one Parquet file (small row
 * groups, so that an import runs its decoder thread). */
static void export_single(const char *path, const char *dest, uint64_t rg_rows)
{
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = snap_latest(t);
    tl_export_opts eo = {.layout = TL_EXPORT_SINGLE, .row_group_rows = rg_rows, .threads = 2};
    cr_assert_eq(tl_export_parquet(s, dest, &eo, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* ---- missing tables and versions ------------------------------------------------------- */

Test(resource, missing_tables_and_versions_leave_no_descriptor)
{
    make_ticks(tpath, 300, 1);
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(snap_latest(t));
    fd_base base = fd_base_take();
    tlt_spit(pathf("%s/plainfile", dir), "x", 1);
    cr_assert_eq(mkdir(pathf("%s/emptydir", dir), 0755), 0);
    for (int rep = 0; rep < 20; rep++) {
        tl_table *u = NULL;
        cr_assert_eq(tl_table_open(pathf("%s/nope", dir), &u, &err), TL_ENOTFOUND);
        cr_assert_eq(tl_table_open(pathf("%s/emptydir", dir), &u, &err), TL_ENOTFOUND);
        cr_assert_neq(tl_table_open(pathf("%s/plainfile", dir), &u, &err), TL_OK);
        tl_table_spec spec;
        tl_ticks_table_spec(&spec);
        cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_ECONFLICT, "%s", err.msg);
        tl_snapshot *s = NULL;
        tl_at at = {.kind = TL_AT_VERSION, .version = 99};
        cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_ENOTFOUND, "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "99"), "%s", err.msg);
        tl_at ats = {.kind = TL_AT_TIMESTAMP, .ts_ms = 1};
        cr_assert_eq(tl_snapshot_open(t, &ats, &s, &err), TL_ENOTFOUND, "%s", err.msg);
        int is_tag = 0;
        cr_assert_neq(tl_at_parse(t, "no-such-tag", &at, &is_tag, &err), TL_OK);
        tl_import_opts io = {0};
        const char *in = pathf("%s/missing.parquet", dir);
        cr_assert_neq(tl_import_parquet(tpath, &in, 1, &io, NULL, &err), TL_OK);
        cr_assert_not_null(strstr(err.msg, "missing.parquet"), "%s", err.msg);
        cr_assert_neq(tl_table_append_csv(t, pathf("%s/missing.csv", dir), NULL, NULL, &err),
                      TL_OK);
        cr_assert_not_null(strstr(err.msg, "missing.csv"), "%s", err.msg);
        tl_segment *seg = NULL;
        cr_assert_neq(tl_segment_open(pathf("%s/plainfile", dir), &seg, &err), TL_OK);
    }
    ASSERT_NO_FD_LEAK(base, "missing tables");
    tl_table_close(t);
    leak_check();
}

/* ---- corrupt data files ------------------------------------------------------------------- */

enum { CORRUPT_FLIP, CORRUPT_TRUNCATE, CORRUPT_FOOTER };

/* Damage the first data file of the latest snapshot of tpath; its path. */
static char *damage_first_file(int how)
{
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = snap_latest(t);
    cr_assert_gt(tl_snapshot_n_files(s), 0);
    tl_file_info fi;
    tl_snapshot_file(s, 0, &fi);
    char *p = pathf("%s/%s", tpath, fi.path);
    tl_snapshot_close(s);
    tl_table_close(t);
    size_t len = 0;
    uint8_t *b = tlt_slurp(p, &len);
    cr_assert_gt(len, 256);
    switch (how) {
    case CORRUPT_FLIP: /* inside the data blocks: a checksum mismatch */
        for (size_t i = len / 4; i < len / 4 + 64; i++)
            b[i] ^= 0x5A;
        break;
    case CORRUPT_TRUNCATE: /* the size differs from the add action's */
        len -= 17;
        break;
    case CORRUPT_FOOTER: /* same size, garbage trailer and footer end */
        memset(b + len - 48, 0xEE, 48);
        break;
    }
    tlt_spit(p, b, len);
    free(b);
    return p;
}

/* Every read path over the damaged table; each must fail cleanly. */
static void read_paths_fail(tl_table *t, int how, int *n_fail)
{
    tl_error err = {0};
    tl_snapshot *s = snap_latest(t);
    static const int modes[] = {TL_IO_MMAP, TL_IO_PREAD, TL_IO_URING};
    for (int m = 0; m < 3; m++)
        for (int ordered = 0; ordered < 2; ordered++)
            for (uint32_t th = 1; th <= 2; th++) {
                tl_scan_opts so = {.io = modes[m], .ordered = ordered, .threads = th};
                uint64_t rows = 0;
                tl_scan_cb cb = {.block = count_block, .ctx = &rows};
                int rc = tl_scan_run(s, &so, &cb, NULL, &err);
                cr_assert_neq(rc, TL_OK, "scan io %d ordered %d read a damaged file", modes[m],
                              ordered);
                cr_assert_neq(err.msg[0], 0);
                (*n_fail)++;
                /* max() of every column: reads all of them, like the scan */
                tl_snapshot_info in;
                tl_snapshot_get_info(s, &in);
                tl_agg_spec sp[64];
                cr_assert_leq(in.n_fields, 64);
                for (uint32_t c = 0; c < in.n_fields; c++)
                    sp[c] = (tl_agg_spec){TL_AGG_MAX, in.fields[c].name};
                tl_agg_result ar = {0};
                cr_assert_neq(tl_scan_aggregate(s, &so, sp, in.n_fields, TL_GROUP_SYMBOL, &ar,
                                                &err), TL_OK);
                tl_agg_result_free(&ar);
                (*n_fail)++;
                tl_backtest_opts bo;
                tl_backtest_opts_default(&bo);
                bo.io = modes[m];
                bo.threads = th;
                bo.max_spread = 1; /* read every column the kernel needs */
                tl_backtest_result br = {0};
                int brc = tl_backtest_run(s, &bo, &br, &err);
                tl_backtest_result_free(&br);
                /* a flipped block may lie in a column the backtest does not read */
                if (how != CORRUPT_FLIP)
                    cr_assert_neq(brc, TL_OK, "backtest io %d read a damaged file", modes[m]);
                *n_fail += brc != TL_OK;
            }
    tl_export_opts eo = {.threads = 2};
    const char *dests[2] = {pathf("%s/exp_part", dir), pathf("%s/exp_single.parquet", dir)};
    for (int l = 0; l < 2; l++) {
        eo.layout = l ? TL_EXPORT_SINGLE : TL_EXPORT_PARTITIONED;
        cr_assert_neq(tl_export_parquet(s, dests[l], &eo, NULL, &err), TL_OK);
        struct stat st;
        cr_assert_neq(stat(dests[l], &st), 0, "%s left behind", dests[l]);
        (*n_fail)++;
    }
    tl_reader *r = NULL;
    int rc = tl_reader_open(s, NULL, NULL, 0, &r, &err);
    if (rc == TL_OK) {
        tl_batch b;
        do
            rc = tl_reader_next(r, &b, &err);
        while (rc == TL_OK && b.n_rows);
        tl_reader_close(r);
    }
    cr_assert_neq(rc, TL_OK, "the row reader read a damaged file");
    (*n_fail)++;
    tl_snapshot_close(s);
}

static void corrupt_case(int how)
{
    make_ticks(tpath, 2000, 2);
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    { /* warm up every path once on the good table */
        tl_snapshot *s = snap_latest(t);
        static const int modes[] = {TL_IO_MMAP, TL_IO_PREAD, TL_IO_URING};
        for (int m = 0; m < 3; m++) {
            tl_scan_opts so = {.io = modes[m], .threads = 2};
            uint64_t rows = 0;
            tl_scan_cb cb = {.block = count_block, .ctx = &rows};
            cr_assert_eq(tl_scan_run(s, &so, &cb, NULL, &err), TL_OK, "%s", err.msg);
            cr_assert_eq(rows, 16000); /* 2 appends x 2 symbols x 2 days x 2000 */
        }
        tl_snapshot_close(s);
    }
    fd_base base = fd_base_take();
    char *p = damage_first_file(how);
    int n_fail = 0;
    for (int rep = 0; rep < 2; rep++)
        read_paths_fail(t, how, &n_fail);
    tl_segment *seg = NULL;
    int rc = tl_segment_open(p, &seg, &err);
    if (rc == TL_OK) {
        rc = tl_segment_verify(seg, &err);
        tl_segment_close(seg);
    }
    cr_assert_neq(rc, TL_OK, "tl_segment_open/verify accepted a damaged file");
    ASSERT_NO_FD_LEAK(base, "corrupt data file");
    cr_assert_gt(n_fail, 50);
    tl_table_close(t);
}

Test(resource, bit_flip_in_a_block_leaves_no_descriptor)
{
    corrupt_case(CORRUPT_FLIP);
    leak_check();
}

Test(resource, truncated_data_file_leaves_no_descriptor)
{
    corrupt_case(CORRUPT_TRUNCATE);
    leak_check();
}

Test(resource, garbage_footer_leaves_no_descriptor)
{
    corrupt_case(CORRUPT_FOOTER);
    leak_check();
}

/* ---- bad Parquet inputs ------------------------------------------------------------------------ */

Test(resource, bad_parquet_corpus_leaves_no_descriptor)
{
    DIR *d = opendir(CORPUS_BAD);
    if (!d)
        cr_skip_test("%s absent", CORPUS_BAD);
    make_ticks(tpath, 200, 1);
    tl_error err = {0};
    tl_import_opts io = {0};
    fd_base base = fd_base_take();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 9 || strcmp(e->d_name + l - 8, ".parquet") != 0)
            continue;
        const char *in = pathf("%s/%s", CORPUS_BAD, e->d_name);
        for (int create = 0; create < 2; create++)
            for (uint32_t th = 1; th <= 2; th++) {
                io.create = create;
                io.append.threads = th;
                const char *target = create ? pathf("%s/created", dir) : tpath;
                int rc = tl_import_parquet(target, &in, 1, &io, NULL, &err);
                cr_assert_neq(rc, TL_OK, "%s imported", e->d_name);
                cr_assert_not_null(strstr(err.msg, e->d_name), "%s: %s", e->d_name, err.msg);
                struct stat st;
                cr_assert_neq(stat(pathf("%s/created", dir), &st), 0,
                              "%s: a failed --create import left the table", e->d_name);
            }
        n++;
    }
    closedir(d);
    base.n -= 1; /* the corpus directory handle counted in base is closed now */
    ASSERT_NO_FD_LEAK(base, "bad Parquet corpus");
    cr_assert_gt(n, 5);
    leak_check();
}

/* A good multi-row-group file cut at many points and flipped at many
 * places: every import fails or succeeds cleanly, with the decoder thread
 * (threads 2) and without it (threads 1). */
Test(resource, damaged_copies_of_a_good_parquet_file_leave_no_descriptor)
{
    char *src = pathf("%s/src", dir);
    make_ticks(src, 3000, 1);
    char good[600];
    snprintf(good, sizeof good, "%s/good.parquet", dir);
    export_single(src, good, 1000); /* 12 row groups */
    size_t len = 0;
    uint8_t *bytes = tlt_slurp(good, &len);
    tl_error err = {0};
    tl_import_opts io = {.create = 1};
    const char *in = good;
    cr_assert_eq(tl_import_parquet(pathf("%s/warm", dir), &in, 1, &io, NULL, &err), TL_OK, "%s",
                 err.msg);
    fd_base base = fd_base_take();
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.parquet", dir);
    in = bad;
    int n_err = 0, n_ok = 0;
    for (int k = 0; k < 48; k++) {
        uint8_t *b = malloc(len);
        cr_assert_not_null(b);
        memcpy(b, bytes, len);
        size_t blen = len;
        if (k < 24) {
            blen = (size_t)((double)len * (k + 0.5) / 24.0); /* truncated */
        } else {
            size_t at = (size_t)((double)(len - 64) * (k - 24 + 0.5) / 24.0);
            for (size_t i = at; i < at + 16; i++)
                b[i] ^= 0xA5;
        }
        tlt_spit(bad, b, blen);
        free(b);
        for (uint32_t th = 1; th <= 2; th++) {
            io.append.threads = th;
            io.create = 1;
            char *target = pathf("%s/imp_%d_%u", dir, k, th);
            int rc = tl_import_parquet(target, &in, 1, &io, NULL, &err);
            if (rc == TL_OK) {
                n_ok++;
            } else {
                n_err++;
                cr_assert_not_null(strstr(err.msg, "bad.parquet"), "%s", err.msg);
                struct stat st;
                cr_assert_neq(stat(target, &st), 0, "a failed import left %s", target);
            }
        }
    }
    free(bytes);
    ASSERT_NO_FD_LEAK(base, "damaged Parquet copies");
    cr_assert_gt(n_err, 40, "%d errors, %d imports succeeded", n_err, n_ok);
    leak_check();
}

/* Imports that fail after the data started flowing: a value that does not
 * fit the table's column (conversion check) and an unknown column, into an
 * existing table, both with and without the decoder thread. */
Test(resource, failed_imports_into_a_table_leave_no_descriptor)
{
    char *src = pathf("%s/src", dir);
    make_ticks(src, 2000, 1);
    char good[600];
    snprintf(good, sizeof good, "%s/good.parquet", dir);
    export_single(src, good, 500);
    /* a table whose volume column is int8: every volume > 127 is inexact */
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_field *f = malloc(spec.n_fields * sizeof *f);
    cr_assert_not_null(f);
    memcpy(f, spec.fields, spec.n_fields * sizeof *f);
    for (uint32_t i = 0; i < spec.n_fields; i++)
        if (strcmp(f[i].name, "volume") == 0)
            f[i].type = TL_INT8;
    spec.fields = f;
    tl_error err = {0};
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    free(f);
    const char *in = good;
    tl_import_opts io = {0};
    tl_import_map drop = {"volume", ""};
    io.map = &drop; /* warm up: volume dropped, so the rest imports */
    io.n_map = 1;
    int rc = tl_import_parquet(tpath, &in, 1, &io, NULL, &err);
    (void)rc; /* volume is not nullable: either way, the calls below are what count */
    fd_base base = fd_base_take();
    for (int rep = 0; rep < 10; rep++)
        for (uint32_t th = 1; th <= 2; th++) {
            io = (tl_import_opts){0};
            io.append.threads = th;
            cr_assert_neq(tl_import_parquet(tpath, &in, 1, &io, NULL, &err), TL_OK);
            cr_assert_not_null(strstr(err.msg, "volume"), "%s", err.msg);
            tl_import_map ren = {"price", "no_such_column"};
            io.map = &ren;
            io.n_map = 1;
            cr_assert_neq(tl_import_parquet(tpath, &in, 1, &io, NULL, &err), TL_OK);
            cr_assert_not_null(strstr(err.msg, "no_such_column"), "%s", err.msg);
        }
    ASSERT_NO_FD_LEAK(base, "failed imports");
    int64_t latest = -1;
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_versions(t, NULL, &latest, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    cr_assert_leq(latest, 1, "a failed import committed");
    leak_check();
}

/* ---- failed commits, checkpoints, optimize, vacuum and exports (fault injector) ------------- */

typedef enum { OP_APPEND, OP_CHECKPOINT, OP_OPTIMIZE, OP_VACUUM, OP_EXPORT } fault_op;

static int run_op(fault_op op, tl_table *t, int k, tl_error *err)
{
    switch (op) {
    case OP_APPEND: {
        tl_gen_opts o;
        tl_gen_opts_default(&o);
        o.seed = 100 + (uint64_t)k;
        o.days = 1;
        o.rows_per_day = 300;
        tl_append_opts ao = {.threads = 2};
        tl_append *a = NULL;
        int rc = tl_append_begin(t, &ao, &a, err);
        if (rc)
            return rc;
        tl_gen *g = NULL;
        cr_assert_eq(tl_gen_open(&o, &g, NULL), TL_OK);
        tl_batch b;
        int done = 0;
        cr_assert_eq(tl_gen_next(g, 100000, &b, &done, NULL), TL_OK);
        rc = tl_append_batch(a, &b, err);
        tl_gen_close(g);
        if (rc) {
            tl_append_abort(a);
            return rc;
        }
        return tl_append_commit(a, NULL, err);
    }
    case OP_CHECKPOINT:
        return tl_table_checkpoint(t, NULL, err);
    case OP_OPTIMIZE: {
        tl_optimize_result res;
        memset(&res, 0, sizeof res);
        int rc = tl_table_optimize(t, NULL, &res, err);
        tl_optimize_result_free(&res);
        return rc;
    }
    case OP_VACUUM: {
        tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
        tl_table_vacuum_report rep;
        memset(&rep, 0, sizeof rep);
        int rc = tl_table_vacuum(t, &vo, &rep, err);
        tl_table_vacuum_report_free(&rep);
        return rc;
    }
    case OP_EXPORT: {
        tl_snapshot *s = NULL;
        int rc = tl_snapshot_open(t, NULL, &s, err);
        if (rc)
            return rc;
        tl_export_opts eo = {.layout = (k & 1) ? TL_EXPORT_SINGLE : TL_EXPORT_PARTITIONED,
                             .threads = 2};
        char *dest = pathf("%s/export_%d", dir, k);
        rc = tl_export_parquet(s, dest, &eo, NULL, err);
        tl_snapshot_close(s);
        return rc;
    }
    }
    return TL_EINVAL;
}

/* Fail the k-th I/O call of op, for k = 1, 2, ... until op makes fewer than
 * k calls. Each k runs on a fresh copy of one template table (so op makes
 * the same calls every time) through a fresh table handle (a failed fsync
 * stops the old one's writes). Returns how many runs op failed. */
static int fault_sweep(fault_op op, int err_no, int max_k)
{
    char tmpl[300], work[300], cmd[1000];
    snprintf(tmpl, sizeof tmpl, "%s/template", dir);
    snprintf(work, sizeof work, "%s/w", dir);
    make_ticks(tmpl, 200, 2);
    tl_error err = {0};
    if (op == OP_OPTIMIZE || op == OP_VACUUM) { /* small files to compact; tombstones */
        tl_table *t = NULL;
        cr_assert_eq(tl_table_open(tmpl, &t, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(run_op(OP_APPEND, t, 0, &err), TL_OK, "%s", err.msg);
        if (op == OP_VACUUM)
            cr_assert_eq(run_op(OP_OPTIMIZE, t, 0, &err), TL_OK, "%s", err.msg);
        tl_table_close(t);
    }
    tl_io_fault *fi = NULL;
    cr_assert_eq(tl_io_fault_open(NULL, &fi, &err), TL_OK, "%s", err.msg);
    fd_base base = {0, 0};
    int failed = 0, k;
    uint64_t calls = 0;
    for (k = 0; k <= max_k; k++) { /* k = 0: the warm-up, no fault */
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", work, tmpl, work);
        cr_assert_eq(system(cmd), 0);
        tl_table *t = NULL;
        cr_assert_eq(tl_table_open_io(work, tl_io_fault_io(fi), NULL, NULL, &t, &err), TL_OK,
                     "%s", err.msg);
        uint64_t before = tl_io_fault_count(fi, TL_IO_OP_ANY);
        tl_io_fault_clear_rules(fi);
        if (k) {
            tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = (uint64_t)k,
                                     .action = TL_IO_FAULT_FAIL, .err_no = err_no};
            cr_assert_eq(tl_io_fault_add(fi, &rule, &err), TL_OK, "%s", err.msg);
        }
        int rc = run_op(op, t, k, &err);
        tl_io_fault_clear_rules(fi);
        calls = tl_io_fault_count(fi, TL_IO_OP_ANY) - before;
        tl_table_close(t);
        if (k == 0) {
            cr_assert_eq(rc, TL_OK, "%s", err.msg);
            base = fd_base_take();
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "op %d, call %d of %" PRIu64 " failed", (int)op, k, calls);
        ASSERT_NO_FD_LEAK(base, what);
        if (rc != TL_OK) {
            failed++;
            cr_assert_neq(err.msg[0], 0);
        }
        if (calls < (uint64_t)k)
            break; /* the rule never fired: every call has been failed once */
    }
    tl_io_fault_close(fi);
    cr_assert_leq(k, max_k, "op %d: still %" PRIu64 " calls at k = %d", (int)op, calls, max_k);
    cr_assert_gt(failed, 3, "op %d: only %d failures over %d calls", (int)op, failed, k);
    fprintf(stderr, "resource: op %d, errno %d: %d I/O calls, each failed once: %d failures, "
            "no descriptor left\n", (int)op, err_no, k - 1, failed);
    return failed;
}

Test(resource, failed_io_at_every_call_of_an_append_commit, .timeout = 600)
{
    fault_sweep(OP_APPEND, EIO, 2000);
    leak_check();
}

Test(resource, enospc_at_every_call_of_an_append_commit, .timeout = 600)
{
    fault_sweep(OP_APPEND, ENOSPC, 2000);
    leak_check();
}

Test(resource, failed_io_at_every_call_of_a_checkpoint, .timeout = 600)
{
    fault_sweep(OP_CHECKPOINT, EIO, 2000);
    leak_check();
}

Test(resource, failed_io_at_every_call_of_an_optimize, .timeout = 600)
{
    fault_sweep(OP_OPTIMIZE, EIO, 3000);
    leak_check();
}

Test(resource, failed_io_at_every_call_of_a_vacuum, .timeout = 600)
{
    fault_sweep(OP_VACUUM, EIO, 3000);
    leak_check();
}

Test(resource, failed_io_at_every_call_of_an_export, .timeout = 600)
{
    fault_sweep(OP_EXPORT, EIO, 3000);
    leak_check();
}

/* ---- bad CSV appends ---------------------------------------------------------------------------- */

Test(resource, bad_csv_appends_leave_no_descriptor)
{
    make_ticks(tpath, 200, 1);
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    /* a good CSV from the generator, then broken copies */
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.seed = 3;
    go.days = 1;
    go.rows_per_day = 500;
    char *good = pathf("%s/good.csv", dir);
    char goodp[600];
    snprintf(goodp, sizeof goodp, "%s", good);
    cr_assert_eq(tl_gen_write_csv(&go, goodp, NULL, NULL, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_append_csv(t, goodp, NULL, NULL, &err), TL_OK, "%s", err.msg);
    size_t len = 0;
    char *text = tlt_slurp(goodp, &len);
    fd_base base = fd_base_take();
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    int n_err = 0;
    for (int k = 0; k < 40; k++) {
        char *b = malloc(len + 64);
        cr_assert_not_null(b);
        memcpy(b, text, len);
        size_t blen = len;
        size_t at = (size_t)((double)len * (k + 0.5) / 40.0);
        if (k % 4 == 0)
            blen = at; /* cut mid-row */
        else if (k % 4 == 1)
            b[at] = 'Z'; /* a letter in some field */
        else if (k % 4 == 2)
            b[at] = ','; /* one field too many */
        else
            b[at] = '\"'; /* an unterminated quote */
        tlt_spit(bad, b, blen);
        free(b);
        tl_append_opts ao = {.threads = (uint32_t)(1 + (k & 1))};
        int rc = tl_table_append_csv(t, bad, &ao, NULL, &err);
        if (rc != TL_OK) {
            n_err++;
            cr_assert_not_null(strstr(err.msg, "bad.csv"), "%s", err.msg);
        }
    }
    free(text);
    ASSERT_NO_FD_LEAK(base, "bad CSV appends");
    cr_assert_gt(n_err, 20);
    tl_table_close(t);
    leak_check();
}

/* ---- bad predicates, aggregates and columns ------------------------------------------------------ */

Test(resource, bad_where_and_columns_leave_no_descriptor)
{
    make_ticks(tpath, 500, 1);
    tl_error err = {0};
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s = snap_latest(t);
    {
        tl_scan_opts so = {.threads = 2, .where = "price > 0"};
        uint64_t rows = 0;
        tl_scan_cb cb = {.block = count_block, .ctx = &rows};
        cr_assert_eq(tl_scan_run(s, &so, &cb, NULL, &err), TL_OK, "%s", err.msg);
    }
    fd_base base = fd_base_take();
    static const char *const wheres[] = {
        "price >",       "price > 'abc'",  "nope = 1",        "price > 1 or price < 2",
        "(price > 1",    "strike IN ()",   "opt_type = 5",    "price BETWEEN 1",
        "timestamp > x", "symbol = 'unterminated", "price > 1 and", "\x01\x02",
    };
    static const char *const cols_bad[] = {"price", "no_such_col"};
    for (size_t i = 0; i < sizeof wheres / sizeof *wheres; i++)
        for (int m = 1; m <= 3; m++) {
            tl_scan_opts so = {.threads = 2, .where = wheres[i], .io = m};
            uint64_t rows = 0;
            tl_scan_cb cb = {.block = count_block, .ctx = &rows};
            cr_assert_eq(tl_scan_run(s, &so, &cb, NULL, &err), TL_EINVAL, "'%s' accepted",
                         wheres[i]);
            tl_scan_stats st;
            cr_assert_eq(tl_scan_explain(s, &so, &st, &err), TL_EINVAL);
            int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
            cr_assert_geq(devnull, 0);
            cr_assert_eq(tl_scan_print(s, &so, TL_SCAN_CSV, 0, devnull, NULL, &err), TL_EINVAL);
            close(devnull);
            tl_export_opts eo = {.where = wheres[i], .threads = 2};
            cr_assert_eq(tl_export_parquet(s, pathf("%s/exp", dir), &eo, NULL, &err), TL_EINVAL);
            tl_agg_spec sp = {TL_AGG_SUM, "price"};
            tl_agg_result ar = {0};
            cr_assert_eq(tl_scan_aggregate(s, &so, &sp, 1, 0, &ar, &err), TL_EINVAL);
            tl_agg_result_free(&ar);
        }
    static const char *const aggs[] = {"sum(", "median(price)", "count,,", "sum(price) x", ""};
    for (size_t i = 0; i < sizeof aggs / sizeof *aggs; i++) {
        tl_agg_spec *sp = NULL;
        uint32_t n = 0;
        cr_assert_neq(tl_agg_parse(aggs[i], &sp, &n, &err), TL_OK, "'%s' accepted", aggs[i]);
        tl_agg_specs_free(sp, n);
    }
    {
        tl_agg_spec sp[2] = {{TL_AGG_SUM, "no_such_col"}, {TL_AGG_SUM, "opt_type"}};
        for (int i = 0; i < 2; i++) {
            tl_scan_opts so = {.threads = 2};
            tl_agg_result ar = {0};
            cr_assert_neq(tl_scan_aggregate(s, &so, &sp[i], 1, 0, &ar, &err), TL_OK);
            tl_agg_result_free(&ar);
        }
        tl_scan_opts so = {.threads = 2, .columns = cols_bad, .n_columns = 2};
        uint64_t rows = 0;
        tl_scan_cb cb = {.block = count_block, .ctx = &rows};
        cr_assert_eq(tl_scan_run(s, &so, &cb, NULL, &err), TL_EINVAL);
        cr_assert_not_null(strstr(err.msg, "no_such_col"), "%s", err.msg);
        tl_export_opts eo = {.columns = cols_bad, .n_columns = 2};
        cr_assert_neq(tl_export_parquet(s, pathf("%s/exp", dir), &eo, NULL, &err), TL_OK);
        tl_backtest_opts bo;
        tl_backtest_opts_default(&bo);
        bo.price_col = "no_such_col";
        tl_backtest_result br = {0};
        cr_assert_eq(tl_backtest_run(s, &bo, &br, &err), TL_EINVAL);
        tl_backtest_result_free(&br);
        bo.price_col = "opt_type"; /* not numeric */
        cr_assert_eq(tl_backtest_run(s, &bo, &br, &err), TL_EINVAL);
        tl_backtest_result_free(&br);
        tl_reader *r = NULL;
        cr_assert_neq(tl_reader_open(s, NULL, cols_bad, 2, &r, &err), TL_OK);
    }
    ASSERT_NO_FD_LEAK(base, "bad predicates and columns");
    tl_snapshot_close(s);
    tl_table_close(t);
    leak_check();
}
