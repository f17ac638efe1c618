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
 * 2^63-1, "", 0, a string of 300 'a's, "2^64", "2^64-1", the dates
 * 2000-02-29, 1900-02-29 and 2025-13-01, "NaN", "-Infinity", a string of
 * quotes, backslashes, control bytes and 2-byte UTF-8, 2^53+1, 1e300,
 * -0.0, a UUID with a bad last character.
 */
#ifndef TL_TEST_JSON_MUT_H
#define TL_TEST_JSON_MUT_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JM_REMOVE, JM_NULL, JM_TRUE, JM_NEG, JM_STR, JM_ARR, JM_OBJ, JM_REAL, JM_BIG, JM_EMPTY,
       JM_ZERO, JM_LONG, JM_U64_OVER, JM_U64_MAX, JM_LEAP, JM_NOT_LEAP, JM_MONTH13, JM_NAN,
       JM_NEG_INF, JM_WEIRD, JM_2P53, JM_HUGE_REAL, JM_NEG_ZERO, JM_UUIDISH, JM_N };

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
    case JM_U64_OVER: return json_string("18446744073709551616");
    case JM_U64_MAX: return json_string("18446744073709551615");
    case JM_LEAP: return json_string("2000-02-29");
    case JM_NOT_LEAP: return json_string("1900-02-29");
    case JM_MONTH13: return json_string("2025-13-01");
    case JM_NAN: return json_string("NaN");
    case JM_NEG_INF: return json_string("-Infinity");
    case JM_WEIRD: {
        /* quote, backslash, control bytes, then 2-byte UTF-8 past any cut */
        char s[700];
        size_t n = 0;
        static const char head[] = "q\"b\\c\001d\177";
        memcpy(s, head, sizeof head - 1);
        n = sizeof head - 1;
        while (n + 2 < sizeof s - 1) {
            s[n++] = (char)0xC3;
            s[n++] = (char)0xA9;
        }
        s[n] = 0;
        return json_string(s);
    }
    case JM_2P53: return json_integer((INT64_C(1) << 53) + 1);
    case JM_HUGE_REAL: return json_real(1e300);
    case JM_NEG_ZERO: return json_real(-0.0);
    case JM_UUIDISH: return json_string("3f2a9c1e-7b4d-4e8f-9a6b-1c2d3e4f5a6X");
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
