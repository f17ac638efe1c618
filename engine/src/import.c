/*
 * import.c - Parquet files into a table as one commit (tl_import_parquet;
 * spec/PARQUET.md, section "Import", rules PQ-I*).
 *
 * Flow: list the inputs (files as given, directories recursively, sorted,
 * Hive k=v directory names kept per file); with --create and no table,
 * infer the table spec from the first file (types), every file (nullability)
 * and every Hive value (types of Hive columns); check every file's footer
 * against the table's schema before any data is read (unknown columns,
 * inexact conversions, missing non-nullable columns), so that such errors
 * create and commit nothing; then stream: one row group at a time, each
 * needed column chunk decoded by the reader into a reused buffer, cut into
 * slices of at most SLICE_ROWS rows (a multiple of 8, so validity bitmaps
 * are sliced by pointer), converted where the types differ, and handed to
 * tl_append_batch, which repacks rows into the table's partitions and sort
 * order and spills under max_memory. One tl_append_commit at the end.
 *
 * Decoding overlaps the append (PQ-I17): with append.threads other than 1
 * and a file of two or more row groups, a decoder thread reads row group
 * r + 1 (into the second of two buffer sets) while this thread slices,
 * converts and appends row group r. Batches reach the append in the same
 * order and with the same contents as without it; a decode error at row
 * group r is reported after row groups before r were appended, as in the
 * sequential order.
 *
 * Invariants: any error aborts the append (its files are removed) and, when
 * this call created the table, removes what the creation made, so a failed
 * import leaves the target as it was. A value is converted only when the
 * conversion is exact; every value check (range, null into a non-nullable
 * column) happens before the slice is handed over, and names the file, row
 * group, column and the row's index in the file. Memory: one decoded row
 * group (all its needed columns; two with the decoder thread) plus one
 * slice of conversion buffers, plus the append's max_memory.
 */
#include "import_int.h"

#include "civil_int.h"
#include "log_int.h"
#include "table_int.h"
#include "util_int.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLICE_ROWS 65536u               /* rows per batch handed to the append */
#define MAX_FILES (1u << 24)            /* inputs after directory expansion */
#define MAX_DEPTH 64                    /* directory nesting searched */
#define HIVE_STRING_BUDGET ((size_t)8 << 20) /* bytes of one repeated Hive string */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Hive values ------------------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t tl_import_unescape(const char *s, size_t len, char *out, size_t out_cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < out_cap; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < len && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = hexval((unsigned char)s[i + 2])) >= 0) {
            out[n++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    if (out_cap)
        out[n] = '\0';
    return n;
}

static int parse_date(const char *s, int32_t *out)
{
    /* YYYY-MM-DD exactly (4-digit year) */
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return 0;
    *out = (int32_t)tl_days_from_civil(y, m, d);
    return 1;
}

static int parse_i64(const char *s, int64_t *out)
{
    if (!*s || (!(s[0] >= '0' && s[0] <= '9') && s[0] != '-' && s[0] != '+'))
        return 0;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return 0;
    *out = v;
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || !(s[0] >= '0' && s[0] <= '9'))
        return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s)
        return 0;
    *out = v;
    return 1;
}

tl_type tl_import_hive_infer(const char *const *values, uint32_t n)
{
    int all_date = 1, all_int = 1, any = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!values[i])
            continue;
        any = 1;
        int32_t d;
        int64_t v;
        all_date &= parse_date(values[i], &d);
        all_int &= parse_i64(values[i], &v);
    }
    if (!any)
        return TL_STRING;
    return all_date ? TL_DATE : all_int ? TL_INT64 : TL_STRING;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.f{1,9}]]][Z] as UTC nanoseconds */
static int parse_ts(const char *s, int64_t *out)
{
    char day[11];
    if (strlen(s) < 10)
        return 0;
    memcpy(day, s, 10);
    day[10] = '\0';
    int32_t d;
    if (!parse_date(day, &d))
        return 0;
    const char *p = s + 10;
    int64_t tod = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        int hh, mm, ss = 0;
        if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] == ':' &&
              p[3] >= '0' && p[3] <= '9' && p[4] >= '0' && p[4] <= '9'))
            return 0;
        hh = (p[0] - '0') * 10 + (p[1] - '0');
        mm = (p[3] - '0') * 10 + (p[4] - '0');
        p += 5;
        int64_t frac = 0;
        if (*p == ':') {
            if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
                return 0;
            ss = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.') {
                p++;
                int k = 0;
                while (*p >= '0' && *p <= '9' && k < 9) {
                    frac = frac * 10 + (*p - '0');
                    p++, k++;
                }
                if (k == 0 || (*p >= '0' && *p <= '9'))
                    return 0;
                for (; k < 9; k++)
                    frac *= 10;
            }
        }
        if (hh > 23 || mm > 59 || ss > 59)
            return 0;
        tod = ((int64_t)hh * 3600 + mm * 60 + ss) * TL_NS_PER_S + frac;
    }
    if (*p == 'Z')
        p++;
    if (*p)
        return 0;
    int64_t ns;
    if (__builtin_mul_overflow((int64_t)d, TL_NS_PER_DAY, &ns) ||
        __builtin_add_overflow(ns, tod, &ns))
        return 0;
    *out = ns;
    return 1;
}

int tl_import_parse_value(const char *value, tl_type t, tl_import_const *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t i;
    uint64_t u;
    const char *want = NULL;
    switch (t) {
    case TL_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1"))
            out->bytes[0] = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0"))
            out->bytes[0] = 0;
        else
            want = "true, false, 1 or 0";
        break;
    case TL_INT8:
    case TL_INT16:
    case TL_INT32:
    case TL_INT64: {
        int bits = t == TL_INT8 ? 8 : t == TL_INT16 ? 16 : t == TL_INT32 ? 32 : 64;
        int64_t lo = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
        int64_t hi = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
        if (!parse_i64(value, &i) || i < lo || i > hi) {
            want = "an integer in the column's range";
            break;
        }
        if (bits == 8) {
            int8_t v = (int8_t)i;
            memcpy(out->bytes, &v, 1);
        } else if (bits == 16) {
            int16_t v = (int16_t)i;
            memcpy(out->bytes, &v, 2);
        } else if (bits == 32) {
            int32_t v = (int32_t)i;
            memcpy(out->bytes, &v, 4);
        } else {
            memcpy(out->bytes, &i, 8);
        }
        break;
    }
    case TL_UINT8:
    case TL_UINT16:
    case TL_UINT32:
    case TL_UINT64: {
        int bits = t == TL_UINT8 ? 8 : t == TL_UINT16 ? 16 : t == TL_UINT32 ? 32 : 64;
        uint64_t hi = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        if (!parse_u64(value, &u) || u > hi) {
            want = "an unsigned integer in the column's range";
            break;
        }
        if (bits == 8) {
            uint8_t v = (uint8_t)u;
            memcpy(out->bytes, &v, 1);
        } else if (bits == 16) {
            uint16_t v = (uint16_t)u;
            memcpy(out->bytes, &v, 2);
        } else if (bits == 32) {
            uint32_t v = (uint32_t)u;
            memcpy(out->bytes, &v, 4);
        } else {
            memcpy(out->bytes, &u, 8);
        }
        break;
    }
    case TL_FLOAT32:
    case TL_FLOAT64: {
        char *end;
        errno = 0;
        if (!*value) {
            want = "a number";
            break;
        }
        if (t == TL_FLOAT32) {
            float f = strtof(value, &end);
            if (*end)
                want = "a number";
            memcpy(out->bytes, &f, 4);
        } else {
            double f = strtod(value, &end);
            if (*end)
                want = "a number";
            memcpy(out->bytes, &f, 8);
        }
        break;
    }
    case TL_DATE: {
        int32_t d;
        if (!parse_date(value, &d))
            want = "a date YYYY-MM-DD";
        memcpy(out->bytes, &d, 4);
        break;
    }
    case TL_TIMESTAMP: {
        int64_t ns = 0;
        if (!parse_ts(value, &ns) && !parse_i64(value, &ns))
            want = "a timestamp YYYY-MM-DD[THH:MM[:SS[.fffffffff]]][Z] or integer nanoseconds";
        memcpy(out->bytes, &ns, 8);
        break;
    }
    case TL_TIMESTAMP_US: {
        int64_t us = 0;
        if (parse_ts(value, &us)) {
            if (us % 1000)
                want = "a whole microsecond";
            us /= 1000;
        } else if (!parse_i64(value, &us)) {
            want = "a timestamp YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z] or integer microseconds";
        }
        memcpy(out->bytes, &us, 8);
        break;
    }
    case TL_STRING: {
        size_t len = strlen(value);
        if (len > UINT32_MAX / 2) {
            want = "a shorter string";
            break;
        }
        out->str = value;
        out->str_len = (uint32_t)len;
        break;
    }
    default:
        return tl_error_set(err, TL_EINVAL, "unknown column type %d", (int)t);
    }
    if (want)
        return tl_error_set(err, TL_EINVAL, "expected %s for a %s column, found '%.80s'", want,
                            tl_type_name(t), value);
    return TL_OK;
}

