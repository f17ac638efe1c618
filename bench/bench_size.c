/*
 * bench_size.c - the ticklake side of the storage-size benchmark.
 *
 * Generates ticks with the C generator in table order (tl_gen_opts.sorted =
 * 1: one run of rows per symbol-day, sorted within it by (expiry, opt_type,
 * strike, timestamp)), writes them
 *   (a) into segment files through the public writer API, one file per
 *       symbol-day (DIR/SYMBOL_YYYY-MM-DD.tls), default options with the
 *       generator's hot columns, and
 *   (b) into one CSV (tl_batch_write_csv), same rows in the same order, for
 *       the peer (bench/duckdb_size.mjs writes it as zstd Parquet),
 * then reopens every segment and sums, per column, the stored bytes recorded
 * in the footers (tl_segment_col_stats_get; no block is read). Prints a table
 * of bytes/row per column and writes the same figures as one JSON object:
 *   {"rows", "file_bytes", "n_files", "columns": {name: stored bytes},
 *    "schema": [{"name","type"}], "decoded": {...}, "encodings": {...}, ...}
 * "file_bytes" - sum of "columns" is what the files spend outside column
 * blocks (headers, footers, trailers, padding).
 *
 * Invariant kept: a segment holds exactly one (symbol, UTC day); a batch that
 * spans a partition boundary is split by copying its runs into reused
 * buffers, and a partition seen again after it was closed is an error (the
 * rows were not partition-sorted). --order arrival keeps the generator's
 * arrival order, which is partition-contiguous only with one symbol.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ticklake.h"

#include "bench_common.h"

#define NS_PER_DAY 86400000000000LL

static void die(const char *what, const tl_error *e)
{
    fprintf(stderr, "bench_size: error: %s: %s\n", what,
            e != NULL && e->msg[0] ? e->msg : "failed");
    exit(1);
}

static void usage(const char *msg)
{
    if (msg != NULL)
        fprintf(stderr, "bench_size: error: %s\n", msg);
    fprintf(stderr,
            "usage: bench_size [--seed N] [--days D] [--start YYYY-MM-DD]\n"
            "                  [--symbols A,B] [--rows-per-day R]\n"
            "                  [--dir DIR] [--csv FILE|none] [--json FILE]\n"
            "                  [--block-rows N] [--zstd-level N] [--batch-rows N]\n"
            "                  [--order sorted|arrival]\n"
            "defaults: seed 1, 1 day from the generator's default start,\n"
            "BANKNIFTY,NIFTY, 2000000 rows per symbol-day, order sorted\n"
            "(arrival order works with one symbol only), dir\n"
            "/tmp/ticklake-bench-size, csv DIR/ticks.csv, json DIR/size.json\n");
    exit(2);
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ---- options ------------------------------------------------------------- */

typedef struct args {
    tl_gen_opts gen;
    char *symbols_buf;          /* owns the strings symbols[] points into */
    const char **symbols;
    const char *dir;
    char csv_path[4096];
    char json_path[4096];
    int write_csv;
    uint32_t block_rows;
    int zstd_level;
    uint32_t batch_rows;
} args;

