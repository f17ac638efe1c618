/*
 * table_edge_test.c - the edges of table.c the other table tests leave
 * alone (issue 7, branch coverage of the commit area by tests that can
 * fail): table specs refused before anything is created, create and open
 * of odd paths, the append writer's partition index under many partitions
 * and a symbol-only layout, a batch refused part-way through its
 * partitions, null bitmaps that appear in one batch and not the next,
 * files cut at unaligned rows of an already sorted partition, string and
 * float statistics folded across blocks (equal, inexact and unbounded
 * zone-map bounds, -0.0 against +0.0), progress, I/O failures while
 * spilling and at commit (the append is poisoned, nothing is committed,
 * no data file stays behind), a handle stopped by a failed fsync, a
 * concurrent duplicate app version, dedup tables, set configuration edge
 * cases, CSV refusals, and dense allocation-failure sweeps over create,
 * append and set configuration (tests/support/oom.h).
 *
 * Every test checks the return code, that the message names the place
 * (table path, column, partition, file) and the why, and the table
 * afterwards: its latest version, its rows (as a multiset hash against
 * what was appended) and that no data file is left on disk that the log
 * does not reference.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "oom.h"

#include "io_int.h"
#include "log_int.h"
#include "table_int.h"
#include "tl_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

static char dir[256], tpath[300];

static void setup(void)
{
    tlt_tmpdir(dir, sizeof dir, "tl_tedge");
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(table_edge, .init = setup, .fini = teardown, .timeout = 600);

/* ---- small helpers ------------------------------------------------------------------------- */

