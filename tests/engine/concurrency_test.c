/*
 * concurrency_test.c - deterministic cases behind the concurrency stress run
 * (tests/stress/conc_stress.c, tests/reliability/CONCURRENCY.md):
 *
 * - the mapping rule: a data file a reader has mapped stays readable whole
 *   after vacuum with retention 0 (force) unlinks it (files are immutable,
 *   vacuum only unlinks: LOG-R82), and vacuum refuses a retention under the
 *   1-hour minimum without force (the shortest the stress run uses);
 * - a listing of _delta_log/ taken while writers publish may miss a commit
 *   created during it and show a later one (readdir is not atomic): the
 *   reader must not call that corruption. DISABLED until log.c handles it
 *   (request CONC -> FAULT in /work/notes/requests.md); a real gap is still
 *   corruption (enabled).
 * Each test gets a fresh temp directory.
 */
#include <criterion/criterion.h>

#include "io_int.h"
#include "table_int.h"
#include "ticklake.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[PATH_MAX], g_table[PATH_MAX + 8];

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/tl_conc_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_table, sizeof g_table, "%s/t", g_dir);
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(concurrency, .init = setup, .fini = teardown);

/* A table of (ts timestamp, sym string, v int64) by sym, with n appends of
 * 8 rows each (sym "A"), so n small files in one partition. */