/* ---- conversions -------------------------------------------------------------------- */

static int int_bits(tl_type t)
{
    switch (t) {
    case TL_INT8:
    case TL_UINT8:
        return 8;
    case TL_INT16:
    case TL_UINT16:
        return 16;
    case TL_INT32:
    case TL_UINT32:
        return 32;
    case TL_INT64:
    case TL_UINT64:
        return 64;
    default:
        return 0;
    }
}

static int is_sint(tl_type t)
{
    return t == TL_INT8 || t == TL_INT16 || t == TL_INT32 || t == TL_INT64;
}

static int is_uint(tl_type t)
{
    return t == TL_UINT8 || t == TL_UINT16 || t == TL_UINT32 || t == TL_UINT64;
}

/* 1 when every value of src fits dst exactly (PQ-I10). */
static int widens(tl_type src, tl_type dst)
{
    if (src == dst)
        return 1;
    if (is_sint(src) && is_sint(dst))
        return int_bits(dst) > int_bits(src);
    if (is_uint(src) && (is_sint(dst) || is_uint(dst)))
        return int_bits(dst) > int_bits(src);
    return src == TL_FLOAT32 && dst == TL_FLOAT64;
}

int tl_import_convertible(const tl_pq_colinfo *c, const char *dst_name, tl_type dst,
                          tl_error *err)
{
    tl_type src = c->type;
    if (widens(src, dst))
        return TL_OK;
    if (src == TL_TIMESTAMP && dst == TL_TIMESTAMP_US)
        return TL_OK; /* exact per value (PQ-I15): checked while converting */
    const char *why;
    if (c->is_decimal)
        why = src == TL_STRING ? "a DECIMAL of more than 15 digits is read as exact text and "
                                 "goes only into a string column"
                               : "a DECIMAL is read as float64 and goes only into a float64 "
                                 "column";
    else if ((is_sint(src) || is_uint(src)) && (is_sint(dst) || is_uint(dst)))
        why = "only widening integer conversions are exact (signed to wider signed, "
              "unsigned to wider unsigned or signed)";
    else if (tl_type_is_float(src) && tl_type_is_float(dst))
        why = "only float32 to float64 is exact";
    else
        why = "no exact conversion between these types";
    return tl_error_set(err, TL_EINVAL, "column '%s' (%s, read as %s) cannot be stored in column "
                        "'%s' (%s): %s",
                        c->name, c->desc ? c->desc : "?", tl_type_name(src), dst_name,
                        tl_type_name(dst), why);
}

static inline int64_t load_s(const void *v, int bits, uint64_t r)
{
    switch (bits) {
    case 8:
        return ((const int8_t *)v)[r];
    case 16: {
        int16_t x;
        memcpy(&x, (const char *)v + r * 2, 2);
        return x;
    }
    case 32: {
        int32_t x;
        memcpy(&x, (const char *)v + r * 4, 4);
        return x;
    }
    default: {
        int64_t x;
        memcpy(&x, (const char *)v + r * 8, 8);
        return x;
    }
    }
}

static inline uint64_t load_u(const void *v, int bits, uint64_t r)
{
    switch (bits) {
    case 8:
        return ((const uint8_t *)v)[r];
    case 16: {
        uint16_t x;
        memcpy(&x, (const char *)v + r * 2, 2);
        return x;
    }
    case 32: {
        uint32_t x;
        memcpy(&x, (const char *)v + r * 4, 4);
        return x;
    }
    default: {
        uint64_t x;
        memcpy(&x, (const char *)v + r * 8, 8);
        return x;
    }
    }
}

static inline void store_bits(void *out, int bits, uint32_t r, uint64_t x)
{
    switch (bits) {
    case 8:
        ((uint8_t *)out)[r] = (uint8_t)x;
        break;
    case 16: {
        uint16_t y = (uint16_t)x;
        memcpy((char *)out + (size_t)r * 2, &y, 2);
        break;
    }
    case 32: {
        uint32_t y = (uint32_t)x;
        memcpy((char *)out + (size_t)r * 4, &y, 4);
        break;
    }
    default:
        memcpy((char *)out + (size_t)r * 8, &x, 8);
        break;
    }
}

/* ---- listing inputs ------------------------------------------------------------------- */

static void file_free(tl_import_file *f)
{
    free(f->path);
    for (uint32_t i = 0; i < f->n_hive; i++) {
        free(f->hive[i].key);
        free(f->hive[i].value);
    }
    free(f->hive);
}

void tl_import_list_free(tl_import_list *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++)
        file_free(&l->files[i]);
    free(l->files);
    memset(l, 0, sizeof *l);
}

typedef struct hive_stack {
    tl_import_hive kv[MAX_DEPTH];
    uint32_t n;
} hive_stack;

static int list_add(tl_import_list *l, const char *path, uint64_t bytes, const hive_stack *hs,
                    tl_error *err)
{
    if (l->n >= MAX_FILES)
        return tl_error_set(err, TL_EINVAL, "import: more than %u input files", MAX_FILES);
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 64;
        tl_import_file *f = realloc(l->files, (size_t)cap * sizeof *f);
        if (!f)
            return tl_error_set(err, TL_ENOMEM, "import: out of memory (file list)");
        l->files = f;
        l->cap = cap;
    }
    tl_import_file *f = &l->files[l->n];
    memset(f, 0, sizeof *f);
    f->bytes = bytes;
    if (!(f->path = strdup(path)))
        return tl_error_set(err, TL_ENOMEM, "import: out of memory (file list)");
    l->n++;
    if (hs && hs->n) {
        if (!(f->hive = calloc(hs->n, sizeof *f->hive)))
            return tl_error_set(err, TL_ENOMEM, "import: out of memory (file list)");
        for (uint32_t i = 0; i < hs->n; i++) {
            f->hive[i].key = strdup(hs->kv[i].key);
            f->hive[i].value = hs->kv[i].value ? strdup(hs->kv[i].value) : NULL;
            f->n_hive = i + 1;
            if (!f->hive[i].key || (hs->kv[i].value && !f->hive[i].value))
                return tl_error_set(err, TL_ENOMEM, "import: out of memory (file list)");
        }
    }
    l->bytes += bytes;
    return TL_OK;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* Recursive walk of dir (depth = Hive components pushed so far). */
