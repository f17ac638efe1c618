/*
 * io.c - the engine's I/O layer (io_int.h): the default ops table over the
 * real system calls, and the tl_io_* functions all table/log code calls.
 *
 * Invariants:
 * - A raw op does one system call (listdir: one opendir/readdir loop) and
 *   returns -errno; it never retries and never writes a message.
 * - The wrappers are the only place that retries EINTR and loops over short
 *   transfers, and the only place that writes messages: "op(path): strerror"
 *   with the code from io_code().
 * - fsync is never retried: a failure is reported once.
 * - Commits never use plain rename(): tl_io_rename_noreplace uses
 *   renameat2(RENAME_NOREPLACE), or link()+unlink() when the kernel or file
 *   system answers EINVAL/ENOSYS.
 * - Temporary names are <name>.tmp.<pid>.<seq>, created with O_EXCL, so two
 *   writers (threads or processes) never share one.
 * - The write guard (tl_io_guard) stops every mutating call after the first
 *   failed fsync/fdatasync made through it; the refusal names that failure.
 */
#include "io_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

/* ---- default ops ---------------------------------------------------------------- */

static int d_openat(void *ctx, int dirfd, const char *path, int flags, unsigned mode,
                    unsigned resolve)
{
    (void)ctx;
    int fd;
    if (resolve & TL_IO_RESOLVE_BENEATH) {
#ifdef SYS_openat2
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)(unsigned)flags;
        if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
            how.mode = mode;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
        errno = ENOSYS;
        fd = -1;
#endif
    } else {
        fd = openat(dirfd, path, flags, (mode_t)mode);
    }
    return fd < 0 ? -errno : fd;
}

static int d_close(void *ctx, int fd)
{
    (void)ctx;
    return close(fd) < 0 ? -errno : 0;
}

static int64_t d_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
    (void)ctx;
    if (off > INT64_MAX)
        return -EINVAL;
    ssize_t r = pread(fd, buf, n, (off_t)off);
    return r < 0 ? -errno : (int64_t)r;
}

static int64_t d_pwrite(void *ctx, int fd, const void *buf, size_t n, uint64_t off)
{
    (void)ctx;
    if (off > INT64_MAX)
        return -EINVAL;
    ssize_t r = pwrite(fd, buf, n, (off_t)off);
    return r < 0 ? -errno : (int64_t)r;
}

static int64_t d_write(void *ctx, int fd, const void *buf, size_t n)
{
    (void)ctx;
    ssize_t r = write(fd, buf, n);
    return r < 0 ? -errno : (int64_t)r;
}

static int d_fsync(void *ctx, int fd)
{
    (void)ctx;
    return fsync(fd) < 0 ? -errno : 0;
}

static int d_fdatasync(void *ctx, int fd)
{
    (void)ctx;
    return fdatasync(fd) < 0 ? -errno : 0;
}

static int d_ftruncate(void *ctx, int fd, uint64_t len)
{
    (void)ctx;
    if (len > INT64_MAX)
        return -EINVAL;
    return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

static int d_fstat(void *ctx, int fd, struct stat *st)
{
    (void)ctx;
    return fstat(fd, st) < 0 ? -errno : 0;
}

static int d_fstatat(void *ctx, int dirfd, const char *path, struct stat *st)
{
    (void)ctx;
    return fstatat(dirfd, path, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int d_renameat2(void *ctx, int od, const char *op, int nd, const char *np,
                       unsigned flags)
{
    (void)ctx;
    return renameat2(od, op, nd, np, flags) < 0 ? -errno : 0;
}

static int d_linkat(void *ctx, int od, const char *op, int nd, const char *np)
{
    (void)ctx;
    return linkat(od, op, nd, np, 0) < 0 ? -errno : 0;
}

static int d_unlinkat(void *ctx, int dirfd, const char *path, int flags)
{
    (void)ctx;
    return unlinkat(dirfd, path, flags) < 0 ? -errno : 0;
}

static int d_mkdirat(void *ctx, int dirfd, const char *path, unsigned mode)
{
    (void)ctx;
    return mkdirat(dirfd, path, (mode_t)mode) < 0 ? -errno : 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tl_io_list_raw(int dirfd, const char *path, char ***names, size_t *n_out)
{
    *names = NULL;
    *n_out = 0;
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n = 0;
    int e = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            e = errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t l = strlen(de->d_name) + 1;
        if (len + l > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc < len + l)
                nc *= 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                e = ENOMEM;
                break;
            }
            buf = nb;
            cap = nc;
        }
        memcpy(buf + len, de->d_name, l);
        len += l;
        n++;
    }
    closedir(d);
    if (e != 0) {
        free(buf);
        return -e;
    }
    char **blk = malloc(n * sizeof *blk + len + 1);
    if (!blk) {
        free(buf);
        return -ENOMEM;
    }
    char *s = (char *)(blk + n);
    if (len)
        memcpy(s, buf, len);
    free(buf);
    for (size_t i = 0; i < n; i++) {
        blk[i] = s;
        s += strlen(s) + 1;
    }
    if (n > 1)
        qsort(blk, n, sizeof *blk, cmp_name);
    *names = blk;
    *n_out = n;
    return 0;
}

static int d_listdir(void *ctx, int dirfd, const char *path, char ***names, size_t *n_out)
{
    (void)ctx;
    return tl_io_list_raw(dirfd, path, names, n_out);
}

static int d_mmap(void *ctx, int fd, size_t len, const void **addr)
{
    (void)ctx;
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    *addr = p;
    return 0;
}

static int d_munmap(void *ctx, const void *addr, size_t len)
{
    (void)ctx;
    return munmap((void *)(uintptr_t)addr, len) < 0 ? -errno : 0;
}

static const tl_io_ops default_ops = {
    .openat = d_openat,       .close = d_close,         .pread = d_pread,
    .pwrite = d_pwrite,       .write = d_write,         .fsync = d_fsync,
    .fdatasync = d_fdatasync, .ftruncate = d_ftruncate, .fstat = d_fstat,
    .fstatat = d_fstatat,     .renameat2 = d_renameat2, .linkat = d_linkat,
    .unlinkat = d_unlinkat,   .mkdirat = d_mkdirat,     .listdir = d_listdir,
    .mmap = d_mmap,           .munmap = d_munmap,
};

static const tl_io default_io = {&default_ops, NULL};

const tl_io *tl_io_default(void)
{
    return &default_io;
}

/* ---- messages -------------------------------------------------------------------- */

static int io_code(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return TL_ENOTFOUND;
    case EEXIST:
        return TL_ECONFLICT;
    case ENOMEM:
        return TL_ENOMEM;
    case EXDEV:
    case EISDIR:
    case ENAMETOOLONG:
    case EINVAL:
        return TL_EINVAL;
    default:
        return TL_EIO;
    }
}

