/*
 * blockio_test.c - block I/O for scans (blockio_int.h): every path (MMAP,
 * URING, PREAD) and option (O_DIRECT, registered buffers, a small request
 * cap forcing continuations, queue depth 32 with 200 ranges forcing
 * refills) returns the file's bytes at the promised alignment; two batches
 * outstanding at once; the fallbacks (TICKLAKE_NO_URING, registration
 * failing) with their notes; and the error paths: size mismatch (LOG-R58),
 * ranges past the end, a file truncated under an open handle ("short read
 * at EOF"), paths leaving the table, too many batches, a batch over the
 * pool. Each test gets a temp dir holding a table root "t" with one data
 * file of pseudo-random bytes.
 */
#include <criterion/criterion.h>

#include "blockio_int.h"
#include "ticklake.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REL "part=a/seg-000001.tlseg"
#define FILE_SIZE ((size_t)6 * 1024 * 1024 + 1234) /* not a multiple of 4 KiB */

static char dir[256];  /* temp dir */
static char root[300]; /* dir/t */
static uint8_t *ref;   /* the data file's bytes */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void write_file(void)
{
    char p[400];
    snprintf(p, sizeof p, "%s/" REL, root);
    FILE *fp = fopen(p, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(ref, 1, FILE_SIZE, fp), FILE_SIZE);
    cr_assert_eq(fclose(fp), 0);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "%s/tl_bio.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(root, sizeof root, "%s/t", dir);
    cr_assert_eq(mkdir(root, 0755), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/part=a", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    ref = malloc(FILE_SIZE);
    cr_assert_not_null(ref);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < FILE_SIZE; i++)
        ref[i] = (uint8_t)(rnd(&s) >> 24);
    write_file();
}

static void teardown(void)
{
    free(ref);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(blockio, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------------ */

static void open_root(tl_io_file *f)
{
    tl_error err;
    cr_assert_eq(tl_io_open(NULL, NULL, root, O_RDONLY | O_DIRECTORY, 0, f, &err), TL_OK, "%s",
                 err.msg);
}

static tl_bio *bio_open(tl_bio_opts o)
{
    tl_bio *b = NULL;
    tl_error err;
    cr_assert_eq(tl_bio_open(&o, &b, &err), TL_OK, "%s", err.msg);
    return b;
}

static tl_bio_file *file_open(tl_bio *b, const tl_io_file *r)
{
    tl_bio_file *f = NULL;
    tl_error err;
    cr_assert_eq(tl_bio_file_open(b, r, REL, FILE_SIZE, &f, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_file_size(f), FILE_SIZE);
    return f;
}

/* URING tests need io_uring: skip (never pass silently) without it. */
static void need_uring(void)
{
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_URING});
    int mode = tl_bio_mode(b);
    char note[512];
    snprintf(note, sizeof note, "%s", tl_bio_note(b));
    tl_bio_close(b);
    if (mode != TL_IO_URING)
        cr_skip_test("io_uring unavailable here: %s", note);
}

/* n ranges: mostly 64-aligned offsets (segment blocks), some not, lengths
 * 1 .. 40000; range 0 is empty, range 1 starts the file, range 2 ends it. */
static void make_ranges(tl_bio_range *r, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = 1 + rnd(&s) % 40000;
        uint64_t off = rnd(&s) % (FILE_SIZE - len);
        if (i % 4 != 3)
            off &= ~(uint64_t)63;
        r[i] = (tl_bio_range){off, len, NULL};
    }
    r[0] = (tl_bio_range){12345, 0, NULL};
    if (n > 1)
        r[1] = (tl_bio_range){0, 4096 * 3 + 17, NULL};
    if (n > 2)
        r[2] = (tl_bio_range){FILE_SIZE - 777, 777, NULL};
}