static int walk_dir(tl_import_list *l, const char *dir, hive_stack *hs, int depth, tl_error *err)
{
    if (depth >= MAX_DEPTH)
        return tl_error_set(err, TL_EINVAL, "import: %s: directories nested deeper than %d",
                            dir, MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d)
        return tl_error_sys(err, errno, "import: cannot open directory %s", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = TL_OK;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = tl_error_set(err, TL_ENOMEM, "import: out of memory (listing %s)", dir);
                goto out;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = tl_error_set(err, TL_ENOMEM, "import: out of memory (listing %s)", dir);
            goto out;
        }
        n++;
        errno = 0;
    }
    if (errno) {
        rc = tl_error_sys(err, errno, "import: cannot list directory %s", dir);
        goto out;
    }
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(plen);
        if (!p) {
            rc = tl_error_set(err, TL_ENOMEM, "import: out of memory (listing %s)", dir);
            break;
        }
        snprintf(p, plen, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", names[i]);
        struct stat st;
        if (lstat(p, &st) != 0) {
            rc = tl_error_sys(err, errno, "import: cannot stat %s", p);
        } else if (S_ISDIR(st.st_mode)) {
            const char *eq = strchr(names[i], '=');
            int pushed = 0;
            if (eq && eq != names[i]) {
                size_t kl = (size_t)(eq - names[i]), vl = strlen(eq + 1);
                char *k = malloc(kl + 1), *v = malloc(vl + 1);
                if (!k || !v) {
                    free(k);
                    free(v);
                    rc = tl_error_set(err, TL_ENOMEM, "import: out of memory");
                } else {
                    tl_import_unescape(names[i], kl, k, kl + 1);
                    tl_import_unescape(eq + 1, vl, v, vl + 1);
                    if (strcmp(v, TL_IMPORT_HIVE_NULL) == 0) {
                        free(v);
                        v = NULL;
                    }
                    /* a key repeated deeper down replaces the outer one */
                    for (uint32_t j = 0; j < hs->n; j++)
                        if (strcmp(hs->kv[j].key, k) == 0) {
                            free(k);
                            free(v);
                            rc = tl_error_set(err, TL_EINVAL,
                                              "import: %s: Hive key '%.*s' appears twice in the "
                                              "path",
                                              p, (int)kl, names[i]);
                            k = NULL;
                            break;
                        }
                    if (k) {
                        hs->kv[hs->n++] = (tl_import_hive){k, v};
                        pushed = 1;
                    }
                }
            }
            if (!rc)
                rc = walk_dir(l, p, hs, depth + 1, err);
            if (pushed) {
                hs->n--;
                free(hs->kv[hs->n].key);
                free(hs->kv[hs->n].value);
            }
        } else if (ends_with(names[i], ".parquet")) {
            struct stat fst = st;
            if (S_ISLNK(st.st_mode) && stat(p, &fst) != 0)
                rc = tl_error_sys(err, errno, "import: cannot stat %s", p);
            else if (S_ISREG(fst.st_mode))
                rc = list_add(l, p, (uint64_t)fst.st_size, hs, err);
        }
        free(p);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int tl_import_list_inputs(const char *const *inputs, uint32_t n_inputs, tl_import_list *out,
                          tl_error *err)
{
    memset(out, 0, sizeof *out);
    if (!inputs || n_inputs == 0)
        return tl_error_set(err, TL_EINVAL, "import: no input files");
    int rc = TL_OK;
    for (uint32_t i = 0; i < n_inputs && !rc; i++) {
        const char *in = inputs[i];
        if (!in || !in[0]) {
            rc = tl_error_set(err, TL_EINVAL, "import: input %u is empty", i);
            break;
        }
        struct stat st;
        if (stat(in, &st) != 0) {
            rc = errno == ENOENT ? tl_error_set(err, TL_ENOTFOUND, "import: %s: no such file "
                                                                   "or directory", in)
                                 : tl_error_sys(err, errno, "import: cannot stat %s", in);
        } else if (S_ISDIR(st.st_mode)) {
            hive_stack hs;
            hs.n = 0;
            uint32_t before = out->n;
            rc = walk_dir(out, in, &hs, 0, err);
            for (uint32_t j = 0; j < hs.n; j++) {
                free(hs.kv[j].key);
                free(hs.kv[j].value);
            }
            if (!rc && out->n == before)
                rc = tl_error_set(err, TL_EINVAL, "import: directory %s holds no *.parquet "
                                  "file", in);
        } else if (S_ISREG(st.st_mode)) {
            rc = list_add(out, in, (uint64_t)st.st_size, NULL, err);
        } else {
            rc = tl_error_set(err, TL_EINVAL, "import: %s is neither a file nor a directory", in);
        }
    }
    if (rc)
        tl_import_list_free(out);
    return rc;
}

/* ---- the table's schema as the import sees it -------------------------------------------- */

typedef struct field {
    char *name;
    tl_type type;
    int nullable;
} field;

typedef struct schema {
    field *f;
    uint32_t n;
    int has_day;        /* the table partitions by a day column */
    int has_date_col;   /* a column is named "date" */
} schema;

static void schema_free(schema *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->f[i].name);
    free(s->f);
    memset(s, 0, sizeof *s);
}

static int schema_find(const schema *s, const char *name)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->f[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int schema_add(schema *s, const char *name, tl_type t, int nullable, tl_error *err)
{
    field *f = realloc(s->f, (s->n + 1) * sizeof *f);
    if (!f)
        return tl_error_set(err, TL_ENOMEM, "import: out of memory (schema)");
    s->f = f;
    if (!(f[s->n].name = strdup(name)))
        return tl_error_set(err, TL_ENOMEM, "import: out of memory (schema)");
    f[s->n].type = t;
    f[s->n].nullable = nullable;
    s->n++;
    if (strcmp(name, "date") == 0)
        s->has_date_col = 1;
    return TL_OK;
}

static const char *schema_list(const schema *s, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < s->n; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", s->f[i].name);
        if (w < 0 || (size_t)w >= cap - n) {
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            break;
        }
        n += (size_t)w;
    }
    return buf;
}

/* ---- per-file plan ---------------------------------------------------------------------- */

enum { SRC_PQ = 1, SRC_HIVE = 2 };

typedef struct source {
    int kind;
    uint32_t pq_col;    /* SRC_PQ */
    uint32_t field;     /* table column */
    tl_type src_type;   /* SRC_PQ: the reader's type */
    const tl_pq_colinfo *info;
    tl_import_const k;  /* SRC_HIVE */
    int k_null;
    /* slice buffers */
    void *conv;         /* converted values (SLICE_ROWS x 8 bytes) */
    size_t conv_cap;
    uint32_t *k_offs;   /* SRC_HIVE strings: repeated value */
    uint8_t *k_data;
    uint32_t k_rows;    /* rows the constant buffers hold */
} source;

typedef struct imp {
    const tl_import_opts *o;
    const char *table_path;
    schema sc;
    uint8_t *map_used;   /* n_map */
    source *src;
    uint32_t n_src, cap_src;
    uint8_t *taken;      /* per table column: given by this file */
    tl_pq_colbuf *bufs;  /* per Parquet column index, reused across files;
                            the set slice_vec reads */
    tl_pq_colbuf *set[2]; /* the two sets (the decoder thread fills one while
                             the other is appended); bufs is one of them */
    uint32_t n_bufs;
    tl_coldef *defs;
    tl_colvec *vecs;
    uint32_t slice_rows;
    /* progress */
    tl_progress_fn progress;
    void *pctx;
    uint64_t bytes_total, bytes_done;
    double last_progress;
    uint64_t rows;
} imp;

/* The table column a source name goes to: *dst = NULL when mapped to
 * nothing (dropped). */
static void map_name(imp *im, const char *name, const char **dst)
{
    const tl_import_opts *o = im->o;
    for (uint32_t i = 0; i < o->n_map; i++)
        if (o->map[i].src && strcmp(o->map[i].src, name) == 0) {
            im->map_used[i] = 1;
            *dst = o->map[i].dst && o->map[i].dst[0] ? o->map[i].dst : NULL;
            return;
        }
    *dst = name;
}

static void sources_free(imp *im)
{
    for (uint32_t i = 0; i < im->cap_src; i++) {
        free(im->src[i].conv);
        free(im->src[i].k_offs);
        free(im->src[i].k_data);
    }
    free(im->src);
    im->src = NULL;
    im->n_src = im->cap_src = 0;
}

static int source_next(imp *im, source **out, tl_error *err)
{
    if (im->n_src == im->cap_src) {
        uint32_t cap = im->cap_src ? im->cap_src * 2 : 16;
        source *s = realloc(im->src, cap * sizeof *s);
        if (!s)
            return tl_error_set(err, TL_ENOMEM, "import: out of memory");
        memset(s + im->cap_src, 0, (cap - im->cap_src) * sizeof *s);
        im->src = s;
        im->cap_src = cap;
    }
    source *s = &im->src[im->n_src++];
    void *conv = s->conv;
    size_t cc = s->conv_cap;
    uint32_t *ko = s->k_offs;
    uint8_t *kd = s->k_data;
    memset(s, 0, sizeof *s);
    s->conv = conv, s->conv_cap = cc;
    free(ko);
    free(kd);
    *out = s;
    return TL_OK;
}

