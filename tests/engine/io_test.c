/*
 * io_test.c - the engine I/O layer (io_int.h): every wrapper's success and
 * error paths (code, and a message naming the operation and the path),
 * put-if-absent semantics with renameat2 and with the link() fallback, the
 * whole-file helpers, beneath-opens; the fault injector's counting and
 * rules (fail k-th, persistent, short, callback, abort, cut); and the
 * power-loss model of tl_io_fault_crash (PL1..PL5 of io_fault.c). Each test
 * gets a fresh temp directory with a table-like root "t" inside.
 */
#include <criterion/criterion.h>

#include "io_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];  /* temp dir */
static char root[300]; /* dir/t */

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_io.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(root, sizeof root, "%s/t", dir);
    cr_assert_eq(mkdir(root, 0755), 0);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(io, .init = setup, .fini = teardown);
TestSuite(io_fault, .init = setup, .fini = teardown);
TestSuite(io_crash, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------------- */

static char *P(const char *rel)
{
    static char p[8][600];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", root, rel);
    return p[k];
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Whole file into buf (NUL-terminated); returns its length or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, cap - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return (long)n;
}

static void spit(const char *path, const char *s)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "%s", path);
    fputs(s, fp);
    cr_assert_eq(fclose(fp), 0);
}

/* Empty root (between rounds of a loop, with no injector open). */
static void clean_root(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir '%s'", root, root);
    cr_assert_eq(system(cmd), 0);
}

static void open_root(const tl_io *io, tl_io_file *d)
{
    tl_error err;
    cr_assert_eq(tl_io_open(io, NULL, root, O_RDONLY | O_DIRECTORY, 0, d, &err), TL_OK,
                 "%s", err.msg);
}

static void assert_msg(const tl_error *err, const char *a, const char *b)
{
    cr_assert(strstr(err->msg, a), "message \"%s\" lacks \"%s\"", err->msg, a);
    if (b)
        cr_assert(strstr(err->msg, b), "message \"%s\" lacks \"%s\"", err->msg, b);
}

static size_t count_tmp(void)
{
    tl_io_names n;
    tl_error err;
    cr_assert_eq(tl_io_list(NULL, NULL, root, &n, &err), TL_OK, "%s", err.msg);
    size_t k = 0;
    for (size_t i = 0; i < n.n; i++)
        k += strstr(n.names[i], ".tmp.") != NULL;
    tl_io_names_free(&n);
    return k;
}

static tl_io_fault *injector(const char *r)
{
    tl_io_fault *f = NULL;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(r, &f, &err), TL_OK, "%s", err.msg);
    return f;
}

static void add_rule(tl_io_fault *f, int op, uint64_t nth, int action, int e)
{
    tl_io_fault_rule r = {.op = op, .nth = nth, .action = action, .err_no = e};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(f, &r, &err), TL_OK, "%s", err.msg);
}

/* ---- io: files ------------------------------------------------------------------ */

Test(io, file_roundtrip_write_pwrite_pread_truncate_sync)
{
    tl_io_file d, f;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_open(NULL, &d, "a.bin", O_RDWR | O_CREAT | O_EXCL, 0644, &f, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_str_eq(f.path, P("a.bin"));
    cr_assert_eq(tl_io_write_all(&f, "hello world", 11, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "W", 1, 6, &err), TL_OK);
    char buf[32] = {0};
    size_t got = 0;
    cr_assert_eq(tl_io_pread(&f, buf, sizeof buf, 0, &got, &err), TL_OK);
    cr_assert_eq(got, 11);
    cr_assert_str_eq(buf, "hello World");
    cr_assert_eq(tl_io_pread_exact(&f, buf, 5, 6, &err), TL_OK);
    cr_assert_eq(memcmp(buf, "World", 5), 0);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
    cr_assert_eq(tl_io_fdatasync(&f, &err), TL_OK);
    cr_assert_eq(tl_io_ftruncate(&f, 5, &err), TL_OK);
    struct stat st;
    cr_assert_eq(tl_io_fstat(&f, &st, &err), TL_OK);
    cr_assert_eq(st.st_size, 5);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
    cr_assert_eq(f.fd, -1);
    cr_assert_null(f.path);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK, "closing twice is harmless");
    cr_assert_eq(tl_io_close(NULL, &err), TL_OK);
    cr_assert_eq(slurp(P("a.bin"), buf, sizeof buf), 5);
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(tl_io_close(&d, &err), TL_OK);
}

Test(io, open_missing_is_notfound_naming_the_path)
{
    tl_io_file d, f;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_open(NULL, &d, "nope/x.json", O_RDONLY, 0, &f, &err), TL_ENOTFOUND);
    cr_assert_eq(err.code, TL_ENOTFOUND);
    cr_assert_eq(err.sys_errno, ENOENT);
    cr_assert_eq(f.fd, -1);
    char want[600];
    snprintf(want, sizeof want, "open(%s/nope/x.json): No such file or directory", root);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(tl_io_close(&f, NULL), TL_OK, "a failed open leaves a closable handle");
    tl_io_close(&d, NULL);
}

Test(io, open_excl_on_existing_is_conflict)
{
    spit(P("x"), "1");
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(NULL, NULL, P("x"), O_WRONLY | O_CREAT | O_EXCL, 0644, &f, &err),
                 TL_ECONFLICT);
    assert_msg(&err, "open(", P("x"));
    assert_msg(&err, "File exists", NULL);
}

Test(io, pread_exact_past_end_is_corrupt_naming_offset)
{
    spit(P("short"), "abc");
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(NULL, NULL, P("short"), O_RDONLY, 0, &f, &err), TL_OK);
    char buf[8];
    cr_assert_eq(tl_io_pread_exact(&f, buf, 8, 1, &err), TL_ECORRUPT);
    assert_msg(&err, P("short"), "expected 8 bytes at offset 1, the file ends after 2");
    tl_io_close(&f, NULL);
}

Test(io, write_errors_name_the_path)
{
    spit(P("ro"), "abc");
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(NULL, NULL, P("ro"), O_RDONLY, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "x", 1, &err), TL_EIO);
    cr_assert_eq(err.sys_errno, EBADF);
    assert_msg(&err, "write(", P("ro"));
    cr_assert_eq(tl_io_pwrite_all(&f, "x", 1, 7, &err), TL_EIO);
    assert_msg(&err, "pwrite(", "at offset 7");
    cr_assert_eq(tl_io_ftruncate(&f, 0, &err), TL_EINVAL); /* EINVAL on a read-only fd */
    assert_msg(&err, "ftruncate(", P("ro"));
    tl_io_close(&f, NULL);
    char buf[8];
    cr_assert_eq(slurp(P("ro"), buf, sizeof buf), 3);
}

/* Every wrapper, failing through the injector: code from errno, message
 * "op(path): strerror". */
Test(io, every_operation_reports_op_path_and_strerror)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_file d, f;
    tl_error err;
    open_root(io, &d);
    cr_assert_eq(tl_io_open(io, &d, "f", O_RDWR | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "abcdef", 6, &err), TL_OK);
    add_rule(fi, TL_IO_OP_ANY, 1, TL_IO_FAULT_FAIL_FROM, EIO);
    char buf[8];
    size_t got;
    struct stat st;