/* The guard (below) refuses a call by returning -ESHUTDOWN after noting
 * itself here; the wrapper that formats the failure then names the first
 * failed fsync (same thread, right after the raw call). */
static _Thread_local tl_io_guard *guard_refused;

static void guard_explain(tl_error *err, int e)
{
    tl_io_guard *g = guard_refused;
    guard_refused = NULL;
    if (e != ESHUTDOWN || !g || !err)
        return;
    pthread_mutex_lock(&g->mu);
    int fe = g->first_errno;
    char first[sizeof g->first];
    memcpy(first, g->first, sizeof first);
    pthread_mutex_unlock(&g->mu);
    /* "write(/t/x) refused: writes through this handle stopped after a
     * failed fsync (fsync(/t/y): Input/output error)" */
    char *colon = strrchr(err->msg, ':');
    if (colon && strstr(colon, strerror(ESHUTDOWN)) == colon + 2)
        *colon = '\0';
    size_t l = strlen(err->msg);
    snprintf(err->msg + l, sizeof err->msg - l,
             " refused: writes through this handle stopped after a failed fsync (%s)", first);
    err->sys_errno = fe;
}

static int io_fail(tl_error *err, int e, const char *op, const char *path)
{
    int code = io_code(e);
    tl_error_sys(err, e, "%s(%s)", op, path);
    guard_explain(err, e);
    if (err)
        err->code = code;
    return code;
}

static int io_fail2(tl_error *err, int e, const char *op, const char *a, const char *b)
{
    int code = io_code(e);
    tl_error_sys(err, e, "%s(%s -> %s)", op, a, b);
    guard_explain(err, e);
    if (err)
        err->code = code;
    return code;
}

#define DISP_MAX 1024

/* dir->path "/" name for messages (truncated to fit). */
static const char *disp(char *buf, const tl_io_file *dir, const char *name)
{
    if (!name || !*name)
        name = ".";
    if (!dir || !dir->path || name[0] == '/')
        return name;
    if (strcmp(name, ".") == 0)
        return dir->path;
    snprintf(buf, DISP_MAX, "%s/%s", dir->path, name);
    return buf;
}

static char *join_alloc(const tl_io_file *dir, const char *name)
{
    char buf[DISP_MAX];
    const char *d = disp(buf, dir, name);
    if (dir && dir->path && name && name[0] != '/' && strcmp(name, ".") != 0 && *name) {
        size_t a = strlen(dir->path), b = strlen(name);
        char *p = malloc(a + b + 2);
        if (p) {
            memcpy(p, dir->path, a);
            p[a] = '/';
            memcpy(p + a + 1, name, b + 1);
        }
        return p;
    }
    return strdup(d);
}

static inline const tl_io *io_or_default(const tl_io *io)
{
    return io ? io : &default_io;
}

static inline int dfd(const tl_io_file *dir)
{
    return dir ? dir->fd : AT_FDCWD;
}

/* ---- files ------------------------------------------------------------------------- */

/* The handle's display path, allocated before the open: once an open with
 * O_CREAT | O_EXCL has succeeded nothing may fail, or the caller would take
 * the file it has just created for one never made and leave it behind. */
