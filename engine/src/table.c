/*
 * table.c - tables: create, open, and the append writer (spec/LOG.md 5.3,
 * 9.1 LOG-R41, 9.5 LOG-R58, 9.6 LOG-R60/R61, LOG-R83).
 *
 * An append buffers the rows of its batches per partition (symbol, day of
 * the day column), column by column. When the buffers pass max_memory the
 * largest partition is sorted (stable, by the table's sort key, sortkey.c)
 * and written as one or more data files; tl_append_commit writes the rest,
 * partitions in parallel. Every data file is written through tl_io under a
 * fresh name <partition dir>/<uuid v4>.tls (O_EXCL), fsynced, and its
 * footer read back for the add action's statistics; the partition
 * directories are created durably (mkdir + parent fsync) and fsynced after
 * their files, before the commit is published (LOG-R41). One append = one
 * commit (tl_log_write: put-if-absent, conflicts, retries).
 *
 * Invariants: nothing of a batch is buffered unless the whole batch passes
 * the schema checks; buffered rows of a partition all share its partition
 * values; a data file holds rows of one partition sorted by the key; files
 * of a failed append are removed when the commit is known not to have
 * happened, and left as orphans otherwise (vacuum, LOG-C6).
 */
#include "table_int.h"

#include "civil_int.h"
#include "optimize_int.h"
#include "csv_int.h"
#include "delta_read_int.h"
#include "partpath_int.h"
#include "sortkey_int.h"
#include "text_int.h"
#include "tl_format.h"
#include "util_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define DEFAULT_MAX_MEMORY ((size_t)256 << 20)
#define DEFAULT_SEGMENT_ROWS ((uint64_t)16 << 20)
#define MAX_SEGMENT_ROWS ((uint64_t)1 << 31)
#define PF 16u /* gather prefetch distance (rows) */
#define CHUNK_ROWS 65536u                   /* rows gathered per writer append */
#define MAX_PART_STRING_BYTES ((size_t)3 << 30) /* u32 offsets in buffers */
#define NS_PER_DAY INT64_C(86400000000000)
#define MS_PER_HOUR INT64_C(3600000)
_Static_assert(TL_TABLE_PART_DIR_MAX >= TL_PARTPATH_DIR_MAX, "partition directory buffer");

/* ---- clock and small helpers ---------------------------------------------------- */

static int64_t wall_ms(void)
{
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

int64_t tl_table_now_ms(const tl_table *t)
{
    return t && t->now_ms ? t->now_ms(t->now_arg) : wall_ms();
}

int64_t tl_table_orphan_age_ms(const tl_log_metadata *m)
{
    int64_t h = TL_LOG_DEFAULT_DELETED_FILE_RETENTION_HOURS;
    /* tl_log_config_int refuses a value outside [0, 1000000]: h >= 0 */
    if (tl_log_config_int(m, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, &h, NULL))
        h = TL_LOG_DEFAULT_DELETED_FILE_RETENTION_HOURS;
    if (h == 0)
        return -1;
    return h >= 2 ? h * MS_PER_HOUR - MS_PER_HOUR : h * MS_PER_HOUR / 2;
}

static int64_t floor_day(int64_t ns)
{
    int64_t d = ns / NS_PER_DAY;
    return (ns % NS_PER_DAY < 0) ? d - 1 : d;
}

/* ---- the ticks table ------------------------------------------------------------- */

static tl_field ticks_fields[64];
static uint32_t ticks_n;
static pthread_once_t ticks_once = PTHREAD_ONCE_INIT;
static const char *const ticks_sort[] = {"expiry", "opt_type", "strike", "timestamp"};

static void ticks_init(void)
{
    uint32_t n;
    const tl_coldef *d = tl_ticks_schema(&n);
    for (uint32_t i = 0; i < n && i < 64; i++) {
        const char *nm = d[i].name;
        int nullable = (nm[0] == 'b' || nm[0] == 's') &&
                       (nm[1] == 'p' || nm[1] == 'q') && nm[2] >= '0' && nm[2] <= '9';
        ticks_fields[i] = (tl_field){nm, d[i].type, nullable};
    }
    ticks_n = n;
}

void tl_ticks_table_spec(tl_table_spec *spec)
{
    if (!spec)
        return;
    pthread_once(&ticks_once, ticks_init);
    memset(spec, 0, sizeof *spec);
    spec->fields = ticks_fields;
    spec->n_fields = ticks_n;
    spec->symbol_column = "symbol";
    spec->day_column = "timestamp";
    spec->sort_key = ticks_sort;
    spec->n_sort_key = 4;
    spec->name = "ticks";
    spec->hot_columns = tl_ticks_hot_columns(&spec->n_hot);
}

/* ---- create / open ------------------------------------------------------------------ */

/* Called by check_spec only once the names it can reach are checked: in
 * its column loop, i's and every earlier name (the search stops at i at the
 * latest); after the loop, all of them. */
static int find_field(const tl_table_spec *s, const char *name)
{
    for (uint32_t i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int check_spec(const tl_table_spec *s, tl_error *err)
{
    if (!s || !s->fields || s->n_fields == 0)
        return tl_error_set(err, TL_EINVAL, "table spec: no columns");
    for (uint32_t i = 0; i < s->n_fields; i++) {
        if (!s->fields[i].name || !s->fields[i].name[0])
            return tl_error_set(err, TL_EINVAL, "table spec: column %u has no name", i);
        if (!tl_type_name(s->fields[i].type))
            return tl_error_set(err, TL_EINVAL, "table spec: column '%s' has unknown type %d",
                                s->fields[i].name, (int)s->fields[i].type);
        if (find_field(s, s->fields[i].name) != (int)i)
            return tl_error_set(err, TL_EINVAL, "table spec: column '%s' appears twice",
                                s->fields[i].name);
    }
    if (s->symbol_column) {
        int k = find_field(s, s->symbol_column);
        if (k < 0)
            return tl_error_set(err, TL_EINVAL,
                                "table spec: symbol partition column '%s' is not in the schema",
                                s->symbol_column);
        if (s->fields[k].type != TL_STRING)
            return tl_error_set(err, TL_EINVAL,
                                "table spec: symbol partition column '%s' is %s, expected string",
                                s->symbol_column, tl_type_name(s->fields[k].type));
    }
    if (s->day_column) {
        int k = find_field(s, s->day_column);
        if (k < 0)
            return tl_error_set(err, TL_EINVAL,
                                "table spec: day partition column '%s' is not in the schema",
                                s->day_column);
        if (s->fields[k].type != TL_TIMESTAMP)
            return tl_error_set(err, TL_EINVAL,
                                "table spec: day partition column '%s' is %s, expected timestamp",
                                s->day_column, tl_type_name(s->fields[k].type));
    }
    for (uint32_t i = 0; i < s->n_sort_key; i++) {
        if (!s->sort_key || !s->sort_key[i] || find_field(s, s->sort_key[i]) < 0)
            return tl_error_set(err, TL_EINVAL, "table spec: sort key column '%s' is not in the schema",
                                s->sort_key && s->sort_key[i] ? s->sort_key[i] : "(null)");
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(s->sort_key[i], s->sort_key[j]) == 0)
                return tl_error_set(err, TL_EINVAL, "table spec: sort key names '%s' twice",
                                    s->sort_key[i]);
    }
    for (uint32_t i = 0; i < s->n_hot; i++)
        if (!s->hot_columns || !s->hot_columns[i] || find_field(s, s->hot_columns[i]) < 0 ||
            strchr(s->hot_columns[i], ','))
            return tl_error_set(err, TL_EINVAL, "table spec: hot column '%s' is not in the schema",
                                s->hot_columns && s->hot_columns[i] ? s->hot_columns[i] : "(null)");
    const int64_t cfg[3] = {s->checkpoint_interval, s->log_retention_hours,
                            s->deleted_file_retention_hours};
    static const char *const cfg_name[3] = {"checkpoint interval", "log retention hours",
                                            "deleted file retention hours"};
    for (int i = 0; i < 3; i++)
        if ((cfg[i] < 0 && !(i > 0 && cfg[i] == TL_CONFIG_ZERO)) || cfg[i] > 1000000)
            return tl_error_set(err, TL_EINVAL,
                                "table spec: %s %" PRId64 " (expected 1 .. 1000000, 0 for the "
                                "default%s)",
                                cfg_name[i], cfg[i], i ? " or TL_CONFIG_ZERO for 0" : "");
    return TL_OK;
}

static int create_io(const char *path, const tl_table_spec *spec, const tl_io *io,
                     int64_t (*now_ms)(void *), void *now_arg, tl_error *err);

/* Every error names the table: "create table PATH: ..." */
int tl_table_create_io(const char *path, const tl_table_spec *spec, const tl_io *io,
                       int64_t (*now_ms)(void *), void *now_arg, tl_error *err)
{
    if (!path || !path[0])
        return tl_error_set(err, TL_EINVAL, "create table: no path");
    int rc = create_io(path, spec, io, now_ms, now_arg, err);
    if (rc)
        tl_error_prefix(err, "create table %s: ", path);
    return rc;
}

static int create_io(const char *path, const tl_table_spec *spec, const tl_io *io,
                     int64_t (*now_ms)(void *), void *now_arg, tl_error *err)
{
    int rc = check_spec(spec, err);
    if (rc)
        return rc;
    if (!io)
        io = tl_io_default();

    /* the directory: created durably if missing */
    struct stat st;
    tl_error e2;
    rc = tl_io_stat(io, NULL, path, &st, &e2);
    if (rc == TL_ENOTFOUND) {
        rc = tl_io_mkdir(io, NULL, path, 0777, err);
        if (rc && rc != TL_ECONFLICT)
            return rc;
        char *parent = strdup(path);
        if (!parent)
            return tl_error_set(err, TL_ENOMEM, "out of memory");
        char *slash = strrchr(parent, '/');
        while (slash && slash > parent && slash[1] == '\0') { /* trailing slashes */
            *slash = '\0';
            slash = strrchr(parent, '/');
        }
        const char *pdir = slash ? (slash == parent ? "/" : (*slash = '\0', parent)) : ".";
        rc = tl_io_fsync_dir(io, NULL, pdir, err);
        free(parent);
        if (rc)
            return rc;
    } else if (rc) {
        *err = e2;
        return rc;
    } else if (!S_ISDIR(st.st_mode)) {
        return tl_error_set(err, TL_EINVAL, "exists and is not a directory");
    }

    tl_io_file root = TL_IO_FILE_INIT;
    rc = tl_io_open(io, NULL, path, O_RDONLY | O_DIRECTORY, 0, &root, err);
    if (rc)
        return rc;

    /* metaData */
    char id[37];
    rc = tl_log_uuid4(id, err);
    if (rc)
        goto out;
    tl_log_field *fields = calloc(spec->n_fields, sizeof *fields);
    char cbuf[3][24];
    char *hot = NULL;
    tl_log_kv kv[4];
    uint32_t nkv = 0;
    if (!fields) {
        rc = tl_error_set(err, TL_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < spec->n_fields; i++)
        fields[i] = (tl_log_field){spec->fields[i].name, spec->fields[i].type,
                                   spec->fields[i].nullable ? 1 : 0};
    const int64_t cfg[3] = {spec->checkpoint_interval, spec->log_retention_hours,
                            spec->deleted_file_retention_hours};
    static const char *const cfg_key[3] = {TL_LOG_CONF_CHECKPOINT_INTERVAL,
                                           TL_LOG_CONF_LOG_RETENTION_HOURS,
                                           TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS};
    for (int i = 0; i < 3; i++)
        if (cfg[i] > 0 || cfg[i] == TL_CONFIG_ZERO) {
            snprintf(cbuf[i], sizeof cbuf[i], "%" PRId64, cfg[i] > 0 ? cfg[i] : 0);
            kv[nkv++] = (tl_log_kv){cfg_key[i], cbuf[i]};
        }
    if (spec->n_hot) {
        size_t len = 1;
        for (uint32_t i = 0; i < spec->n_hot; i++)
            len += strlen(spec->hot_columns[i]) + 1;
        hot = malloc(len);
        if (!hot) {
            free(fields);
            rc = tl_error_set(err, TL_ENOMEM, "out of memory");
            goto out;
        }
        hot[0] = '\0';
        for (uint32_t i = 0; i < spec->n_hot; i++) {
            if (i)
                strcat(hot, ",");
            strcat(hot, spec->hot_columns[i]);
        }
        kv[nkv++] = (tl_log_kv){TL_CONF_HOT_COLUMNS, hot};
    }
    static const char *const none[1] = {NULL};
    tl_log_action acts[2];
    memset(acts, 0, sizeof acts);
    acts[0].kind = TL_LOG_PROTOCOL;
    acts[0].u.proto = (tl_log_protocol){TL_LOG_READER_VERSION, TL_LOG_WRITER_VERSION,
                                        {none, 0}, {none, 0}};
    acts[1].kind = TL_LOG_METADATA;
    acts[1].u.meta = (tl_log_metadata){
        .id = id,
        .name = spec->name,
        .created_ms = now_ms ? now_ms(now_arg) : wall_ms(),
        .fields = fields,
        .n_fields = spec->n_fields,
        .part_symbol_col = spec->symbol_column,
        .part_day_col = spec->day_column,
        .sort_key = {spec->n_sort_key ? spec->sort_key : none, spec->n_sort_key},
        .config = {kv, nkv},
    };
    tl_log_write_opts wo = {.io = io, .now_ms = now_ms, .now_arg = now_arg,
                            .operation = "CREATE TABLE"};
    tl_log_write_result wr;
    rc = tl_log_write(&root, -1, acts, 2, &wo, &wr, err);
    free(fields);
    free(hot);
out:
    tl_io_close(&root, NULL);
    return rc;
}

int tl_table_create(const char *path, const tl_table_spec *spec, tl_error *err)
{
    return tl_table_create_io(path, spec, NULL, NULL, NULL, err);
}

int tl_table_open_io(const char *path, const tl_io *io, int64_t (*now_ms)(void *), void *now_arg,
                     tl_table **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "open table: no output handle");
    *out = NULL;
    if (!path || !path[0])
        return tl_error_set(err, TL_EINVAL, "open table: no path");
    tl_table *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        free(t);
        return tl_error_set(err, TL_ENOMEM, "open table %s: out of memory", path);
    }
    tl_io_guard_init(&t->guard, io);
    t->io = &t->guard.io;
    t->now_ms = now_ms;
    t->now_arg = now_arg;
    t->root = (tl_io_file)TL_IO_FILE_INIT;
    int rc = tl_io_open(t->io, NULL, path, O_RDONLY | O_DIRECTORY, 0, &t->root, err);
    if (rc == TL_ENOTFOUND || rc == TL_EINVAL) {
        tl_error_set(err, TL_ENOTFOUND, "open table %s: no such directory", path);
        rc = TL_ENOTFOUND;
    }
    int kind = TL_DELTA_NO;
    if (!rc)
        rc = tl_delta_detect(t->io, &t->root, &kind, err);
    if (!rc && kind == TL_DELTA_CKPT_ONLY)
        rc = tl_error_set(err, TL_EUNSUPPORTED,
                          "open table %s: a Delta Lake table whose version 0 commit is gone "
                          "(its state is in a Delta checkpoint): this reader replays JSON "
                          "commits from version 0 and does not read Delta checkpoints (LOG-D12)",
                          path);
    t->delta = kind == TL_DELTA_YES;
    if (!rc && !t->delta) {
        struct stat st;
        char v0[TL_LOG_NAME_LEN + 1 + sizeof TL_LOG_DIR + 1];
        char name[TL_LOG_NAME_LEN + 1];
        tl_log_commit_name(0, name);
        snprintf(v0, sizeof v0, "%s/%s", TL_LOG_DIR, name);
        rc = tl_io_stat(t->io, &t->root, v0, &st, err);
        if (rc == TL_ENOTFOUND) {
            /* log cleanup may have deleted version 0 (LOG-R80): a table as
             * long as some version is reachable from a checkpoint (LOG-R81) */
            int64_t oldest, latest;
            tl_error e2;
            rc = tl_log_version_range(&t->root, t->io, &oldest, &latest, &e2);
            if (rc == TL_ENOTFOUND || rc == TL_EINVAL)
                tl_error_set(err, TL_ENOTFOUND,
                             "open table %s: not a table (no %s and no checkpoint to start from)",
                             path, v0);
            else if (rc && err)
                *err = e2;
        }
    }
    if (rc) {
        if (err && !strstr(err->msg, path)) /* every error names the table */
            tl_error_prefix(err, "open table %s: ", path);
        tl_table_close(t);
        return rc;
    }
    *out = t;
    return TL_OK;
}

int tl_table_open(const char *path, tl_table **out, tl_error *err)
{
    return tl_table_open_io(path, NULL, NULL, NULL, out, err);
}

void tl_table_close(tl_table *t)
{
    if (!t)
        return;
    tl_io_close(&t->root, NULL);
    tl_io_guard_destroy(&t->guard);
    free(t->path);
    free(t);
}

int tl_table_writable(tl_table *t, tl_error *err)
{
    int rc = tl_io_guard_check(&t->guard, err);
    if (rc)
        tl_error_prefix(err, "table %s: ", t->path);
    return rc;
}

const char *tl_table_path(const tl_table *t)
{
    return t ? t->path : NULL;
}

/* ---- helpers shared by the data file writers (append, optimize, repartition) ---- */

void tl_table_writer_cols(const tl_log_metadata *m, tl_coldef *defs, tlf_col_opts *col_opts)
{
    for (uint32_t i = 0; i < m->n_fields; i++) {
        defs[i] = (tl_coldef){m->fields[i].name, m->fields[i].type};
        col_opts[i] = (tlf_col_opts){.encoding = TLF_ENC_AUTO, .compression = TLF_COMP_AUTO};
    }
    for (uint32_t i = 0; i < m->config.n; i++)
        if (strcmp(m->config.kv[i].key, TL_CONF_HOT_COLUMNS) == 0) {
            const char *p = m->config.kv[i].val;
            while (*p) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                for (uint32_t c = 0; c < m->n_fields; c++)
                    if (strlen(m->fields[c].name) == len && memcmp(m->fields[c].name, p, len) == 0)
                        col_opts[c].hot = 1;
                p += len + (e ? 1 : 0);
            }
        }
    for (uint32_t i = 0; i < m->sort_key.n; i++) {
        int k = tl_table_meta_col(m, m->sort_key.s[i]);
        if (k >= 0)
            col_opts[k].hot = 1;
    }
}

