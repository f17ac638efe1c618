/*
 * blockio.c - block byte ranges of data files for scans (blockio_int.h):
 * one tl_bio per scan worker, three paths.
 *
 *   MMAP   tl_bio_file_open maps the whole file (tl_io_map_file) and
 *          advises MADV_SEQUENTIAL and MADV_HUGEPAGE; a batch's data pointers point into the
 *          mapping (no copy) after a MADV_POPULATE_READ of the ranges'
 *          pages (page tables filled in one call per run of ranges instead
 *          of a fault per page; measured faster warm, 40% fewer faults).
 *          Where the kernel lacks it (EINVAL, before 5.14), MADV_WILLNEED.
 *   URING  one ring per tl_bio (queue depth >= 32). Each range is one read
 *          of exactly its bytes (O_DIRECT: widened to 4 KiB) into the
 *          batch's half of the buffer pool; at most queue_depth reads are in
 *          flight over both batches, refilled as completions arrive. A
 *          completion is routed by user_data = slot << 48 | range index, so
 *          waiting for one batch records the other's completions for later.
 *          Short reads, -EAGAIN and -EINTR continue with the rest of the
 *          range; 0 before the range is complete is "short read at EOF".
 *          Each request first asks the tl_io's ring_read hook (the fault
 *          injector's): an error from it fails the range as the completion
 *          would, "read(<file>, N bytes at offset O): <error>".
 *   PREAD  the same ranges, read one after another in tl_bio_wait.
 *
 * Invariants:
 * - Every range is checked against the file size (fstat at open, equal to
 *   the log's size) before anything is read or pointed at: no access
 *   outside a mapping, no read the caller did not ask for except the
 *   O_DIRECT widening, which stays inside the batch's buffer.
 * - Buffers: one pool per tl_bio, allocated once (lazily, on the first
 *   batch; at open when registered buffers are asked for) and reused: slot
 *   s owns [s * slot_bytes, (s + 1) * slot_bytes). A range's buffer starts
 *   64-byte aligned (O_DIRECT: 4 KiB), its data at the same offset modulo
 *   64 (4096) as the range in the file.
 * - Memory the kernel may still write into is never freed or reused: a
 *   batch released while reads are in flight first waits for them (that is
 *   the cancel), and tl_bio_close releases both slots before freeing.
 * - No global mutable state: tl_bio's in different threads are independent.
 */
#include "blockio_int.h"

#include "ticklake.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#define POOL_DEFAULT ((size_t)64 << 20)
#define QD_DEFAULT 64u
#define QD_MIN 32u
#define QD_MAX 4096u
#define DIO_ALIGN 4096u
#define DATA_ALIGN 64u
#define PIECE_MAX ((uint64_t)1 << 30) /* largest single read request */
#define UD_SHIFT 48
#define UD_MASK (((uint64_t)1 << UD_SHIFT) - 1)

typedef unsigned long long ull;

/* One range's read: bytes [aoff, aoff + want) of the file into buf; the
 * range is complete once need bytes arrived (want > need only with
 * O_DIRECT, where the widened tail may lie past the end of the file). */
typedef struct bio_rd {
    uint64_t aoff, need, want, done;
    uint8_t *buf;
    uint64_t piece; /* URING: length of the request in flight */
} bio_rd;

struct tl_bio_batch {
    tl_bio *b;
    unsigned slot;
    int in_use;
    tl_bio_file *f;
    tl_bio_range *r;
    size_t n;
    bio_rd *rd; /* n entries; capacity kept across batches */
    size_t rd_cap;
    size_t next;       /* URING: first range not started yet */
    size_t n_left;     /* ranges not complete */
    unsigned inflight; /* URING: requests of this batch in the ring */
    int stop;          /* failed or released: start no more reads */
    int waited;
    int rc; /* first failure; its message in err */
    tl_error err;
};

struct tl_bio_file {
    tl_bio *b;
    tl_io_file file;
    tl_io_map map;
    uint64_t size;
    int direct; /* opened with O_DIRECT */
    tl_bio_file *prev, *next;
};

