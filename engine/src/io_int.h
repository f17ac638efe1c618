/*
 * io_int.h - the engine's one I/O layer. Every file operation of the table,
 * log, checkpoint and vacuum code goes through a tl_io, so that tests can
 * swap in the fault injector (io_fault.c) to count calls, fail the k-th one,
 * abort, or cut the power and rewrite the tree to what a power loss leaves.
 *
 * Two levels:
 *
 * 1. tl_io_ops: raw, syscall-shaped operations. Each does one system call
 *    (listdir: an opendir/readdir loop) and returns a value >= 0 on success
 *    or -errno on failure. No retries (EINTR comes back as -EINTR), no
 *    messages. tl_io_default() wraps the real system calls; the injector
 *    wraps those. A new backend implements every member.
 *
 * 2. tl_io_* functions: what engine code calls. They retry EINTR (open,
 *    read, write, truncate), loop over short reads and writes, and on failure
 *    fill err with "op(path): strerror" (for example
 *    "fsync(/t/_delta_log/00000000000000000007.json.tmp.123.0): Input/output
 *    error") and return a code from this mapping:
 *        ENOENT, ENOTDIR            -> TL_ENOTFOUND
 *        EEXIST                     -> TL_ECONFLICT (the name is taken)
 *        ENOMEM                     -> TL_ENOMEM
 *        EXDEV, ELOOP (beneath open), EISDIR, ENAMETOOLONG, EINVAL
 *                                   -> TL_EINVAL
 *        anything else (EIO, ENOSPC, EACCES, EROFS, EDQUOT ...) -> TL_EIO
 *    err->sys_errno always holds the errno. A failed fsync is reported once
 *    and never retried: after it the caller must treat the file's contents
 *    on disk as unknown.
 *
 * Every function accepts io == NULL as tl_io_default(). Paths are relative
 * to a directory handle `dir` (a tl_io_file opened with O_DIRECTORY), or,
 * with dir == NULL, to the working directory (absolute paths work too).
 * Messages show dir->path joined with the name.
 */
#ifndef TL_IO_INT_H
#define TL_IO_INT_H

#include "tl_error.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- raw operations --------------------------------------------------------- */

/* resolve argument of tl_io_ops.openat */
#define TL_IO_RESOLVE_BENEATH 1u /* openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
                                    -ENOSYS if the kernel lacks openat2 */

typedef struct tl_io_ops {
    /* openat(2) (flags are O_* flags, passed unchanged); returns the fd. */
    int (*openat)(void *ctx, int dirfd, const char *path, int flags, unsigned mode,
                  unsigned resolve);
    /* close(2). The fd is released even when an error comes back. */
    int (*close)(void *ctx, int fd);
    /* pread(2) / pwrite(2) / write(2): bytes transferred (may be short). */
    int64_t (*pread)(void *ctx, int fd, void *buf, size_t n, uint64_t off);
    int64_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, uint64_t off);
    int64_t (*write)(void *ctx, int fd, const void *buf, size_t n);
    /* fsync(2) of a file or a directory fd; fdatasync(2). */
    int (*fsync)(void *ctx, int fd);
    int (*fdatasync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, uint64_t len);
    int (*fstat)(void *ctx, int fd, struct stat *st);
    /* fstatat(2) with AT_SYMLINK_NOFOLLOW. */
    int (*fstatat)(void *ctx, int dirfd, const char *path, struct stat *st);
    /* renameat2(2); flags 0 (plain rename, replaces) or RENAME_NOREPLACE.
     * -EINVAL / -ENOSYS: the file system or kernel lacks NOREPLACE. */
    int (*renameat2)(void *ctx, int olddirfd, const char *oldpath, int newdirfd,
                     const char *newpath, unsigned flags);
    /* linkat(2) without AT_SYMLINK_FOLLOW. */
    int (*linkat)(void *ctx, int olddirfd, const char *oldpath, int newdirfd,
                  const char *newpath);
    /* unlinkat(2); flags 0 or AT_REMOVEDIR. */
    int (*unlinkat)(void *ctx, int dirfd, const char *path, int flags);
    int (*mkdirat)(void *ctx, int dirfd, const char *path, unsigned mode);
    /* The names in directory path (relative to dirfd) except "." and "..",
     * in any order (the default's, tl_io_list_raw, are sorted). *names is ONE malloc'd block: n pointers followed
     * by the strings, so free(*names) releases everything. */
    int (*listdir)(void *ctx, int dirfd, const char *path, char ***names, size_t *n);
    /* mmap(2) of len > 0 bytes from offset 0, PROT_READ, MAP_SHARED. */
    int (*mmap)(void *ctx, int fd, size_t len, const void **addr);
    int (*munmap)(void *ctx, const void *addr, size_t len);
    /* Optional (NULL: none; the default ops have none): called before each
     * read request an io_uring submission makes for fd (blockio.c), whose
     * reads bypass the other ops. 0 lets it go; -errno makes the request
     * complete with that error without being submitted (-EINTR / -EAGAIN:
     * submitted all the same, as a retried transient error would be). Lets
     * the fault injector reach the ring path. */
    int (*ring_read)(void *ctx, int fd, size_t n, uint64_t off);
} tl_io_ops;

