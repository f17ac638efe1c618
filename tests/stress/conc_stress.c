/*
 * conc_stress.c - the concurrency stress driver of issue 7
 * (tests/reliability/CONCURRENCY.md): P writer processes x M appends each on
 * one table, with optimize, checkpoint and vacuum and time-travelling readers
 * running at the same time, then a check of every figure.
 *
 * The table: ts timestamp, sym string, w int32, seq int32, k int32, val int64,
 * partitioned by sym and day(ts), sorted by ts. Append j of writer w is one
 * batch of n(w, j) = 16 + hash(w, j) % 113 rows k = 0 .. n-1, each row
 * tagged (w, j, k) with ts, sym and val pure functions of the tag, rows
 * spread over two partitions (sym A / B), committed with app id "w<w>" and
 * app version j (LOG-R60; a retry after an unknown outcome is a no-op).
 *
 * Invariant checked by every read (a snapshot at version v, opened by
 * version, by timestamp or latest; read by the scan engine with mmap or
 * io_uring, or by the snapshot row reader):
 *   I1 every row's tag is in range and its ts, sym and val are the tag's;
 *   I2 no tag twice (no duplicate row), and a batch is wholly present or
 *      wholly absent (no partial commit);
 *   I3 writer w's batches present are exactly 0 .. txn(w), txn(w) being the
 *      app version of the latest txn of app id "w<w>" in the log at v
 *      (a commit's data and its txn are one: no lost, no torn commit);
 *   I4 rows read = the snapshot's row count from the log;
 *   I5 (timestamp reads) the version's commit timestamp <= the one asked.
 * The final check adds, from the writers' acknowledgements (version of
 * each acknowledged append): every append acknowledged exactly once, no
 * version acknowledged twice, versions 0 .. latest contiguous and exactly
 * 1 + P*M + optimize commits, each acknowledged version an APPEND of the
 * batch's rows, and at sampled versions v the batches present are exactly
 * those acknowledged at versions <= v.
 *
 * Then the retention phase (--pin): a reader process maps every data file
 * of an old version (tl_segment_open), holds a row reader and an mmap scan
 * in the middle of a file, while vacuum runs with retention 0 (force, the
 * shortest the API allows) and deletes those files; the reader then verifies
 * every block checksum of the mapped files and finishes the file it was in:
 * no SIGBUS, no error (files are immutable and vacuum only unlinks, so a
 * mapping outlives the name). Files of that version not yet opened are gone
 * (TL_ENOTFOUND, reported, expected after a retention of 0). Readers of the
 * latest version run throughout and must see no error (LOG-C9).
 * --sigbus-control shows that the harness does see a SIGBUS: a mapped copy
 * of a data file truncated under its reader.
 *
 * --log-cleanup: the table keeps covered commits 1 hour, the shortest log
 * retention (ticklake.logRetentionHours = 1, one SET CONFIGURATION commit
 * at version 1; LOG-R84), and every process runs on a clock 10,000 x faster
 * than the real one (the table's clock hook: commit timestamps, cleanup's
 * "now"), so an hour passes in 0.36 s and every checkpoint of the
 * maintenance process runs a log cleanup that deletes the commits and
 * checkpoints below it while writers publish and readers list and load the
 * log (vacuum then keeps 1,000 h: 6 min of real time). A writer that read
 * the table more than the retention ago (0.36 s here) may fail with
 * TL_ECONFLICT (LOG-R84, reported) but must never re-create a removed
 * version. Readers asking for a version or a
 * timestamp below the oldest reachable version get TL_ENOTFOUND naming it
 * (LOG-R57; counted apart, expected); every other error is a failure, and
 * latest readers must never fail. The final check then covers the versions
 * from the oldest reachable one on.
 *
 * --unsafe-plain-rename: the writers publish commits with plain rename(2)
 * (their tl_io turns renameat2(RENAME_NOREPLACE) into a replacing rename:
 * the negative control of LOG-R44 / LOG-C4, same effect as
 * tl_log_write_opts.unsafe_plain_rename); the same checks must then fail.
 *
 * Exit status: 0 every check passed, 1 a check failed, 2 usage or setup.
 */
#include "ticklake.h"
#include "io_int.h"
#include "log_int.h"
#include "snapshot_int.h"
#include "table_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITERS 64
#define MAX_READERS 16
#define MAX_ROWS 128 /* rows per batch: 16 .. 128 */
#define DAY0 20409   /* 2025-11-17 */
#define NS_PER_DAY 86400000000000LL

enum { MODE_MMAP = 0, MODE_URING = 1, MODE_READER = 2, N_MODES = 3 };
enum { AT_LATEST = 0, AT_VERSION = 1, AT_TS = 2, N_AT = 3 };
static const char *const mode_name[N_MODES] = {"scan-mmap", "scan-uring", "row-reader"};
static const char *const at_name[N_AT] = {"latest", "version", "timestamp"};

typedef struct cfg {
    char dir[PATH_MAX - 64];
    char table[PATH_MAX];
    int p, m, r;
    int maint;
    int maint_sleep_ms;
    int reader_sleep_ms;
    int samples;
    uint64_t seed;
    int plain;
    int pin;
    int sigbus_control;
    int cleanup;
} cfg;

/* One process's counters, in memory shared with the parent. */
typedef struct stats {
    uint64_t appends_ok, appends_noop, append_retries, append_errors, appends_given_up;
    uint64_t attempts;
    uint64_t reads, reads_mode[N_MODES], reads_at[N_AT], rows_read;
    uint64_t read_errors, violations, uring_fallback;
    uint64_t below_oldest; /* TL_ENOTFOUND below the oldest reachable version (--log-cleanup) */
    uint64_t listing_race; /* errors of those: a commit reported missing that exists */
    uint64_t opt_runs, opt_commits, opt_files_removed, opt_errors;
    uint64_t ckpt_runs, ckpt_errors, vac_runs, vac_deleted, vac_errors;
    uint64_t commits_deleted, checkpoints_deleted;
    int64_t max_version_read;
    char msg[600]; /* first error or violation */
} stats;

typedef struct shm {
    atomic_int stop;
    stats st[MAX_WRITERS + MAX_READERS + 2];
} shm;

static shm *g_shm;

