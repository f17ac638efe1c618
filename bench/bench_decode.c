/*
 * bench_decode.c - segment-level decode throughput on generated ticks.
 *
 * Generates ticks with the C generator in table order (tl_gen_opts.sorted =
 * 1: per (symbol, day) partition, rows sorted by (expiry, opt_type, strike,
 * timestamp)), writes one segment per partition into a growable 64-byte
 * aligned memory buffer (tlf_seg_writer_* with a memory sink; default
 * writer options, hot columns = tl_ticks_hot_columns()), opens each with
 * tlf_seg_open_mem and then, single-threaded, for every column decodes
 * every block of every segment with tlf_seg_decode into output buffers
 * allocated once (64-byte aligned, sized by the largest
 * tlf_seg_decode_needs) and reused, in three modes:
 *   copy    flags 0: results always in the caller's buffers
 *   zc      TLF_DECODE_ZERO_COPY: PLAIN uncompressed blocks are returned in
 *           place (no bytes touched), the rest as in copy
 *   verify  TLF_DECODE_VERIFY: XXH3 of the block first, then as copy
 * plus, for columns whose blocks are all uncompressed RLE, tlf_seg_rle_runs
 * (the runs view, no decode). Each figure is the median of P timed passes
 * (default 9) after one untimed warm-up pass; a pass covers all blocks of
 * the column in all segments.
 *
 * Decoded bytes (the GB/s numerator) are the bytes of the decoded output
 * in the tl_types.h representation: fixed width n * width; strings
 * 4 * (n + 1) offsets + the string bytes. Validity bitmaps are not counted.
 * For rle-runs, GB/s is the decoded bytes the runs stand for.
 * "kernel" is the set of the 8 hot columns (timestamp, expiry, opt_type,
 * strike, price, bp0, sp0, volume): total decoded bytes / total of their
 * median times. XXH3 alone: tlf_seg_verify_all over every segment, GB/s
 * of hashed block bytes. memcpy reference: the file bytes copied in
 * 128 KiB chunks into one reused buffer (what a PLAIN copy decode costs at
 * best on this machine).
 *
 * Usage: bench_decode --help. Writes a table to stdout and, with --json
 * FILE, the same numbers as one JSON object.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ticklake.h"
#include "tl_format.h"

#include "bench_common.h"

#define MAX_PASSES 1000
#define MEMCPY_CHUNK (128u * 1024u)

enum { M_COPY, M_ZC, M_VERIFY, M_RUNS, N_MODES };
static const char *const mode_name[N_MODES] = {"copy", "zc", "verify", "rle_runs"};
static const uint32_t mode_flags[3] = {0, TLF_DECODE_ZERO_COPY, TLF_DECODE_VERIFY};

static void die(const char *what, const tl_error *e)
{
    fprintf(stderr, "bench_decode: error: %s: %s\n", what,
            e != NULL && e->msg[0] ? e->msg : "failed");
    exit(1);
}

static void oom(size_t n)
{
    fprintf(stderr, "bench_decode: error: out of memory (%zu bytes)\n", n);
    exit(1);
}

static void usage(const char *msg)
{
    if (msg != NULL)
        fprintf(stderr, "bench_decode: error: %s\n", msg);
    fprintf(stderr,
            "usage: bench_decode [--seed N] [--days D] [--start YYYY-MM-DD]\n"
            "                    [--symbols A,B] [--rows-per-day R]\n"
            "                    [--block-rows N] [--passes P] [--cols a,b,...]\n"
            "                    [--json FILE]\n"
            "defaults: seed 1, 1 day from the generator's default start,\n"
            "BANKNIFTY,NIFTY, 4000000 rows per symbol-day (8 M rows), the\n"
            "format's default block rows, 9 timed passes (median reported;\n"
            "use >= 7), all 35 columns (--cols limits the per-column runs;\n"
            "the kernel and all-columns lines then cover the chosen ones)\n");
    exit(2);
}

static void *xalign(size_t n)
{
    size_t r = (n + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, r ? r : 64);
    if (p == NULL)
        oom(r);
    return p;
}

/* ---- options ------------------------------------------------------------- */

