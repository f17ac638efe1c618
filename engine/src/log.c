/*
 * log.c - the commit protocol, snapshot loading and optimistic concurrency of
 * the transaction log (spec/LOG.md 9.1-9.4, 9.6, reading and triggering the
 * checkpoints of 9.7, LOG-R80/R81 of 9.8). The action
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
 * Snapshot load (tl_log_snapshot_load): list _delta_log/ (commit names of
 * LOG-R2, checkpoint names of LOG-R74; a gap between listed commits is
 * looked up name by name first, since a listing racing a publisher can miss
 * an entry: fill_gaps), resolve the target version (by
 * binary search over line 1 of commits for a timestamp, LOG-R56), start from
 * the newest valid checkpoint c <= target whose commits c+1..target exist,
 * falling back to older ones and to replay from 0 (LOG-R72), then parse and
 * apply commits in order (LOG-R48), checking LOG-R49 per commit. The
 * snapshot keeps the checkpoint and every parsed commit; its maps point into
 * them. A target nothing reaches is TL_ENOTFOUND naming the oldest reachable
 * version (LOG-R57, R81) or TL_ECORRUPT naming the missing commit.
 *
 * After a commit of a version on the checkpoint interval, tl_log_write
 * writes its checkpoint from the writer's snapshot plus the commits after it
 * (LOG-R70); a failure is reported in the result, never fails the commit.
 * History reads line 1 of each reachable commit; log cleanup (LOG-R80)
 * deletes covered commits oldest first, only when called.
 */
#include "log_int.h"

#include "checkpoint_int.h"
#include "delta_read_int.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    if (s->ckpt) {
        tl_log_ckpt_free(s->ckpt);
        free(s->ckpt);
    }
    tl_log_arena_free(s->delta_arena);
    memset(s, 0, sizeof *s);
    s->version = -1;
    s->checkpoint_version = -1;
    s->oldest_reachable = -1;
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

const tl_log_remove *tl_log_snapshot_tombstone_next(const tl_log_snapshot *s, size_t *cursor)
{
    while (*cursor < s->tombstones.cap) {
        const tl_log_map_slot *sl = &s->tombstones.slots[(*cursor)++];
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

int tl_log_parse_oom(void)
{
    void *p = malloc(256);
    if (!p)
        return 1;
    free(p);
    return 0;
}

/* ---- jansson's allocations (log_int.h tl_json_*) ----------------------------
 * jansson 2.14's lexer drops a byte of a string when growing its buffer
 * fails and the parse succeeds all the same (lex_save ignores the error): a
 * path or a column name silently loses a character. So the engine gives
 * jansson allocation functions that count failures per thread, and every
 * parse checks that none failed while it ran. */

static _Thread_local uint64_t json_failures;

/* jansson 2.14 also crashes when one allocation fails as a string token's
 * closing quote grows the lexer buffer and later ones succeed (request DEC
 * -> WRITE): so a failed allocation is served from an emergency pool
 * instead (and counted: the parse is dropped all the same). jansson only
 * sees NULL once the pool is spent too, and then every later request fails
 * while the pool's blocks live, so no "fail, then succeed" reaches it. The
 * pool is reused once every block from it is released. */
#define JSON_POOL_BYTES ((size_t)64 << 10)
static _Alignas(16) unsigned char json_pool[JSON_POOL_BYTES];
static size_t json_pool_used, json_pool_live;
static pthread_mutex_t json_pool_mu = PTHREAD_MUTEX_INITIALIZER;

static int in_json_pool(const void *p)
{
    return (const unsigned char *)p >= json_pool &&
           (const unsigned char *)p < json_pool + JSON_POOL_BYTES;
}

static void *json_alloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        return p;
    json_failures++;
    size_t need = (n + 15) & ~(size_t)15;
    pthread_mutex_lock(&json_pool_mu);
    if (n && need <= JSON_POOL_BYTES - json_pool_used) {
        p = json_pool + json_pool_used;
        json_pool_used += need;
        json_pool_live++;
    }
    pthread_mutex_unlock(&json_pool_mu);
    return p;
}

static void json_release(void *p)
{
    if (!in_json_pool(p)) {
        free(p);
        return;
    }
    pthread_mutex_lock(&json_pool_mu);
    if (--json_pool_live == 0)
        json_pool_used = 0;
    pthread_mutex_unlock(&json_pool_mu);
}

void tl_json_alloc_install(void)
{
    json_set_alloc_funcs(json_alloc, json_release);
}

__attribute__((constructor)) static void json_alloc_init(void)
{
    tl_json_alloc_install();
}

uint64_t tl_json_alloc_failures(void)
{
    return json_failures;
}

struct json_t *tl_json_loadb(const char *buf, size_t len, size_t flags, struct json_error_t *je,
                             int *oom)
{
    *oom = 0;
    for (int tries = 0; tries < 2; tries++) {
        uint64_t f0 = json_failures;
        json_t *j = json_loadb(buf, len, flags, je);
        if (json_failures == f0) {
            if (j)
                return j;
            if (!tl_log_parse_oom())
                return NULL; /* the text is bad */
        } else if (j) {
            json_decref(j); /* a string may have lost a byte */
        }
    }
    *oom = 1;
    return NULL;
}

int tl_log_commit_parse_checked(const char *buf, size_t len, const tl_log_parse_opts *po,
                                tl_log_commit *out, tl_error *err)
{
    int rc = TL_OK;
    for (int tries = 0; tries < 2; tries++) {
        uint64_t f0 = json_failures;
        rc = tl_log_commit_parse(buf, len, po, out, err);
        int lost = json_failures != f0;
        if (rc == TL_OK && !lost)
            return TL_OK;
        if (rc == TL_OK)
            tl_log_commit_free(out);
        else if (!lost && (rc != TL_ECORRUPT || !tl_log_parse_oom()))
            return rc; /* a real error: bad text, or reported as it is */
    }
    return tl_error_set(err, TL_ENOMEM, "%s: out of memory", po && po->name ? po->name : "commit");
}

/* Read and parse commit v of the log directory. TL_ENOTFOUND if absent.
 * Every log directory handle in this file comes from tl_io_open, which
 * always sets its display path (or fails), so logdir->path is never NULL;
 * only the caller's table root handle may lack one (then "table"). */
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
    rc = tl_log_commit_parse_checked(buf, len, &po, out, err);
    free(buf);
    if (rc != TL_OK && err)
        tl_error_prefix(err, "%s/%s: ", logdir->path, name);
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
        .op_params = ci->op_params,
    };
    /* LOG-R28 against the snapshot's metaData when the commit has none (the
     * parser checked commits with their own) */
    int own_meta = 0, has_files = 0;
    for (uint32_t i = 0; i < c->n_actions; i++) {
        own_meta |= c->actions[i].kind == TL_LOG_METADATA;
        has_files |= c->actions[i].kind == TL_LOG_ADD || c->actions[i].kind == TL_LOG_REMOVE;
    }
    if (!own_meta && has_files && s->meta && !s->delta) {
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
            /* Delta: a remove of a path that is not live only leaves a
             * tombstone (LOG-D10) */
            if (!s->delta && !smap_get(&s->live, r->path))
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
            if (d->data_change && !s->delta) { /* Delta: the newest add wins (LOG-D10) */
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

/* ---- listing, line 1, checkpoints (LOG-R3, R56, R72, R81) ----------------- */

/* The log's files by kind: commit and checkpoint versions, ascending. */
typedef struct log_listing {
    int64_t *cv; /* commit versions */
    size_t n;
    int64_t *ck; /* checkpoint versions */
    size_t nck;
} log_listing;

static void listing_free(log_listing *l)
{
    free(l->cv);
    free(l->ck);
    memset(l, 0, sizeof *l);
}

/* A listing of _delta_log/ taken while writers publish is not atomic
 * (readdir spans several getdents calls; on ext4 an entry created during
 * it at a hash position already passed is missed while a later one is
 * seen), so a reader could see version N+1 without N although N exists.
 * Commits always form one contiguous range (LOG-C4; cleanup deletes oldest
 * first, LOG-R80), so every gap between two listed commits is either such a
 * miss or damage: stat the missing names in order and take those that exist
 * (at most FILL_BUDGET stats). A name that does not exist ends that gap:
 * it stays a gap, which the callers report as corruption (LOG-R72). */
#define FILL_BUDGET 4096u

static int fill_gaps(const tl_io *io, const tl_io_file *logdir, log_listing *l, tl_error *err)
{
    int64_t *found = NULL;
    size_t nf = 0, cap = 0;
    unsigned budget = FILL_BUDGET;
    for (size_t i = 1; i < l->n && budget; i++)
        for (int64_t v = l->cv[i - 1] + 1; v < l->cv[i] && budget; v++, budget--) {
            char name[TL_LOG_NAME_LEN + 1];
            tl_log_commit_name(v, name);
            struct stat st;
            if (tl_io_stat(io, logdir, name, &st, NULL) != TL_OK || !S_ISREG(st.st_mode))
                break; /* really missing: a gap */
            if (nf == cap) {
                size_t nc = cap ? 2 * cap : 8;
                int64_t *p = realloc(found, nc * sizeof *p);
                if (!p) {
                    free(found);
                    return nomem(err, logdir->path);
                }
                found = p;
                cap = nc;
            }
            found[nf++] = v;
        }
    if (!nf)
        return TL_OK;
    int64_t *cv = malloc((l->n + nf) * sizeof *cv);
    if (!cv) {
        free(found);
        return nomem(err, logdir->path);
    }
    /* merge: both ascending */
    size_t a = 0, b = 0, k = 0;
    while (a < l->n || b < nf)
        cv[k++] = b == nf || (a < l->n && l->cv[a] < found[b]) ? l->cv[a++] : found[b++];
    free(found);
    free(l->cv);
    l->cv = cv;
    l->n = k;
    return TL_OK;
}

static int list_log(const tl_io *io, const tl_io_file *logdir, log_listing *l, tl_error *err)
{
    memset(l, 0, sizeof *l);
    tl_io_names names;
    int rc = tl_io_list(io, logdir, NULL, &names, err);
    if (rc != TL_OK)
        return rc;
    l->cv = malloc((names.n ? names.n : 1) * sizeof *l->cv);
    l->ck = malloc((names.n ? names.n : 1) * sizeof *l->ck);
    if (!l->cv || !l->ck) {
        tl_io_names_free(&names);
        listing_free(l);
        return nomem(err, logdir->path);
    }
    /* names sort bytewise, so 20-digit names sort by version */
    for (size_t i = 0; i < names.n; i++) {
        int64_t v;
        if (tl_log_commit_version(names.names[i], &v) == TL_OK)
            l->cv[l->n++] = v;
        else if (tl_log_ckpt_version(names.names[i], &v) == TL_OK)
            l->ck[l->nck++] = v;
        /* LOG-R3: other names are ignored */
    }
    tl_io_names_free(&names);
    rc = fill_gaps(io, logdir, l, err);
    if (rc != TL_OK)
        listing_free(l);
    return rc;
}

/* Index of commit v in l->cv, or -1. */
static ptrdiff_t commit_index(const log_listing *l, int64_t v)
{
    size_t a = 0, b = l->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (l->cv[m] < v)
            a = m + 1;
        else
            b = m;
    }
    return a < l->n && l->cv[a] == v ? (ptrdiff_t)a : -1;
}

/* Do commits a..b all exist? (true when a > b) */
static int commits_exist(const log_listing *l, int64_t a, int64_t b)
{
    if (a > b)
        return 1;
    ptrdiff_t i = commit_index(l, a);
    return i >= 0 && (size_t)i + (size_t)(b - a) < l->n && l->cv[(size_t)i + (size_t)(b - a)] == b;
}

/* The first version in a..b without a commit, and the next existing after
 * it (-1 if none). Requires !commits_exist(l, a, b). */
static void first_missing(const log_listing *l, int64_t a, int64_t b, int64_t *miss,
                          int64_t *next)
{
    int64_t m = a;
    ptrdiff_t i = commit_index(l, a);
    if (i >= 0) {
        size_t k = (size_t)i;
        while (k + 1 < l->n && l->cv[k + 1] == l->cv[k] + 1 && l->cv[k] < b)
            k++;
        m = l->cv[k] + 1;
    }
    *miss = m;
    *next = -1;
    for (size_t k = 0; k < l->n; k++)
        if (l->cv[k] > m) {
            *next = l->cv[k];
            break;
        }
}

/* String storage of history entries and line-1 parses: json references
 * to drop and malloc'd blocks to free. */
typedef struct hist_mem {
    json_t **js;
    size_t nj, capj;
    void **blocks;
    size_t nb, capb;
} hist_mem;

static int mem_keep_json(hist_mem *m, json_t *j)
{
    if (m->nj == m->capj) {
        size_t nc = m->capj ? m->capj * 2 : 64;
        json_t **n = realloc(m->js, nc * sizeof *n);
        if (!n)
            return TL_ENOMEM;
        m->js = n;
        m->capj = nc;
    }
    m->js[m->nj++] = j;
    return TL_OK;
}

static void *mem_block(hist_mem *m, size_t n)
{
    if (m->nb == m->capb) {
        size_t nc = m->capb ? m->capb * 2 : 64;
        void **b = realloc(m->blocks, nc * sizeof *b);
        if (!b)
            return NULL;
        m->blocks = b;
        m->capb = nc;
    }
    void *p = malloc(n ? n : 1);
    if (p)
        m->blocks[m->nb++] = p;
    return p;
}

static void mem_free(hist_mem *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nj; i++)
        json_decref(m->js[i]);
    for (size_t i = 0; i < m->nb; i++)
        free(m->blocks[i]);
    free(m->js);
    free(m->blocks);
    memset(m, 0, sizeof *m);
}

