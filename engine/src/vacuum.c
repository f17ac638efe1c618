/*
 * vacuum.c - vacuum (spec/LOG.md 9.8 LOG-R82; crash invariants LOG-C5,
 * LOG-C6, LOG-C9): delete expired tombstones, old orphans of writers that
 * never committed, old temporary files in _delta_log/, and partition
 * directories left empty. Interface and selection rules: vacuum_int.h.
 *
 * Phases:
 * 1. Load the latest snapshot; work out the retention and cutoff (refusing
 *    a retention below the safety minimum unless forced).
 * 2. Walk the table directory depth first (sorted listings): every
 *    directory is opened beneath its parent with O_NOFOLLOW, entries are
 *    lstat'ed, symbolic links are neither followed nor removed, and names
 *    that fail LOG-R11 (tl_partpath_check: hidden, "_delta_log", ...) are
 *    skipped. Candidates are classified against the snapshot. Then
 *    _delta_log/ is listed for temporary files, and _tmp/ for stale scratch
 *    directories of crashed optimize / repartition runs (LOG-C11).
 * 3. Real runs reload the latest snapshot and drop candidates that a commit
 *    made meanwhile references (a slow writer, LOG-R83). Then (dry runs
 *    too) the tags are read and each tagged version's snapshot loaded:
 *    candidates it holds live are kept and reported as kept (LOG-T5).
 * 4. The versions that lose a file are computed from the snapshot's commits.
 * 5. Directories are processed children first (higher index = deeper):
 *    child directories marked empty are removed, then the directory's
 *    candidates unlinked (each re-checked against the snapshot first,
 *    LOG-C9); then the directory is either marked for removal (empty) or
 *    fsynced once (if anything in it was removed). A dry run goes through
 *    the same steps without the system calls, so it reports the same list.
 *
 * Invariants: nothing the latest snapshot holds live is ever unlinked; no
 * path outside the table is reached (every directory is reopened beneath
 * the table and checked to be the same inode as when walked); the first
 * failing unlink, rmdir or fsync stops vacuum with an error naming the path.
 */
#include "vacuum_int.h"

#include "log_int.h"
#include "partpath_int.h"
#include "tags_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MS_PER_HOUR INT64_C(3600000)
#define SCRATCH_DIR "_tmp" /* TL_MAINT_TMP_DIR (optimize_int.h) */

typedef struct vdir {
    char *rel;           /* "" for the table directory */
    const char *name;    /* last component (points into rel) */
    size_t parent;       /* index of the parent; SIZE_MAX for the root */
    dev_t dev;
    ino_t ino;
    int64_t mtime_ms;
    int removable;       /* a partition directory (never root or _delta_log) */
    int partlike;        /* orphans allowed here */
    size_t n_entries;    /* entries when listed */
    size_t n_gone;       /* entries removed (or, dry run, that would be) */
    int rm_pending;      /* empty: its parent removes it */
} vdir;

typedef struct vcand {
    char *rel;
    size_t dir;
    int64_t bytes;
    int reason;
    int64_t removed_in;
    int drop;            /* no longer eligible (phase 3) */
} vcand;

typedef struct vctx {
    const tl_io *io;
    const tl_io_file *root;
    const tl_log_snapshot *snap;
    int64_t cutoff_ms;
    int root_partlike;   /* unpartitioned table: orphans at the root */
    vdir *dirs;
    size_t n_dirs, cap_dirs;
    vcand *cands;
    size_t n_cands, cap_cands;
    tl_error *err;
} vctx;

static const char *root_name(const tl_io_file *root)
{
    return root && root->path ? root->path : "table";
}

