/*
 * oom_sweep.h - the allocation-failure sweep driver shared by the decoder
 * tests (tests/format/oom_sweep_test.c, tests/engine/log_action_test.c,
 * delta_read_test.c, csv_read_test.c; figures in
 * tests/reliability/DECODERS.md). Header-only (static functions).
 *
 * sweep(what, op, ctx, needle, stats): op runs one decoder entry point from
 * start to end over one input and returns its code and an FNV-1a digest of
 * everything it decoded. First a counting run (the baseline: TL_OK, digest
 * d0, the number of allocation points), then for k = 1, 2, ... the k-th
 * allocation fails (tests/support/oom.h), once and then sticky, until the
 * operation no longer reaches k. Each case must end in TL_ENOMEM with a
 * message (naming `needle` when given) - an out-of-memory is never
 * reported as bad data - or in TL_OK with digest d0 (a recovered failure);
 * a disarmed rerun must give d0 again. Leaks: LeakSanitizer in the ASan
 * build. oom_sweep_after_arm, when set, runs right after each arming
 * (the engine tests choose jansson's allocators there: see below).
 */
#ifndef TL_TEST_OOM_SWEEP_H
#define TL_TEST_OOM_SWEEP_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oom.h"
#include "tl_error.h"

/* ---- the sweep driver ------------------------------------------------------ */

typedef int (*op_fn)(void *ctx, uint64_t *digest, tl_error *err);

typedef struct sweep_stats {
    uint64_t points;   /* allocations of the baseline run */
    uint64_t cases;    /* injected runs (once + sticky) */
    uint64_t enomem;   /* ended in TL_ENOMEM */
    uint64_t recovered;/* ended in TL_OK with the baseline digest */
} sweep_stats;


static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

#define FNV0 0xcbf29ce484222325ull

/* Runs op over every k, once and sticky; fails the test on a misreported
 * error, a changed digest or a crash. needle: text every TL_ENOMEM message
 * must contain (the input's name), or NULL. */
static void (*oom_sweep_after_arm)(int sticky) __attribute__((unused));

static inline void sweep_arm(uint64_t k, int sticky)
{
    if (k)
        tl_oom_fail_at(k, sticky);
    else
        tl_oom_count();
    if (oom_sweep_after_arm)
        oom_sweep_after_arm(sticky);
}

/* jansson 2.14 crashes (reads past its lexer buffer: SEGV or a bad free)
 * when an allocation fails exactly as a string token's closing quote
 * grows the buffer and later ones succeed (lex_save ignores the failure,
 * lex_scan_string then looks for the quote past the end). Found by these
 * sweeps; since 12df2de the engine's jansson allocator (log.c) never hands
 * jansson such a failure, and the engine sweeps let jansson's allocations
 * fail in every run. oom_sweep_json_exempt keeps them on the real malloc
 * instead (the engine tests do so with TL_DEC_OOM_JSON_EXEMPT=1). */
extern void *__real_malloc(size_t n);

static void *oom_sweep_json_real(size_t n)
{
    return __real_malloc(n);
}

static void oom_sweep_json_free(void *p)
{
    free(p);
}

static inline void oom_sweep_json_exempt(void)
{
    json_set_alloc_funcs(oom_sweep_json_real, oom_sweep_json_free);
}

static inline void sweep(const char *what, op_fn op, void *ctx, const char *needle, sweep_stats *st)
{
    tl_error err = {0};
    uint64_t d0 = FNV0;
    sweep_arm(0, 0);
    int rc = op(ctx, &d0, &err);
    uint64_t calls = tl_oom_calls();
    tl_oom_off();
    cr_assert_eq(rc, TL_OK, "%s: baseline: %s", what, err.msg);
    uint64_t sticky_cases = 0;
    for (int sticky = 0; sticky <= 1; sticky++) {
        for (uint64_t k = 1;; k++) {
            tl_error e = {0};
            uint64_t d = FNV0;
            if (getenv("TL_OOM_SWEEP_TRACE"))
                fprintf(stderr, "oom_sweep: %s: k=%llu sticky %d\n", what,
                        (unsigned long long)k, sticky);
            sweep_arm(k, sticky);
            rc = op(ctx, &d, &e);
            uint64_t failed = tl_oom_failures();
            tl_oom_off();
            if (!failed) {
                cr_assert_eq(rc, TL_OK, "%s: k=%llu beyond the last allocation: %s", what,
                             (unsigned long long)k, e.msg);
                cr_assert_eq(d, d0, "%s: k=%llu: digest differs", what, (unsigned long long)k);
                break;
            }
            st->cases++;
            sticky_cases += (uint64_t)sticky;
            if (rc == TL_OK) {
                cr_assert_eq(d, d0, "%s: allocation %llu failed (sticky %d), TL_OK with other "
                             "values", what, (unsigned long long)k, sticky);
                st->recovered++;
            } else {
                cr_assert_eq(rc, TL_ENOMEM,
                             "%s: allocation %llu failed (sticky %d): rc %d, not TL_ENOMEM: %s",
                             what, (unsigned long long)k, sticky, rc, e.msg);
                cr_assert(e.msg[0], "%s: k=%llu: TL_ENOMEM without a message", what,
                          (unsigned long long)k);
                if (needle)
                    cr_assert(strstr(e.msg, needle), "%s: k=%llu: message does not name '%s': %s",
                              what, (unsigned long long)k, needle, e.msg);
                st->enomem++;
            }
            /* disarmed again: the same input decodes the same */
            tl_error e2 = {0};
            d = FNV0;
            rc = op(ctx, &d, &e2);
            cr_assert_eq(rc, TL_OK, "%s: after k=%llu: %s", what, (unsigned long long)k, e2.msg);
            cr_assert_eq(d, d0, "%s: after k=%llu: digest differs", what, (unsigned long long)k);
        }
    }
    /* allocation points: the baseline's count, or more when the sticky
     * runs reach allocations the baseline's hook kept out (jansson's) */
    st->points += calls > sticky_cases ? calls : sticky_cases;
}

static inline void report(const char *suite, const sweep_stats *st)
{
    fprintf(stderr,
            "oom_sweep: %s: allocation points %llu, cases %llu, TL_ENOMEM %llu, recovered %llu, "
            "misreported 0\n",
            suite, (unsigned long long)st->points, (unsigned long long)st->cases,
            (unsigned long long)st->enomem, (unsigned long long)st->recovered);
}

#endif
