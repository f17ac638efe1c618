/*
 * checkpoint.c - checkpoint files of the transaction log (spec/LOG.md 9.7):
 * the binary codec of `_delta_log/<v 20 digits>.checkpoint.tlc`, writing a
 * checkpoint (LOG-R71) and its `_last_checkpoint` hint (LOG-R73).
 *
 * Layout (little-endian, no alignment; LOG.md 9.7 has the full tables):
 *   header, 80 bytes:
 *     0  8 magic "TLCK\r\n\x1a\n"      40 8 u64 n_txn
 *     8  4 u32 format version (1)      48 8 u64 n_add
 *    12  4 u32 header bytes (80)       56 8 u64 n_remove
 *    16  8 i64 table version v         64 8 u64 n_colstats (all adds)
 *    24  8 i64 inCommitTimestamp(v)    72 4 u32 n_names
 *    32  8 u64 file bytes (all)        76 4 u32 head bytes
 *   head: JSON lines (a commit: commitInfo "CHECKPOINT", protocol, metaData,
 *         txn x n_txn), parsed and validated by the commit parser
 *   txn versions: i64 x n_txn (the table version holding each txn)
 *   names: n_names x {u8 type, str name}   statistics columns
 *   u32 chunk_adds, then ceil(n_add / chunk_adds) x {u64 byte offset of the
 *         chunk's first add, u64 index of its first colstat}
 *   adds: n_add records, paths increasing; removes: n_remove records, paths
 *         increasing (below)
 *   trailer: u64 XXH3-64 (seed 0) of every byte before it
 * str = u32 len, len bytes, 0x00 (so strings point into the buffer).
 * add = str path, u8 flags (0 dataChange, 1 stats, 2 has_symbol,
 *       3 symbol_null, 4 has_date, 5 date_null, 6 time range, 7 zero),
 *       [str symbol], [i32 date], i64 size, i64 numRecords, i64 mtime,
 *       if stats: [i64 first_ts, i64 last_ts], u32 n_cols, n_cols x colstat
 * colstat = u16 name index, u8 flags (0 min, 1 max, 2 hasNaN, 3
 *       minTruncated, 4 maxTruncated, 5-7 zero), i64 nullCount, [min], [max];
 *       a bound is 8 bytes (i64 / u64 / f64 bits) or, for strings, u8 len
 *       (<= 64) + bytes
 * remove = str path, u8 flags (0 dataChange, 1 has_part, 2 has_size,
 *       3 has_rows, 4 has_symbol, 5 symbol_null, 6 has_date, 7 date_null),
 *       i64 deletionTimestamp, [str symbol], [i32 date], [i64 size],
 *       [i64 numRecords]
 *
 * Decoding: the file is mapped (no copy); chunks of adds decode on two
 * threads from tl_log_ckpt_par_min adds on; the large arrays (one tl_log_action
 * per add, one tl_log_colstats per column statistic) are mmap'd and kept for
 * the next decode when freed.
 *
 * Invariants: the decoder trusts nothing: the checksum is checked before any
 * other byte is read past the header; every read is bounds-checked; counts
 * are checked against the bytes left before any allocation; the decoded
 * actions obey the same rules as parsed commit actions (LOG-R11, R22-R24,
 * R28). Only the encoder's output is ever published (put-if-absent of an
 * fsynced tmp file), so a checkpoint file is complete or absent.
 */
#include "checkpoint_int.h"

#include "partpath_int.h"
#include "util_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <xxhash.h>

/* Adds per chunk of the chunk index, and the fewest adds decoded on two
 * threads (tests lower both). */
uint32_t tl_log_ckpt_chunk_adds = 4096;
uint64_t tl_log_ckpt_par_min = 16384;

/* ---- names ---------------------------------------------------------------- */

void tl_log_ckpt_name(int64_t version, char out[TL_CKPT_NAME_LEN + 1])
{
    snprintf(out, TL_CKPT_NAME_LEN + 1, "%020" PRId64 "%s", version, TL_CKPT_SUFFIX);
}

int tl_log_ckpt_version(const char *name, int64_t *version)
{
    if (strlen(name) != TL_CKPT_NAME_LEN || strcmp(name + 20, TL_CKPT_SUFFIX) != 0)
        return TL_EINVAL;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return TL_EINVAL;
        if (v > (UINT64_MAX - 9) / 10)
            return TL_EINVAL;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return TL_EINVAL;
    *version = (int64_t)v;
    return TL_OK;
}

/* ---- encoder -------------------------------------------------------------- */

typedef struct wbuf {
    char *p;
    size_t len, cap;
    int oom;
} wbuf;

static void w_need(wbuf *b, size_t n)
{
    if (b->oom || b->cap - b->len >= n)
        return;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc - b->len < n)
        nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
        b->oom = 1;
        return;
    }
    b->p = np;
    b->cap = nc;
}

static void w_bytes(wbuf *b, const void *p, size_t n)
{
    w_need(b, n);
    if (b->oom)
        return;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void w_u8(wbuf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    w_bytes(b, &x, 1);
}

static void w_u16(wbuf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    w_bytes(b, x, 2);
}

static void w_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    w_bytes(b, x, 4);
}

static void w_u64(wbuf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    w_bytes(b, x, 8);
}

static void w_str(wbuf *b, const char *s)
{
    size_t n = strlen(s);
    w_u32(b, (uint32_t)n);
    w_bytes(b, s, n + 1);
}

static void put_u64_at(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(uint8_t)(v >> (8 * i));
}

static int cmp_add_path(const void *a, const void *b)
{
    return strcmp((*(const tl_log_add *const *)a)->path, (*(const tl_log_add *const *)b)->path);
}

static int cmp_rm_path(const void *a, const void *b)
{
    return strcmp((*(const tl_log_remove *const *)a)->path,
                  (*(const tl_log_remove *const *)b)->path);
}

static int cmp_txn_app(const void *a, const void *b)
{
    return strcmp((*(const tl_log_txn_entry *const *)a)->txn->app_id,
                  (*(const tl_log_txn_entry *const *)b)->txn->app_id);
}

/* Statistics column names: a small open-addressing table name -> index. */
typedef struct name_tab {
    const char **names;
    tl_type *types;
    uint32_t n, cap; /* cap: power of two, slots hold index + 1 */
    uint32_t *slots;
} name_tab;

static int name_index(name_tab *t, const char *name, tl_type type, uint32_t *idx)
{
    if ((t->n + 1) * 2 > t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 64;
        uint32_t *ns = calloc(nc, sizeof *ns);
        const char **nn = realloc(t->names, nc / 2 * sizeof *nn);
        if (nn)
            t->names = nn;
        tl_type *nt = realloc(t->types, nc / 2 * sizeof *nt);
        if (nt)
            t->types = nt;
        if (!ns || !nn || !nt) {
            free(ns);
            return TL_ENOMEM;
        }
        for (uint32_t i = 0; i < t->n; i++) {
            uint64_t h = XXH3_64bits(t->names[i], strlen(t->names[i]));
            uint32_t j = (uint32_t)h & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = i + 1;
        }
        free(t->slots);
        t->slots = ns;
        t->cap = nc;
    }
    uint64_t h = XXH3_64bits(name, strlen(name));
    uint32_t j = (uint32_t)h & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1)) {
        uint32_t i = t->slots[j] - 1;
        if (strcmp(t->names[i], name) == 0 && t->types[i] == type) {
            *idx = i;
            return TL_OK;
        }
    }
    if (t->n >= 65535)
        return TL_EINVAL;
    t->names[t->n] = name;
    t->types[t->n] = type;
    t->slots[j] = t->n + 1;
    *idx = t->n++;
    return TL_OK;
}

