/*
 * partpath_test.c - partition directory names (PP-1..PP-4 of
 * partpath_int.h): hostile symbols stay one safe component, the empty value
 * has its own token, long values are cut and hashed within 255 bytes, NUL
 * is rejected; escape/unescape round trips both ways (so escaping is
 * collision-free below the length cap); and tl_partpath_check on paths
 * read from a log.
 */
#include <criterion/criterion.h>

#include "civil_int.h"
#include "partpath_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

static uint64_t rng = 7;
static uint64_t next(void)
{
    rng = rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return rng >> 33;
}

static char out[512];

static const char *esc(const char *v, size_t len)
{
    size_t n = 0;
    tl_error err;
    cr_assert_eq(tl_partpath_escape(v, len, 200, out, sizeof out, &n, &err), TL_OK, "%s",
                 err.msg);
    cr_assert_eq(strlen(out), n);
    return out;
}

/* A PP-1/PP-2 output is one safe component. */
static void assert_safe(const char *s, size_t n)
{
    cr_assert_gt(n, 0);
    cr_assert_neq(s[0], '.', "%s", s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.' || c == '%' || c == '~';
        cr_assert(ok, "byte %zu of \"%s\"", i, s);
    }
}

Test(partpath, hostile_symbols_become_one_safe_component)
{
    static const struct {
        const char *v, *want;
    } cases[] = {
        {"BANKNIFTY", "BANKNIFTY"},
        {"NIFTY.50", "NIFTY.50"},
        {"BRK-B_x", "BRK-B_x"},
        {".", "%2E"},
        {"..", "%2E."},
        {"...", "%2E.."},
        {".hidden", "%2Ehidden"},
        {"/", "%2F"},
        {"../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd"},
        {"%", "%25"},
        {"%2e%2e", "%252e%252e"},
        {"=", "%3D"},
        {"a=b", "a%3Db"},
        {" ", "%20"},
        {"M&M", "M%26M"},
        {"\xc3\xa9t\xc3\xa9", "%C3%A9t%C3%A9"},
        {"\\", "%5C"},
        {"~", "%7E"},
        {"~empty", "%7Eempty"},
        {"__empty__", "__empty__"},
        {"\n\t\x7f\xff", "%0A%09%7F%FF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *e = esc(cases[i].v, strlen(cases[i].v));
        cr_assert_str_eq(e, cases[i].want, "value \"%s\"", cases[i].v);
        assert_safe(e, strlen(e));
    }
}

Test(partpath, empty_value_has_a_token_no_value_escapes_to)
{
    cr_assert_str_eq(esc("", 0), TL_PARTPATH_EMPTY);
    cr_assert_str_eq(esc(NULL, 0), "~empty");
    char v[16];
    size_t n;
    tl_error err;
    cr_assert_eq(tl_partpath_unescape("~empty", 6, v, sizeof v, &n, &err), TL_OK);
    cr_assert_eq(n, 0);
    /* '~' is escaped in every value, so "~empty" is nobody's PP-1 output */
    cr_assert_str_eq(esc("~empty", 6), "%7Eempty");
}

Test(partpath, nul_is_rejected_with_its_offset)
{
    tl_error err;
    cr_assert_eq(tl_partpath_escape("AB\0C", 4, 200, out, sizeof out, NULL, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "NUL byte at offset 2"), "%s", err.msg);
    cr_assert_eq(tl_partpath_component("symbol", "\0", 1, out, sizeof out, NULL, &err),
                 TL_EINVAL);
    cr_assert(strstr(err.msg, "partition symbol: "), "%s", err.msg);
}

Test(partpath, bad_buffers_are_rejected)
{
    tl_error err;
    cr_assert_eq(tl_partpath_escape("a", 1, 31, out, sizeof out, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_partpath_escape("a", 1, 100, out, 100, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_partpath_component("symbol", "a", 1, out, 255, NULL, &err), TL_EINVAL);
    cr_assert_eq(tl_partpath_dir("symbol", "a", 1, "date", 0, out, 300, NULL, &err), TL_EINVAL);
}

/* unescape(escape(v)) == v for every 1- and 2-byte value and random longer
 * ones: escape is injective below the length cap. */
Test(partpath, round_trip_value_to_name_to_value)
{
    char v[64], back[64];
    size_t n;
    tl_error err;
    for (int a = 1; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            size_t len = b ? 2 : 1;
            v[0] = (char)a;
            v[1] = (char)b;
            const char *e = esc(v, len);
            assert_safe(e, strlen(e));
            cr_assert_eq(tl_partpath_unescape(e, strlen(e), back, sizeof back, &n, &err), TL_OK,
                         "%s", err.msg);
            cr_assert_eq(n, len);
            cr_assert_eq(memcmp(back, v, len), 0);
        }
    }
    for (int it = 0; it < 20000; it++) {
        size_t len = next() % 60 + 1;
        for (size_t i = 0; i < len; i++) {
            /* mostly the interesting bytes */
            static const char pick[] = "./%=~ _-aZ9\\\x80\xff";
            v[i] = next() % 3 ? pick[next() % (sizeof pick - 1)] : (char)(next() % 255 + 1);
        }
        const char *e = esc(v, len);
        assert_safe(e, strlen(e));
        cr_assert_eq(tl_partpath_unescape(e, strlen(e), back, sizeof back, &n, &err), TL_OK,
                     "%s", err.msg);
        cr_assert_eq(n, len);
        cr_assert_eq(memcmp(back, v, len), 0);
    }
}

/* escape(unescape(s)) == s for every canonical s: each name has exactly one
 * value and vice versa. */
Test(partpath, round_trip_name_to_value_to_name)
{
    static const char *pieces[] = {"a", "Z", "0", "_", "-", ".", "%2E", "%2F", "%25", "%41",
                                   "%2e", "%7E", "%C3", "%00", "~", "/", " ", "%", "%4"};
    char s[128], v[128];
    size_t n;
    tl_error err;
    int accepted = 0, rejected = 0;
    for (int it = 0; it < 50000; it++) {
        size_t len = 0, k = next() % 6 + 1;
        for (size_t i = 0; i < k; i++) {
            const char *p = pieces[next() % (sizeof pieces / sizeof pieces[0])];
            memcpy(s + len, p, strlen(p));
            len += strlen(p);
        }
        s[len] = '\0';
        int rc = tl_partpath_unescape(s, len, v, sizeof v, &n, &err);
        if (rc != TL_OK) {
            cr_assert_eq(rc, TL_EINVAL, "%s", s);
            cr_assert(strstr(err.msg, "partition name"), "%s", err.msg);
            rejected++;
            continue;
        }
        accepted++;
        cr_assert_str_eq(esc(v, n), s, "canonical \"%s\"", s);
    }
    cr_assert_gt(accepted, 1000);
    cr_assert_gt(rejected, 1000);
}

Test(partpath, non_canonical_names_are_rejected)
{
    static const char *bad[] = {"%2e",  "%41",   ".a",  "a%2Eb", "%00", "%4",  "%",  "%G1",
                                "a/b",  "a b",   "a~b", "~",     "x~0123456789abcdeF",
                                "%2F%", "a\\b"};
    char v[64];
    size_t n;
    tl_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(tl_partpath_unescape(bad[i], strlen(bad[i]), v, sizeof v, &n, &err),
                     TL_EINVAL, "\"%s\"", bad[i]);
        cr_assert(strstr(err.msg, "partition name"), "%s", err.msg);
    }
    cr_assert_eq(tl_partpath_unescape("", 0, v, sizeof v, &n, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "~empty"), "%s", err.msg);
    cr_assert_eq(tl_partpath_unescape("%2F", 3, v, 0, &n, &err), TL_EINVAL, "capacity");
    /* "%2E" is canonical first, "." literal after */
    cr_assert_eq(tl_partpath_unescape("%2E.", 4, v, sizeof v, &n, &err), TL_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(memcmp(v, "..", 2), 0);
}

static void assert_hashed(const char *comp, size_t klen, const char *v, size_t vlen)
{
    size_t n = strlen(comp);
    cr_assert_leq(n, TL_PARTPATH_NAME_MAX);
    cr_assert_geq(n, TL_PARTPATH_NAME_MAX - 2);
    const char *t = strchr(comp, '~');
    cr_assert_not_null(t, "%s", comp);
    cr_assert_eq(strlen(t), 17);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)XXH64(v, vlen, 0));
    cr_assert_str_eq(t + 1, hex);
    /* the prefix is a canonical escape cut between triples */
    char back[300];
    size_t bn;
    tl_error err;
    const char *val = comp + klen + 1;
    cr_assert_eq(tl_partpath_unescape(val, (size_t)(t - val), back, sizeof back, &bn, &err),
                 TL_OK, "prefix of %s: %s", comp, err.msg);
    cr_assert_eq(memcmp(back, v, bn), 0, "prefix decodes to a prefix of the value");
    cr_assert_eq(tl_partpath_unescape(val, strlen(val), back, sizeof back, &bn, &err),
                 TL_EUNSUPPORTED);
    cr_assert(strstr(err.msg, "hashed long name"), "%s", err.msg);
}

