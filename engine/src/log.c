/*
 * log.c - the commit protocol, snapshot replay and optimistic concurrency of
 * the transaction log (spec/LOG.md 9.1-9.3, 9.4 in part, 9.6). The action
 * model and its JSON form are log_action.c's; every file operation goes
 * through tl_io (io_int.h).
 *
 * Commit state machine (tl_log_write), one attempt at target version t:
 *   BUILD    copy the actions, commitInfo{readVersion r, txnId, ict =
 *            max(now, ict(t-1) + 1)}, serialise              (R42, R55)
 *   TMP      create _delta_log/.<txnId>.json.tmp, write, fsync, close (R43)
 *   PUBLISH  rename_noreplace(tmp, <t>.json)                        (R44)
 *            EEXIST -> CONFLICT; other error -> read <t>.json back and
 *            compare txnId (R47): ours -> DURABLE, else fail / CONFLICT
 *   DURABLE  fsync _delta_log/; only then success                   (R45)
 *   CONFLICT read winners t..w, check R50; no conflict -> BUILD at w+1 after
 *            a jittered backoff (R51), bounded by max_attempts (R52).
 * Crash invariants kept: a final name is only ever created by put-if-absent
 * of a complete fsynced tmp file (LOG-C1, C4); success is reported only
 * after the directory fsync (LOG-C3); a failed fsync ends the commit with
 * TL_EIO and is never retried (LOG-C10); tmp files are never read (LOG-C5).
 *
 * Snapshot replay (tl_log_snapshot_load): list _delta_log/, keep names of
 * LOG-R2, require 0..latest contiguous, parse and apply commits in order
 * (LOG-R48), checking LOG-R49 per commit. The snapshot keeps every parsed
 * commit; its maps point into them.
 */
#include "log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- string -> pointer hash map (linear probing, backward-shift delete) -- */

struct tl_log_map_slot {
    const char *key; /* NULL: empty */
    uint64_t hash;
    const void *val;
};

static uint64_t key_hash(const char *k)
{
    return XXH3_64bits(k, strlen(k));
}

static const void *smap_get(const tl_log_strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    uint64_t h = key_hash(key);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const tl_log_map_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s->val;
    }
}

static int smap_grow(tl_log_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    tl_log_map_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return TL_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = m->slots[i].hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return TL_OK;
}

/* Insert or replace. */
static int smap_put(tl_log_strmap *m, const char *key, const void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3 && smap_grow(m) != TL_OK)
        return TL_ENOMEM;
    uint64_t h = key_hash(key);
    size_t i = h & (m->cap - 1);
    for (;; i = (i + 1) & (m->cap - 1)) {
        tl_log_map_slot *s = &m->slots[i];
        if (!s->key) {
            *s = (tl_log_map_slot){key, h, val};
            m->n++;
            return TL_OK;
        }
        if (s->hash == h && strcmp(s->key, key) == 0) {
            s->key = key;
            s->val = val;
            return TL_OK;
        }
    }
}

static void smap_del(tl_log_strmap *m, const char *key)
{
    if (!m->cap)
        return;
    size_t mask = m->cap - 1;
    uint64_t h = key_hash(key);
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
        if (!m->slots[i].key)
            return;
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            break;
    }
    /* backward shift: move later members of the cluster into the hole */
    size_t j = i;
    for (;;) {
        m->slots[i].key = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (!m->slots[j].key) {
                m->n--;
                return;
            }
            size_t home = m->slots[j].hash & mask;
            /* j may move to i iff home is not cyclically in (i, j] */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        m->slots[i] = m->slots[j];
        i = j;
    }
}

static void smap_free(tl_log_strmap *m)
{
    free(m->slots);
    *m = (tl_log_strmap){0};
}

/* ---- snapshots ------------------------------------------------------------ */