#define CHECK(call, op)                                                                  \
    do {                                                                                 \
        cr_assert_eq((call), TL_EIO, "%s", op);                                          \
        cr_assert_eq(err.sys_errno, EIO);                                                \
        assert_msg(&err, op, "Input/output error");                                     \
    } while (0)
    CHECK(tl_io_pread(&f, buf, 4, 2, &got, &err), "pread(");
    assert_msg(&err, P("f"), "4 bytes at offset 2");
    CHECK(tl_io_write_all(&f, "x", 1, &err), "write(");
    assert_msg(&err, P("f"), NULL);
    CHECK(tl_io_pwrite_all(&f, "x", 1, 3, &err), "pwrite(");
    CHECK(tl_io_fsync(&f, &err), "fsync(");
    char want[700];
    snprintf(want, sizeof want, "fsync(%s): Input/output error", P("f"));
    cr_assert_str_eq(err.msg, want);
    CHECK(tl_io_fdatasync(&f, &err), "fdatasync(");
    CHECK(tl_io_ftruncate(&f, 1, &err), "ftruncate(");
    CHECK(tl_io_fstat(&f, &st, &err), "fstat(");
    CHECK(tl_io_stat(io, &d, "f", &st, &err), "stat(");
    assert_msg(&err, P("f"), NULL);
    CHECK(tl_io_rename(io, &d, "f", &d, "g", &err), "rename(");
    assert_msg(&err, P("f"), P("g"));
    CHECK(tl_io_rename_noreplace(io, &d, "f", &d, "g", &err), "rename_noreplace(");
    CHECK(tl_io_link(io, &d, "f", &d, "g", &err), "link(");
    CHECK(tl_io_unlink(io, &d, "f", &err), "unlink(");
    CHECK(tl_io_rmdir(io, &d, "sub", &err), "rmdir(");
    CHECK(tl_io_mkdir(io, &d, "sub", 0755, &err), "mkdir(");
    CHECK(tl_io_mkdir_p(io, &d, "a/b", 0755, &err), "mkdir(");
    CHECK(tl_io_fsync_dir(io, &d, NULL, &err), "open(");
    tl_io_names names;
    CHECK(tl_io_list(io, &d, NULL, &names, &err), "opendir(");
    cr_assert_null(names.names);
    tl_io_map m;
    CHECK(tl_io_map_file(&f, &m, &err), "fstat(");
    CHECK(tl_io_write_file_atomic_noreplace(io, &d, "w", "x", 1, &err), "open(");
    CHECK(tl_io_close(&f, &err), "close(");
    cr_assert_eq(f.fd, -1, "the fd is released even when close fails");
    tl_io_fault_clear_rules(fi);
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
#undef CHECK
}

Test(io, sink_write_goes_through_the_layer)
{
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(NULL, NULL, P("s"), O_WRONLY | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_sink_write(&f, "seg", 3, &err), TL_OK);
    tl_io_close(&f, NULL);
    char buf[8];
    cr_assert_eq(slurp(P("s"), buf, sizeof buf), 3);
}

Test(io, read_file_whole_with_limit)
{
    spit(P("r"), "0123456789");
    tl_io_file d;
    open_root(NULL, &d);
    char *b = NULL;
    size_t n = 0;
    tl_error err;
    cr_assert_eq(tl_io_read_file(NULL, &d, "r", 10, &b, &n, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(n, 10);
    cr_assert_str_eq(b, "0123456789");
    free(b);
    cr_assert_eq(tl_io_read_file(NULL, &d, "r", 9, &b, &n, &err), TL_ECORRUPT);
    cr_assert_null(b);
    assert_msg(&err, P("r"), "10 bytes, more than the limit of 9");
    cr_assert_eq(tl_io_read_file(NULL, &d, "missing", 9, &b, &n, &err), TL_ENOTFOUND);
    assert_msg(&err, "open(", P("missing"));
    tl_io_close(&d, NULL);
}

/* ---- io: names --------------------------------------------------------------------- */

Test(io, rename_noreplace_moves_and_refuses_existing_target)
{
    spit(P("a"), "first");
    spit(P("b"), "second");
    tl_io_file d;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_rename_noreplace(NULL, &d, "b", &d, "a", &err), TL_ECONFLICT);
    cr_assert_eq(err.sys_errno, EEXIST);
    assert_msg(&err, "rename_noreplace(", P("a"));
    char buf[32];
    slurp(P("a"), buf, sizeof buf);
    cr_assert_str_eq(buf, "first");
    slurp(P("b"), buf, sizeof buf);
    cr_assert_str_eq(buf, "second");
    cr_assert_eq(tl_io_rename_noreplace(NULL, &d, "b", &d, "c", &err), TL_OK, "%s", err.msg);
    cr_assert(!exists(P("b")));
    slurp(P("c"), buf, sizeof buf);
    cr_assert_str_eq(buf, "second");
    cr_assert_eq(tl_io_rename_noreplace(NULL, &d, "b", &d, "z", &err), TL_ENOTFOUND);
    tl_io_close(&d, NULL);
}

Test(io, rename_noreplace_link_fallback_has_the_same_semantics)
{
    spit(P("a"), "first");
    spit(P("b"), "second");
    tl_io_fault *fi = injector(NULL);
    tl_io_fault_set_flags(fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_file d;
    tl_error err;
    open_root(io, &d);
    cr_assert_eq(tl_io_rename_noreplace(io, &d, "b", &d, "a", &err), TL_ECONFLICT);
    cr_assert_eq(err.sys_errno, EEXIST);
    assert_msg(&err, "link(", P("a"));
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_LINK), 1, "the fallback ran");
    char buf[32];
    slurp(P("a"), buf, sizeof buf);
    cr_assert_str_eq(buf, "first");
    cr_assert(exists(P("b")), "the source stays after a conflict");
    cr_assert_eq(tl_io_rename_noreplace(io, &d, "b", &d, "c", &err), TL_OK, "%s", err.msg);
    cr_assert(!exists(P("b")), "link + unlink moved it");
    slurp(P("c"), buf, sizeof buf);
    cr_assert_str_eq(buf, "second");
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_UNLINK), 1);
    /* a plain rename is not affected by the flag */
    cr_assert_eq(tl_io_rename(io, &d, "c", &d, "a", &err), TL_OK);
    slurp(P("a"), buf, sizeof buf);
    cr_assert_str_eq(buf, "second");
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
}

Test(io, rename_noreplace_without_hard_links_is_unsupported)
{
    spit(P("b"), "x");
    tl_io_fault *fi = injector(NULL);
    tl_io_fault_set_flags(fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
    add_rule(fi, TL_IO_OP_LINK, 1, TL_IO_FAULT_FAIL, EPERM);
    tl_error err;
    cr_assert_eq(tl_io_rename_noreplace(tl_io_fault_io(fi), NULL, P("b"), NULL, P("c"), &err),
                 TL_EUNSUPPORTED);
    assert_msg(&err, "neither RENAME_NOREPLACE nor hard links", P("c"));
    cr_assert(exists(P("b")));
    tl_io_fault_close(fi);
}

Test(io, link_unlink_rmdir_mkdir)
{
    spit(P("a"), "x");
    tl_io_file d;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_link(NULL, &d, "a", &d, "b", &err), TL_OK);
    cr_assert_eq(tl_io_link(NULL, &d, "a", &d, "b", &err), TL_ECONFLICT);
    assert_msg(&err, "link(", P("b"));
    cr_assert_eq(tl_io_unlink(NULL, &d, "b", &err), TL_OK);
    cr_assert_eq(tl_io_unlink(NULL, &d, "b", &err), TL_ENOTFOUND);
    assert_msg(&err, "unlink(", P("b"));
    cr_assert_eq(tl_io_mkdir(NULL, &d, "sub", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_mkdir(NULL, &d, "sub", 0755, &err), TL_ECONFLICT);
    assert_msg(&err, "mkdir(", P("sub"));
    spit(P("sub/f"), "y");
    cr_assert_eq(tl_io_rmdir(NULL, &d, "sub", &err), TL_EIO);
    cr_assert_eq(err.sys_errno, ENOTEMPTY);
    assert_msg(&err, "rmdir(", P("sub"));
    cr_assert_eq(tl_io_unlink(NULL, &d, "sub", &err), TL_EINVAL); /* EISDIR */
    cr_assert_eq(tl_io_unlink(NULL, &d, "sub/f", &err), TL_OK);
    cr_assert_eq(tl_io_rmdir(NULL, &d, "sub", &err), TL_OK);
    cr_assert(!exists(P("sub")));
    tl_io_close(&d, NULL);
}

Test(io, mkdir_p_creates_missing_dirs_and_fsyncs_each_parent)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_file d;
    tl_error err;
    open_root(io, &d);
    cr_assert_eq(tl_io_mkdir(io, &d, "symbol=A", 0755, &err), TL_OK);
    tl_io_fault_reset_counts(fi);
    cr_assert_eq(tl_io_mkdir_p(io, &d, "symbol=A/date=2025-11-18/x", 0755, &err), TL_OK,
                 "%s", err.msg);
    cr_assert(exists(P("symbol=A/date=2025-11-18/x")));
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_MKDIR), 3);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC_DIR), 2, "one per created dir");
    tl_io_fault_reset_counts(fi);
    cr_assert_eq(tl_io_mkdir_p(io, &d, "symbol=A//date=2025-11-18/x/", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC_DIR), 0, "nothing new, no fsync");
    /* absolute path without a dir handle */
    cr_assert_eq(tl_io_mkdir_p(io, NULL, P("abs/q"), 0755, &err), TL_OK, "%s", err.msg);
    cr_assert(exists(P("abs/q")));
    spit(P("file"), "x");
    cr_assert_eq(tl_io_mkdir_p(io, &d, "file/y", 0755, &err), TL_EINVAL);
    assert_msg(&err, "exists and is not a directory", P("file"));
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
}