static void name_tab_free(name_tab *t)
{
    free(t->names);
    free(t->types);
    free(t->slots);
}

static void w_value(wbuf *b, tl_type t, const tl_log_value *v)
{
    if (t == TL_STRING) {
        w_u8(b, v->s.len);
        w_bytes(b, v->s.p, v->s.len);
    } else if (tl_type_is_float(t)) {
        uint64_t bits;
        memcpy(&bits, &v->f, 8);
        w_u64(b, bits);
    } else {
        w_u64(b, v->u);
    }
}

static void w_stats(wbuf *b, const tl_log_stats *st, const uint32_t *idx)
{
    if (st->has_time_range) {
        w_u64(b, (uint64_t)st->first_ts_ns);
        w_u64(b, (uint64_t)st->last_ts_ns);
    }
    w_u32(b, st->n_cols);
    for (uint32_t k = 0; k < st->n_cols; k++) {
        const tl_log_colstats *c = &st->cols[k];
        w_u16(b, idx[k]);
        w_u8(b, (c->has_min ? 1u : 0) | (c->has_max ? 2u : 0) | (c->has_nan ? 4u : 0) |
                    (c->min_truncated ? 8u : 0) | (c->max_truncated ? 16u : 0));
        w_u64(b, (uint64_t)c->null_count);
        if (c->has_min)
            w_value(b, c->type, &c->min);
        if (c->has_max)
            w_value(b, c->type, &c->max);
    }
}

int tl_log_ckpt_encode(const tl_log_snapshot *s, char **out, size_t *out_len, tl_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!s || s->version < 0 || !s->history || !s->protocol || !s->meta)
        return tl_error_set(err, TL_EINVAL, "checkpoint: not a loaded snapshot");
    int64_t v = s->version, ict = s->history[v].ict_ms;
    int64_t keep_hours = 0;
    int rc = tl_log_config_int(s->meta, TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS, &keep_hours,
                               err);
    if (rc != TL_OK)
        return rc;
    int64_t horizon = ict - keep_hours * 3600000; /* tombstones below are expired */

    size_t n_add = tl_log_snapshot_n_live(s), n_rm = 0;
    const tl_log_add **adds = malloc((n_add ? n_add : 1) * sizeof *adds);
    const tl_log_remove **rms =
        malloc((tl_log_snapshot_n_tombstones(s) ? tl_log_snapshot_n_tombstones(s) : 1) *
               sizeof *rms);
    const tl_log_txn_entry **txs =
        malloc((s->n_txn_entries ? s->n_txn_entries : 1) * sizeof *txs);
    tl_log_action *head = calloc(3 + s->n_txn_entries, sizeof *head);
    name_tab nt = {0};
    uint32_t *idx = NULL;
    size_t idx_cap = 0;
    wbuf b = {0};
    char *hb = NULL;
    size_t hcap = 0, hlen = 0;
    if (!adds || !rms || !txs || !head) {
        rc = tl_error_set(err, TL_ENOMEM, "checkpoint of version %" PRId64 ": out of memory", v);
        goto out;
    }
    size_t cur = 0, k = 0;
    for (const tl_log_add *a; (a = tl_log_snapshot_live_next(s, &cur));)
        adds[k++] = a;
    cur = 0;
    for (const tl_log_remove *r; (r = tl_log_snapshot_tombstone_next(s, &cur));)
        if (r->deletion_ms >= horizon)
            rms[n_rm++] = r;
    for (size_t i = 0; i < s->n_txn_entries; i++)
        txs[i] = &s->txn_entries[i];
    qsort(adds, n_add, sizeof *adds, cmp_add_path);
    qsort(rms, n_rm, sizeof *rms, cmp_rm_path);
    qsort(txs, s->n_txn_entries, sizeof *txs, cmp_txn_app);

    /* head: a commit the JSON parser validates on load */
    head[0].kind = TL_LOG_COMMIT_INFO;
    head[0].u.ci = (tl_log_commit_info){.ict_ms = ict, .operation = "CHECKPOINT",
                                        .engine_info = "ticklake/0.1.0"};
    head[1].kind = TL_LOG_PROTOCOL;
    head[1].u.proto = *s->protocol;
    head[2].kind = TL_LOG_METADATA;
    head[2].u.meta = *s->meta;
    for (size_t i = 0; i < s->n_txn_entries; i++) {
        head[3 + i].kind = TL_LOG_TXN;
        head[3 + i].u.txn = *txs[i]->txn;
    }
    rc = tl_log_commit_serialize(head, (uint32_t)(3 + s->n_txn_entries), -1, &hb, &hcap, &hlen,
                                 err);
    if (rc != TL_OK) {
        if (err)
            tl_error_prefix(err, "checkpoint of version %" PRId64 ": ", v);
        goto out;
    }
    if (hlen > UINT32_MAX) {
        rc = tl_error_set(err, TL_EINVAL, "checkpoint of version %" PRId64 ": %zu bytes of "
                                          "protocol, metaData and txns, above 4 GiB",
                          v, hlen);
        goto out;
    }

    /* statistics column names, in first-use order */
    uint64_t n_cols = 0;
    for (size_t i = 0; i < n_add; i++) {
        if (!adds[i]->has_stats)
            continue;
        n_cols += adds[i]->stats.n_cols;
        for (uint32_t c = 0; c < adds[i]->stats.n_cols; c++) {
            uint32_t dummy;
            const tl_log_colstats *cs = &adds[i]->stats.cols[c];
            if (name_index(&nt, cs->name, cs->type, &dummy) != TL_OK) {
                rc = tl_error_set(err, TL_ENOMEM, "checkpoint of version %" PRId64
                                                  ": out of memory (statistics names)",
                                  v);
                goto out;
            }
        }
    }

    w_need(&b, TL_CKPT_HEADER_BYTES + hlen + (n_add * 128) + 4096);
    w_bytes(&b, TL_CKPT_MAGIC, 8);
    w_u32(&b, TL_CKPT_FORMAT_VERSION);
    w_u32(&b, TL_CKPT_HEADER_BYTES);
    w_u64(&b, (uint64_t)v);
    w_u64(&b, (uint64_t)ict);
    w_u64(&b, 0); /* file bytes, patched below */
    w_u64(&b, s->n_txn_entries);
    w_u64(&b, n_add);
    w_u64(&b, n_rm);
    w_u64(&b, n_cols);
    w_u32(&b, nt.n);
    w_u32(&b, (uint32_t)hlen);
    w_bytes(&b, hb, hlen);
    for (size_t i = 0; i < s->n_txn_entries; i++)
        w_u64(&b, (uint64_t)txs[i]->table_version);
    for (uint32_t i = 0; i < nt.n; i++) {
        w_u8(&b, (unsigned)nt.types[i]);
        w_str(&b, nt.names[i]);
    }
    uint32_t per = tl_log_ckpt_chunk_adds ? tl_log_ckpt_chunk_adds : 4096;
    if (n_add / per >= TL_CKPT_MAX_CHUNKS) /* stay within the readers' chunk limit */
        per = (uint32_t)(n_add / TL_CKPT_MAX_CHUNKS + 1);
    size_t nch = n_add ? (n_add - 1) / per + 1 : 0, idx_pos;
    uint64_t cols_so_far = 0;
    w_u32(&b, per);
    idx_pos = b.len;
    for (size_t i = 0; i < nch; i++) {
        w_u64(&b, 0);
        w_u64(&b, 0);
    }
    for (size_t i = 0; i < n_add && !b.oom; i++) {
        const tl_log_add *a = adds[i];
        if (i % per == 0) {
            put_u64_at(b.p + idx_pos + i / per * 16, b.len);
            put_u64_at(b.p + idx_pos + i / per * 16 + 8, cols_so_far);
        }
        cols_so_far += a->has_stats ? a->stats.n_cols : 0;
        const tl_log_pvals *p = &a->part;
        w_str(&b, a->path);
        w_u8(&b, (a->data_change ? 1u : 0) | (a->has_stats ? 2u : 0) |
                     (p->has_symbol ? 4u : 0) | (p->symbol_null ? 8u : 0) |
                     (p->has_date ? 16u : 0) | (p->date_null ? 32u : 0) |
                     (a->has_stats && a->stats.has_time_range ? 64u : 0));
        if (p->has_symbol && !p->symbol_null)
            w_str(&b, p->symbol);
        if (p->has_date && !p->date_null)
            w_u32(&b, (uint32_t)p->date);
        w_u64(&b, (uint64_t)a->size_bytes);
        w_u64(&b, (uint64_t)a->n_rows);
        w_u64(&b, (uint64_t)a->mtime_ms);
        if (!a->has_stats)
            continue;
        if (a->stats.n_cols > idx_cap) {
            free(idx);
            idx_cap = a->stats.n_cols;
            idx = malloc(idx_cap * sizeof *idx);
            if (!idx) {
                idx_cap = 0;
                b.oom = 1;
                break;
            }
        }
        for (uint32_t c = 0; c < a->stats.n_cols; c++)
            (void)name_index(&nt, a->stats.cols[c].name, a->stats.cols[c].type, &idx[c]);
        w_stats(&b, &a->stats, idx);
    }
    for (size_t i = 0; i < n_rm; i++) {
        const tl_log_remove *r = rms[i];
        const tl_log_pvals *p = &r->part;
        int hp = r->has_part;
        w_str(&b, r->path);
        w_u8(&b, (r->data_change ? 1u : 0) | (hp ? 2u : 0) | (r->has_size ? 4u : 0) |
                     (r->has_n_rows ? 8u : 0) | (hp && p->has_symbol ? 16u : 0) |
                     (hp && p->symbol_null ? 32u : 0) | (hp && p->has_date ? 64u : 0) |
                     (hp && p->date_null ? 128u : 0));
        w_u64(&b, (uint64_t)r->deletion_ms);
        if (hp && p->has_symbol && !p->symbol_null)
            w_str(&b, p->symbol);
        if (hp && p->has_date && !p->date_null)
            w_u32(&b, (uint32_t)p->date);
        if (r->has_size)
            w_u64(&b, (uint64_t)r->size_bytes);
        if (r->has_n_rows)
            w_u64(&b, (uint64_t)r->n_rows);
    }
    w_need(&b, 8);
    if (b.oom) {
        rc = tl_error_set(err, TL_ENOMEM, "checkpoint of version %" PRId64 ": out of memory", v);
        goto out;
    }
    put_u64_at(b.p + 32, b.len + 8);
    w_u64(&b, XXH3_64bits(b.p, b.len));
    *out = b.p;
    *out_len = b.len;
    b.p = NULL;
