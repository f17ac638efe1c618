/*
 * io_fault.c - the fault injector (io_int.h): a tl_io over the real system
 * calls that counts calls, fails / shortens / aborts / cuts the power at the
 * k-th one, and models what a power loss would keep, so that
 * tl_io_fault_crash() can rewrite the real tree to that state.
 *
 * Power-loss model (for the tree under root):
 *   PL1 A file's bytes become durable when the file is fsynced or
 *       fdatasynced (through any fd). Until then a crash truncates the file
 *       to its length at the last sync and restores every synced byte that
 *       was overwritten or truncated since (tear mode: see io_int.h).
 *   PL2 A directory's entries (names -> inodes) become durable when that
 *       directory is fsynced. Until then a crash brings back the entries it
 *       had at its last fsync: created, linked, mkdir'd and renamed-in names
 *       vanish; unlinked, rmdir'd and renamed-away names reappear (pointing to
 *       their old inodes, with those inodes' durable contents). A rename is
 *       an entry change in two directories.
 *   PL3 close never syncs. fsync of a file says nothing about its entry,
 *       fsync of a directory nothing about the files' bytes.
 *   PL4 The tree as it is when the injector opens (and, after a crash, the
 *       rewritten tree) is durable. A directory or file first touched later
 *       is taken as durable as it stands at that moment, so every change
 *       under root must go through the injector.
 *   PL5 Directories form a tree: a directory whose own entry is not durable
 *       disappears with everything below it, synced or not.
 *
 * Bookkeeping:
 * - nodes, keyed by (st_dev, st_ino): a file node holds its durable length
 *   and undo records (pre-images of durable bytes overwritten or truncated
 *   since its last sync); a directory node holds its durable entries (name,
 *   dev, ino, mode), snapshotted when first touched and at each fsync.
 *   Untouched directories are durable as they are.
 * - the stash, <root>.tlfault.XXXXXX beside root on the same file system:
 *   unlink and rmdir move the name into the stash instead of freeing the
 *   inode, and a rename that replaces a file first links the victim there;
 *   so every inode a crash may need to bring back still exists and its
 *   number is not reused. The stash also holds "undo", the pre-image bytes.
 * - crash: walk root and the stash (inode -> a current path), build the
 *   durable tree in <stash>/new from the root's entries downwards with hard
 *   links to the existing inodes, roll each tracked file back (undo records
 *   newest first, then truncate to the durable length), swap it with root,
 *   delete the old tree and the stash contents, forget the model.
 *
 * Bounds: memory is one node per touched inode (about 100 bytes) plus 24
 * bytes per unsynced overwrite of synced bytes plus the names of each
 * touched directory; nothing of the written data is kept in memory. Disk:
 * removed inodes stay in the stash until the next crash or close, and undo
 * holds as many bytes as synced data was overwritten since its last sync
 * (an append-only writer needs none).
 *
 * Not modelled: writes through shared writable mappings (tl_io maps are
 * read-only), O_DIRECT, O_TMPFILE + linkat, changes made behind the
 * injector's back, xattrs, mode/owner/mtime changes (metadata other than
 * size and names is kept as it is now), file systems that persist a later
 * state than the model allows (ext4 auto_da_alloc and the like: the model
 * is the pessimistic POSIX one), and torn sectors inside a synced range.
 * Renames of directories are modelled like any entry change.
 *
 * Locking: one recursive mutex around every call, so rule callbacks may call
 * back into the injector. The counted call is the logical operation; the
 * injector's own bookkeeping system calls are not counted.
 */
#include "io_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a small (dev, ino) -> pointer hash ------------------------------------------- */

typedef struct islot {
    dev_t dev;
    ino_t ino;
    void *val; /* NULL: empty slot */
} islot;

typedef struct imap {
    islot *slots;
    size_t cap, n; /* cap: 0 or a power of two */
} imap;

static size_t ihash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = (uint64_t)ino * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)dev;
    h ^= h >> 29;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 32;
    return (size_t)h & (cap - 1);
}

static void *imap_get(const imap *m, dev_t dev, ino_t ino)
{
    if (!m->cap)
        return NULL;
    for (size_t i = ihash(dev, ino, m->cap);; i = (i + 1) & (m->cap - 1)) {
        islot *s = &m->slots[i];
        if (!s->val)
            return NULL;
        if (s->dev == dev && s->ino == ino)
            return s->val;
    }
}

/* Insert (the key must be absent). 0 or -ENOMEM. */
static int imap_put(imap *m, dev_t dev, ino_t ino, void *val)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 64;
        islot *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            islot *s = &m->slots[i];
            if (!s->val)
                continue;
            size_t j = ihash(s->dev, s->ino, nc);
            while (ns[j].val)
                j = (j + 1) & (nc - 1);
            ns[j] = *s;
        }
        free(m->slots);
        m->slots = ns;
        m->cap = nc;
    }
    size_t j = ihash(dev, ino, m->cap);
    while (m->slots[j].val)
        j = (j + 1) & (m->cap - 1);
    m->slots[j] = (islot){dev, ino, val};
    m->n++;
    return 0;
}

static void imap_free(imap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].val && free_val)
            free_val(m->slots[i].val);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

/* ---- state --------------------------------------------------------------------------- */

typedef struct undo_rec {
    uint64_t off, len; /* file range */
    uint64_t at;       /* offset of the pre-image in the undo file */
} undo_rec;

typedef struct dent {
    char *name;
    dev_t dev;
    ino_t ino;
    mode_t mode;
} dent;

typedef struct node {
    int is_dir;
    int rolled; /* crash: contents already rolled back */
    uint64_t durable_len;
    undo_rec *undo;
    size_t n_undo, cap_undo;
    dent *ents; /* durable entries, sorted by name */
    size_t n_ents;
} node;

typedef struct fdent {
    int used, dead, is_dir, tracked, append, acc;
    dev_t dev;
    ino_t ino;
    char *path;
} fdent;

typedef struct rule {
    tl_io_fault_rule r;
    char *path;
    uint64_t seen;
} rule;

struct tl_io_fault {
    tl_io io;
    pthread_mutex_t mu;
    unsigned flags;
    uint64_t counts[TL_IO_OP_COUNT];
    rule rules[TL_IO_FAULT_MAX_RULES];
    size_t n_rules;
    int cut;
    /* model (root != NULL) */
    char *root;
    size_t root_len;
    char *stash;
    int stash_fd, undo_fd;
    uint64_t undo_len, seq;
    fdent *fds;
    size_t n_fds;
    imap nodes;
    char broken[256];
    char *scratch; /* 64 KiB for copying pre-images */
};

