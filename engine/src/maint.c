/*
 * maint.c - the public maintenance calls over the log and vacuum internals:
 * tl_table_versions (LOG-R81), tl_table_checkpoint (LOG-R70..R73, then log
 * cleanup LOG-R80) and tl_table_vacuum (LOG-R82). Thin: argument checks,
 * messages naming the table, and copying internal reports into the public
 * structs.
 */
#include "table_int.h"

#include "vacuum_int.h"

#include <stdlib.h>
#include <string.h>

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

int tl_table_checkpoint(tl_table *t, tl_checkpoint_result *res, tl_error *err)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!t)
        return tl_error_set(err, TL_EINVAL, "checkpoint: no table");
    tl_log_snapshot snap;
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    int rc = tl_log_snapshot_load(&t->root, &so, &snap, err);
    if (rc)
        return tl_error_prefix(err, "checkpoint %s: ", t->path), rc;
    tl_log_checkpoint_info ci = {0};
    rc = tl_log_checkpoint_write(&t->root, &snap, t->io, &ci, err);
    tl_log_snapshot_free(&snap);
    if (rc)
        return tl_error_prefix(err, "checkpoint %s: ", t->path), rc;
    tl_log_cleanup_report cr = {0};
    rc = tl_log_cleanup(&t->root, t->io, tl_table_now_ms(t), -1, &cr, err);
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
    memset(rep, 0, sizeof *rep);
}
