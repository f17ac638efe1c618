/*
 * pred.c - scan predicates: the --where language (grammar in pred_int.h and
 * spec/SCAN.md section 2), binding to a schema, pruning by zone information
 * and row evaluation into a selection bitmap.
 *
 * A predicate is a flat conjunction of terms (parentheses only group, and
 * AND is associative). Binding types every literal against its column and
 * compiles each term to one of a few forms, folding what the column's type
 * decides by itself:
 *   integer families (signed: int8..int64, date, timestamp, timestamp_us; unsigned:
 *   uint8..uint64, bool): RANGE [a, b] inclusive with a, b inside the
 *   type's range (=, <, <=, >, >=, BETWEEN), NE, IN / NOT IN (sorted,
 *   distinct, in range); a literal outside the type's range folds to
 *   FALSE (no row) or NOTNULL (every non-null row);
 *   floats: the IEEE comparisons on the value widened to double, IN / NOT
 *   IN (sorted, distinct, no NaN); a NaN literal folds (= < BETWEEN IN:
 *   FALSE; != and NOT IN: NOTNULL);
 *   strings: bytewise (memcmp, then shorter first) comparisons, IN / NOT IN.
 * Invariants: null rows satisfy only ISNULL; pruning (tl_pred_may_match)
 * answers 0 only when no row of the zone can satisfy some term, i.e. it is
 * never less permissive than tl_pred_eval (property-tested in
 * tests/engine/pred_test.c).
 *
 * Evaluation works on chunks of PRED_CHUNK rows: a byte per row (0/1) is
 * ANDed by each term with a typed, branch-free loop the compiler
 * vectorises, and the bytes are packed into the bitmap once at the end.
 */
#include "pred_int.h"

#include "civil_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRED_MAX_DEPTH 64
#define PRED_CHUNK 2048u /* rows per evaluation chunk (a multiple of 64) */
#define PRED_SMALL_IN 48u /* IN lists up to this size: one vector pass per value
                            (faster than a binary search per row up to ~64) */

typedef __int128 i128;

enum { FAM_S = 1, FAM_U = 2, FAM_F = 3, FAM_STR = 4 };

/* compiled forms */
enum {
    C_FALSE = 1,
    C_NOTNULL,
    C_ISNULL,
    C_RANGE, /* ints: a <= x <= b */
    C_EQ,    /* floats, strings */
    C_NE,
    C_LT,
    C_LE,
    C_GT,
    C_GE,
    C_BETWEEN, /* floats, strings: a <= x <= b */
    C_IN,
    C_NOTIN,
};

typedef struct sval {
    uint8_t *p;
    uint32_t len;
} sval;

typedef struct term {
    uint32_t field;
    tl_type type;
    int fam;
    int op;
    int64_t ia, ib;
    uint64_t ua, ub;
    double fa, fb;
    sval sa, sb;
    uint32_t n_list;
    int64_t *ilist;
    uint64_t *ulist;
    double *flist;
    sval *slist;
    char *text; /* the term as written (normalised), for describe */
} term;

struct tl_pred {
    uint32_t n_terms;
    term *terms;
    char *desc;
};

/* ---- small helpers ---------------------------------------------------------- */

static int fam_of(tl_type t)
{
    switch (t) {
    case TL_INT8: case TL_INT16: case TL_INT32: case TL_INT64: case TL_DATE:
    case TL_TIMESTAMP: case TL_TIMESTAMP_US:
        return FAM_S;
    case TL_UINT8: case TL_UINT16: case TL_UINT32: case TL_UINT64: case TL_BOOL:
        return FAM_U;
    case TL_FLOAT32: case TL_FLOAT64:
        return FAM_F;
    case TL_STRING:
        return FAM_STR;
    }
    return 0;
}

static void type_range(tl_type t, i128 *lo, i128 *hi)
{
    switch (t) {
    case TL_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case TL_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case TL_INT32: case TL_DATE: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case TL_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case TL_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case TL_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    case TL_UINT64: *lo = 0; *hi = (i128)UINT64_MAX; break;
    case TL_BOOL: *lo = 0; *hi = 1; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break; /* int64, timestamp(_us) */
    }
}

static int scmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
    uint32_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int is_ident_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
static int is_ident_char(int c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* ---- text buffer (describe) ------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->len + n + 1)
            c *= 2;
        char *q = realloc(b->p, c);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static const char *const keywords[] = {"and", "or", "not", "in", "between", "is",
                                       "null", "true", "false"};

static void sb_colname(sbuf *b, const char *name)
{
    size_t n = strlen(name);
    int plain = n > 0 && is_ident_start((unsigned char)name[0]);
    for (size_t i = 1; plain && i < n; i++)
        plain = is_ident_char((unsigned char)name[i]);
    for (size_t k = 0; plain && k < sizeof keywords / sizeof keywords[0]; k++)
        if (strlen(keywords[k]) == n && strncasecmp(keywords[k], name, n) == 0)
            plain = 0;
    if (plain) {
        sb_put(b, name, n);
        return;
    }
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++)
        sb_put(b, name[i] == '"' ? "\"\"" : name + i, name[i] == '"' ? 2 : 1);
    sb_put(b, "\"", 1);
}

/* ---- parser ----------------------------------------------------------------- */

typedef struct parser {
    const char *s;
    size_t len, pos;
    const tl_field *fields;
    uint32_t n_fields;
    tl_pred *p;
    uint32_t cap_terms;
    int depth;
    tl_error *err;
} parser;

typedef struct lit {
    int kind; /* L_INT (sign and digits), L_NUM (other numbers), L_STR, L_BOOL */
    i128 iv;  /* L_INT (clamped to +-2^65), L_BOOL */
    double dv; /* L_INT, L_NUM */
    uint8_t *str;
    uint32_t slen;
    size_t pos, end;
} lit;
enum { L_INT = 1, L_NUM, L_STR, L_BOOL };

#define I128_HUGE ((i128)1 << 65)

TL_PRINTF(3, 4) static int perr(parser *P, size_t at, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char snip[40];
    size_t k = 0;
    if (at >= P->len) {
        memcpy(snip, "end of text", 12);
    } else {
        for (size_t i = at; i < P->len && k < 24; i++) {
            unsigned char c = (unsigned char)P->s[i];
            snip[k++] = (c >= 0x20 && c < 0x7f && c != '`') ? (char)c : '?';
        }
        if (at + 24 < P->len) {
            memcpy(snip + k, "...", 3);
            k += 3;
        }
        snip[k] = 0;
    }
    return tl_error_set(P->err, TL_EINVAL, "where: at %zu (`%s`): %s", at, snip, what);
}

