/*
 * tags.c - tags: named table versions (spec/LOG.md section 11, LOG-T1 ..
 * LOG-T9). A tag is the file _delta_log/_tags/<name>.json holding one JSON
 * object and a LF:
 *
 *   {"name":"q3-close","version":42,"timestamp":1763351100000,
 *    "createdTime":1763360000000,"tableId":"0f1e2d3c-..."}
 *
 * name = the file's stem (LOG-T1); version >= 0; timestamp = that version's
 * inCommitTimestamp (ms); createdTime = when the tag was written (ms);
 * tableId = the table's metaData.id. Unknown fields are ignored.
 *
 * Invariants: a tag file is created put-if-absent (tmp + fsync + renameat2
 * NOREPLACE / link + fsync of _tags/), or, when moved with TL_TAG_FORCE,
 * replaced by rename of an fsynced tmp file: a reader sees a whole old or a
 * whole new tag, never a torn one. Only names that pass LOG-T1 become file
 * names, so a tag can never name a path outside _tags/. Vacuum (vacuum.c)
 * and log cleanup (maint.c) read the tags through tl_tags_load and keep
 * what the tagged versions need.
 */
#include "tags_int.h"

#include "log_int.h"
#include "snapshot_int.h"
#include "table_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- names (LOG-T1) ---------------------------------------------------------- */

static int name_byte(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > TL_TAG_NAME_MAX)
        return 0;
    unsigned char c0 = (unsigned char)s[0];
    if (c0 == '.' || c0 == '-')
        return 0;
    int digits_only = 1;
    for (size_t i = 0; i < n; i++) {
        if (!name_byte((unsigned char)s[i]))
            return 0;
        if (s[i] < '0' || s[i] > '9')
            digits_only = 0;
    }
    return !digits_only;
}

int tl_tag_name_check(const char *name, tl_error *err)
{
    if (!name)
        return tl_error_set(err, TL_EINVAL, "tag name: none given");
    size_t n = strlen(name);
    if (n == 0)
        return tl_error_set(err, TL_EINVAL, "tag name: empty (LOG-T1)");
    if (n > TL_TAG_NAME_MAX)
        return tl_error_set(err, TL_EINVAL,
                            "tag name: %zu bytes, at most %d allowed (LOG-T1)", n,
                            TL_TAG_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (!name_byte((unsigned char)name[i]))
            return tl_error_set(err, TL_EINVAL,
                                "tag name '%.*s': byte %zu is 0x%02x; only A-Z a-z 0-9 . _ - "
                                "are allowed (LOG-T1)",
                                (int)(n > 64 ? 64 : n), name, i, (unsigned char)name[i]);
    if (name[0] == '.' || name[0] == '-')
        return tl_error_set(err, TL_EINVAL,
                            "tag name '%s': must start with a letter, a digit or '_', found "
                            "'%c' (LOG-T1)",
                            name, name[0]);
    if (!name_ok(name, n))
        return tl_error_set(err, TL_EINVAL,
                            "tag name '%s': only digits; a number means a version (LOG-T1)",
                            name);
    return TL_OK;
}

int tl_tag_file_name(const char *name, char tag[TL_TAG_NAME_MAX + 1])
{
    size_t n = strlen(name), sl = strlen(TL_TAG_SUFFIX);
    if (n <= sl || strcmp(name + n - sl, TL_TAG_SUFFIX) != 0 || !name_ok(name, n - sl))
        return 0;
    memcpy(tag, name, n - sl);
    tag[n - sl] = 0;
    return 1;
}

/* Forward: reads a tag through a table handle. */
static int tag_get(tl_table *t, const char *name, tl_tag_info *out, tl_error *err);

int tl_at_parse(tl_table *t, const char *text, tl_at *at, int *is_tag, tl_error *err)
{
    if (is_tag)
        *is_tag = 0;
    if (!at)
        return tl_error_set(err, TL_EINVAL, "tl_at_parse: no output");
    memset(at, 0, sizeof *at);
    if (!text || !*text)
        return tl_error_set(err, TL_EINVAL, "version: empty; give a version number or a tag name");
    size_t n = strlen(text);
    size_t i = 0;
    while (i < n && text[i] >= '0' && text[i] <= '9')
        i++;
    if (i == n) {
        int64_t v = 0;
        for (size_t k = 0; k < n; k++)
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, text[k] - '0', &v))
                return tl_error_set(err, TL_EINVAL, "version '%s': above 2^63-1", text);
        at->kind = TL_AT_VERSION;
        at->version = v;
        return TL_OK;
    }
    if (!name_ok(text, n))
        return tl_error_set(err, TL_EINVAL,
                            "version '%.*s': neither a version number nor a tag name (tag names: "
                            "A-Z a-z 0-9 . _ -, at most %d bytes, LOG-T1)",
                            (int)(n > 200 ? 200 : n), text, TL_TAG_NAME_MAX);
    if (!t)
        return tl_error_set(err, TL_EINVAL, "version '%s': a tag name needs a table", text);
    tl_tag_info ti;
    int rc = tag_get(t, text, &ti, err);
    if (rc != TL_OK)
        return rc;
    at->kind = TL_AT_VERSION;
    at->version = ti.version;
    if (is_tag)
        *is_tag = 1;
    return TL_OK;
}

