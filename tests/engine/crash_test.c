/*
 * crash_test.c - crash consistency of every writing operation of a table
 * (spec/LOG.md 9.9: LOG-C1..C11) under the fault injector's power-loss
 * model (io_fault.c), plus the injector's own promises that the sweeps rely
 * on (close never syncs) and the fatal fsync of LOG-C10.
 *
 * The sweep (crash_sweep): a template table is built once per operation
 * (append, optimize and repartition with spilled _tmp/ runs, checkpoint +
 * log cleanup, log cleanup alone, vacuum of tombstones, orphans, temporary files and a stale
 * scratch directory). For every I/O call index k of the operation and for
 * several seeds of the model (seed 0: drop everything unsynced; others: tear
 * at random, io_int.h tl_io_crash_opts), a copy of the template is opened
 * through the injector, the power is cut before call k, and the tree is
 * rewritten to what the power loss leaves. Then, through a fresh handle:
 *   - the table opens;
 *   - the latest version is the one before or the one after the operation,
 *     and the one after if the operation was acknowledged (versions lost);
 *   - the oldest reachable version is between the one before and the one a
 *     complete run leaves (cleanup never goes further: versions lost);
 *   - every reachable version (except those the complete run itself makes
 *     unreadable: vacuumed tombstones) reads back with the rows of the
 *     reference run, hashed as a multiset (a partly visible commit would
 *     differ: torn commits);
 *   - verify TABLE passes (orphans are not damage);
 *   - vacuum (retention 0, forced) succeeds and afterwards no orphan data
 *     file, temporary log file or scratch directory is left, and the latest
 *     version still hashes equal.
 * Figures (printed to stderr, "crash sweep <op>: ..."): crash points x
 * seeds, outcomes, versions lost, torn commits, verify failures, orphans
 * left after vacuum. CI runs 1 tear seed per k besides the drop-all model;
 * CRASH_SEEDS=N runs N tear seeds per k (the figures in
 * tests/reliability/FAULT.md).
 */
#include <criterion/criterion.h>

#include "blockio_int.h"
#include "fixture.h"
#include "io_int.h"
#include "table_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256], tpath[300], tmpl[300];