/* Is the Hive key skipped: it names the day partition's directory of our
 * own exports ("date") and the table has no such column (PQ-I6). */
static int hive_is_day_dir(const schema *sc, const char *key)
{
    return sc->has_day && !sc->has_date_col && strcmp(key, "date") == 0;
}

/* Build the sources of file fi (opened as f) against im->sc. create_mode:
 * a missing column or an OPTIONAL one makes the inferred column nullable
 * instead of failing. Errors name the file. */
static int plan_file(imp *im, const tl_import_file *fi, tl_pq_file *f, int create_mode,
                     tl_error *err)
{
    im->n_src = 0;
    schema *sc = &im->sc;
    memset(im->taken, 0, sc->n ? sc->n : 1);
    char list[400];
    uint32_t nc = tl_pq_n_cols(f);
    for (uint32_t c = 0; c < nc; c++) {
        const tl_pq_colinfo *ci = tl_pq_col(f, c);
        const char *dst;
        map_name(im, ci->name, &dst);
        if (!dst)
            continue;
        int k = schema_find(sc, dst);
        if (k < 0 && dst != ci->name) /* renamed by --map: name both */
            return tl_error_set(err, TL_EINVAL,
                                "import %s: column '%s' (%s) is mapped to '%s', which is not "
                                "in the table (the table has: %s)",
                                fi->path, ci->name, ci->desc ? ci->desc : "?", dst,
                                schema_list(sc, list, sizeof list));
        if (k < 0)
            return tl_error_set(err, TL_EINVAL,
                                "import %s: column '%s' (%s) is not in the table (the table "
                                "has: %s); use --map %s=COLUMN to rename it or --map %s= to "
                                "skip it",
                                fi->path, ci->name, ci->desc ? ci->desc : "?",
                                schema_list(sc, list, sizeof list), ci->name, ci->name);
        if (im->taken[k])
            return tl_error_set(err, TL_EINVAL,
                                "import %s: two columns of the file go to table column '%s' "
                                "(the second is '%s')",
                                fi->path, dst, ci->name);
        int rc = tl_import_convertible(ci, dst, sc->f[k].type, err);
        if (rc)
            return tl_error_prefix(err, "import %s: ", fi->path), rc;
        if (create_mode && ci->optional)
            sc->f[k].nullable = 1;
        im->taken[k] = 1;
        source *s;
        rc = source_next(im, &s, err);
        if (rc)
            return rc;
        s->kind = SRC_PQ;
        s->pq_col = c;
        s->field = (uint32_t)k;
        s->src_type = ci->type;
        s->info = ci;
    }
    for (uint32_t h = 0; h < fi->n_hive; h++) {
        const tl_import_hive *hv = &fi->hive[h];
        const char *dst;
        map_name(im, hv->key, &dst);
        if (!dst)
            continue;
        int k = schema_find(sc, dst);
        if (k >= 0 && im->taken[k])
            continue; /* the file's own column wins (PQ-I5) */
        if (k < 0 && hive_is_day_dir(sc, dst))
            continue;
        if (k < 0)
            return tl_error_set(err, TL_EINVAL,
                                "import %s: Hive directory key '%s' (from '%s=...') names no "
                                "column of the table (the table has: %s); use --map %s= to "
                                "ignore it or --map %s=COLUMN",
                                fi->path, dst, hv->key, schema_list(sc, list, sizeof list),
                                hv->key, hv->key);
        im->taken[k] = 1;
        source *s;
        int rc = source_next(im, &s, err);
        if (rc)
            return rc;
        s->kind = SRC_HIVE;
        s->field = (uint32_t)k;
        if (!hv->value) {
            s->k_null = 1;
            if (create_mode)
                sc->f[k].nullable = 1;
            else if (!sc->f[k].nullable)
                return tl_error_set(err, TL_EINVAL,
                                    "import %s: Hive directory '%s=%s' is null, but column "
                                    "'%s' is not nullable",
                                    fi->path, hv->key, TL_IMPORT_HIVE_NULL, dst);
        } else {
            rc = tl_import_parse_value(hv->value, sc->f[k].type, &s->k, err);
            if (rc)
                return tl_error_prefix(err, "import %s: Hive directory '%s=%s' for column '%s': ",
                                       fi->path, hv->key, hv->value, dst),
                       rc;
        }
    }
    for (uint32_t k = 0; k < sc->n; k++) {
        if (im->taken[k] || sc->f[k].nullable)
            continue;
        if (create_mode) {
            sc->f[k].nullable = 1;
            continue;
        }
        return tl_error_set(err, TL_EINVAL,
                            "import %s: the table's column '%s' (%s, not nullable) is missing "
                            "from the file",
                            fi->path, sc->f[k].name, tl_type_name(sc->f[k].type));
    }
    return TL_OK;
}

/* ---- streaming --------------------------------------------------------------------------- */

static void report(imp *im, uint64_t done, int force)
{
    if (!im->progress)
        return;
    double now = mono_s();
    if (!force && now - im->last_progress < 0.1)
        return;
    im->last_progress = now;
    im->progress(im->pctx, done, im->bytes_total);
}

static int ensure_bufs(imp *im, uint32_t n, tl_error *err)
{
    if (n <= im->n_bufs)
        return TL_OK;
    for (int k = 0; k < 2; k++) {
        tl_pq_colbuf *b = realloc(im->set[k], n * sizeof *b);
        if (!b)
            return tl_error_set(err, TL_ENOMEM, "import: out of memory (column buffers)");
        memset(b + im->n_bufs, 0, (n - im->n_bufs) * sizeof *b);
        im->set[k] = b;
    }
    im->bufs = im->set[0];
    im->n_bufs = n;
    return TL_OK;
}

/* Fill the constant buffers of a Hive source for up to rows rows. */
static int hive_fill(source *s, tl_type t, uint32_t rows, tl_error *err)
{
    if (s->k_null || s->k_rows >= rows)
        return TL_OK;
    size_t w = tl_type_width(t);
    if (w) {
        if (tl_grow(&s->conv, &s->conv_cap, (size_t)rows * w))
            return tl_error_set(err, TL_ENOMEM, "import: out of memory");
        for (uint32_t r = 0; r < rows; r++)
            memcpy((char *)s->conv + (size_t)r * w, s->k.bytes, w);
    } else {
        free(s->k_offs);
        free(s->k_data);
        s->k_offs = malloc(((size_t)rows + 1) * sizeof *s->k_offs);
        s->k_data = malloc((size_t)rows * s->k.str_len + 1);
        if (!s->k_offs || !s->k_data)
            return tl_error_set(err, TL_ENOMEM, "import: out of memory");
        for (uint32_t r = 0; r <= rows; r++)
            s->k_offs[r] = r * s->k.str_len;
        for (uint32_t r = 0; r < rows; r++)
            memcpy(s->k_data + (size_t)r * s->k.str_len, s->k.str, s->k.str_len);
    }
    s->k_rows = rows;
    return TL_OK;
}

static const char *unit_name(int u)
{
    return u == TL_PQ_MILLIS ? "ms" : u == TL_PQ_MICROS ? "us" : u == TL_PQ_NANOS ? "ns" : "?";
}

/* slice_vec for a TIMESTAMP source into a timestamp_us column (PQ-I15):
 * MILLIS times 1000 (an overflow is an error), MICROS as they are, NANOS
 * and INT96 (decoded as ns) divided by 1000 when that is exact, else an
 * error naming the row and value; an INT96 chunk the reader decoded in µs
 * (it holds values beyond int64 ns) is refused when its flooring dropped
 * nanoseconds (the reader cannot say which row). Never rounds. */
