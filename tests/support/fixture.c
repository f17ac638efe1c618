/*
 * fixture.c - the shared test helpers of fixture.h. Plain libc and the
 * public API only; Criterion assertions for the test's own failures.
 */
#include "fixture.h"

#include <criterion/criterion.h>
#include <xxhash.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tlt_hash_cell(XXH64_state_t *st, const tl_batch *b, uint32_t c, uint32_t r)
{
    const tl_colvec *v = &b->cols[c];
    uint8_t present = (uint8_t)tl_bit_get(v->validity, r);
    XXH64_update(st, &present, 1);
    if (!present)
        return;
    size_t w = tl_type_width(b->defs[c].type);
    if (w) {
        XXH64_update(st, (const uint8_t *)v->values + (size_t)r * w, w);
    } else {
        uint32_t len = v->offsets[r + 1] - v->offsets[r];
        XXH64_update(st, &len, 4);
        XXH64_update(st, v->data + v->offsets[r], len);
    }
}

uint64_t tlt_row_hash(const tl_batch *b, uint32_t r)
{
    XXH64_state_t *st = XXH64_createState();
    cr_assert_not_null(st);
    XXH64_reset(st, 0);
    for (uint32_t c = 0; c < b->n_cols; c++)
        tlt_hash_cell(st, b, c, r);
    uint64_t h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

int tlt_cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

int tlt_rows_hash(tl_table *t, const tl_at *at, uint64_t *hash, uint64_t *rows, tl_error *err)
{
    tl_snapshot *s = NULL;
    int rc = tl_snapshot_open(t, at, &s, err);
    if (rc)
        return rc;
    tl_reader *r = NULL;
    rc = tl_reader_open(s, NULL, NULL, 0, &r, err);
    uint64_t *h = NULL;
    size_t n = 0, cap = 0;
    while (rc == TL_OK) {
        tl_batch b;
        rc = tl_reader_next(r, &b, err);
        if (rc || b.n_rows == 0)
            break;
        if (n + b.n_rows > cap) {
            cap = (n + b.n_rows) * 2;
            h = realloc(h, cap * sizeof *h);
            cr_assert_not_null(h);
        }
        for (uint32_t i = 0; i < b.n_rows; i++)
            h[n++] = tlt_row_hash(&b, i);
    }
    tl_reader_close(r);
    tl_snapshot_close(s);
    if (rc == TL_OK) {
        if (n)
            qsort(h, n, sizeof *h, tlt_cmp_u64);
        *hash = XXH64(h, n * sizeof *h, 7);
        *rows = n;
    }
    free(h);
    return rc;
}

int64_t tlt_append_gen(tl_table *t, const tl_gen_opts *go, const tl_append_opts *ao,
                       uint32_t batch_rows, tl_append_result *res)
{
    tl_error err;
    tl_gen *g = NULL;
    cr_assert_eq(tl_gen_open(go, &g, &err), TL_OK, "%s", err.msg);
    tl_append *a = NULL;
    cr_assert_eq(tl_append_begin(t, ao, &a, &err), TL_OK, "%s", err.msg);
    for (;;) {
        tl_batch b;
        int done;
        cr_assert_eq(tl_gen_next(g, batch_rows, &b, &done, &err), TL_OK, "%s", err.msg);
        if (done)
            break;
        cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    }
    tl_gen_close(g);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    if (res)
        *res = r;
    return r.version;
}

void *tlt_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    struct stat st;
    cr_assert_eq(fstat(fileno(f), &st), 0, "%s: %s", path, strerror(errno));
    size_t n = (size_t)st.st_size;
    char *b = malloc(n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, n, f), n, "%s: short read", path);
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

void tlt_spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(buf, 1, len, f), len, "%s: short write", path);
    cr_assert_eq(fclose(f), 0, "%s: %s", path, strerror(errno));
}

void tlt_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        cr_assert_not_null(d, "%s: %s", path, strerror(errno));
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            size_t n = strlen(path) + strlen(de->d_name) + 2;
            char *c = malloc(n);
            cr_assert_not_null(c);
            snprintf(c, n, "%s/%s", path, de->d_name);
            tlt_rm_tree(c);
            free(c);
        }
        closedir(d);
        cr_assert_eq(rmdir(path), 0, "rmdir %s: %s", path, strerror(errno));
    } else {
        cr_assert_eq(unlink(path), 0, "unlink %s: %s", path, strerror(errno));
    }
}

void tlt_cp_tree(const char *src, const char *dst)
{
    struct stat st;
    cr_assert_eq(lstat(src, &st), 0, "%s: %s", src, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        cr_assert_eq(mkdir(dst, 0777), 0, "mkdir %s: %s", dst, strerror(errno));
        DIR *d = opendir(src);
        cr_assert_not_null(d, "%s: %s", src, strerror(errno));
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            size_t ns = strlen(src) + strlen(de->d_name) + 2;
            size_t nt = strlen(dst) + strlen(de->d_name) + 2;
            char *s = malloc(ns), *t = malloc(nt);
            cr_assert(s && t);
            snprintf(s, ns, "%s/%s", src, de->d_name);
            snprintf(t, nt, "%s/%s", dst, de->d_name);
            tlt_cp_tree(s, t);
            free(s);
            free(t);
        }
        closedir(d);
        chmod(dst, st.st_mode & 07777);
    } else {
        int in = open(src, O_RDONLY | O_CLOEXEC);
        int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
        cr_assert(in >= 0 && out >= 0, "copy %s to %s: %s", src, dst, strerror(errno));
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            cr_assert_eq(write(out, buf, (size_t)n), n, "copy to %s", dst);
        cr_assert_eq(n, 0, "read %s: %s", src, strerror(errno));
        close(in);
        cr_assert_eq(close(out), 0, "%s: %s", dst, strerror(errno));
    }
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW);
}

int tlt_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

void tlt_tmpdir(char *dir, size_t cap, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    if (!base)
        base = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
    int n = snprintf(dir, cap, "%s/%s.XXXXXX", base, prefix);
    cr_assert(n > 0 && (size_t)n < cap, "temporary directory name too long");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}
