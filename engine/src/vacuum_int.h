/*
 * vacuum_int.h - vacuum: delete data files no retained version needs
 * (spec/LOG.md 9.8 LOG-R82, crash invariants LOG-C5, LOG-C6, LOG-C9).
 * Implemented by vacuum.c; tests in tests/engine/vacuum_test.c.
 *
 * What goes (cutoff = now - retention):
 *   TL_VACUUM_TOMBSTONE  a data file the latest snapshot holds as a tombstone
 *                        with deletionTimestamp <= cutoff;
 *   TL_VACUUM_ORPHAN     a regular file named *.tls that no action of the
 *                        latest snapshot references (neither live nor a
 *                        tombstone), whose mtime <= cutoff, lying in a
 *                        partition directory (every component "symbol=..."
 *                        or "date=...") or, for an unpartitioned table, in
 *                        the table directory itself;
 *   TL_VACUUM_TMP        a leftover temporary file in _delta_log/
 *                        (".<txnId>.json.tmp", "<name>.tmp.<pid>.<seq>")
 *                        whose mtime <= cutoff (LOG-C5);
 *   (also in _delta_log/_tags/: leftovers of tag writers, LOG-T9);
 *   (also the scratch directories _tmp/<uuid>/ of optimize, repartition
 *   and the dedup rewrite that crashed (LOG-C11): a scratch directory whose
 *   own mtime and whose every entry's mtime are <= cutoff is stale, its
 *   regular files go (as TL_VACUUM_TMP) and then the directory; a directory
 *   with any newer entry is live and untouched, as is _tmp itself);
 * plus partition directories left empty. Never a file the latest snapshot
 * holds live (LOG-C9, re-checked right before each unlink), never a file a
 * tagged version holds live (LOG-T5: tags are read, and each tagged
 * version loaded, after the last reload of the latest version and before
 * the first unlink; a tag that cannot be read or whose version cannot be
 * loaded fails vacuum before it deletes anything), nothing outside
 * the paths LOG-R11 allows (hidden names, _delta_log/ except its tmp files),
 * and no symbolic link is ever followed or removed.
 */
#ifndef TL_VACUUM_INT_H
#define TL_VACUUM_INT_H

#include "io_int.h"
#include "tl_error.h"

#include <stddef.h>
#include <stdint.h>

enum {
    TL_VACUUM_TOMBSTONE = 1, /* removed from the table, tombstone expired */
    TL_VACUUM_ORPHAN = 2,    /* never committed (crashed or losing writer) */
    TL_VACUUM_TMP = 3,       /* leftover temporary file in _delta_log/ or in a
                                stale scratch directory _tmp/<uuid>/ */
};

/* Retentions below this are refused unless opts.force (like Delta's
 * retentionDurationCheck): LOG-R83's writer margin is one hour. */
#define TL_VACUUM_MIN_RETAIN_HOURS 1
/* Directory levels walked below the table directory. */
#define TL_VACUUM_MAX_DEPTH 32

typedef struct tl_vacuum_opts {
    const tl_io *io;       /* NULL: root->io, else tl_io_default() */
    int64_t now_ms;        /* 0: CLOCK_REALTIME */
    int64_t retain_hours;  /* < 0: the table's ticklake.deletedFileRetentionHours
                              (default 168) */
    int dry_run;           /* 1: delete nothing, report what would go */
    int force;             /* 1: allow a retention below TL_VACUUM_MIN_RETAIN_HOURS */
    /* Optional: called after each deletion (dry run: once at the end). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} tl_vacuum_opts;

typedef struct tl_vacuum_file {
    char *path;                 /* relative to the table directory */
    int64_t bytes;              /* size on disk when listed */
    int reason;                 /* TL_VACUUM_* */
    int64_t removed_in_version; /* tombstones: the version whose remove made it
                                   one; -1 for others or when unknown */
} tl_vacuum_file;

typedef struct tl_vacuum_kept_file {
    char *path;
    int64_t bytes;
    int reason;                 /* what it would have gone as: TL_VACUUM_* */
    char *tag;
    int64_t version;            /* the tagged version needing it */
} tl_vacuum_kept_file;

typedef struct tl_vacuum_report {
    tl_vacuum_file *files;      /* in listing order (sorted walk, then tmp files) */
    size_t n_files;
    int64_t bytes;              /* sum of files[].bytes */
    int64_t latest_version;     /* version of the snapshot vacuum checked against */
    int64_t retain_hours;       /* the retention used */
    int64_t cutoff_ms;          /* now - retention */
    /* Versions whose snapshot references a deleted file, as sorted disjoint
     * [lo, hi] ranges (hi < latest_version); empty if none. Below a
     * checkpoint the commit files still present are read; when the commit
     * that added a file is gone (log cleanup), lo is the oldest reachable
     * version (LOG-R81), below which nothing is readable anyway. */
    int64_t (*unreadable)[2];
    size_t n_unreadable;
    size_t n_dirs_removed;      /* empty partition directories removed */
    int dry_run;
    /* Files that would have gone but a tagged version needs (LOG-T5), in
     * candidate order; tag: the first tag (by name) of that version. */
    tl_vacuum_kept_file *kept;
    size_t n_kept;
} tl_vacuum_report;

/* Vacuum the table under root (an open directory). opts NULL: defaults.
 * On success *rep lists what was deleted (dry run: what would be; the same
 * list); free it with tl_vacuum_report_free. On failure *rep is empty (the
 * files deleted before the failure are gone; none was live). Each deleted
 * file's directory is fsynced once after its removals, and the parent of
 * each removed directory once after those.
 * Errors:
 *   TL_EINVAL     retention below TL_VACUUM_MIN_RETAIN_HOURS without force,
 *                 or negative from the table configuration; bad arguments
 *   TL_EBUSY      a directory was replaced while vacuum ran (names it)
 *   TL_ECORRUPT   a file about to be deleted is live (LOG-C9; a bug guard);
 *                 a tag file that does not parse, a tagged version whose
 *                 snapshot does not load (LOG-T5: nothing deleted)
 *   TL_EIO, TL_ENOTFOUND, ...  from listing, stat, unlink, rmdir or fsync
 *                 (the message names the path), and from loading the log
 *   TL_ENOMEM */
TL_WUR int tl_vacuum(const tl_io_file *root, const tl_vacuum_opts *opts, tl_vacuum_report *rep,
                     tl_error *err);

/* Free and zero a report. NULL-safe, idempotent. */
void tl_vacuum_report_free(tl_vacuum_report *rep);

#endif /* TL_VACUUM_INT_H */