static int nomem(vctx *c, const char *what)
{
    return tl_error_set(c->err, TL_ENOMEM, "vacuum %s: out of memory (%s)", root_name(c->root),
                        what);
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + (int64_t)st->st_mtim.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* A temporary file name in _delta_log/: ".<...>.tmp" (LOG-R43) or
 * "<name>.tmp.<digits>.<digits>" (tl_io_write_file_atomic_*). */
static int is_tmp_name(const char *s)
{
    if (s[0] == '.' && strlen(s) > 5 && ends_with(s, ".tmp"))
        return 1;
    const char *p = strstr(s, ".tmp.");
    if (!p || p == s)
        return 0;
    p += 5;
    int dots = 0, digits = 0;
    for (; *p; p++) {
        if (*p == '.') {
            if (!digits || ++dots > 1)
                return 0;
            digits = 0;
        } else if (*p >= '0' && *p <= '9') {
            digits++;
        } else {
            return 0;
        }
    }
    return dots == 1 && digits > 0;
}

static int starts_with(const char *s, const char *pre)
{
    return strncmp(s, pre, strlen(pre)) == 0;
}

/* Is name, a directory in parent, a partition directory (section 2:
 * "symbol=<v>", "date=<d>" or "symbol=<v>/date=<d>", whatever the current
 * spec; a non-empty value)? */
static int part_dir(const char *parent, int parent_is_root, int parent_part, const char *name)
{
    const char *sym = TL_LOG_PART_SYMBOL "=", *date = TL_LOG_PART_DATE "=";
    if (parent_is_root)
        return (starts_with(name, sym) && name[strlen(sym)]) ||
               (starts_with(name, date) && name[strlen(date)]);
    return parent_part && starts_with(parent, sym) && starts_with(name, date) &&
           name[strlen(date)];
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    if (a) {
        memcpy(p, dir, a);
        p[a++] = '/';
    }
    memcpy(p + a, name, b + 1);
    return p;
}

static int push_dir(vctx *c, vdir d, size_t *idx)
{
    if (c->n_dirs == c->cap_dirs) {
        size_t n = c->cap_dirs ? c->cap_dirs * 2 : 16;
        vdir *p = realloc(c->dirs, n * sizeof *p);
        if (!p) {
            free(d.rel);
            return nomem(c, "directory list");
        }
        c->dirs = p;
        c->cap_dirs = n;
    }
    const char *slash = strrchr(d.rel, '/');
    d.name = slash ? slash + 1 : d.rel;
    c->dirs[c->n_dirs] = d;
    *idx = c->n_dirs++;
    return TL_OK;
}

static int push_cand(vctx *c, vcand v)
{
    if (c->n_cands == c->cap_cands) {
        size_t n = c->cap_cands ? c->cap_cands * 2 : 64;
        vcand *p = realloc(c->cands, n * sizeof *p);
        if (!p) {
            free(v.rel);
            return nomem(c, "candidate list");
        }
        c->cands = p;
        c->cap_cands = n;
    }
    c->cands[c->n_cands++] = v;
    return TL_OK;
}

/* Is rel eligible, given the snapshot? Sets *reason. */
static int classify(const vctx *c, const char *rel, const char *name, const struct stat *st,
                    int partlike, int *reason)
{
    if (tl_log_snapshot_live_get(c->snap, rel))
        return 0;
    const tl_log_remove *rm = tl_log_snapshot_tombstone_get(c->snap, rel);
    if (rm) {
        *reason = TL_VACUUM_TOMBSTONE;
        return rm->deletion_ms <= c->cutoff_ms;
    }
    *reason = TL_VACUUM_ORPHAN;
    return partlike && ends_with(name, ".tls") && strlen(name) > 4 &&
           mtime_ms(st) <= c->cutoff_ms;
}

/* ---- phase 2: walk -------------------------------------------------------------- */

static int walk(vctx *c, tl_io_file *df, size_t di, int depth)
{
    tl_io_names names = {0};
    int rc = tl_io_list(c->io, df, NULL, &names, c->err);
    if (rc != TL_OK)
        return rc;
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        const char *name = names.names[i];
        c->dirs[di].n_entries++;
        char *rel = join(c->dirs[di].rel, name);
        if (!rel) {
            rc = nomem(c, "path");
            break;
        }
        /* LOG-R11: hidden names, _delta_log and anything else a data path
         * cannot be are not vacuum's */
        if (tl_partpath_check(rel, strlen(rel), NULL) != TL_OK) {
            free(rel);
            continue;
        }
        struct stat st;
        tl_error le = {0};
        rc = tl_io_stat(c->io, df, name, &st, &le);
        if (rc != TL_OK && rc != TL_ENOTFOUND && c->err)
            *c->err = le;
        if (rc == TL_ENOTFOUND) { /* vanished since the listing */
            c->dirs[di].n_entries--;
            free(rel);
            rc = TL_OK;
            continue;
        }
        if (rc != TL_OK) {
            free(rel);
            break;
        }
        if (S_ISREG(st.st_mode)) {
            int reason = 0;
            if (classify(c, rel, name, &st, c->dirs[di].partlike, &reason)) {
                rc = push_cand(c, (vcand){rel, di, (int64_t)st.st_size, reason, -1, 0});
                continue;
            }
            free(rel);
        } else if (S_ISDIR(st.st_mode) && depth < TL_VACUUM_MAX_DEPTH) {
            int part = part_dir(c->dirs[di].name, di == 0, c->dirs[di].partlike, name);
            size_t ci;
            rc = push_dir(c, (vdir){rel, NULL, di, st.st_dev, st.st_ino, mtime_ms(&st), part,
                                    part, 0, 0, 0},
                          &ci);
            if (rc != TL_OK)
                break;
            tl_io_file sub = TL_IO_FILE_INIT;
            rc = tl_io_open_beneath(c->io, df, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &sub,
                                    c->err);
            if (rc == TL_OK) {
                struct stat sst;
                rc = tl_io_fstat(&sub, &sst, c->err);
                if (rc == TL_OK && (sst.st_dev != st.st_dev || sst.st_ino != st.st_ino))
                    rc = tl_error_set(c->err, TL_EBUSY,
                                      "vacuum: directory %s was replaced while being listed",
                                      sub.path);
                if (rc == TL_OK)
                    rc = walk(c, &sub, ci, depth + 1);
            }
            (void)tl_io_close(&sub, NULL);
        } else {
            free(rel); /* symlinks, deep directories, fifos ...: never touched */
        }
    }
    tl_io_names_free(&names);
    return rc;
}

/* Temporary files of tag writers in _delta_log/_tags/ (LOG-T9), older
 * than the cutoff. li: the index of _delta_log/ in c->dirs. */
