/*
 * log_int.h - the transaction log's action model (spec/LOG.md sections 4-8):
 * the six actions of a commit as C structs, their newline-delimited JSON
 * form (serialise / parse), commit file names and the reader's protocol
 * check. Implemented by log_action.c. The commit protocol, snapshots and
 * conflict checks build on this and live elsewhere.
 *
 * Ownership: a commit returned by tl_log_commit_parse owns every string and
 * array it points to (one arena, freed by tl_log_commit_free). Actions a
 * caller builds for tl_log_commit_serialize point to the caller's memory,
 * which is only read.
 *
 * Text: every `const char *` below is NUL-terminated UTF-8 (checked).
 * Optional text fields are NULL when absent. Integers that the log stores
 * are int64 and, unless stated, non-negative (0 .. 2^63-1).
 */
#ifndef TL_LOG_INT_H
#define TL_LOG_INT_H

#include "tl_error.h"
#include "tl_types.h"

#include <stddef.h>
#include <stdint.h>

/* Protocol versions this build reads and writes (LOG-R30). */
#define TL_LOG_READER_VERSION 1
#define TL_LOG_WRITER_VERSION 1

/* Commit file names: 20 decimal digits, zero-padded, then ".json" (LOG-R2). */
#define TL_LOG_VERSION_DIGITS 20
#define TL_LOG_NAME_LEN 25 /* without the terminating NUL */

/* Default parser limits (tl_log_parse_opts; 0 there means these). */
#define TL_LOG_MAX_FILE_BYTES ((size_t)256 << 20)
#define TL_LOG_MAX_LINE_BYTES ((size_t)16 << 20)
#define TL_LOG_MAX_ACTIONS 1000000u
#define TL_LOG_MAX_DEPTH 10u

/* Field limits (LOG-R9, LOG-R11). */
#define TL_LOG_MAX_PATH 4095      /* bytes of a data file path (PATH_MAX - 1) */
#define TL_LOG_MAX_COMPONENT 255  /* bytes of one path component */
#define TL_LOG_MAX_NAME 1024      /* column, table, config key, appId */
#define TL_LOG_MAX_SYMBOL 1024    /* a symbol partition value */
#define TL_LOG_MAX_SHORT 256      /* operation, engineInfo */
#define TL_LOG_MAX_FEATURE 128    /* a protocol feature name */
#define TL_LOG_MAX_TEXT 65536     /* a configuration / parameter value */
#define TL_LOG_MAX_COLUMNS 4096   /* schema fields (= TLF_MAX_COLUMNS) */
#define TL_LOG_MAX_FEATURES 64    /* entries of readerFeatures, writerFeatures */
#define TL_LOG_STATS_STR_MAX 64   /* bytes of a string min/max (= TLF_ZONE_STR_MAX) */

/* Range of a `date` partition value: the days of int64-ns timestamps,
 * 1677-09-21 (-106752) .. 2262-04-11 (106751). */
#define TL_LOG_DAY_MIN (-106752)
#define TL_LOG_DAY_MAX 106751

/* Partition field names used in partitionValues and directory names. */
#define TL_LOG_PART_SYMBOL "symbol"
#define TL_LOG_PART_DATE "date"

/* Table configuration keys (metaData.configuration) and their defaults. */
#define TL_LOG_CONF_CHECKPOINT_INTERVAL "ticklake.checkpointInterval"
#define TL_LOG_CONF_LOG_RETENTION_HOURS "ticklake.logRetentionHours"
#define TL_LOG_CONF_DELETED_FILE_RETENTION_HOURS "ticklake.deletedFileRetentionHours"
#define TL_LOG_DEFAULT_CHECKPOINT_INTERVAL 100
#define TL_LOG_DEFAULT_LOG_RETENTION_HOURS 720         /* 30 days */
#define TL_LOG_DEFAULT_DELETED_FILE_RETENTION_HOURS 168 /* 7 days */
/* LOG-R84: log cleanup through the table (configured retention, tags)
 * never uses less than this, so that a writer must have read the table
 * more than an hour before publishing to meet a removed version. */