typedef struct args {
    tl_gen_opts gen;
    char *symbols_buf; /* owns the strings symbols[] points into */
    const char **symbols;
    uint32_t block_rows;
    uint32_t passes;
    const char *cols;  /* comma list or NULL = all */
    const char *json;
} args;

static void parse_args(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    tl_gen_opts_default(&a->gen);
    a->gen.rows_per_day = 4000000;
    a->gen.sorted = 1;
    a->passes = 9;
    const char *symbols = "BANKNIFTY,NIFTY";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = bench_flag_value(usage, argc, argv, &i);
        if (bench_gen_flag(usage, k, v, TL_GEN_MAX_ROWS_PER_DAY, &a->gen, &symbols))
            continue;
        if (strcmp(k, "--block-rows") == 0)
            a->block_rows = (uint32_t)bench_parse_u64(usage, k, v, TLF_MAX_BLOCK_ROWS);
        else if (strcmp(k, "--passes") == 0)
            a->passes = (uint32_t)bench_parse_u64(usage, k, v, MAX_PASSES);
        else if (strcmp(k, "--cols") == 0)
            a->cols = v;
        else if (strcmp(k, "--json") == 0)
            a->json = v;
        else {
            char m[256];
            snprintf(m, sizeof m, "unknown flag '%s'", k);
            usage(m);
        }
    }
    if (a->passes == 0)
        usage("--passes: expected at least 1, found 0");
    if (a->gen.rows_per_day > UINT32_MAX)
        usage("--rows-per-day: one partition is one segment here; expected at "
              "most 4294967295 rows");

    if (bench_split_symbols(symbols, &a->symbols_buf, &a->symbols, &a->gen) != 0)
        oom(strlen(symbols));
}

/* ---- memory sink --------------------------------------------------------- */

/* A growable 64-byte aligned buffer: block offsets in the file are 64-byte
 * aligned, so blocks land aligned in memory as they would in a mapping. */
typedef struct membuf {
    uint8_t *p;
    size_t len, cap;
} membuf;