static int walk_tags(vctx *c, size_t li)
{
    struct stat st;
    tl_error le = {0};
    int rc = tl_io_stat(c->io, c->root, TL_TAGS_REL, &st, &le);
    if (rc == TL_ENOTFOUND || (rc == TL_OK && !S_ISDIR(st.st_mode)))
        return TL_OK;
    if (rc != TL_OK) {
        if (c->err)
            *c->err = le;
        return rc;
    }
    tl_io_file tf = TL_IO_FILE_INIT;
    rc = tl_io_open_beneath(c->io, c->root, TL_TAGS_REL, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                            &tf, c->err);
    char *rel = rc == TL_OK ? strdup(TL_TAGS_REL) : NULL;
    if (rc == TL_OK && !rel)
        rc = nomem(c, "path");
    size_t ti = 0;
    if (rc == TL_OK)
        rc = push_dir(c, (vdir){rel, NULL, li, st.st_dev, st.st_ino, mtime_ms(&st), 0, 0, 0, 0, 0},
                      &ti);
    tl_io_names names = {0};
    if (rc == TL_OK)
        rc = tl_io_list(c->io, &tf, NULL, &names, c->err);
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        const char *name = names.names[i];
        c->dirs[ti].n_entries++;
        if (!is_tmp_name(name))
            continue;
        struct stat fst;
        if (tl_io_stat(c->io, &tf, name, &fst, NULL) != TL_OK || !S_ISREG(fst.st_mode) ||
            mtime_ms(&fst) > c->cutoff_ms)
            continue;
        char *p = join(TL_TAGS_REL, name);
        if (!p)
            rc = nomem(c, "path");
        else
            rc = push_cand(c, (vcand){p, ti, (int64_t)fst.st_size, TL_VACUUM_TMP, -1, 0});
    }
    tl_io_names_free(&names);
    (void)tl_io_close(&tf, NULL);
    return rc;
}

/* Temporary files of _delta_log/ (LOG-C5). */
static int walk_log(vctx *c)
{
    tl_io_file lf = TL_IO_FILE_INIT;
    struct stat st;
    int rc = tl_io_stat(c->io, c->root, TL_LOG_DIR, &st, c->err);
    if (rc == TL_OK && !S_ISDIR(st.st_mode))
        rc = tl_error_set(c->err, TL_ECORRUPT, "vacuum: %s/%s is not a directory",
                          root_name(c->root), TL_LOG_DIR);
    if (rc == TL_OK)
        rc = tl_io_open_beneath(c->io, c->root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                                &lf, c->err);
    char *rel = rc == TL_OK ? strdup(TL_LOG_DIR) : NULL;
    if (rc == TL_OK && !rel)
        rc = nomem(c, "path");
    size_t li = 0;
    if (rc == TL_OK)
        rc = push_dir(c, (vdir){rel, NULL, 0, st.st_dev, st.st_ino, mtime_ms(&st), 0, 0, 0, 0, 0},
                      &li);
    tl_io_names names = {0};
    if (rc == TL_OK)
        rc = tl_io_list(c->io, &lf, NULL, &names, c->err);
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        const char *name = names.names[i];
        c->dirs[li].n_entries++;
        if (!is_tmp_name(name))
            continue;
        struct stat fst;
        tl_error le = {0};
        rc = tl_io_stat(c->io, &lf, name, &fst, &le);
        if (rc != TL_OK && rc != TL_ENOTFOUND && c->err)
            *c->err = le;
        if (rc == TL_ENOTFOUND) { /* published or removed meanwhile */
            rc = TL_OK;
            continue;
        }
        if (rc != TL_OK || !S_ISREG(fst.st_mode) || mtime_ms(&fst) > c->cutoff_ms)
            continue;
        char *p = join(TL_LOG_DIR, name);
        if (!p)
            rc = nomem(c, "path");
        else
            rc = push_cand(c, (vcand){p, li, (int64_t)fst.st_size, TL_VACUUM_TMP, -1, 0});
    }
    tl_io_names_free(&names);
    (void)tl_io_close(&lf, NULL);
    if (rc == TL_OK)
        rc = walk_tags(c, li);
    return rc;
}

/* Stale scratch directories of crashed optimize / repartition / dedup runs
 * (LOG-C11): _tmp/<uuid>/ whose mtime and every entry's mtime are <= the
 * cutoff. Their regular files become TL_VACUUM_TMP candidates and the
 * directory is removed once empty (removable). A scratch directory with a
 * newer entry belongs to a run that may be alive: it is listed but nothing
 * in it is touched. _tmp itself stays (a run may be creating its scratch
 * directory in it right now). Symbolic links and subdirectories are never
 * touched (the directory then is not empty and stays). */