static void setup(void)
{
    /* the model is simulated, so real durability does not matter: prefer a
     * memory file system (no real fsync waits) unless TMPDIR says otherwise */
    tlt_tmpdir(dir, sizeof dir, "tl_crash");
    snprintf(tpath, sizeof tpath, "%s/t", dir);
    snprintf(tmpl, sizeof tmpl, "%s/template", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(crash, .init = setup, .fini = teardown);

static void sh(const char *fmt, ...) TL_PRINTF(1, 2);
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A clock `*(int64_t *)arg` ms ahead of the real one. */
static int64_t ahead_ms(void *arg)
{
    return real_ms() + *(const int64_t *)arg;
}

/* ---- table contents as hashes ------------------------------------------------------------ */

/* The rows of version v as one hash (fixture.h: a multiset) and a count.
 * Returns the first error instead of asserting. */
static int version_hash(tl_table *t, int64_t v, uint64_t *hash, uint64_t *rows, tl_error *err)
{
    tl_at at = {.kind = TL_AT_VERSION, .version = v};
    return tlt_rows_hash(t, &at, hash, rows, err);
}

#define MAXV 64

typedef struct state {
    int64_t oldest, latest;
    uint64_t hash[MAXV], rows[MAXV];
    int have[MAXV];
} state;

static void state_of(const char *path, state *st)
{
    memset(st, 0, sizeof *st);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_versions(t, &st->oldest, &st->latest, &err), TL_OK, "%s", err.msg);
    cr_assert_lt(st->latest, MAXV);
    for (int64_t v = st->oldest; v <= st->latest; v++)
        if (version_hash(t, v, &st->hash[v], &st->rows[v], &err) == TL_OK)
            st->have[v] = 1;
    tl_table_close(t);
}

/* ---- building templates --------------------------------------------------------------------- */

static const char *const syms[] = {"BANKNIFTY", "NIFTY"};

static void append_rows(tl_table *t, uint64_t seed, uint64_t rows)
{
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.seed = seed;
    go.days = 1;
    go.rows_per_day = rows;
    go.symbols = syms;
    go.n_symbols = 2;
    tlt_append_gen(t, &go, &(tl_append_opts){.threads = 1}, 700, NULL);
}

/* v0 create (log retention 1 hour, no automatic checkpoint), v1..vn appends
 * of 2 partitions each. */
static void build_base(const char *path, int n)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    spec.log_retention_hours = 1;
    spec.checkpoint_interval = 1000;
    tl_error err;
    cr_assert_eq(tl_table_create(path, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    for (int i = 0; i < n; i++)
        append_rows(t, 100 + (uint64_t)i, 300);
    tl_table_close(t);
}

static void write_file(const char *path, const char *bytes)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(bytes, f);
    cr_assert_eq(fclose(f), 0);
}

/* The first data file of the latest version (relative path). */
static void first_file(const char *path, char *out, size_t cap)
{
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_gt(tl_snapshot_n_files(s), 0);
    tl_file_info fi;
    tl_snapshot_file(s, 0, &fi);
    snprintf(out, cap, "%s", fi.path);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* Leftovers of crashed writers: an orphan data file beside a live one, a
 * temporary commit in _delta_log/, a scratch directory with a run. */
static void add_leftovers(const char *path)
{
    char rel[600], p[1400];
    first_file(path, rel, sizeof rel);
    char *slash = strrchr(rel, '/');
    cr_assert_not_null(slash);
    *slash = '\0';
    snprintf(p, sizeof p, "%s/%s/00000000-0000-4000-8000-0000000000aa.tls", path, rel);
    *slash = '/';
    char src[1400];
    snprintf(src, sizeof src, "%s/%s", path, rel);
    sh("cp '%s' '%s'", src, p);
    snprintf(p, sizeof p, "%s/_delta_log/.00000000-0000-4000-8000-0000000000bb.json.tmp", path);
    write_file(p, "{\"commitInfo\":{}}\n");
    snprintf(p, sizeof p, "%s/_tmp/00000000-0000-4000-8000-0000000000cc", path);
    sh("mkdir -p '%s'", p);
    snprintf(p, sizeof p, "%s/_tmp/00000000-0000-4000-8000-0000000000cc/run-00000.tls", path);
    write_file(p, "a sorted run of a crashed optimize");
}

/* ---- the operations under test ------------------------------------------------------------------ */

static int op_append(tl_table *t, tl_error *err)
{
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.seed = 999;
    go.days = 1;
    go.rows_per_day = 300;
    go.symbols = syms;
    go.n_symbols = 2;
    tl_gen *g;
    cr_assert_eq(tl_gen_open(&go, &g, err), TL_OK);
    tl_append *a = NULL;
    int rc = tl_append_begin(t, &(tl_append_opts){.threads = 1}, &a, err);
    int done = 0;
    while (rc == TL_OK) {
        tl_batch b;
        cr_assert_eq(tl_gen_next(g, 700, &b, &done, err), TL_OK);
        if (done)
            break;
        rc = tl_append_batch(a, &b, err);
    }
    tl_gen_close(g);
    if (rc == TL_OK) {
        tl_append_result res;
        rc = tl_append_commit(a, &res, err);
    } else if (a) {
        tl_append_abort(a);
    }
    return rc;
}

static int op_optimize(tl_table *t, tl_error *err)
{
    tl_optimize_result r;
    /* max_memory 1: every input is a group of its own, merged through
     * spilled runs in _tmp/<uuid>/ (MAINT-O9) */
    int rc = tl_table_optimize(t, &(tl_optimize_opts){.max_memory = 1}, &r, err);
    tl_optimize_result_free(&r);
    return rc;
}

static int op_repartition(tl_table *t, tl_error *err)
{
    tl_repartition_result r;
    /* by day only, with a tiny buffer: sorted runs spilled to _tmp/<uuid>/
     * (MAINT-P6) */
    return tl_table_repartition(t, &(tl_repartition_opts){.no_symbol = 1, .max_memory = 1}, &r,
                                err);
}

static int op_checkpoint(tl_table *t, tl_error *err)
{
    tl_checkpoint_result r;
    return tl_table_checkpoint(t, &r, err);
}

static int op_vacuum(tl_table *t, tl_error *err)
{
    tl_table_vacuum_report rep;
    int rc = tl_table_vacuum(t, &(tl_table_vacuum_opts){.retain_hours = 0, .force = 1}, &rep, err);
    if (rc == TL_OK)
        tl_table_vacuum_report_free(&rep);
    return rc;
}

/* ---- after a crash: vacuum, then nothing but live files is left ------------------------------- */

static int is_tmp_log_name(const char *n)
{
    return (n[0] == '.' && strstr(n, ".tmp")) || strstr(n, ".tmp.");
}

/* Count data files not live in the latest version, temporary log files and
 * scratch directories under path (rel: the directory being walked). */
static size_t leftovers(const char *root, const char *rel, const tl_snapshot *s, int depth)
{
    char p[1400];
    snprintf(p, sizeof p, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(p);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, ".."))
            continue;
        char r2[1400];
        snprintf(r2, sizeof r2, "%s%s%s", rel, *rel ? "/" : "", nm);
        char full[2900];
        snprintf(full, sizeof full, "%s/%s", root, r2);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (depth == 0 && !strcmp(nm, "_tmp")) {
            DIR *t = opendir(full);
            struct dirent *te;
            while (t && (te = readdir(t)))
                n += strcmp(te->d_name, ".") && strcmp(te->d_name, "..");
            if (t)
                closedir(t);
            continue;
        }
        if (depth == 0 && !strcmp(nm, "_delta_log")) {
            DIR *l = opendir(full);
            struct dirent *le;
            while (l && (le = readdir(l)))
                n += is_tmp_log_name(le->d_name) != 0;
            if (l)
                closedir(l);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            n += leftovers(root, r2, s, depth + 1);
        } else if (strlen(nm) > 4 && !strcmp(nm + strlen(nm) - 4, ".tls")) {
            int live = 0;
            for (size_t i = 0; i < tl_snapshot_n_files(s) && !live; i++) {
                tl_file_info fi;
                tl_snapshot_file(s, i, &fi);
                live = !strcmp(fi.path, r2);
            }
            n += !live;
        }
    }
    closedir(d);
    return n;
}

