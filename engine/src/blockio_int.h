/*
 * blockio_int.h - reading block byte ranges of data files for scans: one
 * interface, three paths (engine/src/blockio.c).
 *
 *   MMAP   the whole file is mapped (through tl_io, MAP_SHARED, read only);
 *          a range's bytes are the mapping itself: no copy, no system call
 *          per range. madvise(MADV_SEQUENTIAL) on the mapping, WILLNEED on
 *          the ranges of a batch.
 *   URING  io_uring: each range of a batch becomes one read of exactly its
 *          bytes (queue depth >= 32), into buffers of the tl_bio's pool;
 *          short reads are resubmitted for the rest; optional O_DIRECT
 *          (reads widened to 4 KiB alignment, data pointer inside) and
 *          registered buffers (IORING_OP_READ_FIXED).
 *   PREAD  the same ranges with pread(2) (tl_io), one after another.
 *
 * If io_uring cannot be set up (io_uring_queue_init fails: EPERM, ENOSYS,
 * ENOMEM ...), tl_bio_open with TL_IO_URING falls back to PREAD and says why
 * in tl_bio_note(); the same happens, for tests, when the environment
 * variable TICKLAKE_NO_URING is set (to anything).
 *
 * A tl_bio belongs to one thread (one per scan worker). Data pointers are
 * 64-byte aligned whenever the range's offset is (segment blocks are), so
 * tlf_seg_rle_runs / tlf_seg_block_dict accept them.
 */
#ifndef TL_BLOCKIO_INT_H
#define TL_BLOCKIO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "io_int.h"
#include "tl_error.h"

typedef struct tl_bio tl_bio;
typedef struct tl_bio_file tl_bio_file;

typedef struct tl_bio_opts {
    int mode;               /* TL_IO_MMAP, TL_IO_URING or TL_IO_PREAD (not AUTO) */
    const tl_io *io;        /* file operations (NULL = tl_io_default()) */
    uint32_t queue_depth;   /* URING: entries; 0 = 64; < 32 become 32; > 4096 TL_EINVAL */
    int direct;             /* URING/PREAD: open data files with O_DIRECT */
    int register_buffers;   /* URING: register the buffer pool */
    size_t buffer_bytes;    /* URING/PREAD: pool size; 0 = 64 MiB. Each of
                               the two batch slots gets half; a batch needs
                               the sum of tl_bio_range_bytes of its ranges
                               (length rounded to 64 bytes; with O_DIRECT
                               widened to 4 KiB): more is TL_EINVAL */
    uint32_t max_read_len;  /* tests: cap on each read request (URING and
                               PREAD), forcing continuations; 0 = none.
                               With O_DIRECT rounded down to 4 KiB (>= 4 KiB) */
} tl_bio_opts;

/* Registered buffers: the pool is registered as one buffer, so pools over
 * 1 GiB (the kernel's limit a buffer) cannot be; registration failing
 * (ENOMEM, EPERM under RLIMIT_MEMLOCK, EFAULT ...) falls back to plain reads
 * with a note. O_DIRECT open failing with EINVAL (file system without it)
 * falls back to page-cache reads for that file, with a note. Opens, PREAD
 * reads and tl_bio_file_pread go through io (so the fault injector sees
 * them); io_uring reads and mappings' page faults do not. */

/* Errors: TL_EINVAL (options), TL_ENOMEM. A failing io_uring setup is not
 * an error: the tl_bio uses PREAD (tl_bio_mode, tl_bio_note). */
TL_WUR int tl_bio_open(const tl_bio_opts *o, tl_bio **out, tl_error *err);
void tl_bio_close(tl_bio *b); /* NULL-safe; closes its files */

int tl_bio_mode(const tl_bio *b);        /* the path in use */
const char *tl_bio_note(const tl_bio *b); /* why it fell back, or "" */

/* Open rel (a data file path relative to the table) beneath root, check its
 * size equals expect_size (TL_ECORRUPT naming the file otherwise: LOG-R58)
 * and map it (MMAP). display names the file in messages. Errors: TL_ENOTFOUND,
 * TL_EIO, TL_ECORRUPT, TL_EINVAL (path leaves the table). */
TL_WUR int tl_bio_file_open(tl_bio *b, const tl_io_file *root, const char *rel,
                            uint64_t expect_size, tl_bio_file **out, tl_error *err);
/* NULL-safe. Release the file's batches first (closing it releases them). */
void tl_bio_file_close(tl_bio_file *f);
uint64_t tl_bio_file_size(const tl_bio_file *f);
/* MMAP: the whole file (for tlf_seg_open_mem); else NULL. */
const uint8_t *tl_bio_file_map(const tl_bio_file *f);

/* Read [off, off+len) into a buffer the caller owns (footers, trailers):
 * with MMAP a copy from the mapping. Errors: TL_EIO, TL_ECORRUPT (beyond
 * the end of the file). */
TL_WUR int tl_bio_file_pread(tl_bio_file *f, void *buf, size_t len, uint64_t off,
                             tl_error *err);

typedef struct tl_bio_range {
    uint64_t off, len;   /* in: bytes of the file */
    const uint8_t *data; /* out: after tl_bio_wait, len bytes */
} tl_bio_range;

/* A batch of reads of one file. At most two batches are outstanding per
 * tl_bio (double buffering: submit the next while the current is decoded).
 * tl_bio_submit starts the reads (MMAP: sets data at once; URING: queues
 * them, at most queue_depth in flight; PREAD: does nothing yet);
 * tl_bio_wait completes them (PREAD reads here) and fills data; the
 * pointers stay valid until tl_bio_release of that batch. r must stay
 * valid until then. Data pointers: data % 64 == off % 64 (O_DIRECT:
 * % 4096). Errors name the file, offset and length: tl_bio_submit checks
 * every range against the file size first (TL_ECORRUPT: a range past the
 * end), TL_EINVAL (more than two batches, or over the buffer pool);
 * tl_bio_wait: TL_EIO (a failed read, or the file ending before the range
 * did: "short read at EOF"). After a failed wait, data is unusable; the
 * batch still needs tl_bio_release. Waiting twice returns the first
 * outcome. */
typedef struct tl_bio_batch tl_bio_batch;
TL_WUR int tl_bio_submit(tl_bio *b, tl_bio_file *f, tl_bio_range *r, size_t n,
                         tl_bio_batch **out, tl_error *err);
TL_WUR int tl_bio_wait(tl_bio_batch *bt, tl_error *err);
void tl_bio_release(tl_bio_batch *bt); /* NULL-safe; cancels if still in flight */

/* Buffer bytes available to one batch (SIZE_MAX for MMAP), and the bytes
 * a range of the file takes from it (0 for MMAP): a caller groups ranges
 * so that their tl_bio_range_bytes sum stays within tl_bio_batch_bytes. */
size_t tl_bio_batch_bytes(const tl_bio *b);
size_t tl_bio_range_bytes(const tl_bio *b, uint64_t off, uint64_t len);

/* Counters of this tl_bio: bytes requested by ranges, read requests issued
 * (0 for MMAP), short reads resubmitted. */
typedef struct tl_bio_stats {
    uint64_t bytes, requests, short_reads;
} tl_bio_stats;
void tl_bio_get_stats(const tl_bio *b, tl_bio_stats *st);

/* Tests: drop the page cache of a file's bytes (posix_fadvise DONTNEED);
 * benchmarks use it for cold figures. */
TL_WUR int tl_bio_drop_cache(const tl_io_file *root, const char *rel, tl_error *err);

#endif /* TL_BLOCKIO_INT_H */