struct tl_bio {
    int mode;
    const tl_io *io;
    uint32_t qd;
    int direct;          /* asked for O_DIRECT (not MMAP) */
    int registered;      /* pool registered as buffer 0 */
    int broken;          /* the ring failed: do not wait on it any more */
    uint32_t max_read;   /* cap a request, 0 = none */
    size_t pool_bytes, slot_bytes;
    uint8_t *pool;
    int ring_ok;
    struct io_uring ring;
    unsigned inflight;   /* URING: requests in the ring, both slots */
    tl_bio_batch slot[2];
    tl_bio_file *files;
    uint8_t *scratch;    /* O_DIRECT bounce buffer of tl_bio_file_pread */
    size_t scratch_cap;
    int direct_noted;
    int no_populate;     /* MADV_POPULATE_READ refused: MADV_WILLNEED */
    tl_bio_stats st;
    char note[512];
};

static const char *errstr(int e, char *buf, size_t cap)
{
    return strerror_r(e, buf, cap); /* GNU: returns the string */
}

TL_PRINTF(2, 3) static void add_note(tl_bio *b, const char *fmt, ...)
{
    size_t l = strlen(b->note);
    if (l && l + 2 < sizeof b->note) {
        memcpy(b->note + l, "; ", 3);
        l += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->note + l, sizeof b->note - l, fmt, ap);
    va_end(ap);
}

static uint64_t round_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* ---- the tl_bio ---------------------------------------------------------------------------- */

static int pool_alloc(tl_bio *b, tl_error *err)
{
    if (b->pool)
        return TL_OK;
    b->pool = aligned_alloc(DIO_ALIGN, b->pool_bytes);
    if (!b->pool)
        return tl_error_set(err, TL_ENOMEM, "block I/O: cannot allocate a buffer pool of %zu bytes",
                            b->pool_bytes);
    return TL_OK;
}

int tl_bio_open(const tl_bio_opts *o, tl_bio **out, tl_error *err)
{
    *out = NULL;
    if (!o)
        return tl_error_set(err, TL_EINVAL, "tl_bio_open: no options");
    if (o->mode != TL_IO_MMAP && o->mode != TL_IO_URING && o->mode != TL_IO_PREAD)
        return tl_error_set(err, TL_EINVAL,
                            "tl_bio_open: mode %d is not mmap (%d), uring (%d) or pread (%d)",
                            o->mode, TL_IO_MMAP, TL_IO_URING, TL_IO_PREAD);
    if (o->queue_depth > QD_MAX)
        return tl_error_set(err, TL_EINVAL, "tl_bio_open: queue depth %u exceeds %u",
                            o->queue_depth, QD_MAX);
    size_t pb = o->buffer_bytes ? o->buffer_bytes : POOL_DEFAULT;
    if (pb > SIZE_MAX / 4)
        return tl_error_set(err, TL_EINVAL, "tl_bio_open: buffer pool of %zu bytes is too large",
                            pb);
    tl_bio *b = calloc(1, sizeof *b);
    if (!b)
        return tl_error_set(err, TL_ENOMEM, "tl_bio_open: out of memory");
    b->mode = o->mode;
    b->io = o->io ? o->io : tl_io_default();
    b->qd = o->queue_depth ? o->queue_depth : QD_DEFAULT;
    if (b->qd < QD_MIN)
        b->qd = QD_MIN;
    b->direct = o->direct && o->mode != TL_IO_MMAP;
    b->max_read = o->max_read_len;
    b->pool_bytes = (size_t)round_up(pb, 2 * DIO_ALIGN);
    b->slot_bytes = b->pool_bytes / 2;
    for (unsigned i = 0; i < 2; i++) {
        b->slot[i].b = b;
        b->slot[i].slot = i;
    }
    if (b->mode == TL_IO_URING) {
        char eb[128];
        if (getenv("TICKLAKE_NO_URING")) {
            b->mode = TL_IO_PREAD;
            add_note(b, "io_uring disabled (TICKLAKE_NO_URING is set); using pread");
        } else {
            unsigned flags = 0;
#ifdef IORING_SETUP_COOP_TASKRUN
            flags |= IORING_SETUP_COOP_TASKRUN; /* no interrupt to deliver completions */
#endif
            int r = io_uring_queue_init(b->qd, &b->ring, flags);
            if (r == -EINVAL && flags)
                r = io_uring_queue_init(b->qd, &b->ring, 0);
            if (r < 0) {
                b->mode = TL_IO_PREAD;
                add_note(b, "io_uring unavailable (io_uring_setup: %s); using pread",
                         errstr(-r, eb, sizeof eb));
            } else {
                b->ring_ok = 1;
            }
        }
        if (b->ring_ok && o->register_buffers) {
            int rc = pool_alloc(b, err);
            if (rc != TL_OK) {
                tl_bio_close(b);
                return rc;
            }
            struct iovec iov = {b->pool, b->pool_bytes};
            int r = io_uring_register_buffers(&b->ring, &iov, 1);
            if (r < 0)
                add_note(b,
                         "registered buffers unavailable (io_uring_register_buffers, %zu bytes: "
                         "%s); using plain reads",
                         b->pool_bytes, errstr(-r, eb, sizeof eb));
            else
                b->registered = 1;
        }
    }
    *out = b;
    return TL_OK;
}

