/*
 * csv_read.c - the streaming CSV reader of csv_int.h: text -> tl_batch
 * column vectors in schema order. The accepted syntax and the value rules
 * are listed in csv_int.h.
 *
 * Buffer invariants: input is read in chunks into buf[0 .. end), and
 * buf[end] is always a 0 byte (sentinel): the field scanners stop at any
 * "special" byte (',', '"', CR, LF, NUL), so they never test the bounds; a
 * 0 at end means "out of data", a 0 before end is a NUL in the input (an
 * error). pos is the start of the first record not yet consumed. A record
 * is parsed in place into row `row` of the column buffers; if it runs into
 * end before the input ends, parse_row returns NEED_MORE having consumed
 * nothing, refill() moves buf[pos .. end) to the front, reads more
 * (growing the buffer only when one record is longer than it, up to
 * TL_CSV_MAX_RECORD) and the row is parsed again from its start, which
 * overwrites whatever the partial attempt stored (string columns restart
 * at offsets[row]). Values are converted straight from the buffer; quoted
 * fields are unescaped into a scratch buffer first.
 *
 * Column buffers (values, validity, offsets, data) are allocated once for
 * batch_rows rows and reused by every batch; columns absent from the
 * header share one zeroed block (all null). Once a call fails the reader
 * keeps returning that error.
 *
 * Floats: a decimal whose significand fits in 53 (float32: 24) bits and
 * whose power of ten is exact in the type (|e| <= 22, float32 10) is one
 * correctly rounded multiplication or division of two exact values
 * (Clinger's fast path); everything else goes to strtod_l / strtof_l under
 * a "C" locale_t, after our own syntax check (no hex, no spaces). Prices
 * with one or two decimals take tl_cents_to_f64 (equal to the division for
 * every int32, see util_int.h; w / 10 is 10w / 100 exactly). Unquoted
 * numbers are parsed while their end is found (fast_number); anything
 * unusual there (exponent, '+', long digits, a range error, junk) goes
 * through the general parser, which owns every message.
 */
#include "csv_int.h"
#include "civil_int.h"
#include "util_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEED_MORE 1 /* parse_row/scan_field: the record runs past the data */
#define ROW_BLANK 2 /* parse_row: a blank line was skipped */
#define ROW_END 3   /* parse_row: end of input at a record start */
#define MAX_BATCH_ROWS (1u << 20)
#define SHOW_MAX 40
enum { FAST_F64 = 1, FAST_F32, FAST_INT, FAST_UINT }; /* csv_col.fast */ /* bytes of an offending field quoted in a message */