static int membuf_write(void *ctx, const void *buf, size_t len, tl_error *err)
{
    membuf *m = ctx;
    if (len > m->cap - m->len) {
        size_t c = m->cap ? m->cap : (size_t)1 << 20;
        while (c - m->len < len) {
            if (c > SIZE_MAX / 2)
                return tl_error_set(err, TL_ENOMEM, "memory sink: %zu + %zu bytes",
                                    m->len, len);
            c *= 2;
        }
        uint8_t *q = aligned_alloc(64, c);
        if (q == NULL)
            return tl_error_set(err, TL_ENOMEM, "memory sink: out of memory (%zu bytes)", c);
        if (m->len)
            memcpy(q, m->p, m->len);
        free(m->p);
        m->p = q;
        m->cap = c;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return TL_OK;
}

/* ---- building the segments ----------------------------------------------- */

typedef struct seg {
    membuf mem;
    tlf_seg *s;
    char name[64];
} seg;

typedef struct build_stats {
    double gen_s, write_s; /* generator time, writer (encode) time */
} build_stats;

static seg *build_segments(const args *a, uint32_t *n_out, build_stats *bs)
{
    tl_error err = {0};
    uint32_t n_cols = 0;
    const tl_coldef *defs = tl_ticks_schema(&n_cols);
    uint32_t n_hot = 0;
    const char *const *hot = tl_ticks_hot_columns(&n_hot);
    tlf_col_opts *co = calloc(n_cols, sizeof *co);
    if (co == NULL)
        oom(n_cols * sizeof *co);
    for (uint32_t c = 0; c < n_cols; c++) {
        co[c].encoding = TLF_ENC_AUTO;
        co[c].compression = TLF_COMP_AUTO;
        for (uint32_t h = 0; h < n_hot; h++)
            if (strcmp(hot[h], defs[c].name) == 0)
                co[c].hot = 1;
    }
    tlf_writer_opts wo = {.block_rows = a->block_rows, .col_opts = co};

    tl_gen *g = NULL;
    if (tl_gen_open(&a->gen, &g, &err) != TL_OK)
        die("generator", &err);
    uint64_t total = tl_gen_total_rows(g);
    uint64_t per = a->gen.rows_per_day;
    uint32_t n_seg = (uint32_t)(total / per);
    seg *segs = calloc(n_seg, sizeof *segs);
    if (segs == NULL)
        oom(n_seg * sizeof *segs);

    /* sorted mode: partition k is rows [k*per, (k+1)*per), day-major then
     * symbol in the order given; a batch never spans two partitions. */
    bs->gen_s = bs->write_s = 0;
    for (uint32_t k = 0; k < n_seg; k++) {
        seg *sg = &segs[k];
        snprintf(sg->name, sizeof sg->name, "mem:%s/day%u", a->symbols[k % a->gen.n_symbols],
                 k / a->gen.n_symbols);
        tlf_sink sink = {.write = membuf_write, .ctx = &sg->mem};
        tlf_seg_writer *w = NULL;
        if (tlf_seg_writer_open(defs, n_cols, &wo, sink, &w, &err) != TL_OK)
            die("segment writer", &err);
        uint64_t left = per;
        while (left > 0) {
            tl_batch b;
            int done = 0;
            double t0 = bench_now_s();
            uint32_t want = left < TL_GEN_BATCH_MAX ? (uint32_t)left : TL_GEN_BATCH_MAX;
            if (tl_gen_next(g, want, &b, &done, &err) != TL_OK)
                die("generator", &err);
            double t1 = bench_now_s();
            if (done || b.n_rows == 0 || b.n_rows > left) {
                fprintf(stderr, "bench_decode: error: generator gave %" PRIu32
                        " rows (done %d) with %" PRIu64 " left in partition %" PRIu32 "\n",
                        b.n_rows, done, left, k);
                exit(1);
            }
            if (tlf_seg_writer_append(w, b.cols, b.n_rows, &err) != TL_OK)
                die("segment append", &err);
            bs->gen_s += t1 - t0;
            bs->write_s += bench_now_s() - t1;
            left -= b.n_rows;
        }
        double t0 = bench_now_s();
        if (tlf_seg_writer_finish(w, NULL, &err) != TL_OK)
            die("segment finish", &err);
        tlf_seg_writer_free(w);
        bs->write_s += bench_now_s() - t0;
        if (tlf_seg_open_mem(sg->mem.p, sg->mem.len, sg->name, 0, &sg->s, &err) != TL_OK)
            die("segment open", &err);
    }
    tl_gen_close(g);
    free(co);
    *n_out = n_seg;
    return segs;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct scratch {
    tlf_vec v; /* buf/data_buf/valid_buf allocated once */
} scratch;

static void scratch_init(scratch *sc, const seg *segs, uint32_t n_seg)
{
    size_t mb = 0, md = 0, mv = 0;
    for (uint32_t k = 0; k < n_seg; k++) {
        const tlf_seg *s = segs[k].s;
        for (uint32_t c = 0; c < tlf_seg_n_cols(s); c++)
            for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
                size_t nb, nd, nv;
                tlf_seg_decode_needs(s, c, b, &nb, &nd, &nv);
                mb = nb > mb ? nb : mb;
                md = nd > md ? nd : md;
                mv = nv > mv ? nv : mv;
            }
    }
    /* DICT materialisation may copy 16 bytes past a short value when the
     * capacity allows it; give it the room so it takes its fast path. */
    md += 64;
    memset(sc, 0, sizeof *sc);
    sc->v.buf = xalign(mb);
    sc->v.buf_cap = mb;
    sc->v.data_buf = xalign(md);
    sc->v.data_cap = md;
    sc->v.valid_buf = xalign(mv);
    sc->v.valid_cap = mv;
    /* first touch now, not in a timed pass */
    memset(sc->v.buf, 0, mb);
    memset(sc->v.data_buf, 0, md);
    memset(sc->v.valid_buf, 0, mv);
}

/* One pass over every block of column col in all segments. */
static void pass_decode(const seg *segs, uint32_t n_seg, uint32_t col, uint32_t flags,
                        scratch *sc)
{
    tl_error err = {0};
    for (uint32_t k = 0; k < n_seg; k++) {
        const tlf_seg *s = segs[k].s;
        const uint8_t *base = segs[k].mem.p;
        uint32_t nb = tlf_seg_n_blocks(s);
        for (uint32_t b = 0; b < nb; b++) {
            const tlf_block_info *bi = tlf_seg_block(s, col, b);
            if (tlf_seg_decode(s, col, b, base + bi->offset, bi->length, flags, &sc->v,
                               &err) != TL_OK)
                die("decode", &err);
        }
    }
}

static volatile uint64_t runs_sink;

static void pass_runs(const seg *segs, uint32_t n_seg, uint32_t col)
{
    tl_error err = {0};
    uint64_t acc = 0;
    for (uint32_t k = 0; k < n_seg; k++) {
        const tlf_seg *s = segs[k].s;
        const uint8_t *base = segs[k].mem.p;
        uint32_t nb = tlf_seg_n_blocks(s);
        for (uint32_t b = 0; b < nb; b++) {
            const tlf_block_info *bi = tlf_seg_block(s, col, b);
            uint32_t n_runs = 0;
            const void *vals = NULL;
            const uint32_t *ends = NULL;
            if (tlf_seg_rle_runs(s, col, b, base + bi->offset, bi->length, &n_runs, &vals,
                                 &ends, &err) != TL_OK)
                die("rle runs", &err);
            acc += n_runs + (n_runs ? ends[n_runs - 1] : 0);
        }
    }
    runs_sink += acc;
}

typedef struct timing {
    int done;
    double median_s, best_s;
} timing;

static double median_of(double *t, uint32_t n)
{
    qsort(t, n, sizeof *t, bench_cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static timing time_mode(const seg *segs, uint32_t n_seg, uint32_t col, int mode,
                        scratch *sc, uint32_t passes)
{
    double t[MAX_PASSES];
    for (uint32_t p = 0; p <= passes; p++) { /* pass 0: untimed warm-up */
        double t0 = bench_now_s();
        if (mode == M_RUNS)
            pass_runs(segs, n_seg, col);
        else
            pass_decode(segs, n_seg, col, mode_flags[mode], sc);
        double dt = bench_now_s() - t0;
        if (p > 0)
            t[p - 1] = dt;
    }
    timing r = {.done = 1};
    r.median_s = median_of(t, passes);
    r.best_s = t[0];
    return r;
}

/* ---- per-column facts ---------------------------------------------------- */

typedef struct colres {
    const char *name;
    tl_type type;
    int kernel, selected, all_rle;
    uint64_t stored_bytes, decoded_bytes, values, runs;
    uint32_t enc_blocks[8], zstd_blocks, n_blocks;
    char enc_text[96];
    timing t[N_MODES];
} colres;

static void col_facts(const seg *segs, uint32_t n_seg, uint32_t col, colres *r)
{
    memset(r, 0, sizeof *r);
    const tlf_col_info *ci = tlf_seg_col(segs[0].s, col);
    r->name = ci->name;
    r->type = ci->type;
    r->all_rle = 1;
    size_t w = tl_type_width(ci->type);
    for (uint32_t k = 0; k < n_seg; k++) {
        const tlf_seg *s = segs[k].s;
        r->stored_bytes += tlf_seg_col(s, col)->stored_bytes;
        for (uint32_t b = 0; b < tlf_seg_n_blocks(s); b++) {
            const tlf_block_info *bi = tlf_seg_block(s, col, b);
            r->n_blocks++;
            r->values += bi->n_rows;
            r->decoded_bytes += ci->type == TL_STRING
                                    ? 4 * ((uint64_t)bi->n_rows + 1) + bi->decoded_bytes
                                    : (uint64_t)bi->n_rows * w;
            if (bi->encoding < 8)
                r->enc_blocks[bi->encoding]++;
            if (bi->compression == TLF_COMP_ZSTD)
                r->zstd_blocks++;
            if (bi->encoding != TLF_ENC_RLE || bi->compression != TLF_COMP_NONE)
                r->all_rle = 0;
            if (bi->encoding == TLF_ENC_RLE && bi->compression == TLF_COMP_NONE) {
                uint32_t nr = 0;
                const void *v;
                const uint32_t *e;
                tl_error err = {0};
                if (tlf_seg_rle_runs(s, col, b, segs[k].mem.p + bi->offset, bi->length, &nr,
                                     &v, &e, &err) != TL_OK)
                    die("rle runs", &err);
                r->runs += nr;
            }
        }
    }
    /* "for" when every block is FOR; "delta 60%,for 40%" when mixed;
     * "+zstd N%" when some are compressed */
    size_t o = 0;
    for (int e = 0; e < 8; e++) {
        if (!r->enc_blocks[e])
            continue;
        if (r->enc_blocks[e] == r->n_blocks)
            o += (size_t)snprintf(r->enc_text + o, sizeof r->enc_text - o, "%s",
                                  tlf_encoding_name(e));
        else
            o += (size_t)snprintf(r->enc_text + o, sizeof r->enc_text - o, "%s%s %.0f%%",
                                  o ? "," : "", tlf_encoding_name(e),
                                  100.0 * r->enc_blocks[e] / r->n_blocks);
        if (o >= sizeof r->enc_text)
            break;
    }
    if (r->zstd_blocks && o < sizeof r->enc_text)
        snprintf(r->enc_text + o, sizeof r->enc_text - o, "+zstd %.0f%%",
                 100.0 * r->zstd_blocks / r->n_blocks);
}

static int col_selected(const char *list, const char *name)
{
    if (list == NULL)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0)
            return 1;
        p += l + (e != NULL);
    }
    return 0;
}

/* ---- environment --------------------------------------------------------- */

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                snprintf(out, cap, "%s", p);
                out[strcspn(out, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

static void load_avg(char *out, size_t cap)
{
    snprintf(out, cap, "?");
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL)
        return;
    double a, b, c;
    if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(out, cap, "%.2f %.2f %.2f", a, b, c);
    fclose(f);
}

/* ---- output -------------------------------------------------------------- */

static double gbps(uint64_t bytes, double s) { return s > 0 ? bytes / s / 1e9 : 0; }
static double mvps(uint64_t vals, double s) { return s > 0 ? vals / s / 1e6 : 0; }

static json_t *timing_json(const timing *t, uint64_t bytes, uint64_t vals)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f}", "median_s", t->median_s, "best_s", t->best_s,
                     "GBps", gbps(bytes, t->median_s), "Mvals_per_s",
                     mvps(vals, t->median_s), "GBps_best", gbps(bytes, t->best_s));
}