void tl_log_snapshot_free(tl_log_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap_commits; i++)
        tl_log_commit_free(&s->commits[i]);
    free(s->commits);
    free(s->history);
    free(s->txn_entries);
    smap_free(&s->live);
    smap_free(&s->tombstones);
    smap_free(&s->txns);
    memset(s, 0, sizeof *s);
    s->version = -1;
}

size_t tl_log_snapshot_n_live(const tl_log_snapshot *s)
{
    return s->live.n;
}

size_t tl_log_snapshot_n_tombstones(const tl_log_snapshot *s)
{
    return s->tombstones.n;
}

const tl_log_add *tl_log_snapshot_live_next(const tl_log_snapshot *s, size_t *cursor)
{
    while (*cursor < s->live.cap) {
        const tl_log_map_slot *sl = &s->live.slots[(*cursor)++];
        if (sl->key)
            return sl->val;
    }
    return NULL;
}

const tl_log_add *tl_log_snapshot_live_get(const tl_log_snapshot *s, const char *path)
{
    return smap_get(&s->live, path);
}

const tl_log_remove *tl_log_snapshot_tombstone_get(const tl_log_snapshot *s, const char *path)
{
    return smap_get(&s->tombstones, path);
}

const tl_log_txn_entry *tl_log_snapshot_txn(const tl_log_snapshot *s, const char *app_id)
{
    return smap_get(&s->txns, app_id);
}

static int nomem(tl_error *err, const char *what)
{
    return tl_error_set(err, TL_ENOMEM, "%s: out of memory", what);
}