Test(io, fsync_dir_and_its_errors)
{
    tl_io_file d;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_fsync_dir(NULL, &d, NULL, &err), TL_OK);
    cr_assert_eq(tl_io_fsync_dir(NULL, NULL, root, &err), TL_OK);
    cr_assert_eq(tl_io_fsync(&d, &err), TL_OK, "fsync of an open directory");
    cr_assert_eq(tl_io_fsync_dir(NULL, &d, "missing", &err), TL_ENOTFOUND);
    assert_msg(&err, "open(", P("missing"));
    spit(P("f"), "x");
    cr_assert_eq(tl_io_fsync_dir(NULL, &d, "f", &err), TL_ENOTFOUND); /* ENOTDIR */
    cr_assert_eq(err.sys_errno, ENOTDIR);
    tl_io_fault *fi = injector(NULL);
    add_rule(fi, TL_IO_OP_FSYNC_DIR, 1, TL_IO_FAULT_FAIL, EIO);
    cr_assert_eq(tl_io_fsync_dir(tl_io_fault_io(fi), NULL, root, &err), TL_EIO);
    char want[600];
    snprintf(want, sizeof want, "fsync(%s): Input/output error", root);
    cr_assert_str_eq(err.msg, want);
    tl_io_fault_close(fi);
    tl_io_close(&d, NULL);
}

Test(io, list_is_sorted_without_dots)
{
    const char *names[] = {"b", "a", "_delta_log", "B", "a.json", "symbol=Z"};
    for (size_t i = 0; i < 6; i++)
        spit(P(names[i]), "");
    tl_io_file d;
    tl_error err;
    open_root(NULL, &d);
    tl_io_names n;
    cr_assert_eq(tl_io_list(NULL, &d, NULL, &n, &err), TL_OK);
    const char *want[] = {"B", "_delta_log", "a", "a.json", "b", "symbol=Z"};
    cr_assert_eq(n.n, 6);
    for (size_t i = 0; i < 6; i++)
        cr_assert_str_eq(n.names[i], want[i]);
    tl_io_names_free(&n);
    tl_io_names_free(&n);
    cr_assert_eq(tl_io_mkdir(NULL, &d, "empty", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_list(NULL, &d, "empty", &n, &err), TL_OK);
    cr_assert_eq(n.n, 0);
    tl_io_names_free(&n);
    cr_assert_eq(tl_io_list(NULL, &d, "nope", &n, &err), TL_ENOTFOUND);
    assert_msg(&err, "opendir(", P("nope"));
    tl_io_close(&d, NULL);
}

Test(io, map_file_whole_and_empty)
{
    spit(P("m"), "mapped bytes");
    spit(P("e"), "");
    tl_io_file f;
    tl_io_map m;
    tl_error err;
    cr_assert_eq(tl_io_open(NULL, NULL, P("m"), O_RDONLY, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_map_file(&f, &m, &err), TL_OK);
    tl_io_close(&f, NULL);
    cr_assert_eq(m.len, 12);
    cr_assert_eq(memcmp(m.addr, "mapped bytes", 12), 0, "the mapping outlives the fd");
    cr_assert_eq(tl_io_unmap(&m, &err), TL_OK);
    cr_assert_null(m.addr);
    cr_assert_eq(tl_io_unmap(&m, &err), TL_OK);
    cr_assert_eq(tl_io_open(NULL, NULL, P("e"), O_RDONLY, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_map_file(&f, &m, &err), TL_OK);
    cr_assert_null(m.addr);
    cr_assert_eq(m.len, 0);
    tl_io_close(&f, NULL);
    /* a write-only fd cannot be mapped */
    cr_assert_eq(tl_io_open(NULL, NULL, P("m"), O_WRONLY, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_map_file(&f, &m, &err), TL_EIO);
    assert_msg(&err, "mmap(", P("m"));
    tl_io_close(&f, NULL);
}

Test(io, open_beneath_stays_inside_the_directory)
{
    tl_io_file d, f;
    tl_error err;
    cr_assert_eq(mkdir(P("symbol=A"), 0755), 0);
    spit(P("symbol=A/seg.tls"), "data");
    spit(P("../outside"), "secret");
    cr_assert_eq(symlink("../../outside", P("symbol=A/escape")), 0);
    cr_assert_eq(symlink("seg.tls", P("symbol=A/inside")), 0);
    cr_assert_eq(symlink("..", P("symbol=A/up")), 0);
    for (int fallback = 0; fallback < 2; fallback++) {
        tl_io_fault *fi = injector(NULL);
        if (fallback)
            tl_io_fault_set_flags(fi, TL_IO_FAULT_NO_OPENAT2);
        const tl_io *io = tl_io_fault_io(fi);
        open_root(io, &d);
        cr_assert_eq(tl_io_open_beneath(io, &d, "symbol=A/seg.tls", O_RDONLY, 0, &f, &err),
                     TL_OK, "%s", err.msg);
        cr_assert_str_eq(f.path, P("symbol=A/seg.tls"));
        tl_io_close(&f, NULL);
        cr_assert_eq(tl_io_open_beneath(io, &d, "../outside", O_RDONLY, 0, &f, &err),
                     TL_EINVAL, "fallback %d", fallback);
        assert_msg(&err, "leaves", P("../outside"));
        cr_assert_eq(tl_io_open_beneath(io, &d, P("symbol=A/seg.tls"), O_RDONLY, 0, &f, &err),
                     TL_EINVAL, "absolute, fallback %d", fallback);
        cr_assert_eq(tl_io_open_beneath(io, &d, "symbol=A/escape", O_RDONLY, 0, &f, &err),
                     TL_EINVAL, "symlink out, fallback %d", fallback);
        cr_assert_eq(tl_io_open_beneath(io, &d, "symbol=A/up/../outside", O_RDONLY, 0, &f,
                                        &err),
                     TL_EINVAL, "symlinked dir out, fallback %d", fallback);
        cr_assert_eq(f.fd, -1);
        int in = tl_io_open_beneath(io, &d, "symbol=A/inside", O_RDONLY, 0, &f, &err);
        /* openat2 follows a symlink that stays inside; the fallback refuses all */
        cr_assert_eq(in, fallback ? TL_EINVAL : TL_OK, "fallback %d: %s", fallback, err.msg);
        tl_io_close(&f, NULL);
        cr_assert_eq(tl_io_open_beneath(io, &d, "symbol=A/new", O_WRONLY | O_CREAT | O_EXCL,
                                        0644, &f, &err),
                     TL_OK, "%s", err.msg);
        tl_io_close(&f, NULL);
        cr_assert_eq(unlink(P("symbol=A/new")), 0);
        cr_assert_eq(tl_io_open_beneath(io, &d, "symbol=A/none", O_RDONLY, 0, &f, &err),
                     TL_ENOTFOUND);
        if (fallback)
            cr_assert_gt(tl_io_fault_count(fi, TL_IO_OP_OPEN), 10, "walked by components");
        tl_io_close(&d, NULL);
        tl_io_fault_close(fi);
    }
}

/* ---- io: whole-file helpers ------------------------------------------------------------ */

Test(io, atomic_noreplace_second_create_conflicts_first_intact)
{
    for (int fallback = 0; fallback < 2; fallback++) {
        tl_io_fault *fi = injector(NULL);
        if (fallback)
            tl_io_fault_set_flags(fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
        const tl_io *io = tl_io_fault_io(fi);
        tl_io_file d;
        tl_error err;
        open_root(io, &d);
        const char *name = fallback ? "00000000000000000001.json" : "00000000000000000000.json";
        cr_assert_eq(tl_io_write_file_atomic_noreplace(io, &d, name, "{\"v\":1}\n", 8, &err),
                     TL_OK, "%s", err.msg);
        cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC), 1);
        cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC_DIR), 1);
        cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_LINK), fallback ? 1 : 0);
        cr_assert_eq(tl_io_write_file_atomic_noreplace(io, &d, name, "{\"v\":2}\n", 8, &err),
                     TL_ECONFLICT, "fallback %d", fallback);
        assert_msg(&err, P(name), "File exists");
        char buf[32];
        cr_assert_eq(slurp(P(name), buf, sizeof buf), 8);
        cr_assert_str_eq(buf, "{\"v\":1}\n");
        cr_assert_eq(count_tmp(), 0, "the loser's tmp file is removed");
        tl_io_close(&d, NULL);
        tl_io_fault_close(fi);
    }
}