static const uint8_t special[256] = {[0] = 1, [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};
static const uint8_t qspecial[256] = {[0] = 1, ['"'] = 1, ['\n'] = 1};

typedef struct csv_col {
    const char *name;
    tl_type type;
    uint8_t nullable;
    uint8_t present;   /* named in the header */
    uint8_t any_null;  /* a null in the current batch */
    uint8_t fast;      /* FAST_*: try fast_number first; 0 = no */
    uint32_t width;    /* bytes per value; 0 for strings */
    uint8_t *values;   /* batch_rows * width */
    uint8_t *validity; /* (batch_rows + 7) / 8 */
    uint32_t *offsets; /* strings: batch_rows + 1 */
    uint8_t *data;     /* strings: data_cap bytes, data_len used */
    size_t data_len, data_cap;
} csv_col;

struct tl_csv_reader {
    char *name;              /* for messages: the path, or "stdin" */
    int fd, own_fd;          /* fd < 0: memory source */
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    uint64_t file_size;
    locale_t cloc;
    uint32_t n_cols, batch_rows, chunk;
    tl_coldef *defs;         /* copy, names in name_store */
    char *name_store;
    csv_col *cols;
    tl_colvec *vecs;
    uint32_t n_hdr;          /* fields per record */
    uint32_t *hdr_col;       /* header field -> schema column */
    uint32_t n_str;
    uint32_t *str_cols;      /* present string columns */
    uint8_t *zeros;          /* absent columns' values/validity/offsets */
    uint8_t *buf;            /* cap + 1 bytes */
    size_t cap, pos, end;
    uint64_t base;           /* input offset of buf[0] */
    int eof, done;
    uint64_t line;           /* line number at pos, 1-based */
    uint64_t consumed;
    char *scratch;           /* unescaped quoted field, 0-terminated */
    size_t scratch_cap;
    int failed;
    tl_error saved;
};

/* ---- messages -------------------------------------------------------------- */

/* s[0 .. len) for a message: control bytes escaped, cut after SHOW_MAX. */
static void show(char *out, size_t cap, const uint8_t *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && i < SHOW_MAX && n + 5 < cap; i++) {
        uint8_t b = s[i];
        if (b == '\n' || b == '\r' || b == '\t') {
            out[n++] = '\\';
            out[n++] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
        } else if (b < 0x20 || b == 0x7f) {
            static const char hx[] = "0123456789abcdef";
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hx[b >> 4];
            out[n++] = hx[b & 15];
        } else
            out[n++] = (char)b;
    }
    if (len > SHOW_MAX && n + 4 <= cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* "NAME: line L: column 'c' (type): <what>, found '<text>'" */
TL_PRINTF(7, 8)
static int field_error(const tl_csv_reader *r, uint64_t line, const csv_col *c, const uint8_t *s,
                       size_t len, tl_error *e, const char *fmt, ...)
{
    char what[200], text[4 * SHOW_MAX + 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    show(text, sizeof text, s, len);
    if (c)
        return tl_error_set(e, TL_EINVAL, "%s: line %" PRIu64 ": column '%s' (%s): %s, found '%s'",
                            r->name, line, c->name, tl_type_name(c->type), what, text);
    return tl_error_set(e, TL_EINVAL, "%s: line %" PRIu64 ": header: %s, found '%s'", r->name,
                        line, what, text);
}

/* ---- input ----------------------------------------------------------------- */

/* Keep buf[pos .. end), read more after it. Sets eof when nothing came. */
TL_WUR static int refill(tl_csv_reader *r, tl_error *e)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->base += r->pos;
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->end == r->cap) { /* one record fills the buffer */
        if (r->cap >= TL_CSV_MAX_RECORD)
            return tl_error_set(e, TL_EINVAL,
                                "%s: line %" PRIu64 ": expected a record of at most %u bytes, "
                                "found a longer one (unterminated quote?)",
                                r->name, r->line, TL_CSV_MAX_RECORD);
        size_t ncap = r->cap * 2 > TL_CSV_MAX_RECORD ? TL_CSV_MAX_RECORD : r->cap * 2;
        uint8_t *nb = realloc(r->buf, ncap + 1);
        if (!nb)
            return tl_error_set(e, TL_ENOMEM, "%s: line %" PRIu64 ": no memory for a %zu-byte record",
                                r->name, r->line, ncap);
        r->buf = nb;
        r->cap = ncap;
    }
    size_t want = r->cap - r->end, got = 0;
    if (r->fd < 0) {
        got = r->mem_len - r->mem_pos < want ? r->mem_len - r->mem_pos : want;
        memcpy(r->buf + r->end, r->mem + r->mem_pos, got);
        r->mem_pos += got;
    } else {
        for (;;) {
            ssize_t k = read(r->fd, r->buf + r->end, want);
            if (k >= 0) {
                got = (size_t)k;
                break;
            }
            if (errno != EINTR) {
                r->buf[r->end] = 0;
                return tl_error_sys(e, errno, "%s: read failed at byte %" PRIu64, r->name,
                                    r->base + r->end);
            }
        }
    }
    r->end += got;
    r->buf[r->end] = 0;
    if (got == 0)
        r->eof = 1;
    return TL_OK;
}

/* ---- fields ---------------------------------------------------------------- */

TL_WUR static int scratch_put(tl_csv_reader *r, size_t *n, const void *src, size_t k,
                              tl_error *e)
{
    if (tl_grow((void **)&r->scratch, &r->scratch_cap, *n + k + 1) != TL_OK)
        return tl_error_set(e, TL_ENOMEM, "%s: line %" PRIu64 ": no memory for a %zu-byte field",
                            r->name, r->line, *n + k);
    memcpy(r->scratch + *n, src, k);
    *n += k;
    return TL_OK;
}

/* The byte after a field's text at *pp: a comma (*eor = 0), a line end or
 * the end of the input (*eor = 1); *pp and *line move past it. s/len/quoted
 * describe the field for messages. NEED_MORE when the data ends first. */
TL_WUR static inline int term(tl_csv_reader *r, const uint8_t **pp, uint64_t *line,
                              const csv_col *c, const uint8_t *s, size_t len, int quoted,
                              int *eor, tl_error *e)
{
    const uint8_t *p = *pp, *end = r->buf + r->end;
    switch (*p) {
    case ',':
        *eor = 0;
        p++;
        break;
    case '\n':
        *eor = 1;
        p++;
        (*line)++;
        break;
    case '\r':
        if (p + 1 == end && !r->eof)
            return NEED_MORE;
        if (p[1] != '\n')
            return field_error(r, *line, c, s, len, e,
                               "expected LF after CR (a CR alone is not a line end; quote the "
                               "field to keep it)");
        *eor = 1;
        p += 2;
        (*line)++;
        break;
    case 0:
        if (p < end) { /* show the field up to and with the NUL */
            if (quoted)
                return field_error(r, *line, c, p, 1, e, "expected text without NUL bytes");
            return field_error(r, *line, c, s, len + 1, e, "expected text without NUL bytes");
        }
        if (!r->eof)
            return NEED_MORE;
        *eor = 1; /* the last record may end without a newline */
        break;
    case '"':
        if (!quoted)
            return field_error(r, *line, c, s, len + 1, e,
                               "expected no quote inside an unquoted field (quote the whole "
                               "field and double the quote)");
        /* a quote after a closing quote is "", never here */
        /* fall through */
    default: /* after a closing quote */
        return field_error(r, *line, c, p, 1, e,
                           "expected a comma or the end of the line after the closing quote");
    }
    *pp = p;
    return TL_OK;
}

/* One field at *pp. On TL_OK: the text is s[0 .. len) with s[len] a special
 * byte, *eor says whether the record ends after it, *pp and *line are past
 * the terminator. NEED_MORE: the data ends inside the field (nothing
 * consumed that matters: the caller restarts the record). c names the
 * column in messages (NULL: header field). */
TL_WUR static inline int scan_field(tl_csv_reader *r, const uint8_t **pp, uint64_t *line,
                                    const csv_col *c, const uint8_t **s, size_t *len,
                                    int *quoted, int *eor, tl_error *e)
{
    const uint8_t *p = *pp, *end = r->buf + r->end;
    uint64_t l0 = *line;
    if (*p != '"') {
        const uint8_t *f = p;
        while (!special[*p])
            p++;
        *s = f;
        *len = (size_t)(p - f);
        *quoted = 0;
    } else {
        size_t n = 0;
        p++;
        for (;;) {
            const uint8_t *f = p;
            while (!qspecial[*p])
                p++;
            if (p > f && scratch_put(r, &n, f, (size_t)(p - f), e) != TL_OK)
                return e->code;
            if (*p == '\n') {
                (*line)++;
                if (scratch_put(r, &n, "\n", 1, e) != TL_OK)
                    return e->code;
                p++;
                continue;
            }
            if (*p == 0) {
                if (p < end) {
                    if (scratch_put(r, &n, p, 1, e) != TL_OK)
                        return e->code;
                    return field_error(r, *line, c, (const uint8_t *)r->scratch, n, e,
                                       "expected text without NUL bytes");
                }
                if (!r->eof)
                    return NEED_MORE;
                return field_error(r, l0, c, (const uint8_t *)r->scratch, n, e,
                                   "expected a closing quote before the end of the input "
                                   "(quote opened on line %" PRIu64 ")",
                                   l0);
            }
            /* a quote: doubled, or the closing one */
            if (p + 1 == end && !r->eof)
                return NEED_MORE;
            if (p[1] == '"') {
                if (scratch_put(r, &n, "\"", 1, e) != TL_OK)
                    return e->code;
                p += 2;
                continue;
            }
            p++;
            break;
        }
        if (scratch_put(r, &n, "", 0, e) != TL_OK) /* room for the 0 */
            return e->code;
        r->scratch[n] = 0;
        *s = (const uint8_t *)r->scratch;
        *len = n;
        *quoted = 1;
    }
    *pp = p;
    return term(r, pp, line, c, *s, *len, *quoted, eor, e);
}

/* ---- values ---------------------------------------------------------------- */

/* [+-]digits, all of s[0 .. len). 0 ok (*neg, *mag), 1 syntax, 2 beyond
 * 64 bits. */
static inline int parse_int(const uint8_t *s, size_t len, int *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        *neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return 1;
    uint64_t v = 0;
    int big = 0;
    if (len - i <= 19) { /* cannot overflow */
        for (; i < len; i++) {
            unsigned d = (unsigned)s[i] - '0';
            if (d > 9)
                return 1;
            v = v * 10 + d;
        }
    } else {
        for (; i < len; i++) {
            unsigned d = (unsigned)s[i] - '0';
            if (d > 9)
                return 1;
            if (v > (UINT64_MAX - d) / 10)
                big = 1;
            else
                v = v * 10 + d;
        }
    }
    *mag = v;
    return big ? 2 : 0;
}

/* signed value of (neg, mag) if in [lo, hi] */
static inline int to_signed(int neg, uint64_t mag, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return 0;
        v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return 0;
        v = (int64_t)mag;
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int ieq(const uint8_t *s, size_t len, const char *lower)
{
    size_t n = strlen(lower);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != (uint8_t)lower[i])
            return 0;
    return 1;
}

static const double p10d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const float p10f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                               1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* A float of s[0 .. len) (s[len] a special byte, so strtod stops there),
 * correctly rounded. 0 ok, 1 syntax. */
static int parse_float(const tl_csv_reader *r, const uint8_t *s, size_t len, int f32,
                       double *d, float *f)
{
    size_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i < len && ((s[i] | 0x20) == 'i' || (s[i] | 0x20) == 'n')) {
        double v;
        if (ieq(s + i, len - i, "inf") || ieq(s + i, len - i, "infinity"))
            v = INFINITY;
        else if (ieq(s + i, len - i, "nan"))
            v = NAN;
        else
            return 1;
        v = neg ? -v : v;
        *d = v;
        *f = (float)v;
        return 0;
    }
    uint64_t w = 0;
    int nd = 0, digits = 0, exact = 1;
    int64_t e10 = 0;
    for (; i < len && (unsigned)s[i] - '0' <= 9; i++) {
        unsigned dg = (unsigned)s[i] - '0';
        digits++;
        if (w == 0 && dg == 0)
            continue;
        if (nd < 19) {
            w = w * 10 + dg;
            nd++;
        } else {
            e10++;
            exact &= dg == 0;
        }
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && (unsigned)s[i] - '0' <= 9; i++) {
            unsigned dg = (unsigned)s[i] - '0';
            digits++;
            if (w == 0 && dg == 0) {
                e10--;
                continue;
            }
            if (nd < 19) {
                w = w * 10 + dg;
                nd++;
                e10--;
            } else
                exact &= dg == 0;
        }
    }
    if (digits == 0)
        return 1;
    if (i < len && (s[i] | 0x20) == 'e') {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        if (i == len)
            return 1;
        int64_t x = 0;
        for (; i < len && (unsigned)s[i] - '0' <= 9; i++)
            if (x < 100000000)
                x = x * 10 + (s[i] - '0');
        e10 += eneg ? -x : x;
    }
    if (i != len)
        return 1;
    if (w == 0) {
        *d = neg ? -0.0 : 0.0;
        *f = neg ? -0.0f : 0.0f;
        return 0;
    }
    if (!f32) {
        if (exact && w <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
            double v = (double)w;
            v = e10 < 0 ? v / p10d[-e10] : v * p10d[e10];
            *d = neg ? -v : v;
            return 0;
        }
        char *ep = NULL;
        double v = strtod_l((const char *)s, &ep, r->cloc);
        if (ep != (const char *)s + len)
            return 1;
        *d = v;
        return 0;
    }
    if (exact && w <= (UINT64_C(1) << 24) && e10 >= -10 && e10 <= 10) {
        float v = (float)w;
        v = e10 < 0 ? v / p10f[-e10] : v * p10f[e10];
        *f = neg ? -v : v;
        return 0;
    }
    char *ep = NULL;
    float v = strtof_l((const char *)s, &ep, r->cloc);
    if (ep != (const char *)s + len)
        return 1;
    *f = v;
    return 0;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* two digits at s, or -1 */