/* ---- the sweep ------------------------------------------------------------------------------------ */

typedef struct scenario {
    const char *name;
    void (*build)(const char *path); /* the template */
    int (*op)(tl_table *t, tl_error *err);
    int64_t ahead; /* the operation's clock runs this far ahead (ms) */
} scenario;

typedef struct figures {
    uint64_t points, cases, acked, old_outcome, new_outcome;
    uint64_t lost, torn, verify_failed, orphans_left, vacuum_failed, open_failed;
    char first[600];
} figures;

static void fail(figures *fg, const char *fmt, ...) TL_PRINTF(2, 3);
static void fail(figures *fg, const char *fmt, ...)
{
    if (fg->first[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fg->first, sizeof fg->first, fmt, ap);
    va_end(ap);
}

static unsigned env_seeds(void)
{
    const char *e = getenv("CRASH_SEEDS");
    long n = e ? strtol(e, NULL, 10) : 1;
    return n < 0 ? 0 : n > 100000 ? 100000 : (unsigned)n;
}

/* One case: a fresh copy of the template, the operation with the power cut
 * before call k (0: no cut), the crash with (tear, seed). Returns the
 * operation's code; *fired: the cut happened. */
static int run_case(const scenario *sc, uint64_t k, int tear, uint64_t seed, int *fired,
                    uint64_t *calls)
{
    sh("rm -rf '%s' && cp -a '%s' '%s'", tpath, tmpl, tpath);
    tl_error err;
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    int64_t ahead = sc->ahead;
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), ahead_ms, &ahead, &t, &err), TL_OK,
                 "%s", err.msg);
    tl_io_fault_reset_counts(f); /* the operation's calls only */
    if (k) {
        tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k, .action = TL_IO_FAULT_CUT};
        cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK, "%s", err.msg);
    }
    int rc = sc->op(t, &err);
    tl_table_close(t);
    if (calls)
        *calls = tl_io_fault_count(f, TL_IO_OP_ANY);
    *fired = tl_io_fault_is_cut(f);
    if (*fired || tear) {
        tl_io_crash_opts co = {.tear = tear, .seed = seed};
        cr_assert_eq(tl_io_fault_crash(f, &co, &err), TL_OK, "%s", err.msg);
    }
    tl_io_fault_close(f);
    return rc;
}