static void ws(parser *P)
{
    while (P->pos < P->len) {
        char c = P->s[P->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            P->pos++;
        else
            break;
    }
}

/* Keyword word at the current position (after blanks)? Consumes it if so. */
static int kw(parser *P, const char *word)
{
    ws(P);
    size_t n = strlen(word);
    if (P->pos + n > P->len || strncasecmp(P->s + P->pos, word, n) != 0)
        return 0;
    if (P->pos + n < P->len && is_ident_char((unsigned char)P->s[P->pos + n]))
        return 0;
    P->pos += n;
    return 1;
}

/* A column reference -> field index. */
static int parse_col(parser *P, uint32_t *field)
{
    ws(P);
    size_t at = P->pos;
    char name[256];
    size_t n = 0;
    if (at < P->len && P->s[at] == '"') {
        size_t i = at + 1;
        for (;;) {
            if (i >= P->len)
                return perr(P, at, "unterminated quoted column name (expected a closing \")");
            if (P->s[i] == '"') {
                if (i + 1 < P->len && P->s[i + 1] == '"') {
                    if (n < sizeof name - 1)
                        name[n] = '"';
                    n++;
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            if (n < sizeof name - 1)
                name[n] = P->s[i];
            n++;
            i++;
        }
        P->pos = i;
        if (n >= sizeof name)
            return perr(P, at, "column name longer than %zu bytes", sizeof name - 1);
    } else if (at < P->len && is_ident_start((unsigned char)P->s[at])) {
        size_t i = at;
        while (i < P->len && is_ident_char((unsigned char)P->s[i]))
            i++;
        n = i - at;
        if (n >= sizeof name)
            return perr(P, at, "column name longer than %zu bytes", sizeof name - 1);
        memcpy(name, P->s + at, n);
        P->pos = i;
    } else {
        return perr(P, at, "expected a column name or '('");
    }
    name[n] = 0;
    for (uint32_t k = 0; k < P->n_fields; k++) {
        if (P->fields[k].name && strlen(P->fields[k].name) == n &&
            memcmp(P->fields[k].name, name, n) == 0) {
            *field = k;
            return TL_OK;
        }
    }
    return perr(P, at, "no column named `%s` in the table", name);
}

static void lit_free(lit *l)
{
    free(l->str);
    l->str = NULL;
}

/* One literal at the current position. */
static int parse_lit(parser *P, lit *l)
{
    memset(l, 0, sizeof *l);
    ws(P);
    size_t at = P->pos;
    l->pos = at;
    if (at >= P->len)
        return perr(P, at, "expected a literal (number, 'string', true or false)");
    char c = P->s[at];
    if (c == '\'') {
        size_t i = at + 1, n = 0;
        /* first pass: length and end */
        for (;;) {
            if (i >= P->len)
                return perr(P, at, "unterminated string (expected a closing ')");
            if (P->s[i] == '\'') {
                if (i + 1 < P->len && P->s[i + 1] == '\'') {
                    n++;
                    i += 2;
                    continue;
                }
                break;
            }
            n++;
            i++;
        }
        l->str = malloc(n + 1);
        if (!l->str)
            return tl_error_set(P->err, TL_ENOMEM, "where: out of memory (string literal of %zu bytes)", n);
        size_t k = 0;
        for (size_t j = at + 1; j < i; j++) {
            l->str[k++] = (uint8_t)P->s[j];
            if (P->s[j] == '\'')
                j++;
        }
        l->str[k] = 0;
        l->slen = (uint32_t)n;
        l->kind = L_STR;
        P->pos = i + 1;
        l->end = P->pos;
        return TL_OK;
    }
    if (kw(P, "true") || kw(P, "false")) {
        l->kind = L_BOOL;
        l->iv = (P->s[at] == 't' || P->s[at] == 'T');
        l->end = P->pos;
        return TL_OK;
    }
    if (kw(P, "null"))
        return perr(P, at, "null is not a literal (use IS NULL / IS NOT NULL)");
    size_t i = at;
    int neg = 0;
    if (i < P->len && (P->s[i] == '+' || P->s[i] == '-')) {
        neg = P->s[i] == '-';
        i++;
    }
    /* inf, infinity, nan */
    static const char *const special[] = {"infinity", "inf", "nan"};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(special[k]);
        if (i + n <= P->len && strncasecmp(P->s + i, special[k], n) == 0 &&
            !(i + n < P->len && is_ident_char((unsigned char)P->s[i + n]))) {
            l->kind = L_NUM;
            l->dv = k < 2 ? (neg ? -INFINITY : INFINITY) : NAN;
            P->pos = i + n;
            l->end = P->pos;
            return TL_OK;
        }
    }
    size_t d0 = i;
    while (i < P->len && is_digit((unsigned char)P->s[i]))
        i++;
    size_t nd = i - d0;
    int is_int = 1;
    size_t frac = 0;
    if (i < P->len && P->s[i] == '.') {
        is_int = 0;
        i++;
        size_t f0 = i;
        while (i < P->len && is_digit((unsigned char)P->s[i]))
            i++;
        frac = i - f0;
    }
    if (nd + frac == 0)
        return perr(P, at, "expected a literal (number, 'string', true or false)");
    if (i < P->len && (P->s[i] == 'e' || P->s[i] == 'E')) {
        size_t e = i + 1;
        if (e < P->len && (P->s[e] == '+' || P->s[e] == '-'))
            e++;
        if (e >= P->len || !is_digit((unsigned char)P->s[e]))
            return perr(P, i, "expected the digits of an exponent");
        while (e < P->len && is_digit((unsigned char)P->s[e]))
            e++;
        i = e;
        is_int = 0;
    }
    if (i < P->len && (is_ident_char((unsigned char)P->s[i]) || P->s[i] == '.'))
        return perr(P, at, "malformed number");
    /* the double value: strtod on a bounded copy (the text may be long) */
    size_t tl = i - at;
    char small[128], *buf = small;
    if (tl + 1 > sizeof small) {
        buf = malloc(tl + 1);
        if (!buf)
            return tl_error_set(P->err, TL_ENOMEM, "where: out of memory (number of %zu bytes)", tl);
    }
    memcpy(buf, P->s + at, tl);
    buf[tl] = 0;
    l->dv = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    if (is_int) {
        l->kind = L_INT;
        i128 v = 0;
        for (size_t j = d0; j < d0 + nd; j++) {
            v = v * 10 + (P->s[j] - '0');
            if (v > I128_HUGE) {
                v = I128_HUGE;
                break;
            }
        }
        l->iv = neg ? -v : v;
    } else {
        l->kind = L_NUM;
    }
    P->pos = i;
    l->end = i;
    return TL_OK;
}

/* Fixed-count digits at s[*i]: value, or -1. */
static int digits(const uint8_t *s, uint32_t len, uint32_t *i, int count)
{
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (*i >= len || !is_digit(s[*i]))
            return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    return v;
}

/* 'YYYY-MM-DD' at s[*i] -> day number; 0 on success. wide (timestamp_us
 * literals): also an optional leading '-' and 5 or 6 year digits, as the
 * CSV writer prints far years (year 0 = 1 BC). */
static int parse_ymd_ex(const uint8_t *s, uint32_t len, uint32_t *i, int64_t *day, int wide)
{
    int neg = 0;
    if (wide && *i < len && s[*i] == '-') {
        neg = 1;
        (*i)++;
    }
    int y = digits(s, len, i, 4);
    for (int k = 0; wide && y >= 0 && k < 2 && *i < len && is_digit(s[*i]); k++)
        y = y * 10 + (s[(*i)++] - '0');
    if (y < 0 || *i >= len || s[(*i)++] != '-')
        return -1;
    if (neg)
        y = -y;
    int m = digits(s, len, i, 2);
    if (m < 1 || m > 12 || *i >= len || s[(*i)++] != '-')
        return -1;
    int d = digits(s, len, i, 2);
    if (d < 1 || d > 31)
        return -1;
    int64_t z = tl_days_from_civil(y, m, d);
    int64_t yy;
    int mm, dd;
    tl_civil_from_days(z, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d)
        return -1; /* e.g. 2025-02-30 */
    *day = z;
    return 0;
}

static int parse_ymd(const uint8_t *s, uint32_t len, uint32_t *i, int64_t *day)
{
    return parse_ymd_ex(s, len, i, day, 0);
}

/* Timestamp text -> ns (unclamped, as i128); 0 on success. wide: years as
 * parse_ymd_ex's (timestamp_us literals). */
static int parse_ts_text(const uint8_t *s, uint32_t len, i128 *ns, int wide)
{
    uint32_t i = 0;
    int64_t day;
    if (parse_ymd_ex(s, len, &i, &day, wide))
        return -1;
    i128 v = (i128)day * TL_NS_PER_DAY;
    if (i == len) {
        *ns = v;
        return 0;
    }
    if (s[i] != ' ' && s[i] != 'T' && s[i] != 't')
        return -1;
    i++;
    int hh = digits(s, len, &i, 2);
    if (hh < 0 || hh > 23 || i >= len || s[i++] != ':')
        return -1;
    int mi = digits(s, len, &i, 2);
    if (mi < 0 || mi > 59 || i >= len || s[i++] != ':')
        return -1;
    int ss = digits(s, len, &i, 2);
    if (ss < 0 || ss > 59)
        return -1;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && is_digit(s[i]) && nd < 9) {
            frac = frac * 10 + (s[i] - '0');
            i++;
            nd++;
        }
        if (nd == 0 || (i < len && is_digit(s[i])))
            return -1;
        for (; nd < 9; nd++)
            frac *= 10;
    }
    v += ((i128)hh * 3600 + mi * 60 + ss) * TL_NS_PER_S + frac;
    if (i < len) {
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1;
            i++;
            int oh = digits(s, len, &i, 2);
            if (oh < 0 || oh > 23 || i >= len || s[i++] != ':')
                return -1;
            int om = digits(s, len, &i, 2);
            if (om < 0 || om > 59)
                return -1;
            /* local = UTC + offset */
            v -= (i128)sign * ((i128)oh * 3600 + om * 60) * TL_NS_PER_S;
        } else {
            return -1;
        }
    }
    if (i != len)
        return -1;
    *ns = v;
    return 0;
}