static void parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    tl_gen_opts_default(&a->gen);
    a->gen.rows_per_day = 2000000;
    a->gen.sorted = 1;
    a->dir = "/tmp/ticklake-bench-size";
    a->write_csv = 1;
    a->batch_rows = 65536;
    const char *csv = NULL, *json = NULL, *symbols = "BANKNIFTY,NIFTY";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = bench_flag_value(usage, argc, argv, &i);
        if (bench_gen_flag(usage, k, v, UINT64_MAX, &a->gen, &symbols))
            continue;
        if (strcmp(k, "--dir") == 0)
            a->dir = v;
        else if (strcmp(k, "--csv") == 0)
            csv = v;
        else if (strcmp(k, "--json") == 0)
            json = v;
        else if (strcmp(k, "--block-rows") == 0)
            a->block_rows = (uint32_t)bench_parse_u64(usage, k, v, UINT32_MAX);
        else if (strcmp(k, "--zstd-level") == 0)
            a->zstd_level = (int)bench_parse_u64(usage, k, v, 22);
        else if (strcmp(k, "--order") == 0) {
            if (strcmp(v, "sorted") == 0)
                a->gen.sorted = 1;
            else if (strcmp(v, "arrival") == 0)
                a->gen.sorted = 0;
            else {
                char m[256];
                snprintf(m, sizeof m, "--order: expected sorted or arrival, "
                         "found '%s'", v);
                usage(m);
            }
        } else if (strcmp(k, "--batch-rows") == 0)
            a->batch_rows = (uint32_t)bench_parse_u64(usage, k, v, 1u << 24);
        else {
            char m[256];
            snprintf(m, sizeof m, "unknown flag '%s'", k);
            usage(m);
        }
    }
    if (a->batch_rows == 0)
        usage("--batch-rows: expected at least 1, found 0");

    if (bench_split_symbols(symbols, &a->symbols_buf, &a->symbols, &a->gen) != 0)
        usage("out of memory");

    if (csv != NULL && strcmp(csv, "none") == 0)
        a->write_csv = 0;
    else
        snprintf(a->csv_path, sizeof a->csv_path, "%s",
                 csv != NULL ? csv : "");
    if (a->write_csv && csv == NULL)
        snprintf(a->csv_path, sizeof a->csv_path, "%s/ticks.csv", a->dir);
    if (json != NULL)
        snprintf(a->json_path, sizeof a->json_path, "%s", json);
    else
        snprintf(a->json_path, sizeof a->json_path, "%s/size.json", a->dir);
}

/* ---- partitions ---------------------------------------------------------- */

typedef struct part_key {
    char symbol[128];
    int64_t day;
} part_key;

static void row_key(const tl_batch *b, uint32_t sym_col, uint32_t ts_col,
                    uint32_t row, part_key *k)
{
    const tl_colvec *sv = &b->cols[sym_col];
    uint32_t lo = sv->offsets[row], hi = sv->offsets[row + 1];
    size_t n = hi - lo < sizeof k->symbol - 1 ? hi - lo : sizeof k->symbol - 1;
    memcpy(k->symbol, sv->data + lo, n);
    k->symbol[n] = '\0';
    int64_t ts = ((const int64_t *)b->cols[ts_col].values)[row];
    k->day = ts >= 0 ? ts / NS_PER_DAY : -((-ts + NS_PER_DAY - 1) / NS_PER_DAY);
}

static int key_eq(const part_key *a, const part_key *b)
{
    return a->day == b->day && strcmp(a->symbol, b->symbol) == 0;
}

static void part_path(const char *dir, const part_key *k, char *out,
                      size_t cap)
{
    char sym[3 * sizeof k->symbol];
    size_t o = 0;
    for (const char *p = k->symbol; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-')
            sym[o++] = (char)c;
        else
            o += (size_t)snprintf(sym + o, sizeof sym - o, "%%%02X", c);
    }
    sym[o] = '\0';
    int y, m, d;
    civil_from_days(k->day, &y, &m, &d);
    snprintf(out, cap, "%s/%s_%04d-%02d-%02d.tls", dir, sym, y, m, d);
}

/* Reused buffers holding a copy of rows [first, first+n) of a batch. */
typedef struct slice_buf {
    uint32_t n_cols;
    tl_colvec *cols;
    void **values;
    size_t *values_cap;
    uint8_t **validity;
    size_t *validity_cap;
    uint32_t **offsets;
    size_t *offsets_cap;
} slice_buf;

static void *grow(void *p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c);
    if (q == NULL) {
        fprintf(stderr, "bench_size: error: out of memory (%zu bytes)\n", c);
        exit(1);
    }
    *cap = c;
    return q;
}