static int head_bad(tl_error *err, const char *dir, const char *name, const char *field,
                    const char *what)
{
    return tl_error_set(err, TL_ECORRUPT, "%s/%s: line 1 (byte offset 0): commitInfo.%s: %s",
                        dir, name, field, what);
}

static int head_int(json_t *ci, const char *k, int required, int64_t *out, int *has,
                    const char *dir, const char *name, tl_error *err)
{
    json_t *x = json_object_get(ci, k);
    if (has)
        *has = x != NULL;
    if (!x)
        return required ? head_bad(err, dir, name, k, "expected an integer, found nothing")
                        : TL_OK;
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return head_bad(err, dir, name, k, "expected an integer >= 0");
    *out = (int64_t)json_integer_value(x);
    return TL_OK;
}

/* Line 1 (the commitInfo, LOG-R6) of commit v, without reading the rest
 * (LOG-R56). Fills vi; strings are kept in mem when mem is non-NULL (else
 * only the integers are valid). TL_ENOTFOUND if the file is absent. */
static int read_head(const tl_io *io, const tl_io_file *logdir, int64_t v,
                     tl_log_version_info *vi, hist_mem *mem, tl_error *err)
{
    char name[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(v, name);
    const char *dir = logdir->path;
    tl_io_file f;
    int rc = tl_io_open(io, logdir, name, O_RDONLY, 0, &f, err);
    if (rc != TL_OK)
        return rc;
    size_t cap = 4096, len = 0;
    char *buf = NULL, *lf = NULL;
    for (;;) {
        char *nb = realloc(buf, cap);
        if (!nb) {
            rc = nomem(err, name);
            break;
        }
        buf = nb;
        size_t got = 0, want = cap - len;
        rc = tl_io_pread(&f, buf + len, want, len, &got, err);
        if (rc != TL_OK)
            break;
        lf = memchr(buf + len, '\n', got);
        len += got;
        if (lf || got < want)
            break;
        if (cap > TL_LOG_MAX_LINE_BYTES)
            break; /* refused below */
        /* never more than the limit and its LF */
        cap = cap * 2 > TL_LOG_MAX_LINE_BYTES + 1 ? TL_LOG_MAX_LINE_BYTES + 1 : cap * 2;
    }
    if (rc == TL_OK && (lf ? (size_t)(lf - buf) : len) > TL_LOG_MAX_LINE_BYTES)
        rc = tl_error_set(err, TL_EUNSUPPORTED,
                          "%s/%s: line 1 is longer than %zu bytes (LOG-R7)", dir, name,
                          TL_LOG_MAX_LINE_BYTES);
    (void)tl_io_close(&f, NULL);
    if (rc == TL_OK && !lf)
        rc = tl_error_set(err, TL_ECORRUPT,
                          "%s/%s: line 1 (byte offset 0): expected a line ending in LF, found "
                          "%zu bytes without one (LOG-R4)",
                          dir, name, len);
    json_t *root = NULL;
    if (rc == TL_OK) {
        json_error_t je;
        int oom;
        root = tl_json_loadb(buf, (size_t)(lf - buf), JSON_REJECT_DUPLICATES, &je, &oom);
        if (oom)
            rc = nomem(err, name);
        else if (!root)
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s/%s: line 1, byte offset %d: invalid JSON: %s (LOG-R5)", dir,
                              name, je.position, je.text);
    }
    free(buf);
    if (rc != TL_OK)
        return rc;
    json_t *ci = json_object_get(root, "commitInfo");
    if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_object(ci)) {
        json_decref(root);
        return tl_error_set(err, TL_ECORRUPT,
                            "%s/%s: line 1 (byte offset 0): expected {\"commitInfo\":{...}} "
                            "(LOG-R6)",
                            dir, name);
    }
    memset(vi, 0, sizeof *vi);
    vi->version = v;
    rc = head_int(ci, "inCommitTimestamp", 1, &vi->ict_ms, NULL, dir, name, err);
    if (rc == TL_OK && mem) {
        json_t *op = json_object_get(ci, "operation"), *tx = json_object_get(ci, "txnId");
        json_t *pp = json_object_get(ci, "operationParameters");
        if (!json_is_string(op))
            rc = head_bad(err, dir, name, "operation", "expected a string");
        else if (tx && !json_is_string(tx))
            rc = head_bad(err, dir, name, "txnId", "expected a string");
        else if (!json_is_object(pp))
            rc = head_bad(err, dir, name, "operationParameters", "expected an object");
        if (rc == TL_OK) {
            vi->operation = json_string_value(op);
            vi->txn_id = tx ? json_string_value(tx) : NULL;
            size_t np = json_object_size(pp);
            tl_log_kv *kv = mem_block(mem, np * sizeof *kv);
            if (!kv)
                rc = nomem(err, name);
            const char *k;
            json_t *val;
            uint32_t i = 0;
            json_object_foreach(pp, k, val)
            {
                if (rc != TL_OK)
                    break;
                if (!json_is_string(val)) {
                    rc = head_bad(err, dir, name, "operationParameters", "expected string "
                                                                         "values");
                    break;
                }
                kv[i++] = (tl_log_kv){k, json_string_value(val)};
            }
            vi->op_params = (tl_log_map){kv, i};
        }
        if (rc == TL_OK)
            rc = head_int(ci, "readVersion", 0, &vi->read_version, &vi->has_read_version, dir,
                          name, err);
        if (rc == TL_OK)
            rc = head_int(ci, "numAddedFiles", 1, &vi->n_added_files, NULL, dir, name, err);
        if (rc == TL_OK)
            rc = head_int(ci, "numAddedRows", 1, &vi->n_added_rows, NULL, dir, name, err);
        if (rc == TL_OK)
            rc = head_int(ci, "numRemovedFiles", 1, &vi->n_removed_files, NULL, dir, name, err);
        if (rc == TL_OK)
            rc = head_int(ci, "numRemovedRows", 1, &vi->n_removed_rows, NULL, dir, name, err);
        if (rc == TL_OK && mem_keep_json(mem, root) != TL_OK)
            rc = nomem(err, name);
        if (rc == TL_OK)
            return TL_OK;
    }
    json_decref(root);
    return rc;
}

