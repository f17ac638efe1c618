/*
 * pq_reader_test.c - the Parquet reader (tl_parquet.h, format/src/
 * pq_reader.c): the ../shared/parquet-testing corpus at format level (every
 * good/ file decodes equal to its expected CSV, via tl_pq_open and
 * tl_pq_open_mem; lenient/ files decode equal or fail with a specific
 * message; bad/ files fail cleanly), plus small files built by hand here
 * (type mapping, nulls, encodings, error messages naming file, row group,
 * column, page and byte offset).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pq_csv.h"
#include "tl_parquet.h"

#define CORPUS TL_SOURCE_DIR "/../shared/parquet-testing"

/* ---- helpers ------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *b = malloc(n + 1);
    cr_assert_not_null(b);
    size_t got = fread(b, 1, n, fp);
    fclose(fp);
    cr_assert_eq(got, n, "%s: short read", path);
    b[n] = 0;
    *len = n;
    return b;
}

static int corpus_present(void)
{
    struct stat st;
    return stat(CORPUS "/MANIFEST.tsv", &st) == 0;
}

/* Sorted names of dir matching *.parquet. */
static int list_parquet(const char *dir, char names[][256], int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        size_t l = strlen(e->d_name);
        if (l > 8 && strcmp(e->d_name + l - 8, ".parquet") == 0 && l < 256)
            snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 256, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Compares CSV text line by line; on a difference writes "line N: got
 * '...' expected '...'" to why and returns 0. */
static int csv_equal(const char *got, size_t got_len, const char *exp, size_t exp_len,
                     char *why, size_t why_cap)
{
    size_t a = 0, b = 0;
    int line = 1;
    while (a < got_len || b < exp_len) {
        size_t ea = a, eb = b;
        while (ea < got_len && got[ea] != '\n')
            ea++;
        while (eb < exp_len && exp[eb] != '\n')
            eb++;
        if (ea - a != eb - b || memcmp(got + a, exp + b, ea - a) != 0) {
            snprintf(why, why_cap, "line %d: got '%.*s' expected '%.*s'", line,
                     (int)(ea - a > 200 ? 200 : ea - a), got + a,
                     (int)(eb - b > 200 ? 200 : eb - b), exp + b);
            return 0;
        }
        a = ea + 1;
        b = eb + 1;
        line++;
    }
    return 1;
}

/* Decodes path (by path, or from memory) into CSV text. Returns the reader
 * status; *csv owns the text on success. */
static int decode_csv(const char *path, int from_mem, pqcsv_buf *csv, tl_error *err)
{
    tl_pq_file *f = NULL;
    char *mem = NULL;
    int rc;
    if (from_mem) {
        size_t len;
        mem = slurp(path, &len);
        cr_assert_not_null(mem, "%s: cannot read", path);
        rc = tl_pq_open_mem(mem, len, path, &f, err);
    } else {
        rc = tl_pq_open(path, &f, err);
    }
    if (rc == TL_OK) {
        rc = pqcsv_file(f, csv, err);
        tl_pq_close(f);
    }
    free(mem);
    return rc;
}

/* ---- corpus ------------------------------------------------------------------- */

static char names[128][256];

Test(pq_reader_corpus, good_files_equal_expected_csv)
{
    if (!corpus_present())
        cr_skip_test("%s not present", CORPUS);
    int n = list_parquet(CORPUS "/good", names, 128);
    cr_assert_gt(n, 0);
    char failures[8192] = "";
    int n_fail = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/good/%s", CORPUS, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/good/%.*s.expected.csv", CORPUS,
                 (int)(strlen(names[i]) - 8), names[i]);
        size_t exp_len;
        char *exp = slurp(exp_path, &exp_len);
        cr_assert_not_null(exp, "%s missing", exp_path);
        for (int mem = 0; mem < 2; mem++) {
            pqcsv_buf csv = {0};
            tl_error err = {0};
            char why[1024] = "";
            int rc = decode_csv(path, mem, &csv, &err);
            int ok = rc == TL_OK && csv_equal(csv.p, csv.len, exp, exp_len, why, sizeof why);
            if (rc != TL_OK)
                snprintf(why, sizeof why, "error %d: %s", rc, err.msg);
            if (!ok) {
                n_fail++;
                size_t l = strlen(failures);
                snprintf(failures + l, sizeof failures - l, "\n  %s (%s): %s", names[i],
                         mem ? "mem" : "file", why);
            }
            pqcsv_free(&csv);
            if (!ok)
                break; /* one report per file */
        }
        free(exp);
    }
    cr_assert_eq(n_fail, 0, "%d of %d good files differ:%s", n_fail, n, failures);
}

/* What a lenient file may fail with, when it fails. */
static const struct {
    const char *file;
    int code;
    const char *needle;
} lenient_errors[] = {
    {"hadoop_lz4_compressed.parquet", TL_EUNSUPPORTED, "lz4"},
    {"non_hadoop_lz4_compressed.parquet", TL_EUNSUPPORTED, "lz4"},
    {"datapage_v1-corrupt-checksum.parquet", TL_ECHECKSUM, "CRC mismatch"},
    {"nested_lists.snappy.parquet", TL_EUNSUPPORTED, "nested schema not supported"},
    {"nulls.snappy.parquet", TL_EUNSUPPORTED, "nested schema not supported"},
};