static int walk_scratch(vctx *c)
{
    struct stat st;
    tl_error le = {0};
    int rc = tl_io_stat(c->io, c->root, SCRATCH_DIR, &st, &le);
    if (rc == TL_ENOTFOUND || (rc == TL_OK && !S_ISDIR(st.st_mode)))
        return TL_OK;
    if (rc != TL_OK) {
        if (c->err)
            *c->err = le;
        return rc;
    }
    tl_io_file sf = TL_IO_FILE_INIT;
    rc = tl_io_open_beneath(c->io, c->root, SCRATCH_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                            &sf, c->err);
    char *rel = rc == TL_OK ? strdup(SCRATCH_DIR) : NULL;
    if (rc == TL_OK && !rel)
        rc = nomem(c, "path");
    size_t si = 0;
    if (rc == TL_OK)
        rc = push_dir(c, (vdir){rel, NULL, 0, st.st_dev, st.st_ino, mtime_ms(&st), 0, 0, 0, 0, 0},
                      &si);
    tl_io_names names = {0};
    if (rc == TL_OK)
        rc = tl_io_list(c->io, &sf, NULL, &names, c->err);
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        const char *name = names.names[i];
        c->dirs[si].n_entries++;
        struct stat dst;
        if (tl_io_stat(c->io, &sf, name, &dst, NULL) != TL_OK || !S_ISDIR(dst.st_mode))
            continue; /* a file or link directly in _tmp: not ours */
        tl_io_file uf = TL_IO_FILE_INIT;
        if (tl_io_open_beneath(c->io, &sf, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &uf,
                               NULL) != TL_OK)
            continue;
        struct stat ust;
        tl_io_names un = {0};
        int ok = tl_io_fstat(&uf, &ust, NULL) == TL_OK && ust.st_dev == dst.st_dev &&
                 ust.st_ino == dst.st_ino && tl_io_list(c->io, &uf, NULL, &un, NULL) == TL_OK;
        int stale = ok && mtime_ms(&dst) <= c->cutoff_ms;
        /* every entry must be old too: a live run writes its runs there */
        struct stat *fst = ok && un.n ? calloc(un.n, sizeof *fst) : NULL;
        if (ok && un.n && !fst) {
            rc = nomem(c, "scratch listing");
            stale = 0;
        }
        for (size_t k = 0; stale && k < un.n; k++)
            if (tl_io_stat(c->io, &uf, un.names[k], &fst[k], NULL) != TL_OK ||
                mtime_ms(&fst[k]) > c->cutoff_ms)
                stale = 0;
        size_t ui = 0;
        char *urel = ok && rc == TL_OK ? join(SCRATCH_DIR, name) : NULL;
        if (ok && rc == TL_OK && !urel)
            rc = nomem(c, "path");
        if (urel)
            rc = push_dir(c, (vdir){urel, NULL, si, dst.st_dev, dst.st_ino, mtime_ms(&dst),
                                    stale, 0, un.n, 0, 0},
                          &ui);
        for (size_t k = 0; rc == TL_OK && stale && k < un.n; k++) {
            if (!S_ISREG(fst[k].st_mode))
                continue;
            char *p = join(c->dirs[ui].rel, un.names[k]);
            if (!p)
                rc = nomem(c, "path");
            else
                rc = push_cand(c, (vcand){p, ui, (int64_t)fst[k].st_size, TL_VACUUM_TMP, -1, 0});
        }
        free(fst);
        tl_io_names_free(&un);
        (void)tl_io_close(&uf, NULL);
    }
    tl_io_names_free(&names);
    (void)tl_io_close(&sf, NULL);
    return rc;
}

/* ---- phase 4: versions that lose a file ------------------------------------------- */

static int cand_cmp(const void *a, const void *b)
{
    const vcand *const *x = a, *const *y = b;
    return strcmp((*x)->rel, (*y)->rel);
}