/* Read checkpoint c whole: verified (header + checksum) only, or decoded
 * too when ck is non-NULL. A mismatch with commit c's inCommitTimestamp (a
 * checkpoint of another history) is TL_ECORRUPT. */
static int load_ckpt(const tl_io *io, const tl_io_file *logdir, const log_listing *l, int64_t c,
                     tl_log_ckpt *ck, int64_t *ict, tl_error *err)
{
    char name[TL_CKPT_NAME_LEN + 1];
    tl_log_ckpt_name(c, name);
    tl_io_file f;
    int rc = tl_io_open(io, logdir, name, O_RDONLY, 0, &f, err);
    if (rc != TL_OK)
        return rc;
    tl_io_map m = {0};
    rc = tl_io_map_file(&f, &m, err); /* the mapping outlives f */
    (void)tl_io_close(&f, NULL);
    if (rc != TL_OK)
        return rc;
    if (m.len > TL_CKPT_MAX_FILE_BYTES) {
        (void)tl_io_unmap(&m, NULL);
        return tl_error_set(err, TL_EUNSUPPORTED, "%s: %zu bytes, above the limit of %zu",
                            name, m.len, TL_CKPT_MAX_FILE_BYTES);
    }
    int64_t t = -1;
    if (ck) {
        rc = tl_log_ckpt_decode_map(name, c, &m, ck, err); /* takes m */
        t = rc == TL_OK ? ck->ict_ms : -1;
    } else {
        rc = m.addr ? tl_log_ckpt_verify(name, c, m.addr, m.len, NULL, &t, err)
                    : tl_error_set(err, TL_ECORRUPT, "%s: byte offset 0: file size: empty",
                                   name);
        (void)tl_io_unmap(&m, NULL);
    }
    if (rc == TL_OK && commit_index(l, c) >= 0) {
        tl_log_version_info vi;
        rc = read_head(io, logdir, c, &vi, NULL, err);
        if (rc == TL_OK && vi.ict_ms != t)
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s: inCommitTimestamp %" PRId64 " differs from version %" PRId64
                              "'s %" PRId64 " (a checkpoint of another history, LOG-R72)",
                              name, t, c, vi.ict_ms);
        if (rc != TL_OK && ck)
            tl_log_ckpt_free(ck);
    }
    if (rc == TL_OK && ict)
        *ict = t;
    return rc;
}

/* A checkpoint that cannot be read for a reason other than its bytes (out
 * of memory, an I/O error) ends the search: falling back (LOG-R72) would
 * report a healthy table whose older commits were cleaned up as damaged
 * ("version 0 is missing"), or replay needlessly. Missing, corrupt,
 * mismatching or unsupported checkpoints are fallen back from. */
static int ckpt_fatal(int rc)
{
    return rc == TL_ENOMEM || rc == TL_EIO;
}

/* LOG-R81: the smallest c with a valid checkpoint (header and checksum
 * checked) and commits c+1..latest, or 0 while commits 0..latest exist.
 * -1 if none. *ict_out: its inCommitTimestamp if it came from a checkpoint
 * whose commit is gone, else -1. */
static int oldest_reachable(const tl_io *io, const tl_io_file *logdir, const log_listing *l,
                            int64_t *oldest, int64_t *ict_out, tl_error *err)
{
    *oldest = -1;
    *ict_out = -1;
    if (!l->n)
        return TL_OK;
    int64_t hi = l->cv[l->n - 1];
    if (commits_exist(l, 0, hi)) {
        *oldest = 0;
        return TL_OK;
    }
    for (size_t i = 0; i < l->nck; i++) {
        int64_t c = l->ck[i];
        if (c > hi || !commits_exist(l, c + 1, hi))
            continue;
        int64_t t;
        tl_error e;
        int rc = load_ckpt(io, logdir, l, c, NULL, &t, &e);
        if (ckpt_fatal(rc))
            return tl_error_set(err, rc, "%s", e.msg);
        if (rc == TL_OK) {
            *oldest = c;
            *ict_out = commit_index(l, c) >= 0 ? -1 : t;
            return TL_OK;
        }
    }
    return TL_OK;
}