static void check_ranges(const tl_bio_range *r, size_t n, int align)
{
    for (size_t i = 0; i < n; i++) {
        if (r[i].len == 0)
            continue;
        cr_assert_not_null(r[i].data, "range %zu", i);
        cr_assert_eq((uintptr_t)r[i].data % (uintptr_t)align, r[i].off % (uint64_t)align,
                     "range %zu at offset %llu: data %p not aligned like the offset modulo %d", i,
                     (unsigned long long)r[i].off, (const void *)r[i].data, align);
        cr_assert_eq(memcmp(r[i].data, ref + r[i].off, r[i].len), 0,
                     "range %zu: %llu bytes at offset %llu differ from the file", i,
                     (unsigned long long)r[i].len, (unsigned long long)r[i].off);
    }
}

static uint64_t sum_len(const tl_bio_range *r, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += r[i].len;
    return s;
}

/* One batch of n ranges through o; contents, alignment and counters. */
static void read_batch(tl_bio_opts o, size_t n, uint64_t seed)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open(o);
    tl_bio_file *f = file_open(b, &rf);
    tl_bio_range *r = calloc(n, sizeof *r);
    cr_assert_not_null(r);
    make_ranges(r, n, seed);
    tl_bio_batch *bt;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, r, n, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_OK, "%s", err.msg);
    /* O_DIRECT keeps the offset's alignment modulo 4 KiB, else 64 */
    check_ranges(r, n, o.direct && !strstr(tl_bio_note(b), "O_DIRECT") ? 4096 : 64);
    tl_bio_stats st;
    tl_bio_get_stats(b, &st);
    cr_assert_eq(st.bytes, sum_len(r, n));
    size_t nonempty = n - 1;
    if (tl_bio_mode(b) == TL_IO_MMAP)
        cr_assert_eq(st.requests, 0);
    else if (o.max_read_len)
        cr_assert_gt(st.requests, nonempty, "a cap of %u bytes makes continuations",
                     o.max_read_len);
    else
        cr_assert_eq(st.requests, nonempty, "one read a range: %llu requests (%llu short) for %zu",
                     (unsigned long long)st.requests, (unsigned long long)st.short_reads,
                     nonempty);
    tl_bio_release(bt);
    tl_bio_close(b);
    free(r);
    (void)tl_io_close(&rf, NULL);
}

/* ---- the three paths ---------------------------------------------------------------------- */

Test(blockio, mmap_ranges_point_into_the_mapping)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_MMAP});
    cr_assert_eq(tl_bio_mode(b), TL_IO_MMAP);
    cr_assert_str_eq(tl_bio_note(b), "");
    tl_bio_file *f = file_open(b, &rf);
    const uint8_t *map = tl_bio_file_map(f);
    cr_assert_not_null(map);
    cr_assert_eq(memcmp(map, ref, FILE_SIZE), 0);
    tl_bio_range r[50];
    make_ranges(r, 50, 7);
    tl_bio_batch *bt;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, r, 50, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_OK, "%s", err.msg);
    for (size_t i = 1; i < 50; i++)
        cr_assert_eq(r[i].data, map + r[i].off, "range %zu: no copy", i);
    check_ranges(r, 50, 4096);
    tl_bio_release(bt);
    tl_bio_close(b); /* closes f */
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, mmap_many_ranges)
{
    read_batch((tl_bio_opts){.mode = TL_IO_MMAP}, 200, 11);
}

Test(blockio, pread_ranges_equal_file_bytes)
{
    for (int direct = 0; direct < 2; direct++)
        for (int cap = 0; cap < 2; cap++)
            read_batch((tl_bio_opts){.mode = TL_IO_PREAD, .direct = direct,
                                     .max_read_len = cap ? 4097 : 0},
                       200, 100 + (uint64_t)(direct * 2 + cap));
}

Test(blockio, uring_ranges_equal_file_bytes)
{
    need_uring();
    for (int direct = 0; direct < 2; direct++)
        for (int reg = 0; reg < 2; reg++)
            for (int cap = 0; cap < 2; cap++)
                read_batch((tl_bio_opts){.mode = TL_IO_URING, .direct = direct,
                                         .register_buffers = reg, .buffer_bytes = 16 << 20,
                                         .max_read_len = cap ? 4097 : 0},
                           200, 200 + (uint64_t)(direct * 4 + reg * 2 + cap));
}

