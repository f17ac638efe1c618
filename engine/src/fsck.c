/*
 * fsck.c - tl_table_verify (spec/LOG.md section 12, LOG-V1 .. LOG-V6):
 * re-check a table from its bytes, naming every damaged file.
 *
 * Order of work (each step goes on after damage; only a failure to list
 * _delta_log/ or out-of-memory stops it):
 * 1. List _delta_log/: commit files (LOG-R2), checkpoints (LOG-R74).
 * 2. Decode every checkpoint in full (checksum, structure: LOG-R75).
 * 3. Versions: a hole between commit files is damage (log cleanup deletes
 *    oldest first, LOG-R80, so it never makes one); the oldest reachable
 *    version (LOG-R81) is 0 or the smallest valid checkpoint from which
 *    commits run unbroken to the latest.
 * 4. Parse every commit file present (sections 4-8), check that
 *    timestamps increase (LOG-R49) and that each checkpoint's timestamp is
 *    its commit's (LOG-R72).
 * 5. Tags (LOG-T3, T8): each parses and names a reachable version of this
 *    table with that version's timestamp.
 * 6. Data files of the chosen versions (the latest and every tagged one;
 *    one version; or all reachable): beneath the table, a regular file of
 *    the size and row count its add records (LOG-R58), whose footer
 *    (checksum) opens and whose every block checksum matches. Each path is
 *    checked once however many versions hold it.
 *
 * Nothing is written. Damage is collected in the report; the call returns
 * TL_ECORRUPT when there is any.
 */
#include "checkpoint_int.h"
#include "snapshot_int.h"
#include "table_int.h"
#include "tags_int.h"

#include "tl_format.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct fentry {
    char *path;
    int64_t size, rows, version;
    int needed; /* 1: a checked version holds it live (missing = damage) */
} fentry;

typedef struct fctx {
    tl_table *t;
    const tl_io *io;
    tl_verify_report *rep;
    size_t cap_dmg;
    fentry *files;
    size_t n_files, cap_files;
    int nomem;
    char nomem_msg[300]; /* the first out-of-memory message, if any */
    /* progress */
    tl_progress_fn progress;
    void *pctx;
    uint64_t total, done;
    double last_report;
} fctx;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void damage(fctx *c, int kind, const char *path, int code, int64_t version,
                   const char *fmt, ...) TL_PRINTF(6, 7);

static void damage(fctx *c, int kind, const char *path, int code, int64_t version,
                   const char *fmt, ...)
{
    if (code == TL_ENOMEM) { /* running out of memory is not damage: stop */
        if (!c->nomem) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->nomem_msg, sizeof c->nomem_msg, fmt, ap);
            va_end(ap);
        }
        c->nomem = 1;
        return;
    }
    tl_verify_report *r = c->rep;
    if (r->n_damaged == c->cap_dmg) {
        size_t n = c->cap_dmg ? c->cap_dmg * 2 : 16;
        tl_verify_damage *p = realloc(r->damaged, n * sizeof *p);
        if (!p) {
            c->nomem = 1;
            return;
        }
        r->damaged = p;
        c->cap_dmg = n;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tl_verify_damage *d = &r->damaged[r->n_damaged];
    d->kind = kind;
    d->code = code;
    d->version = version;
    d->path = strdup(path);
    d->msg = strdup(msg);
    if (!d->path || !d->msg) {
        free(d->path);
        free(d->msg);
        c->nomem = 1;
        return;
    }
    r->n_damaged++;
}

static int add_file(fctx *c, const char *path, int64_t size, int64_t rows, int64_t version,
                    int needed)
{
    if (c->n_files == c->cap_files) {
        size_t n = c->cap_files ? c->cap_files * 2 : 64;
        fentry *p = realloc(c->files, n * sizeof *p);
        if (!p)
            return c->nomem = 1, TL_ENOMEM;
        c->files = p;
        c->cap_files = n;
    }
    char *pc = strdup(path);
    if (!pc)
        return c->nomem = 1, TL_ENOMEM;
    c->files[c->n_files++] = (fentry){pc, size, rows, version, needed};
    return TL_OK;
}