static inline int two(const uint8_t *s)
{
    unsigned a = (unsigned)s[0] - '0', b = (unsigned)s[1] - '0';
    return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* [-]YYYY[Y...]-MM-DD at s[0 ..): day number, length consumed (0 = no
 * date). 2 in *bad for a date out of the int32 range, 1 for an invalid one. */
static size_t parse_ymd(const uint8_t *s, size_t len, int64_t *day, int *bad)
{
    size_t i = 0;
    int neg = len > 0 && s[0] == '-';
    i = (size_t)neg;
    int64_t y = 0;
    size_t k = 0;
    while (i < len && (unsigned)s[i] - '0' <= 9 && k < 10) {
        y = y * 10 + (s[i] - '0');
        i++;
        k++;
    }
    if (k < 4 || len - i < 6 || s[i] != '-' || s[i + 3] != '-')
        return 0;
    int m = two(s + i + 1), d = two(s + i + 4);
    if (m < 0 || d < 0)
        return 0;
    y = neg ? -y : y;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *bad = 1;
        return i + 6;
    }
    *day = tl_days_from_civil(y, m, d);
    *bad = 0;
    return i + 6;
}

/* 0 ok, 1 syntax, 2 out of range, 3 invalid date */
static int parse_date(const uint8_t *s, size_t len, int32_t *out)
{
    int64_t day = 0;
    int bad = 0;
    size_t n = parse_ymd(s, len, &day, &bad);
    if (n == 0 || n != len)
        return 1;
    if (bad)
        return 3;
    if (day < INT32_MIN || day > INT32_MAX)
        return 2;
    *out = (int32_t)day;
    return 0;
}

