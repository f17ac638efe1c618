/*
 * json_mut.h - systematic one-field mutations of JSON-lines commits, for
 * the negative tests of the commit parsers (tests/engine/log_action_test.c,
 * delta_read_test.c). Header-only (static functions), uses jansson.
 *
 * For every line of a commit and every value in it (object members and
 * array elements, depth first, also inside string values that hold JSON
 * text, like Delta's schemaString and stats), and every variant below, the
 * commit is rebuilt with that one value changed (or removed) and handed to
 * a callback. Variants: removed, null, true, -1, "x", [], {}, 1.5,
 * 2^63-1, "", 0, a string of 300 'a's.
 */
#ifndef TL_TEST_JSON_MUT_H
#define TL_TEST_JSON_MUT_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JM_REMOVE, JM_NULL, JM_TRUE, JM_NEG, JM_STR, JM_ARR, JM_OBJ, JM_REAL, JM_BIG, JM_EMPTY,
       JM_ZERO, JM_LONG, JM_N };

static inline json_t *jm_variant(int v)
{
    switch (v) {
    case JM_NULL: return json_null();
    case JM_TRUE: return json_true();
    case JM_NEG: return json_integer(-1);
    case JM_STR: return json_string("x");
    case JM_ARR: return json_array();
    case JM_OBJ: return json_object();
    case JM_REAL: return json_real(1.5);
    case JM_BIG: return json_integer(INT64_MAX);
    case JM_EMPTY: return json_string("");
    case JM_ZERO: return json_integer(0);
    default: {
        char s[301];
        memset(s, 'a', 300);
        s[300] = 0;
        return json_string(s);
    }
    }
}

/* Applies variant v to the target-th value (depth first) under node;
 * *seen counts values visited. 1 when applied. */
static int jm_apply(json_t *node, int target, int v, int *seen);

static inline int jm_nested(json_t *str, int target, int v, int *seen)
{
    const char *s = json_string_value(str);
    if (!s || (s[0] != '{' && s[0] != '['))
        return 0;
    json_t *in = json_loads(s, 0, NULL);
    if (!in)
        return 0;
    int done = jm_apply(in, target, v, seen);
    if (done) {
        char *t = json_dumps(in, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        cr_assert_not_null(t);
        json_string_set(str, t);
        free(t);
    }
    json_decref(in);
    return done;
}

static int jm_apply(json_t *node, int target, int v, int *seen)
{
    if (json_is_object(node)) {
        const char *key;
        json_t *val;
        void *it = json_object_iter(node);
        while (it) {
            key = json_object_iter_key(it);
            val = json_object_iter_value(it);
            if ((*seen)++ == target) {
                if (v == JM_REMOVE)
                    json_object_del(node, key);
                else
                    json_object_iter_set_new(node, it, jm_variant(v));
                return 1;
            }
            if (jm_apply(val, target, v, seen) || jm_nested(val, target, v, seen))
                return 1;
            it = json_object_iter_next(node, it);
        }
    } else if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            json_t *val = json_array_get(node, i);
            if ((*seen)++ == target) {
                if (v == JM_REMOVE)
                    json_array_remove(node, i);
                else
                    json_array_set_new(node, i, jm_variant(v));
                return 1;
            }
            if (jm_apply(val, target, v, seen) || jm_nested(val, target, v, seen))
                return 1;
        }
    }
    return 0;
}

typedef void (*jm_fn)(const char *buf, size_t len, int line, int target, int variant, void *ctx);

/* Calls fn for every mutation of every line of text (LF-separated lines,
 * each one JSON object); returns the number of mutated commits. */
static inline long jm_sweep(const char *text, jm_fn fn, void *ctx)
{
    long count = 0;
    size_t tl = strlen(text);
    char *out = malloc(tl * 4 + 4096);
    cr_assert_not_null(out);
    int line = 0;
    for (const char *p = text; *p; line++) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        if (ll == 0) { /* an empty line stays as it is */
            p += nl ? 1 : 0;
            continue;
        }
        json_t *root = json_loadb(p, ll, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(root, "line %d is not JSON", line + 1);
        for (int target = 0;; target++) {
            int applied = 0;
            for (int v = 0; v < JM_N; v++) {
                json_t *copy = json_deep_copy(root);
                cr_assert_not_null(copy);
                int seen = 0;
                if (!jm_apply(copy, target, v, &seen)) {
                    json_decref(copy);
                    break;
                }
                applied = 1;
                char *ml = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
                cr_assert_not_null(ml);
                size_t ol = (size_t)(p - text);
                memcpy(out, text, ol);
                size_t mll = strlen(ml);
                memcpy(out + ol, ml, mll);
                ol += mll;
                if (nl) {
                    size_t rest = strlen(nl);
                    memcpy(out + ol, nl, rest);
                    ol += rest;
                }
                out[ol] = 0;
                fn(out, ol, line + 1, target, v, ctx);
                count++;
                free(ml);
                json_decref(copy);
            }
            if (!applied)
                break;
        }
        json_decref(root);
        p += ll + (nl ? 1 : 0);
    }
    free(out);
    return count;
}

#endif