/* The live files of version v (needed), loaded through the log. */
static void version_files(fctx *c, int64_t v, const char *why)
{
    tl_log_snapshot s = {0};
    tl_log_snap_opts so = {.io = c->io, .at = TL_LOG_AT_VERSION, .version = v};
    tl_error e = {0};
    int rc = tl_log_snapshot_load(&c->t->root, &so, &s, &e);
    if (rc != TL_OK) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s", TL_LOG_DIR);
        damage(c, TL_VERIFY_LOG, rel, rc, v, "%s version %" PRId64 " cannot be loaded: %s", why,
               v, e.msg);
        return;
    }
    c->rep->versions_checked++;
    size_t cur = 0;
    const tl_log_add *a;
    while ((a = tl_log_snapshot_live_next(&s, &cur)) && !c->nomem)
        (void)add_file(c, a->path, a->size_bytes, a->n_rows, v, 1);
    tl_log_snapshot_free(&s);
}

static int cmp_file(const void *x, const void *y)
{
    const fentry *a = x, *b = y;
    int k = strcmp(a->path, b->path);
    if (k)
        return k;
    if (a->needed != b->needed)
        return b->needed - a->needed; /* needed first */
    return (a->version > b->version) - (a->version < b->version);
}

static void tick(fctx *c, uint64_t bytes)
{
    c->done += bytes;
    if (!c->progress)
        return;
    double now = mono_s();
    if (now - c->last_report >= 0.1) {
        c->last_report = now;
        c->progress(c->pctx, c->done, c->total);
    }
}

/* Check one data file (LOG-V5). */
static void check_file(fctx *c, const fentry *f)
{
    tl_table *t = c->t;
    tl_io_file fd = TL_IO_FILE_INIT;
    tl_error e = {0};
    int rc = tl_io_open_beneath(c->io, &t->root, f->path, O_RDONLY | O_NOFOLLOW, 0, &fd, &e);
    if (rc == TL_ENOTFOUND) {
        if (f->needed)
            damage(c, TL_VERIFY_SEGMENT, f->path, TL_ENOTFOUND, f->version,
                   "%s/%s: missing, but version %" PRId64 " holds it live (%" PRId64
                   " bytes, %" PRId64 " rows; LOG-V5)",
                   t->path, f->path, f->version, f->size, f->rows);
        else
            c->rep->files_unavailable++;
        tick(c, (uint64_t)f->size);
        return;
    }
    if (rc != TL_OK) {
        damage(c, TL_VERIFY_SEGMENT, f->path, rc, f->version, "%s", e.msg);
        tick(c, (uint64_t)f->size);
        return;
    }
    struct stat st;
    rc = tl_io_fstat(&fd, &st, &e);
    if (rc == TL_OK && !S_ISREG(st.st_mode))
        rc = tl_error_set(&e, TL_ECORRUPT, "%s/%s: not a regular file", t->path, f->path);
    tl_io_map m = {0};
    if (rc == TL_OK)
        rc = tl_io_map_file(&fd, &m, &e);
    (void)tl_io_close(&fd, NULL);
    if (rc != TL_OK) {
        damage(c, TL_VERIFY_SEGMENT, f->path, rc, f->version, "%s", e.msg);
        tick(c, (uint64_t)f->size);
        return;
    }
    c->rep->files++;
    c->rep->bytes += m.len;
    char size_note[256] = "";
    if ((int64_t)m.len != f->size)
        snprintf(size_note, sizeof size_note,
                 "%s/%s: %zu bytes on disk, but the add of version %" PRId64
                 " records %" PRId64 " (%s; LOG-R58)",
                 t->path, f->path, m.len, f->version, f->size,
                 (int64_t)m.len < f->size ? "truncated" : "extended");
    tlf_seg *seg = NULL;
    rc = tlf_seg_open_mem(m.addr, m.len, f->path, 0, &seg, &e);
    if (rc == TL_OK) {
        c->rep->rows += tlf_seg_n_rows(seg);
        c->rep->blocks += (uint64_t)tlf_seg_n_blocks(seg) * tlf_seg_n_cols(seg);
        if ((int64_t)tlf_seg_n_rows(seg) != f->rows)
            rc = tl_error_set(&e, TL_ECORRUPT,
                              "%s: %" PRIu64 " rows in the footer, but the add of version %" PRId64
                              " records %" PRId64 " (LOG-R58)",
                              f->path, tlf_seg_n_rows(seg), f->version, f->rows);
        else
            rc = tlf_seg_verify_all(seg, &e);
    }
    tlf_seg_close(seg);
    (void)tl_io_unmap(&m, NULL);
    if (size_note[0])
        damage(c, TL_VERIFY_SEGMENT, f->path, rc == TL_OK ? TL_ECORRUPT : rc, f->version, "%s%s%s",
               size_note, rc == TL_OK ? "" : "; ", rc == TL_OK ? "" : e.msg);
    else if (rc != TL_OK)
        damage(c, TL_VERIFY_SEGMENT, f->path, rc, f->version, "%s/%s", t->path, e.msg);
    tick(c, (uint64_t)f->size);
}