typedef struct tl_io {
    const tl_io_ops *ops;
    void *ctx;
} tl_io;

/* The real system calls. Static storage, never freed, thread-safe. */
const tl_io *tl_io_default(void);

/* ---- files ------------------------------------------------------------------- */

/* An open file or directory: the fd plus the path used in messages. */
typedef struct tl_io_file {
    const tl_io *io;
    int fd;     /* -1 when closed */
    char *path; /* malloc'd display path (dir->path "/" name) */
} tl_io_file;

#define TL_IO_FILE_INIT {NULL, -1, NULL}

/* Open name relative to dir (NULL: cwd). flags are O_* flags; O_CLOEXEC is
 * always added. *out is set to TL_IO_FILE_INIT first, so closing it is safe
 * after a failure. A failure never leaves a file it created: with O_CREAT
 * | O_EXCL, an error means no file was made. Errors: TL_ENOTFOUND,
 * TL_ECONFLICT (O_EXCL and the name exists), TL_ENOMEM, TL_EINVAL, TL_EIO. */
TL_WUR int tl_io_open(const tl_io *io, const tl_io_file *dir, const char *name, int flags,
                      unsigned mode, tl_io_file *out, tl_error *err);

/* Like tl_io_open, but the path (relative, required) may not leave dir:
 * "..", absolute paths and symlinks that point outside dir fail with
 * TL_EINVAL ("... leaves <dir> or follows a symbolic link"). Uses openat2
 * RESOLVE_BENEATH; on kernels without it, walks the path one component at a
 * time with O_NOFOLLOW, refusing every symlink and every "..". */
TL_WUR int tl_io_open_beneath(const tl_io *io, const tl_io_file *dir, const char *rel,
                              int flags, unsigned mode, tl_io_file *out, tl_error *err);

/* Close and free the path. NULL-safe and safe on a closed or
 * TL_IO_FILE_INIT handle. Close never syncs. The fd is released even when
 * TL_EIO comes back (an earlier write may have failed). */
int tl_io_close(tl_io_file *f, tl_error *err);

/* Read up to n bytes at off, looping until n or end of file; *got = bytes
 * read. Errors: TL_EIO "pread(path, N bytes at offset O): ...". */
TL_WUR int tl_io_pread(tl_io_file *f, void *buf, size_t n, uint64_t off, size_t *got,
                       tl_error *err);

/* Read exactly n bytes at off. The file ending early is TL_ECORRUPT
 * ("pread(path): expected N bytes at offset O, the file ends after G"). */
TL_WUR int tl_io_pread_exact(tl_io_file *f, void *buf, size_t n, uint64_t off,
                             tl_error *err);

/* Write all n bytes at off / at the file position, looping over short
 * writes and EINTR. A failure may leave a prefix written. */