out:
    free(b.p);
    free(hb);
    free(idx);
    name_tab_free(&nt);
    free(head);
    free(adds);
    free(rms);
    free(txs);
    return rc;
}

/* ---- decoder -------------------------------------------------------------- */

typedef struct rd {
    const char *name;
    const uint8_t *base;
    size_t pos, end;
    tl_error *err;
} rd;

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* little-endian hosts only (x86-64, aarch64) */
}

static uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static int bad(rd *r, size_t off, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(rd *r, size_t off, const char *field, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tl_error_set(r->err, TL_ECORRUPT, "%s: byte offset %zu: %s: %s", r->name, off, field,
                        what);
}

static int need(rd *r, size_t n, const char *field)
{
    if (r->end - r->pos < n)
        return bad(r, r->pos, field, "expected %zu more bytes, found %zu before the end of the "
                                     "records",
                   n, r->end - r->pos);
    return TL_OK;
}

#define NEED(r, n, f)                                                                         \
    do {                                                                                      \
        if (need((r), (n), (f)) != TL_OK)                                                     \
            return TL_ECORRUPT;                                                               \
    } while (0)

static int r_u8(rd *r, const char *f, unsigned *v)
{
    NEED(r, 1, f);
    *v = r->base[r->pos++];
    return TL_OK;
}

static int r_i64(rd *r, const char *f, int64_t *v, int nonneg)
{
    NEED(r, 8, f);
    *v = (int64_t)ld64(r->base + r->pos);
    if (nonneg && *v < 0)
        return bad(r, r->pos, f, "expected a value >= 0, found %" PRId64, *v);
    r->pos += 8;
    return TL_OK;
}

/* str: u32 len, bytes, NUL; no NUL inside, at most max bytes. */
static int r_str(rd *r, const char *f, size_t max, const char **s, size_t *len_out)
{
    NEED(r, 4, f);
    size_t at = r->pos;
    uint32_t n = ld32(r->base + r->pos);
    if (n > max)
        return bad(r, at, f, "expected a length of at most %zu bytes, found %" PRIu32, max, n);
    r->pos += 4;
    if (r->end - r->pos < (size_t)n + 1) {
        r->pos = at;
        return bad(r, at, f, "a string of %" PRIu32 " bytes runs past the end of the records", n);
    }
    const char *p = (const char *)r->base + r->pos;
    if (p[n] != '\0' || memchr(p, 0, n))
        return bad(r, at, f, "expected %" PRIu32 " bytes without NUL and a terminating NUL", n);
    size_t u = tl_utf8_bad((const uint8_t *)p, n);
    if (u < n)
        return bad(r, at + 4 + u, f, "expected UTF-8 (LOG-R1), found byte 0x%02x",
                   (unsigned)(uint8_t)p[u]);
    r->pos += (size_t)n + 1;
    *s = p;
    if (len_out)
        *len_out = n;
    return TL_OK;
}

#define TRY(x)                                                                                \
    do {                                                                                      \
        int rc_ = (x);                                                                        \
        if (rc_ != TL_OK)                                                                     \
            return rc_;                                                                       \
    } while (0)

int tl_log_ckpt_verify(const char *name, int64_t expect_version, const char *buf, size_t len,
                       int64_t *version, int64_t *ict_ms, tl_error *err)
{
    const uint8_t *p = (const uint8_t *)buf;
    rd r = {name, p, 0, len, err};
    size_t min = TL_CKPT_HEADER_BYTES + TL_CKPT_TRAILER_BYTES;
    if (len < min)
        return bad(&r, 0, "file size", "expected at least %zu bytes, found %zu", min, len);
    if (memcmp(p, TL_CKPT_MAGIC, 8) != 0)
        return bad(&r, 0, "magic", "expected \"TLCK\\r\\n\\x1a\\n\", found other bytes");
    uint32_t fv = ld32(p + 8);
    if (fv != TL_CKPT_FORMAT_VERSION)
        return tl_error_set(err, TL_EVERSION,
                            "%s: byte offset 8: format version: expected %u, found %" PRIu32,
                            name, TL_CKPT_FORMAT_VERSION, fv);
    if (ld32(p + 12) != TL_CKPT_HEADER_BYTES)
        return bad(&r, 12, "header bytes", "expected %u, found %" PRIu32, TL_CKPT_HEADER_BYTES,
                   ld32(p + 12));
    if (ld64(p + 32) != len)
        return bad(&r, 32, "file bytes", "expected the file's size %zu, found %" PRIu64
                                         " (truncated or extended)",
                   len, ld64(p + 32));
    uint64_t want = ld64(p + len - 8), got = XXH3_64bits(p, len - 8);
    if (want != got)
        return tl_error_set(err, TL_ECHECKSUM,
                            "%s: byte offset %zu: checksum: expected XXH3-64 %016" PRIx64
                            " of bytes 0..%zu, found %016" PRIx64,
                            name, len - 8, got, len - 8, want);
    int64_t v = (int64_t)ld64(p + 16), t = (int64_t)ld64(p + 24);
    if (v < 0)
        return bad(&r, 16, "version", "expected a version >= 0, found %" PRId64, v);
    if (expect_version >= 0 && v != expect_version)
        return bad(&r, 16, "version", "expected %" PRId64 " (the file name's), found %" PRId64,
                   expect_version, v);
    if (t < 0)
        return bad(&r, 24, "inCommitTimestamp", "expected >= 0, found %" PRId64, t);
    if (version)
        *version = v;
    if (ict_ms)
        *ict_ms = t;
    return TL_OK;
}

/* Type classes, inline (the decoder's inner loop asks per value). */
static inline int is_float_t(tl_type t)
{
    return t == TL_FLOAT32 || t == TL_FLOAT64;
}

static inline int is_unsigned_t(tl_type t)
{
    return t == TL_BOOL || (t >= TL_UINT8 && t <= TL_UINT64);
}

/* Per-decode context for validating adds against the metaData. */
typedef struct vmeta {
    int has_symbol, symbol_nullable, has_date, date_nullable;
    const tl_type *types; /* of names[] */
    uint32_t *seen;       /* per name: the last add index + 1 that used it */
} vmeta;

static inline int value_ok(tl_type t, const tl_log_value *v)
{
    switch (t) {
    case TL_BOOL: return v->u <= 1;
    case TL_INT8: return v->i >= INT8_MIN && v->i <= INT8_MAX;
    case TL_INT16: return v->i >= INT16_MIN && v->i <= INT16_MAX;
    case TL_INT32:
    case TL_DATE: return v->i >= INT32_MIN && v->i <= INT32_MAX;
    case TL_UINT8: return v->u <= UINT8_MAX;
    case TL_UINT16: return v->u <= UINT16_MAX;
    case TL_UINT32: return v->u <= UINT32_MAX;
    case TL_FLOAT32: return !isnan(v->f) && (isinf(v->f) || (double)(float)v->f == v->f);
    case TL_FLOAT64: return !isnan(v->f);
    default: return 1;
    }
}

/* min <= max in the type's order (LOG-R24). */
static inline int le(tl_type t, const tl_log_value *a, const tl_log_value *b)
{
    if (t == TL_STRING) {
        uint32_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
        int c = n ? memcmp(a->s.p, b->s.p, n) : 0;
        return c < 0 || (c == 0 && a->s.len <= b->s.len);
    }
    if (is_float_t(t)) {
        if (a->f == b->f)
            return !(a->f == 0 && !signbit(a->f) && signbit(b->f)); /* -0.0 < +0.0 */
        return a->f < b->f;
    }
    if (is_unsigned_t(t))
        return a->u <= b->u;
    return a->i <= b->i;
}

static inline int r_value(rd *r, tl_type t, const char *f, tl_log_value *v)
{
    if (t == TL_STRING) {
        unsigned n;
        TRY(r_u8(r, f, &n));
        if (n > TL_LOG_STATS_STR_MAX)
            return bad(r, r->pos - 1, f, "expected a string bound of at most %d bytes, found %u",
                       TL_LOG_STATS_STR_MAX, n);
        NEED(r, n, f);
        v->s.p = r->base + r->pos;
        v->s.len = n;
        r->pos += n;
        return TL_OK;
    }
    NEED(r, 8, f);
    uint64_t bits = ld64(r->base + r->pos);
    if (is_float_t(t))
        memcpy(&v->f, &bits, 8);
    else
        v->u = bits;
    if (!value_ok(t, v))
        return bad(r, r->pos, f, "expected a %s value (not NaN, within the type), found bits "
                                 "%016" PRIx64,
                   tl_type_name(t), bits);
    r->pos += 8;
    return TL_OK;
}

static inline int r_colstat(rd *r, const tl_log_ckpt *ck, vmeta *vm, uint32_t add_no, int64_t n_rows,
                     tl_log_colstats *c)
{
    size_t at = r->pos;
    NEED(r, 11, "colstat");
    unsigned ix = (unsigned)r->base[r->pos] | (unsigned)r->base[r->pos + 1] << 8;
    unsigned fl = r->base[r->pos + 2];
    int64_t nc = (int64_t)ld64(r->base + r->pos + 3);
    r->pos += 11;
    if (ix >= ck->n_names)
        return bad(r, at, "colstat.name", "expected a name index below %" PRIu32 ", found %u",
                   ck->n_names, ix);
    if (vm->seen[ix] == add_no + 1)
        return bad(r, at, "colstat.name", "column \"%.100s\" twice in one add (LOG-R22)",
                   ck->names[ix]);
    vm->seen[ix] = add_no + 1;
    tl_type t = vm->types[ix];
    *c = (tl_log_colstats){.name = ck->names[ix], .type = t, .null_count = nc,
                           .has_min = fl & 1, .has_max = (fl >> 1) & 1,
                           .has_nan = (fl >> 2) & 1, .min_truncated = (fl >> 3) & 1,
                           .max_truncated = (fl >> 4) & 1};
    if (fl >> 5)
        return bad(r, at + 2, "colstat.flags", "expected bits 5-7 zero, found 0x%02x", fl);
    if (nc < 0 || nc > n_rows)
        return bad(r, at + 3, "colstat.nullCount",
                   "expected 0 .. numRecords %" PRId64 ", found %" PRId64, n_rows, nc);
    int is_str = t == TL_STRING, is_f = is_float_t(t);
    const char *why = NULL;
    if (c->has_nan && !is_f)
        why = "hasNaN on a column that is not float";
    else if ((c->min_truncated || c->max_truncated) && !is_str)
        why = "a truncation flag on a column that is not a string";
    else if ((c->min_truncated && !c->has_min) || (c->max_truncated && !c->has_max))
        why = "a truncation flag without its bound";
    else if (c->has_max && !c->has_min)
        why = "max without min";
    else if (!is_str && c->has_min != c->has_max)
        why = "min without max";
    else if (nc == n_rows && (c->has_min || c->has_max || c->has_nan))
        why = "bounds or hasNaN on an all-null column";
    if (why)
        return bad(r, at + 2, "colstat.flags", "column \"%.100s\": %s (LOG-R22, R24)",
                   c->name, why);
    if (c->has_min)
        TRY(r_value(r, t, "colstat.min", &c->min));
    if (c->has_max)
        TRY(r_value(r, t, "colstat.max", &c->max));
    if (c->has_min && c->has_max && !le(t, &c->min, &c->max))
        return bad(r, at, "colstat", "column \"%.100s\": expected min <= max (LOG-R24)",
                   c->name);
    return TL_OK;
}

/* Partition values after the flags (add and remove share the form). */
static int r_pvals(rd *r, const vmeta *vm, int has_symbol, int symbol_null, int has_date,
                   int date_null, int check_spec, tl_log_pvals *p)
{
    size_t at = r->pos;
    *p = (tl_log_pvals){.has_symbol = has_symbol, .symbol_null = symbol_null,
                        .has_date = has_date, .date_null = date_null};
    if ((symbol_null && !has_symbol) || (date_null && !has_date))
        return bad(r, at - 1, "flags", "a null partition field the file does not have");
    if (check_spec && (has_symbol != vm->has_symbol || has_date != vm->has_date))
        return bad(r, at - 1, "partitionValues",
                   "expected the fields of the partition spec (LOG-R28)");
    if ((symbol_null && !vm->symbol_nullable) || (date_null && !vm->date_nullable))
        return bad(r, at - 1, "partitionValues", "null for a column that is not nullable "
                                                 "(LOG-R28)");
    if (has_symbol && !symbol_null)
        TRY(r_str(r, "partitionValues.symbol", TL_LOG_MAX_SYMBOL, &p->symbol, NULL));
    if (has_date && !date_null) {
        NEED(r, 4, "partitionValues.date");
        p->date = (int32_t)ld32(r->base + r->pos);
        if (p->date < TL_LOG_DAY_MIN || p->date > TL_LOG_DAY_MAX)
            return bad(r, r->pos, "partitionValues.date",
                       "expected a day in %d .. %d, found %" PRId32, TL_LOG_DAY_MIN,
                       TL_LOG_DAY_MAX, p->date);
        r->pos += 4;
    }
    return TL_OK;
}

static int r_path(rd *r, const char *f, const char **path)
{
    size_t at = r->pos, n = 0;
    TRY(r_str(r, f, TL_LOG_MAX_PATH, path, &n));
    tl_error e;
    if (tl_partpath_check(*path, n, &e) != TL_OK)
        return bad(r, at, f, "%s (LOG-R11)", e.msg);
    return TL_OK;
}


/* Decode adds [a0, a1) from bytes [r->pos, r->end) into cols [c0, c1):
 * every column statistic of these adds must fall in that range, and with
 * exact set, fill it and use every byte. */
typedef struct chunk_job {
    rd r;
    tl_log_ckpt *ck;
    vmeta vm;
    uint64_t a0, a1, c0, c1;
    size_t off; /* where the chunk starts */
    int exact;
    int ran, rc;
    tl_error err;
} chunk_job;

static int decode_adds(chunk_job *j)
{
    rd *r = &j->r;
    tl_log_ckpt *ck = j->ck;
    vmeta *vm = &j->vm;
    const uint8_t *p = r->base;
    uint64_t col_at = j->c0;
    int rc = TL_OK;
    for (uint64_t i = j->a0; i < j->a1 && rc == TL_OK; i++) {
        tl_log_action *act = &ck->adds[i];
        memset(act, 0, sizeof *act);
        act->kind = TL_LOG_ADD;
        tl_log_add *a = &act->u.add;
        unsigned fl;
        size_t path_at = r->pos;
        if ((rc = r_path(r, "add.path", &a->path)) != TL_OK ||
            (rc = r_u8(r, "add.flags", &fl)) != TL_OK)
            break;
        if (i > j->a0 && strcmp(ck->adds[i - 1].u.add.path, a->path) >= 0) {
            rc = bad(r, path_at, "add.path", "\"%.200s\": expected paths in increasing "
                                             "order, distinct (LOG-R25)",
                     a->path);
            break;
        }
        if (fl & 128u) {
            rc = bad(r, r->pos - 1, "add.flags", "expected bit 7 zero");
            break;
        }
        a->data_change = fl & 1;
        a->has_stats = (fl >> 1) & 1;
        int tr = (fl >> 6) & 1;
        if (tr && !a->has_stats) {
            rc = bad(r, r->pos - 1, "add.flags", "a time range without statistics");
            break;
        }
        if ((rc = r_pvals(r, vm, (fl >> 2) & 1, (fl >> 3) & 1, (fl >> 4) & 1, (fl >> 5) & 1, 1,
                          &a->part)) != TL_OK ||
            (rc = r_i64(r, "add.size", &a->size_bytes, 1)) != TL_OK ||
            (rc = r_i64(r, "add.numRecords", &a->n_rows, 1)) != TL_OK ||
            (rc = r_i64(r, "add.modificationTime", &a->mtime_ms, 1)) != TL_OK)
            break;
        if (!a->has_stats)
            continue;
        tl_log_stats *st = &a->stats;
        st->has_time_range = tr;
        if (tr) {
            if (!vm->has_date) {
                rc = bad(r, r->pos, "add.stats", "a time range without a dayColumn (LOG-R22)");
                break;
            }
            if ((rc = r_i64(r, "add.stats.firstTimestamp", &st->first_ts_ns, 0)) != TL_OK ||
                (rc = r_i64(r, "add.stats.lastTimestamp", &st->last_ts_ns, 0)) != TL_OK)
                break;
            if (st->first_ts_ns > st->last_ts_ns) {
                rc = bad(r, r->pos - 16, "add.stats", "expected firstTimestamp <= "
                                                      "lastTimestamp (LOG-R22)");
                break;
            }
        }
        if ((rc = need(r, 4, "add.stats.n_cols")) != TL_OK)
            break;
        uint32_t n = ld32(p + r->pos);
        if (n > j->c1 - col_at) {
            rc = bad(r, r->pos, "add.stats.n_cols",
                     "expected at most the %" PRIu64 " column statistics left in this chunk, "
                     "found %" PRIu32,
                     j->c1 - col_at, n);
            break;
        }
        r->pos += 4;
        st->cols = ck->cols + col_at;
        st->n_cols = n;
        for (uint32_t k = 0; k < n && rc == TL_OK; k++)
            rc = r_colstat(r, ck, vm, (uint32_t)i, a->n_rows, &ck->cols[col_at + k]);
        col_at += n;
    }
    if (rc == TL_OK && col_at != j->c1)
        rc = bad(r, r->pos, "chunk", "adds %" PRIu64 "..%" PRIu64 ": expected %" PRIu64
                                     " column statistics (the chunk index), found %" PRIu64,
                 j->a0, j->a1 - 1, j->c1 - j->c0, col_at - j->c0);
    if (rc == TL_OK && j->exact && r->pos != r->end)
        rc = bad(r, r->pos, "chunk", "adds %" PRIu64 "..%" PRIu64 " end here, but the chunk "
                                     "index puts the next chunk at byte offset %zu",
                 j->a0, j->a1 - 1, r->end);
    return rc;
}

typedef struct chunk_run {
    chunk_job *jobs;
    size_t from, to;
    uint32_t *seen; /* n_names, this runner's own */
} chunk_run;

static void *run_chunks(void *arg)
{
    chunk_run *cr = arg;
    for (size_t k = cr->from; k < cr->to; k++) {
        chunk_job *j = &cr->jobs[k];
        j->vm.seen = cr->seen;
        j->r.err = &j->err;
        j->rc = decode_adds(j);
        j->ran = 1;
        if (j->rc != TL_OK)
            break;
    }
    return NULL;
}

/* The chunk index, then the adds, in parallel when there are many. On
 * return r->pos is where the removes start. */
static int decode_all_adds(rd *r, tl_log_ckpt *ck, const vmeta *vm0, uint64_t n_cols_hdr)
{
    const uint8_t *p = r->base;
    if (need(r, 4, "chunk_adds") != TL_OK)
        return TL_ECORRUPT;
    uint32_t per = ld32(p + r->pos);
    size_t per_at = r->pos;
    r->pos += 4;
    if (ck->n_add && per == 0)
        return bad(r, per_at, "chunk_adds", "expected >= 1, found 0");
    uint64_t nch = ck->n_add ? (ck->n_add - 1) / per + 1 : 0;
    if (nch > TL_CKPT_MAX_CHUNKS) /* bounds the per-chunk state allocated below */
        return bad(r, per_at, "chunk_adds", "%" PRIu32 " adds per chunk make %" PRIu64
                                            " chunks, more than the %u a reader accepts",
                   per, nch, TL_CKPT_MAX_CHUNKS);
    if (nch > (r->end - r->pos) / 16)
        return bad(r, per_at, "chunk_adds", "%" PRIu32 " adds per chunk make %" PRIu64
                                            " chunk index entries, more than the bytes left",
                   per, nch);
    size_t idx_at = r->pos;
    r->pos += (size_t)nch * 16;
    chunk_job *jobs = calloc(nch ? nch : 1, sizeof *jobs);
    uint32_t *seen2 = calloc(ck->n_names ? ck->n_names : 1, sizeof *seen2);
    int rc = TL_OK;
    if (!jobs || !seen2)
        rc = tl_error_set(r->err, TL_ENOMEM, "%s: out of memory", r->name);
    for (uint64_t k = 0; k < nch && rc == TL_OK; k++) {
        uint64_t off = ld64(p + idx_at + k * 16), c0 = ld64(p + idx_at + k * 16 + 8);
        uint64_t prev_off = k ? jobs[k - 1].r.pos : r->pos, prev_c = k ? jobs[k - 1].c0 : 0;
        if ((k == 0 && (off != r->pos || c0 != 0)) || (k && (off <= prev_off || c0 < prev_c)) ||
            off >= r->end || c0 > n_cols_hdr)
            rc = bad(r, idx_at + k * 16, "chunk index",
                     "entry %" PRIu64 ": expected increasing byte offsets from %zu within the "
                     "records and column statistics from 0 up to %" PRIu64 ", found offset %" PRIu64
                     ", statistics %" PRIu64,
                     k, r->pos, n_cols_hdr, off, c0);
        jobs[k] = (chunk_job){.r = {r->name, p, (size_t)off, r->end, NULL}, .ck = ck, .vm = *vm0,
                              .a0 = k * per, .a1 = k + 1 == nch ? ck->n_add : (k + 1) * per,
                              .c0 = c0, .c1 = n_cols_hdr, .off = (size_t)off, .exact = 0};
        if (k) {
            jobs[k - 1].r.end = (size_t)off;
            jobs[k - 1].c1 = c0;
            jobs[k - 1].exact = 1;
        }
    }
    if (rc == TL_OK) {
        size_t half = nch >= 2 && ck->n_add >= tl_log_ckpt_par_min ? (size_t)nch / 2 : nch;
        chunk_run main_run = {jobs, 0, half, vm0->seen};
        chunk_run side_run = {jobs, half, nch, seen2};
        pthread_t th;
        int threaded = half < nch && pthread_create(&th, NULL, run_chunks, &side_run) == 0;
        run_chunks(&main_run);
        if (threaded)
            pthread_join(th, NULL);
        else if (half < nch)
            run_chunks(&side_run);
        /* in chunk order: the first failure is the one reported (a chunk
         * after a failed one of the same runner did not run) */
        for (uint64_t k = 0; k < nch && rc == TL_OK; k++) {
            if (!jobs[k].ran)
                rc = bad(r, jobs[k].off, "chunk", "not decoded");
            else if (jobs[k].rc != TL_OK)
                rc = tl_error_set(r->err, jobs[k].rc, "%s", jobs[k].err.msg);
            else if (k && strcmp(ck->adds[jobs[k].a0 - 1].u.add.path,
                                 ck->adds[jobs[k].a0].u.add.path) >= 0)
                rc = bad(r, jobs[k].off, "add.path",
                         "\"%.200s\": expected paths in increasing order, distinct (LOG-R25)",
                         ck->adds[jobs[k].a0].u.add.path);
        }
        if (rc == TL_OK && nch)
            r->pos = jobs[nch - 1].r.pos;
    }
    free(jobs);
    free(seen2);
    return rc;
}

static int decode_body(rd *r, tl_log_ckpt *ck, uint64_t n_cols_hdr, uint32_t head_len)
{
    const uint8_t *p = r->base;
    /* head: JSON lines checked by the commit parser */
    tl_log_parse_opts po;
    tl_log_parse_opts_default(&po);
    po.name = r->name;
    po.max_file_bytes = head_len ? head_len : 1;
    /* checked: a parse during which jansson failed an allocation is never
     * taken (it may have lost a byte of a string); out of memory is
     * TL_ENOMEM, not bad JSON */
    int hrc =
        tl_log_commit_parse_checked((const char *)p + r->pos, head_len, &po, &ck->head, r->err);
    if (hrc != TL_OK)
        return hrc;
    r->pos += head_len;
    const tl_log_commit *h = &ck->head;
    uint64_t n_txn_seen = 0;
    for (uint32_t i = 0; i < h->n_actions; i++) {
        const tl_log_action *a = &h->actions[i];
        if (a->kind == TL_LOG_PROTOCOL)
            ck->protocol = &a->u.proto;
        else if (a->kind == TL_LOG_METADATA)
            ck->meta = &a->u.meta;
        else if (a->kind == TL_LOG_TXN) {
            if (!n_txn_seen)
                ck->txns = a;
            n_txn_seen++;
        } else if (a->kind != TL_LOG_COMMIT_INFO)
            return bad(r, TL_CKPT_HEADER_BYTES, "head",
                       "expected commitInfo, protocol, metaData and txn lines, found %s",
                       tl_log_kind_name(a->kind));
    }
    if (!ck->protocol || !ck->meta || n_txn_seen != ck->n_txn ||
        h->actions[0].u.ci.ict_ms != ck->ict_ms)
        return bad(r, TL_CKPT_HEADER_BYTES, "head",
                   "expected a protocol, a metaData, %" PRIu64 " txn lines and the header's "
                   "inCommitTimestamp %" PRId64 ", found %s%s%" PRIu64 " txns, %" PRId64,
                   ck->n_txn, ck->ict_ms, ck->protocol ? "" : "no protocol, ",
                   ck->meta ? "" : "no metaData, ", n_txn_seen, h->actions[0].u.ci.ict_ms);
    TRY(tl_log_protocol_check_read(ck->protocol, r->err)); /* LOG-R31 */
    for (uint64_t i = 1; i < ck->n_txn; i++)
        if (ck->txns[i].kind != TL_LOG_TXN ||
            strcmp(ck->txns[i - 1].u.txn.app_id, ck->txns[i].u.txn.app_id) >= 0)
            return bad(r, TL_CKPT_HEADER_BYTES, "head.txn",
                       "expected distinct appIds in increasing order");

    ck->txn_versions = malloc((ck->n_txn ? ck->n_txn : 1) * sizeof *ck->txn_versions);
    if (!ck->txn_versions)
        return tl_error_set(r->err, TL_ENOMEM, "%s: out of memory", r->name);
    for (uint64_t i = 0; i < ck->n_txn; i++) {
        TRY(r_i64(r, "txn version", &ck->txn_versions[i], 1));
        if (ck->txn_versions[i] > ck->version)
            return bad(r, r->pos - 8, "txn version",
                       "expected a table version <= %" PRId64 ", found %" PRId64, ck->version,
                       ck->txn_versions[i]);
    }

    /* statistics names: schema columns with the schema's types (LOG-R28) */
    const tl_log_metadata *m = ck->meta;
    tl_type *types = malloc((ck->n_names ? ck->n_names : 1) * sizeof *types);
    uint32_t *seen = calloc(ck->n_names ? ck->n_names : 1, sizeof *seen);
    ck->names = malloc((ck->n_names ? ck->n_names : 1) * sizeof *ck->names);
    vmeta vm = {.types = types, .seen = seen};
    int rc = TL_OK;
    if (!types || !seen || !ck->names)
        rc = tl_error_set(r->err, TL_ENOMEM, "%s: out of memory", r->name);
    for (uint32_t i = 0; i < ck->n_names && rc == TL_OK; i++) {
        size_t at = r->pos;
        unsigned t;
        rc = r_u8(r, "name.type", &t);
        if (rc == TL_OK)
            rc = r_str(r, "name", TL_LOG_MAX_NAME, &ck->names[i], NULL);
        if (rc != TL_OK)
            break;
        types[i] = (tl_type)t;
        uint32_t f = 0;
        while (f < m->n_fields && strcmp(m->fields[f].name, ck->names[i]) != 0)
            f++;
        if (f == m->n_fields || m->fields[f].type != (tl_type)t)
            rc = bad(r, at, "name", "statistics column \"%.100s\" of type %u: expected a "
                                    "column of the schema with its type (LOG-R28)",
                     ck->names[i], t);
        for (uint32_t k = 0; k < i && rc == TL_OK; k++)
            if (strcmp(ck->names[k], ck->names[i]) == 0)
                rc = bad(r, at, "name", "\"%.100s\" twice", ck->names[i]);
    }
    for (uint32_t f = 0; f < m->n_fields && rc == TL_OK; f++) {
        if (m->part_symbol_col && strcmp(m->fields[f].name, m->part_symbol_col) == 0) {
            vm.has_symbol = 1;
            vm.symbol_nullable = m->fields[f].nullable;
        }
        if (m->part_day_col && strcmp(m->fields[f].name, m->part_day_col) == 0) {
            vm.has_date = 1;
            vm.date_nullable = m->fields[f].nullable;
        }
    }

    if (rc == TL_OK)
        rc = decode_all_adds(r, ck, &vm, n_cols_hdr);
    for (uint64_t i = 0; i < ck->n_remove && rc == TL_OK; i++) {
        tl_log_action *act = &ck->removes[i];
        memset(act, 0, sizeof *act);
        act->kind = TL_LOG_REMOVE;
        tl_log_remove *x = &act->u.rm;
        unsigned fl;
        size_t path_at = r->pos;
        if ((rc = r_path(r, "remove.path", &x->path)) != TL_OK ||
            (rc = r_u8(r, "remove.flags", &fl)) != TL_OK ||
            (rc = r_i64(r, "remove.deletionTimestamp", &x->deletion_ms, 1)) != TL_OK)
            break;
        if (i && strcmp(ck->removes[i - 1].u.rm.path, x->path) >= 0) {
            rc = bad(r, path_at, "remove.path", "\"%.200s\": expected paths in increasing "
                                                "order, distinct (LOG-R25)",
                     x->path);
            break;
        }
        x->data_change = fl & 1;
        x->has_part = (fl >> 1) & 1;
        x->has_size = (fl >> 2) & 1;
        x->has_n_rows = (fl >> 3) & 1;
        if (!x->has_part && (fl & 0xF0u)) {
            rc = bad(r, r->pos - 9, "remove.flags", "partition bits without partitionValues");
            break;
        }
        if (x->has_part &&
            (rc = r_pvals(r, &vm, (fl >> 4) & 1, (fl >> 5) & 1, (fl >> 6) & 1, (fl >> 7) & 1, 1,
                          &x->part)) != TL_OK)
            break;
        if ((x->has_size && (rc = r_i64(r, "remove.size", &x->size_bytes, 1)) != TL_OK) ||
            (x->has_n_rows && (rc = r_i64(r, "remove.numRecords", &x->n_rows, 1)) != TL_OK))
            break;
    }
    if (rc == TL_OK && r->pos != r->end)
        rc = bad(r, r->pos, "records", "expected the end of the records, found %zu more bytes",
                 r->end - r->pos);
    free(types);
    free(seen);
    return rc;
}

/* Large arrays (those of a 100,000-file checkpoint are hundreds of MiB) come
 * from mmap directly, so that they can be kept for reuse; small ones from
 * malloc. */
#define BIG_BYTES ((size_t)4 << 20)
/* Freed large arrays are kept for the next decode (MADV_FREE: the kernel may
 * still reclaim them under memory pressure): reloading a snapshot, the
 * common case of a long-running process, then writes into memory that is
 * already faulted in instead of having the kernel zero it again (for a
 * 100,000-file checkpoint with statistics of 35 columns that zeroing is
 * ~300 MB, the largest single cost of a load). */
#define BIG_CACHE 2

static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    void *p;
    size_t cap;
} big_cache[BIG_CACHE];