/* ---- the tag file (LOG-T3) ----------------------------------------------------- */

static int get_int(const char *file, json_t *o, const char *key, int64_t *out, tl_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return tl_error_set(err, TL_ECORRUPT, "%s: field '%s' missing (LOG-T3)", file, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: field '%s': expected an integer >= 0, found %s (LOG-T3)", file,
                            key,
                            json_is_integer(v) ? "a negative integer"
                            : json_is_real(v)  ? "a fraction"
                            : json_is_string(v) ? "a string"
                                                : "another JSON type");
    *out = (int64_t)json_integer_value(v);
    return TL_OK;
}

int tl_tag_parse(const char *file, const char *name, const char *buf, size_t len,
                 tl_tag_info *out, tl_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || buf[len - 1] != '\n')
        return tl_error_set(err, TL_ECORRUPT,
                            "%s: %s (LOG-T3: one JSON object ending in LF)", file,
                            len ? "the last byte is not LF (truncated?)" : "empty");
    json_error_t je;
    int oom;
    json_t *o = tl_json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je, &oom);
    if (oom)
        return tl_error_set(err, TL_ENOMEM, "%s: out of memory", file);
    if (!o)
        return tl_error_set(err, TL_ECORRUPT, "%s: byte offset %d: invalid JSON: %s (LOG-T3)",
                            file, je.position, je.text);
    int rc = TL_OK;
    if (!json_is_object(o)) {
        rc = tl_error_set(err, TL_ECORRUPT, "%s: expected a JSON object (LOG-T3)", file);
        goto out;
    }
    json_t *jn = json_object_get(o, "name");
    if (!json_is_string(jn) || strcmp(json_string_value(jn), name) != 0) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "%s: field 'name': expected \"%s\" (the file's name), found %s%s%s "
                          "(LOG-T3)",
                          file, name, json_is_string(jn) ? "\"" : "",
                          json_is_string(jn) ? json_string_value(jn)
                          : jn               ? "another JSON type"
                                             : "nothing",
                          json_is_string(jn) ? "\"" : "");
        goto out;
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    if ((rc = get_int(file, o, "version", &out->version, err)) ||
        (rc = get_int(file, o, "timestamp", &out->timestamp_ms, err)) ||
        (rc = get_int(file, o, "createdTime", &out->created_ms, err)))
        goto out;
    json_t *id = json_object_get(o, "tableId");
    if (!json_is_string(id) || strlen(json_string_value(id)) != 36) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "%s: field 'tableId': expected the table's 36-character id (LOG-T3)",
                          file);
        goto out;
    }
    snprintf(out->table_id, sizeof out->table_id, "%s", json_string_value(id));
out:
    json_decref(o);
    return rc;
}

/* Open _delta_log/_tags/ beneath root. TL_ENOTFOUND when it does not exist. */
static int open_tags_dir(const tl_io *io, const tl_io_file *root, tl_io_file *d, tl_error *err)
{
    return tl_io_open_beneath(io, root, TL_TAGS_REL, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, d,
                              err);
}

static int read_in(const tl_io *io, tl_io_file *d, const char *root_path, const char *name,
                   tl_tag_info *out, tl_error *err)
{
    char fname[TL_TAG_NAME_MAX + 8];
    snprintf(fname, sizeof fname, "%s%s", name, TL_TAG_SUFFIX);
    char *buf = NULL;
    size_t len = 0;
    int rc = tl_io_read_file(io, d, fname, TL_TAG_FILE_MAX, &buf, &len, err);
    if (rc == TL_ENOTFOUND)
        return tl_error_set(err, TL_ENOTFOUND, "table %s has no tag '%s'", root_path, name);
    if (rc != TL_OK)
        return rc;
    char file[600];
    snprintf(file, sizeof file, "%s/%s/%s", root_path, TL_TAGS_REL, fname);
    rc = tl_tag_parse(file, name, buf, len, out, err);
    free(buf);
    return rc;
}