static void batch_release(tl_bio_batch *bt);

void tl_bio_close(tl_bio *b)
{
    if (!b)
        return;
    batch_release(&b->slot[0]);
    batch_release(&b->slot[1]);
    while (b->files)
        tl_bio_file_close(b->files);
    if (b->ring_ok)
        io_uring_queue_exit(&b->ring); /* also unregisters the buffers */
    free(b->slot[0].rd);
    free(b->slot[1].rd);
    free(b->pool);
    free(b->scratch);
    free(b);
}

int tl_bio_mode(const tl_bio *b)
{
    return b->mode;
}

const char *tl_bio_note(const tl_bio *b)
{
    return b->note;
}

void tl_bio_get_stats(const tl_bio *b, tl_bio_stats *st)
{
    *st = b->st;
}

size_t tl_bio_batch_bytes(const tl_bio *b)
{
    return b->mode == TL_IO_MMAP ? SIZE_MAX : b->slot_bytes;
}

static uint64_t range_bytes(int direct, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (direct)
        return round_up(off + len, DIO_ALIGN) - (off & ~(uint64_t)(DIO_ALIGN - 1));
    return round_up((off & (DATA_ALIGN - 1)) + len, DATA_ALIGN);
}

size_t tl_bio_range_bytes(const tl_bio *b, uint64_t off, uint64_t len)
{
    if (b->mode == TL_IO_MMAP)
        return 0;
    uint64_t n = range_bytes(b->direct, off, len);
    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

/* ---- files --------------------------------------------------------------------------------- */

int tl_bio_file_open(tl_bio *b, const tl_io_file *root, const char *rel, uint64_t expect_size,
                     tl_bio_file **out, tl_error *err)
{
    *out = NULL;
    if (!b || !root || !rel)
        return tl_error_set(err, TL_EINVAL, "tl_bio_file_open: needs a tl_bio, a root and a path");
    tl_bio_file *f = calloc(1, sizeof *f);
    if (!f)
        return tl_error_set(err, TL_ENOMEM, "tl_bio_file_open(%s): out of memory", rel);
    f->b = b;
    f->file = (tl_io_file)TL_IO_FILE_INIT;
    f->direct = b->direct;
    tl_error e;
    int rc = tl_io_open_beneath(b->io, root, rel, O_RDONLY | (f->direct ? O_DIRECT : 0), 0,
                                &f->file, &e);
    if (rc == TL_EINVAL && f->direct && e.sys_errno == EINVAL) {
        f->direct = 0;
        if (!b->direct_noted) {
            b->direct_noted = 1;
            add_note(b, "O_DIRECT unsupported (%s); reading through the page cache", e.msg);
        }
        rc = tl_io_open_beneath(b->io, root, rel, O_RDONLY, 0, &f->file, &e);
    }
    if (rc != TL_OK) {
        if (err)
            *err = e;
        free(f);
        return rc;
    }
    struct stat st;
    rc = tl_io_fstat(&f->file, &st, err);
    if (rc != TL_OK)
        goto fail;
    if ((uint64_t)st.st_size != expect_size) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "%s: the log records %llu bytes for this file, it has %llu (LOG-R58)",
                          f->file.path, (ull)expect_size, (ull)st.st_size);
        goto fail;
    }
    f->size = expect_size;
    if (b->mode == TL_IO_MMAP) {
        rc = tl_io_map_file(&f->file, &f->map, err);
        if (rc != TL_OK)
            goto fail;
        if (f->map.len != f->size) { /* changed between the two fstat's */
            rc = tl_error_set(err, TL_ECORRUPT,
                              "%s: the log records %llu bytes for this file, it has %zu "
                              "(LOG-R58)",
                              f->file.path, (ull)expect_size, f->map.len);
            goto fail;
        }
        if (f->map.addr) {
            (void)madvise((void *)f->map.addr, f->map.len, MADV_SEQUENTIAL);
            /* pages not yet cached are read ahead into PMD-sized folios
             * (Linux 6.x file THP), which later scans map with one entry
             * per 2 MiB instead of 512; refused (EINVAL) where the kernel
             * has no THP: harmless */
            (void)madvise((void *)f->map.addr, f->map.len, MADV_HUGEPAGE);
        }
    }
    f->next = b->files;
    if (b->files)
        b->files->prev = f;
    b->files = f;
    *out = f;
    return TL_OK;