static size_t big_cap(size_t n)
{
    size_t huge = (size_t)2 << 20;
    return (n + huge - 1) / huge * huge;
}

static void *big_alloc(size_t n)
{
    if (n < BIG_BYTES)
        return malloc(n ? n : 1);
    size_t cap = big_cap(n);
    pthread_mutex_lock(&big_mu);
    for (int i = 0; i < BIG_CACHE; i++) {
        if (big_cache[i].p && big_cache[i].cap >= cap && big_cache[i].cap / 2 <= cap) {
            void *p = big_cache[i].p;
            size_t have = big_cache[i].cap;
            big_cache[i].p = NULL;
            pthread_mutex_unlock(&big_mu);
            if (have > cap) /* give the tail back; keep the size exact for free */
                munmap((char *)p + cap, have - cap);
            return p;
        }
    }
    pthread_mutex_unlock(&big_mu);
    void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* no MADV_HUGEPAGE: with the usual defrag=madvise setting the first
     * fault may compact memory for hundreds of ms (measured: 70-400 ms
     * for the first load of a 100,000-file checkpoint, vs a steady 120) */
    return p;
}

static void big_free(void *p, size_t n)
{
    if (!p)
        return;
    if (n < BIG_BYTES) {
        free(p);
        return;
    }
    size_t cap = big_cap(n);
    (void)madvise(p, cap, MADV_FREE);
    pthread_mutex_lock(&big_mu);
    int slot = -1;
    for (int i = 0; i < BIG_CACHE && slot < 0; i++)
        if (!big_cache[i].p)
            slot = i;
    if (slot < 0) { /* replace the smaller one */
        slot = big_cache[0].cap <= big_cache[1].cap ? 0 : 1;
        if (big_cache[slot].cap > cap)
            slot = -1;
    }
    void *drop = p;
    size_t drop_cap = cap;
    if (slot >= 0) {
        drop = big_cache[slot].p;
        drop_cap = big_cache[slot].cap;
        big_cache[slot].p = p;
        big_cache[slot].cap = cap;
    }
    pthread_mutex_unlock(&big_mu);
    if (drop)
        munmap(drop, drop_cap);
}

