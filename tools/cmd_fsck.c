/*
 * cmd_fsck.c - `ticklake verify TABLE` (cmd_verify in ticklake.c hands a
 * directory argument to cmd_fsck with the same argv): tl_table_verify
 * (engine/src/fsck.c; spec/LOG.md section 12). Exit 0 when nothing is
 * damaged, 1 when something is (each damaged file named on stdout, or in
 * the JSON report) or the check could not run, 2 on a usage error.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char fsck_help[] =
    "usage: ticklake verify TABLE [--version N|TAG | --timestamp T | --all-versions]\n"
    "                       [--log-only] [--json]\n"
    "\n"
    "Check a table from its bytes: every commit file parses and versions are\n"
    "contiguous up to the latest, every checkpoint decodes (checksum,\n"
    "structure) and matches its commit, every tag names a reachable version,\n"
    "and every data file of the latest and of each tagged version exists with\n"
    "the size and row count the log records, and every block checksum\n"
    "matches. Names each damaged file (and the block and byte offset); exits 1\n"
    "when anything is damaged.\n"
    "\n"
    "  --version N|TAG  check the data files of that version only\n"
    "  --timestamp T    ... of the latest version committed at or before T\n"
    "  --all-versions   ... of every reachable version (removed files already\n"
    "                   vacuumed are counted, not damage)\n"
    "  --log-only       no data files: log, checkpoints and tags only\n";

static const char *kind_name(int k)
{
    return k == TL_VERIFY_SEGMENT      ? "data"
           : k == TL_VERIFY_COMMIT     ? "commit"
           : k == TL_VERIFY_CHECKPOINT ? "checkpoint"
           : k == TL_VERIFY_TAG        ? "tag"
                                       : "log";
}

static const char *code_name(int code)
{
    switch (code) {
    case TL_ECHECKSUM:
        return "checksum";
    case TL_ECORRUPT:
        return "corrupt";
    case TL_ENOTFOUND:
        return "missing";
    case TL_EVERSION:
        return "version";
    case TL_EUNSUPPORTED:
        return "unsupported";
    case TL_EIO:
        return "io";
    default:
        return "error";
    }
}

int cmd_fsck(int argc, char **argv)
{
    opt opts[] = {{"--version", 1, NULL},  {"--timestamp", 1, NULL}, {"--all-versions", 0, NULL},
                  {"--log-only", 0, NULL}, {"--json", 0, NULL}};
    size_t no = sizeof opts / sizeof opts[0];
    char *pos[1] = {0};
    int st = table_args(argc, argv, opts, no, pos, fsck_help);
    if (st != GO_ON)
        return st;
    const char *ver = opt_val(opts, no, "--version"), *ts = opt_val(opts, no, "--timestamp");
    int all = opt_val(opts, no, "--all-versions") != NULL;
    int log_only = opt_val(opts, no, "--log-only") != NULL;
    int json = opt_val(opts, no, "--json") != NULL;
    if ((ver != NULL) + (ts != NULL) + all > 1)
        return usage_error("give at most one of --version, --timestamp and --all-versions");
    if (log_only && (ver || ts || all))
        return usage_error("--log-only checks no data files: it takes no --version, "
                           "--timestamp or --all-versions");
    tl_at at = {.kind = TL_AT_LATEST};
    if (ts && parse_at(NULL, ts, &at))
        return EXIT_USAGE;
    tl_table *t;
    if ((st = open_table(pos[0], &t)) != EXIT_OK)
        return st;
    tl_error err = {0};
    if (ver) {
        int rc = tl_at_parse(t, ver, &at, NULL, &err);
        if (rc != TL_OK) {
            tl_table_close(t);
            return rc == TL_EINVAL ? usage_error("--version: %s", err.msg) : lib_error(&err);
        }
    }
    bar b = {.active = !json && isatty(2)};
    tl_verify_opts vo = {.at = (ver || ts) ? &at : NULL, .all_versions = all,
                         .log_only = log_only, .progress = progress_rows, .progress_ctx = &b};
    tl_verify_report rep;
    int rc = tl_table_verify(t, &vo, &rep, &err);
    bar_end(&b);
    tl_table_close(t);
    int damaged = rep.n_damaged > 0;
    if (rc != TL_OK && !damaged) {
        tl_verify_report_free(&rep);
        return lib_error(&err);
    }
    if (json) {
        printf("{\"command\":\"verify\",\"table\":");
        json_str(stdout, pos[0]);
        printf(",\"ok\":%s,\"oldest_version\":%" PRId64 ",\"latest_version\":%" PRId64
               ",\"versions_checked\":%" PRIu64 ",\"commits\":%" PRIu64
               ",\"checkpoints\":%" PRIu64 ",\"tags\":%" PRIu64 ",\"files\":%" PRIu64
               ",\"bytes\":%" PRIu64 ",\"rows\":%" PRIu64 ",\"blocks\":%" PRIu64
               ",\"files_unavailable\":%" PRIu64 ",\"elapsed_s\":",
               damaged ? "false" : "true", rep.oldest_version, rep.latest_version,
               rep.versions_checked, rep.commits, rep.checkpoints, rep.tags, rep.files, rep.bytes,
               rep.rows, rep.blocks, rep.files_unavailable);
        json_num(stdout, rep.elapsed_s);
        printf(",\"damaged\":[");
        for (size_t i = 0; i < rep.n_damaged; i++) {
            const tl_verify_damage *d = &rep.damaged[i];
            printf("%s{\"kind\":\"%s\",\"path\":", i ? "," : "", kind_name(d->kind));
            json_str(stdout, d->path);
            printf(",\"code\":\"%s\",\"version\":", code_name(d->code));
            if (d->version >= 0)
                printf("%" PRId64, d->version);
            else
                printf("null");
            printf(",\"error\":");
            json_str(stdout, d->msg);
            printf("}");
        }
        printf("]}\n");
    } else {
        for (size_t i = 0; i < rep.n_damaged; i++)
            printf("DAMAGED  %-10s %s\n         %s\n", kind_name(rep.damaged[i].kind),
                   rep.damaged[i].path, rep.damaged[i].msg);
        char gb[32], hb[32];
        printf("verify %s: versions %" PRId64 "..%" PRId64 "; %" PRIu64 " commits, %" PRIu64
               " checkpoints, %" PRIu64 " tags; %" PRIu64 " data files of %" PRIu64
               " version%s (%s, %s rows)",
               pos[0], rep.oldest_version, rep.latest_version, rep.commits, rep.checkpoints,
               rep.tags, rep.files, rep.versions_checked, rep.versions_checked == 1 ? "" : "s",
               human_bytes((double)rep.bytes, hb, sizeof hb), grouped(rep.rows, gb, sizeof gb));
        if (rep.files_unavailable)
            printf(", %" PRIu64 " removed files already vacuumed", rep.files_unavailable);
        printf(" in %.2f s: %s\n", rep.elapsed_s, damaged ? "DAMAGED" : "ok");
    }
    if (damaged)
        fprintf(stderr, "ticklake: error: %s: %zu damaged file%s\n", pos[0], rep.n_damaged,
                rep.n_damaged == 1 ? "" : "s");
    tl_verify_report_free(&rep);
    return damaged ? EXIT_ERR : EXIT_OK;
}
