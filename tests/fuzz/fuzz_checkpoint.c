/*
 * fuzz_checkpoint.c - libFuzzer target for the checkpoint decoder of
 * engine/src/checkpoint.c (spec/LOG.md 9.7).
 *
 * Input: the bytes of one checkpoint file. Because a random input almost
 * never carries a valid XXH3 trailer, the target decodes it twice: as given
 * (exercising the header and checksum checks), and with the trailer
 * recomputed, so that the body decoder sees mutated bytes behind a valid
 * checksum. Each decode gets an exact-size heap copy (ASan sees any
 * overread). Properties checked:
 *   - a failure sets a code and a message naming the file;
 *   - on success every decoded string lies inside the buffer or is a
 *     NUL-terminated string of the JSON head, counts match, and re-encoding
 *     the decoded checkpoint through a snapshot is not needed: the decoded
 *     adds pass the commit serializer's validation (they are valid actions).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../engine/src/checkpoint_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void one(const uint8_t *data, size_t size, int reseal)
{
    char *in = malloc(size ? size : 1);
    CHECK(in);
    memcpy(in, data, size);
    if (reseal && size >= TL_CKPT_HEADER_BYTES + TL_CKPT_TRAILER_BYTES) {
        uint64_t h = XXH3_64bits(in, size - 8), n = size;
        memcpy(in + size - 8, &h, 8);
        memcpy(in + 32, &n, 8); /* the file size field too */
        h = XXH3_64bits(in, size - 8);
        memcpy(in + size - 8, &h, 8);
    }
    tl_log_ckpt ck;
    tl_error err = {0};
    int rc = tl_log_ckpt_decode("fuzz.checkpoint.tlc", -1, in, size, &ck, &err); /* takes in */
    if (rc != TL_OK) {
        CHECK(rc < 0 && err.code == rc && strstr(err.msg, "fuzz.checkpoint.tlc"));
        return;
    }
    CHECK(ck.protocol && ck.meta);
    const char *lo = ck.buf, *hi = ck.buf + ck.len;
    uint64_t cols = 0;
    for (uint64_t i = 0; i < ck.n_add; i++) {
        const tl_log_add *a = &ck.adds[i].u.add;
        CHECK(a->path >= lo && a->path + strlen(a->path) < hi);
        if (a->has_stats) {
            cols += a->stats.n_cols;
            for (uint32_t k = 0; k < a->stats.n_cols; k++) {
                const tl_log_colstats *c = &a->stats.cols[k];
                CHECK(c->name >= lo && c->name < hi);
                if (c->type == TL_STRING && c->has_min)
                    CHECK(c->min.s.len <= TL_LOG_STATS_STR_MAX &&
                          (const char *)c->min.s.p >= lo &&
                          (const char *)c->min.s.p + c->min.s.len <= hi);
            }
        }
    }
    CHECK(cols == ck.n_cols);
    /* the decoded actions are valid commit actions: the serializer accepts
     * them after the checkpoint's protocol and metaData */
    uint64_t n = 2 + ck.n_add + ck.n_remove;
    if (n < 4096) {
        tl_log_action *acts = calloc(n + 1, sizeof *acts);
        CHECK(acts);
        acts[0].kind = TL_LOG_COMMIT_INFO;
        acts[0].u.ci = (tl_log_commit_info){.ict_ms = 1, .operation = "FUZZ",
                                            .engine_info = "fuzz/1"};
        acts[1].kind = TL_LOG_PROTOCOL;
        acts[1].u.proto = *ck.protocol;
        acts[2].kind = TL_LOG_METADATA;
        acts[2].u.meta = *ck.meta;
        uint64_t k = 3;
        for (uint64_t i = 0; i < ck.n_remove; i++, k++)
            acts[k] = ck.removes[i];
        for (uint64_t i = 0; i < ck.n_add; i++, k++)
            acts[k] = ck.adds[i];
        tl_log_commit_info *ci = &acts[0].u.ci;
        uint64_t added = 0, removed = 0; /* sums saturate at 2^63 - 1 */
        for (uint64_t i = 0; i < ck.n_add; i++) {
            ci->n_added_files++;
            added += (uint64_t)ck.adds[i].u.add.n_rows;
            if (added > INT64_MAX)
                added = INT64_MAX;
        }
        ci->n_added_rows = (int64_t)added;
        ci->n_removed_files = (int64_t)ck.n_remove;
        /* removes may lack numRecords: then the count is unchecked */
        for (uint64_t i = 0; i < ck.n_remove; i++) {
            removed += ck.removes[i].u.rm.has_n_rows ? (uint64_t)ck.removes[i].u.rm.n_rows : 0;
            if (removed > INT64_MAX)
                removed = INT64_MAX;
        }
        ci->n_removed_rows = (int64_t)removed;
        char *buf = NULL;
        size_t cap = 0, len = 0;
        tl_error e2;
        /* a path both added and removed, or sums past 2^63, are the only
         * rejections a valid checkpoint may still meet here */
        int src = tl_log_commit_serialize(acts, (uint32_t)k, -1, &buf, &cap, &len, &e2);
        if (src != TL_OK)
            CHECK(strstr(e2.msg, "not both") || strstr(e2.msg, "2^63"));
        free(buf);
        free(acts);
    }
    tl_log_ckpt_free(&ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, 0);
    one(data, size, 1);
    return 0;
}
