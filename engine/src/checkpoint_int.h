/*
 * checkpoint_int.h - the checkpoint file codec (spec/LOG.md 9.7): encode a
 * snapshot's state as the compact binary checkpoint `.checkpoint.tlc`, verify
 * and decode one from untrusted bytes. Implemented by checkpoint.c; the
 * snapshot loader (log.c) builds snapshots from a decoded checkpoint.
 *
 * A decoded checkpoint owns the file's bytes: every string of its actions
 * points into them (strings are stored NUL-terminated), and its arrays are
 * one allocation per kind, sized from header counts checked against the
 * file size first.
 */
#ifndef TL_CHECKPOINT_INT_H
#define TL_CHECKPOINT_INT_H

#include "log_int.h"

#define TL_CKPT_MAGIC "TLCK\r\n\x1a\n"  /* 8 bytes */
#define TL_CKPT_FORMAT_VERSION 1u
#define TL_CKPT_HEADER_BYTES 80u
#define TL_CKPT_TRAILER_BYTES 8u        /* XXH3-64 of everything before it */
#define TL_CKPT_SUFFIX ".checkpoint.tlc"
#define TL_CKPT_NAME_LEN 35             /* 20 digits + ".checkpoint.tlc" */
#define TL_CKPT_LAST "_last_checkpoint"
/* Most chunks in a chunk index a reader accepts (TL_ECORRUPT above). */
#define TL_CKPT_MAX_CHUNKS 4096u
/* Largest checkpoint file a reader accepts (TL_EUNSUPPORTED above). */
#define TL_CKPT_MAX_FILE_BYTES ((size_t)4 << 30)

/* Adds per chunk of the chunk index the encoder writes (default 4096), and
 * the fewest adds the decoder splits over two threads (default 16384).
 * Process-wide; tests lower them to exercise the chunked paths. */
extern uint32_t tl_log_ckpt_chunk_adds;
extern uint64_t tl_log_ckpt_par_min;

/* A decoded checkpoint (tl_log_ckpt_decode). */
typedef struct tl_log_ckpt {
    int64_t version;
    int64_t ict_ms;
    const char *buf;               /* the file's bytes (owned: malloc'd, or
                                      the mapping below) */
    size_t len;
    tl_io_map map;                 /* when the bytes are a file mapping */
    tl_log_commit head;            /* commitInfo, protocol, metaData, txns */
    const tl_log_protocol *protocol;
    const tl_log_metadata *meta;
    const tl_log_action *txns;     /* n_txn txn actions inside head */
    int64_t *txn_versions;         /* the table version holding each */
    uint64_t n_txn;
    tl_log_action *adds;           /* n_add, kind TL_LOG_ADD */
    uint64_t n_add;
    tl_log_action *removes;        /* n_remove, kind TL_LOG_REMOVE */
    uint64_t n_remove;
    tl_log_colstats *cols;         /* storage of every add's statistics */
    uint64_t n_cols;
    const char **names;            /* statistics column names (into buf) */
    uint32_t n_names;
    size_t adds_bytes, cols_bytes; /* sizes of the adds / cols allocations */
} tl_log_ckpt;

/* The checkpoint file name of version into out. */
void tl_log_ckpt_name(int64_t version, char out[TL_CKPT_NAME_LEN + 1]);
/* The version of a checkpoint file name: TL_OK, or TL_EINVAL if name is not
 * exactly 20 digits + ".checkpoint.tlc" (or above INT64_MAX). */
TL_WUR int tl_log_ckpt_version(const char *name, int64_t *version);

/* Encode the state of snapshot s at s->version (LOG-R70): protocol,
 * metaData, every txn, every live add, every tombstone whose
 * deletionTimestamp >= ict(version) - deletedFileRetentionHours. Adds,
 * removes and txns are written sorted by path / appId, so two writers of the
 * same version write the same bytes. *buf is malloc'd (caller frees).
 * Errors: TL_EINVAL (s has no history entry for its version), TL_ENOMEM. */
TL_WUR int tl_log_ckpt_encode(const tl_log_snapshot *s, char **buf, size_t *len,
                              tl_error *err);

/* Check the header and the checksum only (no decoding): magic, format
 * version, header size, file size, XXH3-64; and, if expect_version >= 0,
 * that the header's version is it. On success *version and *ict_ms are the
 * header's. name names the file in messages. Errors: TL_ECORRUPT (names the
 * byte offset and field), TL_ECHECKSUM, TL_EVERSION (a format version this
 * build does not read). */
TL_WUR int tl_log_ckpt_verify(const char *name, int64_t expect_version, const char *buf,
                              size_t len, int64_t *version, int64_t *ict_ms, tl_error *err);

/* Verify (as above) and decode. Takes ownership of buf (malloc'd, len
 * bytes): it is owned by *out on success and freed on failure. Every field
 * is bounds-checked and validated (paths LOG-R11, partition values and
 * statistics against the checkpoint's metaData LOG-R28, statistics
 * LOG-R22..R24, no duplicate path or appId); nothing is allocated before the
 * counts it depends on are checked against the file size. Errors name the
 * file, the byte offset and the field: TL_ECORRUPT, TL_ECHECKSUM,
 * TL_EVERSION, TL_EUNSUPPORTED (LOG-R31 of its protocol), TL_ENOMEM. */
TL_WUR int tl_log_ckpt_decode(const char *name, int64_t expect_version, char *buf, size_t len,
                              tl_log_ckpt *out, tl_error *err);

/* The same for bytes mapped with tl_io_map_file: the mapping moves into
 * *out on success and is unmapped on failure (*m is zeroed either way).
 * Faster for large checkpoints (no copy). */
TL_WUR int tl_log_ckpt_decode_map(const char *name, int64_t expect_version, tl_io_map *m,
                                  tl_log_ckpt *out, tl_error *err);

/* Free a decoded checkpoint and zero it; NULL-safe, idempotent. */
void tl_log_ckpt_free(tl_log_ckpt *c);

#endif /* TL_CHECKPOINT_INT_H */
