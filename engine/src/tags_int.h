/*
 * tags_int.h - tags (spec/LOG.md section 11, LOG-T1 .. LOG-T9): named table
 * versions stored one small JSON file per tag in _delta_log/_tags/. The
 * public calls (tl_table_tag, tl_table_untag, tl_table_tags,
 * tl_table_tag_get, tl_at_parse, tl_tag_name_check) are in tags.c; this
 * header gives vacuum.c, maint.c, snapshot.c and fsck.c the reading side,
 * which works on a table root directory handle alone.
 */
#ifndef TL_TAGS_INT_H
#define TL_TAGS_INT_H

#include "io_int.h"
#include "ticklake.h"

#include <stddef.h>
#include <stdint.h>

#define TL_TAGS_DIR "_tags"                 /* inside _delta_log/ */
#define TL_TAGS_REL "_delta_log/_tags"      /* from the table directory */
#define TL_TAG_SUFFIX ".json"
#define TL_TAG_FILE_MAX 4096                /* bytes of a tag file (LOG-T3) */

/* Is name a tag file name: a valid tag name (LOG-T1) + ".json"? Writes the
 * tag name to tag (TL_TAG_NAME_MAX + 1 bytes) when it is. Temporary files
 * ("<name>.json.tmp.<pid>.<seq>") and anything else are not. */
int tl_tag_file_name(const char *name, char tag[TL_TAG_NAME_MAX + 1]);

/* Parse the bytes of tag file `file` (named in messages) for tag `name`:
 * LOG-T3. Errors: TL_ECORRUPT naming the file, the field, expected and
 * found. */
TL_WUR int tl_tag_parse(const char *file, const char *name, const char *buf, size_t len,
                        tl_tag_info *out, tl_error *err);

/* Read tag `name` of the table under root. Errors: TL_ENOTFOUND (no such
 * tag: "table <root> has no tag '<name>'"), TL_ECORRUPT, TL_EIO, TL_ENOMEM. */
TL_WUR int tl_tag_read(const tl_io *io, const tl_io_file *root, const char *name,
                       tl_tag_info *out, tl_error *err);

/* The tag file names of the table (sorted; no _tags/ directory: none).
 * *names as tl_io_list; free with tl_io_names_free. */
TL_WUR int tl_tags_list_names(const tl_io *io, const tl_io_file *root, tl_io_names *names,
                              tl_error *err);

/* Every tag, sorted by name: *out malloc'd (free()), *n entries. A tag file
 * that does not parse fails the call (TL_ECORRUPT naming it): callers that
 * protect tagged versions (vacuum, log cleanup) must not guess. */
TL_WUR int tl_tags_load(const tl_io *io, const tl_io_file *root, tl_tag_info **out, size_t *n,
                        tl_error *err);

#endif /* TL_TAGS_INT_H */