static int slice_ts_us(imp *im, const tl_import_file *fi, uint32_t rg, uint64_t first_row,
                       source *s, const tl_pq_colbuf *b, const uint8_t *sv, uint64_t start,
                       uint32_t n, tl_colvec *v, tl_error *err)
{
    const char *cname = s->info->name, *desc = s->info->desc ? s->info->desc : "?";
    const char *tname = im->sc.f[s->field].name;
    if (b->ts_unit == TL_PQ_MICROS) {
        if (b->ts_sub_us_dropped)
            return tl_error_set(err, TL_EINVAL,
                                "import %s: row group %u, column '%s' (%s): %" PRIu64
                                " values have nanoseconds below the microsecond, which table "
                                "column '%s' (timestamp_us) cannot hold (the chunk also holds "
                                "values beyond the nanosecond range, so no row can be named)",
                                fi->path, rg, cname, desc, b->ts_sub_us_dropped, tname);
        v->values = sv;
        return TL_OK;
    }
    if (b->ts_unit != TL_PQ_MILLIS && b->ts_unit != TL_PQ_NANOS)
        return tl_error_set(err, TL_ECORRUPT,
                            "import %s: row group %u, column '%s': unknown timestamp unit %d",
                            fi->path, rg, cname, b->ts_unit);
    if (tl_grow(&s->conv, &s->conv_cap, (size_t)n * 8))
        return tl_error_set(err, TL_ENOMEM, "import: out of memory");
    int64_t *out = s->conv;
    for (uint32_t r = 0; r < n; r++) {
        int64_t x;
        memcpy(&x, sv + (size_t)r * 8, 8);
        if (b->ts_unit == TL_PQ_NANOS) {
            out[r] = x / 1000;
            if (x % 1000 == 0)
                continue;
        } else if (!__builtin_mul_overflow(x, 1000, &out[r])) {
            continue;
        }
        if (!tl_bit_get(v->validity, r)) {
            out[r] = 0;
            continue;
        }
        if (b->ts_unit == TL_PQ_NANOS)
            return tl_error_set(err, TL_EINVAL,
                                "import %s: row group %u, column '%s' (%s): row %" PRIu64
                                ": timestamp %" PRId64 " ns has nanoseconds below the "
                                "microsecond, which table column '%s' (timestamp_us) cannot "
                                "hold (no rounding)",
                                fi->path, rg, cname, desc, first_row + start + r, x, tname);
        return tl_error_set(err, TL_EINVAL,
                            "import %s: row group %u, column '%s' (%s): row %" PRIu64
                            ": timestamp %" PRId64 " ms is outside the microsecond range of "
                            "table column '%s' (timestamp_us)",
                            fi->path, rg, cname, desc, first_row + start + r, x, tname);
    }
    v->values = out;
    return TL_OK;
}

/* Column vector of source s for rows [start, start + n) of the row group
 * (first_row = the row group's first row in the file). */
static int slice_vec(imp *im, const tl_import_file *fi, uint32_t rg, uint64_t first_row,
                     source *s, uint64_t start, uint32_t n, tl_colvec *v, tl_error *err)
{
    const field *fd = &im->sc.f[s->field];
    memset(v, 0, sizeof *v);
    if (s->kind == SRC_HIVE) {
        int rc = hive_fill(s, fd->type, im->slice_rows, err);
        if (rc)
            return rc;
        if (fd->type == TL_STRING) {
            v->offsets = s->k_offs;
            v->data = s->k_data;
        } else {
            v->values = s->conv;
        }
        return TL_OK;
    }
    const tl_pq_colbuf *b = &im->bufs[s->pq_col];
    const tl_colvec *src = &b->vec;
    const char *cname = s->info->name;
    if (src->validity) {
        v->validity = src->validity + start / 8;
        if (!fd->nullable)
            for (uint32_t r = 0; r < n; r++)
                if (!tl_bit_get(v->validity, r))
                    return tl_error_set(err, TL_EINVAL,
                                        "import %s: row group %u, column '%s': row %" PRIu64
                                        " is null, but table column '%s' is not nullable",
                                        fi->path, rg, cname, first_row + start + r, fd->name);
    }
    if (s->src_type == TL_STRING) {
        v->offsets = src->offsets + start;
        v->data = src->data;
        return TL_OK;
    }
    size_t sw = tl_type_width(s->src_type);
    const uint8_t *sv = (const uint8_t *)src->values + start * sw;
    if (s->src_type == TL_TIMESTAMP && fd->type == TL_TIMESTAMP_US)
        return slice_ts_us(im, fi, rg, first_row, s, b, sv, start, n, v, err);
    if (s->src_type == TL_TIMESTAMP) {
        int64_t mult = b->ts_unit == TL_PQ_MILLIS   ? INT64_C(1000000)
                       : b->ts_unit == TL_PQ_MICROS ? INT64_C(1000)
                       : b->ts_unit == TL_PQ_NANOS  ? 1
                                                    : 0;
        if (mult == 0)
            return tl_error_set(err, TL_ECORRUPT,
                                "import %s: row group %u, column '%s': unknown timestamp unit %d",
                                fi->path, rg, cname, b->ts_unit);
        if (mult == 1) {
            v->values = sv;
            return TL_OK;
        }
        if (tl_grow(&s->conv, &s->conv_cap, (size_t)n * 8))
            return tl_error_set(err, TL_ENOMEM, "import: out of memory");
        int64_t *out = s->conv;
        for (uint32_t r = 0; r < n; r++) {
            int64_t x;
            memcpy(&x, sv + (size_t)r * 8, 8);
            if (__builtin_mul_overflow(x, mult, &out[r])) {
                if (!tl_bit_get(v->validity, r)) {
                    out[r] = 0;
                    continue;
                }
                return tl_error_set(err, TL_EINVAL,
                                    "import %s: row group %u, column '%s' (%s): row %" PRIu64
                                    ": timestamp %" PRId64 " %s is outside the nanosecond "
                                    "range of the table (years 1677..2262)",
                                    fi->path, rg, cname, s->info->desc ? s->info->desc : "?",
                                    first_row + start + r, x, unit_name(b->ts_unit));
            }
        }
        v->values = out;
        return TL_OK;
    }
    if (s->src_type == fd->type) {
        v->values = sv;
        return TL_OK;
    }
    size_t dw = tl_type_width(fd->type);
    if (tl_grow(&s->conv, &s->conv_cap, (size_t)n * dw))
        return tl_error_set(err, TL_ENOMEM, "import: out of memory");
    if (s->src_type == TL_FLOAT32 && fd->type == TL_FLOAT64) {
        double *out = s->conv;
        for (uint32_t r = 0; r < n; r++) {
            float x;
            memcpy(&x, sv + (size_t)r * 4, 4);
            out[r] = (double)x;
        }
    } else if (is_sint(s->src_type)) {
        int sb = int_bits(s->src_type), db = int_bits(fd->type);
        for (uint32_t r = 0; r < n; r++)
            store_bits(s->conv, db, r, (uint64_t)load_s(sv, sb, r));
    } else if (is_uint(s->src_type)) {
        int sb = int_bits(s->src_type), db = int_bits(fd->type);
        for (uint32_t r = 0; r < n; r++)
            store_bits(s->conv, db, r, load_u(sv, sb, r));
    } else {
        return tl_error_set(err, TL_EINVAL, "import %s: column '%s': no conversion from %s to %s",
                            fi->path, cname, tl_type_name(s->src_type), tl_type_name(fd->type));
    }
    v->values = s->conv;
    return TL_OK;
}

/* Decode row group rg's needed column chunks into the buffer set bufs and
 * check them against the row group's row count. */