#define SCRATCH 65536u

static const tl_io_ops fault_ops;

static const char *const op_names[TL_IO_OP_COUNT] = {
    "open",  "close",     "pread", "pwrite", "write",  "fsync", "fdatasync",
    "fsync_dir", "ftruncate", "fstat", "stat",   "rename", "link",  "unlink",
    "mkdir", "list",      "mmap",  "munmap", "ring_read",
};

const char *tl_io_op_name(int op)
{
    if (op == TL_IO_OP_ANY)
        return "any";
    return op >= 0 && op < TL_IO_OP_COUNT ? op_names[op] : "?";
}

static void node_free(void *p)
{
    node *n = p;
    free(n->undo);
    for (size_t i = 0; i < n->n_ents; i++)
        free(n->ents[i].name);
    free(n->ents);
    free(n);
}

static void set_broken(tl_io_fault *f, const char *what, int e)
{
    if (!f->broken[0])
        snprintf(f->broken, sizeof f->broken, "%s: %s", what, strerror(e));
}

/* ---- fd table -------------------------------------------------------------------------- */

static fdent *fd_get(tl_io_fault *f, int fd)
{
    if (fd < 0 || (size_t)fd >= f->n_fds || !f->fds[fd].used)
        return NULL;
    return &f->fds[fd];
}

static fdent *fd_new(tl_io_fault *f, int fd)
{
    if ((size_t)fd >= f->n_fds) {
        size_t nn = f->n_fds ? f->n_fds : 64;
        while (nn <= (size_t)fd)
            nn *= 2;
        fdent *nf = realloc(f->fds, nn * sizeof *nf);
        if (!nf)
            return NULL;
        memset(nf + f->n_fds, 0, (nn - f->n_fds) * sizeof *nf);
        f->fds = nf;
        f->n_fds = nn;
    }
    fdent *e = &f->fds[fd];
    free(e->path);
    memset(e, 0, sizeof *e);
    return e;
}

static void fd_drop(tl_io_fault *f, int fd)
{
    fdent *e = fd_get(f, fd);
    if (e) {
        free(e->path);
        memset(e, 0, sizeof *e);
    }
}

/* The path of a call, for rules and the fd table: dirfd's path + name. */
static const char *call_path(tl_io_fault *f, int dirfd, const char *name, char *buf,
                             size_t cap)
{
    if (!name)
        return "";
    if (name[0] == '/' || dirfd == AT_FDCWD)
        return name;
    fdent *e = fd_get(f, dirfd);
    if (!e || !e->path)
        return name;
    snprintf(buf, cap, "%s/%s", e->path, name);
    return buf;
}

/* ---- rules ----------------------------------------------------------------------------- */

/* Count the call and apply the rules: 0 = run it, -errno = fail it without
 * effect. *shrt is set for a SHORT rule. */
static int begin(tl_io_fault *f, int op, const char *path, int *shrt)
{
    f->counts[op]++;
    if (f->cut)
        return -EIO;
    int res = 0;
    for (size_t i = 0; i < f->n_rules; i++) {
        rule *r = &f->rules[i];
        if (r->r.op != TL_IO_OP_ANY && r->r.op != op)
            continue;
        if (r->path && (!path || !strstr(path, r->path)))
            continue;
        r->seen++;
        if (r->seen < r->r.nth)
            continue;
        int first = r->seen == r->r.nth;
        switch (r->r.action) {
        case TL_IO_FAULT_FAIL:
            if (first && !res)
                res = -r->r.err_no;
            break;
        case TL_IO_FAULT_FAIL_FROM:
            if (!res)
                res = -r->r.err_no;
            break;
        case TL_IO_FAULT_SHORT:
            if (first && shrt)
                *shrt = 1;
            break;
        case TL_IO_FAULT_ABORT:
            if (first)
                abort();
            break;
        case TL_IO_FAULT_CALLBACK:
            if (first && r->r.cb) {
                int e = r->r.cb(r->r.cb_arg, op, path ? path : "");
                if (e > 0 && !res)
                    res = -e;
            }
            break;
        case TL_IO_FAULT_CUT:
            if (first)
                f->cut = 1;
            break;
        }
    }
    return f->cut ? -EIO : res;
}

/* ---- model helpers ------------------------------------------------------------------------ */

static void dents_free(dent *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].name);
    free(d);
}

/* The entries of directory dirfd/path (dirfd may be an O_PATH fd), sorted;
 * names that vanish between the listing and their fstatat are left out. */
static int snap_dir(int at, const char *path, dent **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char **names = NULL;
    size_t nn = 0, n = 0;
    int r = tl_io_list_raw(fd, ".", &names, &nn);
    dent *v = NULL;
    if (r == 0 && nn > 0 && !(v = malloc(nn * sizeof *v)))
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < nn; i++) {
        struct stat st;
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT)
                r = -errno;
            continue;
        }
        v[n].name = strdup(names[i]);
        if (!v[n].name) {
            r = -ENOMEM;
            break;
        }
        v[n].dev = st.st_dev;
        v[n].ino = st.st_ino;
        v[n].mode = st.st_mode;
        n++;
    }
    free(names);
    close(fd);
    if (r != 0 || n == 0) {
        dents_free(v, n);
        return r;
    }
    *out = v;
    *n_out = n;
    return 0;
}

static node *node_new(tl_io_fault *f, dev_t dev, ino_t ino, int is_dir)
{
    node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->is_dir = is_dir;
    if (imap_put(&f->nodes, dev, ino, n) != 0) {
        free(n);
        return NULL;
    }
    return n;
}

/* Make sure directory pfd has a node: its entries now are durable (PL4). */
static int ensure_dir(tl_io_fault *f, int pfd)
{
    struct stat st;
    if (fstat(pfd, &st) != 0)
        return -errno;
    node *n = imap_get(&f->nodes, st.st_dev, st.st_ino);
    if (n)
        return 0;
    dent *ents;
    size_t ne;
    int r = snap_dir(pfd, ".", &ents, &ne);
    if (r < 0)
        return r;
    n = node_new(f, st.st_dev, st.st_ino, 1);
    if (!n) {
        dents_free(ents, ne);
        return -ENOMEM;
    }
    n->ents = ents;
    n->n_ents = ne;
    return 0;
}

