/*
 * tags_test.c - tags (engine/src/tags.c; spec/LOG.md section 11, LOG-T1 ..
 * LOG-T9): tag, list, move (force), delete; bad names, a duplicate, a
 * version that does not exist; time travel by tag (tl_snapshot_open_tag,
 * tl_at_parse); a tag of another table; and the protection: a tagged
 * version whose files were removed survives vacuum with retention 0
 * (forced) and checkpoint + log cleanup past the log retention, reading
 * every row, while the same without the tag loses them.
 *
 * Tables are real (tl_table_create_io + CSV appends) on a clock the test
 * moves: commits are made at T, maintenance runs days later.
 */
#include <criterion/criterion.h>

#include "io_int.h"
#include "log_int.h"
#include "snapshot_int.h"
#include "table_int.h"
#include "tags_int.h"
#include "ticklake.h"

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
    snprintf(dir, sizeof dir, "%s/tl_tags.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
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

TestSuite(tags, .init = setup, .fini = teardown);

static const tl_field fields[] = {
    {"symbol", TL_STRING, 0}, {"timestamp", TL_TIMESTAMP, 0}, {"price", TL_FLOAT64, 1}};

static tl_table *create_open(const char *path)
{
    tl_table_spec sp = {.fields = fields, .n_fields = 3, .symbol_column = "symbol",
                        .day_column = "timestamp"};
    tl_error err;
    cr_assert_eq(tl_table_create_io(path, &sp, NULL, clock_fn, &now_ms, &err), TL_OK, "%s",
                 err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open_io(path, NULL, clock_fn, &now_ms, &t, &err), TL_OK, "%s", err.msg);
    return t;
}

/* Append n rows per symbol A and B (prices base + i) as one commit. */
static int64_t append_rows(tl_table *t, int n, double base)
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
    cr_assert_eq(tl_table_append_csv(t, csv, NULL, &r, &err), TL_OK, "%s", err.msg);
    return r.version;
}

/* Commit the removal of every live file (a "delete all" rewrite). */
static int64_t remove_all(tl_table *t)
{
    tl_log_snapshot s;
    tl_error err;
    cr_assert_eq(tl_log_snapshot_load(&t->root, NULL, &s, &err), TL_OK, "%s", err.msg);
    size_t n = tl_log_snapshot_n_live(&s), k = 0, cur = 0;
    tl_log_action *acts = calloc(n ? n : 1, sizeof *acts);
    const tl_log_add *a;
    while ((a = tl_log_snapshot_live_next(&s, &cur))) {
        acts[k].kind = TL_LOG_REMOVE;
        acts[k].u.rm = (tl_log_remove){.path = a->path, .data_change = 1, .has_part = 1,
                                        .part = a->part, .has_size = 1,
                                        .size_bytes = a->size_bytes, .has_n_rows = 1,
                                        .n_rows = a->n_rows};
        k++;
    }
    now_ms += 1000;
    tl_log_write_opts o = {.now_ms = clock_fn, .now_arg = &now_ms, .snap = &s,
                           .operation = "DELETE"};
    tl_log_write_result res;
    cr_assert_eq(tl_log_write(&t->root, s.version, acts, (uint32_t)k, &o, &res, &err), TL_OK,
                 "%s", err.msg);
    free(acts);
    tl_log_snapshot_free(&s);
    return res.version;
}

/* Rows of a snapshot, read through the row reader (every block verified). */
static int read_rows(tl_snapshot *s, uint64_t *rows, tl_error *err)
{
    tl_reader *r;
    int rc = tl_reader_open(s, NULL, NULL, 0, &r, err);
    if (rc)
        return rc;
    *rows = 0;
    tl_batch b;
    while ((rc = tl_reader_next(r, &b, err)) == TL_OK && b.n_rows)
        *rows += b.n_rows;
    tl_reader_close(r);
    return rc;
}

static int file_exists(const char *rel)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", tpath, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- naming --------------------------------------------------------------------- */

