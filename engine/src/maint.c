/*
 * maint.c - the public maintenance calls over the log and vacuum internals:
 * tl_table_versions (LOG-R81), tl_table_checkpoint (LOG-R70..R73, then log
 * cleanup LOG-R80) and tl_table_vacuum (LOG-R82). Thin: argument checks,
 * messages naming the table, and copying internal reports into the public
 * structs; plus the tag floor of log cleanup (LOG-T6): with tags, the
 * cleanup's retention is widened so that no checkpoint above the oldest
 * tagged version m qualifies, and a checkpoint at m is written first (if
 * missing) so that the commits below m can still go.
 */
#include "table_int.h"

#include "checkpoint_int.h"
#include "tags_int.h"
#include "vacuum_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MS_PER_HOUR INT64_C(3600000)

int tl_table_versions(tl_table *t, int64_t *oldest, int64_t *latest, tl_error *err)
{
    if (!t)
        return tl_error_set(err, TL_EINVAL, "versions: no table");
    int64_t o = 0, l = 0;
    int rc = tl_log_version_range(&t->root, t->io, &o, &l, err);
    if (rc)
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    if (oldest)
        *oldest = o;
    if (latest)
        *latest = l;
    return TL_OK;
}

/* The retention (ms) log cleanup may use so that every tagged version stays
 * reachable (LOG-T6): -1 (the table's) without tags; else at least
 * now - ict(m), m the oldest tagged version, so that no checkpoint above m
 * is old enough to be the cleanup's c. Before that, the checkpoint of m is
 * written when missing (m > 0), so the commits below m may still go.
 * Fails (nothing deleted) when a tag cannot be read or names a version
 * that cannot be loaded. */
static int tag_retention(tl_table *t, const tl_log_snapshot *latest, int64_t now,
                         int64_t *retention_ms, tl_error *err)
{
    *retention_ms = -1;
    tl_tag_info *tags = NULL;
    size_t n = 0;
    int rc = tl_tags_load(t->io, &t->root, &tags, &n, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "reading the tags (LOG-T6; nothing deleted): ");
        return rc;
    }
    if (n == 0)
        return TL_OK;
    size_t mi = 0;
    for (size_t i = 1; i < n; i++)
        if (tags[i].version < tags[mi].version)
            mi = i;
    tl_tag_info m = tags[mi];
    free(tags);
    int64_t hours;
    rc = tl_log_config_int(latest->meta, TL_LOG_CONF_LOG_RETENTION_HOURS, &hours, err);
    if (rc != TL_OK)
        return rc;
    int64_t keep;
    if (hours > INT64_MAX / MS_PER_HOUR)
        keep = INT64_MAX;
    else
        keep = hours * MS_PER_HOUR;
    tl_log_snapshot ms = {0};
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_VERSION, .version = m.version};
    rc = tl_log_snapshot_load(&t->root, &so, &ms, err);
    if (rc != TL_OK) {
        tl_error_prefix(err,
                        "tag '%s' names version %" PRId64 ", which cannot be loaded (nothing "
                        "deleted; delete the tag or repair the log, LOG-T6): ",
                        m.name, m.version);
        return rc;
    }
    int64_t ict = ms.history[ms.version].ict_ms;
    if (m.version > 0 && m.version < latest->version) {
        char name[TL_CKPT_NAME_LEN + 1];
        tl_log_ckpt_name(m.version, name);
        char rel[TL_CKPT_NAME_LEN + 16];
        snprintf(rel, sizeof rel, "%s/%s", TL_LOG_DIR, name);
        struct stat st;
        /* optional: without it the cleanup simply keeps more */
        if (tl_io_stat(t->io, &t->root, rel, &st, NULL) != TL_OK &&
            tl_log_checkpoint_write(&t->root, &ms, t->io, NULL, NULL) != TL_OK) {
        }
    }
    tl_log_snapshot_free(&ms);
    int64_t need;
    if (!__builtin_sub_overflow(now, ict, &need) && need > keep)
        keep = need;
    if (keep < TL_LOG_MIN_RETENTION_MS) /* LOG-R84 */
        keep = TL_LOG_MIN_RETENTION_MS;
    *retention_ms = keep;
    return TL_OK;
}