/* The error for a version that no checkpoint and no replay reaches. */
static int unreachable(const tl_io *io, const tl_io_file *root, const tl_io_file *logdir,
                       const log_listing *l, int64_t target, int use_ckpt, tl_error *err)
{
    const char *tp = root->path ? root->path : "table";
    if (use_ckpt && l->nck) {
        int64_t oldest, t;
        int rc = oldest_reachable(io, logdir, l, &oldest, &t, err);
        if (rc != TL_OK)
            return rc;
        if (oldest > target)
            return tl_error_set(err, TL_ENOTFOUND,
                                "%s: version %" PRId64 " is not reachable: the oldest "
                                "reachable version is %" PRId64 " (older commits were cleaned "
                                "up, LOG-R57, LOG-R81)",
                                tp, target, oldest);
    }
    int64_t miss, next;
    first_missing(l, 0, target, &miss, &next);
    char mname[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(miss, mname);
    int rc = tl_error_set(err, miss == 0 && !l->nck ? TL_ENOTFOUND : TL_ECORRUPT,
                          "%s: version %" PRId64 " (%s) is missing but version %" PRId64
                          " exists (expected contiguous versions from 0 or from a valid "
                          "checkpoint, LOG-R3, LOG-R72)",
                          logdir->path, miss, mname, next);
    if (miss == 0 && !l->nck)
        tl_error_prefix(err, "not a table: ");
    return rc;
}

/* Set up s (zeroed) for versions up to target: history and commits arrays. */
static int snap_alloc(tl_log_snapshot *s, int64_t target, const char *what, tl_error *err)
{
    size_t n = (size_t)target + 1;
    s->commits = calloc(n, sizeof *s->commits);
    s->history = calloc(n, sizeof *s->history);
    s->cap_commits = s->commits ? n : 0;
    if (!s->commits || !s->history)
        return nomem(err, what);
    return TL_OK;
}

static int smap_reserve(tl_log_strmap *m, size_t n)
{
    size_t want = 64;
    while (want * 3 < n * 4 + 4)
        want *= 2;
    while (m->cap < want)
        if (smap_grow(m) != TL_OK)
            return TL_ENOMEM;
    return TL_OK;
}

static int txn_put(tl_log_snapshot *s, const tl_log_txn *t, int64_t table_version,
                   const char *what, tl_error *err)
{
    tl_log_txn_entry *e = (tl_log_txn_entry *)smap_get(&s->txns, t->app_id);
    if (!e) {
        if (s->n_txn_entries == s->cap_txn_entries) {
            /* entries are pointed to by the map: grow by rebuilding it */
            size_t nc = s->cap_txn_entries ? s->cap_txn_entries * 2 : 8;
            tl_log_txn_entry *ne = realloc(s->txn_entries, nc * sizeof *ne);
            if (!ne)
                return nomem(err, what);
            s->txn_entries = ne;
            s->cap_txn_entries = nc;
            for (size_t k = 0; k < s->n_txn_entries; k++)
                if (smap_put(&s->txns, ne[k].txn->app_id, &ne[k]) != TL_OK)
                    return nomem(err, what);
        }
        e = &s->txn_entries[s->n_txn_entries++];
        if (smap_put(&s->txns, t->app_id, e) != TL_OK)
            return nomem(err, what);
    }
    e->txn = t;
    e->table_version = table_version;
    return TL_OK;
}

/* The snapshot at ck's version from a decoded checkpoint (ownership of ck
 * moves to s), with room for versions up to target. */
static int snap_from_ckpt(tl_log_snapshot *s, tl_log_ckpt *ck, int64_t target, tl_error *err)
{
    char name[TL_CKPT_NAME_LEN + 1];
    tl_log_ckpt_name(ck->version, name);
    s->ckpt = malloc(sizeof *s->ckpt);
    if (!s->ckpt) {
        tl_log_ckpt_free(ck);
        return nomem(err, name);
    }
    *s->ckpt = *ck;
    memset(ck, 0, sizeof *ck);
    ck = s->ckpt;
    int rc = snap_alloc(s, target, name, err);
    if (rc != TL_OK)
        return rc;
    int64_t c = ck->version;
    s->checkpoint_version = c;
    s->first_history_version = c + 1;
    s->history[c] = (tl_log_version_info){.version = c, .ict_ms = ck->ict_ms};
    s->protocol = ck->protocol;
    s->meta = ck->meta;
    for (uint64_t i = 0; i < ck->n_txn && rc == TL_OK; i++)
        rc = txn_put(s, &ck->txns[i].u.txn, ck->txn_versions[i], name, err);
    if (rc == TL_OK && (smap_reserve(&s->live, s->live.n + ck->n_add) != TL_OK ||
                        smap_reserve(&s->tombstones, s->tombstones.n + ck->n_remove) != TL_OK))
        rc = nomem(err, name);
    /* the maps were reserved for what they hold plus every add and remove:
     * smap_put below never grows them, so it cannot fail */
    for (uint64_t i = 0; i < ck->n_add && rc == TL_OK; i++) {
        const tl_log_add *a = &ck->adds[i].u.add;
        size_t before = s->live.n;
        (void)smap_put(&s->live, a->path, a);
        if (s->live.n == before)
            rc = tl_error_set(err, TL_ECORRUPT, "%s: add %" PRIu64 ": path \"%.200s\" twice",
                              name, i, a->path);
    }
    for (uint64_t i = 0; i < ck->n_remove && rc == TL_OK; i++) {
        const tl_log_remove *r = &ck->removes[i].u.rm;
        size_t before = s->tombstones.n;
        if (smap_get(&s->live, r->path)) {
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s: remove %" PRIu64 ": path \"%.200s\" is also live", name, i,
                              r->path);
            break;
        }
        (void)smap_put(&s->tombstones, r->path, r);
        if (s->tombstones.n == before)
            rc = tl_error_set(err, TL_ECORRUPT, "%s: remove %" PRIu64 ": path \"%.200s\" twice",
                              name, i, r->path);
    }
    return rc;
}

static void snap_init(tl_log_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->version = -1;
    s->checkpoint_version = -1;
    s->oldest_reachable = -1;
}

/* Replay commits s->version+1 .. target into s (history/commits sized). */
static int snap_replay(const tl_io *io, const tl_io_file *logdir, tl_log_snapshot *s,
                       int64_t target, tl_error *err)
{
    int rc = TL_OK;
    for (int64_t v = s->version + 1; v <= target && rc == TL_OK; v++) {
        rc = read_commit(io, logdir, v, &s->commits[v], err);
        if (rc == TL_ENOTFOUND) /* listed a moment ago: vanished */
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s: version %" PRId64 " was listed but cannot be read: %s",
                              logdir->path, v, err ? err->msg : "");
        if (rc == TL_OK)
            rc = snap_apply(s, v, &s->commits[v], err);
        if (rc == TL_OK)
            s->version = v;
    }
    return rc;
}

/* The greatest reachable version with inCommitTimestamp <= ts, by binary
 * search over line 1 of the commit files (LOG-R56). */
static int version_at_ts(const tl_io *io, const tl_io_file *root, const tl_io_file *logdir,
                         const log_listing *l, int64_t ts, int64_t *out, tl_error *err)
{
    int64_t lo, lo_ict, hi = l->cv[l->n - 1];
    int rc = oldest_reachable(io, logdir, l, &lo, &lo_ict, err);
    if (rc != TL_OK)
        return rc;
    if (lo < 0)
        return unreachable(io, root, logdir, l, hi, 1, err);
    tl_log_version_info vi;
    if (lo_ict < 0) {
        if ((rc = read_head(io, logdir, lo, &vi, NULL, err)) != TL_OK)
            return rc;
        lo_ict = vi.ict_ms;
    }
    if (lo_ict > ts)
        return tl_error_set(err, TL_ENOTFOUND,
                            "%s: no version as of timestamp %" PRId64 " ms: version %" PRId64
                            ", the oldest reachable, has inCommitTimestamp %" PRId64 " ms "
                            "(LOG-R56)",
                            root->path ? root->path : "table", ts, lo, lo_ict);
    /* invariant: ict(lo) <= ts; ict(r) > ts or r = hi + 1 */
    int64_t r = hi + 1;
    while (r - lo > 1) {
        int64_t mid = lo + (r - lo) / 2;
        if ((rc = read_head(io, logdir, mid, &vi, NULL, err)) != TL_OK)
            return rc == TL_ENOTFOUND ? TL_ECORRUPT : rc;
        if (vi.ict_ms <= ts)
            lo = mid;
        else
            r = mid;
    }
    *out = lo;
    return TL_OK;
}