Test(io, atomic_noreplace_in_a_subdirectory)
{
    tl_io_file d;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_mkdir(NULL, &d, "_delta_log", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(NULL, &d, "_delta_log/0.json", "x", 1, &err),
                 TL_OK, "%s", err.msg);
    cr_assert(exists(P("_delta_log/0.json")));
    tl_io_close(&d, NULL);
}

Test(io, atomic_noreplace_write_failure_leaves_nothing)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_file d;
    tl_error err;
    open_root(io, &d);
    static char big[100000];
    memset(big, 'x', sizeof big);
    add_rule(fi, TL_IO_OP_WRITE, 1, TL_IO_FAULT_SHORT, 0);
    add_rule(fi, TL_IO_OP_WRITE, 2, TL_IO_FAULT_FAIL, ENOSPC);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(io, &d, "v.json", big, sizeof big, &err),
                 TL_EIO);
    cr_assert_eq(err.sys_errno, ENOSPC);
    assert_msg(&err, "write(", "v.json.tmp.");
    assert_msg(&err, "No space left on device", "50000 of 100000 bytes left");
    cr_assert(!exists(P("v.json")));
    cr_assert_eq(count_tmp(), 0);
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
}

Test(io, atomic_noreplace_fsync_failure_is_reported_not_retried)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_file d;
    tl_error err;
    open_root(io, &d);
    add_rule(fi, TL_IO_OP_FSYNC, 1, TL_IO_FAULT_FAIL, EIO);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(io, &d, "v.json", "x", 1, &err), TL_EIO);
    assert_msg(&err, "fsync(", ".tmp.");
    assert_msg(&err, P("v.json"), "Input/output error");
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC), 1, "no retry");
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_RENAME), 0, "no commit after a failed fsync");
    cr_assert(!exists(P("v.json")));
    cr_assert_eq(count_tmp(), 0);
    /* the directory fsync after the move fails: reported as TL_EIO */
    add_rule(fi, TL_IO_OP_FSYNC_DIR, 1, TL_IO_FAULT_FAIL, EIO);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(io, &d, "w.json", "x", 1, &err), TL_EIO);
    assert_msg(&err, "fsync(", root);
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
}

Test(io, write_all_handles_short_writes_and_eintr)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    add_rule(fi, TL_IO_OP_WRITE, 1, TL_IO_FAULT_SHORT, 0);
    add_rule(fi, TL_IO_OP_WRITE, 2, TL_IO_FAULT_FAIL, EINTR);
    add_rule(fi, TL_IO_OP_PWRITE, 1, TL_IO_FAULT_FAIL, EINTR);
    add_rule(fi, TL_IO_OP_PWRITE, 2, TL_IO_FAULT_SHORT, 0);
    add_rule(fi, TL_IO_OP_PREAD, 1, TL_IO_FAULT_SHORT, 0);
    add_rule(fi, TL_IO_OP_PREAD, 2, TL_IO_FAULT_FAIL, EINTR);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(io, NULL, P("w"), O_RDWR | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "0123456789", 10, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_WRITE), 3, "short, EINTR, rest");
    cr_assert_eq(tl_io_pwrite_all(&f, "abcdef", 6, 10, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_PWRITE), 3, "EINTR, short, rest");
    char buf[17] = {0};
    cr_assert_eq(tl_io_pread_exact(&f, buf, 16, 0, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_PREAD), 3);
    cr_assert_str_eq(buf, "0123456789abcdef");
    tl_io_close(&f, NULL);
    tl_io_fault_close(fi);
}

Test(io, write_file_replace_overwrites)
{
    tl_io_file d;
    tl_error err;
    open_root(NULL, &d);
    cr_assert_eq(tl_io_write_file_replace(NULL, &d, "_last_checkpoint", "{\"v\":1}", 7, &err),
                 TL_OK);
    cr_assert_eq(tl_io_write_file_replace(NULL, &d, "_last_checkpoint", "{\"v\":20}", 8, &err),
                 TL_OK);
    char buf[32];
    cr_assert_eq(slurp(P("_last_checkpoint"), buf, sizeof buf), 8);
    cr_assert_str_eq(buf, "{\"v\":20}");
    cr_assert_eq(count_tmp(), 0);
    tl_io_close(&d, NULL);
}

/* ---- io_fault: counting and rules ---------------------------------------------------------- */

Test(io_fault, counts_calls_per_kind_and_in_all)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(io, NULL, P("c"), O_RDWR | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "ab", 2, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "cd", 2, 2, &err), TL_OK);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
    tl_io_close(&f, NULL);
    cr_assert_eq(tl_io_fsync_dir(io, NULL, root, &err), TL_OK);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_OPEN), 2);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_WRITE), 1);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_PWRITE), 1);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC), 2);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_FSYNC_DIR), 1);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_CLOSE), 2);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_ANY), 9);
    tl_io_fault_reset_counts(fi);
    cr_assert_eq(tl_io_fault_count(fi, TL_IO_OP_ANY), 0);
    cr_assert_str_eq(tl_io_op_name(TL_IO_OP_FSYNC_DIR), "fsync_dir");
    cr_assert_str_eq(tl_io_op_name(TL_IO_OP_ANY), "any");
    cr_assert_str_eq(tl_io_op_name(99), "?");
    for (int op = 0; op < TL_IO_OP_COUNT; op++)
        cr_assert_neq(strcmp(tl_io_op_name(op), "?"), 0);
    tl_io_fault_close(fi);
}

Test(io_fault, fail_kth_call_once)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    add_rule(fi, TL_IO_OP_PWRITE, 3, TL_IO_FAULT_FAIL, EIO);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(io, NULL, P("k"), O_RDWR | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "a", 1, 0, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "b", 1, 1, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "c", 1, 2, &err), TL_EIO);
    assert_msg(&err, "pwrite(", "Input/output error");
    cr_assert_eq(tl_io_pwrite_all(&f, "d", 1, 2, &err), TL_OK, "only once");
    tl_io_close(&f, NULL);
    char buf[8];
    cr_assert_eq(slurp(P("k"), buf, sizeof buf), 3);
    cr_assert_str_eq(buf, "abd", "the failed call had no effect");
    tl_io_fault_close(fi);
}