#define TL_LOG_MIN_RETENTION_MS 3600000LL
/* Automatic optimize after appends (spec/MAINT.md MAINT-O11): 0 = off. */
#define TL_LOG_CONF_AUTO_OPTIMIZE_MIN_FILES "ticklake.autoOptimize.minFiles"
#define TL_LOG_CONF_AUTO_OPTIMIZE_TARGET_ROWS "ticklake.autoOptimize.targetRows"
#define TL_LOG_DEFAULT_AUTO_OPTIMIZE_MIN_FILES 0
#define TL_LOG_DEFAULT_AUTO_OPTIMIZE_TARGET_ROWS 16777216

/* Action kinds. The value is the action's rank in the canonical line order
 * of a commit (LOG-R6). */
typedef enum tl_log_kind {
    TL_LOG_COMMIT_INFO = 1,
    TL_LOG_PROTOCOL = 2,
    TL_LOG_METADATA = 3,
    TL_LOG_TXN = 4,
    TL_LOG_REMOVE = 5,
    TL_LOG_ADD = 6,
} tl_log_kind;

/* "commitInfo", "protocol", "metaData", "txn", "remove", "add"; "?" else. */
const char *tl_log_kind_name(int kind);

/* A string -> string map; keys distinct, order kept as given / as read. */
typedef struct tl_log_kv {
    const char *key;
    const char *val;
} tl_log_kv;

typedef struct tl_log_map {
    const tl_log_kv *kv;
    uint32_t n;
} tl_log_map;

/* A list of strings. */
typedef struct tl_log_strs {
    const char *const *s;
    uint32_t n;
} tl_log_strs;

typedef struct tl_log_commit_info {
    int64_t ict_ms;                /* inCommitTimestamp, ms since the epoch */
    const char *operation;         /* "CREATE TABLE", "APPEND", ... */
    tl_log_map op_params;          /* operationParameters */
    int has_read_version;          /* readVersion present */
    int64_t read_version;
    const char *txn_id;            /* UUID text or NULL */
    const char *engine_info;       /* "ticklake/0.1.0" */
    int64_t n_added_files, n_added_rows, n_removed_files, n_removed_rows;
} tl_log_commit_info;

typedef struct tl_log_protocol {
    int64_t min_reader_version, min_writer_version; /* 1 .. 2^31-1 */
    tl_log_strs reader_features, writer_features;
} tl_log_protocol;

typedef struct tl_log_field {
    const char *name;
    tl_type type;
    int nullable;
} tl_log_field;

typedef struct tl_log_metadata {
    const char *id;            /* table id: UUID text (tl_log_uuid4) */
    const char *name;          /* NULL = absent */
    int64_t created_ms;
    const tl_log_field *fields;
    uint32_t n_fields;
    const char *part_symbol_col; /* identity partition on this string
                                    column; NULL = none */
    const char *part_day_col;    /* day(col) partition on this timestamp
                                    column; NULL = none */
    tl_log_strs sort_key;        /* column names */
    tl_log_map config;
} tl_log_metadata;

/* The true partition values of a data file (never parsed from its path). */
typedef struct tl_log_pvals {
    int has_symbol;     /* the table partitions by symbol */
    int symbol_null;    /* ... and the file's symbol is null */
    const char *symbol; /* else the value (may be ""); no NUL by construction */
    int has_date;       /* the table partitions by day */
    int date_null;      /* ... and the file's timestamps are null */
    int32_t date;       /* else days since 1970-01-01 */
} tl_log_pvals;

/* One min or max value; which member is set follows the column type:
 * i: int8..int64, timestamp, date; u: uint8..uint64, bool (0/1);
 * f: float32 (exactly a binary32 value), float64, never NaN;
 * s: string bytes (any bytes, at most TL_LOG_STATS_STR_MAX). */
typedef union tl_log_value {
    int64_t i;
    uint64_t u;
    double f;
    struct {
        const uint8_t *p;
        uint32_t len;
    } s;
} tl_log_value;