static int open_path(const tl_io_file *dir, const char *name, char **path, tl_error *err)
{
    *path = join_alloc(dir, name);
    if (*path)
        return TL_OK;
    char buf[DISP_MAX];
    return tl_error_set(err, TL_ENOMEM, "open(%s): out of memory", disp(buf, dir, name));
}

int tl_io_open(const tl_io *io, const tl_io_file *dir, const char *name, int flags,
               unsigned mode, tl_io_file *out, tl_error *err)
{
    *out = (tl_io_file)TL_IO_FILE_INIT;
    io = io_or_default(io);
    char *path;
    int rc = open_path(dir, name, &path, err);
    if (rc)
        return rc;
    int fd;
    do
        fd = io->ops->openat(io->ctx, dfd(dir), name, flags | O_CLOEXEC, mode, 0);
    while (fd == -EINTR);
    if (fd < 0) {
        free(path);
        char buf[DISP_MAX];
        return io_fail(err, -fd, "open", disp(buf, dir, name));
    }
    *out = (tl_io_file){.io = io, .fd = fd, .path = path};
    return TL_OK;
}

/* Fallback of tl_io_open_beneath without openat2: one component at a time,
 * O_NOFOLLOW everywhere, so no symlink is ever followed, and ".." refused. */
static int open_walk(const tl_io *io, int dirfd, const char *rel, int flags, unsigned mode)
{
    if (rel[0] == '/')
        return -EXDEV;
    char *copy = strdup(rel);
    if (!copy)
        return -ENOMEM;
    int cur = dirfd, r = 0;
    char *p = copy;
    for (;;) {
        char *slash = strchr(p, '/');
        while (slash && slash[1] == '/') /* "a//b" */
            *slash++ = '\0';
        if (slash)
            *slash = '\0';
        const char *comp = *p ? p : ".";
        if (strcmp(comp, "..") == 0) {
            r = -EXDEV;
            break;
        }
        int last = !slash || slash[1] == '\0';
        int fd;
        if (last) {
            int fl = flags | O_CLOEXEC | (strcmp(comp, ".") == 0 ? 0 : O_NOFOLLOW);
            do
                fd = io->ops->openat(io->ctx, cur, comp, fl, mode, 0);
            while (fd == -EINTR);
        } else {
            fd = io->ops->openat(io->ctx, cur, comp,
                                 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, 0);
            if (fd == -ENOTDIR) {
                struct stat st;
                if (io->ops->fstatat(io->ctx, cur, comp, &st) == 0 && S_ISLNK(st.st_mode))
                    fd = -ELOOP;
            }
        }
        if (fd < 0) {
            r = fd;
            break;
        }
        if (cur != dirfd)
            io->ops->close(io->ctx, cur);
        cur = fd;
        if (last) {
            r = fd;
            cur = dirfd; /* keep the result open */
            break;
        }
        p = slash + 1;
    }
    if (cur != dirfd)
        io->ops->close(io->ctx, cur);
    free(copy);
    return r;
}

int tl_io_open_beneath(const tl_io *io, const tl_io_file *dir, const char *rel, int flags,
                       unsigned mode, tl_io_file *out, tl_error *err)
{
    *out = (tl_io_file)TL_IO_FILE_INIT;
    io = io_or_default(io);
    if (!dir || !rel)
        return tl_error_set(err, TL_EINVAL, "open_beneath: needs a directory and a path");
    char *path;
    int rc = open_path(dir, rel, &path, err);
    if (rc)
        return rc;
    int fd;
    do
        fd = io->ops->openat(io->ctx, dir->fd, rel, flags | O_CLOEXEC, mode,
                             TL_IO_RESOLVE_BENEATH);
    while (fd == -EINTR);
    if (fd == -ENOSYS)
        fd = open_walk(io, dir->fd, rel, flags, mode);
    if (fd < 0) {
        free(path);
        char buf[DISP_MAX];
        const char *p = disp(buf, dir, rel);
        if (fd == -EXDEV || fd == -ELOOP) {
            tl_error_sys(err, -fd, "open(%s): the path leaves %s or follows a symbolic link",
                         p, dir->path ? dir->path : ".");
            if (err)
                err->code = TL_EINVAL;
            return TL_EINVAL;
        }
        return io_fail(err, -fd, "open", p);
    }
    *out = (tl_io_file){.io = io, .fd = fd, .path = path};
    return TL_OK;
}

int tl_io_close(tl_io_file *f, tl_error *err)
{
    if (!f)
        return TL_OK;
    int rc = TL_OK;
    if (f->fd >= 0 && f->io) {
        int r = f->io->ops->close(f->io->ctx, f->fd);
        if (r < 0)
            rc = io_fail(err, -r, "close", f->path ? f->path : "?");
    }
    free(f->path);
    f->path = NULL;
    f->fd = -1;
    return rc;
}