Test(io_fault, fail_from_kth_call_on)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    add_rule(fi, TL_IO_OP_FSYNC, 2, TL_IO_FAULT_FAIL_FROM, ENOSPC);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(io, NULL, P("k"), O_RDWR | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(tl_io_fsync(&f, &err), TL_EIO);
        cr_assert_eq(err.sys_errno, ENOSPC);
    }
    cr_assert_eq(tl_io_write_all(&f, "x", 1, &err), TL_OK, "other ops unaffected");
    tl_io_fault_clear_rules(fi);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
    tl_io_close(&f, NULL);
    tl_io_fault_close(fi);
}

Test(io_fault, rule_filters_on_path)
{
    tl_io_fault *fi = injector(NULL);
    const tl_io *io = tl_io_fault_io(fi);
    tl_io_fault_rule r = {.op = TL_IO_OP_ANY, .nth = 1, .action = TL_IO_FAULT_FAIL_FROM,
                          .err_no = EIO, .path_contains = "_delta_log"};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK);
    tl_io_file d;
    open_root(io, &d);
    cr_assert_eq(tl_io_mkdir(io, &d, "symbol=A", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_mkdir(io, &d, "_delta_log", 0755, &err), TL_EIO);
    cr_assert(!exists(P("_delta_log")));
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
}

static int cb_calls;
static int cb_fail_eio(void *arg, int op, const char *path)
{
    cb_calls++;
    cr_assert_eq(op, TL_IO_OP_RENAME);
    cr_assert(strstr(path, "dst"), "%s", path);
    tl_io_fault_cut((tl_io_fault *)arg); /* re-entering the injector is fine */
    return EIO;
}

Test(io_fault, callback_at_kth_call)
{
    spit(P("src"), "x");
    tl_io_fault *fi = injector(NULL);
    tl_io_fault_rule r = {.op = TL_IO_OP_RENAME, .nth = 1, .action = TL_IO_FAULT_CALLBACK,
                          .cb = cb_fail_eio, .cb_arg = fi};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK);
    cb_calls = 0;
    cr_assert_eq(tl_io_rename(tl_io_fault_io(fi), NULL, P("src"), NULL, P("dst"), &err),
                 TL_EIO);
    cr_assert_eq(cb_calls, 1);
    cr_assert(tl_io_fault_is_cut(fi));
    cr_assert(exists(P("src")));
    tl_io_fault_close(fi);
}

Test(io_fault, abort_at_kth_call)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        tl_io_fault *fi = NULL;
        if (tl_io_fault_open(NULL, &fi, NULL) != TL_OK)
            _exit(3);
        tl_io_fault_rule r = {.op = TL_IO_OP_FSYNC_DIR, .nth = 2, .action = TL_IO_FAULT_ABORT};
        if (tl_io_fault_add(fi, &r, NULL) != TL_OK)
            _exit(4);
        if (tl_io_fsync_dir(tl_io_fault_io(fi), NULL, root, NULL) != TL_OK)
            _exit(5);
        spit(P("reached"), "1"); /* between the 1st and the 2nd call */
        if (tl_io_fsync_dir(tl_io_fault_io(fi), NULL, root, NULL) == TL_OK)
            _exit(0); /* not reached */
        _exit(6);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %d", st);
    cr_assert(exists(P("reached")));
}

Test(io_fault, cut_fails_everything_after_and_changes_nothing)
{
    tl_io_fault *fi = injector(root);
    const tl_io *io = tl_io_fault_io(fi);
    add_rule(fi, TL_IO_OP_ANY, 4, TL_IO_FAULT_CUT, 0);
    tl_io_file d, f;
    tl_error err;
    open_root(io, &d);                                                      /* 1 */
    cr_assert_eq(tl_io_mkdir(io, &d, "a", 0755, &err), TL_OK);              /* 2 */
    cr_assert_eq(tl_io_open(io, &d, "a/f", O_WRONLY | O_CREAT, 0644, &f, &err), TL_OK); /* 3 */
    cr_assert(!tl_io_fault_is_cut(fi));
    cr_assert_eq(tl_io_write_all(&f, "x", 1, &err), TL_EIO);                /* 4: cut */
    cr_assert(tl_io_fault_is_cut(fi));
    cr_assert_eq(tl_io_mkdir(io, &d, "b", 0755, &err), TL_EIO);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_EIO);
    cr_assert(!exists(P("b")));
    struct stat st;
    cr_assert_eq(stat(P("a/f"), &st), 0);
    cr_assert_eq(st.st_size, 0);
    cr_assert_eq(tl_io_close(&f, &err), TL_EIO, "close reports, and releases");
    cr_assert_eq(f.fd, -1);
    tl_io_close(&d, NULL);
    tl_io_fault_close(fi);
}

Test(io_fault, bad_rules_are_rejected)
{
    tl_io_fault *fi = injector(NULL);
    tl_error err;
    tl_io_fault_rule r0 = {.op = TL_IO_OP_FSYNC, .nth = 0, .action = TL_IO_FAULT_FAIL,
                           .err_no = EIO};
    cr_assert_eq(tl_io_fault_add(fi, &r0, &err), TL_EINVAL);
    assert_msg(&err, "fault rule", NULL);
    tl_io_fault_rule r1 = {.op = TL_IO_OP_FSYNC, .nth = 1, .action = TL_IO_FAULT_FAIL};
    cr_assert_eq(tl_io_fault_add(fi, &r1, &err), TL_EINVAL, "FAIL needs an errno");
    tl_io_fault_rule r2 = {.op = TL_IO_OP_COUNT, .nth = 1, .action = TL_IO_FAULT_CUT};
    cr_assert_eq(tl_io_fault_add(fi, &r2, &err), TL_EINVAL);
    tl_io_fault_rule r3 = {.op = TL_IO_OP_ANY, .nth = 1, .action = TL_IO_FAULT_CALLBACK};
    cr_assert_eq(tl_io_fault_add(fi, &r3, &err), TL_EINVAL, "CALLBACK needs cb");
    tl_io_fault_rule ok = {.op = TL_IO_OP_ANY, .nth = 1000, .action = TL_IO_FAULT_CUT};
    for (int i = 0; i < TL_IO_FAULT_MAX_RULES; i++)
        cr_assert_eq(tl_io_fault_add(fi, &ok, &err), TL_OK);
    cr_assert_eq(tl_io_fault_add(fi, &ok, &err), TL_EINVAL, "too many");
    tl_io_fault_close(fi);
}

Test(io_fault, open_errors)
{
    tl_io_fault *fi = NULL;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(P("missing"), &fi, &err), TL_ENOTFOUND);
    cr_assert_null(fi);
    assert_msg(&err, P("missing"), NULL);
    spit(P("file"), "");
    cr_assert_eq(tl_io_fault_open(P("file"), &fi, &err), TL_EINVAL);
    assert_msg(&err, "not a directory", NULL);
    fi = injector(NULL);
    cr_assert_eq(tl_io_fault_crash(fi, NULL, &err), TL_EINVAL);
    assert_msg(&err, "no root", NULL);
    tl_io_fault_close(fi);
    tl_io_fault_close(NULL);
}

/* ---- io_crash: the power-loss model ---------------------------------------------------------- */

typedef struct env {
    tl_io_fault *fi;
    const tl_io *io;
    tl_io_file d;
    size_t fds; /* open descriptors before */
} env;

static size_t open_fds(void)
{
    tl_io_names n;
    tl_error err;
    cr_assert_eq(tl_io_list(NULL, NULL, "/proc/self/fd", &n, &err), TL_OK, "%s", err.msg);
    size_t k = n.n;
    tl_io_names_free(&n);
    return k;
}

static void env_open(env *e)
{
    e->fds = open_fds();
    e->fi = injector(root);
    e->io = tl_io_fault_io(e->fi);
    open_root(e->io, &e->d);
}

