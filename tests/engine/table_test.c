/*
 * table_test.c - tables end to end through the public API (table.c,
 * snapshot.c, sortkey.c): create, append (sorting, partition split,
 * spills), time travel at every version, schema checks that write nothing,
 * idempotent ingest (LOG-R60), hostile partition values (PP-1..PP-5,
 * LOG-R11), LOG-R58 checks of the reader, and fault injection / power cuts
 * at every I/O call of an append (LOG-R41, LOG-C1, LOG-C2, LOG-C6).
 *
 * Rows are compared as multisets of row hashes (type-aware, nulls
 * included), so the check does not depend on file order.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "io_int.h"
#include "log_int.h"
#include "partpath_int.h"
#include "sortkey_int.h"
#include "table_int.h"

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
    snprintf(dir, sizeof dir, "%s/tl_table.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(table, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------------------- */

typedef struct hashes {
    uint64_t *h;
    size_t n, cap;
} hashes;

static uint64_t row_hash(const tl_batch *b, uint32_t r, const char *const *names, uint32_t n_names)
{
    /* hash columns by name in the order of names so batches with different
     * column orders agree */
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    for (uint32_t k = 0; k < n_names; k++) {
        uint32_t c = 0;
        while (c < b->n_cols && strcmp(b->defs[c].name, names[k]) != 0)
            c++;
        cr_assert_lt(c, b->n_cols, "column %s missing", names[k]);
        tlt_hash_cell(st, b, c, r);
    }
    uint64_t h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

static void hashes_add_batch(hashes *hs, const tl_batch *b, const char *const *names, uint32_t nn)
{
    for (uint32_t r = 0; r < b->n_rows; r++) {
        if (hs->n == hs->cap) {
            hs->cap = hs->cap ? hs->cap * 2 : 1024;
            hs->h = realloc(hs->h, hs->cap * sizeof *hs->h);
            cr_assert_not_null(hs->h);
        }
        hs->h[hs->n++] = row_hash(b, r, names, nn);
    }
}

static void hashes_sort(hashes *hs)
{
    if (hs->n)
        qsort(hs->h, hs->n, sizeof *hs->h, tlt_cmp_u64);
}

static const char *const *tick_names(uint32_t *n)
{
    static const char *names[64];
    uint32_t nc;
    const tl_coldef *d = tl_ticks_schema(&nc);
    for (uint32_t i = 0; i < nc; i++)
        names[i] = d[i].name;
    *n = nc;
    return names;
}

/* The sort key order of two rows of a batch (expiry, opt_type, strike,
 * timestamp for the ticks table): <0, 0, >0. */
static int key_cmp(const tl_batch *b, uint32_t x, uint32_t y)
{
    /* columns 2 expiry (date), 3 opt_type (string), 4 strike (float32), 0 timestamp */
    int32_t ex = ((const int32_t *)b->cols[2].values)[x], ey = ((const int32_t *)b->cols[2].values)[y];
    if (ex != ey)
        return ex < ey ? -1 : 1;
    const tl_colvec *o = &b->cols[3];
    uint32_t lx = o->offsets[x + 1] - o->offsets[x], ly = o->offsets[y + 1] - o->offsets[y];
    int c = memcmp(o->data + o->offsets[x], o->data + o->offsets[y], lx < ly ? lx : ly);
    if (c || lx != ly)
        return c ? c : (lx < ly ? -1 : 1);
    float sx = ((const float *)b->cols[4].values)[x], sy = ((const float *)b->cols[4].values)[y];
    if (sx != sy)
        return sx < sy ? -1 : 1;
    int64_t tx = ((const int64_t *)b->cols[0].values)[x], ty = ((const int64_t *)b->cols[0].values)[y];
    return tx < ty ? -1 : tx > ty;
}

/* Read every row of the snapshot at version v (or latest when v < 0):
 * their hashes; checks each file is sorted and its rows carry its
 * partition values. Returns the row count. */
static uint64_t read_version(tl_table *t, int64_t v, hashes *out)
{
    uint32_t nn;
    const char *const *names = tick_names(&nn);
    tl_error err;
    tl_snapshot *s;
    tl_at at = {.kind = v < 0 ? TL_AT_LATEST : TL_AT_VERSION, .version = v};
    cr_assert_eq(tl_snapshot_open(t, &at, &s, &err), TL_OK, "%s", err.msg);
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    if (v >= 0)
        cr_assert_eq(info.version, v);
    uint64_t rows = 0;
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        cr_assert_eq(tl_partpath_check(fi.path, strlen(fi.path), &err), TL_OK, "%s", err.msg);
        tl_rows_filter f = {0};
        /* read this file alone: filter by its partition (one file per
         * partition in most tests; order within a partition is by path) */
        (void)f;
        rows += fi.n_rows;
    }
    cr_assert_eq(info.n_rows, rows);
    tl_reader *r;
    cr_assert_eq(tl_reader_open(s, NULL, NULL, 0, &r, &err), TL_OK, "%s", err.msg);
    uint64_t got = 0;
    tl_batch b, prev = {0};
    (void)prev;
    for (;;) {
        cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
        if (b.n_rows == 0)
            break;
        for (uint32_t i = 1; i < b.n_rows; i++)
            cr_assert_leq(key_cmp(&b, i - 1, i), 0, "rows %u-%u of a block out of key order", i - 1,
                          i);
        if (out)
            hashes_add_batch(out, &b, names, nn);
        got += b.n_rows;
    }
    cr_assert_eq(got, rows);
    tl_reader_close(r);
    tl_snapshot_close(s);
    return rows;
}