/* Files named *.tls under p (recursive). */
static size_t count_tls(const char *p)
{
    DIR *d = opendir(p);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char c[1200];
        snprintf(c, sizeof c, "%s/%s", p, de->d_name);
        struct stat st;
        if (lstat(c, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_tls(c);
        else if (strlen(de->d_name) > 4 && !strcmp(de->d_name + strlen(de->d_name) - 4, ".tls"))
            n++;
    }
    closedir(d);
    return n;
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void write_text(const char *path, const char *bytes)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(bytes, f);
    cr_assert_eq(fclose(f), 0);
}

/* ---- rows as a multiset hash ---------------------------------------------------------------- */

typedef struct hset {
    uint64_t *h;
    size_t n, cap;
} hset;

static void hset_add(hset *s, const tl_batch *b)
{
    if (s->n + b->n_rows > s->cap) {
        s->cap = (s->n + b->n_rows) * 2;
        s->h = realloc(s->h, s->cap * sizeof *s->h);
        cr_assert_not_null(s->h);
    }
    for (uint32_t i = 0; i < b->n_rows; i++)
        s->h[s->n++] = tlt_row_hash(b, i);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static uint64_t hset_digest(hset *s)
{
    if (s->n)
        qsort(s->h, s->n, sizeof *s->h, cmp_u64);
    return XXH64(s->h, s->n * sizeof *s->h, 7);
}

static void hset_free(hset *s)
{
    free(s->h);
    memset(s, 0, sizeof *s);
}

typedef struct tstate {
    int64_t latest;
    uint64_t rows, digest;
    size_t n_files; /* live data files */
    size_t n_disk;  /* data files the log knows: live + removed, not yet vacuumed */
} tstate;

/* The table at path through a fresh handle: latest version, rows, files.
 * Also checks that every data file on disk is live (no leftovers), unless
 * orphans_ok (files a failed commit may leave for vacuum, LOG-C6). */
static tstate table_state_of(const char *path, int orphans_ok)
{
    tstate s = {0};
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_versions(t, NULL, &s.latest, &err), TL_OK, "%s", err.msg);
    tl_snapshot *sn;
    cr_assert_eq(tl_snapshot_open(t, NULL, &sn, &err), TL_OK, "%s", err.msg);
    s.n_files = tl_snapshot_n_files(sn);
    tl_log_snapshot ls;
    tl_log_snap_opts so = {.at = TL_LOG_AT_LATEST};
    cr_assert_eq(tl_log_snapshot_load(&t->root, &so, &ls, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_log_snapshot_n_live(&ls), s.n_files);
    s.n_disk = s.n_files + tl_log_snapshot_n_tombstones(&ls);
    tl_log_snapshot_free(&ls);
    tl_reader *r;
    cr_assert_eq(tl_reader_open(sn, NULL, NULL, 0, &r, &err), TL_OK, "%s", err.msg);
    hset h = {0};
    for (;;) {
        tl_batch b;
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        hset_add(&h, &b);
    }
    tl_reader_close(r);
    tl_snapshot_close(sn);
    tl_table_close(t);
    s.rows = h.n;
    s.digest = hset_digest(&h);
    hset_free(&h);
    if (!orphans_ok)
        cr_assert_eq(count_tls(path), s.n_disk, "%s: %zu data files on disk, %zu in the log",
                     path, count_tls(path), s.n_disk);
    return s;
}

static tstate table_state(const char *path)
{
    return table_state_of(path, 0);
}

static int64_t latest_of(const char *path)
{
    tl_error err;
    tl_table *t;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    int64_t v;
    cr_assert_eq(tl_table_versions(t, NULL, &v, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    return v;
}

/* ---- the usual test table: sym (string, nullable, partition), ts
 * (timestamp, day partition), px (float64, nullable), note (string,
 * nullable); sorted by ts ---------------------------------------------------------------------- */

static const tl_field tab_fields[] = {{"sym", TL_STRING, 1},
                                     {"ts", TL_TIMESTAMP, 0},
                                     {"px", TL_FLOAT64, 1},
                                     {"note", TL_STRING, 1}};
static const char *const tab_sort[] = {"ts"};

static void create_tab(const char *path, const char *symbol_col, const char *day_col)
{
    tl_table_spec spec = {.fields = tab_fields, .n_fields = 4, .symbol_column = symbol_col,
                          .day_column = day_col, .sort_key = tab_sort, .n_sort_key = 1};
    tl_error err;
    cr_assert_eq(tl_table_create(path, &spec, &err), TL_OK, "%s", err.msg);
}

#define DAY0 INT64_C(1763337600000000000) /* 2025-11-17 */
#define NSDAY INT64_C(86400000000000)

/* A batch of the test table under construction (owns its memory). */
typedef struct bb {
    uint32_t n, cap;
    uint32_t *soff, *noff;
    char *sdata, *ndata;
    size_t scap, ncap;
    uint8_t *svalid, *pvalid, *nvalid;
    int64_t *ts;
    double *px;
    int no_px_validity; /* the batch's px has no bitmap (all present) */
    tl_coldef defs[4];
    tl_colvec cols[4];
    tl_batch b;
} bb;

static void bb_init(bb *x, uint32_t cap)
{
    memset(x, 0, sizeof *x);
    x->cap = cap;
    x->soff = calloc(cap + 1, 4);
    x->noff = calloc(cap + 1, 4);
    x->scap = x->ncap = 64;
    x->sdata = malloc(x->scap);
    x->ndata = malloc(x->ncap);
    x->svalid = calloc(cap / 8 + 1, 1);
    x->pvalid = calloc(cap / 8 + 1, 1);
    x->nvalid = calloc(cap / 8 + 1, 1);
    x->ts = calloc(cap, 8);
    x->px = calloc(cap, 8);
    cr_assert(x->soff && x->noff && x->sdata && x->ndata && x->svalid && x->pvalid &&
              x->nvalid && x->ts && x->px);
}

static void str_put(char **data, size_t *cap, uint32_t *off, uint32_t i, const char *s,
                    size_t len)
{
    while (off[i] + len > *cap) {
        *cap *= 2;
        *data = realloc(*data, *cap);
        cr_assert_not_null(*data);
    }
    if (s)
        memcpy(*data + off[i], s, len);
    off[i + 1] = off[i] + (uint32_t)(s ? len : 0);
}

/* sym NULL: null; px_null: px null; note NULL: null. */
static void bb_add(bb *x, const char *sym, int64_t ts, int px_null, double px, const char *note)
{
    cr_assert_lt(x->n, x->cap);
    uint32_t i = x->n++;
    str_put(&x->sdata, &x->scap, x->soff, i, sym, sym ? strlen(sym) : 0);
    str_put(&x->ndata, &x->ncap, x->noff, i, note, note ? strlen(note) : 0);
    tl_bit_set(x->svalid, i, sym != NULL);
    tl_bit_set(x->nvalid, i, note != NULL);
    tl_bit_set(x->pvalid, i, !px_null);
    x->ts[i] = ts;
    x->px[i] = px_null ? 0 : px;
}

static const tl_batch *bb_batch(bb *x)
{
    for (int c = 0; c < 4; c++)
        x->defs[c] = (tl_coldef){tab_fields[c].name, tab_fields[c].type};
    x->cols[0] = (tl_colvec){NULL, x->svalid, x->soff, (const uint8_t *)x->sdata};
    x->cols[1] = (tl_colvec){x->ts, NULL, NULL, NULL};
    x->cols[2] = (tl_colvec){x->px, x->no_px_validity ? NULL : x->pvalid, NULL, NULL};
    x->cols[3] = (tl_colvec){NULL, x->nvalid, x->noff, (const uint8_t *)x->ndata};
    x->b = (tl_batch){x->n, 4, x->defs, x->cols};
    return &x->b;
}

static void bb_free(bb *x)
{
    free(x->soff);
    free(x->noff);
    free(x->sdata);
    free(x->ndata);
    free(x->svalid);
    free(x->pvalid);
    free(x->nvalid);
    free(x->ts);
    free(x->px);
    memset(x, 0, sizeof *x);
}

/* n rows over the symbols syms[0..ns) (NULL entries: null symbol) and days
 * days, some null px and notes. */
static void bb_fill(bb *x, uint32_t n, const char *const *syms, uint32_t ns, uint32_t days,
                    uint32_t seed)
{
    char note[32];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = i * 2654435761u + seed;
        snprintf(note, sizeof note, "n%u", r % 1000);
        bb_add(x, syms[r % ns], DAY0 + (int64_t)((r >> 3) % days) * NSDAY + (int64_t)(r % 9973),
               r % 5 == 0, (double)(r % 1000) * 0.25, r % 7 == 0 ? NULL : note);
    }
}

static tl_table *open_t(const char *path)
{
    tl_error err;
    tl_table *t = NULL;
    cr_assert_eq(tl_table_open(path, &t, &err), TL_OK, "%s", err.msg);
    return t;
}

static void set_conf(const char *path, const char *key, const char *val)
{
    tl_table *t = open_t(path);
    tl_error err;
    cr_assert_eq(tl_table_set_config(t, key, val, NULL, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
}

#define MSG_HAS(err, s) cr_assert(strstr((err).msg, (s)) != NULL, "'%s' not in: %s", (s), (err).msg)

/* ---- table specs ----------------------------------------------------------------------------- */

/* check_spec: each refusal names the column (or "(null)" for a missing
 * name), comes before anything is created, and a comma inside a hot
 * column's name is refused (the configuration lists them comma-separated)
 * even when the schema has such a column. */
Test(table_edge, bad_specs_are_refused_before_the_directory_is_made)
{
    static const tl_field two[] = {{"a", TL_INT64, 0}, {"b,c", TL_INT64, 1}};
    static const tl_field noname[] = {{"a", TL_INT64, 0}, {"", TL_INT64, 1}};
    static const tl_field nullname[] = {{NULL, TL_INT64, 0}, {"a", TL_INT64, 1}};
    static const char *const nullkey[] = {NULL};
    static const char *const comma[] = {"b,c"};
    static const char *const a_only[] = {"a"};
    struct {
        const char *why;
        tl_table_spec spec;
    } cases[] = {
        {"table spec: no columns", {.fields = NULL, .n_fields = 2}},
        {"table spec: no columns", {.fields = two, .n_fields = 0}},
        {"table spec: column 1 has no name", {.fields = noname, .n_fields = 2}},
        {"table spec: column 0 has no name", {.fields = nullname, .n_fields = 2}},
        {"sort key column '(null)' is not in the schema",
         {.fields = two, .n_fields = 2, .sort_key = NULL, .n_sort_key = 1}},
        {"sort key column '(null)' is not in the schema",
         {.fields = two, .n_fields = 2, .sort_key = nullkey, .n_sort_key = 1}},
        {"hot column '(null)' is not in the schema",
         {.fields = two, .n_fields = 2, .hot_columns = NULL, .n_hot = 1}},
        {"hot column '(null)' is not in the schema",
         {.fields = two, .n_fields = 2, .hot_columns = nullkey, .n_hot = 1}},
        {"hot column 'b,c' is not in the schema",
         {.fields = two, .n_fields = 2, .hot_columns = comma, .n_hot = 1}},
        {"deleted file retention hours -2",
         {.fields = two, .n_fields = 2, .deleted_file_retention_hours = -2}},
    };
    tl_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(tl_table_create(tpath, &cases[i].spec, &err), TL_EINVAL, "%s", cases[i].why);
        MSG_HAS(err, cases[i].why);
        MSG_HAS(err, tpath);
        cr_assert(!exists(tpath), "%s: the directory was made", cases[i].why);
    }
    /* the same schema with a plain hot column is a table */
    tl_table_spec ok = {.fields = two, .n_fields = 2, .hot_columns = a_only, .n_hot = 1,
                        .sort_key = a_only, .n_sort_key = 1};
    cr_assert_eq(tl_table_create(tpath, &ok, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(latest_of(tpath), 0);
}

/* The directory of a new table: a missing parent is an error naming the
 * path (nothing made); trailing slashes and a relative path work (the
 * parent fsynced is the right one); a path directly under "/" fsyncs "/". */
Test(table_edge, create_finds_the_parent_of_odd_paths)
{
    tl_table_spec spec = {.fields = tab_fields, .n_fields = 4};
    tl_error err;
    char p[600];
    snprintf(p, sizeof p, "%s/missing/t", dir);
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_ENOTFOUND);
    MSG_HAS(err, p);
    snprintf(p, sizeof p, "%s/missing", dir);
    cr_assert(!exists(p));

    snprintf(p, sizeof p, "%s/slashes//", dir);
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/slashes", dir);
    cr_assert_eq(latest_of(p), 0);

    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(tl_table_create("rel", &spec, &err), TL_OK, "%s", err.msg);
    snprintf(p, sizeof p, "%s/rel", dir);
    cr_assert_eq(latest_of(p), 0);

    /* "/name": a concurrent creator made the directory (mkdir says it
     * exists: not an error), "/" is fsynced, and the directory is gone
     * again when the table is opened: ENOTFOUND naming the path */
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(NULL, &f, &err), TL_OK, "%s", err.msg);
    tl_io_fault_rule r = {.op = TL_IO_OP_MKDIR, .nth = 1, .action = TL_IO_FAULT_FAIL,
                          .err_no = EEXIST};
    cr_assert_eq(tl_io_fault_add(f, &r, &err), TL_OK);
    char root_path[64];
    snprintf(root_path, sizeof root_path, "/tl_tedge_absent_%d", (int)getpid());
    cr_assert(!exists(root_path));
    cr_assert_eq(tl_table_create_io(root_path, &spec, tl_io_fault_io(f), NULL, NULL, &err),
                 TL_ENOTFOUND);
    MSG_HAS(err, root_path);
    cr_assert_eq(tl_io_fault_count(f, TL_IO_OP_FSYNC_DIR), 1, "the parent \"/\" is fsynced");
    cr_assert(!exists(root_path));
    tl_io_fault_close(f);
}

/* Open: an empty path, a regular file, a directory without a log, a log
 * whose version 0 is gone and whose listing fails (an I/O error, not "not
 * a table"); errors name the table, with or without an error struct. */
Test(table_edge, open_refuses_what_is_not_a_readable_table)
{
    tl_error err;
    tl_table *t = (tl_table *)1;
    cr_assert_eq(tl_table_open("", &t, &err), TL_EINVAL);
    cr_assert_null(t);
    MSG_HAS(err, "no path");
    t = (tl_table *)1;
    cr_assert_eq(tl_table_open(NULL, &t, &err), TL_EINVAL);
    cr_assert_null(t);
    MSG_HAS(err, "no path");
    cr_assert_eq(tl_table_open(dir, NULL, &err), TL_EINVAL);
    MSG_HAS(err, "no output handle");
    char p[600];
    snprintf(p, sizeof p, "%s/file", dir);
    write_text(p, "not a directory");
    cr_assert_eq(tl_table_open(p, &t, &err), TL_ENOTFOUND);
    MSG_HAS(err, p);
    MSG_HAS(err, "no such directory");
    cr_assert_eq(tl_table_open(p, &t, NULL), TL_ENOTFOUND);
    cr_assert_null(t);
    char longp[700];
    snprintf(longp, sizeof longp, "%s/%0300d", dir, 7); /* ENAMETOOLONG */
    cr_assert_eq(tl_table_open(longp, &t, &err), TL_ENOTFOUND);
    MSG_HAS(err, "no such directory");
    cr_assert_eq(tl_table_open(dir, &t, &err), TL_ENOTFOUND);
    MSG_HAS(err, dir);
    MSG_HAS(err, "not a table");

    /* a table whose version 0 commit is gone: listing the log decides */
    create_tab(tpath, "sym", "ts");
    set_conf(tpath, TL_LOG_CONF_CHECKPOINT_INTERVAL, "50");
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000000.json", tpath);
    cr_assert_eq(unlink(p), 0);
    int fds = tlt_count_fds();
    tl_io_fault *f;
    cr_assert_eq(tl_io_fault_open(NULL, &f, &err), TL_OK, "%s", err.msg);
    tl_io_fault_rule r = {.op = TL_IO_OP_LIST, .nth = 1, .action = TL_IO_FAULT_FAIL_FROM,
                          .err_no = EIO};
    cr_assert_eq(tl_io_fault_add(f, &r, &err), TL_OK);
    int rc = tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err);
    cr_assert_eq(rc, TL_EIO, "%d: %s", rc, err.msg);
    cr_assert_null(t);
    MSG_HAS(err, tpath);
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, NULL), TL_EIO);
    cr_assert_null(t);
    tl_io_fault_close(f);
    cr_assert_eq(tlt_count_fds(), fds, "descriptor leaked");
    /* without the fault: not a table (no version 0, no checkpoint) */
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_ENOTFOUND);
    MSG_HAS(err, "no checkpoint to start from");
}