typedef struct tl_log_colstats {
    const char *name;
    tl_type type;
    int64_t null_count;
    int has_min, has_max;
    int has_nan;                      /* float columns only */
    int min_truncated, max_truncated; /* string columns only */
    tl_log_value min, max;
} tl_log_colstats;

typedef struct tl_log_stats {
    int has_time_range;             /* firstTimestamp / lastTimestamp */
    int64_t first_ts_ns, last_ts_ns;
    const tl_log_colstats *cols;
    uint32_t n_cols;
} tl_log_stats;

typedef struct tl_log_add {
    const char *path;      /* relative to the table root (LOG-R11) */
    tl_log_pvals part;
    int64_t size_bytes;
    int64_t n_rows;
    int64_t mtime_ms;
    int data_change;
    int has_stats;
    tl_log_stats stats;
} tl_log_add;

typedef struct tl_log_remove {
    const char *path;
    int64_t deletion_ms;
    int data_change;
    int has_part, has_size, has_n_rows;
    tl_log_pvals part;
    int64_t size_bytes;
    int64_t n_rows;
} tl_log_remove;

typedef struct tl_log_txn {
    const char *app_id;
    int64_t version;
    int has_last_updated;
    int64_t last_updated_ms;
} tl_log_txn;

typedef struct tl_log_action {
    tl_log_kind kind;
    uint32_t line;       /* 1-based line of a parsed action; 0 = built in memory */
    uint64_t offset;     /* byte offset of that line in the commit file */
    union {
        tl_log_commit_info ci;
        tl_log_protocol proto;
        tl_log_metadata meta;
        tl_log_txn txn;
        tl_log_remove rm;
        tl_log_add add;
    } u;
} tl_log_action;

typedef struct tl_log_arena tl_log_arena;
/* An arena of 16-byte aligned pieces (chunks of 64 KiB growing to 1 MiB),
 * freed at once: the memory of parsed commits (ticklake and Delta). */
tl_log_arena *tl_log_arena_new(void);                   /* NULL: out of memory */
void *tl_log_arena_alloc(tl_log_arena *a, size_t n);    /* NULL: out of memory */
void tl_log_arena_free(tl_log_arena *a);                /* NULL-safe */

/* A parsed commit: actions in file order (which is canonical, LOG-R6). */
typedef struct tl_log_commit {
    tl_log_action *actions;
    uint32_t n_actions;
    uint32_t n_skipped;  /* unknown action lines skipped (LOG-R8) */
    tl_log_arena *arena; /* owns everything the actions point to */
} tl_log_commit;

typedef struct tl_log_parse_opts {
    const char *name;      /* commit named in errors ("000...07.json"), or NULL */
    int64_t version;       /* the commit's version, or -1 if unknown; also
                              names it when name is NULL, and enables the
                              version rules (LOG-R27) */
    size_t max_file_bytes; /* 0 = TL_LOG_MAX_FILE_BYTES */
    size_t max_line_bytes; /* 0 = TL_LOG_MAX_LINE_BYTES (without the LF) */
    uint32_t max_actions;  /* 0 = TL_LOG_MAX_ACTIONS (lines, skipped ones too) */
    uint32_t max_depth;    /* 0 = TL_LOG_MAX_DEPTH (nesting of [ and {) */
    int strict;            /* 1: reject unknown action types and unknown
                              fields instead of skipping them (LOG-R8) */
    int no_protocol_check; /* 1: accept protocol actions this build cannot
                              read (tools listing history); default checks
                              LOG-R31 as soon as the protocol line is read */
} tl_log_parse_opts;

/* Options with every member 0 / NULL and version -1. */
void tl_log_parse_opts_default(tl_log_parse_opts *o);

/* Parse the bytes of one commit file. On success *out holds the actions
 * (free with tl_log_commit_free); on failure *out is empty. opts may be
 * NULL (defaults). Errors, each naming the commit, the 1-based line, the
 * byte offset of the line (and of the JSON error), the field, expected and
 * found:
 *   TL_ECORRUPT      not a valid commit (LOG-R4 .. LOG-R28)
 *   TL_EUNSUPPORTED  a limit of opts exceeded; a feature this build does not
 *                    know (LOG-R31)
 *   TL_EVERSION      minReaderVersion above TL_LOG_READER_VERSION (LOG-R31)
 *   TL_ENOMEM */