/* Read and parse commit v of the log directory. TL_ENOTFOUND if absent. */
static int read_commit(const tl_io *io, const tl_io_file *logdir, int64_t v, tl_log_commit *out,
                       tl_error *err)
{
    char name[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(v, name);
    char *buf = NULL;
    size_t len = 0;
    int rc = tl_io_read_file(io, logdir, name, TL_LOG_MAX_FILE_BYTES, &buf, &len, err);
    if (rc != TL_OK)
        return rc;
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.name = name;
    po.version = v;
    rc = tl_log_commit_parse(buf, len, &po, out, err);
    free(buf);
    if (rc != TL_OK && err)
        tl_error_prefix(err, "%s/%s: ", logdir->path ? logdir->path : TL_LOG_DIR, name);
    return rc;
}

/* LOG-R49 / LOG-R28 (partition fields): apply commit v to s. */
static int snap_apply(tl_log_snapshot *s, int64_t v, const tl_log_commit *c, tl_error *err)
{
    char name[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(v, name);
    const tl_log_commit_info *ci = &c->actions[0].u.ci;
    if (v > 0 && ci->ict_ms <= s->history[v - 1].ict_ms)
        return tl_error_set(err, TL_ECORRUPT,
                            "version %" PRId64 " (%s): expected an inCommitTimestamp above "
                            "version %" PRId64 "'s %" PRId64 " ms (LOG-R49), found %" PRId64,
                            v, name, v - 1, s->history[v - 1].ict_ms, ci->ict_ms);
    s->history[v] = (tl_log_version_info){
        .version = v,
        .ict_ms = ci->ict_ms,
        .operation = ci->operation,
        .txn_id = ci->txn_id,
        .has_read_version = ci->has_read_version,
        .read_version = ci->read_version,
        .n_added_files = ci->n_added_files,
        .n_added_rows = ci->n_added_rows,
        .n_removed_files = ci->n_removed_files,
        .n_removed_rows = ci->n_removed_rows,
    };
    /* LOG-R28 against the snapshot's metaData when the commit has none (the
     * parser checked commits with their own) */
    int own_meta = 0, has_files = 0;
    for (uint32_t i = 0; i < c->n_actions; i++) {
        own_meta |= c->actions[i].kind == TL_LOG_METADATA;
        has_files |= c->actions[i].kind == TL_LOG_ADD || c->actions[i].kind == TL_LOG_REMOVE;
    }
    if (!own_meta && has_files && s->meta) {
        int rc = tl_log_actions_check_meta(c->actions, c->n_actions, s->meta, name, TL_ECORRUPT,
                                           err);
        if (rc != TL_OK) {
            if (err)
                tl_error_prefix(err, "version %" PRId64 " (LOG-R49): ", v);
            return rc;
        }
    }
    for (uint32_t i = 0; i < c->n_actions; i++) {
        const tl_log_action *a = &c->actions[i];
        switch (a->kind) {
        case TL_LOG_PROTOCOL:
            s->protocol = &a->u.proto;
            break;
        case TL_LOG_METADATA:
            s->meta = &a->u.meta;
            break;
        case TL_LOG_TXN: {
            tl_log_txn_entry *e = (tl_log_txn_entry *)smap_get(&s->txns, a->u.txn.app_id);
            if (!e) {
                if (s->n_txn_entries == s->cap_txn_entries) {
                    /* entries are pointed to by the map: grow by rebuilding it */
                    size_t nc = s->cap_txn_entries ? s->cap_txn_entries * 2 : 8;
                    tl_log_txn_entry *ne = realloc(s->txn_entries, nc * sizeof *ne);
                    if (!ne)
                        return nomem(err, name);
                    s->txn_entries = ne;
                    s->cap_txn_entries = nc;
                    for (size_t k = 0; k < s->n_txn_entries; k++)
                        if (smap_put(&s->txns, ne[k].txn->app_id, &ne[k]) != TL_OK)
                            return nomem(err, name);
                }
                e = &s->txn_entries[s->n_txn_entries++];
                if (smap_put(&s->txns, a->u.txn.app_id, e) != TL_OK)
                    return nomem(err, name);
            }
            e->txn = &a->u.txn;
            e->table_version = v;
            break;
        }
        case TL_LOG_REMOVE: {
            const tl_log_remove *r = &a->u.rm;
            if (!smap_get(&s->live, r->path))
                return tl_error_set(err, TL_ECORRUPT,
                                    "version %" PRId64 " (%s), line %u: remove.path \"%.200s\": "
                                    "expected a live file (LOG-R49), found %s",
                                    v, name, a->line, r->path,
                                    smap_get(&s->tombstones, r->path) ? "a removed file"
                                                                      : "no such file");
            smap_del(&s->live, r->path);
            if (smap_put(&s->tombstones, r->path, r) != TL_OK)
                return nomem(err, name);
            break;
        }
        case TL_LOG_ADD: {
            const tl_log_add *d = &a->u.add;
            const tl_log_metadata *m = s->meta;
            if (!m)
                return tl_error_set(err, TL_ECORRUPT,
                                    "version %" PRId64 " (%s), line %u: add before any metaData",
                                    v, name, a->line);
            if (d->data_change) {
                const char *what = smap_get(&s->live, d->path)         ? "a live file"
                                   : smap_get(&s->tombstones, d->path) ? "a removed file"
                                                                       : NULL;
                if (what)
                    return tl_error_set(err, TL_ECORRUPT,
                                        "version %" PRId64 " (%s), line %u: add.path \"%.200s\" "
                                        "with dataChange: expected a new path (LOG-R49), "
                                        "found %s",
                                        v, name, a->line, d->path, what);
            }
            smap_del(&s->tombstones, d->path);
            if (smap_put(&s->live, d->path, d) != TL_OK)
                return nomem(err, name);
            break;
        }
        default:
            break;
        }
    }
    return TL_OK;
}

int tl_log_snapshot_load(const tl_io_file *root, const tl_log_snap_opts *opts,
                         tl_log_snapshot *out, tl_error *err)
{
    tl_log_snap_opts dflt = {0};
    if (!opts)
        opts = &dflt;
    memset(out, 0, sizeof *out);
    out->version = -1;
    const tl_io *io = opts->io;
    tl_io_file logdir;
    int rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, err);
    if (rc != TL_OK) {
        if (rc == TL_ENOTFOUND && err)
            tl_error_prefix(err, "not a table (no %s/): ", TL_LOG_DIR);
        return rc;
    }
    tl_io_names names;
    rc = tl_io_list(io, &logdir, NULL, &names, err);
    if (rc != TL_OK) {
        (void)tl_io_close(&logdir, NULL);
        return rc;
    }
    /* Names sort bytewise, so 20-digit names sort by version. */
    int64_t latest = -1;
    for (size_t i = 0; i < names.n && rc == TL_OK; i++) {
        int64_t v;
        if (tl_log_commit_version(names.names[i], &v) != TL_OK)
            continue; /* LOG-R3: other names are ignored */
        if (v != latest + 1) {
            char miss[TL_LOG_NAME_LEN + 1];
            tl_log_commit_name(latest + 1, miss);
            rc = tl_error_set(err, latest < 0 ? TL_ENOTFOUND : TL_ECORRUPT,
                              "%s: version %" PRId64 " (%s) is missing but version %" PRId64
                              " exists (expected contiguous versions from 0, LOG-R3)",
                              logdir.path, latest + 1, miss, v);
            if (latest < 0)
                tl_error_prefix(err, "not a table: ");
        }
        latest = v;
    }
    tl_io_names_free(&names);
    if (rc == TL_OK && latest < 0)
        rc = tl_error_set(err, TL_ENOTFOUND, "not a table: %s holds no version 0 (%s)",
                          logdir.path, "00000000000000000000.json");
    int64_t target = latest;
    if (rc == TL_OK && opts->at == TL_LOG_AT_VERSION) {
        if (opts->version < 0 || opts->version > latest)
            rc = tl_error_set(err, opts->version < 0 ? TL_EINVAL : TL_ENOTFOUND,
                              "%s: version %" PRId64 " does not exist: the latest version "
                              "is %" PRId64 " (LOG-R57)",
                              root->path ? root->path : "table", opts->version, latest);
        target = opts->version;
    }
    if (rc == TL_OK) {
        size_t n = (size_t)target + 1;
        out->commits = calloc(n, sizeof *out->commits);
        out->history = calloc(n, sizeof *out->history);
        out->cap_commits = out->commits ? n : 0;
        if (!out->commits || !out->history)
            rc = nomem(err, logdir.path);
    }
    out->latest_listed = latest;
    int64_t v = 0;
    for (; rc == TL_OK && v <= target; v++) {
        rc = read_commit(io, &logdir, v, &out->commits[v], err);
        if (rc == TL_ENOTFOUND) /* listed a moment ago: vanished */
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s: version %" PRId64 " was listed but cannot be read: %s",
                              logdir.path, v, err ? err->msg : "");
        if (rc != TL_OK)
            break;
        if (opts->at == TL_LOG_AT_TIMESTAMP &&
            out->commits[v].actions[0].u.ci.ict_ms > opts->ts_ms) {
            if (v == 0) {
                rc = tl_error_set(err, TL_ENOTFOUND,
                                  "%s: no version as of timestamp %" PRId64
                                  " ms: version 0, the oldest, has inCommitTimestamp %" PRId64
                                  " ms (LOG-R56)",
                                  root->path ? root->path : "table", opts->ts_ms,
                                  out->commits[0].actions[0].u.ci.ict_ms);
                break;
            }
            tl_log_commit_free(&out->commits[v]);
            break;
        }
        rc = snap_apply(out, v, &out->commits[v], err);
    }
    (void)tl_io_close(&logdir, NULL);
    if (rc != TL_OK) {
        tl_log_snapshot_free(out);
        return rc;
    }
    out->version = v - 1;
    if (!out->protocol || !out->meta) { /* LOG-R27 makes version 0 hold both */
        tl_log_snapshot_free(out);
        return tl_error_set(err, TL_ECORRUPT, "version 0 lacks protocol or metaData (LOG-R27)");
    }
    return TL_OK;
}

