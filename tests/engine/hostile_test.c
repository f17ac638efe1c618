/*
 * hostile_test.c - hostile input end to end (issue 7): damaged data files,
 * checkpoints and commits of a real table, hostile paths and symlinks, and
 * pathological nesting in the Thrift and Parquet decoders.
 *
 * Damage: a table of 2 symbols x 2 days (4 data files of 3 row blocks per
 * column), checkpointed at version 2, then 2 more commits. Each case damages
 * one thing in place, then reads the whole table twice (tl_scan_run with one
 * thread, and tl_reader), then restores the bytes:
 *   bitflip   1-3 bits flipped inside one random block of one file
 *   swap_in   the bytes of two blocks of one file swapped (shorter length)
 *   swap_out  the same between blocks of two different files
 *   trunc     a file truncated at a byte of its last block (every byte when
 *             TL_HOSTILE_CASES is large, else a stride)
 *   footer    1-3 bits flipped in the footer or trailer
 *   ckpt      1-3 bits flipped in the checkpoint, or it truncated
 *   commit    1-3 bits flipped in a commit after the checkpoint, or the
 *             commit truncated
 * Every outcome must be either an error whose message names the damaged
 * file (its path or name) - "detected" - or TL_OK with exactly the original
 * rows (same values, nulls, order): "harmless". A TL_OK with other rows is a
 * silent wrong answer and fails the test; so does a crash (ASan/UBSan in
 * CI). Cases per class: TL_HOSTILE_CASES (default 24; the figures of
 * tests/reliability/HOSTILE.md use more); seed TL_HOSTILE_SEED; classes
 * TL_HOSTILE_CLASSES (e.g. "bitflip,commit"; default all). A summary
 * line per class is printed to stderr.
 *
 * Paths: log add paths that are absolute or hold ".." (also %2e%2e in a
 * Delta log: delta_read_test) are refused; a symlinked partition directory
 * or data file pointing outside the table is never followed by scan,
 * reader, optimize or verify (an identical valid copy waits outside, so an
 * escape would read cleanly and fail the test); dot and slash symbols up to
 * the 1 KiB limit stay inside, 4 KiB ones are refused. Nesting: Thrift
 * structs/lists 10^6 deep and a Parquet schema chain of 10^6 groups fail
 * cleanly on a thread with a 1 MiB stack.
 */
#include <criterion/criterion.h>

#include "fixture.h"
#include "pq_meta.h"
#include "pq_thrift.h"
#include "tl_format.h"
#include "tl_parquet.h"

#include <ticklake.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static char dir[256], tpath[300], opath[300];

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_hostile.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(tpath, sizeof tpath, "%s/t", dir);
    snprintf(opath, sizeof opath, "%s/outside", dir);
}

static void teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(hostile, .init = setup, .fini = teardown, .timeout = 600);

/* ---- the table --------------------------------------------------------------------------- */

#define ROWS_PER_FILE 34000u /* 3 blocks of the default 16384 rows */
#define DAY_NS 86400000000000LL

static const tl_field fields[] = {{"ts", TL_TIMESTAMP, 0}, {"sym", TL_STRING, 0},
                                  {"px", TL_FLOAT64, 1},   {"qty", TL_INT64, 0},
                                  {"side", TL_STRING, 1}};
enum { NF = sizeof fields / sizeof fields[0] };

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static int try_append(tl_table *t, const char *sym, int day, uint32_t n, uint64_t seed,
                      tl_error *err)
{
    int64_t *ts = malloc(n * sizeof *ts), *qty = malloc(n * sizeof *qty);
    double *px = malloc(n * sizeof *px);
    uint8_t *pv = calloc((n + 7) / 8, 1), *sv = calloc((n + 7) / 8, 1);
    uint32_t *so = malloc((n + 1) * sizeof *so), *ss = malloc((n + 1) * sizeof *ss);
    char *sd = malloc((size_t)n * 4 + 1), *symd = malloc((size_t)n * strlen(sym) + 1);
    cr_assert(ts && qty && px && pv && sv && so && ss && sd && symd);
    uint64_t r = seed;
    uint32_t at = 0, sat = 0;
    for (uint32_t i = 0; i < n; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        ts[i] = day * DAY_NS + (int64_t)i * 1000000 + (int64_t)(r >> 60);
        qty[i] = (int64_t)(r >> 40) % 500;
        px[i] = 100.0 + (double)((r >> 20) % 10000) * 0.05;
        tl_bit_set(pv, i, (r >> 7) % 97 != 0);
        tl_bit_set(sv, i, (r >> 9) % 53 != 0);
        so[i] = at;
        const char *side = (r >> 33) & 1 ? "BUY" : "SELL";
        memcpy(sd + at, side, strlen(side));
        at += (uint32_t)strlen(side);
        ss[i] = sat;
        memcpy(symd + sat, sym, strlen(sym));
        sat += (uint32_t)strlen(sym);
    }
    so[n] = at;
    ss[n] = sat;
    tl_coldef d[NF];
    for (int k = 0; k < NF; k++)
        d[k] = (tl_coldef){fields[k].name, fields[k].type};
    tl_colvec c[NF] = {{ts, NULL, NULL, NULL},
                       {NULL, NULL, ss, (const uint8_t *)symd},
                       {px, pv, NULL, NULL},
                       {qty, NULL, NULL, NULL},
                       {NULL, sv, so, (const uint8_t *)sd}};
    tl_append *a;
    int rc = tl_append_begin(t, NULL, &a, err);
    if (!rc) {
        rc = tl_append_batch(a, &(tl_batch){n, NF, d, c}, err);
        tl_append_result res;
        if (!rc)
            rc = tl_append_commit(a, &res, err);
        else
            tl_append_abort(a);
    }
    free(ts), free(qty), free(px), free(pv), free(sv), free(so), free(ss), free(sd), free(symd);
    return rc;
}