static void env_crash(env *e, const tl_io_crash_opts *o)
{
    tl_io_close(&e->d, NULL);
    tl_error err;
    cr_assert_eq(tl_io_fault_crash(e->fi, o, &err), TL_OK, "%s", err.msg);
    open_root(e->io, &e->d);
}

static void env_close(env *e)
{
    tl_io_close(&e->d, NULL);
    tl_io_fault_close(e->fi);
    cr_assert_eq(open_fds(), e->fds, "no descriptor leaked");
    /* the stash is gone */
    tl_io_names n;
    tl_error err;
    cr_assert_eq(tl_io_list(NULL, NULL, dir, &n, &err), TL_OK);
    for (size_t i = 0; i < n.n; i++)
        cr_assert_null(strstr(n.names[i], "tlfault"), "%s left behind", n.names[i]);
    tl_io_names_free(&n);
}

/* create name, write s, optionally fsync the file, close */
static void put(env *e, const char *name, const char *s, int sync)
{
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(e->io, &e->d, name, O_WRONLY | O_CREAT | O_TRUNC, 0644, &f, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(tl_io_write_all(&f, s, strlen(s), &err), TL_OK, "%s", err.msg);
    if (sync)
        cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
}

static void dsync(env *e, const char *name)
{
    tl_error err;
    cr_assert_eq(tl_io_fsync_dir(e->io, &e->d, name, &err), TL_OK, "%s", err.msg);
}

static void assert_content(const char *rel, const char *want)
{
    char buf[4096];
    long n = slurp(P(rel), buf, sizeof buf);
    cr_assert_geq(n, 0, "%s missing", rel);
    cr_assert_str_eq(buf, want, "%s", rel);
}

Test(io_crash, unsynced_write_is_gone)
{
    env e;
    env_open(&e);
    put(&e, "f", "data", 0);
    dsync(&e, NULL); /* the entry is durable, the bytes are not */
    env_crash(&e, NULL);
    assert_content("f", "");
    env_close(&e);
}

Test(io_crash, synced_file_without_dir_fsync_loses_its_entry)
{
    env e;
    env_open(&e);
    put(&e, "f", "data", 1);
    env_crash(&e, NULL);
    cr_assert(!exists(P("f")));
    env_close(&e);
}

Test(io_crash, synced_file_and_dir_survive)
{
    env e;
    env_open(&e);
    put(&e, "f", "data", 1);
    dsync(&e, NULL);
    env_crash(&e, NULL);
    assert_content("f", "data");
    env_close(&e);
}

Test(io_crash, close_does_not_sync)
{
    env e;
    env_open(&e);
    put(&e, "f", "v1", 1);
    dsync(&e, NULL);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(e.io, &e.d, "f", O_WRONLY | O_APPEND, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "+more", 5, &err), TL_OK);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
    assert_content("f", "v1+more");
    env_crash(&e, NULL);
    assert_content("f", "v1");
    env_close(&e);
}

Test(io_crash, partial_writes_after_fsync_are_truncated)
{
    env e;
    env_open(&e);
    char a[1001], b[501];
    memset(a, 'a', 1000);
    a[1000] = '\0';
    memset(b, 'b', 500);
    b[500] = '\0';
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(e.io, &e.d, "seg", O_RDWR | O_CREAT | O_EXCL, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, a, 1000, &err), TL_OK);
    cr_assert_eq(tl_io_fdatasync(&f, &err), TL_OK);
    dsync(&e, NULL);
    cr_assert_eq(tl_io_write_all(&f, b, 500, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "XY", 2, 10, &err), TL_OK); /* overwrite synced bytes */
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
    env_crash(&e, NULL);
    assert_content("seg", a);
    env_close(&e);
}

Test(io_crash, truncation_and_o_trunc_of_synced_bytes_are_undone)
{
    env e;
    env_open(&e);
    put(&e, "t", "ABCDEFGH", 1);
    put(&e, "o", "12345678", 1);
    dsync(&e, NULL);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(e.io, &e.d, "t", O_RDWR, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_ftruncate(&f, 2, &err), TL_OK);
    cr_assert_eq(tl_io_pwrite_all(&f, "zzzzzz", 6, 4, &err), TL_OK); /* hole + new bytes */
    cr_assert_eq(tl_io_ftruncate(&f, 20, &err), TL_OK);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
    cr_assert_eq(tl_io_open(e.io, &e.d, "o", O_WRONLY | O_TRUNC, 0, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "new", 3, &err), TL_OK);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
    assert_content("o", "new");
    env_crash(&e, NULL);
    assert_content("t", "ABCDEFGH");
    assert_content("o", "12345678");
    env_close(&e);
}

Test(io_crash, rename_not_made_durable_is_undone)
{
    env e;
    env_open(&e);
    put(&e, "a.tmp", "payload", 1);
    put(&e, "target", "old", 1);
    dsync(&e, NULL);
    tl_error err;
    cr_assert_eq(tl_io_rename_noreplace(e.io, &e.d, "a.tmp", &e.d, "v.json", &err), TL_OK);
    cr_assert_eq(tl_io_rename(e.io, &e.d, "v.json", &e.d, "target", &err), TL_OK);
    assert_content("target", "payload");
    env_crash(&e, NULL);
    assert_content("a.tmp", "payload");
    assert_content("target", "old");
    cr_assert(!exists(P("v.json")));
    /* and made durable it stays */
    cr_assert_eq(tl_io_rename(e.io, &e.d, "a.tmp", &e.d, "target", &err), TL_OK);
    dsync(&e, NULL);
    env_crash(&e, NULL);
    assert_content("target", "payload");
    cr_assert(!exists(P("a.tmp")));
    env_close(&e);
}