TL_WUR int tl_io_pwrite_all(tl_io_file *f, const void *buf, size_t n, uint64_t off,
                            tl_error *err);
TL_WUR int tl_io_write_all(tl_io_file *f, const void *buf, size_t n, tl_error *err);

/* tlf_sink-compatible writer: ctx is a tl_io_file *. Use as
 * (tlf_sink){tl_io_sink_write, &file} to write segments through tl_io. */
TL_WUR int tl_io_sink_write(void *ctx, const void *buf, size_t len, tl_error *err);

/* A buffered sink (tlf_sink ctx) over a tl_io_file opened at offset 0:
 * bytes go out in whole, aligned TL_IO_CHUNK pieces (and the rest at
 * flush). On a filesystem with large folios (ext4, xfs on Linux 6.x) a
 * write of a whole aligned 2 MiB range puts it in one PMD-sized page-cache
 * folio, which a scan later maps with one entry instead of 512 (mapping a
 * warm table ~5x cheaper, bench/RESULTS.md). buf: TL_IO_CHUNK bytes, owned
 * by the caller (reuse it: first touch of fresh memory is slow). total
 * counts every byte taken. */
#define TL_IO_CHUNK ((size_t)2 << 20)
typedef struct tl_io_bufsink {
    tl_io_file *f;
    uint8_t *buf;
    size_t n;
    uint64_t total;
} tl_io_bufsink;
TL_WUR int tl_io_bufsink_write(void *ctx, const void *buf, size_t len, tl_error *err);
TL_WUR int tl_io_bufsink_flush(tl_io_bufsink *s, tl_error *err);

/* fsync / fdatasync a file or an open directory. Never retried. */
TL_WUR int tl_io_fsync(tl_io_file *f, tl_error *err);
TL_WUR int tl_io_fdatasync(tl_io_file *f, tl_error *err);
TL_WUR int tl_io_ftruncate(tl_io_file *f, uint64_t len, tl_error *err);
TL_WUR int tl_io_fstat(tl_io_file *f, struct stat *st, tl_error *err);

/* ---- names ------------------------------------------------------------------- */

/* lstat of dir/name (does not follow a final symlink). TL_ENOTFOUND if absent. */
TL_WUR int tl_io_stat(const tl_io *io, const tl_io_file *dir, const char *name,
                      struct stat *st, tl_error *err);

/* Move old to new unless new exists: renameat2(RENAME_NOREPLACE), or, when
 * the kernel or file system answers EINVAL/ENOSYS, link(old, new) then
 * unlink(old). Never plain rename(). new existing -> TL_ECONFLICT with both
 * files untouched. With the link fallback, once the link succeeded the move
 * counts as done: a failing unlink(old) is ignored and leaves old behind as
 * an orphan (reporting it would make a committer retry a commit that
 * happened). A file system without hard links either -> TL_EUNSUPPORTED. */
TL_WUR int tl_io_rename_noreplace(const tl_io *io, const tl_io_file *olddir,
                                  const char *oldname, const tl_io_file *newdir,
                                  const char *newname, tl_error *err);

/* Plain rename(2), replacing new. For hints such as _last_checkpoint only;
 * never for commits. */
TL_WUR int tl_io_rename(const tl_io *io, const tl_io_file *olddir, const char *oldname,
                        const tl_io_file *newdir, const char *newname, tl_error *err);

/* Hard link; new existing -> TL_ECONFLICT. */
TL_WUR int tl_io_link(const tl_io *io, const tl_io_file *olddir, const char *oldname,
                      const tl_io_file *newdir, const char *newname, tl_error *err);

TL_WUR int tl_io_unlink(const tl_io *io, const tl_io_file *dir, const char *name,
                        tl_error *err);
TL_WUR int tl_io_rmdir(const tl_io *io, const tl_io_file *dir, const char *name,
                       tl_error *err);