Test(tags, tag_list_get_and_delete)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 3, 10);
    append_rows(t, 3, 20);
    tl_error err;
    tl_tag_info ti;
    int64_t rep = 99;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_table_tag(t, "q3-close", &v1, 0, &ti, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ti.version, 1);
    cr_assert_eq(rep, -1);
    cr_assert_eq(ti.created_ms, now_ms);
    cr_assert_eq(tl_table_tag(t, "latest_1", NULL, 0, &ti, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ti.version, 2);
    /* LOG-T2: one file per tag */
    cr_assert(file_exists("_delta_log/_tags/q3-close.json"));
    cr_assert(file_exists("_delta_log/_tags/latest_1.json"));

    tl_tag_info *v;
    size_t n;
    cr_assert_eq(tl_table_tags(t, &v, &n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0].name, "latest_1"); /* sorted by name */
    cr_assert_str_eq(v[1].name, "q3-close");
    cr_assert_eq(v[1].version, 1);
    tl_history_entry *h;
    size_t nh;
    cr_assert_eq(tl_table_history(t, &h, &nh, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(v[1].timestamp_ms, h[1].timestamp_ms); /* LOG-T3: the version's ict */
    free(h);
    free(v);

    cr_assert_eq(tl_table_tag_get(t, "q3-close", &ti, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ti.version, 1);
    cr_assert_eq(tl_table_untag(t, "q3-close", &ti, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ti.version, 1);
    cr_assert_not(file_exists("_delta_log/_tags/q3-close.json"));
    cr_assert_eq(tl_table_tag_get(t, "q3-close", &ti, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "no tag 'q3-close'"), "%s", err.msg);
    cr_assert_eq(tl_table_untag(t, "q3-close", NULL, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "no tag 'q3-close'"), "%s", err.msg);
    tl_table_close(t);
}

Test(tags, no_tags_is_an_empty_list)
{
    tl_table *t = create_open(tpath);
    tl_tag_info *v = (tl_tag_info *)1;
    size_t n = 5;
    tl_error err;
    cr_assert_eq(tl_table_tags(t, &v, &n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(n, 0);
    free(v);
    tl_tag_info ti;
    cr_assert_eq(tl_table_untag(t, "x", &ti, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "has no tags"), "%s", err.msg);
    tl_table_close(t);
}

Test(tags, bad_names_are_refused)
{
    tl_table *t = create_open(tpath);
    const char *bad[] = {"", "a/b", "..", ".hidden", "-x", "12345", "a b", "x\xc3\xa9",
                         "a\\b", "a:b"};
    tl_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(tl_tag_name_check(bad[i], &err), TL_EINVAL, "'%s' accepted", bad[i]);
        cr_assert(strstr(err.msg, "LOG-T1"), "%s", err.msg);
        cr_assert_eq(tl_table_tag(t, bad[i], NULL, 0, NULL, NULL, &err), TL_EINVAL, "%s",
                     bad[i]);
    }
    char longname[TL_TAG_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    cr_assert_eq(tl_tag_name_check(longname, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "at most 128"), "%s", err.msg);
    longname[TL_TAG_NAME_MAX] = 0;
    cr_assert_eq(tl_tag_name_check(longname, &err), TL_OK, "%s", err.msg);
    const char *good[] = {"a", "2025-11-18.close", "_x", "v1", "1a", "A.B-c_d"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_eq(tl_tag_name_check(good[i], &err), TL_OK, "%s", err.msg);
    /* nothing written */
    cr_assert_not(file_exists("_delta_log/_tags/..json"));
    tl_table_close(t);
}

Test(tags, duplicate_needs_force)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 2, 1);
    append_rows(t, 2, 2);
    tl_error err;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_table_tag(t, "snap", &v1, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_tag(t, "snap", NULL, 0, NULL, NULL, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "tag 'snap' exists (version 1)"), "%s", err.msg);
    tl_tag_info ti;
    cr_assert_eq(tl_table_tag_get(t, "snap", &ti, &err), TL_OK);
    cr_assert_eq(ti.version, 1); /* untouched */
    int64_t rep = -5;
    cr_assert_eq(tl_table_tag(t, "snap", NULL, TL_TAG_FORCE, &ti, &rep, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(ti.version, 2);
    cr_assert_eq(rep, 1);
    cr_assert_eq(tl_table_tag_get(t, "snap", &ti, &err), TL_OK);
    cr_assert_eq(ti.version, 2);
    /* force on a new name is a plain create */
    cr_assert_eq(tl_table_tag(t, "new", &v1, TL_TAG_FORCE, &ti, &rep, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(rep, -1);
    cr_assert_eq(tl_table_tag(t, "x", NULL, 4, NULL, NULL, &err), TL_EINVAL);
    tl_table_close(t);
}

Test(tags, version_that_does_not_exist)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 2, 1);
    tl_error err;
    tl_at v9 = {.kind = TL_AT_VERSION, .version = 9};
    cr_assert_eq(tl_table_tag(t, "nine", &v9, 0, NULL, NULL, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "tag 'nine'") && strstr(err.msg, "latest version is 1"), "%s",
              err.msg);
    tl_at early = {.kind = TL_AT_TIMESTAMP, .ts_ms = 5};
    cr_assert_eq(tl_table_tag(t, "early", &early, 0, NULL, NULL, &err), TL_ENOTFOUND);
    cr_assert_not(file_exists("_delta_log/_tags/nine.json"));
    cr_assert_not(file_exists("_delta_log/_tags/early.json"));
    tl_tag_info ti;
    tl_at ts = {.kind = TL_AT_TIMESTAMP, .ts_ms = now_ms};
    cr_assert_eq(tl_table_tag(t, "by-time", &ts, 0, &ti, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ti.version, 1);
    tl_table_close(t);
}

/* ---- time travel by tag ------------------------------------------------------------ */

Test(tags, time_travel_by_tag)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 3, 10);
    append_rows(t, 5, 20);
    tl_error err;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_table_tag(t, "first", &v1, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open_tag(t, "first", &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_info si;
    tl_snapshot_get_info(s, &si);
    cr_assert_eq(si.version, 1);
    cr_assert_eq(si.n_rows, 6);
    tl_snapshot_close(s);
    cr_assert_eq(tl_snapshot_open_tag(t, "nope", &s, &err), TL_ENOTFOUND);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "no tag 'nope'"), "%s", err.msg);

    tl_at at;
    int is_tag = -1;
    cr_assert_eq(tl_at_parse(t, "first", &at, &is_tag, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(at.kind, TL_AT_VERSION);
    cr_assert_eq(at.version, 1);
    cr_assert_eq(is_tag, 1);
    cr_assert_eq(tl_at_parse(t, "2", &at, &is_tag, &err), TL_OK);
    cr_assert_eq(at.version, 2);
    cr_assert_eq(is_tag, 0);
    cr_assert_eq(tl_at_parse(NULL, "7", &at, NULL, &err), TL_OK);
    cr_assert_eq(at.version, 7);
    cr_assert_eq(tl_at_parse(NULL, "first", &at, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_at_parse(t, "99999999999999999999", &at, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "2^63"), "%s", err.msg);
    cr_assert_eq(tl_at_parse(t, "a/b", &at, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "neither a version number nor a tag name"), "%s", err.msg);
    cr_assert_eq(tl_at_parse(t, "", &at, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_at_parse(t, "missing", &at, NULL, &err), TL_ENOTFOUND);
    /* tag a version named by another tag */
    cr_assert_eq(tl_at_parse(t, "first", &at, NULL, &err), TL_OK);
    tl_tag_info ti;
    cr_assert_eq(tl_table_tag(t, "again", &at, 0, &ti, NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(ti.version, 1);
    tl_table_close(t);
}

Test(tags, tag_of_another_table_is_refused)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 2, 1);
    tl_error err;
    cr_assert_eq(tl_table_tag(t, "mine", NULL, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    char other[400];
    snprintf(other, sizeof other, "%s/o", dir);
    tl_table *o = create_open(other);
    append_rows(o, 2, 1);
    /* copy the tag file into the other table (LOG-T8) */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/_delta_log/_tags' && cp '%s/_delta_log/_tags/mine.json' "
             "'%s/_delta_log/_tags/'", other, tpath, other);
    cr_assert_eq(system(cmd), 0);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open_tag(o, "mine", &s, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "LOG-T8") && strstr(err.msg, "tag 'mine'"), "%s", err.msg);
    tl_table_close(o);
    tl_table_close(t);
}

Test(tags, damaged_tag_file_is_named)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 2, 1);
    tl_error err;
    cr_assert_eq(tl_table_tag(t, "bad", NULL, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log/_tags/bad.json", tpath);
    FILE *f = fopen(p, "w");
    fputs("{\"name\":\"bad\",\"version\":\"1\"}\n", f);
    fclose(f);
    tl_tag_info *v;
    size_t n;
    cr_assert_eq(tl_table_tags(t, &v, &n, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "bad.json") && strstr(err.msg, "'version'"), "%s", err.msg);
    /* vacuum refuses to guess (LOG-T5) */
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
    tl_table_vacuum_report rep;
    cr_assert_eq(tl_table_vacuum(t, &vo, &rep, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "bad.json") && strstr(err.msg, "nothing deleted"), "%s", err.msg);
    /* it can still be deleted */
    tl_tag_info was;
    cr_assert_eq(tl_table_untag(t, "bad", &was, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(was.version, -1);
    tl_table_close(t);
}

/* ---- protection (LOG-T5, LOG-T6) -------------------------------------------------- */

/* v1: 2 files (A, B; 4 rows each); v2: both removed; v3: new rows. */
static tl_table *removed_history(void)
{
    tl_table *t = create_open(tpath);
    cr_assert_eq(append_rows(t, 4, 100), 1);
    cr_assert_eq(remove_all(t), 2);
    cr_assert_eq(append_rows(t, 1, 7), 3);
    return t;
}

static char v1_files[2][300];

static void remember_v1_files(tl_table *t)
{
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    tl_snapshot *s;
    tl_error err;
    cr_assert_eq(tl_snapshot_open(t, &v1, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_n_files(s), 2);
    for (size_t i = 0; i < 2; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        snprintf(v1_files[i], sizeof v1_files[i], "%s", fi.path);
    }
    tl_snapshot_close(s);
}

Test(tags, vacuum_keeps_files_of_a_tagged_version)
{
    tl_table *t = removed_history();
    remember_v1_files(t);
    tl_error err;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_table_tag(t, "research", &v1, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    now_ms += 3600 * 1000 * 24;
    /* dry run first: it reports the kept files */
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1, .dry_run = 1};
    tl_table_vacuum_report rep;
    cr_assert_eq(tl_table_vacuum(t, &vo, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.n_files, 0);
    cr_assert_eq(rep.n_kept, 2);
    cr_assert_str_eq(rep.kept[0].tag, "research");
    cr_assert_eq(rep.kept[0].version, 1);
    cr_assert_eq(rep.n_unreadable, 0);
    tl_table_vacuum_report_free(&rep);
    vo.dry_run = 0;
    cr_assert_eq(tl_table_vacuum(t, &vo, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.n_files, 0);
    cr_assert_eq(rep.n_kept, 2);
    tl_table_vacuum_report_free(&rep);
    cr_assert(file_exists(v1_files[0]) && file_exists(v1_files[1]));
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open_tag(t, "research", &s, &err), TL_OK, "%s", err.msg);
    uint64_t rows = 0;
    cr_assert_eq(read_rows(s, &rows, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, 8);
    tl_snapshot_close(s);

    /* control: without the tag the same vacuum deletes them */
    cr_assert_eq(tl_table_untag(t, "research", NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_vacuum(t, &vo, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.n_files, 2);
    cr_assert_eq(rep.n_kept, 0);
    tl_table_vacuum_report_free(&rep);
    cr_assert_not(file_exists(v1_files[0]));
    tl_table_close(t);
}

Test(tags, checkpoint_and_log_cleanup_keep_a_tagged_version)
{
    tl_table *t = removed_history();
    remember_v1_files(t);
    tl_error err;
    tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_table_tag(t, "research", &v1, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    /* past the log retention (720 h) and the deleted file retention (168 h) */
    now_ms += INT64_C(3600000) * 24 * 60;
    tl_checkpoint_result cr;
    cr_assert_eq(tl_table_checkpoint(t, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.version, 3);
    /* LOG-T6: a checkpoint at the tagged version lets commit 0 go, not 1 */
    cr_assert_eq(cr.oldest_version, 1);
    cr_assert_eq(cr.commits_deleted, 1);
    cr_assert(file_exists("_delta_log/00000000000000000001.checkpoint.tlc"));
    cr_assert(file_exists("_delta_log/00000000000000000001.json"));
    cr_assert_not(file_exists("_delta_log/00000000000000000000.json"));
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
    tl_table_vacuum_report rep;
    cr_assert_eq(tl_table_vacuum(t, &vo, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.n_files, 0);
    cr_assert_eq(rep.n_kept, 2);
    tl_table_vacuum_report_free(&rep);
    /* a second checkpoint + cleanup changes nothing */
    cr_assert_eq(tl_table_checkpoint(t, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.oldest_version, 1);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open_tag(t, "research", &s, &err), TL_OK, "%s", err.msg);
    uint64_t rows = 0;
    cr_assert_eq(read_rows(s, &rows, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, 8);
    tl_snapshot_close(s);

    /* control: untagged, cleanup goes up to the latest checkpoint and v1
     * becomes unreachable */
    cr_assert_eq(tl_table_untag(t, "research", NULL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_checkpoint(t, &cr, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(cr.oldest_version, 3);
    tl_at a1 = {.kind = TL_AT_VERSION, .version = 1};
    cr_assert_eq(tl_snapshot_open(t, &a1, &s, &err), TL_ENOTFOUND);
    /* and tagging it now fails */
    cr_assert_eq(tl_table_tag(t, "late", &a1, 0, NULL, NULL, &err), TL_ENOTFOUND);
    cr_assert_not(file_exists("_delta_log/_tags/late.json"));
    tl_table_close(t);
}

Test(tags, vacuum_removes_old_tag_tmp_files)
{
    tl_table *t = create_open(tpath);
    append_rows(t, 1, 1);
    tl_error err;
    cr_assert_eq(tl_table_tag(t, "x", NULL, 0, NULL, NULL, &err), TL_OK, "%s", err.msg);
    char p[700];
    snprintf(p, sizeof p, "%s/_delta_log/_tags/x.json.tmp.123.0", tpath);
    FILE *f = fopen(p, "w");
    fputs("{", f);
    fclose(f);
    tl_tag_info *v;
    size_t n;
    cr_assert_eq(tl_table_tags(t, &v, &n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(n, 1); /* the tmp file is not a tag */
    free(v);
    now_ms = INT64_C(4000000000000) + INT64_C(3600000) * 24 * 365 * 5;
    tl_table_vacuum_opts vo = {.retain_hours = 1};
    tl_table_vacuum_report rep;
    cr_assert_eq(tl_table_vacuum(t, &vo, &rep, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rep.n_files, 1);
    cr_assert_str_eq(rep.files[0].path, "_delta_log/_tags/x.json.tmp.123.0");
    tl_table_vacuum_report_free(&rep);
    cr_assert_not(file_exists("_delta_log/_tags/x.json.tmp.123.0"));
    cr_assert(file_exists("_delta_log/_tags/x.json"));
    tl_table_close(t);
}

/* ---- crashes (LOG-T4) ----------------------------------------------------------------- */

/* A power cut at every I/O call of creating (mode 0) or moving (mode 1) a
 * tag, dropping or tearing what was not durable: afterwards the tag list
 * loads, and the tag is absent or whole (mode 0), or names the old or the
 * new version (mode 1); a call that returned TL_OK left it durable. */
Test(tags, power_cut_at_every_call_of_tagging)
{
    for (int mode = 0; mode < 2; mode++) {
        uint64_t total = 0;
        for (int tear = 0; tear < 2; tear++) {
            for (uint64_t k = 0; k <= total + 1; k++) {
                teardown();
                setup();
                tl_table *t = create_open(tpath);
                append_rows(t, 2, 1);
                append_rows(t, 2, 2);
                tl_error err;
                tl_at v1 = {.kind = TL_AT_VERSION, .version = 1};
                if (mode)
                    cr_assert_eq(tl_table_tag(t, "snap", &v1, 0, NULL, NULL, &err), TL_OK, "%s",
                                 err.msg);
                tl_table_close(t);
                tl_io_fault *fi;
                cr_assert_eq(tl_io_fault_open(tpath, &fi, &err), TL_OK, "%s", err.msg);
                if (k) {
                    tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k,
                                             .action = TL_IO_FAULT_CUT};
                    cr_assert_eq(tl_io_fault_add(fi, &rule, &err), TL_OK);
                }
                int rc = tl_table_open_io(tpath, tl_io_fault_io(fi), clock_fn, &now_ms, &t, &err);
                if (rc == TL_OK) {
                    rc = tl_table_tag(t, "snap", NULL, mode ? TL_TAG_FORCE : 0, NULL, NULL, &err);
                    tl_table_close(t);
                }
                if (!k) {
                    cr_assert_eq(rc, TL_OK, "%s", err.msg);
                    total = tl_io_fault_count(fi, TL_IO_OP_ANY);
                    cr_assert_gt(total, 5);
                    tl_io_fault_close(fi);
                    continue;
                }
                tl_io_crash_opts o = {.tear = tear, .seed = k};
                cr_assert_eq(tl_io_fault_crash(fi, &o, &err), TL_OK, "%s", err.msg);
                tl_io_fault_close(fi);
                cr_assert_eq(tl_table_open_io(tpath, NULL, clock_fn, &now_ms, &t, &err), TL_OK,
                             "%s", err.msg);
                tl_tag_info *v;
                size_t n;
                cr_assert_eq(tl_table_tags(t, &v, &n, &err), TL_OK, "mode %d k %llu: %s", mode,
                             (unsigned long long)k, err.msg);
                if (mode == 0) {
                    cr_assert(n == 0 || (n == 1 && v[0].version == 2), "k %llu: n %zu",
                              (unsigned long long)k, n);
                    if (rc == TL_OK)
                        cr_assert_eq(n, 1);
                } else {
                    cr_assert_eq(n, 1);
                    cr_assert(v[0].version == 1 || v[0].version == 2);
                    if (rc == TL_OK)
                        cr_assert_eq(v[0].version, 2);
                }
                free(v);
                tl_table_close(t);
            }
        }
    }
}