static int delta_load(const tl_io_file *root, const tl_log_snap_opts *opts, tl_log_snapshot *out,
                      tl_error *err);

static int load_ticklake(const tl_io_file *root, const tl_log_snap_opts *opts,
                         tl_log_snapshot *out, tl_error *err);
static int load_ticklake_once(const tl_io_file *root, const tl_log_snap_opts *opts,
                              tl_log_snapshot *out, int64_t *first_listed, tl_error *err);

int tl_log_snapshot_load(const tl_io_file *root, const tl_log_snap_opts *opts,
                         tl_log_snapshot *out, tl_error *err)
{
    tl_log_snap_opts dflt = {0};
    if (!opts)
        opts = &dflt;
    if (opts->delta) {
        int rc = delta_load(root, opts, out, err);
        if (rc != TL_OK)
            tl_log_snapshot_free(out);
        return rc;
    }
    int rc = load_ticklake(root, opts, out, err);
    if (rc != TL_OK && rc != TL_ENOMEM && rc != TL_EIO) {
        /* LOG-D1: a Delta Lake log is read only through opts->delta */
        int kind = TL_DELTA_NO;
        tl_error e;
        if (tl_delta_detect(opts->io, root, &kind, &e) == TL_OK && kind != TL_DELTA_NO)
            rc = tl_error_set(err, TL_EUNSUPPORTED, TL_DELTA_READ_ONLY_FMT,
                              root->path ? root->path : "the table");
    }
    return rc;
}

/* 1 if the oldest commit file of the log is now above first: a log cleanup
 * ran since it was listed (0 when the log cannot be listed again). */
static int cleaned_since(const tl_io *io, const tl_io_file *root, int64_t first)
{
    tl_io_file logdir;
    if (tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, NULL) != TL_OK)
        return 0;
    log_listing l;
    int moved = 0;
    if (list_log(io, &logdir, &l, NULL) == TL_OK) {
        moved = l.n > 0 && l.cv[0] > first;
        listing_free(&l);
    }
    (void)tl_io_close(&logdir, NULL);
    return moved;
}

/* LOG-R84: a load that failed because a log cleanup removed files it had
 * listed (a commit, a checkpoint, a commit's first line) starts again from
 * a fresh listing, a few times; the outcome then is the snapshot, or
 * TL_ENOTFOUND naming the new oldest reachable version. */
static int load_ticklake(const tl_io_file *root, const tl_log_snap_opts *opts,
                         tl_log_snapshot *out, tl_error *err)
{
    for (int attempt = 1;; attempt++) {
        int64_t first = -1;
        int rc = load_ticklake_once(root, opts, out, &first, err);
        if (rc == TL_OK || rc == TL_ENOMEM || rc == TL_EIO || rc == TL_EINVAL || first < 0 ||
            attempt >= 5 || !cleaned_since(opts->io, root, first))
            return rc;
    }
}

static int load_ticklake_once(const tl_io_file *root, const tl_log_snap_opts *opts,
                              tl_log_snapshot *out, int64_t *first_listed, tl_error *err)
{
    snap_init(out);
    const tl_io *io = opts->io;
    tl_io_file logdir;
    int rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, err);
    if (rc != TL_OK) {
        if (rc == TL_ENOTFOUND && err)
            tl_error_prefix(err, "not a table (no %s/): ", TL_LOG_DIR);
        return rc;
    }
    log_listing l;
    rc = list_log(io, &logdir, &l, err);
    if (rc == TL_OK && l.n > 0)
        *first_listed = l.cv[0];
    int use_ckpt = !opts->no_checkpoint;
    if (rc == TL_OK && l.n == 0)
        rc = tl_error_set(err, TL_ENOTFOUND, "not a table: %s holds no version 0 (%s)",
                          logdir.path, "00000000000000000000.json");
    int64_t latest = rc == TL_OK ? l.cv[l.n - 1] : -1, target = latest;
    if (rc == TL_OK && opts->at == TL_LOG_AT_VERSION) {
        if (opts->version < 0 || opts->version > latest)
            rc = tl_error_set(err, opts->version < 0 ? TL_EINVAL : TL_ENOTFOUND,
                              "%s: version %" PRId64 " does not exist: the latest version "
                              "is %" PRId64 " (LOG-R57)",
                              root->path ? root->path : "table", opts->version, latest);
        target = opts->version;
    } else if (rc == TL_OK && opts->at == TL_LOG_AT_TIMESTAMP) {
        rc = version_at_ts(io, root, &logdir, &l, opts->ts_ms, &target, err);
    }
    out->latest_listed = latest;
    int64_t base = -1;
    /* LOG-R72: the newest valid checkpoint c <= target with c+1..target */
    for (size_t i = l.nck; rc == TL_OK && use_ckpt && i-- > 0;) {
        int64_t c = l.ck[i];
        if (c > target || !commits_exist(&l, c + 1, target))
            continue;
        tl_log_ckpt ck;
        tl_error e;
        int crc = load_ckpt(io, &logdir, &l, c, &ck, NULL, &e);
        if (ckpt_fatal(crc))
            rc = tl_error_set(err, crc, "%s", e.msg);
        if (crc != TL_OK)
            continue; /* missing, corrupt, mismatching: fall back (LOG-R72) */
        crc = snap_from_ckpt(out, &ck, target, &e);
        if (crc == TL_OK) {
            out->version = c;
            base = c;
            break;
        }
        if (crc == TL_ENOMEM) { /* only out of memory stops the fallback */
            rc = tl_error_set(err, crc, "%s", e.msg);
            break;
        }
        /* decoded but inconsistent (a path twice, or both live and removed):
         * corrupt too, so fall back as well (LOG-R72) */
        tl_log_snapshot_free(out);
        snap_init(out);
        out->latest_listed = latest;
    }
    if (rc == TL_OK && base < 0) {
        if (commits_exist(&l, 0, target))
            rc = snap_alloc(out, target, logdir.path, err);
        else
            rc = unreachable(io, root, &logdir, &l, target, use_ckpt, err);
        if (rc == TL_OK && commits_exist(&l, 0, latest))
            out->oldest_reachable = 0;
    }
    if (rc == TL_OK)
        rc = snap_replay(io, &logdir, out, target, err);
    listing_free(&l);
    (void)tl_io_close(&logdir, NULL);
    if (rc != TL_OK) {
        tl_log_snapshot_free(out);
        return rc;
    }
    if (!out->protocol || !out->meta) { /* LOG-R27 makes version 0 hold both */
        tl_log_snapshot_free(out);
        return tl_error_set(err, TL_ECORRUPT, "version 0 lacks protocol or metaData (LOG-R27)");
    }
    return TL_OK;
}

/* ---- the Delta dialect (LOG.md section 10) --------------------------------------- */

static int64_t st_mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* Read commit v of a Delta log: bytes and display path. */
static int delta_read(const tl_io *io, const tl_io_file *logdir, int64_t v, char *path,
                      size_t cap, char **buf, size_t *len, tl_error *err)
{
    char name[TL_LOG_NAME_LEN + 1];
    tl_log_commit_name(v, name);
    snprintf(path, cap, "%s/%s", logdir->path, name);
    int rc = tl_io_read_file(io, logdir, name, TL_LOG_MAX_FILE_BYTES, buf, len, err);
    if (rc == TL_ECORRUPT) /* above the size limit */
        rc = tl_error_set(err, TL_EUNSUPPORTED, "%s: above this reader's limit of %zu bytes "
                          "(LOG-D3)", path, TL_LOG_MAX_FILE_BYTES);
    else if (rc == TL_ENOTFOUND)
        rc = tl_error_set(err, TL_ECORRUPT, "%s: listed a moment ago, now gone", path);
    return rc;
}

/* LOG-D8: the timestamp of version v given that of v - 1 (prev, or -1 at
 * v = 0): the commit's inCommitTimestamp / timestamp, else the file's
 * modification time, raised to prev + 1 so that timestamps increase. */