Test(blockio, uring_queue_depth_32_refills_for_200_ranges)
{
    need_uring();
    read_batch((tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 32}, 200, 31);
    read_batch((tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 5 /* becomes 32 */,
                             .max_read_len = 4097}, 200, 32);
    read_batch((tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 32, .direct = 1,
                             .register_buffers = 1, .buffer_bytes = 16 << 20,
                             .max_read_len = 4097}, 200, 33);
}

Test(blockio, uring_registered_buffers_without_note)
{
    need_uring();
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_URING, .register_buffers = 1,
                                       .buffer_bytes = 4 << 20});
    /* 4 MiB fits RLIMIT_MEMLOCK (8 MiB here) */
    cr_assert_str_eq(tl_bio_note(b), "");
    tl_bio_close(b);
}

Test(blockio, uring_registration_failure_falls_back_with_note)
{
    need_uring();
    /* the kernel registers at most 1 GiB a buffer: a larger pool fails
     * (EFAULT) without touching its memory; the reads still work */
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_URING, .register_buffers = 1,
                                       .buffer_bytes = (size_t)2 << 30});
    cr_assert_eq(tl_bio_mode(b), TL_IO_URING);
    cr_assert(strstr(tl_bio_note(b), "registered buffers unavailable"), "%s", tl_bio_note(b));
    tl_io_file rf;
    open_root(&rf);
    tl_bio_file *f = file_open(b, &rf);
    tl_bio_range r[40];
    make_ranges(r, 40, 41);
    tl_bio_batch *bt;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, r, 40, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_OK, "%s", err.msg);
    check_ranges(r, 40, 64);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

/* ---- double buffering ----------------------------------------------------------------------- */

static void two_batches(tl_bio_opts o)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open(o);
    tl_bio_file *f = file_open(b, &rf);
    tl_bio_range a[150], c[150], d[150];
    make_ranges(a, 150, 51);
    make_ranges(c, 150, 52);
    make_ranges(d, 150, 53);
    tl_bio_batch *ba, *bc, *bd;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, a, 150, &ba, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_submit(b, f, c, 150, &bc, &err), TL_OK, "%s", err.msg);
    /* a third is refused while two are outstanding */
    cr_assert_eq(tl_bio_submit(b, f, d, 150, &bd, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "two batches"), "%s", err.msg);
    cr_assert(strstr(err.msg, REL), "%s", err.msg);
    cr_assert_null(bd);
    /* the first completes alone; the second's completions wait for it */
    cr_assert_eq(tl_bio_wait(ba, &err), TL_OK, "%s", err.msg);
    check_ranges(a, 150, 64);
    tl_bio_release(ba);
    cr_assert_eq(tl_bio_submit(b, f, d, 150, &bd, &err), TL_OK, "%s", err.msg);
    /* wait in the opposite order of submission */
    cr_assert_eq(tl_bio_wait(bd, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bc, &err), TL_OK, "%s", err.msg);
    check_ranges(c, 150, 64);
    check_ranges(d, 150, 64);
    cr_assert_eq(tl_bio_wait(bc, &err), TL_OK, "waiting twice gives the same outcome");
    tl_bio_release(bc);
    tl_bio_release(bd);
    tl_bio_release(NULL);
    tl_bio_stats st;
    tl_bio_get_stats(b, &st);
    cr_assert_eq(st.bytes, sum_len(a, 150) + sum_len(c, 150) + sum_len(d, 150));
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, two_batches_outstanding_mmap)
{
    two_batches((tl_bio_opts){.mode = TL_IO_MMAP});
}

Test(blockio, two_batches_outstanding_pread)
{
    two_batches((tl_bio_opts){.mode = TL_IO_PREAD});
    two_batches((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1, .max_read_len = 4097});
}

Test(blockio, two_batches_outstanding_uring)
{
    need_uring();
    two_batches((tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 32});
    two_batches((tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 32, .max_read_len = 4097});
    two_batches((tl_bio_opts){.mode = TL_IO_URING, .direct = 1, .register_buffers = 1,
                              .buffer_bytes = 8 << 20});
}

