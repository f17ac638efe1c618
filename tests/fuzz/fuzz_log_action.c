/*
 * fuzz_log_action.c - libFuzzer target for the commit file parser of
 * engine/src/log_action.c (spec/LOG.md sections 4-8).
 *
 * Input: the bytes of one commit file, parsed from an exact-size heap copy
 * (so ASan sees any overread) with the default options, then in strict mode
 * and with small limits. Properties checked:
 *   - a failure sets a code and a message that names a line or the commit;
 *   - a strict parse succeeds only if the default parse does, with the same
 *     actions; small limits never turn a failure into a success;
 *   - on success the actions re-serialise, the text parses back to equal
 *     actions, and serialising those gives the same bytes again (the
 *     canonical form is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/log_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void same_actions(const tl_log_commit *a, const tl_log_commit *b)
{
    CHECK(a->n_actions == b->n_actions);
    for (uint32_t i = 0; i < a->n_actions; i++)
        CHECK(tl_log_action_equal(&a->actions[i], &b->actions[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    CHECK(in);
    memcpy(in, data, size);

    tl_log_parse_opts o;
    tl_log_parse_opts_default(&o);
    tl_log_commit c;
    tl_error err = {0};
    int rc = tl_log_commit_parse(in, size, &o, &c, &err);
    if (rc != TL_OK) {
        CHECK(rc < 0 && err.code == rc && err.msg[0] != '\0');
        CHECK(c.n_actions == 0 && c.actions == NULL && c.arena == NULL);
    }

    /* strict: a subset of the default's successes, same actions */
    tl_log_parse_opts so = o;
    so.strict = 1;
    tl_log_commit sc;
    tl_error serr = {0};
    int src = tl_log_commit_parse(in, size, &so, &sc, &serr);
    if (src == TL_OK) {
        CHECK(rc == TL_OK);
        CHECK(sc.n_skipped == 0);
        same_actions(&c, &sc);
        tl_log_commit_free(&sc);
    } else
        CHECK(serr.msg[0] != '\0');

    /* small limits only ever fail more */
    tl_log_parse_opts lo = o;
    lo.max_line_bytes = 256;
    lo.max_actions = 4;
    lo.max_depth = 4;
    tl_log_commit lc;
    if (tl_log_commit_parse(in, size, &lo, &lc, NULL) == TL_OK) {
        CHECK(rc == TL_OK);
        same_actions(&c, &lc);
        tl_log_commit_free(&lc);
    }

    if (rc == TL_OK) {
        char *buf = NULL, *buf2 = NULL;
        size_t cap = 0, len = 0, cap2 = 0, len2 = 0;
        CHECK(tl_log_commit_serialize(c.actions, c.n_actions, -1, &buf, &cap, &len, &err) ==
              TL_OK);
        tl_log_commit c2;
        CHECK(tl_log_commit_parse(buf, len, &so, &c2, &err) == TL_OK);
        CHECK(c2.n_skipped == 0);
        same_actions(&c, &c2);
        CHECK(tl_log_commit_serialize(c2.actions, c2.n_actions, -1, &buf2, &cap2, &len2, &err) ==
              TL_OK);
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
        tl_log_commit_free(&c2);
        free(buf);
        free(buf2);
    }
    tl_log_commit_free(&c);
    free(in);
    return 0;
}