int tl_io_pread(tl_io_file *f, void *buf, size_t n, uint64_t off, size_t *got,
                tl_error *err)
{
    size_t done = 0;
    *got = 0;
    while (done < n) {
        int64_t r = f->io->ops->pread(f->io->ctx, f->fd, (char *)buf + done, n - done,
                                      off + done);
        if (r == -EINTR)
            continue;
        if (r < 0) {
            *got = done;
            int code = io_code((int)-r);
            tl_error_sys(err, (int)-r, "pread(%s, %zu bytes at offset %llu)", f->path, n,
                         (unsigned long long)off);
            if (err)
                err->code = code;
            return code;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return TL_OK;
}

int tl_io_pread_exact(tl_io_file *f, void *buf, size_t n, uint64_t off, tl_error *err)
{
    size_t got;
    int rc = tl_io_pread(f, buf, n, off, &got, err);
    if (rc != TL_OK)
        return rc;
    if (got != n)
        return tl_error_set(err, TL_ECORRUPT,
                            "pread(%s): expected %zu bytes at offset %llu, the file ends "
                            "after %zu", f->path, n, (unsigned long long)off, got);
    return TL_OK;
}

int tl_io_pwrite_all(tl_io_file *f, const void *buf, size_t n, uint64_t off, tl_error *err)
{
    size_t done = 0;
    while (done < n) {
        int64_t r = f->io->ops->pwrite(f->io->ctx, f->fd, (const char *)buf + done,
                                       n - done, off + done);
        if (r == -EINTR)
            continue;
        if (r == 0)
            r = -EIO; /* never loop forever on a device that takes nothing */
        if (r < 0) {
            int code = io_code((int)-r);
            tl_error_sys(err, (int)-r, "pwrite(%s, %zu bytes at offset %llu)", f->path,
                         n - done, (unsigned long long)(off + done));
            guard_explain(err, (int)-r);
            if (err)
                err->code = code;
            return code;
        }
        done += (size_t)r;
    }
    return TL_OK;
}

int tl_io_write_all(tl_io_file *f, const void *buf, size_t n, tl_error *err)
{
    size_t done = 0;
    while (done < n) {
        int64_t r = f->io->ops->write(f->io->ctx, f->fd, (const char *)buf + done, n - done);
        if (r == -EINTR)
            continue;
        if (r == 0)
            r = -EIO;
        if (r < 0) {
            int code = io_code((int)-r);
            tl_error_sys(err, (int)-r, "write(%s, %zu of %zu bytes left)", f->path,
                         n - done, n);
            guard_explain(err, (int)-r);
            if (err)
                err->code = code;
            return code;
        }
        done += (size_t)r;
    }
    return TL_OK;
}

int tl_io_sink_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    return tl_io_write_all((tl_io_file *)ctx, buf, len, err);
}

int tl_io_bufsink_write(void *ctx, const void *p, size_t len, tl_error *err)
{
    tl_io_bufsink *cs = ctx;
    const uint8_t *src = p;
    cs->total += len;
    while (len) {
        if (cs->n == 0 && len >= TL_IO_CHUNK) { /* whole chunks straight through */
            size_t k = len - len % TL_IO_CHUNK;
            int rc = tl_io_write_all(cs->f, src, k, err);
            if (rc)
                return rc;
            src += k;
            len -= k;
            continue;
        }
        size_t k = TL_IO_CHUNK - cs->n < len ? TL_IO_CHUNK - cs->n : len;
        memcpy(cs->buf + cs->n, src, k);
        cs->n += k;
        src += k;
        len -= k;
        if (cs->n == TL_IO_CHUNK) {
            int rc = tl_io_write_all(cs->f, cs->buf, TL_IO_CHUNK, err);
            if (rc)
                return rc;
            cs->n = 0;
        }
    }
    return TL_OK;
}

int tl_io_bufsink_flush(tl_io_bufsink *cs, tl_error *err)
{
    int rc = cs->n ? tl_io_write_all(cs->f, cs->buf, cs->n, err) : TL_OK;
    cs->n = 0;
    return rc;
}

static void guard_name_failure(const tl_io *io, const char *op, const char *path, int e);

int tl_io_fsync(tl_io_file *f, tl_error *err)
{
    int r = f->io->ops->fsync(f->io->ctx, f->fd);
    if (r < 0)
        guard_name_failure(f->io, "fsync", f->path, -r);
    return r < 0 ? io_fail(err, -r, "fsync", f->path) : TL_OK;
}

int tl_io_fdatasync(tl_io_file *f, tl_error *err)
{
    int r = f->io->ops->fdatasync(f->io->ctx, f->fd);
    if (r < 0)
        guard_name_failure(f->io, "fdatasync", f->path, -r);
    return r < 0 ? io_fail(err, -r, "fdatasync", f->path) : TL_OK;
}

int tl_io_ftruncate(tl_io_file *f, uint64_t len, tl_error *err)
{
    int r;
    do
        r = f->io->ops->ftruncate(f->io->ctx, f->fd, len);
    while (r == -EINTR);
    if (r < 0) {
        int code = io_code(-r);
        tl_error_sys(err, -r, "ftruncate(%s, %llu)", f->path, (unsigned long long)len);
        guard_explain(err, -r);
        if (err)
            err->code = code;
        return code;
    }
    return TL_OK;
}

int tl_io_fstat(tl_io_file *f, struct stat *st, tl_error *err)
{
    int r = f->io->ops->fstat(f->io->ctx, f->fd, st);
    return r < 0 ? io_fail(err, -r, "fstat", f->path) : TL_OK;
}

/* ---- names --------------------------------------------------------------------------- */

int tl_io_stat(const tl_io *io, const tl_io_file *dir, const char *name, struct stat *st,
               tl_error *err)
{
    io = io_or_default(io);
    int r = io->ops->fstatat(io->ctx, dfd(dir), name, st);
    char buf[DISP_MAX];
    return r < 0 ? io_fail(err, -r, "stat", disp(buf, dir, name)) : TL_OK;
}

int tl_io_rename_noreplace(const tl_io *io, const tl_io_file *olddir, const char *oldname,
                           const tl_io_file *newdir, const char *newname, tl_error *err)
{
    io = io_or_default(io);
    char b1[DISP_MAX], b2[DISP_MAX];
    int r = io->ops->renameat2(io->ctx, dfd(olddir), oldname, dfd(newdir), newname,
                               RENAME_NOREPLACE);
    if (r == 0)
        return TL_OK;
    if (r != -EINVAL && r != -ENOSYS)
        return io_fail2(err, -r, "rename_noreplace", disp(b1, olddir, oldname),
                        disp(b2, newdir, newname));
    /* No NOREPLACE here: link() is put-if-absent too. */
    r = io->ops->linkat(io->ctx, dfd(olddir), oldname, dfd(newdir), newname);
    if (r == -EPERM || r == -EOPNOTSUPP) {
        tl_error_sys(err, -r, "rename_noreplace(%s -> %s): the file system supports "
                     "neither RENAME_NOREPLACE nor hard links",
                     disp(b1, olddir, oldname), disp(b2, newdir, newname));
        if (err)
            err->code = TL_EUNSUPPORTED;
        return TL_EUNSUPPORTED;
    }
    if (r < 0)
        return io_fail2(err, -r, "link", disp(b1, olddir, oldname),
                        disp(b2, newdir, newname));
    /* The move happened; a failing unlink leaves an orphan, not an error. */
    (void)io->ops->unlinkat(io->ctx, dfd(olddir), oldname, 0);
    return TL_OK;
}

int tl_io_rename(const tl_io *io, const tl_io_file *olddir, const char *oldname,
                 const tl_io_file *newdir, const char *newname, tl_error *err)
{
    io = io_or_default(io);
    char b1[DISP_MAX], b2[DISP_MAX];
    int r = io->ops->renameat2(io->ctx, dfd(olddir), oldname, dfd(newdir), newname, 0);
    return r < 0 ? io_fail2(err, -r, "rename", disp(b1, olddir, oldname),
                            disp(b2, newdir, newname))
                 : TL_OK;
}

int tl_io_link(const tl_io *io, const tl_io_file *olddir, const char *oldname,
               const tl_io_file *newdir, const char *newname, tl_error *err)
{
    io = io_or_default(io);
    char b1[DISP_MAX], b2[DISP_MAX];
    int r = io->ops->linkat(io->ctx, dfd(olddir), oldname, dfd(newdir), newname);
    return r < 0 ? io_fail2(err, -r, "link", disp(b1, olddir, oldname),
                            disp(b2, newdir, newname))
                 : TL_OK;
}

int tl_io_unlink(const tl_io *io, const tl_io_file *dir, const char *name, tl_error *err)
{
    io = io_or_default(io);
    char buf[DISP_MAX];
    int r = io->ops->unlinkat(io->ctx, dfd(dir), name, 0);
    return r < 0 ? io_fail(err, -r, "unlink", disp(buf, dir, name)) : TL_OK;
}

int tl_io_rmdir(const tl_io *io, const tl_io_file *dir, const char *name, tl_error *err)
{
    io = io_or_default(io);
    char buf[DISP_MAX];
    int r = io->ops->unlinkat(io->ctx, dfd(dir), name, AT_REMOVEDIR);
    return r < 0 ? io_fail(err, -r, "rmdir", disp(buf, dir, name)) : TL_OK;
}

int tl_io_mkdir(const tl_io *io, const tl_io_file *dir, const char *name, unsigned mode,
                tl_error *err)
{
    io = io_or_default(io);
    char buf[DISP_MAX];
    int r = io->ops->mkdirat(io->ctx, dfd(dir), name, mode);
    return r < 0 ? io_fail(err, -r, "mkdir", disp(buf, dir, name)) : TL_OK;
}

int tl_io_fsync_dir(const tl_io *io, const tl_io_file *dir, const char *name, tl_error *err)
{
    io = io_or_default(io);
    tl_io_file d;
    int rc = tl_io_open(io, dir, name && *name ? name : ".", O_RDONLY | O_DIRECTORY, 0, &d,
                        err);
    if (rc != TL_OK)
        return rc;
    rc = tl_io_fsync(&d, err);
    tl_error cerr;
    int crc = tl_io_close(&d, &cerr);
    if (rc == TL_OK && crc != TL_OK) {
        if (err)
            *err = cerr;
        rc = crc;
    }
    return rc;
}

int tl_io_mkdir_p(const tl_io *io, const tl_io_file *dir, const char *rel, unsigned mode,
                  tl_error *err)
{
    io = io_or_default(io);
    size_t n = strlen(rel);
    char *p = malloc(n + 1);
    if (!p)
        return tl_error_set(err, TL_ENOMEM, "mkdir(%s): out of memory", rel);
    memcpy(p, rel, n + 1);
    int rc = TL_OK;
    size_t i = 0;
    while (rc == TL_OK && i < n) {
        while (i < n && p[i] == '/')
            i++;
        if (i == n)
            break;
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        char saved = p[j];
        p[j] = '\0';
        int r = io->ops->mkdirat(io->ctx, dfd(dir), p, mode);
        char buf[DISP_MAX];
        if (r == 0) {
            /* make the new entry durable: fsync its parent */
            size_t k = i;
            while (k > 0 && p[k - 1] == '/')
                k--;
            if (k == 0) {
                rc = tl_io_fsync_dir(io, dir, rel[0] == '/' ? "/" : ".", err);
            } else {
                char c = p[k];
                p[k] = '\0';
                rc = tl_io_fsync_dir(io, dir, p, err);
                p[k] = c;
            }
        } else if (r == -EEXIST) {
            struct stat st;
            int s = io->ops->fstatat(io->ctx, dfd(dir), p, &st);
            if (s < 0)
                rc = io_fail(err, -s, "stat", disp(buf, dir, p));
            else if (!S_ISDIR(st.st_mode))
                rc = tl_error_set(err, TL_EINVAL, "mkdir(%s): exists and is not a directory",
                                  disp(buf, dir, p));
        } else {
            rc = io_fail(err, -r, "mkdir", disp(buf, dir, p));
        }
        p[j] = saved;
        i = j;
    }
    free(p);
    return rc;
}

/* ---- listing --------------------------------------------------------------------------- */

int tl_io_list(const tl_io *io, const tl_io_file *dir, const char *name, tl_io_names *out,
               tl_error *err)
{
    io = io_or_default(io);
    out->names = NULL;
    out->n = 0;
    const char *nm = name && *name ? name : ".";
    char **names = NULL;
    size_t n = 0;
    int r = io->ops->listdir(io->ctx, dfd(dir), nm, &names, &n);
    if (r < 0) {
        char buf[DISP_MAX];
        return io_fail(err, -r, "opendir", disp(buf, dir, nm));
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    out->names = names;
    out->n = n;
    return TL_OK;
}

void tl_io_names_free(tl_io_names *names)
{
    if (!names)
        return;
    free(names->names);
    names->names = NULL;
    names->n = 0;
}

/* ---- mapping ----------------------------------------------------------------------------- */

int tl_io_map_file(tl_io_file *f, tl_io_map *out, tl_error *err)
{
    out->io = f->io;
    out->addr = NULL;
    out->len = 0;
    struct stat st;
    int rc = tl_io_fstat(f, &st, err);
    if (rc != TL_OK)
        return rc;
    if (st.st_size == 0)
        return TL_OK;
    if ((uint64_t)st.st_size > SIZE_MAX)
        return tl_error_set(err, TL_EINVAL, "mmap(%s): %lld bytes do not fit the address space",
                            f->path, (long long)st.st_size);
    const void *addr = NULL;
    int r = f->io->ops->mmap(f->io->ctx, f->fd, (size_t)st.st_size, &addr);
    if (r < 0)
        return io_fail(err, -r, "mmap", f->path);
    out->addr = addr;
    out->len = (size_t)st.st_size;
    return TL_OK;
}

int tl_io_unmap(tl_io_map *m, tl_error *err)
{
    if (!m || !m->addr)
        return TL_OK;
    int r = m->io->ops->munmap(m->io->ctx, m->addr, m->len);
    m->addr = NULL;
    m->len = 0;
    return r < 0 ? io_fail(err, -r, "munmap", "mapping") : TL_OK;
}

/* ---- whole files --------------------------------------------------------------------------- */

static atomic_uint tmp_seq;

/* Create name.tmp.<pid>.<seq> with O_EXCL; tmp receives its name. */
static int create_tmp(const tl_io *io, const tl_io_file *dir, const char *name, char *tmp,
                      size_t tmp_cap, tl_io_file *f, tl_error *err)
{
    for (int tries = 0;; tries++) {
        unsigned seq = atomic_fetch_add(&tmp_seq, 1u);
        int n = snprintf(tmp, tmp_cap, "%s.tmp.%ld.%u", name, (long)getpid(), seq);
        if (n < 0 || (size_t)n >= tmp_cap)
            return tl_error_set(err, TL_EINVAL, "%s: name too long for a temporary file", name);
        int rc = tl_io_open(io, dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, f, err);
        if (rc != TL_ECONFLICT || tries >= 100)
            return rc;
    }
}

/* The directory holding name, relative to dir: its prefix up to the last
 * '/', or "." */
static const char *parent_of(const char *name, char *buf, size_t cap)
{
    const char *s = strrchr(name, '/');
    if (!s)
        return ".";
    size_t n = (size_t)(s - name);
    if (n == 0)
        return "/";
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}

static int write_file(const tl_io *io, const tl_io_file *dir, const char *name,
                      const void *bytes, size_t len, int noreplace, tl_error *err)
{
    io = io_or_default(io);
    char tmp[PATH_MAX];
    tl_io_file f;
    int rc = create_tmp(io, dir, name, tmp, sizeof tmp, &f, err);
    if (rc != TL_OK)
        return rc;
    rc = tl_io_write_all(&f, bytes, len, err);
    if (rc == TL_OK)
        rc = tl_io_fsync(&f, err);
    int crc = tl_io_close(&f, rc == TL_OK ? err : NULL);
    if (rc == TL_OK)
        rc = crc;
    if (rc == TL_OK)
        rc = noreplace ? tl_io_rename_noreplace(io, dir, tmp, dir, name, err)
                       : tl_io_rename(io, dir, tmp, dir, name, err);
    if (rc != TL_OK) {
        (void)io->ops->unlinkat(io->ctx, dfd(dir), tmp, 0);
        return rc;
    }
    char pb[PATH_MAX];
    return tl_io_fsync_dir(io, dir, parent_of(name, pb, sizeof pb), err);
}

int tl_io_write_file_atomic_noreplace(const tl_io *io, const tl_io_file *dir, const char *name,
                                      const void *bytes, size_t len, tl_error *err)
{
    return write_file(io, dir, name, bytes, len, 1, err);
}

int tl_io_write_file_replace(const tl_io *io, const tl_io_file *dir, const char *name,
                             const void *bytes, size_t len, tl_error *err)
{
    return write_file(io, dir, name, bytes, len, 0, err);
}

int tl_io_read_file(const tl_io *io, const tl_io_file *dir, const char *name, size_t max_len,
                    char **bytes, size_t *len, tl_error *err)
{
    *bytes = NULL;
    *len = 0;
    tl_io_file f;
    int rc = tl_io_open(io, dir, name, O_RDONLY, 0, &f, err);
    if (rc != TL_OK)
        return rc;
    struct stat st;
    rc = tl_io_fstat(&f, &st, err);
    char *buf = NULL;
    size_t got = 0;
    if (rc == TL_OK && (uint64_t)st.st_size > max_len)
        rc = tl_error_set(err, TL_ECORRUPT, "read(%s): the file has %lld bytes, more than "
                          "the limit of %zu", f.path, (long long)st.st_size, max_len);
    if (rc == TL_OK && !(buf = malloc((size_t)st.st_size + 1)))
        rc = tl_error_set(err, TL_ENOMEM, "read(%s): out of memory for %lld bytes", f.path,
                          (long long)st.st_size);
    if (rc == TL_OK)
        rc = tl_io_pread(&f, buf, (size_t)st.st_size, 0, &got, err);
    (void)tl_io_close(&f, NULL);
    if (rc != TL_OK) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *bytes = buf;
    *len = got;
    return TL_OK;
}

/* ---- the write guard ------------------------------------------------------------------------ */

static const tl_io_ops guard_ops;

static tl_io_guard *gctx(void *ctx)
{
    return ctx;
}

/* Refuse when stopped: -ESHUTDOWN (guard_explain names the first failure). */
static int guard_refuse(tl_io_guard *g)
{
    pthread_mutex_lock(&g->mu);
    int stopped = g->stopped;
    pthread_mutex_unlock(&g->mu);
    if (!stopped)
        return 0;
    guard_refused = g;
    return -ESHUTDOWN;
}

static void guard_stop(tl_io_guard *g, int e)
{
    pthread_mutex_lock(&g->mu);
    if (!g->stopped) {
        g->stopped = 1;
        g->first_errno = e;
        snprintf(g->first, sizeof g->first, "a sync: %s", strerror(e));
    }
    pthread_mutex_unlock(&g->mu);
}

static void guard_name_failure(const tl_io *io, const char *op, const char *path, int e)
{
    if (!io || io->ops != &guard_ops || e == ESHUTDOWN)
        return;
    tl_io_guard *g = gctx(io->ctx);
    pthread_mutex_lock(&g->mu);
    if (!g->named) {
        g->named = 1;
        g->stopped = 1;
        g->first_errno = e;
        snprintf(g->first, sizeof g->first, "%s(%s): %s", op, path ? path : "?", strerror(e));
    }
    pthread_mutex_unlock(&g->mu);
}

static int g_openat(void *ctx, int dirfd, const char *path, int flags, unsigned mode,
                    unsigned resolve)
{
    tl_io_guard *g = gctx(ctx);
    int r;
    if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && (r = guard_refuse(g)))
        return r;
    return g->inner->ops->openat(g->inner->ctx, dirfd, path, flags, mode, resolve);
}

static int g_close(void *ctx, int fd)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->close(g->inner->ctx, fd);
}

