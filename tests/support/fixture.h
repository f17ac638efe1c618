/*
 * fixture.h - helpers the engine and format tests share: a table's rows as
 * an order-independent hash, appending generated rows, whole-file reads and
 * writes, removing a directory tree.
 *
 * The helpers assert (Criterion) on failures of the test's own machinery
 * (a temporary file that cannot be read, a generator that cannot open);
 * tlt_rows_hash returns the engine's error instead, since tests use it on
 * tables they have just damaged or failed to write.
 */
#ifndef TL_TEST_FIXTURE_H
#define TL_TEST_FIXTURE_H

#include "ticklake.h"

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

/* Add cell (column c, row r) of b to st: its validity byte, then (present)
 * the value bytes, or a string's length and bytes. */
void tlt_hash_cell(XXH64_state_t *st, const tl_batch *b, uint32_t c, uint32_t r);

/* Hash of every column of row r of b, validity included (a null's value
 * bytes are not hashed; strings hash their length and bytes). */
uint64_t tlt_row_hash(const tl_batch *b, uint32_t r);

/* qsort comparator of uint64_t. */
int tlt_cmp_u64(const void *x, const void *y);

/* The rows of t at *at (NULL: the latest version) as one hash of the sorted
 * row hashes (a multiset: independent of file and row order) and a count.
 * TL_OK, or the first error of opening or reading (err says which). */
int tlt_rows_hash(tl_table *t, const tl_at *at, uint64_t *hash, uint64_t *rows, tl_error *err);

/* Generate rows with *go (batches of batch_rows) and append them to t in one
 * commit with *ao (NULL: defaults); asserts every step succeeds. res may be
 * NULL. Returns the committed version. */
int64_t tlt_append_gen(tl_table *t, const tl_gen_opts *go, const tl_append_opts *ao,
                       uint32_t batch_rows, tl_append_result *res);

/* The whole file at path, NUL-terminated (len excludes the NUL); asserts it
 * can be read. Free with free(). */
void *tlt_slurp(const char *path, size_t *len);

/* Create or truncate path and write len bytes; asserts success. */
void tlt_spit(const char *path, const void *buf, size_t len);

/* Remove path and everything below it (no-op if absent); asserts success.
 * Symbolic links are removed, not followed. */
void tlt_rm_tree(const char *path);

/* Make a fresh temporary directory named <prefix>.XXXXXX in $TMPDIR, else
 * /dev/shm when writable (a memory file system: fsyncs cost nothing; for
 * tests that simulate durability or do not depend on it), else /tmp; its
 * path in dir (cap bytes); asserts success. */
void tlt_tmpdir(char *dir, size_t cap, const char *prefix);

/* Copy the tree at src to dst (must not exist): directories and regular
 * files, modes and times kept; asserts success. */
void tlt_cp_tree(const char *src, const char *dst);

/* Open descriptors of this process (entries of /proc/self/fd, the
 * listing's own included); -1 if it cannot be read. */
int tlt_count_fds(void);

#endif /* TL_TEST_FIXTURE_H */