/* Index of path in sorted, or SIZE_MAX. */
static size_t find_cand(vcand **sorted, size_t n, const char *path)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int k = strcmp(sorted[mid]->rel, path);
        if (k == 0)
            return mid;
        if (k < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static int range_cmp(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : (x[1] > y[1]) - (x[1] < y[1]);
}

typedef struct ranges {
    int64_t (*r)[2];
    size_t n, cap;
} ranges;

static int range_push(ranges *rs, int64_t lo, int64_t hi)
{
    if (lo > hi)
        return TL_OK;
    if (rs->n == rs->cap) {
        size_t n = rs->cap ? rs->cap * 2 : 16;
        int64_t(*p)[2] = realloc(rs->r, n * sizeof *p);
        if (!p)
            return TL_ENOMEM;
        rs->r = p;
        rs->cap = n;
    }
    rs->r[rs->n][0] = lo;
    rs->r[rs->n][1] = hi;
    rs->n++;
    return TL_OK;
}

/* The live ranges of the tombstone candidates, replayed over commits. */
typedef struct lscan {
    vcand **sorted; /* tombstone candidates by path */
    int64_t *since; /* per candidate: live from this version; -1 not live;
                       -2 maybe live since before the first commit read */
    size_t nt;
    int64_t oldest; /* the first version the replay knows */
    ranges rs;
} lscan;

static int scan_commit(lscan *L, const tl_log_commit *cm, int64_t v)
{
    for (uint32_t a = 0; a < cm->n_actions; a++) {
        const tl_log_action *act = &cm->actions[a];
        const char *path = act->kind == TL_LOG_ADD      ? act->u.add.path
                           : act->kind == TL_LOG_REMOVE ? act->u.rm.path
                                                        : NULL;
        size_t j = path ? find_cand(L->sorted, L->nt, path) : SIZE_MAX;
        if (j == SIZE_MAX)
            continue;
        if (act->kind == TL_LOG_ADD) {
            /* after -2, an add with dataChange = false may replace an entry
             * live since before: stay conservative */
            if (L->since[j] == -1 || (L->since[j] == -2 && act->u.add.data_change))
                L->since[j] = v;
        } else {
            if (L->since[j] != -1 &&
                range_push(&L->rs, L->since[j] >= 0 ? L->since[j] : L->oldest, v - 1) != TL_OK)
                return TL_ENOMEM;
            L->since[j] = -1;
            L->sorted[j]->removed_in = v;
        }
    }
    return TL_OK;
}

static void scan_reset(lscan *L, int64_t oldest)
{
    for (size_t i = 0; i < L->nt; i++)
        L->since[i] = oldest > 0 ? -2 : -1;
    L->rs.n = 0;
    L->oldest = oldest;
}

/* A snapshot from a checkpoint holds only the commits after it: read the
 * commit files still present below `first` (the unbroken run down from
 * first - 1) so that ranges start where they truly start, or at the oldest
 * commit present. A commit deleted meanwhile (log cleanup) restarts the
 * replay above it. */
static int scan_older(vctx *c, lscan *L, int64_t first)
{
    tl_io_file lf = TL_IO_FILE_INIT;
    tl_io_names names = {0};
    int rc = tl_io_open_beneath(c->io, c->root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                                0, &lf, c->err);
    if (rc == TL_OK)
        rc = tl_io_list(c->io, &lf, NULL, &names, c->err);
    /* names are sorted and commit names have a fixed width: the versions
     * below first come in ascending order */
    int64_t m = first;
    for (size_t i = names.n; rc == TL_OK && i-- > 0;) {
        int64_t v;
        if (tl_log_commit_version(names.names[i], &v) != TL_OK || v >= first)
            continue;
        if (v != m - 1)
            break;
        m = v;
    }
    scan_reset(L, m == first ? first - 1 : m);
    for (int64_t v = m; rc == TL_OK && v < first; v++) {
        char name[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(v, name);
        char *buf = NULL;
        size_t len = 0;
        rc = tl_io_read_file(c->io, &lf, name, TL_LOG_MAX_FILE_BYTES, &buf, &len, c->err);
        if (rc == TL_ENOTFOUND) {
            tl_error_clear(c->err);
            scan_reset(L, v + 1);
            rc = TL_OK;
            continue;
        }
        tl_log_commit cm = {0};
        if (rc == TL_OK) {
            tl_log_parse_opts po;
            tl_log_parse_opts_default(&po);
            po.name = name;
            po.version = v;
            po.no_protocol_check = 1;
            rc = tl_log_commit_parse_checked(buf, len, &po, &cm, c->err);
            if (rc != TL_OK)
                tl_error_prefix(c->err, "vacuum %s: reading older commits: ",
                                root_name(c->root));
        }
        free(buf);
        if (rc == TL_OK && scan_commit(L, &cm, v) != TL_OK)
            rc = nomem(c, "unreadable versions");
        tl_log_commit_free(&cm);
    }
    tl_io_names_free(&names);
    (void)tl_io_close(&lf, NULL);
    return rc;
}

/* Each deleted tombstone was live from the version that added it to the
 * version before the one that removed it: those versions become
 * unreadable. Replays the snapshot's commits (and, below a checkpoint, the
 * older commit files) for those paths only. */
static int unreadable_versions(vctx *c, tl_vacuum_report *rep)
{
    const tl_log_snapshot *s = c->snap;
    lscan L = {0};
    for (size_t i = 0; i < c->n_cands; i++)
        L.nt += !c->cands[i].drop && c->cands[i].reason == TL_VACUUM_TOMBSTONE;
    if (L.nt == 0)
        return TL_OK;
    L.sorted = malloc(L.nt * sizeof *L.sorted);
    L.since = malloc(L.nt * sizeof *L.since);
    if (!L.sorted || !L.since) {
        free(L.sorted);
        free(L.since);
        return nomem(c, "unreadable versions");
    }
    size_t k = 0;
    for (size_t i = 0; i < c->n_cands; i++)
        if (!c->cands[i].drop && c->cands[i].reason == TL_VACUUM_TOMBSTONE)
            L.sorted[k++] = &c->cands[i];
    qsort(L.sorted, L.nt, sizeof *L.sorted, cand_cmp);

    /* first: the start of the unbroken run of commits the snapshot holds,
     * ending at its version (0 unless it started from a checkpoint) */
    int64_t first = s->version + 1;
    while (first > 0 && (size_t)(first - 1) < s->cap_commits && s->commits[first - 1].n_actions)
        first--;
    scan_reset(&L, 0);
    int rc = first > 0 ? scan_older(c, &L, first) : TL_OK;
    for (int64_t v = first; rc == TL_OK && v <= s->version; v++)
        if (scan_commit(&L, &s->commits[v], v) != TL_OK)
            rc = nomem(c, "unreadable versions");
    free(L.sorted);
    free(L.since);
    ranges rs = L.rs;
    if (rc != TL_OK) {
        free(rs.r);
        return rc;
    }
    /* versions below the oldest reachable one (LOG-R81) cannot be read
     * anyway */
    if (s->oldest_reachable > 0) {
        size_t m = 0;
        for (size_t i = 0; i < rs.n; i++) {
            if (rs.r[i][0] < s->oldest_reachable)
                rs.r[i][0] = s->oldest_reachable;
            if (rs.r[i][0] <= rs.r[i][1]) {
                rs.r[m][0] = rs.r[i][0];
                rs.r[m][1] = rs.r[i][1];
                m++;
            }
        }
        rs.n = m;
    }
    if (rs.n) {
        qsort(rs.r, rs.n, sizeof rs.r[0], range_cmp);
        size_t m = 0;
        for (size_t i = 1; i < rs.n; i++) {
            if (rs.r[i][0] <= rs.r[m][1] + 1) {
                if (rs.r[i][1] > rs.r[m][1])
                    rs.r[m][1] = rs.r[i][1];
            } else {
                m++;
                rs.r[m][0] = rs.r[i][0];
                rs.r[m][1] = rs.r[i][1];
            }
        }
        rs.n = m + 1;
    }
    rep->unreadable = rs.r;
    rep->n_unreadable = rs.n;
    return TL_OK;
}

/* ---- phase 5: delete ---------------------------------------------------------------- */

/* Open directory d beneath the table and check it is the one walked. */
static int open_dir(vctx *c, const vdir *d, tl_io_file *out)
{
    int rc = tl_io_open_beneath(c->io, c->root, d->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                                out, c->err);
    struct stat st;
    if (rc == TL_OK)
        rc = tl_io_fstat(out, &st, c->err);
    if (rc == TL_OK && (st.st_dev != d->dev || st.st_ino != d->ino))
        rc = tl_error_set(c->err, TL_EBUSY,
                          "vacuum: directory %s was replaced while vacuum ran; nothing in it "
                          "deleted",
                          out->path);
    if (rc != TL_OK)
        (void)tl_io_close(out, NULL);
    return rc;
}

static int delete_all(vctx *c, tl_vacuum_report *rep, const tl_vacuum_opts *o)
{
    int dry = o->dry_run;
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < c->n_cands; i++)
        total += !c->cands[i].drop;
    /* candidates by directory: an index list grouped by dir */
    size_t *first = malloc((c->n_dirs + 1) * sizeof *first);
    size_t *order = malloc((c->n_cands ? c->n_cands : 1) * sizeof *order);
    if (!first || !order) {
        free(first);
        free(order);
        return nomem(c, "deletion plan");
    }
    memset(first, 0, (c->n_dirs + 1) * sizeof *first);
    for (size_t i = 0; i < c->n_cands; i++)
        first[c->cands[i].dir + 1]++;
    for (size_t d = 0; d < c->n_dirs; d++)
        first[d + 1] += first[d];
    {
        size_t *fill = malloc((c->n_dirs + 1) * sizeof *fill);
        if (!fill) {
            free(first);
            free(order);
            return nomem(c, "deletion plan");
        }
        memcpy(fill, first, (c->n_dirs + 1) * sizeof *fill);
        for (size_t i = 0; i < c->n_cands; i++)
            order[fill[c->cands[i].dir]++] = i;
        free(fill);
    }

    /* children lists: head[d] the first child of d, sib[k] the next one */
    size_t *head = malloc(c->n_dirs * 2 * sizeof *head);
    if (!head) {
        free(first);
        free(order);
        return nomem(c, "deletion plan");
    }
    size_t *sib = head + c->n_dirs;
    for (size_t d = 0; d < c->n_dirs; d++)
        head[d] = sib[d] = SIZE_MAX;
    for (size_t k = c->n_dirs; k-- > 1;) {
        size_t p = c->dirs[k].parent;
        if (p != SIZE_MAX) {
            sib[k] = head[p];
            head[p] = k;
        }
    }

    int rc = TL_OK;
    for (size_t di = c->n_dirs; rc == TL_OK && di-- > 0;) {
        vdir *d = &c->dirs[di];
        int has_work = first[di + 1] > first[di];
        for (size_t k = head[di]; !has_work && k != SIZE_MAX; k = sib[k])
            has_work = c->dirs[k].rm_pending;
        if (!has_work) {
            if (d->removable && d->n_entries == 0 && d->mtime_ms <= c->cutoff_ms)
                d->rm_pending = 1; /* an old empty partition directory */
            continue;
        }
        tl_io_file h = TL_IO_FILE_INIT;
        if (!dry) {
            if (di == 0) {
                h = *c->root; /* borrowed: never closed here */
                h.io = c->io;
            } else {
                rc = open_dir(c, d, &h);
            }
        }
        int touched = 0;
        /* child directories left empty */
        for (size_t k = head[di]; rc == TL_OK && k != SIZE_MAX; k = sib[k]) {
            vdir *ch = &c->dirs[k];
            if (!ch->rm_pending)
                continue;
            tl_error le = {0};
            int r = dry ? TL_OK : tl_io_rmdir(c->io, &h, ch->name, &le);
            if (r == TL_OK || r == TL_ENOTFOUND) {
                d->n_gone++;
                rep->n_dirs_removed += r == TL_OK;
                touched = 1;
            } else if (le.sys_errno != ENOTEMPTY && le.sys_errno != EEXIST) {
                rc = r; /* (not empty: a writer put a file there meanwhile) */
                if (c->err)
                    *c->err = le;
            }
        }
        /* files */
        for (size_t k = first[di]; rc == TL_OK && k < first[di + 1]; k++) {
            vcand *v = &c->cands[order[k]];
            if (v->drop)
                continue;
            if (tl_log_snapshot_live_get(c->snap, v->rel)) { /* LOG-C9 guard */
                rc = tl_error_set(c->err, TL_ECORRUPT,
                                  "vacuum %s: refusing to delete %s: version %" PRId64
                                  " holds it live (LOG-C9)",
                                  root_name(c->root), v->rel, c->snap->version);
                break;
            }
            const char *name = strrchr(v->rel, '/');
            name = name ? name + 1 : v->rel;
            tl_error le = {0};
            int r = dry ? TL_OK : tl_io_unlink(c->io, &h, name, &le);
            if (r != TL_OK && r != TL_ENOTFOUND) { /* (gone already: fine) */
                rc = r;
                if (c->err)
                    *c->err = le;
                break;
            }
            d->n_gone++;
            touched = 1;
            done++;
            if (o->progress && !dry)
                o->progress(o->progress_ctx, done, total);
        }
        if (rc == TL_OK) {
            if (d->removable && d->n_gone == d->n_entries &&
                (d->n_gone > 0 || d->mtime_ms <= c->cutoff_ms))
                d->rm_pending = 1; /* its parent removes it; no fsync of it needed */
            else if (touched && !dry)
                rc = tl_io_fsync(&h, c->err);
        }
        if (di != 0 && !dry)
            (void)tl_io_close(&h, NULL);
    }
    if (rc == TL_OK && dry && o->progress)
        o->progress(o->progress_ctx, total, total);
    free(first);
    free(order);
    free(head);
    return rc;
}

/* ---- tags (LOG-T5) ------------------------------------------------------------------ */

static int kept_push(vctx *c, tl_vacuum_report *rep, size_t *cap, const vcand *v,
                     const char *tag, int64_t version)
{
    if (rep->n_kept == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        tl_vacuum_kept_file *p = realloc(rep->kept, n * sizeof *p);
        if (!p)
            return nomem(c, "kept files");
        rep->kept = p;
        *cap = n;
    }
    tl_vacuum_kept_file *k = &rep->kept[rep->n_kept];
    k->path = strdup(v->rel);
    k->tag = strdup(tag);
    if (!k->path || !k->tag) {
        free(k->path);
        free(k->tag);
        return nomem(c, "kept files");
    }
    k->bytes = v->bytes;
    k->reason = v->reason;
    k->version = version;
    rep->n_kept++;
    return TL_OK;
}

/* Keep every candidate a tagged version holds live: read the tags, load
 * each tagged version once (tags come sorted by name, so the first tag of a
 * version names it in the report). Any tag that cannot be read, or tagged
 * version that cannot be loaded, fails vacuum: deleting would be a guess. */
static int protect_tags(vctx *c, tl_vacuum_report *rep)
{
    tl_tag_info *tags = NULL;
    size_t nt = 0, cap = 0;
    int rc = tl_tags_load(c->io, c->root, &tags, &nt, c->err);
    if (rc != TL_OK) {
        tl_error_prefix(c->err, "vacuum %s: reading the tags (LOG-T5; nothing deleted): ",
                        root_name(c->root));
        return rc;
    }
    for (size_t i = 0; rc == TL_OK && i < nt; i++) {
        int64_t v = tags[i].version;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= tags[j].version == v;
        if (seen || v == c->snap->version)
            continue; /* live files of the latest version are never candidates */
        tl_log_snapshot ts = {0};
        tl_log_snap_opts so = {.io = c->io, .at = TL_LOG_AT_VERSION, .version = v};
        rc = tl_log_snapshot_load(c->root, &so, &ts, c->err);
        if (rc != TL_OK) {
            tl_error_prefix(c->err,
                            "vacuum %s: tag '%s' names version %" PRId64
                            ", which cannot be loaded, so vacuum cannot tell which files it "
                            "needs (nothing deleted; delete the tag or repair the log, "
                            "LOG-T5): ",
                            root_name(c->root), tags[i].name, v);
            break;
        }
        const char *first_tag = tags[i].name;
        for (size_t k = 0; rc == TL_OK && k < c->n_cands; k++) {
            vcand *cd = &c->cands[k];
            if (cd->drop || cd->reason == TL_VACUUM_TMP || !tl_log_snapshot_live_get(&ts, cd->rel))
                continue;
            cd->drop = 1;
            rc = kept_push(c, rep, &cap, cd, first_tag, v);
        }
        tl_log_snapshot_free(&ts);
    }
    free(tags);
    return rc;
}

/* ---- entry point ------------------------------------------------------------------- */

void tl_vacuum_report_free(tl_vacuum_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->n_files; i++)
        free(rep->files[i].path);
    free(rep->files);
    free(rep->unreadable);
    for (size_t i = 0; i < rep->n_kept; i++) {
        free(rep->kept[i].path);
        free(rep->kept[i].tag);
    }
    free(rep->kept);
    memset(rep, 0, sizeof *rep);
}