Test(partpath, long_values_are_cut_and_hashed_within_255_bytes)
{
    static char v[4096];
    size_t n;
    tl_error err;
    /* 4 KiB of letters */
    memset(v, 'A', sizeof v);
    cr_assert_eq(tl_partpath_component("symbol", v, sizeof v, out, sizeof out, &n, &err), TL_OK);
    cr_assert_eq(n, 255);
    cr_assert_eq(strncmp(out, "symbol=AAAA", 11), 0);
    assert_hashed(out, 6, v, sizeof v);
    /* another value with the same prefix gets another name */
    char first[300];
    strcpy(first, out);
    v[4095] = 'B';
    cr_assert_eq(tl_partpath_component("symbol", v, sizeof v, out, sizeof out, &n, &err), TL_OK);
    cr_assert_str_neq(out, first);
    assert_hashed(out, 6, v, sizeof v);
    /* 4 KiB needing escapes, at every alignment of triples against the cut */
    for (int shift = 0; shift < 3; shift++) {
        memset(v, 0xff, sizeof v);
        memset(v, 'x', (size_t)shift);
        cr_assert_eq(tl_partpath_component("symbol", v, sizeof v, out, sizeof out, &n, &err),
                     TL_OK);
        cr_assert_leq(n, 255);
        assert_hashed(out, 6, v, sizeof v);
    }
    /* "..": 4 KiB of dots */
    memset(v, '.', sizeof v);
    cr_assert_eq(tl_partpath_component("symbol", v, sizeof v, out, sizeof out, &n, &err), TL_OK);
    cr_assert_eq(strncmp(out, "symbol=%2E...", 13), 0);
    assert_hashed(out, 6, v, sizeof v);
}