/* A literal as an integer of f's family (signed/unsigned): *v (may lie
 * outside the type's range: the caller folds). */
static int lit_int(parser *P, const tl_field *f, const lit *l, i128 *v)
{
    const char *tn = tl_type_name(f->type);
    if (l->kind == L_INT) {
        *v = l->iv;
        return TL_OK;
    }
    if (l->kind == L_BOOL) {
        if (f->type == TL_BOOL) {
            *v = l->iv;
            return TL_OK;
        }
        return perr(P, l->pos, "%s is %s, a boolean is not an integer", f->name, tn);
    }
    if (l->kind == L_STR) {
        if (f->type == TL_TIMESTAMP) {
            if (parse_ts_text(l->str, l->slen, v, 0) == 0)
                return TL_OK;
            return perr(P, l->pos,
                        "%s is timestamp: expected 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.fffffffff]"
                        "[Z|+hh:mm]' or integer nanoseconds", f->name);
        }
        if (f->type == TL_TIMESTAMP_US) {
            i128 ns;
            if (parse_ts_text(l->str, l->slen, &ns, 1) == 0) {
                if (ns % 1000 == 0) {
                    *v = ns / 1000;
                    return TL_OK;
                }
                return perr(P, l->pos,
                            "%s is timestamp_us: the literal has nanoseconds below the "
                            "microsecond (at most 6 fraction digits count)", f->name);
            }
            return perr(P, l->pos,
                        "%s is timestamp_us: expected '[-]YYYY-MM-DD', '[-]YYYY-MM-DD "
                        "HH:MM:SS[.ffffff][Z|+hh:mm]' or integer microseconds", f->name);
        }
        if (f->type == TL_DATE) {
            uint32_t i = 0;
            int64_t day;
            if (parse_ymd(l->str, l->slen, &i, &day) == 0 && i == l->slen) {
                *v = day;
                return TL_OK;
            }
            return perr(P, l->pos, "%s is date: expected 'YYYY-MM-DD' or integer days", f->name);
        }
        return perr(P, l->pos, "%s is %s, a string is not a number", f->name, tn);
    }
    return perr(P, l->pos, "%s is %s: expected an integer (no fraction, exponent, inf or nan)",
                f->name, tn);
}

static int lit_float(parser *P, const tl_field *f, const lit *l, double *v)
{
    if (l->kind == L_INT || l->kind == L_NUM) {
        *v = l->dv;
        return TL_OK;
    }
    return perr(P, l->pos, "%s is %s, %s is not a number", f->name, tl_type_name(f->type),
                l->kind == L_STR ? "a string" : "a boolean");
}

static int lit_str(parser *P, const tl_field *f, const lit *l)
{
    if (l->kind == L_STR)
        return TL_OK;
    return perr(P, l->pos, "%s is string: expected a 'quoted' literal", f->name);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}
static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_sval(const void *a, const void *b)
{
    const sval *x = a, *y = b;
    return scmp(x->p, x->len, y->p, y->len);
}

/* Set t to the int range [lo, hi] (literal bounds, unclamped), folded. */
static void fold_range(term *t, i128 lo, i128 hi)
{
    i128 tlo, thi;
    type_range(t->type, &tlo, &thi);
    if (lo < tlo)
        lo = tlo;
    if (hi > thi)
        hi = thi;
    if (lo > hi) {
        t->op = C_FALSE;
    } else if (lo == tlo && hi == thi) {
        t->op = C_NOTNULL;
    } else {
        t->op = C_RANGE;
        if (t->fam == FAM_S) {
            t->ia = (int64_t)lo;
            t->ib = (int64_t)hi;
        } else {
            t->ua = (uint64_t)lo;
            t->ub = (uint64_t)hi;
        }
    }
}

enum { O_EQ = 1, O_NE, O_LT, O_LE, O_GT, O_GE, O_IN, O_NOTIN, O_BETWEEN, O_ISNULL, O_NOTNULL };

/* Bind (field, written op, literals) into t. Takes ownership of nothing:
 * strings are copied into t. */
