/*
 * fuzz_delta_read.c - libFuzzer target for the Delta Lake commit reader of
 * engine/src/delta_read.c (spec/LOG.md section 10, LOG-D2 .. LOG-D10).
 *
 * Input: the bytes of one Delta commit (_delta_log/<20 digits>.json), parsed
 * from an exact-size heap copy (ASan sees any overread):
 *   1. as version 0 (no metaData in force);
 *   2. when (1) produced a metaData, the same bytes again as version 1 with
 *      that metaData in force (so file actions meet a real schema and
 *      partition spec even when the commit repeats no metaData);
 *   3. with small limits (which may only turn a success into a failure);
 *   4. tl_delta_commit_time over the same bytes.
 * Properties checked:
 *   - a failure is TL_ECORRUPT, TL_EUNSUPPORTED, TL_EVERSION or TL_ENOMEM,
 *     with a message naming the commit file, and leaves no actions;
 *   - on success action 0 is a commitInfo, the others follow in the
 *     canonical order (protocol, metaData, txn, remove, add), and every add
 *     and remove path passes LOG-R11 (tl_partpath_check: relative, no "."
 *     or ".." component, no hidden or reserved component): a hostile log
 *     can never name a file outside the table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/delta_read_int.h"
#include "../../engine/src/partpath_int.h"

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                              \
        }                                                                         \
    } while (0)

#define NAME "00000000000000000007.json"

static int rank(tl_log_kind k)
{
    switch (k) {
    case TL_LOG_COMMIT_INFO: return 0;
    case TL_LOG_PROTOCOL: return 1;
    case TL_LOG_METADATA: return 2;
    case TL_LOG_TXN: return 3;
    case TL_LOG_REMOVE: return 4;
    case TL_LOG_ADD: return 5;
    default: return 99;
    }
}

static void check_path(const char *p)
{
    CHECK(p);
    tl_error e;
    CHECK(tl_partpath_check(p, strlen(p), &e) == TL_OK);
    CHECK(p[0] != '/' && strstr(p, "..") != p);
}

/* Parse; on success check the structure and return the metaData (in ar). */
static int parse(const char *buf, size_t len, int64_t version, const tl_log_metadata *meta,
                 size_t max_line, uint32_t max_lines, tl_log_arena *ar,
                 const tl_log_metadata **meta_out)
{
    tl_delta_parse_in in = {.file = NAME, .version = version, .meta = meta,
                            .max_line_bytes = max_line, .max_lines = max_lines};
    tl_log_commit c;
    tl_error err = {0};
    int rc = tl_delta_commit_parse(buf, len, &in, ar, &c, &err);
    if (rc != TL_OK) {
        CHECK(rc == TL_ECORRUPT || rc == TL_EUNSUPPORTED || rc == TL_EVERSION ||
              rc == TL_ENOMEM);
        CHECK(err.code == rc && strstr(err.msg, NAME));
        CHECK(c.actions == NULL && c.n_actions == 0);
        return rc;
    }
    CHECK(c.n_actions >= 1 && c.actions[0].kind == TL_LOG_COMMIT_INFO);
    int last = 0;
    for (uint32_t i = 0; i < c.n_actions; i++) {
        const tl_log_action *a = &c.actions[i];
        int r = rank(a->kind);
        CHECK(r < 99 && r >= last);
        CHECK(i == 0 || r > 0); /* one commitInfo, first */
        last = r;
        if (a->kind == TL_LOG_ADD)
            check_path(a->u.add.path);
        else if (a->kind == TL_LOG_REMOVE)
            check_path(a->u.rm.path);
        else if (a->kind == TL_LOG_METADATA && meta_out)
            *meta_out = &a->u.meta; /* arena-backed; the actions array is not */
    }
    /* keep the metaData struct past tl_log_commit_free: copy it to the arena */
    if (meta_out && *meta_out) {
        tl_log_metadata *m = tl_log_arena_alloc(ar, sizeof *m);
        CHECK(m);
        memcpy(m, *meta_out, sizeof *m);
        *meta_out = m;
    }
    tl_log_commit_free(&c);
    return TL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    CHECK(buf);
    memcpy(buf, data, size);
    tl_log_arena *ar = tl_log_arena_new();
    CHECK(ar);
    const tl_log_metadata *meta = NULL;
    int rc = parse(buf, size, 0, NULL, 0, 0, ar, &meta);
    if (rc == TL_OK && meta)
        (void)parse(buf, size, 1, meta, 0, 0, ar, NULL);
    if (parse(buf, size, 0, NULL, 128, 3, ar, NULL) == TL_OK)
        CHECK(rc == TL_OK);
    int64_t ms = -2;
    tl_error err = {0};
    int trc = tl_delta_commit_time(buf, size, NAME, &ms, &err);
    if (trc == TL_OK)
        CHECK(ms >= -1);
    else
        CHECK((trc == TL_ECORRUPT || trc == TL_EUNSUPPORTED || trc == TL_ENOMEM) &&
              strstr(err.msg, NAME));
    tl_log_arena_free(ar);
    free(buf);
    return 0;
}