/* Release with reads in flight (the cancel), then the slot is reused; close
 * with a batch in flight frees everything (ASan checks the leak). */
Test(blockio, uring_release_and_close_with_reads_in_flight)
{
    need_uring();
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 32});
    tl_bio_file *f = file_open(b, &rf);
    tl_bio_range a[200], c[200];
    make_ranges(a, 200, 61);
    make_ranges(c, 200, 62);
    tl_bio_batch *ba, *bc;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, a, 200, &ba, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_submit(b, f, c, 200, &bc, &err), TL_OK, "%s", err.msg);
    tl_bio_release(ba);
    cr_assert_eq(tl_bio_submit(b, f, a, 200, &ba, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(ba, &err), TL_OK, "%s", err.msg);
    check_ranges(a, 200, 64);
    tl_bio_release(ba);
    cr_assert_eq(tl_bio_submit(b, f, a, 200, &ba, &err), TL_OK, "%s", err.msg);
    tl_bio_close(b); /* two batches in flight, one file open */
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, file_close_releases_its_batches)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_PREAD});
    tl_bio_file *f = file_open(b, &rf);
    tl_bio_range a[10];
    make_ranges(a, 10, 71);
    tl_bio_batch *ba;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, a, 10, &ba, &err), TL_OK, "%s", err.msg);
    tl_bio_file_close(f);
    f = file_open(b, &rf);
    tl_bio_batch *b1, *b2;
    cr_assert_eq(tl_bio_submit(b, f, a, 10, &b1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_submit(b, f, a, 10, &b2, &err), TL_OK, "both slots free again");
    cr_assert_eq(tl_bio_wait(b2, &err), TL_OK, "%s", err.msg);
    check_ranges(a, 10, 64);
    tl_bio_file_close(NULL);
    tl_bio_close(b);
    tl_bio_close(NULL);
    (void)tl_io_close(&rf, NULL);
}

/* ---- footers and trailers ------------------------------------------------------------------- */

static void file_pread_all(tl_bio_opts o)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open(o);
    tl_bio_file *f = file_open(b, &rf);
    static const uint64_t cases[][2] = {
        {FILE_SIZE - 64, 64}, {FILE_SIZE - 70000, 70000}, {0, 1}, {4095, 2}, {123457, 3000000},
        {FILE_SIZE, 0},
    };
    uint8_t *buf = malloc(3000000);
    cr_assert_not_null(buf);
    tl_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(buf, 0xAA, 3000000);
        cr_assert_eq(tl_bio_file_pread(f, buf, cases[i][1], cases[i][0], &err), TL_OK,
                     "case %zu: %s", i, err.msg);
        cr_assert_eq(memcmp(buf, ref + cases[i][0], cases[i][1]), 0, "case %zu", i);
    }
    /* past the end: refused before reading, naming file, offset and length */
    cr_assert_eq(tl_bio_file_pread(f, buf, 65, FILE_SIZE - 64, &err), TL_ECORRUPT);
    cr_assert(strstr(err.msg, REL), "%s", err.msg);
    char want[64];
    snprintf(want, sizeof want, "65 bytes at offset %zu", FILE_SIZE - 64);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    cr_assert_eq(tl_bio_file_pread(f, buf, 1, UINT64_MAX, &err), TL_ECORRUPT);
    free(buf);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, file_pread_every_path)
{
    file_pread_all((tl_bio_opts){.mode = TL_IO_MMAP});
    file_pread_all((tl_bio_opts){.mode = TL_IO_PREAD});
    file_pread_all((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1});
    file_pread_all((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1, .max_read_len = 4097});
    file_pread_all((tl_bio_opts){.mode = TL_IO_URING, .direct = 1});
}

/* ---- errors --------------------------------------------------------------------------------- */

