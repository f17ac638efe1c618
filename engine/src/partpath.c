/*
 * partpath.c - partition directory names and the log path check
 * (partpath_int.h states the escaping rules PP-1..PP-4).
 *
 * Invariants:
 * - An escaped component is built in a bounded local buffer and never
 *   exceeds its budget; a value of any length is handled in one pass that
 *   stops once the budget is exceeded, plus one hash pass over the value.
 * - tl_partpath_unescape accepts exactly the strings tl_partpath_escape
 *   produces without PP-3, so escape is injective on those (the tests check
 *   both round trips).
 */
#include "partpath_int.h"
#include "text_int.h"

#include <string.h>
#include <xxhash.h>

static int is_plain(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* PP-1 for byte c at value position i. */
static int needs_escape(unsigned char c, size_t i)
{
    return !is_plain(c) || (c == '.' && i == 0);
}

static const char hex_up[] = "0123456789ABCDEF";

/* Render up to 80 bytes of s for a message: printable ASCII as is, the
 * rest as \xHH, "..." if cut. */
static const char *quote(const char *s, size_t len, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < 80 && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex_up[c >> 4];
            buf[o++] = hex_up[c & 15];
        }
    }
    if (len > 80 && o + 4 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

int tl_partpath_escape(const char *value, size_t len, size_t budget, char *out,
                       size_t out_cap, size_t *out_len, tl_error *err)
{
    if (budget < 32 || out_cap <= budget)
        return tl_error_set(err, TL_EINVAL, "partition value: budget %zu (>= 32) and output "
                            "capacity %zu (> budget) do not fit", budget, out_cap);
    if (len && !value)
        return tl_error_set(err, TL_EINVAL, "partition value: NULL");
    const char *nul = len ? memchr(value, '\0', len) : NULL;
    if (nul)
        return tl_error_set(err, TL_EINVAL, "partition value: NUL byte at offset %zu (PP-4)",
                            (size_t)(nul - value));
    size_t o = 0;
    if (len == 0) {
        memcpy(out, TL_PARTPATH_EMPTY, sizeof TL_PARTPATH_EMPTY);
        o = sizeof TL_PARTPATH_EMPTY - 1;
    } else {
        int cut = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)value[i];
            size_t w = needs_escape(c, i) ? 3 : 1;
            if (o + w > budget) {
                cut = 1;
                break;
            }
            if (w == 1) {
                out[o++] = (char)c;
            } else {
                out[o++] = '%';
                out[o++] = hex_up[c >> 4];
                out[o++] = hex_up[c & 15];
            }
        }
        if (cut) {
            /* PP-3: prefix + '~' + 16 hex; out holds whole units only, so
             * cutting back to p splits no triple if we step over one. */
            size_t p = budget - 17;
            if (p < o) {
                if (p >= 1 && out[p - 1] == '%')
                    p -= 1;
                else if (p >= 2 && out[p - 2] == '%')
                    p -= 2;
            } else {
                p = o;
            }
            uint64_t h = XXH64(value, len, 0);
            out[p++] = '~';
            for (int k = 15; k >= 0; k--)
                out[p++] = "0123456789abcdef"[(h >> (4 * k)) & 15];
            o = p;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return TL_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lower case is not canonical */
}

int tl_partpath_unescape(const char *esc, size_t len, char *out, size_t out_cap,
                         size_t *out_len, tl_error *err)
{
    char q[400];
    *out_len = 0;
    if (len == 0)
        return tl_error_set(err, TL_EINVAL, "partition name: empty (the empty value is "
                            "\"" TL_PARTPATH_EMPTY "\")");
    if (len == sizeof TL_PARTPATH_EMPTY - 1 && memcmp(esc, TL_PARTPATH_EMPTY, len) == 0)
        return TL_OK;
    const char *tilde = memchr(esc, '~', len);
    if (tilde) {
        size_t t = (size_t)(tilde - esc);
        int ok = t > 0 && len - t == 17;
        for (size_t i = t + 1; ok && i < len; i++)
            ok = (esc[i] >= '0' && esc[i] <= '9') || (esc[i] >= 'a' && esc[i] <= 'f');
        if (!ok)
            return tl_error_set(err, TL_EINVAL, "partition name \"%s\": '~' at byte %zu is "
                                "neither \"" TL_PARTPATH_EMPTY "\" nor a hashed long name",
                                quote(esc, len, q, sizeof q), t);
        return tl_error_set(err, TL_EUNSUPPORTED, "partition name \"%s\": a hashed long "
                            "name (PP-3); the value is only in the log",
                            quote(esc, len, q, sizeof q));
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)esc[i], b = c;
        if (c == '%') {
            int hi = i + 2 < len ? hexval(esc[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(esc[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return tl_error_set(err, TL_EINVAL, "partition name \"%s\": byte %zu: "
                                    "expected %%XX with upper-case hex digits",
                                    quote(esc, len, q, sizeof q), i);
            b = (unsigned char)(hi * 16 + lo);
            if (b == 0 || !needs_escape(b, o))
                return tl_error_set(err, TL_EINVAL, "partition name \"%s\": byte %zu: %%%c%c "
                                    "is not canonical (%s)",
                                    quote(esc, len, q, sizeof q), i, esc[i + 1], esc[i + 2],
                                    b == 0 ? "NUL is never a value byte"
                                           : "this byte is written as itself");
            i += 2;
        } else if (needs_escape(c, o)) {
            return tl_error_set(err, TL_EINVAL, "partition name \"%s\": byte %zu (0x%02X) "
                                "must be %%-escaped", quote(esc, len, q, sizeof q), i, c);
        }
        if (o == out_cap)
            return tl_error_set(err, TL_EINVAL, "partition name: output capacity %zu too "
                                "small", out_cap);
        out[o++] = (char)b;
    }
    *out_len = o;
    return TL_OK;
}

int tl_partpath_component(const char *key, const char *value, size_t len, char *out,
                          size_t out_cap, size_t *out_len, tl_error *err)
{
    if (!key || !*key)
        return tl_error_set(err, TL_EINVAL, "partition key: empty");
    if (out_cap < TL_PARTPATH_NAME_MAX + 1)
        return tl_error_set(err, TL_EINVAL, "partition name: output capacity %zu < %d",
                            out_cap, TL_PARTPATH_NAME_MAX + 1);
    char kbuf[TL_PARTPATH_KEY_MAX + 2];
    size_t kl = 0, klen = strlen(key);
    /* a key that does not fit comes back hashed: recognise it as too long */
    int rc = tl_partpath_escape(key, klen, TL_PARTPATH_KEY_MAX + 1, kbuf, sizeof kbuf, &kl,
                                err);
    if (rc != TL_OK)
        return rc;
    if (kl > TL_PARTPATH_KEY_MAX || memchr(kbuf, '~', kl)) {
        char q[400];
        return tl_error_set(err, TL_EINVAL, "partition key \"%s\": escapes to more than %d "
                            "bytes", quote(key, klen, q, sizeof q), TL_PARTPATH_KEY_MAX);
    }
    memcpy(out, kbuf, kl);
    out[kl] = '=';
    size_t vl = 0;
    rc = tl_partpath_escape(value, len, TL_PARTPATH_NAME_MAX - kl - 1, out + kl + 1,
                            out_cap - kl - 1, &vl, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "partition %s: ", key);
        return rc;
    }
    if (out_len)
        *out_len = kl + 1 + vl;
    return TL_OK;
}

int tl_partpath_dir(const char *sym_key, const char *sym, size_t sym_len, const char *day_key,
                    int32_t day, char *out, size_t out_cap, size_t *out_len, tl_error *err)
{
    if (out_cap < TL_PARTPATH_DIR_MAX)
        return tl_error_set(err, TL_EINVAL, "partition dir: output capacity %zu < %d", out_cap,
                            TL_PARTPATH_DIR_MAX);
    size_t o = 0, n = 0;
    if (sym_key) {
        int rc = tl_partpath_component(sym_key, sym, sym_len, out, out_cap, &n, err);
        if (rc != TL_OK)
            return rc;
        o = n;
    }
    if (day_key) {
        char date[TL_FMT_MAX];
        size_t dl = tl_fmt_date(date, day);
        if (o)
            out[o++] = '/';
        int rc = tl_partpath_component(day_key, date, dl, out + o, out_cap - o, &n, err);
        if (rc != TL_OK)
            return rc;
        o += n;
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return TL_OK;
}

int tl_partpath_check(const char *rel, size_t len, tl_error *err)
{
    char q[400];
#define BAD(off, ...)                                                                      \
    do {                                                                                   \
        char why_[160];                                                                    \
        snprintf(why_, sizeof why_, __VA_ARGS__);                                          \
        return tl_error_set(err, TL_EINVAL, "log path \"%s\": %s at byte %zu",             \
                            quote(rel, len, q, sizeof q), why_, (size_t)(off));            \
    } while (0)
    if (!rel || len == 0)
        return tl_error_set(err, TL_EINVAL, "log path: empty");
    if (len > 4095)
        BAD(4095, "longer than 4095 bytes");
    if (rel[0] == '/')
        BAD(0, "absolute path");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            unsigned char ch = (unsigned char)rel[i];
            if (ch == '\0')
                BAD(i, "NUL byte");
            if (ch < 0x20 || ch == 0x7F)
                BAD(i, "control character 0x%02X", ch);
            if (ch == '\\')
                BAD(i, "backslash");
            if (ch != '/')
                continue;
        }
        size_t cl = i - start;
        const char *c = rel + start;
        if (cl == 0)
            BAD(start, "empty component");
        if ((cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.'))
            BAD(start, "\"%.*s\" component", (int)cl, c);
        if (c[0] == '.')
            BAD(start, "component starting with '.' (hidden)");
        if (start == 0 && c[0] == '_')
            BAD(0, "first component starting with '_' (reserved, like _delta_log)");
        if (cl > TL_PARTPATH_NAME_MAX)
            BAD(start, "component of %zu bytes (at most %d)", cl, TL_PARTPATH_NAME_MAX);
        start = i + 1;
    }
#undef BAD
    return TL_OK;
}