static int bind(parser *P, term *t, uint32_t field, int op, lit *ls, uint32_t n)
{
    const tl_field *f = &P->fields[field];
    t->field = field;
    t->type = f->type;
    t->fam = fam_of(f->type);
    if (!t->fam)
        return perr(P, ls && n ? ls[0].pos : P->pos, "column %s has an unknown type %d", f->name,
                    (int)f->type);
    if (op == O_ISNULL || op == O_NOTNULL) {
        t->op = op == O_ISNULL ? C_ISNULL : C_NOTNULL;
        return TL_OK;
    }
    if (t->fam == FAM_S || t->fam == FAM_U) {
        i128 v[2] = {0, 0};
        if (op == O_IN || op == O_NOTIN) {
            i128 tlo, thi;
            type_range(t->type, &tlo, &thi);
            void *arr = malloc(sizeof(int64_t) * n);
            if (!arr)
                return tl_error_set(P->err, TL_ENOMEM, "where: out of memory (IN list)");
            if (t->fam == FAM_S)
                t->ilist = arr;
            else
                t->ulist = arr;
            uint32_t k = 0;
            for (uint32_t j = 0; j < n; j++) {
                i128 x = 0;
                int rc = lit_int(P, f, &ls[j], &x);
                if (rc)
                    return rc;
                if (x < tlo || x > thi)
                    continue; /* can never be equal */
                if (t->fam == FAM_S)
                    t->ilist[k++] = (int64_t)x;
                else
                    t->ulist[k++] = (uint64_t)x;
            }
            if (t->fam == FAM_S) {
                qsort(t->ilist, k, 8, cmp_i64);
                uint32_t d = 0;
                for (uint32_t j = 0; j < k; j++)
                    if (d == 0 || t->ilist[d - 1] != t->ilist[j])
                        t->ilist[d++] = t->ilist[j];
                k = d;
            } else {
                qsort(t->ulist, k, 8, cmp_u64);
                uint32_t d = 0;
                for (uint32_t j = 0; j < k; j++)
                    if (d == 0 || t->ulist[d - 1] != t->ulist[j])
                        t->ulist[d++] = t->ulist[j];
                k = d;
            }
            t->n_list = k;
            if (k == 0) {
                t->op = op == O_IN ? C_FALSE : C_NOTNULL;
            } else if (k == 1) {
                i128 x = t->fam == FAM_S ? (i128)t->ilist[0] : (i128)t->ulist[0];
                if (op == O_IN) {
                    fold_range(t, x, x);
                } else {
                    t->op = C_NE;
                    t->ia = (int64_t)x;
                    t->ua = (uint64_t)x;
                }
            } else {
                t->op = op == O_IN ? C_IN : C_NOTIN;
            }
            return TL_OK;
        }
        for (uint32_t j = 0; j < n; j++) {
            int rc = lit_int(P, f, &ls[j], &v[j]);
            if (rc)
                return rc;
        }
        i128 tlo, thi;
        type_range(t->type, &tlo, &thi);
        switch (op) {
        case O_EQ: fold_range(t, v[0], v[0]); break;
        case O_LT: fold_range(t, tlo, v[0] - 1); break;
        case O_LE: fold_range(t, tlo, v[0]); break;
        case O_GT: fold_range(t, v[0] + 1, thi); break;
        case O_GE: fold_range(t, v[0], thi); break;
        case O_BETWEEN:
            if (v[0] > v[1])
                t->op = C_FALSE;
            else
                fold_range(t, v[0], v[1]);
            break;
        case O_NE:
            if (v[0] < tlo || v[0] > thi) {
                t->op = C_NOTNULL;
            } else {
                t->op = C_NE;
                t->ia = (int64_t)v[0];
                t->ua = (uint64_t)v[0];
            }
            break;
        }
        return TL_OK;
    }
    if (t->fam == FAM_F) {
        if (op == O_IN || op == O_NOTIN) {
            t->flist = malloc(sizeof(double) * n);
            if (!t->flist)
                return tl_error_set(P->err, TL_ENOMEM, "where: out of memory (IN list)");
            uint32_t k = 0;
            for (uint32_t j = 0; j < n; j++) {
                double x = 0;
                int rc = lit_float(P, f, &ls[j], &x);
                if (rc)
                    return rc;
                if (x != x)
                    continue; /* NaN equals nothing */
                t->flist[k++] = x == 0 ? 0.0 : x; /* -0 == 0 */
            }
            qsort(t->flist, k, 8, cmp_f64);
            uint32_t d = 0;
            for (uint32_t j = 0; j < k; j++)
                if (d == 0 || t->flist[d - 1] != t->flist[j])
                    t->flist[d++] = t->flist[j];
            t->n_list = d;
            if (d == 0)
                t->op = op == O_IN ? C_FALSE : C_NOTNULL;
            else if (d == 1) {
                t->op = op == O_IN ? C_EQ : C_NE;
                t->fa = t->flist[0];
            } else
                t->op = op == O_IN ? C_IN : C_NOTIN;
            return TL_OK;
        }
        double v[2] = {0, 0};
        for (uint32_t j = 0; j < n; j++) {
            int rc = lit_float(P, f, &ls[j], &v[j]);
            if (rc)
                return rc;
        }
        t->fa = v[0];
        t->fb = v[1];
        int nan = v[0] != v[0] || (op == O_BETWEEN && v[1] != v[1]);
        switch (op) {
        case O_EQ: t->op = C_EQ; break;
        case O_NE: t->op = C_NE; break;
        case O_LT: t->op = C_LT; break;
        case O_LE: t->op = C_LE; break;
        case O_GT: t->op = C_GT; break;
        case O_GE: t->op = C_GE; break;
        case O_BETWEEN: t->op = v[0] > v[1] ? C_FALSE : C_BETWEEN; break;
        }
        if (nan)
            t->op = op == O_NE ? C_NOTNULL : C_FALSE;
        return TL_OK;
    }
    /* strings */
    for (uint32_t j = 0; j < n; j++) {
        int rc = lit_str(P, f, &ls[j]);
        if (rc)
            return rc;
    }
    if (op == O_IN || op == O_NOTIN) {
        t->slist = calloc(n, sizeof(sval));
        if (!t->slist)
            return tl_error_set(P->err, TL_ENOMEM, "where: out of memory (IN list)");
        for (uint32_t j = 0; j < n; j++) { /* take the literal's bytes */
            t->slist[j].p = ls[j].str;
            t->slist[j].len = ls[j].slen;
            ls[j].str = NULL;
        }
        qsort(t->slist, n, sizeof(sval), cmp_sval);
        uint32_t d = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (d == 0 || cmp_sval(&t->slist[d - 1], &t->slist[j]) != 0)
                t->slist[d++] = t->slist[j];
            else
                free(t->slist[j].p);
        }
        t->n_list = d;
        t->op = op == O_IN ? C_IN : C_NOTIN;
        return TL_OK;
    }
    t->sa.p = ls[0].str;
    t->sa.len = ls[0].slen;
    ls[0].str = NULL;
    if (n > 1) {
        t->sb.p = ls[1].str;
        t->sb.len = ls[1].slen;
        ls[1].str = NULL;
    }
    switch (op) {
    case O_EQ: t->op = C_EQ; break;
    case O_NE: t->op = C_NE; break;
    case O_LT: t->op = C_LT; break;
    case O_LE: t->op = C_LE; break;
    case O_GT: t->op = C_GT; break;
    case O_GE: t->op = C_GE; break;
    case O_BETWEEN:
        t->op = scmp(t->sa.p, t->sa.len, t->sb.p, t->sb.len) > 0 ? C_FALSE : C_BETWEEN;
        break;
    }
    return TL_OK;
}

static void term_free(term *t)
{
    free(t->ilist);
    free(t->ulist);
    free(t->flist);
    if (t->slist)
        for (uint32_t j = 0; j < t->n_list; j++)
            free(t->slist[j].p);
    free(t->slist);
    free(t->sa.p);
    free(t->sb.p);
    free(t->text);
}