static void size_mismatch(int mode)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open((tl_bio_opts){.mode = mode});
    tl_bio_file *f = (tl_bio_file *)1;
    tl_error err;
    cr_assert_eq(tl_bio_file_open(b, &rf, REL, FILE_SIZE + 1, &f, &err), TL_ECORRUPT);
    cr_assert_null(f);
    cr_assert(strstr(err.msg, REL), "%s", err.msg);
    char a[32], c[32];
    snprintf(a, sizeof a, "%zu", FILE_SIZE + 1);
    snprintf(c, sizeof c, "%zu", FILE_SIZE);
    cr_assert(strstr(err.msg, a) && strstr(err.msg, c), "both sizes: %s", err.msg);
    cr_assert(strstr(err.msg, "LOG-R58"), "%s", err.msg);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, size_mismatch_is_ecorrupt_naming_file_and_sizes)
{
    size_mismatch(TL_IO_MMAP);
    size_mismatch(TL_IO_URING);
    size_mismatch(TL_IO_PREAD);
}

static void past_eof(tl_bio_opts o)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open(o);
    tl_bio_file *f = file_open(b, &rf);
    tl_bio_range r[3] = {{0, 100, NULL}, {FILE_SIZE - 10, 20, NULL}, {64, 64, NULL}};
    tl_bio_batch *bt = (tl_bio_batch *)1;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, r, 3, &bt, &err), TL_ECORRUPT);
    cr_assert_null(bt);
    cr_assert(strstr(err.msg, REL), "%s", err.msg);
    char want[64];
    snprintf(want, sizeof want, "20 bytes at offset %zu", FILE_SIZE - 10);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    /* offset + length wrapping around is refused too */
    r[1] = (tl_bio_range){UINT64_MAX - 5, 10, NULL};
    cr_assert_eq(tl_bio_submit(b, f, r, 3, &bt, &err), TL_ECORRUPT);
    /* nothing was left outstanding: two batches still fit */
    r[1] = (tl_bio_range){FILE_SIZE - 10, 10, NULL};
    tl_bio_batch *b1, *b2;
    cr_assert_eq(tl_bio_submit(b, f, r, 3, &b1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_submit(b, f, r + 1, 2, &b2, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(b1, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(b2, &err), TL_OK, "%s", err.msg);
    check_ranges(r, 3, 64);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, range_past_eof_is_refused_naming_offset)
{
    past_eof((tl_bio_opts){.mode = TL_IO_MMAP});
    past_eof((tl_bio_opts){.mode = TL_IO_PREAD});
    past_eof((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1});
    past_eof((tl_bio_opts){.mode = TL_IO_URING});
    past_eof((tl_bio_opts){.mode = TL_IO_URING, .direct = 1});
}

/* The file shrinks after the size check: the read comes back empty. */
static void truncated(tl_bio_opts o)
{
    write_file();
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open(o);
    tl_bio_file *f = file_open(b, &rf);
    char p[400];
    snprintf(p, sizeof p, "%s/" REL, root);
    cr_assert_eq(truncate(p, 1 << 20), 0);
    tl_bio_range r[3] = {{0, 100, NULL}, {(1 << 20) - 50, 5000, NULL}, {3 << 20, 64, NULL}};
    tl_bio_batch *bt;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, r, 3, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_EIO);
    cr_assert(strstr(err.msg, "short read at EOF"), "%s", err.msg);
    cr_assert(strstr(err.msg, REL), "%s", err.msg);
    cr_assert(strstr(err.msg, "at offset"), "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_EIO, "the outcome stays");
    tl_bio_release(bt);
    /* the tail before the cut still reads */
    r[0] = (tl_bio_range){(1 << 20) - 50, 50, NULL};
    cr_assert_eq(tl_bio_submit(b, f, r, 1, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_OK, "%s", err.msg);
    check_ranges(r, 1, 64);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, truncated_file_is_short_read_at_eof)
{
    truncated((tl_bio_opts){.mode = TL_IO_PREAD});
    truncated((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1, .max_read_len = 4097});
}

Test(blockio, truncated_file_is_short_read_at_eof_uring)
{
    need_uring();
    truncated((tl_bio_opts){.mode = TL_IO_URING});
    truncated((tl_bio_opts){.mode = TL_IO_URING, .direct = 1, .max_read_len = 4097});
}

Test(blockio, path_leaving_root_is_einval)
{
    tl_io_file rf;
    open_root(&rf);
    char p[400];
    snprintf(p, sizeof p, "%s/x", dir);
    FILE *fp = fopen(p, "w");
    cr_assert_not_null(fp);
    fclose(fp);
    int modes[] = {TL_IO_MMAP, TL_IO_PREAD, TL_IO_URING};
    for (int i = 0; i < 3; i++) {
        tl_bio *b = bio_open((tl_bio_opts){.mode = modes[i], .direct = 1});
        tl_bio_file *f;
        tl_error err;
        cr_assert_eq(tl_bio_file_open(b, &rf, "../x", 0, &f, &err), TL_EINVAL);
        cr_assert(strstr(err.msg, "../x"), "%s", err.msg);
        cr_assert_eq(tl_bio_file_open(b, &rf, "part=a/none.tlseg", 0, &f, &err), TL_ENOTFOUND);
        cr_assert(strstr(err.msg, "part=a/none.tlseg"), "%s", err.msg);
        tl_bio_close(b);
    }
    tl_error err;
    cr_assert_eq(tl_bio_drop_cache(&rf, "../x", &err), TL_EINVAL);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, batch_over_the_pool_is_einval)
{
    tl_io_file rf;
    open_root(&rf);
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_PREAD, .buffer_bytes = 1 << 20});
    tl_bio_file *f = file_open(b, &rf);
    cr_assert_eq(tl_bio_batch_bytes(b), 512 << 10);
    /* ranges filling exactly a batch's bytes fit; one byte more does not */
    tl_bio_range r[2] = {{64, 256 << 10, NULL}, {1 << 20, 256 << 10, NULL}};
    cr_assert_eq(tl_bio_range_bytes(b, r[0].off, r[0].len) + tl_bio_range_bytes(b, r[1].off,
                                                                                 r[1].len),
                 512 << 10);
    tl_bio_batch *bt;
    tl_error err;
    cr_assert_eq(tl_bio_submit(b, f, r, 2, &bt, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_wait(bt, &err), TL_OK, "%s", err.msg);
    check_ranges(r, 2, 64);
    tl_bio_release(bt);
    r[1].len++;
    cr_assert_eq(tl_bio_submit(b, f, r, 2, &bt, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, REL) && strstr(err.msg, "buffer"), "%s", err.msg);
    tl_bio_close(b);
    /* O_DIRECT counts the widening */
    b = bio_open((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1, .buffer_bytes = 1 << 20});
    cr_assert_eq(tl_bio_range_bytes(b, 4095, 2), 8192);
    cr_assert_eq(tl_bio_range_bytes(b, 4096, 4096), 4096);
    tl_bio_close(b);
    b = bio_open((tl_bio_opts){.mode = TL_IO_MMAP});
    cr_assert_eq(tl_bio_batch_bytes(b), SIZE_MAX);
    cr_assert_eq(tl_bio_range_bytes(b, 4095, 2), 0);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
}

Test(blockio, bad_options_are_einval)
{
    tl_bio *b = (tl_bio *)1;
    tl_error err;
    cr_assert_eq(tl_bio_open(&(tl_bio_opts){.mode = TL_IO_AUTO}, &b, &err), TL_EINVAL);
    cr_assert_null(b);
    cr_assert(strstr(err.msg, "mode"), "%s", err.msg);
    cr_assert_eq(tl_bio_open(&(tl_bio_opts){.mode = TL_IO_URING, .queue_depth = 100000}, &b,
                             &err),
                 TL_EINVAL);
    cr_assert_eq(tl_bio_open(NULL, &b, &err), TL_EINVAL);
}

/* ---- fallbacks ------------------------------------------------------------------------------ */

Test(blockio, no_uring_env_uses_pread_with_note)
{
    cr_assert_eq(setenv("TICKLAKE_NO_URING", "1", 1), 0);
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_URING});
    cr_assert_eq(tl_bio_mode(b), TL_IO_PREAD);
    cr_assert(strstr(tl_bio_note(b), "TICKLAKE_NO_URING") && strstr(tl_bio_note(b), "pread"),
              "%s", tl_bio_note(b));
    tl_bio_close(b);
    read_batch((tl_bio_opts){.mode = TL_IO_URING, .register_buffers = 1}, 100, 81);
    /* other modes are unaffected */
    b = bio_open((tl_bio_opts){.mode = TL_IO_MMAP});
    cr_assert_eq(tl_bio_mode(b), TL_IO_MMAP);
    tl_bio_close(b);
    cr_assert_eq(unsetenv("TICKLAKE_NO_URING"), 0);
}