fail:
    (void)tl_io_unmap(&f->map, NULL);
    (void)tl_io_close(&f->file, NULL);
    free(f);
    return rc;
}

void tl_bio_file_close(tl_bio_file *f)
{
    if (!f)
        return;
    tl_bio *b = f->b;
    for (unsigned i = 0; i < 2; i++)
        if (b->slot[i].in_use && b->slot[i].f == f)
            batch_release(&b->slot[i]);
    if (f->prev)
        f->prev->next = f->next;
    else
        b->files = f->next;
    if (f->next)
        f->next->prev = f->prev;
    (void)tl_io_unmap(&f->map, NULL);
    (void)tl_io_close(&f->file, NULL);
    free(f);
}

uint64_t tl_bio_file_size(const tl_bio_file *f)
{
    return f->size;
}

const uint8_t *tl_bio_file_map(const tl_bio_file *f)
{
    return f->b->mode == TL_IO_MMAP ? f->map.addr : NULL;
}

static int check_range(const tl_bio_file *f, uint64_t off, uint64_t len, tl_error *err)
{
    if (off > f->size || len > f->size - off)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: %llu bytes at offset %llu end past the end of the file "
                            "(%llu bytes)",
                            f->file.path, (ull)len, (ull)off, (ull)f->size);
    return TL_OK;
}

static int read_fail(const tl_bio_file *f, const char *op, int e, uint64_t off, uint64_t len,
                     tl_error *err)
{
    tl_error_sys(err, e, "%s(%s, %llu bytes at offset %llu)", op, f->file.path, (ull)len,
                 (ull)off);
    int code = e == ENOMEM ? TL_ENOMEM : TL_EIO;
    if (err)
        err->code = code;
    return code;
}

static int short_eof(const tl_bio_file *f, uint64_t off, uint64_t len, uint64_t got,
                     tl_error *err)
{
    return tl_error_set(err, TL_EIO,
                        "%s: short read at EOF: %llu bytes at offset %llu requested, the file "
                        "ended after %llu of them",
                        f->file.path, (ull)len, (ull)off, (ull)got);
}

/* Largest request: PIECE_MAX, max_read_len, O_DIRECT keeping 4 KiB multiples. */
static uint64_t piece_cap(const tl_bio *b, int direct)
{
    uint64_t cap = b->max_read && b->max_read < PIECE_MAX ? b->max_read : PIECE_MAX;
    if (direct) {
        cap &= ~(uint64_t)(DIO_ALIGN - 1);
        if (cap == 0)
            cap = DIO_ALIGN;
    }
    return cap;
}