static void check_case(const scenario *sc, const state *before, const state *after,
                       const int *skip, int rc, uint64_t k, uint64_t seed, figures *fg)
{
    tl_error err;
    tl_table *t;
    fg->cases++;
    if (tl_table_open(tpath, &t, &err) != TL_OK) {
        fg->open_failed++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": open: %s", sc->name, k, seed, err.msg);
        return;
    }
    int64_t oldest = -1, latest = -1;
    if (tl_table_versions(t, &oldest, &latest, &err) != TL_OK) {
        fg->open_failed++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": versions: %s", sc->name, k, seed, err.msg);
        tl_table_close(t);
        return;
    }
    if (rc == TL_OK)
        fg->acked++;
    int is_new = latest == after->latest && after->latest != before->latest;
    fg->new_outcome += is_new;
    fg->old_outcome += !is_new;
    if ((latest != before->latest && latest != after->latest) ||
        (rc == TL_OK && latest != after->latest)) {
        fg->lost++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": latest %" PRId64 " (before %" PRId64
             ", after %" PRId64 ", acknowledged %d)",
             sc->name, k, seed, latest, before->latest, after->latest, rc == TL_OK);
    }
    int64_t max_oldest = after->oldest > before->oldest ? after->oldest : before->oldest;
    if (oldest < before->oldest && oldest < after->oldest) {
        /* older versions came back: fine only if they read right (below) */
    }
    if (oldest > max_oldest) {
        fg->lost++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": oldest reachable %" PRId64 " > %" PRId64,
             sc->name, k, seed, oldest, max_oldest);
    }
    for (int64_t v = oldest; v <= latest && v < MAXV; v++) {
        if (skip[v])
            continue;
        const state *ref = v <= before->latest && before->have[v] ? before : after;
        if (!ref->have[v])
            continue; /* not readable in either reference (cleaned below) */
        uint64_t h = 0, n = 0;
        int vr = version_hash(t, v, &h, &n, &err);
        if (vr != TL_OK || h != ref->hash[v] || n != ref->rows[v]) {
            if (v > before->latest)
                fg->torn++;
            else
                fg->lost++;
            fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": version %" PRId64 ": %s (rows %" PRIu64
                 " want %" PRIu64 ")",
                 sc->name, k, seed, v, vr ? err.msg : "rows differ", n, ref->rows[v]);
        }
    }
    tl_verify_report vrep;
    if (tl_table_verify(t, NULL, &vrep, &err) != TL_OK) {
        fg->verify_failed++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": verify: %s", sc->name, k, seed, err.msg);
    }
    tl_verify_report_free(&vrep);
    tl_table_close(t);

    /* vacuum clears what the crash left */
    int64_t ahead = 3600000;
    cr_assert_eq(tl_table_open_io(tpath, NULL, ahead_ms, &ahead, &t, &err), TL_OK, "%s", err.msg);
    tl_table_vacuum_report rep;
    if (tl_table_vacuum(t, &(tl_table_vacuum_opts){.retain_hours = 0, .force = 1}, &rep, &err) !=
        TL_OK) {
        fg->vacuum_failed++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": vacuum: %s", sc->name, k, seed, err.msg);
    } else {
        tl_table_vacuum_report_free(&rep);
    }
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    size_t left = leftovers(tpath, "", s, 0);
    tl_snapshot_close(s);
    if (left) {
        fg->orphans_left += left;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": %zu leftovers after vacuum", sc->name, k,
             seed, left);
    }
    uint64_t h = 0, n = 0;
    const state *ref = latest == after->latest ? after : before;
    if (version_hash(t, latest, &h, &n, &err) != TL_OK || h != ref->hash[latest]) {
        fg->lost++;
        fail(fg, "%s k=%" PRIu64 " seed=%" PRIu64 ": latest after vacuum: %s", sc->name, k, seed,
             err.msg);
    }
    tl_table_close(t);
}

static void crash_sweep(const scenario *sc)
{
    sc->build(tmpl);
    state before, after;
    state_of(tmpl, &before);
    /* the reference: the operation run to the end (through the injector,
     * counting its calls) */
    int fired;
    uint64_t calls = 0;
    tl_error err;
    int rc = run_case(sc, 0, 0, 0, &fired, &calls);
    cr_assert_eq(rc, TL_OK, "%s: the reference run failed", sc->name);
    state_of(tpath, &after);
    cr_assert_gt(calls, 3);
    /* versions a complete run makes unreadable on purpose (vacuumed
     * tombstones): not compared */
    int skip[MAXV] = {0};
    for (int64_t v = before.oldest; v <= before.latest; v++)
        if (v >= after.oldest && before.have[v] && !after.have[v])
            skip[v] = 1;
    (void)err;
    unsigned n_seeds = env_seeds();
    figures fg = {0};
    for (uint64_t k = 1; k <= calls; k++) {
        fg.points++;
        for (unsigned s = 0; s <= n_seeds; s++) {
            uint64_t seed = s == 0 ? 0 : k * 7919u + s;
            rc = run_case(sc, k, s != 0, seed, &fired, NULL);
            cr_assert(fired, "%s: the cut at call %" PRIu64 " of %" PRIu64 " never came", sc->name,
                      k, calls);
            check_case(sc, &before, &after, skip, rc, k, seed, &fg);
        }
    }
    fprintf(stderr,
            "crash sweep %s: %" PRIu64 " crash points x %u seeds (drop-all + %u torn) = %" PRIu64
            " cases; outcomes old %" PRIu64 " / new %" PRIu64 ", acknowledged %" PRIu64
            "; versions lost %" PRIu64 ", torn commits %" PRIu64 ", verify failures %" PRIu64
            ", open failures %" PRIu64 ", vacuum failures %" PRIu64
            ", leftovers after vacuum %" PRIu64 "\n",
            sc->name, fg.points, n_seeds + 1, n_seeds, fg.cases, fg.old_outcome, fg.new_outcome,
            fg.acked, fg.lost, fg.torn, fg.verify_failed, fg.open_failed, fg.vacuum_failed,
            fg.orphans_left);
    cr_assert_eq(fg.lost + fg.torn + fg.verify_failed + fg.open_failed + fg.vacuum_failed +
                     fg.orphans_left,
                 0, "%s", fg.first);
}

/* templates */

static void build_append(const char *path)
{
    build_base(path, 2);
}

static void build_optimize(const char *path)
{
    build_base(path, 3);
}

static void build_checkpoint(const char *path)
{
    build_base(path, 3);
}

