/*
 * partpath_int.h - partition directory names (Hive style,
 * "symbol=<escaped>/date=YYYY-MM-DD") and the safety check for relative
 * paths read from the log.
 *
 * Escaping of a value (any bytes but NUL) into one path component:
 *   PP-1 Bytes A-Z a-z 0-9 '_' '-' stay; '.' stays except as the first
 *        byte; every other byte (and a leading '.') becomes %XX, two
 *        upper-case hex digits. So the result never contains '/', '\',
 *        '=', '~' or a space, never starts with '.', and is never "." or
 *        "..": it stays one component inside the table.
 *   PP-2 The empty value becomes "~empty" ('~' never appears in PP-1 output).
 *   PP-3 If "key=" + the escaped value would exceed 255 bytes, the value
 *        part becomes a prefix of its escaped form (cut before, never inside,
 *        a %XX triple) + '~' + 16 lower-case hex digits of XXH64(value bytes,
 *        seed 0), at most 255 bytes in all.
 *   PP-4 NUL in a value is rejected (TL_EINVAL).
 * PP-1 is a bijection onto canonical strings, so distinct values get
 * distinct names except under PP-3, where two values sharing an escaped
 * prefix collide only if their 64-bit hashes do. The log stores the true
 * value; names are never parsed back by the engine (unescape is for humans
 * and tests).
 */
#ifndef TL_PARTPATH_INT_H
#define TL_PARTPATH_INT_H

#include "tl_error.h"

#include <stddef.h>
#include <stdint.h>

#define TL_PARTPATH_NAME_MAX 255 /* bytes of one component (NAME_MAX) */
#define TL_PARTPATH_KEY_MAX 64   /* bytes of an escaped key */
#define TL_PARTPATH_EMPTY "~empty"
/* enough for "symkey=value/daykey=date" plus NUL */
#define TL_PARTPATH_DIR_MAX (2 * (TL_PARTPATH_NAME_MAX + 1))

/* Escape value[0..len) into out (NUL-terminated) using at most budget
 * bytes (PP-3 applies beyond; budget >= 32). out_cap must be > budget.
 * *out_len may be NULL. Errors: TL_EINVAL (NUL in value, budget < 32,
 * out_cap too small). */
TL_WUR int tl_partpath_escape(const char *value, size_t len, size_t budget, char *out,
                              size_t out_cap, size_t *out_len, tl_error *err);

/* Inverse of PP-1/PP-2 for canonical input: out receives the value (not
 * NUL-terminated; out_cap >= len suffices). Errors: TL_EINVAL (not a
 * canonical escape: bad or lower-case %XX, an escaped byte that needs no
 * escape, a literal leading '.', an escaped NUL, empty input),
 * TL_EUNSUPPORTED (a PP-3 hashed name: the value is only in the log). */
TL_WUR int tl_partpath_unescape(const char *esc, size_t len, char *out, size_t out_cap,
                                size_t *out_len, tl_error *err);

/* "key=<escaped value>", at most 255 bytes; out_cap >= 256. The key (a
 * column name, non-empty) is escaped by PP-1 too and may take at most
 * TL_PARTPATH_KEY_MAX bytes. */
TL_WUR int tl_partpath_component(const char *key, const char *value, size_t len, char *out,
                                 size_t out_cap, size_t *out_len, tl_error *err);

/* The partition directory of a row, relative to the table root:
 *   sym_key && day_key: "<sym_key>=<sym>/<day_key>=YYYY-MM-DD"
 *   sym_key only:       "<sym_key>=<sym>"
 *   day_key only:       "<day_key>=YYYY-MM-DD"
 *   neither:            "" (unpartitioned)
 * day: days since 1970-01-01. out_cap >= TL_PARTPATH_DIR_MAX. */
TL_WUR int tl_partpath_dir(const char *sym_key, const char *sym, size_t sym_len,
                           const char *day_key, int32_t day, char *out, size_t out_cap,
                           size_t *out_len, tl_error *err);

/* LOG-R11, the one check of a data file path (add/remove path) relative to
 * the table root, used by the log reader and writer (log_action.c) and
 * before a path is joined to the table root. Rejected (TL_EINVAL, message
 * "log path \"<quoted>\": <why> at byte <offset>"): empty, longer than 4095
 * bytes, absolute (leading '/'), an empty component ("a//b", trailing '/'),
 * a "." or ".." component, a component starting with '.' (hidden), a first
 * component starting with '_' (reserved: _delta_log), a component over 255
 * bytes, a NUL, a control character (0x01-0x1F, 0x7F) or a backslash
 * anywhere. Every directory tl_partpath_dir builds, plus a file name of
 * safe bytes, passes. This is lexical: open the result with
 * tl_io_open_beneath so symlinks cannot lead outside either. (UTF-8 is the
 * log's text rule, LOG-R1, checked by the log reader, not here.) */
TL_WUR int tl_partpath_check(const char *rel, size_t len, tl_error *err);

#endif /* TL_PARTPATH_INT_H */