/* Synchronous read of d (pread loop): EINTR/EAGAIN retried, short reads
 * continued. off/len: the caller's range, for messages. */
static int read_sync(tl_bio_file *f, bio_rd *d, uint64_t off, uint64_t len, tl_error *err)
{
    tl_bio *b = f->b;
    const tl_io *io = f->file.io;
    uint64_t cap = piece_cap(b, f->direct);
    while (d->done < d->need) {
        uint64_t piece = d->want - d->done;
        if (piece > cap)
            piece = cap;
        int64_t r = io->ops->pread(io->ctx, f->file.fd, d->buf + d->done, (size_t)piece,
                                   d->aoff + d->done);
        b->st.requests++;
        if (r == -EINTR || r == -EAGAIN)
            continue;
        if (r < 0)
            return read_fail(f, "pread", (int)-r, off, len, err);
        if (r == 0)
            return short_eof(f, off, len, d->done > off - d->aoff ? d->done - (off - d->aoff) : 0,
                             err);
        d->done += (uint64_t)r;
        if ((uint64_t)r < piece && d->done < d->need)
            b->st.short_reads++;
    }
    return TL_OK;
}

static void set_widened(bio_rd *d, int direct, uint64_t off, uint64_t len)
{
    if (direct && len > 0) {
        d->aoff = off & ~(uint64_t)(DIO_ALIGN - 1);
        d->want = round_up(off + len, DIO_ALIGN) - d->aoff;
    } else {
        d->aoff = off;
        d->want = len;
    }
    d->need = off + len - d->aoff;
    d->done = 0;
    d->piece = 0;
}

int tl_bio_file_pread(tl_bio_file *f, void *buf, size_t len, uint64_t off, tl_error *err)
{
    int rc = check_range(f, off, len, err);
    if (rc != TL_OK || len == 0)
        return rc;
    tl_bio *b = f->b;
    if (b->mode == TL_IO_MMAP) {
        memcpy(buf, (const uint8_t *)f->map.addr + off, len);
        return TL_OK;
    }
    bio_rd d;
    set_widened(&d, f->direct, off, len);
    if (!f->direct) {
        d.buf = buf;
        return read_sync(f, &d, off, len, err);
    }
    if (d.want > b->scratch_cap) { /* O_DIRECT: an aligned bounce buffer, kept */
        size_t cap = (size_t)round_up(d.want, 1 << 20);
        uint8_t *p = aligned_alloc(DIO_ALIGN, cap);
        if (!p)
            return tl_error_set(err, TL_ENOMEM, "%s: cannot allocate %zu bytes to read %zu at "
                                "offset %llu", f->file.path, cap, len, (ull)off);
        free(b->scratch);
        b->scratch = p;
        b->scratch_cap = cap;
    }
    d.buf = b->scratch;
    rc = read_sync(f, &d, off, len, err);
    if (rc == TL_OK)
        memcpy(buf, d.buf + (off - d.aoff), len);
    return rc;
}

int tl_bio_drop_cache(const tl_io_file *root, const char *rel, tl_error *err)
{
    tl_io_file f;
    const tl_io *io = root && root->io ? root->io : tl_io_default();
    int rc = tl_io_open_beneath(io, root, rel, O_RDONLY, 0, &f, err);
    if (rc != TL_OK)
        return rc;
    int e = posix_fadvise(f.fd, 0, 0, POSIX_FADV_DONTNEED);
    if (e != 0)
        rc = read_fail(&(tl_bio_file){.file = f}, "posix_fadvise(DONTNEED)", e, 0, 0, err);
    (void)tl_io_close(&f, NULL);
    return rc;
}

/* ---- batches: io_uring ---------------------------------------------------------------------- */