/* mkdir; an existing name -> TL_ECONFLICT. Does not fsync the parent. */
TL_WUR int tl_io_mkdir(const tl_io *io, const tl_io_file *dir, const char *name,
                       unsigned mode, tl_error *err);

/* Create every missing directory of rel under dir, and make each new entry
 * durable: after creating a directory it fsyncs its parent. Existing
 * directories are fine (no fsync); an existing non-directory component ->
 * TL_EINVAL "mkdir(path): exists and is not a directory". */
TL_WUR int tl_io_mkdir_p(const tl_io *io, const tl_io_file *dir, const char *rel,
                         unsigned mode, tl_error *err);

/* Open directory dir/name (name NULL or "": dir itself) with O_DIRECTORY,
 * fsync it, close it: makes entries created, removed or renamed in it
 * durable. */
TL_WUR int tl_io_fsync_dir(const tl_io *io, const tl_io_file *dir, const char *name,
                           tl_error *err);

/* ---- listing ----------------------------------------------------------------- */

/* The raw listing behind the default listdir op (io.c), also used by the
 * fault injector: the names in directory path (relative to dirfd) except
 * "." and "..", sorted by bytes, as ONE malloc'd block (n pointers followed
 * by the strings; free(*names) releases everything). 0 or -errno, no
 * message; on failure *names is NULL and *n 0. */
int tl_io_list_raw(int dirfd, const char *path, char ***names, size_t *n);

typedef struct tl_io_names {
    char **names; /* sorted by bytes (strcmp), without "." and ".." */
    size_t n;
} tl_io_names;

/* Names in directory dir/name (name NULL or "": dir itself). On failure
 * out is {NULL, 0}. */
TL_WUR int tl_io_list(const tl_io *io, const tl_io_file *dir, const char *name,
                      tl_io_names *out, tl_error *err);
void tl_io_names_free(tl_io_names *names); /* NULL-safe */

/* ---- mapping ----------------------------------------------------------------- */

typedef struct tl_io_map {
    const tl_io *io;
    const void *addr; /* NULL for an empty file */
    size_t len;
} tl_io_map;

/* Map the whole file read-only (MAP_SHARED). An empty file maps to
 * {addr NULL, len 0} without a system call. The mapping outlives f. */
TL_WUR int tl_io_map_file(tl_io_file *f, tl_io_map *out, tl_error *err);
int tl_io_unmap(tl_io_map *m, tl_error *err); /* NULL-safe, idempotent */

/* ---- whole-file helpers -------------------------------------------------------- */

/* Put-if-absent of a whole file: write dir/name.tmp.<pid>.<seq> (O_EXCL;
 * a taken tmp name moves to the next seq), fsync it, close, move it to
 * dir/name with tl_io_rename_noreplace, fsync the directory holding name.
 * name may contain '/' (the tmp file sits beside the target).
 * - name exists -> TL_ECONFLICT, the existing file untouched, tmp removed.
 * - a failure before the move removes tmp (best effort).
 * - a failure of the final directory fsync -> TL_EIO and the outcome is
 *   unknown: the file may or may not survive a power loss. Never retry it
 *   as if nothing happened. */
TL_WUR int tl_io_write_file_atomic_noreplace(const tl_io *io, const tl_io_file *dir,
                                             const char *name, const void *bytes,
                                             size_t len, tl_error *err);

/* Replace a whole file (hints like _last_checkpoint): tmp + fsync + plain
 * rename + directory fsync. Readers see the old or the new file. */
TL_WUR int tl_io_write_file_replace(const tl_io *io, const tl_io_file *dir,
                                    const char *name, const void *bytes, size_t len,
                                    tl_error *err);

/* Read a whole file of at most max_len bytes into a malloc'd buffer with a
 * NUL appended (not counted in *len). Longer -> TL_ECORRUPT naming the size
 * and the limit. */
TL_WUR int tl_io_read_file(const tl_io *io, const tl_io_file *dir, const char *name,
                           size_t max_len, char **bytes, size_t *len, tl_error *err);

/* ---- the write guard: a failed fsync is fatal (spec/LOG.md LOG-C10a) -------------- */