/* A checkpoint of the latest version already there (written while it was
 * too young for cleanup): the operation is log cleanup alone. */
static void build_cleanup(const char *path)
{
    build_base(path, 3);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_checkpoint_result r;
    cr_assert_eq(tl_table_checkpoint(t, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.commits_deleted, 0);
    tl_table_close(t);
}

/* Tombstones (optimize), an orphan, a temporary commit, a stale scratch
 * directory. */
static void build_vacuum(const char *path)
{
    build_base(path, 2);
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    tl_optimize_result r;
    cr_assert_eq(tl_table_optimize(t, NULL, &r, &err), TL_OK, "%s", err.msg);
    cr_assert(r.committed);
    tl_optimize_result_free(&r);
    tl_table_close(t);
    add_leftovers(path);
}

#define AHEAD_DAYS(d) ((int64_t)(d) * 86400000)

Test(crash, append_at_every_call_and_seed, .timeout = 900)
{
    crash_sweep(&(scenario){"append", build_append, op_append, 0});
}

Test(crash, optimize_with_spilled_runs_at_every_call_and_seed, .timeout = 900)
{
    crash_sweep(&(scenario){"optimize", build_optimize, op_optimize, 0});
}

Test(crash, repartition_with_spilled_runs_at_every_call_and_seed, .timeout = 900)
{
    crash_sweep(&(scenario){"repartition", build_optimize, op_repartition, 0});
}

Test(crash, checkpoint_and_log_cleanup_at_every_call_and_seed, .timeout = 900)
{
    /* two days on: every commit below the new checkpoint is old enough */
    crash_sweep(&(scenario){"checkpoint+cleanup", build_checkpoint, op_checkpoint, AHEAD_DAYS(2)});
}

Test(crash, log_cleanup_at_every_call_and_seed, .timeout = 900)
{
    crash_sweep(&(scenario){"log cleanup", build_cleanup, op_checkpoint, AHEAD_DAYS(2)});
}

Test(crash, vacuum_at_every_call_and_seed, .timeout = 900)
{
    crash_sweep(&(scenario){"vacuum", build_vacuum, op_vacuum, 3600000});
}

/* ---- the model: close never syncs (PL3) ------------------------------------------------------- */

Test(crash, closing_a_file_does_not_make_its_bytes_durable)
{
    sh("mkdir -p '%s'", tpath);
    tl_error err;
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK, "%s", err.msg);
    const tl_io *io = tl_io_fault_io(f);
    tl_io_file root;
    cr_assert_eq(tl_io_open(io, NULL, tpath, O_RDONLY | O_DIRECTORY, 0, &root, &err), TL_OK);
    /* a: written, closed, never fsynced; b: fsynced before close */
    const char *names[2] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        tl_io_file fl;
        cr_assert_eq(tl_io_open(io, &root, names[i], O_WRONLY | O_CREAT | O_EXCL, 0644, &fl, &err),
                     TL_OK, "%s", err.msg);
        cr_assert_eq(tl_io_write_all(&fl, "0123456789", 10, &err), TL_OK);
        if (i == 1)
            cr_assert_eq(tl_io_fsync(&fl, &err), TL_OK);
        cr_assert_eq(tl_io_close(&fl, &err), TL_OK);
    }
    /* both entries durable */
    cr_assert_eq(tl_io_fsync(&root, &err), TL_OK);
    (void)tl_io_close(&root, NULL);
    cr_assert_eq(tl_io_fault_crash(f, NULL, &err), TL_OK, "%s", err.msg);
    tl_io_fault_close(f);
    char p[400];
    struct stat st;
    snprintf(p, sizeof p, "%s/a", tpath);
    cr_assert_eq(stat(p, &st), 0, "the entry survives (the directory was fsynced)");
    cr_assert_eq(st.st_size, 0, "closing a did not make its 10 bytes durable: %lld left",
                 (long long)st.st_size);
    snprintf(p, sizeof p, "%s/b", tpath);
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_size, 10, "b was fsynced");
}

Test(crash, an_entry_needs_its_directory_fsynced)
{
    sh("mkdir -p '%s'", tpath);
    tl_error err;
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK, "%s", err.msg);
    const tl_io *io = tl_io_fault_io(f);
    tl_io_file root, fl;
    cr_assert_eq(tl_io_open(io, NULL, tpath, O_RDONLY | O_DIRECTORY, 0, &root, &err), TL_OK);
    cr_assert_eq(tl_io_open(io, &root, "c", O_WRONLY | O_CREAT | O_EXCL, 0644, &fl, &err), TL_OK);
    cr_assert_eq(tl_io_write_all(&fl, "x", 1, &err), TL_OK);
    cr_assert_eq(tl_io_fsync(&fl, &err), TL_OK);
    cr_assert_eq(tl_io_close(&fl, &err), TL_OK);
    (void)tl_io_close(&root, NULL);
    cr_assert_eq(tl_io_fault_crash(f, NULL, &err), TL_OK, "%s", err.msg);
    tl_io_fault_close(f);
    char p[400];
    snprintf(p, sizeof p, "%s/c", tpath);
    cr_assert_neq(access(p, F_OK), 0, "c's entry was never made durable");
}