Test(partpath, cap_boundary_is_exact)
{
    /* "symbol=" is 7 bytes, so 248 plain bytes fit exactly */
    static char v[300];
    size_t n;
    tl_error err;
    memset(v, 'q', sizeof v);
    cr_assert_eq(tl_partpath_component("symbol", v, 248, out, sizeof out, &n, &err), TL_OK);
    cr_assert_eq(n, 255);
    cr_assert_null(strchr(out, '~'), "fits: not hashed");
    cr_assert_eq(tl_partpath_component("symbol", v, 249, out, sizeof out, &n, &err), TL_OK);
    cr_assert_leq(n, 255);
    assert_hashed(out, 6, v, 249);
    /* a triple that would end past the cap */
    memset(v, 'q', 246);
    v[246] = '/';
    cr_assert_eq(tl_partpath_component("symbol", v, 247, out, sizeof out, &n, &err), TL_OK);
    assert_hashed(out, 6, v, 247);
}

Test(partpath, component_escapes_the_key)
{
    size_t n;
    tl_error err;
    cr_assert_eq(tl_partpath_component("symbol", "BANKNIFTY", 9, out, sizeof out, &n, &err),
                 TL_OK);
    cr_assert_str_eq(out, "symbol=BANKNIFTY");
    cr_assert_eq(n, 16);
    cr_assert_eq(tl_partpath_component("my col=", "x", 1, out, sizeof out, &n, &err), TL_OK);
    cr_assert_str_eq(out, "my%20col%3D=x", "the first '=' splits key and value");
    cr_assert_eq(tl_partpath_component("", "x", 1, out, sizeof out, &n, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "key"), "%s", err.msg);
    char key[80];
    memset(key, 'k', 64);
    key[64] = '\0';
    cr_assert_eq(tl_partpath_component(key, "x", 1, out, sizeof out, &n, &err), TL_OK);
    key[64] = 'k';
    key[65] = '\0';
    cr_assert_eq(tl_partpath_component(key, "x", 1, out, sizeof out, &n, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "more than 64 bytes"), "%s", err.msg);
    memset(key, '/', 30);
    key[30] = '\0';
    cr_assert_eq(tl_partpath_component(key, "x", 1, out, sizeof out, &n, &err), TL_EINVAL);
}

Test(partpath, dir_for_each_partition_spec)
{
    int32_t day = (int32_t)tl_days_from_civil(2025, 11, 18);
    size_t n;
    tl_error err;
    cr_assert_eq(tl_partpath_dir("symbol", "BANKNIFTY", 9, "date", day, out, sizeof out, &n,
                                 &err),
                 TL_OK);
    cr_assert_str_eq(out, "symbol=BANKNIFTY/date=2025-11-18");
    cr_assert_eq(n, strlen(out));
    cr_assert_eq(tl_partpath_dir(NULL, NULL, 0, "date", day, out, sizeof out, &n, &err), TL_OK);
    cr_assert_str_eq(out, "date=2025-11-18");
    cr_assert_eq(tl_partpath_dir("symbol", "..", 2, NULL, 0, out, sizeof out, &n, &err), TL_OK);
    cr_assert_str_eq(out, "symbol=%2E.");
    cr_assert_eq(tl_partpath_dir(NULL, NULL, 0, NULL, 0, out, sizeof out, &n, &err), TL_OK);
    cr_assert_str_eq(out, "");
    cr_assert_eq(n, 0);
    cr_assert_eq(tl_partpath_dir("symbol", "", 0, "date", -1, out, sizeof out, &n, &err), TL_OK);
    cr_assert_str_eq(out, "symbol=~empty/date=1969-12-31");
    cr_assert_eq(tl_partpath_dir("symbol", "a\0", 2, "date", 0, out, sizeof out, &n, &err),
                 TL_EINVAL);
}