static const char *op_text(int op)
{
    static const char *const names[] = {"", "=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN",
                                        "BETWEEN", "IS NULL", "IS NOT NULL"};
    return names[op];
}

static const char *folded_note(const term *t, int op)
{
    if (t->op == C_FALSE)
        return " {never}";
    if (t->op == C_NOTNULL && op != O_NOTNULL)
        return " {any non-null}";
    return "";
}

static int parse_where(parser *P);

static int parse_term(parser *P)
{
    ws(P);
    size_t at = P->pos;
    if (at < P->len && P->s[at] == '(') {
        if (P->depth >= PRED_MAX_DEPTH)
            return perr(P, at, "parentheses nested deeper than %d", PRED_MAX_DEPTH);
        P->pos++;
        P->depth++;
        int rc = parse_where(P);
        if (rc)
            return rc;
        ws(P);
        if (P->pos >= P->len || P->s[P->pos] != ')')
            return perr(P, P->pos, "expected AND or ')' (the '(' at %zu is not closed)", at);
        P->pos++;
        P->depth--;
        return TL_OK;
    }
    uint32_t field = 0;
    int rc = parse_col(P, &field);
    if (rc)
        return rc;
    if (P->p->n_terms >= TL_PRED_MAX_TERMS)
        return perr(P, at, "more than %d terms", TL_PRED_MAX_TERMS);
    ws(P);
    size_t oppos = P->pos;
    int op = 0;
    const char *s = P->s + P->pos;
    size_t left = P->len - P->pos;
    if (kw(P, "is")) {
        op = kw(P, "not") ? O_NOTNULL : O_ISNULL;
        if (!kw(P, "null"))
            return perr(P, P->pos, "expected NULL after IS%s", op == O_NOTNULL ? " NOT" : "");
    } else if (kw(P, "not")) {
        if (!kw(P, "in"))
            return perr(P, P->pos, "expected IN after NOT");
        op = O_NOTIN;
    } else if (kw(P, "in")) {
        op = O_IN;
    } else if (kw(P, "between")) {
        op = O_BETWEEN;
    } else if (left >= 2 && (memcmp(s, "==", 2) == 0)) {
        op = O_EQ, P->pos += 2;
    } else if (left >= 2 && (memcmp(s, "!=", 2) == 0 || memcmp(s, "<>", 2) == 0)) {
        op = O_NE, P->pos += 2;
    } else if (left >= 2 && memcmp(s, "<=", 2) == 0) {
        op = O_LE, P->pos += 2;
    } else if (left >= 2 && memcmp(s, ">=", 2) == 0) {
        op = O_GE, P->pos += 2;
    } else if (left >= 1 && s[0] == '=') {
        op = O_EQ, P->pos += 1;
    } else if (left >= 1 && s[0] == '<') {
        op = O_LT, P->pos += 1;
    } else if (left >= 1 && s[0] == '>') {
        op = O_GT, P->pos += 1;
    } else {
        return perr(P, oppos, "expected an operator (= != <> < <= > >= IN, NOT IN, BETWEEN, IS [NOT] NULL)");
    }
    lit *ls = NULL;
    uint32_t n = 0, cap = 0;
    if (op == O_IN || op == O_NOTIN) {
        ws(P);
        if (P->pos >= P->len || P->s[P->pos] != '(')
            return perr(P, P->pos, "expected '(' to open the IN list");
        P->pos++;
        for (;;) {
            if (n == TL_PRED_MAX_IN) {
                rc = perr(P, P->pos, "IN list longer than %d values", TL_PRED_MAX_IN);
                goto out;
            }
            if (n == cap) {
                uint32_t nc = cap ? cap * 2 : 8;
                lit *q = realloc(ls, sizeof(lit) * nc);
                if (!q) {
                    rc = tl_error_set(P->err, TL_ENOMEM, "where: out of memory (IN list)");
                    goto out;
                }
                ls = q;
                cap = nc;
            }
            rc = parse_lit(P, &ls[n]);
            if (rc)
                goto out;
            n++;
            ws(P);
            if (P->pos < P->len && P->s[P->pos] == ',') {
                P->pos++;
                continue;
            }
            if (P->pos < P->len && P->s[P->pos] == ')') {
                P->pos++;
                break;
            }
            rc = perr(P, P->pos, "expected ',' or ')' in the IN list");
            goto out;
        }
    } else if (op != O_ISNULL && op != O_NOTNULL) {
        uint32_t want = op == O_BETWEEN ? 2 : 1;
        ls = calloc(want, sizeof(lit));
        if (!ls)
            return tl_error_set(P->err, TL_ENOMEM, "where: out of memory");
        cap = want;
        rc = parse_lit(P, &ls[0]);
        if (rc)
            goto out;
        n = 1;
        if (op == O_BETWEEN) {
            if (!kw(P, "and")) {
                rc = perr(P, P->pos, "expected AND between the bounds of BETWEEN");
                goto out;
            }
            rc = parse_lit(P, &ls[1]);
            if (rc)
                goto out;
            n = 2;
        }
    }
    {
        if (P->p->n_terms == P->cap_terms) {
            uint32_t nc = P->cap_terms ? P->cap_terms * 2 : 8;
            term *q = realloc(P->p->terms, sizeof(term) * nc);
            if (!q) {
                rc = tl_error_set(P->err, TL_ENOMEM, "where: out of memory");
                goto out;
            }
            P->p->terms = q;
            P->cap_terms = nc;
        }
        term *t = &P->p->terms[P->p->n_terms++];
        memset(t, 0, sizeof *t);
        /* the written text, normalised: column op literal(s) */
        sbuf b = {0};
        sb_colname(&b, P->fields[field].name);
        sb_puts(&b, " ");
        sb_puts(&b, op_text(op));
        if (op == O_IN || op == O_NOTIN) {
            sb_puts(&b, " (");
            for (uint32_t j = 0; j < n; j++) {
                if (j)
                    sb_puts(&b, ", ");
                sb_put(&b, P->s + ls[j].pos, ls[j].end - ls[j].pos);
            }
            sb_puts(&b, ")");
        } else if (n >= 1) {
            sb_puts(&b, " ");
            sb_put(&b, P->s + ls[0].pos, ls[0].end - ls[0].pos);
            if (n == 2) {
                sb_puts(&b, " AND ");
                sb_put(&b, P->s + ls[1].pos, ls[1].end - ls[1].pos);
            }
        }
        rc = bind(P, t, field, op, ls, n);
        if (rc == TL_OK)
            sb_puts(&b, folded_note(t, op));
        if (b.oom && rc == TL_OK)
            rc = tl_error_set(P->err, TL_ENOMEM, "where: out of memory");
        t->text = b.p;
    }
out:
    for (uint32_t j = 0; j < n; j++)
        lit_free(&ls[j]);
    free(ls);
    return rc;
}

static int parse_where(parser *P)
{
    int rc = parse_term(P);
    if (rc)
        return rc;
    while (kw(P, "and")) {
        rc = parse_term(P);
        if (rc)
            return rc;
    }
    return TL_OK;
}

void tl_pred_free(tl_pred *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->n_terms; i++)
        term_free(&p->terms[i]);
    free(p->terms);
    free(p->desc);
    free(p);
}