/* ---- LOG-C10: a failed fsync stops the handle --------------------------------------------------- */

typedef struct fsync_case {
    const char *what;
    int op;                 /* TL_IO_OP_FSYNC / FDATASYNC / FSYNC_DIR */
    const char *path_part;  /* rule filter; NULL: any */
    int (*run)(tl_table *t, tl_error *err);
    int pre_checkpoint;     /* checkpoint first (so run's checkpoint is cleanup only) */
} fsync_case;

static int op_tag(tl_table *t, tl_error *err)
{
    tl_tag_info ti;
    return tl_table_tag(t, "release", NULL, 0, &ti, NULL, err);
}

static int op_set_config(tl_table *t, tl_error *err)
{
    int64_t v;
    return tl_table_set_config(t, "ticklake.hotColumns", "price", &v, err);
}

static void fatal_fsync(const fsync_case *fc)
{
    sh("rm -rf '%s'", tpath);
    build_base(tpath, 2);
    /* an orphan, a temporary commit and a scratch directory for vacuum */
    add_leftovers(tpath);
    tl_error err;
    if (fc->pre_checkpoint) {
        tl_table *t0;
        cr_assert_eq(tl_table_open(tpath, &t0, &err), TL_OK);
        cr_assert_eq(op_checkpoint(t0, &err), TL_OK, "%s", err.msg);
        tl_table_close(t0);
    }
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(tpath, &f, NULL), TL_OK);
    tl_io_fault_rule rule = {.op = fc->op, .nth = 1, .action = TL_IO_FAULT_FAIL, .err_no = EIO,
                             .path_contains = fc->path_part};
    cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
    tl_table *t;
    int64_t ahead = AHEAD_DAYS(2);
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), ahead_ms, &ahead, &t, &err), TL_OK);
    int64_t v0;
    cr_assert_eq(tl_table_versions(t, NULL, &v0, &err), TL_OK);
    int rc = fc->run(t, &err);
    cr_assert_eq(rc, TL_EIO, "%s: the failed %s is reported (got %d: %s)", fc->what,
                 tl_io_op_name(fc->op), rc, err.msg);
    cr_assert_eq(tl_io_fault_count(f, fc->op) >= 1, 1);
    char first[TL_ERROR_MSG_LEN];
    snprintf(first, sizeof first, "%s", err.msg);
    cr_assert(strstr(err.msg, fc->op == TL_IO_OP_FDATASYNC ? "fdatasync(" : "fsync("), "%s: %s",
              fc->what, err.msg);
    /* every later write through the handle fails, naming the first failure,
     * and changes nothing (no I/O call that writes reaches the injector) */
    uint64_t writes = tl_io_fault_count(f, TL_IO_OP_WRITE) + tl_io_fault_count(f, TL_IO_OP_PWRITE) +
                      tl_io_fault_count(f, TL_IO_OP_RENAME) + tl_io_fault_count(f, TL_IO_OP_UNLINK) +
                      tl_io_fault_count(f, TL_IO_OP_FSYNC) + tl_io_fault_count(f, TL_IO_OP_MKDIR);
    int (*later[])(tl_table *, tl_error *) = {op_append, op_optimize, op_checkpoint, op_vacuum,
                                              op_tag, op_set_config};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        tl_error e2;
        cr_assert_eq(later[i](t, &e2), TL_EIO, "%s: later write %zu goes on", fc->what, i);
        cr_assert(strstr(e2.msg, "stopped after a failed fsync"), "%s: %s", fc->what, e2.msg);
        cr_assert(strstr(e2.msg, "Input/output error"), "names the first failure: %s", e2.msg);
    }
    uint64_t writes2 = tl_io_fault_count(f, TL_IO_OP_WRITE) +
                       tl_io_fault_count(f, TL_IO_OP_PWRITE) + tl_io_fault_count(f, TL_IO_OP_RENAME) +
                       tl_io_fault_count(f, TL_IO_OP_UNLINK) + tl_io_fault_count(f, TL_IO_OP_FSYNC) +
                       tl_io_fault_count(f, TL_IO_OP_MKDIR);
    cr_assert_eq(writes2, writes, "%s: a stopped handle reached the file system", fc->what);
    /* reads still work */
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_close(s);
    tl_table_close(t);
    tl_io_fault_close(f);
    /* a new handle writes again */
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    cr_assert_eq(op_append(t, &err), TL_OK, "%s: %s", fc->what, err.msg);
    tl_table_close(t);
    (void)first;
}