Test(io_crash, rename_between_directories_needs_both_fsyncs)
{
    env e;
    env_open(&e);
    tl_error err;
    cr_assert_eq(tl_io_mkdir_p(e.io, &e.d, "x", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_mkdir_p(e.io, &e.d, "y", 0755, &err), TL_OK);
    put(&e, "x/f", "moving", 1);
    dsync(&e, "x");
    cr_assert_eq(tl_io_rename(e.io, &e.d, "x/f", &e.d, "y/f", &err), TL_OK);
    dsync(&e, "y"); /* the new entry only */
    env_crash(&e, NULL);
    assert_content("x/f", "moving");
    assert_content("y/f", "moving");
    struct stat s1, s2;
    cr_assert_eq(stat(P("x/f"), &s1), 0);
    cr_assert_eq(stat(P("y/f"), &s2), 0);
    cr_assert_eq(s1.st_ino, s2.st_ino, "one inode under two names");
    env_close(&e);
}

Test(io_crash, unlink_and_rmdir_not_made_durable_come_back)
{
    env e;
    env_open(&e);
    tl_error err;
    cr_assert_eq(tl_io_mkdir_p(e.io, &e.d, "p/q", 0755, &err), TL_OK);
    put(&e, "p/q/seg", "rows", 1);
    dsync(&e, "p/q");
    put(&e, "p/keep", "k", 1);
    dsync(&e, "p");
    put(&e, "gone", "bye", 1);
    dsync(&e, NULL);
    cr_assert_eq(tl_io_unlink(e.io, &e.d, "p/q/seg", &err), TL_OK);
    cr_assert_eq(tl_io_rmdir(e.io, &e.d, "p/q", &err), TL_OK);
    cr_assert_eq(tl_io_unlink(e.io, &e.d, "gone", &err), TL_OK);
    cr_assert_eq(tl_io_rmdir(e.io, &e.d, "p", &err), TL_EIO, "rmdir of a non-empty dir");
    cr_assert_eq(err.sys_errno, ENOTEMPTY);
    assert_content("p/keep", "k");
    cr_assert(!exists(P("p/q")));
    dsync(&e, NULL); /* makes "gone" go; p/q's removal is in p, not synced */
    env_crash(&e, NULL);
    assert_content("p/q/seg", "rows");
    cr_assert(!exists(P("gone")));
    /* removal made durable */
    cr_assert_eq(tl_io_unlink(e.io, &e.d, "p/q/seg", &err), TL_OK);
    dsync(&e, "p/q");
    env_crash(&e, NULL);
    cr_assert(!exists(P("p/q/seg")));
    cr_assert(exists(P("p/q")));
    env_close(&e);
}

Test(io_crash, new_directory_vanishes_with_its_synced_contents)
{
    env e;
    env_open(&e);
    tl_error err;
    cr_assert_eq(tl_io_mkdir(e.io, &e.d, "symbol=A", 0755, &err), TL_OK); /* no parent fsync */
    cr_assert_eq(tl_io_mkdir(e.io, &e.d, "symbol=A/date=2025-11-18", 0755, &err), TL_OK);
    put(&e, "symbol=A/date=2025-11-18/s.tls", "seg", 1);
    dsync(&e, "symbol=A/date=2025-11-18");
    dsync(&e, "symbol=A");
    env_crash(&e, NULL);
    cr_assert(!exists(P("symbol=A")), "PL5: its own entry was never durable");
    /* with mkdir_p (which fsyncs each parent) it survives */
    cr_assert_eq(tl_io_mkdir_p(e.io, &e.d, "symbol=A/date=2025-11-18", 0755, &err), TL_OK);
    put(&e, "symbol=A/date=2025-11-18/s.tls", "seg", 1);
    dsync(&e, "symbol=A/date=2025-11-18");
    env_crash(&e, NULL);
    assert_content("symbol=A/date=2025-11-18/s.tls", "seg");
    env_close(&e);
}

Test(io_crash, atomic_noreplace_is_durable_when_acknowledged)
{
    env e;
    env_open(&e);
    tl_error err;
    cr_assert_eq(tl_io_write_file_atomic_noreplace(e.io, &e.d, "00.json", "commit", 6, &err),
                 TL_OK);
    env_crash(&e, NULL);
    assert_content("00.json", "commit");
    cr_assert_eq(count_tmp(), 0);
    env_close(&e);
}

/* Cut the power before every call k of a commit (with and without the link
 * fallback, with and without tearing): afterwards the file is absent or
 * whole, and whole whenever the commit was acknowledged. */
Test(io_crash, commit_cut_at_every_call_is_absent_or_whole)
{
    const char body[] = "{\"add\":{\"path\":\"symbol=A/x.tls\"}}\n";
    for (int mode = 0; mode < 4; mode++) {
        int fallback = mode & 1, tear = mode >> 1;
        uint64_t total = 0;
        {
            env e;
            env_open(&e);
            if (fallback)
                tl_io_fault_set_flags(e.fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
            tl_io_fault_reset_counts(e.fi);
            tl_error err;
            cr_assert_eq(tl_io_write_file_atomic_noreplace(e.io, &e.d, "07.json", body,
                                                           sizeof body - 1, &err),
                         TL_OK);
            total = tl_io_fault_count(e.fi, TL_IO_OP_ANY);
            cr_assert_eq(tl_io_unlink(e.io, &e.d, "07.json", &err), TL_OK);
            dsync(&e, NULL);
            env_close(&e);
        }
        cr_assert_geq(total, 7);
        for (uint64_t k = 1; k <= total + 1; k++) {
            for (uint64_t seed = 1; seed <= (tear ? 8u : 1u); seed++) {
                env e;
                env_open(&e);
                if (fallback)
                    tl_io_fault_set_flags(e.fi, TL_IO_FAULT_NO_RENAME_NOREPLACE);
                add_rule(e.fi, TL_IO_OP_ANY, k, TL_IO_FAULT_CUT, 0);
                tl_error err;
                int rc = tl_io_write_file_atomic_noreplace(e.io, &e.d, "07.json", body,
                                                           sizeof body - 1, &err);
                cr_assert_eq(rc == TL_OK, k > total, "k %llu: %s", (unsigned long long)k,
                             err.msg);
                tl_io_crash_opts o = {.tear = tear, .seed = seed * 1000 + k};
                env_crash(&e, &o);
                char buf[256];
                long n = slurp(P("07.json"), buf, sizeof buf);
                if (rc == TL_OK)
                    cr_assert_eq(n, (long)sizeof body - 1, "acknowledged, mode %d k %llu",
                                 mode, (unsigned long long)k);
                cr_assert(n < 0 || (n == (long)sizeof body - 1 && strcmp(buf, body) == 0),
                          "mode %d k %llu: torn commit of %ld bytes", mode,
                          (unsigned long long)k, n);
                env_close(&e);
                clean_root();
            }
        }
    }
}

Test(io_crash, tear_keeps_a_random_prefix_of_unsynced_bytes)
{
    char data[1101];
    for (int i = 0; i < 1100; i++)
        data[i] = (char)('a' + i % 26);
    data[1100] = '\0';
    int kept_more = 0, kept_less = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        env e;
        env_open(&e);
        tl_io_file f;
        tl_error err;
        cr_assert_eq(tl_io_open(e.io, &e.d, "f", O_WRONLY | O_CREAT, 0644, &f, &err), TL_OK);
        cr_assert_eq(tl_io_write_all(&f, data, 100, &err), TL_OK);
        cr_assert_eq(tl_io_fsync(&f, &err), TL_OK);
        cr_assert_eq(tl_io_write_all(&f, data + 100, 1000, &err), TL_OK);
        tl_io_close(&f, NULL);
        dsync(&e, NULL);
        tl_io_crash_opts o = {.tear = 1, .seed = seed};
        env_crash(&e, &o);
        char buf[2048];
        long n = slurp(P("f"), buf, sizeof buf);
        cr_assert(n >= 100 && n <= 1100, "length %ld", n);
        cr_assert_eq(memcmp(buf, data, (size_t)n), 0, "a prefix of what was written");
        kept_more += n > 100;
        kept_less += n < 1100;
        env_close(&e);
    }
    cr_assert_gt(kept_more, 0, "some seed keeps unsynced bytes");
    cr_assert_gt(kept_less, 0, "some seed loses some");
}

Test(io_crash, old_descriptors_are_dead_after_a_crash)
{
    env e;
    env_open(&e);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(e.io, &e.d, "f", O_WRONLY | O_CREAT, 0644, &f, &err), TL_OK);
    dsync(&e, NULL);
    env_crash(&e, NULL);
    cr_assert_eq(tl_io_write_all(&f, "x", 1, &err), TL_EIO);
    cr_assert_eq(tl_io_fsync(&f, &err), TL_EIO);
    cr_assert_eq(tl_io_close(&f, &err), TL_OK);
    /* the injector goes on modelling the new tree */
    put(&e, "g", "after", 1);
    dsync(&e, NULL);
    put(&e, "h", "lost", 1);
    env_crash(&e, NULL);
    assert_content("g", "after");
    cr_assert(!exists(P("h")));
    cr_assert(exists(P("f")));
    env_close(&e);
}

Test(io_crash, files_outside_root_are_not_touched)
{
    env e;
    env_open(&e);
    char out[600];
    snprintf(out, sizeof out, "%s/outside", dir);
    tl_io_file f;
    tl_error err;
    cr_assert_eq(tl_io_open(e.io, NULL, out, O_WRONLY | O_CREAT, 0644, &f, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&f, "kept", 4, &err), TL_OK);
    tl_io_close(&f, NULL);
    env_crash(&e, NULL);
    char buf[16];
    cr_assert_eq(slurp(out, buf, sizeof buf), 4);
    env_close(&e);
}

Test(io_crash, a_tree_existing_before_is_durable)
{
    cr_assert_eq(mkdir(P("_delta_log"), 0755), 0);
    spit(P("_delta_log/00.json"), "v0");
    spit(P("readme"), "r");
    env e;
    env_open(&e);
    put(&e, "_delta_log/01.json", "v1", 1);
    tl_error err;
    cr_assert_eq(tl_io_unlink(e.io, &e.d, "readme", &err), TL_OK);
    env_crash(&e, NULL);
    assert_content("_delta_log/00.json", "v0");
    assert_content("readme", "r");
    cr_assert(!exists(P("_delta_log/01.json")));
    env_close(&e);
}