/* io_uring_setup refused (as in a locked-down container): a seccomp filter
 * in this test's process makes it fail with EPERM. */
Test(blockio, uring_setup_refused_falls_back_to_pread_with_note)
{
    struct sock_filter prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog fprog = {sizeof prog / sizeof prog[0], prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0)
        cr_skip_test("cannot install a seccomp filter here");
    tl_bio *b = bio_open((tl_bio_opts){.mode = TL_IO_URING, .register_buffers = 1});
    cr_assert_eq(tl_bio_mode(b), TL_IO_PREAD);
    cr_assert_str_eq(tl_bio_note(b),
                     "io_uring unavailable (io_uring_setup: Operation not permitted); using pread");
    tl_bio_close(b);
    read_batch((tl_bio_opts){.mode = TL_IO_URING, .direct = 1, .max_read_len = 4097}, 100, 82);
}

Test(blockio, drop_cache_then_read)
{
    tl_io_file rf;
    open_root(&rf);
    tl_error err;
    cr_assert_eq(tl_bio_drop_cache(&rf, REL, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_bio_drop_cache(&rf, "part=a/none.tlseg", &err), TL_ENOTFOUND);
    cr_assert(strstr(err.msg, "none.tlseg"), "%s", err.msg);
    (void)tl_io_close(&rf, NULL);
    read_batch((tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1}, 50, 91);
}

/* ---- threads -------------------------------------------------------------------------------- */

typedef struct worker_arg {
    int mode;
    uint64_t seed;
    int ok;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    tl_io_file rf;
    tl_error err;
    if (tl_io_open(NULL, NULL, root, O_RDONLY | O_DIRECTORY, 0, &rf, &err) != TL_OK)
        return NULL;
    tl_bio *b = NULL;
    tl_bio_file *f = NULL;
    tl_bio_range r[64];
    int ok = tl_bio_open(&(tl_bio_opts){.mode = a->mode, .queue_depth = 32}, &b, &err) == TL_OK &&
             tl_bio_file_open(b, &rf, REL, FILE_SIZE, &f, &err) == TL_OK;
    for (int round = 0; ok && round < 20; round++) {
        make_ranges(r, 64, a->seed + (uint64_t)round);
        tl_bio_batch *bt;
        ok = tl_bio_submit(b, f, r, 64, &bt, &err) == TL_OK && tl_bio_wait(bt, &err) == TL_OK;
        for (int i = 0; ok && i < 64; i++)
            ok = memcmp(r[i].data, ref + r[i].off, r[i].len) == 0;
        tl_bio_release(bt);
    }
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
    a->ok = ok;
    return NULL;
}

Test(blockio, tl_bios_in_different_threads_are_independent)
{
    int modes[] = {TL_IO_URING, TL_IO_URING, TL_IO_PREAD, TL_IO_MMAP};
    pthread_t t[4];
    worker_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (worker_arg){modes[i], 1000 + (uint64_t)i * 100, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, worker, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_join(t[i], NULL), 0);
        cr_assert(a[i].ok, "worker %d (mode %d)", i, modes[i]);
    }
}