int tl_table_part_dir(const tl_log_metadata *m, const tl_log_pvals *pv, char *dir, size_t cap,
                      tl_error *err)
{
    size_t dl = 0;
    int rc = TL_OK;
    if (cap < TL_PARTPATH_DIR_MAX)
        return tl_error_set(err, TL_EINVAL, "partition directory: buffer too small");
    dir[0] = '\0';
    if (m->part_symbol_col && !pv->symbol_null) {
        rc = tl_partpath_dir(TL_LOG_PART_SYMBOL, pv->symbol, strlen(pv->symbol), NULL, 0, dir, cap,
                             &dl, err);
    } else if (m->part_symbol_col) {
        dl = (size_t)snprintf(dir, cap, "%s=~null", TL_LOG_PART_SYMBOL);
    }
    if (!rc && m->part_day_col) {
        char date[32];
        if (pv->date_null)
            snprintf(date, sizeof date, "~null");
        else
            date[tl_fmt_date(date, pv->date)] = '\0';
        dl += (size_t)snprintf(dir + dl, cap - dl, "%s%s=%s", dl ? "/" : "", TL_LOG_PART_DATE,
                               date);
    }
    return rc;
}

/* ---- append: buffers -------------------------------------------------------------------- */

typedef struct colbuf {
    uint8_t *vals; /* fixed: values; string: n+1 uint32 offsets */
    size_t cap;
    uint8_t *valid; /* bitmap of cap_rows bits, NULL until the first null */
    size_t vcap;
    uint8_t *data; /* string bytes */
    size_t dlen, dcap;
} colbuf;

typedef struct part {
    uint64_t hash;
    int symbol_null, day_null;
    char *symbol; /* NUL-terminated copy (no NUL inside, checked) */
    uint32_t sym_len;
    int32_t day;
    char dir[TL_PARTPATH_DIR_MAX];
    int dir_made;  /* mkdir_p done */
    int has_files; /* a data file was written here (its dir needs fsync) */
    colbuf *cols;
    uint32_t n, cap_rows;
    size_t mem;
} part;

/* A data file written by this append: its add action. */
typedef struct outfile {
    char *path;
    part *p;
    int64_t size, rows, mtime;
    tl_dfstats st; /* add statistics, from the footer */
} outfile;