Test(pq_reader_corpus, lenient_files_equal_or_fail_specifically)
{
    if (!corpus_present())
        cr_skip_test("%s not present", CORPUS);
    int n = list_parquet(CORPUS "/lenient", names, 128);
    cr_assert_gt(n, 0);
    char failures[8192] = "";
    int n_fail = 0;
    for (int i = 0; i < n; i++) {
        char path[1024], exp_path[1024];
        snprintf(path, sizeof path, "%s/lenient/%s", CORPUS, names[i]);
        snprintf(exp_path, sizeof exp_path, "%s/lenient/%.*s.expected.csv", CORPUS,
                 (int)(strlen(names[i]) - 8), names[i]);
        size_t exp_len;
        char *exp = slurp(exp_path, &exp_len);
        cr_assert_not_null(exp, "%s missing", exp_path);
        pqcsv_buf csv = {0};
        tl_error err = {0};
        char why[1024] = "";
        int rc = decode_csv(path, 0, &csv, &err);
        int ok;
        if (rc == TL_OK) {
            ok = csv_equal(csv.p, csv.len, exp, exp_len, why, sizeof why);
            cr_log_info("lenient %s: data equal to the expected CSV: %s", names[i],
                        ok ? "yes" : why);
        } else {
            ok = strstr(err.msg, path) != NULL; /* names the file */
            int known = 0;
            for (size_t k = 0; k < sizeof lenient_errors / sizeof *lenient_errors; k++)
                if (strcmp(lenient_errors[k].file, names[i]) == 0) {
                    known = 1;
                    ok = ok && rc == lenient_errors[k].code &&
                         strcasestr(err.msg, lenient_errors[k].needle) != NULL;
                }
            ok = ok && known; /* other lenient files must decode */
            snprintf(why, sizeof why, "error %d: %s", rc, err.msg);
            cr_log_info("lenient %s: refused: %s", names[i], err.msg);
        }
        if (!ok) {
            n_fail++;
            size_t l = strlen(failures);
            snprintf(failures + l, sizeof failures - l, "\n  %s: %s", names[i], why);
        }
        pqcsv_free(&csv);
        free(exp);
    }
    cr_assert_eq(n_fail, 0, "%d of %d lenient files:%s", n_fail, n, failures);
}

/* Expected failure of each bad file: code and a word of the message. */
static const struct {
    const char *file;
    int code;
    const char *needle;
} bad_errors[] = {
    {"PARQUET-1481.parquet", TL_ECORRUPT, "physical type -7"},
    {"ARROW-GH-47662.parquet", TL_ECORRUPT, "page"},
    {"ARROW-GH-41317.parquet", TL_ECORRUPT, "encodings"},
    {"ARROW-GH-45185.parquet", TL_EUNSUPPORTED, "nested schema not supported"},
    {"uniform_encryption.parquet", TL_EUNSUPPORTED, "encrypted"},
    {"encrypt_columns_plaintext_footer.parquet", TL_EUNSUPPORTED, "encrypt"},
    {"mut_empty_file.parquet", TL_ECORRUPT, "too small"},
    {"mut_not_parquet.parquet", TL_ECORRUPT, "PAR1"},
    {"mut_truncated_tail.parquet", TL_ECORRUPT, "PAR1"},
    {"mut_footer_len_overflow.parquet", TL_ECORRUPT, "footer length"},
    {"mut_codec_lzo.parquet", TL_EUNSUPPORTED, "lzo"},
    {"mut_data_page_offset_oob.parquet", TL_ECORRUPT, "past"},
    {"mut_page_header_garbage.parquet", TL_ECORRUPT, "PageHeader"},
};

Test(pq_reader_corpus, bad_files_fail_cleanly)
{
    if (!corpus_present())
        cr_skip_test("%s not present", CORPUS);
    int n = list_parquet(CORPUS "/bad", names, 128);
    cr_assert_gt(n, 0);
    char failures[8192] = "";
    int n_fail = 0;
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/bad/%s", CORPUS, names[i]);
        for (int mem = 0; mem < 2; mem++) {
            pqcsv_buf csv = {0};
            tl_error err = {0};
            int rc = decode_csv(path, mem, &csv, &err);
            pqcsv_free(&csv);
            int ok = rc != TL_OK && err.code == rc && err.msg[0] && strstr(err.msg, path);
            int known = 0;
            for (size_t k = 0; k < sizeof bad_errors / sizeof *bad_errors; k++)
                if (strcmp(bad_errors[k].file, names[i]) == 0) {
                    known = 1;
                    ok = ok && rc == bad_errors[k].code &&
                         strcasestr(err.msg, bad_errors[k].needle) != NULL;
                }
            if (!mem)
                cr_log_info("bad %s: %d %s", names[i], rc, err.msg);
            if (!ok || !known) {
                n_fail++;
                size_t l = strlen(failures);
                snprintf(failures + l, sizeof failures - l, "\n  %s (%s): %s%d %s", names[i],
                         mem ? "mem" : "file", known ? "" : "(not in the table) ", rc, err.msg);
                break;
            }
        }
    }
    cr_assert_eq(n_fail, 0, "%d of %d bad files:%s", n_fail, n, failures);
}