/* ---- through the fault injector (PREAD and opens go through tl_io) ------------------------ */

static tl_io_fault *fault_open(void)
{
    tl_io_fault *fi = NULL;
    tl_error err;
    cr_assert_eq(tl_io_fault_open(root, &fi, &err), TL_OK, "%s", err.msg);
    return fi;
}

static void fault_rule(tl_io_fault *fi, int op, uint64_t nth, int action, int e)
{
    tl_io_fault_rule r = {.op = op, .nth = nth, .action = action, .err_no = e,
                          .path_contains = "seg-000001"};
    tl_error err;
    cr_assert_eq(tl_io_fault_add(fi, &r, &err), TL_OK, "%s", err.msg);
}

/* Run one batch of 20 ranges through the injector's io; returns the code. */
static int fault_batch(tl_io_fault *fi, tl_bio_opts o, tl_bio_range *r, tl_bio_stats *st,
                       char *note, tl_error *err)
{
    tl_io_file rf;
    open_root(&rf);
    o.io = tl_io_fault_io(fi);
    tl_bio *b = bio_open(o);
    tl_bio_file *f = file_open(b, &rf);
    make_ranges(r, 20, 77);
    tl_bio_batch *bt;
    cr_assert_eq(tl_bio_submit(b, f, r, 20, &bt, err), TL_OK, "%s", err->msg);
    int rc = tl_bio_wait(bt, err);
    tl_bio_get_stats(b, st);
    snprintf(note, 512, "%s", tl_bio_note(b));
    if (rc == TL_OK)
        check_ranges(r, 20, o.direct && !strstr(note, "O_DIRECT") ? 4096 : 64);
    tl_bio_close(b);
    (void)tl_io_close(&rf, NULL);
    return rc;
}