static void append_rows(tl_table *t, const char *sym, int day, uint32_t n, uint64_t seed)
{
    tl_error err;
    cr_assert_eq(try_append(t, sym, day, n, seed, &err), TL_OK, "%s", err.msg);
}

/* Version 0 create, 1 A day 0, 2 B day 0, checkpoint at 2, 3 A day 1, 4 B day 1. */
static void make_table(void)
{
    tl_table_spec spec = {0};
    static const char *const key[] = {"ts"};
    spec.fields = fields;
    spec.n_fields = NF;
    spec.symbol_column = "sym";
    spec.day_column = "ts";
    spec.sort_key = key;
    spec.n_sort_key = 1;
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    append_rows(t, "A", 0, ROWS_PER_FILE, 1);
    append_rows(t, "B", 0, ROWS_PER_FILE, 2);
    tl_checkpoint_result cr;
    cr_assert_eq(tl_table_checkpoint(t, &cr, &err), TL_OK, "%s", err.msg);
    append_rows(t, "A", 1, ROWS_PER_FILE, 3);
    append_rows(t, "B", 1, ROWS_PER_FILE, 4);
    tl_table_close(t);
}

/* ---- reading everything ---------------------------------------------------------------------- */

typedef struct digest {
    XXH3_state_t *st;
    uint64_t rows;
} digest;

static void hash_cols(digest *d, uint32_t n_rows, uint32_t n_cols, const tl_coldef *defs,
                      const tl_colvec *cols)
{
    XXH3_64bits_update(d->st, &n_rows, sizeof n_rows);
    d->rows += n_rows;
    for (uint32_t k = 0; k < n_cols; k++) {
        const tl_colvec *v = &cols[k];
        XXH3_64bits_update(d->st, defs[k].name, strlen(defs[k].name));
        size_t w = tl_type_width(defs[k].type);
        for (uint32_t r = 0; r < n_rows; r++) {
            uint8_t present = (uint8_t)tl_bit_get(v->validity, r);
            XXH3_64bits_update(d->st, &present, 1);
            if (!present)
                continue;
            if (w)
                XXH3_64bits_update(d->st, (const uint8_t *)v->values + (size_t)r * w, w);
            else {
                uint32_t len = v->offsets[r + 1] - v->offsets[r];
                XXH3_64bits_update(d->st, &len, 4);
                XXH3_64bits_update(d->st, v->data + v->offsets[r], len);
            }
        }
    }
}

static int scan_block(void *ctx, const tl_scan_block *b, tl_error *err)
{
    (void)err;
    digest *d = ctx;
    uint64_t where[2] = {b->file, b->first_row};
    XXH3_64bits_update(d->st, where, sizeof where);
    hash_cols(d, b->n_rows, b->n_cols, b->defs, b->cols);
    return 0;
}

typedef struct outcome {
    int rc;
    char msg[TL_ERROR_MSG_LEN];
    uint64_t hash, rows;
} outcome;

/* Open the table and its latest snapshot, read every row with the scan
 * engine (use_reader 0) or tl_reader (1). */
static outcome read_all(int use_reader)
{
    outcome o = {0};
    tl_error err = {0};
    digest d = {XXH3_createState(), 0};
    XXH3_64bits_reset(d.st);
    tl_table *t = NULL;
    tl_snapshot *s = NULL;
    int rc = tl_table_open(tpath, &t, &err);
    if (!rc)
        rc = tl_snapshot_open(t, NULL, &s, &err);
    if (!rc && !use_reader) {
        tl_scan_opts so = {0};
        so.threads = 1;
        tl_scan_cb cb = {.block = scan_block, .ctx = &d};
        rc = tl_scan_run(s, &so, &cb, NULL, &err);
    } else if (!rc) {
        tl_reader *r = NULL;
        rc = tl_reader_open(s, NULL, NULL, 0, &r, &err);
        for (uint64_t b = 0; !rc; b++) {
            tl_batch bt;
            rc = tl_reader_next(r, &bt, &err);
            if (rc || bt.n_rows == 0)
                break;
            XXH3_64bits_update(d.st, &b, sizeof b);
            hash_cols(&d, bt.n_rows, bt.n_cols, bt.defs, bt.cols);
        }
        tl_reader_close(r);
    }
    tl_snapshot_close(s);
    tl_table_close(t);
    o.rc = rc;
    if (rc)
        snprintf(o.msg, sizeof o.msg, "%s", err.msg);
    o.hash = XXH3_64bits_digest(d.st);
    o.rows = d.rows;
    XXH3_freeState(d.st);
    return o;
}