TL_PRINTF(2, 3) static void batch_fail(tl_bio_batch *bt, const char *fmt, ...)
{
    bt->stop = 1;
    if (bt->rc != TL_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    char msg[TL_ERROR_MSG_LEN];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bt->rc = tl_error_set(&bt->err, TL_EIO, "%s", msg);
}

static void batch_fail_err(tl_bio_batch *bt, const tl_error *e)
{
    bt->stop = 1;
    if (bt->rc == TL_OK) {
        bt->err = *e;
        bt->rc = e->code;
    }
}

/* Queue the next request of range k (the rest of it, capped). */
static void uring_start(tl_bio_batch *bt, size_t k)
{
    tl_bio *b = bt->b;
    bio_rd *d = &bt->rd[k];
    uint64_t piece = d->want - d->done, cap = piece_cap(b, bt->f->direct);
    if (piece > cap)
        piece = cap;
    const tl_io *io = bt->f->file.io;
    if (io && io->ops->ring_read) { /* the fault hook (tl_io_ops.ring_read) */
        int h = io->ops->ring_read(io->ctx, bt->f->file.fd, (size_t)piece, d->aoff + d->done);
        if (h < 0 && h != -EINTR && h != -EAGAIN) {
            tl_error e;
            b->st.requests++;
            read_fail(bt->f, "read", -h, bt->r[k].off, bt->r[k].len, &e);
            batch_fail_err(bt, &e);
            return;
        }
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
    if (!sqe) { /* cannot happen while inflight <= qd = SQ size; be safe */
        (void)io_uring_submit(&b->ring);
        sqe = io_uring_get_sqe(&b->ring);
        if (!sqe) {
            batch_fail(bt, "%s: io_uring submission queue full reading %llu bytes at offset "
                       "%llu", bt->f->file.path, (ull)bt->r[k].len, (ull)bt->r[k].off);
            return;
        }
    }
    if (b->registered)
        io_uring_prep_read_fixed(sqe, bt->f->file.fd, d->buf + d->done, (unsigned)piece,
                                 d->aoff + d->done, 0);
    else
        io_uring_prep_read(sqe, bt->f->file.fd, d->buf + d->done, (unsigned)piece,
                           d->aoff + d->done);
    io_uring_sqe_set_data64(sqe, (uint64_t)bt->slot << UD_SHIFT | (uint64_t)k);
    d->piece = piece;
    bt->inflight++;
    b->inflight++;
    b->st.requests++;
}

/* Start ranges of bt while the ring has room. */
static void uring_pump(tl_bio_batch *bt)
{
    tl_bio *b = bt->b;
    while (bt->in_use && !bt->stop && bt->next < bt->n && b->inflight < b->qd) {
        size_t k = bt->next++;
        if (bt->rd[k].need > 0)
            uring_start(bt, k);
    }
}

static void uring_complete(tl_bio *b, uint64_t ud, int res)
{
    tl_bio_batch *bt = &b->slot[(ud >> UD_SHIFT) & 1];
    size_t k = (size_t)(ud & UD_MASK);
    bio_rd *d = &bt->rd[k];
    bt->inflight--;
    b->inflight--;
    if (bt->stop)
        return;
    const tl_bio_range *r = &bt->r[k];
    if (res == -EAGAIN || res == -EINTR) {
        uring_start(bt, k);
        return;
    }
    if (res < 0) {
        tl_error e;
        read_fail(bt->f, "read", -res, r->off, r->len, &e);
        batch_fail_err(bt, &e);
        return;
    }
    if (res == 0) {
        uint64_t lead = r->off - d->aoff;
        tl_error e;
        short_eof(bt->f, r->off, r->len, d->done > lead ? d->done - lead : 0, &e);
        batch_fail_err(bt, &e);
        return;
    }
    d->done += (uint64_t)res;
    if (d->done >= d->need) {
        bt->n_left--;
        return;
    }
    if ((uint64_t)res < d->piece)
        b->st.short_reads++;
    uring_start(bt, k);
}

static void uring_reap(tl_bio *b)
{
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&b->ring, &cqe) == 0 && cqe) {
        uint64_t ud = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&b->ring, cqe);
        uring_complete(b, ud, res);
    }
}

/* Submit what is queued and wait for one completion, then handle every
 * completion there is. Transient errors are retried by the caller's loop;
 * anything else marks the ring broken (TL_EIO for bt). */