static void ctx_free(vctx *c)
{
    for (size_t i = 0; i < c->n_dirs; i++)
        free(c->dirs[i].rel);
    for (size_t i = 0; i < c->n_cands; i++)
        free(c->cands[i].rel);
    free(c->dirs);
    free(c->cands);
}

/* Real runs: drop candidates that a commit published since the first load
 * references (the new snapshot replaces the old one). */
static int recheck(vctx *c, tl_log_snapshot *snap, tl_log_snapshot *fresh)
{
    if (fresh->version == snap->version)
        return TL_OK;
    for (size_t i = 0; i < c->n_cands; i++) {
        vcand *v = &c->cands[i];
        if (v->reason == TL_VACUUM_TMP)
            continue;
        const tl_log_remove *rm = tl_log_snapshot_tombstone_get(fresh, v->rel);
        if (tl_log_snapshot_live_get(fresh, v->rel) ||
            (v->reason == TL_VACUUM_ORPHAN && rm) ||
            (v->reason == TL_VACUUM_TOMBSTONE && (!rm || rm->deletion_ms > c->cutoff_ms)))
            v->drop = 1;
    }
    tl_log_snapshot_free(snap);
    *snap = *fresh;
    memset(fresh, 0, sizeof *fresh);
    c->snap = snap;
    return TL_OK;
}