static int delta_time(const tl_io *io, const tl_io_file *logdir, int64_t v, const char *buf,
                      size_t len, const char *path, int64_t prev, int64_t *ts, tl_error *err)
{
    int64_t raw;
    int rc = tl_delta_commit_time(buf, len, path, &raw, err);
    if (rc != TL_OK)
        return rc;
    if (raw < 0) {
        char name[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(v, name);
        struct stat st;
        if ((rc = tl_io_stat(io, logdir, name, &st, err)) != TL_OK)
            return rc;
        raw = st_mtime_ms(&st);
        if (raw < 0)
            raw = 0;
    }
    *ts = v > 0 && raw <= prev ? prev + 1 : raw;
    return TL_OK;
}

static int delta_load(const tl_io_file *root, const tl_log_snap_opts *opts, tl_log_snapshot *out,
                      tl_error *err)
{
    snap_init(out);
    out->delta = 1;
    const tl_io *io = opts->io;
    const char *tp = root->path ? root->path : "table";
    if (!(out->delta_arena = tl_log_arena_new()))
        return nomem(err, tp);
    tl_io_file logdir;
    int rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, err);
    if (rc != TL_OK) {
        if (rc == TL_ENOTFOUND && err)
            tl_error_prefix(err, "not a table (no %s/): ", TL_LOG_DIR);
        return rc;
    }
    tl_io_names names = {0};
    int64_t *cv = NULL, *ts = NULL;
    size_t n = 0;
    char ck[TL_LOG_NAME_LEN + 64] = "", path[4400];
    rc = tl_io_list(io, &logdir, NULL, &names, err);
    if (rc == TL_OK && !(cv = malloc((names.n ? names.n : 1) * sizeof *cv)))
        rc = nomem(err, tp);
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        int64_t v;
        if (tl_log_commit_version(names.names[i], &v) == TL_OK)
            cv[n++] = v; /* names sort bytewise, so versions ascend */
        else if (!ck[0] && tl_delta_checkpoint_name(names.names[i]))
            snprintf(ck, sizeof ck, "%.80s", names.names[i]);
    }
    tl_io_names_free(&names);
    /* LOG-D4 / LOG-D12: versions 0 .. latest, every JSON commit present */
    int64_t miss = 0;
    while (rc == TL_OK && (size_t)miss < n && cv[miss] == miss)
        miss++;
    if (rc == TL_OK && (size_t)miss < n + (n == 0)) {
        char mname[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(miss, mname);
        if (ck[0])
            rc = tl_error_set(err, TL_EUNSUPPORTED,
                              "%s: version %" PRId64 " (%s) has no JSON commit and the table's "
                              "state is in the Delta checkpoint %s: this reader replays JSON "
                              "commits from version 0 and does not read Delta checkpoints "
                              "(LOG-D12)",
                              logdir.path, miss, mname, ck);
        else if (n == 0 || miss == 0)
            rc = tl_error_set(err, TL_ENOTFOUND, "not a table: %s holds no version 0 (%s)",
                              logdir.path, mname);
        else
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s: version %" PRId64 " (%s) is missing but version %" PRId64
                              " exists (Delta versions are contiguous; LOG-D4)",
                              logdir.path, miss, mname, cv[miss]);
    }
    int64_t latest = n ? cv[n - 1] : -1, target = latest, known = -1;
    if (rc == TL_OK && !(ts = malloc((size_t)(latest + 1) * sizeof *ts)))
        rc = nomem(err, tp);
    if (rc == TL_OK && opts->at == TL_LOG_AT_VERSION) {
        if (opts->version < 0 || opts->version > latest)
            rc = tl_error_set(err, opts->version < 0 ? TL_EINVAL : TL_ENOTFOUND,
                              "%s: version %" PRId64 " does not exist: the latest version "
                              "is %" PRId64 " (LOG-R57)",
                              tp, opts->version, latest);
        target = opts->version;
    } else if (rc == TL_OK && opts->at == TL_LOG_AT_TIMESTAMP) {
        /* timestamps increase (LOG-D8): the last version at or before T */
        for (int64_t v = 0; rc == TL_OK && v <= latest; v++) {
            char *buf = NULL;
            size_t len = 0;
            rc = delta_read(io, &logdir, v, path, sizeof path, &buf, &len, err);
            if (rc == TL_OK)
                rc = delta_time(io, &logdir, v, buf, len, path, v ? ts[v - 1] : -1, &ts[v],
                                err);
            free(buf);
            if (rc != TL_OK)
                break;
            known = v;
            if (ts[v] > opts->ts_ms)
                break;
        }
        if (rc == TL_OK && ts[0] > opts->ts_ms)
            rc = tl_error_set(err, TL_ENOTFOUND,
                              "%s: no version as of timestamp %" PRId64 " ms: version 0, the "
                              "oldest, has timestamp %" PRId64 " ms (LOG-D8)",
                              tp, opts->ts_ms, ts[0]);
        if (rc == TL_OK)
            target = ts[known] > opts->ts_ms ? known - 1 : known;
    }
    out->latest_listed = latest;
    if (rc == TL_OK)
        rc = snap_alloc(out, target, tp, err);
    for (int64_t v = 0; rc == TL_OK && v <= target; v++) {
        char *buf = NULL;
        size_t len = 0;
        rc = delta_read(io, &logdir, v, path, sizeof path, &buf, &len, err);
        tl_delta_parse_in in = {.file = path, .version = v, .meta = out->meta};
        if (rc == TL_OK)
            rc = tl_delta_commit_parse(buf, len, &in, out->delta_arena, &out->commits[v], err);
        if (rc == TL_OK && v > known) {
            rc = delta_time(io, &logdir, v, buf, len, path, v ? ts[v - 1] : -1, &ts[v], err);
            known = v;
        }
        free(buf);
        if (rc == TL_OK) {
            out->commits[v].actions[0].u.ci.ict_ms = ts[v];
            rc = snap_apply(out, v, &out->commits[v], err);
        }
        if (rc == TL_OK)
            out->version = v;
    }
    free(cv);
    free(ts);
    (void)tl_io_close(&logdir, NULL);
    if (rc != TL_OK)
        return rc;
    out->oldest_reachable = 0;
    if (!out->protocol || !out->meta) /* the parser makes version 0 hold both */
        return tl_error_set(err, TL_ECORRUPT, "%s: version 0 lacks protocol or metaData", tp);
    return TL_OK;
}

/* A snapshot at version v built from base (at a version <= v) plus the
 * commits after it, for the automatic checkpoint. It borrows base's state
 * (base must outlive it) and owns only the commits it read. */
static int snap_extend(const tl_io *io, const tl_io_file *logdir, const tl_log_snapshot *base,
                       int64_t v, tl_log_snapshot *out, tl_error *err)
{
    snap_init(out);
    int rc = snap_alloc(out, v, logdir->path, err);
    if (rc != TL_OK)
        return rc;
    out->protocol = base->protocol;
    out->meta = base->meta;
    out->history[base->version] = base->history[base->version];
    out->first_history_version = base->version;
    const tl_log_strmap *src[2] = {&base->live, &base->tombstones};
    tl_log_strmap *dst[2] = {&out->live, &out->tombstones};
    for (int k = 0; k < 2; k++) {
        if (!src[k]->cap)
            continue;
        dst[k]->slots = malloc(src[k]->cap * sizeof *dst[k]->slots);
        if (!dst[k]->slots)
            return nomem(err, logdir->path);
        memcpy(dst[k]->slots, src[k]->slots, src[k]->cap * sizeof *dst[k]->slots);
        dst[k]->cap = src[k]->cap;
        dst[k]->n = src[k]->n;
    }
    for (size_t i = 0; i < base->n_txn_entries && rc == TL_OK; i++)
        rc = txn_put(out, base->txn_entries[i].txn, base->txn_entries[i].table_version,
                     logdir->path, err);
    out->version = base->version;
    if (rc == TL_OK)
        rc = snap_replay(io, logdir, out, v, err);
    return rc;
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
    const tl_log_pvals *read_parts; /* partitions read whole (LOG-R50 read partitions) */
    uint32_t n_read_parts;
} txn_shape;