/* A file node for (dev, ino), created with durable_len = size (PL4). */
static node *ensure_file(tl_io_fault *f, dev_t dev, ino_t ino, uint64_t size)
{
    node *n = imap_get(&f->nodes, dev, ino);
    if (n)
        return n;
    n = node_new(f, dev, ino, 0);
    if (n)
        n->durable_len = size;
    return n;
}

static int under_root(tl_io_fault *f, int fd)
{
    char link[64], buf[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    if (n < 0)
        return 0;
    buf[n] = '\0';
    return strncmp(buf, f->root, f->root_len) == 0 &&
           (buf[f->root_len] == '/' || buf[f->root_len] == '\0');
}

/* The parent directory of a (dirfd, path) name, opened O_PATH. */
typedef struct parent {
    int fd;
    int tracked;
    const char *base;
    char buf[PATH_MAX];
} parent;

static void parent_open(tl_io_fault *f, parent *p, int dirfd, const char *path)
{
    p->fd = -1;
    p->tracked = 0;
    p->base = NULL;
    size_t n = strlen(path);
    if (!f->root || n == 0 || n >= sizeof p->buf)
        return;
    memcpy(p->buf, path, n + 1);
    while (n > 1 && p->buf[n - 1] == '/')
        p->buf[--n] = '\0';
    char *s = strrchr(p->buf, '/');
    const char *dir;
    if (!s) {
        dir = ".";
        p->base = p->buf;
    } else if (s == p->buf) {
        dir = "/";
        p->base = s + 1;
    } else {
        *s = '\0';
        dir = p->buf;
        p->base = s + 1;
    }
    if (!*p->base || strcmp(p->base, ".") == 0 || strcmp(p->base, "..") == 0 ||
        strchr(p->base, '/'))
        return;
    p->fd = openat(dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (p->fd >= 0)
        p->tracked = under_root(f, p->fd);
}

static void parent_close(parent *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

/* Keep the inode of pfd/base (a non-directory) alive in the stash. */
static int stash_keep(tl_io_fault *f, int pfd, const char *base)
{
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode))
        return 0;
    char nm[32];
    snprintf(nm, sizeof nm, "k%llu", (unsigned long long)f->seq++);
    return linkat(pfd, base, f->stash_fd, nm, 0) == 0 ? 0 : -errno;
}

/* Save the pre-image of [off, off + len) of the file open as fd. */
static int save_preimage(tl_io_fault *f, node *n, int fd, int acc, uint64_t off, uint64_t len)
{
    int rfd = fd;
    if (acc == O_WRONLY) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        rfd = open(link, O_RDONLY | O_CLOEXEC);
        if (rfd < 0)
            return -errno;
    }
    uint64_t at = f->undo_len, got = 0;
    int r = 0;
    while (got < len) {
        size_t want = len - got > SCRATCH ? SCRATCH : (size_t)(len - got);
        ssize_t k = pread(rfd, f->scratch, want, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r = -errno;
            break;
        }
        if (k == 0)
            break; /* the file is shorter now: an older record holds the rest */
        ssize_t w = pwrite(f->undo_fd, f->scratch, (size_t)k, (off_t)(at + got));
        if (w != k) {
            r = w < 0 ? -errno : -ENOSPC;
            break;
        }
        got += (uint64_t)k;
    }
    if (rfd != fd)
        close(rfd);
    if (r < 0 || got == 0)
        return r;
    if (n->n_undo == n->cap_undo) {
        size_t nc = n->cap_undo ? 2 * n->cap_undo : 8;
        undo_rec *nu = realloc(n->undo, nc * sizeof *nu);
        if (!nu)
            return -ENOMEM;
        n->undo = nu;
        n->cap_undo = nc;
    }
    n->undo[n->n_undo++] = (undo_rec){off, got, at};
    f->undo_len += got;
    return 0;
}

static node *fd_node(tl_io_fault *f, const fdent *e)
{
    if (!e || !e->tracked || e->is_dir)
        return NULL;
    return imap_get(&f->nodes, e->dev, e->ino);
}

/* Before the file gets bytes [off, off + len): keep durable bytes it hides. */
static int model_prewrite(tl_io_fault *f, const fdent *e, int fd, uint64_t off, uint64_t len)
{
    node *n = fd_node(f, e);
    if (!n || off >= n->durable_len || len == 0)
        return 0;
    uint64_t end = off + len < n->durable_len ? off + len : n->durable_len;
    return save_preimage(f, n, fd, e->acc, off, end - off);
}

/* Before truncating to len: keep the durable bytes beyond it. */
static int model_pretruncate(tl_io_fault *f, const fdent *e, int fd, uint64_t len)
{
    node *n = fd_node(f, e);
    if (!n || len >= n->durable_len)
        return 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    uint64_t cur = (uint64_t)st.st_size, end = cur < n->durable_len ? cur : n->durable_len;
    return end > len ? save_preimage(f, n, fd, e->acc, len, end - len) : 0;
}

/* fsync of fd succeeded. */
static void model_synced(tl_io_fault *f, const fdent *e, int fd)
{
    if (!e || !e->tracked)
        return;
    if (e->is_dir) {
        dent *ents;
        size_t ne;
        int r = snap_dir(fd, ".", &ents, &ne);
        if (r < 0) {
            set_broken(f, "snapshot of a synced directory", -r);
            return;
        }
        node *n = imap_get(&f->nodes, e->dev, e->ino);
        if (!n && !(n = node_new(f, e->dev, e->ino, 1))) {
            dents_free(ents, ne);
            set_broken(f, "directory node", ENOMEM);
            return;
        }
        dents_free(n->ents, n->n_ents);
        n->ents = ents;
        n->n_ents = ne;
        return;
    }
    node *n = fd_node(f, e);
    struct stat st;
    if (!n || fstat(fd, &st) != 0)
        return;
    n->durable_len = (uint64_t)st.st_size;
    n->n_undo = 0;
}

/* ---- the ops --------------------------------------------------------------------------------- */

#define LOCK(f) pthread_mutex_lock(&(f)->mu)
#define UNLOCK(f) pthread_mutex_unlock(&(f)->mu)
#define PB 4352

/* The common start of an op on an open fd: count it and apply the rules
 * (begin()), then fail it with -EIO if a crash left the fd dead. *ep (may
 * be NULL) gets the fd's entry, NULL when the injector did not open it. */