static void uring_step(tl_bio_batch *bt)
{
    tl_bio *b = bt->b;
    int r = io_uring_submit_and_wait(&b->ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY && r != -ETIME) {
        tl_error e;
        read_fail(bt->f, "io_uring_enter", -r, bt->n ? bt->r[0].off : 0, bt->n ? bt->r[0].len : 0,
                  &e);
        batch_fail_err(bt, &e);
        b->broken = 1;
        return;
    }
    uring_reap(b);
}

static tl_bio_batch *other(tl_bio_batch *bt)
{
    return &bt->b->slot[bt->slot ^ 1];
}

/* Keep the ring busy with the other batch's ranges once bt has all of its
 * own in flight. */
static void uring_refill(tl_bio_batch *bt)
{
    uring_pump(bt);
    if (bt->stop || bt->next == bt->n)
        uring_pump(other(bt));
    if (bt->b->inflight)
        (void)io_uring_submit(&bt->b->ring);
}

static int uring_wait(tl_bio_batch *bt)
{
    tl_bio *b = bt->b;
    for (;;) {
        uring_pump(bt);
        if (bt->next == bt->n || bt->stop)
            uring_pump(other(bt));
        if (bt->inflight == 0 && (bt->stop || (bt->next == bt->n && bt->n_left == 0)))
            break;
        if (b->broken || b->inflight == 0) { /* nothing could complete bt any more */
            batch_fail(bt, "%s: io_uring %s; %zu ranges unread", bt->f->file.path,
                       b->broken ? "failed earlier" : "has no reads in flight", bt->n_left);
            break;
        }
        uring_step(bt);
    }
    uring_refill(other(bt));
    return bt->rc;
}

/* ---- batches: all paths --------------------------------------------------------------------- */

static void batch_release(tl_bio_batch *bt)
{
    if (!bt->in_use)
        return;
    tl_bio *b = bt->b;
    bt->stop = 1;
    while (bt->inflight && !b->broken)
        uring_step(bt);
    bt->in_use = 0;
    if (b->mode == TL_IO_URING && other(bt)->in_use)
        uring_refill(other(bt));
}