static int pvals_equal(const tl_log_pvals *a, const tl_log_pvals *b)
{
    if (a->has_symbol != b->has_symbol || a->has_date != b->has_date)
        return 0;
    if (a->has_symbol && (a->symbol_null != b->symbol_null ||
                          (!a->symbol_null && strcmp(a->symbol, b->symbol) != 0)))
        return 0;
    if (a->has_date && (a->date_null != b->date_null || (!a->date_null && a->date != b->date)))
        return 0;
    return 1;
}

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
        if (a->kind == TL_LOG_ADD) {
            for (uint32_t k = 0; k < t->n_read_parts; k++)
                if (pvals_equal(&a->u.add.part, &t->read_parts[k]))
                    return tl_error_set(err, TL_ECONFLICT,
                                        "conflict: version %" PRId64 " added \"%.200s\" to a "
                                        "partition this commit read whole (LOG-R50, read "
                                        "partitions)",
                                        w, a->u.add.path);
            continue;
        }
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
static int publish(const tl_io *io, tl_io_file *logdir, int64_t t, const char *txn_id,
                   const char *bytes, size_t len, int plain, int *lost, int *maybe,
                   tl_error *err)
{
    char tmp[64], name[TL_LOG_NAME_LEN + 1];
    snprintf(tmp, sizeof tmp, ".%s.json.tmp", txn_id);
    tl_log_commit_name(t, name);
    *lost = 0;
    *maybe = 0;
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
    /* LOG-R84: version t - 1, read a moment ago, must still exist. If log
     * cleanup has removed it, t too was committed (cleanup keeps its
     * checkpoint's commit and everything above) and may have been removed
     * as well: publishing t now could re-create a deleted version below
     * the checkpoint, a commit no reader would ever see. */
    if (t > 0) {
        char prev[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(t - 1, prev);
        struct stat st;
        tl_error se;
        int src = tl_io_stat(io, logdir, prev, &st, &se);
        if (src != TL_OK) {
            drop_tmp(io, logdir, tmp);
            if (src != TL_ENOTFOUND)
                return tl_error_set(err, src, "%s", se.msg);
            return tl_error_set(err, TL_ECONFLICT,
                                "%s/%s: version %" PRId64 ", which this commit follows, was "
                                "removed by log cleanup while the commit was prepared: the "
                                "writer read the table longer ago than the log retention "
                                "(LOG-R84); nothing was committed, re-read the table and retry",
                                logdir->path, prev, t - 1);
        }
    }
    rc = plain ? tl_io_rename(io, logdir, tmp, logdir, name, err)
               : tl_io_rename_noreplace(io, logdir, tmp, logdir, name, err); /* LOG-R44 */
    if (rc == TL_ECONFLICT) {
        drop_tmp(io, logdir, tmp);
        *lost = 1;
        return rc;
    }
    *maybe = 1; /* from here on the version may be visible */
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
                *maybe = 0;
                return tl_error_set(err, TL_ECONFLICT, "%s: taken by another writer", name);
            }
        } else {
            /* not there: not published; unreadable: unknown (*maybe stays) */
            if (rrc == TL_ENOTFOUND)
                *maybe = 0;
            drop_tmp(io, logdir, tmp);
            if (err)
                tl_error_prefix(err, "publishing version %" PRId64 " failed and reading it "
                                     "back found no commit of ours (LOG-R47): ",
                                t);
            return rc;
        }
    }
    /* LOG-R45, through the open handle: no open (nor its allocation or
     * descriptor) can fail between publishing and making it durable */
    rc = tl_io_fsync(logdir, err);
    if (rc != TL_OK && err)
        tl_error_prefix(err, "version %" PRId64 " was published but making it durable failed; "
                             "the commit is not acknowledged and may or may not survive "
                             "(LOG-R46): ",
                        t);
    return rc;
}

static void auto_checkpoint(const tl_io_file *root, const tl_io *io, const tl_io_file *logdir,
                            const tl_log_action *acts, uint32_t n, const tl_log_snapshot *given,
                            const tl_log_snapshot *own, tl_log_write_result *res);

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
    txn_shape shape = {0, NULL, acts, n, opts->read_parts, opts->n_read_parts};
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
            int prc = tl_log_protocol_check_write(&acts[i].u.proto, err);
            if (prc != TL_OK)
                return prc;
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
    int rc = TL_OK;
    if (opts->snap && opts->snap->protocol)
        rc = tl_log_protocol_check_write(opts->snap->protocol, err);
    /* LOG-R28: the writer refuses what a reader would reject (LOG-R49) */
    if (rc == TL_OK && opts->snap && opts->snap->meta && !has_meta)
        rc = tl_log_actions_check_meta(acts, n, opts->snap->meta, "new commit", TL_EINVAL, err);
    if (rc != TL_OK) {
        free(all);
        return rc;
    }
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
        /* LOG-R55; never negative: prev_ict is -1 (creating) or an ict >= 0,
         * so a clock before the epoch gives prev_ict + 1 >= 0 */
        ci->ict_ms = now > prev_ict ? now : prev_ict + 1;
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
        int lost = 0, maybe = 0;
        rc = publish(io, &logdir, t, res->txn_id, buf, len, opts->unsafe_plain_rename, &lost,
                     &maybe, err);
        if (rc != TL_OK && maybe)
            res->maybe_visible = 1;
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
            if (rc == TL_ENOTFOUND) /* LOG-R84: the winner was cleaned up already */
                rc = tl_error_set(err, TL_ECONFLICT,
                                  "%s: version %" PRId64 " was taken by another writer and then "
                                  "removed by log cleanup before it could be read for conflicts: "
                                  "the writer read the table longer ago than the log retention "
                                  "(LOG-R84); nothing was committed, re-read the table and retry",
                                  logdir.path, w);
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
    if (rc == TL_OK && !res->noop && res->version > 0 && !opts->no_checkpoint)
        auto_checkpoint(root, io, &logdir, acts, n, opts->snap, &own, res);
done:
    free(buf);
    free(all);
    tl_log_snapshot_free(&own);
    (void)tl_io_close(&logdir, NULL);
    return rc;
}

/* ---- automatic checkpoint (LOG-R70), history, cleanup (LOG-R80, R81) ------ */

/* After commit res->version: if it is a multiple of the checkpoint interval,
 * build its snapshot from the one the writer read (plus the commits after
 * it) and write its checkpoint. Never fails the commit: the outcome goes to
 * res->checkpoint_*. */
static void auto_checkpoint(const tl_io_file *root, const tl_io *io, const tl_io_file *logdir,
                            const tl_log_action *acts, uint32_t n, const tl_log_snapshot *given,
                            const tl_log_snapshot *own, tl_log_write_result *res)
{
    int64_t v = res->version, every = 0;
    const tl_log_metadata *m = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (acts[i].kind == TL_LOG_METADATA)
            m = &acts[i].u.meta;
    const tl_log_snapshot *base = NULL;
    if (given && given->version >= 0 && given->version < v && given->meta)
        base = given;
    else if (own->version >= 0) /* loaded by tl_log_write at read_version < v: it has a
                                   metaData (a failed load leaves version -1) */
        base = own;
    if (!m && base)
        m = base->meta;
    tl_error e = {0};
    /* tl_log_config_int succeeds only with every in its range [1, 1000000]
     * (LOG-R17), so no division by zero below */
    if (m && (tl_log_config_int(m, TL_LOG_CONF_CHECKPOINT_INTERVAL, &every, &e) != TL_OK ||
              v % every != 0))
        return;
    tl_log_snapshot ns;
    int rc;
    if (base) {
        rc = snap_extend(io, logdir, base, v, &ns, &e);
    } else { /* the interval is unknown without the metaData: load it */
        tl_log_snap_opts so = {.io = io, .at = TL_LOG_AT_VERSION, .version = v};
        rc = tl_log_snapshot_load(root, &so, &ns, &e);
        if (rc == TL_OK && !m) {
            rc = tl_log_config_int(ns.meta, TL_LOG_CONF_CHECKPOINT_INTERVAL, &every, &e);
            if (rc == TL_OK && v % every != 0) {
                tl_log_snapshot_free(&ns);
                return;
            }
        }
    }
    if (rc == TL_OK)
        rc = tl_log_checkpoint_write(root, &ns, io, NULL, &e);
    tl_log_snapshot_free(&ns);
    res->checkpoint_rc = rc;
    res->checkpoint_written = rc == TL_OK;
    if (rc != TL_OK)
    {
        char *d = res->checkpoint_error;
        size_t cap = sizeof res->checkpoint_error;
        int k = snprintf(d, cap, "automatic checkpoint of version %" PRId64
                                 " failed (the commit stands): ", v);
        /* the prefix (under 90 bytes with a 19-digit version) always fits */
        size_t used = (size_t)k, ml = strlen(e.msg);
        if (ml > cap - 1 - used)
            ml = cap - 1 - used;
        memcpy(d + used, e.msg, ml);
        d[used + ml] = '\0';
    }
}