/* ---- commits -------------------------------------------------------------- */

static int64_t wall_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The transaction's shape, for the conflict table (LOG-R50). */
typedef struct txn_shape {
    int meta_change;              /* protocol or metaData */
    const tl_log_txn *txn;        /* its txn, if one (at most one is used) */
    const tl_log_action *acts;
    uint32_t n;
} txn_shape;

/* LOG-R50 against winner c at version w. Returns TL_OK (no conflict),
 * TL_ECONFLICT (message set), or 1 when c's txn for T's appId has a
 * version >= T's (LOG-R61: T becomes a no-op). */
static int check_conflict(const txn_shape *t, const tl_log_commit *c, int64_t w, tl_error *err)
{
    for (uint32_t i = 0; i < c->n_actions; i++) {
        const tl_log_action *a = &c->actions[i];
        if (a->kind == TL_LOG_METADATA || a->kind == TL_LOG_PROTOCOL)
            return tl_error_set(err, TL_ECONFLICT,
                                "conflict: version %" PRId64 " changed the table's %s "
                                "concurrently (LOG-R50)",
                                w, tl_log_kind_name(a->kind));
    }
    if (t->meta_change)
        return tl_error_set(err, TL_ECONFLICT,
                            "conflict: this commit changes the table's protocol or metaData "
                            "and version %" PRId64 " was committed concurrently (LOG-R50)",
                            w);
    for (uint32_t i = 0; i < c->n_actions; i++) {
        const tl_log_action *a = &c->actions[i];
        if (a->kind == TL_LOG_TXN && t->txn && strcmp(a->u.txn.app_id, t->txn->app_id) == 0 &&
            a->u.txn.version >= t->txn->version)
            return 1;
        if (a->kind != TL_LOG_REMOVE)
            continue;
        for (uint32_t k = 0; k < t->n; k++)
            if (t->acts[k].kind == TL_LOG_REMOVE &&
                strcmp(t->acts[k].u.rm.path, a->u.rm.path) == 0)
                return tl_error_set(err, TL_ECONFLICT,
                                    "conflict: version %" PRId64 " removed \"%.200s\", which "
                                    "this commit removes too (LOG-R50)",
                                    w, a->u.rm.path);
    }
    return TL_OK;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Jittered exponential backoff before attempt k (k >= 1): up to
 * min(2^k, 64) * 100 us. */
static void backoff(uint64_t *rng, int k)
{
    uint64_t span = (uint64_t)1 << (k < 6 ? k : 6);
    uint64_t us = rng_next(rng) % (span * 100 + 1);
    struct timespec ts = {0, (long)(us * 1000)};
    nanosleep(&ts, NULL);
}

/* The inCommitTimestamp of version v (line 1 of its commit, LOG-R6). */
static int commit_ict(const tl_io *io, const tl_io_file *logdir, int64_t v, int64_t *ict,
                      tl_error *err)
{
    tl_log_commit c;
    int rc = read_commit(io, logdir, v, &c, err);
    if (rc == TL_ENOTFOUND)
        rc = tl_error_set(err, TL_ENOTFOUND,
                          "%s: the read version %" PRId64 " does not exist", logdir->path, v);
    if (rc != TL_OK)
        return rc;
    *ict = c.actions[0].u.ci.ict_ms;
    tl_log_commit_free(&c);
    return TL_OK;
}

/* Best effort: a leftover tmp file is harmless (LOG-C5). */
static void drop_tmp(const tl_io *io, const tl_io_file *logdir, const char *tmp)
{
    if (tl_io_unlink(io, logdir, tmp, NULL) != TL_OK)
        return;
}

/* One attempt: write the tmp file and publish it as version t.
 * Returns TL_OK (published and durable), TL_ECONFLICT with *lost = 1 (t is
 * another writer's), or an error (the commit failed; *maybe_visible = 1 if
 * the version may exist all the same). */
static int publish(const tl_io *io, const tl_io_file *logdir, int64_t t, const char *txn_id,
                   const char *bytes, size_t len, int plain, int *lost, tl_error *err)
{
    char tmp[64], name[TL_LOG_NAME_LEN + 1];
    snprintf(tmp, sizeof tmp, ".%s.json.tmp", txn_id);
    tl_log_commit_name(t, name);
    *lost = 0;
    tl_io_file f;
    int rc = tl_io_open(io, logdir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, &f, err);
    if (rc != TL_OK)
        return rc;
    rc = tl_io_write_all(&f, bytes, len, err);
    if (rc == TL_OK)
        rc = tl_io_fsync(&f, err); /* LOG-R43; a failure is final (LOG-R46) */
    int crc = tl_io_close(&f, rc == TL_OK ? err : NULL);
    if (rc == TL_OK)
        rc = crc;
    if (rc != TL_OK) {
        drop_tmp(io, logdir, tmp);
        return rc;
    }
    rc = plain ? tl_io_rename(io, logdir, tmp, logdir, name, err)
               : tl_io_rename_noreplace(io, logdir, tmp, logdir, name, err); /* LOG-R44 */
    if (rc == TL_ECONFLICT) {
        drop_tmp(io, logdir, tmp);
        *lost = 1;
        return rc;
    }
    if (rc != TL_OK) {
        /* LOG-R47: unknown outcome; read the version back */
        tl_error e2;
        tl_log_commit c;
        int rrc = read_commit(io, logdir, t, &c, &e2);
        if (rrc == TL_OK) {
            int ours = c.actions[0].u.ci.txn_id && strcmp(c.actions[0].u.ci.txn_id, txn_id) == 0;
            tl_log_commit_free(&c);
            if (ours) {
                rc = TL_OK;
            } else {
                drop_tmp(io, logdir, tmp);
                *lost = 1;
                return tl_error_set(err, TL_ECONFLICT, "%s: taken by another writer", name);
            }
        } else {
            drop_tmp(io, logdir, tmp);
            if (err)
                tl_error_prefix(err, "publishing version %" PRId64 " failed and reading it "
                                     "back found no commit of ours (LOG-R47): ",
                                t);
            return rc;
        }
    }
    rc = tl_io_fsync_dir(io, logdir, NULL, err); /* LOG-R45 */
    if (rc != TL_OK && err)
        tl_error_prefix(err, "version %" PRId64 " was published but making it durable failed; "
                             "the commit is not acknowledged and may or may not survive "
                             "(LOG-R46): ",
                        t);
    return rc;
}

int tl_log_write(const tl_io_file *root, int64_t read_version, const tl_log_action *acts,
                 uint32_t n, const tl_log_write_opts *opts, tl_log_write_result *res,
                 tl_error *err)
{
    tl_log_write_opts dflt = {0};
    if (!opts)
        opts = &dflt;
    memset(res, 0, sizeof *res);
    res->version = -1;
    const tl_io *io = opts->io;
    if (!root || read_version < -1 || (n && !acts) || n >= UINT32_MAX)
        return tl_error_set(err, TL_EINVAL, "tl_log_write: bad arguments");
    int creating = read_version == -1;
    txn_shape shape = {0, NULL, acts, n};
    int has_proto = 0, has_meta = 0;
    for (uint32_t i = 0; i < n; i++) {
        switch (acts[i].kind) {
        case TL_LOG_COMMIT_INFO:
            return tl_error_set(err, TL_EINVAL,
                                "tl_log_write: action %u is a commitInfo; the commit builds "
                                "its own",
                                i);
        case TL_LOG_PROTOCOL:
            has_proto = 1;
            if (tl_log_protocol_check_write(&acts[i].u.proto, err) != TL_OK)
                return err ? err->code : TL_EUNSUPPORTED;
            break;
        case TL_LOG_METADATA:
            has_meta = 1;
            break;
        case TL_LOG_TXN:
            if (!shape.txn)
                shape.txn = &acts[i].u.txn;
            break;
        default:
            break;
        }
    }
    shape.meta_change = has_proto || has_meta;
    if (creating && (!has_proto || !has_meta))
        return tl_error_set(err, TL_EINVAL, "creating a table: expected a protocol and a "
                                            "metaData action (LOG-R27), found %s%s",
                            has_proto ? "protocol only" : "",
                            has_meta ? "metaData only" : (has_proto ? "" : "neither"));

    /* Copy the actions with a commitInfo in front. */
    tl_log_action *all = calloc((size_t)n + 1, sizeof *all);
    if (!all)
        return nomem(err, "tl_log_write");
    memcpy(all + 1, acts, (size_t)n * sizeof *acts);
    tl_log_commit_info *ci = &all[0].u.ci;
    all[0].kind = TL_LOG_COMMIT_INFO;
    ci->operation = opts->operation ? opts->operation
                    : creating      ? "CREATE TABLE"
                    : shape.meta_change ? "WRITE"
                                        : "APPEND";
    ci->op_params = opts->op_params;
    ci->has_read_version = !creating;
    ci->read_version = read_version;
    ci->engine_info = "ticklake/0.1.0";
    for (uint32_t i = 0; i < n; i++) {
        if (acts[i].kind == TL_LOG_ADD) {
            ci->n_added_files++;
            ci->n_added_rows += acts[i].u.add.n_rows;
        } else if (acts[i].kind == TL_LOG_REMOVE) {
            ci->n_removed_files++;
            ci->n_removed_rows += acts[i].u.rm.has_n_rows ? acts[i].u.rm.n_rows : 0;
        }
    }

    /* LOG-R40: the protocol of the snapshot the writer read (when given) */
    if (opts->snap && opts->snap->protocol &&
        tl_log_protocol_check_write(opts->snap->protocol, err) != TL_OK) {
        free(all);
        return err ? err->code : TL_EUNSUPPORTED;
    }
    /* LOG-R28: the writer refuses what a reader would reject (LOG-R49) */
    if (opts->snap && opts->snap->meta && !has_meta &&
        tl_log_actions_check_meta(acts, n, opts->snap->meta, "new commit", TL_EINVAL, err) !=
            TL_OK) {
        free(all);
        return err ? err->code : TL_EINVAL;
    }
    int rc = TL_OK;
    tl_io_file logdir = TL_IO_FILE_INIT;
    tl_log_snapshot own = {0};
    own.version = -1;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int64_t prev_ict = -1;
    if (creating) {
        rc = tl_io_mkdir_p(io, root, TL_LOG_DIR, 0755, err);
    } else if (shape.txn) {
        /* LOG-R60: the snapshot the writer read decides idempotency */
        const tl_log_snapshot *snap = opts->snap;
        if (!snap || snap->version != read_version) {
            tl_log_snap_opts so = {.io = io, .at = TL_LOG_AT_VERSION, .version = read_version};
            rc = tl_log_snapshot_load(root, &so, &own, err);
            snap = &own;
        }
        if (rc == TL_OK) {
            for (uint32_t i = 0; i < n; i++) {
                if (acts[i].kind != TL_LOG_TXN)
                    continue;
                const tl_log_txn_entry *e = tl_log_snapshot_txn(snap, acts[i].u.txn.app_id);
                if (e && e->txn->version >= acts[i].u.txn.version) {
                    res->noop = 1;
                    res->version = e->table_version;
                    tl_error_set(err, TL_OK,
                                 "already applied: appId \"%.200s\" has version %" PRId64
                                 " >= %" PRId64 " at table version %" PRId64 " (LOG-R60)",
                                 acts[i].u.txn.app_id, e->txn->version, acts[i].u.txn.version,
                                 e->table_version);
                    goto done;
                }
            }
            prev_ict = snap->history[read_version].ict_ms;
        }
    }
    if (rc == TL_OK)
        rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, err);
    if (rc == TL_OK && !creating && prev_ict < 0)
        rc = commit_ict(io, &logdir, read_version, &prev_ict, err);
    if (rc != TL_OK)
        goto done;

    int max_attempts = opts->max_attempts > 0 ? opts->max_attempts : TL_LOG_DEFAULT_MAX_ATTEMPTS;
    int64_t t = read_version + 1, first_t = t;
    /* threads of one process differ by their stack address */
    uint64_t rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)wall_ms(NULL) ^
                   ((uint64_t)(uintptr_t)&rng << 7);
    rng |= 1;
    for (int attempt = 1;; attempt++) {
        res->attempts = attempt;
        int64_t now = opts->now_ms ? opts->now_ms(opts->now_arg) : wall_ms(NULL);
        ci->ict_ms = now > prev_ict ? now : prev_ict + 1; /* LOG-R55 */
        if (ci->ict_ms < 0)
            ci->ict_ms = 0;
        for (uint32_t i = 1; i <= n; i++) {
            if (all[i].kind == TL_LOG_REMOVE)
                all[i].u.rm.deletion_ms = ci->ict_ms;
            else if (all[i].kind == TL_LOG_TXN) {
                all[i].u.txn.has_last_updated = 1;
                all[i].u.txn.last_updated_ms = ci->ict_ms;
            }
        }
        if ((rc = tl_log_uuid4(res->txn_id, err)) != TL_OK)
            break;
        ci->txn_id = res->txn_id;
        if ((rc = tl_log_commit_serialize(all, n + 1, t, &buf, &cap, &len, err)) != TL_OK)
            break;
        int lost = 0;
        rc = publish(io, &logdir, t, res->txn_id, buf, len, opts->unsafe_plain_rename, &lost,
                     err);
        if (rc == TL_OK) {
            res->version = t;
            break;
        }
        if (!lost)
            break;
        if (creating) {
            rc = tl_error_set(err, TL_ECONFLICT,
                              "%s: the table already exists (version 0 is taken, LOG-R50)",
                              root->path ? root->path : "table");
            break;
        }
        /* LOG-R50/R51: read the winners t .. w */
        int64_t w = t;
        int noop = 0;
        for (;; w++) {
            tl_log_commit c;
            rc = read_commit(io, &logdir, w, &c, err);
            if (rc == TL_ENOTFOUND && w > t) {
                rc = TL_OK;
                break;
            }
            if (rc != TL_OK)
                break;
            rc = check_conflict(&shape, &c, w, err);
            prev_ict = c.actions[0].u.ci.ict_ms;
            tl_log_commit_free(&c);
            if (rc == 1) {
                noop = 1;
                rc = TL_OK;
                res->version = w;
                tl_error_set(err, TL_OK,
                             "already applied: appId \"%.200s\" reached version >= %" PRId64
                             " at table version %" PRId64 " (LOG-R61)",
                             shape.txn->app_id, shape.txn->version, w);
                break;
            }
            if (rc != TL_OK)
                break;
        }
        if (rc != TL_OK || noop) {
            res->noop = noop;
            break;
        }
        if (attempt >= max_attempts) {
            rc = tl_error_set(err, TL_EBUSY,
                              "gave up after %d attempts to commit (versions %" PRId64
                              " .. %" PRId64 " were all taken by other writers, LOG-R52)",
                              attempt, first_t, w - 1);
            break;
        }
        t = w;
        backoff(&rng, attempt);
    }
done:
    free(buf);
    free(all);
    tl_log_snapshot_free(&own);
    (void)tl_io_close(&logdir, NULL);
    return rc;
}