/* ---- small internals ------------------------------------------------------------------------- */

Test(table_edge, small_helpers_accept_null_and_bad_configuration)
{
    cr_assert_null(tl_table_path(NULL));
    tl_ticks_table_spec(NULL); /* no crash */
    tl_dfstats_free(NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t now = tl_table_now_ms(NULL);
    cr_assert(now >= wall && now - wall < 60000, "%" PRId64 " vs %" PRId64, now, wall);

    /* LOG-R83 margin: a malformed or negative retention counts as the
     * default (168 h -> 167 h), 0 disables the limit, below 2 h half */
    struct {
        const char *val;
        int64_t want;
    } cases[] = {{"abc", 167 * INT64_C(3600000)}, {"-3", 167 * INT64_C(3600000)},
                 {"0", -1},                       {"1", 1800000},
                 {"5", 4 * INT64_C(3600000)}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_log_kv kv = {TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, cases[i].val};
        tl_log_metadata m = {.config = {&kv, 1}};
        cr_assert_eq(tl_table_orphan_age_ms(&m), cases[i].want, "%s", cases[i].val);
    }
}

/* The partition directory of every partition shape (LOG.md 2.1, PP-5),
 * and a buffer below TL_TABLE_PART_DIR_MAX refused. */
Test(table_edge, partition_directories_of_every_shape)
{
    tl_log_metadata both = {.part_symbol_col = "sym", .part_day_col = "ts"};
    tl_log_metadata sym_only = {.part_symbol_col = "sym"};
    tl_log_metadata day_only = {.part_day_col = "ts"};
    tl_log_metadata none = {0};
    char d[TL_TABLE_PART_DIR_MAX];
    tl_error err;
    tl_log_pvals pv = {.symbol = "A B", .date = 20409};
    cr_assert_eq(tl_table_part_dir(&both, &pv, d, 10, &err), TL_EINVAL);
    MSG_HAS(err, "buffer too small");
    cr_assert_eq(tl_table_part_dir(&both, &pv, d, sizeof d, &err), TL_OK, "%s", err.msg);
    cr_assert_str_eq(d, "symbol=A%20B/date=2025-11-17");
    cr_assert_eq(tl_table_part_dir(&sym_only, &pv, d, sizeof d, &err), TL_OK);
    cr_assert_str_eq(d, "symbol=A%20B");
    pv.symbol_null = 1;
    pv.date_null = 1;
    cr_assert_eq(tl_table_part_dir(&both, &pv, d, sizeof d, &err), TL_OK);
    cr_assert_str_eq(d, "symbol=~null/date=~null");
    cr_assert_eq(tl_table_part_dir(&day_only, &pv, d, sizeof d, &err), TL_OK);
    cr_assert_str_eq(d, "date=~null");
    cr_assert_eq(tl_table_part_dir(&none, &pv, d, sizeof d, &err), TL_OK);
    cr_assert_str_eq(d, "");

    /* writer columns: hot from the configuration and the sort key; a sort
     * key naming no column marks nothing */
    tl_log_field fl[3] = {{"a", TL_INT64, 0}, {"b", TL_STRING, 1}, {"c", TL_FLOAT64, 1}};
    const char *key[2] = {"zz", "c"};
    tl_log_kv kv = {TL_CONF_HOT_COLUMNS, "b,nope"};
    tl_log_metadata m = {.fields = fl, .n_fields = 3, .sort_key = {key, 2}, .config = {&kv, 1}};
    tl_coldef defs[3];
    tlf_col_opts co[3];
    tl_table_writer_cols(&m, defs, co);
    cr_assert_str_eq(defs[1].name, "b");
    cr_assert_eq(defs[1].type, TL_STRING);
    cr_assert_eq(co[0].hot, 0);
    cr_assert_eq(co[1].hot, 1);
    cr_assert_eq(co[2].hot, 1);
}

/* tl_datafile_read_back: a file too short for a trailer, and a footer
 * whose row or column count disagrees with what the writer wrote, are
 * TL_ECORRUPT naming the file; the right counts give the statistics. */
Test(table_edge, read_back_refuses_a_footer_that_disagrees)
{
    char p[600];
    snprintf(p, sizeof p, "%s/seg.tls", dir);
    tl_coldef defs[2] = {{"ts", TL_TIMESTAMP}, {"v", TL_INT32}};
    tl_segment_writer *w;
    tl_error err;
    cr_assert_eq(tl_segment_writer_open(p, defs, 2, NULL, &w, &err), TL_OK, "%s", err.msg);
    int64_t ts[3] = {DAY0 + 3, DAY0 + 1, DAY0 + 2};
    int32_t v[3] = {-5, 7, 1};
    tl_colvec cols[2] = {{ts, NULL, NULL, NULL}, {v, NULL, NULL, NULL}};
    tl_batch b = {3, 2, defs, cols};
    cr_assert_eq(tl_segment_writer_append(w, &b, &err), TL_OK, "%s", err.msg);
    uint64_t rows, bytes;
    cr_assert_eq(tl_segment_writer_finish(w, &rows, &bytes, &err), TL_OK, "%s", err.msg);
    tl_io_file fd = TL_IO_FILE_INIT;
    cr_assert_eq(tl_io_open(NULL, NULL, p, O_RDONLY, 0, &fd, &err), TL_OK, "%s", err.msg);
    uint8_t *foot = NULL;
    size_t cap = 0;
    tl_dfstats st = {0};
    cr_assert_eq(tl_datafile_read_back(defs, 2, 0, &fd, p, 10, 3, &foot, &cap, &st, &err),
                 TL_ECORRUPT);
    MSG_HAS(err, p);
    MSG_HAS(err, "10 bytes written, no trailer");
    cr_assert_eq(tl_datafile_read_back(defs, 2, 0, &fd, p, (int64_t)bytes, 4, &foot, &cap, &st,
                                       &err),
                 TL_ECORRUPT);
    MSG_HAS(err, p);
    MSG_HAS(err, "footer says 3 rows, 2 columns; 4 rows, 2 columns were written");
    cr_assert_eq(tl_datafile_read_back(defs, 1, 0, &fd, p, (int64_t)bytes, 3, &foot, &cap, &st,
                                       &err),
                 TL_ECORRUPT);
    MSG_HAS(err, "3 rows, 1 columns were written");
    cr_assert_null(st.cs);
    /* no time column (-1, or an index past the columns): no time range */
    for (int day_col = -1; day_col <= 5; day_col += 6) {
        cr_assert_eq(tl_datafile_read_back(defs, 2, day_col, &fd, p, (int64_t)bytes, 3, &foot,
                                           &cap, &st, &err),
                     TL_OK, "%s", err.msg);
        cr_assert_eq(st.has_time_range, 0);
        cr_assert_eq(st.cs[0].min.i, DAY0 + 1);
        tl_dfstats_free(&st);
    }
    cr_assert_eq(tl_datafile_read_back(defs, 2, 0, &fd, p, (int64_t)bytes, 3, &foot, &cap, &st,
                                       &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(st.has_time_range, 1);
    cr_assert_eq(st.first_ts, DAY0 + 1);
    cr_assert_eq(st.last_ts, DAY0 + 3);
    cr_assert_eq(st.cs[1].min.i, -5);
    cr_assert_eq(st.cs[1].max.i, 7);
    tl_dfstats_free(&st);
    cr_assert_null(st.cs);
    free(foot);
    cr_assert_eq(tl_io_close(&fd, &err), TL_OK);
}

/* ---- the append writer ------------------------------------------------------------------------ */

/* A symbol-only table (no day partition) with 150 partitions: the
 * partition index grows twice and probes past occupied slots; a second
 * batch in another order finds every partition again. */
Test(table_edge, many_symbol_only_partitions)
{
    create_tab(tpath, "sym", NULL);
    enum { NS = 150 };
    char names[NS][8];
    const char *syms[NS];
    for (int i = 0; i < NS; i++) {
        snprintf(names[i], sizeof names[i], "S%03d", i);
        syms[i] = names[i];
    }
    bb x, y;
    bb_init(&x, 3000);
    bb_init(&y, 3000);
    bb_fill(&x, 3000, syms, NS, 1, 1);
    bb_fill(&y, 3000, syms, NS, 1, 77);
    hset want = {0};
    hset_add(&want, bb_batch(&x));
    hset_add(&want, bb_batch(&y));
    tl_table *t = open_t(tpath);
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, &(tl_append_opts){.threads = 2}, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, bb_batch(&y), &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_partitions, NS);
    cr_assert_eq(r.n_files, NS);
    cr_assert_eq(r.n_rows, 6000);
    char p[600];
    snprintf(p, sizeof p, "%s/symbol=S042", tpath);
    cr_assert(exists(p), "%s", p);
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.latest, 1);
    cr_assert_eq(s.rows, 6000);
    cr_assert_eq(s.digest, hset_digest(&want));
    hset_free(&want);
    bb_free(&x);
    bb_free(&y);
}

/* A batch refused at row 2 for a bad symbol after rows 0 and 1 made their
 * partitions: nothing of it is taken, and those partitions (empty) get no
 * directory, no file, no fsync and no automatic optimize; the next batch
 * commits alone. */
Test(table_edge, a_batch_refused_part_way_leaves_no_partition_behind)
{
    create_tab(tpath, "sym", "ts");
    set_conf(tpath, TL_LOG_CONF_AUTO_OPTIMIZE_MIN_FILES, "2");
    bb bad, good;
    bb_init(&bad, 3);
    bb_add(&bad, "A", DAY0, 0, 1, "x");
    bb_add(&bad, "B", DAY0, 0, 2, "y");
    bb_add(&bad, "bad\xff", DAY0, 0, 3, "z");
    bb_init(&good, 2);
    bb_add(&good, "C", DAY0 + 5, 1, 0, NULL);
    bb_add(&good, "C", DAY0 + 4, 0, 9.5, "w");
    hset want = {0};
    hset_add(&want, bb_batch(&good));
    tl_table *t = open_t(tpath);
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, bb_batch(&bad), &err), TL_EINVAL);
    MSG_HAS(err, tpath);
    MSG_HAS(err, "column 'sym', row 2: a symbol must be valid UTF-8");
    cr_assert_eq(tl_append_batch(a, bb_batch(&good), &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_rows, 2);
    cr_assert_eq(r.n_partitions, 1);
    cr_assert_eq(r.n_files, 1);
    cr_assert_eq(r.auto_optimize_rc, TL_OK);
    cr_assert_eq(r.auto_optimize_version, -1, "one file: nothing to optimize");
    char p[600];
    snprintf(p, sizeof p, "%s/symbol=A", tpath);
    cr_assert(!exists(p), "an empty partition got a directory");
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.latest, 2);
    cr_assert_eq(s.rows, 2);
    cr_assert_eq(s.digest, hset_digest(&want));
    hset_free(&want);
    bb_free(&bad);
    bb_free(&good);
}