/* Open _delta_log/ and list it; TL_ENOTFOUND "not a table" without commits. */
static int open_listing(const tl_io_file *root, const tl_io *io, tl_io_file *logdir,
                        log_listing *l, tl_error *err)
{
    memset(l, 0, sizeof *l);
    int rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, logdir, err);
    if (rc != TL_OK) {
        if (rc == TL_ENOTFOUND && err)
            tl_error_prefix(err, "not a table (no %s/): ", TL_LOG_DIR);
        return rc;
    }
    rc = list_log(io, logdir, l, err);
    if (rc == TL_OK && l->n == 0)
        rc = tl_error_set(err, TL_ENOTFOUND, "not a table: %s holds no version 0 (%s)",
                          logdir->path, "00000000000000000000.json");
    if (rc != TL_OK) {
        listing_free(l);
        (void)tl_io_close(logdir, NULL);
    }
    return rc;
}

int tl_log_version_range(const tl_io_file *root, const tl_io *io, int64_t *oldest,
                         int64_t *latest, tl_error *err)
{
    tl_io_file logdir;
    log_listing l;
    int rc = open_listing(root, io, &logdir, &l, err);
    if (rc != TL_OK)
        return rc;
    int64_t hi = l.cv[l.n - 1];
    if (latest)
        *latest = hi;
    if (oldest) {
        int64_t t;
        rc = oldest_reachable(io, &logdir, &l, oldest, &t, err);
        if (rc == TL_OK && *oldest < 0)
            rc = unreachable(io, root, &logdir, &l, hi, 1, err);
    }
    listing_free(&l);
    (void)tl_io_close(&logdir, NULL);
    return rc;
}

void tl_log_hist_free(tl_log_hist *h)
{
    if (!h)
        return;
    free(h->entries);
    if (h->mem) {
        mem_free(h->mem);
        free(h->mem);
    }
    memset(h, 0, sizeof *h);
}

int tl_log_history(const tl_io_file *root, const tl_io *io, tl_log_hist *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    tl_io_file logdir;
    log_listing l;
    int rc = open_listing(root, io, &logdir, &l, err);
    if (rc != TL_OK)
        return rc;
    int64_t hi = l.cv[l.n - 1], lo, lo_ict;
    rc = oldest_reachable(io, &logdir, &l, &lo, &lo_ict, err);
    if (rc == TL_OK && lo < 0)
        rc = unreachable(io, root, &logdir, &l, hi, 1, err);
    if (rc == TL_OK) {
        out->oldest = lo;
        out->latest = hi;
        out->mem = calloc(1, sizeof(hist_mem));
        out->entries = calloc((size_t)(hi - lo + 1), sizeof *out->entries);
        if (!out->mem || !out->entries)
            rc = nomem(err, logdir.path);
    }
    for (int64_t v = lo; rc == TL_OK && v <= hi; v++) {
        tl_log_version_info *vi = &out->entries[out->n];
        if (v == lo && lo_ict >= 0) /* the checkpoint's; its commit is gone */
            *vi = (tl_log_version_info){.version = v, .ict_ms = lo_ict};
        else if ((rc = read_head(io, &logdir, v, vi, out->mem, err)) == TL_ENOTFOUND)
            rc = tl_error_set(err, TL_ECORRUPT, "%s: version %" PRId64 " vanished while "
                                                "reading the history: %s",
                              logdir.path, v, err ? err->msg : "");
        if (rc == TL_OK)
            out->n++;
    }
    listing_free(&l);
    (void)tl_io_close(&logdir, NULL);
    if (rc != TL_OK)
        tl_log_hist_free(out);
    return rc;
}

int tl_log_cleanup(const tl_io_file *root, const tl_io *io, int64_t now_ms, int64_t retention_ms,
                   tl_log_cleanup_report *report, tl_error *err)
{
    tl_log_cleanup_report rep = {-1, 0, 0, -1};
    if (report)
        *report = rep;
    if (!root)
        return tl_error_set(err, TL_EINVAL, "tl_log_cleanup: bad arguments");
    if (retention_ms < 0) { /* ticklake.logRetentionHours of the latest metaData */
        tl_log_snapshot s;
        tl_log_snap_opts so = {.io = io};
        int rc = tl_log_snapshot_load(root, &so, &s, err);
        int64_t hours = 0;
        if (rc == TL_OK)
            rc = tl_log_config_int(s.meta, TL_LOG_CONF_LOG_RETENTION_HOURS, &hours, err);
        tl_log_snapshot_free(&s);
        if (rc != TL_OK)
            return rc;
        retention_ms = hours * 3600000;
        if (retention_ms < TL_LOG_MIN_RETENTION_MS) /* LOG-R84 */
            retention_ms = TL_LOG_MIN_RETENTION_MS;
    }
    tl_io_file logdir;
    log_listing l;
    int rc = open_listing(root, io, &logdir, &l, err);
    if (rc != TL_OK)
        return rc;
    int64_t hi = l.cv[l.n - 1], c = -1;
    /* the newest valid checkpoint old enough, whose following commits exist */
    for (size_t i = l.nck; i-- > 0 && rc == TL_OK;) {
        int64_t cv = l.ck[i], t;
        if (cv > hi || !commits_exist(&l, cv + 1, hi))
            continue;
        tl_log_ckpt ck;
        tl_error e;
        int crc = load_ckpt(io, &logdir, &l, cv, &ck, &t, &e);
        if (ckpt_fatal(crc))
            rc = tl_error_set(err, crc, "%s", e.msg);
        if (crc != TL_OK)
            continue;
        tl_log_ckpt_free(&ck);
        if (t <= now_ms - retention_ms) {
            c = cv;
            break;
        }
    }
    rep.checkpoint_version = c;
    char name[TL_CKPT_NAME_LEN + 1];
    int deleted = 0;
    /* commits below c, oldest first (LOG-R80, LOG-C8), then checkpoints */
    for (size_t i = 0; rc == TL_OK && c >= 0 && i < l.n && l.cv[i] < c; i++) {
        tl_log_commit_name(l.cv[i], name);
        rc = tl_io_unlink(io, &logdir, name, err);
        if (rc == TL_ENOTFOUND) /* a concurrent cleanup */
            rc = TL_OK;
        else if (rc == TL_OK)
            rep.n_commits_deleted++;
        deleted = 1;
    }
    for (size_t i = 0; rc == TL_OK && c >= 0 && i < l.nck && l.ck[i] < c; i++) {
        tl_log_ckpt_name(l.ck[i], name);
        rc = tl_io_unlink(io, &logdir, name, err);
        if (rc == TL_ENOTFOUND)
            rc = TL_OK;
        else if (rc == TL_OK)
            rep.n_checkpoints_deleted++;
        deleted = 1;
    }
    if (deleted) {
        tl_error e2;
        int frc = tl_io_fsync_dir(io, &logdir, NULL, rc == TL_OK ? err : &e2);
        if (rc == TL_OK)
            rc = frc;
    }
    if (rc == TL_OK) {
        rep.oldest_reachable = c >= 0 ? c : (commits_exist(&l, 0, hi) ? 0 : -1);
        if (rep.oldest_reachable < 0) {
            int64_t t;
            rc = oldest_reachable(io, &logdir, &l, &rep.oldest_reachable, &t, err);
        }
    } else if (err) {
        tl_error_prefix(err, "log cleanup below checkpoint %" PRId64 " (LOG-R80): ", c);
    }
    if (report)
        *report = rep;
    listing_free(&l);
    (void)tl_io_close(&logdir, NULL);
    return rc;
}