static void gen_opts(tl_gen_opts *go, uint64_t seed, uint32_t days, uint64_t rows, int sorted)
{
    tl_gen_opts_default(go);
    go->seed = seed;
    go->days = days;
    go->rows_per_day = rows;
    go->sorted = sorted;
}

/* Append everything generator go produces, in batches of batch_rows, as one
 * commit; the input rows' hashes go to in. */
static tl_append_result append_gen(tl_table *t, const tl_gen_opts *go, uint32_t batch_rows,
                                   const tl_append_opts *ao, hashes *in)
{
    uint32_t nn;
    const char *const *names = tick_names(&nn);
    tl_error err;
    tl_gen *g;
    cr_assert_eq(tl_gen_open(go, &g, &err), TL_OK, "%s", err.msg);
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, ao, &a, &err), TL_OK, "%s", err.msg);
    for (;;) {
        tl_batch b;
        int done;
        cr_assert_eq(tl_gen_next(g, batch_rows, &b, &done, &err), TL_OK, "%s", err.msg);
        if (done)
            break;
        if (in)
            hashes_add_batch(in, &b, names, nn);
        cr_assert_eq(tl_append_batch(a, &b, &err), TL_OK, "%s", err.msg);
    }
    tl_gen_close(g);
    tl_append_result res;
    cr_assert_eq(tl_append_commit(a, &res, &err), TL_OK, "%s", err.msg);
    return res;
}

static tl_table *create_ticks(void)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    return t;
}

