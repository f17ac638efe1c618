/*
 * oom.c - allocation-failure injection for tests; see oom.h.
 *
 * The linker's --wrap=SYM sends every undefined reference to SYM in the
 * objects of the link to __wrap_SYM, and __real_SYM to the real one (under
 * ASan: the sanitizer's allocator).
 */
#include "oom.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);

static atomic_int armed;
static atomic_int sticky;
static atomic_uint_fast64_t fail_k;
static atomic_uint_fast64_t calls;
static atomic_uint_fast64_t failures;

/* 1: this call must fail (counts it). */
static int oom_hit(void)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    uint64_t c = atomic_fetch_add(&calls, 1) + 1;
    uint64_t k = atomic_load(&fail_k);
    if (k == 0 || c < k || (c > k && !atomic_load(&sticky)))
        return 0;
    atomic_fetch_add(&failures, 1);
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t n)
{
    return oom_hit() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t m, size_t n)
{
    return oom_hit() ? NULL : __real_calloc(m, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return oom_hit() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return oom_hit() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return oom_hit() ? NULL : __real_strndup(s, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
    return oom_hit() ? NULL : __real_aligned_alloc(a, n);
}

int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    return oom_hit() ? ENOMEM : __real_posix_memalign(p, a, n);
}

static void arm(uint64_t k, int st)
{
    atomic_store(&armed, 0);
    atomic_store(&calls, 0);
    atomic_store(&failures, 0);
    atomic_store(&fail_k, k);
    atomic_store(&sticky, st != 0);
    atomic_store(&armed, 1);
}

void tl_oom_fail_at(uint64_t k, int st)
{
    arm(k ? k : 1, st);
}

void tl_oom_count(void)
{
    arm(0, 0);
}

void tl_oom_off(void)
{
    atomic_store(&armed, 0);
}

uint64_t tl_oom_calls(void)
{
    return atomic_load(&calls);
}

uint64_t tl_oom_failures(void)
{
    return atomic_load(&failures);
}