/* A partition that got a null bitmap for px in one batch keeps it when a
 * later batch without a bitmap adds rows to it and to a new partition:
 * the old nulls stay null, the new rows are present. */
Test(table_edge, a_bitmap_from_one_batch_survives_a_batch_without_one)
{
    create_tab(tpath, "sym", "ts");
    bb x, y;
    bb_init(&x, 4);
    bb_add(&x, "A", DAY0 + 1, 1, 0, "a1");
    bb_add(&x, "A", DAY0 + 2, 0, 2.5, "a2");
    bb_add(&x, "A", DAY0 + 3, 1, 0, NULL);
    bb_init(&y, 4);
    bb_add(&y, "B", DAY0 + 4, 0, 4, "b1");
    bb_add(&y, "A", DAY0 + 5, 0, 5, "a3");
    bb_add(&y, "B", DAY0 + 6, 0, 6, "b2");
    bb_add(&y, "A", DAY0 + 7, 0, 7, "a4");
    hset want = {0};
    hset_add(&want, bb_batch(&x));
    hset_add(&want, bb_batch(&y)); /* all px present: same hash as no bitmap */
    y.no_px_validity = 1;
    tl_table *t = open_t(tpath);
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, &(tl_append_opts){.threads = 1}, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, bb_batch(&y), &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_partitions, 2);
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.rows, 7);
    cr_assert_eq(s.digest, hset_digest(&want), "nulls lost or invented");
    hset_free(&want);
    bb_free(&x);
    bb_free(&y);
}

/* Rows already in key order are handed to the segment writer in place;
 * files cut every 5 rows start at rows 5, 10, ... whose null bits are not
 * byte-aligned: those are gathered, and every row reads back as written. */
Test(table_edge, files_cut_at_unaligned_rows_keep_their_nulls)
{
    create_tab(tpath, NULL, NULL);
    bb x;
    bb_init(&x, 23);
    for (uint32_t i = 0; i < 23; i++) {
        char note[16];
        snprintf(note, sizeof note, "r%u", i);
        bb_add(&x, i % 4 ? "S" : NULL, DAY0 + i, i % 3 == 0, i * 1.5, i % 5 == 1 ? NULL : note);
    }
    hset want = {0};
    hset_add(&want, bb_batch(&x));
    tl_table *t = open_t(tpath);
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, &(tl_append_opts){.segment_rows = 5, .threads = 1}, &a, &err),
                 TL_OK);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_files, 5);
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.n_files, 5);
    cr_assert_eq(s.rows, 23);
    cr_assert_eq(s.digest, hset_digest(&want));
    hset_free(&want);
    bb_free(&x);
}

/* Progress: (rows so far, 0) while batches come in, (rows, rows) at the
 * commit. */
typedef struct prog {
    uint64_t calls, last_done, last_total, first_done, first_total;
} prog;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    prog *p = ctx;
    if (p->calls++ == 0)
        p->first_done = done, p->first_total = total;
    p->last_done = done;
    p->last_total = total;
}

Test(table_edge, progress_reports_rows_then_completion)
{
    create_tab(tpath, "sym", "ts");
    static const char *const syms[] = {"A", "B"};
    bb x;
    bb_init(&x, 100);
    bb_fill(&x, 100, syms, 2, 2, 3);
    tl_table *t = open_t(tpath);
    prog pg = {0};
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, &(tl_append_opts){.progress = on_progress, .progress_ctx = &pg},
                                 &a, &err),
                 TL_OK);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    cr_assert_eq(pg.first_done, 100);
    cr_assert_eq(pg.first_total, 0);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_geq(pg.calls, 2);
    cr_assert_eq(pg.last_done, 200);
    cr_assert_eq(pg.last_total, 200);
    cr_assert_eq(r.n_rows, 200);
    /* an app version already applied: batches are ignored, no progress */
    tl_append_opts ao = {.app_id = "p", .app_version = 1, .progress = on_progress,
                         .progress_ctx = &pg};
    for (int round = 0; round < 2; round++) {
        uint64_t calls = pg.calls;
        cr_assert_eq(tl_append_begin(t, &ao, &a, &err), TL_OK);
        cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(r.noop, round);
        cr_assert_eq(r.version, 2);
        if (round)
            cr_assert_eq(pg.calls, calls, "a no-op reported progress");
        else
            cr_assert_gt(pg.calls, calls);
    }
    tl_table_close(t);
    cr_assert_eq(table_state(tpath).rows, 300);
    bb_free(&x);
}

/* ---- statistics folded across blocks ---------------------------------------------------------- */

/* One file of 5 blocks (16384 rows each, rows in key order) whose zone
 * maps disagree in every way the fold must handle:
 *   s1 (string): the min of 64 bytes exact in block 1, the same bytes but
 *      inexact (a longer value) in block 2, longer and shorter values that
 *      are not smaller later; the max exact "q", equal in block 2, a same
 *      length smaller "p" in block 3, and a value of 70 0xFF bytes (no
 *      upper bound possible) in block 4: the file has no max for s1.
 *   s2 (string): maxima of 70 bytes (inexact) equal in blocks 1 and 2, a
 *      same-length different min in each block.
 *   f (float64): +0.0 then -0.0 as block minima: the file's min is -0.0.
 * The add's statistics are read back from the log. */
enum { BR = 16384, NB = 5 };

static const tl_field st_fields[] = {
    {"ts", TL_TIMESTAMP, 0}, {"s1", TL_STRING, 1}, {"s2", TL_STRING, 1}, {"f", TL_FLOAT64, 1}};