static int begin_fd(tl_io_fault *f, int op, int fd, fdent **ep, int *shrt)
{
    fdent *e = fd_get(f, fd);
    if (ep)
        *ep = e;
    int r = begin(f, op, e ? e->path : NULL, shrt);
    return r == 0 && e && e->dead ? -EIO : r;
}

/* The same for an op naming dirfd/path; other_dirfd (-1 for none) is the
 * second directory of a rename or link, which must not be dead either. */
static int begin_at(tl_io_fault *f, int op, int dirfd, const char *path, int other_dirfd)
{
    char pb[PB];
    int r = begin(f, op, call_path(f, dirfd, path, pb, sizeof pb), NULL);
    fdent *e1 = fd_get(f, dirfd), *e2 = fd_get(f, other_dirfd);
    return r == 0 && ((e1 && e1->dead) || (e2 && e2->dead)) ? -EIO : r;
}

/* Open the parent directory of dirfd/path and, when it is under root, make
 * sure its durable entries are known (ensure_dir) before the call changes
 * them. The caller runs the call on (p->fd, p->base) when p->tracked, on
 * (dirfd, path) otherwise, and closes p. */
static int parent_enter(tl_io_fault *f, parent *p, int dirfd, const char *path)
{
    parent_open(f, p, dirfd, path);
    return p->tracked ? ensure_dir(f, p->fd) : 0;
}

static int f_openat(void *ctx, int dirfd, const char *path, int flags, unsigned mode,
                    unsigned resolve)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_at(f, TL_IO_OP_OPEN, dirfd, path, -1);
    if (r == 0 && resolve && (f->flags & TL_IO_FAULT_NO_OPENAT2))
        r = -ENOSYS;
    if (r != 0)
        goto out;
    int trunc = 0;
    if (f->root && (flags & (O_CREAT | O_TRUNC))) {
        parent p;
        parent_open(f, &p, dirfd, path);
        if (p.tracked && (flags & O_CREAT))
            r = ensure_dir(f, p.fd);
        if (r == 0 && p.tracked && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
            struct stat st;
            if (fstatat(p.fd, p.base, &st, 0) == 0 && S_ISREG(st.st_mode)) {
                if (!ensure_file(f, st.st_dev, st.st_ino, (uint64_t)st.st_size))
                    r = -ENOMEM;
                trunc = 1;
                flags &= ~O_TRUNC;
            }
        }
        parent_close(&p);
        if (r != 0)
            goto out;
    }
    r = tl_io_default()->ops->openat(NULL, dirfd, path, flags, mode, resolve);
    if (r < 0)
        goto out;
    struct stat st;
    char pb[PB];
    char *dup = strdup(call_path(f, dirfd, path, pb, sizeof pb));
    fdent *e = fd_new(f, r);
    if (!e || !dup || fstat(r, &st) != 0) {
        free(dup);
        if (e)
            fd_drop(f, r);
        close(r);
        r = -ENOMEM;
        goto out;
    }
    e->used = 1;
    e->path = dup;
    e->is_dir = S_ISDIR(st.st_mode);
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->acc = flags & O_ACCMODE;
    e->append = (flags & O_APPEND) != 0;
    e->tracked = f->root && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) && under_root(f, r);
    if (e->tracked && S_ISREG(st.st_mode) &&
        !ensure_file(f, st.st_dev, st.st_ino, (uint64_t)st.st_size))
        set_broken(f, "file node", ENOMEM);
    if (trunc) {
        int m = model_pretruncate(f, e, r, 0);
        if (m < 0 || ftruncate(r, 0) != 0) {
            int err_no = m < 0 ? -m : errno;
            fd_drop(f, r);
            close(r);
            r = -err_no;
        }
    }
out:
    UNLOCK(f);
    return r;
}

static int f_close(void *ctx, int fd)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    fdent *e = fd_get(f, fd);
    int r = begin(f, TL_IO_OP_CLOSE, e ? e->path : NULL, NULL);
    fd_drop(f, fd);
    /* always release the fd (PL3: no sync) */
    int c = close(fd) < 0 ? -errno : 0;
    UNLOCK(f);
    return r ? r : c;
}

static int64_t f_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int shrt = 0;
    int64_t r = begin_fd(f, TL_IO_OP_PREAD, fd, NULL, &shrt);
    if (r == 0) {
        if (shrt && n > 1)
            n /= 2;
        r = tl_io_default()->ops->pread(NULL, fd, buf, n, off);
    }
    UNLOCK(f);
    return r;
}

static int64_t do_write(tl_io_fault *f, int op, int fd, const void *buf, size_t n,
                        uint64_t off)
{
    LOCK(f);
    fdent *e;
    int shrt = 0;
    int64_t r = begin_fd(f, op, fd, &e, &shrt);
    if (r != 0)
        goto out;
    if (shrt && n > 1)
        n /= 2;
    if (fd_node(f, e)) {
        uint64_t at = off;
        if (op == TL_IO_OP_WRITE) {
            struct stat st;
            off_t pos = lseek(fd, 0, SEEK_CUR);
            if (e->append && fstat(fd, &st) == 0)
                pos = st.st_size;
            if (pos < 0) {
                r = -errno;
                goto out;
            }
            at = (uint64_t)pos;
        }
        r = model_prewrite(f, e, fd, at, n);
        if (r != 0)
            goto out;
    }
    r = op == TL_IO_OP_WRITE ? tl_io_default()->ops->write(NULL, fd, buf, n)
                             : tl_io_default()->ops->pwrite(NULL, fd, buf, n, off);
out:
    UNLOCK(f);
    return r;
}

static int64_t f_pwrite(void *ctx, int fd, const void *buf, size_t n, uint64_t off)
{
    return do_write(ctx, TL_IO_OP_PWRITE, fd, buf, n, off);
}

static int64_t f_write(void *ctx, int fd, const void *buf, size_t n)
{
    return do_write(ctx, TL_IO_OP_WRITE, fd, buf, n, 0);
}

static int do_sync(tl_io_fault *f, int fd, int data)
{
    LOCK(f);
    fdent *e = fd_get(f, fd);
    int is_dir = 0;
    if (e) {
        is_dir = e->is_dir;
    } else {
        struct stat st;
        is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    }
    int op = data ? TL_IO_OP_FDATASYNC : is_dir ? TL_IO_OP_FSYNC_DIR : TL_IO_OP_FSYNC;
    int r = begin_fd(f, op, fd, NULL, NULL);
    if (r == 0) {
        r = data ? tl_io_default()->ops->fdatasync(NULL, fd)
                 : tl_io_default()->ops->fsync(NULL, fd);
        if (r == 0)
            model_synced(f, e, fd);
    }
    UNLOCK(f);
    return r;
}