TL_WUR int tl_log_commit_parse(const char *buf, size_t len, const tl_log_parse_opts *opts,
                               tl_log_commit *out, tl_error *err);
/* tl_log_commit_parse that never returns a commit damaged by a failed
 * allocation inside jansson (see tl_json_loadb): such a parse is repeated
 * once, then TL_ENOMEM; a TL_ECORRUPT while memory is out is TL_ENOMEM too.
 * Implemented by log.c; every reader of commit files should use it. */
TL_WUR int tl_log_commit_parse_checked(const char *buf, size_t len, const tl_log_parse_opts *opts,
                                       tl_log_commit *out, tl_error *err);

/* Free a parsed commit and zero it; NULL-safe, idempotent. */
void tl_log_commit_free(tl_log_commit *c);

/* Serialise n actions as one commit: one compact JSON object per line, each
 * line ending in LF, in canonical order (a stable sort by kind, LOG-R6).
 * The bytes are written to *buf (capacity *cap, grown with realloc; the
 * caller frees it; *buf may be NULL with *cap 0), their count to *len.
 * version is the commit's version (-1 unknown), used in messages and for
 * the version rules. Nothing is written unless the actions form a valid
 * commit within the readers' default limits (TL_LOG_MAX_ACTIONS, _LINE_BYTES,
 * _FILE_BYTES; LOG-R7): TL_EINVAL with the action index, field, expected
 * and found (a commit over a limit must be split); or TL_ENOMEM. *len is 0
 * on failure. */
TL_WUR int tl_log_commit_serialize(const tl_log_action *acts, uint32_t n, int64_t version,
                                   char **buf, size_t *cap, size_t *len, tl_error *err);

/* 1 if the two actions hold the same values (line/offset ignored). */
int tl_log_action_equal(const tl_log_action *a, const tl_log_action *b);

/* Reader / writer protocol checks (LOG-R31, LOG-R32): TL_OK, TL_EVERSION
 * (version above this build's) or TL_EUNSUPPORTED (a feature it does not
 * implement, named). */
TL_WUR int tl_log_protocol_check_read(const tl_log_protocol *p, tl_error *err);
TL_WUR int tl_log_protocol_check_write(const tl_log_protocol *p, tl_error *err);

/* The table configuration value of key as an integer: the map's value if
 * present, else the documented default. Only the TL_LOG_CONF_* keys are
 * known: TL_EINVAL for others. TL_ECORRUPT if the value is malformed
 * (a validated metaData never has one). */
TL_WUR int tl_log_config_int(const tl_log_metadata *m, const char *key, int64_t *out,
                             tl_error *err);

/* A random (version 4) UUID as 36 lowercase characters + NUL, from
 * getrandom(2). TL_EIO if the kernel's generator fails. */
TL_WUR int tl_log_uuid4(char out[37], tl_error *err);

/* The commit file name of version (0 .. INT64_MAX) into out. */
void tl_log_commit_name(int64_t version, char out[TL_LOG_NAME_LEN + 1]);

/* The version of a commit file name: TL_OK, or TL_EINVAL when name is not
 * exactly 20 digits + ".json" or names a version above INT64_MAX. */
TL_WUR int tl_log_commit_version(const char *name, int64_t *version);

/* LOG-R28 for actions checked against a metaData that is not in their own
 * commit (the snapshot's, LOG-R49): the partition fields of every add and
 * remove (null only for nullable columns), the columns and types of add
 * statistics, and a time range only with a day column. commit names the
 * commit in messages; code is the code on failure (TL_ECORRUPT reading,
 * TL_EINVAL writing). Also TL_ENOMEM. Implemented by log_action.c. */
TL_WUR int tl_log_actions_check_meta(const tl_log_action *acts, uint32_t n,
                                     const tl_log_metadata *m, const char *commit, int code,
                                     tl_error *err);