/* ---- files and their bytes ------------------------------------------------------------------ */

typedef struct tfile {
    char rel[512];  /* relative to the table */
    char full[1024];
    uint8_t *orig;
    size_t size;
    /* data files: the blocks (every column), the footer */
    uint32_t n_blocks;
    uint64_t *boff, *blen;
    uint64_t last_off, last_len; /* the block that ends last in the file */
    uint64_t footer_off;
} tfile;

static void put(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
    cr_assert_eq(pwrite(fd, p, n, 0), (ssize_t)n);
    close(fd);
}

static void load(tfile *f, const char *rel)
{
    memset(f, 0, sizeof *f);
    snprintf(f->rel, sizeof f->rel, "%s", rel);
    snprintf(f->full, sizeof f->full, "%s/%s", tpath, rel);
    f->orig = tlt_slurp(f->full, &f->size);
}

static void load_data(tfile *f, const char *rel)
{
    load(f, rel);
    tlf_seg *s;
    tl_error err;
    cr_assert_eq(tlf_seg_open_mem(f->orig, f->size, rel, 0, &s, &err), TL_OK, "%s", err.msg);
    uint32_t nc = tlf_seg_n_cols(s), nb = tlf_seg_n_blocks(s);
    f->boff = malloc((size_t)nc * nb * sizeof *f->boff);
    f->blen = malloc((size_t)nc * nb * sizeof *f->blen);
    for (uint32_t c = 0; c < nc; c++)
        for (uint32_t b = 0; b < nb; b++) {
            const tlf_block_info *bi = tlf_seg_block(s, c, b);
            if (bi->length == 0)
                continue;
            f->boff[f->n_blocks] = bi->offset;
            f->blen[f->n_blocks++] = bi->length;
            if (bi->offset + bi->length > f->last_off + f->last_len) {
                f->last_off = bi->offset;
                f->last_len = bi->length;
            }
        }
    uint64_t fo, fl;
    cr_assert_eq(tlf_seg_parse_trailer(f->orig + f->size - TLF_TRAILER_SIZE, f->size, rel, &fo, &fl,
                                       &err),
                 TL_OK);
    f->footer_off = fo;
    tlf_seg_close(s);
    cr_assert_geq(f->n_blocks, 6, "%s has %u blocks", rel, f->n_blocks);
}

static void restore(const tfile *f)
{
    put(f->full, f->orig, f->size);
}

