/*
 * delta_read_int.h - the Delta Lake dialect of the log reader
 * (engine/src/delta_read.c; spec/LOG.md section 10, rules LOG-D1..).
 *
 * A directory whose _delta_log/ holds a Delta Lake log (not a ticklake one:
 * tl_delta_detect, LOG-D1) is read-only in ticklake. Its JSON commits are
 * parsed here into the structures of log_int.h (tl_log_commit and its
 * actions), so that the replay, snapshot, time-travel and history code of
 * log.c / snapshot.c works on them unchanged:
 *   - action 0 of every parsed commit is a commitInfo (synthesised when the
 *     commit has none) whose counts are those of the commit's file actions
 *     and whose ict_ms the caller sets to the version's timestamp
 *     (tl_delta_commit_time, LOG-D8);
 *   - the other actions follow in the canonical order of LOG-R6 (protocol,
 *     metaData, txn, remove, add), each kind in file order;
 *   - a Delta metaData maps onto tl_log_metadata (schema through the Spark
 *     type mapping, a string partition column as the symbol field, a date
 *     partition column as the date field, no sort key);
 *   - add/remove paths are URI-decoded; stats (a JSON string) give
 *     numRecords.
 *
 * Ownership: every string and array the actions point to lives in a
 * tl_log_arena (one per snapshot); the commit's actions array itself is
 * malloc'd and freed by tl_log_commit_free (commit.arena is NULL).
 */
#ifndef TL_DELTA_READ_INT_H
#define TL_DELTA_READ_INT_H

#include "io_int.h"
#include "log_int.h"

#include <stddef.h>
#include <stdint.h>

/* Limits of the Delta reader (LOG-D3). */
#define TL_DELTA_MAX_DEPTH 32u  /* nesting of [ and { in a line or a JSON string field */
#define TL_DELTA_MAX_ID 1024    /* bytes of metaData.id */

/* The message every write to a Delta table returns (TL_EUNSUPPORTED). */
#define TL_DELTA_READ_ONLY_FMT "%s is a Delta Lake table (read-only in ticklake)"

/* What tl_delta_detect found under a table directory (LOG-D1). */
enum {
    TL_DELTA_NO = 0,        /* not a Delta log (a ticklake log, or nothing) */
    TL_DELTA_YES = 1,       /* a Delta log with its JSON commit of version 0 */
    TL_DELTA_CKPT_ONLY = 2, /* a Delta log whose version 0 is gone and whose
                               state is in a Delta checkpoint (unsupported) */
};

/* LOG-D1: decide whether root/_delta_log holds a Delta Lake log. Reads at
 * most the lines of version 0 up to its first metaData action. A missing
 * _delta_log/ or an unreadable version 0 is TL_DELTA_NO (the ticklake
 * reader then reports what is wrong). Errors: TL_EIO, TL_ENOMEM only. */
TL_WUR int tl_delta_detect(const tl_io *io, const tl_io_file *root, int *kind, tl_error *err);

/* 1 if name is a Delta checkpoint or checkpoint hint of _delta_log/
 * (<20 digits>.checkpoint[.*].parquet or .json, _last_checkpoint is not
 * counted: ticklake writes one too). */
int tl_delta_checkpoint_name(const char *name);

/* What one commit is parsed against. */
typedef struct tl_delta_parse_in {
    const char *file;                /* commit path for messages */
    int64_t version;                 /* its version */
    const tl_log_metadata *meta;     /* metaData in force before it (NULL at v0) */
    size_t max_file_bytes;           /* 0: TL_LOG_MAX_FILE_BYTES */
    size_t max_line_bytes;           /* 0: TL_LOG_MAX_LINE_BYTES */
    uint32_t max_lines;              /* 0: TL_LOG_MAX_ACTIONS */
} tl_delta_parse_in;

/* Parse one Delta commit (LOG-D2..D7) into *out (actions as described
 * above; out->arena NULL, strings in ar). Errors name the file, the line,
 * the action and the field:
 *   TL_ECORRUPT      invalid JSON, a wrong type, a missing required field or
 *                    action, a bad %XX escape, duplicate paths ...
 *   TL_EUNSUPPORTED  a limit (LOG-D3); a reader feature, type, partition
 *                    column or layout this reader does not implement (names
 *                    it); deletion vectors; column mapping
 *   TL_EVERSION      minReaderVersion above 3
 *   TL_ENOMEM */
TL_WUR int tl_delta_commit_parse(const char *buf, size_t len, const tl_delta_parse_in *in,
                                 tl_log_arena *ar, tl_log_commit *out, tl_error *err);

/* The raw timestamp of a commit (LOG-D8): commitInfo.inCommitTimestamp if
 * present, else commitInfo.timestamp, else -1 (the caller then uses the
 * file's modification time). Reads only the commitInfo line (the first line
 * whose action name is written "commitInfo"). Errors: TL_ECORRUPT (that line
 * is not JSON, or the field is not an integer >= 0; names file, line,
 * field), TL_EUNSUPPORTED (a line over the limit), TL_ENOMEM. */
TL_WUR int tl_delta_commit_time(const char *buf, size_t len, const char *file, int64_t *ms,
                                tl_error *err);

#endif /* TL_DELTA_READ_INT_H */