int tl_table_checkpoint(tl_table *t, tl_checkpoint_result *res, tl_error *err)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!t)
        return tl_error_set(err, TL_EINVAL, "checkpoint: no table");
    if (tl_table_writable(t, err))
        return TL_EIO;
    tl_log_snapshot snap;
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    int rc = tl_log_snapshot_load(&t->root, &so, &snap, err);
    if (rc)
        return tl_error_prefix(err, "checkpoint %s: ", t->path), rc;
    tl_log_checkpoint_info ci = {0};
    rc = tl_log_checkpoint_write(&t->root, &snap, t->io, &ci, err);
    int64_t now = tl_table_now_ms(t), retention = -1;
    if (rc == TL_OK) {
        rc = tag_retention(t, &snap, now, &retention, err);
        if (rc)
            tl_error_prefix(err, "log cleanup: ");
    }
    tl_log_snapshot_free(&snap);
    if (rc)
        return tl_error_prefix(err, "checkpoint %s: ", t->path), rc;
    tl_log_cleanup_report cr = {0};
    rc = tl_log_cleanup(&t->root, t->io, now, retention, &cr, err);
    if (rc)
        return tl_error_prefix(err, "checkpoint %s: log cleanup: ", t->path), rc;
    if (res) {
        res->version = ci.version;
        res->existed = ci.existed;
        res->bytes = ci.bytes;
        res->n_add = ci.n_add;
        res->n_remove = ci.n_remove;
        res->n_txn = ci.n_txn;
        res->commits_deleted = cr.n_commits_deleted;
        res->checkpoints_deleted = cr.n_checkpoints_deleted;
        res->oldest_version = cr.oldest_reachable;
    }
    return TL_OK;
}

int tl_table_vacuum(tl_table *t, const tl_table_vacuum_opts *o, tl_table_vacuum_report *rep,
                    tl_error *err)
{
    if (!rep)
        return tl_error_set(err, TL_EINVAL, "vacuum: no report");
    memset(rep, 0, sizeof *rep);
    if (!t)
        return tl_error_set(err, TL_EINVAL, "vacuum: no table");
    if ((!o || !o->dry_run) && tl_table_writable(t, err))
        return TL_EIO;
    tl_vacuum_opts vo = {.io = t->io, .now_ms = tl_table_now_ms(t), .retain_hours = -1};
    if (o) {
        vo.retain_hours = o->retain_hours;
        vo.dry_run = o->dry_run;
        vo.force = o->force;
        vo.progress = o->progress;
        vo.progress_ctx = o->progress_ctx;
    }
    tl_vacuum_report *in = calloc(1, sizeof *in);
    if (!in)
        return tl_error_set(err, TL_ENOMEM, "vacuum: out of memory");
    int rc = tl_vacuum(&t->root, &vo, in, err);
    if (rc) {
        free(in);
        return tl_error_prefix(err, "table %s: ", t->path), rc;
    }
    rep->files = calloc(in->n_files ? in->n_files : 1, sizeof *rep->files);
    if (!rep->files) {
        tl_vacuum_report_free(in);
        free(in);
        return tl_error_set(err, TL_ENOMEM, "vacuum: out of memory");
    }
    for (size_t i = 0; i < in->n_files; i++)
        rep->files[i] = (tl_vacuum_entry){in->files[i].path, in->files[i].bytes,
                                          in->files[i].reason, in->files[i].removed_in_version};
    rep->n_files = in->n_files;
    rep->bytes = in->bytes;
    rep->latest_version = in->latest_version;
    rep->retain_hours = in->retain_hours;
    rep->cutoff_ms = in->cutoff_ms;
    rep->unreadable = in->unreadable;
    rep->n_unreadable = in->n_unreadable;
    rep->n_dirs_removed = in->n_dirs_removed;
    rep->dry_run = in->dry_run;
    rep->priv = in;
    if (in->n_kept) {
        rep->kept = calloc(in->n_kept, sizeof *rep->kept);
        if (!rep->kept) {
            tl_table_vacuum_report_free(rep);
            return tl_error_set(err, TL_ENOMEM, "vacuum: out of memory");
        }
        for (size_t i = 0; i < in->n_kept; i++) {
            rep->kept[i].path = in->kept[i].path;
            rep->kept[i].bytes = in->kept[i].bytes;
            rep->kept[i].tag = in->kept[i].tag;
            rep->kept[i].version = in->kept[i].version;
        }
        rep->n_kept = in->n_kept;
    }
    return TL_OK;
}

void tl_table_vacuum_report_free(tl_table_vacuum_report *rep)
{
    if (!rep)
        return;
    if (rep->priv) {
        tl_vacuum_report_free(rep->priv);
        free(rep->priv);
    }
    free(rep->files);
    free(rep->kept);
    memset(rep, 0, sizeof *rep);
}