static int64_t g_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->pread(g->inner->ctx, fd, buf, n, off);
}

static int64_t g_pwrite(void *ctx, int fd, const void *buf, size_t n, uint64_t off)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->pwrite(g->inner->ctx, fd, buf, n, off);
}

static int64_t g_write(void *ctx, int fd, const void *buf, size_t n)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->write(g->inner->ctx, fd, buf, n);
}

static int g_fsync(void *ctx, int fd)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    if (r)
        return r;
    r = g->inner->ops->fsync(g->inner->ctx, fd);
    if (r < 0)
        guard_stop(g, -r); /* EINTR too: never retried (LOG-C10) */
    return r;
}

static int g_fdatasync(void *ctx, int fd)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    if (r)
        return r;
    r = g->inner->ops->fdatasync(g->inner->ctx, fd);
    if (r < 0)
        guard_stop(g, -r);
    return r;
}

static int g_ftruncate(void *ctx, int fd, uint64_t len)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->ftruncate(g->inner->ctx, fd, len);
}

static int g_fstat(void *ctx, int fd, struct stat *st)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->fstat(g->inner->ctx, fd, st);
}

static int g_fstatat(void *ctx, int dirfd, const char *path, struct stat *st)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->fstatat(g->inner->ctx, dirfd, path, st);
}