static int f_fsync(void *ctx, int fd)
{
    return do_sync(ctx, fd, 0);
}

static int f_fdatasync(void *ctx, int fd)
{
    return do_sync(ctx, fd, 1);
}

static int f_ftruncate(void *ctx, int fd, uint64_t len)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    fdent *e;
    int r = begin_fd(f, TL_IO_OP_FTRUNCATE, fd, &e, NULL);
    if (r == 0 && len <= INT64_MAX)
        r = model_pretruncate(f, e, fd, len);
    if (r == 0)
        r = tl_io_default()->ops->ftruncate(NULL, fd, len);
    UNLOCK(f);
    return r;
}

static int f_fstat(void *ctx, int fd, struct stat *st)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_fd(f, TL_IO_OP_FSTAT, fd, NULL, NULL);
    if (r == 0)
        r = tl_io_default()->ops->fstat(NULL, fd, st);
    UNLOCK(f);
    return r;
}

static int f_fstatat(void *ctx, int dirfd, const char *path, struct stat *st)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_at(f, TL_IO_OP_STAT, dirfd, path, -1);
    if (r == 0)
        r = tl_io_default()->ops->fstatat(NULL, dirfd, path, st);
    UNLOCK(f);
    return r;
}

static int f_renameat2(void *ctx, int od, const char *op, int nd, const char *np,
                       unsigned flags)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_at(f, TL_IO_OP_RENAME, nd, np, od);
    if (r == 0 && (flags & RENAME_NOREPLACE) && (f->flags & TL_IO_FAULT_NO_RENAME_NOREPLACE))
        r = -EINVAL;
    if (r != 0)
        goto out;
    parent po, pn;
    parent_open(f, &po, od, op);
    parent_open(f, &pn, nd, np);
    if (po.fd < 0 || pn.fd < 0 || !(po.tracked || pn.tracked)) {
        r = tl_io_default()->ops->renameat2(NULL, od, op, nd, np, flags);
    } else {
        if (po.tracked)
            r = ensure_dir(f, po.fd);
        if (r == 0 && pn.tracked)
            r = ensure_dir(f, pn.fd);
        if (r == 0 && pn.tracked && !(flags & RENAME_NOREPLACE))
            r = stash_keep(f, pn.fd, pn.base); /* the file it may replace */
        if (r == 0 && po.tracked && !pn.tracked)
            r = stash_keep(f, po.fd, po.base); /* leaving the tree */
        if (r == 0)
            r = tl_io_default()->ops->renameat2(NULL, po.fd, po.base, pn.fd, pn.base, flags);
    }
    parent_close(&po);
    parent_close(&pn);
out:
    UNLOCK(f);
    return r;
}

static int f_linkat(void *ctx, int od, const char *op, int nd, const char *np)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_at(f, TL_IO_OP_LINK, nd, np, od);
    if (r != 0)
        goto out;
    parent pn;
    r = parent_enter(f, &pn, nd, np);
    if (r == 0)
        r = pn.tracked ? tl_io_default()->ops->linkat(NULL, od, op, pn.fd, pn.base)
                       : tl_io_default()->ops->linkat(NULL, od, op, nd, np);
    parent_close(&pn);
out:
    UNLOCK(f);
    return r;
}

static int dir_is_empty(int dirfd, const char *name)
{
    dent *ents;
    size_t n;
    if (snap_dir(dirfd, name, &ents, &n) != 0)
        return 0;
    dents_free(ents, n);
    return n == 0;
}

static int f_unlinkat(void *ctx, int dirfd, const char *path, int flags)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_at(f, TL_IO_OP_UNLINK, dirfd, path, -1);
    if (r != 0)
        goto out;
    parent p;
    r = parent_enter(f, &p, dirfd, path);
    if (!p.tracked) {
        r = tl_io_default()->ops->unlinkat(NULL, dirfd, path, flags);
        parent_close(&p);
        goto out;
    }
    struct stat st;
    if (r == 0 && fstatat(p.fd, p.base, &st, AT_SYMLINK_NOFOLLOW) != 0)
        r = -errno;
    if (r == 0) {
        /* Move the name into the stash: the inode stays for a crash (PL2). */
        int rmdir = (flags & AT_REMOVEDIR) != 0;
        char nm[32];
        snprintf(nm, sizeof nm, "%c%llu", rmdir ? 'd' : 'u', (unsigned long long)f->seq++);
        if (rmdir && !S_ISDIR(st.st_mode))
            r = -ENOTDIR;
        else if (!rmdir && S_ISDIR(st.st_mode))
            r = -EISDIR;
        else if (renameat(p.fd, p.base, f->stash_fd, nm) != 0)
            r = -errno;
        else if (rmdir && !dir_is_empty(f->stash_fd, nm)) {
            r = -ENOTEMPTY;
            if (renameat(f->stash_fd, nm, p.fd, p.base) != 0)
                set_broken(f, "moving a non-empty directory back from the stash", errno);
        }
    }
    parent_close(&p);
out:
    UNLOCK(f);
    return r;
}

static int f_mkdirat(void *ctx, int dirfd, const char *path, unsigned mode)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_at(f, TL_IO_OP_MKDIR, dirfd, path, -1);
    if (r != 0)
        goto out;
    parent p;
    r = parent_enter(f, &p, dirfd, path);
    if (!p.tracked) {
        r = tl_io_default()->ops->mkdirat(NULL, dirfd, path, mode);
    } else {
        if (r == 0)
            r = tl_io_default()->ops->mkdirat(NULL, p.fd, p.base, mode);
        struct stat st;
        if (r == 0 && fstatat(p.fd, p.base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            /* a new directory: no entry of it is durable yet */
            node *n = imap_get(&f->nodes, st.st_dev, st.st_ino);
            if (n) {
                dents_free(n->ents, n->n_ents);
                n->ents = NULL;
                n->n_ents = 0;
            } else if (!node_new(f, st.st_dev, st.st_ino, 1)) {
                set_broken(f, "directory node", ENOMEM);
            }
        }
    }
    parent_close(&p);
out:
    UNLOCK(f);
    return r;
}

static int f_listdir(void *ctx, int dirfd, const char *path, char ***names, size_t *n)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    *names = NULL;
    *n = 0;
    int r = begin_at(f, TL_IO_OP_LIST, dirfd, path, -1);
    if (r == 0)
        r = tl_io_default()->ops->listdir(NULL, dirfd, path, names, n);
    UNLOCK(f);
    return r;
}