/* Integer ns (us = 0) or µs (us = 1, timestamp_us), or ISO 8601. With us
 * the date may also have a leading '-' and more than four year digits (as
 * tl_fmt_timestamp_us prints far years) and the time must be a whole
 * microsecond. 0 ok, 1 syntax, 2 out of range, 3 invalid date or time,
 * 4 (us) nanoseconds below the microsecond. */
static int parse_timestamp(const uint8_t *s, size_t len, int us, int64_t *out)
{
    int neg;
    uint64_t mag;
    int rc = parse_int(s, len, &neg, &mag);
    if (rc == 0)
        return to_signed(neg, mag, INT64_MIN, INT64_MAX, out) ? 0 : 2;
    if (rc == 2)
        return 2;
    if (len < 10 || (!us && s[0] == '-') || s[0] == '+')
        return 1;
    int64_t day = 0;
    int bad = 0;
    size_t i = parse_ymd(s, len, &day, &bad);
    if (us ? i < 10 : i != 10) /* four-digit years only, but for us */
        return 1;
    int64_t tod = 0, off_s = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return 1;
        i++;
        if (len - i < 8 || s[i + 2] != ':' || s[i + 5] != ':')
            return 1;
        int h = two(s + i), mi = two(s + i + 3), sec = two(s + i + 6);
        if (h < 0 || mi < 0 || sec < 0)
            return 1;
        if (h > 23 || mi > 59 || sec > 59)
            bad = 1;
        tod = ((int64_t)h * 3600 + mi * 60 + sec) * TL_NS_PER_S;
        i += 8;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            i++;
            int64_t frac = 0;
            int k = 0;
            while (i < len && (unsigned)s[i] - '0' <= 9 && k < 10) {
                frac = frac * 10 + (s[i] - '0');
                i++;
                k++;
            }
            if (k == 0 || k > 9)
                return 1;
            for (; k < 9; k++)
                frac *= 10;
            tod += frac;
        }
        if (i < len) {
            if (s[i] == 'Z' || s[i] == 'z')
                i++;
            else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i] == '-' ? -1 : 1;
                i++;
                if (len - i < 2)
                    return 1;
                int oh = two(s + i), om = 0;
                if (oh < 0)
                    return 1;
                i += 2;
                if (i < len) { /* +HH, +HH:MM or +HHMM */
                    if (s[i] == ':')
                        i++;
                    if (len - i != 2 || (om = two(s + i)) < 0)
                        return 1;
                    i += 2;
                }
                if (oh > 23 || om > 59)
                    bad = 1;
                off_s = sign * ((int64_t)oh * 3600 + om * 60);
            } else
                return 1;
        }
        if (i != len)
            return 1;
    }
    if (bad)
        return 3;
    /* exact in 128 bits: day * 86400e9 alone leaves int64 at both ends */
    __int128 ns = (__int128)day * TL_NS_PER_DAY + tod - (__int128)off_s * TL_NS_PER_S;
    if (us) {
        if (ns % 1000 != 0)
            return 4;
        ns /= 1000;
    }
    if (ns < INT64_MIN || ns > INT64_MAX)
        return 2;
    *out = (int64_t)ns;
    return 0;
}

/* ---- records --------------------------------------------------------------- */