static void print_cell(const timing *t, uint64_t bytes, uint64_t vals)
{
    if (!t->done) {
        printf(" %7s %7s", "-", "-");
        return;
    }
    double g = gbps(bytes, t->median_s);
    if (g >= 1000)
        printf(" %7s %7.0f", ">999", mvps(vals, t->median_s));
    else
        printf(" %7.2f %7.0f", g, mvps(vals, t->median_s));
}

int main(int argc, char **argv)
{
    args a;
    parse_args(argc, argv, &a);

    char cmd[2048];
    size_t o = 0;
    for (int i = 0; i < argc && o < sizeof cmd; i++)
        o += (size_t)snprintf(cmd + o, sizeof cmd - o, "%s%s", i ? " " : "", argv[i]);
    char date[64], cpu[256], load[64];
    time_t tnow = time(NULL);
    struct tm tmu;
    gmtime_r(&tnow, &tmu);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tmu);
    cpu_model(cpu, sizeof cpu);
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    load_avg(load, sizeof load);
    printf("command: %s\n", cmd);
    printf("date:    %s\n", date);
    printf("cpu:     %s, nproc %ld, loadavg %s\n", cpu, nproc, load);
    printf("format:  %d.%d, single thread, median of %" PRIu32
           " passes after 1 warm-up\n", TLF_VERSION_MAJOR, TLF_VERSION_MINOR, a.passes);
    if (a.passes < 7)
        printf("warning: fewer than 7 passes; medians are rough\n");
    fflush(stdout);

    build_stats bs;
    uint32_t n_seg = 0;
    seg *segs = build_segments(&a, &n_seg, &bs);
    uint64_t rows = 0, file_bytes = 0, block_bytes = 0;
    for (uint32_t k = 0; k < n_seg; k++) {
        rows += tlf_seg_n_rows(segs[k].s);
        file_bytes += segs[k].mem.len;
    }
    uint32_t n_cols = tlf_seg_n_cols(segs[0].s);
    printf("data:    %" PRIu64 " rows (%" PRIu32 " symbols x %" PRIu32 " days x %" PRIu64
           "), seed %" PRIu64 ", sorted; %" PRIu32 " segments, %" PRIu32
           " rows/block, %" PRIu32 " blocks/segment\n",
           rows, a.gen.n_symbols, a.gen.days, a.gen.rows_per_day, a.gen.seed, n_seg,
           tlf_seg_block_rows(segs[0].s), tlf_seg_n_blocks(segs[0].s));
    printf("file:    %" PRIu64 " bytes (%.2f B/row); generate %.2f s, encode+write %.2f s "
           "(%.1f M rows/s)\n",
           file_bytes, (double)file_bytes / rows, bs.gen_s, bs.write_s,
           mvps(rows, bs.write_s));
    fflush(stdout);

    scratch sc;
    scratch_init(&sc, segs, n_seg);

    colres *cr = calloc(n_cols, sizeof *cr);
    if (cr == NULL)
        oom(n_cols * sizeof *cr);
    uint32_t n_hot = 0;
    const char *const *hot = tl_ticks_hot_columns(&n_hot);
    for (uint32_t c = 0; c < n_cols; c++) {
        col_facts(segs, n_seg, c, &cr[c]);
        for (uint32_t h = 0; h < n_hot; h++)
            if (strcmp(hot[h], cr[c].name) == 0)
                cr[c].kernel = 1;
        cr[c].selected = col_selected(a.cols, cr[c].name);
    }
    for (uint32_t k = 0; k < n_seg; k++)
        for (uint32_t c = 0; c < n_cols; c++)
            block_bytes += tlf_seg_col(segs[k].s, c)->stored_bytes;

    printf("\nGB/s = decoded output bytes / s; Mv/s = million values / s; "
           "K = kernel column\n");
    printf("%-10s %-9s %1s %-28s %6s %6s | %7s %7s | %7s %7s | %7s %7s | %7s %7s\n", "column",
           "type", "K", "encodings", "B/row", "dec", "copy", "Mv/s", "zc", "Mv/s", "verify",
           "Mv/s", "runs", "Mv/s");
    for (uint32_t c = 0; c < n_cols; c++) {
        colres *r = &cr[c];
        if (!r->selected)
            continue;
        for (int m = 0; m < 3; m++)
            r->t[m] = time_mode(segs, n_seg, c, m, &sc, a.passes);
        if (r->all_rle)
            r->t[M_RUNS] = time_mode(segs, n_seg, c, M_RUNS, &sc, a.passes);
        printf("%-10s %-9s %1s %-28.28s %6.2f %6.2f |", r->name, tl_type_name(r->type),
               r->kernel ? "*" : "", r->enc_text, (double)r->stored_bytes / r->values,
               (double)r->decoded_bytes / r->values);
        for (int m = 0; m < N_MODES; m++) {
            print_cell(&r->t[m], r->decoded_bytes, r->values);
            printf(m + 1 < N_MODES ? " |" : "\n");
        }
        fflush(stdout);
    }

    /* sets: kernel and all (selected) columns */
    struct setres {
        const char *name;
        uint64_t bytes, vals, stored;
        double s[3], best[3];
        int n;
    } sets[2] = {{.name = "kernel"}, {.name = "all"}};
    for (uint32_t c = 0; c < n_cols; c++) {
        const colres *r = &cr[c];
        if (!r->selected)
            continue;
        for (int k = 0; k < 2; k++) {
            if (k == 0 && !r->kernel)
                continue;
            sets[k].n++;
            sets[k].bytes += r->decoded_bytes;
            sets[k].vals += r->values;
            sets[k].stored += r->stored_bytes;
            for (int m = 0; m < 3; m++) {
                sets[k].s[m] += r->t[m].median_s;
                sets[k].best[m] += r->t[m].best_s;
            }
        }
    }
    printf("\n");
    for (int k = 0; k < 2; k++) {
        if (!sets[k].n)
            continue;
        printf("%-6s set (%2d columns): stored %.2f B/row, decoded %.2f B/row; GB/s "
               "copy %.2f, zc %.2f, verify %.2f (M values/s: %.0f, %.0f, %.0f)\n",
               sets[k].name, sets[k].n, (double)sets[k].stored / rows,
               (double)sets[k].bytes / rows, gbps(sets[k].bytes, sets[k].s[0]),
               gbps(sets[k].bytes, sets[k].s[1]), gbps(sets[k].bytes, sets[k].s[2]),
               mvps(sets[k].vals, sets[k].s[0]), mvps(sets[k].vals, sets[k].s[1]),
               mvps(sets[k].vals, sets[k].s[2]));
    }

    /* XXH3 alone */
    tl_error err = {0};
    double tv[MAX_PASSES], tm[MAX_PASSES];
    for (uint32_t p = 0; p <= a.passes; p++) {
        double t0 = bench_now_s();
        for (uint32_t k = 0; k < n_seg; k++)
            if (tlf_seg_verify_all(segs[k].s, &err) != TL_OK)
                die("verify_all", &err);
        double dt = bench_now_s() - t0;
        if (p > 0)
            tv[p - 1] = dt;
    }
    double verify_med = median_of(tv, a.passes);
    printf("xxh3 tlf_seg_verify_all: %.2f GB/s of block bytes (%" PRIu64 " bytes, %.3f s)\n",
           gbps(block_bytes, verify_med), block_bytes, verify_med);

    /* memcpy reference: file bytes in 128 KiB chunks into one reused buffer */
    uint8_t *mc = sc.v.buf_cap >= MEMCPY_CHUNK ? sc.v.buf : xalign(MEMCPY_CHUNK);
    for (uint32_t p = 0; p <= a.passes; p++) {
        double t0 = bench_now_s();
        for (uint32_t k = 0; k < n_seg; k++)
            for (size_t off = 0; off < segs[k].mem.len; off += MEMCPY_CHUNK) {
                size_t l = segs[k].mem.len - off < MEMCPY_CHUNK ? segs[k].mem.len - off
                                                                 : MEMCPY_CHUNK;
                memcpy(mc, segs[k].mem.p + off, l);
                __asm__ volatile("" ::"r"(mc) : "memory");
            }
        double dt = bench_now_s() - t0;
        if (p > 0)
            tm[p - 1] = dt;
    }
    double memcpy_med = median_of(tm, a.passes);
    printf("memcpy reference (128 KiB chunks of the file into one buffer): %.2f GB/s\n",
           gbps(file_bytes, memcpy_med));

    if (a.json != NULL) {
        json_t *root = json_object();
        json_object_set_new(root, "command", json_string(cmd));
        json_object_set_new(root, "date", json_string(date));
        json_object_set_new(root, "cpu", json_string(cpu));
        json_object_set_new(root, "nproc", json_integer(nproc));
        json_object_set_new(root, "loadavg", json_string(load));
        json_object_set_new(root, "passes", json_integer(a.passes));
        json_object_set_new(root, "rows", json_integer((json_int_t)rows));
        json_object_set_new(root, "seed", json_integer((json_int_t)a.gen.seed));
        json_object_set_new(root, "segments", json_integer(n_seg));
        json_object_set_new(root, "block_rows", json_integer(tlf_seg_block_rows(segs[0].s)));
        json_object_set_new(root, "file_bytes", json_integer((json_int_t)file_bytes));
        json_object_set_new(root, "encode_write_s", json_real(bs.write_s));
        json_t *cols = json_array();
        for (uint32_t c = 0; c < n_cols; c++) {
            const colres *r = &cr[c];
            if (!r->selected)
                continue;
            json_t *enc = json_object();
            for (int e = 0; e < 8; e++)
                if (r->enc_blocks[e])
                    json_object_set_new(enc, tlf_encoding_name(e),
                                        json_integer(r->enc_blocks[e]));
            json_t *modes = json_object();
            for (int m = 0; m < N_MODES; m++)
                if (r->t[m].done)
                    json_object_set_new(modes, mode_name[m],
                                        timing_json(&r->t[m], r->decoded_bytes, r->values));
            json_t *jc = json_pack(
                "{s:s,s:s,s:b,s:o,s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:o}", "name", r->name, "type",
                tl_type_name(r->type), "kernel", r->kernel, "encodings", enc, "blocks",
                (json_int_t)r->n_blocks, "zstd_blocks", (json_int_t)r->zstd_blocks,
                "stored_bytes", (json_int_t)r->stored_bytes, "decoded_bytes",
                (json_int_t)r->decoded_bytes, "stored_B_per_row",
                (double)r->stored_bytes / r->values, "decoded_B_per_row",
                (double)r->decoded_bytes / r->values, "rle_runs", (json_int_t)r->runs,
                "modes", modes);
            json_array_append_new(cols, jc);
        }
        json_object_set_new(root, "columns", cols);
        for (int k = 0; k < 2; k++) {
            if (!sets[k].n)
                continue;
            json_t *js = json_pack("{s:i,s:I,s:I,s:I}", "columns", sets[k].n, "decoded_bytes",
                                   (json_int_t)sets[k].bytes, "values",
                                   (json_int_t)sets[k].vals, "stored_bytes",
                                   (json_int_t)sets[k].stored);
            for (int m = 0; m < 3; m++) {
                timing t = {.done = 1, .median_s = sets[k].s[m], .best_s = sets[k].best[m]};
                json_object_set_new(js, mode_name[m],
                                    timing_json(&t, sets[k].bytes, sets[k].vals));
            }
            json_object_set_new(root, k == 0 ? "kernel_set" : "all_set", js);
        }
        json_object_set_new(root, "verify_all",
                            json_pack("{s:I,s:f,s:f}", "block_bytes", (json_int_t)block_bytes,
                                      "median_s", verify_med, "GBps",
                                      gbps(block_bytes, verify_med)));
        json_object_set_new(root, "memcpy_ref",
                            json_pack("{s:I,s:f,s:f}", "bytes", (json_int_t)file_bytes,
                                      "median_s", memcpy_med, "GBps",
                                      gbps(file_bytes, memcpy_med)));
        if (json_dump_file(root, a.json, JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0) {
            fprintf(stderr, "bench_decode: error: cannot write %s\n", a.json);
            exit(1);
        }
        json_decref(root);
        printf("json:    %s\n", a.json);
    }

    if (mc != sc.v.buf)
        free(mc);
    free(sc.v.buf);
    free(sc.v.data_buf);
    free(sc.v.valid_buf);
    for (uint32_t k = 0; k < n_seg; k++) {
        tlf_seg_close(segs[k].s);
        free(segs[k].mem.p);
    }
    free(segs);
    free(cr);
    free(a.symbols);
    free(a.symbols_buf);
    return 0;
}