Test(crash, failed_fsync_of_a_data_file_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"append data file", TL_IO_OP_FSYNC, ".tls", op_append, 0});
}

Test(crash, failed_fsync_of_a_partition_directory_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"append directory", TL_IO_OP_FSYNC_DIR, "symbol=", op_append, 0});
}

Test(crash, failed_fsync_of_the_commit_tmp_file_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"commit tmp", TL_IO_OP_FSYNC, ".json.tmp", op_append, 0});
}

Test(crash, failed_fsync_of_the_log_directory_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"log directory", TL_IO_OP_FSYNC_DIR, "_delta_log", op_append, 0});
}

Test(crash, failed_fsync_during_optimize_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"optimize", TL_IO_OP_FSYNC, NULL, op_optimize, 0});
}

Test(crash, failed_fsync_of_a_checkpoint_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"checkpoint", TL_IO_OP_FSYNC, NULL, op_checkpoint, 0});
}

Test(crash, failed_directory_fsync_of_log_cleanup_stops_the_handle)
{
    /* the checkpoint exists already: the first fsync of _delta_log is the
     * cleanup's, after deleting commits */
    fatal_fsync(
        &(fsync_case){"log cleanup", TL_IO_OP_FSYNC_DIR, "_delta_log", op_checkpoint, 1});
}

Test(crash, failed_directory_fsync_of_vacuum_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"vacuum", TL_IO_OP_FSYNC_DIR, NULL, op_vacuum, 0});
}

Test(crash, failed_fsync_of_a_tag_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"tag", TL_IO_OP_FSYNC, "_tags", op_tag, 0});
}

Test(crash, failed_fsync_of_a_configuration_commit_stops_the_handle)
{
    fatal_fsync(&(fsync_case){"set configuration", TL_IO_OP_FSYNC, ".json.tmp", op_set_config, 0});
}

/* ---- the io_uring path reaches the injector -------------------------------------------------------- */

typedef struct scan_ctx {
    uint64_t rows;
} scan_ctx;

static int count_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    (void)err;
    ((scan_ctx *)ctx)->rows += b->n_rows;
    return 0;
}

Test(crash, failed_io_uring_read_is_a_scan_error_naming_file_and_offset)
{
    build_base(tpath, 1);
    tl_error err;
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK);
    tl_table *t;
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    scan_ctx sc = {0};
    tl_scan_cb cb = {.block = count_block, .ctx = &sc};
    tl_scan_stats st;
    tl_scan_opts so = {.io = TL_IO_URING, .threads = 1};
    cr_assert_eq(tl_scan_run(s, &so, &cb, &st, &err), TL_OK, "%s", err.msg);
    uint64_t want = sc.rows;
    int ring = !st.io_fallback;
    cr_assert_eq(tl_io_fault_count(f, TL_IO_OP_RING_READ) > 0, ring,
                 "ring reads counted iff the ring was used (%s)", st.io_note);
    /* the 1st, then the 3rd read request fails with EIO */
    for (uint64_t nth = 1; nth <= 3; nth += 2) {
        tl_io_fault_clear_rules(f);
        tl_io_fault_rule rule = {.op = ring ? TL_IO_OP_RING_READ : TL_IO_OP_PREAD, .nth = nth,
                                 .action = TL_IO_FAULT_FAIL, .err_no = EIO};
        cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
        sc.rows = 0;
        int rc = tl_scan_run(s, &so, &cb, &st, &err);
        cr_assert_eq(rc, TL_EIO, "nth %" PRIu64 ": %d %s", nth, rc, err.msg);
        cr_assert(strstr(err.msg, ".tls") && strstr(err.msg, "offset") &&
                      strstr(err.msg, "Input/output error"),
                  "names file and offset: %s", err.msg);
    }
    tl_io_fault_clear_rules(f);
    sc.rows = 0;
    cr_assert_eq(tl_scan_run(s, &so, &cb, &st, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(sc.rows, want);
    if (!ring)
        cr_log_warn("io_uring unavailable (%s): the PREAD path was checked instead", st.io_note);
    tl_snapshot_close(s);
    tl_table_close(t);
    tl_io_fault_close(f);
}

/* ---- the standalone segment writer goes through tl_io ------------------------------------------ */

Test(crash, segment_writer_calls_reach_the_injector)
{
    sh("mkdir -p '%s'", tpath);
    uint32_t nc;
    const tl_coldef *defs = tl_ticks_schema(&nc);
    tl_gen_opts go;
    tl_gen_opts_default(&go);
    go.rows_per_day = 200;
    char p[400];
    snprintf(p, sizeof p, "%s/seg.tls", tpath);
    /* count the calls of a clean run, then fail each fsync / fsync_dir */
    for (int pass = 0; pass < 3; pass++) {
        tl_error err;
        tl_io_fault *f;
        cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK);
        int op = pass == 1 ? TL_IO_OP_FSYNC : TL_IO_OP_FSYNC_DIR;
        if (pass) {
            tl_io_fault_rule rule = {.op = op, .nth = 1, .action = TL_IO_FAULT_FAIL,
                                     .err_no = ENOSPC};
            cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
        }
        tl_segment_writer *w;
        cr_assert_eq(tl_segment_writer_open_io(p, defs, nc, NULL, tl_io_fault_io(f), &w, &err),
                     TL_OK, "%s", err.msg);
        tl_gen *g;
        cr_assert_eq(tl_gen_open(&go, &g, &err), TL_OK);
        tl_batch b;
        int done;
        while (tl_gen_next(g, 1000, &b, &done, &err) == TL_OK && !done)
            cr_assert_eq(tl_segment_writer_append(w, &b, &err), TL_OK, "%s", err.msg);
        tl_gen_close(g);
        int rc = tl_segment_writer_finish(w, NULL, NULL, &err);
        cr_assert_gt(tl_io_fault_count(f, TL_IO_OP_OPEN), 0);
        cr_assert_gt(tl_io_fault_count(f, TL_IO_OP_WRITE), 0);
        cr_assert_gt(tl_io_fault_count(f, TL_IO_OP_FSYNC), 0);
        if (pass != 1)
            cr_assert_gt(tl_io_fault_count(f, TL_IO_OP_FSYNC_DIR), 0, "the entry is made durable");
        if (pass == 0) {
            cr_assert_eq(rc, TL_OK, "%s", err.msg);
            cr_assert_eq(unlink(p), 0);
        } else {
            cr_assert_eq(rc, TL_EIO, "pass %d", pass);
            cr_assert_eq(err.sys_errno, ENOSPC);
            cr_assert(strstr(err.msg, "seg.tls") || strstr(err.msg, tpath), "%s", err.msg);
            cr_assert_neq(access(p, F_OK), 0, "a failed writer leaves no file");
        }
        tl_io_fault_close(f);
    }
}