static void slice_init(slice_buf *s, uint32_t n_cols)
{
    s->n_cols = n_cols;
    s->cols = calloc(n_cols, sizeof *s->cols);
    s->values = calloc(n_cols, sizeof *s->values);
    s->values_cap = calloc(n_cols, sizeof *s->values_cap);
    s->validity = calloc(n_cols, sizeof *s->validity);
    s->validity_cap = calloc(n_cols, sizeof *s->validity_cap);
    s->offsets = calloc(n_cols, sizeof *s->offsets);
    s->offsets_cap = calloc(n_cols, sizeof *s->offsets_cap);
    if (!s->cols || !s->values || !s->values_cap || !s->validity ||
        !s->validity_cap || !s->offsets || !s->offsets_cap) {
        fprintf(stderr, "bench_size: error: out of memory\n");
        exit(1);
    }
}

static void slice_reset(slice_buf *s)
{
    for (uint32_t c = 0; c < s->n_cols; c++) {
        free(s->values[c]);
        free(s->validity[c]);
        free(s->offsets[c]);
    }
    free(s->cols);
    free(s->values);
    free(s->values_cap);
    free(s->validity);
    free(s->validity_cap);
    free(s->offsets);
    free(s->offsets_cap);
    memset(s, 0, sizeof *s);
}

static void slice_make(slice_buf *s, const tl_batch *b, uint32_t first,
                       uint32_t n, tl_batch *out)
{
    for (uint32_t c = 0; c < b->n_cols; c++) {
        const tl_colvec *in = &b->cols[c];
        tl_colvec *o = &s->cols[c];
        memset(o, 0, sizeof *o);
        if (in->validity != NULL) {
            s->validity[c] = grow(s->validity[c], &s->validity_cap[c],
                                  (size_t)n / 8 + 1);
            memset(s->validity[c], 0, (size_t)n / 8 + 1);
            for (uint32_t i = 0; i < n; i++)
                tl_bit_set(s->validity[c], i,
                           tl_bit_get(in->validity, (uint64_t)first + i));
            o->validity = s->validity[c];
        }
        if (b->defs[c].type == TL_STRING) {
            uint32_t lo = in->offsets[first], hi = in->offsets[first + n];
            s->offsets[c] = grow(s->offsets[c], &s->offsets_cap[c],
                                 ((size_t)n + 1) * sizeof(uint32_t));
            for (uint32_t i = 0; i <= n; i++)
                s->offsets[c][i] = in->offsets[first + i] - lo;
            s->values[c] = grow(s->values[c], &s->values_cap[c],
                                (size_t)(hi - lo) + 1);
            memcpy(s->values[c], in->data + lo, hi - lo);
            o->offsets = s->offsets[c];
            o->data = s->values[c];
        } else {
            size_t w = tl_type_width(b->defs[c].type);
            s->values[c] = grow(s->values[c], &s->values_cap[c],
                                (size_t)n * w + 1);
            memcpy(s->values[c], (const uint8_t *)in->values + (size_t)first * w,
                   (size_t)n * w);
            o->values = s->values[c];
        }
    }
    out->n_rows = n;
    out->n_cols = b->n_cols;
    out->defs = b->defs;
    out->cols = s->cols;
}

/* ---- main ---------------------------------------------------------------- */

typedef struct col_sum {
    uint64_t stored, decoded, nulls;
    uint64_t by_enc[8];
    uint64_t zstd, blocks;
} col_sum;