static void note(stats *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(stats *st, const char *fmt, ...)
{
    if (st->msg[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
}

/* An error "version N (NAME) is missing but version M exists" about a
 * commit file that does exist: the listing of _delta_log/ missed a commit
 * created while it ran (readdir is not atomic; request CONC -> FAULT,
 * tests/engine/concurrency_test.c). 1 if msg is one. */
static int listing_race(const char *table, const char *msg)
{
    const char *p = strstr(msg, ".json) is missing but version");
    if (!p || p - msg < 20 || p[-21] != '(')
        return 0;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/_delta_log/%.25s", table, p - 20);
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- the data: pure functions of the tag --------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint32_t batch_rows(int w, int j)
{
    return 16u + (uint32_t)(mix64(((uint64_t)w << 32) | (uint32_t)j) % 113u);
}

static int64_t row_val(int w, int j, int k)
{
    return (int64_t)mix64(((uint64_t)w << 40) ^ ((uint64_t)j << 12) ^ (uint64_t)k ^ 0x5bd1e995u);
}

/* Two days (by j), distinct within the table for P*M*256 < 86400e6 rows. */
static int64_t row_ts(const cfg *c, int w, int j, int k)
{
    int64_t day = DAY0 + (j & 1);
    int64_t idx = ((int64_t)w * c->m + j) * 256 + k;
    return day * NS_PER_DAY + idx * 1000;
}

static char row_sym(int k)
{
    return (k & 1) ? 'A' : 'B';
}

static uint64_t rng_next(uint64_t *s)
{
    *s = mix64(*s);
    return *s;
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --log-cleanup: the fast clock (g_clock_base = real ms at the start). */
#define CLOCK_SPEED 10000
static int64_t g_clock_base = -1;

static int64_t now_ms(void)
{
    if (g_clock_base >= 0)
        return g_clock_base + (real_ms() - g_clock_base) * CLOCK_SPEED;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
    if (ms > 0)
        usleep((useconds_t)ms * 1000u);
}

static int64_t table_clock(void *arg)
{
    (void)arg;
    return now_ms();
}

/* Open the table (on the fast clock with --log-cleanup). */
static int open_t(const cfg *c, const tl_io *io, tl_table **t, tl_error *err)
{
    return tl_table_open_io(c->table, io, g_clock_base >= 0 ? table_clock : NULL, NULL, t, err);
}

static const char *const COLS[] = {"ts", "sym", "w", "seq", "k", "val"};
enum { C_TS, C_SYM, C_W, C_SEQ, C_K, C_VAL, N_COLS };

static int create_table(const cfg *c, tl_error *err)
{
    static const tl_field fields[] = {
        {"ts", TL_TIMESTAMP, 0}, {"sym", TL_STRING, 0}, {"w", TL_INT32, 0},
        {"seq", TL_INT32, 0},    {"k", TL_INT32, 0},    {"val", TL_INT64, 0},
    };
    static const char *const sort[] = {"ts"};
    tl_table_spec spec = {.fields = fields, .n_fields = N_COLS, .symbol_column = "sym",
                          .day_column = "ts", .sort_key = sort, .n_sort_key = 1,
                          .name = "conc_stress"};
    int rc = tl_table_create(c->table, &spec, err);
    if (rc != TL_OK || !c->cleanup)
        return rc;
    tl_table *t;
    if ((rc = open_t(c, NULL, &t, err)) != TL_OK)
        return rc;
    int64_t v = -1;
    rc = tl_table_set_config(t, "ticklake.logRetentionHours", "1", &v, err);
    tl_table_close(t);
    return rc;
}

/* ---- the negative control's I/O: commits published by plain rename ------ */

static tl_io_ops g_plain_ops;
static tl_io g_plain_io;

static int plain_renameat2(void *ctx, int od, const char *op, int nd, const char *np,
                           unsigned flags)
{
    (void)flags; /* RENAME_NOREPLACE dropped: replaces an existing commit */
    return tl_io_default()->ops->renameat2(ctx, od, op, nd, np, 0);
}

static const tl_io *plain_io(void)
{
    const tl_io *d = tl_io_default();
    g_plain_ops = *d->ops;
    g_plain_ops.renameat2 = plain_renameat2;
    g_plain_io = (tl_io){&g_plain_ops, d->ctx};
    return &g_plain_io;
}

/* ---- writers ---------------------------------------------------------------- */

typedef struct wbuf {
    int64_t ts[MAX_ROWS], val[MAX_ROWS];
    int32_t w[MAX_ROWS], seq[MAX_ROWS], k[MAX_ROWS];
    uint32_t off[MAX_ROWS + 1];
    char sym[MAX_ROWS];
    tl_coldef defs[N_COLS];
    tl_colvec cols[N_COLS];
} wbuf;

static void build_batch(const cfg *c, int w, int j, wbuf *b, tl_batch *out)
{
    uint32_t n = batch_rows(w, j);
    b->off[0] = 0;
    for (uint32_t k = 0; k < n; k++) {
        b->ts[k] = row_ts(c, w, j, (int)k);
        b->val[k] = row_val(w, j, (int)k);
        b->w[k] = w;
        b->seq[k] = j;
        b->k[k] = (int32_t)k;
        b->sym[k] = row_sym((int)k);
        b->off[k + 1] = k + 1;
    }
    static const tl_type types[N_COLS] = {TL_TIMESTAMP, TL_STRING, TL_INT32,
                                          TL_INT32,     TL_INT32,  TL_INT64};
    for (int i = 0; i < N_COLS; i++)
        b->defs[i] = (tl_coldef){COLS[i], types[i]};
    b->cols[C_TS] = (tl_colvec){b->ts, NULL, NULL, NULL};
    b->cols[C_SYM] = (tl_colvec){NULL, NULL, b->off, (const uint8_t *)b->sym};
    b->cols[C_W] = (tl_colvec){b->w, NULL, NULL, NULL};
    b->cols[C_SEQ] = (tl_colvec){b->seq, NULL, NULL, NULL};
    b->cols[C_K] = (tl_colvec){b->k, NULL, NULL, NULL};
    b->cols[C_VAL] = (tl_colvec){b->val, NULL, NULL, NULL};
    *out = (tl_batch){n, N_COLS, b->defs, b->cols};
}

static int append_once(tl_table *t, const tl_batch *b, const char *app, int j,
                       tl_append_result *res, tl_error *err)
{
    tl_append_opts o = {.app_id = app, .app_version = j, .threads = 1};
    tl_append *a;
    int rc = tl_append_begin(t, &o, &a, err);
    if (rc)
        return rc;
    rc = tl_append_batch(a, b, err);
    if (rc) {
        tl_append_abort(a);
        return rc;
    }
    return tl_append_commit(a, res, err);
}

static int writer_main(const cfg *c, int w, stats *st)
{
    tl_error err;
    tl_table *t;
    int rc = open_t(c, c->plain ? plain_io() : NULL, &t, &err);
    if (rc) {
        note(st, "writer %d: open: %s", w, err.msg);
        return 1;
    }
    char path[PATH_MAX + 32], app[16];
    snprintf(path, sizeof path, "%s/acks.%d", c->dir, w);
    snprintf(app, sizeof app, "w%d", w);
    FILE *acks = fopen(path, "w");
    if (!acks) {
        note(st, "writer %d: %s: %s", w, path, strerror(errno));
        tl_table_close(t);
        return 1;
    }
    static wbuf b;
    uint64_t rs = c->seed ^ ((uint64_t)w << 48) ^ 0xabcdefu;
    for (int j = 0; j < c->m; j++) {
        tl_batch batch;
        build_batch(c, w, j, &b, &batch);
        for (int attempt = 0;; attempt++) {
            tl_append_result res;
            rc = append_once(t, &batch, app, j, &res, &err);
            if (rc == TL_OK) {
                fprintf(acks, "%d %" PRId64 " %d %" PRIu64 "\n", j, res.version, res.noop,
                        res.n_rows);
                fflush(acks);
                st->appends_ok++;
                st->appends_noop += (uint64_t)res.noop;
                st->attempts += (uint64_t)res.attempts;
                break;
            }
            /* Lost races (TL_EBUSY: max attempts; TL_ECONFLICT) are retried
             * and counted as retries; any other failure is an append error,
             * retried too (the app id makes a retry of a commit that did
             * happen a no-op), so that the writer's batches stay a prefix
             * 0 .. j (invariant I3) and the error is counted, not hidden. */
            if (rc == TL_EBUSY || rc == TL_ECONFLICT) {
                st->append_retries++;
                note(st, "writer %d append %d (retried): %s (%d)", w, j, err.msg, rc);
            } else {
                st->append_errors++;
                st->listing_race += (uint64_t)listing_race(c->table, err.msg);
                note(st, "writer %d append %d: %s (%d)", w, j, err.msg, rc);
            }
            if (attempt >= 50 || (c->plain && rc != TL_EBUSY && rc != TL_ECONFLICT)) {
                st->appends_given_up++;
                break;
            }
            sleep_ms((int)(rng_next(&rs) % 20));
        }
    }
    fclose(acks);
    tl_table_close(t);
    return st->append_errors || st->appends_given_up ? 1 : 0;
}

/* ---- the checker ------------------------------------------------------------- */

typedef struct checker {
    const cfg *c;
    uint64_t (*bits)[MAX_ROWS / 64]; /* p*m batches */
    uint16_t *cnt;
    uint64_t rows;
    uint64_t bad; /* violations in this read */
    char msg[600];
} checker;

static int checker_init(checker *k, const cfg *c)
{
    memset(k, 0, sizeof *k);
    k->c = c;
    size_t nb = (size_t)c->p * (size_t)c->m;
    k->bits = calloc(nb, sizeof *k->bits);
    k->cnt = calloc(nb, sizeof *k->cnt);
    return k->bits && k->cnt ? 0 : -1;
}

static void checker_free(checker *k)
{
    free(k->bits);
    free(k->cnt);
}

static void checker_reset(checker *k)
{
    size_t nb = (size_t)k->c->p * (size_t)k->c->m;
    memset(k->bits, 0, nb * sizeof *k->bits);
    memset(k->cnt, 0, nb * sizeof *k->cnt);
    k->rows = 0;
    k->bad = 0;
    k->msg[0] = 0;
}

static void bad(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(checker *k, const char *fmt, ...)
{
    k->bad++;
    if (k->msg[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->msg, sizeof k->msg, fmt, ap);
    va_end(ap);
}

/* Rows of a block: columns in COLS order. */
static void take_rows(checker *k, uint32_t n, const tl_colvec *cols)
{
    const cfg *c = k->c;
    const int64_t *ts = cols[C_TS].values, *val = cols[C_VAL].values;
    const int32_t *w = cols[C_W].values, *seq = cols[C_SEQ].values, *kk = cols[C_K].values;
    const uint32_t *off = cols[C_SYM].offsets;
    const uint8_t *sd = cols[C_SYM].data;
    for (uint32_t i = 0; i < n; i++) {
        k->rows++;
        int32_t wi = w[i], j = seq[i], r = kk[i];
        if (wi < 0 || wi >= c->p || j < 0 || j >= c->m || r < 0 ||
            (uint32_t)r >= batch_rows(wi, j)) {
            bad(k, "I1: row tag (w %d, seq %d, k %d) out of range", wi, j, r);
            continue;
        }
        if (ts[i] != row_ts(c, wi, j, r) || val[i] != row_val(wi, j, r) ||
            off[i + 1] - off[i] != 1 || sd[off[i]] != (uint8_t)row_sym(r)) {
            bad(k, "I1: row (w %d, seq %d, k %d) has wrong ts/sym/val", wi, j, r);
            continue;
        }
        size_t bi = (size_t)wi * (size_t)c->m + (size_t)j;
        uint64_t bit = 1ULL << (r & 63);
        if (k->bits[bi][r >> 6] & bit) {
            bad(k, "I2: row (w %d, seq %d, k %d) read twice", wi, j, r);
            continue;
        }
        k->bits[bi][r >> 6] |= bit;
        k->cnt[bi]++;
    }
}

static int scan_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    (void)err;
    take_rows(ctx, b->n_rows, b->cols);
    return 0;
}

/* Whole-batch, log and acknowledgement checks after the rows of version v
 * were read. ack_v: p*m acknowledged versions (-1: none) or NULL. */
static void checker_finish(checker *k, const tl_snapshot *s, const int64_t *ack_v)
{
    const cfg *c = k->c;
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    const tl_log_snapshot *ls = tl_snapshot_log(s);
    uint64_t rows = 0;
    for (int w = 0; w < c->p; w++) {
        char app[16];
        snprintf(app, sizeof app, "w%d", w);
        const tl_log_txn_entry *te = tl_log_snapshot_txn(ls, app);
        int64_t last = te ? te->txn->version : -1;
        for (int j = 0; j < c->m; j++) {
            size_t bi = (size_t)w * (size_t)c->m + (size_t)j;
            uint32_t n = batch_rows(w, j);
            int present = k->cnt[bi] > 0;
            if (present && k->cnt[bi] != n)
                bad(k, "I2: version %" PRId64 ": batch (w %d, seq %d) partly visible: %u of %u rows",
                    info.version, w, j, k->cnt[bi], n);
            if (present != (j <= last))
                bad(k, "I3: version %" PRId64 ": batch (w %d, seq %d) %s but the log's txn of "
                       "w%d is %" PRId64,
                    info.version, w, j, present ? "present" : "absent", w, last);
            if (ack_v && present != (ack_v[bi] >= 0 && ack_v[bi] <= info.version))
                bad(k, "ack: version %" PRId64 ": batch (w %d, seq %d) %s but it was "
                       "acknowledged at version %" PRId64,
                    info.version, w, j, present ? "present" : "absent", ack_v[bi]);
            if (present)
                rows += n;
        }
    }
    if (k->rows != info.n_rows)
        bad(k, "I4: version %" PRId64 ": %" PRIu64 " rows read, the log says %" PRIu64,
            info.version, k->rows, info.n_rows);
    (void)rows;
}

/* Read snapshot s whole with mode and check it. Returns TL_OK or the read's
 * error (k->bad counts violations). */
static int read_check(checker *k, const tl_snapshot *s, int mode, const int64_t *ack_v,
                      stats *st, tl_error *err)
{
    checker_reset(k);
    int rc;
    if (mode == MODE_READER) {
        tl_reader *r;
        rc = tl_reader_open(s, NULL, COLS, N_COLS, &r, err);
        if (rc)
            return rc;
        for (;;) {
            tl_batch b;
            rc = tl_reader_next(r, &b, err);
            if (rc || b.n_rows == 0)
                break;
            take_rows(k, b.n_rows, b.cols);
        }
        tl_reader_close(r);
    } else {
        tl_scan_opts o = {.columns = COLS, .n_columns = N_COLS, .threads = 1,
                          .io = mode == MODE_MMAP ? TL_IO_MMAP : TL_IO_URING};
        tl_scan_cb cb = {.block = scan_block, .ctx = k};
        tl_scan_stats ss;
        rc = tl_scan_run(s, &o, &cb, &ss, err);
        if (rc == TL_OK && st && ss.io_fallback)
            st->uring_fallback++;
    }
    if (rc)
        return rc;
    checker_finish(k, s, ack_v);
    return TL_OK;
}

/* ---- readers ------------------------------------------------------------------ */

static int reader_main(const cfg *c, int id, int latest_only, stats *st)
{
    tl_error err;
    tl_table *t;
    if (open_t(c, NULL, &t, &err)) {
        note(st, "reader %d: open: %s", id, err.msg);
        return 1;
    }
    checker k;
    if (checker_init(&k, c)) {
        tl_table_close(t);
        return 1;
    }
    uint64_t rs = c->seed ^ ((uint64_t)(id + 1) << 40) ^ 0x1234567u;
    int64_t ts0 = -1;
    st->max_version_read = -1;
    for (int last_round = 0;;) {
        if (atomic_load(&g_shm->stop))
            last_round++;
        if (last_round > 1)
            break;
        int64_t oldest, latest;
        if (tl_table_versions(t, &oldest, &latest, &err)) {
            st->read_errors++;
            st->listing_race += (uint64_t)listing_race(c->table, err.msg);
            note(st, "reader %d: versions: %s", id, err.msg);
            continue;
        }
        if (ts0 < 0) {
            tl_at a0 = {.kind = TL_AT_VERSION, .version = oldest};
            tl_snapshot *s0;
            if (tl_snapshot_open(t, &a0, &s0, &err) == TL_OK) {
                tl_snapshot_info i0;
                tl_snapshot_get_info(s0, &i0);
                ts0 = i0.timestamp_ms;
                tl_snapshot_close(s0);
            }
        }
        int at = latest_only || ts0 < 0 ? AT_LATEST : (int)(rng_next(&rs) % N_AT);
        int mode = (int)(rng_next(&rs) % N_MODES);
        tl_at a = {.kind = TL_AT_LATEST};
        if (at == AT_VERSION) {
            a.kind = TL_AT_VERSION;
            a.version = oldest + (int64_t)(rng_next(&rs) % (uint64_t)(latest - oldest + 1));
        } else if (at == AT_TS) {
            a.kind = TL_AT_TIMESTAMP;
            int64_t span = now_ms() - ts0 + 1;
            a.ts_ms = ts0 + (int64_t)(rng_next(&rs) % (uint64_t)(span > 0 ? span : 1));
        }
        tl_snapshot *s;
        int rc = tl_snapshot_open(t, &a, &s, &err);
        if (rc == TL_OK) {
            tl_snapshot_info info;
            tl_snapshot_get_info(s, &info);
            if (at == AT_VERSION && info.version != a.version) {
                st->violations++;
                note(st, "reader %d: asked version %" PRId64 ", got %" PRId64, id, a.version,
                     info.version);
            }
            if (at == AT_TS && info.timestamp_ms > a.ts_ms) {
                st->violations++;
                note(st, "I5: reader %d: timestamp %" PRId64 " gave version %" PRId64
                         " committed at %" PRId64,
                     id, a.ts_ms, info.version, info.timestamp_ms);
            }
            rc = read_check(&k, s, mode, NULL, st, &err);
            if (rc == TL_OK) {
                st->reads++;
                st->reads_mode[mode]++;
                st->reads_at[at]++;
                st->rows_read += k.rows;
                if (info.version > st->max_version_read)
                    st->max_version_read = info.version;
                if (k.bad) {
                    st->violations += k.bad;
                    note(st, "reader %d (%s, %s): %s", id, mode_name[mode], at_name[at], k.msg);
                }
            }
            tl_snapshot_close(s);
        }
        if (rc == TL_ENOTFOUND && c->cleanup && at != AT_LATEST) {
            /* expected only if a cleanup has since moved the oldest
             * reachable version above what was asked */
            tl_error e2;
            int64_t o2 = -1, l2 = -1;
            if (tl_table_versions(t, &o2, &l2, &e2) == TL_OK &&
                (at == AT_TS || o2 > a.version)) {
                st->below_oldest++;
                rc = TL_OK;
            }
        }
        if (rc) {
            st->read_errors++;
            st->listing_race += (uint64_t)listing_race(c->table, err.msg);
            note(st, "reader %d (%s, %s): %s (%d)", id, mode_name[mode], at_name[at], err.msg,
                 rc);
        }
        sleep_ms(c->reader_sleep_ms);
    }
    checker_free(&k);
    tl_table_close(t);
    return st->read_errors || st->violations ? 1 : 0;
}

/* ---- maintenance ---------------------------------------------------------------- */

static int maint_main(const cfg *c, stats *st)
{
    tl_error err;
    tl_table *t;
    if (open_t(c, NULL, &t, &err)) {
        note(st, "maintenance: open: %s", err.msg);
        return 1;
    }
    while (!atomic_load(&g_shm->stop)) {
        tl_optimize_opts oo = {0};
        tl_optimize_result orr;
        memset(&orr, 0, sizeof orr);
        int rc = tl_table_optimize(t, &oo, &orr, &err);
        st->opt_runs++;
        if (rc) {
            st->opt_errors++;
            st->listing_race += (uint64_t)listing_race(c->table, err.msg);
            note(st, "optimize: %s (%d)", err.msg, rc);
        } else if (orr.committed) {
            st->opt_commits++;
            st->opt_files_removed += orr.files_removed;
        }
        tl_optimize_result_free(&orr);
        tl_checkpoint_result cr;
        rc = tl_table_checkpoint(t, &cr, &err);
        st->ckpt_runs++;
        if (rc) {
            st->ckpt_errors++;
            st->listing_race += (uint64_t)listing_race(c->table, err.msg);
            note(st, "checkpoint: %s (%d)", err.msg, rc);
        } else {
            st->commits_deleted += cr.commits_deleted;
            st->checkpoints_deleted += cr.checkpoints_deleted;
        }
        /* the shortest retention vacuum allows without force (LOG-R82);
         * on the fast clock 1,000 h (6 real minutes: time-travel readers keep
         * their files) */
        tl_table_vacuum_opts vo = {.retain_hours = c->cleanup ? 1000 : 1};
        tl_table_vacuum_report vr;
        memset(&vr, 0, sizeof vr);
        rc = tl_table_vacuum(t, &vo, &vr, &err);
        st->vac_runs++;
        if (rc) {
            st->vac_errors++;
            st->listing_race += (uint64_t)listing_race(c->table, err.msg);
            note(st, "vacuum: %s (%d)", err.msg, rc);
        } else {
            st->vac_deleted += vr.n_files;
        }
        tl_table_vacuum_report_free(&vr);
        sleep_ms(c->maint_sleep_ms);
    }
    tl_table_close(t);
    return st->opt_errors || st->ckpt_errors || st->vac_errors ? 1 : 0;
}

/* ---- processes ------------------------------------------------------------------- */

typedef int (*proc_fn)(const cfg *c, int id, stats *st);

static int run_writer(const cfg *c, int id, stats *st)
{
    return writer_main(c, id, st);
}
static int run_reader(const cfg *c, int id, stats *st)
{
    return reader_main(c, id, 0, st);
}
static int run_latest_reader(const cfg *c, int id, stats *st)
{
    return reader_main(c, id, 1, st);
}
static int run_maint(const cfg *c, int id, stats *st)
{
    (void)id;
    return maint_main(c, st);
}

static pid_t spawn(const cfg *c, proc_fn fn, int id, stats *st)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(c, id, st));
    return pid;
}

/* Waits for pid; returns 1 when it died of a signal (SIGBUS counted). */
static int reap(pid_t pid, const char *what, int id, int *sigbus, int *crashed)
{
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        if (WTERMSIG(status) == SIGBUS)
            (*sigbus)++;
        (*crashed)++;
        printf("  %s %d killed by signal %d (%s)\n", what, id, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
        return 1;
    }
    return 0;
}

/* ---- final check ------------------------------------------------------------------ */

static int failures;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures += !ok;
}

/* Reads the writers' acknowledgements into ack_v (p*m, -1 = none). */
static void read_acks(const cfg *c, int64_t *ack_v, uint64_t *acked, uint64_t *twice,
                      uint64_t *dup_versions, int64_t latest)
{
    size_t nb = (size_t)c->p * (size_t)c->m;
    for (size_t i = 0; i < nb; i++)
        ack_v[i] = -1;
    uint8_t *vseen = calloc((size_t)latest + 2, 1);
    *acked = *twice = *dup_versions = 0;
    for (int w = 0; w < c->p; w++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/acks.%d", c->dir, w);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int j, noop;
        int64_t v;
        uint64_t rows;
        while (fscanf(f, "%d %" SCNd64 " %d %" SCNu64, &j, &v, &noop, &rows) == 4) {
            if (j < 0 || j >= c->m)
                continue;
            size_t bi = (size_t)w * (size_t)c->m + (size_t)j;
            if (ack_v[bi] >= 0)
                (*twice)++;
            ack_v[bi] = v;
            (*acked)++;
            if (!noop && vseen && v >= 0 && v <= latest) {
                if (vseen[v])
                    (*dup_versions)++;
                vseen[v] = 1;
            }
        }
        fclose(f);
    }
    free(vseen);
}

static int final_check(const cfg *c, uint64_t opt_commits)
{
    tl_error err;
    tl_table *t;
    if (open_t(c, NULL, &t, &err)) {
        check(0, "open the table: %s", err.msg);
        return 1;
    }
    tl_history_entry *h = NULL;
    size_t nh = 0;
    int64_t oldest = -1, latest = -1;
    if (tl_table_versions(t, &oldest, &latest, &err) || tl_table_history(t, &h, &nh, &err)) {
        check(0, "versions/history: %s", err.msg);
        tl_table_close(t);
        return 1;
    }
    uint64_t pm = (uint64_t)c->p * (uint64_t)c->m;
    uint64_t n_app = 0, n_opt = 0, n_conf = 0, n_other = 0, gaps = 0;
    for (size_t i = 0; i < nh; i++) {
        if (h[i].version != oldest + (int64_t)i)
            gaps++;
        const char *op = h[i].operation;
        if (strcmp(op, "APPEND") == 0)
            n_app++;
        else if (strcmp(op, "OPTIMIZE") == 0)
            n_opt++;
        else if (strcmp(op, "SET CONFIGURATION") == 0)
            n_conf++;
        else if (h[i].version > 0 && !(c->cleanup && i == 0 && oldest > 0))
            n_other++; /* (the entry of a cleaned-up checkpoint version has no commit) */
    }
    uint64_t conf = c->cleanup ? 1 : 0;
    uint64_t expect_versions = 1 + conf + pm + opt_commits;
    printf("versions: expected %" PRIu64 " (1 create + %" PRIu64 " configuration + %" PRIu64
           " appends + %" PRIu64 " optimize), latest %" PRId64 ", oldest reachable %" PRId64
           ", history entries %zu\n",
           expect_versions, conf, pm, opt_commits, latest, oldest, nh);
    check((c->cleanup || oldest == 0) && gaps == 0 && nh == (size_t)(latest - oldest + 1),
          "versions contiguous from the oldest reachable (%" PRId64 "): %zu entries, %" PRIu64
          " out of place", oldest, nh, gaps);
    check((uint64_t)(latest + 1) == expect_versions, "versions present = expected");
    if (oldest == 0) {
        check(n_app == pm, "APPEND commits: %" PRIu64 " of %" PRIu64, n_app, pm);
        check(n_opt == opt_commits && n_conf == conf && n_other == 0,
              "OPTIMIZE commits: %" PRIu64 " (maintenance reported %" PRIu64 "), other %" PRIu64,
              n_opt, opt_commits, n_other);
    } else {
        check(n_app + n_opt <= pm + opt_commits && n_other == 0,
              "commits above the oldest reachable version: %" PRIu64 " APPEND, %" PRIu64
              " OPTIMIZE, other %" PRIu64, n_app, n_opt, n_other);
    }

    size_t nb = (size_t)pm;
    int64_t *ack_v = malloc(nb * sizeof *ack_v);
    uint64_t acked, twice, dupv;
    read_acks(c, ack_v, &acked, &twice, &dupv, latest);
    uint64_t wrong_commit = 0, expect_rows = 0;
    for (int w = 0; w < c->p; w++)
        for (int j = 0; j < c->m; j++) {
            size_t bi = (size_t)w * (size_t)c->m + (size_t)j;
            expect_rows += batch_rows(w, j);
            int64_t v = ack_v[bi];
            if (v <= oldest || v > latest || (size_t)(v - oldest) >= nh)
                continue; /* (below the oldest reachable version: no commit left) */
            const tl_history_entry *he = &h[v - oldest];
            if (strcmp(he->operation, "APPEND") != 0 ||
                he->added_rows != (int64_t)batch_rows(w, j))
                wrong_commit++;
        }
    check(acked == pm && twice == 0, "appends acknowledged: %" PRIu64 " of %" PRIu64
                                     " (%" PRIu64 " twice)", acked, pm, twice);
    check(dupv == 0, "versions acknowledged to two appends (overwritten commits): %" PRIu64,
          dupv);
    check(wrong_commit == 0,
          "acknowledged versions whose commit is not that batch's APPEND: %" PRIu64,
          wrong_commit);

    checker k;
    checker_init(&k, c);
    /* the latest version, every way of reading */
    uint64_t lost = 0;
    for (int mode = 0; mode < N_MODES; mode++) {
        tl_snapshot *s;
        tl_at a = {.kind = TL_AT_VERSION, .version = latest};
        int rc = tl_snapshot_open(t, &a, &s, &err);
        if (!rc)
            rc = read_check(&k, s, mode, ack_v, NULL, &err);
        if (rc) {
            check(0, "latest version (%s): %s", mode_name[mode], err.msg);
        } else {
            if (mode == 0)
                for (size_t i = 0; i < nb; i++)
                    lost += ack_v[i] >= 0 && k.cnt[i] == 0;
            check(k.bad == 0 && k.rows == expect_rows,
                  "latest version %" PRId64 " (%s): rows expected %" PRIu64 ", read %" PRIu64
                  "; violations %" PRIu64 "%s%s",
                  latest, mode_name[mode], expect_rows, k.rows, k.bad, k.bad ? ": " : "",
                  k.msg);
        }
        if (!rc)
            tl_snapshot_close(s);
    }
    check(lost == 0, "acknowledged appends missing from the latest version (lost): %" PRIu64,
          lost);
    /* sampled versions against the acknowledgements */
    uint64_t rs = c->seed ^ 0x77u, sampled = 0, sviol = 0, serr = 0;
    char smsg[600] = "";
    int64_t span = latest - oldest + 1;
    int every = span <= c->samples;
    for (int i = 0; i < (every ? (int)span : c->samples); i++) {
        int64_t v = oldest + (every ? i : (int64_t)(rng_next(&rs) % (uint64_t)span));
        tl_snapshot *s;
        tl_at a = {.kind = TL_AT_VERSION, .version = v};
        int rc = tl_snapshot_open(t, &a, &s, &err);
        if (!rc) {
            rc = read_check(&k, s, (int)(v % N_MODES), ack_v, NULL, &err);
            tl_snapshot_close(s);
        }
        sampled++;
        if (rc) {
            serr++;
            if (!smsg[0])
                snprintf(smsg, sizeof smsg, "version %" PRId64 ": %s", v, err.msg);
        } else if (k.bad) {
            sviol += k.bad;
            if (!smsg[0])
                snprintf(smsg, sizeof smsg, "%s", k.msg);
        }
    }
    check(serr == 0 && sviol == 0,
          "versions re-read against the acknowledgements: %" PRIu64 ", errors %" PRIu64
          ", violations %" PRIu64 "%s%s",
          sampled, serr, sviol, smsg[0] ? ": " : "", smsg);
    checker_free(&k);
    free(ack_v);
    free(h);
    tl_table_close(t);
    return 0;
}

/* ---- retention phase: mapped files while vacuum deletes them ---------------------- */

typedef struct pin_report {
    int64_t version;
    uint64_t files, mapped, verified, verify_errors;
    uint64_t reader_rows_in_file, reader_rows_expected, reader_error;
    uint64_t scan_blocks_after, scan_error_code, scan_rows_after;
    uint64_t later_enotfound, later_other;
    char msg[1024];
} pin_report;

typedef struct pin_scan {
    int to_parent, from_parent;
    int paused;
    uint64_t blocks_after, rows_after;
    size_t file;
    checker *k;
} pin_scan;

static int pin_wait(int to_parent, int from_parent)
{
    char ch = 'R';
    if (write(to_parent, &ch, 1) != 1)
        return -1;
    return read(from_parent, &ch, 1) == 1 ? 0 : -1;
}

static int pin_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    (void)err;
    pin_scan *p = ctx;
    if (!p->paused) {
        p->paused = 1;
        p->file = b->file;
        if (pin_wait(p->to_parent, p->from_parent))
            return -1;
        return 0;
    }
    if (b->file == p->file) {
        p->blocks_after++;
        p->rows_after += b->n_rows;
    }
    return 0;
}

/* The pinned reader (a child process): maps every data file of version v,
 * a row reader in its first file, a scan paused in its first block; says
 * ready, waits for the vacuum, then reads everything it holds. */
static int pin_main(const cfg *c, int64_t v, int to_parent, int from_parent, pin_report *rep)
{
    tl_error err;
    tl_table *t;
    memset(rep, 0, sizeof *rep);
    rep->version = v;
    if (open_t(c, NULL, &t, &err))
        return snprintf(rep->msg, sizeof rep->msg, "open: %s", err.msg), 1;
    tl_snapshot *s;
    tl_at a = {.kind = TL_AT_VERSION, .version = v};
    if (tl_snapshot_open(t, &a, &s, &err))
        return snprintf(rep->msg, sizeof rep->msg, "snapshot: %s", err.msg), 1;
    size_t nf = tl_snapshot_n_files(s);
    rep->files = nf;
    tl_segment **seg = calloc(nf ? nf : 1, sizeof *seg);
    for (size_t i = 0; i < nf; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", c->table, fi.path);
        if (tl_segment_open(path, &seg[i], &err) == TL_OK)
            rep->mapped++;
        else if (!rep->msg[0])
            snprintf(rep->msg, sizeof rep->msg, "map %s: %s", fi.path, err.msg);
    }
    /* a row reader holding its first file, one batch read */
    tl_reader *r = NULL;
    tl_batch b;
    int rrc = tl_reader_open(s, NULL, COLS, N_COLS, &r, &err);
    if (!rrc)
        rrc = tl_reader_next(r, &b, &err);
    tl_file_info f0 = {0};
    if (nf)
        tl_snapshot_file(s, 0, &f0);
    rep->reader_rows_expected = f0.n_rows;
    if (!rrc)
        rep->reader_rows_in_file = b.n_rows;
    /* a scan paused inside its first file: the pause is the handshake */
    checker k;
    checker_init(&k, c);
    pin_scan ps = {.to_parent = to_parent, .from_parent = from_parent, .k = &k};
    tl_scan_opts so = {.columns = COLS, .n_columns = N_COLS, .threads = 1, .io = TL_IO_MMAP};
    tl_scan_cb cb = {.block = pin_block, .ctx = &ps};
    int src = tl_scan_run(s, &so, &cb, NULL, &err);
    if (!ps.paused) /* no block at all: still hand over */
        pin_wait(to_parent, from_parent);
    rep->scan_blocks_after = ps.blocks_after;
    rep->scan_rows_after = ps.rows_after;
    rep->scan_error_code = (uint64_t)-src;
    if (src && src != TL_ENOTFOUND && !rep->msg[0])
        snprintf(rep->msg, sizeof rep->msg, "scan: %s", err.msg);
    /* the row reader goes on in its (deleted) file */
    if (!rrc) {
        tl_error e2;
        for (;;) {
            int rc = tl_reader_next(r, &b, &e2);
            if (rc) {
                if (rc == TL_ENOTFOUND)
                    rep->later_enotfound++;
                else {
                    rep->reader_error = (uint64_t)-rc;
                    if (!rep->msg[0])
                        snprintf(rep->msg, sizeof rep->msg, "reader: %s", e2.msg);
                }
                break;
            }
            if (b.n_rows == 0)
                break;
            if (rep->reader_rows_in_file < rep->reader_rows_expected)
                rep->reader_rows_in_file += b.n_rows;
        }
    } else {
        rep->reader_error = (uint64_t)-rrc;
    }
    tl_reader_close(r);
    /* every block of every mapped file */
    for (size_t i = 0; i < nf; i++) {
        if (!seg[i])
            continue;
        if (tl_segment_verify(seg[i], &err) == TL_OK)
            rep->verified++;
        else {
            rep->verify_errors++;
            if (!rep->msg[0])
                snprintf(rep->msg, sizeof rep->msg, "verify: %s", err.msg);
        }
        tl_segment_close(seg[i]);
    }
    free(seg);
    /* files of v opened now: deleted ones are gone */
    for (size_t i = 0; i < nf; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", c->table, fi.path);
        tl_segment *x;
        int rc = tl_segment_open(path, &x, &err);
        if (rc == TL_ENOTFOUND)
            rep->later_enotfound++;
        else if (rc)
            rep->later_other++;
        tl_segment_close(x);
    }
    checker_free(&k);
    tl_snapshot_close(s);
    tl_table_close(t);
    return 0;
}

/* A copy of a data file, mapped, truncated under the mapping, then read:
 * must die of SIGBUS (shows the harness would see one). */
static int sigbus_main(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (in < 0 || out < 0)
        return 3;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            return 3;
    close(in);
    close(out);
    tl_segment *s;
    tl_error err;
    if (tl_segment_open(dst, &s, &err))
        return 4;
    if (truncate(dst, 0) != 0)
        return 5;
    int rc = tl_segment_verify(s, &err);
    return rc ? 6 : 0; /* not reached when the kernel raises SIGBUS */
}

static int64_t pick_old_version(tl_table *t, int64_t latest, tl_error *err)
{
    tl_history_entry *h;
    size_t n;
    if (tl_table_history(t, &h, &n, err))
        return -1;
    int64_t v = -1;
    for (size_t i = n; i-- > 1;)
        if (strcmp(h[i].operation, "OPTIMIZE") == 0 && h[i].removed_files > 0) {
            v = h[i].version - 1;
            break;
        }
    free(h);
    (void)latest;
    return v;
}

static void pin_phase(const cfg *c)
{
    printf("-- retention phase: vacuum with retention 0 (force) under mapped readers\n");
    tl_error err;
    tl_table *t;
    if (open_t(c, NULL, &t, &err)) {
        check(0, "open: %s", err.msg);
        return;
    }
    int64_t oldest, latest;
    if (tl_table_versions(t, &oldest, &latest, &err)) {
        check(0, "versions: %s", err.msg);
        tl_table_close(t);
        return;
    }
    int64_t v = pick_old_version(t, latest, &err);
    if (v < 0) { /* no optimize removed files yet: make one */
        tl_optimize_opts oo = {0};
        tl_optimize_result orr;
        memset(&orr, 0, sizeof orr);
        if (tl_table_optimize(t, &oo, &orr, &err) == TL_OK && orr.committed)
            v = orr.version - 1;
        tl_optimize_result_free(&orr);
    }
    if (v < 1) {
        check(0, "retention phase: no version with removed files to pin");
        tl_table_close(t);
        return;
    }
    /* readers of the latest version throughout (forked before the pipes
     * exist, so that only the pinned reader holds their ends) */
    atomic_store(&g_shm->stop, 0);
    stats *lst = &g_shm->st[MAX_WRITERS + 1];
    memset(lst, 0, sizeof *lst);
    pid_t lr = spawn(c, run_latest_reader, 100, lst);
    pin_report *rep = mmap(NULL, sizeof *rep, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                           -1, 0);
    int up[2], down[2];
    if (rep == MAP_FAILED || pipe(up) || pipe(down)) {
        check(0, "retention phase: mmap/pipe: %s", strerror(errno));
        atomic_store(&g_shm->stop, 1);
        int sb = 0, cr = 0;
        reap(lr, "latest reader", 0, &sb, &cr);
        tl_table_close(t);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        _exit(pin_main(c, v, up[1], down[0], rep));
    }
    close(up[1]);
    close(down[0]);
    char ch;
    int ready = read(up[0], &ch, 1) == 1;
    tl_table_vacuum_opts vo = {.retain_hours = 0, .force = 1};
    tl_table_vacuum_report vr;
    memset(&vr, 0, sizeof vr);
    int vrc = tl_table_vacuum(t, &vo, &vr, &err);
    size_t deleted = vr.n_files;
    tl_table_vacuum_report_free(&vr);
    /* how many of the pinned version's files are gone now */
    tl_snapshot *s;
    tl_at a = {.kind = TL_AT_VERSION, .version = v};
    size_t gone = 0, nf = 0;
    if (tl_snapshot_open(t, &a, &s, &err) == TL_OK) {
        nf = tl_snapshot_n_files(s);
        for (size_t i = 0; i < nf; i++) {
            tl_file_info fi;
            tl_snapshot_file(s, i, &fi);
            char path[PATH_MAX * 2];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", c->table, fi.path);
            gone += stat(path, &st) != 0 && errno == ENOENT;
        }
        tl_snapshot_close(s);
    }
    ch = 'G';
    if (write(down[1], &ch, 1) != 1)
        ready = 0;
    int sigbus = 0, crashed = 0;
    reap(pid, "pinned reader", 0, &sigbus, &crashed);
    atomic_store(&g_shm->stop, 1);
    reap(lr, "latest reader", 0, &sigbus, &crashed);
    close(up[0]);
    close(down[1]);
    check(ready && vrc == TL_OK, "vacuum --retain 0 --force ran while the reader held version %"
                                 PRId64 " mapped: %zu files deleted (%s)",
          v, deleted, vrc ? err.msg : "ok");
    check(gone > 0, "files of the pinned version %" PRId64 " deleted under it: %zu of %zu", v,
          gone, nf);
    check(sigbus == 0 && crashed == 0, "SIGBUS in readers holding mapped files: %d (crashes %d)",
          sigbus, crashed);
    check(rep->mapped == rep->files && rep->verified == rep->mapped && rep->verify_errors == 0,
          "mapped files read whole after their deletion (every block checksum): %" PRIu64
          " of %" PRIu64 "%s%s",
          rep->verified, rep->files, rep->msg[0] ? "; " : "", rep->msg);
    check(rep->reader_error == 0 && rep->reader_rows_in_file >= rep->reader_rows_expected,
          "row reader finished the file it held: %" PRIu64 " of %" PRIu64 " rows",
          rep->reader_rows_in_file, rep->reader_rows_expected);
    check(rep->scan_error_code == 0 || rep->scan_error_code == (uint64_t)-TL_ENOTFOUND,
          "mmap scan paused in a file: went on with %" PRIu64 " more blocks (%" PRIu64
          " rows) of it; then %s",
          rep->scan_blocks_after, rep->scan_rows_after,
          rep->scan_error_code ? "TL_ENOTFOUND at a file it had not opened (expected: deleted)"
                               : "finished");
    printf("  files of version %" PRId64 " opened after the vacuum: %" PRIu64
           " TL_ENOTFOUND (deleted, expected with retention 0), %" PRIu64 " other errors\n",
           v, rep->later_enotfound, rep->later_other);
    check(rep->later_other == 0, "no error other than TL_ENOTFOUND for deleted files");
    check(lst->read_errors == 0 && lst->violations == 0,
          "readers of the latest version during the vacuum: %" PRIu64 " reads, errors %" PRIu64
          ", violations %" PRIu64 "%s%s",
          lst->reads, lst->read_errors, lst->violations, lst->msg[0] ? ": " : "", lst->msg);
    /* the latest version stays whole (LOG-C9) */
    checker k;
    checker_init(&k, c);
    a = (tl_at){.kind = TL_AT_LATEST};
    int rc = tl_snapshot_open(t, &a, &s, &err);
    if (!rc) {
        rc = read_check(&k, s, MODE_MMAP, NULL, NULL, &err);
        tl_snapshot_close(s);
    }
    check(rc == TL_OK && k.bad == 0, "latest version whole after the vacuum: %" PRIu64
                                     " rows%s%s",
          k.rows, rc ? ": " : (k.bad ? ": " : ""), rc ? err.msg : k.msg);
    checker_free(&k);

    if (c->sigbus_control) {
        a = (tl_at){.kind = TL_AT_LATEST};
        char src[PATH_MAX * 2] = "", dst[PATH_MAX + 32];
        if (tl_snapshot_open(t, &a, &s, &err) == TL_OK) {
            tl_file_info fi;
            if (tl_snapshot_n_files(s)) {
                tl_snapshot_file(s, 0, &fi);
                snprintf(src, sizeof src, "%s/%s", c->table, fi.path);
            }
            tl_snapshot_close(s);
        }
        snprintf(dst, sizeof dst, "%s/sigbus_copy.tls", c->dir);
        fflush(NULL);
        pid_t cp = fork();
        if (cp == 0)
            _exit(sigbus_main(src, dst));
        int sb = 0, cr = 0;
        reap(cp, "sigbus control", 0, &sb, &cr);
        check(sb == 1, "control: a mapped data file truncated under its reader gives SIGBUS, "
                       "and the harness sees it: %d",
              sb);
        unlink(dst);
    }
    munmap(rep, sizeof *rep);
    tl_table_close(t);
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: tl_conc_stress DIR [--writers P] [--appends M] [--readers R]\n"
            "         [--no-maintenance] [--maint-sleep-ms N] [--reader-sleep-ms N]\n"
            "         [--samples N] [--seed S] [--pin] [--sigbus-control]\n"
            "         [--log-cleanup] [--unsafe-plain-rename]\n"
            "DIR must not exist; the table is DIR/t.\n");
}

static int num_arg(int argc, char **argv, int *i, long lo, long hi, long *out)
{
    if (*i + 1 >= argc)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(argv[++*i], &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static cfg c = {.p = 4, .m = 50, .r = 2, .maint = 1, .maint_sleep_ms = 20,
                    .reader_sleep_ms = 0, .samples = 64, .seed = 1};
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        long v = 0;
        const char *a = argv[i];
        int e = 0;
        if (!strcmp(a, "--writers"))
            e = num_arg(argc, argv, &i, 1, MAX_WRITERS, &v), c.p = (int)v;
        else if (!strcmp(a, "--appends"))
            e = num_arg(argc, argv, &i, 1, 100000, &v), c.m = (int)v;
        else if (!strcmp(a, "--readers"))
            e = num_arg(argc, argv, &i, 0, MAX_READERS, &v), c.r = (int)v;
        else if (!strcmp(a, "--maint-sleep-ms"))
            e = num_arg(argc, argv, &i, 0, 600000, &v), c.maint_sleep_ms = (int)v;
        else if (!strcmp(a, "--reader-sleep-ms"))
            e = num_arg(argc, argv, &i, 0, 600000, &v), c.reader_sleep_ms = (int)v;
        else if (!strcmp(a, "--samples"))
            e = num_arg(argc, argv, &i, 0, 1000000, &v), c.samples = (int)v;
        else if (!strcmp(a, "--seed"))
            e = num_arg(argc, argv, &i, 0, LONG_MAX, &v), c.seed = (uint64_t)v;
        else if (!strcmp(a, "--no-maintenance"))
            c.maint = 0;
        else if (!strcmp(a, "--pin"))
            c.pin = 1;
        else if (!strcmp(a, "--sigbus-control"))
            c.sigbus_control = 1;
        else if (!strcmp(a, "--log-cleanup"))
            c.cleanup = 1, g_clock_base = real_ms();
        else if (!strcmp(a, "--unsafe-plain-rename"))
            c.plain = 1;
        else if (a[0] == '-' || dir)
            e = -1;
        else
            dir = a;
        if (e) {
            usage();
            return 2;
        }
    }
    if (!dir || strlen(dir) >= sizeof c.dir) {
        usage();
        return 2;
    }
    if ((int64_t)c.p * c.m * 256 * 1000 >= NS_PER_DAY) {
        fprintf(stderr, "tl_conc_stress: P*M too large\n");
        return 2;
    }
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    snprintf(c.table, sizeof c.table, "%s/t", dir);
    if (mkdir(c.dir, 0755) != 0) {
        fprintf(stderr, "tl_conc_stress: mkdir %s: %s\n", c.dir, strerror(errno));
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    tl_error err;
    if (create_table(&c, &err)) {
        fprintf(stderr, "tl_conc_stress: create %s: %s\n", c.table, err.msg);
        return 2;
    }
    g_shm = mmap(NULL, sizeof *g_shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_shm == MAP_FAILED) {
        fprintf(stderr, "tl_conc_stress: mmap: %s\n", strerror(errno));
        return 2;
    }
    memset(g_shm, 0, sizeof *g_shm);
    printf("tl_conc_stress: %d writers x %d appends, %d readers, maintenance %s, seed %" PRIu64
           "%s\n",
           c.p, c.m, c.r, c.maint ? "on" : "off", c.seed,
           c.plain ? ", NEGATIVE CONTROL: commits published by plain rename" : "");
    double t0 = mono_s();
    pid_t wp[MAX_WRITERS], rp[MAX_READERS], mp = -1;
    stats *mst = &g_shm->st[MAX_WRITERS];
    for (int i = 0; i < c.r; i++)
        rp[i] = spawn(&c, run_reader, i, &g_shm->st[MAX_WRITERS + 2 + i]);
    if (c.maint)
        mp = spawn(&c, run_maint, 0, mst);
    for (int i = 0; i < c.p; i++)
        wp[i] = spawn(&c, run_writer, i, &g_shm->st[i]);
    int sigbus = 0, crashed = 0;
    for (int i = 0; i < c.p; i++)
        reap(wp[i], "writer", i, &sigbus, &crashed);
    double tw = mono_s() - t0;
    atomic_store(&g_shm->stop, 1);
    for (int i = 0; i < c.r; i++)
        reap(rp[i], "reader", i, &sigbus, &crashed);
    if (c.maint)
        reap(mp, "maintenance", 0, &sigbus, &crashed);
    double tall = mono_s() - t0;

    stats w = {0}, r = {0};
    for (int i = 0; i < c.p; i++) {
        stats *s = &g_shm->st[i];
        w.appends_ok += s->appends_ok;
        w.appends_noop += s->appends_noop;
        w.append_retries += s->append_retries;
        w.append_errors += s->append_errors;
        w.appends_given_up += s->appends_given_up;
        w.listing_race += s->listing_race;
        w.attempts += s->attempts;
        if (s->msg[0])
            printf("  writer %d: %s\n", i, s->msg);
    }
    r.max_version_read = -1;
    for (int i = 0; i < c.r; i++) {
        stats *s = &g_shm->st[MAX_WRITERS + 2 + i];
        r.reads += s->reads;
        for (int m = 0; m < N_MODES; m++)
            r.reads_mode[m] += s->reads_mode[m];
        for (int m = 0; m < N_AT; m++)
            r.reads_at[m] += s->reads_at[m];
        r.rows_read += s->rows_read;
        r.read_errors += s->read_errors;
        r.listing_race += s->listing_race;
        r.violations += s->violations;
        r.below_oldest += s->below_oldest;
        r.uring_fallback += s->uring_fallback;
        if (s->max_version_read > r.max_version_read)
            r.max_version_read = s->max_version_read;
        if (s->msg[0])
            printf("  reader %d: %s\n", i, s->msg);
    }
    if (mst->msg[0])
        printf("  maintenance: %s\n", mst->msg);
    printf("writers: %" PRIu64 " appends acknowledged (%" PRIu64 " no-op), %" PRIu64
           " publication attempts, %" PRIu64 " retried after a lost race, %" PRIu64
           " failed attempts, %" PRIu64 " given up; %.1f s\n",
           w.appends_ok, w.appends_noop, w.attempts, w.append_retries, w.append_errors,
           w.appends_given_up, tw);
    printf("readers: %" PRIu64 " snapshots read whole (%s %" PRIu64 ", %s %" PRIu64 ", %s %" PRIu64
           "; at %s %" PRIu64 ", %s %" PRIu64 ", %s %" PRIu64 "), %" PRIu64
           " rows, newest version read %" PRId64 ", io_uring fallbacks %" PRIu64
           ", below the oldest reachable version (TL_ENOTFOUND, expected) %" PRIu64 "\n",
           r.reads, mode_name[0], r.reads_mode[0], mode_name[1], r.reads_mode[1], mode_name[2],
           r.reads_mode[2], at_name[0], r.reads_at[0], at_name[1], r.reads_at[1], at_name[2],
           r.reads_at[2], r.rows_read, r.max_version_read, r.uring_fallback, r.below_oldest);
    printf("maintenance: optimize %" PRIu64 " runs, %" PRIu64 " commits (%" PRIu64
           " files compacted), %" PRIu64 " errors; checkpoint %" PRIu64 " runs, %" PRIu64
           " errors (log cleanup deleted %" PRIu64 " commits, %" PRIu64 " checkpoints); vacuum"
           " (retain 1 h) %" PRIu64 " runs, %" PRIu64 " files deleted, %" PRIu64 " errors\n",
           mst->opt_runs, mst->opt_commits, mst->opt_files_removed, mst->opt_errors,
           mst->ckpt_runs, mst->ckpt_errors, mst->commits_deleted, mst->checkpoints_deleted,
           mst->vac_runs, mst->vac_deleted, mst->vac_errors);
    printf("elapsed: %.1f s\n", tall);
    check(crashed == 0, "processes killed by a signal: %d (SIGBUS %d)", crashed, sigbus);
    check(w.append_errors == 0 && w.appends_given_up == 0,
          "append errors: %" PRIu64 " (listing race %" PRIu64 "), given up %" PRIu64,
          w.append_errors, w.listing_race, w.appends_given_up);
    check(r.read_errors == 0, "reader errors: %" PRIu64 " (listing race %" PRIu64 ")",
          r.read_errors, r.listing_race);
    check(r.violations == 0, "reader invariant violations: %" PRIu64, r.violations);
    check(c.r == 0 || r.reads > 0, "readers read: %" PRIu64, r.reads);
    if (c.cleanup && c.maint)
        check(mst->commits_deleted > 0, "log cleanup deleted commits while writers ran: %" PRIu64,
              mst->commits_deleted);
    check(mst->opt_errors + mst->ckpt_errors + mst->vac_errors == 0,
          "maintenance errors: %" PRIu64 " (listing race %" PRIu64 ")",
          mst->opt_errors + mst->ckpt_errors + mst->vac_errors, mst->listing_race);
    final_check(&c, mst->opt_commits);
    if (c.pin)
        pin_phase(&c);
    printf("RESULT: %s (%d failed checks)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
