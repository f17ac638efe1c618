/*
 * oom_test.c - the allocation-failure injector itself (tests/support/oom.h):
 * it reaches the engine's and format's allocations, counts them, fails the
 * k-th once or from then on, and reaches jansson's.
 */
#include "oom.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ticklake.h"

Test(oom, disarmed_forwards)
{
    tl_oom_off();
    void *p = malloc(64);
    cr_assert_not_null(p);
    free(p);
}

Test(oom, fails_the_kth_call_once)
{
    tl_oom_fail_at(3, 0);
    void *a = malloc(8), *b = calloc(1, 8), *c = malloc(8), *d = strdup("x");
    uint64_t calls = tl_oom_calls(), failed = tl_oom_failures();
    tl_oom_off();
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_null(c);
    cr_assert_not_null(d);
    cr_assert_eq(calls, 4);
    cr_assert_eq(failed, 1);
    free(a);
    free(b);
    free(d);
}

Test(oom, sticky_fails_every_later_call)
{
    tl_oom_fail_at(2, 1);
    void *a = malloc(8);
    void *b = realloc(NULL, 8);
    char *c = strndup("abc", 2);
    void *d = aligned_alloc(64, 64);
    void *e = NULL;
    int prc = posix_memalign(&e, 64, 64);
    uint64_t failed = tl_oom_failures();
    tl_oom_off();
    cr_assert_not_null(a);
    cr_assert_null(b);
    cr_assert_null(c);
    cr_assert_null(d);
    cr_assert_eq(prc, ENOMEM);
    cr_assert_eq(failed, 4);
    free(a);
}

uint64_t tl_json_alloc_failures(void); /* engine/src/log.c (log_int.h) */

/* jansson's allocations go through the engine's allocator, hence malloc and
 * the injector: a failure is counted by the engine (and served from its
 * emergency pool), so a parse that saw one is known to be suspect. */
Test(oom, reaches_jansson_through_the_engine_allocator)
{
    uint64_t f0 = tl_json_alloc_failures();
    tl_oom_count();
    json_t *j = json_loads("{\"a\":[1,2,3]}", 0, NULL);
    uint64_t calls = tl_oom_calls();
    tl_oom_off();
    cr_assert_not_null(j);
    cr_assert_gt(calls, 0, "jansson's allocations did not reach the injector");
    json_decref(j);
    tl_oom_fail_at(1, 0);
    j = json_loads("{\"a\":[1,2,3]}", 0, NULL);
    uint64_t failed = tl_oom_failures();
    tl_oom_off();
    cr_assert_eq(failed, 1);
    cr_assert_eq(tl_json_alloc_failures(), f0 + 1, "the engine did not count the failure");
    json_decref(j);
}

/* The engine's own allocations go through the wrappers: an error path is
 * taken (a clean TL_ENOMEM naming the operation), not a crash. */
Test(oom, reaches_the_engine)
{
    char dir[] = "/tmp/tl_oom_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/t", dir);
    tl_error err = {0};
    tl_table_spec spec;
    tl_ticks_table_spec(&spec);
    tl_oom_fail_at(1, 1);
    int rc = tl_table_create(path, &spec, &err);
    tl_oom_off();
    cr_assert_eq(rc, TL_ENOMEM, "rc %d: %s", rc, err.msg);
    cr_assert(err.msg[0], "no message");
    tl_oom_count();
    rc = tl_table_create(path, &spec, &err);
    uint64_t calls = tl_oom_calls();
    tl_oom_off();
    cr_assert_eq(rc, TL_OK, "%s", err.msg);
    cr_assert_gt(calls, 0);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