int tl_pred_parse(const char *text, const tl_field *fields, uint32_t n_fields, tl_pred **out,
                  tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "where: no output pointer");
    *out = NULL;
    if (n_fields && !fields)
        return tl_error_set(err, TL_EINVAL, "where: no schema (fields NULL, n_fields %u)", n_fields);
    tl_pred *p = calloc(1, sizeof *p);
    if (!p)
        return tl_error_set(err, TL_ENOMEM, "where: out of memory");
    parser P = {.s = text ? text : "", .fields = fields, .n_fields = n_fields, .p = p, .err = err};
    P.len = strnlen(P.s, (size_t)TL_PRED_MAX_TEXT + 1);
    int rc = TL_OK;
    if (P.len > TL_PRED_MAX_TEXT) {
        rc = tl_error_set(err, TL_EINVAL, "where: text longer than %u bytes", TL_PRED_MAX_TEXT);
        goto fail;
    }
    ws(&P);
    if (P.pos < P.len) {
        rc = parse_where(&P);
        if (rc)
            goto fail;
        ws(&P);
        if (P.pos < P.len) {
            size_t at = P.pos;
            if (kw(&P, "or"))
                rc = perr(&P, at, "OR is not supported (a predicate is a conjunction: use AND, or IN)");
            else if (P.s[at] == ')')
                rc = perr(&P, at, "unbalanced ')'");
            else
                rc = perr(&P, at, "expected AND or the end of the text");
            goto fail;
        }
    }
    /* describe text */
    sbuf b = {0};
    sb_puts(&b, "");
    for (uint32_t i = 0; i < p->n_terms; i++) {
        if (i)
            sb_puts(&b, " AND ");
        sb_puts(&b, p->terms[i].text ? p->terms[i].text : "?");
    }
    if (b.oom) {
        free(b.p);
        rc = tl_error_set(err, TL_ENOMEM, "where: out of memory");
        goto fail;
    }
    p->desc = b.p;
    *out = p;
    return TL_OK;
fail:
    tl_pred_free(p);
    return rc;
}

int tl_pred_is_true(const tl_pred *p) { return p == NULL || p->n_terms == 0; }

uint32_t tl_pred_n_terms(const tl_pred *p) { return p ? p->n_terms : 0; }

const char *tl_pred_term_text(const tl_pred *p, uint32_t i)
{
    return p && i < p->n_terms && p->terms[i].text ? p->terms[i].text : "";
}

void tl_pred_columns(const tl_pred *p, uint32_t *cols, uint32_t *n)
{
    uint32_t k = 0;
    if (p) {
        for (uint32_t i = 0; i < p->n_terms; i++) {
            uint32_t f = p->terms[i].field;
            uint32_t j = 0;
            while (j < k && cols[j] < f)
                j++;
            if (j < k && cols[j] == f)
                continue;
            memmove(cols + j + 1, cols + j, (k - j) * sizeof *cols);
            cols[j] = f;
            k++;
        }
    }
    *n = k;
}

void tl_pred_describe(const tl_pred *p, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    const char *d = p && p->desc && p->desc[0] ? p->desc : "true";
    snprintf(buf, cap, "%s", d);
}

/* ---- pruning ---------------------------------------------------------------- */

/* In a sorted list of n: is any value within [lo, hi]? */
#define ANY_IN_RANGE(T, list, n, lo, hi, res)                                                      \
    do {                                                                                           \
        uint32_t l_ = 0, h_ = (n);                                                                 \
        while (l_ < h_) {                                                                          \
            uint32_t m_ = l_ + (h_ - l_) / 2;                                                      \
            if ((list)[m_] < (lo))                                                                 \
                l_ = m_ + 1;                                                                       \
            else                                                                                   \
                h_ = m_;                                                                           \
        }                                                                                          \
        (res) = l_ < (n) && !((hi) < (list)[l_]);                                                  \
    } while (0)

/* 1: some row of z may satisfy t. */
static int term_may(const term *t, const tl_pred_zone *z)
{
    if (t->op == C_FALSE)
        return 0;
    if (!z->known)
        return 1;
    if (z->n_rows == 0)
        return 0;
    int all_null = z->has_null_count && z->null_count >= z->n_rows;
    if (t->op == C_ISNULL)
        return !(z->has_null_count && z->null_count == 0);
    if (all_null)
        return 0;
    if (t->op == C_NOTNULL || !z->has_minmax)
        return 1;
    int r = 1;
    switch (t->fam) {
    case FAM_S: {
        int64_t mn = z->min.i, mx = z->max.i;
        switch (t->op) {
        case C_RANGE: r = !(t->ib < mn || t->ia > mx); break;
        case C_NE: r = !(mn == mx && mn == t->ia); break;
        case C_IN: ANY_IN_RANGE(int64_t, t->ilist, t->n_list, mn, mx, r); break;
        case C_NOTIN:
            if (mn == mx) {
                int hit;
                ANY_IN_RANGE(int64_t, t->ilist, t->n_list, mn, mx, hit);
                r = !hit;
            }
            break;
        }
        break;
    }
    case FAM_U: {
        uint64_t mn = z->min.u, mx = z->max.u;
        switch (t->op) {
        case C_RANGE: r = !(t->ub < mn || t->ua > mx); break;
        case C_NE: r = !(mn == mx && mn == t->ua); break;
        case C_IN: ANY_IN_RANGE(uint64_t, t->ulist, t->n_list, mn, mx, r); break;
        case C_NOTIN:
            if (mn == mx) {
                int hit;
                ANY_IN_RANGE(uint64_t, t->ulist, t->n_list, mn, mx, hit);
                r = !hit;
            }
            break;
        }
        break;
    }
    case FAM_F: {
        double mn = z->min.f, mx = z->max.f;
        if (mn != mn || mx != mx)
            return 1; /* a zone that does not follow the rules: no claim */
        int nan = z->has_nan != 0;
        switch (t->op) {
        case C_EQ: r = !(t->fa < mn || t->fa > mx); break;
        case C_LT: r = mn < t->fa; break;
        case C_LE: r = mn <= t->fa; break;
        case C_GT: r = mx > t->fa; break;
        case C_GE: r = mx >= t->fa; break;
        case C_BETWEEN: r = !(t->fb < mn || t->fa > mx); break;
        case C_NE: r = nan || !(mn == mx && mn == t->fa); break;
        case C_IN: ANY_IN_RANGE(double, t->flist, t->n_list, mn, mx, r); break;
        case C_NOTIN:
            if (!nan && mn == mx) {
                int hit;
                ANY_IN_RANGE(double, t->flist, t->n_list, mn, mx, hit);
                r = !hit;
            }
            break;
        }
        break;
    }
    case FAM_STR: {
        const uint8_t *a = z->smin, *b = z->smax;
        uint32_t al = a ? z->smin_len : 0, bl = b ? z->smax_len : 0;
        int hb = !z->smax_unbounded; /* smax is an upper bound */
        int exact = !z->smin_inexact && !z->smax_inexact && hb;
        switch (t->op) {
        case C_EQ:
            r = !(scmp(t->sa.p, t->sa.len, a, al) < 0 ||
                  (hb && scmp(t->sa.p, t->sa.len, b, bl) > 0));
            break;
        case C_LT: r = scmp(a, al, t->sa.p, t->sa.len) < 0; break;
        case C_LE: r = scmp(a, al, t->sa.p, t->sa.len) <= 0; break;
        case C_GT: r = !hb || scmp(b, bl, t->sa.p, t->sa.len) > 0; break;
        case C_GE: r = !hb || scmp(b, bl, t->sa.p, t->sa.len) >= 0; break;
        case C_BETWEEN:
            r = !(scmp(t->sb.p, t->sb.len, a, al) < 0 ||
                  (hb && scmp(t->sa.p, t->sa.len, b, bl) > 0));
            break;
        case C_NE:
            r = !(exact && scmp(a, al, b, bl) == 0 && scmp(a, al, t->sa.p, t->sa.len) == 0);
            break;
        case C_IN:
            r = 0;
            for (uint32_t j = 0; j < t->n_list && !r; j++) {
                const sval *v = &t->slist[j];
                r = !(scmp(v->p, v->len, a, al) < 0 || (hb && scmp(v->p, v->len, b, bl) > 0));
            }
            break;
        case C_NOTIN:
            if (exact && scmp(a, al, b, bl) == 0) {
                sval key = {(uint8_t *)(uintptr_t)a, al};
                r = bsearch(&key, t->slist, t->n_list, sizeof(sval), cmp_sval) == NULL;
            }
            break;
        }
        break;
    }
    }
    return r;
}