static int decode_owned(const char *name, int64_t expect_version, const char *buf, size_t len,
                        tl_log_ckpt *out, tl_error *err)
{
    int64_t v, ict;
    int rc = tl_log_ckpt_verify(name, expect_version, buf, len, &v, &ict, err);
    if (rc != TL_OK) {
        tl_log_ckpt_free(out);
        return rc;
    }
    const uint8_t *p = (const uint8_t *)buf;
    rd r = {name, p, TL_CKPT_HEADER_BYTES, len - TL_CKPT_TRAILER_BYTES, err};
    out->buf = buf;
    out->len = len;
    out->version = v;
    out->ict_ms = ict;
    out->n_txn = ld64(p + 40);
    out->n_add = ld64(p + 48);
    out->n_remove = ld64(p + 56);
    uint64_t n_cols = ld64(p + 64);
    out->n_names = ld32(p + 72);
    uint32_t head_len = ld32(p + 76);
    /* every record has a minimum size: counts beyond what the bytes can hold
     * are rejected before anything is allocated from them */
    uint64_t body = r.end - r.pos;
    static const struct {
        unsigned off, min;
        const char *what;
    } lim[] = {{40, 8, "n_txn"}, {48, 31, "n_add"}, {56, 15, "n_remove"},
               {64, 11, "n_colstats"}};
    for (size_t i = 0; i < sizeof lim / sizeof lim[0] && rc == TL_OK; i++) {
        uint64_t c = ld64(p + lim[i].off);
        if (c > body / lim[i].min)
            rc = bad(&r, lim[i].off, lim[i].what,
                     "expected at most %" PRIu64 " (%" PRIu64 " bytes of records / %u), found "
                     "%" PRIu64,
                     body / lim[i].min, body, lim[i].min, c);
    }
    if (rc == TL_OK && (uint64_t)out->n_names > body / 6)
        rc = bad(&r, 72, "n_names", "expected at most %" PRIu64 ", found %" PRIu32, body / 6,
                 out->n_names);
    if (rc == TL_OK && head_len > body)
        rc = bad(&r, 76, "head bytes", "expected at most %" PRIu64 ", found %" PRIu32, body,
                 head_len);
    if (rc == TL_OK) {
        out->adds_bytes = (out->n_add ? out->n_add : 1) * sizeof *out->adds;
        out->cols_bytes = (n_cols ? n_cols : 1) * sizeof *out->cols;
        out->adds = big_alloc(out->adds_bytes);
        out->removes = malloc((out->n_remove ? out->n_remove : 1) * sizeof *out->removes);
        out->cols = big_alloc(out->cols_bytes);
        out->n_cols = n_cols;
        if (!out->adds || !out->removes || !out->cols)
            rc = tl_error_set(err, TL_ENOMEM, "%s: out of memory for %" PRIu64 " adds", name,
                              out->n_add);
    }
    if (rc == TL_OK)
        rc = decode_body(&r, out, n_cols, head_len);
    if (rc != TL_OK)
        tl_log_ckpt_free(out);
    return rc;
}