typedef struct wscratch {
    tl_sort_scratch sort;
    uint32_t *perm;
    size_t cap_perm;
    colbuf *chunk; /* n_fields gather buffers of CHUNK_ROWS */
    tl_colvec *vecs;
    tl_sortcol *keys;
    uint8_t *foot;
    size_t cap_foot;
    uint8_t *wbuf; /* TL_IO_CHUNK bytes: data files are written in whole,
                      aligned chunks (tl_io_bufsink) */
} wscratch;

struct tl_append {
    tl_table *t;
    tl_log_snapshot snap;
    const tl_log_metadata *meta;
    char *app_id;
    int64_t app_version;
    size_t max_memory;
    uint64_t segment_rows;
    uint32_t threads;
    char *operation;
    tl_progress_fn progress;
    void *progress_ctx;
    double t0, last_progress;

    uint32_t nf;
    tl_coldef *defs; /* the schema as the segment writer wants it */
    uint8_t *nullable;
    tlf_col_opts *col_opts;
    int sym_col, day_col;
    uint32_t *sort_cols, n_sort;

    part **parts;
    size_t n_parts, cap_parts;
    size_t *slots; /* open addressing: index + 1 into parts */
    size_t cap_slots;
    size_t mem_total;
    uint64_t rows_in;

    outfile *files;
    size_t n_files, cap_files;
    int64_t first_file_ms;
    pthread_mutex_t mu;

    int noop;
    int64_t noop_version;
    int failed; /* a batch failed half-way: only abort is possible */
    tl_dedup_cfg dedup; /* dedup keys (spec/MAINT.md section 4) */

    /* per-batch scratch */
    int32_t *colmap; /* table column -> batch column or -1 */
    uint32_t *pid, *dst;
    size_t cap_rows_scratch;
    uint32_t *cursor;
    size_t cap_cursor;
    wscratch ws; /* for spills on the caller's thread */
};

static void colbuf_free(colbuf *c)
{
    free(c->vals);
    free(c->valid);
    free(c->data);
    memset(c, 0, sizeof *c);
}

static void part_free(part *p, uint32_t nf)
{
    if (!p)
        return;
    if (p->cols)
        for (uint32_t i = 0; i < nf; i++)
            colbuf_free(&p->cols[i]);
    free(p->cols);
    free(p->symbol);
    free(p);
}

static void wscratch_free(wscratch *w, uint32_t nf)
{
    tl_sort_scratch_free(&w->sort);
    free(w->perm);
    if (w->chunk)
        for (uint32_t i = 0; i < nf; i++)
            colbuf_free(&w->chunk[i]);
    free(w->chunk);
    free(w->vecs);
    free(w->keys);
    free(w->foot);
    free(w->wbuf);
    memset(w, 0, sizeof *w);
}

static void outfile_free(outfile *f)
{
    free(f->path);
    tl_dfstats_free(&f->st);
}

void tl_dfstats_free(tl_dfstats *st)
{
    if (!st)
        return;
    free(st->cs);
    free(st->sbytes);
    memset(st, 0, sizeof *st);
}