int tl_pred_may_match(const tl_pred *p, tl_pred_zone_fn zone, void *ctx, int *term_hit)
{
    if (term_hit)
        *term_hit = -1;
    if (!p)
        return 1;
    for (uint32_t i = 0; i < p->n_terms; i++) {
        const term *t = &p->terms[i];
        tl_pred_zone z;
        memset(&z, 0, sizeof z);
        z.has_nan = 1;
        if (t->op != C_FALSE && (!zone || zone(ctx, t->field, &z) != 0))
            continue;
        if (!term_may(t, &z)) {
            if (term_hit)
                *term_hit = (int)i;
            return 0;
        }
    }
    return 1;
}

/* ---- evaluation ------------------------------------------------------------- */

/* acc[i] &= bit (base + i) of bm, for i < m; base is a multiple of 8. */
static void and_bits(uint8_t *acc, const uint8_t *bm, uint32_t base, uint32_t m)
{
    const uint8_t *b = bm + base / 8;
    uint32_t full = m / 8;
    for (uint32_t k = 0; k < full; k++) {
        uint64_t x = (uint64_t)b[k] * UINT64_C(0x0101010101010101);
        x &= UINT64_C(0x8040201008040201);
        x = ((x + UINT64_C(0x7f7f7f7f7f7f7f7f)) >> 7) & UINT64_C(0x0101010101010101);
        uint64_t a;
        memcpy(&a, acc + 8 * k, 8);
        a &= x;
        memcpy(acc + 8 * k, &a, 8);
    }
    for (uint32_t i = full * 8; i < m; i++)
        acc[i] &= (uint8_t)((b[i / 8] >> (i & 7)) & 1);
}

/* acc[i] &= !bit */
static void and_not_bits(uint8_t *acc, const uint8_t *bm, uint32_t base, uint32_t m)
{
    const uint8_t *b = bm + base / 8;
    for (uint32_t i = 0; i < m; i++)
        acc[i] &= (uint8_t)(((b[i / 8] >> (i & 7)) & 1) ^ 1);
}

#define LOOP(T, expr)                                                                              \
    do {                                                                                           \
        const T *x = (const T *)vals + base;                                                       \
        for (uint32_t i = 0; i < m; i++)                                                           \
            acc[i] &= (uint8_t)(expr);                                                             \
    } while (0)

#define INT_TERM(T, a, b, list)                                                                    \
    do {                                                                                           \
        T a_ = (T)(a), b_ = (T)(b);                                                                \
        switch (t->op) {                                                                           \
        case C_RANGE:                                                                              \
            if (a_ == b_)                                                                          \
                LOOP(T, x[i] == a_);                                                               \
            else                                                                                   \
                LOOP(T, (x[i] >= a_) & (x[i] <= b_));                                              \
            break;                                                                                 \
        case C_NE: LOOP(T, x[i] != a_); break;                                                     \
        case C_IN:                                                                                 \
        case C_NOTIN: {                                                                            \
            const T *x = (const T *)vals + base;                                                   \
            uint8_t neg = t->op == C_NOTIN;                                                        \
            if (t->n_list <= PRED_SMALL_IN) {                                                      \
                memset(tmp, 0, m);                                                                 \
                for (uint32_t j = 0; j < t->n_list; j++) {                                         \
                    T v_ = (T)(list)[j];                                                           \
                    for (uint32_t i = 0; i < m; i++)                                               \
                        tmp[i] |= (uint8_t)(x[i] == v_);                                           \
                }                                                                                  \
            } else {                                                                               \
                for (uint32_t i = 0; i < m; i++) {                                                 \
                    uint32_t l_ = 0, h_ = t->n_list;                                               \
                    while (l_ < h_) {                                                              \
                        uint32_t md = l_ + (h_ - l_) / 2;                                          \
                        if ((T)(list)[md] < x[i])                                                  \
                            l_ = md + 1;                                                           \
                        else                                                                       \
                            h_ = md;                                                               \
                    }                                                                              \
                    tmp[i] = (uint8_t)(l_ < t->n_list && (T)(list)[l_] == x[i]);                   \
                }                                                                                  \
            }                                                                                      \
            for (uint32_t i = 0; i < m; i++)                                                       \
                acc[i] &= (uint8_t)(tmp[i] ^ neg);                                                 \
            break;                                                                                 \
        }                                                                                          \
        }                                                                                          \
    } while (0)

#define FLOAT_TERM(T)                                                                              \
    do {                                                                                           \
        double a_ = t->fa, b_ = t->fb;                                                             \
        switch (t->op) {                                                                           \
        case C_EQ: LOOP(T, (double)x[i] == a_); break;                                             \
        case C_NE: LOOP(T, (double)x[i] != a_); break;                                             \
        case C_LT: LOOP(T, (double)x[i] < a_); break;                                              \
        case C_LE: LOOP(T, (double)x[i] <= a_); break;                                             \
        case C_GT: LOOP(T, (double)x[i] > a_); break;                                              \
        case C_GE: LOOP(T, (double)x[i] >= a_); break;                                             \
        case C_BETWEEN: LOOP(T, ((double)x[i] >= a_) & ((double)x[i] <= b_)); break;               \
        case C_IN:                                                                                 \
        case C_NOTIN: {                                                                            \
            const T *x = (const T *)vals + base;                                                   \
            uint8_t neg = t->op == C_NOTIN;                                                        \
            if (t->n_list <= PRED_SMALL_IN) {                                                      \
                memset(tmp, 0, m);                                                                 \
                for (uint32_t j = 0; j < t->n_list; j++) {                                         \
                    double v_ = t->flist[j];                                                       \
                    for (uint32_t i = 0; i < m; i++)                                               \
                        tmp[i] |= (uint8_t)((double)x[i] == v_);                                   \
                }                                                                                  \
            } else {                                                                               \
                for (uint32_t i = 0; i < m; i++) {                                                 \
                    double xi = (double)x[i];                                                      \
                    uint32_t l_ = 0, h_ = t->n_list;                                               \
                    while (l_ < h_) {                                                              \
                        uint32_t md = l_ + (h_ - l_) / 2;                                          \
                        if (t->flist[md] < xi)                                                     \
                            l_ = md + 1;                                                           \
                        else                                                                       \
                            h_ = md;                                                               \
                    }                                                                              \
                    tmp[i] = (uint8_t)(l_ < t->n_list && t->flist[l_] == xi);                      \
                }                                                                                  \
            }                                                                                      \
            for (uint32_t i = 0; i < m; i++)                                                       \
                acc[i] &= (uint8_t)(tmp[i] ^ neg);                                                 \
            break;                                                                                 \
        }                                                                                          \
        }                                                                                          \
    } while (0)