void tl_bio_release(tl_bio_batch *bt)
{
    if (bt)
        batch_release(bt);
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* MADV_POPULATE_READ (else MADV_WILLNEED) over the ranges' pages, adjacent
 * or overlapping ones in one call. Advice only: a failure is not an error
 * (the pages then fault in when touched). */
static void mmap_advise(tl_bio *b, uint8_t *base, uint64_t s, uint64_t e)
{
    if (!b->no_populate) {
        if (madvise(base + s, (size_t)(e - s), MADV_POPULATE_READ) == 0)
            return;
        if (errno == EINVAL)
            b->no_populate = 1;
    }
    (void)madvise(base + s, (size_t)(e - s), MADV_WILLNEED);
}

static void mmap_willneed(tl_bio_file *f, const tl_bio_range *r, size_t n)
{
    uint8_t *base = (uint8_t *)f->map.addr;
    uint64_t s = 0, e = 0;
    int have = 0;
    for (size_t i = 0; i <= n; i++) {
        uint64_t rs = 0, re = 0;
        if (i < n) {
            if (r[i].len == 0)
                continue;
            rs = r[i].off & ~(uint64_t)(DIO_ALIGN - 1);
            re = r[i].off + r[i].len;
            if (have && rs <= round_up(e, DIO_ALIGN) && re >= s) {
                if (rs < s)
                    s = rs;
                if (re > e)
                    e = re;
                continue;
            }
        }
        if (have)
            mmap_advise(f->b, base, s, e);
        have = i < n;
        s = rs;
        e = re;
    }
}

int tl_bio_submit(tl_bio *b, tl_bio_file *f, tl_bio_range *r, size_t n, tl_bio_batch **out,
                  tl_error *err)
{
    *out = NULL;
    if (!b || !f || f->b != b || (n && !r))
        return tl_error_set(err, TL_EINVAL, "tl_bio_submit: needs a tl_bio, one of its files "
                            "and ranges");
    if (n > UD_MASK)
        return tl_error_set(err, TL_EINVAL, "tl_bio_submit(%s): %zu ranges in one batch",
                            f->file.path, n);
    tl_bio_batch *bt = !b->slot[0].in_use ? &b->slot[0] : !b->slot[1].in_use ? &b->slot[1] : NULL;
    if (!bt)
        return tl_error_set(err, TL_EINVAL,
                            "tl_bio_submit(%s): two batches are outstanding already (release "
                            "one first)", f->file.path);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = check_range(f, r[i].off, r[i].len, err);
        if (rc != TL_OK)
            return rc;
        total += r[i].len;
    }
    bt->f = f;
    bt->r = r;
    bt->n = n;
    bt->next = 0;
    bt->n_left = 0;
    bt->inflight = 0;
    bt->stop = 0;
    bt->waited = 0;
    bt->rc = TL_OK;
    tl_error_clear(&bt->err);
    if (b->mode == TL_IO_MMAP) {
        const uint8_t *base = f->map.addr;
        for (size_t i = 0; i < n; i++)
            r[i].data = base ? base + r[i].off : (const uint8_t *)"";
        mmap_willneed(f, r, n);
        b->st.bytes += total;
        bt->in_use = 1;
        *out = bt;
        return TL_OK;
    }
    /* Lay the ranges out in the slot's half of the pool. */
    uint64_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += range_bytes(f->direct, r[i].off, r[i].len);
    if (need > b->slot_bytes)
        return tl_error_set(err, TL_EINVAL,
                            "tl_bio_submit(%s): %zu ranges from offset %llu need %llu buffer "
                            "bytes, a batch has %zu (half the pool)",
                            f->file.path, n, n ? (ull)r[0].off : 0ull, (ull)need, b->slot_bytes);
    int rc = pool_alloc(b, err);
    if (rc != TL_OK)
        return rc;
    if (n > bt->rd_cap) {
        size_t cap = bt->rd_cap ? bt->rd_cap : 64;
        while (cap < n)
            cap *= 2;
        bio_rd *p = realloc(bt->rd, cap * sizeof *p);
        if (!p)
            return tl_error_set(err, TL_ENOMEM, "tl_bio_submit(%s): %zu ranges: out of memory",
                                f->file.path, n);
        bt->rd = p;
        bt->rd_cap = cap;
    }
    uint8_t *slot_base = b->pool + bt->slot * b->slot_bytes;
    uint64_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        bio_rd *d = &bt->rd[i];
        set_widened(d, f->direct, r[i].off, r[i].len);
        d->buf = slot_base + cur + (f->direct ? 0 : (r[i].off & (DATA_ALIGN - 1)));
        r[i].data = d->buf + (r[i].off - d->aoff);
        cur += range_bytes(f->direct, r[i].off, r[i].len);
        if (d->need > 0)
            bt->n_left++;
    }
    b->st.bytes += total;
    bt->in_use = 1;
    if (b->mode == TL_IO_URING) {
        uring_pump(bt);
        if (b->inflight)
            (void)io_uring_submit(&b->ring);
    }
    *out = bt;
    return TL_OK;
}

int tl_bio_wait(tl_bio_batch *bt, tl_error *err)
{
    if (!bt || !bt->in_use)
        return tl_error_set(err, TL_EINVAL, "tl_bio_wait: not a submitted batch");
    if (!bt->waited) {
        tl_bio *b = bt->b;
        if (b->mode == TL_IO_URING) {
            (void)uring_wait(bt);
        } else if (b->mode == TL_IO_PREAD) {
            for (size_t k = 0; k < bt->n && bt->rc == TL_OK; k++) {
                if (bt->rd[k].need == 0)
                    continue;
                bt->rc = read_sync(bt->f, &bt->rd[k], bt->r[k].off, bt->r[k].len, &bt->err);
                if (bt->rc == TL_OK)
                    bt->n_left--;
            }
        }
        bt->waited = 1;
    }
    if (bt->rc != TL_OK && err)
        *err = bt->err;
    return bt->rc;
}