int main(int argc, char **argv)
{
    args a;
    parse_args(argc, argv, &a);
    tl_error err = {0};

    if (mkdir(a.dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_size: error: mkdir '%s': %s\n", a.dir,
                strerror(errno));
        exit(1);
    }

    uint32_t n_cols = 0;
    const tl_coldef *defs = tl_ticks_schema(&n_cols);
    uint32_t sym_col = UINT32_MAX, ts_col = UINT32_MAX;
    for (uint32_t c = 0; c < n_cols; c++) {
        if (strcmp(defs[c].name, "symbol") == 0 && defs[c].type == TL_STRING)
            sym_col = c;
        if (strcmp(defs[c].name, "timestamp") == 0 &&
            defs[c].type == TL_TIMESTAMP)
            ts_col = c;
    }
    if (sym_col == UINT32_MAX || ts_col == UINT32_MAX) {
        fprintf(stderr, "bench_size: error: ticks schema: expected columns "
                "'symbol' (string) and 'timestamp' (timestamp), found %s\n",
                sym_col == UINT32_MAX ? "no symbol" : "no timestamp");
        exit(1);
    }

    uint32_t n_hot = 0;
    const char *const *hot = tl_ticks_hot_columns(&n_hot);
    tl_segment_write_opts wo = {
        .block_rows = a.block_rows,
        .zstd_level = a.zstd_level,
        .hot_columns = hot,
        .n_hot = n_hot,
    };

    tl_gen *g = NULL;
    if (tl_gen_open(&a.gen, &g, &err) != TL_OK)
        die("tl_gen_open", &err);
    uint64_t total = tl_gen_total_rows(g);

    FILE *csv = NULL;
    static char csv_buf[1 << 20];
    if (a.write_csv) {
        csv = fopen(a.csv_path, "w");
        if (csv == NULL) {
            fprintf(stderr, "bench_size: error: create '%s': %s\n",
                    a.csv_path, strerror(errno));
            exit(1);
        }
        setvbuf(csv, csv_buf, _IOFBF, sizeof csv_buf);
    }

    char **paths = NULL;
    part_key *keys = NULL;
    uint32_t n_files = 0, cap_files = 0;
    tl_segment_writer *w = NULL;
    part_key cur = {0};
    slice_buf sb;
    slice_init(&sb, n_cols);
    uint64_t rows = 0;
    double t0 = bench_now_s(), t_csv = 0;
    int header = 1;

    for (;;) {
        tl_batch b;
        int done = 0;
        if (tl_gen_next(g, a.batch_rows, &b, &done, &err) != TL_OK)
            die("tl_gen_next", &err);
        if (done || b.n_rows == 0)
            break;
        if (csv != NULL) {
            double tc = bench_now_s();
            if (tl_batch_write_csv(&b, csv, header, &err) != TL_OK)
                die(a.csv_path, &err);
            header = 0;
            t_csv += bench_now_s() - tc;
        }
        uint32_t i = 0;
        while (i < b.n_rows) {
            part_key k;
            row_key(&b, sym_col, ts_col, i, &k);
            uint32_t j = i + 1;
            for (; j < b.n_rows; j++) {
                part_key k2;
                row_key(&b, sym_col, ts_col, j, &k2);
                if (!key_eq(&k, &k2))
                    break;
            }
            if (w == NULL || !key_eq(&k, &cur)) {
                if (w != NULL &&
                    tl_segment_writer_finish(w, NULL, NULL, &err) != TL_OK)
                    die("tl_segment_writer_finish", &err);
                w = NULL;
                for (uint32_t f = 0; f < n_files; f++)
                    if (key_eq(&keys[f], &k)) {
                        fprintf(stderr, "bench_size: error: row %" PRIu64
                                ": partition %s day %" PRId64 " seen again "
                                "after it was closed: expected partition-"
                                "sorted rows, found interleaved ones\n",
                                rows + i, k.symbol, k.day);
                        exit(1);
                    }
                if (n_files == cap_files) {
                    cap_files = cap_files ? cap_files * 2 : 16;
                    paths = realloc(paths, cap_files * sizeof *paths);
                    keys = realloc(keys, cap_files * sizeof *keys);
                    if (paths == NULL || keys == NULL) {
                        fprintf(stderr, "bench_size: error: out of memory\n");
                        exit(1);
                    }
                }
                char path[4096 + 300];
                part_path(a.dir, &k, path, sizeof path);
                paths[n_files] = strdup(path);
                keys[n_files] = k;
                n_files++;
                unlink(path); /* a previous run's file: writer uses O_EXCL */
                if (tl_segment_writer_open(path, defs, n_cols, &wo, &w,
                                           &err) != TL_OK)
                    die("tl_segment_writer_open", &err);
                cur = k;
            }
            tl_batch part = b;
            if (i != 0 || j != b.n_rows)
                slice_make(&sb, &b, i, j - i, &part);
            if (tl_segment_writer_append(w, &part, &err) != TL_OK) {
                tl_segment_writer_abort(w);
                die("tl_segment_writer_append", &err);
            }
            i = j;
        }
        rows += b.n_rows;
    }
    if (w != NULL && tl_segment_writer_finish(w, NULL, NULL, &err) != TL_OK)
        die("tl_segment_writer_finish", &err);
    if (csv != NULL && fclose(csv) != 0) {
        fprintf(stderr, "bench_size: error: close '%s': %s\n", a.csv_path,
                strerror(errno));
        exit(1);
    }
    double t_all = bench_now_s() - t0;
    tl_gen_close(g);
    slice_reset(&sb);
    if (rows != total) {
        fprintf(stderr, "bench_size: error: generator: expected %" PRIu64
                " rows, found %" PRIu64 "\n", total, rows);
        exit(1);
    }

    /* Sum the footers. */
    col_sum *sum = calloc(n_cols, sizeof *sum);
    if (sum == NULL)
        exit(1);
    uint64_t file_bytes = 0, seg_rows = 0;
    for (uint32_t f = 0; f < n_files; f++) {
        tl_segment *s = NULL;
        if (tl_segment_open(paths[f], &s, &err) != TL_OK)
            die("tl_segment_open", &err);
        if (tl_segment_n_cols(s) != n_cols) {
            fprintf(stderr, "bench_size: error: %s: expected %u columns, "
                    "found %u\n", paths[f], n_cols, tl_segment_n_cols(s));
            exit(1);
        }
        file_bytes += tl_segment_file_bytes(s);
        seg_rows += tl_segment_n_rows(s);
        for (uint32_t c = 0; c < n_cols; c++) {
            tl_segment_col_stats st;
            if (tl_segment_col_stats_get(s, c, &st, &err) != TL_OK)
                die("tl_segment_col_stats_get", &err);
            if (strcmp(st.name, defs[c].name) != 0) {
                fprintf(stderr, "bench_size: error: %s: column %u: expected "
                        "'%s', found '%s'\n", paths[f], c, defs[c].name,
                        st.name);
                exit(1);
            }
            sum[c].stored += st.stored_bytes;
            sum[c].decoded += st.decoded_bytes;
            sum[c].nulls += st.null_count;
            for (int e = 0; e < 8; e++) {
                sum[c].by_enc[e] += st.blocks_by_encoding[e];
                sum[c].blocks += st.blocks_by_encoding[e];
            }
            sum[c].zstd += st.blocks_zstd;
        }
        tl_segment_close(s);
    }
    if (seg_rows != rows) {
        fprintf(stderr, "bench_size: error: segments hold %" PRIu64
                " rows, expected %" PRIu64 "\n", seg_rows, rows);
        exit(1);
    }

    /* Table and JSON. */
    printf("ticklake %s, format %s; %" PRIu64 " rows in %u segment files "
           "(%s), %.2f s to generate and write (%.2f s of it CSV)\n",
           tl_version(), tl_format_version(), rows, n_files, a.dir, t_all,
           t_csv);
    printf("%-10s %-9s %12s %9s %9s %10s  %s\n", "column", "type",
           "stored_B", "B/row", "raw_B/row", "nulls", "blocks by encoding");
    json_t *jcols = json_object(), *jschema = json_array(),
           *jdec = json_object(), *jenc = json_object(),
           *jnull = json_object();
    uint64_t stored_total = 0;
    for (uint32_t c = 0; c < n_cols; c++) {
        char encs[256];
        size_t o = 0;
        encs[0] = '\0';
        for (int e = 0; e < 8; e++) {
            if (sum[c].by_enc[e] == 0)
                continue;
            const char *nm = tl_encoding_name(e);
            o += (size_t)snprintf(encs + o, sizeof encs - o, "%s%s:%" PRIu64,
                                  o ? " " : "", nm ? nm : "?",
                                  sum[c].by_enc[e]);
            if (o >= sizeof encs)
                o = sizeof encs - 1;
        }
        snprintf(encs + o, sizeof encs - o, " (zstd %" PRIu64 "/%" PRIu64 ")",
                 sum[c].zstd, sum[c].blocks);
        stored_total += sum[c].stored;
        printf("%-10s %-9s %12" PRIu64 " %9.3f %9.3f %10" PRIu64 "  %s\n",
               defs[c].name, tl_type_name(defs[c].type), sum[c].stored,
               rows ? (double)sum[c].stored / (double)rows : 0.0,
               rows ? (double)sum[c].decoded / (double)rows : 0.0,
               sum[c].nulls, encs);
        json_object_set_new(jcols, defs[c].name, json_integer((json_int_t)sum[c].stored));
        json_object_set_new(jdec, defs[c].name, json_integer((json_int_t)sum[c].decoded));
        json_object_set_new(jnull, defs[c].name, json_integer((json_int_t)sum[c].nulls));
        json_object_set_new(jenc, defs[c].name, json_string(encs));
        json_array_append_new(jschema,
                              json_pack("{s:s,s:s}", "name", defs[c].name,
                                        "type", tl_type_name(defs[c].type)));
    }
    printf("%-10s %-9s %12" PRIu64 " %9.3f\n", "columns", "", stored_total,
           rows ? (double)stored_total / (double)rows : 0.0);
    printf("%-10s %-9s %12" PRIu64 " %9.3f\n", "overhead", "",
           file_bytes - stored_total,
           rows ? (double)(file_bytes - stored_total) / (double)rows : 0.0);
    printf("%-10s %-9s %12" PRIu64 " %9.3f\n", "files", "", file_bytes,
           rows ? (double)file_bytes / (double)rows : 0.0);

    json_t *jhot = json_array(), *jpaths = json_array(), *jsyms = json_array();
    for (uint32_t h = 0; h < n_hot; h++)
        json_array_append_new(jhot, json_string(hot[h]));
    for (uint32_t f = 0; f < n_files; f++)
        json_array_append_new(jpaths, json_string(paths[f]));
    for (uint32_t s = 0; s < a.gen.n_symbols; s++)
        json_array_append_new(jsyms, json_string(a.gen.symbols[s]));
    json_t *root = json_object();
    json_object_set_new(root, "rows", json_integer((json_int_t)rows));
    json_object_set_new(root, "file_bytes", json_integer((json_int_t)file_bytes));
    json_object_set_new(root, "n_files", json_integer(n_files));
    json_object_set_new(root, "columns", jcols);
    json_object_set_new(root, "schema", jschema);
    json_object_set_new(root, "decoded", jdec);
    json_object_set_new(root, "nulls", jnull);
    json_object_set_new(root, "encodings", jenc);
    json_object_set_new(root, "hot_columns", jhot);
    json_object_set_new(root, "files", jpaths);
    json_object_set_new(root, "csv", a.write_csv ? json_string(a.csv_path)
                                                  : json_null());
    json_object_set_new(root, "ticklake_version", json_string(tl_version()));
    json_object_set_new(root, "format_version",
                        json_string(tl_format_version()));
    json_object_set_new(root, "gen",
        json_pack("{s:I,s:i,s:i,s:I,s:o,s:i}", "seed", (json_int_t)a.gen.seed,
                  "days", (int)a.gen.days, "start_day", (int)a.gen.start_day,
                  "rows_per_day", (json_int_t)a.gen.rows_per_day,
                  "symbols", jsyms, "sorted", a.gen.sorted));
    json_object_set_new(root, "block_rows", json_integer(a.block_rows));
    json_object_set_new(root, "zstd_level", json_integer(a.zstd_level));
    json_object_set_new(root, "seconds", json_real(t_all));
    if (json_dump_file(root, a.json_path, JSON_COMPACT) != 0) {
        fprintf(stderr, "bench_size: error: write '%s' failed\n", a.json_path);
        exit(1);
    }
    json_decref(root);
    printf("json: %s\n", a.json_path);
    if (a.write_csv)
        printf("csv: %s\n", a.csv_path);

    for (uint32_t f = 0; f < n_files; f++)
        free(paths[f]);
    free(paths);
    free(keys);
    free(sum);
    free(a.symbols);
    free(a.symbols_buf);
    return 0;
}