Test(table_edge, string_and_float_statistics_fold_across_blocks)
{
    tl_table_spec spec = {.fields = st_fields, .n_fields = 4, .sort_key = tab_sort,
                          .n_sort_key = 1};
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    uint32_t n = BR * NB;
    int64_t *ts = malloc((size_t)n * 8);
    double *f = malloc((size_t)n * 8);
    uint32_t *o1 = calloc(n + 1, 4), *o2 = calloc(n + 1, 4);
    char *d1 = malloc((size_t)n * 80), *d2 = malloc((size_t)n * 80);
    cr_assert(ts && f && o1 && o2 && d1 && d2);
    char x64[65], big[71], ff[71], y70[71];
    memset(x64, 'm', 64);
    x64[64] = '\0';
    memcpy(big, x64, 64);
    memcpy(big + 64, "zzzzzz", 7);
    memset(ff, 0xFF, 70);
    ff[70] = '\0';
    memset(y70, 'y', 70);
    y70[70] = '\0';
    for (uint32_t i = 0; i < n; i++) {
        uint32_t blk = i / BR, j = i % BR;
        ts[i] = DAY0 + i;
        f[i] = 1.0 + j;
        const char *a = "n", *b = "k";
        if (j == 0) {
            static const char *const mins1[NB] = {NULL, NULL, "n", "mn", NULL};
            a = mins1[blk] ? mins1[blk] : blk == 1 ? big : x64;
            b = blk == 1 ? "a" : blk == 0 ? "ab" : "c";
            if (blk <= 2)
                f[i] = blk == 0 ? 0.0 : -0.0;
        } else if (j == 1) {
            a = blk <= 1 ? "q" : blk == 2 ? "p" : blk == 3 ? ff : "o";
            b = blk <= 1 ? y70 : "d";
        }
        size_t la = strlen(a), lb = strlen(b);
        memcpy(d1 + o1[i], a, la);
        o1[i + 1] = o1[i] + (uint32_t)la;
        memcpy(d2 + o2[i], b, lb);
        o2[i + 1] = o2[i] + (uint32_t)lb;
    }
    tl_coldef defs[4];
    for (int c = 0; c < 4; c++)
        defs[c] = (tl_coldef){st_fields[c].name, st_fields[c].type};
    tl_colvec cols[4] = {{ts, NULL, NULL, NULL},
                         {NULL, NULL, o1, (const uint8_t *)d1},
                         {NULL, NULL, o2, (const uint8_t *)d2},
                         {f, NULL, NULL, NULL}};
    tl_batch b = {n, 4, defs, cols};
    hset want = {0};
    hset_add(&want, &b);
    tl_table *t = open_t(tpath);
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, &(tl_append_opts){.threads = 1}, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_files, 1);

    tl_log_snapshot snap;
    tl_log_snap_opts so = {.at = TL_LOG_AT_LATEST};
    cr_assert_eq(tl_log_snapshot_load(&t->root, &so, &snap, &err), TL_OK, "%s", err.msg);
    size_t cur = 0;
    const tl_log_add *ad = tl_log_snapshot_live_next(&snap, &cur);
    cr_assert_not_null(ad);
    cr_assert(ad->has_stats);
    cr_assert_eq(ad->stats.n_cols, 4);
    const tl_log_colstats *c1 = &ad->stats.cols[1], *c2 = &ad->stats.cols[2],
                          *c3 = &ad->stats.cols[3];
    cr_assert(c1->has_min);
    cr_assert_eq(c1->min.s.len, 64);
    cr_assert_eq(memcmp(c1->min.s.p, x64, 64), 0);
    cr_assert_eq(c1->min_truncated, 0, "the exact 64-byte minimum wins over the inexact one");
    cr_assert_eq(c1->has_max, 0, "a block without an upper bound: the file has none");
    cr_assert(c2->has_min && c2->has_max);
    cr_assert_eq(c2->min.s.len, 1);
    cr_assert_eq(c2->min.s.p[0], 'a');
    cr_assert_eq(c2->max_truncated, 1);
    cr_assert_geq(c2->max.s.len, 1);
    cr_assert_geq(memcmp(c2->max.s.p, y70, c2->max.s.len), 0, "max below the values");
    cr_assert(c3->has_min && c3->has_max);
    cr_assert(c3->min.f == 0 && signbit(c3->min.f), "the file's float min is -0.0: %g",
              c3->min.f);
    cr_assert_eq(c3->max.f, (double)BR);
    tl_log_snapshot_free(&snap);
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.rows, n);
    cr_assert_eq(s.digest, hset_digest(&want));
    hset_free(&want);
    free(ts);
    free(f);
    free(o1);
    free(o2);
    free(d1);
    free(d2);
}

/* ---- I/O failures ------------------------------------------------------------------------------- */

static tl_io_fault *fault_with(int op, uint64_t nth, int action, int err_no, const char *path)
{
    tl_io_fault *f;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(NULL, &f, &err), TL_OK, "%s", err.msg);
    tl_io_fault_rule r = {.op = op, .nth = nth, .action = action, .err_no = err_no,
                          .path_contains = path};
    cr_assert_eq(tl_io_fault_add(f, &r, &err), TL_OK, "%s", err.msg);
    return f;
}

/* A data file that cannot be created while a batch spills (over the memory
 * budget, or a partition at segment_rows): the batch fails naming the table
 * and the file, the append is poisoned (later batches and the commit are
 * refused), nothing is committed and no data file remains. */
Test(table_edge, a_failed_spill_poisons_the_append)
{
    create_tab(tpath, "sym", "ts");
    static const char *const syms[] = {"A", "B", NULL};
    bb x;
    bb_init(&x, 40);
    bb_fill(&x, 40, syms, 3, 2, 9);
    const tl_append_opts opts[2] = {{.max_memory = 1, .threads = 1},
                                    {.segment_rows = 2, .threads = 1}};
    for (int i = 0; i < 2; i++) {
        int fds = tlt_count_fds();
        tl_io_fault *f = fault_with(TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, EIO, ".tls");
        tl_table *t;
        tl_error err;
        cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK);
        tl_append *a;
        cr_assert_eq(tl_append_begin(t, &opts[i], &a, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_EIO, "case %d", i);
        MSG_HAS(err, tpath);
        MSG_HAS(err, "data file");
        MSG_HAS(err, ".tls");
        cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_EINVAL);
        MSG_HAS(err, "an earlier batch failed; abort it");
        MSG_HAS(err, tpath);
        tl_append_result r;
        cr_assert_eq(tl_append_commit(a, &r, &err), TL_EINVAL);
        MSG_HAS(err, "an earlier batch failed; nothing committed");
        MSG_HAS(err, tpath);
        cr_assert_eq(r.version, 0);
        tl_table_close(t);
        tl_io_fault_close(f);
        cr_assert_eq(tlt_count_fds(), fds, "descriptor leaked");
        tstate s = table_state(tpath); /* also: no data file left on disk */
        cr_assert_eq(s.latest, 0);
        cr_assert_eq(s.rows, 0);
    }
    bb_free(&x);
}

/* An fsync that fails during one append's commit stops the handle
 * (LOG-C10): a second append begun on it before cannot commit either. */
Test(table_edge, a_handle_stopped_by_a_failed_fsync_refuses_a_pending_commit)
{
    create_tab(tpath, "sym", "ts");
    static const char *const syms[] = {"A"};
    bb x;
    bb_init(&x, 10);
    bb_fill(&x, 10, syms, 1, 1, 2);
    tl_io_fault *f = fault_with(TL_IO_OP_FSYNC, 1, TL_IO_FAULT_FAIL, EIO, NULL);
    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK);
    tl_append *a1, *a2;
    cr_assert_eq(tl_append_begin(t, NULL, &a1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_begin(t, NULL, &a2, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a1, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a2, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a1, &r, &err), TL_EIO);
    MSG_HAS(err, tpath);
    cr_assert_eq(tl_append_commit(a2, &r, &err), TL_EIO);
    MSG_HAS(err, tpath);
    MSG_HAS(err, "writes through this handle stopped after a failed fsync");
    tl_table_close(t);
    tl_io_fault_close(f);
    /* the file whose fsync failed stays (the stopped handle removes
     * nothing): an orphan for vacuum, never live */
    tstate s = table_state_of(tpath, 1);
    cr_assert_eq(s.latest, 0);
    cr_assert_eq(s.rows, 0);
    cr_assert_eq(s.n_files, 0);
    cr_assert_leq(count_tls(tpath), 1);
    bb_free(&x);
}

/* The partition directory cannot be made: the commit fails naming the
 * table and the directory, nothing is committed; a commit with no error
 * struct fails the same way. */
Test(table_edge, a_partition_directory_that_cannot_be_made_fails_the_commit)
{
    create_tab(tpath, "sym", "ts");
    static const char *const syms[] = {"A", "B", "C", "D"};
    bb x;
    bb_init(&x, 40);
    bb_fill(&x, 40, syms, 4, 1, 2);
    for (int with_err = 1; with_err >= 0; with_err--) {
        /* every partition's mkdir fails: writer threads may fail together,
         * the first failure is the one reported */
        tl_io_fault *f = fault_with(TL_IO_OP_MKDIR, 1, TL_IO_FAULT_FAIL_FROM, EIO, "symbol=");
        tl_table *t;
        tl_error err;
        cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK);
        tl_append *a;
        cr_assert_eq(tl_append_begin(t, &(tl_append_opts){.threads = 4}, &a, &err), TL_OK);
        cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
        tl_append_result r;
        memset(&err, 0, sizeof err);
        cr_assert_eq(tl_append_commit(a, &r, with_err ? &err : NULL), TL_EIO);
        if (with_err) {
            MSG_HAS(err, tpath);
            MSG_HAS(err, "symbol=");
        }
        tl_table_close(t);
        tl_io_fault_close(f);
        tstate s = table_state(tpath);
        cr_assert_eq(s.latest, 0);
        cr_assert_eq(s.rows, 0);
    }
    bb_free(&x);
}