int tl_tag_read(const tl_io *io, const tl_io_file *root, const char *name, tl_tag_info *out,
                tl_error *err)
{
    const char *rp = root->path ? root->path : "table";
    int rc = tl_tag_name_check(name, err);
    if (rc != TL_OK)
        return rc;
    tl_io_file d = TL_IO_FILE_INIT;
    rc = open_tags_dir(io, root, &d, err);
    if (rc == TL_ENOTFOUND)
        return tl_error_set(err, TL_ENOTFOUND, "table %s has no tag '%s' (it has no tags)", rp,
                            name);
    if (rc == TL_OK)
        rc = read_in(io, &d, rp, name, out, err);
    (void)tl_io_close(&d, NULL);
    return rc;
}

int tl_tags_list_names(const tl_io *io, const tl_io_file *root, tl_io_names *names,
                       tl_error *err)
{
    memset(names, 0, sizeof *names);
    tl_io_file d = TL_IO_FILE_INIT;
    tl_error le = {0};
    int rc = open_tags_dir(io, root, &d, &le);
    if (rc == TL_ENOTFOUND)
        return TL_OK;
    if (rc != TL_OK) {
        if (err)
            *err = le;
        return rc;
    }
    rc = tl_io_list(io, &d, NULL, names, err);
    (void)tl_io_close(&d, NULL);
    if (rc != TL_OK)
        return rc;
    /* keep the tag files only (names are sorted; filtering keeps the order) */
    size_t m = 0;
    char tag[TL_TAG_NAME_MAX + 1];
    for (size_t i = 0; i < names->n; i++)
        if (tl_tag_file_name(names->names[i], tag))
            names->names[m++] = names->names[i];
    names->n = m;
    return TL_OK;
}

static int cmp_tag(const void *a, const void *b)
{
    return strcmp(((const tl_tag_info *)a)->name, ((const tl_tag_info *)b)->name);
}

int tl_tags_load(const tl_io *io, const tl_io_file *root, tl_tag_info **out, size_t *n,
                 tl_error *err)
{
    *out = NULL;
    *n = 0;
    tl_io_names names;
    int rc = tl_tags_list_names(io, root, &names, err);
    if (rc != TL_OK || names.n == 0) {
        tl_io_names_free(&names);
        return rc;
    }
    tl_tag_info *v = calloc(names.n, sizeof *v);
    tl_io_file d = TL_IO_FILE_INIT;
    if (!v)
        rc = tl_error_set(err, TL_ENOMEM, "tags: out of memory");
    else
        rc = open_tags_dir(io, root, &d, err);
    size_t k = 0;
    for (size_t i = 0; rc == TL_OK && i < names.n; i++) {
        char tag[TL_TAG_NAME_MAX + 1];
        (void)tl_tag_file_name(names.names[i], tag);
        rc = read_in(io, &d, root->path ? root->path : "table", tag, &v[k], err);
        if (rc == TL_ENOTFOUND) { /* deleted since the listing */
            tl_error_clear(err);
            rc = TL_OK;
            continue;
        }
        k += rc == TL_OK;
    }
    (void)tl_io_close(&d, NULL);
    tl_io_names_free(&names);
    if (rc != TL_OK) {
        free(v);
        return rc;
    }
    qsort(v, k, sizeof *v, cmp_tag);
    *out = v;
    *n = k;
    return TL_OK;
}

/* ---- the public calls ------------------------------------------------------------ */

static int writable(tl_table *t, const char *what, tl_error *err)
{
    if (!t)
        return tl_error_set(err, TL_EINVAL, "%s: no table", what);
    if (t->delta)
        return tl_error_set(err, TL_EUNSUPPORTED,
                            "%s is a Delta Lake table (read-only in ticklake): %s refused", t->path,
                            what);
    if (tl_table_writable(t, err)) /* LOG-C10 */
        return tl_error_prefix(err, "%s: ", what), TL_EIO;
    return TL_OK;
}

static int tag_get(tl_table *t, const char *name, tl_tag_info *out, tl_error *err)
{
    if (!t || !out)
        return tl_error_set(err, TL_EINVAL, "tag: no %s", t ? "output" : "table");
    if (t->delta)
        return tl_error_set(err, TL_ENOTFOUND, "table %s has no tag '%s' (a Delta Lake table "
                            "has no tags)", t->path, name ? name : "(null)");
    return tl_tag_read(t->io, &t->root, name, out, err);
}

