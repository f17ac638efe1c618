/*
 * cmd_tags.c - `ticklake tag` (name, move or delete a tag) and `ticklake
 * tags` (list them): thin wrappers over tl_table_tag / tl_table_untag /
 * tl_table_tags (engine/src/tags.c; spec/LOG.md section 11).
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char tag_help[] =
    "usage: ticklake tag TABLE NAME [--version N|TAG | --timestamp T] [--force] [--json]\n"
    "       ticklake tag TABLE NAME --delete [--json]\n"
    "\n"
    "Name a version of the table (default: the latest). While the tag exists,\n"
    "vacuum keeps every data file that version needs and log cleanup keeps what\n"
    "is needed to read it: a tagged research snapshot is never vacuumed away.\n"
    "Time travel by tag: --version NAME wherever a version is asked for.\n"
    "\n"
    "  --version N|TAG  tag version N, or the version another tag names\n"
    "  --timestamp T    the latest version committed at or before T\n"
    "                   (YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z], UTC, or ms)\n"
    "  --force          move an existing tag (else it is an error)\n"
    "  --delete         delete the tag (its version may then be vacuumed)\n"
    "\n"
    "NAME: 1-128 characters of A-Z a-z 0-9 . _ -, starting with a letter, a\n"
    "digit or '_', not only digits (a number is a version).\n";

const char tags_help[] =
    "usage: ticklake tags TABLE [--json]\n"
    "\n"
    "List the table's tags by name: the version each names, that version's\n"
    "commit time (UTC) and when the tag was made.\n";

static void tag_json(const char *table, const tl_tag_info *ti)
{
    char tb[40], cb[40];
    fmt_ms(ti->timestamp_ms, tb, sizeof tb);
    fmt_ms(ti->created_ms, cb, sizeof cb);
    printf("\"table\":");
    json_str(stdout, table);
    printf(",\"tag\":");
    json_str(stdout, ti->name);
    printf(",\"version\":%" PRId64 ",\"timestamp_ms\":%" PRId64 ",\"timestamp\":\"%s\","
           "\"created_ms\":%" PRId64 ",\"created\":\"%s\"",
           ti->version, ti->timestamp_ms, tb, ti->created_ms, cb);
}

int cmd_tag(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL}, {"--timestamp", 1, NULL}, {"--force", 0, NULL},
                  {"--delete", 0, NULL},  {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[3] = {0};
    int n_pos = 0;
    int st = parse_args(argc, argv, opts, no, pos, &n_pos, 3, tag_help);
    if (st != GO_ON)
        return st;
    if (n_pos < 1)
        return usage_error("missing TABLE");
    if (n_pos < 2)
        return usage_error("missing NAME");
    if (n_pos > 2)
        return usage_error("unexpected argument '%s'", pos[2]);
    const char *ver = opt_val(opts, no, "--version"), *ts = opt_val(opts, no, "--timestamp");
    int force = opt_val(opts, no, "--force") != NULL, del = opt_val(opts, no, "--delete") != NULL;
    int json = opt_val(opts, no, "--json") != NULL;
    if (del && (ver || ts || force))
        return usage_error("--delete takes no --version, --timestamp or --force");
    if (ver && ts)
        return usage_error("give --version or --timestamp, not both");
    tl_error err = {0};
    if (tl_tag_name_check(pos[1], &err) != TL_OK)
        return usage_error("%s", err.msg);
    tl_at at = {.kind = TL_AT_LATEST};
    if (ts && parse_at(NULL, ts, &at))
        return EXIT_USAGE;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    if (ver) {
        int rc = tl_at_parse(t, ver, &at, NULL, &err);
        if (rc == TL_EINVAL) {
            tl_table_close(t);
            return usage_error("--version: %s", err.msg);
        }
        if (rc != TL_OK) {
            tl_table_close(t);
            return lib_error(&err);
        }
    }
    tl_tag_info ti;
    int rc;
    int64_t replaced = -1;
    if (del)
        rc = tl_table_untag(t, pos[1], &ti, &err);
    else
        rc = tl_table_tag(t, pos[1], &at, force ? TL_TAG_FORCE : 0, &ti, &replaced, &err);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    if (json) {
        printf("{\"command\":\"tag\",");
        if (del) {
            printf("\"table\":");
            json_str(stdout, pos[0]);
            printf(",\"tag\":");
            json_str(stdout, pos[1]);
            printf(",\"deleted\":true,\"version\":");
            if (ti.version >= 0)
                printf("%" PRId64 "}\n", ti.version);
            else
                printf("null}\n");
        } else {
            tag_json(pos[0], &ti);
            if (replaced >= 0)
                printf(",\"replaced_version\":%" PRId64, replaced);
            else
                printf(",\"replaced_version\":null");
            printf("}\n");
        }
        return EXIT_OK;
    }
    if (del) {
        if (ti.version >= 0)
            printf("deleted tag '%s' (version %" PRId64 ")\n", pos[1], ti.version);
        else
            printf("deleted tag '%s' (its file was damaged)\n", pos[1]);
        return EXIT_OK;
    }
    char tb[40];
    fmt_ms(ti.timestamp_ms, tb, sizeof tb);
    if (replaced >= 0)
        printf("moved tag '%s' from version %" PRId64 " to version %" PRId64 " (%s)\n", ti.name,
               replaced, ti.version, tb);
    else
        printf("tagged version %" PRId64 " (%s) as '%s'\n", ti.version, tb, ti.name);
    return EXIT_OK;
}

int cmd_tags(int argc, char **argv)
{
    opt opts[] = {{"--json", 0, NULL}};
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, 1, pos, tags_help);
    if (st != GO_ON)
        return st;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    tl_tag_info *v = NULL;
    size_t n = 0;
    int rc = tl_table_tags(t, &v, &n, &err);
    tl_table_close(t);
    if (rc != TL_OK)
        return lib_error(&err);
    if (opts[0].value) {
        printf("{\"command\":\"tags\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"tags\":[");
        for (size_t i = 0; i < n; i++) {
            char tb[40], cb[40];
            fmt_ms(v[i].timestamp_ms, tb, sizeof tb);
            fmt_ms(v[i].created_ms, cb, sizeof cb);
            printf("%s{\"name\":", i ? "," : "");
            json_str(stdout, v[i].name);
            printf(",\"version\":%" PRId64 ",\"timestamp_ms\":%" PRId64 ",\"timestamp\":\"%s\","
                   "\"created_ms\":%" PRId64 ",\"created\":\"%s\"}",
                   v[i].version, v[i].timestamp_ms, tb, v[i].created_ms, cb);
        }
        printf("]}\n");
    } else if (n == 0) {
        printf("no tags\n");
    } else {
        size_t w = 4;
        for (size_t i = 0; i < n; i++)
            if (strlen(v[i].name) > w)
                w = strlen(v[i].name);
        printf("%-*s  %8s  %-24s  %-24s\n", (int)w, "name", "version", "timestamp (UTC)",
               "created (UTC)");
        for (size_t i = 0; i < n; i++) {
            char tb[40], cb[40];
            fmt_ms(v[i].timestamp_ms, tb, sizeof tb);
            fmt_ms(v[i].created_ms, cb, sizeof cb);
            printf("%-*s  %8" PRId64 "  %-24s  %-24s\n", (int)w, v[i].name, v[i].version, tb, cb);
        }
    }
    free(v);
    return EXIT_OK;
}