static void assert_same(hashes *a, hashes *b)
{
    hashes_sort(a);
    hashes_sort(b);
    cr_assert_eq(a->n, b->n, "rows: %zu vs %zu", a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        cr_assert_eq(a->h[i], b->h[i], "row multisets differ at sorted index %zu", i);
}

/* ---- sort ----------------------------------------------------------------------------- */

Test(table, sort_perm_matches_a_reference_stable_sort)
{
    /* keys: int32 with nulls, string, float64 with -0/+0/NaN; random rows */
    enum { N = 5000 };
    int32_t *k0 = malloc(N * 4);
    uint8_t *v0 = calloc((N + 7) / 8, 1);
    double *k2 = malloc(N * 8);
    uint32_t *offs = malloc((N + 1) * 4);
    char *data = malloc(N * 4);
    static const char *strs[] = {"", "a", "ab", "b", "\xff", "a\x01"};
    uint64_t x = 88172645463325252ull;
    uint32_t at = 0;
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        k0[i] = (int32_t)(x % 7) - 3;
        if (x % 11)
            v0[i / 8] |= (uint8_t)(1u << (i % 8));
        const char *s = strs[(x >> 8) % 6];
        offs[i] = at;
        memcpy(data + at, s, strlen(s));
        at += (uint32_t)strlen(s);
        static const double fv[] = {-0.0, 0.0, 1.5, -2.0, NAN, INFINITY, -INFINITY};
        k2[i] = fv[(x >> 16) % 7];
    }
    offs[N] = at;
    tl_sortcol keys[3] = {
        {TL_INT32, {k0, v0, NULL, NULL}},
        {TL_STRING, {NULL, NULL, offs, (const uint8_t *)data}},
        {TL_FLOAT64, {k2, NULL, NULL, NULL}},
    };
    uint32_t *perm = malloc(N * 4);
    tl_sort_scratch sc = {0};
    tl_error err;
    int sorted;
    cr_assert_eq(tl_sort_perm(keys, 3, N, perm, &sorted, &sc, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(sorted, 0);
    /* check order and stability pairwise */
    for (uint32_t i = 1; i < N; i++) {
        uint32_t a = perm[i - 1], b = perm[i];
        int pa = tl_bit_get(v0, a), pb = tl_bit_get(v0, b);
        int c = pa != pb ? (pa < pb ? -1 : 1) : (!pa ? 0 : (k0[a] > k0[b]) - (k0[a] < k0[b]));
        if (c == 0) {
            uint32_t la = offs[a + 1] - offs[a], lb = offs[b + 1] - offs[b];
            int m = memcmp(data + offs[a], data + offs[b], la < lb ? la : lb);
            c = m ? (m > 0) - (m < 0) : (la > lb) - (la < lb);
        }
        if (c == 0) {
            double da = k2[a], db = k2[b];
            int ra = isnan(da) ? 3 : 0, rb = isnan(db) ? 3 : 0;
            if (ra || rb)
                c = (ra > rb) - (ra < rb);
            else if (da == db)
                c = (signbit(db) ? 1 : 0) - (signbit(da) ? 1 : 0) ? (signbit(da) ? -1 : 1) : 0;
            else
                c = da < db ? -1 : 1;
        }
        cr_assert_leq(c, 0, "perm %u: rows %u, %u out of order", i, a, b);
        if (c == 0)
            cr_assert_lt(a, b, "not stable at %u", i);
    }
    /* sorted input is detected */
    uint32_t *perm2 = malloc(N * 4);
    tl_sortcol one = {TL_INT32, {k0, NULL, NULL, NULL}};
    int32_t *s0 = malloc(N * 4);
    for (uint32_t i = 0; i < N; i++)
        s0[i] = (int32_t)(i / 3);
    one.v.values = s0;
    cr_assert_eq(tl_sort_perm(&one, 1, N, perm2, &sorted, &sc, &err), TL_OK);
    cr_assert_eq(sorted, 1);
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(perm2[i], i);
    tl_sort_scratch_free(&sc);
    free(k0), free(v0), free(k2), free(offs), free(data), free(perm), free(perm2), free(s0);
}

/* ---- create / append / time travel -------------------------------------------------------- */

Test(table, create_twice_is_a_conflict_and_open_checks_a_table)
{
    tl_table *t = create_ticks();
    tl_table_close(t);
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_ECONFLICT);
    cr_assert(strstr(err.msg, "already exists"), "%s", err.msg);
    cr_assert_eq(tl_table_open(dir, &t, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "not a table"), "%s", err.msg);
    spec.day_column = "price";
    char p2[400];
    snprintf(p2, sizeof p2, "%s/u", dir);
    cr_assert_eq(tl_table_create(p2, &spec, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'price' is float64, expected timestamp"), "%s", err.msg);
}

Test(table, appends_time_travel_every_version)
{
    /* K appends of arrival-order ticks (2 symbols x 2 days each); after each
     * one, every earlier version yields exactly its rows */
    tl_table *t = create_ticks();
    enum { K = 4 };
    hashes cum[K + 1];
    memset(cum, 0, sizeof cum);
    for (int k = 1; k <= K; k++) {
        tl_gen_opts go;
        gen_opts(&go, (uint64_t)k, 2, 3000 + 500 * (uint64_t)k, 0);
        hashes in = {0};
        tl_append_result res = append_gen(t, &go, 1777, NULL, &in);
        cr_assert_eq(res.version, k);
        cr_assert_eq(res.n_rows, in.n);
        cr_assert_eq(res.n_partitions, 4);
        cr_assert_eq(res.n_files, 4);
        /* cumulative expectation */
        cum[k].n = cum[k - 1].n + in.n;
        cum[k].cap = cum[k].n;
        cum[k].h = malloc(cum[k].n * 8 + 8);
        if (cum[k - 1].n)
            memcpy(cum[k].h, cum[k - 1].h, cum[k - 1].n * 8);
        memcpy(cum[k].h + cum[k - 1].n, in.h, in.n * 8);
        free(in.h);
        for (int v = 0; v <= k; v++) {
            hashes got = {0};
            read_version(t, v, &got);
            hashes want = {.h = malloc(cum[v].n * 8 + 8), .n = cum[v].n};
            if (cum[v].n)
                memcpy(want.h, cum[v].h, cum[v].n * 8);
            assert_same(&want, &got);
            free(want.h);
            free(got.h);
        }
    }
    tl_history_entry *h;
    size_t nh;
    tl_error err;
    cr_assert_eq(tl_table_history(t, &h, &nh, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(nh, K + 1);
    cr_assert_str_eq(h[0].operation, "CREATE TABLE");
    for (int k = 1; k <= K; k++) {
        cr_assert_str_eq(h[k].operation, "APPEND");
        cr_assert_eq(h[k].added_files, 4);
        cr_assert_eq((uint64_t)h[k].added_rows, cum[k].n - cum[k - 1].n);
        cr_assert_gt(h[k].timestamp_ms, h[k - 1].timestamp_ms);
    }
    free(h);
    for (int k = 0; k <= K; k++)
        free(cum[k].h);
    tl_table_close(t);
}

Test(table, spills_split_partitions_into_sorted_files_every_row_once)
{
    tl_table *t = create_ticks();
    tl_gen_opts go;
    gen_opts(&go, 7, 1, 60000, 0);
    tl_append_opts ao = {.max_memory = 4 << 20, .segment_rows = 20000, .threads = 2};
    hashes in = {0}, got = {0};
    tl_append_result res = append_gen(t, &go, 4096, &ao, &in);
    cr_assert_gt(res.n_files, 6, "files: %" PRIu64, res.n_files);
    cr_assert_eq(res.n_rows, 120000);
    read_version(t, -1, &got);
    assert_same(&in, &got);
    free(in.h);
    free(got.h);
    tl_table_close(t);
}

Test(table, idempotent_app_version_appends_once)
{
    tl_table *t = create_ticks();
    tl_gen_opts go;
    gen_opts(&go, 3, 1, 2000, 1);
    tl_append_opts ao = {.app_id = "daily-import", .app_version = 20251117};
    tl_append_result r1 = append_gen(t, &go, 1000, &ao, NULL);
    cr_assert_eq(r1.noop, 0);
    cr_assert_eq(r1.version, 1);
    tl_append_result r2 = append_gen(t, &go, 1000, &ao, NULL);
    cr_assert_eq(r2.noop, 1, "LOG-R60: second run is a no-op");
    cr_assert_eq(r2.version, 1, "names the version holding the txn");
    ao.app_version = 20251116; /* older: also a no-op */
    tl_append_result r3 = append_gen(t, &go, 1000, &ao, NULL);
    cr_assert_eq(r3.noop, 1);
    ao.app_version = 20251118;
    tl_append_result r4 = append_gen(t, &go, 1000, &ao, NULL);
    cr_assert_eq(r4.noop, 0);
    cr_assert_eq(r4.version, 2);
    cr_assert_eq(read_version(t, -1, NULL), 8000);
    tl_table_close(t);
}

/* ---- schema checks: nothing written ----------------------------------------------------------- */

static size_t count_files(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", path);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    cr_assert_eq(fscanf(p, "%zu", &n), 1);
    pclose(p);
    return n;
}

Test(table, schema_errors_write_nothing)
{
    tl_table_spec spec = {0};
    tl_field f[3] = {{"ts", TL_TIMESTAMP, 0}, {"sym", TL_STRING, 0}, {"px", TL_FLOAT64, 1}};
    spec.fields = f;
    spec.n_fields = 3;
    spec.symbol_column = "sym";
    spec.day_column = "ts";
    const char *sk[] = {"ts"};
    spec.sort_key = sk;
    spec.n_sort_key = 1;
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    size_t files0 = count_files(tpath);

    int64_t ts[2] = {1000, 2000};
    uint32_t offs[3] = {0, 1, 2};
    double px[2] = {1.0, 2.0};
    uint8_t half = 1; /* row 1 null */
    tl_coldef d_ok[3] = {{"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64}};
    tl_colvec c_ok[3] = {{ts, NULL, NULL, NULL}, {NULL, NULL, offs, (const uint8_t *)"AB"},
                         {px, NULL, NULL, NULL}};
    struct {
        tl_coldef d[3];
        tl_colvec c[3];
        uint32_t n;
        const char *want;
    } cases[] = {
        {{{"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"bogus", TL_FLOAT64}}, {c_ok[0], c_ok[1], c_ok[2]}, 3,
         "unknown column 'bogus' (the table has: ts, sym, px)"},
        {{{"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT32}}, {c_ok[0], c_ok[1], c_ok[2]}, 3,
         "column 'px' is float32 in the batch, the table has float64"},
        {{{"ts", TL_TIMESTAMP}, {"px", TL_FLOAT64}}, {c_ok[0], c_ok[2]}, 2,
         "missing non-nullable column 'sym'"},
        {{{"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64}},
         {{ts, &half, NULL, NULL}, c_ok[1], c_ok[2]}, 3,
         "column 'ts' is not nullable, but row 1 of the batch is null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_append *a;
        cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
        cr_assert_eq(tl_append_batch(a, &(tl_batch){2, cases[i].n, cases[i].d, cases[i].c}, &err), TL_EINVAL,
                     "case %zu", i);
        cr_assert(strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
        cr_assert(strstr(err.msg, tpath), "names the table: %s", err.msg);
        /* a good batch after a rejected one is still fine; abort discards */
        cr_assert_eq(tl_append_batch(a, &(tl_batch){2, 3, d_ok, c_ok}, &err), TL_OK, "%s", err.msg);
        tl_append_abort(a);
    }
    cr_assert_eq(count_files(tpath), files0, "nothing written");
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    cr_assert_eq(info.version, 0);
    tl_snapshot_close(s);
    /* missing nullable column: all null */
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, &(tl_batch){2, 2, d_ok, c_ok}, &err), TL_OK, "%s", err.msg);
    tl_append_result res;
    cr_assert_eq(tl_append_commit(a, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.version, 1);
    cr_assert_eq(res.n_partitions, 2);
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    tl_reader *r;
    cr_assert_eq(tl_reader_open(s, &(tl_rows_filter){.symbol = "B"}, (const char *[]){"px", "sym"}, 2, &r, &err),
                 TL_OK);
    tl_batch b;
    cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(b.n_rows, 1);
    cr_assert_not_null(b.cols[0].validity);
    cr_assert_eq(tl_bit_get(b.cols[0].validity, 0), 0, "px null");
    cr_assert_eq(b.cols[1].offsets[1] - b.cols[1].offsets[0], 1);
    cr_assert_eq(b.cols[1].data[b.cols[1].offsets[0]], 'B');
    cr_assert_eq(tl_reader_next(r, &b, &err), TL_OK);
    cr_assert_eq(b.n_rows, 0);
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* ---- hostile partition values ------------------------------------------------------------------ */

Test(table, hostile_symbols_stay_inside_the_table)
{
    tl_table_spec spec = {0};
    tl_field f[2] = {{"ts", TL_TIMESTAMP, 0}, {"sym", TL_STRING, 1}};
    spec.fields = f;
    spec.n_fields = 2;
    spec.symbol_column = "sym";
    spec.day_column = "ts";
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    char longsym[1001];
    memset(longsym, 'x', 1000);
    longsym[1000] = 0;
    const char *syms[] = {"..", ".", "/", "%2e%2e", "", "a b", "é", "../../etc", "=x", "_delta_log",
                          longsym, ".hidden", "~empty"};
    enum { NS = sizeof syms / sizeof syms[0] };
    char data[4096];
    uint32_t offs[NS + 2];
    int64_t ts[NS + 1];
    uint32_t at = 0;
    for (uint32_t i = 0; i < NS; i++) {
        offs[i] = at;
        memcpy(data + at, syms[i], strlen(syms[i]));
        at += (uint32_t)strlen(syms[i]);
        ts[i] = (int64_t)i * 86400000000000LL;
    }
    offs[NS] = at;
    offs[NS + 1] = at;
    ts[NS] = -1; /* 1969-12-31, null symbol */
    uint8_t valid[2] = {0xFF, 0x1F}; /* row 13 (index NS) null */
    tl_coldef d[2] = {{"ts", TL_TIMESTAMP}, {"sym", TL_STRING}};
    tl_colvec c[2] = {{ts, NULL, NULL, NULL}, {NULL, valid, offs, (const uint8_t *)data}};
    tl_append *a;
    cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
    cr_assert_eq(tl_append_batch(a, &(tl_batch){NS + 1, 2, d, c}, &err), TL_OK, "%s", err.msg);
    tl_append_result res;
    cr_assert_eq(tl_append_commit(a, &res, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(res.n_partitions, NS + 1);
    /* every file is inside the table, below symbol=.../date=... dirs, and
     * the log holds the true values */
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_n_files(s), NS + 1);
    int seen[NS + 1] = {0};
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        cr_assert_eq(tl_partpath_check(fi.path, strlen(fi.path), &err), TL_OK, "%s: %s", fi.path,
                     err.msg);
        cr_assert_eq(strncmp(fi.path, "symbol=", 7), 0, "%s", fi.path);
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", tpath, fi.path);
        char *real = realpath(full, NULL);
        cr_assert_not_null(real, "%s exists", full);
        char *rroot = realpath(tpath, NULL);
        cr_assert_eq(strncmp(real, rroot, strlen(rroot)), 0, "%s inside %s", real, rroot);
        free(real);
        free(rroot);
        if (fi.symbol_null) {
            seen[NS]++;
            cr_assert_eq(fi.day, -1);
            cr_assert(strstr(fi.path, "symbol=~null/date=1969-12-31/"), "%s", fi.path);
            continue;
        }
        for (uint32_t k = 0; k < NS; k++)
            if (strcmp(fi.symbol, syms[k]) == 0) {
                seen[k]++;
                cr_assert_eq(fi.day, (int32_t)k);
            }
    }
    for (uint32_t k = 0; k <= NS; k++)
        cr_assert_eq(seen[k], 1, "symbol %u seen %d times", k, seen[k]);
    tl_snapshot_close(s);

    /* NUL and invalid UTF-8 are rejected, nothing written */
    const char bad[][4] = {"a\0b", "\xff\xfe"};
    for (int i = 0; i < 2; i++) {
        uint32_t o2[2] = {0, i == 0 ? 3u : 2u};
        tl_colvec c2[2] = {{ts, NULL, NULL, NULL}, {NULL, NULL, o2, (const uint8_t *)bad[i]}};
        cr_assert_eq(tl_append_begin(t, NULL, &a, &err), TL_OK);
        cr_assert_eq(tl_append_batch(a, &(tl_batch){1, 2, d, c2}, &err), TL_EINVAL);
        cr_assert(strstr(err.msg, "valid UTF-8 without NUL"), "%s", err.msg);
        tl_append_abort(a);
    }
    tl_table_close(t);
}

/* ---- LOG-R58: the reader checks files against the log ---------------------------------------- */

Test(table, reader_rejects_a_file_that_does_not_match_its_add)
{
    tl_table *t = create_ticks();
    tl_gen_opts go;
    gen_opts(&go, 5, 1, 3000, 0);
    append_gen(t, &go, 1000, NULL, NULL);
    tl_error err;
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    tl_file_info fi;
    tl_snapshot_file(s, 0, &fi);
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", tpath, fi.path);
    cr_assert_eq(truncate(full, (off_t)fi.bytes - 1), 0);
    tl_reader *r;
    cr_assert_eq(tl_reader_open(s, NULL, NULL, 0, &r, &err), TL_OK);
    tl_batch b;
    cr_assert_eq(tl_reader_next(r, &b, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, fi.path) && strstr(err.msg, "LOG-R58"), "%s", err.msg);
    tl_reader_close(r);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* ---- faults and power cuts at every I/O call of an append -------------------------------------- */

static void fault_sweep(int power_cut)
{
    /* a table with one commit; then an append whose k-th I/O call fails (or
     * the power goes); afterwards the table opens, holds version 1 or 2
     * (never torn), and its rows are exactly v1's or v1's + the append's */
    tl_table *t0 = create_ticks();
    tl_gen_opts go1, go2;
    gen_opts(&go1, 11, 1, 1500, 0);
    gen_opts(&go2, 12, 1, 1500, 0);
    hashes h1 = {0}, h2 = {0};
    append_gen(t0, &go1, 1000, NULL, &h1);
    tl_table_close(t0);
    {
        /* h2 = the append's rows */
        tl_gen *g;
        tl_error e;
        uint32_t nn;
        const char *const *names = tick_names(&nn);
        cr_assert_eq(tl_gen_open(&go2, &g, &e), TL_OK);
        tl_batch b;
        int done;
        while (tl_gen_next(g, 1000, &b, &done, &e) == TL_OK && !done)
            hashes_add_batch(&h2, &b, names, nn);
        tl_gen_close(g);
    }
    hashes both = {.n = h1.n + h2.n};
    both.h = malloc(both.n * 8);
    memcpy(both.h, h1.h, h1.n * 8);
    memcpy(both.h + h1.n, h2.h, h2.n * 8);
    hashes_sort(&h1);
    hashes_sort(&both);
    int outcomes[2] = {0, 0};
    for (uint64_t k = 1; k < 400; k++) {
        tl_error err;
        tl_io_fault *f;
        cr_assert_eq(tl_io_fault_open(tpath, &f, &err), TL_OK, "%s", err.msg);
        tl_table *t;
        cr_assert_eq(tl_table_open_io(tpath, tl_io_fault_io(f), NULL, NULL, &t, &err), TL_OK, "%s",
                     err.msg);
        tl_io_fault_rule rule = {.op = TL_IO_OP_ANY, .nth = k,
                                 .action = power_cut ? TL_IO_FAULT_CUT : TL_IO_FAULT_FAIL,
                                 .err_no = EIO};
        cr_assert_eq(tl_io_fault_add(f, &rule, &err), TL_OK);
        tl_append *a = NULL;
        int rc = tl_append_begin(t, &(tl_append_opts){.threads = 1}, &a, &err);
        tl_gen *g;
        cr_assert_eq(tl_gen_open(&go2, &g, &err), TL_OK);
        tl_batch b;
        int done;
        while (!rc && tl_gen_next(g, 1000, &b, &done, &err) == TL_OK && !done)
            rc = tl_append_batch(a, &b, &err);
        tl_gen_close(g);
        tl_append_result res = {0};
        if (!rc)
            rc = tl_append_commit(a, &res, &err);
        else
            tl_append_abort(a);
        int fired = tl_io_fault_count(f, TL_IO_OP_ANY) >= k;
        tl_table_close(t);
        if (power_cut)
            cr_assert_eq(tl_io_fault_crash(f, NULL, &err), TL_OK, "%s", err.msg);
        tl_io_fault_close(f);
        /* the table as it is now */
        cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "k=%" PRIu64 ": %s", k, err.msg);
        hashes got = {0};
        tl_snapshot *s;
        cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "k=%" PRIu64 ": %s", k, err.msg);
        tl_snapshot_info info;
        tl_snapshot_get_info(s, &info);
        tl_snapshot_close(s);
        read_version(t, -1, &got);
        hashes_sort(&got);
        const hashes *want = info.version == 1 ? &h1 : &both;
        cr_assert(info.version == 1 || info.version == 2, "k=%" PRIu64 ": version %" PRId64, k,
                  info.version);
        if (rc == TL_OK && !power_cut)
            cr_assert_eq(info.version, 2, "k=%" PRIu64 ": acknowledged append visible", k);
        cr_assert_eq(got.n, want->n, "k=%" PRIu64 ": rows", k);
        cr_assert_eq(got.n ? memcmp(got.h, want->h, got.n * 8) : 0, 0, "k=%" PRIu64 ": rows differ", k);
        free(got.h);
        outcomes[info.version - 1]++;
        if (info.version == 2) {
            /* back to version 1 for the next k: rebuild the table */
            tl_table_close(t);
            char cmd[700];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", tpath);
            cr_assert_eq(system(cmd), 0);
            t0 = create_ticks();
            append_gen(t0, &go1, 1000, NULL, NULL);
            tl_table_close(t0);
        } else {
            tl_table_close(t);
        }
        if (!fired)
            break; /* k beyond the last call: the sweep is complete */
    }
    fprintf(stderr, "fault sweep (%s): %d x old version, %d x new version\n", power_cut ? "power cut" : "failed call", outcomes[0], outcomes[1]);
    cr_assert_gt(outcomes[0], 10);
    cr_assert_gt(outcomes[1], 0);
    free(h1.h);
    free(h2.h);
    free(both.h);
}

Test(table, failed_io_call_at_every_point_leaves_old_or_new_version, .timeout = 300)
{
    fault_sweep(0);
}

Test(table, power_cut_at_every_point_leaves_old_or_new_version, .timeout = 300)
{
    fault_sweep(1);
}

/* ---- other partition specs ----------------------------------------------------------------------- */

static void spec_roundtrip(const char *sym_col, const char *day_col, size_t want_parts,
                           const char *want_prefix)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    spec.symbol_column = sym_col;
    spec.day_column = day_col;
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK);
    tl_gen_opts go;
    gen_opts(&go, 9, 2, 2500, 0);
    hashes in = {0}, got = {0};
    append_gen(t, &go, 999, NULL, &in);
    read_version(t, -1, &got);
    assert_same(&in, &got);
    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK);
    cr_assert_eq(tl_snapshot_n_partitions(s), want_parts);
    for (size_t i = 0; i < tl_snapshot_n_files(s); i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        cr_assert_eq(strncmp(fi.path, want_prefix, strlen(want_prefix)), 0, "%s", fi.path);
        cr_assert_eq(fi.has_symbol, sym_col != NULL);
        cr_assert_eq(fi.has_day, day_col != NULL);
        if (!sym_col && !day_col)
            cr_assert_null(strchr(fi.path, '/'), "unpartitioned: %s", fi.path);
    }
    tl_snapshot_close(s);
    free(in.h);
    free(got.h);
    tl_table_close(t);
}

Test(table, day_only_partitioning)
{
    spec_roundtrip(NULL, "timestamp", 2, "date=2025-11-1");
}

Test(table, unpartitioned_table_keeps_files_in_its_directory)
{
    spec_roundtrip(NULL, NULL, 1, "");
}

Test(table, symbol_only_partitioning)
{
    spec_roundtrip("symbol", NULL, 2, "symbol=");
}

/* ---- configuration at create: an explicit 0 (request lead -> WRITE) ---------------------- */

static int64_t days_ahead_ms(void *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + *(const int64_t *)arg;
}

Test(table, explicit_zero_retentions_are_written_and_cleanup_keeps_one_hour)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    spec.log_retention_hours = TL_CONFIG_ZERO;
    spec.deleted_file_retention_hours = TL_CONFIG_ZERO;
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    int64_t ahead = 1000; /* the commits are a second old for the cleanup */
    cr_assert_eq(tl_table_open_io(tpath, NULL, days_ahead_ms, &ahead, &t, &err), TL_OK);
    tl_gen_opts go;
    gen_opts(&go, 3, 1, 50, 0);
    append_gen(t, &go, 1000, NULL, NULL);
    append_gen(t, &go, 1000, NULL, NULL);
    tl_log_snapshot s;
    tl_log_snap_opts so = {.io = t->io};
    cr_assert_eq(tl_log_snapshot_load(&t->root, &so, &s, &err), TL_OK, "%s", err.msg);
    int64_t lr = -1, dr = -1;
    cr_assert_eq(tl_log_config_int(s.meta, TL_LOG_CONF_LOG_RETENTION_HOURS, &lr, &err), TL_OK);
    cr_assert_eq(tl_log_config_int(s.meta, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, &dr, &err),
                 TL_OK);
    tl_log_snapshot_free(&s);
    cr_assert_eq(lr, 0, "logRetentionHours \"0\", not the default");
    cr_assert_eq(dr, 0);
    tl_checkpoint_result r;
    cr_assert_eq(tl_table_checkpoint(t, &r, &err), TL_OK, "%s", err.msg);
    /* a 0-hour log retention acts as 1 hour (LOG-R84): nothing yet */
    cr_assert_eq(r.commits_deleted, 0, "commits a second old were cleaned up");
    tl_table_close(t);
    ahead = 2 * 3600000; /* two hours later: commits 0 and 1 go */
    cr_assert_eq(tl_table_open_io(tpath, NULL, days_ahead_ms, &ahead, &t, &err), TL_OK);
    cr_assert_eq(tl_table_checkpoint(t, &r, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(r.commits_deleted, 2, "commits 0 and 1 go");
    cr_assert_eq(r.oldest_version, 2);
    tl_table_close(t);
    /* the checkpoint interval has no explicit 0; other negatives are refused */
    char p2[400];
    snprintf(p2, sizeof p2, "%s/u", dir);
    tl_ticks_table_spec(&spec);
    spec.checkpoint_interval = TL_CONFIG_ZERO;
    cr_assert_eq(tl_table_create(p2, &spec, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "checkpoint interval -1") && strstr(err.msg, p2), "%s", err.msg);
    tl_ticks_table_spec(&spec);
    spec.log_retention_hours = -2;
    cr_assert_eq(tl_table_create(p2, &spec, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "log retention hours -2"), "%s", err.msg);
}

/* ---- spec errors (check_spec), create and open arguments ---------------------------------- */

typedef struct spec_case {
    const char *what; /* in the message */
    void (*edit)(tl_table_spec *s);
} spec_case;

static tl_field bad_fields[3];
static const char *bad_list[3];

static void e_no_fields(tl_table_spec *s) { s->n_fields = 0; }
static void e_no_name(tl_table_spec *s)
{
    bad_fields[0] = (tl_field){"", TL_INT64, 0};
    bad_fields[1] = (tl_field){"b", TL_INT64, 0};
    s->fields = bad_fields, s->n_fields = 2, s->symbol_column = s->day_column = NULL;
    s->n_sort_key = s->n_hot = 0;
}
static void e_bad_type(tl_table_spec *s)
{
    bad_fields[0] = (tl_field){"a", (tl_type)999, 0};
    s->fields = bad_fields, s->n_fields = 1, s->symbol_column = s->day_column = NULL;
    s->n_sort_key = s->n_hot = 0;
}
static void e_twice(tl_table_spec *s)
{
    bad_fields[0] = (tl_field){"a", TL_INT64, 0};
    bad_fields[1] = (tl_field){"a", TL_STRING, 1};
    s->fields = bad_fields, s->n_fields = 2, s->symbol_column = s->day_column = NULL;
    s->n_sort_key = s->n_hot = 0;
}
static void e_sym_missing(tl_table_spec *s) { s->symbol_column = "sym"; }
static void e_sym_type(tl_table_spec *s) { s->symbol_column = "price"; }
static void e_day_missing(tl_table_spec *s) { s->day_column = "ts"; }
static void e_day_type(tl_table_spec *s) { s->day_column = "symbol"; }
static void e_sort_missing(tl_table_spec *s)
{
    bad_list[0] = "strike", bad_list[1] = "nope";
    s->sort_key = bad_list, s->n_sort_key = 2;
}
static void e_sort_null(tl_table_spec *s) { s->sort_key = NULL, s->n_sort_key = 1; }
static void e_sort_twice(tl_table_spec *s)
{
    bad_list[0] = "strike", bad_list[1] = "expiry", bad_list[2] = "strike";
    s->sort_key = bad_list, s->n_sort_key = 3;
}
static void e_hot_missing(tl_table_spec *s)
{
    bad_list[0] = "ghost";
    s->hot_columns = bad_list, s->n_hot = 1;
}
static void e_hot_comma(tl_table_spec *s)
{
    bad_list[0] = "price,ltp";
    s->hot_columns = bad_list, s->n_hot = 1;
}
static void e_hot_null(tl_table_spec *s) { s->hot_columns = NULL, s->n_hot = 2; }
static void e_interval(tl_table_spec *s) { s->checkpoint_interval = 1000001; }
static void e_deleted(tl_table_spec *s) { s->deleted_file_retention_hours = -7; }

Test(table, spec_errors_name_the_table_and_the_column)
{
    static const spec_case cases[] = {
        {"no columns", e_no_fields},
        {"column 0 has no name", e_no_name},
        {"column 'a' has unknown type 999", e_bad_type},
        {"column 'a' appears twice", e_twice},
        {"symbol partition column 'sym' is not in the schema", e_sym_missing},
        {"symbol partition column 'price' is float64, expected string", e_sym_type},
        {"day partition column 'ts' is not in the schema", e_day_missing},
        {"day partition column 'symbol' is string, expected timestamp", e_day_type},
        {"sort key column 'nope' is not in the schema", e_sort_missing},
        {"sort key column '(null)' is not in the schema", e_sort_null},
        {"sort key names 'strike' twice", e_sort_twice},
        {"hot column 'ghost' is not in the schema", e_hot_missing},
        {"hot column 'price,ltp' is not in the schema", e_hot_comma},
        {"hot column '(null)' is not in the schema", e_hot_null},
        {"checkpoint interval 1000001", e_interval},
        {"deleted file retention hours -7", e_deleted},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_table_spec spec;
        tl_ticks_table_spec(&spec);
        cases[i].edit(&spec);
        tl_error err;
        cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_EINVAL, "%s", cases[i].what);
        cr_assert(strstr(err.msg, cases[i].what) && strstr(err.msg, tpath), "%s: %s",
                  cases[i].what, err.msg);
        cr_assert_neq(access(tpath, F_OK), 0, "%s: nothing created", cases[i].what);
    }
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "no columns"), "%s", err.msg);
}

Test(table, create_and_open_refuse_bad_paths)
{
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_error err;
    cr_assert_eq(tl_table_create("", &spec, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "no path"), "%s", err.msg);
    cr_assert_eq(tl_table_create(NULL, &spec, &err), TL_EINVAL);
    /* a file where the directory should be */
    char p[400];
    snprintf(p, sizeof p, "%s/file", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "exists and is not a directory") && strstr(err.msg, p), "%s",
              err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(p, &t, &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, p), "%s", err.msg);
    /* a missing parent */
    snprintf(p, sizeof p, "%s/no/such", dir);
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_ENOTFOUND, "%s", err.msg);
    cr_assert(strstr(err.msg, "create table") && strstr(err.msg, p), "%s", err.msg);
    cr_assert_eq(tl_table_open("", &t, &err), TL_EINVAL);
    cr_assert_eq(tl_table_open(p, NULL, &err), TL_EINVAL);
    /* trailing slashes and a relative path: the parent is found and fsynced */
    snprintf(p, sizeof p, "%s/slashes//", dir);
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_open(p, &t, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(tl_table_create("rel", &spec, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_table_open("rel", &t, &err), TL_OK, "%s", err.msg);
    tl_table_close(t);
    /* an existing empty directory becomes a table */
    snprintf(p, sizeof p, "%s/empty", dir);
    cr_assert_eq(mkdir(p, 0777), 0);
    cr_assert_eq(tl_table_create(p, &spec, &err), TL_OK, "%s", err.msg);
}