/* ==== commits, snapshots and conflicts (log.c; LOG.md 9.1-9.3, 9.6) ==== */

#include "io_int.h"

/* jansson reports a failed allocation as a syntax error (often with an empty
 * message), so a failed json_loadb (or tl_log_commit_parse's TL_ECORRUPT)
 * does not prove the text bad. Callers parse once more (a transient failure
 * passes); if that fails too, this decides: 1 when memory is exhausted (a
 * small probe allocation fails; report TL_ENOMEM), 0 when the text is at
 * fault. */
int tl_log_parse_oom(void);

/* jansson 2.14 drops a byte of a string when its lexer cannot grow a buffer,
 * and the parse succeeds (a path or name silently loses a character). The
 * engine installs jansson allocation functions (log.c, at load time) that
 * count failed allocations per thread: */
struct json_t;
struct json_error_t;
uint64_t tl_json_alloc_failures(void);
/* (Re)install them: tests that route jansson elsewhere call this after. */
void tl_json_alloc_install(void);
/* json_loadb that never returns a damaged tree: a parse during which an
 * allocation failed is dropped and repeated once; NULL with *oom = 1 when
 * memory is out (report TL_ENOMEM), NULL with *oom = 0 when the text is bad
 * (je says where). */
struct json_t *tl_json_loadb(const char *buf, size_t len, size_t flags, struct json_error_t *je,
                             int *oom);

#define TL_LOG_DIR "_delta_log"
#define TL_LOG_DEFAULT_MAX_ATTEMPTS 20 /* LOG-R52 */

/* Per-version summary kept by a snapshot (for history). The strings point
 * into the snapshot's parsed commits. */
typedef struct tl_log_version_info {
    int64_t version;
    int64_t ict_ms;          /* inCommitTimestamp */
    const char *operation;
    const char *txn_id;      /* NULL if the commit has none */
    int has_read_version;
    int64_t read_version;
    int64_t n_added_files, n_added_rows, n_removed_files, n_removed_rows;
    tl_log_map op_params;    /* operationParameters */
} tl_log_version_info;

typedef struct tl_log_map_slot tl_log_map_slot;

/* Open-addressing hash map from a string key to a pointer (internal; the
 * keys and values belong to the snapshot's commits). */
typedef struct tl_log_strmap {
    tl_log_map_slot *slots;
    size_t cap, n; /* cap a power of two or 0 */
} tl_log_strmap;

/* A txn entry of a snapshot: the latest txn of its appId and the table
 * version that holds it. */
typedef struct tl_log_txn_entry {
    const tl_log_txn *txn;
    int64_t table_version;
} tl_log_txn_entry;

typedef struct tl_log_ckpt tl_log_ckpt; /* a decoded checkpoint (checkpoint_int.h) */

/* The state of a table at one version (LOG-R48), built by replaying commits
 * 0..version, or (LOG-R72) from the checkpoint at checkpoint_version plus
 * the commits after it. Everything points into `commits` and `ckpt` and is
 * freed by tl_log_snapshot_free.
 *
 * history[] and commits[] have version + 1 entries indexed by version, but
 * only the replayed versions first_history_version .. version are filled
 * (first_history_version is 0 without a checkpoint). When the snapshot
 * starts from a checkpoint c, history[c] holds only version and ict_ms (from
 * the checkpoint); entries below are zero. For the summaries of older
 * versions use tl_log_history. */