/* A tl_io over another (inner) that stops writing after the first failed
 * fsync or fdatasync (of a file or a directory) made through tl_io_fsync /
 * tl_io_fdatasync / tl_io_fsync_dir: from then on every call that could
 * change the tree (open for writing or creating, write, pwrite, ftruncate,
 * fsync, fdatasync, rename, link, unlink, rmdir, mkdir) fails with TL_EIO
 * without reaching inner, and the message names the first failure:
 * "... refused: writes through this handle stopped after a failed fsync
 * (fsync(/t/_delta_log): Input/output error)". Reads, listings, stat, mmap
 * and close pass through. There is no way to resume: after a failed fsync
 * the page cache may have dropped the dirty pages, so nothing written
 * through the handle can be trusted (a new handle rereads the tree). A
 * table handle owns one (table.c). Thread-safe. */
typedef struct tl_io_guard {
    tl_io io; /* pass &g->io to engine code */
    const tl_io *inner;
    pthread_mutex_t mu;
    int stopped;
    int named; /* first holds the message with the path */
    int first_errno;
    char first[TL_ERROR_MSG_LEN / 2];
} tl_io_guard;

/* inner NULL: tl_io_default(). */
void tl_io_guard_init(tl_io_guard *g, const tl_io *inner);
void tl_io_guard_destroy(tl_io_guard *g); /* NULL-safe */

/* TL_OK while writing is allowed; else TL_EIO, err naming the first
 * failure ("writes through this handle stopped after a failed fsync: ...";
 * err->sys_errno = its errno). */
int tl_io_guard_check(tl_io_guard *g, tl_error *err);

/* ---- fault injection (io_fault.c) ------------------------------------------------ */

/* Operation kinds, for counting and rules. A directory fsync (fsync of an
 * fd opened on a directory) counts as TL_IO_OP_FSYNC_DIR, not FSYNC. */
enum {
    TL_IO_OP_OPEN,
    TL_IO_OP_CLOSE,
    TL_IO_OP_PREAD,
    TL_IO_OP_PWRITE,
    TL_IO_OP_WRITE,
    TL_IO_OP_FSYNC,
    TL_IO_OP_FDATASYNC,
    TL_IO_OP_FSYNC_DIR,
    TL_IO_OP_FTRUNCATE,
    TL_IO_OP_FSTAT,
    TL_IO_OP_STAT,
    TL_IO_OP_RENAME,
    TL_IO_OP_LINK,
    TL_IO_OP_UNLINK, /* unlink and rmdir */
    TL_IO_OP_MKDIR,
    TL_IO_OP_LIST,
    TL_IO_OP_MMAP,
    TL_IO_OP_MUNMAP,
    TL_IO_OP_RING_READ, /* an io_uring read request (tl_io_ops.ring_read) */
    TL_IO_OP_COUNT,
    TL_IO_OP_ANY = -1,
};

const char *tl_io_op_name(int op); /* "fsync_dir"; "any"; "?" */

enum {
    TL_IO_FAULT_FAIL = 1,  /* the nth matching call fails with err_no, no effect */
    TL_IO_FAULT_FAIL_FROM, /* the nth and every later matching call fail */
    TL_IO_FAULT_SHORT,     /* the nth read/write transfers max(1, n/2) bytes */
    TL_IO_FAULT_ABORT,     /* abort() before the nth matching call */
    TL_IO_FAULT_CALLBACK,  /* call cb before the nth matching call */
    TL_IO_FAULT_CUT,       /* power cut before the nth matching call: it and
                              every later call fail with EIO and do nothing */
};

typedef struct tl_io_fault_rule {
    int op;         /* TL_IO_OP_* or TL_IO_OP_ANY */
    uint64_t nth;   /* 1-based, counted over calls matching op and path */
    int action;     /* TL_IO_FAULT_* */
    int err_no;     /* FAIL, FAIL_FROM: EIO, ENOSPC, EINTR ... */
    /* only calls whose path contains this string (NULL: all). The path of an
     * fd call is the one it was opened with; rename and link match the new
     * name. Copied. */
    const char *path_contains;
    /* CALLBACK: return 0 to let the call run, or an errno to fail it. May
     * call back into the injector (the lock is recursive). */
    int (*cb)(void *arg, int op, const char *path);
    void *cb_arg;
} tl_io_fault_rule;