static int g_renameat2(void *ctx, int od, const char *op, int nd, const char *np,
                       unsigned flags)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->renameat2(g->inner->ctx, od, op, nd, np, flags);
}

static int g_linkat(void *ctx, int od, const char *op, int nd, const char *np)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->linkat(g->inner->ctx, od, op, nd, np);
}

static int g_unlinkat(void *ctx, int dirfd, const char *path, int flags)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->unlinkat(g->inner->ctx, dirfd, path, flags);
}

static int g_mkdirat(void *ctx, int dirfd, const char *path, unsigned mode)
{
    tl_io_guard *g = gctx(ctx);
    int r = guard_refuse(g);
    return r ? r : g->inner->ops->mkdirat(g->inner->ctx, dirfd, path, mode);
}

static int g_listdir(void *ctx, int dirfd, const char *path, char ***names, size_t *n)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->listdir(g->inner->ctx, dirfd, path, names, n);
}

static int g_mmap(void *ctx, int fd, size_t len, const void **addr)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->mmap(g->inner->ctx, fd, len, addr);
}

static int g_munmap(void *ctx, const void *addr, size_t len)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->munmap(g->inner->ctx, addr, len);
}

static int g_ring_read(void *ctx, int fd, size_t n, uint64_t off)
{
    tl_io_guard *g = gctx(ctx);
    return g->inner->ops->ring_read ? g->inner->ops->ring_read(g->inner->ctx, fd, n, off) : 0;
}