typedef struct tl_log_snapshot {
    int64_t version;
    int64_t latest_listed;            /* latest version found when listing */
    const tl_log_protocol *protocol;
    const tl_log_metadata *meta;
    tl_log_strmap live;               /* path -> const tl_log_add * */
    tl_log_strmap tombstones;         /* path -> const tl_log_remove * */
    tl_log_strmap txns;               /* appId -> tl_log_txn_entry * */
    tl_log_txn_entry *txn_entries;    /* storage of the txns map */
    size_t n_txn_entries, cap_txn_entries;
    tl_log_version_info *history;     /* version + 1 entries, index = version */
    tl_log_commit *commits;           /* version + 1 parsed commits (replayed ones) */
    size_t cap_commits;
    int64_t first_history_version;    /* first filled history[] entry */
    int64_t checkpoint_version;       /* the checkpoint it started from, or -1 */
    int64_t oldest_reachable;         /* LOG-R81 as found while loading, or -1
                                         when not determined (then 0 or the
                                         checkpoint used is a lower bound) */
    tl_log_ckpt *ckpt;                /* owned; NULL without a checkpoint */
    int delta;                        /* 1: read from a Delta Lake log (read-only;
                                         its data files are Parquet) */
    tl_log_arena *delta_arena; /* owned: the Delta commits' strings */
} tl_log_snapshot;

typedef struct tl_log_snap_opts {
    const tl_io *io;    /* NULL: tl_io_default() */
    int at;             /* TL_LOG_AT_* */
    int64_t version;    /* TL_LOG_AT_VERSION */
    int64_t ts_ms;      /* TL_LOG_AT_TIMESTAMP */
    int no_checkpoint;  /* 1: ignore checkpoints, replay from version 0 (tests,
                           benchmarks; fails once log cleanup deleted commits) */
    int delta;          /* 1: the log is a Delta Lake log (tl_delta_detect): read
                           it in the Delta dialect (delta_read.c, LOG.md section
                           10), read-only. 0: a ticklake log; a Delta log is then
                           refused with TL_EUNSUPPORTED "<table> is a Delta Lake
                           table (read-only in ticklake)" (LOG-D1), so writers,
                           checkpoints and vacuum never act on one. */
} tl_log_snap_opts;

enum { TL_LOG_AT_LATEST = 0, TL_LOG_AT_VERSION = 1, TL_LOG_AT_TIMESTAMP = 2 };

/* Load the snapshot of the table under root (an open directory): list
 * _delta_log/ (LOG-R2/R3: other names ignored), take the newest valid
 * checkpoint c <= v whose following commits exist (LOG-R72; a missing,
 * corrupt or mismatching one is skipped for an older one, else replay from
 * version 0), replay commits c+1..v in order (LOG-R48) and check LOG-R49
 * while applying them. "As of timestamp" is found by binary search over the
 * reachable versions, reading line 1 of commit files (LOG-R56). opts NULL:
 * latest. Errors:
 *   TL_ENOTFOUND  no _delta_log/ or no version 0 ("not a table"); version N
 *                 above the latest (names the latest, LOG-R57) or below the
 *                 oldest reachable version (names it, LOG-R57/R81); a
 *                 timestamp before the oldest reachable version's (names that
 *                 version and its timestamp, LOG-R56)
 *   TL_ECORRUPT   a gap in the versions no checkpoint covers (names the
 *                 missing version), a commit that does not parse, a LOG-R49
 *                 violation (names the version and the path / field)
 *   TL_EVERSION, TL_EUNSUPPORTED  LOG-R31; TL_EIO; TL_ENOMEM. */
TL_WUR int tl_log_snapshot_load(const tl_io_file *root, const tl_log_snap_opts *opts,
                                tl_log_snapshot *out, tl_error *err);
void tl_log_snapshot_free(tl_log_snapshot *s); /* NULL-safe, idempotent */

/* Live files: their count and iteration (*cursor starts at 0; NULL at the
 * end). Lookup by path: NULL if not live. */
size_t tl_log_snapshot_n_live(const tl_log_snapshot *s);
const tl_log_add *tl_log_snapshot_live_next(const tl_log_snapshot *s, size_t *cursor);
const tl_log_add *tl_log_snapshot_live_get(const tl_log_snapshot *s, const char *path);
const tl_log_remove *tl_log_snapshot_tombstone_get(const tl_log_snapshot *s,
                                                   const char *path);
size_t tl_log_snapshot_n_tombstones(const tl_log_snapshot *s);
/* Tombstones in map order (*cursor starts at 0; NULL at the end). */
const tl_log_remove *tl_log_snapshot_tombstone_next(const tl_log_snapshot *s, size_t *cursor);
/* The latest txn of appId, or NULL. */
const tl_log_txn_entry *tl_log_snapshot_txn(const tl_log_snapshot *s, const char *app_id);