static void str_term(const term *t, const tl_colvec *c, uint32_t n_total, uint32_t base, uint32_t m,
                     uint8_t *acc)
{
    const uint32_t *off = c->offsets + base;
    const uint8_t *d = c->data;
    if (t->op == C_EQ || t->op == C_NE) { /* the common case */
        const uint8_t *lp = t->sa.p;
        uint32_t L = t->sa.len;
        uint8_t neg = t->op == C_NE;
        if (L <= 8) {
            /* one 8-byte load per row where 8 bytes are readable (before
             * the end of the vector's data), masked to the literal's length */
            uint64_t lw = 0, mask = L == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * L)) - 1;
            memcpy(&lw, lp, L);
            uint32_t end = c->offsets[n_total];
            for (uint32_t i = 0; i < m; i++) {
                uint32_t o = off[i];
                int r;
                if (end >= 8 && o <= end - 8) {
                    uint64_t w;
                    memcpy(&w, d + o, 8);
                    r = (off[i + 1] - o == L) & (((w ^ lw) & mask) == 0);
                } else {
                    r = off[i + 1] - o == L;
                    for (uint32_t j = 0; r && j < L; j++)
                        r = d[o + j] == lp[j];
                }
                acc[i] &= (uint8_t)(r ^ neg);
            }
            return;
        }
        for (uint32_t i = 0; i < m; i++) {
            uint32_t o = off[i];
            int r = off[i + 1] - o == L && memcmp(d + o, lp, L) == 0;
            acc[i] &= (uint8_t)(r ^ neg);
        }
        return;
    }
    for (uint32_t i = 0; i < m; i++) {
        if (!acc[i])
            continue;
        const uint8_t *x = d + off[i];
        uint32_t xl = off[i + 1] - off[i];
        int r;
        switch (t->op) {
        case C_EQ: r = xl == t->sa.len && (xl == 0 || memcmp(x, t->sa.p, xl) == 0); break;
        case C_NE: r = !(xl == t->sa.len && (xl == 0 || memcmp(x, t->sa.p, xl) == 0)); break;
        case C_LT: r = scmp(x, xl, t->sa.p, t->sa.len) < 0; break;
        case C_LE: r = scmp(x, xl, t->sa.p, t->sa.len) <= 0; break;
        case C_GT: r = scmp(x, xl, t->sa.p, t->sa.len) > 0; break;
        case C_GE: r = scmp(x, xl, t->sa.p, t->sa.len) >= 0; break;
        case C_BETWEEN:
            r = scmp(x, xl, t->sa.p, t->sa.len) >= 0 && scmp(x, xl, t->sb.p, t->sb.len) <= 0;
            break;
        default: { /* IN, NOT IN */
            uint32_t l_ = 0, h_ = t->n_list;
            while (l_ < h_) {
                uint32_t md = l_ + (h_ - l_) / 2;
                if (scmp(t->slist[md].p, t->slist[md].len, x, xl) < 0)
                    l_ = md + 1;
                else
                    h_ = md;
            }
            int hit = l_ < t->n_list && scmp(t->slist[l_].p, t->slist[l_].len, x, xl) == 0;
            r = hit ^ (t->op == C_NOTIN);
            break;
        }
        }
        acc[i] = (uint8_t)r;
    }
}

static void eval_term(const term *t, const tl_colvec *c, uint32_t n_total, uint32_t base,
                      uint32_t m, uint8_t *acc, uint8_t *tmp)
{
    switch (t->op) {
    case C_FALSE:
        memset(acc, 0, m);
        return;
    case C_ISNULL:
        if (c->validity)
            and_not_bits(acc, c->validity, base, m);
        else
            memset(acc, 0, m);
        return;
    case C_NOTNULL:
        break;
    default: {
        const void *vals = c->values;
        switch (t->type) {
        case TL_INT8: INT_TERM(int8_t, t->ia, t->ib, t->ilist); break;
        case TL_INT16: INT_TERM(int16_t, t->ia, t->ib, t->ilist); break;
        case TL_INT32: case TL_DATE: INT_TERM(int32_t, t->ia, t->ib, t->ilist); break;
        case TL_INT64: case TL_TIMESTAMP: case TL_TIMESTAMP_US:
            INT_TERM(int64_t, t->ia, t->ib, t->ilist); break;
        case TL_UINT8: case TL_BOOL: INT_TERM(uint8_t, t->ua, t->ub, t->ulist); break;
        case TL_UINT16: INT_TERM(uint16_t, t->ua, t->ub, t->ulist); break;
        case TL_UINT32: INT_TERM(uint32_t, t->ua, t->ub, t->ulist); break;
        case TL_UINT64: INT_TERM(uint64_t, t->ua, t->ub, t->ulist); break;
        case TL_FLOAT32: FLOAT_TERM(float); break;
        case TL_FLOAT64: FLOAT_TERM(double); break;
        case TL_STRING: str_term(t, c, n_total, base, m, acc); break;
        }
    }
    }
    if (c->validity)
        and_bits(acc, c->validity, base, m);
}

uint32_t tl_pred_eval(const tl_pred *p, const tl_colvec *cols, uint32_t n, const uint8_t *in_sel,
                      uint8_t *sel)
{
    uint8_t acc[PRED_CHUNK], tmp[PRED_CHUNK];
    uint32_t count = 0;
    for (uint32_t base = 0; base < n; base += PRED_CHUNK) {
        uint32_t m = n - base < PRED_CHUNK ? n - base : PRED_CHUNK;
        uint32_t m8 = (m + 7) & ~7u;
        memset(acc, 1, m);
        memset(acc + m, 0, m8 - m);
        if (in_sel)
            and_bits(acc, in_sel, base, m);
        for (uint32_t k = 0; p && k < p->n_terms; k++) {
            const term *t = &p->terms[k];
            eval_term(t, &cols[t->field], n, base, m, acc, tmp);
        }
        uint8_t *out = sel + base / 8;
        for (uint32_t j = 0; j < m8 / 8; j++) {
            uint64_t a;
            memcpy(&a, acc + 8 * j, 8);
            uint8_t bits = (uint8_t)((a * UINT64_C(0x0102040810204080)) >> 56);
            out[j] = bits;
            count += (uint32_t)__builtin_popcount(bits);
        }
    }
    return count;
}
