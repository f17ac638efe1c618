/*
 * log_testlib.h - fixtures shared by the log tests (log_commit_test.c,
 * log_snapshot_test.c): the table root of the test's temp directory, a
 * two-column schema, the protocol + metaData actions of version 0, a clock
 * read from a caller-owned variable, and the temp-dir setup / teardown each
 * suite calls from its .init / .fini. Header only.
 */
#ifndef TL_LOG_TESTLIB_H
#define TL_LOG_TESTLIB_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>

#include "io_int.h"
#include "log_int.h"

static char root[300]; /* <temp dir>/t, set by the test file's .init */
static char dir[256];  /* the test's temp dir, holding root */

/* .init of a suite: a fresh temp dir named <prefix>.XXXXXX holding an empty
 * table root "t". */
static inline void testlib_setup(const char *prefix)
{
    snprintf(dir, sizeof dir, "%s/%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             prefix);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(root, sizeof root, "%s/t", dir);
    cr_assert_eq(mkdir(root, 0755), 0);
}

/* .fini: remove the temp dir and everything in it. */
static inline void testlib_teardown(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const tl_log_field schema[] = {{"timestamp", TL_TIMESTAMP, 0}, {"price", TL_FLOAT64, 1}};
static const char *const no_strs[1] = {NULL};

/* Open the table root directory through io (NULL = the real syscalls). */
static inline void open_root_io(const tl_io *io, tl_io_file *f)
{
    tl_error err;
    cr_assert_eq(tl_io_open(io, NULL, root, O_RDONLY | O_DIRECTORY, 0, f, &err), TL_OK, "%s",
                 err.msg);
}

/* The actions of version 0: protocol 1/1 and a metaData named `name`. */
static inline void meta_actions(tl_log_action a[2], const char *name)
{
    memset(a, 0, 2 * sizeof a[0]);
    a[0].kind = TL_LOG_PROTOCOL;
    a[0].u.proto = (tl_log_protocol){1, 1, {no_strs, 0}, {no_strs, 0}};
    a[1].kind = TL_LOG_METADATA;
    a[1].u.meta = (tl_log_metadata){.id = "0f1e2d3c-4b5a-4697-8877-665544332211",
                                    .name = name, .created_ms = 1000, .fields = schema,
                                    .n_fields = 2, .sort_key = {no_strs, 0}};
}

/* tl_log_write_opts.now_ms hook: the time is *(int64_t *)arg. */
static inline int64_t fixed_clock(void *arg)
{
    return *(int64_t *)arg;
}

#endif