static int decode_rg(imp *im, tl_pq_file *f, const tl_import_file *fi, uint32_t rg,
                     tl_pq_colbuf *bufs, tl_error *err)
{
    uint64_t rows = tl_pq_row_group_rows(f, rg);
    for (uint32_t i = 0; i < im->n_src; i++) {
        const source *s = &im->src[i];
        if (s->kind != SRC_PQ)
            continue;
        tl_pq_colbuf *b = &bufs[s->pq_col];
        int rc = tl_pq_read_chunk(f, rg, s->pq_col, b, err);
        if (rc)
            return tl_error_prefix(err, "import: "), rc;
        if (b->n != rows)
            return tl_error_set(err, TL_ECORRUPT,
                                "import %s: row group %u, column '%s': %" PRIu64
                                " values decoded, but the row group has %" PRIu64 " rows",
                                fi->path, rg, s->info->name, b->n, rows);
        if (s->src_type == TL_STRING && rows && !b->vec.offsets)
            return tl_error_set(err, TL_ECORRUPT, "import %s: row group %u, column '%s': no "
                                "string offsets", fi->path, rg, s->info->name);
        if (s->src_type != TL_STRING && rows && !b->vec.values)
            return tl_error_set(err, TL_ECORRUPT, "import %s: row group %u, column '%s': no "
                                "values", fi->path, rg, s->info->name);
    }
    return TL_OK;
}

/* The decoder thread of one file (PQ-I17): row group r goes into buffer set
 * r & 1; it runs at most two row groups ahead of the one released last, so
 * a set is refilled only after the appending thread is done with it. It
 * reads only the sources' plan fields (kind, pq_col, src_type, info), which
 * stay fixed while the file is imported. */
typedef struct decoder {
    int on;                /* the thread runs */
    imp *im;
    tl_pq_file *f;
    const tl_import_file *fi;
    uint32_t n_rg;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t decoded;      /* row groups 0..decoded-1 are ready */
    uint32_t released;     /* row groups 0..released-1 were appended */
    int stop;              /* the appending thread is done with the file */
    int rc;                /* the decoder's error, at row group `decoded` */
    tl_error err;
} decoder;

static void *decoder_main(void *arg)
{
    decoder *d = arg;
    for (uint32_t rg = 0; rg < d->n_rg; rg++) {
        pthread_mutex_lock(&d->mu);
        while (!d->stop && rg >= d->released + 2)
            pthread_cond_wait(&d->cv, &d->mu);
        int stop = d->stop;
        pthread_mutex_unlock(&d->mu);
        if (stop)
            break;
        tl_error e;
        memset(&e, 0, sizeof e);
        int rc = decode_rg(d->im, d->f, d->fi, rg, d->im->set[rg & 1], &e);
        pthread_mutex_lock(&d->mu);
        if (rc) {
            d->rc = rc;
            d->err = e;
        } else {
            d->decoded = rg + 1;
        }
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        if (rc)
            break;
    }
    return NULL;
}

static int decoder_start(decoder *d, imp *im, tl_pq_file *f, const tl_import_file *fi,
                         uint32_t n_rg, tl_error *err)
{
    d->im = im;
    d->f = f;
    d->fi = fi;
    d->n_rg = n_rg;
    if (pthread_mutex_init(&d->mu, NULL) != 0)
        return tl_error_set(err, TL_ENOMEM, "import %s: cannot create the decoder's mutex",
                            fi->path);
    if (pthread_cond_init(&d->cv, NULL) != 0) {
        pthread_mutex_destroy(&d->mu);
        return tl_error_set(err, TL_ENOMEM, "import %s: cannot create the decoder's "
                            "condition variable", fi->path);
    }
    int e = pthread_create(&d->th, NULL, decoder_main, d);
    if (e != 0) {
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        return tl_error_sys(err, e, "import %s: cannot start the decoder thread", fi->path);
    }
    d->on = 1;
    return TL_OK;
}

/* Wait until row group rg is decoded; the decoder's error if it failed
 * there. */