typedef struct tl_log_write_opts {
    const tl_io *io;                   /* NULL: tl_io_default() */
    int64_t (*now_ms)(void *arg);      /* wall clock in ms; NULL: CLOCK_REALTIME */
    void *now_arg;
    const char *operation;             /* NULL: "CREATE TABLE" / "APPEND" / "WRITE" */
    tl_log_map op_params;
    int max_attempts;                  /* 0: TL_LOG_DEFAULT_MAX_ATTEMPTS (LOG-R52) */
    /* The snapshot the writer read (version = read_version); its protocol
     * is checked for writing (LOG-R40/R32: TL_EVERSION, TL_EUNSUPPORTED)
     * and the actions against its metaData (LOG-R28: TL_EINVAL);
     * used for the idempotency check (LOG-R60) and ict(r). NULL: loaded
     * when needed (then only the idempotency check uses it). */
    const tl_log_snapshot *snap;
    /* TESTS ONLY, the negative control of the concurrency tests: publish
     * with plain rename(2), which overwrites a concurrent commit. Never set
     * it elsewhere: it breaks LOG-R44 and LOG-C4. */
    int unsafe_plain_rename;
    /* 1: no automatic checkpoint after the commit (LOG-R70), e.g. a caller
     * that writes many commits quickly and checkpoints itself. */
    int no_checkpoint;
    /* Partitions the writer read whole (LOG-R50 "read partitions"; the
     * dedup rewrite of spec/MAINT.md): a winner that added a file to one of
     * them is a conflict. NULL / 0: none. */
    const tl_log_pvals *read_parts;
    uint32_t n_read_parts;
} tl_log_write_opts;

typedef struct tl_log_write_result {
    int64_t version;      /* the version committed; for a no-op, the table
                             version holding the txn that made it one */
    int noop;             /* 1: already applied (LOG-R60/R61), nothing written */
    int attempts;         /* publication attempts made */
    char txn_id[37];      /* txnId of the published commit */
    /* On failure: 1 when the commit may be visible all the same (published
     * but not made durable, or an unknown outcome, LOG-R46/R47): the caller
     * must keep the data files it references (orphans at worst, LOG-C6). */
    int maybe_visible;
    /* Automatic checkpoint (LOG-R70) after a commit of version v > 0 with
     * v % ticklake.checkpointInterval == 0: 1 if it was written (or already
     * existed). A failed one never fails the commit: checkpoint_rc holds its
     * code (TL_OK otherwise) and checkpoint_error its message. */
    int checkpoint_written;
    int checkpoint_rc;
    char checkpoint_error[256];
} tl_log_write_result;

/* Commit acts (no commitInfo: it is built here) as the next version after
 * read_version (LOG-R40..R47, R50..R52, R55, R60/R61). read_version -1
 * creates the table: version 0, acts must hold protocol and metaData, and
 * _delta_log/ is created (tl_io_mkdir_p). The function copies the actions,
 * sets every remove's deletionTimestamp and every txn's lastUpdated to the
 * commit's inCommitTimestamp, writes _delta_log/.<txnId>.json.tmp, fsyncs
 * it, publishes it put-if-absent and fsyncs _delta_log/. Data files must be
 * durable already (LOG-R41, the caller's job).
 * Errors:
 *   TL_EINVAL     bad arguments or actions (nothing written)
 *   TL_ECONFLICT  the table exists (creating); a conflicting winner (names
 *                 the version and the rule, LOG-R50/R51)
 *   TL_EBUSY      max_attempts publications lost (names the versions)
 *   TL_EIO        a write or fsync failed (never retried, LOG-R46); after a
 *                 failed fsync of _delta_log/ the version may be visible
 *   TL_ENOTFOUND, TL_ECORRUPT ... from reading the log; TL_ENOMEM. */
TL_WUR int tl_log_write(const tl_io_file *root, int64_t read_version, const tl_log_action *acts,
                        uint32_t n, const tl_log_write_opts *opts, tl_log_write_result *res,
                        tl_error *err);