/* ---- the log ---------------------------------------------------------------------- */

typedef struct ckinfo {
    int64_t version, ict;
    int valid;
} ckinfo;

static int64_t ict_of(const int64_t *cv, const int64_t *cict, size_t nc, int64_t v)
{
    size_t lo = 0, hi = nc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cv[mid] == v)
            return cict[mid];
        if (cv[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void tl_verify_report_free(tl_verify_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->n_damaged; i++) {
        free(rep->damaged[i].path);
        free(rep->damaged[i].msg);
    }
    free(rep->damaged);
    memset(rep, 0, sizeof *rep);
}

static const char *kind_word(int k)
{
    return k == TL_VERIFY_SEGMENT      ? "data file"
           : k == TL_VERIFY_COMMIT     ? "commit"
           : k == TL_VERIFY_CHECKPOINT ? "checkpoint"
           : k == TL_VERIFY_TAG        ? "tag"
                                       : "log";
}

int tl_table_verify(tl_table *t, const tl_verify_opts *o, tl_verify_report *rep, tl_error *err)
{
    if (!rep)
        return tl_error_set(err, TL_EINVAL, "verify: no report");
    memset(rep, 0, sizeof *rep);
    rep->oldest_version = rep->latest_version = -1;
    if (!t)
        return tl_error_set(err, TL_EINVAL, "verify: no table");
    if (t->delta)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s is a Delta Lake table: verify checks ticklake tables only "
                            "(LOG-D1)",
                            t->path);
    tl_verify_opts opts = o ? *o : (tl_verify_opts){0};
    double t0 = mono_s();
    fctx c = {.t = t, .io = t->io, .rep = rep, .progress = opts.progress,
              .pctx = opts.progress_ctx, .last_report = t0};

    /* 1. list _delta_log/ */
    tl_io_file ld = TL_IO_FILE_INIT;
    tl_io_names names = {0};
    int rc = tl_io_open_beneath(c.io, &t->root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                                0, &ld, err);
    if (rc == TL_ENOTFOUND)
        rc = tl_error_set(err, TL_ENOTFOUND, "%s: not a table (no %s/)", t->path, TL_LOG_DIR);
    if (rc == TL_OK)
        rc = tl_io_list(c.io, &ld, NULL, &names, err);
    int64_t *cv = NULL, *cict = NULL;
    ckinfo *ck = NULL;
    size_t nc = 0, nk = 0;
    if (rc == TL_OK) {
        cv = malloc((names.n + 1) * sizeof *cv);
        cict = malloc((names.n + 1) * sizeof *cict);
        ck = malloc((names.n + 1) * sizeof *ck);
        if (!cv || !cict || !ck)
            rc = tl_error_set(err, TL_ENOMEM, "verify %s: out of memory", t->path);
    }
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        int64_t v;
        if (tl_log_commit_version(names.names[i], &v) == TL_OK)
            cv[nc++] = v;
        else if (tl_log_ckpt_version(names.names[i], &v) == TL_OK)
            ck[nk++] = (ckinfo){v, -1, 0};
    }
    if (rc == TL_OK && nc == 0)
        rc = tl_error_set(err, TL_ENOTFOUND, "%s: not a table (no commit file in %s/)", t->path,
                          TL_LOG_DIR);
    if (rc != TL_OK)
        goto out;
    int64_t latest = cv[nc - 1];
    rep->latest_version = latest;

    /* 2. checkpoints (LOG-V2) */
    for (size_t i = 0; i < nk && !c.nomem; i++) {
        char name[TL_CKPT_NAME_LEN + 1], rel[TL_CKPT_NAME_LEN + 16];
        tl_log_ckpt_name(ck[i].version, name);
        snprintf(rel, sizeof rel, "%s/%s", TL_LOG_DIR, name);
        tl_io_file f = TL_IO_FILE_INIT;
        tl_io_map m = {0};
        tl_error e = {0};
        int r = tl_io_open(c.io, &ld, name, O_RDONLY | O_NOFOLLOW, 0, &f, &e);
        if (r == TL_OK)
            r = tl_io_map_file(&f, &m, &e);
        (void)tl_io_close(&f, NULL);
        tl_log_ckpt dc = {0};
        if (r == TL_OK) {
            char full[600];
            snprintf(full, sizeof full, "%s/%s", t->path, rel);
            r = tl_log_ckpt_decode_map(full, ck[i].version, &m, &dc, &e);
            if (r == TL_OK) {
                ck[i].valid = 1;
                ck[i].ict = dc.ict_ms;
            }
        }
        tl_log_ckpt_free(&dc);
        (void)tl_io_unmap(&m, NULL);
        rep->checkpoints++;
        if (r != TL_OK)
            damage(&c, TL_VERIFY_CHECKPOINT, rel, r, ck[i].version, "%s", e.msg);
    }

    /* 3. contiguous versions, oldest reachable (LOG-V1) */
    size_t g = nc - 1;
    while (g > 0 && cv[g - 1] == cv[g] - 1)
        g--;
    for (size_t i = 1; i < nc; i++)
        if (cv[i] != cv[i - 1] + 1) {
            char name[TL_LOG_NAME_LEN + 1], rel[TL_LOG_NAME_LEN + 16];
            tl_log_commit_name(cv[i - 1] + 1, name);
            snprintf(rel, sizeof rel, "%s/%s", TL_LOG_DIR, name);
            char what[96];
            if (cv[i] - cv[i - 1] == 2)
                snprintf(what, sizeof what, "the commit file of version %" PRId64 " is",
                         cv[i - 1] + 1);
            else
                snprintf(what, sizeof what,
                         "the commit files of versions %" PRId64 " .. %" PRId64 " are",
                         cv[i - 1] + 1, cv[i] - 1);
            damage(&c, TL_VERIFY_LOG, rel, TL_ECORRUPT, cv[i - 1] + 1,
                   "%s/%s: %s missing, yet version %" PRId64
                   " is present below (log cleanup deletes oldest first, LOG-R80; LOG-V1)",
                   t->path, rel, what, cv[i - 1]);
        }
    int64_t oldest = -1;
    if (cv[g] == 0) {
        oldest = 0;
    } else {
        for (size_t i = 0; i < nk; i++)
            if (ck[i].valid && ck[i].version >= cv[g] - 1 && ck[i].version <= latest &&
                (oldest < 0 || ck[i].version < oldest))
                oldest = ck[i].version;
        if (oldest < 0) {
            char name[TL_LOG_NAME_LEN + 1], rel[TL_LOG_NAME_LEN + 16];
            tl_log_commit_name(cv[g] - 1, name);
            snprintf(rel, sizeof rel, "%s/%s", TL_LOG_DIR, name);
            damage(&c, TL_VERIFY_LOG, rel, TL_ECORRUPT, cv[g] - 1,
                   "%s/%s: missing, and no valid checkpoint at version %" PRId64
                   " or later covers the versions below %" PRId64
                   ": no version can be read (LOG-R81; LOG-V1)",
                   t->path, rel, cv[g] - 1, cv[g]);
        }
    }
    rep->oldest_version = oldest;

    /* 4. every commit present (LOG-V3) */
    for (size_t i = 0; i < nc && !c.nomem; i++) {
        char name[TL_LOG_NAME_LEN + 1], rel[TL_LOG_NAME_LEN + 16];
        tl_log_commit_name(cv[i], name);
        snprintf(rel, sizeof rel, "%s/%s", TL_LOG_DIR, name);
        char *buf = NULL;
        size_t len = 0;
        tl_error e = {0};
        cict[i] = -1;
        int r = tl_io_read_file(c.io, &ld, name, TL_LOG_MAX_FILE_BYTES, &buf, &len, &e);
        tl_log_commit cm = {0};
        if (r == TL_OK) {
            tl_log_parse_opts po;
            tl_log_parse_opts_default(&po);
            char full[600];
            snprintf(full, sizeof full, "%s/%s", t->path, rel);
            po.name = full;
            po.version = cv[i];
            /* checked: jansson running out of memory is TL_ENOMEM, and a
             * parse it damaged is never taken */
            r = tl_log_commit_parse_checked(buf, len, &po, &cm, &e);
        }
        free(buf);
        rep->commits++;
        if (r != TL_OK) {
            damage(&c, TL_VERIFY_COMMIT, rel, r, cv[i], "%s", e.msg);
            continue;
        }
        if (cm.n_actions && cm.actions[0].kind == TL_LOG_COMMIT_INFO)
            cict[i] = cm.actions[0].u.ci.ict_ms;
        if (i > 0 && cv[i - 1] == cv[i] - 1 && cict[i - 1] >= 0 && cict[i] >= 0 &&
            cict[i] <= cict[i - 1])
            damage(&c, TL_VERIFY_COMMIT, rel, TL_ECORRUPT, cv[i],
                   "%s/%s: inCommitTimestamp %" PRId64 " is not above version %" PRId64
                   "'s %" PRId64 " (LOG-R49)",
                   t->path, rel, cict[i], cv[i - 1], cict[i - 1]);
        /* --all-versions: files added after the oldest reachable version */
        if (!opts.log_only && ((opts.all_versions && oldest >= 0 && cv[i] > oldest) ||
                               oldest < 0))
            for (uint32_t a = 0; a < cm.n_actions && !c.nomem; a++)
                if (cm.actions[a].kind == TL_LOG_ADD)
                    (void)add_file(&c, cm.actions[a].u.add.path, cm.actions[a].u.add.size_bytes,
                                   cm.actions[a].u.add.n_rows, cv[i], 0);
        tl_log_commit_free(&cm);
    }
    for (size_t i = 0; i < nk; i++) {
        int64_t ci = ict_of(cv, cict, nc, ck[i].version);
        if (ck[i].valid && ci >= 0 && ci != ck[i].ict) {
            char name[TL_CKPT_NAME_LEN + 1], rel[TL_CKPT_NAME_LEN + 16];
            tl_log_ckpt_name(ck[i].version, name);
            snprintf(rel, sizeof rel, "%s/%s", TL_LOG_DIR, name);
            ck[i].valid = 0;
            damage(&c, TL_VERIFY_CHECKPOINT, rel, TL_ECORRUPT, ck[i].version,
                   "%s/%s: inCommitTimestamp %" PRId64 " differs from its commit's %" PRId64
                   " (a checkpoint of another table or history, LOG-R72)",
                   t->path, rel, ck[i].ict, ci);
        }
    }

    /* 5. tags (LOG-V4) */
    tl_tag_info *tags = NULL;
    size_t ntags = 0;
    {
        tl_io_names tn = {0};
        tl_error e = {0};
        int r = tl_tags_list_names(c.io, &t->root, &tn, &e);
        if (r != TL_OK)
            damage(&c, TL_VERIFY_TAG, TL_TAGS_REL, r, -1, "%s", e.msg);
        const char *table_id = NULL;
        tl_log_snapshot ls = {0};
        if (tn.n) {
            tl_log_snap_opts so = {.io = c.io, .at = TL_LOG_AT_LATEST};
            if (tl_log_snapshot_load(&t->root, &so, &ls, NULL) == TL_OK)
                table_id = ls.meta->id;
        }
        tags = calloc(tn.n ? tn.n : 1, sizeof *tags);
        if (!tags)
            c.nomem = 1;
        for (size_t i = 0; tags && i < tn.n && !c.nomem; i++) {
            char name[TL_TAG_NAME_MAX + 1], rel[TL_TAG_NAME_MAX + 32];
            (void)tl_tag_file_name(tn.names[i], name);
            snprintf(rel, sizeof rel, "%s/%s", TL_TAGS_REL, tn.names[i]);
            tl_tag_info ti;
            r = tl_tag_read(c.io, &t->root, name, &ti, &e);
            if (r == TL_ENOTFOUND)
                continue; /* deleted meanwhile */
            rep->tags++;
            if (r != TL_OK) {
                damage(&c, TL_VERIFY_TAG, rel, r, -1, "%s", e.msg);
                continue;
            }
            int64_t ict = ict_of(cv, cict, nc, ti.version);
            for (size_t k = 0; ict < 0 && k < nk; k++)
                if (ck[k].valid && ck[k].version == ti.version)
                    ict = ck[k].ict;
            if (oldest < 0) /* the log is broken: reported above */
                tags[ntags++] = ti;
            else if (ti.version < oldest || ti.version > latest)
                damage(&c, TL_VERIFY_TAG, rel, TL_ENOTFOUND, ti.version,
                       "%s/%s: tag '%s' names version %" PRId64
                       ", outside the reachable versions %" PRId64 " .. %" PRId64 " (LOG-T8)",
                       t->path, rel, ti.name, ti.version, oldest, latest);
            else if (table_id && strcmp(table_id, ti.table_id) != 0)
                damage(&c, TL_VERIFY_TAG, rel, TL_ECORRUPT, ti.version,
                       "%s/%s: tag '%s' was made on table %s, this table is %s (LOG-T8)",
                       t->path, rel, ti.name, ti.table_id, table_id);
            else if (ict >= 0 && ict != ti.timestamp_ms)
                damage(&c, TL_VERIFY_TAG, rel, TL_ECORRUPT, ti.version,
                       "%s/%s: tag '%s' records timestamp %" PRId64 " for version %" PRId64
                       ", but that version was committed at %" PRId64 " (LOG-T8)",
                       t->path, rel, ti.name, ti.timestamp_ms, ti.version, ict);
            else
                tags[ntags++] = ti;
        }
        tl_log_snapshot_free(&ls);
        tl_io_names_free(&tn);
    }

    /* 6. data files (LOG-V5) */
    if (!opts.log_only && !c.nomem) {
        if (opts.at) {
            tl_snapshot *s = NULL;
            tl_error e = {0};
            int r = tl_snapshot_open(t, opts.at, &s, &e);
            if (r == TL_ENOTFOUND || r == TL_EINVAL) {
                rc = r;
                if (err)
                    *err = e;
                free(tags);
                goto out;
            }
            if (r != TL_OK) {
                damage(&c, TL_VERIFY_LOG, TL_LOG_DIR, r, -1, "the version asked for cannot be "
                       "loaded: %s", e.msg);
            } else {
                int64_t v = tl_snapshot_log(s)->version;
                tl_snapshot_close(s);
                version_files(&c, v, "the");
            }
        } else if (oldest < 0) {
            /* no snapshot loads: check what the commits present add
             * (collected in step 4; missing ones counted, not damage) */
        } else {
            if (opts.all_versions)
                version_files(&c, oldest, "the oldest reachable");
            version_files(&c, latest, "the latest");
            for (size_t i = 0; i < ntags; i++) {
                int seen = tags[i].version == latest;
                for (size_t j = 0; j < i; j++)
                    seen |= tags[j].version == tags[i].version;
                if (!seen)
                    version_files(&c, tags[i].version, "tagged");
            }
            if (opts.all_versions)
                rep->versions_checked = (uint64_t)(latest - oldest + 1);
        }
        /* one check per path; needed wins */
        if (c.n_files)
            qsort(c.files, c.n_files, sizeof *c.files, cmp_file);
        size_t m = 0;
        for (size_t i = 0; i < c.n_files; i++) {
            if (m && strcmp(c.files[m - 1].path, c.files[i].path) == 0) {
                free(c.files[i].path);
                continue;
            }
            c.files[m++] = c.files[i];
        }
        c.n_files = m;
        for (size_t i = 0; i < c.n_files; i++)
            c.total += (uint64_t)(c.files[i].size > 0 ? c.files[i].size : 0);
        for (size_t i = 0; i < c.n_files && !c.nomem; i++)
            check_file(&c, &c.files[i]);
        if (c.progress)
            c.progress(c.pctx, c.total, c.total);
    }
    free(tags);

    if (c.nomem)
        rc = tl_error_set(err, TL_ENOMEM, "verify %s: out of memory%s%s%s", t->path,
                          c.nomem_msg[0] ? " (" : "", c.nomem_msg, c.nomem_msg[0] ? ")" : "");
    else if (rep->n_damaged)
        rc = tl_error_set(err, TL_ECORRUPT, "table %s: %zu damaged (first, a %s: %s: %s)", t->path,
                          rep->n_damaged, kind_word(rep->damaged[0].kind), rep->damaged[0].path,
                          rep->damaged[0].msg);
out:
    for (size_t i = 0; i < c.n_files; i++)
        free(c.files[i].path);
    free(c.files);
    free(cv);
    free(cict);
    free(ck);
    tl_io_names_free(&names);
    (void)tl_io_close(&ld, NULL);
    rep->elapsed_s = mono_s() - t0;
    return rc;
}