static int decoder_wait(decoder *d, uint32_t rg, tl_error *err)
{
    pthread_mutex_lock(&d->mu);
    while (d->decoded <= rg && !d->rc)
        pthread_cond_wait(&d->cv, &d->mu);
    int rc = d->decoded > rg ? TL_OK : d->rc;
    if (rc && err)
        *err = d->err;
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static void decoder_release(decoder *d, uint32_t rg)
{
    pthread_mutex_lock(&d->mu);
    d->released = rg + 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void decoder_stop(decoder *d)
{
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->th, NULL);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    d->on = 0;
}

static int import_file(imp *im, tl_append *a, const tl_import_file *fi, tl_error *err)
{
    tl_pq_file *f = NULL;
    int rc = tl_pq_open(fi->path, &f, err);
    if (rc)
        return tl_error_prefix(err, "import: "), rc;
    rc = plan_file(im, fi, f, 0, err);
    if (!rc)
        rc = ensure_bufs(im, tl_pq_n_cols(f), err);
    /* slices: a multiple of 8 rows; smaller when a Hive string is long */
    im->slice_rows = SLICE_ROWS;
    for (uint32_t i = 0; !rc && i < im->n_src; i++) {
        source *s = &im->src[i];
        if (s->kind == SRC_HIVE && !s->k_null && s->k.str_len) {
            size_t fit = HIVE_STRING_BUDGET / s->k.str_len;
            if (fit < im->slice_rows)
                im->slice_rows = fit < 8 ? 8 : (uint32_t)(fit & ~(size_t)7);
        }
    }
    uint32_t nb = 0;
    for (uint32_t i = 0; i < im->n_src; i++)
        nb += !(im->src[i].kind == SRC_HIVE && im->src[i].k_null);
    uint64_t file_rows = rc ? 0 : tl_pq_n_rows(f), done_rows = 0, first_row = 0;
    uint32_t n_rg = rc ? 0 : tl_pq_n_row_groups(f);
    decoder dec;
    memset(&dec, 0, sizeof dec);
    if (!rc && n_rg >= 2 && im->o->append.threads != 1)
        rc = decoder_start(&dec, im, f, fi, n_rg, err);
    for (uint32_t rg = 0; !rc && rg < n_rg; rg++) {
        uint64_t rows = tl_pq_row_group_rows(f, rg);
        if (dec.on)
            rc = decoder_wait(&dec, rg, err);
        else
            rc = decode_rg(im, f, fi, rg, im->set[0], err);
        if (rc)
            break;
        im->bufs = dec.on ? im->set[rg & 1] : im->set[0];
        for (uint64_t start = 0; !rc && start < rows; start += im->slice_rows) {
            uint32_t n = (uint32_t)(rows - start < im->slice_rows ? rows - start : im->slice_rows);
            uint32_t j = 0;
            for (uint32_t i = 0; !rc && i < im->n_src; i++) {
                source *s = &im->src[i];
                if (s->kind == SRC_HIVE && s->k_null)
                    continue; /* absent = null */
                im->defs[j] = (tl_coldef){im->sc.f[s->field].name, im->sc.f[s->field].type};
                rc = slice_vec(im, fi, rg, first_row, s, start, n, &im->vecs[j], err);
                j++;
            }
            if (rc)
                break;
            tl_batch bt = {.n_rows = n, .n_cols = nb, .defs = im->defs, .cols = im->vecs};
            rc = tl_append_batch(a, &bt, err);
            if (rc) {
                tl_error_prefix(err, "import %s: row group %u, rows %" PRIu64 "..%" PRIu64 ": ",
                                fi->path, rg, first_row + start, first_row + start + n - 1);
                break;
            }
            done_rows += n;
            im->rows += n;
            report(im, im->bytes_done + (file_rows ? (uint64_t)((double)fi->bytes *
                                                                ((double)done_rows /
                                                                 (double)file_rows))
                                                   : 0),
                   0);
        }
        if (dec.on && !rc)
            decoder_release(&dec, rg);
        first_row += rows;
    }
    if (dec.on)
        decoder_stop(&dec);
    im->bufs = im->set[0];
    tl_pq_close(f);
    if (!rc) {
        im->bytes_done += fi->bytes;
        report(im, im->bytes_done, 0);
    }
    return rc;
}

/* ---- creating the table ------------------------------------------------------------------ */

static int find_field_type(const schema *sc, const char *name, tl_type t)
{
    int k = schema_find(sc, name);
    return k >= 0 && sc->f[k].type == t ? k : -1;
}

/* PQ-I16: the type --create gives TIMESTAMP column c of file f: timestamp
 * (ns) when every value of the column fits int64 nanoseconds, else
 * timestamp_us. NANOS columns fit by definition. MILLIS/MICROS: per row
 * group, the chunk statistics' min/max when present
 * (tl_pq_chunk_i64_bounds), else the decoded values; INT96 has no usable
 * statistics, so its chunks are decoded and the reader's unit says it (it
 * switches a chunk to µs exactly when a value does not fit ns). */
static int infer_ts_type(imp *im, tl_pq_file *f, uint32_t c, tl_type *out, tl_error *err)
{
    const tl_pq_colinfo *ci = tl_pq_col(f, c);
    *out = TL_TIMESTAMP;
    if (ci->ts_unit == TL_PQ_NANOS && ci->physical != TL_PQ_INT96)
        return TL_OK;
    int64_t mult = ci->ts_unit == TL_PQ_MILLIS ? 1000000 : 1000;
    int rc = ensure_bufs(im, c + 1, err);
    for (uint32_t rg = 0; !rc && rg < tl_pq_n_row_groups(f); rg++) {
        int64_t lo, hi, t;
        if (ci->physical == TL_PQ_INT64 && tl_pq_chunk_i64_bounds(f, rg, c, &lo, &hi)) {
            if (__builtin_mul_overflow(lo, mult, &t) || __builtin_mul_overflow(hi, mult, &t)) {
                *out = TL_TIMESTAMP_US;
                return TL_OK;
            }
            continue;
        }
        tl_pq_colbuf *b = &im->bufs[c];
        rc = tl_pq_read_chunk(f, rg, c, b, err);
        if (rc)
            return tl_error_prefix(err, "import: "), rc;
        if (ci->physical == TL_PQ_INT96) {
            if (b->ts_unit == TL_PQ_MICROS) {
                *out = TL_TIMESTAMP_US;
                return TL_OK;
            }
            continue;
        }
        for (uint64_t r = 0; r < b->n && b->vec.values; r++) {
            int64_t x;
            memcpy(&x, (const char *)b->vec.values + r * 8, 8);
            if (tl_bit_get(b->vec.validity, r) && __builtin_mul_overflow(x, mult, &t)) {
                *out = TL_TIMESTAMP_US;
                return TL_OK;
            }
        }
    }
    return rc;
}

/* Infer the schema from the first file, every file's nullability and the
 * Hive values of all files; then the partition spec and sort key. */
static int infer_spec(imp *im, const tl_import_list *l, tl_table_spec *spec,
                      const char **sort, const char **hot, tl_error *err)
{
    const tl_import_opts *o = im->o;
    schema *sc = &im->sc;
    tl_pq_file *f = NULL;
    int rc = tl_pq_open(l->files[0].path, &f, err);
    if (rc)
        return tl_error_prefix(err, "import: "), rc;
    uint32_t nc = tl_pq_n_cols(f);
    for (uint32_t c = 0; !rc && c < nc; c++) {
        const tl_pq_colinfo *ci = tl_pq_col(f, c);
        const char *dst;
        map_name(im, ci->name, &dst);
        if (!dst)
            continue;
        tl_type t = ci->type;
        if (schema_find(sc, dst) >= 0)
            rc = tl_error_set(err, TL_EINVAL, "import %s: two columns named '%s' (after --map)",
                              l->files[0].path, dst);
        else if (t == TL_TIMESTAMP)
            rc = infer_ts_type(im, f, c, &t, err);
        if (!rc)
            rc = schema_add(sc, dst, t, ci->optional, err);
    }
    tl_pq_close(f);
    if (rc)
        return rc;
    /* the day column decides whether a Hive "date" key is a column */
    const char *day = o->day_column;
    if (!day) {
        static const char *const cands[] = {"timestamp", "ts", "time"};
        for (int i = 0; i < 3 && !day; i++)
            if (find_field_type(sc, cands[i], TL_TIMESTAMP) >= 0)
                day = cands[i];
    }
    sc->has_day = day != NULL;
    const char *sym = o->symbol_column;
    /* Hive keys, in order of first appearance; typed by all their values */
    for (uint32_t i = 0; !rc && i < l->n; i++)
        for (uint32_t h = 0; !rc && h < l->files[i].n_hive; h++) {
            const char *dst;
            map_name(im, l->files[i].hive[h].key, &dst);
            if (!dst || schema_find(sc, dst) >= 0 || hive_is_day_dir(sc, dst))
                continue;
            const char **vals = calloc(l->n, sizeof *vals);
            if (!vals)
                return tl_error_set(err, TL_ENOMEM, "import: out of memory");
            uint32_t nv = 0;
            for (uint32_t j = 0; j < l->n; j++)
                for (uint32_t g = 0; g < l->files[j].n_hive; g++) {
                    const char *d2;
                    map_name(im, l->files[j].hive[g].key, &d2);
                    if (d2 && strcmp(d2, dst) == 0)
                        vals[nv++] = l->files[j].hive[g].value;
                }
            int is_sym = strcmp(dst, sym ? sym : "symbol") == 0;
            tl_type t = is_sym ? TL_STRING : tl_import_hive_infer(vals, nv);
            free(vals);
            rc = schema_add(sc, dst, t, 0, err);
        }
    if (rc)
        return rc;
    free(im->taken);
    if (!(im->taken = calloc(sc->n ? sc->n : 1, 1)))
        return tl_error_set(err, TL_ENOMEM, "import: out of memory");
    /* nullability over every file (and the checks of plan_file) */
    for (uint32_t i = 0; !rc && i < l->n; i++) {
        rc = tl_pq_open(l->files[i].path, &f, err);
        if (rc)
            return tl_error_prefix(err, "import: "), rc;
        rc = plan_file(im, &l->files[i], f, 1, err);
        tl_pq_close(f);
    }
    if (rc)
        return rc;
    if (!sym && find_field_type(sc, "symbol", TL_STRING) >= 0)
        sym = "symbol";
    memset(spec, 0, sizeof *spec);
    spec->n_fields = sc->n;
    spec->symbol_column = sym;
    spec->day_column = day;
    uint32_t ns = 0;
    if (o->n_sort_key) {
        if (o->n_sort_key > 64)
            return tl_error_set(err, TL_EINVAL, "import: sort key of more than 64 columns");
        for (uint32_t i = 0; i < o->n_sort_key; i++)
            sort[ns++] = o->sort_key[i];
    } else {
        static const char *const tick[] = {"expiry", "opt_type", "strike"};
        int all = day != NULL;
        for (int i = 0; i < 3 && all; i++)
            all = schema_find(sc, tick[i]) >= 0;
        if (all) {
            for (int i = 0; i < 3; i++)
                sort[ns++] = tick[i];
        }
        if (day)
            sort[ns++] = day;
    }
    spec->sort_key = ns ? sort : NULL;
    spec->n_sort_key = ns;
    /* the scan kernels' hot columns when the schema is the tick schema's */
    uint32_t nh;
    const char *const *th = tl_ticks_hot_columns(&nh);
    int all_hot = nh > 0 && nh <= 16;
    for (uint32_t i = 0; i < nh && all_hot; i++)
        all_hot = schema_find(sc, th[i]) >= 0;
    if (all_hot) {
        for (uint32_t i = 0; i < nh; i++)
            hot[i] = th[i];
        spec->hot_columns = hot;
        spec->n_hot = nh;
    }
    return TL_OK;
}

/* Names of the entries of dir (sorted), to remove later only what this
 * call added. *names NULL when dir does not exist. */
static int list_names(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? TL_OK : TL_EIO;
    size_t cap = 0;
    struct dirent *e;
    int rc = TL_OK;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, cap * sizeof *nn);
            if (!nn) {
                rc = TL_ENOMEM;
                break;
            }
            *names = nn;
        }
        if (!((*names)[*n] = strdup(e->d_name))) {
            rc = TL_ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (!*names && !rc)
        *names = calloc(1, sizeof **names); /* exists, empty */
    return rc;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

/* Undo a table creation: remove the directory if this call made it, else
 * the entries that were not there before. */
static void uncreate(const char *path, char **before, size_t n_before)
{
    if (!before) {
        nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return;
    }
    char **now;
    size_t n_now;
    if (list_names(path, &now, &n_now) != TL_OK)
        return;
    for (size_t i = 0; i < n_now; i++) {
        int old = 0;
        for (size_t j = 0; j < n_before && !old; j++)
            old = strcmp(now[i], before[j]) == 0;
        if (!old) {
            size_t len = strlen(path) + strlen(now[i]) + 2;
            char *p = malloc(len);
            if (p) {
                snprintf(p, len, "%s/%s", path, now[i]);
                nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
                free(p);
            }
        }
        free(now[i]);
    }
    free(now);
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- the import ---------------------------------------------------------------------------- */

static int load_schema(imp *im, tl_table *t, tl_error *err)
{
    tl_snapshot *s;
    tl_at at = {.kind = TL_AT_LATEST};
    int rc = tl_snapshot_open(t, &at, &s, err);
    if (rc)
        return rc;
    tl_snapshot_info info;
    tl_snapshot_get_info(s, &info);
    for (uint32_t i = 0; !rc && i < info.n_fields; i++)
        rc = schema_add(&im->sc, info.fields[i].name, info.fields[i].type,
                        info.fields[i].nullable, err);
    im->sc.has_day = info.day_column != NULL;
    tl_snapshot_close(s);
    return rc;
}

/* Has (app_id, app_version) been applied already (LOG-R60)? */
static int already_applied(tl_table *t, const tl_append_opts *ao, int *yes, tl_error *err)
{
    *yes = 0;
    if (!ao->app_id || !ao->app_id[0])
        return TL_OK;
    tl_log_snapshot snap;
    memset(&snap, 0, sizeof snap);
    tl_log_snap_opts so = {.io = t->io, .at = TL_LOG_AT_LATEST};
    int rc = tl_log_snapshot_load(&t->root, &so, &snap, err);
    if (rc)
        return rc;
    const tl_log_txn_entry *te = tl_log_snapshot_txn(&snap, ao->app_id);
    *yes = te && te->txn->version >= ao->app_version;
    tl_log_snapshot_free(&snap);
    return TL_OK;
}

int tl_import_parquet(const char *path, const char *const *inputs, uint32_t n_inputs,
                      const tl_import_opts *o, tl_import_result *res, tl_error *err)
{
    tl_import_result r0;
    memset(&r0, 0, sizeof r0);
    if (res)
        *res = r0;
    if (!path || !path[0])
        return tl_error_set(err, TL_EINVAL, "import: no table path");
    tl_import_opts def;
    memset(&def, 0, sizeof def);
    if (!o)
        o = &def;
    for (uint32_t i = 0; i < o->n_map; i++) {
        if (!o->map || !o->map[i].src || !o->map[i].src[0])
            return tl_error_set(err, TL_EINVAL, "import: --map %u has no source column", i);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(o->map[i].src, o->map[j].src) == 0)
                return tl_error_set(err, TL_EINVAL, "import: --map names source '%s' twice",
                                    o->map[i].src);
    }
    if (o->n_sort_key && !o->sort_key)
        return tl_error_set(err, TL_EINVAL, "import: sort key without names");

    imp im;
    memset(&im, 0, sizeof im);
    im.o = o;
    im.table_path = path;
    im.progress = o->append.progress;
    im.pctx = o->append.progress_ctx;
    tl_import_list list;
    memset(&list, 0, sizeof list);
    tl_table *t = NULL;
    tl_append *a = NULL;
    char **before = NULL;
    size_t n_before = 0;
    int created = 0;
    tl_pq_file *f = NULL;
    int rc = (im.map_used = calloc(o->n_map ? o->n_map : 1, 1)) ? TL_OK
             : tl_error_set(err, TL_ENOMEM, "import: out of memory");
    if (!rc)
        rc = tl_import_list_inputs(inputs, n_inputs, &list, err);
    if (rc)
        goto out;
    im.bytes_total = list.bytes;

    rc = tl_table_open(path, &t, err);
    if (rc == TL_ENOTFOUND && o->create) {
        tl_error_clear(err);
        tl_table_spec spec;
        const char *sort[80], *hot[16];
        rc = infer_spec(&im, &list, &spec, sort, hot, err);
        if (rc)
            goto out;
        tl_field *flds = calloc(im.sc.n, sizeof *flds);
        if (!flds) {
            rc = tl_error_set(err, TL_ENOMEM, "import: out of memory");
            goto out;
        }
        for (uint32_t i = 0; i < im.sc.n; i++)
            flds[i] = (tl_field){im.sc.f[i].name, im.sc.f[i].type, im.sc.f[i].nullable};
        spec.fields = flds;
        if (list_names(path, &before, &n_before) != TL_OK) {
            free(flds);
            rc = tl_error_sys(err, errno, "import: cannot list %s", path);
            goto out;
        }
        rc = tl_table_create(path, &spec, err);
        free(flds);
        if (rc == TL_ECONFLICT) { /* created meanwhile by someone else */
            tl_error_clear(err);
            rc = TL_OK;
        } else if (rc) {
            goto out;
        } else {
            created = 1;
        }
        rc = tl_table_open(path, &t, err);
        if (rc)
            goto out;
        schema_free(&im.sc);
    } else if (rc == TL_ENOTFOUND) {
        tl_error_prefix(err, "import (use --create to create the table): ");
        goto out;
    } else if (rc) {
        goto out;
    }
    rc = load_schema(&im, t, err);
    if (rc)
        goto out;
    free(im.taken);
    if (!(im.taken = calloc(im.sc.n ? im.sc.n : 1, 1)) ||
        !(im.defs = calloc(im.sc.n ? im.sc.n : 1, sizeof *im.defs)) ||
        !(im.vecs = calloc(im.sc.n ? im.sc.n : 1, sizeof *im.vecs))) {
        rc = tl_error_set(err, TL_ENOMEM, "import: out of memory");
        goto out;
    }
    tl_append_opts ao = o->append;
    ao.progress = NULL; /* our progress is in input bytes */
    if (!ao.operation)
        ao.operation = "IMPORT";
    int applied = 0;
    rc = already_applied(t, &ao, &applied, err);
    if (rc)
        goto out;
    if (!applied) {
        /* every footer checked before any data moves (PQ-I2) */
        memset(im.map_used, 0, o->n_map ? o->n_map : 1);
        for (uint32_t i = 0; !rc && i < list.n; i++) {
            rc = tl_pq_open(list.files[i].path, &f, err);
            if (rc) {
                tl_error_prefix(err, "import: ");
                break;
            }
            rc = plan_file(&im, &list.files[i], f, 0, err);
            tl_pq_close(f);
            f = NULL;
        }
        for (uint32_t i = 0; !rc && i < o->n_map; i++)
            if (!im.map_used[i])
                rc = tl_error_set(err, TL_EINVAL,
                                  "import: --map %s=%s: no input file has a column or Hive "
                                  "key '%s'",
                                  o->map[i].src, o->map[i].dst ? o->map[i].dst : "",
                                  o->map[i].src);
        if (rc)
            goto out;
    }
    rc = tl_append_begin(t, &ao, &a, err);
    if (rc)
        goto out;
    report(&im, 0, 1);
    for (uint32_t i = 0; !applied && !rc && i < list.n; i++) {
        rc = import_file(&im, a, &list.files[i], err);
        r0.files = i + 1;
    }
    if (rc)
        goto out;
    tl_append *ac = a;
    a = NULL;
    rc = tl_append_commit(ac, &r0.append, err);
    if (rc)
        goto out;
    report(&im, im.bytes_total, 1);
    r0.rows = im.rows;
    r0.bytes = list.bytes;
    r0.files = applied ? 0 : list.n;
    r0.created = created;
    if (res)
        *res = r0;
out:
    tl_append_abort(a);
    tl_table_close(t);
    if (rc && created)
        uncreate(path, before, n_before);
    names_free(before, n_before);
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; k < 2 && im.set[k] && i < im.n_bufs; i++)
            tl_pq_colbuf_free(&im.set[k][i]);
        free(im.set[k]);
    }
    sources_free(&im);
    schema_free(&im.sc);
    free(im.map_used);
    free(im.taken);
    free(im.defs);
    free(im.vecs);
    tl_import_list_free(&list);
    return rc;
}