int tl_table_tag_get(tl_table *t, const char *name, tl_tag_info *out, tl_error *err)
{
    return tag_get(t, name, out, err);
}

int tl_snapshot_open_tag(tl_table *t, const char *name, tl_snapshot **out, tl_error *err)
{
    if (!out)
        return tl_error_set(err, TL_EINVAL, "snapshot: no output handle");
    *out = NULL;
    tl_tag_info ti;
    int rc = tag_get(t, name, &ti, err);
    if (rc != TL_OK)
        return rc;
    tl_at at = {.kind = TL_AT_VERSION, .version = ti.version};
    tl_snapshot *s = NULL;
    rc = tl_snapshot_open(t, &at, &s, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "tag '%s' (version %" PRId64 "): ", ti.name, ti.version);
        return rc;
    }
    /* LOG-T8: a tag names a version of this table and this history */
    const tl_log_snapshot *ls = tl_snapshot_log(s);
    int64_t ict = ls->history[ls->version].ict_ms;
    if (strcmp(ls->meta->id, ti.table_id) != 0 || ict != ti.timestamp_ms) {
        rc = tl_error_set(err, TL_ECORRUPT,
                          "table %s: tag '%s' names version %" PRId64 " of table %s committed at "
                          "%" PRId64 " ms, but this table is %s and its version %" PRId64
                          " was committed at %" PRId64 " ms (LOG-T8)",
                          t->path, ti.name, ti.version, ti.table_id, ti.timestamp_ms,
                          ls->meta->id, ls->version, ict);
        tl_snapshot_close(s);
        return rc;
    }
    *out = s;
    return TL_OK;
}

int tl_table_tags(tl_table *t, tl_tag_info **out, size_t *n, tl_error *err)
{
    if (!t || !out || !n)
        return tl_error_set(err, TL_EINVAL, "tags: missing argument");
    return tl_tags_load(t->io, &t->root, out, n, err);
}