int tl_vacuum(const tl_io_file *root, const tl_vacuum_opts *opts, tl_vacuum_report *rep,
              tl_error *err)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
    if (!root || root->fd < 0 || !rep)
        return tl_error_set(err, TL_EINVAL, "vacuum: no table directory or report given");
    tl_vacuum_opts o = opts ? *opts : (tl_vacuum_opts){.retain_hours = -1};
    vctx c = {.io = o.io ? o.io : root->io ? root->io : tl_io_default(), .root = root,
              .err = err};
    if (!o.force && o.retain_hours >= 0 && o.retain_hours < TL_VACUUM_MIN_RETAIN_HOURS)
        return tl_error_set(err, TL_EINVAL,
                            "vacuum %s: a retention of %" PRId64 " hours is below the safety "
                            "minimum of %d hour(s): it could delete files of writers that have "
                            "not committed yet (LOG-R83) and files that readers of recent "
                            "versions still use; pass force to vacuum anyway",
                            root_name(root), o.retain_hours, TL_VACUUM_MIN_RETAIN_HOURS);

    tl_log_snapshot snap = {0}, fresh = {0};
    tl_log_snap_opts so = {.io = c.io, .at = TL_LOG_AT_LATEST};
    int rc = tl_log_snapshot_load(root, &so, &snap, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "vacuum %s: ", root_name(root));
        return rc;
    }
    c.snap = &snap;
    int64_t retain = o.retain_hours;
    if (retain < 0) {
        rc = tl_log_config_int(snap.meta, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, &retain, err);
        if (rc == TL_OK && !o.force && retain < TL_VACUUM_MIN_RETAIN_HOURS)
            rc = tl_error_set(err, TL_EINVAL,
                              "vacuum %s: the table's %s is %" PRId64 ", below the safety "
                              "minimum of %d hour(s); pass force with an explicit retention to "
                              "vacuum anyway",
                              root_name(root), TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, retain,
                              TL_VACUUM_MIN_RETAIN_HOURS);
    }
    int64_t now = o.now_ms ? o.now_ms : wall_ms();
    int64_t span;
    if (retain > INT64_MAX / MS_PER_HOUR || __builtin_mul_overflow(retain, MS_PER_HOUR, &span) ||
        __builtin_sub_overflow(now, span, &c.cutoff_ms))
        c.cutoff_ms = INT64_MIN; /* nothing is old enough */
    c.root_partlike = !snap.meta->part_symbol_col && !snap.meta->part_day_col;

    char *rootrel = rc == TL_OK ? strdup("") : NULL;
    if (rc == TL_OK && !rootrel)
        rc = nomem(&c, "path");
    size_t ri = 0;
    if (rc == TL_OK)
        rc = push_dir(&c, (vdir){rootrel, NULL, SIZE_MAX, 0, 0, 0, 0, c.root_partlike, 0, 0, 0},
                      &ri);
    if (rc == TL_OK) {
        tl_io_file rh = *root;
        rh.io = c.io;
        rc = walk(&c, &rh, ri, 0);
    }
    if (rc == TL_OK)
        rc = walk_log(&c);
    if (rc == TL_OK)
        rc = walk_scratch(&c);
    if (rc == TL_OK && !o.dry_run) {
        rc = tl_log_snapshot_load(root, &so, &fresh, err);
        if (rc != TL_OK)
            tl_error_prefix(err, "vacuum %s: reloading the latest version: ", root_name(root));
        else
            rc = recheck(&c, &snap, &fresh);
    }
    if (rc == TL_OK)
        rc = protect_tags(&c, rep);
    if (rc == TL_OK)
        rc = unreadable_versions(&c, rep);
    if (rc == TL_OK) {
        size_t n = 0;
        for (size_t i = 0; i < c.n_cands; i++)
            n += !c.cands[i].drop;
        rep->files = calloc(n ? n : 1, sizeof *rep->files);
        if (!rep->files)
            rc = nomem(&c, "report");
        for (size_t i = 0; rc == TL_OK && i < c.n_cands; i++) {
            vcand *v = &c.cands[i];
            if (v->drop)
                continue;
            tl_vacuum_file *f = &rep->files[rep->n_files++];
            f->path = strdup(v->rel);
            if (!f->path) {
                rc = nomem(&c, "report");
                break;
            }
            f->bytes = v->bytes;
            f->reason = v->reason;
            f->removed_in_version = v->removed_in;
            rep->bytes += v->bytes;
        }
    }
    rep->latest_version = snap.version;
    rep->retain_hours = retain;
    rep->cutoff_ms = c.cutoff_ms;
    rep->dry_run = o.dry_run != 0;
    if (rc == TL_OK)
        rc = delete_all(&c, rep, &o);
    ctx_free(&c);
    tl_log_snapshot_free(&snap);
    tl_log_snapshot_free(&fresh);
    if (rc != TL_OK)
        tl_vacuum_report_free(rep);
    return rc;
}