static const tl_io_ops guard_ops = {
    .openat = g_openat,       .close = g_close,         .pread = g_pread,
    .pwrite = g_pwrite,       .write = g_write,         .fsync = g_fsync,
    .fdatasync = g_fdatasync, .ftruncate = g_ftruncate, .fstat = g_fstat,
    .fstatat = g_fstatat,     .renameat2 = g_renameat2, .linkat = g_linkat,
    .unlinkat = g_unlinkat,   .mkdirat = g_mkdirat,     .listdir = g_listdir,
    .mmap = g_mmap,           .munmap = g_munmap,       .ring_read = g_ring_read,
};

void tl_io_guard_init(tl_io_guard *g, const tl_io *inner)
{
    memset(g, 0, sizeof *g);
    g->io.ops = &guard_ops;
    g->io.ctx = g;
    g->inner = io_or_default(inner);
    pthread_mutex_init(&g->mu, NULL);
}

void tl_io_guard_destroy(tl_io_guard *g)
{
    if (g)
        pthread_mutex_destroy(&g->mu);
}

int tl_io_guard_check(tl_io_guard *g, tl_error *err)
{
    pthread_mutex_lock(&g->mu);
    int stopped = g->stopped, e = g->first_errno;
    char first[sizeof g->first];
    memcpy(first, g->first, sizeof first);
    pthread_mutex_unlock(&g->mu);
    if (!stopped)
        return TL_OK;
    tl_error_set(err, TL_EIO, "writes through this handle stopped after a failed fsync (%s); "
                 "open the table again (LOG-C10)", first);
    if (err)
        err->sys_errno = e;
    return TL_EIO;
}