int tl_table_tag(tl_table *t, const char *name, const tl_at *at, int flags, tl_tag_info *out,
                 int64_t *replaced, tl_error *err)
{
    if (replaced)
        *replaced = -1;
    int rc = writable(t, "tag", err);
    if (rc != TL_OK)
        return rc;
    if ((rc = tl_tag_name_check(name, err)) != TL_OK)
        return rc;
    if (flags & ~TL_TAG_FORCE)
        return tl_error_set(err, TL_EINVAL, "tag '%s': unknown flags 0x%x", name, flags);
    /* LOG-T4: the version must be readable now (the snapshot loads) */
    tl_snapshot *s = NULL;
    rc = tl_snapshot_open(t, at, &s, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "tag '%s': ", name);
        return rc;
    }
    const tl_log_snapshot *ls = tl_snapshot_log(s);
    tl_tag_info ti = {0};
    snprintf(ti.name, sizeof ti.name, "%s", name);
    ti.version = ls->version;
    ti.timestamp_ms = ls->history[ls->version].ict_ms;
    ti.created_ms = tl_table_now_ms(t);
    snprintf(ti.table_id, sizeof ti.table_id, "%s", ls->meta->id);
    tl_snapshot_close(s);
    if (ti.created_ms < 0)
        ti.created_ms = 0;

    char body[512];
    int bl = snprintf(body, sizeof body,
                      "{\"name\":\"%s\",\"version\":%" PRId64 ",\"timestamp\":%" PRId64
                      ",\"createdTime\":%" PRId64 ",\"tableId\":\"%s\"}\n",
                      ti.name, ti.version, ti.timestamp_ms, ti.created_ms, ti.table_id);
    if (bl < 0 || (size_t)bl >= sizeof body)
        return tl_error_set(err, TL_EINVAL, "tag '%s': record too long", name);
    char fname[TL_TAG_NAME_MAX + 8];
    snprintf(fname, sizeof fname, "%s%s", name, TL_TAG_SUFFIX);

    /* _delta_log/_tags/ (mkdir + fsync of _delta_log/ when new) */
    rc = tl_io_mkdir_p(t->io, &t->root, TL_TAGS_REL, 0755, err);
    tl_io_file d = TL_IO_FILE_INIT;
    if (rc == TL_OK)
        rc = open_tags_dir(t->io, &t->root, &d, err);
    if (rc != TL_OK) {
        tl_error_prefix(err, "tag '%s' of %s: ", name, t->path);
        return rc;
    }
    tl_tag_info old;
    tl_error le = {0};
    int had = read_in(t->io, &d, t->path, name, &old, &le) == TL_OK;
    if (flags & TL_TAG_FORCE) {
        rc = tl_io_write_file_replace(t->io, &d, fname, body, (size_t)bl, err);
        if (rc == TL_OK && had && replaced)
            *replaced = old.version;
    } else {
        rc = tl_io_write_file_atomic_noreplace(t->io, &d, fname, body, (size_t)bl, err);
        if (rc == TL_ECONFLICT) {
            if (read_in(t->io, &d, t->path, name, &old, &le) == TL_OK)
                rc = tl_error_set(err, TL_ECONFLICT,
                                  "table %s: tag '%s' exists (version %" PRId64
                                  "); pass force (--force) to move it, or delete it first "
                                  "(LOG-T4)",
                                  t->path, name, old.version);
            else
                rc = tl_error_set(err, TL_ECONFLICT,
                                  "table %s: tag '%s' exists (its file does not parse: %s); "
                                  "pass force (--force) to replace it (LOG-T4)",
                                  t->path, name, le.msg);
        }
    }
    if (rc != TL_OK) {
        (void)tl_io_close(&d, NULL);
        if (rc != TL_ECONFLICT)
            tl_error_prefix(err, "tag '%s' of %s: ", name, t->path);
        return rc;
    }
    /* LOG-T7: a log cleanup that ran meanwhile may have made the version
     * unreachable before it saw the tag: then take the tag back */
    int64_t oldest = 0;
    rc = tl_log_version_range(&t->root, t->io, &oldest, NULL, err);
    if (rc == TL_OK && oldest > ti.version) {
        int urc = tl_io_unlink(t->io, &d, fname, NULL);
        if (urc == TL_OK)
            urc = tl_io_fsync(&d, NULL);
        (void)urc; /* best effort: the error below is what matters */
        rc = tl_error_set(err, TL_ENOTFOUND,
                          "table %s: tag '%s': version %" PRId64
                          " stopped being reachable while it was tagged (a log cleanup ran; "
                          "the oldest reachable version is now %" PRId64 "); tag removed "
                          "(LOG-T7)",
                          t->path, name, ti.version, oldest);
    } else if (rc != TL_OK) {
        tl_error_prefix(err, "tag '%s' of %s written, but checking the log failed: ", name,
                        t->path);
    }
    (void)tl_io_close(&d, NULL);
    if (rc == TL_OK && out)
        *out = ti;
    return rc;
}

int tl_table_untag(tl_table *t, const char *name, tl_tag_info *was, tl_error *err)
{
    int rc = writable(t, "untag", err);
    if (rc != TL_OK)
        return rc;
    if ((rc = tl_tag_name_check(name, err)) != TL_OK)
        return rc;
    tl_io_file d = TL_IO_FILE_INIT;
    rc = open_tags_dir(t->io, &t->root, &d, err);
    if (rc == TL_ENOTFOUND)
        return tl_error_set(err, TL_ENOTFOUND, "table %s has no tag '%s' (it has no tags)",
                            t->path, name);
    if (rc != TL_OK)
        return rc;
    tl_tag_info old;
    tl_error le = {0};
    int rrc = read_in(t->io, &d, t->path, name, &old, &le);
    if (rrc == TL_ENOTFOUND) {
        (void)tl_io_close(&d, NULL);
        if (err)
            *err = le;
        return TL_ENOTFOUND;
    }
    char fname[TL_TAG_NAME_MAX + 8];
    snprintf(fname, sizeof fname, "%s%s", name, TL_TAG_SUFFIX);
    rc = tl_io_unlink(t->io, &d, fname, err);
    if (rc == TL_ENOTFOUND)
        rc = tl_error_set(err, TL_ENOTFOUND, "table %s has no tag '%s'", t->path, name);
    if (rc == TL_OK)
        rc = tl_io_fsync(&d, err);
    (void)tl_io_close(&d, NULL);
    if (rc == TL_OK && was) {
        if (rrc == TL_OK) {
            *was = old;
        } else { /* a damaged tag file: deleted all the same */
            memset(was, 0, sizeof *was);
            snprintf(was->name, sizeof was->name, "%s", name);
            was->version = -1;
        }
    }
    return rc;
}