static void make_table(int n)
{
    static const tl_field fields[] = {
        {"ts", TL_TIMESTAMP, 0}, {"sym", TL_STRING, 0}, {"v", TL_INT64, 0}};
    static const char *const sort[] = {"ts"};
    tl_table_spec spec = {.fields = fields, .n_fields = 3, .symbol_column = "sym",
                          .sort_key = sort, .n_sort_key = 1};
    tl_error err;
    cr_assert_eq(tl_table_create(g_table, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(g_table, &t, &err), TL_OK, "%s", err.msg);
    for (int i = 0; i < n; i++) {
        int64_t ts[8], v[8];
        uint32_t off[9] = {0};
        char sym[8];
        for (int k = 0; k < 8; k++) {
            ts[k] = (int64_t)i * 100 + k;
            v[k] = i * 8 + k;
            sym[k] = 'A';
            off[k + 1] = (uint32_t)k + 1;
        }
        tl_coldef defs[3] = {{"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"v", TL_INT64}};
        tl_colvec cols[3] = {{ts, NULL, NULL, NULL},
                             {NULL, NULL, off, (const uint8_t *)sym},
                             {v, NULL, NULL, NULL}};
        tl_batch b = {8, 3, defs, cols};
        tl_append *a;
        tl_append_opts o = {.threads = 1};
        cr_assert_eq(tl_append_begin(t, &o, &a, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
        tl_append_result r;
        cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(r.version, i + 1);
    }
    tl_table_close(t);
}

/* ---- the mapping rule ------------------------------------------------------------ */

Test(concurrency, mapped_files_stay_whole_after_vacuum_with_retention_zero)
{
    make_table(3);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(g_table, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s;
    tl_at at = {.kind = TL_AT_VERSION, .version = 3};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    size_t nf = tl_snapshot_n_files(s);
    cr_assert_eq(nf, 3);
    tl_segment *seg[3];
    char paths[3][PATH_MAX * 2];
    for (size_t i = 0; i < nf; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        snprintf(paths[i], sizeof paths[i], "%s/%s", g_table, fi.path);
        cr_assert_eq(tl_segment_open(paths[i], &seg[i], &err), TL_OK, "%s", err.msg);
    }
    /* a row reader holding the first file, one block read */
    static const char *const cols[] = {"v"};
    tl_reader *r;
    tl_batch b;
    cr_assert_eq(tl_reader_open(s, NULL, cols, 1, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(b.n_rows, 8);
    /* optimize removes the three files, vacuum with retention 0 deletes them */
    tl_optimize_opts oo = {0};
    tl_optimize_result orr;
    cr_assert_eq(tl_table_optimize(t, &oo, &orr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(orr.committed, 1);
    cr_assert_eq(orr.files_removed, 3);
    tl_optimize_result_free(&orr);
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
    tl_table_vacuum_report vr;
    cr_assert_eq(tl_table_vacuum(t, &vo, &vr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(vr.n_files, 3);
    tl_table_vacuum_report_free(&vr);
    struct stat st;
    for (size_t i = 0; i < nf; i++)
        cr_assert_neq(stat(paths[i], &st), 0, "%s deleted", paths[i]);
    /* the mappings outlive the names: every block checksum verifies */
    for (size_t i = 0; i < nf; i++) {
        cr_assert_eq(tl_segment_verify(seg[i], &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_segment_n_rows(seg[i]), 8);
        tl_segment_close(seg[i]);
    }
    /* the reader's next file was not open: gone, a clean TL_ENOTFOUND
     * naming it (the version fell outside a retention of 0) */
    int rc = tl_reader_next(r, &b, &err);
    cr_assert_eq(rc, TL_ENOTFOUND, "%d %s", rc, err.msg);
    cr_assert(strstr(err.msg, ".tls"), "%s", err.msg);
    tl_reader_close(r);
    tl_snapshot_close(s);
    /* the latest version reads whole */
    at = (tl_at){.kind = TL_AT_LATEST};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_reader_open(s, NULL, cols, 1, &r, &err), TL_OK, "%s", err.msg);
    uint64_t rows = 0;
    do {
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        rows += b.n_rows;
    } while (b.n_rows);
    cr_assert_eq(rows, 24);
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

Test(concurrency, vacuum_refuses_a_retention_under_one_hour_without_force)
{
    make_table(1);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(g_table, &t, &err), TL_OK, "%s", err.msg);
    tl_table_vacuum_opts vo = {.retain_hours = 0};
    tl_table_vacuum_report vr;
    memset(&vr, 0, sizeof vr);
    cr_assert_eq(tl_table_vacuum(t, &vo, &vr, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "force"), "%s", err.msg);
    tl_table_vacuum_report_free(&vr);
    vo.retain_hours = 1;
    cr_assert_eq(tl_table_vacuum(t, &vo, &vr, &err), TL_OK, "%s", err.msg);
    tl_table_vacuum_report_free(&vr);
    tl_table_close(t);
}

/* ---- listings taken while commits are published ---------------------------------- */

/* A tl_io whose listings of _delta_log/ leave out one commit name (the
 * first `drops` listings), as readdir can when the file is created during
 * the listing; every other call is the real one. */
static tl_io_ops g_racy_ops;
static tl_io g_racy;
static const char *g_drop;
static int g_drops;

static int racy_listdir(void *ctx, int dirfd, const char *path, char ***names, size_t *n)
{
    int r = tl_io_default()->ops->listdir(ctx, dirfd, path, names, n);
    if (r < 0 || g_drops <= 0)
        return r;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], g_drop) == 0) {
            memmove(&(*names)[i], &(*names)[i + 1], (*n - i - 1) * sizeof **names);
            (*n)--;
            g_drops--;
            break;
        }
    return r;
}

static const tl_io *racy_io(const char *drop, int drops)
{
    g_racy_ops = *tl_io_default()->ops;
    g_racy_ops.listdir = racy_listdir;
    g_racy = (tl_io){&g_racy_ops, tl_io_default()->ctx};
    g_drop = drop;
    g_drops = drops;
    return &g_racy;
}

/* A listing of _delta_log/ racing a publisher can miss version N yet show
 * N + 1 (seen live by the stress run: tl_table_versions, tl_snapshot_open,
 * tl_table_vacuum failed with "version 2 (...) is missing but version 3
 * exists" on a healthy table). log.c now looks the gap up name by name
 * before calling it corruption (LOG-C4). */
Test(concurrency, listing_that_misses_a_commit_created_during_it_is_not_corruption)
{
    make_table(3);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open_io(g_table, racy_io("00000000000000000002.json", 1), NULL, NULL,
                                  &t, &err),
                 TL_OK, "%s", err.msg);
    int64_t oldest, latest;
    int rc = tl_table_versions(t, &oldest, &latest, &err);
    cr_assert_eq(rc, TL_OK, "%d %s", rc, err.msg);
    cr_assert_eq(latest, 3);
    g_drops = 1;
    tl_snapshot *s;
    tl_at at = {.kind = TL_AT_LATEST};
    rc = tl_snapshot_open(t, &at, &s, &err);
    cr_assert_eq(rc, TL_OK, "%d %s", rc, err.msg);
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    cr_assert_eq(info.version, 3);
    cr_assert_eq(info.n_rows, 24);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* A commit that really is gone stays corruption, named. */
Test(concurrency, a_real_gap_in_the_log_is_corruption)
{
    make_table(3);
    char a[PATH_MAX * 2], b[PATH_MAX * 2];
    snprintf(a, sizeof a, "%s/_delta_log/00000000000000000002.json", g_table);
    snprintf(b, sizeof b, "%s/moved.json", g_dir);
    cr_assert_eq(rename(a, b), 0);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(g_table, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s;
    tl_at at = {.kind = TL_AT_LATEST};
    int rc = tl_snapshot_open(t, &at, &s, &err);
    cr_assert_eq(rc, TL_ECORRUPT, "%d %s", rc, err.msg);
    cr_assert(strstr(err.msg, "00000000000000000002.json"), "%s", err.msg);
    tl_table_close(t);
}