/* ---- the write guard (LOG-C10) ----------------------------------------------- */

TestSuite(io_guard, .init = setup, .fini = teardown);

Test(io_guard, a_failed_fsync_stops_every_later_write_naming_it)
{
    tl_error err;
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(root, &f, &err), TL_OK, "%s", err.msg);
    tl_io_fault_rule rule = {.op = TL_IO_OP_FSYNC, .nth = 1, .action = TL_IO_FAULT_FAIL,
                             .err_no = EIO};
    cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
    tl_io_guard g;
    tl_io_guard_init(&g, tl_io_fault_io(f));
    cr_assert_eq(tl_io_guard_check(&g, &err), TL_OK);
    tl_io_file d, a;
    cr_assert_eq(tl_io_open(&g.io, NULL, root, O_RDONLY | O_DIRECTORY, 0, &d, &err), TL_OK);
    cr_assert_eq(tl_io_open(&g.io, &d, "a", O_WRONLY | O_CREAT | O_EXCL, 0644, &a, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&a, "abc", 3, &err), TL_OK);
    cr_assert_eq(tl_io_fsync(&a, &err), TL_EIO);
    cr_assert(strstr(err.msg, "fsync(") && strstr(err.msg, "/a"), "%s", err.msg);
    /* stopped: the guard says why */
    cr_assert_eq(tl_io_guard_check(&g, &err), TL_EIO);
    cr_assert(strstr(err.msg, "stopped after a failed fsync (fsync(") && strstr(err.msg, "/a)"),
              "%s", err.msg);
    cr_assert_eq(err.sys_errno, EIO);
    static const int mut[] = {TL_IO_OP_WRITE,     TL_IO_OP_PWRITE, TL_IO_OP_FTRUNCATE,
                              TL_IO_OP_FSYNC,     TL_IO_OP_FDATASYNC, TL_IO_OP_FSYNC_DIR,
                              TL_IO_OP_RENAME,    TL_IO_OP_LINK,   TL_IO_OP_UNLINK,
                              TL_IO_OP_MKDIR};
    uint64_t n0 = 0;
    for (size_t i = 0; i < sizeof mut / sizeof mut[0]; i++)
        n0 += tl_io_fault_count(f, mut[i]);
    /* every mutating call is refused without reaching the injector */
    cr_assert_eq(tl_io_write_all(&a, "d", 1, &err), TL_EIO);
    cr_assert(strstr(err.msg, "write(") && strstr(err.msg, "refused: writes through this handle "
                                                           "stopped after a failed fsync (fsync("),
              "%s", err.msg);
    cr_assert_eq(err.sys_errno, EIO, "the first failure's errno");
    cr_assert_eq(tl_io_pwrite_all(&a, "d", 1, 0, &err), TL_EIO);
    cr_assert_eq(tl_io_ftruncate(&a, 0, &err), TL_EIO);
    cr_assert_eq(tl_io_fsync(&a, &err), TL_EIO, "never retried");
    cr_assert_eq(tl_io_fdatasync(&a, &err), TL_EIO);
    cr_assert_eq(tl_io_fsync_dir(&g.io, &d, NULL, &err), TL_EIO);
    tl_io_file b;
    cr_assert_eq(tl_io_open(&g.io, &d, "b", O_WRONLY | O_CREAT | O_EXCL, 0644, &b, &err), TL_EIO);
    cr_assert(strstr(err.msg, "open(") && strstr(err.msg, "refused"), "%s", err.msg);
    cr_assert_eq(tl_io_rename(&g.io, &d, "a", &d, "c", &err), TL_EIO);
    cr_assert_eq(tl_io_rename_noreplace(&g.io, &d, "a", &d, "c", &err), TL_EIO);
    cr_assert_eq(tl_io_link(&g.io, &d, "a", &d, "c", &err), TL_EIO);
    cr_assert_eq(tl_io_unlink(&g.io, &d, "a", &err), TL_EIO);
    cr_assert_eq(tl_io_mkdir(&g.io, &d, "sub", 0755, &err), TL_EIO);
    cr_assert_eq(tl_io_mkdir_p(&g.io, &d, "x/y", 0755, &err), TL_EIO);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(&g.io, &d, "w", "x", 1, &err), TL_EIO);
    cr_assert(strstr(err.msg, "refused"), "%s", err.msg);
    uint64_t n1 = 0;
    for (size_t i = 0; i < sizeof mut / sizeof mut[0]; i++)
        n1 += tl_io_fault_count(f, mut[i]);
    cr_assert_eq(n1, n0, "refused calls reach nothing");
    cr_assert(exists(P("a")) && !exists(P("b")) && !exists(P("c")) && !exists(P("sub")));
    /* reads go on */
    char buf[4];
    char *bytes = NULL;
    size_t len = 0;
    cr_assert_eq(tl_io_read_file(&g.io, &d, "a", 100, &bytes, &len, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(len, 3);
    free(bytes);
    tl_io_file r;
    cr_assert_eq(tl_io_open(&g.io, &d, "a", O_RDONLY, 0, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_io_pread_exact(&r, buf, 3, 0, &err), TL_OK);
    tl_io_names nm;
    cr_assert_eq(tl_io_list(&g.io, &d, NULL, &nm, &err), TL_OK);
    tl_io_names_free(&nm);
    (void)tl_io_close(&r, NULL);
    (void)tl_io_close(&a, NULL);
    (void)tl_io_close(&d, NULL);
    tl_io_guard_destroy(&g);
    tl_io_fault_close(f);
}

Test(io_guard, a_failed_directory_fsync_stops_it_too)
{
    tl_error err;
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(root, &f, &err), TL_OK, "%s", err.msg);
    tl_io_fault_rule rule = {.op = TL_IO_OP_FSYNC_DIR, .nth = 1, .action = TL_IO_FAULT_FAIL,
                             .err_no = ENOSPC};
    cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
    tl_io_guard g;
    tl_io_guard_init(&g, tl_io_fault_io(f));
    tl_io_file d;
    cr_assert_eq(tl_io_open(&g.io, NULL, root, O_RDONLY | O_DIRECTORY, 0, &d, &err), TL_OK);
    /* the file and its fsync pass; the directory fsync at the end fails */
    cr_assert_eq(tl_io_write_file_atomic_noreplace(&g.io, &d, "x", "1", 1, &err), TL_EIO);
    cr_assert_eq(err.sys_errno, ENOSPC);
    cr_assert_eq(tl_io_guard_check(&g, &err), TL_EIO);
    cr_assert(strstr(err.msg, "No space left on device"), "%s", err.msg);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(&g.io, &d, "y", "1", 1, &err), TL_EIO);
    cr_assert(strstr(err.msg, "refused") && strstr(err.msg, "No space left"), "%s", err.msg);
    (void)tl_io_close(&d, NULL);
    tl_io_guard_destroy(&g);
    tl_io_fault_close(f);
}

Test(io_guard, without_failures_it_passes_everything_through)
{
    tl_error err;
    tl_io_guard g;
    tl_io_guard_init(&g, NULL);
    tl_io_file d;
    cr_assert_eq(tl_io_open(&g.io, NULL, root, O_RDONLY | O_DIRECTORY, 0, &d, &err), TL_OK);
    cr_assert_eq(tl_io_write_file_atomic_noreplace(&g.io, &d, "x", "12", 2, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(tl_io_mkdir_p(&g.io, &d, "p/q", 0755, &err), TL_OK);
    cr_assert_eq(tl_io_rename(&g.io, &d, "x", &d, "p/q/x", &err), TL_OK);
    cr_assert(exists(P("p/q/x")));
    cr_assert_eq(tl_io_guard_check(&g, &err), TL_OK);
    (void)tl_io_close(&d, NULL);
    tl_io_guard_destroy(&g);
}