Test(blockio, pread_short_reads_and_eintr_continue)
{
    tl_io_fault *fi = fault_open();
    fault_rule(fi, TL_IO_OP_PREAD, 1, TL_IO_FAULT_SHORT, 0);
    fault_rule(fi, TL_IO_OP_PREAD, 4, TL_IO_FAULT_SHORT, 0);
    fault_rule(fi, TL_IO_OP_PREAD, 7, TL_IO_FAULT_FAIL, EINTR);
    tl_bio_range r[20];
    tl_bio_stats st;
    char note[512];
    tl_error err;
    cr_assert_eq(fault_batch(fi, (tl_bio_opts){.mode = TL_IO_PREAD}, r, &st, note, &err), TL_OK,
                 "%s", err.msg);
    cr_assert_eq(st.short_reads, 2);
    cr_assert_eq(st.requests, 19 + 2 + 1, "a continuation per short read, a retry per EINTR");
    tl_io_fault_close(fi);
}

Test(blockio, pread_error_names_file_offset_and_length)
{
    tl_io_fault *fi = fault_open();
    fault_rule(fi, TL_IO_OP_PREAD, 3, TL_IO_FAULT_FAIL, EIO);
    tl_bio_range r[20];
    tl_bio_stats st;
    char note[512];
    tl_error err;
    cr_assert_eq(fault_batch(fi, (tl_bio_opts){.mode = TL_IO_PREAD}, r, &st, note, &err), TL_EIO);
    cr_assert_eq(err.sys_errno, EIO);
    char want[80];
    /* the third read is range 3 (range 0 is empty) */
    snprintf(want, sizeof want, "%llu bytes at offset %llu", (unsigned long long)r[3].len,
             (unsigned long long)r[3].off);
    cr_assert(strstr(err.msg, want) && strstr(err.msg, REL), "%s", err.msg);
    tl_io_fault_close(fi);
}

Test(blockio, direct_open_einval_falls_back_with_note)
{
    tl_io_fault *fi = fault_open();
    fault_rule(fi, TL_IO_OP_OPEN, 1, TL_IO_FAULT_FAIL, EINVAL); /* as without O_DIRECT */
    tl_bio_range r[20];
    tl_bio_stats st;
    char note[512];
    tl_error err;
    cr_assert_eq(fault_batch(fi, (tl_bio_opts){.mode = TL_IO_PREAD, .direct = 1}, r, &st, note,
                             &err),
                 TL_OK, "%s", err.msg);
    cr_assert(strstr(note, "O_DIRECT unsupported") && strstr(note, REL), "%s", note);
    cr_assert_eq(st.requests, 19);
    tl_io_fault_close(fi);
}