/* flags */
#define TL_IO_FAULT_NO_RENAME_NOREPLACE 1u /* renameat2 NOREPLACE -> -EINVAL, as on a
                                              file system without it */
#define TL_IO_FAULT_NO_OPENAT2 2u          /* openat with resolve -> -ENOSYS */

typedef struct tl_io_fault tl_io_fault;

/* An injector over the real system calls. root: the directory tree whose
 * durability is modelled for tl_io_fault_crash (NULL: count and fail only).
 * root must exist; the injector keeps a stash directory beside it
 * (<root>.tlfault.XXXXXX, same file system, removed by close) holding
 * removed inodes and pre-images. Every change to the tree under root must go
 * through the injector from here on; the tree as it is now is assumed
 * durable. Errors: TL_EIO, TL_ENOTFOUND (root), TL_EUNSUPPORTED (the stash
 * is on another file system), TL_ENOMEM. */
TL_WUR int tl_io_fault_open(const char *root, tl_io_fault **out, tl_error *err);

/* Free everything and remove the stash. Close files opened through it first;
 * its tl_io must not be used afterwards. NULL-safe. */
void tl_io_fault_close(tl_io_fault *f);

/* The ops table to pass to engine code. Valid until close. */
const tl_io *tl_io_fault_io(tl_io_fault *f);

void tl_io_fault_set_flags(tl_io_fault *f, unsigned flags);

#define TL_IO_FAULT_MAX_RULES 16
/* Add a rule (up to TL_IO_FAULT_MAX_RULES). A rule counts matching calls
 * from the moment it is added. Errors: TL_EINVAL, TL_ENOMEM. */
TL_WUR int tl_io_fault_add(tl_io_fault *f, const tl_io_fault_rule *r, tl_error *err);
void tl_io_fault_clear_rules(tl_io_fault *f);

/* Calls made so far of op (TL_IO_OP_ANY: all), failed and faulted ones
 * included. */
uint64_t tl_io_fault_count(tl_io_fault *f, int op);
void tl_io_fault_reset_counts(tl_io_fault *f);

/* Cut the power now (as a TL_IO_FAULT_CUT rule would); is it cut? */
void tl_io_fault_cut(tl_io_fault *f);
int tl_io_fault_is_cut(tl_io_fault *f);

typedef struct tl_io_crash_opts {
    /* 0: drop everything not made durable (the default, also for opts NULL).
     * 1: tear: every file keeps a random amount (byte granularity, between
     *    its last-fsync length and its current length) of its unsynced tail,
     *    each unsynced overwrite of synced bytes survives or not, and every
     *    directory independently keeps either its last-fsync entries or its
     *    current ones. */
    int tear;
    uint64_t seed; /* for tear */
} tl_io_crash_opts;

/* Power loss: rewrite the real tree under root to what a power cut at this
 * moment would leave, then clear the cut state and treat the new tree as
 * durable. The rewritten tree replaces root (same path, new inodes):
 * descriptors opened before stay open but every call on them except close
 * fails with EIO; reopen by path. Model (see io_fault.c):
 * - a file's bytes are durable after fsync/fdatasync of it (any fd);
 * - a directory entry (create, link, unlink, rename, mkdir, rmdir) is
 *   durable after fsync of that directory; a rename touches two;
 * - close never syncs.
 * Errors: TL_EINVAL (no root), TL_EUNSUPPORTED (a change the model cannot
 * undo, e.g. an inode removed behind the injector's back), TL_EIO. */
TL_WUR int tl_io_fault_crash(tl_io_fault *f, const tl_io_crash_opts *opts, tl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TL_IO_INT_H */