int tl_log_ckpt_decode(const char *name, int64_t expect_version, char *buf, size_t len,
                       tl_log_ckpt *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    out->buf = buf; /* owned from here: freed by tl_log_ckpt_free on failure */
    return decode_owned(name, expect_version, buf, len, out, err);
}

int tl_log_ckpt_decode_map(const char *name, int64_t expect_version, tl_io_map *m,
                           tl_log_ckpt *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    out->map = *m;
    memset(m, 0, sizeof *m);
    if (!out->map.addr) { /* an empty file */
        tl_log_ckpt_free(out);
        return tl_error_set(err, TL_ECORRUPT, "%s: byte offset 0: file size: expected at "
                                              "least %u bytes, found 0",
                            name, TL_CKPT_HEADER_BYTES + TL_CKPT_TRAILER_BYTES);
    }
    (void)madvise((void *)out->map.addr, out->map.len, MADV_SEQUENTIAL);
    return decode_owned(name, expect_version, out->map.addr, out->map.len, out, err);
}

void tl_log_ckpt_free(tl_log_ckpt *c)
{
    if (!c)
        return;
    tl_log_commit_free(&c->head);
    free(c->txn_versions);
    big_free(c->adds, c->adds_bytes);
    free(c->removes);
    big_free(c->cols, c->cols_bytes);
    free((void *)c->names);
    if (c->map.addr)
        (void)tl_io_unmap(&c->map, NULL);
    else
        free((void *)c->buf);
    memset(c, 0, sizeof *c);
}

