/*
 * fsck_test.c - tl_table_verify (engine/src/fsck.c; spec/LOG.md section 12,
 * LOG-V1 .. LOG-V6): a clean table passes, with its counts; and each kind
 * of damage is found and named: a flipped byte in a data block (file,
 * column, block, byte offset), a truncated data file, a missing data file,
 * a row count that differs from the add, a missing commit in the middle, a
 * corrupt checkpoint, a damaged tag and a tag of an unreachable version;
 * damage in a tagged version's files; --version, --all-versions (vacuumed
 * files are not damage), the progress callback, and several damages at once.
 */
#include <criterion/criterion.h>

#include "checkpoint_int.h"
#include "log_int.h"
#include "table_int.h"
#include "ticklake.h"
#include "tl_format.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], tpath[300];
static int64_t now_ms = INT64_C(4000000000000);

static int64_t clock_fn(void *arg)
{
    return *(int64_t *)arg;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_fsck.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
    now_ms = INT64_C(4000000000000);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(fsck, .init = setup, .fini = teardown);

static const tl_field fields[] = {
    {"symbol", TL_STRING, 0}, {"timestamp", TL_TIMESTAMP, 0}, {"price", TL_FLOAT64, 1}};

static tl_table *table;

static void append_rows(int n, double base)
{
    char csv[400];
    snprintf(csv, sizeof csv, "%s/in.csv", dir);
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fprintf(f, "symbol,timestamp,price\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "A,%d,%g\n", 1000 + i, base + i);
        fprintf(f, "B,%d,%g\n", 1000 + i, base + i);
    }
    fclose(f);
    tl_append_result r;
    tl_error err;
    now_ms += 1000;
    tl_append_opts ao = {.segment_rows = 0};
    cr_assert_eq(tl_table_append_csv(table, csv, &ao, &r, &err), TL_OK, "%s", err.msg);
}

/* Versions 1..3, each 2 files of n rows (A and B); a checkpoint at 3. */
static void build(int n)
{
    tl_table_spec sp = {.fields = fields, .n_fields = 3, .symbol_column = "symbol",
                        .day_column = "timestamp"};
    tl_error err;
    cr_assert_eq(tl_table_create_io(tpath, &sp, NULL, clock_fn, &now_ms, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(tl_table_open_io(tpath, NULL, clock_fn, &now_ms, &table, &err), TL_OK, "%s",
                 err.msg);
    append_rows(n, 1);
    append_rows(n, 2);
    append_rows(n, 3);
    tl_checkpoint_result cr;
    cr_assert_eq(tl_table_checkpoint(table, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.version, 3);
}

static void done(void)
{
    tl_table_close(table);
    table = NULL;
}

/* The path of the i-th live file of version v. */
static const char *file_of(int64_t v, size_t i)
{
    static char out[400];
    tl_at at = {.kind = TL_AT_VERSION, .version = v};
    tl_snapshot *s;
    tl_error err;
    cr_assert_eq(tl_snapshot_open(table, &at, &s, &err), TL_OK, "%s", err.msg);
    tl_file_info fi;
    tl_snapshot_file(s, i, &fi);
    cr_assert_not_null(fi.path);
    snprintf(out, sizeof out, "%s", fi.path);
    tl_snapshot_close(s);
    return out;
}

static void abs_of(const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", tpath, rel);
}

static void flip_byte(const char *rel, uint64_t off)
{
    char p[800];
    abs_of(rel, p, sizeof p);
    int fd = open(p, O_RDWR);
    cr_assert_geq(fd, 0, "%s", p);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
    b ^= 0x40;
    cr_assert_eq(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

static int verify(const tl_verify_opts *o, tl_verify_report *rep, tl_error *err)
{
    return tl_table_verify(table, o, rep, err);
}

/* The damage entry naming path, or NULL. */
static const tl_verify_damage *find(const tl_verify_report *r, const char *path)
{
    for (size_t i = 0; i < r->n_damaged; i++)
        if (strcmp(r->damaged[i].path, path) == 0)
            return &r->damaged[i];
    return NULL;
}

static uint64_t progress_last, progress_total;
static int progress_calls;

static void progress(void *ctx, uint64_t d, uint64_t total)
{
    (void)ctx;
    progress_last = d;
    progress_total = total;
    progress_calls++;
}

Test(fsck, clean_table_passes)
{
    build(50);
    tl_verify_opts o = {.progress = progress};
    tl_verify_report r;
    tl_error err;
    progress_calls = 0;
    cr_assert_eq(verify(&o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_damaged, 0);
    cr_assert_eq(r.latest_version, 3);
    cr_assert_eq(r.oldest_version, 0);
    cr_assert_eq(r.commits, 4);
    cr_assert_eq(r.checkpoints, 1);
    cr_assert_eq(r.files, 6);
    cr_assert_eq(r.rows, 300);
    cr_assert_gt(r.bytes, 0);
    cr_assert_gt(r.blocks, 0);
    cr_assert_eq(r.versions_checked, 1);
    cr_assert_geq(progress_calls, 1);
    cr_assert_eq(progress_last, progress_total);
    cr_assert_eq(progress_total, r.bytes);
    tl_verify_report_free(&r);
    /* all versions: still 6 files (nothing removed) */
    o.all_versions = 1;
    cr_assert_eq(verify(&o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.versions_checked, 4);
    cr_assert_eq(r.files, 6);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, flipped_byte_in_a_block_names_file_and_block)
{
    build(50);
    const char *rel = file_of(3, 0);
    char p[800];
    abs_of(rel, p, sizeof p);
    const uint8_t *base;
    uint64_t size;
    tl_error err;
    cr_assert_eq(tlf_map_file(p, &base, &size, &err), TL_OK, "%s", err.msg);
    tlf_seg *seg;
    cr_assert_eq(tlf_seg_open_mem(base, size, rel, 0, &seg, &err), TL_OK, "%s", err.msg);
    int col = tlf_seg_find_col(seg, "price");
    uint64_t off = tlf_seg_block(seg, (uint32_t)col, 0)->offset + 3;
    tlf_seg_close(seg);
    tlf_unmap_file(base, size);
    char saved[400];
    snprintf(saved, sizeof saved, "%s", rel);
    flip_byte(saved, off);

    tl_verify_report r;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.n_damaged, 1);
    const tl_verify_damage *d = find(&r, saved);
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert_eq(d->kind, TL_VERIFY_SEGMENT);
    cr_assert_eq(d->code, TL_ECHECKSUM);
    cr_assert(strstr(d->msg, "column 'price'") && strstr(d->msg, "block 0") &&
                  strstr(d->msg, "byte offset"),
              "%s", d->msg);
    cr_assert(strstr(err.msg, "1 damaged") && strstr(err.msg, saved), "%s", err.msg);
    cr_assert_eq(r.files, 6); /* the others were still checked */
    tl_verify_report_free(&r);
    done();
}

Test(fsck, truncated_file)
{
    build(50);
    char rel[400], p[800];
    snprintf(rel, sizeof rel, "%s", file_of(2, 1));
    abs_of(rel, p, sizeof p);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(truncate(p, st.st_size / 2), 0);
    tl_verify_report r;
    tl_error err;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    const tl_verify_damage *d = find(&r, rel);
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert(strstr(d->msg, "truncated") && strstr(d->msg, "LOG-R58"), "%s", d->msg);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, missing_file)
{
    build(20);
    char rel[400], p[800];
    snprintf(rel, sizeof rel, "%s", file_of(3, 0));
    abs_of(rel, p, sizeof p);
    cr_assert_eq(unlink(p), 0);
    tl_verify_report r;
    tl_error err;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.n_damaged, 1);
    const tl_verify_damage *d = find(&r, rel);
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert_eq(d->code, TL_ENOTFOUND);
    cr_assert(strstr(d->msg, "missing") && strstr(d->msg, "version 3"), "%s", d->msg);
    cr_assert_eq(r.files, 5);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, missing_commit_in_the_middle)
{
    build(10);
    tl_error err;
    tl_checkpoint_result cr;
    (void)cr;
    char p[800];
    abs_of("_delta_log/00000000000000000002.json", p, sizeof p);
    cr_assert_eq(unlink(p), 0);
    /* the checkpoint at 3 still makes the latest version readable */
    tl_verify_report r;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    const tl_verify_damage *d = find(&r, "_delta_log/00000000000000000002.json");
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert_eq(d->kind, TL_VERIFY_LOG);
    cr_assert_eq(d->version, 2);
    cr_assert(strstr(d->msg, "missing") && strstr(d->msg, "LOG-V1"), "%s", d->msg);
    cr_assert_eq(r.oldest_version, 3);
    cr_assert_eq(r.files, 6); /* the latest version's files were checked */
    tl_verify_report_free(&r);
    /* without the checkpoint nothing is readable: still every file the
     * commits present add is checked */
    abs_of("_delta_log/00000000000000000003.checkpoint.tlc", p, sizeof p);
    cr_assert_eq(unlink(p), 0);
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.oldest_version, -1);
    cr_assert_geq(r.n_damaged, 1);
    cr_assert_eq(r.files, 4); /* versions 1 and 3 */
    tl_verify_report_free(&r);
    done();
}

Test(fsck, corrupt_checkpoint)
{
    build(10);
    flip_byte("_delta_log/00000000000000000003.checkpoint.tlc", 200);
    tl_verify_report r;
    tl_error err;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.n_damaged, 1);
    const tl_verify_damage *d = find(&r, "_delta_log/00000000000000000003.checkpoint.tlc");
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert_eq(d->kind, TL_VERIFY_CHECKPOINT);
    cr_assert_eq(d->code, TL_ECHECKSUM, "%s", d->msg);
    cr_assert_eq(r.files, 6); /* replay from version 0 still reads the table */
    tl_verify_report_free(&r);
    done();
}

Test(fsck, truncated_checkpoint)
{
    build(10);
    char p[800];
    abs_of("_delta_log/00000000000000000003.checkpoint.tlc", p, sizeof p);
    cr_assert_eq(truncate(p, 100), 0);
    tl_verify_report r;
    tl_error err;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    const tl_verify_damage *d = find(&r, "_delta_log/00000000000000000003.checkpoint.tlc");
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert_eq(d->code, TL_ECORRUPT, "%s", d->msg);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, corrupt_commit)
{
    build(10);
    char p[800];
    abs_of("_delta_log/00000000000000000001.json", p, sizeof p);
    FILE *f = fopen(p, "a");
    fputs("{\"add\":", f); /* a torn last line */
    fclose(f);
    tl_verify_report r;
    tl_error err;
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    const tl_verify_damage *d = find(&r, "_delta_log/00000000000000000001.json");
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert_eq(d->kind, TL_VERIFY_COMMIT);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, file_replaced_by_another)
{
    build(10);
    append_rows(25, 4); /* version 4: files of 25 rows */
    char a[400], b[400], pa[800], pb[800], cmd[1800];
    snprintf(a, sizeof a, "%s", file_of(1, 0));
    {
        tl_snapshot *s;
        tl_error e;
        cr_assert_eq(tl_snapshot_open(table, NULL, &s, &e), TL_OK, "%s", e.msg);
        b[0] = 0;
        for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
            tl_file_info fi;
            tl_snapshot_file(s, i, &fi);
            if (fi.n_rows == 25)
                snprintf(b, sizeof b, "%s", fi.path);
        }
        tl_snapshot_close(s);
        cr_assert(b[0]);
    }
    cr_assert_str_neq(a, b);
    abs_of(a, pa, sizeof pa);
    abs_of(b, pb, sizeof pb);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", pb, pa);
    cr_assert_eq(system(cmd), 0);
    tl_verify_report r;
    tl_error err;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    tl_verify_opts o = {.at = &v1};
    cr_assert_eq(verify(&o, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.files, 2);
    cr_assert_eq(r.versions_checked, 1);
    const tl_verify_damage *d = find(&r, a);
    cr_assert_not_null(d, "%s", err.msg);
    cr_assert(strstr(d->msg, "bytes on disk") && strstr(d->msg, "rows in the footer") &&
                  strstr(d->msg, "records 10"),
              "%s", d->msg);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, tagged_version_is_checked_and_tags_verified)
{
    build(10);
    tl_error err;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_table_tag(table, "t1", &v1, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_verify_report r;
    cr_assert_eq(verify(NULL, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.tags, 1);
    cr_assert_eq(r.versions_checked, 2); /* latest + the tagged one */
    cr_assert_eq(r.files, 6);            /* v1's files are live at 3 too */
    tl_verify_report_free(&r);
    /* a tag naming a version beyond the latest */
    char p[800];
    abs_of("_delta_log/_tags/t9.json", p, sizeof p);
    FILE *f = fopen(p, "w");
    fputs("{\"name\":\"t9\",\"version\":9,\"timestamp\":1,\"createdTime\":1,"
          "\"tableId\":\"00000000-0000-4000-8000-000000000000\"}\n",
          f);
    fclose(f);
    abs_of("_delta_log/_tags/bad.json", p, sizeof p);
    f = fopen(p, "w");
    fputs("{\"name\":\"other\"}\n", f);
    fclose(f);
    cr_assert_eq(verify(NULL, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.n_damaged, 2);
    const tl_verify_damage *d = find(&r, "_delta_log/_tags/t9.json");
    cr_assert_not_null(d);
    cr_assert_eq(d->kind, TL_VERIFY_TAG);
    cr_assert(strstr(d->msg, "version 9") && strstr(d->msg, "LOG-T8"), "%s", d->msg);
    d = find(&r, "_delta_log/_tags/bad.json");
    cr_assert_not_null(d);
    cr_assert(strstr(d->msg, "'name'"), "%s", d->msg);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, all_versions_counts_vacuumed_files)
{
    build(10);
    /* remove v1's files in version 4, vacuum them away */
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(tl_log_snapshot_load(&table->root, NULL, &s, &err), TL_OK, "%s", err.msg);
    char a[400], b[400];
    snprintf(a, sizeof a, "%s", file_of(1, 0));
    snprintf(b, sizeof b, "%s", file_of(1, 1));
    tl_log_action acts[2];
    memset(acts, 0, sizeof acts);
    const char *paths[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const tl_log_add *ad = tl_log_snapshot_live_get(&s, paths[i]);
        cr_assert_not_null(ad);
        acts[i].kind = TL_LOG_REMOVE;
        acts[i].u.rm = (tl_log_remove){.path = ad->path, .data_change = 1, .has_part = 1,
                                        .part = ad->part, .has_size = 1,
                                        .size_bytes = ad->size_bytes, .has_n_rows = 1,
                                        .n_rows = ad->n_rows};
    }
    now_ms += 1000;
    tl_log_write_opts wo = {.now_ms = clock_fn, .now_arg = &now_ms, .snap = &s};
    tl_log_write_result res;
    cr_assert_eq(tl_log_write(&table->root, s.version, acts, 2, &wo, &res, &err), TL_OK, "%s",
                 err.msg);
    tl_log_snapshot_free(&s);
    now_ms += 3600 * 1000;
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
    tl_table_vacuum_report vr;
    cr_assert_eq(tl_table_vacuum(table, &vo, &vr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(vr.n_files, 2);
    tl_table_vacuum_report_free(&vr);
    tl_verify_opts o = {.all_versions = 1};
    tl_verify_report r;
    cr_assert_eq(verify(&o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.files_unavailable, 2);
    cr_assert_eq(r.files, 4);
    cr_assert_eq(r.versions_checked, 5);
    tl_verify_report_free(&r);
    /* asking for version 1 itself: its files are damage */
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    tl_verify_opts o1 = {.at = &v1};
    cr_assert_eq(verify(&o1, &r, &err), TL_ECORRUPT);
    cr_assert_eq(r.n_damaged, 2);
    tl_verify_report_free(&r);
    /* a version that does not exist is an error, not damage */
    tl_at v9 = {.kind = TL_AT_VERSION, .version = 9};
    tl_verify_opts o9 = {.at = &v9};
    cr_assert_eq(verify(&o9, &r, &err), TL_ENOTFOUND);
    cr_assert_eq(r.n_damaged, 0);
    tl_verify_report_free(&r);
    done();
}

Test(fsck, log_only_and_bad_arguments)
{
    build(10);
    char rel[400], p[800];
    snprintf(rel, sizeof rel, "%s", file_of(3, 0));
    abs_of(rel, p, sizeof p);
    cr_assert_eq(unlink(p), 0);
    tl_verify_opts o = {.log_only = 1};
    tl_verify_report r;
    tl_error err;
    cr_assert_eq(verify(&o, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.files, 0);
    tl_verify_report_free(&r);
    cr_assert_eq(tl_table_verify(NULL, NULL, &r, &err), TL_EINVAL);
    tl_verify_report_free(&r);
    cr_assert_eq(tl_table_verify(table, NULL, NULL, &err), TL_EINVAL);
    tl_verify_report_free(NULL);
    done();
}