/* ==== checkpoints, history, cleanup (checkpoint.c, log.c; LOG.md 9.4,
 * 9.7, 9.8) ==== */

typedef struct tl_log_checkpoint_info {
    int64_t version;     /* the checkpoint's version */
    int existed;         /* 1: another writer had published it (EEXIST) */
    size_t bytes;        /* size of the file this call encoded */
    uint64_t n_add, n_remove, n_txn;
} tl_log_checkpoint_info;

/* Write the checkpoint of snap->version (LOG-R70/R71): encode the snapshot,
 * publish _delta_log/<v>.checkpoint.tlc put-if-absent (tmp + fsync +
 * renameat2 NOREPLACE or link + fsync of _delta_log/; an existing file is
 * fine: same content), then replace the hint _delta_log/_last_checkpoint
 * (LOG-R73). io NULL: the default; info may be NULL. Errors: TL_EINVAL,
 * TL_EIO (a write or fsync failed; the checkpoint may or may not exist, which
 * never changes a snapshot, LOG-C7), TL_ENOMEM. */
TL_WUR int tl_log_checkpoint_write(const tl_io_file *root, const tl_log_snapshot *snap,
                                   const tl_io *io, tl_log_checkpoint_info *info,
                                   tl_error *err);

/* The range of versions a snapshot can be built for: *latest the newest
 * commit, *oldest the oldest reachable version (LOG-R81). Cheap: lists
 * _delta_log/ and checks at most the header and checksum of checkpoints, no
 * replay. oldest may be NULL (then no checkpoint is read at all). Errors:
 * TL_ENOTFOUND (not a table), TL_ECORRUPT (a gap no checkpoint covers),
 * TL_EIO, TL_ENOMEM. */
TL_WUR int tl_log_version_range(const tl_io_file *root, const tl_io *io, int64_t *oldest,
                                int64_t *latest, tl_error *err);

/* History (`ticklake history`): one entry per reachable version, oldest
 * first, read from line 1 (the commitInfo) of each commit file without
 * replaying the log. The entry of a checkpoint version whose commit file
 * is gone holds only version and ict_ms (operation NULL). */
typedef struct tl_log_hist {
    tl_log_version_info *entries; /* n entries, versions oldest .. latest */
    size_t n;
    int64_t oldest, latest;
    void *mem;                    /* owns the strings */
} tl_log_hist;

/* Errors: those of tl_log_version_range; TL_ECORRUPT for a first line that
 * is not a valid commitInfo (names the file, the field). */
TL_WUR int tl_log_history(const tl_io_file *root, const tl_io *io, tl_log_hist *out,
                          tl_error *err);
void tl_log_hist_free(tl_log_hist *h); /* NULL-safe, idempotent */

typedef struct tl_log_cleanup_report {
    int64_t checkpoint_version;  /* the covering checkpoint c, -1 if none qualified */
    int64_t n_commits_deleted;   /* commit files deleted (versions < c) */
    int64_t n_checkpoints_deleted;
    int64_t oldest_reachable;    /* after the cleanup */
} tl_log_cleanup_report;

/* Log cleanup (LOG-R80): with c the newest valid checkpoint whose
 * inCommitTimestamp <= now_ms - retention_ms and whose following commits
 * all exist, delete the commit files of versions < c oldest first, then the
 * checkpoints < c, then fsync _delta_log/. Never commit c, never a commit no
 * checkpoint covers. retention_ms < 0: ticklake.logRetentionHours of the
 * latest metaData. report may be NULL. Errors: those of loading the latest
 * snapshot; TL_EIO (a failed unlink or fsync: what was deleted stays
 * deleted, the remaining commits are contiguous, LOG-C8). Not called
 * automatically: tl_log_write never deletes log files. */
TL_WUR int tl_log_cleanup(const tl_io_file *root, const tl_io *io, int64_t now_ms,
                          int64_t retention_ms, tl_log_cleanup_report *report, tl_error *err);

#endif /* TL_LOG_INT_H */