static int f_mmap(void *ctx, int fd, size_t len, const void **addr)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_fd(f, TL_IO_OP_MMAP, fd, NULL, NULL);
    if (r == 0)
        r = tl_io_default()->ops->mmap(NULL, fd, len, addr);
    UNLOCK(f);
    return r;
}

static int f_munmap(void *ctx, const void *addr, size_t len)
{
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin(f, TL_IO_OP_MUNMAP, NULL, NULL);
    int u = tl_io_default()->ops->munmap(NULL, addr, len); /* always release */
    UNLOCK(f);
    return r ? r : u;
}

/* An io_uring read request: counted and subject to the rules like a pread
 * (a SHORT rule does not apply: the ring continues short reads itself). */
static int f_ring_read(void *ctx, int fd, size_t n, uint64_t off)
{
    (void)n;
    (void)off;
    tl_io_fault *f = ctx;
    LOCK(f);
    int r = begin_fd(f, TL_IO_OP_RING_READ, fd, NULL, NULL);
    UNLOCK(f);
    return r;
}

static const tl_io_ops fault_ops = {
    .openat = f_openat,       .close = f_close,         .pread = f_pread,
    .pwrite = f_pwrite,       .write = f_write,         .fsync = f_fsync,
    .fdatasync = f_fdatasync, .ftruncate = f_ftruncate, .fstat = f_fstat,
    .fstatat = f_fstatat,     .renameat2 = f_renameat2, .linkat = f_linkat,
    .unlinkat = f_unlinkat,   .mkdirat = f_mkdirat,     .listdir = f_listdir,
    .mmap = f_mmap,           .munmap = f_munmap,       .ring_read = f_ring_read,
};

/* ---- open / close / rules ------------------------------------------------------------------- */

/* Remove dirfd/name and everything below it. */
static int rm_tree(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) == 0 ? 0 : -errno;
    (void)fchmodat(dirfd, name, (st.st_mode & 07777) | 0700, 0);
    dent *ents;
    size_t n;
    int r = snap_dir(dirfd, name, &ents, &n);
    if (r < 0)
        return r;
    int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        dents_free(ents, n);
        return r;
    }
    for (size_t i = 0; i < n && r == 0; i++)
        r = rm_tree(fd, ents[i].name);
    close(fd);
    dents_free(ents, n);
    if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
        r = -errno;
    return r;
}