static void append_free(tl_append *a) /* a != NULL (tl_append_abort checks) */
{
    for (size_t i = 0; i < a->n_parts; i++)
        part_free(a->parts[i], a->nf);
    free(a->parts);
    free(a->slots);
    for (size_t i = 0; i < a->n_files; i++)
        outfile_free(&a->files[i]);
    free(a->files);
    wscratch_free(&a->ws, a->nf);
    free(a->colmap);
    free(a->pid);
    free(a->dst);
    free(a->cursor);
    free(a->defs);
    free(a->nullable);
    free(a->col_opts);
    free(a->sort_cols);
    free(a->app_id);
    free(a->operation);
    tl_log_snapshot_free(&a->snap);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

int tl_table_meta_col(const tl_log_metadata *m, const char *name)
{
    for (uint32_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int tl_append_begin(tl_table *t, const tl_append_opts *o, tl_append **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "append: no output handle");
    *out = NULL;
    if (!t)
        return tl_error_set(err, TL_EINVAL, "append: no table");
    if (t->delta)
        return tl_error_set(err, TL_EUNSUPPORTED, "append to %s: " TL_DELTA_READ_ONLY_FMT, t->path,
                            t->path);
    if (tl_table_writable(t, err))
        return TL_EIO;
    tl_append_opts def = {0};
    if (!o)
        o = &def;
    if (o->app_id && (!o->app_id[0] || o->app_version < 0))
        return tl_error_set(err, TL_EINVAL,
                            "append to %s: app id '%s' needs a version >= 0 (got %" PRId64 ")",
                            t->path, o->app_id, o->app_version);
    if (o->segment_rows > MAX_SEGMENT_ROWS)
        return tl_error_set(err, TL_EINVAL, "append to %s: segment rows %" PRIu64 " above 2^31",
                            t->path, o->segment_rows);
    tl_append *a = calloc(1, sizeof *a);
    if (!a)
        return tl_error_set(err, TL_ENOMEM, "append to %s: out of memory", t->path);
    pthread_mutex_init(&a->mu, NULL);
    a->t = t;
    a->t0 = mono_s();
    a->app_version = o->app_version;
    a->max_memory = o->max_memory ? o->max_memory : DEFAULT_MAX_MEMORY;
    a->segment_rows = o->segment_rows ? o->segment_rows : DEFAULT_SEGMENT_ROWS;
    a->threads = o->threads ? o->threads : (uint32_t)online_cpus();
    a->progress = o->progress;
    a->progress_ctx = o->progress_ctx;
    a->first_file_ms = INT64_MAX;
    int rc = TL_OK;
    if ((o->app_id && !(a->app_id = strdup(o->app_id))) ||
        !(a->operation = strdup(o->operation ? o->operation : "APPEND"))) {
        rc = tl_error_set(err, TL_ENOMEM, "append to %s: out of memory", t->path);
        goto fail;
    }
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    rc = tl_log_snapshot_load(&t->root, &so, &a->snap, err);
    if (rc) {
        tl_error_prefix(err, "append to %s: ", t->path);
        goto fail;
    }
    a->meta = a->snap.meta;
    const tl_log_metadata *m = a->meta;
    a->nf = m->n_fields;
    a->defs = calloc(a->nf, sizeof *a->defs);
    a->nullable = calloc(a->nf, 1);
    a->col_opts = calloc(a->nf, sizeof *a->col_opts);
    a->colmap = calloc(a->nf, sizeof *a->colmap);
    a->sort_cols = calloc(m->sort_key.n + 1, sizeof *a->sort_cols);
    if (!a->defs || !a->nullable || !a->col_opts || !a->colmap || !a->sort_cols) {
        rc = tl_error_set(err, TL_ENOMEM, "append to %s: out of memory", t->path);
        goto fail;
    }
    for (uint32_t i = 0; i < a->nf; i++)
        a->nullable[i] = (uint8_t)m->fields[i].nullable;
    a->sym_col = m->part_symbol_col ? tl_table_meta_col(m, m->part_symbol_col) : -1;
    a->day_col = m->part_day_col ? tl_table_meta_col(m, m->part_day_col) : -1;
    for (uint32_t i = 0; i < m->sort_key.n; i++) {
        int k = tl_table_meta_col(m, m->sort_key.s[i]);
        if (k < 0) {
            rc = tl_error_set(err, TL_ECORRUPT, "table %s: sort key column '%s' not in the schema",
                              t->path, m->sort_key.s[i]);
            goto fail;
        }
        a->sort_cols[a->n_sort++] = (uint32_t)k;
    }
    tl_table_writer_cols(m, a->defs, a->col_opts);
    rc = tl_dedup_config(m, &a->dedup, err);
    if (rc) {
        tl_error_prefix(err, "append to %s: table configuration: ", t->path);
        goto fail;
    }
    /* LOG-R60: already applied? Then batches are ignored and commit says so. */
    if (a->app_id) {
        const tl_log_txn_entry *te = tl_log_snapshot_txn(&a->snap, a->app_id);
        if (te && te->txn->version >= a->app_version) {
            a->noop = 1;
            a->noop_version = te->table_version;
        }
    }
    *out = a;
    return TL_OK;
fail:
    append_free(a);
    return rc;
}

/* ---- append: batches ------------------------------------------------------------------ */

static uint64_t part_hash(int sym_null, const char *sym, uint32_t len, int day_null, int32_t day)
{
    uint64_t h = sym_null ? UINT64_C(0x9E3779B97F4A7C15) : XXH3_64bits(sym, len);
    return h ^ ((uint64_t)(uint32_t)day * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ (uint64_t)day_null;
}

static int part_match(const part *p, uint64_t h, int sym_null, const char *sym, uint32_t len,
                      int day_null, int32_t day)
{
    return p->hash == h && p->symbol_null == sym_null && p->day_null == day_null &&
           (day_null || p->day == day) &&
           (sym_null || (p->sym_len == len && memcmp(p->symbol, sym, len) == 0));
}

static int slots_rebuild(tl_append *a, size_t cap, tl_error *err)
{
    size_t *s = calloc(cap, sizeof *s);
    if (!s)
        return tl_error_set(err, TL_ENOMEM, "out of memory (partition index)");
    for (size_t i = 0; i < a->n_parts; i++) {
        size_t h = (size_t)a->parts[i]->hash & (cap - 1);
        while (s[h])
            h = (h + 1) & (cap - 1);
        s[h] = i + 1;
    }
    free(a->slots);
    a->slots = s;
    a->cap_slots = cap;
    return TL_OK;
}

/* The partition of (symbol, day), created on first use. */
static int part_get(tl_append *a, int sym_null, const char *sym, uint32_t len, int day_null,
                    int32_t day, uint32_t *out, tl_error *err)
{
    uint64_t h = part_hash(sym_null, sym, len, day_null, day);
    if (a->cap_slots) {
        size_t i = (size_t)h & (a->cap_slots - 1);
        while (a->slots[i]) {
            if (part_match(a->parts[a->slots[i] - 1], h, sym_null, sym, len, day_null, day)) {
                *out = (uint32_t)(a->slots[i] - 1);
                return TL_OK;
            }
            i = (i + 1) & (a->cap_slots - 1);
        }
    }
    if (a->n_parts >= UINT32_MAX - 1)
        return tl_error_set(err, TL_EINVAL, "too many partitions");
    int rc = tl_grow((void **)&a->parts, &a->cap_parts, (a->n_parts + 1) * sizeof *a->parts);
    if (rc)
        return tl_error_set(err, TL_ENOMEM, "out of memory (partitions)");
    part *p = calloc(1, sizeof *p);
    if (!p || !(p->cols = calloc(a->nf, sizeof *p->cols)) ||
        !(p->symbol = malloc((size_t)len + 1))) {
        part_free(p, a->nf);
        return tl_error_set(err, TL_ENOMEM, "out of memory (partition)");
    }
    p->hash = h;
    p->symbol_null = sym_null;
    p->day_null = day_null;
    p->sym_len = sym_null ? 0 : len;
    if (!sym_null)
        memcpy(p->symbol, sym, len);
    p->symbol[p->sym_len] = '\0';
    p->day = day_null ? 0 : day;
    /* directory (LOG.md 2.1): a null value is written "~null" (PP-5). */
    const tl_log_metadata *m = a->meta;
    size_t dl = 0;
    if (m->part_symbol_col && !sym_null) {
        rc = tl_partpath_dir(TL_LOG_PART_SYMBOL, sym, len, NULL, 0, p->dir, sizeof p->dir, &dl,
                             err);
    } else if (m->part_symbol_col) {
        dl = (size_t)snprintf(p->dir, sizeof p->dir, "%s=~null", TL_LOG_PART_SYMBOL);
    }
    if (!rc && m->part_day_col) {
        char date[32];
        if (day_null)
            snprintf(date, sizeof date, "~null");
        else
            date[tl_fmt_date(date, day)] = '\0';
        dl += (size_t)snprintf(p->dir + dl, sizeof p->dir - dl, "%s%s=%s", dl ? "/" : "",
                               TL_LOG_PART_DATE, date);
    }
    if (rc) {
        part_free(p, a->nf);
        return rc;
    }
    a->parts[a->n_parts++] = p;
    if (a->n_parts * 2 > a->cap_slots) {
        rc = slots_rebuild(a, a->cap_slots ? a->cap_slots * 2 : 64, err);
        if (rc)
            return rc;
    } else {
        size_t i = (size_t)h & (a->cap_slots - 1);
        while (a->slots[i])
            i = (i + 1) & (a->cap_slots - 1);
        a->slots[i] = a->n_parts;
    }
    *out = (uint32_t)(a->n_parts - 1);
    return TL_OK;
}

/* Make room for `add` more rows in every column of p. */
static int part_reserve(tl_append *a, part *p, uint32_t add, tl_error *err)
{
    uint64_t need = (uint64_t)p->n + add;
    if (need <= p->cap_rows)
        return TL_OK;
    if (need > MAX_SEGMENT_ROWS * 2)
        return tl_error_set(err, TL_EINVAL, "partition buffer above 2^32 rows");
    uint64_t cap = p->cap_rows ? p->cap_rows : 1024;
    while (cap < need)
        cap *= 2;
    size_t before = p->mem, mem = 0;
    for (uint32_t c = 0; c < a->nf; c++) {
        colbuf *b = &p->cols[c];
        size_t w = tl_type_width(a->defs[c].type);
        size_t bytes = w ? cap * w : (cap + 1) * sizeof(uint32_t);
        if (tl_grow((void **)&b->vals, &b->cap, bytes))
            return tl_error_set(err, TL_ENOMEM, "out of memory (%zu bytes of buffer)",
                                bytes);
        if (!w && p->n == 0)
            ((uint32_t *)b->vals)[0] = 0;
        if (b->valid) {
            size_t vb = (size_t)(cap + 7) / 8;
            size_t old = b->vcap;
            if (tl_grow((void **)&b->valid, &b->vcap, vb))
                return tl_error_set(err, TL_ENOMEM, "out of memory (validity)");
            memset(b->valid + old, 0xFF, b->vcap - old);
        }
        mem += b->cap + b->vcap + b->dcap;
    }
    p->cap_rows = (uint32_t)(cap > UINT32_MAX ? UINT32_MAX : cap);
    p->mem = mem;
    a->mem_total += mem - before;
    return TL_OK;
}

/* Give column c of p a validity bitmap: every row so far present. Called
 * for a column without one, of a partition part_reserve sized (cap_rows >=
 * 1024, so vb > 0). */
static int part_valid(part *p, uint32_t c, tl_error *err)
{
    colbuf *b = &p->cols[c];
    size_t vb = ((size_t)p->cap_rows + 7) / 8;
    if (tl_grow((void **)&b->valid, &b->vcap, vb))
        return tl_error_set(err, TL_ENOMEM, "out of memory (validity)");
    memset(b->valid, 0xFF, b->vcap);
    p->mem += b->vcap;
    return TL_OK;
}

static void part_reset(tl_append *a, part *p)
{
    size_t mem = p->mem;
    for (uint32_t c = 0; c < a->nf; c++)
        colbuf_free(&p->cols[c]);
    p->n = 0;
    p->cap_rows = 0;
    p->mem = 0;
    a->mem_total -= mem;
}

static inline void bit_put(uint8_t *bm, uint64_t i, int v)
{
    if (v)
        bm[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        bm[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* The table's column names, comma-separated, cut with "..." to fit buf
 * (cap >= 8). */
static const char *col_list(const tl_append *a, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < a->nf; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", a->defs[i].name);
        if ((size_t)w >= cap - n) { /* (size_t) of a failure (< 0) is huge: cut too */
            memcpy(buf + cap - 4, "...", 4);
            break;
        }
        n += (size_t)w;
    }
    return buf;
}

/* Schema checks of a batch (nothing is buffered unless all pass). b has
 * rows: tl_append_batch returns before the checks for an empty batch. */
static int check_batch(tl_append *a, const tl_batch *b, tl_error *err)
{
    const char *tp = a->t->path;
    for (uint32_t i = 0; i < a->nf; i++)
        a->colmap[i] = -1;
    if (b->n_cols && (!b->defs || !b->cols))
        return tl_error_set(err, TL_EINVAL, "append to %s: batch without columns", tp);
    for (uint32_t j = 0; j < b->n_cols; j++) {
        const char *name = b->defs[j].name ? b->defs[j].name : "(null)";
        int k = b->defs[j].name ? tl_table_meta_col(a->meta, b->defs[j].name) : -1;
        if (k < 0) {
            char list[256]; /* leaves room in err->msg for the rest, so a cut
                               list still ends in "..." */
            return tl_error_set(err, TL_EINVAL,
                                "append to %s: unknown column '%s' (the table has: %s)", tp,
                                name, col_list(a, list, sizeof list));
        }
        if (a->colmap[k] >= 0)
            return tl_error_set(err, TL_EINVAL, "append to %s: column '%s' given twice", tp, name);
        if (b->defs[j].type != a->defs[k].type)
            return tl_error_set(err, TL_EINVAL,
                                "append to %s: column '%s' is %s in the batch, the table has %s",
                                tp, name,
                                tl_type_name(b->defs[j].type) ? tl_type_name(b->defs[j].type)
                                                              : "an unknown type",
                                tl_type_name(a->defs[k].type));
        a->colmap[k] = (int32_t)j;
        const tl_colvec *v = &b->cols[j];
        if (a->defs[k].type == TL_STRING) {
            if (!v->offsets || (!v->data && v->offsets[b->n_rows] != v->offsets[0]))
                return tl_error_set(err, TL_EINVAL,
                                    "append to %s: string column '%s' without offsets or data",
                                    tp, name);
            for (uint32_t r = 0; r < b->n_rows; r++)
                if (v->offsets[r + 1] < v->offsets[r])
                    return tl_error_set(err, TL_EINVAL,
                                        "append to %s: column '%s': string offsets decrease at "
                                        "row %u",
                                        tp, name, r);
        } else if (!v->values) {
            return tl_error_set(err, TL_EINVAL, "append to %s: column '%s' without values", tp,
                                name);
        }
        if (!a->nullable[k] && v->validity) {
            for (uint32_t r = 0; r < b->n_rows; r++)
                if (!tl_bit_get(v->validity, r))
                    return tl_error_set(err, TL_EINVAL,
                                        "append to %s: column '%s' is not nullable, but row %u "
                                        "of the batch is null",
                                        tp, name, r);
        }
    }
    for (uint32_t i = 0; i < a->nf; i++)
        if (a->colmap[i] < 0 && !a->nullable[i])
            return tl_error_set(err, TL_EINVAL,
                                "append to %s: missing non-nullable column '%s' (%s)", tp,
                                a->defs[i].name, tl_type_name(a->defs[i].type));
    return TL_OK;
}

/* Partition of every row into a->pid (all checks before anything moves). */
static int batch_partitions(tl_append *a, const tl_batch *b, tl_error *err)
{
    uint32_t n = b->n_rows;
    const tl_colvec *sv = a->sym_col >= 0 && a->colmap[a->sym_col] >= 0
                              ? &b->cols[a->colmap[a->sym_col]]
                              : NULL;
    const tl_colvec *dv = a->day_col >= 0 && a->colmap[a->day_col] >= 0
                              ? &b->cols[a->colmap[a->day_col]]
                              : NULL;
    int has_sym = a->sym_col >= 0, has_day = a->day_col >= 0;
    int last_ok = 0, l_snull = 0, l_dnull = 0;
    const char *l_sym = NULL;
    uint32_t l_len = 0, l_pid = 0;
    int32_t l_day = 0;
    for (uint32_t r = 0; r < n; r++) {
        int snull = has_sym && (!sv || !tl_bit_get(sv->validity, r));
        const char *sym = "";
        uint32_t len = 0;
        if (has_sym && !snull) {
            sym = (const char *)sv->data + sv->offsets[r];
            len = sv->offsets[r + 1] - sv->offsets[r];
        }
        int dnull = has_day && (!dv || !tl_bit_get(dv->validity, r));
        int32_t day = 0;
        if (has_day && !dnull)
            day = (int32_t)floor_day(((const int64_t *)dv->values)[r]);
        if (last_ok && snull == l_snull && dnull == l_dnull && day == l_day && len == l_len &&
            memcmp(sym, l_sym, len) == 0) {
            a->pid[r] = l_pid;
            continue;
        }
        if (has_sym && !snull) {
            if (len > TL_LOG_MAX_SYMBOL || memchr(sym, 0, len) ||
                tl_utf8_bad((const uint8_t *)sym, len) < len)
                return tl_error_set(err, TL_EINVAL,
                                    "append to %s: column '%s', row %u: a symbol must be valid "
                                    "UTF-8 without NUL, at most %d bytes (got %u bytes)",
                                    a->t->path, a->defs[a->sym_col].name, r, TL_LOG_MAX_SYMBOL,
                                    len);
        }
        int rc = part_get(a, snull, sym, len, dnull, day, &a->pid[r], err);
        if (rc)
            return tl_error_prefix(err, "append to %s: ", a->t->path), rc;
        last_ok = 1, l_snull = snull, l_dnull = dnull, l_day = day, l_sym = sym, l_len = len;
        l_pid = a->pid[r];
    }
    return TL_OK;
}

static int write_part(tl_append *a, part *p, wscratch *ws, tl_error *err);
static int scatter(tl_append *a, const tl_batch *b, tl_error *err);

/* Every error of a batch or a commit names the table: the helpers below
 * the entry points say only what failed ("out of memory (strings)"). */
static int name_table(const tl_table *t, int rc, tl_error *err)
{
    if (rc && err && !strstr(err->msg, t->path))
        tl_error_prefix(err, "append to %s: ", t->path);
    return rc;
}

int tl_append_batch(tl_append *a, const tl_batch *b, tl_error *err)
{
    if (!a || !b)
        return tl_error_set(err, TL_EINVAL, "append: no %s", a ? "batch" : "append handle");
    if (a->failed)
        return tl_error_set(err, TL_EINVAL, "append to %s: an earlier batch failed; abort it",
                            a->t->path);
    if (a->noop || b->n_rows == 0)
        return TL_OK;
    int rc = check_batch(a, b, err);
    if (rc)
        return rc;
    uint32_t n = b->n_rows;
    if (n > a->cap_rows_scratch) {
        free(a->pid);
        free(a->dst);
        a->pid = malloc((size_t)n * sizeof *a->pid);
        a->dst = malloc((size_t)n * sizeof *a->dst);
        a->cap_rows_scratch = a->pid && a->dst ? n : 0;
        if (!a->pid || !a->dst)
            return name_table(a->t, tl_error_set(err, TL_ENOMEM, "out of memory (%u rows)", n),
                              err);
    }
    rc = batch_partitions(a, b, err);
    if (rc)
        return rc;
    rc = scatter(a, b, err);
    if (rc)
        a->failed = 1; /* buffers may hold part of the batch */
    return name_table(a->t, rc, err);
}

/* Move the rows of a checked batch into the partition buffers, then spill. */
static int scatter(tl_append *a, const tl_batch *b, tl_error *err)
{
    uint32_t n = b->n_rows;
    int rc;
    /* rows per partition -> destination row of each batch row */
    if (tl_grow((void **)&a->cursor, &a->cap_cursor, a->n_parts * sizeof *a->cursor))
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    memset(a->cursor, 0, a->n_parts * sizeof *a->cursor);
    for (uint32_t r = 0; r < n; r++)
        a->cursor[a->pid[r]]++;
    for (size_t q = 0; q < a->n_parts; q++)
        if (a->cursor[q]) {
            rc = part_reserve(a, a->parts[q], a->cursor[q], err);
            if (rc)
                return rc;
            a->cursor[q] = a->parts[q]->n;
        }
    for (uint32_t r = 0; r < n; r++)
        a->dst[r] = a->cursor[a->pid[r]]++;
    int single = a->pid[0] == a->pid[n - 1];
    for (uint32_t r = 1; single && r < n; r++)
        single = a->pid[r] == a->pid[0];

    for (uint32_t c = 0; c < a->nf; c++) {
        int j = a->colmap[c];
        const tl_colvec *v = j >= 0 ? &b->cols[j] : NULL;
        size_t w = tl_type_width(a->defs[c].type);
        int has_nulls = !v || v->validity;
        int any_bitmap = 0; /* a touched partition keeps a bitmap for c */
        for (size_t q = 0; q < a->n_parts; q++) {
            part *pq = a->parts[q];
            if (a->cursor[q] <= pq->n)
                continue; /* not touched by this batch (cursor = n + rows added) */
            if (has_nulls && !pq->cols[c].valid) {
                rc = part_valid(pq, c, err);
                if (rc)
                    return rc;
            }
            any_bitmap |= pq->cols[c].valid != NULL;
        }
        if (w) {
            if (!v) {
                for (uint32_t r = 0; r < n; r++)
                    memset(a->parts[a->pid[r]]->cols[c].vals + (size_t)a->dst[r] * w, 0, w);
            } else if (single) {
                memcpy(a->parts[a->pid[0]]->cols[c].vals + (size_t)a->dst[0] * w, v->values,
                       (size_t)n * w);
            } else {
                const uint8_t *src = v->values;
                switch (w) {
                case 1:
                    for (uint32_t r = 0; r < n; r++)
                        a->parts[a->pid[r]]->cols[c].vals[a->dst[r]] = src[r];
                    break;
                case 2:
                    for (uint32_t r = 0; r < n; r++)
                        memcpy(a->parts[a->pid[r]]->cols[c].vals + (size_t)a->dst[r] * 2,
                               src + (size_t)r * 2, 2);
                    break;
                case 4:
                    for (uint32_t r = 0; r < n; r++)
                        memcpy(a->parts[a->pid[r]]->cols[c].vals + (size_t)a->dst[r] * 4,
                               src + (size_t)r * 4, 4);
                    break;
                default:
                    for (uint32_t r = 0; r < n; r++)
                        memcpy(a->parts[a->pid[r]]->cols[c].vals + (size_t)a->dst[r] * 8,
                               src + (size_t)r * 8, 8);
                    break;
                }
            }
        } else {
            for (uint32_t r = 0; r < n; r++) {
                part *p = a->parts[a->pid[r]];
                colbuf *cb = &p->cols[c];
                uint32_t *offs = (uint32_t *)cb->vals;
                uint32_t len = 0;
                const uint8_t *s = NULL;
                if (v && tl_bit_get(v->validity, r)) {
                    len = v->offsets[r + 1] - v->offsets[r];
                    s = v->data + v->offsets[r];
                }
                if (cb->dlen + len > MAX_PART_STRING_BYTES)
                    return tl_error_set(err, TL_EINVAL,
                                        "append to %s: column '%s': more than %zu bytes of "
                                        "strings in one partition buffer",
                                        a->t->path, a->defs[c].name, MAX_PART_STRING_BYTES);
                if (len) {
                    size_t before = cb->dcap;
                    if (tl_grow((void **)&cb->data, &cb->dcap, cb->dlen + len))
                        return tl_error_set(err, TL_ENOMEM, "out of memory (strings)");
                    p->mem += cb->dcap - before;
                    a->mem_total += cb->dcap - before;
                    memcpy(cb->data + cb->dlen, s, len);
                    cb->dlen += len;
                }
                offs[a->dst[r] + 1] = (uint32_t)cb->dlen;
            }
        }
        if (!any_bitmap)
            continue;
        if (single) {
            colbuf *cb = &a->parts[a->pid[0]]->cols[c];
            for (uint32_t r = 0; r < n; r++)
                bit_put(cb->valid, a->dst[0] + r, v ? tl_bit_get(v->validity, r) : 0);
            continue;
        }
        for (uint32_t r = 0; r < n; r++) {
            colbuf *cb = &a->parts[a->pid[r]]->cols[c];
            if (cb->valid)
                bit_put(cb->valid, a->dst[r], v ? tl_bit_get(v->validity, r) : 0);
        }
    }
    for (size_t q = 0; q < a->n_parts; q++)
        a->parts[q]->n = a->cursor[q] > a->parts[q]->n ? a->cursor[q] : a->parts[q]->n;
    a->rows_in += n;
    if (a->progress) {
        double now = mono_s();
        if (now - a->last_progress >= 0.1) {
            a->last_progress = now;
            a->progress(a->progress_ctx, a->rows_in, 0);
        }
    }
    /* spill: partitions at the file size limit, then the largest until
     * the buffers fit in half the budget */
    for (size_t q = 0; q < a->n_parts; q++) {
        part *p = a->parts[q];
        int full = p->n >= a->segment_rows;
        for (uint32_t c = 0; !full && c < a->nf; c++)
            full = p->cols[c].dlen > MAX_PART_STRING_BYTES / 2;
        if (full) {
            rc = write_part(a, p, &a->ws, err);
            if (rc)
                return rc;
        }
    }
    while (a->mem_total > a->max_memory) {
        part *big = NULL;
        for (size_t q = 0; q < a->n_parts; q++)
            if (a->parts[q]->n && (!big || a->parts[q]->mem > big->mem))
                big = a->parts[q];
        if (!big)
            break;
        rc = write_part(a, big, &a->ws, err);
        if (rc)
            return rc;
        if (a->mem_total <= a->max_memory / 2)
            break;
    }
    return TL_OK;
}

/* ---- append: writing data files ------------------------------------------------------------ */

/* Gather rows perm[0..m) of p into the chunk buffers; vecs point at them.
 * m >= 1 (write_file's chunks of a partition with rows). */
static int gather(const tl_append *a, const part *p, const uint32_t *perm, uint32_t m,
                  int ident, wscratch *ws, tl_error *err)
{
    for (uint32_t c = 0; c < a->nf; c++) {
        const colbuf *src = &p->cols[c];
        colbuf *dst = &ws->chunk[c];
        size_t w = tl_type_width(a->defs[c].type);
        tl_colvec *v = &ws->vecs[c];
        memset(v, 0, sizeof *v);
        if (ident) {
            /* rows already in key order: hand the buffers over in place */
            size_t r0 = perm[0];
            if (w)
                v->values = src->vals + r0 * w;
            else {
                v->offsets = (const uint32_t *)src->vals + r0;
                v->data = src->data;
            }
            if (src->valid && r0 % 8 == 0) {
                v->validity = src->valid + r0 / 8;
                continue;
            }
            if (!src->valid)
                continue;
            /* unaligned validity: gathered below */
        } else if (w) {
            if (tl_grow((void **)&dst->vals, &dst->cap, (size_t)m * w))
                return tl_error_set(err, TL_ENOMEM, "out of memory (gather)");
            uint8_t *o = dst->vals;
            const uint8_t *s = src->vals;
            switch (w) {
            case 1:
                for (uint32_t i = 0; i < m; i++)
                    o[i] = s[perm[i]];
                break;
            case 2:
                for (uint32_t i = 0; i < m; i++) {
                    __builtin_prefetch(s + (size_t)perm[i + PF < m ? i + PF : i] * 2);
                    memcpy(o + (size_t)i * 2, s + (size_t)perm[i] * 2, 2);
                }
                break;
            case 4:
                for (uint32_t i = 0; i < m; i++) {
                    __builtin_prefetch(s + (size_t)perm[i + PF < m ? i + PF : i] * 4);
                    memcpy(o + (size_t)i * 4, s + (size_t)perm[i] * 4, 4);
                }
                break;
            default:
                for (uint32_t i = 0; i < m; i++) {
                    __builtin_prefetch(s + (size_t)perm[i + PF < m ? i + PF : i] * 8);
                    memcpy(o + (size_t)i * 8, s + (size_t)perm[i] * 8, 8);
                }
                break;
            }
            v->values = o;
        } else {
            const uint32_t *so = (const uint32_t *)src->vals;
            size_t bytes = 0;
            for (uint32_t i = 0; i < m; i++)
                bytes += so[perm[i] + 1] - so[perm[i]];
            if (tl_grow((void **)&dst->vals, &dst->cap, ((size_t)m + 1) * 4) ||
                tl_grow((void **)&dst->data, &dst->dcap, bytes ? bytes : 1))
                return tl_error_set(err, TL_ENOMEM, "out of memory (gather)");
            uint32_t *oo = (uint32_t *)dst->vals;
            size_t at = 0;
            oo[0] = 0;
            for (uint32_t i = 0; i < m; i++) {
                uint32_t lo = so[perm[i]], len = so[perm[i] + 1] - lo;
                if (len)
                    memcpy(dst->data + at, src->data + lo, len);
                at += len;
                oo[i + 1] = (uint32_t)at;
            }
            v->offsets = oo;
            v->data = dst->data;
        }
        if (src->valid) { /* bits */
            if (tl_grow((void **)&dst->valid, &dst->vcap, ((size_t)m + 7) / 8))
                return tl_error_set(err, TL_ENOMEM, "out of memory (gather)");
            memset(dst->valid, 0, ((size_t)m + 7) / 8);
            for (uint32_t i = 0; i < m; i++)
                if (tl_bit_get(src->valid, perm[i]))
                    dst->valid[i >> 3] |= (uint8_t)(1u << (i & 7));
            v->validity = dst->valid;
        }
    }
    return TL_OK;
}

/* Type order of zone-map values (FORMAT.md 7): 1 if x < y. */
static int zlt(tl_type t, tlf_zval x, tlf_zval y)
{
    if (tl_type_is_float(t)) {
        if (x.f == y.f)
            return x.f == 0 && signbit(x.f) && !signbit(y.f);
        return x.f < y.f;
    }
    if (tl_type_is_unsigned_int(t))
        return x.u < y.u;
    return x.i < y.i;
}

static int slt(const uint8_t *x, uint32_t xl, const uint8_t *y, uint32_t yl)
{
    int c = memcmp(x, y, xl < yl ? xl : yl);
    return c < 0 || (c == 0 && xl < yl);
}

/* The add statistics of a written file, from its footer's zone maps. */
static int file_stats(const tl_coldef *defs, uint32_t nf, int day_col, const tlf_seg *seg,
                      tl_dfstats *f, tl_error *err)
{
    f->cs = calloc((size_t)nf + 1, sizeof *f->cs); /* + 1: never calloc(0) */
    f->sbytes = malloc((size_t)nf * 2 * TLF_ZONE_STR_MAX + 1);
    if (!f->cs || !f->sbytes)
        return tl_error_set(err, TL_ENOMEM, "out of memory (statistics)");
    uint32_t nb = tlf_seg_n_blocks(seg);
    for (uint32_t c = 0; c < nf; c++) {
        tl_log_colstats *cs = &f->cs[c];
        const tlf_col_info *ci = tlf_seg_col(seg, c);
        tl_type t = defs[c].type;
        cs->name = defs[c].name;
        cs->type = t;
        cs->null_count = (int64_t)ci->null_count;
        int have = 0, unbounded = 0, min_inexact = 0, max_inexact = 0;
        tlf_zval mn = {0}, mx = {0};
        const uint8_t *smn = NULL, *smx = NULL;
        uint32_t smnl = 0, smxl = 0;
        for (uint32_t b = 0; b < nb; b++) {
            const tlf_block_info *bi = tlf_seg_block(seg, c, b);
            if (bi->zone_flags & TLF_ZONE_HAS_NAN)
                cs->has_nan = 1;
            if (!(bi->zone_flags & TLF_ZONE_HAS_MINMAX))
                continue;
            int bmi = !!(bi->zone_flags & TLF_ZONE_MIN_INEXACT);
            int bma = !!(bi->zone_flags & TLF_ZONE_MAX_INEXACT);
            if (bi->zone_flags & TLF_ZONE_MAX_UNBOUNDED)
                unbounded = 1;
            if (t == TL_STRING) {
                if (!have || slt(bi->smin, bi->smin_len, smn, smnl) ||
                    (smnl == bi->smin_len && memcmp(smn, bi->smin, smnl) == 0 && !bmi))
                    smn = bi->smin, smnl = bi->smin_len, min_inexact = bmi;
                if (!(bi->zone_flags & TLF_ZONE_MAX_UNBOUNDED) &&
                    (!smx || slt(smx, smxl, bi->smax, bi->smax_len) ||
                     (smxl == bi->smax_len && memcmp(smx, bi->smax, smxl) == 0 && !bma)))
                    smx = bi->smax, smxl = bi->smax_len, max_inexact = bma;
            } else {
                if (!have || zlt(t, bi->min, mn))
                    mn = bi->min;
                if (!have || zlt(t, mx, bi->max))
                    mx = bi->max;
            }
            have = 1;
        }
        if (!have)
            continue;
        cs->has_min = 1;
        if (t == TL_STRING) {
            uint8_t *sb = f->sbytes + (size_t)c * 2 * TLF_ZONE_STR_MAX;
            memcpy(sb, smn, smnl);
            cs->min.s.p = sb;
            cs->min.s.len = smnl;
            cs->min_truncated = min_inexact;
            if (!unbounded) { /* then every block with bounds set smx */
                memcpy(sb + TLF_ZONE_STR_MAX, smx, smxl);
                cs->has_max = 1;
                cs->max.s.p = sb + TLF_ZONE_STR_MAX;
                cs->max.s.len = smxl;
                cs->max_truncated = max_inexact;
            }
        } else {
            cs->has_max = 1;
            if (tl_type_is_float(t))
                cs->min.f = mn.f, cs->max.f = mx.f;
            else if (tl_type_is_unsigned_int(t))
                cs->min.u = mn.u, cs->max.u = mx.u;
            else
                cs->min.i = mn.i, cs->max.i = mx.i;
        }
    }
    if (day_col >= 0 && (uint32_t)day_col < nf && f->cs[day_col].has_min) {
        f->has_time_range = 1;
        f->first_ts = f->cs[day_col].min.i;
        f->last_ts = f->cs[day_col].max.i;
    }
    return TL_OK;
}

int tl_datafile_read_back(const tl_coldef *defs, uint32_t nf, int day_col, tl_io_file *fd,
                          const char *path, int64_t size, int64_t rows, uint8_t **foot,
                          size_t *cap_foot, tl_dfstats *st, tl_error *err)
{
    uint8_t tail[TLF_TRAILER_SIZE];
    if ((uint64_t)size < TLF_TRAILER_SIZE)
        return tl_error_set(err, TL_ECORRUPT, "%s: %" PRId64 " bytes written, no trailer", path,
                            size);
    int rc = tl_io_pread_exact(fd, tail, sizeof tail, (uint64_t)size - sizeof tail, err);
    uint64_t foff = 0, flen = 0;
    if (!rc)
        rc = tlf_seg_parse_trailer(tail, (uint64_t)size, path, &foff, &flen, err);
    if (rc)
        return rc;
    if (tl_grow((void **)foot, cap_foot, flen + 1)) /* + 1: never a 0-byte buffer */
        return tl_error_set(err, TL_ENOMEM, "out of memory (footer of %s)", path);
    rc = tl_io_pread_exact(fd, *foot, flen, foff, err);
    tlf_seg *seg = NULL;
    if (!rc)
        rc = tlf_seg_open_footer(*foot, flen, tail, (uint64_t)size, path, &seg, err);
    if (rc)
        return rc;
    if (tlf_seg_n_rows(seg) != (uint64_t)rows || tlf_seg_n_cols(seg) != nf)
        rc = tl_error_set(err, TL_ECORRUPT, "%s: footer says %" PRIu64 " rows, %u columns; "
                          "%" PRId64 " rows, %u columns were written",
                          path, tlf_seg_n_rows(seg), tlf_seg_n_cols(seg), rows, nf);
    else
        rc = file_stats(defs, nf, day_col, seg, st, err);
    tlf_seg_close(seg);
    return rc;
}

/* Write rows perm[0..m) of p (sorted) as one data file. */
static int write_file(tl_append *a, part *p, const uint32_t *perm, uint32_t m, int ident,
                      wscratch *ws, tl_error *err)
{
    const tl_table *t = a->t;
    char id[37];
    int rc = tl_log_uuid4(id, err);
    if (rc)
        return rc;
    outfile f = {0};
    size_t plen = strlen(p->dir) + 1 + 36 + 5;
    f.path = malloc(plen);
    if (!f.path)
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    snprintf(f.path, plen, "%s%s%s.tls", p->dir, p->dir[0] ? "/" : "", id);
    f.p = p;
    f.rows = m;
    f.mtime = tl_table_now_ms(t);
    tl_io_file fd = TL_IO_FILE_INIT;
    tlf_seg_writer *w = NULL;
    int created = 0;
    rc = tl_io_open(t->io, &t->root, f.path, O_RDWR | O_CREAT | O_EXCL, 0644, &fd, err);
    if (rc) /* nothing created (tl_io_open cannot fail after the open) */
        goto fail;
    created = 1;
    if (!ws->wbuf && !(ws->wbuf = malloc(TL_IO_CHUNK))) {
        rc = tl_error_set(err, TL_ENOMEM, "out of memory");
        goto fail;
    }
    tl_io_bufsink cs = {.f = &fd, .buf = ws->wbuf};
    tlf_writer_opts wo = {.col_opts = a->col_opts};
    rc = tlf_seg_writer_open(a->defs, a->nf, &wo, (tlf_sink){tl_io_bufsink_write, &cs}, &w, err);
    for (uint32_t off = 0; !rc && off < m; off += CHUNK_ROWS) {
        uint32_t k = m - off < CHUNK_ROWS ? m - off : CHUNK_ROWS;
        rc = gather(a, p, perm + off, k, ident, ws, err);
        if (!rc)
            rc = tlf_seg_writer_append(w, ws->vecs, k, err);
    }
    tlf_seg_write_stats st = {0};
    if (!rc)
        rc = tlf_seg_writer_finish(w, &st, err);
    if (!rc)
        rc = tl_io_bufsink_flush(&cs, err);
    tlf_seg_writer_free(w);
    if (rc)
        goto fail;
    f.size = (int64_t)st.file_bytes;
    rc = tl_io_fsync(&fd, err); /* LOG-R41, LOG-R46: never retried */
    if (!rc)
        rc = tl_datafile_read_back(a->defs, a->nf, a->day_col, &fd, f.path, f.size, f.rows,
                                   &ws->foot, &ws->cap_foot, &f.st, err);
    if (!rc)
        rc = tl_io_close(&fd, err);
    if (rc)
        goto fail;
    pthread_mutex_lock(&a->mu);
    rc = tl_grow((void **)&a->files, &a->cap_files, (a->n_files + 1) * sizeof *a->files);
    if (!rc) {
        a->files[a->n_files++] = f;
        if (f.mtime < a->first_file_ms)
            a->first_file_ms = f.mtime;
    }
    pthread_mutex_unlock(&a->mu);
    if (rc) {
        rc = tl_error_set(err, TL_ENOMEM, "out of memory");
        goto fail;
    }
    return TL_OK;
fail:
    tl_io_close(&fd, NULL);
    if (created)
        if (tl_io_unlink(t->io, &t->root, f.path, NULL)) { /* best effort: an orphan */
        }
    tl_error_prefix(err, "append to %s: data file %s: ", t->path, f.path);
    outfile_free(&f);
    return rc;
}

static int wscratch_init(const tl_append *a, wscratch *ws, tl_error *err)
{
    if (ws->chunk)
        return TL_OK;
    ws->chunk = calloc(a->nf, sizeof *ws->chunk);
    ws->vecs = calloc(a->nf, sizeof *ws->vecs);
    ws->keys = calloc(a->n_sort + 1, sizeof *ws->keys);
    if (!ws->chunk || !ws->vecs || !ws->keys)
        return tl_error_set(err, TL_ENOMEM, "out of memory (writer scratch)");
    return TL_OK;
}

/* Sort p's buffered rows and write them as data files; empties p. p has
 * rows (the spill loops and flush_all pick only such partitions). */
static int write_part(tl_append *a, part *p, wscratch *ws, tl_error *err)
{
    uint32_t n = p->n;
    int rc = wscratch_init(a, ws, err);
    if (rc)
        return rc;
    if (tl_grow((void **)&ws->perm, &ws->cap_perm, (size_t)n * sizeof *ws->perm))
        return tl_error_set(err, TL_ENOMEM, "out of memory (%u rows to sort)", n);
    for (uint32_t k = 0; k < a->n_sort; k++) {
        uint32_t c = a->sort_cols[k];
        const colbuf *cb = &p->cols[c];
        ws->keys[k].type = a->defs[c].type;
        ws->keys[k].v = (tl_colvec){0};
        ws->keys[k].v.validity = cb->valid;
        if (a->defs[c].type == TL_STRING) {
            ws->keys[k].v.offsets = (const uint32_t *)cb->vals;
            ws->keys[k].v.data = cb->data;
        } else {
            ws->keys[k].v.values = cb->vals;
        }
    }
    int ident = 0;
    rc = tl_sort_perm(ws->keys, a->n_sort, n, ws->perm, &ident, &ws->sort, err);
    if (rc)
        return tl_error_prefix(err, "append to %s: partition %s: ", a->t->path, p->dir), rc;
    if (!p->dir_made && p->dir[0]) {
        rc = tl_io_mkdir_p(a->t->io, &a->t->root, p->dir, 0777, err);
        if (rc)
            return tl_error_prefix(err, "append to %s: ", a->t->path), rc;
        p->dir_made = 1;
    }
    for (uint64_t off = 0; off < n; off += a->segment_rows) {
        uint32_t m = (uint32_t)(n - off < a->segment_rows ? n - off : a->segment_rows);
        rc = write_file(a, p, ws->perm + off, m, ident, ws, err);
        if (rc)
            return rc;
        p->has_files = 1;
    }
    pthread_mutex_lock(&a->mu);
    part_reset(a, p);
    pthread_mutex_unlock(&a->mu);
    return TL_OK;
}

/* ---- append: commit ---------------------------------------------------------------------- */

typedef struct pool {
    tl_append *a;
    part **todo;
    size_t n;
    atomic_size_t next;
    atomic_int failed;
    int rc;
    tl_error err;
} pool;

static void pool_run(pool *pl, wscratch *ws)
{
    for (;;) {
        if (atomic_load(&pl->failed))
            return;
        size_t i = atomic_fetch_add(&pl->next, 1);
        if (i >= pl->n)
            return;
        tl_error e;
        int rc = write_part(pl->a, pl->todo[i], ws, &e);
        if (rc) {
            pthread_mutex_lock(&pl->a->mu);
            if (!pl->rc) {
                pl->rc = rc;
                pl->err = e;
            }
            pthread_mutex_unlock(&pl->a->mu);
            atomic_store(&pl->failed, 1);
            return;
        }
    }
}

typedef struct worker {
    pool *pl;
    wscratch ws;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool_run(w->pl, &w->ws);
    return NULL;
}

static int cmp_part_rows(const void *x, const void *y)
{
    const part *a = *(part *const *)x, *b = *(part *const *)y;
    return a->n < b->n ? 1 : a->n > b->n ? -1 : 0;
}

/* Write every buffered partition, in parallel. */
static int flush_all(tl_append *a, tl_error *err)
{
    pool pl = {.a = a};
    atomic_init(&pl.next, 0);
    atomic_init(&pl.failed, 0);
    pl.todo = malloc((a->n_parts + 1) * sizeof *pl.todo);
    if (!pl.todo)
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    for (size_t q = 0; q < a->n_parts; q++)
        if (a->parts[q]->n)
            pl.todo[pl.n++] = a->parts[q];
    qsort(pl.todo, pl.n, sizeof *pl.todo, cmp_part_rows);
    size_t nt = a->threads < pl.n ? a->threads : pl.n;
    worker *ws = nt > 1 ? calloc(nt - 1, sizeof *ws) : NULL;
    pthread_t *th = nt > 1 ? calloc(nt - 1, sizeof *th) : NULL;
    size_t started = 0;
    if (ws && th)
        for (size_t i = 0; i + 1 < nt; i++) {
            ws[i].pl = &pl;
            if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
                break;
            started++;
        }
    pool_run(&pl, &a->ws);
    for (size_t i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        wscratch_free(&ws[i].ws, a->nf);
    }
    free(ws);
    free(th);
    free(pl.todo);
    if (pl.rc && err)
        *err = pl.err;
    return pl.rc;
}

static void remove_files(tl_append *a)
{
    for (size_t i = 0; i < a->n_files; i++)
        if (tl_io_unlink(a->t->io, &a->t->root, a->files[i].path, NULL)) { /* orphan */
        }
}

static void fill_add(const tl_append *a, const outfile *f, tl_log_action *act)
{
    memset(act, 0, sizeof *act);
    act->kind = TL_LOG_ADD;
    tl_log_add *ad = &act->u.add;
    ad->path = f->path;
    ad->part.has_symbol = a->sym_col >= 0;
    ad->part.symbol_null = f->p->symbol_null;
    ad->part.symbol = f->p->symbol;
    ad->part.has_date = a->day_col >= 0;
    ad->part.date_null = f->p->day_null;
    ad->part.date = f->p->day;
    ad->size_bytes = f->size;
    ad->n_rows = f->rows;
    ad->mtime_ms = f->mtime;
    ad->data_change = 1;
    ad->has_stats = 1;
    ad->stats.has_time_range = f->st.has_time_range;
    ad->stats.first_ts_ns = f->st.first_ts;
    ad->stats.last_ts_ns = f->st.last_ts;
    ad->stats.cols = f->st.cs;
    ad->stats.n_cols = a->nf;
}

/* MAINT-O11: with ticklake.autoOptimize.minFiles set, optimize the
 * partitions this append wrote to once it has committed. Never fails the
 * append: the outcome goes to r->auto_optimize_*. */
static void auto_optimize(tl_append *a, tl_append_result *r)
{
    int64_t min_files = 0, target = 0;
    if (tl_log_config_int(a->meta, TL_LOG_CONF_AUTO_OPTIMIZE_MIN_FILES, &min_files, NULL) ||
        min_files <= 0 ||
        tl_log_config_int(a->meta, TL_LOG_CONF_AUTO_OPTIMIZE_TARGET_ROWS, &target, NULL))
        return;
    tl_log_pvals *pv = calloc(a->n_parts + 1, sizeof *pv);
    if (!pv) {
        r->auto_optimize_rc = TL_ENOMEM;
        return;
    }
    size_t n = 0;
    for (size_t q = 0; q < a->n_parts; q++) {
        const part *p = a->parts[q];
        if (!p->has_files)
            continue;
        pv[n++] = (tl_log_pvals){.has_symbol = a->sym_col >= 0, .symbol_null = p->symbol_null,
                                 .symbol = p->symbol, .has_date = a->day_col >= 0,
                                 .date_null = p->day_null, .date = p->day};
    }
    tl_optimize_result orr;
    tl_error e;
    r->auto_optimize_rc = tl_optimize_auto(a->t, pv, n, (uint32_t)min_files, (uint64_t)target,
                                           &orr, &e);
    if (r->auto_optimize_rc == TL_OK) {
        r->auto_optimize_version = orr.committed ? orr.version : -1;
        tl_optimize_result_free(&orr);
    }
    free(pv);
}

/* MAINT-D3..D6: commit the append's files through the dedup rewrite. */
static int commit_dedup(tl_append *a, tl_append_result *r, tl_error *err)
{
    tl_dedup_file *df = calloc(a->n_files, sizeof *df);
    tl_log_pvals *pv = calloc(a->n_files, sizeof *pv);
    if (!df || !pv) {
        free(df);
        free(pv);
        return tl_error_set(err, TL_ENOMEM, "out of memory");
    }
    uint64_t rows = 0;
    for (size_t i = 0; i < a->n_files; i++) {
        const outfile *f = &a->files[i];
        pv[i] = (tl_log_pvals){.has_symbol = a->sym_col >= 0, .symbol_null = f->p->symbol_null,
                               .symbol = f->p->symbol, .has_date = a->day_col >= 0,
                               .date_null = f->p->day_null, .date = f->p->day};
        df[i] = (tl_dedup_file){f->path, &pv[i], f->size, f->rows};
        rows += (uint64_t)f->rows;
    }
    tl_log_txn txn = {.app_id = a->app_id, .version = a->app_version};
    tl_dedup_result dr;
    int rc = tl_dedup_commit(a->t, a->meta, &a->dedup, df, a->n_files, a->app_id ? &txn : NULL,
                             a->operation, a->segment_rows, &dr, err);
    free(df);
    free(pv);
    if (rc)
        return tl_error_prefix(err, "append to %s: ", a->t->path), rc;
    r->version = dr.version;
    r->noop = dr.noop;
    r->attempts = dr.attempts;
    if (!dr.noop) {
        r->n_rows = rows;
        r->n_files = dr.files_out;
        r->bytes = dr.bytes_out;
        r->dedup_rows_dropped = dr.rows_dropped;
        for (size_t q = 0; q < a->n_parts; q++)
            r->n_partitions += (uint32_t)a->parts[q]->has_files;
    }
    return TL_OK;
}

int tl_append_commit(tl_append *a, tl_append_result *res, tl_error *err)
{
    tl_append_result r0 = {.auto_optimize_version = -1};
    if (res)
        *res = r0;
    if (!a)
        return tl_error_set(err, TL_EINVAL, "append: no append handle");
    tl_table *t = a->t;
    int rc = TL_OK, keep = 0; /* keep: the commit may be visible (LOG-R46/R47) */
    if (a->failed) {
        rc = tl_error_set(err, TL_EINVAL, "append to %s: an earlier batch failed; nothing "
                          "committed", t->path);
        goto fail;
    }
    if (a->noop) {
        r0.version = a->noop_version;
        r0.noop = 1;
        goto done;
    }
    if ((rc = tl_table_writable(t, err)) != TL_OK)
        goto fail;
    rc = flush_all(a, err);
    if (rc)
        goto fail;
    /* LOG-R41: the directories holding the new files, after the files */
    for (size_t q = 0; q < a->n_parts; q++)
        if (a->parts[q]->has_files) {
            rc = tl_io_fsync_dir(t->io, &t->root, a->parts[q]->dir[0] ? a->parts[q]->dir : NULL,
                                 err);
            if (rc)
                goto fail;
        }
    if (a->n_files == 0 && !a->app_id) {
        r0.version = a->snap.version;
        goto done;
    }
    /* LOG-R83: files older than the vacuum retention minus a margin may
     * have been taken for orphans */
    int64_t limit = tl_table_orphan_age_ms(a->meta), now = tl_table_now_ms(t);
    if (a->n_files && limit >= 0 && now - a->first_file_ms > limit) {
        rc = tl_error_set(err, TL_EBUSY,
                          "append to %s: its first data file was written %" PRId64
                          " s ago, more than %" PRId64 " s (the vacuum retention minus its "
                          "margin); vacuum may have removed it as an orphan, so nothing was "
                          "committed: run the append again (LOG-R83)",
                          t->path, (now - a->first_file_ms) / 1000, limit / 1000);
        goto fail;
    }
    if (a->dedup.on && a->n_files) {
        rc = commit_dedup(a, &r0, err);
        remove_files(a); /* the rewrite's outputs were committed, never these */
        if (rc)
            goto fail;
        if (!r0.noop)
            auto_optimize(a, &r0);
        goto done;
    }
    size_t nact = a->n_files + (a->app_id ? 1 : 0); /* >= 1: see above */
    tl_log_action *acts = calloc(nact, sizeof *acts);
    if (!acts) {
        rc = tl_error_set(err, TL_ENOMEM, "out of memory");
        goto fail;
    }
    size_t k = 0;
    if (a->app_id) {
        acts[k].kind = TL_LOG_TXN;
        acts[k].u.txn.app_id = a->app_id;
        acts[k].u.txn.version = a->app_version;
        k++;
    }
    uint64_t rows = 0, bytes = 0;
    for (size_t i = 0; i < a->n_files; i++, k++) {
        fill_add(a, &a->files[i], &acts[k]);
        rows += (uint64_t)a->files[i].rows;
        bytes += (uint64_t)a->files[i].size;
    }
    uint32_t nparts = 0;
    for (size_t q = 0; q < a->n_parts; q++)
        nparts += (uint32_t)a->parts[q]->has_files;
    char p_rows[24], p_files[24], p_parts[24];
    snprintf(p_rows, sizeof p_rows, "%" PRIu64, rows);
    snprintf(p_files, sizeof p_files, "%zu", a->n_files);
    snprintf(p_parts, sizeof p_parts, "%u", nparts);
    tl_log_kv kv[3] = {{"rows", p_rows}, {"files", p_files}, {"partitions", p_parts}};
    tl_log_write_opts wo = {.io = t->io, .now_ms = t->now_ms, .now_arg = t->now_arg,
                            .operation = a->operation, .op_params = {kv, 3}, .snap = &a->snap};
    tl_log_write_result wr;
    rc = tl_log_write(&t->root, a->snap.version, acts, (uint32_t)nact, &wo, &wr, err);
    free(acts);
    if (rc) {
        keep = wr.maybe_visible;
        tl_error_prefix(err, "append to %s: ", t->path);
        goto fail;
    }
    if (wr.noop) {
        remove_files(a);
        r0.version = wr.version;
        r0.noop = 1;
        r0.attempts = wr.attempts;
        goto done;
    }
    r0.version = wr.version;
    r0.n_rows = rows;
    r0.n_files = a->n_files;
    r0.bytes = bytes;
    r0.n_partitions = nparts;
    r0.attempts = wr.attempts;
    auto_optimize(a, &r0);
done:
    if (a->progress && !a->noop)
        a->progress(a->progress_ctx, a->rows_in, a->rows_in);
    r0.elapsed_s = mono_s() - a->t0;
    if (res)
        *res = r0;
    append_free(a);
    return TL_OK;
fail:
    /* the commit did not happen, or may have (keep: its files stay, orphans
     * at worst, LOG-C6) */
    name_table(t, rc, err);
    if (!keep)
        remove_files(a);
    append_free(a);
    return rc;
}

void tl_append_abort(tl_append *a)
{
    if (!a)
        return;
    remove_files(a);
    append_free(a);
}

/* ---- append a CSV file ---------------------------------------------------------------------- */

int tl_table_append_csv(tl_table *t, const char *csv_path, const tl_append_opts *o,
                        tl_append_result *res, tl_error *err)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!t || !csv_path)
        return tl_error_set(err, TL_EINVAL, "append csv: no %s", t ? "file" : "table");
    tl_append_opts ao = o ? *o : (tl_append_opts){0};
    tl_progress_fn progress = ao.progress;
    void *pctx = ao.progress_ctx;
    ao.progress = NULL; /* progress here is in bytes of the file */
    tl_append *a;
    int rc = tl_append_begin(t, &ao, &a, err);
    if (rc)
        return rc;
    tl_csv_opts co = {.nullable = a->nullable};
    tl_csv_reader *r = NULL;
    rc = tl_csv_open(csv_path, a->defs, a->nf, &co, &r, err);
    double last = 0;
    while (!rc) {
        tl_batch b;
        rc = tl_csv_next(r, &b, err);
        if (rc || b.n_rows == 0)
            break;
        rc = tl_append_batch(a, &b, err);
        if (rc)
            tl_error_prefix(err, "%s: ", csv_path);
        double now = mono_s();
        if (progress && now - last >= 0.1) {
            last = now;
            progress(pctx, tl_csv_bytes_read(r), tl_csv_file_size(r));
        }
    }
    uint64_t total = r ? tl_csv_file_size(r) : 0;
    tl_csv_close(r);
    if (rc) {
        tl_append_abort(a);
        return rc;
    }
    rc = tl_append_commit(a, res, err);
    if (!rc && progress)
        progress(pctx, total, total);
    return rc;
}

/* ---- table configuration ---------------------------------------------------------------- */

int tl_table_set_config(tl_table *t, const char *key, const char *value, int64_t *version,
                        tl_error *err)
{
    if (version)
        *version = -1;
    if (!t || !key || !key[0])
        return tl_error_set(err, TL_EINVAL, "set configuration: no %s", t ? "key" : "table");
    if (t->delta)
        return tl_error_set(err, TL_EUNSUPPORTED, "set configuration of %s: " TL_DELTA_READ_ONLY_FMT,
                            t->path, t->path);
    if (tl_table_writable(t, err))
        return TL_EIO;
    tl_log_snapshot snap = {0};
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    int rc = tl_log_snapshot_load(&t->root, &so, &snap, err);
    if (rc)
        return tl_error_prefix(err, "set configuration of %s: ", t->path), rc;
    const tl_log_metadata *m = snap.meta;
    tl_log_kv *kv = calloc((size_t)m->config.n + 1, sizeof *kv);
    if (!kv) {
        tl_log_snapshot_free(&snap);
        return tl_error_set(err, TL_ENOMEM, "set configuration of %s: out of memory", t->path);
    }
    uint32_t n = 0;
    int found = 0;
    for (uint32_t i = 0; i < m->config.n; i++) {
        if (strcmp(m->config.kv[i].key, key) == 0) {
            found = 1;
            if (value)
                kv[n++] = (tl_log_kv){key, value};
        } else {
            kv[n++] = m->config.kv[i];
        }
    }
    if (!found && value)
        kv[n++] = (tl_log_kv){key, value};
    tl_log_action act = {.kind = TL_LOG_METADATA};
    act.u.meta = *m;
    act.u.meta.config = (tl_log_map){kv, n};
    act.u.meta.created_ms = tl_table_now_ms(t);
    tl_dedup_cfg dc;
    rc = tl_dedup_config(&act.u.meta, &dc, err); /* MAINT-D1 */
    if (rc) {
        free(kv);
        tl_log_snapshot_free(&snap);
        return tl_error_prefix(err, "set configuration of %s: ", t->path), rc;
    }
    tl_log_kv op[2] = {{"key", key}, {"value", value ? value : ""}};
    tl_log_write_opts wo = {.io = t->io, .now_ms = t->now_ms, .now_arg = t->now_arg,
                            .operation = "SET CONFIGURATION", .op_params = {op, value ? 2u : 1u},
                            .snap = &snap};
    tl_log_write_result wr;
    rc = tl_log_write(&t->root, snap.version, &act, 1, &wo, &wr, err);
    if (rc)
        tl_error_prefix(err, "set configuration of %s: ", t->path);
    else if (version)
        *version = wr.version;
    free(kv);
    tl_log_snapshot_free(&snap);
    return rc;
}