/* Store field text s[0 .. len) as row `row` of c. */
TL_WUR static inline int put_value(tl_csv_reader *r, csv_col *c, uint32_t row, const uint8_t *s,
                                   size_t len, int quoted, uint64_t line, tl_error *e)
{
    uint8_t *bm = c->validity + (row >> 3);
    uint8_t bit = (uint8_t)(1u << (row & 7));
    if (len == 0 && !(quoted && c->type == TL_STRING)) {
        if (!c->nullable)
            return field_error(r, line, c, s, 0, e,
                               "expected a value (the column is not nullable)");
        *bm &= (uint8_t)~bit;
        c->any_null = 1;
        if (c->type == TL_STRING)
            c->offsets[row + 1] = (uint32_t)c->data_len;
        else
            memset(c->values + (size_t)row * c->width, 0, c->width);
        return TL_OK;
    }
    *bm |= bit;
    void *slot = c->values ? c->values + (size_t)row * c->width : NULL; /* NULL: strings */
    int neg, rc;
    uint64_t mag;
    int64_t v;
    switch (c->type) {
    case TL_BOOL: {
        uint8_t b;
        if (len == 1 && (s[0] == '0' || s[0] == '1'))
            b = s[0] == '1';
        else if (ieq(s, len, "true"))
            b = 1;
        else if (ieq(s, len, "false"))
            b = 0;
        else
            return field_error(r, line, c, s, len, e, "expected true, false, 1 or 0");
        *(uint8_t *)slot = b;
        return TL_OK;
    }
    case TL_INT8:
    case TL_INT16:
    case TL_INT32:
    case TL_INT64: {
        int bits = 8 * (int)c->width;
        int64_t hi = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1, lo = -hi - 1;
        rc = parse_int(s, len, &neg, &mag);
        if (rc == 1)
            return field_error(r, line, c, s, len, e, "expected an integer");
        if (rc == 2 || !to_signed(neg, mag, lo, hi, &v))
            return field_error(r, line, c, s, len, e,
                               "expected an integer in %" PRId64 "..%" PRId64, lo, hi);
        switch (bits) {
        case 8: *(int8_t *)slot = (int8_t)v; break;
        case 16: *(int16_t *)slot = (int16_t)v; break;
        case 32: *(int32_t *)slot = (int32_t)v; break;
        default: *(int64_t *)slot = v; break;
        }
        return TL_OK;
    }
    case TL_UINT8:
    case TL_UINT16:
    case TL_UINT32:
    case TL_UINT64: {
        int bits = 8 * (int)c->width;
        uint64_t hi = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        rc = parse_int(s, len, &neg, &mag);
        if (rc == 1)
            return field_error(r, line, c, s, len, e, "expected an integer");
        if (rc == 2 || mag > hi || (neg && mag != 0))
            return field_error(r, line, c, s, len, e, "expected an integer in 0..%" PRIu64, hi);
        switch (bits) {
        case 8: *(uint8_t *)slot = (uint8_t)mag; break;
        case 16: *(uint16_t *)slot = (uint16_t)mag; break;
        case 32: *(uint32_t *)slot = (uint32_t)mag; break;
        default: *(uint64_t *)slot = mag; break;
        }
        return TL_OK;
    }
    case TL_FLOAT32:
    case TL_FLOAT64: {
        double d = 0;
        float f = 0;
        if (parse_float(r, s, len, c->type == TL_FLOAT32, &d, &f) != 0)
            return field_error(r, line, c, s, len, e,
                               "expected a decimal number (digits, optional fraction and "
                               "exponent), inf or nan");
        if (c->type == TL_FLOAT32)
            memcpy(slot, &f, 4);
        else
            memcpy(slot, &d, 8);
        return TL_OK;
    }
    case TL_TIMESTAMP_US:
        rc = parse_timestamp(s, len, 1, &v);
        if (rc == 1)
            return field_error(r, line, c, s, len, e,
                               "expected integer microseconds or [-]YYYY-MM-DD[ |T]HH:MM:SS"
                               "[.ffffff][Z|+HH:MM]");
        if (rc == 3)
            return field_error(r, line, c, s, len, e, "expected a valid date and time");
        if (rc == 4)
            return field_error(r, line, c, s, len, e,
                               "expected a whole microsecond (timestamp_us), found "
                               "nanoseconds below it");
        if (rc == 2)
            return field_error(r, line, c, s, len, e,
                               "expected a time in -290308-12-21 19:59:05.224192.."
                               "294247-01-10 04:00:54.775807 (int64 microseconds)");
        memcpy(slot, &v, 8);
        return TL_OK;
    case TL_TIMESTAMP:
        rc = parse_timestamp(s, len, 0, &v);
        if (rc == 1)
            return field_error(r, line, c, s, len, e,
                               "expected integer nanoseconds or YYYY-MM-DDTHH:MM:SS[.fraction]"
                               "[Z|+HH:MM]");
        if (rc == 3)
            return field_error(r, line, c, s, len, e, "expected a valid date and time");
        if (rc == 2)
            return field_error(r, line, c, s, len, e,
                               "expected a time in 1677-09-21T00:12:43.145224192Z.."
                               "2262-04-11T23:47:16.854775807Z (int64 nanoseconds)");
        memcpy(slot, &v, 8);
        return TL_OK;
    case TL_DATE: {
        int32_t day = 0;
        rc = parse_date(s, len, &day);
        if (rc == 1)
            return field_error(r, line, c, s, len, e, "expected a date YYYY-MM-DD");
        if (rc == 3)
            return field_error(r, line, c, s, len, e, "expected a valid date");
        if (rc == 2)
            return field_error(r, line, c, s, len, e,
                               "expected a date within int32 days of 1970-01-01");
        memcpy(slot, &day, 4);
        return TL_OK;
    }
    case TL_STRING:
        if (len > c->data_cap - c->data_len &&
            tl_grow((void **)&c->data, &c->data_cap, c->data_len + len) != TL_OK)
            return tl_error_set(e, TL_ENOMEM,
                                "%s: line %" PRIu64 ": column '%s': no memory for %zu bytes of "
                                "strings",
                                r->name, line, c->name, c->data_len + len);
        memcpy(c->data + c->data_len, s, len);
        c->data_len += len;
        c->offsets[row + 1] = (uint32_t)c->data_len;
        return TL_OK;
    default:
        return tl_error_set(e, TL_EINVAL, "%s: column '%s': unknown type %d", r->name, c->name,
                            (int)c->type);
    }
}

/* Fast paths for the common unquoted numbers, parsed straight from the
 * buffer while finding their end: plain decimals of at most 18 digits
 * (integers, integer timestamps) and [-]digits[.digits] floats within
 * Clinger's exact range. Stores the value and returns the byte after the
 * text; sets *ok = 0 (nothing stored) when the text needs the general
 * parser (put_value), which also writes every error message. */
static inline const uint8_t *fast_number(const csv_col *c, const uint8_t *p, void *slot, int *ok)
{
    int neg = *p == '-';
    const uint8_t *d0 = p + neg, *q = d0;
    uint64_t w = 0;
    while ((unsigned)*q - '0' <= 9)
        w = w * 10 + (unsigned)(*q++ - '0');
    size_t ni = (size_t)(q - d0);
    *ok = 0;
    if (c->fast <= FAST_F32) {
        size_t nf = 0;
        if (*q == '.') {
            const uint8_t *f0 = ++q;
            while ((unsigned)*q - '0' <= 9)
                w = w * 10 + (unsigned)(*q++ - '0');
            nf = (size_t)(q - f0);
        }
        if (ni + nf == 0 || ni + nf > 19)
            return q;
        if (c->fast == FAST_F64) {
            if (w > (UINT64_C(1) << 53) || nf > 22)
                return q;
            double v;
            if (nf == 0)
                v = (double)w;
            else if (nf <= 2 && w < (UINT64_C(1) << 27)) /* cents: w/10 == 10w/100 */
                v = tl_cents_to_f64((double)(nf == 1 ? w * 10 : w));
            else
                v = (double)w / p10d[nf];
            v = neg ? -v : v;
            memcpy(slot, &v, 8);
        } else {
            if (w > (UINT64_C(1) << 24) || nf > 10)
                return q;
            float v = nf ? (float)w / p10f[nf] : (float)w;
            v = neg ? -v : v;
            memcpy(slot, &v, 4);
        }
        *ok = 1;
        return q;
    }
    if (ni == 0 || ni > 18)
        return q;
    if (c->fast == FAST_UINT) {
        if (neg && w != 0)
            return q;
        switch (c->width) {
        case 1: if (w > UINT8_MAX) return q; *(uint8_t *)slot = (uint8_t)w; break;
        case 2: if (w > UINT16_MAX) return q; *(uint16_t *)slot = (uint16_t)w; break;
        case 4: if (w > UINT32_MAX) return q; *(uint32_t *)slot = (uint32_t)w; break;
        default: *(uint64_t *)slot = w; break;
        }
        *ok = 1;
        return q;
    }
    int64_t v = neg ? -(int64_t)w : (int64_t)w;
    switch (c->width) {
    case 1: if (v < INT8_MIN || v > INT8_MAX) return q; *(int8_t *)slot = (int8_t)v; break;
    case 2: if (v < INT16_MIN || v > INT16_MAX) return q; *(int16_t *)slot = (int16_t)v; break;
    case 4: if (v < INT32_MIN || v > INT32_MAX) return q; *(int32_t *)slot = (int32_t)v; break;
    default: *(int64_t *)slot = v; break;
    }
    *ok = 1;
    return q;
}