/* ---- regression: log cleanup removing version 0 left a table that would not open ---------------- */

Test(crash, a_table_whose_version_0_was_cleaned_up_opens)
{
    build_base(tpath, 3);
    tl_error err;
    tl_table *t;
    int64_t ahead = AHEAD_DAYS(2);
    cr_assert_eq(tl_table_open_io(tpath, NULL, ahead_ms, &ahead, &t, &err), TL_OK);
    tl_checkpoint_result r;
    cr_assert_eq(tl_table_checkpoint(t, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.commits_deleted, 3, "commits 0..2 go");
    tl_table_close(t);
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000000.json", tpath);
    cr_assert_neq(access(p, F_OK), 0);
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    int64_t oldest, latest;
    cr_assert_eq(tl_table_versions(t, &oldest, &latest, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(oldest, 3);
    cr_assert_eq(latest, 3);
    cr_assert_eq(op_append(t, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    /* a directory without any commit or checkpoint is still not a table */
    sh("rm -f '%s'/_delta_log/*", tpath);
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "not a table"), "%s", err.msg);
}

/* ---- a listing that misses a commit created during it is not corruption ------------------------
 * (request CONC -> FAULT: readdir of _delta_log/ while writers publish can
 * miss version N yet show N+1; log.c stats the gap's names, LOG-C4) */

static const tl_io_ops *racy_inner;
static const char *racy_drop;

static int racy_listdir(void *ctx, int dirfd, const char *path, char ***names, size_t *n)
{
    int r = racy_inner->listdir(ctx, dirfd, path, names, n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*names)[i], racy_drop)) {
            (*names)[i] = (*names)[*n - 1]; /* the block stays one malloc */
            (*n)--;
            break;
        }
    return r;
}

Test(crash, a_listing_that_misses_a_commit_is_not_a_gap)
{
    build_base(tpath, 3);
    static tl_io_ops ops;
    racy_inner = tl_io_default()->ops;
    ops = *racy_inner;
    ops.listdir = racy_listdir;
    racy_drop = "00000000000000000002.json";
    tl_io racy = {&ops, NULL};
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open_io(tpath, &racy, NULL, NULL, &t, &err), TL_OK, "%s", err.msg);
    int64_t oldest, latest;
    cr_assert_eq(tl_table_versions(t, &oldest, &latest, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(oldest, 0);
    cr_assert_eq(latest, 3);
    uint64_t h, rows;
    cr_assert_eq(version_hash(t, 3, &h, &rows, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, 3 * 600);
    cr_assert_eq(version_hash(t, 2, &h, &rows, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(rows, 2 * 600);
    tl_table_close(t);
    /* a commit that really is gone stays corruption, named */
    char p[400];
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000002.json", tpath);
    cr_assert_eq(unlink(p), 0);
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(version_hash(t, 3, &h, &rows, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, "00000000000000000002.json"), "%s", err.msg);
    tl_table_close(t);
}