/* ---- app ids and dedup ------------------------------------------------------------------------- */

/* Two appends with the same (app id, version) begun before either commits:
 * the second finds the first's txn when it retries (LOG-R60) and is a
 * no-op naming the first's version; its data files are removed. */
static void concurrent_duplicate(int dedup)
{
    create_tab(tpath, "sym", "ts");
    int64_t v0 = 0;
    if (dedup) {
        set_conf(tpath, "ticklake.dedupKeys", "sym,ts");
        v0 = 1;
    }
    static const char *const syms[] = {"A", "B"};
    bb x, y;
    bb_init(&x, 20);
    bb_init(&y, 30);
    bb_fill(&x, 20, syms, 2, 1, 4);
    bb_fill(&y, 30, syms, 2, 2, 5);
    hset want = {0};
    hset_add(&want, bb_batch(&x));
    tl_table *t1 = open_t(tpath), *t2 = open_t(tpath);
    tl_append_opts o = {.app_id = "feed", .app_version = 3};
    tl_append *a1, *a2;
    tl_error err;
    cr_assert_eq(tl_append_begin(t1, &o, &a1, &err), TL_OK);
    cr_assert_eq(tl_append_begin(t2, &o, &a2, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a1, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a2, bb_batch(&y), &err), TL_OK, "%s", err.msg);
    tl_append_result r1, r2;
    cr_assert_eq(tl_append_commit(a1, &r1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r1.version, v0 + 1);
    cr_assert_eq(tl_append_commit(a2, &r2, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r2.noop, 1);
    cr_assert_eq(r2.version, v0 + 1);
    cr_assert_eq(r2.n_rows, 0);
    cr_assert_eq(r2.n_files, 0);
    tl_table_close(t1);
    tl_table_close(t2);
    tstate s = table_state(tpath); /* the loser's files are gone */
    cr_assert_eq(s.latest, v0 + 1);
    cr_assert_eq(s.rows, 20);
    cr_assert_eq(s.digest, hset_digest(&want));
    hset_free(&want);
    bb_free(&x);
    bb_free(&y);
}

Test(table_edge, a_concurrent_duplicate_app_version_is_a_noop)
{
    concurrent_duplicate(0);
}

/* The same through the dedup rewrite (MAINT-D3..D6). */
Test(table_edge, a_concurrent_duplicate_app_version_is_a_noop_on_a_dedup_table)
{
    concurrent_duplicate(1);
}

/* A dedup table: an append with an app id and no rows commits its txn
 * alone (no rewrite), and running it again is a no-op. */
Test(table_edge, a_dedup_table_commits_a_txn_without_rows)
{
    create_tab(tpath, "sym", "ts");
    set_conf(tpath, "ticklake.dedupKeys", "sym,ts");
    tl_table *t = open_t(tpath);
    tl_append_opts o = {.app_id = "feed", .app_version = 7};
    for (int round = 0; round < 2; round++) {
        tl_append *a;
        tl_error err;
        cr_assert_eq(tl_append_begin(t, &o, &a, &err), TL_OK, "%s", err.msg);
        tl_append_result r;
        cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(r.version, 2);
        cr_assert_eq(r.noop, round);
        cr_assert_eq(r.n_rows, 0);
        cr_assert_eq(r.n_files, 0);
    }
    tl_log_snapshot snap;
    tl_log_snap_opts so = {.at = TL_LOG_AT_LATEST};
    tl_error err;
    cr_assert_eq(tl_log_snapshot_load(&t->root, &so, &snap, &err), TL_OK, "%s", err.msg);
    const tl_log_txn_entry *te = tl_log_snapshot_txn(&snap, "feed");
    cr_assert_not_null(te);
    cr_assert_eq(te->txn->version, 7);
    cr_assert_eq(te->table_version, 2);
    tl_log_snapshot_free(&snap);
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.latest, 2);
    cr_assert_eq(s.rows, 0);
}

/* ---- set configuration --------------------------------------------------------------------------- */

Test(table_edge, set_configuration_edges)
{
    create_tab(tpath, "sym", "ts");
    tl_table *t = open_t(tpath);
    tl_error err;
    int64_t v = 5;
    cr_assert_eq(tl_table_set_config(t, "", "1", &v, &err), TL_EINVAL);
    cr_assert_eq(v, -1);
    MSG_HAS(err, "no key");
    /* removing a key that is not there commits the configuration unchanged */
    cr_assert_eq(tl_table_set_config(t, "ticklake.absent", NULL, &v, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(v, 1);
    cr_assert_eq(tl_table_set_config(t, "user.k", "x", &v, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(v, 2);
    tl_log_snapshot snap;
    tl_log_snap_opts so = {.at = TL_LOG_AT_LATEST};
    cr_assert_eq(tl_log_snapshot_load(&t->root, &so, &snap, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(snap.meta->config.n, 1);
    cr_assert_str_eq(snap.meta->config.kv[0].key, "user.k");
    tl_log_snapshot_free(&snap);
    tl_table_close(t);

    /* a Delta Lake table (LOG-D1) is read-only */
    char p[600];
    snprintf(p, sizeof p, "%s/d", dir);
    cr_assert_eq(mkdir(p, 0777), 0);
    snprintf(p, sizeof p, "%s/d/_delta_log", dir);
    cr_assert_eq(mkdir(p, 0777), 0);
    snprintf(p, sizeof p, "%s/d/_delta_log/00000000000000000000.json", dir);
    write_text(p, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
                  "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},"
                  "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","
                  "\"partitionColumns\":[],\"configuration\":{}}}\n");
    snprintf(p, sizeof p, "%s/d", dir);
    t = open_t(p);
    cr_assert_eq(tl_table_set_config(t, "user.k", "x", &v, &err), TL_EUNSUPPORTED);
    MSG_HAS(err, p);
    MSG_HAS(err, "read-only");
    cr_assert_eq(v, -1);
    tl_table_close(t);
    snprintf(p, sizeof p, "%s/d/_delta_log/00000000000000000001.json", dir);
    cr_assert(!exists(p));
}

/* ---- batches refused (the cases sweep_write_test leaves out) ------------------------------------ */

/* A batch with rows and no columns misses the non-nullable ts; column
 * definitions without vectors are refused; a string column may come
 * without data when all its strings are empty, not otherwise. Nothing of
 * a refused batch is taken. */
Test(table_edge, batches_without_their_vectors_are_refused)
{
    create_tab(tpath, NULL, NULL);
    tl_table *t = open_t(tpath);
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
    int64_t ts[4] = {4, 3, 2, 1};
    uint32_t zero[5] = {0}, some[5] = {0, 1, 2, 3, 4};
    tl_coldef d2[2] = {{"ts", TL_TIMESTAMP}, {"note", TL_STRING}};
    tl_batch nocols = {4, 0, NULL, NULL};
    cr_assert_eq(tl_append_batch(a, &nocols, &err), TL_EINVAL);
    MSG_HAS(err, "missing non-nullable column 'ts' (timestamp)");
    MSG_HAS(err, tpath);
    tl_batch novecs = {4, 2, d2, NULL};
    cr_assert_eq(tl_append_batch(a, &novecs, &err), TL_EINVAL);
    MSG_HAS(err, "batch without columns");
    MSG_HAS(err, tpath);
    tl_colvec nodata[2] = {{ts, NULL, NULL, NULL}, {NULL, NULL, some, NULL}};
    tl_batch b1 = {4, 2, d2, nodata};
    cr_assert_eq(tl_append_batch(a, &b1, &err), TL_EINVAL);
    MSG_HAS(err, "string column 'note' without offsets or data");
    MSG_HAS(err, tpath);
    tl_colvec empty[2] = {{ts, NULL, NULL, NULL}, {NULL, NULL, zero, NULL}};
    tl_batch b2 = {4, 2, d2, empty};
    cr_assert_eq(tl_append_batch(a, &b2, &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_rows, 4);
    tl_table_close(t);
    /* what was read back: the 4 rows with empty notes, sym and px null */
    static const uint8_t none = 0;
    uint8_t nulls[1] = {0};
    double px[4] = {0};
    tl_coldef d4[4];
    for (int c = 0; c < 4; c++)
        d4[c] = (tl_coldef){tab_fields[c].name, tab_fields[c].type};
    tl_colvec c4[4] = {{NULL, nulls, zero, &none},
                       {ts, NULL, NULL, NULL},
                       {px, nulls, NULL, NULL},
                       {NULL, NULL, zero, &none}};
    tl_batch want_b = {4, 4, d4, c4};
    hset want = {0};
    hset_add(&want, &want_b);
    tstate s = table_state(tpath);
    cr_assert_eq(s.latest, 1);
    cr_assert_eq(s.rows, 4);
    cr_assert_eq(s.digest, hset_digest(&want));
    hset_free(&want);
}

/* An unknown column lists the table's columns, cut with "..." when they
 * do not fit in the message. */
Test(table_edge, an_unknown_column_lists_the_columns_within_the_message)
{
    enum { NC = 40 };
    char names[NC][40];
    tl_field fl[NC];
    for (int i = 0; i < NC; i++) {
        snprintf(names[i], sizeof names[i], "a_rather_long_column_name_%02d", i);
        fl[i] = (tl_field){names[i], TL_INT64, 1};
    }
    tl_table_spec spec = {.fields = fl, .n_fields = NC};
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t = open_t(tpath);
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
    int64_t v[2] = {1, 2};
    tl_coldef d = {"zz", TL_INT64};
    tl_colvec c = {v, NULL, NULL, NULL};
    tl_batch b = {2, 1, &d, &c};
    cr_assert_eq(tl_append_batch(a, &b, &err), TL_EINVAL);
    MSG_HAS(err, tpath);
    MSG_HAS(err, "unknown column 'zz' (the table has: a_rather_long_column_name_00, ");
    MSG_HAS(err, "...");
    cr_assert(!strstr(err.msg, names[NC - 1]), "the list was not cut: %s", err.msg);
    tl_append_abort(a);
    tl_table_close(t);
    cr_assert_eq(table_state(tpath).latest, 0);
}

/* Dedup keys naming a column the schema lacks (a metaData written by
 * another tool): appends are refused naming the table configuration until
 * the keys are set right; then appends work again. */
Test(table_edge, dedup_keys_naming_a_missing_column_stop_appends_until_repaired)
{
    create_tab(tpath, "sym", "ts");
    set_conf(tpath, "ticklake.dedupKeys", "sym,ts");
    char p[600];
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000001.json", tpath);
    FILE *fp = fopen(p, "r");
    cr_assert_not_null(fp);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *at = strstr(buf, "\"ticklake.dedupKeys\":\"sym,ts\"");
    cr_assert_not_null(at, "%s", buf);
    memcpy(at + strlen("\"ticklake.dedupKeys\":\"sym,"), "zz", 2);
    cr_assert_eq(unlink(p), 0);
    fp = fopen(p, "w");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(buf, 1, n, fp), n);
    cr_assert_eq(fclose(fp), 0);

    tl_table *t = open_t(tpath);
    tl_append *a = (tl_append *)1;
    tl_error err;
    int rc = tl_append_begin(t, NULL, &a, &err);
    cr_assert_eq(rc, TL_EINVAL, "%d: %s", rc, rc ? err.msg : "");
    cr_assert_null(a);
    MSG_HAS(err, tpath);
    MSG_HAS(err, "table configuration");
    MSG_HAS(err, "'zz'");
    cr_assert_eq(tl_table_set_config(t, "ticklake.dedupKeys", "sym,ts", NULL, &err), TL_OK, "%s",
                 err.msg);
    static const char *const syms[] = {"A"};
    bb x;
    bb_init(&x, 5);
    bb_fill(&x, 5, syms, 1, 1, 8);
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK, "%s", err.msg);
    tl_append_result r;
    cr_assert_eq(tl_append_commit(a, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.version, 3);
    tl_table_close(t);
    tstate s = table_state(tpath);
    cr_assert_eq(s.latest, 3);
    cr_assert_eq(s.rows, 5);
    bb_free(&x);
}

/* ---- CSV -------------------------------------------------------------------------------------------- */

/* A CSV row whose symbol cannot be a partition value: the error names the
 * CSV file and the column, nothing is committed. A CSV of two batches
 * reports progress in bytes and commits every row. */
Test(table_edge, csv_appends_name_the_file_and_report_progress)
{
    create_tab(tpath, "sym", "ts");
    tl_table *t = open_t(tpath);
    char p[600];
    snprintf(p, sizeof p, "%s/in.csv", dir);
    FILE *fp = fopen(p, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "sym,ts,px,note\nA,2025-11-17 09:15:00,1.5,a\n");
    fputc('B', fp);
    for (int i = 0; i < 1100; i++)
        fputc('x', fp);
    fprintf(fp, ",2025-11-17 09:15:01,2,b\n");
    cr_assert_eq(fclose(fp), 0);
    tl_append_result r;
    tl_error err;
    cr_assert_eq(tl_table_append_csv(t, p, NULL, &r, &err), TL_EINVAL);
    MSG_HAS(err, p);
    MSG_HAS(err, "column 'sym'");
    MSG_HAS(err, "at most 1024 bytes");

    fp = fopen(p, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "sym,ts,px,note\n");
    for (int i = 0; i < 70000; i++)
        fprintf(fp, "%s,2025-11-17 09:%02d:%02d,%d,\n", i % 2 ? "A" : "B", (i / 60) % 60, i % 60,
                i);
    cr_assert_eq(fclose(fp), 0);
    prog pg = {0};
    cr_assert_eq(tl_table_append_csv(t, p, &(tl_append_opts){.progress = on_progress,
                                                             .progress_ctx = &pg},
                                     &r, &err),
                 TL_OK, "%s", err.msg);
    cr_assert_eq(r.n_rows, 70000);
    cr_assert_eq(r.version, 1);
    cr_assert_geq(pg.calls, 2);
    cr_assert_eq(pg.last_done, pg.last_total);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(pg.last_total, (uint64_t)st.st_size);
    tl_table_close(t);
    /* the commit fails (an fsync): TL_EIO naming the table, no final
     * progress call, nothing committed */
    tl_io_fault *f = fault_with(TL_IO_OP_FSYNC, 1, TL_IO_FAULT_FAIL, EIO, NULL);
    cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK);
    fp = fopen(p, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "sym,ts,px,note\nC,2025-11-18 09:15:00,1,x\n");
    cr_assert_eq(fclose(fp), 0);
    memset(&pg, 0, sizeof pg);
    cr_assert_eq(tl_table_append_csv(t, p, &(tl_append_opts){.progress = on_progress,
                                                             .progress_ctx = &pg},
                                     &r, &err),
                 TL_EIO);
    MSG_HAS(err, tpath);
    cr_assert_eq(pg.calls, 1, "one call for the one batch, none for the failed commit");
    tl_table_close(t);
    tl_io_fault_close(f);
    tstate s = table_state_of(tpath, 1); /* the file whose fsync failed: an orphan */
    cr_assert_eq(s.latest, 1);
    cr_assert_eq(s.rows, 70000);
}

/* ---- allocation-failure sweeps ------------------------------------------------------------------- */

/* Create (hot columns, all three configuration values): every k fails
 * cleanly with TL_ENOMEM naming the path, or succeeds; a failed create
 * leaves nothing that stops the same create from succeeding. */
Test(table_edge, create_under_failed_allocations)
{
    static const char *const hot[] = {"px", "ts"};
    tl_table_spec spec = {.fields = tab_fields, .n_fields = 4, .symbol_column = "sym",
                          .day_column = "ts", .sort_key = tab_sort, .n_sort_key = 1,
                          .hot_columns = hot, .n_hot = 2, .checkpoint_interval = 7,
                          .log_retention_hours = TL_CONFIG_ZERO,
                          .deleted_file_retention_hours = 9};
    uint64_t k;
    for (k = 1; k < 2000; k++) {
        char p[600];
        snprintf(p, sizeof p, "%s/c%" PRIu64, dir, k);
        tl_error err;
        memset(&err, 0, sizeof err);
        tl_oom_fail_at(k, 0);
        int rc = tl_table_create(p, &spec, &err);
        uint64_t failed = tl_oom_failures();
        tl_oom_off();
        if (!failed) {
            cr_assert_eq(rc, TL_OK, "%s", err.msg);
            break;
        }
        if (rc != TL_OK) {
            cr_assert_eq(rc, TL_ENOMEM, "k=%" PRIu64 ": %d %s", k, rc, err.msg);
            MSG_HAS(err, p);
            tl_table *t;
            int orc = tl_table_open(p, &t, &err);
            if (orc == TL_OK) { /* never half a table: version 0 is whole */
                cr_assert_eq(tl_table_versions(t, NULL, NULL, &err), TL_OK);
                tl_table_close(t);
            } else {
                cr_assert_eq(orc, TL_ENOTFOUND, "k=%" PRIu64 ": %s", k, err.msg);
                cr_assert_eq(tl_table_create(p, &spec, &err), TL_OK, "k=%" PRIu64 ": %s", k,
                             err.msg);
            }
        }
        cr_assert_eq(latest_of(p), 0);
    }
    cr_assert_lt(k, 2000);
}

/* One append (begin, batches, commit) on a fresh copy of the template at
 * tmpl, allocation k failing once (from the begin, or only in the commit):
 * TL_OK with the rows committed as one new version (or a no-op), or
 * TL_ENOMEM naming the table with the table unchanged and no data file
 * left. Every k until the append no longer reaches it. */
typedef struct sweep_in {
    const tl_batch *b[2];
    uint32_t nb;
    tl_append_opts o;
    int arm_after; /* batches appended before arming; -1: arm before the begin */
    uint64_t rows;     /* the rows an append that commits adds (dedup: 0) */
    int disarm_at_commit; /* the commit runs without failures */
} sweep_in;

static uint64_t sweep_append(const char *tmpl, const sweep_in *in)
{
    tstate before = table_state(tmpl);
    uint64_t k, oks = 0;
    int fds = tlt_count_fds();
    for (k = 1; k < 5000; k++) {
        tlt_rm_tree(tpath);
        tlt_cp_tree(tmpl, tpath);
        tl_table *t = open_t(tpath);
        tl_error err;
        memset(&err, 0, sizeof err);
        tl_append *a = NULL;
        tl_append_result r = {0};
        if (in->arm_after < 0)
            tl_oom_fail_at(k, 0);
        int rc = tl_append_begin(t, &in->o, &a, &err);
        for (uint32_t i = 0; rc == TL_OK && i < in->nb; i++) {
            if ((int)i == in->arm_after)
                tl_oom_fail_at(k, 0);
            rc = tl_append_batch(a, in->b[i], &err);
        }
        if (in->arm_after == (int)in->nb)
            tl_oom_fail_at(k, 0);
        uint64_t failed = tl_oom_failures();
        if (in->disarm_at_commit)
            tl_oom_off();
        if (rc == TL_OK)
            rc = tl_append_commit(a, &r, &err);
        else
            tl_append_abort(a);
        if (!in->disarm_at_commit)
            failed = tl_oom_failures();
        tl_oom_off();
        tl_table_close(t);
        cr_assert(rc == TL_OK || rc == TL_ENOMEM, "k=%" PRIu64 ": rc %d: %s", k, rc, err.msg);
        tstate s = table_state_of(tpath, 1);
        size_t on_disk = count_tls(tpath);
        cr_assert_eq(on_disk, s.n_disk, "k=%" PRIu64 ": %zu data files on disk, %zu in the log: %s",
                     k, on_disk, s.n_disk, rc ? err.msg : "(commit succeeded)");
        if (rc == TL_OK && !r.noop) {
            oks++;
            cr_assert_eq(r.version, before.latest + 1, "k=%" PRIu64, k);
            cr_assert_eq(s.latest, before.latest + 1, "k=%" PRIu64, k);
            cr_assert_eq(s.rows, before.rows + in->rows, "k=%" PRIu64, k);
        } else {
            if (rc)
                MSG_HAS(err, tpath);
            cr_assert_eq(s.latest, before.latest, "k=%" PRIu64 ": %s", k, err.msg);
            cr_assert_eq(s.digest, before.digest, "k=%" PRIu64 ": %s", k, err.msg);
        }
        cr_assert_eq(tlt_count_fds(), fds, "k=%" PRIu64 ": descriptor leaked", k);
        if (!failed)
            break;
    }
    cr_assert_lt(k, 5000);
    fprintf(stderr, "table_edge sweep: %" PRIu64 " allocation points, %" PRIu64 " committed\n",
            k, oks);
    return oks;
}

Test(table_edge, append_under_failed_allocations)
{
    char tmpl[400];
    snprintf(tmpl, sizeof tmpl, "%s/template", dir);
    create_tab(tmpl, "sym", "ts");
    char tmpl_ao[400];
    snprintf(tmpl_ao, sizeof tmpl_ao, "%s/template_ao", dir);
    create_tab(tmpl_ao, "sym", "ts");
    /* automatic optimize on, but never enough files: it runs, finds nothing */
    set_conf(tmpl_ao, TL_LOG_CONF_AUTO_OPTIMIZE_MIN_FILES, "1000000");
    static const char *const syms[] = {"A", NULL, "BB"};
    bb x, y;
    bb_init(&x, 12);
    bb_init(&y, 12);
    bb_fill(&x, 12, syms, 3, 2, 11);
    bb_fill(&y, 12, syms, 3, 1, 12);
    y.no_px_validity = 1;
    /* a tiny budget: batches spill; an app id: a txn action too */
    sweep_in in = {{bb_batch(&x), bb_batch(&y)}, 2,
                   {.threads = 1, .max_memory = 3000, .app_id = "feed", .app_version = 1}, -1,
                   24, 0};
    cr_assert_geq(sweep_append(tmpl, &in), 1);
    /* the commit alone, two writer threads */
    in.o = (tl_append_opts){.threads = 2};
    in.arm_after = 2;
    cr_assert_geq(sweep_append(tmpl_ao, &in), 1);
    /* a second batch that grows partitions holding null bitmaps past the
     * bitmaps' first 4096 bytes (32768 rows): the batch alone is swept */
    enum { BIG = 33000 };
    int64_t day = -1; /* the day of a partition "A" of batch x (it has a bitmap) */
    for (uint32_t i = 0; i < x.n && day < 0; i++)
        if (tl_bit_get(x.svalid, i) && x.soff[i + 1] - x.soff[i] == 1 && x.sdata[x.soff[i]] == 'A')
            day = DAY0 + (x.ts[i] - DAY0) / NSDAY * NSDAY;
    cr_assert_geq(day, 0);
    bb big;
    bb_init(&big, BIG);
    for (uint32_t i = 0; i < BIG; i++)
        bb_add(&big, "A", day + i, i % 3 == 0, i, i % 2 ? "z" : NULL);
    in.b[1] = bb_batch(&big);
    in.o = (tl_append_opts){.threads = 2};
    in.arm_after = 1;
    in.disarm_at_commit = 1;
    in.rows = 12 + BIG;
    cr_assert_geq(sweep_append(tmpl, &in), 1);
    bb_free(&big);
    bb_free(&x);
    bb_free(&y);
}

Test(table_edge, dedup_append_under_failed_allocations)
{
    char tmpl[400];
    snprintf(tmpl, sizeof tmpl, "%s/template", dir);
    create_tab(tmpl, "sym", "ts");
    set_conf(tmpl, "ticklake.dedupKeys", "sym,ts");
    static const char *const syms[] = {"A", "B"};
    bb x;
    bb_init(&x, 8);
    bb_fill(&x, 8, syms, 2, 1, 21);
    /* the table holds the rows already: the dedup commit keeps 8 rows */
    tl_table *t = open_t(tmpl);
    tl_append *a;
    tl_error err;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, bb_batch(&x), &err), TL_OK);
    cr_assert_eq(tl_append_commit(a, NULL, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    cr_assert_eq(table_state(tmpl).rows, 8);
    sweep_in in = {{bb_batch(&x)}, 1, {.threads = 1}, 1, 0, 0}; /* arm at the commit */
    cr_assert_geq(sweep_append(tmpl, &in), 1);
    bb_free(&x);
}

/* Set configuration (replace a key, add a key) on a fresh copy of a
 * template for each k: TL_OK with one new version, or TL_ENOMEM naming the
 * table with the table unchanged. */
Test(table_edge, set_configuration_under_failed_allocations)
{
    char tmpl[400];
    snprintf(tmpl, sizeof tmpl, "%s/template", dir);
    create_tab(tmpl, "sym", "ts");
    set_conf(tmpl, "user.a", "1");
    for (int add = 0; add < 2; add++) {
        uint64_t k, oks = 0;
        for (k = 1; k < 5000; k++) {
            tlt_rm_tree(tpath);
            tlt_cp_tree(tmpl, tpath);
            tl_table *t = open_t(tpath);
            tl_error err;
            int64_t got;
            tl_oom_fail_at(k, 0);
            int rc = tl_table_set_config(t, add ? "user.b" : "user.a", "2", &got, &err);
            uint64_t failed = tl_oom_failures();
            tl_oom_off();
            tl_table_close(t);
            if (rc == TL_OK) {
                cr_assert_eq(got, 2);
                oks++;
            } else {
                cr_assert_eq(rc, TL_ENOMEM, "k=%" PRIu64 ": %s", k, err.msg);
                MSG_HAS(err, tpath);
                cr_assert_eq(got, -1);
            }
            cr_assert_eq(latest_of(tpath), rc ? 1 : 2, "k=%" PRIu64, k);
            if (!failed)
                break;
        }
        cr_assert_lt(k, 5000);
        cr_assert_geq(oks, 1);
    }
}
