/*
 * fuzz_csv.c - libFuzzer target for the streaming CSV reader
 * (engine/src/csv_read.c) over a fixed schema of eight columns: a
 * non-nullable timestamp and nullable string, float64, int32, date,
 * float32, bool and uint64.
 *
 * Input: the bytes of a CSV file, read from an exact-size heap copy (so
 * ASan sees any overread) with 4 KiB reads (the default 1 MiB buffer would
 * dominate each run). Properties checked:
 *   - a failure sets a code and a message that names the file;
 *   - reading with a tiny read size and batch (records split across every
 *     read boundary) gives the same outcome: the same error message, or the
 *     same rows;
 *   - the rows, written back with tl_batch_write_csv, read back to the same
 *     text (the writer's output is a fixed point of reader + writer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/src/csv_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const tl_coldef defs[] = {
    {"ts", TL_TIMESTAMP}, {"sym", TL_STRING}, {"px", TL_FLOAT64}, {"q", TL_INT32},
    {"d", TL_DATE},       {"f", TL_FLOAT32},  {"b", TL_BOOL},     {"u", TL_UINT64},
    {"tu", TL_TIMESTAMP_US},
};
static const uint8_t nullable[] = {0, 1, 1, 1, 1, 1, 1, 1, 1};
#define N_COLS (sizeof defs / sizeof defs[0])

/* Read data; on success *text (malloc'd) holds every row as CSV with a
 * header. Returns the reader's code; err gets its message. */
static int read_all(const uint8_t *data, size_t size, uint32_t chunk, uint32_t batch_rows,
                    char **text, size_t *len, tl_error *err)
{
    tl_csv_opts o = {.batch_rows = batch_rows, .nullable = nullable, .chunk_bytes = chunk};
    tl_csv_reader *r = NULL;
    *text = NULL;
    *len = 0;
    int rc = tl_csv_open_mem(data, size, "fuzz.csv", defs, N_COLS, &o, &r, err);
    if (rc != TL_OK) {
        CHECK(r == NULL);
        return rc;
    }
    FILE *f = open_memstream(text, len);
    CHECK(f);
    int header = 1;
    for (;;) {
        tl_batch b;
        rc = tl_csv_next(r, &b, err);
        if (rc != TL_OK || b.n_rows == 0) {
            if (header) { /* no rows: the header alone */
                b.n_rows = 0;
                if (rc == TL_OK)
                    CHECK(tl_batch_write_csv(&b, f, 1, NULL) == TL_OK);
            }
            break;
        }
        CHECK(b.n_rows <= batch_rows && b.n_cols == N_COLS);
        CHECK(tl_batch_write_csv(&b, f, header, NULL) == TL_OK);
        header = 0;
    }
    CHECK(tl_csv_bytes_read(r) <= size);
    tl_csv_close(r);
    CHECK(fclose(f) == 0);
    if (rc != TL_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    CHECK(in);
    memcpy(in, data, size);

    char *t1, *t2;
    size_t l1, l2;
    tl_error e1 = {0}, e2 = {0};
    int rc1 = read_all(in, size, 4096, 64, &t1, &l1, &e1);
    if (rc1 != TL_OK)
        CHECK(rc1 < 0 && e1.code == rc1 && strncmp(e1.msg, "fuzz.csv: ", 10) == 0);

    /* tiny reads and batches: the same outcome */
    uint32_t chunk = 1 + (uint32_t)(size % 7);
    int rc2 = read_all(in, size, chunk, 3, &t2, &l2, &e2);
    CHECK(rc2 == rc1);
    if (rc1 != TL_OK)
        CHECK(strcmp(e1.msg, e2.msg) == 0);
    else
        CHECK(l1 == l2 && memcmp(t1, t2, l1) == 0);
    free(t2);

    /* the writer's text reads back to itself */
    if (rc1 == TL_OK) {
        char *t3;
        size_t l3;
        tl_error e3 = {0};
        CHECK(read_all((const uint8_t *)t1, l1, 4096, 1000, &t3, &l3, &e3) == TL_OK);
        CHECK(l3 == l1 && memcmp(t1, t3, l1) == 0);
        free(t3);
    }
    free(t1);
    free(in);
    return 0;
}