static void fault_free(tl_io_fault *f)
{
    if (f->stash) {
        if (f->undo_fd >= 0)
            close(f->undo_fd);
        if (f->stash_fd >= 0)
            close(f->stash_fd);
        (void)rm_tree(AT_FDCWD, f->stash);
    }
    for (size_t i = 0; i < f->n_fds; i++)
        free(f->fds[i].path);
    free(f->fds);
    for (size_t i = 0; i < f->n_rules; i++)
        free(f->rules[i].path);
    imap_free(&f->nodes, node_free);
    free(f->scratch);
    free(f->stash);
    free(f->root);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int tl_io_fault_open(const char *root, tl_io_fault **out, tl_error *err)
{
    *out = NULL;
    tl_io_fault *f = calloc(1, sizeof *f);
    if (!f)
        return tl_error_set(err, TL_ENOMEM, "fault injector: out of memory");
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&f->mu, &a);
    pthread_mutexattr_destroy(&a);
    f->io.ops = &fault_ops;
    f->io.ctx = f;
    f->stash_fd = f->undo_fd = -1;
    if (!root) {
        *out = f;
        return TL_OK;
    }
    int rc = TL_OK;
    struct stat rs, ss;
    f->root = realpath(root, NULL);
    if (!f->root) {
        rc = tl_error_sys(err, errno, "fault injector: realpath(%s)", root);
        if (err && (err->sys_errno == ENOENT || err->sys_errno == ENOTDIR))
            rc = err->code = TL_ENOTFOUND;
        goto fail;
    }
    f->root_len = strlen(f->root);
    if (stat(f->root, &rs) != 0 || !S_ISDIR(rs.st_mode)) {
        rc = tl_error_set(err, TL_EINVAL, "fault injector: %s is not a directory", f->root);
        goto fail;
    }
    if (strcmp(f->root, "/") == 0) {
        rc = tl_error_set(err, TL_EINVAL, "fault injector: root may not be /");
        goto fail;
    }
    f->scratch = malloc(SCRATCH);
    f->stash = malloc(f->root_len + 32);
    if (!f->scratch || !f->stash) {
        rc = tl_error_set(err, TL_ENOMEM, "fault injector: out of memory");
        goto fail;
    }
    snprintf(f->stash, f->root_len + 32, "%s.tlfault.XXXXXX", f->root);
    if (!mkdtemp(f->stash)) {
        rc = tl_error_sys(err, errno, "fault injector: mkdtemp(%s)", f->stash);
        free(f->stash);
        f->stash = NULL;
        goto fail;
    }
    if (stat(f->stash, &ss) != 0 || ss.st_dev != rs.st_dev) {
        rc = tl_error_set(err, TL_EUNSUPPORTED,
                          "fault injector: stash %s is not on the file system of %s",
                          f->stash, f->root);
        goto fail;
    }
    f->stash_fd = open(f->stash, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (f->stash_fd >= 0)
        f->undo_fd = openat(f->stash_fd, "undo", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f->undo_fd < 0) {
        rc = tl_error_sys(err, errno, "fault injector: open(%s/undo)", f->stash);
        goto fail;
    }
    *out = f;
    return TL_OK;
fail:
    fault_free(f);
    return rc;
}

void tl_io_fault_close(tl_io_fault *f)
{
    if (f)
        fault_free(f);
}

const tl_io *tl_io_fault_io(tl_io_fault *f)
{
    return &f->io;
}

void tl_io_fault_set_flags(tl_io_fault *f, unsigned flags)
{
    LOCK(f);
    f->flags = flags;
    UNLOCK(f);
}

int tl_io_fault_add(tl_io_fault *f, const tl_io_fault_rule *r, tl_error *err)
{
    if (!r || r->nth == 0 || r->op < TL_IO_OP_ANY || r->op >= TL_IO_OP_COUNT ||
        r->action < TL_IO_FAULT_FAIL || r->action > TL_IO_FAULT_CUT ||
        ((r->action == TL_IO_FAULT_FAIL || r->action == TL_IO_FAULT_FAIL_FROM) &&
         r->err_no <= 0) ||
        (r->action == TL_IO_FAULT_CALLBACK && !r->cb))
        return tl_error_set(err, TL_EINVAL, "fault rule: bad op, nth (1-based), action, "
                            "errno or callback");
    LOCK(f);
    int rc = TL_OK;
    if (f->n_rules == TL_IO_FAULT_MAX_RULES) {
        rc = tl_error_set(err, TL_EINVAL, "fault rule: at most %d rules",
                          TL_IO_FAULT_MAX_RULES);
    } else {
        rule *x = &f->rules[f->n_rules];
        memset(x, 0, sizeof *x);
        x->r = *r;
        x->r.path_contains = NULL;
        if (r->path_contains && !(x->path = strdup(r->path_contains)))
            rc = tl_error_set(err, TL_ENOMEM, "fault rule: out of memory");
        else
            f->n_rules++;
    }
    UNLOCK(f);
    return rc;
}

void tl_io_fault_clear_rules(tl_io_fault *f)
{
    LOCK(f);
    for (size_t i = 0; i < f->n_rules; i++)
        free(f->rules[i].path);
    f->n_rules = 0;
    UNLOCK(f);
}

uint64_t tl_io_fault_count(tl_io_fault *f, int op)
{
    LOCK(f);
    uint64_t n = 0;
    for (int i = 0; i < TL_IO_OP_COUNT; i++)
        if (op == TL_IO_OP_ANY || op == i)
            n += f->counts[i];
    UNLOCK(f);
    return n;
}

void tl_io_fault_reset_counts(tl_io_fault *f)
{
    LOCK(f);
    memset(f->counts, 0, sizeof f->counts);
    UNLOCK(f);
}

void tl_io_fault_cut(tl_io_fault *f)
{
    LOCK(f);
    f->cut = 1;
    UNLOCK(f);
}

int tl_io_fault_is_cut(tl_io_fault *f)
{
    LOCK(f);
    int c = f->cut;
    UNLOCK(f);
    return c;
}

/* ---- crash ---------------------------------------------------------------------------- */

typedef struct rollback {
    node *n;
    char *path;
} rollback;

typedef struct crash {
    tl_io_fault *f;
    int tear;
    uint64_t rng;
    imap where;   /* inode -> a current path (malloc'd) */
    imap visited; /* directory inodes already built */
    rollback *rb;
    size_t n_rb, cap_rb;
    tl_error *err;
} crash;

static uint64_t rnd(crash *c)
{
    uint64_t z = (c->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p) {
        memcpy(p, a, la);
        p[la] = '/';
        memcpy(p + la + 1, b, lb + 1);
    }
    return p;
}

static int crash_sys(crash *c, int e, const char *what, const char *path)
{
    return tl_error_sys(c->err, e, "fault crash: %s(%s)", what, path);
}

/* Record where every inode under path (included) is now. */
static int walk(crash *c, const char *path, const struct stat *st)
{
    if (!imap_get(&c->where, st->st_dev, st->st_ino)) {
        char *dup = strdup(path);
        if (!dup || imap_put(&c->where, st->st_dev, st->st_ino, dup) != 0) {
            free(dup);
            return tl_error_set(c->err, TL_ENOMEM, "fault crash: out of memory");
        }
    }
    if (!S_ISDIR(st->st_mode))
        return TL_OK;
    dent *ents;
    size_t n;
    int r = snap_dir(AT_FDCWD, path, &ents, &n);
    if (r < 0)
        return crash_sys(c, -r, "opendir", path);
    int rc = TL_OK;
    for (size_t i = 0; i < n && rc == TL_OK; i++) {
        char *p = path_join(path, ents[i].name);
        struct stat cs;
        if (!p)
            rc = tl_error_set(c->err, TL_ENOMEM, "fault crash: out of memory");
        else if (lstat(p, &cs) != 0)
            rc = crash_sys(c, errno, "lstat", p);
        else
            rc = walk(c, p, &cs);
        free(p);
    }
    dents_free(ents, n);
    return rc;
}

static int add_rollback(crash *c, node *n, const char *path)
{
    if (n->rolled)
        return TL_OK;
    if (c->n_rb == c->cap_rb) {
        size_t nc = c->cap_rb ? 2 * c->cap_rb : 16;
        rollback *nr = realloc(c->rb, nc * sizeof *nr);
        if (!nr)
            return tl_error_set(c->err, TL_ENOMEM, "fault crash: out of memory");
        c->rb = nr;
        c->cap_rb = nc;
    }
    char *p = strdup(path);
    if (!p)
        return tl_error_set(c->err, TL_ENOMEM, "fault crash: out of memory");
    c->rb[c->n_rb++] = (rollback){n, p};
    n->rolled = 1;
    return TL_OK;
}

/* Fill directory dst (exists, empty) with what survives of directory
 * inode (dev, ino). */
static int build(crash *c, dev_t dev, ino_t ino, const char *dst)
{
    if (imap_get(&c->visited, dev, ino))
        return TL_OK; /* tear mode can show one directory twice: keep one */
    if (imap_put(&c->visited, dev, ino, (void *)1) != 0)
        return tl_error_set(c->err, TL_ENOMEM, "fault crash: out of memory");
    node *n = imap_get(&c->f->nodes, dev, ino);
    const char *now = imap_get(&c->where, dev, ino);
    dent *ents = NULL, *own = NULL;
    size_t ne = 0;
    if (n && n->is_dir && !(c->tear && now && (rnd(c) & 1))) {
        ents = n->ents; /* PL2: the entries of its last fsync */
        ne = n->n_ents;
    } else if (now) {
        int r = snap_dir(AT_FDCWD, now, &own, &ne); /* untouched: durable as is */
        if (r < 0)
            return crash_sys(c, -r, "opendir", now);
        ents = own;
    } /* else: removed and untouched, so it was empty */
    int rc = TL_OK;
    for (size_t i = 0; i < ne && rc == TL_OK; i++) {
        const dent *e = &ents[i];
        char *p = path_join(dst, e->name);
        if (!p) {
            rc = tl_error_set(c->err, TL_ENOMEM, "fault crash: out of memory");
            break;
        }
        if (S_ISDIR(e->mode)) {
            if (mkdir(p, 0700) != 0)
                rc = crash_sys(c, errno, "mkdir", p);
            if (rc == TL_OK)
                rc = build(c, e->dev, e->ino, p);
            if (rc == TL_OK && chmod(p, e->mode & 07777) != 0)
                rc = crash_sys(c, errno, "chmod", p);
        } else {
            const char *src = imap_get(&c->where, e->dev, e->ino);
            node *fn = imap_get(&c->f->nodes, e->dev, e->ino);
            if (!src)
                rc = tl_error_set(c->err, TL_EUNSUPPORTED,
                                  "fault crash: %s/%s (inode %llu) is durable but its inode "
                                  "is gone: removed behind the injector's back",
                                  now ? now : "?", e->name, (unsigned long long)e->ino);
            else if (linkat(AT_FDCWD, src, AT_FDCWD, p, 0) != 0)
                rc = crash_sys(c, errno, "link", p);
            else if (fn && !fn->is_dir && S_ISREG(e->mode))
                rc = add_rollback(c, fn, p);
        }
        free(p);
    }
    dents_free(own, own ? ne : 0);
    return rc;
}

/* PL1: bring the file at path back to its durable contents. */
static int roll_back(crash *c, const rollback *rb)
{
    tl_io_fault *f = c->f;
    node *n = rb->n;
    struct stat st;
    if (stat(rb->path, &st) != 0)
        return crash_sys(c, errno, "stat", rb->path);
    int fd = open(rb->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && chmod(rb->path, (st.st_mode & 07777) | 0200) == 0) {
        fd = open(rb->path, O_WRONLY | O_CLOEXEC);
        (void)chmod(rb->path, st.st_mode & 07777);
    }
    if (fd < 0)
        return crash_sys(c, errno, "open", rb->path);
    int rc = TL_OK;
    for (size_t i = n->n_undo; i-- > 0 && rc == TL_OK;) {
        const undo_rec *u = &n->undo[i];
        if (c->tear && (rnd(c) & 1))
            continue; /* this overwrite reached the disk */
        for (uint64_t done = 0; done < u->len && rc == TL_OK;) {
            size_t k = u->len - done > SCRATCH ? SCRATCH : (size_t)(u->len - done);
            if (pread(f->undo_fd, f->scratch, k, (off_t)(u->at + done)) != (ssize_t)k)
                rc = crash_sys(c, errno ? errno : EIO, "pread", "undo");
            else if (pwrite(fd, f->scratch, k, (off_t)(u->off + done)) != (ssize_t)k)
                rc = crash_sys(c, errno ? errno : EIO, "pwrite", rb->path);
            done += k;
        }
    }
    uint64_t len = n->durable_len;
    if (c->tear) {
        uint64_t cur = (uint64_t)st.st_size;
        uint64_t lo = cur < len ? cur : len, hi = cur < len ? len : cur;
        len = lo + rnd(c) % (hi - lo + 1);
    }
    if (rc == TL_OK && ftruncate(fd, (off_t)len) != 0)
        rc = crash_sys(c, errno, "ftruncate", rb->path);
    close(fd);
    return rc;
}

static void free_str(void *p)
{
    free(p);
}

int tl_io_fault_crash(tl_io_fault *f, const tl_io_crash_opts *opts, tl_error *err)
{
    LOCK(f);
    int rc = TL_OK;
    crash c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.err = err;
    c.tear = opts && opts->tear;
    c.rng = opts ? opts->seed : 0;
    char *newp = NULL, *oldp = NULL;
    if (!f->root) {
        rc = tl_error_set(err, TL_EINVAL, "fault crash: the injector has no root to model");
        goto out;
    }
    if (f->broken[0]) {
        rc = tl_error_set(err, TL_EUNSUPPORTED, "fault crash: the model is incomplete (%s)",
                          f->broken);
        goto out;
    }
    struct stat rs, ss;
    if (stat(f->root, &rs) != 0) {
        rc = crash_sys(&c, errno, "stat", f->root);
        goto out;
    }
    if (stat(f->stash, &ss) != 0) {
        rc = crash_sys(&c, errno, "stat", f->stash);
        goto out;
    }
    rc = walk(&c, f->root, &rs);
    if (rc == TL_OK)
        rc = walk(&c, f->stash, &ss);
    newp = path_join(f->stash, "new");
    oldp = path_join(f->stash, "old");
    if (rc == TL_OK && (!newp || !oldp))
        rc = tl_error_set(err, TL_ENOMEM, "fault crash: out of memory");
    if (rc == TL_OK && mkdir(newp, 0700) != 0)
        rc = crash_sys(&c, errno, "mkdir", newp);
    if (rc == TL_OK)
        rc = build(&c, rs.st_dev, rs.st_ino, newp);
    for (size_t i = 0; i < c.n_rb && rc == TL_OK; i++)
        rc = roll_back(&c, &c.rb[i]);
    if (rc == TL_OK && chmod(newp, rs.st_mode & 07777) != 0)
        rc = crash_sys(&c, errno, "chmod", newp);
    if (rc == TL_OK && rename(f->root, oldp) != 0)
        rc = crash_sys(&c, errno, "rename", f->root);
    if (rc == TL_OK && rename(newp, f->root) != 0) {
        rc = crash_sys(&c, errno, "rename", newp);
        (void)rename(oldp, f->root);
    }
    if (rc != TL_OK)
        goto out;
    /* Reboot: empty the stash, forget the model, kill old descriptors. */
    dent *ents;
    size_t ne;
    if (snap_dir(f->stash_fd, ".", &ents, &ne) == 0) {
        for (size_t i = 0; i < ne; i++)
            if (strcmp(ents[i].name, "undo") != 0)
                (void)rm_tree(f->stash_fd, ents[i].name);
        dents_free(ents, ne);
    }
    if (ftruncate(f->undo_fd, 0) == 0)
        f->undo_len = 0;
    imap_free(&f->nodes, node_free);
    for (size_t i = 0; i < f->n_fds; i++)
        if (f->fds[i].used)
            f->fds[i].dead = 1;
    f->cut = 0;
out:
    if (rc != TL_OK && newp)
        (void)rm_tree(AT_FDCWD, newp);
    for (size_t i = 0; i < c.n_rb; i++) {
        if (rc != TL_OK) /* on success the nodes are gone */
            c.rb[i].n->rolled = 0;
        free(c.rb[i].path);
    }
    free(c.rb);
    imap_free(&c.where, free_str);
    imap_free(&c.visited, NULL);
    free(newp);
    free(oldp);
    UNLOCK(f);
    return rc;
}