/* One record into row `row`. TL_OK, NEED_MORE, ROW_BLANK, ROW_END or an
 * error. Consumes input (pos, line) only on TL_OK and ROW_BLANK. */
TL_WUR static int parse_row(tl_csv_reader *r, uint32_t row, tl_error *e)
{
    const uint8_t *p = r->buf + r->pos, *end = r->buf + r->end;
    uint64_t line = r->line;
    if (p == end)
        return r->eof ? ROW_END : NEED_MORE;
    if (r->n_hdr > 1 && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))) {
        r->pos += *p == '\n' ? 1 : 2;
        r->line++;
        return ROW_BLANK;
    }
    for (uint32_t k = 0; k < r->n_str; k++) {
        csv_col *c = &r->cols[r->str_cols[k]];
        c->data_len = c->offsets[row];
    }
    for (uint32_t i = 0; i < r->n_hdr; i++) {
        csv_col *c = &r->cols[r->hdr_col[i]];
        const uint8_t *s = NULL;
        size_t len = 0;
        int quoted = 0, eor = 0;
        uint64_t fline = line;
        int rc, ok = 0;
        if (c->fast && *p != '"') {
            const uint8_t *q = fast_number(c, p, c->values + (size_t)row * c->width, &ok);
            if (!special[*q]) { /* not a plain number: the general parser decides */
                ok = 0;
                while (!special[*q])
                    q++;
            }
            s = p;
            len = (size_t)(q - p);
            rc = term(r, &q, &line, c, s, len, 0, &eor, e);
            p = q;
        } else
            rc = scan_field(r, &p, &line, c, &s, &len, &quoted, &eor, e);
        if (rc != TL_OK)
            return rc;
        if (eor != (i + 1 == r->n_hdr)) {
            if (eor)
                return tl_error_set(e, TL_EINVAL,
                                    "%s: line %" PRIu64 ": expected %u fields (as in the "
                                    "header), found %u",
                                    r->name, fline, r->n_hdr, i + 1);
            return tl_error_set(e, TL_EINVAL,
                                "%s: line %" PRIu64 ": expected %u fields (as in the header), "
                                "found more",
                                r->name, fline, r->n_hdr);
        }
        if (ok) {
            c->validity[row >> 3] |= (uint8_t)(1u << (row & 7));
            continue;
        }
        rc = put_value(r, c, row, s, len, quoted, fline, e);
        if (rc != TL_OK)
            return rc;
    }
    r->pos = (size_t)(p - r->buf);
    r->line = line;
    return TL_OK;
}

/* The header line: map names to schema columns. */
TL_WUR static int parse_header(tl_csv_reader *r, tl_error *e)
{
    for (;;) {
        const uint8_t *p = r->buf + r->pos;
        uint64_t line = r->line;
        if (p == r->buf + r->end) {
            if (r->eof)
                return tl_error_set(e, TL_EINVAL,
                                    "%s: line 1: expected a header line naming the columns, "
                                    "found an empty file",
                                    r->name);
            if (refill(r, e) != TL_OK)
                return e->code;
            continue;
        }
        for (uint32_t c = 0; c < r->n_cols; c++)
            r->cols[c].present = 0;
        uint32_t nh = 0;
        int rc = TL_OK, eor = 0;
        while (!eor) {
            const uint8_t *s = NULL;
            size_t len = 0;
            int quoted = 0;
            rc = scan_field(r, &p, &line, NULL, &s, &len, &quoted, &eor, e);
            if (rc != TL_OK)
                break;
            uint32_t c = 0;
            while (c < r->n_cols &&
                   !(strlen(r->defs[c].name) == len && memcmp(r->defs[c].name, s, len) == 0))
                c++;
            if (c == r->n_cols) {
                char list[300], name[4 * SHOW_MAX + 8];
                size_t n = 0;
                list[0] = 0;
                for (uint32_t k = 0; k < r->n_cols && n + 1 < sizeof list; k++) {
                    int w = snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "",
                                     r->defs[k].name);
                    n += w > 0 ? (size_t)w : 0;
                }
                if (n >= sizeof list)
                    memcpy(list + sizeof list - 4, "...", 4);
                show(name, sizeof name, s, len);
                return tl_error_set(e, TL_EINVAL,
                                    "%s: line 1: unknown column '%s' (the table has: %s)",
                                    r->name, name, list);
            }
            if (r->cols[c].present) {
                uint32_t first = 0;
                while (r->hdr_col[first] != c)
                    first++;
                return tl_error_set(e, TL_EINVAL,
                                    "%s: line 1: expected each column once, found '%s' twice "
                                    "(header fields %u and %u)",
                                    r->name, r->defs[c].name, first + 1, nh + 1);
            }
            r->cols[c].present = 1;
            r->hdr_col[nh++] = c;
        }
        if (rc == NEED_MORE) {
            if (refill(r, e) != TL_OK)
                return e->code;
            continue;
        }
        if (rc != TL_OK)
            return rc;
        r->n_hdr = nh;
        r->pos = (size_t)(p - r->buf);
        r->line = line;
        return TL_OK;
    }
}