/* Whatever the symbol, the directory plus a file name passes the log check. */
Test(partpath, every_escaped_dir_passes_the_check)
{
    static char v[600];
    char path[TL_PARTPATH_DIR_MAX + 16];
    tl_error err;
    for (int it = 0; it < 5000; it++) {
        size_t len = next() % (it % 10 == 0 ? 600 : 12);
        for (size_t i = 0; i < len; i++)
            v[i] = next() % 2 ? "./\\%=~ "[next() % 7] : (char)(next() % 255 + 1);
        size_t n;
        cr_assert_eq(tl_partpath_dir("symbol", v, len, "date", (int32_t)(next() % 40000), path,
                                     TL_PARTPATH_DIR_MAX, &n, &err),
                     TL_OK, "%s", err.msg);
        memcpy(path + n, "/x.tls", 7);
        cr_assert_eq(tl_partpath_check(path, n + 6, &err), TL_OK, "%s: %s", path, err.msg);
    }
}

Test(partpath, check_accepts_relative_paths_inside)
{
    static const char *good[] = {"symbol=A/date=2025-11-18/0001.tls", "a", "a.b/c", "a/b..",
                                 "x/y.", "%2E./x", "a/_delta_log", "a/_x/b",
                                 "\xC3\xA9/x"};
    tl_error err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert_eq(tl_partpath_check(good[i], strlen(good[i]), &err), TL_OK, "%s: %s",
                     good[i], err.msg);
}

Test(partpath, check_rejects_paths_that_leave_the_table)
{
    static const struct {
        const char *p;
        size_t len;
        const char *why;
    } bad[] = {
        {"", 0, "empty"},
        {"/etc/passwd", 11, "absolute path at byte 0"},
        {"a//b", 4, "empty component at byte 2"},
        {"a/", 2, "empty component at byte 2"},
        {".", 1, "\".\" component at byte 0"},
        {"./a", 3, "\".\" component at byte 0"},
        {"a/./b", 5, "\".\" component at byte 2"},
        {"../a", 4, "\"..\" component at byte 0"},
        {"a/..", 4, "\"..\" component at byte 2"},
        {"symbol=A/../../x", 16, "\"..\" component at byte 9"},
        {"a\\..\\b", 6, "backslash at byte 1"},
        {"a\0b", 3, "NUL byte at byte 1"},
        {"_delta_log/00000000000000000000.json", 36, "starting with '_' (reserved"},
        {"_delta_log", 10, "starting with '_' (reserved"},
        /* LOG-R11: hidden components, a reserved first component, control bytes */
        {"..a/b", 5, "starting with '.' (hidden) at byte 0"},
        {"x/.hidden", 9, "starting with '.' (hidden) at byte 2"},
        {"x/.tmp-1.tls", 12, "starting with '.' (hidden) at byte 2"},
        {"_delta_logs/x", 13, "first component starting with '_'"},
        {"_x", 2, "first component starting with '_'"},
        {"a\x01" "b", 3, "control character 0x01 at byte 1"},
        {"a/b\x7f", 4, "control character 0x7F at byte 3"},
        {"a\nb", 3, "control character 0x0A at byte 1"},
    };
    tl_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(tl_partpath_check(bad[i].p, bad[i].len, &err), TL_EINVAL, "%zu", i);
        cr_assert(strstr(err.msg, bad[i].why), "\"%s\" lacks \"%s\"", err.msg, bad[i].why);
        cr_assert(strstr(err.msg, "log path"), "%s", err.msg);
    }
    cr_assert_eq(tl_partpath_check(NULL, 0, &err), TL_EINVAL);
    static char longp[5000];
    memset(longp, 'a', 256);
    cr_assert_eq(tl_partpath_check(longp, 256, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "component of 256 bytes"), "%s", err.msg);
    cr_assert_eq(tl_partpath_check(longp, 255, &err), TL_OK);
    for (int i = 0; i < 4096; i++)
        longp[i] = i % 100 == 99 ? '/' : 'a';
    cr_assert_eq(tl_partpath_check(longp, 4095, &err), TL_OK, "%s", err.msg);
    cr_assert_eq(tl_partpath_check(longp, 4096, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "longer than 4095 bytes"), "%s", err.msg);
    /* the message shows binary bytes escaped and long paths cut */
    cr_assert_eq(tl_partpath_check("a\0b", 3, &err), TL_EINVAL);
    cr_assert(strstr(err.msg, "\"a\\x00b\""), "%s", err.msg);
}
