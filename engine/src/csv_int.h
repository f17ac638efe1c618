/*
 * csv_int.h - the streaming CSV reader (csv_read.c): CSV text -> tl_batch
 * column vectors of a given table schema; the input side of
 * `ticklake append TABLE FILE.csv`. Internal: the table code wraps it.
 *
 * Accepted text (a superset of what tl_batch_write_csv writes, which reads
 * back bit for bit; NaN comes back as the canonical quiet NaN, with the
 * sign of a leading '-'):
 *   - an optional UTF-8 BOM; a header line naming the columns, in any
 *     order, each schema column at most once; names match exactly;
 *   - records of exactly as many fields as the header, separated by ',',
 *     ending in \n or \r\n (the last one may end at the end of the file);
 *     fields quoted with '"' may hold commas, CR, LF and "" (one quote);
 *     after a closing quote comes a comma or the end of the record; a quote
 *     inside an unquoted field, a lone CR and a NUL byte anywhere are errors;
 *   - a blank line is skipped when the header has two or more fields (with
 *     one field it is a record whose field is empty);
 *   - an empty field is a null (string columns: "" is the empty string, an
 *     unquoted empty field a null; other types: "" is a null too);
 *   - bool: true/false (any case), 1/0; integers: decimal with an optional
 *     sign, in the type's range; float32/float64: decimal with optional
 *     fraction and exponent, correctly rounded to nearest (float32 directly,
 *     not via double), inf/infinity/nan in any case with an optional sign;
 *     no hex, no spaces; dates: YYYY-MM-DD (a leading '-' and more than four
 *     year digits allowed, as the writer prints far dates), a valid day;
 *     timestamps: integer nanoseconds since the epoch, or ISO 8601
 *     YYYY-MM-DD[(T|t|space)HH:MM:SS[(.|,)1-9 digits][Z|z|(+|-)HH[:]MM]]
 *     (no offset = UTC), within the int64 nanosecond range; timestamp_us:
 *     integer microseconds, or the same ISO text with also a leading '-'
 *     and more than four year digits (as the writer prints far years:
 *     "290000-12-30 23:00:00", year 0 = 1 BC) that is a whole microsecond
 *     (more fraction digits must be zeros: no silent rounding), within the
 *     int64 microsecond range.
 * Errors (TL_EINVAL) name the file ("stdin" for "-"), the line, the column
 * and the offending text (escaped, cut at 40 bytes): "f.csv: line 7:
 * column 'qty' (int32): expected an integer in -2147483648..2147483647,
 * found '99999999999'". A reader that failed keeps returning its error.
 * I/O failures are TL_EIO with errno; allocation failures TL_ENOMEM.
 *
 * Memory: one read buffer (chunk_bytes, grown only for a record longer than
 * it, up to TL_CSV_MAX_RECORD) plus batch_rows rows of column buffers,
 * reused across batches; independent of the file's size.
 */
#ifndef TL_CSV_INT_H
#define TL_CSV_INT_H

#include "ticklake.h"

#include <stddef.h>
#include <stdint.h>

/* Longest record (bytes, line end included) the reader accepts. */
#define TL_CSV_MAX_RECORD (256u << 20)
#define TL_CSV_DEFAULT_BATCH_ROWS 65536u
#define TL_CSV_DEFAULT_CHUNK (1u << 20)

typedef struct tl_csv_reader tl_csv_reader;

typedef struct tl_csv_opts {
    uint32_t batch_rows;      /* 0 = 65536 */
    const uint8_t *nullable;  /* n flags in schema order, nonzero = the
                                 column may hold nulls; NULL = every column
                                 nullable (tl_coldef carries no flag) */
    uint32_t chunk_bytes;     /* read size; 0 = 1 MiB. Tests use tiny ones
                                 to split records across reads. */
} tl_csv_opts;

/* path: a file, or "-" for stdin. defs/n: the table schema (name, type;
 * nullability in o->nullable); copied, so they need not outlive the call.
 * o may be NULL (defaults). Reads the header line and maps header names to
 * schema columns: a name not in the schema -> TL_EINVAL "FILE: line 1:
 * unknown column 'x' (the table has: a, b, ...)"; a repeated name ->
 * TL_EINVAL; a schema column absent from the header -> null in every row if
 * nullable, else TL_EINVAL "missing non-nullable column 'x'". An empty file
 * (no header) is TL_EINVAL. Also TL_EINVAL for NULL/zero arguments, an
 * unknown type, duplicate schema names; TL_ENOTFOUND / TL_EIO opening path;
 * TL_ENOMEM. */
TL_WUR int tl_csv_open(const char *path, const tl_coldef *defs, uint32_t n,
                       const tl_csv_opts *o, tl_csv_reader **out, tl_error *err);

/* The same over bytes in memory (not copied: they must outlive the reader);
 * name is used in messages. For the fuzz target and tests. */
TL_WUR int tl_csv_open_mem(const void *data, size_t len, const char *name,
                           const tl_coldef *defs, uint32_t n, const tl_csv_opts *o,
                           tl_csv_reader **out, tl_error *err);

/* Next batch of up to batch_rows rows (fewer only at the end of the input,
 * or when a string column's bytes approach 4 GiB), columns in SCHEMA order
 * (batch->defs is the reader's copy of defs). Memory owned by the reader,
 * valid until the next call or close. batch->n_rows == 0 at the end of the
 * input (and on every later call). A column without nulls in the batch has
 * validity NULL; null slots hold 0 / the empty string. */
TL_WUR int tl_csv_next(tl_csv_reader *r, tl_batch *batch, tl_error *err);

/* Bytes of input consumed by the batches returned so far (header and BOM
 * included); for progress. */
uint64_t tl_csv_bytes_read(const tl_csv_reader *r);
/* Size of the input file; 0 if unknown (pipe, terminal). */
uint64_t tl_csv_file_size(const tl_csv_reader *r);
/* NULL-safe; closes the file (not stdin). */
void tl_csv_close(tl_csv_reader *r);

#endif /* TL_CSV_INT_H */