/* ---- open / next / close --------------------------------------------------- */

TL_WUR static int setup_columns(tl_csv_reader *r, const tl_coldef *defs, const uint8_t *nullable,
                                tl_error *e)
{
    size_t names = 0;
    for (uint32_t c = 0; c < r->n_cols; c++) {
        if (!defs[c].name)
            return tl_error_set(e, TL_EINVAL, "%s: schema column %u has no name", r->name, c);
        if (defs[c].type < 1 || defs[c].type > TL_TYPE_MAX)
            return tl_error_set(e, TL_EINVAL,
                                "%s: schema column '%s': expected a type 1..%d, found %d",
                                r->name, defs[c].name, TL_TYPE_MAX, (int)defs[c].type);
        for (uint32_t k = 0; k < c; k++)
            if (strcmp(defs[k].name, defs[c].name) == 0)
                return tl_error_set(e, TL_EINVAL, "%s: schema names column '%s' twice",
                                    r->name, defs[c].name);
        names += strlen(defs[c].name) + 1;
    }
    r->defs = calloc(r->n_cols, sizeof *r->defs);
    r->name_store = malloc(names);
    r->cols = calloc(r->n_cols, sizeof *r->cols);
    r->vecs = calloc(r->n_cols, sizeof *r->vecs);
    r->hdr_col = calloc(r->n_cols, sizeof *r->hdr_col);
    r->str_cols = calloc(r->n_cols, sizeof *r->str_cols);
    if (!r->defs || !r->name_store || !r->cols || !r->vecs || !r->hdr_col || !r->str_cols)
        return tl_error_set(e, TL_ENOMEM, "%s: no memory for %u columns", r->name, r->n_cols);
    char *q = r->name_store;
    for (uint32_t c = 0; c < r->n_cols; c++) {
        size_t n = strlen(defs[c].name) + 1;
        memcpy(q, defs[c].name, n);
        r->defs[c].name = q;
        r->defs[c].type = defs[c].type;
        r->cols[c].name = q;
        r->cols[c].type = defs[c].type;
        r->cols[c].nullable = nullable ? nullable[c] != 0 : 1;
        r->cols[c].width = (uint32_t)tl_type_width(defs[c].type);
        tl_type t = defs[c].type;
        r->cols[c].fast = t == TL_FLOAT64 ? FAST_F64
                          : t == TL_FLOAT32 ? FAST_F32
                          : tl_type_is_unsigned_int(t) && t != TL_BOOL ? FAST_UINT
                          : tl_type_is_signed_int(t) && t != TL_DATE ? FAST_INT
                                                                      : 0;
        q += n;
    }
    return TL_OK;
}

TL_WUR static int alloc_buffers(tl_csv_reader *r, tl_error *e)
{
    size_t rows = r->batch_rows, absent = 0;
    for (uint32_t c = 0; c < r->n_cols; c++) {
        csv_col *col = &r->cols[c];
        if (!col->present) {
            absent = 1;
            continue;
        }
        col->validity = calloc((rows + 7) / 8, 1);
        int ok = col->validity != NULL;
        if (col->type == TL_STRING) {
            r->str_cols[r->n_str++] = c;
            col->offsets = malloc((rows + 1) * sizeof(uint32_t));
            col->data_cap = 1u << 16;
            col->data = malloc(col->data_cap);
            ok = ok && col->offsets && col->data;
            if (col->offsets)
                col->offsets[0] = 0;
        } else {
            col->values = malloc(rows * col->width);
            ok = ok && col->values;
        }
        if (!ok)
            return tl_error_set(e, TL_ENOMEM, "%s: no memory for %zu rows of column '%s'",
                                r->name, rows, col->name);
    }
    if (absent) {
        size_t z = (rows + 1) * 8;
        r->zeros = calloc(z, 1);
        if (!r->zeros)
            return tl_error_set(e, TL_ENOMEM, "%s: no memory for the absent columns", r->name);
    }
    return TL_OK;
}

TL_WUR static int open_common(tl_csv_reader *r, const tl_coldef *defs, uint32_t n,
                              const tl_csv_opts *o, tl_error *e)
{
    uint32_t batch = o && o->batch_rows ? o->batch_rows : TL_CSV_DEFAULT_BATCH_ROWS;
    if (batch > MAX_BATCH_ROWS)
        return tl_error_set(e, TL_EINVAL, "%s: batch_rows: expected at most %u, found %u",
                            r->name, MAX_BATCH_ROWS, batch);
    r->batch_rows = batch;
    r->chunk = o && o->chunk_bytes ? o->chunk_bytes : TL_CSV_DEFAULT_CHUNK;
    if (r->chunk > TL_CSV_MAX_RECORD)
        r->chunk = TL_CSV_MAX_RECORD;
    r->line = 1;
    r->n_cols = n;
    int rc = setup_columns(r, defs, o ? o->nullable : NULL, e);
    if (rc != TL_OK)
        return rc;
    r->cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (r->cloc == (locale_t)0)
        return tl_error_sys(e, errno ? errno : ENOMEM, "%s: cannot create the C locale", r->name);
    r->cap = r->chunk;
    r->buf = malloc(r->cap + 1);
    if (!r->buf)
        return tl_error_set(e, TL_ENOMEM, "%s: no memory for a %zu-byte read buffer", r->name,
                            r->cap);
    r->buf[0] = 0;
    /* UTF-8 BOM */
    while (r->end < 3 && !r->eof)
        if ((rc = refill(r, e)) != TL_OK)
            return rc;
    if (r->end >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    if ((rc = parse_header(r, e)) != TL_OK)
        return rc;
    for (uint32_t c = 0; c < n; c++)
        if (!r->cols[c].present && !r->cols[c].nullable)
            return tl_error_set(e, TL_EINVAL, "%s: line 1: missing non-nullable column '%s'",
                                r->name, r->cols[c].name);
    r->consumed = r->base + r->pos;
    return alloc_buffers(r, e);
}

static tl_csv_reader *new_reader(const char *name)
{
    tl_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = -1;
    r->name = strdup(name);
    if (!r->name) {
        free(r);
        return NULL;
    }
    return r;
}

static int finish_open(tl_csv_reader *r, int rc, tl_csv_reader **out, tl_error *e, tl_error *err)
{
    if (rc != TL_OK) {
        tl_csv_close(r);
        if (err)
            *err = *e;
        return rc;
    }
    *out = r;
    return TL_OK;
}

int tl_csv_open(const char *path, const tl_coldef *defs, uint32_t n, const tl_csv_opts *o,
                tl_csv_reader **out, tl_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out || (n > 0 && !defs) || n == 0)
        return tl_error_set(err, TL_EINVAL, "tl_csv_open: %s",
                            !path ? "path is NULL" : !out ? "out is NULL" : "no columns");
    int is_stdin = strcmp(path, "-") == 0;
    tl_csv_reader *r = new_reader(is_stdin ? "stdin" : path);
    if (!r)
        return tl_error_set(err, TL_ENOMEM, "%s: no memory for a CSV reader", path);
    tl_error e = {0};
    int rc = TL_OK;
    if (is_stdin)
        r->fd = STDIN_FILENO;
    else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            int en = errno;
            rc = en == ENOENT ? tl_error_set(&e, TL_ENOTFOUND, "%s: no such file", path)
                              : tl_error_sys(&e, en, "%s: cannot open", path);
            r->fd = -1;
            return finish_open(r, rc, out, &e, err);
        }
        r->own_fd = 1;
    }
    struct stat st;
    if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode))
        r->file_size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
    if (r->file_size)
        (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    rc = open_common(r, defs, n, o, &e);
    return finish_open(r, rc, out, &e, err);
}

