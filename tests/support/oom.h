/*
 * oom.h - allocation-failure injection for tests (issue 7, coverage of the
 * out-of-memory paths).
 *
 * Every unit test executable is linked with -Wl,--wrap for malloc, calloc,
 * realloc, strdup, strndup, aligned_alloc and posix_memalign (see
 * tests/CMakeLists.txt), so each such call made by code linked statically
 * into the test (tl_format, tl_engine, the test itself) goes through
 * oom.c. Disarmed (the default) the wrappers only forward to the real
 * allocator. Armed, they count calls from the arming on and make the k-th
 * call (and, sticky, every later one) return NULL with errno = ENOMEM.
 * jansson's allocations (json_loads, json_object, ...) reach the wrappers
 * through the engine's jansson allocator (engine/src/log.c json_alloc,
 * installed by a constructor, which calls malloc and counts failures for
 * tl_json_loadb; it serves a failed request from a small emergency pool so
 * jansson never sees "fail, then succeed"). The injector leaves jansson's
 * allocation functions alone.
 *
 * Not reached: allocations inside shared libraries (libc's own, zstd's,
 * Criterion's), mmap. Counters are atomic: worker threads share them.
 *
 * Typical sweep (k = 1, 2, ... until the operation no longer reaches k):
 *
 *     for (uint64_t k = 1;; k++) {
 *         tl_oom_fail_at(k, 0);
 *         int rc = operation(...);
 *         uint64_t calls = tl_oom_calls(), failed = tl_oom_failures();
 *         tl_oom_off();
 *         ... check: rc == TL_OK or a clean error, nothing leaked ...
 *         if (!failed) break;   (k was beyond the operation's last call)
 *     }
 */
#ifndef TL_TEST_OOM_H
#define TL_TEST_OOM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Arm: the k-th allocation from now (k >= 1) fails; with sticky != 0 every
 * allocation after it fails too. Resets the counters. */
void tl_oom_fail_at(uint64_t k, int sticky);
/* Arm without failing: only count (tl_oom_calls) from now on. */
void tl_oom_count(void);
/* Disarm (counters keep their values until the next arming). */
void tl_oom_off(void);
/* Allocation calls seen since the last arming. */
uint64_t tl_oom_calls(void);
/* Allocations made to fail since the last arming. */
uint64_t tl_oom_failures(void);

#ifdef __cplusplus
}
#endif

#endif