/* ---- writing (LOG-R71, R73) ------------------------------------------------ */

int tl_log_checkpoint_write(const tl_io_file *root, const tl_log_snapshot *snap,
                            const tl_io *io, tl_log_checkpoint_info *info, tl_error *err)
{
    if (info)
        memset(info, 0, sizeof *info);
    if (!root || !snap || snap->version < 0)
        return tl_error_set(err, TL_EINVAL, "tl_log_checkpoint_write: bad arguments");
    if (snap->delta) /* LOG-D1: a Delta log is read-only */
        return tl_error_set(err, TL_EUNSUPPORTED, "%s is a Delta Lake table (read-only in "
                            "ticklake)", root->path ? root->path : "the table");
    char *bytes = NULL;
    size_t len = 0;
    int rc = tl_log_ckpt_encode(snap, &bytes, &len, err);
    if (rc != TL_OK)
        return rc;
    char name[TL_CKPT_NAME_LEN + 1];
    tl_log_ckpt_name(snap->version, name);
    tl_io_file logdir;
    rc = tl_io_open(io, root, TL_LOG_DIR, O_RDONLY | O_DIRECTORY, 0, &logdir, err);
    if (rc == TL_OK) {
        /* tmp + fsync + put-if-absent + fsync of _delta_log/ (LOG-R71) */
        rc = tl_io_write_file_atomic_noreplace(io, &logdir, name, bytes, len, err);
        if (rc == TL_ECONFLICT) { /* another writer wrote it: same content */
            rc = TL_OK;
            if (info)
                info->existed = 1;
        }
    }
    /* the hint names the newest checkpoint: an older one written on request
     * leaves a newer hint alone (a hint is only ever a hint, LOG-R73) */
    int64_t hinted = -1;
    if (rc == TL_OK) {
        char *hb = NULL;
        size_t hl = 0;
        if (tl_io_read_file(io, &logdir, TL_CKPT_LAST, 4096, &hb, &hl, NULL) == TL_OK) {
            const char *k = strstr(hb, "\"version\":");
            char *end = NULL;
            long long hv = k ? strtoll(k + 10, &end, 10) : -1;
            char other[TL_CKPT_NAME_LEN + 1];
            struct stat st;
            if (k && end != k + 10 && hv > snap->version) {
                tl_log_ckpt_name((int64_t)hv, other);
                if (tl_io_stat(io, &logdir, other, &st, NULL) == TL_OK)
                    hinted = (int64_t)hv;
            }
            free(hb);
        }
    }
    if (rc == TL_OK && hinted < 0) {
        char hint[96];
        int hl = snprintf(hint, sizeof hint, "{\"version\":%" PRId64 ",\"size\":%" PRIu64 "}\n",
                          snap->version,
                          (uint64_t)2 + ld64((const uint8_t *)bytes + 40) +
                              ld64((const uint8_t *)bytes + 48) +
                              ld64((const uint8_t *)bytes + 56));
        rc = tl_io_write_file_replace(io, &logdir, TL_CKPT_LAST, hint, (size_t)hl, err);
        if (rc != TL_OK && err)
            tl_error_prefix(err, "checkpoint %s written, but not its hint (LOG-R73): ", name);
    } else if (err && logdir.fd >= 0) {
        tl_error_prefix(err, "writing checkpoint %s (LOG-R71): ", name);
    }
    if (rc == TL_OK && info) {
        info->version = snap->version;
        info->bytes = len;
        info->n_add = ld64((const uint8_t *)bytes + 48);
        info->n_remove = ld64((const uint8_t *)bytes + 56);
        info->n_txn = ld64((const uint8_t *)bytes + 40);
    }
    (void)tl_io_close(&logdir, NULL);
    free(bytes);
    return rc;
}