static void flip_bits(uint8_t *p, uint64_t off, uint64_t len)
{
    int n = 1 + (int)(rnd() % 3);
    for (int i = 0; i < n; i++) {
        uint64_t bit = rnd() % (len * 8);
        p[off + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

/* ---- the damage classes ------------------------------------------------------------------ */

typedef struct tally {
    const char *cls;
    uint64_t cases, detected, harmless, wrong, shown;
} tally;

static outcome base_scan, base_reader;

/* One case, both read paths. names: substrings one of which the message
 * must hold (the damaged file). */
static void judge(tally *t, const char *name1, const char *name2)
{
    for (int path = 0; path < 2; path++) {
        outcome o = read_all(path);
        const outcome *b = path ? &base_reader : &base_scan;
        t->cases++;
        if (o.rc == TL_OK) {
            if (o.hash == b->hash && o.rows == b->rows)
                t->harmless++;
            else {
                t->wrong++;
                cr_expect(0, "%s: silent wrong answer via %s (%" PRIu64 " rows, want %" PRIu64 ")",
                        t->cls, path ? "tl_reader" : "tl_scan_run", o.rows, b->rows);
            }
            continue;
        }
        t->detected++;
        int named = (name1 && strstr(o.msg, name1)) || (name2 && strstr(o.msg, name2));
        cr_expect(named, "%s: message does not name %s%s%s: %s", t->cls, name1,
                  name2 ? " or " : "", name2 ? name2 : "", o.msg);
        if (t->shown < 2 && path == 0) {
            t->shown++;
            fprintf(stderr, "hostile %s: e.g. %s\n", t->cls, o.msg);
        }
    }
}

static void report(const tally *t)
{
    fprintf(stderr,
            "hostile: class %-8s reads %6" PRIu64 "  detected %6" PRIu64 "  harmless %6" PRIu64
            "  silent wrong answers %" PRIu64 "  crashes 0\n",
            t->cls, t->cases, t->detected, t->harmless, t->wrong);
    cr_assert_eq(t->wrong, 0);
}

static uint64_t n_cases(void)
{
    const char *e = getenv("TL_HOSTILE_CASES");
    uint64_t n = e ? strtoull(e, NULL, 10) : 0;
    return n ? n : 24;
}

/* TL_HOSTILE_CLASSES: a comma-separated list of classes to run (all when
 * unset). */
static int want(const char *cls)
{
    const char *e = getenv("TL_HOSTILE_CLASSES");
    if (!e || !*e)
        return 1;
    size_t n = strlen(cls);
    for (const char *p = e; (p = strstr(p, cls)) != NULL; p += n)
        if ((p == e || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
    return 0;
}

static void find_files(tfile *data, int *n_data, char *commit_rel, char *ckpt_rel)
{
    tl_table *t;
    tl_snapshot *s;
    tl_error err;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_n_files(s), 4);
    for (size_t i = 0; i < 4; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        load_data(&data[i], fi.path);
    }
    *n_data = 4;
    tl_snapshot_close(s);
    tl_table_close(t);
    snprintf(commit_rel, 64, "_delta_log/%020d.json", 4);
    snprintf(ckpt_rel, 64, "_delta_log/%020d.checkpoint.tlc", 2);
}

static const char *base_name(const char *rel)
{
    const char *s = strrchr(rel, '/');
    return s ? s + 1 : rel;
}

Test(hostile, damaged_files_are_detected_or_harmless_never_silently_wrong)
{
    make_table();
    const char *seed_env = getenv("TL_HOSTILE_SEED");
    rng_state = seed_env ? strtoull(seed_env, NULL, 10) : 0x9E3779B97F4A7C15ULL;
    if (!rng_state)
        rng_state = 1;
    base_scan = read_all(0);
    base_reader = read_all(1);
    cr_assert_eq(base_scan.rc, TL_OK, "%s", base_scan.msg);
    cr_assert_eq(base_reader.rc, TL_OK, "%s", base_reader.msg);
    cr_assert_eq(base_scan.rows, 4 * ROWS_PER_FILE);
    cr_assert_eq(base_reader.rows, 4 * ROWS_PER_FILE);

    tfile data[4];
    int nd;
    char commit_rel[64], ckpt_rel[64];
    find_files(data, &nd, commit_rel, ckpt_rel);
    uint64_t n = n_cases();
    uint8_t *buf = malloc(64u << 20);

    tally tb = {.cls = "bitflip"};
    for (uint64_t i = 0; want(tb.cls) && i < n; i++) {
        tfile *f = &data[rnd() % 4];
        uint32_t b = (uint32_t)(rnd() % f->n_blocks);
        memcpy(buf, f->orig, f->size);
        flip_bits(buf, f->boff[b], f->blen[b]);
        put(f->full, buf, f->size);
        judge(&tb, f->rel, NULL);
        restore(f);
    }
    report(&tb);

    tally tw = {.cls = "swap_in"};
    for (uint64_t i = 0; want(tw.cls) && i < n; i++) {
        tfile *f = &data[rnd() % 4];
        uint32_t x = (uint32_t)(rnd() % f->n_blocks), y = (uint32_t)(rnd() % f->n_blocks);
        if (x == y)
            y = (x + 1) % f->n_blocks;
        uint64_t len = f->blen[x] < f->blen[y] ? f->blen[x] : f->blen[y];
        memcpy(buf, f->orig, f->size);
        memcpy(buf + f->boff[x], f->orig + f->boff[y], len);
        memcpy(buf + f->boff[y], f->orig + f->boff[x], len);
        put(f->full, buf, f->size);
        judge(&tw, f->rel, NULL);
        restore(f);
    }
    report(&tw);

    tally tx = {.cls = "swap_out"};
    uint8_t *buf2 = malloc(64u << 20);
    for (uint64_t i = 0; want(tx.cls) && i < n; i++) {
        uint32_t a = (uint32_t)(rnd() % 4), c = (uint32_t)((a + 1 + rnd() % 3) % 4);
        tfile *f = &data[a], *g = &data[c];
        uint32_t x = (uint32_t)(rnd() % f->n_blocks), y = (uint32_t)(rnd() % g->n_blocks);
        uint64_t len = f->blen[x] < g->blen[y] ? f->blen[x] : g->blen[y];
        memcpy(buf, f->orig, f->size);
        memcpy(buf2, g->orig, g->size);
        memcpy(buf + f->boff[x], g->orig + g->boff[y], len);
        memcpy(buf2 + g->boff[y], f->orig + f->boff[x], len);
        put(f->full, buf, f->size);
        put(g->full, buf2, g->size);
        judge(&tx, f->rel, g->rel);
        restore(f);
        restore(g);
    }
    free(buf2);
    report(&tx);

    /* truncation at every byte of the last block (a stride below 4 * cases) */
    tally tt = {.cls = "trunc"};
    {
        tfile *f = &data[3];
        uint64_t len = f->last_len, step = len / (4 * n) + 1;
        if (n >= 1000)
            step = 1;
        for (uint64_t k = 0; want(tt.cls) && k < len; k += step) {
            put(f->full, f->orig, f->last_off + k);
            cr_assert_eq(truncate(f->full, (off_t)(f->last_off + k)), 0);
            judge(&tt, f->rel, NULL);
            restore(f);
        }
    }
    report(&tt);

    tally tf = {.cls = "footer"};
    for (uint64_t i = 0; want(tf.cls) && i < n; i++) {
        tfile *f = &data[rnd() % 4];
        memcpy(buf, f->orig, f->size);
        flip_bits(buf, f->footer_off, f->size - f->footer_off);
        put(f->full, buf, f->size);
        judge(&tf, f->rel, NULL);
        restore(f);
    }
    report(&tf);

    tfile ck, cm;
    load(&ck, ckpt_rel);
    load(&cm, commit_rel);
    tally tc = {.cls = "ckpt"};
    for (uint64_t i = 0; want(tc.cls) && i < n; i++) {
        memcpy(buf, ck.orig, ck.size);
        if (i % 4 == 3) {
            put(ck.full, buf, (size_t)(rnd() % ck.size));
        } else {
            flip_bits(buf, 0, ck.size);
            put(ck.full, buf, ck.size);
        }
        judge(&tc, base_name(ck.rel), NULL);
        restore(&ck);
    }
    report(&tc);

    tally to = {.cls = "commit"};
    char opened[400];
    snprintf(opened, sizeof opened, "open(%s/", tpath);
    for (uint64_t i = 0; want(to.cls) && i < n; i++) {
        memcpy(buf, cm.orig, cm.size);
        if (i % 4 == 3) {
            put(cm.full, buf, (size_t)(rnd() % cm.size));
        } else {
            flip_bits(buf, 0, cm.size);
            put(cm.full, buf, cm.size);
        }
        judge(&to, base_name(cm.rel), opened); /* or the data file a damaged add names */
        restore(&cm);
    }
    report(&to);

    /* everything restored: the table reads as before */
    outcome again = read_all(0);
    cr_assert_eq(again.rc, TL_OK, "%s", again.msg);
    cr_assert_eq(again.hash, base_scan.hash);
    free(buf);
    for (int i = 0; i < nd; i++)
        free(data[i].orig), free(data[i].boff), free(data[i].blen);
    free(ck.orig);
    free(cm.orig);
}

/* ---- paths and symlinks ----------------------------------------------------------------- */

/* A small table: A day 0 (two appends: optimize has work), B day 0. */
static void make_small_table(void)
{
    tl_table_spec spec = {0};
    static const char *const key[] = {"ts"};
    spec.fields = fields;
    spec.n_fields = NF;
    spec.symbol_column = "sym";
    spec.day_column = "ts";
    spec.sort_key = key;
    spec.n_sort_key = 1;
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    append_rows(t, "A", 0, 1000, 1);
    append_rows(t, "A", 0, 1000, 5);
    append_rows(t, "B", 0, 1000, 2);
    tl_table_close(t);
}

static void file_rel(size_t i, char *out, size_t cap)
{
    tl_table *t;
    tl_snapshot *s;
    tl_error err;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    tl_file_info fi;
    tl_snapshot_file(s, i, &fi);
    snprintf(out, cap, "%s", fi.path);
    tl_snapshot_close(s);
    tl_table_close(t);
}

static int run_cmd(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

/* Every reader of data files refuses to follow the link out of the table:
 * scan, tl_reader, optimize and verify. (An identical valid copy waits at
 * the target, so following the link would read cleanly.) */
static void no_reader_escapes(const char *what)
{
    outcome o = read_all(0);
    cr_assert_neq(o.rc, TL_OK, "%s: the scan read through the link", what);
    fprintf(stderr, "hostile %s: scan: %s\n", what, o.msg);
    o = read_all(1);
    cr_assert_neq(o.rc, TL_OK, "%s: tl_reader read through the link", what);

    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_verify_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = tl_table_verify(t, NULL, &rep, &err);
    cr_assert(rc != TL_OK || rep.n_damaged > 0, "%s: verify found nothing wrong", what);
    tl_verify_report_free(&rep);
    tl_optimize_opts oo = {0};
    tl_optimize_result res;
    memset(&res, 0, sizeof res);
    rc = tl_table_optimize(t, &oo, &res, &err);
    cr_assert_neq(rc, TL_OK, "%s: optimize read through the link", what);
    fprintf(stderr, "hostile %s: optimize: %s\n", what, err.msg);
    tl_optimize_result_free(&res);
    tl_table_close(t);
}

Test(hostile, symlinked_partition_dir_is_not_followed_out_of_the_table)
{
    make_small_table();
    char rel[512];
    file_rel(0, rel, sizeof rel); /* symbol=A/date=.../x.tls */
    char comp[256];
    snprintf(comp, sizeof comp, "%.*s", (int)(strchr(rel, '/') - rel), rel);
    cr_assert_eq(mkdir(opath, 0755), 0);
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/%s", tpath, comp);
    snprintf(to, sizeof to, "%s/%s", opath, comp);
    cr_assert_eq(rename(from, to), 0);
    cr_assert_eq(symlink(to, from), 0);
    no_reader_escapes("partition dir symlink (absolute)");
    cr_assert_eq(unlink(from), 0);
    char relto[1024];
    snprintf(relto, sizeof relto, "../outside/%s", comp);
    cr_assert_eq(symlink(relto, from), 0);
    no_reader_escapes("partition dir symlink (relative)");
    cr_assert_eq(unlink(from), 0);
    cr_assert_eq(rename(to, from), 0);
    cr_assert_eq(read_all(0).rc, TL_OK);
}

Test(hostile, symlinked_data_file_is_not_followed_out_of_the_table)
{
    make_small_table();
    char rel[512];
    file_rel(0, rel, sizeof rel);
    cr_assert_eq(mkdir(opath, 0755), 0);
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/%s", tpath, rel);
    snprintf(to, sizeof to, "%s/copy.tls", opath);
    cr_assert_eq(rename(from, to), 0);
    cr_assert_eq(symlink(to, from), 0);
    no_reader_escapes("data file symlink");
    cr_assert_eq(unlink(from), 0);
    cr_assert_eq(rename(to, from), 0);
    cr_assert_eq(read_all(0).rc, TL_OK);
}

/* validate: with the checks that need rows off, only the pruning scan and
 * the null-rate pass (footers opened beneath the table root since
 * validate.c 4d5384e) read files; neither follows the link. */
Test(hostile, validate_does_not_follow_a_symlink_out_of_the_table)
{
    make_small_table();
    char rel[512];
    file_rel(0, rel, sizeof rel);
    cr_assert_eq(mkdir(opath, 0755), 0);
    char from[1024], to[1024];
    snprintf(from, sizeof from, "%s/%s", tpath, rel);
    snprintf(to, sizeof to, "%s/copy.tls", opath);
    cr_assert_eq(rename(from, to), 0);
    cr_assert_eq(symlink(to, from), 0);
    tl_table *t;
    tl_error err;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    tl_validate_opts vo = {0};
    vo.gap_ns = -1; /* no row-by-row check: only the null-rate pass reads files */
    vo.jump_sigma = -1;
    tl_validate_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = tl_table_validate(t, NULL, &vo, &rep, &err);
    cr_assert_neq(rc, TL_OK, "validate read %s through a link out of the table", rel);
    fprintf(stderr, "hostile data file symlink: validate: %s\n", err.msg);
    tl_validate_report_free(&rep);
    tl_table_close(t);
}

/* Log add paths that leave the table (absolute, "..") are refused when the
 * log is read (LOG-R11), naming the commit; a valid copy of the file waits
 * at each target. "%2e%2e" is a literal directory name in a ticklake log: it
 * stays inside (and does not exist). */
Test(hostile, log_paths_outside_the_table_are_refused)
{
    make_small_table();
    char rel[512];
    file_rel(2, rel, sizeof rel); /* B's file, added by version 3 */
    size_t n;
    char c3[400];
    snprintf(c3, sizeof c3, "%s/_delta_log/%020d.json", tpath, 3);
    uint8_t *raw = tlt_slurp(c3, &n);
    raw[n] = 0;
    /* version 4 must have a later in-commit timestamp (LOG-R49) */
    const char *ict = strstr((char *)raw, "\"inCommitTimestamp\":");
    cr_assert_not_null(ict);
    ict += strlen("\"inCommitTimestamp\":");
    char *end;
    long long ms = strtoll(ict, &end, 10);
    char *text = malloc(n + 64);
    snprintf(text, n + 64, "%.*s%lld%s", (int)(ict - (char *)raw), (char *)raw, ms + 1000, end);
    free(raw);
    char key[600];
    snprintf(key, sizeof key, "\"path\":\"%s\"", rel);
    char *at = strstr(text, key);
    cr_assert_not_null(at, "%s in %s", key, text);

    /* the target of every hostile path: a valid copy of the file */
    cr_assert_eq(mkdir(opath, 0755), 0);
    char src[1024];
    snprintf(src, sizeof src, "%s/%s", tpath, rel);
    cr_assert_eq(run_cmd("cp '%s' '%s/copy.tls'", src, opath), 0);
    char c4[400];
    snprintf(c4, sizeof c4, "%s/_delta_log/%020d.json", tpath, 4);

    /* control: the same commit naming a copy inside the table reads */
    char inside[600];
    snprintf(inside, sizeof inside, "%.*s/ctrl.tls", (int)(strrchr(rel, '/') - rel), rel);
    char dst[1024];
    snprintf(dst, sizeof dst, "%s/%s", tpath, inside);
    cr_assert_eq(run_cmd("cp '%s' '%s'", src, dst), 0);
    FILE *cf = fopen(c4, "wb");
    cr_assert_not_null(cf);
    fwrite(text, 1, (size_t)(at - text), cf);
    fprintf(cf, "\"path\":\"%s\"", inside);
    fputs(at + strlen(key), cf);
    fclose(cf);
    outcome ok = read_all(0);
    cr_assert_eq(ok.rc, TL_OK, "control: %s", ok.msg);
    cr_assert_eq(ok.rows, 4000);
    cr_assert_eq(unlink(c4), 0);

    char abs_path[1024];
    snprintf(abs_path, sizeof abs_path, "%s/copy.tls", opath);
    const char *paths[] = {abs_path,
                           "../outside/copy.tls",
                           "symbol=B/../../outside/copy.tls",
                           "./../outside/copy.tls",
                           "symbol=B/./x.tls",
                           "%2e%2e/outside/copy.tls",
                           "..%2f..%2foutside/copy.tls",
                           "symbol=B//x.tls",
                           "_delta_log/../../outside/copy.tls"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        /* version 4 = version 3 with the add path replaced */
        FILE *f = fopen(c4, "wb");
        cr_assert_not_null(f);
        fwrite(text, 1, (size_t)(at - text), f);
        fprintf(f, "\"path\":\"%s\"", paths[i]);
        fputs(at + strlen(key), f);
        fclose(f);
        outcome o = read_all(0);
        cr_assert_neq(o.rc, TL_OK, "add path %s was read", paths[i]);
        int named = strstr(o.msg, "00000000000000000004.json") || strstr(o.msg, "%2e%2e");
        cr_assert(named, "%s: %s", paths[i], o.msg);
        fprintf(stderr, "hostile log path %s: %s\n", paths[i], o.msg);
        cr_assert_eq(unlink(c4), 0);
    }
    free(text);
}

/* Hostile symbols: each stays one component inside the table (names of the
 * 1 KiB limit hashed to one safe component) and reads back exactly; a 4 KiB
 * symbol is refused (TL_EINVAL naming the column and row), nothing written. */
Test(hostile, hostile_symbols_stay_inside_and_4_kib_ones_are_refused)
{
    tl_table_spec spec = {0};
    spec.fields = fields;
    spec.n_fields = NF;
    spec.symbol_column = "sym";
    spec.day_column = "ts";
    tl_error err;
    cr_assert_eq(tl_table_create(tpath, &spec, &err), TL_OK, "%s", err.msg);
    tl_table *t;
    cr_assert_eq(tl_table_open(tpath, &t, &err), TL_OK, "%s", err.msg);
    static char k1[1025], k1dots[1025], k1slash[1025], k4[4097];
    memset(k1, 'x', 1024);
    memset(k4, '.', 4096);
    for (int i = 0; i < 1024; i++) {
        k1dots[i] = '.';
        k1slash[i] = i % 3 == 2 ? '/' : '.';
    }
    const char *syms[] = {"..", ".", "/", "%2e%2e", "%2E%2E%2F", "../..", "a/../../b", "\\..\\",
                          k1, k1dots, k1slash};
    enum { NS = sizeof syms / sizeof syms[0] };
    for (int i = 0; i < NS; i++)
        append_rows(t, syms[i], i, 10, (uint64_t)i + 1);

    int64_t oldest, latest;
    cr_assert_eq(tl_table_versions(t, &oldest, &latest, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(try_append(t, k4, 0, 10, 99, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "'sym'") && strstr(err.msg, "row 0") && strstr(err.msg, "1024"),
              "%s", err.msg);
    int64_t latest2;
    cr_assert_eq(tl_table_versions(t, &oldest, &latest2, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(latest2, latest, "nothing committed");

    tl_snapshot *s;
    cr_assert_eq(tl_snapshot_open(t, NULL, &s, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_snapshot_n_files(s), NS);
    char *rroot = realpath(tpath, NULL);
    int seen[NS] = {0};
    for (size_t i = 0; i < NS; i++) {
        tl_file_info fi;
        tl_snapshot_file(s, i, &fi);
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", tpath, fi.path);
        char *real = realpath(full, NULL);
        cr_assert_not_null(real, "%s", full);
        cr_assert_eq(strncmp(real, rroot, strlen(rroot)), 0, "%s leaves %s", real, rroot);
        cr_assert_eq(real[strlen(rroot)], '/');
        free(real);
        for (int k = 0; k < NS; k++)
            if (strcmp(fi.symbol, syms[k]) == 0)
                seen[k]++;
    }
    for (int k = 0; k < NS; k++)
        cr_assert_eq(seen[k], 1, "symbol %d", k);
    /* a scan asking for each symbol gets its 10 rows */
    for (int k = 0; k < NS; k++) {
        tl_scan_opts so = {0};
        so.threads = 1;
        so.symbols = &syms[k];
        so.n_symbols = 1;
        tl_scan_stats st;
        cr_assert_eq(tl_scan_run(s, &so, NULL, &st, &err), TL_OK, "%s", err.msg);
        cr_assert_eq(st.rows_selected, 10, "symbol %d", k);
    }
    free(rroot);
    tl_snapshot_close(s);
    tl_table_close(t);
}

/* ---- nesting ------------------------------------------------------------------------------- */

#define DEEP 1000000u

typedef struct deep_job {
    int (*fn)(struct deep_job *);
    int rc;
    char msg[TL_ERROR_MSG_LEN];
} deep_job;

static void *deep_thread(void *p)
{
    deep_job *j = p;
    j->rc = j->fn(j);
    return NULL;
}

/* Run j on a thread with a 1 MiB stack: a decoder recursing once per
 * level of 10^6 would overflow it (a SIGSEGV or an ASan report), a bounded
 * one does not. */
static void on_small_stack(deep_job *j)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    cr_assert_eq(pthread_attr_setstacksize(&a, 1u << 20), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, &a, deep_thread, j), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    pthread_attr_destroy(&a);
}

static uint8_t *deep_struct; /* 10^6 nested struct fields, then STOPs */
static size_t deep_len;

static void build_deep(uint8_t elem)
{
    deep_len = 2u * DEEP + 1;
    deep_struct = malloc(deep_len);
    memset(deep_struct, elem, DEEP);
    memset(deep_struct + DEEP, 0, deep_len - DEEP);
}

static int job_skip(deep_job *j)
{
    tlf_thr_reader r;
    tl_error err = {0};
    tlf_thr_reader_init(&r, deep_struct, deep_len, 0);
    int rc = tlf_thr_skip(&r, TLF_THR_STRUCT, 0, &err);
    snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    return rc;
}

static int job_meta(deep_job *j)
{
    tlf_pqm_file fm;
    tl_error err = {0};
    int rc = tlf_pqm_decode_file(deep_struct, deep_len, 0, &fm, &err);
    if (!rc)
        tlf_pqm_file_free(&fm);
    snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    return rc;
}

/* "PAR1" footer u32 "PAR1" around buf */
static uint8_t *parquet_around(const uint8_t *footer, size_t n, size_t *out_len)
{
    uint8_t *f = malloc(n + 12);
    memcpy(f, "PAR1", 4);
    memcpy(f + 4, footer, n);
    uint32_t l = (uint32_t)n;
    memcpy(f + 4 + n, &l, 4);
    memcpy(f + 8 + n, "PAR1", 4);
    *out_len = n + 12;
    return f;
}

static const uint8_t *pq_buf;
static size_t pq_len;

static int job_parquet(deep_job *j)
{
    tl_pq_file *f = NULL;
    tl_error err = {0};
    int rc = tl_pq_open_mem(pq_buf, pq_len, "deep.parquet", &f, &err);
    tl_pq_close(f);
    snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    return rc;
}

Test(hostile, thrift_nesting_a_million_deep_fails_cleanly_with_a_bounded_stack)
{
    /* structs in struct fields (0x1C: field delta 1, STRUCT), then lists of
     * lists (0x19 as a field header, then 0x19 as a list header: 1 element
     * of type LIST) */
    static const uint8_t elems[] = {0x1C, 0x19};
    for (int e = 0; e < 2; e++) {
        build_deep(elems[e]);
        deep_job j = {.fn = job_skip};
        on_small_stack(&j);
        cr_assert_eq(j.rc, TL_ECORRUPT, "%s", j.msg);
        cr_assert(strstr(j.msg, "nesting deeper than 64") && strstr(j.msg, "at byte"), "%s",
                  j.msg);
        j = (deep_job){.fn = job_meta};
        on_small_stack(&j);
        cr_assert_eq(j.rc, TL_ECORRUPT, "%s", j.msg);
        cr_assert(strstr(j.msg, "FileMetaData") && strstr(j.msg, "at byte"), "%s", j.msg);
        size_t n;
        uint8_t *file = parquet_around(deep_struct, deep_len, &n);
        pq_buf = file;
        pq_len = n;
        j = (deep_job){.fn = job_parquet};
        on_small_stack(&j);
        cr_assert_eq(j.rc, TL_ECORRUPT, "%s", j.msg);
        cr_assert(strstr(j.msg, "deep.parquet"), "%s", j.msg);
        fprintf(stderr, "hostile thrift nesting 10^6 (0x%02x): %s\n", elems[e], j.msg);
        free(file);
        free(deep_struct);
    }
}

Test(hostile, parquet_schema_chain_a_million_deep_fails_cleanly_with_a_bounded_stack)
{
    /* FileMetaData: version, schema = root + 10^6 groups of one child each +
     * a leaf, num_rows 0, no row groups */
    tlf_buf out = {0};
    tl_error err = {0};
    tlf_thr_writer w;
    tlf_thr_writer_init(&w, &out, &err);
    tlf_thr_w_struct_begin(&w);
    tlf_thr_w_field_i32(&w, 1, 2);
    tlf_thr_w_field(&w, 2, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, DEEP + 2);
    for (uint32_t i = 0; i <= DEEP; i++) { /* root and the groups */
        tlf_thr_w_struct_begin(&w);
        tlf_thr_w_field_binary(&w, 4, "g", 1);
        tlf_thr_w_field_i32(&w, 5, 1);
        tlf_thr_w_struct_end(&w);
    }
    tlf_thr_w_struct_begin(&w); /* the leaf: INT64 REQUIRED */
    tlf_thr_w_field_i32(&w, 1, 2);
    tlf_thr_w_field_i32(&w, 3, 0);
    tlf_thr_w_field_binary(&w, 4, "x", 1);
    tlf_thr_w_struct_end(&w);
    tlf_thr_w_field_i64(&w, 3, 0);
    tlf_thr_w_field(&w, 4, TLF_THR_LIST);
    tlf_thr_w_list_begin(&w, TLF_THR_STRUCT, 0);
    tlf_thr_w_struct_end(&w);
    cr_assert_eq(tlf_thr_writer_status(&w), TL_OK, "%s", err.msg);
    size_t n;
    uint8_t *file = parquet_around(out.p, out.len, &n);
    pq_buf = file;
    pq_len = n;
    deep_job j = {.fn = job_parquet};
    on_small_stack(&j);
    cr_assert_neq(j.rc, TL_OK);
    cr_assert(j.rc == TL_EUNSUPPORTED || j.rc == TL_ECORRUPT, "%d %s", j.rc, j.msg);
    cr_assert(strstr(j.msg, "deep.parquet"), "%s", j.msg);
    fprintf(stderr, "hostile parquet schema chain 10^6: %s\n", j.msg);
    free(file);
    tlf_buf_free(&out);
}