int tl_csv_open_mem(const void *data, size_t len, const char *name, const tl_coldef *defs,
                    uint32_t n, const tl_csv_opts *o, tl_csv_reader **out, tl_error *err)
{
    if (out)
        *out = NULL;
    if ((!data && len) || !out || !defs || n == 0)
        return tl_error_set(err, TL_EINVAL, "tl_csv_open_mem: %s",
                            !out ? "out is NULL" : !defs || !n ? "no columns" : "data is NULL");
    tl_csv_reader *r = new_reader(name ? name : "memory");
    if (!r)
        return tl_error_set(err, TL_ENOMEM, "%s: no memory for a CSV reader",
                            name ? name : "memory");
    r->mem = data;
    r->mem_len = len;
    r->file_size = len;
    tl_error e = {0};
    int rc = open_common(r, defs, n, o, &e);
    return finish_open(r, rc, out, &e, err);
}

TL_WUR static int next_rows(tl_csv_reader *r, uint32_t *n_rows, tl_error *e)
{
    uint32_t rows = 0;
    for (uint32_t k = 0; k < r->n_str; k++)
        r->cols[r->str_cols[k]].data_len = 0;
    for (uint32_t c = 0; c < r->n_cols; c++)
        r->cols[c].any_null = 0;
    while (rows < r->batch_rows && !r->done) {
        int full = 0;
        for (uint32_t k = 0; k < r->n_str; k++) /* offsets stay below 4 GiB */
            full |= r->cols[r->str_cols[k]].data_len > UINT32_MAX - TL_CSV_MAX_RECORD;
        if (full)
            break;
        int rc = parse_row(r, rows, e);
        if (rc == TL_OK)
            rows++;
        else if (rc == NEED_MORE) {
            if ((rc = refill(r, e)) != TL_OK)
                return rc;
        } else if (rc == ROW_END)
            r->done = 1;
        else if (rc != ROW_BLANK)
            return rc;
    }
    *n_rows = rows;
    return TL_OK;
}

int tl_csv_next(tl_csv_reader *r, tl_batch *batch, tl_error *err)
{
    if (!r || !batch)
        return tl_error_set(err, TL_EINVAL, "tl_csv_next: %s is NULL", r ? "batch" : "reader");
    memset(batch, 0, sizeof *batch);
    if (r->failed) {
        if (err)
            *err = r->saved;
        return r->saved.code;
    }
    tl_error e = {0};
    uint32_t rows = 0;
    int rc = next_rows(r, &rows, &e);
    if (rc != TL_OK) {
        r->failed = 1;
        r->saved = e;
        if (err)
            *err = e;
        return rc;
    }
    r->consumed = r->base + r->pos;
    for (uint32_t c = 0; c < r->n_cols; c++) {
        csv_col *col = &r->cols[c];
        tl_colvec *v = &r->vecs[c];
        if (!col->present) {
            v->values = r->zeros;
            v->validity = r->zeros;
            v->offsets = (const uint32_t *)r->zeros;
            v->data = r->zeros;
            continue;
        }
        v->validity = col->any_null ? col->validity : NULL;
        if (col->type == TL_STRING) {
            v->values = NULL;
            v->offsets = col->offsets;
            v->data = col->data;
        } else
            v->values = col->values;
    }
    batch->n_rows = rows;
    batch->n_cols = r->n_cols;
    batch->defs = r->defs;
    batch->cols = r->vecs;
    return TL_OK;
}

uint64_t tl_csv_bytes_read(const tl_csv_reader *r)
{
    return r ? r->consumed : 0;
}

uint64_t tl_csv_file_size(const tl_csv_reader *r)
{
    return r ? r->file_size : 0;
}

void tl_csv_close(tl_csv_reader *r)
{
    if (!r)
        return;
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    if (r->cloc != (locale_t)0)
        freelocale(r->cloc);
    if (r->cols)
        for (uint32_t c = 0; c < r->n_cols; c++) {
            free(r->cols[c].values);
            free(r->cols[c].validity);
            free(r->cols[c].offsets);
            free(r->cols[c].data);
        }
    free(r->cols);
    free(r->vecs);
    free(r->defs);
    free(r->name_store);
    free(r->hdr_col);
    free(r->str_cols);
    free(r->zeros);
    free(r->buf);
    free(r->scratch);
    free(r->name);
    free(r);
}
